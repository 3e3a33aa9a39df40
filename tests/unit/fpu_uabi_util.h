/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by test_fpu_uabi.c and test_fpu_sigframe.c: a booted system with a model CPU
 * and an fpstate on a built-in profile, random register states loaded through the cpu layer's
 * own standard image, and a platform that fails allocations on request.
 */
#ifndef VXSAVE_TEST_FPU_UABI_UTIL_H
#define VXSAVE_TEST_FPU_UABI_UTIL_H

#include <stdlib.h>
#include <string.h>

#include <vxsave/area.h>
#include <vxsave/fpu_signal.h>

#define U_FP	   UINT64_C(0x1)
#define U_SSE	   UINT64_C(0x2)
#define U_YMM	   UINT64_C(0x4)
#define U_PKRU	   UINT64_C(0x200)
#define U_XTILECFG UINT64_C(0x20000)
#define U_XTILE	   UINT64_C(0x40000)
#define U_AREA_MAX 16384u

/* The profiles every test runs on (the host is added where a test needs it). */
static const char *const u_profiles[] = {"sapphire-rapids", "zen4", "skylake-server"};
#define U_NPROFILES (sizeof(u_profiles) / sizeof(u_profiles[0]))

struct u_env {
	struct vx_profile profile;
	struct vx_fpu_system *sys;
	struct vx_cpu *cpu;
	struct vx_cpu *cpu2;
	struct vx_fpstate *fps;
	uint64_t rng;
};

static inline uint64_t u_rand(struct u_env *e)
{
	uint64_t x = e->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return e->rng = x;
}

static inline struct vx_cpu *u_cpu(const struct u_env *e)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cpu *cpu = NULL;

	if (vx_cpu_create(&e->profile, NULL, &cpu, &err) ||
	    vx_fpu_system_init_cpu(e->sys, cpu, &err))
		fail_msg("model CPU on %s: %s", e->profile.name, err.reason);
	return cpu;
}

static inline void u_boot_profile(struct u_env *e, const struct vx_profile *p, bool guest)
{
	struct vx_error err = VX_ERROR_INIT;

	memset(e, 0, sizeof(*e));
	e->profile = *p;
	e->rng = UINT64_C(0x0123456789ABCDEF);
	if (vx_fpu_system_create(&e->profile, NULL, &e->sys, &err))
		fail_msg("boot of %s: %s", p->name, err.reason);
	e->cpu = u_cpu(e);
	e->cpu2 = u_cpu(e);
	assert_int_equal(vx_fpstate_create(e->sys, guest, &e->fps, &err), 0);
}

static inline void u_boot(struct u_env *e, const char *profile, bool guest)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;

	assert_int_equal(vx_profile_builtin(&p, profile, &err), 0);
	u_boot_profile(e, &p, guest);
}

static inline void u_free(struct u_env *e)
{
	vx_fpstate_destroy(e->sys, e->fps);
	vx_cpu_destroy(e->cpu);
	vx_cpu_destroy(e->cpu2);
	vx_fpu_system_destroy(e->sys);
}

static inline uint32_t u_user_max(const struct u_env *e)
{
	return vx_fpu_user_cfg(e->sys)->max_size;
}

/*
 * Load a random state into @cpu: every component of @mask (∩ XCR0) random or initial, MXCSR
 * random within the profile's MXCSR_MASK (or the default).  Returns the XSTATE_BV used.
 */
static inline uint64_t u_random_state(struct u_env *e, struct vx_cpu *cpu, uint64_t mask)
{
	static _Alignas(64) uint8_t img[U_AREA_MAX];
	uint64_t bv = u_rand(e) & mask & vx_cpu_xcr0(cpu);
	uint32_t mxcsr = (uint32_t)u_rand(e) & vx_fpu_mxcsr_feature_mask(e->sys) & 0xFFFF;
	struct vx_fpu_xstate_info x;

	memset(img, 0, sizeof(img));
	img[0] = 0x7F;
	img[1] = 0x03;
	if (u_rand(e) & 1)
		mxcsr = VX_MXCSR_DEFAULT;
	memcpy(img + VX_MXCSR_OFFSET, &mxcsr, 4);
	for (unsigned id = 0; id < VX_FPU_XFEATURE_MAX; id++) {
		if (!(bv & VX_BIT(id)) || !vx_fpu_xstate_info(e->sys, id, &x) || !x.size)
			continue;
		for (uint32_t i = 0; i < x.size && x.offset + i < sizeof(img); i++)
			img[x.offset + i] = (uint8_t)u_rand(e);
	}
	if (bv & U_FP) { /* FCW with every exception masked, FSW without pending exceptions */
		img[0] |= 0x3F;
		img[2] = 0;
		img[3] &= 0x7F;
		memset(img + 6, 0, 18);
		memcpy(img + VX_MXCSR_OFFSET, &mxcsr, 4);
	}
	if (bv & U_SSE)
		memcpy(img + VX_MXCSR_OFFSET, &mxcsr, 4);
	memset(img + VX_MXCSR_MASK_OFFSET, 0, 4);
	memcpy(img + VX_XSTATE_BV_OFFSET, &bv, 8);
	assert_int_equal(vx_cpu_from_standard_image(cpu, vx_cpu_xcr0(cpu), img, sizeof(img)), 0);
	return bv;
}

static inline uint64_t u_rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t u_rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline void u_wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline void u_wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A platform whose allocations fail after @budget successes. */
struct u_failing {
	struct vx_platform platform;
	int budget;
};

static inline void *u_failing_alloc(void *ctx, size_t size, size_t align)
{
	struct u_failing *f = ctx;
	void *p;

	if (f->budget-- <= 0)
		return NULL;
	p = aligned_alloc(align, (size + align - 1) / align * align);
	if (p)
		memset(p, 0, size);
	return p;
}

static inline void u_failing_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

#endif /* VXSAVE_TEST_FPU_UABI_UTIL_H */
