/* SPDX-License-Identifier: MIT */
/*
 * Where components go in an area (arch.md §2.4), from the facts decoded at create.
 * Compacted layouts are cached per mask: a context switch saves and restores the same mask
 * over and over, so the §2.4 walk runs once per mask, not once per instruction.
 */
#include "cpu/cpu_internal.h"

/* §2.4: pack the mask's components in ascending order, 64-byte aligned when ECX[1] says so. */
static void walk_compacted(const struct vx_cpu *cpu, uint64_t mask, struct compact_layout *out)
{
	const struct cpu_facts *f = &cpu->facts;
	uint64_t offset = VX_EXTENDED_OFFSET;

	out->mask = mask;
	for (unsigned n = 0; n < f->stored_count; n++) {
		unsigned i = f->stored_list[n];

		if (!(mask & VX_BIT(i)))
			continue;
		if (f->align64 & VX_BIT(i))
			offset = (offset + 63u) & ~(uint64_t)63u;
		out->offset[i] = (uint32_t)offset;
		offset += f->size[i];
	}
	/* At most VX_XSAVE_AREA_MAX: vx_cpu_create() checked every supported component's sum. */
	out->size = (uint32_t)offset;
}

/* The compacted layout of @mask (bits 2..62; the caller has checked they are supported). */
const struct compact_layout *layout_compacted(struct vx_cpu *cpu, uint64_t mask)
{
	struct compact_layout *slot;

	mask &= ~(VX_XCOMP_BV_COMPACTED | MASK_LEGACY);
	for (unsigned i = 0; i < LAYOUT_CACHE_SLOTS; i++)
		if (cpu->layouts[i].mask == mask)
			return &cpu->layouts[i];
	slot = &cpu->layouts[cpu->next_layout_slot];
	cpu->next_layout_slot = (cpu->next_layout_slot + 1) % LAYOUT_CACHE_SLOTS;
	walk_compacted(cpu, mask, slot);
	return slot;
}

/*
 * One past the last standard-format byte of @components (at least the 576-byte base): the
 * end of the first of them in by_standard_end (cpu.c), usually the first entry looked at.
 */
uint64_t layout_standard_end(const struct vx_cpu *cpu, uint64_t components)
{
	const struct cpu_facts *f = &cpu->facts;

	for (unsigned n = 0; n < f->stored_count; n++) {
		unsigned i = f->by_standard_end[n];
		uint64_t component_end = (uint64_t)f->standard_offset[i] + f->size[i];

		if (components & VX_BIT(i))
			return component_end > VX_EXTENDED_OFFSET ? component_end
								  : VX_EXTENDED_OFFSET;
	}
	return VX_EXTENDED_OFFSET;
}
