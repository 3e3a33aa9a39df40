/* SPDX-License-Identifier: MIT */
/*
 * The FPU part of the 64-bit signal frame (linux-fpu.md §8.4 and the measurements of §12):
 * copy_fpstate_to_sigframe() on delivery, fpu__restore_sig() on sigreturn, and
 * fpu__clear_user_states().  The frame is written and read by the model CPU itself (XSAVE64 and
 * XRSTOR64 at CPL3 on the frame's bytes), as the kernel executes them on the user stack.
 */
#include <errno.h>
#include <string.h>

#include <vxsave/fpu_signal.h>

#include "fpstate_internal.h"

#define HDR_BV	      VX_XSTATE_BV_OFFSET
#define MIN_XSTATE    FPU_XREGS_SIZE /* sizeof(fxregs_state) + header: the smallest frame */
#define SW_OFF	      VX_FPX_SW_BYTES_OFFSET
#define FPU_MASK_PKRU VX_BIT(VX_COMP_PKRU)

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

bool vx_fpx_sw_bytes_read(const uint8_t *frame, size_t len, struct vx_fpx_sw_bytes *sw)
{
	if (!frame || len < VX_LEGACY_SIZE)
		return false;
	memcpy(&sw->magic1, frame + SW_OFF, 4);
	memcpy(&sw->extended_size, frame + SW_OFF + 4, 4);
	memcpy(&sw->xfeatures, frame + SW_OFF + 8, 8);
	memcpy(&sw->xstate_size, frame + SW_OFF + 16, 4);
	memcpy(sw->padding, frame + SW_OFF + 20, sizeof(sw->padding));
	return true;
}

bool vx_fpx_sw_bytes_write(uint8_t *frame, size_t len, const struct vx_fpx_sw_bytes *sw)
{
	if (!frame || len < VX_LEGACY_SIZE)
		return false;
	memcpy(frame + SW_OFF, &sw->magic1, 4);
	memcpy(frame + SW_OFF + 4, &sw->extended_size, 4);
	memcpy(frame + SW_OFF + 8, &sw->xfeatures, 8);
	memcpy(frame + SW_OFF + 16, &sw->xstate_size, 4);
	memcpy(frame + SW_OFF + 20, sw->padding, sizeof(sw->padding));
	return true;
}

uint32_t vx_fpu_sigframe_size(const struct vx_fpu_system *system, const struct vx_fpstate *fps)
{
	return system->insns.xsave ? fps->user_size + VX_FP_XSTATE_MAGIC2_SIZE : FPU_FXSAVE_SIZE;
}

/* ----------------------------------------------------------------------------------------- */
/* Delivery                                                                                     */

/*
 * The RFBM of the frame's XSAVE (§8.4): user_xfeatures; with dynamic sizing, features of
 * SIGFRAME_INITOPT (AMX) only when XINUSE says they are in use.
 */
static uint64_t sigframe_mask(const struct vx_fpu_system *sys, struct vx_cpu *cpu,
			      const struct vx_fpstate *fps)
{
	struct vx_event event;
	uint64_t xinuse = 0;

	if (sys->init_xfd == 0) /* fpu_state_size_dynamic() */
		return fps->user_xfeatures;
	if (vx_cpu_xgetbv(cpu, 1, &xinuse, &event) != 0)
		xinuse = vx_cpu_xinuse(cpu);
	return fps->user_xfeatures &
	       (xinuse | (VX_FPU_MASK_USER_SUPPORTED & ~VX_FPU_MASK_SIGFRAME_INITOPT));
}

/* save_xstate_epilog(): software bytes, MAGIC2, FP|SSE forced (§8.4, §12). */
static void sigframe_epilog(const struct vx_fpstate *fps, uint8_t *frame)
{
	struct vx_fpx_sw_bytes sw = {VX_FP_XSTATE_MAGIC1,
				     fps->user_size + VX_FP_XSTATE_MAGIC2_SIZE,
				     fps->user_xfeatures,
				     fps->user_size,
				     {0}};
	uint32_t magic2 = VX_FP_XSTATE_MAGIC2;

	vx_fpx_sw_bytes_write(frame, VX_LEGACY_SIZE, &sw);
	memcpy(frame + fps->user_size, &magic2, sizeof(magic2));
	wr64(frame + HDR_BV, rd64(frame + HDR_BV) | VX_FPU_MASK_FPSSE);
}

/* update_pkru_in_sigframe(): the PKRU value of the signal, and its XSTATE_BV bit. */
static void sigframe_pkru(const struct vx_fpu_system *sys, uint32_t pkru, uint8_t *frame)
{
	if (!(sys->user.max_features & FPU_MASK_PKRU)) /* OSPKE */
		return;
	wr64(frame + HDR_BV, rd64(frame + HDR_BV) | FPU_MASK_PKRU);
	memcpy(frame + sys->xstate[VX_COMP_PKRU].offset, &pkru, sizeof(pkru));
}

static int frame_fault(struct vx_error *err, const char *why, size_t len, uint32_t need)
{
	return vx_error_set(err, -EFAULT, "linux-fpu.md §8.4",
			    "the signal frame cannot be written: %s (%zu bytes, %u needed)", why,
			    len, need);
}

int vx_fpu_copy_fpstate_to_sigframe(const struct vx_fpu_system *system, struct vx_cpu *cpu,
				    const struct vx_fpstate *fps, uint32_t pkru, uint8_t *frame,
				    size_t len, struct vx_error *err)
{
	uint32_t need = vx_fpu_sigframe_size(system, fps);
	uint8_t header[VX_HEADER_SIZE];
	int rc;

	if (!frame || len < need)
		return frame_fault(err, "too short", len, need);
	if ((uintptr_t)frame % VX_AREA_ALIGN)
		return frame_fault(err, "not 64-byte aligned", len, need);
	if (!system->insns.xsave) /* copy_fpregs_to_sigframe(): FXSAVE only */
		return fpstate_fxsave(system, cpu, frame);
	memcpy(header, frame + HDR_BV, sizeof(header));
	memset(frame + HDR_BV, 0, VX_HEADER_SIZE);	     /* the user header is cleared first */
	rc = fpstate_xfd_update(system, cpu, fps->xfd, err); /* 6.18-rc4: XFD in sync */
	if (rc == 0)
		rc = fpstate_exec(cpu, 3, VX_INSN_XSAVE64, frame, need,
				  sigframe_mask(system, cpu, fps), err);
	if (rc) {
		memcpy(frame + HDR_BV, header, sizeof(header));
		return rc;
	}
	sigframe_pkru(system, pkru, frame);
	sigframe_epilog(fps, frame);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* sigreturn                                                                                    */

static const char *const outcome_names[] = {
    [VX_SIGRETURN_CLEARED] = "cleared",
    [VX_SIGRETURN_XSTATE] = "xstate",
    [VX_SIGRETURN_FX_ONLY] = "fx-only",
    [VX_SIGRETURN_SEGV] = "segv",
};

const char *vx_sigreturn_outcome_name(enum vx_sigreturn_outcome outcome)
{
	return (unsigned)outcome <= VX_SIGRETURN_SEGV ? outcome_names[outcome] : NULL;
}

int vx_fpu_clear_user_states(const struct vx_fpu_system *system, struct vx_cpu *cpu,
			     const struct vx_fpstate *fps, struct vx_error *err)
{
	const struct vx_reg_info *reg = vx_reg_lookup("pkru");
	uint32_t pkru = FPSTATE_INIT_PKRU;
	struct vx_event event;
	int rc = fpstate_xfd_update(system, cpu, fps->xfd, err); /* 6.18-rc4 */

	if (rc == 0)
		rc = fpstate_restore_init(system, cpu, VX_FPU_MASK_USER_RESTORE, err);
	if (rc == 0 && (system->user.max_features & FPU_MASK_PKRU) && reg)
		vx_cpu_set_reg(cpu, reg, &pkru, sizeof(pkru), &event); /* pkru_write_default() */
	return rc;
}

/*
 * check_xstate_in_sigframe() (§8.4, §12): magic1, then xstate_size within [576, user_size] and
 * not above extended_size, then MAGIC2 at xstate_size.  false = FX-only.  A MAGIC2 that lies
 * outside the frame is a fault (*@fault).
 */
static bool xstate_in_sigframe(const struct vx_fpstate *fps, const uint8_t *frame, size_t len,
			       struct vx_fpx_sw_bytes *sw, bool *fault)
{
	uint32_t magic2;

	*fault = false;
	if (sw->magic1 != VX_FP_XSTATE_MAGIC1 || sw->xstate_size < MIN_XSTATE ||
	    sw->xstate_size > fps->user_size || sw->xstate_size > sw->extended_size)
		return false;
	if ((uint64_t)sw->xstate_size + sizeof(magic2) > len) {
		*fault = true;
		return false;
	}
	memcpy(&magic2, frame + sw->xstate_size, sizeof(magic2));
	return magic2 == VX_FP_XSTATE_MAGIC2;
}

/* The faulting-restore path: fpu__clear_user_states(), and sigreturn raises SIGSEGV. */
static int restore_failed(const struct vx_fpu_system *sys, struct vx_cpu *cpu,
			  const struct vx_fpstate *fps, enum vx_sigreturn_outcome *outcome,
			  struct vx_error *err)
{
	struct vx_error scratch = VX_ERROR_INIT;

	*outcome = VX_SIGRETURN_SEGV;
	return vx_fpu_clear_user_states(sys, cpu, fps, err ? &scratch : NULL);
}

/* __restore_fpregs_from_user(): XRSTOR64 (or FXRSTOR64) from the frame, then init the rest. */
static int restore_from_frame(const struct vx_fpu_system *sys, struct vx_cpu *cpu,
			      const struct vx_fpstate *fps, uint8_t *frame, size_t len,
			      uint64_t xrestore, bool fx_only, struct vx_error *err)
{
	uint64_t init_bv = fps->user_xfeatures & ~xrestore;
	int rc = fpstate_xfd_update(sys, cpu, fps->xfd, err);

	if (rc)
		return rc;
	if (fx_only)
		rc = len < FPU_FXSAVE_SIZE
			 ? vx_error_set(err, -EFAULT, "linux-fpu.md §8.4",
					"FXRSTOR64: #PF: the frame has %zu bytes", len)
			 : fpstate_fxrstor(sys, cpu, frame, err);
	else
		rc = fpstate_exec(cpu, 3, VX_INSN_XRSTOR64, frame, len, xrestore, err);
	if (rc == 0 && init_bv)
		rc = fpstate_restore_init(sys, cpu, init_bv, err);
	return rc;
}

int vx_fpu_restore_sig(const struct vx_fpu_system *system, struct vx_cpu *cpu,
		       const struct vx_fpstate *fps, const uint8_t *frame, size_t len,
		       enum vx_sigreturn_outcome *outcome, struct vx_error *err)
{
	struct vx_fpx_sw_bytes sw = {0};
	uint8_t *copy;
	bool fault = false, xstate;
	int rc;

	*outcome = VX_SIGRETURN_CLEARED;
	if (!frame)
		return vx_fpu_clear_user_states(system, cpu, fps, err);
	xstate = system->insns.xsave && vx_fpx_sw_bytes_read(frame, len, &sw) &&
		 xstate_in_sigframe(fps, frame, len, &sw, &fault);
	if (fault) {
		vx_error_set(err, -EFAULT, "linux-fpu.md §8.4",
			     "MAGIC2 at xstate_size %u lies outside the %zu-byte frame",
			     sw.xstate_size, len);
		return restore_failed(system, cpu, fps, outcome, err);
	}
	if ((uintptr_t)frame % (xstate ? VX_AREA_ALIGN : 16u)) { /* XRSTOR64/FXRSTOR64: #GP */
		vx_error_set(err, -EFAULT, "arch.md §5.0", "the frame at %p is misaligned",
			     (const void *)frame);
		return restore_failed(system, cpu, fps, outcome, err);
	}
	/* The restore never writes: the model CPU reads an aligned copy of the frame. */
	copy = system->platform->alloc(system->platform->ctx, len ? len : 1, VX_AREA_ALIGN);
	if (!copy)
		return vx_error_set(err, -ENOMEM, "linux-fpu.md §8.4", "no memory for the frame");
	memcpy(copy, frame, len);
	*outcome = xstate ? VX_SIGRETURN_XSTATE : VX_SIGRETURN_FX_ONLY;
	rc = restore_from_frame(system, cpu, fps, copy, len,
				(xstate ? sw.xfeatures : VX_FPU_MASK_FPSSE) & fps->user_xfeatures,
				!xstate, err);
	system->platform->free(system->platform->ctx, copy);
	if (rc == -EFAULT)
		return restore_failed(system, cpu, fps, outcome, err);
	return rc;
}
