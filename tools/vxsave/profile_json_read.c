/* SPDX-License-Identifier: MIT */
/*
 * Reading back what `vxsave profile show --json` writes: the document's raw_leaves are the
 * profile, and name, description, source, xcr0_at_capture, xss_at_capture and mxcsr_mask its
 * metadata.  Everything else in the document (features, components, diagnostics) is derived
 * from the leaves and is recomputed, never trusted (docs/cli.md "JSON output").
 * jansson is the CLI's only JSON library, so this lives in the CLI, not in the core.
 */
#include <stdarg.h>
#include <string.h>

#include "cli.h"
#include "profile_report.h"

static int why_fail(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int why_fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* A "0x..." string (or a JSON integer) of at most @limit. */
static bool json_number(const json_t *value, uint64_t limit, uint64_t *out)
{
	const char *text;

	if (json_is_integer(value) && json_integer_value(value) >= 0) {
		*out = (uint64_t)json_integer_value(value);
		return *out <= limit;
	}
	if (!json_is_string(value))
		return false;
	text = json_string_value(value);
	return vx_parse_u64(text, strlen(text), out, NULL) == 0 && *out <= limit;
}

static int read_text(json_t *root, const char *key, char *field, size_t size, char *why,
		     size_t why_len)
{
	json_t *value = json_object_get(root, key);

	if (!value || json_is_null(value))
		return 0;
	if (!json_is_string(value))
		return why_fail(why, why_len, "\"%s\" is not a string", key);
	snprintf(field, size, "%s", json_string_value(value));
	return 0;
}

/* {"mask": "0x2e7", ...} or null (not recorded). */
static int read_capture(json_t *root, const char *key, uint64_t *value, bool *known, char *why,
			size_t why_len)
{
	json_t *entry = json_object_get(root, key);

	*known = false;
	if (!entry || json_is_null(entry))
		return 0;
	if (!json_number(json_object_get(entry, "mask"), UINT64_MAX, value))
		return why_fail(why, why_len, "\"%s\" has no \"mask\" hex string", key);
	*known = true;
	return 0;
}

static int read_leaf(struct vx_profile *p, json_t *entry, size_t index, char *why, size_t why_len)
{
	static const char *const keys[] = {"leaf", "subleaf", "eax", "ebx", "ecx", "edx"};
	uint64_t v[6];
	struct vx_cpuid_regs regs;

	for (unsigned k = 0; k < 6; k++)
		if (!json_number(json_object_get(entry, keys[k]), UINT32_MAX, &v[k]))
			return why_fail(why, why_len,
					"raw_leaves[%zu]: \"%s\" is missing or not a 32-bit hex "
					"string",
					index, keys[k]);
	regs =
	    (struct vx_cpuid_regs){(uint32_t)v[2], (uint32_t)v[3], (uint32_t)v[4], (uint32_t)v[5]};
	/* Leaves profiles do not keep are ignored, as in a dump. */
	vx_profile_set_leaf(p, (uint32_t)v[0], (uint32_t)v[1], &regs);
	return 0;
}

static int read_document(struct vx_profile *p, json_t *root, char *why, size_t why_len)
{
	json_t *leaves = json_object_get(root, "raw_leaves"), *entry;
	uint64_t mxcsr;
	bool known;
	size_t index;

	if (!json_is_object(root))
		return why_fail(why, why_len, "not a JSON object");
	if (!json_is_array(leaves) || json_array_size(leaves) == 0)
		return why_fail(why, why_len,
				"no \"raw_leaves\" array: not a document of 'vxsave profile show "
				"--json'");
	json_array_foreach(leaves, index, entry)
	{
		if (read_leaf(p, entry, index, why, why_len))
			return -1;
	}
	if (read_text(root, "name", p->name, sizeof(p->name), why, why_len) ||
	    read_text(root, "description", p->description, sizeof(p->description), why, why_len) ||
	    read_text(root, "source", p->source, sizeof(p->source), why, why_len))
		return -1;
	if (read_capture(root, "xcr0_at_capture", &p->xcr0_at_capture, &known, why, why_len) ||
	    read_capture(root, "xss_at_capture", &p->xss_at_capture, &p->xss_known, why, why_len))
		return -1;
	if (json_object_get(root, "mxcsr_mask")) {
		if (!json_number(json_object_get(root, "mxcsr_mask"), UINT32_MAX, &mxcsr))
			return why_fail(why, why_len, "\"mxcsr_mask\" is not a 32-bit hex string");
		p->mxcsr_mask = (uint32_t)mxcsr;
	}
	return 0;
}

int profile_from_json(struct vx_profile *profile, const char *text, size_t len, char *why,
		      size_t why_len)
{
	json_error_t error;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	struct vx_profile parsed;
	int rc;

	if (!root)
		return why_fail(why, why_len, "line %d: %s", error.line, error.text);
	vx_profile_init(&parsed);
	rc = read_document(&parsed, root, why, why_len);
	json_decref(root);
	if (rc == 0)
		*profile = parsed;
	return rc;
}
