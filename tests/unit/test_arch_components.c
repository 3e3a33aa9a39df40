/* SPDX-License-Identifier: MIT */
/*
 * The arch layer's two tables, checked against expectations written by hand from the spec:
 *  - the state-component table (arch.md §2.1, §3.1, §6): names, user/supervisor split,
 *    architectural sizes, pairing groups, the masks derived from it, name parsing and
 *    formatting of component masks;
 *  - the CPUID feature-flag table (arch.md §1.1, §1.3, §7.1): leaf, sub-leaf, register and
 *    bit of every flag.
 * Style: Xen's test-cpu-policy - a static const table of cases, then a loop.
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

/* ------------------------------------------------------------------------------------------ */
/* Component table                                                                              */

#define F_NONE VX_FEAT_COUNT

static const struct component_case {
	unsigned id;
	const char *name;
	bool supervisor;
	bool legacy;
	uint32_t arch_size;       /* §2.1; 0 = only CPUID knows (PT, Arch LBR) */
	uint64_t requires;        /* §3.1 rules 2-3 */
	uint64_t group;           /* §3.1 rules 3-5 */
	const char *rule_section; /* text the xcr0_rule must contain, NULL = no rule */
	enum vx_feature enumerated_by[2];
} component_cases[] = {
	{0, "x87", false, true, 160, 0, 0, NULL, {VX_FEAT_FPU, F_NONE}},
	{1, "SSE", false, true, 256, 0, 0, NULL, {VX_FEAT_SSE, F_NONE}},
	{2, "AVX", false, false, 256, B(1), 0, "rule 2", {VX_FEAT_AVX, F_NONE}},
	{3, "BNDREGS", false, false, 64, 0, B(3) | B(4), "rule 4", {VX_FEAT_MPX, F_NONE}},
	{4, "BNDCSR", false, false, 64, 0, B(3) | B(4), "rule 4", {VX_FEAT_MPX, F_NONE}},
	{5, "opmask", false, false, 64, B(1) | B(2), B(5) | B(6) | B(7), "rule 3",
	 {VX_FEAT_AVX512F, VX_FEAT_AVX10}},
	{6, "ZMM_Hi256", false, false, 512, B(1) | B(2), B(5) | B(6) | B(7), "rule 3",
	 {VX_FEAT_AVX512F, VX_FEAT_AVX10}},
	{7, "Hi16_ZMM", false, false, 1024, B(1) | B(2), B(5) | B(6) | B(7), "rule 3",
	 {VX_FEAT_AVX512F, VX_FEAT_AVX10}},
	{8, "PT", true, false, 0, 0, 0, NULL, {VX_FEAT_PT, F_NONE}},
	{9, "PKRU", false, false, 8, 0, 0, NULL, {VX_FEAT_PKU, F_NONE}},
	{10, "PASID", true, false, 8, 0, 0, NULL, {VX_FEAT_ENQCMD, F_NONE}},
	/* CET_U holds IA32_U_CET (IBT and SS) and PL3_SSP: either flag makes it exist. */
	{11, "CET_U", true, false, 16, 0, 0, NULL, {VX_FEAT_CET_SS, VX_FEAT_CET_IBT}},
	/*
	 * CET_S holds only IA32_PL0/1/2_SSP, which exist only with CET_SS (§7.2); the profile
	 * checker states the same pairing ("CET_SS <=> CET_S", profiles/check_profiles.py).
	 */
	{12, "CET_S", true, false, 24, 0, 0, NULL, {VX_FEAT_CET_SS, F_NONE}},
	{13, "HDC", true, false, 8, 0, 0, NULL, {VX_FEAT_HDC, F_NONE}},
	{14, "UINTR", true, false, 48, 0, 0, NULL, {VX_FEAT_UINTR, F_NONE}},
	{15, "LBR", true, false, 0, 0, 0, NULL, {VX_FEAT_ARCH_LBR, F_NONE}},
	{16, "HWP", true, false, 8, 0, 0, NULL, {VX_FEAT_HWP, F_NONE}},
	{17, "XTILECFG", false, false, 64, 0, B(17) | B(18), "rule 5", {VX_FEAT_AMX_TILE, F_NONE}},
	{18, "XTILEDATA", false, false, 8192, 0, B(17) | B(18), "rule 5",
	 {VX_FEAT_AMX_TILE, F_NONE}},
	{19, "APX", false, false, 128, 0, 0, NULL, {VX_FEAT_APX_F, F_NONE}},
	{62, "LWP", false, false, 128, 0, 0, NULL, {VX_FEAT_LWP, F_NONE}},
};

#define N_COMPONENT_CASES (sizeof(component_cases) / sizeof(component_cases[0]))

/* §2.1: user = 0-7, 9, 17-19, 62; supervisor = 8, 10-16. */
#define USER_MASK       (UINT64_C(0xFF) | B(9) | B(17) | B(18) | B(19) | B(62))
#define SUPERVISOR_MASK (B(8) | B(10) | B(11) | B(12) | B(13) | B(14) | B(15) | B(16))

static bool has_feature(const enum vx_feature list[2], enum vx_feature f)
{
	return list[0] == f || list[1] == f;
}

static void test_component_table(void **state)
{
	(void)state;
	for (size_t n = 0; n < N_COMPONENT_CASES; n++) {
		const struct component_case *t = &component_cases[n];
		const struct vx_component_info *c = vx_component_info(t->id);

		if (!c)
			fail_msg("component %u: vx_component_info returned NULL", t->id);
		if (c->id != t->id)
			fail_msg("component %u (%s): info->id is %u, expected %u", t->id, t->name, c->id,
				 t->id);
		if (!c->name || strcmp(c->name, t->name) != 0)
			fail_msg("component %u: name '%s', expected '%s'", t->id,
				 c->name ? c->name : "(null)", t->name);
		if (c->supervisor != t->supervisor)
			fail_msg("component %u (%s): supervisor=%d, expected %d", t->id, t->name,
				 c->supervisor, t->supervisor);
		if (c->legacy != t->legacy)
			fail_msg("component %u (%s): legacy=%d, expected %d", t->id, t->name, c->legacy,
				 t->legacy);
		if (c->arch_size != t->arch_size)
			fail_msg("component %u (%s): arch_size %u, expected %u (arch.md §2.1)", t->id,
				 t->name, c->arch_size, t->arch_size);
		if (c->requires != t->requires)
			fail_msg("component %u (%s): requires 0x%llx, expected 0x%llx", t->id, t->name,
				 (unsigned long long)c->requires, (unsigned long long)t->requires);
		if (c->group != t->group)
			fail_msg("component %u (%s): group 0x%llx, expected 0x%llx", t->id, t->name,
				 (unsigned long long)c->group, (unsigned long long)t->group);
		if (t->group && !(t->group & B(t->id)))
			fail_msg("test table: group of %u must include itself", t->id);
		if (t->rule_section) {
			if (!c->xcr0_rule || !strstr(c->xcr0_rule, "§3.1") ||
			    !strstr(c->xcr0_rule, t->rule_section))
				fail_msg("component %u (%s): xcr0_rule '%s' should cite §3.1 %s", t->id,
					 t->name, c->xcr0_rule ? c->xcr0_rule : "(null)",
					 t->rule_section);
		} else if (c->xcr0_rule) {
			fail_msg("component %u (%s): unexpected xcr0_rule '%s'", t->id, t->name,
				 c->xcr0_rule);
		}
		for (int k = 0; k < 2; k++) {
			if (t->enumerated_by[k] != F_NONE &&
			    !has_feature(c->enumerated_by, t->enumerated_by[k]))
				fail_msg("component %u (%s): not enumerated by feature %s", t->id,
					 t->name, vx_feature_info(t->enumerated_by[k])->name);
			if (c->enumerated_by[k] != F_NONE &&
			    !has_feature(t->enumerated_by, c->enumerated_by[k]))
				fail_msg("component %u (%s): enumerated by unexpected feature %s", t->id,
					 t->name, vx_feature_info(c->enumerated_by[k])->name);
		}
		assert_non_null(c->long_name);
		assert_non_null(c->contents);
		assert_non_null(c->initial);
		if (((B(t->id) & SUPERVISOR_MASK) != 0) != t->supervisor)
			fail_msg("test table: component %u supervisor flag disagrees with §2.1 mask",
				 t->id);
	}
}

static void test_unknown_components(void **state)
{
	(void)state;
	for (unsigned id = 20; id < 62; id++)
		if (vx_component_info(id))
			fail_msg("component %u should be unknown", id);
	assert_null(vx_component_info(63));
	assert_null(vx_component_info(64));
	assert_null(vx_component_info(1000));
	assert_null(vx_component_info(~0u));
}

static void test_component_masks(void **state)
{
	(void)state;
	assert_int_equal(vx_user_components(), USER_MASK);
	assert_int_equal(vx_supervisor_components(), SUPERVISOR_MASK);
	assert_int_equal(vx_known_components(), USER_MASK | SUPERVISOR_MASK);
	assert_int_equal(vx_user_components() & vx_supervisor_components(), 0);
	/* CET_U is supervisor state although its content is user-mode CET (§2.1). */
	assert_true(vx_supervisor_components() & B(VX_COMP_CET_U));
	assert_false(vx_known_components() & VX_XCOMP_BV_COMPACTED);
}

/* §6: the non-zero parts of the initial configuration. */
static void test_init_fields(void **state)
{
	(void)state;
	const struct vx_init_field *x87 = vx_component_info(VX_COMP_X87)->init_fields;
	const struct vx_init_field *sse = vx_component_info(VX_COMP_SSE)->init_fields;

	assert_non_null(x87);
	assert_int_equal(x87[0].offset, 0);
	assert_int_equal(x87[0].width, 2);
	assert_int_equal(x87[0].value, 0x037F);
	assert_int_equal(x87[1].width, 0);
	assert_non_null(sse);
	assert_int_equal(sse[0].offset, 24);
	assert_int_equal(sse[0].width, 4);
	assert_int_equal(sse[0].value, 0x1F80);
	assert_int_equal(sse[1].width, 0);
	/* Every other component's initial configuration is all zero (§6, PKRU = 0 included). */
	for (size_t n = 0; n < N_COMPONENT_CASES; n++) {
		const struct vx_component_info *c = vx_component_info(component_cases[n].id);

		if (c->id > 1 && c->init_fields && c->init_fields[0].width != 0)
			fail_msg("component %u (%s) should have an all-zero initial configuration",
				 component_cases[n].id, component_cases[n].name);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Names                                                                                        */

static const struct {
	const char *name;
	int id;
} by_name_cases[] = {
	{"x87", 0},	    {"X87", 0},		{"sse", 1},	    {"SSE", 1},
	{"avx", 2},	    {"ymm", 2},		{"YMM", 2},	    {"bndregs", 3},
	{"BndCsr", 4},	    {"opmask", 5},	{"k", 5},	    {"K", 5},
	{"zmm_hi256", 6},   {"HI16_ZMM", 7},	{"pt", 8},	    {"pkru", 9},
	{"PASID", 10},	    {"cet_u", 11},	{"CET_S", 12},	    {"hdc", 13},
	{"uintr", 14},	    {"lbr", 15},	{"hwp", 16},	    {"xtilecfg", 17},
	{"tilecfg", 17},    {"TILEDATA", 18},	{"xtiledata", 18},  {"apx", 19},
	{"lwp", 62},
	/* Group aliases are not single components. */
	{"avx512", -1},	    {"mpx", -1},	{"amx", -1},	    {"cet", -1},
	{"legacy", -1},	    {"nope", -1},	{"", -1},	    {"x87 ", -1},
	{"x8", -1},	    {"x877", -1},
};

static void test_component_by_name(void **state)
{
	(void)state;
	for (size_t n = 0; n < sizeof(by_name_cases) / sizeof(by_name_cases[0]); n++) {
		int got = vx_component_by_name(by_name_cases[n].name);

		if (got != by_name_cases[n].id)
			fail_msg("vx_component_by_name(\"%s\") = %d, expected %d",
				 by_name_cases[n].name, got, by_name_cases[n].id);
	}
	assert_int_equal(vx_component_by_name(NULL), -1);
	/* Every table name maps back to its component. */
	for (size_t n = 0; n < N_COMPONENT_CASES; n++)
		assert_int_equal(vx_component_by_name(component_cases[n].name),
				 (int)component_cases[n].id);
}

static const struct parse_case {
	const char *text;
	uint64_t mask;
} parse_ok_cases[] = {
	{"0x2e7", 0x2E7},
	{"0X2E7", 0x2E7},
	{"743", 743},
	{"0", 0},
	{"0x8000000000001800", UINT64_C(0x8000000000001800)},
	{"18446744073709551615", UINT64_MAX},
	{"x87", 0x1},
	{"x87,sse,avx", 0x7},
	{"x87|sse|avx", 0x7},
	{"X87|SSE,AvX", 0x7},
	{"legacy", 0x3},
	{"LEGACY", 0x3},
	{"avx512", 0xE0},
	{"AVX512", 0xE0},
	{"mpx", 0x18},
	{"amx", 0x60000},
	{"Amx", 0x60000},
	{"cet", 0x1800},
	{"CET", 0x1800},
	{"legacy|avx|avx512|pkru", 0x2E7},
	{"legacy,ymm,avx512,pkru,amx", 0x602E7},
	{"cet_u,cet_s", 0x1800},
	{"cet|cet_u", 0x1800},
	{"k,zmm_hi256,hi16_zmm", 0xE0},
	{"tilecfg|tiledata", 0x60000},
	{"pt,pasid,cet,uintr,lbr", 0xDD00},
	{"apx", 0x80000},
	{"lwp", B(62)},
	{"x87,x87", 0x1},
};

static void test_parse_mask_ok(void **state)
{
	(void)state;
	for (size_t n = 0; n < sizeof(parse_ok_cases) / sizeof(parse_ok_cases[0]); n++) {
		const struct parse_case *t = &parse_ok_cases[n];
		struct vx_error err = VX_ERROR_INIT;
		uint64_t mask = 0xdeadbeef;
		int ret = vx_parse_component_mask(t->text, &mask, &err);

		if (ret != 0)
			fail_msg("parse \"%s\": returned %d (%s)", t->text, ret, err.reason);
		if (mask != t->mask)
			fail_msg("parse \"%s\": 0x%llx, expected 0x%llx", t->text,
				 (unsigned long long)mask, (unsigned long long)t->mask);
	}
}

static const struct parse_bad_case {
	const char *text;
	const char *word; /* the reason must name this, NULL = don't check */
} parse_bad_cases[] = {
	{"x87,bogus,sse", "bogus"},
	{"x87|SSE|avx1024", "avx1024"},
	{"frobnicate", "frobnicate"},
	{"x87,,sse", NULL},
	{"0xZZ", "0xZZ"},
	{"0x", NULL},
	{"12abc", "12abc"},
	{"18446744073709551616", NULL}, /* 2^64: out of range */
	{"avx 512", "avx 512"},
};

static void test_parse_mask_errors(void **state)
{
	(void)state;
	for (size_t n = 0; n < sizeof(parse_bad_cases) / sizeof(parse_bad_cases[0]); n++) {
		const struct parse_bad_case *t = &parse_bad_cases[n];
		struct vx_error err = VX_ERROR_INIT;
		uint64_t mask = 0x1234;
		int ret = vx_parse_component_mask(t->text, &mask, &err);

		if (ret != -EINVAL)
			fail_msg("parse \"%s\": returned %d, expected -EINVAL", t->text, ret);
		if (mask != 0x1234)
			fail_msg("parse \"%s\": failed but changed the mask to 0x%llx", t->text,
				 (unsigned long long)mask);
		if (err.code != -EINVAL || err.reason[0] == '\0')
			fail_msg("parse \"%s\": error record not filled (code %d)", t->text, err.code);
		if (t->word && !strstr(err.reason, t->word))
			fail_msg("parse \"%s\": reason '%s' does not name '%s'", t->text, err.reason,
				 t->word);
	}

	/* Empty input is an error with a reason; NULL too. */
	struct vx_error err = VX_ERROR_INIT;
	uint64_t mask = 0x55;

	assert_int_equal(vx_parse_component_mask("", &mask, &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_true(strlen(err.reason) > 0);
	assert_int_equal(mask, 0x55);
	vx_error_clear(&err);
	assert_int_equal(vx_parse_component_mask(NULL, &mask, &err), -EINVAL);
	assert_int_equal(mask, 0x55);
	/* A NULL error record is allowed. */
	assert_int_equal(vx_parse_component_mask("bogus", &mask, NULL), -EINVAL);
	assert_int_equal(mask, 0x55);
}

static void test_format_mask(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(vx_format_component_mask(0x7, buf, sizeof(buf)), strlen("x87|SSE|AVX"));
	assert_string_equal(buf, "x87|SSE|AVX");
	vx_format_component_mask(0x1800, buf, sizeof(buf));
	assert_string_equal(buf, "CET_U|CET_S");
	vx_format_component_mask(0x60000, buf, sizeof(buf));
	assert_string_equal(buf, "XTILECFG|XTILEDATA");
	vx_format_component_mask(B(42), buf, sizeof(buf));
	assert_string_equal(buf, "bit42");
	vx_format_component_mask(B(63) | 1, buf, sizeof(buf));
	assert_string_equal(buf, "x87|bit63");
	vx_format_component_mask(B(20) | B(9), buf, sizeof(buf));
	assert_string_equal(buf, "PKRU|bit20");
	vx_format_component_mask(0, buf, sizeof(buf));
	assert_string_equal(buf, "none");

	/* snprintf-like truncation: returns the full length, writes at most len bytes, and
	 * ends at a whole name with "..." rather than mid-word. */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(vx_format_component_mask(0x7, buf, 5), 11);
	assert_string_equal(buf, "...");
	assert_int_equal(buf[5], 'Z');
	assert_int_equal(vx_format_component_mask(0x7, buf, 10), 11);
	assert_string_equal(buf, "x87|...");
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(vx_format_component_mask(0x7, buf, 1), 11);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'Z');
	assert_int_equal(vx_format_component_mask(0x7, NULL, 0), 11);
	/* All 64 bits: the size query and the real write agree. */
	char big[1024];
	size_t need = vx_format_component_mask(UINT64_MAX, NULL, 0);

	assert_true(need < sizeof(big));
	assert_int_equal(vx_format_component_mask(UINT64_MAX, big, sizeof(big)), need);
	assert_int_equal(strlen(big), need);
	assert_non_null(strstr(big, "bit63"));
	assert_non_null(strstr(big, "LWP"));
}

/* Format then parse gives back the mask, for every known single bit and many combinations. */
static void test_format_parse_round_trip(void **state)
{
	uint64_t known = vx_known_components();
	uint64_t rng = 0x9E3779B97F4A7C15u;
	char buf[512];

	(void)state;
	for (unsigned i = 0; i < 2000 + 64; i++) {
		uint64_t mask;

		if (i < 64) {
			mask = B(i) & known;
		} else {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			mask = rng & known;
		}
		if (!mask)
			continue;
		size_t need = vx_format_component_mask(mask, buf, sizeof(buf));
		assert_true(need < sizeof(buf));
		assert_int_equal(need, strlen(buf));

		uint64_t back = 0;
		struct vx_error err = VX_ERROR_INIT;

		if (vx_parse_component_mask(buf, &back, &err) != 0)
			fail_msg("round trip 0x%llx: '%s' does not parse: %s",
				 (unsigned long long)mask, buf, err.reason);
		if (back != mask)
			fail_msg("round trip 0x%llx -> '%s' -> 0x%llx", (unsigned long long)mask, buf,
				 (unsigned long long)back);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Feature table, by hand from arch.md §1.1, §1.3, §7.1 (HWP/HDC: CPUID.6:EAX[7]/[13]).        */

static const struct feature_case {
	enum vx_feature id;
	const char *name;
	uint32_t leaf, subleaf;
	enum vx_cpuid_reg reg;
	unsigned bit;
} feature_cases[] = {
	{VX_FEAT_FPU, "fpu", 0x1, 0, VX_EDX, 0},
	{VX_FEAT_FXSR, "fxsr", 0x1, 0, VX_EDX, 24},
	{VX_FEAT_SSE, "sse", 0x1, 0, VX_EDX, 25},
	{VX_FEAT_XSAVE, "xsave", 0x1, 0, VX_ECX, 26},
	{VX_FEAT_OSXSAVE, "osxsave", 0x1, 0, VX_ECX, 27},
	{VX_FEAT_AVX, "avx", 0x1, 0, VX_ECX, 28},
	{VX_FEAT_FDP_EXCP_ONLY, "fdp_excp_only", 0x7, 0, VX_EBX, 6},
	{VX_FEAT_FCS_FDS_DEPRECATED, "fcs_fds_deprecated", 0x7, 0, VX_EBX, 13},
	{VX_FEAT_MPX, "mpx", 0x7, 0, VX_EBX, 14},
	{VX_FEAT_AVX512F, "avx512f", 0x7, 0, VX_EBX, 16},
	{VX_FEAT_PT, "pt", 0x7, 0, VX_EBX, 25},
	{VX_FEAT_PKU, "pku", 0x7, 0, VX_ECX, 3},
	{VX_FEAT_OSPKE, "ospke", 0x7, 0, VX_ECX, 4},
	{VX_FEAT_CET_SS, "cet_ss", 0x7, 0, VX_ECX, 7},
	{VX_FEAT_ENQCMD, "enqcmd", 0x7, 0, VX_ECX, 29},
	{VX_FEAT_UINTR, "uintr", 0x7, 0, VX_EDX, 5},
	{VX_FEAT_ARCH_LBR, "arch_lbr", 0x7, 0, VX_EDX, 19},
	{VX_FEAT_CET_IBT, "cet_ibt", 0x7, 0, VX_EDX, 20},
	{VX_FEAT_AMX_BF16, "amx_bf16", 0x7, 0, VX_EDX, 22},
	{VX_FEAT_AMX_TILE, "amx_tile", 0x7, 0, VX_EDX, 24},
	{VX_FEAT_AMX_INT8, "amx_int8", 0x7, 0, VX_EDX, 25},
	{VX_FEAT_AMX_FP16, "amx_fp16", 0x7, 1, VX_EAX, 21},
	{VX_FEAT_AMX_COMPLEX, "amx_complex", 0x7, 1, VX_EDX, 8},
	{VX_FEAT_CET_SSS, "cet_sss", 0x7, 1, VX_EDX, 18},
	{VX_FEAT_AVX10, "avx10", 0x7, 1, VX_EDX, 19},
	{VX_FEAT_APX_F, "apx_f", 0x7, 1, VX_EDX, 21},
	{VX_FEAT_HWP, "hwp", 0x6, 0, VX_EAX, 7},
	{VX_FEAT_HDC, "hdc", 0x6, 0, VX_EAX, 13},
	{VX_FEAT_XSAVEOPT, "xsaveopt", 0xD, 1, VX_EAX, 0},
	{VX_FEAT_XSAVEC, "xsavec", 0xD, 1, VX_EAX, 1},
	{VX_FEAT_XGETBV1, "xgetbv1", 0xD, 1, VX_EAX, 2},
	{VX_FEAT_XSAVES, "xsaves", 0xD, 1, VX_EAX, 3},
	{VX_FEAT_XFD, "xfd", 0xD, 1, VX_EAX, 4},
	{VX_FEAT_LM, "lm", 0x80000001, 0, VX_EDX, 29},
	{VX_FEAT_LWP, "lwp", 0x80000001, 0, VX_ECX, 15},
	{VX_FEAT_RSTR_FP_ERR_PTRS, "rstr_fp_err_ptrs", 0x80000008, 0, VX_EBX, 2},
};

#define N_FEATURE_CASES (sizeof(feature_cases) / sizeof(feature_cases[0]))

static void test_feature_table(void **state)
{
	static const char *const regs[] = {"EAX", "EBX", "ECX", "EDX"};
	bool seen[VX_FEAT_COUNT] = {false};

	(void)state;
	assert_int_equal(N_FEATURE_CASES, VX_FEAT_COUNT);
	for (size_t n = 0; n < N_FEATURE_CASES; n++) {
		const struct feature_case *t = &feature_cases[n];
		const struct vx_feature_info *f = vx_feature_info(t->id);

		if (!f)
			fail_msg("feature %s: no table entry", t->name);
		seen[t->id] = true;
		if (!f->name || strcmp(f->name, t->name) != 0)
			fail_msg("feature %d: name '%s', expected '%s'", (int)t->id,
				 f->name ? f->name : "(null)", t->name);
		if (f->leaf != t->leaf || f->subleaf != t->subleaf || f->reg != t->reg ||
		    f->bit != t->bit)
			fail_msg("feature %s: CPUID.(0x%x,%u):%s[%u], expected CPUID.(0x%x,%u):%s[%u]",
				 t->name, f->leaf, f->subleaf, regs[f->reg & 3], f->bit, t->leaf,
				 t->subleaf, regs[t->reg], t->bit);
		assert_true(f->bit < 32);
		assert_non_null(f->description);
		assert_true(strlen(f->description) > 0);
		assert_int_equal(vx_feature_by_name(t->name), (int)t->id);
	}
	for (unsigned i = 0; i < VX_FEAT_COUNT; i++)
		if (!seen[i])
			fail_msg("feature %u missing from the test table", i);
	/* No two features share a location. */
	for (size_t a = 0; a < N_FEATURE_CASES; a++)
		for (size_t b = a + 1; b < N_FEATURE_CASES; b++) {
			const struct feature_case *x = &feature_cases[a], *y = &feature_cases[b];

			if (x->leaf == y->leaf && x->subleaf == y->subleaf && x->reg == y->reg &&
			    x->bit == y->bit)
				fail_msg("features %s and %s share a bit", x->name, y->name);
		}
}

static void test_feature_lookup(void **state)
{
	(void)state;
	assert_null(vx_feature_info(VX_FEAT_COUNT));
	assert_null(vx_feature_info((enum vx_feature)(VX_FEAT_COUNT + 10)));
	assert_null(vx_feature_info((enum vx_feature)-1));
	assert_int_equal(vx_feature_by_name("XSAVEC"), VX_FEAT_XSAVEC);
	assert_int_equal(vx_feature_by_name("Cet_Ss"), VX_FEAT_CET_SS);
	assert_int_equal(vx_feature_by_name("APX_F"), VX_FEAT_APX_F);
	assert_int_equal(vx_feature_by_name("nope"), -1);
	assert_int_equal(vx_feature_by_name(""), -1);
	assert_int_equal(vx_feature_by_name("xsave "), -1);
	assert_int_equal(vx_feature_by_name("xsav"), -1);
	assert_int_equal(vx_feature_by_name(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_component_table),
		cmocka_unit_test(test_unknown_components),
		cmocka_unit_test(test_component_masks),
		cmocka_unit_test(test_init_fields),
		cmocka_unit_test(test_component_by_name),
		cmocka_unit_test(test_parse_mask_ok),
		cmocka_unit_test(test_parse_mask_errors),
		cmocka_unit_test(test_format_mask),
		cmocka_unit_test(test_format_parse_round_trip),
		cmocka_unit_test(test_feature_table),
		cmocka_unit_test(test_feature_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
