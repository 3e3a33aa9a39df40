/* SPDX-License-Identifier: MIT */
/*
 * Events: filling struct vx_event for an exception or VM exit, and naming them.
 * Reason strings are built only here, on the fault path; the fast path never formats text.
 */
#include <stdio.h>

#include "cpu/cpu_internal.h"

void event_clear(struct vx_event *event)
{
	if (!event)
		return;
	event->kind = VX_EVENT_NONE;
	event->vector = 0;
	event->error_code = 0;
	event->exit_reason = 0;
	event->address = 0;
	event->cause = VX_CAUSE_NONE;
	event->msr = 0;
	event->bits = 0;
	event->offset = -1;
	event->rule = NULL;
	event->reason[0] = '\0';
}

#ifdef __GNUC__
__attribute__((format(printf, 2, 0)))
#endif
static void
event_vreason(struct vx_event *event, const char *fmt, va_list ap)
{
	vsnprintf(event->reason, sizeof(event->reason), fmt, ap);
}

/* Fill @event with an exception or VM exit and its reason; always "the instruction faulted". */
#ifdef __GNUC__
__attribute__((format(printf, 6, 0)))
#endif
static int
raise_event(struct vx_event *event, enum vx_event_kind kind, uint32_t code,
	    enum vx_event_cause cause, const char *rule, const char *fmt, va_list ap)
{
	event_clear(event);
	event->kind = kind;
	event->cause = cause;
	if (kind == VX_EVENT_VMEXIT)
		event->exit_reason = code;
	else
		event->vector = code;
	event->rule = rule;
	event_vreason(event, fmt, ap);
	return VX_FAULTED;
}

int raise_exception(struct vx_event *event, unsigned vector, enum vx_event_cause cause,
		    const char *rule, const char *fmt, ...)
{
	va_list ap;

	if (!event)
		return VX_FAULTED;
	va_start(ap, fmt);
	raise_event(event, VX_EVENT_EXCEPTION, vector, cause, rule, fmt, ap);
	va_end(ap);
	return VX_FAULTED;
}

/* #PF error code: bit 1 = write access; the page is absent from the window (P = 0). */
int raise_page_fault(struct vx_event *event, uint64_t address, bool write)
{
	if (!event)
		return VX_FAULTED;
	raise_exception(event, VX_VEC_PF, VX_CAUSE_NOT_MAPPED, "arch.md §5.0",
			"%s of linear address 0x%llx outside the memory window",
			write ? "write" : "read", (unsigned long long)address);
	event->error_code = write ? 2u : 0u;
	event->address = address;
	return VX_FAULTED;
}

int raise_vm_exit(struct vx_event *event, uint32_t reason, enum vx_event_cause cause,
		  const char *rule, const char *fmt, ...)
{
	va_list ap;

	if (!event)
		return VX_FAULTED;
	va_start(ap, fmt);
	raise_event(event, VX_EVENT_VMEXIT, reason, cause, rule, fmt, ap);
	va_end(ap);
	return VX_FAULTED;
}

/* Where the check looked: the MSR, the offending bits and the area offset; always "faulted". */
int event_detail(struct vx_event *event, uint32_t msr, uint64_t bits, int64_t offset)
{
	if (!event)
		return VX_FAULTED;
	event->msr = msr;
	event->bits = bits;
	event->offset = offset;
	return VX_FAULTED;
}

/* One table: the stable name of each cause (docs/cpu-model.md, "Events"). */
static const char *const cause_names[VX_CAUSE_COUNT] = {
    [VX_CAUSE_NONE] = "none",
    [VX_CAUSE_NO_XSAVE] = "no-xsave",
    [VX_CAUSE_LOCK_PREFIX] = "lock-prefix",
    [VX_CAUSE_NOT_ENUMERATED] = "not-enumerated",
    [VX_CAUSE_VMX_XSAVES_DISABLED] = "vmx-xsaves-disabled",
    [VX_CAUSE_CR0_TS] = "cr0-ts",
    [VX_CAUSE_CPL] = "cpl",
    [VX_CAUSE_XSS_EXITING] = "xss-exiting",
    [VX_CAUSE_VMX_XSETBV] = "vmx-xsetbv",
    [VX_CAUSE_MISALIGNED] = "misaligned",
    [VX_CAUSE_NONCANONICAL] = "noncanonical",
    [VX_CAUSE_NOT_MAPPED] = "not-mapped",
    [VX_CAUSE_COMPONENT_DISABLED] = "component-disabled",
    [VX_CAUSE_XFD_ARMED] = "xfd-armed",
    [VX_CAUSE_MXCSR_RESERVED] = "mxcsr-reserved",
    [VX_CAUSE_XCR_INDEX] = "xcr-index",
    [VX_CAUSE_XCR0_INVALID] = "xcr0-invalid",
    [VX_CAUSE_XCOMP_BV_FORM] = "xcomp-bv-form",
    [VX_CAUSE_XCOMP_BV_NO_XSAVEC] = "xcomp-bv-no-xsavec",
    [VX_CAUSE_XCOMP_BV_OUTSIDE_ENABLED] = "xcomp-bv-outside-enabled",
    [VX_CAUSE_XSTATE_BV_OUTSIDE_XCR0] = "xstate-bv-outside-xcr0",
    [VX_CAUSE_XSTATE_BV_OUTSIDE_XCOMP_BV] = "xstate-bv-outside-xcomp-bv",
    [VX_CAUSE_HEADER_RESERVED] = "header-reserved",
    [VX_CAUSE_MSR_ABSENT] = "msr-absent",
    [VX_CAUSE_MSR_RESERVED_BITS] = "msr-reserved-bits",
    [VX_CAUSE_MSR_CONFLICT] = "msr-conflict",
    [VX_CAUSE_CR_RESERVED] = "cr-reserved",
    [VX_CAUSE_CR_INVALID] = "cr-invalid",
    [VX_CAUSE_CET_DISABLED] = "cet-disabled",
    [VX_CAUSE_SS_PAGE] = "ss-page",
    [VX_CAUSE_PAGE_PROTECTION] = "page-protection",
    [VX_CAUSE_SS_TOKEN] = "ss-token",
    [VX_CAUSE_SSP_HIGH_BITS] = "ssp-high-bits",
    [VX_CAUSE_PREV_SSP_TOKEN] = "prev-ssp-token",
    [VX_CAUSE_TSS] = "tss",
    [VX_CAUSE_CP_NEAR_RET] = "cp-near-ret",
    [VX_CAUSE_CP_FAR_RET] = "cp-far-ret",
    [VX_CAUSE_CP_ENDBRANCH] = "cp-endbranch",
    [VX_CAUSE_CP_RSTORSSP] = "cp-rstorssp",
    [VX_CAUSE_CP_SETSSBSY] = "cp-setssbsy",
};

const char *vx_event_cause_name(enum vx_event_cause cause)
{
	if ((unsigned)cause >= VX_CAUSE_COUNT)
		return NULL;
	return cause_names[cause];
}

/* Mnemonics of the vectors the XSAVE family and its neighbours raise. */
static const char *const vector_mnemonics[] = {
    [VX_VEC_UD] = "#UD", [VX_VEC_NM] = "#NM", [VX_VEC_TS] = "#TS",
    [VX_VEC_SS] = "#SS", [VX_VEC_GP] = "#GP", [VX_VEC_PF] = "#PF",
    [16] = "#MF",	 [VX_VEC_AC] = "#AC", [VX_VEC_CP] = "#CP",
};

const char *vx_vector_name(unsigned vector)
{
	if (vector >= sizeof(vector_mnemonics) / sizeof(vector_mnemonics[0]))
		return NULL;
	return vector_mnemonics[vector];
}

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case VX_EXIT_XSETBV:
		return "XSETBV";
	case VX_EXIT_XSAVES:
		return "XSAVES";
	case VX_EXIT_XRSTORS:
		return "XRSTORS";
	default:
		return "?";
	}
}

/* Vectors that push an error code, shown as "#GP(0)". */
static bool has_error_code(unsigned vector)
{
	return vector == VX_VEC_GP || vector == VX_VEC_SS || vector == VX_VEC_AC ||
	       vector == VX_VEC_TS || vector == VX_VEC_PF || vector == VX_VEC_CP;
}

const char *vx_event_name(const struct vx_event *event, char *buf, size_t len)
{
	if (!buf || len == 0)
		return "";
	if (!event || event->kind == VX_EVENT_NONE) {
		snprintf(buf, len, "none");
	} else if (event->kind == VX_EVENT_VMEXIT) {
		snprintf(buf, len, "VM exit %u (%s)", event->exit_reason,
			 exit_name(event->exit_reason));
	} else {
		const char *m = vx_vector_name(event->vector);

		if (m && has_error_code(event->vector))
			snprintf(buf, len, "%s(%u)", m, event->error_code);
		else if (m)
			snprintf(buf, len, "%s", m);
		else
			snprintf(buf, len, "vector %u", event->vector);
	}
	return buf;
}
