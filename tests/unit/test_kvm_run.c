/* SPDX-License-Identifier: MIT */
/*
 * kvm layer: KVM_RUN on the model CPUs (kvm.md §4.2, §6.2, §6.5, §8.5, §8.6): exits to
 * userspace and resuming, the XSETBV exit and the guest's XCR0 in force while it runs, guest
 * registers seen through KVM_GET_XSAVE2 and KVM_SET_XSAVE contents seen by the guest, PKRU
 * switched around VM entry, the AMX #NM path with XFD/XFD_ERR (§8.6 item 69, persisting across a
 * preemption), XSAVEC inside the guest, and the thread rules of the ioctl.  Offsets are the
 * standard ones of the sapphire-rapids profile's leaf 0xD (XMM0 at 160, YMM_Hi128 at 576).
 */
#include "kvm_test_util.h"

#include <vxsave/kvm_run.h>

#define SPR	  "sapphire-rapids"
#define CR0_GUEST UINT64_C(0x80010011) /* PG|WP|ET|PE */
#define CR4_XSAVE UINT64_C(0x40620)    /* OSXSAVE|OSXMMEXCPT|OSFXSR|PAE */

struct rt {
	struct kt_env env;
	struct vx_kvm_vm *vm;
	struct vx_kvm_vcpu *vcpu;
	struct vx_kvm_guest_op ops[16];
	struct vx_kvm_run run;
	unsigned n;
};

static struct vx_kvm_guest_op *add(struct rt *t, enum vx_kvm_gop kind, uint32_t index,
				   uint64_t value)
{
	struct vx_kvm_guest_op *op = &t->ops[t->n++];

	memset(op, 0, sizeof(*op));
	op->op = kind;
	op->index = index;
	op->value = value;
	t->run.ops = t->ops;
	t->run.count = t->n;
	return op;
}

static void rt_up(struct rt *t, bool amx)
{
	struct vx_kvm_cpuid_entry ents[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	uint64_t perm = 0;
	uint32_t n;

	memset(t, 0, sizeof(*t));
	kt_up(&t->env, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	if (amx)
		ft_check(vx_fpu_arch_prctl(t->env.vmm, VX_ARCH_REQ_XCOMP_GUEST_PERM,
					   VX_ARCH_XCOMP_TILEDATA, &perm, &err),
			 &err, "guest perm");
	n = kt_supported(&t->env, ents, VX_KVM_MAX_CPUID_ENTRIES);
	t->vcpu = kt_vcpu(&t->env, &t->vm, 0);
	ft_check(vx_kvm_vcpu_set_cpuid2(t->vcpu, t->env.vmm, ents, n, &err), &err, "cpuid");
	ft_schedule(t->env.vmm, 0);
}

static int rt_run(struct rt *t, unsigned budget)
{
	struct vx_error err = VX_ERROR_INIT;
	int rc = vx_kvm_vcpu_run(t->vcpu, t->env.vmm, 0, &t->run, budget, &err);

	if (rc < 0)
		fail_msg("KVM_RUN: %d %s", rc, err.reason);
	return rc;
}

/* Run one op and return the event it left. */
static struct vx_event step(struct rt *t)
{
	unsigned pc = t->run.pc;

	rt_run(t, 1);
	assert_int_equal(t->run.pc, pc + 1);
	return t->run.event;
}

static void exits_and_resume(void **state)
{
	struct rt t;

	(void)state;
	rt_up(&t, false);
	add(&t, VX_KVM_GOP_OUT, 0x3f8, 'A');
	add(&t, VX_KVM_GOP_HLT, 0, 0);
	assert_int_equal(rt_run(&t, 0), VX_KVM_RUN_EXIT);
	assert_int_equal(t.run.exit_reason, VX_KVM_EXIT_IO);
	assert_int_equal(t.run.pc, 1);
	assert_false(vx_kvm_vcpu_in_run(t.vcpu));
	assert_int_equal(rt_run(&t, 0), VX_KVM_RUN_EXIT);
	assert_int_equal(t.run.exit_reason, VX_KVM_EXIT_HLT);
	assert_int_equal(rt_run(&t, 0), VX_KVM_RUN_DONE);
	kt_down(&t.env);
}

/* §8.5 items 51, 53, 59: XSETBV from the guest, and the guest's XCR0 while it runs. */
static void xsetbv_in_guest(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_xcrs xcrs;
	struct vx_event ev;
	struct rt t;

	(void)state;
	rt_up(&t, false);
	add(&t, VX_KVM_GOP_XSETBV, 0, 0x7); /* CR4.OSXSAVE = 0: #UD first */
	add(&t, VX_KVM_GOP_MOV_CR0, 0, CR0_GUEST);
	add(&t, VX_KVM_GOP_MOV_CR4, 0, CR4_XSAVE);
	add(&t, VX_KVM_GOP_XSETBV, 0, 0x2); /* SSE without x87: #GP */
	add(&t, VX_KVM_GOP_XSETBV, 0, 0x7);
	add(&t, VX_KVM_GOP_XGETBV, 0, 0);
	add(&t, VX_KVM_GOP_XSETBV, 0, 0x3)->cpl = 3; /* CPL 3: #GP */
	ev = step(&t);
	assert_int_equal(ev.vector, VX_VEC_UD);
	step(&t);
	assert_int_equal(step(&t).kind, VX_EVENT_NONE);
	ev = step(&t);
	assert_int_equal(ev.vector, VX_VEC_GP);
	assert_int_equal(step(&t).kind, VX_EVENT_NONE);
	assert_int_equal(step(&t).kind, VX_EVENT_NONE);
	assert_int_equal(t.run.value, 0x7); /* XGETBV in the guest reads the guest's XCR0 */
	ev = step(&t);
	assert_int_equal(ev.vector, VX_VEC_GP);
	/* KVM_GET_XCRS after the run (the program ended: the thread left KVM_RUN). */
	ft_check(vx_kvm_vcpu_get_xcrs(t.vcpu, &xcrs, &err), &err, "get xcrs");
	assert_int_equal(xcrs.nr_xcrs, 1);
	assert_int_equal(xcrs.xcrs[0].value, 0x7);
	/* The host's XCR0 is back on the CPU. */
	assert_int_equal(vx_cpu_xcr0(vx_fpu_machine_cpu(t.env.machine, 0)),
			 vx_fpu_cpu_setup(t.env.sys)->xcr0);
	kt_down(&t.env);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* Registers the guest loads are in KVM_GET_XSAVE2; KVM_SET_XSAVE contents reach the guest. */
static void registers_through_the_abi(void **state)
{
	static uint8_t xs[16384];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_guest_op *op;
	uint8_t want[32];
	struct rt t;

	(void)state;
	rt_up(&t, false);
	add(&t, VX_KVM_GOP_MOV_CR0, 0, CR0_GUEST);
	add(&t, VX_KVM_GOP_MOV_CR4, 0, CR4_XSAVE);
	add(&t, VX_KVM_GOP_XSETBV, 0, 0x7);
	op = add(&t, VX_KVM_GOP_SET_REG, 0, 0);
	op->cpl = 3;
	op->reg = ft_reg("xmm0");
	op->width = 16;
	fill(op->data, 16, 0x31);
	memcpy(want, op->data, 16);
	op = add(&t, VX_KVM_GOP_SET_REG, 0, 0);
	op->cpl = 3;
	op->reg = ft_reg("ymmh0");
	op->width = 16;
	fill(op->data, 16, 0x41);
	memcpy(want + 16, op->data, 16);
	assert_int_equal(rt_run(&t, 0), VX_KVM_RUN_DONE);
	ft_check(vx_kvm_vcpu_get_xsave(t.vcpu, true, xs, sizeof(xs), &err), &err, "xsave2");
	assert_memory_equal(xs + 160, want, 16);      /* XMM0 */
	assert_memory_equal(xs + 576, want + 16, 16); /* YMM0 upper half */
	assert_int_equal(xs[512] & 0x6, 0x6);	      /* XSTATE_BV has SSE and AVX */
	/* KVM_SET_XSAVE with another pattern; the guest reads it back. */
	fill(xs + 160, 16, 0x90);
	fill(xs + 576, 16, 0xa0);
	ft_check(vx_kvm_vcpu_set_xsave(t.vcpu, xs, sizeof(xs), &err), &err, "set xsave");
	t.n = 0;
	t.run.pc = 0;
	op = add(&t, VX_KVM_GOP_GET_REG, 0, 0);
	op->cpl = 3;
	op->reg = ft_reg("xmm0");
	op->width = 16;
	assert_int_equal(rt_run(&t, 0), VX_KVM_RUN_DONE);
	assert_memory_equal(t.run.data, xs + 160, 16);
	t.run.pc = 0;
	op->reg = ft_reg("ymmh0");
	assert_int_equal(rt_run(&t, 0), VX_KVM_RUN_DONE);
	assert_memory_equal(t.run.data, xs + 576, 16);
	kt_down(&t.env);
}

/* §8.6 item 69: tileloadd with XFD[18] = 1 → #NM; XFD_ERR = XFD = XTILE_DATA in the handler,
 * across a preemption; clearing both lets the instruction run. */
static void amx_nm_in_guest(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event ev;
	struct rt t;

	(void)state;
	rt_up(&t, true);
	add(&t, VX_KVM_GOP_MOV_CR0, 0, CR0_GUEST);
	add(&t, VX_KVM_GOP_MOV_CR4, 0, CR4_XSAVE);
	add(&t, VX_KVM_GOP_XSETBV, 0, 0x602e7);
	add(&t, VX_KVM_GOP_WRMSR, VX_MSR_IA32_XFD, 0x40000);
	add(&t, VX_KVM_GOP_USE, 0, 0)->components = 0x60000;
	add(&t, VX_KVM_GOP_RDMSR, VX_MSR_IA32_XFD_ERR, 0);
	add(&t, VX_KVM_GOP_RDMSR, VX_MSR_IA32_XFD, 0);
	add(&t, VX_KVM_GOP_WRMSR, VX_MSR_IA32_XFD_ERR, 0);
	add(&t, VX_KVM_GOP_WRMSR, VX_MSR_IA32_XFD, 0);
	add(&t, VX_KVM_GOP_USE, 0, 0)->components = 0x60000;
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(step(&t).kind, VX_EVENT_NONE);
	ev = step(&t);
	assert_int_equal(ev.kind, VX_EVENT_EXCEPTION);
	assert_int_equal(ev.vector, VX_VEC_NM);
	/* A host task runs on the CPU in between: XFD_ERR survives in guest_fpu.xfd_err. */
	{
		struct vx_fpu_task *h = ft_spawn(t.env.machine);

		ft_check(vx_kvm_sched(t.env.kvm, h, 0, &err), &err, "host");
		ft_check(vx_kvm_return_to_user(t.env.kvm, h, &err), &err, "host returns");
	}
	assert_int_equal(step(&t).kind, VX_EVENT_NONE);
	assert_int_equal(t.run.value, 0x40000);
	assert_int_equal(step(&t).kind, VX_EVENT_NONE);
	assert_int_equal(t.run.value, 0x40000);
	assert_int_equal(step(&t).kind, VX_EVENT_NONE);
	assert_int_equal(step(&t).kind, VX_EVENT_NONE);
	assert_int_equal(rt_run(&t, 0), VX_KVM_RUN_DONE);
	assert_int_equal(t.run.event.kind, VX_EVENT_NONE);
	kt_down(&t.env);
}

/* PKRU is switched around VM entry (kvm.md §6.2): the guest's value in vcpu->pkru, the host
 * thread's back on the CPU. */
static void pkru_switch(void **state)
{
	struct vx_fpu_task_info info;
	struct vx_kvm_guest_op *op;
	uint32_t host = 0, guest = 0x0000000c;
	struct rt t;

	(void)state;
	rt_up(&t, false);
	add(&t, VX_KVM_GOP_MOV_CR0, 0, CR0_GUEST);
	add(&t, VX_KVM_GOP_MOV_CR4, 0, CR4_XSAVE | VX_CR4_PKE);
	add(&t, VX_KVM_GOP_XSETBV, 0, 0x207);
	op = add(&t, VX_KVM_GOP_SET_REG, 0, 0);
	op->cpl = 3;
	op->reg = ft_reg("pkru");
	op->width = 4;
	memcpy(op->data, &guest, 4);
	op = add(&t, VX_KVM_GOP_GET_REG, 0, 0);
	op->reg = ft_reg("pkru");
	op->width = 4;
	assert_int_equal(rt_run(&t, 0), VX_KVM_RUN_DONE);
	assert_int_equal(t.run.value, guest);
	vx_fpu_task_info(t.env.vmm, &info);
	assert_int_equal(
	    vx_cpu_get_reg(vx_fpu_machine_cpu(t.env.machine, 0), ft_reg("pkru"), &host, 4), 0);
	assert_int_equal(host, info.pkru);
	kt_down(&t.env);
}

/* XSAVEC in the guest writes the guest's registers to guest memory (arch.md §5.3). */
static void xsavec_in_guest(void **state)
{
	static uint8_t bytes[VX_PAGE_SIZE];
	struct vx_cpu_memory mem = {{bytes, sizeof(bytes), 0x20000}, NULL, 1};
	struct vx_kvm_guest_op *op;
	struct rt t;
	uint64_t bv, comp;

	(void)state;
	rt_up(&t, false);
	vx_kvm_vm_set_guest_memory(t.vm, &mem);
	add(&t, VX_KVM_GOP_MOV_CR0, 0, CR0_GUEST);
	add(&t, VX_KVM_GOP_MOV_CR4, 0, CR4_XSAVE);
	add(&t, VX_KVM_GOP_XSETBV, 0, 0x7);
	op = add(&t, VX_KVM_GOP_SET_REG, 0, 0);
	op->reg = ft_reg("xmm1");
	op->width = 16;
	fill(op->data, 16, 0x55);
	op = add(&t, VX_KVM_GOP_XSAVE, VX_INSN_XSAVEC64, 0x3);
	op->addr = 0x20000;
	memset(bytes, 0, sizeof(bytes));
	assert_int_equal(rt_run(&t, 0), VX_KVM_RUN_DONE);
	assert_int_equal(t.run.event.kind, VX_EVENT_NONE);
	assert_memory_equal(bytes + 176, t.ops[3].data, 16); /* XMM1 at 160 + 16 */
	memcpy(&bv, bytes + 512, 8);
	memcpy(&comp, bytes + 520, 8);
	assert_int_equal(bv & 0x2, 0x2);
	assert_int_equal(comp, UINT64_C(0x8000000000000003));
	kt_down(&t.env);
}

static void thread_rules(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *other, *sibling;
	struct rt t;

	(void)state;
	rt_up(&t, false);
	add(&t, VX_KVM_GOP_OUT, 0x80, 0);
	add(&t, VX_KVM_GOP_OUT, 0x80, 0);
	add(&t, VX_KVM_GOP_OUT, 0x80, 0);
	other = ft_spawn(t.env.machine);
	assert_int_equal(vx_kvm_vcpu_run(t.vcpu, other, 1, &t.run, 0, &err), -EIO);
	assert_int_equal(rt_run(&t, 0), VX_KVM_RUN_EXIT);
	/* Preempted inside KVM_RUN: a sibling thread cannot enter the same vCPU. */
	t.run.pc = 0;
	assert_int_equal(vx_kvm_vcpu_run(t.vcpu, t.env.vmm, 0, &t.run, 0, &err), VX_KVM_RUN_EXIT);
	ft_check(vx_fpu_task_clone_thread(t.env.vmm, &sibling, &err), &err, "thread");
	t.run.pc = 0;
	t.ops[0].op = VX_KVM_GOP_XGETBV;
	assert_int_equal(vx_kvm_vcpu_run(t.vcpu, t.env.vmm, 0, &t.run, 1, &err),
			 VX_KVM_RUN_PREEMPTED);
	assert_int_equal(vx_kvm_vcpu_run(t.vcpu, sibling, 1, &t.run, 0, &err), -EBUSY);
	kt_down(&t.env);
}

/* INIT (kvm.md §3.2 initial values, §6.5 kvm_xstate_reset): the CET registers go to 0 wherever
 * the design keeps them; XCR0 survives. */
static void init_zeroes_cet(void **state)
{
	static const uint32_t msrs[] = {VX_MSR_IA32_U_CET,   VX_MSR_IA32_S_CET,
					VX_MSR_IA32_PL0_SSP, VX_MSR_IA32_PL2_SSP,
					VX_MSR_IA32_PL3_SSP, VX_MSR_IA32_INT_SSP_TAB};
	static const enum vx_kvm_cet_design designs[] = {
	    VX_KVM_CET_GUEST_ONLY, VX_KVM_CET_ALL_TASKS, VX_KVM_CET_KVM_EAGER};
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_xcrs xcrs = {.nr_xcrs = 1};
	uint64_t v;

	(void)state;
	xcrs.xcrs[0].value = 0x7;
	for (size_t d = 0; d < sizeof(designs) / sizeof(designs[0]); d++) {
		struct vx_kvm_cpuid_entry ents[VX_KVM_MAX_CPUID_ENTRIES];
		struct vx_kvm_vm *vm = NULL;
		struct vx_kvm_vcpu *vcpu;
		struct kt_env e;
		uint32_t n;

		kt_up(&e, SPR, VX_KVM_VMX, designs[d]);
		n = kt_supported(&e, ents, VX_KVM_MAX_CPUID_ENTRIES);
		vcpu = kt_vcpu(&e, &vm, 0);
		ft_check(vx_kvm_vcpu_set_cpuid2(vcpu, e.vmm, ents, n, &err), &err, "cpuid");
		ft_check(vx_kvm_vcpu_set_xcrs(vcpu, &xcrs, &err), &err, "xcrs");
		for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
			ft_check(vx_kvm_vcpu_set_msr(vcpu, true, msrs[i],
						     i < 2 ? 1 : 0x7f0000001000, &err),
				 &err, "host set msr");
		ft_check(vx_kvm_vcpu_get_msr(vcpu, true, VX_MSR_IA32_PL0_SSP, &v, &err), &err,
			 "get");
		assert_int_equal(v, 0x7f0000001000);
		ft_check(vx_kvm_vcpu_init_event(vcpu, &err), &err, "INIT");
		for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
			ft_check(vx_kvm_vcpu_get_msr(vcpu, true, msrs[i], &v, &err), &err, "get");
			assert_int_equal(v, 0);
		}
		ft_check(vx_kvm_vcpu_get_xcrs(vcpu, &xcrs, &err), &err, "get xcrs");
		assert_int_equal(xcrs.xcrs[0].value, 0x7);
		assert_int_equal(vx_kvm_vcpu_cr4(vcpu), 0);
		kt_down(&e);
	}
}

/* S_CET and SSP live in the VMCS/VMCB: the guest's value survives exits, the host's comes back
 * at every exit (kvm.md §6.3), through VMX's load-CET controls and SVM's VMRUN/#VMEXIT. */
static void vmcs_cet_round_trip(void **state)
{
	static const struct {
		const char *profile;
		enum vx_kvm_flavour flavour;
	} hosts[] = {{SPR, VX_KVM_VMX}, {"zen4", VX_KVM_SVM}};
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	for (size_t h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		struct vx_kvm_cpuid_entry ents[VX_KVM_MAX_CPUID_ENTRIES];
		struct vx_kvm_vm *vm = NULL;
		struct vx_kvm_guest_op ops[3];
		struct vx_kvm_run run;
		struct vx_kvm_vcpu *vcpu;
		struct kt_env e;
		uint64_t v = 0;
		uint32_t n;

		kt_up(&e, hosts[h].profile, hosts[h].flavour, VX_KVM_CET_GUEST_ONLY);
		n = kt_supported(&e, ents, VX_KVM_MAX_CPUID_ENTRIES);
		vcpu = kt_vcpu(&e, &vm, 0);
		ft_check(vx_kvm_vcpu_set_cpuid2(vcpu, e.vmm, ents, n, &err), &err, "cpuid");
		ft_schedule(e.vmm, 0);
		memset(ops, 0, sizeof(ops));
		ops[0].op = VX_KVM_GOP_WRMSR;
		ops[0].index = VX_MSR_IA32_S_CET;
		ops[0].value = 1; /* SH_STK_EN */
		ops[1].op = VX_KVM_GOP_OUT;
		ops[2].op = VX_KVM_GOP_RDMSR;
		ops[2].index = VX_MSR_IA32_S_CET;
		memset(&run, 0, sizeof(run));
		run.ops = ops;
		run.count = 3;
		assert_int_equal(vx_kvm_vcpu_run(vcpu, e.vmm, 0, &run, 0, &err), VX_KVM_RUN_EXIT);
		/* Between runs the CPU has the host's S_CET (0); the VMCS keeps the guest's. */
		(void)vx_cpu_msr_access(vx_fpu_machine_cpu(e.machine, 0), VX_MSR_HOST, VX_MSR_READ,
					VX_MSR_IA32_S_CET, &v, NULL);
		assert_int_equal(v, 0);
		ft_check(vx_kvm_vcpu_get_msr(vcpu, true, VX_MSR_IA32_S_CET, &v, &err), &err, "get");
		assert_int_equal(v, 1);
		assert_int_equal(vx_kvm_vcpu_run(vcpu, e.vmm, 0, &run, 0, &err), VX_KVM_RUN_DONE);
		assert_int_equal(run.value, 1);
		kt_down(&e);
	}
}

/* Quirk pvm-cpl0-emulated: on kvm_pvm the emulator stops at CPL0 XGETBV, VEX moves and x87
 * loads (KVM_EXIT_INTERNAL_ERROR, the program counter on the instruction); MOVDQU and CPL3 code
 * run (host-kvm.md, test_kvm_real_guest). */
static void pvm_cpl0_emulator_stops(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vcpu *vcpu;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_guest_op ops[3];
	struct vx_kvm_run run;
	struct kt_env e;

	(void)state;
	kt_up(&e, "zen4", VX_KVM_PVM, VX_KVM_CET_GUEST_ONLY);
	vcpu = kt_vcpu(&e, &vm, 0);
	ft_schedule(e.vmm, 0);
	memset(ops, 0, sizeof(ops));
	memset(&run, 0, sizeof(run));
	ops[0].op = VX_KVM_GOP_SET_REG; /* MOVDQU at CPL0: runs */
	ops[0].reg = ft_reg("xmm0");
	ops[0].width = 16;
	ops[1].op = VX_KVM_GOP_XGETBV; /* stops */
	ops[2].op = VX_KVM_GOP_HLT;
	run.ops = ops;
	run.count = 3;
	assert_int_equal(vx_kvm_vcpu_run(vcpu, e.vmm, 0, &run, 0, &err), VX_KVM_RUN_EXIT);
	assert_int_equal(run.exit_reason, VX_KVM_EXIT_INTERNAL_ERROR);
	assert_int_equal(run.pc, 1);
	ops[1].cpl = 3; /* the same XGETBV in user mode runs natively */
	assert_int_equal(vx_kvm_vcpu_run(vcpu, e.vmm, 0, &run, 0, &err), VX_KVM_RUN_EXIT);
	assert_int_equal(run.exit_reason, VX_KVM_EXIT_HLT);
	ops[0].reg = ft_reg("ymmh0"); /* VMOVDQU at CPL0: stops */
	run.pc = 0;
	assert_int_equal(vx_kvm_vcpu_run(vcpu, e.vmm, 0, &run, 0, &err), VX_KVM_RUN_EXIT);
	assert_int_equal(run.exit_reason, VX_KVM_EXIT_INTERNAL_ERROR);
	assert_int_equal(run.pc, 0);
	kt_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exits_and_resume),
	    cmocka_unit_test(xsetbv_in_guest),
	    cmocka_unit_test(registers_through_the_abi),
	    cmocka_unit_test(amx_nm_in_guest),
	    cmocka_unit_test(pkru_switch),
	    cmocka_unit_test(xsavec_in_guest),
	    cmocka_unit_test(thread_rules),
	    cmocka_unit_test(init_zeroes_cet),
	    cmocka_unit_test(vmcs_cet_round_trip),
	    cmocka_unit_test(pvm_cpl0_emulator_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
