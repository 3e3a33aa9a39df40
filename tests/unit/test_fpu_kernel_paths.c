/* SPDX-License-Identifier: MIT */
/*
 * The smaller kernel paths of the fpu layer (linux-fpu.md §2.2, §5.2, §8.4): clone() with a
 * new shadow stack (the child's CET_U gets the stack's top as PL3_SSP; fork and vfork keep the
 * parent's), an XFD #NM taken by kernel code (WARN, then CR0.TS fixup or die),
 * fpu_idle_fpregs() (TILERELEASE, ownership dropped) and fpu__resume_cpu() (XCR0, IA32_XSS,
 * IA32_XFD written again).  Expected values are worked out by hand from the spec and the
 * profiles; the real kernel cannot be asked here (no user shadow stacks in this machine's
 * kernel, no AMX, no way to run kernel code), which the first test prints.
 */
#define _GNU_SOURCE
#include "fpu_task_test_util.h"

#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define SH_STK_EN  UINT64_C(1)
#define PARENT_SSP UINT64_C(0x00007ffff7ff8ff8)
#define SHSTK_BASE UINT64_C(0x00007f0000000000)
#define SHSTK_SIZE UINT64_C(0x20000)
#define SPR_CET_U  2448u /* compacted offset of CET_U in SPR's default features, below */
#define SPR_XCR0   UINT64_C(0x602e7)
#define SPR_XSS	   UINT64_C(0x9c00)
#define ALT_SIZE   100000u
#define TS	   VX_BIT(3)
#define PAGE	   UINT64_C(4096)

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void set64(struct vx_fpu_task *t, const char *reg, uint64_t value)
{
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;

	ft_check(vx_fpu_task_set_reg(t, ft_reg(reg), &value, 8, &res, &err), &err, reg);
	if (!res.retired)
		fail_msg("%s = 0x%llx did not retire: %s", reg, (unsigned long long)value,
			 res.event.reason);
}

static uint64_t cpu_reg64(struct vx_fpu_machine *m, unsigned cpu, const char *reg)
{
	uint64_t v = 0;

	assert_int_equal(vx_cpu_get_reg(vx_fpu_machine_cpu(m, cpu), ft_reg(reg), &v, 8), 0);
	return v;
}

static bool log_has(const struct vx_fpu_machine *m, const char *text)
{
	for (unsigned i = 0; i < vx_fpu_machine_log_count(m); i++)
		if (strstr(vx_fpu_machine_log_line(m, i), text))
			return true;
	return false;
}

static int clone_args(struct vx_fpu_task *parent, uint64_t flags, uint64_t base, uint64_t size,
		      struct vx_fpu_task **child)
{
	const struct vx_fpu_clone_args a = {flags, base, size};
	struct vx_error err = VX_ERROR_INIT;

	*child = NULL;
	return vx_fpu_task_clone(parent, &a, child, &err);
}

/* A running task with a user shadow stack: SH_STK_EN in U_CET, PL3_SSP set (arch.md §7.1). */
static struct vx_fpu_task *shstk_task(struct vx_fpu_machine *m)
{
	struct vx_fpu_task *t = ft_spawn(m);

	ft_schedule(t, 0);
	set64(t, "u_cet", SH_STK_EN);
	set64(t, "pl3_ssp", PARENT_SSP);
	ft_write(t, "xmm5", 0x50);
	return t;
}

/* Why there is no real-kernel check of these paths here, asked of the kernel where it can say. */
static void test_no_kernel_answer(void **state)
{
	const char *shstk = "not x86-64 Linux";
#if defined(__linux__) && defined(__x86_64__)
	uint64_t features = 0;

	/* ARCH_SHSTK_STATUS (0x5005): EINVAL from a kernel without user shadow stacks. */
	shstk = syscall(SYS_arch_prctl, 0x5005, &features) == 0
		    ? "the kernel has user shadow stacks, but no clone() comparison is written"
		    : "this kernel has no user shadow stacks (ARCH_SHSTK_STATUS fails)";
#endif
	(void)state;
	print_message("SKIP: clone() with a shadow stack against the real kernel: %s\n", shstk);
	print_message("SKIP: kernel-mode XFD #NM, fpu_idle_fpregs(), fpu__resume_cpu() against the "
		      "real kernel: kernel-internal paths, no user-space view\n");
}

/*
 * §8.4 update_fpu_shstk(): a thread of a shadow-stack task gets PL3_SSP = base + size in its
 * saved CET_U (SPR defaults 0x20ee7 compacted: YMM 576+256, OPMASK 832+64, ZMM_Hi256 896+512,
 * Hi16_ZMM 1408+1024, PKRU 2432+8, PASID 2440+8 → CET_U at 2448: U_CET, then PL3_SSP).
 */
static void test_clone_thread_new_ssp(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 2);
	struct vx_fpu_task *parent = shstk_task(m), *child = NULL;
	struct vx_error err = VX_ERROR_INIT;
	const struct vx_fpstate *cfps;

	(void)state;
	assert_int_equal(vx_fpu_task_sigaltstack(parent, false, ALT_SIZE, &err), 0);
	assert_int_equal(
	    clone_args(parent, VX_CLONE_VM | VX_CLONE_THREAD, SHSTK_BASE, SHSTK_SIZE, &child), 0);
	assert_ptr_equal(vx_fpu_task_process(child), vx_fpu_task_process(parent));
	cfps = ft_info(child).fpstate;
	assert_true(FT_XSTATE_BV(cfps) & VX_BIT(VX_COMP_CET_U));
	assert_int_equal(rd64(cfps->regs + SPR_CET_U), SH_STK_EN);
	assert_int_equal(rd64(cfps->regs + SPR_CET_U + 8), SHSTK_BASE + SHSTK_SIZE);
	assert_int_equal(ft_info(child).sas_ss_size, 0); /* CLONE_VM without vfork */
	/* The child runs with it; the parent keeps its own. */
	ft_schedule(child, 1);
	assert_true(ft_reads(child, "xmm5", 0x50));
	assert_int_equal(cpu_reg64(m, 1, "pl3_ssp"), SHSTK_BASE + SHSTK_SIZE);
	assert_int_equal(cpu_reg64(m, 1, "u_cet"), SH_STK_EN);
	assert_true(ft_reads(parent, "xmm5", 0x50));
	assert_int_equal(cpu_reg64(m, 0, "pl3_ssp"), PARENT_SSP);
	/* A CLONE_VM process (no CLONE_THREAD) shares the address space too: a new stack. */
	assert_int_equal(clone_args(parent, VX_CLONE_VM, SHSTK_BASE + SHSTK_SIZE, PAGE, &child), 0);
	assert_ptr_not_equal(vx_fpu_task_process(child), vx_fpu_task_process(parent));
	assert_int_equal(rd64(ft_info(child).fpstate->regs + SPR_CET_U + 8),
			 SHSTK_BASE + SHSTK_SIZE + PAGE);
	assert_int_equal(ft_info(child).sas_ss_size, 0);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* fork copies the parent's shadow stack and vfork borrows it: the SSP is the parent's. */
static void test_fork_vfork_keep_ssp(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 2);
	struct vx_fpu_task *parent = shstk_task(m), *child = NULL;
	struct vx_error err = VX_ERROR_INIT;
	const uint64_t flags[] = {0, VX_CLONE_VM | VX_CLONE_VFORK, VX_CLONE_VFORK};

	(void)state;
	assert_int_equal(vx_fpu_task_sigaltstack(parent, false, ALT_SIZE, &err), 0);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		assert_int_equal(clone_args(parent, flags[i], 0, 0, &child), 0);
		assert_int_equal(rd64(ft_info(child).fpstate->regs + SPR_CET_U), SH_STK_EN);
		assert_int_equal(rd64(ft_info(child).fpstate->regs + SPR_CET_U + 8), PARENT_SSP);
		assert_int_equal(ft_info(child).sas_ss_size, ALT_SIZE);
		/* A shadow stack offered where none is made is refused, nothing created. */
		child = NULL;
		assert_int_equal(clone_args(parent, flags[i], SHSTK_BASE, SHSTK_SIZE, &child),
				 -EINVAL);
		assert_null(child);
	}
	assert_int_equal(vx_fpu_task_fork(parent, &child, &err), 0);
	assert_int_equal(rd64(ft_info(child).fpstate->regs + SPR_CET_U + 8), PARENT_SSP);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* Every refused request names the problem and creates nothing. */
static void test_clone_refusals(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_task *parent = shstk_task(m), *child = NULL;
	struct vx_fpu_process *p = vx_fpu_task_process(parent);
	struct vx_error err = VX_ERROR_INIT;
	const uint64_t thread = VX_CLONE_VM | VX_CLONE_THREAD;
	const struct {
		uint64_t flags, base, size;
		const char *reason;
	} bad[] = {
	    {thread, 0, 0, "page-aligned"},			   /* a thread needs a new stack */
	    {thread, SHSTK_BASE + 8, SHSTK_SIZE, "page-aligned"},  /* base not page-aligned */
	    {thread, SHSTK_BASE, SHSTK_SIZE + 1, "page-aligned"},  /* size not page-aligned */
	    {thread, VX_BIT(47) - PAGE, 2 * PAGE, "user address"}, /* top past 2^47 */
	    {thread, UINT64_C(0xfffffffffffff000), PAGE, "user address"}, /* wraps */
	    {VX_CLONE_THREAD, 0, 0, "CLONE_THREAD needs CLONE_VM"},
	    {thread | 0x800, SHSTK_BASE, SHSTK_SIZE, "unknown flags"}, /* CLONE_SIGHAND */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct vx_fpu_clone_args a = {bad[i].flags, bad[i].base, bad[i].size};

		assert_int_equal(vx_fpu_task_clone(parent, &a, &child, &err), -EINVAL);
		if (!strstr(err.reason, bad[i].reason))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.reason, bad[i].reason);
		assert_null(child);
		assert_int_equal(vx_fpu_process_threads(p), 1);
	}
	/* The thread wrapper passes no shadow stack: refused for a shadow-stack task. */
	assert_int_equal(vx_fpu_task_clone_thread(parent, &child, &err), -EINVAL);
	assert_int_equal(vx_fpu_task_clone(parent, NULL, &child, &err), -EINVAL);
	assert_null(child);
	/* Without SH_STK_EN no stack is made: threads keep the parent's (zero) SSP. */
	set64(parent, "u_cet", 0);
	assert_int_equal(clone_args(parent, thread, SHSTK_BASE, SHSTK_SIZE, &child), -EINVAL);
	assert_int_equal(clone_args(parent, thread, 0, 0, &child), 0);
	assert_int_equal(rd64(ft_info(child).fpstate->regs + SPR_CET_U + 8), PARENT_SSP);
	assert_int_equal(vx_fpu_process_threads(p), 2);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* A CPU without CET: no U_CET, so no task ever has a shadow stack. */
static void test_clone_without_cet(void **state)
{
	struct vx_fpu_system *sys = ft_boot("skylake-server", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_task *parent = ft_spawn(m), *child = NULL;

	(void)state;
	ft_schedule(parent, 0);
	assert_int_not_equal(
	    vx_cpu_get_reg(vx_fpu_machine_cpu(m, 0), ft_reg("u_cet"), &(uint64_t){0}, 8), 0);
	assert_int_equal(
	    clone_args(parent, VX_CLONE_VM | VX_CLONE_THREAD, SHSTK_BASE, SHSTK_SIZE, &child),
	    -EINVAL);
	assert_int_equal(clone_args(parent, VX_CLONE_VM | VX_CLONE_THREAD, 0, 0, &child), 0);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* ----------------------------------------------------------------------------------------- */
/* Kernel-mode XFD #NM (§5.2 step 3)                                                            */

static void set_ts(struct vx_fpu_machine *m, unsigned cpu, bool on)
{
	struct vx_cpu *c = vx_fpu_machine_cpu(m, cpu);
	struct vx_cpu_control control;
	struct vx_event event;

	vx_cpu_get_control(c, &control);
	control.cr0 = on ? control.cr0 | TS : control.cr0 & ~TS;
	assert_int_equal(vx_cpu_set_control(c, &control, &event), 0);
}

static bool ts_set(struct vx_fpu_machine *m, unsigned cpu)
{
	struct vx_cpu_control control;

	vx_cpu_get_control(vx_fpu_machine_cpu(m, cpu), &control);
	return (control.cr0 & TS) != 0;
}

/* AMX in a kernel FPU section with IA32_XFD[18] armed: WARN, XFD_ERR cleared, then die. */
static void test_kernel_xfd_nm_dies(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_task *t = ft_spawn(m);
	struct vx_fpu_kernel_result res;
	struct vx_error err = VX_ERROR_INIT;
	unsigned warnings;

	(void)state;
	ft_schedule(t, 0);
	ft_write(t, "xmm3", 0x33);
	/* Outside kernel_fpu_begin/end kernel code must not touch FPU registers. */
	assert_int_equal(vx_fpu_kernel_use(m, 0, FT_AMX, &res, &err), -EINVAL);
	assert_int_equal(vx_fpu_kernel_use(m, 1, FT_AMX, &res, &err), -EINVAL);
	assert_int_equal(vx_fpu_kernel_fpu_begin(m, 0, VX_KFPU_MXCSR, &err), 0);
	warnings = vx_fpu_machine_warnings(m);
	assert_int_equal(ft_rdmsr(m, 0, VX_MSR_IA32_XFD), FT_XTILEDATA);
	assert_int_equal(vx_fpu_kernel_use(m, 0, FT_AMX, &res, &err), 0);
	assert_int_equal(res.outcome, VX_FPU_KERNEL_DIE);
	assert_int_equal(res.nm_events, 1);
	assert_int_equal(res.ts_fixups, 0);
	assert_int_equal(res.xfd_err, FT_XTILEDATA); /* XFD & the components used */
	assert_int_equal(res.event.vector, VX_VEC_NM);
	assert_int_equal(ft_rdmsr(m, 0, VX_MSR_IA32_XFD_ERR), 0); /* step 2: cleared */
	assert_int_equal(vx_fpu_machine_kernel_xfd_nms(m), 1);
	assert_int_equal(vx_fpu_machine_warnings(m), warnings + 1);
	assert_true(log_has(m, "XFD #NM in kernel mode, IA32_XFD_ERR 0x40000"));
	assert_true(log_has(m, "unexpected #NM exception"));
	/* Nothing was enabled: no permission change, no growth, XFD still armed. */
	assert_false(ft_info(t).fpstate->is_valloc);
	assert_int_equal(ft_info(t).perm.state_perm & FT_XTILEDATA, 0);
	assert_int_equal(ft_rdmsr(m, 0, VX_MSR_IA32_XFD), FT_XTILEDATA);
	/* Not XFD-related: SSE in the section runs. */
	assert_int_equal(vx_fpu_kernel_use(m, 0, VX_BIT(VX_COMP_SSE), &res, &err), 0);
	assert_int_equal(res.outcome, VX_FPU_KERNEL_RETIRED);
	assert_int_equal(res.nm_events, 0);
	assert_int_equal(vx_fpu_kernel_fpu_end(m, 0, &err), 0);
	assert_true(ft_reads(t, "xmm3", 0x33));
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* CR0.TS set: a TS #NM is fixed up (WARN, TS cleared, run again); XFD then dies. */
static void test_kernel_nm_ts_fixup(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_kernel_result res;
	struct vx_error err = VX_ERROR_INIT;
	unsigned warnings;

	(void)state;
	assert_int_equal(vx_fpu_kernel_fpu_begin(m, 0, 0, &err), 0);
	warnings = vx_fpu_machine_warnings(m);
	set_ts(m, 0, true);
	assert_int_equal(vx_fpu_kernel_use(m, 0, VX_BIT(VX_COMP_SSE), &res, &err), 0);
	assert_int_equal(res.outcome, VX_FPU_KERNEL_RETIRED);
	assert_int_equal(res.nm_events, 1);
	assert_int_equal(res.ts_fixups, 1);
	assert_int_equal(res.xfd_err, 0); /* not an XFD event */
	assert_false(ts_set(m, 0));
	assert_int_equal(vx_fpu_machine_kernel_xfd_nms(m), 0);
	assert_int_equal(vx_fpu_machine_warnings(m), warnings + 1);
	assert_true(log_has(m, "CR0.TS was set"));
	/* AMX with TS set: XFD #NM (WARN), TS fixup, again XFD #NM (WARN), TS clear → die. */
	set_ts(m, 0, true);
	assert_int_equal(vx_fpu_kernel_use(m, 0, FT_AMX, &res, &err), 0);
	assert_int_equal(res.outcome, VX_FPU_KERNEL_DIE);
	assert_int_equal(res.nm_events, 2);
	assert_int_equal(res.ts_fixups, 1);
	assert_int_equal(vx_fpu_machine_kernel_xfd_nms(m), 2);
	assert_int_equal(vx_fpu_machine_warnings(m), warnings + 4);
	assert_int_equal(vx_fpu_kernel_fpu_end(m, 0, &err), 0);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* Without XFD (zen4) the #NM handler skips the XFD part; TS is still fixed up. */
static void test_kernel_nm_without_xfd(void **state)
{
	struct vx_fpu_system *sys = ft_boot("zen4", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_kernel_result res;
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	assert_int_equal(vx_fpu_kernel_fpu_begin(m, 0, 0, &err), 0);
	set_ts(m, 0, true);
	assert_int_equal(vx_fpu_kernel_use(m, 0, VX_BIT(VX_COMP_X87), &res, &err), 0);
	assert_int_equal(res.outcome, VX_FPU_KERNEL_RETIRED);
	assert_int_equal(res.ts_fixups, 1);
	assert_false(ts_set(m, 0));
	assert_int_equal(vx_fpu_machine_kernel_xfd_nms(m), 0);
	/* AMX is not in XCR0 here: #UD, which is not the #NM path (not modelled). */
	assert_int_equal(vx_fpu_kernel_use(m, 0, FT_AMX, &res, &err), -EFAULT);
	assert_int_equal(res.event.vector, VX_VEC_UD);
	assert_int_equal(vx_fpu_kernel_fpu_end(m, 0, &err), 0);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* ----------------------------------------------------------------------------------------- */
/* fpu_idle_fpregs() and fpu__resume_cpu()                                                      */

/* §8.4: tiles in use on an idle CPU are released, the owner forgotten, the state reloaded. */
static void test_idle_fpregs_releases_tiles(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 2);
	struct vx_fpu_task *t = ft_spawn(m), *plain = ft_spawn(m);
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_percpu pc;
	uint64_t restores;

	(void)state;
	ft_schedule(t, 0);
	assert_int_equal(ft_prctl(t, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	assert_int_equal(vx_fpu_task_use(t, FT_AMX, &res, &err), 0);
	ft_write(t, "tmm0", 0x11);
	assert_int_equal(vx_fpu_idle_fpregs(m, 0, &err), -EBUSY); /* t runs there */
	assert_int_equal(vx_fpu_idle_fpregs(m, 2, &err), -EINVAL);
	assert_int_equal(vx_fpu_cpu_idle(m, 0, &err), 0); /* t saved, still the owner */
	assert_int_equal(vx_cpu_xinuse(vx_fpu_machine_cpu(m, 0)) & FT_AMX, FT_AMX);
	assert_int_equal(vx_fpu_idle_fpregs(m, 0, &err), 1);
	assert_int_equal(vx_cpu_xinuse(vx_fpu_machine_cpu(m, 0)) & FT_AMX, 0);
	assert_int_equal(vx_fpu_percpu_get(m, 0, &pc), 0);
	assert_null(pc.owner);
	/* Back on CPU 0: no fast path, the tiles come from memory. */
	restores = ft_info(t).counters.restores;
	ft_schedule(t, 0);
	assert_true(ft_reads(t, "tmm0", 0x11));
	assert_int_equal(ft_info(t).counters.restores, restores + 1);
	/* A task without tiles: nothing released, the owner stays, the fast path holds. */
	ft_schedule(plain, 1);
	ft_write(plain, "xmm1", 0x10);
	assert_int_equal(vx_fpu_cpu_idle(m, 1, &err), 0);
	assert_int_equal(vx_fpu_idle_fpregs(m, 1, &err), 0);
	assert_int_equal(vx_fpu_percpu_get(m, 1, &pc), 0);
	assert_ptr_equal(pc.owner, plain);
	restores = ft_info(plain).counters.restores;
	ft_schedule(plain, 1);
	assert_true(ft_reads(plain, "xmm1", 0x10));
	assert_int_equal(ft_info(plain).counters.restores, restores);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* No AMX (zen4): fpu_idle_fpregs() never does anything. */
static void test_idle_fpregs_without_amx(void **state)
{
	struct vx_fpu_system *sys = ft_boot("zen4", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_task *t = ft_spawn(m);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_percpu pc;

	(void)state;
	ft_schedule(t, 0);
	ft_write(t, "zmm20", 0x20);
	assert_int_equal(vx_fpu_cpu_idle(m, 0, &err), 0);
	assert_int_equal(vx_fpu_idle_fpregs(m, 0, &err), 0);
	assert_int_equal(vx_fpu_percpu_get(m, 0, &pc), 0);
	assert_ptr_equal(pc.owner, t);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/*
 * §2.2 fpu__resume_cpu(): after a suspend reset the CPUs (XCR0 1, XSS 0, XFD 0), XCR0 := user
 * max 0x602e7, XSS := supervisor | independent 0x9c00 (PASID, CET_U, CET_S, arch LBR), XFD :=
 * current's fpstate->xfd: 0 for a task whose buffer grew, 0x40000 on the idle CPU.  The task
 * saved by kernel_fpu_begin() (as save_processor_state() does) finds its registers again.
 */
static void test_resume_cpu(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 2);
	struct vx_fpu_task *t = ft_spawn(m);
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_percpu pc;

	(void)state;
	ft_schedule(t, 0);
	assert_int_equal(ft_prctl(t, VX_ARCH_REQ_XCOMP_PERM, 18, NULL), 0);
	assert_int_equal(vx_fpu_task_use(t, FT_AMX, &res, &err), 0);
	ft_write(t, "tmm1", 0x21);
	ft_write(t, "ymmh2", 0x42);
	assert_int_equal(vx_fpu_kernel_fpu_begin(m, 0, VX_KFPU_MXCSR, &err), 0);
	for (unsigned cpu = 0; cpu < 2; cpu++) {
		vx_cpu_reset(vx_fpu_machine_cpu(m, cpu)); /* what the suspend left */
		assert_int_equal(vx_cpu_xcr0(vx_fpu_machine_cpu(m, cpu)), 1);
		assert_int_equal(vx_fpu_resume_cpu(m, cpu, &err), 0);
		assert_int_equal(vx_cpu_xcr0(vx_fpu_machine_cpu(m, cpu)), SPR_XCR0);
		assert_int_equal(ft_rdmsr(m, cpu, VX_MSR_IA32_XSS), SPR_XSS);
	}
	assert_int_equal(ft_rdmsr(m, 0, VX_MSR_IA32_XFD), 0);
	assert_int_equal(ft_rdmsr(m, 1, VX_MSR_IA32_XFD), FT_XTILEDATA);
	/* The cache is not written by the resume. */
	assert_int_equal(vx_fpu_percpu_get(m, 1, &pc), 0);
	assert_int_equal(pc.xfd_state, FT_XTILEDATA);
	assert_int_equal(vx_fpu_kernel_fpu_end(m, 0, &err), 0);
	assert_true(ft_reads(t, "tmm1", 0x21));
	assert_true(ft_reads(t, "ymmh2", 0x42));
	assert_int_equal(vx_fpu_resume_cpu(m, 2, &err), -EINVAL);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

/* Without dynamic sizing (zen4, no XFD) the resume writes XCR0 0x2e7 and XSS 0x1800 only. */
static void test_resume_cpu_without_xfd(void **state)
{
	struct vx_fpu_system *sys = ft_boot("zen4", VX_FPU_CET_GUEST_ONLY, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_task *t = ft_spawn(m);
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	ft_schedule(t, 0);
	ft_write(t, "zmm17", 0x17);
	assert_int_equal(vx_fpu_kernel_fpu_begin(m, 0, VX_KFPU_MXCSR, &err), 0);
	vx_cpu_reset(vx_fpu_machine_cpu(m, 0));
	assert_int_equal(vx_fpu_resume_cpu(m, 0, &err), 0);
	assert_int_equal(vx_cpu_xcr0(vx_fpu_machine_cpu(m, 0)), 0x2e7);
	assert_int_equal(ft_rdmsr(m, 0, VX_MSR_IA32_XSS), 0x1800);
	assert_int_equal(vx_fpu_kernel_fpu_end(m, 0, &err), 0);
	assert_true(ft_reads(t, "zmm17", 0x17));
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_kernel_answer),
	    cmocka_unit_test(test_clone_thread_new_ssp),
	    cmocka_unit_test(test_fork_vfork_keep_ssp),
	    cmocka_unit_test(test_clone_refusals),
	    cmocka_unit_test(test_clone_without_cet),
	    cmocka_unit_test(test_kernel_xfd_nm_dies),
	    cmocka_unit_test(test_kernel_nm_ts_fixup),
	    cmocka_unit_test(test_kernel_nm_without_xfd),
	    cmocka_unit_test(test_idle_fpregs_releases_tiles),
	    cmocka_unit_test(test_idle_fpregs_without_amx),
	    cmocka_unit_test(test_resume_cpu),
	    cmocka_unit_test(test_resume_cpu_without_xfd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
