/* SPDX-License-Identifier: MIT */
/*
 * The eval layer's benchmarks (issue 9):
 *  - the cost model's calibration on this machine (vx_eval_calibrate()): the init-optimization
 *    claim per instruction and every measured constant;
 *  - the model processor's XSAVEC64, XSAVES64, XRSTOR64 and XRSTORS64 against memcpy of the
 *    bytes they move (target <= 1.5x), on the default profile (sapphire-rapids, AMX tiles
 *    included) and on this host's live profile, with every component in use and with only
 *    x87+SSE in use (the rest in its initial configuration);
 *  - modeled context switches per second per core on the default profile (target >= 5 M/s):
 *    the bare fpu layer's vx_fpu_task_schedule + vx_fpu_task_return_to_user ping-pong of two
 *    tasks on one model CPU, and the evaluation's context-switch workload (scheduler, switch,
 *    return to user, integrity checks at every step) for guest-only;
 *  - the evaluation time of the default `make run` job: every design on every built-in
 *    workload through vx_eval_run() (the CLI's own time is not included).
 * Model and memcpy samples alternate (bench_paired); medians, ratios from this run.  Each
 * target is printed next to its number; no test asserts any timing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vxsave/cpu.h>
#include <vxsave/eval.h>
#include <vxsave/eval_cost.h>
#include <vxsave/fpu_task.h>

#include "bench.h"

#define EVAL_PROFILE	   "sapphire-rapids"
#define EVAL_AREA	   16384
#define EVAL_MEMCPY_TARGET 1.5
#define EVAL_SWITCH_TARGET 5e6		 /* modeled context switches per second per core */
#define EVAL_SWITCH_USE	   UINT64_C(0x7) /* x87, SSE, AVX: a glibc program's state */
#define EVAL_SEED	   20261203u
#define EVAL_RUNS	   5	/* context-switch evaluations per median */
#define JOB_RUNS	   3	/* default jobs per median */
#define JOB_TARGET_S	   20.0 /* issue 9: make run in under 20 s on 2 cores */

/* ----------------------------------------------------------------------------------------- */
/* Calibration                                                                                  */

static void print_claim(const struct vx_eval_calibration *cal)
{
	printf("  init optimization: RFBM x87+SSE (in use) plus 0x%llx (%u component%s) initial "
	       "or in use\n",
	       (unsigned long long)cal->extra_mask, cal->extra_count,
	       cal->extra_count == 1 ? "" : "s");
	for (unsigned i = 0; i < VX_CAL_INSN_COUNT; i++) {
		const struct vx_eval_cal_init *r = &cal->init[i];
		const char *name = vx_eval_cal_insn_name((enum vx_eval_cal_insn)i);

		if (!r->measured) {
			printf("  %-11s SKIP: %s\n", name, r->why);
			continue;
		}
		printf("  %-11s base %6.1f ns, +initial %6.1f ns, +in use %6.1f ns: per component "
		       "initial %+5.1f ns, in use %+5.1f ns\n",
		       name, r->base_ns, r->init_ns, r->in_use_ns, r->init_per_component_ns,
		       r->in_use_per_component_ns);
	}
}

static void print_value(const char *name, const struct vx_eval_cal_value *v)
{
	if (v->measured)
		printf("  %-24s %10.3f ns%s%s\n", name, v->ns, v->why[0] ? "  note: " : "", v->why);
	else
		printf("  %-24s SKIP: %s\n", name, v->why);
}

static int bench_calibration(void)
{
	struct vx_eval_cost_table table;
	struct vx_eval_calibration cal;
	struct vx_error err = VX_ERROR_INIT;
	char text[8192];

	printf(
	    "\neval: cost model calibration on this machine (vx_eval_calibrate, median of 31)\n");
	vx_eval_cost_table_init(&table);
	if (vx_eval_calibrate(&table, NULL, &cal, &err) != 0) {
		printf("  SKIP: %s\n", err.reason);
		return 0;
	}
	printf("  CPU %s, XCR0 0x%llx\n", cal.cpu, (unsigned long long)cal.xcr0);
	print_claim(&cal);
	print_value("XSAVEC64 fixed", &cal.xsave_insn);
	print_value("XSAVEC64 per byte", &cal.xsave_byte);
	print_value("XRSTOR64 fixed", &cal.xrstor_insn);
	print_value("XRSTOR64 per byte", &cal.xrstor_byte);
	print_value("KVM_RUN round trip", &cal.kvm_run);
	print_value("KVM ioctl", &cal.kvm_ioctl);
	print_value("syscall (getppid)", &cal.syscall);
	print_value("realloc 12 KiB", &cal.realloc);
	print_value("pipe hand-off", &cal.handoff);
	print_value("hand-off minus FPU", &cal.switch_rest);
	vx_eval_cost_format(&table, text, sizeof(text));
	printf("  the table after calibrating:\n%s", text);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* The model's save and restore against memcpy                                                  */

enum copy_state { STATE_ALL = 0, STATE_MOST_INIT, STATE_COUNT };

static const char *const state_names[STATE_COUNT] = {
    [STATE_ALL] = "every component in use",
    [STATE_MOST_INIT] = "x87+SSE in use, the rest initial",
};

struct copy_ctx {
	struct vx_cpu *cpu;
	struct vx_memory mem;
	uint64_t xcr0, xss;
	size_t bytes; /* what the measured instruction moves: the memcpy reference */
	enum vx_insn insn;
	uint64_t rfbm;
	uint8_t *buf; /* the measured instruction's area */
	int failed;
	_Alignas(64) uint8_t image[EVAL_AREA];
	_Alignas(64) uint8_t area[EVAL_AREA];
	_Alignas(64) uint8_t saved_c[EVAL_AREA]; /* XSAVEC64 image: the XRSTOR64 source */
	_Alignas(64) uint8_t saved_s[EVAL_AREA]; /* XSAVES64 image: the XRSTORS64 source */
};

static void model_run(struct copy_ctx *c, enum vx_insn insn, uint8_t *buf, uint64_t rfbm,
		      unsigned n)
{
	c->mem.bytes = buf;
	c->mem.base = (uintptr_t)buf;
	for (unsigned i = 0; i < n; i++)
		if (vx_cpu_exec(c->cpu, insn, 0, &c->mem, c->mem.base, rfbm, NULL) != 0)
			c->failed = 1;
}

static void model_insn(void *opaque, unsigned n)
{
	struct copy_ctx *c = opaque;

	model_run(c, c->insn, c->buf, c->rfbm, n);
}

static void copy_bytes(void *opaque, unsigned n)
{
	struct copy_ctx *c = opaque;

	for (unsigned i = 0; i < n; i++) {
		memcpy(c->area, c->saved_c, c->bytes);
		__asm__ __volatile__("" ::: "memory");
	}
}

/* Random bytes in every enabled component; a valid legacy region (arch.md §2.1). */
static void fill_image(struct copy_ctx *c, const struct vx_profile *p, uint64_t xstate_bv)
{
	uint32_t mxcsr = 0x1F80, mask = vx_profile_mxcsr_mask(p), x = EVAL_SEED;

	for (size_t i = 0; i < vx_standard_size(p, c->xcr0); i++) {
		x = x * 1103515245u + 12345u;
		c->image[i] = (uint8_t)(x >> 16);
	}
	memset(c->image + 464, 0, 576 - 464);
	memcpy(c->image + VX_MXCSR_OFFSET, &mxcsr, 4);
	memcpy(c->image + VX_MXCSR_MASK_OFFSET, &mask, 4);
	c->image[7] &= 0x07; /* FOP is 11 bits */
	memcpy(c->image + VX_XSTATE_BV_OFFSET, &xstate_bv, 8);
}

/* The CET supervisor state in use where the profile has it (valid SSPs, arch.md §7.2). */
static void use_cet_state(struct copy_ctx *c)
{
	static const struct {
		uint32_t msr;
		uint64_t value;
	} msrs[] = {{VX_MSR_IA32_PL3_SSP, 0x7ff000001000},
		    {VX_MSR_IA32_PL0_SSP, 0x7ff000002000},
		    {VX_MSR_IA32_PL0_SSP + 1, 0x7ff000003000},
		    {VX_MSR_IA32_PL0_SSP + 2, 0x7ff000004000}};

	for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		uint64_t v = msrs[i].value;

		/* Absent MSRs fault (#GP): that component then stays initial. */
		(void)vx_cpu_msr_access(c->cpu, VX_MSR_HOST, VX_MSR_WRITE, msrs[i].msr, &v, NULL);
	}
}

/* A model CPU of @p with XCR0 = @xcr0, IA32_XSS = everything supervisor the profile has, the
 * state @st, and its own XSAVEC64 and XSAVES64 images. */
static int copy_setup(struct copy_ctx *c, const struct vx_profile *p, uint64_t xcr0,
		      enum copy_state st)
{
	uint64_t xss = vx_profile_xss_supported(p);
	struct vx_event event;

	memset(c, 0, sizeof(*c));
	c->xcr0 = xcr0;
	if (vx_standard_size(p, xcr0) > EVAL_AREA || vx_cpu_create(p, NULL, &c->cpu, NULL) != 0)
		return -1;
	if (vx_cpu_xsetbv(c->cpu, 0, xcr0, &event) != 0)
		return -1;
	if (xss &&
	    vx_cpu_msr_access(c->cpu, VX_MSR_HOST, VX_MSR_WRITE, VX_MSR_IA32_XSS, &xss, NULL) == 0)
		c->xss = xss;
	fill_image(c, p, st == STATE_ALL ? xcr0 : UINT64_C(3));
	vx_cpu_from_standard_image(c->cpu, xcr0, c->image, EVAL_AREA);
	if (st == STATE_ALL)
		use_cet_state(c);
	c->mem.size = EVAL_AREA;
	model_run(c, VX_INSN_XSAVEC64, c->saved_c, ~0ull, 1);
	model_run(c, VX_INSN_XSAVES64, c->saved_s, ~0ull, 1);
	return c->failed ? -1 : 0;
}

/* The bytes a compacted image moves: legacy region, header and each component it holds. */
static size_t moved_bytes(const struct vx_profile *p, const uint8_t *image)
{
	uint64_t xstate_bv;

	memcpy(&xstate_bv, image + VX_XSTATE_BV_OFFSET, 8);
	return vx_compacted_size(p, xstate_bv | UINT64_C(3));
}

static int copy_row(struct copy_ctx *c, const struct vx_profile *p, enum vx_insn insn)
{
	bool supervisor = insn == VX_INSN_XSAVES64 || insn == VX_INSN_XRSTORS64;
	bool save = insn == VX_INSN_XSAVEC64 || insn == VX_INSN_XSAVES64;
	uint8_t *image = supervisor ? c->saved_s : c->saved_c;
	struct bench_pair r;
	char name[64];

	c->insn = insn;
	c->rfbm = ~0ull;
	c->buf = save ? c->area : image;
	c->bytes = moved_bytes(p, image);
	bench_paired(model_insn, copy_bytes, c, 2000, &r);
	snprintf(name, sizeof(name), "    %-10s %5zu B", vx_insn_name(insn), c->bytes);
	return bench_pair_row(name, &r, "model", "memcpy", EVAL_MEMCPY_TARGET);
}

static const enum vx_insn copy_insns[] = {VX_INSN_XSAVEC64, VX_INSN_XSAVES64, VX_INSN_XRSTOR64,
					  VX_INSN_XRSTORS64};

static int copy_rows(const char *label, const struct vx_profile *p, uint64_t xcr0,
		     enum copy_state st)
{
	struct copy_ctx *c = aligned_alloc(64, sizeof(*c));
	int missed = 0;

	if (!c || copy_setup(c, p, xcr0, st) != 0) {
		printf("  %s: SKIP: the model could not be set up for XCR0 0x%llx\n", label,
		       (unsigned long long)xcr0);
		if (c)
			vx_cpu_destroy(c->cpu);
		free(c);
		return 0;
	}
	printf("  %s, XCR0 0x%llx, IA32_XSS 0x%llx, %s:\n", label, (unsigned long long)xcr0,
	       (unsigned long long)c->xss, state_names[st]);
	for (size_t i = 0; i < sizeof(copy_insns) / sizeof(copy_insns[0]); i++)
		missed += copy_row(c, p, copy_insns[i]);
	if (c->failed)
		printf("  a model instruction faulted\n");
	missed += c->failed;
	vx_cpu_destroy(c->cpu);
	free(c);
	return missed;
}

static int bench_model_vs_memcpy(void)
{
	struct vx_profile host, spr;
	uint64_t xcr0 = 0;
	bool live = vx_profile_from_host(&host, NULL) == 0 && vx_host_xgetbv(0, &xcr0) == 0;
	int missed = 0;

	printf("\neval: the model processor's save and restore vs memcpy of the bytes they move "
	       "(medians of %d paired samples)\n",
	       BENCH_SAMPLES);
	for (int st = 0; st < STATE_COUNT; st++) {
		if (vx_profile_builtin(&spr, EVAL_PROFILE, NULL) == 0)
			missed += copy_rows(EVAL_PROFILE, &spr, vx_profile_xcr0_supported(&spr),
					    (enum copy_state)st);
		if (live)
			missed += copy_rows("this host", &host, xcr0, (enum copy_state)st);
		else
			printf("  this host: SKIP: no live profile (not x86-64, or no XSAVE)\n");
	}
	return missed;
}

/* ----------------------------------------------------------------------------------------- */
/* Modeled context switches per second                                                          */

struct switch_ctx {
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *machine;
	struct vx_fpu_task *task[2];
	int failed;
};

static void switch_to(struct switch_ctx *s, struct vx_fpu_task *task)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_fpu_task_schedule(task, 0, &err) != 0 || vx_fpu_task_return_to_user(task, &err) != 0)
		s->failed = 1;
}

/* @n context switches: the two tasks take turns on CPU 0. */
static void ping_pong(void *opaque, unsigned n)
{
	struct switch_ctx *s = opaque;

	for (unsigned i = 0; i < n; i += 2) {
		switch_to(s, s->task[1]);
		switch_to(s, s->task[0]);
	}
}

static int switch_setup(struct switch_ctx *s, const struct vx_profile *p)
{
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;

	memset(s, 0, sizeof(*s));
	if (vx_fpu_system_create(p, NULL, &s->sys, &err) != 0 ||
	    vx_fpu_machine_create(s->sys, 1, &s->machine, &err) != 0)
		return -1;
	for (int i = 0; i < 2; i++)
		if (vx_fpu_process_create(s->machine, &s->task[i], &err) != 0 ||
		    vx_fpu_task_schedule(s->task[i], 0, &err) != 0 ||
		    vx_fpu_task_use(s->task[i], EVAL_SWITCH_USE, &res, &err) != 0)
			return -1;
	switch_to(s, s->task[0]);
	return s->failed ? -1 : 0;
}

static double wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int rate_row(const char *name, double ns_per_switch)
{
	int missed = 1e9 / ns_per_switch < EVAL_SWITCH_TARGET;

	printf("  %-36s %8.1f ns per switch = %5.2f M/s  target >= %.0f M/s: %s\n", name,
	       ns_per_switch, 1e3 / ns_per_switch, EVAL_SWITCH_TARGET / 1e6,
	       missed ? "NOT met" : "met");
	return missed;
}

static int compare_ns(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The default context-switch workload (docs/eval.md) through vx_eval_run(): the median of
 * EVAL_RUNS runs, setup and teardown included. */
static int eval_rate(const struct vx_profile *p)
{
	struct vx_eval_result *r = malloc(sizeof(*r));
	struct vx_eval_workload w;
	struct vx_error err = VX_ERROR_INIT;
	double ns[EVAL_RUNS];

	if (!r || vx_eval_workload_builtin("context-switch", &w, &err) != 0) {
		free(r);
		printf("  SKIP: no context-switch workload: %s\n", err.reason);
		return 0;
	}
	for (int i = 0; i < EVAL_RUNS; i++) {
		double start = wall_ns();

		if (vx_eval_run(p, VX_KVM_CET_GUEST_ONLY, &w, 1, NULL, r, &err) != VX_EVAL_PASS ||
		    r->run.context_switches == 0) {
			printf("  the context-switch evaluation failed: %s\n", err.reason);
			free(r);
			return 1;
		}
		ns[i] = (wall_ns() - start) / (double)r->run.context_switches;
	}
	qsort(ns, EVAL_RUNS, sizeof(ns[0]), compare_ns);
	printf("  (context-switch workload: %llu steps, %llu switches, integrity checks at every "
	       "step, setup included; median of %d runs)\n",
	       (unsigned long long)w.steps, (unsigned long long)r->run.context_switches, EVAL_RUNS);
	free(r);
	return rate_row("vx_eval_run context-switch", ns[EVAL_RUNS / 2]);
}

static int bench_switch_rate(void)
{
	struct switch_ctx s;
	struct vx_profile p;
	int missed = 0;

	memset(&s, 0, sizeof(s));
	printf("\neval: modeled context switches per second per core, %s, guest-only\n",
	       EVAL_PROFILE);
	if (vx_profile_builtin(&p, EVAL_PROFILE, NULL) != 0)
		return 1;
	if (switch_setup(&s, &p) != 0) {
		printf("  SKIP: the fpu layer could not be set up on %s\n", EVAL_PROFILE);
	} else {
		missed += rate_row("fpu ping-pong (x87/SSE/AVX in use)",
				   bench_median_ns(ping_pong, &s, 2000));
		missed += s.failed;
	}
	vx_fpu_machine_destroy(s.machine);
	vx_fpu_system_destroy(s.sys);
	missed += eval_rate(&p);
	return missed;
}

/* ----------------------------------------------------------------------------------------- */
/* The default `make run` job                                                                   */

/* Every design on every built-in workload, as `make run` evaluates them: wall seconds. */
static double run_job(const struct vx_profile *p, struct vx_eval_result *r, unsigned *runs,
		      unsigned *failed)
{
	double start = wall_ns();

	*runs = *failed = 0;
	for (unsigned k = 0; k < VX_EVAL_KIND_COUNT; k++) {
		struct vx_eval_workload w;
		struct vx_error err = VX_ERROR_INIT;

		if (vx_eval_workload_builtin(vx_eval_kind_name((enum vx_eval_kind)k), &w, &err) !=
		    0)
			continue;
		for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++) {
			/* A design loss or violation is a result, not a failure; an error is. */
			if (vx_eval_run(p, (enum vx_kvm_cet_design)d, &w, 1, NULL, r, &err) < 0)
				(*failed)++;
			(*runs)++;
		}
	}
	return (wall_ns() - start) / 1e9;
}

static int bench_job(void)
{
	struct vx_eval_result *r = malloc(sizeof(*r));
	struct vx_profile p;
	double s[JOB_RUNS];
	unsigned runs = 0, failed = 0;
	int missed;

	printf("\neval: the default `make run` job (%s, every design x every built-in workload, "
	       "vx_eval_run; median of %d jobs)\n",
	       EVAL_PROFILE, JOB_RUNS);
	if (!r || vx_profile_builtin(&p, EVAL_PROFILE, NULL) != 0) {
		free(r);
		return 1;
	}
	for (int i = 0; i < JOB_RUNS; i++)
		s[i] = run_job(&p, r, &runs, &failed);
	free(r);
	qsort(s, JOB_RUNS, sizeof(s[0]), compare_ns);
	missed = s[JOB_RUNS / 2] > JOB_TARGET_S || failed;
	printf("  %u evaluations%s%u failed: %.2f s  target < %.0f s (the whole make run): %s\n",
	       runs, ", ", failed, s[JOB_RUNS / 2], JOB_TARGET_S, missed ? "NOT met" : "met");
	return missed;
}

int bench_eval(void)
{
	int missed = 0;

	bench_calibration();
	missed += bench_model_vs_memcpy();
	missed += bench_switch_rate();
	missed += bench_job();
	printf("\neval: %d target(s) missed\n", missed);
	return 0;
}
