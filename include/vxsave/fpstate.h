/* SPDX-License-Identifier: MIT */
/*
 * vxsave `fpu` layer: one register-state buffer of the modelled kernel, struct fpstate
 * (linux-fpu.md §3.1), and the operations on it that do not need a task: saving and restoring
 * it on a model CPU (§8.1, §8.3), the uABI conversions both ways (§7.1, §7.2), signal frames
 * (§8.4) and the ptrace regsets (§7.2).
 *
 * An fpstate is plain data the caller can inspect; @regs is a 64-byte aligned image of @size
 * bytes in the kernel's format (compacted with XCOMP_BV = @xfeatures | bit 63 when the system
 * uses XSAVEC/XSAVES, standard otherwise).  Every XSAVE/XRSTOR on it is executed by a model CPU
 * (vx_cpu_exec) at CPL0 - never a shortcut copy - so the init and modified optimizations show.
 *
 * Tasks, processes and CPUs (which own fpstates) are in fpu_task.h.
 */
#ifndef VXSAVE_FPSTATE_H
#define VXSAVE_FPSTATE_H

#include <vxsave/fpu.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct vx_fpstate - the kernel's struct fpstate (linux-fpu.md §3.1).
 * @size:            kernel image size (compacted when XCOMPACTED).
 * @user_size:       uABI (standard-format) size.
 * @xfeatures:       features with storage here: the RFBM of every save, the basis of XCOMP_BV.
 * @user_xfeatures:  features valid in uABI buffers (signal frames, ptrace, KVM_GET/SET_XSAVE).
 * @xfd:             features XFD-disabled for this context (IA32_XFD while it is loaded).
 * @is_valloc:       grown by fpstate_realloc() or allocated for a guest (§5.3, §6).
 * @is_guest:        a KVM guest's fpstate (§6).
 * @is_confidential: saved and restored by firmware; the kernel skips both (§6).
 * @in_use:          a guest fpstate currently installed as the task's fpstate (§6).
 * @regs:            the register image, @size bytes, 64-byte aligned.
 *
 * Invariants (§3.1): user_xfeatures ⊆ xfeatures ∩ USER_SUPPORTED; XCOMP_BV = xfeatures | bit 63
 * (compacted); XSTATE_BV ⊆ XCOMP_BV; a host fpstate never holds a guest-only feature.
 */
struct vx_fpstate {
	uint32_t size;
	uint32_t user_size;
	uint64_t xfeatures;
	uint64_t user_xfeatures;
	uint64_t xfd;
	bool is_valloc;
	bool is_guest;
	bool is_confidential;
	bool in_use;
	uint8_t *regs;
};

/**
 * struct vx_fpu_counters - what the model CPU actually did for one object (task, guest, fpstate):
 * for the evaluation layer.  Bytes are those the model processor wrote or read, so the init and
 * modified optimizations show.
 */
struct vx_fpu_counters {
	uint64_t saves;	   /* XSAVE* executed */
	uint64_t restores; /* XRSTOR* executed */
	uint64_t bytes_saved;
	uint64_t bytes_restored;
	uint64_t reallocs;
	uint64_t nm_events; /* #NM with XFD_ERR != 0 handled */
	uint64_t fpstate_bytes; /* memory held in fpstates now */
};

/* ----------------------------------------------------------------------------------------- */
/* Allocation and reset (fpstate.c)                                                             */

/**
 * vx_fpstate_create() - allocate an fpstate through the system's platform and reset it as
 * __fpstate_reset() + fpstate_init_user() do (§3.1 table, §6): host defaults, or guest defaults
 * (guest_default_cfg, xfd 0) with @guest; the image in its initial configuration (XCOMP_BV set,
 * FCW 0x037F, MXCSR 0x1F80).  -ENOMEM leaves *@out untouched.
 */
VX_API int vx_fpstate_create(const struct vx_fpu_system *system, bool guest,
			     struct vx_fpstate **out, struct vx_error *err);
VX_API void vx_fpstate_destroy(const struct vx_fpu_system *system, struct vx_fpstate *fps);
/** Re-initialise the image of @fps (fpstate_init_user, §6): keeps sizes and features. */
VX_API void vx_fpstate_init_image(const struct vx_fpu_system *system, struct vx_fpstate *fps);

/* ----------------------------------------------------------------------------------------- */
/* Save and restore on a model CPU (fpstate.c; §8.1, §8.3)                                      */

/**
 * vx_fpstate_save() - os_xsave(): the system's save instruction (XSAVES > XSAVEC > XSAVEOPT >
 * XSAVE, or FXSAVE without XSAVE) with RFBM = @fps->xfeatures into @fps->regs, executed by @cpu
 * at CPL0.  Adds to @counters (may be NULL).
 */
VX_API int vx_fpstate_save(const struct vx_fpu_system *system, struct vx_cpu *cpu,
			   struct vx_fpstate *fps, struct vx_fpu_counters *counters,
			   struct vx_error *err);
/**
 * vx_fpstate_restore() - restore_fpregs_from_fpstate(@fps, @mask): IA32_XFD := @fps->xfd first
 * (xfd_update_state), then XRSTORS/XRSTOR with RFBM = kernel max ∩ @mask, so components the
 * context cannot use are put in their initial configuration (§8.3).
 */
VX_API int vx_fpstate_restore(const struct vx_fpu_system *system, struct vx_cpu *cpu,
			      struct vx_fpstate *fps, uint64_t mask,
			      struct vx_fpu_counters *counters, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* uABI conversion (uabi.c; §7)                                                                 */

/** The modes of __copy_xstate_to_uabi_buf() (§7.1). */
enum vx_uabi_mode { VX_UABI_COPY_FP = 0, VX_UABI_COPY_FX, VX_UABI_COPY_XSAVE };

/**
 * vx_fpstate_to_uabi() - __copy_xstate_to_uabi_buf(): @fps's image → standard-format buffer
 * @buf of @len bytes (partial copies allowed, the rest zero-filled), header masked by @mode and
 * @xfeatures, PKRU from @pkru, components not present from init_fpstate, sw_reserved word 0 =
 * the user max features.
 */
VX_API int vx_fpstate_to_uabi(const struct vx_fpu_system *system, const struct vx_fpstate *fps,
			      uint64_t xfeatures, uint32_t pkru, enum vx_uabi_mode mode,
			      uint8_t *buf, size_t len, struct vx_error *err);
/**
 * vx_fpstate_from_uabi() - copy_uabi_to_xstate(): validate @buf (§7.2: header bits outside
 * user_xfeatures, XCOMP_BV != 0, reserved header bytes, MXCSR outside mxcsr_feature_mask when
 * FP/SSE/YMM is present; -EFAULT when @len is below 576 or a named component runs past @len;
 * -ENODEV without XSAVE) and copy it into @fps, keeping the supervisor XSTATE_BV bits.  @pkru:
 * set from the buffer, or to 0 when PKRU's bit is clear; NULL leaves it alone (KVM's ABI).
 * On refusal -EINVAL names the rule, bit or byte, and @fps and *@pkru are unchanged.
 */
VX_API int vx_fpstate_from_uabi(const struct vx_fpu_system *system, struct vx_fpstate *fps,
				const uint8_t *buf, size_t len, uint32_t *pkru,
				struct vx_error *err);

/**
 * vx_fpu_copy_guest_fpstate_to_uabi() - fpu_copy_guest_fpstate_to_uabi() (§7.1 item 7):
 * XSAVE host: vx_fpstate_to_uabi() in XSAVE mode with the caller's @xfeatures (KVM passes
 * guest_supported_xcr0 | FP|SSE); without XSAVE: the 512-byte FXSAVE image with XSTATE_BV =
 * FP|SSE (the rest of @buf zero).
 */
VX_API int vx_fpu_copy_guest_fpstate_to_uabi(const struct vx_fpu_system *system,
					     const struct vx_fpstate *fps, uint8_t *buf,
					     size_t len, uint64_t xfeatures, uint32_t pkru,
					     struct vx_error *err);
/**
 * vx_fpu_copy_uabi_to_guest_fpstate() - fpu_copy_uabi_to_guest_fpstate() (§7.3): XSAVE host:
 * XSTATE_BV outside @xcr0 → -EINVAL, then vx_fpstate_from_uabi() with @vpkru, or NULL when
 * PKRU's header bit is clear (KVM leaves PKRU alone); without XSAVE: bits beyond FP|SSE or a
 * bad MXCSR → -EINVAL, else the FXSAVE image is copied.
 */
VX_API int vx_fpu_copy_uabi_to_guest_fpstate(const struct vx_fpu_system *system,
					     struct vx_fpstate *fps, const uint8_t *buf,
					     size_t len, uint64_t xcr0, uint32_t *vpkru,
					     struct vx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_FPSTATE_H */
