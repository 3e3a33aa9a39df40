/* SPDX-License-Identifier: MIT */
/*
 * The save instructions: XSAVE and XSAVEOPT (standard format, arch.md §5.1/§5.2), XSAVEC and
 * XSAVES (compacted format, §5.3/§5.4).  Each one first decides which bytes it writes, checks
 * that whole range (so a #PF changes nothing), then copies the component images.
 */
#include "cpu/insn.h"

/* §2.2: outside 64-bit mode only XMM0-7, YMM0-7 and ZMM0-7 upper halves are accessed. */
uint32_t mode_copy_size(const struct vx_cpu *cpu, unsigned component)
{
	uint32_t size = cpu->facts.size[component];

	if (cpu_in_64bit_mode(cpu))
		return size;
	if (component == VX_COMP_AVX || component == VX_COMP_ZMM_HI256)
		return size / 2;
	if (component == VX_COMP_HI16_ZMM)
		return 0;
	return size;
}

/* §2.2: outside 64-bit mode Hi16_ZMM counts as initial and is never accessed. */
uint64_t mode_untouched_components(const struct vx_cpu *cpu)
{
	return cpu_in_64bit_mode(cpu) ? 0 : VX_BIT(VX_COMP_HI16_ZMM);
}

static uint32_t xmm_end(const struct vx_cpu *cpu)
{
	return cpu_in_64bit_mode(cpu) ? LEG_XMM_END : LEG_XMM_END_32BIT;
}

/*
 * XINUSE as the save instructions record it: the tracked bits without the MXCSR term of
 * XGETBV(1) (docs/hardware-behaviour.md A.2: XSAVE/XSAVEOPT record the XMM-only bit; XSAVEC
 * adds MXCSR by its own §5.3 rule), with XFD-armed components as initial (§5.9).
 */
static uint64_t saved_xinuse(const struct vx_cpu *cpu)
{
	return cpu->state.xinuse & ~state_xfd_armed(cpu) & ~mode_untouched_components(cpu);
}

/* §4: the modified optimization needs XRSTOR_INFO = (CPL, VMXNR, LAXA, COMPMASK). */
static bool restore_info_matches(const struct vx_cpu *cpu, uint64_t addr, uint64_t compmask)
{
	const struct vx_xrstor_info *info = &cpu->state.xrstor_info;

	return info->valid && info->cpl == cpu_effective_cpl(cpu) &&
	       info->vmx_non_root == cpu->control.vmx_non_root && info->linear_address == addr &&
	       info->compmask == compmask;
}

/* The first legacy byte a save writes: x87 at 0, MXCSR at 24, XMM at 160, else the header. */
static uint32_t first_written_byte(uint64_t written, bool mxcsr)
{
	if (written & MASK_X87)
		return 0;
	if (mxcsr)
		return VX_MXCSR_OFFSET;
	if (written & MASK_SSE)
		return VX_XMM_OFFSET;
	return VX_HEADER_OFFSET;
}

/* §2.2: XMM0-15 in 64-bit mode (a fixed-size copy), XMM0-7 outside it. */
static void save_sse(const struct vx_cpu *cpu, uint8_t *area)
{
	if (cpu_in_64bit_mode(cpu))
		copy_block(area + VX_XMM_OFFSET, cpu->state.legacy + VX_XMM_OFFSET,
			   LEG_XMM_END - VX_XMM_OFFSET);
	else
		memcpy(area + VX_XMM_OFFSET, cpu->state.legacy + VX_XMM_OFFSET,
		       xmm_end(cpu) - VX_XMM_OFFSET);
}

/* MXCSR and MXCSR_MASK (bytes 24-31) as one unit. */
static void save_mxcsr(const struct vx_cpu *cpu, uint8_t *area)
{
	memcpy(area + VX_MXCSR_OFFSET, cpu->state.legacy + VX_MXCSR_OFFSET, 8);
}

/*
 * The legacy region's written parts.  A 64-bit save of x87 and SSE with MXCSR (REX.W form)
 * is bytes 0-415 of the processor's legacy image in one copy (x87_save_with_sse64).
 */
static void save_legacy(const struct vx_cpu *cpu, uint8_t *area, uint64_t written, bool mxcsr,
			bool rex_w)
{
	if (rex_w && mxcsr && (written & MASK_LEGACY) == MASK_LEGACY) {
		x87_save_with_sse64(cpu, area);
		return;
	}
	if (written & MASK_X87)
		x87_save(cpu, area, rex_w);
	if (mxcsr)
		save_mxcsr(cpu, area);
	if (written & MASK_SSE)
		save_sse(cpu, area);
}

/* Component i >= 2 at @dst: its bytes, or its initial configuration if XFD-armed (§5.9). */
static void save_component(const struct vx_cpu *cpu, uint8_t *dst, unsigned i, uint64_t armed)
{
	uint32_t n = mode_copy_size(cpu, i);

	if (armed & VX_BIT(i))
		memset(dst, 0, n);
	else
		memcpy(dst, component_bytes_const(cpu, i), n);
}

/* The lowest set bit of a non-zero @mask. */
static inline unsigned low_bit(uint64_t mask)
{
	return (unsigned)__builtin_ctzll(mask);
}

/*
 * Copy components >= 2 of @mask (each whole: 64-bit mode, §2.2) from the cpu to @area at
 * @offset[i].  Components that lie back to back both in the cpu's storage and in the area go
 * in one memcpy - a context switch saves runs of them (AVX..Hi16_ZMM, TILECFG+TILEDATA) - and
 * no byte between two components (alignment padding) is ever written.
 */
static void copy_components_out(const struct vx_cpu *cpu, uint8_t *area, const uint32_t *offset,
				uint64_t mask)
{
	const struct cpu_facts *f = &cpu->facts;

	while (mask) {
		unsigned i = low_bit(mask);
		uint32_t at = offset[i], from = f->store_offset[i], len = f->size[i];

		mask &= mask - 1;
		while (mask && offset[low_bit(mask)] == at + len &&
		       f->store_offset[low_bit(mask)] == from + len) {
			len += f->size[low_bit(mask)];
			mask &= mask - 1;
		}
		memcpy(area + at, cpu->bytes + from, len);
	}
}

/* The standard format's components >= 2 (§5.1): runs in one copy unless one is XFD-armed. */
static void save_standard_components(const struct vx_cpu *cpu, uint8_t *area, uint64_t extended,
				     uint64_t armed)
{
	if (cpu_in_64bit_mode(cpu) && !(extended & armed)) {
		copy_components_out(cpu, area, cpu->facts.standard_offset, extended);
		return;
	}
	for (; extended; extended &= extended - 1) {
		unsigned i = low_bit(extended);

		save_component(cpu, area + cpu->facts.standard_offset[i], i, armed);
	}
}

/* §5.2: XSAVEOPT writes only in-use components, and may skip unmodified ones (§4). */
static uint64_t xsaveopt_written(const struct vx_cpu *cpu, uint64_t addr, uint64_t rfbm,
				 uint64_t xinuse)
{
	uint64_t written = rfbm;

	if (cpu->behaviour.xsaveopt_skips_init)
		written &= xinuse;
	if (cpu->behaviour.xsaveopt_skips_unmodified && restore_info_matches(cpu, addr, 0))
		written &= cpu->state.xmodified;
	return written;
}

int exec_xsave_standard(struct vx_cpu *cpu, const struct insn_args *args, struct vx_event *event)
{
	/* §5.1: RFBM = XCR0 & EDX:EAX. */
	uint64_t rfbm = cpu->state.xcr0 & args->edx_eax;
	uint64_t xinuse = saved_xinuse(cpu);
	uint64_t armed = state_xfd_armed(cpu);
	uint64_t written = rfbm & ~mode_untouched_components(cpu);
	/* §5.1/§5.2: MXCSR and MXCSR_MASK are written if RFBM[1] or RFBM[2]. */
	bool mxcsr = (rfbm & (MASK_SSE | MASK_AVX)) != 0;
	struct area_range range;
	uint8_t *area;

	if (args->desc->kind == INSN_XSAVEOPT)
		written = xsaveopt_written(cpu, args->addr, written, xinuse);
	range.first = first_written_byte(written, mxcsr);
	range.end = layout_standard_end(cpu, written);
	if (area_check(cpu, args->mem, args->addr, range, true, event))
		return VX_FAULTED;
	area = area_bytes(args->mem, args->addr);
	save_legacy(cpu, area, written, mxcsr, args->rex_w);
	save_standard_components(cpu, area, written & cpu->facts.stored, armed);
	/* §5.1: XSTATE_BV ← (OLD & ~RFBM) | (XINUSE & RFBM); XCOMP_BV and bytes 16-63 kept. */
	uint64_t old = load_le64(area + VX_XSTATE_BV_OFFSET);
	store_le64(area + VX_XSTATE_BV_OFFSET, (old & ~rfbm) | (xinuse & rfbm));
	if (written & xinuse & MASK_AVX)
		state_resolve_sse_merge(cpu);
	return 0;
}

/* §5.3: TO_BE_SAVED = RFBM & XINUSE, plus SSE when RFBM[1] and MXCSR != 0x1F80. */
static uint64_t compacted_to_be_saved(const struct vx_cpu *cpu, uint64_t rfbm)
{
	uint64_t to_be_saved = rfbm & saved_xinuse(cpu);

	if ((rfbm & MASK_SSE) && cpu_mxcsr(cpu) != VX_MXCSR_DEFAULT)
		to_be_saved |= MASK_SSE;
	return to_be_saved;
}

/* One past the last byte written: the highest component's end (the layout ascends, §2.4). */
static uint64_t compacted_end(const struct vx_cpu *cpu, const struct compact_layout *layout,
			      uint64_t written)
{
	uint64_t extended = written & cpu->facts.stored;
	unsigned top;

	if (!extended)
		return VX_EXTENDED_OFFSET;
	top = 63u - (unsigned)__builtin_clzll(extended);
	return (uint64_t)layout->offset[top] + cpu->facts.size[top];
}

/* §5.4: saving PT clears IA32_RTIT_CTL.TraceEn (bit 0 of the component's first MSR). */
static void stop_trace_after_save(struct vx_cpu *cpu, uint64_t saved)
{
	uint8_t *pt;

	if (!(saved & VX_BIT(VX_COMP_PT)) || !(cpu->facts.stored & VX_BIT(VX_COMP_PT)))
		return;
	pt = component_bytes(cpu, VX_COMP_PT);
	if (pt[0] & 1u) {
		pt[0] &= (uint8_t)~1u;
		state_mark_by_value(cpu, VX_COMP_PT);
	}
}

static void save_compacted_components(const struct vx_cpu *cpu, uint8_t *area,
				      const struct compact_layout *layout, uint64_t written)
{
	uint64_t extended = written & cpu->facts.stored;

	/* §2.2: whole components in 64-bit mode, so runs can go in one copy. */
	if (cpu_in_64bit_mode(cpu)) {
		copy_components_out(cpu, area, layout->offset, extended);
		return;
	}
	for (; extended; extended &= extended - 1) {
		unsigned i = low_bit(extended);

		memcpy(area + layout->offset[i], component_bytes_const(cpu, i),
		       mode_copy_size(cpu, i));
	}
}

/*
 * §4/§5.4: XSAVES may skip the unmodified components after a matching XRSTORS.  MXCSR is not
 * tracked by XMODIFIED (an MXCSR write leaves it alone, docs/differential-testing.md F6), so
 * the modified optimization never decides about it (SDM §13.9: the init and modified
 * optimizations do not apply to MXCSR):
 *  - §5.3/§5.4: bit 1 forced by MXCSR != 0x1F80 is set after the XMODIFIED masking (the SDM's
 *    XSAVES operation tests MXCSR after it), so the XMM registers and MXCSR are written - the
 *    area's XMM bytes were never loaded when XRSTORS initialized SSE;
 *  - whenever SSE is recorded (XSTATE_BV[1] = 1), MXCSR and MXCSR_MASK are written even if
 *    the XMM registers are skipped (as §5.2 says for XSAVEOPT).
 */
static uint64_t xsaves_written(const struct vx_cpu *cpu, uint64_t addr, uint64_t rfbm,
			       uint64_t to_be_saved)
{
	uint64_t written = to_be_saved;

	if (!cpu->behaviour.xsaveopt_skips_unmodified ||
	    !restore_info_matches(cpu, addr, VX_XCOMP_BV_COMPACTED | rfbm))
		return written;
	written &= cpu->state.xmodified;
	if ((rfbm & MASK_SSE) && cpu_mxcsr(cpu) != VX_MXCSR_DEFAULT)
		written |= MASK_SSE;
	return written;
}

int exec_xsave_compacted(struct vx_cpu *cpu, const struct insn_args *args, struct vx_event *event)
{
	bool xsaves = args->desc->kind == INSN_XSAVES;
	/* §5.3: RFBM = XCR0 & EDX:EAX; §5.4: XSAVES uses (XCR0 | IA32_XSS). */
	uint64_t enabled = xsaves ? (cpu->state.xcr0 | cpu->state.xss) : cpu->state.xcr0;
	uint64_t rfbm = enabled & args->edx_eax;
	uint64_t xcomp_bv = VX_XCOMP_BV_COMPACTED | rfbm;
	uint64_t to_be_saved = compacted_to_be_saved(cpu, rfbm);
	uint64_t written =
	    xsaves ? xsaves_written(cpu, args->addr, rfbm, to_be_saved) : to_be_saved;
	/* §5.3: MXCSR goes with SSE; under the modified optimization with recorded SSE too. */
	bool mxcsr = (to_be_saved & MASK_SSE) != 0;
	const struct compact_layout *layout = layout_compacted(cpu, rfbm);
	struct area_range range;
	uint8_t *area;

	range.first = first_written_byte(written, mxcsr);
	range.end = compacted_end(cpu, layout, written);
	if (area_check(cpu, args->mem, args->addr, range, true, event))
		return VX_FAULTED;
	area = area_bytes(args->mem, args->addr);
	save_legacy(cpu, area, written, mxcsr, args->rex_w);
	save_compacted_components(cpu, area, layout, written);
	/* §5.3/§5.4: XSTATE_BV ← TO_BE_SAVED (before the modified masking); XCOMP_BV ← 2^63|RFBM.
	 */
	store_le64(area + VX_XSTATE_BV_OFFSET, to_be_saved);
	store_le64(area + VX_XCOMP_BV_OFFSET, xcomp_bv);
	if (xsaves)
		stop_trace_after_save(cpu, to_be_saved);
	if (written & MASK_AVX)
		state_resolve_sse_merge(cpu);
	return 0;
}
