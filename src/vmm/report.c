/* SPDX-License-Identifier: MIT */
/* Findings of validation and conversion (vmm.h struct vx_vmm_report): every reason, in order. */
#include "vmm/vmm_internal.h"

/* The counters only: the items are written before they are counted (the 64 findings are
 * 20 KiB; clearing them would cost more than the conversion they report on). */
void vmm_report_clear(struct vx_vmm_report *report)
{
	if (!report)
		return;
	report->count = 0;
	report->refusals = 0;
	report->omitted = 0;
}

/* Add a copy of @err; the count of refusals goes up even when the list is full. */
int vmm_report_add(struct vx_vmm_report *report, bool refuses, const struct vx_error *err)
{
	if (!report)
		return err->code;
	report->refusals += refuses;
	if (report->count == VX_VMM_FINDINGS_MAX) {
		report->omitted++;
		return err->code;
	}
	report->items[report->count].refuses = refuses;
	report->items[report->count++].err = *err;
	return err->code;
}

int vmm_report_addf(struct vx_vmm_report *report, bool refuses, int code, int component,
		    uint64_t bits, int64_t offset, const char *rule, const char *fmt, ...)
{
	struct vx_error e = VX_ERROR_INIT;
	va_list ap;

	va_start(ap, fmt);
	vx_error_vset(&e, code, rule, fmt, ap);
	va_end(ap);
	e.component = component;
	e.bits = bits;
	e.offset = offset;
	return vmm_report_add(report, refuses, &e);
}
