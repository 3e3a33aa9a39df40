/* SPDX-License-Identifier: MIT */
/*
 * eval layer: the integrity checks (issue 9 "Integrity").  Without a fault, no design but
 * kvm-user-return ever fails a check over many seeds and every workload, and kvm-user-return's
 * own losses come out as the design's finding (VX_EVAL_DESIGN_LOSS, each matched to a loss
 * the kvm layer counted), never as a checker failure.  With a planted fault in the kvm layer
 * (test-only struct vx_kvm_options.fault: one skipped zeroing, one skipped save), the checker
 * stops the run in every design with the design, the seed, the step and the register.  Seeds
 * are fixed and printed.
 */
#include "eval_test_util.h"

static struct vx_profile spr;
static struct vx_eval_result r;

static int setup(void **state)
{
	(void)state;
	et_profile(&spr, "sapphire-rapids");
	return 0;
}

/* A small world with much going on: migration, preemption, frequent PL0_SSP writes. */
static struct vx_eval_workload busy(const char *kind)
{
	struct vx_eval_workload w = et_workload(kind);

	w.steps = 120;
	w.guest_switch_every = 4;
	w.deep_check_every = 3;
	if (w.kind == VX_EVAL_THREADS) {
		w.tasks = 60;
		w.processes = 6;
		w.vcpus = 4;
		w.vms = 2;
	}
	if (w.kind == VX_EVAL_MIXED)
		w.migrate = 40;
	return w;
}

static const char *const kinds[] = {"context-switch", "vcpu-exits", "mixed", "amx", "threads"};

#define NSEEDS 6

static void no_violation_without_a_fault(void **state)
{
	unsigned losses_runs = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct vx_eval_workload w = busy(kinds[k]);

		for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++) {
			for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
				int rc = et_run(&spr, d, &w, seed, NULL, &r);

				if (rc == VX_EVAL_VIOLATION)
					fail_msg("%s %s seed %llu: %s", kinds[k], et_design(d),
						 (unsigned long long)seed, r.violation.text);
				assert_int_equal(r.violation.check, VX_EVAL_CHECK_NONE);
				/* Only the design that loses by construction reports losses. */
				if (d != VX_KVM_CET_KVM_USER_RETURN) {
					assert_int_equal(rc, VX_EVAL_PASS);
					assert_int_equal(r.losses.count + r.run.design_losses, 0);
				} else if (rc == VX_EVAL_DESIGN_LOSS) {
					losses_runs++;
					assert_true(r.run.design_losses > 0);
				}
			}
		}
	}
	print_message("kvm-user-return lost values in %u of %u runs (seeds 1-%u)\n", losses_runs,
		      (unsigned)(NSEEDS * (sizeof(kinds) / sizeof(kinds[0]))), NSEEDS);
	assert_true(losses_runs > 0);
}

/*
 * kvm-user-return: a vCPU preempted on one CPU and resumed on another before the first CPU's
 * user-return notifier ran loads its stale copy (docs/kvm.md "The CET_S designs").  The guest
 * then reads an older PL0_SSP of its own: a loss the kvm layer counted - a finding about the
 * design, reported as such, with the first one's step, vCPU and values.  The same schedule in
 * kvm-eager loses nothing.
 */
static void user_return_loss_is_a_finding(void **state)
{
	struct vx_eval_workload w = busy("mixed");
	uint64_t seed;

	(void)state;
	w.steps = 400;
	for (seed = 1; seed < 50; seed++)
		if (et_run(&spr, VX_KVM_CET_KVM_USER_RETURN, &w, seed, NULL, &r) ==
		    VX_EVAL_DESIGN_LOSS)
			break;
	print_message("seed %llu: %llu losses counted by KVM, %llu stale reads; first at step "
		      "%llu, vCPU %u %s: expected 0x%llx, read 0x%llx\n",
		      (unsigned long long)seed, (unsigned long long)r.run.design_losses,
		      (unsigned long long)r.losses.count, (unsigned long long)r.losses.step,
		      r.losses.vcpu, r.losses.reg, (unsigned long long)r.losses.expected,
		      (unsigned long long)r.losses.observed);
	assert_int_equal(r.outcome, VX_EVAL_DESIGN_LOSS);
	assert_true(r.losses.count > 0 && r.run.design_losses > 0);
	assert_string_equal(r.losses.reg, "pl0_ssp");
	assert_true(r.losses.vcpu < w.vcpus);
	assert_true(r.losses.expected != r.losses.observed);
	assert_true(r.losses.step < w.steps);
	assert_int_equal(r.violation.check, VX_EVAL_CHECK_NONE);
	assert_int_equal(et_run(&spr, VX_KVM_CET_KVM_EAGER, &w, seed, NULL, &r), VX_EVAL_PASS);
}

/* vCPU threads pinned one per CPU, exiting to userspace often: every put of a vCPU is
 * followed by its VMM thread in user mode on that CPU, so a leak there is always seen. */
static struct vx_eval_workload pinned(void)
{
	struct vx_eval_workload w = et_workload("vcpu-exits");

	w.steps = 40;
	w.kernel_exits = 0;
	w.guest_switch_every = 2;
	return w;
}

static void expect_caught(unsigned d, uint64_t seed, const struct vx_eval_options *o,
			  enum vx_kvm_fault fault)
{
	struct vx_eval_workload w = pinned();
	int rc = et_run(&spr, d, &w, seed, o, &r);

	print_message("%-16s %s seed %llu at %u: fired at step %lld: %s\n", et_design(d),
		      fault == VX_KVM_FAULT_SKIP_SAVE ? "lost save" : "leak",
		      (unsigned long long)seed, o->fault_at, (long long)r.fault_step,
		      r.violation.text);
	assert_int_equal(rc, VX_EVAL_VIOLATION);
	assert_true(r.fault_step != UINT64_MAX);
	assert_true(r.violation.step >= r.fault_step);
	assert_int_equal(r.violation.design, d);
	assert_int_equal(r.violation.seed, seed);
	assert_non_null(strstr(r.violation.text, et_design(d)));
	assert_true(r.violation.nhistory > 0);
}

/*
 * One skipped zeroing (vx_kvm_fault SKIP_ZEROING): kvm-eager/kvm-lazy leave PL0-2_SSP at
 * vcpu_put, kvm-user-return in its notifier, the XSAVE-managed designs the guest fpstate
 * loaded after KVM_RUN.  Where the guest has shadow stacks, its PL0_SSP is first seen in
 * IA32_PL0_SSP while a host thread runs in user mode; "unsupported" has none, and the guest's
 * xmm1 is found in the CPU's registers instead.
 */
static void planted_leak_caught_in_every_design(void **state)
{
	static const unsigned at[] = {0, 3};
	struct vx_eval_options o;

	(void)state;
	vx_eval_options_init(&o);
	o.fault = VX_KVM_FAULT_SKIP_ZEROING;
	for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++) {
		for (uint64_t seed = 1; seed <= 3; seed++) {
			for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
				o.fault_at = at[i];
				expect_caught(d, seed, &o, o.fault);
				if (d == VX_KVM_CET_UNSUPPORTED) {
					assert_int_equal(r.violation.check,
							 VX_EVAL_CHECK_REGISTERS);
					assert_string_equal(r.violation.reg, "xmm1");
				} else {
					assert_int_equal(r.violation.check, VX_EVAL_CHECK_MSR);
					assert_string_equal(r.violation.reg, "pl0_ssp");
					assert_non_null(strstr(r.violation.where, "IA32_PL0_SSP"));
				}
			}
		}
	}
}

/* One skipped save (SKIP_SAVE) in the kvm-* designs: the guest reads back an older PL0_SSP -
 * in kvm-user-return too, where no migration explains it, so it is not the design's loss. */
static void planted_lost_save_caught(void **state)
{
	struct vx_eval_options o;

	(void)state;
	vx_eval_options_init(&o);
	o.fault = VX_KVM_FAULT_SKIP_SAVE;
	for (unsigned d = VX_KVM_CET_KVM_EAGER; d < VX_KVM_CET_DESIGN_COUNT; d++) {
		for (uint64_t seed = 1; seed <= 3; seed++) {
			o.fault_at = (unsigned)seed;
			expect_caught(d, seed, &o, o.fault);
			assert_int_equal(r.violation.check, VX_EVAL_CHECK_GUEST_STATE);
			assert_string_equal(r.violation.reg, "pl0_ssp");
			assert_true(r.violation.expected != r.violation.observed);
		}
	}
	/* The XSAVE-managed designs offer no chance for it: the run passes, the fault unfired. */
	for (unsigned d = 0; d < VX_KVM_CET_KVM_EAGER; d++) {
		struct vx_eval_workload w = pinned();

		assert_int_equal(et_run(&spr, d, &w, 1, &o, &r), VX_EVAL_PASS);
		assert_true(r.fault_step == UINT64_MAX);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(no_violation_without_a_fault),
	    cmocka_unit_test(user_return_loss_is_a_finding),
	    cmocka_unit_test(planted_leak_caught_in_every_design),
	    cmocka_unit_test(planted_lost_save_caught),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
