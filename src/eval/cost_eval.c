/* SPDX-License-Identifier: MIT */
/*
 * The evaluation's counters as the cost model's counts (issue 9; docs/eval.md "Cost model"):
 * the one place that knows both structs, so the model's input stays plain counts.
 */
#include <string.h>

#include <vxsave/eval.h>
#include <vxsave/eval_cost.h>

void vx_eval_cost_counts_from_eval(const struct vx_eval_counters *c, uint64_t operations,
				   struct vx_eval_cost_counts *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	out->operations = operations;
	out->saves = c->host_xsaves + c->guest_xsaves;
	out->restores = c->host_xrstors + c->guest_xrstors;
	/* The fpu layer counts bytes per fpstate, not per component: guest fpstates' CET_S
	 * bytes are among them and cost as user bytes (the supervisor factor is ~1). */
	out->save_bytes[VX_COST_BYTES_USER] = c->host_bytes_saved + c->guest_bytes_saved;
	out->restore_bytes[VX_COST_BYTES_USER] = c->host_bytes_restored + c->guest_bytes_restored;
	/* KVM's own PL0-2_SSP swaps (kvm-* designs, user-return notifiers included). */
	out->msr_reads[VX_COST_MSR_CET_SSP] = c->kvm_msr_reads;
	out->msr_writes[VX_COST_MSR_CET_SSP] = c->kvm_msr_writes;
	/* A guest RDMSR/WRMSR the processor ran without an exit. */
	out->msr_reads[VX_COST_MSR_GUEST] = c->guest_msr_reads;
	out->msr_writes[VX_COST_MSR_GUEST] = c->guest_msr_writes;
	/* Intercepted guest MSR accesses are VM exits handled in KVM: among exits_kernel. */
	out->exits_kernel = c->exits_kernel;
	out->msr_intercepts = c->guest_msr_read_exits + c->guest_msr_write_exits;
	out->exits_user = c->exits_user;
	out->kvm_runs = c->kvm_runs;
	out->nm_events = c->host_nm_events + c->guest_nm_events;
	out->reallocs = c->host_reallocs + c->guest_reallocs;
	out->context_switches = c->context_switches;
}
