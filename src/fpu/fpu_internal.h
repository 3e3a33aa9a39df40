/* SPDX-License-Identifier: MIT */
/*
 * The private layout of struct vx_fpu_system and what the fpu layer's files share.
 *
 * One allocation per system (vx_fpu_system_create): the kernel's boot-time globals
 * (fpu_kernel_cfg, fpu_user_cfg, guest_default_cfg, init_fpstate, the xstate cache) become
 * fields of this object, so several kernels - different CPUs, different CET_S designs - can be
 * booted side by side (no global mutable state).
 */
#ifndef VXSAVE_FPU_INTERNAL_H
#define VXSAVE_FPU_INTERNAL_H

#include <vxsave/fpu.h>

/*
 * The context switch's helpers (issue 7): forced inline, so that schedule + return to user is
 * one function down to the model CPU's entry - every call frame on that path costs as much as
 * a check, and the bench holds the switch to 1.2x of the bare instructions (bench_fpu.c).
 */
#define FPU_HOT static inline __attribute__((always_inline))

/* Room for every line a boot can print: 20 features, 18 offsets, a few messages. */
#define FPU_LOG_LINES 64

#define FPU_MASK_FP	  VX_BIT(VX_COMP_X87)
#define FPU_MASK_SSE	  VX_BIT(VX_COMP_SSE)
#define FPU_MASK_YMM	  VX_BIT(VX_COMP_AVX)
#define FPU_MASK_MPX	  (VX_BIT(VX_COMP_BNDREGS) | VX_BIT(VX_COMP_BNDCSR))
#define FPU_MASK_APX	  VX_BIT(VX_COMP_APX)
#define FPU_MASK_CET_S	  VX_BIT(VX_COMP_CET_S)
#define FPU_XFEATURES_ALL (VX_BIT(VX_FPU_XFEATURE_MAX) - 1)

/* sizeof(struct fxregs_state) and sizeof(struct fregs_state): the legacy sizes (§2.2). */
#define FPU_FXSAVE_SIZE 512u
#define FPU_FSAVE_SIZE	112u
/* sizeof(struct xregs_state): legacy region + header (§2.4). */
#define FPU_XREGS_SIZE 576u

/*
 * A uABI copy layout (uabi.c), derived once from the xstate cache (§2.3) for the kernel images
 * of one XCOMP_BV: where each component sits in the image, the extended user components in
 * standard-offset order, and runs of components contiguous in both formats - so a conversion
 * is a walk over a few runs and one memcpy() each, not an offset computation per component.
 */
#define FPU_UABI_LAYOUTS 5

struct fpu_uabi_segment {
	uint32_t std, size, image; /* image: VX_FPU_NO_OFFSET when the image lacks it */
	unsigned id;
};

/* Components whose standard and image ranges both continue each other: one copy. */
struct fpu_uabi_run {
	uint64_t mask;		   /* the components */
	uint32_t std, image, size; /* [std, std + size) in the buffer, from image */
	uint32_t image_end;	   /* image + size: the image bytes it needs (UINT32_MAX: none) */
	unsigned first, count;	   /* their segments (standard order runs only) */
};

struct fpu_uabi_layout {
	uint64_t xcomp_bv; /* of the images it describes; 0 for the standard format */
	bool overlap;	   /* two standard ranges overlap (APX/MPX; the boot refuses that) */
	bool joins_base;   /* the first standard run sits at 576 in both formats */
	uint32_t image[VX_FPU_XFEATURE_MAX];
	unsigned nseg, nstd, nid;
	struct fpu_uabi_segment seg[VX_FPU_XFEATURE_MAX];
	struct fpu_uabi_run std_runs[VX_FPU_XFEATURE_MAX]; /* the segments grouped: kernel → uABI */
	struct fpu_uabi_run id_runs[VX_FPU_XFEATURE_MAX]; /* by feature number: uABI → kernel */
};

struct vx_fpu_system {
	struct vx_profile profile;
	struct vx_fpu_config config;
	const struct vx_platform *platform;
	struct vx_fpu_masks masks;
	enum vx_fpu_xsave_status status;

	/* The kernel's globals of linux-fpu.md §2.1. */
	struct vx_fpu_state_config kernel;
	struct vx_fpu_state_config user;
	struct vx_fpu_guest_config guest;
	uint32_t legacy_size;
	uint32_t mxcsr_feature_mask;
	uint64_t raw_max_features;  /* leaf 0xD before any masking, for the messages */
	uint64_t paranoia_features; /* the "xfeatures" copy kept for the final paranoia check */

	struct vx_fpu_cpu_setup setup;
	struct vx_fpu_insns insns;

	/* setup_xstate_cache() (§2.3). */
	struct vx_fpu_xstate_info xstate[VX_FPU_XFEATURE_MAX];
	unsigned uncompact_order[VX_FPU_XFEATURE_MAX];
	unsigned uncompact_count;

	/* init_fpstate (§2.2 steps 11, 16, 17). */
	uint64_t init_xfeatures;
	uint64_t init_xfd;
	uint32_t init_size;
	_Alignas(64) uint8_t init_image[VX_FPU_INIT_FPSTATE_REGS_SIZE];

	unsigned log_count;
	struct vx_fpu_log_line log[FPU_LOG_LINES];

	/* Derived at boot for the hot paths (issue 7): uABI layouts of the usual fpstates and
	 * the standard ends of feature-mask bytes (uabi.c), and the bytes the components of each
	 * byte of a feature mask take (the save/restore counters, fpstate.c; byte 0's table adds
	 * the header and MXCSR bytes every count has).  Zero when XSAVE is off. */
	unsigned uabi_layout_count;
	struct fpu_uabi_layout uabi_layouts[FPU_UABI_LAYOUTS];
	uint32_t uabi_end[3][256]; /* the furthest standard end of a mask byte's components */
	uint32_t mask_bytes[3][256];
};

/* features.c: the per-xfeature table and the design table. */
bool fpu_cpu_has(const struct vx_fpu_system *sys, enum vx_feature feature);
uint64_t fpu_gated_features(const struct vx_fpu_system *sys);
void fpu_design_masks(enum vx_fpu_cet_design design, struct vx_fpu_masks *masks);
uint32_t fpu_xfeature_struct_size(unsigned id);

/* xstate.c: the per-component cache and the sizes computed from it. */
void fpu_setup_xstate_cache(struct vx_fpu_system *sys);
bool fpu_check_xstate_against_struct(struct vx_fpu_system *sys, unsigned id);

/* fpstate.c, uabi.c: the derived tables above, filled once XSAVE is enabled. */
void fpu_fpstate_setup_tables(struct vx_fpu_system *sys);
void fpu_uabi_setup_layouts(struct vx_fpu_system *sys);

/*
 * uabi.c: every failing rule of KVM_SET_XSAVE's checks on @buf (§7.3 against @xcr0, then §7.2
 * against @fps), each passed to @sink in the kernel's order - the all-failures mode of the
 * checks vx_fpu_copy_uabi_to_guest_fpstate() stops at the first of (the vmm layer's
 * validation, issue 10).  Returns 0 when @buf passes, else the first refusal's errno; writes
 * nothing.
 */
struct vx_fpstate;
typedef void (*vx_fpu_uabi_sink)(void *ctx, const struct vx_error *err);
int vx_fpu_uabi_guest_refusals(const struct vx_fpu_system *system, const struct vx_fpstate *fps,
			       const uint8_t *buf, size_t len, uint64_t xcr0, vx_fpu_uabi_sink sink,
			       void *ctx);

/* init_fpstate.c */
int fpu_setup_init_fpu_buf(struct vx_fpu_system *sys, struct vx_error *err);

/* bootlog.c */
void fpu_log(struct vx_fpu_system *sys, enum vx_fpu_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fpu_log_features(struct vx_fpu_system *sys);
void fpu_log_offsets(struct vx_fpu_system *sys);

#endif /* VXSAVE_FPU_INTERNAL_H */
