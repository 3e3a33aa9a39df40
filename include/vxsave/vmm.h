/* SPDX-License-Identifier: MIT */
/*
 * vxsave `vmm` layer: VMM tooling on top of the kvm layer (issue 10).  What a VMM developer or
 * operator does with a vCPU's extended state outside the kernel:
 *
 *  - blobs (blob.c): recognise and parse the byte formats a VMM handles - struct kvm_xsave
 *    (4096 bytes), KVM_GET_XSAVE2 blobs of any size, raw standard and compacted XSAVE areas,
 *    64-bit signal-frame fpstates - with errors that name the offset;
 *  - decoding (decode.c, decode_regs.c): the header, every component present or in its
 *    initial configuration, every register (the x87 stack with its tags, MXCSR flags, whole
 *    YMM/ZMM registers, k0-7, PKRU, the tile configuration, APX, CET_U) and the bytes that hold
 *    no state;
 *  - validation (host.c, validate.c): would KVM_SET_XSAVE accept this blob on that host and
 *    vCPU configuration?  The verdict is the kvm layer's own KVM_SET_XSAVE on a model vCPU set
 *    up as a VMM does; the list of every failing rule comes from the same fpu-layer checks run
 *    in their all-failures mode;
 *  - conversion (convert.c): standard <-> compacted, between two hosts' standard layouts (AMD
 *    and Intel place AVX-512 at different standard offsets), between the KVM_GET_XSAVE and
 *    KVM_GET_XSAVE2 sizes, refusing with every reason what the target cannot hold.
 *
 * Facts: ../shared/spec/kvm.md §5, linux-fpu.md §7, arch.md §2; docs/vmm.md describes the
 * formats, the rules and the CLI (`vxsave xsave decode|validate|convert`).
 *
 * Error model (common.h): 0 or a negative errno with struct vx_error naming the offset, bit or
 * rule.  Blob functions never read outside (bytes, len), whatever the header says, and keep no
 * pointer past the call except struct vx_vmm_blob's @bytes (the caller's buffer).
 */
#ifndef VXSAVE_VMM_H
#define VXSAVE_VMM_H

#include <vxsave/area.h>
#include <vxsave/fpu_signal.h>
#include <vxsave/kvm_regs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/* Blobs (blob.c)                                                                               */

/**
 * enum vx_vmm_blob_kind - the byte formats a VMM handles.
 * @VX_VMM_BLOB_AUTO:      recognise it (vx_vmm_blob_parse()).
 * @VX_VMM_BLOB_KVM:       struct kvm_xsave of KVM_GET_XSAVE/KVM_SET_XSAVE: exactly 4096 bytes,
 *                         standard format (kvm.md §5.1).
 * @VX_VMM_BLOB_KVM2:      a KVM_GET_XSAVE2 buffer: KVM_CAP_XSAVE2 bytes, at least 4096 and a
 *                         whole number of __u32 (region[1024] + extra[]), standard format.
 * @VX_VMM_BLOB_STANDARD:  a raw standard-format XSAVE area (XSAVE/XSAVEOPT, NT_X86_XSTATE), at
 *                         least 576 bytes (arch.md §2.4).
 * @VX_VMM_BLOB_COMPACTED: a raw compacted area (XSAVEC/XSAVES, a kernel fpstate image):
 *                         XCOMP_BV[63] = 1 (arch.md §2.3).
 * @VX_VMM_BLOB_SIGFRAME:  the FPU part of a 64-bit signal frame: the XSAVE area with the
 *                         struct _fpx_sw_bytes at 464 (MAGIC1) and MAGIC2 at xstate_size
 *                         (linux-fpu.md §8.4, fpu_signal.h).
 */
enum vx_vmm_blob_kind {
	VX_VMM_BLOB_AUTO = 0,
	VX_VMM_BLOB_KVM,
	VX_VMM_BLOB_KVM2,
	VX_VMM_BLOB_STANDARD,
	VX_VMM_BLOB_COMPACTED,
	VX_VMM_BLOB_SIGFRAME,
	VX_VMM_BLOB_KIND_COUNT
};

/** "auto", "kvm", "kvm2", "std", "compacted", "sigframe"; NULL if out of range. */
VX_API const char *vx_vmm_blob_kind_name(enum vx_vmm_blob_kind kind);
/** The kind called @name (also "standard"), or -ENOENT. */
VX_API int vx_vmm_blob_kind_by_name(const char *name);

/** The smallest XSAVE area: the legacy region and the header (arch.md §2.2, §2.3). */
#define VX_VMM_BLOB_MIN 576u
/** The largest blob read: VX_XSAVE_AREA_MAX (1 MiB), far above any CPU's 11 KiB. */
#define VX_VMM_BLOB_MAX VX_XSAVE_AREA_MAX

/**
 * struct vx_vmm_blob - a parsed blob.  Plain data; @bytes points into the caller's buffer.
 * @kind:       what it is (never AUTO after parsing).
 * @recognized: @kind was found from the bytes, not forced by the caller.
 * @bytes, @len: the whole buffer.
 * @area_len:   bytes of the XSAVE area in it: @len, or xstate_size for a signal frame.
 * @format:     VX_AREA_COMPACTED if XCOMP_BV[63] is set, else VX_AREA_STANDARD.
 * @xstate_bv, @xcomp_bv: the header (arch.md §2.3).
 * @all_zero:   every byte is 0 (an empty capture, not a saved state: a real XSAVE area
 *              always has MXCSR_MASK, KVM_GET_XSAVE FCW and MXCSR too).
 * @sw:         the signal frame's software bytes (SIGFRAME only; zero otherwise).
 */
struct vx_vmm_blob {
	enum vx_vmm_blob_kind kind;
	bool recognized;
	const uint8_t *bytes;
	size_t len;
	size_t area_len;
	enum vx_area_format format;
	uint64_t xstate_bv, xcomp_bv;
	bool all_zero;
	struct vx_fpx_sw_bytes sw;
};

/**
 * vx_vmm_blob_parse() - recognise (@kind AUTO) or check (@kind given) the format of @len bytes.
 * Recognition, in this order: shorter than 576 bytes → -EINVAL "truncated"; longer than
 * VX_VMM_BLOB_MAX → -EFBIG "oversized"; text (the first bytes printable: a JSON bundle or a
 * hex dump) → -EINVAL; all bytes 0 → -EINVAL "empty" (a forced @kind accepts it, all_zero
 * set); MAGIC1 at 464 → SIGFRAME (MAGIC2 must then be at xstate_size, else -EINVAL "wrong
 * magic" naming the offset); XCOMP_BV[63] → COMPACTED; 4096 bytes → KVM; more → KVM2; less →
 * STANDARD.  A forced @kind is checked against its own rules (KVM: 4096 bytes; KVM2: >= 4096,
 * a multiple of 4; COMPACTED: XCOMP_BV[63]; SIGFRAME: both magics and sizes).  Header rules
 * (reserved bytes, XCOMP_BV of a standard blob) are not parse errors: decode shows them and
 * validate refuses them.  On error @blob is unchanged and @err names the offset (err->offset).
 */
VX_API int vx_vmm_blob_parse(const void *bytes, size_t len, enum vx_vmm_blob_kind kind,
			     struct vx_vmm_blob *blob, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* Decoding (decode.c, decode_regs.c)                                                           */

/**
 * struct vx_vmm_component - one state component of a decoded blob.
 * @id:          component number; @listed: the rest of the entry means something (the
 *               component is in the blob's layout or its XSTATE_BV bit is set).
 * @in_xstate_bv: its XSTATE_BV bit: its bytes are the state.  Clear: XRSTOR (and
 *               KVM_SET_XSAVE) put it in its initial configuration and ignore the bytes.
 * @in_xcomp_bv: compacted format: its XCOMP_BV bit (it takes room in the area).
 * @located:     it has bytes in this area: @offset, @size (x87: 0/160, SSE: 160/256; their
 *               other legacy bytes are 24-31 and 32-159, arch.md §2.2).
 * @truncated:   its bytes run past the end of the area.
 * @bytes_init:  its bytes equal its initial configuration (arch.md §6: zero; x87 FCW 0x037F;
 *               SSE MXCSR 0x1F80 and the MXCSR_MASK left aside).
 * @unknown:     the profile does not enumerate it (no size, no offset).
 */
struct vx_vmm_component {
	unsigned id;
	bool listed;
	bool in_xstate_bv;
	bool in_xcomp_bv;
	bool located;
	uint64_t offset, size;
	bool truncated;
	bool bytes_init;
	bool unknown;
};

/**
 * struct vx_vmm_xsave_view - a blob decoded on a profile's layout.
 * @blob:        the parsed blob; @profile: the layout used (not owned; must outlive the view).
 * @map:         the area's byte ranges (area.h), on @area_len bytes.
 * @layout:      the components laid out: XCOMP_BV[62:0], or the profile's XCR0 user mask |
 *               XSTATE_BV user bits for the standard format.
 * @comp:        indexed by component number.
 * @reserved_nonzero: header bytes 16-63 that are not zero, bit i for byte 528 + i.
 * @mxcsr_loaded: the MXCSR the registers get is the blob's (standard: FP, SSE or YMM in
 *               XSTATE_BV, linux-fpu.md §7.2; compacted: SSE, arch.md §5.5); else 0x1F80.
 * @sw_xcr0:     bytes 464-471 of a KVM or standard blob: the source kernel's XCR0 as
 *               KVM_GET_XSAVE writes it (linux-fpu.md §7.1 item 4), or 0.
 */
struct vx_vmm_xsave_view {
	struct vx_vmm_blob blob;
	const struct vx_profile *profile;
	struct vx_area_map map;
	uint64_t layout;
	struct vx_vmm_component comp[VX_COMP_LIMIT];
	uint64_t reserved_nonzero;
	bool mxcsr_loaded;
	uint64_t sw_xcr0;
};

/**
 * vx_vmm_xsave_decode() - decode @blob on @profile's layout (standard offsets and compacted
 * sizes: a blob from another host must be decoded with that host's profile, arch.md §2.6).
 * Never fails on odd content; -EINVAL only for NULL arguments.
 */
VX_API int vx_vmm_xsave_decode(const struct vx_profile *profile, const struct vx_vmm_blob *blob,
			       struct vx_vmm_xsave_view *view, struct vx_error *err);

/**
 * vx_vmm_xsave_reg() - the value register @name has once the blob is loaded (XRSTOR, or
 * KVM_SET_XSAVE then the guest): its bytes when its component is in XSTATE_BV, else its initial
 * value.  Names: every field of area.h's table ("fcw", "st3", "xmm7", "k2", "pkru",
 * "tilecfg", "tmm0", "r16", "u_cet", "pl3_ssp" ...), and whole vector registers "ymm0"-"ymm15"
 * (XMM + YMM_Hi128) and "zmm0"-"zmm15" (XMM + YMM_Hi128 + ZMM_Hi256; "zmm16"-"zmm31" are
 * Hi16_ZMM fields).  Writes the value (little-endian) to @out (@len bytes) and its width to
 * *@width (may be NULL).  -ENOENT for an unknown name, -ENOTSUP when the profile does not
 * enumerate the component, -ERANGE when its bytes run past the area, -ENOSPC when @len is
 * too small.
 */
VX_API int vx_vmm_xsave_reg(const struct vx_vmm_xsave_view *view, const char *name, void *out,
			    size_t len, uint32_t *width, struct vx_error *err);

/** The tag of one x87 register (FXSAVE's abridged tag expanded, SDM Vol.1 §10.5.1). */
enum vx_vmm_x87_tag { VX_X87_VALID = 0, VX_X87_ZERO = 1, VX_X87_SPECIAL = 2, VX_X87_EMPTY = 3 };

/** "valid", "zero", "special", "empty". */
VX_API const char *vx_vmm_x87_tag_name(enum vx_vmm_x87_tag tag);

/**
 * struct vx_vmm_x87 - the x87 state of a legacy region (arch.md §2.2).
 * @fcw, @fsw, @fop, @fip, @fdp: as stored (64-bit FIP/FDP form).
 * @ftw:  the abridged tag byte (bit i: physical register R(i) is not empty).
 * @top:  FSW[13:11].
 * @full_tag_word: the 16-bit tag word FSAVE would store, R(i) at bits 2i+1:2i.
 * @st:   ST(0)-ST(7), stack order as FXSAVE stores them; @st[i].phys = (TOP + i) mod 8.
 *        @value is the 80-bit number (or NaN/infinity) as a double, for display only.
 */
struct vx_vmm_x87 {
	uint16_t fcw, fsw, fop;
	uint8_t ftw;
	uint64_t fip, fdp;
	unsigned top;
	uint16_t full_tag_word;
	struct {
		unsigned phys;
		enum vx_vmm_x87_tag tag;
		uint8_t raw[10];
		double value;
	} st[8];
};

/** Decode the x87 part of a 160-byte (or longer) legacy region @legacy. */
VX_API void vx_vmm_x87_decode(const uint8_t *legacy, struct vx_vmm_x87 *x87);

/** The registers whose bits vx_vmm_flags() names. */
enum vx_vmm_flag_set {
	VX_VMM_FLAGS_FCW = 0, /* x87 control word (SDM Vol.1 §8.1.5) */
	VX_VMM_FLAGS_FSW,     /* x87 status word (§8.1.3) */
	VX_VMM_FLAGS_MXCSR,   /* SSE control/status (§10.2.3; MM is AMD's bit 17) */
	VX_VMM_FLAGS_U_CET,   /* IA32_U_CET (arch.md §7.2) */
	VX_VMM_FLAGS_COUNT
};

/**
 * struct vx_vmm_flag - one named field of a register: bits @bit .. @bit + @width - 1.
 * @values: for a multi-bit field, the names of its values (NULL-terminated), else NULL.
 */
struct vx_vmm_flag {
	const char *name;
	uint8_t bit;
	uint8_t width;
	const char *const *values;
};

/** The fields of @set (one table each), *@count of them; NULL for an unknown set. */
VX_API const struct vx_vmm_flag *vx_vmm_flags(enum vx_vmm_flag_set set, unsigned *count);
/**
 * vx_vmm_flags_format() - @value as "IM|DM|ZM|OM|UM|PM|RC=nearest": the one-bit fields that
 * are set, the multi-bit ones as NAME=value, then "bitN" for set bits no field names.
 * snprintf semantics.
 */
VX_API size_t vx_vmm_flags_format(enum vx_vmm_flag_set set, uint64_t value, char *buf, size_t len);

/**
 * struct vx_vmm_tilecfg - the 64-byte AMX tile configuration (TILECFG, LDTILECFG's memory
 * format): palette (byte 0), start_row (1), bytes 2-15 reserved, colsb[16] (u16 at 16-47),
 * rows[16] (48-63).  @reserved_nonzero: bytes 2-15 are not all zero.
 */
struct vx_vmm_tilecfg {
	uint8_t palette;
	uint8_t start_row;
	bool reserved_nonzero;
	uint16_t colsb[16];
	uint8_t rows[16];
};

VX_API void vx_vmm_tilecfg_decode(const uint8_t cfg[64], struct vx_vmm_tilecfg *out);

/* ----------------------------------------------------------------------------------------- */
/* Findings: every reason, for validation and conversion                                        */

#define VX_VMM_FINDINGS_MAX 64

/**
 * struct vx_vmm_finding - one rule a blob breaks (@refuses) or one thing worth knowing that
 * does not refuse it (a note).  @err has the errno the rule gives (err.code), the rule, the
 * component, bits or byte offset, and the sentence.
 */
struct vx_vmm_finding {
	bool refuses;
	struct vx_error err;
};

/** struct vx_vmm_report - findings in the order found; @omitted counts those past the max. */
struct vx_vmm_report {
	unsigned count;
	unsigned refusals;
	unsigned omitted;
	struct vx_vmm_finding items[VX_VMM_FINDINGS_MAX];
};

/* ----------------------------------------------------------------------------------------- */
/* Hosts and vCPUs for validation (host.c)                                                      */

struct vx_vmm_host;
struct vx_vmm_vcpu;

/**
 * struct vx_vmm_host_options - how the target host's KVM is modelled.
 * @flavour: enum vx_kvm_flavour, or -1: detected from @sysfs_module for the live host (kvm_pvm,
 *           kvm_intel, kvm_amd), else the profile's vendor (AMD → svm, others → vmx).
 * @design:  where CET_S lives (kvm.h); default guest-only.
 * @live:    the profile is this machine's (vx_profile_from_host): detect the flavour and read
 *           kvm.ignore_msrs from sysfs.
 * @sysfs_module: where loaded modules are listed; NULL = "/sys/module".
 * @platform: what the host (its fpu system, machine and KVM module) and its vCPUs allocate
 *           with; NULL = vx_platform_default().  A failed allocation is -ENOMEM with a reason
 *           and leaves nothing behind.
 */
struct vx_vmm_host_options {
	int flavour;
	enum vx_kvm_cet_design design;
	bool live;
	const char *sysfs_module;
	const struct vx_platform *platform;
};

VX_API void vx_vmm_host_options_init(struct vx_vmm_host_options *options);

/**
 * vx_vmm_host_create() - boot @profile as a KVM host: the fpu system for the design, a machine,
 * the KVM module with the flavour's options and quirks.  @profile is copied.  Errors from the
 * fpu and kvm layers (-EINVAL for a flavour that does not fit the vendor, -ENOMEM).
 */
VX_API int vx_vmm_host_create(const struct vx_profile *profile,
			      const struct vx_vmm_host_options *options, struct vx_vmm_host **host,
			      struct vx_error *err);
VX_API void vx_vmm_host_destroy(struct vx_vmm_host *host);
VX_API const struct vx_profile *vx_vmm_host_profile(const struct vx_vmm_host *host);
VX_API struct vx_kvm *vx_vmm_host_kvm(const struct vx_vmm_host *host);
VX_API enum vx_kvm_flavour vx_vmm_host_flavour(const struct vx_vmm_host *host);

/**
 * struct vx_vmm_vcpu_config - the vCPU a blob is restored into, set up as a VMM does it: guest
 * permission (arch_prctl) before the vCPU exists, KVM_CREATE_VCPU, KVM_SET_CPUID2, KVM_SET_XCRS.
 * @cpuid, @ncpuid: the guest CPUID; NULL = KVM_GET_SUPPORTED_CPUID (asked after @dynamic_perm).
 * @dynamic_perm:   ARCH_REQ_XCOMP_GUEST_PERM for every dynamic (XFD) feature KVM supports: 1
 *                  yes, 0 no.  It makes the supported CPUID enable AMX, so KVM_SET_XSAVE reads
 *                  KVM_CAP_XSAVE2 bytes (kvm.md §2.6, §5.1).
 * @set_xcr0, @xcr0: KVM_SET_XCRS with this XCR0 (otherwise the reset value, FP).
 */
struct vx_vmm_vcpu_config {
	const struct vx_kvm_cpuid_entry *cpuid;
	uint32_t ncpuid;
	bool dynamic_perm;
	bool set_xcr0;
	uint64_t xcr0;
};

/**
 * vx_vmm_vcpu_create() - a VMM process on @host (a new one per vCPU: guest permission is per
 * process and locked by the first vCPU), its VM and vCPU 0, configured by @config.  The vCPU is
 * scratch: vx_vmm_xsave_validate() loads accepted blobs into it.  Errors of the ioctl that
 * failed (-EPERM, -EINVAL from KVM_SET_CPUID2 or KVM_SET_XCRS, with the rule), nothing left.
 */
VX_API int vx_vmm_vcpu_create(struct vx_vmm_host *host, const struct vx_vmm_vcpu_config *config,
			      struct vx_vmm_vcpu **vcpu, struct vx_error *err);
VX_API void vx_vmm_vcpu_destroy(struct vx_vmm_vcpu *vcpu);
VX_API struct vx_kvm_vcpu *vx_vmm_vcpu_kvm(const struct vx_vmm_vcpu *vcpu);
/** guest_fpu.uabi_size: the bytes KVM_SET_XSAVE reads and KVM_GET_XSAVE2 writes (§5.1). */
VX_API uint32_t vx_vmm_vcpu_uabi_size(const struct vx_vmm_vcpu *vcpu);

/**
 * vx_vmm_guest_cpuid() - a profile's leaves as KVM_SET_CPUID2 entries (every leaf it keeps
 * that lies within its maximum leaves; indexed leaves flagged SIGNIFCANT_INDEX), for a guest
 * CPUID read from a `cpuid -r` dump.  Writes up to @max entries; returns how many there are.
 */
VX_API uint32_t vx_vmm_guest_cpuid(const struct vx_profile *profile,
				   struct vx_kvm_cpuid_entry *entries, uint32_t max);

/* ----------------------------------------------------------------------------------------- */
/* Validation (validate.c)                                                                      */

/** Validation flag: the verdict only (@report gets the ioctl's refusal alone, no notes). */
#define VX_VMM_VALIDATE_VERDICT 0x1u

/**
 * struct vx_vmm_validation - would KVM_SET_XSAVE accept the blob on this vCPU?
 * @rc:       what KVM_SET_XSAVE returns on the model vCPU: 0, -EINVAL or -EFAULT (kvm.md §5.3).
 * @report:   every rule that refuses the blob (kvm.md §5.1, §5.3; linux-fpu.md §7.2, §7.3) and
 *            notes that do not refuse it: components the guest CPUID does not enable (dropped
 *            by the next KVM_GET_XSAVE, §5.2) or the guest XCR0 leaves out, PKRU left
 *            unchanged without its bit, bytes past uabi_size KVM does not read, a blob that is
 *            not a KVM blob.
 * @uabi_size, @supported_xcr0, @user_xfeatures, @guest_supported_xcr0, @xcr0: what the rules
 *            compared against: the vCPU's uabi_size, kvm_caps.supported_xcr0, the guest
 *            fpstate's user_xfeatures, guest_supported_xcr0 and XCR0.
 */
struct vx_vmm_validation {
	int rc;
	struct vx_vmm_report report;
	uint32_t uabi_size;
	uint64_t supported_xcr0;
	uint64_t user_xfeatures;
	uint64_t guest_supported_xcr0;
	uint64_t xcr0;
};

/**
 * vx_vmm_xsave_validate() - run KVM_SET_XSAVE of @blob's XSAVE area on @vcpu (the kvm layer's
 * own ioctl: the verdict, @out->rc) and, unless VX_VMM_VALIDATE_VERDICT, collect every failing
 * rule with the fpu layer's uABI checks in their all-failures mode, then the notes.  A blob
 * shorter than uabi_size is refused -EFAULT (KVM reads uabi_size bytes), and its other rules
 * are checked on it padded with zeros.  Returns 0 (the verdict is in @out), or -EINVAL for bad
 * arguments.
 */
VX_API int vx_vmm_xsave_validate(struct vx_vmm_vcpu *vcpu, const struct vx_vmm_blob *blob,
				 unsigned flags, struct vx_vmm_validation *out,
				 struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* Conversion (convert.c)                                                                       */

/**
 * struct vx_vmm_convert_options - what a conversion produces.
 * @from, @to:  the source and target hosts' profiles (may be the same); not owned, they must
 *              outlive the converter.
 * @kind:       the result: VX_VMM_BLOB_STANDARD, _COMPACTED, _KVM (4096 bytes) or _KVM2.
 * @size:       bytes of the result; 0 = the kind's size on @to: STANDARD the standard size of
 *              every user component @to enumerates; COMPACTED 576 + the compacted size of the
 *              layout; KVM 4096; KVM2 max(4096, the standard size), which is KVM_CAP_XSAVE2 for
 *              a VMM holding the guest permission of every dynamic feature (kvm.md §5.1).
 * @xcomp_layout: COMPACTED: XCOMP_BV[62:0] of the result; 0 = @to's XCR0 mask plus the
 *              blob's XSTATE_BV bits @to supports (unless VX_VMM_CONVERT_EXACT_LAYOUT).
 * @flags:      VX_VMM_CONVERT_NOTES: also report non-zero source bytes that hold no state and
 *              are not carried (slower: every source byte is looked at).
 *              VX_VMM_CONVERT_EXACT_LAYOUT: @xcomp_layout is the layout even when it is 0 - the
 *              legacy region and the header only, what XSAVEC with RFBM 0 writes (XCOMP_BV =
 *              bit 63 alone, arch.md §2.4); a blob with XSTATE_BV bits outside it is refused.
 */
struct vx_vmm_convert_options {
	const struct vx_profile *from;
	const struct vx_profile *to;
	enum vx_vmm_blob_kind kind;
	uint32_t size;
	uint64_t xcomp_layout;
	unsigned flags;
};

#define VX_VMM_CONVERT_NOTES	     0x1u
#define VX_VMM_CONVERT_EXACT_LAYOUT 0x2u

/** One piece of a standard result, in offset order: component @id, or a gap (@id 0xFF). */
struct vx_vmm_piece {
	uint32_t dst, size;
	uint8_t id;
};

#define VX_VMM_PIECE_GAP 0xFFu

/**
 * struct vx_vmm_converter - a conversion prepared once (vx_vmm_converter_init()) and applied to
 * any number of blobs; read-only after init.  @opt and @size (0: a compacted result's size
 * depends on the blob's layout) are the caller's; the rest is the prepared plan:
 * @from_off/@to_off: standard offsets on each side (0 = none); @from_size/@to_size: CPUID
 * sizes; @align_*: 64-byte alignment in the compacted form; @user_*, @xss_to: the hosts' XCR0
 * and XSS masks; @supervisor: the supervisor components (arch.md §2.1); @from_std: components
 * with a standard place on @from; @movable: components the result can take from either
 * format; @plan: a standard result's pieces by offset, @nplan of them.
 */
struct vx_vmm_converter {
	struct vx_vmm_convert_options opt;
	uint32_t size;
	uint64_t user_from, user_to, xss_to, supervisor, from_std, movable;
	uint32_t mxcsr_mask_to;
	bool align_from[VX_COMP_LIMIT], align_to[VX_COMP_LIMIT];
	uint32_t from_off[VX_COMP_LIMIT], to_off[VX_COMP_LIMIT];
	uint32_t from_size[VX_COMP_LIMIT], to_size[VX_COMP_LIMIT];
	struct vx_vmm_piece plan[2 * VX_COMP_LIMIT + 1];
	unsigned nplan;
};

/**
 * vx_vmm_converter_init() - prepare a conversion: -EINVAL for a result kind other than the
 * four, a @size the kind cannot have (KVM: 4096; KVM2: >= 4096 and a multiple of 4; any: at
 * least 576 and at most VX_VMM_BLOB_MAX), a compacted result on a target without XSAVEC, or a
 * profile whose leaf 0xD cannot be laid out.
 */
VX_API int vx_vmm_converter_init(struct vx_vmm_converter *conv,
				 const struct vx_vmm_convert_options *options,
				 struct vx_error *err);

/** The bytes the result of @conv has for @blob (the compacted size depends on the layout). */
VX_API size_t vx_vmm_convert_size(const struct vx_vmm_converter *conv,
				  const struct vx_vmm_blob *blob);

/**
 * vx_vmm_convert() - re-lay @blob out as the converter's result in @dst: the legacy region
 * (bytes 0-511; a signal frame's software bytes 464-511 zeroed), XSTATE_BV unchanged, XCOMP_BV
 * 0 or 2^63 | layout, every component of XSTATE_BV moved from its place on the source to its
 * place on the target, the rest zero (every extended component's initial configuration is
 * zero, arch.md §6).  Nothing else changes, so standard → compacted → standard and host A → B
 * → A give back the same bytes.  One exception: a compacted result records SSE when the blob
 * has FP or YMM and a non-default MXCSR without SSE, since compacted XRSTOR loads MXCSR only
 * with XSTATE_BV[1] (arch.md §5.5; noted in @report).
 * Refused (-EINVAL, every reason in @report, @dst unchanged): a header XRSTOR or KVM refuses
 * (reserved bytes, XCOMP_BV of a standard blob, XSTATE_BV outside XCOMP_BV), a component the
 * source profile does not lay out or whose bytes run past the blob, one the target does not
 * enumerate, a supervisor component for a standard result (kvm.md §5.4), a size that differs
 * between the hosts, one that does not fit in the result (AMX tile data in a 4096-byte
 * kvm_xsave), an MXCSR with bits outside the target's MXCSR_MASK.  -ENOSPC when @dst_len is
 * below vx_vmm_convert_size().  @report may be NULL (the first reason is then in @err only).
 */
VX_API int vx_vmm_convert(const struct vx_vmm_converter *conv, const struct vx_vmm_blob *blob,
			  uint8_t *dst, size_t dst_len, struct vx_vmm_report *report,
			  struct vx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_VMM_H */
