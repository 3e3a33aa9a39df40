/* SPDX-License-Identifier: MIT */
/*
 * `vxsave cpu`: run a short script of operations on a model processor for one CPU profile, so
 * a question like "what does XRSTORS do with this area on this CPU?" needs no C.  The script
 * language lives in cpu_script.c; this file reads options and the script and reports.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_cpu.h"
#include "cpu_script.h"
#include "source.h"

enum cpu_option { OPT_SCRIPT = CLI_OPT_FIRST_LOCAL, OPT_TRACE };

/* What the command line asked for. */
struct cpu_request {
	struct cli_source source;
	const char *script_path;
	char *inline_text; /* every -e, one per line */
	size_t inline_length;
	bool trace;
	bool quiet;
};

void cli_usage_cpu(FILE *out)
{
	fputs("Usage: vxsave cpu [SOURCE] [--trace] [--quiet] FILE\n"
	      "       vxsave cpu [SOURCE] [--trace] [--quiet] --script FILE|-\n"
	      "       vxsave cpu [SOURCE] [--trace] [--quiet] -e 'STATEMENT; ...' [-e ...]\n"
	      "\n"
	      "Run a script of operations on a model processor of one CPU: set control state and\n"
	      "registers, XSETBV, WRMSR, XSAVE/XSAVEOPT/XSAVEC/XSAVES/XRSTOR/XRSTORS into named\n"
	      "buffers, print the state or decoded areas, and check results with 'expect'.\n"
	      "An instruction that faults prints the exception and the script goes on.  The\n"
	      "whole script is checked before anything runs.  Full reference with examples:\n"
	      "docs/cpu-script.md.\n"
	      "\n",
	      out);
	cli_source_usage(out);
	fputs("\n"
	      "Options:\n"
	      "      --script FILE  read the script from FILE ('-' reads standard input)\n"
	      "  -e, --execute TEXT run TEXT; ';' separates statements, each counts as a line;\n"
	      "                     may be repeated; a '#' comment ends with its -e\n"
	      "      --trace        print every statement before it runs, and each expectation\n"
	      "                     that held\n"
	      "  -q, --quiet        print only what print/echo ask for and errors (no result\n"
	      "                     lines, no summary)\n"
	      "  -h, --help         show this help and exit\n"
	      "\n"
	      "Script: one statement per line or between ';'.  '#' starts a comment at the start\n"
	      "of a line or after a blank (so '#GP' is a word).  Buffer names are case-sensitive,\n"
	      "every other name is not.\n",
	      out);
	cpu_script_print_statements(out); /* generated from the statement table */
	fputs("Numbers: 42, 0x2a, 0xffff_8000, -1 (all ones).  Masks: numbers or component names\n"
	      "joined by ',' or '|' (x87,sse,avx; amx; cet_u|cet_s), all, none.  OFFSET: a number\n"
	      "or fcw, mxcsr, mxcsr_mask, xmm0, header, xstate_bv, xcomp_bv, extended.\n"
	      "\n"
	      "Example:\n"
	      "  vxsave cpu -e 'buffer a 4096; xsetbv 0 x87,sse,avx; xsavec a all; print a 0 640'\n"
	      "\n"
	      "Exit status: 0 the script ran and every expectation held; 1 script error\n"
	      "(FILE:LINE: what is wrong with which word), failed expectation, missing 'require'\n"
	      "feature or unusable CPU source; 2 usage error.\n",
	      out);
}

static int append_inline(struct cpu_request *request, const char *text)
{
	/* @text is getopt's optarg of -e, which takes an argument: never NULL. */
	size_t length = strlen(text); /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
	size_t total = request->inline_length + length + 2;
	char *bigger;

	if (total > CPU_SCRIPT_TEXT_MAX)
		return cli_usage_error("cpu", "-e text is longer than %u bytes",
				       CPU_SCRIPT_TEXT_MAX);
	bigger = realloc(request->inline_text, total);
	if (!bigger) {
		cli_error("out of memory");
		return CLI_EXIT_FAILURE;
	}
	if (request->inline_length)
		bigger[request->inline_length++] = '\n'; /* a comment ends with its -e */
	memcpy(bigger + request->inline_length, text, length + 1);
	request->inline_text = bigger;
	request->inline_length += length;
	return CLI_EXIT_OK;
}

static int check_script_choice(struct cpu_request *request, int argc, char **argv)
{
	if (optind < argc) {
		if (request->script_path || request->inline_text)
			return cli_usage_error("cpu",
					       "unexpected argument '%s' (the script is "
					       "already given)",
					       argv[optind]);
		request->script_path = argv[optind++];
	}
	if (optind < argc)
		return cli_extra_arguments("cpu", optind, argc, argv);
	if (request->script_path && request->inline_text)
		return cli_usage_error("cpu",
				       "give the script once: --script FILE, -e TEXT or FILE");
	if (!request->script_path && !request->inline_text)
		return cli_usage_error("cpu", "no script: give --script FILE, -e TEXT or FILE");
	if (request->script_path && strcmp(request->script_path, "-") == 0 &&
	    request->source.kind == CLI_SOURCE_CPUID_DUMP && request->source.argument &&
	    strcmp(request->source.argument, "-") == 0)
		return cli_usage_error("cpu", "--script - and --cpuid-dump - cannot both read "
					      "standard input");
	return cli_source_finish(&request->source, "cpu");
}

/* Returns 0 to go on, -1 after --help, or an exit code. */
static int parse_cpu_options(int argc, char **argv, struct cpu_request *request)
{
	static const struct option options[] = {
	    CLI_SOURCE_LONG_OPTIONS,
	    {"script", required_argument, NULL, OPT_SCRIPT},
	    {"execute", required_argument, NULL, 'e'},
	    {"trace", no_argument, NULL, OPT_TRACE},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":he:q", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			cli_usage_cpu(stdout);
			return -1;
		case 'e':
			rc = append_inline(request, optarg);
			if (rc)
				return rc;
			break;
		case OPT_SCRIPT:
			if (request->script_path)
				return cli_usage_error("cpu", "--script given twice");
			request->script_path = optarg;
			break;
		case OPT_TRACE:
			request->trace = true;
			break;
		case 'q':
			request->quiet = true;
			break;
		default:
			rc = cli_source_option(&request->source, "cpu", opt, optarg);
			if (rc == 1)
				break;
			return rc ? rc : cli_getopt_failure("cpu", opt, argc, argv);
		}
	}
	return check_script_choice(request, argc, argv);
}

char *cli_read_script(const char *path, size_t *length)
{
	bool from_stdin = strcmp(path, "-") == 0;
	FILE *file = from_stdin ? stdin : fopen(path, "r");
	size_t capacity = 8192, used = 0;
	char *text = NULL;

	if (!file) {
		cli_error("cannot open script '%s': %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		char *bigger = realloc(text, capacity);
		size_t got;

		if (!bigger) {
			cli_error("out of memory reading '%s'", path);
			break;
		}
		text = bigger;
		got = fread(text + used, 1, capacity - used, file);
		used += got;
		if (used < capacity) {
			if (ferror(file)) {
				cli_error("cannot read script '%s': %s", path, strerror(errno));
				break;
			}
			if (!from_stdin)
				fclose(file);
			*length = used;
			return text;
		}
		if (capacity > CPU_SCRIPT_TEXT_MAX) {
			cli_error("script '%s' is larger than %u bytes", path, CPU_SCRIPT_TEXT_MAX);
			break;
		}
		capacity *= 2;
	}
	free(text);
	if (!from_stdin)
		fclose(file);
	return NULL;
}

void cli_report_script_error(const char *name, const struct vx_error *err)
{
	const char *reason = err->reason[0] ? err->reason : vx_errno_name(err->code);

	if (err->line)
		cli_error("%s:%u: %s", name, err->line, reason);
	else
		cli_error("%s: %s", name, reason);
}

static int run_on_profile(const struct cpu_request *request, struct cpu_script *script,
			  const char *name, const struct cpu_script_options *options)
{
	struct cpu_script_summary summary;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile profile;
	struct vx_cpu *cpu = NULL;
	char described[256];
	int rc;

	rc = cli_source_load(&request->source, &profile);
	if (rc)
		return rc;
	if (vx_cpu_create(&profile, NULL, &cpu, &err) < 0) {
		cli_vx_error("cannot create the model processor", &err);
		return CLI_EXIT_FAILURE;
	}
	rc = cpu_script_run(script, cpu, options, &summary, &err);
	vx_cpu_destroy(cpu);
	if (rc < 0) {
		fflush(stdout);
		cli_report_script_error(name, &err);
		return CLI_EXIT_FAILURE;
	}
	if (!request->quiet)
		printf("%s: %u statement%s, %u operation%s (%u faulted), %u expectation%s held on "
		       "%s\n",
		       name, summary.statements, summary.statements == 1 ? "" : "s",
		       summary.instructions, summary.instructions == 1 ? "" : "s", summary.faults,
		       summary.expectations, summary.expectations == 1 ? "" : "s",
		       profile.name[0]
			   ? profile.name
			   : cli_source_describe(&request->source, described, sizeof(described)));
	return CLI_EXIT_OK;
}

int cli_cmd_cpu(int argc, char **argv)
{
	struct cpu_request request = {.source = CLI_SOURCE_INIT};
	struct cpu_script_options options = {0};
	struct vx_error err = VX_ERROR_INIT;
	struct cpu_script *script = NULL;
	const char *name = "-e";
	size_t length = 0;
	char *text;
	int rc;

	rc = parse_cpu_options(argc, argv, &request);
	if (rc) {
		free(request.inline_text);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	if (request.script_path) {
		name = strcmp(request.script_path, "-") == 0 ? "<stdin>" : request.script_path;
		text = cli_read_script(request.script_path, &length);
		/* No -e text with a script: parse_cpu_options() refuses both together. */
		if (!text)
			return CLI_EXIT_FAILURE; /* NOLINT(clang-analyzer-unix.Malloc) */
	} else {
		text = request.inline_text;
		length = request.inline_length;
		options.semicolon_lines = true;
	}
	options.trace = request.trace;
	options.quiet = request.quiet;
	options.out = stdout;
	rc = cpu_script_parse(text, length, &options, &script, &err);
	free(text);
	if (rc < 0) {
		cli_report_script_error(name, &err);
		return CLI_EXIT_FAILURE;
	}
	rc = run_on_profile(&request, script, name, &options);
	cpu_script_free(script);
	return rc;
}
