/* SPDX-License-Identifier: MIT */
/*
 * A small strict JSON reader for the vmm layer (issue 10): vCPU state bundles and the saved
 * state files of VMMs (docs/vmm.md "Bundles", "Cloud Hypervisor").  RFC 8259 and nothing else:
 * no comments, no trailing commas, no NaN, no duplicate keys, no NUL character anywhere (raw or
 * as \u0000), strings must be valid UTF-8.  Every value remembers the line and column it starts
 * at, so readers can name where a value is wrong as well as which one.  The CLI keeps jansson;
 * the library reads JSON itself so it stays free of dependencies (PRODUCT.md).
 *
 * A document owns every value it holds (one arena); values are read-only after parsing.
 */
#ifndef VXSAVE_SRC_VMM_JSON_H
#define VXSAVE_SRC_VMM_JSON_H

#include <vxsave/common.h>

/* Limits: a bigger input is "oversized", a deeper one "too deeply nested". */
#define VX_JSON_MAX_INPUT  (8u << 20)
#define VX_JSON_MAX_DEPTH  64u
#define VX_JSON_MAX_VALUES (1u << 20)

enum vx_json_type {
	VX_JSON_NULL = 0,
	VX_JSON_FALSE,
	VX_JSON_TRUE,
	VX_JSON_NUMBER,
	VX_JSON_STRING,
	VX_JSON_ARRAY,
	VX_JSON_OBJECT,
};

/**
 * struct vx_json - one value.
 * @line, @column: where it starts (1-based; columns count bytes).
 * @text, @len:    NUMBER: its text as written; STRING: the decoded UTF-8, NUL-terminated.
 * @count:         ARRAY/OBJECT: number of elements or members.
 * @items:         ARRAY: the elements; OBJECT: the member values.
 * @keys:          OBJECT: the member names (decoded, NUL-terminated), in document order.
 */
struct vx_json {
	enum vx_json_type type;
	unsigned line, column;
	const char *text;
	size_t len;
	size_t count;
	const struct vx_json **items;
	const char **keys;
};

struct vx_json_doc;

/**
 * vx_json_parse() - parse @len bytes of @text.  -EINVAL with @err naming the line and column
 * (err->line, err->offset) and what is wrong: a NUL byte, invalid UTF-8, a control character
 * in a string, an unexpected character, the input ending inside a value ("truncated"), text
 * after the value, a duplicate key, nesting deeper than VX_JSON_MAX_DEPTH; -EFBIG for more
 * than VX_JSON_MAX_INPUT bytes or VX_JSON_MAX_VALUES values ("oversized"); -ENOMEM.
 */
int vx_json_parse(const char *text, size_t len, struct vx_json_doc **out, struct vx_error *err);
/* vx_json_parse() allocating the document from @pl (the one vx_json_free() gives it back to). */
int vx_json_parse_with(const struct vx_platform *pl, const char *text, size_t len,
		       struct vx_json_doc **out, struct vx_error *err);
void vx_json_free(struct vx_json_doc *doc);
const struct vx_json *vx_json_root(const struct vx_json_doc *doc);

/** The member @key of object @obj, or NULL (also when @obj is not an object). */
const struct vx_json *vx_json_get(const struct vx_json *obj, const char *key);
/** "null", "false", "true", "a number", "a string", "an array", "an object". */
const char *vx_json_type_name(enum vx_json_type type);

/**
 * vx_json_u64() - a non-negative integer: a JSON number without fraction or exponent, or a
 * string vx_parse_u64() reads ("0x1f", "0b101", "31").  False if it is neither or above @max.
 */
bool vx_json_u64(const struct vx_json *value, uint64_t max, uint64_t *out);

#endif /* VXSAVE_SRC_VMM_JSON_H */
