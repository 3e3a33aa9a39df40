/* SPDX-License-Identifier: MIT */
/*
 * Inside the `vxsave cpu` script language: the statement table (cpu_script_table.c) and what
 * its rows share - the payload every cpu statement carries (struct cs_stmt), the buffers and
 * run state of a script (struct cpu_script, the table's context), the cpu-specific argument
 * kinds and checks (cpu_script.c), the run handlers (cpu_script_exec.c) and the area printer
 * (cpu_script_area.c).  The grammar engine itself is script_grammar.h.
 */
#ifndef VXSAVE_CLI_CPU_SCRIPT_INTERNAL_H
#define VXSAVE_CLI_CPU_SCRIPT_INTERNAL_H

#include <vxsave/area.h>

#include "cpu_script.h"
#include "script_grammar.h"

/* Largest register (a TMM tile) and largest hex: literal a line can hold. */
#define CS_VALUE_BYTES_MAX SG_BYTES_MAX

/* Facts rows provide and need (struct sg_row.provides/needs). */
enum {
	CS_FACT_OUTCOME = 1u << 0, /* an operation ran: expect ok|fault|vmexit may follow */
	CS_FACT_VALUE = 1u << 1,   /* xgetbv/rdmsr read a value: expect value may follow */
};

/** A named window of linear memory, zero-filled at the start of every run. */
struct cs_buffer {
	char name[CPU_SCRIPT_NAME_MAX];
	uint64_t base;
	size_t size;
	uint8_t *bytes;
	unsigned line;
};

/** BUF[+OFF]: a buffer and where in it an area starts. */
struct cs_area {
	int buffer;
	uint64_t offset;
};

/** `set cr0|cr4` changes: =VALUE first, then the +BIT and -BIT changes. */
struct cs_cr_change {
	uint64_t value;
	uint64_t set;
	uint64_t clear;
	bool assign;
};

/** `expect vmexit [REASON]`. */
struct cs_exit {
	uint32_t reason;
	bool given;
};

/**
 * struct cs_stmt - the payload of every cpu statement; each row's arguments store into the
 * fields it names (SG_AT), the rest stay zero.
 * @area:       BUF[+OFF].
 * @where:      an OFFSET inside the area (poke, fill, print, expect BUF).
 * @length:     LENGTH (fill, print), or the width of a number (u8..u64), or hex: bytes.
 * @number:     ECX, MSR index, CPL.
 * @mask:       masks, 64-bit values, the fill byte, a choice (mode, on/off, root/non-root).
 * @cr:         `set cr0|cr4` changes.
 * @fault:      `expect fault` vector and error code.
 * @exit:       `expect vmexit` reason.
 * @has_select: `& MASK` given; @select the mask (only these bits are compared).
 * @negate:     `!=` instead of `==`.
 * @lock:       a LOCK prefix.
 * @reg:        a register.
 * @value:      a literal of any width (register writes and comparisons, hex: bytes).
 */
struct cs_stmt {
	struct cs_area area;
	uint64_t where;
	uint64_t length;
	uint32_t number;
	uint64_t mask;
	struct cs_cr_change cr;
	struct sg_fault fault;
	struct cs_exit exit;
	bool has_select;
	uint64_t select;
	bool negate;
	bool lock;
	const struct vx_reg_info *reg;
	struct sg_bytes value;
};

#define CS_AT(field) SG_AT(struct cs_stmt, field)

/**
 * struct cpu_script - a parsed script and, while it runs, its processor: the context of the
 * cpu table.  Other tables registered on @program get contexts of their own.
 */
struct cpu_script {
	struct sg_program program;
	struct cs_buffer buffers[CPU_SCRIPT_BUFFERS_MAX];
	unsigned buffer_count;
	uint64_t next_base;
	/* while running */
	struct vx_cpu *cpu;
	bool faulted; /* the outcome of the last operation that could fault */
	struct vx_event event;
	bool have_value; /* the result of the last xgetbv/rdmsr */
	uint64_t value;
};

/* cpu_script_table.c: the statements of `vxsave cpu`. */
extern const struct sg_table cs_table;

/* cpu_script.c: the cpu kinds and checks the table names. */
extern const struct sg_kind cs_kind_area;   /* struct cs_area: BUF[+OFF] of a defined buffer */
extern const struct sg_kind cs_kind_offset; /* uint64_t: NUMBER or fcw, mxcsr, xstate_bv... */
extern const struct sg_kind cs_kind_width;  /* uint64_t: u8 u16 u32 u64 -> 1 2 4 8 */
extern const struct sg_kind cs_kind_byte;   /* uint64_t: a NUMBER below 256 */
extern const struct sg_kind cs_kind_cr;	    /* struct cs_cr_change: +BIT -BIT =VALUE */
extern const struct sg_kind cs_kind_exit;   /* struct cs_exit: a number or xsetbv|xsaves|... */
extern const struct sg_choice cs_mode_names[], cs_on_off[], cs_vmx_modes[], cs_cr0_bits[],
    cs_cr4_bits[];
int cs_check_buffer(struct sg_parser *p, void *payload);
int cs_check_range(struct sg_parser *p, void *payload);
int cs_check_bytes(struct sg_parser *p, void *payload);
int cs_check_sized(struct sg_parser *p, void *payload);
int cs_check_cpl(struct sg_parser *p, void *payload);
int cs_check_reg_value(struct sg_parser *p, void *payload);
bool cs_is_buffer_word(void *context, const char *word);

/* cpu_script_exec.c: one handler per row. */
#define CS_RUN(name) int name(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
CS_RUN(cs_run_fill);
CS_RUN(cs_run_poke);
CS_RUN(cs_run_set_cpl);
CS_RUN(cs_run_set_mode);
CS_RUN(cs_run_set_cr0);
CS_RUN(cs_run_set_cr4);
CS_RUN(cs_run_set_ac);
CS_RUN(cs_run_set_vmx);
CS_RUN(cs_run_set_vmx_xsaves);
CS_RUN(cs_run_set_xss_exit);
CS_RUN(cs_run_set_ssp);
CS_RUN(cs_run_reset);
CS_RUN(cs_run_require);
CS_RUN(cs_run_xsetbv);
CS_RUN(cs_run_xgetbv);
CS_RUN(cs_run_wrmsr);
CS_RUN(cs_run_rdmsr);
CS_RUN(cs_run_reg);
CS_RUN(cs_run_use);
CS_RUN(cs_run_init);
CS_RUN(cs_run_insn);
CS_RUN(cs_run_echo);
CS_RUN(cs_run_print_state);
CS_RUN(cs_run_print_tracking);
CS_RUN(cs_run_print_xinuse);
CS_RUN(cs_run_print_xcr0);
CS_RUN(cs_run_print_control);
CS_RUN(cs_run_print_reg);
CS_RUN(cs_run_print_msr);
CS_RUN(cs_run_print_area);
CS_RUN(cs_run_expect_ok);
CS_RUN(cs_run_expect_fault);
CS_RUN(cs_run_expect_vmexit);
CS_RUN(cs_run_expect_reg);
CS_RUN(cs_run_expect_xinuse);
CS_RUN(cs_run_expect_xmodified);
CS_RUN(cs_run_expect_xcr0);
CS_RUN(cs_run_expect_msr);
CS_RUN(cs_run_expect_value);
CS_RUN(cs_run_expect_ssp);
CS_RUN(cs_run_expect_memory);

/* cpu_script_area.c: hex dump of an area with its header and component ranges decoded. */
void cs_print_area(FILE *out, const struct vx_profile *profile, uint64_t xcr0,
		   const struct cs_buffer *buffer, uint64_t area_offset, uint64_t from,
		   uint64_t length);

/* cpu_script.c: names shared with the executor. */
const char *cs_mode_name(enum vx_cpu_mode mode);

#endif /* VXSAVE_CLI_CPU_SCRIPT_INTERNAL_H */
