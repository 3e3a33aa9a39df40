/* SPDX-License-Identifier: MIT */
/*
 * Standard-format images of the user state without executing an instruction: what XSAVE64 /
 * XRSTOR64 would store or load, minus faults and tracking side effects.  Used to move a model
 * state into real registers (the hardware backend) and back.
 */
#include <errno.h>

#include "cpu/cpu_internal.h"

static size_t image_size(const struct vx_cpu *cpu)
{
	return layout_standard_end(cpu, cpu->state.xcr0 & ~cpu->facts.supervisor);
}

static uint64_t image_components(const struct vx_cpu *cpu, uint64_t mask)
{
	return mask & cpu->state.xcr0 & ~cpu->facts.supervisor;
}

int vx_cpu_to_standard_image(const struct vx_cpu *cpu, uint64_t mask, void *buf, size_t len)
{
	uint64_t comps;
	uint8_t *area = buf;

	if (!cpu || !buf)
		return -EINVAL;
	if (len < image_size(cpu))
		return -ENOBUFS;
	comps = image_components(cpu, mask);
	if (comps & MASK_X87)
		x87_save(cpu, area, true);
	if (comps & (MASK_SSE | MASK_AVX))
		memcpy(area + VX_MXCSR_OFFSET, cpu->state.legacy + VX_MXCSR_OFFSET, 8);
	if (comps & MASK_SSE)
		memcpy(area + VX_XMM_OFFSET, cpu->state.legacy + VX_XMM_OFFSET,
		       LEG_XMM_END - VX_XMM_OFFSET);
	for (unsigned n = 0; n < cpu->facts.stored_count; n++) {
		unsigned i = cpu->facts.stored_list[n];

		if (comps & VX_BIT(i))
			memcpy(area + cpu->facts.standard_offset[i], component_bytes_const(cpu, i),
			       cpu->facts.size[i]);
	}
	/* A loadable header: XSTATE_BV = XINUSE & mask, XCOMP_BV and the reserved bytes 0. */
	memset(area + VX_HEADER_OFFSET, 0, VX_HEADER_SIZE);
	store_le64(area + VX_XSTATE_BV_OFFSET, state_xinuse_visible(cpu) & comps);
	return 0;
}

static void load_extended(struct vx_cpu *cpu, const uint8_t *area, uint64_t loaded,
			  uint64_t initialized)
{
	for (unsigned n = 0; n < cpu->facts.stored_count; n++) {
		unsigned i = cpu->facts.stored_list[n];

		if (loaded & VX_BIT(i))
			memcpy(component_bytes(cpu, i), area + cpu->facts.standard_offset[i],
			       cpu->facts.size[i]);
		else if (initialized & VX_BIT(i))
			state_init_component(cpu, i);
	}
}

int vx_cpu_from_standard_image(struct vx_cpu *cpu, uint64_t mask, const void *buf, size_t len)
{
	const uint8_t *area = buf;
	uint64_t comps, xstate_bv, loaded, initialized;

	if (!cpu || !buf)
		return -EINVAL;
	if (len < image_size(cpu))
		return -ENOBUFS;
	comps = image_components(cpu, mask);
	xstate_bv = load_le64(area + VX_XSTATE_BV_OFFSET);
	loaded = comps & xstate_bv;
	initialized = comps & ~xstate_bv;
	if (loaded & MASK_X87)
		x87_load(cpu, area, true);
	else if (initialized & MASK_X87)
		x87_init(cpu);
	/* §5.5: the standard form takes MXCSR from area+24 when RFBM[1] or RFBM[2]. */
	if (comps & (MASK_SSE | MASK_AVX))
		memcpy(cpu->state.legacy + VX_MXCSR_OFFSET, area + VX_MXCSR_OFFSET, 4);
	if (loaded & MASK_SSE)
		memcpy(cpu->state.legacy + VX_XMM_OFFSET, area + VX_XMM_OFFSET,
		       LEG_XMM_END - VX_XMM_OFFSET);
	else if (initialized & MASK_SSE)
		state_init_component(cpu, VX_COMP_SSE);
	load_extended(cpu, area, loaded, initialized);
	/* §4: loaded → in use, initialized → not in use (or by value, as XRSTOR does). */
	cpu->state.xinuse = (cpu->state.xinuse & ~initialized) | loaded;
	if (cpu->behaviour.xinuse_clear_on_init_load)
		for (unsigned i = 0; i < VX_COMP_LIMIT; i++)
			if ((loaded & VX_BIT(i)) && state_component_is_init(cpu, i))
				cpu->state.xinuse &= ~VX_BIT(i);
	return 0;
}
