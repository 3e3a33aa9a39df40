/* SPDX-License-Identifier: MIT */
/*
 * The CPUID quirks of kvm_pvm as measured on this machine's KVM (quirks.c rows
 * pvm-supported-cpuid-sparse and pvm-cpuid-override; docs/kvm.md "The drop-in /dev/kvm" has
 * the measurements): what KVM_GET_SUPPORTED_CPUID leaves out, and how KVM_SET_CPUID2's entries
 * are rewritten before KVM_GET_CPUID2 returns them and before the vCPU's caps and
 * guest_supported_xcr0 are computed from them.  Plain tables, one row per rule; the host
 * values come from the module's profile (the machine PVM runs on).
 */
#include "kvm/kvm_internal.h"

#define SIGNIF VX_KVM_CPUID_FLAG_SIGNIFCANT_INDEX
#define YMM    VX_BIT(VX_COMP_AVX)

/* Bits the feature table does not name (SDM Vol. 2A CPUID, AMD APM Vol. 3 CPUID). */
#define B1C_CX16	 (1u << 13)
#define B1C_PCID	 (1u << 17)
#define B1C_X2APIC	 (1u << 21)
#define B1C_TSC_DEADLINE (1u << 24)
#define B1C_OSXSAVE	 (1u << 27)
#define B1C_HYPERVISOR	 (1u << 31)
#define B1D_DS		 (1u << 21)
#define B1D_ACPI	 (1u << 22)
#define B1D_TM		 (1u << 29)
#define B1D_PBE		 (1u << 31)
#define B7B_AVX2	 (1u << 5)
#define B7B_INVPCID	 (1u << 10)
#define B7C_SHSTK	 (1u << 7)
#define B7C_VAES	 (1u << 9)
#define B7C_VPCLMULQDQ	 (1u << 10)
#define B7C_RDPID	 (1u << 22)
#define BX1C_XOP	 (1u << 11)
#define BX1C_FMA4	 (1u << 16)
#define BD1A_XSAVES	 (1u << 3)
#define BD1A_XFD	 (1u << 4)

/* ----------------------------------------------------------------------------------------- */
/* pvm-supported-cpuid-sparse: KVM_GET_SUPPORTED_CPUID bits of the model's table it lacks      */

static const struct {
	uint32_t leaf, subleaf;
	enum vx_cpuid_reg reg;
	uint32_t clear;
} sparse[] = {
    /* Measured: 1.ECX = CX16|X2APIC|TSC_DEADLINE|HYPERVISOR only. */
    {1, 0, VX_ECX, (1u << 0) | (1u << 22) | (1u << 26) | (1u << 28)}, /* SSE3 MOVBE XSAVE AVX */
    {7, 0, VX_EBX, B7B_AVX2},
    {7, 0, VX_ECX, B7C_RDPID},
    {0xD, 1, VX_EAX, UINT32_MAX}, /* 0xD.1 all zero */
    {0xD, 1, VX_EBX, UINT32_MAX},
    {0xD, 1, VX_ECX, UINT32_MAX},
    {0xD, 1, VX_EDX, UINT32_MAX},
    {0x80000001, 0, VX_EDX, (1u << 26) | (1u << 27)}, /* GBPAGES, RDTSCP */
};

static uint32_t *reg_of(struct vx_cpuid_regs *r, enum vx_cpuid_reg reg)
{
	uint32_t *regs[4] = {&r->eax, &r->ebx, &r->ecx, &r->edx};

	return regs[reg & 3];
}

void vx_kvm_pvm_sparse_supported(const struct vx_kvm *kvm, uint32_t leaf, uint32_t subleaf,
				 struct vx_cpuid_regs *r)
{
	if (!(kvm->opts.quirks & VX_BIT(VX_KVM_QUIRK_PVM_SUPPORTED_CPUID_SPARSE)))
		return;
	for (size_t i = 0; i < sizeof(sparse) / sizeof(sparse[0]); i++)
		if (sparse[i].leaf == leaf && sparse[i].subleaf == subleaf)
			*reg_of(r, sparse[i].reg) &= ~sparse[i].clear;
}

bool vx_kvm_pvm_emulates_rdpid(const struct vx_kvm *kvm)
{
	/* KVM_GET_EMULATED_CPUID offers RDPID only with RDTSCP, which PVM lacks (measured). */
	return !(kvm->opts.quirks & VX_BIT(VX_KVM_QUIRK_PVM_SUPPORTED_CPUID_SPARSE));
}

/* ----------------------------------------------------------------------------------------- */
/* pvm-cpuid-override: KVM_SET_CPUID2's entries rewritten                                       */

/* Functions whose index is architecturally significant (PVM's lookups need the flag). */
static bool indexed_function(uint32_t fn)
{
	static const uint32_t indexed[] = {4,	 7,    0xB,	   0xD,	       0xF,	  0x10,
					   0x12, 0x14, 0x17,	   0x18,       0x1D,	  0x1E,
					   0x1F, 0x24, 0x8000001D, 0x80000020, 0x80000026};

	for (size_t i = 0; i < sizeof(indexed) / sizeof(indexed[0]); i++)
		if (indexed[i] == fn)
			return true;
	return false;
}

/* The first entry PVM rewrites for (fn, idx): a flagged entry with that index, or an
 * unflagged one of a non-indexed function (measured: unflagged 7/0xD entries are left alone,
 * a flagged leaf 1 with index 5 too). */
static struct vx_kvm_cpuid_entry *pvm_find(struct vx_kvm_cpuid_entry *e, uint32_t n, uint32_t fn,
					   uint32_t idx)
{
	for (uint32_t i = 0; i < n; i++) {
		bool flagged = e[i].flags & SIGNIF;

		if (e[i].function == fn &&
		    (flagged ? e[i].index == idx : !indexed_function(fn) && idx == 0))
			return &e[i];
	}
	return NULL;
}

static struct vx_cpuid_regs host(const struct vx_kvm *kvm, uint32_t leaf, uint32_t subleaf)
{
	return vx_profile_leaf(kvm->profile, leaf, subleaf);
}

static void set_regs(struct vx_kvm_cpuid_entry *e, struct vx_cpuid_regs r)
{
	e->eax = r.eax;
	e->ebx = r.ebx;
	e->ecx = r.ecx;
	e->edx = r.edx;
}

static uint32_t append(const struct vx_kvm *kvm, struct vx_kvm_cpuid_entry *e, uint32_t n,
		       uint32_t idx)
{
	e[n] = (struct vx_kvm_cpuid_entry){0xD, idx, SIGNIF, 0, 0, 0, 0};
	set_regs(&e[n], host(kvm, 0xD, idx));
	return n + 1;
}

/* A leaf 1 without a 0xD.0: PVM appends the host's 0xD.0, 0xD.1 and one sub-leaf per
 * supported XCR0 component, raw (measured: the appended 0xD.1 keeps the host's XSAVES). */
static uint32_t append_leaf_d(const struct vx_kvm *kvm, struct vx_kvm_cpuid_entry *e, uint32_t n)
{
	if (!pvm_find(e, n, 1, 0) || pvm_find(e, n, 0xD, 0))
		return n;
	n = append(kvm, e, n, 0);
	n = append(kvm, e, n, 1);
	for (uint32_t i = 2; i < 64; i++)
		if (kvm->supported_xcr0 >> i & 1u)
			n = append(kvm, e, n, i);
	return n;
}

/* Leaf 1: the host's features are ORed into ECX except those KVM owns; EDX is the host's
 * plus what the caller set, less the thermal/debug-store bits. */
static void leaf_1(const struct vx_kvm *kvm, struct vx_kvm_cpuid_entry *e)
{
	struct vx_cpuid_regs h = host(kvm, 1, 0);

	e->ecx |= h.ecx & ~(B1C_CX16 | B1C_PCID | B1C_X2APIC | B1C_TSC_DEADLINE | B1C_OSXSAVE |
			    B1C_HYPERVISOR);
	e->edx = (e->edx & ~(B1D_DS | B1D_ACPI | B1D_TM | B1D_PBE)) | h.edx;
}

/* Leaf 7.0: the host's, less INVPCID, SHSTK and RDPID; without YMM also the AVX-based ones. */
static void leaf_7(const struct vx_kvm *kvm, struct vx_kvm_cpuid_entry *e, bool ymm)
{
	set_regs(e, host(kvm, 7, 0));
	e->ebx &= ~B7B_INVPCID;
	e->ecx &= ~(B7C_SHSTK | B7C_RDPID);
	if (!ymm) {
		e->ebx &= ~B7B_AVX2;
		e->ecx &= ~(B7C_VAES | B7C_VPCLMULQDQ);
	}
}

/* 0xD.0 = supported_xcr0 and its size; 0xD.1 = the host's EAX less XSAVES and XFD, no XSS;
 * 0xD.i = the host's for a component of the guest's XCR0 support (supported_xcr0 when there
 * is a 0xD.0, none without: measured zero), else zero. */
static void leaf_d(const struct vx_kvm *kvm, struct vx_kvm_cpuid_entry *e, uint32_t n)
{
	struct vx_kvm_cpuid_entry *d0 = pvm_find(e, n, 0xD, 0), *d1 = pvm_find(e, n, 0xD, 1);
	const struct vx_cpuid_regs zero = {0, 0, 0, 0};
	uint64_t xcr0 = d0 ? kvm->supported_xcr0 : 0;

	if (d0)
		set_regs(d0, (struct vx_cpuid_regs){
				 (uint32_t)kvm->supported_xcr0, d0->ebx,
				 vx_kvm_xstate_required_size(kvm, kvm->supported_xcr0, false),
				 (uint32_t)(kvm->supported_xcr0 >> 32)});
	if (d1)
		set_regs(d1, (struct vx_cpuid_regs){
				 host(kvm, 0xD, 1).eax & ~(BD1A_XSAVES | BD1A_XFD), d1->ebx, 0, 0});
	for (uint32_t i = 0; i < n; i++)
		if (e[i].function == 0xD && (e[i].flags & SIGNIF) && e[i].index >= 2)
			set_regs(&e[i], e[i].index < 64 && xcr0 >> e[i].index & 1u
					    ? host(kvm, 0xD, e[i].index)
					    : zero);
}

uint32_t vx_kvm_pvm_cpuid_override(const struct vx_kvm *kvm, struct vx_kvm_cpuid_entry *e,
				   uint32_t n)
{
	struct vx_kvm_cpuid_entry *x;
	bool ymm;

	if (!(kvm->opts.quirks & VX_BIT(VX_KVM_QUIRK_PVM_CPUID_OVERRIDE)))
		return n;
	n = append_leaf_d(kvm, e, n);
	ymm = pvm_find(e, n, 0xD, 0) && (kvm->supported_xcr0 & YMM);
	if ((x = pvm_find(e, n, 1, 0)))
		leaf_1(kvm, x);
	if ((x = pvm_find(e, n, 7, 0)))
		leaf_7(kvm, x, ymm);
	if ((x = pvm_find(e, n, 7, 1)))
		set_regs(x, host(kvm, 7, 1));
	leaf_d(kvm, e, n);
	/* XOP and FMA4 are AVX-based: gone without YMM. */
	if ((x = pvm_find(e, n, 0x80000001, 0)) && !ymm)
		x->ecx &= ~(BX1C_XOP | BX1C_FMA4);
	return n;
}
