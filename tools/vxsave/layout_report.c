/* SPDX-License-Identifier: MIT */
/*
 * The text and JSON reports of `vxsave layout` (arch.md §2.4): one row per component with its
 * standard and compacted offsets, the totals, what CPUID says about the same sizes, and the
 * profile's own diagnostics.
 */
#include "layout_report.h"

#include <string.h>

#include "cli.h"
#include "json_output.h"
#include "profile_report.h"

/* ----------------------------------------------------------------------------------------- */
/* shared computations                                                                         */

uint32_t layout_padding_before(const struct vx_layout *layout, unsigned index)
{
	uint32_t previous_end = VX_EXTENDED_OFFSET;
	const struct vx_layout_entry *entry = &layout->entries[index];

	if (entry->component < 2)
		return 0;
	/* Entries are in component order, which is compacted order (§2.4). */
	for (unsigned i = 0; i < index; i++) {
		const struct vx_layout_entry *before = &layout->entries[i];

		if (before->component >= 2)
			previous_end = before->compacted_offset + before->size;
	}
	return entry->compacted_offset > previous_end ? entry->compacted_offset - previous_end : 0;
}

/*
 * CPUID's sizes are defined for fixed masks (§1.2, §1.3), not for the mask being laid out:
 * 0xD.0 ECX for every supported XCR0 bit, 0xD.0 EBX for XCR0 as it was when the leaves were
 * read, 0xD.1 EBX for XCR0|XSS at that time.  Compare each with vxsave's size for its mask.
 */
void layout_cpuid_checks(const struct vx_profile *profile, const struct vx_layout *layout,
			 struct layout_cpuid_check checks[LAYOUT_CPUID_CHECKS])
{
	uint64_t xcr0_all = vx_profile_xcr0_supported(profile);
	uint64_t xcr0_now = profile->xcr0_at_capture;
	/* Without XSAVES there is no IA32_XSS, so an unrecorded XSS can only be 0. */
	bool xss_known = profile->xss_known || !vx_profile_xss_supported(profile);
	uint64_t both_now = xcr0_now && xss_known ? xcr0_now | profile->xss_at_capture : 0;

	checks[0] = (struct layout_cpuid_check){
		.what = "CPUID.(0xD,0).ECX",
		.key = "max_standard_size",
		.meaning = "standard size, all XCR0 bits",
		.reported = layout->cpuid_max_standard_size,
		.mask = xcr0_all,
		.computed = vx_standard_size(profile, xcr0_all),
	};
	checks[1] = (struct layout_cpuid_check){
		.what = "CPUID.(0xD,0).EBX",
		.key = "enabled_standard_size",
		.meaning = "standard size, XCR0 at capture",
		.reported = layout->cpuid_enabled_standard_size,
		.mask = xcr0_now,
		.computed = xcr0_now ? vx_standard_size(profile, xcr0_now) : 0,
	};
	checks[2] = (struct layout_cpuid_check){
		.what = "CPUID.(0xD,1).EBX",
		.key = "enabled_compacted_size",
		.meaning = "compacted size, XCR0|XSS at capture",
		.reported = layout->cpuid_enabled_compacted_size,
		.mask = both_now,
		.computed = both_now ? vx_compacted_size(profile, both_now) : 0,
	};
	/* §1.3: without XSAVEC and XSAVES there is no compacted format, and EBX means nothing. */
	if (!vx_profile_has(profile, VX_FEAT_XSAVEC) && !vx_profile_has(profile, VX_FEAT_XSAVES)) {
		checks[2].mask = 0;
		checks[2].computed = 0;
		checks[2].absent = "not enumerated: no XSAVEC or XSAVES (CPUID.(0xD,1).EAX[1] = "
				   "EAX[3] = 0)";
	}
}

static const char *component_name(unsigned id)
{
	const struct vx_component_info *info = vx_component_info(id);

	return info ? info->name : "?";
}

/* ----------------------------------------------------------------------------------------- */
/* text                                                                                        */

#define TABLE_RULE                                                                                 \
	"  ---  ----------  ---  -----  ------------  ------------  -----------  ---\n"

static void print_header(FILE *out, const struct vx_profile *profile,
			 const struct vx_layout *layout)
{
	uint64_t user = layout->features & ~vx_supervisor_components();
	uint64_t supervisor = layout->features & vx_supervisor_components();
	char hex[24], user_hex[24], supervisor_hex[24], names[1024];

	cli_format_hex(hex, sizeof(hex), layout->features);
	cli_format_hex(user_hex, sizeof(user_hex), user);
	cli_format_hex(supervisor_hex, sizeof(supervisor_hex), supervisor);
	fprintf(out, "XSAVE layout of %s (%s)\n",
		profile->name[0] ? profile->name : "(unnamed profile)",
		vx_vendor_name(vx_profile_vendor(profile)));
	fprintf(out, "  features  %s = XCR0 %s | IA32_XSS %s\n", hex, user_hex, supervisor_hex);
	cli_print_wrapped(out, "            ", "            ",
			  cli_mask_names(layout->features, names, sizeof(names)), '|');
	fprintf(out, "\n  %3s  %-10s  %-3s  %5s  %-12s  %-12s  %-11s  %s\n", "id", "component",
		"U/S", "size", "standard", "compacted", "align64", "xfd");
	fputs(TABLE_RULE, out);
}

/* " 2816 0x0b00": decimal for reading, hex for matching against dumps and debuggers. */
static void format_offset(char *buf, size_t len, uint32_t offset)
{
	snprintf(buf, len, "%5u 0x%04x", offset, offset);
}

/* Rows are built in a buffer so empty trailing columns leave no trailing blanks. */
static void print_row(FILE *out, const char *id, const char *name, const char *kind,
		      uint32_t size, const char *standard, const char *compacted, const char *align,
		      const char *xfd)
{
	char row[160];
	size_t length;

	snprintf(row, sizeof(row), "  %3s  %-10s  %-3s  %5u  %-12s  %-12s  %-11s  %s", id, name,
		 kind, size, standard, compacted, align, xfd);
	length = strlen(row);
	while (length && row[length - 1] == ' ')
		row[--length] = '\0';
	fprintf(out, "%s\n", row);
}

static void print_header_row(FILE *out)
{
	char where[24];

	format_offset(where, sizeof(where), VX_HEADER_OFFSET);
	print_row(out, "-", "(header)", "-", VX_HEADER_SIZE, where, where, "", "");
}

static void print_entry_row(FILE *out, const struct vx_layout *layout, unsigned index)
{
	const struct vx_layout_entry *e = &layout->entries[index];
	uint32_t padding = layout_padding_before(layout, index);
	char id[8], standard[24] = "    -", compacted[24], align[24] = "";

	snprintf(id, sizeof(id), "%u", e->component);
	if (e->in_standard)
		format_offset(standard, sizeof(standard), e->standard_offset);
	format_offset(compacted, sizeof(compacted), e->compacted_offset);
	if (e->align64)
		snprintf(align, sizeof(align), padding ? "yes (+%u B)" : "yes", padding);
	print_row(out, id, component_name(e->component), e->supervisor ? "S" : "U", e->size,
		  standard, compacted, align, e->xfd_capable ? "yes" : "");
}

static void print_rows(FILE *out, const struct vx_layout *layout)
{
	bool header_printed = false;

	for (unsigned i = 0; i < layout->count; i++) {
		/* The 64-byte XSAVE header sits between the legacy region and component 2. */
		if (!header_printed && layout->entries[i].component >= 2) {
			print_header_row(out);
			header_printed = true;
		}
		print_entry_row(out, layout, i);
	}
	if (!header_printed)
		print_header_row(out);
	fputs(TABLE_RULE, out);
}

static void print_sizes(FILE *out, const struct vx_layout *layout)
{
	fprintf(out, "  %-16s %5u bytes (0x%x)  XSAVE, XRSTOR: user components only\n",
		"standard size", layout->standard_size, layout->standard_size);
	fprintf(out, "  %-16s %5u bytes (0x%x)  XSAVEC, XSAVES: this mask, packed by index\n",
		"compacted size", layout->compacted_size, layout->compacted_size);
}

static void print_cpuid_check(FILE *out, const struct layout_cpuid_check *check)
{
	char hex[24] = "not recorded", meaning[96], computed[16] = "-";
	const char *verdict = "not compared";

	if (check->mask) {
		cli_format_hex(hex, sizeof(hex), check->mask);
		snprintf(computed, sizeof(computed), "%u", check->computed);
		verdict = check->computed == check->reported ? "ok" : "MISMATCH";
	}
	snprintf(meaning, sizeof(meaning), "%s %s", check->meaning, hex);
	if (check->absent) {
		/* No compacted format on this CPU: nothing to compare, and no false MISMATCH. */
		snprintf(meaning, sizeof(meaning), "compacted size (no XSAVEC, no XSAVES)");
		verdict = "not enumerated";
	}
	fprintf(out, "  %-17s  %-43s  %7u  %8s  %s\n", check->what, meaning, check->reported,
		computed, verdict);
}

static void print_cpuid_checks(FILE *out, const struct vx_profile *profile,
			       const struct vx_layout *layout)
{
	struct layout_cpuid_check checks[LAYOUT_CPUID_CHECKS];

	layout_cpuid_checks(profile, layout, checks);
	fprintf(out, "\n  %-17s  %-43s  %7s  %8s\n", "CPUID reports", "size of", "bytes",
		"computed");
	for (unsigned i = 0; i < LAYOUT_CPUID_CHECKS; i++)
		print_cpuid_check(out, &checks[i]);
}

void layout_report_text(FILE *out, const struct vx_profile *profile,
			const struct vx_layout *layout)
{
	print_header(out, profile, layout);
	print_rows(out, layout);
	print_sizes(out, layout);
	print_cpuid_checks(out, profile, layout);
	profile_diagnostics_text(out, profile);
}

/* ----------------------------------------------------------------------------------------- */
/* JSON                                                                                        */

static json_t *entry_json(const struct vx_layout *layout, unsigned index)
{
	const struct vx_layout_entry *e = &layout->entries[index];
	json_t *entry = json_object();

	cli_json_set(entry, "id", json_integer(e->component));
	cli_json_set(entry, "name", json_string(component_name(e->component)));
	cli_json_set(entry, "supervisor", json_boolean(e->supervisor));
	cli_json_set(entry, "size", json_integer(e->size));
	cli_json_set(entry, "standard_offset",
		     e->in_standard ? json_integer(e->standard_offset) : json_null());
	cli_json_set(entry, "compacted_offset", json_integer(e->compacted_offset));
	cli_json_set(entry, "align64", json_boolean(e->align64));
	cli_json_set(entry, "padding_before", json_integer(layout_padding_before(layout, index)));
	cli_json_set(entry, "xfd", json_boolean(e->xfd_capable));
	return entry;
}

static json_t *cpuid_checks_json(const struct vx_profile *profile, const struct vx_layout *layout)
{
	struct layout_cpuid_check checks[LAYOUT_CPUID_CHECKS];
	json_t *object = json_object();

	layout_cpuid_checks(profile, layout, checks);
	for (unsigned i = 0; i < LAYOUT_CPUID_CHECKS; i++) {
		const struct layout_cpuid_check *c = &checks[i];
		json_t *entry = json_object();

		cli_json_set(entry, "register", json_string(c->what));
		cli_json_set(entry, "reported", json_integer(c->reported));
		cli_json_set(entry, "mask", c->mask ? cli_json_hex(c->mask) : json_null());
		cli_json_set(entry, "computed", c->mask ? json_integer(c->computed) : json_null());
		cli_json_set(entry, "matches",
			     c->mask ? json_boolean(c->computed == c->reported) : json_null());
		if (c->absent)
			cli_json_set(entry, "note", json_string(c->absent));
		cli_json_set(object, c->key, entry);
	}
	return object;
}

json_t *layout_report_json(const struct vx_profile *profile, const struct vx_layout *layout)
{
	json_t *root = json_object(), *components = json_array();

	if (!root)
		return NULL;
	for (unsigned i = 0; i < layout->count; i++)
		json_array_append_new(components, entry_json(layout, i));
	cli_json_set(root, "profile", json_string(profile->name));
	cli_json_set(root, "vendor", json_string(vx_vendor_name(vx_profile_vendor(profile))));
	cli_json_set(root, "features", cli_json_mask(layout->features));
	cli_json_set(root, "xcr0", cli_json_hex(layout->features & ~vx_supervisor_components()));
	cli_json_set(root, "xss", cli_json_hex(layout->features & vx_supervisor_components()));
	cli_json_set(root, "components", components);
	cli_json_set(root, "standard_size", json_integer(layout->standard_size));
	cli_json_set(root, "compacted_size", json_integer(layout->compacted_size));
	cli_json_set(root, "cpuid", cpuid_checks_json(profile, layout));
	cli_json_set(root, "diagnostics", profile_diagnostics_json(profile));
	return root;
}
