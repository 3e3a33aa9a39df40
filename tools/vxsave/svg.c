/* SPDX-License-Identifier: MIT */
/*
 * `vxsave layout --svg FILE`: the standard and the compacted XSAVE area side by side, to scale
 * (one vertical bar per format, offsets growing downwards, the same scale for both).
 *
 * Every byte range gets a box of its true height (at least a hairline); boxes tall enough carry
 * their label inside, the others are labelled to the right with a leader line, so even the
 * 8-byte PKRU stays readable next to the 8 KiB of AMX tile data without distorting the scale.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "layout_report.h"

#define SVG_MARGIN        24.0
#define SVG_AXIS_WIDTH    56.0 /* offset ticks left of each bar */
#define SVG_BAR_WIDTH     230.0
#define SVG_LABEL_WIDTH   250.0 /* side labels right of each bar */
#define SVG_COLUMN_GAP    24.0
#define SVG_TOP           150.0 /* title, subtitle, scale note, column headings */
#define SVG_FOOTER        150.0 /* totals and legend */
#define SVG_MAX_BAR_PX    3000.0
#define SVG_LINE          14.0 /* distance between stacked side labels */
#define SVG_TWO_LINE_MIN  30.0 /* box height that holds a two-line inside label */
#define SVG_ONE_LINE_MIN  15.0
#define SVG_MAX_BLOCKS    (2 * VX_COMP_LIMIT + 8)
#define SVG_FONT          "DejaVu Sans, Helvetica, Arial, sans-serif"

enum block_kind {
	BLOCK_COMPONENT,
	BLOCK_MXCSR,    /* MXCSR/MXCSR_MASK: SSE state inside the x87 part of the legacy region */
	BLOCK_HEADER,   /* XSTATE_BV, XCOMP_BV, reserved (§2.3) */
	BLOCK_RESERVED, /* legacy bytes 416-511 */
	BLOCK_PADDING,  /* compacted format: 64-byte alignment before an align64 component */
	BLOCK_UNUSED,   /* standard format: space of components not in the mask */
};

struct block {
	enum block_kind kind;
	unsigned component;
	bool supervisor;
	uint32_t offset;
	uint32_t size;
};

struct column {
	const char *title;
	const char *subtitle;
	double x;
	double label_y; /* the next free line for side labels */
	struct block blocks[SVG_MAX_BLOCKS];
	unsigned count;
	uint32_t total;
};

struct drawing {
	FILE *out;
	double bytes_per_px;
	struct column columns[2];
	double bottom; /* lowest y used by bars or labels */
};

/* ----------------------------------------------------------------------------------------- */
/* building the two columns                                                                    */

static void add_block(struct column *column, enum block_kind kind, unsigned component,
		      uint32_t offset, uint32_t size)
{
	struct block *b;

	if (column->count >= SVG_MAX_BLOCKS || size == 0)
		return;
	b = &column->blocks[column->count++];
	*b = (struct block){.kind = kind, .component = component, .offset = offset, .size = size};
	if (kind == BLOCK_COMPONENT) {
		const struct vx_component_info *info = vx_component_info(component);

		b->supervisor = info && info->supervisor;
	}
}

static int compare_blocks(const void *a, const void *b)
{
	const struct block *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->size > y->size ? -1 : x->size < y->size;
}

/* Fill the holes between blocks (after sorting) with unused or padding blocks. */
static void add_gaps(struct column *column, enum block_kind gap_kind)
{
	unsigned count = column->count;
	uint32_t end = 0;

	qsort(column->blocks, count, sizeof(column->blocks[0]), compare_blocks);
	for (unsigned i = 0; i < count; i++) {
		const struct block *b = &column->blocks[i];

		if (b->kind == BLOCK_MXCSR)
			continue;
		if (b->offset > end)
			add_block(column, end < VX_LEGACY_SIZE ? BLOCK_RESERVED : gap_kind, 0, end,
				  b->offset - end);
		if (b->offset + b->size > end)
			end = b->offset + b->size;
	}
	qsort(column->blocks, column->count, sizeof(column->blocks[0]), compare_blocks);
}

static void add_fixed_regions(struct column *column, const struct vx_layout *layout)
{
	for (unsigned i = 0; i < layout->count; i++) {
		const struct vx_layout_entry *e = &layout->entries[i];

		if (e->component == VX_COMP_X87)
			add_block(column, BLOCK_COMPONENT, VX_COMP_X87, 0, VX_XMM_OFFSET);
		if (e->component == VX_COMP_SSE) {
			add_block(column, BLOCK_COMPONENT, VX_COMP_SSE, VX_XMM_OFFSET, 256);
			add_block(column, BLOCK_MXCSR, VX_COMP_SSE, VX_MXCSR_OFFSET, 8);
		}
	}
	add_block(column, BLOCK_HEADER, 0, VX_HEADER_OFFSET, VX_HEADER_SIZE);
}

static void build_standard(struct column *column, const struct vx_layout *layout)
{
	add_fixed_regions(column, layout);
	for (unsigned i = 0; i < layout->count; i++) {
		const struct vx_layout_entry *e = &layout->entries[i];

		if (e->component >= 2 && e->in_standard)
			add_block(column, BLOCK_COMPONENT, e->component, e->standard_offset,
				  e->size);
	}
	add_gaps(column, BLOCK_UNUSED);
	column->total = layout->standard_size;
}

static void build_compacted(struct column *column, const struct vx_layout *layout)
{
	add_fixed_regions(column, layout);
	for (unsigned i = 0; i < layout->count; i++) {
		const struct vx_layout_entry *e = &layout->entries[i];

		if (e->component >= 2)
			add_block(column, BLOCK_COMPONENT, e->component, e->compacted_offset,
				  e->size);
	}
	add_gaps(column, BLOCK_PADDING);
	column->total = layout->compacted_size;
}

/* A power of two bytes per pixel, so the tallest bar fits SVG_MAX_BAR_PX. */
static double choose_scale(uint32_t largest)
{
	double bytes_per_px = 1.0;

	while (largest / bytes_per_px > SVG_MAX_BAR_PX)
		bytes_per_px *= 2.0;
	return bytes_per_px;
}

/* ----------------------------------------------------------------------------------------- */
/* SVG primitives                                                                              */

static void put_escaped(FILE *out, const char *text)
{
	for (; *text; text++) {
		switch (*text) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*text, out);
		}
	}
}

/* <text> with @attributes (already valid XML) and escaped @content. */
static void put_text(FILE *out, double x, double y, const char *attributes, const char *content)
{
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attributes);
	put_escaped(out, content);
	fputs("</text>\n", out);
}

static double y_of(const struct drawing *d, uint32_t offset)
{
	return SVG_TOP + offset / d->bytes_per_px;
}

/* Component colours: related components share a hue (AVX-512 blues, AMX greens, CET reds). */
static const char *component_fill(unsigned id)
{
	switch (id) {
	case VX_COMP_X87:
		return "#d9cbb0";
	case VX_COMP_SSE:
		return "#c9d8a8";
	case VX_COMP_AVX:
		return "#9ecae1";
	case VX_COMP_BNDREGS:
	case VX_COMP_BNDCSR:
		return "#d4b9da";
	case VX_COMP_OPMASK:
		return "#6baed6";
	case VX_COMP_ZMM_HI256:
		return "#4292c6";
	case VX_COMP_HI16_ZMM:
		return "#7fa7d9";
	case VX_COMP_PKRU:
		return "#fdae6b";
	case VX_COMP_CET_U:
		return "#fb6a4a";
	case VX_COMP_CET_S:
		return "#ef3b2c";
	case VX_COMP_XTILECFG:
		return "#74c476";
	case VX_COMP_XTILEDATA:
		return "#a1d99b";
	case VX_COMP_APX:
		return "#bcbddc";
	case VX_COMP_LBR:
		return "#e7cb94";
	default:
		return "#f2d0a4";
	}
}

static void put_definitions(FILE *out)
{
	fputs("<defs>\n"
	      "<pattern id=\"padding\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" "
	      "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>"
	      "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#d62728\" stroke-width=\"1.6\"/>"
	      "</pattern>\n"
	      "<pattern id=\"unused\" patternUnits=\"userSpaceOnUse\" width=\"8\" height=\"8\" "
	      "patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#f7f7f7\"/>"
	      "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#c8c8c8\" stroke-width=\"1.2\"/>"
	      "</pattern>\n"
	      "</defs>\n",
	      out);
}

/* ----------------------------------------------------------------------------------------- */
/* blocks                                                                                      */

static const char *block_fill(const struct block *b)
{
	switch (b->kind) {
	case BLOCK_COMPONENT:
	case BLOCK_MXCSR:
		return component_fill(b->component);
	case BLOCK_HEADER:
		return "#bdbdbd";
	case BLOCK_RESERVED:
		return "#e0e0e0";
	case BLOCK_PADDING:
		return "url(#padding)";
	case BLOCK_UNUSED:
		return "url(#unused)";
	}
	return "#ffffff";
}

static void block_name(const struct block *b, char *buf, size_t len)
{
	const struct vx_component_info *info = vx_component_info(b->component);

	switch (b->kind) {
	case BLOCK_COMPONENT:
		snprintf(buf, len, "%s%s", info ? info->name : "?", b->supervisor ? " (S)" : "");
		break;
	case BLOCK_MXCSR:
		snprintf(buf, len, "MXCSR+MXCSR_MASK (SSE)");
		break;
	case BLOCK_HEADER:
		snprintf(buf, len, "XSAVE header");
		break;
	case BLOCK_RESERVED:
		snprintf(buf, len, "legacy reserved");
		break;
	case BLOCK_PADDING:
		snprintf(buf, len, "align64 padding");
		break;
	case BLOCK_UNUSED:
		snprintf(buf, len, "unused");
		break;
	}
}

static void block_detail(const struct block *b, char *buf, size_t len)
{
	snprintf(buf, len, "@%u (0x%x) \xc2\xb7 %u B", b->offset, b->offset, b->size);
}

static void put_box(struct drawing *d, const struct column *c, const struct block *b)
{
	double y = y_of(d, b->offset), height = b->size / d->bytes_per_px;
	double inset = b->kind == BLOCK_MXCSR ? SVG_BAR_WIDTH * 0.75 : 0.0;

	if (height < 1.5)
		height = 1.5;
	fprintf(d->out,
		"<rect x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\" fill=\"%s\" "
		"stroke=\"#333333\" stroke-width=\"0.6\"%s/>\n",
		c->x + inset, y, SVG_BAR_WIDTH - inset, height, block_fill(b),
		b->supervisor ? " stroke-dasharray=\"4 2\"" : "");
}

static bool label_inside(const struct drawing *d, const struct block *b)
{
	return b->kind != BLOCK_MXCSR && b->size / d->bytes_per_px >= SVG_ONE_LINE_MIN;
}

static void put_inside_label(struct drawing *d, const struct column *c, const struct block *b)
{
	double top = y_of(d, b->offset), height = b->size / d->bytes_per_px;
	const char *style = b->kind == BLOCK_COMPONENT ? "font-size=\"12\" font-weight=\"bold\""
						       : "font-size=\"11\" fill=\"#444444\"";
	char name[64], detail[64];
	double y;

	block_name(b, name, sizeof(name));
	block_detail(b, detail, sizeof(detail));
	if (height < SVG_TWO_LINE_MIN) {
		char line[136];

		snprintf(line, sizeof(line), "%s  %s", name, detail);
		put_text(d->out, c->x + 6, top + height / 2 + 4, style, line);
		return;
	}
	/* Big boxes (TILEDATA) keep the label near their start, where the offset is. */
	y = height > 120 ? top + 18 : top + height / 2 - 2;
	put_text(d->out, c->x + 6, y, style, name);
	put_text(d->out, c->x + 6, y + 14, "font-size=\"11\" fill=\"#222222\"", detail);
}

static void put_side_label(struct drawing *d, struct column *c, const struct block *b)
{
	double top = y_of(d, b->offset), height = b->size / d->bytes_per_px;
	double anchor = top + (height < 1.5 ? 1.5 : height) / 2;
	double y = anchor + 4 > c->label_y ? anchor + 4 : c->label_y;
	double x = c->x + SVG_BAR_WIDTH;
	bool minor = b->kind != BLOCK_COMPONENT && b->kind != BLOCK_MXCSR;
	char name[64], detail[64], line[136];

	block_name(b, name, sizeof(name));
	block_detail(b, detail, sizeof(detail));
	snprintf(line, sizeof(line), "%s  %s", name, detail);
	fprintf(d->out,
		"<polyline points=\"%.1f,%.2f %.1f,%.2f %.1f,%.2f\" fill=\"none\" "
		"stroke=\"#777777\" stroke-width=\"0.8\"/>\n",
		x, anchor, x + 10, anchor, x + 18, y - 4);
	put_text(d->out, x + 22, y,
		 minor ? "font-size=\"11\" font-style=\"italic\" fill=\"#666666\""
		       : "font-size=\"11\" fill=\"#111111\"",
		 line);
	c->label_y = y + SVG_LINE;
	if (c->label_y > d->bottom)
		d->bottom = c->label_y;
}

/* ----------------------------------------------------------------------------------------- */
/* columns, axis, title, footer                                                                */

static void put_axis(struct drawing *d, const struct column *c)
{
	uint32_t step = (uint32_t)(d->bytes_per_px * 128);

	fprintf(d->out,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#999999\"/>\n",
		c->x - 4, SVG_TOP, c->x - 4, y_of(d, c->total));
	for (uint32_t offset = 0; offset <= c->total; offset += step) {
		char text[24];

		snprintf(text, sizeof(text), "%u", offset);
		fprintf(d->out,
			"<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" "
			"stroke=\"#999999\"/>\n",
			c->x - 8, y_of(d, offset), c->x - 4, y_of(d, offset));
		put_text(d->out, c->x - 10, y_of(d, offset) + 3,
			 "font-size=\"9\" fill=\"#777777\" text-anchor=\"end\"", text);
	}
}

static void put_column_end(struct drawing *d, const struct column *c)
{
	double y = y_of(d, c->total);
	char text[64];

	fprintf(d->out,
		"<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#000000\" "
		"stroke-width=\"2\"/>\n",
		c->x - 8, y, c->x + SVG_BAR_WIDTH, y);
	snprintf(text, sizeof(text), "end: %u bytes (0x%x)", c->total, c->total);
	put_text(d->out, c->x, y + 16, "font-size=\"12\" font-weight=\"bold\"", text);
	if (y + 16 > d->bottom)
		d->bottom = y + 16;
}

static void put_column(struct drawing *d, struct column *c)
{
	put_text(d->out, c->x, SVG_TOP - 26, "font-size=\"15\" font-weight=\"bold\"", c->title);
	put_text(d->out, c->x, SVG_TOP - 10, "font-size=\"11\" fill=\"#555555\"", c->subtitle);
	put_axis(d, c);
	for (unsigned i = 0; i < c->count; i++)
		put_box(d, c, &c->blocks[i]);
	for (unsigned i = 0; i < c->count; i++) {
		if (label_inside(d, &c->blocks[i]))
			put_inside_label(d, c, &c->blocks[i]);
		else
			put_side_label(d, c, &c->blocks[i]);
	}
	put_column_end(d, c);
}

static void put_title(struct drawing *d, const struct vx_profile *profile,
		      const struct vx_layout *layout)
{
	char text[1400], names[1024];

	snprintf(text, sizeof(text), "XSAVE layout of %s (%s), features 0x%llx",
		 profile->name[0] ? profile->name : "(unnamed profile)",
		 vx_vendor_name(vx_profile_vendor(profile)), (unsigned long long)layout->features);
	put_text(d->out, SVG_MARGIN, 34, "font-size=\"20\" font-weight=\"bold\"", text);
	cli_mask_names(layout->features, names, sizeof(names));
	put_text(d->out, SVG_MARGIN, 56, "font-size=\"12\" fill=\"#333333\"", names);
	snprintf(text, sizeof(text),
		 "True scale, 1 px = %.0f byte%s, same scale in both columns; small ranges are "
		 "labelled at the side.",
		 d->bytes_per_px, d->bytes_per_px > 1 ? "s" : "");
	put_text(d->out, SVG_MARGIN, 76, "font-size=\"11\" fill=\"#555555\"", text);
}

static void put_legend_item(FILE *out, double x, double y, const char *fill, bool dashed,
			    const char *label)
{
	fprintf(out,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"12\" fill=\"%s\" "
		"stroke=\"#333333\" stroke-width=\"0.6\"%s/>\n",
		x, y - 10, fill, dashed ? " stroke-dasharray=\"4 2\"" : "");
	put_text(out, x + 24, y, "font-size=\"11\"", label);
}

static void put_footer(struct drawing *d, const struct vx_layout *layout)
{
	double y = d->bottom + 36;
	char text[256];

	snprintf(text, sizeof(text),
		 "Standard format: %u bytes (0x%x), XSAVE/XSAVEOPT/XRSTOR, user components at "
		 "their CPUID offsets.",
		 layout->standard_size, layout->standard_size);
	put_text(d->out, SVG_MARGIN, y, "font-size=\"13\" font-weight=\"bold\"", text);
	snprintf(text, sizeof(text),
		 "Compacted format: %u bytes (0x%x), XSAVEC/XSAVES, XCOMP_BV = 0x%llx.",
		 layout->compacted_size, layout->compacted_size,
		 (unsigned long long)(layout->features | VX_XCOMP_BV_COMPACTED));
	put_text(d->out, SVG_MARGIN, y + 20, "font-size=\"13\" font-weight=\"bold\"", text);
	y += 48;
	put_legend_item(d->out, SVG_MARGIN, y, "#9ecae1", false, "user component (XCR0)");
	put_legend_item(d->out, SVG_MARGIN + 190, y, "#fb6a4a", true,
			"supervisor component (IA32_XSS), compacted only");
	put_legend_item(d->out, SVG_MARGIN + 510, y, "#bdbdbd", false, "legacy reserved / header");
	y += 20;
	put_legend_item(d->out, SVG_MARGIN, y, "url(#padding)", false,
			"64-byte alignment padding (align64)");
	put_legend_item(d->out, SVG_MARGIN + 300, y, "url(#unused)", false,
			"standard-format space of components not in the mask");
}

/* ----------------------------------------------------------------------------------------- */

static void setup_columns(struct drawing *d, const struct vx_layout *layout)
{
	struct column *standard = &d->columns[0], *compacted = &d->columns[1];

	standard->title = "Standard format";
	standard->subtitle = "XSAVE, XSAVEOPT, XRSTOR: user components only";
	standard->x = SVG_MARGIN + SVG_AXIS_WIDTH;
	compacted->title = "Compacted format";
	compacted->subtitle = "XSAVEC, XSAVES, XRSTORS: packed by index";
	compacted->x = standard->x + SVG_BAR_WIDTH + SVG_LABEL_WIDTH + SVG_COLUMN_GAP +
		       SVG_AXIS_WIDTH;
	build_standard(standard, layout);
	build_compacted(compacted, layout);
	for (unsigned i = 0; i < 2; i++)
		d->columns[i].label_y = SVG_TOP;
	d->bytes_per_px = choose_scale(standard->total > compacted->total ? standard->total
									   : compacted->total);
	d->bottom = SVG_TOP;
}

/* The body goes to a temporary stream first: the canvas height is known only at the end. */
static int write_body(struct drawing *d, const struct vx_profile *profile,
		      const struct vx_layout *layout)
{
	put_title(d, profile, layout);
	for (unsigned i = 0; i < 2; i++)
		put_column(d, &d->columns[i]);
	put_footer(d, layout);
	return ferror(d->out) ? -EIO : 0;
}

static int copy_stream(FILE *from, FILE *to)
{
	char buffer[8192];
	size_t got;

	rewind(from);
	while ((got = fread(buffer, 1, sizeof(buffer), from)) > 0)
		if (fwrite(buffer, 1, got, to) != got)
			return -EIO;
	return ferror(from) ? -EIO : 0;
}

int layout_write_svg(FILE *out, const struct vx_profile *profile, const struct vx_layout *layout)
{
	struct drawing *d = calloc(1, sizeof(*d));
	double width = SVG_MARGIN * 2 + 2 * (SVG_AXIS_WIDTH + SVG_BAR_WIDTH + SVG_LABEL_WIDTH) +
		       SVG_COLUMN_GAP;
	FILE *body = tmpfile();
	int rc;

	if (!d || !body) {
		rc = errno ? -errno : -ENOMEM;
		goto out;
	}
	setup_columns(d, layout);
	d->out = body;
	rc = write_body(d, profile, layout);
	if (rc)
		goto out;
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\">\n",
		width, d->bottom + SVG_FOOTER, width, d->bottom + SVG_FOOTER, SVG_FONT);
	fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
	put_definitions(out);
	rc = copy_stream(body, out);
	fputs("</svg>\n", out);
	if (!rc && ferror(out))
		rc = -EIO;
out:
	if (body)
		fclose(body);
	free(d);
	return rc;
}
