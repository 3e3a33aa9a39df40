/* SPDX-License-Identifier: MIT */
/*
 * The `vxsave cpu` script language, part 1: reading the text.  Lines are split into
 * statements (';'), statements into words (blanks), and each statement is checked and turned
 * into a struct cs_stmt before anything runs, so a typo on the last line costs nothing.
 * Reference: docs/cpu-script.md.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cpu_script_internal.h"

#define CS_WORDS_MAX        64u
#define CS_FIRST_BASE       UINT64_C(0x100000)
#define CS_BUFFER_GAP       UINT64_C(0x1000)
#define CS_ALIGN_MAX        4096u

struct parser {
	struct cpu_script *script;
	struct vx_error *err;
	unsigned line;
	char *words[CS_WORDS_MAX];
	unsigned count;
	bool seen_faultable;
	bool seen_value;
};

static int parse_error(struct parser *p, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int parse_error(struct parser *p, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vx_error_vset(p->err, code, NULL, fmt, ap);
	va_end(ap);
	if (p->err)
		p->err->line = p->line;
	return code;
}

/* ----------------------------------------------------------------------------------------- */
/* Names                                                                                        */

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

struct name_value {
	const char *name;
	uint64_t value;
};

static const struct name_value vector_names[] = {
	{"UD", VX_VEC_UD}, {"NM", VX_VEC_NM}, {"SS", VX_VEC_SS}, {"GP", VX_VEC_GP},
	{"PF", VX_VEC_PF}, {"AC", VX_VEC_AC}, {"CP", VX_VEC_CP},
};

static const struct name_value mode_names[] = {
	{"64", VX_MODE_64BIT},	    {"64bit", VX_MODE_64BIT},	{"long", VX_MODE_64BIT},
	{"compat", VX_MODE_COMPAT}, {"protected", VX_MODE_COMPAT}, {"32", VX_MODE_COMPAT},
	{"real", VX_MODE_REAL},	    {"v86", VX_MODE_V86},	{"vm86", VX_MODE_V86},
};

static const struct name_value cr0_bits[] = {
	{"pe", VX_CR0_PE}, {"em", VX_CR0_EM}, {"ts", VX_CR0_TS}, {"wp", VX_CR0_WP},
	{"am", VX_CR0_AM},
};

static const struct name_value cr4_bits[] = {
	{"osfxsr", VX_CR4_OSFXSR},
	{"osxsave", VX_CR4_OSXSAVE},
	{"pke", VX_CR4_PKE},
	{"cet", VX_CR4_CET},
};

static const struct name_value exit_names[] = {
	{"xsetbv", VX_EXIT_XSETBV},
	{"xsaves", VX_EXIT_XSAVES},
	{"xrstors", VX_EXIT_XRSTORS},
};

/* Symbolic offsets inside an XSAVE area (arch.md §2.2, §2.3). */
static const struct name_value area_offsets[] = {
	{"fcw", 0},
	{"mxcsr", VX_MXCSR_OFFSET},
	{"mxcsr_mask", VX_MXCSR_MASK_OFFSET},
	{"xmm0", VX_XMM_OFFSET},
	{"header", VX_HEADER_OFFSET},
	{"xstate_bv", VX_XSTATE_BV_OFFSET},
	{"xcomp_bv", VX_XCOMP_BV_OFFSET},
	{"extended", VX_EXTENDED_OFFSET},
};

static const uint32_t known_msrs[] = {
	VX_MSR_IA32_XFD,       VX_MSR_IA32_XFD_ERR, VX_MSR_IA32_U_CET,	     VX_MSR_IA32_S_CET,
	VX_MSR_IA32_PL0_SSP,   VX_MSR_IA32_PL1_SSP, VX_MSR_IA32_PL2_SSP,    VX_MSR_IA32_PL3_SSP,
	VX_MSR_IA32_INT_SSP_TAB, VX_MSR_IA32_PASID, VX_MSR_IA32_XSS,
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static bool lookup_name(const struct name_value *table, size_t count, const char *name,
			uint64_t *value)
{
	for (size_t i = 0; i < count; i++) {
		if (strcasecmp(table[i].name, name) == 0) {
			*value = table[i].value;
			return true;
		}
	}
	return false;
}

const char *cs_vector_name(unsigned vector)
{
	for (size_t i = 0; i < ARRAY_SIZE(vector_names); i++)
		if (vector_names[i].value == vector)
			return vector_names[i].name;
	return "?";
}

/* Words that name print/expect subjects, so they cannot be buffer names. */
static const char *const reserved_words[] = {
	"state", "reg", "xinuse", "xmodified", "tracking", "xcr0", "msr", "control",
	"value", "ok", "fault", "vmexit", "ssp", "all", "none",
};

static bool is_reserved_word(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(reserved_words); i++)
		if (strcasecmp(reserved_words[i], word) == 0)
			return true;
	return false;
}

/* ----------------------------------------------------------------------------------------- */
/* Numbers and values                                                                           */

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "0x1f_80", "8064", "-1" (all ones).  '_' may separate digits.  False if not a number. */
static bool text_to_u64(const char *text, uint64_t *out)
{
	uint64_t value = 0;
	unsigned base = 10, digits = 0;
	const char *s = text;

	if (strcmp(text, "-1") == 0) {
		*out = UINT64_MAX;
		return true;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++) {
		int d = hex_digit((unsigned char)*s);

		if (*s == '_' && digits)
			continue;
		if (d < 0 || (unsigned)d >= base)
			return false;
		if (value > (UINT64_MAX - (uint64_t)d) / base)
			return false;
		value = value * base + (uint64_t)d;
		digits++;
	}
	if (!digits)
		return false;
	*out = value;
	return true;
}

static int parse_u64(struct parser *p, const char *word, const char *what, uint64_t *out)
{
	if (!text_to_u64(word, out))
		return parse_error(p, -EINVAL, "bad number '%s' for %s", word, what);
	return 0;
}

static int parse_u32(struct parser *p, const char *word, const char *what, uint32_t *out)
{
	uint64_t value;
	int rc = parse_u64(p, word, what, &value);

	if (rc)
		return rc;
	if (value > UINT32_MAX)
		return parse_error(p, -EINVAL, "%s '%s' does not fit in 32 bits", what, word);
	*out = (uint32_t)value;
	return 0;
}

/* Hex digits (with '_') into little-endian bytes of a number, or memory-order bytes. */
static int hex_to_bytes(struct parser *p, const char *word, const char *digits, bool memory_order,
			struct cs_value *value)
{
	size_t count = 0, length;
	uint8_t *bytes;

	for (const char *s = digits; *s; s++) {
		if (*s == '_' && count)
			continue;
		if (hex_digit((unsigned char)*s) < 0)
			return parse_error(p, -EINVAL, "bad hex digit '%c' in '%s'", *s, word);
		count++;
	}
	if (!count)
		return parse_error(p, -EINVAL, "no hex digits in '%s'", word);
	if (memory_order && (count & 1))
		return parse_error(p, -EINVAL, "odd number of hex digits in '%s' (two per byte)",
				   word);
	length = (count + 1) / 2;
	if (length > CS_VALUE_BYTES_MAX)
		return parse_error(p, -E2BIG, "value '%.20s...' is longer than %u bytes", word,
				   CS_VALUE_BYTES_MAX);
	bytes = calloc(length, 1);
	if (!bytes)
		return parse_error(p, -ENOMEM, "out of memory");
	for (size_t i = 0; *digits; digits++) {
		if (*digits == '_')
			continue;
		/* i counts digits from the left; numbers put the last digit in byte 0. */
		size_t from_right = count - 1 - i;
		size_t index = memory_order ? i / 2 : from_right / 2;
		unsigned shift = memory_order ? (i & 1 ? 0 : 4) : (from_right & 1 ? 4 : 0);

		bytes[index] |= (uint8_t)(hex_digit((unsigned char)*digits) << shift);
		i++;
	}
	value->bytes = bytes;
	value->length = length;
	return 0;
}

/* Drop high zero bytes of a number so widths compare by significance (at least one byte). */
static void trim_number(struct cs_value *value)
{
	while (value->length > 1 && value->bytes[value->length - 1] == 0)
		value->length--;
}

/* A literal of any width: 0x..., decimal, -1/all, or hex:AABB (bytes in memory order). */
static int parse_value(struct parser *p, const char *word, const char *what,
		       struct cs_value *value)
{
	uint64_t number;
	int rc;

	memset(value, 0, sizeof(*value));
	if (strcmp(word, "-1") == 0 || strcasecmp(word, "all") == 0) {
		value->all_ones = true;
		return 0;
	}
	if (strncasecmp(word, "hex:", 4) == 0)
		return hex_to_bytes(p, word, word + 4, true, value);
	if (word[0] == '0' && (word[1] == 'x' || word[1] == 'X')) {
		rc = hex_to_bytes(p, word, word + 2, false, value);
		if (rc == 0)
			trim_number(value);
		return rc;
	}
	rc = parse_u64(p, word, what, &number);
	if (rc)
		return rc;
	value->bytes = calloc(8, 1);
	if (!value->bytes)
		return parse_error(p, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < 8; i++)
		value->bytes[i] = (uint8_t)(number >> (8 * i));
	value->length = 8;
	trim_number(value);
	return 0;
}

/* A component mask: a number, -1/all, none, or names ("x87,sse,avx", "cet_u|cet_s"). */
static int parse_mask(struct parser *p, const char *word, const char *what, uint64_t *mask)
{
	struct vx_error mask_err = VX_ERROR_INIT;

	if (strcasecmp(word, "all") == 0 || strcmp(word, "-1") == 0) {
		*mask = UINT64_MAX;
		return 0;
	}
	if (strcasecmp(word, "none") == 0) {
		*mask = 0;
		return 0;
	}
	if (isdigit((unsigned char)word[0]))
		return parse_u64(p, word, what, mask);
	if (vx_parse_component_mask(word, mask, &mask_err) < 0)
		return parse_error(p, -EINVAL, "bad %s '%s': %s", what, word,
				   mask_err.reason[0] ? mask_err.reason : "not a mask");
	return 0;
}

/* Short names the script accepts besides the ones vx_msr_name() gives. */
static const struct name_value msr_aliases[] = {
	{"INT_SSP_TAB", VX_MSR_IA32_INT_SSP_TAB},
	{"INTERRUPT_SSP_TABLE", VX_MSR_IA32_INT_SSP_TAB},
	{"ISST", VX_MSR_IA32_INT_SSP_TAB},
};

static int parse_msr(struct parser *p, const char *word, uint32_t *msr)
{
	const char *bare = strncasecmp(word, "IA32_", 5) == 0 ? word + 5 : word;
	uint64_t alias;

	if (isdigit((unsigned char)word[0]))
		return parse_u32(p, word, "an MSR number", msr);
	if (lookup_name(msr_aliases, ARRAY_SIZE(msr_aliases), bare, &alias)) {
		*msr = (uint32_t)alias;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(known_msrs); i++) {
		const char *name = vx_msr_name(known_msrs[i]);

		if (!name)
			continue;
		if (strcasecmp(name, word) == 0 ||
		    (strncasecmp(name, "IA32_", 5) == 0 && strcasecmp(name + 5, bare) == 0)) {
			*msr = known_msrs[i];
			return 0;
		}
	}
	return parse_error(p, -EINVAL,
			   "unknown MSR '%s' (names: IA32_XSS, IA32_XFD, IA32_XFD_ERR, IA32_U_CET, "
			   "IA32_S_CET, IA32_PL0..3_SSP, IA32_INT_SSP_TAB, IA32_PASID, or a number; "
			   "the IA32_ prefix is optional)",
			   word);
}

static int parse_reg(struct parser *p, const char *word, const struct vx_reg_info **reg)
{
	*reg = vx_reg_lookup(word);
	if (!*reg)
		return parse_error(p, -EINVAL, "unknown register '%s'", word);
	return 0;
}

/* A value written to or compared with register @reg must fit its width. */
static int check_value_width(struct parser *p, const char *word, const struct cs_value *value,
			     size_t width, const char *subject)
{
	if (width && !value->all_ones && value->length > width)
		return parse_error(p, -EINVAL,
				   "value '%.40s%s' has %zu significant bytes, %s holds %zu", word,
				   strlen(word) > 40 ? "..." : "", value->length, subject, width);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Buffers and area references                                                                  */

static int find_buffer(struct parser *p, const char *name)
{
	for (unsigned i = 0; i < p->script->buffer_count; i++)
		if (strcmp(p->script->buffers[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* NAME or NAME+OFFSET: the buffer and where in it the area starts. */
static int parse_area(struct parser *p, const char *word, int *buffer, uint64_t *offset)
{
	char name[CPU_SCRIPT_NAME_MAX];
	const char *plus = strchr(word, '+');
	size_t length = plus ? (size_t)(plus - word) : strlen(word);
	const struct cs_buffer *found;
	int rc;

	if (length == 0 || length >= sizeof(name))
		return parse_error(p, -EINVAL, "'%s' is not a buffer name", word);
	memcpy(name, word, length);
	name[length] = '\0';
	*buffer = find_buffer(p, name);
	if (*buffer < 0)
		return parse_error(p, -EINVAL, "buffer '%s' not defined", name);
	*offset = 0;
	if (plus) {
		rc = parse_u64(p, plus + 1, "an offset", offset);
		if (rc)
			return rc;
	}
	found = &p->script->buffers[*buffer];
	if (*offset >= found->size)
		return parse_error(p, -EINVAL, "offset %#llx is beyond buffer '%s' (%zu bytes)",
				   (unsigned long long)*offset, found->name, found->size);
	return 0;
}

/* An offset inside an area: a number or a header field name (xstate_bv, mxcsr...). */
static int parse_area_offset(struct parser *p, const char *word, uint64_t *offset)
{
	if (lookup_name(area_offsets, ARRAY_SIZE(area_offsets), word, offset))
		return 0;
	return parse_u64(p, word, "an offset", offset);
}

/* [area + where, + length) must lie inside the buffer. */
static int check_range(struct parser *p, const struct cs_stmt *stmt, uint64_t length)
{
	const struct cs_buffer *buffer = &p->script->buffers[stmt->buffer];
	uint64_t room = buffer->size - stmt->offset;

	if (stmt->where >= room || length > room - stmt->where)
		return parse_error(p, -EINVAL,
				   "offset %#llx + %llu bytes is beyond buffer '%s' (%zu bytes)",
				   (unsigned long long)(stmt->offset + stmt->where),
				   (unsigned long long)length, buffer->name, buffer->size);
	return 0;
}

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

/* Where a buffer goes: `at ADDR`, or the next free address rounded up to `align N` (64). */
static int place_buffer(struct parser *p, char **words, unsigned count, uint64_t size,
			uint64_t *base)
{
	uint64_t align = VX_AREA_ALIGN;
	int rc;

	if (count == 1 || count > 2)
		return parse_error(p, -EINVAL, "usage: buffer NAME SIZE [align N | at ADDR]");
	if (count == 2 && strcasecmp(words[0], "at") == 0) {
		rc = parse_u64(p, words[1], "an address", base);
		if (rc)
			return rc;
		if (*base > UINT64_MAX - size)
			return parse_error(p, -EINVAL, "buffer at %#llx wraps around the address space",
					   (unsigned long long)*base);
		if (overlaps_existing(p->script, *base, size))
			return parse_error(p, -EINVAL, "buffer at %#llx overlaps another buffer",
					   (unsigned long long)*base);
		return 0;
	}
	if (count == 2) {
		if (strcasecmp(words[0], "align") != 0)
			return parse_error(p, -EINVAL, "expected 'align N' or 'at ADDR', not '%s'",
					   words[0]);
		rc = parse_u64(p, words[1], "an alignment", &align);
		if (rc)
			return rc;
		if (align == 0 || (align & (align - 1)) || align > CS_ALIGN_MAX)
			return parse_error(p, -EINVAL, "alignment '%s' is not a power of two <= %u",
					   words[1], CS_ALIGN_MAX);
	}
	/* The gap keeps buffers apart so an overrun is a #PF, never another buffer. */
	*base = (p->script->next_base + align - 1) & ~(align - 1);
	while (*base >= p->script->next_base && *base <= UINT64_MAX - size - CS_BUFFER_GAP &&
	       overlaps_existing(p->script, *base, size))
		*base += CS_BUFFER_GAP;
	if (*base < p->script->next_base || *base > UINT64_MAX - size - CS_BUFFER_GAP)
		return parse_error(p, -EINVAL, "no room for buffer '%s' after the buffers placed "
					       "with 'at' (give it an address too)", p->words[1]);
	return 0;
}

/* buffer NAME SIZE [align N | at ADDR] - declared while parsing, zero-filled at each run. */
static int parse_buffer(struct parser *p)
{
	struct cpu_script *script = p->script;
	struct cs_buffer *buffer;
	uint64_t size, base;
	int rc;

	if (p->count < 3)
		return parse_error(p, -EINVAL, "usage: buffer NAME SIZE [align N | at ADDR]");
	if (!valid_buffer_name(p->words[1]))
		return parse_error(p, -EINVAL,
				   "bad buffer name '%s' (letters, digits, '_'; at most %u chars)",
				   p->words[1], CPU_SCRIPT_NAME_MAX - 1);
	if (is_reserved_word(p->words[1]))
		return parse_error(p, -EINVAL, "'%s' is a reserved word; choose another buffer name",
				   p->words[1]);
	if (find_buffer(p, p->words[1]) >= 0)
		return parse_error(p, -EINVAL, "buffer '%s' already defined", p->words[1]);
	if (script->buffer_count >= CPU_SCRIPT_BUFFERS_MAX)
		return parse_error(p, -E2BIG, "too many buffers (at most %u)",
				   CPU_SCRIPT_BUFFERS_MAX);
	rc = parse_u64(p, p->words[2], "a buffer size", &size);
	if (rc)
		return rc;
	if (size == 0 || size > CPU_SCRIPT_BUFFER_MAX)
		return parse_error(p, -EINVAL, "buffer size '%s' is not in 1..%u", p->words[2],
				   CPU_SCRIPT_BUFFER_MAX);
	rc = place_buffer(p, p->words + 3, p->count - 3, size, &base);
	if (rc)
		return rc;
	buffer = &script->buffers[script->buffer_count];
	buffer->bytes = calloc(size, 1);
	if (!buffer->bytes)
		return parse_error(p, -ENOMEM, "out of memory for buffer '%s'", p->words[1]);
	snprintf(buffer->name, sizeof(buffer->name), "%s", p->words[1]);
	buffer->base = base;
	buffer->size = size;
	buffer->line = p->line;
	script->buffer_count++;
	if (base <= UINT64_MAX - size - CS_BUFFER_GAP &&
	    base + size + CS_BUFFER_GAP > script->next_base)
		script->next_base = base + size + CS_BUFFER_GAP;
	return 1; /* declared: no statement to run */
}

/* ----------------------------------------------------------------------------------------- */
/* Statements                                                                                   */

static int need_words(struct parser *p, unsigned min, unsigned max, const char *usage)
{
	if (p->count < min || p->count > max)
		return parse_error(p, -EINVAL, "%s: usage: %s",
				   p->count < min ? "missing words" : "too many words", usage);
	return 0;
}


/*
 * The optional "OFFSET LENGTH" that may follow a buffer at word @first (fill, print): without
 * it the statement covers the rest of the buffer.  Checks the range lies inside the buffer.
 */
static int parse_optional_range(struct parser *p, struct cs_stmt *stmt, unsigned first,
				const char *command)
{
	int rc;

	stmt->length = p->script->buffers[stmt->buffer].size - stmt->offset;
	if (p->count == first + 1)
		return parse_error(p, -EINVAL, "%s: OFFSET needs a LENGTH", command);
	if (p->count == first + 2) {
		rc = parse_area_offset(p, p->words[first], &stmt->where);
		if (!rc)
			rc = parse_u64(p, p->words[first + 1], "a length", &stmt->length);
		if (rc)
			return rc;
	}
	return check_range(p, stmt, stmt->length);
}

static int parse_fill(struct parser *p, struct cs_stmt *stmt)
{
	uint64_t byte;
	int rc = need_words(p, 3, 5, "fill BUFFER BYTE [OFFSET LENGTH]");

	if (!rc)
		rc = parse_area(p, p->words[1], &stmt->buffer, &stmt->offset);
	if (!rc)
		rc = parse_u64(p, p->words[2], "a fill byte", &byte);
	if (rc)
		return rc;
	if (byte > 0xFF)
		return parse_error(p, -EINVAL, "fill value '%s' is not a byte", p->words[2]);
	stmt->mask = byte;
	return parse_optional_range(p, stmt, 3, "fill");
}

static int parse_width_word(struct parser *p, const char *word, uint64_t *width)
{
	static const struct name_value widths[] = {
		{"u8", 1}, {"u16", 2}, {"u32", 4}, {"u64", 8},
	};

	if (!lookup_name(widths, ARRAY_SIZE(widths), word, width))
		return parse_error(p, -EINVAL, "expected u8, u16, u32 or u64, not '%s'", word);
	return 0;
}

/* A number of @width bytes into stmt->mask, refusing values that do not fit. */
static int parse_sized_number(struct parser *p, const char *word, uint64_t width,
			      uint64_t *value)
{
	int rc = parse_mask(p, word, "value", value);

	if (rc)
		return rc;
	if (width < 8 && *value != UINT64_MAX && (*value >> (8 * width)))
		return parse_error(p, -EINVAL, "value '%s' does not fit in %llu byte%s", word,
				   (unsigned long long)width, width == 1 ? "" : "s");
	if (width < 8)
		*value &= (UINT64_C(1) << (8 * width)) - 1;
	return 0;
}

/* poke AREA OFFSET u8|u16|u32|u64 VALUE  |  poke AREA OFFSET hex:BYTES */
static int parse_poke(struct parser *p, struct cs_stmt *stmt)
{
	int rc = need_words(p, 4, 5, "poke BUFFER[+OFF] OFFSET u8|u16|u32|u64 VALUE, or "
				     "poke BUFFER[+OFF] OFFSET hex:BYTES");

	if (!rc)
		rc = parse_area(p, p->words[1], &stmt->buffer, &stmt->offset);
	if (!rc)
		rc = parse_area_offset(p, p->words[2], &stmt->where);
	if (rc)
		return rc;
	if (p->count == 4) {
		if (strncasecmp(p->words[3], "hex:", 4) != 0)
			return parse_error(p, -EINVAL, "expected a width and a value, or hex:BYTES, "
						       "not '%s'", p->words[3]);
		rc = parse_value(p, p->words[3], "bytes", &stmt->value);
		if (rc)
			return rc;
		stmt->length = stmt->value.length;
		return check_range(p, stmt, stmt->length);
	}
	rc = parse_width_word(p, p->words[3], &stmt->length);
	if (!rc)
		rc = parse_sized_number(p, p->words[4], stmt->length, &stmt->mask);
	if (rc)
		return rc;
	return check_range(p, stmt, stmt->length);
}

/* +bit -bit =VALUE for `set cr0` / `set cr4`. */
static int parse_cr_changes(struct parser *p, struct cs_stmt *stmt,
			    const struct name_value *bits, size_t count, const char *reg)
{
	if (p->count < 3)
		return parse_error(p, -EINVAL, "set %s: expected +BIT, -BIT or =VALUE", reg);
	for (unsigned i = 2; i < p->count; i++) {
		const char *word = p->words[i];
		uint64_t bit;
		int rc;

		if (word[0] == '=') {
			rc = parse_u64(p, word + 1, reg, &stmt->mask);
			if (rc)
				return rc;
			stmt->assign = true;
			continue;
		}
		if ((word[0] != '+' && word[0] != '-') || !lookup_name(bits, count, word + 1, &bit))
			return parse_error(p, -EINVAL, "unknown %s change '%s' (use +BIT, -BIT or "
						       "=VALUE; bits: %s)", reg, word,
					   bits == cr0_bits ? "pe em ts wp am"
							    : "osfxsr osxsave pke cet");
		if (word[0] == '+')
			stmt->set |= bit;
		else
			stmt->clear |= bit;
	}
	return 0;
}

static int parse_on_off(struct parser *p, const char *word, bool *on)
{
	if (strcasecmp(word, "on") == 0 || strcmp(word, "1") == 0) {
		*on = true;
		return 0;
	}
	if (strcasecmp(word, "off") == 0 || strcmp(word, "0") == 0) {
		*on = false;
		return 0;
	}
	return parse_error(p, -EINVAL, "expected on or off, not '%s'", word);
}

static int parse_set_vmx(struct parser *p, struct cs_stmt *stmt)
{
	bool on = false;
	int rc;

	if (p->count == 3 && (strcasecmp(p->words[2], "nonroot") == 0 ||
			      strcasecmp(p->words[2], "non-root") == 0 ||
			      strcasecmp(p->words[2], "root") == 0)) {
		stmt->kind = CS_SET_VMX;
		stmt->set = strcasecmp(p->words[2], "root") != 0;
		return 0;
	}
	if (p->count == 4 && strcasecmp(p->words[2], "xsaves") == 0) {
		rc = parse_on_off(p, p->words[3], &on);
		stmt->kind = CS_SET_VMX_XSAVES;
		stmt->set = on;
		return rc;
	}
	if (p->count == 4 && strcasecmp(p->words[2], "xss-exit") == 0) {
		stmt->kind = CS_SET_XSS_EXIT;
		return parse_mask(p, p->words[3], "XSS-exiting bitmap", &stmt->mask);
	}
	return parse_error(p, -EINVAL,
			   "usage: set vmx nonroot|root, set vmx xsaves on|off, "
			   "set vmx xss-exit MASK");
}

static int parse_set(struct parser *p, struct cs_stmt *stmt)
{
	const char *what = p->count > 1 ? p->words[1] : "";
	bool on = false;
	int rc;

	p->seen_faultable = true; /* control changes may #GP: `expect fault` can follow */
	if (p->count < 3)
		return parse_error(p, -EINVAL, "usage: set cpl|mode|cr0|cr4|ac|vmx|ssp ...");
	if (strcasecmp(what, "vmx") == 0)
		return parse_set_vmx(p, stmt);
	if (strcasecmp(what, "cr0") == 0) {
		stmt->kind = CS_SET_CR0;
		return parse_cr_changes(p, stmt, cr0_bits, ARRAY_SIZE(cr0_bits), "cr0");
	}
	if (strcasecmp(what, "cr4") == 0) {
		stmt->kind = CS_SET_CR4;
		return parse_cr_changes(p, stmt, cr4_bits, ARRAY_SIZE(cr4_bits), "cr4");
	}
	if (p->count != 3)
		return parse_error(p, -EINVAL, "unexpected '%s' after 'set %s %s'", p->words[3],
				   what, p->words[2]);
	if (strcasecmp(what, "cpl") == 0) {
		stmt->kind = CS_SET_CPL;
		rc = parse_u32(p, p->words[2], "cpl", &stmt->number);
		if (!rc && stmt->number > 3)
			rc = parse_error(p, -EINVAL, "cpl '%s' is not 0..3", p->words[2]);
		return rc;
	}
	if (strcasecmp(what, "mode") == 0) {
		stmt->kind = CS_SET_MODE;
		if (!lookup_name(mode_names, ARRAY_SIZE(mode_names), p->words[2], &stmt->mask))
			return parse_error(p, -EINVAL, "unknown mode '%s' (64, compat, real, v86)",
					   p->words[2]);
		return 0;
	}
	if (strcasecmp(what, "ac") == 0) {
		stmt->kind = CS_SET_AC;
		rc = parse_on_off(p, p->words[2], &on);
		stmt->set = on;
		return rc;
	}
	if (strcasecmp(what, "ssp") == 0) {
		stmt->kind = CS_SET_SSP;
		return parse_u64(p, p->words[2], "ssp", &stmt->mask);
	}
	return parse_error(p, -EINVAL, "unknown setting '%s' (cpl, mode, cr0, cr4, ac, vmx, ssp)",
			   what);
}

/* require FEATURE[,FEATURE...]: the features become bits of stmt->mask (enum vx_feature). */
static int parse_require(struct parser *p, struct cs_stmt *stmt)
{
	char list[CPU_SCRIPT_LINE_MAX + 1];
	char *save = NULL;
	int rc = need_words(p, 2, 2, "require FEATURE[,FEATURE...]");

	if (rc)
		return rc;
	stmt->kind = CS_REQUIRE;
	snprintf(list, sizeof(list), "%s", p->words[1]);
	for (char *name = strtok_r(list, ",|", &save); name; name = strtok_r(NULL, ",|", &save)) {
		int feature = vx_feature_by_name(name);

		if (feature < 0 || feature >= 64)
			return parse_error(p, -EINVAL, "unknown CPUID feature '%s'", name);
		stmt->mask |= VX_BIT(feature);
	}
	return 0;
}

/* xsave|...|xrstors64 AREA MASK [lock] */
static int parse_insn(struct parser *p, struct cs_stmt *stmt, int insn)
{
	int rc = need_words(p, 3, 4, "INSTRUCTION BUFFER[+OFFSET] MASK [lock]");

	stmt->kind = CS_INSN;
	stmt->insn = (enum vx_insn)insn;
	if (!rc)
		rc = parse_area(p, p->words[1], &stmt->buffer, &stmt->offset);
	if (!rc)
		rc = parse_mask(p, p->words[2], "instruction mask (EDX:EAX)", &stmt->mask);
	if (rc)
		return rc;
	if (p->count == 4) {
		if (strcasecmp(p->words[3], "lock") != 0)
			return parse_error(p, -EINVAL, "unexpected '%s' (only 'lock' may follow the "
						       "mask)", p->words[3]);
		stmt->prefixes |= VX_PREFIX_LOCK;
	}
	p->seen_faultable = true;
	return 0;
}

static int parse_reg_write(struct parser *p, struct cs_stmt *stmt)
{
	int rc = need_words(p, 4, 4, "reg NAME = VALUE");

	if (!rc)
		rc = parse_reg(p, p->words[1], &stmt->reg);
	if (rc)
		return rc;
	if (strcmp(p->words[2], "=") != 0)
		return parse_error(p, -EINVAL, "expected '=' after the register name, not '%s'",
				   p->words[2]);
	rc = parse_value(p, p->words[3], "a register value", &stmt->value);
	if (!rc)
		rc = check_value_width(p, p->words[3], &stmt->value, stmt->reg->width,
				       stmt->reg->name);
	return rc;
}

/* Operations with one or two arguments that can fault. */
static int parse_operation(struct parser *p, struct cs_stmt *stmt, enum cs_kind kind)
{
	int rc;

	stmt->kind = kind;
	p->seen_faultable = true;
	switch (kind) {
	case CS_XSETBV:
		rc = need_words(p, 3, 3, "xsetbv ECX VALUE");
		if (!rc)
			rc = parse_u32(p, p->words[1], "ECX", &stmt->number);
		return rc ? rc : parse_mask(p, p->words[2], "XCR value", &stmt->mask);
	case CS_XGETBV:
		p->seen_value = true;
		rc = need_words(p, 2, 2, "xgetbv ECX");
		return rc ? rc : parse_u32(p, p->words[1], "ECX", &stmt->number);
	case CS_WRMSR:
		rc = need_words(p, 3, 3, "wrmsr MSR VALUE");
		if (!rc)
			rc = parse_msr(p, p->words[1], &stmt->number);
		return rc ? rc : parse_mask(p, p->words[2], "MSR value", &stmt->mask);
	case CS_RDMSR:
		p->seen_value = true;
		rc = need_words(p, 2, 2, "rdmsr MSR");
		return rc ? rc : parse_msr(p, p->words[1], &stmt->number);
	case CS_USE:
		rc = need_words(p, 2, 2, "use COMPONENTS");
		return rc ? rc : parse_mask(p, p->words[1], "component mask", &stmt->mask);
	case CS_REG:
		return parse_reg_write(p, stmt);
	default:
		return parse_error(p, -EINVAL, "internal: not an operation");
	}
}

/* print state | print AREA [OFFSET LENGTH] | print reg NAME | print msr NAME | print xinuse... */
static int parse_print(struct parser *p, struct cs_stmt *stmt)
{
	static const struct name_value simple[] = {
		{"state", CS_PRINT_STATE},     {"xinuse", CS_PRINT_XINUSE},
		{"tracking", CS_PRINT_TRACKING}, {"xcr0", CS_PRINT_XCR0},
		{"control", CS_PRINT_CONTROL},
	};
	uint64_t kind;
	int rc;

	if (p->count < 2)
		return parse_error(p, -EINVAL, "usage: print state|xinuse|tracking|xcr0|control, "
					       "print reg NAME, print msr NAME, "
					       "print BUFFER[+OFF] [OFFSET LENGTH]");
	if (lookup_name(simple, ARRAY_SIZE(simple), p->words[1], &kind)) {
		stmt->kind = (enum cs_kind)kind;
		return need_words(p, 2, 2, "print state|xinuse|tracking|xcr0|control");
	}
	if (strcasecmp(p->words[1], "reg") == 0) {
		stmt->kind = CS_PRINT_REG;
		rc = need_words(p, 3, 3, "print reg NAME");
		return rc ? rc : parse_reg(p, p->words[2], &stmt->reg);
	}
	if (strcasecmp(p->words[1], "msr") == 0) {
		stmt->kind = CS_PRINT_MSR;
		rc = need_words(p, 3, 3, "print msr NAME");
		return rc ? rc : parse_msr(p, p->words[2], &stmt->number);
	}
	stmt->kind = CS_PRINT_AREA;
	rc = need_words(p, 2, 4, "print BUFFER[+OFF] [OFFSET LENGTH]");
	if (!rc)
		rc = parse_area(p, p->words[1], &stmt->buffer, &stmt->offset);
	if (rc)
		return rc;
	return parse_optional_range(p, stmt, 2, "print");
}

/* "==" or "!=" at word @index. */
static int parse_operator(struct parser *p, unsigned index, struct cs_stmt *stmt)
{
	if (index >= p->count)
		return parse_error(p, -EINVAL, "expected '==' or '!=' at the end");
	if (strcmp(p->words[index], "==") == 0)
		return 0;
	if (strcmp(p->words[index], "!=") == 0) {
		stmt->negate = true;
		return 0;
	}
	return parse_error(p, -EINVAL, "expected '==' or '!=', not '%s'", p->words[index]);
}

/* "#GP", "GP", "#GP(0)": the vector, and the error code if one is given. */
static int parse_exception_name(struct parser *p, const char *word, struct cs_stmt *stmt)
{
	char name[16], code[24];
	const char *start = word[0] == '#' ? word + 1 : word;
	const char *paren = strchr(start, '(');
	size_t name_length = paren ? (size_t)(paren - start) : strlen(start);
	size_t code_length;
	uint64_t vector;

	if (name_length >= sizeof(name))
		name_length = sizeof(name) - 1;
	memcpy(name, start, name_length);
	name[name_length] = '\0';
	if (!lookup_name(vector_names, ARRAY_SIZE(vector_names), name, &vector))
		return parse_error(p, -EINVAL, "unknown exception '%s' (#UD #NM #SS #GP #PF #AC #CP)",
				   word);
	stmt->number = (uint32_t)vector;
	if (!paren)
		return 0;
	code_length = strlen(paren + 1);
	if (code_length < 2 || paren[code_length] != ')' || code_length > sizeof(code))
		return parse_error(p, -EINVAL, "bad error code in '%s' (write #GP(0))", word);
	memcpy(code, paren + 1, code_length - 1);
	code[code_length - 1] = '\0';
	stmt->has_number = true;
	return parse_u64(p, code, "an error code", &stmt->where);
}

/* expect fault [#GP[(N)]] */
static int parse_expect_fault(struct parser *p, struct cs_stmt *stmt)
{
	int rc = need_words(p, 2, 3, "expect fault [#UD|#NM|#GP|#GP(0)|#PF|#AC|#SS|#CP]");

	stmt->kind = CS_EXPECT_FAULT;
	stmt->number = 0; /* any exception */
	if (rc || p->count == 2)
		return rc;
	return parse_exception_name(p, p->words[2], stmt);
}

static int parse_expect_vmexit(struct parser *p, struct cs_stmt *stmt)
{
	uint64_t reason;
	int rc = need_words(p, 2, 3, "expect vmexit [REASON|xsetbv|xsaves|xrstors]");

	stmt->kind = CS_EXPECT_VMEXIT;
	if (rc || p->count == 2)
		return rc;
	stmt->has_number = true;
	if (lookup_name(exit_names, ARRAY_SIZE(exit_names), p->words[2], &reason)) {
		stmt->number = (uint32_t)reason;
		return 0;
	}
	return parse_u32(p, p->words[2], "an exit reason", &stmt->number);
}

/* expect AREA OFFSET u8..u64 ==|!= VALUE  |  expect AREA OFFSET ==|!= hex:BYTES */
static int parse_expect_memory(struct parser *p, struct cs_stmt *stmt)
{
	int rc;

	stmt->kind = CS_EXPECT_MEM;
	rc = need_words(p, 5, 6, "expect BUFFER[+OFF] OFFSET u8|u16|u32|u64 == VALUE, or "
				 "expect BUFFER[+OFF] OFFSET == hex:BYTES");
	if (!rc)
		rc = parse_area(p, p->words[1], &stmt->buffer, &stmt->offset);
	if (!rc)
		rc = parse_area_offset(p, p->words[2], &stmt->where);
	if (rc)
		return rc;
	if (p->count == 5) {
		rc = parse_operator(p, 3, stmt);
		if (rc)
			return rc;
		if (strncasecmp(p->words[4], "hex:", 4) != 0)
			return parse_error(p, -EINVAL, "expected hex:BYTES (or give a width: u8, "
						       "u16, u32, u64), not '%s'", p->words[4]);
		rc = parse_value(p, p->words[4], "bytes", &stmt->value);
		stmt->length = stmt->value.length;
		return rc ? rc : check_range(p, stmt, stmt->length);
	}
	rc = parse_width_word(p, p->words[3], &stmt->length);
	if (!rc)
		rc = parse_operator(p, 4, stmt);
	if (!rc)
		rc = parse_sized_number(p, p->words[5], stmt->length, &stmt->mask);
	return rc ? rc : check_range(p, stmt, stmt->length);
}

/* expect SUBJECT [& MASK] ==|!= VALUE for the masks and 64-bit values. */
static int parse_expect_scalar(struct parser *p, struct cs_stmt *stmt, enum cs_kind kind)
{
	unsigned first = kind == CS_EXPECT_MSR ? 3 : 2;
	int rc;

	stmt->kind = kind;
	stmt->select = UINT64_MAX;
	if (first < p->count && strcmp(p->words[first], "&") == 0) {
		if (first + 1 >= p->count)
			return parse_error(p, -EINVAL, "expected a mask after '&'");
		rc = parse_mask(p, p->words[first + 1], "mask", &stmt->select);
		if (rc)
			return rc;
		first += 2;
	}
	rc = need_words(p, first + 2, first + 2, "expect SUBJECT [& MASK] == VALUE");
	if (rc)
		return rc;
	if (kind == CS_EXPECT_MSR) {
		rc = parse_msr(p, p->words[2], &stmt->number);
		if (rc)
			return rc;
	}
	if (kind == CS_EXPECT_VALUE && !p->seen_value)
		return parse_error(p, -EINVAL, "'expect value' needs an xgetbv or rdmsr before it");
	rc = parse_operator(p, first, stmt);
	return rc ? rc : parse_mask(p, p->words[first + 1], "value", &stmt->mask);
}

static int parse_expect(struct parser *p, struct cs_stmt *stmt)
{
	static const struct name_value scalar[] = {
		{"xinuse", CS_EXPECT_XINUSE}, {"xmodified", CS_EXPECT_XMODIFIED},
		{"xcr0", CS_EXPECT_XCR0},     {"msr", CS_EXPECT_MSR},
		{"value", CS_EXPECT_VALUE},   {"ssp", CS_EXPECT_SSP},
	};
	const char *what = p->count > 1 ? p->words[1] : "";
	uint64_t kind;
	int rc;

	if (p->count < 2)
		return parse_error(p, -EINVAL, "usage: expect ok|fault|vmexit|reg|xinuse|xmodified|"
					       "xcr0|msr|value|ssp|BUFFER ...");
	if (!strcasecmp(what, "ok") || !strcasecmp(what, "fault") || !strcasecmp(what, "vmexit")) {
		if (!p->seen_faultable)
			return parse_error(p, -EINVAL, "'expect %s' needs an instruction before it",
					   what);
		if (!strcasecmp(what, "fault"))
			return parse_expect_fault(p, stmt);
		if (!strcasecmp(what, "vmexit"))
			return parse_expect_vmexit(p, stmt);
		stmt->kind = CS_EXPECT_OK;
		return need_words(p, 2, 2, "expect ok");
	}
	if (lookup_name(scalar, ARRAY_SIZE(scalar), what, &kind))
		return parse_expect_scalar(p, stmt, (enum cs_kind)kind);
	if (strcasecmp(what, "reg") == 0) {
		stmt->kind = CS_EXPECT_REG;
		rc = need_words(p, 5, 5, "expect reg NAME == VALUE");
		if (!rc)
			rc = parse_reg(p, p->words[2], &stmt->reg);
		if (!rc)
			rc = parse_operator(p, 3, stmt);
		if (!rc)
			rc = parse_value(p, p->words[4], "a register value", &stmt->value);
		return rc ? rc : check_value_width(p, p->words[4], &stmt->value,
						   stmt->reg->width, stmt->reg->name);
	}
	if (find_buffer(p, what) >= 0 || strchr(what, '+'))
		return parse_expect_memory(p, stmt);
	return parse_error(p, -EINVAL, "unknown expectation '%s' (ok, fault, vmexit, reg, xinuse, "
				       "xmodified, xcr0, msr, value, ssp, or a buffer name)", what);
}

/* ----------------------------------------------------------------------------------------- */
/* Dispatch by the first word                                                                   */

enum cs_word_kind { WORD_STATEMENT, WORD_OPERATION, WORD_SPECIAL };

static const struct {
	const char *name;
	enum cs_word_kind type;
	enum cs_kind kind;
} commands[] = {
	{"buffer", WORD_SPECIAL, CS_FILL}, {"fill", WORD_SPECIAL, CS_FILL},
	{"poke", WORD_SPECIAL, CS_POKE},   {"set", WORD_SPECIAL, CS_SET_CPL},
	{"reset", WORD_STATEMENT, CS_RESET}, {"require", WORD_SPECIAL, CS_REQUIRE},
	{"xsetbv", WORD_OPERATION, CS_XSETBV}, {"xgetbv", WORD_OPERATION, CS_XGETBV},
	{"wrmsr", WORD_OPERATION, CS_WRMSR}, {"rdmsr", WORD_OPERATION, CS_RDMSR},
	{"reg", WORD_OPERATION, CS_REG},   {"use", WORD_OPERATION, CS_USE},
	{"init", WORD_SPECIAL, CS_INIT},   {"echo", WORD_STATEMENT, CS_ECHO},
	{"print", WORD_SPECIAL, CS_PRINT_STATE}, {"expect", WORD_SPECIAL, CS_EXPECT_OK},
};

/* Levenshtein distance of two short words, for "did you mean". */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned row[32], la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la >= 31 || lb >= 31)
		return 99;
	for (unsigned j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned i = 1; i <= la; i++) {
		unsigned diagonal = row[0];

		row[0] = i;
		for (unsigned j = 1; j <= lb; j++) {
			unsigned above = row[j];
			unsigned cost = tolower((unsigned char)a[i - 1]) !=
					tolower((unsigned char)b[j - 1]);
			unsigned best = diagonal + cost;

			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

static const char *closest_command(const char *word)
{
	const char *best = NULL;
	unsigned best_distance = 3;

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		unsigned d = edit_distance(word, commands[i].name);

		if (d < best_distance) {
			best_distance = d;
			best = commands[i].name;
		}
	}
	for (int insn = 0; insn < VX_INSN_COUNT; insn++) {
		const char *name = vx_insn_name((enum vx_insn)insn);
		unsigned d = name ? edit_distance(word, name) : 99;

		if (d < best_distance) {
			best_distance = d;
			best = name;
		}
	}
	return best;
}

static int unknown_command(struct parser *p)
{
	const char *guess = closest_command(p->words[0]);
	char lower[24] = "";

	if (guess) {
		size_t i;

		for (i = 0; guess[i] && i < sizeof(lower) - 1; i++)
			lower[i] = (char)tolower((unsigned char)guess[i]);
		lower[i] = '\0';
		return parse_error(p, -EINVAL, "unknown command '%s' (did you mean '%s'?)",
				   p->words[0], lower);
	}
	return parse_error(p, -EINVAL, "unknown command '%s'", p->words[0]);
}

static int parse_special(struct parser *p, struct cs_stmt *stmt, const char *name)
{
	int rc;

	if (!strcasecmp(name, "buffer"))
		return parse_buffer(p);
	if (!strcasecmp(name, "fill")) {
		stmt->kind = CS_FILL;
		return parse_fill(p, stmt);
	}
	if (!strcasecmp(name, "poke")) {
		stmt->kind = CS_POKE;
		return parse_poke(p, stmt);
	}
	if (!strcasecmp(name, "set"))
		return parse_set(p, stmt);
	if (!strcasecmp(name, "require"))
		return parse_require(p, stmt);
	if (!strcasecmp(name, "init")) {
		stmt->kind = CS_INIT;
		rc = need_words(p, 2, 2, "init COMPONENTS");
		return rc ? rc : parse_mask(p, p->words[1], "component mask", &stmt->mask);
	}
	if (!strcasecmp(name, "print"))
		return parse_print(p, stmt);
	return parse_expect(p, stmt);
}

/* One statement's words into @stmt.  Returns 0, 1 (declaration, nothing to run) or < 0. */
static int parse_words(struct parser *p, struct cs_stmt *stmt)
{
	const char *name = p->words[0];
	int insn = vx_insn_by_name(name);

	if (insn >= 0)
		return parse_insn(p, stmt, insn);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcasecmp(commands[i].name, name) != 0)
			continue;
		switch (commands[i].type) {
		case WORD_OPERATION:
			return parse_operation(p, stmt, commands[i].kind);
		case WORD_STATEMENT:
			stmt->kind = commands[i].kind;
			return commands[i].kind == CS_RESET ? need_words(p, 1, 1, "reset") : 0;
		case WORD_SPECIAL:
			return parse_special(p, stmt, name);
		}
	}
	return unknown_command(p);
}

static void free_stmt(struct cs_stmt *stmt)
{
	free(stmt->text);
	free(stmt->value.bytes);
}

static struct cs_stmt *new_stmt(struct parser *p)
{
	struct cpu_script *script = p->script;

	if (script->count == script->capacity) {
		unsigned capacity = script->capacity ? script->capacity * 2 : 64;
		struct cs_stmt *bigger = realloc(script->stmts, capacity * sizeof(*bigger));

		if (!bigger)
			return NULL;
		script->stmts = bigger;
		script->capacity = capacity;
	}
	return &script->stmts[script->count];
}

/* Split @text (modified in place) into blank-separated words. */
static int split_words(struct parser *p, char *text)
{
	char *s = text;

	p->count = 0;
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\f' || *s == '\v')
			*s++ = '\0';
		if (!*s)
			break;
		if (p->count == CS_WORDS_MAX)
			return parse_error(p, -E2BIG, "too many words (at most %u)", CS_WORDS_MAX);
		p->words[p->count++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\f' && *s != '\v')
			s++;
	}
	return 0;
}

static int check_printable(struct parser *p, const char *text)
{
	for (const unsigned char *s = (const unsigned char *)text; *s; s++)
		if (*s < 0x20 && *s != '\t' && *s != '\r' && *s != '\f' && *s != '\v')
			return parse_error(p, -EINVAL, "control character 0x%02x in the text", *s);
	return 0;
}

static char *trim(char *text)
{
	char *end;

	while (*text == ' ' || *text == '\t' || *text == '\r')
		text++;
	end = text + strlen(text);
	while (end > text && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return text;
}

/* One statement (no ';', no comment).  Empty statements are skipped. */
static int parse_statement(struct parser *p, char *text)
{
	char words_text[CPU_SCRIPT_LINE_MAX + 1];
	struct cs_stmt *stmt;
	int rc;

	text = trim(text);
	if (!*text)
		return 0;
	if (p->script->count >= CPU_SCRIPT_STATEMENTS_MAX)
		return parse_error(p, -E2BIG, "too many statements (at most %u)",
				   CPU_SCRIPT_STATEMENTS_MAX);
	rc = check_printable(p, text);
	if (rc)
		return rc;
	stmt = new_stmt(p);
	if (!stmt)
		return parse_error(p, -ENOMEM, "out of memory");
	memset(stmt, 0, sizeof(*stmt));
	stmt->line = p->line;
	stmt->buffer = -1;
	snprintf(words_text, sizeof(words_text), "%s", text);
	rc = split_words(p, words_text);
	if (!rc)
		rc = parse_words(p, stmt);
	if (rc == 1) { /* a declaration */
		free_stmt(stmt);
		return 0;
	}
	if (rc < 0) {
		free_stmt(stmt);
		return rc;
	}
	free(stmt->text);
	stmt->text = strdup(text);
	if (!stmt->text)
		return parse_error(p, -ENOMEM, "out of memory");
	p->script->count++;
	return 0;
}

/*
 * Where a comment starts: '#' first on the line, or '#' after a blank and followed by a blank
 * or the end ("expect fault #GP" keeps its '#').
 */
static char *find_comment(char *line)
{
	char *s = line;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '#')
		return s;
	for (; *s; s++) {
		if (*s == '#' && (s[-1] == ' ' || s[-1] == '\t' || s[-1] == ';') &&
		    (s[1] == '\0' || s[1] == ' ' || s[1] == '\t' || s[1] == '\r'))
			return s;
	}
	return NULL;
}

/* One physical line: strip the comment, split at ';'. */
static int parse_line(struct parser *p, char *line, bool semicolon_lines)
{
	char *comment = find_comment(line);
	char *statement = line;
	unsigned hidden_lines = 0;
	int rc;

	if (comment) {
		/* with -e every ';' is a line, also the ones a comment hides */
		for (const char *s = comment; semicolon_lines && *s; s++)
			hidden_lines += *s == ';';
		*comment = '\0';
	}
	for (;;) {
		char *next = strchr(statement, ';');

		if (next)
			*next = '\0';
		rc = parse_statement(p, statement);
		if (rc)
			return rc;
		if (!next) {
			p->line += hidden_lines;
			return 0;
		}
		statement = next + 1;
		if (semicolon_lines)
			p->line++;
	}
}

static int parse_text(struct parser *p, const char *text, size_t len, bool semicolon_lines)
{
	char line[CPU_SCRIPT_LINE_MAX + 2];
	size_t pos = 0;
	int rc;

	if (len > CPU_SCRIPT_TEXT_MAX)
		return parse_error(p, -E2BIG, "script is larger than %u bytes",
				   CPU_SCRIPT_TEXT_MAX);
	p->line = 1;
	while (pos < len) {
		const char *start = text + pos;
		const char *newline = memchr(start, '\n', len - pos);
		size_t length = newline ? (size_t)(newline - start) : len - pos;

		if (length > CPU_SCRIPT_LINE_MAX)
			return parse_error(p, -E2BIG, "line longer than %u characters",
					   CPU_SCRIPT_LINE_MAX);
		if (memchr(start, '\0', length))
			return parse_error(p, -EINVAL, "NUL byte in the text");
		memcpy(line, start, length);
		line[length] = '\0';
		rc = parse_line(p, line, semicolon_lines);
		if (rc)
			return rc;
		pos += length + 1;
		p->line++;
	}
	return 0;
}

int cpu_script_parse(const char *text, size_t len, const struct cpu_script_options *options,
		     struct cpu_script **script, struct vx_error *err)
{
	struct parser p = {.err = err};
	int rc;

	*script = NULL;
	if (!text && len)
		return vx_error_set(err, -EINVAL, NULL, "no script text");
	p.script = calloc(1, sizeof(*p.script));
	if (!p.script)
		return vx_error_set(err, -ENOMEM, NULL, "out of memory");
	p.script->next_base = CS_FIRST_BASE;
	rc = parse_text(&p, text, len, options && options->semicolon_lines);
	if (rc) {
		cpu_script_free(p.script);
		return rc;
	}
	*script = p.script;
	return 0;
}

void cpu_script_free(struct cpu_script *script)
{
	if (!script)
		return;
	for (unsigned i = 0; i < script->count; i++)
		free_stmt(&script->stmts[i]);
	for (unsigned i = 0; i < script->buffer_count; i++)
		free(script->buffers[i].bytes);
	free(script->stmts);
	free(script);
}
