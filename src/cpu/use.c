/* SPDX-License-Identifier: MIT */
/*
 * Ordinary instructions touching XSAVE-managed state: writing a register, using a component
 * (with XFD's #NM, arch.md §5.9), and returning components to their initial configuration.
 */
#include <errno.h>

#include "cpu/cpu_internal.h"

/* State whose instructions check CR0.TS: x87, SSE, AVX and AVX-512 (§5.0 "AVX-class"). */
#define TS_CHECKED_COMPONENTS                                                                      \
	(MASK_X87 | MASK_SSE | MASK_AVX | VX_BIT(VX_COMP_OPMASK) | VX_BIT(VX_COMP_ZMM_HI256) |     \
	 VX_BIT(VX_COMP_HI16_ZMM))

/* x87 and SSE are usable whatever XCR0 says; the other user components need XCR0 (§3.1). */
static uint64_t needs_xcr0(const struct vx_cpu *cpu, uint64_t components)
{
	return components & ~MASK_LEGACY & ~cpu->facts.supervisor;
}

/* The #UD, #NM (CR0.TS) and #NM (XFD) checks of an instruction using @components. */
static int check_use(struct vx_cpu *cpu, uint64_t components, struct vx_event *event)
{
	uint64_t user = needs_xcr0(cpu, components);
	uint64_t armed = state_xfd_armed(cpu) & components;

	/* §3.1: user components outside XCR0 (or with CR4.OSXSAVE=0) are not usable: #UD. */
	if (user && !(cpu->control.cr4 & VX_CR4_OSXSAVE))
		return raise_exception(event, VX_VEC_UD, VX_CAUSE_NO_XSAVE, "arch.md §3.1",
				       "components 0x%llx need CR4.OSXSAVE=1",
				       (unsigned long long)user);
	if (user & ~cpu->state.xcr0) {
		raise_exception(event, VX_VEC_UD, VX_CAUSE_COMPONENT_DISABLED, "arch.md §3.1",
				"components 0x%llx are not enabled in XCR0 0x%llx",
				(unsigned long long)(user & ~cpu->state.xcr0),
				(unsigned long long)cpu->state.xcr0);
		return event_detail(event, 0, user & ~cpu->state.xcr0, -1);
	}
	/* §5.0: CR0.TS makes x87/SSE/AVX-class instructions raise #NM (XFD_ERR unchanged). */
	if ((cpu->control.cr0 & VX_CR0_TS) && (components & TS_CHECKED_COMPONENTS))
		return raise_exception(event, VX_VEC_NM, VX_CAUSE_CR0_TS, "arch.md §5.0",
				       "CR0.TS=1");
	/* §5.9: an XFD-armed component raises #NM and records the components in XFD_ERR. */
	if (armed) {
		cpu->state.xfd_err = cpu->state.xfd & components;
		raise_exception(event, VX_VEC_NM, VX_CAUSE_XFD_ARMED, "arch.md §5.9",
				"components 0x%llx are XFD-armed (IA32_XFD 0x%llx)",
				(unsigned long long)armed, (unsigned long long)cpu->state.xfd);
		return event_detail(event, VX_MSR_IA32_XFD, armed, -1);
	}
	return 0;
}

static bool is_mxcsr(const struct vx_reg_info *reg)
{
	return reg->component == VX_COMP_SSE && reg->offset == VX_MXCSR_OFFSET;
}

/* The LDMXCSR rule: bits outside MXCSR_MASK raise #GP(0) (§5.5). */
static int check_mxcsr_value(const struct vx_cpu *cpu, uint32_t value, struct vx_event *event)
{
	if (value & ~cpu->facts.mxcsr_mask) {
		raise_exception(event, VX_VEC_GP, VX_CAUSE_MXCSR_RESERVED, "arch.md §5.5",
				"MXCSR 0x%08x sets bits outside MXCSR_MASK 0x%08x", value,
				cpu->facts.mxcsr_mask);
		return event_detail(event, 0, value & ~cpu->facts.mxcsr_mask, -1);
	}
	return 0;
}

/* FCW and FSW sit in legacy bytes 0-3. */
static bool is_x87_control_word(const struct vx_reg_info *reg)
{
	return reg->component == VX_COMP_X87 && reg->offset < 4;
}

/*
 * Writing FCW or FSW goes through the same normalization as FLDCW/FLDENV and XRSTOR (x87.c,
 * hardware-behaviour.md): reserved FCW bits read as defined, FSW.ES/B follow the pending
 * unmasked exceptions.  So a value written here survives a save and restore unchanged.
 */
static void normalize_x87_control(uint8_t *legacy)
{
	uint16_t fcw = x87_normalize_fcw(load_le16(legacy));

	store_le16(legacy, fcw);
	store_le16(legacy + 2, x87_normalize_fsw(load_le16(legacy + 2), fcw));
}

static bool is_supervisor(const struct vx_cpu *cpu, unsigned component)
{
	return (cpu->facts.supervisor & VX_BIT(component)) != 0;
}

static void mark_after_write(struct vx_cpu *cpu, const struct vx_reg_info *reg)
{
	uint64_t bit = VX_BIT(reg->component);

	if (is_supervisor(cpu, reg->component)) {
		state_mark_by_value(cpu, reg->component);
	} else if (is_mxcsr(reg)) {
		/* MXCSR alone: XINUSE[1] follows its value (§4's caveat), XMODIFIED by choice. */
		if (cpu->behaviour.mxcsr_write_marks_modified)
			cpu->state.xmodified |= bit;
	} else {
		state_mark_written(cpu, bit);
		if (reg->component == VX_COMP_SSE)
			state_note_sse_merge(cpu);
		else if (VX_BIT(reg->component) & (MASK_AVX | VX_BIT(VX_COMP_ZMM_HI256)))
			cpu->state.xmm_merge_pending = false; /* a VEX/EVEX write settles it */
		if (reg->component == VX_COMP_SSE && cpu->behaviour.sse_write_sets_avx_inuse &&
		    (cpu->state.xinuse & VX_BIT(VX_COMP_ZMM_HI256)))
			cpu->state.xinuse |= VX_BIT(VX_COMP_AVX);
	}
}

/*
 * A supervisor register that is an MSR (U_CET, PLn_SSP, PASID) is written host-side through the
 * one MSR access path, with WRMSR's value checks (§7.2); other supervisor bytes (PT, LBR...)
 * have no MSR in the model and are stored as given.
 */
static int set_msr_reg(struct vx_cpu *cpu, uint32_t msr, const void *value, size_t width,
		       struct vx_event *event)
{
	uint64_t v;

	if (width != sizeof(v))
		return -EINVAL;
	v = load_le64(value);
	return vx_cpu_msr_access(cpu, VX_MSR_HOST, VX_MSR_WRITE, msr, &v, event);
}

int vx_cpu_set_reg(struct vx_cpu *cpu, const struct vx_reg_info *reg, const void *value,
		   size_t width, struct vx_event *event)
{
	uint32_t room, msr;
	uint8_t *bytes;

	if (!cpu || !reg || !value || reg->component >= VX_COMP_LIMIT)
		return -EINVAL;
	event_clear(event);
	msr = is_supervisor(cpu, reg->component)
		  ? msr_of_component_bytes(reg->component, reg->offset)
		  : 0;
	if (msr)
		return set_msr_reg(cpu, msr, value, width, event);
	if (!is_supervisor(cpu, reg->component) && check_use(cpu, VX_BIT(reg->component), event))
		return VX_FAULTED;
	bytes = reg_storage(cpu, reg, &room);
	if (!bytes || width != room)
		return -EINVAL;
	if (is_mxcsr(reg) && check_mxcsr_value(cpu, load_le32(value), event))
		return VX_FAULTED;
	memcpy(bytes, value, width);
	if (is_x87_control_word(reg))
		normalize_x87_control(bytes - reg->offset);
	mark_after_write(cpu, reg);
	return 0;
}

int vx_cpu_get_reg(const struct vx_cpu *cpu, const struct vx_reg_info *reg, void *value,
		   size_t width)
{
	uint32_t room;
	const uint8_t *bytes;

	if (!cpu || !reg || !value || reg->component >= VX_COMP_LIMIT)
		return -EINVAL;
	bytes = reg_storage_const(cpu, reg, &room);
	if (!bytes || width != room)
		return -EINVAL;
	memcpy(value, bytes, width);
	return 0;
}

void vx_cpu_mark_modified(struct vx_cpu *cpu, uint64_t components)
{
	if (cpu)
		cpu->state.xmodified |= components & cpu->state.xcr0;
}

int vx_cpu_use(struct vx_cpu *cpu, uint64_t components, struct vx_event *event)
{
	if (!cpu)
		return -EINVAL;
	event_clear(event);
	if (check_use(cpu, components, event))
		return VX_FAULTED;
	state_mark_written(cpu, components & cpu_known_components(cpu));
	if (components & (MASK_AVX | VX_BIT(VX_COMP_ZMM_HI256)))
		cpu->state.xmm_merge_pending = false; /* §A.4: a VEX/EVEX write settles a merge */
	return 0;
}

int vx_cpu_vzeroupper(struct vx_cpu *cpu, struct vx_event *event)
{
	if (!cpu)
		return -EINVAL;
	event_clear(event);
	if (check_use(cpu, MASK_AVX, event))
		return VX_FAULTED;
	cpu->state.xmodified |= MASK_SSE;
	state_resolve_sse_merge(cpu);
	vx_cpu_init_components(cpu, (MASK_AVX | VX_BIT(VX_COMP_ZMM_HI256)) & cpu->state.xcr0);
	return 0;
}

void vx_cpu_init_components(struct vx_cpu *cpu, uint64_t components)
{
	if (!cpu)
		return;
	components &= cpu_known_components(cpu);
	for (unsigned i = 0; i < VX_COMP_LIMIT; i++)
		if (components & VX_BIT(i))
			state_init_component(cpu, i);
	/* Choice (docs/cpu-model.md): SSE's initial configuration includes MXCSR = 0x1F80. */
	if (components & MASK_SSE)
		store_le32(cpu->state.legacy + VX_MXCSR_OFFSET, VX_MXCSR_DEFAULT);
	cpu->state.xinuse &= ~components;
	cpu->state.xmodified |= components;
}
