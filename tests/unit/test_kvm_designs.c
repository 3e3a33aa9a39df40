/* SPDX-License-Identifier: MIT */
/*
 * kvm layer: the six CET_S designs under random interleavings of vCPU threads, host tasks,
 * preemption and migration between model CPUs (issue 8, "Invariant tests over random
 * interleavings for all six designs on the SPR profile").  Each vCPU's guest writes its own
 * tagged values to PL0-2_SSP and reads them back; the test keeps what each guest last wrote,
 * independently of the model, and checks:
 *   - a guest reads back exactly what it last wrote (no CET_S value lost), except in a design
 *     that loses values by construction, where every mismatch must be matched by the model's
 *     own count of lost values (design.lost) - shown, not hidden;
 *   - after any host task returns to user mode, the CPU's PL0-2_SSP hold the host's 0 and the
 *     task's fpstate and signal frame contain no guest tag;
 *   - a guest never reads another guest's tag.
 * Seeds are fixed and printed.  Expected values come from the test's own bookkeeping.
 */
#include "kvm_test_util.h"

#include <vxsave/cpu_cet.h>
#include <vxsave/fpu_signal.h>
#include <vxsave/kvm_run.h>

#define NVCPU  3
#define NHOST  2
#define NOPS   48
#define STEPS  900
#define TAGBIT UINT64_C(0x00007f0000000000)

struct vcpu_slot {
	struct vx_kvm_vm *vm;
	struct vx_kvm_vcpu *vcpu;
	struct vx_fpu_task *thread;
	struct vx_kvm_guest_op ops[NOPS];
	struct vx_kvm_run run;
	uint64_t expect[3];
	unsigned mismatches;
	unsigned reads;
};

struct world {
	struct kt_env env;
	struct vx_fpu_task *vmm2; /* a second VMM process, for a second VM */
	struct vx_fpu_task *host[NHOST];
	struct vcpu_slot v[NVCPU];
	uint64_t rng;
	bool shstk;
};

static uint64_t rnd(struct world *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static uint64_t tag(unsigned vcpu, unsigned n)
{
	return TAGBIT | (uint64_t)(vcpu + 1) << 32 | (uint64_t)(n + 1) << 4;
}

static bool is_tag(uint64_t v)
{
	return (v & UINT64_C(0xffffff0000000000)) == TAGBIT;
}

/* A program: writes of fresh tags and reads of PL0-2_SSP at CPL0. */
static void make_program(struct world *w, unsigned i)
{
	for (unsigned n = 0; n < NOPS; n++) {
		struct vx_kvm_guest_op *op = &w->v[i].ops[n];

		memset(op, 0, sizeof(*op));
		op->op = (rnd(w) & 1) ? VX_KVM_GOP_WRMSR : VX_KVM_GOP_RDMSR;
		op->index = VX_MSR_IA32_PL0_SSP + (unsigned)(rnd(w) % 3);
		op->value = tag(i, n);
	}
	w->v[i].run.ops = w->v[i].ops;
	w->v[i].run.count = NOPS;
}

static void setup_vcpu(struct world *w, unsigned i, struct vx_fpu_task *vmm)
{
	struct vx_kvm_cpuid_entry ents[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	struct vcpu_slot *s = &w->v[i];
	uint32_t n = kt_supported(&w->env, ents, VX_KVM_MAX_CPUID_ENTRIES);

	s->vm = (i > 0 && vmm == w->env.vmm) ? w->v[0].vm : NULL;
	if (!s->vm)
		ft_check(vx_kvm_vm_create(w->env.kvm, vmm, &s->vm, &err), &err, "vm");
	ft_check(vx_kvm_vcpu_create(s->vm, vmm, i, &s->vcpu, &err), &err, "vcpu");
	ft_check(vx_kvm_vcpu_set_cpuid2(s->vcpu, vmm, ents, n, &err), &err, "cpuid");
	ft_check(vx_fpu_task_clone_thread(vmm, &s->thread, &err), &err, "vcpu thread");
	make_program(w, i);
}

static void world_up(struct world *w, enum vx_kvm_cet_design d, uint64_t seed)
{
	struct vx_error err = VX_ERROR_INIT;

	memset(w, 0, sizeof(*w));
	w->rng = seed;
	kt_up(&w->env, "sapphire-rapids", VX_KVM_VMX, d);
	ft_schedule(w->env.vmm, 0);
	w->vmm2 = ft_spawn(w->env.machine);
	ft_schedule(w->vmm2, 1);
	for (unsigned h = 0; h < NHOST; h++)
		w->host[h] = ft_spawn(w->env.machine);
	setup_vcpu(w, 0, w->env.vmm);
	setup_vcpu(w, 1, w->env.vmm);
	setup_vcpu(w, 2, w->vmm2);
	w->shstk = vx_kvm_vcpu_cap_has(w->v[0].vcpu, kt_feat("shstk"));
	(void)err;
}

/* What the executed op says about the guest's view. */
static void check_op(struct world *w, unsigned i, const struct vx_kvm_guest_op *op)
{
	struct vcpu_slot *s = &w->v[i];
	unsigned level = op->index - VX_MSR_IA32_PL0_SSP;
	bool faulted = s->run.event.kind != VX_EVENT_NONE;

	/* Without SHSTK the MSRs do not exist: every access is #GP (kvm.md §3.2). */
	assert_int_equal(faulted, !w->shstk);
	if (faulted)
		return;
	if (op->op == VX_KVM_GOP_WRMSR) {
		s->expect[level] = op->value;
		return;
	}
	s->reads++;
	if (s->run.value != s->expect[level])
		s->mismatches++;
	/* Never another guest's tag. */
	if (is_tag(s->run.value))
		assert_int_equal((s->run.value >> 32) & 0xff, i + 1);
}

static uint64_t pl_msr(struct world *w, unsigned cpu, unsigned level)
{
	uint64_t v = 0;

	(void)vx_cpu_msr_access(vx_fpu_machine_cpu(w->env.machine, cpu), VX_MSR_HOST, VX_MSR_READ,
				VX_MSR_IA32_PL0_SSP + level, &v, NULL);
	return v;
}

static bool bytes_have_tag(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 8 <= n; i += 4) {
		uint64_t v;

		memcpy(&v, p + i, 8);
		if (is_tag(v))
			return true;
	}
	return false;
}

/* A host task in user mode on @cpu sees none of a guest's CET_S state. */
static void check_host_view(struct world *w, struct vx_fpu_task *t, unsigned cpu)
{
	static _Alignas(64) uint8_t frame[16384];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task_info info;
	uint32_t size;

	for (unsigned l = 0; l < 3; l++)
		assert_int_equal(pl_msr(w, cpu, l), 0);
	vx_fpu_task_info(t, &info);
	assert_false(bytes_have_tag(info.fpstate->regs, info.fpstate->size));
	/* The signal frame a signal would get now (CET state is never in it, nor a tag). */
	size = vx_fpu_sigframe_size(w->env.sys, info.fpstate);
	memset(frame, 0, sizeof(frame));
	ft_check(
	    vx_fpu_copy_fpstate_to_sigframe(w->env.sys, vx_fpu_machine_cpu(w->env.machine, cpu),
					    info.fpstate, info.pkru, frame, sizeof(frame), &err),
	    &err, "sigframe");
	assert_false(bytes_have_tag(frame, size));
	/* What a tracer would read (NT_X86_XSTATE). */
	{
		size_t len = sizeof(frame);

		ft_check(vx_fpu_ptrace_getregset(w->env.sys, info.fpstate, info.pkru,
						 VX_NT_X86_XSTATE, frame, &len, &err),
			 &err, "ptrace");
		assert_false(bytes_have_tag(frame, len));
	}
}

static void step_vcpu(struct world *w)
{
	unsigned i = (unsigned)(rnd(w) % NVCPU), cpu = (unsigned)(rnd(w) % 2);
	unsigned budget = 1 + (unsigned)(rnd(w) % 3);
	struct vcpu_slot *s = &w->v[i];
	struct vx_error err = VX_ERROR_INIT;
	int rc;

	for (unsigned b = 0; b < budget; b++) {
		unsigned pc = s->run.pc;

		rc = vx_kvm_vcpu_run(s->vcpu, s->thread, cpu, &s->run, 1, &err);
		if (rc < 0)
			fail_msg("KVM_RUN vcpu %u: %d %s", i, rc, err.reason);
		check_op(w, i, &s->ops[pc]);
		if (rc != VX_KVM_RUN_PREEMPTED) {
			/* The thread returned to user mode: the CPU holds no guest value. */
			check_host_view(w, s->thread, cpu);
			s->run.pc = 0;
			return;
		}
	}
}

static void step_host(struct world *w)
{
	unsigned h = (unsigned)(rnd(w) % NHOST), cpu = (unsigned)(rnd(w) % 2);
	struct vx_error err = VX_ERROR_INIT;

	ft_check(vx_kvm_sched(w->env.kvm, w->host[h], cpu, &err), &err, "sched host");
	ft_check(vx_kvm_return_to_user(w->env.kvm, w->host[h], &err), &err, "return to user");
	check_host_view(w, w->host[h], cpu);
}

static void run_design(enum vx_kvm_cet_design d, uint64_t seed)
{
	struct vx_kvm_design_counters c;
	struct world w;
	unsigned mismatches = 0, reads = 0;
	uint64_t lost = 0;

	print_message("design %s seed 0x%llx\n", vx_kvm_cet_design_name(d),
		      (unsigned long long)seed);
	world_up(&w, d, seed);
	for (unsigned n = 0; n < STEPS; n++)
		(rnd(&w) % 3) ? step_vcpu(&w) : step_host(&w);
	for (unsigned i = 0; i < NVCPU; i++) {
		vx_kvm_vcpu_design_counters(w.v[i].vcpu, &c);
		mismatches += w.v[i].mismatches;
		reads += w.v[i].reads;
		lost += c.lost;
	}
	print_message("  reads %u mismatches %u lost %llu\n", reads, mismatches,
		      (unsigned long long)lost);
	/* SHSTK is offered in every design but "unsupported" (kvm.md §1.3). */
	assert_int_equal(w.shstk, d != VX_KVM_CET_UNSUPPORTED);
	/* Every mismatch is a loss the model itself reports; none in a sound design. */
	if (d == VX_KVM_CET_KVM_USER_RETURN)
		assert_true(mismatches == 0 || lost > 0);
	else
		assert_int_equal(mismatches + lost, 0);
	kt_down(&w.env);
}

static const uint64_t seeds[] = {UINT64_C(0x7658534156454449), 1, 2};

static void all_designs(void **state)
{
	(void)state;
	for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++)
		for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++)
			run_design((enum vx_kvm_cet_design)d, seeds[s]);
}

/* kvm-user-return loses by construction: a vCPU preempted on CPU 0 after a write and resumed
 * on CPU 1 before CPU 0 returns to user reads its older value. */
static void user_return_loses_on_migration(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_design_counters c;
	struct vcpu_slot *s;
	struct world w;

	(void)state;
	world_up(&w, VX_KVM_CET_KVM_USER_RETURN, 7);
	s = &w.v[0];
	s->ops[0] = (struct vx_kvm_guest_op){
	    .op = VX_KVM_GOP_WRMSR, .index = VX_MSR_IA32_PL0_SSP, .value = tag(0, 0)};
	s->ops[1] = (struct vx_kvm_guest_op){.op = VX_KVM_GOP_RDMSR, .index = VX_MSR_IA32_PL0_SSP};
	s->run.count = 2;
	assert_int_equal(vx_kvm_vcpu_run(s->vcpu, s->thread, 0, &s->run, 1, &err),
			 VX_KVM_RUN_PREEMPTED);
	assert_int_equal(vx_kvm_vcpu_run(s->vcpu, s->thread, 1, &s->run, 1, &err), VX_KVM_RUN_DONE);
	vx_kvm_vcpu_design_counters(s->vcpu, &c);
	assert_int_equal(c.lost, 1);
	assert_int_equal(s->run.value, 0); /* the guest sees its stale copy */
	kt_down(&w.env);
}

/*
 * A lost PL0_SSP shows as a guest kernel would see it (issue 8): the guest's kernel uses token
 * T0 (SETSSBSY marks it busy), later switches PL0_SSP to a fresh token T1 and is migrated.  Its
 * next SETSSBSY must use T1; a design that brought back the stale T0 hits the busy token: #CP(5)
 * (arch.md §7.7, §7.9).  Supervisor shadow-stack tokens are self-referencing (§7.5).
 */
#define SS_BASE UINT64_C(0x10000)
#define T0	(SS_BASE + 0xff8)
#define T1	(SS_BASE + 0x1ff8)

static void put_token(uint8_t *mem, uint64_t addr)
{
	uint64_t v = addr;

	memcpy(mem + (addr - SS_BASE), &v, 8);
}

static struct vx_kvm_guest_op gop(enum vx_kvm_gop kind, uint32_t index, uint64_t value)
{
	struct vx_kvm_guest_op op;

	memset(&op, 0, sizeof(op));
	op.op = kind;
	op.index = index;
	op.value = value;
	return op;
}

static int setssbsy_after_migration(enum vx_kvm_cet_design d, struct vx_event *ev)
{
	static uint8_t bytes[2 * VX_PAGE_SIZE];
	uint8_t attr[2] = {VX_PAGE_SHADOW_STACK, VX_PAGE_SHADOW_STACK};
	struct vx_cpu_memory mem = {{bytes, sizeof(bytes), SS_BASE}, attr, 2};
	struct vx_error err = VX_ERROR_INIT;
	struct vcpu_slot *s;
	struct world w;
	int rc;

	memset(bytes, 0, sizeof(bytes));
	put_token(bytes, T0);
	put_token(bytes, T1);
	world_up(&w, d, 11);
	s = &w.v[0];
	vx_kvm_vm_set_guest_memory(s->vm, &mem);
	s->ops[0] = gop(VX_KVM_GOP_MOV_CR0, 0, 0x80010011);	 /* PG|WP|ET|PE */
	s->ops[1] = gop(VX_KVM_GOP_MOV_CR4, 0, 0x840220);	 /* CET|OSXSAVE|OSFXSR|PAE */
	s->ops[2] = gop(VX_KVM_GOP_WRMSR, VX_MSR_IA32_S_CET, 1); /* SH_STK_EN */
	s->ops[3] = gop(VX_KVM_GOP_WRMSR, VX_MSR_IA32_PL0_SSP, T0);
	s->ops[4] = gop(VX_KVM_GOP_SETSSBSY, 0, 0);
	s->ops[5] = gop(VX_KVM_GOP_WRMSR, VX_MSR_IA32_PL0_SSP, T1);
	s->ops[6] = gop(VX_KVM_GOP_SETSSBSY, 0, 0);
	s->run.count = 7;
	/* CPU 0 up to the first SETSSBSY; then a host task returns to user there. */
	assert_int_equal(vx_kvm_vcpu_run(s->vcpu, s->thread, 0, &s->run, 5, &err),
			 VX_KVM_RUN_PREEMPTED);
	assert_int_equal(s->run.event.kind, VX_EVENT_NONE);
	ft_check(vx_kvm_sched(w.env.kvm, w.host[0], 0, &err), &err, "host on cpu 0");
	ft_check(vx_kvm_return_to_user(w.env.kvm, w.host[0], &err), &err, "host returns");
	/* Back on CPU 0: the kernel moves to T1, and is preempted again. */
	assert_int_equal(vx_kvm_vcpu_run(s->vcpu, s->thread, 0, &s->run, 1, &err),
			 VX_KVM_RUN_PREEMPTED);
	/* Resumed on CPU 1 before CPU 0 returns to user: the next SETSSBSY. */
	rc = vx_kvm_vcpu_run(s->vcpu, s->thread, 1, &s->run, 0, &err);
	assert_true(rc >= 0);
	*ev = s->run.event;
	kt_down(&w.env);
	return rc;
}

static void lost_pl0_ssp_is_a_cp(void **state)
{
	struct vx_event ev;

	(void)state;
	for (unsigned d = VX_KVM_CET_ALL_TASKS; d < VX_KVM_CET_DESIGN_COUNT; d++) {
		setssbsy_after_migration((enum vx_kvm_cet_design)d, &ev);
		print_message("design %s: %s\n", vx_kvm_cet_design_name(d),
			      ev.kind == VX_EVENT_NONE ? "SETSSBSY ok" : ev.reason);
		if (d == VX_KVM_CET_KVM_USER_RETURN) {
			assert_int_equal(ev.kind, VX_EVENT_EXCEPTION);
			assert_int_equal(ev.vector, VX_VEC_CP);
			assert_int_equal(ev.error_code, VX_CP_SETSSBSY);
		} else {
			assert_int_equal(ev.kind, VX_EVENT_NONE);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(all_designs),
	    cmocka_unit_test(user_return_loses_on_migration),
	    cmocka_unit_test(lost_pl0_ssp_is_a_cp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
