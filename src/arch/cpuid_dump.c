/* SPDX-License-Identifier: MIT */
/*
 * Parser for the text Debian's `cpuid -r` prints, plus our '#' metadata comments
 * (docs/profiles.md describes the format).  A dump is a list of "CPU N:" blocks (or a single
 * "CPU:" block from `cpuid -r -1`), each holding lines like
 *
 *    0x0000000d 0x01: eax=0x0000000f ebx=0x000009a8 ecx=0x00001800 edx=0x00000000
 *
 * The whole text is checked, not just the block asked for, so a damaged dump is refused
 * whichever CPU is picked.  Parsing goes into a local profile that is copied out only on
 * success: a failing call leaves the caller's profile unchanged (common.h error model).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/arch.h>

#include "arch/text.h"

#define DUMP_RULE     "docs/profiles.md (cpuid -r dump format)"
#define DUMP_LINE_MAX 4096
/* Distinct leaves remembered per CPU block for the duplicate check; real dumps have ~100. */
#define DUMP_SEEN_MAX 512
/* How much of an offending token a message quotes. */
#define EXCERPT_MAX    24
#define REG_HEX_DIGITS 8

#ifdef __GNUC__
#define DUMP_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define DUMP_PRINTF(fmt_index, first_arg)
#endif

/* A position in one line of the dump (lines are not NUL-terminated). */
struct cursor {
	const char *pos;
	const char *end;
	unsigned line;
};

struct seen_leaf {
	uint32_t leaf;
	uint32_t subleaf;
	unsigned line;
};

/* Lines where each single-valued metadata key was given, to refuse a second one. */
struct metadata_lines {
	unsigned name, description, xcr0, xss, mxcsr_mask;
};

struct dump_state {
	struct vx_profile profile; /* the result, copied out only on success */
	unsigned cpu_index;	   /* the block the caller wants */
	unsigned blocks;	   /* CPU headers seen so far */
	unsigned wanted_header_line;
	unsigned wanted_leaves;
	unsigned total_leaves;
	struct seen_leaf seen[DUMP_SEEN_MAX]; /* leaves of the current block */
	unsigned seen_count;
	struct metadata_lines meta;
};

static int dump_fail(struct vx_error *err, int code, unsigned line, const char *fmt, ...)
    DUMP_PRINTF(4, 5);

/* Record a parse failure at @line; the reason starts with the line number. */
static int dump_fail(struct vx_error *err, int code, unsigned line, const char *fmt, ...)
{
	char what[VX_ERROR_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line)
		vx_error_set(err, code, DUMP_RULE, "line %u: %s", line, what);
	else
		vx_error_set(err, code, DUMP_RULE, "%s", what);
	if (err)
		err->line = line;
	return code;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	return (unsigned)(vx_ascii_lower(c) - 'a' + 10);
}

static void skip_blanks(struct cursor *cur)
{
	while (cur->pos < cur->end && is_blank(*cur->pos))
		cur->pos++;
}

static bool at_end(const struct cursor *cur)
{
	return cur->pos >= cur->end;
}

/* Length of the excerpt of @cur that a message quotes. */
static int excerpt_len(const struct cursor *cur)
{
	size_t left = (size_t)(cur->end - cur->pos);

	return (int)(left < EXCERPT_MAX ? left : EXCERPT_MAX);
}

/* Consume @word if the cursor starts with it (exact case). */
static bool take_word(struct cursor *cur, const char *word)
{
	size_t len = strlen(word);

	if ((size_t)(cur->end - cur->pos) < len || memcmp(cur->pos, word, len) != 0)
		return false;
	cur->pos += len;
	return true;
}

/* How much of a @len-byte token a message quotes. */
static int quoted_len(size_t len)
{
	return (int)(len < EXCERPT_MAX ? len : EXCERPT_MAX);
}

/* The token at the cursor: everything up to a blank, ':' or the end of the line. */
static size_t token_len(const struct cursor *cur)
{
	const char *p = cur->pos;

	while (p < cur->end && !is_blank(*p) && *p != ':')
		p++;
	return (size_t)(p - cur->pos);
}

/*
 * Parse "0x" and 1..8 hex digits (a 32-bit register or leaf number as `cpuid -r` prints it).
 * @what names the field for the message ("leaf", "sub-leaf", "eax").
 */
static int take_hex32(struct cursor *cur, const char *what, uint32_t *value, struct vx_error *err)
{
	size_t len = token_len(cur);
	size_t digits;
	uint32_t result = 0;

	if (len < 3 || cur->pos[0] != '0' || (cur->pos[1] != 'x' && cur->pos[1] != 'X'))
		return dump_fail(err, -EINVAL, cur->line,
				 "malformed hex %s '%.*s': expected 0x followed by hex digits",
				 what, quoted_len(len), cur->pos);
	for (size_t i = 2; i < len; i++)
		if (!is_hex_digit(cur->pos[i]))
			return dump_fail(err, -EINVAL, cur->line,
					 "malformed hex %s '%.*s': '%c' is not a hex digit", what,
					 quoted_len(len), cur->pos, cur->pos[i]);
	digits = len - 2;
	if (digits > REG_HEX_DIGITS)
		return dump_fail(
		    err, -EINVAL, cur->line,
		    "%s value '%.*s' has %zu hex digits; CPUID registers have at most 8", what,
		    quoted_len(len), cur->pos, digits);
	for (size_t i = 2; i < len; i++)
		result = result << 4 | hex_value(cur->pos[i]);
	cur->pos += len;
	*value = result;
	return 0;
}

static const char *const register_names[4] = {"eax", "ebx", "ecx", "edx"};

/* Parse "eax=0x... ebx=0x... ecx=0x... edx=0x...", in that order, as `cpuid -r` prints it. */
static int take_registers(struct cursor *cur, struct vx_cpuid_regs *regs, struct vx_error *err)
{
	uint32_t values[4];

	for (unsigned i = 0; i < 4; i++) {
		char label[5];
		int ret;

		skip_blanks(cur);
		if (at_end(cur))
			return dump_fail(
			    err, -EINVAL, cur->line,
			    "missing register %s (a leaf line needs eax, ebx, ecx and edx)",
			    register_names[i]);
		snprintf(label, sizeof(label), "%s=", register_names[i]);
		if (!take_word(cur, label))
			return dump_fail(err, -EINVAL, cur->line,
					 "expected '%s' but found '%.*s' (missing register %s?)",
					 label, excerpt_len(cur), cur->pos, register_names[i]);
		ret = take_hex32(cur, register_names[i], &values[i], err);
		if (ret)
			return ret;
	}
	regs->eax = values[0];
	regs->ebx = values[1];
	regs->ecx = values[2];
	regs->edx = values[3];
	return 0;
}

/* Refuse a (leaf, sub-leaf) that already appeared in the current CPU block. */
static int check_duplicate(struct dump_state *st, uint32_t leaf, uint32_t subleaf, unsigned line,
			   struct vx_error *err)
{
	for (unsigned i = 0; i < st->seen_count; i++)
		if (st->seen[i].leaf == leaf && st->seen[i].subleaf == subleaf)
			return dump_fail(err, -EINVAL, line,
					 "duplicate leaf 0x%08x sub-leaf 0x%02x in CPU block %u "
					 "(first on line %u)",
					 leaf, subleaf, st->blocks - 1, st->seen[i].line);
	if (st->seen_count < DUMP_SEEN_MAX)
		st->seen[st->seen_count++] = (struct seen_leaf){leaf, subleaf, line};
	return 0;
}

/* "   0x0000000d 0x01: eax=0x... ebx=0x... ecx=0x... edx=0x..." */
static int parse_leaf_line(struct dump_state *st, struct cursor *cur, struct vx_error *err)
{
	struct vx_cpuid_regs regs;
	uint32_t leaf = 0, subleaf = 0;
	int ret;

	if (st->blocks == 0)
		return dump_fail(err, -EINVAL, cur->line,
				 "leaf line before any 'CPU N:' header (not `cpuid -r` output?)");
	ret = take_hex32(cur, "leaf", &leaf, err);
	if (ret)
		return ret;
	skip_blanks(cur);
	ret = take_hex32(cur, "sub-leaf", &subleaf, err);
	if (ret)
		return ret;
	if (!take_word(cur, ":"))
		return dump_fail(err, -EINVAL, cur->line,
				 "expected ':' after the sub-leaf, found '%.*s'", excerpt_len(cur),
				 cur->pos);
	ret = take_registers(cur, &regs, err);
	if (ret)
		return ret;
	skip_blanks(cur);
	if (!at_end(cur))
		return dump_fail(err, -EINVAL, cur->line, "unexpected text after edx: '%.*s'",
				 excerpt_len(cur), cur->pos);
	ret = check_duplicate(st, leaf, subleaf, cur->line, err);
	if (ret)
		return ret;
	st->total_leaves++;
	if (st->blocks - 1 != st->cpu_index)
		return 0;
	st->wanted_leaves++;
	/* Leaves profiles do not keep (-ENOENT) are simply not needed. */
	vx_profile_set_leaf(&st->profile, leaf, subleaf, &regs);
	return 0;
}

/* "CPU N:" (from `cpuid -r`) or "CPU:" (from `cpuid -r -1`): starts a new block. */
static int parse_cpu_header(struct dump_state *st, struct cursor *cur, struct vx_error *err)
{
	const char *start = cur->pos;
	size_t digits = 0;

	take_word(cur, "CPU");
	if (take_word(cur, " "))
		while (!at_end(cur) && *cur->pos >= '0' && *cur->pos <= '9' && digits < 10) {
			cur->pos++;
			digits++;
		}
	if ((cur->pos[-1] == ' ' && digits == 0) || !take_word(cur, ":") || !at_end(cur)) {
		cur->pos = start;
		return dump_fail(err, -EINVAL, cur->line,
				 "malformed CPU header '%.*s' (expected 'CPU N:' or 'CPU:')",
				 excerpt_len(cur), cur->pos);
	}
	if (st->blocks == st->cpu_index)
		st->wanted_header_line = cur->line;
	st->blocks++;
	st->seen_count = 0;
	return 0;
}

/* Parse "0x..." (hex) or decimal into a 64-bit value; false if it is not such a number. */
static bool parse_number(const char *text, size_t len, uint64_t limit, uint64_t *value)
{
	uint64_t result = 0;
	unsigned base = 10;
	size_t i = 0;

	if (len > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		unsigned digit;

		if (base == 16 && is_hex_digit(text[i]))
			digit = hex_value(text[i]);
		else if (text[i] >= '0' && text[i] <= '9')
			digit = (unsigned)(text[i] - '0');
		else
			return false;
		if (result > (limit - digit) / base)
			return false;
		result = result * base + digit;
	}
	*value = result;
	return true;
}

/* A name is an identifier: one that does not fit is refused rather than cut. */
static int set_name(struct vx_profile *profile, const struct cursor *value, struct vx_error *err)
{
	size_t len = (size_t)(value->end - value->pos);

	if (len >= sizeof(profile->name))
		return dump_fail(err, -EINVAL, value->line,
				 "'# name:' value is %zu characters long; at most %zu fit", len,
				 sizeof(profile->name) - 1);
	memcpy(profile->name, value->pos, len);
	profile->name[len] = '\0';
	return 0;
}

/*
 * Append @len bytes of prose to a fixed field that already holds @used bytes.  Descriptions
 * and sources are for people and may run longer than the field: they are cut with "..."
 * (the full text stays in the dump; vx_builtin_profile_text() has it for built-ins).
 */
static void append_prose(char *field, size_t size, size_t used, const char *text, size_t len)
{
	static const char ellipsis[] = "...";

	if (used + len < size) {
		memcpy(field + used, text, len);
		field[used + len] = '\0';
		return;
	}
	if (used + sizeof(ellipsis) > size)
		return; /* already full (and already cut) */
	len = size - sizeof(ellipsis) - used;
	memcpy(field + used, text, len);
	memcpy(field + used + len, ellipsis, sizeof(ellipsis));
}

/* Several "# source:" lines are one source, joined with a space. */
static void append_source(struct vx_profile *profile, const struct cursor *value)
{
	size_t used = strlen(profile->source);

	if (used)
		append_prose(profile->source, sizeof(profile->source), used++, " ", 1);
	append_prose(profile->source, sizeof(profile->source), used, value->pos,
		     (size_t)(value->end - value->pos));
}

/* A single-valued key given twice is refused: which one was meant is not clear. */
static int claim_key(unsigned *first_line, const char *key, unsigned line, struct vx_error *err)
{
	if (*first_line)
		return dump_fail(err, -EINVAL, line, "second '# %s:' line (the first is line %u)",
				 key, *first_line);
	*first_line = line;
	return 0;
}

static int set_number_field(uint64_t *field, uint64_t limit, const char *key,
			    const struct cursor *value, struct vx_error *err)
{
	size_t len = (size_t)(value->end - value->pos);

	if (!parse_number(value->pos, len, limit, field))
		return dump_fail(
		    err, -EINVAL, value->line,
		    "'# %s:' value '%.*s' is not a number (0x... or decimal) below 2^%u", key,
		    excerpt_len(value), value->pos, limit == UINT32_MAX ? 32 : 64);
	return 0;
}

/* Apply one metadata key; unknown keys are ordinary comments. */
static int apply_metadata(struct dump_state *st, const char *key, size_t key_len,
			  const struct cursor *value, struct vx_error *err)
{
	struct vx_profile *p = &st->profile;
	uint64_t number;
	int ret;

	if (value->pos == value->end && !vx_name_matches("source", key, key_len) &&
	    (vx_name_matches("name", key, key_len) ||
	     vx_name_matches("description", key, key_len) ||
	     vx_name_matches("xcr0", key, key_len) || vx_name_matches("xss", key, key_len) ||
	     vx_name_matches("mxcsr-mask", key, key_len)))
		return dump_fail(err, -EINVAL, value->line, "'# %.*s:' has no value", (int)key_len,
				 key);
	if (vx_name_matches("name", key, key_len)) {
		ret = claim_key(&st->meta.name, "name", value->line, err);
		return ret ? ret : set_name(p, value, err);
	}
	if (vx_name_matches("description", key, key_len)) {
		ret = claim_key(&st->meta.description, "description", value->line, err);
		if (!ret)
			append_prose(p->description, sizeof(p->description), 0, value->pos,
				     (size_t)(value->end - value->pos));
		return ret;
	}
	if (vx_name_matches("source", key, key_len)) {
		if (value->pos != value->end)
			append_source(p, value);
		return 0;
	}
	if (vx_name_matches("xcr0", key, key_len)) {
		ret = claim_key(&st->meta.xcr0, "xcr0", value->line, err);
		return ret ? ret
			   : set_number_field(&p->xcr0_at_capture, UINT64_MAX, "xcr0", value, err);
	}
	if (vx_name_matches("xss", key, key_len)) {
		ret = claim_key(&st->meta.xss, "xss", value->line, err);
		if (!ret)
			ret = set_number_field(&p->xss_at_capture, UINT64_MAX, "xss", value, err);
		p->xss_known = ret == 0;
		return ret;
	}
	if (vx_name_matches("mxcsr-mask", key, key_len)) {
		ret = claim_key(&st->meta.mxcsr_mask, "mxcsr-mask", value->line, err);
		if (!ret)
			ret = set_number_field(&number, UINT32_MAX, "mxcsr-mask", value, err);
		if (!ret)
			p->mxcsr_mask = (uint32_t)number;
		return ret;
	}
	return 0;
}

/* "# key: value" sets metadata; any other comment is ignored. */
static int parse_comment(struct dump_state *st, struct cursor *cur, struct vx_error *err)
{
	const char *key;
	size_t key_len = 0;

	cur->pos++; /* '#' */
	skip_blanks(cur);
	key = cur->pos;
	while (cur->pos < cur->end &&
	       ((*cur->pos >= 'a' && *cur->pos <= 'z') || (*cur->pos >= 'A' && *cur->pos <= 'Z') ||
		*cur->pos == '-' || (*cur->pos >= '0' && *cur->pos <= '9'))) {
		cur->pos++;
		key_len++;
	}
	if (key_len == 0 || !take_word(cur, ":"))
		return 0;
	skip_blanks(cur);
	return apply_metadata(st, key, key_len, cur, err);
}

/* One line, without its '\n'.  Trailing '\r' and blanks are not part of the content. */
static int parse_line(struct dump_state *st, const char *text, size_t len, unsigned line,
		      struct vx_error *err)
{
	struct cursor cur = {text, text + len, line};
	const char *nul = memchr(text, '\0', len);

	if (len > DUMP_LINE_MAX)
		return dump_fail(err, -EINVAL, line, "line is %zu bytes long; the limit is %u", len,
				 DUMP_LINE_MAX);
	if (nul)
		return dump_fail(err, -EINVAL, line, "NUL byte at column %zu (binary data?)",
				 (size_t)(nul - text) + 1);
	while (cur.end > cur.pos && (cur.end[-1] == '\r' || is_blank(cur.end[-1])))
		cur.end--;
	skip_blanks(&cur);
	if (at_end(&cur))
		return 0;
	if (*cur.pos == '#')
		return parse_comment(st, &cur, err);
	if (cur.end - cur.pos >= 3 && memcmp(cur.pos, "CPU", 3) == 0)
		return parse_cpu_header(st, &cur, err);
	if (*cur.pos == '0')
		return parse_leaf_line(st, &cur, err);
	return dump_fail(err, -EINVAL, line,
			 "unexpected text '%.*s' (expected 'CPU N:', a leaf line or a '#' comment)",
			 excerpt_len(&cur), cur.pos);
}

/* After the last line: the wanted block must exist and hold leaves. */
static int check_complete(const struct dump_state *st, unsigned last_line, struct vx_error *err)
{
	if (st->total_leaves == 0)
		return dump_fail(err, -EINVAL, 0,
				 "the dump has no leaf lines (%u lines, %u CPU headers): "
				 "is this `cpuid -r` output?",
				 last_line, st->blocks);
	if (st->cpu_index >= st->blocks)
		return dump_fail(err, -ENOENT, 0,
				 "CPU index %u requested but the dump has %u CPU block%s (0..%u)",
				 st->cpu_index, st->blocks, st->blocks == 1 ? "" : "s",
				 st->blocks - 1);
	if (st->wanted_leaves == 0)
		return dump_fail(err, -EINVAL, st->wanted_header_line,
				 "CPU block %u has no leaf lines", st->cpu_index);
	return 0;
}

int vx_profile_parse_cpuid_dump(struct vx_profile *profile, const char *text, size_t len,
				unsigned cpu_index, struct vx_error *err)
{
	static const struct dump_state empty_state;
	struct dump_state st = empty_state;
	size_t pos = 0;
	unsigned line = 0;
	int ret;

	if (!profile || (!text && len))
		return dump_fail(err, -EINVAL, 0,
				 "vx_profile_parse_cpuid_dump needs a profile and text");
	vx_profile_init(&st.profile);
	st.cpu_index = cpu_index;
	while (pos < len) {
		const char *newline = memchr(text + pos, '\n', len - pos);
		size_t line_len = newline ? (size_t)(newline - (text + pos)) : len - pos;

		ret = parse_line(&st, text + pos, line_len, ++line, err);
		if (ret)
			return ret;
		pos += line_len + (newline ? 1 : 0);
	}
	ret = check_complete(&st, line, err);
	if (ret)
		return ret;
	*profile = st.profile;
	return 0;
}

int vx_profile_parse_dump(struct vx_profile *profile, const char *text, size_t len,
			  unsigned cpu_index, struct vx_error *err)
{
	/* The formats cannot be confused: InstLatx64 lines start "CPUID llllllll:", which the
	 * `cpuid -r` grammar refuses (docs/profiles.md "Dump formats"). */
	if (text && vx_dump_is_instlatx(text, len))
		return vx_profile_parse_instlatx(profile, text, len, cpu_index, err);
	return vx_profile_parse_cpuid_dump(profile, text, len, cpu_index, err);
}
