/* SPDX-License-Identifier: MIT */
/*
 * The `vxsave cpu` script language: a short, line-oriented list of operations run on one model
 * processor (struct vx_cpu) - set control state and registers, XSETBV, WRMSR, the XSAVE family
 * into named memory buffers, print state or decoded areas, and check results with `expect`.
 * The language is described in docs/cpu-script.md.
 *
 * Kept apart from the CLI so it can be tested on its own: parsing turns the whole text into a
 * program first (every syntax error, unknown name and out-of-range offset is found before any
 * statement runs), then running executes it on a processor the caller created.
 *
 * Errors come back as a negative errno with @err->line set to the 1-based line of the script
 * and @err->reason saying what is wrong with which word ("unknown command 'xsav'").  An
 * instruction that faults is not an error: the event is printed and the script goes on.
 */
#ifndef VXSAVE_CLI_CPU_SCRIPT_H
#define VXSAVE_CLI_CPU_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <vxsave/cpu.h>

/* Bounds that keep any input harmless. */
#define CPU_SCRIPT_LINE_MAX	  4096u	     /* = SG_LINE_MAX */
#define CPU_SCRIPT_TEXT_MAX	  (4u << 20) /* = SG_TEXT_MAX */
#define CPU_SCRIPT_STATEMENTS_MAX 100000u    /* = SG_STATEMENTS_MAX */
#define CPU_SCRIPT_BUFFER_MAX	  (1u << 20)
#define CPU_SCRIPT_BUFFERS_MAX	  64u
#define CPU_SCRIPT_NAME_MAX	  32u

struct cpu_script;
struct sg_table;

/**
 * struct cpu_script_extension - another layer's statements in the same script (fpu, kvm):
 * a statement table (script_grammar.h) and the context its handlers receive.
 */
struct cpu_script_extension {
	const struct sg_table *table;
	void *context;
};

/**
 * struct cpu_script_options - how a script is read and run.
 * @semicolon_lines: count every ';'-separated statement as a line of its own (for `-e`, where
 *                   the whole script is one command-line argument); otherwise statements that
 *                   share a physical line share its number.
 * @trace:           print every statement before running it, and each passing expectation.
 * @quiet:           do not print the result line of each instruction (print commands and
 *                   errors still appear).
 * @out:             where results and print commands go (NULL = stdout).
 * @extensions:      @extension_count more statement tables scripts may use besides the cpu
 *                   statements (their phrases must not collide with the cpu ones).
 */
struct cpu_script_options {
	bool semicolon_lines;
	bool trace;
	bool quiet;
	FILE *out;
	const struct cpu_script_extension *extensions;
	unsigned extension_count;
};

/**
 * struct cpu_script_summary - what a run did.
 * @statements:   statements executed.
 * @instructions: operations that could fault (instructions, XSETBV, WRMSR, reg writes...).
 * @faults:       how many of those raised an exception or caused a VM exit.
 * @expectations: `expect` statements that passed.
 */
struct cpu_script_summary {
	unsigned statements;
	unsigned instructions;
	unsigned faults;
	unsigned expectations;
};

/**
 * cpu_script_parse() - turn @len bytes of @text into a program.
 * Returns 0 and *@script, or -EINVAL (syntax, unknown name, bad number, undefined buffer,
 * offset out of range), -E2BIG (a bound above exceeded) or -ENOMEM, with @err->line set.
 */
int cpu_script_parse(const char *text, size_t len, const struct cpu_script_options *options,
		     struct cpu_script **script, struct vx_error *err);

/**
 * cpu_script_run() - run @script on @cpu from its first statement (buffers start zero-filled
 * every run).  Returns 0 when every expectation held, -EDOM at the first failed expectation
 * (the run stops there), or another negative errno when the model refused an operation; in
 * every failure case @err->line names the statement.
 */
int cpu_script_run(struct cpu_script *script, struct vx_cpu *cpu,
		   const struct cpu_script_options *options, struct cpu_script_summary *summary,
		   struct vx_error *err);

void cpu_script_free(struct cpu_script *script);

/** The statement list of the language (for --help), generated from the statement table. */
void cpu_script_print_statements(FILE *out);

#endif /* VXSAVE_CLI_CPU_SCRIPT_H */
