/* SPDX-License-Identifier: MIT */
/*
 * What `vxsave layout` prints: the table of standard and compacted offsets, the totals next to
 * what CPUID reports, and the profile's diagnostics (text and JSON); the SVG drawing is svg.c.
 */
#ifndef VXSAVE_CLI_LAYOUT_REPORT_H
#define VXSAVE_CLI_LAYOUT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include <vxsave/arch.h>

/**
 * struct layout_cpuid_check - one size CPUID reports, next to the size vxsave computes for the
 * mask CPUID's value is defined for (§1.2, §1.3).
 * @what:     "CPUID.(0xD,0).ECX"...
 * @meaning:  what the value is the size of.
 * @reported: the register value.
 * @mask:     the mask that value describes; 0 when the profile does not record it.
 * @computed: vxsave's size for @mask (valid when @mask != 0).
 * @absent:   why the register means nothing on this CPU (0xD.1 EBX without XSAVEC and
 *            XSAVES: there is no compacted format), or NULL.
 */
struct layout_cpuid_check {
	const char *what;
	const char *key;
	const char *meaning;
	uint32_t reported;
	uint64_t mask;
	uint32_t computed;
	const char *absent;
};

#define LAYOUT_CPUID_CHECKS 3

void layout_cpuid_checks(const struct vx_profile *profile, const struct vx_layout *layout,
			 struct layout_cpuid_check checks[LAYOUT_CPUID_CHECKS]);

/* Bytes of 64-byte alignment padding XSAVEC/XSAVES insert before @entry (0 for x87/SSE). */
uint32_t layout_padding_before(const struct vx_layout *layout, unsigned index);

void layout_report_text(FILE *out, const struct vx_profile *profile,
			const struct vx_layout *layout);
json_t *layout_report_json(const struct vx_profile *profile, const struct vx_layout *layout);

/*
 * svg.c: draw both formats side by side; 0, or -errno if writing failed.  The broken scale
 * (the default) draws ranges that would dwarf the rest (AMX tile data) shortened between break
 * marks; the linear one draws every byte to scale.
 */
enum svg_scale { SVG_SCALE_BROKEN = 0, SVG_SCALE_LINEAR };

/* "broken" or "linear" (any case); -EINVAL otherwise. */
int svg_scale_parse(const char *text, enum svg_scale *scale);
int layout_write_svg_scaled(FILE *out, const struct vx_profile *profile,
			    const struct vx_layout *layout, enum svg_scale scale);
/* layout_write_svg_scaled() with SVG_SCALE_BROKEN. */
int layout_write_svg(FILE *out, const struct vx_profile *profile, const struct vx_layout *layout);

#endif /* VXSAVE_CLI_LAYOUT_REPORT_H */
