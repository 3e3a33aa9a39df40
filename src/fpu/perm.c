/* SPDX-License-Identifier: MIT */
/*
 * Permissions for dynamic features (linux-fpu.md §4): the five XCOMP arch_prctl operations
 * with the kernel's order of checks and return codes, the per-process perm and guest_perm in
 * the group leader's fpu (§3.3), and the two sigaltstack checks that size alternate stacks for
 * the permitted state.
 */
#include <errno.h>
#include <string.h>

#include "task_internal.h"

/*
 * get_sigframe_size() = max_frame_size (§4): siginfo + ucontext + padding + the FPU part
 * (fpu__get_fpstate_size()) + 63 bytes of XSAVE alignment, rounded to 16.  linux-fpu.md gives
 * no number for the non-FPU part; this is the measured one: AT_MINSIGSTKSZ 3376 with a
 * 2548-byte FPU part (§12, Zen 4) and 1776 with 948 (this machine) - 828 both times.
 */
#define SIGFRAME_NON_FPU 828u

uint32_t vx_fpu_max_frame_size(const struct vx_fpu_system *system)
{
	return (vx_fpu_sigframe_fpstate_size(system) + SIGFRAME_NON_FPU + 15u) & ~15u;
}

/* xstate_get_group_perm() (§3.3): the group leader's perm or guest_perm. */
struct vx_fpu_perm *fpu_group_perm(const struct vx_fpu_task *t, bool guest)
{
	struct vx_fpu_task *leader = fpu_group_leader(t);

	return guest ? &leader->fpu.guest_perm : &leader->fpu.perm;
}

/* ----------------------------------------------------------------------------------------- */
/* sigaltstack (§4)                                                                             */

/*
 * validate_sigaltstack(usize) (host requests only): every thread's altstack must hold a frame
 * of get_sigframe_size() - user max size + usize; note '<', not '<=' (§4).
 */
static int validate_sigaltstack(const struct vx_fpu_task *t, uint32_t usize, struct vx_error *err)
{
	const struct vx_fpu_system *sys = t->machine->sys;
	uint64_t framesize = (uint64_t)vx_fpu_max_frame_size(sys) - sys->user.max_size + usize;

	for (const struct vx_fpu_task *th = t->process->threads; th; th = th->next_thread) {
		if (th->exited || th->sas_ss_size == 0 || th->sas_ss_size >= framesize)
			continue;
		return vx_error_set(
		    err, -ENOSPC, "linux-fpu.md §4 validate_sigaltstack",
		    "task %u's altstack of %llu bytes is smaller than the %llu-byte "
		    "signal frame the request needs",
		    th->id, (unsigned long long)th->sas_ss_size, (unsigned long long)framesize);
	}
	return 0;
}

/* sigaltstack_size_valid() (§4): only dynamic-sized (or strict) kernels look at the size. */
static bool sigaltstack_size_valid(const struct vx_fpu_task *t, uint64_t ss_size)
{
	const struct vx_fpu_machine *m = t->machine;
	const struct vx_fpu_perm *perm = fpu_group_perm(t, false);
	uint64_t fsize;

	if (!fpu_state_size_dynamic(m) && !m->strict_sas_size)
		return true;
	fsize = (uint64_t)vx_fpu_max_frame_size(m->sys) - vx_fpu_sigframe_fpstate_size(m->sys) +
		perm->user_state_size;
	if (ss_size > fsize)
		return true;
	if (m->strict_sas_size)
		return false;
	return !(perm->state_perm & VX_FPU_MASK_USER_DYNAMIC);
}

int vx_fpu_task_sigaltstack(struct vx_fpu_task *task, bool disable, uint64_t size,
			    struct vx_error *err)
{
	if (disable) {
		task->sas_ss_size = 0;
		return 0;
	}
	if (size < VX_MINSIGSTKSZ)
		return vx_error_set(err, -ENOMEM, "linux-fpu.md §4, §12",
				    "altstack of %llu bytes is below MINSIGSTKSZ (%u)",
				    (unsigned long long)size, VX_MINSIGSTKSZ);
	if (!sigaltstack_size_valid(task, size))
		return vx_error_set(err, -ENOMEM, "linux-fpu.md §4 sigaltstack_size_valid",
				    "altstack of %llu bytes cannot hold a signal frame with the "
				    "process's permitted state",
				    (unsigned long long)size);
	task->sas_ss_size = size;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* The XCOMP arch_prctl operations (§4)                                                         */

static int put_user_u64(uint64_t value, uint64_t *user, struct vx_error *err)
{
	if (!user)
		return vx_error_set(err, -EFAULT, "linux-fpu.md §4",
				    "put_user() to a bad user pointer");
	*user = value;
	return 0;
}

/* __xstate_request_perm(): mask = permitted | requested, kept whole ("always preserve"). */
static int request_perm_locked(struct vx_fpu_task *t, uint64_t requested, bool guest,
			       struct vx_error *err)
{
	const struct vx_fpu_system *sys = t->machine->sys;
	struct vx_fpu_perm *perm = fpu_group_perm(t, guest);
	uint64_t mask = perm->state_perm | requested;
	uint32_t ksize = vx_fpu_calculate_size(sys, mask, sys->insns.compacted);
	uint32_t usize = vx_fpu_calculate_size(sys, mask & VX_FPU_MASK_USER_SUPPORTED, false);

	if (!guest) {
		int rc = validate_sigaltstack(t, usize, err);

		if (rc)
			return rc;
	}
	perm->state_perm = mask;
	perm->state_size = ksize;
	perm->user_state_size = usize;
	return 0;
}

/* xstate_request_perm(): "already permitted" is checked before the lock (§4 REQ step 5). */
static int request_perm(struct vx_fpu_task *t, uint64_t requested, bool guest, struct vx_error *err)
{
	const struct vx_fpu_perm *perm = fpu_group_perm(t, guest);

	if ((perm->state_perm & requested) == requested)
		return 0;
	if (guest && (perm->state_perm & VX_FPU_GUEST_PERM_LOCKED))
		return vx_error_set(err, -EBUSY, "linux-fpu.md §4 REQ step 6",
				    "guest permissions are locked: a vCPU exists");
	return request_perm_locked(t, requested, guest, err);
}

/* xstate_prctl_req[]: only ARCH_XCOMP_TILEDATA (18) names a facility (§4 REQ step 3). */
static uint64_t prctl_request_mask(uint64_t idx)
{
	return idx == VX_ARCH_XCOMP_TILEDATA ? VX_FPU_MASK_USER_DYNAMIC : 0;
}

static int req_perm(struct vx_fpu_task *t, uint64_t idx, bool guest, struct vx_error *err)
{
	const struct vx_fpu_system *sys = t->machine->sys;
	uint64_t requested;

	if (idx >= VX_FPU_XFEATURE_MAX)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §4 REQ step 2",
				    "component %llu is not below XFEATURE_MAX (20)",
				    (unsigned long long)idx);
	requested = prctl_request_mask(idx);
	if (!requested)
		return vx_error_set(err, -EOPNOTSUPP, "linux-fpu.md §4 REQ step 3",
				    "component %llu names no requestable facility (only 18)",
				    (unsigned long long)idx);
	if ((sys->user.max_features & requested) != requested)
		return vx_error_set(err, -EOPNOTSUPP, "linux-fpu.md §4 REQ step 4",
				    "the kernel does not support 0x%llx (no AMX with XFD)",
				    (unsigned long long)requested);
	return request_perm(t, requested, guest, err);
}

static int op_get_supp(struct vx_fpu_task *t, uint64_t arg2, uint64_t *user, struct vx_error *e)
{
	const struct vx_fpu_state_config *u = &t->machine->sys->user;

	(void)arg2;
	return put_user_u64(u->max_features | u->legacy_features, user, e);
}

static int op_get_perm(struct vx_fpu_task *t, uint64_t arg2, uint64_t *user, struct vx_error *e)
{
	(void)arg2;
	return put_user_u64(fpu_group_perm(t, false)->state_perm & VX_FPU_MASK_USER_SUPPORTED, user,
			    e);
}

static int op_get_guest_perm(struct vx_fpu_task *t, uint64_t arg2, uint64_t *user,
			     struct vx_error *e)
{
	(void)arg2;
	return put_user_u64(fpu_group_perm(t, true)->state_perm & VX_FPU_MASK_USER_SUPPORTED, user,
			    e);
}

static int op_req_perm(struct vx_fpu_task *t, uint64_t arg2, uint64_t *user, struct vx_error *e)
{
	(void)user;
	return req_perm(t, arg2, false, e);
}

static int op_req_guest_perm(struct vx_fpu_task *t, uint64_t arg2, uint64_t *user,
			     struct vx_error *e)
{
	(void)user;
	return req_perm(t, arg2, true, e);
}

static const struct {
	int option;
	int (*op)(struct vx_fpu_task *t, uint64_t arg2, uint64_t *user, struct vx_error *err);
} xstate_prctl_ops[] = {
    {VX_ARCH_GET_XCOMP_SUPP, op_get_supp},
    {VX_ARCH_GET_XCOMP_PERM, op_get_perm},
    {VX_ARCH_REQ_XCOMP_PERM, op_req_perm},
    {VX_ARCH_GET_XCOMP_GUEST_PERM, op_get_guest_perm},
    {VX_ARCH_REQ_XCOMP_GUEST_PERM, op_req_guest_perm},
};

int vx_fpu_arch_prctl(struct vx_fpu_task *task, uint64_t option, uint64_t arg2, uint64_t *user_u64,
		      struct vx_error *err)
{
	/* SYSCALL_DEFINE2(arch_prctl, int option, unsigned long arg2): the low 32 bits. */
	int opt = (int)(uint32_t)option;

	for (size_t i = 0; i < sizeof(xstate_prctl_ops) / sizeof(xstate_prctl_ops[0]); i++)
		if (xstate_prctl_ops[i].option == opt)
			return xstate_prctl_ops[i].op(task, arg2, user_u64, err);
	return vx_error_set(err, -EINVAL, "linux-fpu.md §4, §12",
			    "arch_prctl option 0x%x is not an XCOMP operation", (unsigned)opt);
}
