/* SPDX-License-Identifier: MIT */
/*
 * `vxsave profile list` and `vxsave profile show`: the built-in CPU profiles, and everything
 * one CPU enumerates about XSAVE and CET (feature flags, masks, components, diagnostics, and
 * optionally the raw CPUID leaves in `cpuid -r` format).
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "json_output.h"
#include "profile_report.h"
#include "source.h"

enum profile_option { OPT_RAW = CLI_OPT_FIRST_LOCAL, OPT_LEAF, OPT_STRICT };

static void usage_profile_list(FILE *out)
{
	fputs("Usage: vxsave profile list [--json]\n"
	      "\n"
	      "List the built-in CPU profiles: name and description, one per line.\n"
	      "\n"
	      "Options:\n"
	      "      --json  print a JSON object {\"default\": NAME, \"profiles\": [...]}\n"
	      "  -h, --help  show this help and exit\n",
	      out);
}

static void usage_profile_show(FILE *out)
{
	fputs("Usage: vxsave profile show [SOURCE] [--json] [--raw] [--leaf L[.S]] [--strict]\n"
	      "\n"
	      "Show what one CPU enumerates for XSAVE and CET: vendor and identification (brand\n"
	      "string, family/model/stepping), the\n"
	      "feature flags (on/off), the supported XCR0, IA32_XSS and IA32_XFD masks, every\n"
	      "state component (size, standard offset, alignment, XFD), XCR0/XSS at capture,\n"
	      "MXCSR_MASK, the linear-address width, and consistency diagnostics.\n"
	      "\n",
	      out);
	cli_source_usage(out);
	fputs(
	    "\n"
	    "Options:\n"
	    "      --json  print one JSON object instead of text\n"
	    "      --raw   also print every raw CPUID leaf the profile keeps, in 'cpuid -r' "
	    "format\n"
	    "              (the JSON always has them, as \"raw_leaves\")\n"
	    "      --leaf L[.S]  decode only CPUID leaf L sub-leaf S (\"0xd.1\", \"0x7\"): every\n"
	    "              register split into named fields\n"
	    "      --strict  exit 1 when the diagnostics report an error\n"
	    "  -h, --help  show this help and exit\n",
	    out);
}

static void usage_profile_diff(FILE *out)
{
	fputs("Usage: vxsave profile diff A B [--json]\n"
	      "\n"
	      "Compare two CPUs: feature flags (by name and bit by bit), the supported XCR0,\n"
	      "IA32_XSS and IA32_XFD masks, every component's size, standard offset, alignment\n"
	      "and XFD flag, vendor and family/model/stepping; then a verdict:\n"
	      "  identical            the same facts and CPUID.1:EAX signature\n"
	      "  equivalent           the same facts, another family/model/stepping\n"
	      "  compatible superset  A has all of B, in the same place, and more\n"
	      "  compatible subset    B has all of A, in the same place, and more\n"
	      "  differs              another vendor or geometry, or each lacks something\n"
	      "\n"
	      "A and B are built-in profiles with optional toggles (\"sapphire-rapids,-amx\")\n"
	      "or files (a path with '/', or an existing file; '-' is standard input) in any\n"
	      "format --cpuid-dump reads.\n"
	      "\n"
	      "Exit status: 0 identical, 1 anything else (or A or B cannot be loaded),\n"
	      "2 usage error.\n"
	      "\n"
	      "Options:\n"
	      "      --json  print one JSON object instead of text\n"
	      "  -h, --help  show this help and exit\n",
	      out);
}

void cli_usage_profile(FILE *out)
{
	fputs("Usage: vxsave profile list [--json]\n"
	      "       vxsave profile show [SOURCE] [--json] [--raw] [--leaf L[.S]] [--strict]\n"
	      "       vxsave profile diff A B [--json]\n"
	      "\n"
	      "Subcommands:\n"
	      "  list  list the built-in CPU profiles\n"
	      "  show  decode one CPU's XSAVE and CET enumeration\n"
	      "  diff  compare two CPUs, with a verdict and an exit status\n"
	      "\n"
	      "'vxsave profile list --help' and 'vxsave profile show --help' give the details.\n"
	      "\n",
	      out);
	cli_source_usage(out);
	fputs("\n"
	      "Options:\n"
	      "      --json  print JSON instead of text (list and show)\n"
	      "      --raw   show: also print the raw CPUID leaves ('cpuid -r' format)\n"
	      "  -h, --help  show this help and exit\n",
	      out);
}

/* ----------------------------------------------------------------------------------------- */
/* profile list                                                                                */

static json_t *profile_list_json(void)
{
	json_t *root = json_object(), *profiles = json_array();
	struct vx_profile profile;

	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		const char *name = vx_builtin_profile_name(i);
		json_t *entry = json_object();

		if (vx_profile_builtin(&profile, name, NULL) < 0)
			profile.description[0] = '\0';
		cli_json_set(entry, "name", json_string(name));
		cli_json_set(entry, "description", json_string(profile.description));
		json_array_append_new(profiles, entry);
	}
	cli_json_set(root, "default", json_string(VX_DEFAULT_PROFILE));
	cli_json_set(root, "profiles", profiles);
	return root;
}

static int longest_builtin_name(void)
{
	int longest = 0;

	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		int length = (int)strlen(vx_builtin_profile_name(i));

		if (length > longest)
			longest = length;
	}
	return longest;
}

static void profile_list_text(void)
{
	int width = longest_builtin_name();
	struct vx_profile profile;

	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		const char *name = vx_builtin_profile_name(i);
		bool is_default = strcmp(name, VX_DEFAULT_PROFILE) == 0;

		if (vx_profile_builtin(&profile, name, NULL) < 0)
			profile.description[0] = '\0';
		printf("%-*s  %s%s\n", width, name, profile.description,
		       is_default ? " (default)" : "");
	}
}

static int cmd_profile_list(int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, CLI_OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage_profile_list(stdout);
			return CLI_EXIT_OK;
		case CLI_OPT_JSON:
			json = true;
			break;
		default:
			return cli_getopt_failure("profile list", opt, argc, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arguments("profile list", optind, argc, argv);
	if (json)
		return cli_json_print(profile_list_json());
	profile_list_text();
	return CLI_EXIT_OK;
}

/* ----------------------------------------------------------------------------------------- */
/* profile show                                                                                */

static int cmd_profile_show(int argc, char **argv)
{
	static const struct option options[] = {
	    CLI_SOURCE_LONG_OPTIONS,
	    {"json", no_argument, NULL, CLI_OPT_JSON},
	    {"raw", no_argument, NULL, OPT_RAW},
	    {"leaf", required_argument, NULL, OPT_LEAF},
	    {"strict", no_argument, NULL, OPT_STRICT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cli_source source = CLI_SOURCE_INIT;
	struct vx_profile profile;
	bool json = false, raw = false, strict = false;
	const char *leaf_text = NULL;
	uint32_t leaf = 0, subleaf = 0;
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage_profile_show(stdout);
			return CLI_EXIT_OK;
		case CLI_OPT_JSON:
			json = true;
			break;
		case OPT_RAW:
			raw = true;
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case OPT_LEAF:
			leaf_text = optarg;
			if (profile_parse_leaf_spec(optarg, &leaf, &subleaf) < 0)
				return cli_usage_error("profile show",
						       "--leaf needs LEAF or LEAF.SUBLEAF "
						       "(\"0xd.1\", \"7\"), not '%s'",
						       optarg);
			break;
		default:
			rc = cli_source_option(&source, "profile show", opt, optarg);
			if (rc == 1)
				break;
			return rc ? rc : cli_getopt_failure("profile show", opt, argc, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arguments("profile show", optind, argc, argv);
	rc = cli_source_finish(&source, "profile show");
	if (rc)
		return rc;
	if (leaf_text && vx_profile_slot(leaf, subleaf) < 0)
		return cli_usage_error("profile show",
				       "--leaf %s: profiles keep leaves 0, 1, 6, 7.0-1, 0xd.0-63, "
				       "0x14.0-1, 0x1d.0-1, 0x1e.0-1, 0x80000000-4 and 0x80000008",
				       leaf_text);
	rc = cli_source_load(&source, &profile);
	if (rc)
		return rc;
	if (leaf_text && json)
		rc = cli_json_print(profile_leaf_json(&profile, leaf, subleaf));
	else if (leaf_text)
		profile_leaf_text(stdout, &profile, leaf, subleaf);
	else if (json)
		rc = cli_json_print(profile_report_json(&profile, raw));
	else
		profile_report_text(stdout, &profile, raw);
	/* --strict: a drifted or damaged profile fails the command (docs/cli.md). */
	if (rc == CLI_EXIT_OK && strict && profile_error_count(&profile)) {
		cli_error("--strict: the diagnostics of %s report %u error%s",
			  profile.name[0] ? profile.name : "the profile",
			  profile_error_count(&profile),
			  profile_error_count(&profile) == 1 ? "" : "s");
		return CLI_EXIT_FAILURE;
	}
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* profile diff                                                                                */

static int cmd_profile_diff(int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, CLI_OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vx_profile a, b;
	struct vx_profile_diff diff;
	bool json = false;
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage_profile_diff(stdout);
			return CLI_EXIT_OK;
		case CLI_OPT_JSON:
			json = true;
			break;
		default:
			return cli_getopt_failure("profile diff", opt, argc, argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("profile diff", "needs two profiles, A and B (%d given)",
				       argc - optind);
	rc = cli_source_load_spec(argv[optind], &a);
	if (!rc)
		rc = cli_source_load_spec(argv[optind + 1], &b);
	if (rc)
		return rc;
	vx_profile_diff(&a, &b, &diff);
	if (json)
		rc = cli_json_print(profile_diff_json(&a, &b, &diff));
	else
		profile_diff_text(stdout, &a, &b, &diff);
	if (rc)
		return rc;
	return diff.relation == VX_PROFILES_IDENTICAL ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

int cli_cmd_profile(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub) {
		cli_error("profile: which one? 'list', 'show' or 'diff'");
		cli_usage_profile(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		cli_usage_profile(stdout);
		return CLI_EXIT_OK;
	}
	optind = 0;
	if (strcmp(sub, "list") == 0)
		return cmd_profile_list(argc - 1, argv + 1);
	if (strcmp(sub, "show") == 0)
		return cmd_profile_show(argc - 1, argv + 1);
	if (strcmp(sub, "diff") == 0)
		return cmd_profile_diff(argc - 1, argv + 1);
	return cli_usage_error("profile",
			       "unknown subcommand '%s' (expected 'list', 'show' or 'diff')", sub);
}
