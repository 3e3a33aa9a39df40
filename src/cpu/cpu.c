/* SPDX-License-Identifier: MIT */
/*
 * A logical processor: creation, reset, copy, and the control state (CPL, mode, CR0, CR4,
 * VMX controls) with the MOV-to-CR rules that matter here (arch.md §5.0, §7.1).
 */
#include <errno.h>

#include "cpu/cpu_internal.h"
#include "cpu/kernel_entry.h"

/* Components whose bytes also back MSRs, and the room those MSRs need (§2.1, §7.2). */
static uint32_t msr_backed_size(const struct cpu_facts *facts, unsigned component)
{
	if (component == VX_COMP_CET_U && (facts->cet_ss || facts->cet_ibt))
		return 16;
	if (component == VX_COMP_CET_S && facts->cet_ss)
		return 24;
	if (component == VX_COMP_PASID && facts->enqcmd)
		return 8;
	return 0;
}

static void read_feature_flags(const struct vx_profile *profile, struct cpu_facts *facts)
{
	facts->xsave = vx_profile_has(profile, VX_FEAT_XSAVE);
	facts->xsaveopt = facts->xsave && vx_profile_has(profile, VX_FEAT_XSAVEOPT);
	facts->xsavec = facts->xsave && vx_profile_has(profile, VX_FEAT_XSAVEC);
	facts->xgetbv1 = facts->xsave && vx_profile_has(profile, VX_FEAT_XGETBV1);
	facts->xsaves = facts->xsave && vx_profile_has(profile, VX_FEAT_XSAVES);
	facts->xfd = facts->xsave && vx_profile_has(profile, VX_FEAT_XFD);
	facts->cet_ss = vx_profile_has(profile, VX_FEAT_CET_SS);
	facts->cet_ibt = vx_profile_has(profile, VX_FEAT_CET_IBT);
	facts->pku = vx_profile_has(profile, VX_FEAT_PKU);
	facts->enqcmd = vx_profile_has(profile, VX_FEAT_ENQCMD);
	facts->lm = vx_profile_has(profile, VX_FEAT_LM);
	/* CPUID.(7,0):ECX[16] LA57: 5-level paging, so CR4.LA57 may be set. */
	facts->la57 = (vx_profile_leaf(profile, 7, 0).ecx >> 16) & 1u;
	facts->xcr0_supported = vx_profile_xcr0_supported(profile);
	facts->xss_supported = vx_profile_xss_supported(profile);
	facts->xfd_supported = vx_profile_xfd_supported(profile);
	facts->mxcsr_mask = vx_profile_mxcsr_mask(profile);
	facts->linear_address_bits = vx_profile_linear_address_bits(profile);
	facts->supervisor = vx_supervisor_components();
}

static uint64_t standard_end(const struct cpu_facts *f, unsigned i)
{
	return (uint64_t)f->standard_offset[i] + f->size[i];
}

/* by_standard_end: the stored components, the one ending last first (insertion sort of at
 * most VX_COMP_LIMIT entries, once at create), so layout_standard_end() stops at the first
 * component of its mask. */
static void order_by_standard_end(struct cpu_facts *f)
{
	for (unsigned n = 0; n < f->stored_count; n++) {
		uint8_t c = f->stored_list[n];
		unsigned k = n;

		for (; k > 0 && standard_end(f, f->by_standard_end[k - 1]) < standard_end(f, c);
		     k--)
			f->by_standard_end[k] = f->by_standard_end[k - 1];
		f->by_standard_end[k] = c;
	}
}

/*
 * Sizes, offsets and where each component's bytes go; returns the bytes needed.  The profile
 * passed vx_profile_check_xsave_leaves(), so every size is below VX_XSAVE_AREA_MAX and their
 * sum too; the arithmetic is 64-bit all the same.
 */
static size_t place_components(const struct vx_profile *profile, struct cpu_facts *facts)
{
	uint64_t supported = facts->xcr0_supported | facts->xss_supported;
	uint64_t total = 0;

	for (unsigned i = 2; i < VX_COMP_LIMIT; i++) {
		struct vx_component_desc desc;
		uint64_t store;

		vx_profile_component(profile, i, &desc);
		store = (supported & VX_BIT(i)) ? desc.size : 0;
		if (msr_backed_size(facts, i) > store)
			store = msr_backed_size(facts, i);
		if (store == 0)
			continue;
		facts->size[i] = (supported & VX_BIT(i)) ? desc.size : 0;
		facts->standard_offset[i] = desc.supervisor ? 0 : desc.standard_offset;
		facts->align64 |= desc.align64 ? VX_BIT(i) : 0;
		facts->store_offset[i] = (uint32_t)total;
		facts->store_size[i] = (uint32_t)store;
		facts->stored |= VX_BIT(i);
		facts->stored_list[facts->stored_count++] = (uint8_t)i;
		total += (store + 63u) & ~(uint64_t)63u;
	}
	order_by_standard_end(facts);
	return (size_t)total;
}

/* Display family from CPUID.1:EAX (base family, plus the extended family when it is 0xF). */
static unsigned cpu_family(const struct vx_profile *profile)
{
	uint32_t eax = vx_profile_leaf(profile, 1, 0).eax;
	unsigned family = (eax >> 8) & 0xFu;

	return family == 0xF ? family + ((eax >> 20) & 0xFFu) : family;
}

/*
 * The choices of docs/cpu-model.md, with the defaults docs/hardware-behaviour.md measured.
 * Vendor-dependent facts come from CPUID (§1.1, §2.2).
 */
static void choose_behaviour(const struct vx_profile *profile, struct cpu_behaviour *b)
{
	bool amd = vx_profile_vendor(profile) == VX_VENDOR_AMD;

	/* hardware-behaviour.md A.1: AMD's XRSTOR detects loaded initial values. */
	b->xinuse_clear_on_init_load = amd;
	/* A.2: XGETBV(1) bit 1 = XMM bit | (MXCSR != 0x1F80). */
	b->mxcsr_marks_sse_in_use = true;
	/* B, D: XSAVEOPT skips init components and, after a matching XRSTOR, unmodified ones. */
	b->xsaveopt_skips_init = true;
	b->xsaveopt_skips_unmodified = true;
	/* E: misaligned operands raise #GP even with CR0.AM = EFLAGS.AC = 1. */
	b->misaligned_ac = false;
	/* C, G.3: AMD keeps FOP/FIP/FDP/FCS/FDS only while FSW.ES = 1, RstrFpErrPtrs or not. */
	b->fpu_pointers_only_on_es = amd;
	b->fcs_fds_zero = vx_profile_has(profile, VX_FEAT_FCS_FDS_DEPRECATED);
	/*
	 * Differential runs: AMD keeps FIP/FDP as linear addresses sign-extended from the CPU's
	 * linear-address width (CPUID 0x80000008 EAX[15:8]): 57 bits measured on a Zen 5 with LA57,
	 * 48 bits on a Zen 3 (EPYC family 19h model 1).
	 */
	b->fpu_pointer_bits = amd ? vx_profile_linear_address_bits(profile) : 64;
	/*
	 * Differential runs (docs/differential-testing.md F6): LDMXCSR leaves XMODIFIED[1] alone.
	 * Safe because XSAVEOPT stores MXCSR whenever RFBM[1]|RFBM[2], skipped or not (§5.2).
	 */
	b->mxcsr_write_marks_modified = false;
	/*
	 * F5, an AMD quirk: a legacy-SSE write of XMM0-15 while ZMM_Hi256 is in use sets XINUSE[2]
	 * but not XMODIFIED[2], so XSAVEOPT after a matching XRSTOR may skip AVX and record
	 * XSTATE_BV[2] = 1 over stale bytes.  Reproduced so the model stays indistinguishable.
	 */
	b->sse_write_sets_avx_inuse = amd;
	/* A.4, measured on a Zen 3 (family 19h model 1); assumed for the whole family 19h. */
	b->xmm_merge_reevaluates = amd && cpu_family(profile) == 0x19;
}

static void power_on_control(struct vx_cpu *cpu)
{
	memset(&cpu->control, 0, sizeof(cpu->control));
	cpu->control.mode = VX_MODE_64BIT;
	cpu->control.cpl = 0;
	cpu->control.cr0 = VX_CR0_PE | VX_CR0_WP;
	cpu->control.cr4 = VX_CR4_OSFXSR | (cpu->facts.xsave ? VX_CR4_OSXSAVE : 0);
}

/* §6: XCR0 = 1, XSS = 0, every component in its initial configuration, XINUSE = 0. */
static void power_on_state(struct vx_cpu *cpu)
{
	memset(&cpu->state, 0, sizeof(cpu->state));
	cpu->state.xcr0 = VX_BIT(VX_COMP_X87);
	/* No XRSTOR yet: everything counts as modified (§4). */
	cpu->state.xmodified = cpu_known_components(cpu);
	state_init_legacy(cpu);
	memset(cpu->bytes, 0, cpu->bytes_size);
	for (unsigned i = 0; i < LAYOUT_CACHE_SLOTS; i++)
		cpu->layouts[i].mask = VX_XCOMP_BV_COMPACTED;
	cpu->next_layout_slot = 0;
}

int vx_cpu_create(const struct vx_profile *profile, const struct vx_platform *platform,
		  struct vx_cpu **cpu, struct vx_error *err)
{
	struct cpu_facts facts;
	size_t header, bytes;
	struct vx_cpu *c;

	if (!profile || !cpu)
		return vx_error_set(err, -EINVAL, NULL, "vx_cpu_create: NULL profile or result");
	if (!platform)
		platform = vx_platform_default();
	/* Leaf 0xD out of all reason (a 4 GiB component, an offset past the area): no processor. */
	if (vx_profile_check_xsave_leaves(profile, err))
		return -EINVAL;
	memset(&facts, 0, sizeof(facts));
	read_feature_flags(profile, &facts);
	bytes = place_components(profile, &facts);
	header = (sizeof(struct vx_cpu) + 63u) & ~(size_t)63u;
	c = platform->alloc(platform->ctx, header + bytes, 64);
	if (!c)
		return vx_error_set(err, -ENOMEM, NULL,
				    "cannot allocate %zu bytes for a processor of profile '%s'",
				    header + bytes, profile->name);
	memset(c, 0, header + bytes);
	c->platform = *platform;
	c->profile = *profile;
	c->facts = facts;
	c->bytes = (uint8_t *)c + header;
	c->bytes_size = bytes;
	choose_behaviour(profile, &c->behaviour);
	power_on_control(c);
	power_on_state(c);
	*cpu = c;
	return 0;
}

void vx_cpu_destroy(struct vx_cpu *cpu)
{
	if (!cpu)
		return;
	struct vx_platform platform = cpu->platform;

	platform.free(platform.ctx, cpu);
}

void vx_cpu_reset(struct vx_cpu *cpu)
{
	if (!cpu)
		return;
	power_on_control(cpu);
	power_on_state(cpu);
}

int vx_cpu_copy(struct vx_cpu *dst, const struct vx_cpu *src)
{
	if (!dst || !src)
		return -EINVAL;
	if (dst == src)
		return 0;
	/* Same CPU model only: the byte layout and every rule derive from the profile. */
	if (vx_profile_compare(&dst->profile, &src->profile, NULL) != 0 ||
	    dst->profile.mxcsr_mask != src->profile.mxcsr_mask)
		return -EINVAL;
	dst->control = src->control;
	dst->state = src->state;
	memcpy(dst->bytes, src->bytes, dst->bytes_size);
	return 0;
}

const struct vx_profile *vx_cpu_profile(const struct vx_cpu *cpu)
{
	return cpu ? &cpu->profile : NULL;
}

void vx_cpu_get_control(const struct vx_cpu *cpu, struct vx_cpu_control *control)
{
	if (cpu && control)
		*control = cpu->control;
}

/* cpu_known_components, cpu_in_64bit_mode, cpu_effective_cpl, cpu_canonical_access: inline in
 * cpu_internal.h (every instruction asks them). */

/*
 * §7.2: MSR values: canonical for the CPU's maximum linear-address width, whatever the paging
 * mode (KVM's is_noncanonical_msr_address() does the same).
 */
bool cpu_canonical(const struct vx_cpu *cpu, uint64_t address)
{
	return cpu_canonical_in(cpu->facts.linear_address_bits, address);
}

static int control_fault(struct vx_event *event, enum vx_event_cause cause, const char *rule,
			 const char *why)
{
	return raise_exception(event, VX_VEC_GP, cause, rule, "MOV to CR: %s", why);
}

static int check_cr4(const struct vx_cpu *cpu, const struct vx_cpu_control *next,
		     struct vx_event *event)
{
	/* §5.0/§1.1: CR4.OSXSAVE is reserved without CPUID XSAVE. */
	if ((next->cr4 & VX_CR4_OSXSAVE) && !cpu->facts.xsave)
		return control_fault(event, VX_CAUSE_CR_RESERVED, "arch.md §1.1",
				     "CR4.OSXSAVE set on a CPU without XSAVE (CPUID.1:ECX[26]=0)");
	/* §7.1: CR4.CET is reserved unless CET_SS or CET_IBT is enumerated. */
	if ((next->cr4 & VX_CR4_CET) && !cpu->facts.cet_ss && !cpu->facts.cet_ibt)
		return control_fault(event, VX_CAUSE_CR_RESERVED, "arch.md §7.1",
				     "CR4.CET set on a CPU without CET_SS or CET_IBT");
	/* §1.1: CR4.PKE is reserved without PKU. */
	if ((next->cr4 & VX_CR4_PKE) && !cpu->facts.pku)
		return control_fault(event, VX_CAUSE_CR_RESERVED, "arch.md §1.1",
				     "CR4.PKE set on a CPU without PKU");
	/* SDM Vol. 3 §2.5: CR4.LA57 is reserved without 5-level paging (CPUID.(7,0):ECX[16]). */
	if ((next->cr4 & VX_CR4_LA57) && !cpu->facts.la57)
		return control_fault(event, VX_CAUSE_CR_RESERVED, "arch.md §5.0",
				     "CR4.LA57 set on a CPU without 5-level paging "
				     "(CPUID.(7,0):ECX[16]=0)");
	/* SDM Vol. 3 §2.5 and MOV CR: changing CR4.LA57 while IA-32e mode is active → #GP(0). */
	if (((next->cr4 ^ cpu->control.cr4) & VX_CR4_LA57) && cpu->control.mode == VX_MODE_64BIT &&
	    next->mode == VX_MODE_64BIT)
		return control_fault(event, VX_CAUSE_CR_INVALID, "arch.md §5.0",
				     "CR4.LA57 changed in 64-bit mode (switch paging modes outside "
				     "IA-32e mode)");
	return 0;
}

static int check_cet_wp_pairing(const struct vx_cpu *cpu, const struct vx_cpu_control *next,
				struct vx_event *event)
{
	bool cet_on = next->cr4 & VX_CR4_CET;
	bool wp_on = next->cr0 & VX_CR0_WP;

	if (!cet_on || wp_on)
		return 0;
	/* §7.1: clearing CR0.WP while CR4.CET=1 faults. */
	if (cpu->control.cr4 & VX_CR4_CET)
		return control_fault(event, VX_CAUSE_CR_INVALID, "arch.md §7.1",
				     "CR0.WP cleared while CR4.CET=1");
	/* §7.1: setting CR4.CET while CR0.WP=0 faults. */
	return control_fault(event, VX_CAUSE_CR_INVALID, "arch.md §7.1",
			     "CR4.CET set while CR0.WP=0");
}

int vx_cpu_set_control(struct vx_cpu *cpu, const struct vx_cpu_control *control,
		       struct vx_event *event)
{
	if (!cpu || !control)
		return -EINVAL;
	event_clear(event);
	if ((unsigned)control->mode > VX_MODE_V86 || control->cpl > 3)
		return -EINVAL;
	if (check_cr4(cpu, control, event) || check_cet_wp_pairing(cpu, control, event))
		return VX_FAULTED;
	cpu->control = *control;
	return 0;
}

uint64_t vx_cpu_xcr0(const struct vx_cpu *cpu)
{
	return cpu ? cpu->state.xcr0 : 0;
}

uint64_t vx_cpu_xinuse(const struct vx_cpu *cpu)
{
	return cpu ? state_xinuse_visible(cpu) : 0;
}

uint64_t vx_cpu_xmodified(const struct vx_cpu *cpu)
{
	return cpu ? cpu->state.xmodified : 0;
}

void vx_cpu_xrstor_info(const struct vx_cpu *cpu, struct vx_xrstor_info *info)
{
	if (cpu && info)
		*info = cpu->state.xrstor_info;
}

uint64_t vx_cpu_get_ssp(const struct vx_cpu *cpu)
{
	return cpu ? cpu->state.ssp : 0;
}

void vx_cpu_set_ssp(struct vx_cpu *cpu, uint64_t ssp)
{
	if (cpu)
		cpu->state.ssp = ssp;
}

/*
 * PKRU for the fpu layer's RDPKRU (kernel_entry.h): PKRU (component 9, arch.md §2.1) is the
 * first 4 bytes of the component's store, which is where vx_cpu_get_reg()'s "pkru" row
 * (area_fields.def: offset 0, width 4) finds it - with reg.c's place_of() conditions: the
 * component is stored and holds the 4 bytes.  cpu->bytes never moves (vx_cpu_create()).
 */
const uint8_t *vx_cpu_pkru_bytes(const struct vx_cpu *cpu)
{
	if (!cpu || !(cpu->facts.stored & VX_BIT(VX_COMP_PKRU)) ||
	    cpu->facts.store_size[VX_COMP_PKRU] < sizeof(uint32_t))
		return NULL;
	return component_bytes_const(cpu, VX_COMP_PKRU);
}
