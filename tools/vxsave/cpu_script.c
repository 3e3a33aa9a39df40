/* SPDX-License-Identifier: MIT */
/*
 * The `vxsave cpu` script language, part 1: what the grammar engine (script_grammar.c) needs
 * to know about cpu statements besides their table (cpu_script_table.c) - buffers and the
 * kinds that refer to them (BUF[+OFF], area offsets, widths), the other cpu words (CR bits,
 * modes, VM-exit reasons), and the checks between arguments (ranges inside buffers, values
 * that must fit).  Reference: docs/cpu-script.md.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cpu_script_internal.h"

#define CS_FIRST_BASE UINT64_C(0x100000)
#define CS_BUFFER_GAP UINT64_C(0x1000)
#define CS_ALIGN_MAX  4096u

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The CLI's documented bounds are the engine's. */
_Static_assert(CPU_SCRIPT_LINE_MAX == SG_LINE_MAX, "line bound");
/* NOLINTNEXTLINE(misc-redundant-expression): two names, one value, is the point */
_Static_assert(CPU_SCRIPT_TEXT_MAX == SG_TEXT_MAX, "text bound");
_Static_assert(CPU_SCRIPT_STATEMENTS_MAX == SG_STATEMENTS_MAX, "statement bound");

/* ----------------------------------------------------------------------------------------- */
/* Names                                                                                        */

const struct sg_choice cs_mode_names[] = {
    {"64", VX_MODE_64BIT},	   {"64bit", VX_MODE_64BIT},
    {"long", VX_MODE_64BIT},	   {"compat", VX_MODE_COMPAT},
    {"protected", VX_MODE_COMPAT}, {"32", VX_MODE_COMPAT},
    {"real", VX_MODE_REAL},	   {"v86", VX_MODE_V86},
    {"vm86", VX_MODE_V86},	   {NULL, 0},
};

const struct sg_choice cs_on_off[] = {
    {"on", 1}, {"1", 1}, {"off", 0}, {"0", 0}, {NULL, 0},
};

const struct sg_choice cs_vmx_modes[] = {
    {"nonroot", 1},
    {"non-root", 1},
    {"root", 0},
    {NULL, 0},
};

const struct sg_choice cs_cr0_bits[] = {
    {"pe", VX_CR0_PE}, {"em", VX_CR0_EM}, {"ts", VX_CR0_TS},
    {"wp", VX_CR0_WP}, {"am", VX_CR0_AM}, {NULL, 0},
};

const struct sg_choice cs_cr4_bits[] = {
    {"osfxsr", VX_CR4_OSFXSR},
    {"osxsave", VX_CR4_OSXSAVE},
    {"pke", VX_CR4_PKE},
    {"cet", VX_CR4_CET},
    {NULL, 0},
};

static const struct sg_choice exit_names[] = {
    {"xsetbv", VX_EXIT_XSETBV},
    {"xsaves", VX_EXIT_XSAVES},
    {"xrstors", VX_EXIT_XRSTORS},
    {NULL, 0},
};

/* Symbolic offsets inside an XSAVE area (arch.md §2.2, §2.3). */
static const struct sg_choice area_offsets[] = {
    {"fcw", 0},
    {"mxcsr", VX_MXCSR_OFFSET},
    {"mxcsr_mask", VX_MXCSR_MASK_OFFSET},
    {"xmm0", VX_XMM_OFFSET},
    {"header", VX_HEADER_OFFSET},
    {"xstate_bv", VX_XSTATE_BV_OFFSET},
    {"xcomp_bv", VX_XCOMP_BV_OFFSET},
    {"extended", VX_EXTENDED_OFFSET},
    {NULL, 0},
};

static const struct sg_choice widths[] = {
    {"u8", 1}, {"u16", 2}, {"u32", 4}, {"u64", 8}, {NULL, 0},
};

/* Words that name print/expect subjects, so they cannot be buffer names. */
static const char *const reserved_words[] = {
    "state", "reg", "xinuse", "xmodified", "tracking", "xcr0", "msr",  "control",
    "value", "ok",  "fault",  "vmexit",	   "ssp",      "all",  "none",
};

const char *cs_mode_name(enum vx_cpu_mode mode)
{
	switch (mode) {
	case VX_MODE_64BIT:
		return "64";
	case VX_MODE_COMPAT:
		return "compat";
	case VX_MODE_REAL:
		return "real";
	case VX_MODE_V86:
		return "v86";
	}
	return "?";
}

static bool lookup(const struct sg_choice *choices, const char *word, uint64_t *value)
{
	for (; choices->name; choices++) {
		if (strcasecmp(choices->name, word) == 0) {
			*value = choices->value;
			return true;
		}
	}
	return false;
}

static bool is_reserved_word(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(reserved_words); i++)
		if (strcasecmp(reserved_words[i], word) == 0)
			return true;
	return false;
}

/* ----------------------------------------------------------------------------------------- */
/* Kinds                                                                                        */

static int find_buffer(const struct cpu_script *script, const char *name)
{
	for (unsigned i = 0; i < script->buffer_count; i++)
		if (strcmp(script->buffers[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool cs_is_buffer_word(void *context, const char *word)
{
	return find_buffer(context, word) >= 0 || strchr(word, '+');
}

/* NAME or NAME+OFFSET: the buffer and where in it the area starts. */
static int parse_area(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	static const struct sg_arg offset_arg = {.kind = &sg_kind_number, .what = "an offset"};
	const struct cpu_script *script = sg_context(p);
	const char *plus = strchr(word, '+');
	size_t length = plus ? (size_t)(plus - word) : strlen(word);
	struct cs_area *area = dest;
	char name[CPU_SCRIPT_NAME_MAX];

	(void)spec;
	if (length == 0 || length >= sizeof(name))
		return sg_fail(p, -EINVAL, "'%s' is not a buffer name", word);
	snprintf(name, sizeof(name), "%.*s", (int)length, word);
	area->buffer = find_buffer(script, name);
	if (area->buffer < 0)
		return sg_fail(p, -EINVAL, "buffer '%s' not defined", name);
	area->offset = 0;
	if (plus && sg_kind_number.parse(p, &offset_arg, plus + 1, &area->offset))
		return -EINVAL;
	if (area->offset >= script->buffers[area->buffer].size)
		return sg_fail(p, -EINVAL, "offset %#llx is beyond buffer '%s' (%zu bytes)",
			       (unsigned long long)area->offset, name,
			       script->buffers[area->buffer].size);
	return 0;
}

/* An offset inside an area: a number or a header field name (xstate_bv, mxcsr...). */
static int parse_offset(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			void *dest)
{
	if (lookup(area_offsets, word, dest))
		return 0;
	return sg_kind_number.parse(p, spec, word, dest);
}

static int parse_width(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	(void)spec;
	if (!lookup(widths, word, dest))
		return sg_fail(p, -EINVAL, "expected u8, u16, u32 or u64, not '%s'", word);
	return 0;
}

static int parse_byte(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	int rc = sg_kind_number.parse(p, spec, word, dest);

	if (!rc && *(uint64_t *)dest > 0xFF)
		return sg_fail(p, -EINVAL, "fill value '%s' is not a byte", word);
	return rc;
}

/* The bit names of @choices ("pe em ts wp am"), for the message that lists them. */
static void bit_names(const struct sg_choice *choices, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; choices->name && used < len; choices++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "",
					 choices->name);
}

/* One of +BIT, -BIT, =VALUE for `set cr0|cr4` (spec->what is the register). */
static int parse_cr(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	struct cs_cr_change *change = dest;
	char names[128];
	uint64_t bit;

	if (word[0] == '=') {
		change->assign = true;
		return sg_kind_number.parse(p, spec, word + 1, &change->value);
	}
	if ((word[0] != '+' && word[0] != '-') || !lookup(spec->choices, word + 1, &bit)) {
		bit_names(spec->choices, names, sizeof(names));
		return sg_fail(p, -EINVAL,
			       "unknown %s change '%s' (use +BIT, -BIT or =VALUE; bits: %s)",
			       spec->what, word, names);
	}
	if (word[0] == '+')
		change->set |= bit;
	else
		change->clear |= bit;
	return 0;
}

static int parse_exit(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	struct cs_exit *exit = dest;
	uint64_t reason;

	exit->given = true;
	if (lookup(exit_names, word, &reason)) {
		exit->reason = (uint32_t)reason;
		return 0;
	}
	return sg_kind_u32.parse(p, spec, word, &exit->reason);
}

const struct sg_kind cs_kind_area = {"BUF[+OFF]", parse_area};
const struct sg_kind cs_kind_offset = {"OFFSET", parse_offset};
const struct sg_kind cs_kind_width = {"u8|u16|u32|u64", parse_width};
const struct sg_kind cs_kind_byte = {"BYTE", parse_byte};
const struct sg_kind cs_kind_cr = {"+BIT|-BIT|=VALUE", parse_cr};
const struct sg_kind cs_kind_exit = {"REASON", parse_exit};

/* ----------------------------------------------------------------------------------------- */
/* Checks between arguments                                                                     */

/* The last argument given: the value the checks below talk about. */
static const char *last_word(const struct sg_parser *p)
{
	const char *word = NULL;

	for (unsigned i = 0; i < SG_ARGS_MAX; i++)
		if (sg_word(p, i))
			word = sg_word(p, i);
	return word ? word : "";
}

/* [area + where, + length) must lie inside the buffer. */
static int check_inside(struct sg_parser *p, const struct cs_stmt *stmt, uint64_t length)
{
	const struct cpu_script *script = sg_context(p);
	const struct cs_buffer *buffer = &script->buffers[stmt->area.buffer];
	uint64_t room = buffer->size - stmt->area.offset;

	if (stmt->where >= room || length > room - stmt->where)
		return sg_fail(p, -EINVAL,
			       "offset %#llx + %llu bytes is beyond buffer '%s' (%zu bytes)",
			       (unsigned long long)stmt->area.offset + stmt->where,
			       (unsigned long long)length, buffer->name, buffer->size);
	return 0;
}

/* fill, print: OFFSET LENGTH, or the rest of the buffer. */
int cs_check_range(struct sg_parser *p, void *payload)
{
	const struct cpu_script *script = sg_context(p);
	struct cs_stmt *stmt = payload;

	/* OFFSET LENGTH are the row's last two arguments */
	if (!sg_word(p, sg_arg_count(p) - 1))
		stmt->length = script->buffers[stmt->area.buffer].size - stmt->area.offset;
	return check_inside(p, stmt, stmt->length);
}

/* hex:BYTES at OFFSET. */
int cs_check_bytes(struct sg_parser *p, void *payload)
{
	struct cs_stmt *stmt = payload;

	stmt->length = stmt->value.length;
	return check_inside(p, stmt, stmt->length);
}

/* A number of @length bytes at OFFSET: it must fit (all ones is cut to the width). */
int cs_check_sized(struct sg_parser *p, void *payload)
{
	struct cs_stmt *stmt = payload;
	uint64_t width = stmt->length;

	if (width < 8 && stmt->mask != UINT64_MAX && (stmt->mask >> (8 * width)))
		return sg_fail(p, -EINVAL, "value '%s' does not fit in %llu byte%s", last_word(p),
			       (unsigned long long)width, width == 1 ? "" : "s");
	if (width < 8)
		stmt->mask &= (UINT64_C(1) << (8 * width)) - 1;
	return check_inside(p, stmt, width);
}

int cs_check_cpl(struct sg_parser *p, void *payload)
{
	const struct cs_stmt *stmt = payload;

	if (stmt->number > 3)
		return sg_fail(p, -EINVAL, "cpl '%s' is not 0..3", sg_word(p, 0));
	return 0;
}

/* A value written to or compared with a register must fit the register's largest width. */
int cs_check_reg_value(struct sg_parser *p, void *payload)
{
	const struct cs_stmt *stmt = payload;
	const char *word = last_word(p);
	size_t width = stmt->reg->width;

	if (width && !stmt->value.all_ones && stmt->value.length > width)
		return sg_fail(
		    p, -EINVAL, "value '%.40s%s' has %zu significant bytes, %s holds %zu", word,
		    strlen(word) > 40 ? "..." : "", stmt->value.length, stmt->reg->name, width);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* buffer NAME SIZE [align N | at ADDR]: declared while parsing, zero-filled at each run        */

static bool valid_buffer_name(const char *name)
{
	if (!isalpha((unsigned char)name[0]) && name[0] != '_')
		return false;
	for (const char *s = name; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return strlen(name) < CPU_SCRIPT_NAME_MAX;
}

static bool overlaps_existing(const struct cpu_script *script, uint64_t base, uint64_t size)
{
	for (unsigned i = 0; i < script->buffer_count; i++) {
		const struct cs_buffer *b = &script->buffers[i];

		if (base < b->base + b->size && b->base < base + size)
			return true;
	}
	return false;
}

static int check_buffer_name(struct sg_parser *p, const struct cpu_script *script, const char *name)
{
	if (!valid_buffer_name(name))
		return sg_fail(p, -EINVAL,
			       "bad buffer name '%s' (letters, digits, '_'; at most %u chars)",
			       name, CPU_SCRIPT_NAME_MAX - 1);
	if (is_reserved_word(name))
		return sg_fail(p, -EINVAL, "'%s' is a reserved word; choose another buffer name",
			       name);
	if (find_buffer(script, name) >= 0)
		return sg_fail(p, -EINVAL, "buffer '%s' already defined", name);
	if (script->buffer_count >= CPU_SCRIPT_BUFFERS_MAX)
		return sg_fail(p, -E2BIG, "too many buffers (at most %u)", CPU_SCRIPT_BUFFERS_MAX);
	return 0;
}

static int place_at(struct sg_parser *p, const struct cpu_script *script, uint64_t size,
		    uint64_t *base)
{
	static const struct sg_arg address = {.kind = &sg_kind_number, .what = "an address"};

	if (sg_kind_number.parse(p, &address, sg_word(p, 3), base))
		return -EINVAL;
	if (*base > UINT64_MAX - size)
		return sg_fail(p, -EINVAL, "buffer at %#llx wraps around the address space",
			       (unsigned long long)*base);
	if (overlaps_existing(script, *base, size))
		return sg_fail(p, -EINVAL, "buffer at %#llx overlaps another buffer",
			       (unsigned long long)*base);
	return 0;
}

/* The next free address rounded up to @align; the gap keeps an overrun a #PF. */
static int place_next(struct sg_parser *p, const struct cpu_script *script, uint64_t size,
		      uint64_t align, uint64_t *base)
{
	*base = (script->next_base + align - 1) & ~(align - 1);
	while (*base >= script->next_base && *base <= UINT64_MAX - size - CS_BUFFER_GAP &&
	       overlaps_existing(script, *base, size))
		*base += CS_BUFFER_GAP;
	if (*base < script->next_base || *base > UINT64_MAX - size - CS_BUFFER_GAP)
		return sg_fail(p, -EINVAL,
			       "no room for buffer '%s' after the buffers placed "
			       "with 'at' (give it an address too)",
			       sg_word(p, 0));
	return 0;
}

/* Where a buffer goes: `at ADDR`, or the next free address rounded up to `align N` (64). */
static int place_buffer(struct sg_parser *p, const struct cpu_script *script, uint64_t size,
			uint64_t *base)
{
	static const struct sg_arg alignment = {.kind = &sg_kind_number, .what = "an alignment"};
	const char *how = sg_word(p, 2);
	uint64_t align = VX_AREA_ALIGN;

	if (how && strcasecmp(how, "at") == 0)
		return place_at(p, script, size, base);
	if (how && strcasecmp(how, "align") != 0)
		return sg_fail(p, -EINVAL, "expected 'align N' or 'at ADDR', not '%s'", how);
	if (how && sg_kind_number.parse(p, &alignment, sg_word(p, 3), &align))
		return -EINVAL;
	if (align == 0 || (align & (align - 1)) || align > CS_ALIGN_MAX)
		return sg_fail(p, -EINVAL, "alignment '%s' is not a power of two <= %u",
			       sg_word(p, 3), CS_ALIGN_MAX);
	return place_next(p, script, size, align, base);
}

int cs_check_buffer(struct sg_parser *p, void *payload)
{
	struct cpu_script *script = sg_context(p);
	const char *name = sg_word(p, 0);
	struct cs_buffer *buffer = &script->buffers[script->buffer_count];
	static const struct sg_arg size_arg = {.kind = &sg_kind_number, .what = "a buffer size"};
	uint64_t size, base;
	int rc = check_buffer_name(p, script, name);

	(void)payload;
	if (!rc)
		rc = sg_kind_number.parse(p, &size_arg, sg_word(p, 1), &size);
	if (rc)
		return rc;
	if (size == 0 || size > CPU_SCRIPT_BUFFER_MAX)
		return sg_fail(p, -EINVAL, "buffer size '%s' is not in 1..%u", sg_word(p, 1),
			       CPU_SCRIPT_BUFFER_MAX);
	rc = place_buffer(p, script, size, &base);
	if (rc)
		return rc;
	buffer->bytes = calloc(size, 1);
	if (!buffer->bytes)
		return sg_fail(p, -ENOMEM, "out of memory for buffer '%s'", name);
	snprintf(buffer->name, sizeof(buffer->name), "%s", name);
	buffer->base = base;
	buffer->size = size;
	buffer->line = sg_line(p);
	script->buffer_count++;
	if (base <= UINT64_MAX - size - CS_BUFFER_GAP &&
	    base + size + CS_BUFFER_GAP > script->next_base)
		script->next_base = base + size + CS_BUFFER_GAP;
	return 1; /* declared: no statement to run */
}

/* ----------------------------------------------------------------------------------------- */
/* The script                                                                                   */

int cpu_script_parse(const char *text, size_t len, const struct cpu_script_options *options,
		     struct cpu_script **script, struct vx_error *err)
{
	struct cpu_script *s;
	int rc;

	*script = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return vx_error_set(err, -ENOMEM, NULL, "out of memory");
	s->next_base = CS_FIRST_BASE;
	rc = sg_program_add(&s->program, &cs_table, s, err);
	for (unsigned i = 0; options && !rc && i < options->extension_count; i++)
		rc = sg_program_add(&s->program, options->extensions[i].table,
				    options->extensions[i].context, err);
	if (!rc)
		rc = sg_parse(&s->program, text, len, options && options->semicolon_lines, err);
	if (rc) {
		cpu_script_free(s);
		return rc;
	}
	*script = s;
	return 0;
}

void cpu_script_free(struct cpu_script *script)
{
	if (!script)
		return;
	sg_program_clear(&script->program);
	for (unsigned i = 0; i < script->buffer_count; i++)
		free(script->buffers[i].bytes);
	free(script);
}

void cpu_script_print_statements(FILE *out)
{
	sg_print_statements(out, &cs_table);
}
