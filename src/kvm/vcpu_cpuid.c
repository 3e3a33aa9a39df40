/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's CPUID and capabilities: KVM_SET_CPUID2 with every check of kvm.md §2.5,
 * KVM_GET_CPUID2, kvm_vcpu_after_set_cpuid() (§1.4: caps = (KVM caps | emulated) ∧ guest
 * CPUID with the documented exceptions), the runtime bits (§1.4 step 3, §2.4) and the
 * capability table with the rule behind each line.
 */
#include <stdio.h>

#include "kvm/kvm_internal.h"

#define FP_SSE		 (VX_BIT(VX_COMP_X87) | VX_BIT(VX_COMP_SSE))
#define CPUID_1_EDX_APIC 9u

static struct vx_kvm_cpuid_entry *find_mut(struct vx_kvm_cpuid_entry *entries, uint32_t nent,
					   uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < nent; i++) {
		bool indexed = entries[i].flags & VX_KVM_CPUID_FLAG_SIGNIFCANT_INDEX;

		if (entries[i].function == function && (!indexed || entries[i].index == index))
			return &entries[i];
	}
	return NULL;
}

/* kvm_find_cpuid_entry(): the index is not significant, the first entry of @function wins,
 * flagged or not (cpuid_entry2_find with KVM_CPUID_INDEX_NOT_SIGNIFICANT; the runtime update
 * of leaf 1 uses it, measured with a flagged leaf 1 of index 5). */
static struct vx_kvm_cpuid_entry *find_function(struct vx_kvm_cpuid_entry *entries, uint32_t nent,
						uint32_t function)
{
	for (uint32_t i = 0; i < nent; i++)
		if (entries[i].function == function)
			return &entries[i];
	return NULL;
}

static void set_bit_to(uint32_t *reg, unsigned bit, bool on)
{
	*reg = on ? *reg | 1u << bit : *reg & ~(1u << bit);
}

/* kvm_update_cpuid_runtime() on @entries (§1.4 step 3, §2.4). */
void vx_kvm_vcpu_runtime_entries(const struct vx_kvm_vcpu *vcpu, struct vx_kvm_cpuid_entry *entries,
				 uint32_t nent)
{
	const struct vx_kvm *kvm = vcpu->vm->kvm;
	struct vx_kvm_cpuid_entry *e1 = find_function(entries, nent, 1);
	struct vx_kvm_cpuid_entry *e7 = find_mut(entries, nent, 7, 0);
	struct vx_kvm_cpuid_entry *d0 = find_mut(entries, nent, 0xD, 0);
	struct vx_kvm_cpuid_entry *d1 = find_mut(entries, nent, 0xD, 1);
	const struct vx_kvm_feature_info *xsaves = vx_kvm_feature_at(VX_KF_XSAVES);
	const struct vx_kvm_feature_info *xsavec = vx_kvm_feature_at(VX_KF_XSAVEC);

	/* OSXSAVE = CR4.OSXSAVE; OSPKE = CR4.PKE. */
	if (e1)
		set_bit_to(&e1->ecx, vx_kvm_feature_at(VX_KF_OSXSAVE)->bit,
			   vcpu->cr4 & VX_CR4_OSXSAVE);
	/* APIC = APIC_BASE.EN (§1.4 step 3); the model's APIC_BASE keeps its RESET value, which
	 * has EN set (kvm_lapic_reset, SDM Vol. 3A §12.4.4). */
	if (e1)
		set_bit_to(&e1->edx, CPUID_1_EDX_APIC, true);
	if (e7)
		set_bit_to(&e7->ecx, vx_kvm_feature_at(VX_KF_OSPKE)->bit, vcpu->cr4 & VX_CR4_PKE);
	/* 0xD.0.EBX = standard size for XCR0. */
	if (d0)
		d0->ebx = vx_kvm_xstate_required_size(kvm, vcpu->xcr0, false);
	/* 0xD.1.EBX = compacted size for XCR0|XSS, only with XSAVES or XSAVEC in 0xD.1.EAX. */
	if (d1 && (d1->eax >> xsaves->bit & 1u || d1->eax >> xsavec->bit & 1u))
		d1->ebx = vx_kvm_xstate_required_size(kvm, vcpu->xcr0 | vcpu->ia32_xss, true);
}

/* cpuid_func_emulated(include_partially_emulated = true) for word @w (§1.4 step 2). */
static uint32_t emulated_word(const struct vx_kvm *kvm, enum vx_kvm_word w)
{
	uint32_t mask = 0;

	for (unsigned i = 0; i < vx_kvm_feature_count(); i++) {
		const struct vx_kvm_feature_info *f = vx_kvm_feature_at(i);

		if (f->word != w || !(f->flags & VX_KVM_FEAT_VCPU_EMULATED))
			continue;
		/* RDPID only if KVM supports RDTSCP (cpuid.c:1333-1368). */
		if (i == VX_KF_RDPID && !vx_kvm_cap_has(kvm, VX_KF_RDTSCP))
			continue;
		mask |= 1u << f->bit;
	}
	return mask;
}

static uint32_t guest_word(const struct vx_kvm_vcpu *vcpu, enum vx_kvm_word w, bool *present)
{
	const struct vx_kvm_word_info *wi = vx_kvm_word_info(w);
	const struct vx_kvm_cpuid_entry *e =
	    vx_kvm_cpuid_find(vcpu->cpuid, vcpu->ncpuid, wi->leaf, wi->subleaf);

	*present = e != NULL;
	return e ? vx_kvm_cpuid_reg(e, wi->reg) : 0;
}

static bool has(const uint32_t *words, unsigned idx)
{
	return vx_kvm_words_has(words, idx);
}

static void cap_to(struct vx_kvm_vcpu *vcpu, unsigned idx, bool on, const char *why)
{
	const struct vx_kvm_feature_info *f = vx_kvm_feature_at(idx);

	set_bit_to(&vcpu->caps[f->word], f->bit, on);
	vcpu->why[idx] = why;
}

/* Step 2: caps[w] = (KVM caps | emulated) ∧ guest CPUID, for words with an entry. */
static void base_caps(struct vx_kvm_vcpu *vcpu)
{
	const struct vx_kvm *kvm = vcpu->vm->kvm;
	uint32_t guest[VX_KVM_NR_WORDS], emu[VX_KVM_NR_WORDS];
	bool present;

	for (unsigned w = 0; w < VX_KVM_NR_WORDS; w++) {
		guest[w] = guest_word(vcpu, (enum vx_kvm_word)w, &present);
		emu[w] = emulated_word(kvm, (enum vx_kvm_word)w);
		vcpu->caps[w] = present ? (kvm->caps[w] | emu[w]) & guest[w] : 0;
	}
	for (unsigned i = 0; i < vx_kvm_feature_count() && i < VX_KVM_MAX_FEATURES; i++) {
		bool g = has(guest, i), k = has(kvm->caps, i), e = has(emu, i);

		vcpu->why[i] =
		    !g	? "guest CPUID lacks it (kvm.md §1.4 step 2)"
		    : k ? "guest CPUID has it and KVM supports it (kvm.md §1.4 step 2)"
		    : e ? "emulated: the vCPU gets it although KVM does not advertise it "
			  "(kvm.md §1.4 step 2)"
			: "KVM does not support it: userspace's bit is not a cap "
			  "(kvm.md §1.4 step 2)";
	}
}

/* Step 3, the runtime features: caps follow the vCPU's state, not CPUID. */
void vx_kvm_vcpu_runtime_caps(struct vx_kvm_vcpu *vcpu)
{
	cap_to(vcpu, VX_KF_OSXSAVE, vcpu->cr4 & VX_CR4_OSXSAVE,
	       "runtime: CR4.OSXSAVE (kvm.md §1.4 step 3)");
	cap_to(vcpu, VX_KF_OSPKE, vcpu->cr4 & VX_CR4_PKE, "runtime: CR4.PKE (kvm.md §1.4 step 3)");
}

/* Steps 4-6 and the vendor hooks. */
static void exceptions(struct vx_kvm_vcpu *vcpu)
{
	const struct vx_kvm *kvm = vcpu->vm->kvm;

	/* GBPAGES with TDP: hardware cannot disable 1G pages (cpuid.c:413-426). */
	if (kvm->opts.tdp)
		cap_to(vcpu, VX_KF_GBPAGES, vx_kvm_cap_has(kvm, VX_KF_GBPAGES),
		       "TDP: the host's GBPAGES, whatever guest CPUID says (kvm.md §1.4 step 4)");
	/* VMX: no XSAVE, no XSAVES (vmx.c:7849-7859). */
	if (kvm->opts.flavour == VX_KVM_VMX && !has(vcpu->caps, VX_KF_XSAVE) &&
	    has(vcpu->caps, VX_KF_XSAVES))
		cap_to(vcpu, VX_KF_XSAVES, false,
		       "VMX: cleared without the XSAVE cap (kvm.md §1.4)");
	/* SVM cannot intercept XSAVES alone: cap = host XSAVES && XSAVE cap (svm.c:4410). */
	if (kvm->opts.flavour == VX_KVM_SVM)
		cap_to(vcpu, VX_KF_XSAVES,
		       vx_kvm_cap_has(kvm, VX_KF_XSAVES) && has(vcpu->caps, VX_KF_XSAVE),
		       "SVM: forced to host XSAVES && the XSAVE cap (kvm.md §1.4)");
}

static uint64_t guest_xmask(const struct vx_kvm_vcpu *vcpu, uint32_t sub, bool xss)
{
	const struct vx_kvm_cpuid_entry *e = vx_kvm_cpuid_find(vcpu->cpuid, vcpu->ncpuid, 0xD, sub);

	if (!e)
		return 0;
	return xss ? (e->ecx | (uint64_t)e->edx << 32) : (e->eax | (uint64_t)e->edx << 32);
}

void vx_kvm_vcpu_after_set_cpuid(struct vx_kvm_vcpu *vcpu)
{
	const struct vx_kvm *kvm = vcpu->vm->kvm;

	memset(vcpu->caps, 0, sizeof(vcpu->caps));
	base_caps(vcpu);
	vx_kvm_vcpu_runtime_entries(vcpu, vcpu->cpuid, vcpu->ncpuid);
	vx_kvm_vcpu_runtime_caps(vcpu);
	exceptions(vcpu);
	/* guest_supported_xcr0 / _xss from 0xD.0 and 0xD.1 (cpuid.c:255-274). */
	vcpu->guest_supported_xcr0 = guest_xmask(vcpu, 0, false) & kvm->supported_xcr0;
	vcpu->guest_supported_xss = guest_xmask(vcpu, 1, true) & kvm->supported_xss;
	vcpu->cpuid_dynamic_dirty = false;
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_SET_CPUID2 / KVM_GET_CPUID2                                                              */

static bool same_entries(const struct vx_kvm_cpuid_entry *a, uint32_t na,
			 const struct vx_kvm_cpuid_entry *b, uint32_t nb)
{
	if (na != nb)
		return false;
	for (uint32_t i = 0; i < na; i++) {
		const struct vx_kvm_cpuid_entry *o =
		    vx_kvm_cpuid_find(b, nb, a[i].function, a[i].index);

		if (!o || memcmp(&a[i], o, sizeof(*o)) != 0)
			return false;
	}
	return true;
}

/* kvm_check_cpuid(): the virtual-address width, then the dynamic xfeatures (§2.5). */
static int check_cpuid(struct vx_kvm_vcpu *vcpu, struct vx_fpu_task *task,
		       const struct vx_kvm_cpuid_entry *e, uint32_t n, struct vx_error *err)
{
	const struct vx_kvm_cpuid_entry *x8 = vx_kvm_cpuid_find(e, n, 0x80000008, 0);
	const struct vx_kvm_cpuid_entry *d0 = vx_kvm_cpuid_find(e, n, 0xD, 0);
	uint32_t vaddr = x8 ? (x8->eax >> 8) & 0xFF : 0;
	uint64_t dyn = d0 ? (d0->eax | (uint64_t)d0->edx << 32) & VX_FPU_MASK_USER_DYNAMIC : 0;

	/* 0x80000008.EAX[15:8] must be 0, 48 or 57 (cpuid.c:136-167). */
	if (vaddr != 0 && vaddr != 48 && vaddr != 57)
		return vx_error_set(
		    err, -EINVAL, "kvm.md §2.5",
		    "CPUID 0x80000008.EAX[15:8] = %u: virtual-address width must be "
		    "0, 48 or 57",
		    vaddr);
	/* XTILE_DATA: fpu_enable_guest_xfd_features(): -EPERM / -EFAULT (§2.5). */
	if (dyn)
		return vx_fpu_enable_guest_xfd_features(task, &vcpu->gfpu, dyn, err);
	return 0;
}

static int copy_entries(const struct vx_kvm *kvm, const struct vx_kvm_cpuid_entry *entries,
			uint32_t nent, struct vx_kvm_cpuid_entry **out, struct vx_error *err)
{
	/* Room for what quirk pvm-cpuid-override may append (quirks_pvm.c). */
	*out = vx_kvm_alloc(kvm, ((size_t)nent + VX_KVM_PVM_CPUID_EXTRA) * sizeof(**out));
	if (!*out)
		return vx_error_set(err, -ENOMEM, "kvm.md §2.5", "cannot copy %u CPUID entries",
				    nent);
	if (nent)
		memcpy(*out, entries, (size_t)nent * sizeof(**out));
	return 0;
}

/* After KVM_RUN: only byte-identical CPUID, runtime bits applied first (cpuid.c:173-200). */
static int set_after_run(struct vx_kvm_vcpu *vcpu, struct vx_kvm_cpuid_entry *fresh, uint32_t nent,
			 struct vx_error *err)
{
	const struct vx_kvm *kvm = vcpu->vm->kvm;
	bool same;

	vx_kvm_vcpu_runtime_entries(vcpu, fresh, nent);
	vx_kvm_vcpu_runtime_entries(vcpu, vcpu->cpuid, vcpu->ncpuid);
	same = same_entries(fresh, nent, vcpu->cpuid, vcpu->ncpuid);
	vx_kvm_free(kvm, fresh);
	if (!same)
		return vx_error_set(err, -EINVAL, "kvm.md §2.5",
				    "KVM_SET_CPUID2 after KVM_RUN must repeat the current CPUID");
	return 0;
}

int vx_kvm_vcpu_set_cpuid2(struct vx_kvm_vcpu *vcpu, struct vx_fpu_task *task,
			   const struct vx_kvm_cpuid_entry *entries, uint32_t nent,
			   struct vx_error *err)
{
	const struct vx_kvm *kvm = vcpu->vm->kvm;
	struct vx_kvm_cpuid_entry *fresh = NULL;
	int rc;

	/* nent > KVM_MAX_CPUID_ENTRIES → -E2BIG (§2.5). */
	if (nent > VX_KVM_MAX_CPUID_ENTRIES)
		return vx_error_set(err, -E2BIG, "kvm.md §2.5", "nent %u > %u", nent,
				    VX_KVM_MAX_CPUID_ENTRIES);
	rc = copy_entries(kvm, entries, nent, &fresh, err);
	if (rc)
		return rc;
	if (vcpu->has_run)
		return set_after_run(vcpu, fresh, vx_kvm_pvm_cpuid_override(kvm, fresh, nent), err);
	rc = check_cpuid(vcpu, task, fresh, nent, err);
	if (rc) {
		vx_kvm_free(kvm, fresh);
		return rc;
	}
	/* Quirk pvm-cpuid-override: after the checks, before caps (measured, quirks_pvm.c). */
	nent = vx_kvm_pvm_cpuid_override(kvm, fresh, nent);
	vx_kvm_free(kvm, vcpu->cpuid);
	vcpu->cpuid = fresh;
	vcpu->ncpuid = nent;
	vx_kvm_vcpu_after_set_cpuid(vcpu);
	return 0;
}

int vx_kvm_vcpu_get_cpuid2(struct vx_kvm_vcpu *vcpu, struct vx_kvm_cpuid_entry *entries,
			   uint32_t *nent, struct vx_error *err)
{
	/* nent smaller than the count → -E2BIG, nent untouched (cpuid.c:644-660). */
	if (*nent < vcpu->ncpuid)
		return vx_error_set(err, -E2BIG, "kvm.md §2.5", "nent %u < %u entries", *nent,
				    vcpu->ncpuid);
	vx_kvm_vcpu_runtime_entries(vcpu, vcpu->cpuid, vcpu->ncpuid);
	if (vcpu->ncpuid)
		memcpy(entries, vcpu->cpuid, vcpu->ncpuid * sizeof(*entries));
	*nent = vcpu->ncpuid;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Accessors and the table                                                                      */

bool vx_kvm_vcpu_cap_has(const struct vx_kvm_vcpu *vcpu, unsigned index)
{
	return index < vx_kvm_feature_count() && has(vcpu->caps, index);
}

bool vx_kvm_vcpu_cpuid_has(const struct vx_kvm_vcpu *vcpu, unsigned index)
{
	const struct vx_kvm_feature_info *f = vx_kvm_feature_at(index);
	bool present;

	return f && guest_word(vcpu, f->word, &present) >> f->bit & 1u;
}

uint64_t vx_kvm_vcpu_guest_supported_xcr0(const struct vx_kvm_vcpu *vcpu)
{
	return vcpu->guest_supported_xcr0;
}

uint64_t vx_kvm_vcpu_guest_supported_xss(const struct vx_kvm_vcpu *vcpu)
{
	return vcpu->guest_supported_xss;
}

unsigned vx_kvm_vcpu_cap_table(const struct vx_kvm_vcpu *vcpu, struct vx_kvm_cap_row *rows,
			       unsigned max)
{
	unsigned n = vx_kvm_feature_count();

	for (unsigned i = 0; i < n && i < max; i++) {
		rows[i].feature = i;
		rows[i].guest_cpuid = vx_kvm_vcpu_cpuid_has(vcpu, i);
		rows[i].kvm_supported = vx_kvm_cap_has(vcpu->vm->kvm, i);
		rows[i].effective = vx_kvm_vcpu_cap_has(vcpu, i);
		snprintf(rows[i].why, sizeof(rows[i].why), "%s",
			 i < VX_KVM_MAX_FEATURES && vcpu->why[i] ? vcpu->why[i] : "");
	}
	return n;
}
