/* SPDX-License-Identifier: MIT */
/*
 * Nested virtualization and CET (kvm.md §7.2, §7.3): an L1 hypervisor is its vmcs12 (VMX) or
 * vmcb12 (SVM) and the state KVM keeps for it (struct vx_kvm_nested_vmx / _svm).  Entering L2
 * puts vmcs02's (vmcb02's) CET fields into the vCPU's VMCS-resident registers, so KVM_RUN then
 * executes L2; the exit brings L1's back.
 *
 * VMLAUNCH runs KVM's consistency checks as one table, in KVM's order: controls (VMfail 7),
 * host state (VMfail 8), guest state (a VM exit to L1 with reason 0x80000021).  They follow the
 * processor's own VM-entry checks (arch.md §7.11, vx_cpu_cet_vmentry_check) except that S_CET is
 * judged by kvm_is_valid_u_s_cet against L1's caps, which also refuses bits 13:12.
 */
#include <stddef.h>
#include <stdio.h>

#include <vxsave/kvm_emulate.h>

#include "kvm/kvm_internal.h"
#include "kvm/msr_internal.h"

#define ENTRY_LOAD_CET VX_VMX_ENTRY_LOAD_CET
#define EXIT_LOAD_CET  VX_VMX_EXIT_LOAD_CET
#define EXIT_HOST_64   VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE
#define FAILED_VMENTRY 0x80000000u

#define RULE_VMX "kvm.md §7.2"
#define RULE_SVM "kvm.md §7.3"

typedef unsigned long long ull;

/* ----------------------------------------------------------------------------------------- */
/* Capabilities and vmcs12 fields                                                               */

int vx_kvm_nested_vmx_get_caps(const struct vx_kvm *kvm, struct vx_kvm_nested_vmx_caps *caps,
			       struct vx_error *err)
{
	if (!kvm || !caps)
		return vx_error_set(err, -EINVAL, RULE_VMX, "NULL module or caps");
	if (kvm->opts.flavour != VX_KVM_VMX)
		return vx_error_set(err, -EINVAL, RULE_VMX, "nested VMX needs the VMX flavour");
	memset(caps, 0, sizeof(*caps));
	/* A 64-bit host always offers the host address-space size control. */
	caps->exit_ctls_allowed1 = EXIT_HOST_64;
	/* Load-CET controls: the host has them and KVM's caps have SHSTK or IBT
	 * (nested.c:7178-7228). */
	if (kvm->opts.vmx_load_cet &&
	    (vx_kvm_cap_has(kvm, VX_KF_SHSTK) || vx_kvm_cap_has(kvm, VX_KF_IBT))) {
		caps->entry_ctls_allowed1 |= ENTRY_LOAD_CET;
		caps->exit_ctls_allowed1 |= EXIT_LOAD_CET;
	}
	/* VMX_BASIC[56] when the host has it (nested.c:1290-1294, 7375-7376). */
	if (kvm->opts.vmx_basic_no_hw_errcode)
		caps->basic |= VX_VMX_BASIC_NO_HW_ERROR_CODE_CC;
	return 0;
}

/* vmx/vmcs12.h:120-125 and the offset checks at 303-306. */
static const struct vx_kvm_vmcs12_field vmcs12_fields[] = {
    {"host_s_cet", VX_VMCS_HOST_S_CET, 680},
    {"host_ssp", VX_VMCS_HOST_SSP, 688},
    {"host_ssp_tbl", VX_VMCS_HOST_INTR_SSP_TABLE, 696},
    {"guest_s_cet", VX_VMCS_GUEST_S_CET, 704},
    {"guest_ssp", VX_VMCS_GUEST_SSP, 712},
    {"guest_ssp_tbl", VX_VMCS_GUEST_INTR_SSP_TABLE, 720},
};

const struct vx_kvm_vmcs12_field *vx_kvm_vmcs12_cet_field(unsigned index)
{
	return index < sizeof(vmcs12_fields) / sizeof(vmcs12_fields[0]) ? &vmcs12_fields[index]
									: NULL;
}

bool vx_kvm_vcpu_guest_mode(const struct vx_kvm_vcpu *vcpu)
{
	return vcpu && vcpu->guest_mode;
}

/* ----------------------------------------------------------------------------------------- */
/* Consistency checks (nested.c:3103-3110, 3123, 3182-3200, 3261, 3313-3327)                    */

/* One check: the field, whether a control gates it, and the test (true = bad, @why said). */
struct cc_ctx {
	const struct vx_kvm_vcpu *vcpu;
	const struct vx_kvm_vmcs12 *c;
	char why[128];
};

typedef bool (*cc_bad)(struct cc_ctx *x, uint64_t value, uint64_t pair);

/* CR4.CET = 1 needs CR0.WP = 1 (@pair: CR0). */
static bool bad_cet_wp(struct cc_ctx *x, uint64_t cr4, uint64_t cr0)
{
	snprintf(x->why, sizeof(x->why), "CR4.CET = 1 with CR0.WP = 0");
	return (cr4 & VX_CR4_CET) && !(cr0 & VX_CR0_WP);
}

/* kvm_is_valid_u_s_cet() against L1's caps. */
static bool bad_s_cet(struct cc_ctx *x, uint64_t v, uint64_t pair)
{
	struct vx_error why = VX_ERROR_INIT;

	(void)pair;
	if (vx_kvm_is_valid_u_s_cet(x->vcpu, v, &why))
		return false;
	snprintf(x->why, sizeof(x->why), "kvm_is_valid_u_s_cet for L1's caps: %.88s", why.reason);
	return true;
}

static bool bad_align(struct cc_ctx *x, uint64_t v, uint64_t pair)
{
	(void)pair;
	snprintf(x->why, sizeof(x->why), "SSP bits 1:0 are not 0");
	return v & 3u;
}

static bool bad_canonical(struct cc_ctx *x, uint64_t v, uint64_t pair)
{
	(void)pair;
	snprintf(x->why, sizeof(x->why), "not canonical (is_noncanonical_msr_address)");
	return vx_kvm_is_noncanonical_msr_address(x->vcpu->vm->kvm, v);
}

/* Host S_CET and SSP: canonical for a 64-bit host, else bits 63:32 clear. */
static bool bad_host_width(struct cc_ctx *x, uint64_t v, uint64_t pair)
{
	(void)pair;
	if (x->c->vm_exit_controls & EXIT_HOST_64)
		return bad_canonical(x, v, 0);
	snprintf(x->why, sizeof(x->why), "bits 63:32 set for a 32-bit host");
	return v >> 32;
}

/* Guest SSP: bits 63:N identical, N the host's linear-address width (57 with LA57, else 48). */
static bool bad_guest_ssp_high(struct cc_ctx *x, uint64_t v, uint64_t pair)
{
	unsigned n = vx_kvm_cap_has(x->vcpu->vm->kvm, VX_KF_LA57) ? 57 : 48;
	uint64_t upper = v >> n;

	(void)pair;
	snprintf(x->why, sizeof(x->why), "SSP bits 63:%u are not identical", n);
	return upper != 0 && upper != (UINT64_MAX >> n);
}

enum cc_side { CC_HOST, CC_GUEST };

#define F(m) offsetof(struct vx_kvm_vmcs12, m)

static const struct cc_row {
	enum cc_side side;
	uint32_t gate; /* a vm_exit (host) or vm_entry (guest) control, 0 = always */
	uint32_t field;
	size_t offset;
	size_t pair; /* the CR0 paired with a CR4 */
	cc_bad bad;
} cc_rows[] = {
    {CC_HOST, 0, VX_VMCS_HOST_CR4, F(host_cr4), F(host_cr0), bad_cet_wp},
    {CC_HOST, EXIT_LOAD_CET, VX_VMCS_HOST_S_CET, F(host_cet.s_cet), 0, bad_s_cet},
    {CC_HOST, EXIT_LOAD_CET, VX_VMCS_HOST_SSP, F(host_cet.ssp), 0, bad_align},
    {CC_HOST, EXIT_LOAD_CET, VX_VMCS_HOST_INTR_SSP_TABLE, F(host_cet.ssp_tbl), 0, bad_canonical},
    {CC_HOST, EXIT_LOAD_CET, VX_VMCS_HOST_S_CET, F(host_cet.s_cet), 0, bad_host_width},
    {CC_HOST, EXIT_LOAD_CET, VX_VMCS_HOST_SSP, F(host_cet.ssp), 0, bad_host_width},
    {CC_GUEST, 0, VX_VMCS_GUEST_CR4, F(guest_cr4), F(guest_cr0), bad_cet_wp},
    {CC_GUEST, ENTRY_LOAD_CET, VX_VMCS_GUEST_S_CET, F(guest_cet.s_cet), 0, bad_s_cet},
    {CC_GUEST, ENTRY_LOAD_CET, VX_VMCS_GUEST_SSP, F(guest_cet.ssp), 0, bad_align},
    {CC_GUEST, ENTRY_LOAD_CET, VX_VMCS_GUEST_INTR_SSP_TABLE, F(guest_cet.ssp_tbl), 0,
     bad_canonical},
    {CC_GUEST, ENTRY_LOAD_CET, VX_VMCS_GUEST_SSP, F(guest_cet.ssp), 0, bad_guest_ssp_high},
};

#undef F

static uint64_t field_at(const struct vx_kvm_vmcs12 *c, size_t offset)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)c + offset, sizeof(v));
	return v;
}

static int cc_fail(struct vx_vmentry_failure *f, const struct cc_row *r, uint64_t value,
		   const char *why)
{
	f->field = r->field;
	f->value = value;
	f->rule = RULE_VMX;
	if (r->side == CC_HOST) {
		f->status = VX_VMENTRY_VMFAIL;
		f->vm_instruction_error = VX_VMX_ERROR_INVALID_HOST;
	} else {
		f->status = VX_VMENTRY_INVALID_GUEST;
		f->exit_reason = FAILED_VMENTRY | VX_EXIT_INVALID_GUEST_STATE;
	}
	snprintf(f->reason, sizeof(f->reason), "%s field 0x%x = 0x%llx: %.100s",
		 r->side == CC_HOST ? "VMfail (invalid host-state field)"
				    : "VM-entry failure (invalid guest state)",
		 r->field, (ull)value, why);
	return (int)f->status;
}

static int cc_side(const struct vx_kvm_vcpu *v, const struct vx_kvm_vmcs12 *c, enum cc_side side,
		   struct vx_vmentry_failure *f)
{
	uint32_t ctls = side == CC_HOST ? c->vm_exit_controls : c->vm_entry_controls;
	struct cc_ctx x = {v, c, ""};

	for (size_t i = 0; i < sizeof(cc_rows) / sizeof(cc_rows[0]); i++) {
		const struct cc_row *r = &cc_rows[i];
		uint64_t value = field_at(c, r->offset);

		if (r->side != side || (r->gate && !(ctls & r->gate)))
			continue;
		if (r->bad(&x, value, r->pair ? field_at(c, r->pair) : 0))
			return cc_fail(f, r, value, x.why);
	}
	return 0;
}

/* The load-CET controls must be ones KVM offers L1 (VMfail 7, invalid control field). */
static int cc_controls(const struct vx_kvm_vcpu *v, const struct vx_kvm_vmcs12 *c,
		       struct vx_vmentry_failure *f)
{
	struct vx_kvm_nested_vmx_caps caps;
	uint32_t bad;

	(void)vx_kvm_nested_vmx_get_caps(v->vm->kvm, &caps, NULL);
	bad = (c->vm_entry_controls & ENTRY_LOAD_CET & ~caps.entry_ctls_allowed1) |
	      (c->vm_exit_controls & EXIT_LOAD_CET & ~caps.exit_ctls_allowed1);
	if (!bad)
		return 0;
	f->status = VX_VMENTRY_VMFAIL;
	f->vm_instruction_error = VX_VMX_ERROR_INVALID_CONTROL;
	f->value = bad;
	f->rule = RULE_VMX;
	snprintf(f->reason, sizeof(f->reason),
		 "VMfail (invalid control field): load-CET control 0x%x not offered to L1", bad);
	return (int)f->status;
}

/* ----------------------------------------------------------------------------------------- */
/* Moving the CET fields (nested.c:2542-2566: only the fields the vCPU has)                     */

static bool has_s_cet(const struct vx_kvm_vcpu *v)
{
	return vx_kvm_vcpu_cap_has(v, VX_KF_SHSTK) || vx_kvm_vcpu_cap_has(v, VX_KF_IBT);
}

static bool has_ssp(const struct vx_kvm_vcpu *v)
{
	return vx_kvm_vcpu_cap_has(v, VX_KF_SHSTK);
}

/* @to gets @from's S_CET (SHSTK or IBT) and SSP/SSP_TBL (SHSTK); the rest stays. */
static void copy_cet(const struct vx_kvm_vcpu *v, struct vx_kvm_cet_state *to,
		     const struct vx_kvm_cet_state *from)
{
	if (has_s_cet(v))
		to->s_cet = from->s_cet;
	if (has_ssp(v)) {
		to->ssp = from->ssp;
		to->ssp_tbl = from->ssp_tbl;
	}
}

static struct vx_kvm_cet_state vcpu_cet(const struct vx_kvm_vcpu *v)
{
	return (struct vx_kvm_cet_state){v->vmcs.s_cet, v->vmcs.ssp, v->vmcs.int_ssp_tab};
}

static void set_vcpu_cet(struct vx_kvm_vcpu *v, const struct vx_kvm_cet_state *s)
{
	v->vmcs = (struct vx_kvm_vmcs_cet){s->s_cet, s->ssp, s->ssp_tbl};
}

/* load_vmcs12_host_state (nested.c:4881-4891): L1's CET from the host fields with
 * EXIT_LOAD_CET, else vmcs12's guest fields (L2's values carry over). */
static void load_host_cet(struct vx_kvm_vcpu *v, const struct vx_kvm_vmcs12 *c)
{
	struct vx_kvm_cet_state l1 = vcpu_cet(v);

	copy_cet(v, &l1, c->vm_exit_controls & EXIT_LOAD_CET ? &c->host_cet : &c->guest_cet);
	set_vcpu_cet(v, &l1);
}

/* ----------------------------------------------------------------------------------------- */
/* VMLAUNCH and the VM exit                                                                     */

static int nested_args(const struct vx_kvm_vcpu *v, const void *n, enum vx_kvm_flavour flavour,
		       bool want_l2, struct vx_error *err)
{
	const char *rule = flavour == VX_KVM_VMX ? RULE_VMX : RULE_SVM;

	if (!v || !n)
		return vx_error_set(err, -EINVAL, rule, "NULL vCPU or nested state");
	if (v->vm->kvm->opts.flavour != flavour)
		return vx_error_set(err, -EINVAL, rule, "the module is not the %s flavour",
				    vx_kvm_flavour_name(flavour));
	if (v->in_run)
		return vx_error_set(err, -EBUSY, rule, "vCPU %u is inside KVM_RUN", v->id);
	if (v->guest_mode != want_l2)
		return vx_error_set(err, -EINVAL, rule, "L2 is %srunning on vCPU %u",
				    v->guest_mode ? "already " : "not ", v->id);
	return 0;
}

/* VM entry (nested.c:2684-2686, 2728-2732, 3663-3667). */
static void enter_l2(struct vx_kvm_vcpu *v, struct vx_kvm_nested_vmx *n)
{
	bool load = n->vmcs12.vm_entry_controls & ENTRY_LOAD_CET;

	n->vmcs01 = vcpu_cet(v);
	/* Unless nested_run_pending (always, at VMLAUNCH) && ENTRY_LOAD_CET, L1's values are
	 * saved in pre_vmenter_*. */
	if (!load)
		copy_cet(v, &n->pre_vmenter, &n->vmcs01);
	/* vmcs02: vmcs12's guest fields with ENTRY_LOAD_CET, otherwise L1's. */
	copy_cet(v, &n->vmcs02, load ? &n->vmcs12.guest_cet : &n->pre_vmenter);
	set_vcpu_cet(v, &n->vmcs02);
	v->guest_mode = true;
	n->active = true;
}

int vx_kvm_nested_vmlaunch(struct vx_kvm_vcpu *vcpu, struct vx_kvm_nested_vmx *nested,
			   struct vx_vmentry_failure *fail, struct vx_error *err)
{
	int rc = fail ? nested_args(vcpu, nested, VX_KVM_VMX, false, err)
		      : vx_error_set(err, -EINVAL, RULE_VMX, "NULL failure record");

	if (rc)
		return rc;
	memset(fail, 0, sizeof(*fail));
	fail->cause = VX_CAUSE_NONE;
	rc = cc_controls(vcpu, &nested->vmcs12, fail);
	if (!rc)
		rc = cc_side(vcpu, &nested->vmcs12, CC_HOST, fail);
	if (!rc)
		rc = cc_side(vcpu, &nested->vmcs12, CC_GUEST, fail);
	if (rc == VX_VMENTRY_VMFAIL)
		return rc;
	/* A failed guest-state check: a VM exit to L1, host state loaded (nested.c, vmentry
	 * failure path). */
	if (rc == VX_VMENTRY_INVALID_GUEST) {
		nested->vmcs12.vm_exit_reason = fail->exit_reason;
		load_host_cet(vcpu, &nested->vmcs12);
		return rc;
	}
	enter_l2(vcpu, nested);
	return VX_VMENTRY_OK;
}

int vx_kvm_nested_vmexit(struct vx_kvm_vcpu *vcpu, struct vx_kvm_nested_vmx *nested,
			 uint32_t exit_reason, struct vx_error *err)
{
	int rc = nested_args(vcpu, nested, VX_KVM_VMX, true, err);

	if (rc)
		return rc;
	if (!nested->active)
		return vx_error_set(err, -EINVAL, RULE_VMX, "L2 runs for another nested state");
	nested->vmcs02 = vcpu_cet(vcpu);
	/* sync_vmcs02_to_vmcs12: the guest CET fields are always refreshed (nested.c:4753). */
	copy_cet(vcpu, &nested->vmcs12.guest_cet, &nested->vmcs02);
	nested->vmcs12.vm_exit_reason = exit_reason;
	set_vcpu_cet(vcpu, &nested->vmcs01);
	load_host_cet(vcpu, &nested->vmcs12);
	vcpu->guest_mode = false;
	nested->active = false;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Nested SVM (svm/nested.c:639-645, 1051-1055, 1123-1127)                                      */

static struct vx_cet_vmcb vcpu_vmcb(const struct vx_kvm_vcpu *v)
{
	return (struct vx_cet_vmcb){v->vmcs.s_cet, v->vmcs.ssp, v->vmcs.int_ssp_tab};
}

static void set_vcpu_vmcb(struct vx_kvm_vcpu *v, const struct vx_cet_vmcb *s)
{
	v->vmcs = (struct vx_kvm_vmcs_cet){s->s_cet, s->ssp, s->isst_addr};
}

int vx_kvm_nested_vmrun(struct vx_kvm_vcpu *vcpu, struct vx_kvm_nested_svm *nested,
			struct vx_error *err)
{
	int rc = nested_args(vcpu, nested, VX_KVM_SVM, false, err);
	bool new12;

	if (rc)
		return rc;
	new12 = !nested->last_valid || nested->vmcb12.gpa != nested->last_vmcb12_gpa;
	nested->vmcb01 = vcpu_vmcb(vcpu);
	/* svm_copy_vmrun_state: L1's CET save state, when the KVM caps have SHSTK. */
	if (vx_kvm_cap_has(vcpu->vm->kvm, VX_KF_SHSTK))
		nested->hsave = nested->vmcb01;
	/* vmcb02 takes vmcb12's CET fields if the vCPU has SHSTK and vmcb12 is new or its CET
	 * area is not clean; otherwise it keeps what it had. */
	if (vx_kvm_vcpu_cap_has(vcpu, VX_KF_SHSTK) && (new12 || !nested->vmcb12.cet_clean))
		nested->vmcb02 = nested->vmcb12.cet;
	nested->last_vmcb12_gpa = nested->vmcb12.gpa;
	nested->last_valid = true;
	set_vcpu_vmcb(vcpu, &nested->vmcb02);
	vcpu->guest_mode = true;
	nested->active = true;
	return 0;
}

int vx_kvm_nested_svm_vmexit(struct vx_kvm_vcpu *vcpu, struct vx_kvm_nested_svm *nested,
			     struct vx_error *err)
{
	int rc = nested_args(vcpu, nested, VX_KVM_SVM, true, err);

	if (rc)
		return rc;
	if (!nested->active)
		return vx_error_set(err, -EINVAL, RULE_SVM, "L2 runs for another nested state");
	nested->vmcb02 = vcpu_vmcb(vcpu);
	/* vmcb12 gets L2's CET fields back when the vCPU has SHSTK. */
	if (vx_kvm_vcpu_cap_has(vcpu, VX_KF_SHSTK))
		nested->vmcb12.cet = nested->vmcb02;
	/* L1's fields: vmcb01 was not used while L2 ran (and the save area holds the same). */
	set_vcpu_vmcb(vcpu, &nested->vmcb01);
	vcpu->guest_mode = false;
	nested->active = false;
	return 0;
}
