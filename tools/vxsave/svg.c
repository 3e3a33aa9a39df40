/* SPDX-License-Identifier: MIT */
/*
 * `vxsave layout --svg FILE`: the standard and the compacted XSAVE area side by side (one
 * vertical bar per format, offsets growing downwards, the same bytes per pixel in both).
 *
 * Every byte range gets a box of its true height (at least a hairline); boxes tall and wide
 * enough carry their label inside, the others are labelled to the right with a leader line, so
 * even the 8-byte PKRU stays readable.  With the broken scale (the default) a range that would
 * dwarf the rest - AMX tile data is three quarters of a Sapphire Rapids area - is drawn
 * shortened between break marks, and everything else keeps its true scale; --svg-scale linear
 * draws every byte to scale.
 *
 * Text widths are estimated (svg_util.c: DejaVu Sans metrics, rounded up) so that the columns,
 * the canvas and the legend make room for the longest label instead of clipping it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "layout_report.h"
#include "svg_util.h"

#define SVG_MARGIN	 24.0
#define SVG_AXIS_WIDTH	 56.0 /* offset ticks left of each bar */
#define SVG_BAR_WIDTH	 230.0
#define SVG_LABEL_MIN	 250.0 /* room for side labels right of each bar, at least */
#define SVG_LABEL_GAP	 22.0  /* bar edge to the start of a side label */
#define SVG_COLUMN_GAP	 24.0
#define SVG_TOP		 150.0 /* title, subtitle, scale note, column headings */
#define SVG_MAX_BAR_PX	 3000.0
#define SVG_LINE	 14.0 /* distance between stacked side labels */
#define SVG_TWO_LINE_MIN 30.0 /* box height that holds a two-line inside label */
#define SVG_ONE_LINE_MIN 15.0
#define SVG_INSIDE_PAD	 6.0
#define SVG_MAX_BLOCKS	 (2 * VX_COMP_LIMIT + 8)
#define SVG_BREAK_PX	 90.0  /* drawn height of a shortened range */
#define SVG_BREAK_BYTES	 1024u /* a range at least this large that is more than half ... */
			       /* ... of what is still drawn to scale gets shortened */

enum block_kind {
	BLOCK_COMPONENT,
	BLOCK_MXCSR,	/* MXCSR/MXCSR_MASK: SSE state inside the x87 part of the legacy region */
	BLOCK_HEADER,	/* XSTATE_BV, XCOMP_BV, reserved (§2.3) */
	BLOCK_RESERVED, /* legacy bytes 416-511 */
	BLOCK_PADDING,	/* compacted format: 64-byte alignment before an align64 component */
	BLOCK_UNUSED,	/* standard format: space of components not in the mask */
};

struct block {
	enum block_kind kind;
	unsigned component;
	bool supervisor;
	bool broken; /* drawn shortened (broken scale) */
	uint64_t offset;
	uint64_t size;
};

/* A byte range [start, end) drawn SVG_BREAK_PX tall instead of to scale. */
struct axis_break {
	uint64_t start, end;
};

struct column {
	const char *title;
	const char *subtitle;
	double x;
	double label_y;	    /* the next free line for side labels */
	double label_width; /* the widest side label */
	struct block blocks[SVG_MAX_BLOCKS];
	unsigned count;
	struct axis_break breaks[SVG_MAX_BLOCKS];
	unsigned break_count;
	uint64_t broken_bytes;
	uint64_t total;
};

struct drawing {
	FILE *out;
	enum svg_scale scale;
	double bytes_per_px;
	struct column columns[2];
	double bottom; /* lowest y used by bars or labels */
	double right;  /* rightmost x used by text */
	double width;  /* canvas width */
};

/* ----------------------------------------------------------------------------------------- */
/* building the two columns                                                                    */

static void add_block(struct column *column, enum block_kind kind, unsigned component,
		      uint64_t offset, uint64_t size)
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
	uint64_t end = 0;

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

static bool overlaps_break(const struct column *c, const struct block *b)
{
	for (unsigned i = 0; i < c->break_count; i++)
		if (b->offset < c->breaks[i].end && c->breaks[i].start < b->offset + b->size)
			return true;
	return false;
}

static int compare_breaks(const void *a, const void *b)
{
	const struct axis_break *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Broken scale: while one range (at least SVG_BREAK_BYTES) is more than half of what is still
 * drawn to scale, shorten it - AMX tile data first, then for a sparse mask the unused space it
 * leaves in the standard format.  Breaks are kept sorted and disjoint.
 */
static void choose_breaks(struct column *column)
{
	for (;;) {
		uint64_t visible = column->total - column->broken_bytes;
		struct block *largest = NULL;

		for (unsigned i = 0; i < column->count; i++) {
			struct block *b = &column->blocks[i];

			if (b->kind == BLOCK_MXCSR || b->broken || overlaps_break(column, b))
				continue;
			if (!largest || b->size > largest->size)
				largest = b;
		}
		if (!largest || largest->size < SVG_BREAK_BYTES || largest->size * 2 <= visible ||
		    column->break_count >= SVG_MAX_BLOCKS)
			return;
		largest->broken = true;
		column->breaks[column->break_count++] =
		    (struct axis_break){largest->offset, largest->offset + largest->size};
		column->broken_bytes += largest->size;
		qsort(column->breaks, column->break_count, sizeof(column->breaks[0]),
		      compare_breaks);
	}
}

/* A power of two bytes per pixel, so that the taller drawn bar fits SVG_MAX_BAR_PX. */
static double choose_scale(const struct drawing *d)
{
	double bytes_per_px = 1.0;

	for (;;) {
		bool fits = true;

		for (unsigned i = 0; i < 2; i++) {
			const struct column *c = &d->columns[i];
			double px = (double)(c->total - c->broken_bytes) / bytes_per_px +
				    c->break_count * SVG_BREAK_PX;

			fits = fits && px <= SVG_MAX_BAR_PX;
		}
		if (fits || bytes_per_px >= 1048576.0)
			return bytes_per_px;
		bytes_per_px *= 2.0;
	}
}

/* ----------------------------------------------------------------------------------------- */
/* SVG primitives                                                                              */

/* <text> of @size px with extra @attributes (already valid XML) and escaped @content. */
static void put_text(struct drawing *d, double x, double y, double size, bool bold,
		     const char *attributes, const char *content)
{
	fprintf(d->out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\"%s %s>", x, y, size,
		bold ? " font-weight=\"bold\"" : "", attributes);
	svg_put_escaped(d->out, content);
	fputs("</text>\n", d->out);
	if (!strstr(attributes, "text-anchor=\"end\"") &&
	    x + svg_text_width(content, size, bold) > d->right)
		d->right = x + svg_text_width(content, size, bold);
}

/* Where byte @offset of column @c is drawn: linear, except across its breaks. */
static double y_of(const struct drawing *d, const struct column *c, uint64_t offset)
{
	double y = SVG_TOP;
	uint64_t previous = 0;

	for (unsigned i = 0; i < c->break_count; i++) {
		const struct axis_break *b = &c->breaks[i];

		if (offset <= b->start)
			break;
		y += (double)(b->start - previous) / d->bytes_per_px;
		if (offset < b->end)
			return y + SVG_BREAK_PX * (double)(offset - b->start) /
				       (double)(b->end - b->start);
		y += SVG_BREAK_PX;
		previous = b->end;
	}
	return y + (double)(offset - previous) / d->bytes_per_px;
}

static double block_height(const struct drawing *d, const struct column *c, const struct block *b)
{
	return y_of(d, c, b->offset + b->size) - y_of(d, c, b->offset);
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
		return "#d4b9da";
	case VX_COMP_BNDCSR:
		return "#c994c7";
	case VX_COMP_OPMASK:
		return "#6baed6";
	case VX_COMP_ZMM_HI256:
		return "#4292c6";
	case VX_COMP_HI16_ZMM:
		return "#7fa7d9";
	case VX_COMP_PT:
		return "#e5d8bd";
	case VX_COMP_PKRU:
		return "#fdae6b";
	case VX_COMP_PASID:
		return "#fdd0a2";
	case VX_COMP_CET_U:
		return "#fb6a4a";
	case VX_COMP_CET_S:
		return "#ef3b2c";
	case VX_COMP_HDC:
		return "#c6dbef";
	case VX_COMP_UINTR:
		return "#f6e8c3";
	case VX_COMP_LBR:
		return "#e7cb94";
	case VX_COMP_HWP:
		return "#dadaeb";
	case VX_COMP_XTILECFG:
		return "#74c476";
	case VX_COMP_XTILEDATA:
		return "#a1d99b";
	case VX_COMP_APX:
		return "#bcbddc";
	case VX_COMP_LWP:
		return "#c2a5cf";
	default:
		return "#f2d0a4";
	}
}

#define HEADER_FILL   "#bdbdbd"
#define RESERVED_FILL "#e0e0e0"

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
		return HEADER_FILL;
	case BLOCK_RESERVED:
		return RESERVED_FILL;
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
		if (info)
			snprintf(buf, len, "%s%s", info->name, b->supervisor ? " (S)" : "");
		else
			snprintf(buf, len, "component %u", b->component);
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
	snprintf(buf, len, "@%llu (0x%llx) \xc2\xb7 %llu B", (unsigned long long)b->offset,
		 (unsigned long long)b->offset, (unsigned long long)b->size);
}

#define NOT_TO_SCALE "(shortened, not to scale)"

/* The one-line side label of @b. */
static void side_text(const struct block *b, char *buf, size_t len)
{
	char name[64], detail[64];

	block_name(b, name, sizeof(name));
	block_detail(b, detail, sizeof(detail));
	snprintf(buf, len, "%s  %s%s", name, detail, b->broken ? " " NOT_TO_SCALE : "");
}

static bool minor_block(const struct block *b)
{
	return b->kind != BLOCK_COMPONENT && b->kind != BLOCK_MXCSR;
}

/* Side labels are 11 px; components in upright type, the rest in italics. */
static double side_width(const struct block *b)
{
	char line[192];

	side_text(b, line, sizeof(line));
	return SVG_LABEL_GAP + svg_text_width(line, 11, false) + 6;
}

/* A label goes inside its box if the box is tall enough and every line fits its width. */
static bool label_inside(const struct drawing *d, const struct column *c, const struct block *b)
{
	double height = block_height(d, c, b), room = SVG_BAR_WIDTH - 2 * SVG_INSIDE_PAD;
	bool bold = b->kind == BLOCK_COMPONENT;
	double size = bold ? 12 : 11;
	char name[64], detail[64], line[136];

	if (b->kind == BLOCK_MXCSR || height < SVG_ONE_LINE_MIN)
		return false;
	block_name(b, name, sizeof(name));
	block_detail(b, detail, sizeof(detail));
	if (height < SVG_TWO_LINE_MIN) {
		snprintf(line, sizeof(line), "%s  %s", name, detail);
		return svg_text_width(line, size, bold) <= room;
	}
	return svg_text_width(name, size, bold) <= room &&
	       svg_text_width(detail, 11, false) <= room;
}

static void put_box(struct drawing *d, const struct column *c, const struct block *b)
{
	double y = y_of(d, c, b->offset), height = block_height(d, c, b);
	double inset = b->kind == BLOCK_MXCSR ? SVG_BAR_WIDTH * 0.75 : 0.0;

	if (height < 1.5)
		height = 1.5;
	/* Supervisor outlines are drawn later, on top of their neighbours' solid edges. */
	fprintf(d->out,
		"<rect x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\" fill=\"%s\"%s/>\n",
		c->x + inset, y, SVG_BAR_WIDTH - inset, height, block_fill(b),
		b->supervisor ? "" : " stroke=\"#333333\" stroke-width=\"0.6\"");
}

/*
 * A dashed outline that survives a 1.5-px box and the solid edges of the boxes around it: a
 * white line under dark dashes, so the dashes read even where they cover another outline.
 */
static void put_dashed_outline(FILE *out, double x, double y, double width, double height)
{
	fprintf(out,
		"<rect x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\" fill=\"none\" "
		"stroke=\"#ffffff\" stroke-width=\"1.6\"/>\n"
		"<rect x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\" fill=\"none\" "
		"stroke=\"#222222\" stroke-width=\"1.6\" stroke-dasharray=\"5 3\"/>\n",
		x, y, width, height, x, y, width, height);
}

/* Break marks: a white band with zigzag edges across the bar and its axis. */
static void put_break_mark(struct drawing *d, const struct column *c, const struct axis_break *b)
{
	double middle = y_of(d, c, b->start) + SVG_BREAK_PX / 2;
	double left = c->x - 12, right = c->x + SVG_BAR_WIDTH + 4;

	/* Steps of 8 px from a half-pixel start are exact in a double: the loops below end where
	 * they should, so a float counter is safe here (cert-flp30-c). */
	fputs("<polygon fill=\"#ffffff\" stroke=\"none\" points=\"", d->out);
	/* NOLINTNEXTLINE(cert-flp30-c,clang-analyzer-security.FloatLoopCounter) */
	for (double x = left; x <= right; x += 8)
		fprintf(d->out, "%.1f,%.2f ", x, middle - 5 + ((int)((x - left) / 8) % 2 ? 3 : 0));
	/* NOLINTNEXTLINE(cert-flp30-c,clang-analyzer-security.FloatLoopCounter) */
	for (double x = right; x >= left; x -= 8)
		fprintf(d->out, "%.1f,%.2f ", x, middle + 5 + ((int)((x - left) / 8) % 2 ? 3 : 0));
	fputs("\"/>\n", d->out);
	for (int edge = -1; edge <= 1; edge += 2) {
		fputs("<polyline fill=\"none\" stroke=\"#555555\" stroke-width=\"1\" points=\"",
		      d->out);
		/* NOLINTNEXTLINE(cert-flp30-c,clang-analyzer-security.FloatLoopCounter) */
		for (double x = left; x <= right; x += 8)
			fprintf(d->out, "%.1f,%.2f ", x,
				middle + 5 * edge + ((int)((x - left) / 8) % 2 ? 3 : 0));
		fputs("\"/>\n", d->out);
	}
}

static void put_inside_label(struct drawing *d, const struct column *c, const struct block *b)
{
	double top = y_of(d, c, b->offset), height = block_height(d, c, b);
	bool bold = b->kind == BLOCK_COMPONENT;
	const char *style = bold ? "" : "fill=\"#444444\"";
	char name[64], detail[64];
	double y;

	block_name(b, name, sizeof(name));
	block_detail(b, detail, sizeof(detail));
	if (height < SVG_TWO_LINE_MIN) {
		char line[192];

		snprintf(line, sizeof(line), "%s  %s", name, detail);
		put_text(d, c->x + SVG_INSIDE_PAD, top + height / 2 + 4, bold ? 12 : 11, bold,
			 style, line);
		return;
	}
	/* Big boxes (TILEDATA) keep the label near their start, where the offset is. */
	y = height > 80 ? top + 18 : top + height / 2 - 2;
	put_text(d, c->x + SVG_INSIDE_PAD, y, bold ? 12 : 11, bold, style, name);
	put_text(d, c->x + SVG_INSIDE_PAD, y + 14, 11, false, "fill=\"#222222\"", detail);
	/* A shortened box says so below its break mark. */
	if (b->broken)
		put_text(d, c->x + SVG_INSIDE_PAD, top + height - 8, 11, false,
			 "font-style=\"italic\" fill=\"#222222\"", NOT_TO_SCALE);
}

static void put_side_label(struct drawing *d, struct column *c, const struct block *b)
{
	double top = y_of(d, c, b->offset), height = block_height(d, c, b);
	double anchor = top + (height < 1.5 ? 1.5 : height) / 2;
	double y = anchor + 4 > c->label_y ? anchor + 4 : c->label_y;
	double x = c->x + SVG_BAR_WIDTH;
	char line[192];

	side_text(b, line, sizeof(line));
	fprintf(d->out,
		"<polyline points=\"%.1f,%.2f %.1f,%.2f %.1f,%.2f\" fill=\"none\" "
		"stroke=\"#777777\" stroke-width=\"0.8\"/>\n",
		x, anchor, x + 10, anchor, x + 18, y - 4);
	put_text(d, x + SVG_LABEL_GAP, y, 11, false,
		 minor_block(b) ? "font-style=\"italic\" fill=\"#666666\"" : "fill=\"#111111\"",
		 line);
	c->label_y = y + SVG_LINE;
	if (c->label_y > d->bottom)
		d->bottom = c->label_y;
}

/* ----------------------------------------------------------------------------------------- */
/* columns, axis, title, footer                                                                */

static bool inside_break(const struct column *c, uint64_t offset)
{
	for (unsigned i = 0; i < c->break_count; i++)
		if (offset > c->breaks[i].start && offset < c->breaks[i].end)
			return true;
	return false;
}

static void put_tick(struct drawing *d, const struct column *c, uint64_t offset)
{
	double y = y_of(d, c, offset);
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)offset);
	fprintf(d->out,
		"<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#999999\"/>\n",
		c->x - 8, y, c->x - 4, y);
	put_text(d, c->x - 10, y + 3, 9, false, "fill=\"#777777\" text-anchor=\"end\"", text);
}

/* True if a tick at @offset would crowd a break's end ticks. */
static bool near_break_edge(const struct drawing *d, const struct column *c, uint64_t offset)
{
	double y = y_of(d, c, offset);

	for (unsigned i = 0; i < c->break_count; i++) {
		double start = y_of(d, c, c->breaks[i].start), end = y_of(d, c, c->breaks[i].end);

		if ((y > start - 12 && y < start + 12 && offset != c->breaks[i].start) ||
		    (y > end - 12 && y < end + 12 && offset != c->breaks[i].end))
			return true;
	}
	return false;
}

static void put_axis(struct drawing *d, const struct column *c)
{
	/* 64-bit offsets: the loop ends even when a total is near 2^32. */
	uint64_t step = (uint64_t)(d->bytes_per_px * 128);

	fprintf(d->out,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#999999\"/>\n",
		c->x - 4, SVG_TOP, c->x - 4, y_of(d, c, c->total));
	for (uint64_t offset = 0; offset <= c->total; offset += step)
		if (!inside_break(c, offset) && !near_break_edge(d, c, offset))
			put_tick(d, c, offset);
	/* Both ends of a break are labelled: the axis jumps there. */
	for (unsigned i = 0; i < c->break_count; i++) {
		put_tick(d, c, c->breaks[i].start);
		put_tick(d, c, c->breaks[i].end);
	}
}

static void put_column_end(struct drawing *d, const struct column *c)
{
	double y = y_of(d, c, c->total);
	char text[64];

	fprintf(d->out,
		"<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#000000\" "
		"stroke-width=\"2\"/>\n",
		c->x - 8, y, c->x + SVG_BAR_WIDTH, y);
	snprintf(text, sizeof(text), "end: %llu bytes (0x%llx)", (unsigned long long)c->total,
		 (unsigned long long)c->total);
	put_text(d, c->x, y + 16, 12, true, "", text);
	if (y + 16 > d->bottom)
		d->bottom = y + 16;
}

static void put_column(struct drawing *d, struct column *c)
{
	put_text(d, c->x, SVG_TOP - 26, 15, true, "", c->title);
	put_text(d, c->x, SVG_TOP - 10, 11, false, "fill=\"#555555\"", c->subtitle);
	put_axis(d, c);
	for (unsigned i = 0; i < c->count; i++)
		put_box(d, c, &c->blocks[i]);
	for (unsigned i = 0; i < c->count; i++) {
		const struct block *b = &c->blocks[i];
		double height = block_height(d, c, b);

		if (b->supervisor)
			put_dashed_outline(d->out, c->x, y_of(d, c, b->offset), SVG_BAR_WIDTH,
					   height < 1.5 ? 1.5 : height);
	}
	for (unsigned i = 0; i < c->break_count; i++)
		put_break_mark(d, c, &c->breaks[i]);
	for (unsigned i = 0; i < c->count; i++) {
		if (label_inside(d, c, &c->blocks[i]))
			put_inside_label(d, c, &c->blocks[i]);
		else
			put_side_label(d, c, &c->blocks[i]);
	}
	put_column_end(d, c);
}

/* "XTILEDATA (8192 B)" for every shortened component, for the scale note. */
static void broken_names(const struct drawing *d, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 2; i++) {
		const struct column *c = &d->columns[i];

		for (unsigned k = 0; k < c->count && used < len; k++) {
			const struct block *b = &c->blocks[k];
			char name[64], item[96];

			if (!b->broken)
				continue;
			block_name(b, name, sizeof(name));
			snprintf(item, sizeof(item), "%s (%llu B)", name,
				 (unsigned long long)b->size);
			if (strstr(buf, item))
				continue;
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
						 item);
			if (used >= len)
				return; /* cut: the names are an aside */
		}
	}
}

static void put_title(struct drawing *d, const struct vx_profile *profile,
		      const struct vx_layout *layout)
{
	char text[1400], names[1024], broken[256];
	bool any_break = d->columns[0].break_count || d->columns[1].break_count;

	snprintf(text, sizeof(text), "XSAVE layout of %s (%s), features 0x%llx",
		 profile->name[0] ? profile->name : "(unnamed profile)",
		 vx_vendor_name(vx_profile_vendor(profile)), (unsigned long long)layout->features);
	put_text(d, SVG_MARGIN, 34, 20, true, "", text);
	cli_mask_names(layout->features, names, sizeof(names));
	put_text(d, SVG_MARGIN, 56, 12, false, "fill=\"#333333\"", names);
	if (!any_break) {
		snprintf(text, sizeof(text),
			 "True scale, 1 px = %.0f byte%s, same scale in both columns; small ranges "
			 "are labelled at the side.",
			 d->bytes_per_px, d->bytes_per_px > 1 ? "s" : "");
		put_text(d, SVG_MARGIN, 76, 11, false, "fill=\"#555555\"", text);
		return;
	}
	broken_names(d, broken, sizeof(broken));
	snprintf(text, sizeof(text),
		 "Broken scale: %s drawn shortened between the zigzag marks; everything else to "
		 "scale, 1 px = %.0f byte%s, in both columns.",
		 broken, d->bytes_per_px, d->bytes_per_px > 1 ? "s" : "");
	put_text(d, SVG_MARGIN, 76, 11, false, "fill=\"#555555\"", text);
	put_text(d, SVG_MARGIN, 92, 11, false, "fill=\"#555555\"",
		 "Small ranges are labelled at the side; --svg-scale linear draws every byte to "
		 "scale.");
}

/* One legend entry: a swatch like the boxes (dashed for supervisor components) and a label. */
struct legend {
	struct drawing *d;
	double x, y, left, right;
};

static void legend_item(struct legend *l, const char *fill, bool dashed, const char *label)
{
	double width = 24 + svg_text_width(label, 11, false) + 20;

	if (l->x > l->left && l->x + width > l->right) {
		l->x = l->left;
		l->y += 20;
	}
	fprintf(l->d->out,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"12\" fill=\"%s\"%s/>\n", l->x,
		l->y - 10, fill, dashed ? "" : " stroke=\"#333333\" stroke-width=\"0.6\"");
	if (dashed)
		put_dashed_outline(l->d->out, l->x, l->y - 10, 18, 12);
	put_text(l->d, l->x + 24, l->y, 11, false, "", label);
	l->x += width;
}

static bool column_has(const struct column *c, enum block_kind kind)
{
	for (unsigned i = 0; i < c->count; i++)
		if (c->blocks[i].kind == kind)
			return true;
	return false;
}

static void put_legend(struct drawing *d, const struct vx_layout *layout, double y)
{
	struct legend l = {d, SVG_MARGIN, y, SVG_MARGIN, d->width - SVG_MARGIN};

	for (unsigned i = 0; i < layout->count; i++) {
		const struct vx_layout_entry *e = &layout->entries[i];
		struct block b = {.kind = BLOCK_COMPONENT,
				  .component = e->component,
				  .supervisor = e->supervisor};
		char name[64];

		block_name(&b, name, sizeof(name));
		legend_item(&l, component_fill(e->component), e->supervisor, name);
	}
	l.x = l.left;
	l.y += 22;
	legend_item(&l, HEADER_FILL, false, "XSAVE header");
	legend_item(&l, RESERVED_FILL, false, "legacy reserved (bytes 416-511)");
	if (column_has(&d->columns[1], BLOCK_PADDING))
		legend_item(&l, "url(#padding)", false, "64-byte alignment padding (align64)");
	if (column_has(&d->columns[0], BLOCK_UNUSED))
		legend_item(&l, "url(#unused)", false,
			    "standard-format space of components not in the mask");
	legend_item(&l, "#ffffff", true, "dashed: supervisor (IA32_XSS), compacted format only");
	d->bottom = l.y;
}

static void put_footer(struct drawing *d, const struct vx_layout *layout)
{
	double y = d->bottom + 36;
	char text[256];

	snprintf(text, sizeof(text),
		 "Standard format: %u bytes (0x%x), XSAVE/XSAVEOPT/XRSTOR, user components at "
		 "their CPUID offsets.",
		 layout->standard_size, layout->standard_size);
	put_text(d, SVG_MARGIN, y, 13, true, "", text);
	snprintf(text, sizeof(text),
		 "Compacted format: %u bytes (0x%x), XSAVEC/XSAVES, XCOMP_BV = 0x%llx.",
		 layout->compacted_size, layout->compacted_size,
		 (unsigned long long)(layout->features | VX_XCOMP_BV_COMPACTED));
	put_text(d, SVG_MARGIN, y + 20, 13, true, "", text);
	put_legend(d, layout, y + 48);
}

/* ----------------------------------------------------------------------------------------- */

/* The widest side label of @c, with the scale known: decides where the next column goes. */
static double side_labels_width(const struct drawing *d, const struct column *c)
{
	double widest = SVG_LABEL_MIN;

	for (unsigned i = 0; i < c->count; i++)
		if (!label_inside(d, c, &c->blocks[i]) && side_width(&c->blocks[i]) > widest)
			widest = side_width(&c->blocks[i]);
	return widest;
}

static void setup_columns(struct drawing *d, const struct vx_layout *layout)
{
	struct column *standard = &d->columns[0], *compacted = &d->columns[1];
	standard->title = "Standard format";
	standard->subtitle = "XSAVE, XSAVEOPT, XRSTOR: user components only";
	compacted->title = "Compacted format";
	compacted->subtitle = "XSAVEC, XSAVES, XRSTORS: packed by index";
	build_standard(standard, layout);
	build_compacted(compacted, layout);
	if (d->scale == SVG_SCALE_BROKEN)
		for (unsigned i = 0; i < 2; i++)
			choose_breaks(&d->columns[i]);
	d->bytes_per_px = choose_scale(d);
	standard->x = SVG_MARGIN + SVG_AXIS_WIDTH;
	standard->label_width = side_labels_width(d, standard);
	compacted->x =
	    standard->x + SVG_BAR_WIDTH + standard->label_width + SVG_COLUMN_GAP + SVG_AXIS_WIDTH;
	compacted->label_width = side_labels_width(d, compacted);
	d->width = compacted->x + SVG_BAR_WIDTH + compacted->label_width + SVG_MARGIN;
	for (unsigned i = 0; i < 2; i++)
		d->columns[i].label_y = SVG_TOP;
	d->bottom = SVG_TOP;
	d->right = 0;
}

/* The body goes to a temporary stream first: the canvas size is known only at the end. */
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

int svg_scale_parse(const char *text, enum svg_scale *scale)
{
	if (strcasecmp(text, "broken") == 0)
		*scale = SVG_SCALE_BROKEN;
	else if (strcasecmp(text, "linear") == 0)
		*scale = SVG_SCALE_LINEAR;
	else
		return -EINVAL;
	return 0;
}

int layout_write_svg_scaled(FILE *out, const struct vx_profile *profile,
			    const struct vx_layout *layout, enum svg_scale scale)
{
	struct drawing *d = calloc(1, sizeof(*d));
	FILE *body = tmpfile();
	double width, height;
	int rc;

	if (!d || !body) {
		rc = errno ? -errno : -ENOMEM;
		goto out;
	}
	d->scale = scale;
	setup_columns(d, layout);
	d->out = body;
	rc = write_body(d, profile, layout);
	if (rc)
		goto out;
	width = d->width > d->right + SVG_MARGIN ? d->width : d->right + SVG_MARGIN;
	height = d->bottom + SVG_MARGIN + 8;
	svg_begin(out, width, height);
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

int layout_write_svg(FILE *out, const struct vx_profile *profile, const struct vx_layout *layout)
{
	return layout_write_svg_scaled(out, profile, layout, SVG_SCALE_BROKEN);
}
