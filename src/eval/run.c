/* SPDX-License-Identifier: MIT */
/*
 * vx_eval_run() (issue 9): check the arguments, build the world, count what the setup cost,
 * run the steps with every check, count again, and say how it ended.  Everything lives in the
 * world and is freed before returning; the result is plain data.
 */
#include <stdio.h>

#include "eval/eval_internal.h"

static const char *const outcome_names[] = {
    [VX_EVAL_PASS] = "pass",
    [VX_EVAL_DESIGN_LOSS] = "design-loss",
    [VX_EVAL_VIOLATION] = "violation",
};

const char *vx_eval_outcome_name(enum vx_eval_outcome outcome)
{
	return (unsigned)outcome <= VX_EVAL_VIOLATION ? outcome_names[outcome] : NULL;
}

static const char *const check_names[VX_EVAL_CHECK_COUNT] = {
    [VX_EVAL_CHECK_NONE] = "none",
    [VX_EVAL_CHECK_GUEST_STATE] = "guest-state",
    [VX_EVAL_CHECK_HOST_STATE] = "host-state",
    [VX_EVAL_CHECK_CROSS_GUEST] = "cross-guest",
    [VX_EVAL_CHECK_MSR] = "msr",
    [VX_EVAL_CHECK_REGISTERS] = "registers",
    [VX_EVAL_CHECK_FPSTATE] = "fpstate",
    [VX_EVAL_CHECK_SIGFRAME] = "sigframe",
    [VX_EVAL_CHECK_PTRACE] = "ptrace",
    [VX_EVAL_CHECK_GUEST_EVENT] = "guest-event",
};

const char *vx_eval_check_name(enum vx_eval_check check)
{
	return (unsigned)check < VX_EVAL_CHECK_COUNT ? check_names[check] : NULL;
}

void vx_eval_options_init(struct vx_eval_options *options)
{
	memset(options, 0, sizeof(*options));
	options->flavour_auto = true;
	options->fault = VX_KVM_FAULT_NONE;
}

/* splitmix64: a well-mixed, never-zero start for the xorshift stream (sched.c). */
static uint64_t seed_stream(uint64_t seed)
{
	uint64_t z = seed + UINT64_C(0x9E3779B97F4A7C15);

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	z ^= z >> 31;
	return z ? z : 1;
}

static int check_args(const struct vx_profile *profile, enum vx_kvm_cet_design design,
		      const struct vx_eval_workload *workload, const struct vx_eval_options *o,
		      struct vx_error *err)
{
	if (!profile)
		return vx_error_set(err, -EINVAL, NULL, "no CPU profile");
	if ((unsigned)design >= VX_KVM_CET_DESIGN_COUNT)
		return vx_error_set(err, -EINVAL, "kvm.md §6.4",
				    "design %u out of range (6 CET_S designs)", (unsigned)design);
	if ((unsigned)o->fault >= VX_KVM_FAULT_COUNT)
		return vx_error_set(err, -EINVAL, NULL, "fault %u out of range",
				    (unsigned)o->fault);
	if (!o->flavour_auto && (unsigned)o->flavour >= VX_KVM_FLAVOUR_COUNT)
		return vx_error_set(err, -EINVAL, NULL, "flavour %u out of range",
				    (unsigned)o->flavour);
	return vx_eval_workload_check(workload, err);
}

static void start_result(struct ev_world *w, const struct vx_profile *profile)
{
	struct vx_eval_result *r = w->res;

	snprintf(r->profile, sizeof(r->profile), "%s", profile->name);
	r->design = w->design;
	r->seed = w->seed;
	r->fault_step = UINT64_MAX;
	w->wl = &r->workload;
}

/* After setup: the memory every entity holds now, the total and the peak so far. */
static void start_memory(struct ev_world *w)
{
	struct vx_eval_memory m;

	memset(&m, 0, sizeof(m));
	ev_memory_final(w, &m);
	for (unsigned i = 0; i < w->nents; i++)
		w->ents[i].bytes = ev_entity_bytes(w, &w->ents[i]);
	w->mem_total = m.total;
	w->res->memory.peak = m.total;
}

static int evaluate(struct ev_world *w, const struct vx_eval_options *opts, struct vx_error *err)
{
	struct vx_eval_result *r = w->res;
	int rc;

	r->host_default_bytes = vx_fpu_kernel_cfg(w->sys)->default_size;
	r->guest_default_bytes = vx_fpu_guest_cfg(w->sys)->size;
	ev_counters_sum(w, &r->setup);
	start_memory(w);
	rc = ev_run_steps(w, opts, err);
	if (rc < 0)
		return rc;
	ev_counters_sum(w, &r->run);
	ev_counters_sub(&r->run, &r->setup);
	ev_memory_final(w, &r->memory);
	if (rc == 1)
		return VX_EVAL_VIOLATION;
	return (r->losses.count || r->run.design_losses) ? VX_EVAL_DESIGN_LOSS : VX_EVAL_PASS;
}

int vx_eval_run(const struct vx_profile *profile, enum vx_kvm_cet_design design,
		const struct vx_eval_workload *workload, uint64_t seed,
		const struct vx_eval_options *options, struct vx_eval_result *result,
		struct vx_error *err)
{
	struct vx_eval_options defaults;
	struct ev_world w;
	int rc;

	vx_eval_options_init(&defaults);
	if (!options)
		options = &defaults;
	if (!result)
		return vx_error_set(err, -EINVAL, NULL, "no result buffer");
	memset(result, 0, sizeof(*result));
	rc = check_args(profile, design, workload, options, err);
	if (rc)
		return rc;
	memset(&w, 0, sizeof(w));
	w.pf = options->platform ? options->platform : vx_platform_default();
	w.res = result;
	w.design = design;
	w.seed = seed;
	w.rng = seed_stream(seed);
	result->workload = *workload;
	start_result(&w, profile);
	rc = ev_world_build(&w, profile, options, err);
	if (rc == 0)
		rc = evaluate(&w, options, err);
	ev_world_destroy(&w);
	if (rc < 0)
		memset(result, 0, sizeof(*result));
	else
		result->outcome = (enum vx_eval_outcome)rc;
	return rc;
}
