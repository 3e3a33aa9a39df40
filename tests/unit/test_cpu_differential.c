/* SPDX-License-Identifier: MIT */
/*
 * Differential test: the software model (vx_cpu_*) against this machine's own XSAVE family
 * (the hardware backend, vx_hw_run()).  docs/differential-testing.md explains the design; in
 * short, every case drives BOTH sides through the same sequence
 *
 *     XRSTOR64 of a random load image (RFBM = all)
 *     → optional register "touches" (ordinary instructions on the hardware, the model
 *       operation with the same architectural effect on the model)
 *     → optional pre XRSTOR/XRSTOR64 from a second area (sets up XSAVEOPT's tracking)
 *     → optional byte patch of memory (makes a skipped XSAVEOPT write observable)
 *     → the instruction under test
 *
 * on identical, canary-filled memory at the same linear addresses (the model's vx_memory
 * window has the real arena's address as its base), then compares the whole memory arena,
 * the fault vector, the register state read back, and XINUSE (XGETBV with ECX=1).
 *
 * Categories:
 *   a  random register states → XSAVE, XSAVE64, XSAVEC, XSAVEC64, XSAVEOPT, XSAVEOPT64
 *   b  valid areas from a real XSAVE/XSAVEC, then mutations → XRSTOR, XRSTOR64
 *   c  XGETBV(1) after sequences of touches and XRSTORs
 *
 * Environment: VXSAVE_DIFF_CASES (total cases, default 300000; 60000 under ASan),
 * VXSAVE_DIFF_SEED (base seed), VXSAVE_DIFF_ONLY=a:123 (run one case, print everything),
 * VXSAVE_DIFF_MAX_FAILURES (stop a category after this many failures, default 10; only the
 * first 10 are printed, the rest are counted by signature for triage).
 * Exit: 0 all agree, 1 any disagreement, 77 skipped (not x86-64 Linux, or the CPU lacks
 * XSAVE / XSAVEC / XGETBV with ECX=1).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vxsave/arch.h>
#include <vxsave/cpu.h>
#include <vxsave/cpu_hw.h>

#include "unit/diff_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define DIFF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DIFF_ASAN 1
#endif
#endif
#ifndef DIFF_ASAN
#define DIFF_ASAN 0
#endif

#define DEFAULT_CASES	   300000u
#define DEFAULT_CASES_ASAN 60000u
#define DEFAULT_SEED	   UINT64_C(0x7658534156454449) /* "vXSAVEDI" */
#define MAX_FAILURES	   10u				/* per category */
#define HW_RETRIES	   2u				/* re-runs of a disagreeing hardware case */

/* The memory arena: four 4 KiB regions, identical on both sides before every case. */
#define REGION	  4096u
#define LOAD_OFF  0u	 /* the load image (XRSTOR64'd first) */
#define TOUCH_OFF 4096u	 /* values the touches write */
#define PRE_OFF	  8192u	 /* the pre XRSTOR's area */
#define OP_OFF	  12288u /* a fresh canary-filled area for the instruction under test */
#define ARENA	  (4 * REGION)

#define X87   VX_BIT(0)
#define SSE   VX_BIT(1)
#define AVX   VX_BIT(2)
#define OPMSK VX_BIT(5)
#define ZMMH  VX_BIT(6)
#define HI16  VX_BIT(7)

/* FSW bits C0, C2, C3 (byte 3 of the area: bits 8, 10, 14 of FSW). */
#define FSW_CC_UNDEFINED_BYTE3 0x45u

enum { CAT_A, CAT_B, CAT_C, CAT_COUNT };
static const char cat_letter[CAT_COUNT] = {'a', 'b', 'c'};
static const char *const cat_title[CAT_COUNT] = {
    "XSAVE/XSAVEC/XSAVEOPT (+64) of random states",
    "XRSTOR/XRSTOR64 of real and mutated areas",
    "XGETBV(1) after touches and XRSTOR",
};

/* Where a step of the sequence faulted (numbering of enum vx_hw_stage). */
enum { ST_NONE = 0, ST_LOAD = 1, ST_TOUCH = 2, ST_PRE = 3, ST_OP = 5 };

#define POOL_SIZE 64u

struct diff {
	struct vx_hw_host host;
	uint64_t xcr0;
	uint32_t std_size;
	uint8_t *hw;	/* the arena the processor works on */
	uint8_t *md;	/* the model's copy: same bytes, same linear addresses */
	uint8_t *stage; /* the case's initial arena, for re-runs */
	struct vx_memory mem;
	struct vx_cpu *cpu;
	struct vx_cpu *tmpl;	/* XCR0 set, CPL 3: the state every case starts from */
	struct vx_cpu *scratch; /* for looking at the model without side effects */
	uint8_t *scratch_area;
	const struct vx_reg_info *xmm[16], *ymmh[16], *zmmh[16], *hi16[16], *k[8], *st[8];
	const struct vx_reg_info *mxcsr, *fsw;
	const struct vx_reg_info *x87_regs[16]; /* fcw...fds, st0-7 */
	unsigned x87_count;
	bool have_xsaveopt;
	uint64_t seed;
	uint64_t planned[CAT_COUNT];
	uint64_t ran[CAT_COUNT];
	unsigned failures[CAT_COUNT];
	unsigned retried[CAT_COUNT];
	uint64_t hw_faults[CAT_COUNT];
	uint64_t b_by_vector[32];
	uint64_t b_compacted, b_standard, b_misaligned;
	uint64_t a_by_op[VX_HW_OP_COUNT];
	uint64_t a_same_addr, a_load_addr, a_other;
	uint64_t c_xinuse_hist[256];
	unsigned hw_arch_violations;
	unsigned max_failures; /* stop a category after this many (printing at most 10) */
	struct {
		char text[200];
		unsigned count;
		uint64_t first_case;
	} sig[CAT_COUNT][32];
	double seconds[CAT_COUNT];
	bool verbose;
	uint8_t pool[POOL_SIZE][REGION];
};

struct dcase {
	unsigned cat;
	uint64_t index;
	uint64_t seed;
	uint64_t load_bv;
	uint64_t touch;
	enum vx_hw_pre pre;
	uint32_t pre_off;
	uint64_t pre_mask;
	bool pre_compacted;
	uint32_t patch_off, patch_len;
	uint8_t patch[REGION];
	enum vx_hw_op op;
	uint32_t op_off;
	uint64_t mask;
	bool fsw_cc_undefined; /* FLDZ;FSTP ran and nothing reloaded x87 afterwards */
	char what[192];	       /* (b): the mutations applied */
};

struct model_out {
	int vector; /* -1 = no fault; exception vector; 1000+reason for a VM exit */
	int stage;
	int api_error;
	uint64_t xinuse;
	uint64_t edx_eax;
	char reason[256];
	_Alignas(64) uint8_t image[VX_HW_IMAGE_MAX];
};

static struct vx_hw_result hw_res; /* 4 KiB+: not on the stack */
static struct model_out model_res;

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *hw_op_name(enum vx_hw_op op)
{
	static const char *const names[VX_HW_OP_COUNT] = {
	    [VX_HW_OP_NONE] = "none",
	    [VX_HW_OP_XSAVE] = "XSAVE",
	    [VX_HW_OP_XSAVE64] = "XSAVE64",
	    [VX_HW_OP_XSAVEOPT] = "XSAVEOPT",
	    [VX_HW_OP_XSAVEOPT64] = "XSAVEOPT64",
	    [VX_HW_OP_XSAVEC] = "XSAVEC",
	    [VX_HW_OP_XSAVEC64] = "XSAVEC64",
	    [VX_HW_OP_XRSTOR] = "XRSTOR",
	    [VX_HW_OP_XRSTOR64] = "XRSTOR64",
	    [VX_HW_OP_XGETBV] = "XGETBV(1)",
	};

	return (unsigned)op < VX_HW_OP_COUNT && names[op] ? names[op] : "?";
}

static int insn_of(enum vx_hw_op op)
{
	switch (op) {
	case VX_HW_OP_XSAVE:
		return VX_INSN_XSAVE;
	case VX_HW_OP_XSAVE64:
		return VX_INSN_XSAVE64;
	case VX_HW_OP_XSAVEOPT:
		return VX_INSN_XSAVEOPT;
	case VX_HW_OP_XSAVEOPT64:
		return VX_INSN_XSAVEOPT64;
	case VX_HW_OP_XSAVEC:
		return VX_INSN_XSAVEC;
	case VX_HW_OP_XSAVEC64:
		return VX_INSN_XSAVEC64;
	case VX_HW_OP_XRSTOR:
		return VX_INSN_XRSTOR;
	case VX_HW_OP_XRSTOR64:
		return VX_INSN_XRSTOR64;
	default:
		return -1;
	}
}

static bool op_is_save(enum vx_hw_op op)
{
	return op >= VX_HW_OP_XSAVE && op <= VX_HW_OP_XSAVEC64;
}

static bool op_is_compacted_save(enum vx_hw_op op)
{
	return op == VX_HW_OP_XSAVEC || op == VX_HW_OP_XSAVEC64;
}

static bool op_rex_w(enum vx_hw_op op)
{
	return op == VX_HW_OP_XSAVE64 || op == VX_HW_OP_XSAVEOPT64 || op == VX_HW_OP_XSAVEC64 ||
	       op == VX_HW_OP_XRSTOR64;
}

static const char *vector_name(int v)
{
	if (v == -1)
		return "none";
	if (v >= 1000)
		return "VM exit";
	return v >= 0 && vx_vector_name((unsigned)v) ? vx_vector_name((unsigned)v) : "?";
}

static void touch_names(uint64_t t, char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
	    {VX_HW_TOUCH_X87, "x87(FXRSTOR64)"},
	    {VX_HW_TOUCH_SSE, "SSE"},
	    {VX_HW_TOUCH_AVX, "AVX"},
	    {VX_HW_TOUCH_ZMM_HI256, "ZMM_Hi256"},
	    {VX_HW_TOUCH_HI16_ZMM, "Hi16_ZMM"},
	    {VX_HW_TOUCH_OPMASK, "opmask"},
	    {VX_HW_TOUCH_FNINIT, "FNINIT"},
	    {VX_HW_TOUCH_FLDZ_FSTP, "FLDZ;FSTP"},
	    {VX_HW_TOUCH_LDMXCSR, "LDMXCSR"},
	    {VX_HW_TOUCH_VZEROUPPER, "VZEROUPPER"},
	    {VX_HW_TOUCH_VZEROALL, "VZEROALL"},
	};
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (t & names[i].bit)
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
					      names[i].name);
	if (!t)
		snprintf(buf, len, "none");
}

/* ------------------------------------------------------------------------------------------ */
/* Layouts of this host (CPUID.(0xD,i))                                                       */

static uint32_t comp_size(const struct diff *d, unsigned i)
{
	return d->host.comp_size[i];
}

static uint32_t std_offset(const struct diff *d, unsigned i)
{
	return d->host.comp_offset[i];
}

/* §2.4: the compacted offset of @comp in the layout of @mask (bits 2..62). */
static uint32_t compacted_offset(const struct diff *d, uint64_t mask, unsigned comp)
{
	uint32_t off = VX_EXTENDED_OFFSET;

	for (unsigned i = 2; i < 63; i++) {
		if (!(mask & VX_BIT(i)))
			continue;
		if (d->host.comp_flags[i] & 2u)
			off = (off + 63u) & ~63u;
		if (i == comp)
			return off;
		off += comp_size(d, i);
	}
	return 0;
}

/* Name of byte @rel of an area in the standard format or the compacted format of @compmask. */
static void area_byte_name(const struct diff *d, uint32_t rel, bool compacted, uint64_t compmask,
			   bool rex_w, char *buf, size_t len)
{
	uint64_t comps = compacted ? (compmask & d->xcr0) : d->xcr0;

	if (rel < VX_EXTENDED_OFFSET) {
		diff_legacy_byte_name(rel, rex_w, buf, len);
		return;
	}
	for (unsigned i = 2; i < 63; i++) {
		uint32_t off;

		if (!(comps & VX_BIT(i)))
			continue;
		off = compacted ? compacted_offset(d, comps, i) : std_offset(d, i);
		if (rel >= off && rel < off + comp_size(d, i)) {
			const struct vx_component_info *ci = vx_component_info(i);

			snprintf(buf, len, "%s%s +%u", ci ? ci->name : "component",
				 compacted ? " (compacted)" : "", rel - off);
			return;
		}
	}
	snprintf(buf, len, "past/between components (+%u)", rel);
}

/* ------------------------------------------------------------------------------------------ */
/* Random states                                                                              */

static uint32_t gen_mxcsr(struct diff_rng *r)
{
	switch (diff_below(r, 10)) {
	case 0:
	case 1:
	case 2:
	case 3:
		return 0x1F80;
	case 4:
		return 0x1FC0; /* DAZ */
	case 5:
		return 0x9F80; /* FZ */
	case 6:
		return 0x21F80; /* AMD MM (misaligned exception mask), bit 17 */
	case 7:
		return 0x0000; /* every exception unmasked */
	default:
		return (uint32_t)diff_next(r) & 0x2FFFFu; /* any value MXCSR_MASK allows */
	}
}

static uint16_t gen_fcw(struct diff_rng *r)
{
	unsigned k = diff_below(r, 20);

	if (k < 3)
		return VX_FCW_DEFAULT;
	if (k < 17)
		return (uint16_t)((diff_next(r) & 0x0F3F) | 0x0040);
	return (uint16_t)diff_next(r); /* reserved bits too */
}

/* An FSW with FSW.ES set (an unmasked exception pending) or clear, TOP random. */
static uint16_t gen_fsw(struct diff_rng *r, uint16_t fcw, bool es)
{
	uint16_t top = (uint16_t)(diff_below(r, 8) << 11);
	uint16_t cc = (uint16_t)(diff_next(r) & 0x4700);
	uint16_t flags;

	if (diff_chance(r, 15))
		return (uint16_t)diff_next(r); /* raw: whatever XRSTOR makes of it */
	if (es) {
		unsigned unmasked = ~fcw & 0x3Fu;
		uint16_t e = (uint16_t)(diff_next(r) & 0x3F);

		if (unmasked)
			e |= (uint16_t)(unmasked & (0u - unmasked)); /* the lowest unmasked one */
		flags = (uint16_t)(e | 0x0080 | 0x8000);	     /* ES and B */
		if (diff_chance(r, 20))
			flags |= 0x0040; /* SF */
	} else {
		flags = (uint16_t)(diff_next(r) & fcw & 0x3F); /* only masked exceptions */
	}
	return (uint16_t)(top | cc | flags);
}

enum style { STYLE_INIT, STYLE_PARTIAL, STYLE_FULL };

/* x87 bytes 0-23 (except 24+) and 32-159 of @a in the given style (64-bit pointer layout). */
static void gen_x87(struct diff_rng *r, uint8_t *a, enum style s)
{
	uint8_t keep5 = a[5];

	diff_fill(r, a, 24); /* FOP/FIP/FDP random: only visible while FSW.ES = 1 here */
	a[5] = keep5;
	for (unsigned i = 0; i < 8; i++)
		diff_fill(r, a + 32 + 16 * i, 16); /* bytes 10-15 of each slot are ignored */
	if (s == STYLE_FULL) {
		uint16_t fcw = gen_fcw(r);

		diff_st16(a + 0, fcw);
		diff_st16(a + 2, gen_fsw(r, fcw, diff_chance(r, 50)));
		a[4] = (uint8_t)diff_next(r);
		return;
	}
	diff_st16(a + 0, VX_FCW_DEFAULT);
	diff_st16(a + 2, 0);
	a[4] = 0;
	for (unsigned i = 0; i < 8; i++)
		memset(a + 32 + 16 * i, 0, 10);
	if (s == STYLE_INIT)
		return;
	switch (diff_below(r, 6)) {
	case 0:
		diff_st16(a + 0, gen_fcw(r));
		break;
	case 1:
		diff_st16(a + 2, gen_fsw(r, VX_FCW_DEFAULT, false));
		break;
	case 2:
		a[4] = (uint8_t)(1u << diff_below(r, 8));
		break;
	case 3:
		a[32 + 16 * diff_below(r, 8) + diff_below(r, 10)] =
		    (uint8_t)(1 + diff_below(r, 255));
		break;
	case 4: {
		uint16_t fcw = (uint16_t)(VX_FCW_DEFAULT & ~(1u << diff_below(r, 6)));

		diff_st16(a + 0, fcw);
		diff_st16(a + 2, gen_fsw(r, fcw, true));
		break;
	}
	default:
		diff_st16(a + 2, (uint16_t)(diff_below(r, 8) << 11)); /* TOP only */
		break;
	}
}

/* Component bytes @p of @n bytes in the given style (init = all zero for these). */
static void gen_bytes(struct diff_rng *r, uint8_t *p, uint32_t n, uint32_t reg, enum style s)
{
	if (s == STYLE_FULL) {
		diff_fill(r, p, n);
		return;
	}
	memset(p, 0, n);
	if (s == STYLE_INIT)
		return;
	if (diff_chance(r, 50))
		p[diff_below(r, n)] = (uint8_t)(1 + diff_below(r, 255)); /* one byte */
	else
		diff_fill(r, p + reg * diff_below(r, n / reg), reg); /* one register */
}

/*
 * A random standard-format image of every XCR0 component with a loadable header: each
 * component is either not loaded (XSTATE_BV[i]=0, data garbage or init values), loaded with
 * its initial values, partly in use, or fully random.  MXCSR is always valid (XRSTOR loads it
 * whenever RFBM[1]|RFBM[2], whatever XSTATE_BV says).  Returns XSTATE_BV.
 */
static uint64_t gen_state(const struct diff *d, struct diff_rng *r, uint8_t *img)
{
	uint64_t bv = 0;
	unsigned global = diff_below(r, 20); /* 0: all init not loaded, 1: all init loaded,
						2: all full */

	diff_fill(r, img, d->std_size); /* garbage everywhere first, incl. 416-511, byte 5 */
	for (unsigned i = 0; i < 63; i++) {
		unsigned k = diff_below(r, 100);
		enum style s;

		if (!(d->xcr0 & VX_BIT(i)))
			continue;
		if (global == 0)
			k = 0;
		else if (global == 1)
			k = 30;
		else if (global == 2)
			k = 99;
		if (k < 20) {
			if (diff_chance(r, 50))
				continue; /* not loaded, garbage data */
			s = STYLE_INIT;
		} else {
			bv |= VX_BIT(i);
			s = k < 40 ? STYLE_INIT : k < 65 ? STYLE_PARTIAL : STYLE_FULL;
		}
		if (i == 0)
			gen_x87(r, img, s);
		else if (i == 1)
			gen_bytes(r, img + VX_XMM_OFFSET, 256, 16, s);
		else
			gen_bytes(r, img + std_offset(d, i), comp_size(d, i),
				  i == 5   ? 8
				  : i == 2 ? 16
				  : i == 6 ? 32
					   : 64,
				  s);
	}
	diff_st32(img + VX_MXCSR_OFFSET, gen_mxcsr(r));
	memset(img + VX_HEADER_OFFSET, 0, VX_HEADER_SIZE);
	diff_st64(img + VX_XSTATE_BV_OFFSET, bv);
	return bv;
}

/* @out (not overlapping @std) = @std converted to the compacted form with XCOMP_BV[62:0] =
 * @format; XSTATE_BV is kept as is (the caller decides whether it fits the format). */
static void to_compacted(const struct diff *d, const uint8_t *std, uint8_t *out, uint64_t format)
{
	memcpy(out, std, VX_EXTENDED_OFFSET);
	for (unsigned i = 2; i < 63; i++)
		if (format & d->xcr0 & VX_BIT(i))
			memcpy(out + compacted_offset(d, format & d->xcr0, i),
			       std + std_offset(d, i), comp_size(d, i));
	diff_st64(out + VX_XCOMP_BV_OFFSET, VX_XCOMP_BV_COMPACTED | format);
}

/* A valid area for XRSTOR at @a: standard (85%) or compacted (15%). */
static bool gen_valid_area(const struct diff *d, struct diff_rng *r, uint8_t *a, unsigned pct_c)
{
	_Alignas(64) uint8_t tmp[REGION];
	uint64_t format, bv;

	gen_state(d, r, tmp);
	if (!diff_chance(r, pct_c)) {
		memcpy(a, tmp, d->std_size);
		return false;
	}
	format = diff_next(r) & d->xcr0;
	bv = diff_ld64(tmp + VX_XSTATE_BV_OFFSET);
	if (diff_chance(r, 40))
		format |= bv;
	diff_st64(tmp + VX_XSTATE_BV_OFFSET, bv & format);
	to_compacted(d, tmp, a, format);
	return true;
}

static uint64_t gen_mask(const struct diff *d, struct diff_rng *r)
{
	uint64_t m;

	switch (diff_below(r, 10)) {
	case 0:
	case 1:
	case 2:
	case 3:
		return UINT64_MAX;
	case 4:
		return d->xcr0;
	case 5:
		return diff_chance(r, 50) ? 0 : VX_BIT(diff_below(r, 8));
	case 6:
		return diff_next(r);
	default:
		m = diff_next(r) & d->xcr0;
		if (diff_chance(r, 30))
			m |= diff_next(r) & ~d->xcr0; /* bits outside XCR0 are ignored (RFBM) */
		return m;
	}
}

static void fill_canary(struct diff_rng *r, uint8_t *p, size_t n)
{
	static const uint8_t fixed[] = {0xA5, 0x5A, 0x00, 0xFF};
	unsigned k = diff_below(r, 6);

	if (k < 4)
		memset(p, fixed[k], n);
	else
		diff_fill(r, p, n);
}

/*
 * FLDZ;FSTP ST(0) is only a plain register write when nothing is pending and ST7 is empty
 * (otherwise #MF or a stack overflow): decide from the x87 state the sequence leaves.
 */
static bool fldz_allowed(const uint8_t *load, uint64_t load_bv, const uint8_t *touch,
			 uint64_t touches)
{
	const uint8_t *x;
	uint16_t fcw, fsw;
	unsigned top;

	if (touches & VX_HW_TOUCH_FNINIT)
		return true;
	if (touches & VX_HW_TOUCH_X87)
		x = touch;
	else if (load_bv & X87)
		x = load;
	else
		return true;
	fcw = diff_ld16(x);
	fsw = diff_ld16(x + 2);
	if ((fsw & 0x8080) || (fsw & ~fcw & 0x3F))
		return false;
	top = (fsw >> 11) & 7;
	return !(x[4] & (1u << ((top + 7) & 7)));
}

/* Touches with probability @pct each (single-instruction touches half as often). */
static void gen_touches(const struct diff *d, struct dcase *c, struct diff_rng *r, unsigned pct)
{
	static const uint64_t comp_touch[] = {VX_HW_TOUCH_X87,	    VX_HW_TOUCH_SSE,
					      VX_HW_TOUCH_AVX,	    VX_HW_TOUCH_ZMM_HI256,
					      VX_HW_TOUCH_HI16_ZMM, VX_HW_TOUCH_OPMASK};
	static const uint64_t one_touch[] = {VX_HW_TOUCH_FNINIT, VX_HW_TOUCH_LDMXCSR,
					     VX_HW_TOUCH_VZEROUPPER, VX_HW_TOUCH_VZEROALL};
	uint8_t *t = d->stage + TOUCH_OFF;
	uint64_t touches = 0;

	gen_state(d, r, t);
	for (size_t i = 0; i < sizeof(comp_touch) / sizeof(comp_touch[0]); i++)
		if ((d->xcr0 & comp_touch[i]) && diff_chance(r, pct))
			touches |= comp_touch[i];
	for (size_t i = 0; i < sizeof(one_touch) / sizeof(one_touch[0]); i++)
		if (diff_chance(r, pct / 2))
			touches |= one_touch[i];
	if ((touches & (VX_HW_TOUCH_VZEROUPPER | VX_HW_TOUCH_VZEROALL)) && !(d->xcr0 & AVX))
		touches &= ~(VX_HW_TOUCH_VZEROUPPER | VX_HW_TOUCH_VZEROALL);
	if (diff_chance(r, pct / 2) && fldz_allowed(d->stage + LOAD_OFF, c->load_bv, t, touches))
		touches |= VX_HW_TOUCH_FLDZ_FSTP;
	c->touch = touches;
	c->fsw_cc_undefined = (touches & VX_HW_TOUCH_FLDZ_FSTP) != 0;
}

static void gen_pre(const struct diff *d, struct dcase *c, struct diff_rng *r)
{
	c->pre = diff_chance(r, 50) ? VX_HW_PRE_XRSTOR : VX_HW_PRE_XRSTOR64;
	c->pre_off = PRE_OFF;
	c->pre_mask = gen_mask(d, r);
	fill_canary(r, d->stage + PRE_OFF, REGION);
	c->pre_compacted = gen_valid_area(d, r, d->stage + PRE_OFF, 15);
	/* A pre XRSTOR with RFBM[0]=1 loads or initializes x87: FSW is defined again. */
	if (c->pre_mask & X87)
		c->fsw_cc_undefined = false;
}

/*
 * The patch after the pre XRSTOR: small (1-32 bytes anywhere, a quarter of them on XSTATE_BV
 * and XCOMP_BV) or large (every byte of the area, the header kept or not), so that a write
 * XSAVEOPT skips is visible as the patch surviving.
 */
static void gen_patch(const struct diff *d, struct dcase *c, struct diff_rng *r, uint32_t base)
{
	unsigned k = diff_below(r, 100);
	uint32_t off, len;

	if (k < 40) {
		off = diff_chance(r, 25) ? VX_HEADER_OFFSET + diff_below(r, 16)
					 : diff_below(r, d->std_size);
		len = 1 + diff_below(r, 32);
		if (off + len > d->std_size)
			len = d->std_size - off;
		c->patch_off = base + off;
		c->patch_len = len;
		diff_fill(r, c->patch, len);
		return;
	}
	c->patch_off = base;
	c->patch_len = d->std_size;
	diff_fill(r, c->patch, d->std_size);
	if (k < 85) /* header as it was */
		memcpy(c->patch + VX_HEADER_OFFSET, d->stage + base + VX_HEADER_OFFSET,
		       VX_HEADER_SIZE);
}

/* ------------------------------------------------------------------------------------------ */
/* Case generators                                                                            */

static void gen_common(const struct diff *d, struct dcase *c, struct diff_rng *r)
{
	fill_canary(r, d->stage, ARENA);
	c->load_bv = gen_state(d, r, d->stage + LOAD_OFF);
	c->op_off = OP_OFF;
}

/* (a): a random state, touches, maybe a pre XRSTOR (same or other address), a patch, a save. */
static void gen_case_a(struct diff *d, struct dcase *c, struct diff_rng *r)
{
	static const enum vx_hw_op ops[] = {
	    VX_HW_OP_XSAVE,    VX_HW_OP_XSAVE64,    VX_HW_OP_XSAVEC,   VX_HW_OP_XSAVEC64,
	    VX_HW_OP_XSAVEOPT, VX_HW_OP_XSAVEOPT64, VX_HW_OP_XSAVEOPT, VX_HW_OP_XSAVEOPT64};
	unsigned where = diff_below(r, 100);

	gen_common(d, c, r);
	if (diff_chance(r, 45))
		gen_touches(d, c, r, 35);
	do
		c->op = ops[diff_below(r, sizeof(ops) / sizeof(ops[0]))];
	while (!d->have_xsaveopt && (c->op == VX_HW_OP_XSAVEOPT || c->op == VX_HW_OP_XSAVEOPT64));
	c->mask = gen_mask(d, r);
	if (where < 45) {
		/* A fresh canary area; maybe after an XRSTOR from another address. */
		if (diff_chance(r, 35))
			gen_pre(d, c, r);
		d->a_other++;
	} else if (where < 85) {
		/* The XRSTOR's own area (XSAVEOPT's modified optimization), then a patch. */
		gen_pre(d, c, r);
		c->op_off = PRE_OFF;
		if (diff_chance(r, 70))
			gen_patch(d, c, r, PRE_OFF);
		d->a_same_addr++;
	} else {
		/* The load image's own area (XRSTOR64 RFBM=all, then touches). */
		c->op_off = LOAD_OFF;
		if (diff_chance(r, 50))
			gen_patch(d, c, r, LOAD_OFF);
		d->a_load_addr++;
	}
	d->a_by_op[c->op]++;
}

static uint64_t pick_bit(struct diff_rng *r)
{
	static const unsigned bits[] = {3, 4, 8, 9, 10, 11, 12, 17, 18, 19, 62, 63};

	if (diff_chance(r, 70))
		return VX_BIT(bits[diff_below(r, sizeof(bits) / sizeof(bits[0]))]);
	return VX_BIT(diff_below(r, 64));
}

static void append(char *buf, size_t len, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* One mutation of area @a (see docs/differential-testing.md, category b). */
static void mutate(const struct diff *d, struct diff_rng *r, uint8_t *a, char *desc, size_t len)
{
	uint64_t xs = diff_ld64(a + VX_XSTATE_BV_OFFSET), xc = diff_ld64(a + VX_XCOMP_BV_OFFSET);
	uint32_t mx = diff_ld32(a + VX_MXCSR_OFFSET);
	unsigned k = diff_below(r, 18), at;
	uint64_t b;

	switch (k) {
	case 0:
		at = 528 + diff_below(r, 8);
		a[at] |= (uint8_t)(1u << diff_below(r, 8));
		append(desc, len, " hdr[%u]!=0", at - 512);
		return;
	case 1:
		at = 536 + diff_below(r, 40);
		a[at] |= (uint8_t)(1u << diff_below(r, 8));
		append(desc, len, " hdr[%u]!=0", at - 512);
		return;
	case 2:
		xc ^= VX_XCOMP_BV_COMPACTED;
		append(desc, len, " XCOMP_BV^=bit63");
		break;
	case 3:
		b = diff_chance(r, 50) ? pick_bit(r) : VX_BIT(diff_below(r, 8));
		xc |= b;
		append(desc, len, " XCOMP_BV|=0x%" PRIx64, b);
		break;
	case 4:
		b = VX_BIT(diff_below(r, 8));
		xc &= ~b;
		append(desc, len, " XCOMP_BV&=~0x%" PRIx64, b);
		break;
	case 5:
		xc = VX_XCOMP_BV_COMPACTED | (diff_next(r) & d->xcr0);
		if (diff_chance(r, 50))
			xs &= xc;
		append(desc, len, " XCOMP_BV=0x%" PRIx64, xc);
		break;
	case 6:
		xc = 0;
		append(desc, len, " XCOMP_BV=0");
		break;
	case 7: {
		uint64_t cand = d->xcr0 & ~xc; /* enabled components the format lacks */

		for (unsigned skip = diff_below(r, 8); skip && (cand & (cand - 1)); skip--)
			cand &= cand - 1;
		b = cand ? cand & (0 - cand) : VX_BIT(diff_below(r, 8));
		xs |= b;
		append(desc, len, " XSTATE_BV|=0x%" PRIx64 "(not in XCOMP_BV)", b);
		break;
	}
	case 8:
		b = pick_bit(r);
		xs |= b;
		append(desc, len, " XSTATE_BV|=0x%" PRIx64, b);
		break;
	case 9:
		xs = diff_next(r) & d->xcr0;
		append(desc, len, " XSTATE_BV=0x%" PRIx64, xs);
		break;
	case 10: {
		static const unsigned bits[] = {16, 18, 19, 20, 24, 31};
		unsigned bit = bits[diff_below(r, 6)];

		mx |= 1u << bit;
		append(desc, len, " MXCSR|=bit%u", bit);
		break;
	}
	case 11:
		mx = gen_mxcsr(r);
		append(desc, len, " MXCSR=0x%x", mx);
		break;
	case 12:
		at = 512 + diff_below(r, 64);
		a[at] ^= (uint8_t)(1u << diff_below(r, 8));
		append(desc, len, " flip hdr[%u]", at - 512);
		return;
	case 13:
		at = diff_below(r, 512);
		a[at] ^= (uint8_t)(1u << diff_below(r, 8));
		append(desc, len, " flip legacy[%u]", at);
		return;
	case 14:
		a[2] ^= 0x80;
		if (diff_chance(r, 50))
			a[3] ^= 0x80;
		append(desc, len, " FSW.ES^=1");
		return;
	case 15:
		at = VX_EXTENDED_OFFSET + diff_below(r, d->std_size - VX_EXTENDED_OFFSET);
		a[at] ^= (uint8_t)(1u << diff_below(r, 8));
		append(desc, len, " flip ext[%u]", at);
		return;
	case 16:
		xs = diff_chance(r, 50) ? 0 : d->xcr0;
		append(desc, len, " XSTATE_BV=0x%" PRIx64, xs);
		break;
	default:
		/* Compacted form with exactly the components of XSTATE_BV. */
		xc = VX_XCOMP_BV_COMPACTED | (xs & d->xcr0);
		append(desc, len, " XCOMP_BV=2^63|XSTATE_BV");
		break;
	}
	diff_st64(a + VX_XSTATE_BV_OFFSET, xs);
	diff_st64(a + VX_XCOMP_BV_OFFSET, xc);
	diff_st32(a + VX_MXCSR_OFFSET, mx);
}

/* (b): a real or generated valid area, 0-3 mutations, maybe misaligned → XRSTOR(64). */
static void gen_case_b(struct diff *d, struct dcase *c, struct diff_rng *r)
{
	unsigned n, k = diff_below(r, 100);
	uint8_t *a;

	gen_common(d, c, r);
	c->op = diff_chance(r, 50) ? VX_HW_OP_XRSTOR : VX_HW_OP_XRSTOR64;
	c->mask = gen_mask(d, r);
	if (diff_chance(r, 8)) {
		c->op_off = OP_OFF + 1 + diff_below(r, 63);
		d->b_misaligned++;
		snprintf(c->what, sizeof(c->what), "misaligned+%u", c->op_off - OP_OFF);
	}
	a = d->stage + c->op_off;
	if (diff_chance(r, 85)) {
		unsigned p = diff_below(r, POOL_SIZE);

		memcpy(a, d->pool[p], d->std_size);
		append(c->what, sizeof(c->what), " pool[%u]", p);
	} else {
		bool comp = gen_valid_area(d, r, a, 40);

		append(c->what, sizeof(c->what), " generated-%s", comp ? "compacted" : "standard");
	}
	n = k < 25 ? 0 : k < 65 ? 1 : k < 85 ? 2 : 3;
	for (unsigned i = 0; i < n; i++)
		mutate(d, r, a, c->what, sizeof(c->what));
	if (diff_ld64(a + VX_XCOMP_BV_OFFSET) & VX_XCOMP_BV_COMPACTED)
		d->b_compacted++;
	else
		d->b_standard++;
}

/* (c): touches, maybe a pre XRSTOR, then XGETBV(1), nothing, or another XRSTOR. */
static void gen_case_c(struct diff *d, struct dcase *c, struct diff_rng *r)
{
	unsigned k;

	gen_common(d, c, r);
	if (diff_chance(r, 85))
		gen_touches(d, c, r, 50);
	if (diff_chance(r, 50))
		gen_pre(d, c, r);
	k = diff_below(r, 100);
	if (k < 45) {
		c->op = VX_HW_OP_XGETBV;
	} else if (k < 70) {
		c->op = VX_HW_OP_NONE;
	} else {
		c->op = diff_chance(r, 50) ? VX_HW_OP_XRSTOR : VX_HW_OP_XRSTOR64;
		c->mask = gen_mask(d, r);
		gen_valid_area(d, r, d->stage + OP_OFF, 30);
		if (c->mask & X87)
			c->fsw_cc_undefined = false;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* The model side: the same sequence                                                          */

static int model_exec(struct diff *d, enum vx_insn insn, uint32_t off, uint64_t mask,
		      struct vx_event *ev)
{
	return vx_cpu_exec(d->cpu, insn, 0, &d->mem, d->mem.base + off, mask, ev);
}

static int set_reg(struct diff *d, const struct vx_reg_info *reg, const void *v,
		   struct vx_event *ev)
{
	return vx_cpu_set_reg(d->cpu, reg, v, reg->width, ev);
}

/*
 * Mark @comps modified (XMODIFIED) without changing their values or XINUSE, as FXRSTOR64 of
 * an unchanged image does: vx_cpu_mark_modified().
 */
static int model_mark_modified(struct diff *d, uint64_t comps, struct vx_event *ev)
{
	(void)ev;
	vx_cpu_mark_modified(d->cpu, comps);
	return 0;
}

/*
 * The touches, each as the model operation with the architectural effect the instruction
 * has on this CPU (docs/hardware-behaviour.md §A.3, cpu_hw.h), in the backend's order.
 */
static int model_touch(struct diff *d, const struct dcase *c, struct vx_event *ev)
{
	const uint8_t *t = d->md + TOUCH_OFF;
	uint64_t touch = c->touch;
	int rc;

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		rc = (expr);                                                                       \
		if (rc)                                                                            \
			return rc;                                                                 \
	} while (0)

	if (touch & VX_HW_TOUCH_X87) {
		/* FXSAVE64; overlay x87 bytes; FXRSTOR64: an x87 load with XRSTOR64's rules
		 * (init-value detection, pointers only with FSW.ES), which also writes x87. */
		_Alignas(64) uint8_t img[VX_HW_IMAGE_MAX];

		memcpy(img, t, d->std_size);
		memset(img + VX_HEADER_OFFSET, 0, VX_HEADER_SIZE);
		diff_st64(img + VX_XSTATE_BV_OFFSET, X87);
		/* Measured: after this touch XSAVEOPT rewrites every component (FXRSTOR64 counts
		 * as modifying all state, docs/differential-testing.md "Touches"). */
		TRY(model_mark_modified(d, d->xcr0, ev));
		TRY(vx_cpu_use(d->cpu, X87, ev));
		TRY(vx_cpu_from_standard_image(d->cpu, X87, img, sizeof(img)));
	}
	if (touch & VX_HW_TOUCH_SSE) {
		/* MOVDQU xmm0-15 (legacy encoding: upper bits kept), LDMXCSR. */
		bool zmmh_in_use = (vx_cpu_xinuse(d->cpu) & ZMMH) != 0;

		for (unsigned i = 0; i < 16; i++)
			TRY(set_reg(d, d->xmm[i], t + VX_XMM_OFFSET + 16 * i, ev));
		TRY(set_reg(d, d->mxcsr, t + VX_MXCSR_OFFSET, ev));
		/* Measured on this CPU: a legacy-SSE write of xmm0-15 while ZMM_Hi256 is in use
		 * also sets XINUSE[2] (0x40 -> 0x46) but NOT XMODIFIED[2]
		 * (docs/differential-testing.md F5).  The model reproduces this in
		 * vx_cpu_set_reg on AMD profiles (docs/cpu-model.md); nothing to add here. */
		(void)zmmh_in_use;
	}
	if (touch & VX_HW_TOUCH_AVX) {
		/* VINSERTI32X4 $1 into zmm0-15: writes bits 255:128; an EVEX 512-bit write marks
		 * SSE, AVX and ZMM_Hi256 in use on this CPU (hardware-behaviour.md §A.3). */
		for (unsigned i = 0; i < 16; i++)
			TRY(set_reg(d, d->ymmh[i], t + std_offset(d, 2) + 16 * i, ev));
		if (d->xcr0 & ZMMH)
			TRY(vx_cpu_use(d->cpu, SSE | AVX | ZMMH, ev));
		else /* VINSERTI128 $1 (VEX.256) rewrites bits 127:0 too: SSE and AVX in use,
		      * measured on a Zen 3 without AVX-512 (hardware-behaviour.md §A.3). */
			TRY(vx_cpu_use(d->cpu, SSE | AVX, ev));
	}
	if ((touch & VX_HW_TOUCH_ZMM_HI256) && (d->xcr0 & ZMMH)) {
		/* VINSERTI64X4 $1 into zmm0-15: bits 511:256; marks SSE, AVX, ZMM_Hi256. */
		for (unsigned i = 0; i < 16; i++)
			TRY(set_reg(d, d->zmmh[i], t + std_offset(d, 6) + 32 * i, ev));
		TRY(vx_cpu_use(d->cpu, SSE | AVX | ZMMH, ev));
	}
	if ((touch & VX_HW_TOUCH_HI16_ZMM) && (d->xcr0 & HI16))
		for (unsigned i = 0; i < 16; i++) /* VMOVDQU64 zmm16-31: Hi16_ZMM only */
			TRY(set_reg(d, d->hi16[i], t + std_offset(d, 7) + 64 * i, ev));
	if ((touch & VX_HW_TOUCH_OPMASK) && (d->xcr0 & OPMSK))
		for (unsigned i = 0; i < 8; i++) /* KMOVQ k0-7 */
			TRY(set_reg(d, d->k[i], t + std_offset(d, 5) + 8 * i, ev));
	if ((touch & VX_HW_TOUCH_FNINIT) && (vx_cpu_xinuse(d->cpu) & X87)) {
		/* FNINIT: FCW/FSW/FTW/FOP/FIP/FDP/FCS/FDS to their initial values, data
		 * registers kept.  FNINIT also sets TOP = 0: the physical registers keep their
		 * values, so the logical slots ST(i) = R[(TOP + i) & 7] the image shows rotate.
		 * XINUSE[0] afterwards (measured, docs/differential-testing.md "Touches"): 1 if a
		 * data register holds a non-zero value (§A.3 "FNINIT from full: 0xE7"), else 0
		 * (FCW=0x037E only, or FTW=0x01 with ST0 = 0, then FNINIT: 0x00).  At this point
		 * of the sequence the data registers were last written by the XRSTOR64 or the
		 * FXRSTOR64 touch, which both detect values, so "non-zero" is exact here. */
		static const uint8_t zero[10];
		uint8_t st[8][10], fsw[2];
		unsigned top;
		bool data = false;

		TRY(vx_cpu_get_reg(d->cpu, d->fsw, fsw, 2));
		top = (fsw[1] >> 3) & 7u;
		for (unsigned i = 0; i < 8; i++) {
			TRY(vx_cpu_get_reg(d->cpu, d->st[i], st[i], 10));
			data |= memcmp(st[i], zero, 10) != 0;
		}
		vx_cpu_init_components(d->cpu, X87);
		if (data) {
			TRY(vx_cpu_use(d->cpu, X87, ev));
			for (unsigned i = 0; i < 8; i++)
				TRY(set_reg(d, d->st[i], st[(i - top) & 7u], ev));
		}
	}
	if (touch & VX_HW_TOUCH_FLDZ_FSTP) {
		/* FLDZ; FSTP ST(0): the physical register below TOP (logical ST7) gets +0.0 and
		 * stays empty, C1 = 0 (C0/C2/C3 undefined: masked), x87 marked in use. */
		static const uint8_t zero[10];
		uint8_t fsw[2];

		TRY(vx_cpu_get_reg(d->cpu, d->fsw, fsw, 2));
		fsw[1] &= (uint8_t)~0x02;
		TRY(set_reg(d, d->st[7], zero, ev));
		TRY(set_reg(d, d->fsw, fsw, ev));
	}
	if (touch & VX_HW_TOUCH_LDMXCSR)
		TRY(set_reg(d, d->mxcsr, t + VX_MXCSR_OFFSET, ev));
	if (touch & VX_HW_TOUCH_VZEROUPPER)
		TRY(vx_cpu_vzeroupper(d->cpu, ev));
	if (touch & VX_HW_TOUCH_VZEROALL) {
		/* VZEROALL zeroes zmm0-15 and leaves MXCSR alone; vx_cpu_init_components(SSE)
		 * also resets MXCSR (its documented choice), so MXCSR is put back. */
		uint8_t mx[4];

		TRY(vx_cpu_get_reg(d->cpu, d->mxcsr, mx, 4));
		vx_cpu_init_components(d->cpu, (SSE | AVX | ZMMH) & d->xcr0);
		TRY(set_reg(d, d->mxcsr, mx, ev));
	}
#undef TRY
	return 0;
}

static void model_record(struct model_out *o, int stage, int rc, const struct vx_event *ev)
{
	o->stage = stage;
	if (rc == VX_FAULTED) {
		o->vector =
		    ev->kind == VX_EVENT_VMEXIT ? 1000 + (int)ev->exit_reason : (int)ev->vector;
		snprintf(o->reason, sizeof(o->reason), "%s: %s", ev->rule ? ev->rule : "?",
			 ev->reason);
	} else {
		o->api_error = rc;
		snprintf(o->reason, sizeof(o->reason), "model API returned %d (%s)", rc,
			 vx_errno_name(rc));
	}
}

static void trace(const struct diff *d, const char *step)
{
	struct vx_xrstor_info xi;

	if (!d->verbose)
		return;
	vx_cpu_xrstor_info(d->cpu, &xi);
	printf("    model after %-8s XINUSE(xgetbv)=0x%02" PRIx64 " XMODIFIED=0x%02" PRIx64
	       " XRSTOR_INFO=%s cpl %u area%+lld compmask 0x%" PRIx64 "\n",
	       step, vx_cpu_xinuse(d->cpu), vx_cpu_xmodified(d->cpu) & 0xFF,
	       xi.valid ? "valid" : "invalid", xi.cpl, (long long)(xi.linear_address - d->mem.base),
	       xi.compmask);
}

static void model_run(struct diff *d, const struct dcase *c, struct model_out *o)
{
	struct vx_event ev = {0};
	int rc;

	o->vector = -1;
	o->stage = ST_NONE;
	o->api_error = 0;
	o->edx_eax = 0;
	o->reason[0] = 0;
	if ((rc = vx_cpu_copy(d->cpu, d->tmpl)) != 0) {
		model_record(o, ST_LOAD, rc, &ev);
		goto readback;
	}
	rc = model_exec(d, VX_INSN_XRSTOR64, LOAD_OFF, UINT64_MAX, &ev);
	if (rc) {
		model_record(o, ST_LOAD, rc, &ev);
		goto readback;
	}
	trace(d, "load");
	rc = model_touch(d, c, &ev);
	if (rc) {
		model_record(o, ST_TOUCH, rc, &ev);
		goto readback;
	}
	trace(d, "touches");
	if (c->pre != VX_HW_PRE_NONE) {
		rc = model_exec(d, c->pre == VX_HW_PRE_XRSTOR ? VX_INSN_XRSTOR : VX_INSN_XRSTOR64,
				c->pre_off, c->pre_mask, &ev);
		if (rc) {
			model_record(o, ST_PRE, rc, &ev);
			goto readback;
		}
		trace(d, "pre");
	}
	if (c->patch_len)
		memcpy(d->md + c->patch_off, c->patch, c->patch_len);
	if (c->op == VX_HW_OP_XGETBV)
		rc = vx_cpu_xgetbv(d->cpu, 1, &o->edx_eax, &ev);
	else if (c->op != VX_HW_OP_NONE)
		rc = model_exec(d, (enum vx_insn)insn_of(c->op), c->op_off, c->mask, &ev);
	if (rc)
		model_record(o, ST_OP, rc, &ev);
	trace(d, "op");
readback:
	if (vx_cpu_xgetbv(d->cpu, 1, &o->xinuse, &ev) != 0)
		o->xinuse = UINT64_MAX;
	memset(o->image, 0, sizeof(o->image));
	rc = vx_cpu_to_standard_image(d->cpu, d->xcr0, o->image, sizeof(o->image));
	if (rc && !o->api_error) {
		o->api_error = rc;
		snprintf(o->reason, sizeof(o->reason), "vx_cpu_to_standard_image returned %d", rc);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* The hardware side                                                                          */

static void hw_args(const struct diff *d, const struct dcase *c, struct vx_hw_run_args *a)
{
	memset(a, 0, sizeof(*a));
	a->load_image = d->hw + LOAD_OFF;
	a->load_mask = 0; /* all */
	a->touch = c->touch;
	a->touch_image = d->hw + TOUCH_OFF;
	a->pre = c->pre;
	a->pre_area = d->hw + c->pre_off;
	a->pre_mask = c->pre_mask;
	if (c->patch_len) {
		a->patch_dst = d->hw + c->patch_off;
		a->patch_src = c->patch;
		a->patch_len = c->patch_len;
	}
	a->op = c->op;
	a->area = d->hw + c->op_off;
	a->mask = c->mask;
	a->ecx = 1;
}

static int hw_run(struct diff *d, const struct dcase *c, struct vx_hw_result *res)
{
	struct vx_hw_run_args args;
	int rc;

	memcpy(d->hw, d->stage, ARENA);
	hw_args(d, c, &args);
	rc = vx_hw_run(&args, res);
	if (rc) {
		fprintf(stderr, "vx_hw_run failed: %d (%s)\n", rc, vx_errno_name(rc));
		exit(1);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Comparison                                                                                 */

enum where { IN_ARENA, IN_REGS };

/*
 * Bits of byte @off to leave out of the comparison - only what is not register state or
 * what the architecture leaves undefined (docs/differential-testing.md "Masked bytes"):
 *  - read-back image 416-511: reserved / software-available bytes, not registers; the
 *    backend's FXSAVE64 image has zeros there, the model image whatever XSAVE64 leaves.
 *  - read-back image 512-575: the header is synthesized by each side (the backend puts
 *    XSTATE_BV = the readable components, the model XINUSE); XINUSE is compared separately.
 *  - FSW C0, C2, C3 after FLDZ; FSTP ST(0) (until x87 is reloaded): "undefined" for both
 *    instructions in the SDM.
 */
static uint8_t ignored_bits(const struct dcase *c, enum where w, size_t off)
{
	if (w == IN_REGS) {
		if (off >= 416 && off < VX_EXTENDED_OFFSET)
			return 0xFF;
		if (off == 3 && c->fsw_cc_undefined)
			return FSW_CC_UNDEFINED_BYTE3;
		return 0;
	}
	if (c->fsw_cc_undefined && op_is_save(c->op) && off == c->op_off + 3)
		return FSW_CC_UNDEFINED_BYTE3;
	return 0;
}

static void arena_byte_name(const struct diff *d, const struct dcase *c, size_t off, char *buf,
			    size_t len)
{
	static const char *const region[] = {"load image", "touch image", "pre area", "op area"};
	unsigned reg = (unsigned)(off / REGION);
	char field[96];

	if (off >= c->op_off && off < (size_t)c->op_off + REGION - 64 &&
	    (op_is_save(c->op) || c->op == VX_HW_OP_XRSTOR || c->op == VX_HW_OP_XRSTOR64)) {
		uint32_t rel = (uint32_t)(off - c->op_off);

		area_byte_name(d, rel, op_is_compacted_save(c->op), c->mask & d->xcr0,
			       op_rex_w(c->op), field, sizeof(field));
		snprintf(buf, len, "op area+0x%03x %s", rel, field);
		return;
	}
	area_byte_name(d, (uint32_t)(off % REGION), false, 0, true, field, sizeof(field));
	snprintf(buf, len, "%s+0x%03x %s", reg < 4 ? region[reg] : "?", (unsigned)(off % REGION),
		 field);
}

static void regs_byte_name(const struct diff *d, const struct dcase *c, size_t off, char *buf,
			   size_t len)
{
	char field[96];

	(void)c;
	area_byte_name(d, (uint32_t)off, false, 0, true, field, sizeof(field));
	snprintf(buf, len, "regs+0x%03x %s", (unsigned)off, field);
}

static void hex_rows(const uint8_t *hw, const uint8_t *md, size_t first, size_t n)
{
	size_t row = first & ~(size_t)15;

	for (unsigned k = 0; k < 2 && row < n; k++, row += 16) {
		printf("      +0x%04zx hw   ", row);
		for (size_t i = row; i < row + 16 && i < n; i++)
			printf(" %02x", hw[i]);
		printf("\n      +0x%04zx model", row);
		for (size_t i = row; i < row + 16 && i < n; i++)
			printf(" %02x", md[i]);
		printf("\n");
	}
}

static unsigned diff_bytes(const struct diff *d, const struct dcase *c, enum where w,
			   const uint8_t *hw, const uint8_t *md, size_t n, bool print)
{
	unsigned count = 0;
	size_t first = 0;

	if (w == IN_ARENA && !c->fsw_cc_undefined && memcmp(hw, md, n) == 0)
		return 0;
	if (w == IN_REGS && !c->fsw_cc_undefined && memcmp(hw, md, 416) == 0 &&
	    (n <= VX_EXTENDED_OFFSET ||
	     memcmp(hw + VX_EXTENDED_OFFSET, md + VX_EXTENDED_OFFSET, n - VX_EXTENDED_OFFSET) == 0))
		return 0;
	for (size_t off = 0; off < n; off++) {
		uint8_t x = (uint8_t)((hw[off] ^ md[off]) & ~ignored_bits(c, w, off));
		char name[160];

		if (!x)
			continue;
		if (!count++)
			first = off;
		if (print && count <= 12) {
			if (w == IN_ARENA)
				arena_byte_name(d, c, off, name, sizeof(name));
			else
				regs_byte_name(d, c, off, name, sizeof(name));
			printf("    %-62s hw=%02x model=%02x\n", name, hw[off], md[off]);
		}
	}
	if (print && count) {
		printf("    %u differing byte(s)%s; rows around the first:\n", count,
		       count > 12 ? " (first 12 listed)" : "");
		hex_rows(hw, md, first, n);
	}
	return count;
}

/* arch.md §4: XINUSE[i] = 0 guarantees component i is in its initial configuration. */
static bool hw_component_init(const struct diff *d, const uint8_t *img, unsigned i)
{
	static const uint8_t zero[1024];

	if (i == 0) {
		for (unsigned s = 0; s < 8; s++)
			if (memcmp(img + 32 + 16 * s, zero, 10) != 0)
				return false;
		return diff_ld16(img) == VX_FCW_DEFAULT && diff_ld16(img + 2) == 0 && img[4] == 0 &&
		       memcmp(img + 6, zero, 18) == 0;
	}
	if (i == 1) /* XGETBV(1) bit 1 includes MXCSR != 0x1F80 on this CPU (§A.2) */
		return memcmp(img + VX_XMM_OFFSET, zero, 256) == 0 &&
		       diff_ld32(img + VX_MXCSR_OFFSET) == VX_MXCSR_DEFAULT;
	return memcmp(img + std_offset(d, i), zero, comp_size(d, i)) == 0;
}

static void describe(const struct diff *d, const struct dcase *c)
{
	char touches[200];

	touch_names(c->touch, touches, sizeof(touches));
	printf("FAIL [%c] seed=0x%016" PRIx64 " case=%" PRIu64 " op=%s mask=0x%" PRIx64
	       " area=%s+0x%x\n",
	       cat_letter[c->cat], d->seed, c->index, hw_op_name(c->op), c->mask,
	       c->op_off >= OP_OFF    ? "op"
	       : c->op_off >= PRE_OFF ? "pre(same address)"
				      : "load(same address)",
	       c->op_off % REGION);
	printf("    load XSTATE_BV=0x%" PRIx64 " touches=%s", c->load_bv, touches);
	if (c->pre != VX_HW_PRE_NONE)
		printf(" pre=%s(%s) pre_mask=0x%" PRIx64,
		       c->pre == VX_HW_PRE_XRSTOR ? "XRSTOR" : "XRSTOR64",
		       c->pre_compacted ? "compacted" : "standard", c->pre_mask);
	if (c->patch_len) {
		printf(" patch=+0x%x/%u:", c->patch_off % REGION, c->patch_len);
		for (unsigned i = 0; i < c->patch_len && i < 8; i++)
			printf("%02x", c->patch[i]);
		if (c->patch_len > 8)
			printf("..");
	}
	if (c->what[0])
		printf(" area:%s", c->what);
	printf("\n    rerun: VXSAVE_DIFF_SEED=0x%016" PRIx64 " VXSAVE_DIFF_ONLY=%c:%" PRIu64
	       " ./build/tests/test_cpu_differential\n",
	       d->seed, cat_letter[c->cat], c->index);
}

/* Number of disagreements (0 = the model is indistinguishable from the processor). */
static unsigned compare(struct diff *d, const struct dcase *c, const struct vx_hw_result *h,
			const struct model_out *o, bool print)
{
	unsigned bad = 0;
	int hv = h->vector, hs = h->vector >= 0 ? (int)h->stage : ST_NONE;
	size_t n = h->regs.size < VX_HW_IMAGE_MAX ? h->regs.size : VX_HW_IMAGE_MAX;

	if (print)
		describe(d, c);
	if (o->api_error) {
		bad++;
		if (print)
			printf("  model API error at stage %d: %s\n", o->stage, o->reason);
	}
	if (hv != o->vector || hs != o->stage) {
		bad++;
		if (print)
			printf(
			    "  fault: hw %s (vector %d, stage %d, signal %d/%d)  model %s (vector "
			    "%d, stage %d)%s%s\n",
			    vector_name(hv), hv, hs, h->signo, h->si_code, vector_name(o->vector),
			    o->vector, o->stage, o->reason[0] ? "\n    model says: " : "",
			    o->reason);
	}
	if (diff_bytes(d, c, IN_ARENA, d->hw, d->md, ARENA, false)) {
		bad++;
		if (print) {
			printf(
			    "  memory differs (hw vs model, every region canary-filled alike):\n");
			diff_bytes(d, c, IN_ARENA, d->hw, d->md, ARENA, true);
		}
	}
	if (diff_bytes(d, c, IN_REGS, h->regs.image, o->image, n, false)) {
		bad++;
		if (print) {
			printf("  registers differ (hw FXSAVE64/VEXTRACT read-back vs "
			       "vx_cpu_to_standard_image):\n");
			diff_bytes(d, c, IN_REGS, h->regs.image, o->image, n, true);
		}
	}
	if (h->regs.xinuse_valid && h->regs.xinuse != o->xinuse) {
		bad++;
		if (print)
			printf("  XINUSE (XGETBV ECX=1): hw 0x%" PRIx64 " model 0x%" PRIx64 "\n",
			       h->regs.xinuse, o->xinuse);
	}
	if (c->op == VX_HW_OP_XGETBV && hv < 0 && o->vector < 0 && h->edx_eax != o->edx_eax) {
		bad++;
		if (print)
			printf("  XGETBV(1) result: hw 0x%" PRIx64 " model 0x%" PRIx64 "\n",
			       h->edx_eax, o->edx_eax);
	}
	return bad;
}

/* The hardware against arch.md §4 (a check of the reference itself, not of the model). */
static void check_hw_xinuse(struct diff *d, const struct dcase *c, const struct vx_hw_result *h)
{
	if (!h->regs.xinuse_valid)
		return;
	for (unsigned i = 0; i < 8; i++) {
		if (!(d->xcr0 & h->regs.components & VX_BIT(i)) || (h->regs.xinuse & VX_BIT(i)))
			continue;
		if (hw_component_init(d, h->regs.image, i))
			continue;
		if (c->fsw_cc_undefined && i == 0)
			continue;
		if (d->hw_arch_violations++ < 5)
			printf("NOTE [%c] case=%" PRIu64 ": hardware XINUSE[%u]=0 but component %u "
			       "is not in its initial configuration (arch.md §4)\n",
			       cat_letter[c->cat], c->index, i, i);
	}
}

/* The field part of a byte name ("x87 FSW byte 1" -> "x87 FSW", "AVX +17" -> "AVX"). */
static void field_only(char *name)
{
	char *cut = strstr(name, " byte ");

	if (!cut)
		cut = strstr(name, " +");
	if (!cut)
		cut = strstr(name, " (+");
	if (cut)
		*cut = 0;
}

static size_t first_diff(const struct dcase *c, enum where w, const uint8_t *hw, const uint8_t *md,
			 size_t n)
{
	for (size_t off = 0; off < n; off++)
		if ((hw[off] ^ md[off]) & ~ignored_bits(c, w, off))
			return off;
	return n;
}

/* A short classification of a disagreement, to count distinct problems. */
static void signature(const struct diff *d, const struct dcase *c, const struct vx_hw_result *h,
		      const struct model_out *o, char *buf, size_t len)
{
	size_t n = h->regs.size < VX_HW_IMAGE_MAX ? h->regs.size : VX_HW_IMAGE_MAX, off;
	int hs = h->vector >= 0 ? (int)h->stage : ST_NONE;
	char name[160];

	buf[0] = 0;
	if (o->api_error)
		append(buf, len, "model API error; ");
	if (h->vector != o->vector || hs != o->stage)
		append(buf, len, "fault hw=%s@%d model=%s@%d; ", vector_name(h->vector), hs,
		       vector_name(o->vector), o->stage);
	if ((off = first_diff(c, IN_ARENA, d->hw, d->md, ARENA)) < ARENA) {
		arena_byte_name(d, c, off, name, sizeof(name));
		field_only(name);
		append(buf, len, "memory %s; ", name);
	}
	if ((off = first_diff(c, IN_REGS, h->regs.image, o->image, n)) < n) {
		regs_byte_name(d, c, off, name, sizeof(name));
		field_only(name);
		append(buf, len, "%s; ", name);
	}
	if (h->regs.xinuse_valid && h->regs.xinuse != o->xinuse)
		append(buf, len, "XINUSE hw-only=0x%" PRIx64 " model-only=0x%" PRIx64 "; ",
		       h->regs.xinuse & ~o->xinuse, o->xinuse & ~h->regs.xinuse);
}

static void count_signature(struct diff *d, const struct dcase *c)
{
	char text[200];

	signature(d, c, &hw_res, &model_res, text, sizeof(text));
	for (unsigned i = 0; i < 32; i++) {
		if (d->sig[c->cat][i].count && strcmp(d->sig[c->cat][i].text, text) != 0)
			continue;
		if (!d->sig[c->cat][i].count) {
			snprintf(d->sig[c->cat][i].text, sizeof(d->sig[c->cat][i].text), "%s",
				 text);
			d->sig[c->cat][i].first_case = c->index;
		}
		d->sig[c->cat][i].count++;
		return;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Targeted: an MXCSR-only change after XRSTOR (issue 7)                                      */

#define MXCSR_ONLY_VALUE 0x1F00u /* every exception unmasked: valid under any MXCSR_MASK */

/*
 * The saved area against the spec: MXCSR is stored (arch.md §5.2: XSAVEOPT writes it whenever
 * RFBM[1] | RFBM[2], the optimizations do not apply to it; §5.3: MXCSR != 0x1F80 with RFBM[1]
 * puts SSE in XSAVEC's TO_BE_SAVED, so XSTATE_BV[1] = 1).  Returns a reason, or NULL.
 */
static const char *mxcsr_only_spec(const struct dcase *c, const uint8_t *area)
{
	bool compacted = c->op == VX_HW_OP_XSAVEC || c->op == VX_HW_OP_XSAVEC64;

	if (diff_ld32(area + VX_MXCSR_OFFSET) != MXCSR_ONLY_VALUE)
		return "MXCSR is not in the area";
	if (compacted && !(diff_ld64(area + VX_XSTATE_BV_OFFSET) & SSE))
		return "XSTATE_BV[1] = 0";
	return NULL;
}

/* One case: the processor, the model, their agreement (with the usual re-runs) and the spec. */
static unsigned mxcsr_only_case(struct diff *d, struct dcase *c)
{
	const char *hw_bad, *md_bad;
	unsigned bad;

	hw_run(d, c, &hw_res);
	memcpy(d->md, d->stage, ARENA);
	model_run(d, c, &model_res);
	bad = compare(d, c, &hw_res, &model_res, false);
	for (unsigned i = 0; bad && i < HW_RETRIES; i++) {
		hw_run(d, c, &hw_res);
		bad = compare(d, c, &hw_res, &model_res, false);
	}
	hw_bad = hw_res.vector >= 0 ? "faulted" : mxcsr_only_spec(c, d->hw + c->op_off);
	md_bad = model_res.vector >= 0 ? "faulted" : mxcsr_only_spec(c, d->md + c->op_off);
	if (!bad && !hw_bad && !md_bad)
		return 0;
	printf("FAIL [mxcsr-only] %s mask=0x%" PRIx64 " load XSTATE_BV=0x%" PRIx64
	       ": hw %s, model %s\n",
	       hw_op_name(c->op), c->mask, c->load_bv, hw_bad ? hw_bad : "as the spec says",
	       md_bad ? md_bad : "as the spec says");
	if (bad)
		compare(d, c, &hw_res, &model_res, true);
	return 1;
}

/* The arena of one case: the load image all initial but SSE (XSTATE_BV = @bv), MXCSR 0x1F80. */
static void mxcsr_only_stage(struct diff *d, struct diff_rng *r, struct dcase *c, uint64_t bv)
{
	memset(c, 0, sizeof(*c));
	fill_canary(r, d->stage, ARENA);
	memset(d->stage + LOAD_OFF, 0, d->std_size);
	diff_st32(d->stage + LOAD_OFF + VX_MXCSR_OFFSET, VX_MXCSR_DEFAULT);
	diff_st64(d->stage + LOAD_OFF + VX_XSTATE_BV_OFFSET, bv);
	diff_st32(d->stage + TOUCH_OFF + VX_MXCSR_OFFSET, MXCSR_ONLY_VALUE);
	c->load_bv = bv;
	c->touch = VX_HW_TOUCH_LDMXCSR;
	c->op_off = LOAD_OFF;
}

/*
 * XRSTOR64 at A with SSE initialized (XSTATE_BV[1] = 0) or loaded as zeros (AMD then tracks it
 * as initial, hardware-behaviour.md A.1), LDMXCSR alone, then XSAVEOPT/XSAVEOPT64 at A (the
 * modified optimization may apply: XRSTOR_INFO matches, §4) or XSAVEC/XSAVEC64 at A, with
 * RFBM = SSE, SSE|AVX and everything.  XSAVES needs CPL0: this user-mode backend cannot run it
 * (test_fpu_fixes checks the model's XSAVES against the spec).
 */
static unsigned mxcsr_only_checks(struct diff *d)
{
	static const enum vx_hw_op ops[] = {VX_HW_OP_XSAVEC, VX_HW_OP_XSAVEC64, VX_HW_OP_XSAVEOPT,
					    VX_HW_OP_XSAVEOPT64};
	const uint64_t masks[] = {SSE, SSE | AVX, UINT64_MAX};
	/* Without XSAVEOPT only the XSAVEC forms run. */
	size_t nops = d->have_xsaveopt ? 4 : 2;
	unsigned failed = 0, ran = 0;
	struct diff_rng r = {diff_case_seed(d->seed, 11, 0)};
	struct dcase c;

	printf("SKIP: XSAVES after XRSTORS and an MXCSR write: XSAVES/XRSTORS need CPL0, the "
	       "backend runs at CPL3\n");
	if (!d->have_xsaveopt)
		printf("SKIP: XSAVEOPT after XRSTOR and an MXCSR write: the CPU has no XSAVEOPT\n");
	for (size_t n = 0; n < nops * 2 * 3; n++) {
		mxcsr_only_stage(d, &r, &c, (n / 3) % 2 ? SSE : 0);
		c.op = ops[n / 6];
		c.mask = masks[n % 3] & (d->xcr0 | SSE);
		failed += mxcsr_only_case(d, &c);
		ran++;
	}
	printf("[mxcsr-only] XRSTOR64, LDMXCSR 0x%x, XSAVEOPT/XSAVEC at the same area: %u cases "
	       "(seed 0x%016" PRIx64 "), %u failed\n",
	       MXCSR_ONLY_VALUE, ran, d->seed, failed);
	return failed;
}

/* ------------------------------------------------------------------------------------------ */
/* Driver                                                                                     */

typedef void (*gen_fn)(struct diff *d, struct dcase *c, struct diff_rng *r);
static const gen_fn generators[CAT_COUNT] = {gen_case_a, gen_case_b, gen_case_c};

static void run_case(struct diff *d, unsigned cat, uint64_t index, bool force_print)
{
	struct dcase c;
	struct diff_rng r;

	memset(&c, 0, sizeof(c));
	c.cat = cat;
	c.index = index;
	c.seed = diff_case_seed(d->seed, cat, index);
	r.s = c.seed;
	generators[cat](d, &c, &r);

	hw_run(d, &c, &hw_res);
	memcpy(d->md, d->stage, ARENA);
	model_run(d, &c, &model_res);
	d->ran[cat]++;
	if (hw_res.vector >= 0)
		d->hw_faults[cat]++;
	if (cat == CAT_B && hw_res.vector >= 0 && hw_res.vector < 32)
		d->b_by_vector[hw_res.vector]++;
	if (cat == CAT_C && hw_res.regs.xinuse_valid)
		d->c_xinuse_hist[hw_res.regs.xinuse & 0xFF]++;
	check_hw_xinuse(d, &c, &hw_res);

	if (compare(d, &c, &hw_res, &model_res, false) == 0) {
		if (force_print) {
			describe(d, &c);
			printf("  (agree: hw vector %d, XINUSE 0x%" PRIx64 ")\n", hw_res.vector,
			       hw_res.regs.xinuse);
		}
		return;
	}
	/* A context switch between the load and the read-back can change XINUSE or drop
	 * XSAVEOPT's tracking (cpu_hw.h): re-run the hardware before calling it a bug. */
	for (unsigned i = 0; i < HW_RETRIES; i++) {
		hw_run(d, &c, &hw_res);
		if (compare(d, &c, &hw_res, &model_res, false) == 0) {
			d->retried[cat]++;
			return;
		}
	}
	d->failures[cat]++;
	count_signature(d, &c);
	if (d->failures[cat] <= MAX_FAILURES || force_print)
		compare(d, &c, &hw_res, &model_res, true);
}

/* (b)'s pool: real XSAVE/XSAVE64/XSAVEC/XSAVEC64 output of random states. */
static int build_pool(struct diff *d)
{
	static const enum vx_hw_op ops[] = {VX_HW_OP_XSAVE64, VX_HW_OP_XSAVE, VX_HW_OP_XSAVEC64,
					    VX_HW_OP_XSAVEC};

	for (unsigned p = 0; p < POOL_SIZE; p++) {
		struct diff_rng r = {diff_case_seed(d->seed, 7, p)};
		struct dcase c;

		memset(&c, 0, sizeof(c));
		memset(d->stage, 0, ARENA);
		c.load_bv = gen_state(d, &r, d->stage + LOAD_OFF);
		if (diff_chance(&r, 30))
			gen_touches(d, &c, &r, 40);
		c.op = ops[p % 4];
		c.op_off = OP_OFF;
		c.mask = diff_chance(&r, 60) ? UINT64_MAX : gen_mask(d, &r);
		hw_run(d, &c, &hw_res);
		if (hw_res.vector >= 0) {
			fprintf(stderr, "pool entry %u: %s faulted (vector %d, stage %d)\n", p,
				hw_op_name(c.op), hw_res.vector, (int)hw_res.stage);
			return -1;
		}
		memcpy(d->pool[p], d->hw + OP_OFF, REGION);
	}
	return 0;
}

static bool find_regs(struct diff *d)
{
	char name[16];

#define LOOKUP(dst, ...)                                                                           \
	do {                                                                                       \
		snprintf(name, sizeof(name), __VA_ARGS__);                                         \
		(dst) = vx_reg_lookup(name);                                                       \
		if (!(dst)) {                                                                      \
			fprintf(stderr, "model register '%s' not found\n", name);                  \
			return false;                                                              \
		}                                                                                  \
	} while (0)
	for (unsigned i = 0; i < 16; i++) {
		LOOKUP(d->xmm[i], "xmm%u", i);
		LOOKUP(d->ymmh[i], "ymmh%u", i);
		LOOKUP(d->zmmh[i], "zmmh%u", i);
		LOOKUP(d->hi16[i], "zmm%u", i + 16);
	}
	for (unsigned i = 0; i < 8; i++) {
		LOOKUP(d->k[i], "k%u", i);
		LOOKUP(d->st[i], "st%u", i);
	}
	LOOKUP(d->mxcsr, "mxcsr");
	LOOKUP(d->fsw, "fsw");
	{
		static const char *const x87[] = {"fcw", "fsw", "ftw", "fop",
						  "fip", "fcs", "fdp", "fds"};

		for (unsigned i = 0; i < 8; i++) {
			LOOKUP(d->x87_regs[i], "%s", x87[i]);
			d->x87_regs[8 + i] = d->st[i];
		}
		d->x87_count = 16;
	}
#undef LOOKUP
	return true;
}

static int setup_model(struct diff *d)
{
	struct vx_profile profile;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cpu_control ctl;
	struct vx_event ev = {0};
	int rc;

	rc = vx_profile_from_host(&profile, &err);
	if (rc) {
		fprintf(stderr, "vx_profile_from_host: %d %s\n", rc, err.reason);
		return rc;
	}
	if ((rc = vx_cpu_create(&profile, NULL, &d->tmpl, &err)) != 0 ||
	    (rc = vx_cpu_create(&profile, NULL, &d->cpu, &err)) != 0 ||
	    (rc = vx_cpu_create(&profile, NULL, &d->scratch, &err)) != 0) {
		fprintf(stderr, "vx_cpu_create: %d %s\n", rc, err.reason);
		return rc;
	}
	/* XSETBV(0, host XCR0) at CPL 0, then user mode as the backend runs: CPL 3, 64-bit,
	 * CR0.AM = 1 (Linux), EFLAGS.AC = 0. */
	rc = vx_cpu_xsetbv(d->tmpl, 0, d->xcr0, &ev);
	if (rc) {
		fprintf(stderr, "model XSETBV(0x%" PRIx64 "): %d %s\n", d->xcr0, rc, ev.reason);
		return -EINVAL;
	}
	vx_cpu_get_control(d->tmpl, &ctl);
	ctl.cpl = 3;
	ctl.mode = VX_MODE_64BIT;
	ctl.cr0 |= VX_CR0_AM;
	ctl.eflags_ac = false;
	rc = vx_cpu_set_control(d->tmpl, &ctl, &ev);
	if (rc) {
		fprintf(stderr, "model set_control: %d %s\n", rc, ev.reason);
		return -EINVAL;
	}
	if (!find_regs(d))
		return -ENOENT;
	return 0;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "%s: not a number: '%s'\n", name, s);
		exit(2);
	}
	return v;
}

static int skip(const char *why)
{
	printf("skipped: %s\n", why);
	return 77;
}

#if !defined(__x86_64__) || !defined(__linux__)
int main(void)
{
	return skip("the differential test needs x86-64 Linux (the hardware backend)");
}
#else
int main(void)
{
	static struct diff dd;
	struct diff *d = &dd;
	uint64_t total;
	const char *only = getenv("VXSAVE_DIFF_ONLY");
	unsigned failed = 0;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!vx_hw_supported())
		return skip("hardware backend not compiled in");
	if (vx_hw_host_query(&d->host) != 0 || !d->host.has_xsave || !d->host.has_osxsave)
		return skip("the CPU or OS does not enable XSAVE");
	if (!d->host.has_xsavec)
		return skip("the CPU has no XSAVEC");
	if (!d->host.has_xgetbv1)
		return skip("the CPU has no XGETBV with ECX=1");
	d->have_xsaveopt = d->host.has_xsaveopt;
	d->xcr0 = d->host.xcr0 & VX_HW_READABLE_COMPONENTS;
	if (d->xcr0 != d->host.xcr0)
		return skip("XCR0 enables components the backend cannot read back (MPX/AMX)");
	if (d->host.xcr0 & VX_BIT(9))
		return skip("PKRU enabled: the random load images would change PKRU under the "
			    "harness (not supported yet)");
	d->std_size = d->host.std_size;
	if (d->std_size + 64 > REGION)
		return skip("standard XSAVE size too large for the harness regions");
	rc = vx_hw_open();
	if (rc)
		return skip("vx_hw_open failed");

	d->hw = aligned_alloc(4096, ARENA);
	d->md = aligned_alloc(4096, ARENA);
	d->stage = aligned_alloc(4096, ARENA);
	d->scratch_area = aligned_alloc(4096, REGION);
	if (!d->hw || !d->md || !d->stage || !d->scratch_area) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	d->mem.bytes = d->md;
	d->mem.size = ARENA;
	d->mem.base = (uint64_t)(uintptr_t)d->hw;
	if (setup_model(d) != 0)
		return 1;

	d->seed = env_u64("VXSAVE_DIFF_SEED", DEFAULT_SEED);
	d->max_failures = (unsigned)env_u64("VXSAVE_DIFF_MAX_FAILURES", MAX_FAILURES);
	total = env_u64("VXSAVE_DIFF_CASES", DIFF_ASAN ? DEFAULT_CASES_ASAN : DEFAULT_CASES);
	d->planned[CAT_A] = total * 6 / 10;
	d->planned[CAT_B] = total * 3 / 10;
	d->planned[CAT_C] = total - d->planned[CAT_A] - d->planned[CAT_B];
	printf("differential test: model vs %s family %u model %u, XCR0 0x%" PRIx64
	       ", standard size %u%s\n",
	       d->host.vendor, d->host.family, d->host.model, d->xcr0, d->std_size,
	       DIFF_ASAN ? " (ASan build)" : "");
	printf("base seed=0x%016" PRIx64 ", %" PRIu64 " cases (a=%" PRIu64 " b=%" PRIu64
	       " c=%" PRIu64 ")\n",
	       d->seed, total, d->planned[CAT_A], d->planned[CAT_B], d->planned[CAT_C]);

	if (build_pool(d) != 0)
		return 1;
	if (!(only && *only))
		failed += mxcsr_only_checks(d);

	if (only && *only) {
		char letter = only[0];
		unsigned cat = letter == 'a' ? CAT_A : letter == 'b' ? CAT_B : CAT_C;

		if (only[1] != ':' || (letter != 'a' && letter != 'b' && letter != 'c')) {
			fprintf(stderr, "VXSAVE_DIFF_ONLY: expected a:N, b:N or c:N\n");
			return 2;
		}
		d->verbose = true;
		run_case(d, cat, strtoull(only + 2, NULL, 0), true);
		vx_hw_close();
		return d->failures[cat] ? 1 : 0;
	}

	for (unsigned cat = 0; cat < CAT_COUNT; cat++) {
		double t0 = now_seconds();

		for (uint64_t i = 0; i < d->planned[cat]; i++) {
			run_case(d, cat, i, false);
			if (d->failures[cat] >= d->max_failures) {
				printf("[%c] stopping after %u failures\n", cat_letter[cat],
				       d->max_failures);
				break;
			}
		}
		d->seconds[cat] = now_seconds() - t0;
	}

	printf("\nsummary (seed 0x%016" PRIx64 "):\n", d->seed);
	for (unsigned cat = 0; cat < CAT_COUNT; cat++) {
		printf("  [%c] %-46s %7" PRIu64 " cases, %5.2f s, %u failed, %" PRIu64
		       " hw faults, %u agreed only on a hw re-run\n",
		       cat_letter[cat], cat_title[cat], d->ran[cat], d->seconds[cat],
		       d->failures[cat], d->hw_faults[cat], d->retried[cat]);
		failed += d->failures[cat];
	}
	printf("  [a] ops:");
	for (unsigned op = VX_HW_OP_XSAVE; op <= VX_HW_OP_XSAVEC64; op++)
		printf(" %s=%" PRIu64, hw_op_name((enum vx_hw_op)op), d->a_by_op[op]);
	printf("; area: fresh=%" PRIu64 " same-as-pre-XRSTOR=%" PRIu64 " same-as-load=%" PRIu64
	       "\n",
	       d->a_other, d->a_same_addr, d->a_load_addr);
	printf("  [b] standard=%" PRIu64 " compacted=%" PRIu64 " misaligned=%" PRIu64
	       "; hw faults #GP=%" PRIu64 " #PF=%" PRIu64 " other=%" PRIu64 "\n",
	       d->b_standard, d->b_compacted, d->b_misaligned, d->b_by_vector[VX_VEC_GP],
	       d->b_by_vector[VX_VEC_PF],
	       d->hw_faults[CAT_B] - d->b_by_vector[VX_VEC_GP] - d->b_by_vector[VX_VEC_PF]);
	printf("  [c] distinct XINUSE values seen:");
	for (unsigned v = 0; v < 256; v++)
		if (d->c_xinuse_hist[v])
			printf(" %02x", v);
	printf("\n");
	for (unsigned cat = 0; cat < CAT_COUNT; cat++)
		for (unsigned i = 0; i < 32 && d->sig[cat][i].count; i++)
			printf("  [%c] %5u x %s(first: case %" PRIu64 ")\n", cat_letter[cat],
			       d->sig[cat][i].count, d->sig[cat][i].text,
			       d->sig[cat][i].first_case);
	if (d->hw_arch_violations)
		printf("  NOTE: %u hardware XINUSE=0-but-not-init observations (arch.md §4)\n",
		       d->hw_arch_violations);
	printf("%s: %" PRIu64 " cases, %u disagreement(s)\n", failed ? "FAILED" : "PASSED",
	       d->ran[CAT_A] + d->ran[CAT_B] + d->ran[CAT_C], failed);

	vx_cpu_destroy(d->cpu);
	vx_cpu_destroy(d->tmpl);
	vx_cpu_destroy(d->scratch);
	free(d->scratch_area);
	free(d->hw);
	free(d->md);
	free(d->stage);
	vx_hw_close();
	return failed ? 1 : 0;
}
#endif
