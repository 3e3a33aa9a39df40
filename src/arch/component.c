/* SPDX-License-Identifier: MIT */
/*
 * The state-component table (arch.md §2.1, §3.1, §6): one entry per component vxsave knows.
 * Masks (user, supervisor, known), XCR0 pairing rules, name parsing and the initial
 * configuration all derive from this table; nothing else lists components.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/arch.h>

#include "arch/text.h"

#define NONE VX_FEAT_COUNT

#define MASK_SSE     VX_BIT(VX_COMP_SSE)
#define MASK_AVX     VX_BIT(VX_COMP_AVX)
#define MASK_MPX     (VX_BIT(VX_COMP_BNDREGS) | VX_BIT(VX_COMP_BNDCSR))
#define MASK_AVX512  (VX_BIT(VX_COMP_OPMASK) | VX_BIT(VX_COMP_ZMM_HI256) | VX_BIT(VX_COMP_HI16_ZMM))
#define MASK_AMX     (VX_BIT(VX_COMP_XTILECFG) | VX_BIT(VX_COMP_XTILEDATA))

/* §6: x87 initial FCW = 0x037F (abridged FTW 0 = all empty); SSE initial MXCSR = 0x1F80. */
static const struct vx_init_field x87_init[] = {
	{.offset = 0, .width = 2, .value = VX_FCW_DEFAULT},
	{.width = 0},
};
static const struct vx_init_field sse_init[] = {
	{.offset = VX_MXCSR_OFFSET, .width = 4, .value = VX_MXCSR_DEFAULT},
	{.width = 0},
};

static const struct vx_component_info component_table[VX_COMP_LIMIT] = {
	[VX_COMP_X87] = {
		.id = VX_COMP_X87,
		.name = "x87", .long_name = "x87 FPU state", .legacy = true,
		.enumerated_by = {VX_FEAT_FPU, NONE}, .arch_size = 160,
		.contents = "FCW, FSW, abridged FTW, FOP, FIP, FDP (FCS/FDS), ST0-ST7",
		.initial = "FCW=0x037F, FTW all empty, everything else 0",
		.init_fields = x87_init,
	},
	[VX_COMP_SSE] = {
		.id = VX_COMP_SSE,
		.name = "SSE", .long_name = "SSE state (XMM0-15, MXCSR)", .legacy = true,
		.enumerated_by = {VX_FEAT_SSE, NONE}, .arch_size = 256,
		.contents = "XMM0-XMM15 at 160-415; MXCSR and MXCSR_MASK at 24-31",
		.initial = "XMM0-15 = 0; MXCSR = 0x1F80 (compacted XRSTOR and XRSTORS)",
		.init_fields = sse_init,
	},
	[VX_COMP_AVX] = {
		.id = VX_COMP_AVX,
		.name = "AVX", .long_name = "AVX upper halves (YMM_Hi128)",
		.enumerated_by = {VX_FEAT_AVX, NONE}, .requires = MASK_SSE,
		.xcr0_rule = "arch.md §3.1 rule 2 (AVX needs SSE)", .arch_size = 256,
		.contents = "bits 255:128 of YMM0-15", .initial = "all zero",
	},
	[VX_COMP_BNDREGS] = {
		.id = VX_COMP_BNDREGS,
		.name = "BNDREGS", .long_name = "MPX bound registers",
		.enumerated_by = {VX_FEAT_MPX, NONE}, .group = MASK_MPX,
		.xcr0_rule = "arch.md §3.1 rule 4 (BNDREGS and BNDCSR together)", .arch_size = 64,
		.contents = "BND0-BND3", .initial = "all zero",
	},
	[VX_COMP_BNDCSR] = {
		.id = VX_COMP_BNDCSR,
		.name = "BNDCSR", .long_name = "MPX configuration and status",
		.enumerated_by = {VX_FEAT_MPX, NONE}, .group = MASK_MPX,
		.xcr0_rule = "arch.md §3.1 rule 4 (BNDREGS and BNDCSR together)", .arch_size = 64,
		.contents = "BNDCFGU, BNDSTATUS", .initial = "all zero",
	},
	[VX_COMP_OPMASK] = {
		.id = VX_COMP_OPMASK,
		.name = "opmask", .long_name = "AVX-512 opmask registers",
		.enumerated_by = {VX_FEAT_AVX512F, VX_FEAT_AVX10}, .requires = MASK_SSE | MASK_AVX,
		.group = MASK_AVX512,
		.xcr0_rule = "arch.md §3.1 rule 3 (AVX-512 bits 5-7 together, with AVX)",
		.arch_size = 64, .contents = "k0-k7", .initial = "all zero",
	},
	[VX_COMP_ZMM_HI256] = {
		.id = VX_COMP_ZMM_HI256,
		.name = "ZMM_Hi256", .long_name = "AVX-512 upper halves of ZMM0-15",
		.enumerated_by = {VX_FEAT_AVX512F, VX_FEAT_AVX10}, .requires = MASK_SSE | MASK_AVX,
		.group = MASK_AVX512,
		.xcr0_rule = "arch.md §3.1 rule 3 (AVX-512 bits 5-7 together, with AVX)",
		.arch_size = 512, .contents = "bits 511:256 of ZMM0-15", .initial = "all zero",
	},
	[VX_COMP_HI16_ZMM] = {
		.id = VX_COMP_HI16_ZMM,
		.name = "Hi16_ZMM", .long_name = "AVX-512 registers ZMM16-31",
		.enumerated_by = {VX_FEAT_AVX512F, VX_FEAT_AVX10}, .requires = MASK_SSE | MASK_AVX,
		.group = MASK_AVX512,
		.xcr0_rule = "arch.md §3.1 rule 3 (AVX-512 bits 5-7 together, with AVX)",
		.arch_size = 1024, .contents = "ZMM16-31 (512 bits each)", .initial = "all zero",
	},
	[VX_COMP_PT] = {
		.id = VX_COMP_PT,
		.name = "PT", .long_name = "Intel Processor Trace MSRs", .supervisor = true,
		.enumerated_by = {VX_FEAT_PT, NONE},
		.contents = "IA32_RTIT_* MSRs (size from CPUID)", .initial = "all zero",
	},
	[VX_COMP_PKRU] = {
		.id = VX_COMP_PKRU,
		.name = "PKRU", .long_name = "Protection-key rights register",
		.enumerated_by = {VX_FEAT_PKU, NONE}, .arch_size = 8,
		.contents = "PKRU (4 bytes) + 4 reserved", .initial = "PKRU = 0",
	},
	[VX_COMP_PASID] = {
		.id = VX_COMP_PASID,
		.name = "PASID", .long_name = "IA32_PASID", .supervisor = true,
		.enumerated_by = {VX_FEAT_ENQCMD, NONE}, .arch_size = 8,
		.contents = "IA32_PASID", .initial = "0",
	},
	[VX_COMP_CET_U] = {
		.id = VX_COMP_CET_U,
		.name = "CET_U", .long_name = "CET user state", .supervisor = true,
		.enumerated_by = {VX_FEAT_CET_SS, VX_FEAT_CET_IBT}, .arch_size = 16,
		.contents = "IA32_U_CET (bytes 0-7), IA32_PL3_SSP (bytes 8-15)",
		.initial = "U_CET = 0, PL3_SSP = 0",
	},
	[VX_COMP_CET_S] = {
		.id = VX_COMP_CET_S,
		.name = "CET_S", .long_name = "CET supervisor shadow-stack pointers", .supervisor = true,
		/* PL0-2_SSP exist only with shadow stacks (§7.2); CET_U also serves IBT-only. */
		.enumerated_by = {VX_FEAT_CET_SS, NONE}, .arch_size = 24,
		.contents = "IA32_PL0_SSP, IA32_PL1_SSP, IA32_PL2_SSP",
		.initial = "all zero",
	},
	[VX_COMP_HDC] = {
		.id = VX_COMP_HDC,
		.name = "HDC", .long_name = "Hardware duty cycling", .supervisor = true,
		.enumerated_by = {VX_FEAT_HDC, NONE}, .arch_size = 8,
		.contents = "IA32_PM_CTL1", .initial = "0",
	},
	[VX_COMP_UINTR] = {
		.id = VX_COMP_UINTR,
		.name = "UINTR", .long_name = "User interrupts", .supervisor = true,
		.enumerated_by = {VX_FEAT_UINTR, NONE}, .arch_size = 48,
		.contents = "UIHANDLER, UISTACKADJUST, UINV/UITTSZ/UIF, UPIDADDR, UIRR, UITTADDR",
		.initial = "all zero (UIF = 0)",
	},
	[VX_COMP_LBR] = {
		.id = VX_COMP_LBR,
		.name = "LBR", .long_name = "Architectural LBR", .supervisor = true,
		.enumerated_by = {VX_FEAT_ARCH_LBR, NONE},
		.contents = "LBR control, depth, FROM/TO/INFO stacks (size from CPUID)",
		.initial = "all zero",
	},
	[VX_COMP_HWP] = {
		.id = VX_COMP_HWP,
		.name = "HWP", .long_name = "Hardware P-states request", .supervisor = true,
		.enumerated_by = {VX_FEAT_HWP, NONE}, .arch_size = 8,
		.contents = "IA32_HWP_REQUEST", .initial = "0",
	},
	[VX_COMP_XTILECFG] = {
		.id = VX_COMP_XTILECFG,
		.name = "XTILECFG", .long_name = "AMX tile configuration",
		.enumerated_by = {VX_FEAT_AMX_TILE, NONE}, .group = MASK_AMX,
		.xcr0_rule = "arch.md §3.1 rule 5 (XTILECFG and XTILEDATA together)", .arch_size = 64,
		.contents = "TILECFG (palette, start row, colsb[16], rows[16])",
		.initial = "64 zero bytes (palette 0)",
	},
	[VX_COMP_XTILEDATA] = {
		.id = VX_COMP_XTILEDATA,
		.name = "XTILEDATA", .long_name = "AMX tile data",
		.enumerated_by = {VX_FEAT_AMX_TILE, NONE}, .group = MASK_AMX,
		.xcr0_rule = "arch.md §3.1 rule 5 (XTILECFG and XTILEDATA together)",
		.arch_size = 8192, .contents = "TMM0-TMM7, 16 rows x 64 bytes each",
		.initial = "all zero",
	},
	[VX_COMP_APX] = {
		.id = VX_COMP_APX,
		.name = "APX", .long_name = "APX extended GPRs",
		.enumerated_by = {VX_FEAT_APX_F, NONE}, .arch_size = 128,
		.contents = "R16-R31, 8 bytes each", .initial = "all zero",
	},
	[VX_COMP_LWP] = {
		.id = VX_COMP_LWP,
		.name = "LWP", .long_name = "AMD lightweight profiling",
		.enumerated_by = {VX_FEAT_LWP, NONE}, .arch_size = 128,
		.contents = "LWP control block state", .initial = "all zero",
	},
};

const struct vx_component_info *vx_component_info(unsigned id)
{
	if (id >= VX_COMP_LIMIT || !component_table[id].name)
		return NULL;
	return &component_table[id];
}

static uint64_t components_where(bool want_user, bool want_supervisor)
{
	uint64_t mask = 0;

	for (unsigned i = 0; i < VX_COMP_LIMIT; i++) {
		const struct vx_component_info *c = vx_component_info(i);

		if (c && ((c->supervisor && want_supervisor) || (!c->supervisor && want_user)))
			mask |= VX_BIT(i);
	}
	return mask;
}

uint64_t vx_known_components(void)
{
	return components_where(true, true);
}

uint64_t vx_user_components(void)
{
	return components_where(true, false);
}

uint64_t vx_supervisor_components(void)
{
	return components_where(false, true);
}

/*
 * Words a mask may use besides the component names, CPUID flag names and bitN (docs/cli.md
 * "Masks"): the groups the XCR0 pairing rules keep together (§3.1), and the register-file
 * names users think in.
 */
static const struct {
	const char *name;
	uint64_t mask;
} aliases[] = {
    {"legacy", VX_BIT(VX_COMP_X87) | VX_BIT(VX_COMP_SSE)},
    {"avx512", MASK_AVX512},
    {"mpx", MASK_MPX},
    {"amx", MASK_AMX},
    {"cet", VX_BIT(VX_COMP_CET_U) | VX_BIT(VX_COMP_CET_S)},
    {"xmm", VX_BIT(VX_COMP_SSE)},
    {"ymm", VX_BIT(VX_COMP_AVX)},
    {"k", VX_BIT(VX_COMP_OPMASK)},
    {"tilecfg", VX_BIT(VX_COMP_XTILECFG)},
    {"tiledata", VX_BIT(VX_COMP_XTILEDATA)},
    {"egpr", VX_BIT(VX_COMP_APX)},
};

#define ALIAS_COUNT (sizeof(aliases) / sizeof(aliases[0]))

/* The components a CPUID flag enumerates (pku -> PKRU, cet_ss -> CET_U|CET_S), from the table. */
static uint64_t components_of_feature(unsigned feature)
{
	uint64_t mask = 0;

	for (unsigned i = 0; i < VX_COMP_LIMIT; i++) {
		const struct vx_component_info *c = vx_component_info(i);

		if (c && (c->enumerated_by[0] == feature || c->enumerated_by[1] == feature))
			mask |= VX_BIT(i);
	}
	return mask;
}

/* A name: component, alias or CPUID flag (case-insensitive).  -ENOENT if it is none of them. */
static int mask_of_name(const char *word, size_t len, uint64_t *mask)
{
	for (unsigned i = 0; i < VX_COMP_LIMIT; i++) {
		const struct vx_component_info *c = vx_component_info(i);

		if (c && vx_name_matches(c->name, word, len)) {
			*mask = VX_BIT(i);
			return 0;
		}
	}
	for (size_t i = 0; i < ALIAS_COUNT; i++) {
		if (vx_name_matches(aliases[i].name, word, len)) {
			*mask = aliases[i].mask;
			return 0;
		}
	}
	for (unsigned i = 0; i < VX_FEAT_COUNT; i++) {
		const struct vx_feature_info *f = vx_feature_info((enum vx_feature)i);

		if (f && vx_name_matches(f->name, word, len)) {
			*mask = components_of_feature(i);
			return *mask ? 0 : -ENOENT;
		}
	}
	return -ENOENT;
}

int vx_component_by_name(const char *name)
{
	uint64_t mask;

	if (!name || mask_of_name(name, vx_strlen(name), &mask) != 0)
		return -1;
	/* A group alias is not one component. */
	if (mask & (mask - 1))
		return -1;
	for (int i = 0; i < 64; i++)
		if (mask == VX_BIT(i))
			return i;
	return -1;
}

/* "bit20" or "bit20-63", as vx_format_component_mask() prints bits without a name. */
static bool mask_of_bits(const char *word, size_t len, uint64_t *mask)
{
	uint64_t first, last;
	size_t dash = 3;

	if (len < 4 || !vx_name_matches("bit", word, 3))
		return false;
	while (dash < len && word[dash] != '-')
		dash++;
	for (size_t i = 3; i < len; i++)
		if (i != dash && (word[i] < '0' || word[i] > '9'))
			return false;
	if (vx_parse_u64(word + 3, dash - 3, &first, NULL) != 0)
		return false;
	last = first;
	if (dash < len && vx_parse_u64(word + dash + 1, len - dash - 1, &last, NULL) != 0)
		return false;
	if (first > last || last > 63)
		return false;
	*mask = (last == 63 ? UINT64_MAX : VX_BIT(last + 1) - 1) & ~(VX_BIT(first) - 1);
	return true;
}

/* Levenshtein distance, case-insensitive, for "did you mean" (names are short). */
static size_t edit_distance(const char *a, size_t a_len, const char *b, size_t b_len)
{
	enum { MAX = 32 };
	size_t row[MAX + 1];

	if (a_len > MAX || b_len > MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= b_len; j++)
		row[j] = j;
	for (size_t i = 1; i <= a_len; i++) {
		size_t diagonal = row[0];

		row[0] = i;
		for (size_t j = 1; j <= b_len; j++) {
			size_t above = row[j];
			size_t cost = vx_ascii_lower(a[i - 1]) != vx_ascii_lower(b[j - 1]);
			size_t best = diagonal + cost;

			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[b_len];
}

static void consider(const char *candidate, const char *word, size_t len, const char **best,
		     size_t *best_distance)
{
	size_t d = edit_distance(word, len, candidate, vx_strlen(candidate));

	if (d < *best_distance) {
		*best = candidate;
		*best_distance = d;
	}
}

/* The accepted word closest to @word, if it is close enough to be a typo; else NULL. */
static const char *closest_name(const char *word, size_t len)
{
	const char *best = NULL;
	size_t best_distance = SIZE_MAX;

	for (unsigned i = 0; i < VX_COMP_LIMIT; i++)
		if (vx_component_info(i))
			consider(vx_component_info(i)->name, word, len, &best, &best_distance);
	for (size_t i = 0; i < ALIAS_COUNT; i++)
		consider(aliases[i].name, word, len, &best, &best_distance);
	for (unsigned i = 0; i < VX_FEAT_COUNT; i++)
		if (components_of_feature(i))
			consider(vx_feature_info((enum vx_feature)i)->name, word, len, &best,
				 &best_distance);
	consider("all", word, len, &best, &best_distance);
	consider("none", word, len, &best, &best_distance);
	/* One or two edits, and fewer than the word has letters ("k" is no typo of "x"). */
	return best_distance <= 2 && best_distance < len ? best : NULL;
}

static int unknown_word(const char *word, size_t len, const char *text, struct vx_error *err)
{
	const char *guess = closest_name(word, len);
	int shown = len > 40 ? 40 : (int)len;

	/* A CPUID flag that enumerates no state component (xsave, xsavec, fxsr...). */
	for (unsigned i = 0; i < VX_FEAT_COUNT; i++)
		if (vx_name_matches(vx_feature_info((enum vx_feature)i)->name, word, len))
			return vx_error_set(
			    err, -EINVAL, NULL,
			    "'%.*s' in '%.60s' is a CPUID flag that enables no state component",
			    shown, word, text);
	if (guess)
		return vx_error_set(err, -EINVAL, NULL,
				    "unknown component name '%.*s' in '%.60s': did you mean '%s'?",
				    shown, word, text, guess);
	return vx_error_set(
	    err, -EINVAL, NULL,
	    "unknown component name '%.*s' in '%.60s' (use names such as x87, SSE, AVX, "
	    "PKRU, CET_U; groups legacy, avx512, mpx, amx, cet; CPUID flags such as "
	    "pku; bitN; all; none; or a number)",
	    shown, word, text);
}

/* One element of a mask, already trimmed: a number, all/none, a name or bitN[-M]. */
static int parse_word(const char *word, size_t len, uint64_t all, const char *text, uint64_t *mask,
		      struct vx_error *err)
{
	if (word[0] >= '0' && word[0] <= '9') {
		struct vx_error number_err = VX_ERROR_INIT;

		if (vx_parse_u64(word, len, mask, &number_err) == 0)
			return 0;
		return vx_error_set(err, -EINVAL, NULL, "in mask '%.60s': %.160s", text,
				    number_err.reason);
	}
	if (vx_name_matches("all", word, len)) {
		*mask = all;
		return 0;
	}
	if (vx_name_matches("none", word, len)) {
		*mask = 0;
		return 0;
	}
	if (mask_of_name(word, len, mask) == 0 || mask_of_bits(word, len, mask))
		return 0;
	return unknown_word(word, len, text, err);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_separator(char c)
{
	return c == ',' || c == '|';
}

/* The element that ends just before @end (for "empty name after 'sse'"). */
static int empty_element(const char *text, const char *at, struct vx_error *err)
{
	const char *end = at, *start;

	while (end > text && (is_separator(end[-1]) || is_blank(end[-1])))
		end--;
	start = end;
	while (start > text && !is_separator(start[-1]) && !is_blank(start[-1]))
		start--;
	if (start == end)
		return vx_error_set(err, -EINVAL, NULL,
				    "empty name at the start of mask '%.60s' (nothing before the "
				    "first separator)",
				    text);
	return vx_error_set(err, -EINVAL, NULL,
			    "empty name after '%.*s' in mask '%.60s' (two separators in a row, or "
			    "one at the end)",
			    end - start > 40 ? 40 : (int)(end - start), start, text);
}

int vx_parse_component_mask_all(const char *text, uint64_t all, uint64_t *mask,
				struct vx_error *err)
{
	uint64_t result = 0;
	const char *p = text;

	if (!text || !mask)
		return vx_error_set(err, -EINVAL, NULL, "empty component mask");
	while (is_blank(*p))
		p++;
	if (!*p)
		return vx_error_set(err, -EINVAL, NULL, "empty component mask");
	/* Elements separated by ',' or '|', blanks around each ignored (docs/cli.md "Masks"). */
	for (;;) {
		const char *start, *end;
		uint64_t bits;
		int ret;

		while (is_blank(*p))
			p++;
		start = p;
		while (*p && !is_separator(*p))
			p++;
		end = p;
		while (end > start && is_blank(end[-1]))
			end--;
		if (end == start)
			return empty_element(text, start, err);
		ret = parse_word(start, (size_t)(end - start), all, text, &bits, err);
		if (ret)
			return ret;
		result |= bits;
		if (!*p)
			break;
		p++;
	}
	*mask = result;
	return 0;
}

int vx_parse_component_mask(const char *text, uint64_t *mask, struct vx_error *err)
{
	return vx_parse_component_mask_all(text, vx_known_components(), mask, err);
}

/* Appends to a bounded buffer, counting what the whole text needs (snprintf-like). */
struct mask_text {
	char full[1024];
	size_t used;
};

static void add_token(struct mask_text *t, const char *token)
{
	int n = snprintf(t->full + t->used, sizeof(t->full) - t->used, "%s%s", t->used ? "|" : "",
			 token);

	if (n > 0)
		t->used += (size_t)n;
}

/* Copy @full into @buf; if it does not fit, end at a whole name with "|..." (never mid-word). */
static void copy_elided(const char *full, size_t full_len, char *buf, size_t len)
{
	size_t keep;

	if (!len)
		return;
	if (full_len < len) {
		memcpy(buf, full, full_len + 1);
		return;
	}
	keep = len > 5 ? len - 5 : 0; /* room for "|..." and the NUL */
	while (keep && full[keep] != '|')
		keep--;
	if (keep) {
		memcpy(buf, full, keep);
		memcpy(buf + keep, "|...", 5);
	} else {
		snprintf(buf, len, "%s", len >= 4 ? "..." : "");
	}
}

size_t vx_format_component_mask(uint64_t mask, char *buf, size_t len)
{
	struct mask_text t = {.used = 0};

	if (!mask)
		add_token(&t, "none");
	for (unsigned i = 0; i < 64; i++) {
		const struct vx_component_info *c = i < VX_COMP_LIMIT ? vx_component_info(i) : NULL;
		char token[16];
		unsigned last = i;

		if (!(mask & VX_BIT(i)))
			continue;
		if (c) {
			add_token(&t, c->name);
			continue;
		}
		/* A run of bits without names prints as one range: "bit20-61", not 42 words. */
		while (last < 63 && (mask & VX_BIT(last + 1)) &&
		       !(last + 1 < VX_COMP_LIMIT && vx_component_info(last + 1)))
			last++;
		if (last == i)
			snprintf(token, sizeof(token), "bit%u", i);
		else
			snprintf(token, sizeof(token), "bit%u-%u", i, last);
		add_token(&t, token);
		i = last;
	}
	copy_elided(t.full, t.used, buf, len);
	return t.used;
}
