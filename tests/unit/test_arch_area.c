/* SPDX-License-Identifier: MIT */
/*
 * Whole XSAVE areas (area.h) against independent expectations:
 *  - placements: hand-computed offsets from arch.md §2.1/§2.4/§2.6 and the README layout of
 *    sapphire-rapids, and the zen4 standard offsets;
 *  - every header/MXCSR refusal of §5.5/§5.6 and linux-fpu.md §7.2, with the error fields;
 *  - initial values (§6), conversion with hand-placed registers, the §5.3 MXCSR rule;
 *  - round trips standard -> compacted -> standard for random masks and contents (fixed,
 *    printed seed), refusals and short buffers leaving the destination byte-for-byte unchanged;
 *  - decoding: regions, named registers; every register's place (arch and cpu tables) computed
 *    from the component contents;
 *  - on this machine: the library's compaction of a real XSAVE64 image against the real
 *    XSAVEC64 of the same register state (skipped, saying why, where the backend cannot run).
 */
/* clang-format off: cmocka needs these first, in this order */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/area.h>
#include <vxsave/cpu.h>
#include <vxsave/cpu_hw.h>

#define B(n)	  VX_BIT(n)
#define AREA_MAX  16384u
#define SEED	  UINT64_C(0x5eed0a7ea5eed)
#define STD	  VX_AREA_STANDARD
#define CMP	  VX_AREA_COMPACTED
#define FILL_BYTE 0x5A

static _Alignas(64) uint8_t src[AREA_MAX], dst[AREA_MAX], copy[AREA_MAX], back[AREA_MAX];

static void load(struct vx_profile *p, const char *name)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_profile_builtin(p, name, &err))
		fail_msg("vx_profile_builtin(%s): %s", name, err.reason);
}

static void put(uint8_t *area, uint64_t offset, unsigned width, uint64_t value)
{
	for (unsigned i = 0; i < width; i++)
		area[offset + i] = (uint8_t)(value >> (8 * i));
}

static uint64_t get(const uint8_t *area, uint64_t offset, unsigned width)
{
	return vx_area_read(area, AREA_MAX, offset, width);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ----------------------------------------------------------------------------------------- */
/* Placement: arch.md §2.1 standard offsets, §2.4 worked examples, §2.6 AMD, README SPR table  */

struct place_case {
	const char *profile;
	enum vx_area_format format;
	uint64_t layout;
	unsigned component;
	uint64_t offset, size;
};

static const struct place_case places[] = {
    {.profile = "sapphire-rapids",
     .format = STD,
     .layout = 0x602e7,
     .component = 2,
     .offset = 576,
     .size = 256},
    {.profile = "sapphire-rapids",
     .format = STD,
     .layout = 0x602e7,
     .component = 5,
     .offset = 1088,
     .size = 64},
    {.profile = "sapphire-rapids",
     .format = STD,
     .layout = 0x602e7,
     .component = 7,
     .offset = 1664,
     .size = 1024},
    {.profile = "sapphire-rapids",
     .format = STD,
     .layout = 0x602e7,
     .component = 9,
     .offset = 2688,
     .size = 8},
    {.profile = "sapphire-rapids",
     .format = STD,
     .layout = 0x602e7,
     .component = 18,
     .offset = 2816,
     .size = 8192},
    {.profile = "sapphire-rapids",
     .format = CMP,
     .layout = 0x207,
     .component = 9,
     .offset = 832,
     .size = 8},
    {.profile = "sapphire-rapids",
     .format = CMP,
     .layout = 0x1a07,
     .component = 11,
     .offset = 840,
     .size = 16},
    {.profile = "sapphire-rapids",
     .format = CMP,
     .layout = 0x1a07,
     .component = 12,
     .offset = 856,
     .size = 24},
    {.profile = "sapphire-rapids",
     .format = CMP,
     .layout = 0x60207,
     .component = 17,
     .offset = 896,
     .size = 64},
    {.profile = "sapphire-rapids",
     .format = CMP,
     .layout = 0x60207,
     .component = 18,
     .offset = 960,
     .size = 8192},
    {.profile = "sapphire-rapids",
     .format = CMP,
     .layout = 0x20203,
     .component = 17,
     .offset = 640,
     .size = 64},
    {.profile = "sapphire-rapids",
     .format = CMP,
     .layout = 0x6dfe7,
     .component = 8,
     .offset = 2432,
     .size = 128},
    {.profile = "sapphire-rapids",
     .format = CMP,
     .layout = 0x6dfe7,
     .component = 15,
     .offset = 2664,
     .size = 808},
    {.profile = "sapphire-rapids",
     .format = CMP,
     .layout = 0x6dfe7,
     .component = 17,
     .offset = 3520,
     .size = 64},
    {.profile = "zen4", .format = STD, .layout = 0x2e7, .component = 5, .offset = 832, .size = 64},
    {.profile = "zen4", .format = STD, .layout = 0x2e7, .component = 6, .offset = 896, .size = 512},
    {.profile = "zen4", .format = STD, .layout = 0x2e7, .component = 9, .offset = 2432, .size = 8},
    {.profile = "zen4",
     .format = CMP,
     .layout = 0x1a07,
     .component = 12,
     .offset = 856,
     .size = 24},
    {.profile = "sapphire-rapids",
     .format = STD,
     .layout = 0x3,
     .component = 1,
     .offset = 160,
     .size = 256},
};

struct size_case {
	const char *profile;
	enum vx_area_format format;
	uint64_t layout, size;
};

static const struct size_case sizes[] = {
    {"sapphire-rapids", STD, 0x3, 576},
    {"sapphire-rapids", STD, 0x7, 832},
    {"sapphire-rapids", STD, 0xe7, 2688},
    {"sapphire-rapids", STD, 0x2e7, 2696},
    {"sapphire-rapids", STD, 0x602e7, 11008},
    {"sapphire-rapids", CMP, 0x7, 832},
    {"sapphire-rapids", CMP, 0xe7, 2432},
    {"sapphire-rapids", CMP, 0x2e7, 2440},
    {"sapphire-rapids", CMP, 0x1803, 616},
    {"sapphire-rapids", CMP, 0x60003, 8832},
    {"sapphire-rapids", CMP, 0x60207, 9152},
    {"sapphire-rapids", CMP, 0x20203, 704},
    {"sapphire-rapids", CMP, 0x6dfe7, 11776},
    {"zen4", STD, 0x2e7, 2440},
    {"zen4", CMP, 0x2e7, 2440},
    {"zen4", CMP, 0x1ae7, 2480},
};

static void test_placements(void **state)
{
	struct vx_profile p;

	(void)state;
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		const struct place_case *c = &places[i];
		struct vx_error err = VX_ERROR_INIT;
		uint64_t offset = 0, size = 0;

		load(&p, c->profile);
		if (vx_area_locate(&p, c->format, c->layout, c->component, &offset, &size, &err))
			fail_msg("case %zu: %s", i, err.reason);
		if (offset != c->offset || size != c->size)
			fail_msg("case %zu (%s component %u): %llu/%llu, expected %llu/%llu", i,
				 c->profile, c->component, (unsigned long long)offset,
				 (unsigned long long)size, (unsigned long long)c->offset,
				 (unsigned long long)c->size);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t size = 0;

		load(&p, sizes[i].profile);
		assert_int_equal(vx_area_size(&p, sizes[i].format, sizes[i].layout, &size, NULL),
				 0);
		if (size != sizes[i].size)
			fail_msg("size case %zu: %llu, expected %llu", i, (unsigned long long)size,
				 (unsigned long long)sizes[i].size);
	}
}

static void test_placement_refusals(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;
	uint64_t size = 7;

	(void)state;
	load(&p, "sapphire-rapids");
	/* §2.4: supervisor components have no standard place. */
	assert_int_equal(vx_area_size(&p, STD, 0x1807, &size, &err), -EINVAL);
	assert_int_equal(err.component, 11);
	assert_int_equal(size, 7);
	/* §1.2: MPX is not enumerated on SPR. */
	vx_error_clear(&err);
	assert_int_equal(vx_area_size(&p, CMP, 0x1f, &size, &err), -EINVAL);
	assert_int_equal(err.bits, 0x18);
	assert_int_equal(vx_area_locate(&p, CMP, 0x7, 9, NULL, NULL, &err), -ENOENT);
	load(&p, "zen4");
	assert_int_equal(vx_area_size(&p, STD, 0x60007, &size, &err), -EINVAL);
	assert_int_equal(err.component, 17);
}

/* ----------------------------------------------------------------------------------------- */
/* Header and MXCSR checks (§5.5, §5.6, linux-fpu.md §7.2)                                        */

struct header_case {
	const char *what;
	uint64_t xstate_bv, xcomp_bv;
	int poke_byte; /* header byte set to 1, or -1 */
	uint64_t allowed;
	enum vx_area_format format;
	unsigned flags;
	int rc;
	int component;
	uint64_t bits;
	int64_t offset;
};

static const struct header_case headers[] = {
    {"standard ok", 0x207, 0, -1, 0x2e7, STD, 0, 0, -1, 0, -1},
    {"standard bytes 24-63 unchecked", 0x7, 0, 40, 0x7, STD, 0, 0, -1, 0, -1},
    {"auto picks standard", 0x3, 0, -1, 0x3, VX_AREA_AUTO, 0, 0, -1, 0, -1},
    {"XSTATE_BV outside XCR0", 0x207, 0, -1, 0x7, STD, 0, -EINVAL, 9, 0x200, 512},
    {"XSTATE_BV bit 63", B(63) | 1, 0, -1, 0x7, STD, 0, -EINVAL, 63, B(63), 512},
    {"standard XCOMP_BV non-zero", 0x3, 0x3, -1, 0x7, STD, 0, -EINVAL, -1, 0, 520},
    {"standard byte 16", 0x3, 0, 16, 0x7, STD, 0, -EINVAL, -1, 0, 528},
    {"standard byte 23", 0x3, 0, 23, 0x7, STD, 0, -EINVAL, -1, 0, 535},
    {"uABI byte 24", 0x3, 0, 24, 0x7, STD, VX_AREA_CHECK_ALL_RESERVED, -EINVAL, -1, 0, 536},
    {"uABI byte 63", 0x3, 0, 63, 0x7, STD, VX_AREA_CHECK_ALL_RESERVED, -EINVAL, -1, 0, 575},
    {"compacted where standard expected", 0x3, B(63) | 0x3, -1, 0x7, STD, 0, -EINVAL, 63, B(63),
     527},
    {"compacted ok", 0x1803, B(63) | 0x1a07, -1, 0x1a07, CMP, 0, 0, -1, 0, -1},
    {"auto picks compacted", 0x3, B(63) | 0x7, -1, 0x7, VX_AREA_AUTO, 0, 0, -1, 0, -1},
    {"XRSTORS of a standard area", 0x3, 0, -1, 0x7, CMP, 0, -EINVAL, 63, B(63), 527},
    {"XCOMP_BV outside XCR0|XSS", 0x3, B(63) | 0x1807, -1, 0x7, CMP, 0, -EINVAL, 11, 0x1800, 520},
    {"XSTATE_BV outside XCOMP_BV", 0x207, B(63) | 0x7, -1, 0x2e7, CMP, 0, -EINVAL, 9, 0x200, 512},
    {"compacted byte 16", 0x3, B(63) | 0x3, 16, 0x7, CMP, 0, -EINVAL, -1, 0, 528},
    {"compacted byte 63", 0x3, B(63) | 0x3, 63, 0x7, CMP, 0, -EINVAL, -1, 0, 575},
};

static void make_header(uint8_t *area, const struct header_case *c)
{
	memset(area, 0, 1024);
	put(area, 512, 8, c->xstate_bv);
	put(area, 520, 8, c->xcomp_bv);
	if (c->poke_byte >= 0)
		area[512 + c->poke_byte] = 1;
}

static void test_header_checks(void **state)
{
	struct vx_profile p;

	(void)state;
	load(&p, "sapphire-rapids");
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		const struct header_case *c = &headers[i];
		struct vx_error err = VX_ERROR_INIT;
		int rc;

		make_header(src, c);
		rc = vx_area_check_header(&p, src, 1024, c->allowed, c->format, c->flags, &err);
		if (rc != c->rc)
			fail_msg("%s: rc %d, expected %d (%s)", c->what, rc, c->rc, err.reason);
		if (rc == 0)
			continue;
		if (err.component != c->component || err.bits != c->bits || err.offset != c->offset)
			fail_msg("%s: component %d bits %#llx offset %lld: %s", c->what,
				 err.component, (unsigned long long)err.bits, (long long)err.offset,
				 err.reason);
		assert_non_null(err.rule);
		assert_true(err.reason[0] != '\0');
	}
}

static void test_header_needs_xsavec_and_length(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cpuid_regs r;
	struct vx_profile p;

	(void)state;
	load(&p, "sapphire-rapids");
	memset(src, 0, 1024);
	put(src, 520, 8, B(63) | 3);
	assert_int_equal(vx_area_check_header(&p, src, 575, 3, CMP, 0, &err), -EINVAL);
	assert_int_equal(err.offset, 575);
	/* §5.5: XCOMP_BV[63] = 1 on a CPU without XSAVEC (CPUID.(0xD,1).EAX[1] = 0). */
	r = vx_profile_leaf(&p, 0xD, 1);
	r.eax &= ~2u;
	assert_int_equal(vx_profile_set_leaf(&p, 0xD, 1, &r), 0);
	assert_int_equal(vx_area_check_header(&p, src, 1024, 3, CMP, 0, &err), -EINVAL);
	assert_int_equal(err.bits, B(63));
	assert_non_null(strstr(err.reason, "XSAVEC"));
}

static void test_mxcsr_checks(void **state)
{
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	memset(src, 0, 64);
	put(src, 24, 4, 0x1F80);
	assert_int_equal(vx_area_check_mxcsr(src, 64, 0xFFFF, &err), 0);
	put(src, 24, 4, 0x11F80);
	assert_int_equal(vx_area_check_mxcsr(src, 64, 0xFFFF, &err), -EINVAL);
	assert_int_equal(err.bits, 0x10000);
	assert_int_equal(err.offset, 24);
	assert_int_equal(err.component, 1);
	/* §2.2: a stored MXCSR_MASK of 0 means 0xFFBF, so DAZ (bit 6) is reserved. */
	put(src, 24, 4, 0x1FC0);
	assert_int_equal(vx_area_check_mxcsr(src, 64, 0, &err), -EINVAL);
	assert_int_equal(err.bits, 0x40);
	assert_int_equal(vx_area_check_mxcsr(src, 64, 0xFFFF, &err), 0);
	assert_int_equal(vx_area_check_mxcsr(src, 27, 0xFFFF, &err), -EINVAL);
}

/* ----------------------------------------------------------------------------------------- */
/* Initial values (§6)                                                                          */

static void test_init_components(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;

	(void)state;
	load(&p, "sapphire-rapids");
	memset(dst, 0xAA, AREA_MAX);
	assert_int_equal(vx_area_init_components(&p, dst, 2440, CMP, 0x2e7, 0x207, &err), 0);
	assert_int_equal(get(dst, 0, 2), 0x037F); /* FCW */
	for (unsigned i = 2; i < 24; i++)
		assert_int_equal(dst[i], 0);
	assert_int_equal(get(dst, 24, 4), 0x1F80);
	assert_int_equal(get(dst, 28, 4), 0xFFFF); /* what XSAVE stores beside it (§2.2) */
	for (unsigned i = 32; i < 416; i++)
		assert_int_equal(dst[i], 0);
	for (unsigned i = 416; i < 576; i++) /* legacy reserved, software bytes, header */
		assert_int_equal(dst[i], 0xAA);
	for (unsigned i = 576; i < 832; i++)
		assert_int_equal(dst[i], 0);
	for (unsigned i = 832; i < 2432; i++) /* opmask, ZMM: not asked for */
		assert_int_equal(dst[i], 0xAA);
	assert_int_equal(get(dst, 2432, 8), 0); /* PKRU = 0, not Linux's 0x55555554 */
	/* Refusals leave the area unchanged. */
	memcpy(copy, dst, AREA_MAX);
	assert_int_equal(vx_area_init_components(&p, dst, 2440, CMP, 0x7, 0x200, &err), -EINVAL);
	assert_int_equal(err.bits, 0x200);
	assert_int_equal(vx_area_init_components(&p, dst, 2439, CMP, 0x2e7, 0x200, &err), -EINVAL);
	assert_int_equal(vx_area_init_components(&p, dst, 4096, STD, 0x1803, 0x800, &err), -EINVAL);
	assert_memory_equal(copy, dst, AREA_MAX);
	/* Standard format: PKRU at its §2.1 offset 2688. */
	put(dst, 2688, 8, ~UINT64_C(0));
	assert_int_equal(vx_area_init_components(&p, dst, 2696, STD, 0x2e7, 0x200, &err), 0);
	assert_int_equal(get(dst, 2688, 8), 0);
}

/* ----------------------------------------------------------------------------------------- */
/* Conversion with hand-placed registers                                                        */

static void test_convert_hand_placed(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;
	size_t required = 0;

	(void)state;
	load(&p, "sapphire-rapids");
	memset(src, 0, AREA_MAX);
	put(src, 0, 2, 0x027F);		   /* FCW */
	put(src, 24, 4, 0x1F80);	   /* MXCSR */
	put(src, 28, 4, 0xFFFF);	   /* MXCSR_MASK */
	put(src, 160 + 16, 8, 0x1111);	   /* xmm1 */
	put(src, 576 + 16 * 3, 8, 0x3333); /* ymmh3 */
	put(src, 1088 + 8 * 3, 8, 0x7777); /* k3 */
	put(src, 1152, 8, 0xdead);	   /* zmmh0, but ZMM_Hi256 not in XSTATE_BV */
	put(src, 2688, 4, 0x55555554);	   /* PKRU */
	put(src, 512, 8, 0x227);
	memset(dst, FILL_BYTE, AREA_MAX);
	assert_int_equal(
	    vx_area_convert(&p, 0x2e7, src, 2696, STD, dst, AREA_MAX, CMP, 0, &required, &err), 0);
	assert_int_equal(required, 2440);
	assert_int_equal(get(dst, 512, 8), 0x227);
	assert_int_equal(get(dst, 520, 8), B(63) | 0x2e7);
	assert_int_equal(get(dst, 0, 2), 0x027F);
	assert_int_equal(get(dst, 160 + 16, 8), 0x1111);
	assert_int_equal(get(dst, 576 + 48, 8), 0x3333);
	assert_int_equal(get(dst, 832 + 24, 8), 0x7777);
	assert_int_equal(get(dst, 896, 8), 0); /* ZMM_Hi256 in its initial configuration */
	assert_int_equal(get(dst, 2432, 4), 0x55555554);
	assert_int_equal(dst[2440], FILL_BYTE); /* nothing past the area */
	/* Back to the standard format: the same registers at their standard places. */
	put(src, 1152, 8, 0); /* the expected result: ZMM_Hi256 comes back initial */
	memset(back, FILL_BYTE, AREA_MAX);
	assert_int_equal(vx_area_convert(&p, 0x2e7, dst, 2440, CMP, back, 2696, STD, 0, NULL, &err),
			 0);
	assert_memory_equal(back, src, 2696);
}

/* §5.3: XSAVEC records SSE when MXCSR is not 0x1F80, even with XSTATE_BV[1] = 0. */
static void test_convert_mxcsr_rule(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;

	(void)state;
	load(&p, "zen4");
	memset(src, 0, AREA_MAX);
	put(src, 0, 2, 0x037F);
	put(src, 24, 4, 0x9F80);
	put(src, 28, 4, 0xFFFF);
	put(src, 160, 8, 0xbad); /* stale XMM bytes: XSTATE_BV[1] = 0 makes them initial */
	put(src, 512, 8, 0x1);
	memset(dst, FILL_BYTE, AREA_MAX);
	assert_int_equal(vx_area_convert(&p, 0x3, src, 576, STD, dst, 576, CMP, 0, NULL, &err), 0);
	assert_int_equal(get(dst, 512, 8), 0x3);
	assert_int_equal(get(dst, 24, 4), 0x9F80);
	assert_int_equal(get(dst, 160, 8), 0);
	/* AVX alone in RFBM still loads MXCSR from a standard area (§5.5). */
	put(src, 24, 4, 0x11F80);
	memcpy(copy, dst, AREA_MAX);
	assert_int_equal(vx_area_convert(&p, 0x5, src, 832, STD, dst, 832, STD, 0, NULL, &err),
			 -EINVAL);
	assert_int_equal(err.offset, 24);
	assert_memory_equal(copy, dst, AREA_MAX);
}

static void test_convert_keep_unsaved(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;

	(void)state;
	load(&p, "sapphire-rapids");
	memset(src, 0, AREA_MAX);
	put(src, 24, 4, 0x1F80);
	put(src, 2688, 4, 0x12345678);
	put(src, 512, 8, 0x200);
	memset(dst, FILL_BYTE, AREA_MAX);
	assert_int_equal(vx_area_convert(&p, 0x2e7, src, 2696, STD, dst, 2440, CMP,
					 VX_AREA_KEEP_UNSAVED, NULL, &err),
			 0);
	assert_int_equal(get(dst, 512, 8), 0x200);
	assert_int_equal(get(dst, 2432, 4), 0x12345678);
	for (unsigned i = 0; i < 512; i++) /* x87, SSE not saved: XSAVEC writes nothing */
		assert_int_equal(dst[i], FILL_BYTE);
	for (unsigned i = 576; i < 2432; i++)
		assert_int_equal(dst[i], FILL_BYTE);
	for (unsigned i = 528; i < 576; i++)
		assert_int_equal(dst[i], 0);
}

/* Every refusal: -EINVAL (or -ENOSPC) and the destination byte-for-byte unchanged. */
static void test_convert_refusals(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;
	size_t required = 0;

	(void)state;
	load(&p, "sapphire-rapids");
	memset(src, 0, AREA_MAX);
	put(src, 24, 4, 0x1F80);
	put(src, 512, 8, 0x7);
	memset(dst, FILL_BYTE, AREA_MAX);
	memcpy(copy, dst, AREA_MAX);
	/* short destination: the required size comes back (probe with NULL too) */
	assert_int_equal(
	    vx_area_convert(&p, 0x2e7, src, 2696, STD, dst, 2439, CMP, 0, &required, &err),
	    -ENOSPC);
	assert_int_equal(required, 2440);
	assert_int_equal(
	    vx_area_convert(&p, 0x602e7, src, 2696, STD, NULL, 0, STD, 0, &required, &err),
	    -ENOSPC);
	assert_int_equal(required, 11008);
	assert_int_equal(
	    vx_area_convert(&p, 0x6dfe7, src, 2696, STD, NULL, 0, CMP, 0, &required, &err),
	    -ENOSPC);
	assert_int_equal(required, 11776);
	/* supervisor bits into a standard area (§2.4), bits the profile lacks (§1.2) */
	assert_int_equal(
	    vx_area_convert(&p, 0x1807, src, 2696, STD, dst, AREA_MAX, STD, 0, NULL, &err),
	    -EINVAL);
	assert_int_equal(err.component, 11);
	assert_int_equal(
	    vx_area_convert(&p, 0x1f, src, 2696, STD, dst, AREA_MAX, CMP, 0, NULL, &err), -EINVAL);
	assert_int_equal(
	    vx_area_convert(&p, B(63) | 3, src, 2696, STD, dst, AREA_MAX, CMP, 0, NULL, &err),
	    -EINVAL);
	/* a malformed source header (§5.5) */
	put(src, 530, 1, 1);
	assert_int_equal(
	    vx_area_convert(&p, 0x7, src, 2696, STD, dst, AREA_MAX, CMP, 0, NULL, &err), -EINVAL);
	assert_int_equal(err.offset, 530);
	put(src, 530, 1, 0);
	/* a source too short for a component it carries */
	put(src, 512, 8, 0x207);
	assert_int_equal(
	    vx_area_convert(&p, 0x2e7, src, 2690, STD, dst, AREA_MAX, CMP, 0, NULL, &err), -EINVAL);
	assert_int_equal(err.component, 9);
	assert_int_equal(err.offset, 2688);
	assert_int_equal(
	    vx_area_convert(&p, 0x2e7, src, 500, STD, dst, AREA_MAX, CMP, 0, NULL, &err), -EINVAL);
	/* a compacted source the standard reading refuses, and the other way round */
	assert_int_equal(
	    vx_area_convert(&p, 0x7, src, 2696, CMP, dst, AREA_MAX, STD, 0, NULL, &err), -EINVAL);
	/* overlap */
	assert_int_equal(
	    vx_area_convert(&p, 0x7, dst, 2696, STD, dst + 64, 4096, CMP, 0, NULL, &err), -EINVAL);
	assert_memory_equal(copy, dst, AREA_MAX);
}

/* ----------------------------------------------------------------------------------------- */
/* Random round trips                                                                           */

/* A random valid XCR0 (§3.1 groups) within the profile, plus random XSS bits if @supervisor. */
static uint64_t random_features(const struct vx_profile *p, uint64_t *s, bool supervisor)
{
	static const uint64_t groups[] = {B(2), B(5) | B(6) | B(7), B(9), B(17) | B(18), B(19)};
	uint64_t xcr0 = vx_profile_xcr0_supported(p), features = 3;

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		bool needs_avx = i == 1;

		if ((xcr0 & groups[i]) == groups[i] && (xorshift(s) & 1) &&
		    (!needs_avx || (features & B(2))))
			features |= groups[i];
	}
	if (supervisor)
		features |= xorshift(s) & vx_profile_xss_supported(p);
	return features;
}

static void random_standard(const struct vx_profile *p, uint64_t features, uint64_t *s, size_t size)
{
	for (size_t i = 0; i < size; i++)
		src[i] = (uint8_t)xorshift(s);
	memset(src + 512, 0, 64);
	put(src, 512, 8, xorshift(s) & features & vx_profile_xcr0_supported(p));
	put(src, 24, 4, (xorshift(s) & 0xFFFF) & vx_profile_mxcsr_mask(p));
}

static void round_trip(const struct vx_profile *p, uint64_t *s)
{
	uint64_t features = random_features(p, s, false), std_size = 0, cmp_size = 0;
	struct vx_error err = VX_ERROR_INIT;
	uint64_t bv;

	assert_int_equal(vx_area_size(p, STD, features, &std_size, NULL), 0);
	assert_int_equal(vx_area_size(p, CMP, features, &cmp_size, NULL), 0);
	random_standard(p, features, s, (size_t)std_size);
	bv = get(src, 512, 8);
	if (vx_area_convert(p, features, src, std_size, STD, dst, cmp_size, CMP, 0, NULL, &err))
		fail_msg("%s features %#llx: %s", p->name, (unsigned long long)features,
			 err.reason);
	/* each carried component's bytes moved unchanged to its compacted place */
	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		uint64_t so, co, size;

		if (!(bv & B(id)))
			continue;
		vx_area_locate(p, STD, features, id, &so, &size, NULL);
		vx_area_locate(p, CMP, features, id, &co, NULL, NULL);
		assert_memory_equal(src + so, dst + co, size);
	}
	assert_memory_equal(src + 160, dst + 160, (bv & 2) ? 256 : 0);
	assert_int_equal(
	    vx_area_convert(p, features, dst, cmp_size, CMP, back, std_size, STD, 0, NULL, &err),
	    0);
	assert_int_equal(
	    vx_area_convert(p, features, back, std_size, STD, copy, cmp_size, CMP, 0, NULL, &err),
	    0);
	/* the compacted image is a fixed point: compacting its standard form gives it back */
	assert_memory_equal(copy, dst, cmp_size);
	assert_int_equal(vx_area_check_header(p, dst, cmp_size, features, CMP, 0, &err), 0);
	assert_int_equal(vx_area_check_header(p, back, std_size, features, STD,
					      VX_AREA_CHECK_ALL_RESERVED, &err),
			 0);
}

static void test_round_trips(void **state)
{
	static const char *const names[] = {"sapphire-rapids", "zen4", "skylake-server",
					    "alder-lake", "future-intel-apx"};
	uint64_t s = SEED;

	(void)state;
	print_message("round trips: seed %#llx\n", (unsigned long long)SEED);
	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		struct vx_profile p;

		load(&p, names[n]);
		for (int i = 0; i < 300; i++)
			round_trip(&p, &s);
	}
}

/* Compacted -> compacted with supervisor bits: growing the mask and shrinking it back. */
static void test_compacted_relayout(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	uint64_t s = SEED ^ 0x77, small, big, small_size = 0, big_size = 0;
	struct vx_profile p;

	(void)state;
	load(&p, "sapphire-rapids");
	for (int i = 0; i < 200; i++) {
		small = random_features(&p, &s, true);
		big = small | random_features(&p, &s, true);
		vx_area_size(&p, CMP, small, &small_size, NULL);
		vx_area_size(&p, CMP, big, &big_size, NULL);
		for (size_t b = 0; b < small_size; b++)
			src[b] = (uint8_t)xorshift(&s);
		memset(src + 512, 0, 64);
		put(src, 512, 8, xorshift(&s) & small);
		put(src, 520, 8, B(63) | small);
		put(src, 24, 4, 0x1F80);
		assert_int_equal(vx_area_convert(&p, small, src, small_size, CMP, copy, small_size,
						 CMP, 0, NULL, &err),
				 0);
		assert_int_equal(vx_area_convert(&p, big, copy, small_size, CMP, dst, big_size, CMP,
						 0, NULL, &err),
				 0);
		assert_int_equal(vx_area_convert(&p, small, dst, big_size, CMP, back, small_size,
						 CMP, 0, NULL, &err),
				 0);
		assert_memory_equal(back, copy, small_size);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* Decoding                                                                                     */

static int find_register(void *ctx, const struct vx_area_register *reg)
{
	const struct vx_area_register *want = ctx;

	if (strcmp(reg->field->name, want->field->name) != 0)
		return 0;
	if (reg->offset != want->offset || reg->width != want->width || !reg->bytes)
		fail_msg("%s at %llu width %u", reg->field->name, (unsigned long long)reg->offset,
			 reg->width);
	return 1;
}

static void expect_register(const struct vx_profile *p, const struct vx_area_map *map,
			    const uint8_t *area, const char *name, uint64_t offset, uint32_t width)
{
	struct vx_area_register want = {vx_area_field_lookup(name), 0, offset, width, NULL};

	assert_non_null(want.field);
	if (vx_area_registers(p, map, area, AREA_MAX, find_register, &want) != 1)
		fail_msg("register %s not found", name);
}

static void test_decode(void **state)
{
	struct vx_area_map map;
	struct vx_profile p;

	(void)state;
	load(&p, "sapphire-rapids");
	memset(src, 0, AREA_MAX);
	put(src, 520, 8, B(63) | 0x2e7);
	vx_area_decode(&p, src, 3000, 0x7, &map);
	assert_int_equal(map.format, CMP);
	assert_int_equal(map.end, 2440);
	expect_register(&p, &map, src, "pkru", 2432, 4);
	expect_register(&p, &map, src, "k3", 832 + 24, 8);
	expect_register(&p, &map, src, "zmm31", 1408 + 15 * 64, 64);
	expect_register(&p, &map, src, "mxcsr", 24, 4);
	assert_int_equal(map.regions[map.count - 1].kind, VX_AREA_REGION_PAST_END);
	assert_int_equal(map.regions[map.count - 1].start, 2440);
	/* standard: laid out for XCR0 | XSTATE_BV; PKRU at 2688 */
	put(src, 520, 8, 0);
	put(src, 512, 8, 0x200);
	vx_area_decode(&p, src, AREA_MAX, 0x7, &map);
	assert_int_equal(map.format, STD);
	assert_int_equal(map.layout, 0x207);
	expect_register(&p, &map, src, "pkru", 2688, 4);
	expect_register(&p, &map, src, "ymmh15", 576 + 240, 16);
	/* regions tile the buffer without gaps */
	for (unsigned i = 1; i < map.count; i++)
		assert_true(map.regions[i].start <= map.regions[i - 1].end);
	/* a buffer without a header still gets the legacy regions */
	vx_area_decode(&p, src, 100, 0x7, &map);
	assert_false(map.has_header);
	assert_int_equal(map.end, 100);
}

static void test_field_widths(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_component_desc d;
	struct vx_profile p;
	uint32_t width = 0;

	(void)state;
	load(&p, "sapphire-rapids");
	vx_profile_component(&p, VX_COMP_LBR, &d);
	assert_int_equal(vx_area_field_width(&p, VX_COMP_LBR, 0, &width, &err), 0);
	assert_int_equal(width, d.size);
	assert_int_equal(width, 808);
	assert_int_equal(vx_area_field_width(&p, VX_COMP_PKRU, 4, &width, &err), 0);
	assert_int_equal(width, 4);
	load(&p, "zen4");
	width = 9;
	assert_int_equal(vx_area_field_width(&p, VX_COMP_LBR, 0, &width, &err), -ENOTSUP);
	assert_int_equal(err.component, VX_COMP_LBR);
	assert_int_equal(width, 9);
}

/*
 * Every register's place, computed here from the component contents (arch.md §2.1 "Contents",
 * §2.2, §2.5) rather than copied: the legacy image (FXSAVE layout, 16-byte ST/XMM slots), and
 * for the other components the register index times its width.  The field table (arch) and
 * the register table (cpu) are the same rows; both are checked against this list.
 */
struct expected_reg {
	char name[16];
	unsigned component;
	uint32_t offset, width;
};

static unsigned add_reg(struct expected_reg *out, unsigned n, const char *name, unsigned component,
			uint32_t offset, uint32_t width)
{
	snprintf(out[n].name, sizeof(out[n].name), "%s", name);
	out[n].component = component;
	out[n].offset = offset;
	out[n].width = width;
	return n + 1;
}

/* @count registers "PREFIXi" (i from @first) of @width bytes, each @stride apart from @base. */
static unsigned add_bank(struct expected_reg *out, unsigned n, const char *prefix, unsigned first,
			 unsigned count, unsigned component, uint32_t base, uint32_t stride,
			 uint32_t width)
{
	for (unsigned i = 0; i < count; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%s%u", prefix, first + i);
		n = add_reg(out, n, name, component, base + i * stride, width);
	}
	return n;
}

static unsigned expected_registers(struct expected_reg *out)
{
	unsigned n = 0;

	/* §2.2: FCW, FSW, abridged FTW, FOP, FIP (FCS at 12), FDP (FDS at 20); ST0-7 at 32. */
	n = add_reg(out, n, "fcw", VX_COMP_X87, 0, 2);
	n = add_reg(out, n, "fsw", VX_COMP_X87, 2, 2);
	n = add_reg(out, n, "ftw", VX_COMP_X87, 4, 1);
	n = add_reg(out, n, "fop", VX_COMP_X87, 6, 2);
	n = add_reg(out, n, "fip", VX_COMP_X87, 8, 8);
	n = add_reg(out, n, "fcs", VX_COMP_X87, 12, 2);
	n = add_reg(out, n, "fdp", VX_COMP_X87, 16, 8);
	n = add_reg(out, n, "fds", VX_COMP_X87, 20, 2);
	n = add_bank(out, n, "st", 0, 8, VX_COMP_X87, 32, 16, 10);
	/* §2.2: MXCSR at 24; XMM0-15 at 160. */
	n = add_reg(out, n, "mxcsr", VX_COMP_SSE, 24, 4);
	n = add_bank(out, n, "xmm", 0, 16, VX_COMP_SSE, 160, 16, 16);
	/* §2.1: within each component, registers in order, each its width apart. */
	n = add_bank(out, n, "ymmh", 0, 16, VX_COMP_AVX, 0, 16, 16);
	n = add_bank(out, n, "bnd", 0, 4, VX_COMP_BNDREGS, 0, 16, 16);
	n = add_reg(out, n, "bndcfgu", VX_COMP_BNDCSR, 0, 8);
	n = add_reg(out, n, "bndstatus", VX_COMP_BNDCSR, 8, 8);
	n = add_bank(out, n, "k", 0, 8, VX_COMP_OPMASK, 0, 8, 8);
	n = add_bank(out, n, "zmmh", 0, 16, VX_COMP_ZMM_HI256, 0, 32, 32);
	n = add_bank(out, n, "zmm", 16, 16, VX_COMP_HI16_ZMM, 0, 64, 64);
	n = add_reg(out, n, "pt", VX_COMP_PT, 0, 0); /* size from CPUID (§1.4) */
	n = add_reg(out, n, "pkru", VX_COMP_PKRU, 0, 4);
	n = add_reg(out, n, "pasid", VX_COMP_PASID, 0, 8);
	/* §2.5: CET_U = U_CET, PL3_SSP; CET_S = PL0_SSP, PL1_SSP, PL2_SSP. */
	n = add_reg(out, n, "u_cet", VX_COMP_CET_U, 0, 8);
	n = add_reg(out, n, "pl3_ssp", VX_COMP_CET_U, 8, 8);
	n = add_reg(out, n, "pl0_ssp", VX_COMP_CET_S, 0, 8);
	n = add_reg(out, n, "pl1_ssp", VX_COMP_CET_S, 8, 8);
	n = add_reg(out, n, "pl2_ssp", VX_COMP_CET_S, 16, 8);
	n = add_reg(out, n, "hdc", VX_COMP_HDC, 0, 8);
	n = add_reg(out, n, "uintr", VX_COMP_UINTR, 0, 48);
	n = add_reg(out, n, "lbr", VX_COMP_LBR, 0, 0); /* size from CPUID (§1.4) */
	n = add_reg(out, n, "hwp", VX_COMP_HWP, 0, 8);
	n = add_reg(out, n, "tilecfg", VX_COMP_XTILECFG, 0, 64);
	n = add_bank(out, n, "tmm", 0, 8, VX_COMP_XTILEDATA, 0, 1024, 1024); /* 16 rows x 64 B */
	n = add_bank(out, n, "r", 16, 16, VX_COMP_APX, 0, 8, 8);
	n = add_reg(out, n, "lwp", VX_COMP_LWP, 0, 128);
	return n;
}

static void expect_register_place(const char *table, const char *name, unsigned component,
				  uint32_t offset, uint32_t width, const struct expected_reg *want)
{
	if (component != want->component || offset != want->offset || width != want->width)
		fail_msg("%s: %s is component %u offset %u width %u, expected %u/%u/%u", table,
			 name, component, offset, width, want->component, want->offset,
			 want->width);
}

static void test_register_places(void **state)
{
	struct expected_reg want[160];
	unsigned n = expected_registers(want);

	(void)state;
	assert_true(n <= sizeof(want) / sizeof(want[0]));
	assert_int_equal(vx_area_field_count(), n);
	assert_int_equal(vx_reg_count(), n);
	for (unsigned i = 0; i < n; i++) {
		const struct vx_area_field *f = vx_area_field_lookup(want[i].name);
		const struct vx_reg_info *r = vx_reg_lookup(want[i].name);

		if (!f || !r)
			fail_msg("register %s missing from the %s table", want[i].name,
				 f ? "cpu register" : "arch field");
		expect_register_place("vx_area_field", f->name, f->component, f->offset, f->width,
				      &want[i]);
		expect_register_place("vx_reg_info", r->name, r->component, r->offset, r->width,
				      &want[i]);
	}
	/* Every register fits in its component's architectural size (§2.1), or the legacy
	 * region's 416 defined bytes (§2.2). */
	for (unsigned i = 0; i < n; i++) {
		const struct vx_component_info *c = vx_component_info(want[i].component);
		uint32_t limit = c->legacy ? 416 : c->arch_size;

		if (limit && want[i].offset + want[i].width > limit)
			fail_msg("%s ends at %u, past %u", want[i].name,
				 want[i].offset + want[i].width, limit);
	}
	assert_null(vx_area_field_at(vx_area_field_count()));
	assert_null(vx_reg_at(vx_reg_count()));
	assert_ptr_equal(vx_area_field_lookup("XMM7"), vx_area_field_at(24));
}

/* ----------------------------------------------------------------------------------------- */
/* This machine: the library's compaction of XSAVE64 output vs the real XSAVEC64              */

static _Alignas(64) uint8_t load_image[VX_HW_IMAGE_MAX], hw_std[VX_HW_IMAGE_MAX],
    hw_cmp[VX_HW_IMAGE_MAX], lib_cmp[VX_HW_IMAGE_MAX];

static int hw_save(enum vx_hw_op op, uint8_t *area, uint64_t mask)
{
	struct vx_hw_run_args args = {0};
	static struct vx_hw_result res;

	args.load_image = load_image;
	args.op = op;
	args.area = area;
	args.mask = mask;
	if (vx_hw_run(&args, &res) || res.vector >= 0)
		return -1;
	return 0;
}

/* Random register contents for the readable components; x87 control kept quiet (FCW masks
 * every exception) and PKRU keeping key 0 writable (cpu_hw.h). */
static void random_load_image(const struct vx_hw_host *host, uint64_t *s)
{
	uint64_t readable = host->xcr0 & VX_HW_READABLE_COMPONENTS;

	for (size_t i = 0; i < host->std_size; i++)
		load_image[i] = (uint8_t)xorshift(s);
	memset(load_image, 0, 32);
	put(load_image, 0, 2, 0x037F);
	put(load_image, 4, 1, xorshift(s) & 0xFF);
	put(load_image, 24, 4, 0x1F80 | (xorshift(s) & 0xE040));
	memset(load_image + 416, 0, 576 - 416);
	put(load_image, 512, 8, (xorshift(s) & readable) | (xorshift(s) & 1));
	if (readable & B(9))
		put(load_image, host->comp_offset[9], 4, xorshift(s) & ~UINT64_C(3));
}

static int hw_compare_once(const struct vx_profile *host_profile, const struct vx_hw_host *host)
{
	uint64_t features = host->xcr0, size = 0;
	struct vx_error err = VX_ERROR_INIT;

	memset(hw_std, 0, sizeof(hw_std));
	memset(hw_cmp, FILL_BYTE, sizeof(hw_cmp));
	memset(hw_cmp + 512, 0, 64);
	memcpy(lib_cmp, hw_cmp, sizeof(lib_cmp));
	if (hw_save(VX_HW_OP_XSAVE64, hw_std, ~UINT64_C(0)) ||
	    hw_save(VX_HW_OP_XSAVEC64, hw_cmp, ~UINT64_C(0)))
		fail_msg("the hardware run faulted");
	assert_int_equal(vx_area_size(host_profile, CMP, features, &size, NULL), 0);
	if (vx_area_convert(host_profile, features, hw_std, host->std_size, STD, lib_cmp,
			    sizeof(lib_cmp), CMP, VX_AREA_KEEP_UNSAVED, NULL, &err))
		fail_msg("convert: %s", err.reason);
	if (memcmp(hw_cmp, lib_cmp, sizeof(hw_cmp)) == 0)
		return 0;
	for (size_t i = 0; i < sizeof(hw_cmp); i++)
		if (hw_cmp[i] != lib_cmp[i]) {
			print_message("first difference at byte %zu: XSAVEC %02x, library %02x "
				      "(XSTATE_BV %#llx vs %#llx)\n",
				      i, hw_cmp[i], lib_cmp[i],
				      (unsigned long long)get(hw_cmp, 512, 8),
				      (unsigned long long)get(lib_cmp, 512, 8));
			break;
		}
	return -1;
}

static void test_against_real_xsavec(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile host_profile;
	struct vx_hw_host host;
	uint64_t s = SEED ^ 0x4857;

	(void)state;
	if (!vx_hw_supported() || vx_hw_host_query(&host) || !host.has_xsavec) {
		print_message("skipped: no hardware backend or no XSAVEC on this machine\n");
		skip();
	}
	if ((host.xcr0 & ~(VX_HW_READABLE_COMPONENTS)) || host.std_size > VX_HW_IMAGE_MAX) {
		print_message("skipped: XCR0 %#llx enables components the backend cannot load\n",
			      (unsigned long long)host.xcr0);
		skip();
	}
	if (vx_profile_from_host(&host_profile, &err) || vx_hw_open()) {
		print_message("skipped: cannot read the host profile or open the backend\n");
		skip();
	}
	print_message("real XSAVEC64 vs library, XCR0 %#llx, seed %#llx\n",
		      (unsigned long long)host.xcr0, (unsigned long long)(SEED ^ 0x4857));
	for (int i = 0; i < 200; i++) {
		int attempt = 0;

		random_load_image(&host, &s);
		/* a context switch between the two runs may change XINUSE: retry the same image */
		while (hw_compare_once(&host_profile, &host) && ++attempt < 3)
			;
		if (attempt == 3) {
			vx_hw_close();
			fail_msg("case %d: the library's compaction differs from XSAVEC64", i);
		}
	}
	vx_hw_close();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_placements),
	    cmocka_unit_test(test_placement_refusals),
	    cmocka_unit_test(test_header_checks),
	    cmocka_unit_test(test_header_needs_xsavec_and_length),
	    cmocka_unit_test(test_mxcsr_checks),
	    cmocka_unit_test(test_init_components),
	    cmocka_unit_test(test_convert_hand_placed),
	    cmocka_unit_test(test_convert_mxcsr_rule),
	    cmocka_unit_test(test_convert_keep_unsaved),
	    cmocka_unit_test(test_convert_refusals),
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_compacted_relayout),
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_field_widths),
	    cmocka_unit_test(test_register_places),
	    cmocka_unit_test(test_against_real_xsavec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
