/* SPDX-License-Identifier: MIT */
/*
 * The MSR plumbing of msr.c that other kvm files use (kvm.md §3.1, §6.2): which MSRs are
 * XSTATE-managed, the U_CET/S_CET value rule, the canonical width, what KVM advertises, and
 * loading the guest FPU around a host-side access.
 */
#ifndef VXSAVE_SRC_KVM_MSR_INTERNAL_H
#define VXSAVE_SRC_KVM_MSR_INTERNAL_H

#include <vxsave/kvm_regs.h>

#include "kvm/kvm_internal.h"

/* is_xstate_managed_msr() (§3.1), with the CET_S design: PL0-2_SSP are not in the kvm-* ones. */
bool vx_kvm_is_xstate_managed_msr(const struct vx_kvm_vcpu *vcpu, uint32_t index);
/* kvm_is_valid_u_s_cet() (§3.1): false with the failed rule in @err (may be NULL). */
bool vx_kvm_is_valid_u_s_cet(const struct vx_kvm_vcpu *vcpu, uint64_t data, struct vx_error *err);
/* is_noncanonical_msr_address() (§3.1): 57 bits if KVM supports LA57, else 48. */
bool vx_kvm_is_noncanonical_msr_address(const struct vx_kvm *kvm, uint64_t address);
/* kvm_is_advertised_msr() (§3.1): in msrs_to_save or emulated_msrs (§3.3). */
bool vx_kvm_msr_advertised(const struct vx_kvm *kvm, uint32_t index);

/*
 * kvm_load_guest_fpu() / kvm_put_guest_fpu() around a host-side access (§3.1, §6.2).  If a
 * running thread already has the vCPU's guest fpstate installed (inside KVM_RUN, or an outer
 * KVM_GET/SET_MSRS), it is used as kvm_fpu_get() does (registers reloaded if needed);
 * otherwise vcpu->creator, scheduled onto a free model CPU if it is not running, swaps the
 * guest fpstate in.  @hold says what release undoes; @hold->cpu is where the guest's
 * registers are live.  -EBUSY if the guest fpstate is installed in a thread that is not
 * running (a vCPU preempted inside KVM_RUN holds the vCPU mutex) or no CPU can take the thread.
 */
struct vx_kvm_fpu_hold {
	struct vx_fpu_task *task;
	struct vx_cpu *cpu;
	bool swapped;
};
int vx_kvm_vcpu_hold_guest_fpu(struct vx_kvm_vcpu *vcpu, struct vx_kvm_fpu_hold *hold,
			       struct vx_error *err);
int vx_kvm_vcpu_release_guest_fpu(struct vx_kvm_vcpu *vcpu, struct vx_kvm_fpu_hold *hold,
				  struct vx_error *err);

#endif /* VXSAVE_SRC_KVM_MSR_INTERNAL_H */
