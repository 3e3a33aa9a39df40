/* SPDX-License-Identifier: MIT */
/*
 * What each CET_S design costs in memory (issue 7, `make bench` table): the fpstate bytes per
 * host thread (kernel default size) and per vCPU (guest_default_cfg.size) on every built-in
 * profile and design equal the architectural minimum computed here from the profile's CPUID
 * leaf 0xD: 576 + the components >= 2 in the default features, each aligned to 64 bytes where
 * ECX[1] says so (compacted format; without XSAVEC/XSAVES the end of the last standard-format
 * component).  The per-thread difference between all-tasks and
 * guest-only is the CET_S cost: its 24 bytes, or what alignment makes of them.  The fpu size
 * functions are never used for the expectation.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>

#include <vxsave/fpu.h>

#define M_XTILEDATA 18u
#define M_CET_S	    12u
#define M_BIT(n)    (UINT64_C(1) << (n))

/* The kernel's xsave_cpuid_features[] (linux-fpu.md §1): the CPU flag each component needs. */
static bool m_gate(const struct vx_profile *p, unsigned id)
{
	switch (id) {
	case 0:
	case 1:
		return true;
	case 2:
		return vx_profile_has(p, VX_FEAT_AVX);
	case 3:
	case 4:
		return vx_profile_has(p, VX_FEAT_MPX);
	case 5:
	case 6:
	case 7:
		return vx_profile_has(p, VX_FEAT_AVX512F);
	case 9:
		return vx_profile_has(p, VX_FEAT_PKU);
	case 10:
		return vx_profile_has(p, VX_FEAT_ENQCMD);
	case 11:
	case 12:
		return vx_profile_has(p, VX_FEAT_CET_SS);
	case 17:
	case 18: /* AMX needs XFD, which needs XSAVES and XGETBV1 (cpuid-deps) */
		return vx_profile_has(p, VX_FEAT_AMX_TILE) && vx_profile_has(p, VX_FEAT_XFD) &&
		       vx_profile_has(p, VX_FEAT_XSAVES) && vx_profile_has(p, VX_FEAT_XGETBV1);
	case 19:
		return vx_profile_has(p, VX_FEAT_APX_F);
	default:
		return false;
	}
}

/* The kernel max features from leaf 0xD: user (XCR0) and, with XSAVES, supervisor (XSS) ones. */
static uint64_t m_max_features(const struct vx_profile *p, bool cet_s)
{
	struct vx_cpuid_regs l0 = vx_profile_leaf(p, 0xD, 0), l1 = vx_profile_leaf(p, 0xD, 1);
	uint64_t user = ((uint64_t)l0.edx << 32 | l0.eax) & UINT64_C(0xE02FF);
	uint64_t super = ((uint64_t)l1.edx << 32 | l1.ecx) & (M_BIT(10) | M_BIT(11));
	uint64_t max = 0;

	if (cet_s)
		super |= ((uint64_t)l1.edx << 32 | l1.ecx) & M_BIT(M_CET_S);
	if (!vx_profile_has(p, VX_FEAT_XSAVES))
		super = 0;
	for (unsigned id = 0; id < 20; id++)
		if (((user | super) & M_BIT(id)) && m_gate(p, id))
			max |= M_BIT(id);
	return max;
}

/* Compacted size of @mask straight from CPUID.(0xD,i): EAX size, ECX[1] 64-byte alignment. */
static uint32_t m_compacted_size(const struct vx_profile *p, uint64_t mask)
{
	uint32_t size = 576;

	for (unsigned id = 2; id < 63; id++) {
		struct vx_cpuid_regs leaf = vx_profile_leaf(p, 0xD, id);

		if (!(mask & M_BIT(id)))
			continue;
		if (leaf.ecx & 0x2)
			size = (size + 63u) & ~63u;
		size += leaf.eax;
	}
	return size;
}

/* Standard-format size (no XSAVEC/XSAVES): the end of the last component, EBX + EAX. */
static uint32_t m_standard_size(const struct vx_profile *p, uint64_t mask)
{
	uint32_t size = 576;

	for (unsigned id = 2; id < 63; id++) {
		struct vx_cpuid_regs leaf = vx_profile_leaf(p, 0xD, id);

		if ((mask & M_BIT(id)) && leaf.ebx + leaf.eax > size)
			size = leaf.ebx + leaf.eax;
	}
	return size;
}

static uint32_t m_size(const struct vx_profile *p, uint64_t mask)
{
	if (vx_profile_has(p, VX_FEAT_XSAVEC) || vx_profile_has(p, VX_FEAT_XSAVES))
		return m_compacted_size(p, mask);
	return m_standard_size(p, mask);
}

struct m_sizes {
	uint32_t thread, vcpu;
};

/* The architectural minimum for @design: thread = host defaults, vCPU = guest defaults. */
static struct m_sizes m_expected(const struct vx_profile *p, enum vx_fpu_cet_design design)
{
	uint64_t max = m_max_features(p, design != VX_FPU_CET_UNSUPPORTED) & ~M_BIT(M_XTILEDATA);
	uint64_t thread = max;
	struct m_sizes s;

	if (design == VX_FPU_CET_GUEST_ONLY)
		thread &= ~M_BIT(M_CET_S);
	s.thread = m_size(p, thread);
	s.vcpu = m_size(p, max);
	return s;
}

/* What the booted system holds: false if it runs without XSAVE. */
static bool m_booted(const struct vx_profile *p, enum vx_fpu_cet_design design, struct m_sizes *s)
{
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_system *sys = NULL;
	bool ok;

	config.cet_design = design;
	if (vx_fpu_system_create(p, &config, &sys, &err) != 0)
		fail_msg("boot of %s failed: %s", p->name, err.reason);
	ok = vx_fpu_xsave_status(sys) == VX_FPU_XSAVE_ENABLED;
	s->thread = vx_fpu_kernel_cfg(sys)->default_size;
	s->vcpu = vx_fpu_guest_cfg(sys)->size;
	vx_fpu_system_destroy(sys);
	return ok;
}

static void m_load(struct vx_profile *p, unsigned index)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_profile_builtin(p, vx_builtin_profile_name(index), &err) != 0)
		fail_msg("profile %s: %s", vx_builtin_profile_name(index), err.reason);
}

/* Every built-in profile and design: booted sizes = the minimum from leaf 0xD. */
static void test_sizes_are_architectural_minimum(void **state)
{
	unsigned checked = 0;

	(void)state;
	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		struct vx_profile p;

		m_load(&p, i);
		for (int d = 0; d < VX_FPU_CET_DESIGN_COUNT; d++) {
			struct m_sizes got, want = m_expected(&p, (enum vx_fpu_cet_design)d);

			if (!m_booted(&p, (enum vx_fpu_cet_design)d, &got)) {
				print_message("%s: no XSAVE, skipped\n", p.name);
				continue;
			}
			if (got.thread != want.thread || got.vcpu != want.vcpu)
				fail_msg("%s %s: %u/%u, leaf 0xD says %u/%u", p.name,
					 vx_fpu_cet_design_name((enum vx_fpu_cet_design)d),
					 got.thread, got.vcpu, want.thread, want.vcpu);
			checked++;
		}
	}
	assert_int_equal(checked, 3 * vx_builtin_profile_count());
}

/* The CET_S cost per thread: all-tasks minus guest-only = what CET_S adds in leaf 0xD terms. */
static void test_cet_s_cost_per_thread(void **state)
{
	(void)state;
	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		struct vx_profile p;
		struct m_sizes all, guest, unsup;

		m_load(&p, i);
		if (!m_booted(&p, VX_FPU_CET_ALL_TASKS, &all) ||
		    !m_booted(&p, VX_FPU_CET_GUEST_ONLY, &guest) ||
		    !m_booted(&p, VX_FPU_CET_UNSUPPORTED, &unsup))
			continue;
		uint64_t max = m_max_features(&p, true) & ~M_BIT(M_XTILEDATA);
		uint32_t cost = m_size(&p, max) - m_size(&p, max & ~M_BIT(M_CET_S));

		assert_int_equal(all.thread - guest.thread, cost);
		assert_int_equal(guest.vcpu - guest.thread, cost);
		assert_int_equal(unsup.thread, guest.thread);
		assert_int_equal(unsup.vcpu, unsup.thread);
		/* 24 bytes (leaf 0xD,12), less what the next 64-byte aligned component absorbs. */
		if (max & M_BIT(M_CET_S))
			assert_true(cost <= vx_profile_leaf(&p, 0xD, M_CET_S).eax + 63);
		else
			assert_int_equal(cost, 0);
	}
}

/* docs/fpu.md's table: 24 B on Zen 4 and Alder Lake, absorbed by XTILECFG on Sapphire Rapids. */
static void test_cet_s_cost_documented(void **state)
{
	static const struct {
		const char *name;
		uint32_t thread, vcpu;
	} rows[] = {
	    {"zen4", 2456, 2480}, {"alder-lake", 856, 880}, {"sapphire-rapids", 2560, 2560}};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vx_profile p;
		struct m_sizes want;

		assert_int_equal(vx_profile_builtin(&p, rows[i].name, NULL), 0);
		want = m_expected(&p, VX_FPU_CET_GUEST_ONLY);
		assert_int_equal(want.thread, rows[i].thread);
		assert_int_equal(want.vcpu, rows[i].vcpu);
		assert_int_equal(vx_profile_leaf(&p, 0xD, M_CET_S).eax, 24);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes_are_architectural_minimum),
	    cmocka_unit_test(test_cet_s_cost_per_thread),
	    cmocka_unit_test(test_cet_s_cost_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
