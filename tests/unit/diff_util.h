/* SPDX-License-Identifier: MIT */
/*
 * Small helpers of the differential test (test_cpu_differential.c): a seeded random stream,
 * little-endian access, and names for the bytes of an XSAVE area.  Static inline only.
 */
#ifndef VXSAVE_TESTS_DIFF_UTIL_H
#define VXSAVE_TESTS_DIFF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/arch.h>

/* ---- random numbers: splitmix64, one independent stream per case ---- */

struct diff_rng {
	uint64_t s;
};

static inline uint64_t diff_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static inline uint64_t diff_next(struct diff_rng *r)
{
	r->s += UINT64_C(0x9E3779B97F4A7C15);
	return diff_mix64(r->s);
}

/* Uniform in [0, n); n > 0. */
static inline uint32_t diff_below(struct diff_rng *r, uint32_t n)
{
	return (uint32_t)(((diff_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability @percent / 100. */
static inline bool diff_chance(struct diff_rng *r, unsigned percent)
{
	return diff_below(r, 100) < percent;
}

static inline void diff_fill(struct diff_rng *r, uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t v = diff_next(r);

		memcpy(p, &v, 8);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t v = diff_next(r);

		memcpy(p, &v, n);
	}
}

/* The seed of case @index of category @cat: independent of every other case. */
static inline uint64_t diff_case_seed(uint64_t base, unsigned cat, uint64_t index)
{
	return diff_mix64(base ^ diff_mix64(((uint64_t)cat << 56) ^ (index + 1)));
}

/* ---- little-endian fields ---- */

static inline uint64_t diff_ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t diff_ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint16_t diff_ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static inline void diff_st64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline void diff_st32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void diff_st16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* ---- names of area bytes ---- */

/**
 * diff_legacy_byte_name() - the field of legacy-region / header byte @off (0..575) as
 * arch.md §2.2/§2.3 name it.  @rex_w picks the FIP/FDP format of bytes 8-23.
 */
static inline void diff_legacy_byte_name(unsigned off, bool rex_w, char *buf, size_t len)
{
	if (off < 2)
		snprintf(buf, len, "x87 FCW byte %u", off);
	else if (off < 4)
		snprintf(buf, len, "x87 FSW byte %u", off - 2);
	else if (off == 4)
		snprintf(buf, len, "x87 abridged FTW");
	else if (off == 5)
		snprintf(buf, len, "x87 reserved byte 5");
	else if (off < 8)
		snprintf(buf, len, "x87 FOP byte %u", off - 6);
	else if (off < 16)
		snprintf(buf, len, rex_w || off < 12 ? "x87 FIP byte %u" : "x87 FCS/rsvd byte %u",
			 rex_w || off < 12 ? off - 8 : off - 12);
	else if (off < 24)
		snprintf(buf, len, rex_w || off < 20 ? "x87 FDP byte %u" : "x87 FDS/rsvd byte %u",
			 rex_w || off < 20 ? off - 16 : off - 20);
	else if (off < 28)
		snprintf(buf, len, "SSE MXCSR byte %u", off - 24);
	else if (off < 32)
		snprintf(buf, len, "SSE MXCSR_MASK byte %u", off - 28);
	else if (off < 160)
		snprintf(buf, len, "x87 ST%u byte %u", (off - 32) / 16, (off - 32) % 16);
	else if (off < 416)
		snprintf(buf, len, "SSE XMM%u byte %u", (off - 160) / 16, (off - 160) % 16);
	else if (off < 464)
		snprintf(buf, len, "legacy reserved 416-463 (+%u)", off - 416);
	else if (off < 512)
		snprintf(buf, len, "legacy software-available 464-511 (+%u)", off - 464);
	else if (off < 520)
		snprintf(buf, len, "header XSTATE_BV byte %u", off - 512);
	else if (off < 528)
		snprintf(buf, len, "header XCOMP_BV byte %u", off - 520);
	else if (off < 536)
		snprintf(buf, len, "header reserved byte %u (16-23)", off - 512);
	else
		snprintf(buf, len, "header reserved byte %u (24-63)", off - 512);
}

/* The first byte at which @a and @b differ, or -1. */
static inline int diff_first_byte(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return (int)i;
	return -1;
}

/* Print up to 12 differing bytes of the kernel's (@k) and the model's (@m) buffers. */
static inline void diff_dump_bytes(const char *what, const uint8_t *k, const uint8_t *m, size_t n)
{
	int shown = 0;

	printf("  %s: kernel vs model differ at", what);
	for (size_t i = 0; i < n && shown < 12; i++)
		if (k[i] != m[i]) {
			printf(" [%zu] %02x/%02x", i, k[i], m[i]);
			shown++;
		}
	printf("\n");
}

#endif /* VXSAVE_TESTS_DIFF_UTIL_H */
