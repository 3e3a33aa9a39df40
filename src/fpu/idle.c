/* SPDX-License-Identifier: MIT */
/*
 * A CPU's FPU around idle and suspend (linux-fpu.md §8.4, §2.2): fpu_idle_fpregs() before deep
 * idle (TILERELEASE of AMX tiles in use, ownership dropped) and fpu__resume_cpu() after resume
 * (XCR0, IA32_XSS and IA32_XFD written again).
 */
#include <errno.h>

#include "task_internal.h"

#define XTILE (VX_BIT(VX_COMP_XTILECFG) | VX_BIT(VX_COMP_XTILEDATA))

static int bad_cpu(const struct vx_fpu_machine *m, unsigned cpu, struct vx_error *err)
{
	if (cpu < m->ncpus)
		return 0;
	return vx_error_set(err, -EINVAL, NULL, "no CPU %u (the machine has %u)", cpu, m->ncpus);
}

/*
 * fpu_idle_fpregs() (§8.4): runs in the idle loop, so the CPU must be idle.  With AMX, tiles in
 * use (XINUSE from XGETBV(1), which AMX implies) are released - they would keep the core out of
 * deep C-states - and the registers no longer belong to anybody, so the last task reloads its
 * state from memory on its next return to user.  Returns 1 when tiles were released, else 0.
 */
int vx_fpu_idle_fpregs(struct vx_fpu_machine *machine, unsigned cpu, struct vx_error *err)
{
	struct fpu_percpu *pc;
	struct vx_event event;
	uint64_t xinuse = 0;
	int rc = bad_cpu(machine, cpu, err);

	if (rc)
		return rc;
	pc = &machine->percpu[cpu];
	if (pc->current)
		return vx_error_set(err, -EBUSY, "linux-fpu.md §8.4",
				    "CPU %u runs task %u: fpu_idle_fpregs() is for an idle CPU",
				    cpu, pc->current->id);
	if (!vx_profile_has(&machine->sys->profile, VX_FEAT_AMX_TILE) ||
	    !(machine->sys->user.max_features & XTILE))
		return 0;
	if (vx_cpu_xgetbv(pc->cpu, 1, &xinuse, &event) != 0 || !(xinuse & XTILE))
		return 0;
	vx_cpu_init_components(pc->cpu, XTILE); /* TILERELEASE */
	pc->owner = NULL;
	return 1;
}

static int resume_fault(struct vx_error *err, const char *what, uint64_t value,
			const struct vx_event *event)
{
	return vx_error_set(err, -EINVAL, "linux-fpu.md §2.2", "fpu__resume_cpu(): %s 0x%llx: %s",
			    what, (unsigned long long)value, event->reason);
}

/*
 * fpu__resume_cpu() (§2.2 "Resume"): XCR0 := the user max (with XSAVE), IA32_XSS := supervisor
 * | independent (with XSAVES), and with dynamic sizing IA32_XFD := current's fpstate->xfd - the
 * idle task's is init_fpstate.xfd.  The per-CPU xfd_state cache is not touched.
 */
int vx_fpu_resume_cpu(struct vx_fpu_machine *machine, unsigned cpu, struct vx_error *err)
{
	const struct vx_fpu_system *sys = machine->sys;
	const struct vx_fpu_task *cur;
	struct vx_cpu *c;
	struct vx_event event;
	uint64_t xfd;
	int rc = bad_cpu(machine, cpu, err);

	if (rc)
		return rc;
	c = machine->percpu[cpu].cpu;
	cur = machine->percpu[cpu].current;
	if (sys->insns.xsave && vx_cpu_xsetbv(c, 0, sys->setup.xcr0, &event) != 0)
		return resume_fault(err, "XSETBV XCR0", sys->setup.xcr0, &event);
	if (sys->setup.write_xss && vx_cpu_wrmsr(c, VX_MSR_IA32_XSS, sys->setup.xss, &event) != 0)
		return resume_fault(err, "WRMSR IA32_XSS", sys->setup.xss, &event);
	if (!fpu_state_size_dynamic(machine))
		return 0;
	xfd = cur ? cur->fpu.fpstate->xfd : sys->init_xfd;
	if (vx_cpu_wrmsr(c, VX_MSR_IA32_XFD, xfd, &event) != 0)
		return resume_fault(err, "WRMSR IA32_XFD", xfd, &event);
	return 0;
}
