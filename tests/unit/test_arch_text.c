/* SPDX-License-Identifier: MIT */
/*
 * The text vxsave reads and prints: the one number rule (vx_parse_u64), the one mask grammar
 * (vx_parse_component_mask_all), mask formatting that never cuts a name, notes references
 * turned into SDM/APM sections (vx_cite), and UTF-8 cleaning (vx_utf8_sanitize).  Expected
 * values are written out by hand.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <vxsave/arch.h>

#define B(n) VX_BIT(n)

/* ------------------------------------------------------------------------------------------ */
/* Numbers                                                                                      */

static const struct {
	const char *text;
	uint64_t value;
} number_ok[] = {
    {"0", 0},
    {"10", 10},
    {"010", 10}, /* decimal: never octal */
    {"0009", 9},
    {"0x10", 16},
    {"0X1f", 31},
    {"0b101", 5},
    {"0B11", 3},
    {"0xffff_8000_0000_0000", UINT64_C(0xffff800000000000)},
    {"1_000", 1000},
    {"18446744073709551615", UINT64_MAX},
    {"0xffffffffffffffff", UINT64_MAX},
};

static const struct {
	const char *text;
	int code;
} number_bad[] = {
    {"", -EINVAL},
    {"0x", -EINVAL},
    {"0b", -EINVAL},
    {"0b102", -EINVAL},
    {"12abc", -EINVAL},
    {"-1", -EINVAL},
    {"+1", -EINVAL},
    {" 1", -EINVAL},
    {"1 ", -EINVAL},
    {"_1", -EINVAL},
    {"1_", -EINVAL},
    {"1__0", -EINVAL},
    {"0x_1", -EINVAL},
    {"0o17", -EINVAL},
    {"1e3", -EINVAL},
    {"18446744073709551616", -ERANGE},
    {"0x1_0000_0000_0000_0000", -ERANGE},
};

static void test_parse_u64(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(number_ok) / sizeof(number_ok[0]); i++) {
		struct vx_error err = VX_ERROR_INIT;
		uint64_t value = 0;
		int ret = vx_parse_u64(number_ok[i].text, strlen(number_ok[i].text), &value, &err);

		if (ret != 0 || value != number_ok[i].value)
			fail_msg("'%s': ret %d value %llu (%s)", number_ok[i].text, ret,
				 (unsigned long long)value, err.reason);
	}
	for (size_t i = 0; i < sizeof(number_bad) / sizeof(number_bad[0]); i++) {
		struct vx_error err = VX_ERROR_INIT;
		uint64_t value = 77;
		int ret =
		    vx_parse_u64(number_bad[i].text, strlen(number_bad[i].text), &value, &err);

		if (ret != number_bad[i].code || value != 77 || !err.reason[0])
			fail_msg("'%s': ret %d (want %d), value %llu, reason '%s'",
				 number_bad[i].text, ret, number_bad[i].code,
				 (unsigned long long)value, err.reason);
	}
	/* Only @len bytes are read: "12" out of "123". */
	uint64_t value = 0;

	assert_int_equal(vx_parse_u64("123", 2, &value, NULL), 0);
	assert_int_equal(value, 12);
}

/* ------------------------------------------------------------------------------------------ */
/* Masks                                                                                        */

static const struct {
	const char *text;
	uint64_t mask;
} mask_ok[] = {
    {"all", 0x6dfe7}, /* @all as given below */
    {"ALL", 0x6dfe7},
    {"none", 0},
    {"none,x87", 1},
    {" x87 , sse ", 0x3},
    {"\tx87|sse\t", 0x3},
    {"010", 10},
    {"0b111", 7},
    {"x87,0x4", 0x5},
    {"pku", B(9)},
    {"PKRU", B(9)},
    {"cet_ss", B(11) | B(12)},
    {"cet_ibt", B(11)},
    {"avx512f", 0xe0},
    {"avx10", 0xe0},
    {"amx_tile", 0x60000},
    {"fpu", 1},
    {"arch_lbr", B(15)},
    {"enqcmd", B(10)},
    {"apx_f", B(19)},
    {"bit20", B(20)},
    {"BIT20", B(20)},
    {"bit20-22", B(20) | B(21) | B(22)},
    {"bit0-63", UINT64_MAX},
    {"bit63", B(63)},
    {"xmm,ymm,k", B(1) | B(2) | B(5)},
};

static const struct {
	const char *text;
	const char *reason; /* must appear in the reason */
} mask_bad[] = {
    {"x87,,sse", "empty name after 'x87'"},
    {"x87,sse,", "empty name after 'sse'"},
    {"x87, ,sse", "empty name after 'x87'"},
    {",x87", "at the start"},
    {"|", "at the start"},
    {"   ", "empty component mask"},
    {"avx51", "did you mean 'avx512'"},
    {"x78", "did you mean 'x87'"},
    {"opmsk", "did you mean 'opmask'"},
    {"frobnicate", "unknown component name 'frobnicate'"},
    {"xsavec", "CPUID flag that enables no state component"},
    {"bit64", "unknown component name 'bit64'"},
    {"bit22-20", "unknown component name 'bit22-20'"},
    {"bit", "unknown component name 'bit'"},
    {"0x2e7z", "'0x2e7z' is not a number"},
    {"x87,12abc", "'12abc' is not a number"},
    {"fp", "unknown component name 'fp'"},		 /* removed alias */
    {"ymm_hi128", "unknown component name 'ymm_hi128'"}, /* removed alias */
};

static void test_mask_grammar(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(mask_ok) / sizeof(mask_ok[0]); i++) {
		struct vx_error err = VX_ERROR_INIT;
		uint64_t mask = 0x1234;
		int ret = vx_parse_component_mask_all(mask_ok[i].text, 0x6dfe7, &mask, &err);

		if (ret != 0 || mask != mask_ok[i].mask)
			fail_msg("'%s': ret %d mask 0x%llx, expected 0x%llx (%s)", mask_ok[i].text,
				 ret, (unsigned long long)mask, (unsigned long long)mask_ok[i].mask,
				 err.reason);
	}
	for (size_t i = 0; i < sizeof(mask_bad) / sizeof(mask_bad[0]); i++) {
		struct vx_error err = VX_ERROR_INIT;
		uint64_t mask = 0x1234;
		int ret = vx_parse_component_mask_all(mask_bad[i].text, 0x6dfe7, &mask, &err);

		if (ret != -EINVAL || mask != 0x1234 || !strstr(err.reason, mask_bad[i].reason))
			fail_msg("'%s': ret %d mask 0x%llx reason '%s' (want '%s')",
				 mask_bad[i].text, ret, (unsigned long long)mask, err.reason,
				 mask_bad[i].reason);
	}
	/* Without a context, "all" is every component vxsave knows. */
	uint64_t mask = 0;

	assert_int_equal(vx_parse_component_mask("all", &mask, NULL), 0);
	assert_int_equal(mask, vx_known_components());
	/* A CPUID flag that is one component is a component name too. */
	assert_int_equal(vx_component_by_name("pku"), 9);
	assert_int_equal(vx_component_by_name("cet_ss"), -1); /* two components */
	assert_int_equal(vx_component_by_name("bit20"), -1);  /* not a known component */
}

/* What the formatter prints parses back, for masks with unnamed bits too. */
static void test_mask_ranges_round_trip(void **state)
{
	static const struct {
		uint64_t mask;
		const char *text;
	} cases[] = {
	    {B(20) | B(21), "bit20-21"},
	    {0xfffffffffff80000, "APX|bit20-61|LWP|bit63"},
	    {B(20) | B(22), "bit20|bit22"},
	    {UINT64_MAX & ~(0xfffffULL | B(62) | B(63)), "bit20-61"},
	    {B(19) | B(20), "APX|bit20"},
	};
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t back = 0;

		assert_int_equal(vx_format_component_mask(cases[i].mask, buf, sizeof(buf)),
				 strlen(cases[i].text));
		assert_string_equal(buf, cases[i].text);
		assert_int_equal(vx_parse_component_mask(buf, &back, NULL), 0);
		assert_true(back == cases[i].mask);
	}
	/* Every 64-bit mask of a few random patterns: format then parse is the identity. */
	uint64_t x = 0x243F6A8885A308D3u;

	for (unsigned i = 0; i < 5000; i++) {
		uint64_t back = 0;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		assert_true(vx_format_component_mask(x, buf, sizeof(buf)) < sizeof(buf));
		assert_int_equal(vx_parse_component_mask(buf, &back, NULL), 0);
		if (back != x)
			fail_msg("0x%llx -> '%s' -> 0x%llx", (unsigned long long)x, buf,
				 (unsigned long long)back);
	}
}

/* A short buffer ends at a whole name with "|...", never inside one. */
static void test_mask_elision(void **state)
{
	char buf[512];
	uint64_t mask = 0x6dfe7; /* x87|SSE|AVX|opmask|ZMM_Hi256|Hi16_ZMM|PT|PKRU|PASID|... */
	size_t full = vx_format_component_mask(mask, NULL, 0);

	(void)state;
	for (size_t len = 1; len <= full + 1; len++) {
		size_t n;

		memset(buf, 'Z', sizeof(buf));
		assert_int_equal(vx_format_component_mask(mask, buf, len), full);
		n = strlen(buf);
		assert_true(n < len);
		assert_int_equal(buf[len], 'Z');
		if (len > full)
			continue;
		/* Truncated: "...", or whole names followed by "|...". */
		if (len >= 4)
			assert_true(n >= 3 && strcmp(buf + n - 3, "...") == 0);
		if (n > 3) {
			char whole[512];

			vx_format_component_mask(mask, whole, sizeof(whole));
			assert_true(strncmp(whole, buf, n - 3) == 0);
			assert_int_equal(buf[n - 4], '|');
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Citations                                                                                    */

static void test_cite(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"arch.md §3.1 rule 2 (AVX needs SSE)",
	     "Intel SDM Vol.1 §13.3, Vol.2 XSETBV (AVX needs SSE)"},
	    {"arch.md §3.3", "Intel SDM Vol.1 §13.14"},
	    {"reserved (arch.md §1.4)", "reserved (Intel SDM Vol.1 §13.2)"},
	    {"(arch.md §1.2/§1.3)", "(Intel SDM Vol.1 §13.2)"},
	    {"(arch.md §1.3, §3.3)", "(Intel SDM Vol.1 §13.2, §13.14)"},
	    {"x (arch.md §1.1, §2.1)", "x (Intel SDM Vol.2 CPUID; Intel SDM Vol.1 §13.1)"},
	    {"arch.md §5.5", "Intel SDM Vol.1 §13.8, Vol.2 XRSTOR"},
	    {"arch.md §7.2", "Intel SDM Vol.1, CET chapter"},
	    {"arch.md §7.12", "AMD APM Vol.2, Shadow Stacks"},
	    {"arch.md §2.6", "AMD APM Vol.2 §11.5"},
	    {"no reference here", "no reference here"},
	    {"arch.md is a file", "arch.md is a file"},
	    {"", ""},
	};
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = vx_cite(cases[i].in, buf, sizeof(buf));

		if (strcmp(buf, cases[i].out) != 0 || n != strlen(cases[i].out))
			fail_msg("'%s' -> '%s' (%zu), expected '%s'", cases[i].in, buf, n,
				 cases[i].out);
	}
	/* snprintf-like: the full length comes back, the buffer is terminated. */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(vx_cite("arch.md §3.3", buf, 10), strlen("Intel SDM Vol.1 §13.14"));
	assert_int_equal(strlen(buf), 9);
	assert_int_equal(buf[10], 'Z');
}

/* ------------------------------------------------------------------------------------------ */
/* UTF-8                                                                                        */

static void test_utf8_sanitize(void **state)
{
	static const struct {
		const char *in, *out;
		unsigned replaced;
	} cases[] = {
	    {"plain", "plain", 0},
	    {"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
	     "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 0},
	    {"a\xFF"
	     "b",
	     "a\xEF\xBF\xBD"
	     "b",
	     1},
	    {"\xC3(", "\xEF\xBF\xBD(", 1},				 /* missing continuation */
	    {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD", 2},		 /* overlong '/' */
	    {"\xE0\x80\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3}, /* overlong */
	    {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3}, /* surrogate */
	    {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 4},
	    {"tab\tok", "tab\tok", 0},
	    {"bell\x07", "bell\xEF\xBF\xBD", 1},
	    {"del\x7F", "del\xEF\xBF\xBD", 1},
	    {"c1\xC2\x85", "c1\xEF\xBF\xBD", 1},	       /* C1 control NEL */
	    {"end\xE2\x82", "end\xEF\xBF\xBD\xEF\xBF\xBD", 2}, /* cut sequence */
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned replaced = vx_utf8_sanitize(cases[i].in, buf, sizeof(buf));

		if (strcmp(buf, cases[i].out) != 0 || replaced != cases[i].replaced)
			fail_msg("case %zu: '%s' (%u replaced), expected '%s' (%u)", i, buf,
				 replaced, cases[i].out, cases[i].replaced);
	}
	/* A character that does not fit is left out whole. */
	assert_int_equal(vx_utf8_sanitize("ab\xE2\x82\xAC", buf, 5), 0);
	assert_string_equal(buf, "ab");
	assert_int_equal(vx_utf8_sanitize("a\xFF", buf, 3), 0);
	assert_string_equal(buf, "a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_u64),
	    cmocka_unit_test(test_mask_grammar),
	    cmocka_unit_test(test_mask_ranges_round_trip),
	    cmocka_unit_test(test_mask_elision),
	    cmocka_unit_test(test_cite),
	    cmocka_unit_test(test_utf8_sanitize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
