/* SPDX-License-Identifier: MIT */
/*
 * Derived profiles: a real CPU with features taken away ("sapphire-rapids,-amx,-avx512"),
 * the way QEMU's -cpu MODEL,-feat and Firecracker's CPU templates shape a guest CPU.
 *
 * Two rules (docs/profiles.md "Derived profiles"):
 *  - a feature goes together with everything that depends on it: one table, one row per
 *    toggle, each row naming its CPUID bits and the toggles it takes with it, with the reason;
 *  - leaf 0xD is derived again from the result, never passed through (the idea of Xen's
 *    recalculate_xstate): the XCR0 and IA32_XSS masks lose every component whose enumerating
 *    flags are gone, sub-leaves of removed components become zero, and the sizes in
 *    0xD.0 EBX/ECX and 0xD.1 EBX are computed from the sub-leaves that remain.
 * "+feat" only undoes a "-feat" (or keeps what the base has): a feature the base lacks has no
 * 0xD sub-leaf to take its size and offset from, so it cannot be invented.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/arch.h>

#include "arch/text.h"

#define DERIVE_RULE "docs/profiles.md (derived profiles)"

enum toggle_id {
	T_XSAVE,
	T_XSAVEOPT,
	T_XSAVEC,
	T_XGETBV1,
	T_XSAVES,
	T_XFD,
	T_AVX,
	T_AVX512,
	T_MPX,
	T_PKU,
	T_AMX,
	T_APX,
	T_CET,
	T_CET_SS,
	T_CET_IBT,
	T_CET_SSS,
	T_PT,
	T_ARCH_LBR,
	T_UINTR,
	T_ENQCMD,
	T_HWP,
	T_HDC,
	T_LWP,
	T_COUNT
};

#define TB(t) (1u << (t))

/* One CPUID bit a toggle clears. */
struct toggle_bit {
	uint32_t leaf;
	uint8_t subleaf;
	uint8_t reg; /* enum vx_cpuid_reg */
	uint8_t bit;
};

#define BIT1C(b)                                                                                   \
	{                                                                                          \
		0x1, 0, VX_ECX, b                                                                  \
	}
#define BIT6A(b)                                                                                   \
	{                                                                                          \
		0x6, 0, VX_EAX, b                                                                  \
	}
#define BIT70B(b)                                                                                  \
	{                                                                                          \
		0x7, 0, VX_EBX, b                                                                  \
	}
#define BIT70C(b)                                                                                  \
	{                                                                                          \
		0x7, 0, VX_ECX, b                                                                  \
	}
#define BIT70D(b)                                                                                  \
	{                                                                                          \
		0x7, 0, VX_EDX, b                                                                  \
	}
#define BIT71A(b)                                                                                  \
	{                                                                                          \
		0x7, 1, VX_EAX, b                                                                  \
	}
#define BIT71D(b)                                                                                  \
	{                                                                                          \
		0x7, 1, VX_EDX, b                                                                  \
	}
#define BITD1A(b)                                                                                  \
	{                                                                                          \
		0xD, 1, VX_EAX, b                                                                  \
	}

/* What a toggle does besides clearing its bits. */
enum toggle_action {
	ACT_NONE = 0,
	ACT_NO_XSAVE = 1u << 0,	    /* leaf 0xD all zero */
	ACT_NO_XSS = 1u << 1,	    /* the IA32_XSS mask empty */
	ACT_NO_XFD_FLAGS = 1u << 2, /* 0xD.i ECX[2] clear everywhere */
};

/**
 * struct toggle - one feature a derivation can remove.
 * @name, @alias: how users write it (case-insensitive, '-' = '_').
 * @bits:    the CPUID bits it clears; the first is the one whose presence means "the CPU has
 *           it" (a group has none: it has a member).
 * @implies: the toggles removed with it (the features that need it), or a group's members.
 * @leaves:  whole leaves that describe only this feature, zeroed with it (0 = none).
 */
struct toggle {
	const char *name;
	const char *alias;
	const char *summary;
	struct toggle_bit bits[24];
	unsigned nbits;
	unsigned implies;
	unsigned actions;
	bool group;
	uint32_t leaves[2];
};

/*
 * The dependency table.  Each row cites where its dependency comes from.  Bits follow the
 * Intel SDM Vol. 2A CPUID table (leaves 1, 6, 7, 0xD) and the AMD APM Vol. 3 (0x80000001).
 */
static const struct toggle toggles[T_COUNT] = {
    /* SDM Vol. 1 §13.2: CPUID.1:ECX.XSAVE enumerates XSETBV/XCR0 and leaf 0xD; every
     * XSAVE-managed state and every XSAVE variant needs it. */
    [T_XSAVE] = {"xsave",
		 NULL,
		 "XSAVE and everything XSAVE-managed (leaf 0xD zeroed)",
		 {BIT1C(26), BIT1C(27)},
		 2,
		 TB(T_XSAVEOPT) | TB(T_XSAVEC) | TB(T_XGETBV1) | TB(T_XFD) | TB(T_AVX) | TB(T_MPX) |
		     TB(T_PKU) | TB(T_AMX) | TB(T_APX) | TB(T_LWP),
		 ACT_NO_XSAVE,
		 false,
		 {0, 0}},
    /* SDM Vol. 1 §13.9: XSAVEOPT alone. */
    [T_XSAVEOPT] = {"xsaveopt", NULL, "XSAVEOPT", {BITD1A(0)}, 1, 0, 0, false, {0, 0}},
    /* SDM Vol. 1 §13.10, §13.11: XSAVES writes the compacted format XSAVEC defines; no CPU
     * has XSAVES without XSAVEC and profiles/check_profiles.py refuses one. */
    [T_XSAVEC] = {"xsavec",
		  NULL,
		  "XSAVEC and the compacted format (and so XSAVES)",
		  {BITD1A(1)},
		  1,
		  TB(T_XSAVES),
		  0,
		  false,
		  {0, 0}},
    /* SDM Vol. 2B XGETBV: ECX = 1 (XINUSE) only with CPUID.(0xD,1):EAX[2]. */
    [T_XGETBV1] = {"xgetbv1", NULL, "XGETBV with ECX = 1", {BITD1A(2)}, 1, 0, 0, false, {0, 0}},
    /* SDM Vol. 1 §13.11, Vol. 4 IA32_XSS: without XSAVES there is no IA32_XSS, so no
     * supervisor component.  CET goes too: Linux enables shadow stacks only with XSAVES and
     * KVM exposes CET only when CET_U and CET_S are in the XSS it supports
     * (../shared/spec/kvm.md).  PT, Arch LBR, UINTR, ENQCMD and HWP keep their flags: their
     * MSRs stay usable by RDMSR/WRMSR, only the XSAVES shortcut goes. */
    [T_XSAVES] = {"xsaves",
		  NULL,
		  "XSAVES, IA32_XSS and every supervisor component (and CET)",
		  {BITD1A(3)},
		  1,
		  TB(T_CET),
		  ACT_NO_XSS,
		  false,
		  {0, 0}},
    /* SDM Vol. 1 §13.14: XFD; ECX[2] of a sub-leaf means nothing without it. */
    [T_XFD] = {"xfd",
	       NULL,
	       "IA32_XFD/IA32_XFD_ERR (components lose ECX[2])",
	       {BITD1A(4)},
	       1,
	       0,
	       ACT_NO_XFD_FLAGS,
	       false,
	       {0, 0}},
    /* SDM Vol. 1 §14.3: AVX; FMA, F16C, AVX2, VAES, VPCLMULQDQ and the VEX-encoded AVX-VNNI,
     * AVX-IFMA, AVX-VNNI-INT8/16, AVX-NE-CONVERT operate on YMM state (§14.3.1 detection
     * checks AVX first).  SDM Vol. 1 §13.3: XCR0 bits 5-7 (AVX-512) need bit 2 (AVX). */
    [T_AVX] = {"avx",
	       NULL,
	       "AVX and every VEX-encoded extension (and AVX-512)",
	       {BIT1C(28), BIT1C(12), BIT1C(29), BIT70B(5), BIT70C(9), BIT70C(10), BIT71A(4),
		BIT71A(23), BIT71D(4), BIT71D(5), BIT71D(10)},
	       11,
	       TB(T_AVX512),
	       0,
	       false,
	       {0, 0}},
    /* SDM Vol. 1 §15.2: every AVX-512 subset needs AVX512F; AVX10 (7.1 EDX[19]) enumerates
     * the same state (components 5-7, vx_component_info()). */
    [T_AVX512] = {"avx512",
		  "avx512f",
		  "AVX512F, every AVX-512 subset and AVX10",
		  {BIT70B(16), BIT70B(17), BIT70B(21), BIT70B(26), BIT70B(27), BIT70B(28),
		   BIT70B(30), BIT70B(31), BIT70C(1), BIT70C(6), BIT70C(11), BIT70C(12), BIT70C(14),
		   BIT70D(2), BIT70D(3), BIT70D(8), BIT70D(23), BIT71A(5), BIT71D(19)},
		  19,
		  0,
		  0,
		  false,
		  {0, 0}},
    /* SDM Vol. 1 §17 (MPX): components 3 and 4. */
    [T_MPX] = {"mpx", NULL, "MPX (components 3-4)", {BIT70B(14)}, 1, 0, 0, false, {0, 0}},
    /* SDM Vol. 3A §4.6.2: PKU; OSPKE reflects CR4.PKE, which needs PKU. */
    [T_PKU] = {"pku",
	       NULL,
	       "protection keys and OSPKE (component 9)",
	       {BIT70C(3), BIT70C(4)},
	       2,
	       0,
	       0,
	       false,
	       {0, 0}},
    /* SDM Vol. 1 §18 (AMX): AMX-BF16/INT8/FP16/COMPLEX operate on tiles; leaves 0x1D and
     * 0x1E describe the tile palette and TMUL only. */
    [T_AMX] = {"amx",
	       "amx_tile",
	       "AMX tiles and every AMX subset (leaves 0x1D, 0x1E zeroed)",
	       {BIT70D(24), BIT70D(22), BIT70D(25), BIT71A(21), BIT71D(8)},
	       5,
	       0,
	       0,
	       false,
	       {0x1D, 0x1E}},
    /* Intel APX specification: APX_F enumerates component 19. */
    [T_APX] =
	{"apx", "apx_f", "APX extended GPRs (component 19)", {BIT71D(21)}, 1, 0, 0, false, {0, 0}},
    /* SDM Vol. 1 §17.2 (CET): the two CET features. */
    [T_CET] = {"cet",
	       NULL,
	       "both CET features (shadow stacks and IBT)",
	       {{0}},
	       0,
	       TB(T_CET_SS) | TB(T_CET_IBT),
	       0,
	       true,
	       {0, 0}},
    /* SDM Vol. 1 §17.2: CET_SSS qualifies supervisor shadow stacks. */
    [T_CET_SS] = {"cet_ss",
		  "shstk",
		  "CET shadow stacks (CET_S; CET_U if IBT goes too)",
		  {BIT70C(7), BIT71D(18)},
		  2,
		  TB(T_CET_SSS),
		  0,
		  false,
		  {0, 0}},
    [T_CET_IBT] =
	{"cet_ibt", "ibt", "CET indirect-branch tracking", {BIT70D(20)}, 1, 0, 0, false, {0, 0}},
    [T_CET_SSS] = {"cet_sss",
		   NULL,
		   "supervisor-shadow-stack-safe hint",
		   {BIT71D(18)},
		   1,
		   0,
		   0,
		   false,
		   {0, 0}},
    /* SDM Vol. 3C §33.3: leaf 0x14 describes PT only. */
    [T_PT] = {"pt",
	      NULL,
	      "Intel Processor Trace (component 8, leaf 0x14 zeroed)",
	      {BIT70B(25)},
	      1,
	      0,
	      0,
	      false,
	      {0x14, 0}},
    [T_ARCH_LBR] = {"arch_lbr",
		    "lbr",
		    "architectural LBR (component 15)",
		    {BIT70D(19)},
		    1,
		    0,
		    0,
		    false,
		    {0, 0}},
    [T_UINTR] =
	{"uintr", NULL, "user interrupts (component 14)", {BIT70D(5)}, 1, 0, 0, false, {0, 0}},
    [T_ENQCMD] = {"enqcmd",
		  "pasid",
		  "ENQCMD and IA32_PASID (component 10)",
		  {BIT70C(29)},
		  1,
		  0,
		  0,
		  false,
		  {0, 0}},
    /* SDM Vol. 3B §15.4: HWP and its sub-features (notification, activity window, EPP,
     * package request) in 6.EAX[7:11]. */
    [T_HWP] = {"hwp",
	       NULL,
	       "hardware P-states (component 16)",
	       {BIT6A(7), BIT6A(8), BIT6A(9), BIT6A(10), BIT6A(11)},
	       5,
	       0,
	       0,
	       false,
	       {0, 0}},
    [T_HDC] =
	{"hdc", NULL, "hardware duty cycling (component 13)", {BIT6A(13)}, 1, 0, 0, false, {0, 0}},
    /* AMD APM Vol. 2 §13 (LWP): component 62. */
    [T_LWP] = {"lwp",
	       NULL,
	       "AMD lightweight profiling (component 62)",
	       {{0x80000001, 0, VX_ECX, 15}},
	       1,
	       0,
	       0,
	       false,
	       {0, 0}},
};

static uint32_t *reg_ptr(struct vx_cpuid_regs *r, unsigned reg)
{
	switch (reg) {
	case VX_EAX:
		return &r->eax;
	case VX_EBX:
		return &r->ebx;
	case VX_ECX:
		return &r->ecx;
	default:
		return &r->edx;
	}
}

static bool bit_set(const struct vx_profile *p, const struct toggle_bit *b)
{
	struct vx_cpuid_regs r = vx_profile_leaf(p, b->leaf, b->subleaf);

	return (*reg_ptr(&r, b->reg) >> b->bit) & 1u;
}

static void clear_bit(struct vx_profile *p, const struct toggle_bit *b)
{
	int slot = vx_profile_slot(b->leaf, b->subleaf);

	if (slot >= 0)
		*reg_ptr(&p->leaves[slot], b->reg) &= ~(1u << b->bit);
}

static void clear_leaf(struct vx_profile *p, uint32_t leaf)
{
	static const struct vx_cpuid_regs zero;

	for (uint32_t sub = 0; sub < 64; sub++)
		vx_profile_set_leaf(p, leaf, sub, &zero);
}

/* Toggles @p has: a row by its first bit, a group by any member. */
static unsigned present_toggles(const struct vx_profile *p)
{
	unsigned present = 0;

	for (unsigned t = 0; t < T_COUNT; t++)
		if (!toggles[t].group && bit_set(p, &toggles[t].bits[0]))
			present |= TB(t);
	for (unsigned t = 0; t < T_COUNT; t++)
		if (toggles[t].group && (present & toggles[t].implies))
			present |= TB(t);
	return present;
}

/* @t and everything removed with it. */
static unsigned closure(unsigned t)
{
	unsigned set = TB(t), before;

	do {
		before = set;
		for (unsigned i = 0; i < T_COUNT; i++)
			if (set & TB(i))
				set |= toggles[i].implies;
	} while (set != before);
	return set;
}

static bool toggle_name_matches(const char *name, const char *text, size_t len)
{
	size_t i;

	if (!name)
		return false;
	for (i = 0; i < len; i++) {
		char c = (char)(text[i] == '-' ? '_' : vx_ascii_lower(text[i]));

		if (name[i] == '\0' || name[i] != c)
			return false;
	}
	return name[i] == '\0';
}

static int toggle_by_name(const char *text, size_t len)
{
	for (unsigned t = 0; t < T_COUNT; t++)
		if (toggle_name_matches(toggles[t].name, text, len) ||
		    toggle_name_matches(toggles[t].alias, text, len))
			return (int)t;
	return -1;
}

unsigned vx_profile_toggle_count(void)
{
	return T_COUNT;
}

bool vx_profile_toggle_info(unsigned index, const char **name, const char **alias,
			    const char **summary, uint64_t *removes)
{
	if (index >= T_COUNT)
		return false;
	if (name)
		*name = toggles[index].name;
	if (alias)
		*alias = toggles[index].alias;
	if (summary)
		*summary = toggles[index].summary;
	if (removes) {
		unsigned set = closure(index) & ~TB(index);

		*removes = set;
	}
	return true;
}

/* ----------------------------------------------------------------------------------------- */
/* Parsing "-amx,+avx512,-cet"                                                                  */

struct derive_state {
	unsigned present; /* toggles the base has */
	unsigned enabled; /* toggles the result keeps */
	char canonical[VX_PROFILE_NAME_MAX * 2];
	size_t canonical_len;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void append_canonical(struct derive_state *st, char sign, const char *name)
{
	int n =
	    snprintf(st->canonical + st->canonical_len, sizeof(st->canonical) - st->canonical_len,
		     "%s%c%s", st->canonical_len ? "," : "", sign, name);

	if (n > 0)
		st->canonical_len += (size_t)n;
	if (st->canonical_len >= sizeof(st->canonical))
		st->canonical_len = sizeof(st->canonical) - 1;
}

static int apply_plus(struct derive_state *st, unsigned t, const char *base_name,
		      struct vx_error *err)
{
	unsigned want = toggles[t].group ? toggles[t].implies | TB(t) : TB(t);

	if (!(st->present & TB(t)))
		return vx_error_set(err, -EINVAL, DERIVE_RULE,
				    "+%s: %s does not have %s; vxsave cannot invent a feature "
				    "(its CPUID leaves, and the size and offset leaf 0xD gives "
				    "its state, come only from a real CPU): '+' only undoes a '-'",
				    toggles[t].name, base_name, toggles[t].name);
	st->enabled |= want & st->present;
	return 0;
}

static int apply_element(struct derive_state *st, const char *text, size_t len,
			 const char *base_name, struct vx_error *err)
{
	char sign;
	int t;

	while (len && is_blank(*text)) {
		text++;
		len--;
	}
	while (len && is_blank(text[len - 1]))
		len--;
	if (len == 0)
		return vx_error_set(err, -EINVAL, DERIVE_RULE,
				    "empty toggle: write -FEATURE or +FEATURE separated by ','");
	sign = text[0];
	if (sign != '-' && sign != '+')
		return vx_error_set(err, -EINVAL, DERIVE_RULE,
				    "toggle '%.*s' needs a sign: -%.*s removes it, +%.*s keeps it",
				    (int)(len > 32 ? 32 : len), text, (int)(len > 32 ? 32 : len),
				    text, (int)(len > 32 ? 32 : len), text);
	t = toggle_by_name(text + 1, len - 1);
	if (t < 0)
		return vx_error_set(
		    err, -EINVAL, DERIVE_RULE,
		    "unknown feature '%.*s' in toggle '%.*s' (known: xsave, xsaveopt, "
		    "xsavec, xgetbv1, xsaves, xfd, avx, avx512, mpx, pku, amx, apx, "
		    "cet, cet_ss, cet_ibt, cet_sss, pt, arch_lbr, uintr, enqcmd, hwp, "
		    "hdc, lwp)",
		    (int)(len - 1 > 32 ? 32 : len - 1), text + 1, (int)(len > 32 ? 32 : len), text);
	append_canonical(st, sign, toggles[t].name);
	if (sign == '-') {
		st->enabled &= ~closure((unsigned)t);
		return 0;
	}
	return apply_plus(st, (unsigned)t, base_name, err);
}

/* A kept feature whose prerequisite was removed: "+avx512" after "-avx". */
static int check_prerequisites(const struct derive_state *st, struct vx_error *err)
{
	for (unsigned need = 0; need < T_COUNT; need++) {
		unsigned dependents;

		if (toggles[need].group || !(st->present & TB(need)) || (st->enabled & TB(need)))
			continue;
		dependents = closure(need) & ~TB(need) & st->enabled;
		for (unsigned t = 0; t < T_COUNT; t++)
			if ((dependents & TB(t)) && !toggles[t].group)
				return vx_error_set(err, -EINVAL, DERIVE_RULE,
						    "%s needs %s, which the toggles remove: "
						    "add +%s after the -%s",
						    toggles[t].name, toggles[need].name,
						    toggles[need].name, toggles[need].name);
	}
	return 0;
}

static int parse_toggles(struct derive_state *st, const char *text, const char *base_name,
			 struct vx_error *err)
{
	const char *pos = text;
	int ret;

	for (;;) {
		const char *comma = strchr(pos, ',');
		size_t len = comma ? (size_t)(comma - pos) : strlen(pos);

		ret = apply_element(st, pos, len, base_name, err);
		if (ret)
			return ret;
		if (!comma)
			break;
		pos = comma + 1;
	}
	return check_prerequisites(st, err);
}

/* ----------------------------------------------------------------------------------------- */
/* Leaf 0xD, derived again                                                                      */

/* Components whose enumerating flags were set in @base and are all clear in @p. */
static uint64_t orphaned_components(const struct vx_profile *base, const struct vx_profile *p)
{
	uint64_t orphaned = 0;

	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		const struct vx_component_info *info = vx_component_info(id);
		bool had = false, has = false;

		if (!info)
			continue;
		for (unsigned k = 0; k < 2; k++) {
			enum vx_feature f = info->enumerated_by[k];

			if (f >= VX_FEAT_COUNT)
				continue;
			had |= vx_profile_has(base, f);
			has |= vx_profile_has(p, f);
		}
		if (had && !has)
			orphaned |= VX_BIT(id);
	}
	return orphaned;
}

static void set_mask(struct vx_profile *p, uint32_t subleaf, uint64_t mask)
{
	int slot = vx_profile_slot(0xD, subleaf);
	struct vx_cpuid_regs *r = &p->leaves[slot];

	/* §1.2: 0xD.0 EDX:EAX is the XCR0 mask; §1.3: 0xD.1 EDX:ECX the IA32_XSS mask. */
	if (subleaf == 0)
		r->eax = (uint32_t)mask;
	else
		r->ecx = (uint32_t)mask;
	r->edx = (uint32_t)(mask >> 32);
}

/* Recompute every value of leaf 0xD that follows from the others (arch.md §1.2-§1.4). */
static void rederive_xsave_leaf(struct vx_profile *p, const struct vx_profile *base,
				unsigned actions)
{
	/* The masks as CPUID reports them (§1.2, §1.3), before the XSAVE/XSAVES conditions. */
	uint64_t xcr0 = base->xsave.xcr0_mask;
	uint64_t xss = base->xsave.xss_mask;
	uint64_t gone = orphaned_components(base, p);
	bool xsavec, xsaves;
	int slot;

	/* §1.2: without XSAVE, leaf 0xD describes nothing. */
	if ((actions & ACT_NO_XSAVE) || !vx_profile_has(p, VX_FEAT_XSAVE)) {
		clear_leaf(p, 0xD);
		p->xcr0_at_capture = 0;
		p->xss_at_capture = 0;
		return;
	}
	if (actions & ACT_NO_XSS)
		xss = 0;
	xcr0 &= ~gone;
	xss &= ~gone;
	set_mask(p, 0, xcr0);
	set_mask(p, 1, xss);
	for (unsigned id = 2; id < 64; id++) {
		static const struct vx_cpuid_regs zero;

		slot = vx_profile_slot(0xD, id);
		if (!((xcr0 | xss) & VX_BIT(id)))
			vx_profile_set_leaf(p, 0xD, id, &zero);
		else if (actions & ACT_NO_XFD_FLAGS)
			p->leaves[slot].ecx &= ~4u; /* §1.4 ECX[2]: XFD-capable */
	}
	/* The state at capture keeps only what still exists. */
	if (p->xcr0_at_capture)
		p->xcr0_at_capture &= xcr0;
	p->xss_at_capture &= xss;
	/* The sizes below are computed from the typed view of the leaves written above. */
	vx_profile_decode_xsave(p);

	slot = vx_profile_slot(0xD, 0);
	/* §1.2: ECX = standard size of every XCR0 bit; EBX = of the XCR0 in force. */
	p->leaves[slot].ecx = vx_standard_size(p, xcr0);
	p->leaves[slot].ebx = vx_standard_size(p, p->xcr0_at_capture ? p->xcr0_at_capture : xcr0);
	/* §1.3: EBX = compacted size of XCR0 | IA32_XSS, meaningful with XSAVEC or XSAVES. */
	xsavec = vx_profile_has(p, VX_FEAT_XSAVEC);
	xsaves = vx_profile_has(p, VX_FEAT_XSAVES);
	slot = vx_profile_slot(0xD, 1);
	if (xsavec || xsaves) {
		uint64_t enabled = p->xcr0_at_capture ? p->xcr0_at_capture : xcr0;

		if (xsaves)
			enabled |= p->xss_at_capture;
		p->leaves[slot].ebx = vx_compacted_size(p, enabled);
	} else {
		p->leaves[slot].ebx = 0;
	}
}

/* ----------------------------------------------------------------------------------------- */

static void describe(struct vx_profile *p, const struct vx_profile *base,
		     const struct derive_state *st)
{
	const char *base_name = base->name[0] ? base->name : "an unnamed profile";
	int n;

	/* Prose, cut with "..." when the base's own text is long (as the dump parser does). */
	n = snprintf(p->description, sizeof(p->description), "derived from %s with %s: %s",
		     base_name, st->canonical, base->description[0] ? base->description : "-");
	if (n >= (int)sizeof(p->description))
		memcpy(p->description + sizeof(p->description) - 4, "...", 4);
	n = snprintf(p->source, sizeof(p->source),
		     "vxsave derived it from %s with the toggles %s, leaf 0xD recomputed "
		     "(docs/profiles.md); the base: %s",
		     base_name, st->canonical, base->source[0] ? base->source : "-");
	if (n >= (int)sizeof(p->source))
		memcpy(p->source + sizeof(p->source) - 4, "...", 4);
}

int vx_profile_derive(struct vx_profile *profile, const char *text, struct vx_error *err)
{
	struct derive_state st = {0};
	struct vx_profile result;
	const char *base_name;
	unsigned removed, actions = 0;
	int ret;

	if (!profile || !text)
		return vx_error_set(err, -EINVAL, NULL,
				    "vx_profile_derive needs a profile and text");
	base_name = profile->name[0] ? profile->name : "the profile";
	vx_profile_init(&result);
	/* Sizes are recomputed from the base's sub-leaves: they must be in bounds first. */
	ret = vx_profile_check_xsave_leaves(profile, err);
	if (ret)
		return ret;
	st.present = present_toggles(profile);
	st.enabled = st.present;
	ret = parse_toggles(&st, text, base_name, err);
	if (ret)
		return ret;
	/* The name records the toggles, so the result says what it is wherever it goes. */
	if (snprintf(result.name, sizeof(result.name), "%s,%s",
		     profile->name[0] ? profile->name : "derived",
		     st.canonical) >= (int)sizeof(result.name))
		return vx_error_set(err, -EINVAL, DERIVE_RULE,
				    "the derived name '%.40s,%.40s...' would be longer than %zu "
				    "characters: use fewer toggles",
				    profile->name, st.canonical, sizeof(result.name) - 1);

	removed = st.present & ~st.enabled;
	memcpy(result.leaves, profile->leaves, sizeof(result.leaves));
	result.xcr0_at_capture = profile->xcr0_at_capture;
	result.xss_at_capture = profile->xss_at_capture;
	result.xss_known = profile->xss_known;
	result.mxcsr_mask = profile->mxcsr_mask;
	for (unsigned t = 0; t < T_COUNT; t++) {
		if (!(removed & TB(t)))
			continue;
		actions |= toggles[t].actions;
		for (unsigned b = 0; b < toggles[t].nbits; b++)
			clear_bit(&result, &toggles[t].bits[b]);
		for (unsigned l = 0; l < 2; l++)
			if (toggles[t].leaves[l])
				clear_leaf(&result, toggles[t].leaves[l]);
	}
	rederive_xsave_leaf(&result, profile, actions);
	vx_profile_decode_xsave(&result);
	describe(&result, profile, &st);
	*profile = result;
	return 0;
}
