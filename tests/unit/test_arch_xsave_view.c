/* SPDX-License-Identifier: MIT */
/*
 * The typed leaf-0xD view (struct vx_xsave_view, arch.md §1.2-§1.4) and profiles built from
 * it with designated initializers, Xen test-cpu-policy style.
 *
 *  1. Every case's profile is built from a designated-initializer view; its raw leaves are
 *     what §1.2-§1.4 say the fields encode (checked register by register, by hand), and the
 *     view decoded back from them equals the one given.
 *  2. Layouts on those profiles: standard sizes, compacted offsets and sizes, written by hand
 *     from §2.1, §2.4 (its worked-examples table), §2.6 - including LWP in EDX (bit 62) and
 *     APX, whose standard size is not the end of the highest-numbered component.
 *  3. The accessors apply the XSAVE / XSAVES / XFD conditions (§1.2, §3.2, §3.3) to the view.
 *  4. The view follows every change: vx_profile_set_leaf() of a component, of leaf 1 and of
 *     leaf 0; a direct write to the leaves followed by vx_profile_decode_xsave().
 *  5. Every built-in profile, and derived ones, carry the view of their own leaves; the
 *     sapphire-rapids view is checked against profiles/README.md by hand.
 *  6. Refusals leave the profile unchanged and name the field or register.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/arch.h>

#define B(n) VX_BIT(n)

/* Intel client part with AVX, PKRU and CET (§2.1 sizes and offsets; XSS 0x1800, §2.4). */
static const struct vx_xsave_view view_cet = {
    .xsave = true,
    .xcr0_mask = 0x207,
    .enabled_size = 2696,
    .max_size = 2696,
    .xsaveopt = true,
    .xsavec = true,
    .xgetbv1 = true,
    .xsaves = true,
    .compacted_size = 880,
    .xss_mask = 0x1800,
    .component =
	{
	    [2] = {.size = 256, .offset = 576},
	    [9] = {.size = 8, .offset = 2688},
	    [11] = {.size = 16, .supervisor = true},
	    [12] = {.size = 24, .supervisor = true},
	},
};

/* AMX with PASID and CET: TILECFG/TILEDATA align64, TILEDATA XFD-capable (§1.4, §2.1). */
static const struct vx_xsave_view view_amx = {
    .xsave = true,
    .xcr0_mask = 0x60207,
    .enabled_size = 11008,
    .max_size = 11008,
    .xsaveopt = true,
    .xsavec = true,
    .xgetbv1 = true,
    .xsaves = true,
    .xfd = true,
    .compacted_size = 9152,
    .xss_mask = 0x1C00,
    .component =
	{
	    [2] = {.size = 256, .offset = 576},
	    [9] = {.size = 8, .offset = 2688},
	    [10] = {.size = 8, .supervisor = true},
	    [11] = {.size = 16, .supervisor = true},
	    [12] = {.size = 24, .supervisor = true},
	    [17] = {.size = 64, .offset = 2752, .align64 = true},
	    [18] = {.size = 8192, .offset = 2816, .align64 = true, .xfd = true},
	},
};

/* AMD Fam15h-like: LWP (bit 62, in 0xD.0 EDX) at 832, after AVX (§2.6); no XSAVES. */
static const struct vx_xsave_view view_lwp = {
    .xsave = true,
    .xcr0_mask = B(62) | 0x7,
    .enabled_size = 960,
    .max_size = 960,
    .xsaveopt = true,
    .compacted_size = 0,
    .component =
	{
	    [2] = {.size = 256, .offset = 576},
	    [62] = {.size = 128, .offset = 832},
	},
};

/* APX at 960 (the MPX hole, §2.1) below PKRU at 2688; a supervisor LBR with align64. */
static const struct vx_xsave_view view_apx = {
    .xsave = true,
    .xcr0_mask = 0x80207,
    .enabled_size = 2696,
    .max_size = 2696,
    .xsavec = true,
    .xsaves = true,
    .compacted_size = 1832,
    .xss_mask = 0x8800,
    .component =
	{
	    [2] = {.size = 256, .offset = 576},
	    [9] = {.size = 8, .offset = 2688},
	    [11] = {.size = 16, .supervisor = true},
	    [15] = {.size = 808, .supervisor = true, .align64 = true},
	    [19] = {.size = 128, .offset = 960},
	},
};

/* The same view without XSAVE: leaf 0xD is there but describes nothing (§1.2). */
static const struct vx_xsave_view view_no_xsave = {
    .xsave = false,
    .xcr0_mask = 0x7,
    .enabled_size = 832,
    .max_size = 832,
    .component = {[2] = {.size = 256, .offset = 576}},
};

static void build(struct vx_profile *p, const struct vx_xsave_view *view)
{
	struct vx_error err = VX_ERROR_INIT;

	vx_profile_init(p);
	if (vx_profile_from_xsave_view(p, view, &err) != 0)
		fail_msg("vx_profile_from_xsave_view: %s", err.reason);
}

static void expect_leaf(const struct vx_profile *p, uint32_t leaf, uint32_t subleaf,
			struct vx_cpuid_regs want)
{
	struct vx_cpuid_regs got = vx_profile_leaf(p, leaf, subleaf);

	if (memcmp(&got, &want, sizeof(got)) != 0)
		fail_msg("CPUID.(0x%x,%u) = %08x %08x %08x %08x, expected %08x %08x %08x %08x",
			 leaf, subleaf, got.eax, got.ebx, got.ecx, got.edx, want.eax, want.ebx,
			 want.ecx, want.edx);
}

static void expect_same_view(const struct vx_xsave_view *got, const struct vx_xsave_view *want)
{
	assert_int_equal(got->xsave, want->xsave);
	assert_int_equal(got->xcr0_mask, want->xcr0_mask);
	assert_int_equal(got->enabled_size, want->enabled_size);
	assert_int_equal(got->max_size, want->max_size);
	assert_int_equal(got->xsaveopt, want->xsaveopt);
	assert_int_equal(got->xsavec, want->xsavec);
	assert_int_equal(got->xgetbv1, want->xgetbv1);
	assert_int_equal(got->xsaves, want->xsaves);
	assert_int_equal(got->xfd, want->xfd);
	assert_int_equal(got->compacted_size, want->compacted_size);
	assert_int_equal(got->xss_mask, want->xss_mask);
	for (unsigned i = 0; i < VX_COMP_LIMIT; i++) {
		const struct vx_xsave_component *a = &got->component[i], *b = &want->component[i];

		if (a->size != b->size || a->offset != b->offset ||
		    a->supervisor != b->supervisor || a->align64 != b->align64 || a->xfd != b->xfd)
			fail_msg("component %u: %u@%u s%d a%d x%d, expected %u@%u s%d a%d x%d", i,
				 a->size, a->offset, a->supervisor, a->align64, a->xfd, b->size,
				 b->offset, b->supervisor, b->align64, b->xfd);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* 1. Raw leaves written from the view                                                          */

static void test_raw_leaves_by_hand(void **state)
{
	struct vx_profile p;

	(void)state;
	build(&p, &view_amx);
	/* CPUID.0:EAX raised to 0xD so the leaf exists; CPUID.1:ECX[26] = XSAVE (§1.1). */
	assert_int_equal(vx_profile_leaf(&p, 0, 0).eax, 0xD);
	assert_int_equal(vx_profile_leaf(&p, 1, 0).ecx, 1u << 26);
	/* §1.2: 0xD.0 = XCR0 mask low, enabled size, max size, XCR0 mask high. */
	expect_leaf(&p, 0xD, 0, (struct vx_cpuid_regs){0x60207, 11008, 11008, 0});
	/* §1.3: 0xD.1 EAX bits 0-4 = XSAVEOPT, XSAVEC, XGETBV1, XSAVES, XFD. */
	expect_leaf(&p, 0xD, 1, (struct vx_cpuid_regs){0x1F, 9152, 0x1C00, 0});
	/* §1.4: EAX size, EBX offset, ECX[0] supervisor, ECX[1] align64, ECX[2] XFD. */
	expect_leaf(&p, 0xD, 2, (struct vx_cpuid_regs){256, 576, 0, 0});
	expect_leaf(&p, 0xD, 10, (struct vx_cpuid_regs){8, 0, 1, 0});
	expect_leaf(&p, 0xD, 17, (struct vx_cpuid_regs){64, 2752, 2, 0});
	expect_leaf(&p, 0xD, 18, (struct vx_cpuid_regs){8192, 2816, 6, 0});
	expect_leaf(&p, 0xD, 3, (struct vx_cpuid_regs){0, 0, 0, 0});
	expect_leaf(&p, 0xD, 63, (struct vx_cpuid_regs){0, 0, 0, 0});

	build(&p, &view_lwp);
	/* Bit 62 of the XCR0 mask is EDX bit 30 (§1.2). */
	expect_leaf(&p, 0xD, 0, (struct vx_cpuid_regs){0x7, 960, 960, 0x40000000});
	expect_leaf(&p, 0xD, 1, (struct vx_cpuid_regs){0x1, 0, 0, 0});
	expect_leaf(&p, 0xD, 62, (struct vx_cpuid_regs){128, 832, 0, 0});

	build(&p, &view_no_xsave);
	assert_int_equal(vx_profile_leaf(&p, 1, 0).ecx & (1u << 26), 0);
}

static void test_view_round_trips(void **state)
{
	const struct vx_xsave_view *views[] = {&view_cet, &view_amx, &view_lwp, &view_apx,
					       &view_no_xsave};
	struct vx_profile p;

	(void)state;
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		build(&p, views[i]);
		expect_same_view(&p.xsave, views[i]);
		/* Decoding the raw leaves again gives the same view. */
		struct vx_profile again;
		memcpy(&again, &p, sizeof(p));
		vx_profile_decode_xsave(&again);
		expect_same_view(&again.xsave, &p.xsave);
	}
}

/* The view replaces leaf 0xD and the XSAVE bit only: other leaves and metadata stay. */
static void test_other_leaves_kept(void **state)
{
	struct vx_cpuid_regs leaf7 = {0, 1u << 7, 0, 0},
			     leaf0 = {0x20, 0x756e6547, 0x6c65746e, 0x49656e69};
	struct vx_profile p;

	(void)state;
	vx_profile_init(&p);
	snprintf(p.name, sizeof(p.name), "%s", "by-hand");
	assert_int_equal(vx_profile_set_leaf(&p, 0, 0, &leaf0), 0);
	assert_int_equal(vx_profile_set_leaf(&p, 7, 0, &leaf7), 0);
	assert_int_equal(vx_profile_set_leaf(&p, 0xD, 40, &(struct vx_cpuid_regs){64, 9000, 0, 0}),
			 0);
	assert_int_equal(vx_profile_from_xsave_view(&p, &view_cet, NULL), 0);
	assert_string_equal(p.name, "by-hand");
	assert_int_equal(vx_profile_vendor(&p), VX_VENDOR_INTEL);
	/* 0x20 is above 0xD: kept, not lowered. */
	assert_int_equal(vx_profile_leaf(&p, 0, 0).eax, 0x20);
	expect_leaf(&p, 7, 0, leaf7);
	/* Sub-leaves the view leaves zero are zero, whatever they held. */
	expect_leaf(&p, 0xD, 40, (struct vx_cpuid_regs){0, 0, 0, 0});
	assert_int_equal(p.mxcsr_mask, 0xFFFF);
}

/* ----------------------------------------------------------------------------------------- */
/* 2. Layouts, by hand                                                                          */

struct placement {
	unsigned component;
	uint32_t offset;
};

static const struct layout_case {
	const char *what;
	const struct vx_xsave_view *view;
	uint64_t mask;
	uint32_t standard_size; /* of mask's user bits (§1.2: max(576, offset + size)) */
	uint32_t compacted_size;
	struct placement compacted[8]; /* terminated by component 0 */
} layouts[] = {
    /* §2.4 table rows. */
    {"AVX", &view_cet, 0x7, 832, 832, {{2, 576}}},
    {"AVX+PKRU", &view_cet, 0x207, 2696, 840, {{2, 576}, {9, 832}}},
    {"AVX+PKRU+CET", &view_cet, 0x1A07, 2696, 880, {{2, 576}, {9, 832}, {11, 840}, {12, 856}}},
    {"CET only", &view_cet, 0x1803, 576, 616, {{11, 576}, {12, 592}}},
    {"x87+SSE", &view_cet, 0x3, 576, 576, {{0}}},
    {"AMX", &view_amx, 0x60003, 11008, 8832, {{17, 576}, {18, 640}}},
    {"AVX+PKRU+AMX", &view_amx, 0x60207, 11008, 9152, {{2, 576}, {9, 832}, {17, 896}, {18, 960}}},
    {"PKRU+TILECFG", &view_amx, 0x20203, 2752 + 64, 704, {{9, 576}, {17, 640}}},
    /* Interleaved by index, TILECFG rounded from 888 to 896 (§2.4). */
    {"everything",
     &view_amx,
     0x61E07,
     11008,
     9152,
     {{2, 576}, {9, 832}, {10, 840}, {11, 848}, {12, 864}, {17, 896}, {18, 960}}},
    /* §2.6: LWP at 832 after AVX; its bit is in EDX. */
    {"AVX+LWP", &view_lwp, B(62) | 0x7, 960, 960, {{2, 576}, {62, 832}}},
    {"LWP alone", &view_lwp, B(62) | 0x3, 960, 704, {{62, 576}}},
    /* APX at 960: the standard size is PKRU's end, not APX's (the highest bit). */
    {"AVX+APX", &view_apx, 0x80007, 1088, 960, {{2, 576}, {19, 832}}},
    {"AVX+PKRU+APX", &view_apx, 0x80207, 2696, 968, {{2, 576}, {9, 832}, {19, 840}}},
    /* A supervisor component with ECX[1]: LBR rounded from 856 to 896. */
    {"AVX+PKRU+CET_U+LBR",
     &view_apx,
     0x8A07,
     2696,
     1704,
     {{2, 576}, {9, 832}, {11, 840}, {15, 896}}},
};

static void check_layout(const struct layout_case *c)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_layout layout;
	struct vx_profile p;
	unsigned placed = 0;

	build(&p, c->view);
	assert_int_equal(vx_standard_size(&p, c->mask), c->standard_size);
	assert_int_equal(vx_compacted_size(&p, c->mask), c->compacted_size);
	if (vx_layout_compute(&p, c->mask, &layout, &err) != 0)
		fail_msg("%s: %s", c->what, err.reason);
	assert_int_equal(layout.compacted_size, c->compacted_size);
	assert_int_equal(layout.standard_size, c->standard_size);
	assert_int_equal(layout.cpuid_max_standard_size, c->view->max_size);
	assert_int_equal(layout.cpuid_enabled_compacted_size, c->view->compacted_size);
	for (const struct placement *pl = c->compacted; pl->component; pl++, placed++) {
		assert_int_equal(vx_compacted_offset(&p, c->mask, pl->component), pl->offset);
		for (unsigned e = 0; e < layout.count; e++)
			if (layout.entries[e].component == pl->component)
				assert_int_equal(layout.entries[e].compacted_offset, pl->offset);
	}
	/* Every component 2..62 of the mask was placed by hand; x87/SSE are listed too. */
	assert_int_equal(layout.count,
			 placed + (unsigned)(c->mask & 1) + (unsigned)(c->mask >> 1 & 1));
}

static void test_layouts_by_hand(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		print_message("layout %s: mask 0x%llx\n", layouts[i].what,
			      (unsigned long long)layouts[i].mask);
		check_layout(&layouts[i]);
	}
}

/* The entries of vx_layout_compute() carry the view's flags and standard offsets. */
static void test_layout_entries(void **state)
{
	struct vx_layout layout;
	struct vx_profile p;

	(void)state;
	build(&p, &view_amx);
	assert_int_equal(vx_layout_compute(&p, 0x61E07, &layout, NULL), 0);
	assert_int_equal(layout.count, 9);
	/* x87, SSE, AVX, PKRU, PASID, CET_U, CET_S, TILECFG, TILEDATA */
	const struct vx_layout_entry *pasid = &layout.entries[4], *tiledata = &layout.entries[8];
	assert_int_equal(pasid->component, 10);
	assert_true(pasid->supervisor);
	assert_false(pasid->in_standard);
	assert_int_equal(pasid->standard_offset, 0);
	assert_int_equal(tiledata->component, 18);
	assert_int_equal(tiledata->standard_offset, 2816);
	assert_true(tiledata->align64 && tiledata->xfd_capable && tiledata->in_standard);
	assert_int_equal(layout.entries[1].compacted_offset, VX_XMM_OFFSET);
}

/* ----------------------------------------------------------------------------------------- */
/* 3. The accessors' conditions                                                                 */

static void test_accessor_conditions(void **state)
{
	struct vx_component_desc d;
	struct vx_profile p;

	(void)state;
	build(&p, &view_amx);
	assert_int_equal(vx_profile_xcr0_supported(&p), 0x60207);
	assert_int_equal(vx_profile_xss_supported(&p), 0x1C00);
	assert_int_equal(vx_profile_xfd_supported(&p), B(18));
	assert_true(vx_profile_has(&p, VX_FEAT_XSAVES) && vx_profile_has(&p, VX_FEAT_XFD));
	assert_true(vx_profile_component(&p, 18, &d));
	assert_true(d.supported && d.align64 && d.xfd_capable && !d.supervisor);
	assert_int_equal(d.size, 8192);
	/* x87 and SSE: the fixed legacy geometry (§2.2), not the view's zero entries. */
	assert_true(vx_profile_component(&p, 1, &d));
	assert_int_equal(d.size, 256);
	assert_int_equal(d.standard_offset, 160);

	/* §1.3/§3.2: an XSS mask without XSAVES names no IA32_XSS bit. */
	struct vx_xsave_view v = view_cet;
	v.xsaves = false;
	build(&p, &v);
	assert_int_equal(p.xsave.xss_mask, 0x1800);
	assert_int_equal(vx_profile_xss_supported(&p), 0);
	/* §3.3: ECX[2] without XFD (0xD.1 EAX[4]) arms nothing. */
	v = view_amx;
	v.xfd = false;
	build(&p, &v);
	assert_int_equal(vx_profile_xfd_supported(&p), 0);

	/* §1.2: without XSAVE there are no masks, and nothing to lay out. */
	build(&p, &view_no_xsave);
	assert_int_equal(vx_profile_xcr0_supported(&p), 0);
	assert_int_equal(vx_layout_compute(&p, 0x7, &(struct vx_layout){0}, NULL), -EINVAL);
	assert_true(vx_profile_component(&p, 2, &d));
	assert_false(d.supported);
	assert_int_equal(d.size, 256);
}

/* ----------------------------------------------------------------------------------------- */
/* 4. The view follows every change                                                             */

static void test_set_leaf_updates_view(void **state)
{
	struct vx_profile p;

	(void)state;
	build(&p, &view_cet);
	/* A 512-byte AVX: PKRU moves from 832 to 1088 when compacted (§2.4). */
	assert_int_equal(vx_profile_set_leaf(&p, 0xD, 2, &(struct vx_cpuid_regs){512, 576, 0, 0}),
			 0);
	assert_int_equal(p.xsave.component[2].size, 512);
	assert_int_equal(vx_compacted_offset(&p, 0x207, 9), 1088);
	assert_int_equal(vx_compacted_size(&p, 0x207), 1096);
	assert_int_equal(vx_standard_size(&p, 0x7), 1088);
	/* ECX[1] set on PKRU: it starts on a 64-byte boundary, 1088 already is; CET_U at 1152. */
	assert_int_equal(vx_profile_set_leaf(&p, 0xD, 9, &(struct vx_cpuid_regs){8, 2688, 2, 0}),
			 0);
	assert_true(p.xsave.component[9].align64);
	assert_int_equal(vx_compacted_offset(&p, 0x1A07, 11), 1096);
	assert_int_equal(vx_profile_set_leaf(&p, 0xD, 11, &(struct vx_cpuid_regs){16, 0, 3, 0}), 0);
	assert_int_equal(vx_compacted_offset(&p, 0x1A07, 11), 1152);

	/* Leaf 1 without XSAVE: the masks go (§1.2). */
	assert_int_equal(vx_profile_set_leaf(&p, 1, 0, &(struct vx_cpuid_regs){0, 0, 0, 0}), 0);
	assert_false(p.xsave.xsave);
	assert_int_equal(vx_profile_xcr0_supported(&p), 0);
	assert_int_equal(vx_profile_set_leaf(&p, 1, 0, &(struct vx_cpuid_regs){0, 0, 1u << 26, 0}),
			 0);
	assert_int_equal(vx_profile_xcr0_supported(&p), 0x207);

	/* A maximum basic leaf below 0xD hides the whole leaf (vx_profile_leaf()). */
	assert_int_equal(vx_profile_set_leaf(&p, 0, 0, &(struct vx_cpuid_regs){7, 0, 0, 0}), 0);
	assert_int_equal(p.xsave.xcr0_mask, 0);
	assert_int_equal(p.xsave.component[2].size, 0);
	assert_int_equal(vx_compacted_size(&p, 0x207), 576);
	assert_int_equal(vx_profile_set_leaf(&p, 0, 0, &(struct vx_cpuid_regs){0xD, 0, 0, 0}), 0);
	assert_int_equal(p.xsave.component[2].size, 512);
}

static void test_direct_write_then_decode(void **state)
{
	struct vx_profile p;
	int slot = vx_profile_slot(0xD, 2);

	(void)state;
	build(&p, &view_cet);
	p.leaves[slot].eax = 128;
	vx_profile_decode_xsave(&p);
	assert_int_equal(p.xsave.component[2].size, 128);
	assert_int_equal(vx_standard_size(&p, 0x7), 704);
	assert_int_equal(vx_compacted_offset(&p, 0x207, 9), 704);
}

/* ----------------------------------------------------------------------------------------- */
/* 5. Built-in and derived profiles carry the view of their own leaves                         */

static void expect_decoded(const struct vx_profile *p, const char *what)
{
	struct vx_profile again;

	memcpy(&again, p, sizeof(again));
	vx_profile_decode_xsave(&again);
	/* A memcpy'd copy whose fields are rewritten: its padding is the original's. */
	/* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison,cert-exp42-c,cert-flp37-c) */
	if (memcmp(&p->xsave, &again.xsave, sizeof(again.xsave)) == 0)
		return;
	print_message("%s: the stored view differs from its leaves decoded again\n", what);
	expect_same_view(&p->xsave, &again.xsave);
}

static void test_builtin_profiles_decoded(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p, d;
	unsigned derived = 0;

	(void)state;
	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		const char *name = vx_builtin_profile_name(i);

		assert_int_equal(vx_profile_builtin(&p, name, &err), 0);
		expect_decoded(&p, name);
		/* Every toggle the profile has, taken away ("-amx", "-xsaves", "-xsave"...). */
		for (unsigned t = 0; t < vx_profile_toggle_count(); t++) {
			const char *toggle = NULL;
			char text[64];

			assert_true(vx_profile_toggle_info(t, &toggle, NULL, NULL, NULL));
			snprintf(text, sizeof(text), "-%s", toggle);
			d = p;
			if (vx_profile_derive(&d, text, NULL) != 0)
				continue;
			expect_decoded(&d, d.name);
			derived++;
		}
	}
	assert_true(derived > 0);
	vx_profile_init(&p);
	expect_decoded(&p, "vx_profile_init");
}

/* profiles/README.md and arch.md §2.1: sapphire-rapids as the view shows it. */
static void test_sapphire_rapids_view(void **state)
{
	struct vx_profile p;
	const struct vx_xsave_view *v = &p.xsave;

	(void)state;
	assert_int_equal(vx_profile_builtin(&p, "sapphire-rapids", NULL), 0);
	assert_true(v->xsave && v->xsaveopt && v->xsavec && v->xgetbv1 && v->xsaves && v->xfd);
	assert_int_equal(v->xcr0_mask, 0x602E7);
	assert_int_equal(v->xss_mask, 0xDD00);
	assert_int_equal(v->max_size, 11008);
	assert_int_equal(v->enabled_size, 11008);
	assert_int_equal(v->compacted_size, 11520);
	assert_int_equal(v->component[7].size, 1024);
	assert_int_equal(v->component[7].offset, 1664);
	assert_true(v->component[8].supervisor);
	assert_int_equal(v->component[15].size, 808);
	assert_true(v->component[17].align64 && !v->component[17].xfd);
	assert_true(v->component[18].align64 && v->component[18].xfd);
	assert_int_equal(v->component[18].offset, 2816);
	assert_int_equal(v->component[0].size, 0);
	assert_int_equal(v->component[1].size, 0);
}

/* ----------------------------------------------------------------------------------------- */
/* 6. Refusals                                                                                  */

static void expect_refused(const struct vx_xsave_view *v, const char *reason, int component)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p, before;

	build(&p, &view_cet);
	memcpy(&before, &p, sizeof(p));
	assert_int_equal(vx_profile_from_xsave_view(&p, v, &err), -EINVAL);
	assert_memory_equal(&p, &before, sizeof(p));
	if (!strstr(err.reason, reason))
		fail_msg("reason '%s' does not contain '%s'", err.reason, reason);
	assert_int_equal(err.component, component);
}

static void test_refusals(void **state)
{
	struct vx_xsave_view v = view_cet;

	(void)state;
	/* §1.4: sub-leaf 1 is not SSE's description. */
	v.component[1].size = 256;
	expect_refused(&v, "component[1] (SSE) must be zero", 1);
	v = view_cet;
	v.component[0].offset = 1;
	expect_refused(&v, "component[0] (x87) must be zero", 0);
	/* §1.4: ECX[0] marks AVX supervisor while it is in the XCR0 mask. */
	v = view_cet;
	v.component[2].supervisor = true;
	expect_refused(&v, "CPUID.(0xD,0x2).ECX = 0x1", 2);
	/* §1.2, §2.4: AVX ends at 832, past a standard size of 800. */
	v = view_cet;
	v.max_size = 800;
	expect_refused(&v, "would end at byte 832, past the end of the standard format", 2);
	v = view_cet;
	v.component[9].offset = 0;
	expect_refused(&v, "below byte 576", 9);
	/* NULL view. */
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;
	vx_profile_init(&p);
	assert_int_equal(vx_profile_from_xsave_view(&p, NULL, &err), -EINVAL);
	assert_int_equal(vx_profile_from_xsave_view(NULL, &view_cet, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_raw_leaves_by_hand),
	    cmocka_unit_test(test_view_round_trips),
	    cmocka_unit_test(test_other_leaves_kept),
	    cmocka_unit_test(test_layouts_by_hand),
	    cmocka_unit_test(test_layout_entries),
	    cmocka_unit_test(test_accessor_conditions),
	    cmocka_unit_test(test_set_leaf_updates_view),
	    cmocka_unit_test(test_direct_write_then_decode),
	    cmocka_unit_test(test_builtin_profiles_decoded),
	    cmocka_unit_test(test_sapphire_rapids_view),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
