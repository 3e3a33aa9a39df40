/* SPDX-License-Identifier: MIT */
/*
 * The uABI conversions' copy plans (issue 7) against linux-fpu.md §7.1 and §7.2 transcribed
 * here one component at a time, the way the text reads: zero the buffer, the legacy pieces
 * from the image or init_fpstate, then every extended user feature of the header in
 * increasing standard offset at vx_fpu_xfeature_offset() of the image's own XCOMP_BV; and in
 * the other direction the checks in the kernel's order, then each named component copied.
 * The library derives its layouts and runs at boot instead; both must give the same bytes,
 * the same return code and the same refusal (rule, component, bits, offset), and a refusal
 * must leave the fpstate and PKRU unchanged.
 *
 * Random images, headers, lengths (partial copies, short buffers), modes and corruptions on
 * every built-in profile, host and guest fpstates, and images whose XCOMP_BV no boot layout
 * has.  The save/restore counters are checked against the header too (64 + MXCSR + each
 * component's size).  Fixed seeds, printed.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>

#include "fpu_uabi_util.h"

#define P_SEED	   UINT64_C(0x5EED0007)
#define P_ROUNDS   160 /* per fpstate and direction */
#define P_BUF	   (U_AREA_MAX + 256u)
#define P_HDR_RSVD 528u

static _Alignas(64) uint8_t want[P_BUF], got[P_BUF], ubuf[P_BUF];
static _Alignas(64) uint8_t ref_regs[U_AREA_MAX];

/* ----------------------------------------------------------------------------------------- */
/* §7.1 and §7.2, one component at a time                                                       */

static uint64_t image_xcomp(const struct vx_fpu_system *sys, const struct vx_fpstate *fps)
{
	return vx_fpu_insns(sys)->compacted ? u_rd64(fps->regs + VX_XCOMP_BV_OFFSET) : 0;
}

/* membuf_write(): what fits in @len. */
static void ref_put(uint8_t *b, size_t len, size_t off, const void *src, size_t n)
{
	if (off < len)
		memcpy(b + off, src, n < len - off ? n : len - off);
}

/* §7.1 item 2: FCW..FOS and st_space by FP, MXCSR+MASK by SSE or YMM, xmm_space by SSE. */
static void ref_legacy(const struct vx_fpu_system *sys, const struct vx_fpstate *fps, uint64_t hdr,
		       uint8_t *b, size_t len)
{
	static const struct {
		uint32_t off, size;
		uint64_t bits;
	} pieces[] = {{0, 24, U_FP}, {24, 8, U_SSE | U_YMM}, {32, 128, U_FP}, {160, 256, U_SSE}};
	uint32_t init_size;
	const uint8_t *init = vx_fpu_init_fpstate(sys, &init_size, NULL, NULL);

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		const uint8_t *src = (hdr & pieces[i].bits) ? fps->regs : init;

		ref_put(b, len, pieces[i].off, src + pieces[i].off, pieces[i].size);
	}
}

/* §7.1 item 5: each extended user feature of @hdr in increasing standard offset. */
static void ref_extended(const struct vx_fpu_system *sys, const struct vx_fpstate *fps,
			 uint64_t hdr, uint32_t pkru, uint8_t *b, size_t len)
{
	unsigned order[VX_FPU_XFEATURE_MAX];
	unsigned n = vx_fpu_uncompact_order(sys, order, VX_FPU_XFEATURE_MAX);
	uint8_t pkru_state[8] = {0};

	memcpy(pkru_state, &pkru, 4);
	for (unsigned k = 0; k < n; k++) {
		struct vx_fpu_xstate_info x;
		uint32_t src = vx_fpu_xfeature_offset(sys, image_xcomp(sys, fps), order[k]);

		vx_fpu_xstate_info(sys, order[k], &x);
		if (!(hdr & VX_BIT(order[k])))
			continue;
		if (order[k] == VX_COMP_PKRU)
			ref_put(b, len, x.offset, pkru_state, sizeof(pkru_state));
		else if (src != VX_FPU_NO_OFFSET && src + (uint64_t)x.size <= fps->size)
			ref_put(b, len, x.offset, fps->regs + src, x.size);
	}
}

static void ref_to_uabi(const struct vx_fpu_system *sys, const struct vx_fpstate *fps,
			uint64_t xfeatures, uint32_t pkru, enum vx_uabi_mode mode, uint8_t *b,
			size_t len)
{
	uint64_t kbv = vx_fpu_insns(sys)->xsave ? u_rd64(fps->regs + 512) : 3;
	uint64_t modes[] = {U_FP, U_FP | U_SSE, fps->user_xfeatures & xfeatures};
	uint64_t hdr = kbv & modes[mode], xcr0 = vx_fpu_user_cfg(sys)->max_features;

	memset(b, 0, len);
	ref_legacy(sys, fps, hdr, b, len);
	if (mode != VX_UABI_COPY_XSAVE)
		return;
	ref_put(b, len, 464, &xcr0, 8);
	ref_put(b, len, 512, &hdr, 8);
	ref_extended(sys, fps, hdr, pkru, b, len);
}

/* A refusal as the test expects it: code, component, bits, offset. */
struct refusal {
	int code, component;
	uint64_t bits;
	int64_t offset;
};

static struct refusal ref_check(const struct vx_fpu_system *sys, const struct vx_fpstate *fps,
				const uint8_t *b, size_t len)
{
	uint64_t hdr, xcomp;
	uint32_t mxcsr;

	if (len < 576)
		return (struct refusal){-EFAULT, -1, 0, (int64_t)len};
	hdr = u_rd64(b + 512);
	xcomp = u_rd64(b + 520);
	mxcsr = u_rd32(b + 24);
	if (hdr & ~fps->user_xfeatures) /* (a) */
		return (struct refusal){-EINVAL, -1, hdr & ~fps->user_xfeatures, 512};
	if (xcomp) /* (b) */
		return (struct refusal){-EINVAL, -1, xcomp, 520};
	for (uint32_t i = P_HDR_RSVD; i < 576; i++) /* (c) */
		if (b[i])
			return (struct refusal){-EINVAL, -1, 0, i};
	if ((hdr & (U_FP | U_SSE | U_YMM)) && (mxcsr & ~vx_fpu_mxcsr_feature_mask(sys)))
		return (struct refusal){-EINVAL, VX_COMP_SSE,
					mxcsr & ~vx_fpu_mxcsr_feature_mask(sys), 24};
	for (unsigned id = 0; id < VX_FPU_XFEATURE_MAX; id++) { /* the copy failure, -EFAULT */
		struct vx_fpu_xstate_info x;

		vx_fpu_xstate_info(sys, id, &x);
		if ((hdr & VX_BIT(id)) && (uint64_t)x.offset + x.size > len)
			return (struct refusal){-EFAULT, (int)id, VX_BIT(id), x.offset};
	}
	return (struct refusal){0, -1, 0, -1};
}

/* §7.2 after the checks: MXCSR alone without FP, each component, PKRU, the header merge. */
static void ref_copy(const struct vx_fpu_system *sys, uint8_t *regs, uint32_t size, uint64_t xcomp,
		     const uint8_t *b, uint32_t *pkru)
{
	const struct vx_fpu_masks *m = vx_fpu_masks(sys);
	uint64_t hdr = u_rd64(b + 512), kbv = u_rd64(regs + 512);
	struct vx_fpu_xstate_info x;

	if ((hdr & (U_SSE | U_YMM)) && !(hdr & U_FP))
		memcpy(regs + 24, b + 24, 8);
	for (unsigned id = 0; id < VX_FPU_XFEATURE_MAX; id++) {
		uint32_t dst = vx_fpu_xfeature_offset(sys, xcomp, id);

		vx_fpu_xstate_info(sys, id, &x);
		if ((hdr & VX_BIT(id)) && dst != VX_FPU_NO_OFFSET && dst + (uint64_t)x.size <= size)
			memcpy(regs + dst, b + x.offset, x.size);
	}
	vx_fpu_xstate_info(sys, VX_COMP_PKRU, &x);
	if (pkru)
		*pkru = (hdr & U_PKRU) ? u_rd32(b + x.offset) : 0;
	kbv &= m->supervisor_supported | m->independent | m->supervisor_unsupported;
	u_wr64(regs + 512, kbv | hdr);
}

/* ----------------------------------------------------------------------------------------- */
/* Random cases                                                                                 */

/* A random image: random bytes, a random XSTATE_BV, the XCOMP_BV the image had. */
static void random_image(struct u_env *e, struct vx_fpstate *fps)
{
	uint64_t xcomp = u_rd64(fps->regs + VX_XCOMP_BV_OFFSET);
	uint64_t bv = u_rand(e) & ((u_rand(e) & 1) ? fps->xfeatures : ~UINT64_C(0));

	for (uint32_t i = 0; i < fps->size; i++)
		fps->regs[i] = (uint8_t)u_rand(e);
	if (vx_fpu_insns(e->sys)->compacted)
		u_wr64(fps->regs + VX_XCOMP_BV_OFFSET, xcomp);
	u_wr64(fps->regs + VX_XSTATE_BV_OFFSET, bv);
}

static size_t random_len(struct u_env *e, const struct vx_fpstate *fps)
{
	switch (u_rand(e) % 4) {
	case 0:
		return u_rand(e) % P_BUF; /* partial or short */
	case 1:
		return fps->user_size;
	default:
		return u_user_max(e) + (u_rand(e) % 2) * 64;
	}
}

static void one_to_uabi(struct u_env *e, struct vx_fpstate *fps)
{
	struct vx_error err = VX_ERROR_INIT;
	size_t len = random_len(e, fps);
	enum vx_uabi_mode mode =
	    (enum vx_uabi_mode)((u_rand(e) % 4) ? VX_UABI_COPY_XSAVE : u_rand(e) % 3);
	uint64_t xfeatures = (u_rand(e) & 1) ? ~UINT64_C(0) : u_rand(e);
	uint32_t pkru = (uint32_t)u_rand(e);

	random_image(e, fps);
	memset(want, 0xA5, sizeof(want));
	memset(got, 0xA5, sizeof(got));
	ref_to_uabi(e->sys, fps, xfeatures, pkru, mode, want, len);
	assert_int_equal(vx_fpstate_to_uabi(e->sys, fps, xfeatures, pkru, mode, got, len, &err), 0);
	assert_memory_equal(want, got, sizeof(got));
}

/* A uABI buffer from the image, then maybe one corruption of the kind §7.2 refuses. */
static void random_buffer(struct u_env *e, const struct vx_fpstate *fps, size_t len)
{
	struct vx_error err = VX_ERROR_INIT;

	assert_int_equal(vx_fpstate_to_uabi(e->sys, fps, ~UINT64_C(0), (uint32_t)u_rand(e),
					    VX_UABI_COPY_XSAVE, ubuf, sizeof(ubuf), &err),
			 0);
	switch (u_rand(e) % 8) {
	case 0: /* (c) a reserved byte */
		ubuf[P_HDR_RSVD + u_rand(e) % 48] = (uint8_t)(u_rand(e) | 1);
		break;
	case 1: /* (b) XCOMP_BV */
		ubuf[520 + u_rand(e) % 8] = (uint8_t)(u_rand(e) | 1);
		break;
	case 2: /* MXCSR */
		u_wr32(ubuf + 24, (uint32_t)u_rand(e));
		break;
	case 3: /* (a) any header */
		u_wr64(ubuf + 512, u_rand(e));
		break;
	case 4: /* a valid header of fewer or other components */
		u_wr64(ubuf + 512, u_rand(e) & fps->user_xfeatures);
		break;
	default:
		break;
	}
	(void)len;
}

static void one_from_uabi(struct u_env *e, struct vx_fpstate *fps)
{
	struct vx_error err = VX_ERROR_INIT;
	uint32_t pkru = 0x1234, want_pkru = 0x1234;
	bool with_pkru = u_rand(e) & 1;
	size_t len = random_len(e, fps);
	struct refusal r;
	int rc;

	random_image(e, fps);
	random_buffer(e, fps, len);
	memcpy(ref_regs, fps->regs, fps->size);
	r = ref_check(e->sys, fps, ubuf, len);
	if (r.code == 0)
		ref_copy(e->sys, ref_regs, fps->size, image_xcomp(e->sys, fps), ubuf,
			 with_pkru ? &want_pkru : NULL);
	rc = vx_fpstate_from_uabi(e->sys, fps, ubuf, len, with_pkru ? &pkru : NULL, &err);
	assert_int_equal(rc, r.code);
	assert_memory_equal(ref_regs, fps->regs, fps->size); /* unchanged when refused */
	assert_int_equal(pkru, want_pkru);
	if (rc == 0)
		return;
	assert_int_equal(err.component, r.component);
	assert_int_equal(err.bits, r.bits);
	assert_int_equal(err.offset, r.offset);
	assert_non_null(err.rule);
}

/*
 * Every fpstate the test converts on one profile: host and guest defaults, and one whose
 * image says XCOMP_BV = its features without YMM (no boot layout has it: built per call).
 */
static void run_profile(const struct vx_profile *p, uint64_t seed)
{
	struct u_env e;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpstate *fps[3] = {NULL, NULL, NULL};

	u_boot_profile(&e, p, false);
	e.rng = seed;
	if (vx_fpu_xsave_status(e.sys) != VX_FPU_XSAVE_ENABLED) {
		printf("SKIP: %s boots without XSAVE\n", p->name);
		u_free(&e);
		return;
	}
	fps[0] = e.fps;
	assert_int_equal(vx_fpstate_create(e.sys, true, &fps[1], &err), 0);
	assert_int_equal(vx_fpstate_create(e.sys, false, &fps[2], &err), 0);
	if (vx_fpu_insns(e.sys)->compacted)
		u_wr64(fps[2]->regs + VX_XCOMP_BV_OFFSET,
		       (fps[2]->xfeatures & ~U_YMM) | VX_XCOMP_BV_COMPACTED);
	for (int f = 0; f < 3; f++) {
		for (int i = 0; i < P_ROUNDS; i++) {
			one_to_uabi(&e, fps[f]);
			one_from_uabi(&e, fps[f]);
		}
	}
	vx_fpstate_destroy(e.sys, fps[1]);
	vx_fpstate_destroy(e.sys, fps[2]);
	u_free(&e);
}

static void test_plans_match_spec(void **state)
{
	(void)state;
	printf("seed 0x%llx, %d rounds per fpstate and direction\n", (unsigned long long)P_SEED,
	       P_ROUNDS);
	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		struct vx_profile p;

		assert_int_equal(vx_profile_builtin(&p, vx_builtin_profile_name(i), NULL), 0);
		run_profile(&p, P_SEED + i);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* Counters (fpstate.c): bytes from the header, looked up in tables                             */

/* 64 header bytes, 8 for MXCSR with SSE or YMM, each component's CPUID size (fpstate.c). */
static uint64_t expected_bytes(const struct vx_fpu_system *sys, uint64_t mask)
{
	uint64_t bytes = 64 + ((mask & (U_SSE | U_YMM)) ? 8 : 0);

	for (unsigned id = 0; id < VX_FPU_XFEATURE_MAX; id++) {
		struct vx_fpu_xstate_info x;

		if ((mask & VX_BIT(id)) && vx_fpu_xstate_info(sys, id, &x))
			bytes += x.size;
	}
	return bytes;
}

static void test_counters_match_header(void **state)
{
	(void)state;
	for (size_t i = 0; i < U_NPROFILES; i++) {
		struct u_env e;
		struct vx_error err = VX_ERROR_INIT;

		u_boot(&e, u_profiles[i], false);
		e.rng = P_SEED ^ i;
		for (int round = 0; round < 40; round++) {
			struct vx_fpu_counters c = {0};
			uint64_t mask = e.fps->xfeatures, bv; /* no XFD-armed feature */

			u_random_state(&e, e.cpu, mask);
			assert_int_equal(vx_fpstate_save(e.sys, e.cpu, e.fps, &c, &err), 0);
			bv = u_rd64(e.fps->regs + 512);
			assert_int_equal(c.bytes_saved, expected_bytes(e.sys, bv));
			assert_int_equal(vx_fpstate_restore(e.sys, e.cpu2, e.fps, mask, &c, &err),
					 0);
			assert_int_equal(c.bytes_restored, expected_bytes(e.sys, bv & mask));
		}
		u_free(&e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plans_match_spec),
	    cmocka_unit_test(test_counters_match_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
