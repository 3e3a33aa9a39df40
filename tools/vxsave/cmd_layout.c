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
#include "profile_report.h"
#include "source.h"

enum layout_option { OPT_FEATURES = CLI_OPT_FIRST_LOCAL, OPT_SVG, OPT_SVG_SCALE, OPT_STRICT };

/* What the command line asked for. */
struct layout_request {
	struct cli_source source;
	const char *features;
	const char *svg_path;
	enum svg_scale svg_scale;
	bool svg_scale_given;
	bool json;
	bool strict; /* exit 1 when the diagnostics report an error */
};

void cli_usage_layout(FILE *out)
{
	fputs("Usage: vxsave layout [SOURCE] [--features MASK] [--json] [--svg FILE]\n"
	      "                     [--svg-scale broken|linear]\n"
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
	      "      --features MASK  the XCR0|IA32_XSS bits to lay out (default: all): a number\n"
	      "                       (0x2e7, 743; decimal unless 0x or 0b) or words joined by ','\n"
	      "                       or '|': component names (x87,SSE,AVX,PKRU,CET_U...), groups\n"
	      "                       (legacy, mpx, avx512, cet, amx), CPUID flags (pku, cet_ss),\n"
	      "                       bitN, 'all' (every bit the CPU supports) or 'none'\n"
	      "      --json           print one JSON object instead of the table\n"
	      "      --svg FILE       also draw both formats side by side, to scale, as SVG;\n"
	      "                       '-' writes the SVG to standard output instead of the table\n"
	      "      --svg-scale S    broken (default): a range that would dwarf the rest (AMX\n"
	      "                       tile data) is drawn shortened between break marks; linear:\n"
	      "                       every byte to scale\n"
	      "      --strict         exit 1 when the diagnostics report an error\n"
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
		{"svg-scale", required_argument, NULL, OPT_SVG_SCALE},
		{"strict", no_argument, NULL, OPT_STRICT},
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
		case OPT_STRICT:
			request->strict = true;
			break;
		case OPT_SVG_SCALE:
			if (svg_scale_parse(optarg, &request->svg_scale) < 0)
				return cli_usage_error("layout",
						       "--svg-scale must be 'broken' or 'linear', "
						       "not '%s'",
						       optarg);
			request->svg_scale_given = true;
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
	if (request->svg_scale_given && !request->svg_path)
		return cli_usage_error("layout", "--svg-scale draws nothing without --svg FILE");
	if (request->json && request->svg_path && strcmp(request->svg_path, "-") == 0)
		return cli_usage_error("layout", "--json and --svg - both want standard output");
	return cli_source_finish(&request->source, "layout");
}

/*
 * The mask to lay out: --features or, by default, every bit the CPU supports - checked against
 * the XCR0/XSS rules either way, so a profile whose leaves enumerate nothing is refused, not
 * shown as "features 0x0".
 */
static int choose_features(const struct layout_request *request, const struct vx_profile *profile,
			   uint64_t *mask)
{
	uint64_t supported = vx_profile_xcr0_supported(profile) | vx_profile_xss_supported(profile);
	const char *text = request->features ? request->features : "all";
	struct vx_error err = VX_ERROR_INIT;
	char label[VX_PROFILE_NAME_MAX + 80], context[VX_PROFILE_NAME_MAX + 192];

	cli_source_label(&request->source, profile, label, sizeof(label));
	if (!supported) {
		/* §1.2: XCR0 bit 0 is always supported, so an empty 0xD.0 means a broken dump. */
		cli_error("%s enumerates no XSAVE features: CPUID.(0xD,0) EDX:EAX is empty%s", label,
			  vx_profile_has(profile, VX_FEAT_XSAVE) ? ""
								 : " and CPUID.1:ECX[26] XSAVE = 0");
		return CLI_EXIT_FAILURE;
	}
	if (vx_parse_component_mask_all(text, supported, mask, &err) < 0) {
		cli_vx_error("--features", &err);
		return CLI_EXIT_FAILURE;
	}
	if (vx_feature_mask_check(profile, *mask, &err) < 0) {
		snprintf(context, sizeof(context), "--features %s is not valid on %s", text, label);
		cli_vx_error(context, &err);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static int write_svg_file(const char *path, const struct vx_profile *profile,
			  const struct vx_layout *layout, enum svg_scale scale)
{
	FILE *file;
	int rc;

	/* "-" is standard output, as for --cpuid-dump; main() checks that it was written. */
	if (strcmp(path, "-") == 0)
		return layout_write_svg_scaled(stdout, profile, layout, scale) < 0 ? CLI_EXIT_FAILURE
										    : CLI_EXIT_OK;
	file = fopen(path, "w");

	if (!file) {
		cli_error("cannot write SVG '%s': %s", path, strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	rc = layout_write_svg_scaled(file, profile, layout, scale);
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
	rc = choose_features(&request, &profile, &features);
	if (rc)
		return rc;
	if (vx_layout_compute(&profile, features, &layout, &err) < 0) {
		cli_vx_error("layout", &err);
		return CLI_EXIT_FAILURE;
	}
	if (request.svg_path) {
		rc = write_svg_file(request.svg_path, &profile, &layout, request.svg_scale);
		if (rc || strcmp(request.svg_path, "-") == 0)
			return rc;
	}
	if (request.json)
		rc = cli_json_print(layout_report_json(&profile, &layout));
	else
		layout_report_text(stdout, &profile, &layout);
	/* --strict: a profile whose diagnostics report an error fails (docs/cli.md). */
	if (rc == CLI_EXIT_OK && request.strict && profile_error_count(&profile)) {
		cli_error("--strict: the diagnostics report %u error%s",
			  profile_error_count(&profile), profile_error_count(&profile) == 1 ? "" : "s");
		return CLI_EXIT_FAILURE;
	}
	return rc;
}
