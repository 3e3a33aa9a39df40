/* SPDX-License-Identifier: MIT */
/*
 * SMM and CET (kvm.md §7.3, arch/x86/kvm/smm.c): an SMI writes the 64-bit SMRAM state-save
 * image, SSP at 0xFF18 when the vCPU has SHSTK, and enters SMM with CR4 = 0, so CET is off in
 * SMM; RSM restores CR4, CR0, EFER and SSP from the image, refusing what the MOV-to-CR and MSR
 * rules refuse.  S_CET and PLx_SSP are not in SMRAM: they keep their values through SMM.  The
 * image is the caller's 512 bytes for SMBASE + 0xFE00 .. 0xFFFF (offset = field - 0xFE00),
 * little-endian.
 */
#include <stdio.h>

#include <vxsave/kvm_emulate.h>

#include "kvm/kvm_internal.h"

#define RULE	      "kvm.md §7.3"
#define CR0_PG	      VX_BIT(31)
#define SMM_CR0_CLEAR (VX_CR0_PE | VX_CR0_EM | VX_CR0_TS | CR0_PG)

static uint64_t get64(const uint8_t *smram, unsigned field)
{
	const uint8_t *p = smram + (field - VX_KVM_SMRAM64_BASE);
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put64(uint8_t *smram, unsigned field, uint64_t v)
{
	uint8_t *p = smram + (field - VX_KVM_SMRAM64_BASE);

	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

bool vx_kvm_vcpu_in_smm(const struct vx_kvm_vcpu *vcpu)
{
	return vcpu && vcpu->smm;
}

static int smm_args(const struct vx_kvm_vcpu *v, const uint8_t *smram, size_t len,
		    struct vx_error *err)
{
	if (!v || !smram || len < VX_KVM_SMRAM_SIZE)
		return vx_error_set(err, -EINVAL, RULE,
				    "SMM needs a vCPU and a %u-byte SMRAM image (got %zu bytes)",
				    VX_KVM_SMRAM_SIZE, smram ? len : 0);
	if (v->in_run)
		return vx_error_set(err, -EBUSY, RULE, "vCPU %u is inside KVM_RUN", v->id);
	/* A vCPU without LM uses the 32-bit image, which has no SSP. */
	if (!vx_kvm_vcpu_cap_has(v, VX_KF_LM))
		return vx_error_set(err, -EOPNOTSUPP, RULE,
				    "vCPU %u has no LM: the 32-bit SMRAM image is not modelled",
				    v->id);
	return 0;
}

/* CR0 and CR4 through KVM's checks.  @rsm: CR4 then CR0 as the emulator's MOV to CR
 * (rsm_enter_protected_mode); else (SMI) CR0 then CR4 stored as the vendor callbacks store them
 * (no check can fail there: PG is cleared and CR4 is 0). */
static int set_crs(struct vx_kvm_vcpu *v, bool rsm, uint64_t cr0, uint64_t cr4,
		   struct vx_error *why)
{
	int rc = rsm ? vx_kvm_vcpu_set_cr4(v, false, cr4, NULL, why)
		     : vx_kvm_vcpu_set_cr0(v, true, cr0, NULL, why);

	if (rc == 0)
		rc = rsm ? vx_kvm_vcpu_set_cr0(v, false, cr0, NULL, why)
			 : vx_kvm_vcpu_set_cr4(v, true, cr4, NULL, why);
	return rc;
}

int vx_kvm_vcpu_smi(struct vx_kvm_vcpu *vcpu, uint8_t *smram, size_t len, struct vx_error *err)
{
	struct vx_error why = VX_ERROR_INIT;
	uint64_t ssp = 0;
	int rc = smm_args(vcpu, smram, len, err);

	if (rc)
		return rc;
	if (vcpu->smm)
		return vx_error_set(err, -EBUSY, RULE, "vCPU %u is already in SMM", vcpu->id);
	/* SSP with the SHSTK cap; a failed read requests a triple fault (smm.c:273-275). */
	if (vx_kvm_vcpu_cap_has(vcpu, VX_KF_SHSTK))
		rc = vx_kvm_vcpu_get_msr(vcpu, true, VX_MSR_KVM_INTERNAL_GUEST_SSP, &ssp, &why);
	if (rc < 0)
		return vx_error_set(err, rc, why.rule, "SMI: %s", why.reason);
	if (rc) {
		vx_error_set(err, 0, RULE, "SMI: reading SSP failed (%s): triple fault",
			     why.reason);
		return VX_KVM_SMM_TRIPLE_FAULT;
	}
	memset(smram, 0, VX_KVM_SMRAM_SIZE);
	put64(smram, VX_KVM_SMRAM64_CR0, vcpu->cr0);
	put64(smram, VX_KVM_SMRAM64_CR4, vcpu->cr4);
	put64(smram, VX_KVM_SMRAM64_EFER, vcpu->efer);
	put64(smram, VX_KVM_SMRAM64_SSP, ssp);
	/* SMM entry: CR0 loses PE/EM/TS/PG, CR4 = 0 (smm.c:326): CET is off in SMM. */
	rc = set_crs(vcpu, false, vcpu->cr0 & ~SMM_CR0_CLEAR, 0, &why);
	if (rc)
		return vx_error_set(err, -EIO, RULE, "SMI: entering SMM: %s", why.reason);
	vcpu->efer = 0;
	vcpu->smm = true;
	return VX_KVM_SMM_OK;
}

struct smm_regs {
	uint64_t cr0, cr4, efer;
};

static int rsm_refused(struct vx_kvm_vcpu *v, const struct smm_regs *keep, struct vx_error *err,
		       const char *what, const char *why)
{
	v->cr0 = keep->cr0;
	(void)vx_kvm_vcpu_set_cr4(v, true, keep->cr4, NULL, NULL);
	v->efer = keep->efer;
	vx_error_set(err, 0, RULE, "RSM: %s refused (%s): X86EMUL_UNHANDLEABLE", what, why);
	return VX_KVM_SMM_UNHANDLEABLE;
}

int vx_kvm_vcpu_rsm(struct vx_kvm_vcpu *vcpu, const uint8_t *smram, size_t len,
		    struct vx_error *err)
{
	struct vx_error why = VX_ERROR_INIT;
	struct smm_regs keep;
	int rc = smm_args(vcpu, smram, len, err);

	if (rc)
		return rc;
	/* RSM outside SMM: #UD. */
	if (!vcpu->smm) {
		vx_error_set(err, 0, RULE, "RSM outside SMM: #UD");
		return VX_KVM_SMM_UD;
	}
	keep = (struct smm_regs){vcpu->cr0, vcpu->cr4, vcpu->efer};
	/* CR4 before CR0 (rsm_enter_protected_mode), each through the MOV-to-CR checks. */
	if (set_crs(vcpu, true, get64(smram, VX_KVM_SMRAM64_CR0), get64(smram, VX_KVM_SMRAM64_CR4),
		    &why))
		return rsm_refused(vcpu, &keep, err, "CR0/CR4", why.reason);
	vcpu->efer = get64(smram, VX_KVM_SMRAM64_EFER);
	/* SSP with the SHSTK cap, host-initiated (smm.c:565-567). */
	if (vx_kvm_vcpu_cap_has(vcpu, VX_KF_SHSTK) &&
	    vx_kvm_vcpu_set_msr(vcpu, true, VX_MSR_KVM_INTERNAL_GUEST_SSP,
				get64(smram, VX_KVM_SMRAM64_SSP), &why) != 0)
		return rsm_refused(vcpu, &keep, err, "SSP", why.reason);
	vcpu->smm = false;
	return VX_KVM_SMM_OK;
}
