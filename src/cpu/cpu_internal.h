/* SPDX-License-Identifier: MIT */
/*
 * The private layout of struct vx_cpu and the helpers the cpu layer's files share.
 *
 * One allocation per processor (vx_cpu_create): the struct followed by the bytes of every
 * component numbered 2 and up, each in its standard-format image.  x87 and SSE live in a
 * 512-byte legacy image with FIP/FDP kept in their 64-bit form and FCS/FDS separately, so an
 * XSAVE64 or XSAVEC of them is one copy.
 */
#ifndef VXSAVE_CPU_INTERNAL_H
#define VXSAVE_CPU_INTERNAL_H

#include <stdarg.h>
#include <string.h>

#include <vxsave/cpu.h>

/* Legacy-region fields (arch.md §2.2). */
#define LEG_FCW		  0u
#define LEG_FSW		  2u
#define LEG_FTW		  4u
#define LEG_FOP		  6u
#define LEG_FIP		  8u
#define LEG_FCS		  12u
#define LEG_FDP		  16u
#define LEG_FDS		  20u
#define LEG_ST0		  32u
#define LEG_ST_STRIDE	  16u
#define LEG_ST_BYTES	  10u
#define LEG_XMM_END	  416u
#define LEG_XMM_END_32BIT 288u /* XMM0-7 only outside 64-bit mode (§2.2) */
#define FSW_ES		  0x80u
#define U_CET_OFFSET	  0u
#define PL3_SSP_OFFSET	  8u

#define MASK_X87    VX_BIT(VX_COMP_X87)
#define MASK_SSE    VX_BIT(VX_COMP_SSE)
#define MASK_AVX    VX_BIT(VX_COMP_AVX)
#define MASK_LEGACY (MASK_X87 | MASK_SSE)

/* What the profile says, decoded once at create so the instructions never parse CPUID. */
struct cpu_facts {
	uint64_t xcr0_supported;
	uint64_t xss_supported;
	uint64_t xfd_supported;
	uint64_t stored;     /* components >= 2 that have bytes in the cpu */
	uint64_t align64;    /* CPUID.(0xD,i).ECX[1] */
	uint64_t supervisor; /* vx_supervisor_components(), kept here: the table walk is slow */
	uint32_t size[VX_COMP_LIMIT];		 /* CPUID.(0xD,i).EAX: bytes in an area */
	uint32_t standard_offset[VX_COMP_LIMIT]; /* CPUID.(0xD,i).EBX */
	uint32_t store_offset[VX_COMP_LIMIT];	 /* where the bytes are in cpu->bytes */
	uint32_t store_size[VX_COMP_LIMIT];	 /* >= size; MSR-backed components get room */
	uint8_t stored_list[VX_COMP_LIMIT];	 /* components in @stored, ascending */
	uint8_t by_standard_end[VX_COMP_LIMIT];	 /* @stored by standard-format end, descending */
	unsigned stored_count;
	uint32_t mxcsr_mask;
	unsigned linear_address_bits;
	bool xsave, xsaveopt, xsavec, xgetbv1, xsaves, xfd;
	bool cet_ss, cet_ibt, pku, enqcmd, lm, la57;
};

/*
 * Where the architecture leaves freedom, what this model does (docs/cpu-model.md "Choices").
 * Set once at create from the profile; the defaults follow docs/hardware-behaviour.md.
 */
struct cpu_behaviour {
	bool xinuse_clear_on_init_load;	 /* a loaded component equal to its init value: XINUSE=0 */
	bool mxcsr_marks_sse_in_use;	 /* XINUSE[1] reads as 1 while MXCSR != 0x1F80 */
	bool xsaveopt_skips_init;	 /* XSAVEOPT's init optimization */
	bool xsaveopt_skips_unmodified;	 /* XSAVEOPT/XSAVES modified optimization */
	bool misaligned_ac;		 /* #AC instead of #GP at CPL3 with CR0.AM and EFLAGS.AC */
	bool fpu_pointers_only_on_es;	 /* AMD without RstrFpErrPtrs (§2.2) */
	bool fcs_fds_zero;		 /* CPUID.(7,0):EBX[13]: FCS/FDS stored as 0 */
	unsigned fpu_pointer_bits;	 /* FIP/FDP width; narrower values are sign-extended */
	bool mxcsr_write_marks_modified; /* LDMXCSR sets XMODIFIED[1] */
	bool sse_write_sets_avx_inuse;	 /* legacy-SSE write with ZMM_Hi256 in use: XINUSE[2] */
	bool xmm_merge_reevaluates;	 /* Zen 3: see state_note_sse_merge() */
};

/* The architectural state that reset/copy/compare treat as a whole. */
struct cpu_state {
	uint64_t xcr0, xss, xfd, xfd_err;
	uint64_t s_cet, int_ssp_tab, ssp;
	uint64_t xinuse, xmodified;
	struct vx_xrstor_info xrstor_info;
	bool xmm_merge_pending; /* a legacy-SSE write merged into live YMM uppers (Zen 3) */
	uint16_t fcs, fds;
	_Alignas(64) uint8_t legacy[VX_LEGACY_SIZE];
};

/* Compacted offsets for one mask (§2.4), so XSAVEC/XRSTOR do not walk CPUID every time. */
struct compact_layout {
	uint64_t mask; /* bits 2..62; VX_BIT(63) marks an empty slot */
	uint32_t offset[VX_COMP_LIMIT];
	uint32_t size;
};

#define LAYOUT_CACHE_SLOTS 4

/*
 * XRSTOR*'s copies of components >= 2 for one (format, mask): the runs of components that lie
 * back to back both in the area and in the processor's storage (xrstor.c).  Offsets depend
 * only on the format (§2.3/§2.4) and the facts, fixed for the processor's lifetime, so the
 * last plan is reused while the key repeats; all zeros (format 0, mask 0, no run) is valid.
 */
struct restore_runs {
	uint64_t format; /* XCOMP_BV[62:0], or VX_BIT(63) for the standard form */
	uint64_t mask;	 /* the components loaded */
	unsigned count;
	uint32_t area[VX_COMP_LIMIT], store[VX_COMP_LIMIT], len[VX_COMP_LIMIT];
};

struct vx_cpu {
	struct vx_platform platform;
	struct vx_profile profile;
	struct cpu_facts facts;
	struct cpu_behaviour behaviour;
	struct vx_cpu_control control;
	struct cpu_state state;
	struct compact_layout layouts[LAYOUT_CACHE_SLOTS];
	unsigned next_layout_slot;
	struct restore_runs restore_runs; /* xrstor.c's last copy plan */
	size_t bytes_size;
	uint8_t *bytes; /* points into the same allocation, 64-byte aligned */
};

/* ---- cpu.c (the small questions every instruction asks are inline here) ---- */
bool cpu_canonical(const struct vx_cpu *cpu, uint64_t address);

/* Components this processor has: x87, SSE and every component with bytes. */
static inline uint64_t cpu_known_components(const struct vx_cpu *cpu)
{
	return MASK_LEGACY | cpu->facts.stored;
}

static inline bool cpu_in_64bit_mode(const struct vx_cpu *cpu)
{
	return cpu->control.mode == VX_MODE_64BIT;
}

/* §5.0: real mode runs at CPL 0; virtual-8086 mode always at CPL 3. */
static inline unsigned cpu_effective_cpl(const struct vx_cpu *cpu)
{
	if (cpu->control.mode == VX_MODE_REAL)
		return 0;
	if (cpu->control.mode == VX_MODE_V86)
		return 3;
	return cpu->control.cpl;
}

/* Canonical for a @bits-wide linear address: bits 63..bits-1 all equal. */
static inline bool cpu_canonical_in(unsigned bits, uint64_t address)
{
	uint64_t upper;

	if (bits >= 64)
		return true;
	upper = address >> (bits - 1);
	return upper == 0 || upper == (UINT64_MAX >> (bits - 1));
}

/* §5.0: memory operands: canonical for the paging mode, 57 bits only with CR4.LA57 = 1. */
static inline bool cpu_canonical_access(const struct vx_cpu *cpu, uint64_t address)
{
	return cpu_canonical_in(cpu->control.cr4 & VX_CR4_LA57 ? 57 : 48, address);
}

static inline uint8_t *component_bytes(struct vx_cpu *cpu, unsigned component)
{
	return cpu->bytes + cpu->facts.store_offset[component];
}

static inline const uint8_t *component_bytes_const(const struct vx_cpu *cpu, unsigned component)
{
	return cpu->bytes + cpu->facts.store_offset[component];
}

/*
 * memcpy() through the C library's vector copy even when @n is a compile-time constant: gcc
 * expands a constant-size copy of a few hundred bytes into `rep movsq`, which costs tens of
 * cycles to start on AMD Zen (measured: 45% of a model XSAVEC64, docs/cpu-model.md "Speed").
 */
static inline void copy_block(void *dst, const void *src, size_t n)
{
#ifdef __GNUC__
	__asm__("" : "+r"(n)); /* the size is no longer known to the compiler */
#endif
	memcpy(dst, src, n);
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void store_le64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline uint32_t load_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint16_t load_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void store_le32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void store_le16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline uint32_t cpu_mxcsr(const struct vx_cpu *cpu)
{
	return load_le32(cpu->state.legacy + VX_MXCSR_OFFSET);
}

/* ---- event.c ---- */
void event_clear(struct vx_event *event);
int raise_exception(struct vx_event *event, unsigned vector, enum vx_event_cause cause,
		    const char *rule, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 5, 6)))
#endif
    ;
int raise_page_fault(struct vx_event *event, uint64_t address, bool write);
int raise_vm_exit(struct vx_event *event, uint32_t reason, enum vx_event_cause cause,
		  const char *rule, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* Record the MSR, offending bits and area offset (-1: none) of the event just raised. */
int event_detail(struct vx_event *event, uint32_t msr, uint64_t bits, int64_t offset);

/* ---- state.c: component images, init values, XINUSE ---- */
void state_init_legacy(struct vx_cpu *cpu);
void state_init_component(struct vx_cpu *cpu, unsigned component);
bool state_component_is_init(const struct vx_cpu *cpu, unsigned component);
uint64_t state_xinuse_visible(const struct vx_cpu *cpu);
void state_note_sse_merge(struct vx_cpu *cpu);
void state_resolve_sse_merge(struct vx_cpu *cpu);
uint64_t state_xfd_armed(const struct vx_cpu *cpu);
void state_mark_written(struct vx_cpu *cpu, uint64_t components);
void state_mark_by_value(struct vx_cpu *cpu, unsigned component);

/* ---- layout.c ---- */
const struct compact_layout *layout_compacted(struct vx_cpu *cpu, uint64_t mask);
uint64_t layout_standard_end(const struct vx_cpu *cpu, uint64_t components);

/* ---- access.c: the memory window ---- */
struct area_range {
	uint64_t first; /* first byte accessed, relative to the area */
	uint64_t end;	/* one past the last byte accessed */
};
int area_check_slow(const struct vx_cpu *cpu, const struct vx_memory *mem, uint64_t addr,
		    struct area_range range, bool write, struct vx_event *event);

/*
 * The common case inline: a non-empty range inside the window, canonical (§5.0) - then no
 * fault.  Anything else (empty, outside, non-canonical, wrapping) takes area_check_slow(),
 * which raises the exact fault.
 */
static inline int area_check(const struct vx_cpu *cpu, const struct vx_memory *mem, uint64_t addr,
			     struct area_range range, bool write, struct vx_event *event)
{
	uint64_t first = addr + range.first, last = addr + range.end - 1;

	if (range.end > range.first && first <= last && first >= mem->base &&
	    last - mem->base < mem->size &&
	    (!cpu_in_64bit_mode(cpu) ||
	     (cpu_canonical_access(cpu, first) && cpu_canonical_access(cpu, last))))
		return 0;
	return area_check_slow(cpu, mem, addr, range, write, event);
}
static inline uint8_t *area_bytes(const struct vx_memory *mem, uint64_t addr)
{
	return mem->bytes + (addr - mem->base);
}

/* ---- x87.c (x87_init: state.c): the x87 region's formats ---- */
void x87_save(const struct vx_cpu *cpu, uint8_t *area, bool rex_w);
/* x87 (REX.W form), MXCSR/MXCSR_MASK and XMM0-15: area bytes 0-415 in one copy. */
void x87_save_with_sse64(const struct vx_cpu *cpu, uint8_t *area);
void x87_load(struct vx_cpu *cpu, const uint8_t *area, bool rex_w);
void x87_init(struct vx_cpu *cpu);
uint16_t x87_normalize_fcw(uint16_t fcw);
uint16_t x87_normalize_fsw(uint16_t fsw, uint16_t fcw);

/* ---- msr.c: value checks shared with XRSTORS ---- */
int msr_check_cet_control(const struct vx_cpu *cpu, uint32_t msr, uint64_t value,
			  struct vx_event *event);
int msr_check_ssp(const struct vx_cpu *cpu, uint32_t msr, uint64_t value, struct vx_event *event);
int msr_check_pasid(const struct vx_cpu *cpu, uint64_t value, struct vx_event *event);
/* The MSR whose value is @component's bytes at @offset (IA32_U_CET...), or 0 if none. */
uint32_t msr_of_component_bytes(unsigned component, uint32_t offset);

/* ---- reg.c ---- */
uint8_t *reg_storage(struct vx_cpu *cpu, const struct vx_reg_info *reg, uint32_t *width);
const uint8_t *reg_storage_const(const struct vx_cpu *cpu, const struct vx_reg_info *reg,
				 uint32_t *width);

#endif /* VXSAVE_CPU_INTERNAL_H */
