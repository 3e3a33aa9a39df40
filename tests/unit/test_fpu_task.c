/* SPDX-License-Identifier: MIT */
/*
 * Tasks on model CPUs (linux-fpu.md §3, §5, §8): the per-CPU state, the lazy switch and its
 * fast path, fork/clone/exec/exit, kernel_fpu_begin/end, fpu__clear_user_states, the #NM/XFD
 * path (SIGILL, SIGSEGV, growth to the permitted size), counters, and injected allocation
 * failures at every entry point.  Expected values come from the spec and the profiles' sizes.
 */
#include "fpu_task_test_util.h"

#define XSS_BIT_PASID 10

static void test_machine_percpu(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 3);
	struct vx_fpu_percpu pc;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_machine *bad = NULL;

	(void)state;
	assert_int_equal(vx_fpu_machine_ncpus(m), 3);
	for (unsigned cpu = 0; cpu < 3; cpu++) {
		struct vx_cpu *c = vx_fpu_machine_cpu(m, cpu);
		uint64_t xcr0 = vx_cpu_xcr0(c);

		assert_int_equal(vx_fpu_percpu_get(m, cpu, &pc), 0);
		assert_null(pc.current);
		assert_null(pc.owner);
		assert_true(pc.kernel_fpu_allowed);
		/* §2.2 steps 11, 13: XFD armed for XTILEDATA, XCR0 = user max. */
		assert_int_equal(pc.xfd_state, FT_XTILEDATA);
		assert_int_equal(ft_rdmsr(m, cpu, VX_MSR_IA32_XFD), FT_XTILEDATA);
		assert_int_equal(xcr0, 0x602e7);
		assert_int_equal(ft_rdmsr(m, cpu, VX_MSR_IA32_XSS), 0x9c00); /* | arch LBR */
	}
	assert_int_equal(vx_fpu_percpu_get(m, 3, &pc), -EINVAL);
	assert_null(vx_fpu_machine_cpu(m, 3));
	assert_int_equal(vx_fpu_machine_create(sys, 0, &bad, &err), -EINVAL);
	assert_int_equal(vx_fpu_machine_create(sys, 65, &bad, &err), -EINVAL);
	assert_null(bad);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* §3.1 table, §3.3: a fresh process. */
static void test_new_process_defaults(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_task *t = ft_spawn(m);
	struct vx_fpu_task_info i = ft_info(t);

	(void)state;
	assert_true(i.is_leader);
	assert_ptr_equal(i.fpstate, i.embedded);
	assert_null(i.task_fpstate);
	assert_int_equal(i.fpstate->size, 2560);
	assert_int_equal(i.fpstate->xfeatures, 0x20ee7);
	assert_int_equal(i.fpstate->user_size, 2816);
	assert_int_equal(i.fpstate->user_xfeatures, 0x202e7);
	assert_int_equal(i.fpstate->xfd, FT_XTILEDATA);
	assert_false(i.fpstate->is_valloc);
	assert_false(i.fpstate->is_guest);
	assert_int_equal(FT_XCOMP_BV(i.fpstate), 0x20ee7 | FT_BIT63);
	assert_int_equal(i.perm.state_perm, 0x20ee7);
	assert_int_equal(i.perm.state_size, 2560);
	assert_int_equal(i.perm.user_state_size, 2816);
	assert_int_equal(i.guest_perm.state_perm, 0x21ee7);
	assert_int_equal(i.guest_perm.state_size, 2560);
	assert_int_equal(i.guest_perm.user_state_size, 2816);
	assert_int_equal(i.last_cpu, -1);
	assert_int_equal(i.cpu, -1);
	assert_true(i.need_fpu_load);
	assert_int_equal(i.counters.fpstate_bytes, 2560);
	assert_int_equal(vx_fpu_process_threads(vx_fpu_task_process(t)), 1);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* §8.2, §8.3: registers follow the task, the fast path skips the restore. */
static void test_switch_and_fast_path(void **state)
{
	struct vx_fpu_system *sys = ft_boot("zen4", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 2);
	struct vx_fpu_task *a = ft_spawn(m), *b = ft_spawn(m);
	struct vx_fpu_percpu pc;
	struct vx_error err = VX_ERROR_INIT;
	uint64_t restores;

	(void)state;
	ft_schedule(a, 0);
	assert_int_equal(vx_fpu_task_return_to_user(a, &err), 0);
	assert_false(ft_info(a).need_fpu_load);
	assert_int_equal(ft_info(a).counters.restores, 1);
	ft_write(a, "xmm3", 0x30);
	ft_write(a, "zmm20", 0x40);
	ft_write(a, "k2", 0x50);
	ft_schedule(b, 0);
	/* switch_fpu(a): saved, TIF set, last_cpu 0, owner still a. */
	assert_true(ft_info(a).need_fpu_load);
	assert_int_equal(ft_info(a).last_cpu, 0);
	assert_int_equal(ft_info(a).counters.saves, 1);
	assert_int_equal(vx_fpu_percpu_get(m, 0, &pc), 0);
	assert_ptr_equal(pc.owner, a);
	assert_ptr_equal(pc.current, b);
	/* b sees its own (initial) registers. */
	assert_true(ft_reads(b, "xmm3", -1));
	assert_true(ft_reads(b, "zmm20", -1));
	ft_write(b, "xmm3", 0x99);
	/* a migrates to CPU 1 and finds its values. */
	ft_schedule(a, 1);
	assert_true(ft_reads(a, "xmm3", 0x30));
	assert_true(ft_reads(a, "zmm20", 0x40));
	assert_true(ft_reads(a, "k2", 0x50));
	/* Fast path: a leaves CPU 1 for nobody and comes back: no restore. */
	assert_int_equal(vx_fpu_cpu_idle(m, 1, &err), 0);
	restores = ft_info(a).counters.restores;
	ft_schedule(a, 1);
	assert_int_equal(vx_fpu_task_return_to_user(a, &err), 0);
	assert_int_equal(ft_info(a).counters.restores, restores);
	assert_true(ft_reads(a, "xmm3", 0x30));
	assert_true(ft_reads(b, "xmm3", 0x99));
	assert_int_equal(vx_fpu_task_return_to_user(ft_spawn(m), &err), -ESRCH);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* §8.4 fpu_clone, expectations 43, 45: fork copies registers, not AMX, not PASID. */
static void test_fork_registers_amx_pasid(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 2);
	struct vx_fpu_task *parent = ft_spawn(m), *child = NULL;
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event event;
	uint64_t out;

	(void)state;
	ft_schedule(parent, 0);
	assert_int_equal(ft_prctl(parent, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	assert_int_equal(vx_fpu_task_use(parent, FT_AMX, &res, &err), 0);
	assert_true(res.retired);
	ft_write(parent, "tmm0", 0x11);
	ft_write(parent, "xmm7", 0x77);
	assert_int_equal(
	    vx_cpu_wrmsr(vx_fpu_machine_cpu(m, 0), VX_MSR_IA32_PASID, VX_BIT(31) | 5, &event), 0);
	assert_int_equal(vx_fpu_task_fork(parent, &child, &err), 0);
	const struct vx_fpstate *cfps = ft_info(child).fpstate;

	assert_ptr_equal(cfps, ft_info(child).embedded);
	assert_int_equal(cfps->size, 2560);
	assert_int_equal(cfps->xfeatures & FT_XTILEDATA, 0);
	assert_int_equal(cfps->xfd, FT_XTILEDATA);
	assert_int_equal(FT_XSTATE_BV(cfps) & (FT_PASID | FT_XTILEDATA), 0);
	assert_true(FT_XSTATE_BV(cfps) & VX_BIT(VX_COMP_SSE));
	/* Dynamic sizing is on: the permission is inherited (amx.c grandchild test). */
	assert_int_equal(ft_info(child).perm.state_perm, 0x20ee7 | FT_XTILEDATA);
	assert_ptr_not_equal(vx_fpu_task_process(child), vx_fpu_task_process(parent));
	ft_schedule(child, 1);
	assert_true(ft_reads(child, "xmm7", 0x77));
	assert_int_equal(ft_prctl(child, VX_ARCH_GET_XCOMP_PERM, 0, &out), 0);
	assert_int_equal(out, 0x602e7);
	/* Tile data is not inherited: first use grows the child's buffer, tmm0 is zero. */
	assert_int_equal(vx_fpu_task_use(child, FT_AMX, &res, &err), 0);
	assert_true(res.retired);
	assert_int_equal(res.nm_events, 1);
	assert_true(ft_reads(child, "tmm0", -1));
	assert_true(ft_reads(parent, "tmm0", 0x11));
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* §4, expectation 43: threads use the leader's perm; exec resets; exit of the leader. */
static void test_clone_exec_exit(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 2);
	struct vx_fpu_task *leader = ft_spawn(m), *thread = NULL, *t2 = NULL;
	struct vx_fpu_process *p = vx_fpu_task_process(leader);
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_perm perm;
	uint64_t out;

	(void)state;
	ft_schedule(leader, 0);
	assert_int_equal(vx_fpu_task_clone_thread(leader, &thread, &err), 0);
	assert_ptr_equal(vx_fpu_task_process(thread), p);
	assert_int_equal(vx_fpu_process_threads(p), 2);
	/* The thread requests; the leader's perm changes, the thread's own field does not. */
	ft_schedule(thread, 1);
	assert_int_equal(ft_prctl(thread, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	assert_int_equal(ft_info(leader).perm.state_perm & FT_XTILEDATA, FT_XTILEDATA);
	assert_int_equal(ft_info(thread).perm.state_perm & FT_XTILEDATA, 0);
	assert_int_equal(vx_fpu_task_use(thread, FT_AMX, &res, &err), 0);
	assert_true(res.retired && res.signal == 0);
	assert_true(ft_info(thread).fpstate->is_valloc);
	/* The leader exits first: a zombie keeps the perms for the thread. */
	assert_int_equal(vx_fpu_task_exit(leader, &err), 0);
	assert_int_equal(vx_fpu_process_threads(p), 1);
	vx_fpu_process_perm(p, &perm, NULL);
	assert_int_equal(perm.state_perm & FT_XTILEDATA, FT_XTILEDATA);
	assert_int_equal(vx_fpu_task_clone_thread(thread, &t2, &err), 0);
	assert_int_equal(vx_fpu_process_threads(p), 2);
	/* exec: other threads go, perms and image back to defaults, buffer freed. */
	assert_int_equal(vx_fpu_task_sigaltstack(thread, false, 100000, &err), 0);
	assert_int_equal(vx_fpu_task_exec(thread, &err), 0);
	assert_int_equal(vx_fpu_process_threads(p), 1);
	assert_ptr_equal(vx_fpu_process_leader(p), thread);
	assert_ptr_equal(ft_info(thread).fpstate, ft_info(thread).embedded);
	assert_int_equal(ft_info(thread).perm.state_perm, 0x20ee7);
	assert_int_equal(ft_info(thread).sas_ss_size, 0);
	assert_int_equal(ft_info(thread).counters.fpstate_bytes, 2560);
	assert_true(ft_info(thread).need_fpu_load);
	assert_int_equal(ft_prctl(thread, VX_ARCH_GET_XCOMP_PERM, 0, &out), 0);
	assert_int_equal(out, 0x202e7);
	assert_true(ft_reads(thread, "tmm0", -1));
	res.signal = 0;
	assert_int_equal(vx_fpu_task_use(thread, FT_AMX, &res, &err), 0);
	assert_int_equal(res.signal, VX_SIGILL);
	assert_int_equal(vx_fpu_task_exit(thread, &err), 0);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* §5.2, expectations 39, 41: the #NM path. */
static void test_xfd_nm_path(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_task *t = ft_spawn(m);
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task_info i;

	(void)state;
	ft_schedule(t, 0);
	/* Without permission: SIGILL/ILL_ILLOPC, nothing grown, XFD_ERR cleared. */
	assert_int_equal(vx_fpu_task_use(t, FT_AMX, &res, &err), 0);
	assert_false(res.retired);
	assert_int_equal(res.signal, VX_SIGILL);
	assert_int_equal(res.si_code, VX_ILL_ILLOPC);
	assert_int_equal(res.nm_events, 1);
	assert_int_equal(res.event.vector, VX_VEC_NM);
	assert_false(ft_info(t).fpstate->is_valloc);
	assert_int_equal(ft_rdmsr(m, 0, VX_MSR_IA32_XFD_ERR), 0);
	/* With permission: grown to perm sizes, xfd bit cleared, XFD MSR follows. */
	assert_int_equal(ft_prctl(t, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	ft_write(t, "ymmh1", 0x21);
	assert_int_equal(vx_fpu_task_use(t, FT_AMX, &res, &err), 0);
	assert_true(res.retired);
	assert_int_equal(res.signal, 0);
	i = ft_info(t);
	assert_true(i.fpstate->is_valloc);
	assert_int_equal(i.fpstate->size, i.perm.state_size);
	/* Compacted 0x60ee7 by hand: ... CET_U ends at 2464, XTILECFG 2496 (aligned), XTILEDATA
	 * 2560 (aligned) + 8192. */
	assert_int_equal(i.fpstate->size, 10752);
	assert_int_equal(i.fpstate->user_size, 11008);
	assert_int_equal(i.fpstate->xfeatures, 0x60ee7);
	assert_int_equal(i.fpstate->user_xfeatures, 0x602e7);
	assert_int_equal(i.fpstate->xfd, 0);
	assert_int_equal(FT_XCOMP_BV(i.fpstate), 0x60ee7 | FT_BIT63);
	assert_int_equal(i.counters.reallocs, 1);
	assert_int_equal(i.counters.nm_events, 2);
	assert_int_equal(i.counters.fpstate_bytes, 2560 + i.fpstate->size);
	assert_int_equal(ft_rdmsr(m, 0, VX_MSR_IA32_XFD), 0);
	/* Registers were live, not copied: still there. */
	assert_true(ft_reads(t, "ymmh1", 0x21));
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* Expectation 41: XFD_ERR outside USER_DYNAMIC (a CPU whose XTILECFG supports XFD). */
static void test_xfd_invalid_error(void **state)
{
	struct vx_profile p;
	struct vx_cpuid_regs r;
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *m;
	struct vx_fpu_task *t;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event event;

	(void)state;
	ft_profile(&p, "sapphire-rapids");
	r = vx_profile_leaf(&p, 0xD, 17);
	r.ecx |= 4; /* CPUID.(0xD,17).ECX[2]: XFD-capable */
	assert_int_equal(vx_profile_set_leaf(&p, 0xD, 17, &r), 0);
	sys = ft_boot_profile(&p, VX_FPU_CET_GUEST_ONLY, NULL);
	m = ft_machine(sys, 1);
	t = ft_spawn(m);
	ft_schedule(t, 0);
	ft_write(t, "xmm4", 0x44);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(vx_cpu_wrmsr(vx_fpu_machine_cpu(m, 0), VX_MSR_IA32_XFD_ERR,
					      FT_XTILECFG, &event),
				 0);
		assert_int_equal(vx_fpu_handle_xfd_event(t, &err), 0);
		assert_int_equal(ft_rdmsr(m, 0, VX_MSR_IA32_XFD_ERR), 0);
	}
	/* pr_err_once: one line for both. */
	assert_int_equal(vx_fpu_machine_log_count(m), 1);
	assert_string_equal(vx_fpu_machine_log_line(m, 0),
			    "XFD: Invalid xfd error: 0000000000020000");
	assert_int_equal(vx_fpu_handle_xfd_event(t, &err), -ENOENT);
	assert_false(ft_info(t).fpstate->is_valloc);
	assert_true(ft_reads(t, "xmm4", 0x44));
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* §5.2 step 5: realloc failure → SIGSEGV, nothing changed. */
static void test_xfd_realloc_failure_sigsegv(void **state)
{
	struct ft_platform fp;
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *m;
	struct vx_fpu_task *t;
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task_info before;

	(void)state;
	ft_platform_init(&fp);
	sys = ft_boot("granite-rapids", VX_FPU_CET_GUEST_ONLY, &fp.platform);
	m = ft_machine(sys, 1);
	t = ft_spawn(m);
	ft_schedule(t, 0);
	assert_int_equal(ft_prctl(t, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	ft_write(t, "xmm1", 0x10);
	before = ft_info(t);
	fp.allocations_left = 0;
	assert_int_equal(vx_fpu_task_use(t, FT_AMX, &res, &err), 0);
	assert_int_equal(res.signal, VX_SIGSEGV);
	assert_false(res.retired);
	assert_ptr_equal(ft_info(t).fpstate, before.fpstate);
	assert_int_equal(ft_info(t).fpstate->xfd, FT_XTILEDATA);
	assert_int_equal(ft_info(t).counters.reallocs, 0);
	assert_true(ft_reads(t, "xmm1", 0x10));
	fp.allocations_left = -1;
	assert_int_equal(vx_fpu_task_use(t, FT_AMX, &res, &err), 0);
	assert_true(res.retired);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
	assert_int_equal(fp.live, 0);
}

/* §8.4 kernel_fpu_begin/end. */
static void test_kernel_fpu(void **state)
{
	struct vx_fpu_system *sys = ft_boot("zen4", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_task *t = ft_spawn(m);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_percpu pc;
	struct vx_event event;
	uint8_t junk[16];
	uint32_t mxcsr = 0x1fa0, got;

	(void)state;
	memset(junk, 0xEE, sizeof(junk));
	ft_schedule(t, 0);
	ft_write(t, "xmm0", 0x01);
	assert_int_equal(vx_fpu_task_set_reg(t, ft_reg("mxcsr"), &mxcsr, 4,
					     &(struct vx_fpu_user_result){0}, &err),
			 0);
	assert_int_equal(vx_fpu_kernel_fpu_begin(m, 0, VX_KFPU_MXCSR, &err), 0);
	assert_true(ft_info(t).need_fpu_load);
	assert_int_equal(vx_fpu_percpu_get(m, 0, &pc), 0);
	assert_null(pc.owner);
	assert_false(pc.kernel_fpu_allowed);
	assert_int_equal(vx_cpu_get_reg(vx_fpu_machine_cpu(m, 0), ft_reg("mxcsr"), &got, 4), 0);
	assert_int_equal(got, 0x1f80);
	/* Kernel code clobbers xmm0. */
	assert_int_equal(vx_cpu_set_reg(vx_fpu_machine_cpu(m, 0), ft_reg("xmm0"), junk, 16, &event),
			 0);
	assert_int_equal(vx_fpu_kernel_fpu_begin(m, 0, 0, &err), -EBUSY);
	assert_int_equal(vx_fpu_machine_warnings(m), 1);
	assert_int_equal(vx_fpu_kernel_fpu_end(m, 0, &err), 0);
	assert_int_equal(vx_fpu_kernel_fpu_end(m, 0, &err), -EINVAL);
	assert_true(ft_reads(t, "xmm0", 0x01));
	assert_int_equal(vx_fpu_task_get_reg(t, ft_reg("mxcsr"), &got, 4, &err), 0);
	assert_int_equal(got, 0x1fa0);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* §8.4 fpu__clear_user_states, expectation 63: XFD resynced after an AMX task ran. */
static void test_clear_user_states(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_task *amx = ft_spawn(m), *plain = ft_spawn(m);
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_percpu pc;
	uint32_t pkru = 0x0000000c, got = 0;

	(void)state;
	ft_schedule(amx, 0);
	assert_int_equal(ft_prctl(amx, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	assert_int_equal(vx_fpu_task_use(amx, FT_AMX, &res, &err), 0);
	assert_int_equal(ft_rdmsr(m, 0, VX_MSR_IA32_XFD), 0);
	ft_schedule(plain, 0);
	/* plain is in the kernel (TIF_NEED_FPU_LOAD), IA32_XFD still 0 from the AMX task. */
	assert_int_equal(ft_rdmsr(m, 0, VX_MSR_IA32_XFD), 0);
	assert_int_equal(vx_fpu_task_clear_user_states(plain, &err), 0);
	assert_int_equal(ft_rdmsr(m, 0, VX_MSR_IA32_XFD), FT_XTILEDATA);
	assert_int_equal(vx_fpu_percpu_get(m, 0, &pc), 0);
	assert_int_equal(pc.xfd_state, FT_XTILEDATA);
	assert_ptr_equal(pc.owner, plain);
	assert_false(ft_info(plain).need_fpu_load);
	/* User states go to init, PKRU to the default. */
	ft_write(plain, "xmm9", 0x90);
	assert_int_equal(vx_fpu_task_set_reg(plain, ft_reg("pkru"), &pkru, 4, &res, &err), 0);
	assert_int_equal(vx_fpu_task_clear_user_states(plain, &err), 0);
	assert_true(ft_reads(plain, "xmm9", -1));
	assert_int_equal(vx_fpu_task_get_reg(plain, ft_reg("pkru"), &got, 4, &err), 0);
	assert_int_equal(got, 0x55555554);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* Injected allocation failures: -ENOMEM (or the path's code), nothing changed, no leak. */
static void test_allocation_failures(void **state)
{
	(void)state;
	for (int n = 0; n < 12; n++) {
		struct ft_platform fp;
		struct vx_fpu_system *sys;
		struct vx_fpu_machine *m = NULL;
		struct vx_fpu_task *t = NULL, *c = NULL;
		struct vx_error err = VX_ERROR_INIT;
		int rc;

		ft_platform_init(&fp);
		sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, &fp.platform);
		fp.allocations_left = n;
		rc = vx_fpu_machine_create(sys, 4, &m, &err);
		if (rc) {
			assert_int_equal(rc, -ENOMEM);
			assert_null(m);
			fp.allocations_left = -1;
			m = ft_machine(sys, 4);
		}
		fp.allocations_left = n;
		rc = vx_fpu_process_create(m, &t, &err);
		if (rc) {
			assert_int_equal(rc, -ENOMEM);
			assert_null(t);
			fp.allocations_left = -1;
			t = ft_spawn(m);
		}
		ft_schedule(t, 0);
		ft_write(t, "xmm2", 0x20);
		fp.allocations_left = n % 3;
		rc = vx_fpu_task_fork(t, &c, &err);
		assert_true(rc == 0 || rc == -ENOMEM);
		assert_true(rc != 0 || c != NULL);
		rc = vx_fpu_task_clone_thread(t, &c, &err);
		assert_true(rc == 0 || rc == -ENOMEM);
		fp.allocations_left = -1;
		assert_true(ft_reads(t, "xmm2", 0x20));
		vx_fpu_machine_destroy(m);
		vx_fpu_system_destroy(sys);
		assert_int_equal(fp.live, 0);
	}
}

/* The fork and clone failures leave the parent's process exactly as it was. */
static void test_fork_failure_changes_nothing(void **state)
{
	struct ft_platform fp;
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *m;
	struct vx_fpu_task *t, *c = NULL;
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	ft_platform_init(&fp);
	sys = ft_boot("zen4", VX_FPU_CET_GUEST_ONLY, &fp.platform);
	m = ft_machine(sys, 1);
	t = ft_spawn(m);
	ft_schedule(t, 0);
	for (int n = 0; n < 2; n++) {
		int live = fp.live;

		fp.allocations_left = n;
		assert_int_equal(vx_fpu_task_fork(t, &c, &err), -ENOMEM);
		assert_null(c);
		assert_int_equal(fp.live, live);
		assert_int_equal(vx_fpu_process_threads(vx_fpu_task_process(t)), 1);
	}
	fp.allocations_left = 0;
	assert_int_equal(vx_fpu_task_clone_thread(t, &c, &err), -ENOMEM);
	assert_null(c);
	assert_int_equal(vx_fpu_process_threads(vx_fpu_task_process(t)), 1);
	fp.allocations_left = -1;
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
	assert_int_equal(fp.live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_machine_percpu),
	    cmocka_unit_test(test_new_process_defaults),
	    cmocka_unit_test(test_switch_and_fast_path),
	    cmocka_unit_test(test_fork_registers_amx_pasid),
	    cmocka_unit_test(test_clone_exec_exit),
	    cmocka_unit_test(test_xfd_nm_path),
	    cmocka_unit_test(test_xfd_invalid_error),
	    cmocka_unit_test(test_xfd_realloc_failure_sigsegv),
	    cmocka_unit_test(test_kernel_fpu),
	    cmocka_unit_test(test_clear_user_states),
	    cmocka_unit_test(test_allocation_failures),
	    cmocka_unit_test(test_fork_failure_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
