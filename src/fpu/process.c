/* SPDX-License-Identifier: MIT */
/*
 * Processes (thread groups) and the task lifecycle (linux-fpu.md §3.3, §8.4): creation, fork
 * and clone(CLONE_THREAD) through fpu_clone(), exec through fpu_flush_thread(), exit through
 * fpstate_free().  The group's permissions live in the leader's struct fpu; a leader that
 * exits before its threads stays as a zombie holding them, as its task_struct does.
 */
#include <errno.h>
#include <string.h>

#include "task_internal.h"

#define XSTATE_BV_PASID VX_BIT(VX_COMP_PASID)

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

static int fpu_clone(struct vx_fpu_task *parent, struct vx_fpu_task *child, bool thread,
		     struct vx_error *err)
{
	int rc = clone_registers(parent, child, err);

	if (rc)
		return rc;
	if (!thread) {
		inherit_perms(child, parent);
		child->sas_ss_size = parent->sas_ss_size;
	}
	child->pkru = live_pkru(parent);
	return 0;
}

int vx_fpu_task_fork(struct vx_fpu_task *parent, struct vx_fpu_task **child, struct vx_error *err)
{
	struct vx_fpu_machine *m = parent->machine;
	struct vx_fpu_process *p;
	struct vx_fpu_task *t;
	int rc = clone_checks(parent, err);

	if (rc)
		return rc;
	p = process_alloc(m);
	if (!p)
		return enomem(err, "the process of fork()'s child");
	t = fpu_task_alloc(m);
	rc = t ? fpu_clone(parent, t, false, err) : enomem(err, "the child of fork()");
	if (rc) {
		if (t)
			fpu_task_free(t);
		m->platform->free(m->platform->ctx, p);
		return rc;
	}
	thread_link(p, t);
	process_link(m, p, t);
	*child = t;
	return 0;
}

int vx_fpu_task_clone_thread(struct vx_fpu_task *parent, struct vx_fpu_task **child,
			     struct vx_error *err)
{
	struct vx_fpu_task *t;
	int rc = clone_checks(parent, err);

	if (rc)
		return rc;
	t = fpu_task_alloc(parent->machine);
	rc = t ? fpu_clone(parent, t, true, err) : enomem(err, "the new thread");
	if (rc) {
		if (t)
			fpu_task_free(t);
		return rc;
	}
	thread_link(parent->process, t);
	*child = t;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* exit and exec                                                                                */

static void thread_unlink(struct vx_fpu_process *p, struct vx_fpu_task *t)
{
	struct vx_fpu_task **link = &p->threads;

	while (*link != t)
		link = &(*link)->next_thread;
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
