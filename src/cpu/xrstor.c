/* SPDX-License-Identifier: MIT */
/*
 * The restore instructions: XRSTOR in its standard and compacted forms (arch.md §5.5) and
 * XRSTORS (§5.6).  Order: read the header (#PF), check it (#GP), decide what is loaded and
 * initialized, XFD (#NM), check the data range (#PF) and the loaded values (#GP), and only
 * then change the processor - so a fault changes nothing but what the exception itself does.
 */
#include "cpu/insn.h"

/* The components that together hold ZMM0-15: XMM, YMM upper halves, ZMM upper halves. */
#define ZMM0_15_COMPONENTS (MASK_SSE | MASK_AVX | VX_BIT(VX_COMP_ZMM_HI256))

/* §2.3: area offsets of the XSAVE header's XSTATE_BV and XCOMP_BV fields (for event->offset). */
#define HDR_XSTATE_BV ((int64_t)VX_HEADER_OFFSET)
#define HDR_XCOMP_BV  ((int64_t)VX_HEADER_OFFSET + 8)

struct restore_plan {
	bool compacted;
	bool xrstors;
	uint64_t enabled; /* XCR0, or XCR0 | IA32_XSS for XRSTORS */
	uint64_t rfbm;
	uint64_t xstate_bv;
	uint64_t xcomp_bv;
	uint64_t format; /* XCOMP_BV[62:0] for the compacted form */
	uint64_t to_restore;
	uint64_t to_init;
	bool load_mxcsr; /* MXCSR is read from area+24 */
	bool init_mxcsr; /* MXCSR ← 0x1F80 */
	const struct compact_layout *layout;
	uint64_t value_known; /* CET_U/CET_S/PASID whose zero test the value check made */
	uint64_t value_zero;  /* ...and found all zero (§2.5: then the component is initial) */
};

/* @n is a constant multiple of 8 at every call, so the loop unrolls into a few loads. */
static inline bool bytes_zero(const uint8_t *p, size_t n)
{
	uint64_t acc = 0;

	for (size_t i = 0; i < n; i += 8)
		acc |= load_le64(p + i);
	return acc == 0;
}

/* A header check failed: @value is the offending bits or qword at area byte @offset. */
static int header_fault(struct vx_event *event, enum vx_event_cause cause, const char *rule,
			const char *insn, const char *what, uint64_t value, int64_t offset)
{
	raise_exception(event, VX_VEC_GP, cause, rule, "%s: %s (0x%llx)", insn, what,
			(unsigned long long)value);
	return event_detail(event, 0, value, offset);
}

/* The XRSTORS image check that failed (its MSR is already set) sits at area byte @offset. */
static int image_fault(struct vx_event *event, int64_t offset)
{
	if (event)
		event->offset = offset;
	return VX_FAULTED;
}

static int check_form(const struct vx_cpu *cpu, const struct restore_plan *p, const char *insn,
		      struct vx_event *event)
{
	/* §5.6: XRSTORS has only the compacted form: XCOMP_BV[63] = 0 → #GP(0). */
	if (p->xrstors && !p->compacted)
		return header_fault(event, VX_CAUSE_XCOMP_BV_FORM, "arch.md §5.6", insn,
				    "XCOMP_BV[63] = 0", p->xcomp_bv, HDR_XCOMP_BV);
	/* §5.5: the compacted form needs XSAVEC (CPUID.(0xD,1):EAX[1]). */
	if (p->compacted && !cpu->facts.xsavec)
		return header_fault(event, VX_CAUSE_XCOMP_BV_NO_XSAVEC, "arch.md §5.5", insn,
				    "XCOMP_BV[63] = 1 on a CPU without XSAVEC", p->xcomp_bv,
				    HDR_XCOMP_BV);
	return 0;
}

static int check_standard_header(const uint8_t *header, const struct restore_plan *p,
				 const char *insn, struct vx_event *event)
{
	/* §5.5: XSTATE_BV may only hold XCR0 bits (not 63, not supervisor bits). */
	if (p->xstate_bv & ~p->enabled)
		return header_fault(event, VX_CAUSE_XSTATE_BV_OUTSIDE_XCR0, "arch.md §5.5", insn,
				    "XSTATE_BV has bits outside XCR0", p->xstate_bv & ~p->enabled,
				    HDR_XSTATE_BV);
	/* §5.5: header bytes 8-23 (XCOMP_BV and the first reserved qword) must be zero. */
	if (!bytes_zero(header + 8, 16))
		return header_fault(event, VX_CAUSE_HEADER_RESERVED, "arch.md §5.5", insn,
				    "header bytes 8-23 are not zero (bytes 16-23 qword)",
				    load_le64(header + 16), HDR_XCOMP_BV);
	return 0;
}

static int check_compacted_header(const uint8_t *header, const struct restore_plan *p,
				  const char *insn, struct vx_event *event)
{
	/* §5.5/§5.6: XCOMP_BV[62:0] ⊆ XCR0 (XCR0 | IA32_XSS for XRSTORS). */
	if (p->format & ~p->enabled)
		return header_fault(event, VX_CAUSE_XCOMP_BV_OUTSIDE_ENABLED,
				    p->xrstors ? "arch.md §5.6" : "arch.md §5.5", insn,
				    "XCOMP_BV has bits of components that are not enabled",
				    p->format & ~p->enabled, HDR_XCOMP_BV);
	/* §5.5: XSTATE_BV ⊆ XCOMP_BV[62:0] (so XSTATE_BV[63] = 1 faults too). */
	if (p->xstate_bv & ~p->format)
		return header_fault(event, VX_CAUSE_XSTATE_BV_OUTSIDE_XCOMP_BV, "arch.md §5.5",
				    insn, "XSTATE_BV has bits that are not in XCOMP_BV",
				    p->xstate_bv & ~p->format, HDR_XSTATE_BV);
	/* §5.5: header bytes 16-63 must be zero in the compacted form. */
	if (!bytes_zero(header + 16, 48))
		return header_fault(event, VX_CAUSE_HEADER_RESERVED, "arch.md §5.5", insn,
				    "header bytes 16-63 are not zero", 0, VX_HEADER_OFFSET + 16);
	return 0;
}

static void plan_standard(const struct vx_cpu *cpu, struct restore_plan *p)
{
	(void)cpu;
	/* §5.5: TO_RESTORE = RFBM & XSTATE_BV, TO_INIT = RFBM & ~XSTATE_BV. */
	p->to_restore = p->rfbm & p->xstate_bv;
	p->to_init = p->rfbm & ~p->xstate_bv;
	/* §5.5: the standard form loads MXCSR if RFBM[1] or RFBM[2], whatever XSTATE_BV says. */
	p->load_mxcsr = (p->rfbm & (MASK_SSE | MASK_AVX)) != 0;
	p->init_mxcsr = false;
}

static void plan_compacted(struct vx_cpu *cpu, struct restore_plan *p)
{
	/* §5.5: TO_RESTORE = RFBM & FORMAT & XSTATE_BV; everything else requested is init. */
	p->to_restore = p->rfbm & p->format & p->xstate_bv;
	p->to_init = p->rfbm & ~p->to_restore;
	/* §5.5: SSE as a whole: restoring reads MXCSR, initializing sets it to 0x1F80. */
	p->load_mxcsr = (p->to_restore & MASK_SSE) != 0;
	p->init_mxcsr = (p->to_init & MASK_SSE) != 0;
	p->layout = layout_compacted(cpu, p->format);
}

static uint32_t component_offset(const struct vx_cpu *cpu, const struct restore_plan *p, unsigned i)
{
	return p->compacted ? p->layout->offset[i] : cpu->facts.standard_offset[i];
}

/* The lowest / highest set bit of a non-zero @mask. */
static inline unsigned low_bit(uint64_t mask)
{
	return (unsigned)__builtin_ctzll(mask);
}

static inline unsigned high_bit(uint64_t mask)
{
	return 63u - (unsigned)__builtin_clzll(mask);
}

static struct area_range load_range(const struct vx_cpu *cpu, const struct restore_plan *p)
{
	struct area_range r = {VX_HEADER_OFFSET, VX_EXTENDED_OFFSET};
	uint64_t extended = p->to_restore & cpu->facts.stored;

	if (p->to_restore & MASK_X87)
		r.first = 0;
	else if (p->load_mxcsr)
		r.first = VX_MXCSR_OFFSET;
	else if (p->to_restore & MASK_SSE)
		r.first = VX_XMM_OFFSET;
	/* Compacted: the highest component ends last (§2.4); standard: the largest end. */
	if (p->compacted && extended)
		extended = VX_BIT(high_bit(extended));
	for (; extended; extended &= extended - 1) {
		unsigned i = low_bit(extended);
		uint64_t end = (uint64_t)component_offset(cpu, p, i) + cpu->facts.size[i];

		if (end > r.end)
			r.end = end;
	}
	return r;
}

/* §5.9: loading an XFD-armed component raises #NM and records it in IA32_XFD_ERR. */
static int check_xfd(struct vx_cpu *cpu, const struct restore_plan *p, const char *insn,
		     struct vx_event *event)
{
	uint64_t armed = state_xfd_armed(cpu) & p->to_restore;

	if (!armed)
		return 0;
	cpu->state.xfd_err = armed;
	raise_exception(event, VX_VEC_NM, VX_CAUSE_XFD_ARMED, "arch.md §5.9",
			"%s would load XFD-armed components 0x%llx (IA32_XFD 0x%llx)", insn,
			(unsigned long long)armed, (unsigned long long)cpu->state.xfd);
	return event_detail(event, VX_MSR_IA32_XFD, armed, -1);
}

static int check_mxcsr(const struct vx_cpu *cpu, const uint8_t *area, const char *insn,
		       struct vx_event *event)
{
	uint32_t mxcsr = load_le32(area + VX_MXCSR_OFFSET);

	/* §5.5: MXCSR bits outside the processor's MXCSR_MASK → #GP(0). */
	if (mxcsr & ~cpu->facts.mxcsr_mask) {
		raise_exception(event, VX_VEC_GP, VX_CAUSE_MXCSR_RESERVED, "arch.md §5.5",
				"%s: MXCSR 0x%08x at area+24 sets bits outside MXCSR_MASK 0x%08x",
				insn, mxcsr, cpu->facts.mxcsr_mask);
		return event_detail(event, 0, mxcsr & ~cpu->facts.mxcsr_mask, VX_MXCSR_OFFSET);
	}
	return 0;
}

/* §7.2: an SSP WRMSR accepts: canonical for the linear-address width, bits 1:0 = 0. */
static inline bool ssp_valid(const struct vx_cpu *cpu, uint64_t value)
{
	return !(value & 3u) && cpu_canonical_in(cpu->facts.linear_address_bits, value);
}

/* §2.5: @value (the component's qwords ORed) is its whole image: note if it is all zero. */
static inline void note_value(const struct vx_cpu *cpu, struct restore_plan *p, unsigned i,
			      uint64_t value, uint32_t bytes)
{
	if (cpu->facts.size[i] != bytes || cpu->facts.store_size[i] != bytes)
		return;
	p->value_known |= VX_BIT(i);
	if (!value)
		p->value_zero |= VX_BIT(i);
}

/* CET_U (§2.5: IA32_U_CET, IA32_PL3_SSP) would pass WRMSR's checks (§7.2). */
static bool cet_u_valid(const struct vx_cpu *cpu, struct restore_plan *p, const uint8_t *area)
{
	const uint8_t *u = area + component_offset(cpu, p, VX_COMP_CET_U);
	uint64_t ctl = load_le64(u + U_CET_OFFSET), ssp = load_le64(u + PL3_SSP_OFFSET);

	note_value(cpu, p, VX_COMP_CET_U, ctl | ssp, 16);
	/* §7.2: U_CET = 0 passes every control check; another value gets them all. */
	return ssp_valid(cpu, ssp) &&
	       (!ctl || !msr_check_cet_control(cpu, VX_MSR_IA32_U_CET, ctl, NULL));
}

/* CET_S (§2.5: IA32_PL0-2_SSP) would pass WRMSR's checks (§7.2). */
static bool cet_s_valid(const struct vx_cpu *cpu, struct restore_plan *p, const uint8_t *area)
{
	const uint8_t *s = area + component_offset(cpu, p, VX_COMP_CET_S);
	uint64_t pl0 = load_le64(s), pl1 = load_le64(s + 8), pl2 = load_le64(s + 16);

	note_value(cpu, p, VX_COMP_CET_S, pl0 | pl1 | pl2, 24);
	return ssp_valid(cpu, pl0) && ssp_valid(cpu, pl1) && ssp_valid(cpu, pl2);
}

/* IA32_PASID would pass WRMSR's check (SDM Vol.4). */
static bool pasid_valid(const struct vx_cpu *cpu, struct restore_plan *p, const uint8_t *area)
{
	uint64_t value = load_le64(area + component_offset(cpu, p, VX_COMP_PASID));

	note_value(cpu, p, VX_COMP_PASID, value, 8);
	return !msr_check_pasid(cpu, value, NULL);
}

/*
 * Every CET/PASID value of the image passes, tested with plain compares and no event (the
 * usual case); the zero tests come free for update_tracking().  Only the loaded components
 * (XSTATE_BV bit set) are looked at.
 */
static bool supervisor_values_valid(const struct vx_cpu *cpu, struct restore_plan *p,
				    const uint8_t *area)
{
	bool ok = true;

	if (p->to_restore & VX_BIT(VX_COMP_CET_U))
		ok &= cet_u_valid(cpu, p, area);
	if (p->to_restore & VX_BIT(VX_COMP_CET_S))
		ok &= cet_s_valid(cpu, p, area);
	if (p->to_restore & VX_BIT(VX_COMP_PASID))
		ok &= pasid_valid(cpu, p, area);
	return ok;
}

/*
 * §5.6/§7.10: XRSTORS checks CET and PASID values as WRMSR would.  A value that fails the
 * quick test above is checked again here, field by field in WRMSR's order, for the exact fault.
 */
static int supervisor_value_fault(const struct vx_cpu *cpu, const struct restore_plan *p,
				  const uint8_t *area, struct vx_event *event)
{
	if (p->to_restore & VX_BIT(VX_COMP_CET_U)) {
		uint32_t u = component_offset(cpu, p, VX_COMP_CET_U);

		if (msr_check_cet_control(cpu, VX_MSR_IA32_U_CET,
					  load_le64(area + u + U_CET_OFFSET), event))
			return image_fault(event, u + U_CET_OFFSET);
		if (msr_check_ssp(cpu, VX_MSR_IA32_PL3_SSP, load_le64(area + u + PL3_SSP_OFFSET),
				  event))
			return image_fault(event, u + PL3_SSP_OFFSET);
	}
	if (p->to_restore & VX_BIT(VX_COMP_CET_S)) {
		uint32_t s = component_offset(cpu, p, VX_COMP_CET_S);

		for (unsigned level = 0; level < 3; level++)
			if (msr_check_ssp(cpu, VX_MSR_IA32_PL0_SSP + level,
					  load_le64(area + s + 8 * level), event))
				return image_fault(event, s + 8 * level);
	}
	if (p->to_restore & VX_BIT(VX_COMP_PASID)) {
		uint32_t pasid = component_offset(cpu, p, VX_COMP_PASID);

		if (msr_check_pasid(cpu, load_le64(area + pasid), event))
			return image_fault(event, pasid);
	}
	return 0;
}

static int check_supervisor_values(const struct vx_cpu *cpu, struct restore_plan *p,
				   const uint8_t *area, struct vx_event *event)
{
	if (supervisor_values_valid(cpu, p, area))
		return 0;
	return supervisor_value_fault(cpu, p, area, event);
}

static void restore_legacy(struct vx_cpu *cpu, const struct restore_plan *p, const uint8_t *area,
			   bool rex_w)
{
	uint8_t *xmm = cpu->state.legacy + VX_XMM_OFFSET;
	uint32_t xmm_bytes =
	    (cpu_in_64bit_mode(cpu) ? LEG_XMM_END : LEG_XMM_END_32BIT) - VX_XMM_OFFSET;

	/* §2.2: XMM0-15 in 64-bit mode - a fixed-size copy rather than a variable one. */
	if (xmm_bytes == LEG_XMM_END - VX_XMM_OFFSET && (p->to_restore & MASK_SSE)) {
		copy_block(xmm, area + VX_XMM_OFFSET, LEG_XMM_END - VX_XMM_OFFSET);
		xmm_bytes = 0;
	}
	if (p->to_restore & MASK_X87)
		x87_load(cpu, area, rex_w);
	else if (p->to_init & MASK_X87)
		x87_init(cpu);
	if (p->load_mxcsr)
		memcpy(cpu->state.legacy + VX_MXCSR_OFFSET, area + VX_MXCSR_OFFSET, 4);
	else if (p->init_mxcsr)
		store_le32(cpu->state.legacy + VX_MXCSR_OFFSET, VX_MXCSR_DEFAULT);
	if ((p->to_restore & MASK_SSE) && xmm_bytes)
		memcpy(xmm, area + VX_XMM_OFFSET, xmm_bytes);
	else if (p->to_init & MASK_SSE)
		memset(xmm, 0, xmm_bytes);
}

/*
 * A run of components: one to four qwords (PKRU, PASID, CET_U, CET_S: §2.5) as plain 8-byte
 * moves - XRSTORS's supervisor components split the copy into such short runs, and a C-library
 * call per run cost more than the bytes (docs/cpu-model.md "Speed").
 */
static inline void copy_run(uint8_t *dst, const uint8_t *src, uint32_t len)
{
	if (len > 32 || (len & 7u)) {
		memcpy(dst, src, len);
		return;
	}
	store_le64(dst, load_le64(src));
	if (len > 8)
		store_le64(dst + 8, load_le64(src + 8));
	if (len > 16)
		store_le64(dst + 16, load_le64(src + 16));
	if (len > 24)
		store_le64(dst + 24, load_le64(src + 24));
}

/* The runs of components >= 2 of @mask at area offsets @offset[i] (struct restore_runs). */
static void plan_runs(const struct vx_cpu *cpu, const uint32_t *offset, uint64_t mask,
		      struct restore_runs *r)
{
	const struct cpu_facts *f = &cpu->facts;

	r->count = 0;
	while (mask) {
		unsigned i = low_bit(mask);
		uint32_t at = offset[i], to = f->store_offset[i], len = f->size[i];

		mask &= mask - 1;
		while (mask && offset[low_bit(mask)] == at + len &&
		       f->store_offset[low_bit(mask)] == to + len) {
			len += f->size[low_bit(mask)];
			mask &= mask - 1;
		}
		r->area[r->count] = at;
		r->store[r->count] = to;
		r->len[r->count++] = len;
	}
}

/*
 * Load components >= 2 of @mask (whole: 64-bit mode, §2.2) from @area, each run of
 * components back to back in both places in one copy; the runs are planned again only when
 * the format or the mask changes (a context switch repeats them).
 */
static void copy_components_in(struct vx_cpu *cpu, const struct restore_plan *p,
			       const uint8_t *area, uint64_t mask)
{
	struct restore_runs *r = &cpu->restore_runs;
	uint64_t format = p->compacted ? p->format : VX_XCOMP_BV_COMPACTED;

	if (r->format != format || r->mask != mask) {
		plan_runs(cpu, p->compacted ? p->layout->offset : cpu->facts.standard_offset, mask,
			  r);
		r->format = format;
		r->mask = mask;
	}
	for (unsigned k = 0; k < r->count; k++)
		copy_run(cpu->bytes + r->store[k], area + r->area[k], r->len[k]);
}

static void restore_components(struct vx_cpu *cpu, const struct restore_plan *p,
			       const uint8_t *area)
{
	uint64_t load = p->to_restore & cpu->facts.stored;
	/*
	 * A component not in use already holds its initial configuration (every write marks it
	 * in use, and XINUSE[i] is cleared only by initializing it or by finding it all zeros:
	 * state.c, §4), so initializing it again writes nothing new - a context switch
	 * restores several idle AVX-512/AMX/PKRU components each time.
	 */
	uint64_t init = p->to_init & cpu->facts.stored & cpu->state.xinuse;

	if (cpu_in_64bit_mode(cpu)) {
		copy_components_in(cpu, p, area, load);
		load = 0;
	}
	for (; load; load &= load - 1) {
		unsigned i = low_bit(load);

		memcpy(component_bytes(cpu, i), area + component_offset(cpu, p, i),
		       mode_copy_size(cpu, i));
	}
	for (; init; init &= init - 1) {
		unsigned i = low_bit(init);

		memset(component_bytes(cpu, i), 0, mode_copy_size(cpu, i));
	}
}

/* Components whose XINUSE is decided by their value rather than by load/init (docs). */
static uint64_t value_tracked(const struct vx_cpu *cpu, const struct restore_plan *p)
{
	uint64_t tracked = cpu->facts.supervisor & p->to_restore;

	/* Outside 64-bit mode only the low registers are initialized; the rest may be live. */
	if (!cpu_in_64bit_mode(cpu))
		tracked |= p->to_init & (MASK_SSE | MASK_AVX | VX_BIT(VX_COMP_ZMM_HI256));
	if (cpu->behaviour.xinuse_clear_on_init_load)
		tracked |= p->to_restore;
	/*
	 * Measured (docs/cpu-model.md): when an XRSTOR touches any part of ZMM0-15, AMD
	 * re-evaluates SSE, AVX and ZMM_Hi256 together by value, even outside RFBM.
	 */
	if (cpu->behaviour.xinuse_clear_on_init_load && (p->rfbm & ZMM0_15_COMPONENTS))
		tracked |= ZMM0_15_COMPONENTS & cpu_known_components(cpu) & ~MASK_X87;
	return tracked;
}

/* §4: loaded → XINUSE 1, initialized → 0; XMODIFIED ← ~RFBM; XRSTOR_INFO recorded. */
static void update_tracking(struct vx_cpu *cpu, const struct restore_plan *p, uint64_t addr)
{
	uint64_t tracked = value_tracked(cpu, p) & (VX_BIT(VX_COMP_LIMIT) - 1);
	struct vx_xrstor_info *info = &cpu->state.xrstor_info;

	cpu->state.xinuse = (cpu->state.xinuse & ~p->to_init) | p->to_restore;
	for (; tracked; tracked &= tracked - 1) {
		unsigned i = low_bit(tracked);

		if ((p->value_known & VX_BIT(i)) ? (p->value_zero & VX_BIT(i)) != 0
						 : state_component_is_init(cpu, i))
			cpu->state.xinuse &= ~VX_BIT(i);
		else
			cpu->state.xinuse |= VX_BIT(i);
	}
	cpu->state.xmodified = ~p->rfbm & cpu_known_components(cpu);
	/* §A.4: a restore that reaches the ZMM0-15 file settles a pending legacy-SSE merge. */
	if (p->rfbm & ZMM0_15_COMPONENTS)
		cpu->state.xmm_merge_pending = false;
	info->valid = true;
	info->cpl = cpu_effective_cpl(cpu);
	info->vmx_non_root = cpu->control.vmx_non_root;
	info->linear_address = addr;
	info->compmask = p->compacted ? p->xcomp_bv : 0;
}

static void read_header(const uint8_t *header, struct restore_plan *p)
{
	p->xstate_bv = load_le64(header);
	p->xcomp_bv = load_le64(header + 8);
	/* §5.5: XCOMP_BV[63] selects the form. */
	p->compacted = (p->xcomp_bv & VX_XCOMP_BV_COMPACTED) != 0;
	p->format = p->xcomp_bv & ~VX_XCOMP_BV_COMPACTED;
}

static int plan_restore(struct vx_cpu *cpu, const struct insn_args *args, const uint8_t *area,
			struct restore_plan *p, struct vx_event *event)
{
	const char *insn = args->desc->name;
	const uint8_t *header = area + VX_HEADER_OFFSET;
	uint64_t untouched = mode_untouched_components(cpu);

	p->layout = NULL; /* every other field is set below */
	p->value_known = 0;
	p->value_zero = 0;
	p->xrstors = args->desc->kind == INSN_XRSTORS;
	/* §5.5: RFBM = XCR0 & EDX:EAX; §5.6: XRSTORS uses XCR0 | IA32_XSS. */
	p->enabled = p->xrstors ? (cpu->state.xcr0 | cpu->state.xss) : cpu->state.xcr0;
	p->rfbm = p->enabled & args->edx_eax;
	read_header(header, p);
	if (check_form(cpu, p, insn, event))
		return VX_FAULTED;
	if (p->compacted ? check_compacted_header(header, p, insn, event)
			 : check_standard_header(header, p, insn, event))
		return VX_FAULTED;
	if (p->compacted)
		plan_compacted(cpu, p);
	else
		plan_standard(cpu, p);
	/* §2.2: outside 64-bit mode Hi16_ZMM is neither loaded nor initialized. */
	p->to_restore &= ~untouched;
	p->to_init &= ~untouched;
	return 0;
}

int exec_xrstor(struct vx_cpu *cpu, const struct insn_args *args, struct vx_event *event)
{
	struct area_range header_range = {VX_HEADER_OFFSET, VX_EXTENDED_OFFSET};
	struct restore_plan plan;
	const uint8_t *area;

	if (area_check(cpu, args->mem, args->addr, header_range, false, event))
		return VX_FAULTED;
	area = area_bytes(args->mem, args->addr);
	if (plan_restore(cpu, args, area, &plan, event) ||
	    check_xfd(cpu, &plan, args->desc->name, event) ||
	    area_check(cpu, args->mem, args->addr, load_range(cpu, &plan), false, event))
		return VX_FAULTED;
	if (plan.load_mxcsr && check_mxcsr(cpu, area, args->desc->name, event))
		return VX_FAULTED;
	if (plan.xrstors && check_supervisor_values(cpu, &plan, area, event))
		return VX_FAULTED;
	restore_legacy(cpu, &plan, area, args->rex_w);
	restore_components(cpu, &plan, area);
	update_tracking(cpu, &plan, args->addr);
	return 0;
}
