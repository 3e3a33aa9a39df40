/* SPDX-License-Identifier: MIT */
/*
 * RDMSR/WRMSR of the MSRs the model implements: IA32_XSS (arch.md §3.2), IA32_XFD and
 * IA32_XFD_ERR (§3.3), the CET MSRs (§7.2) and IA32_PASID.  U_CET, PL3_SSP, PL0-2_SSP and
 * PASID live in their XSAVE components' bytes (§2.5), so WRMSR and XRSTORS share one copy and
 * one set of value checks.
 */
#include <errno.h>

#include "cpu/cpu_internal.h"

/* IA32_U_CET / IA32_S_CET fields (§7.2). */
#define CET_SH_STK_BITS	  UINT64_C(0x3)			      /* 1:0 SH_STK_EN, WR_SHSTK_EN */
#define CET_IBT_BITS	  (UINT64_C(0x3C) | ~UINT64_C(0x3FF)) /* 5:2 and 63:10 */
#define CET_RESERVED_BITS UINT64_C(0x3C0)		      /* 9:6 */
#define CET_SUPPRESS	  VX_BIT(10)
#define CET_TRACKER	  VX_BIT(11)
/* IA32_PASID: bits 19:0 PASID, bit 31 valid, the rest reserved. */
#define PASID_VALID_BITS (UINT64_C(0xFFFFF) | VX_BIT(31))

/* Numbers and names are architectural facts: the arch table (vx_msr_info, msr_table.c). */
const char *vx_msr_name(uint32_t msr)
{
	const struct vx_msr_info *info = vx_msr_info(msr);

	return info ? info->name : NULL;
}

static const char *name_or_hex(uint32_t msr)
{
	const char *name = vx_msr_name(msr);

	return name ? name : "unknown MSR";
}

/* A WRMSR value check failed: @bits are the offending bits (the whole value if not bits). */
static int msr_fault(struct vx_event *event, uint32_t msr, uint64_t value,
		     enum vx_event_cause cause, uint64_t bits, const char *rule, const char *why)
{
	raise_exception(event, VX_VEC_GP, cause, rule, "WRMSR %s (0x%x) = 0x%llx: %s",
			name_or_hex(msr), msr, (unsigned long long)value, why);
	return event_detail(event, msr, bits, -1);
}

/* §7.2: the checks WRMSR (and XRSTORS, §7.10) applies to IA32_U_CET and IA32_S_CET. */
int msr_check_cet_control(const struct vx_cpu *cpu, uint32_t msr, uint64_t value,
			  struct vx_event *event)
{
	/* §7.2: bits 9:6 are reserved. */
	if (value & CET_RESERVED_BITS)
		return msr_fault(event, msr, value, VX_CAUSE_MSR_RESERVED_BITS,
				 value & CET_RESERVED_BITS, "arch.md §7.2",
				 "reserved bits 9:6 set");
	/* §7.2: SUPPRESS and TRACKER may not both be 1. */
	if ((value & CET_SUPPRESS) && (value & CET_TRACKER))
		return msr_fault(event, msr, value, VX_CAUSE_MSR_CONFLICT,
				 value & (CET_SUPPRESS | CET_TRACKER), "arch.md §7.2",
				 "SUPPRESS and TRACKER both 1");
	/* §7.2: the value (EB_LEG_BITMAP_BASE in 63:12) must be canonical. */
	if (!cpu_canonical(cpu, value))
		return msr_fault(event, msr, value, VX_CAUSE_NONCANONICAL, value, "arch.md §7.2",
				 "EB_LEG_BITMAP_BASE is not canonical");
	/* §7.2/§7.12: without CET_SS, bits 1:0 (shadow-stack enables) are reserved. */
	if (!cpu->facts.cet_ss && (value & CET_SH_STK_BITS))
		return msr_fault(event, msr, value, VX_CAUSE_MSR_RESERVED_BITS,
				 value & CET_SH_STK_BITS, "arch.md §7.2",
				 "shadow-stack bits 1:0 set without CET_SS");
	/* §7.2/§7.12: without CET_IBT, bits 5:2 and 63:10 are reserved. */
	if (!cpu->facts.cet_ibt && (value & CET_IBT_BITS))
		return msr_fault(event, msr, value, VX_CAUSE_MSR_RESERVED_BITS,
				 value & CET_IBT_BITS, "arch.md §7.12",
				 "IBT bits 5:2 or 63:10 set without CET_IBT");
	return 0;
}

/* §7.2: IA32_PL0-3_SSP must be canonical and 4-byte aligned (bits 1:0 = 0). */
int msr_check_ssp(const struct vx_cpu *cpu, uint32_t msr, uint64_t value, struct vx_event *event)
{
	if (!cpu_canonical(cpu, value))
		return msr_fault(event, msr, value, VX_CAUSE_NONCANONICAL, value, "arch.md §7.2",
				 "address is not canonical");
	if (value & 3u)
		return msr_fault(event, msr, value, VX_CAUSE_MISALIGNED, value & 3u, "arch.md §7.2",
				 "bits 1:0 are not 0");
	return 0;
}

/* IA32_PASID (SDM Vol.4): only PASID (19:0) and valid (31) may be set. */
int msr_check_pasid(const struct vx_cpu *cpu, uint64_t value, struct vx_event *event)
{
	(void)cpu;
	if (value & ~PASID_VALID_BITS)
		return msr_fault(event, VX_MSR_IA32_PASID, value, VX_CAUSE_MSR_RESERVED_BITS,
				 value & ~PASID_VALID_BITS, "SDM Vol.4 IA32_PASID",
				 "reserved bits set (only 19:0 and 31 are defined)");
	return 0;
}

/* §2.5, §7.2 and SDM Vol.4: the MSRs whose value is bytes of a supervisor component. */
static const struct component_msr {
	uint32_t msr;
	unsigned component;
	uint32_t offset;
} component_msrs[] = {
    {VX_MSR_IA32_U_CET, VX_COMP_CET_U, U_CET_OFFSET},
    {VX_MSR_IA32_PL3_SSP, VX_COMP_CET_U, PL3_SSP_OFFSET},
    {VX_MSR_IA32_PL0_SSP, VX_COMP_CET_S, 0},
    {VX_MSR_IA32_PL1_SSP, VX_COMP_CET_S, 8},
    {VX_MSR_IA32_PL2_SSP, VX_COMP_CET_S, 16},
    {VX_MSR_IA32_PASID, VX_COMP_PASID, 0},
};

uint32_t msr_of_component_bytes(unsigned component, uint32_t offset)
{
	for (size_t i = 0; i < sizeof(component_msrs) / sizeof(component_msrs[0]); i++)
		if (component_msrs[i].component == component && component_msrs[i].offset == offset)
			return component_msrs[i].msr;
	return 0;
}

/* Where an MSR's value lives: a field of the state, or bytes of a component. */
struct msr_home {
	uint64_t *field;
	unsigned component; /* VX_COMP_LIMIT when @field is used */
	uint32_t offset;
};

static struct msr_home msr_home_of(struct vx_cpu *cpu, uint32_t msr)
{
	struct msr_home h = {NULL, VX_COMP_LIMIT, 0};

	switch (msr) {
	case VX_MSR_IA32_XSS:
		h.field = &cpu->state.xss;
		break;
	case VX_MSR_IA32_XFD:
		h.field = &cpu->state.xfd;
		break;
	case VX_MSR_IA32_XFD_ERR:
		h.field = &cpu->state.xfd_err;
		break;
	case VX_MSR_IA32_S_CET:
		h.field = &cpu->state.s_cet;
		break;
	case VX_MSR_IA32_INT_SSP_TAB:
		h.field = &cpu->state.int_ssp_tab;
		break;
	default:
		for (size_t i = 0; i < sizeof(component_msrs) / sizeof(component_msrs[0]); i++)
			if (component_msrs[i].msr == msr) {
				h.component = component_msrs[i].component;
				h.offset = component_msrs[i].offset;
			}
		break;
	}
	return h;
}

/* §3.2, §3.3, §7.2: which CPUID bits make each MSR exist. */
static bool msr_exists(const struct vx_cpu *cpu, uint32_t msr)
{
	const struct cpu_facts *f = &cpu->facts;

	switch (msr) {
	case VX_MSR_IA32_XSS:
		return f->xsaves;
	case VX_MSR_IA32_XFD:
	case VX_MSR_IA32_XFD_ERR:
		return f->xfd;
	case VX_MSR_IA32_U_CET:
	case VX_MSR_IA32_S_CET:
		return f->cet_ss || f->cet_ibt;
	case VX_MSR_IA32_PL0_SSP:
	case VX_MSR_IA32_PL1_SSP:
	case VX_MSR_IA32_PL2_SSP:
	case VX_MSR_IA32_PL3_SSP:
		return f->cet_ss;
	case VX_MSR_IA32_INT_SSP_TAB:
		return f->cet_ss && f->lm; /* §7.2: Intel 64 only */
	case VX_MSR_IA32_PASID:
		return f->enqcmd;
	default:
		return false;
	}
}

static int check_access(const struct vx_cpu *cpu, enum vx_msr_initiator who, const char *op,
			uint32_t msr, struct vx_event *event)
{
	/* §7.2: RDMSR/WRMSR are privileged: CPL > 0 (and V86) → #GP(0); the host is not. */
	if (who == VX_MSR_GUEST && cpu_effective_cpl(cpu) > 0) {
		raise_exception(event, VX_VEC_GP, VX_CAUSE_CPL, "arch.md §7.2", "%s 0x%x at CPL %u",
				op, msr, cpu_effective_cpl(cpu));
		return event_detail(event, msr, 0, -1);
	}
	/* §7.2: an MSR the CPU does not have → #GP(0). */
	if (!msr_exists(cpu, msr)) {
		raise_exception(event, VX_VEC_GP, VX_CAUSE_MSR_ABSENT, "arch.md §7.2",
				"%s 0x%x (%s): not present on this CPU", op, msr, name_or_hex(msr));
		return event_detail(event, msr, 0, -1);
	}
	return 0;
}

static int msr_read(struct vx_cpu *cpu, enum vx_msr_initiator who, uint32_t msr, uint64_t *value,
		    struct vx_event *event)
{
	struct msr_home h;

	if (check_access(cpu, who, "RDMSR", msr, event))
		return VX_FAULTED;
	h = msr_home_of(cpu, msr);
	*value = h.field ? *h.field : load_le64(component_bytes(cpu, h.component) + h.offset);
	return 0;
}

static int rule_fault(struct vx_event *event, uint32_t msr, uint64_t value, int ret,
		      const struct vx_error *err)
{
	if (ret == 0)
		return 0;
	return msr_fault(event, msr, value, VX_CAUSE_MSR_RESERVED_BITS,
			 err->bits ? err->bits : value, err->rule, err->reason);
}

/* The value checks of one MSR, before anything is written. */
static int check_value(const struct vx_cpu *cpu, uint32_t msr, uint64_t value,
		       struct vx_event *event)
{
	struct vx_error err = VX_ERROR_INIT;

	switch (msr) {
	case VX_MSR_IA32_XSS: /* §3.2 */
		return rule_fault(event, msr, value, vx_xss_check(&cpu->profile, value, &err),
				  &err);
	case VX_MSR_IA32_XFD: /* §3.3 */
	case VX_MSR_IA32_XFD_ERR:
		return rule_fault(event, msr, value, vx_xfd_check(&cpu->profile, value, &err),
				  &err);
	case VX_MSR_IA32_U_CET:
	case VX_MSR_IA32_S_CET:
		return msr_check_cet_control(cpu, msr, value, event);
	case VX_MSR_IA32_PL0_SSP:
	case VX_MSR_IA32_PL1_SSP:
	case VX_MSR_IA32_PL2_SSP:
	case VX_MSR_IA32_PL3_SSP:
		return msr_check_ssp(cpu, msr, value, event);
	case VX_MSR_IA32_INT_SSP_TAB:
		/* §7.2: canonical only; no alignment check. */
		if (!cpu_canonical(cpu, value))
			return msr_fault(event, msr, value, VX_CAUSE_NONCANONICAL, value,
					 "arch.md §7.2", "address is not canonical");
		return 0;
	case VX_MSR_IA32_PASID:
		return msr_check_pasid(cpu, value, event);
	default:
		return 0;
	}
}

static int msr_write(struct vx_cpu *cpu, enum vx_msr_initiator who, uint32_t msr, uint64_t value,
		     struct vx_event *event)
{
	struct msr_home h;

	if (check_access(cpu, who, "WRMSR", msr, event) || check_value(cpu, msr, value, event))
		return VX_FAULTED;
	h = msr_home_of(cpu, msr);
	if (h.field) {
		*h.field = value;
		return 0;
	}
	store_le64(component_bytes(cpu, h.component) + h.offset, value);
	/* §2.5: the component is in use while any of its values is non-zero. */
	state_mark_by_value(cpu, h.component);
	return 0;
}

int vx_cpu_msr_access(struct vx_cpu *cpu, enum vx_msr_initiator who, enum vx_msr_op op,
		      uint32_t msr, uint64_t *value, struct vx_event *event)
{
	if (!cpu || !value || (who != VX_MSR_GUEST && who != VX_MSR_HOST) ||
	    (op != VX_MSR_READ && op != VX_MSR_WRITE))
		return -EINVAL;
	event_clear(event);
	if (op == VX_MSR_READ)
		return msr_read(cpu, who, msr, value, event);
	return msr_write(cpu, who, msr, *value, event);
}

int vx_cpu_rdmsr(struct vx_cpu *cpu, uint32_t msr, uint64_t *value, struct vx_event *event)
{
	return vx_cpu_msr_access(cpu, VX_MSR_GUEST, VX_MSR_READ, msr, value, event);
}

int vx_cpu_wrmsr(struct vx_cpu *cpu, uint32_t msr, uint64_t value, struct vx_event *event)
{
	return vx_cpu_msr_access(cpu, VX_MSR_GUEST, VX_MSR_WRITE, msr, &value, event);
}
