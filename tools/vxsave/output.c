/* SPDX-License-Identifier: MIT */
/*
 * Messages and small formatting helpers shared by the subcommands.  Every message on stderr
 * starts with "vxsave: " so scripts and tests can tell ours from the shell's.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_program_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *cli_cited(const char *text, char *buf, size_t len)
{
	vx_cite(text, buf, len);
	return buf;
}

/*
 * "vxsave: CONTEXT: reason [rule]" - the library's reason already names bits and components;
 * rules cite the Intel SDM / AMD APM, which users have, not the project's notes (vx_cite()).
 */
void cli_vx_error(const char *context, const struct vx_error *err)
{
	const char *reason = err->reason[0] ? err->reason : vx_errno_name(err->code);
	char cited_reason[VX_ERROR_REASON_MAX * 2], cited_rule[192];

	cli_cited(reason, cited_reason, sizeof(cited_reason));
	if (err->rule && !strstr(reason, err->rule))
		cli_error("%s: %s [%s]", context, cited_reason,
			  cli_cited(err->rule, cited_rule, sizeof(cited_rule)));
	else
		cli_error("%s: %s", context, cited_reason);
}

/*
 * Every command's last step: output that did not reach its file (a full disk, a closed pipe,
 * /dev/full) is a failure, not a silent exit 0.
 */
int cli_finish_output(int rc)
{
	int failed = fflush(stdout) != 0;
	int saved = errno;

	if (!failed && !ferror(stdout))
		return rc;
	if (failed)
		cli_error("cannot write to standard output: %s", strerror(saved));
	else
		cli_error("cannot write to standard output");
	return CLI_EXIT_FAILURE;
}

static void print_help_hint(const char *command)
{
	if (command)
		fprintf(stderr, "Try '%s %s --help'.\n", cli_program_name, command);
	else
		fprintf(stderr, "Try '%s --help'.\n", cli_program_name);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_program_name);
	if (command)
		fprintf(stderr, "%s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_help_hint(command);
	return CLI_EXIT_USAGE;
}

static const char *optind_word(int argc, char **argv)
{
	if (optind >= 1 && optind - 1 < argc)
		return argv[optind - 1];
	return "?";
}

/*
 * getopt_long() returned '?' (unknown option) or ':' (missing value); opterr is 0, so the
 * message is ours.  The offending word is argv[optind - 1] for long options.
 */
int cli_getopt_failure(const char *command, int result, int argc, char **argv)
{
	const char *word = optind_word(argc, argv);

	if (result == ':') {
		if (optopt && optopt < 0x100)
			return cli_usage_error(command, "option '-%c' needs a value", optopt);
		return cli_usage_error(command, "option '%s' needs a value", word);
	}
	if (optopt && optopt < 0x100)
		return cli_usage_error(command, "unknown option '-%c'", optopt);
	return cli_usage_error(command, "unknown option '%s'", word);
}

int cli_extra_arguments(const char *command, int optind_now, int argc, char **argv)
{
	if (optind_now >= argc)
		return CLI_EXIT_OK;
	return cli_usage_error(command, "unexpected argument '%s'", argv[optind_now]);
}

/* Masks print as "0x2e7": short, and what users type back into --features. */
void cli_format_hex(char *buf, size_t len, uint64_t value)
{
	snprintf(buf, len, "0x%llx", (unsigned long long)value);
}

const char *cli_mask_names(uint64_t mask, char *buf, size_t len)
{
	if (!mask) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	vx_format_component_mask(mask, buf, len);
	return buf;
}

const char *cli_yes_no(bool value)
{
	return value ? "yes" : "no";
}

static void flush_line(FILE *out, char *line, size_t *used)
{
	while (*used && line[*used - 1] == ' ')
		(*used)--;
	fwrite(line, 1, *used, out);
	fputc('\n', out);
	*used = 0;
}

/*
 * Print @first then @text, breaking after @separator so no line passes 100 columns; continuation
 * lines start with @indent (component lists and profile sources get long).
 */
void cli_print_wrapped(FILE *out, const char *first, const char *indent, const char *text,
		       char separator)
{
	enum { LIMIT = 100 };
	char line[LIMIT + 512];
	size_t used = (size_t)snprintf(line, sizeof(line), "%s", first), start = used;

	while (*text) {
		const char *stop = strchr(text, separator);
		size_t word = stop ? (size_t)(stop - text) + 1 : strlen(text);

		if (used + word > LIMIT && used > start) {
			flush_line(out, line, &used);
			used = start = (size_t)snprintf(line, sizeof(line), "%s", indent);
		}
		if (used + word >= sizeof(line)) {
			/* A single word longer than a line: print it as it is. */
			flush_line(out, line, &used);
			fwrite(text, 1, word, out);
			fputc('\n', out);
			used = start = (size_t)snprintf(line, sizeof(line), "%s", indent);
		} else {
			memcpy(line + used, text, word);
			used += word;
		}
		text += word;
	}
	flush_line(out, line, &used);
}
