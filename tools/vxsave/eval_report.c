/* SPDX-License-Identifier: MIT */
/*
 * `vxsave eval --report DIR`: SVG charts drawn here (svg_util.c for text widths, escaping and
 * the frame) and one self-contained index.html (inline CSS, no script, no external URL) that
 * shows the tables, the verdict and the charts:
 *   bars-N-WORKLOAD.svg  per workload: one panel per figure (bytes per save, KVM MSR accesses
 *                        and MSR exits per 1 000 guest exits, modeled time), a bar per design;
 *   cost-N-WORKLOAD.svg  per workload: modeled time per operation by cost category, a
 *                        stacked bar per design (the rest of a switch, the same in every
 *                        design, is left out and named);
 *   memory.svg           fpstate memory of the threads workload run at 100, 1 000 and 10 000
 *                        threads: the total per design, and each design minus the baseline.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "eval_report.h"
#include "svg_util.h"

#define FONT_SMALL 11.0
#define FONT_TEXT  12.0
#define FONT_TITLE 15.0

/* One colour per design (enum vx_kvm_cet_design order), distinguishable in print too. */
static const char *const design_colours[VX_KVM_CET_DESIGN_COUNT] = {
    "#9e9e9e", "#1f77b4", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd",
};

/* Cost categories drawn (VX_COST_CAT_SWITCH is left out: the same in every design). */
static const char *const category_colours[VX_COST_CAT_COUNT] = {
    "#4e79a7", "#a0cbe8", "#e15759", "#f28e2b", "#76b7b2", "#b07aa1", "#cccccc",
};

static const char *design_colour(enum vx_kvm_cet_design d)
{
	return d < VX_KVM_CET_DESIGN_COUNT ? design_colours[d] : "#000000";
}

/* ----------------------------------------------------------------------------------------- */
/* drawing primitives                                                                           */

static void put_text(FILE *out, double x, double y, double size, const char *anchor,
		     const char *extra, const char *text)
{
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" text-anchor=\"%s\"%s%s>", x, y,
		size, anchor, extra[0] ? " " : "", extra);
	svg_put_escaped(out, text);
	fputs("</text>\n", out);
}

static void put_rect(FILE *out, double x, double y, double w, double h, const char *fill)
{
	fprintf(out,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
		"stroke=\"#333333\" stroke-width=\"0.5\"/>\n",
		x, y, w, h, fill);
}

static void put_line(FILE *out, double x1, double y1, double x2, double y2, const char *stroke)
{
	fprintf(out,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		"stroke-width=\"1\"/>\n",
		x1, y1, x2, y2, stroke);
}

/*
 * The top of an axis with 4 even ticks that holds @max: 4 times the smallest 1, 2, 2.5 or 5
 * times a power of ten that is at least @max / 4 (4 for nothing).
 */
static double nice_ceiling(double max)
{
	static const double steps[] = {1, 2, 2.5, 5, 10};
	double quarter = max / 4, p;

	if (!(max > 0))
		return 4;
	p = pow(10, floor(log10(quarter)));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i] * p >= quarter * 0.9999)
			return 4 * steps[i] * p;
	return 40 * p;
}

/* "4 580", "12.5", "0.25": a tick or bar label, short. */
static void format_value(double v, char *buf, size_t len)
{
	if (fabs(v) >= 100 || v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else if (fabs(v) >= 10)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

/* An axis label with as many decimals as the tick @step needs (0.25: 2; 0.5: 1; 2: none). */
static void format_tick(double v, double step, char *buf, size_t len)
{
	int decimals = step >= 1						  ? 0
		       : step >= 0.1 && fabs(step * 10 - round(step * 10)) < 1e-9 ? 1
										  : 2;

	snprintf(buf, len, "%.*f", decimals, v);
}

/* A vertical axis of @height px at @x from 0 to @top with 5 ticks and light grid lines. */
static void put_y_axis(FILE *out, double x, double y0, double height, double width, double top)
{
	char label[32];

	for (int i = 0; i <= 4; i++) {
		double y = y0 - height * i / 4.0;

		put_line(out, x, y, x + width, y, i ? "#e6e6e6" : "#333333");
		format_tick(top * i / 4.0, top / 4.0, label, sizeof(label));
		put_text(out, x - 5, y + 4, FONT_SMALL, "end", "fill=\"#333333\"", label);
	}
}

/*
 * A row of colour swatches with design names, from @x at @y, wrapped at @max_width; returns
 * the height used.  @out NULL only measures.
 */
static double put_design_legend(FILE *out, const struct eval_session *s, double x, double y,
				double max_width)
{
	double cx = x, cy = y;

	for (unsigned d = 0; d < s->ndesigns; d++) {
		const char *name = vx_kvm_cet_design_name(s->designs[d]);
		double w = 16 + svg_text_width(name, FONT_TEXT, false) + 18;

		if (cx + w > x + max_width && cx > x) {
			cx = x;
			cy += 18;
		}
		if (out) {
			put_rect(out, cx, cy - 10, 12, 12, design_colour(s->designs[d]));
			put_text(out, cx + 16, cy, FONT_TEXT, "start", "", name);
		}
		cx += w;
	}
	return cy - y + 18;
}

/* ----------------------------------------------------------------------------------------- */
/* (a) bars per design for each figure of one workload                                          */

struct bar_panel {
	const char *title;
	size_t offset;	   /* of the double in struct eval_figures */
	const char *empty; /* what to say when the workload has none of it */
};

static const struct bar_panel bar_panels[] = {
    {"bytes per XSAVES", offsetof(struct eval_figures, saved_per_switch), "no saves"},
    {"KVM's PL0-2_SSP RDMSR+WRMSR / 1 000 exits", offsetof(struct eval_figures, msr_per_kexits),
     "no guest exits in this workload"},
    {"guest MSR accesses intercepted / 1 000 exits",
     offsetof(struct eval_figures, msr_exits_per_kexits), "no guest exits in this workload"},
    {"modeled ns per operation", offsetof(struct eval_figures, time_per_op), "no operations"},
};

#define PANEL_W	   300.0
#define PANEL_H	   170.0
#define PANEL_LEFT 62.0
#define PANEL_GAP  36.0
#define PANEL_TOP  48.0 /* title of the panel above its plot area */

static double figure_of(const struct eval_cell *c, size_t offset)
{
	double v;

	if (c->rc < 0)
		return NAN;
	memcpy(&v, (const char *)&c->fig + offset, sizeof(v));
	return v;
}

static void put_bars(FILE *out, const struct eval_session *s, unsigned w, double x0,
		     double y_bottom, double top, size_t offset)
{
	double slot = PANEL_W / s->ndesigns, bar = slot * 0.7;
	char label[32];

	for (unsigned d = 0; d < s->ndesigns; d++) {
		double v = figure_of(eval_cell_at(s, w, d), offset);
		double h = isnan(v) ? 0 : PANEL_H * v / top, x = x0 + d * slot + (slot - bar) / 2;

		if (isnan(v))
			continue;
		put_rect(out, x, y_bottom - h, bar, h, design_colour(s->designs[d]));
		format_value(v, label, sizeof(label));
		put_text(out, x + bar / 2, y_bottom - h - 4, FONT_SMALL - 1, "middle", "", label);
	}
}

static void put_bar_panel(FILE *out, const struct eval_session *s, unsigned w,
			  const struct bar_panel *p, double x, double y)
{
	double max = 0, top, y_bottom = y + PANEL_TOP + PANEL_H;
	bool any = false;
	char title[80];

	for (unsigned d = 0; d < s->ndesigns; d++) {
		double v = figure_of(eval_cell_at(s, w, d), p->offset);

		any |= !isnan(v);
		max = !isnan(v) && v > max ? v : max;
	}
	/* The time panel says what the operation is: a switch, a guest exit, a step. */
	if (p->offset == offsetof(struct eval_figures, time_per_op))
		snprintf(title, sizeof(title), "modeled ns per %s",
			 eval_operation_name(s->workloads[w].kind));
	else
		snprintf(title, sizeof(title), "%s", p->title);
	put_text(out, x + PANEL_LEFT + PANEL_W / 2, y + 20, FONT_TEXT + 1, "middle",
		 "font-weight=\"bold\"", title);
	if (!any) {
		put_text(out, x + PANEL_LEFT + PANEL_W / 2, y + PANEL_TOP + PANEL_H / 2, FONT_TEXT,
			 "middle", "fill=\"#666666\" font-style=\"italic\"", p->empty);
		return;
	}
	top = nice_ceiling(max * 1.12); /* room for the value labels above the bars */
	put_y_axis(out, x + PANEL_LEFT, y_bottom, PANEL_H, PANEL_W, top);
	put_bars(out, s, w, x + PANEL_LEFT, y_bottom, top, p->offset);
}

static void workload_subtitle(const struct eval_session *s, const struct vx_eval_workload *w,
			      char *buf, size_t len)
{
	snprintf(buf, len,
		 "%s: %u CPUs, %u tasks, %u vCPUs, %llu steps, seed %llu; operation = %s; "
		 "model of %s",
		 vx_eval_kind_name(w->kind), w->cpus, w->tasks, w->vcpus,
		 (unsigned long long)w->steps, (unsigned long long)s->seed,
		 eval_operation_name(w->kind), s->profile.name);
}

static void write_bars_svg(FILE *out, const struct eval_session *s, unsigned w)
{
	const double cell_h = PANEL_TOP + PANEL_H + 24;
	double cell_w = PANEL_LEFT + PANEL_W + PANEL_GAP;

	/* A panel's title is centred over its plot: widen the cells until every title fits. */
	for (unsigned i = 0; i < 4; i++) {
		double need = svg_text_width(bar_panels[i].title, FONT_TEXT + 1, true) + 24;

		if (PANEL_W + (cell_w - PANEL_LEFT - PANEL_W) * 2 < need)
			cell_w = PANEL_LEFT + PANEL_W + (need - PANEL_W) / 2 + 4;
	}
	double width = 24 + 2 * cell_w, legend_h, height;
	char title[128], subtitle[256];

	snprintf(title, sizeof(title), "%s: the CET_S designs side by side", s->workloads[w].name);
	workload_subtitle(s, &s->workloads[w], subtitle, sizeof(subtitle));
	legend_h = put_design_legend(NULL, s, 24, 72, width - 48);
	height = 84 + legend_h + 2 * cell_h;
	svg_begin(out, width, height);
	put_text(out, 24, 28, FONT_TITLE, "start", "font-weight=\"bold\"", title);
	put_text(out, 24, 48, FONT_SMALL, "start", "fill=\"#444444\"", subtitle);
	put_design_legend(out, s, 24, 72, width - 48);
	for (unsigned i = 0; i < 4; i++)
		put_bar_panel(out, s, w, &bar_panels[i], 12 + (i % 2) * cell_w,
			      72 + legend_h + (i < 2 ? 0 : cell_h));
	fputs("</svg>\n", out);
}

/* ----------------------------------------------------------------------------------------- */
/* (b) cost breakdown: a stacked bar per design                                                 */

#define COST_LABEL_W 130.0
#define COST_BAR_W   520.0
#define COST_ROW     30.0

static double category_per_op(const struct eval_cell *c, unsigned cat)
{
	return c->rc >= 0 && c->fig.operations ? c->cost.ns[cat] / (double)c->fig.operations : 0;
}

/* The drawn part of a design's time per operation: every category but the rest of a switch. */
static double drawn_per_op(const struct eval_cell *c)
{
	double sum = 0;

	for (unsigned cat = 0; cat < VX_COST_CAT_SWITCH; cat++)
		sum += category_per_op(c, cat);
	return sum;
}

static void put_cost_row(FILE *out, const struct eval_session *s, unsigned w, unsigned d, double y,
			 double top)
{
	const struct eval_cell *c = eval_cell_at(s, w, d);
	double x = 24 + COST_LABEL_W;
	char label[48];

	put_text(out, x - 8, y + COST_ROW * 0.55, FONT_TEXT, "end", "",
		 vx_kvm_cet_design_name(s->designs[d]));
	for (unsigned cat = 0; cat < VX_COST_CAT_SWITCH; cat++) {
		double part = COST_BAR_W * category_per_op(c, cat) / top;

		if (part <= 0)
			continue;
		put_rect(out, x, y + 4, part, COST_ROW - 10, category_colours[cat]);
		x += part;
	}
	format_value(drawn_per_op(c), label, sizeof(label));
	strncat(label, " ns", sizeof(label) - strlen(label) - 1);
	put_text(out, x + 6, y + COST_ROW * 0.55, FONT_SMALL, "start", "", label);
}

static void put_cost_axis(FILE *out, double y, double top)
{
	char label[32];

	for (int i = 0; i <= 4; i++) {
		double x = 24 + COST_LABEL_W + COST_BAR_W * i / 4.0;

		put_line(out, x, 92, x, y, i ? "#e6e6e6" : "#333333");
		format_tick(top * i / 4.0, top / 4.0, label, sizeof(label));
		put_text(out, x, y + 14, FONT_SMALL, "middle", "fill=\"#333333\"", label);
	}
	put_text(out, 24 + COST_LABEL_W + COST_BAR_W / 2, y + 30, FONT_SMALL, "middle", "",
		 "modeled ns per operation, by category");
}

static void put_cost_legend(FILE *out, double y)
{
	double x = 24;

	for (unsigned cat = 0; cat < VX_COST_CAT_SWITCH; cat++) {
		const char *name = vx_eval_cost_category_name((enum vx_eval_cost_category)cat);

		put_rect(out, x, y - 10, 12, 12, category_colours[cat]);
		put_text(out, x + 16, y, FONT_TEXT, "start", "", name);
		x += 16 + svg_text_width(name, FONT_TEXT, false) + 18;
	}
}

static void write_cost_svg(FILE *out, const struct eval_session *s, unsigned w)
{
	double max = 0, top, rows_end, width = 24 + COST_LABEL_W + COST_BAR_W + 110, rest = 0;
	char title[128], subtitle[256], note[200];

	for (unsigned d = 0; d < s->ndesigns; d++) {
		const struct eval_cell *c = eval_cell_at(s, w, d);

		max = drawn_per_op(c) > max ? drawn_per_op(c) : max;
		rest = c->rc >= 0 ? category_per_op(c, VX_COST_CAT_SWITCH) : rest;
	}
	top = nice_ceiling(max);
	rows_end = 96 + s->ndesigns * COST_ROW;
	svg_begin(out, width, rows_end + 84);
	snprintf(title, sizeof(title), "%s: where the modeled time goes", s->workloads[w].name);
	workload_subtitle(s, &s->workloads[w], subtitle, sizeof(subtitle));
	put_text(out, 24, 28, FONT_TITLE, "start", "font-weight=\"bold\"", title);
	put_text(out, 24, 48, FONT_SMALL, "start", "fill=\"#444444\"", subtitle);
	put_cost_legend(out, 74);
	for (unsigned d = 0; d < s->ndesigns; d++)
		put_cost_row(out, s, w, d, 96 + d * COST_ROW, top);
	put_cost_axis(out, rows_end, top);
	snprintf(note, sizeof(note),
		 "Not drawn: the rest of each context switch (scheduler, switch_to), %.0f ns per "
		 "operation in every design.",
		 rest);
	put_text(out, 24, rows_end + 56, FONT_SMALL, "start", "fill=\"#444444\"", note);
	fputs("</svg>\n", out);
}

/* ----------------------------------------------------------------------------------------- */
/* (c) memory against the thread count                                                          */

#define MEM_W	 330.0
#define MEM_H	 220.0
#define MEM_LEFT 70.0

static const struct eval_cell *sweep_cell(const struct eval_session *s, unsigned p, unsigned d)
{
	return &s->sweep[p * s->ndesigns + d];
}

static double sweep_threads(const struct eval_cell *c)
{
	return (double)(c->result.memory.host_threads + c->result.memory.vcpus);
}

/* x of @threads on a log scale from 10^lo to 10^hi. */
static double log_x(double threads, double x0, double lo, double hi)
{
	return x0 + MEM_W * (log10(threads) - lo) / (hi - lo);
}

/* Panel 0: the total in MiB; panel 1: each design minus the baseline, in bytes. */
static double mem_value(const struct eval_session *s, unsigned p, unsigned d, int panel)
{
	const struct eval_cell *c = sweep_cell(s, p, d), *b = sweep_cell(s, p, s->baseline);

	if (c->rc < 0 || b->rc < 0)
		return NAN;
	if (panel == 0)
		return (double)c->result.memory.total / (1024.0 * 1024.0);
	return (double)c->result.memory.total - (double)b->result.memory.total;
}

static void put_mem_series(FILE *out, const struct eval_session *s, unsigned d, int panel,
			   double x0, double y_bottom, double lo_v, double top)
{
	const char *colour = design_colour(s->designs[d]);
	double px[EVAL_SWEEP_POINTS], py[EVAL_SWEEP_POINTS];
	unsigned n = 0;

	for (unsigned p = 0; p < EVAL_SWEEP_POINTS; p++) {
		double v = mem_value(s, p, d, panel);

		if (isnan(v))
			continue;
		px[n] = log_x(sweep_threads(sweep_cell(s, p, d)), x0, 1.9, 4.1);
		py[n++] = y_bottom - MEM_H * (v - lo_v) / (top - lo_v);
	}
	for (unsigned i = 1; i < n; i++)
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"2\" stroke-dasharray=\"%u 3\"/>\n",
			px[i - 1], py[i - 1], px[i], py[i], colour, 4 + 3 * d);
	for (unsigned i = 0; i < n; i++)
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>\n", px[i],
			py[i], 5.0 - 0.5 * d, colour);
}

/* Where design @d's last point is drawn (x, y) and its value; false if it has none. */
static bool mem_last_point(const struct eval_session *s, unsigned d, int panel, double x0,
			   double y_bottom, double lo_v, double top, double point[3])
{
	unsigned p = EVAL_SWEEP_POINTS - 1;
	double v = mem_value(s, p, d, panel);

	if (isnan(v))
		return false;
	point[0] = log_x(sweep_threads(sweep_cell(s, p, d)), x0, 1.9, 4.1);
	point[1] = y_bottom - MEM_H * (v - lo_v) / (top - lo_v);
	point[2] = v;
	return true;
}

/*
 * One label per group of designs whose last points are drawn within a line of each other
 * (coinciding lines hide each other, so the label says who is there): "kvm-eager, kvm-lazy:
 * +384 B", or "every design: 24.4 MiB".
 */
static void put_mem_labels(FILE *out, const struct eval_session *s, int panel, double x0,
			   double y_bottom, double lo_v, double top)
{
	bool done[VX_KVM_CET_DESIGN_COUNT] = {false};
	double first[3], other[3];
	char label[256], value[48];

	for (unsigned d = 0; d < s->ndesigns; d++) {
		unsigned members = 0;

		if (done[d] || !mem_last_point(s, d, panel, x0, y_bottom, lo_v, top, first))
			continue;
		label[0] = '\0';
		for (unsigned e = d; e < s->ndesigns; e++) {
			if (done[e] ||
			    !mem_last_point(s, e, panel, x0, y_bottom, lo_v, top, other) ||
			    fabs(other[1] - first[1]) >= 12)
				continue;
			done[e] = true;
			snprintf(label + strlen(label), sizeof(label) - strlen(label), "%s%s",
				 members++ ? ", " : "", vx_kvm_cet_design_name(s->designs[e]));
		}
		if (members == s->ndesigns && members > 1)
			snprintf(label, sizeof(label), "every design");
		snprintf(value, sizeof(value), panel ? ": %+.0f B" : ": %.1f MiB", first[2]);
		strncat(label, value, sizeof(label) - strlen(label) - 1);
		put_text(out, first[0] - 10, first[1] - 8, FONT_SMALL, "end", "", label);
	}
}

static void put_mem_x_axis(FILE *out, double x0, double y_bottom)
{
	static const double ticks[] = {100, 1000, 10000};
	static const char *const labels[] = {"100", "1 000", "10 000"};

	for (unsigned i = 0; i < 3; i++) {
		double x = log_x(ticks[i], x0, 1.9, 4.1);

		put_line(out, x, y_bottom, x, y_bottom + 4, "#333333");
		put_text(out, x, y_bottom + 17, FONT_SMALL, "middle", "", labels[i]);
	}
	put_text(out, x0 + MEM_W / 2, y_bottom + 34, FONT_SMALL, "middle", "",
		 "threads (non-vCPU threads + vCPUs; log scale)");
}

static void put_mem_panel(FILE *out, const struct eval_session *s, int panel, double x, double y)
{
	double lo = 0, hi = 0, top, bottom, x0 = x + MEM_LEFT, y_bottom = y + 30 + MEM_H;
	char title[96];

	for (unsigned p = 0; p < EVAL_SWEEP_POINTS; p++)
		for (unsigned d = 0; d < s->ndesigns; d++) {
			double v = mem_value(s, p, d, panel);

			hi = !isnan(v) && v > hi ? v : hi;
			lo = !isnan(v) && v < lo ? v : lo;
		}
	top = nice_ceiling(hi);
	bottom = lo < 0 ? -nice_ceiling(-lo) : 0;
	snprintf(title, sizeof(title), panel ? "minus %s, bytes" : "fpstate memory, MiB",
		 vx_kvm_cet_design_name(s->designs[s->baseline]));
	put_text(out, x0 + MEM_W / 2, y + 14, FONT_TEXT + 1, "middle", "font-weight=\"bold\"",
		 title);
	for (int i = 0; i <= 4; i++) {
		double v = bottom + (top - bottom) * i / 4.0, yy = y_bottom - MEM_H * i / 4.0;
		char label[32];

		put_line(out, x0, yy, x0 + MEM_W, yy, v == 0 ? "#333333" : "#e6e6e6");
		format_tick(v, (top - bottom) / 4.0, label, sizeof(label));
		put_text(out, x0 - 5, yy + 4, FONT_SMALL, "end", "fill=\"#333333\"", label);
	}
	put_mem_x_axis(out, x0, y_bottom);
	for (unsigned d = 0; d < s->ndesigns; d++)
		put_mem_series(out, s, d, panel, x0, y_bottom, bottom, top);
	put_mem_labels(out, s, panel, x0, y_bottom, bottom, top);
}

static void write_memory_svg(FILE *out, const struct eval_session *s)
{
	double width = 24 + 2 * (MEM_LEFT + MEM_W + 30), height = 130 + MEM_H + 60;
	char subtitle[256];

	snprintf(subtitle, sizeof(subtitle),
		 "the threads workload run at 100, 1 000 and 10 000 threads (16 of them vCPUs), "
		 "100 steps, seed %llu; measured at the end of each run; model of %s",
		 (unsigned long long)s->seed, s->profile.name);
	if (48 + svg_text_width(subtitle, FONT_SMALL, false) > width)
		width = 48 + svg_text_width(subtitle, FONT_SMALL, false);
	svg_begin(out, width, height);
	put_text(out, 24, 28, FONT_TITLE, "start", "font-weight=\"bold\"",
		 "fpstate memory against the number of threads");
	put_text(out, 24, 48, FONT_SMALL, "start", "fill=\"#444444\"", subtitle);
	put_design_legend(out, s, 24, 72, width - 48);
	put_mem_panel(out, s, 0, 12, 96);
	put_mem_panel(out, s, 1, 12 + MEM_LEFT + MEM_W + 30, 96);
	fputs("</svg>\n", out);
}

/* ----------------------------------------------------------------------------------------- */
/* index.html                                                                                   */

static const char html_style[] =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:2em;color:#222;"
    "max-width:1200px}\n"
    "table{border-collapse:collapse;margin:0.5em 0 1em}\n"
    "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}\n"
    "th{background:#f0f0f0}\n"
    "td.l,th.l{text-align:left}\n"
    "td.bad{color:#b00000;font-weight:bold}\n"
    ".rel{color:#666;font-size:11px}\n"
    "img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}\n"
    "pre{background:#f7f7f7;padding:0.6em;font-size:12px;overflow-x:auto}\n"
    ".verdict{background:#eef6ee;border-left:4px solid #2ca02c;padding:0.6em 1em}\n";

static void put_html(FILE *out, const char *text)
{
	svg_put_escaped(out, text); /* the same five entities serve HTML */
}

static const char *const html_heads[] = {
    "memory per thread (B)", "memory per vCPU (B)",    "bytes per XSAVES",  "bytes per XRSTORS",
    "KVM MSR per 1k exits",  "MSR exits per 1k exits", "modeled ns per op",
};

static const size_t html_offsets[] = {
    offsetof(struct eval_figures, mem_thread),
    offsetof(struct eval_figures, mem_vcpu),
    offsetof(struct eval_figures, saved_per_switch),
    offsetof(struct eval_figures, restored_per_switch),
    offsetof(struct eval_figures, msr_per_kexits),
    offsetof(struct eval_figures, msr_exits_per_kexits),
    offsetof(struct eval_figures, time_per_op),
};

static void html_cell(FILE *out, double v, double base, bool integer)
{
	char rel[16];

	if (isnan(v)) {
		fputs("<td>-</td>", out);
		return;
	}
	eval_relative_text(v, base, rel, sizeof(rel));
	fprintf(out, integer ? "<td>%.0f <span class=\"rel\">" : "<td>%.1f <span class=\"rel\">",
		v);
	put_html(out, rel);
	fputs("</span></td>", out);
}

static void html_row(FILE *out, const struct eval_session *s, unsigned w, unsigned d)
{
	const struct eval_cell *c = eval_cell_at(s, w, d), *b = eval_cell_at(s, w, s->baseline);
	char outcome[48];

	fprintf(out, "<tr><td class=\"l\">%s</td>", vx_kvm_cet_design_name(s->designs[d]));
	for (size_t i = 0; i < sizeof(html_offsets) / sizeof(html_offsets[0]); i++)
		html_cell(out, figure_of(c, html_offsets[i]), figure_of(b, html_offsets[i]), i < 2);
	fprintf(out, "<td class=\"l%s\">", c->rc == VX_EVAL_VIOLATION || c->rc < 0 ? " bad" : "");
	put_html(out, eval_outcome_text(c, outcome, sizeof(outcome)));
	if (c->rc == VX_EVAL_VIOLATION) {
		fputs(": ", out);
		put_html(out, c->result.violation.text);
	} else if (c->rc < 0) {
		fputs(": ", out);
		put_html(out, c->err.reason);
	}
	fputs("</td></tr>\n", out);
}

/* A design's own losses (kvm-user-return) in words, under the table. */
static void html_losses(FILE *out, const struct eval_session *s, unsigned w)
{
	for (unsigned d = 0; d < s->ndesigns; d++) {
		const struct eval_cell *c = eval_cell_at(s, w, d);

		if (c->rc != VX_EVAL_DESIGN_LOSS)
			continue;
		fprintf(out,
			"<p>%s: design loss (a finding about the design, not a checker failure): "
			"%llu guest value(s) lost, first at step %llu, vCPU %u ",
			vx_kvm_cet_design_name(s->designs[d]),
			(unsigned long long)c->result.losses.count,
			(unsigned long long)c->result.losses.step, c->result.losses.vcpu);
		put_html(out, c->result.losses.reg);
		fputs(".</p>\n", out);
	}
}

static void html_workload(FILE *out, const struct eval_session *s, unsigned w, const char *bars,
			  const char *cost)
{
	char subtitle[256];

	fputs("<h2>", out);
	put_html(out, s->workloads[w].name);
	fputs("</h2>\n<p>", out);
	workload_subtitle(s, &s->workloads[w], subtitle, sizeof(subtitle));
	put_html(out, subtitle);
	fprintf(out, "; relative to %s.</p>\n<table><tr><th class=\"l\">design</th>",
		vx_kvm_cet_design_name(s->designs[s->baseline]));
	for (size_t i = 0; i < sizeof(html_heads) / sizeof(html_heads[0]); i++)
		fprintf(out, "<th>%s</th>", html_heads[i]);
	fputs("<th class=\"l\">outcome</th></tr>\n", out);
	for (unsigned d = 0; d < s->ndesigns; d++)
		html_row(out, s, w, d);
	fputs("</table>\n", out);
	html_losses(out, s, w);
	fprintf(out, "<img src=\"%s\" alt=\"figures per design\">\n", bars);
	fprintf(out, "<img src=\"%s\" alt=\"cost breakdown per design\">\n", cost);
}

static void html_costs(FILE *out, const struct eval_session *s)
{
	fputs("<h2>Cost table used</h2>\n<table><tr><th class=\"l\">constant</th><th>value</th>"
	      "<th class=\"l\">unit</th><th class=\"l\">origin</th><th class=\"l\">source</th>"
	      "</tr>\n",
	      out);
	for (unsigned i = 0; i < VX_COST_COUNT; i++) {
		const struct vx_eval_cost_entry *e = &s->costs.entry[i];

		fprintf(out, "<tr><td class=\"l\">%s</td><td>%g</td><td class=\"l\">",
			vx_eval_cost_info((enum vx_eval_cost_id)i)->name, e->value);
		put_html(out, e->unit);
		fprintf(out, "</td><td class=\"l\">%s</td><td class=\"l\">",
			vx_eval_cost_origin_name(e->origin));
		put_html(out, e->source);
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void html_definitions(FILE *out, const struct eval_session *s)
{
	fputs("<h2>Workloads as run</h2>\n", out);
	for (unsigned w = 0; w < s->nworkloads; w++) {
		size_t len = vx_eval_workload_format(&s->workloads[w], NULL, 0);
		char *text = malloc(len + 1);

		if (!text)
			continue;
		vx_eval_workload_format(&s->workloads[w], text, len + 1);
		fputs("<pre>", out);
		put_html(out, text);
		fputs("</pre>\n", out);
		free(text);
	}
}

static void html_verdict(FILE *out, const struct eval_session *s)
{
	char memory[512], sw[512];

	eval_verdict_sentences(s, memory, sizeof(memory), sw, sizeof(sw));
	fputs("<div class=\"verdict\"><h2>Verdict: the seeds' two claims</h2>\n<p><b>Memory:</b> ",
	      out);
	put_html(out, memory);
	fputs(".</p>\n<p><b>Switch:</b> ", out);
	put_html(out, sw);
	fprintf(out,
		".</p>\n<p><b>Integrity:</b> %u evaluations, %u violations, %u design losses, "
		"%u errors.</p></div>\n",
		s->verdict.runs, s->verdict.violations, s->verdict.losses, s->verdict.errors);
}

/* ----------------------------------------------------------------------------------------- */
/* files                                                                                        */

struct report_dir {
	const char *dir;
	char *what;
	size_t what_len;
};

typedef void (*chart_writer)(FILE *out, const struct eval_session *s, unsigned w);

static int write_file(const struct report_dir *r, const char *name, const struct eval_session *s,
		      unsigned w, chart_writer writer)
{
	char path[4096];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	snprintf(r->what, r->what_len, "%s", path);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	writer(f, s, w);
	if (ferror(f))
		rc = -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

static void chart_name(char *buf, size_t len, const char *prefix, const struct eval_session *s,
		       unsigned w)
{
	/* Workload names are letters, digits and -_. (docs/eval.md "The format"). */
	snprintf(buf, len, "%s-%u-%s.svg", prefix, w + 1, s->workloads[w].name);
}

static void memory_writer(FILE *out, const struct eval_session *s, unsigned w)
{
	(void)w;
	write_memory_svg(out, s);
}

static void index_writer(FILE *out, const struct eval_session *s, unsigned unused)
{
	char bars[96], cost[96];

	(void)unused;
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		     "<title>vxsave eval: ");
	put_html(out, s->profile.name);
	fprintf(out,
		"</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>vxsave eval: ", html_style);
	put_html(out, s->profile.name);
	fputs("</h1>\n<p>", out);
	put_html(out, s->source);
	fprintf(out, "; seed %llu; costs: ", (unsigned long long)s->seed);
	put_html(out, s->costs_label);
	fputs(". Every figure is relative to the baseline design; memory is fpstate bytes, "
	      "bytes per XSAVES/XRSTORS the mean over the run, MSR figures per 1&#160;000 guest "
	      "exits, time the cost model's.</p>\n",
	      out);
	html_verdict(out, s);
	for (unsigned w = 0; w < s->nworkloads; w++) {
		chart_name(bars, sizeof(bars), "bars", s, w);
		chart_name(cost, sizeof(cost), "cost", s, w);
		html_workload(out, s, w, bars, cost);
	}
	if (s->sweep_run)
		fputs("<h2>Memory against the number of threads</h2>\n"
		      "<img src=\"memory.svg\" alt=\"memory against threads\">\n",
		      out);
	html_costs(out, s);
	html_definitions(out, s);
	fputs("</body>\n</html>\n", out);
}

int eval_report_write(const struct eval_session *s, const char *dir, char *what, size_t len)
{
	struct report_dir r = {dir, what, len};
	char name[96];
	int rc = 0;

	snprintf(what, len, "%s", dir);
	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return -errno;
	for (unsigned w = 0; rc == 0 && w < s->nworkloads; w++) {
		chart_name(name, sizeof(name), "bars", s, w);
		rc = write_file(&r, name, s, w, write_bars_svg);
		chart_name(name, sizeof(name), "cost", s, w);
		rc = rc ? rc : write_file(&r, name, s, w, write_cost_svg);
	}
	if (rc == 0 && s->sweep_run)
		rc = write_file(&r, "memory.svg", s, 0, memory_writer);
	return rc ? rc : write_file(&r, "index.html", s, 0, index_writer);
}
