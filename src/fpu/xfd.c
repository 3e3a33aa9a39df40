/* SPDX-License-Identifier: MIT */
/*
 * Dynamic features (linux-fpu.md §5): the #NM handler's XFD path (handle_xfd_event,
 * __xfd_enable_feature) and fpstate_realloc() for tasks and guests, and the same handler when
 * the #NM comes from kernel code (a kernel bug: WARN, then CR0.TS fixup or die).  The registers are
 * never copied into a grown buffer: they are live (reloaded first if needed) and the next save
 * writes them in the new layout (§5.3).
 */
#include <errno.h>
#include <string.h>

#include "task_internal.h"

/* ----------------------------------------------------------------------------------------- */
/* fpstate_realloc() (§5.3)                                                                     */

struct realloc_args {
	uint64_t xfeatures;
	uint32_t ksize, usize;
	struct vx_fpu_guest *gfpu;
};

/* The reference fpstate: the guest's (in use or not) when a guest is given, else current's. */
static struct vx_fpstate *reference_fpstate(struct vx_fpu_task *t, const struct realloc_args *a)
{
	return a->gfpu ? a->gfpu->fpstate : t->fpu.fpstate;
}

static void fill_new_fpstate(const struct vx_fpu_system *sys, struct vx_fpstate *newfps,
			     const struct vx_fpstate *cur, const struct realloc_args *a)
{
	uint64_t xcomp_bv;

	newfps->user_size = a->usize;
	newfps->xfeatures = cur->xfeatures | a->xfeatures;
	newfps->user_xfeatures = cur->user_xfeatures | a->xfeatures;
	newfps->xfd = cur->xfd & ~a->xfeatures;
	if (a->gfpu) {
		newfps->is_guest = true;
		newfps->is_confidential = cur->is_confidential;
		newfps->in_use = cur->in_use;
	}
	/* xstate_init_xcomp_bv(): the image stays zero otherwise (vzalloc). */
	xcomp_bv = newfps->xfeatures | VX_XCOMP_BV_COMPACTED;
	if (sys->insns.compacted)
		memcpy(newfps->regs + VX_XCOMP_BV_OFFSET, &xcomp_bv, sizeof(xcomp_bv));
}

/* Memory and realloc counters follow the object that owns the fpstate. */
static void count_realloc(struct vx_fpu_counters *c, const struct vx_fpstate *cur,
			  const struct vx_fpstate *newfps)
{
	c->reallocs++;
	c->fpstate_bytes += newfps->size;
	if (cur->is_valloc)
		c->fpstate_bytes -= cur->size;
}

static int fpstate_realloc(struct vx_fpu_task *t, const struct realloc_args *a,
			   struct vx_error *err)
{
	struct vx_fpu_machine *m = t->machine;
	struct vx_fpstate *cur = reference_fpstate(t, a), *newfps;
	bool in_use = t->fpu.fpstate == cur;
	int rc = in_use ? fpu_running(t, err) : 0;

	if (rc)
		return rc;
	newfps = fpu_fpstate_valloc(m, a->ksize);
	if (!newfps)
		return vx_error_set(err, -ENOMEM, "linux-fpu.md §5.3",
				    "cannot allocate a %u-byte fpstate", a->ksize);
	/* The old layout is about to go: registers must be live before the switch. */
	if (in_use && (rc = fpu_fpregs_restore_userregs(t, err)) != 0) {
		fpu_fpstate_vfree(m, newfps);
		return rc;
	}
	fill_new_fpstate(m->sys, newfps, cur, a);
	count_realloc(a->gfpu ? &a->gfpu->counters : &t->counters, cur, newfps);
	if (a->gfpu) {
		a->gfpu->xfeatures |= a->xfeatures;
		a->gfpu->uabi_size = a->usize;
		a->gfpu->fpstate = newfps;
	}
	if (in_use)
		t->fpu.fpstate = newfps;
	if (in_use)
		fpu_xfd_update_state(m, (unsigned)t->cpu, newfps, NULL);
	if (cur->is_valloc)
		fpu_fpstate_vfree(m, cur);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* __xfd_enable_feature() and the #NM handler (§5.2)                                            */

int fpu_xfd_enable_feature(struct vx_fpu_task *t, uint64_t xfd_err, struct vx_fpu_guest *gfpu,
			   struct vx_error *err)
{
	struct vx_fpu_machine *m = t->machine;
	uint64_t xfd_event = xfd_err & VX_FPU_MASK_USER_DYNAMIC;
	const struct vx_fpu_perm *perm = fpu_group_perm(t, gfpu != NULL);
	struct realloc_args a = {xfd_event, perm->state_size, perm->user_state_size, gfpu};
	int rc;

	if (!xfd_event) {
		if (!gfpu && !m->xfd_err_printed) {
			m->xfd_err_printed = true;
			fpu_machine_log(m, "XFD: Invalid xfd error: %016llx",
					(unsigned long long)xfd_err);
		}
		return 0;
	}
	if ((perm->state_perm & xfd_event) != xfd_event)
		return vx_error_set(err, -EPERM, "linux-fpu.md §5.2 step 4",
				    "the process has no %spermission for 0x%llx",
				    gfpu ? "guest " : "", (unsigned long long)xfd_event);
	rc = fpstate_realloc(t, &a, err);
	if (rc == -ENOMEM)
		return vx_error_set(err, -EFAULT, "linux-fpu.md §5.2 step 4",
				    "fpstate_realloc() failed: %s", err ? err->reason : "ENOMEM");
	return rc;
}

static int xfd_msr(struct vx_cpu *cpu, bool write, uint64_t *value, struct vx_error *err)
{
	struct vx_event event;
	int rc = write ? vx_cpu_wrmsr(cpu, VX_MSR_IA32_XFD_ERR, *value, &event)
		       : vx_cpu_rdmsr(cpu, VX_MSR_IA32_XFD_ERR, value, &event);

	if (rc == 0)
		return 0;
	return vx_error_set(err, -EINVAL, "linux-fpu.md §5.2", "%s IA32_XFD_ERR faulted: %s",
			    write ? "WRMSR" : "RDMSR", event.reason);
}

/* handle_xfd_event() (§5.2 steps 1-5), in kernel mode after a user #NM. */
int vx_fpu_handle_xfd_event(struct vx_fpu_task *task, struct vx_error *err)
{
	struct vx_cpu *cpu;
	uint64_t xfd_err = 0, zero = 0;
	int rc = fpu_running(task, err);

	if (rc)
		return rc;
	cpu = task->machine->percpu[task->cpu].cpu;
	if (!vx_profile_has(&task->machine->sys->profile, VX_FEAT_XFD))
		return -ENOENT;
	rc = xfd_msr(cpu, false, &xfd_err, err);
	if (rc == 0 && xfd_err == 0)
		return -ENOENT;
	if (rc == 0)
		rc = xfd_msr(cpu, true, &zero, err);
	if (rc)
		return rc;
	task->counters.nm_events++;
	return fpu_xfd_enable_feature(task, xfd_err, NULL, err);
}

/* ----------------------------------------------------------------------------------------- */
/* #NM in kernel mode (§5.2 step 3)                                                             */

/* A WARN that does not refuse anything: the splat's line in the log, the count. */
#define KERNEL_WARN(m, ...)                                                                        \
	do {                                                                                       \
		(m)->warnings++;                                                                   \
		fpu_machine_log((m), "WARNING: " __VA_ARGS__);                                     \
	} while (0)

/*
 * handle_xfd_event() for an #NM from kernel mode (§5.2 steps 1-3): with XFD, IA32_XFD_ERR is
 * read and cleared as for a user #NM; a non-zero value is a kernel bug - WARN, counted on the
 * machine - and the handler falls through without enabling anything.
 */
static int kernel_xfd_event(struct vx_fpu_machine *m, unsigned cpu,
			    struct vx_fpu_kernel_result *res, struct vx_error *err)
{
	struct vx_cpu *c = m->percpu[cpu].cpu;
	uint64_t xfd_err = 0, zero = 0;
	int rc;

	if (!vx_profile_has(&m->sys->profile, VX_FEAT_XFD)) /* step 1 */
		return 0;
	rc = xfd_msr(c, false, &xfd_err, err);
	if (rc == 0 && xfd_err) /* step 2 */
		rc = xfd_msr(c, true, &zero, err);
	if (rc || !xfd_err)
		return rc;
	res->xfd_err = xfd_err;
	m->kernel_xfd_nms++;
	KERNEL_WARN(m, "XFD #NM in kernel mode, IA32_XFD_ERR 0x%llx (linux-fpu.md §5.2 step 3)",
		    (unsigned long long)xfd_err);
	return 0;
}

/*
 * The generic #NM handling the XFD part falls through to (§5.2 step 3): CR0.TS set → WARN,
 * TS cleared, the instruction runs again (1); otherwise die("unexpected #NM exception") (0).
 */
static int nm_fixup(struct vx_fpu_machine *m, unsigned cpu, struct vx_fpu_kernel_result *res)
{
	struct vx_cpu *c = m->percpu[cpu].cpu;
	struct vx_cpu_control control;
	struct vx_event event;

	vx_cpu_get_control(c, &control);
	if (!(control.cr0 & VX_CR0_TS)) {
		res->outcome = VX_FPU_KERNEL_DIE;
		fpu_machine_log(m, "unexpected #NM exception (die)");
		return 0;
	}
	control.cr0 &= ~VX_CR0_TS;
	vx_cpu_set_control(c, &control, &event);
	res->ts_fixups++;
	KERNEL_WARN(m, "CR0.TS was set at a kernel #NM (CR0 0x%llx): cleared",
		    (unsigned long long)(control.cr0 | VX_CR0_TS));
	return 1;
}

/* One execution: 0 retired or died, 1 run again (after a CR0.TS fixup), < 0 error. */
static int kernel_run_once(struct vx_fpu_machine *m, unsigned cpu, uint64_t components,
			   struct vx_fpu_kernel_result *res, struct vx_error *err)
{
	int rc = vx_cpu_use(m->percpu[cpu].cpu, components, &res->event);

	if (rc == 0) {
		res->outcome = VX_FPU_KERNEL_RETIRED;
		return 0;
	}
	if (rc < 0)
		return vx_error_set(err, rc, NULL, "the kernel instruction was refused (%s)",
				    vx_errno_name(rc));
	if (res->event.kind != VX_EVENT_EXCEPTION || res->event.vector != VX_VEC_NM)
		return vx_error_set(err, -EFAULT, "linux-fpu.md §5.2",
				    "kernel code raised %s: only #NM is modelled (%s)",
				    vx_vector_name(res->event.vector), res->event.reason);
	res->nm_events++;
	rc = kernel_xfd_event(m, cpu, res, err);
	return rc ? rc : nm_fixup(m, cpu, res);
}

int vx_fpu_kernel_use(struct vx_fpu_machine *machine, unsigned cpu, uint64_t components,
		      struct vx_fpu_kernel_result *result, struct vx_error *err)
{
	int rc = 1;

	memset(result, 0, sizeof(*result));
	if (cpu >= machine->ncpus)
		return vx_error_set(err, -EINVAL, NULL, "no CPU %u (the machine has %u)", cpu,
				    machine->ncpus);
	/* Kernel code touches FPU registers only between kernel_fpu_begin() and _end() (§8.4). */
	if (machine->percpu[cpu].kernel_fpu_allowed)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §8.4",
				    "CPU %u is not inside kernel_fpu_begin()/_end()", cpu);
	/* At most one fixup: CR0.TS is clear when the instruction runs again. */
	for (int run = 0; run < 2 && rc == 1; run++)
		rc = kernel_run_once(machine, cpu, components, result, err);
	return rc;
}

unsigned vx_fpu_machine_kernel_xfd_nms(const struct vx_fpu_machine *machine)
{
	return machine->kernel_xfd_nms;
}
