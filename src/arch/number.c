/* SPDX-License-Identifier: MIT */
/*
 * The one rule for every number vxsave reads: command-line options, cpu scripts, dump headers.
 * Decimal unless prefixed: "010" is ten, never octal (C's strtoul(..., 0) would read eight, which
 * nobody typing a mask expects); "0x" is hex, "0b" binary; '_' may group digits.
 */
#include <errno.h>

#include <vxsave/arch.h>

#include "arch/text.h"

/* Value of @c as a digit in @base, or -1. */
static int digit_value(char c, unsigned base)
{
	int value = -1;

	if (c >= '0' && c <= '9')
		value = c - '0';
	else if (vx_ascii_lower(c) >= 'a' && vx_ascii_lower(c) <= 'f')
		value = vx_ascii_lower(c) - 'a' + 10;
	return value >= 0 && (unsigned)value < base ? value : -1;
}

/* The base a prefix selects, and how many characters the prefix takes. */
static unsigned number_base(const char *text, size_t len, size_t *prefix)
{
	*prefix = 0;
	if (len >= 2 && text[0] == '0' && vx_ascii_lower(text[1]) == 'x') {
		*prefix = 2;
		return 16;
	}
	if (len >= 2 && text[0] == '0' && vx_ascii_lower(text[1]) == 'b') {
		*prefix = 2;
		return 2;
	}
	return 10;
}

static int not_a_number(const char *text, size_t len, struct vx_error *err)
{
	int shown = len > 40 ? 40 : (int)len;

	return vx_error_set(err, -EINVAL, NULL,
			    "'%.*s%s' is not a number (decimal, 0x hex or 0b binary; '_' may "
			    "separate digits)",
			    shown, text, len > 40 ? "..." : "");
}

int vx_parse_u64(const char *text, size_t len, uint64_t *value, struct vx_error *err)
{
	uint64_t result = 0;
	size_t prefix, digits = 0;
	unsigned base;

	if (!text || !value || len == 0)
		return vx_error_set(err, -EINVAL, NULL, "empty number");
	base = number_base(text, len, &prefix);
	for (size_t i = prefix; i < len; i++) {
		int digit = digit_value(text[i], base);

		/* '_' groups digits: only between two of them ("0xffff_8000", not "_1" or "1_"). */
		if (text[i] == '_' && digits && i + 1 < len && text[i + 1] != '_')
			continue;
		if (digit < 0)
			return not_a_number(text, len, err);
		if (result > (UINT64_MAX - (uint64_t)digit) / base)
			return vx_error_set(err, -ERANGE, NULL, "'%.*s' does not fit in 64 bits",
					    len > 40 ? 40 : (int)len, text);
		result = result * base + (uint64_t)digit;
		digits++;
	}
	if (!digits)
		return not_a_number(text, len, err);
	*value = result;
	return 0;
}
