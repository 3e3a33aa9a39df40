/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the vmm layer's tests (test_vmm_xsave.c, test_vmm_real_blobs.c): blobs
 * built byte by byte as KVM_GET_XSAVE lays them out (kvm.md §5.2: legacy region, header,
 * each component of XSTATE_BV at its standard offset, zeros elsewhere), with every offset and
 * size read from the profile's raw CPUID leaf 0xD - never from the code under test.
 */
#ifndef VXSAVE_VMM_TEST_UTIL_H
#define VXSAVE_VMM_TEST_UTIL_H

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

#include <vxsave/vmm.h>

/* arch.md §2.1: the user (XCR0) components 0-7, 9, 17-19, 62. */
#define VT_USER_BITS  UINT64_C(0x40000000000E02FF)
#define VT_FPSSE      UINT64_C(0x3)
#define VT_MXCSR_MASK 0x0000FFFFu /* every built-in profile's FXSAVE MXCSR_MASK */

static inline uint64_t vt_next(uint64_t *s) /* splitmix64 */
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static inline void vt_fill(uint8_t *p, size_t n, uint64_t *seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)vt_next(seed);
}

static inline void vt_put(uint8_t *p, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t vt_get(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void vt_profile(struct vx_profile *p, const char *name)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_profile_builtin(p, name, &err) != 0)
		fail_msg("profile %s: %s", name, err.reason);
}

/* CPUID.(0xD,0).EDX:EAX user bits, straight from the leaf (arch.md §1.2). */
static inline uint64_t vt_user_mask(const struct vx_profile *p)
{
	struct vx_cpuid_regs r = vx_profile_leaf(p, 0xD, 0);

	return ((uint64_t)r.edx << 32 | r.eax) & VT_USER_BITS;
}

/* CPUID.(0xD,id): size (EAX) and standard offset (EBX), straight from the leaf (§1.4). */
static inline void vt_comp(const struct vx_profile *p, unsigned id, uint32_t *off, uint32_t *size)
{
	struct vx_cpuid_regs r = vx_profile_leaf(p, 0xD, id);

	*off = r.ebx;
	*size = r.eax;
}

/* The standard size of every user component of @p: max(576, offset + size). */
static inline uint32_t vt_std_size(const struct vx_profile *p)
{
	uint64_t m = vt_user_mask(p);
	uint32_t end = 576;

	for (unsigned id = 2; id < 63; id++) {
		uint32_t off, size;

		if (!(m & ((uint64_t)1 << id)))
			continue;
		vt_comp(p, id, &off, &size);
		if (off + size > end)
			end = off + size;
	}
	return end;
}

/*
 * A blob as KVM_GET_XSAVE writes it for @xstate_bv (kvm.md §5.2, linux-fpu.md §7.1): legacy
 * pieces random when their component is in @xstate_bv, else init_fpstate's (FCW 0x037F, MXCSR
 * 0x1F80); MXCSR_MASK 0xFFFF; MXCSR with only valid bits; x87 registers' 6 padding bytes 0;
 * each extended component of @xstate_bv random at its standard offset (PKRU: 4 bytes and 4
 * zero); the rest zero.  @len must hold the standard size.
 */
static inline void vt_kvm_blob(const struct vx_profile *p, uint64_t xstate_bv, uint64_t *seed,
			       uint8_t *buf, size_t len)
{
	memset(buf, 0, len);
	vt_put(buf, 2, 0x037F);
	vt_put(buf + 24, 4, 0x1F80);
	vt_put(buf + 28, 4, VT_MXCSR_MASK);
	if (xstate_bv & 1) {
		vt_fill(buf, 24, seed);
		buf[5] = 0;
		vt_put(buf + 6, 2, vt_get(buf + 6, 2) & 0x7FF); /* FOP is 11 bits */
		for (unsigned i = 0; i < 8; i++)
			vt_fill(buf + 32 + 16 * i, 10, seed);
	}
	if (xstate_bv & 6) /* MXCSR with SSE or YMM (§7.1 item 2) */
		vt_put(buf + 24, 4, 0x1F80 ^ (vt_next(seed) & 0x603F));
	if (xstate_bv & 2)
		vt_fill(buf + 160, 256, seed);
	vt_put(buf + 512, 8, xstate_bv);
	for (unsigned id = 2; id < 63; id++) {
		uint32_t off, size;

		if (!(xstate_bv & ((uint64_t)1 << id)))
			continue;
		vt_comp(p, id, &off, &size);
		if (off + size > len)
			fail_msg("component %u does not fit %zu bytes", id, len);
		vt_fill(buf + off, id == 9 ? 4 : size, seed);
	}
}

static inline struct vx_vmm_blob vt_parse(const uint8_t *buf, size_t len,
					  enum vx_vmm_blob_kind kind)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_vmm_blob b;

	memset(&b, 0, sizeof(b));
	if (vx_vmm_blob_parse(buf, len, kind, &b, &err) != 0)
		fail_msg("parse of %zu bytes: %s", len, err.reason);
	return b;
}

#endif /* VXSAVE_VMM_TEST_UTIL_H */
