/* SPDX-License-Identifier: MIT */
/*
 * The argument kinds every statement table shares: numbers (the library's one number rule,
 * vx_parse_u64, plus -1 for all ones), component masks (vx_parse_component_mask), literals of
 * any width, choices, comparisons, CPUID features, MSRs, registers and exception names.
 * Each kind reads one word and stores it at the argument's destination; a refusal names the
 * word (the engine adds the line and the column).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "script_grammar.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int store_u64(void *dest, uint64_t value)
{
	if (dest)
		memcpy(dest, &value, sizeof(value));
	return 0;
}

static bool lookup(const struct sg_choice *choices, const char *word, uint64_t *value)
{
	for (; choices && choices->name; choices++) {
		if (strcasecmp(choices->name, word) == 0) {
			*value = choices->value;
			return true;
		}
	}
	return false;
}

/* ----------------------------------------------------------------------------------------- */
/* Words                                                                                        */

static int parse_word(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	if (strcasecmp(word, spec->what) != 0)
		return sg_fail_word(p, -EINVAL, spec->refuse ? spec->refuse : "unexpected '{}'",
				    word);
	if (dest)
		*(bool *)dest = true;
	return 0;
}

static int parse_any(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	(void)p, (void)spec, (void)word, (void)dest;
	return 0;
}

static int parse_choice(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			void *dest)
{
	uint64_t value;

	if (!lookup(spec->choices, word, &value))
		return sg_fail_word(p, -EINVAL, spec->refuse ? spec->refuse : "unexpected '{}'",
				    word);
	return store_u64(dest, value);
}

static int parse_compare(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			 void *dest)
{
	(void)spec;
	if (strcmp(word, "==") != 0 && strcmp(word, "!=") != 0)
		return sg_fail(p, -EINVAL, "expected '==' or '!=', not '%s'", word);
	if (dest)
		*(bool *)dest = word[0] == '!';
	return 0;
}

const struct sg_kind sg_kind_word = {"WORD", parse_word};
const struct sg_kind sg_kind_any = {"WORD", parse_any};
const struct sg_kind sg_kind_choice = {"CHOICE", parse_choice};
const struct sg_kind sg_kind_compare = {"==|!=", parse_compare};
/* The text is the statement's own (echo reads it from sg_stmt.text): nothing to store. */
const struct sg_kind sg_kind_text = {"TEXT", parse_any};

/* ----------------------------------------------------------------------------------------- */
/* Numbers and masks                                                                            */

/* The one number rule (vx_parse_u64: decimal, 0x, 0b, '_' between digits) and -1. */
static bool text_to_u64(const char *word, uint64_t *value)
{
	if (strcmp(word, "-1") == 0) {
		*value = UINT64_MAX;
		return true;
	}
	return vx_parse_u64(word, strlen(word), value, NULL) == 0;
}

static int parse_number(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			void *dest)
{
	uint64_t value;

	if (!text_to_u64(word, &value))
		return sg_fail(p, -EINVAL, "bad number '%s' for %s", word, spec->what);
	return store_u64(dest, value);
}

static int parse_u32(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	uint64_t value;
	uint32_t narrow;

	if (!text_to_u64(word, &value))
		return sg_fail(p, -EINVAL, "bad number '%s' for %s", word, spec->what);
	if (value > UINT32_MAX)
		return sg_fail(p, -EINVAL, "%s '%s' does not fit in 32 bits", spec->what, word);
	narrow = (uint32_t)value;
	if (dest)
		memcpy(dest, &narrow, sizeof(narrow));
	return 0;
}

/* all and -1 are every bit (an instruction mask of all ones), not just the known components. */
static int parse_mask(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	struct vx_error mask_err = VX_ERROR_INIT;
	uint64_t mask;

	if (strcasecmp(word, "all") == 0 || strcmp(word, "-1") == 0)
		return store_u64(dest, UINT64_MAX);
	if (strcasecmp(word, "none") == 0)
		return store_u64(dest, 0);
	if (isdigit((unsigned char)word[0]))
		return parse_number(p, spec, word, dest);
	if (vx_parse_component_mask(word, &mask, &mask_err) < 0)
		return sg_fail(p, -EINVAL, "bad %s '%s': %s", spec->what, word,
			       mask_err.reason[0] ? mask_err.reason : "not a mask");
	return store_u64(dest, mask);
}

static int parse_features(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			  void *dest)
{
	char list[SG_LINE_MAX + 1];
	char *save = NULL;
	uint64_t mask = 0;

	(void)spec;
	snprintf(list, sizeof(list), "%s", word);
	for (char *name = strtok_r(list, ",|", &save); name; name = strtok_r(NULL, ",|", &save)) {
		int feature = vx_feature_by_name(name);

		if (feature < 0 || feature >= 64)
			return sg_fail(p, -EINVAL, "unknown CPUID feature '%s'", name);
		mask |= VX_BIT(feature);
	}
	return store_u64(dest, mask);
}

const struct sg_kind sg_kind_number = {"NUMBER", parse_number};
const struct sg_kind sg_kind_u32 = {"NUMBER", parse_u32};
const struct sg_kind sg_kind_mask = {"MASK", parse_mask};
const struct sg_kind sg_kind_features = {"FEATURE[,FEATURE...]", parse_features};

/* ----------------------------------------------------------------------------------------- */
/* Literals of any width                                                                        */

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex digits; '_' only between two digits, as in every other number. */
static int count_hex_digits(struct sg_parser *p, const char *word, const char *digits,
			    size_t *count)
{
	*count = 0;
	for (const char *s = digits; *s; s++) {
		if (*s == '_' && *count && hex_digit((unsigned char)s[1]) >= 0)
			continue;
		if (hex_digit((unsigned char)*s) < 0)
			return sg_fail(p, -EINVAL, "bad hex digit '%c' in '%s'", *s, word);
		(*count)++;
	}
	if (!*count)
		return sg_fail(p, -EINVAL, "no hex digits in '%s'", word);
	return 0;
}

/* Hex digits into little-endian bytes of a number, or bytes in memory order. */
static int hex_to_bytes(struct sg_parser *p, const char *word, const char *digits,
			bool memory_order, struct sg_bytes *value)
{
	size_t count, length;
	int rc = count_hex_digits(p, word, digits, &count);

	if (rc)
		return rc;
	if (memory_order && (count & 1))
		return sg_fail(p, -EINVAL, "odd number of hex digits in '%s' (two per byte)", word);
	length = (count + 1) / 2;
	if (length > SG_BYTES_MAX)
		return sg_fail(p, -E2BIG, "value '%.20s...' is longer than %u bytes", word,
			       SG_BYTES_MAX);
	value->bytes = calloc(length ? length : 1, 1);
	if (!value->bytes)
		return sg_fail(p, -ENOMEM, "out of memory");
	for (size_t i = 0; *digits; digits++) {
		if (*digits == '_')
			continue;
		/* i counts digits from the left; numbers put the last digit in byte 0. */
		size_t from_right = count - 1 - i;
		size_t index = memory_order ? i / 2 : from_right / 2;
		unsigned shift = memory_order ? (i & 1 ? 0 : 4) : (from_right & 1 ? 4 : 0);

		/* Every digit but '_' was checked by count_hex_digits(): hex_digit() >= 0. */
		/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		value->bytes[index] |= (uint8_t)(hex_digit((unsigned char)*digits) << shift);
		i++;
	}
	value->length = length;
	return 0;
}

/* Drop high zero bytes of a number so widths compare by significance (at least one byte). */
static void trim_number(struct sg_bytes *value)
{
	while (value->length > 1 && value->bytes[value->length - 1] == 0)
		value->length--;
}

static int number_bytes(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			struct sg_bytes *value)
{
	uint64_t number = 0;
	int rc = parse_number(p, spec, word, &number);

	if (rc)
		return rc;
	value->bytes = calloc(8, 1);
	if (!value->bytes)
		return sg_fail(p, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < 8; i++)
		value->bytes[i] = (uint8_t)(number >> (8 * i));
	value->length = 8;
	trim_number(value);
	return 0;
}

static int parse_value(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	struct sg_bytes scratch = {0}, *value = dest ? dest : &scratch;
	int rc;

	memset(value, 0, sizeof(*value));
	if (strcmp(word, "-1") == 0 || strcasecmp(word, "all") == 0) {
		value->all_ones = true;
		return 0;
	}
	if (strncasecmp(word, "hex:", 4) == 0)
		rc = hex_to_bytes(p, word, word + 4, true, value);
	else if (word[0] == '0' && (word[1] == 'x' || word[1] == 'X'))
		rc = hex_to_bytes(p, word, word + 2, false, value);
	else
		rc = number_bytes(p, spec, word, value);
	if (rc == 0 && strncasecmp(word, "hex:", 4) != 0)
		trim_number(value);
	free(scratch.bytes);
	return rc;
}

static int parse_hex(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	if (strncasecmp(word, "hex:", 4) != 0)
		return sg_fail_word(p, -EINVAL,
				    spec->refuse ? spec->refuse
						 : "expected hex:BYTES, "
						   "not '{}'",
				    word);
	return parse_value(p, spec, word, dest);
}

const struct sg_kind sg_kind_value = {"VALUE", parse_value};
const struct sg_kind sg_kind_hex = {"hex:BYTES", parse_hex};

/* ----------------------------------------------------------------------------------------- */
/* x86 names                                                                                    */

static const uint32_t known_msrs[] = {
    VX_MSR_IA32_XFD,	     VX_MSR_IA32_XFD_ERR, VX_MSR_IA32_U_CET,   VX_MSR_IA32_S_CET,
    VX_MSR_IA32_PL0_SSP,     VX_MSR_IA32_PL1_SSP, VX_MSR_IA32_PL2_SSP, VX_MSR_IA32_PL3_SSP,
    VX_MSR_IA32_INT_SSP_TAB, VX_MSR_IA32_PASID,	  VX_MSR_IA32_XSS,
};

/* Short names the scripts accept besides the ones vx_msr_name() gives. */
static const struct sg_choice msr_aliases[] = {
    {"INT_SSP_TAB", VX_MSR_IA32_INT_SSP_TAB},
    {"INTERRUPT_SSP_TABLE", VX_MSR_IA32_INT_SSP_TAB},
    {"ISST", VX_MSR_IA32_INT_SSP_TAB},
    {NULL, 0},
};

static bool msr_by_name(const char *word, uint32_t *msr)
{
	const char *bare = strncasecmp(word, "IA32_", 5) == 0 ? word + 5 : word;
	uint64_t alias;

	if (lookup(msr_aliases, bare, &alias)) {
		*msr = (uint32_t)alias;
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(known_msrs); i++) {
		const char *name = vx_msr_name(known_msrs[i]);

		if (name && (strcasecmp(name, word) == 0 || (strncasecmp(name, "IA32_", 5) == 0 &&
							     strcasecmp(name + 5, bare) == 0))) {
			*msr = known_msrs[i];
			return true;
		}
	}
	return false;
}

static int parse_msr(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	static const struct sg_arg number = {.kind = &sg_kind_u32, .what = "an MSR number"};
	uint32_t msr;

	(void)spec;
	if (isdigit((unsigned char)word[0]))
		return parse_u32(p, &number, word, dest);
	if (!msr_by_name(word, &msr))
		return sg_fail(
		    p, -EINVAL,
		    "unknown MSR '%s' (names: IA32_XSS, IA32_XFD, IA32_XFD_ERR, IA32_U_CET, "
		    "IA32_S_CET, IA32_PL0..3_SSP, IA32_INT_SSP_TAB, IA32_PASID, or a "
		    "number; the IA32_ prefix is optional)",
		    word);
	if (dest)
		memcpy(dest, &msr, sizeof(msr));
	return 0;
}

static int parse_register(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			  void *dest)
{
	const struct vx_reg_info *reg = vx_reg_lookup(word);

	(void)spec;
	if (!reg)
		return sg_fail(p, -EINVAL, "unknown register '%s'", word);
	/* The destination holds the pointer itself. */
	if (dest)
		memcpy(dest, &reg, sizeof(reg)); /* NOLINT(bugprone-sizeof-expression) */
	return 0;
}

static const struct sg_choice vector_names[] = {
    {"UD", VX_VEC_UD}, {"NM", VX_VEC_NM}, {"SS", VX_VEC_SS}, {"GP", VX_VEC_GP},
    {"PF", VX_VEC_PF}, {"AC", VX_VEC_AC}, {"CP", VX_VEC_CP}, {NULL, 0},
};

const char *sg_vector_name(unsigned vector)
{
	for (const struct sg_choice *c = vector_names; c->name; c++)
		if (c->value == vector)
			return c->name;
	return "?";
}

/* "(0)" after the name: the error code. */
static int parse_error_code(struct sg_parser *p, const char *word, const char *paren,
			    struct sg_fault *fault)
{
	static const struct sg_arg code_arg = {.kind = &sg_kind_number, .what = "an error code"};
	size_t length = strlen(paren + 1);
	char code[24];

	if (length < 2 || paren[length] != ')' || length > sizeof(code))
		return sg_fail(p, -EINVAL, "bad error code in '%s' (write #GP(0))", word);
	memcpy(code, paren + 1, length - 1);
	code[length - 1] = '\0';
	fault->has_code = true;
	return parse_number(p, &code_arg, code, &fault->code);
}

/* "#GP", "GP", "#GP(0)": the vector, and the error code if one is given. */
static int parse_fault(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	const char *start = word[0] == '#' ? word + 1 : word;
	const char *paren = strchr(start, '(');
	size_t name_length = paren ? (size_t)(paren - start) : strlen(start);
	struct sg_fault fault = {0};
	uint64_t vector;
	char name[16];
	int rc = 0;

	(void)spec;
	snprintf(name, sizeof(name), "%.*s", (int)name_length, start);
	if (!lookup(vector_names, name, &vector))
		return sg_fail(p, -EINVAL, "unknown exception '%s' (#UD #NM #SS #GP #PF #AC #CP)",
			       word);
	fault.vector = (uint32_t)vector;
	if (paren)
		rc = parse_error_code(p, word, paren, &fault);
	if (!rc && dest)
		memcpy(dest, &fault, sizeof(fault));
	return rc;
}

const struct sg_kind sg_kind_msr = {"MSR", parse_msr};
const struct sg_kind sg_kind_register = {"REG", parse_register};
const struct sg_kind sg_kind_fault = {"#VECTOR[(CODE)]", parse_fault};
