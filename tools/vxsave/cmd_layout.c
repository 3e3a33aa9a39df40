/* SPDX-License-Identifier: MIT */
/*
 * `vxsave layout`: where every state component sits in the standard (XSAVE) and compacted
 * (XSAVEC/XSAVES) formats for a feature mask on one CPU (arch.md §2.4), as a table, JSON, or
 * an SVG drawing.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "layout_report.h"
#include "json_output.h"
#include "source.h"

enum layout_option { OPT_FEATURES = CLI_OPT_FIRST_LOCAL, OPT_SVG };

/* What the command line asked for. */
struct layout_request {
	struct cli_source source;
	const char *features;
	const char *svg_path;
	bool json;
};

void cli_usage_layout(FILE *out)
{
	fputs("Usage: vxsave layout [SOURCE] [--features MASK] [--json] [--svg FILE]\n"
	      "\n"
	      "Lay out the XSAVE area for a feature mask on one CPU: every component's size,\n"
	      "standard-format offset (XSAVE/XRSTOR) and compacted-format offset (XSAVEC/XSAVES,\n"
	      "with 64-byte alignment), the total sizes next to what CPUID reports, and the\n"
	      "profile's diagnostics.  The mask is checked first with the XCR0 and IA32_XSS rules;\n"
	      "an invalid combination is refused with the rule it breaks.\n"
	      "\n",
	      out);
	cli_source_usage(out);
	fputs("\n"
	      "Options:\n"
	      "      --features MASK  the XCR0|IA32_XSS bits to lay out: a number (0x2e7, 743) or\n"
	      "                       names joined by ',' or '|' (x87,sse,avx,pkru; groups: legacy,\n"
	      "                       mpx, avx512, cet, amx); default: every bit the CPU supports\n"
	      "      --json           print one JSON object instead of the table\n"
	      "      --svg FILE       also draw both formats side by side, to scale, as SVG\n"
	      "  -h, --help           show this help and exit\n",
	      out);
}

static int parse_layout_options(int argc, char **argv, struct layout_request *request)
{
	static const struct option options[] = {
		CLI_SOURCE_LONG_OPTIONS,
		{"features", required_argument, NULL, OPT_FEATURES},
		{"json", no_argument, NULL, CLI_OPT_JSON},
		{"svg", required_argument, NULL, OPT_SVG},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			cli_usage_layout(stdout);
			return -1;
		case OPT_FEATURES:
			request->features = optarg;
			break;
		case CLI_OPT_JSON:
			request->json = true;
			break;
		case OPT_SVG:
			request->svg_path = optarg;
			break;
		default:
			rc = cli_source_option(&request->source, "layout", opt, optarg);
			if (rc == 1)
				break;
			return rc ? rc : cli_getopt_failure("layout", opt, argc, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arguments("layout", optind, argc, argv);
	return cli_source_finish(&request->source, "layout");
}

/* The mask to lay out: --features, checked against the XCR0/XSS rules, or all supported. */
static int choose_features(const struct vx_profile *profile, const char *text, uint64_t *mask)
{
	struct vx_error err = VX_ERROR_INIT;

	if (!text) {
		*mask = vx_profile_xcr0_supported(profile) | vx_profile_xss_supported(profile);
		return CLI_EXIT_OK;
	}
	if (vx_parse_component_mask(text, mask, &err) < 0) {
		cli_vx_error("--features", &err);
		return CLI_EXIT_FAILURE;
	}
	if (vx_feature_mask_check(profile, *mask, &err) < 0) {
		char context[128];

		snprintf(context, sizeof(context), "--features %s is not valid on %s", text,
			 profile->name[0] ? profile->name : "this CPU");
		cli_vx_error(context, &err);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static int write_svg_file(const char *path, const struct vx_profile *profile,
			  const struct vx_layout *layout)
{
	FILE *file = fopen(path, "w");
	int rc;

	if (!file) {
		cli_error("cannot write SVG '%s': %s", path, strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	rc = layout_write_svg(file, profile, layout);
	if (fclose(file) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		cli_error("cannot write SVG '%s': %s", path, strerror(-rc));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

int cli_cmd_layout(int argc, char **argv)
{
	struct layout_request request = {.source = CLI_SOURCE_INIT};
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile profile;
	struct vx_layout layout;
	uint64_t features;
	int rc;

	rc = parse_layout_options(argc, argv, &request);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	rc = cli_source_load(&request.source, &profile);
	if (rc)
		return rc;
	rc = choose_features(&profile, request.features, &features);
	if (rc)
		return rc;
	if (vx_layout_compute(&profile, features, &layout, &err) < 0) {
		cli_vx_error("layout", &err);
		return CLI_EXIT_FAILURE;
	}
	if (request.svg_path) {
		rc = write_svg_file(request.svg_path, &profile, &layout);
		if (rc)
			return rc;
	}
	if (request.json)
		return cli_json_print(layout_report_json(&profile, &layout));
	layout_report_text(stdout, &profile, &layout);
	return CLI_EXIT_OK;
}
