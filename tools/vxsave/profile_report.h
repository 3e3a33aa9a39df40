/* SPDX-License-Identifier: MIT */
/*
 * What `vxsave profile show` prints about one CPU, as text and as JSON; the diagnostics part is
 * shared with `vxsave layout`.
 */
#ifndef VXSAVE_CLI_PROFILE_REPORT_H
#define VXSAVE_CLI_PROFILE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include <vxsave/arch.h>

/* Print the whole report; with @raw also the kept CPUID leaves in `cpuid -r` format. */
void profile_report_text(FILE *out, const struct vx_profile *profile, bool raw);
/* The same as one JSON object (NULL only when out of memory). */
json_t *profile_report_json(const struct vx_profile *profile, bool raw);

/* The "Diagnostics" section: one line per vx_profile_diagnose() finding, or "none". */
void profile_diagnostics_text(FILE *out, const struct vx_profile *profile);
/* The diagnostics as a JSON array of {severity, leaf, subleaf, component, message}. */
json_t *profile_diagnostics_json(const struct vx_profile *profile);

#endif /* VXSAVE_CLI_PROFILE_REPORT_H */
