/* SPDX-License-Identifier: MIT */
/*
 * vxsave `arch` layer: what the architecture says, as plain data and small pure functions.
 *
 *  - the state-component table (components 0-19 and AMD LWP 62): one entry per component,
 *    everything else derives from it (component.c);
 *  - the CPUID feature-flag table (feature.c);
 *  - CPU profiles: a vendor plus the raw CPUID leaves that matter for XSAVE and CET, with typed
 *    accessors, from the live host, from `cpuid -r` dumps, or built in (profile.c, host.c,
 *    cpuid_dump.c, builtin.c);
 *  - layouts: standard and compacted offsets and sizes for any feature mask (layout.c);
 *  - validity rules for XCR0, IA32_XSS and IA32_XFD (rules.c);
 *  - the architectural MSRs' numbers and names (msr_table.c);
 *  - consistency diagnostics for a profile's own leaves (diagnose.c).
 *
 * Facts: ../shared/spec/arch.md; the section is named beside each rule in the sources.
 * Nothing here allocates or has global mutable state.
 */
#ifndef VXSAVE_ARCH_H
#define VXSAVE_ARCH_H

#include <vxsave/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/* State components (arch.md §2.1)                                                             */

enum vx_component_id {
	VX_COMP_X87 = 0,
	VX_COMP_SSE = 1,
	VX_COMP_AVX = 2,
	VX_COMP_BNDREGS = 3,
	VX_COMP_BNDCSR = 4,
	VX_COMP_OPMASK = 5,
	VX_COMP_ZMM_HI256 = 6,
	VX_COMP_HI16_ZMM = 7,
	VX_COMP_PT = 8,
	VX_COMP_PKRU = 9,
	VX_COMP_PASID = 10,
	VX_COMP_CET_U = 11,
	VX_COMP_CET_S = 12,
	VX_COMP_HDC = 13,
	VX_COMP_UINTR = 14,
	VX_COMP_LBR = 15,
	VX_COMP_HWP = 16,
	VX_COMP_XTILECFG = 17,
	VX_COMP_XTILEDATA = 18,
	VX_COMP_APX = 19,
	VX_COMP_LWP = 62,
};

/** Component numbers are below 63; bit 63 of XCOMP_BV is the compacted-format flag (§2.3). */
#define VX_COMP_LIMIT         63
#define VX_XCOMP_BV_COMPACTED VX_BIT(63)

/* Fixed geometry of the XSAVE area (§2.2, §2.3). */
#define VX_LEGACY_SIZE        512u
#define VX_HEADER_OFFSET      512u
#define VX_HEADER_SIZE        64u
#define VX_EXTENDED_OFFSET    576u
#define VX_XSTATE_BV_OFFSET   512u
#define VX_XCOMP_BV_OFFSET    520u
#define VX_MXCSR_OFFSET       24u
#define VX_MXCSR_MASK_OFFSET  28u
#define VX_XMM_OFFSET         160u
#define VX_MXCSR_DEFAULT      0x1F80u
#define VX_FCW_DEFAULT        0x037Fu
#define VX_AREA_ALIGN         64u

/* Register numbers of a CPUID leaf result. */
enum vx_cpuid_reg { VX_EAX = 0, VX_EBX = 1, VX_ECX = 2, VX_EDX = 3 };

/* ----------------------------------------------------------------------------------------- */
/* CPUID feature flags (arch.md §1.1, §1.3, §7.1): one table, feature.c                         */

enum vx_feature {
	VX_FEAT_FPU,
	VX_FEAT_FXSR,
	VX_FEAT_SSE,
	VX_FEAT_XSAVE,
	VX_FEAT_OSXSAVE,
	VX_FEAT_AVX,
	VX_FEAT_FDP_EXCP_ONLY,
	VX_FEAT_FCS_FDS_DEPRECATED,
	VX_FEAT_MPX,
	VX_FEAT_AVX512F,
	VX_FEAT_PT,
	VX_FEAT_PKU,
	VX_FEAT_OSPKE,
	VX_FEAT_CET_SS,
	VX_FEAT_ENQCMD,
	VX_FEAT_UINTR,
	VX_FEAT_ARCH_LBR,
	VX_FEAT_CET_IBT,
	VX_FEAT_AMX_BF16,
	VX_FEAT_AMX_TILE,
	VX_FEAT_AMX_INT8,
	VX_FEAT_AMX_FP16,
	VX_FEAT_AMX_COMPLEX,
	VX_FEAT_CET_SSS,
	VX_FEAT_AVX10,
	VX_FEAT_APX_F,
	VX_FEAT_HWP,
	VX_FEAT_HDC,
	VX_FEAT_XSAVEOPT,
	VX_FEAT_XSAVEC,
	VX_FEAT_XGETBV1,
	VX_FEAT_XSAVES,
	VX_FEAT_XFD,
	VX_FEAT_LM,
	VX_FEAT_LWP,
	VX_FEAT_RSTR_FP_ERR_PTRS,
	VX_FEAT_COUNT
};

/**
 * struct vx_feature_info - where a CPUID feature flag lives.
 * @name: lower-case name as users write it ("cet_ss", "xsavec").
 * @leaf, @subleaf, @reg, @bit: its location.
 * @description: one line, with the spec section.
 */
struct vx_feature_info {
	const char *name;
	uint32_t leaf;
	uint32_t subleaf;
	enum vx_cpuid_reg reg;
	unsigned bit;
	const char *description;
};

/** The table entry for @feature, or NULL if out of range. */
VX_API const struct vx_feature_info *vx_feature_info(enum vx_feature feature);
/** Look a feature up by name (case-insensitive); -1 if unknown. */
VX_API int vx_feature_by_name(const char *name);

/* ----------------------------------------------------------------------------------------- */
/* Architectural MSRs (msr_table.c; arch.md §3.2, §3.3, §7.2): numbers and names, one table.   */
/* Which CPU has each one and what WRMSR accepts is the cpu layer's (cpu.h, vx_cpu_msr_access). */

#define VX_MSR_IA32_XFD		0x1C4u
#define VX_MSR_IA32_XFD_ERR	0x1C5u
#define VX_MSR_IA32_U_CET	0x6A0u
#define VX_MSR_IA32_S_CET	0x6A2u
#define VX_MSR_IA32_PL0_SSP	0x6A4u
#define VX_MSR_IA32_PL1_SSP	0x6A5u
#define VX_MSR_IA32_PL2_SSP	0x6A6u
#define VX_MSR_IA32_PL3_SSP	0x6A7u
#define VX_MSR_IA32_INT_SSP_TAB 0x6A8u
#define VX_MSR_IA32_PASID	0xD93u
#define VX_MSR_IA32_XSS		0xDA0u

/**
 * struct vx_msr_info - one architectural MSR.
 * @msr:         its number (ECX of RDMSR/WRMSR).
 * @name:        the SDM's name ("IA32_XSS", "IA32_INTERRUPT_SSP_TABLE_ADDR").
 * @description: what it holds, with the spec section.
 */
struct vx_msr_info {
	uint32_t msr;
	const char *name;
	const char *description;
};

/** The table entry for MSR @msr, or NULL if vxsave does not know it. */
VX_API const struct vx_msr_info *vx_msr_info(uint32_t msr);
/** Number of MSRs in the table, and entry @index (NULL if out of range). */
VX_API unsigned vx_msr_count(void);
VX_API const struct vx_msr_info *vx_msr_at(unsigned index);

/* ----------------------------------------------------------------------------------------- */
/* The component table (component.c)                                                           */

/** One byte range of a component's initial configuration that is not zero (arch.md §6). */
struct vx_init_field {
	uint16_t offset; /* in the standard-format area (legacy region offsets for x87/SSE) */
	uint8_t width;   /* bytes, little-endian */
	uint64_t value;
};

/**
 * struct vx_component_info - everything the architecture fixes about one state component.
 * @id:            component number (bit position in XCR0/XSS/XSTATE_BV).
 * @name:          short name as the CLI prints and parses it ("x87", "AVX", "CET_S").
 * @long_name:     what it is.
 * @supervisor:    true for IA32_XSS components (§2.1), false for XCR0 components.
 * @legacy:        true for x87 and SSE, which live in the legacy region (§2.2).
 * @enumerated_by: CPUID flags that make it exist (any one suffices); VX_FEAT_COUNT = unused.
 * @requires:      XCR0 bits that must be set whenever this one is (§3.1).
 * @group:         all-or-nothing partners including itself (§3.1), or 0.
 * @xcr0_rule:     the §3.1 rule that @requires/@group implement, or NULL.
 * @arch_size:     the architecturally fixed size in bytes, or 0 when only CPUID knows it.
 * @contents:      what the bytes hold.
 * @initial:       its initial configuration, in words.
 * @init_fields:   the non-zero parts of the initial configuration (NULL-terminated by width 0).
 */
struct vx_component_info {
	unsigned id;
	const char *name;
	const char *long_name;
	bool supervisor;
	bool legacy;
	enum vx_feature enumerated_by[2];
	uint64_t requires;
	uint64_t group;
	const char *xcr0_rule;
	uint32_t arch_size;
	const char *contents;
	const char *initial;
	const struct vx_init_field *init_fields;
};

/** The table entry for component @id, or NULL if vxsave does not know that component. */
VX_API const struct vx_component_info *vx_component_info(unsigned id);
/** Component number for @name (case-insensitive; also "k"/"ymm"/"tilecfg"...), or -1. */
VX_API int vx_component_by_name(const char *name);
/** Bitmask of every component in the table. */
VX_API uint64_t vx_known_components(void);
/** Bitmask of the user (XCR0) components in the table. */
VX_API uint64_t vx_user_components(void);
/** Bitmask of the supervisor (IA32_XSS) components in the table. */
VX_API uint64_t vx_supervisor_components(void);

/**
 * vx_parse_component_mask_all() - the one mask grammar of vxsave (options and cpu scripts;
 * docs/cli.md "Masks"): elements separated by ',' or '|', blanks around each ignored, no empty
 * element.  An element is a number (vx_parse_u64()), a component name ("x87", "CET_S"), a group
 * ("legacy" = 0-1, "mpx" = 3-4, "avx512" = 5-7, "cet" = 11-12, "amx" = 17-18), a register-file
 * alias ("xmm", "ymm", "k", "tilecfg", "tiledata", "egpr"), a CPUID flag that enumerates
 * components ("pku" = PKRU, "cet_ss" = CET_U|CET_S), "bitN" or "bitN-M" (as the tool prints
 * bits without a name), "none" = 0, or "all" = @all.  Case-insensitive; elements are ORed.
 * Returns 0, or -EINVAL with @err naming the bad element (and the closest name, for a typo);
 * @mask is unchanged on error.
 */
VX_API int vx_parse_component_mask_all(const char *text, uint64_t all, uint64_t *mask,
				       struct vx_error *err);
/** vx_parse_component_mask_all() where "all" means every component vxsave knows. */
VX_API int vx_parse_component_mask(const char *text, uint64_t *mask, struct vx_error *err);
/**
 * vx_format_component_mask() - "x87|SSE|AVX"; bits without a name as "bit42", runs of them as
 * "bit20-61".  Writes at most @len bytes, always NUL-terminated, and when the text does not fit
 * it ends after a whole name with "|..." (never mid-word); returns the length the full text
 * needs (like snprintf).  The output parses back with vx_parse_component_mask().
 */
VX_API size_t vx_format_component_mask(uint64_t mask, char *buf, size_t len);

/* ----------------------------------------------------------------------------------------- */
/* Text the tool reads and prints (number.c, utf8.c, citation.c)                               */

/**
 * vx_parse_u64() - the one rule for every number vxsave reads (options, script numbers, dump
 * headers): decimal digits ("010" is ten: leading zeros stay decimal, never octal), "0x" + hex
 * digits, or "0b" + binary digits; '_' may separate two digits ("0xffff_8000_0000_0000").
 * No sign, no blanks.  Reads exactly @len bytes of @text (it need not be NUL-terminated).
 * Returns 0, -EINVAL (not such a number) or -ERANGE (above 2^64 - 1), with the reason in @err.
 */
VX_API int vx_parse_u64(const char *text, size_t len, uint64_t *value, struct vx_error *err);

/**
 * vx_utf8_sanitize() - copy @in to @out (@size bytes, NUL-terminated) as well-formed UTF-8
 * without control characters: every invalid sequence and every control character but TAB
 * becomes U+FFFD.  Stops before a character that would not fit.  Returns how many were
 * replaced.
 */
VX_API unsigned vx_utf8_sanitize(const char *in, char *out, size_t size);

/**
 * vx_cite() - @text with every reference to the project's notes ("arch.md §3.1 rule 2") replaced
 * by the Intel SDM / AMD APM section it paraphrases ("Intel SDM Vol.1 §13.3, Vol.2 XSETBV"),
 * for messages shown to users; everything else is copied.  snprintf-like: writes at most @len
 * bytes and returns the length the whole text needs.  Rules in struct vx_error and events keep
 * the notes reference for developers; print them through this.
 */
VX_API size_t vx_cite(const char *text, char *buf, size_t len);

/* ----------------------------------------------------------------------------------------- */
/* CPU profiles (profile.c, host.c, cpuid_dump.c, builtin.c)                                    */

enum vx_vendor { VX_VENDOR_UNKNOWN = 0, VX_VENDOR_INTEL, VX_VENDOR_AMD, VX_VENDOR_OTHER };

struct vx_cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

#define VX_PROFILE_NAME_MAX   64
#define VX_PROFILE_DESC_MAX   320
#define VX_PROFILE_SOURCE_MAX 1280
/** Number of (leaf, subleaf) pairs a profile keeps; see vx_profile_slot(). */
#define VX_PROFILE_SLOTS      81

/**
 * struct vx_xsave_component - CPUID.(0xD,i) of one state component i = 2..62, typed (§1.4).
 * @size:       EAX: its size in bytes, in either format.
 * @offset:     EBX: its offset in the standard format (0 for a supervisor component).
 * @supervisor: ECX[0]: an IA32_XSS component (§2.1).
 * @align64:    ECX[1]: it starts on a 64-byte boundary in the compacted format (§2.4).
 * @xfd:        ECX[2]: IA32_XFD may arm it (§3.3).
 */
struct vx_xsave_component {
	uint32_t size;
	uint32_t offset;
	bool supervisor;
	bool align64;
	bool xfd;
};

/**
 * struct vx_xsave_view - leaf 0xD decoded once (arch.md §1.2-§1.4): what layouts, rules and
 * the cpu layer read instead of the raw sub-leaves.  Every field is the raw leaf as
 * vx_profile_leaf() returns it (zeros when leaf 0xD lies above CPUID.0:EAX), typed:
 * @xsave:          CPUID.1:ECX[26]: XSAVE exists, so leaf 0xD means something (§1.1).
 * @xcr0_mask:      0xD.0 EDX:EAX, the XCR0 bits that may be set (§1.2).
 * @enabled_size:   0xD.0 EBX, the standard size for the XCR0 in force at capture.
 * @max_size:       0xD.0 ECX, the standard size for every bit of @xcr0_mask.
 * @xsaveopt, @xsavec, @xgetbv1, @xsaves, @xfd: 0xD.1 EAX bits 0-4 (§1.3).
 * @compacted_size: 0xD.1 EBX, the compacted size of XCR0 | IA32_XSS in force at capture.
 * @xss_mask:       0xD.1 EDX:ECX, the IA32_XSS bits that may be set (§1.3).
 * @component:      sub-leaf i for i = 2..62.  Entries 0 and 1 are always zero: sub-leaves 0
 *                  and 1 are the fields above, and x87 and SSE have the fixed legacy geometry
 *                  (§2.2; vx_profile_component() returns it).
 * The masks are as CPUID reports them; vx_profile_xcr0_supported() and
 * vx_profile_xss_supported() apply the @xsave and @xsaves conditions.  Reserved bits (0xD.i
 * ECX[31:3] and EDX) are not kept: vx_profile_diagnose() reads them from the raw leaves.
 */
struct vx_xsave_view {
	bool xsave;
	uint64_t xcr0_mask;
	uint32_t enabled_size;
	uint32_t max_size;
	bool xsaveopt, xsavec, xgetbv1, xsaves, xfd;
	uint32_t compacted_size;
	uint64_t xss_mask;
	struct vx_xsave_component component[VX_COMP_LIMIT];
};

/**
 * struct vx_profile - a CPU as vxsave sees it: raw CPUID leaves plus a little metadata.
 * Plain data: copy it, compare it, keep several at once.  Every derived value (vendor, feature
 * flags, component sizes and offsets, layouts) is computed from the leaves by the accessors.
 *
 * @name, @description, @source: identification; @source says where the values come from.
 * @leaves:         raw CPUID results, indexed by vx_profile_slot(); absent leaves are zero.
 *                  Write them with vx_profile_set_leaf() or vx_profile_from_xsave_view(); after
 *                  writing them directly, call vx_profile_decode_xsave().
 * @xsave:          leaf 0xD decoded from @leaves (struct vx_xsave_view), read-only: every
 *                  function that builds or changes a profile decodes it again, so the raw and
 *                  the typed view always agree.  Layouts and sizes read it, not the leaves.
 * @xcr0_at_capture, @xss_at_capture: XCR0 / IA32_XSS in force when the leaves were read
 *                  (the dynamic sizes 0xD.0 EBX and 0xD.1 EBX depend on them).  XCR0 = 0 means
 *                  unknown (a real XCR0 always has bit 0); @xss_known says whether
 *                  @xss_at_capture was recorded ("# xss:" in a dump) or inferred (host).
 * @mxcsr_mask:     the MXCSR_MASK value FXSAVE stores (0 means the default mask 0xFFBF; §2.2).
 *                  Not in CPUID: the host probe reads it with FXSAVE, dumps may give it as a
 *                  "# mxcsr-mask:" header, otherwise it is 0x0000FFFF like every current part.
 */
struct vx_profile {
	char name[VX_PROFILE_NAME_MAX];
	char description[VX_PROFILE_DESC_MAX];
	char source[VX_PROFILE_SOURCE_MAX];
	struct vx_cpuid_regs leaves[VX_PROFILE_SLOTS];
	struct vx_xsave_view xsave;
	uint64_t xcr0_at_capture;
	uint64_t xss_at_capture;
	bool xss_known;
	uint32_t mxcsr_mask;
};

/** Zero a profile (no leaves, MXCSR_MASK 0xFFFF). */
VX_API void vx_profile_init(struct vx_profile *profile);
/** Make @name, @description and @source well-formed printable UTF-8 (vx_utf8_sanitize()). */
VX_API void vx_profile_sanitize_text(struct vx_profile *profile);
/** Slot index of (@leaf, @subleaf) in struct vx_profile, or -1 if profiles do not keep it. */
VX_API int vx_profile_slot(uint32_t leaf, uint32_t subleaf);
/** The (leaf, subleaf) kept in @slot; returns false if @slot is out of range. */
VX_API bool vx_profile_slot_leaf(unsigned slot, uint32_t *leaf, uint32_t *subleaf);
/** Store one leaf (and decode @xsave again); -ENOENT if profiles do not keep the leaf. */
VX_API int vx_profile_set_leaf(struct vx_profile *profile, uint32_t leaf, uint32_t subleaf,
			       const struct vx_cpuid_regs *regs);
/**
 * vx_profile_decode_xsave() - decode @profile->leaves into @profile->xsave: the one leaf-0xD
 * decoder.  The library calls it whenever it changes leaves; call it after writing
 * @profile->leaves yourself.
 */
VX_API void vx_profile_decode_xsave(struct vx_profile *profile);
/**
 * vx_profile_from_xsave_view() - write leaf 0xD of @profile from a typed @view (tests build
 * profiles as designated initializers this way): sub-leaves 0, 1 and 2..62 from the view's
 * fields (reserved bits and sub-leaf 63 zero), CPUID.1:ECX[26] XSAVE = @view->xsave, and
 * CPUID.0:EAX raised to 0xD if it was lower, so the leaf exists.  Other leaves and the
 * metadata are kept.  Afterwards @profile->xsave equals @view.  -EINVAL, with @profile
 * unchanged and @err naming the field, when @view->component[0] or [1] is not zero or the
 * leaf fails vx_profile_check_xsave_leaves().
 */
VX_API int vx_profile_from_xsave_view(struct vx_profile *profile,
				      const struct vx_xsave_view *view, struct vx_error *err);
/**
 * vx_profile_leaf() - what CPUID(@leaf, @subleaf) returns on this CPU: zeros for leaves the
 * profile does not keep or that lie above the maximum leaf of their range.
 */
VX_API struct vx_cpuid_regs vx_profile_leaf(const struct vx_profile *profile, uint32_t leaf,
					    uint32_t subleaf);
VX_API enum vx_vendor vx_profile_vendor(const struct vx_profile *profile);
VX_API const char *vx_vendor_name(enum vx_vendor vendor);
/** True if @profile enumerates @feature. */
VX_API bool vx_profile_has(const struct vx_profile *profile, enum vx_feature feature);
/** CPUID.(0xD,0).EDX:EAX - the XCR0 bits that may be set (§1.2). */
VX_API uint64_t vx_profile_xcr0_supported(const struct vx_profile *profile);
/** CPUID.(0xD,1).EDX:ECX - the IA32_XSS bits that may be set (§1.3). */
VX_API uint64_t vx_profile_xss_supported(const struct vx_profile *profile);
/** Bits that XFD may arm: components with CPUID.(0xD,i).ECX[2]=1, if XFD exists (§3.3). */
VX_API uint64_t vx_profile_xfd_supported(const struct vx_profile *profile);
/** Effective MXCSR_MASK (0 stored by FXSAVE means 0x0000FFBF). */
VX_API uint32_t vx_profile_mxcsr_mask(const struct vx_profile *profile);
/** Linear-address width from CPUID 0x80000008 EAX[15:8] (48 if the leaf is absent). */
VX_API unsigned vx_profile_linear_address_bits(const struct vx_profile *profile);

/**
 * struct vx_component_desc - one component as this CPU enumerates it (§1.4).
 * For x87 and SSE the fixed legacy geometry is returned (offset 0 size 160, offset 160 size
 * 256).  @supported is true when the component's bit is in the XCR0 or XSS mask.
 */
struct vx_component_desc {
	uint32_t size;
	uint32_t standard_offset;
	bool supervisor;
	bool align64;
	bool xfd_capable;
	bool supported;
};

/** Describe component @id (0..62) as @profile enumerates it.  False if @id > 62. */
VX_API bool vx_profile_component(const struct vx_profile *profile, unsigned id,
				 struct vx_component_desc *desc);

/**
 * VX_XSAVE_AREA_MAX - the largest XSAVE area vxsave lays out or models: 1 MiB, about a hundred
 * times what any CPU enumerates (11 KiB with AMX).  CPUID reports sizes and offsets in 32 bits;
 * a leaf-0xD value that would make any area larger is refused (docs/profiles.md "Bounds").
 */
#define VX_XSAVE_AREA_MAX 0x100000u

/**
 * vx_profile_check_xsave_leaves() - can leaf 0xD of @profile be laid out at all?  For every
 * component in the XCR0 or IA32_XSS mask: its kind (0xD.i ECX[0]) matches the one mask it is
 * in; its size fits in VX_XSAVE_AREA_MAX; a user component starts at or after byte 576 and
 * ends within 0xD.0 ECX, which is itself at most VX_XSAVE_AREA_MAX; and the compacted area of
 * every supported component fits in VX_XSAVE_AREA_MAX.  vx_layout_compute() and
 * vx_cpu_create() refuse a profile that fails; vx_profile_diagnose() reports each failure as
 * an error.  Returns 0 (also without XSAVE), or -EINVAL with @err naming the first register
 * out of bounds ("CPUID.(0xD,0x12).EAX = 0xffffffff: ...") and err->component.
 */
VX_API int vx_profile_check_xsave_leaves(const struct vx_profile *profile, struct vx_error *err);

/** Signature of a CPUID provider: the seam between profiles and the CPUID instruction. */
typedef void (*vx_cpuid_fn)(void *ctx, uint32_t leaf, uint32_t subleaf,
			    struct vx_cpuid_regs *out);

/** Fill @profile by calling @cpuid for every kept leaf (respecting the maximum leaves). */
VX_API int vx_profile_from_cpuid(struct vx_profile *profile, vx_cpuid_fn cpuid, void *ctx,
				 struct vx_error *err);
/** The CPUID instruction of this machine as a vx_cpuid_fn (zeros on non-x86 builds). */
VX_API void vx_host_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, struct vx_cpuid_regs *out);
/** XGETBV on this machine; -ENOTSUP without XSAVE/OSXSAVE (or XGETBV1 for @ecx = 1). */
VX_API int vx_host_xgetbv(uint32_t ecx, uint64_t *value);
/**
 * vx_profile_from_host() - the live host: CPUID, XCR0 (XGETBV), and MXCSR_MASK (FXSAVE).
 * -ENOTSUP on a non-x86-64 build.
 */
VX_API int vx_profile_from_host(struct vx_profile *profile, struct vx_error *err);

/**
 * vx_profile_parse_cpuid_dump() - parse the text printed by Debian's `cpuid -r` (one or more
 * "CPU N:" blocks of "   0x0000000d 0x01: eax=0x... ebx=0x... ecx=0x... edx=0x..." lines).
 * @cpu_index: which CPU block to take (0 = the first).  Lines starting with '#' are comments;
 * "# name:", "# description:", "# source:", "# xcr0:", "# xss:" and "# mxcsr-mask:" set the
 * matching fields.  Leaves profiles do not keep are ignored.  On error @profile is unchanged and
 * @err names the line and what is wrong with it.
 */
VX_API int vx_profile_parse_cpuid_dump(struct vx_profile *profile, const char *text, size_t len,
				       unsigned cpu_index, struct vx_error *err);

/**
 * vx_profile_parse_instlatx() - parse an InstLatx64 (AIDA64 "CPUID Registers") dump: blocks
 * "------[ CPUID Registers / Logical CPU #N ]------" of lines
 * "CPUID 0000000D: 000602E7-00002B00-00002B00-00000000 [SL 00]" (EAX-EBX-ECX-EDX, sub-leaf in
 * the optional "[SL nn]" tag).  @cpu_index picks the block (0 = the first); other lines are
 * ignored.  Sets @source to say the format; @profile is unchanged on error, @err names the line.
 */
VX_API int vx_profile_parse_instlatx(struct vx_profile *profile, const char *text, size_t len,
				     unsigned cpu_index, struct vx_error *err);
/** True if @text has an InstLatx64 register line ("CPUID llllllll: ..."). */
VX_API bool vx_dump_is_instlatx(const char *text, size_t len);
/** Parse a dump in either format, told apart by content (vx_dump_is_instlatx()). */
VX_API int vx_profile_parse_dump(struct vx_profile *profile, const char *text, size_t len,
				 unsigned cpu_index, struct vx_error *err);

/** Name of the built-in profile used when none is named. */
#define VX_DEFAULT_PROFILE "sapphire-rapids"
/** Number of built-in profiles (profiles/ *.cpuid, compiled in). */
VX_API unsigned vx_builtin_profile_count(void);
/** Name of built-in profile @index, or NULL. */
VX_API const char *vx_builtin_profile_name(unsigned index);
/** The raw text of a built-in profile (its .cpuid file), or NULL. */
VX_API const char *vx_builtin_profile_text(const char *name);
/** Load built-in profile @name (NULL = VX_DEFAULT_PROFILE); -ENOENT if there is none. */
VX_API int vx_profile_builtin(struct vx_profile *profile, const char *name, struct vx_error *err);

/**
 * vx_profile_derive() - take features away from @profile, QEMU-style: @toggles is
 * "-amx,-avx512" (elements separated by ',', each '-' or '+' and a feature name from
 * vx_profile_toggle_info(); case-insensitive, '-' and '_' alike).  "-feat" removes the feature
 * and everything that depends on it; "+feat" keeps it (undoes an earlier "-feat"), and is
 * refused for a feature @profile does not have: its leaf-0xD data cannot be invented.  Leaf
 * 0xD is then derived again: the XCR0/XSS masks lose the components whose flags are gone,
 * their sub-leaves become zero, 0xD.0 EBX/ECX and 0xD.1 EBX are recomputed.  The name becomes
 * "NAME,TOGGLES" (at most 63 characters).  -EINVAL with @err naming the bad toggle; @profile
 * is unchanged on error (docs/profiles.md "Derived profiles").
 */
VX_API int vx_profile_derive(struct vx_profile *profile, const char *toggles,
			     struct vx_error *err);
/** Number of feature names vx_profile_derive() knows. */
VX_API unsigned vx_profile_toggle_count(void);
/**
 * vx_profile_toggle_info() - toggle @index: its @name, @alias (or NULL), one-line @summary and
 * @removes, a bitmask of the other toggle indices removed with it.  Any out pointer may be
 * NULL; false if @index is out of range.
 */
VX_API bool vx_profile_toggle_info(unsigned index, const char **name, const char **alias,
				   const char **summary, uint64_t *removes);

/**
 * struct vx_profile_difference - the first leaf at which two profiles differ.
 */
struct vx_profile_difference {
	uint32_t leaf, subleaf;
	enum vx_cpuid_reg reg;
	uint32_t a, b;
};

/**
 * vx_profile_compare() - compare the raw leaves of two profiles, ignoring the per-logical-
 * processor field CPUID.1:EBX[31:24] (initial APIC ID).  Returns the number of differing
 * registers; the first one goes to @first (may be NULL).
 */
VX_API unsigned vx_profile_compare(const struct vx_profile *a, const struct vx_profile *b,
				   struct vx_profile_difference *first);

/** Which CPU a profile is (identity.c): CPUID.1:EAX decoded as the SDM's display values. */
struct vx_cpu_identity {
	uint32_t signature; /* CPUID.1:EAX */
	unsigned family;    /* family + extended family when family = 0xF */
	unsigned model;     /* model | extended model << 4 for families 6 and 0xF */
	unsigned stepping;
};

VX_API void vx_profile_identity(const struct vx_profile *profile, struct vx_cpu_identity *id);
/**
 * vx_profile_brand() - the brand string of CPUID 0x80000002-4 without its padding blanks,
 * non-printable bytes as '?'; "" when the extended range stops below 0x80000004.  Writes at
 * most @len bytes (NUL-terminated) and returns the length written.
 */
VX_API size_t vx_profile_brand(const struct vx_profile *profile, char *buf, size_t len);

/* How two profiles relate (profile_diff.c; docs/profiles.md "Comparing profiles"). */
enum vx_profile_relation {
	VX_PROFILES_IDENTICAL,	/* same facts, same CPUID.1:EAX signature */
	VX_PROFILES_EQUIVALENT, /* same facts, another family/model/stepping */
	VX_PROFILES_SUPERSET,	/* A has everything B has, with the same geometry, and more */
	VX_PROFILES_SUBSET,	/* the reverse */
	VX_PROFILES_DIFFER,	/* another vendor, another geometry, or each has what the other lacks */
};

/** The CPUID words of feature flags vx_profile_diff() compares bit by bit. */
#define VX_PROFILE_FEATURE_WORDS 12

/**
 * struct vx_profile_diff - what differs between profile A and profile B.
 * @features_only_*: vx_feature bits (OSXSAVE and OSPKE left out: OS state, not CPU facts).
 * @word_only_*:     every flag bit of feature word i (vx_profile_feature_word()) one side has.
 * @xcr0_only_*, @xss_only_*, @xfd_only_*: supported-mask bits one side has.
 * @components_differ: components both support whose size, standard offset, supervisor or
 *                   align64 flag differ (XFD capability counts through @xfd_only_*).
 * @raw_differences: differing registers over every kept leaf (vx_profile_compare()).
 */
struct vx_profile_diff {
	enum vx_profile_relation relation;
	bool vendor_differs;
	bool identity_differs;
	uint64_t features_only_a, features_only_b;
	uint32_t word_only_a[VX_PROFILE_FEATURE_WORDS], word_only_b[VX_PROFILE_FEATURE_WORDS];
	uint64_t xcr0_only_a, xcr0_only_b;
	uint64_t xss_only_a, xss_only_b;
	uint64_t xfd_only_a, xfd_only_b;
	uint64_t components_differ;
	unsigned raw_differences;
};

/** Compare @a with @b; diff(B, A) is diff(A, B) with the sides swapped. */
VX_API void vx_profile_diff(const struct vx_profile *a, const struct vx_profile *b,
			    struct vx_profile_diff *out);
/** "identical", "equivalent", "compatible superset", "compatible subset", "differs". */
VX_API const char *vx_profile_relation_name(enum vx_profile_relation relation);
/** Where feature word @index lives; false if out of range. */
VX_API bool vx_profile_feature_word(unsigned index, uint32_t *leaf, uint32_t *subleaf,
				    enum vx_cpuid_reg *reg);

/* ----------------------------------------------------------------------------------------- */
/* Layouts (layout.c; arch.md §2.4)                                                             */

/**
 * struct vx_layout_entry - one component of a layout.
 * @standard_offset is 0 and @in_standard false for supervisor components (§1.4).
 * @compacted_offset is where XSAVEC/XSAVES put it for the layout's mask.
 */
struct vx_layout_entry {
	unsigned component;
	uint32_t size;
	uint32_t standard_offset;
	uint32_t compacted_offset;
	bool supervisor;
	bool align64;
	bool xfd_capable;
	bool in_standard;
};

/**
 * struct vx_layout - standard and compacted layouts of @features on one CPU.
 * @standard_size:  max(576, max offset+size over the user components) - not "highest bit".
 * @compacted_size: 576 + sizes of components 2..62 in @features, with 64-byte alignment.
 * @cpuid_*:        what the profile's CPUID reports, for comparison (§1.2, §1.3).
 */
struct vx_layout {
	uint64_t features;
	unsigned count;
	struct vx_layout_entry entries[VX_COMP_LIMIT];
	uint32_t standard_size;
	uint32_t compacted_size;
	uint32_t cpuid_enabled_standard_size; /* 0xD.0 EBX */
	uint32_t cpuid_max_standard_size;     /* 0xD.0 ECX */
	uint32_t cpuid_enabled_compacted_size; /* 0xD.1 EBX */
};

/**
 * vx_layout_compute() - lay out @features (XCR0|XSS bits; bits 0 and 1 are the legacy region,
 * listed only when present in @features) on @profile.  Pairing rules are not checked here (see
 * vx_feature_mask_check()).  -EINVAL if a bit is not enumerated by the profile (named in @err).
 */
VX_API int vx_layout_compute(const struct vx_profile *profile, uint64_t features,
			     struct vx_layout *layout, struct vx_error *err);
/** Standard-format size for the user bits of @xcr0 (supervisor bits are ignored). */
VX_API uint32_t vx_standard_size(const struct vx_profile *profile, uint64_t xcr0);
/** Compacted-format size for @mask (bits 2..62; bit 63 ignored). */
VX_API uint32_t vx_compacted_size(const struct vx_profile *profile, uint64_t mask);
/** Offset of @component in the compacted format of @mask, or 0 if it is not in @mask. */
VX_API uint32_t vx_compacted_offset(const struct vx_profile *profile, uint64_t mask,
				    unsigned component);

/* ----------------------------------------------------------------------------------------- */
/* Validity rules (rules.c; arch.md §3)                                                          */

/** XSETBV(0, @xcr0) would succeed on @profile (§3.1); else -EINVAL naming bits and rule. */
VX_API int vx_xcr0_check(const struct vx_profile *profile, uint64_t xcr0, struct vx_error *err);
/** WRMSR(IA32_XSS, @xss) would succeed on @profile (§3.2); else -EINVAL. */
VX_API int vx_xss_check(const struct vx_profile *profile, uint64_t xss, struct vx_error *err);
/** WRMSR(IA32_XFD or IA32_XFD_ERR, @xfd) would succeed on @profile (§3.3); else -EINVAL. */
VX_API int vx_xfd_check(const struct vx_profile *profile, uint64_t xfd, struct vx_error *err);
/**
 * vx_feature_mask_check() - a combined XCR0|XSS feature mask (as `vxsave layout --features`
 * takes it): its user part must pass vx_xcr0_check() and its supervisor part vx_xss_check().
 */
VX_API int vx_feature_mask_check(const struct vx_profile *profile, uint64_t features,
				 struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* Consistency diagnostics (diagnose.c)                                                          */

enum vx_diag_severity { VX_DIAG_NOTE = 0, VX_DIAG_WARNING, VX_DIAG_ERROR };

#define VX_DIAG_MESSAGE_MAX 224

/**
 * struct vx_diagnostic - one inconsistency between a profile's own leaves.
 * @leaf, @subleaf: the leaf that disagrees; @component: the component involved or -1.
 */
struct vx_diagnostic {
	enum vx_diag_severity severity;
	uint32_t leaf, subleaf;
	int component;
	char message[VX_DIAG_MESSAGE_MAX];
};

/**
 * vx_profile_diagnose() - check a profile's leaves against each other (0xD sub-leaves present
 * for components outside the XCR0/XSS masks, sizes CPUID reports vs computed ones, feature flags
 * vs XSAVE components, supervisor/offset flags, overlaps).  Writes up to @max diagnostics to
 * @out and returns how many there are in total.
 */
VX_API unsigned vx_profile_diagnose(const struct vx_profile *profile, struct vx_diagnostic *out,
				    unsigned max);
VX_API const char *vx_diag_severity_name(enum vx_diag_severity severity);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_ARCH_H */
