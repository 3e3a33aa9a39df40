/* SPDX-License-Identifier: MIT */
/*
 * Guest fpstates (linux-fpu.md §3.4, §5.4, §6, test expectations 47, 49): allocation with the
 * guest defaults and the permission lock, the enter/exit swap, CET_S only in guest fpstates in
 * the guest-only design (and initialized when a host fpstate is loaded), guest XFD (growth at
 * KVM_SET_CPUID2, fpu_update_guest_xfd, the VM-exit sync), confidential fpstates, counters,
 * preemption inside KVM_RUN, and allocation failures.
 */
#include "fpu_task_test_util.h"

struct fixture {
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *m;
	struct vx_fpu_task *t;
	struct vx_fpu_guest g;
	struct ft_platform fp;
};

static void setup(struct fixture *f, const char *profile, enum vx_fpu_cet_design design)
{
	struct vx_error err = VX_ERROR_INIT;

	ft_platform_init(&f->fp);
	f->sys = ft_boot(profile, design, &f->fp.platform);
	f->m = ft_machine(f->sys, 2);
	f->t = ft_spawn(f->m);
	ft_schedule(f->t, 0);
	memset(&f->g, 0, sizeof(f->g));
	ft_check(vx_fpu_alloc_guest_fpstate(f->t, &f->g, &err), &err, "alloc guest");
}

static void teardown(struct fixture *f)
{
	struct vx_error err = VX_ERROR_INIT;

	if (f->g.fpstate && f->g.fpstate->in_use)
		ft_check(vx_fpu_swap_kvm_fpstate(f->t, &f->g, false, &err), &err, "exit");
	ft_check(vx_fpu_free_guest_fpstate(&f->g, &err), &err, "free guest");
	vx_fpu_machine_destroy(f->m);
	vx_fpu_system_destroy(f->sys);
	assert_int_equal(f->fp.live, 0);
}

static void swap(struct fixture *f, bool enter)
{
	struct vx_error err = VX_ERROR_INIT;

	ft_check(vx_fpu_swap_kvm_fpstate(f->t, &f->g, enter, &err), &err, "swap");
}

static void guest_write(struct fixture *f, const char *name, uint64_t value)
{
	const struct vx_reg_info *r = ft_reg(name);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event event;
	uint8_t bytes[64] = {0};

	memcpy(bytes, &value, sizeof(value));
	ft_check(vx_fpu_guest_set_reg(f->t, &f->g, r, bytes, r->width, &event, &err), &err, name);
}

static uint64_t guest_read(struct fixture *f, const char *name)
{
	const struct vx_reg_info *r = ft_reg(name);
	struct vx_error err = VX_ERROR_INIT;
	uint8_t bytes[64] = {0};
	uint64_t value;

	ft_check(vx_fpu_guest_get_reg(f->t, &f->g, r, bytes, r->width, &err), &err, name);
	memcpy(&value, bytes, sizeof(value));
	return value;
}

/* The value a register has on the task's CPU right now. */
static uint64_t cpu_reg(struct fixture *f, unsigned cpu, const char *name)
{
	const struct vx_reg_info *r = ft_reg(name);
	uint8_t bytes[64] = {0};
	uint64_t value;

	assert_int_equal(vx_cpu_get_reg(vx_fpu_machine_cpu(f->m, cpu), r, bytes, r->width), 0);
	memcpy(&value, bytes, sizeof(value));
	return value;
}

/* §6 fpu_alloc_guest_fpstate, §3.4, §3.1 guest column; expectation 49. */
static void test_alloc_defaults(void **state)
{
	struct fixture f;
	const struct vx_fpstate *g;

	(void)state;
	setup(&f, "sapphire-rapids", VX_FPU_CET_GUEST_ONLY);
	g = f.g.fpstate;
	assert_int_equal(g->size, 2560);
	assert_int_equal(g->xfeatures, 0x21ee7);
	assert_int_equal(FT_XCOMP_BV(g), 0x21ee7 | FT_BIT63);
	assert_int_equal(g->xfd, 0);
	assert_int_equal(g->user_size, 2816);
	assert_int_equal(g->user_xfeatures, 0x202e7);
	assert_true(g->is_valloc && g->is_guest);
	assert_false(g->in_use || g->is_confidential);
	assert_int_equal(f.g.xfeatures, 0x21ee7);
	assert_int_equal(f.g.uabi_size, 4096);
	assert_int_equal(f.g.counters.fpstate_bytes, 2560);
	teardown(&f);
	setup(&f, "zen4", VX_FPU_CET_GUEST_ONLY);
	assert_int_equal(f.g.fpstate->size, 2480);
	assert_int_equal(ft_info(f.t).fpstate->size, 2456);
	teardown(&f);
	setup(&f, "zen4", VX_FPU_CET_UNSUPPORTED);
	assert_int_equal(FT_XCOMP_BV(f.g.fpstate), 0xae7 | FT_BIT63);
	teardown(&f);
}

/* Expectation 47: fpu_free_guest_fpstate while in use → WARN, not freed. */
static void test_free_in_use(void **state)
{
	struct fixture f;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_guest none = {0};

	(void)state;
	setup(&f, "zen4", VX_FPU_CET_GUEST_ONLY);
	swap(&f, true);
	assert_int_equal(vx_fpu_free_guest_fpstate(&f.g, &err), -EBUSY);
	assert_non_null(f.g.fpstate);
	assert_int_equal(vx_fpu_machine_warnings(f.m), 1);
	assert_int_equal(vx_fpu_task_exit(f.t, &err), -EBUSY);
	assert_int_equal(vx_fpu_swap_kvm_fpstate(f.t, &f.g, true, &err), -EINVAL);
	assert_int_equal(vx_fpu_free_guest_fpstate(&none, &err), 0);
	assert_int_equal(vx_fpu_free_guest_fpstate(NULL, &err), 0);
	teardown(&f);
}

/* §6 swap: host and guest registers each come back; guest-only CET_S (expectation 49). */
static void test_swap_and_cet_s(void **state)
{
	struct fixture f;
	struct vx_fpu_task_info i;

	(void)state;
	setup(&f, "sapphire-rapids", VX_FPU_CET_GUEST_ONLY);
	ft_write(f.t, "xmm5", 0x50);
	swap(&f, true);
	i = ft_info(f.t);
	assert_ptr_equal(i.fpstate, f.g.fpstate);
	assert_ptr_equal(i.task_fpstate, i.embedded);
	assert_true(f.g.fpstate->in_use);
	/* The guest starts from its own (initial) state. */
	assert_int_equal(guest_read(&f, "xmm5"), 0);
	guest_write(&f, "xmm5", 0x1234);
	guest_write(&f, "pl0_ssp", 0x7ffff000);
	guest_write(&f, "pl2_ssp", 0x7fffe000);
	swap(&f, false);
	assert_false(f.g.fpstate->in_use);
	assert_null(ft_info(f.t).task_fpstate);
	/* Loading the host fpstate initialized CET_S: restore mask has bit 12. */
	assert_int_equal(cpu_reg(&f, 0, "pl0_ssp"), 0);
	assert_int_equal(cpu_reg(&f, 0, "pl2_ssp"), 0);
	assert_true(ft_reads(f.t, "xmm5", 0x50));
	/* The guest fpstate holds CET_S. */
	assert_true(FT_XSTATE_BV(f.g.fpstate) & FT_CET_S);
	/* A save of the host fpstate never has bit 12. */
	ft_schedule(ft_spawn(f.m), 0);
	i = ft_info(f.t);
	assert_int_equal(FT_XSTATE_BV(i.fpstate) & FT_CET_S, 0);
	assert_int_equal(FT_XCOMP_BV(i.fpstate) & FT_CET_S, 0);
	ft_schedule(f.t, 0);
	swap(&f, true);
	assert_int_equal(guest_read(&f, "pl0_ssp"), 0x7ffff000);
	assert_int_equal(guest_read(&f, "pl2_ssp"), 0x7fffe000);
	assert_int_equal(guest_read(&f, "xmm5"), 0x1234);
	assert_true(f.g.counters.saves >= 1);
	assert_true(f.g.counters.restores >= 2);
	teardown(&f);
}

/* all-tasks: every host fpstate has CET_S. */
static void test_all_tasks_design(void **state)
{
	struct fixture f;
	struct vx_event event;

	(void)state;
	setup(&f, "zen4", VX_FPU_CET_ALL_TASKS);
	assert_int_equal(ft_info(f.t).fpstate->xfeatures & FT_CET_S, FT_CET_S);
	assert_int_equal(FT_XCOMP_BV(ft_info(f.t).fpstate) & FT_CET_S, FT_CET_S);
	/* The kernel (CPL0) sets PL0_SSP for the task: it survives a switch. */
	assert_int_equal(vx_fpu_task_return_to_user(f.t, NULL), 0);
	assert_int_equal(
	    vx_cpu_wrmsr(vx_fpu_machine_cpu(f.m, 0), VX_MSR_IA32_PL0_SSP, 0x5000, &event), 0);
	ft_schedule(ft_spawn(f.m), 0);
	assert_true(FT_XSTATE_BV(ft_info(f.t).fpstate) & FT_CET_S);
	ft_schedule(f.t, 1);
	assert_int_equal(vx_fpu_task_return_to_user(f.t, NULL), 0);
	assert_int_equal(cpu_reg(&f, 1, "pl0_ssp"), 0x5000);
	teardown(&f);
}

/* Preempted inside KVM_RUN: switch_fpu saves into the guest fpstate; nothing leaks. */
static void test_preempted_in_guest(void **state)
{
	struct fixture f;
	struct vx_fpu_task *other;

	(void)state;
	setup(&f, "sapphire-rapids", VX_FPU_CET_GUEST_ONLY);
	other = ft_spawn(f.m);
	swap(&f, true);
	guest_write(&f, "xmm0", 0xabcdef);
	guest_write(&f, "pl1_ssp", 0x8000);
	ft_schedule(other, 0);
	assert_true(ft_reads(other, "xmm0", -1));
	assert_int_equal(cpu_reg(&f, 0, "pl1_ssp"), 0);
	ft_schedule(f.t, 1);
	assert_int_equal(guest_read(&f, "xmm0"), 0xabcdef);
	assert_int_equal(guest_read(&f, "pl1_ssp"), 0x8000);
	teardown(&f);
}

/* §5.4 fpu_enable_guest_xfd_features: -EPERM, growth, no-op, while in use. */
static void test_guest_xfd_growth(void **state)
{
	struct fixture f;
	struct vx_error err = VX_ERROR_INIT;
	const struct vx_fpstate *old;

	(void)state;
	setup(&f, "sapphire-rapids", VX_FPU_CET_GUEST_ONLY);
	assert_int_equal(vx_fpu_enable_guest_xfd_features(f.t, &f.g, FT_XTILEDATA, &err), -EPERM);
	assert_int_equal(vx_fpu_enable_guest_xfd_features(f.t, &f.g, FT_XTILECFG, &err), 0);
	/* The lock came with the vCPU: the permission was needed before (§9). */
	assert_int_equal(ft_prctl(f.t, VX_ARCH_REQ_XCOMP_GUEST_PERM, 18, NULL), -EBUSY);
	teardown(&f);

	struct fixture g;
	struct vx_fpu_task *t;

	ft_platform_init(&g.fp);
	g.sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, &g.fp.platform);
	g.m = ft_machine(g.sys, 1);
	t = g.t = ft_spawn(g.m);
	ft_schedule(t, 0);
	assert_int_equal(ft_prctl(t, VX_ARCH_REQ_XCOMP_GUEST_PERM, 18, NULL), 0);
	memset(&g.g, 0, sizeof(g.g));
	assert_int_equal(vx_fpu_alloc_guest_fpstate(t, &g.g, &err), 0);
	swap(&g, true);
	guest_write(&g, "xmm3", 0x333);
	guest_write(&g, "pl0_ssp", 0x9000);
	/* Allocation failure: -EFAULT, nothing changed. */
	old = g.g.fpstate;
	g.fp.allocations_left = 0;
	assert_int_equal(vx_fpu_enable_guest_xfd_features(t, &g.g, FT_XTILEDATA, &err), -EFAULT);
	g.fp.allocations_left = -1;
	assert_ptr_equal(g.g.fpstate, old);
	assert_int_equal(g.g.xfeatures, 0x21ee7);
	assert_int_equal(g.g.uabi_size, 4096);
	assert_int_equal(vx_fpu_enable_guest_xfd_features(t, &g.g, FT_XTILEDATA, &err), 0);
	assert_ptr_equal(ft_info(t).fpstate, g.g.fpstate);
	assert_true(g.g.fpstate->in_use && g.g.fpstate->is_guest && g.g.fpstate->is_valloc);
	assert_int_equal(g.g.fpstate->size, 10752);
	assert_int_equal(g.g.fpstate->user_size, 11008);
	assert_int_equal(g.g.fpstate->xfeatures, 0x61ee7);
	assert_int_equal(FT_XCOMP_BV(g.g.fpstate), 0x61ee7 | FT_BIT63);
	assert_int_equal(g.g.xfeatures, 0x61ee7);
	assert_int_equal(g.g.uabi_size, 11008);
	assert_int_equal(g.g.counters.reallocs, 1);
	assert_int_equal(g.g.counters.fpstate_bytes, 10752);
	/* Registers were live: nothing lost. */
	struct vx_fpu_task *o = ft_spawn(g.m);

	ft_schedule(o, 0);
	ft_write(o, "xmm3", 0x01);
	ft_schedule(t, 0);
	assert_int_equal(guest_read(&g, "xmm3"), 0x333);
	assert_int_equal(guest_read(&g, "pl0_ssp"), 0x9000);
	assert_int_equal(vx_fpu_enable_guest_xfd_features(t, &g.g, FT_AMX, &err), 0);
	assert_int_equal(g.g.counters.reallocs, 1);
	teardown(&g);
}

/* §5.4 fpu_update_guest_xfd, fpu_sync_guest_vmexit_xfd_state. */
static void test_guest_xfd_msr(void **state)
{
	struct fixture f;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event event;
	struct vx_fpu_percpu pc;

	(void)state;
	setup(&f, "sapphire-rapids", VX_FPU_CET_GUEST_ONLY);
	assert_int_equal(vx_fpu_task_return_to_user(f.t, &err), 0);
	assert_int_equal(ft_rdmsr(f.m, 0, VX_MSR_IA32_XFD), FT_XTILEDATA);
	assert_int_equal(vx_fpu_update_guest_xfd(f.t, &f.g, FT_XTILEDATA, &err), 0);
	assert_int_equal(f.g.fpstate->xfd, FT_XTILEDATA);
	swap(&f, true);
	assert_int_equal(ft_rdmsr(f.m, 0, VX_MSR_IA32_XFD), FT_XTILEDATA);
	assert_int_equal(vx_fpu_update_guest_xfd(f.t, &f.g, 0, &err), 0);
	assert_int_equal(ft_rdmsr(f.m, 0, VX_MSR_IA32_XFD), 0);
	/* XFD passthrough: the guest writes the MSR itself, KVM syncs at VM exit. */
	assert_int_equal(
	    vx_cpu_wrmsr(vx_fpu_machine_cpu(f.m, 0), VX_MSR_IA32_XFD, FT_XTILEDATA, &event), 0);
	assert_int_equal(vx_fpu_sync_guest_vmexit_xfd_state(f.t, &err), 0);
	assert_int_equal(f.g.fpstate->xfd, FT_XTILEDATA);
	assert_int_equal(vx_fpu_percpu_get(f.m, 0, &pc), 0);
	assert_int_equal(pc.xfd_state, FT_XTILEDATA);
	swap(&f, false);
	assert_int_equal(ft_rdmsr(f.m, 0, VX_MSR_IA32_XFD), FT_XTILEDATA);
	assert_int_equal(ft_info(f.t).fpstate->xfd, FT_XTILEDATA);
	teardown(&f);
}

/* §6 confidential: no save, no restore, only XFD. */
static void test_confidential(void **state)
{
	struct fixture f;
	struct vx_fpu_counters c;

	(void)state;
	setup(&f, "sapphire-rapids", VX_FPU_CET_GUEST_ONLY);
	vx_fpu_guest_set_confidential(&f.g);
	assert_true(f.g.fpstate->is_confidential);
	swap(&f, true);
	c = f.g.counters;
	assert_int_equal(c.saves + c.restores, 0);
	assert_int_equal(ft_rdmsr(f.m, 0, VX_MSR_IA32_XFD), 0);
	swap(&f, false);
	assert_int_equal(f.g.counters.saves + f.g.counters.restores, 0);
	assert_int_equal(ft_rdmsr(f.m, 0, VX_MSR_IA32_XFD), FT_XTILEDATA);
	teardown(&f);
}

/* Allocation failure at vCPU creation: -ENOMEM, nothing locked, gfpu untouched. */
static void test_alloc_failure(void **state)
{
	struct ft_platform fp;
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *m;
	struct vx_fpu_task *t;
	struct vx_fpu_guest g;
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	ft_platform_init(&fp);
	sys = ft_boot("zen4", VX_FPU_CET_GUEST_ONLY, &fp.platform);
	m = ft_machine(sys, 1);
	t = ft_spawn(m);
	memset(&g, 0x5a, sizeof(g));
	fp.allocations_left = 0;
	assert_int_equal(vx_fpu_alloc_guest_fpstate(t, &g, &err), -ENOMEM);
	assert_int_equal(((uint8_t *)&g)[0], 0x5a);
	assert_int_equal(ft_info(t).guest_perm.state_perm & VX_FPU_GUEST_PERM_LOCKED, 0);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
	assert_int_equal(fp.live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alloc_defaults),     cmocka_unit_test(test_free_in_use),
	    cmocka_unit_test(test_swap_and_cet_s),     cmocka_unit_test(test_all_tasks_design),
	    cmocka_unit_test(test_preempted_in_guest), cmocka_unit_test(test_guest_xfd_growth),
	    cmocka_unit_test(test_guest_xfd_msr),      cmocka_unit_test(test_confidential),
	    cmocka_unit_test(test_alloc_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
