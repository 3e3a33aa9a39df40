/* SPDX-License-Identifier: MIT */
/*
 * JSON helpers for the CLI (jansson).  Objects are built in a fixed insertion order and
 * printed with that order preserved, so golden files and scripts see stable keys.
 * Sizes, offsets and counts are JSON numbers (null where the text shows "-"); masks are short hex
 * strings; CPUID leaves, sub-leaves and register values are "0x%08x" strings like `cpuid -r`.
 */
#ifndef VXSAVE_CLI_JSON_OUTPUT_H
#define VXSAVE_CLI_JSON_OUTPUT_H

#include <stdint.h>

#include <jansson.h>

/*
 * The version of the JSON documents, written first in each as "schema_version".  Bump it when a
 * key changes meaning or type or disappears (adding keys does not); docs/cli.md lists the keys.
 * 2: leaf and subleaf are both "0x%08x" strings; absent offsets are null; schema_version added.
 */
#define CLI_JSON_SCHEMA_VERSION 2

/* A string from outside (profile name, description): invalid UTF-8 becomes U+FFFD, never null. */
json_t *cli_json_text(const char *text);
/* "0x2e7": a mask or value as a short hex string. */
json_t *cli_json_hex(uint64_t value);
/* "0x0000000d": a raw 32-bit register value, zero-padded like `cpuid -r`. */
json_t *cli_json_reg32(uint32_t value);
/* {"mask": "0x2e7", "names": ["x87", "SSE", ...]} */
json_t *cli_json_mask(uint64_t mask);
/* Set @key to @value (stolen); a NULL @value becomes JSON null. */
void cli_json_set(json_t *object, const char *key, json_t *value);
/* Print @root to stdout with a final newline and release it; CLI exit code. */
int cli_json_print(json_t *root);

#endif /* VXSAVE_CLI_JSON_OUTPUT_H */
