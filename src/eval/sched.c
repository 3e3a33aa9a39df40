/* SPDX-License-Identifier: MIT */
/*
 * The scheduler (issue 9 "A scheduler over N model CPUs"; docs/eval.md "Scheduling"): each
 * step picks an entity (a host task or a vCPU thread) and a CPU, from the workload's pattern
 * and the run's random stream (xorshift64* seeded by splitmix64 of the seed), and puts the
 * thread there through the host scheduler (vx_kvm_sched: KVM's preempt notifiers around
 * switch_fpu, linux-fpu.md §8.2).  A task then returns to user mode (the CPU's user-return
 * notifiers, switch_fpu_return, §8.3) and runs; a vCPU thread runs a time slice of guest
 * instructions inside KVM_RUN and stays there, preempted, until it is picked again.
 *   context-switch: pair p = random; its other task takes the pair's CPU (p mod cpus).
 *   vcpu-exits, mixed, amx: a random entity, on a random CPU with probability migrate%,
 *                otherwise where it last ran (first: entity mod cpus).
 *   threads:     entity step mod n on CPU step mod cpus: every thread in turn.
 */
#include "eval/eval_internal.h"

uint64_t ev_rand(struct ev_world *w)
{
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

static unsigned pick(struct ev_world *w, unsigned n)
{
	return (unsigned)(ev_rand(w) % n);
}

static unsigned other_cpu(struct ev_world *w, const struct ev_entity *e)
{
	if (pick(w, 100) < w->wl->migrate)
		return pick(w, w->ncpus);
	return e->cpu >= 0 ? (unsigned)e->cpu : e->home;
}

/* context_switch1: the pair's other task runs next on the pair's CPU. */
static struct ev_entity *pick_pair(struct ev_world *w, unsigned *cpu)
{
	unsigned p = pick(w, w->nents / 2);
	struct ev_entity *first = &w->ents[2 * p], *e = first + first->pair_next;

	first->pair_next ^= 1;
	*cpu = other_cpu(w, e);
	return e;
}

static struct ev_entity *pick_random(struct ev_world *w, unsigned *cpu)
{
	struct ev_entity *e = &w->ents[pick(w, w->nents)];

	*cpu = other_cpu(w, e);
	return e;
}

static struct ev_entity *pick_round_robin(struct ev_world *w, unsigned *cpu)
{
	*cpu = (unsigned)(w->step % w->ncpus);
	return &w->ents[w->step % w->nents];
}

static struct ev_entity *(*const pickers[VX_EVAL_KIND_COUNT])(struct ev_world *, unsigned *) = {
    [VX_EVAL_CONTEXT_SWITCH] = pick_pair, [VX_EVAL_VCPU_EXITS] = pick_random,
    [VX_EVAL_MIXED] = pick_random,	  [VX_EVAL_AMX] = pick_random,
    [VX_EVAL_THREADS] = pick_round_robin,
};

static bool in_guest(const struct ev_world *w, int entity)
{
	const struct ev_entity *e = entity >= 0 ? &w->ents[entity] : NULL;

	return e && e->kind == EV_VCPU_THREAD && vx_kvm_vcpu_in_run(e->vcpu->vcpu);
}

int ev_sched(struct ev_world *w, struct ev_entity *e, unsigned cpu, struct vx_error *err)
{
	struct vx_fpu_task_info info;
	int rc, cur = w->cpu_entity[cpu];

	vx_fpu_task_info(e->task, &info);
	if (info.cpu == (int)cpu)
		return 0;
	w->c.context_switches++;
	if (e->cpu >= 0 && e->cpu != (int)cpu)
		w->c.migrations++;
	/* A vCPU thread inside KVM_RUN loses its CPU to another thread. */
	if (cur >= 0 && cur != (int)e->index && in_guest(w, cur))
		w->c.preemptions++;
	rc = vx_kvm_sched(w->kvm, e->task, cpu, err);
	if (rc)
		return rc;
	if (info.cpu >= 0 && w->cpu_entity[info.cpu] == (int)e->index)
		w->cpu_entity[info.cpu] = -1;
	w->cpu_entity[cpu] = (int)e->index;
	e->cpu = (int)cpu;
	return 0;
}

static int one_step(struct ev_world *w, struct vx_error *err)
{
	unsigned cpu = 0;
	struct ev_entity *e = pickers[w->wl->kind](w, &cpu);
	struct ev_hist h = {w->step, e->index, cpu, 0, 0};
	int rc;

	ev_history_add(w, &h);
	w->c.steps++;
	rc = ev_sched(w, e, cpu, err);
	if (rc == 0)
		rc = e->kind == EV_TASK ? ev_host_step(w, e, err) : ev_vcpu_slice(w, e, cpu, err);
	ev_memory_track(w, e);
	return rc;
}

/* A planted fault (test-only) has fired when the module's copy of the options shows none. */
static void note_fault(struct ev_world *w)
{
	if (w->fault_armed && vx_kvm_options(w->kvm)->fault == VX_KVM_FAULT_NONE) {
		w->fault_armed = false;
		w->res->fault_step = w->step;
	}
}

int ev_run_steps(struct ev_world *w, const struct vx_eval_options *opts, struct vx_error *err)
{
	uint64_t every = opts->progress_every ? opts->progress_every : 1000;
	int rc = 0;

	for (w->step = 0; w->step < w->wl->steps && rc == 0; w->step++) {
		rc = one_step(w, err);
		note_fault(w);
		if (opts->progress && (w->step + 1) % every == 0)
			opts->progress(opts->progress_ctx, w->step + 1, w->wl->steps);
	}
	if (opts->progress)
		opts->progress(opts->progress_ctx, w->step, w->wl->steps);
	return rc;
}
