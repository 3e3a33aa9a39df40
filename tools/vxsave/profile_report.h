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

/* --leaf: "0xd.1", "13", "0x80000008" -> leaf and sub-leaf (0 when omitted); -1 if malformed. */
int profile_parse_leaf_spec(const char *text, uint32_t *leaf, uint32_t *subleaf);
/* One leaf with its registers split into named fields; -1 if profiles do not keep it. */
int profile_leaf_text(FILE *out, const struct vx_profile *profile, uint32_t leaf,
		      uint32_t subleaf);
/* The same as JSON; NULL if profiles do not keep the leaf. */
json_t *profile_leaf_json(const struct vx_profile *profile, uint32_t leaf, uint32_t subleaf);

/* `vxsave profile diff`: A and B side by side, the differences and the verdict. */
void profile_diff_text(FILE *out, const struct vx_profile *a, const struct vx_profile *b,
		       const struct vx_profile_diff *diff);
json_t *profile_diff_json(const struct vx_profile *a, const struct vx_profile *b,
			  const struct vx_profile_diff *diff);

/* Errors among the diagnostics (for --strict). */
unsigned profile_error_count(const struct vx_profile *profile);

/*
 * profile_from_json() - read back what `vxsave profile show --json` wrote (profile_json_read.c):
 * name, description, source, raw_leaves, xcr0/xss at capture and mxcsr_mask.  Returns 0, or -1
 * with @why (@why_len bytes) saying what is missing or malformed; @profile is unchanged then.
 */
int profile_from_json(struct vx_profile *profile, const char *text, size_t len, char *why,
		      size_t why_len);

#endif /* VXSAVE_CLI_PROFILE_REPORT_H */
