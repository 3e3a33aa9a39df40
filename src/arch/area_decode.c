/* SPDX-License-Identifier: MIT */
/*
 * Decoding an XSAVE area (area.h): the named registers of every component (arch.md §2.1
 * "Contents", §2.2, §2.5), the byte ranges an area holds as its header lays it out (§2.3,
 * §2.4), and the CPUID size of registers only CPUID can size (PT, LBR: §1.4).
 *
 * Field offsets: x87 and SSE registers by their place in the legacy region (§2.2); every other
 * register by its offset within its component's bytes, because the standard offset of a
 * component differs between vendors (§2.6).  Width 0 means "the whole component".
 */
#include <errno.h>
#include <string.h>

#include <vxsave/area.h>

#include "arch/text.h"

/* clang-format off */
static const struct vx_area_field field_table[] = {
	/* x87 (legacy region, §2.2): FIP/FDP in their 64-bit form */
	{"fcw", VX_COMP_X87, 0, 2},
	{"fsw", VX_COMP_X87, 2, 2},
	{"ftw", VX_COMP_X87, 4, 1},
	{"fop", VX_COMP_X87, 6, 2},
	{"fip", VX_COMP_X87, 8, 8},
	{"fcs", VX_COMP_X87, 12, 2},
	{"fdp", VX_COMP_X87, 16, 8},
	{"fds", VX_COMP_X87, 20, 2},
	{"st0", VX_COMP_X87, 32, 10},
	{"st1", VX_COMP_X87, 48, 10},
	{"st2", VX_COMP_X87, 64, 10},
	{"st3", VX_COMP_X87, 80, 10},
	{"st4", VX_COMP_X87, 96, 10},
	{"st5", VX_COMP_X87, 112, 10},
	{"st6", VX_COMP_X87, 128, 10},
	{"st7", VX_COMP_X87, 144, 10},
	/* SSE (legacy region) */
	{"mxcsr", VX_COMP_SSE, 24, 4},
	{"xmm0", VX_COMP_SSE, 160, 16},
	{"xmm1", VX_COMP_SSE, 176, 16},
	{"xmm2", VX_COMP_SSE, 192, 16},
	{"xmm3", VX_COMP_SSE, 208, 16},
	{"xmm4", VX_COMP_SSE, 224, 16},
	{"xmm5", VX_COMP_SSE, 240, 16},
	{"xmm6", VX_COMP_SSE, 256, 16},
	{"xmm7", VX_COMP_SSE, 272, 16},
	{"xmm8", VX_COMP_SSE, 288, 16},
	{"xmm9", VX_COMP_SSE, 304, 16},
	{"xmm10", VX_COMP_SSE, 320, 16},
	{"xmm11", VX_COMP_SSE, 336, 16},
	{"xmm12", VX_COMP_SSE, 352, 16},
	{"xmm13", VX_COMP_SSE, 368, 16},
	{"xmm14", VX_COMP_SSE, 384, 16},
	{"xmm15", VX_COMP_SSE, 400, 16},
	/* from here on: offset within the component */
	{"ymmh0", VX_COMP_AVX, 0, 16},
	{"ymmh1", VX_COMP_AVX, 16, 16},
	{"ymmh2", VX_COMP_AVX, 32, 16},
	{"ymmh3", VX_COMP_AVX, 48, 16},
	{"ymmh4", VX_COMP_AVX, 64, 16},
	{"ymmh5", VX_COMP_AVX, 80, 16},
	{"ymmh6", VX_COMP_AVX, 96, 16},
	{"ymmh7", VX_COMP_AVX, 112, 16},
	{"ymmh8", VX_COMP_AVX, 128, 16},
	{"ymmh9", VX_COMP_AVX, 144, 16},
	{"ymmh10", VX_COMP_AVX, 160, 16},
	{"ymmh11", VX_COMP_AVX, 176, 16},
	{"ymmh12", VX_COMP_AVX, 192, 16},
	{"ymmh13", VX_COMP_AVX, 208, 16},
	{"ymmh14", VX_COMP_AVX, 224, 16},
	{"ymmh15", VX_COMP_AVX, 240, 16},
	{"bnd0", VX_COMP_BNDREGS, 0, 16},
	{"bnd1", VX_COMP_BNDREGS, 16, 16},
	{"bnd2", VX_COMP_BNDREGS, 32, 16},
	{"bnd3", VX_COMP_BNDREGS, 48, 16},
	{"bndcfgu", VX_COMP_BNDCSR, 0, 8},
	{"bndstatus", VX_COMP_BNDCSR, 8, 8},
	{"k0", VX_COMP_OPMASK, 0, 8},
	{"k1", VX_COMP_OPMASK, 8, 8},
	{"k2", VX_COMP_OPMASK, 16, 8},
	{"k3", VX_COMP_OPMASK, 24, 8},
	{"k4", VX_COMP_OPMASK, 32, 8},
	{"k5", VX_COMP_OPMASK, 40, 8},
	{"k6", VX_COMP_OPMASK, 48, 8},
	{"k7", VX_COMP_OPMASK, 56, 8},
	{"zmmh0", VX_COMP_ZMM_HI256, 0, 32},
	{"zmmh1", VX_COMP_ZMM_HI256, 32, 32},
	{"zmmh2", VX_COMP_ZMM_HI256, 64, 32},
	{"zmmh3", VX_COMP_ZMM_HI256, 96, 32},
	{"zmmh4", VX_COMP_ZMM_HI256, 128, 32},
	{"zmmh5", VX_COMP_ZMM_HI256, 160, 32},
	{"zmmh6", VX_COMP_ZMM_HI256, 192, 32},
	{"zmmh7", VX_COMP_ZMM_HI256, 224, 32},
	{"zmmh8", VX_COMP_ZMM_HI256, 256, 32},
	{"zmmh9", VX_COMP_ZMM_HI256, 288, 32},
	{"zmmh10", VX_COMP_ZMM_HI256, 320, 32},
	{"zmmh11", VX_COMP_ZMM_HI256, 352, 32},
	{"zmmh12", VX_COMP_ZMM_HI256, 384, 32},
	{"zmmh13", VX_COMP_ZMM_HI256, 416, 32},
	{"zmmh14", VX_COMP_ZMM_HI256, 448, 32},
	{"zmmh15", VX_COMP_ZMM_HI256, 480, 32},
	{"zmm16", VX_COMP_HI16_ZMM, 0, 64},
	{"zmm17", VX_COMP_HI16_ZMM, 64, 64},
	{"zmm18", VX_COMP_HI16_ZMM, 128, 64},
	{"zmm19", VX_COMP_HI16_ZMM, 192, 64},
	{"zmm20", VX_COMP_HI16_ZMM, 256, 64},
	{"zmm21", VX_COMP_HI16_ZMM, 320, 64},
	{"zmm22", VX_COMP_HI16_ZMM, 384, 64},
	{"zmm23", VX_COMP_HI16_ZMM, 448, 64},
	{"zmm24", VX_COMP_HI16_ZMM, 512, 64},
	{"zmm25", VX_COMP_HI16_ZMM, 576, 64},
	{"zmm26", VX_COMP_HI16_ZMM, 640, 64},
	{"zmm27", VX_COMP_HI16_ZMM, 704, 64},
	{"zmm28", VX_COMP_HI16_ZMM, 768, 64},
	{"zmm29", VX_COMP_HI16_ZMM, 832, 64},
	{"zmm30", VX_COMP_HI16_ZMM, 896, 64},
	{"zmm31", VX_COMP_HI16_ZMM, 960, 64},
	{"pt", VX_COMP_PT, 0, 0},
	{"pkru", VX_COMP_PKRU, 0, 4},
	{"pasid", VX_COMP_PASID, 0, 8},
	{"u_cet", VX_COMP_CET_U, 0, 8},
	{"pl3_ssp", VX_COMP_CET_U, 8, 8},
	{"pl0_ssp", VX_COMP_CET_S, 0, 8},
	{"pl1_ssp", VX_COMP_CET_S, 8, 8},
	{"pl2_ssp", VX_COMP_CET_S, 16, 8},
	{"hdc", VX_COMP_HDC, 0, 8},
	{"uintr", VX_COMP_UINTR, 0, 48},
	{"lbr", VX_COMP_LBR, 0, 0},
	{"hwp", VX_COMP_HWP, 0, 8},
	{"tilecfg", VX_COMP_XTILECFG, 0, 64},
	{"tmm0", VX_COMP_XTILEDATA, 0, 1024},
	{"tmm1", VX_COMP_XTILEDATA, 1024, 1024},
	{"tmm2", VX_COMP_XTILEDATA, 2048, 1024},
	{"tmm3", VX_COMP_XTILEDATA, 3072, 1024},
	{"tmm4", VX_COMP_XTILEDATA, 4096, 1024},
	{"tmm5", VX_COMP_XTILEDATA, 5120, 1024},
	{"tmm6", VX_COMP_XTILEDATA, 6144, 1024},
	{"tmm7", VX_COMP_XTILEDATA, 7168, 1024},
	{"r16", VX_COMP_APX, 0, 8},
	{"r17", VX_COMP_APX, 8, 8},
	{"r18", VX_COMP_APX, 16, 8},
	{"r19", VX_COMP_APX, 24, 8},
	{"r20", VX_COMP_APX, 32, 8},
	{"r21", VX_COMP_APX, 40, 8},
	{"r22", VX_COMP_APX, 48, 8},
	{"r23", VX_COMP_APX, 56, 8},
	{"r24", VX_COMP_APX, 64, 8},
	{"r25", VX_COMP_APX, 72, 8},
	{"r26", VX_COMP_APX, 80, 8},
	{"r27", VX_COMP_APX, 88, 8},
	{"r28", VX_COMP_APX, 96, 8},
	{"r29", VX_COMP_APX, 104, 8},
	{"r30", VX_COMP_APX, 112, 8},
	{"r31", VX_COMP_APX, 120, 8},
	{"lwp", VX_COMP_LWP, 0, 128},
};
/* clang-format on */

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
