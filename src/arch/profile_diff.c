/* SPDX-License-Identifier: MIT */
/*
 * Comparing two profiles as a VMM operator asks it: does everything one CPU enumerates for
 * XSAVE and CET exist on the other, in the same place?  (Firecracker's "does the snapshot's
 * CPU template still fit this host", QEMU's CPU-model checks.)  The comparison is over
 * derived facts - feature flags, the XCR0/XSS/XFD masks, each component's geometry, the
 * identity - not raw registers: two dumps of the same part taken under different OSes differ
 * in 0xD.0 EBX but describe the same CPU.  docs/profiles.md "Comparing profiles".
 */
#include <string.h>

#include <vxsave/arch.h>

/*
 * The CPUID words made only of feature flags, with the bits that are not CPU facts masked out:
 * CPUID.1:ECX[27] OSXSAVE and CPUID.7:ECX[4] OSPKE reflect the OS's CR4 (SDM Vol. 2A CPUID),
 * CPUID.7:ECX[21:17] is the MAWAU value, not a flag.
 */
static const struct {
	uint32_t leaf, subleaf;
	enum vx_cpuid_reg reg;
	uint32_t flags;
} feature_words[VX_PROFILE_FEATURE_WORDS] = {
    {0x1, 0, VX_ECX, ~(1u << 27)},
    {0x1, 0, VX_EDX, ~0u},
    {0x6, 0, VX_EAX, ~0u},
    {0x7, 0, VX_EBX, ~0u},
    {0x7, 0, VX_ECX, ~((1u << 4) | (0x1fu << 17))},
    {0x7, 0, VX_EDX, ~0u},
    {0x7, 1, VX_EAX, ~0u},
    {0x7, 1, VX_EBX, ~0u},
    {0x7, 1, VX_EDX, ~0u},
    {0xD, 1, VX_EAX, ~0u},
    {0x80000001, 0, VX_ECX, ~0u},
    {0x80000001, 0, VX_EDX, ~0u},
};

static uint32_t reg_value(const struct vx_cpuid_regs *r, enum vx_cpuid_reg reg)
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

bool vx_profile_feature_word(unsigned index, uint32_t *leaf, uint32_t *subleaf,
			     enum vx_cpuid_reg *reg)
{
	if (index >= VX_PROFILE_FEATURE_WORDS || !leaf || !subleaf || !reg)
		return false;
	*leaf = feature_words[index].leaf;
	*subleaf = feature_words[index].subleaf;
	*reg = feature_words[index].reg;
	return true;
}

static uint32_t feature_word(const struct vx_profile *p, unsigned index)
{
	struct vx_cpuid_regs r =
	    vx_profile_leaf(p, feature_words[index].leaf, feature_words[index].subleaf);

	return reg_value(&r, feature_words[index].reg) & feature_words[index].flags;
}

/* Named flags, without the two that are OS state rather than CPU facts. */
static uint64_t named_features(const struct vx_profile *p)
{
	uint64_t set = 0;

	for (unsigned f = 0; f < VX_FEAT_COUNT; f++)
		if (f != VX_FEAT_OSXSAVE && f != VX_FEAT_OSPKE &&
		    vx_profile_has(p, (enum vx_feature)f))
			set |= VX_BIT(f);
	return set;
}

/*
 * Do two descriptions of one component agree on where XSAVE puts it (§1.4)?  XFD capability is
 * not geometry: it counts through the XFD-supported masks, as something one side has more of.
 */
static bool same_geometry(const struct vx_component_desc *a, const struct vx_component_desc *b)
{
	return a->size == b->size && a->supervisor == b->supervisor && a->align64 == b->align64 &&
	       (a->supervisor || a->standard_offset == b->standard_offset);
}

static void compare_components(const struct vx_profile *a, const struct vx_profile *b,
			       struct vx_profile_diff *out)
{
	uint64_t both = (vx_profile_xcr0_supported(a) | vx_profile_xss_supported(a)) &
			(vx_profile_xcr0_supported(b) | vx_profile_xss_supported(b));

	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		struct vx_component_desc da, db;

		if (!(both & VX_BIT(id)))
			continue;
		vx_profile_component(a, id, &da);
		vx_profile_component(b, id, &db);
		if (!same_geometry(&da, &db))
			out->components_differ |= VX_BIT(id);
	}
}

static enum vx_profile_relation relation_of(const struct vx_profile_diff *d)
{
	bool a_extra = d->features_only_a || d->xcr0_only_a || d->xss_only_a || d->xfd_only_a;
	bool b_extra = d->features_only_b || d->xcr0_only_b || d->xss_only_b || d->xfd_only_b;

	for (unsigned w = 0; w < VX_PROFILE_FEATURE_WORDS; w++) {
		a_extra |= d->word_only_a[w] != 0;
		b_extra |= d->word_only_b[w] != 0;
	}
	/* Another vendor or another geometry: state saved on one is not the other's. */
	if (d->vendor_differs || d->components_differ || (a_extra && b_extra))
		return VX_PROFILES_DIFFER;
	if (a_extra)
		return VX_PROFILES_SUPERSET;
	if (b_extra)
		return VX_PROFILES_SUBSET;
	return d->identity_differs ? VX_PROFILES_EQUIVALENT : VX_PROFILES_IDENTICAL;
}

void vx_profile_diff(const struct vx_profile *a, const struct vx_profile *b,
		     struct vx_profile_diff *out)
{
	struct vx_cpu_identity ia, ib;
	uint64_t fa = named_features(a), fb = named_features(b);

	memset(out, 0, sizeof(*out));
	out->vendor_differs = vx_profile_vendor(a) != vx_profile_vendor(b);
	vx_profile_identity(a, &ia);
	vx_profile_identity(b, &ib);
	out->identity_differs = ia.signature != ib.signature;
	out->features_only_a = fa & ~fb;
	out->features_only_b = fb & ~fa;
	for (unsigned w = 0; w < VX_PROFILE_FEATURE_WORDS; w++) {
		uint32_t wa = feature_word(a, w), wb = feature_word(b, w);

		out->word_only_a[w] = wa & ~wb;
		out->word_only_b[w] = wb & ~wa;
	}
	out->xcr0_only_a = vx_profile_xcr0_supported(a) & ~vx_profile_xcr0_supported(b);
	out->xcr0_only_b = vx_profile_xcr0_supported(b) & ~vx_profile_xcr0_supported(a);
	out->xss_only_a = vx_profile_xss_supported(a) & ~vx_profile_xss_supported(b);
	out->xss_only_b = vx_profile_xss_supported(b) & ~vx_profile_xss_supported(a);
	out->xfd_only_a = vx_profile_xfd_supported(a) & ~vx_profile_xfd_supported(b);
	out->xfd_only_b = vx_profile_xfd_supported(b) & ~vx_profile_xfd_supported(a);
	compare_components(a, b, out);
	out->raw_differences = vx_profile_compare(a, b, NULL);
	out->relation = relation_of(out);
}

const char *vx_profile_relation_name(enum vx_profile_relation relation)
{
	switch (relation) {
	case VX_PROFILES_IDENTICAL:
		return "identical";
	case VX_PROFILES_EQUIVALENT:
		return "equivalent";
	case VX_PROFILES_SUPERSET:
		return "compatible superset";
	case VX_PROFILES_SUBSET:
		return "compatible subset";
	case VX_PROFILES_DIFFER:
		break;
	}
	return "differs";
}
