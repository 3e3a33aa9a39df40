/* SPDX-License-Identifier: MIT */
/*
 * The vmm layer's strict JSON reader (json.h; RFC 8259).  One recursive-descent pass over the
 * input; values, strings and member arrays live in one arena freed with the document.  Every
 * error names the line and column where the input stops making sense, and says what was
 * expected there.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/arch.h>

#include "vmm/json.h"

#define RULE_JSON  "RFC 8259"
#define BLOCK_SIZE 65536u

struct block {
	struct block *next;
	size_t used, size;
	unsigned char data[];
};

struct vx_json_doc {
	const struct vx_platform *platform;
	struct block *blocks;
	const struct vx_json *root;
};

struct parser {
	const char *s;
	size_t len, pos;
	unsigned line;
	size_t line_start;
	unsigned depth;
	size_t values;
	struct vx_json_doc *doc;
	struct vx_error *err;
};

/* ----------------------------------------------------------------------------------------- */
/* The arena                                                                                    */

static void *arena_alloc(struct vx_json_doc *doc, size_t size)
{
	struct block *b = doc->blocks;
	size_t need = (size + 7u) & ~(size_t)7u, bsize;

	if (b && b->size - b->used >= need) {
		void *p = b->data + b->used;

		b->used += need;
		return p;
	}
	bsize = need > BLOCK_SIZE ? need : BLOCK_SIZE;
	b = doc->platform->alloc(doc->platform->ctx, sizeof(*b) + bsize, 16);
	if (!b)
		return NULL;
	b->size = bsize;
	b->used = need;
	/* A big one-off block goes behind the current one so its free space stays usable. */
	if (doc->blocks && need == bsize) {
		b->next = doc->blocks->next;
		doc->blocks->next = b;
	} else {
		b->next = doc->blocks;
		doc->blocks = b;
	}
	return b->data;
}

void vx_json_free(struct vx_json_doc *doc)
{
	struct block *b, *next;

	if (!doc)
		return;
	for (b = doc->blocks; b; b = next) {
		next = b->next;
		doc->platform->free(doc->platform->ctx, b);
	}
	doc->platform->free(doc->platform->ctx, doc);
}

const struct vx_json *vx_json_root(const struct vx_json_doc *doc)
{
	return doc ? doc->root : NULL;
}

/* ----------------------------------------------------------------------------------------- */
/* Errors and positions                                                                         */

static unsigned column_at(const struct parser *p, size_t pos)
{
	return (unsigned)(pos - p->line_start + 1);
}

static int fail_at(struct parser *p, size_t pos, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct parser *p, size_t pos, int code, const char *fmt, ...)
{
	char what[VX_ERROR_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	vx_error_set(p->err, code, RULE_JSON, "line %u, column %u: %s", p->line, column_at(p, pos),
		     what);
	if (p->err) {
		p->err->line = p->line;
		p->err->offset = (int64_t)pos;
	}
	return code;
}

/* What the character at @pos is, for messages: "'x'", "byte 0xc3", "the end of the input". */
static const char *describe(const struct parser *p, size_t pos, char *buf, size_t len)
{
	unsigned char c;

	if (pos >= p->len)
		return "the end of the input (truncated?)";
	c = (unsigned char)p->s[pos];
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "byte 0x%02x", c);
	return buf;
}

static int unexpected(struct parser *p, const char *expected)
{
	char buf[16];

	if (p->pos >= p->len)
		return fail_at(p, p->pos, -EINVAL,
			       "the input ends where %s was expected (truncated?)", expected);
	return fail_at(p, p->pos, -EINVAL, "expected %s, found %s", expected,
		       describe(p, p->pos, buf, sizeof(buf)));
}

static void skip_blanks(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];

		if (c == '\n') {
			p->line++;
			p->line_start = p->pos + 1;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			return;
		}
		p->pos++;
	}
}

static struct vx_json *new_value(struct parser *p, enum vx_json_type type)
{
	struct vx_json *v;

	/* Each value costs arena memory: bound them as the input is bounded. */
	if (++p->values > VX_JSON_MAX_VALUES) {
		fail_at(p, p->pos, -EFBIG, "oversized: more than %u values", VX_JSON_MAX_VALUES);
		return NULL;
	}
	v = arena_alloc(p->doc, sizeof(*v));
	if (!v) {
		fail_at(p, p->pos, -ENOMEM, "out of memory");
		return NULL;
	}
	memset(v, 0, sizeof(*v));
	v->type = type;
	v->line = p->line;
	v->column = column_at(p, p->pos);
	return v;
}

/* ----------------------------------------------------------------------------------------- */
/* Strings                                                                                      */

/* Length of the UTF-8 sequence at @s (RFC 3629 §4: no overlong forms, no surrogates, at most
 * U+10FFFF), or 0 if it is not one. */
static unsigned utf8_length(const unsigned char *s, size_t avail)
{
	unsigned n = s[0] >= 0xF0 ? 4u : s[0] >= 0xE0 ? 3u : 2u;
	unsigned char lo = 0x80, hi = 0xBF;

	if (s[0] < 0xC2 || s[0] > 0xF4 || avail < n)
		return 0;
	if (s[0] == 0xE0)
		lo = 0xA0; /* overlong */
	if (s[0] == 0xED)
		hi = 0x9F; /* surrogates */
	if (s[0] == 0xF0)
		lo = 0x90; /* overlong */
	if (s[0] == 0xF4)
		hi = 0x8F; /* above U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (unsigned i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static int hex4(struct parser *p, size_t pos, uint32_t *out)
{
	uint32_t v = 0;

	for (size_t i = pos; i < pos + 4; i++) {
		char c = (char)(i < p->len ? p->s[i] : 0);
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						    : 16u;

		if (i >= p->len)
			return fail_at(p, i, -EINVAL,
				       "the input ends inside a \\u escape (truncated?)");
		if (d > 15)
			return fail_at(p, i, -EINVAL, "\\u needs four hex digits");
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* \uXXXX at p->pos (after the backslash and 'u'), with a surrogate pair as one code point. */
static int unicode_escape(struct parser *p, uint32_t *cp)
{
	size_t at = p->pos - 2;
	uint32_t lo = 0;
	int rc = hex4(p, p->pos, cp);

	if (rc)
		return rc;
	p->pos += 4;
	/* RFC 8259 §7: a character outside the BMP is a UTF-16 surrogate pair. */
	if (*cp >= 0xDC00 && *cp <= 0xDFFF)
		return fail_at(p, at, -EINVAL, "a lone low surrogate \\u%04X", *cp);
	if (*cp >= 0xD800 && *cp <= 0xDBFF) {
		if (p->pos + 2 > p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
			return fail_at(p, at, -EINVAL, "a high surrogate \\u%04X without its pair",
				       *cp);
		rc = hex4(p, p->pos + 2, &lo);
		if (rc)
			return rc;
		if (lo < 0xDC00 || lo > 0xDFFF)
			return fail_at(p, at, -EINVAL, "a high surrogate \\u%04X without its pair",
				       *cp);
		p->pos += 6;
		*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	if (*cp == 0)
		return fail_at(p, at, -EINVAL, "a NUL character (\\u0000) in a string");
	return 0;
}

static int escape(struct parser *p, char *out, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	uint32_t cp = 0;
	int rc;

	if (p->pos >= p->len)
		return unexpected(p, "an escape character");
	hit = strchr(from, p->s[p->pos]);
	if (hit && p->s[p->pos]) {
		out[(*n)++] = to[hit - from];
		p->pos++;
		return 0;
	}
	if (p->s[p->pos] != 'u')
		return fail_at(p, p->pos - 1, -EINVAL, "\\%c is not a JSON escape",
			       p->s[p->pos] >= 0x20 && p->s[p->pos] < 0x7f ? p->s[p->pos] : '?');
	p->pos++;
	rc = unicode_escape(p, &cp);
	if (!rc)
		*n += put_utf8(out + *n, cp);
	return rc;
}

/* One character of a string body at p->pos into @out. */
static int string_char(struct parser *p, char *out, size_t *n)
{
	const unsigned char *c = (const unsigned char *)p->s + p->pos;
	unsigned u;

	if (*c == '\\') {
		p->pos++;
		return escape(p, out, n);
	}
	if (*c < 0x20)
		return fail_at(p, p->pos, -EINVAL,
			       "control character 0x%02x in a string (escape it)", *c);
	u = *c < 0x80 ? 1u : utf8_length(c, p->len - p->pos);
	if (!u)
		return fail_at(p, p->pos, -EINVAL, "invalid UTF-8 (byte 0x%02x)", *c);
	memcpy(out + *n, c, u);
	*n += u;
	p->pos += u;
	return 0;
}

/* A string at p->pos (its opening quote): the decoded text in the arena. */
static int parse_string(struct parser *p, const char **text, size_t *len)
{
	size_t start = p->pos, end = p->pos + 1, n = 0;
	char *out;
	int rc;

	while (end < p->len && p->s[end] != '"')
		end += p->s[end] == '\\' ? 2 : 1;
	if (end >= p->len)
		return fail_at(p, start, -EINVAL, "a string that never ends (truncated?)");
	out = arena_alloc(p->doc, end - start);
	if (!out)
		return fail_at(p, start, -ENOMEM, "out of memory");
	p->pos++;
	while (p->pos < end) {
		rc = string_char(p, out, &n);
		if (rc)
			return rc;
	}
	p->pos = end + 1;
	out[n] = '\0';
	*text = out;
	*len = n;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Numbers and literals                                                                         */

static size_t digits(const struct parser *p, size_t pos)
{
	size_t n = 0;

	while (pos + n < p->len && p->s[pos + n] >= '0' && p->s[pos + n] <= '9')
		n++;
	return n;
}

/* RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int parse_number(struct parser *p, struct vx_json *v)
{
	size_t start = p->pos, pos = p->pos, n;
	char *copy;

	pos += p->s[pos] == '-';
	n = digits(p, pos);
	if (n == 0)
		return fail_at(p, pos, -EINVAL, "a number needs a digit here");
	if (n > 1 && p->s[pos] == '0')
		return fail_at(p, pos, -EINVAL, "a number may not start with 0 (no octal in JSON)");
	pos += n;
	if (pos < p->len && p->s[pos] == '.') {
		if (!digits(p, pos + 1))
			return fail_at(p, pos + 1, -EINVAL,
				       "a digit must follow the decimal point");
		pos += 1 + digits(p, pos + 1);
	}
	if (pos < p->len && (p->s[pos] == 'e' || p->s[pos] == 'E')) {
		pos += 1 + (pos + 1 < p->len && (p->s[pos + 1] == '+' || p->s[pos + 1] == '-'));
		if (!digits(p, pos))
			return fail_at(p, pos, -EINVAL, "the exponent needs a digit");
		pos += digits(p, pos);
	}
	copy = arena_alloc(p->doc, pos - start + 1);
	if (!copy)
		return fail_at(p, start, -ENOMEM, "out of memory");
	memcpy(copy, p->s + start, pos - start);
	copy[pos - start] = '\0';
	v->text = copy;
	v->len = pos - start;
	p->pos = pos;
	return 0;
}

static int parse_literal(struct parser *p, struct vx_json *v)
{
	static const struct {
		const char *word;
		enum vx_json_type type;
	} words[] = {{"null", VX_JSON_NULL}, {"false", VX_JSON_FALSE}, {"true", VX_JSON_TRUE}};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i].word);

		if (p->len - p->pos >= n && memcmp(p->s + p->pos, words[i].word, n) == 0) {
			v->type = words[i].type;
			p->pos += n;
			return 0;
		}
	}
	return unexpected(p, "a value (object, array, string, number, true, false or null)");
}

/* ----------------------------------------------------------------------------------------- */
/* Arrays and objects                                                                           */

/* A growing list of members while an array or object is read (then copied to the arena). */
struct members {
	const struct vx_json **items;
	const char **keys;
	unsigned *lines, *columns;
	size_t count, room;
};

static void members_free(struct parser *p, struct members *m)
{
	const struct vx_platform *pl = p->doc->platform;

	pl->free(pl->ctx, m->items);
	pl->free(pl->ctx, m->keys);
	pl->free(pl->ctx, m->lines);
	pl->free(pl->ctx, m->columns);
}

static bool grow(const struct vx_platform *pl, void **array, size_t size, size_t old, size_t n)
{
	void *fresh = pl->alloc(pl->ctx, size * n, 8);

	if (!fresh)
		return false;
	if (*array)
		memcpy(fresh, *array, size * old);
	pl->free(pl->ctx, *array);
	*array = fresh;
	return true;
}

static int members_add(struct parser *p, struct members *m, const char *key,
		       const struct vx_json *value, unsigned line, unsigned column)
{
	const struct vx_platform *pl = p->doc->platform;
	size_t room = m->room ? m->room * 2 : 8;

	if (m->count == m->room) {
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
		if (!grow(pl, (void **)&m->items, sizeof(*m->items), m->count, room) ||
		    !grow(pl, (void **)&m->keys, sizeof(*m->keys), m->count, room) ||
		    !grow(pl, (void **)&m->lines, sizeof(*m->lines), m->count, room) ||
		    !grow(pl, (void **)&m->columns, sizeof(*m->columns), m->count, room))
			return fail_at(p, p->pos, -ENOMEM, "out of memory");
		m->room = room;
	}
	m->items[m->count] = value;
	m->keys[m->count] = key;
	m->lines[m->count] = line;
	m->columns[m->count] = column;
	m->count++;
	return 0;
}

struct key_sort {
	const char *key;
	size_t index;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key_sort *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* RFC 8259 §4 says names SHOULD be unique; a bundle's must be (one meaning per key). */
static int check_duplicates(struct parser *p, const struct members *m)
{
	const struct vx_platform *pl = p->doc->platform;
	struct key_sort *sorted;
	size_t dup = SIZE_MAX;

	if (m->count < 2)
		return 0;
	sorted = pl->alloc(pl->ctx, sizeof(*sorted) * m->count, 8);
	if (!sorted)
		return fail_at(p, p->pos, -ENOMEM, "out of memory");
	for (size_t i = 0; i < m->count; i++)
		sorted[i] = (struct key_sort){m->keys[i], i};
	qsort(sorted, m->count, sizeof(*sorted), key_cmp);
	for (size_t i = 1; i < m->count && dup == SIZE_MAX; i++)
		if (strcmp(sorted[i - 1].key, sorted[i].key) == 0)
			dup = sorted[i].index;
	pl->free(pl->ctx, sorted);
	if (dup == SIZE_MAX)
		return 0;
	vx_error_set(p->err, -EINVAL, RULE_JSON, "line %u, column %u: duplicate key \"%s\"",
		     m->lines[dup], m->columns[dup], m->keys[dup]);
	if (p->err)
		p->err->line = m->lines[dup];
	return -EINVAL;
}

static int finish_members(struct parser *p, struct vx_json *v, struct members *m, bool object)
{
	size_t n = m->count ? m->count : 1;

	v->count = m->count;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	v->items = arena_alloc(p->doc, sizeof(*v->items) * n);
	v->keys = object ? arena_alloc(p->doc, sizeof(*v->keys) * n) : NULL;
	if (!v->items || (object && !v->keys))
		return fail_at(p, p->pos, -ENOMEM, "out of memory");
	if (m->count)
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
		memcpy(v->items, m->items, sizeof(*v->items) * m->count);
	if (object && m->count)
		memcpy(v->keys, m->keys, sizeof(*v->keys) * m->count);
	return object ? check_duplicates(p, m) : 0;
}

static int parse_value(struct parser *p, const struct vx_json **out);

/* After an element: ',' and another, or @close. */
static int separator(struct parser *p, char close, bool *more, const char *what)
{
	char expected[48];

	skip_blanks(p);
	if (p->pos < p->len && p->s[p->pos] == ',') {
		p->pos++;
		*more = true;
		return 0;
	}
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		*more = false;
		return 0;
	}
	snprintf(expected, sizeof(expected), "',' or '%c' after %s", close, what);
	return unexpected(p, expected);
}

/* NOLINTNEXTLINE(misc-no-recursion): depth bounded by VX_JSON_MAX_DEPTH (parse_container) */
static int parse_member(struct parser *p, struct members *m)
{
	const struct vx_json *value = NULL;
	const char *key = NULL;
	size_t key_len = 0;
	unsigned line, column;
	int rc;

	skip_blanks(p);
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return unexpected(p, "a member name in double quotes");
	line = p->line;
	column = column_at(p, p->pos);
	rc = parse_string(p, &key, &key_len);
	skip_blanks(p);
	if (!rc && (p->pos >= p->len || p->s[p->pos] != ':'))
		rc = unexpected(p, "':' after a member name");
	if (!rc) {
		p->pos++;
		rc = parse_value(p, &value);
	}
	if (!rc)
		rc = members_add(p, m, key, value, line, column);
	return rc;
}

/* NOLINTNEXTLINE(misc-no-recursion): depth bounded by VX_JSON_MAX_DEPTH */
static int parse_container(struct parser *p, struct vx_json *v, bool object)
{
	struct members m = {0};
	const struct vx_json *item = NULL;
	char close = object ? '}' : ']';
	bool more = true;
	int rc = 0;

	if (++p->depth > VX_JSON_MAX_DEPTH)
		return fail_at(p, p->pos, -EINVAL, "nested deeper than %u levels",
			       VX_JSON_MAX_DEPTH);
	p->pos++;
	skip_blanks(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		more = false;
	}
	while (more && !rc) {
		rc = object ? parse_member(p, &m) : parse_value(p, &item);
		if (!rc && !object)
			rc = members_add(p, &m, NULL, item, 0, 0);
		if (!rc)
			rc = separator(p, close, &more, object ? "an object member" : "an element");
	}
	if (!rc)
		rc = finish_members(p, v, &m, object);
	members_free(p, &m);
	p->depth--;
	return rc;
}

/* NOLINTNEXTLINE(misc-no-recursion): depth bounded by VX_JSON_MAX_DEPTH (parse_container) */
static int parse_value(struct parser *p, const struct vx_json **out)
{
	struct vx_json *v;
	char c;
	int rc;

	skip_blanks(p);
	if (p->pos >= p->len)
		return unexpected(p, "a value");
	c = p->s[p->pos];
	v = new_value(p, c == '{'			      ? VX_JSON_OBJECT
			 : c == '['			      ? VX_JSON_ARRAY
			 : c == '"'			      ? VX_JSON_STRING
			 : c == '-' || (c >= '0' && c <= '9') ? VX_JSON_NUMBER
							      : VX_JSON_NULL);
	if (!v)
		return p->err ? p->err->code : -ENOMEM;
	if (v->type == VX_JSON_OBJECT || v->type == VX_JSON_ARRAY)
		rc = parse_container(p, v, v->type == VX_JSON_OBJECT);
	else if (v->type == VX_JSON_STRING)
		rc = parse_string(p, &v->text, &v->len);
	else if (v->type == VX_JSON_NUMBER)
		rc = parse_number(p, v);
	else
		rc = parse_literal(p, v);
	*out = v;
	return rc;
}

/* ----------------------------------------------------------------------------------------- */

/* A NUL byte is never JSON (RFC 8259 §7-§8): name where the first one is. */
static int check_nul(struct parser *p)
{
	const char *nul = memchr(p->s, '\0', p->len);
	size_t pos;

	if (!nul)
		return 0;
	pos = (size_t)(nul - p->s);
	for (size_t i = 0; i < pos; i++) {
		if (p->s[i] == '\n') {
			p->line++;
			p->line_start = i + 1;
		}
	}
	return fail_at(p, pos, -EINVAL, "a NUL byte (offset %zu): not a JSON text", pos);
}

int vx_json_parse(const char *text, size_t len, struct vx_json_doc **out, struct vx_error *err)
{
	return vx_json_parse_with(vx_platform_default(), text, len, out, err);
}

int vx_json_parse_with(const struct vx_platform *pl, const char *text, size_t len,
		       struct vx_json_doc **out, struct vx_error *err)
{
	struct parser p = {text, len, 0, 1, 0, 0, 0, NULL, err};
	const struct vx_json *root = NULL;
	int rc;

	if (len > VX_JSON_MAX_INPUT)
		return vx_error_set(
		    err, -EFBIG, RULE_JSON,
		    "oversized: %zu bytes, more than the %u MiB a state file may have", len,
		    VX_JSON_MAX_INPUT >> 20);
	rc = check_nul(&p);
	if (rc)
		return rc;
	p.doc = pl->alloc(pl->ctx, sizeof(*p.doc), 8);
	if (!p.doc)
		return vx_error_set(err, -ENOMEM, NULL, "out of memory");
	memset(p.doc, 0, sizeof(*p.doc));
	p.doc->platform = pl;
	rc = parse_value(&p, &root);
	skip_blanks(&p);
	if (!rc && p.pos < p.len)
		rc = unexpected(&p, "the end of the input after the JSON value");
	if (rc) {
		vx_json_free(p.doc);
		return rc;
	}
	p.doc->root = root;
	*out = p.doc;
	return 0;
}

const struct vx_json *vx_json_get(const struct vx_json *obj, const char *key)
{
	if (!obj || obj->type != VX_JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->count; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}

const char *vx_json_type_name(enum vx_json_type type)
{
	static const char *const names[] = {"null",	"false",    "true",	"a number",
					    "a string", "an array", "an object"};

	return (unsigned)type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

bool vx_json_u64(const struct vx_json *value, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!value || (value->type != VX_JSON_NUMBER && value->type != VX_JSON_STRING))
		return false;
	/* A JSON number here is a plain non-negative integer: no sign, fraction or exponent. */
	if (value->type == VX_JSON_NUMBER && strspn(value->text, "0123456789") != value->len)
		return false;
	if (vx_parse_u64(value->text, value->len, &v, NULL) != 0 || v > max)
		return false;
	*out = v;
	return true;
}
