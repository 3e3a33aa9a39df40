/* SPDX-License-Identifier: MIT */
/*
 * vxsave `vmm` layer, part 2 (issue 10): what a VMM saves for one vCPU, and whether it can be
 * restored elsewhere.
 *
 *  - bundles (bundle.c): a documented JSON file holding one vCPU's extended state as KVM gives
 *    it to userspace - guest CPUID entries, XCRs, MSRs by index, ONE_REG registers, the XSAVE
 *    blob in hex - plus the source host (a built-in profile's name or its CPUID leaves), its KVM
 *    flavour and CET_S design (docs/vmm.md "Bundles");
 *  - a real VMM's saved state (vmm_state.c): Cloud Hypervisor's snapshot state.json, whose
 *    vCPU states carry the kvm_xsave region, CPUID, MSRs and XCRs, read into a bundle
 *    (docs/vmm.md "Cloud Hypervisor snapshots", with the source read);
 *  - capture (vmm_state.c): a bundle from a /dev/kvm - the real one or the drop-in model, one
 *    call sequence through struct vx_kvm_backend;
 *  - compatibility (compat.c): can this bundle be restored on that host?  Static checks from
 *    the bundle and the target's leaves, then the bundle restored into a model vCPU of the
 *    target through the kvm layer (KVM_SET_CPUID2, KVM_SET_XCRS, KVM_SET_MSRS, KVM_SET_ONE_REG,
 *    KVM_SET_XSAVE), every refusal reported; a conversion when one is enough;
 *  - baseline (baseline.c): the largest guest XSAVE/CET configuration every host of a pool
 *    can run, with leaf 0xD derived from it, as CPUID entries a VMM can load.
 *
 * Facts: ../shared/spec/kvm.md §2, §3.3, §5, anchors.md §2-§3.  Error model (common.h): 0 or a
 * negative errno with struct vx_error naming the JSON line and path, bit, MSR or rule; a
 * failing call leaves its output unchanged.  No global state; nothing here is thread-unsafe
 * beyond the objects passed in.
 */
#ifndef VXSAVE_VMM_COMPAT_H
#define VXSAVE_VMM_COMPAT_H

#include <vxsave/kvm_ioctl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/* Bundles (bundle.c; docs/vmm.md "Bundles")                                                    */

/** The bundle format this library writes and reads ("format": "vxsave-vcpu-bundle"). */
#define VX_VMM_BUNDLE_FORMAT  "vxsave-vcpu-bundle"
#define VX_VMM_BUNDLE_VERSION 1u
/** Limits of one bundle: KVM's own (256 CPUID entries, 16 XCRs), and room for any MSR list. */
#define VX_VMM_BUNDLE_MAX_CPUID	  VX_KVM_MAX_CPUID_ENTRIES
#define VX_VMM_BUNDLE_MAX_MSRS	  512u
#define VX_VMM_BUNDLE_MAX_ONE_REG 16u
/** The largest XSAVE blob a bundle holds: 64 KiB, six times the 11008 bytes of AMX. */
#define VX_VMM_BUNDLE_XSAVE_MAX 65536u
#define VX_VMM_ORIGIN_MAX	256u

/** struct vx_vmm_one_reg - one KVM_GET_ONE_REG result: the register id and its value. */
struct vx_vmm_one_reg {
	uint64_t id;
	uint64_t value;
};

/**
 * struct vx_vmm_bundle - one vCPU's extended state, as a VMM saves it.  Plain data (about
 * 90 KiB: allocate it, do not put it on a small stack).
 * @vcpu_id:      the vCPU's id in its VM.
 * @origin:       who made the bundle and how ("vxsave kvm capture on /dev/kvm (kvm_pvm)",
 *                "Cloud Hypervisor state.json, cpu-manager vCPU 0").
 * @has_profile:  @profile is the source host: its leaf 0xD is the layout of @xsave (kvm.md
 *                §5.1: the offsets of struct kvm_xsave follow the host's CPUID 0xD).
 * @profile_by_name: the source is the built-in profile @profile.name (written by name).
 * @profile_inferred: @profile was made from the guest CPUID (a VMM file without the host:
 *                KVM passes the host's 0xD.i sizes and offsets through, kvm.md §2.2).
 * @flavour:      enum vx_kvm_flavour of the source, or -1 if unknown.
 * @design:       enum vx_kvm_cet_design of the source, or -1 if unknown.
 * @guest_perm:   ARCH_GET_XCOMP_GUEST_PERM of the source VMM (0 = not recorded).
 * @cpuid:        KVM_GET_CPUID2 of the vCPU, @ncpuid entries.
 * @xcrs:         KVM_GET_XCRS.
 * @msrs:         KVM_GET_MSRS results by index, @nmsrs of them.
 * @one_regs:     KVM_GET_ONE_REG results (the guest SSP, kvm.md §3.4), @none_regs of them.
 * @xsave:        the KVM_GET_XSAVE / KVM_GET_XSAVE2 buffer, @xsave_len bytes.
 * @registers_set_by: how a capture loaded the registers (the bundle's "capture" object,
 *                docs/vmm.md "Bundles"): "guest" (a guest program under KVM_RUN) or
 *                "KVM_SET_XSAVE"; "" when not recorded (not a capture, or an older one).
 * @registers_seed: the capture's seed (vx_vmm_capture_options.seed).
 * @registers_note: what the guest set, or why the capture fell back to KVM_SET_XSAVE.
 */
struct vx_vmm_bundle {
	unsigned vcpu_id;
	char origin[VX_VMM_ORIGIN_MAX];
	bool has_profile;
	bool profile_by_name;
	bool profile_inferred;
	struct vx_profile profile;
	int flavour;
	int design;
	uint64_t guest_perm;
	uint32_t ncpuid;
	struct vx_kvm_cpuid_entry cpuid[VX_VMM_BUNDLE_MAX_CPUID];
	struct vx_kvm_xcrs xcrs;
	uint32_t nmsrs;
	struct vx_kvm_msr_entry msrs[VX_VMM_BUNDLE_MAX_MSRS];
	uint32_t none_regs;
	struct vx_vmm_one_reg one_regs[VX_VMM_BUNDLE_MAX_ONE_REG];
	uint32_t xsave_len;
	uint8_t xsave[VX_VMM_BUNDLE_XSAVE_MAX];
	char registers_set_by[16];
	uint32_t registers_seed;
	char registers_note[VX_VMM_ORIGIN_MAX];
};

/** The two ways a capture loads the registers ("registers_set_by" of a bundle). */
#define VX_VMM_SET_BY_GUEST_NAME	 "guest"
#define VX_VMM_SET_BY_KVM_SET_XSAVE_NAME "KVM_SET_XSAVE"

/** An empty bundle: no source, flavour and design unknown, nothing saved. */
VX_API void vx_vmm_bundle_init(struct vx_vmm_bundle *bundle);

/** The files vx_vmm_bundle_parse() reads. */
enum vx_vmm_state_format {
	VX_VMM_STATE_BUNDLE = 0,  /* a vxsave bundle */
	VX_VMM_STATE_CH_SNAPSHOT, /* Cloud Hypervisor's snapshot state.json */
	VX_VMM_STATE_CH_VCPU,	  /* one Cloud Hypervisor vCPU state: {"Kvm": {...}} */
	VX_VMM_STATE_FORMAT_COUNT
};

/** "bundle", "cloud-hypervisor snapshot", "cloud-hypervisor vcpu"; NULL if out of range. */
VX_API const char *vx_vmm_state_format_name(enum vx_vmm_state_format format);

/**
 * vx_vmm_bundle_parse() - read a vCPU state file: a bundle, a Cloud Hypervisor snapshot
 * state.json (vCPU @vcpu of its cpu-manager) or one Cloud Hypervisor vCPU state, told apart by
 * content.  Strict: bad JSON, NUL bytes, invalid UTF-8, unknown or missing keys, values of the
 * wrong type or out of range, bad hex, a blob shorter or longer than its "size" (truncated),
 * more than the limits above (oversized) are -EINVAL (-EFBIG for oversized), with @err naming
 * the line (err->line) and the JSON path ("cpuid[3].eax", "xsave.data[12]").  @format (may be
 * NULL) gets what the file was.  @bundle is unchanged on error.
 */
VX_API int vx_vmm_bundle_parse(const char *text, size_t len, unsigned vcpu,
			       struct vx_vmm_bundle *bundle, enum vx_vmm_state_format *format,
			       struct vx_error *err);
/**
 * vx_vmm_bundle_parse_with_platform() - vx_vmm_bundle_parse() allocating the JSON tree (the
 * Cloud Hypervisor vCPU state embedded as a string too) and its scratch bundle from @platform
 * (NULL = vx_platform_default()).  A failed allocation is -ENOMEM, @bundle unchanged.
 */
VX_API int vx_vmm_bundle_parse_with_platform(const char *text, size_t len, unsigned vcpu,
					     const struct vx_platform *platform,
					     struct vx_vmm_bundle *bundle,
					     enum vx_vmm_state_format *format,
					     struct vx_error *err);

/**
 * vx_vmm_bundle_format() - write @bundle as a version-1 bundle (docs/vmm.md "Bundles"): keys
 * in a fixed order, register values as "0x..." strings, the blob as hex lines of 64 bytes.
 * snprintf semantics: writes at most @len bytes (NUL-terminated when @len > 0) and returns the
 * length the whole text needs.  The text parses back to the same bundle.
 */
VX_API size_t vx_vmm_bundle_format(const struct vx_vmm_bundle *bundle, char *buf, size_t len);

/** The entry (@function, @index) of the bundle's CPUID, or NULL. */
VX_API const struct vx_kvm_cpuid_entry *vx_vmm_bundle_cpuid(const struct vx_vmm_bundle *bundle,
							    uint32_t function, uint32_t index);
/** The saved value of MSR @index: false if the bundle has none. */
VX_API bool vx_vmm_bundle_msr(const struct vx_vmm_bundle *bundle, uint32_t index, uint64_t *value);
/** The saved XCR0 (KVM_GET_XCRS entry 0): false if the bundle has none. */
VX_API bool vx_vmm_bundle_xcr0(const struct vx_vmm_bundle *bundle, uint64_t *xcr0);
/** XSTATE_BV of the blob (bytes 512-519), 0 if the blob is shorter. */
VX_API uint64_t vx_vmm_bundle_xstate_bv(const struct vx_vmm_bundle *bundle);

/* ----------------------------------------------------------------------------------------- */
/* Capture (vmm_state.c)                                                                        */

/** How a capture loads the registers (vx_vmm_capture_options.set_by). */
enum vx_vmm_set_by { VX_VMM_SET_BY_KVM_SET_XSAVE = 0, VX_VMM_SET_BY_GUEST };

/**
 * struct vx_vmm_capture_options - the vCPU a capture sets up, as a VMM does.
 * @backend:     the /dev/kvm to use (vx_kvm_backend_real() or _model()).
 * @origin:      recorded as the bundle's origin ("vxsave kvm capture on /dev/kvm").
 * @arch_prctl:  arch_prctl(@option, @arg) as the VMM thread (the real syscall, or
 *               vx_kvm_dev_arch_prctl() for the model); NULL: no permission request.
 * @prctl_ctx:   passed to @arch_prctl.
 * @host:        the host's profile (its leaf 0xD lays the registers out); recorded as the
 *               bundle's source.  @host_by_name: record it by name (a built-in profile).
 * @flavour, @design: recorded as the source's (-1: unknown).
 * @guest_perm_amx: ARCH_REQ_XCOMP_GUEST_PERM(XTILE_DATA) before anything, so AMX is in the
 *               supported CPUID and the blob is KVM_CAP_XSAVE2 bytes (kvm.md §2.6).
 * @cpuid, @ncpuid: the guest CPUID to set; NULL: KVM_GET_SUPPORTED_CPUID.
 * @set_xcr0, @xcr0: the guest XCR0; otherwise the XCR0 the CPUID enables (0xD.0 EDX:EAX).
 * @vcpu_id:     KVM_CREATE_VCPU's id.
 * @seed:        the register values derive from it (docs/vmm.md "Capture").
 * @set_by:      VX_VMM_SET_BY_KVM_SET_XSAVE (the default): the values loaded with
 *               KVM_SET_XSAVE; VX_VMM_SET_BY_GUEST: a guest at CPL3 loads them under KVM_RUN
 *               (machine code on the real /dev/kvm, a guest program on the model), falling
 *               back to KVM_SET_XSAVE with the reason in the bundle when the guest cannot run.
 * @model:       the drop-in device behind @backend when that is the model (its KVM_RUN then
 *               runs the guest program); NULL for the real /dev/kvm.
 * @platform:    where the capture's own buffers come from (the bundle being built, the ioctl
 *               buffers, the guest's program and code); NULL = vx_platform_default().  The
 *               backend allocates as it does (the model from its own options' platform).
 */
struct vx_vmm_capture_options {
	const struct vx_kvm_backend *backend;
	const char *origin;
	int (*arch_prctl)(void *ctx, int option, unsigned long arg);
	void *prctl_ctx;
	const struct vx_profile *host;
	bool host_by_name;
	int flavour;
	int design;
	bool guest_perm_amx;
	const struct vx_kvm_cpuid_entry *cpuid;
	uint32_t ncpuid;
	bool set_xcr0;
	uint64_t xcr0;
	unsigned vcpu_id;
	uint32_t seed;
	enum vx_vmm_set_by set_by;
	struct vx_kvm_dev *model;
	const struct vx_platform *platform;
};

VX_API void vx_vmm_capture_options_init(struct vx_vmm_capture_options *options);

/**
 * vx_vmm_capture() - open the backend's /dev/kvm, create a VM and a vCPU, KVM_SET_CPUID2,
 * KVM_SET_XCRS, IA32_XSS (when listed) to what the CPUID enables, load known registers (x87,
 * XMM, YMM, opmask, ZMM, PKRU, AMX tiles: every user component XCR0 enables, values from
 * @seed) with KVM_SET_XSAVE - or, with VX_VMM_SET_BY_GUEST, have a guest load x87, MXCSR,
 * XMM, YMM, opmask, ZMM and PKRU under KVM_RUN -, then read the vCPU back as a VMM saves it:
 * KVM_GET_CPUID2, KVM_GET_XCRS, every MSR of KVM_GET_MSR_INDEX_LIST that KVM_GET_MSRS
 * returns, the ONE_REG registers of KVM_GET_REG_LIST, and KVM_GET_XSAVE2 (KVM_GET_XSAVE
 * without KVM_CAP_XSAVE2).
 * Errors name the ioctl and errno; every descriptor is closed; @bundle unchanged on error.
 * A failed allocation (options->platform, or an ioctl or the guest's run failing with ENOMEM)
 * is -ENOMEM with a reason, never a fallback: a guest that could not run for want of memory
 * does not become a KVM_SET_XSAVE capture.  KVM_SET_CPUID2 whose guest fpstate cannot grow
 * for AMX fails with EFAULT (kvm.md §2.6): -EFAULT naming it.
 */
VX_API int vx_vmm_capture(const struct vx_vmm_capture_options *options,
			  struct vx_vmm_bundle *bundle, struct vx_error *err);

/**
 * vx_vmm_save_vcpu() - read an existing vCPU back as a VMM saves it, through @backend's ioctl
 * on its descriptors (/dev/kvm @sys_fd, the VM @vm_fd, the vCPU @vcpu_fd): KVM_CHECK_EXTENSION
 * (KVM_CAP_XSAVE2) on the VM for the blob's size, KVM_GET_XSAVE2 (KVM_GET_XSAVE without
 * KVM_CAP_XSAVE2), KVM_GET_CPUID2, KVM_GET_XCRS, every MSR of KVM_GET_MSR_INDEX_LIST that
 * KVM_GET_MSRS returns, the ONE_REG registers of KVM_GET_REG_LIST that read - the read-back
 * of vx_vmm_capture().  Fills @bundle's CPUID, XCRs, MSRs, ONE_REG and XSAVE state and, when
 * @host is given, its source profile (by name when @host is a built-in one); the rest
 * (origin, vCPU id, flavour, design, guest permission, capture note) is kept as the caller
 * set it.  Errors name the ioctl and errno; @bundle unchanged on error.
 */
VX_API int vx_vmm_save_vcpu(const struct vx_kvm_backend *backend, int sys_fd, int vm_fd,
			    int vcpu_fd, const struct vx_profile *host,
			    struct vx_vmm_bundle *bundle, struct vx_error *err);
/**
 * vx_vmm_save_vcpu_with_platform() - vx_vmm_save_vcpu() allocating its scratch bundle and
 * ioctl buffers from @platform (NULL = vx_platform_default()).  A failed allocation is
 * -ENOMEM with a reason, @bundle unchanged.
 */
VX_API int vx_vmm_save_vcpu_with_platform(const struct vx_kvm_backend *backend, int sys_fd,
					  int vm_fd, int vcpu_fd, const struct vx_profile *host,
					  const struct vx_platform *platform,
					  struct vx_vmm_bundle *bundle, struct vx_error *err);

/**
 * vx_vmm_capture_pattern() - the bytes capture loads into component @component (its @size
 * bytes at its standard offset) for @seed: what tests compare the blob with.  Returns false
 * for a component capture leaves in its initial configuration (MPX, supervisor ones...).
 */
VX_API bool vx_vmm_capture_pattern(uint32_t seed, unsigned component, uint8_t *out, uint32_t size);

/* ----------------------------------------------------------------------------------------- */
/* Compatibility (compat.c; docs/vmm.md "vxsave compat")                                        */

/**
 * struct vx_compat_target - the host a bundle would be restored on.
 * @profile: its CPU; @flavour: its KVM module; @design: where it keeps CET_S.
 * @live:    @profile is this machine's (vx_profile_from_host()).
 */
struct vx_compat_target {
	struct vx_profile profile;
	enum vx_kvm_flavour flavour;
	enum vx_kvm_cet_design design;
	bool live;
};

/**
 * vx_compat_target_init() - @profile with the flavour its vendor runs upstream (svm on AMD,
 * vmx otherwise) and the guest-only design (6.18).
 */
VX_API void vx_compat_target_init(struct vx_compat_target *target,
				  const struct vx_profile *profile);

/** The checks of vx_compat_check(), one per kind of difference (issue 10). */
enum vx_compat_check {
	VX_COMPAT_CPUID = 0,  /* guest CPUID features the target KVM does not honour */
	VX_COMPAT_XCR0,	      /* XCR0 bits the target vCPU refuses */
	VX_COMPAT_XSS,	      /* IA32_XSS bits the target vCPU refuses */
	VX_COMPAT_XSAVE_SIZE, /* the blob's size against KVM_CAP_XSAVE2 and uabi_size */
	VX_COMPAT_LAYOUT,     /* standard offsets that differ between source and target */
	VX_COMPAT_AMX_PERM,   /* AMX needs ARCH_REQ_XCOMP_GUEST_PERM on the target */
	VX_COMPAT_XFD,	      /* IA32_XFD / XFD_ERR state */
	VX_COMPAT_CET_MSRS,   /* XSAVE/CET MSRs missing from the target's MSR index list */
	VX_COMPAT_MXCSR,      /* MXCSR against the target's MXCSR_MASK */
	VX_COMPAT_CET_DESIGN, /* where PL0-2_SSP live on each side */
	VX_COMPAT_RESTORE,    /* a refusal of the model restore */
	VX_COMPAT_BUNDLE,     /* the bundle itself: state a VMM should have saved */
	VX_COMPAT_CHECK_COUNT
};

/** "cpuid", "xcr0", "xss", "xsave-size", "layout", "amx-permission", "xfd", "cet-msrs",
 * "mxcsr", "cet-design", "restore", "bundle"; NULL if out of range. */
VX_API const char *vx_compat_check_name(enum vx_compat_check check);

/**
 * enum vx_compat_severity - what a finding means for the restore.
 * @VX_COMPAT_NOTE:    worth knowing, changes nothing.
 * @VX_COMPAT_WARNING: restores, but the guest may notice (its CPUID disagrees with the
 *                     target's hardware, MXCSR_MASK differs...).
 * @VX_COMPAT_CONVERT: does not restore as is; the conversion vx_compat_fix() applies fixes it.
 * @VX_COMPAT_REFUSED: KVM refuses it or state is lost; no conversion helps.
 */
enum vx_compat_severity {
	VX_COMPAT_NOTE = 0,
	VX_COMPAT_WARNING,
	VX_COMPAT_CONVERT,
	VX_COMPAT_REFUSED,
};

VX_API const char *vx_compat_severity_name(enum vx_compat_severity severity);

#define VX_COMPAT_MESSAGE_MAX  320u
#define VX_COMPAT_FINDINGS_MAX 96u

/**
 * struct vx_compat_finding - one reason.
 * @check, @severity: what kind, how bad.
 * @step:     the model-restore ioctl that refused it ("KVM_SET_XCRS"), or NULL.
 * @code:     that ioctl's negative errno (or the short count's meaning), 0 for static checks.
 * @bits:     the mask bits involved (XCR0, XSS, XFD, XSTATE_BV, a CPUID register), or 0.
 * @msr:      the MSR involved, or 0.
 * @component: the XSAVE component involved, or -1.
 * @leaf, @subleaf: the CPUID leaf involved (leaf 0 when none).
 * @rule:     the spec section.
 * @message:  one sentence: what, on which side, and why.
 */
struct vx_compat_finding {
	enum vx_compat_check check;
	enum vx_compat_severity severity;
	const char *step;
	int code;
	uint64_t bits;
	uint32_t msr;
	int component;
	uint32_t leaf, subleaf;
	const char *rule;
	char message[VX_COMPAT_MESSAGE_MAX];
};

/** The answer: restores as is (exit 0), a conversion is enough, or refused (exit 1). */
enum vx_compat_verdict { VX_COMPAT_RESTORES = 0, VX_COMPAT_CONVERTIBLE, VX_COMPAT_REFUSES };

/** "restores", "restores after conversion", "refused". */
VX_API const char *vx_compat_verdict_name(enum vx_compat_verdict verdict);

/**
 * struct vx_compat_report - every finding, and the facts they were computed from.
 * @omitted:          findings past VX_COMPAT_FINDINGS_MAX (counted, not kept).
 * @restore_ran:      the model restore ran (it does unless the target cannot be booted).
 * @restore_steps:    the ioctls it made, @restore_refusals of which failed.
 * @source_layout:    where the source layout came from: "profile NAME", "guest CPUID", or
 *                    "unknown (taken as the target's)".
 * @xcr0, @xss, @xfd: the bundle's XCR0, IA32_XSS and IA32_XFD (0 when not saved).
 * @xstate_bv:        the blob's XSTATE_BV.
 * @blob_size:        the blob's bytes; @target_xsave2: KVM_CAP_XSAVE2 on the target (with
 *                    the guest permission requested when the bundle needs AMX);
 *                    @target_uabi_size: the bytes KVM_SET_XSAVE reads after KVM_SET_CPUID2.
 * @target_supported_xcr0/_xss: kvm_caps of the target; @guest_supported_xcr0/_xss: the
 *                    target vCPU's after KVM_SET_CPUID2 of the bundle's CPUID.
 * @target_msrs:      the target's KVM_GET_MSR_INDEX_LIST, @target_nmsrs of them.
 */
struct vx_compat_report {
	enum vx_compat_verdict verdict;
	unsigned count;
	unsigned omitted;
	struct vx_compat_finding findings[VX_COMPAT_FINDINGS_MAX];
	bool restore_ran;
	unsigned restore_steps;
	unsigned restore_refusals;
	char source_layout[VX_PROFILE_NAME_MAX + 32];
	uint64_t xcr0, xss, xfd;
	uint64_t xstate_bv;
	uint32_t blob_size;
	uint32_t target_xsave2;
	uint32_t target_uabi_size;
	uint64_t target_supported_xcr0, target_supported_xss;
	uint64_t guest_supported_xcr0, guest_supported_xss;
	uint32_t target_nmsrs;
	uint32_t target_msrs[64];
};

/**
 * vx_compat_check() - can @bundle be restored on @target?  Every check of enum
 * vx_compat_check, then the bundle restored into a model vCPU of @target in the order a VMM
 * restores (docs/vmm.md "Restore order"): ARCH_REQ_XCOMP_GUEST_PERM when the bundle needs AMX,
 * KVM_SET_CPUID2, KVM_SET_XCRS, KVM_SET_MSRS one MSR at a time (IA32_XSS first; only the
 * XSAVE/CET MSRs the model knows), KVM_SET_ONE_REG, KVM_SET_XSAVE of the converted blob when a
 * conversion is needed, then KVM_GET_MSRS / KVM_GET_XSAVE2 to find values that did not stick.
 * Returns 0 with the verdict in @report, or an error for a target that cannot be booted.
 */
VX_API int vx_compat_check(const struct vx_vmm_bundle *bundle,
			   const struct vx_compat_target *target, struct vx_compat_report *report,
			   struct vx_error *err);
/**
 * vx_compat_check_with_platform() - vx_compat_check() with every allocation (the report, the
 * model hosts and vCPUs of the target and the source, the converted blob) from @platform
 * (NULL = vx_platform_default()).  If any allocation fails, even in a best-effort step, the
 * call is -ENOMEM with a reason and @report unchanged: a verdict without that step would be a
 * guess.
 */
VX_API int vx_compat_check_with_platform(const struct vx_vmm_bundle *bundle,
					 const struct vx_compat_target *target,
					 const struct vx_platform *platform,
					 struct vx_compat_report *report, struct vx_error *err);

/**
 * vx_compat_fix() - the bundle converted for @target: the blob moved to the target's standard
 * layout and resized to the bytes its KVM_SET_XSAVE reads; the source becomes the target.
 * -EINVAL with the first refusing reason when a conversion is not enough (the verdict is
 * "refused") or not needed ("restores"); @fixed unchanged then.  @fixed may alias nothing.
 */
VX_API int vx_compat_fix(const struct vx_vmm_bundle *bundle, const struct vx_compat_target *target,
			 struct vx_vmm_bundle *fixed, struct vx_error *err);
/** vx_compat_fix() allocating from @platform (NULL = default): -ENOMEM as for the check. */
VX_API int vx_compat_fix_with_platform(const struct vx_vmm_bundle *bundle,
				       const struct vx_compat_target *target,
				       const struct vx_platform *platform,
				       struct vx_vmm_bundle *fixed, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* Baseline (baseline.c; docs/vmm.md "vxsave baseline")                                         */

#define VX_BASELINE_MAX_HOSTS 32u
#define VX_BASELINE_MAX_CPUID 80u
#define VX_BASELINE_MAX_MSRS  16u

/**
 * struct vx_baseline - what every host of a pool can run.
 * @nhosts:         hosts compared.
 * @xcr0, @xss:     the guest XCR0 / IA32_XSS bits every host's KVM supports with the same
 *                  size and standard offset, closed under the XCR0 rules (arch.md §3.1).
 * @shstk, @ibt:    guest CPUID 7.0 ECX[7] / EDX[20] every host's KVM offers, kept only with
 *                  CET_U and CET_S in @xss (kvm.md §2.1).
 * @xsaveopt, @xsavec, @xgetbv1, @xsaves, @xfd: 0xD.1 EAX bits every host's KVM offers.
 * @standard_size, @compacted_size: the XSAVE sizes of @xcr0 (and @xcr0 | @xss) on the pool.
 * @xsave2:         KVM_CAP_XSAVE2 a VMM sees for it: max(4096, @standard_size).
 * @msrs:           the XSAVE/CET MSRs every host's KVM_GET_MSR_INDEX_LIST has.
 * @cpuid:          the CPUID entries to load: leaves 1, 7.0 and 7.1 with every host's
 *                  supported bits ANDed, leaf 0xD derived from @xcr0/@xss (never passed
 *                  through), @ncpuid of them.
 * @notes:          why each bit was left out (component, host, rule).
 */
struct vx_baseline {
	unsigned nhosts;
	uint64_t xcr0, xss;
	bool shstk, ibt;
	bool xsaveopt, xsavec, xgetbv1, xsaves, xfd;
	uint32_t standard_size, compacted_size, xsave2;
	uint32_t nmsrs;
	uint32_t msrs[VX_BASELINE_MAX_MSRS];
	uint32_t ncpuid;
	struct vx_kvm_cpuid_entry cpuid[VX_BASELINE_MAX_CPUID];
	unsigned count;
	unsigned omitted;
	struct vx_compat_finding notes[VX_COMPAT_FINDINGS_MAX];
};

/**
 * vx_baseline_compute() - the baseline of @hosts (1..VX_BASELINE_MAX_HOSTS): each is booted
 * as a KVM host (its flavour and design), asked KVM_GET_SUPPORTED_CPUID with the AMX guest
 * permission requested, and its MSR index list.  -EINVAL for no or too many hosts, or a host
 * that cannot be booted (named in @err).
 */
VX_API int vx_baseline_compute(const struct vx_compat_target *hosts, unsigned nhosts,
			       struct vx_baseline *baseline, struct vx_error *err);
/**
 * vx_baseline_compute_with_platform() - vx_baseline_compute() with every allocation (the
 * hosts booted, the result) from @platform (NULL = vx_platform_default()); any failed one is
 * -ENOMEM with a reason, @baseline unchanged.
 */
VX_API int vx_baseline_compute_with_platform(const struct vx_compat_target *hosts, unsigned nhosts,
					     const struct vx_platform *platform,
					     struct vx_baseline *baseline, struct vx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_VMM_COMPAT_H */
