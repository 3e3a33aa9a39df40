/* SPDX-License-Identifier: MIT */
/*
 * Standard and compacted layouts of the XSAVE area (arch.md §2.4).
 *
 * Standard: component i sits at CPUID.(0xD,i).EBX whatever else is enabled; the size is the
 * largest offset+size, not the offset of the highest bit (APX at 960 and LWP at 832 are
 * out of order with respect to their numbers; anchors.md pain 14).
 * Compacted: components of the mask are packed in ascending order after the 576-byte
 * legacy region and header, each one rounded up to 64 bytes when CPUID.(0xD,i).ECX[1] says so.
 *
 * Everything here reads the profile's decoded leaf 0xD (struct vx_xsave_view, profile.c),
 * never the raw sub-leaves.
 */
#include <errno.h>
#include <string.h>

#include <vxsave/arch.h>

/*
 * Offsets and sizes are added in 64 bits: CPUID's 32-bit values can be anything in a crafted
 * profile, and a wrapped sum would put a component before its own offset.  The public size
 * functions saturate at UINT32_MAX; vx_layout_compute() refuses such profiles instead
 * (vx_profile_check_xsave_leaves()).
 */
static uint64_t round_up_64(uint64_t value)
{
	return (value + 63u) & ~(uint64_t)63u;
}

static uint32_t saturate(uint64_t value)
{
	return value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
}

static uint64_t standard_end(const struct vx_profile *profile, uint64_t xcr0)
{
	uint64_t size = VX_EXTENDED_OFFSET;

	for (unsigned i = 2; i < VX_COMP_LIMIT; i++) {
		const struct vx_xsave_component *c = &profile->xsave.component[i];

		if (!(xcr0 & VX_BIT(i)))
			continue;
		/* Supervisor components never appear in the standard format (§2.4). */
		if (c->supervisor || c->size == 0)
			continue;
		if ((uint64_t)c->offset + c->size > size)
			size = (uint64_t)c->offset + c->size;
	}
	return size;
}

uint32_t vx_standard_size(const struct vx_profile *profile, uint64_t xcr0)
{
	return saturate(standard_end(profile, xcr0));
}

/* Walk the compacted layout of @mask; returns the size and, if @component is in it, its offset. */
static uint64_t compacted_walk(const struct vx_profile *profile, uint64_t mask, unsigned component,
			       uint64_t *offset_of_component)
{
	uint64_t offset = VX_EXTENDED_OFFSET;

	for (unsigned i = 2; i < VX_COMP_LIMIT; i++) {
		const struct vx_xsave_component *c = &profile->xsave.component[i];

		if (!(mask & VX_BIT(i)))
			continue;
		if (c->align64) /* §1.4 ECX[1]: starts on a 64-byte boundary */
			offset = round_up_64(offset);
		if (i == component && offset_of_component)
			*offset_of_component = offset;
		offset += c->size;
	}
	return offset;
}

uint32_t vx_compacted_size(const struct vx_profile *profile, uint64_t mask)
{
	return saturate(compacted_walk(profile, mask, VX_COMP_LIMIT, NULL));
}

uint32_t vx_compacted_offset(const struct vx_profile *profile, uint64_t mask, unsigned component)
{
	uint64_t offset = 0;

	if (component >= VX_COMP_LIMIT || !(mask & VX_BIT(component)))
		return 0;
	/* Components 0 and 1 keep their legacy places in both formats. */
	if (component == VX_COMP_X87)
		return 0;
	if (component == VX_COMP_SSE)
		return VX_XMM_OFFSET;
	compacted_walk(profile, mask, component, &offset);
	return saturate(offset);
}

int vx_layout_compute(const struct vx_profile *profile, uint64_t features, struct vx_layout *layout,
		      struct vx_error *err)
{
	uint64_t supported = vx_profile_xcr0_supported(profile) | vx_profile_xss_supported(profile);
	uint64_t unknown = features & ~supported;
	struct vx_layout result;
	int rc;

	/* Sizes and offsets out of all reason: no layout, the register named in @err. */
	rc = vx_profile_check_xsave_leaves(profile, err);
	if (rc)
		return rc;
	if (unknown) {
		char names[128];

		vx_format_component_mask(unknown, names, sizeof(names));
		vx_error_set(err, -EINVAL, "arch.md §1.2/§1.3",
			     "component bits 0x%llx (%s) are not enumerated by profile '%s' "
			     "(XCR0 mask 0x%llx, XSS mask 0x%llx)",
			     (unsigned long long)unknown, names, profile->name,
			     (unsigned long long)vx_profile_xcr0_supported(profile),
			     (unsigned long long)vx_profile_xss_supported(profile));
		if (err)
			err->bits = unknown;
		return -EINVAL;
	}

	memset(&result, 0, sizeof(result));
	result.features = features;
	/* One ascending walk gives the compacted offsets (§2.4) and both sizes. */
	uint64_t compacted = VX_EXTENDED_OFFSET;
	uint64_t standard = VX_EXTENDED_OFFSET;
	for (unsigned i = 0; i < VX_COMP_LIMIT; i++) {
		struct vx_layout_entry *e = &result.entries[result.count];
		struct vx_component_desc d;

		if (!(features & VX_BIT(i)))
			continue;
		vx_profile_component(profile, i, &d);
		e->component = i;
		e->size = d.size;
		e->supervisor = d.supervisor;
		e->align64 = d.align64;
		e->xfd_capable = d.xfd_capable;
		e->in_standard = !d.supervisor;
		e->standard_offset = d.supervisor ? 0 : d.standard_offset;
		if (i < 2) {
			/* x87 and SSE keep their legacy places in both formats. */
			e->compacted_offset = d.standard_offset;
		} else {
			compacted = d.align64 ? round_up_64(compacted) : compacted;
			e->compacted_offset = (uint32_t)compacted;
			compacted += d.size;
			if (!d.supervisor && d.size &&
			    (uint64_t)d.standard_offset + d.size > standard)
				standard = (uint64_t)d.standard_offset + d.size;
		}
		result.count++;
	}
	/* The bounds above keep both within VX_XSAVE_AREA_MAX. */
	result.standard_size = (uint32_t)standard;
	result.compacted_size = (uint32_t)compacted;
	result.cpuid_enabled_standard_size = profile->xsave.enabled_size;
	result.cpuid_max_standard_size = profile->xsave.max_size;
	result.cpuid_enabled_compacted_size = profile->xsave.compacted_size;
	*layout = result;
	return 0;
}
