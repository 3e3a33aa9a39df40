/* SPDX-License-Identifier: MIT */
/*
 * The `vxsave cpu` script language, part 3: `print BUFFER` - a hex dump of an XSAVE area that
 * says what every byte range is.  The library decodes the area (vx_area_decode: the header
 * decides the format, XCOMP_BV bit 63, arch.md §2.3; compacted offsets from XCOMP_BV[62:0]
 * with 64-byte alignment, standard ones from the CPU's fixed offsets for XCR0|XSTATE_BV, §2.4)
 * and names its registers (vx_area_field_at); this file only words and prints it.
 * Runs of zero rows are folded so an 8 KiB tile area stays readable.
 */
#include <string.h>

#include <vxsave/area.h>

#include "cpu_script_internal.h"

#define AREA_LABEL_MAX 128
#define AREA_ROW_BYTES 16u

/* The bytes of one dump: the area as the buffer holds it. */
struct area_view {
	const uint8_t *bytes;
	uint64_t available; /* bytes from the area start to the end of the buffer */
};

static uint64_t read_u64(const struct area_view *view, uint64_t offset, unsigned width)
{
	return vx_area_read(view->bytes, (size_t)view->available, offset, width);
}

/* The legacy pieces by their first byte (arch.md §2.2). */
static void legacy_label(char *label, size_t len, uint64_t start, const struct area_view *view)
{
	if (start == 0)
		snprintf(label, len, "x87 control: FCW=0x%04llx FSW=0x%04llx FTW=0x%02llx",
			 (unsigned long long)read_u64(view, 0, 2),
			 (unsigned long long)read_u64(view, 2, 2),
			 (unsigned long long)read_u64(view, 4, 1));
	else if (start == VX_MXCSR_OFFSET)
		snprintf(label, len, "SSE: MXCSR=%#llx MXCSR_MASK=%#llx",
			 (unsigned long long)read_u64(view, VX_MXCSR_OFFSET, 4),
			 (unsigned long long)read_u64(view, VX_MXCSR_MASK_OFFSET, 4));
	else if (start == 32)
		snprintf(label, len, "x87: ST0-ST7");
	else
		snprintf(label, len, "SSE: XMM0-XMM15");
}

/* CET and PKRU carry values worth reading in the label (arch.md §2.5). */
static void component_label(char *label, size_t len, unsigned id, const struct area_view *view,
			    uint64_t offset)
{
	const struct vx_component_info *info = vx_component_info(id);
	const char *name = info ? info->name : "?";
	const char *long_name = info ? info->long_name : "unknown component";

	switch (id) {
	case VX_COMP_PKRU:
		snprintf(label, len, "%s: PKRU=%#llx", name,
			 (unsigned long long)read_u64(view, offset, 4));
		break;
	case VX_COMP_CET_U:
		snprintf(label, len, "%s: U_CET=%#llx PL3_SSP=%#llx", name,
			 (unsigned long long)read_u64(view, offset, 8),
			 (unsigned long long)read_u64(view, offset + 8, 8));
		break;
	case VX_COMP_CET_S:
		snprintf(label, len, "%s: PL0_SSP=%#llx PL1_SSP=%#llx PL2_SSP=%#llx", name,
			 (unsigned long long)read_u64(view, offset, 8),
			 (unsigned long long)read_u64(view, offset + 8, 8),
			 (unsigned long long)read_u64(view, offset + 16, 8));
		break;
	default:
		snprintf(label, len, "%s: %s", name, long_name);
		break;
	}
}

static void region_label(char *label, size_t len, const struct vx_area_map *map,
			 const struct vx_area_region *region, const struct area_view *view)
{
	switch (region->kind) {
	case VX_AREA_REGION_COMPONENT:
		if (region->component <= VX_COMP_SSE)
			legacy_label(label, len, region->start, view);
		else
			component_label(label, len, (unsigned)region->component, view,
					region->start);
		break;
	case VX_AREA_REGION_RESERVED:
		snprintf(label, len, "legacy region, reserved");
		break;
	case VX_AREA_REGION_SOFTWARE:
		snprintf(label, len, "available to software (never written by XSAVE*)");
		break;
	case VX_AREA_REGION_HEADER:
		snprintf(label, len, "XSAVE header: XSTATE_BV, XCOMP_BV, reserved");
		break;
	case VX_AREA_REGION_HOLE:
		snprintf(label, len, "%s", map->format == VX_AREA_COMPACTED
					? "padding (64-byte alignment, no component)"
					: "unused (no component of XCR0|XSTATE_BV lives here)");
		break;
	default:
		snprintf(label, len, "past the end of the area");
		break;
	}
}

static bool row_is_zero(const uint8_t *bytes, uint64_t length)
{
	for (uint64_t i = 0; i < length; i++)
		if (bytes[i])
			return false;
	return true;
}

/*
 * The registers of @region's component that start in [from, to): "xmm1", "k0 k1", or for a
 * folded run "xmm2..xmm15".  Empty when the region holds no named register there.
 */
static void row_registers(const struct vx_area_region *region, uint64_t from, uint64_t to,
			  bool range, char *buf, size_t len)
{
	const char *first = NULL, *last = NULL;
	size_t used = 0;

	buf[0] = '\0';
	if (region->component < 0)
		return;
	for (unsigned i = 0; i < vx_area_field_count(); i++) {
		const struct vx_area_field *reg = vx_area_field_at(i);
		uint64_t start;

		if (!reg || reg->component != (unsigned)region->component)
			continue;
		start = region->base + reg->offset;
		if (start < from || start >= to || start < region->start || start >= region->end)
			continue;
		if (!first)
			first = reg->name;
		last = reg->name;
		if (range)
			continue;
		if (used + strlen(reg->name) + 5 >= len) {
			snprintf(buf + used, len - used, " ...");
			return;
		}
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "",
					 reg->name);
	}
	if (range && first && first == last)
		snprintf(buf, len, "%s", first);
	else if (range && first)
		snprintf(buf, len, "%s..%s", first, last);
}

static void print_row(FILE *out, const struct vx_area_region *region, const uint8_t *bytes,
		      uint64_t offset, uint64_t length)
{
	char names[AREA_LABEL_MAX];

	fprintf(out, "    0x%04llx ", (unsigned long long)offset);
	for (uint64_t i = 0; i < length; i++)
		fprintf(out, "%s%02x", i == 8 ? "  " : " ", bytes[i]);
	row_registers(region, offset, offset + AREA_ROW_BYTES, false, names, sizeof(names));
	if (names[0]) {
		/* line the names up whatever the row length */
		for (uint64_t i = length; i < AREA_ROW_BYTES; i++)
			fputs(i == 8 ? "    " : "   ", out);
		fprintf(out, "  %s", names);
	}
	fputc('\n', out);
}

/* Rows of [from, to) relative to the area; two or more zero rows fold into one line. */
static void print_rows(FILE *out, const struct vx_area_region *region, const struct area_view *view,
		       uint64_t from, uint64_t to)
{
	char names[AREA_LABEL_MAX];

	uint64_t offset = from;

	while (offset < to) {
		uint64_t length = to - offset < AREA_ROW_BYTES ? to - offset : AREA_ROW_BYTES;
		uint64_t run = offset;

		while (run < to && to - run >= AREA_ROW_BYTES &&
		       row_is_zero(view->bytes + run, AREA_ROW_BYTES))
			run += AREA_ROW_BYTES;
		if (run - offset >= 2 * AREA_ROW_BYTES) {
			row_registers(region, offset, run, true, names, sizeof(names));
			fprintf(out, "    0x%04llx  zero to 0x%04llx (%llu bytes%s%s)\n",
				(unsigned long long)offset, (unsigned long long)(run - 1),
				(unsigned long long)(run - offset), names[0] ? ": " : "", names);
			offset = run;
			continue;
		}
		print_row(out, region, view->bytes + offset, offset, length);
		offset += length;
	}
}

/* First non-zero header byte in [from, to), or -1. */
static int first_nonzero_header_byte(const struct area_view *view, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++)
		if (view->bytes[VX_HEADER_OFFSET + i])
			return (int)i;
	return -1;
}

/* What a restore of this header would object to (arch.md §2.3, §5.5, §5.6). */
static void header_notes(FILE *out, uint64_t xcr0, const struct area_view *view,
			 uint64_t xstate_bv, uint64_t xcomp_bv)
{
	bool compacted = xcomp_bv & VX_XCOMP_BV_COMPACTED;
	uint64_t format = xcomp_bv & ~VX_XCOMP_BV_COMPACTED;
	int byte;

	if (compacted) {
		if (xstate_bv & ~format)
			fprintf(out, "  note: XSTATE_BV has bits outside XCOMP_BV[62:0] (%#llx): "
				"XRSTOR/XRSTORS would #GP(0)\n",
				(unsigned long long)(xstate_bv & ~format));
		byte = first_nonzero_header_byte(view, 16, VX_HEADER_SIZE);
		if (byte >= 0)
			fprintf(out, "  note: header byte %d (area offset %u) is not zero: "
				"XRSTOR/XRSTORS would #GP(0)\n", byte,
				VX_HEADER_OFFSET + (unsigned)byte);
		return;
	}
	if (xstate_bv & ~xcr0)
		fprintf(out,
			"  note: XSTATE_BV has bits outside XCR0 (%#llx): XRSTOR would #GP(0)\n",
			(unsigned long long)(xstate_bv & ~xcr0));
	byte = first_nonzero_header_byte(view, 8, 24);
	if (byte >= 0)
		fprintf(out, "  note: header byte %d (area offset %u) is not zero: XRSTOR would "
			"#GP(0)\n", byte, VX_HEADER_OFFSET + (unsigned)byte);
	byte = first_nonzero_header_byte(view, 24, VX_HEADER_SIZE);
	if (byte >= 0)
		fprintf(out, "  note: header byte %d (area offset %u) is not zero: standard-form "
			"XRSTOR does not check bytes 24-63\n", byte,
			VX_HEADER_OFFSET + (unsigned)byte);
}

static void print_header_summary(FILE *out, const struct vx_profile *profile, uint64_t xcr0,
				 const struct area_view *view)
{
	uint64_t xstate_bv = read_u64(view, VX_XSTATE_BV_OFFSET, 8);
	uint64_t xcomp_bv = read_u64(view, VX_XCOMP_BV_OFFSET, 8);
	uint64_t layout = xcomp_bv & ~VX_XCOMP_BV_COMPACTED;
	char names[256];

	vx_format_component_mask(xstate_bv, names, sizeof(names));
	fprintf(out, "  XSTATE_BV = %#llx (%s)\n", (unsigned long long)xstate_bv,
		xstate_bv ? names : "none");
	if (xcomp_bv & VX_XCOMP_BV_COMPACTED) {
		vx_format_component_mask(layout, names, sizeof(names));
		fprintf(out, "  XCOMP_BV  = %#llx: compacted format, components %s, %u bytes\n",
			(unsigned long long)xcomp_bv, layout ? names : "none",
			vx_compacted_size(profile, layout));
	} else {
		uint64_t standard = (xcr0 | xstate_bv) & vx_user_components();

		vx_format_component_mask(standard, names, sizeof(names));
		fprintf(out,
			"  XCOMP_BV  = %#llx: standard format (XRSTORS refuses it), laid out "
			"for XCR0|XSTATE_BV = %s, %u bytes\n", (unsigned long long)xcomp_bv, names,
			vx_standard_size(profile, standard));
	}
	header_notes(out, xcr0, view, xstate_bv, xcomp_bv);
}

void cs_print_area(FILE *out, const struct vx_profile *profile, uint64_t xcr0,
		   const struct cs_buffer *buffer, uint64_t area_offset, uint64_t from,
		   uint64_t length)
{
	struct area_view view = {buffer->bytes + area_offset, buffer->size - area_offset};
	struct vx_area_map map;
	uint64_t to = from + length;

	fprintf(out, "%s+%#llx at linear %#llx, %llu bytes in the buffer:\n", buffer->name,
		(unsigned long long)area_offset, (unsigned long long)buffer->base + area_offset,
		(unsigned long long)view.available);
	vx_area_decode(profile, view.bytes, (size_t)view.available, xcr0, &map);
	if (map.has_header)
		print_header_summary(out, profile, xcr0, &view);
	for (unsigned i = 0; i < map.count; i++) {
		const struct vx_area_region *region = &map.regions[i];
		uint64_t start = region->start > from ? region->start : from;
		uint64_t end = region->end < to ? region->end : to;
		char label[AREA_LABEL_MAX];

		if (end > view.available)
			end = view.available;
		if (start >= end)
			continue;
		region_label(label, sizeof(label), &map, region, &view);
		fprintf(out, "  [0x%04llx-0x%04llx] %s\n", (unsigned long long)region->start,
			(unsigned long long)(region->end - 1), label);
		print_rows(out, region, &view, start, end);
	}
}
