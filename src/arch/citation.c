/* SPDX-License-Identifier: MIT */
/*
 * Rules in the code name the section of the project's notes they come from ("arch.md §3.1
 * rule 2"): that is what a developer opens.  A user of an installed vxsave has the Intel SDM
 * and the AMD APM instead, so everything printed for users goes through vx_cite(), which
 * replaces each notes reference by the manual section the notes paraphrase (the sources each
 * section of arch.md names in its heading).
 */
#include <string.h>

#include <vxsave/arch.h>

#define NOTES_PREFIX "arch.md "
#define SECTION_SIGN "\xC2\xA7" /* § in UTF-8 */

/* arch.md section -> the manual section it paraphrases.  Looked up by the whole number first,
 * then by its parent ("7.11" before "7"), so subsections only need a row when they differ. */
static const struct {
	const char *section;
	const char *manual;
} citations[] = {
    {"1.1", "Intel SDM Vol.2 CPUID"},
    {"1", "Intel SDM Vol.1 " SECTION_SIGN "13.2"},
    {"2.1", "Intel SDM Vol.1 " SECTION_SIGN "13.1"},
    {"2.2", "Intel SDM Vol.1 " SECTION_SIGN "13.4.1"},
    {"2.3", "Intel SDM Vol.1 " SECTION_SIGN "13.4.2"},
    {"2.4", "Intel SDM Vol.1 " SECTION_SIGN "13.4.3"},
    {"2.5", "Intel SDM Vol.1 " SECTION_SIGN "13.5"},
    {"2.6", "AMD APM Vol.2 " SECTION_SIGN "11.5"},
    {"2", "Intel SDM Vol.1 " SECTION_SIGN "13.4"},
    {"3.1", "Intel SDM Vol.1 " SECTION_SIGN "13.3, Vol.2 XSETBV"},
    {"3.2", "Intel SDM Vol.1 " SECTION_SIGN "13.3"},
    {"3.3", "Intel SDM Vol.1 " SECTION_SIGN "13.14"},
    {"4", "Intel SDM Vol.1 " SECTION_SIGN "13.6"},
    {"5.0", "Intel SDM Vol.2, XSAVE-family exception lists"},
    {"5.1", "Intel SDM Vol.1 " SECTION_SIGN "13.7, Vol.2 XSAVE"},
    {"5.2", "Intel SDM Vol.1 " SECTION_SIGN "13.9, Vol.2 XSAVEOPT"},
    {"5.3", "Intel SDM Vol.1 " SECTION_SIGN "13.10, Vol.2 XSAVEC"},
    {"5.4", "Intel SDM Vol.1 " SECTION_SIGN "13.11, Vol.2 XSAVES"},
    {"5.5", "Intel SDM Vol.1 " SECTION_SIGN "13.8, Vol.2 XRSTOR"},
    {"5.6", "Intel SDM Vol.1 " SECTION_SIGN "13.12, Vol.2 XRSTORS"},
    {"5.7", "Intel SDM Vol.2 XGETBV"},
    {"5.8", "Intel SDM Vol.2 XSETBV"},
    {"5.9", "Intel SDM Vol.1 " SECTION_SIGN "13.14"},
    {"5", "Intel SDM Vol.1 ch. 13"},
    {"6", "Intel SDM Vol.1 " SECTION_SIGN "13.6"},
    {"7.11", "Intel SDM Vol.3C (VMX), CET state"},
    {"7.12", "AMD APM Vol.2, Shadow Stacks"},
    {"7", "Intel SDM Vol.1, CET chapter"},
    {"8", "AMD APM Vol.2 " SECTION_SIGN "11.5"},
};

#define CITATION_COUNT (sizeof(citations) / sizeof(citations[0]))

static const char *manual_for(const char *section, size_t len)
{
	while (len) {
		for (size_t i = 0; i < CITATION_COUNT; i++)
			if (strlen(citations[i].section) == len &&
			    memcmp(citations[i].section, section, len) == 0)
				return citations[i].manual;
		/* Not listed: try the parent section ("5.10" -> "5"). */
		while (len && section[len - 1] != '.')
			len--;
		if (len)
			len--;
	}
	return "Intel SDM Vol.1 ch. 13";
}

/* Length of a section number ("3.1", "7.12") at @s, or 0. */
static size_t section_length(const char *s)
{
	size_t n = 0;

	while ((s[n] >= '0' && s[n] <= '9') ||
	       (s[n] == '.' && n && s[n + 1] >= '0' && s[n + 1] <= '9'))
		n++;
	return n;
}

/* Appends to a bounded buffer, counting what the whole text needs (snprintf-like). */
struct sink {
	char *buf;
	size_t len, used;
};

static void put(struct sink *out, const char *text, size_t n)
{
	for (size_t i = 0; i < n; i++, out->used++)
		if (out->used + 1 < out->len)
			out->buf[out->used] = text[i];
}

/* " rule 6" after a section: the numbering of the notes, meaningless next to the SDM. */
static size_t rule_suffix_length(const char *s)
{
	size_t n = strlen(" rule ");

	if (strncmp(s, " rule ", n) != 0 || s[n] < '0' || s[n] > '9')
		return 0;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* Length of the "Intel SDM Vol.1 " both citations start with, or 0 if they differ there. */
static size_t shared_volume(const char *a, const char *b)
{
	static const char *const volumes[] = {"Intel SDM Vol.1 ", "AMD APM Vol.2 "};

	for (size_t i = 0; i < sizeof(volumes) / sizeof(volumes[0]); i++) {
		size_t n = strlen(volumes[i]);

		if (strncmp(a, volumes[i], n) == 0 && strncmp(b, volumes[i], n) == 0 &&
		    strncmp(b + n, SECTION_SIGN, strlen(SECTION_SIGN)) == 0)
			return n;
	}
	return 0;
}

/*
 * One reference: "arch.md §1.2/§1.3" or "arch.md §1.1, §2.1, §3.1 rule 6".  Returns the bytes
 * of @s it consumed (0 if @s is no reference).
 */
static size_t cite_reference(const char *s, struct sink *out)
{
	const char *p = s + strlen(NOTES_PREFIX);
	const char *last = NULL;
	size_t sign = strlen(SECTION_SIGN);

	if (strncmp(p, SECTION_SIGN, sign) != 0 || !section_length(p + sign))
		return 0;
	for (;;) {
		size_t n = section_length(p + sign);
		const char *manual = manual_for(p + sign, n);

		if (!last) {
			put(out, manual, strlen(manual));
		} else if (strcmp(last, manual) != 0) {
			/* "Intel SDM Vol.1 §13.2, §13.14": the shared volume is said once. */
			size_t same = shared_volume(last, manual);

			put(out, same ? ", " : "; ", 2);
			put(out, manual + same, strlen(manual + same));
		}
		last = manual;
		p += sign + n;
		p += rule_suffix_length(p);
		/* More sections of the same reference: "/§1.3" or ", §2.1". */
		if (p[0] == '/' && strncmp(p + 1, SECTION_SIGN, sign) == 0 &&
		    section_length(p + 1 + sign))
			p += 1;
		else if (p[0] == ',' && p[1] == ' ' && strncmp(p + 2, SECTION_SIGN, sign) == 0 &&
			 section_length(p + 2 + sign))
			p += 2;
		else
			return (size_t)(p - s);
	}
}

size_t vx_cite(const char *text, char *buf, size_t len)
{
	struct sink out = {buf, len, 0};

	while (text && *text) {
		size_t used = strncmp(text, NOTES_PREFIX, strlen(NOTES_PREFIX)) == 0
				  ? cite_reference(text, &out)
				  : 0;

		if (!used) {
			put(&out, text, 1);
			used = 1;
		}
		text += used;
	}
	if (len)
		buf[out.used < len ? out.used : len - 1] = '\0';
	return out.used;
}
