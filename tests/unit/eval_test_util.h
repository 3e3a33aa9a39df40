/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the eval layer's tests (test_eval_*.c): profiles, running one evaluation,
 * and sizes computed from a profile's leaf 0xD by the rules of arch.md §2.4, independently of
 * the library, so the tests' expectations never come from the code under test.
 */
#ifndef VXSAVE_EVAL_TEST_UTIL_H
#define VXSAVE_EVAL_TEST_UTIL_H

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/eval.h>

/* linux-fpu.md §1: the 24-byte CET_S component and the kernel's masks. */
#define ET_CET_S      UINT64_C(0x1000)
#define ET_XTILEDATA  UINT64_C(0x40000)
#define ET_AMX	      UINT64_C(0x60000)
#define ET_HEADER     64u  /* the XSAVE header (arch.md §2.2) */
#define ET_LEGACY_END 576u /* legacy region + header: where the extended region starts */
#define ET_MXCSR      8u   /* MXCSR and MXCSR_MASK, stored with SSE (arch.md §2.1) */
#define ET_SSE	      256u /* XMM0-15 (arch.md §2.1) */
#define ET_KVM_COPY   24u  /* PL0-2_SSP kept by the kvm-* designs (kvm.md §6.4) */

/*
 * The kernel's default features of a host task, by hand from the profiles' leaf 0xD and the
 * masks of linux-fpu.md §1 (USER_SUPPORTED 0xE02FF, SUPERVISOR_SUPPORTED 0x1C00 (PASID, CET_U,
 * CET_S), minus the dynamic XTILEDATA and, in guest-only, the guest-only CET_S):
 *   sapphire-rapids: XCR0 0x602e7 ∩ USER = 0x602e7, XSS 0xdd00 ∩ SUPERVISOR = 0x1c00
 *                    (ENQCMD present: PASID kept) → 0x61ee7 - 0x40000 = 0x21ee7
 *   alder-lake:      XCR0 0x207, XSS 0x19900 ∩ 0x1c00 = 0x1800 → 0x1a07
 * guest-only and the kvm-* designs (fpu layer "unsupported") drop CET_S (0x1000).
 */
#define ET_SPR_HOST_ALL_TASKS UINT64_C(0x21ee7)
#define ET_ADL_HOST_ALL_TASKS UINT64_C(0x1a07)

static inline void et_profile(struct vx_profile *p, const char *name)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_profile_builtin(p, name, &err) != 0)
		fail_msg("profile %s: %s", name, err.reason);
}

/* CPUID.(0xD,i): EAX size, EBX standard offset, ECX[1] 64-byte aligned when compacted. */
static inline uint32_t et_component_size(const struct vx_profile *p, unsigned i)
{
	return vx_profile_leaf(p, 0xD, i).eax;
}

/* The compacted size of an area holding @mask (arch.md §2.4): 576, then each component from
 * bit 2 up at the next 64-byte boundary when its ECX[1] says so. */
static inline uint32_t et_compacted_size(const struct vx_profile *p, uint64_t mask)
{
	uint32_t size = ET_LEGACY_END;

	for (unsigned i = 2; i < 63; i++) {
		struct vx_cpuid_regs r = vx_profile_leaf(p, 0xD, i);

		if (!(mask & (UINT64_C(1) << i)))
			continue;
		if (r.ecx & 2)
			size = (size + 63) & ~63u;
		size += r.eax;
	}
	return size;
}

static inline struct vx_eval_workload et_workload(const char *name)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_eval_workload w;

	if (vx_eval_workload_builtin(name, &w, &err) != 0)
		fail_msg("workload %s: %s", name, err.reason);
	return w;
}

/* One evaluation that must not fail; returns the outcome. */
static inline int et_run(const struct vx_profile *p, enum vx_kvm_cet_design d,
			 const struct vx_eval_workload *w, uint64_t seed,
			 const struct vx_eval_options *o, struct vx_eval_result *r)
{
	struct vx_error err = VX_ERROR_INIT;
	int rc = vx_eval_run(p, d, w, seed, o, r, &err);

	if (rc < 0)
		fail_msg("eval %s/%s seed %llu: %d %s", w->name, vx_kvm_cet_design_name(d),
			 (unsigned long long)seed, rc, err.reason);
	if (rc == VX_EVAL_VIOLATION && !o)
		print_message("%s\n", r->violation.text);
	return rc;
}

static inline const char *et_design(unsigned d)
{
	return vx_kvm_cet_design_name((enum vx_kvm_cet_design)d);
}

#endif /* VXSAVE_EVAL_TEST_UTIL_H */
