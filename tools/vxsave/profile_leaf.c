/* SPDX-License-Identifier: MIT */
/*
 * `vxsave profile show --leaf 0xd.1`: one CPUID leaf of a profile, each register split into
 * named fields.  One table of multi-bit fields (Intel SDM Vol. 2A CPUID, AMD APM Vol. 3
 * CPUID), flag bits named from the feature table, anything else as "bitN".
 */
#include <string.h>

#include "cli.h"
#include "json_output.h"
#include "profile_report.h"

#define ANY_SUBLEAF 0xffffffffu
/* 0xD sub-leaves 2..63 share one description (§1.4). */
#define COMPONENT_SUBLEAF 0xfffffffeu

struct leaf_field {
	uint32_t leaf, subleaf;
	enum vx_cpuid_reg reg;
	unsigned lo, hi;
	const char *name;
};

static const struct leaf_field fields[] = {
    {0x0, 0, VX_EAX, 0, 31, "maximum basic leaf"},
    {0x0, 0, VX_EBX, 0, 31, "vendor string [0:3]"},
    {0x0, 0, VX_EDX, 0, 31, "vendor string [4:7]"},
    {0x0, 0, VX_ECX, 0, 31, "vendor string [8:11]"},
    {0x1, 0, VX_EAX, 0, 3, "stepping"},
    {0x1, 0, VX_EAX, 4, 7, "model"},
    {0x1, 0, VX_EAX, 8, 11, "family"},
    {0x1, 0, VX_EAX, 12, 13, "processor type"},
    {0x1, 0, VX_EAX, 16, 19, "extended model"},
    {0x1, 0, VX_EAX, 20, 27, "extended family"},
    {0x1, 0, VX_EBX, 0, 7, "brand index"},
    {0x1, 0, VX_EBX, 8, 15, "CLFLUSH line size / 8"},
    {0x1, 0, VX_EBX, 16, 23, "addressable logical processors"},
    {0x1, 0, VX_EBX, 24, 31, "initial APIC ID"},
    {0x7, 0, VX_EAX, 0, 31, "highest sub-leaf of leaf 7"},
    {0x7, 0, VX_ECX, 17, 21, "MAWAU (BNDLDX/BNDSTX address width)"},
    {0xD, 0, VX_EAX, 0, 31, "XCR0 bits 31:0 that may be set"},
    {0xD, 0, VX_EBX, 0, 31, "standard-format size for the XCR0 in force"},
    {0xD, 0, VX_ECX, 0, 31, "standard-format size for every supported XCR0 bit"},
    {0xD, 0, VX_EDX, 0, 31, "XCR0 bits 63:32 that may be set"},
    {0xD, 1, VX_EBX, 0, 31, "compacted size for XCR0 | IA32_XSS in force"},
    {0xD, 1, VX_ECX, 0, 31, "IA32_XSS bits 31:0 that may be set"},
    {0xD, 1, VX_EDX, 0, 31, "IA32_XSS bits 63:32 that may be set"},
    {0xD, COMPONENT_SUBLEAF, VX_EAX, 0, 31, "size of the component in bytes"},
    {0xD, COMPONENT_SUBLEAF, VX_EBX, 0, 31, "standard-format offset (0 for supervisor)"},
    {0xD, COMPONENT_SUBLEAF, VX_ECX, 0, 0, "supervisor (IA32_XSS) component"},
    {0xD, COMPONENT_SUBLEAF, VX_ECX, 1, 1, "64-byte aligned in the compacted format"},
    {0xD, COMPONENT_SUBLEAF, VX_ECX, 2, 2, "XFD-capable"},
    {0x14, 0, VX_EAX, 0, 31, "highest sub-leaf of leaf 0x14"},
    {0x1D, 0, VX_EAX, 0, 31, "highest palette"},
    {0x1D, 1, VX_EAX, 0, 15, "total tile bytes"},
    {0x1D, 1, VX_EAX, 16, 31, "bytes per tile"},
    {0x1D, 1, VX_EBX, 0, 15, "bytes per row"},
    {0x1D, 1, VX_EBX, 16, 31, "tile registers"},
    {0x1D, 1, VX_ECX, 0, 15, "maximum rows"},
    {0x1E, 0, VX_EBX, 0, 7, "TMUL maximum K (rows or columns)"},
    {0x1E, 0, VX_EBX, 8, 23, "TMUL maximum N (bytes per column)"},
    {0x80000000, 0, VX_EAX, 0, 31, "maximum extended leaf"},
    {0x80000008, 0, VX_EAX, 0, 7, "physical-address bits"},
    {0x80000008, 0, VX_EAX, 8, 15, "linear-address bits"},
    {0x80000008, 0, VX_ECX, 0, 7, "AMD: logical processors - 1"},
};

#define FIELD_COUNT (sizeof(fields) / sizeof(fields[0]))

static const char *const reg_names[] = {"EAX", "EBX", "ECX", "EDX"};

static uint32_t reg_of(const struct vx_cpuid_regs *r, enum vx_cpuid_reg reg)
{
	const uint32_t values[] = {r->eax, r->ebx, r->ecx, r->edx};

	return values[reg & 3];
}

static bool field_applies(const struct leaf_field *f, uint32_t leaf, uint32_t subleaf,
			  enum vx_cpuid_reg reg)
{
	if (f->leaf != leaf || f->reg != reg)
		return false;
	if (f->subleaf == COMPONENT_SUBLEAF)
		return leaf == 0xD && subleaf >= 2;
	return f->subleaf == ANY_SUBLEAF || f->subleaf == subleaf;
}

/* The feature-table name of (leaf, subleaf, reg, bit), or NULL. */
static const char *flag_name(uint32_t leaf, uint32_t subleaf, enum vx_cpuid_reg reg, unsigned bit)
{
	for (unsigned i = 0; i < VX_FEAT_COUNT; i++) {
		const struct vx_feature_info *f = vx_feature_info((enum vx_feature)i);

		if (f && f->leaf == leaf && f->subleaf == subleaf && f->reg == reg && f->bit == bit)
			return f->name;
	}
	return NULL;
}

/* Does this register hold flags (no multi-bit field covers it)? */
static bool is_flag_register(uint32_t leaf, uint32_t subleaf, enum vx_cpuid_reg reg)
{
	if (leaf >= 0x80000002u && leaf <= 0x80000004u)
		return false;
	for (size_t i = 0; i < FIELD_COUNT; i++)
		if (field_applies(&fields[i], leaf, subleaf, reg) && fields[i].hi > fields[i].lo)
			return false;
	return true;
}

static uint32_t field_value(uint32_t value, unsigned lo, unsigned hi)
{
	uint32_t width_mask = hi - lo >= 31 ? 0xffffffffu : (1u << (hi - lo + 1)) - 1;

	return (value >> lo) & width_mask;
}

typedef void (*field_sink)(void *ctx, enum vx_cpuid_reg reg, unsigned lo, unsigned hi,
			   uint32_t value, const char *name);

/* Every named field of one register, then its other set bits. */
static void walk_register(uint32_t leaf, uint32_t subleaf, enum vx_cpuid_reg reg, uint32_t value,
			  field_sink sink, void *ctx)
{
	uint32_t covered = 0;
	char other[16];

	for (size_t i = 0; i < FIELD_COUNT; i++) {
		const struct leaf_field *f = &fields[i];

		if (!field_applies(f, leaf, subleaf, reg))
			continue;
		sink(ctx, reg, f->lo, f->hi, field_value(value, f->lo, f->hi), f->name);
		covered |= (uint32_t)(((uint64_t)1 << (f->hi + 1)) - (1u << f->lo));
	}
	if (!is_flag_register(leaf, subleaf, reg))
		return;
	for (unsigned bit = 0; bit < 32; bit++) {
		const char *name;

		if (!((value >> bit) & 1u) || ((covered >> bit) & 1u))
			continue;
		name = flag_name(leaf, subleaf, reg, bit);
		if (!name) {
			snprintf(other, sizeof(other), "bit%u", bit);
			name = other;
		}
		sink(ctx, reg, bit, bit, 1, name);
	}
}

static void text_sink(void *ctx, enum vx_cpuid_reg reg, unsigned lo, unsigned hi, uint32_t value,
		      const char *name)
{
	char bits[16];

	if (lo == hi)
		snprintf(bits, sizeof(bits), "[%u]", lo);
	else
		snprintf(bits, sizeof(bits), "[%u:%u]", hi, lo);
	fprintf(ctx, "  %s%-8s %-10u 0x%-8x %s\n", reg_names[reg & 3], bits, value, value, name);
}

/* The brand leaves hold 16 ASCII bytes. */
static void brand_text(FILE *out, const struct vx_cpuid_regs *r)
{
	char text[17];

	memcpy(text, &r->eax, 4);
	memcpy(text + 4, &r->ebx, 4);
	memcpy(text + 8, &r->ecx, 4);
	memcpy(text + 12, &r->edx, 4);
	text[16] = '\0';
	for (unsigned i = 0; i < 16; i++)
		if (text[i] != '\0' && (text[i] < 0x20 || text[i] > 0x7e))
			text[i] = '?';
	fprintf(out, "  brand string part: \"%s\"\n", text);
}

int profile_parse_leaf_spec(const char *text, uint32_t *leaf, uint32_t *subleaf)
{
	const char *dot = strchr(text, '.');
	size_t leaf_len = dot ? (size_t)(dot - text) : strlen(text);
	uint64_t l, s = 0;

	/* "0xd.1" or "13.1" or "0xd": the number rule of every other option (vx_parse_u64). */
	if (vx_parse_u64(text, leaf_len, &l, NULL) < 0 || l > UINT32_MAX)
		return -1;
	if (dot && (vx_parse_u64(dot + 1, strlen(dot + 1), &s, NULL) < 0 || s > UINT32_MAX))
		return -1;
	*leaf = (uint32_t)l;
	*subleaf = (uint32_t)s;
	return 0;
}

int profile_leaf_text(FILE *out, const struct vx_profile *profile, uint32_t leaf, uint32_t subleaf)
{
	struct vx_cpuid_regs r = vx_profile_leaf(profile, leaf, subleaf);

	if (vx_profile_slot(leaf, subleaf) < 0)
		return -1;
	fprintf(out, "CPUID.(0x%X,0x%X) of %s\n", leaf, subleaf,
		profile->name[0] ? profile->name : "(unnamed)");
	fprintf(out, "  eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n\n", r.eax, r.ebx, r.ecx,
		r.edx);
	fprintf(out, "  %-11s %-10s %-10s %s\n", "field", "value", "hex", "meaning");
	if (leaf >= 0x80000002u && leaf <= 0x80000004u) {
		brand_text(out, &r);
		return 0;
	}
	for (int reg = VX_EAX; reg <= VX_EDX; reg++)
		walk_register(leaf, subleaf, (enum vx_cpuid_reg)reg,
			      reg_of(&r, (enum vx_cpuid_reg)reg), text_sink, out);
	return 0;
}

static void json_sink(void *ctx, enum vx_cpuid_reg reg, unsigned lo, unsigned hi, uint32_t value,
		      const char *name)
{
	json_t *entry = json_object();

	cli_json_set(entry, "register", json_string(reg_names[reg & 3]));
	cli_json_set(entry, "bits", json_pack("[ii]", hi, lo));
	cli_json_set(entry, "value", json_integer(value));
	cli_json_set(entry, "name", json_string(name));
	json_array_append_new(ctx, entry);
}

json_t *profile_leaf_json(const struct vx_profile *profile, uint32_t leaf, uint32_t subleaf)
{
	struct vx_cpuid_regs r = vx_profile_leaf(profile, leaf, subleaf);
	json_t *root, *list;

	if (vx_profile_slot(leaf, subleaf) < 0)
		return NULL;
	root = json_object();
	list = json_array();
	cli_json_set(root, "schema_version", json_integer(CLI_JSON_SCHEMA_VERSION));
	cli_json_set(root, "profile", cli_json_text(profile->name));
	cli_json_set(root, "leaf", cli_json_reg32(leaf));
	cli_json_set(root, "subleaf", cli_json_reg32(subleaf));
	cli_json_set(root, "eax", cli_json_reg32(r.eax));
	cli_json_set(root, "ebx", cli_json_reg32(r.ebx));
	cli_json_set(root, "ecx", cli_json_reg32(r.ecx));
	cli_json_set(root, "edx", cli_json_reg32(r.edx));
	if (!(leaf >= 0x80000002u && leaf <= 0x80000004u))
		for (int reg = VX_EAX; reg <= VX_EDX; reg++)
			walk_register(leaf, subleaf, (enum vx_cpuid_reg)reg,
				      reg_of(&r, (enum vx_cpuid_reg)reg), json_sink, list);
	cli_json_set(root, "fields", list);
	return root;
}
