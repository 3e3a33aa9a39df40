/* SPDX-License-Identifier: MIT */
/*
 * vxsave `fpu` layer: the host FPU framework of the Linux kernel (6.17 - 6.18), modelled on top
 * of the `arch` and `cpu` layers.
 *
 * This header is the booted FPU system: what fpu__init_system_xstate() computes from a CPU's
 * CPUID (linux-fpu.md §2): the kernel/user configurations (max and default features and sizes),
 * guest_default_cfg, legacy and independent features, init_fpstate, the per-component
 * offset/size/flag cache, the XCR0/IA32_XSS/IA32_XFD values programmed on every CPU, every way
 * the boot can turn XSAVE off, and the `x86/fpu:` lines the kernel prints while doing it.
 *
 * Where CET supervisor state (CET_S, component 12) lives is a configuration of the system, not a
 * fork of the code (struct vx_fpu_config.cet_design).  Facts: ../shared/spec/linux-fpu.md; the
 * section is named beside each rule in the sources.  Where this machine's kernel disagrees with
 * the notes, the kernel decides: docs/fpu.md lists the differences.
 */
#ifndef VXSAVE_FPU_H
#define VXSAVE_FPU_H

#include <vxsave/arch.h>
#include <vxsave/cpu.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/* The kernel's xfeature masks (linux-fpu.md §1, x86-64 values)                                 */

#define VX_FPU_XFEATURE_MAX	     20
#define VX_FPU_MASK_FPSSE	     UINT64_C(0x3)
#define VX_FPU_MASK_USER_SUPPORTED   UINT64_C(0xE02FF)
#define VX_FPU_MASK_USER_RESTORE     UINT64_C(0xE00FF) /* USER_SUPPORTED minus PKRU */
#define VX_FPU_MASK_USER_DYNAMIC     UINT64_C(0x40000) /* XTILE_DATA */
#define VX_FPU_MASK_INDEPENDENT	     UINT64_C(0x8000)  /* LBR */
#define VX_FPU_MASK_SIGFRAME_INITOPT UINT64_C(0x60000) /* XTILE | USER_DYNAMIC */
/* The supervisor masks depend on the CET_S design: see struct vx_fpu_masks. */

/* ----------------------------------------------------------------------------------------- */
/* Configuration: where CET_S lives                                                             */

/**
 * enum vx_fpu_cet_design - where the kernel keeps CET supervisor state (IA32_PL0/1/2_SSP).
 * @VX_FPU_CET_UNSUPPORTED: "unsupported", the kernel before the CET supervisor series: CET_S is
 *                          in XFEATURE_MASK_SUPERVISOR_UNSUPPORTED, never in IA32_XSS.
 * @VX_FPU_CET_ALL_TASKS:   "all-tasks": CET_S is a normal supported supervisor feature, in every
 *                          task's default features (24 bytes more per thread, XSAVES' init
 *                          optimization avoids writing it).
 * @VX_FPU_CET_GUEST_ONLY:  "guest-only", the merged 6.17+ design and the default: CET_S is in
 *                          IA32_XSS and the kernel max features, out of the host defaults, in
 *                          guest_default_cfg (XFEATURE_MASK_GUEST_SUPERVISOR, §1, §2.2 step 10).
 *
 * Seam for the KVM-managed designs: "kvm-eager", "kvm-lazy" and "kvm-user-return" keep the three
 * MSRs out of XSAVE and swap them in the kvm layer.  They boot this layer as
 * VX_FPU_CET_UNSUPPORTED and add their own state on top; the kvm layer owns their names and
 * maps them here with vx_fpu_cet_design_base().  This layer never sees them.
 */
enum vx_fpu_cet_design {
	VX_FPU_CET_UNSUPPORTED = 0,
	VX_FPU_CET_ALL_TASKS,
	VX_FPU_CET_GUEST_ONLY,
	VX_FPU_CET_DESIGN_COUNT
};

#define VX_FPU_CET_DEFAULT VX_FPU_CET_GUEST_ONLY

/** "unsupported", "all-tasks", "guest-only"; NULL if out of range. */
VX_API const char *vx_fpu_cet_design_name(enum vx_fpu_cet_design design);
/** The design called @name (exact, lower case); -ENOENT if there is none (kvm-* included). */
VX_API int vx_fpu_cet_design_by_name(const char *name);
/**
 * vx_fpu_cet_design_base() - the FPU design a CET_S design name boots this layer with: itself
 * for the three above, VX_FPU_CET_UNSUPPORTED for "kvm-eager", "kvm-lazy", "kvm-user-return"
 * (the seam the kvm layer builds on); -ENOENT for any other name.
 */
VX_API int vx_fpu_cet_design_base(const char *name);

/**
 * struct vx_fpu_config - how the modelled kernel is built and booted.
 * @cet_design:      where CET_S lives (above).
 * @cleared_features: CPU features the kernel has cleared from its capabilities, as a mask of
 *                   VX_BIT(enum vx_feature) (a kernel without the support, or a CPU quirk);
 *                   e.g. VX_BIT(VX_FEAT_CET_SS) drops CET_U and CET_S (linux-fpu.md test
 *                   expectation 9: "X86_FEATURE_SHSTK not cleared").  0 on a normal boot.
 * @ia32_emulation:  CONFIG_IA32_EMULATION: signal frames reserve the 112-byte fsave header
 *                   (linux-fpu.md §4, fpu__get_fpstate_size()).  True on Debian kernels and here.
 * @platform:        allocation for the system; NULL = vx_platform_default().
 */
struct vx_fpu_config {
	enum vx_fpu_cet_design cet_design;
	uint64_t cleared_features;
	bool ia32_emulation;
	const struct vx_platform *platform;
};

#define VX_FPU_CONFIG_INIT                                                                         \
	{                                                                                          \
		VX_FPU_CET_DEFAULT, 0, true, NULL                                                  \
	}

/** Set @config to VX_FPU_CONFIG_INIT (guest-only, nothing cleared, IA32 emulation). */
VX_API void vx_fpu_config_init(struct vx_fpu_config *config);

/* ----------------------------------------------------------------------------------------- */
/* The booted system                                                                            */

struct vx_fpu_system;

/**
 * struct vx_fpu_state_config - the kernel's struct fpu_state_config (linux-fpu.md §2.1).
 * @max_features:     every supported feature except independent ones.
 * @default_features: max minus dynamic (XTILE_DATA) minus guest-only.
 * @max_size, @default_size: kernel: compacted (XSAVES/XSAVEC) sizes; user: uABI (standard).
 * @legacy_features:  what is reportable without XSAVE (set on the user config only).
 * @independent_features: LBR-like features (set on the kernel config only).
 */
struct vx_fpu_state_config {
	uint64_t max_features;
	uint64_t default_features;
	uint32_t max_size;
	uint32_t default_size;
	uint64_t legacy_features;
	uint64_t independent_features;
};

/** struct vx_fpu_guest_config - guest_default_cfg (linux-fpu.md §2.1): no user part. */
struct vx_fpu_guest_config {
	uint64_t features;
	uint32_t size;
};

/**
 * struct vx_fpu_masks - the composite masks of this build (linux-fpu.md §1); the supervisor ones
 * depend on the CET_S design (CET_S moves between SUPPORTED, UNSUPPORTED and GUEST_SUPERVISOR).
 */
struct vx_fpu_masks {
	uint64_t user_supported;
	uint64_t supervisor_supported;
	uint64_t supervisor_unsupported;
	uint64_t guest_supervisor;
	uint64_t independent;
	uint64_t fpstate; /* USER_RESTORE | SUPERVISOR_SUPPORTED: the restore mask's base (§8.3) */
	uint64_t host_default;	/* host_default_mask(): all bits except USER_DYNAMIC|GUEST_SUPER */
	uint64_t guest_default; /* guest_default_mask(): all bits except USER_DYNAMIC */
};

/**
 * enum vx_fpu_xsave_status - how the boot ended for XSAVE (linux-fpu.md §2.2).
 * The DISABLED_* values are fpu__init_disable_system_xstate(): every size falls back to the
 * legacy size and XCR0/XSS are not programmed.
 */
enum vx_fpu_xsave_status {
	VX_FPU_XSAVE_ENABLED = 0,
	VX_FPU_XSAVE_ABSENT,	       /* the CPU has no XSAVE: FXSAVE (or FSAVE) only, step 1 */
	VX_FPU_XSAVE_DISABLED_FPSSE,   /* step 3: FP or SSE missing from leaf 0xD */
	VX_FPU_XSAVE_DISABLED_APX_MPX, /* step 4: APX together with BNDREGS/BNDCSR */
	VX_FPU_XSAVE_DISABLED_SIZE,    /* step 14 / §2.4: computed size != CPUID size */
	VX_FPU_XSAVE_DISABLED_INIT_BUFFER, /* step 16: default size above sizeof(init_fpstate.regs)
					    */
	VX_FPU_XSAVE_STATUS_COUNT
};

/** "enabled", "absent", "disabled: FP/SSE missing", ...; NULL if out of range. */
VX_API const char *vx_fpu_xsave_status_name(enum vx_fpu_xsave_status status);

/**
 * struct vx_fpu_cpu_setup - what fpu__init_cpu_xstate() programs on every CPU (§2.2 step 13),
 * in this order: CR4.OSXSAVE, IA32_XFD (only if @write_xfd, before XSETBV), XCR0, IA32_XSS
 * (only if @write_xss).  When XSAVE is absent or disabled, @osxsave is false and nothing else
 * is written (XCR0 keeps its power-on value 1).
 */
struct vx_fpu_cpu_setup {
	bool osxsave;
	bool write_xfd;
	bool write_xss;
	uint64_t xfd;
	uint64_t xcr0;
	uint64_t xss;
};

/**
 * struct vx_fpu_insns - the instructions the kernel's alternatives pick (§8.1).  Without
 * @xsave (absent or disabled) the kernel uses FXSAVE/FXRSTOR, and @save/@restore are unused.
 */
struct vx_fpu_insns {
	bool xsave;
	bool compacted;	      /* X86_FEATURE_XCOMPACTED: XSAVEC or XSAVES (§2.2 step 12) */
	enum vx_insn save;    /* XSAVES64 > XSAVEC64 > XSAVEOPT64 > XSAVE64 */
	enum vx_insn restore; /* XRSTORS64 with XSAVES, else XRSTOR64 */
};

/**
 * struct vx_fpu_xstate_info - one entry of the per-component cache (setup_xstate_cache, §2.3).
 * @size:   CPUID.(0xD,i).EAX (160/256 for FP/SSE).
 * @offset: the standard-format offset (CPUID.(0xD,i).EBX); VX_FPU_NO_OFFSET for supervisor
 *          components, which have none (the kernel's -1).
 * @flags:  CPUID.(0xD,i).ECX: VX_FPU_XSTATE_FLAG_SUPERVISOR, VX_FPU_XSTATE_FLAG_ALIGNED64.
 */
struct vx_fpu_xstate_info {
	uint32_t size;
	uint32_t offset;
	uint32_t flags;
};

#define VX_FPU_NO_OFFSET	      UINT32_MAX
#define VX_FPU_XSTATE_FLAG_SUPERVISOR 0x1u
#define VX_FPU_XSTATE_FLAG_ALIGNED64  0x2u

/* The kernel's init_fpstate.regs is a union padded to one page (§2.2 step 16). */
#define VX_FPU_INIT_FPSTATE_REGS_SIZE 4096u

/**
 * vx_fpu_system_create() - boot the modelled kernel's FPU framework on @profile (copied) with
 * @config (NULL = VX_FPU_CONFIG_INIT): fpu__init_system() of linux-fpu.md §2.2 step by step,
 * including the boot log.  A boot that turns XSAVE off is not an error (see
 * vx_fpu_xsave_status()); errors are -EINVAL (bad design, a profile without an x87 FPU, which a
 * 64-bit kernel cannot boot on), -ENOMEM (allocation through the platform), or a model CPU that
 * refuses the values the kernel programs.
 */
VX_API int vx_fpu_system_create(const struct vx_profile *profile,
				const struct vx_fpu_config *config, struct vx_fpu_system **system,
				struct vx_error *err);
VX_API void vx_fpu_system_destroy(struct vx_fpu_system *system);

VX_API const struct vx_profile *vx_fpu_system_profile(const struct vx_fpu_system *system);
VX_API const struct vx_fpu_config *vx_fpu_system_config(const struct vx_fpu_system *system);
VX_API enum vx_fpu_xsave_status vx_fpu_xsave_status(const struct vx_fpu_system *system);
/** fpu_kernel_cfg, fpu_user_cfg and guest_default_cfg after boot. */
VX_API const struct vx_fpu_state_config *vx_fpu_kernel_cfg(const struct vx_fpu_system *system);
VX_API const struct vx_fpu_state_config *vx_fpu_user_cfg(const struct vx_fpu_system *system);
VX_API const struct vx_fpu_guest_config *vx_fpu_guest_cfg(const struct vx_fpu_system *system);
VX_API const struct vx_fpu_masks *vx_fpu_masks(const struct vx_fpu_system *system);
VX_API const struct vx_fpu_cpu_setup *vx_fpu_cpu_setup(const struct vx_fpu_system *system);
VX_API const struct vx_fpu_insns *vx_fpu_insns(const struct vx_fpu_system *system);

/**
 * vx_fpu_init_fpstate() - init_fpstate (§2.2 steps 11, 16, 17): its register image in the
 * kernel's format (compacted with XCOMP_BV = default features | bit 63 when XCOMPACTED; legacy
 * region as FXSAVE left it after XRSTOR(S) of an all-init header), @size bytes, its
 * @xfeatures and @xfd.  Any pointer may be NULL.  Returns the image.
 */
VX_API const uint8_t *vx_fpu_init_fpstate(const struct vx_fpu_system *system, uint32_t *size,
					  uint64_t *xfeatures, uint64_t *xfd);

/** Entry @id (< VX_FPU_XFEATURE_MAX) of the xstate cache; false if @id is out of range. */
VX_API bool vx_fpu_xstate_info(const struct vx_fpu_system *system, unsigned id,
			       struct vx_fpu_xstate_info *info);
/**
 * vx_fpu_uncompact_order() - xfeature_uncompact_order[] (§2.3): the extended user features of
 * the kernel max, sorted by standard offset.  Writes up to @max ids; returns how many there are.
 */
VX_API unsigned vx_fpu_uncompact_order(const struct vx_fpu_system *system, unsigned *ids,
				       unsigned max);
/**
 * vx_fpu_xfeature_offset() - xfeature_get_offset(@xcomp_bv, @id) (§2.3): where component @id
 * lies in a buffer whose XCOMP_BV is @xcomp_bv (compacted) or in the standard format.
 * VX_FPU_NO_OFFSET if @id has no place there.
 */
VX_API uint32_t vx_fpu_xfeature_offset(const struct vx_fpu_system *system, uint64_t xcomp_bv,
				       unsigned id);
/** xstate_calculate_size(@mask, @compacted) (§2.4). */
VX_API uint32_t vx_fpu_calculate_size(const struct vx_fpu_system *system, uint64_t mask,
				      bool compacted);

/**
 * vx_fpu_sigframe_fpstate_size() - fpu__get_fpstate_size() (§4): user max size, + 4 for
 * FP_XSTATE_MAGIC2 with XSAVE, + 112 (fsave header) with IA32 emulation.  The FPU part of the
 * signal frame and of AT_MINSIGSTKSZ.
 */
VX_API uint32_t vx_fpu_sigframe_fpstate_size(const struct vx_fpu_system *system);

/**
 * vx_fpu_system_init_cpu() - program @cpu (made from the same profile) as fpu__init_cpu_xstate()
 * does on every CPU: vx_fpu_cpu_setup() in its order.  Returns 0, or -EINVAL with the faulting
 * write in @err (the model CPU refused a value: a profile whose masks break the XCR0 rules).
 */
VX_API int vx_fpu_system_init_cpu(const struct vx_fpu_system *system, struct vx_cpu *cpu,
				  struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* The boot log                                                                                 */

enum vx_fpu_log_level { VX_FPU_LOG_INFO = 0, VX_FPU_LOG_WARNING, VX_FPU_LOG_ERROR };

#define VX_FPU_LOG_LINE_MAX 160

/**
 * struct vx_fpu_log_line - one line as the kernel prints it (as dmesg shows it without the
 * timestamp), e.g. "x86/fpu: Supporting XSAVE feature 0x001: 'x87 floating point registers'".
 * @level: KERN_INFO / KERN_WARNING (WARN splats) / KERN_ERR.
 */
struct vx_fpu_log_line {
	enum vx_fpu_log_level level;
	char text[VX_FPU_LOG_LINE_MAX];
};

VX_API unsigned vx_fpu_boot_log_count(const struct vx_fpu_system *system);
/** Line @index of the boot log, or NULL past the end. */
VX_API const struct vx_fpu_log_line *vx_fpu_boot_log_line(const struct vx_fpu_system *system,
							  unsigned index);
/** mxcsr_feature_mask (§2.2): MXCSR bits a uABI buffer may set (FXSAVE's MXCSR_MASK). */
VX_API uint32_t vx_fpu_mxcsr_feature_mask(const struct vx_fpu_system *system);
/** The kernel's name of xfeature @id (xfeature_names[], §1), "unknown xstate feature" above. */
VX_API const char *vx_fpu_xfeature_name(const struct vx_fpu_system *system, unsigned id);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_FPU_H */
