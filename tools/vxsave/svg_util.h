/* SPDX-License-Identifier: MIT */
/*
 * What the CLI's SVG drawings share (svg.c: the layout chart; eval_report.c: the evaluation's
 * charts): the font, estimated text widths, XML escaping and the document frame.
 */
#ifndef VXSAVE_CLI_SVG_UTIL_H
#define VXSAVE_CLI_SVG_UTIL_H

#include <stdbool.h>
#include <stdio.h>

#define SVG_FONT "DejaVu Sans, Helvetica, Arial, sans-serif"

/*
 * Width of @text at @size px, a little wider than DejaVu Sans draws it (its advance widths in
 * em: digits and capitals about 0.64-0.77, lower case 0.28-0.97, mostly near 0.6), so a layout
 * that makes room for it never clips.
 */
double svg_text_width(const char *text, double size, bool bold);

/* @text as XML character data or attribute value: & < > " and ' escaped. */
void svg_put_escaped(FILE *out, const char *text);

/* The XML declaration, <svg> of @width x @height px with the font, and a white background. */
void svg_begin(FILE *out, double width, double height);

#endif /* VXSAVE_CLI_SVG_UTIL_H */
