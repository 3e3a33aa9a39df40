/* SPDX-License-Identifier: MIT */
/*
 * Inside the `vxsave cpu` script engine: the parsed program shared by the parser
 * (cpu_script.c), the executor (cpu_script_exec.c) and the area printer (cpu_script_area.c).
 */
#ifndef VXSAVE_CLI_CPU_SCRIPT_INTERNAL_H
#define VXSAVE_CLI_CPU_SCRIPT_INTERNAL_H

#include <vxsave/area.h>

#include "cpu_script.h"

/* Largest register (a TMM tile) and largest hex: literal a line can hold. */
#define CS_VALUE_BYTES_MAX 2048u

enum cs_kind {
	/* memory */
	CS_FILL,
	CS_POKE,
	/* control state and environment */
	CS_SET_CPL,
	CS_SET_MODE,
	CS_SET_CR0,
	CS_SET_CR4,
	CS_SET_AC,
	CS_SET_VMX,
	CS_SET_VMX_XSAVES,
	CS_SET_XSS_EXIT,
	CS_SET_SSP,
	CS_RESET,
	CS_REQUIRE,
	/* operations that can fault */
	CS_XSETBV,
	CS_XGETBV,
	CS_WRMSR,
	CS_RDMSR,
	CS_REG,
	CS_USE,
	CS_INSN,
	/* cannot fault */
	CS_INIT,
	/* output */
	CS_ECHO,
	CS_PRINT_STATE,
	CS_PRINT_AREA,
	CS_PRINT_REG,
	CS_PRINT_XINUSE,
	CS_PRINT_TRACKING,
	CS_PRINT_XCR0,
	CS_PRINT_MSR,
	CS_PRINT_CONTROL,
	/* assertions */
	CS_EXPECT_OK,
	CS_EXPECT_FAULT,
	CS_EXPECT_VMEXIT,
	CS_EXPECT_REG,
	CS_EXPECT_XINUSE,
	CS_EXPECT_XMODIFIED,
	CS_EXPECT_XCR0,
	CS_EXPECT_MSR,
	CS_EXPECT_VALUE,
	CS_EXPECT_MEM,
	CS_EXPECT_SSP,
};

/** A named window of linear memory, zero-filled at the start of every run. */
struct cs_buffer {
	char name[CPU_SCRIPT_NAME_MAX];
	uint64_t base;
	size_t size;
	uint8_t *bytes;
	unsigned line;
};

/**
 * struct cs_value - a literal: a number of any width (little-endian bytes) or hex: bytes.
 * @all_ones: written as -1 / all: every bit set, whatever the width it is used at.
 */
struct cs_value {
	uint8_t *bytes;
	size_t length;
	bool all_ones;
};

/**
 * struct cs_stmt - one statement.  Which fields matter depends on @kind (see cpu_script.c).
 * @text:     the statement as written, for messages and traces.
 * @buffer:   index into the program's buffers, or -1.
 * @offset:   offset into the buffer (for areas: where the area starts).
 * @where:    a second offset (print/expect: inside the area).
 * @length:   bytes (print range, memory width).
 * @number:   ECX, MSR index, CPL, mode, vector, exit reason, error code.
 * @has_number: an optional number was given (e.g. #GP(0)).
 * @mask:     component mask, EDX:EAX, MSR value, CR bits to set.
 * @clear:    CR bits to clear.
 * @assign:   "=VALUE" was given for a CR (then @mask is the new value before @clear/@set).
 * @set:      CR bits to set after @assign.
 * @select:   `& MASK` of a scalar expectation: only these bits are compared.
 * @negate:   `!=` instead of `==`.
 * @value:    wide literal (register writes and comparisons, hex: pokes).
 */
struct cs_stmt {
	enum cs_kind kind;
	unsigned line;
	char *text;
	int buffer;
	uint64_t offset;
	uint64_t where;
	uint64_t length;
	uint32_t number;
	bool has_number;
	uint64_t mask;
	uint64_t clear;
	uint64_t set;
	bool assign;
	uint64_t select;
	bool negate;
	const struct vx_reg_info *reg;
	enum vx_insn insn;
	unsigned prefixes;
	struct cs_value value;
};

struct cpu_script {
	struct cs_stmt *stmts;
	unsigned count;
	unsigned capacity;
	struct cs_buffer buffers[CPU_SCRIPT_BUFFERS_MAX];
	unsigned buffer_count;
	uint64_t next_base;
};

/* cpu_script_area.c: hex dump of an area with its header and component ranges decoded. */
void cs_print_area(FILE *out, const struct vx_profile *profile, uint64_t xcr0,
		   const struct cs_buffer *buffer, uint64_t area_offset, uint64_t from,
		   uint64_t length);

/* cpu_script.c: names shared with the executor. */
const char *cs_mode_name(enum vx_cpu_mode mode);
const char *cs_vector_name(unsigned vector);

#endif /* VXSAVE_CLI_CPU_SCRIPT_INTERNAL_H */
