/* SPDX-License-Identifier: MIT */
/*
 * Consistency diagnostics: a profile's CPUID leaves checked against each other and against the
 * component table (arch.md §1-§3).  Real CPUs pass; hand-edited dumps, buggy hypervisors and
 * nested VMs often do not (for example AMX sub-leaves left in 0xD while the XCR0 mask hides
 * AMX).  Severity: error = a size or offset computed from this profile would be wrong;
 * warning = two enumerations disagree; note = worth knowing, nothing is wrong.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/arch.h>

#include "arch/xsave_bounds.h"

#ifdef __GNUC__
#define DIAG_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define DIAG_PRINTF(fmt_index, first_arg)
#endif

#define LEAF_XSAVE     0xDu
#define LAST_COMPONENT 62u
/* Searching subsets of a mask costs 2^bits layout computations: stop well before that hurts. */
#define SEARCH_MAX_BITS 14u
#define CANDIDATES_MAX	64u
#define ECX_SUPERVISOR	(1u << 0)
#define ECX_XFD_CAPABLE (1u << 2)
#define ECX_RESERVED	(~UINT32_C(7))

/* Where diagnostics go, plus what every check needs to know about the profile. */
struct diag_ctx {
	const struct vx_profile *profile;
	uint64_t xcr0_mask; /* CPUID.(0xD,0).EDX:EAX (§1.2) */
	uint64_t xss_mask;  /* CPUID.(0xD,1).EDX:ECX when XSAVES exists (§1.3) */
	uint64_t unusable;  /* components that break a bound (xsave_bounds_walk) */
	bool out_of_bounds; /* any bound broken */
	struct vx_diagnostic *out;
	unsigned max;
	unsigned count;
};

static void emit(struct diag_ctx *ctx, enum vx_diag_severity severity, uint32_t subleaf,
		 int component, const char *fmt, ...) DIAG_PRINTF(5, 6);

static void emit_va(struct diag_ctx *ctx, enum vx_diag_severity severity, uint32_t leaf,
		    uint32_t subleaf, int component, const char *fmt, va_list ap) DIAG_PRINTF(6, 0);

/* Record one diagnostic about CPUID.(@leaf, @subleaf); past @max it is only counted. */
static void emit_va(struct diag_ctx *ctx, enum vx_diag_severity severity, uint32_t leaf,
		    uint32_t subleaf, int component, const char *fmt, va_list ap)
{
	if (ctx->count < ctx->max) {
		struct vx_diagnostic *d = &ctx->out[ctx->count];

		d->severity = severity;
		d->leaf = leaf;
		d->subleaf = subleaf;
		d->component = component;
		vsnprintf(d->message, sizeof(d->message), fmt, ap);
	}
	ctx->count++;
}

static void emit(struct diag_ctx *ctx, enum vx_diag_severity severity, uint32_t subleaf,
		 int component, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_va(ctx, severity, LEAF_XSAVE, subleaf, component, fmt, ap);
	va_end(ap);
}

static void emit_leaf(struct diag_ctx *ctx, enum vx_diag_severity severity, uint32_t leaf,
		      uint32_t subleaf, int component, const char *fmt, ...) DIAG_PRINTF(6, 7);

static void emit_leaf(struct diag_ctx *ctx, enum vx_diag_severity severity, uint32_t leaf,
		      uint32_t subleaf, int component, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_va(ctx, severity, leaf, subleaf, component, fmt, ap);
	va_end(ap);
}

static const char *component_name(unsigned id)
{
	const struct vx_component_info *info = vx_component_info(id);

	return info ? info->name : "unknown";
}

static struct vx_cpuid_regs xsave_leaf(const struct diag_ctx *ctx, unsigned subleaf)
{
	return vx_profile_leaf(ctx->profile, LEAF_XSAVE, subleaf);
}

static bool regs_zero(const struct vx_cpuid_regs *r)
{
	return (r->eax | r->ebx | r->ecx | r->edx) == 0;
}

static unsigned bit_count(uint64_t mask)
{
	unsigned count = 0;

	for (; mask; mask &= mask - 1)
		count++;
	return count;
}

/* Number of the lowest set bit of a non-zero @mask. */
static int lowest_bit(uint64_t mask)
{
	int bit = 0;

	while (mask && !(mask & 1)) {
		mask >>= 1;
		bit++;
	}
	return bit;
}

static unsigned long long ull(uint64_t value)
{
	return (unsigned long long)value;
}

/* §1.4: a sub-leaf whose component is in neither mask must read as all zeros. */
static void check_orphan_subleaves(struct diag_ctx *ctx)
{
	for (unsigned i = 2; i <= 63; i++) {
		struct vx_cpuid_regs r = xsave_leaf(ctx, i);

		if (regs_zero(&r) || ((ctx->xcr0_mask | ctx->xss_mask) & VX_BIT(i)))
			continue;
		emit(
		    ctx, VX_DIAG_WARNING, i, (int)i,
		    "0xD.%u describes component %u (%s, size %u) but bit %u is in neither the XCR0 "
		    "mask 0x%llx nor the XSS mask 0x%llx; it should read as zeros (arch.md §1.4)",
		    i, i, component_name(i), r.eax, i, ull(ctx->xcr0_mask), ull(ctx->xss_mask));
	}
}

/*
 * §1.4: EBX (standard offset) is 0 for supervisor components.  The other kind and offset
 * rules are bounds (xsave_bounds_walk): a user component's place, ECX[0] against the masks.
 */
static void check_supervisor_offset(struct diag_ctx *ctx, unsigned i, const struct vx_cpuid_regs *r)
{
	if ((ctx->xss_mask & VX_BIT(i)) && r->ebx != 0)
		emit(ctx, VX_DIAG_WARNING, i, (int)i,
		     "0xD.%u EBX=%u: supervisor component %u (%s) should have standard offset 0 "
		     "(arch.md §1.4)",
		     i, r->ebx, i, component_name(i));
}

/* §1.4 size, §2.1 architectural size, §3.3 XFD flag, reserved bits. */
static void check_component_size_and_flags(struct diag_ctx *ctx, unsigned i,
					   const struct vx_cpuid_regs *r)
{
	const struct vx_component_info *info = vx_component_info(i);

	if (r->eax == 0)
		emit(ctx, VX_DIAG_ERROR, i, (int)i,
		     "0xD.%u EAX=0: component %u (%s) is supported but has size 0 (arch.md §1.4)",
		     i, i, component_name(i));
	else if (info && info->arch_size && r->eax != info->arch_size)
		emit(ctx, VX_DIAG_ERROR, i, (int)i,
		     "0xD.%u EAX=%u: component %u (%s) is %u bytes architecturally (arch.md §2.1)",
		     i, r->eax, i, component_name(i), info->arch_size);
	else if (r->eax % 8)
		emit(ctx, VX_DIAG_WARNING, i, (int)i,
		     "0xD.%u EAX=%u: component %u (%s) is not a whole number of 8-byte words, unlike "
		     "every component defined so far (arch.md §2.1)",
		     i, r->eax, i, component_name(i));
	if (!info)
		emit(ctx, VX_DIAG_NOTE, i, (int)i,
		     "component %u is supported (0xD.%u: size %u) but vxsave does not know it; it "
		     "is laid out by CPUID alone (arch.md §2.4)",
		     i, i, r->eax);
	if ((r->ecx & ECX_RESERVED) || r->edx)
		emit(ctx, VX_DIAG_WARNING, i, (int)i,
		     "0xD.%u has reserved bits set (ECX=0x%08x EDX=0x%08x; arch.md §1.4)", i,
		     r->ecx, r->edx);
}

/* §3.3: ECX[2] promises an IA32_XFD bit, which needs XFD itself (0xD.1 EAX[4]). */
static void check_xfd_flags(struct diag_ctx *ctx)
{
	if (vx_profile_has(ctx->profile, VX_FEAT_XFD))
		return;
	for (unsigned i = 2; i <= LAST_COMPONENT; i++)
		if (xsave_leaf(ctx, i).ecx & ECX_XFD_CAPABLE)
			emit(ctx, VX_DIAG_WARNING, i, (int)i,
			     "0xD.%u ECX[2]=1 marks component %u (%s) XFD-capable but XFD is not "
			     "supported (0xD.1 EAX[4]=0; arch.md §1.3, §3.3)",
			     i, i, component_name(i));
}

static void check_supported_components(struct diag_ctx *ctx)
{
	uint64_t supported = ctx->xcr0_mask | ctx->xss_mask;

	for (unsigned i = 2; i <= LAST_COMPONENT; i++) {
		struct vx_cpuid_regs r;

		if (!(supported & VX_BIT(i)) || (ctx->unusable & VX_BIT(i)))
			continue;
		r = xsave_leaf(ctx, i);
		check_component_size_and_flags(ctx, i, &r);
		check_supervisor_offset(ctx, i, &r);
	}
}

/* §2.4: user components have fixed, disjoint standard-format places (APX reuses MPX's). */
static void check_standard_overlaps(struct diag_ctx *ctx)
{
	uint64_t placed = ctx->xcr0_mask & ~ctx->unusable;

	for (unsigned i = 2; i <= LAST_COMPONENT; i++) {
		struct vx_cpuid_regs a = xsave_leaf(ctx, i);

		if (!(placed & VX_BIT(i)) || a.eax == 0 || a.ebx == 0)
			continue;
		for (unsigned j = i + 1; j <= LAST_COMPONENT; j++) {
			struct vx_cpuid_regs b = xsave_leaf(ctx, j);

			if (!(placed & VX_BIT(j)) || b.eax == 0 || b.ebx == 0)
				continue;
			if ((uint64_t)a.ebx + a.eax <= b.ebx || (uint64_t)b.ebx + b.eax <= a.ebx)
				continue;
			emit(ctx, VX_DIAG_ERROR, j, (int)j,
			     "components %u (%s, bytes %u-%llu) and %u (%s, bytes %u-%llu) overlap "
			     "in "
			     "the standard format yet are both in the XCR0 mask (arch.md §2.4, "
			     "§3.1)",
			     i, component_name(i), a.ebx, ull((uint64_t)a.ebx + a.eax - 1), j,
			     component_name(j), b.ebx, ull((uint64_t)b.ebx + b.eax - 1));
		}
	}
}

/* §1.2: 0xD.0 ECX is the standard size of every supported XCR0 bit. */
static void check_max_standard_size(struct diag_ctx *ctx)
{
	uint32_t reported = xsave_leaf(ctx, 0).ecx;
	uint32_t computed = vx_standard_size(ctx->profile, ctx->xcr0_mask);

	/* Beyond the bound, the bound's own error already says why (xsave_bounds_walk). */
	if (reported != computed && computed <= VX_XSAVE_AREA_MAX)
		emit(ctx, VX_DIAG_ERROR, 0, -1,
		     "0xD.0 ECX=%u but the components of the XCR0 mask 0x%llx need %u bytes in the "
		     "standard format (arch.md §1.2)",
		     reported, ull(ctx->xcr0_mask), computed);
}

static bool has_compacted_form(const struct diag_ctx *ctx)
{
	return vx_profile_has(ctx->profile, VX_FEAT_XSAVEC) ||
	       vx_profile_has(ctx->profile, VX_FEAT_XSAVES);
}

/* The subsets of @xss_mask whose compacted size with @xcr0 is @reported; 0 if none match. */
static unsigned count_xss_explaining(const struct diag_ctx *ctx, uint64_t xcr0, uint32_t reported,
				     uint64_t *match)
{
	uint64_t subset = 0;
	unsigned matches = 0;

	if (bit_count(ctx->xss_mask) > SEARCH_MAX_BITS)
		return 0;
	do {
		subset = (subset - ctx->xss_mask) & ctx->xss_mask;
		if (vx_compacted_size(ctx->profile, xcr0 | subset) == reported) {
			if (matches++ == 0)
				*match = subset;
		}
	} while (subset != 0);
	return matches;
}

/* §1.3: 0xD.1 EBX is the compacted size of XCR0 | IA32_XSS, both in force at capture. */
static void check_compacted_size_known_xcr0(struct diag_ctx *ctx, uint64_t xcr0)
{
	const struct vx_profile *p = ctx->profile;
	uint32_t reported = xsave_leaf(ctx, 1).ebx;
	bool xss_unknown = !p->xss_known && ctx->xss_mask != 0;
	uint64_t xss = p->xss_at_capture;

	if (!has_compacted_form(ctx))
		return;
	if (!xss_unknown) {
		uint32_t computed = vx_compacted_size(p, xcr0 | xss);

		if (reported != computed)
			emit(ctx, VX_DIAG_ERROR, 1, -1,
			     "0xD.1 EBX=%u but XCR0 0x%llx | XSS 0x%llx needs %u bytes in the "
			     "compacted format (arch.md §1.3, §2.4)",
			     reported, ull(xcr0), ull(xss), computed);
		return;
	}
	/* XSS not recorded: fine if XSS = 0 explains EBX, else look for a value that does. */
	if (vx_compacted_size(p, xcr0) == reported)
		return;
	if (count_xss_explaining(ctx, xcr0, reported, &xss))
		emit(ctx, VX_DIAG_NOTE, 1, -1,
		     "IA32_XSS at capture not recorded; 0xD.1 EBX=%u matches XCR0 0x%llx with XSS "
		     "0x%llx (arch.md §1.3)",
		     reported, ull(xcr0), ull(xss));
	else
		emit(ctx, VX_DIAG_ERROR, 1, -1,
		     "0xD.1 EBX=%u is not the compacted size of XCR0 0x%llx with any IA32_XSS "
		     "within the mask 0x%llx (arch.md §1.3, §2.4)",
		     reported, ull(xcr0), ull(ctx->xss_mask));
}

/* §1.2, §1.3: with the capture-time XCR0 known, both dynamic sizes can be checked exactly. */
static void check_enabled_sizes_known(struct diag_ctx *ctx)
{
	const struct vx_profile *p = ctx->profile;
	uint64_t xcr0 = p->xcr0_at_capture;
	uint32_t reported = xsave_leaf(ctx, 0).ebx;
	struct vx_error why = VX_ERROR_INIT;

	if (vx_xcr0_check(p, xcr0, &why))
		emit(ctx, VX_DIAG_WARNING, 0, why.component,
		     "the recorded XCR0 0x%llx could not be set on this CPU: %.120s", ull(xcr0),
		     why.reason);
	vx_error_clear(&why);
	if (p->xss_at_capture && vx_xss_check(p, p->xss_at_capture, &why))
		emit(ctx, VX_DIAG_WARNING, 1, why.component,
		     "the recorded IA32_XSS 0x%llx could not be set on this CPU: %.120s",
		     ull(p->xss_at_capture), why.reason);
	if (reported != vx_standard_size(p, xcr0))
		emit(ctx, VX_DIAG_ERROR, 0, -1,
		     "0xD.0 EBX=%u but the recorded XCR0 0x%llx needs %u bytes in the standard "
		     "format (arch.md §1.2)",
		     reported, ull(xcr0), vx_standard_size(p, xcr0));
	check_compacted_size_known_xcr0(ctx, xcr0);
}

/* Valid XCR0 values (§3.1) whose standard size is @reported, in increasing order. */
static unsigned find_xcr0_explaining(const struct diag_ctx *ctx, uint32_t reported,
				     uint64_t *candidates, unsigned max)
{
	uint64_t subset = 0;
	unsigned found = 0;

	do {
		subset = (subset - ctx->xcr0_mask) & ctx->xcr0_mask;
		if (!subset || vx_xcr0_check(ctx->profile, subset, NULL))
			continue;
		if (vx_standard_size(ctx->profile, subset) != reported)
			continue;
		if (found < max)
			candidates[found] = subset;
		found++;
	} while (subset != 0);
	return found;
}

/* 0xD.1 EBX with an unknown XCR0: does any (XCR0 candidate, XSS subset) pair explain it? */
static void note_compacted_size_unknown(struct diag_ctx *ctx, const uint64_t *candidates,
					unsigned count)
{
	uint32_t reported = xsave_leaf(ctx, 1).ebx;
	uint64_t xss = 0;

	if (!has_compacted_form(ctx) || count == 0)
		return;
	/* Largest candidates first: Linux enables every user feature it knows. */
	for (unsigned c = count; c-- > 0;) {
		uint64_t xcr0 = candidates[c];

		if (ctx->xss_mask ? count_xss_explaining(ctx, xcr0, reported, &xss) != 0
				  : vx_compacted_size(ctx->profile, xcr0) == reported) {
			emit(ctx, VX_DIAG_NOTE, 1, -1,
			     "0xD.1 EBX=%u matches the compacted size of XCR0 0x%llx | XSS 0x%llx "
			     "(arch.md §1.3)",
			     reported, ull(xcr0), ull(xss));
			return;
		}
	}
	emit(ctx, VX_DIAG_WARNING, 1, -1,
	     "0xD.1 EBX=%u is not the compacted size of any XCR0 that explains 0xD.0 EBX together "
	     "with an IA32_XSS within 0x%llx (arch.md §1.3, §2.4)",
	     reported, ull(ctx->xss_mask));
}

/* §1.2: without the capture-time XCR0, say which XCR0 (if any) explains 0xD.0 EBX. */
static void check_enabled_sizes_unknown(struct diag_ctx *ctx)
{
	uint32_t reported = xsave_leaf(ctx, 0).ebx;
	uint64_t candidates[CANDIDATES_MAX], likeliest;
	unsigned found, kept;

	if (bit_count(ctx->xcr0_mask) > SEARCH_MAX_BITS) {
		emit(ctx, VX_DIAG_NOTE, 0, -1,
		     "XCR0 at capture not recorded and the XCR0 mask is too large to search; "
		     "0xD.0 EBX=%u not checked (arch.md §1.2)",
		     reported);
		return;
	}
	found = find_xcr0_explaining(ctx, reported, candidates, CANDIDATES_MAX);
	if (found == 0) {
		emit(ctx, VX_DIAG_WARNING, 0, -1,
		     "0xD.0 EBX=%u is not the standard size of any valid XCR0 within the mask "
		     "0x%llx (arch.md §1.2, §3.1)",
		     reported, ull(ctx->xcr0_mask));
		return;
	}
	kept = found < CANDIDATES_MAX ? found : CANDIDATES_MAX;
	/* Subsets come in increasing order: show the largest, the likeliest XCR0.  kept >= 1:
	 * found == 0 returned above. */
	/* cppcheck-suppress negativeIndex */
	likeliest = candidates[kept - 1];
	emit(ctx, VX_DIAG_NOTE, 0, -1,
	     "XCR0 at capture not recorded; 0xD.0 EBX=%u is the standard size of XCR0 0x%llx%s "
	     "(arch.md §1.2)",
	     reported, ull(likeliest), found > 1 ? " among others" : "");
	note_compacted_size_unknown(ctx, candidates, kept);
}

/* "CPUID.(0x7,0).ECX[7] (cet_ss)" for messages. */
static void describe_feature(enum vx_feature feature, char *buf, size_t len)
{
	static const char *const regs[] = {"EAX", "EBX", "ECX", "EDX"};
	const struct vx_feature_info *f = vx_feature_info(feature);

	if (!f) {
		snprintf(buf, len, "feature %d", (int)feature);
		return;
	}
	snprintf(buf, len, "CPUID.(0x%x,%u).%s[%u] (%s)", f->leaf, f->subleaf, regs[f->reg & 3],
		 f->bit, f->name);
}

/*
 * Feature flags that promise XSAVE components (arch.md §1.1, §1.3).  A flag without its
 * components is a warning, except for PT and Arch LBR, whose state real CPUs may leave out
 * of IA32_XSS (the MSRs still work): those are notes.
 */
static const struct flag_rule {
	enum vx_feature flag;
	uint64_t components;
	bool supervisor;
	enum vx_diag_severity severity;
} flag_rules[] = {
    {VX_FEAT_AVX, VX_BIT(VX_COMP_AVX), false, VX_DIAG_WARNING},
    {VX_FEAT_AVX512F, VX_BIT(5) | VX_BIT(6) | VX_BIT(7), false, VX_DIAG_WARNING},
    {VX_FEAT_MPX, VX_BIT(VX_COMP_BNDREGS) | VX_BIT(VX_COMP_BNDCSR), false, VX_DIAG_WARNING},
    {VX_FEAT_PKU, VX_BIT(VX_COMP_PKRU), false, VX_DIAG_WARNING},
    {VX_FEAT_AMX_TILE, VX_BIT(17) | VX_BIT(18), false, VX_DIAG_WARNING},
    {VX_FEAT_APX_F, VX_BIT(VX_COMP_APX), false, VX_DIAG_WARNING},
    {VX_FEAT_CET_SS, VX_BIT(VX_COMP_CET_U) | VX_BIT(VX_COMP_CET_S), true, VX_DIAG_WARNING},
    {VX_FEAT_CET_IBT, VX_BIT(VX_COMP_CET_U), true, VX_DIAG_WARNING},
    {VX_FEAT_ARCH_LBR, VX_BIT(VX_COMP_LBR), true, VX_DIAG_NOTE},
    {VX_FEAT_PT, VX_BIT(VX_COMP_PT), true, VX_DIAG_NOTE},
};

static void check_flag_promises(struct diag_ctx *ctx)
{
	for (size_t r = 0; r < sizeof(flag_rules) / sizeof(flag_rules[0]); r++) {
		const struct flag_rule *rule = &flag_rules[r];
		uint64_t mask = rule->supervisor ? ctx->xss_mask : ctx->xcr0_mask;
		uint64_t missing = rule->components & ~mask;
		char flag[64], names[64];

		if (!missing || !vx_profile_has(ctx->profile, rule->flag))
			continue;
		describe_feature(rule->flag, flag, sizeof(flag));
		vx_format_component_mask(missing, names, sizeof(names));
		emit(ctx, rule->severity, rule->supervisor ? 1 : 0, lowest_bit(missing),
		     "%s is set but the %s mask 0x%llx lacks %s (arch.md §1.1, %s)", flag,
		     rule->supervisor ? "XSS" : "XCR0", ull(mask), names,
		     rule->supervisor ? "§1.3" : "§1.2");
	}
}

/* Components in a mask whose enumerating CPUID flags are all clear (§1.1, §2.1). */
static void check_components_have_flags(struct diag_ctx *ctx)
{
	uint64_t supported = ctx->xcr0_mask | ctx->xss_mask;

	for (unsigned i = 2; i <= LAST_COMPONENT; i++) {
		const struct vx_component_info *info = vx_component_info(i);
		enum vx_feature first;
		char flag[64];

		if (!(supported & VX_BIT(i)) || !info || info->enumerated_by[0] == VX_FEAT_COUNT)
			continue;
		first = info->enumerated_by[0];
		if (vx_profile_has(ctx->profile, first) ||
		    (info->enumerated_by[1] != VX_FEAT_COUNT &&
		     vx_profile_has(ctx->profile, info->enumerated_by[1])))
			continue;
		describe_feature(first, flag, sizeof(flag));
		emit(ctx, VX_DIAG_WARNING, i, (int)i,
		     "component %u (%s) is in the %s mask but %s is clear (arch.md §1.1, §2.1)", i,
		     info->name, (ctx->xss_mask & VX_BIT(i)) ? "XSS" : "XCR0", flag);
	}
}

/* §1.3: XFD and XSAVES each come with something to apply to. */
static void check_xfd_and_xsaves(struct diag_ctx *ctx)
{
	struct vx_cpuid_regs sub1 = xsave_leaf(ctx, 1);
	uint64_t raw_xss_mask = (uint64_t)sub1.edx << 32 | sub1.ecx;
	bool xsaves = vx_profile_has(ctx->profile, VX_FEAT_XSAVES);

	if (vx_profile_has(ctx->profile, VX_FEAT_XFD) &&
	    vx_profile_xfd_supported(ctx->profile) == 0)
		emit(ctx, VX_DIAG_NOTE, 1, -1,
		     "XFD is supported (0xD.1 EAX[4]=1) but no component has ECX[2]=1, so no "
		     "IA32_XFD bit can be set (arch.md §3.3)");
	if (!xsaves && raw_xss_mask)
		emit(ctx, VX_DIAG_WARNING, 1, -1,
		     "0xD.1 EDX:ECX=0x%llx lists IA32_XSS bits but XSAVES (0xD.1 EAX[3]) is 0, so "
		     "there is no IA32_XSS (arch.md §3.2)",
		     ull(raw_xss_mask));
	if (xsaves && raw_xss_mask == 0)
		emit(ctx, VX_DIAG_NOTE, 1, -1,
		     "XSAVES is supported but the IA32_XSS mask is 0: no supervisor state "
		     "(arch.md §1.3)");
}

static uint64_t legacy_bits(void)
{
	return VX_BIT(VX_COMP_X87) | VX_BIT(VX_COMP_SSE);
}

/* §1.2, §2.1, §3.1, §3.2: each mask may only hold its own kind of component. */
static void check_mask_kinds(struct diag_ctx *ctx)
{
	uint64_t user_in_xss = ctx->xss_mask & vx_user_components();
	uint64_t sup_in_xcr0 = ctx->xcr0_mask & vx_supervisor_components();
	/* Components 2-62 in both masks break a bound (xsave_bounds_walk); 0, 1, 63 do not. */
	uint64_t both = ctx->xcr0_mask & ctx->xss_mask & (legacy_bits() | VX_BIT(63));
	uint64_t legacy = VX_BIT(VX_COMP_X87) | VX_BIT(VX_COMP_SSE);

	if (sup_in_xcr0)
		emit(
		    ctx, VX_DIAG_WARNING, 0, lowest_bit(sup_in_xcr0),
		    "the XCR0 mask 0x%llx holds supervisor bits 0x%llx (arch.md §1.2, §3.1 rule 6)",
		    ull(ctx->xcr0_mask), ull(sup_in_xcr0));
	if (user_in_xss)
		emit(ctx, VX_DIAG_WARNING, 1, lowest_bit(user_in_xss),
		     "the XSS mask 0x%llx holds user bits 0x%llx (arch.md §2.1, §3.2)",
		     ull(ctx->xss_mask), ull(user_in_xss));
	if (both)
		emit(
		    ctx, VX_DIAG_ERROR, 1, lowest_bit(both),
		    "bits 0x%llx are in both the XCR0 and the XSS mask; a component is either user "
		    "or supervisor (arch.md §2.1)",
		    ull(both));
	if ((ctx->xcr0_mask | ctx->xss_mask) & VX_BIT(63))
		emit(ctx, VX_DIAG_WARNING, 0, -1,
		     "bit 63 is reserved (the compaction flag in XCOMP_BV) but a mask lists it "
		     "(arch.md §2.1)");
	if ((ctx->xcr0_mask & legacy) != legacy)
		emit(ctx, VX_DIAG_WARNING, 0, -1,
		     "the XCR0 mask 0x%llx lacks x87 or SSE, which every XSAVE CPU supports "
		     "(arch.md §3.1 rule 1)",
		     ull(ctx->xcr0_mask));
}

/* Leaf 0xD without XSAVE, or XSAVE without leaf 0xD. */
static bool check_xsave_present(struct diag_ctx *ctx)
{
	struct vx_cpuid_regs sub0 = xsave_leaf(ctx, 0);
	bool xsave = vx_profile_has(ctx->profile, VX_FEAT_XSAVE);

	if (!xsave && !regs_zero(&sub0))
		emit_leaf(ctx, VX_DIAG_WARNING, 1, 0, -1,
			  "leaf 0xD is populated but CPUID.1:ECX[26] (XSAVE) is 0; vxsave treats "
			  "this CPU as having no XSAVE (arch.md §1.1)");
	if (xsave && regs_zero(&sub0))
		emit(ctx, VX_DIAG_ERROR, 0, -1,
		     "CPUID.1:ECX[26] (XSAVE) is set but leaf 0xD.0 is empty (or above the maximum "
		     "basic leaf; arch.md §1.2)");
	return xsave && !regs_zero(&sub0);
}

/* A bound leaf 0xD breaks (docs/profiles.md "Bounds"): an error; its component is unusable. */
static bool emit_bound(void *opaque, const struct xsave_bound_failure *failure)
{
	struct diag_ctx *ctx = opaque;

	emit(ctx, VX_DIAG_ERROR, failure->subleaf, failure->component, "%s", failure->message);
	ctx->out_of_bounds = true;
	if (failure->component >= 0)
		ctx->unusable |= VX_BIT(failure->component);
	return true;
}

unsigned vx_profile_diagnose(const struct vx_profile *profile, struct vx_diagnostic *out,
			     unsigned max)
{
	struct diag_ctx ctx = {profile, 0, 0, 0, false, out, out ? max : 0, 0};

	if (!profile)
		return 0;
	ctx.xcr0_mask = vx_profile_xcr0_supported(profile);
	ctx.xss_mask = vx_profile_xss_supported(profile);
	if (!check_xsave_present(&ctx))
		return ctx.count;
	xsave_bounds_walk(profile, emit_bound, &ctx);
	check_mask_kinds(&ctx);
	check_orphan_subleaves(&ctx);
	check_supported_components(&ctx);
	check_standard_overlaps(&ctx);
	check_max_standard_size(&ctx);
	/* Sizes computed with an out-of-bounds component explain nothing: those checks wait. */
	if (ctx.out_of_bounds)
		emit(&ctx, VX_DIAG_NOTE, 0, -1,
		     "0xD.0 EBX and 0xD.1 EBX not checked: leaf 0xD is out of bounds (see the "
		     "errors above)");
	else if (profile->xcr0_at_capture)
		check_enabled_sizes_known(&ctx);
	else
		check_enabled_sizes_unknown(&ctx);
	check_flag_promises(&ctx);
	check_components_have_flags(&ctx);
	check_xfd_flags(&ctx);
	check_xfd_and_xsaves(&ctx);
	return ctx.count;
}

const char *vx_diag_severity_name(enum vx_diag_severity severity)
{
	switch (severity) {
	case VX_DIAG_NOTE:
		return "note";
	case VX_DIAG_WARNING:
		return "warning";
	case VX_DIAG_ERROR:
		return "error";
	}
	return "unknown";
}
