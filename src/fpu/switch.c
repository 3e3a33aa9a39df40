/* SPDX-License-Identifier: MIT */
/*
 * The lazy FPU context switch (linux-fpu.md §8.2, §8.3) and the other paths that move
 * registers: kernel_fpu_begin/end and fpu__clear_user_states() (§8.4).  PKRU is not restored
 * by XRSTOR (§8.3): it is switched eagerly with thread.pkru, as switch_to() does.
 *
 * Every register save and restore of a task goes through the per-CPU operations below to the
 * fpstate layer's save and restore (fpstate_internal.h) on the CPU the task runs on, at CPL0.
 * They live in this file, as static bodies the fpu_* functions of task_internal.h wrap, so
 * that schedule + return to user compile into one path down to the model CPU: a switch is two
 * model instructions, and the bench holds the framework to 1.2x of them (bench/bench_fpu.c).
 */
#include <errno.h>
#include <string.h>

#include "fpstate_internal.h"
#include "task_internal.h"

/* ----------------------------------------------------------------------------------------- */
/* Register operations on a CPU                                                                 */

/* fpu_state_size_dynamic(): the static key is on iff init_fpstate.xfd != 0 (§2.2). */
FPU_HOT bool size_dynamic(const struct vx_fpu_machine *m)
{
	return m->sys->init_xfd != 0;
}

bool fpu_state_size_dynamic(const struct vx_fpu_machine *m)
{
	return size_dynamic(m);
}

/* WRMSR IA32_XFD on @pc's CPU and its cache (§5.1): the rare half of xfd_update_state(). */
static int xfd_write(struct fpu_percpu *pc, uint64_t xfd, struct vx_error *err)
{
	struct vx_event event;

	if (vx_cpu_wrmsr(pc->cpu, VX_MSR_IA32_XFD, xfd, &event) != 0)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §5.1",
				    "WRMSR IA32_XFD 0x%llx faulted: %s", (unsigned long long)xfd,
				    event.reason);
	pc->xfd_state = xfd;
	return 0;
}

/* xfd_update_state() (§5.1): write IA32_XFD only when the per-CPU cache differs. */
FPU_HOT int xfd_update(struct vx_fpu_machine *m, unsigned cpu, const struct vx_fpstate *fps,
		       struct vx_error *err)
{
	if (!size_dynamic(m) || m->percpu[cpu].xfd_state == fps->xfd)
		return 0;
	return xfd_write(&m->percpu[cpu], fps->xfd, err);
}

int fpu_xfd_update_state(struct vx_fpu_machine *m, unsigned cpu, const struct vx_fpstate *fps,
			 struct vx_error *err)
{
	return xfd_update(m, cpu, fps, err);
}

/* Which object's counters an operation on @fps counts for: the installed guest's or @t's. */
FPU_HOT struct vx_fpu_counters *counters_for(struct vx_fpu_task *t, const struct vx_fpstate *fps)
{
	if (t->active_guest && t->active_guest->fpstate == fps)
		return &t->active_guest->counters;
	return &t->counters;
}

struct vx_fpu_counters *fpu_counters_for(struct vx_fpu_task *t, const struct vx_fpstate *fps)
{
	return counters_for(t, fps);
}

/* save_fpregs_to_fpstate() (§8.1): os_xsave() into the active fpstate on t's CPU. */
FPU_HOT int save_fpregs(struct vx_fpu_task *t, struct vx_error *err)
{
	struct vx_fpu_machine *m = t->machine;
	struct vx_fpstate *fps = t->fpu.fpstate;

	return fpstate_save_regs(m->sys, m->percpu[t->cpu].cpu, fps, counters_for(t, fps), err);
}

int fpu_save_fpregs(struct vx_fpu_task *t, struct vx_error *err)
{
	return save_fpregs(t, err);
}

/*
 * restore_fpregs_from_fpstate(@fps, @mask) (§8.3): XFD first, through the per-CPU cache as
 * xfd_update_state() does (§5.1), then XRSTOR(S) - without vx_fpstate_restore()'s own RDMSR of
 * IA32_XFD, which the cache makes redundant.  After xfd_update() the cache holds fps->xfd
 * whenever sizing is dynamic, so the restore leaves it as it is.
 */
FPU_HOT int restore_fpregs(struct vx_fpu_task *t, struct vx_fpstate *fps, uint64_t mask,
			   struct vx_error *err)
{
	struct vx_fpu_machine *m = t->machine;
	int rc = xfd_update(m, (unsigned)t->cpu, fps, err);

	return rc ? rc
		  : fpstate_restore_regs(m->sys, m->percpu[t->cpu].cpu, fps, mask,
					 counters_for(t, fps), err);
}

int fpu_restore_fpregs(struct vx_fpu_task *t, struct vx_fpstate *fps, uint64_t mask,
		       struct vx_error *err)
{
	return restore_fpregs(t, fps, mask, err);
}

/* fpregs_state_valid() (§3.5): owner is this fpu and last_cpu is this CPU. */
FPU_HOT bool fpregs_state_valid(const struct vx_fpu_task *t, unsigned cpu)
{
	return t->machine->percpu[cpu].owner == t && t->fpu.last_cpu == (int)cpu;
}

bool fpu_fpregs_state_valid(const struct vx_fpu_task *t, unsigned cpu)
{
	return fpregs_state_valid(t, cpu);
}

/* fpregs_mark_activate(): owner = t, last_cpu = this CPU, TIF_NEED_FPU_LOAD cleared. */
FPU_HOT void fpregs_activate(struct vx_fpu_task *t)
{
	t->machine->percpu[t->cpu].owner = t;
	t->fpu.last_cpu = t->cpu;
	t->need_fpu_load = false;
}

void fpu_fpregs_activate(struct vx_fpu_task *t)
{
	fpregs_activate(t);
}

static int not_running(const struct vx_fpu_task *t, struct vx_error *err)
{
	return vx_error_set(err, -ESRCH, "linux-fpu.md §8.3", "task %u is not running on any CPU",
			    t->id);
}

int fpu_running(const struct vx_fpu_task *t, struct vx_error *err)
{
	return t->cpu >= 0 ? 0 : not_running(t, err);
}

/* ----------------------------------------------------------------------------------------- */
/* PKRU, switched eagerly                                                                       */

/* RDPKRU on @pc's CPU (pc->pkru is set iff the kernel uses PKRU: OSPKE, §8.3). */
FPU_HOT uint32_t pkru_read(const struct fpu_percpu *pc)
{
	uint32_t value;

	memcpy(&value, pc->pkru, sizeof(value));
	return value;
}

/* RDPKRU into thread.pkru of the task leaving @cpu. */
FPU_HOT void pkru_save(struct vx_fpu_task *t, unsigned cpu)
{
	const struct fpu_percpu *pc = &t->machine->percpu[cpu];

	if (pc->pkru)
		t->pkru = pkru_read(pc);
}

/* WRPKRU @value on @cpu in kernel mode. */
static void pkru_set(struct vx_fpu_machine *m, unsigned cpu, uint32_t value)
{
	struct vx_event event;

	vx_cpu_set_reg(m->percpu[cpu].cpu, m->pkru_reg, &value, 4, &event);
}

/*
 * WRPKRU of @value on @cpu (kernel mode), skipped when the CPU already holds it, as the
 * kernel's write_pkru() and x86_pkru_load() do - WRPKRU costs more than RDPKRU (§8.3: PKRU is
 * switched eagerly).  @known is the task that just left @cpu, whose thread.pkru was read from
 * it a moment ago (x86_pkru_load() compares with that), or NULL: then RDPKRU.
 */
FPU_HOT void pkru_write(struct vx_fpu_machine *m, unsigned cpu, const struct vx_fpu_task *known,
			uint32_t value)
{
	const struct fpu_percpu *pc = &m->percpu[cpu];

	if (!pc->pkru)
		return;
	if ((known ? known->pkru : pkru_read(pc)) != value)
		pkru_set(m, cpu, value);
}

/* ----------------------------------------------------------------------------------------- */
/* switch_fpu() and switch_fpu_return()                                                         */

/*
 * switch_fpu(old) (§8.2): unless TIF_NEED_FPU_LOAD, save the registers into the active fpstate
 * and remember this CPU in last_cpu; the owner stays, for the "nobody else used it" fast path.
 */
FPU_HOT int switch_fpu(struct vx_fpu_task *old, struct vx_error *err)
{
	int rc;

	if (old->need_fpu_load)
		return 0;
	rc = save_fpregs(old, err);
	if (rc)
		return rc;
	old->need_fpu_load = true;
	old->fpu.last_cpu = old->cpu;
	return 0;
}

int fpu_switch_fpu(struct vx_fpu_task *old, struct vx_error *err)
{
	return switch_fpu(old, err);
}

/* The task leaves its CPU, which becomes idle. */
FPU_HOT int deschedule(struct vx_fpu_task *t, struct vx_error *err)
{
	unsigned cpu = (unsigned)t->cpu;
	int rc = switch_fpu(t, err);

	if (rc)
		return rc;
	pkru_save(t, cpu);
	t->machine->percpu[cpu].current = NULL;
	t->cpu = -1;
	return 0;
}

int fpu_task_deschedule(struct vx_fpu_task *t, struct vx_error *err)
{
	return deschedule(t, err);
}

/*
 * fpregs_restore_userregs() (§8.3): when the registers are not this task's on this CPU,
 * restore the active fpstate with kernel max ∩ FPSTATE (components it cannot use go to init),
 * XFD first; then owner/last_cpu; TIF_NEED_FPU_LOAD always cleared.
 */
FPU_HOT int restore_userregs(struct vx_fpu_task *t, struct vx_error *err)
{
	if (!t->need_fpu_load)
		return 0;
	if (!fpregs_state_valid(t, (unsigned)t->cpu)) {
		int rc = restore_fpregs(t, t->fpu.fpstate, t->machine->sys->masks.fpstate, err);

		if (rc)
			return rc;
	}
	fpregs_activate(t);
	return 0;
}

int fpu_fpregs_restore_userregs(struct vx_fpu_task *t, struct vx_error *err)
{
	return restore_userregs(t, err);
}

static int inside_guest(const struct vx_fpu_task *task, struct vx_error *err)
{
	return vx_error_set(err, -EBUSY, "linux-fpu.md §6",
			    "task %u is inside KVM_RUN with a guest fpstate installed", task->id);
}

int vx_fpu_task_return_to_user(struct vx_fpu_task *task, struct vx_error *err)
{
	if (task->cpu < 0)
		return not_running(task, err);
	if (task->active_guest)
		return inside_guest(task, err);
	return restore_userregs(task, err);
}

static int check_cpu(const struct vx_fpu_machine *m, unsigned cpu, struct vx_error *err)
{
	if (cpu < m->ncpus)
		return 0;
	return vx_error_set(err, -EINVAL, NULL, "CPU %u does not exist (%u CPUs)", cpu, m->ncpus);
}

int vx_fpu_task_schedule(struct vx_fpu_task *task, unsigned cpu, struct vx_error *err)
{
	struct vx_fpu_machine *m = task->machine;
	struct vx_fpu_task *prev;
	struct fpu_percpu *pc;
	int rc = check_cpu(m, cpu, err);

	if (rc || task->cpu == (int)cpu)
		return rc;
	if (task->cpu >= 0 && (rc = deschedule(task, err)) != 0)
		return rc;
	pc = &m->percpu[cpu];
	prev = pc->current;
	if (prev && (rc = deschedule(prev, err)) != 0)
		return rc;
	pc->current = task;
	task->cpu = (int)cpu;
	pkru_write(m, cpu, prev, task->pkru); /* prev->pkru: RDPKRU of the deschedule */
	return 0;
}

int vx_fpu_cpu_idle(struct vx_fpu_machine *machine, unsigned cpu, struct vx_error *err)
{
	int rc = check_cpu(machine, cpu, err);

	if (rc || !machine->percpu[cpu].current)
		return rc;
	return deschedule(machine->percpu[cpu].current, err);
}

/* ----------------------------------------------------------------------------------------- */
/* kernel_fpu_begin_mask() / kernel_fpu_end() (§8.4)                                            */

static void kernel_fpu_reset_regs(struct vx_cpu *cpu, unsigned kfpu)
{
	uint32_t mxcsr = VX_MXCSR_DEFAULT;
	struct vx_event event;

	if (kfpu & VX_KFPU_MXCSR)
		vx_cpu_set_reg(cpu, vx_reg_lookup("mxcsr"), &mxcsr, 4, &event);
	/* FNINIT: the x87 state back to its initial configuration. */
	if (kfpu & VX_KFPU_387)
		vx_cpu_init_components(cpu, VX_BIT(VX_COMP_X87));
}

int vx_fpu_kernel_fpu_begin(struct vx_fpu_machine *machine, unsigned cpu, unsigned kfpu,
			    struct vx_error *err)
{
	struct fpu_percpu *pc;
	int rc = check_cpu(machine, cpu, err);

	if (rc)
		return rc;
	pc = &machine->percpu[cpu];
	if (!pc->kernel_fpu_allowed)
		return fpu_warn(machine, err, -EBUSY, "linux-fpu.md §8.4",
				"kernel_fpu_begin() with !irq_fpu_usable(): already in use");
	if (pc->current && !pc->current->need_fpu_load) {
		rc = save_fpregs(pc->current, err);
		if (rc)
			return rc;
		pc->current->need_fpu_load = true;
	}
	pc->kernel_fpu_allowed = false;
	pc->owner = NULL;
	kernel_fpu_reset_regs(pc->cpu, kfpu);
	return 0;
}

int vx_fpu_kernel_fpu_end(struct vx_fpu_machine *machine, unsigned cpu, struct vx_error *err)
{
	int rc = check_cpu(machine, cpu, err);

	if (rc)
		return rc;
	if (machine->percpu[cpu].kernel_fpu_allowed)
		return fpu_warn(machine, err, -EINVAL, "linux-fpu.md §8.4",
				"kernel_fpu_end() without kernel_fpu_begin()");
	machine->percpu[cpu].kernel_fpu_allowed = true;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* fpu__clear_user_states() (§8.4)                                                              */

/* restore_fpregs_from_init_fpstate(@mask): XRSTOR(S) of init_fpstate, XFD left as current's. */
static int restore_from_init(struct vx_fpu_task *t, uint64_t mask, struct vx_error *err)
{
	const struct vx_fpu_system *sys = t->machine->sys;
	_Alignas(64) uint8_t image[VX_FPU_INIT_FPSTATE_REGS_SIZE];
	struct vx_fpstate init = {0};

	memcpy(image, sys->init_image, sizeof(image));
	init.size = sys->init_size;
	init.user_size = sys->user.default_size;
	init.xfeatures = sys->init_xfeatures;
	init.user_xfeatures = sys->user.default_features;
	init.xfd = t->fpu.fpstate->xfd;
	init.regs = image;
	return vx_fpstate_restore(sys, t->machine->percpu[t->cpu].cpu, &init, mask, &t->counters,
				  err);
}

int vx_fpu_task_clear_user_states(struct vx_fpu_task *task, struct vx_error *err)
{
	struct vx_fpu_machine *m = task->machine;
	uint64_t supervisor = m->sys->kernel.max_features & m->sys->masks.supervisor_supported;
	int rc = fpu_running(task, err);

	if (rc)
		return rc;
	/* Supervisor states must be current's before the user part is reset. */
	if (supervisor && !fpu_fpregs_state_valid(task, (unsigned)task->cpu))
		rc = restore_fpregs(task, task->fpu.fpstate, supervisor, err);
	/* 6.18-rc4 "Ensure XFD state on signal delivery" (§8.4, test expectation 63). */
	if (rc == 0)
		rc = fpu_xfd_update_state(m, (unsigned)task->cpu, task->fpu.fpstate, err);
	if (rc == 0)
		rc = restore_from_init(task, VX_FPU_MASK_USER_RESTORE, err);
	if (rc)
		return rc;
	fpu_fpregs_activate(task);
	task->pkru = FPU_INIT_PKRU;
	pkru_write(m, (unsigned)task->cpu, NULL, FPU_INIT_PKRU);
	return 0;
}
