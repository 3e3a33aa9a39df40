/* SPDX-License-Identifier: MIT */
/* Small text helpers for the core (C11 has no strcasecmp; the core avoids POSIX). */
#ifndef VXSAVE_ARCH_TEXT_H
#define VXSAVE_ARCH_TEXT_H

#include <stdbool.h>
#include <stddef.h>

static inline char vx_ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive equality of @a and the first @len bytes of @b (b need not be terminated). */
static inline bool vx_name_matches(const char *a, const char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i] == '\0' || vx_ascii_lower(a[i]) != vx_ascii_lower(b[i]))
			return false;
	return a[i] == '\0';
}

static inline size_t vx_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

#endif
