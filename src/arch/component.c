/* SPDX-License-Identifier: MIT */
/*
 * The state-component table (arch.md §2.1, §3.1, §6): one entry per component vxsave knows.
 * Masks (user, supervisor, known), XCR0 pairing rules, name parsing and the initial
 * configuration all derive from this table; nothing else lists components.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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

/* Other names users write for a component or a group of components. */
static const struct {
	const char *name;
	uint64_t mask;
} aliases[] = {
	{"fp", VX_BIT(VX_COMP_X87)},
	{"fpu", VX_BIT(VX_COMP_X87)},
	{"xmm", VX_BIT(VX_COMP_SSE)},
	{"ymm", VX_BIT(VX_COMP_AVX)},
	{"ymm_hi128", VX_BIT(VX_COMP_AVX)},
	{"k", VX_BIT(VX_COMP_OPMASK)},
	{"tilecfg", VX_BIT(VX_COMP_XTILECFG)},
	{"tiledata", VX_BIT(VX_COMP_XTILEDATA)},
	{"egpr", VX_BIT(VX_COMP_APX)},
	{"arch_lbr", VX_BIT(VX_COMP_LBR)},
	{"legacy", VX_BIT(VX_COMP_X87) | VX_BIT(VX_COMP_SSE)},
	{"mpx", MASK_MPX},
	{"avx512", MASK_AVX512},
	{"amx", MASK_AMX},
	{"cet", VX_BIT(VX_COMP_CET_U) | VX_BIT(VX_COMP_CET_S)},
};

static int mask_of_word(const char *word, size_t len, uint64_t *mask)
{
	for (unsigned i = 0; i < VX_COMP_LIMIT; i++) {
		const struct vx_component_info *c = vx_component_info(i);

		if (c && vx_name_matches(c->name, word, len)) {
			*mask = VX_BIT(i);
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (vx_name_matches(aliases[i].name, word, len)) {
			*mask = aliases[i].mask;
			return 0;
		}
	}
	return -ENOENT;
}

int vx_component_by_name(const char *name)
{
	uint64_t mask;

	if (!name || mask_of_word(name, vx_strlen(name), &mask) != 0)
		return -1;
	/* A group alias is not one component. */
	if (mask & (mask - 1))
		return -1;
	for (int i = 0; i < 64; i++)
		if (mask == VX_BIT(i))
			return i;
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parse a whole-string unsigned number (decimal or 0x hex) into @value. */
static int parse_number(const char *text, uint64_t *value)
{
	char *end = NULL;

	if (!is_digit(text[0]))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	if (errno || !end || *end != '\0')
		return -EINVAL;
	*value = v;
	return 0;
}

int vx_parse_component_mask(const char *text, uint64_t *mask, struct vx_error *err)
{
	uint64_t result = 0;

	if (!text || !*text)
		return vx_error_set(err, -EINVAL, NULL, "empty component mask");
	if (is_digit(text[0])) {
		if (parse_number(text, &result) != 0)
			return vx_error_set(err, -EINVAL, NULL,
					    "'%s' is not a number (use 0x... or decimal)", text);
		*mask = result;
		return 0;
	}
	for (const char *word = text; *word;) {
		size_t len = 0;
		uint64_t bits;

		while (word[len] && word[len] != ',' && word[len] != '|')
			len++;
		if (len == 0 || mask_of_word(word, len, &bits) != 0) {
			vx_error_set(err, -EINVAL, NULL,
				     "unknown component name '%.*s' in '%s' (try x87, SSE, AVX, "
				     "opmask, PKRU, CET_U, XTILEDATA, avx512, amx, cet...)",
				     (int)len, word, text);
			return -EINVAL;
		}
		result |= bits;
		word += len;
		if (*word)
			word++;
	}
	*mask = result;
	return 0;
}

size_t vx_format_component_mask(uint64_t mask, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	if (!mask)
		return (size_t)snprintf(buf, len, "none");
	for (unsigned i = 0; i < 64; i++) {
		if (!(mask & VX_BIT(i)))
			continue;
		const struct vx_component_info *c = i < VX_COMP_LIMIT ? vx_component_info(i) : NULL;
		char name[16];

		if (c)
			snprintf(name, sizeof(name), "%s", c->name);
		else
			snprintf(name, sizeof(name), "bit%u", i);
		int n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0,
				 "%s%s", used ? "|" : "", name);
		used += (size_t)n;
	}
	return used;
}
