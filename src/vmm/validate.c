/* SPDX-License-Identifier: MIT */
/*
 * Would KVM_SET_XSAVE accept this blob on that host and vCPU? (vmm.h)
 *
 * The verdict is the kvm layer's KVM_SET_XSAVE itself (vx_kvm_vcpu_set_xsave: uabi_size bytes
 * read, kvm.md §5.1; XSTATE_BV within kvm_caps.supported_xcr0 and every linux-fpu.md §7.2 check
 * against the guest fpstate, §5.3) run on a vCPU set up as a VMM sets it up (host.c).  The list
 * of every failing rule is the same fpu-layer code in its all-failures mode
 * (vx_fpu_uabi_guest_refusals), so the two cannot drift apart.  Notes add what does not refuse
 * the blob but loses or ignores state: components the guest CPUID does not enable (the next
 * KVM_GET_XSAVE drops them, §5.2, anchors.md §3 pain 18), PKRU left unchanged, bytes past
 * uabi_size.
 */
#include "vmm/vmm_internal.h"

#include "fpu/fpu_internal.h"

#define RULE_SET "kvm.md §5.3"

struct sink {
	struct vx_vmm_report *report;
};

static void collect(void *ctx, const struct vx_error *err)
{
	struct sink *s = ctx;

	vmm_report_add(s->report, true, err);
}

/* What the rules compare against: the vCPU and module as KVM_SET_XSAVE sees them. */
static void context(const struct vx_vmm_vcpu *v, struct vx_vmm_validation *out)
{
	const struct vx_fpu_guest *g = vx_kvm_vcpu_guest_fpu(v->vcpu);
	struct vx_kvm_xcrs xcrs;

	out->uabi_size = g->uabi_size;
	out->supported_xcr0 = vx_kvm_supported_xcr0(v->host->kvm);
	out->user_xfeatures = g->fpstate->user_xfeatures;
	out->guest_supported_xcr0 = vx_kvm_vcpu_guest_supported_xcr0(v->vcpu);
	memset(&xcrs, 0, sizeof(xcrs));
	if (vx_kvm_vcpu_get_xcrs(v->vcpu, &xcrs, NULL) == 0 && xcrs.nr_xcrs)
		out->xcr0 = xcrs.xcrs[0].value;
}

/* KVM reads uabi_size bytes (§5.1): a shorter blob is checked padded with zeros. */
static const uint8_t *uabi_bytes(struct vx_vmm_vcpu *v, const struct vx_vmm_blob *blob)
{
	if (blob->area_len >= v->scratch_size)
		return blob->bytes;
	memcpy(v->scratch, blob->bytes, blob->area_len);
	memset(v->scratch + blob->area_len, 0, v->scratch_size - blob->area_len);
	return v->scratch;
}

static void every_rule(struct vx_vmm_vcpu *v, const struct vx_vmm_blob *blob,
		       struct vx_vmm_validation *out)
{
	const struct vx_fpu_guest *g = vx_kvm_vcpu_guest_fpu(v->vcpu);
	struct sink s = {&out->report};

	vx_fpu_uabi_guest_refusals(v->host->sys, g->fpstate, uabi_bytes(v, blob), v->scratch_size,
				   out->supported_xcr0, collect, &s);
}

/* ----------------------------------------------------------------------------------------- */
/* Notes: accepted, but state is ignored, dropped or left as it was                             */

static void note_kind(const struct vx_vmm_blob *b, struct vx_vmm_report *r)
{
	if (b->kind == VX_VMM_BLOB_COMPACTED)
		vmm_report_addf(r, false, 0, -1, 0, VX_XCOMP_BV_OFFSET, "kvm.md §5.1",
				"a compacted area: KVM_SET_XSAVE takes the standard format only "
				"('vxsave xsave convert --format kvm' re-lays it out)");
	if (b->kind == VX_VMM_BLOB_SIGFRAME)
		vmm_report_addf(r, false, 0, -1, 0, VMM_SW_BYTES, "linux-fpu.md §8.4",
				"the XSAVE part (%zu bytes) of a signal frame was checked; KVM "
				"ignores its software bytes 464-511",
				b->area_len);
	if (b->all_zero)
		vmm_report_addf(r, false, 0, -1, 0, 0, "arch.md §6",
				"every byte is 0: loading it puts every component in its initial "
				"configuration");
}

static void note_components(const struct vx_vmm_blob *b, const struct vx_vmm_validation *o,
			    bool xcr0_given, struct vx_vmm_report *r)
{
	uint64_t hidden =
	    b->xstate_bv & o->supported_xcr0 & ~(o->guest_supported_xcr0 | VMM_MASK_FPSSE);
	uint64_t off = b->xstate_bv & o->supported_xcr0 & ~o->xcr0;
	char names[160];

	/* §5.2: GET exports XSTATE_BV ∩ (guest_supported_xcr0 | FP | SSE). */
	if (hidden)
		vmm_report_addf(r, false, 0, -1, hidden, VX_XSTATE_BV_OFFSET, "kvm.md §5.2",
				"%s loaded, but the guest CPUID (0xD.0) does not enable them: the "
				"next KVM_GET_XSAVE leaves them out, so a save/restore loses them",
				(vx_format_component_mask(hidden, names, sizeof(names)), names));
	if (xcr0_given && off)
		vmm_report_addf(
		    r, false, 0, -1, off, VX_XSTATE_BV_OFFSET, "kvm.md §5.3",
		    "%s loaded although the guest XCR0 0x%llx leaves them out (KVM does "
		    "not check XCR0; the guest sees them once it enables them)",
		    (vx_format_component_mask(off, names, sizeof(names)), names),
		    (unsigned long long)o->xcr0);
	/* §5.3: PKRU only with its header bit; otherwise vcpu->arch.pkru stays. */
	if ((o->supported_xcr0 & VMM_MASK_PKRU) && !(b->xstate_bv & VMM_MASK_PKRU))
		vmm_report_addf(
		    r, false, 0, VX_COMP_PKRU, VMM_MASK_PKRU, VX_XSTATE_BV_OFFSET, RULE_SET,
		    "PKRU's XSTATE_BV bit is clear: KVM leaves the vCPU's PKRU as it was "
		    "(it does not become 0)");
}

/* §5.1: KVM reads uabi_size bytes; what lies after them is never seen. */
static void note_tail(const struct vx_vmm_blob *b, uint32_t uabi, struct vx_vmm_report *r)
{
	size_t first = uabi;

	while (first < b->area_len && b->bytes[first] == 0)
		first++;
	if (first < b->area_len)
		vmm_report_addf(r, false, 0, -1, 0, (int64_t)first, "kvm.md §5.1",
				"bytes %u-%zu are past uabi_size %u and not read by KVM_SET_XSAVE; "
				"byte %zu there is 0x%02x",
				uabi, b->area_len - 1, uabi, first, b->bytes[first]);
}

int vx_vmm_xsave_validate(struct vx_vmm_vcpu *v, const struct vx_vmm_blob *blob, unsigned flags,
			  struct vx_vmm_validation *out, struct vx_error *err)
{
	struct vx_error verdict = VX_ERROR_INIT;

	if (!v || !blob || !blob->bytes || !out)
		return vx_error_set(err, -EINVAL, "vmm.h",
				    "validate needs a vCPU, a blob and a "
				    "result");
	vmm_report_clear(&out->report); /* not the whole struct: its findings are 20 KiB */
	out->rc = 0;
	out->xcr0 = 0;
	context(v, out);
	out->rc = vx_kvm_vcpu_set_xsave(v->vcpu, blob->bytes, blob->area_len, &verdict);
	if (flags & VX_VMM_VALIDATE_VERDICT) {
		if (out->rc)
			vmm_report_add(&out->report, true, &verdict);
		return 0;
	}
	/* The ioctl's own refusal first when it is the size (EFAULT) the rules cannot see; an
	 * accepted blob breaks no rule (the same checks passed), so they run only on refusals. */
	if (out->rc == -EFAULT)
		vmm_report_add(&out->report, true, &verdict);
	if (out->rc)
		every_rule(v, blob, out);
	if (out->rc && out->report.refusals == 0)
		vmm_report_add(&out->report, true, &verdict);
	note_kind(blob, &out->report);
	note_components(blob, out, v->xcr0_set, &out->report);
	note_tail(blob, out->uabi_size, &out->report);
	return 0;
}
