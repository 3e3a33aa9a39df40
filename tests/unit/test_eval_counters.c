/* SPDX-License-Identifier: MIT */
/*
 * eval layer: counters against hand-computed expectations (issue 9 "What must be shown"), for
 * small scenarios of every workload and every design on the Sapphire Rapids profile, and the
 * seeds' two claims:
 *   - guest-only saves exactly the computed bytes per non-vCPU thread versus all-tasks (24 B
 *     of CET_S, or what 64-byte alignment makes of it);
 *   - with CET_S in its initial configuration, all-tasks writes no more bytes per switch than
 *     guest-only (XSAVES' init optimization, linux-fpu.md §8.1).
 * Sizes come from the profile's leaf 0xD (eval_test_util.h), byte counts from the rule the fpu
 * layer documents (fpstate.h): 64 header bytes plus each component whose XSTATE_BV bit the
 * instruction set or read, MXCSR (8 bytes) with SSE.  Every expectation is derived in a comment.
 */
#include "eval_test_util.h"

#define PKRU_SIZE(p)  et_component_size(p, 9) /* CPUID.(0xD,9).EAX */
#define CET_S_SIZE(p) et_component_size(p, 12)

static struct vx_profile spr;
static struct vx_eval_result res[VX_KVM_CET_DESIGN_COUNT];

static int setup(void **state)
{
	(void)state;
	et_profile(&spr, "sapphire-rapids");
	return 0;
}

static uint64_t host_default(unsigned d)
{
	return d == VX_KVM_CET_ALL_TASKS ? ET_SPR_HOST_ALL_TASKS
					 : ET_SPR_HOST_ALL_TASKS & ~ET_CET_S;
}

/* ----------------------------------------------------------------------------------------- */
/* context-switch                                                                               */

/*
 * One switch between two tasks on one CPU (2 steps).  Step 0: task A is switched in on an idle
 * CPU (nothing saved) and returns to user: XRSTORS of its fresh fpstate, whose XSTATE_BV is 0
 * (fpstate_init_user, linux-fpu.md §6): 64 bytes.  A writes xmm0.  Step 1: switch_fpu(A)
 * (§8.2): XSAVES with RFBM = A's default features; the init optimization writes only what is
 * in use: SSE (xmm0) with MXCSR, and PKRU, which holds the kernel's default 0x55555554, not
 * its initial 0 (§8.3, written eagerly at the switch).  x87, AVX, AVX-512, CET_U, XTILECFG and
 * - in all-tasks - CET_S are in their initial configuration: no bytes.  Then B's fresh XRSTORS.
 */
static void one_switch_exact_bytes(void **state)
{
	struct vx_eval_workload w = et_workload("context-switch");
	uint64_t save = ET_HEADER + ET_SSE + ET_MXCSR + PKRU_SIZE(&spr);

	(void)state;
	w.tasks = 2;
	w.cpus = 1;
	w.steps = 2;
	assert_int_equal(save, 336);
	for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++) {
		struct vx_eval_result *r = &res[d];

		assert_int_equal(et_run(&spr, d, &w, 1, NULL, r), VX_EVAL_PASS);
		print_message("%-16s one switch: XSAVES wrote %llu bytes\n", et_design(d),
			      (unsigned long long)r->run.host_bytes_saved);
		assert_int_equal(r->run.host_xsaves, 1);
		assert_int_equal(r->run.host_bytes_saved, save);
		assert_int_equal(r->run.host_xrstors, 2);
		assert_int_equal(r->run.host_bytes_restored, 2 * ET_HEADER);
		assert_int_equal(r->run.context_switches, 2);
		assert_int_equal(r->run.returns_to_user, 2);
		assert_int_equal(r->run.kvm_msr_reads + r->run.kvm_msr_writes, 0);
		assert_int_equal(r->run.guest_xsaves + r->run.guest_instructions, 0);
	}
}

/*
 * The default workload: 2 pairs on 2 CPUs, 10 000 hand-offs.  Each pair's first hand-off saves
 * nothing, each later one saves the previous task (336 bytes as above).  Restores: the first
 * return of each of the 4 tasks reads 64 bytes; every later one reads what the save wrote
 * except PKRU, which XRSTORS leaves alone (RFBM = kernel max ∩ FPSTATE, §8.3): 64 + 256 + 8.
 */
static void default_context_switch(void **state)
{
	struct vx_eval_workload w = et_workload("context-switch");
	uint64_t save = ET_HEADER + ET_SSE + ET_MXCSR + PKRU_SIZE(&spr);
	uint64_t restore = ET_HEADER + ET_SSE + ET_MXCSR;

	(void)state;
	for (unsigned d = VX_KVM_CET_ALL_TASKS; d <= VX_KVM_CET_GUEST_ONLY; d++) {
		struct vx_eval_result *r = &res[d];

		assert_int_equal(et_run(&spr, d, &w, 7, NULL, r), VX_EVAL_PASS);
		assert_int_equal(r->run.host_xsaves, w.steps - 2);
		assert_int_equal(r->run.host_bytes_saved, (w.steps - 2) * save);
		assert_int_equal(r->run.host_xrstors, w.steps);
		assert_int_equal(r->run.host_bytes_restored,
				 4 * ET_HEADER + (w.steps - 4) * restore);
	}
	/* Claim 2: CET_S in its initial configuration costs all-tasks no bytes per switch. */
	assert_true(res[VX_KVM_CET_ALL_TASKS].run.host_bytes_saved <=
		    res[VX_KVM_CET_GUEST_ONLY].run.host_bytes_saved);
	assert_int_equal(res[VX_KVM_CET_ALL_TASKS].run.host_bytes_saved,
			 res[VX_KVM_CET_GUEST_ONLY].run.host_bytes_saved);
}

/* ----------------------------------------------------------------------------------------- */
/* Memory: claim 1                                                                              */

/*
 * A non-vCPU thread's fpstate is the kernel's default size: the compacted size of the default
 * features (eval_test_util.h derives them).  On SPR CET_S ends at 2488 in all-tasks and
 * XTILECFG is 64-byte aligned (CPUID.(0xD,17).ECX[1]), so both designs put XTILECFG at 2496:
 * the 24 bytes disappear into the alignment.  On Alder Lake nothing follows CET_S: 24 bytes.
 */
static void memory_per_thread_claim(void **state)
{
	static const struct {
		const char *profile;
		uint64_t all_tasks;
		uint32_t delta;
	} cases[] = {{"sapphire-rapids", ET_SPR_HOST_ALL_TASKS, 0},
		     {"alder-lake", ET_ADL_HOST_ALL_TASKS, 24}};
	struct vx_eval_workload w = et_workload("threads");

	(void)state;
	w.tasks = 998; /* 1000 threads with the 2 vCPU threads */
	w.processes = 10;
	w.vcpus = 2;
	w.vms = 1;
	w.steps = 100;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vx_profile p;
		uint32_t with, without;
		struct vx_eval_result *at = &res[0], *go = &res[1];

		et_profile(&p, cases[i].profile);
		with = et_compacted_size(&p, cases[i].all_tasks);
		without = et_compacted_size(&p, cases[i].all_tasks & ~ET_CET_S);
		assert_int_equal(with - without, cases[i].delta);
		assert_int_equal(et_run(&p, VX_KVM_CET_ALL_TASKS, &w, 3, NULL, at), VX_EVAL_PASS);
		assert_int_equal(et_run(&p, VX_KVM_CET_GUEST_ONLY, &w, 3, NULL, go), VX_EVAL_PASS);
		print_message(
		    "%s: all-tasks %llu B, guest-only %llu B per non-vCPU thread: %llu "
		    "B saved (CET_S is %u B)\n",
		    cases[i].profile, (unsigned long long)at->memory.host_thread_min,
		    (unsigned long long)go->memory.host_thread_min,
		    (unsigned long long)(at->memory.host_thread_min - go->memory.host_thread_min),
		    CET_S_SIZE(&p));
		assert_int_equal(at->memory.host_thread_min, with);
		assert_int_equal(go->memory.host_thread_min, without);
		assert_int_equal(at->memory.host_threads, 998);
		/* Every thread, vCPU threads included, pays the difference; guests do not. */
		assert_int_equal(at->memory.total - go->memory.total, 1000u * cases[i].delta);
		assert_int_equal(at->memory.vcpu_fpstate, go->memory.vcpu_fpstate);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* vcpu-exits                                                                                   */

/*
 * One vCPU on one CPU, one slice of 40 guest instructions, exit_every 10, kernel_exits 50%,
 * guest kernel with shadow stacks switching every 8 instructions.
 * Boot: MOV CR0, MOV CR4, XSETBV (3 exits to KVM), then with SHSTK WRMSR S_CET and WRMSR
 * PL0_SSP (passed through, kvm.md §3.2; kvm-lazy intercepts the PL0_SSP write: 1 more exit),
 * so 5 boot instructions; "unsupported" offers no SHSTK: 3.
 * Steady k = 0..34 (37 without SHSTK): exits at k = 9, 19, 29; exit x goes to KVM iff
 * floor((x+1)/2) > floor(x/2): x = 0 user, 1 KVM (XSETBV), 2 user.  PL0_SSP reads at
 * k mod 8 = 0: 0, 8, 16, 24, 32 (5); writes at k mod 8 = 1 except the exit at 9: 1, 17, 25,
 * 33 (4).  KVM_RUN entered 3 times (the start and after each exit to userspace), left twice.
 */
static struct vx_eval_workload exits_scenario(void)
{
	struct vx_eval_workload w = et_workload("vcpu-exits");

	w.vcpus = 1;
	w.cpus = 1;
	w.steps = 1;
	w.slice = 40;
	w.exit_every = 10;
	w.kernel_exits = 50;
	w.guest_switch_every = 8;
	return w;
}

/* kvm.md §6.4 table: eager moves 3 MSRs in at each load, 3 out (read) and 3 zeroes at each
 * put; lazy the same once the guest wrote (at boot here, loading then); user-return loads 3,
 * and its notifier reads 3 and zeroes 3 at each return to user. */
static void check_design_msrs(unsigned d, const struct vx_eval_counters *c)
{
	bool kvm = vx_kvm_cet_design_kvm_managed((enum vx_kvm_cet_design)d);

	assert_int_equal(c->kvm_msr_writes, kvm ? 3 * 3 + 2 * 3 : 0);
	assert_int_equal(c->kvm_msr_reads, kvm ? 2 * 3 : 0);
	assert_int_equal(c->msr_write_intercepts, d == VX_KVM_CET_KVM_LAZY);
	assert_int_equal(c->user_return_notifiers, d == VX_KVM_CET_KVM_USER_RETURN ? 2 : 0);
}

/*
 * The guest fpstate is saved at each KVM_RUN exit (2) and restored at each entry (3).  A save
 * writes SSE (xmm1, written by then) with MXCSR, PKRU (the host's value is back after the VM
 * exit, §6.2) and, where CET_S is XSAVE-managed and the guest wrote PL0_SSP, CET_S: 336 or
 * 360 bytes.  Restores: the first of the fresh fpstate, 64; then the saved components except
 * PKRU.  The VMM thread's own fpstate: saved at the 2nd and 3rd entries (xmm0 it wrote in user
 * mode, PKRU: 336), restored at the 2 exits (first its clone-time image without PKRU: 64; then
 * 328).
 */
static void vcpu_exits_exact(void **state)
{
	struct vx_eval_workload w = exits_scenario();

	(void)state;
	for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++) {
		struct vx_eval_counters *c = &res[d].run;
		bool shstk = d != VX_KVM_CET_UNSUPPORTED;
		bool xsave_cet = d == VX_KVM_CET_ALL_TASKS || d == VX_KVM_CET_GUEST_ONLY;
		uint64_t cet = xsave_cet ? CET_S_SIZE(&spr) : 0;
		uint64_t sse = ET_HEADER + ET_SSE + ET_MXCSR;

		assert_int_equal(et_run(&spr, d, &w, 1, NULL, &res[d]), VX_EVAL_PASS);
		print_message(
		    "%-16s kvm rd/wr %llu/%llu, exits %llu in KVM %llu to user, guest "
		    "saves %llu B\n",
		    et_design(d), (unsigned long long)c->kvm_msr_reads,
		    (unsigned long long)c->kvm_msr_writes, (unsigned long long)c->exits_kernel,
		    (unsigned long long)c->exits_user, (unsigned long long)c->guest_bytes_saved);
		assert_int_equal(res[d].shstk_offered, shstk);
		assert_int_equal(c->guest_instructions, 40);
		assert_int_equal(c->exits_user, 2);
		assert_int_equal(c->exits_kernel, 4 + (d == VX_KVM_CET_KVM_LAZY));
		assert_int_equal(c->kvm_runs, 3);
		assert_int_equal(c->vcpu_loads, 3);
		assert_int_equal(c->vcpu_puts, 2);
		assert_int_equal(c->returns_to_user, 2);
		assert_int_equal(c->guest_msr_reads, shstk ? 5 : 0);
		assert_int_equal(c->guest_msr_writes, shstk ? 6 - (d == VX_KVM_CET_KVM_LAZY) : 0);
		assert_int_equal(c->guest_msr_write_exits, d == VX_KVM_CET_KVM_LAZY);
		check_design_msrs(d, c);
		assert_int_equal(c->guest_xsaves, 2);
		assert_int_equal(c->guest_bytes_saved, 2 * (sse + PKRU_SIZE(&spr) + cet));
		assert_int_equal(c->guest_xrstors, 3);
		assert_int_equal(c->guest_bytes_restored, ET_HEADER + 2 * (sse + cet));
		assert_int_equal(c->host_xsaves, 2);
		assert_int_equal(c->host_bytes_saved, 2 * (sse + PKRU_SIZE(&spr)));
		assert_int_equal(c->host_xrstors, 2);
		assert_int_equal(c->host_bytes_restored, ET_HEADER + sse);
		assert_int_equal(c->design_losses, 0);
	}
}

/* Without shadow stacks in the guest kernel: kvm-lazy never swaps (writes stay intercepted and
 * none comes), kvm-eager still pays at every load and put (the guest has SHSTK in CPUID). */
static void vcpu_exits_without_guest_shstk(void **state)
{
	struct vx_eval_workload w = exits_scenario();

	(void)state;
	w.guest_shstk = false;
	for (unsigned d = VX_KVM_CET_KVM_EAGER; d < VX_KVM_CET_DESIGN_COUNT; d++) {
		struct vx_eval_counters *c = &res[d].run;

		assert_int_equal(et_run(&spr, d, &w, 1, NULL, &res[d]), VX_EVAL_PASS);
		assert_int_equal(c->exits_kernel, 4);
		assert_int_equal(c->guest_msr_reads + c->guest_msr_writes, 0);
		assert_int_equal(c->kvm_msr_writes, d == VX_KVM_CET_KVM_LAZY ? 0 : 15);
		assert_int_equal(c->kvm_msr_reads, d == VX_KVM_CET_KVM_LAZY ? 0 : 6);
		assert_int_equal(c->msr_write_intercepts, 0);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* mixed                                                                                        */

/*
 * One task and one vCPU sharing one CPU, in random order: whatever the order, every put of the
 * vCPU is a KVM_RUN exit to userspace or a preemption by the task, a put saves the guest
 * fpstate once and a load (entry or resume) restores it once, and the design's MSR traffic per
 * load and put is the §6.4 table's.  Every step is a task's return to user or a slice of
 * `slice` guest instructions; each exit to userspace is one more return to user.
 */
static void mixed_relations(void **state)
{
	struct vx_eval_workload w = et_workload("mixed");

	(void)state;
	w.tasks = 1;
	w.vcpus = 1;
	w.cpus = 1;
	w.migrate = 0;
	w.steps = 60;
	for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++) {
		struct vx_eval_counters *c = &res[d].run;
		uint64_t slices;

		assert_int_equal(et_run(&spr, d, &w, 5, NULL, &res[d]), VX_EVAL_PASS);
		slices = c->guest_instructions / w.slice;
		assert_true(slices > 0 && slices < w.steps);
		assert_int_equal(c->guest_instructions % w.slice, 0);
		assert_int_equal(c->vcpu_puts, c->exits_user + c->preemptions);
		assert_int_equal(c->guest_xsaves, c->vcpu_puts);
		assert_int_equal(c->guest_xrstors, c->vcpu_loads);
		assert_int_equal(c->returns_to_user, w.steps - slices + c->exits_user);
		if (d == VX_KVM_CET_KVM_EAGER || d == VX_KVM_CET_KVM_LAZY) {
			assert_int_equal(c->kvm_msr_reads, 3 * c->vcpu_puts);
			assert_int_equal(c->kvm_msr_writes, 3 * (c->vcpu_loads + c->vcpu_puts));
		} else if (d == VX_KVM_CET_KVM_USER_RETURN) {
			/* The task's return to user after a preemption, or the VMM's after an
			 * exit, fires the notifier: every load finds the CPU given back. */
			assert_int_equal(c->user_return_notifiers, c->vcpu_puts);
			assert_int_equal(c->kvm_msr_reads, 3 * c->user_return_notifiers);
			assert_int_equal(c->kvm_msr_writes,
					 3 * (c->vcpu_loads + c->user_return_notifiers));
		} else {
			assert_int_equal(c->kvm_msr_reads + c->kvm_msr_writes, 0);
		}
	}
	/* The same schedule in every design (the picks do not depend on it). */
	assert_int_equal(res[VX_KVM_CET_GUEST_ONLY].run.preemptions,
			 res[VX_KVM_CET_KVM_EAGER].run.preemptions);
	/* Host tasks never hold CET_S in use: the same host bytes in both XSAVE designs. */
	assert_int_equal(res[VX_KVM_CET_ALL_TASKS].run.host_bytes_saved,
			 res[VX_KVM_CET_GUEST_ONLY].run.host_bytes_saved);
}

/* ----------------------------------------------------------------------------------------- */
/* amx                                                                                          */

/*
 * Two tasks (task 0 uses AMX and leads the VMM process), one AMX vCPU, one CPU.  The task's
 * ARCH_REQ_XCOMP_PERM then first tile use: one #NM with XFD_ERR, one fpstate_realloc to the
 * compacted size of its permitted features, default | XTILEDATA (linux-fpu.md §5.2, §5.3);
 * the embedded default fpstate stays.  The guest's fpstate grows at KVM_SET_CPUID2 (setup),
 * never at an exit (kvm.md §6.5); the guest arms XFD, its first tile use takes an #NM that is
 * reflected to it.
 */
static void amx_exact(void **state)
{
	struct vx_eval_workload w = et_workload("amx");

	(void)state;
	w.tasks = 2;
	w.amx_tasks = 1;
	w.vcpus = 1;
	w.vms = 1;
	w.amx_vcpus = 1;
	w.cpus = 1;
	w.steps = 40;
	w.migrate = 0;
	for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++) {
		struct vx_eval_result *r = &res[d];
		uint64_t host = et_compacted_size(&spr, host_default(d));
		uint64_t grown = et_compacted_size(&spr, host_default(d) | ET_XTILEDATA);
		bool xsave_cet = d == VX_KVM_CET_ALL_TASKS || d == VX_KVM_CET_GUEST_ONLY;
		uint64_t guest = et_compacted_size(
		    &spr, (host_default(d) | (xsave_cet ? ET_CET_S : 0)) | ET_XTILEDATA);
		uint64_t copy = vx_kvm_cet_design_kvm_managed(d) ? ET_KVM_COPY : 0;

		assert_int_equal(et_run(&spr, d, &w, 2, NULL, r), VX_EVAL_PASS);
		assert_true(r->amx_available);
		assert_int_equal(r->setup.guest_reallocs, 1);
		assert_int_equal(r->run.guest_reallocs, 0);
		assert_int_equal(r->run.host_nm_events, 1);
		assert_int_equal(r->run.host_reallocs, 1);
		assert_int_equal(r->run.guest_nm_events, 1);
		assert_int_equal(r->memory.host_thread_min, host);
		assert_int_equal(r->memory.host_thread_max, host + grown);
		assert_int_equal(r->memory.vcpu_fpstate, guest);
		assert_int_equal(r->memory.vcpu_kvm_copy, copy);
		/* task 0 (grown), task 1, the vCPU thread, the guest. */
		assert_int_equal(r->memory.total, host + grown + host + host + guest + copy);
		assert_int_equal(r->memory.peak, r->memory.total);
	}
}

/* On a CPU without AMX the AMX users run without it: no #NM, no realloc, reported. */
static void amx_absent(void **state)
{
	struct vx_eval_workload w = et_workload("amx");
	struct vx_profile zen4;

	(void)state;
	et_profile(&zen4, "zen4");
	w.steps = 200;
	assert_int_equal(et_run(&zen4, VX_KVM_CET_GUEST_ONLY, &w, 1, NULL, &res[0]), VX_EVAL_PASS);
	assert_false(res[0].amx_available);
	assert_int_equal(res[0].flavour, VX_KVM_SVM);
	assert_int_equal(res[0].run.host_nm_events + res[0].run.guest_nm_events, 0);
	assert_int_equal(res[0].run.host_reallocs + res[0].setup.guest_reallocs, 0);
}

/* ----------------------------------------------------------------------------------------- */
/* threads                                                                                      */

/*
 * 98 tasks in 4 processes and 2 vCPU threads in 1 VM, run once each in turn on 2 CPUs: every
 * step switches a new thread in.  Memory: 100 threads at the default size, 2 guest fpstates
 * at the guest default (host default plus CET_S where XSAVE-managed: linux-fpu.md §2.1) and
 * KVM's 24-byte copies in the kvm-* designs; nothing grows, so the peak is the total.
 */
static void threads_exact(void **state)
{
	struct vx_eval_workload w = et_workload("threads");

	(void)state;
	w.tasks = 98;
	w.processes = 4;
	w.vcpus = 2;
	w.vms = 1;
	w.cpus = 2;
	w.steps = 100;
	for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++) {
		struct vx_eval_result *r = &res[d];
		bool xsave_cet = d == VX_KVM_CET_ALL_TASKS || d == VX_KVM_CET_GUEST_ONLY;
		uint64_t host = et_compacted_size(&spr, host_default(d));
		uint64_t guest =
		    et_compacted_size(&spr, host_default(d) | (xsave_cet ? ET_CET_S : 0));
		uint64_t copy = vx_kvm_cet_design_kvm_managed(d) ? ET_KVM_COPY : 0;

		assert_int_equal(et_run(&spr, d, &w, 9, NULL, r), VX_EVAL_PASS);
		assert_int_equal(r->host_default_bytes, host);
		assert_int_equal(r->guest_default_bytes, guest);
		assert_int_equal(r->memory.host_threads, 98);
		assert_int_equal(r->memory.vcpus, 2);
		assert_int_equal(r->memory.host_thread_min, host);
		assert_int_equal(r->memory.host_thread_max, host);
		assert_int_equal(r->memory.vcpu_thread, host);
		assert_int_equal(r->memory.total, 100 * host + 2 * (guest + copy));
		assert_int_equal(r->memory.peak, r->memory.total);
		assert_int_equal(r->run.context_switches, 100);
		assert_int_equal(r->run.returns_to_user, 98 + r->run.exits_user);
		assert_int_equal(r->run.guest_instructions, 2 * w.slice);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(one_switch_exact_bytes),
	    cmocka_unit_test(default_context_switch),
	    cmocka_unit_test(memory_per_thread_claim),
	    cmocka_unit_test(vcpu_exits_exact),
	    cmocka_unit_test(vcpu_exits_without_guest_shstk),
	    cmocka_unit_test(mixed_relations),
	    cmocka_unit_test(amx_exact),
	    cmocka_unit_test(amx_absent),
	    cmocka_unit_test(threads_exact),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
