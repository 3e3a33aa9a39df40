/* SPDX-License-Identifier: MIT */
/*
 * KVM_GET_ONE_REG / KVM_SET_ONE_REG and KVM_GET_REG_LIST on x86 (kvm.md §3.4): an id is
 * KVM_REG_X86 | size | (type << 32) | index; type MSR reaches any MSR as a host-initiated
 * access (through the same path as KVM_GET/SET_MSRS, so the guest FPU is loaded around
 * XSTATE-managed MSRs), type KVM has one register, GUEST_SSP, translated to the synthetic MSR
 * index.  Every refused id, and every refused access, is -EINVAL.
 */
#include "kvm/msr_internal.h"

/* struct kvm_x86_reg_id: index 31:0, type 39:32, rsvd1 47:40, rsvd2 51:48, size 55:52,
 * architecture 63:56 (uapi/asm/kvm.h:419-446). */
#define REG_ARCH_MASK UINT64_C(0xff00000000000000)
#define REG_SIZE_MASK UINT64_C(0x00f0000000000000)
#define REG_RSVD_MASK UINT64_C(0x000fff0000000000)
#define REG_TYPE(id)  ((uint32_t)((id) >> 32) & 0xffu)

static int bad_id(struct vx_error *err, uint64_t id, const char *why)
{
	vx_error_set(err, -EINVAL, "kvm.md §3.4 (x86.c:6133-6179)", "ONE_REG id 0x%llx: %s",
		     (unsigned long long)id, why);
	if (err)
		err->bits = id;
	return -EINVAL;
}

/* kvm_translate_kvm_reg(): type KVM → the MSR it stands for (x86.c:6084-6104). */
static int translate_kvm(const struct vx_kvm_vcpu *vcpu, uint64_t id, uint32_t *msr,
			 struct vx_error *err)
{
	/* GUEST_SSP is the only KVM-type register. */
	if ((uint32_t)id != VX_KVM_REG_GUEST_SSP)
		return bad_id(err, id, "type KVM has only KVM_REG_GUEST_SSP (index 0)");
	/* Checked here, not by the MSR path, so that ignore_msrs cannot fake success. */
	if (!vx_kvm_vcpu_cap_has(vcpu, VX_KF_SHSTK))
		return bad_id(err, id, "KVM_REG_GUEST_SSP needs the vCPU's SHSTK cap");
	*msr = VX_MSR_KVM_INTERNAL_GUEST_SSP;
	return 0;
}

/* The id checks of kvm_get_set_one_reg(), in its order; *msr is the MSR to access. */
static int translate(const struct vx_kvm_vcpu *vcpu, uint64_t id, uint32_t *msr,
		     struct vx_error *err)
{
	uint32_t type = REG_TYPE(id);
	int rc;

	*msr = (uint32_t)id;
	/* The architecture field must be KVM_REG_X86. */
	if ((id & REG_ARCH_MASK) != VX_KVM_REG_X86)
		return bad_id(err, id, "the architecture field is not KVM_REG_X86");
	/* rsvd1 and rsvd2 must be 0. */
	if (id & REG_RSVD_MASK)
		return bad_id(err, id, "reserved bits 51:40 are not 0");
	if (type == VX_KVM_X86_REG_TYPE_KVM) {
		rc = translate_kvm(vcpu, id, msr, err);
		if (rc)
			return rc;
		type = VX_KVM_X86_REG_TYPE_MSR;
	}
	/* After translation the type must be MSR. */
	if (type != VX_KVM_X86_REG_TYPE_MSR)
		return bad_id(err, id, "the type is neither MSR (2) nor KVM (3)");
	/* The size must be U64. */
	if ((id & REG_SIZE_MASK) != VX_KVM_REG_SIZE_U64)
		return bad_id(err, id, "the size is not KVM_REG_SIZE_U64");
	return 0;
}

/* The access itself failed (do_get_msr/do_set_msr): -EINVAL, the MSR path's reason kept. */
static int access_failed(struct vx_error *err, int count)
{
	char reason[VX_ERROR_REASON_MAX];

	if (count < 0)
		return count;
	if (!err)
		return -EINVAL;
	memcpy(reason, err->reason, sizeof(reason));
	vx_error_set(err, -EINVAL, err->rule, "%s", reason);
	return -EINVAL;
}

int vx_kvm_vcpu_get_one_reg(struct vx_kvm_vcpu *vcpu, uint64_t id, uint64_t *value,
			    struct vx_error *err)
{
	struct vx_kvm_msr_entry e = {0, 0, 0};
	int rc;

	if (!vcpu)
		return vx_error_set(err, -EINVAL, "kvm.md §3.4", "no vCPU");
	rc = translate(vcpu, id, &e.index, err);
	if (rc)
		return rc;
	/* A host-initiated read, the guest FPU loaded around XSTATE-managed MSRs. */
	rc = vx_kvm_vcpu_get_msrs(vcpu, &e, 1, err);
	if (rc != 1)
		return access_failed(err, rc);
	/* put_user() of the value fails → -EFAULT. */
	if (!value)
		return vx_error_set(err, -EFAULT, "kvm.md §3.4", "no place for the value");
	*value = e.data;
	return 0;
}

int vx_kvm_vcpu_set_one_reg(struct vx_kvm_vcpu *vcpu, uint64_t id, uint64_t value,
			    struct vx_error *err)
{
	struct vx_kvm_msr_entry e = {0, 0, value};
	int rc;

	if (!vcpu)
		return vx_error_set(err, -EINVAL, "kvm.md §3.4", "no vCPU");
	rc = translate(vcpu, id, &e.index, err);
	if (rc)
		return rc;
	/* do_set_msr(): a host-initiated write (no immutable feature MSR is modelled). */
	rc = vx_kvm_vcpu_set_msrs(vcpu, &e, 1, err);
	return rc == 1 ? 0 : access_failed(err, rc);
}

int vx_kvm_vcpu_get_reg_list(struct vx_kvm_vcpu *vcpu, uint64_t *ids, uint64_t *n,
			     struct vx_error *err)
{
	uint64_t count, room;

	if (!vcpu)
		return vx_error_set(err, -EINVAL, "kvm.md §3.4", "no vCPU");
	/* get_user(n) fails → -EFAULT. */
	if (!n)
		return vx_error_set(err, -EFAULT, "kvm.md §3.4", "no count");
	/* One register, GUEST_SSP, iff cap(SHSTK); MSRs are not enumerated (x86.c:6181-6201). */
	count = vx_kvm_vcpu_cap_has(vcpu, VX_KF_SHSTK) ? 1 : 0;
	room = *n;
	*n = count;
	/* The count is written back before the room check. */
	if (room < count)
		return vx_error_set(err, -E2BIG, "kvm.md §3.4", "room for %llu ids, %llu needed",
				    (unsigned long long)room, (unsigned long long)count);
	if (count && !ids)
		return vx_error_set(err, -EFAULT, "kvm.md §3.4", "no ids buffer");
	if (count)
		ids[0] = VX_KVM_X86_REG_KVM(VX_KVM_REG_GUEST_SSP);
	return 0;
}
