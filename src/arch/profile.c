/* SPDX-License-Identifier: MIT */
/*
 * CPU profiles: the raw CPUID leaves that matter for XSAVE and CET, and typed accessors that
 * derive everything else from them (arch.md §1).  A profile stores leaves only; vendor, flags,
 * sizes and offsets are always computed, never copied.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/arch.h>

#include "arch/xsave_bounds.h"

/*
 * The (leaf, subleaf) pairs a profile keeps, in slot order: one row per range.
 * 0xD keeps every sub-leaf 0..63 (§1.4: sub-leaf i describes component i).
 */
static const struct {
	uint32_t leaf;
	uint32_t first_subleaf;
	uint32_t subleaf_count;
} kept_leaves[] = {
    {0x0, 0, 1},
    {0x1, 0, 1},
    {0x6, 0, 1},
    {0x7, 0, 2},
    {0xD, 0, 64},
    {0x14, 0, 2},
    {0x1D, 0, 2},
    {0x1E, 0, 2},
    {0x80000000, 0, 1},
    {0x80000001, 0, 1},
    {0x80000008, 0, 1},
    /* The brand string (SDM Vol. 2A CPUID 0x80000002-4), so dumps show the CPU's name. */
    {0x80000002, 0, 1},
    {0x80000003, 0, 1},
    {0x80000004, 0, 1},
};

#define KEPT_COUNT (sizeof(kept_leaves) / sizeof(kept_leaves[0]))

_Static_assert(1 + 1 + 1 + 2 + 64 + 2 + 2 + 2 + 1 + 1 + 1 + 3 == VX_PROFILE_SLOTS,
	       "VX_PROFILE_SLOTS must match kept_leaves[]");

int vx_profile_slot(uint32_t leaf, uint32_t subleaf)
{
	int base = 0;

	for (size_t i = 0; i < KEPT_COUNT; i++) {
		if (kept_leaves[i].leaf == leaf) {
			uint32_t rel = subleaf - kept_leaves[i].first_subleaf;

			if (subleaf < kept_leaves[i].first_subleaf ||
			    rel >= kept_leaves[i].subleaf_count)
				return -1;
			return base + (int)rel;
		}
		base += (int)kept_leaves[i].subleaf_count;
	}
	return -1;
}

bool vx_profile_slot_leaf(unsigned slot, uint32_t *leaf, uint32_t *subleaf)
{
	unsigned base = 0;

	for (size_t i = 0; i < KEPT_COUNT; i++) {
		if (slot < base + kept_leaves[i].subleaf_count) {
			*leaf = kept_leaves[i].leaf;
			*subleaf = kept_leaves[i].first_subleaf + (slot - base);
			return true;
		}
		base += kept_leaves[i].subleaf_count;
	}
	return false;
}

void vx_profile_init(struct vx_profile *profile)
{
	memset(profile, 0, sizeof(*profile));
	profile->mxcsr_mask = 0x0000FFFF;
	vx_profile_decode_xsave(profile);
}

static void decode_component(struct vx_profile *profile, unsigned id);

int vx_profile_set_leaf(struct vx_profile *profile, uint32_t leaf, uint32_t subleaf,
			const struct vx_cpuid_regs *regs)
{
	int slot = vx_profile_slot(leaf, subleaf);

	if (slot < 0)
		return -ENOENT;
	profile->leaves[slot] = *regs;
	/* The typed view follows: one component's sub-leaf, or what gates the whole leaf. */
	if (leaf == 0xD && subleaf >= 2 && subleaf < VX_COMP_LIMIT)
		decode_component(profile, subleaf);
	else if (leaf == 0 || leaf == 1 || leaf == 0xD)
		vx_profile_decode_xsave(profile);
	return 0;
}

/* The maximum leaf of the range @leaf belongs to (basic or extended), as CPUID reports it. */
static uint32_t max_leaf_of_range(const struct vx_profile *profile, uint32_t leaf)
{
	uint32_t range_base = leaf & 0x80000000u;

	return profile->leaves[vx_profile_slot(range_base, 0)].eax;
}

struct vx_cpuid_regs vx_profile_leaf(const struct vx_profile *profile, uint32_t leaf,
				     uint32_t subleaf)
{
	static const struct vx_cpuid_regs zero;
	int slot = vx_profile_slot(leaf, subleaf);

	if (slot < 0)
		return zero;
	/* Leaves above the range's maximum do not exist (leaf 0 and 0x80000000 always do). */
	if ((leaf & 0x7fffffffu) != 0 && leaf > max_leaf_of_range(profile, leaf))
		return zero;
	return profile->leaves[slot];
}

static uint32_t reg_of(const struct vx_cpuid_regs *r, enum vx_cpuid_reg reg)
{
	switch (reg) {
	case VX_EAX:
		return r->eax;
	case VX_EBX:
		return r->ebx;
	case VX_ECX:
		return r->ecx;
	case VX_EDX:
		return r->edx;
	}
	return 0;
}

enum vx_vendor vx_profile_vendor(const struct vx_profile *profile)
{
	struct vx_cpuid_regs r = vx_profile_leaf(profile, 0, 0);
	char id[13];

	/* Vendor string is EBX, EDX, ECX of leaf 0. */
	memcpy(id, &r.ebx, 4);
	memcpy(id + 4, &r.edx, 4);
	memcpy(id + 8, &r.ecx, 4);
	id[12] = '\0';
	if (strcmp(id, "GenuineIntel") == 0)
		return VX_VENDOR_INTEL;
	if (strcmp(id, "AuthenticAMD") == 0 || strcmp(id, "HygonGenuine") == 0)
		return VX_VENDOR_AMD;
	if (r.ebx == 0 && r.ecx == 0 && r.edx == 0)
		return VX_VENDOR_UNKNOWN;
	return VX_VENDOR_OTHER;
}

const char *vx_vendor_name(enum vx_vendor vendor)
{
	switch (vendor) {
	case VX_VENDOR_INTEL:
		return "Intel";
	case VX_VENDOR_AMD:
		return "AMD";
	case VX_VENDOR_OTHER:
		return "other";
	case VX_VENDOR_UNKNOWN:
		break;
	}
	return "unknown";
}

bool vx_profile_has(const struct vx_profile *profile, enum vx_feature feature)
{
	const struct vx_feature_info *f = vx_feature_info(feature);

	if (!f)
		return false;
	struct vx_cpuid_regs r = vx_profile_leaf(profile, f->leaf, f->subleaf);
	return (reg_of(&r, f->reg) >> f->bit) & 1u;
}

uint64_t vx_profile_xcr0_supported(const struct vx_profile *profile)
{
	/* §1.2: EDX:EAX of 0xD.0, meaningful only when XSAVE exists. */
	if (!profile->xsave.xsave)
		return 0;
	return profile->xsave.xcr0_mask;
}

uint64_t vx_profile_xss_supported(const struct vx_profile *profile)
{
	/* §3.2: IA32_XSS exists only with XSAVES. */
	if (!profile->xsave.xsave || !profile->xsave.xsaves)
		return 0;
	return profile->xsave.xss_mask;
}

uint64_t vx_profile_xfd_supported(const struct vx_profile *profile)
{
	uint64_t mask = 0;

	/* §3.3: IA32_XFD[i] may be set iff XFD exists and CPUID.(0xD,i).ECX[2] = 1. */
	if (!profile->xsave.xsave || !profile->xsave.xfd)
		return 0;
	for (unsigned i = 2; i < VX_COMP_LIMIT; i++)
		if (profile->xsave.component[i].xfd)
			mask |= VX_BIT(i);
	return mask;
}

uint32_t vx_profile_mxcsr_mask(const struct vx_profile *profile)
{
	/* §2.2: FXSAVE stores 0 when the CPU uses the default mask 0xFFBF (no DAZ). */
	return profile->mxcsr_mask ? profile->mxcsr_mask : 0x0000FFBFu;
}

unsigned vx_profile_linear_address_bits(const struct vx_profile *profile)
{
	unsigned bits = (vx_profile_leaf(profile, 0x80000008, 0).eax >> 8) & 0xffu;

	return bits ? bits : 48;
}

bool vx_profile_component(const struct vx_profile *profile, unsigned id,
			  struct vx_component_desc *desc)
{
	uint64_t supported = vx_profile_xcr0_supported(profile) | vx_profile_xss_supported(profile);

	if (id >= VX_COMP_LIMIT)
		return false;
	memset(desc, 0, sizeof(*desc));
	desc->supported = (supported >> id) & 1u;
	/* §1.4: sub-leaves 0 and 1 are special; x87 and SSE have the fixed legacy geometry. */
	if (id == VX_COMP_X87) {
		desc->size = 160;
		desc->standard_offset = 0;
		return true;
	}
	if (id == VX_COMP_SSE) {
		desc->size = 256;
		desc->standard_offset = VX_XMM_OFFSET;
		return true;
	}
	const struct vx_xsave_component *c = &profile->xsave.component[id];
	desc->size = c->size;
	desc->standard_offset = c->offset;
	desc->supervisor = c->supervisor;
	desc->align64 = c->align64;
	desc->xfd_capable = c->xfd;
	return true;
}

/* ----------------------------------------------------------------------------------------- */
/* The typed leaf-0xD view (struct vx_xsave_view): one decoder, one encoder                     */

/* Sub-leaf @id (2..62) of leaf 0xD into the view (§1.4). */
static void decode_component(struct vx_profile *profile, unsigned id)
{
	struct vx_xsave_component *c = &profile->xsave.component[id];
	struct vx_cpuid_regs r = vx_profile_leaf(profile, 0xD, id);

	c->size = r.eax;
	c->offset = r.ebx;
	c->supervisor = r.ecx & 1u;	/* ECX[0]: IA32_XSS component */
	c->align64 = (r.ecx >> 1) & 1u; /* ECX[1]: 64-byte aligned when compacted */
	c->xfd = (r.ecx >> 2) & 1u;	/* ECX[2]: XFD-capable */
}

void vx_profile_decode_xsave(struct vx_profile *profile)
{
	struct vx_xsave_view *v = &profile->xsave;
	struct vx_cpuid_regs d0 = vx_profile_leaf(profile, 0xD, 0);
	struct vx_cpuid_regs d1 = vx_profile_leaf(profile, 0xD, 1);

	/* Padding too: two profiles with the same leaves compare equal byte for byte. */
	memset(v, 0, sizeof(*v));
	v->xsave = vx_profile_has(profile, VX_FEAT_XSAVE);
	v->xcr0_mask = (uint64_t)d0.edx << 32 | d0.eax; /* §1.2 */
	v->enabled_size = d0.ebx;
	v->max_size = d0.ecx;
	v->xsaveopt = vx_profile_has(profile, VX_FEAT_XSAVEOPT); /* §1.3: 0xD.1 EAX */
	v->xsavec = vx_profile_has(profile, VX_FEAT_XSAVEC);
	v->xgetbv1 = vx_profile_has(profile, VX_FEAT_XGETBV1);
	v->xsaves = vx_profile_has(profile, VX_FEAT_XSAVES);
	v->xfd = vx_profile_has(profile, VX_FEAT_XFD);
	v->compacted_size = d1.ebx;
	v->xss_mask = (uint64_t)d1.edx << 32 | d1.ecx; /* §1.3 */
	for (unsigned id = 2; id < VX_COMP_LIMIT; id++)
		decode_component(profile, id);
}

/* Set or clear the bit of CPUID flag @feature in the raw leaves. */
static void put_flag(struct vx_profile *profile, enum vx_feature feature, bool on)
{
	const struct vx_feature_info *f = vx_feature_info(feature);
	struct vx_cpuid_regs *r = &profile->leaves[vx_profile_slot(f->leaf, f->subleaf)];
	uint32_t *words[] = {
	    [VX_EAX] = &r->eax, [VX_EBX] = &r->ebx, [VX_ECX] = &r->ecx, [VX_EDX] = &r->edx};
	uint32_t *word = words[f->reg];

	*word = on ? *word | (1u << f->bit) : *word & ~(1u << f->bit);
}

/* The raw leaves that decode to @v (vx_profile_decode_xsave() is the inverse). */
static void encode_xsave_view(struct vx_profile *p, const struct vx_xsave_view *v)
{
	uint32_t *max_basic = &p->leaves[vx_profile_slot(0, 0)].eax;
	int base = vx_profile_slot(0xD, 0);

	/* Leaf 0xD exists only up to the maximum basic leaf CPUID.0:EAX. */
	if (*max_basic < 0xD)
		*max_basic = 0xD;
	p->leaves[base] = (struct vx_cpuid_regs){(uint32_t)v->xcr0_mask, v->enabled_size,
						 v->max_size, (uint32_t)(v->xcr0_mask >> 32)};
	p->leaves[base + 1] = (struct vx_cpuid_regs){0, v->compacted_size, (uint32_t)v->xss_mask,
						     (uint32_t)(v->xss_mask >> 32)};
	put_flag(p, VX_FEAT_XSAVE, v->xsave);
	put_flag(p, VX_FEAT_XSAVEOPT, v->xsaveopt);
	put_flag(p, VX_FEAT_XSAVEC, v->xsavec);
	put_flag(p, VX_FEAT_XGETBV1, v->xgetbv1);
	put_flag(p, VX_FEAT_XSAVES, v->xsaves);
	put_flag(p, VX_FEAT_XFD, v->xfd);
	for (unsigned id = 2; id < 64; id++) {
		const struct vx_xsave_component *c = &v->component[id < VX_COMP_LIMIT ? id : 0];
		uint32_t ecx =
		    (uint32_t)c->supervisor | (uint32_t)c->align64 << 1 | (uint32_t)c->xfd << 2;

		/* Sub-leaf 63 describes no component (bit 63 is XCOMP_BV's format bit, §2.3). */
		p->leaves[base + (int)id] = id < VX_COMP_LIMIT
						? (struct vx_cpuid_regs){c->size, c->offset, ecx, 0}
						: (struct vx_cpuid_regs){0, 0, 0, 0};
	}
}

static bool component_is_zero(const struct vx_xsave_component *c)
{
	return !c->size && !c->offset && !c->supervisor && !c->align64 && !c->xfd;
}

int vx_profile_from_xsave_view(struct vx_profile *profile, const struct vx_xsave_view *view,
			       struct vx_error *err)
{
	struct vx_profile result;
	int rc;

	if (!profile || !view)
		return vx_error_set(err, -EINVAL, NULL,
				    "vx_profile_from_xsave_view needs a profile and a view");
	/* §1.4: sub-leaves 0 and 1 are not component descriptions; §2.2: x87/SSE are fixed. */
	for (unsigned id = 0; id < 2; id++)
		if (!component_is_zero(&view->component[id])) {
			vx_error_set(
			    err, -EINVAL, "arch.md §1.4, §2.2",
			    "view component[%u] (%s) must be zero: sub-leaf %u of leaf 0xD "
			    "is not a component description, and x87 and SSE have the "
			    "fixed legacy geometry",
			    id, id ? "SSE" : "x87", id);
			if (err)
				err->component = (int)id;
			return -EINVAL;
		}
	result = *profile;
	encode_xsave_view(&result, view);
	vx_profile_decode_xsave(&result);
	/* A view that cannot be laid out is refused like a dump that cannot (docs "Bounds"). */
	rc = vx_profile_check_xsave_leaves(&result, err);
	if (rc)
		return rc;
	*profile = result;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Bounds on leaf 0xD (docs/profiles.md "Bounds")                                              */

struct bounds_walk {
	const struct vx_profile *profile;
	xsave_bound_report report;
	void *ctx;
	unsigned count;
	bool stopped;
};

static void bound_failed(struct bounds_walk *w, uint32_t subleaf, int component, const char *fmt,
			 ...)
#ifdef __GNUC__
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void bound_failed(struct bounds_walk *w, uint32_t subleaf, int component, const char *fmt,
			 ...)
{
	struct xsave_bound_failure failure = {.subleaf = subleaf, .component = component};
	va_list ap;

	w->count++;
	if (w->stopped)
		return;
	va_start(ap, fmt);
	vsnprintf(failure.message, sizeof(failure.message), fmt, ap);
	va_end(ap);
	if (!w->report(w->ctx, &failure))
		w->stopped = true;
}

static const char *bound_component_name(unsigned id)
{
	const struct vx_component_info *info = vx_component_info(id);

	return info ? info->name : "unknown";
}

/* A message shows the raw register, reserved bits and all. */
static uint32_t raw_ecx(const struct bounds_walk *w, unsigned id)
{
	return vx_profile_leaf(w->profile, 0xD, id).ecx;
}

/*
 * A component's kind is decided twice: by the mask it is in (0xD.0 EDX:EAX or 0xD.1 EDX:ECX)
 * and by 0xD.i ECX[0] (§1.4).  When the two disagree the component has no defined place in
 * the standard format.  Returns true if @id may be laid out.
 */
static bool bound_kind(struct bounds_walk *w, unsigned id, uint64_t xcr0, uint64_t xss)
{
	uint64_t bit = VX_BIT(id);
	bool high = id >= 32;
	const char *name = bound_component_name(id);
	bool supervisor = w->profile->xsave.component[id].supervisor;

	if ((xcr0 & bit) && (xss & bit)) {
		bound_failed(w, 1, (int)id,
			     "CPUID.(0xD,1).%s = 0x%08x: component %u (%s) is in the IA32_XSS mask "
			     "and in the XCR0 mask CPUID.(0xD,0).%s; a component is either user or "
			     "supervisor (arch.md §2.1)",
			     high ? "EDX" : "ECX", (uint32_t)(xss >> (high ? 32 : 0)), id, name,
			     high ? "EDX" : "EAX");
		return false;
	}
	if ((xcr0 & bit) && supervisor) {
		bound_failed(
		    w, id, (int)id,
		    "CPUID.(0xD,0x%x).ECX = 0x%x: bit 0 marks component %u (%s) supervisor, "
		    "but it is in the XCR0 mask CPUID.(0xD,0).%s (arch.md §1.4)",
		    id, raw_ecx(w, id), id, name, high ? "EDX" : "EAX");
		return false;
	}
	if ((xss & bit) && !supervisor) {
		bound_failed(
		    w, id, (int)id,
		    "CPUID.(0xD,0x%x).ECX = 0x%x: bit 0 clear marks component %u (%s) user, "
		    "but it is in the IA32_XSS mask CPUID.(0xD,1).%s (arch.md §1.4)",
		    id, raw_ecx(w, id), id, name, high ? "EDX" : "ECX");
		return false;
	}
	return true;
}

/* §1.2, §2.4: a user component lies in the extended region, inside 0xD.0 ECX. */
static void bound_user_place(struct bounds_walk *w, unsigned id, const struct vx_xsave_component *c,
			     uint32_t max_standard)
{
	uint64_t end = (uint64_t)c->offset + c->size;
	const char *name = bound_component_name(id);

	if (c->offset < VX_EXTENDED_OFFSET)
		bound_failed(
		    w, id, (int)id,
		    "CPUID.(0xD,0x%x).EBX = 0x%x: user component %u (%s) would start inside "
		    "the legacy region or the XSAVE header, below byte 576 (arch.md §1.4, "
		    "§2.4)",
		    id, c->offset, id, name);
	else if (c->offset >= max_standard && c->size)
		bound_failed(
		    w, id, (int)id,
		    "CPUID.(0xD,0x%x).EBX = 0x%x: user component %u (%s) would start past the "
		    "end of the standard format, CPUID.(0xD,0).ECX = 0x%x (arch.md §1.2, §2.4)",
		    id, c->offset, id, name, max_standard);
	else if (end > max_standard)
		bound_failed(
		    w, id, (int)id,
		    "CPUID.(0xD,0x%x).EBX + EAX = 0x%x + 0x%x: user component %u (%s) would "
		    "end at byte %llu, past the end of the standard format, CPUID.(0xD,0).ECX "
		    "= 0x%x (arch.md §1.2, §2.4)",
		    id, c->offset, c->size, id, name, (unsigned long long)end, max_standard);
}

unsigned xsave_bounds_walk(const struct vx_profile *profile, xsave_bound_report report, void *ctx)
{
	struct bounds_walk w = {profile, report, ctx, 0, false};
	uint64_t xcr0 = vx_profile_xcr0_supported(profile);
	uint64_t xss = vx_profile_xss_supported(profile);
	uint32_t max_standard = profile->xsave.max_size;
	uint64_t compacted = VX_EXTENDED_OFFSET;
	bool compacted_reported = false;

	/* Without XSAVE there is no mask and nothing to lay out (§1.2). */
	if (!(xcr0 | xss))
		return 0;
	if (max_standard > VX_XSAVE_AREA_MAX)
		bound_failed(
		    &w, 0, -1,
		    "CPUID.(0xD,0).ECX = 0x%x: a standard-format area of %u bytes is beyond "
		    "the 1 MiB limit vxsave puts on an XSAVE area (arch.md §1.2)",
		    max_standard, max_standard);
	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		const struct vx_xsave_component *c = &profile->xsave.component[id];

		if (!((xcr0 | xss) & VX_BIT(id)))
			continue;
		if (!bound_kind(&w, id, xcr0, xss))
			continue;
		if (c->size > VX_XSAVE_AREA_MAX - VX_EXTENDED_OFFSET) {
			bound_failed(
			    &w, id, (int)id,
			    "CPUID.(0xD,0x%x).EAX = 0x%x: component %u (%s) would be %u bytes, "
			    "beyond the 1 MiB limit vxsave puts on a whole XSAVE area "
			    "(arch.md §1.4)",
			    id, c->size, id, bound_component_name(id), c->size);
			continue;
		}
		if (xcr0 & VX_BIT(id))
			bound_user_place(&w, id, c, max_standard);
		/* §2.4: the compacted area of every supported component (the model's storage). */
		if (c->align64)
			compacted = (compacted + 63u) & ~(uint64_t)63u;
		compacted += c->size;
		if (compacted > VX_XSAVE_AREA_MAX && !compacted_reported) {
			compacted_reported = true;
			bound_failed(
			    &w, id, (int)id,
			    "CPUID.(0xD,0x%x).EAX = 0x%x: with component %u (%s) the "
			    "compacted area of every supported component reaches %llu bytes, "
			    "beyond the 1 MiB limit (arch.md §1.3, §2.4)",
			    id, c->size, id, bound_component_name(id),
			    (unsigned long long)compacted);
		}
	}
	return w.count;
}

static bool keep_first(void *ctx, const struct xsave_bound_failure *failure)
{
	struct vx_error *err = ctx;

	/* The message cites its own sections. */
	vx_error_set(err, -EINVAL, NULL, "%s", failure->message);
	if (err)
		err->component = failure->component;
	return false;
}

int vx_profile_check_xsave_leaves(const struct vx_profile *profile, struct vx_error *err)
{
	if (!profile)
		return vx_error_set(err, -EINVAL, NULL, "NULL profile");
	return xsave_bounds_walk(profile, keep_first, err) ? -EINVAL : 0;
}

unsigned vx_profile_compare(const struct vx_profile *a, const struct vx_profile *b,
			    struct vx_profile_difference *first)
{
	unsigned differences = 0;

	for (unsigned slot = 0; slot < VX_PROFILE_SLOTS; slot++) {
		uint32_t leaf, subleaf;

		vx_profile_slot_leaf(slot, &leaf, &subleaf);
		struct vx_cpuid_regs ra = vx_profile_leaf(a, leaf, subleaf);
		struct vx_cpuid_regs rb = vx_profile_leaf(b, leaf, subleaf);
		/* CPUID.1:EBX[31:24] is the initial APIC ID: different on every logical CPU. */
		if (leaf == 1) {
			ra.ebx &= 0x00ffffffu;
			rb.ebx &= 0x00ffffffu;
		}
		for (int reg = VX_EAX; reg <= VX_EDX; reg++) {
			uint32_t va = reg_of(&ra, (enum vx_cpuid_reg)reg);
			uint32_t vb = reg_of(&rb, (enum vx_cpuid_reg)reg);

			if (va == vb)
				continue;
			if (differences++ == 0 && first) {
				first->leaf = leaf;
				first->subleaf = subleaf;
				first->reg = (enum vx_cpuid_reg)reg;
				first->a = va;
				first->b = vb;
			}
		}
	}
	return differences;
}
