/* SPDX-License-Identifier: MIT */
/*
 * The fpu layer (issue 7): a modelled context switch through the framework (schedule +
 * return_to_user: one save and one restore) against the bare save/restore instructions of the
 * same masks on a model CPU; the uABI conversions both ways against memcpy of user_size bytes;
 * and the fpstate bytes per host thread and per vCPU for every CET_S design and built-in
 * profile.  Targets: framework <= 1.2x the bare instructions, uABI <= 2x memcpy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/fpstate.h>
#include <vxsave/fpu_task.h>

#include "bench.h"

#define FPU_AREA      16384
#define SWITCH_TARGET 1.2
#define UABI_TARGET   2.0

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
	int failed;
	_Alignas(64) uint8_t area[2][FPU_AREA]; /* the bare switch's two contexts */
};

/* Two switches per iteration (a→b, b→a): each is switch_fpu() + switch_fpu_return(). */
static void switch_to(struct fpu_ctx *ctx, struct vx_fpu_task *task)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_fpu_task_schedule(task, 0, &err) != 0 || vx_fpu_task_return_to_user(task, &err) != 0)
		ctx->failed = 1;
}

static void framework_switch(void *opaque, unsigned iterations)
{
	struct fpu_ctx *ctx = opaque;

	for (unsigned i = 0; i < iterations; i += 2) {
		switch_to(ctx, ctx->task[1]);
		switch_to(ctx, ctx->task[0]);
	}
}

static void bare_exec(struct fpu_ctx *ctx, enum vx_insn insn, int which, uint64_t rfbm)
{
	struct vx_event event;

	if (vx_cpu_exec(ctx->cpu, insn, 0, &ctx->mem, (uintptr_t)ctx->area[which], rfbm, &event) !=
	    0)
		ctx->failed = 1;
}

/* The same pattern without the framework: save the outgoing context, restore the other. */
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

static void memcpy_user_size(void *opaque, unsigned iterations)
{
	struct fpu_ctx *ctx = opaque;

	for (unsigned i = 0; i < iterations; i++) {
		memcpy(ctx->copy, ctx->uabi, ctx->fps->user_size);
		__asm__ __volatile__("" ::: "memory");
	}
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
		    vx_fpu_task_use(ctx->task[i], ctx->use, &res, &err) != 0 || !res.retired)
			return -1;
	}
	switch_to(ctx, ctx->task[0]);
	return ctx->failed ? -1 : 0;
}

/* A model CPU programmed as fpu__init_cpu_xstate(), both contexts saved with @use in use. */
static int setup_bare(struct fpu_ctx *ctx)
{
	const struct vx_fpu_masks *masks = vx_fpu_masks(ctx->sys);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event event;

	ctx->save_rfbm = vx_fpu_kernel_cfg(ctx->sys)->default_features;
	ctx->restore_rfbm = vx_fpu_kernel_cfg(ctx->sys)->max_features & masks->fpstate;
	if (vx_cpu_create(vx_fpu_system_profile(ctx->sys), NULL, &ctx->cpu, &err) != 0 ||
	    vx_fpu_system_init_cpu(ctx->sys, ctx->cpu, &err) != 0 ||
	    vx_cpu_use(ctx->cpu, ctx->use, &event) != 0)
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

static int report(const char *name, bench_fn subject, const char *subject_name, bench_fn ref,
		  const char *ref_name, void *ctx, double target)
{
	double subject_ns = bench_median_ns(subject, ctx, 2000);
	double ref_ns = bench_median_ns(ref, ctx, 2000);

	bench_report(name, subject_ns, subject_name, ref_ns, ref_name, target);
	return subject_ns / ref_ns > target;
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
	missed += report("context switch (save+restore)", framework_switch, "fpu", bare_switch,
			 "bare", ctx, SWITCH_TARGET);
	missed += report("fpstate -> uABI (XSAVE mode)", to_uabi, "uabi", memcpy_user_size,
			 "memcpy", ctx, UABI_TARGET);
	missed += report("uABI -> fpstate", from_uabi, "uabi", memcpy_user_size, "memcpy", ctx,
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
