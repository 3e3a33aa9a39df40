/* SPDX-License-Identifier: MIT */
/*
 * What the files of vmm_compat.h share (issue 10, part 2): reading JSON values with errors
 * that name the line and the path (bundle.c), the Cloud Hypervisor reader bundle.c calls
 * (vmm_state.c), and the report helpers of compat.c and baseline.c.
 */
#ifndef VXSAVE_SRC_VMM_COMPAT_INTERNAL_H
#define VXSAVE_SRC_VMM_COMPAT_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/vmm_compat.h>

#include "vmm/json.h"

#define VX_BUNDLE_RULE "docs/vmm.md \"Bundles\""
#define VX_CH_RULE     "docs/vmm.md \"Cloud Hypervisor snapshots\""

/* The masks the checks name (arch.md §2.1). */
#define VX_MASK_FPSSE	 (VX_BIT(VX_COMP_X87) | VX_BIT(VX_COMP_SSE))
#define VX_MASK_AMX	 (VX_BIT(VX_COMP_XTILECFG) | VX_BIT(VX_COMP_XTILEDATA))
#define VX_MASK_CET	 (VX_BIT(VX_COMP_CET_U) | VX_BIT(VX_COMP_CET_S))
#define VX_MASK_TILEDATA VX_BIT(VX_COMP_XTILEDATA)

/* Little-endian fields of a blob. */
static inline uint64_t vx_le(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void vx_le_put(uint8_t *p, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ----------------------------------------------------------------------------------------- */
/* bundle.c: JSON values with the line and the path in every error                             */

/* -EINVAL (or @code) "line L: PATH: what", with err->line = L. */
int vx_bundle_fail(struct vx_error *err, int code, const struct vx_json *at, const char *path,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "PATH.KEY" / "PATH[i]" into @buf. */
const char *vx_bundle_path(char *buf, size_t len, const char *path, const char *key, size_t index);
/* @obj is an object whose keys are all in @known (NULL-terminated) and has every @required. */
int vx_bundle_object(const struct vx_json *obj, const char *path, const char *const *known,
		     const char *const *required, struct vx_error *err);
/* @v is an array (of at most @max elements). */
int vx_bundle_array(const struct vx_json *v, const char *path, size_t max, struct vx_error *err);
/* A number or "0x..." string of at most @max. */
int vx_bundle_u64(const struct vx_json *v, const char *path, uint64_t max, uint64_t *out,
		  struct vx_error *err);
/* Member @key of @obj read with vx_bundle_u64(). */
int vx_bundle_member_u64(const struct vx_json *obj, const char *path, const char *key, uint64_t max,
			 uint64_t *out, struct vx_error *err);
/* A CPUID entry {function, index, flags, eax, ebx, ecx, edx} (bundle and Cloud Hypervisor). */
int vx_bundle_cpuid_entry(const struct vx_json *v, const char *path,
			  struct vx_kvm_cpuid_entry *entry, struct vx_error *err);
/* Append to @b's lists; -EFBIG ("oversized") past the limits, -EINVAL for a repeated MSR. */
int vx_bundle_add_cpuid(struct vx_vmm_bundle *b, const struct vx_kvm_cpuid_entry *e,
			const struct vx_json *at, const char *path, struct vx_error *err);
int vx_bundle_add_msr(struct vx_vmm_bundle *b, uint32_t index, uint64_t value,
		      const struct vx_json *at, const char *path, struct vx_error *err);
/* A blob of @size bytes from the KVM uABI's rules (kvm.md §5.1): 4096, or a multiple of 4. */
int vx_bundle_check_blob_size(uint64_t size, const struct vx_json *at, const char *path,
			      struct vx_error *err);
/* A profile made from the guest CPUID's leaves: the layout KVM passed through (kvm.md §2.2). */
void vx_bundle_infer_profile(struct vx_vmm_bundle *b);

/* vmm_state.c: Cloud Hypervisor state.json (vCPU @vcpu) and one vCPU state {"Kvm": ...}. */
int vx_ch_read_snapshot(const struct vx_platform *pl, const struct vx_json *root, unsigned vcpu,
			struct vx_vmm_bundle *b, struct vx_error *err);
int vx_ch_read_vcpu(const struct vx_json *root, const char *path, unsigned vcpu,
		    struct vx_vmm_bundle *b, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* compat.c / baseline.c: findings                                                              */

struct vx_compat_list {
	struct vx_compat_finding *items;
	unsigned *count;
	unsigned *omitted;
	unsigned max;
};

/* Add one finding (message formatted); returns the finding or NULL when the list is full. */
struct vx_compat_finding *vx_compat_add(const struct vx_compat_list *list,
					enum vx_compat_check check,
					enum vx_compat_severity severity, const char *rule,
					const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif /* VXSAVE_SRC_VMM_COMPAT_INTERNAL_H */
