/* SPDX-License-Identifier: MIT */
/*
 * The bounds leaf 0xD must satisfy before anything is laid out (profile.c): shared by
 * vx_profile_check_xsave_leaves(), which stops at the first failure, and vx_profile_diagnose(),
 * which reports every one.
 */
#ifndef VXSAVE_ARCH_XSAVE_BOUNDS_H
#define VXSAVE_ARCH_XSAVE_BOUNDS_H

#include <vxsave/arch.h>

/* One bound a profile breaks: the 0xD sub-leaf to blame, the component (-1: none), why. */
struct xsave_bound_failure {
	uint32_t subleaf;
	int component;
	char message[VX_DIAG_MESSAGE_MAX];
};

/* Return false to stop the walk. */
typedef bool (*xsave_bound_report)(void *ctx, const struct xsave_bound_failure *failure);

/* Call @report for every bound @profile breaks, in sub-leaf order; returns how many it found. */
unsigned xsave_bounds_walk(const struct vx_profile *profile, xsave_bound_report report, void *ctx);

#endif /* VXSAVE_ARCH_XSAVE_BOUNDS_H */
