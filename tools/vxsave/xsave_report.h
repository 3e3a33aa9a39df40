/* SPDX-License-Identifier: MIT */
/*
 * `vxsave xsave decode` output (xsave_report.c): a decoded blob (vmm.h) as text or JSON -
 * header, every component with its registers as they load, init-state components marked,
 * bytes that hold no state as hex.  Also the small helpers `validate` and `convert` share.
 */
#ifndef VXSAVE_CLI_XSAVE_REPORT_H
#define VXSAVE_CLI_XSAVE_REPORT_H

#include <stdio.h>

#include <jansson.h>
#include <vxsave/vmm.h>

/* Print the decoded @view of @path as text to @out. */
void xsave_report_text(FILE *out, const char *path, const struct vx_vmm_xsave_view *view);
/* The same as one JSON object (docs/cli.md "vxsave xsave"). */
json_t *xsave_report_json(const char *path, const struct vx_vmm_xsave_view *view);

/* "kvm (struct kvm_xsave, recognised)" */
const char *xsave_kind_label(const struct vx_vmm_blob *blob, char *buf, size_t len);
/* The findings of @report: text lines "  refusal N: ..." / "  note: ..." with cited rules. */
void xsave_report_findings(FILE *out, const struct vx_vmm_report *report);
/* The same as a JSON array of {"refuses", "errno", "rule", "reason", "component", "bits",
 * "offset"} objects. */
json_t *xsave_findings_json(const struct vx_vmm_report *report);

#endif /* VXSAVE_CLI_XSAVE_REPORT_H */
