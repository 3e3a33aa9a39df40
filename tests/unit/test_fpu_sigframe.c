/* SPDX-License-Identifier: MIT */
/*
 * Signal frames, sigreturn, ptrace regsets and the core-dump layout note on model CPUs
 * (linux-fpu.md §7, §8.4, §12; test expectations 59, 61): the frame's bytes against the CPU's
 * own XSAVE64 image, AMX's init optimization in frames, every sigreturn outcome (XRSTOR,
 * FX-only fallback, SIGSEGV path, NULL), the measured regset length rules, refusals that change
 * nothing.  On sapphire-rapids (AMX), zen4, skylake-server; the real kernel is asked in
 * test_fpu_kernel_diff.c.
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

#define PATTERN 0xA5

static _Alignas(64) uint8_t frame[U_AREA_MAX], img[U_AREA_MAX], buf[U_AREA_MAX * 3];

static uint32_t pkru_offset(const struct u_env *e)
{
	struct vx_fpu_xstate_info x;

	vx_fpu_xstate_info(e->sys, 9, &x);
	return x.offset;
}

/* §8.4/§12: software bytes, MAGIC2, XSTATE_BV = XINUSE|FP|SSE(|PKRU), the rest as XSAVE64. */
static void check_frame(const struct u_env *e, uint32_t pkru)
{
	const struct vx_fpstate *f = e->fps;
	struct vx_fpx_sw_bytes sw;
	uint64_t want = (vx_cpu_xinuse(e->cpu) & f->user_xfeatures) | 0x3;

	assert_true(vx_fpx_sw_bytes_read(frame, sizeof(frame), &sw));
	assert_int_equal(sw.magic1, VX_FP_XSTATE_MAGIC1);
	assert_int_equal(sw.extended_size, f->user_size + 4);
	assert_int_equal(sw.xfeatures, f->user_xfeatures);
	assert_int_equal(sw.xstate_size, f->user_size);
	for (int i = 0; i < 7; i++)
		assert_int_equal(sw.padding[i], 0);
	assert_int_equal(u_rd32(frame + f->user_size), VX_FP_XSTATE_MAGIC2);
	if (f->user_xfeatures & U_PKRU) {
		want |= U_PKRU;
		assert_int_equal(u_rd32(frame + pkru_offset(e)), pkru);
	}
	assert_int_equal(u_rd64(frame + 512) & ~UINT64_C(2), want & ~UINT64_C(2));
	for (int b = 520; b < 576; b++)
		assert_int_equal(frame[b], 0);
	for (int b = 416; b < 464; b++) /* not written */
		assert_int_equal(frame[b], PATTERN);
	memset(img, 0, sizeof(img));
	vx_cpu_to_standard_image(e->cpu, f->user_xfeatures, img, sizeof(img));
	assert_memory_equal(frame, img, 416);
	for (uint32_t id = 2; id < VX_FPU_XFEATURE_MAX; id++) {
		struct vx_fpu_xstate_info x;

		if (!(f->user_xfeatures & VX_BIT(id)) || id == 9)
			continue;
		/* dynamic sizing: AMX components only when in use (§8.4) */
		if ((VX_BIT(id) & VX_FPU_MASK_SIGFRAME_INITOPT) && f->xfd != 0 &&
		    !(vx_cpu_xinuse(e->cpu) & VX_BIT(id)))
			continue;
		vx_fpu_xstate_info(e->sys, id, &x);
		assert_memory_equal(frame + x.offset, img + x.offset, x.size);
	}
}

static void test_frame_layout(void **state)
{
	(void)state;
	for (unsigned p = 0; p < U_NPROFILES; p++) {
		struct u_env e;
		struct vx_error err = VX_ERROR_INIT;

		u_boot(&e, u_profiles[p], false);
		assert_int_equal(vx_fpu_sigframe_size(e.sys, e.fps), e.fps->user_size + 4);
		for (int i = 0; i < 30; i++) {
			uint32_t pkru = (uint32_t)u_rand(&e);

			u_random_state(&e, e.cpu, e.fps->user_xfeatures);
			memset(frame, PATTERN, sizeof(frame));
			assert_int_equal(vx_fpu_copy_fpstate_to_sigframe(
					     e.sys, e.cpu, e.fps, pkru, frame, sizeof(frame), &err),
					 0);
			check_frame(&e, pkru);
		}
		u_free(&e);
	}
}

/* A frame that cannot be written (short, misaligned) is -EFAULT with nothing written. */
static void test_frame_fault(void **state)
{
	struct u_env e;
	struct vx_error err = VX_ERROR_INIT;
	uint32_t n;

	(void)state;
	u_boot(&e, "zen4", false);
	n = vx_fpu_sigframe_size(e.sys, e.fps);
	memset(frame, PATTERN, sizeof(frame));
	assert_int_equal(
	    vx_fpu_copy_fpstate_to_sigframe(e.sys, e.cpu, e.fps, 0, frame, n - 1, &err), -EFAULT);
	assert_int_equal(
	    vx_fpu_copy_fpstate_to_sigframe(e.sys, e.cpu, e.fps, 0, frame + 16, n, &err), -EFAULT);
	for (size_t b = 0; b < sizeof(frame); b++)
		assert_int_equal(frame[b], PATTERN);
	u_free(&e);
}

/* Expectation 61: with dynamic sizing AMX components are in the frame only when in use. */
static void test_frame_amx_initopt(void **state)
{
	struct u_env e;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_xstate_info t;
	struct vx_fpx_sw_bytes sw;
	uint8_t tile[1024];

	(void)state;
	u_boot(&e, "sapphire-rapids", false);
	vx_fpstate_destroy(e.sys, e.fps);
	assert_int_equal(vx_fpstate_create(e.sys, false, &e.fps, &err), 0);
	vx_fpu_xstate_info(e.sys, 18, &t);
	/* the fpstate after fpstate_realloc() for XTILE_DATA (§5.3): user fields grown */
	e.fps->user_xfeatures |= U_XTILE;
	e.fps->user_size = u_user_max(&e);
	e.fps->xfd = 0;
	memset(frame, PATTERN, sizeof(frame));
	assert_int_equal(
	    vx_fpu_copy_fpstate_to_sigframe(e.sys, e.cpu, e.fps, 0, frame, sizeof(frame), &err), 0);
	assert_false(u_rd64(frame + 512) & (U_XTILE | U_XTILECFG));
	assert_int_equal(frame[t.offset], PATTERN); /* not written at all */
	assert_int_equal(frame[t.offset + t.size - 1], PATTERN);
	vx_fpx_sw_bytes_read(frame, sizeof(frame), &sw);
	assert_int_equal(sw.xstate_size, e.fps->user_size);
	assert_int_equal(sw.extended_size, e.fps->user_size + 4);
	assert_int_equal(u_rd32(frame + e.fps->user_size), VX_FP_XSTATE_MAGIC2);
	/* tiles in use: written */
	memset(tile, 0x3C, sizeof(tile));
	assert_int_equal(vx_cpu_set_reg(e.cpu, vx_reg_lookup("tmm0"), tile, 1024, NULL) == 0 ||
			     vx_cpu_use(e.cpu, U_XTILE | U_XTILECFG, NULL) == 0,
			 1);
	vx_cpu_use(e.cpu, U_XTILE | U_XTILECFG, NULL);
	memset(frame, PATTERN, sizeof(frame));
	assert_int_equal(
	    vx_fpu_copy_fpstate_to_sigframe(e.sys, e.cpu, e.fps, 0, frame, sizeof(frame), &err), 0);
	assert_true(u_rd64(frame + 512) & U_XTILE);
	assert_int_not_equal(frame[t.offset], PATTERN);
	u_free(&e);
}

static enum vx_sigreturn_outcome restore(struct u_env *e, const uint8_t *f, size_t len)
{
	enum vx_sigreturn_outcome o = (enum vx_sigreturn_outcome) - 1;
	struct vx_error err = VX_ERROR_INIT;

	u_random_state(e, e->cpu2, e->fps->user_xfeatures); /* the handler's registers */
	assert_int_equal(vx_fpu_restore_sig(e->sys, e->cpu2, e->fps, f, len, &o, &err), 0);
	return o;
}

/* Frame → sigreturn on another CPU gives the same registers (PKRU from the frame). */
static void test_sigreturn_roundtrip(void **state)
{
	(void)state;
	for (unsigned p = 0; p < U_NPROFILES; p++) {
		struct u_env e;
		struct vx_error err = VX_ERROR_INIT;
		char where[128];

		u_boot(&e, u_profiles[p], false);
		for (int i = 0; i < 30; i++) {
			uint32_t pkru = 0;

			u_random_state(&e, e.cpu, e.fps->user_xfeatures);
			if (e.fps->user_xfeatures & U_PKRU)
				vx_cpu_get_reg(e.cpu, vx_reg_lookup("pkru"), &pkru, 4);
			assert_int_equal(vx_fpu_copy_fpstate_to_sigframe(
					     e.sys, e.cpu, e.fps, pkru, frame, sizeof(frame), &err),
					 0);
			assert_int_equal(restore(&e, frame, sizeof(frame)), VX_SIGRETURN_XSTATE);
			if (vx_cpu_compare(e.cpu, e.cpu2, e.fps->user_xfeatures, where,
					   sizeof(where)))
				fail_msg("%s case %d: %s", u_profiles[p], i, where);
		}
		u_free(&e);
	}
}

static bool all_user_init(const struct u_env *e, const struct vx_cpu *cpu)
{
	struct vx_cpu *fresh = u_cpu(e);
	char where[128];
	int diff =
	    vx_cpu_compare(cpu, fresh, e->fps->user_xfeatures & ~U_PKRU, where, sizeof(where));

	vx_cpu_destroy(fresh);
	return diff == 0;
}

/* One mutated frame: the outcome, and whether YMM came from the frame. */
static void mutate(struct u_env *e, uint32_t off, unsigned width, uint64_t val,
		   enum vx_sigreturn_outcome want, bool ymm_restored)
{
	static _Alignas(64) uint8_t m[U_AREA_MAX];
	uint8_t a[16], b[16];

	memcpy(m, frame, sizeof(m));
	memcpy(m + off, &val, width);
	enum vx_sigreturn_outcome got = restore(e, m, sizeof(m));

	assert_int_equal(vx_cpu_get_reg(e->cpu, vx_reg_lookup("ymmh3"), a, 16), 0);
	assert_int_equal(vx_cpu_get_reg(e->cpu2, vx_reg_lookup("ymmh3"), b, 16), 0);
	if (got != want || (memcmp(a, b, 16) == 0) != ymm_restored)
		fail_msg("byte %u := 0x%llx: %s, YMM %s", off, (unsigned long long)val,
			 vx_sigreturn_outcome_name(got), memcmp(a, b, 16) ? "init" : "restored");
	if (want == VX_SIGRETURN_SEGV)
		assert_true(all_user_init(e, e->cpu2));
}

/* §8.4 and §12: magic and size checks → FX-only; header and MXCSR faults → SIGSEGV. */
static void test_sigreturn_outcomes(void **state)
{
	struct u_env e;
	struct vx_error err = VX_ERROR_INIT;
	enum vx_sigreturn_outcome o;
	uint8_t ymm[32];
	uint32_t u;

	(void)state;
	u_boot(&e, "zen4", false);
	u = e.fps->user_size;
	u_random_state(&e, e.cpu, U_FP | U_SSE);
	memset(ymm, 0x6B, sizeof(ymm));
	assert_int_equal(vx_cpu_set_reg(e.cpu, vx_reg_lookup("ymmh3"), ymm, 16, NULL), 0);
	assert_int_equal(
	    vx_fpu_copy_fpstate_to_sigframe(e.sys, e.cpu, e.fps, 0, frame, sizeof(frame), &err), 0);
	mutate(&e, 0, 1, frame[0], VX_SIGRETURN_XSTATE, true);
	mutate(&e, 464, 4, 0, VX_SIGRETURN_FX_ONLY, false);	   /* magic1 */
	mutate(&e, u, 4, 0x12345678, VX_SIGRETURN_FX_ONLY, false); /* magic2 */
	mutate(&e, 480, 4, 575, VX_SIGRETURN_FX_ONLY, false);	   /* xstate_size too small */
	mutate(&e, 480, 4, u + 4, VX_SIGRETURN_FX_ONLY, false);	   /* above user_size */
	mutate(&e, 468, 4, u - 1, VX_SIGRETURN_FX_ONLY, false);	   /* above extended_size */
	mutate(&e, 472, 8, 0x3, VX_SIGRETURN_XSTATE, false);	   /* sw.xfeatures: YMM → init */
	mutate(&e, 512, 8, VX_BIT(40), VX_SIGRETURN_SEGV, false);  /* outside XCR0 */
	mutate(&e, 520, 8, 0x1234, VX_SIGRETURN_SEGV, false);	   /* bad XCOMP_BV */
	mutate(&e, 520, 8, VX_BIT(63) | vx_fpu_user_cfg(e.sys)->max_features, VX_SIGRETURN_XSTATE,
	       true); /* compacted form: accepted (YMM at 576 in both forms) */
	mutate(&e, 530, 1, 1, VX_SIGRETURN_SEGV, false);	 /* header bytes 16-23 */
	mutate(&e, 540, 1, 1, VX_SIGRETURN_XSTATE, true);	 /* bytes 24-63 ignored */
	mutate(&e, 24, 4, 0xFFFF1F80, VX_SIGRETURN_SEGV, false); /* MXCSR reserved */
	mutate(&e, 28, 4, 0xDEAD, VX_SIGRETURN_XSTATE, true);	 /* MXCSR_MASK ignored */
	/* FX-only with a bad MXCSR faults too */
	memcpy(buf, frame, sizeof(frame));
	u_wr32(buf + 464, 0);
	u_wr32(buf + 24, 0xFFFFFFFF);
	assert_int_equal(restore(&e, buf, sizeof(frame)), VX_SIGRETURN_SEGV);
	/* MAGIC2 past the end of what could be read: a fault */
	assert_int_equal(restore(&e, frame, u + 2), VX_SIGRETURN_SEGV);
	/* a misaligned frame: XRSTOR64 #GP */
	memcpy(buf + 8, frame, sizeof(frame));
	assert_int_equal(restore(&e, buf + 8, sizeof(frame)), VX_SIGRETURN_SEGV);
	/* fpstate NULL: cleared, no signal */
	assert_int_equal(restore(&e, NULL, 0), VX_SIGRETURN_CLEARED);
	assert_true(all_user_init(&e, e.cpu2));
	o = VX_SIGRETURN_XSTATE;
	assert_int_equal(vx_fpu_restore_sig(e.sys, e.cpu2, e.fps, NULL, 0, &o, &err), 0);
	assert_int_equal(o, VX_SIGRETURN_CLEARED);
	assert_string_equal(vx_sigreturn_outcome_name(VX_SIGRETURN_FX_ONLY), "fx-only");
	assert_null(vx_sigreturn_outcome_name((enum vx_sigreturn_outcome)9));
	u_free(&e);
}

/* fpu__clear_user_states(): user state to init, PKRU to the kernel's default. */
static void test_clear_user_states(void **state)
{
	struct u_env e;
	struct vx_error err = VX_ERROR_INIT;
	uint32_t pkru = 0;

	(void)state;
	u_boot(&e, "sapphire-rapids", false);
	u_random_state(&e, e.cpu, e.fps->user_xfeatures);
	assert_int_equal(vx_fpu_clear_user_states(e.sys, e.cpu, e.fps, &err), 0);
	assert_true(all_user_init(&e, e.cpu));
	vx_cpu_get_reg(e.cpu, vx_reg_lookup("pkru"), &pkru, 4);
	assert_int_equal(pkru, 0x55555554);
	u_free(&e);
}

/* A regset refusal: the errno, and the fpstate and PKRU untouched. */
static void set_refused(struct u_env *e, unsigned note, const uint8_t *b, size_t len, int code)
{
	static uint8_t before[U_AREA_MAX];
	struct vx_error err = VX_ERROR_INIT;
	uint32_t pkru = 0x77;

	memcpy(before, e->fps->regs, e->fps->size);
	assert_int_equal(vx_fpu_ptrace_setregset(e->sys, e->fps, &pkru, note, b, len, &err), code);
	assert_int_equal(err.code, code);
	assert_memory_equal(before, e->fps->regs, e->fps->size);
	assert_int_equal(pkru, 0x77);
}

/* §7.1/§7.2 with the lengths of §12 and expectation 59. */
static void test_regsets(void **state)
{
	(void)state;
	for (unsigned p = 0; p < U_NPROFILES; p++) {
		struct u_env e;
		struct vx_error err = VX_ERROR_INIT;
		uint32_t max, pkru = 0x1234;
		size_t len;

		u_boot(&e, u_profiles[p], false);
		max = u_user_max(&e);
		assert_int_equal(vx_fpu_regset_size(e.sys, VX_NT_X86_XSTATE), max);
		assert_int_equal(vx_fpu_regset_size(e.sys, VX_NT_PRFPREG), 512);
		assert_int_equal(vx_fpu_regset_size(e.sys, 1), 0);
		u_random_state(&e, e.cpu, U_FP | U_SSE | U_YMM);
		vx_cpu_init_components(e.cpu, U_FP | U_SSE);
		vx_fpstate_save(e.sys, e.cpu, e.fps, NULL, &err);
		len = sizeof(buf);
		assert_int_equal(
		    vx_fpu_ptrace_getregset(e.sys, e.fps, pkru, VX_NT_X86_XSTATE, buf, &len, &err),
		    0);
		assert_int_equal(len, max);		      /* clamped */
		assert_int_equal(u_rd64(buf + 512) & 0x3, 0); /* FP|SSE not forced */
		assert_int_equal(u_rd64(buf + 464), vx_fpu_user_cfg(e.sys)->max_features);
		len = 13;
		assert_int_equal(
		    vx_fpu_ptrace_getregset(e.sys, e.fps, pkru, VX_NT_X86_XSTATE, buf, &len, &err),
		    -EINVAL);
		/* SET lengths: short multiple of 8 → EFAULT, odd → EINVAL, long → clamped */
		set_refused(&e, VX_NT_X86_XSTATE, buf, 0, -EFAULT);
		set_refused(&e, VX_NT_X86_XSTATE, buf, max - 8, -EFAULT);
		set_refused(&e, VX_NT_X86_XSTATE, buf, max - 1, -EINVAL);
		set_refused(&e, 0x99, buf, max, -EINVAL);
		u_wr32(buf + 24, 0x1F80 | VX_BIT(30));
		u_wr64(buf + 512, U_YMM);
		set_refused(&e, VX_NT_X86_XSTATE, buf, max, -EINVAL);
		u_wr64(buf + 512, 0x20000000);
		set_refused(&e, VX_NT_X86_XSTATE, buf, max, -EINVAL);
		u_wr64(buf + 512, 0);
		assert_int_equal(vx_fpu_ptrace_setregset(e.sys, e.fps, &pkru, VX_NT_X86_XSTATE, buf,
							 max + 4096, &err),
				 0);
		assert_int_equal(pkru, 0); /* expectation 57 */
		/* NT_PRFPREG: < 512 → EINVAL, longer accepted, bad MXCSR → EINVAL, FP|SSE set */
		set_refused(&e, VX_NT_PRFPREG, buf, 504, -EINVAL);
		set_refused(&e, VX_NT_PRFPREG, buf, 0, -EINVAL);
		set_refused(&e, VX_NT_PRFPREG, buf, 513, -EINVAL);
		set_refused(&e, VX_NT_PRFPREG, buf, 512, -EINVAL); /* MXCSR bit 30 */
		u_wr32(buf + 24, 0x1FC0);
		memset(buf + 160, 0x21, 256);
		assert_int_equal(
		    vx_fpu_ptrace_setregset(e.sys, e.fps, &pkru, VX_NT_PRFPREG, buf, 520, &err), 0);
		assert_int_equal(u_rd64(e.fps->regs + 512) & 0x3, 0x3);
		len = 1024;
		assert_int_equal(
		    vx_fpu_ptrace_getregset(e.sys, e.fps, pkru, VX_NT_PRFPREG, img, &len, &err), 0);
		assert_int_equal(len, 512);
		assert_memory_equal(img + 160, buf + 160, 256);
		assert_int_equal(u_rd32(img + 24), 0x1FC0);
		for (int b = 416; b < 512; b++)
			assert_int_equal(img[b], 0);
		u_free(&e);
	}
}

/* No XSAVE: NT_X86_XSTATE is -ENODEV, NT_PRFPREG the FXSAVE image, frames FXSAVE-only. */
static void test_no_xsave(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;
	struct vx_cpuid_regs r;
	struct u_env e;
	size_t len = 512;
	uint32_t pkru = 0;

	(void)state;
	assert_int_equal(vx_profile_builtin(&p, "zen4", &err), 0);
	r = vx_profile_leaf(&p, 1, 0);
	r.ecx &= ~(1u << 26);
	assert_int_equal(vx_profile_set_leaf(&p, 1, 0, &r), 0);
	u_boot_profile(&e, &p, false);
	assert_int_equal(
	    vx_fpu_ptrace_getregset(e.sys, e.fps, 0, VX_NT_X86_XSTATE, buf, &len, &err), -ENODEV);
	set_refused(&e, VX_NT_X86_XSTATE, buf, 512, -ENODEV);
	assert_int_equal(vx_fpu_ptrace_getregset(e.sys, e.fps, 0, VX_NT_PRFPREG, buf, &len, &err),
			 0);
	assert_memory_equal(buf, e.fps->regs, 512);
	assert_int_equal(
	    vx_fpu_ptrace_setregset(e.sys, e.fps, &pkru, VX_NT_PRFPREG, buf, 512, &err), 0);
	assert_int_equal(vx_fpu_sigframe_size(e.sys, e.fps), 512);
	assert_int_equal(vx_fpu_copy_fpstate_to_sigframe(e.sys, e.cpu, e.fps, 0, frame, 512, &err),
			 0);
	u_free(&e);
}

/* §8.4: NT_X86_XSAVE_LAYOUT, one entry per extended user max feature, CPUID's numbers. */
static void test_layout_note(void **state)
{
	(void)state;
	for (unsigned p = 0; p < U_NPROFILES; p++) {
		struct vx_xfeat_component c[VX_FPU_XFEATURE_MAX];
		struct u_env e;
		uint64_t max;
		unsigned n, k = 0;

		u_boot(&e, u_profiles[p], false);
		max = vx_fpu_user_cfg(e.sys)->max_features;
		n = vx_fpu_xsave_layout_note(e.sys, c, VX_FPU_XFEATURE_MAX);
		assert_int_equal(n, __builtin_popcountll(max & ~UINT64_C(3)));
		assert_int_equal(vx_fpu_xsave_layout_note(e.sys, NULL, 0), n);
		for (unsigned id = 2; id < VX_FPU_XFEATURE_MAX; id++) {
			struct vx_cpuid_regs r = vx_profile_leaf(&e.profile, 0xD, id);

			if (!(max & VX_BIT(id)))
				continue;
			assert_int_equal(c[k].type, id);
			assert_int_equal(c[k].size, r.eax);
			assert_int_equal(c[k].offset, r.ebx);
			assert_int_equal(c[k].flags, 0);
			k++;
		}
		u_free(&e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_layout),
	    cmocka_unit_test(test_frame_fault),
	    cmocka_unit_test(test_frame_amx_initopt),
	    cmocka_unit_test(test_sigreturn_roundtrip),
	    cmocka_unit_test(test_sigreturn_outcomes),
	    cmocka_unit_test(test_clear_user_states),
	    cmocka_unit_test(test_regsets),
	    cmocka_unit_test(test_no_xsave),
	    cmocka_unit_test(test_layout_note),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
