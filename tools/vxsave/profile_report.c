/* SPDX-License-Identifier: MIT */
/*
 * The report of `vxsave profile show` (text and JSON), built only from the arch accessors so
 * it shows exactly what the library derives from the raw leaves.
 */
#include "profile_report.h"

#include "cli.h"
#include "json_output.h"

/* Enough for every finding on any real CPU; more are counted, not printed. */
#define DIAGNOSTICS_MAX 64

static const char *const register_names[] = {"EAX", "EBX", "ECX", "EDX"};

/* "0x7.0 ECX[7]" - where a feature flag lives: leaf.subleaf register[bit]. */
static void format_feature_location(const struct vx_feature_info *info, char *buf, size_t len)
{
	snprintf(buf, len, "0x%X.%u %s[%u]", info->leaf, info->subleaf,
		 register_names[info->reg & 3], info->bit);
}

static const char *capture_text(uint64_t value, char *buf, size_t len)
{
	if (!value)
		return "unknown";
	cli_format_hex(buf, len, value);
	return buf;
}

/* ----------------------------------------------------------------------------------------- */
/* text                                                                                        */

/* "CPU          AMD EPYC 9655 96-Core Processor, family 0x1a model 0x2 stepping 1" */
static void print_identity_line(FILE *out, const struct vx_profile *profile)
{
	struct vx_cpu_identity id;
	char brand[64];

	vx_profile_identity(profile, &id);
	vx_profile_brand(profile, brand, sizeof(brand));
	fprintf(out, "CPU          %s%sfamily 0x%x model 0x%x stepping %u (CPUID.1:EAX 0x%08x)\n",
		brand, brand[0] ? ", " : "", id.family, id.model, id.stepping, id.signature);
}

static void print_identity(FILE *out, const struct vx_profile *profile)
{
	static const char indent[] = "             ";

	fprintf(out, "Profile      %s\n", profile->name[0] ? profile->name : "(unnamed)");
	fprintf(out, "Vendor       %s\n", vx_vendor_name(vx_profile_vendor(profile)));
	cli_print_wrapped(out, "Description  ", indent,
			  profile->description[0] ? profile->description : "-", ' ');
	cli_print_wrapped(out, "Source       ", indent, profile->source[0] ? profile->source : "-",
			  ' ');
	print_identity_line(out, profile);
}

static void print_features(FILE *out, const struct vx_profile *profile)
{
	fprintf(out, "\nCPUID feature flags\n");
	fprintf(out, "  %-3s  %-18s  %-20s  %s\n", "", "flag", "CPUID leaf.sub reg", "meaning");
	for (unsigned i = 0; i < VX_FEAT_COUNT; i++) {
		const struct vx_feature_info *info = vx_feature_info((enum vx_feature)i);
		char where[48];

		if (!info)
			continue;
		format_feature_location(info, where, sizeof(where));
		fprintf(out, "  %-3s  %-18s  %-20s  %s\n",
			vx_profile_has(profile, (enum vx_feature)i) ? "on" : "off", info->name,
			where, info->description);
	}
}

static void print_mask_line(FILE *out, const char *label, uint64_t mask)
{
	char hex[24], names[1024];

	cli_format_hex(hex, sizeof(hex), mask);
	fprintf(out, "  %-16s %-10s %s\n", label, hex, cli_mask_names(mask, names, sizeof(names)));
}

static void print_capture_line(FILE *out, const char *label, uint64_t mask)
{
	char hex[24], names[1024];

	fprintf(out, "  %-16s %-10s %s\n", label, capture_text(mask, hex, sizeof(hex)),
		mask ? cli_mask_names(mask, names, sizeof(names)) : "(not recorded by the source)");
}

static void print_masks(FILE *out, const struct vx_profile *profile)
{
	fprintf(out, "\nXSAVE feature masks\n");
	print_mask_line(out, "XCR0 supported", vx_profile_xcr0_supported(profile));
	print_mask_line(out, "XSS supported", vx_profile_xss_supported(profile));
	print_mask_line(out, "XFD supported", vx_profile_xfd_supported(profile));
	print_capture_line(out, "XCR0 at capture", profile->xcr0_at_capture);
	if (profile->xss_known)
		print_mask_line(out, "XSS at capture", profile->xss_at_capture);
	else
		print_capture_line(out, "XSS at capture", 0);
}

static void print_component_row(FILE *out, unsigned id, const struct vx_component_info *info,
				const struct vx_component_desc *desc)
{
	char size[16] = "-", offset[24] = "-";

	if (desc->supported || desc->size) {
		snprintf(size, sizeof(size), "%u", desc->size);
		if (!info->supervisor)
			snprintf(offset, sizeof(offset), "%u (0x%x)", desc->standard_offset,
				 desc->standard_offset);
	}
	fprintf(out, "  %2u  %-10s %-4s %5s  %-14s %-7s %-4s %s\n", id, info->name,
		info->supervisor ? "S" : "U", size, offset, desc->align64 ? "yes" : "-",
		desc->xfd_capable ? "yes" : "-", desc->supported ? "yes" : "no");
}

static void print_components(FILE *out, const struct vx_profile *profile)
{
	fprintf(out, "\nState components (CPUID leaf 0xD)\n");
	fprintf(out, "  %2s  %-10s %-4s %5s  %-14s %-7s %-4s %s\n", "id", "name", "U/S", "size",
		"std offset", "align64", "xfd", "supported");
	for (unsigned id = 0; id < VX_COMP_LIMIT; id++) {
		const struct vx_component_info *info = vx_component_info(id);
		struct vx_component_desc desc;

		if (!info || !vx_profile_component(profile, id, &desc))
			continue;
		print_component_row(out, id, info, &desc);
	}
}

static void print_processor(FILE *out, const struct vx_profile *profile)
{
	fprintf(out, "\nProcessor\n");
	fprintf(out, "  MXCSR_MASK            0x%08x\n", vx_profile_mxcsr_mask(profile));
	fprintf(out, "  linear address width  %u bits\n", vx_profile_linear_address_bits(profile));
}

void profile_diagnostics_text(FILE *out, const struct vx_profile *profile)
{
	struct vx_diagnostic found[DIAGNOSTICS_MAX];
	unsigned total = vx_profile_diagnose(profile, found, DIAGNOSTICS_MAX);
	unsigned shown = total < DIAGNOSTICS_MAX ? total : DIAGNOSTICS_MAX;

	fprintf(out, "\nDiagnostics\n");
	if (!total)
		fprintf(out, "  none: the profile's leaves agree with each other\n");
	for (unsigned i = 0; i < shown; i++) {
		char first[64], message[2 * VX_DIAG_MESSAGE_MAX];

		snprintf(first, sizeof(first),
			 "  %-7s  CPUID.(0x%X,%u): ", vx_diag_severity_name(found[i].severity),
			 found[i].leaf, found[i].subleaf);
		cli_print_wrapped(out, first, "           ",
				  cli_cited(found[i].message, message, sizeof(message)), ' ');
	}
	if (total > shown)
		fprintf(out, "  ... and %u more\n", total - shown);
}

/* The "# key: value" lines of a profile dump, so the raw section reads back unchanged. */
static void print_raw_headers(FILE *out, const struct vx_profile *profile)
{
	if (profile->name[0])
		fprintf(out, "# name: %s\n", profile->name);
	if (profile->description[0])
		fprintf(out, "# description: %s\n", profile->description);
	if (profile->source[0])
		fprintf(out, "# source: %s\n", profile->source);
	if (profile->xcr0_at_capture)
		fprintf(out, "# xcr0: 0x%llx\n", (unsigned long long)profile->xcr0_at_capture);
	if (profile->xss_known)
		fprintf(out, "# xss: 0x%llx\n", (unsigned long long)profile->xss_at_capture);
	fprintf(out, "# mxcsr-mask: 0x%08x\n", profile->mxcsr_mask);
}

/* Every kept leaf that is not all zero (CPUID returns zeros for the others anyway). */
static void print_raw_leaves(FILE *out, const struct vx_profile *profile)
{
	fprintf(out, "\n# Raw CPUID leaves ('cpuid -r' format; all-zero leaves omitted).\n"
		     "# From here on this is a dump 'vxsave ... --cpuid-dump' reads back.\n");
	print_raw_headers(out, profile);
	fprintf(out, "CPU 0:\n");
	for (unsigned slot = 0; slot < VX_PROFILE_SLOTS; slot++) {
		const struct vx_cpuid_regs *r = &profile->leaves[slot];
		uint32_t leaf, subleaf;

		if (!vx_profile_slot_leaf(slot, &leaf, &subleaf))
			break;
		if (!(r->eax | r->ebx | r->ecx | r->edx) && slot != 0)
			continue;
		fprintf(out, "   0x%08x 0x%02x: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n",
			leaf, subleaf, r->eax, r->ebx, r->ecx, r->edx);
	}
}

void profile_report_text(FILE *out, const struct vx_profile *profile, bool raw)
{
	print_identity(out, profile);
	print_features(out, profile);
	print_masks(out, profile);
	print_components(out, profile);
	print_processor(out, profile);
	profile_diagnostics_text(out, profile);
	if (raw)
		print_raw_leaves(out, profile);
}

/* ----------------------------------------------------------------------------------------- */
/* JSON                                                                                        */

static json_t *features_json(const struct vx_profile *profile)
{
	json_t *features = json_object();

	for (unsigned i = 0; i < VX_FEAT_COUNT; i++) {
		const struct vx_feature_info *info = vx_feature_info((enum vx_feature)i);

		if (info)
			cli_json_set(features, info->name,
				     json_boolean(vx_profile_has(profile, (enum vx_feature)i)));
	}
	return features;
}

static json_t *component_json(unsigned id, const struct vx_component_info *info,
			      const struct vx_component_desc *desc)
{
	json_t *entry = json_object();

	cli_json_set(entry, "id", json_integer(id));
	cli_json_set(entry, "name", json_string(info->name));
	cli_json_set(entry, "supervisor", json_boolean(info->supervisor));
	/* null wherever the text shows "-": not enumerated, or (supervisor) no standard-format
	 * place (§1.4) - never a 0 that reads as a real offset (docs/cli.md "JSON output"). */
	bool enumerated = desc->supported || desc->size;

	cli_json_set(entry, "size", enumerated ? json_integer(desc->size) : json_null());
	cli_json_set(entry, "standard_offset",
		     enumerated && !info->supervisor ? json_integer(desc->standard_offset)
						     : json_null());
	cli_json_set(entry, "align64", json_boolean(desc->align64));
	cli_json_set(entry, "xfd", json_boolean(desc->xfd_capable));
	cli_json_set(entry, "supported", json_boolean(desc->supported));
	return entry;
}

static json_t *components_json(const struct vx_profile *profile)
{
	json_t *components = json_array();

	for (unsigned id = 0; id < VX_COMP_LIMIT; id++) {
		const struct vx_component_info *info = vx_component_info(id);
		struct vx_component_desc desc;

		if (info && vx_profile_component(profile, id, &desc))
			json_array_append_new(components, component_json(id, info, &desc));
	}
	return components;
}

json_t *profile_diagnostics_json(const struct vx_profile *profile)
{
	struct vx_diagnostic found[DIAGNOSTICS_MAX];
	unsigned total = vx_profile_diagnose(profile, found, DIAGNOSTICS_MAX);
	json_t *array = json_array();

	for (unsigned i = 0; i < total && i < DIAGNOSTICS_MAX; i++) {
		char message[2 * VX_DIAG_MESSAGE_MAX];
		json_t *entry = json_object();

		cli_json_set(entry, "severity",
			     json_string(vx_diag_severity_name(found[i].severity)));
		cli_json_set(entry, "leaf", cli_json_reg32(found[i].leaf));
		cli_json_set(entry, "subleaf", cli_json_reg32(found[i].subleaf));
		cli_json_set(entry, "component",
			     found[i].component >= 0 ? json_integer(found[i].component)
						     : json_null());
		cli_json_set(entry, "message",
			     json_string(cli_cited(found[i].message, message, sizeof(message))));
		json_array_append_new(array, entry);
	}
	return array;
}

static json_t *raw_leaves_json(const struct vx_profile *profile)
{
	json_t *array = json_array();

	for (unsigned slot = 0; slot < VX_PROFILE_SLOTS; slot++) {
		const struct vx_cpuid_regs *r = &profile->leaves[slot];
		uint32_t leaf, subleaf;
		json_t *entry;

		if (!vx_profile_slot_leaf(slot, &leaf, &subleaf))
			break;
		if (!(r->eax | r->ebx | r->ecx | r->edx) && slot != 0)
			continue;
		entry = json_object();
		cli_json_set(entry, "leaf", cli_json_reg32(leaf));
		cli_json_set(entry, "subleaf", cli_json_reg32(subleaf));
		cli_json_set(entry, "eax", cli_json_reg32(r->eax));
		cli_json_set(entry, "ebx", cli_json_reg32(r->ebx));
		cli_json_set(entry, "ecx", cli_json_reg32(r->ecx));
		cli_json_set(entry, "edx", cli_json_reg32(r->edx));
		json_array_append_new(array, entry);
	}
	return array;
}

static json_t *identity_json(const struct vx_profile *profile)
{
	json_t *cpu = json_object();
	struct vx_cpu_identity id;
	char brand[64];

	vx_profile_identity(profile, &id);
	vx_profile_brand(profile, brand, sizeof(brand));
	cli_json_set(cpu, "brand", json_string(brand));
	cli_json_set(cpu, "signature", cli_json_reg32(id.signature));
	cli_json_set(cpu, "family", json_integer(id.family));
	cli_json_set(cpu, "model", json_integer(id.model));
	cli_json_set(cpu, "stepping", json_integer(id.stepping));
	return cpu;
}

unsigned profile_error_count(const struct vx_profile *profile)
{
	struct vx_diagnostic found[DIAGNOSTICS_MAX];
	unsigned total = vx_profile_diagnose(profile, found, DIAGNOSTICS_MAX), errors = 0;

	for (unsigned i = 0; i < total && i < DIAGNOSTICS_MAX; i++)
		errors += found[i].severity == VX_DIAG_ERROR;
	/* Findings past the array are not seen; any of them may be an error. */
	return errors + (total > DIAGNOSTICS_MAX ? total - DIAGNOSTICS_MAX : 0);
}

static json_t *optional_mask_json(uint64_t mask)
{
	return mask ? cli_json_mask(mask) : json_null();
}

json_t *profile_report_json(const struct vx_profile *profile, bool raw)
{
	json_t *root = json_object();

	if (!root)
		return NULL;
	cli_json_set(root, "name", json_string(profile->name));
	cli_json_set(root, "vendor", json_string(vx_vendor_name(vx_profile_vendor(profile))));
	cli_json_set(root, "description", json_string(profile->description));
	cli_json_set(root, "source", json_string(profile->source));
	cli_json_set(root, "cpu", identity_json(profile));
	cli_json_set(root, "features", features_json(profile));
	cli_json_set(root, "xcr0_supported", cli_json_mask(vx_profile_xcr0_supported(profile)));
	cli_json_set(root, "xss_supported", cli_json_mask(vx_profile_xss_supported(profile)));
	cli_json_set(root, "xfd_supported", cli_json_mask(vx_profile_xfd_supported(profile)));
	cli_json_set(root, "xcr0_at_capture", optional_mask_json(profile->xcr0_at_capture));
	cli_json_set(root, "xss_at_capture",
		     profile->xss_known ? cli_json_mask(profile->xss_at_capture) : json_null());
	cli_json_set(root, "components", components_json(profile));
	cli_json_set(root, "mxcsr_mask", cli_json_reg32(vx_profile_mxcsr_mask(profile)));
	cli_json_set(root, "linear_address_bits",
		     json_integer(vx_profile_linear_address_bits(profile)));
	cli_json_set(root, "diagnostics", profile_diagnostics_json(profile));
	/* Always: the leaves are what makes the document a profile that reads back
	 * (--cpuid-dump FILE.json; docs/cli.md "JSON output"). */
	(void)raw;
	cli_json_set(root, "raw_leaves", raw_leaves_json(profile));
	return root;
}
