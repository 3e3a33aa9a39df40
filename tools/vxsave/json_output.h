/* SPDX-License-Identifier: MIT */
/*
 * JSON helpers for the CLI (jansson).  Objects are built in a fixed insertion order and
 * printed with that order preserved, so golden files and scripts see stable keys.
 * Sizes and counts are JSON numbers; masks and raw register values are hex strings.
 */
#ifndef VXSAVE_CLI_JSON_OUTPUT_H
#define VXSAVE_CLI_JSON_OUTPUT_H

#include <stdint.h>

#include <jansson.h>

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
