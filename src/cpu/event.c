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
	event->rule = NULL;
	event->reason[0] = '\0';
}

#ifdef __GNUC__
__attribute__((format(printf, 2, 0)))
#endif
static void event_vreason(struct vx_event *event, const char *fmt, va_list ap)
{
	vsnprintf(event->reason, sizeof(event->reason), fmt, ap);
}

/* Fill @event with an exception or VM exit and its reason; always "the instruction faulted". */
#ifdef __GNUC__
__attribute__((format(printf, 5, 0)))
#endif
static int raise_event(struct vx_event *event, enum vx_event_kind kind, uint32_t code,
		       const char *rule, const char *fmt, va_list ap)
{
	event_clear(event);
	event->kind = kind;
	if (kind == VX_EVENT_VMEXIT)
		event->exit_reason = code;
	else
		event->vector = code;
	event->rule = rule;
	event_vreason(event, fmt, ap);
	return VX_FAULTED;
}

int raise_exception(struct vx_event *event, unsigned vector, const char *rule, const char *fmt,
		    ...)
{
	va_list ap;

	if (!event)
		return VX_FAULTED;
	va_start(ap, fmt);
	raise_event(event, VX_EVENT_EXCEPTION, vector, rule, fmt, ap);
	va_end(ap);
	return VX_FAULTED;
}

/* #PF error code: bit 1 = write access; the page is absent from the window (P = 0). */
int raise_page_fault(struct vx_event *event, uint64_t address, bool write)
{
	if (!event)
		return VX_FAULTED;
	raise_exception(event, VX_VEC_PF, "arch.md §5.0",
			"%s of linear address 0x%llx outside the memory window",
			write ? "write" : "read", (unsigned long long)address);
	event->error_code = write ? 2u : 0u;
	event->address = address;
	return VX_FAULTED;
}

int raise_vm_exit(struct vx_event *event, uint32_t reason, const char *rule, const char *fmt,
		  ...)
{
	va_list ap;

	if (!event)
		return VX_FAULTED;
	va_start(ap, fmt);
	raise_event(event, VX_EVENT_VMEXIT, reason, rule, fmt, ap);
	va_end(ap);
	return VX_FAULTED;
}

/* Mnemonics of the vectors the XSAVE family and its neighbours raise. */
static const char *const vector_mnemonics[] = {
	[VX_VEC_UD] = "#UD", [VX_VEC_NM] = "#NM", [VX_VEC_SS] = "#SS", [VX_VEC_GP] = "#GP",
	[VX_VEC_PF] = "#PF", [16] = "#MF",	  [VX_VEC_AC] = "#AC", [VX_VEC_CP] = "#CP",
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
	       vector == VX_VEC_PF || vector == VX_VEC_CP;
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
