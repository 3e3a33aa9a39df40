/* SPDX-License-Identifier: MIT */
/*
 * The kernel's per-component cache (setup_xstate_cache) and what it computes from it: offsets
 * in a buffer of a given XCOMP_BV, sizes of a feature mask, and the per-struct paranoia checks.
 * linux-fpu.md §2.3, §2.4.  CPUID is read once, through the profile's typed accessor.
 */
#include "fpu_internal.h"

static void cache_component(struct vx_fpu_system *sys, unsigned id)
{
	struct vx_component_desc desc;
	struct vx_fpu_xstate_info *info = &sys->xstate[id];

	vx_profile_component(&sys->profile, id, &desc);
	info->size = desc.size;
	info->flags = (desc.supervisor ? VX_FPU_XSTATE_FLAG_SUPERVISOR : 0) |
		      (desc.align64 ? VX_FPU_XSTATE_FLAG_ALIGNED64 : 0);
	/* §2.3: supervisor components have no standard offset (EBX is invalid): -1. */
	info->offset = desc.supervisor ? VX_FPU_NO_OFFSET : desc.standard_offset;
}

/* Insertion sort by standard offset: xfeature_uncompact_order[] (§2.3; APX sits at 960). */
static void sort_uncompact_order(struct vx_fpu_system *sys)
{
	unsigned *order = sys->uncompact_order;

	for (unsigned i = 1; i < sys->uncompact_count; i++) {
		unsigned id = order[i], j = i;

		for (; j > 0 && sys->xstate[order[j - 1]].offset > sys->xstate[id].offset; j--)
			order[j] = order[j - 1];
		order[j] = id;
	}
}

void fpu_setup_xstate_cache(struct vx_fpu_system *sys)
{
	uint64_t extended = sys->kernel.max_features & ~VX_FPU_MASK_FPSSE;

	/* §2.3: FP at 0 (160 bytes up to xmm_space), SSE at 160 (256 bytes). */
	sys->xstate[VX_COMP_X87] = (struct vx_fpu_xstate_info){160, 0, 0};
	sys->xstate[VX_COMP_SSE] = (struct vx_fpu_xstate_info){256, VX_XMM_OFFSET, 0};
	sys->uncompact_count = 0;
	for (unsigned id = VX_COMP_AVX; id < VX_FPU_XFEATURE_MAX; id++) {
		if (!(extended & VX_BIT(id)))
			continue;
		cache_component(sys, id);
		if (!(sys->xstate[id].flags & VX_FPU_XSTATE_FLAG_SUPERVISOR))
			sys->uncompact_order[sys->uncompact_count++] = id;
	}
	sort_uncompact_order(sys);
}

bool vx_fpu_xstate_info(const struct vx_fpu_system *system, unsigned id,
			struct vx_fpu_xstate_info *info)
{
	if (!system || !info || id >= VX_FPU_XFEATURE_MAX)
		return false;
	*info = system->xstate[id];
	return true;
}

unsigned vx_fpu_uncompact_order(const struct vx_fpu_system *system, unsigned *ids, unsigned max)
{
	for (unsigned i = 0; ids && i < max && i < system->uncompact_count; i++)
		ids[i] = system->uncompact_order[i];
	return system->uncompact_count;
}

/*
 * §2.3 xfeature_get_offset(): standard format and FP/SSE use the cached offsets; compacted
 * buffers walk *their own* XCOMP_BV from bit 2 up, aligning where ALIGNED64 says.  The kernel
 * returns the end of the walk for a bit that is not in XCOMP_BV; callers never ask, this model
 * answers VX_FPU_NO_OFFSET.
 */
uint32_t vx_fpu_xfeature_offset(const struct vx_fpu_system *system, uint64_t xcomp_bv, unsigned id)
{
	uint32_t offset = FPU_XREGS_SIZE;

	if (id >= VX_FPU_XFEATURE_MAX)
		return VX_FPU_NO_OFFSET;
	if (!system->insns.compacted || id <= VX_COMP_SSE)
		return system->xstate[id].offset;
	if (!(xcomp_bv & VX_BIT(id)))
		return VX_FPU_NO_OFFSET;
	for (unsigned i = VX_COMP_AVX; i < VX_FPU_XFEATURE_MAX; i++) {
		if (!(xcomp_bv & VX_BIT(i)))
			continue;
		if (system->xstate[i].flags & VX_FPU_XSTATE_FLAG_ALIGNED64)
			offset = (offset + 63u) & ~63u;
		if (i == id)
			break;
		offset += system->xstate[i].size;
	}
	return offset;
}

static unsigned top_bit(uint64_t mask)
{
	unsigned top = 0;

	while (mask >>= 1)
		top++;
	return top;
}

/*
 * §2.4 xstate_calculate_size(): 576 when nothing above SSE; compacted: offset of the highest
 * bit plus its size; standard: the user component with the largest offset (sorted order), so
 * supervisor bits, which have no standard offset, do not count.
 */
uint32_t vx_fpu_calculate_size(const struct vx_fpu_system *system, uint64_t mask, bool compacted)
{
	unsigned top;

	mask &= FPU_XFEATURES_ALL;
	if ((mask & ~VX_FPU_MASK_FPSSE) == 0)
		return FPU_XREGS_SIZE;
	top = top_bit(mask);
	if (compacted)
		return vx_fpu_xfeature_offset(system, mask, top) + system->xstate[top].size;
	/* The kernel would start from the top bit; a mask of only supervisor bits cannot reach
	 * here on a standard-format system (no XSAVES, no supervisor features), so 576 stands. */
	top = VX_COMP_X87;
	for (unsigned i = 0; i < system->uncompact_count; i++)
		if (mask & VX_BIT(system->uncompact_order[i]))
			top = system->uncompact_order[i];
	if (top == VX_COMP_X87)
		return FPU_XREGS_SIZE;
	return system->xstate[top].offset + system->xstate[top].size;
}

/*
 * §2.4: XTILE_DATA against leaf 0x1D - every palette's tile must be 1024 bytes and the size
 * 1024 x the most tiles.  Warn-only in the kernel (the result is ignored).
 */
static void check_xtile_data(struct vx_fpu_system *sys, uint32_t size)
{
	uint32_t max_palette = vx_profile_leaf(&sys->profile, 0x1D, 0).eax, max_tiles = 0;

	/* Profiles keep sub-leaf 1 only: every part so far has exactly one palette. */
	if (max_palette > 1)
		max_palette = 1;
	for (uint32_t palette = 1; palette <= max_palette; palette++) {
		struct vx_cpuid_regs r = vx_profile_leaf(&sys->profile, 0x1D, palette);
		uint32_t tile_size = r.eax >> 16, tiles = r.ebx >> 16;

		if (tile_size != 1024) {
			fpu_log(sys, VX_FPU_LOG_ERROR,
				"XFEATURE_XTILE_DATA: struct is 1024 bytes, cpu xtile %u bytes",
				tile_size);
			return;
		}
		if (tiles > max_tiles)
			max_tiles = tiles;
	}
	if (size != 1024 * max_tiles)
		fpu_log(sys, VX_FPU_LOG_ERROR,
			"XFEATURE_XTILE_DATA: calculated size is %u bytes, cpu state %u bytes",
			1024 * max_tiles, size);
}

/*
 * §2.4 check_xstate_against_struct(): a size that differs from the kernel's struct only WARNs
 * and still passes; a component the kernel has no struct for fails the boot's size check.
 */
bool fpu_check_xstate_against_struct(struct vx_fpu_system *sys, unsigned id)
{
	uint32_t size = sys->xstate[id].size, expected = fpu_xfeature_struct_size(id);

	if (id == VX_COMP_XTILEDATA) {
		check_xtile_data(sys, size);
		return true;
	}
	if (expected == 0) {
		fpu_log(sys, VX_FPU_LOG_WARNING,
			"XSAVE consistency problem: No structure for xstate: %u", id);
		return false;
	}
	if (size != expected)
		fpu_log(sys, VX_FPU_LOG_WARNING, "[%s]: struct is %u bytes, cpu state %u bytes",
			vx_fpu_xfeature_name(sys, id), expected, size);
	return true;
}
