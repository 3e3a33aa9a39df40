/* SPDX-License-Identifier: MIT */
/*
 * The XSAVE uABI of a vCPU (kvm.md §5): KVM_GET_XSAVE, KVM_GET_XSAVE2 and KVM_SET_XSAVE over
 * the fpu layer's guest conversions (fpstate.h: vx_fpu_copy_guest_fpstate_to_uabi,
 * vx_fpu_copy_uabi_to_guest_fpstate; linux-fpu.md §7.1 item 7, §7.3).
 *
 * GET exports XSTATE_BV = saved XSTATE_BV ∩ user_xfeatures ∩ (guest_supported_xcr0 | FP | SSE)
 * with PKRU written from vcpu->pkru (§5.2).  SET checks XSTATE_BV against
 * kvm_caps.supported_xcr0 (not the guest's CPUID or XCR0), then every §7.2 check against the
 * guest fpstate's user_xfeatures, keeps the supervisor state, and takes PKRU into vcpu->pkru
 * only when its header bit is set (§5.3).  A host without XSAVE moves the FXSAVE image.
 *
 * This is 6.18.2: KVM_SET_XSAVE does not look at the guest's XFD (6.18.35 clears the XSTATE_BV
 * bits of XFD-disabled features first, and the fpu helper refuses any left, kvm.md §9).
 *
 * The model's VMs have no protected state (no SEV-ES/TDX VM types), so a confidential guest
 * fpstate gives 0 with nothing copied.  The ioctls run outside KVM_RUN (the vCPU mutex): while
 * the guest fpstate is installed in its thread they refuse with -EBUSY rather than read or
 * write an image the registers are about to overwrite.
 */
#include "kvm/regs_internal.h"

#define FP_SSE	   (VX_BIT(VX_COMP_X87) | VX_BIT(VX_COMP_SSE))
#define RULE_SIZES "kvm.md §5.1"

/* copy_to_user / memdup_user of @need bytes: a missing or short buffer is -EFAULT. */
static int user_buffer(const void *buf, size_t len, uint32_t need, const char *ioctl,
		       struct vx_error *err)
{
	if (buf && len >= need)
		return 0;
	if (err)
		err->offset = (int64_t)len;
	return vx_error_set(err, -EFAULT, RULE_SIZES, "%s: the buffer holds %zu bytes, %u needed",
			    ioctl, buf ? len : 0, need);
}

/* The vCPU mutex: no XSAVE ioctl while the guest fpstate is installed (inside KVM_RUN). */
static int not_running(const struct vx_kvm_vcpu *vcpu, const char *ioctl, struct vx_error *err)
{
	if (!vcpu->gfpu.fpstate->in_use)
		return 0;
	return vx_error_set(err, -EBUSY, "kvm.md §6.2",
			    "%s: vCPU %u's guest fpstate is installed (inside KVM_RUN)", ioctl,
			    vcpu->id);
}

int vx_kvm_vcpu_get_xsave(struct vx_kvm_vcpu *vcpu, bool v2, uint8_t *buf, size_t len,
			  struct vx_error *err)
{
	const struct vx_fpu_guest *g = &vcpu->gfpu;
	const char *ioctl = v2 ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE";
	uint32_t size = v2 ? g->uabi_size : VX_KVM_XSAVE_SIZE;
	int rc;

	/* KVM_GET_XSAVE cannot hold an enlarged (AMX) state: -EINVAL (§5.1). */
	if (!v2 && g->uabi_size > VX_KVM_XSAVE_SIZE)
		return vx_error_set(err, -EINVAL, RULE_SIZES,
				    "KVM_GET_XSAVE: uabi_size %u > %u (a dynamic feature is "
				    "enabled); use KVM_GET_XSAVE2",
				    g->uabi_size, VX_KVM_XSAVE_SIZE);
	rc = user_buffer(buf, len, size, ioctl, err);
	if (rc == 0)
		rc = not_running(vcpu, ioctl, err);
	if (rc)
		return rc;
	memset(buf, 0, size); /* the ioctl copies out a zeroed bounce buffer */
	/* Confidential fpstate, VM without protected state: 0, nothing copied (§5.1). */
	if (g->fpstate->is_confidential)
		return 0;
	/* Only features enabled for the guest are exported, FP and SSE always (§5.2). */
	return vx_fpu_copy_guest_fpstate_to_uabi(vcpu->vm->kvm->fpu, g->fpstate, buf, size,
						 vcpu->guest_supported_xcr0 | FP_SSE, vcpu->pkru,
						 err);
}

int vx_kvm_vcpu_set_xsave(struct vx_kvm_vcpu *vcpu, const uint8_t *buf, size_t len,
			  struct vx_error *err)
{
	struct vx_fpu_guest *g = &vcpu->gfpu;
	int rc = user_buffer(buf, len, g->uabi_size, "KVM_SET_XSAVE", err);

	if (rc == 0)
		rc = not_running(vcpu, "KVM_SET_XSAVE", err);
	if (rc)
		return rc;
	/* Confidential fpstate, VM without protected state: 0, nothing loaded (§5.1). */
	if (g->fpstate->is_confidential)
		return 0;
	/* XSTATE_BV ⊆ kvm_caps.supported_xcr0, then §7.2 against user_xfeatures; PKRU into
	 * vcpu->pkru only with its header bit (§5.3). */
	return vx_fpu_copy_uabi_to_guest_fpstate(vcpu->vm->kvm->fpu, g->fpstate, buf, g->uabi_size,
						 vcpu->vm->kvm->supported_xcr0, &vcpu->pkru, err);
}
