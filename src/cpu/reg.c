/* SPDX-License-Identifier: MIT */
/*
 * The register table: every named register of the model, the component that holds it, and
 * where its bytes are.  Dump, compare, get/set and the CLI all read it.  Its rows are the
 * arch layer's (src/arch/area_fields.def, also vx_area_field_at()): registers are
 * architectural facts, the cpu layer only says where this cpu stores them.
 */
#include "arch/text.h"
#include "cpu/cpu_internal.h"

/* The arch field table's rows (area_fields.def): one table of registers, two row types. */
static const struct vx_reg_info reg_table[] = {
#define VX_FIELD(name, component, offset, width) {name, component, offset, width},
#include "arch/area_fields.def"
#undef VX_FIELD
};

#define REG_COUNT (sizeof(reg_table) / sizeof(reg_table[0]))

const struct vx_reg_info *vx_reg_lookup(const char *name)
{
	if (!name)
		return NULL;
	for (unsigned i = 0; i < REG_COUNT; i++)
		if (vx_name_matches(reg_table[i].name, name, vx_strlen(name)))
			return &reg_table[i];
	return NULL;
}

unsigned vx_reg_count(void)
{
	return (unsigned)REG_COUNT;
}

const struct vx_reg_info *vx_reg_at(unsigned index)
{
	return index < REG_COUNT ? &reg_table[index] : NULL;
}

/* FCS and FDS are kept beside the 64-bit FIP/FDP, not in the legacy image (§2.2). */
static bool is_selector(const struct vx_reg_info *reg, uint32_t offset)
{
	return reg->component == VX_COMP_X87 && reg->offset == offset && reg->width == 2;
}

enum place_kind { PLACE_NONE, PLACE_LEGACY, PLACE_FCS, PLACE_FDS, PLACE_COMPONENT };

struct reg_place {
	enum place_kind kind;
	uint32_t offset; /* in the legacy image or the component's bytes */
	uint32_t width;
};

/* Where @reg lives in this cpu; PLACE_NONE if the cpu does not have it. */
static struct reg_place place_of(const struct vx_cpu *cpu, const struct vx_reg_info *reg)
{
	struct reg_place none = {PLACE_NONE, 0, 0};
	struct reg_place p = {PLACE_LEGACY, reg->offset, reg->width};
	unsigned c = reg->component;

	if (is_selector(reg, LEG_FCS))
		p.kind = PLACE_FCS;
	else if (is_selector(reg, LEG_FDS))
		p.kind = PLACE_FDS;
	if (c == VX_COMP_X87 || c == VX_COMP_SSE)
		return (p.width && p.offset + p.width <= VX_LEGACY_SIZE) ? p : none;
	if (c >= VX_COMP_LIMIT || !(cpu->facts.stored & VX_BIT(c)))
		return none;
	p.kind = PLACE_COMPONENT;
	if (p.width == 0)
		p.width = cpu->facts.size[c] ? cpu->facts.size[c] : cpu->facts.store_size[c];
	if (p.width == 0 || p.offset + p.width > cpu->facts.store_size[c])
		return none;
	return p;
}

const uint8_t *reg_storage_const(const struct vx_cpu *cpu, const struct vx_reg_info *reg,
				 uint32_t *width)
{
	struct reg_place p = place_of(cpu, reg);

	*width = p.width;
	switch (p.kind) {
	case PLACE_LEGACY:
		return cpu->state.legacy + p.offset;
	case PLACE_FCS:
		return (const uint8_t *)&cpu->state.fcs;
	case PLACE_FDS:
		return (const uint8_t *)&cpu->state.fds;
	case PLACE_COMPONENT:
		return component_bytes_const(cpu, reg->component) + p.offset;
	case PLACE_NONE:
		break;
	}
	return NULL;
}

uint8_t *reg_storage(struct vx_cpu *cpu, const struct vx_reg_info *reg, uint32_t *width)
{
	struct reg_place p = place_of(cpu, reg);

	*width = p.width;
	switch (p.kind) {
	case PLACE_LEGACY:
		return cpu->state.legacy + p.offset;
	case PLACE_FCS:
		return (uint8_t *)&cpu->state.fcs;
	case PLACE_FDS:
		return (uint8_t *)&cpu->state.fds;
	case PLACE_COMPONENT:
		return component_bytes(cpu, reg->component) + p.offset;
	case PLACE_NONE:
		break;
	}
	return NULL;
}
