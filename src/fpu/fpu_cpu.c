/* SPDX-License-Identifier: MIT */
/*
 * The machine: N model CPUs programmed by fpu__init_cpu_xstate(), and the per-CPU state of
 * linux-fpu.md §3.5 (fpu_fpregs_owner_ctx, kernel_fpu_allowed, xfd_state).  Every register
 * save and restore of a task goes through here to vx_fpstate_save()/vx_fpstate_restore() on
 * the CPU the task runs on, at CPL0.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "task_internal.h"

/* ----------------------------------------------------------------------------------------- */
/* The log: WARN_ON() and pr_err_once()                                                         */

void fpu_machine_log(struct vx_fpu_machine *m, const char *fmt, ...)
{
	va_list ap;

	if (m->log_count >= FPU_MACHINE_LOG_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(m->log[m->log_count++], FPU_MACHINE_LOG_LINE, fmt, ap);
	va_end(ap);
}

/* A WARN_ON() that refuses: the splat goes to the log, the caller gets @code. */
int fpu_warn(struct vx_fpu_machine *m, struct vx_error *err, int code, const char *rule,
	     const char *what)
{
	m->warnings++;
	fpu_machine_log(m, "WARNING: %s", what);
	return vx_error_set(err, code, rule, "WARN: %s", what);
}

unsigned vx_fpu_machine_log_count(const struct vx_fpu_machine *machine)
{
	return machine->log_count;
}

const char *vx_fpu_machine_log_line(const struct vx_fpu_machine *machine, unsigned index)
{
	return index < machine->log_count ? machine->log[index] : NULL;
}

unsigned vx_fpu_machine_warnings(const struct vx_fpu_machine *machine)
{
	return machine->warnings;
}

/* ----------------------------------------------------------------------------------------- */
/* Creation                                                                                     */

static void destroy_cpus(struct vx_fpu_machine *m)
{
	for (unsigned i = 0; i < m->ncpus; i++)
		vx_cpu_destroy(m->percpu[i].cpu);
}

/* fpu__init_cpu_xstate() on every CPU (§2.2 step 13); xfd_state starts at init_fpstate.xfd. */
static int create_cpus(struct vx_fpu_machine *m, unsigned ncpus, struct vx_error *err)
{
	for (unsigned i = 0; i < ncpus; i++) {
		struct fpu_percpu *pc = &m->percpu[i];
		int rc = vx_cpu_create(&m->sys->profile, m->platform, &pc->cpu, err);

		if (rc == 0) {
			m->ncpus++;
			rc = vx_fpu_system_init_cpu(m->sys, pc->cpu, err);
		}
		if (rc)
			return rc;
		pc->kernel_fpu_allowed = true;
		pc->xfd_state = m->sys->init_xfd;
	}
	return 0;
}

int vx_fpu_machine_create(const struct vx_fpu_system *system, unsigned ncpus,
			  struct vx_fpu_machine **machine, struct vx_error *err)
{
	const struct vx_platform *platform;
	struct vx_fpu_machine *m;
	int rc;

	if (!system || !machine || ncpus == 0 || ncpus > FPU_MACHINE_MAX_CPUS)
		return vx_error_set(err, -EINVAL, NULL,
				    "a machine needs a system and 1 to %d CPUs (got %u)",
				    FPU_MACHINE_MAX_CPUS, ncpus);
	platform = system->platform;
	m = platform->alloc(platform->ctx, sizeof(*m), _Alignof(struct vx_fpu_machine));
	if (!m)
		return vx_error_set(err, -ENOMEM, NULL, "cannot allocate the machine");
	memset(m, 0, sizeof(*m));
	m->sys = system;
	m->pkru_reg = vx_reg_lookup("pkru");
	m->platform = platform;
	m->next_task_id = 1;
	rc = create_cpus(m, ncpus, err);
	if (rc) {
		destroy_cpus(m);
		platform->free(platform->ctx, m);
		return rc;
	}
	*machine = m;
	return 0;
}

static void free_process(struct vx_fpu_process *p)
{
	struct vx_fpu_task *t = p->threads;

	while (t) {
		struct vx_fpu_task *next = t->next_thread;

		fpu_fpstate_free(t);
		fpu_task_free(t);
		t = next;
	}
	p->machine->platform->free(p->machine->platform->ctx, p);
}

void vx_fpu_machine_destroy(struct vx_fpu_machine *machine)
{
	if (!machine)
		return;
	while (machine->processes) {
		struct vx_fpu_process *p = machine->processes;

		machine->processes = p->next;
		free_process(p);
	}
	destroy_cpus(machine);
	machine->platform->free(machine->platform->ctx, machine);
}

const struct vx_fpu_system *vx_fpu_machine_system(const struct vx_fpu_machine *machine)
{
	return machine->sys;
}

unsigned vx_fpu_machine_ncpus(const struct vx_fpu_machine *machine)
{
	return machine->ncpus;
}

struct vx_cpu *vx_fpu_machine_cpu(struct vx_fpu_machine *machine, unsigned cpu)
{
	return cpu < machine->ncpus ? machine->percpu[cpu].cpu : NULL;
}

void vx_fpu_machine_set_strict_sas_size(struct vx_fpu_machine *machine, bool strict)
{
	machine->strict_sas_size = strict;
}

int vx_fpu_percpu_get(const struct vx_fpu_machine *machine, unsigned cpu,
		      struct vx_fpu_percpu *percpu)
{
	const struct fpu_percpu *pc;

	if (cpu >= machine->ncpus)
		return -EINVAL;
	pc = &machine->percpu[cpu];
	percpu->current = pc->current;
	percpu->owner = pc->owner;
	percpu->kernel_fpu_allowed = pc->kernel_fpu_allowed;
	percpu->xfd_state = pc->xfd_state;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Register operations on a CPU                                                                 */

/* fpu_state_size_dynamic(): the static key is on iff init_fpstate.xfd != 0 (§2.2). */
bool fpu_state_size_dynamic(const struct vx_fpu_machine *m)
{
	return m->sys->init_xfd != 0;
}

/* xfd_update_state() (§5.1): write IA32_XFD only when the per-CPU cache differs. */
int fpu_xfd_update_state(struct vx_fpu_machine *m, unsigned cpu, const struct vx_fpstate *fps,
			 struct vx_error *err)
{
	struct fpu_percpu *pc = &m->percpu[cpu];
	struct vx_event event;

	if (!fpu_state_size_dynamic(m) || pc->xfd_state == fps->xfd)
		return 0;
	if (vx_cpu_wrmsr(pc->cpu, VX_MSR_IA32_XFD, fps->xfd, &event) != 0)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §5.1",
				    "WRMSR IA32_XFD 0x%llx faulted: %s",
				    (unsigned long long)fps->xfd, event.reason);
	pc->xfd_state = fps->xfd;
	return 0;
}

/* Which object's counters an operation on @fps counts for: the installed guest's or @t's. */
struct vx_fpu_counters *fpu_counters_for(struct vx_fpu_task *t, const struct vx_fpstate *fps)
{
	if (t->active_guest && t->active_guest->fpstate == fps)
		return &t->active_guest->counters;
	return &t->counters;
}

/* save_fpregs_to_fpstate() (§8.1): os_xsave() into the active fpstate on t's CPU. */
int fpu_save_fpregs(struct vx_fpu_task *t, struct vx_error *err)
{
	struct vx_fpu_machine *m = t->machine;
	struct vx_fpstate *fps = t->fpu.fpstate;

	return vx_fpstate_save(m->sys, m->percpu[t->cpu].cpu, fps, fpu_counters_for(t, fps), err);
}

/* restore_fpregs_from_fpstate(@fps, @mask) (§8.3): XFD first, then XRSTOR(S). */
int fpu_restore_fpregs(struct vx_fpu_task *t, struct vx_fpstate *fps, uint64_t mask,
		       struct vx_error *err)
{
	struct vx_fpu_machine *m = t->machine;
	int rc = fpu_xfd_update_state(m, (unsigned)t->cpu, fps, err);

	if (rc)
		return rc;
	rc = vx_fpstate_restore(m->sys, m->percpu[t->cpu].cpu, fps, mask, fpu_counters_for(t, fps),
				err);
	if (rc == 0 && fpu_state_size_dynamic(m))
		m->percpu[t->cpu].xfd_state = fps->xfd;
	return rc;
}

/* fpregs_state_valid() (§3.5): owner is this fpu and last_cpu is this CPU. */
bool fpu_fpregs_state_valid(const struct vx_fpu_task *t, unsigned cpu)
{
	return t->machine->percpu[cpu].owner == t && t->fpu.last_cpu == (int)cpu;
}

/* fpregs_mark_activate(): owner = t, last_cpu = this CPU, TIF_NEED_FPU_LOAD cleared. */
void fpu_fpregs_activate(struct vx_fpu_task *t)
{
	t->machine->percpu[t->cpu].owner = t;
	t->fpu.last_cpu = t->cpu;
	t->need_fpu_load = false;
}

int fpu_set_cpl(struct vx_fpu_machine *m, unsigned cpu, unsigned cpl)
{
	struct vx_cpu_control control;
	struct vx_event event;

	vx_cpu_get_control(m->percpu[cpu].cpu, &control);
	control.cpl = cpl;
	return vx_cpu_set_control(m->percpu[cpu].cpu, &control, &event) == 0 ? 0 : -EINVAL;
}

int fpu_running(const struct vx_fpu_task *t, struct vx_error *err)
{
	if (t->cpu >= 0)
		return 0;
	return vx_error_set(err, -ESRCH, "linux-fpu.md §8.3", "task %u is not running on any CPU",
			    t->id);
}
