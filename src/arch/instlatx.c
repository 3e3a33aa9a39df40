/* SPDX-License-Identifier: MIT */
/*
 * Parser for InstLatx64 CPUID dumps (the AIDA64 "CPUID Registers" report that the InstLatx64
 * collection publishes for most x86 CPUs; docs/profiles.md "InstLatx64 dumps"):
 *
 *   ------[ CPUID Registers / Logical CPU #0 ]------
 *   CPUID 0000000D: 000602E7-00002B00-00002B00-00000000 [SL 00] [x87]
 *
 * Registers are EAX-EBX-ECX-EDX; "[SL nn]" gives the sub-leaf in hex (none = 0); anything
 * after the registers in brackets is a comment.  Every other line (the report's prose) is
 * ignored.  Like the `cpuid -r` parser, the whole text is checked, the result goes into a
 * local profile and is copied out only on success.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/arch.h>

#include "arch/text.h"

#define INSTLATX_RULE  "docs/profiles.md (InstLatx64 dump format)"
#define LINE_MAX_BYTES 4096
#define SEEN_MAX       512

struct instlatx_state {
	struct vx_profile profile;
	unsigned cpu_index;
	unsigned blocks; /* "Logical CPU #" headers seen; CPUID lines before any count as block 0 */
	bool implicit_block;
	unsigned total_leaves, wanted_leaves;
	uint64_t seen[SEEN_MAX]; /* leaf << 32 | subleaf, of the current block */
	unsigned seen_count;
};

static bool hex_digit(char c, unsigned *value)
{
	if (c >= '0' && c <= '9')
		*value = (unsigned)(c - '0');
	else if (c >= 'a' && c <= 'f')
		*value = (unsigned)(c - 'a' + 10);
	else if (c >= 'A' && c <= 'F')
		*value = (unsigned)(c - 'A' + 10);
	else
		return false;
	return true;
}

/* Exactly @digits hex digits at @p (within @end). */
static bool take_hex(const char **p, const char *end, unsigned digits, uint32_t *out)
{
	uint32_t v = 0;

	if ((size_t)(end - *p) < digits)
		return false;
	for (unsigned i = 0; i < digits; i++) {
		unsigned d;

		if (!hex_digit((*p)[i], &d))
			return false;
		v = v << 4 | d;
	}
	*p += digits;
	*out = v;
	return true;
}

static bool starts_with(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

/* "CPUID " + 8 hex digits + ':' - a register line (anything else starting "CPUID" is prose). */
static bool is_register_line(const char *p, const char *end)
{
	uint32_t leaf;

	if (!starts_with(p, end, "CPUID "))
		return false;
	p += 6;
	return take_hex(&p, end, 8, &leaf) && p < end && *p == ':';
}

static const char *find(const char *p, const char *end, const char *word)
{
	for (; p < end; p++)
		if (starts_with(p, end, word))
			return p;
	return NULL;
}

static int fail(struct vx_error *err, unsigned line, const char *what)
{
	vx_error_set(err, -EINVAL, INSTLATX_RULE, "line %u: %s", line, what);
	if (err)
		err->line = line;
	return -EINVAL;
}

static int remember(struct instlatx_state *st, uint32_t leaf, uint32_t subleaf, unsigned line,
		    struct vx_error *err)
{
	uint64_t key = (uint64_t)leaf << 32 | subleaf;
	char what[96];

	for (unsigned i = 0; i < st->seen_count; i++)
		if (st->seen[i] == key) {
			snprintf(what, sizeof(what),
				 "duplicate leaf 0x%08x sub-leaf 0x%02x in CPU block %u", leaf,
				 subleaf, st->blocks - 1);
			return fail(err, line, what);
		}
	if (st->seen_count < SEEN_MAX)
		st->seen[st->seen_count++] = key;
	return 0;
}

/* "CPUID 0000000D: 000602E7-00002B00-00002B00-00000000 [SL 00] [x87]" */
static int parse_register_line(struct instlatx_state *st, const char *p, const char *end,
			       unsigned line, struct vx_error *err)
{
	struct vx_cpuid_regs regs;
	uint32_t leaf = 0, subleaf = 0, values[4];
	const char *tag;
	int ret;

	p += 6;
	take_hex(&p, end, 8, &leaf);
	p++; /* ':' */
	while (p < end && *p == ' ')
		p++;
	for (unsigned i = 0; i < 4; i++) {
		if (!take_hex(&p, end, 8, &values[i]) || (i < 3 && (p >= end || *p++ != '-')))
			return fail(
			    err, line,
			    "malformed registers: expected EAX-EBX-ECX-EDX, four groups of 8 "
			    "hex digits separated by '-'");
	}
	if (p < end && *p != ' ')
		return fail(err, line, "unexpected text right after EDX");
	tag = find(p, end, "[SL ");
	if (tag) {
		tag += 4;
		subleaf = 0;
		if (!take_hex(&tag, end, 2, &subleaf) || tag >= end || *tag != ']')
			return fail(err, line, "malformed sub-leaf tag: expected '[SL nn]' (hex)");
	}
	if (st->blocks == 0) {
		st->blocks = 1;
		st->implicit_block = true;
	}
	ret = remember(st, leaf, subleaf, line, err);
	if (ret)
		return ret;
	st->total_leaves++;
	if (st->blocks - 1 != st->cpu_index)
		return 0;
	st->wanted_leaves++;
	regs = (struct vx_cpuid_regs){values[0], values[1], values[2], values[3]};
	vx_profile_set_leaf(&st->profile, leaf, subleaf, &regs); /* unkept leaves: not needed */
	return 0;
}

static int parse_line(struct instlatx_state *st, const char *p, size_t len, unsigned line,
		      struct vx_error *err)
{
	const char *end = p + len;

	if (len > LINE_MAX_BYTES)
		return fail(err, line, "line longer than 4096 bytes");
	if (memchr(p, '\0', len))
		return fail(err, line, "NUL byte (binary data?)");
	while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (find(p, end, "Logical CPU #") && starts_with(p, end, "------[")) {
		if (st->implicit_block)
			return fail(err, line,
				    "'Logical CPU #' header after CPUID lines of no CPU");
		st->blocks++;
		st->seen_count = 0;
		return 0;
	}
	if (is_register_line(p, end))
		return parse_register_line(st, p, end, line, err);
	return 0;
}

bool vx_dump_is_instlatx(const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *p = text + pos, *end = p + n;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (is_register_line(p, end))
			return true;
		pos += n + 1;
	}
	return false;
}

int vx_profile_parse_instlatx(struct vx_profile *profile, const char *text, size_t len,
			      unsigned cpu_index, struct vx_error *err)
{
	static const struct instlatx_state empty;
	struct instlatx_state st = empty;
	size_t pos = 0;
	unsigned line = 0;
	int ret;

	if (!profile || (!text && len))
		return vx_error_set(err, -EINVAL, NULL,
				    "vx_profile_parse_instlatx needs a profile and text");
	vx_profile_init(&st.profile);
	st.cpu_index = cpu_index;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		ret = parse_line(&st, text + pos, n, ++line, err);
		if (ret)
			return ret;
		pos += n + 1;
	}
	if (st.total_leaves == 0)
		return vx_error_set(err, -EINVAL, INSTLATX_RULE,
				    "no 'CPUID llllllll: EAX-EBX-ECX-EDX' lines: is this an "
				    "InstLatx64 (AIDA64) CPUID dump?");
	if (cpu_index >= st.blocks)
		return vx_error_set(
		    err, -ENOENT, INSTLATX_RULE,
		    "CPU index %u requested but the dump has %u logical CPU block%s", cpu_index,
		    st.blocks, st.blocks == 1 ? "" : "s");
	if (st.wanted_leaves == 0)
		return vx_error_set(err, -EINVAL, INSTLATX_RULE,
				    "logical CPU block %u has no CPUID lines", cpu_index);
	snprintf(st.profile.source, sizeof(st.profile.source),
		 "InstLatx64 (AIDA64) CPUID dump, logical CPU block %u", cpu_index);
	*profile = st.profile;
	return 0;
}
