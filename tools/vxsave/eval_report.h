/* SPDX-License-Identifier: MIT */
/*
 * `vxsave eval` (issue 9): what one invocation evaluated, shared by the command (cmd_eval.c:
 * options, running, the text tables and the verdict), its JSON (eval_json.c) and its report
 * (eval_report.c: SVG charts and index.html).  Everything here is plain data filled by
 * cmd_eval.c before any output is written, so every output shows the same numbers.
 */
#ifndef VXSAVE_CLI_EVAL_REPORT_H
#define VXSAVE_CLI_EVAL_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <vxsave/eval.h>
#include <vxsave/eval_cost.h>

#define EVAL_MAX_WORKLOADS 16
#define EVAL_SPREAD_SEEDS  5 /* context-switch runs per design for the run-to-run spread */
#define EVAL_SWEEP_POINTS  3 /* thread counts of the memory chart */

/**
 * struct eval_figures - the per-operation figures of one evaluation, derived from its
 * counters (eval_figures_compute()); NAN where the workload has nothing to divide by.
 * @operations: what "per operation" divides by (eval_operation_name()).
 * @mem_thread: fpstate bytes of one non-vCPU thread (memory.host_thread_min).
 * @mem_vcpu:   bytes per vCPU: its guest fpstate plus KVM's own copy of PL0-2_SSP.
 * @saved_per_switch, @restored_per_switch: bytes one XSAVE* writes / one XRSTOR* reads, on
 *              average over every save / restore of the run (host and guest fpstates).
 * @msr_per_kexits: KVM's RDMSR+WRMSR of PL0-2_SSP per 1 000 guest exits.
 * @msr_exits_per_kexits: guest RDMSR/WRMSR intercepted (VM exits) per 1 000 guest exits.
 * @time_per_op: modeled ns per operation (the cost model).
 */
struct eval_figures {
	uint64_t operations;
	double mem_thread;
	double mem_vcpu;
	double saved_per_switch;
	double restored_per_switch;
	double msr_per_kexits;
	double msr_exits_per_kexits;
	double time_per_op;
};

/* One (workload, design, seed) evaluation and what the command derived from it. */
struct eval_cell {
	int rc; /* vx_eval_run(): an outcome (>= 0) or -errno with @err */
	struct vx_error err;
	struct vx_eval_result result;
	struct vx_eval_cost_breakdown cost;
	struct eval_figures fig;
	double wall_seconds; /* text output only, never JSON */
};

/**
 * struct eval_verdict - the seeds' two claims for this profile (docs/eval.md "vxsave eval").
 * @memory_known: all-tasks and guest-only ran; @thread_saving: all-tasks' minus guest-only's
 *                fpstate bytes per non-vCPU thread.
 * @switch_known: the context-switch spread runs exist; @alltasks_ns, @guestonly_ns: modeled
 *                ns per switch at the session's seed; @diff_pct: guest-only relative to
 *                all-tasks; @spread_pct: the largest (max - min) / mean over the spread seeds
 *                of either design; @within: |diff| <= spread.
 * @violations, @losses, @errors, @runs: over the main table.
 */
struct eval_verdict {
	bool memory_known;
	int64_t thread_saving;
	uint64_t thread_bytes_alltasks;
	bool switch_known;
	double alltasks_ns;
	double guestonly_ns;
	double diff_pct;
	double spread_pct;
	bool within;
	unsigned violations;
	unsigned losses;
	unsigned errors;
	unsigned runs;
};

/**
 * struct eval_session - one `vxsave eval` invocation.
 * @cells:  [workload * ndesigns + design] at @seed.
 * @spread: [seed index * 2 + (0 all-tasks, 1 guest-only)], context-switch at @seed + i.
 * @sweep:  [point * ndesigns + design]: the threads workload at @sweep_threads[point] threads
 *          (only with --report).
 */
struct eval_session {
	struct vx_profile profile;
	char source[160];
	struct vx_eval_cost_table costs;
	char costs_label[160];
	uint64_t seed;
	unsigned ndesigns;
	enum vx_kvm_cet_design designs[VX_KVM_CET_DESIGN_COUNT];
	unsigned baseline; /* index into @designs */
	unsigned nworkloads;
	struct vx_eval_workload workloads[EVAL_MAX_WORKLOADS];
	struct eval_cell *cells;
	bool spread_run;
	struct vx_eval_workload spread_workload;
	struct eval_cell *spread;
	bool sweep_run;
	unsigned sweep_threads[EVAL_SWEEP_POINTS];
	struct eval_cell *sweep;
	struct eval_verdict verdict;
	unsigned jobs;
	double wall_seconds;
};

/*
 * eval_report_run.c: run every evaluation of @s (the table, the context-switch spread when
 * all-tasks and guest-only are chosen, the memory sweep if @sweep) on @s->jobs threads, then
 * derive the figures and the verdict.  @progress: a single updating line on standard error.
 * CLI exit code (a failure only for what stops the whole session: no memory, no thread).
 */
int eval_session_run(struct eval_session *s, bool sweep, bool progress);

/* cmd_eval.c */
/* "switch", "guest exit", "step": what the workload's time per operation is per. */
const char *eval_operation_name(enum vx_eval_kind kind);
/* How @cell's evaluation ended: "pass", "design-loss 3", "VIOLATION", "error". */
const char *eval_outcome_text(const struct eval_cell *cell, char *buf, size_t len);
/* @value against @base: "=", "+1.5%", "-20%", "+9000" (when @base is 0); "" for NAN. */
const char *eval_relative_text(double value, double base, char *buf, size_t len);
/* The verdict's two sentences (memory, switch), for the text output and the HTML. */
void eval_verdict_sentences(const struct eval_session *s, char *memory, size_t mlen, char *sw,
			    size_t slen);
static inline struct eval_cell *eval_cell_at(const struct eval_session *s, unsigned w, unsigned d)
{
	return &s->cells[w * s->ndesigns + d];
}

/* eval_json.c: the whole session as one JSON document (no wall times: deterministic). */
json_t *eval_session_json(const struct eval_session *s);

/*
 * eval_report.c: write the charts and index.html into @dir (created if missing); 0 or -errno
 * with @what naming the file that failed.
 */
int eval_report_write(const struct eval_session *s, const char *dir, char *what, size_t len);

#endif /* VXSAVE_CLI_EVAL_REPORT_H */
