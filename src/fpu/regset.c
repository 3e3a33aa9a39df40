/* SPDX-License-Identifier: MIT */
/*
 * ptrace regsets NT_X86_XSTATE (xstateregs_get/set) and NT_PRFPREG (xfpregs_get/set), with the
 * generic PTRACE_GETREGSET/SETREGSET length rules in front of them, and the core-dump
 * NT_X86_XSAVE_LAYOUT note (linux-fpu.md §7.1, §7.2, §8.4; lengths as measured in §12).
 */
#include <errno.h>
#include <string.h>

#include <vxsave/fpu_signal.h>

#include "fpstate_internal.h"
#include "task_internal.h"

/* Both regsets count in u64 / long units (the generic iov_len % size check). */
#define REGSET_ELEM 8u

uint32_t vx_fpu_regset_size(const struct vx_fpu_system *system, unsigned note)
{
	if (note == VX_NT_X86_XSTATE)
		return system->user.max_size;
	return note == VX_NT_PRFPREG ? FPU_FXSAVE_SIZE : 0;
}

/* ptrace_regset(): unknown note or a length not a multiple of the element → -EINVAL. */
static int regset_len(const struct vx_fpu_system *sys, unsigned note, size_t len, size_t *out,
		      struct vx_error *err)
{
	uint32_t size = vx_fpu_regset_size(sys, note);

	if (size == 0)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §7", "no regset for note 0x%x",
				    note);
	if (len % REGSET_ELEM) {
		if (err)
			err->offset = (int64_t)len;
		return vx_error_set(err, -EINVAL, "linux-fpu.md §12",
				    "iov_len %zu is not a multiple of %u", len, REGSET_ELEM);
	}
	*out = len < size ? len : size; /* longer buffers are clamped (§12) */
	return 0;
}

static int no_xsave(struct vx_error *err)
{
	return vx_error_set(err, -ENODEV, "linux-fpu.md §7.1 item 6", "NT_X86_XSTATE needs XSAVE");
}

int vx_fpu_ptrace_getregset(const struct vx_fpu_system *system, const struct vx_fpstate *fps,
			    uint32_t pkru, unsigned note, uint8_t *buf, size_t *iov_len,
			    struct vx_error *err)
{
	size_t len = 0;
	int rc = regset_len(system, note, *iov_len, &len, err);

	if (rc)
		return rc;
	if (note == VX_NT_X86_XSTATE && !system->insns.xsave)
		return no_xsave(err);
	if (note == VX_NT_PRFPREG && !system->insns.xsave) { /* xfpregs_get without XSAVE */
		memcpy(buf, fps->regs, len);
		*iov_len = len;
		return 0;
	}
	rc = vx_fpstate_to_uabi(system, fps, fps->user_xfeatures, pkru,
				note == VX_NT_PRFPREG ? VX_UABI_COPY_FX : VX_UABI_COPY_XSAVE, buf,
				len, err);
	if (rc == 0)
		*iov_len = len;
	return rc;
}

/* xstateregs_set(): a whole user-max-sized buffer or -EFAULT (§7.2, §12). */
static int xstateregs_set(const struct vx_fpu_system *sys, struct vx_fpstate *fps, uint32_t *pkru,
			  const uint8_t *buf, size_t len, struct vx_error *err)
{
	if (!sys->insns.xsave)
		return no_xsave(err);
	if (len != sys->user.max_size) {
		if (err)
			err->offset = (int64_t)len;
		return vx_error_set(err, -EFAULT, "linux-fpu.md §7.2",
				    "NT_X86_XSTATE needs %u bytes, got %zu", sys->user.max_size,
				    len);
	}
	return vx_fpstate_from_uabi(sys, fps, buf, len, pkru, err);
}

/* xfpregs_set(): 512 bytes, a valid MXCSR; FP|SSE marked present (§7.2). */
static int xfpregs_set(const struct vx_fpu_system *sys, struct vx_fpstate *fps, const uint8_t *buf,
		       size_t len, struct vx_error *err)
{
	uint32_t mxcsr;
	uint64_t bv;

	if (len < FPU_FXSAVE_SIZE) {
		if (err)
			err->offset = (int64_t)len;
		return vx_error_set(err, -EINVAL, "linux-fpu.md §7.2, §12",
				    "NT_PRFPREG needs 512 bytes, got %zu", len);
	}
	memcpy(&mxcsr, buf + VX_MXCSR_OFFSET, sizeof(mxcsr));
	if (mxcsr & ~sys->mxcsr_feature_mask) {
		if (err) {
			err->component = VX_COMP_SSE;
			err->bits = mxcsr & ~sys->mxcsr_feature_mask;
			err->offset = VX_MXCSR_OFFSET;
		}
		return vx_error_set(err, -EINVAL, "linux-fpu.md §7.2",
				    "MXCSR 0x%08x has bits outside mxcsr_feature_mask 0x%08x",
				    mxcsr, sys->mxcsr_feature_mask);
	}
	memcpy(fps->regs, buf, FPU_FXSAVE_SIZE);
	if (sys->insns.xsave) {
		memcpy(&bv, fps->regs + VX_XSTATE_BV_OFFSET, sizeof(bv));
		bv |= VX_FPU_MASK_FPSSE;
		memcpy(fps->regs + VX_XSTATE_BV_OFFSET, &bv, sizeof(bv));
	}
	return 0;
}

int vx_fpu_ptrace_setregset(const struct vx_fpu_system *system, struct vx_fpstate *fps,
			    uint32_t *pkru, unsigned note, const uint8_t *buf, size_t len,
			    struct vx_error *err)
{
	size_t n = 0;
	int rc = regset_len(system, note, len, &n, err);

	if (rc)
		return rc;
	if (note == VX_NT_X86_XSTATE)
		return xstateregs_set(system, fps, pkru, buf, n, err);
	return xfpregs_set(system, fps, buf, n, err);
}

/* ----------------------------------------------------------------------------------------- */
/* A tracee (a task of a machine)                                                               */

/*
 * ptrace_check_attach(): the tracee must be in a ptrace stop, else -ESRCH (ptrace(2)).  A task
 * that runs, has exited, or is inside KVM_RUN with a guest fpstate installed (a ptrace stop
 * happens only on the way back to user mode, after KVM_RUN put the guest FPU, linux-fpu.md §6)
 * is not stopped.
 */
static int tracee_stopped(const struct vx_fpu_task *t, struct vx_error *err)
{
	if (!t)
		return vx_error_set(err, -EINVAL, NULL, "no tracee");
	if (t->exited)
		return vx_error_set(err, -ESRCH, "linux-fpu.md §7.2",
				    "task %u has exited: a tracee must be stopped", t->id);
	if (t->cpu >= 0)
		return vx_error_set(err, -ESRCH, "linux-fpu.md §7.2",
				    "task %u runs on CPU %d: a tracee must be stopped", t->id,
				    t->cpu);
	if (t->active_guest)
		return vx_error_set(err, -ESRCH, "linux-fpu.md §6",
				    "task %u is inside KVM_RUN with a guest fpstate installed",
				    t->id);
	return 0;
}

int vx_fpu_task_ptrace_getregset(const struct vx_fpu_task *task, unsigned note, uint8_t *buf,
				 size_t *iov_len, struct vx_error *err)
{
	int rc = tracee_stopped(task, err);

	if (rc)
		return rc;
	if (!buf || !iov_len)
		return vx_error_set(err, -EFAULT, NULL, "no buffer");
	return vx_fpu_ptrace_getregset(task->machine->sys, task->fpu.fpstate, task->pkru, note, buf,
				       iov_len, err);
}

/*
 * fpu_force_restore() (§7.2): the tracee's registers possibly still held by the CPU it last ran
 * on are stale once its fpstate changed - last_cpu = -1 makes its next return to user reload
 * them from memory (fpregs_state_valid() fails, §3.5).  TIF_NEED_FPU_LOAD is already set: the
 * tracee was switched out (§8.2).
 */
static void fpu_force_restore(struct vx_fpu_task *t)
{
	t->fpu.last_cpu = -1;
}

int vx_fpu_task_ptrace_setregset(struct vx_fpu_task *task, unsigned note, const uint8_t *buf,
				 size_t len, struct vx_error *err)
{
	int rc = tracee_stopped(task, err);

	if (rc)
		return rc;
	if (!buf)
		return vx_error_set(err, -EFAULT, NULL, "no buffer");
	/* xstateregs_set()/xfpregs_set() write the fpstate and thread.pkru (§7.2); a refusal
	 * leaves both unchanged. */
	rc = vx_fpu_ptrace_setregset(task->machine->sys, task->fpu.fpstate, &task->pkru, note, buf,
				     len, err);
	if (rc == 0)
		fpu_force_restore(task);
	return rc;
}

/* NT_X86_XSAVE_LAYOUT (§8.4): {type, size, offset, flags 0} per extended user max feature. */
unsigned vx_fpu_xsave_layout_note(const struct vx_fpu_system *system,
				  struct vx_xfeat_component *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned id = VX_COMP_AVX; id < VX_FPU_XFEATURE_MAX; id++) {
		if (!(system->user.max_features & VX_BIT(id)))
			continue;
		if (out && n < max)
			out[n] = (struct vx_xfeat_component){id, system->xstate[id].size,
							     system->xstate[id].offset, 0};
		n++;
	}
	return n;
}
