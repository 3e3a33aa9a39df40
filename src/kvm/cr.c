/* SPDX-License-Identifier: MIT */
/*
 * CR0 and CR4 of a vCPU (kvm.md §7.1 CR rules): the guest's MOV to CR0/CR4 (kvm_set_cr0 /
 * kvm_set_cr4: #GP(0) on refusal) and the host's KVM_SET_SREGS (the same validity checks,
 * -EINVAL).  What is modelled:
 *   - CR0: bits 63:32 must be 0, NW needs CD, PG needs PE (kvm_is_valid_cr0; SDM Vol. 3A
 *     §2.5); a guest write forces ET and drops the other reserved bits of 31:0; clearing WP
 *     while CR4.CET = 1 fails.
 *   - CR4: a bit is reserved if it is not an architectural bit KVM knows, or if its feature is
 *     missing from the KVM caps or from the vCPU's caps (cr4_guest_rsvd_bits, §1.4 step 5):
 *     OSXSAVE needs XSAVE, PKE needs PKU, LA57 needs LA57, CET needs SHSTK or IBT; setting
 *     CET while CR0.WP = 0 fails.  The other features' gates (SMEP, SMAP, UMIP, FSGSBASE,
 *     VMXE, LAM) are not in the model's feature table, so those bits are accepted.
 *   - A change of CR4.OSXSAVE or CR4.PKE dirties the runtime CPUID (§2.4): leaf 1 OSXSAVE and
 *     leaf 7 OSPKE follow CR4 at the next KVM_GET_CPUID2; the vCPU's OSXSAVE/OSPKE caps are
 *     updated at once so the capability table is never stale.
 * Paging-mode checks (PAE, LME/LMA, PCIDE with CR3) are outside the model.
 */
#include <stdarg.h>

#include "kvm/regs_internal.h"

#define CR0_ET VX_BIT(4)
#define CR0_NE VX_BIT(5)
#define CR0_MP VX_BIT(1)
#define CR0_NW VX_BIT(29)
#define CR0_CD VX_BIT(30)
#define CR0_PG VX_BIT(31)
/* The CR0 bits KVM keeps (the complement of CR0_RESERVED_BITS within 31:0). */
#define CR0_KNOWN                                                                                  \
	(VX_CR0_PE | CR0_MP | VX_CR0_EM | VX_CR0_TS | CR0_ET | CR0_NE | VX_CR0_WP | VX_CR0_AM |    \
	 CR0_NW | CR0_CD | CR0_PG)
#define CR0_HIGH UINT64_C(0xFFFFFFFF00000000)

#define RULE_CR	 "kvm.md §7.1"
#define RULE_RSV "kvm.md §1.4 step 5"

typedef unsigned long long ull;

/* One architectural CR4 bit KVM knows, and the features that unlock it (-1: none needed). */
struct cr4_bit {
	unsigned bit;
	const char *name;
	int feature[2];
};

static const struct cr4_bit cr4_bits[] = {
    {0, "VME", {-1, -1}},
    {1, "PVI", {-1, -1}},
    {2, "TSD", {-1, -1}},
    {3, "DE", {-1, -1}},
    {4, "PSE", {-1, -1}},
    {5, "PAE", {-1, -1}},
    {6, "MCE", {-1, -1}},
    {7, "PGE", {-1, -1}},
    {8, "PCE", {-1, -1}},
    {9, "OSFXSR", {-1, -1}},
    {10, "OSXMMEXCPT", {-1, -1}},
    {11, "UMIP", {-1, -1}},
    {12, "LA57", {VX_KF_LA57, -1}},
    {13, "VMXE", {-1, -1}},
    {16, "FSGSBASE", {-1, -1}},
    {17, "PCIDE", {-1, -1}},
    {18, "OSXSAVE", {VX_KF_XSAVE, -1}},
    {20, "SMEP", {-1, -1}},
    {21, "SMAP", {-1, -1}},
    {22, "PKE", {VX_KF_PKU, -1}},
    {23, "CET", {VX_KF_SHSTK, VX_KF_IBT}}, /* x86.h:683-685 */
    {28, "LAM_SUP", {-1, -1}},
};

#define N_CR4_BITS (sizeof(cr4_bits) / sizeof(cr4_bits[0]))

uint64_t vx_kvm_vcpu_cr0(const struct vx_kvm_vcpu *vcpu)
{
	return vcpu->cr0;
}

uint64_t vx_kvm_vcpu_cr4(const struct vx_kvm_vcpu *vcpu)
{
	return vcpu->cr4;
}

/* A refusal: #GP(0) for the guest (returns 1), -EINVAL for the host; @err either way. */
struct refusal {
	bool host;
	struct vx_event *event;
	struct vx_error *err;
};

#ifdef __GNUC__
__attribute__((format(printf, 5, 6)))
#endif
static int
refuse(const struct refusal *r, enum vx_event_cause cause, uint64_t bits, const char *rule,
       const char *fmt, ...)
{
	struct vx_error why = VX_ERROR_INIT;
	va_list ap;

	va_start(ap, fmt);
	vx_error_vset(&why, r->host ? -EINVAL : 1, rule, fmt, ap);
	va_end(ap);
	if (r->err) {
		vx_error_set(r->err, why.code, rule, "%s%s", r->host ? "KVM_SET_SREGS: " : "",
			     why.reason);
		r->err->bits = bits;
	}
	if (r->host)
		return -EINVAL;
	return vx_kvm_queue_exception(r->event, VX_VEC_GP, cause, bits, rule,
				      "MOV to CR: %s; #GP(0)", why.reason);
}

/* ----------------------------------------------------------------------------------------- */
/* CR0                                                                                          */

/* kvm_is_valid_cr0() and the CET rule, for the guest and the host alike. */
static int check_cr0(const struct vx_kvm_vcpu *vcpu, uint64_t cr0, const struct refusal *r)
{
	/* Bits 63:32 are reserved (#GP; SDM Vol. 3A §2.5). */
	if (cr0 & CR0_HIGH)
		return refuse(r, VX_CAUSE_CR_RESERVED, cr0 & CR0_HIGH, RULE_CR,
			      "CR0 0x%llx sets reserved bits 63:32", (ull)cr0);
	/* NW without CD is invalid. */
	if ((cr0 & CR0_NW) && !(cr0 & CR0_CD))
		return refuse(r, VX_CAUSE_CR_INVALID, CR0_NW, RULE_CR,
			      "CR0 0x%llx sets NW (bit 29) without CD (bit 30)", (ull)cr0);
	/* PG without PE is invalid. */
	if ((cr0 & CR0_PG) && !(cr0 & VX_CR0_PE))
		return refuse(r, VX_CAUSE_CR_INVALID, CR0_PG, RULE_CR,
			      "CR0 0x%llx sets PG (bit 31) without PE (bit 0)", (ull)cr0);
	/* Clearing WP while CR4.CET = 1 fails (x86.c:1189-1190). */
	if (!(cr0 & VX_CR0_WP) && (vcpu->cr4 & VX_CR4_CET))
		return refuse(r, VX_CAUSE_CR_INVALID, VX_CR0_WP, RULE_CR,
			      "CR0 0x%llx clears WP (bit 16) while CR4.CET = 1", (ull)cr0);
	return 0;
}

int vx_kvm_vcpu_set_cr0(struct vx_kvm_vcpu *vcpu, bool host, uint64_t cr0, struct vx_event *event,
			struct vx_error *err)
{
	const struct refusal r = {host, event, err};
	int rc = check_cr0(vcpu, cr0, &r);

	if (rc)
		return rc;
	/* A guest write forces ET and drops reserved bits of 31:0; SREGS stores the value. */
	if (!host)
		cr0 = (cr0 | CR0_ET) & CR0_KNOWN;
	vcpu->cr0 = cr0;
	vx_kvm_event_none(event);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* CR4                                                                                          */

/* __cr4_reserved_bits() for one set of words: the gated bits whose features are absent. */
static bool feature_in(const uint32_t *words, const struct cr4_bit *b)
{
	if (b->feature[0] < 0)
		return true;
	return vx_kvm_words_has(words, (unsigned)b->feature[0]) ||
	       (b->feature[1] >= 0 && vx_kvm_words_has(words, (unsigned)b->feature[1]));
}

/* cr4_guest_rsvd_bits: reserved for KVM's caps OR for the vCPU's caps (§1.4 step 5). */
static uint64_t cr4_reserved(const struct vx_kvm_vcpu *vcpu)
{
	uint64_t allowed = 0;

	for (unsigned i = 0; i < N_CR4_BITS; i++) {
		const struct cr4_bit *b = &cr4_bits[i];

		if (feature_in(vcpu->vm->kvm->caps, b) && feature_in(vcpu->caps, b))
			allowed |= VX_BIT(b->bit);
	}
	return ~allowed;
}

static const char *cr4_name(uint64_t bits)
{
	for (unsigned i = 0; i < N_CR4_BITS; i++)
		if (bits & VX_BIT(cr4_bits[i].bit))
			return cr4_bits[i].name;
	return "unknown";
}

/* kvm_is_valid_cr4() and the CET/WP pairing, for the guest and the host alike. */
static int check_cr4(const struct vx_kvm_vcpu *vcpu, uint64_t cr4, const struct refusal *r)
{
	uint64_t rsvd = cr4 & cr4_reserved(vcpu);

	/* Reserved bits: unknown, or a feature the vCPU or KVM lacks (x86.h:683-685). */
	if (rsvd)
		return refuse(r, VX_CAUSE_CR_RESERVED, rsvd, RULE_RSV,
			      "CR4 0x%llx sets reserved bits 0x%llx (%s: the vCPU lacks its "
			      "feature, or the bit is not one KVM knows)",
			      (ull)cr4, (ull)rsvd, cr4_name(rsvd));
	/* CET needs CR0.WP (x86.c:1392-1393; SREGS x86.c:12299-12300). */
	if ((cr4 & VX_CR4_CET) && !(vcpu->cr0 & VX_CR0_WP))
		return refuse(r, VX_CAUSE_CR_INVALID, VX_CR4_CET, RULE_CR,
			      "CR4 0x%llx sets CET (bit 23) while CR0.WP = 0", (ull)cr4);
	return 0;
}

/* OSXSAVE/PKE changed: the runtime CPUID bits follow CR4 (vendor set_cr4, §1.4 step 3, §2.4). */
static void cr4_runtime(struct vx_kvm_vcpu *vcpu, uint64_t old)
{
	if (!((old ^ vcpu->cr4) & (VX_CR4_OSXSAVE | VX_CR4_PKE)))
		return;
	vcpu->cpuid_dynamic_dirty = true;
	vx_kvm_vcpu_runtime_caps(vcpu);
}

int vx_kvm_vcpu_set_cr4(struct vx_kvm_vcpu *vcpu, bool host, uint64_t cr4, struct vx_event *event,
			struct vx_error *err)
{
	const struct refusal r = {host, event, err};
	uint64_t old = vcpu->cr4;
	int rc = check_cr4(vcpu, cr4, &r);

	if (rc)
		return rc;
	vcpu->cr4 = cr4;
	cr4_runtime(vcpu, old);
	vx_kvm_event_none(event);
	return 0;
}
