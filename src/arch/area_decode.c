/* SPDX-License-Identifier: MIT */
/*
 * Decoding an XSAVE area (area.h): the named registers of every component (arch.md §2.1
 * "Contents", §2.2, §2.5), the byte ranges an area holds as its header lays it out (§2.3,
 * §2.4), and the CPUID size of registers only CPUID can size (PT, LBR: §1.4).
 *
 * Field offsets (area_fields.def): x87 and SSE registers by their place in the legacy region
 * (§2.2); every other register by its offset within its component's bytes, because the
 * standard offset of a component differs between vendors (§2.6).  Width 0 means "the whole
 * component".
 */
#include <errno.h>
#include <string.h>

#include <vxsave/area.h>

#include "arch/text.h"

/* The rows are in area_fields.def, the one register table (the cpu layer's reg.c reads it too). */
static const struct vx_area_field field_table[] = {
#define VX_FIELD(name, component, offset, width) {name, component, offset, width},
#include "arch/area_fields.def"
#undef VX_FIELD
};

#define FIELD_COUNT (sizeof(field_table) / sizeof(field_table[0]))

unsigned vx_area_field_count(void)
{
	return (unsigned)FIELD_COUNT;
}

const struct vx_area_field *vx_area_field_at(unsigned index)
{
	return index < FIELD_COUNT ? &field_table[index] : NULL;
}

const struct vx_area_field *vx_area_field_lookup(const char *name)
{
	if (!name)
		return NULL;
	for (unsigned i = 0; i < FIELD_COUNT; i++)
		if (vx_name_matches(field_table[i].name, name, vx_strlen(name)))
			return &field_table[i];
	return NULL;
}

int vx_area_field_width(const struct vx_profile *profile, unsigned component, uint32_t width,
			uint32_t *out, struct vx_error *err)
{
	struct vx_component_desc desc;
	uint32_t size;

	/* §1.4: components 2..62 exist only when CPUID's XCR0 or XSS mask lists them. */
	if (!vx_profile_component(profile, component, &desc) ||
	    (component > VX_COMP_SSE && !desc.supported)) {
		vx_error_set(err, -ENOTSUP, "arch.md §1.2/§1.3",
			     "component %u is not enumerated by profile '%s'", component,
			     profile->name);
		if (err)
			err->component = (int)component;
		return -ENOTSUP;
	}
	size = width ? width : desc.size;
	if (size == 0) {
		vx_error_set(err, -ERANGE, "arch.md §1.4", "CPUID.(0xD,%u).EAX gives size 0",
			     component);
		if (err)
			err->component = (int)component;
		return -ERANGE;
	}
	if (out)
		*out = size;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Regions                                                                                      */

static void add_region(struct vx_area_map *map, enum vx_area_region_kind kind, int component,
		       uint64_t start, uint64_t end, uint64_t base)
{
	struct vx_area_region *r;

	if (map->count == VX_AREA_REGIONS_MAX || end <= start)
		return;
	r = &map->regions[map->count++];
	r->kind = kind;
	r->component = component;
	r->start = start;
	r->end = end;
	r->base = base;
}

/* §2.2, §2.3: the fixed first 576 bytes, listed whatever the buffer holds. */
static void add_fixed_regions(struct vx_area_map *map)
{
	add_region(map, VX_AREA_REGION_COMPONENT, VX_COMP_X87, 0, VX_MXCSR_OFFSET, 0);
	add_region(map, VX_AREA_REGION_COMPONENT, VX_COMP_SSE, VX_MXCSR_OFFSET, 32, 0);
	add_region(map, VX_AREA_REGION_COMPONENT, VX_COMP_X87, 32, VX_XMM_OFFSET, 0);
	add_region(map, VX_AREA_REGION_COMPONENT, VX_COMP_SSE, VX_XMM_OFFSET, 416, 0);
	add_region(map, VX_AREA_REGION_RESERVED, -1, 416, 464, 0);
	add_region(map, VX_AREA_REGION_SOFTWARE, -1, 464, VX_LEGACY_SIZE, 0);
	add_region(map, VX_AREA_REGION_HEADER, -1, VX_HEADER_OFFSET, VX_EXTENDED_OFFSET, 0);
}

/*
 * Components 2..62 of the layout (§2.4): compacted ones packed by index (a component the
 * profile sizes 0 takes no room), standard ones at CPUID.(0xD,i).EBX.  Returns the area end.
 */
static uint64_t add_component_regions(const struct vx_profile *profile, struct vx_area_map *map)
{
	bool compacted = map->format == VX_AREA_COMPACTED;
	uint64_t end = VX_EXTENDED_OFFSET, next = VX_EXTENDED_OFFSET;

	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		struct vx_component_desc desc;
		uint64_t offset;

		if (!(map->layout & VX_BIT(id)) || !vx_profile_component(profile, id, &desc))
			continue;
		if (compacted) {
			next = desc.align64 ? (next + 63u) & ~(uint64_t)63u : next;
			offset = next;
			next += desc.size;
		} else {
			offset = desc.standard_offset;
		}
		if (!desc.size || !offset)
			continue;
		add_region(map, VX_AREA_REGION_COMPONENT, (int)id, offset, offset + desc.size,
			   offset);
		if (offset + desc.size > end)
			end = offset + desc.size;
	}
	return end;
}

static void sort_regions(struct vx_area_map *map)
{
	for (unsigned i = 1; i < map->count; i++) {
		struct vx_area_region moving = map->regions[i];
		unsigned j = i;

		while (j > 0 && map->regions[j - 1].start > moving.start) {
			map->regions[j] = map->regions[j - 1];
			j--;
		}
		map->regions[j] = moving;
	}
}

/* The holes between regions, up to the area end, and the rest of the buffer after it. */
static void add_gaps(struct vx_area_map *map, uint64_t len)
{
	unsigned count = map->count;
	uint64_t covered = 0;

	for (unsigned i = 0; i < count; i++) {
		if (map->regions[i].start > covered)
			add_region(map, VX_AREA_REGION_HOLE, -1, covered, map->regions[i].start, 0);
		if (map->regions[i].end > covered)
			covered = map->regions[i].end;
	}
	if (map->end > covered)
		add_region(map, VX_AREA_REGION_HOLE, -1, covered, map->end, 0);
	if (len > map->end)
		add_region(map, VX_AREA_REGION_PAST_END, -1,
			   map->end > covered ? map->end : covered, len, 0);
	sort_regions(map);
}

void vx_area_decode(const struct vx_profile *profile, const void *area, size_t len, uint64_t xcr0,
		    struct vx_area_map *map)
{
	memset(map, 0, sizeof(*map));
	map->format = VX_AREA_STANDARD;
	map->end = len;
	add_fixed_regions(map);
	if (area && len >= VX_EXTENDED_OFFSET) {
		map->has_header = true;
		map->xstate_bv = vx_area_read(area, len, VX_XSTATE_BV_OFFSET, 8);
		map->xcomp_bv = vx_area_read(area, len, VX_XCOMP_BV_OFFSET, 8);
		if (map->xcomp_bv & VX_XCOMP_BV_COMPACTED) {
			map->format = VX_AREA_COMPACTED;
			map->layout = map->xcomp_bv & ~VX_XCOMP_BV_COMPACTED;
		} else {
			/* §5.5: the standard form is laid out for every XCR0|XSTATE_BV user bit. */
			map->layout = (xcr0 | map->xstate_bv) & vx_user_components();
		}
		map->end = add_component_regions(profile, map);
	}
	sort_regions(map);
	add_gaps(map, len);
}

/* ----------------------------------------------------------------------------------------- */
/* Registers                                                                                    */

static int visit_region(const struct vx_profile *profile, const struct vx_area_region *region,
			const uint8_t *area, size_t len, vx_area_register_fn fn, void *ctx)
{
	for (unsigned i = 0; i < FIELD_COUNT; i++) {
		const struct vx_area_field *f = &field_table[i];
		struct vx_area_register reg = {f, f->component, region->base + f->offset, 0, NULL};
		int rc;

		if (f->component != (unsigned)region->component || reg.offset < region->start ||
		    reg.offset >= region->end)
			continue;
		reg.width = f->width;
		if (!reg.width && vx_area_field_width(profile, f->component, 0, &reg.width, NULL))
			reg.width = (uint32_t)(region->end - region->start);
		if (reg.offset <= len && len - reg.offset >= reg.width)
			reg.bytes = area + reg.offset;
		rc = fn(ctx, &reg);
		if (rc)
			return rc;
	}
	return 0;
}

int vx_area_registers(const struct vx_profile *profile, const struct vx_area_map *map,
		      const void *area, size_t len, vx_area_register_fn fn, void *ctx)
{
	for (unsigned i = 0; i < map->count; i++) {
		const struct vx_area_region *region = &map->regions[i];
		int rc;

		if (region->kind != VX_AREA_REGION_COMPONENT)
			continue;
		rc = visit_region(profile, region, area, len, fn, ctx);
		if (rc)
			return rc;
	}
	return 0;
}
