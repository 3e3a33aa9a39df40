/* SPDX-License-Identifier: MIT */
/*
 * Regression tests for four defects of the cpu and fpu layers (issue 7), each with an
 * expectation computed by hand from the specs:
 *
 *  1. An MXCSR-only change after XRSTORS must survive the next XSAVES to the same area, even
 *     though an MXCSR write leaves XMODIFIED[1] alone (arch.md §4, §5.3, §5.4): directly on the
 *     model CPU of every built-in profile with XSAVES, and across a context switch of the fpu
 *     layer on every profile that boots.
 *  2. exec kills the other threads (de_thread); one inside KVM_RUN leaves it first, putting the
 *     guest FPU (linux-fpu.md §6, §8.4): the guest fpstate is no longer in use and can be freed,
 *     and holds the guest's last registers.
 *  3. PTRACE_SETREGSET/GETREGSET of a task (linux-fpu.md §7.2): -ESRCH for a tracee that is not
 *     stopped, fpu_force_restore() so a SET reaches the registers even when the CPU still holds
 *     the old ones, thread.pkru from the buffer's PKRU (0 when its bit is clear), a refusal
 *     changes nothing.
 *  4. A faulting sigreturn restore keeps its fault as the reason (fpstate_exec(): putting the
 *     caller's CPL back must not overwrite the fault).
 */
#include "unit/cpu_test_util.h"
#include "unit/fpu_task_test_util.h"

#include <vxsave/fpu_signal.h>

#define X87_SSE	      UINT64_C(0x3)
#define MXCSR_DEFAULT 0x1F80u
#define MXCSR_CHANGED 0x1F00u /* every exception unmasked: valid under any MXCSR_MASK */
#define XMM_OFFSET    160u    /* arch.md §2.2: XMM0 at byte 160, 16 bytes each */
#define XCOMP_BV_OFF  520u
#define XSTATE_BV_OFF 512u
#define PKRU_STD_SPR  2688u /* arch.md §8: Intel standard offset of PKRU */

static uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t ld64(const uint8_t *p)
{
	return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

static void st32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void st64(uint8_t *p, uint64_t v)
{
	st32(p, (uint32_t)v);
	st32(p + 4, (uint32_t)(v >> 32));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ----------------------------------------------------------------------------------------- */
/* 1. MXCSR after XRSTORS, on the model CPU                                                     */

static int exec_at(struct tu *t, enum vx_insn insn, uint64_t mask)
{
	return vx_cpu_exec(t->cpu, insn, 0, &t->mem, TU_BASE, mask, &t->ev);
}

static uint32_t read_mxcsr(const struct vx_cpu *cpu)
{
	uint8_t v[4];

	TU_CHECK(vx_cpu_get_reg(cpu, tu_reg("mxcsr"), v, 4) == 0, "read mxcsr");
	return ld32(v);
}

/*
 * XRSTORS64 of a compacted x87|SSE area with XSTATE_BV = @bv, then only MXCSR is written, then
 * XSAVES64 to the same area: the modified optimization applies (XRSTOR_INFO matches, §4).
 */
static void xrstors_mxcsr_xsaves(struct tu *t, uint64_t bv, uint32_t area_mxcsr, uint32_t mxcsr)
{
	uint8_t v[4];

	tu_xsetbv(t, X87_SSE);
	memset(t->buf, 0, 1024);
	tu_pattern(t->buf + XMM_OFFSET, 256, 7); /* XMM images: read only if XSTATE_BV[1] */
	st32(t->buf + 24, area_mxcsr);
	st64(t->buf + XSTATE_BV_OFF, bv);
	st64(t->buf + XCOMP_BV_OFF, VX_XCOMP_BV_COMPACTED | X87_SSE);
	TU_CHECK(exec_at(t, VX_INSN_XRSTORS64, X87_SSE) == 0, "%s: XRSTORS64: %s", t->profile.name,
		 t->ev.reason);
	st32(v, mxcsr);
	TU_CHECK(vx_cpu_set_reg(t->cpu, tu_reg("mxcsr"), v, 4, &t->ev) == 0, "write mxcsr");
	TU_CHECK(exec_at(t, VX_INSN_XSAVES64, X87_SSE) == 0, "%s: XSAVES64: %s", t->profile.name,
		 t->ev.reason);
}

/* What the area restores to on a fresh processor of the same profile (XRSTORS64, §5.6). */
static void restore_fresh(struct tu *t, struct vx_cpu **fresh)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event ev;

	TU_CHECK(vx_cpu_create(&t->profile, NULL, fresh, &err) == 0, "create: %s", err.reason);
	TU_CHECK(vx_cpu_xsetbv(*fresh, 0, X87_SSE, &ev) == 0, "xsetbv");
	TU_CHECK(vx_cpu_exec(*fresh, VX_INSN_XRSTORS64, 0, &t->mem, TU_BASE, X87_SSE, &ev) == 0,
		 "%s: XRSTORS64 of the saved area: %s", t->profile.name, ev.reason);
}

/* XSTATE_BV[1] = 0: XMM initialized (their area bytes never read), MXCSR 0x1F80; then 0x1F00. */
static unsigned check_mxcsr_after_init(const struct vx_profile *p)
{
	struct vx_cpu *fresh = NULL;
	unsigned failures = 0;
	struct tu t;

	tu_open_profile(&t, p);
	xrstors_mxcsr_xsaves(&t, 0, 0xFFFFu, MXCSR_CHANGED);
	/* §5.3/§5.4: RFBM[1] and MXCSR != 0x1F80 → SSE saved: XSTATE_BV = 0x2 (x87 still init),
	 * MXCSR at 24, XMM0-15 as they are: zero. */
	TU_CASE_CHECK(failures, ld32(t.buf + 24) == MXCSR_CHANGED, p->name,
		      "area MXCSR 0x%x, want 0x%x", ld32(t.buf + 24), MXCSR_CHANGED);
	TU_CASE_CHECK(failures, ld64(t.buf + XSTATE_BV_OFF) == 0x2, p->name,
		      "XSTATE_BV 0x%" PRIx64 ", want 0x2", ld64(t.buf + XSTATE_BV_OFF));
	TU_CASE_CHECK(failures, all_zero(t.buf + XMM_OFFSET, 256), p->name,
		      "XMM images not the zero registers: XSTATE_BV[1] = 1 claims stale bytes");
	restore_fresh(&t, &fresh);
	TU_CASE_CHECK(failures, read_mxcsr(fresh) == MXCSR_CHANGED, p->name,
		      "restored MXCSR 0x%x, want 0x%x", read_mxcsr(fresh), MXCSR_CHANGED);
	vx_cpu_destroy(fresh);
	tu_close(&t);
	return failures;
}

/* XSTATE_BV[1] = 1: XMM loaded (non-zero), MXCSR 0x1F00 loaded; then back to 0x1F80. */
static unsigned check_mxcsr_back_to_default(const struct vx_profile *p)
{
	uint8_t want_xmm[256];
	struct vx_cpu *fresh = NULL;
	unsigned failures = 0;
	struct tu t;

	tu_open_profile(&t, p);
	tu_pattern(want_xmm, sizeof(want_xmm), 7);
	xrstors_mxcsr_xsaves(&t, 0x2, MXCSR_CHANGED, MXCSR_DEFAULT);
	/* SSE in use (non-zero XMM): XSTATE_BV[1] = 1, so MXCSR at 24 must be the live 0x1F80. */
	TU_CASE_CHECK(failures, ld32(t.buf + 24) == MXCSR_DEFAULT, p->name,
		      "area MXCSR 0x%x, want 0x%x", ld32(t.buf + 24), MXCSR_DEFAULT);
	TU_CASE_CHECK(failures, ld64(t.buf + XSTATE_BV_OFF) == 0x2, p->name,
		      "XSTATE_BV 0x%" PRIx64 ", want 0x2", ld64(t.buf + XSTATE_BV_OFF));
	TU_CASE_CHECK(failures, memcmp(t.buf + XMM_OFFSET, want_xmm, 256) == 0, p->name,
		      "XMM images changed");
	restore_fresh(&t, &fresh);
	TU_CASE_CHECK(failures, read_mxcsr(fresh) == MXCSR_DEFAULT, p->name,
		      "restored MXCSR 0x%x, want 0x%x", read_mxcsr(fresh), MXCSR_DEFAULT);
	vx_cpu_destroy(fresh);
	tu_close(&t);
	return failures;
}

static void test_xsaves_keeps_mxcsr_change(void **state)
{
	unsigned failures = 0, checked = 0;

	(void)state;
	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		struct vx_profile p;

		tu_load_profile(&p, vx_builtin_profile_name(i));
		if (!vx_profile_has(&p, VX_FEAT_XSAVES))
			continue;
		failures += check_mxcsr_after_init(&p);
		failures += check_mxcsr_back_to_default(&p);
		checked++;
	}
	printf("XSAVES after XRSTORS and an MXCSR write: %u profiles with XSAVES\n", checked);
	assert_true(checked >= 3);
	assert_int_equal(failures, 0);
}

/* ----------------------------------------------------------------------------------------- */
/* 1. The same across a context switch of the fpu layer                                        */

static void set_mxcsr(struct vx_fpu_task *t, uint32_t value)
{
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;

	ft_check(vx_fpu_task_set_reg(t, ft_reg("mxcsr"), &value, 4, &res, &err), &err, "mxcsr");
	if (!res.retired)
		fail_msg("writing MXCSR did not retire: %s", res.event.reason);
}

static uint32_t get_mxcsr(struct vx_fpu_task *t)
{
	struct vx_error err = VX_ERROR_INIT;
	uint32_t value = 0;

	ft_check(vx_fpu_task_get_reg(t, ft_reg("mxcsr"), &value, 4, &err), &err, "mxcsr");
	return value;
}

/*
 * A task returns to user (XRSTOR(S) of its fpstate: SSE initial), writes only MXCSR, is
 * switched out (XSAVE* to the same fpstate), and runs again on the other CPU (restore from
 * memory): its MXCSR must be the one it wrote.  Then back to 0x1F80 with the XMM in use.
 */
static unsigned check_switch(const char *profile)
{
	struct vx_fpu_system *sys = ft_boot(profile, VX_FPU_CET_DEFAULT, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 2);
	struct vx_fpu_task *a = ft_spawn(m);
	struct vx_error err = VX_ERROR_INIT;
	unsigned failures = 0;
	uint32_t got;

	ft_schedule(a, 0);
	ft_check(vx_fpu_task_return_to_user(a, &err), &err, "return");
	set_mxcsr(a, MXCSR_CHANGED);
	ft_check(vx_fpu_cpu_idle(m, 0, &err), &err, "idle");
	ft_schedule(a, 1);
	got = get_mxcsr(a);
	TU_CASE_CHECK(failures, got == MXCSR_CHANGED, profile, "MXCSR 0x%x after a switch", got);
	ft_write(a, "xmm2", 0x40);
	ft_check(vx_fpu_cpu_idle(m, 1, &err), &err, "idle");
	ft_schedule(a, 0);
	ft_check(vx_fpu_task_return_to_user(a, &err), &err, "return");
	set_mxcsr(a, MXCSR_DEFAULT);
	ft_check(vx_fpu_cpu_idle(m, 0, &err), &err, "idle");
	ft_schedule(a, 1);
	got = get_mxcsr(a);
	TU_CASE_CHECK(failures, got == MXCSR_DEFAULT, profile, "MXCSR 0x%x after a switch", got);
	TU_CASE_CHECK(failures, ft_reads(a, "xmm2", 0x40), profile, "xmm2 lost");
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
	return failures;
}

static void test_switch_keeps_mxcsr_change(void **state)
{
	static const char *const profiles[] = {"zen4", "skylake-server", "sapphire-rapids", "zen3",
					       "zhaoxin-kh40000"};
	unsigned failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		failures += check_switch(profiles[i]);
	assert_int_equal(failures, 0);
}

/* ----------------------------------------------------------------------------------------- */
/* 2. exec while another thread is inside a guest                                              */

struct exec_fixture {
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *m;
	struct vx_fpu_task *leader, *vmm;
	struct vx_fpu_guest guest;
};

/* The leader runs on CPU 0; its thread @vmm entered a guest on CPU 1 that wrote xmm5. */
static void exec_setup(struct exec_fixture *f, const char *profile)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event ev;
	uint8_t xmm5[16];

	memset(f, 0, sizeof(*f));
	f->sys = ft_boot(profile, VX_FPU_CET_DEFAULT, NULL);
	f->m = ft_machine(f->sys, 2);
	f->leader = ft_spawn(f->m);
	ft_schedule(f->leader, 0);
	ft_check(vx_fpu_task_clone_thread(f->leader, &f->vmm, &err), &err, "thread");
	ft_schedule(f->vmm, 1);
	ft_check(vx_fpu_alloc_guest_fpstate(f->vmm, &f->guest, &err), &err, "guest alloc");
	ft_check(vx_fpu_swap_kvm_fpstate(f->vmm, &f->guest, true, &err), &err, "enter");
	for (unsigned i = 0; i < 16; i++)
		xmm5[i] = (uint8_t)(0xC0 + i);
	ft_check(vx_fpu_guest_set_reg(f->vmm, &f->guest, ft_reg("xmm5"), xmm5, 16, &ev, &err), &err,
		 "guest xmm5");
}

static void exec_check(struct exec_fixture *f)
{
	struct vx_error err = VX_ERROR_INIT;
	const uint8_t *img;

	ft_check(vx_fpu_task_exec(f->leader, &err), &err, "exec");
	assert_int_equal(vx_fpu_process_threads(vx_fpu_task_process(f->leader)), 1);
	/* kvm_put_guest_fpu on the way out of KVM_RUN (§6): in_use = 0, the guest's registers in
	 * its fpstate (XMM5 at 160 + 5 * 16 in either format, arch.md §2.2). */
	assert_false(f->guest.fpstate->in_use);
	img = f->guest.fpstate->regs + XMM_OFFSET + 5 * 16;
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(img[i], 0xC0 + i);
	assert_true(ld64(f->guest.fpstate->regs + XSTATE_BV_OFF) & 0x2);
	/* The vCPU teardown frees it: no WARN, no -EBUSY (§6 fpu_free_guest_fpstate). */
	assert_int_equal(vx_fpu_free_guest_fpstate(&f->guest, &err), 0);
	assert_int_equal(vx_fpu_machine_warnings(f->m), 0);
	vx_fpu_machine_destroy(f->m);
	vx_fpu_system_destroy(f->sys);
}

static void test_exec_puts_running_guest(void **state)
{
	struct exec_fixture f;

	(void)state;
	exec_setup(&f, "sapphire-rapids");
	exec_check(&f);
}

/* The vCPU thread was preempted inside KVM_RUN: switch_fpu saved the guest's registers. */
static void test_exec_puts_preempted_guest(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct exec_fixture f;

	(void)state;
	exec_setup(&f, "zen4");
	ft_check(vx_fpu_cpu_idle(f.m, 1, &err), &err, "preempt");
	assert_int_equal(ft_info(f.vmm).cpu, -1);
	exec_check(&f);
}

/* The exec'ing thread itself inside KVM_RUN is a caller error: -EBUSY, nothing changes. */
static void test_exec_in_guest_refused(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct exec_fixture f;

	(void)state;
	exec_setup(&f, "sapphire-rapids");
	assert_int_equal(vx_fpu_task_exec(f.vmm, &err), -EBUSY);
	assert_int_equal(vx_fpu_process_threads(vx_fpu_task_process(f.leader)), 2);
	assert_true(f.guest.fpstate->in_use);
	ft_check(vx_fpu_swap_kvm_fpstate(f.vmm, &f.guest, false, &err), &err, "exit");
	ft_check(vx_fpu_free_guest_fpstate(&f.guest, &err), &err, "free");
	vx_fpu_machine_destroy(f.m);
	vx_fpu_system_destroy(f.sys);
}

/* ----------------------------------------------------------------------------------------- */
/* 3. ptrace regsets of a task                                                                 */

struct ptrace_fixture {
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *m;
	struct vx_fpu_task *tracee;
	uint8_t *buf;
	uint32_t size;
};

/* The tracee wrote xmm3 on CPU 0 and stopped there: CPU 0 still holds its registers. */
static void ptrace_setup(struct ptrace_fixture *f)
{
	struct vx_error err = VX_ERROR_INIT;
	size_t len;

	memset(f, 0, sizeof(*f));
	f->sys = ft_boot("sapphire-rapids", VX_FPU_CET_DEFAULT, NULL);
	f->m = ft_machine(f->sys, 2);
	f->tracee = ft_spawn(f->m);
	ft_schedule(f->tracee, 0);
	ft_write(f->tracee, "xmm3", 0x10);
	ft_check(vx_fpu_cpu_idle(f->m, 0, &err), &err, "stop");
	assert_int_equal(ft_info(f->tracee).last_cpu, 0);
	f->size = vx_fpu_regset_size(f->sys, VX_NT_X86_XSTATE);
	f->buf = calloc(1, f->size);
	assert_non_null(f->buf);
	len = f->size;
	ft_check(vx_fpu_task_ptrace_getregset(f->tracee, VX_NT_X86_XSTATE, f->buf, &len, &err),
		 &err, "GETREGSET");
	assert_int_equal(len, f->size);
}

static void ptrace_teardown(struct ptrace_fixture *f)
{
	free(f->buf);
	vx_fpu_machine_destroy(f->m);
	vx_fpu_system_destroy(f->sys);
}

static void test_ptrace_set_reaches_registers(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct ptrace_fixture f;
	struct vx_fpu_percpu pc;

	(void)state;
	ptrace_setup(&f);
	/* GET: XMM3 as written, PKRU = thread.pkru (0x55555554, init_pkru_value) at 2688. */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(f.buf[XMM_OFFSET + 3 * 16 + i], 0x10 + i);
	assert_int_equal(ld32(f.buf + PKRU_STD_SPR), 0x55555554u);
	for (unsigned i = 0; i < 16; i++)
		f.buf[XMM_OFFSET + 3 * 16 + i] = (uint8_t)(0x70 + i);
	st32(f.buf + PKRU_STD_SPR, 0x5555555Cu);
	ft_check(vx_fpu_task_ptrace_setregset(f.tracee, VX_NT_X86_XSTATE, f.buf, f.size, &err),
		 &err, "SETREGSET");
	/* fpu_force_restore(): last_cpu = -1, while CPU 0 still calls the tracee its owner (the
	 * "same CPU, nobody else used it" fast path would keep the old registers, §8.2). */
	assert_int_equal(ft_info(f.tracee).last_cpu, -1);
	assert_int_equal(ft_info(f.tracee).pkru, 0x5555555Cu);
	assert_int_equal(vx_fpu_percpu_get(f.m, 0, &pc), 0);
	assert_ptr_equal(pc.owner, f.tracee);
	/* Back on the same CPU: the registers come from the new fpstate, PKRU from thread.pkru. */
	ft_schedule(f.tracee, 0);
	assert_true(ft_reads(f.tracee, "xmm3", 0x70));
	{
		uint32_t pkru = 0;

		ft_check(vx_fpu_task_get_reg(f.tracee, ft_reg("pkru"), &pkru, 4, &err), &err,
			 "pkru");
		assert_int_equal(pkru, 0x5555555Cu);
	}
	ptrace_teardown(&f);
}

/* §7.2 (test expectation 57): a SET whose header lacks PKRU sets thread.pkru to 0. */
static void test_ptrace_set_without_pkru_bit(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct ptrace_fixture f;
	uint64_t bv;

	(void)state;
	ptrace_setup(&f);
	bv = ld64(f.buf + XSTATE_BV_OFF) & ~(UINT64_C(1) << 9);
	st64(f.buf + XSTATE_BV_OFF, bv);
	ft_check(vx_fpu_task_ptrace_setregset(f.tracee, VX_NT_X86_XSTATE, f.buf, f.size, &err),
		 &err, "SETREGSET");
	assert_int_equal(ft_info(f.tracee).pkru, 0);
	ptrace_teardown(&f);
}

/* NT_PRFPREG goes through the same fpu_force_restore(). */
static void test_ptrace_fpreg_set_reaches_registers(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct ptrace_fixture f;
	uint8_t fx[512];
	size_t len = sizeof(fx);

	(void)state;
	ptrace_setup(&f);
	ft_check(vx_fpu_task_ptrace_getregset(f.tracee, VX_NT_PRFPREG, fx, &len, &err), &err,
		 "GETREGSET fpreg");
	assert_int_equal(len, 512);
	for (unsigned i = 0; i < 16; i++)
		fx[XMM_OFFSET + 3 * 16 + i] = (uint8_t)(0x30 + i);
	ft_check(vx_fpu_task_ptrace_setregset(f.tracee, VX_NT_PRFPREG, fx, sizeof(fx), &err), &err,
		 "SETREGSET fpreg");
	assert_int_equal(ft_info(f.tracee).last_cpu, -1);
	assert_int_equal(ft_info(f.tracee).pkru, 0x55555554u);
	ft_schedule(f.tracee, 0);
	assert_true(ft_reads(f.tracee, "xmm3", 0x30));
	ptrace_teardown(&f);
}

/* A refused SET and a running tracee change nothing. */
static void test_ptrace_refusals(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task_info before, after;
	struct ptrace_fixture f;
	uint8_t *image;
	size_t len;

	(void)state;
	ptrace_setup(&f);
	before = ft_info(f.tracee);
	image = malloc(before.fpstate->size);
	assert_non_null(image);
	memcpy(image, before.fpstate->regs, before.fpstate->size);
	/* An XSTATE_BV bit outside user_xfeatures (PT, bit 8): -EINVAL (§7.2 (a)). */
	st64(f.buf + XSTATE_BV_OFF, ld64(f.buf + XSTATE_BV_OFF) | 0x100);
	st32(f.buf + PKRU_STD_SPR, 0);
	assert_int_equal(
	    vx_fpu_task_ptrace_setregset(f.tracee, VX_NT_X86_XSTATE, f.buf, f.size, &err), -EINVAL);
	after = ft_info(f.tracee);
	assert_int_equal(after.last_cpu, before.last_cpu);
	assert_int_equal(after.pkru, before.pkru);
	assert_memory_equal(after.fpstate->regs, image, before.fpstate->size);
	/* A tracee that runs is not stopped: -ESRCH for both requests (ptrace_check_attach). */
	ft_schedule(f.tracee, 1);
	len = f.size;
	assert_int_equal(
	    vx_fpu_task_ptrace_getregset(f.tracee, VX_NT_X86_XSTATE, f.buf, &len, &err), -ESRCH);
	st64(f.buf + XSTATE_BV_OFF, 0x2);
	assert_int_equal(
	    vx_fpu_task_ptrace_setregset(f.tracee, VX_NT_X86_XSTATE, f.buf, f.size, &err), -ESRCH);
	assert_true(ft_reads(f.tracee, "xmm3", 0x10));
	assert_int_equal(vx_fpu_task_ptrace_setregset(NULL, VX_NT_X86_XSTATE, f.buf, f.size, &err),
			 -EINVAL);
	free(image);
	ptrace_teardown(&f);
}

/* A vCPU thread switched out inside KVM_RUN is not in a ptrace stop: -ESRCH. */
static void test_ptrace_inside_guest(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct exec_fixture f;
	uint8_t fx[512];
	size_t len = sizeof(fx);

	(void)state;
	exec_setup(&f, "sapphire-rapids");
	ft_check(vx_fpu_cpu_idle(f.m, 1, &err), &err, "preempt");
	assert_int_equal(vx_fpu_task_ptrace_getregset(f.vmm, VX_NT_PRFPREG, fx, &len, &err),
			 -ESRCH);
	exec_check(&f);
}

/* ----------------------------------------------------------------------------------------- */
/* 4. The fault of a sigreturn restore is its reason                                            */

/*
 * A frame whose XSTATE_BV has bit 8 (PT, a supervisor bit, never in XCR0): sigreturn's
 * XRSTOR64 at CPL3 raises #GP(0) (arch.md §5.5: a standard-form XSTATE_BV bit outside XCR0),
 * the outcome is "segv" (linux-fpu.md §8.4), and the reason names that fault.
 */
static void test_sigreturn_fault_reason(void **state)
{
	struct vx_fpu_system *sys = ft_boot("sapphire-rapids", VX_FPU_CET_DEFAULT, NULL);
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_task *t = ft_spawn(m);
	enum vx_sigreturn_outcome outcome = VX_SIGRETURN_XSTATE;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task_info info;
	uint32_t size;
	uint8_t *frame;

	(void)state;
	ft_schedule(t, 0);
	ft_check(vx_fpu_task_return_to_user(t, &err), &err, "return");
	info = ft_info(t);
	size = vx_fpu_sigframe_size(sys, info.fpstate);
	frame = aligned_alloc(64, (size + 63u) & ~63u);
	assert_non_null(frame);
	ft_check(vx_fpu_copy_fpstate_to_sigframe(sys, vx_fpu_machine_cpu(m, 0), info.fpstate,
						 info.pkru, frame, size, &err),
		 &err, "signal frame");
	st64(frame + XSTATE_BV_OFF, ld64(frame + XSTATE_BV_OFF) | 0x100);
	ft_check(vx_fpu_restore_sig(sys, vx_fpu_machine_cpu(m, 0), info.fpstate, frame, size,
				    &outcome, &err),
		 &err, "sigreturn");
	assert_int_equal(outcome, VX_SIGRETURN_SEGV);
	if (!strstr(err.reason, "#GP(0)"))
		fail_msg("the reason does not name the #GP(0): %s", err.reason);
	free(frame);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xsaves_keeps_mxcsr_change),
	    cmocka_unit_test(test_switch_keeps_mxcsr_change),
	    cmocka_unit_test(test_exec_puts_running_guest),
	    cmocka_unit_test(test_exec_puts_preempted_guest),
	    cmocka_unit_test(test_exec_in_guest_refused),
	    cmocka_unit_test(test_ptrace_set_reaches_registers),
	    cmocka_unit_test(test_ptrace_set_without_pkru_bit),
	    cmocka_unit_test(test_ptrace_fpreg_set_reaches_registers),
	    cmocka_unit_test(test_ptrace_refusals),
	    cmocka_unit_test(test_ptrace_inside_guest),
	    cmocka_unit_test(test_sigreturn_fault_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
