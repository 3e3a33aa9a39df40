/* SPDX-License-Identifier: MIT */
/*
 * vxsave: the command-line tool.  main() handles the global options (--help, --version) and
 * hands the rest of the command line to one subcommand from the table below.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/version.h>

#include "cli.h"
#include "cmd_compat.h"
#include "cmd_cpu.h"
#include "cmd_eval.h"
#include "cmd_fpu.h"
#include "cmd_kvm.h"
#include "cmd_xsave.h"

const char cli_program_name[] = "vxsave";

static int cmd_help(int argc, char **argv);
static void usage_help(FILE *out);

/* Every subcommand; `vxsave --help` lists them in this order. */
static const struct cli_command commands[] = {
	{"profile", "list the built-in CPU profiles, or show one CPU's XSAVE/CET enumeration",
	 cli_cmd_profile, cli_usage_profile},
	{"layout", "standard and compacted XSAVE layouts for a feature mask (text, JSON, SVG)",
	 cli_cmd_layout, cli_usage_layout},
	{"cpu", "run a script of XSETBV/WRMSR/XSAVE*/XRSTOR* operations on a model processor",
	 cli_cmd_cpu, cli_usage_cpu},
	{"fpu", "boot the modelled Linux FPU framework: x86/fpu boot log, feature sets and sizes",
	 cli_cmd_fpu, cli_usage_fpu},
	{"kvm", "the modelled KVM: caps with reasons, supported CPUID, MSRs; kvm scripts (--real)",
	 cli_cmd_kvm, cli_usage_kvm},
	{"xsave", "decode, validate (would KVM_SET_XSAVE take it?) and convert vCPU XSAVE blobs",
	 cli_cmd_xsave, cli_usage_xsave},
	{"compat", "can a vCPU state bundle be restored on that host? every reason; --fix converts",
	 cli_cmd_compat, cli_usage_compat},
	{"baseline", "the guest XSAVE/CET configuration every host of a pool can run, as CPUID",
	 cli_cmd_baseline, cli_usage_baseline},
	{"eval", "the CET_S designs side by side on workloads: tables, verdict, JSON, report",
	 cli_cmd_eval, cli_usage_eval},
	{"help", "show the help of vxsave or of one subcommand", cmd_help, usage_help},
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage_main(FILE *out)
{
	fprintf(out,
		"Usage: vxsave [--help] [--version] COMMAND [ARGS...]\n"
		"\n"
		"Inspect x86 XSAVE and CET state on a software model of the processor: CPU\n"
		"profiles, feature masks, XSAVE area layouts, and scripts run on the model.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Options:\n"
		"  -h, --help     show this help and exit\n"
		"  -V, --version  show the version and exit\n"
		"\n"
		"'vxsave help COMMAND' or 'vxsave COMMAND --help' describes one command.\n"
		"Built: the arch, cpu, fpu, kvm and eval layers and the VMM tooling (xsave,\n"
		"compat, baseline, kvm capture); 'make run' is 'vxsave eval --report DIR'.\n"
		"Exit status: 0 success, 1 bad input or failure, 2 usage error.\n");
}

static void usage_help(FILE *out)
{
	fputs("Usage: vxsave help [COMMAND [SUBCOMMAND]]\n"
	      "\n"
	      "Show the help of vxsave, of COMMAND, or of one of its subcommands\n"
	      "('vxsave help profile show' is 'vxsave profile show --help').\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help  show this help and exit\n",
	      out);
}

/* "help profile show": the subcommand's own --help, so there is one text to keep true. */
static int help_subcommand(const struct cli_command *command, int argc, char **argv)
{
	enum { WORDS_MAX = 8 };
	char help_option[] = "--help";
	char *words[WORDS_MAX + 2];

	if (argc > WORDS_MAX)
		return cli_usage_error("help", "too many words after 'help'");
	for (int i = 0; i < argc; i++)
		words[i] = argv[i];
	words[argc] = help_option;
	words[argc + 1] = NULL;
	optind = 0; /* the command runs its own getopt_long() from the start */
	return command->run(argc + 1, words);
}

static int cmd_help(int argc, char **argv)
{
	const struct cli_command *command;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage_help(stdout);
		return CLI_EXIT_OK;
	}
	if (argc < 2) {
		usage_main(stdout);
		return CLI_EXIT_OK;
	}
	command = find_command(argv[1]);
	if (!command)
		return cli_usage_error("help", "unknown command '%s'", argv[1]);
	if (argc == 2) {
		command->usage(stdout);
		return CLI_EXIT_OK;
	}
	return help_subcommand(command, argc - 1, argv + 1);
}

static void print_version(void)
{
	printf("vxsave %s (library %s)\n", VX_VERSION_STRING, vx_version());
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const struct cli_command *command;
	int opt;

	opterr = 0;
	/* '+': stop at the subcommand name, its options are its own. */
	while ((opt = getopt_long(argc, argv, "+:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage_main(stdout);
			return cli_finish_output(CLI_EXIT_OK);
		case 'V':
			print_version();
			return cli_finish_output(CLI_EXIT_OK);
		default:
			return cli_getopt_failure(NULL, opt, argc, argv);
		}
	}
	if (optind >= argc) {
		cli_error("no command given");
		usage_main(stderr);
		return CLI_EXIT_USAGE;
	}
	command = find_command(argv[optind]);
	if (!command)
		return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
	argc -= optind;
	argv += optind;
	optind = 0; /* glibc: restart scanning for the subcommand's own getopt_long() */
	return cli_finish_output(command->run(argc, argv));
}
