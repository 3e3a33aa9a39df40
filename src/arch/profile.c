/* SPDX-License-Identifier: MIT */
/*
 * CPU profiles: the raw CPUID leaves that matter for XSAVE and CET, and typed accessors that
 * derive everything else from them (arch.md §1).  A profile stores leaves only; vendor, flags,
 * sizes and offsets are always computed, never copied.
 */
#include <errno.h>
#include <string.h>

#include <vxsave/arch.h>

/*
 * The (leaf, subleaf) pairs a profile keeps, in slot order: one row per range.
 * 0xD keeps every sub-leaf 0..63 (§1.4: sub-leaf i describes component i).
 */
static const struct {
	uint32_t leaf;
	uint32_t first_subleaf;
	uint32_t subleaf_count;
} kept_leaves[] = {
	{0x0, 0, 1},	    {0x1, 0, 1},	{0x6, 0, 1},	    {0x7, 0, 2},
	{0xD, 0, 64},	    {0x14, 0, 2},	{0x1D, 0, 2},	    {0x1E, 0, 2},
	{0x80000000, 0, 1}, {0x80000001, 0, 1}, {0x80000008, 0, 1},
};

#define KEPT_COUNT (sizeof(kept_leaves) / sizeof(kept_leaves[0]))

_Static_assert(1 + 1 + 1 + 2 + 64 + 2 + 2 + 2 + 1 + 1 + 1 == VX_PROFILE_SLOTS,
	       "VX_PROFILE_SLOTS must match kept_leaves[]");

int vx_profile_slot(uint32_t leaf, uint32_t subleaf)
{
	int base = 0;

	for (size_t i = 0; i < KEPT_COUNT; i++) {
		if (kept_leaves[i].leaf == leaf) {
			uint32_t rel = subleaf - kept_leaves[i].first_subleaf;

			if (subleaf < kept_leaves[i].first_subleaf ||
			    rel >= kept_leaves[i].subleaf_count)
				return -1;
			return base + (int)rel;
		}
		base += (int)kept_leaves[i].subleaf_count;
	}
	return -1;
}

bool vx_profile_slot_leaf(unsigned slot, uint32_t *leaf, uint32_t *subleaf)
{
	unsigned base = 0;

	for (size_t i = 0; i < KEPT_COUNT; i++) {
		if (slot < base + kept_leaves[i].subleaf_count) {
			*leaf = kept_leaves[i].leaf;
			*subleaf = kept_leaves[i].first_subleaf + (slot - base);
			return true;
		}
		base += kept_leaves[i].subleaf_count;
	}
	return false;
}

void vx_profile_init(struct vx_profile *profile)
{
	memset(profile, 0, sizeof(*profile));
	profile->mxcsr_mask = 0x0000FFFF;
}

int vx_profile_set_leaf(struct vx_profile *profile, uint32_t leaf, uint32_t subleaf,
			const struct vx_cpuid_regs *regs)
{
	int slot = vx_profile_slot(leaf, subleaf);

	if (slot < 0)
		return -ENOENT;
	profile->leaves[slot] = *regs;
	return 0;
}

/* The maximum leaf of the range @leaf belongs to (basic or extended), as CPUID reports it. */
static uint32_t max_leaf_of_range(const struct vx_profile *profile, uint32_t leaf)
{
	uint32_t range_base = leaf & 0x80000000u;

	return profile->leaves[vx_profile_slot(range_base, 0)].eax;
}

struct vx_cpuid_regs vx_profile_leaf(const struct vx_profile *profile, uint32_t leaf,
				     uint32_t subleaf)
{
	static const struct vx_cpuid_regs zero;
	int slot = vx_profile_slot(leaf, subleaf);

	if (slot < 0)
		return zero;
	/* Leaves above the range's maximum do not exist (leaf 0 and 0x80000000 always do). */
	if ((leaf & 0x7fffffffu) != 0 && leaf > max_leaf_of_range(profile, leaf))
		return zero;
	return profile->leaves[slot];
}

static uint32_t reg_of(const struct vx_cpuid_regs *r, enum vx_cpuid_reg reg)
{
	switch (reg) {
	case VX_EAX:
		return r->eax;
	case VX_EBX:
		return r->ebx;
	case VX_ECX:
		return r->ecx;
	case VX_EDX:
		return r->edx;
	}
	return 0;
}

enum vx_vendor vx_profile_vendor(const struct vx_profile *profile)
{
	struct vx_cpuid_regs r = vx_profile_leaf(profile, 0, 0);
	char id[13];

	/* Vendor string is EBX, EDX, ECX of leaf 0. */
	memcpy(id, &r.ebx, 4);
	memcpy(id + 4, &r.edx, 4);
	memcpy(id + 8, &r.ecx, 4);
	id[12] = '\0';
	if (strcmp(id, "GenuineIntel") == 0)
		return VX_VENDOR_INTEL;
	if (strcmp(id, "AuthenticAMD") == 0 || strcmp(id, "HygonGenuine") == 0)
		return VX_VENDOR_AMD;
	if (r.ebx == 0 && r.ecx == 0 && r.edx == 0)
		return VX_VENDOR_UNKNOWN;
	return VX_VENDOR_OTHER;
}

const char *vx_vendor_name(enum vx_vendor vendor)
{
	switch (vendor) {
	case VX_VENDOR_INTEL:
		return "Intel";
	case VX_VENDOR_AMD:
		return "AMD";
	case VX_VENDOR_OTHER:
		return "other";
	case VX_VENDOR_UNKNOWN:
		break;
	}
	return "unknown";
}

bool vx_profile_has(const struct vx_profile *profile, enum vx_feature feature)
{
	const struct vx_feature_info *f = vx_feature_info(feature);

	if (!f)
		return false;
	struct vx_cpuid_regs r = vx_profile_leaf(profile, f->leaf, f->subleaf);
	return (reg_of(&r, f->reg) >> f->bit) & 1u;
}

uint64_t vx_profile_xcr0_supported(const struct vx_profile *profile)
{
	struct vx_cpuid_regs r = vx_profile_leaf(profile, 0xD, 0);

	/* §1.2: EDX:EAX of 0xD.0, meaningful only when XSAVE exists. */
	if (!vx_profile_has(profile, VX_FEAT_XSAVE))
		return 0;
	return (uint64_t)r.edx << 32 | r.eax;
}

uint64_t vx_profile_xss_supported(const struct vx_profile *profile)
{
	struct vx_cpuid_regs r = vx_profile_leaf(profile, 0xD, 1);

	/* §3.2: IA32_XSS exists only with XSAVES. */
	if (!vx_profile_has(profile, VX_FEAT_XSAVE) || !vx_profile_has(profile, VX_FEAT_XSAVES))
		return 0;
	return (uint64_t)r.edx << 32 | r.ecx;
}

uint64_t vx_profile_xfd_supported(const struct vx_profile *profile)
{
	uint64_t mask = 0;

	/* §3.3: IA32_XFD[i] may be set iff XFD exists and CPUID.(0xD,i).ECX[2] = 1. */
	if (!vx_profile_has(profile, VX_FEAT_XSAVE) || !vx_profile_has(profile, VX_FEAT_XFD))
		return 0;
	for (unsigned i = 2; i < VX_COMP_LIMIT; i++)
		if (vx_profile_leaf(profile, 0xD, i).ecx & 4u)
			mask |= VX_BIT(i);
	return mask;
}

uint32_t vx_profile_mxcsr_mask(const struct vx_profile *profile)
{
	/* §2.2: FXSAVE stores 0 when the CPU uses the default mask 0xFFBF (no DAZ). */
	return profile->mxcsr_mask ? profile->mxcsr_mask : 0x0000FFBFu;
}

unsigned vx_profile_linear_address_bits(const struct vx_profile *profile)
{
	unsigned bits = (vx_profile_leaf(profile, 0x80000008, 0).eax >> 8) & 0xffu;

	return bits ? bits : 48;
}

bool vx_profile_component(const struct vx_profile *profile, unsigned id,
			  struct vx_component_desc *desc)
{
	uint64_t supported = vx_profile_xcr0_supported(profile) | vx_profile_xss_supported(profile);

	if (id >= VX_COMP_LIMIT)
		return false;
	memset(desc, 0, sizeof(*desc));
	desc->supported = (supported >> id) & 1u;
	/* §1.4: sub-leaves 0 and 1 are special; x87 and SSE have the fixed legacy geometry. */
	if (id == VX_COMP_X87) {
		desc->size = 160;
		desc->standard_offset = 0;
		return true;
	}
	if (id == VX_COMP_SSE) {
		desc->size = 256;
		desc->standard_offset = VX_XMM_OFFSET;
		return true;
	}
	struct vx_cpuid_regs r = vx_profile_leaf(profile, 0xD, id);
	desc->size = r.eax;
	desc->standard_offset = r.ebx;
	desc->supervisor = r.ecx & 1u;
	desc->align64 = (r.ecx >> 1) & 1u;
	desc->xfd_capable = (r.ecx >> 2) & 1u;
	return true;
}

unsigned vx_profile_compare(const struct vx_profile *a, const struct vx_profile *b,
			    struct vx_profile_difference *first)
{
	unsigned differences = 0;

	for (unsigned slot = 0; slot < VX_PROFILE_SLOTS; slot++) {
		uint32_t leaf, subleaf;

		vx_profile_slot_leaf(slot, &leaf, &subleaf);
		struct vx_cpuid_regs ra = vx_profile_leaf(a, leaf, subleaf);
		struct vx_cpuid_regs rb = vx_profile_leaf(b, leaf, subleaf);
		/* CPUID.1:EBX[31:24] is the initial APIC ID: different on every logical CPU. */
		if (leaf == 1) {
			ra.ebx &= 0x00ffffffu;
			rb.ebx &= 0x00ffffffu;
		}
		for (int reg = VX_EAX; reg <= VX_EDX; reg++) {
			uint32_t va = reg_of(&ra, (enum vx_cpuid_reg)reg);
			uint32_t vb = reg_of(&rb, (enum vx_cpuid_reg)reg);

			if (va == vb)
				continue;
			if (differences++ == 0 && first) {
				first->leaf = leaf;
				first->subleaf = subleaf;
				first->reg = (enum vx_cpuid_reg)reg;
				first->a = va;
				first->b = vb;
			}
		}
	}
	return differences;
}
