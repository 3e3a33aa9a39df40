/* SPDX-License-Identifier: MIT */
/*
 * vxsave `kvm` layer: a vCPU's extended-state registers through the KVM ABI (kvm.md §3-§5):
 * XCR0 (KVM_GET/SET_XCRS and the guest's XSETBV), the MSRs (KVM_GET/SET_MSRS, guest
 * RDMSR/WRMSR, host-initiated vs guest rules, KVM_GET_MSR_INDEX_LIST), KVM_GET/SET_ONE_REG and
 * KVM_GET_REG_LIST, KVM_GET_XSAVE/KVM_GET_XSAVE2/KVM_SET_XSAVE through the fpu layer's uABI
 * conversion, and the CR0.WP/CR4.CET rules.  Where each CET register lives follows the
 * module's CET_S design (kvm.md §6.3; kvm.h).
 */
#ifndef VXSAVE_KVM_REGS_H
#define VXSAVE_KVM_REGS_H

#include <vxsave/kvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/* XCR0 (kvm.md §4)                                                                             */

#define VX_KVM_MAX_XCRS 16u

/** struct vx_kvm_xcrs - struct kvm_xcrs: @nr_xcrs entries of {xcr, value}, @flags. */
struct vx_kvm_xcrs {
	uint32_t nr_xcrs;
	uint32_t flags;
	struct {
		uint32_t xcr;
		uint64_t value;
	} xcrs[VX_KVM_MAX_XCRS];
};

/** KVM_GET_XCRS (§4.3): one entry {0, xcr0}, or none without host XSAVE. */
VX_API int vx_kvm_vcpu_get_xcrs(struct vx_kvm_vcpu *vcpu, struct vx_kvm_xcrs *xcrs,
				struct vx_error *err);
/** KVM_SET_XCRS (§4.3): -EINVAL for no host XSAVE, nr_xcrs > 16, flags, or a refused XCR0. */
VX_API int vx_kvm_vcpu_set_xcrs(struct vx_kvm_vcpu *vcpu, const struct vx_kvm_xcrs *xcrs,
				struct vx_error *err);
/**
 * vx_kvm_vcpu_guest_xsetbv() - the guest executes XSETBV at @cpl with ECX = @ecx (RCX[63:32]
 * ignored) and EDX:EAX = @value (§4.1, §4.2): 0, or 1 with @event = #UD (CR4.OSXSAVE = 0,
 * hardware priority) or #GP(0) (CPL > 0, __kvm_set_xcr refused).
 */
VX_API int vx_kvm_vcpu_guest_xsetbv(struct vx_kvm_vcpu *vcpu, unsigned cpl, uint64_t ecx,
				    uint64_t value, struct vx_event *event);

/* ----------------------------------------------------------------------------------------- */
/* Control registers (kvm.md §7.1 CR rules)                                                     */

/** Guest or host (KVM_SET_SREGS) write of CR0/CR4 with the CET rules; #GP / -EINVAL. */
VX_API int vx_kvm_vcpu_set_cr0(struct vx_kvm_vcpu *vcpu, bool host, uint64_t cr0,
			       struct vx_event *event, struct vx_error *err);
VX_API int vx_kvm_vcpu_set_cr4(struct vx_kvm_vcpu *vcpu, bool host, uint64_t cr4,
			       struct vx_event *event, struct vx_error *err);
VX_API uint64_t vx_kvm_vcpu_cr0(const struct vx_kvm_vcpu *vcpu);
VX_API uint64_t vx_kvm_vcpu_cr4(const struct vx_kvm_vcpu *vcpu);

/* ----------------------------------------------------------------------------------------- */
/* MSRs (kvm.md §3)                                                                             */

/* The synthetic index KVM uses for the guest SSP (not ABI; §3.2). */
#define VX_MSR_KVM_INTERNAL_GUEST_SSP 0x4b564dffu

/**
 * vx_kvm_vcpu_get_msr() / _set_msr() - one MSR access, host-initiated (@host: KVM_GET/SET_MSRS,
 * ONE_REG) or by the guest (RDMSR/WRMSR exits), with every rule of §3.1-§3.2: existence by
 * caps, "0 allowed if advertised" for the host, value checks, ignore_msrs.  Returns 0, or 1
 * (the access failed: #GP for a guest, a short count for KVM_GET/SET_MSRS) with the rule in
 * @err.  A failed read stores 0.
 */
VX_API int vx_kvm_vcpu_get_msr(struct vx_kvm_vcpu *vcpu, bool host, uint32_t index, uint64_t *data,
			       struct vx_error *err);
VX_API int vx_kvm_vcpu_set_msr(struct vx_kvm_vcpu *vcpu, bool host, uint32_t index, uint64_t data,
			       struct vx_error *err);

/** struct vx_kvm_msr_entry - struct kvm_msr_entry. */
struct vx_kvm_msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t data;
};

/**
 * KVM_GET_MSRS / KVM_SET_MSRS (§3.1): the number of entries processed before the first
 * failure (loading the guest FPU around XSTATE-managed MSRs), or a negative errno.
 */
VX_API int vx_kvm_vcpu_get_msrs(struct vx_kvm_vcpu *vcpu, struct vx_kvm_msr_entry *entries,
				uint32_t nmsrs, struct vx_error *err);
VX_API int vx_kvm_vcpu_set_msrs(struct vx_kvm_vcpu *vcpu, const struct vx_kvm_msr_entry *entries,
				uint32_t nmsrs, struct vx_error *err);

/**
 * KVM_GET_MSR_INDEX_LIST (§3.3): msrs_to_save (the XSAVE/CET MSRs this model knows, filtered
 * by the §3.3 rules) then emulated_msrs.  @n in: room; out: the count.  -E2BIG if too small
 * (@n set to the count, as KVM does).  KVM_GET_MSR_FEATURE_INDEX_LIST is the feature list.
 */
VX_API int vx_kvm_get_msr_index_list(const struct vx_kvm *kvm, uint32_t *indices, uint32_t *n,
				     struct vx_error *err);
VX_API int vx_kvm_get_msr_feature_index_list(const struct vx_kvm *kvm, uint32_t *indices,
					     uint32_t *n, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* ONE_REG (kvm.md §3.4)                                                                        */

#define VX_KVM_REG_X86		UINT64_C(0x2000000000000000)
#define VX_KVM_REG_SIZE_U64	UINT64_C(0x0030000000000000)
#define VX_KVM_X86_REG_TYPE_MSR 2u
#define VX_KVM_X86_REG_TYPE_KVM 3u
#define VX_KVM_REG_GUEST_SSP	0u
#define VX_KVM_X86_REG_MSR(msr)                                                                    \
	(VX_KVM_REG_X86 | VX_KVM_REG_SIZE_U64 | ((uint64_t)VX_KVM_X86_REG_TYPE_MSR << 32) | (msr))
#define VX_KVM_X86_REG_KVM(idx)                                                                    \
	(VX_KVM_REG_X86 | VX_KVM_REG_SIZE_U64 | ((uint64_t)VX_KVM_X86_REG_TYPE_KVM << 32) | (idx))

/** KVM_GET_ONE_REG / KVM_SET_ONE_REG (§3.4): -EINVAL for every refused id or access. */
VX_API int vx_kvm_vcpu_get_one_reg(struct vx_kvm_vcpu *vcpu, uint64_t id, uint64_t *value,
				   struct vx_error *err);
VX_API int vx_kvm_vcpu_set_one_reg(struct vx_kvm_vcpu *vcpu, uint64_t id, uint64_t value,
				   struct vx_error *err);
/** KVM_GET_REG_LIST (§3.4): @n in: room, out: the count; -E2BIG if too small. */
VX_API int vx_kvm_vcpu_get_reg_list(struct vx_kvm_vcpu *vcpu, uint64_t *ids, uint64_t *n,
				    struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* The XSAVE uABI (kvm.md §5)                                                                   */

#define VX_KVM_XSAVE_SIZE 4096u

/**
 * KVM_GET_XSAVE (@v2 false: -EINVAL if uabi_size > 4096, copies 4096 bytes) and
 * KVM_GET_XSAVE2 (@v2 true: uabi_size bytes; @len must hold them) (§5.1, §5.2).
 */
VX_API int vx_kvm_vcpu_get_xsave(struct vx_kvm_vcpu *vcpu, bool v2, uint8_t *buf, size_t len,
				 struct vx_error *err);
/** KVM_SET_XSAVE (§5.3): reads uabi_size bytes from @buf (@len must hold them). */
VX_API int vx_kvm_vcpu_set_xsave(struct vx_kvm_vcpu *vcpu, const uint8_t *buf, size_t len,
				 struct vx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_KVM_REGS_H */
