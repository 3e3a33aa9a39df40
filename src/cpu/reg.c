/* SPDX-License-Identifier: MIT */
/*
 * The register table: every named register of the model, the component that holds it, and
 * where its bytes are.  One table; dump, compare, get/set and the CLI all read it.
 *
 * Offsets: x87 and SSE registers by their place in the legacy region (arch.md §2.2); every
 * other register by its offset within its component's bytes (§2.1 "Contents"), because the
 * standard-format offset of a component differs between vendors (§2.6).  Width 0 means "the
 * whole component, as large as the profile makes it" (PT, LBR).
 */
#include "arch/text.h"
#include "cpu/cpu_internal.h"

static const struct vx_reg_info reg_table[] = {
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
