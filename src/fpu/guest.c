/* SPDX-License-Identifier: MIT */
/*
 * KVM's guest fpstates (linux-fpu.md §3.4, §5.4, §6): allocation at vCPU creation (which
 * locks the process's guest permissions), the enter/exit swap, XFD for guests and confidential
 * fpstates.  A guest fpstate has the guest default features, so with the `guest-only` CET_S
 * design it is the only place CET_S is saved; loading a host fpstate puts CET_S back to init
 * because the restore mask is kernel max ∩ FPSTATE (§6).
 */
#include <errno.h>
#include <string.h>

#include "task_internal.h"

/* sizeof(struct kvm_xsave): KVM's base uABI (§6). */
#define KVM_XSAVE_SIZE 4096u

/* fpu_lock_guest_permissions() (§4): FPU_GUEST_PERM_LOCKED in the leader's guest_perm. */
static void lock_guest_permissions(struct vx_fpu_task *t)
{
	fpu_group_perm(t, true)->state_perm |= VX_FPU_GUEST_PERM_LOCKED;
}

int vx_fpu_alloc_guest_fpstate(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu,
			       struct vx_error *err)
{
	struct vx_fpu_machine *m = task->machine;
	const struct vx_fpu_system *sys = m->sys;
	struct vx_fpstate *fps = fpu_fpstate_valloc(m, sys->guest.size);

	if (!fps)
		return vx_error_set(err, -ENOMEM, "linux-fpu.md §6",
				    "cannot allocate a %u-byte guest fpstate", sys->guest.size);
	fpu_fpstate_reset(sys, fps, true);
	vx_fpstate_init_image(sys, fps);
	memset(gfpu, 0, sizeof(*gfpu));
	gfpu->machine = m;
	gfpu->fpstate = fps;
	gfpu->xfeatures = sys->guest.features;
	gfpu->uabi_size = KVM_XSAVE_SIZE;
	if (sys->user.default_size > KVM_XSAVE_SIZE) {
		fpu_warn(
		    m, NULL, 0, "linux-fpu.md §6",
		    "fpu_alloc_guest_fpstate: default user size above sizeof(struct kvm_xsave)");
		gfpu->uabi_size = sys->user.default_size;
	}
	gfpu->counters.fpstate_bytes = fps->size;
	lock_guest_permissions(task);
	return 0;
}

int vx_fpu_free_guest_fpstate(struct vx_fpu_guest *gfpu, struct vx_error *err)
{
	struct vx_fpstate *fps = gfpu ? gfpu->fpstate : NULL;

	if (!fps)
		return 0;
	if (!fps->is_valloc || !fps->is_guest || fps->in_use)
		return fpu_warn(gfpu->machine, err, -EBUSY, "linux-fpu.md §6",
				"fpu_free_guest_fpstate: the guest fpstate is in use");
	gfpu->fpstate = NULL;
	gfpu->counters.fpstate_bytes = 0;
	fpu_fpstate_vfree(gfpu->machine, fps);
	return 0;
}

void vx_fpu_guest_set_confidential(struct vx_fpu_guest *gfpu)
{
	if (gfpu->fpstate)
		gfpu->fpstate->is_confidential = true;
}

/* ----------------------------------------------------------------------------------------- */
/* fpu_swap_kvm_fpstate() (§6)                                                                  */

static int swap_checks(const struct vx_fpu_task *t, const struct vx_fpu_guest *gfpu, bool enter,
		       struct vx_error *err)
{
	int rc = fpu_running(t, err);

	if (rc)
		return rc;
	if (!gfpu->fpstate || gfpu->machine != t->machine)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §6", "no guest fpstate");
	if (enter ? t->active_guest != NULL : t->active_guest != gfpu)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §6",
				    enter ? "a guest fpstate is already installed"
					  : "this guest fpstate is not installed");
	return 0;
}

static void install(struct vx_fpu_task *t, struct vx_fpu_guest *gfpu, bool enter)
{
	if (enter) {
		t->fpu.task_fpstate = t->fpu.fpstate;
		t->fpu.fpstate = gfpu->fpstate;
		gfpu->fpstate->in_use = true;
		t->active_guest = gfpu;
		return;
	}
	gfpu->fpstate->in_use = false;
	t->fpu.fpstate = t->fpu.task_fpstate;
	t->fpu.task_fpstate = NULL;
	t->active_guest = NULL;
}

int vx_fpu_swap_kvm_fpstate(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu, bool enter,
			    struct vx_error *err)
{
	struct vx_fpstate *cur;
	int rc = swap_checks(task, gfpu, enter, err);

	if (rc)
		return rc;
	cur = task->fpu.fpstate;
	if (!cur->is_confidential && !task->need_fpu_load) {
		rc = fpu_save_fpregs(task, err);
		if (rc)
			return rc;
	}
	install(task, gfpu, enter);
	cur = task->fpu.fpstate;
	/* PKRU is not in the mask: KVM switches it itself. */
	if (!cur->is_confidential)
		rc = fpu_restore_fpregs(task, cur, task->machine->sys->masks.fpstate, err);
	else
		rc = fpu_xfd_update_state(task->machine, (unsigned)task->cpu, cur, err);
	if (rc)
		return rc;
	fpu_fpregs_activate(task);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* XFD for guests (§5.4)                                                                        */

int vx_fpu_enable_guest_xfd_features(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu,
				     uint64_t xfeatures, struct vx_error *err)
{
	xfeatures &= ~gfpu->xfeatures;
	if (!xfeatures)
		return 0;
	return fpu_xfd_enable_feature(task, xfeatures, gfpu, err);
}

int vx_fpu_update_guest_xfd(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu, uint64_t xfd,
			    struct vx_error *err)
{
	gfpu->fpstate->xfd = xfd;
	if (!gfpu->fpstate->in_use)
		return 0;
	return fpu_xfd_update_state(task->machine, (unsigned)task->cpu, gfpu->fpstate, err);
}

int vx_fpu_sync_guest_vmexit_xfd_state(struct vx_fpu_task *task, struct vx_error *err)
{
	struct vx_fpu_machine *m = task->machine;
	struct vx_event event;
	uint64_t xfd;
	int rc = fpu_running(task, err);

	if (rc || !fpu_state_size_dynamic(m))
		return rc;
	if (vx_cpu_rdmsr(m->percpu[task->cpu].cpu, VX_MSR_IA32_XFD, &xfd, &event) != 0)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §5.4", "RDMSR IA32_XFD faulted: %s",
				    event.reason);
	task->fpu.fpstate->xfd = xfd;
	m->percpu[task->cpu].xfd_state = xfd;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Guest code touching registers                                                                */

static int guest_ready(struct vx_fpu_task *t, const struct vx_fpu_guest *gfpu, struct vx_error *err)
{
	int rc = fpu_running(t, err);

	if (rc)
		return rc;
	if (t->active_guest != gfpu)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §6",
				    "the guest fpstate is not installed in task %u", t->id);
	/* vcpu_enter_guest(): switch_fpu_return() if TIF_NEED_FPU_LOAD. */
	return fpu_fpregs_restore_userregs(t, err);
}

int vx_fpu_guest_set_reg(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu,
			 const struct vx_reg_info *reg, const void *value, size_t width,
			 struct vx_event *event, struct vx_error *err)
{
	int rc = guest_ready(task, gfpu, err);

	if (rc)
		return rc;
	rc = vx_cpu_set_reg(task->machine->percpu[task->cpu].cpu, reg, value, width, event);
	if (rc < 0)
		return vx_error_set(err, rc, NULL, "the guest cannot write %s",
				    reg ? reg->name : "?");
	return rc;
}

int vx_fpu_guest_get_reg(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu,
			 const struct vx_reg_info *reg, void *value, size_t width,
			 struct vx_error *err)
{
	int rc = guest_ready(task, gfpu, err);

	if (rc)
		return rc;
	rc = vx_cpu_get_reg(task->machine->percpu[task->cpu].cpu, reg, value, width);
	if (rc)
		return vx_error_set(err, rc, NULL, "cannot read %s", reg ? reg->name : "?");
	return 0;
}

struct vx_cpu *vx_fpu_guest_cpu(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu,
				struct vx_error *err)
{
	if (guest_ready(task, gfpu, err) != 0)
		return NULL;
	return task->machine->percpu[task->cpu].cpu;
}
