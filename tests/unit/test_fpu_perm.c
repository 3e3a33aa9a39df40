/* SPDX-License-Identifier: MIT */
/*
 * Permissions (linux-fpu.md §4, test expectations 25-37): every arch_prctl XCOMP path with its
 * return code and order of checks, "always preserve non-user bits", the guest lock, sigaltstack
 * validation on both sides, and inheritance over fork/clone/exec.  Sizes are computed by hand
 * from the profiles' CPUID (Sapphire Rapids: standard 11008 with AMX, 2816 without; compacted
 * 0x60ee7 = 10752, see test_fpu_task.c).
 */
#define _GNU_SOURCE /* getauxval() */
#include "fpu_task_test_util.h"

#if defined(__linux__) && defined(__x86_64__)
#include <sys/auxv.h>
#define HOST_LINUX_X86_64 1
#else
#define HOST_LINUX_X86_64 0
#endif

/* SPR: user max 11008 + MAGIC2 4 + fsave header 112 = 11124; + 828, rounded to 16. */
#define SPR_MAX_FRAME 11952u

struct fixture {
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *m;
	struct vx_fpu_task *t;
};

static struct fixture setup(const char *profile)
{
	struct fixture f;

	f.sys = ft_boot(profile, VX_FPU_CET_GUEST_ONLY, NULL);
	f.m = ft_machine(f.sys, 2);
	f.t = ft_spawn(f.m);
	return f;
}

static void teardown(struct fixture *f)
{
	vx_fpu_machine_destroy(f->m);
	vx_fpu_system_destroy(f->sys);
}

static uint64_t get(struct vx_fpu_task *t, int option)
{
	uint64_t v = 0xdeadbeef;

	assert_int_equal(ft_prctl(t, (uint64_t)option, 0, &v), 0);
	return v;
}

/* §4 GET operations, expectations 33, 37; amx.c: bit 17 without a request. */
static void test_get_operations(void **state)
{
	struct fixture f = setup("sapphire-rapids");
	struct fixture z = setup("zhaoxin-kh40000");

	(void)state;
	assert_int_equal(get(f.t, VX_ARCH_GET_XCOMP_SUPP), 0x602e7);
	assert_int_equal(get(f.t, VX_ARCH_GET_XCOMP_PERM), 0x202e7);
	assert_int_equal(get(f.t, VX_ARCH_GET_XCOMP_GUEST_PERM), 0x202e7);
	for (int op = VX_ARCH_GET_XCOMP_SUPP; op <= VX_ARCH_GET_XCOMP_GUEST_PERM; op++)
		if (op != VX_ARCH_REQ_XCOMP_PERM)
			assert_int_equal(ft_prctl(f.t, (uint64_t)op, 0x1000, NULL), -EFAULT);
	assert_int_equal(get(z.t, VX_ARCH_GET_XCOMP_SUPP), 0x207);
	assert_int_equal(get(z.t, VX_ARCH_GET_XCOMP_PERM), 0x207);
	/* The option is an int: the upper half of the register is ignored. */
	assert_int_equal(get(f.t, (int)VX_ARCH_GET_XCOMP_SUPP), 0x602e7);
	uint64_t v = 0;

	assert_int_equal(ft_prctl(f.t, (UINT64_C(1) << 32) | VX_ARCH_GET_XCOMP_SUPP, 0, &v), 0);
	assert_int_equal(v, 0x602e7);
	teardown(&f);
	teardown(&z);
}

/* §4 REQ steps 2-4, expectations 25, 27, 37. */
static void test_request_codes(void **state)
{
	struct fixture f = setup("sapphire-rapids");
	struct fixture z = setup("zen4");
	const int req[] = {VX_ARCH_REQ_XCOMP_PERM, VX_ARCH_REQ_XCOMP_GUEST_PERM};
	const int unknown[] = {0, 0x1001, 0x1020, 0x1026, 0x2001, 0x7fffffff, -1};

	(void)state;
	for (int r = 0; r < 2; r++) {
		for (uint64_t idx = 0; idx < 20; idx++) {
			if (idx != 18)
				assert_int_equal(ft_prctl(f.t, (uint64_t)req[r], idx, NULL),
						 -EOPNOTSUPP);
			assert_int_equal(ft_prctl(z.t, (uint64_t)req[r], idx, NULL), -EOPNOTSUPP);
		}
		for (uint64_t idx = 20; idx < 64; idx++)
			assert_int_equal(ft_prctl(f.t, (uint64_t)req[r], idx, NULL), -EINVAL);
		assert_int_equal(ft_prctl(f.t, (uint64_t)req[r], (UINT64_C(1) << 32) + 18, NULL),
				 -EINVAL);
		assert_int_equal(ft_prctl(z.t, (uint64_t)req[r], UINT64_MAX, NULL), -EINVAL);
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		assert_int_equal(ft_prctl(f.t, (uint64_t)(uint32_t)unknown[i], 18, NULL), -EINVAL);
	assert_int_equal(get(f.t, VX_ARCH_GET_XCOMP_PERM), 0x202e7);
	assert_int_equal(ft_prctl(f.t, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	assert_int_equal(get(f.t, VX_ARCH_GET_XCOMP_PERM), 0x202e7 | FT_XTILEDATA);
	assert_int_equal(ft_prctl(f.t, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	/* Host and guest permissions are separate. */
	assert_int_equal(get(f.t, VX_ARCH_GET_XCOMP_GUEST_PERM), 0x202e7);
	teardown(&f);
	teardown(&z);
}

/* §3.3 "always preserve", expectations 33, 35. */
static void test_guest_request_preserves_supervisor(void **state)
{
	struct fixture f = setup("sapphire-rapids");
	struct vx_fpu_perm perm, guest;
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	/* A tiny altstack: guest requests do not look at it. */
	assert_int_equal(vx_fpu_task_sigaltstack(f.t, false, 2048, &err), 0);
	assert_int_equal(ft_prctl(f.t, VX_ARCH_REQ_XCOMP_GUEST_PERM, 18, NULL), 0);
	vx_fpu_process_perm(vx_fpu_task_process(f.t), &perm, &guest);
	assert_int_equal(guest.state_perm, 0x21ee7 | FT_XTILEDATA);
	/* CET_S (24 bytes at 2464) fits before XTILECFG's 64-byte alignment: still 10752. */
	assert_int_equal(guest.state_size, 10752);
	assert_int_equal(guest.user_state_size, 11008);
	assert_int_equal(perm.state_perm, 0x20ee7);
	assert_int_equal(get(f.t, VX_ARCH_GET_XCOMP_GUEST_PERM), 0x602e7);
	/* The host request keeps PASID and CET_U. */
	assert_int_equal(vx_fpu_task_sigaltstack(f.t, true, 0, &err), 0);
	assert_int_equal(ft_prctl(f.t, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	vx_fpu_process_perm(vx_fpu_task_process(f.t), &perm, NULL);
	assert_int_equal(perm.state_perm, 0x60ee7);
	assert_int_equal(perm.state_size, 10752);
	assert_int_equal(perm.user_state_size, 11008);
	teardown(&f);
}

/* §4 guest lock: -EBUSY after the first vCPU, but a re-request of a granted feature is 0. */
static void test_guest_lock(void **state)
{
	struct fixture f = setup("sapphire-rapids");
	struct fixture g = setup("sapphire-rapids");
	struct vx_fpu_guest gfpu, gfpu2;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_perm guest;
	struct vx_fpu_task *child = NULL;

	(void)state;
	assert_int_equal(vx_fpu_alloc_guest_fpstate(f.t, &gfpu, &err), 0);
	vx_fpu_process_perm(vx_fpu_task_process(f.t), NULL, &guest);
	assert_true(guest.state_perm & VX_FPU_GUEST_PERM_LOCKED);
	assert_int_equal(ft_prctl(f.t, VX_ARCH_REQ_XCOMP_GUEST_PERM, 18, NULL), -EBUSY);
	assert_int_equal(get(f.t, VX_ARCH_GET_XCOMP_GUEST_PERM), 0x202e7);
	/* Host permissions are not locked. */
	assert_int_equal(ft_prctl(f.t, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	/* Lock after the grant: the re-request takes the lockless fast path. */
	assert_int_equal(ft_prctl(g.t, VX_ARCH_REQ_XCOMP_GUEST_PERM, 18, NULL), 0);
	assert_int_equal(vx_fpu_alloc_guest_fpstate(g.t, &gfpu2, &err), 0);
	assert_int_equal(ft_prctl(g.t, VX_ARCH_REQ_XCOMP_GUEST_PERM, 18, NULL), 0);
	/* Invalid indices are still checked first. */
	assert_int_equal(ft_prctl(g.t, VX_ARCH_REQ_XCOMP_GUEST_PERM, 20, NULL), -EINVAL);
	assert_int_equal(ft_prctl(g.t, VX_ARCH_REQ_XCOMP_GUEST_PERM, 17, NULL), -EOPNOTSUPP);
	/* fork with dynamic sizing copies the whole guest_perm, lock included. */
	ft_schedule(f.t, 0);
	assert_int_equal(vx_fpu_task_fork(f.t, &child, &err), 0);
	assert_true(ft_info(child).guest_perm.state_perm & VX_FPU_GUEST_PERM_LOCKED);
	assert_int_equal(ft_prctl(child, VX_ARCH_REQ_XCOMP_GUEST_PERM, 18, NULL), -EBUSY);
	assert_int_equal(get(child, VX_ARCH_GET_XCOMP_PERM), 0x602e7);
	/* exec resets both. */
	assert_int_equal(vx_fpu_task_exec(child, &err), 0);
	assert_int_equal(ft_info(child).guest_perm.state_perm, 0x21ee7);
	assert_int_equal(ft_prctl(child, VX_ARCH_REQ_XCOMP_GUEST_PERM, 18, NULL), 0);
	assert_int_equal(vx_fpu_free_guest_fpstate(&gfpu, &err), 0);
	assert_int_equal(vx_fpu_free_guest_fpstate(&gfpu2, &err), 0);
	teardown(&f);
	teardown(&g);
}

/* Without dynamic sizing fork does not copy perms: the child's guest_perm is unlocked. */
static void test_fork_without_dynamic_sizing(void **state)
{
	struct fixture f = setup("zen4");
	struct vx_fpu_guest gfpu;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *child = NULL;

	(void)state;
	assert_int_equal(vx_fpu_alloc_guest_fpstate(f.t, &gfpu, &err), 0);
	assert_true(ft_info(f.t).guest_perm.state_perm & VX_FPU_GUEST_PERM_LOCKED);
	ft_schedule(f.t, 0);
	assert_int_equal(vx_fpu_task_fork(f.t, &child, &err), 0);
	assert_int_equal(ft_info(child).guest_perm.state_perm, 0x1ae7);
	assert_int_equal(vx_fpu_free_guest_fpstate(&gfpu, &err), 0);
	teardown(&f);
}

/* §4 validate_sigaltstack, expectation 31, amx.c: -ENOSPC from any thread, '<' not '<='. */
static void test_request_checks_altstacks(void **state)
{
	struct fixture f = setup("sapphire-rapids");
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *thread = NULL, *other = ft_spawn(f.m);

	(void)state;
	assert_int_equal(vx_fpu_max_frame_size(f.sys), SPR_MAX_FRAME);
	ft_schedule(f.t, 0);
	assert_int_equal(vx_fpu_task_clone_thread(f.t, &thread, &err), 0);
	assert_int_equal(ft_info(thread).sas_ss_size, 0);
	/* Another process's small altstack does not matter. */
	assert_int_equal(vx_fpu_task_sigaltstack(other, false, 2048, &err), 0);
	/* amx.c: AT_MINSIGSTKSZ - tile data size fails. */
	assert_int_equal(vx_fpu_task_sigaltstack(thread, false, SPR_MAX_FRAME - 8192, &err), 0);
	assert_int_equal(ft_prctl(f.t, VX_ARCH_REQ_XCOMP_PERM, 18, &(uint64_t){0}), -ENOSPC);
	assert_int_equal(get(f.t, VX_ARCH_GET_XCOMP_PERM), 0x202e7);
	assert_int_equal(ft_info(f.t).perm.state_size, 2560);
	/* framesize = max frame - user max + usize = 11952: one byte less fails, equal passes. */
	assert_int_equal(vx_fpu_task_sigaltstack(thread, false, SPR_MAX_FRAME - 1, &err), 0);
	assert_int_equal(ft_prctl(f.t, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), -ENOSPC);
	assert_int_equal(vx_fpu_task_sigaltstack(thread, false, SPR_MAX_FRAME, &err), 0);
	assert_int_equal(ft_prctl(f.t, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	assert_int_equal(get(f.t, VX_ARCH_GET_XCOMP_PERM), 0x602e7);
	teardown(&f);
}

/* §4 sigaltstack side: MINSIGSTKSZ, then sigaltstack_size_valid with and without AMX perm. */
static void test_sigaltstack_sizes(void **state)
{
	struct fixture f = setup("sapphire-rapids");
	struct fixture z = setup("zen4");
	struct vx_error err = VX_ERROR_INIT;
	/* After the grant: fsize = 11952 - 11124 + 11008 = 11836 (valid only above it). */
	const uint64_t fsize = SPR_MAX_FRAME - 11124 + 11008;
	struct vx_fpu_task *child = NULL;

	(void)state;
	assert_int_equal(vx_fpu_task_sigaltstack(f.t, false, 2047, &err), -ENOMEM);
	assert_int_equal(vx_fpu_task_sigaltstack(f.t, false, 0, &err), -ENOMEM);
	assert_int_equal(vx_fpu_task_sigaltstack(f.t, false, 2048, &err), 0);
	assert_int_equal(vx_fpu_task_sigaltstack(z.t, false, 2048, &err), 0);
	assert_int_equal(vx_fpu_task_sigaltstack(f.t, true, 0, &err), 0);
	assert_int_equal(ft_prctl(f.t, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	assert_int_equal(vx_fpu_task_sigaltstack(f.t, false, 2048, &err), -ENOMEM);
	assert_int_equal(vx_fpu_task_sigaltstack(f.t, false, fsize, &err), -ENOMEM);
	assert_int_equal(ft_info(f.t).sas_ss_size, 0);
	assert_int_equal(vx_fpu_task_sigaltstack(f.t, false, fsize + 1, &err), 0);
	/* fork inherits the altstack. */
	ft_schedule(f.t, 0);
	assert_int_equal(vx_fpu_task_fork(f.t, &child, &err), 0);
	assert_int_equal(ft_info(child).sas_ss_size, fsize + 1);
	/* strict_sas_size: zen4 fsize = 3392 - 2556 + 2440 = 3276. */
	vx_fpu_machine_set_strict_sas_size(z.m, true);
	assert_int_equal(vx_fpu_max_frame_size(z.sys), 3392);
	assert_int_equal(vx_fpu_task_sigaltstack(z.t, false, 3276, &err), -ENOMEM);
	assert_int_equal(vx_fpu_task_sigaltstack(z.t, false, 3277, &err), 0);
	teardown(&f);
	teardown(&z);
}

/* AT_MINSIGSTKSZ of this machine's kernel = get_sigframe_size() of the model on this CPU. */
static void test_host_minsigstksz(void **state)
{
	(void)state;
#if HOST_LINUX_X86_64
	struct vx_profile host;
	struct vx_fpu_system *sys;
	unsigned long min = getauxval(AT_MINSIGSTKSZ);

	if (min == 0 || vx_profile_from_host(&host, NULL) != 0)
		skip();
	sys = ft_boot_profile(&host, VX_FPU_CET_GUEST_ONLY, NULL);
	print_message("host AT_MINSIGSTKSZ %lu, model %u\n", min, vx_fpu_max_frame_size(sys));
	assert_int_equal(min, vx_fpu_max_frame_size(sys));
	vx_fpu_system_destroy(sys);
#else
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_operations),
	    cmocka_unit_test(test_request_codes),
	    cmocka_unit_test(test_guest_request_preserves_supervisor),
	    cmocka_unit_test(test_guest_lock),
	    cmocka_unit_test(test_fork_without_dynamic_sizing),
	    cmocka_unit_test(test_request_checks_altstacks),
	    cmocka_unit_test(test_sigaltstack_sizes),
	    cmocka_unit_test(test_host_minsigstksz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
