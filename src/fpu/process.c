/* SPDX-License-Identifier: MIT */
/*
 * Processes (thread groups) and the task lifecycle (linux-fpu.md §3.3, §8.4): creation,
 * clone() (fork, vfork, threads) through fpu_clone() - with the shadow-stack SSP of a new thread
 * written into its CET_U state - exec through fpu_flush_thread() (the other threads put their
 * guest FPU before they die), exit through fpstate_free().  The group's permissions live in the
 * leader's struct fpu; a leader that exits before its threads stays as a zombie holding them, as
 * its task_struct does.
 */
#include <errno.h>
#include <string.h>

#include "task_internal.h"

#define XSTATE_BV_PASID VX_BIT(VX_COMP_PASID)
#define CLONE_FLAGS	(VX_CLONE_VM | VX_CLONE_VFORK | VX_CLONE_THREAD)
#define U_CET_SH_STK_EN VX_BIT(0) /* arch.md §7.1: IA32_U_CET bit 0 */
#define CET_U_SSP	8u	  /* arch.md §2.5: IA32_PL3_SSP is CET_U's second qword */
#define SHSTK_PAGE	4096u

static struct vx_fpu_process *process_alloc(struct vx_fpu_machine *m)
{
	struct vx_fpu_process *p =
	    m->platform->alloc(m->platform->ctx, sizeof(*p), _Alignof(struct vx_fpu_process));

	if (p) {
		memset(p, 0, sizeof(*p));
		p->machine = m;
	}
	return p;
}

static void process_link(struct vx_fpu_machine *m, struct vx_fpu_process *p,
			 struct vx_fpu_task *leader)
{
	p->leader = leader;
	p->next = m->processes;
	m->processes = p;
}

static void thread_link(struct vx_fpu_process *p, struct vx_fpu_task *t)
{
	t->process = p;
	t->id = p->machine->next_task_id++;
	t->next_thread = p->threads;
	p->threads = t;
	p->live_threads++;
}

static int enomem(struct vx_error *err, const char *what)
{
	return vx_error_set(err, -ENOMEM, "linux-fpu.md §8.4", "cannot allocate %s", what);
}

int vx_fpu_process_create(struct vx_fpu_machine *machine, struct vx_fpu_task **leader,
			  struct vx_error *err)
{
	struct vx_fpu_process *p = process_alloc(machine);
	struct vx_fpu_task *t;

	if (!p)
		return enomem(err, "a process");
	t = fpu_task_alloc(machine);
	if (!t) {
		machine->platform->free(machine->platform->ctx, p);
		return enomem(err, "the first task of a process");
	}
	fpu_image_from_init(machine->sys, &t->fpu.embedded);
	thread_link(p, t);
	process_link(machine, p, t);
	*leader = t;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* fpu_clone() (§8.4)                                                                           */

/* fpu_inherit_perms(): the parent's group perms, only when dynamic sizing is on. */
static void inherit_perms(struct vx_fpu_task *child, const struct vx_fpu_task *parent)
{
	const struct vx_fpu_task *leader = fpu_group_leader(parent);

	if (!fpu_state_size_dynamic(child->machine))
		return;
	child->fpu.perm = leader->fpu.perm;
	child->fpu.guest_perm = leader->fpu.guest_perm;
}

/*
 * The parent's live registers are saved into the child's default-sized fpstate (RFBM = the
 * default features, so no AMX tile data is inherited); PASID is dropped from its XSTATE_BV.
 */
static int clone_registers(struct vx_fpu_task *parent, struct vx_fpu_task *child,
			   struct vx_error *err)
{
	struct vx_fpu_machine *m = parent->machine;
	struct vx_fpstate *dst = &child->fpu.embedded;
	uint64_t xstate_bv;
	int rc = fpu_fpregs_restore_userregs(parent, err);

	if (rc == 0)
		rc =
		    vx_fpstate_save(m->sys, m->percpu[parent->cpu].cpu, dst, &child->counters, err);
	if (rc || !m->sys->insns.xsave)
		return rc;
	memcpy(&xstate_bv, dst->regs + VX_XSTATE_BV_OFFSET, sizeof(xstate_bv));
	xstate_bv &= ~XSTATE_BV_PASID;
	memcpy(dst->regs + VX_XSTATE_BV_OFFSET, &xstate_bv, sizeof(xstate_bv));
	return 0;
}

static int clone_checks(const struct vx_fpu_task *parent, struct vx_error *err)
{
	int rc = fpu_running(parent, err);

	if (rc == 0 && parent->active_guest)
		rc = vx_error_set(err, -EBUSY, "linux-fpu.md §6",
				  "task %u is inside KVM_RUN with a guest fpstate installed",
				  parent->id);
	return rc;
}

/* The PKRU the parent runs with (its thread.pkru is stale while it runs). */
static uint32_t live_pkru(const struct vx_fpu_task *t)
{
	uint32_t pkru = t->pkru;

	if (t->machine->sys->user.max_features & VX_BIT(VX_COMP_PKRU))
		vx_cpu_get_reg(t->machine->percpu[t->cpu].cpu, t->machine->pkru_reg, &pkru, 4);
	return pkru;
}

/* The parent has a user shadow stack: SH_STK_EN in its live IA32_U_CET (arch.md §7.1). */
static bool parent_shstk(const struct vx_fpu_task *parent)
{
	const struct vx_reg_info *reg = vx_reg_lookup("u_cet");
	uint64_t u_cet = 0;

	if (!reg || vx_cpu_get_reg(parent->machine->percpu[parent->cpu].cpu, reg, &u_cet, 8))
		return false; /* no CET on this CPU */
	return (u_cet & U_CET_SH_STK_EN) != 0;
}

/*
 * A new thread sharing the address space (CLONE_VM without CLONE_VFORK) gets its own shadow
 * stack; fork keeps a copy of the parent's and vfork borrows it, so their SSP stays (the
 * kernel's rule for allocating thread shadow stacks; linux-fpu.md §8.4 only says "SSP updated
 * in CET_USER if given", docs/fpu.md).
 */
static bool shares_mm_without_vfork(uint64_t flags)
{
	return (flags & (VX_CLONE_VM | VX_CLONE_VFORK)) == VX_CLONE_VM;
}

static int bad_clone(struct vx_error *err, const char *what, unsigned long long value)
{
	return vx_error_set(err, -EINVAL, "linux-fpu.md §8.4", "clone(): %s (0x%llx)", what, value);
}

/* The user half of the address space the new shadow stack must lie in (4- or 5-level paging). */
static uint64_t user_top(const struct vx_fpu_task *parent)
{
	struct vx_cpu_control control;

	vx_cpu_get_control(parent->machine->percpu[parent->cpu].cpu, &control);
	return (control.cr4 & VX_CR4_LA57) ? VX_BIT(56) : VX_BIT(47);
}

/*
 * The clone request against the rules: known flags, CLONE_THREAD only with CLONE_VM (clone(2):
 * a thread shares the address space), and a new shadow stack exactly when one is needed - a
 * page-aligned mapping in the user half whose top (the new SSP) is canonical.
 */
static int clone_args_check(const struct vx_fpu_task *parent, const struct vx_fpu_clone_args *a,
			    bool need_shstk, struct vx_error *err)
{
	uint64_t top = user_top(parent);

	if (a->flags & ~(uint64_t)CLONE_FLAGS)
		return bad_clone(err, "unknown flags", a->flags & ~(uint64_t)CLONE_FLAGS);
	if ((a->flags & VX_CLONE_THREAD) && !(a->flags & VX_CLONE_VM))
		return bad_clone(err, "CLONE_THREAD needs CLONE_VM", a->flags);
	if (!need_shstk && (a->shstk_base || a->shstk_size))
		return bad_clone(err,
				 "a shadow stack is given but none is made: the parent has "
				 "no SH_STK_EN in IA32_U_CET or the flags are not CLONE_VM "
				 "without CLONE_VFORK",
				 a->shstk_size);
	if (!need_shstk)
		return 0;
	if (a->shstk_size == 0 || a->shstk_size % SHSTK_PAGE || a->shstk_base % SHSTK_PAGE)
		return bad_clone(err, "the new shadow stack needs a page-aligned base and size",
				 a->shstk_size);
	if (a->shstk_base >= top || a->shstk_size > top - a->shstk_base)
		return bad_clone(err, "the new shadow stack lies outside the user address space",
				 a->shstk_base);
	return 0;
}

/*
 * update_fpu_shstk() (§8.4): the child's saved CET_U gets PL3_SSP = the new stack's top.  Its
 * CET_U is in use (U_CET has SH_STK_EN), so the component is in the image; if it is not, the
 * kernel WARNs and the clone fails.
 */
static int update_fpu_shstk(struct vx_fpu_task *child, uint64_t ssp, struct vx_error *err)
{
	const struct vx_fpu_system *sys = child->machine->sys;
	struct vx_fpstate *fps = &child->fpu.embedded;
	uint64_t xstate_bv, xcomp_bv = 0;
	uint32_t off;

	memcpy(&xstate_bv, fps->regs + VX_XSTATE_BV_OFFSET, sizeof(xstate_bv));
	if (sys->insns.compacted)
		memcpy(&xcomp_bv, fps->regs + VX_XCOMP_BV_OFFSET, sizeof(xcomp_bv));
	off = vx_fpu_xfeature_offset(sys, xcomp_bv, VX_COMP_CET_U);
	if (!(xstate_bv & VX_BIT(VX_COMP_CET_U)) || off == VX_FPU_NO_OFFSET)
		return fpu_warn(child->machine, err, -EINVAL, "linux-fpu.md §8.4",
				"update_fpu_shstk(): no CET_USER state in the child's fpstate");
	memcpy(fps->regs + off + CET_U_SSP, &ssp, sizeof(ssp));
	return 0;
}

static int fpu_clone(struct vx_fpu_task *parent, struct vx_fpu_task *child,
		     const struct vx_fpu_clone_args *a, bool need_shstk, struct vx_error *err)
{
	int rc = clone_registers(parent, child, err);

	if (rc == 0 && need_shstk)
		rc = update_fpu_shstk(child, a->shstk_base + a->shstk_size, err);
	if (rc)
		return rc;
	if (!(a->flags & VX_CLONE_THREAD))
		inherit_perms(child, parent);
	/* copy_process(): a task sharing the address space starts without the altstack. */
	if (!shares_mm_without_vfork(a->flags))
		child->sas_ss_size = parent->sas_ss_size;
	child->pkru = live_pkru(parent);
	return 0;
}

/* The child's task, and for a new thread group its process; linked only once fpu_clone() is done.
 */
static int clone_alloc(struct vx_fpu_task *parent, bool thread, struct vx_fpu_process **p,
		       struct vx_fpu_task **t, struct vx_error *err)
{
	struct vx_fpu_machine *m = parent->machine;

	*p = thread ? parent->process : process_alloc(m);
	if (!*p)
		return enomem(err, "the process of the child");
	*t = fpu_task_alloc(m);
	if (*t)
		return 0;
	if (!thread)
		m->platform->free(m->platform->ctx, *p);
	return enomem(err, "the child task");
}

int vx_fpu_task_clone(struct vx_fpu_task *parent, const struct vx_fpu_clone_args *args,
		      struct vx_fpu_task **child, struct vx_error *err)
{
	struct vx_fpu_machine *m = parent->machine;
	bool thread = args && (args->flags & VX_CLONE_THREAD), need_shstk;
	struct vx_fpu_process *p = NULL;
	struct vx_fpu_task *t = NULL;
	int rc = args ? clone_checks(parent, err) : bad_clone(err, "no arguments", 0);

	if (rc == 0) /* fpu_clone() works on live registers: U_CET is read from them too */
		rc = fpu_fpregs_restore_userregs(parent, err);
	if (rc)
		return rc;
	need_shstk = parent_shstk(parent) && shares_mm_without_vfork(args->flags);
	rc = clone_args_check(parent, args, need_shstk, err);
	if (rc == 0)
		rc = clone_alloc(parent, thread, &p, &t, err);
	if (rc)
		return rc;
	rc = fpu_clone(parent, t, args, need_shstk, err);
	if (rc) {
		fpu_task_free(t);
		if (!thread)
			m->platform->free(m->platform->ctx, p);
		return rc;
	}
	thread_link(p, t);
	if (!thread)
		process_link(m, p, t);
	*child = t;
	return 0;
}

int vx_fpu_task_fork(struct vx_fpu_task *parent, struct vx_fpu_task **child, struct vx_error *err)
{
	const struct vx_fpu_clone_args fork_args = {0, 0, 0};

	return vx_fpu_task_clone(parent, &fork_args, child, err);
}

int vx_fpu_task_clone_thread(struct vx_fpu_task *parent, struct vx_fpu_task **child,
			     struct vx_error *err)
{
	const struct vx_fpu_clone_args thread_args = {VX_CLONE_VM | VX_CLONE_THREAD, 0, 0};

	return vx_fpu_task_clone(parent, &thread_args, child, err);
}

/* ----------------------------------------------------------------------------------------- */
/* exit and exec                                                                                */

static void thread_unlink(struct vx_fpu_process *p, struct vx_fpu_task *t)
{
	struct vx_fpu_task **link = &p->threads;

	/* t is in its process's list; a miss leaves the list alone rather than run off its end. */
	while (*link && *link != t)
		link = &(*link)->next_thread;
	if (*link)
		*link = t->next_thread;
}

static void process_unlink(struct vx_fpu_machine *m, struct vx_fpu_process *p)
{
	struct vx_fpu_process **link = &m->processes;

	while (*link != p)
		link = &(*link)->next;
	*link = p->next;
}

/* The task stops running; no CPU keeps it as owner (a later task must never match it). */
static void task_off_cpus(struct vx_fpu_task *t)
{
	struct vx_fpu_machine *m = t->machine;

	if (t->cpu >= 0)
		m->percpu[t->cpu].current = NULL;
	t->cpu = -1;
	for (unsigned i = 0; i < m->ncpus; i++)
		if (m->percpu[i].owner == t)
			m->percpu[i].owner = NULL;
}

/* NOLINTNEXTLINE(misc-no-recursion): once, for the zombie leader of the last thread */
static void release_task(struct vx_fpu_task *t)
{
	struct vx_fpu_process *p = t->process;
	struct vx_fpu_machine *m = t->machine;

	task_off_cpus(t);
	fpu_fpstate_free(t);
	if (!t->exited)
		p->live_threads--;
	t->exited = true;
	if (t == p->leader && p->live_threads > 0)
		return; /* zombie leader: the perms stay */
	thread_unlink(p, t);
	fpu_task_free(t);
	if (p->live_threads == 0) {
		if (p->threads) /* the zombie leader */
			release_task(p->threads);
		else {
			process_unlink(m, p);
			m->platform->free(m->platform->ctx, p);
		}
	}
}

static int guest_installed(const struct vx_fpu_task *t, struct vx_error *err)
{
	if (!t->active_guest)
		return 0;
	return vx_error_set(err, -EBUSY, "linux-fpu.md §6",
			    "task %u still has a guest fpstate installed", t->id);
}

int vx_fpu_task_exit(struct vx_fpu_task *task, struct vx_error *err)
{
	int rc = guest_installed(task, err);

	if (rc == 0)
		release_task(task);
	return rc;
}

/*
 * A thread de_thread() kills while it is inside KVM_RUN leaves KVM_RUN before it dies: the
 * pending SIGKILL ends the run loop, whose exit puts the guest FPU (kvm_put_guest_fpu →
 * fpu_swap_kvm_fpstate(exit), linux-fpu.md §6), so the guest fpstate is no longer in use and
 * the vCPU teardown can free it (§6 fpu_free_guest_fpstate).  Running: the swap runs on its CPU
 * (the guest registers saved into the guest fpstate, the task's fpstate loaded).  Not running:
 * TIF_NEED_FPU_LOAD is set and switch_fpu() already saved the guest registers (§8.2); the
 * registers the swap would load die with the thread (task_off_cpus), so only the fpstates
 * change hands.
 */
static int leave_guest(struct vx_fpu_task *t, struct vx_error *err)
{
	struct vx_fpu_guest *gfpu = t->active_guest;

	if (!gfpu)
		return 0;
	if (t->cpu >= 0)
		return vx_fpu_swap_kvm_fpstate(t, gfpu, false, err);
	gfpu->fpstate->in_use = false;
	t->fpu.fpstate = t->fpu.task_fpstate;
	t->fpu.task_fpstate = NULL;
	t->active_guest = NULL;
	return 0;
}

/* Every other live thread of @t's process leaves its guest fpstate first (a failure releases
 * nothing). */
static int others_leave_guests(struct vx_fpu_task *t, struct vx_error *err)
{
	for (struct vx_fpu_task *other = t->process->threads; other; other = other->next_thread) {
		int rc = other == t || other->exited ? 0 : leave_guest(other, err);

		if (rc)
			return rc;
	}
	return 0;
}

/* de_thread(): every other thread exits and @t takes the (now zombie) leader's place. */
static void de_thread(struct vx_fpu_task *t)
{
	struct vx_fpu_process *p = t->process;
	struct vx_fpu_task *other = p->threads;

	while (other) {
		struct vx_fpu_task *next = other->next_thread;

		if (other != t && !other->exited)
			release_task(other);
		other = next;
	}
	if (p->leader != t) {
		struct vx_fpu_task *old = p->leader;

		thread_unlink(p, old);
		fpu_task_free(old);
		p->leader = t;
	}
}

/* fpu_flush_thread() (§8.4): fpstate_reset() and the image reset to init_fpstate. */
static void fpu_flush_thread(struct vx_fpu_task *t)
{
	const struct vx_fpu_system *sys = t->machine->sys;

	fpu_fpstate_free(t);
	fpu_fpstate_reset(sys, &t->fpu.embedded, false);
	fpu_perm_reset(t);
	fpu_image_from_init(sys, &t->fpu.embedded);
	t->fpu.last_cpu = -1;
	t->need_fpu_load = true;
}

int vx_fpu_task_exec(struct vx_fpu_task *task, struct vx_error *err)
{
	int rc = guest_installed(task, err);

	if (rc == 0)
		rc = others_leave_guests(task, err);
	if (rc)
		return rc;
	de_thread(task);
	fpu_flush_thread(task);
	task->sas_ss_size = 0;
	task->pkru = FPU_INIT_PKRU;
	if (task->cpu >= 0 && (task->machine->sys->user.max_features & VX_BIT(VX_COMP_PKRU))) {
		struct vx_event event;

		vx_cpu_set_reg(task->machine->percpu[task->cpu].cpu, task->machine->pkru_reg,
			       &task->pkru, 4, &event);
	}
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Accessors                                                                                    */

struct vx_fpu_task *vx_fpu_process_leader(const struct vx_fpu_process *process)
{
	return process->leader;
}

unsigned vx_fpu_process_threads(const struct vx_fpu_process *process)
{
	return process->live_threads;
}

void vx_fpu_process_perm(const struct vx_fpu_process *process, struct vx_fpu_perm *perm,
			 struct vx_fpu_perm *guest_perm)
{
	if (perm)
		*perm = process->leader->fpu.perm;
	if (guest_perm)
		*guest_perm = process->leader->fpu.guest_perm;
}
