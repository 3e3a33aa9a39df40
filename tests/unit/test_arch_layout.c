/* SPDX-License-Identifier: MIT */
/*
 * Layouts (arch.md §1.2-§1.4, §2.1, §2.4, §2.6) on every built-in profile.
 *
 *  1. Per-profile component geometry written by hand from arch.md §2.1/§2.6 and
 *     profiles/README.md: size, standard offset, supervisor, align64, XFD.
 *  2. Compacted offsets and sizes: every row of the §2.4 worked-examples table (plus §10 item
 *     23 and the profiles' own XCR0|XSS), on every profile that enumerates the mask.
 *  3. Standard sizes (§2.1, §2.6, §10 item 19), including APX, whose size is
 *     max(offset+size) and not the end of the highest-numbered component.
 *  4. The dynamic sizes CPUID reports in each profile agree with our calculation for the XCR0
 *     and XSS named in the profile's header (nested-amx-hidden's 0xD.0 ECX is wrong on purpose).
 *  5. vx_layout_compute() refuses bits a profile does not enumerate.
 *  6. Xen-style properties over every mask made of a profile's supported bits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/arch.h>

#define B(n) VX_BIT(n)

/* ------------------------------------------------------------------------------------------ */
/* The profiles, by hand                                                                        */

struct comp_row {
	unsigned id;
	uint32_t size;
	uint32_t std_offset;
	bool supervisor;
	bool align64;
	bool xfd;
	bool unsupported; /* sub-leaf present but the bit is in neither mask (nested-amx-hidden) */
};

#define U(i, sz, off)         {i, sz, off, false, false, false, false}
#define S(i, sz)              {i, sz, 0, true, false, false, false}
#define UA(i, sz, off, x)     {i, sz, off, false, true, x, false}
#define HIDDEN(i, sz, off, x) {i, sz, off, false, true, x, true}

/* Intel SPR (§2.1; README: TILECFG 64 @2752, TILEDATA 8192 @2816, both align64, 18 XFD). */
#define SPR_ROWS                                                                                   \
	U(2, 256, 576), U(5, 64, 1088), U(6, 512, 1152), U(7, 1024, 1664), S(8, 128),              \
		U(9, 8, 2688), S(10, 8), S(11, 16), S(12, 24), S(14, 48), S(15, 808),              \
		UA(17, 64, 2752, false), UA(18, 8192, 2816, true)

static const struct profile_case {
	const char *name;
	uint64_t xcr0_supported; /* 0xD.0 EDX:EAX */
	uint64_t xss_supported;  /* 0xD.1 EDX:ECX */
	uint64_t xfd_supported;
	uint64_t header_xcr0, header_xss;
	uint32_t d0_ebx, d0_ecx, d1_ebx; /* README table */
	bool ecx_inconsistent;
	bool no_compacted; /* no XSAVEC/XSAVES: 0xD.1 EBX is 0, not a compacted size (§1.3) */
	struct comp_row rows[16];
	unsigned nrows;
} profiles[] = {
	{
		.name = "sapphire-rapids",
		.xcr0_supported = 0x602E7, .xss_supported = 0xDD00, .xfd_supported = B(18),
		.header_xcr0 = 0x602E7, .header_xss = 0x8400,
		.d0_ebx = 11008, .d0_ecx = 11008, .d1_ebx = 11520,
		.rows = {SPR_ROWS},
		.nrows = 13,
	},
	{
		.name = "alder-lake",
		.xcr0_supported = 0x207, .xss_supported = 0x19900,
		.header_xcr0 = 0x207, .header_xss = 0x8800,
		.d0_ebx = 2696, .d0_ecx = 2696, .d1_ebx = 1664,
		/* Intel keeps PKRU at 2688 even without AVX-512. */
		.rows = {U(2, 256, 576), S(8, 128), U(9, 8, 2688), S(11, 16), S(12, 24),
			 S(15, 808), S(16, 8)},
		.nrows = 7,
	},
	{
		.name = "skylake-server",
		.xcr0_supported = 0x2FF, .xss_supported = 0x100,
		.header_xcr0 = 0x2E7, .header_xss = 0,
		.d0_ebx = 2696, .d0_ecx = 2696, .d1_ebx = 2440,
		.rows = {U(2, 256, 576), U(3, 64, 960), U(4, 64, 1024), U(5, 64, 1088),
			 U(6, 512, 1152), U(7, 1024, 1664), S(8, 128), U(9, 8, 2688)},
		.nrows = 8,
	},
	{
		.name = "zen4",
		.xcr0_supported = 0x2E7, .xss_supported = 0x1800,
		.header_xcr0 = 0x2E7, .header_xss = 0x800,
		.d0_ebx = 2440, .d0_ecx = 2440, .d1_ebx = 2456,
		/* §2.6: AMD packs AVX-512 straight after AVX. */
		.rows = {U(2, 256, 576), U(5, 64, 832), U(6, 512, 896), U(7, 1024, 1408),
			 U(9, 8, 2432), S(11, 16), S(12, 24)},
		.nrows = 7,
	},
	{
		.name = "future-intel-apx",
		.xcr0_supported = 0xE02E7, .xss_supported = 0xDD00, .xfd_supported = B(18),
		.header_xcr0 = 0xE02E7, .header_xss = 0x8400,
		.d0_ebx = 11008, .d0_ecx = 11008, .d1_ebx = 11648,
		/* §2.1: APX 128 B at 960, in the old MPX hole. */
		.rows = {SPR_ROWS, U(19, 128, 960)},
		.nrows = 14,
	},
	{
		.name = "nested-amx-hidden",
		.xcr0_supported = 0xE7, .xss_supported = 0,
		.header_xcr0 = 0xE7, .header_xss = 0,
		.d0_ebx = 2688, .d0_ecx = 11008, .d1_ebx = 2432, .ecx_inconsistent = true,
		/* 0xD.0x11/0x12 left enumerated although bits 17/18 are not supported. */
		.rows = {U(2, 256, 576), U(5, 64, 1088), U(6, 512, 1152), U(7, 1024, 1664),
			 HIDDEN(17, 64, 2752, false), HIDDEN(18, 8192, 2816, true)},
		.nrows = 6,
	},
	{
		.name = "zen3",
		.xcr0_supported = 0x207, .xss_supported = 0x1800,
		.header_xcr0 = 0x207, .header_xss = 0,
		.d0_ebx = 2440, .d0_ecx = 2440, .d1_ebx = 840,
		/* §2.6: AMD keeps PKRU at 2432, where its AVX-512 would end, even without AVX-512. */
		.rows = {U(2, 256, 576), U(9, 8, 2432), S(11, 16), S(12, 24)},
		.nrows = 4,
	},
	{
		.name = "zen5",
		.xcr0_supported = 0x2E7, .xss_supported = 0x1800,
		.header_xcr0 = 0xE7, .header_xss = 0x800,
		.d0_ebx = 2432, .d0_ecx = 2440, .d1_ebx = 2448,
		.rows = {U(2, 256, 576), U(5, 64, 832), U(6, 512, 896), U(7, 1024, 1408),
			 U(9, 8, 2432), S(11, 16), S(12, 24)},
		.nrows = 7,
	},
	{
		.name = "icelake-server",
		.xcr0_supported = 0x2E7, .xss_supported = 0x100,
		.header_xcr0 = 0xE7, .header_xss = 0x100,
		.d0_ebx = 2688, .d0_ecx = 2696, .d1_ebx = 2560,
		.rows = {U(2, 256, 576), U(5, 64, 1088), U(6, 512, 1152), U(7, 1024, 1664),
			 S(8, 128), U(9, 8, 2688)},
		.nrows = 6,
	},
	{
		.name = "granite-rapids",
		.xcr0_supported = 0x602E7, .xss_supported = 0x1DD00, .xfd_supported = B(18),
		.header_xcr0 = 0x602E7, .header_xss = 0x900,
		.d0_ebx = 11008, .d0_ecx = 11008, .d1_ebx = 10880,
		.rows = {SPR_ROWS, S(16, 8)},
		.nrows = 14,
	},
	{
		.name = "arrow-lake",
		.xcr0_supported = 0x207, .xss_supported = 0x19900,
		.header_xcr0 = 0x207, .header_xss = 0x8800,
		.d0_ebx = 2696, .d0_ecx = 2696, .d1_ebx = 1664,
		.rows = {U(2, 256, 576), S(8, 128), U(9, 8, 2688), S(11, 16), S(12, 24),
			 S(15, 808), S(16, 8)},
		.nrows = 7,
	},
	{
		.name = "zhaoxin-kh40000",
		.xcr0_supported = 0x207, .xss_supported = 0,
		.header_xcr0 = 0x7, .header_xss = 0,
		.d0_ebx = 832, .d0_ecx = 2696, .d1_ebx = 0, .no_compacted = true,
		.rows = {U(2, 256, 576), U(9, 8, 2688)},
		.nrows = 2,
	},
};

#define N_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

static void load(struct vx_profile *p, const char *name)
{
	struct vx_error err = VX_ERROR_INIT;
	int ret = vx_profile_builtin(p, name, &err);

	if (ret != 0)
		fail_msg("vx_profile_builtin(%s) = %d: %s", name, ret, err.reason);
}

static const struct comp_row *find_row(const struct profile_case *t, unsigned id)
{
	for (unsigned r = 0; r < t->nrows; r++)
		if (t->rows[r].id == id)
			return &t->rows[r];
	return NULL;
}

static uint32_t round64(uint32_t v)
{
	return (v + 63u) & ~63u;
}

static unsigned popcount64(uint64_t v)
{
	unsigned n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

/* Every built-in profile has a row here, so a new profile forces a new hand-written row. */
static void test_table_covers_builtins(void **state)
{
	(void)state;
	assert_true(vx_builtin_profile_count() >= N_PROFILES);
	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		const char *name = vx_builtin_profile_name(i);
		bool found = false;

		assert_non_null(name);
		for (size_t n = 0; n < N_PROFILES; n++)
			found |= strcmp(profiles[n].name, name) == 0;
		if (!found)
			fail_msg("built-in profile '%s' has no hand-written row in test_arch_layout.c",
				 name);
	}
}

/* 1. Geometry of every component 0..62, as vx_profile_component and vx_layout_compute see it. */
static void test_component_geometry(void **state)
{
	(void)state;
	for (size_t n = 0; n < N_PROFILES; n++) {
		const struct profile_case *t = &profiles[n];
		struct vx_profile p;
		struct vx_layout layout;
		struct vx_error err = VX_ERROR_INIT;
		uint64_t all = t->xcr0_supported | t->xss_supported;

		load(&p, t->name);
		assert_int_equal(vx_profile_xcr0_supported(&p), t->xcr0_supported);
		assert_int_equal(vx_profile_xss_supported(&p), t->xss_supported);
		assert_int_equal(vx_profile_xfd_supported(&p), t->xfd_supported);

		for (unsigned id = 0; id < VX_COMP_LIMIT; id++) {
			const struct comp_row *row = find_row(t, id);
			struct vx_component_desc d;

			assert_true(vx_profile_component(&p, id, &d));
			if (id == 0 || id == 1) {
				/* §1.4: fixed legacy geometry. */
				assert_int_equal(d.size, id ? 256 : 160);
				assert_int_equal(d.standard_offset, id ? 160 : 0);
				assert_false(d.supervisor);
				assert_true(d.supported);
				continue;
			}
			if (!row) {
				if (d.size || d.standard_offset || d.supervisor || d.align64 ||
				    d.xfd_capable || d.supported)
					fail_msg("%s: component %u should be absent (size %u, off %u, "
						 "supported %d)",
						 t->name, id, d.size, d.standard_offset, d.supported);
				continue;
			}
			if (d.size != row->size || d.standard_offset != row->std_offset ||
			    d.supervisor != row->supervisor || d.align64 != row->align64 ||
			    d.xfd_capable != row->xfd || d.supported != !row->unsupported)
				fail_msg("%s: component %u is size %u off %u sup %d a64 %d xfd %d "
					 "supported %d; expected %u/%u/%d/%d/%d/%d",
					 t->name, id, d.size, d.standard_offset, d.supervisor, d.align64,
					 d.xfd_capable, d.supported, row->size, row->std_offset,
					 row->supervisor, row->align64, row->xfd, !row->unsupported);
			if (!row->unsupported && !(all & B(id)))
				fail_msg("test table: %s component %u not in the supported masks",
					 t->name, id);
		}
		assert_false(vx_profile_component(&p, 63, &(struct vx_component_desc){0}));
		assert_false(vx_profile_component(&p, 64, &(struct vx_component_desc){0}));

		/* The same through a layout of every supported bit. */
		if (vx_layout_compute(&p, all, &layout, &err) != 0)
			fail_msg("%s: layout of 0x%llx failed: %s", t->name, (unsigned long long)all,
				 err.reason);
		assert_int_equal(layout.features, all);
		assert_int_equal(layout.count, popcount64(all));
		for (unsigned e = 0; e < layout.count; e++) {
			const struct vx_layout_entry *en = &layout.entries[e];
			const struct comp_row *row = find_row(t, en->component);

			if (e > 0)
				assert_true(en->component > layout.entries[e - 1].component);
			assert_true(all & B(en->component));
			if (en->component < 2)
				continue;
			assert_non_null(row);
			if (en->size != row->size || en->supervisor != row->supervisor ||
			    en->align64 != row->align64 || en->xfd_capable != row->xfd ||
			    en->in_standard == row->supervisor ||
			    en->standard_offset != (row->supervisor ? 0 : row->std_offset))
				fail_msg("%s: layout entry %u: size %u off %u sup %d a64 %d xfd %d "
					 "in_std %d",
					 t->name, en->component, en->size, en->standard_offset,
					 en->supervisor, en->align64, en->xfd_capable, en->in_standard);
			assert_int_equal(en->compacted_offset,
					 vx_compacted_offset(&p, all, en->component));
		}
		assert_int_equal(layout.standard_size, vx_standard_size(&p, all));
		assert_int_equal(layout.compacted_size, vx_compacted_size(&p, all));
		assert_int_equal(layout.cpuid_enabled_standard_size, t->d0_ebx);
		assert_int_equal(layout.cpuid_max_standard_size, t->d0_ecx);
		assert_int_equal(layout.cpuid_enabled_compacted_size, t->d1_ebx);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* 2. Compacted format: arch.md §2.4 worked examples                                            */

struct placed {
	unsigned id;
	uint32_t offset;
};

static const struct compacted_case {
	uint64_t mask;
	uint32_t size;
	struct placed at[8];
	unsigned nat;
} compacted_cases[] = {
	{0x7, 832, {{2, 576}}, 1},
	{0x207, 840, {{2, 576}, {9, 832}}, 2},
	{0xE7, 2432, {{2, 576}, {5, 832}, {6, 896}, {7, 1408}}, 4},
	{0x2E7, 2440, {{2, 576}, {5, 832}, {6, 896}, {7, 1408}, {9, 2432}}, 5},
	{0x1A07, 880, {{2, 576}, {9, 832}, {11, 840}, {12, 856}}, 4},
	{0x1803, 616, {{11, 576}, {12, 592}}, 2},
	{0x2E7 | 0x1800, 2480, {{7, 1408}, {9, 2432}, {11, 2440}, {12, 2456}}, 4},
	{0x60003, 8832, {{17, 576}, {18, 640}}, 2},
	{0x60207, 9152, {{2, 576}, {9, 832}, {17, 896}, {18, 960}}, 4},
	{0x20203, 704, {{9, 576}, {17, 640}}, 2},
	/* §10 item 23: XCR0 0x7 | XSS 0x1800 -> 832+16+24. */
	{0x1807, 872, {{2, 576}, {11, 832}, {12, 848}}, 3},
	/* §10 item 49: XSAVES of 0x1800 alone. */
	{0x1800, 616, {{11, 576}, {12, 592}}, 2},
	/* Legacy only: nothing after the header. */
	{0x3, 576, {{0, 0}, {1, 160}}, 2},
	{0x0, 576, {{0, 0}}, 0},
	/* The SPR and APX profiles' own XCR0|XSS (README). */
	{0x602E7 | 0x8400, 11520,
	 {{9, 2432}, {10, 2440}, {15, 2448}, {17, 3264}, {18, 3328}}, 5},
	{0xE02E7 | 0x8400, 11648, {{15, 2448}, {17, 3264}, {18, 3328}, {19, 11520}}, 4},
	/* APX alone follows the index order, not its standard offset. */
	{0x80207, 968, {{2, 576}, {9, 832}, {19, 840}}, 3},
	/* Bit 63 (the compaction flag) is ignored by the size. */
	{0x7 | B(63), 832, {{2, 576}}, 1},
};

static void test_compacted_examples(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(compacted_cases) / sizeof(compacted_cases[0]); c++) {
		const struct compacted_case *t = &compacted_cases[c];
		uint64_t mask = t->mask & ~VX_XCOMP_BV_COMPACTED;
		unsigned profiles_used = 0;

		for (size_t n = 0; n < N_PROFILES; n++) {
			const struct profile_case *pc = &profiles[n];
			struct vx_profile p;

			if (mask & ~(pc->xcr0_supported | pc->xss_supported))
				continue;
			profiles_used++;
			load(&p, pc->name);
			if (vx_compacted_size(&p, t->mask) != t->size)
				fail_msg("%s: compacted size of 0x%llx is %u, expected %u", pc->name,
					 (unsigned long long)t->mask, vx_compacted_size(&p, t->mask),
					 t->size);
			for (unsigned a = 0; a < t->nat; a++) {
				uint32_t got = vx_compacted_offset(&p, t->mask, t->at[a].id);

				if (got != t->at[a].offset)
					fail_msg("%s: mask 0x%llx: component %u at %u, expected %u",
						 pc->name, (unsigned long long)t->mask, t->at[a].id,
						 got, t->at[a].offset);
			}
			/* Components outside the mask have no place (offset 0). */
			for (unsigned id = 2; id < VX_COMP_LIMIT; id++)
				if (!(mask & B(id)) && vx_compacted_offset(&p, t->mask, id) != 0)
					fail_msg("%s: component %u is not in 0x%llx but has offset %u",
						 pc->name, id, (unsigned long long)t->mask,
						 vx_compacted_offset(&p, t->mask, id));

			/* vx_layout_compute agrees (bit 63 is not a component: leave it out). */
			struct vx_layout layout;
			struct vx_error err = VX_ERROR_INIT;

			if (vx_layout_compute(&p, mask, &layout, &err) != 0)
				fail_msg("%s: layout 0x%llx: %s", pc->name, (unsigned long long)mask,
					 err.reason);
			assert_int_equal(layout.compacted_size, t->size);
			for (unsigned e = 0; e < layout.count; e++)
				for (unsigned a = 0; a < t->nat; a++)
					if (layout.entries[e].component == t->at[a].id &&
					    t->at[a].id >= 2)
						assert_int_equal(layout.entries[e].compacted_offset,
								 t->at[a].offset);
		}
		if (!profiles_used)
			fail_msg("no profile enumerates 0x%llx", (unsigned long long)t->mask);
	}
	/* Out-of-range component numbers have no place. */
	struct vx_profile p;

	load(&p, "sapphire-rapids");
	assert_int_equal(vx_compacted_offset(&p, UINT64_MAX, 63), 0);
	assert_int_equal(vx_compacted_offset(&p, UINT64_MAX, 64), 0);
	assert_int_equal(vx_compacted_offset(&p, 0x2E7, 1), 160);
	assert_int_equal(vx_compacted_offset(&p, 0x2E5, 1), 0);
}

/* §2.6: the compacted format of the same mask is identical on Intel and AMD. */
static void test_compacted_vendor_independent(void **state)
{
	struct vx_profile spr, zen;

	(void)state;
	load(&spr, "sapphire-rapids");
	load(&zen, "zen4");
	uint64_t common = 0x602E7ull & 0x2E7ull; /* user bits both have */
	common |= 0xDD00ull & 0x1800ull;         /* CET_U, CET_S */
	for (uint64_t m = 0; m <= common; m++) {
		if (m & ~common)
			continue;
		assert_int_equal(vx_compacted_size(&spr, m), vx_compacted_size(&zen, m));
		for (unsigned id = 2; id < 13; id++)
			assert_int_equal(vx_compacted_offset(&spr, m, id),
					 vx_compacted_offset(&zen, m, id));
	}
}

/* ------------------------------------------------------------------------------------------ */
/* 3. Standard sizes                                                                            */

static const struct standard_case {
	const char *profile;
	uint64_t xcr0;
	uint32_t size;
} standard_cases[] = {
	{"sapphire-rapids", 0x1, 576},
	{"sapphire-rapids", 0x3, 576},
	{"sapphire-rapids", 0x7, 832},
	{"sapphire-rapids", 0xE7, 2688},
	{"sapphire-rapids", 0x2E7, 2696},
	{"sapphire-rapids", 0x207, 2696},
	{"sapphire-rapids", 0x602E7, 11008},
	{"sapphire-rapids", 0x60003, 11008},
	/* Supervisor bits never appear in the standard format. */
	{"sapphire-rapids", 0x2E7 | 0xDD00, 2696},
	{"sapphire-rapids", 0x3 | 0x1800, 576},
	{"skylake-server", 0x3, 576},
	{"skylake-server", 0x7, 832},
	{"skylake-server", 0x1F, 1088},
	{"skylake-server", 0xFF, 2688},
	{"skylake-server", 0x2FF, 2696},
	{"skylake-server", 0x2E7, 2696},
	{"alder-lake", 0x7, 832},
	{"alder-lake", 0x207, 2696},
	/* §2.6 / §10 item 19: AMD Zen 4 with XCR0 0x2E7 is 2440, Intel 2696. */
	{"zen4", 0x2E7, 2440},
	{"zen4", 0xE7, 2432},
	{"zen4", 0x207, 2440},
	{"zen4", 0x7, 832},
	{"zen4", 0x7 | 0x1800, 832},
	/* APX: max(offset+size), not the highest bit: 960+128 < 2696 and < 1088. */
	{"future-intel-apx", 0x80207, 2696},
	{"future-intel-apx", 0x80007, 1088},
	{"future-intel-apx", 0x80003, 1088},
	{"future-intel-apx", 0xE02E7, 11008},
	{"future-intel-apx", 0x602E7, 11008},
	{"nested-amx-hidden", 0xE7, 2688},
	{"nested-amx-hidden", 0x7, 832},
};

static void test_standard_sizes(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(standard_cases) / sizeof(standard_cases[0]); c++) {
		const struct standard_case *t = &standard_cases[c];
		struct vx_profile p;

		load(&p, t->profile);
		if (vx_standard_size(&p, t->xcr0) != t->size)
			fail_msg("%s: standard size of 0x%llx is %u, expected %u", t->profile,
				 (unsigned long long)t->xcr0, vx_standard_size(&p, t->xcr0), t->size);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* 4. What CPUID reports vs our calculation, for the XCR0/XSS in each profile's header          */

static bool header_value(const char *text, const char *key, uint64_t *value)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line;) {
		if (strncmp(line, key, klen) == 0) {
			char *end = NULL;

			*value = strtoull(line + klen, &end, 0);
			return end != line + klen;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

static void test_cpuid_reported_sizes(void **state)
{
	(void)state;
	for (size_t n = 0; n < N_PROFILES; n++) {
		const struct profile_case *t = &profiles[n];
		const char *text = vx_builtin_profile_text(t->name);
		uint64_t xcr0 = 0, xss = 0;
		struct vx_profile p;

		assert_non_null(text);
		load(&p, t->name);
		struct vx_cpuid_regs d0 = vx_profile_leaf(&p, 0xD, 0);
		struct vx_cpuid_regs d1 = vx_profile_leaf(&p, 0xD, 1);

		/* The hand-written README values are what the profile holds. */
		assert_int_equal(d0.ebx, t->d0_ebx);
		assert_int_equal(d0.ecx, t->d0_ecx);
		assert_int_equal(d1.ebx, t->d1_ebx);

		if (!header_value(text, "# xcr0:", &xcr0))
			fail_msg("%s: no '# xcr0:' header", t->name);
		if (!header_value(text, "# xss:", &xss))
			fail_msg("%s: no '# xss:' header", t->name);
		assert_int_equal(xcr0, t->header_xcr0);
		assert_int_equal(xss, t->header_xss);

		if (vx_standard_size(&p, xcr0) != d0.ebx)
			fail_msg("%s: 0xD.0 EBX %u != standard size %u of XCR0 0x%llx", t->name,
				 d0.ebx, vx_standard_size(&p, xcr0), (unsigned long long)xcr0);
		if (!t->no_compacted && vx_compacted_size(&p, xcr0 | xss) != d1.ebx)
			fail_msg("%s: 0xD.1 EBX %u != compacted size %u of 0x%llx", t->name, d1.ebx,
				 vx_compacted_size(&p, xcr0 | xss),
				 (unsigned long long)(xcr0 | xss));
		uint32_t max_std = vx_standard_size(&p, vx_profile_xcr0_supported(&p));

		if (t->ecx_inconsistent) {
			/* 0xD.0 ECX left at the host's AMX-sized value: it must NOT match. */
			if (max_std == d0.ecx)
				fail_msg("%s: 0xD.0 ECX %u unexpectedly equals the computed %u", t->name,
					 d0.ecx, max_std);
			assert_int_equal(max_std, 2688);
		} else if (max_std != d0.ecx) {
			fail_msg("%s: 0xD.0 ECX %u != standard size %u of the supported XCR0", t->name,
				 d0.ecx, max_std);
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* 5. vx_layout_compute refuses bits the profile does not enumerate                              */

static const struct refuse_case {
	const char *profile;
	uint64_t features;
	uint64_t bits;
	const char *hex; /* the reason must contain this */
} refuse_cases[] = {
	{"sapphire-rapids", 0x1F, 0x18, "0x18"},          /* no MPX on SPR */
	{"sapphire-rapids", 0x80003, 0x80000, "0x80000"}, /* no APX */
	{"sapphire-rapids", 0x3 | B(63), B(63), "0x8000000000000000"},
	{"sapphire-rapids", 0x3 | B(13), B(13), "0x2000"}, /* HDC not in the XSS mask */
	{"sapphire-rapids", 0x3 | B(40), B(40), "0x10000000000"},
	{"zen4", 0x602E7, 0x60000, "0x60000"},
	{"zen4", 0x2E7 | 0x100, 0x100, "0x100"},
	{"alder-lake", 0xE7, 0xE0, "0xe0"},
	{"skylake-server", 0x2E7 | 0x1800, 0x1800, "0x1800"},
	{"nested-amx-hidden", 0x60003, 0x60000, "0x60000"}, /* leaves present, bits not */
	{"nested-amx-hidden", 0x203, 0x200, "0x200"},
	{"future-intel-apx", 0x1B, 0x18, "0x18"},
};

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

static void test_layout_refuses_unknown_bits(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(refuse_cases) / sizeof(refuse_cases[0]); c++) {
		const struct refuse_case *t = &refuse_cases[c];
		struct vx_profile p;
		struct vx_layout layout, before;
		struct vx_error err = VX_ERROR_INIT;

		load(&p, t->profile);
		memset(&layout, 0xA5, sizeof(layout));
		memcpy(&before, &layout, sizeof(layout));
		int ret = vx_layout_compute(&p, t->features, &layout, &err);

		if (ret != -EINVAL)
			fail_msg("%s: layout 0x%llx returned %d, expected -EINVAL", t->profile,
				 (unsigned long long)t->features, ret);
		if (err.bits != t->bits)
			fail_msg("%s: layout 0x%llx: err.bits 0x%llx, expected 0x%llx", t->profile,
				 (unsigned long long)t->features, (unsigned long long)err.bits,
				 (unsigned long long)t->bits);
		if (!contains_nocase(err.reason, t->hex))
			fail_msg("%s: layout 0x%llx: reason '%s' does not name %s", t->profile,
				 (unsigned long long)t->features, err.reason, t->hex);
		assert_int_equal(err.code, -EINVAL);
		assert_non_null(err.rule);
		assert_memory_equal(&layout, &before, sizeof(layout));
		/* NULL error record is fine. */
		assert_int_equal(vx_layout_compute(&p, t->features, &layout, NULL), -EINVAL);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* 6. Properties over all masks of a profile's supported bits (Xen xstate_check_sizes style)    */

struct prop_ctx {
	const char *profile;
	const struct vx_profile *p;
	uint64_t supported;
	uint64_t supervisor;
	bool sampled;
	uint64_t seed;
};

#define PROP_FAIL(ctx, mask, ...)                                                                  \
	do {                                                                                       \
		char msg_[256];                                                                    \
		snprintf(msg_, sizeof(msg_), __VA_ARGS__);                                         \
		if ((ctx)->sampled)                                                                \
			fail_msg("%s mask 0x%llx (random sample, seed 0x%llx): %s", (ctx)->profile, \
				 (unsigned long long)(mask), (unsigned long long)(ctx)->seed, msg_); \
		else                                                                               \
			fail_msg("%s mask 0x%llx: %s", (ctx)->profile, (unsigned long long)(mask), \
				 msg_);                                                            \
	} while (0)

/* Everything about one mask that does not need a neighbour. */
static void check_one_mask(const struct prop_ctx *ctx, uint64_t m, uint32_t *std_out,
			   uint32_t *cmp_out)
{
	const struct vx_profile *p = ctx->p;
	uint32_t std = vx_standard_size(p, m);
	uint32_t cmp = vx_compacted_size(p, m);
	uint32_t expect_std = VX_EXTENDED_OFFSET;
	uint32_t end = VX_EXTENDED_OFFSET;
	uint32_t prev_offset = 0;

	/* Supervisor bits never change the standard size. */
	if (vx_standard_size(p, m & ~ctx->supervisor) != std)
		PROP_FAIL(ctx, m, "supervisor bits change the standard size (%u vs %u)", std,
			  vx_standard_size(p, m & ~ctx->supervisor));
	if (std < VX_EXTENDED_OFFSET || cmp < VX_EXTENDED_OFFSET)
		PROP_FAIL(ctx, m, "size below 576 (std %u, compacted %u)", std, cmp);

	for (unsigned i = 2; i < VX_COMP_LIMIT; i++) {
		struct vx_component_desc d;

		if (!(m & B(i)))
			continue;
		vx_profile_component(p, i, &d);
		if (!d.supervisor && d.standard_offset + d.size > expect_std)
			expect_std = d.standard_offset + d.size;

		uint32_t off = vx_compacted_offset(p, m, i);
		uint32_t want = d.align64 ? round64(end) : end;

		if (off != want)
			PROP_FAIL(ctx, m, "component %u at %u, expected %u (previous end %u)", i, off,
				  want, end);
		if (off <= prev_offset)
			PROP_FAIL(ctx, m, "component %u at %u does not follow %u", i, off,
				  prev_offset);
		if (d.align64 && off % 64)
			PROP_FAIL(ctx, m, "component %u at %u is not 64-aligned", i, off);
		if (off + d.size > cmp)
			PROP_FAIL(ctx, m, "component %u ends at %u past the compacted size %u", i,
				  off + d.size, cmp);
		prev_offset = off;
		end = off + d.size;
	}
	if (cmp != end)
		PROP_FAIL(ctx, m, "compacted size %u != last offset+size %u", cmp, end);
	if (std != expect_std)
		PROP_FAIL(ctx, m, "standard size %u != max(576, offset+size) %u", std, expect_std);
	*std_out = std;
	*cmp_out = cmp;
}

static uint64_t deposit(uint64_t index, const unsigned *bits, unsigned nbits)
{
	uint64_t m = 0;

	for (unsigned b = 0; b < nbits; b++)
		if (index & B(b))
			m |= B(bits[b]);
	return m;
}

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#define SAMPLE_COUNT 20000

/*
 * @max_exhaustive_bits: enumerate all 2^n masks when n is at most this (16 normally), otherwise
 * a fixed-seed random sample of SAMPLE_COUNT masks.
 */
static void check_properties(const char *name, unsigned max_exhaustive_bits, uint64_t seed)
{
	struct vx_profile p;
	struct prop_ctx ctx;
	unsigned bits[64], nbits = 0;

	load(&p, name);
	ctx.profile = name;
	ctx.p = &p;
	ctx.supported = vx_profile_xcr0_supported(&p) | vx_profile_xss_supported(&p);
	ctx.supervisor = vx_supervisor_components();
	ctx.seed = seed;
	for (unsigned i = 0; i < 64; i++)
		if (ctx.supported & B(i))
			bits[nbits++] = i;

	if (nbits <= max_exhaustive_bits) {
		size_t count = (size_t)1 << nbits;
		uint32_t *std = malloc(count * sizeof(*std));
		uint32_t *cmp = malloc(count * sizeof(*cmp));

		assert_non_null(std);
		assert_non_null(cmp);
		ctx.sampled = false;
		for (size_t idx = 0; idx < count; idx++)
			check_one_mask(&ctx, deposit(idx, bits, nbits), &std[idx], &cmp[idx]);
		/* Adding a component never shrinks either size. */
		for (size_t idx = 0; idx < count; idx++)
			for (unsigned b = 0; b < nbits; b++) {
				size_t bigger = idx | ((size_t)1 << b);

				if (std[bigger] < std[idx] || cmp[bigger] < cmp[idx])
					PROP_FAIL(&ctx, deposit(idx, bits, nbits),
						  "adding component %u shrinks a size (std %u->%u, "
						  "compacted %u->%u)",
						  bits[b], std[idx], std[bigger], cmp[idx], cmp[bigger]);
			}
		free(std);
		free(cmp);
		return;
	}

	uint64_t s = seed;

	ctx.sampled = true;
	for (unsigned k = 0; k < SAMPLE_COUNT; k++) {
		uint64_t m = xorshift64(&s) & ctx.supported;
		uint32_t std, cmp;

		check_one_mask(&ctx, m, &std, &cmp);
		for (unsigned b = 0; b < nbits; b++) {
			uint64_t bigger = m | B(bits[b]);

			if (vx_standard_size(&p, bigger) < std || vx_compacted_size(&p, bigger) < cmp)
				PROP_FAIL(&ctx, m, "adding component %u shrinks a size", bits[b]);
		}
	}
}

static void test_properties_all_profiles(void **state)
{
	(void)state;
	for (size_t n = 0; n < N_PROFILES; n++)
		check_properties(profiles[n].name, 16, 0);
}

/* The sampling path too (forced on the 16-bit APX profile), with a fixed, printed seed. */
static void test_properties_sampled(void **state)
{
	(void)state;
	check_properties("future-intel-apx", 8, UINT64_C(0x5EED0F0C0FFEE123));
	check_properties("sapphire-rapids", 8, UINT64_C(0x0DDBA11CAFEF00D5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_covers_builtins),
		cmocka_unit_test(test_component_geometry),
		cmocka_unit_test(test_compacted_examples),
		cmocka_unit_test(test_compacted_vendor_independent),
		cmocka_unit_test(test_standard_sizes),
		cmocka_unit_test(test_cpuid_reported_sizes),
		cmocka_unit_test(test_layout_refuses_unknown_bits),
		cmocka_unit_test(test_properties_all_profiles),
		cmocka_unit_test(test_properties_sampled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
