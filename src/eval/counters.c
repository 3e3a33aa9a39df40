/* SPDX-License-Identifier: MIT */
/*
 * Counters and memory (issue 9 "counters per design"; docs/eval.md "Counters").  The table
 * below is the one description of every counter (name, unit, meaning) for the CLI, JSON and
 * the cost model.  The XSAVE-family counts and the memory come from the fpu layer's struct
 * vx_fpu_counters of every task and guest, KVM's PL0-2_SSP traffic from each vCPU's struct
 * vx_kvm_design_counters; the rest is counted by the evaluation as it runs.
 */
#include "eval/eval_internal.h"

#define ROW(f, unit, meaning)                                                                      \
	{                                                                                          \
#f, unit, meaning, offsetof(struct vx_eval_counters, f)                            \
	}

static const struct vx_eval_counter_info table[] = {
    ROW(steps, "steps", "scheduler steps (a hand-off or a time slice)"),
    ROW(context_switches, "switches", "threads switched in on a CPU (switch_fpu of the previous)"),
    ROW(migrations, "switches", "switches onto another CPU than the thread's last"),
    ROW(preemptions, "switches", "vCPU threads inside KVM_RUN switched out for another thread"),
    ROW(returns_to_user, "returns", "host threads back in user mode (tasks, VMMs after an exit)"),
    ROW(host_xsaves, "instructions", "XSAVE* of task fpstates"),
    ROW(host_xrstors, "instructions", "XRSTOR* of task fpstates"),
    ROW(host_bytes_saved, "bytes", "bytes XSAVE* wrote to task fpstates (init optimization shown)"),
    ROW(host_bytes_restored, "bytes", "bytes XRSTOR* read from task fpstates"),
    ROW(guest_xsaves, "instructions", "XSAVE* of guest fpstates"),
    ROW(guest_xrstors, "instructions", "XRSTOR* of guest fpstates"),
    ROW(guest_bytes_saved, "bytes", "bytes XSAVE* wrote to guest fpstates"),
    ROW(guest_bytes_restored, "bytes", "bytes XRSTOR* read from guest fpstates"),
    ROW(kvm_msr_reads, "instructions", "RDMSR of PL0-2_SSP by KVM (kvm-* designs)"),
    ROW(kvm_msr_writes, "instructions", "WRMSR of PL0-2_SSP by KVM (kvm-* designs)"),
    ROW(guest_msr_reads, "instructions", "guest RDMSR run by the processor (passed through)"),
    ROW(guest_msr_writes, "instructions", "guest WRMSR run by the processor (passed through)"),
    ROW(guest_msr_read_exits, "exits", "guest RDMSR intercepted (an exit to KVM)"),
    ROW(guest_msr_write_exits, "exits", "guest WRMSR intercepted (an exit to KVM)"),
    ROW(msr_write_intercepts, "exits", "intercepted guest writes of PL0-2_SSP (kvm-lazy)"),
    ROW(guest_instructions, "instructions", "guest instructions executed"),
    ROW(kvm_runs, "ioctls", "KVM_RUN entered from userspace"),
    ROW(exits_kernel, "exits", "VM exits handled in KVM"),
    ROW(exits_user, "exits", "KVM_RUN returns to userspace (OUT)"),
    ROW(vcpu_loads, "calls", "vcpu_load: KVM_RUN entry and sched-in"),
    ROW(vcpu_puts, "calls", "vcpu_put: KVM_RUN exit and sched-out"),
    ROW(user_return_notifiers, "calls", "user-return notifiers that restored the host's PL0-2_SSP"),
    ROW(host_nm_events, "events", "#NM with XFD_ERR handled for tasks (first AMX use)"),
    ROW(guest_nm_events, "events", "#NM from XFD reflected to guests"),
    ROW(host_reallocs, "events", "task fpstates grown (fpstate_realloc)"),
    ROW(guest_reallocs, "events", "guest fpstates grown (KVM_SET_CPUID2 with AMX)"),
    ROW(design_losses, "values", "guest PL0-2_SSP values the design lost (kvm-user-return)"),
};

#define NROWS (sizeof(table) / sizeof(table[0]))
_Static_assert(NROWS * sizeof(uint64_t) == sizeof(struct vx_eval_counters),
	       "one table row per counter");

unsigned vx_eval_counter_count(void)
{
	return (unsigned)NROWS;
}

const struct vx_eval_counter_info *vx_eval_counter_at(unsigned index)
{
	return index < NROWS ? &table[index] : NULL;
}

uint64_t vx_eval_counter_value(const struct vx_eval_counters *counters, unsigned index)
{
	uint64_t v = 0;

	if (index < NROWS)
		memcpy(&v, (const char *)counters + table[index].offset, sizeof(v));
	return v;
}

/* ----------------------------------------------------------------------------------------- */
/* Sums over the world                                                                          */

static void add_task(struct vx_eval_counters *o, const struct vx_fpu_counters *c)
{
	o->host_xsaves += c->saves;
	o->host_xrstors += c->restores;
	o->host_bytes_saved += c->bytes_saved;
	o->host_bytes_restored += c->bytes_restored;
	o->host_nm_events += c->nm_events;
	o->host_reallocs += c->reallocs;
}

static void add_vcpu(struct vx_eval_counters *o, const struct vx_kvm_vcpu *vcpu)
{
	const struct vx_fpu_counters *g = &vx_kvm_vcpu_guest_fpu(vcpu)->counters;
	struct vx_kvm_design_counters d;

	vx_kvm_vcpu_design_counters(vcpu, &d);
	o->guest_xsaves += g->saves;
	o->guest_xrstors += g->restores;
	o->guest_bytes_saved += g->bytes_saved;
	o->guest_bytes_restored += g->bytes_restored;
	o->guest_reallocs += g->reallocs;
	o->kvm_msr_reads += d.msr_reads;
	o->kvm_msr_writes += d.msr_writes;
	o->msr_write_intercepts += d.intercepted_writes;
	o->vcpu_loads += d.sched_in;
	o->vcpu_puts += d.sched_out;
	o->user_return_notifiers += d.user_returns;
	o->design_losses += d.lost;
}

/* The evaluation's own counts, plus every task's and vCPU's. */
void ev_counters_sum(const struct ev_world *w, struct vx_eval_counters *out)
{
	*out = w->c;
	for (unsigned i = 0; i < w->nthreads; i++) {
		struct vx_fpu_task_info info;

		vx_fpu_task_info(w->threads[i], &info);
		add_task(out, &info.counters);
	}
	for (unsigned i = 0; i < w->nvcpus; i++)
		add_vcpu(out, w->vcpus[i].vcpu);
}

void ev_counters_sub(struct vx_eval_counters *a, const struct vx_eval_counters *b)
{
	uint64_t *pa = (uint64_t *)(void *)a;
	const uint64_t *pb = (const uint64_t *)(const void *)b;

	for (size_t i = 0; i < NROWS; i++)
		pa[i] -= pb[i];
}

/* ----------------------------------------------------------------------------------------- */
/* Memory                                                                                       */

static uint64_t task_bytes(const struct vx_fpu_task *t)
{
	struct vx_fpu_task_info info;

	vx_fpu_task_info(t, &info);
	return info.counters.fpstate_bytes;
}

static uint64_t vcpu_bytes(const struct ev_world *w, const struct ev_vcpu *v)
{
	return vx_kvm_vcpu_guest_fpu(v->vcpu)->counters.fpstate_bytes +
	       (w->kvm_copy ? EV_KVM_COPY_BYTES : 0u);
}

uint64_t ev_entity_bytes(const struct ev_world *w, const struct ev_entity *e)
{
	return task_bytes(e->task) + (e->vcpu ? vcpu_bytes(w, e->vcpu) : 0);
}

/* Only the entity that ran can have grown (a first AMX use): the total follows it. */
void ev_memory_track(struct ev_world *w, struct ev_entity *e)
{
	uint64_t now = ev_entity_bytes(w, e);

	w->mem_total = w->mem_total + now - e->bytes;
	e->bytes = now;
	if (w->mem_total > w->res->memory.peak)
		w->res->memory.peak = w->mem_total;
}

static void host_thread(struct vx_eval_memory *m, uint64_t bytes)
{
	if (m->host_threads++ == 0 || bytes < m->host_thread_min)
		m->host_thread_min = bytes;
	if (bytes > m->host_thread_max)
		m->host_thread_max = bytes;
}

void ev_memory_final(const struct ev_world *w, struct vx_eval_memory *m)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < w->nthreads; i++) {
		uint64_t b = task_bytes(w->threads[i]);

		total += b;
		/* world.c makes the vCPU threads last. */
		if (i >= w->nthreads - w->nvcpus) {
			if (b > m->vcpu_thread)
				m->vcpu_thread = b;
			continue;
		}
		host_thread(m, b);
	}
	for (unsigned i = 0; i < w->nvcpus; i++) {
		uint64_t g = vx_kvm_vcpu_guest_fpu(w->vcpus[i].vcpu)->counters.fpstate_bytes;

		total += vcpu_bytes(w, &w->vcpus[i]);
		if (g > m->vcpu_fpstate)
			m->vcpu_fpstate = g;
	}
	m->vcpus = w->nvcpus;
	m->vcpu_kvm_copy = (w->kvm_copy && w->nvcpus) ? EV_KVM_COPY_BYTES : 0u;
	m->total = total;
	if (total > m->peak)
		m->peak = total;
}
