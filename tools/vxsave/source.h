/* SPDX-License-Identifier: MIT */
/*
 * Where a subcommand gets its CPU profile: --host | --profile NAME | --cpuid-dump FILE
 * [--cpu N], default the built-in VX_DEFAULT_PROFILE.  Every subcommand that works on one CPU
 * uses this helper so the options spell and behave the same everywhere.
 *
 * Usage in a subcommand:
 *
 *	static const struct option options[] = {
 *		CLI_SOURCE_LONG_OPTIONS,
 *		{"json", no_argument, NULL, CLI_OPT_JSON},
 *		...
 *	};
 *	struct cli_source source = CLI_SOURCE_INIT;
 *	...
 *	default:
 *		handled = cli_source_option(&source, "layout", opt, optarg);
 *	...
 *	rc = cli_source_finish(&source, "layout");      (usage checks after the loop)
 *	rc = cli_source_load(&source, &profile);         (reads and parses; prints errors)
 */
#ifndef VXSAVE_CLI_SOURCE_H
#define VXSAVE_CLI_SOURCE_H

#include <getopt.h>
#include <stdio.h>

#include <vxsave/arch.h>

#include "cli.h"

enum cli_source_kind {
	CLI_SOURCE_DEFAULT,
	CLI_SOURCE_HOST,
	CLI_SOURCE_PROFILE,
	CLI_SOURCE_CPUID_DUMP,
};

/**
 * struct cli_source - the source options seen so far.
 * @kind:      which source; CLI_SOURCE_DEFAULT until an option names one.
 * @argument:  the profile name or dump path.
 * @cpu_index: --cpu N (the block labelled "CPU N:", else the Nth block; see source.c).
 * @cpu_given: --cpu appeared (only valid with --cpuid-dump).
 * @conflict:  the option that named a second source, kept for the error message.
 */
struct cli_source {
	enum cli_source_kind kind;
	const char *argument;
	unsigned cpu_index;
	bool cpu_given;
	const char *conflict;
};

#define CLI_SOURCE_INIT {CLI_SOURCE_DEFAULT, NULL, 0, false, NULL}

#define CLI_SOURCE_LONG_OPTIONS                                                                    \
	{"host", no_argument, NULL, CLI_OPT_HOST},                                                 \
		{"profile", required_argument, NULL, CLI_OPT_PROFILE},                             \
		{"cpuid-dump", required_argument, NULL, CLI_OPT_CPUID_DUMP},                       \
		{"cpu", required_argument, NULL, CLI_OPT_CPU}

/* The lines that describe the source options in every subcommand's --help. */
void cli_source_usage(FILE *out);

/**
 * cli_source_option() - take one option if it is a source option.
 * Returns 1 if it was one, 0 if it is not a source option, or CLI_EXIT_USAGE (after printing
 * the message) for a malformed --cpu value.
 */
int cli_source_option(struct cli_source *source, const char *command, int opt,
		      const char *argument);

/** Check the combination once every option is parsed: CLI_EXIT_OK or CLI_EXIT_USAGE. */
int cli_source_finish(const struct cli_source *source, const char *command);

/** Load the selected profile: CLI_EXIT_OK, or CLI_EXIT_FAILURE after printing why. */
int cli_source_load(const struct cli_source *source, struct vx_profile *profile);

/**
 * cli_source_load_spec() - load a profile named by one word, as `profile diff A B` takes them:
 * a path (contains '/', is "-", or names an existing file) is read like --cpuid-dump, anything
 * else like --profile (a built-in name with optional ",-feat" toggles).
 */
int cli_source_load_spec(const char *spec, struct vx_profile *profile);

/** How messages name the loaded CPU: its name, or "(unnamed, from FILE)" - never ''. */
const char *cli_source_label(const struct cli_source *source, const struct vx_profile *profile,
			     char *buf, size_t len);

/** "built-in profile sapphire-rapids", "the host CPU", "cpuid dump FILE (CPU 0)". */
const char *cli_source_describe(const struct cli_source *source, char *buf, size_t len);

#endif /* VXSAVE_CLI_SOURCE_H */
