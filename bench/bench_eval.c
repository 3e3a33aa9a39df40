/* SPDX-License-Identifier: MIT */
/*
 * The eval layer's benchmarks (issue 9):
 *  - the cost model's calibration on this machine (vx_eval_calibrate()): the init-optimization
 *    claim per instruction and every measured constant;
 *  - the model processor's save and restore against memcpy of the bytes they move (target
 *    <= 1.5x), with every component in use, on this host's profile and on the default
 *    profile (sapphire-rapids, AMX tiles included);
 *  - modeled context switches per second per core on the default profile (target >= 5 M/s):
 *    the evaluation's context-switch workload (scheduler, switch, return to user, integrity
 *    checks) for guest-only, and the bare fpu layer's vx_fpu_task_schedule +
 *    vx_fpu_task_return_to_user ping-pong of two tasks on one model CPU.
 * Medians of BENCH_SAMPLES samples, ratios from this run.
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

struct copy_ctx {
	struct vx_cpu *cpu;
	struct vx_memory mem;
	uint64_t xcr0;
	size_t bytes; /* what XSAVEC writes and XRSTOR reads: the compacted size, all in use */
	int failed;
	_Alignas(64) uint8_t image[EVAL_AREA];
	_Alignas(64) uint8_t area[EVAL_AREA];
	_Alignas(64) uint8_t saved[EVAL_AREA];
};

static void model_run(struct copy_ctx *c, enum vx_insn insn, uint8_t *buf, unsigned n)
{
	c->mem.bytes = buf;
	c->mem.base = (uintptr_t)buf;
	for (unsigned i = 0; i < n; i++)
		if (vx_cpu_exec(c->cpu, insn, 0, &c->mem, c->mem.base, ~0ull, NULL) != 0)
			c->failed = 1;
}

static void model_xsavec(void *opaque, unsigned n)
{
	struct copy_ctx *c = opaque;

	model_run(c, VX_INSN_XSAVEC64, c->area, n);
}

static void model_xrstor(void *opaque, unsigned n)
{
	struct copy_ctx *c = opaque;

	model_run(c, VX_INSN_XRSTOR64, c->saved, n);
}

static void copy_bytes(void *opaque, unsigned n)
{
	struct copy_ctx *c = opaque;

	for (unsigned i = 0; i < n; i++) {
		memcpy(c->area, c->saved, c->bytes);
		__asm__ __volatile__("" ::: "memory");
	}
}

/* Random bytes in every enabled component; a valid legacy region (arch.md §2.1). */
static void fill_image(struct copy_ctx *c, const struct vx_profile *p)
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
	memcpy(c->image + VX_XSTATE_BV_OFFSET, &c->xcr0, 8);
}

/* A model CPU of @p with XCR0 = @xcr0, every component in use, and its own XSAVEC image. */
static int copy_setup(struct copy_ctx *c, const struct vx_profile *p, uint64_t xcr0)
{
	struct vx_event event;

	memset(c, 0, sizeof(*c));
	c->xcr0 = xcr0;
	if (vx_standard_size(p, xcr0) > EVAL_AREA || vx_cpu_create(p, NULL, &c->cpu, NULL) != 0)
		return -1;
	if (vx_cpu_xsetbv(c->cpu, 0, xcr0, &event) != 0)
		return -1;
	fill_image(c, p);
	vx_cpu_from_standard_image(c->cpu, xcr0, c->image, EVAL_AREA);
	c->mem.size = EVAL_AREA;
	c->bytes = vx_compacted_size(p, xcr0);
	model_run(c, VX_INSN_XSAVEC64, c->saved, 1);
	return c->failed ? -1 : 0;
}

static int copy_rows(const char *label, const struct vx_profile *p, uint64_t xcr0)
{
	struct copy_ctx *c = aligned_alloc(64, sizeof(*c));
	double save_ns, restore_ns, copy_ns;
	int missed = 0;

	if (!c || copy_setup(c, p, xcr0) != 0) {
		printf("  %s: SKIP: the model could not be set up for XCR0 0x%llx\n", label,
		       (unsigned long long)xcr0);
		if (c)
			vx_cpu_destroy(c->cpu);
		free(c);
		return 0;
	}
	printf("  %s, XCR0 0x%llx, every component in use: %zu bytes each way\n", label,
	       (unsigned long long)xcr0, c->bytes);
	save_ns = bench_median_ns(model_xsavec, c, 2000);
	restore_ns = bench_median_ns(model_xrstor, c, 2000);
	copy_ns = bench_median_ns(copy_bytes, c, 2000);
	bench_report("  XSAVEC64 vs memcpy", save_ns, "model", copy_ns, "memcpy",
		     EVAL_MEMCPY_TARGET);
	bench_report("  XRSTOR64 vs memcpy", restore_ns, "model", copy_ns, "memcpy",
		     EVAL_MEMCPY_TARGET);
	missed += save_ns / copy_ns > EVAL_MEMCPY_TARGET;
	missed += restore_ns / copy_ns > EVAL_MEMCPY_TARGET;
	if (c->failed)
		printf("  a model instruction faulted\n");
	missed += c->failed;
	vx_cpu_destroy(c->cpu);
	free(c);
	return missed;
}

static int bench_model_vs_memcpy(void)
{
	struct vx_profile p;
	uint64_t xcr0 = 0;
	int missed = 0;

	printf("\neval: the model processor's save and restore vs memcpy of the bytes they move\n");
	if (vx_profile_from_host(&p, NULL) == 0 && vx_host_xgetbv(0, &xcr0) == 0)
		missed += copy_rows("this host", &p, xcr0);
	else
		printf("  this host: SKIP: no live profile (not x86-64, or no XSAVE)\n");
	if (vx_profile_builtin(&p, EVAL_PROFILE, NULL) == 0)
		missed += copy_rows(EVAL_PROFILE, &p, vx_profile_xcr0_supported(&p));
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

	printf("  %-34s %9.1f ns per switch = %5.2f M/s  target >= %.0f M/s %s\n", name,
	       ns_per_switch, 1e3 / ns_per_switch, EVAL_SWITCH_TARGET / 1e6,
	       missed ? "NOT met" : "met");
	return missed;
}

/* The default context-switch workload (docs/eval.md) through vx_eval_run(), best of 3. */
static int eval_rate(const struct vx_profile *p)
{
	struct vx_eval_result *r = malloc(sizeof(*r));
	struct vx_eval_workload w;
	struct vx_error err = VX_ERROR_INIT;
	double best = 0;

	if (!r || vx_eval_workload_builtin("context-switch", &w, &err) != 0) {
		free(r);
		printf("  SKIP: no context-switch workload: %s\n", err.reason);
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		double start = wall_ns(), ns;

		if (vx_eval_run(p, VX_KVM_CET_GUEST_ONLY, &w, 1, NULL, r, &err) != VX_EVAL_PASS ||
		    r->run.context_switches == 0) {
			printf("  the context-switch evaluation failed: %s\n", err.reason);
			free(r);
			return 1;
		}
		ns = (wall_ns() - start) / (double)r->run.context_switches;
		best = i == 0 || ns < best ? ns : best;
	}
	printf("  (%llu steps, %llu switches, setup included)\n", (unsigned long long)w.steps,
	       (unsigned long long)r->run.context_switches);
	free(r);
	return rate_row("  vx_eval_run context-switch", best);
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
	missed += eval_rate(&p);
	if (switch_setup(&s, &p) != 0) {
		printf("  SKIP: the fpu layer could not be set up on %s\n", EVAL_PROFILE);
	} else {
		missed += rate_row("  fpu ping-pong (x87/SSE/AVX in use)",
				   bench_median_ns(ping_pong, &s, 2000));
		missed += s.failed;
	}
	vx_fpu_machine_destroy(s.machine);
	vx_fpu_system_destroy(s.sys);
	return missed;
}

int bench_eval(void)
{
	int missed = 0;

	bench_calibration();
	missed += bench_model_vs_memcpy();
	missed += bench_switch_rate();
	printf("\neval: %d target(s) missed\n", missed);
	return 0;
}
