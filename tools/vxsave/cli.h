/* SPDX-License-Identifier: MIT */
/*
 * vxsave CLI: what the subcommands share - exit codes, error messages, option parsing
 * helpers, and the subcommand entry points that main.c dispatches to.
 */
#ifndef VXSAVE_CLI_H
#define VXSAVE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vxsave/arch.h>

/* Exit codes of every subcommand (docs/cli.md "Exit status"). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1, /* bad input data, invalid mask, unreadable or unwritable file */
	CLI_EXIT_USAGE = 2,   /* unknown option or subcommand, missing argument, conflicts */
};

/*
 * Long-option values that have no short form.  Start above every character so they never
 * collide with getopt's short options; each subcommand adds its own after CLI_OPT_FIRST_LOCAL.
 */
enum cli_option_value {
	CLI_OPT_HOST = 0x100,
	CLI_OPT_PROFILE,
	CLI_OPT_CPUID_DUMP,
	CLI_OPT_CPU,
	CLI_OPT_JSON,
	CLI_OPT_FIRST_LOCAL = 0x180,
};

/* One subcommand: main.c keeps the table, `vxsave help CMD` prints @usage. */
struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *out);
};

/* main.c */
extern const char cli_program_name[];

/* output.c: messages on stderr always start with "vxsave: " */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_vx_error(const char *context, const struct vx_error *err);
/* @text with the project's "arch.md §N" references as Intel SDM / AMD APM sections (vx_cite). */
const char *cli_cited(const char *text, char *buf, size_t len);
/* Flush standard output; a write error turns @rc into CLI_EXIT_FAILURE with a message. */
int cli_finish_output(int rc);
int cli_getopt_failure(const char *command, int result, int argc, char **argv);
int cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cli_extra_arguments(const char *command, int optind_now, int argc, char **argv);
void cli_format_hex(char *buf, size_t len, uint64_t value);
const char *cli_mask_names(uint64_t mask, char *buf, size_t len);
const char *cli_yes_no(bool value);
void cli_print_wrapped(FILE *out, const char *first, const char *indent, const char *text,
		       char separator);

/* subcommands */
int cli_cmd_profile(int argc, char **argv);
void cli_usage_profile(FILE *out);
int cli_cmd_layout(int argc, char **argv);
void cli_usage_layout(FILE *out);

#endif /* VXSAVE_CLI_H */
