/* SPDX-License-Identifier: MIT */
/*
 * Shared SVG helpers (svg_util.h): text metrics, escaping, the document frame.
 */
#include "svg_util.h"

double svg_text_width(const char *text, double size, bool bold)
{
	double em = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		unsigned char c = *p;

		if ((c & 0xC0) == 0x80)
			continue; /* UTF-8 continuation byte: the character is counted once */
		if (c == ' ' || c == '.' || c == ',' || c == ':' || c == '|' || c == '(' ||
		    c == ')' || c == 'i' || c == 'l' || c == 'j' || c == 't' || c == 'f')
			em += 0.40;
		else if (c == '@' || c == 'm' || c == 'w' || c == 'M' || c == 'W')
			em += 1.0;
		else if (c >= 'A' && c <= 'Z')
			em += 0.74;
		else
			em += 0.64;
	}
	return em * size * (bold ? 1.1 : 1.0);
}

/* The five characters XML reserves, as entities; everything else as it is. */
static const char *xml_entity(char c)
{
	static const struct {
		char c;
		const char *entity;
	} entities[] = {
	    {'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&#39;"},
	};

	for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++)
		if (entities[i].c == c)
			return entities[i].entity;
	return NULL;
}

void svg_put_escaped(FILE *out, const char *text)
{
	for (; *text; text++) {
		const char *entity = xml_entity(*text);
		unsigned char c = (unsigned char)*text;

		if (entity)
			fputs(entity, out);
		else if (c < 0x20 && c != '\n' && c != '\t')
			fputc(' ', out); /* control characters are not allowed in XML 1.0 */
		else
			fputc(*text, out);
	}
}

void svg_begin(FILE *out, double width, double height)
{
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\">\n",
		width, height, width, height, SVG_FONT);
	fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
}
