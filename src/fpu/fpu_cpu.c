/* SPDX-License-Identifier: MIT */
/*
 * The machine: N model CPUs programmed by fpu__init_cpu_xstate(), and the per-CPU state of
 * linux-fpu.md §3.5 (fpu_fpregs_owner_ctx, kernel_fpu_allowed, xfd_state).  The register
 * operations on those CPUs (save, restore, XFD, ownership) are in switch.c, beside the context
 * switch that is their hot path.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cpu/kernel_entry.h"
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
		/* RDPKRU of the switch (§8.3) reads it there; only with OSPKE (PKRU in user max).
		 */
		if (m->sys->user.max_features & VX_BIT(VX_COMP_PKRU))
			pc->pkru = vx_cpu_pkru_bytes(pc->cpu);
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
/* CPL of a machine CPU                                                                         */

int fpu_set_cpl(struct vx_fpu_machine *m, unsigned cpu, unsigned cpl)
{
	struct vx_cpu_control control;
	struct vx_event event;

	vx_cpu_get_control(m->percpu[cpu].cpu, &control);
	control.cpl = cpl;
	return vx_cpu_set_control(m->percpu[cpu].cpu, &control, &event) == 0 ? 0 : -EINVAL;
}
