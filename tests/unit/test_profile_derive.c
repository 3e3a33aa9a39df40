/* SPDX-License-Identifier: MIT */
/*
 * Derived profiles (vx_profile_derive, docs/profiles.md "Derived profiles"): each toggle on a
 * real CPU checked against leaves computed by hand from the SDM's rules (sizes below are sums
 * of the profile's own 0xD sub-leaf sizes and offsets, written out), refusals that leave the
 * profile unchanged, and properties over every built-in profile and every toggle.  Also the
 * InstLatx64 parser on a fixture holding the same values as a built-in profile.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include <vxsave/arch.h>

#define B(n) VX_BIT(n)

static struct vx_profile load(const char *name)
{
	struct vx_profile p;
	struct vx_error err = VX_ERROR_INIT;

	if (vx_profile_builtin(&p, name, &err) != 0)
		fail_msg("vx_profile_builtin(%s): %s", name, err.reason);
	return p;
}

static struct vx_profile derive(const char *base, const char *toggles)
{
	struct vx_profile p = load(base);
	struct vx_error err = VX_ERROR_INIT;

	if (vx_profile_derive(&p, toggles, &err) != 0)
		fail_msg("derive %s,%s: %s", base, toggles, err.reason);
	return p;
}

static struct vx_cpuid_regs leaf(const struct vx_profile *p, uint32_t l, uint32_t s)
{
	return vx_profile_leaf(p, l, s);
}

static void assert_zero_leaf(const struct vx_profile *p, uint32_t l, uint32_t s)
{
	struct vx_cpuid_regs r = leaf(p, l, s);

	if (r.eax | r.ebx | r.ecx | r.edx)
		fail_msg("%s: leaf 0x%x.%u is not zero", p->name, l, s);
}

static unsigned errors_of(const struct vx_profile *p)
{
	struct vx_diagnostic d[64];
	unsigned n = vx_profile_diagnose(p, d, 64), errors = 0;

	for (unsigned i = 0; i < n && i < 64; i++)
		if (d[i].severity == VX_DIAG_ERROR) {
			print_message("%s: %s\n", p->name, d[i].message);
			errors++;
		}
	return errors;
}

/* SPR -amx: XCR0 mask 0x602e7 -> 0x2e7; standard size = PKRU 2688 + 8 = 2696; compacted of
 * 0x2e7 | XSS 0x8400 = 576 + 256 + 64 + 512 + 1024 + 8 (PKRU) + 8 (PASID) + 808 (LBR) = 3256. */
static void test_spr_minus_amx(void **state)
{
	struct vx_profile p = derive("sapphire-rapids", "-amx");

	(void)state;
	assert_string_equal(p.name, "sapphire-rapids,-amx");
	assert_int_equal(leaf(&p, 0xD, 0).eax, 0x2e7);
	assert_int_equal(leaf(&p, 0xD, 0).ecx, 2696);
	assert_int_equal(leaf(&p, 0xD, 0).ebx, 2696);
	assert_int_equal(p.xcr0_at_capture, 0x2e7);
	assert_int_equal(leaf(&p, 0xD, 1).ecx, 0xdd00);
	assert_int_equal(leaf(&p, 0xD, 1).ebx, 3256);
	assert_int_equal(leaf(&p, 0xD, 1).eax, 0x1f); /* XFD itself stays */
	assert_zero_leaf(&p, 0xD, 17);
	assert_zero_leaf(&p, 0xD, 18);
	assert_zero_leaf(&p, 0x1D, 0);
	assert_zero_leaf(&p, 0x1D, 1);
	assert_zero_leaf(&p, 0x1E, 0);
	/* 7.0 EDX: AMX-BF16 (22), AMX-TILE (24), AMX-INT8 (25) clear; the rest as SPR has it. */
	assert_int_equal(leaf(&p, 7, 0).edx, 0xffdd4430u & ~(B(22) | B(24) | B(25)));
	assert_int_equal(vx_profile_xfd_supported(&p), 0);
	assert_int_equal(errors_of(&p), 0);
}

/* SPR -avx: AVX and AVX-512 go (SDM Vol. 1 §13.3: bits 5-7 need bit 2).  XCR0 mask 0x60203;
 * standard size still 11008 (TILEDATA 2816 + 8192); compacted of 0x60203 | 0x8400:
 * 576 + 8 (PKRU) + 8 (PASID) + 808 (LBR) = 1400, align 1408, + 64 = 1472, + 8192 = 9664. */
static void test_spr_minus_avx(void **state)
{
	struct vx_profile p = derive("sapphire-rapids", "-avx");

	(void)state;
	assert_int_equal(leaf(&p, 0xD, 0).eax, 0x60203);
	assert_int_equal(leaf(&p, 0xD, 0).ecx, 11008);
	assert_int_equal(leaf(&p, 0xD, 0).ebx, 11008);
	assert_int_equal(leaf(&p, 0xD, 1).ebx, 9664);
	for (unsigned i = 2; i <= 7; i++)
		if (i == 2 || i >= 5)
			assert_zero_leaf(&p, 0xD, i);
	assert_false(vx_profile_has(&p, VX_FEAT_AVX));
	assert_false(vx_profile_has(&p, VX_FEAT_AVX512F));
	assert_int_equal(leaf(&p, 1, 0).ecx & (B(12) | B(28) | B(29)), 0); /* FMA, AVX, F16C */
	assert_int_equal(leaf(&p, 7, 0).ebx & (B(5) | B(16) | B(31)), 0);  /* AVX2, F, VL */
	assert_true(vx_profile_has(&p, VX_FEAT_AMX_TILE));
	assert_int_equal(errors_of(&p), 0);
}

/* SPR -xsaves: no IA32_XSS, CET goes with it; 0xD.1 EBX = compacted XCR0 0x602e7 alone =
 * 576 + 256 + 64 + 512 + 1024 + 8 = 2440, align 2496 + 64 = 2560, + 8192 = 10752. */
static void test_spr_minus_xsaves(void **state)
{
	struct vx_profile p = derive("sapphire-rapids", "-xsaves");

	(void)state;
	assert_int_equal(leaf(&p, 0xD, 1).eax, 0x17);
	assert_int_equal(leaf(&p, 0xD, 1).ecx, 0);
	assert_int_equal(leaf(&p, 0xD, 1).ebx, 10752);
	assert_int_equal(p.xss_at_capture, 0);
	assert_false(vx_profile_has(&p, VX_FEAT_CET_SS));
	assert_false(vx_profile_has(&p, VX_FEAT_CET_IBT));
	for (unsigned i = 8; i <= 15; i++)
		if (i != 9 && i != 13)
			assert_zero_leaf(&p, 0xD, i);
	assert_true(vx_profile_has(&p, VX_FEAT_PT)); /* usable through its MSRs */
	assert_int_equal(errors_of(&p), 0);
}

/* CET_U serves both CET features, CET_S only shadow stacks (SDM Vol. 1 §13.1, §17.2). */
static void test_cet_components(void **state)
{
	struct vx_profile spr = derive("sapphire-rapids", "-cet_ss");
	struct vx_profile zen4 = derive("zen4", "-shstk");
	struct vx_profile both = derive("sapphire-rapids", "-cet");

	(void)state;
	assert_int_equal(leaf(&spr, 0xD, 1).ecx, 0xcd00); /* CET_U stays for IBT */
	assert_true(vx_profile_has(&spr, VX_FEAT_CET_IBT));
	assert_false(vx_profile_has(&spr, VX_FEAT_CET_SSS));
	assert_int_equal(leaf(&zen4, 0xD, 1).ecx, 0); /* Zen 4 has no IBT: both go */
	assert_int_equal(zen4.xss_at_capture, 0);
	assert_int_equal(leaf(&zen4, 0xD, 1).ebx, 2440); /* compacted 0x2e7 */
	assert_string_equal(zen4.name, "zen4,-cet_ss");
	assert_int_equal(leaf(&both, 0xD, 1).ecx, 0xc500);
	assert_int_equal(errors_of(&spr) + errors_of(&zen4) + errors_of(&both), 0);
}

static void test_minus_xsave(void **state)
{
	struct vx_profile p = derive("zen4", "-xsave");

	(void)state;
	for (unsigned s = 0; s < 64; s++)
		assert_zero_leaf(&p, 0xD, s);
	assert_int_equal(leaf(&p, 1, 0).ecx & (B(26) | B(27) | B(28)), 0);
	assert_int_equal(vx_profile_xcr0_supported(&p), 0);
	assert_int_equal(p.xcr0_at_capture, 0);
	assert_false(vx_profile_has(&p, VX_FEAT_PKU));
	assert_int_equal(errors_of(&p), 0);
}

/* Without XSAVEC and XSAVES, 0xD.1 EBX is 0 (SDM Vol. 2A CPUID leaf 0xD; zhaoxin-kh40000). */
static void test_minus_xsavec(void **state)
{
	struct vx_profile p = derive("zen4", "-xsavec");

	(void)state;
	assert_int_equal(leaf(&p, 0xD, 1).eax, 0x5); /* XSAVEOPT, XGETBV1 */
	assert_int_equal(leaf(&p, 0xD, 1).ebx, 0);
	assert_int_equal(leaf(&p, 0xD, 1).ecx, 0);
	assert_false(vx_profile_has(&p, VX_FEAT_CET_SS));
}

static void test_plus_undoes_minus(void **state)
{
	struct vx_profile base = load("sapphire-rapids");
	struct vx_profile p = derive("sapphire-rapids", "-avx512, -amx ,+AVX512,+amx_tile");
	struct vx_profile_difference first;

	(void)state;
	assert_int_equal(vx_profile_compare(&base, &p, &first), 0);
	assert_string_equal(p.name, "sapphire-rapids,-avx512,-amx,+avx512,+amx");
	assert_non_null(strstr(p.source, "derived"));
}

static void expect_refused(const char *base, const char *toggles, const char *words)
{
	struct vx_profile p = load(base), before = p;
	struct vx_error err = VX_ERROR_INIT;

	assert_int_equal(vx_profile_derive(&p, toggles, &err), -EINVAL);
	if (!strstr(err.reason, words))
		fail_msg("%s,%s: reason '%s' lacks '%s'", base, toggles, err.reason, words);
	assert_memory_equal(&p, &before, sizeof(p));
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("zen3", "+avx512", "cannot invent");
	expect_refused("zen4", "+amx", "zen4 does not have amx");
	expect_refused("sapphire-rapids", "-avx,+avx512", "avx512 needs avx");
	expect_refused("sapphire-rapids", "-xsavec,+xsaves", "xsaves needs xsavec");
	expect_refused("sapphire-rapids", "-foo", "unknown feature 'foo'");
	expect_refused("sapphire-rapids", "amx", "needs a sign");
	expect_refused("sapphire-rapids", "-amx,,-pt", "empty toggle");
	expect_refused("sapphire-rapids", "", "empty toggle");
	expect_refused("sapphire-rapids",
		       "-avx512,-amx,-cet,-pt,-uintr,-arch_lbr,-enqcmd,-hwp,-hdc,-xfd",
		       "longer than");
}

/* Every toggle on every real built-in: no error diagnostics, and the base is a superset. */
static void test_every_toggle_every_profile(void **state)
{
	(void)state;
	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		const char *name = vx_builtin_profile_name(i);

		if (strcmp(name, "nested-amx-hidden") == 0)
			continue; /* inconsistent on purpose */
		for (unsigned t = 0; t < vx_profile_toggle_count(); t++) {
			struct vx_profile base = load(name), p = base;
			struct vx_error err = VX_ERROR_INIT;
			struct vx_profile_diff diff;
			const char *toggle;
			char text[40];

			assert_true(vx_profile_toggle_info(t, &toggle, NULL, NULL, NULL));
			snprintf(text, sizeof(text), "-%s", toggle);
			if (vx_profile_derive(&p, text, &err) != 0)
				fail_msg("%s,%s: %s", name, text, err.reason);
			if (errors_of(&p))
				fail_msg("%s,%s has error diagnostics", name, text);
			vx_profile_diff(&base, &p, &diff);
			if (diff.relation != VX_PROFILES_SUPERSET &&
			    diff.relation != VX_PROFILES_IDENTICAL)
				fail_msg("%s vs %s,%s: %s", name, name, text,
					 vx_profile_relation_name(diff.relation));
			/* Removing twice changes nothing more. */
			struct vx_profile again = p;
			assert_int_equal(vx_profile_derive(&again, text, &err), 0);
			struct vx_profile_difference first;
			if (vx_profile_compare(&again, &p, &first))
				fail_msg("%s,%s twice: leaf 0x%x.%u reg %d 0x%x != 0x%x", name,
					 text, first.leaf, first.subleaf, first.reg, first.a,
					 first.b);
		}
	}
}

static char *read_fixture(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1u << 20);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, 1u << 20, f);
	fclose(f);
	return buf;
}

/* The same CPU in InstLatx64 form parses to the built-in's leaves. */
static void test_instlatx_fixture(void **state)
{
	size_t len;
	char *text = read_fixture(VXSAVE_FIXTURE_DIR "/cpuid/instlatx-zhaoxin-kh40000.txt", &len);
	struct vx_profile parsed, builtin = load("zhaoxin-kh40000");
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	assert_true(vx_dump_is_instlatx(text, len));
	assert_int_equal(vx_profile_parse_dump(&parsed, text, len, 0, &err), 0);
	assert_int_equal(vx_profile_compare(&parsed, &builtin, NULL), 0);
	assert_int_equal(vx_profile_parse_instlatx(&parsed, text, len, 1, &err), -ENOENT);
	free(text);

	static const char bad[] = "------[ CPUID Registers / Logical CPU #0 ]------\n"
				  "CPUID 00000000: 0000001F-746E6543-736C7561\n";
	parsed = builtin;
	assert_int_equal(vx_profile_parse_dump(&parsed, bad, sizeof(bad) - 1, 0, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_int_equal(vx_profile_compare(&parsed, &builtin, NULL), 0);
}

/* Brand string and family/model/stepping, read off the dumps' own sidecar notes. */
static void test_identity(void **state)
{
	struct vx_profile p = load("zen5");
	struct vx_cpu_identity id;
	char brand[64];

	(void)state;
	vx_profile_identity(&p, &id);
	assert_int_equal(id.family, 0x1a);
	assert_int_equal(id.model, 0x2);
	assert_int_equal(id.stepping, 1);
	vx_profile_brand(&p, brand, sizeof(brand));
	assert_string_equal(brand, "AMD EPYC 9655 96-Core Processor");
	p = load("icelake-server");
	vx_profile_identity(&p, &id);
	assert_int_equal(id.family, 6);
	assert_int_equal(id.model, 0x6a);
	vx_profile_brand(&p, brand, sizeof(brand));
	assert_string_equal(brand, "Intel(R) Xeon(R) Platinum 8351N CPU @ 2.40GHz");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spr_minus_amx),
	    cmocka_unit_test(test_spr_minus_avx),
	    cmocka_unit_test(test_spr_minus_xsaves),
	    cmocka_unit_test(test_cet_components),
	    cmocka_unit_test(test_minus_xsave),
	    cmocka_unit_test(test_minus_xsavec),
	    cmocka_unit_test(test_plus_undoes_minus),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_every_toggle_every_profile),
	    cmocka_unit_test(test_instlatx_fixture),
	    cmocka_unit_test(test_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
