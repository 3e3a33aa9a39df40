/* SPDX-License-Identifier: MIT */
/*
 * Where a guest's PL0-2_SSP live between KVM_RUN, preemption and return to user: the six CET_S
 * designs as one table of hooks (issue 8; kvm.md §6.4).  The XSAVE-managed designs
 * (unsupported, all-tasks, guest-only) have no hooks: the fpu layer's fpstate swap carries
 * CET_S (or there is none).  The kvm-* designs move the three MSRs by hand:
 *
 *   kvm-eager:       load at KVM_RUN entry and sched-in; save and zero at exit and sched-out.
 *   kvm-lazy:        as eager once the guest has written a non-zero value (writes are
 *                    intercepted until then, reads see the hardware's zero = the guest's zero).
 *   kvm-user-return: load at entry/sched-in unless the CPU still holds this vCPU's values;
 *                    nothing at exit/sched-out; the CPU's user-return notifier saves them and
 *                    restores the host's zero.  A vCPU that resumes on another CPU before the
 *                    old CPU's notifier ran loads its stale copy: its newer values are lost
 *                    (counted in design.lost), the model shows it rather than hiding it.
 * The host's value of PL0-2_SSP is 0: host supervisor shadow stacks are off (kvm.md §6.3).
 *
 * Test-only fault injection (struct vx_kvm_options.fault, issue 9): one skipped zeroing or save,
 * for the eval layer's checker tests; the XSAVE-managed designs get a put hook only for it.
 */
#include "kvm/kvm_internal.h"

static struct vx_cpu *pcpu(const struct vx_kvm_vcpu *vcpu, unsigned cpu)
{
	return vx_fpu_machine_cpu(vcpu->vm->kvm->machine, cpu);
}

/* Host-side RDMSR/WRMSR of PL0-2_SSP on @cpu (KVM's raw accesses, counted). */
static void save_pl(struct vx_kvm_vcpu *vcpu, unsigned cpu)
{
	for (unsigned i = 0; i < 3; i++) {
		uint64_t v = 0;

		(void)vx_cpu_msr_access(pcpu(vcpu, cpu), VX_MSR_HOST, VX_MSR_READ,
					VX_MSR_IA32_PL0_SSP + i, &v, NULL);
		vcpu->cet_sw.pl_ssp[i] = v;
		vcpu->design.msr_reads++;
	}
}

static void write_pl(struct vx_kvm_vcpu *vcpu, unsigned cpu, const uint64_t *values)
{
	for (unsigned i = 0; i < 3; i++) {
		uint64_t v = values[i];

		(void)vx_cpu_msr_access(pcpu(vcpu, cpu), VX_MSR_HOST, VX_MSR_WRITE,
					VX_MSR_IA32_PL0_SSP + i, &v, NULL);
		vcpu->design.msr_writes++;
	}
}

static const uint64_t host_pl[3] = {0, 0, 0};

/* A planted fault (enum vx_kvm_fault): true once, at the chance after @fault_at others. */
static bool fault_fires(struct vx_kvm *kvm, enum vx_kvm_fault fault)
{
	if (kvm->opts.fault != fault)
		return false;
	if (kvm->opts.fault_at > 0) {
		kvm->opts.fault_at--;
		return false;
	}
	kvm->opts.fault = VX_KVM_FAULT_NONE;
	return true;
}

static bool has_shstk(const struct vx_kvm_vcpu *vcpu)
{
	return vx_kvm_vcpu_cap_has(vcpu, VX_KF_SHSTK);
}

/* kvm-eager */
static void eager_load(struct vx_kvm_vcpu *vcpu, unsigned cpu)
{
	if (!has_shstk(vcpu))
		return;
	write_pl(vcpu, cpu, vcpu->cet_sw.pl_ssp);
	vcpu->cet_sw.loaded = true;
}

static void eager_put(struct vx_kvm_vcpu *vcpu, unsigned cpu)
{
	struct vx_kvm *kvm = vcpu->vm->kvm;

	if (!vcpu->cet_sw.loaded)
		return;
	if (!fault_fires(kvm, VX_KVM_FAULT_SKIP_SAVE))
		save_pl(vcpu, cpu);
	if (!fault_fires(kvm, VX_KVM_FAULT_SKIP_ZEROING))
		write_pl(vcpu, cpu, host_pl);
	vcpu->cet_sw.loaded = false;
}

/* kvm-lazy: nothing to move until the guest's first non-zero write (run.c sets passthrough). */
static void lazy_load(struct vx_kvm_vcpu *vcpu, unsigned cpu)
{
	if (vcpu->cet_sw.passthrough)
		eager_load(vcpu, cpu);
}

/* kvm-user-return */
static int owner_cpu(const struct vx_kvm *kvm, const struct vx_kvm_vcpu *vcpu)
{
	for (unsigned c = 0; c < vx_fpu_machine_ncpus(kvm->machine); c++)
		if (kvm->ur_owner[c] == vcpu)
			return (int)c;
	return -1;
}

static void ur_release(struct vx_kvm *kvm, unsigned cpu, bool save)
{
	struct vx_kvm_vcpu *owner = kvm->ur_owner[cpu];

	if (!owner)
		return;
	if (save)
		save_pl(owner, cpu);
	owner->cet_sw.loaded = false;
	kvm->ur_owner[cpu] = NULL;
}

static void ur_load(struct vx_kvm_vcpu *vcpu, unsigned cpu)
{
	struct vx_kvm *kvm = vcpu->vm->kvm;
	int old = owner_cpu(kvm, vcpu);

	if (!has_shstk(vcpu) || old == (int)cpu)
		return;
	/* Migrated before the old CPU's notifier ran: the newest values stay there (lost); that
	 * CPU keeps them, orphaned, until its notifier restores the host's. */
	if (old >= 0) {
		vcpu->design.lost++;
		kvm->ur_owner[old] = NULL;
	}
	/* Another vCPU's values here: save them before taking the CPU over. */
	ur_release(kvm, cpu, true);
	write_pl(vcpu, cpu, vcpu->cet_sw.pl_ssp);
	vcpu->cet_sw.loaded = true;
	kvm->ur_owner[cpu] = vcpu;
	kvm->ur_dirty[cpu] = true;
}

/* The user-return notifier: save the owner's values, then the host's zeros. */
static void ur_notify(struct vx_kvm *kvm, unsigned cpu)
{
	struct vx_kvm_vcpu *owner = kvm->ur_owner[cpu];
	uint64_t zero = 0;

	if (!kvm->ur_dirty[cpu])
		return;
	if (owner) {
		owner->design.user_returns++;
		owner->design.msr_writes += 3;
	}
	ur_release(kvm, cpu, !(owner && fault_fires(kvm, VX_KVM_FAULT_SKIP_SAVE)));
	kvm->ur_dirty[cpu] = false;
	if (fault_fires(kvm, VX_KVM_FAULT_SKIP_ZEROING))
		return;
	for (unsigned i = 0; i < 3; i++)
		(void)vx_cpu_msr_access(vx_fpu_machine_cpu(kvm->machine, cpu), VX_MSR_HOST,
					VX_MSR_WRITE, VX_MSR_IA32_PL0_SSP + i, &zero, NULL);
}

/* XSAVE-managed designs, planted SKIP_ZEROING only: after KVM_RUN put the guest fpstate (it is
 * no longer in use), load it again, as if the host's XRSTORS had not reset it (§8.3). */
static void xsave_fault_put(struct vx_kvm_vcpu *vcpu, unsigned cpu)
{
	struct vx_kvm *kvm = vcpu->vm->kvm;

	if (vcpu->gfpu.fpstate->in_use || !fault_fires(kvm, VX_KVM_FAULT_SKIP_ZEROING))
		return;
	(void)vx_fpstate_restore(kvm->fpu, pcpu(vcpu, cpu), vcpu->gfpu.fpstate,
				 vx_fpu_masks(kvm->fpu)->fpstate, NULL, NULL);
}

static bool lazy_intercepts(const struct vx_kvm_vcpu *vcpu)
{
	return !vcpu->cet_sw.passthrough;
}

struct design_hooks {
	void (*load)(struct vx_kvm_vcpu *vcpu, unsigned cpu);
	void (*put)(struct vx_kvm_vcpu *vcpu, unsigned cpu);
	void (*user_return)(struct vx_kvm *kvm, unsigned cpu);
	bool (*pl_write_intercepted)(const struct vx_kvm_vcpu *vcpu);
};

static const struct design_hooks hooks[VX_KVM_CET_DESIGN_COUNT] = {
    [VX_KVM_CET_UNSUPPORTED] = {NULL, xsave_fault_put, NULL, NULL},
    [VX_KVM_CET_ALL_TASKS] = {NULL, xsave_fault_put, NULL, NULL},
    [VX_KVM_CET_GUEST_ONLY] = {NULL, xsave_fault_put, NULL, NULL},
    [VX_KVM_CET_KVM_EAGER] = {eager_load, eager_put, NULL, NULL},
    [VX_KVM_CET_KVM_LAZY] = {lazy_load, eager_put, NULL, lazy_intercepts},
    [VX_KVM_CET_KVM_USER_RETURN] = {ur_load, NULL, ur_notify, NULL},
};

static const struct design_hooks *design_of(const struct vx_kvm *kvm)
{
	return &hooks[kvm->opts.design];
}

void vx_kvm_design_load(struct vx_kvm_vcpu *vcpu, unsigned cpu)
{
	const struct design_hooks *h = design_of(vcpu->vm->kvm);

	if (h->load)
		h->load(vcpu, cpu);
}

void vx_kvm_design_put(struct vx_kvm_vcpu *vcpu, unsigned cpu)
{
	const struct design_hooks *h = design_of(vcpu->vm->kvm);

	if (h->put)
		h->put(vcpu, cpu);
}

void vx_kvm_design_user_return(struct vx_kvm *kvm, unsigned cpu)
{
	const struct design_hooks *h = design_of(kvm);

	if (h->user_return)
		h->user_return(kvm, cpu);
}

bool vx_kvm_design_pl_write_intercepted(const struct vx_kvm_vcpu *vcpu)
{
	const struct design_hooks *h = design_of(vcpu->vm->kvm);

	return h->pl_write_intercepted && h->pl_write_intercepted(vcpu);
}

/* kvm-lazy's first non-zero write: stop intercepting and load the values now. */
void vx_kvm_design_pl_written(struct vx_kvm_vcpu *vcpu, unsigned cpu, uint64_t value)
{
	if (vcpu->vm->kvm->opts.design != VX_KVM_CET_KVM_LAZY || vcpu->cet_sw.passthrough ||
	    value == 0)
		return;
	vcpu->cet_sw.passthrough = true;
	eager_load(vcpu, cpu);
}

void vx_kvm_vcpu_design_counters(const struct vx_kvm_vcpu *vcpu,
				 struct vx_kvm_design_counters *counters)
{
	*counters = vcpu->design;
}
