/* SPDX-License-Identifier: MIT */
/*
 * eval layer: determinism (issue 9 "Determinism: two runs with one seed give identical
 * results").  For every workload and design, two runs with one seed give byte-identical
 * results (the struct is plain data, zeroed first: no pointer, time or address in it), a
 * violation included; another seed gives another schedule.
 */
#include "eval_test_util.h"

static struct vx_profile spr;
static struct vx_eval_result a, b;

static int setup(void **state)
{
	(void)state;
	et_profile(&spr, "sapphire-rapids");
	return 0;
}

static struct vx_eval_workload small(const char *kind)
{
	struct vx_eval_workload w = et_workload(kind);

	w.steps = 150;
	w.deep_check_every = 5;
	if (w.kind == VX_EVAL_THREADS) {
		w.tasks = 120;
		w.processes = 8;
		w.vcpus = 4;
	}
	return w;
}

static const char *const kinds[] = {"context-switch", "vcpu-exits", "mixed", "amx", "threads"};

/* Byte for byte: vx_eval_run() zeroes the result first, padding included (eval.h). */
static bool same_result(const struct vx_eval_result *x, const struct vx_eval_result *y)
{
	/* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison,cert-exp42-c,cert-flp37-c) */
	return memcmp(x, y, sizeof(*x)) == 0;
}

static void same_seed_same_result(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct vx_eval_workload w = small(kinds[k]);

		for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++) {
			int ra = et_run(&spr, d, &w, 0x5eed + d, NULL, &a);
			int rb = et_run(&spr, d, &w, 0x5eed + d, NULL, &b);

			assert_int_equal(ra, rb);
			if (!same_result(&a, &b))
				fail_msg("%s %s: two runs with seed 0x%x differ", kinds[k],
					 et_design(d), 0x5eed + d);
		}
	}
}

static void same_seed_same_violation(void **state)
{
	struct vx_eval_workload w = small("mixed");
	struct vx_eval_options o;

	(void)state;
	vx_eval_options_init(&o);
	o.fault = VX_KVM_FAULT_SKIP_ZEROING;
	o.fault_at = 4;
	assert_int_equal(et_run(&spr, VX_KVM_CET_KVM_EAGER, &w, 42, &o, &a), VX_EVAL_VIOLATION);
	assert_int_equal(et_run(&spr, VX_KVM_CET_KVM_EAGER, &w, 42, &o, &b), VX_EVAL_VIOLATION);
	assert_memory_equal(&a, &b, sizeof(a));
	print_message("%s\n", a.violation.text);
	for (unsigned i = 0; i < a.violation.nhistory; i++)
		print_message("  %s\n", a.violation.history[i]);
}

static void other_seed_other_schedule(void **state)
{
	struct vx_eval_workload w = small("mixed");

	(void)state;
	et_run(&spr, VX_KVM_CET_GUEST_ONLY, &w, 1, NULL, &a);
	et_run(&spr, VX_KVM_CET_GUEST_ONLY, &w, 2, NULL, &b);
	assert_int_equal(a.seed, 1);
	assert_int_equal(b.seed, 2);
	assert_true(memcmp(&a.run, &b.run, sizeof(a.run)) != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(same_seed_same_result),
	    cmocka_unit_test(same_seed_same_violation),
	    cmocka_unit_test(other_seed_other_schedule),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
