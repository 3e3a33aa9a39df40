/* SPDX-License-Identifier: MIT */
/*
 * Component images and their initial configurations (arch.md §6), and the tracking bits
 * XINUSE / XMODIFIED (§4) as instructions other than XRSTOR change them.
 */
#include "cpu/cpu_internal.h"

/* §6: x87 FCW = 0x037F, FTW all empty (abridged 0), everything else 0 - including ST0-7. */
void x87_init(struct vx_cpu *cpu)
{
	uint8_t *leg = cpu->state.legacy;

	memset(leg, 0, VX_MXCSR_OFFSET);
	memset(leg + LEG_ST0, 0, 8 * LEG_ST_STRIDE);
	store_le16(leg + LEG_FCW, VX_FCW_DEFAULT);
	cpu->state.fcs = 0;
	cpu->state.fds = 0;
}

/* The whole legacy image at power-on: x87 and SSE initial, MXCSR 0x1F80, MXCSR_MASK. */
void state_init_legacy(struct vx_cpu *cpu)
{
	memset(cpu->state.legacy, 0, sizeof(cpu->state.legacy));
	x87_init(cpu);
	store_le32(cpu->state.legacy + VX_MXCSR_OFFSET, VX_MXCSR_DEFAULT);
	store_le32(cpu->state.legacy + VX_MXCSR_MASK_OFFSET, cpu->facts.mxcsr_mask);
}

/* §6: every component from 2 up is all zeros in its initial configuration. */
void state_init_component(struct vx_cpu *cpu, unsigned component)
{
	if (component == VX_COMP_X87) {
		x87_init(cpu);
		return;
	}
	if (component == VX_COMP_SSE) {
		memset(cpu->state.legacy + VX_XMM_OFFSET, 0, LEG_XMM_END - VX_XMM_OFFSET);
		cpu->state.xmm_merge_pending = false;
		return;
	}
	if (cpu->facts.stored & VX_BIT(component))
		memset(component_bytes(cpu, component), 0, cpu->facts.store_size[component]);
}

/* Zero test in 64-byte blocks: live state usually differs early, so it returns early. */
static bool all_zero(const uint8_t *p, size_t n)
{
	size_t i = 0;

	for (; i + 64 <= n; i += 64) {
		const uint8_t *b = p + i; /* one block: eight loads ORed, written out (unrolled) */
		uint64_t acc = (load_le64(b) | load_le64(b + 8)) |
			       (load_le64(b + 16) | load_le64(b + 24)) |
			       (load_le64(b + 32) | load_le64(b + 40)) |
			       (load_le64(b + 48) | load_le64(b + 56));

		if (acc)
			return false;
	}
	for (; i + 8 <= n; i += 8) /* then 8 bytes at a time: x87's 22 header bytes were 22 loads */
		if (load_le64(p + i))
			return false;
	for (; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool x87_is_init(const struct vx_cpu *cpu)
{
	const uint8_t *leg = cpu->state.legacy;

	return load_le16(leg + LEG_FCW) == VX_FCW_DEFAULT && all_zero(leg + 2, 22) &&
	       all_zero(leg + LEG_ST0, 8 * LEG_ST_STRIDE) && cpu->state.fcs == 0 &&
	       cpu->state.fds == 0;
}

/* True if @component holds exactly its initial configuration (§6; MXCSR not included). */
bool state_component_is_init(const struct vx_cpu *cpu, unsigned component)
{
	if (component == VX_COMP_X87)
		return x87_is_init(cpu);
	if (component == VX_COMP_SSE)
		return all_zero(cpu->state.legacy + VX_XMM_OFFSET, LEG_XMM_END - VX_XMM_OFFSET);
	if (!(cpu->facts.stored & VX_BIT(component)))
		return true;
	return all_zero(component_bytes_const(cpu, component), cpu->facts.store_size[component]);
}

/*
 * XINUSE as XGETBV(1), XSAVEOPT, XSAVEC and XSAVES see it.  §4 allows XINUSE[1] = 0 while
 * MXCSR != 0x1F80; when the behaviour says so, a non-default MXCSR marks SSE in use.
 */
uint64_t state_xinuse_visible(const struct vx_cpu *cpu)
{
	uint64_t xinuse = cpu->state.xinuse;

	if (cpu->behaviour.mxcsr_marks_sse_in_use && cpu_mxcsr(cpu) != VX_MXCSR_DEFAULT)
		xinuse |= MASK_SSE;
	return xinuse;
}

/*
 * Measured on AMD family 19h (Zen 3, docs/hardware-behaviour.md §A.4): a legacy-SSE write of
 * an XMM register while AVX is in use (the upper halves kept, a "merge") sets XINUSE[1] at
 * once, but the next VZEROUPPER, or XSAVE/XSAVEOPT/XSAVEC saving AVX while it is in use,
 * re-evaluates XINUSE[1] by value: all of XMM0-15 zero clears it.  VEX writes do not arm it.
 */
void state_note_sse_merge(struct vx_cpu *cpu)
{
	if (cpu->behaviour.xmm_merge_reevaluates && (cpu->state.xinuse & MASK_AVX))
		cpu->state.xmm_merge_pending = true;
}

void state_resolve_sse_merge(struct vx_cpu *cpu)
{
	if (!cpu->state.xmm_merge_pending)
		return;
	cpu->state.xmm_merge_pending = false;
	if (state_component_is_init(cpu, VX_COMP_SSE))
		cpu->state.xinuse &= ~MASK_SSE;
}

/* §5.9: XFD is armed for component i iff XCR0[i] = 1 and IA32_XFD[i] = 1. */
uint64_t state_xfd_armed(const struct vx_cpu *cpu)
{
	return cpu->state.xcr0 & cpu->state.xfd;
}

/* An instruction other than XRSTOR wrote these components: in use and modified (§4). */
void state_mark_written(struct vx_cpu *cpu, uint64_t components)
{
	cpu->state.xinuse |= components;
	cpu->state.xmodified |= components;
}

/*
 * A value-tracked component (the CET and PASID MSRs, §2.5: "in use if any of the contained
 * values is non-zero") was written: XINUSE follows its value, XMODIFIED is set.
 */
void state_mark_by_value(struct vx_cpu *cpu, unsigned component)
{
	uint64_t bit = VX_BIT(component);

	cpu->state.xmodified |= bit;
	if (state_component_is_init(cpu, component))
		cpu->state.xinuse &= ~bit;
	else
		cpu->state.xinuse |= bit;
}
