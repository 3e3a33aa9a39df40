/* SPDX-License-Identifier: MIT */
/*
 * Validity rules (arch.md §3): XCR0 (XSETBV, §3.1 and §10 items 1, 3, 5, 7, 9), IA32_XSS
 * (WRMSR, §3.2 and §10 item 25), IA32_XFD (§3.3) and the combined feature mask, on several
 * built-in profiles.  Table-driven: one row per (profile, value) with the expected verdict,
 * the offending bits, the rule cited and the MSR named.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/arch.h>

#define B(n) VX_BIT(n)

#define SPR    "sapphire-rapids"
#define ADL    "alder-lake"
#define SKX    "skylake-server"
#define ZEN4   "zen4"
#define APX    "future-intel-apx"
#define NESTED "nested-amx-hidden"

#define MSR_XSS 0xDA0u
#define MSR_XFD 0x1C4u

static const char *const all_profiles[] = {SPR, ADL, SKX, ZEN4, APX, NESTED};
#define N_ALL (sizeof(all_profiles) / sizeof(all_profiles[0]))

static void load(struct vx_profile *p, const char *name)
{
	struct vx_error err = VX_ERROR_INIT;
	int ret = vx_profile_builtin(p, name, &err);

	if (ret != 0)
		fail_msg("vx_profile_builtin(%s) = %d: %s", name, ret, err.reason);
}

static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++) {
		size_t i;

		for (i = 0; i < n; i++) {
			char a = hay[i], b = needle[i];

			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (a != b)
				break;
		}
		if (i == n)
			return true;
	}
	return false;
}

enum which { XCR0, XSS, XFD, FEATURES };

static const char *const which_name[] = {"XCR0", "IA32_XSS", "IA32_XFD", "features"};

struct rule_case {
	const char *profile;
	uint64_t value;
	bool ok;
	uint64_t bits;      /* expected err->bits when !ok (0: the call fails before any bit) */
	const char *rule;   /* text err->rule must contain, NULL = only non-NULL */
	const char *reason; /* extra text the reason must contain (case-insensitive), or NULL */
	uint32_t msr;       /* expected err->msr when !ok */
};

#define OK(p, v) {p, v, true, 0, NULL, NULL, 0}

static int run_check(enum which w, const struct vx_profile *p, uint64_t v, struct vx_error *err)
{
	switch (w) {
	case XCR0:
		return vx_xcr0_check(p, v, err);
	case XSS:
		return vx_xss_check(p, v, err);
	case XFD:
		return vx_xfd_check(p, v, err);
	case FEATURES:
		return vx_feature_mask_check(p, v, err);
	}
	return 0;
}

static void run_cases(enum which w, const struct rule_case *cases, size_t n)
{
	for (size_t c = 0; c < n; c++) {
		const struct rule_case *t = &cases[c];
		struct vx_profile p;
		struct vx_error err = VX_ERROR_INIT;
		char hex[32];

		load(&p, t->profile);
		int ret = run_check(w, &p, t->value, &err);

		if (t->ok) {
			if (ret != 0)
				fail_msg("%s %s 0x%llx: expected OK, got %d: %s", t->profile,
					 which_name[w], (unsigned long long)t->value, ret, err.reason);
			/* A NULL error record is allowed. */
			assert_int_equal(run_check(w, &p, t->value, NULL), 0);
			continue;
		}
		if (ret != -EINVAL)
			fail_msg("%s %s 0x%llx: expected -EINVAL, got %d", t->profile, which_name[w],
				 (unsigned long long)t->value, ret);
		if (err.code != -EINVAL)
			fail_msg("%s %s 0x%llx: err.code %d", t->profile, which_name[w],
				 (unsigned long long)t->value, err.code);
		if (!err.rule)
			fail_msg("%s %s 0x%llx: err.rule is NULL", t->profile, which_name[w],
				 (unsigned long long)t->value);
		if (t->rule && !strstr(err.rule, t->rule))
			fail_msg("%s %s 0x%llx: rule '%s' should cite '%s'", t->profile,
				 which_name[w], (unsigned long long)t->value, err.rule, t->rule);
		if (err.bits != t->bits)
			fail_msg("%s %s 0x%llx: err.bits 0x%llx, expected 0x%llx (%s)", t->profile,
				 which_name[w], (unsigned long long)t->value,
				 (unsigned long long)err.bits, (unsigned long long)t->bits, err.reason);
		if (t->bits) {
			snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)t->bits);
			if (!contains_nocase(err.reason, hex))
				fail_msg("%s %s 0x%llx: reason '%s' does not name the bits %s",
					 t->profile, which_name[w], (unsigned long long)t->value,
					 err.reason, hex);
		}
		if (t->reason && !contains_nocase(err.reason, t->reason))
			fail_msg("%s %s 0x%llx: reason '%s' should mention '%s'", t->profile,
				 which_name[w], (unsigned long long)t->value, err.reason, t->reason);
		if (err.msr != t->msr)
			fail_msg("%s %s 0x%llx: err.msr 0x%x, expected 0x%x", t->profile,
				 which_name[w], (unsigned long long)t->value, err.msr, t->msr);
		if (t->bits && (t->bits & (t->bits - 1)) == 0 && err.component >= 0 &&
		    B(err.component) != t->bits)
			fail_msg("%s %s 0x%llx: err.component %d is not the offending bit",
				 t->profile, which_name[w], (unsigned long long)t->value, err.component);
		assert_int_equal(run_check(w, &p, t->value, NULL), -EINVAL);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* XCR0 (§3.1)                                                                                  */

static const struct rule_case xcr0_cases[] = {
	/* §10 item 1 / rule 1: x87 must be set. */
	{SPR, 0x2, false, 0x1, "rule 1", "x87", 0},
	{ZEN4, 0x2, false, 0x1, "rule 1", "x87", 0},
	{SKX, 0x2, false, 0x1, "rule 1", "x87", 0},
	{ADL, 0x0, false, 0x1, "rule 1", "x87", 0},
	{SPR, 0x6, false, 0x1, "rule 1", "x87", 0},
	/* §10 item 3. */
	OK(SPR, 0x1), OK(SPR, 0x3), OK(ADL, 0x3), OK(SKX, 0x3),
	OK(ZEN4, 0x3), OK(APX, 0x3), OK(NESTED, 0x3), OK(SPR, 0x7),
	/* §10 item 5 / rule 3: AVX-512 without AVX; the bits are 5-7, the reason names AVX. */
	{SPR, 0xE3, false, 0xE0, "rule 3", "AVX", 0},
	{SKX, 0xE3, false, 0xE0, "rule 3", "AVX", 0},
	{ZEN4, 0xE3, false, 0xE0, "rule 3", "AVX", 0},
	{NESTED, 0xE3, false, 0xE0, "rule 3", "AVX", 0},
	/* Rule 3: all of 5-7 or none. */
	{SPR, 0x27, false, 0x20, "rule 3", "ZMM_Hi256", 0},
	{SPR, 0x67, false, 0x60, "rule 3", "Hi16_ZMM", 0},
	{ZEN4, 0xC7, false, 0xC0, "rule 3", "opmask", 0},
	OK(SPR, 0xE7), OK(ZEN4, 0xE7), OK(NESTED, 0xE7),
	/* Rule 2: AVX needs SSE. */
	{SPR, 0x5, false, 0x4, "rule 2", "SSE", 0},
	{ZEN4, 0x5, false, 0x4, "rule 2", "SSE", 0},
	{ADL, 0x205, false, 0x4, "rule 2", "SSE", 0},
	/* §10 item 7 / rule 4: MPX on an MPX CPU. */
	{SKX, 0x0F, false, 0x8, "rule 4", "BNDCSR", 0},
	{SKX, 0x17, false, 0x10, "rule 4", "BNDREGS", 0},
	OK(SKX, 0x1F), OK(SKX, 0x1B), OK(SKX, 0xFF), OK(SKX, 0x2FF),
	OK(SKX, 0x2E7),
	/* MPX where it is not enumerated: reserved bits (rule 6). */
	{SPR, 0x1F, false, 0x18, "rule 6", NULL, 0},
	{ZEN4, 0x1B, false, 0x18, "rule 6", NULL, 0},
	{APX, 0x1F, false, 0x18, "rule 6", NULL, 0},
	/* §10 item 9: supervisor bits 8, 11, 12 are reserved in XCR0 on every CPU. */
	{SPR, 0x3 | B(8), false, B(8), "rule 6", NULL, 0},
	{SPR, 0x3 | B(11), false, B(11), "rule 6", NULL, 0},
	{SPR, 0x3 | B(12), false, B(12), "rule 6", NULL, 0},
	{SPR, 0x3 | B(10), false, B(10), "rule 6", NULL, 0},
	{SPR, 0x3 | B(15), false, B(15), "rule 6", NULL, 0},
	{ADL, 0x3 | B(8), false, B(8), "rule 6", NULL, 0},
	{ADL, 0x3 | B(11), false, B(11), "rule 6", NULL, 0},
	{ADL, 0x3 | B(12), false, B(12), "rule 6", NULL, 0},
	{ADL, 0x3 | B(16), false, B(16), "rule 6", NULL, 0},
	{SKX, 0x3 | B(8), false, B(8), "rule 6", NULL, 0},
	{SKX, 0x3 | B(11), false, B(11), "rule 6", NULL, 0},
	{SKX, 0x3 | B(12), false, B(12), "rule 6", NULL, 0},
	{ZEN4, 0x3 | B(8), false, B(8), "rule 6", NULL, 0},
	{ZEN4, 0x3 | B(11), false, B(11), "rule 6", NULL, 0},
	{ZEN4, 0x3 | B(12), false, B(12), "rule 6", NULL, 0},
	{APX, 0x3 | B(8), false, B(8), "rule 6", NULL, 0},
	{APX, 0x3 | B(11), false, B(11), "rule 6", NULL, 0},
	{APX, 0x3 | B(12), false, B(12), "rule 6", NULL, 0},
	{NESTED, 0x3 | B(8), false, B(8), "rule 6", NULL, 0},
	{NESTED, 0x3 | B(11), false, B(11), "rule 6", NULL, 0},
	{NESTED, 0x3 | B(12), false, B(12), "rule 6", NULL, 0},
	{SPR, 0x2E7 | 0x1800, false, 0x1800, "rule 6", NULL, 0},
	/* Rule 5: AMX bits together. */
	{SPR, 0x20003, false, 0x20000, "rule 5", "XTILEDATA", 0},
	{SPR, 0x40003, false, 0x40000, "rule 5", "XTILECFG", 0},
	OK(SPR, 0x60003), OK(SPR, 0x602E7), OK(SPR, 0x60207),
	{APX, 0x20003, false, 0x20000, "rule 5", "XTILEDATA", 0},
	{ZEN4, 0x60003, false, 0x60000, "rule 6", NULL, 0},
	/* Nested guest: 0xD.0x11/0x12 present but the XCR0 mask says no. */
	{NESTED, 0x60003, false, 0x60000, "rule 6", NULL, 0},
	{NESTED, 0x207, false, 0x200, "rule 6", NULL, 0},
	/* Bit 63 and other high bits. */
	{SPR, 0x3 | B(63), false, B(63), "rule 6", "0x8000000000000000", 0},
	{ZEN4, 0x3 | B(63), false, B(63), "rule 6", NULL, 0},
	{SPR, 0x3 | B(32), false, B(32), "rule 6", NULL, 0},
	{SPR, 0x3 | B(62), false, B(62), "rule 6", NULL, 0}, /* LWP: AMD Fam15h only */
	/* Rule 7: APX has no pairing rule; it needs to be enumerated. */
	OK(APX, 0x80003), OK(APX, 0x80001), OK(APX, 0xE02E7),
	{SPR, 0x80003, false, 0x80000, "rule 6", NULL, 0},
	{ZEN4, 0x80003, false, 0x80000, "rule 6", NULL, 0},
	/* Alder Lake: no AVX-512. */
	{ADL, 0x2E7, false, 0xE0, "rule 6", NULL, 0},
	OK(ADL, 0x207), OK(ADL, 0x7), OK(ADL, 0x203),
	OK(ZEN4, 0x2E7), OK(ZEN4, 0x207),
	{NESTED, 0x2E7, false, 0x200, "rule 6", NULL, 0},
};

static void test_xcr0_rules(void **state)
{
	(void)state;
	run_cases(XCR0, xcr0_cases, sizeof(xcr0_cases) / sizeof(xcr0_cases[0]));
}

/* Every profile's header XCR0 and its full supported mask are valid; x87 alone is too. */
static void test_xcr0_supported_masks_valid(void **state)
{
	(void)state;
	for (size_t n = 0; n < N_ALL; n++) {
		struct vx_profile p;
		struct vx_error err = VX_ERROR_INIT;

		load(&p, all_profiles[n]);
		uint64_t sup = vx_profile_xcr0_supported(&p);

		if (vx_xcr0_check(&p, sup, &err) != 0)
			fail_msg("%s: supported XCR0 0x%llx rejected: %s", all_profiles[n],
				 (unsigned long long)sup, err.reason);
		if (vx_xcr0_check(&p, 0x1, &err) != 0)
			fail_msg("%s: XCR0 0x1 rejected: %s", all_profiles[n], err.reason);
		/* Every supervisor bit alone is reserved. */
		for (unsigned i = 0; i < 64; i++) {
			if (!(vx_supervisor_components() & B(i)))
				continue;
			vx_error_clear(&err);
			if (vx_xcr0_check(&p, 0x3 | B(i), &err) != -EINVAL || err.bits != B(i))
				fail_msg("%s: XCR0 with supervisor bit %u not rejected as reserved",
					 all_profiles[n], i);
		}
	}
}

/* XCR0 does not exist without XSAVE (CPUID.1:ECX[26]). */
static void test_xcr0_without_xsave(void **state)
{
	struct vx_profile p;
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	load(&p, SPR);
	struct vx_cpuid_regs r = vx_profile_leaf(&p, 1, 0);

	r.ecx &= ~(UINT32_C(1) << 26);
	assert_int_equal(vx_profile_set_leaf(&p, 1, 0, &r), 0);
	assert_int_equal(vx_xcr0_check(&p, 0x3, &err), -EINVAL);
	assert_non_null(err.rule);
	assert_true(strlen(err.reason) > 0);
	assert_int_equal(vx_profile_xcr0_supported(&p), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* IA32_XSS (§3.2)                                                                               */

static const struct rule_case xss_cases[] = {
	/* §10 item 25. */
	OK(SPR, 0x1800), OK(SPR, 0x0), OK(SPR, 0xDD00), OK(SPR, 0x8400),
	OK(SPR, 0x800), OK(SPR, 0x1000), /* no pairing rule between CET_U and CET_S */
	{SPR, B(63), false, B(63), "§3.2", "0x8000000000000000", MSR_XSS},
	{SPR, 0x1800 | B(63), false, B(63), "§3.2", NULL, MSR_XSS},
	/* User bits are never XSS bits. */
	{SPR, 0x2, false, 0x2, "§3.2", NULL, MSR_XSS},
	{SPR, 0x1, false, 0x1, "§3.2", NULL, MSR_XSS},
	{SPR, 0x200, false, 0x200, "§3.2", NULL, MSR_XSS},
	{SPR, 0x40000, false, 0x40000, "§3.2", NULL, MSR_XSS},
	{SPR, 0x1800 | 0x200, false, 0x200, "§3.2", NULL, MSR_XSS},
	/* Supervisor bits this CPU lacks. */
	{SPR, 0x2000, false, 0x2000, "§3.2", NULL, MSR_XSS}, /* HDC */
	{SPR, 0x10000, false, 0x10000, "§3.2", NULL, MSR_XSS}, /* HWP */
	OK(ADL, 0x19900), OK(ADL, 0x8800),
	{ADL, 0x400, false, 0x400, "§3.2", NULL, MSR_XSS}, /* no PASID */
	/* Skylake-SP: XSAVES with PT only, no CET. */
	OK(SKX, 0x100), OK(SKX, 0x0),
	{SKX, 0x1800, false, 0x1800, "§3.2", NULL, MSR_XSS},
	{SKX, 0x800, false, 0x800, "§3.2", NULL, MSR_XSS},
	/* Zen 4: CET_U/CET_S only. */
	OK(ZEN4, 0x1800), OK(ZEN4, 0x800),
	{ZEN4, 0x100, false, 0x100, "§3.2", NULL, MSR_XSS},
	{ZEN4, B(63), false, B(63), "§3.2", NULL, MSR_XSS},
	/* Nested guest: XSAVES exists but no XSS bit is supported. */
	OK(NESTED, 0x0),
	{NESTED, 0x800, false, 0x800, "§3.2", NULL, MSR_XSS},
};

static void test_xss_rules(void **state)
{
	(void)state;
	run_cases(XSS, xss_cases, sizeof(xss_cases) / sizeof(xss_cases[0]));
}

/* Without XSAVES the MSR itself does not exist: even 0 fails, and the error says so. */
static void test_xss_without_xsaves(void **state)
{
	struct vx_profile p;
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	load(&p, SPR);
	struct vx_cpuid_regs r = vx_profile_leaf(&p, 0xD, 1);

	r.eax &= ~(UINT32_C(1) << 3);
	assert_int_equal(vx_profile_set_leaf(&p, 0xD, 1, &r), 0);
	assert_false(vx_profile_has(&p, VX_FEAT_XSAVES));
	assert_int_equal(vx_profile_xss_supported(&p), 0);
	for (int k = 0; k < 2; k++) {
		uint64_t xss = k ? 0x1800 : 0;

		vx_error_clear(&err);
		assert_int_equal(vx_xss_check(&p, xss, &err), -EINVAL);
		assert_int_equal(err.code, -EINVAL);
		assert_int_equal(err.msr, MSR_XSS);
		assert_non_null(err.rule);
		if (!contains_nocase(err.reason, "not exist") && !contains_nocase(err.reason, "no such"))
			fail_msg("XSS 0x%llx without XSAVES: reason '%s' should say the MSR does not "
				 "exist",
				 (unsigned long long)xss, err.reason);
		if (!contains_nocase(err.reason, "XSAVES"))
			fail_msg("reason '%s' should name XSAVES", err.reason);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* IA32_XFD (§3.3)                                                                               */

static const struct rule_case xfd_cases[] = {
	OK(SPR, 0x40000), OK(SPR, 0x0), OK(APX, 0x40000),
	/* TILECFG is not XFD-capable (0xD.0x11 ECX[2] = 0). */
	{SPR, 0x20000, false, 0x20000, "§3.3", "XTILECFG", MSR_XFD},
	{SPR, 0x60000, false, 0x20000, "§3.3", NULL, MSR_XFD},
	{SPR, 0x4, false, 0x4, "§3.3", NULL, MSR_XFD},
	{SPR, 0x1, false, 0x1, "§3.3", NULL, MSR_XFD},
	{SPR, B(63), false, B(63), "§3.3", NULL, MSR_XFD},
	{APX, 0x80000, false, 0x80000, "§3.3", NULL, MSR_XFD},
	/* No XFD at all on Zen 4, Alder Lake, Skylake-SP: the MSR does not exist. */
	{ZEN4, 0x40000, false, 0, "§3.3", "not exist", MSR_XFD},
	{ZEN4, 0x0, false, 0, "§3.3", "not exist", MSR_XFD},
	{ZEN4, 0x4, false, 0, "§3.3", NULL, MSR_XFD},
	{ADL, 0x40000, false, 0, "§3.3", NULL, MSR_XFD},
	{SKX, 0x0, false, 0, "§3.3", NULL, MSR_XFD},
	/* Nested guest: TILEDATA still says XFD-capable, but XFD is not enumerated. */
	{NESTED, 0x40000, false, 0, "§3.3", NULL, MSR_XFD},
};

static void test_xfd_rules(void **state)
{
	struct vx_profile p;

	(void)state;
	run_cases(XFD, xfd_cases, sizeof(xfd_cases) / sizeof(xfd_cases[0]));
	load(&p, NESTED);
	assert_int_equal(vx_profile_xfd_supported(&p), 0);
	load(&p, SPR);
	assert_int_equal(vx_profile_xfd_supported(&p), B(18));
}

/* ------------------------------------------------------------------------------------------ */
/* The combined XCR0|XSS feature mask: user part through XCR0 rules, supervisor part XSS.       */

static const struct rule_case feature_cases[] = {
	OK(SPR, 0x602E7 | 0x8400), OK(SPR, 0x2E7 | 0x1800), OK(SPR, 0x3),
	OK(ZEN4, 0x2E7 | 0x1800), OK(SKX, 0x2FF | 0x100), OK(ADL, 0x207 | 0x19900),
	OK(APX, 0xE02E7 | 0xDD00),
	/* A bad user part: XCR0 rules, no MSR. */
	{SPR, 0xE3 | 0x1800, false, 0xE0, "rule 3", "AVX", 0},
	{SPR, 0x5 | 0x1800, false, 0x4, "rule 2", NULL, 0},
	{SPR, 0x1F | 0x1800, false, 0x18, "rule 6", NULL, 0},
	{SPR, 0x3 | B(63), false, B(63), "rule 6", NULL, 0},
	/* Supervisor bits only: the user part 0 lacks x87. */
	{SPR, 0x1800, false, 0x1, "rule 1", NULL, 0},
	/* A bad supervisor part: IA32_XSS rules, the MSR named. */
	{SPR, 0x2E7 | 0x2000, false, 0x2000, "§3.2", NULL, MSR_XSS},
	{SKX, 0x2E7 | 0x800, false, 0x800, "§3.2", NULL, MSR_XSS},
	{ZEN4, 0x2E7 | 0x100, false, 0x100, "§3.2", NULL, MSR_XSS},
	{NESTED, 0xE7 | 0x800, false, 0x800, "§3.2", NULL, MSR_XSS},
	/* Both parts bad: the user part is reported. */
	{SKX, 0x0F | 0x800, false, 0x8, "rule 4", NULL, 0},
};

static void test_feature_mask_rules(void **state)
{
	(void)state;
	run_cases(FEATURES, feature_cases, sizeof(feature_cases) / sizeof(feature_cases[0]));
}

/* vx_feature_mask_check == xcr0_check(user part) && xss_check(supervisor part), exhaustively
 * over the masks made of each profile's supported bits plus a few invalid ones. */
static void test_feature_mask_split(void **state)
{
	(void)state;
	for (size_t n = 0; n < N_ALL; n++) {
		struct vx_profile p;

		load(&p, all_profiles[n]);
		uint64_t sup = vx_profile_xcr0_supported(&p) | vx_profile_xss_supported(&p) | B(3) |
			       B(13) | B(18);
		unsigned bits[64], nbits = 0;

		for (unsigned i = 0; i < 64; i++)
			if (sup & B(i))
				bits[nbits++] = i;
		if (nbits > 16)
			nbits = 16;
		for (uint64_t idx = 0; idx < (UINT64_C(1) << nbits); idx++) {
			uint64_t m = 0;

			for (unsigned b = 0; b < nbits; b++)
				if (idx & B(b))
					m |= B(bits[b]);
			uint64_t user = m & ~vx_supervisor_components();
			uint64_t super = m & vx_supervisor_components();
			bool expect = vx_xcr0_check(&p, user, NULL) == 0 &&
				      (!super || vx_xss_check(&p, super, NULL) == 0);
			bool got = vx_feature_mask_check(&p, m, NULL) == 0;

			if (got != expect)
				fail_msg("%s: feature mask 0x%llx: check says %d, XCR0/XSS parts say %d",
					 all_profiles[n], (unsigned long long)m, got, expect);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xcr0_rules),
		cmocka_unit_test(test_xcr0_supported_masks_valid),
		cmocka_unit_test(test_xcr0_without_xsave),
		cmocka_unit_test(test_xss_rules),
		cmocka_unit_test(test_xss_without_xsaves),
		cmocka_unit_test(test_xfd_rules),
		cmocka_unit_test(test_feature_mask_rules),
		cmocka_unit_test(test_feature_mask_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
