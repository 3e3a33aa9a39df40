/* SPDX-License-Identifier: MIT */
/*
 * The fpu layer (issue 7): a modelled context switch through the framework (schedule +
 * return_to_user: one save and one restore) against the bare save/restore instructions of the
 * same masks on a model CPU; the uABI conversions both ways against memcpy of the bytes each
 * one moves (fpstate -> uABI fills all user_size bytes of the buffer; uABI -> fpstate copies
 * the components its header names); and the fpstate bytes per host thread and per vCPU for
 * every CET_S design and built-in profile.  Targets: framework <= 1.2x the bare instructions,
 * uABI <= 2x memcpy.  Subject and reference samples alternate, so both see the same machine,
 * and the ratio is the median of the neighbouring samples' ratios.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vxsave/fpstate.h>
#include <vxsave/fpu_task.h>

#include "bench.h"

#define FPU_AREA       16384
#define FPU_ITERATIONS 2000
#define SWITCH_TARGET  1.2
#define UABI_TARGET    2.0

struct fpu_ctx {
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *machine;
	struct vx_fpu_task *task[2];
	struct vx_cpu *cpu; /* the bare model CPU, programmed as the kernel does */
	struct vx_memory mem;
	uint64_t use;		/* components the tasks keep in use */
	uint64_t save_rfbm;	/* fpstate->xfeatures: kernel default features */
	uint64_t restore_rfbm;	/* kernel max & FPSTATE (§8.3) */
	struct vx_fpstate *fps; /* uABI conversions */
	uint8_t *uabi;
	uint8_t *copy;
	size_t to_uabi_bytes; /* what each conversion moves: its memcpy reference */
	size_t from_uabi_bytes;
	int failed;
	_Alignas(64) uint8_t area[2][FPU_AREA]; /* the bare switch's two contexts */
};

/*
 * One switch per iteration, a→b then b→a: switch_fpu() + switch_fpu_return(), one save and
 * one restore.  @err is set up once per call (a 300-byte struct, written only on failure), so
 * its initialisation is not counted as framework time.
 */
static void switch_to(struct fpu_ctx *ctx, struct vx_fpu_task *task, struct vx_error *err)
{
	if (vx_fpu_task_schedule(task, 0, err) != 0 || vx_fpu_task_return_to_user(task, err) != 0)
		ctx->failed = 1;
}

static void framework_switch(void *opaque, unsigned iterations)
{
	struct fpu_ctx *ctx = opaque;
	struct vx_error err = VX_ERROR_INIT;

	for (unsigned i = 0; i < iterations; i += 2) {
		switch_to(ctx, ctx->task[1], &err);
		switch_to(ctx, ctx->task[0], &err);
	}
}

static void bare_exec(struct fpu_ctx *ctx, enum vx_insn insn, int which, uint64_t rfbm)
{
	struct vx_event event;

	if (vx_cpu_exec(ctx->cpu, insn, 0, &ctx->mem, (uintptr_t)ctx->area[which], rfbm, &event) !=
	    0)
		ctx->failed = 1;
}

/* The same pattern without the framework: save the outgoing context, restore the other (one
 * save and one restore per iteration, as above). */
static void bare_switch(void *opaque, unsigned iterations)
{
	struct fpu_ctx *ctx = opaque;
	const struct vx_fpu_insns *insns = vx_fpu_insns(ctx->sys);

	for (unsigned i = 0; i < iterations; i += 2) {
		bare_exec(ctx, insns->save, 0, ctx->save_rfbm);
		bare_exec(ctx, insns->restore, 1, ctx->restore_rfbm);
		bare_exec(ctx, insns->save, 1, ctx->save_rfbm);
		bare_exec(ctx, insns->restore, 0, ctx->restore_rfbm);
	}
}

static void to_uabi(void *opaque, unsigned iterations)
{
	struct fpu_ctx *ctx = opaque;
	struct vx_error err = VX_ERROR_INIT;

	for (unsigned i = 0; i < iterations; i++)
		if (vx_fpstate_to_uabi(ctx->sys, ctx->fps, ctx->fps->user_xfeatures, 0,
				       VX_UABI_COPY_XSAVE, ctx->uabi, ctx->fps->user_size, &err))
			ctx->failed = 1;
}

static void from_uabi(void *opaque, unsigned iterations)
{
	struct fpu_ctx *ctx = opaque;
	struct vx_error err = VX_ERROR_INIT;
	uint32_t pkru = 0;

	for (unsigned i = 0; i < iterations; i++)
		if (vx_fpstate_from_uabi(ctx->sys, ctx->fps, ctx->uabi, ctx->fps->user_size, &pkru,
					 &err))
			ctx->failed = 1;
}

static void memcpy_bytes(struct fpu_ctx *ctx, size_t bytes, unsigned iterations)
{
	for (unsigned i = 0; i < iterations; i++) {
		memcpy(ctx->copy, ctx->uabi, bytes);
		__asm__ __volatile__("" ::: "memory");
	}
}

static void memcpy_to_uabi(void *opaque, unsigned iterations)
{
	struct fpu_ctx *ctx = opaque;

	memcpy_bytes(ctx, ctx->to_uabi_bytes, iterations);
}

static void memcpy_from_uabi(void *opaque, unsigned iterations)
{
	struct fpu_ctx *ctx = opaque;

	memcpy_bytes(ctx, ctx->from_uabi_bytes, iterations);
}

/*
 * The bytes vx_fpstate_from_uabi() copies for the header of @uabi (linux-fpu.md §7.2): each
 * named component's standard size (FP 160, SSE 256 bytes), MXCSR (8) when SSE or YMM comes
 * without FP, and the XSTATE_BV word it merges.
 */
static size_t from_uabi_bytes(const struct vx_fpu_system *sys, const uint8_t *uabi)
{
	uint64_t hdr;
	size_t bytes = sizeof(hdr);

	memcpy(&hdr, uabi + VX_XSTATE_BV_OFFSET, sizeof(hdr));
	if ((hdr & (VX_BIT(VX_COMP_SSE) | VX_BIT(VX_COMP_AVX))) && !(hdr & VX_BIT(VX_COMP_X87)))
		bytes += 8;
	for (unsigned id = 0; id < VX_FPU_XFEATURE_MAX; id++) {
		struct vx_fpu_xstate_info info;

		if ((hdr & VX_BIT(id)) && vx_fpu_xstate_info(sys, id, &info))
			bytes += info.size;
	}
	return bytes;
}

/* One register of each component the tasks use (ctx->use is at most bits 0-7). */
static const char *const state_regs[8] = {
    [VX_COMP_X87] = "st0",   [VX_COMP_SSE] = "xmm0",	    [VX_COMP_AVX] = "ymmh0",
    [VX_COMP_OPMASK] = "k0", [VX_COMP_ZMM_HI256] = "zmmh0", [VX_COMP_HI16_ZMM] = "zmm16",
};

static const struct vx_reg_info *state_reg(unsigned component)
{
	return component < 8 && state_regs[component] ? vx_reg_lookup(state_regs[component]) : NULL;
}

/*
 * "In use" means holding values other than the initial ones: a component only marked in use
 * keeps its initial values, and a processor that compares with them (the AMD behaviour of the
 * cpu layer, the host profile here) reports it initial after the next XRSTORS - the switches
 * would then move headers only.  One register of each component of @use gets a pattern, by
 * @task's user code or (no task) by the bare CPU.
 */
static int fill_in_use(struct fpu_ctx *ctx, struct vx_fpu_task *task)
{
	static const uint8_t pattern[64] = {0x5A, 0xA5, 0x3C, 0xC3, 0x11, 0x22, 0x33, 0x44,
					    0x55, 0x66, 0x77, 0x01, 0x02, 0x03, 0x04, 0x05};
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event event;

	for (uint64_t m = ctx->use; m; m &= m - 1) {
		const struct vx_reg_info *reg = state_reg((unsigned)__builtin_ctzll(m));
		int rc = !reg	? -1
			 : task ? vx_fpu_task_set_reg(task, reg, pattern, reg->width, &res, &err)
				: vx_cpu_set_reg(ctx->cpu, reg, pattern, reg->width, &event);

		if (rc != 0 || (task && !res.retired))
			return -1;
	}
	return 0;
}

/* Both tasks run once and use every default user component but AMX and PKRU. */
static int setup_tasks(struct fpu_ctx *ctx)
{
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;

	if (vx_fpu_machine_create(ctx->sys, 1, &ctx->machine, &err) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (vx_fpu_process_create(ctx->machine, &ctx->task[i], &err) != 0 ||
		    vx_fpu_task_schedule(ctx->task[i], 0, &err) != 0 ||
		    vx_fpu_task_use(ctx->task[i], ctx->use, &res, &err) != 0 || !res.retired ||
		    fill_in_use(ctx, ctx->task[i]) != 0)
			return -1;
	}
	switch_to(ctx, ctx->task[0], &err);
	return ctx->failed ? -1 : 0;
}

/* Linux's default PKRU (arch.md §6 table: OS policy; PKRU's init value is 0). */
#define LINUX_INIT_PKRU 0x55555554u

/*
 * A model CPU programmed as fpu__init_cpu_xstate(), both contexts saved with @use in use, and
 * PKRU as the kernel keeps it for every task (so XSAVES writes it in both benchmarks).
 */
static int setup_bare(struct fpu_ctx *ctx)
{
	const struct vx_fpu_masks *masks = vx_fpu_masks(ctx->sys);
	const struct vx_reg_info *pkru = vx_reg_lookup("pkru");
	uint32_t pkru_value = LINUX_INIT_PKRU;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event event;

	ctx->save_rfbm = vx_fpu_kernel_cfg(ctx->sys)->default_features;
	ctx->restore_rfbm = vx_fpu_kernel_cfg(ctx->sys)->max_features & masks->fpstate;
	if (vx_cpu_create(vx_fpu_system_profile(ctx->sys), NULL, &ctx->cpu, &err) != 0 ||
	    vx_fpu_system_init_cpu(ctx->sys, ctx->cpu, &err) != 0 ||
	    vx_cpu_use(ctx->cpu, ctx->use, &event) != 0 || fill_in_use(ctx, NULL) != 0)
		return -1;
	if ((vx_fpu_user_cfg(ctx->sys)->max_features & VX_BIT(VX_COMP_PKRU)) &&
	    vx_cpu_set_reg(ctx->cpu, pkru, &pkru_value, sizeof(pkru_value), &event) != 0)
		return -1;
	ctx->mem.bytes = ctx->area[0];
	ctx->mem.base = (uintptr_t)ctx->area[0];
	ctx->mem.size = sizeof(ctx->area);
	bare_exec(ctx, vx_fpu_insns(ctx->sys)->save, 1, ctx->save_rfbm);
	bare_exec(ctx, vx_fpu_insns(ctx->sys)->save, 0, ctx->save_rfbm);
	return ctx->failed ? -1 : 0;
}

/* An fpstate saved from the bare CPU (components in use) and its uABI image. */
static int setup_uabi(struct fpu_ctx *ctx)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_fpstate_create(ctx->sys, false, &ctx->fps, &err) != 0 ||
	    vx_fpstate_save(ctx->sys, ctx->cpu, ctx->fps, NULL, &err) != 0)
		return -1;
	ctx->uabi = aligned_alloc(64, FPU_AREA);
	ctx->copy = aligned_alloc(64, FPU_AREA);
	if (!ctx->uabi || !ctx->copy || ctx->fps->user_size > FPU_AREA)
		return -1;
	to_uabi(ctx, 1);
	from_uabi(ctx, 1);
	ctx->to_uabi_bytes = ctx->fps->user_size; /* every byte of the buffer is written (§7.1) */
	ctx->from_uabi_bytes = from_uabi_bytes(ctx->sys, ctx->uabi);
	return ctx->failed ? -1 : 0;
}

static int setup(struct fpu_ctx *ctx, const struct vx_profile *profile)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_fpu_system_create(profile, NULL, &ctx->sys, &err) != 0 ||
	    vx_fpu_xsave_status(ctx->sys) != VX_FPU_XSAVE_ENABLED)
		return -1;
	ctx->use = vx_fpu_user_cfg(ctx->sys)->default_features & UINT64_C(0xFF);
	if (setup_tasks(ctx) != 0 || setup_bare(ctx) != 0)
		return -1;
	return setup_uabi(ctx);
}

static void teardown(struct fpu_ctx *ctx)
{
	if (ctx->fps)
		vx_fpstate_destroy(ctx->sys, ctx->fps);
	vx_cpu_destroy(ctx->cpu);
	vx_fpu_machine_destroy(ctx->machine);
	vx_fpu_system_destroy(ctx->sys);
	free(ctx->uabi);
	free(ctx->copy);
	free(ctx);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double sample_ns(bench_fn fn, void *ctx)
{
	double start = now_ns();

	fn(ctx, FPU_ITERATIONS);
	return (now_ns() - start) / FPU_ITERATIONS;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *samples, size_t n)
{
	qsort(samples, n, sizeof(samples[0]), compare_doubles);
	return samples[n / 2];
}

/* One result row, as bench_report() prints it, with @ratio given. */
static void print_row(const char *name, double subject_ns, const char *subject, double ref_ns,
		      const char *ref, double ratio, double target)
{
	printf("%-34s %9.1f ns %-6s %9.1f ns %-8s ratio %5.2fx  target <= %.2fx %s\n", name,
	       subject_ns, subject, ref_ns, ref, ratio, target,
	       ratio <= target ? "met" : "NOT met");
}

/*
 * BENCH_SAMPLES samples of each, subject and reference taken alternately, so a noisy stretch
 * of the machine (a VM neighbour, another build on the same cores) hits both, not one side:
 * the times are the medians of each, the ratio the median of the ratios of neighbouring
 * samples.
 */
static int report(const char *name, bench_fn subject, const char *subject_name, bench_fn ref,
		  const char *ref_name, void *ctx, double target)
{
	double subject_ns[BENCH_SAMPLES], ref_ns[BENCH_SAMPLES], ratio[BENCH_SAMPLES], r;

	subject(ctx, FPU_ITERATIONS); /* warm caches and branch predictors */
	ref(ctx, FPU_ITERATIONS);
	for (int i = 0; i < BENCH_SAMPLES; i++) {
		subject_ns[i] = sample_ns(subject, ctx);
		ref_ns[i] = sample_ns(ref, ctx);
		ratio[i] = subject_ns[i] / ref_ns[i];
	}
	r = median(ratio, BENCH_SAMPLES);
	print_row(name, median(subject_ns, BENCH_SAMPLES), subject_name,
		  median(ref_ns, BENCH_SAMPLES), ref_name, r, target);
	return r > target;
}

/* Groups 1 and 2 on one profile; returns the number of missed targets, -1 if not run. */
static int bench_fpu_profile(const struct vx_profile *profile)
{
	struct fpu_ctx *ctx = aligned_alloc(64, sizeof(struct fpu_ctx));
	int missed = 0;

	if (!ctx)
		return -1;
	memset(ctx, 0, sizeof(*ctx));
	if (setup(ctx, profile) != 0) {
		printf("fpu %s: skipped: the fpu layer does not run with XSAVE here\n",
		       profile->name);
		teardown(ctx);
		return -1;
	}
	printf("fpu layer, profile %s (%s/%s, save mask 0x%llx, in use 0x%llx, user_size %u)\n",
	       profile->name, vx_insn_name(vx_fpu_insns(ctx->sys)->save),
	       vx_insn_name(vx_fpu_insns(ctx->sys)->restore), (unsigned long long)ctx->save_rfbm,
	       (unsigned long long)ctx->use, ctx->fps->user_size);
	printf("  memcpy references: %zu bytes (fpstate -> uABI), %zu bytes (uABI -> fpstate)\n",
	       ctx->to_uabi_bytes, ctx->from_uabi_bytes);
	missed += report("context switch (save+restore)", framework_switch, "fpu", bare_switch,
			 "bare", ctx, SWITCH_TARGET);
	missed += report("fpstate -> uABI (XSAVE mode)", to_uabi, "uabi", memcpy_to_uabi, "memcpy",
			 ctx, UABI_TARGET);
	missed += report("uABI -> fpstate", from_uabi, "uabi", memcpy_from_uabi, "memcpy", ctx,
			 UABI_TARGET);
	if (ctx->failed) {
		printf("fpu %s: an operation failed during the run\n", profile->name);
		missed++;
	}
	teardown(ctx);
	printf("\n");
	return missed;
}

/* One cell of the memory table: "thread / vCPU" bytes, or why there is none. */
static void print_memory_cell(const struct vx_profile *profile, enum vx_fpu_cet_design design)
{
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_system *sys = NULL;
	char cell[32];

	config.cet_design = design;
	if (vx_fpu_system_create(profile, &config, &sys, &err) != 0)
		snprintf(cell, sizeof(cell), "boot fails");
	else if (vx_fpu_xsave_status(sys) != VX_FPU_XSAVE_ENABLED)
		snprintf(cell, sizeof(cell), "no XSAVE");
	else
		snprintf(cell, sizeof(cell), "%u / %u", vx_fpu_kernel_cfg(sys)->default_size,
			 vx_fpu_guest_cfg(sys)->size);
	printf(" %-13s", cell);
	vx_fpu_system_destroy(sys);
}

static void bench_fpu_memory(void)
{
	printf(
	    "fpstate bytes per host thread / per vCPU (kernel default size / guest_default_cfg)\n");
	printf("%-20s", "profile");
	for (int d = 0; d < VX_FPU_CET_DESIGN_COUNT; d++)
		printf(" %-13s", vx_fpu_cet_design_name((enum vx_fpu_cet_design)d));
	printf("\n");
	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		struct vx_profile profile;

		if (vx_profile_builtin(&profile, vx_builtin_profile_name(i), NULL) != 0)
			continue;
		printf("%-20s", profile.name);
		for (int d = 0; d < VX_FPU_CET_DESIGN_COUNT; d++)
			print_memory_cell(&profile, (enum vx_fpu_cet_design)d);
		printf("\n");
	}
	printf("\n");
}

int bench_fpu(void)
{
	struct vx_profile profile;
	int missed = 0, rc;

	if (vx_profile_builtin(&profile, NULL, NULL) == 0 && (rc = bench_fpu_profile(&profile)) > 0)
		missed += rc;
	if (vx_profile_from_host(&profile, NULL) == 0 && (rc = bench_fpu_profile(&profile)) > 0)
		missed += rc;
	else if (vx_profile_from_host(&profile, NULL) != 0)
		printf("fpu host: skipped: no host profile on this build\n\n");
	bench_fpu_memory();
	printf("fpu: %d target(s) missed\n\n", missed);
	return 0;
}
