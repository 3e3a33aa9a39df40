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
};

/* features.c: the per-xfeature table and the design table. */
bool fpu_cpu_has(const struct vx_fpu_system *sys, enum vx_feature feature);
uint64_t fpu_gated_features(const struct vx_fpu_system *sys);
void fpu_design_masks(enum vx_fpu_cet_design design, struct vx_fpu_masks *masks);
uint32_t fpu_xfeature_struct_size(unsigned id);

/* xstate.c: the per-component cache and the sizes computed from it. */
void fpu_setup_xstate_cache(struct vx_fpu_system *sys);
bool fpu_check_xstate_against_struct(struct vx_fpu_system *sys, unsigned id);

/* init_fpstate.c */
int fpu_setup_init_fpu_buf(struct vx_fpu_system *sys, struct vx_error *err);

/* bootlog.c */
void fpu_log(struct vx_fpu_system *sys, enum vx_fpu_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fpu_log_features(struct vx_fpu_system *sys);
void fpu_log_offsets(struct vx_fpu_system *sys);

#endif /* VXSAVE_FPU_INTERNAL_H */
