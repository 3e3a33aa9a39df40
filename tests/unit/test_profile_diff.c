/* SPDX-License-Identifier: MIT */
/*
 * vx_profile_diff() (docs/profiles.md "Comparing profiles") on every pair of built-in
 * profiles: A against A is identical; diff(B, A) is diff(A, B) mirrored; a profile derived by
 * taking features away is a compatible subset of its base.  Plus verdicts worked out by hand
 * from the profiles' 0xD tables (profiles/README.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include <vxsave/arch.h>

static struct vx_profile load(const char *name)
{
	struct vx_profile p;
	struct vx_error err = VX_ERROR_INIT;

	if (vx_profile_builtin(&p, name, &err) != 0)
		fail_msg("vx_profile_builtin(%s): %s", name, err.reason);
	return p;
}

static enum vx_profile_relation mirrored(enum vx_profile_relation r)
{
	if (r == VX_PROFILES_SUPERSET)
		return VX_PROFILES_SUBSET;
	if (r == VX_PROFILES_SUBSET)
		return VX_PROFILES_SUPERSET;
	return r;
}

static void assert_mirror(const struct vx_profile_diff *ab, const struct vx_profile_diff *ba)
{
	assert_int_equal(ba->relation, mirrored(ab->relation));
	assert_int_equal(ab->features_only_a, ba->features_only_b);
	assert_int_equal(ab->features_only_b, ba->features_only_a);
	assert_int_equal(ab->xcr0_only_a, ba->xcr0_only_b);
	assert_int_equal(ab->xss_only_a, ba->xss_only_b);
	assert_int_equal(ab->xfd_only_a, ba->xfd_only_b);
	assert_int_equal(ab->components_differ, ba->components_differ);
	assert_int_equal(ab->raw_differences, ba->raw_differences);
	for (unsigned w = 0; w < VX_PROFILE_FEATURE_WORDS; w++)
		assert_int_equal(ab->word_only_a[w], ba->word_only_b[w]);
}

static void test_every_pair(void **state)
{
	unsigned n = vx_builtin_profile_count();

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		struct vx_profile a = load(vx_builtin_profile_name(i));
		struct vx_profile_diff self;

		vx_profile_diff(&a, &a, &self);
		if (self.relation != VX_PROFILES_IDENTICAL)
			fail_msg("%s vs itself: %s", a.name,
				 vx_profile_relation_name(self.relation));
		assert_int_equal(self.raw_differences, 0);
		for (unsigned j = 0; j < n; j++) {
			struct vx_profile b = load(vx_builtin_profile_name(j));
			struct vx_profile_diff ab, ba;

			vx_profile_diff(&a, &b, &ab);
			vx_profile_diff(&b, &a, &ba);
			assert_mirror(&ab, &ba);
			/* Another vendor is never compatible (AMD and Intel place AVX-512 apart).
			 */
			if (vx_profile_vendor(&a) != vx_profile_vendor(&b))
				assert_int_equal(ab.relation, VX_PROFILES_DIFFER);
			if (i != j && ab.relation == VX_PROFILES_IDENTICAL)
				fail_msg("%s and %s identical", a.name, b.name);
		}
	}
}

struct expected {
	const char *a, *b;
	enum vx_profile_relation relation;
};

/*
 * By hand: Granite Rapids adds HWP (XSS bit 16), AMX-FP16, CET_SSS and AVX10 to Sapphire
 * Rapids with every shared component at the same place.  Zen 4 and Zen 5 share the AMD layout
 * and the masks 0x2e7 / 0x1800; Zen 5's flag words hold all of Zen 4's plus 7.0 EBX[1],
 * 7.0 ECX[24,27,28], 7.0 EDX[8] and 7.1 EAX[4] (compared word by word in Python over the two
 * .cpuid files).  Skylake's MPX sits at 960, where APX sits on the APX part.
 */
static void test_known_verdicts(void **state)
{
	static const struct expected cases[] = {
	    {"sapphire-rapids", "granite-rapids", VX_PROFILES_SUBSET},
	    {"granite-rapids", "sapphire-rapids", VX_PROFILES_SUPERSET},
	    {"zen4", "sapphire-rapids", VX_PROFILES_DIFFER},
	    {"zen4", "zen5", VX_PROFILES_SUBSET},
	    {"skylake-server", "future-intel-apx", VX_PROFILES_DIFFER},
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct vx_profile a = load(cases[c].a), b = load(cases[c].b);
		struct vx_profile_diff d;

		vx_profile_diff(&a, &b, &d);
		if (d.relation != cases[c].relation)
			fail_msg("%s vs %s: %s, expected %s", cases[c].a, cases[c].b,
				 vx_profile_relation_name(d.relation),
				 vx_profile_relation_name(cases[c].relation));
	}
	struct vx_profile spr = load("sapphire-rapids"), gnr = load("granite-rapids");
	struct vx_profile_diff d;

	vx_profile_diff(&spr, &gnr, &d);
	assert_int_equal(d.xss_only_b, VX_BIT(16)); /* HWP */
	assert_int_equal(d.xcr0_only_a | d.xcr0_only_b, 0);
	assert_int_equal(d.components_differ, 0);
	assert_true(d.identity_differs);
	assert_true(d.features_only_b & VX_BIT(VX_FEAT_AMX_FP16));
}

/* Derived profiles are compatible subsets of their base, whatever the base. */
static void test_derived_subsets(void **state)
{
	static const char *const toggles[] = {"-amx", "-avx512", "-cet", "-xsaves", "-pku,-pt"};

	(void)state;
	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		const char *name = vx_builtin_profile_name(i);

		if (strcmp(name, "nested-amx-hidden") == 0)
			continue;
		for (size_t t = 0; t < sizeof(toggles) / sizeof(toggles[0]); t++) {
			struct vx_profile base = load(name), derived = base;
			struct vx_error err = VX_ERROR_INIT;
			struct vx_profile_diff d;

			assert_int_equal(vx_profile_derive(&derived, toggles[t], &err), 0);
			vx_profile_diff(&derived, &base, &d);
			if (d.relation != VX_PROFILES_SUBSET && d.relation != VX_PROFILES_IDENTICAL)
				fail_msg("%s,%s vs %s: %s", name, toggles[t], name,
					 vx_profile_relation_name(d.relation));
			/* Identical only when the base had nothing to remove. */
			if (d.relation == VX_PROFILES_IDENTICAL)
				assert_int_equal(vx_profile_compare(&derived, &base, NULL), 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_pair),
	    cmocka_unit_test(test_known_verdicts),
	    cmocka_unit_test(test_derived_subsets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
