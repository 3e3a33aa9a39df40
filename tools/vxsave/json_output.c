/* SPDX-License-Identifier: MIT */
/*
 * JSON helpers for the CLI (see json_output.h).
 */
#include "json_output.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

json_t *cli_json_hex(uint64_t value)
{
	char text[24];

	cli_format_hex(text, sizeof(text), value);
	return json_string(text);
}

json_t *cli_json_text(const char *text)
{
	char clean[2048];

	vx_utf8_sanitize(text, clean, sizeof(clean));
	return json_string(clean);
}

json_t *cli_json_reg32(uint32_t value)
{
	char text[16];

	snprintf(text, sizeof(text), "0x%08x", value);
	return json_string(text);
}

/* Component names in bit order, from the library's own formatter so text and JSON agree. */
static json_t *mask_name_array(uint64_t mask)
{
	char names[1024];
	json_t *array = json_array();
	char *word, *rest = NULL;

	if (!array || !mask)
		return array;
	vx_format_component_mask(mask, names, sizeof(names));
	for (word = strtok_r(names, "|", &rest); word; word = strtok_r(NULL, "|", &rest))
		json_array_append_new(array, json_string(word));
	return array;
}

json_t *cli_json_mask(uint64_t mask)
{
	json_t *object = json_object();

	if (!object)
		return NULL;
	cli_json_set(object, "mask", cli_json_hex(mask));
	cli_json_set(object, "names", mask_name_array(mask));
	return object;
}

void cli_json_set(json_t *object, const char *key, json_t *value)
{
	json_object_set_new(object, key, value ? value : json_null());
}

/*
 * Every document starts with "schema_version" (docs/cli.md "JSON output"), so a script can
 * refuse a layout it does not know instead of misreading it.
 */
static json_t *with_schema_version(json_t *root)
{
	json_t *versioned;

	if (!json_is_object(root))
		return root;
	versioned = json_object();
	if (!versioned || json_object_set_new(versioned, "schema_version",
					      json_integer(CLI_JSON_SCHEMA_VERSION)) < 0 ||
	    json_object_update(versioned, root) < 0) {
		json_decref(versioned);
		json_decref(root);
		return NULL;
	}
	json_decref(root);
	return versioned;
}

int cli_json_print(json_t *root)
{
	int rc;

	root = root ? with_schema_version(root) : NULL;
	if (!root) {
		cli_error("out of memory while building JSON output");
		return CLI_EXIT_FAILURE;
	}
	rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (rc < 0 || fputc('\n', stdout) == EOF) {
		cli_error("cannot write JSON to standard output");
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}
