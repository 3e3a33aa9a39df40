/* SPDX-License-Identifier: MIT */
/*
 * ia32 signal frames on model CPUs (linux-fpu.md §4, §7.2, §8.4): the 112-byte fsave header in
 * front of the same FXSAVE/XSAVE part as a 64-bit frame, its fields worked out by hand for a
 * known x87 state (tag word from the register classes, selectors, status, magic), sizes with
 * and without XSAVE, refusals, and sigreturn: the header's x87 state wins over the FXSAVE part,
 * FX-only and SIGSEGV outcomes, supervisor state kept, @fps never written.  The real kernel is
 * asked in test_fpu_ia32_diff.c.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>

#include "fpu_uabi_util.h"

#define PATTERN 0xA5
#define HDR	VX_FSAVE_HEADER_SIZE

/* The header starts 16 bytes into a 64-byte line, so the XSAVE part after it is aligned. */
static _Alignas(64) uint8_t area[U_AREA_MAX + 64], frame64[U_AREA_MAX], img[U_AREA_MAX];
static uint8_t *const frame = area + 16;

/* x87 values of each class (80-bit: 8 bytes significand, 2 bytes sign|exponent). */
static const uint8_t ONE[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x3F};		/* valid */
static const uint8_t ZERO[10] = {0};						/* zero */
static const uint8_t INF[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x7F};		/* special */
static const uint8_t DENORMAL[10] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0};		/* special */
static const uint8_t TWO[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0x40};		/* valid */
static const uint8_t UNNORMAL[10] = {0x55, 0, 0, 0, 0, 0, 0, 0x40, 0x00, 0x40}; /* special */

/*
 * A known state: FCW 0x037F, TOP = 5 (FSW 0x2800), abridged tag 0xAD = physical registers 0, 2,
 * 3, 5, 7 in use.  Physical i is ST((i - 5) & 7): phys 5 = ST0 = 1.0 (valid), phys 7 = ST2 = +0
 * (zero), phys 0 = ST3 = +inf (special), phys 2 = ST5 = a denormal (special), phys 3 = ST6 = an
 * unnormal (special: integer bit clear).  ST1 and ST4 (2.0) hold values but are empty.  XMM0 =
 * 0x11.., YMMH0 = 0x22.. when AVX is there, MXCSR 0x1FA0.
 */
static void load_known(struct u_env *e, struct vx_cpu *cpu)
{
	uint64_t bv = 0x7 & vx_cpu_xcr0(cpu);

	memset(img, 0, sizeof(img));
	u_wr32(img, 0x2800037F);
	img[4] = 0xAD;
	memcpy(img + 32 + 16 * 0, ONE, 10);
	memcpy(img + 32 + 16 * 1, TWO, 10); /* ST1: phys 6, empty */
	memcpy(img + 32 + 16 * 2, ZERO, 10);
	memcpy(img + 32 + 16 * 3, INF, 10);
	memcpy(img + 32 + 16 * 4, TWO, 10); /* ST4: phys 1, empty */
	memcpy(img + 32 + 16 * 5, DENORMAL, 10);
	memcpy(img + 32 + 16 * 6, UNNORMAL, 10);
	u_wr32(img + 24, 0x1FA0);
	memset(img + 160, 0x11, 16);
	memset(img + 576, 0x22, 16);
	u_wr64(img + 512, bv);
	(void)e;
	assert_int_equal(vx_cpu_from_standard_image(cpu, vx_cpu_xcr0(cpu), img, sizeof(img)), 0);
}

/*
 * Full tag word, two bits per physical register from 0 up (00 valid, 01 zero, 10 special,
 * 11 empty): p0 10, p1 11, p2 10, p3 10, p4 11, p5 00, p6 11, p7 01 → 0111 0011 1010 1110.
 */
#define KNOWN_TWD 0x73AEu

static void write_ia32(struct u_env *e, struct vx_cpu *cpu, uint8_t *f, size_t len, int want)
{
	struct vx_error err = VX_ERROR_INIT;

	assert_int_equal(vx_fpu_copy_fpstate_to_sigframe_abi(e->sys, cpu, e->fps, 0,
							     VX_SIGFRAME_IA32, f, len, &err),
			 want);
}

/* §4, §8.4: sizes of both formats; the ABI parameter is checked. */
static void test_sizes(void **state)
{
	(void)state;
	for (unsigned p = 0; p < U_NPROFILES; p++) {
		struct u_env e;
		struct vx_error err = VX_ERROR_INIT;
		enum vx_sigreturn_outcome o;
		uint32_t u;

		u_boot(&e, u_profiles[p], false);
		u = e.fps->user_size;
		assert_int_equal(vx_fpu_sigframe_size_abi(e.sys, e.fps, VX_SIGFRAME_64), u + 4);
		assert_int_equal(vx_fpu_sigframe_size_abi(e.sys, e.fps, VX_SIGFRAME_IA32),
				 u + 4 + 112);
		assert_int_equal(vx_fpu_sigframe_size_abi(e.sys, e.fps, (enum vx_sigframe_abi)2),
				 0);
		assert_int_equal(vx_fpu_copy_fpstate_to_sigframe_abi(e.sys, e.cpu, e.fps, 0,
								     (enum vx_sigframe_abi)2, frame,
								     U_AREA_MAX, &err),
				 -EINVAL);
		assert_int_equal(vx_fpu_restore_sig_abi(e.sys, e.cpu, e.fps,
							(enum vx_sigframe_abi)7, frame, U_AREA_MAX,
							&o, &err),
				 -EINVAL);
		u_free(&e);
	}
}

/* The header of the known state, field by field; the XSAVE part is the 64-bit frame's. */
static void test_header_fields(void **state)
{
	(void)state;
	for (unsigned p = 0; p < U_NPROFILES; p++) {
		struct u_env e;
		struct vx_error err = VX_ERROR_INIT;
		struct vx_fpx_sw_bytes sw;
		uint32_t u;

		u_boot(&e, u_profiles[p], false);
		u = e.fps->user_size;
		load_known(&e, e.cpu);
		memset(area, PATTERN, sizeof(area));
		write_ia32(&e, e.cpu, frame, HDR + u + 4, 0);
		assert_int_equal(u_rd32(frame + 0), 0xFFFF037F); /* cwd */
		assert_int_equal(u_rd32(frame + 4), 0xFFFF2800); /* swd */
		assert_int_equal(u_rd32(frame + 8), 0xFFFF0000 | KNOWN_TWD);
		assert_int_equal(u_rd32(frame + 12), 0);	   /* fip: no exception pending */
		assert_int_equal(u_rd32(frame + 16), 0x23);	   /* fcs: __USER32_CS */
		assert_int_equal(u_rd32(frame + 20), 0);	   /* foo */
		assert_int_equal(u_rd32(frame + 24), 0xFFFF002B);  /* fos: __USER_DS */
		assert_memory_equal(frame + 28 + 10 * 0, ONE, 10); /* ST0, packed */
		assert_memory_equal(frame + 28 + 10 * 1, TWO, 10);
		assert_memory_equal(frame + 28 + 10 * 3, INF, 10);
		assert_memory_equal(frame + 28 + 10 * 5, DENORMAL, 10);
		assert_memory_equal(frame + 28 + 10 * 6, UNNORMAL, 10);
		assert_int_equal(frame[108] | frame[109] << 8, 0x2800); /* status = FSW */
		assert_int_equal(frame[110] | frame[111] << 8, 0);	/* X86_FXSR_MAGIC */
		/* The XSAVE part: 64-bit frame bytes, extended_size + 112. */
		assert_true(vx_fpx_sw_bytes_read(frame + HDR, u + 4, &sw));
		assert_int_equal(sw.extended_size, u + 4 + 112);
		assert_int_equal(sw.xstate_size, u);
		assert_int_equal(u_rd32(frame + HDR + u), VX_FP_XSTATE_MAGIC2);
		memset(frame64, PATTERN, sizeof(frame64));
		assert_int_equal(
		    vx_fpu_copy_fpstate_to_sigframe(e.sys, e.cpu, e.fps, 0, frame64, u + 4, &err),
		    0);
		assert_memory_equal(frame + HDR, frame64, 468);
		assert_memory_equal(frame + HDR + 472, frame64 + 472, u + 4 - 472);
		assert_int_equal(area[16 + HDR + u + 4], PATTERN); /* nothing past the frame */
		u_free(&e);
	}
}

/* Refusals write nothing: short, misaligned (the XSAVE part must be 64-byte aligned). */
static void test_refusals(void **state)
{
	struct u_env e;
	uint32_t n;

	(void)state;
	u_boot(&e, "zen4", false);
	n = vx_fpu_sigframe_size_abi(e.sys, e.fps, VX_SIGFRAME_IA32);
	memset(area, PATTERN, sizeof(area));
	write_ia32(&e, e.cpu, frame, n - 1, -EFAULT);
	write_ia32(&e, e.cpu, area, n, -EFAULT);      /* XSAVE part at 112: misaligned */
	write_ia32(&e, e.cpu, frame + 8, n, -EFAULT); /* at 136 */
	write_ia32(&e, e.cpu, NULL, n, -EFAULT);
	for (size_t b = 0; b < sizeof(area); b++)
		assert_int_equal(area[b], PATTERN);
	u_free(&e);
}

static enum vx_sigreturn_outcome restore(struct u_env *e, const uint8_t *f, size_t len)
{
	enum vx_sigreturn_outcome o = (enum vx_sigreturn_outcome) - 1;
	struct vx_error err = VX_ERROR_INIT;

	u_random_state(e, e->cpu2, e->fps->user_xfeatures); /* the handler's registers */
	assert_int_equal(
	    vx_fpu_restore_sig_abi(e->sys, e->cpu2, e->fps, VX_SIGFRAME_IA32, f, len, &o, &err), 0);
	return o;
}

static void reg(struct vx_cpu *cpu, const char *name, void *value)
{
	const struct vx_reg_info *r = vx_reg_lookup(name);

	assert_non_null(r);
	assert_int_equal(vx_cpu_get_reg(cpu, r, value, r->width), 0);
}

/* Round trips of random states on every profile: the registers come back. */
static void test_roundtrip(void **state)
{
	(void)state;
	for (unsigned p = 0; p < U_NPROFILES; p++) {
		struct u_env e;
		char where[128];
		uint32_t n;

		u_boot(&e, u_profiles[p], false);
		n = vx_fpu_sigframe_size_abi(e.sys, e.fps, VX_SIGFRAME_IA32);
		for (int i = 0; i < 30; i++) {
			uint32_t pkru = 0;

			u_random_state(&e, e.cpu, e.fps->user_xfeatures);
			if (e.fps->user_xfeatures & U_PKRU)
				reg(e.cpu, "pkru", &pkru);
			assert_int_equal(vx_fpu_copy_fpstate_to_sigframe_abi(e.sys, e.cpu, e.fps,
									     pkru, VX_SIGFRAME_IA32,
									     frame, n, NULL),
					 0);
			assert_int_equal(restore(&e, frame, n), VX_SIGRETURN_XSTATE);
			if (vx_cpu_compare(e.cpu, e.cpu2, e.fps->user_xfeatures, where,
					   sizeof(where)))
				fail_msg("%s case %d: %s", u_profiles[p], i, where);
		}
		u_free(&e);
	}
}

/*
 * The fold (measured on this machine's kernel): the header's FCW, ST registers and tag word
 * replace the FXSAVE part's; the FXSAVE part's x87 bytes are ignored, its XMM are taken.
 */
static void test_header_wins(void **state)
{
	static const uint8_t SEVEN[10] = {0, 0, 0, 0, 0, 0, 0, 0xE0, 0x01, 0x40}; /* 7.0 */
	struct u_env e;
	uint8_t st[10], xmm[16], ftw = 0xFF;
	uint16_t fcw = 0;
	uint32_t n;

	(void)state;
	u_boot(&e, "zen4", false);
	n = vx_fpu_sigframe_size_abi(e.sys, e.fps, VX_SIGFRAME_IA32);
	load_known(&e, e.cpu);
	write_ia32(&e, e.cpu, frame, n, 0);
	memcpy(frame + 28, SEVEN, 10);		      /* header ST0 := 7.0 */
	frame[0] = 0x7B, frame[1] = 0x02;	      /* header cwd := 0x027B */
	memset(frame + HDR + 32 + 16, 0xEE, 10);      /* FXSAVE ST1: ignored */
	frame[HDR + 0] = 0x7F, frame[HDR + 1] = 0x00; /* FXSAVE FCW: ignored */
	memset(frame + HDR + 160 + 16, 0x33, 16);     /* FXSAVE XMM1: taken */
	assert_int_equal(restore(&e, frame, n), VX_SIGRETURN_XSTATE);
	reg(e.cpu2, "st0", st);
	assert_memory_equal(st, SEVEN, 10);
	reg(e.cpu2, "st1", st);
	assert_memory_equal(st, TWO, 10);
	reg(e.cpu2, "fcw", &fcw);
	assert_int_equal(fcw, 0x027B);
	reg(e.cpu2, "xmm1", xmm);
	assert_int_equal(xmm[0], 0x33);
	reg(e.cpu2, "ftw", &ftw);
	assert_int_equal(ftw, 0xAD);
	/* Tag word "all empty" in the header: abridged 0 (every register empty). */
	write_ia32(&e, e.cpu, frame, n, 0);
	frame[8] = 0xFF, frame[9] = 0xFF;
	assert_int_equal(restore(&e, frame, n), VX_SIGRETURN_XSTATE);
	reg(e.cpu2, "ftw", &ftw);
	assert_int_equal(ftw, 0);
	u_free(&e);
}

/* FX-only (magic1 broken): x87 from the header, XMM/MXCSR from the FXSAVE part, YMM init. */
static void test_fx_only_and_segv(void **state)
{
	struct u_env e;
	uint8_t st[10], xmm[16], ymmh[16], zero[16] = {0};
	uint32_t n, mxcsr = 0;

	(void)state;
	u_boot(&e, "zen4", false);
	n = vx_fpu_sigframe_size_abi(e.sys, e.fps, VX_SIGFRAME_IA32);
	load_known(&e, e.cpu);
	write_ia32(&e, e.cpu, frame, n, 0);
	frame[HDR + 464] ^= 1;
	assert_int_equal(restore(&e, frame, n), VX_SIGRETURN_FX_ONLY);
	reg(e.cpu2, "st0", st);
	assert_memory_equal(st, ONE, 10);
	reg(e.cpu2, "xmm0", xmm);
	assert_int_equal(xmm[0], 0x11);
	reg(e.cpu2, "mxcsr", &mxcsr);
	assert_int_equal(mxcsr, 0x1FA0);
	reg(e.cpu2, "ymmh0", ymmh);
	assert_memory_equal(ymmh, zero, 16);
	/* A reserved MXCSR bit in the FX-only image: SIGSEGV. */
	u_wr32(frame + HDR + 24, 0x1F80 | VX_BIT(20));
	assert_int_equal(restore(&e, frame, n), VX_SIGRETURN_SEGV);
	/* §7.2 checks of copy_sigframe_from_user_to_xstate(): each one → SIGSEGV. */
	write_ia32(&e, e.cpu, frame, n, 0);
	u_wr64(frame + HDR + 512, u_rd64(frame + HDR + 512) | VX_BIT(40));
	assert_int_equal(restore(&e, frame, n), VX_SIGRETURN_SEGV);
	write_ia32(&e, e.cpu, frame, n, 0);
	u_wr64(frame + HDR + 520, VX_XCOMP_BV_COMPACTED | 7);
	assert_int_equal(restore(&e, frame, n), VX_SIGRETURN_SEGV);
	write_ia32(&e, e.cpu, frame, n, 0);
	frame[HDR + 560] = 1;
	assert_int_equal(restore(&e, frame, n), VX_SIGRETURN_SEGV);
	/* Shorter than its fsave header; NULL → cleared. */
	assert_int_equal(restore(&e, frame, HDR - 1), VX_SIGRETURN_SEGV);
	assert_int_equal(restore(&e, NULL, 0), VX_SIGRETURN_CLEARED);
	u_free(&e);
}

/*
 * The kernel saves the handler's registers into the fpstate before copying the frame in when
 * it has supervisor states (zen4: CET_U): U_CET and PL3_SSP survive the ia32 sigreturn, and
 * @fps itself is not written.
 */
static void test_supervisor_kept(void **state)
{
	struct u_env e;
	struct vx_error err = VX_ERROR_INIT;
	enum vx_sigreturn_outcome o;
	uint64_t u_cet = 1, ssp = UINT64_C(0x7ffff000), got = 0;
	uint8_t before[4096];
	uint32_t n;

	(void)state;
	u_boot(&e, "zen4", false);
	n = vx_fpu_sigframe_size_abi(e.sys, e.fps, VX_SIGFRAME_IA32);
	assert_true(e.fps->size <= sizeof(before));
	memcpy(before, e.fps->regs, e.fps->size);
	load_known(&e, e.cpu);
	write_ia32(&e, e.cpu, frame, n, 0);
	assert_int_equal(vx_cpu_set_reg(e.cpu2, vx_reg_lookup("u_cet"), &u_cet, 8, NULL), 0);
	assert_int_equal(vx_cpu_set_reg(e.cpu2, vx_reg_lookup("pl3_ssp"), &ssp, 8, NULL), 0);
	assert_int_equal(
	    vx_fpu_restore_sig_abi(e.sys, e.cpu2, e.fps, VX_SIGFRAME_IA32, frame, n, &o, &err), 0);
	assert_int_equal(o, VX_SIGRETURN_XSTATE);
	reg(e.cpu2, "u_cet", &got);
	assert_int_equal(got, 1);
	reg(e.cpu2, "pl3_ssp", &got);
	assert_int_equal(got, ssp);
	assert_memory_equal(before, e.fps->regs, e.fps->size);
	u_free(&e);
}

/* No XSAVE: 112 + 512 bytes, the FXSAVE image after the header, FX-only round trip. */
static void test_no_xsave(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;
	struct vx_cpuid_regs r;
	struct u_env e;
	char where[128];
	uint8_t st[10];

	(void)state;
	assert_int_equal(vx_profile_builtin(&p, "zen4", &err), 0);
	r = vx_profile_leaf(&p, 1, 0);
	r.ecx &= ~(1u << 26);
	assert_int_equal(vx_profile_set_leaf(&p, 1, 0, &r), 0);
	u_boot_profile(&e, &p, false);
	assert_int_equal(vx_fpu_sigframe_size_abi(e.sys, e.fps, VX_SIGFRAME_IA32), 112 + 512);
	load_known(&e, e.cpu);
	memset(area, PATTERN, sizeof(area));
	write_ia32(&e, e.cpu, frame, 112 + 512, 0);
	assert_int_equal(u_rd32(frame + 8), 0xFFFF0000 | KNOWN_TWD);
	assert_int_equal(frame[HDR + 4], 0xAD);
	assert_int_equal(frame[HDR + 464], PATTERN); /* no software bytes */
	assert_int_equal(restore(&e, frame, 112 + 512), VX_SIGRETURN_FX_ONLY);
	if (vx_cpu_compare(e.cpu, e.cpu2, 0x3, where, sizeof(where)))
		fail_msg("%s", where);
	reg(e.cpu2, "st3", st);
	assert_memory_equal(st, INF, 10);
	u_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes),	    cmocka_unit_test(test_header_fields),
	    cmocka_unit_test(test_refusals),	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_header_wins),	    cmocka_unit_test(test_fx_only_and_segv),
	    cmocka_unit_test(test_supervisor_kept), cmocka_unit_test(test_no_xsave),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
