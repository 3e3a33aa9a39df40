/* SPDX-License-Identifier: MIT */
/*
 * fpstates and the uABI conversion (linux-fpu.md §3.1, §6, §7, §8.1, §8.3; test expectations
 * 53, 55, 57): creation and reset values, save/restore round trips on model CPUs, the kernel →
 * uABI copy against the cpu layer's own standard image, every §7.2 validation (a refusal leaves
 * the fpstate and PKRU byte-for-byte unchanged), uABI → kernel → uABI round trips, and KVM's
 * wrappers with and without XSAVE.  On sapphire-rapids (AMX), zen4, skylake-server.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>

#include "fpu_uabi_util.h"

static _Alignas(64) uint8_t buf[U_AREA_MAX], buf2[U_AREA_MAX], img[U_AREA_MAX];

/* A snapshot of an fpstate (fields and image) to prove a refusal changed nothing. */
struct snap {
	struct vx_fpstate f;
	uint8_t regs[U_AREA_MAX];
};

static void take(struct snap *s, const struct vx_fpstate *fps)
{
	s->f = *fps;
	memcpy(s->regs, fps->regs, fps->size);
}

static void assert_same(const struct snap *s, const struct vx_fpstate *fps)
{
	assert_memory_equal(&s->f, fps, sizeof(*fps));
	assert_memory_equal(s->regs, fps->regs, fps->size);
}

/* §3.1 table, §6: reset values and the initial image. */
static void check_created(const struct u_env *e, const struct vx_fpstate *f, bool guest)
{
	const struct vx_fpu_state_config *k = vx_fpu_kernel_cfg(e->sys),
					 *u = vx_fpu_user_cfg(e->sys);
	const struct vx_fpu_guest_config *g = vx_fpu_guest_cfg(e->sys);
	uint64_t xfd, xcomp = vx_fpu_insns(e->sys)->compacted ? f->xfeatures | VX_BIT(63) : 0;

	vx_fpu_init_fpstate(e->sys, NULL, NULL, &xfd);
	assert_int_equal(f->size, guest ? g->size : k->default_size);
	assert_int_equal(f->xfeatures, guest ? g->features : k->default_features);
	assert_int_equal(f->xfd, guest ? 0 : xfd);
	assert_int_equal(f->user_size, u->default_size);
	assert_int_equal(f->user_xfeatures, u->default_features);
	assert_int_equal(f->is_guest, guest);
	assert_int_equal((uintptr_t)f->regs % 64, 0);
	assert_int_equal(u_rd32(f->regs) & 0xFFFF, 0x037F);
	assert_int_equal(u_rd32(f->regs + 24), 0x1F80);
	assert_int_equal(u_rd64(f->regs + 512), 0);
	assert_int_equal(u_rd64(f->regs + 520), xcomp);
	for (uint32_t i = 528; i < f->size; i++)
		assert_int_equal(f->regs[i], 0);
}

static void test_create(void **state)
{
	(void)state;
	for (unsigned p = 0; p < U_NPROFILES; p++) {
		struct u_env e;
		struct vx_fpstate *g;
		struct vx_error err = VX_ERROR_INIT;

		u_boot(&e, u_profiles[p], false);
		check_created(&e, e.fps, false);
		assert_int_equal(vx_fpstate_create(e.sys, true, &g, &err), 0);
		check_created(&e, g, true);
		/* expectation 49: bit 12 only in the guest's XCOMP_BV */
		assert_false(u_rd64(e.fps->regs + 520) & VX_BIT(12));
		if (vx_fpu_guest_cfg(e.sys)->features & VX_BIT(12))
			assert_true(u_rd64(g->regs + 520) & VX_BIT(12));
		memset(g->regs + 600, 0xEE, 8);
		vx_fpstate_init_image(e.sys, g);
		check_created(&e, g, true);
		vx_fpstate_destroy(e.sys, g);
		u_free(&e);
	}
}

static void test_create_enomem(void **state)
{
	struct u_failing f = {{u_failing_alloc, u_failing_free, NULL, NULL}, 1000};
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_system *sys;
	struct vx_fpstate *fps = (struct vx_fpstate *)&f;
	struct vx_profile p;

	(void)state;
	f.platform.ctx = &f;
	config.platform = &f.platform;
	assert_int_equal(vx_profile_builtin(&p, "zen4", &err), 0);
	assert_int_equal(vx_fpu_system_create(&p, &config, &sys, &err), 0);
	f.budget = 0;
	assert_int_equal(vx_fpstate_create(sys, false, &fps, &err), -ENOMEM);
	assert_ptr_equal(fps, (struct vx_fpstate *)&f); /* untouched */
	assert_int_equal(err.code, -ENOMEM);
	vx_fpu_system_destroy(sys);
}

/* §8.1/§8.3: what one CPU saved, another restores; counters count it. */
static void test_save_restore(void **state)
{
	(void)state;
	for (unsigned p = 0; p < U_NPROFILES; p++) {
		struct u_env e;
		struct vx_fpu_counters c = {0};
		struct vx_error err = VX_ERROR_INIT;
		char where[128];

		u_boot(&e, u_profiles[p], false);
		for (int i = 0; i < 40; i++) {
			uint64_t bv = u_random_state(&e, e.cpu, e.fps->user_xfeatures);

			assert_int_equal(vx_fpstate_save(e.sys, e.cpu, e.fps, &c, &err), 0);
			assert_int_equal(u_rd64(e.fps->regs + 512) & ~U_SSE, bv & ~U_SSE);
			assert_int_equal(
			    vx_fpstate_restore(e.sys, e.cpu2, e.fps, ~UINT64_C(0), &c, &err), 0);
			if (vx_cpu_compare(e.cpu, e.cpu2, e.fps->user_xfeatures, where,
					   sizeof(where)))
				fail_msg("%s case %d: %s", u_profiles[p], i, where);
		}
		assert_int_equal(c.saves, 40);
		assert_int_equal(c.restores, 40);
		assert_true(c.bytes_saved >= 40 * 64 && c.bytes_restored >= 40 * 64);
		u_free(&e);
	}
}

/* §8.3: the restore mask is kernel max ∩ @mask; features outside go to init. */
static void test_restore_mask(void **state)
{
	struct u_env e;
	struct vx_error err = VX_ERROR_INIT;
	uint8_t ymm[32];

	(void)state;
	u_boot(&e, "zen4", false);
	memset(img, 0, sizeof(img));
	u_random_state(&e, e.cpu, U_YMM | U_SSE | U_FP);
	vx_cpu_use(e.cpu, U_YMM, NULL);
	memset(ymm, 0x11, sizeof(ymm));
	vx_cpu_set_reg(e.cpu, vx_reg_lookup("ymm0"), ymm, 32, NULL);
	assert_int_equal(vx_fpstate_save(e.sys, e.cpu, e.fps, NULL, &err), 0);
	assert_int_equal(vx_fpstate_restore(e.sys, e.cpu2, e.fps, ~U_YMM, NULL, &err), 0);
	assert_false(vx_cpu_xinuse(e.cpu2) & U_YMM);
	u_free(&e);
}

/*
 * §7.1 against the cpu's own XSAVE64-style image: header = saved XSTATE_BV ∩ user_xfeatures,
 * XCR0 at 464, padding zero, PKRU from the argument.  With XSAVES, SSE is saved when MXCSR is
 * not the default (arch.md §5.3), and a state with YMM but SSE not saved reports the fpstate's
 * MXCSR bytes (the real kernel does the same: test_fpu_kernel_diff).
 */
static void test_to_uabi_xsave(void **state)
{
	(void)state;
	for (unsigned p = 0; p < U_NPROFILES; p++) {
		struct u_env e;
		struct vx_error err = VX_ERROR_INIT;
		uint32_t usize;

		u_boot(&e, u_profiles[p], false);
		usize = e.fps->user_size;
		for (int i = 0; i < 40; i++) {
			uint64_t hdr, want_hdr;
			uint32_t pkru = (uint32_t)u_rand(&e);

			u_random_state(&e, e.cpu, e.fps->user_xfeatures);
			assert_int_equal(vx_fpstate_save(e.sys, e.cpu, e.fps, NULL, &err), 0);
			memset(buf, 0xCC, sizeof(buf));
			assert_int_equal(vx_fpstate_to_uabi(e.sys, e.fps, e.fps->user_xfeatures,
							    pkru, VX_UABI_COPY_XSAVE, buf, usize,
							    &err),
					 0);
			memset(img, 0, sizeof(img));
			vx_cpu_to_standard_image(e.cpu, e.fps->user_xfeatures, img, sizeof(img));
			hdr = u_rd64(buf + 512);
			want_hdr = u_rd64(e.fps->regs + 512) & e.fps->user_xfeatures;
			assert_int_equal(hdr, want_hdr);
			assert_int_equal(u_rd64(buf + 464), vx_fpu_user_cfg(e.sys)->max_features);
			for (uint32_t b = 416; b < 464; b++)
				assert_int_equal(buf[b], 0);
			for (uint32_t b = 472; b < 512; b++)
				assert_int_equal(buf[b], 0);
			for (uint32_t b = 520; b < 576; b++)
				assert_int_equal(buf[b], 0);
			if (hdr & U_PKRU) {
				struct vx_fpu_xstate_info x;

				vx_fpu_xstate_info(e.sys, 9, &x);
				assert_int_equal(u_rd32(buf + x.offset), pkru);
				u_wr64(img + x.offset, pkru); /* pkru_state: pad 0 */
			}
			if ((hdr & U_YMM) && !(hdr & U_SSE))
				memcpy(img + 24, buf + 24, 8);
			memcpy(img + 416, buf + 416, 160);
			for (uint32_t b = 0; b < usize; b++)
				if (buf[b] != img[b])
					fail_msg(
					    "%s case %d: byte %u: uABI 0x%02x, CPU 0x%02x (hdr "
					    "0x%llx)",
					    u_profiles[p], i, b, buf[b], img[b],
					    (unsigned long long)hdr);
		}
		u_free(&e);
	}
}

/* §7.1 items 1-3: FP and FX modes, partial copies with the rest zero-filled. */
static void test_to_uabi_modes_partial(void **state)
{
	struct u_env e;
	struct vx_error err = VX_ERROR_INIT;
	const uint8_t *init = NULL;
	const size_t lens[] = {0, 1, 24, 100, 415, 520, 600, 1000};

	(void)state;
	u_boot(&e, "sapphire-rapids", false);
	init = vx_fpu_init_fpstate(e.sys, NULL, NULL, NULL);
	u_random_state(&e, e.cpu, U_FP | U_SSE | U_YMM);
	vx_cpu_use(e.cpu, U_FP | U_SSE | U_YMM, NULL);
	assert_int_equal(vx_fpstate_save(e.sys, e.cpu, e.fps, NULL, &err), 0);
	assert_int_equal(
	    vx_fpstate_to_uabi(e.sys, e.fps, ~UINT64_C(0), 0, VX_UABI_COPY_FP, buf, 600, &err), 0);
	assert_int_equal(u_rd64(buf + 512), 0); /* FP/FX modes stop at 416 */
	assert_memory_equal(buf, e.fps->regs, 24);
	assert_memory_equal(buf + 24, init + 24, 8); /* MXCSR by SSE or YMM only */
	assert_memory_equal(buf + 32, e.fps->regs + 32, 128);
	for (int b = 160; b < 600; b++)
		assert_int_equal(buf[b], 0);
	assert_int_equal(
	    vx_fpstate_to_uabi(e.sys, e.fps, ~UINT64_C(0), 0, VX_UABI_COPY_FX, buf, 600, &err), 0);
	assert_memory_equal(buf, e.fps->regs, 416);
	for (int b = 416; b < 600; b++)
		assert_int_equal(buf[b], 0);
	assert_int_equal(vx_fpstate_to_uabi(e.sys, e.fps, ~UINT64_C(0), 0, VX_UABI_COPY_XSAVE, buf2,
					    e.fps->user_size, &err),
			 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(buf, 0x77, sizeof(buf));
		assert_int_equal(vx_fpstate_to_uabi(e.sys, e.fps, ~UINT64_C(0), 0,
						    VX_UABI_COPY_XSAVE, buf, lens[i], &err),
				 0);
		assert_memory_equal(buf, buf2, lens[i]);
		assert_int_equal(buf[lens[i]], 0x77); /* nothing past @len */
	}
	assert_int_equal(vx_fpstate_to_uabi(e.sys, e.fps, 0, 0, (enum vx_uabi_mode)7, buf, 8, &err),
			 -EINVAL);
	u_free(&e);
}

/* A canonical uABI buffer: what GET would produce for a random state. */
static uint64_t canonical(struct u_env *e, uint8_t *b, uint32_t *pkru)
{
	uint64_t hdr;

	u_random_state(e, e->cpu, e->fps->user_xfeatures);
	assert_int_equal(vx_fpstate_save(e->sys, e->cpu, e->fps, NULL, NULL), 0);
	*pkru = (uint32_t)u_rand(e);
	assert_int_equal(vx_fpstate_to_uabi(e->sys, e->fps, e->fps->user_xfeatures, *pkru,
					    VX_UABI_COPY_XSAVE, b, e->fps->user_size, NULL),
			 0);
	hdr = u_rd64(b + 512);
	if ((hdr & U_YMM) && !(hdr & U_SSE)) /* keep MXCSR canonical too */
		memset(b + 24, 0, 8), u_wr32(b + 24, 0x1F80);
	return hdr;
}

/* §7.2: every check refuses with -EINVAL and changes nothing (fpstate bytes, *pkru). */
static void refuse(struct u_env *e, const uint8_t *b, size_t len, int code, int64_t offset)
{
	static struct snap s;
	struct vx_error err = VX_ERROR_INIT;
	uint32_t pkru = 0xABCD;

	take(&s, e->fps);
	assert_int_equal(vx_fpstate_from_uabi(e->sys, e->fps, b, len, &pkru, &err), code);
	assert_int_equal(err.code, code);
	assert_non_null(err.rule);
	if (offset >= 0)
		assert_int_equal(err.offset, offset);
	assert_int_equal(pkru, 0xABCD);
	assert_same(&s, e->fps);
}

static void test_from_uabi_refusals(void **state)
{
	(void)state;
	for (unsigned p = 0; p < U_NPROFILES; p++) {
		struct u_env e;
		uint32_t pkru, usize;
		uint64_t hdr;

		u_boot(&e, u_profiles[p], false);
		usize = e.fps->user_size;
		hdr = canonical(&e, buf, &pkru);
		for (unsigned bit = 0; bit < 64; bit++) { /* (a) */
			if (e.fps->user_xfeatures & VX_BIT(bit))
				continue;
			memcpy(buf2, buf, usize);
			u_wr64(buf2 + 512, hdr | VX_BIT(bit));
			refuse(&e, buf2, usize, -EINVAL, 512);
		}
		for (unsigned bit = 0; bit < 64; bit++) { /* (b) */
			memcpy(buf2, buf, usize);
			u_wr64(buf2 + 520, VX_BIT(bit) | (bit == 63 ? e.fps->user_xfeatures : 0));
			refuse(&e, buf2, usize, -EINVAL, 520);
		}
		for (unsigned b = 528; b < 576; b++) { /* (c) */
			memcpy(buf2, buf, usize);
			buf2[b] = 0x40;
			refuse(&e, buf2, usize, -EINVAL, b);
		}
		for (uint64_t m = 1; m <= 4; m <<= 1) { /* MXCSR with FP, SSE or YMM */
			memcpy(buf2, buf, usize);
			u_wr64(buf2 + 512, m);
			u_wr32(buf2 + 24, 0x1F80 | VX_BIT(31));
			refuse(&e, buf2, usize, -EINVAL, 24);
		}
		refuse(&e, buf, 575, -EFAULT, 575);
		refuse(&e, buf, 0, -EFAULT, 0);
		if (hdr & U_YMM)
			refuse(&e, buf, 600, -EFAULT, -1); /* YMM runs past the buffer */
		u_free(&e);
	}
}

/* Expectation 55: garbage MXCSR with none of FP/SSE/YMM in the header is ignored. */
static void test_from_uabi_mxcsr_ignored(void **state)
{
	struct u_env e;
	struct vx_error err = VX_ERROR_INIT;
	uint32_t pkru = 1, before;

	(void)state;
	u_boot(&e, "zen4", false);
	canonical(&e, buf, &pkru);
	before = u_rd32(e.fps->regs + 24);
	u_wr64(buf + 512, UINT64_C(0x20)); /* OPMASK only */
	u_wr32(buf + 24, 0xFFFFFFFF);
	assert_int_equal(vx_fpstate_from_uabi(e.sys, e.fps, buf, e.fps->user_size, &pkru, &err), 0);
	assert_int_equal(u_rd32(e.fps->regs + 24), before);
	assert_int_equal(pkru, 0); /* expectation 57: PKRU bit clear → 0 */
	/* SSE without FP: MXCSR and MXCSR_MASK stored explicitly, x87 bytes untouched */
	memcpy(buf2, e.fps->regs, 24);
	u_wr64(buf + 512, U_SSE);
	u_wr32(buf + 24, 0x1FC0);
	u_wr32(buf + 28, 0x1234);
	memset(buf, 0x5A, 24);
	assert_int_equal(vx_fpstate_from_uabi(e.sys, e.fps, buf, e.fps->user_size, NULL, &err), 0);
	assert_int_equal(u_rd32(e.fps->regs + 24), 0x1FC0);
	assert_int_equal(u_rd32(e.fps->regs + 28), 0x1234);
	assert_memory_equal(e.fps->regs, buf2, 24);
	u_free(&e);
}

/* uABI → kernel → uABI is the identity on canonical buffers; PKRU and supervisor bits. */
static void test_from_uabi_roundtrip(void **state)
{
	(void)state;
	for (unsigned p = 0; p < U_NPROFILES; p++) {
		struct u_env e;
		struct vx_error err = VX_ERROR_INIT;

		u_boot(&e, u_profiles[p], true);
		for (int i = 0; i < 40; i++) {
			uint32_t pkru, got = 0;
			uint64_t hdr = canonical(&e, buf, &pkru);
			uint64_t sup = e.fps->xfeatures & ~VX_FPU_MASK_USER_SUPPORTED;

			/* supervisor state present in the image: the merge keeps it (§7.2) */
			u_wr64(e.fps->regs + 512, u_rd64(e.fps->regs + 512) | sup);
			assert_int_equal(
			    vx_fpstate_from_uabi(e.sys, e.fps, buf, e.fps->user_size, &got, &err),
			    0);
			assert_int_equal(u_rd64(e.fps->regs + 512), hdr | sup);
			assert_int_equal(got, (hdr & U_PKRU) ? pkru : 0);
			assert_int_equal(vx_fpstate_to_uabi(e.sys, e.fps, e.fps->user_xfeatures,
							    pkru, VX_UABI_COPY_XSAVE, buf2,
							    e.fps->user_size, &err),
					 0);
			assert_memory_equal(buf, buf2, e.fps->user_size);
			assert_int_equal(
			    vx_fpstate_from_uabi(e.sys, e.fps, buf, e.fps->user_size, NULL, &err),
			    0);
		}
		u_free(&e);
	}
}

/* Expectation 53 and §7.3 on a host without XSAVE. */
static void test_kvm_no_xsave(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;
	struct vx_cpuid_regs r;
	struct u_env e;
	uint32_t vpkru = 5;

	(void)state;
	assert_int_equal(vx_profile_builtin(&p, "zen4", &err), 0);
	r = vx_profile_leaf(&p, 1, 0);
	r.ecx &= ~(1u << 26);
	assert_int_equal(vx_profile_set_leaf(&p, 1, 0, &r), 0);
	u_boot_profile(&e, &p, true);
	assert_false(vx_fpu_insns(e.sys)->xsave);
	assert_int_equal(e.fps->size, 512);
	memset(e.fps->regs + 160, 0x3C, 256);
	memset(buf, 0xFF, 4096);
	assert_int_equal(vx_fpu_copy_guest_fpstate_to_uabi(e.sys, e.fps, buf, 4096, 0x7, 0, &err),
			 0);
	assert_memory_equal(buf, e.fps->regs, 512);
	assert_int_equal(u_rd64(buf + 512), 0x3);
	for (int b = 520; b < 4096; b++)
		assert_int_equal(buf[b], 0);
	u_wr64(buf + 512, 0x7);
	assert_int_equal(
	    vx_fpu_copy_uabi_to_guest_fpstate(e.sys, e.fps, buf, 4096, 0x7, &vpkru, &err), -EINVAL);
	u_wr64(buf + 512, 0x3);
	u_wr32(buf + 24, 0xFFFFFFFF);
	assert_int_equal(
	    vx_fpu_copy_uabi_to_guest_fpstate(e.sys, e.fps, buf, 4096, 0x7, &vpkru, &err), -EINVAL);
	u_wr32(buf + 24, 0x1F80);
	memset(buf + 160, 0x4D, 256);
	assert_int_equal(
	    vx_fpu_copy_uabi_to_guest_fpstate(e.sys, e.fps, buf, 4096, 0x7, &vpkru, &err), 0);
	assert_memory_equal(e.fps->regs, buf, 512);
	assert_int_equal(vpkru, 5);
	assert_int_equal(vx_fpstate_from_uabi(e.sys, e.fps, buf, 4096, NULL, &err), -ENODEV);
	u_free(&e);
}

/* §7.3 on an XSAVE host: XCR0 check first, PKRU left alone when its bit is clear. */
static void test_kvm_xsave(void **state)
{
	struct u_env e;
	struct vx_error err = VX_ERROR_INIT;
	uint32_t pkru, vpkru = 0x1111;
	uint64_t hdr;

	(void)state;
	u_boot(&e, "sapphire-rapids", true);
	hdr = canonical(&e, buf, &pkru);
	u_wr64(buf + 512, hdr & ~U_PKRU);
	assert_int_equal(vx_fpu_copy_uabi_to_guest_fpstate(e.sys, e.fps, buf, e.fps->user_size,
							   0x602E7, &vpkru, &err),
			 0);
	assert_int_equal(vpkru, 0x1111);
	u_wr64(buf + 512, hdr | U_PKRU);
	u_wr32(buf + 2688, pkru); /* PKRU's standard offset on this part */
	assert_int_equal(vx_fpu_copy_uabi_to_guest_fpstate(e.sys, e.fps, buf, e.fps->user_size,
							   0x602E7, &vpkru, &err),
			 0);
	assert_int_equal(vpkru, pkru);
	/* outside the caller's XCR0, and AMX data the guest fpstate has no room for */
	u_wr64(buf + 512, hdr | U_YMM);
	assert_int_equal(vx_fpu_copy_uabi_to_guest_fpstate(e.sys, e.fps, buf, e.fps->user_size, 0x3,
							   &vpkru, &err),
			 -EINVAL);
	assert_true(err.bits & U_YMM);
	memset(buf2, 0, sizeof(buf2));
	memcpy(buf2, buf, e.fps->user_size);
	u_wr64(buf2 + 512, U_XTILE);
	assert_int_equal(vx_fpu_copy_uabi_to_guest_fpstate(e.sys, e.fps, buf2, sizeof(buf2),
							   0x602E7, &vpkru, &err),
			 -EINVAL);
	assert_int_equal(err.bits, U_XTILE);
	assert_int_equal(
	    vx_fpu_copy_guest_fpstate_to_uabi(e.sys, e.fps, buf2, 4096, 0x3, pkru, &err), 0);
	assert_int_equal(u_rd64(buf2 + 512) & ~UINT64_C(0x3), 0);
	u_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create),
	    cmocka_unit_test(test_create_enomem),
	    cmocka_unit_test(test_save_restore),
	    cmocka_unit_test(test_restore_mask),
	    cmocka_unit_test(test_to_uabi_xsave),
	    cmocka_unit_test(test_to_uabi_modes_partial),
	    cmocka_unit_test(test_from_uabi_refusals),
	    cmocka_unit_test(test_from_uabi_mxcsr_ignored),
	    cmocka_unit_test(test_from_uabi_roundtrip),
	    cmocka_unit_test(test_kvm_no_xsave),
	    cmocka_unit_test(test_kvm_xsave),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
