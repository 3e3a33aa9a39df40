/* SPDX-License-Identifier: MIT */
/*
 * The report of `vxsave profile diff A B` (text and JSON), from vx_profile_diff().
 */
#include <string.h>

#include "cli.h"
#include "json_output.h"
#include "profile_report.h"

static const char *const reg_names[] = {"EAX", "EBX", "ECX", "EDX"};

static const char *verdict_sentence(enum vx_profile_relation relation)
{
	switch (relation) {
	case VX_PROFILES_IDENTICAL:
		return "the same CPU as far as XSAVE and CET go";
	case VX_PROFILES_EQUIVALENT:
		return "the same features and layout on another family/model/stepping";
	case VX_PROFILES_SUPERSET:
		return "A has everything B has, in the same place, and more: state of B restores "
		       "on A";
	case VX_PROFILES_SUBSET:
		return "B has everything A has, in the same place, and more: state of A restores "
		       "on B";
	case VX_PROFILES_DIFFER:
		break;
	}
	return "each has what the other lacks, or a component differs: state does not move "
	       "freely between them";
}

static const char *label(const struct vx_profile *p)
{
	return p->name[0] ? p->name : "(unnamed)";
}

/* "avx512f amx_tile" for a set of vx_feature bits. */
static void feature_names(uint64_t set, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned f = 0; f < VX_FEAT_COUNT && used < len; f++) {
		const struct vx_feature_info *info = vx_feature_info((enum vx_feature)f);
		int n;

		if (!(set & VX_BIT(f)) || !info)
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", info->name);
		if (n > 0)
			used += (size_t)n;
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

/* "0x7.0:EBX[5] 0x7.0:EBX[17]": the raw flag bits of one side, beyond the named ones. */
static void word_bits(const uint32_t *words, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned w = 0; w < VX_PROFILE_FEATURE_WORDS; w++) {
		uint32_t leaf, subleaf;
		enum vx_cpuid_reg reg;

		vx_profile_feature_word(w, &leaf, &subleaf, &reg);
		for (unsigned bit = 0; bit < 32 && used < len; bit++) {
			int n;

			if (!((words[w] >> bit) & 1u))
				continue;
			n = snprintf(buf + used, len - used, "%s0x%X.%u:%s[%u]", used ? " " : "",
				     leaf, subleaf, reg_names[reg & 3], bit);
			if (n > 0)
				used += (size_t)n;
		}
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void print_mask_row(FILE *out, const char *what, uint64_t a, uint64_t b)
{
	char ha[24], hb[24], names[512];

	cli_format_hex(ha, sizeof(ha), a);
	cli_format_hex(hb, sizeof(hb), b);
	fprintf(out, "  %-14s %-10s %-10s", what, ha, hb);
	if (a & ~b)
		fprintf(out, " only A: %s", cli_mask_names(a & ~b, names, sizeof(names)));
	if (b & ~a)
		fprintf(out, " only B: %s", cli_mask_names(b & ~a, names, sizeof(names)));
	fprintf(out, "%s\n", a == b ? " same" : "");
}

static void component_cell(char *buf, size_t len, const struct vx_profile *p, unsigned id)
{
	struct vx_component_desc d;

	vx_profile_component(p, id, &d);
	if (!d.supported)
		snprintf(buf, len, "-");
	else if (d.supervisor)
		snprintf(buf, len, "%u B S%s%s", d.size, d.align64 ? " a64" : "",
			 d.xfd_capable ? " xfd" : "");
	else
		snprintf(buf, len, "%u B @%u%s%s", d.size, d.standard_offset,
			 d.align64 ? " a64" : "", d.xfd_capable ? " xfd" : "");
}

static void print_components(FILE *out, const struct vx_profile *a, const struct vx_profile *b,
			     const struct vx_profile_diff *diff)
{
	uint64_t shown = diff->xcr0_only_a | diff->xcr0_only_b | diff->xss_only_a |
			 diff->xss_only_b | diff->components_differ;

	fprintf(out, "\nComponents that differ (size, standard offset, a64 = align64, xfd)\n");
	if (!shown) {
		fprintf(out, "  none\n");
		return;
	}
	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		const struct vx_component_info *info = vx_component_info(id);
		char ca[48], cb[48];

		if (!(shown & VX_BIT(id)))
			continue;
		component_cell(ca, sizeof(ca), a, id);
		component_cell(cb, sizeof(cb), b, id);
		fprintf(out, "  %2u  %-10s  A %-22s B %s\n", id, info ? info->name : "?", ca, cb);
	}
}

void profile_diff_text(FILE *out, const struct vx_profile *a, const struct vx_profile *b,
		       const struct vx_profile_diff *diff)
{
	struct vx_cpu_identity ia, ib;
	char text[2048];

	vx_profile_identity(a, &ia);
	vx_profile_identity(b, &ib);
	fprintf(out, "A  %s\nB  %s\n\n", label(a), label(b));
	fprintf(out, "Identity       A                      B\n");
	fprintf(out, "  vendor       %-22s %s%s\n", vx_vendor_name(vx_profile_vendor(a)),
		vx_vendor_name(vx_profile_vendor(b)), diff->vendor_differs ? "  differs" : "");
	fprintf(out, "  CPUID.1:EAX  0x%08x (%x/%02x/%u)  0x%08x (%x/%02x/%u)%s\n", ia.signature,
		ia.family, ia.model, ia.stepping, ib.signature, ib.family, ib.model, ib.stepping,
		diff->identity_differs ? "  differs" : "");

	fprintf(out, "\nFeature flags (OSXSAVE and OSPKE are OS state and not compared)\n");
	feature_names(diff->features_only_a, text, sizeof(text));
	cli_print_wrapped(out, "  only in A  ", "             ", text, ' ');
	feature_names(diff->features_only_b, text, sizeof(text));
	cli_print_wrapped(out, "  only in B  ", "             ", text, ' ');
	word_bits(diff->word_only_a, text, sizeof(text));
	cli_print_wrapped(out, "  bits only in A  ", "                  ", text, ' ');
	word_bits(diff->word_only_b, text, sizeof(text));
	cli_print_wrapped(out, "  bits only in B  ", "                  ", text, ' ');

	fprintf(out, "\nSupported masks  A          B\n");
	print_mask_row(out, "XCR0", vx_profile_xcr0_supported(a), vx_profile_xcr0_supported(b));
	print_mask_row(out, "IA32_XSS", vx_profile_xss_supported(a), vx_profile_xss_supported(b));
	print_mask_row(out, "IA32_XFD", vx_profile_xfd_supported(a), vx_profile_xfd_supported(b));
	print_components(out, a, b, diff);
	fprintf(out, "\nRaw CPUID: %u register%s differ%s over the kept leaves\n",
		diff->raw_differences, diff->raw_differences == 1 ? "" : "s",
		diff->raw_differences == 1 ? "s" : "");
	snprintf(text, sizeof(text), "%s - %s", vx_profile_relation_name(diff->relation),
		 verdict_sentence(diff->relation));
	fprintf(out, "\n");
	cli_print_wrapped(out, "Verdict: ", "         ", text, ' ');
}

static json_t *feature_list(uint64_t set)
{
	json_t *list = json_array();

	for (unsigned f = 0; f < VX_FEAT_COUNT; f++) {
		const struct vx_feature_info *info = vx_feature_info((enum vx_feature)f);

		if ((set & VX_BIT(f)) && info)
			json_array_append_new(list, json_string(info->name));
	}
	return list;
}

static json_t *bit_list(const uint32_t *words)
{
	json_t *list = json_array();

	for (unsigned w = 0; w < VX_PROFILE_FEATURE_WORDS; w++) {
		uint32_t leaf, subleaf;
		enum vx_cpuid_reg reg;

		vx_profile_feature_word(w, &leaf, &subleaf, &reg);
		for (unsigned bit = 0; bit < 32; bit++)
			if ((words[w] >> bit) & 1u)
				json_array_append_new(list,
						      json_pack("{s:o,s:o,s:s,s:i}", "leaf",
								cli_json_reg32(leaf), "subleaf",
								cli_json_reg32(subleaf), "register",
								reg_names[reg & 3], "bit", bit));
	}
	return list;
}

static json_t *mask_pair(uint64_t a, uint64_t b)
{
	json_t *entry = json_object();

	cli_json_set(entry, "a", cli_json_mask(a));
	cli_json_set(entry, "b", cli_json_mask(b));
	cli_json_set(entry, "only_a", cli_json_mask(a & ~b));
	cli_json_set(entry, "only_b", cli_json_mask(b & ~a));
	return entry;
}

static json_t *component_side(const struct vx_profile *p, unsigned id)
{
	struct vx_component_desc d;
	json_t *side;

	vx_profile_component(p, id, &d);
	if (!d.supported)
		return json_null();
	side = json_object();
	cli_json_set(side, "size", json_integer(d.size));
	cli_json_set(side, "standard_offset",
		     d.supervisor ? json_null() : json_integer(d.standard_offset));
	cli_json_set(side, "supervisor", json_boolean(d.supervisor));
	cli_json_set(side, "align64", json_boolean(d.align64));
	cli_json_set(side, "xfd", json_boolean(d.xfd_capable));
	return side;
}

static json_t *component_list(const struct vx_profile *a, const struct vx_profile *b,
			      const struct vx_profile_diff *diff)
{
	uint64_t shown = diff->xcr0_only_a | diff->xcr0_only_b | diff->xss_only_a |
			 diff->xss_only_b | diff->components_differ;
	json_t *list = json_array();

	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		const struct vx_component_info *info = vx_component_info(id);
		json_t *entry;

		if (!(shown & VX_BIT(id)))
			continue;
		entry = json_object();
		cli_json_set(entry, "id", json_integer(id));
		cli_json_set(entry, "name", json_string(info ? info->name : "?"));
		cli_json_set(entry, "a", component_side(a, id));
		cli_json_set(entry, "b", component_side(b, id));
		json_array_append_new(list, entry);
	}
	return list;
}

json_t *profile_diff_json(const struct vx_profile *a, const struct vx_profile *b,
			  const struct vx_profile_diff *diff)
{
	json_t *root = json_object(), *features = json_object(), *masks = json_object();

	cli_json_set(root, "schema_version", json_integer(CLI_JSON_SCHEMA_VERSION));
	cli_json_set(root, "a", cli_json_text(a->name));
	cli_json_set(root, "b", cli_json_text(b->name));
	cli_json_set(root, "verdict", json_string(vx_profile_relation_name(diff->relation)));
	cli_json_set(root, "vendor_differs", json_boolean(diff->vendor_differs));
	cli_json_set(root, "identity_differs", json_boolean(diff->identity_differs));
	cli_json_set(features, "only_a", feature_list(diff->features_only_a));
	cli_json_set(features, "only_b", feature_list(diff->features_only_b));
	cli_json_set(features, "bits_only_a", bit_list(diff->word_only_a));
	cli_json_set(features, "bits_only_b", bit_list(diff->word_only_b));
	cli_json_set(root, "features", features);
	cli_json_set(masks, "xcr0_supported",
		     mask_pair(vx_profile_xcr0_supported(a), vx_profile_xcr0_supported(b)));
	cli_json_set(masks, "xss_supported",
		     mask_pair(vx_profile_xss_supported(a), vx_profile_xss_supported(b)));
	cli_json_set(masks, "xfd_supported",
		     mask_pair(vx_profile_xfd_supported(a), vx_profile_xfd_supported(b)));
	cli_json_set(root, "masks", masks);
	cli_json_set(root, "components", component_list(a, b, diff));
	cli_json_set(root, "raw_differences", json_integer(diff->raw_differences));
	return root;
}
