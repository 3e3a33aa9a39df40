/* SPDX-License-Identifier: MIT */
/*
 * `vxsave eval`: running the session's evaluations on --jobs threads (independent
 * vx_eval_run() calls share nothing: include/vxsave/common.h "Threads"), the progress line,
 * and what is derived from the results - the per-operation figures and the verdict.  Every
 * result lands in its own slot of the session, so the output does not depend on the number of
 * threads or on which finished first.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "eval_report.h"

/* One evaluation to run and where its result goes. */
struct eval_job {
	const struct vx_eval_workload *workload;
	enum vx_kvm_cet_design design;
	uint64_t seed;
	struct eval_cell *cell;
};

/* The work list the threads take jobs from, in order. */
struct eval_pool {
	const struct eval_session *session;
	struct eval_job *jobs;
	unsigned njobs;
	unsigned next;
	unsigned done;
	bool progress;
	pthread_mutex_t lock;
};

/* A progress callback's context: the pool and the job it reports on. */
struct progress_ctx {
	struct eval_pool *pool;
	const struct eval_job *job;
};

static double now_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ----------------------------------------------------------------------------------------- */
/* the job list                                                                                 */

static void add_job(struct eval_pool *p, const struct vx_eval_workload *w, enum vx_kvm_cet_design d,
		    uint64_t seed, struct eval_cell *cell)
{
	p->jobs[p->njobs++] = (struct eval_job){w, d, seed, cell};
}

/*
 * The spread runs: the first context-switch workload of the session, or the built-in one with
 * the session's --cpus/--steps (they are already applied to the session's workloads, so take
 * them from the first workload only when it is of that kind).
 */
static void choose_spread_workload(struct eval_session *s)
{
	struct vx_error err = VX_ERROR_INIT;

	for (unsigned i = 0; i < s->nworkloads; i++)
		if (s->workloads[i].kind == VX_EVAL_CONTEXT_SWITCH) {
			s->spread_workload = s->workloads[i];
			return;
		}
	vx_eval_workload_builtin("context-switch", &s->spread_workload, &err);
}

/*
 * The memory chart's points: the built-in threads workload at 100, 1 000 and 10 000 threads
 * (16 of them vCPUs in 2 VMs, a process per 100 threads), 100 steps: measured, not scaled.
 */
static void sweep_workload(const struct eval_session *s, unsigned point, struct vx_eval_workload *w)
{
	struct vx_error err = VX_ERROR_INIT;
	unsigned n = s->sweep_threads[point];

	vx_eval_workload_builtin("threads", w, &err);
	w->tasks = n - w->vcpus;
	w->processes = n / 100 < w->vms ? w->vms : n / 100;
	w->steps = 100;
	snprintf(w->name, sizeof(w->name), "threads-%u", n);
}

static int build_jobs(struct eval_session *s, struct eval_pool *p, bool sweep,
		      struct vx_eval_workload *sweep_workloads)
{
	unsigned total =
	    s->nworkloads * s->ndesigns + 2 * EVAL_SPREAD_SEEDS + EVAL_SWEEP_POINTS * s->ndesigns;
	static const unsigned points[EVAL_SWEEP_POINTS] = {100, 1000, 10000};

	p->jobs = calloc(total, sizeof(*p->jobs));
	s->cells = calloc((size_t)s->nworkloads * s->ndesigns, sizeof(*s->cells));
	s->spread = calloc(2 * EVAL_SPREAD_SEEDS, sizeof(*s->spread));
	s->sweep =
	    sweep ? calloc((size_t)EVAL_SWEEP_POINTS * s->ndesigns, sizeof(*s->sweep)) : NULL;
	if (!p->jobs || !s->cells || !s->spread || (sweep && !s->sweep))
		return -ENOMEM;
	for (unsigned w = 0; w < s->nworkloads; w++)
		for (unsigned d = 0; d < s->ndesigns; d++)
			add_job(p, &s->workloads[w], s->designs[d], s->seed, eval_cell_at(s, w, d));
	/* The verdict's spread compares all-tasks with guest-only: only when both are chosen. */
	s->spread_run = false;
	for (unsigned d = 0; d < s->ndesigns; d++)
		for (unsigned e = 0; e < s->ndesigns; e++)
			if (s->designs[d] == VX_KVM_CET_ALL_TASKS &&
			    s->designs[e] == VX_KVM_CET_GUEST_ONLY)
				s->spread_run = true;
	choose_spread_workload(s);
	for (unsigned i = 0; s->spread_run && i < EVAL_SPREAD_SEEDS; i++) {
		add_job(p, &s->spread_workload, VX_KVM_CET_ALL_TASKS, s->seed + i,
			&s->spread[2 * i]);
		add_job(p, &s->spread_workload, VX_KVM_CET_GUEST_ONLY, s->seed + i,
			&s->spread[2 * i + 1]);
	}
	s->sweep_run = sweep;
	for (unsigned i = 0; sweep && i < EVAL_SWEEP_POINTS; i++) {
		s->sweep_threads[i] = points[i];
		sweep_workload(s, i, &sweep_workloads[i]);
		for (unsigned d = 0; d < s->ndesigns; d++)
			add_job(p, &sweep_workloads[i], s->designs[d], s->seed,
				&s->sweep[i * s->ndesigns + d]);
	}
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* running                                                                                      */

/* "eval: mixed kvm-lazy 2400/4000 steps [7/30]" over the previous line (a terminal only). */
static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
	const struct progress_ctx *pc = ctx;
	struct eval_pool *p = pc->pool;

	pthread_mutex_lock(&p->lock);
	fprintf(stderr, "\r\033[Keval: %s %s %llu/%llu steps [%u/%u]", pc->job->workload->name,
		vx_kvm_cet_design_name(pc->job->design), (unsigned long long)done,
		(unsigned long long)total, p->done + 1, p->njobs);
	fflush(stderr);
	pthread_mutex_unlock(&p->lock);
}

static void run_job(struct eval_pool *p, const struct eval_job *job)
{
	struct progress_ctx ctx = {p, job};
	struct vx_eval_options options;
	struct eval_cell *cell = job->cell;
	double start = now_seconds();

	vx_eval_options_init(&options);
	if (p->progress) {
		options.progress = show_progress;
		options.progress_ctx = &ctx;
		options.progress_every = job->workload->steps / 20 ? job->workload->steps / 20 : 1;
	}
	vx_error_clear(&cell->err);
	cell->rc = vx_eval_run(&p->session->profile, job->design, job->workload, job->seed,
			       &options, &cell->result, &cell->err);
	cell->wall_seconds = now_seconds() - start;
}

static void *worker(void *arg)
{
	struct eval_pool *p = arg;

	for (;;) {
		unsigned i;

		pthread_mutex_lock(&p->lock);
		i = p->next < p->njobs ? p->next++ : p->njobs;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->njobs)
			return NULL;
		run_job(p, &p->jobs[i]);
		pthread_mutex_lock(&p->lock);
		p->done++;
		pthread_mutex_unlock(&p->lock);
	}
}

/* Run every job on @threads threads (this one included); a thread that cannot start is done
 * without: the others take its share. */
static void run_pool(struct eval_pool *p, unsigned threads)
{
	pthread_t ids[256];
	unsigned started = 0;

	if (threads > p->njobs)
		threads = p->njobs;
	for (unsigned i = 1; i < threads && i < 256; i++)
		if (pthread_create(&ids[started], NULL, worker, p) == 0)
			started++;
	worker(p);
	for (unsigned i = 0; i < started; i++)
		pthread_join(ids[i], NULL);
	if (p->progress)
		fputs("\r\033[K", stderr);
}

/* ----------------------------------------------------------------------------------------- */
/* figures                                                                                      */

/* What "per operation" divides by, per kind (eval_operation_name() names it). */
static uint64_t operations(enum vx_eval_kind kind, const struct vx_eval_counters *c)
{
	if (kind == VX_EVAL_VCPU_EXITS)
		return c->exits_kernel + c->exits_user;
	if (kind == VX_EVAL_MIXED || kind == VX_EVAL_AMX)
		return c->steps;
	return c->context_switches;
}

static double ratio(uint64_t part, uint64_t whole, double scale)
{
	return whole ? (double)part * scale / (double)whole : NAN;
}

static void compute_figures(const struct eval_session *s, struct eval_cell *cell)
{
	const struct vx_eval_result *r = &cell->result;
	const struct vx_eval_counters *c = &r->run;
	struct eval_figures *f = &cell->fig;
	struct vx_eval_cost_counts counts;
	uint64_t exits = c->exits_kernel + c->exits_user;

	f->operations = operations(r->workload.kind, c);
	f->mem_thread = (double)r->memory.host_thread_min;
	f->mem_vcpu =
	    r->memory.vcpus ? (double)(r->memory.vcpu_fpstate + r->memory.vcpu_kvm_copy) : NAN;
	f->saved_per_switch =
	    ratio(c->host_bytes_saved + c->guest_bytes_saved, c->host_xsaves + c->guest_xsaves, 1);
	f->restored_per_switch = ratio(c->host_bytes_restored + c->guest_bytes_restored,
				       c->host_xrstors + c->guest_xrstors, 1);
	f->msr_per_kexits = ratio(c->kvm_msr_reads + c->kvm_msr_writes, exits, 1000);
	f->msr_exits_per_kexits =
	    ratio(c->guest_msr_read_exits + c->guest_msr_write_exits, exits, 1000);
	vx_eval_cost_counts_from_eval(c, f->operations, &counts);
	vx_eval_cost_model(&s->costs, &counts, &cell->cost);
	f->time_per_op = f->operations ? cell->cost.per_operation_ns : NAN;
}

static void figures_of(const struct eval_session *s, struct eval_cell *cells, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (cells[i].rc >= 0)
			compute_figures(s, &cells[i]);
}

/* ----------------------------------------------------------------------------------------- */
/* the verdict                                                                                  */

static int design_index(const struct eval_session *s, enum vx_kvm_cet_design d)
{
	for (unsigned i = 0; i < s->ndesigns; i++)
		if (s->designs[i] == d)
			return (int)i;
	return -1;
}

/* Per non-vCPU thread: the default fpstates of both designs (the same in every workload). */
static void memory_verdict(struct eval_session *s)
{
	int at = design_index(s, VX_KVM_CET_ALL_TASKS), go = design_index(s, VX_KVM_CET_GUEST_ONLY);

	for (unsigned w = 0; at >= 0 && go >= 0 && w < s->nworkloads; w++) {
		const struct eval_cell *a = eval_cell_at(s, w, (unsigned)at);
		const struct eval_cell *g = eval_cell_at(s, w, (unsigned)go);

		if (a->rc < 0 || g->rc < 0)
			continue;
		s->verdict.memory_known = true;
		s->verdict.thread_bytes_alltasks = a->result.memory.host_thread_min;
		s->verdict.thread_saving = (int64_t)a->result.memory.host_thread_min -
					   (int64_t)g->result.memory.host_thread_min;
		return;
	}
}

/* (max - min) / mean of one design's per-switch time over the spread seeds, in %. */
static double spread_of(const struct eval_session *s, unsigned which)
{
	double lo = INFINITY, hi = -INFINITY, sum = 0;

	for (unsigned i = 0; i < EVAL_SPREAD_SEEDS; i++) {
		double t = s->spread[2 * i + which].fig.time_per_op;

		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
		sum += t;
	}
	return sum > 0 ? (hi - lo) / (sum / EVAL_SPREAD_SEEDS) * 100.0 : 0;
}

static void switch_verdict(struct eval_session *s)
{
	struct eval_verdict *v = &s->verdict;
	double a, b;

	if (!s->spread_run)
		return;
	for (unsigned i = 0; i < 2 * EVAL_SPREAD_SEEDS; i++)
		if (s->spread[i].rc < 0 || isnan(s->spread[i].fig.time_per_op))
			return;
	v->switch_known = true;
	v->alltasks_ns = s->spread[0].fig.time_per_op;
	v->guestonly_ns = s->spread[1].fig.time_per_op;
	v->diff_pct = (v->guestonly_ns - v->alltasks_ns) / v->alltasks_ns * 100.0;
	a = spread_of(s, 0);
	b = spread_of(s, 1);
	v->spread_pct = a > b ? a : b;
	v->within = fabs(v->diff_pct) <= v->spread_pct;
}

static void count_outcomes(struct eval_session *s)
{
	struct eval_verdict *v = &s->verdict;

	for (unsigned i = 0; i < s->nworkloads * s->ndesigns; i++) {
		v->runs++;
		v->errors += s->cells[i].rc < 0;
		v->violations += s->cells[i].rc == VX_EVAL_VIOLATION;
		v->losses += s->cells[i].rc == VX_EVAL_DESIGN_LOSS;
	}
}

int eval_session_run(struct eval_session *s, bool sweep, bool progress)
{
	struct vx_eval_workload sweep_workloads[EVAL_SWEEP_POINTS];
	struct eval_pool pool = {.session = s, .progress = progress};
	double start = now_seconds();
	int rc;

	if (build_jobs(s, &pool, sweep, sweep_workloads) < 0) {
		free(pool.jobs);
		cli_error("out of memory");
		return CLI_EXIT_FAILURE;
	}
	rc = pthread_mutex_init(&pool.lock, NULL);
	if (rc) {
		free(pool.jobs);
		cli_error("cannot create a lock: %s", strerror(rc));
		return CLI_EXIT_FAILURE;
	}
	run_pool(&pool, s->jobs);
	pthread_mutex_destroy(&pool.lock);
	free(pool.jobs);
	s->wall_seconds = now_seconds() - start;
	figures_of(s, s->cells, s->nworkloads * s->ndesigns);
	figures_of(s, s->spread, s->spread_run ? 2 * EVAL_SPREAD_SEEDS : 0);
	figures_of(s, s->sweep, s->sweep_run ? EVAL_SWEEP_POINTS * s->ndesigns : 0);
	memory_verdict(s);
	switch_verdict(s);
	count_outcomes(s);
	return CLI_EXIT_OK;
}
