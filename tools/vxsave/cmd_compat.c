/* SPDX-License-Identifier: MIT */
/*
 * `vxsave compat BUNDLE --to SOURCE`: can this vCPU state be restored on that host, with every
 * reason; `--fix OUT` writes the converted bundle when a conversion is enough.
 * `vxsave baseline SOURCE...`: the largest guest XSAVE/CET configuration every host can run,
 * as CPUID entries a VMM can load.  The library does the work (vmm_compat.h); this file reads
 * the files, prints text or JSON, and turns the verdict into the exit status (docs/vmm.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmd_compat.h"
#include "json_output.h"
#include "source.h"

/* The bundle reader refuses more than this; read one byte more so it can say so. */
#define BUNDLE_READ_MAX (8u << 20)

enum compat_option {
	OPT_TO = CLI_OPT_FIRST_LOCAL,
	OPT_FLAVOUR,
	OPT_DESIGN,
	OPT_VCPU,
	OPT_FIX,
};

struct compat_request {
	const char *bundle;
	const char *to;
	const char *fix;
	int flavour;
	enum vx_kvm_cet_design design;
	unsigned vcpu;
	bool json;
};

void cli_usage_compat(FILE *out)
{
	fputs(
	    "Usage: vxsave compat BUNDLE --to SOURCE [--flavour F] [--design D] [--vcpu N]\n"
	    "                     [--json] [--fix OUT]\n"
	    "\n"
	    "Can this vCPU state be restored on that host?  BUNDLE is a vxsave vCPU bundle\n"
	    "(`vxsave kvm capture`), a Cloud Hypervisor snapshot state.json (vCPU N of its\n"
	    "cpu-manager) or one Cloud Hypervisor vCPU state, or - for standard input\n"
	    "(docs/vmm.md).  Checks: guest CPUID features the target's KVM does not honour\n"
	    "(the vCPU's caps after KVM_SET_CPUID2), XCR0 and IA32_XSS bits, the blob's size\n"
	    "against KVM_CAP_XSAVE2, standard-layout differences, AMX guest permission, XFD\n"
	    "state, XSAVE/CET MSRs missing from the target's MSR index list, MXCSR against\n"
	    "MXCSR_MASK, the CET_S design; then the bundle is restored into a model vCPU of the\n"
	    "target (KVM_SET_CPUID2, KVM_SET_XCRS, KVM_SET_MSRS, KVM_SET_ONE_REG, KVM_SET_XSAVE)\n"
	    "and every refusal is reported.\n"
	    "\n"
	    "SOURCE: host (this machine, its KVM flavour from /sys/module), a built-in profile\n"
	    "(zen4, zen4,-avx512) or a `cpuid -r` / InstLatx64 dump file.\n"
	    "\n"
	    "Options:\n"
	    "      --to SOURCE   the host to restore on (required)\n"
	    "      --flavour F   its KVM module: vmx, svm or pvm (default: the vendor's; for\n"
	    "                    host, what /sys/module shows)\n"
	    "      --design D    where it keeps CET supervisor state: unsupported, all-tasks,\n"
	    "                    guest-only (default), kvm-eager, kvm-lazy, kvm-user-return\n"
	    "      --vcpu N      the vCPU of a Cloud Hypervisor snapshot (default 0)\n"
	    "      --json        one JSON object\n"
	    "      --fix OUT     when a conversion is enough (layout, size), write the converted\n"
	    "                    bundle to OUT (a file)\n"
	    "  -h, --help        show this help and exit\n"
	    "\n"
	    "Exit status: 0 restores as is (with --fix: or the converted bundle was written);\n"
	    "1 does not restore (every reason printed), or an unreadable or malformed BUNDLE\n"
	    "or SOURCE; 2 usage error.\n",
	    out);
}

void cli_usage_baseline(FILE *out)
{
	fputs("Usage: vxsave baseline SOURCE... [--design D] [--json]\n"
	      "\n"
	      "The largest guest XSAVE/CET configuration every listed host can run: XCR0 and\n"
	      "IA32_XSS bits every host's KVM supports with the same size, standard offset and\n"
	      "alignment, closed under the XCR0 rules; leaf 7 feature bits ANDed, SHSTK and IBT\n"
	      "kept only with CET_U and CET_S; leaf 0xD derived from the result, never passed\n"
	      "through; the XSAVE/CET MSRs every host lists.  Printed, then as the CPUID entries\n"
	      "a VMM loads with KVM_SET_CPUID2 (leaves 1, 7.0, 7.1, 0xD).\n"
	      "\n"
	      "SOURCE: host, a built-in profile (zen4, zen4,-avx512) or a dump file, as for\n"
	      "`vxsave compat --to`.  Each host runs its vendor's KVM module (host: the loaded "
	      "one).\n"
	      "\n"
	      "Options:\n"
	      "      --design D  the CET_S design of every host (default guest-only)\n"
	      "      --json      one JSON object\n"
	      "  -h, --help      show this help and exit\n"
	      "\n"
	      "Exit status: 0 success; 1 a SOURCE cannot be read or booted; 2 usage error.\n",
	      out);
}

/* ----------------------------------------------------------------------------------------- */
/* Shared                                                                                       */

const char *cli_compat_mask(uint64_t mask, char *buf, size_t len)
{
	char names[512];

	snprintf(buf, len, "0x%llx (%s)", (unsigned long long)mask,
		 cli_mask_names(mask, names, sizeof(names)));
	return buf;
}

int cli_compat_host(const char *spec, int flavour, enum vx_kvm_cet_design design,
		    struct vx_compat_target *target)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile profile;
	enum vx_kvm_flavour detected;
	bool live = strcmp(spec, "host") == 0;

	if (live && vx_profile_from_host(&profile, &err) != 0) {
		cli_vx_error("the host CPU", &err);
		return CLI_EXIT_FAILURE;
	}
	if (!live && cli_source_load_spec(spec, &profile) != CLI_EXIT_OK)
		return CLI_EXIT_FAILURE;
	vx_compat_target_init(target, &profile);
	target->live = live;
	target->design = design;
	/* The live host runs the module /sys/module shows (kvm_pvm here); else the vendor's. */
	if (flavour < 0 && live && vx_kvm_detect_flavour(NULL, &detected) == 0)
		flavour = (int)detected;
	if (flavour >= 0)
		target->flavour = (enum vx_kvm_flavour)flavour;
	return CLI_EXIT_OK;
}

static int parse_design(const char *command, const char *text, enum vx_kvm_cet_design *design)
{
	int d = vx_kvm_cet_design_by_name(text);

	if (d < 0)
		return cli_usage_error(command,
				       "unknown --design '%s' (unsupported, all-tasks, guest-only, "
				       "kvm-eager, kvm-lazy, kvm-user-return)",
				       text);
	*design = (enum vx_kvm_cet_design)d;
	return CLI_EXIT_OK;
}

/* The whole file (or stdin), at most BUNDLE_READ_MAX + 1 bytes: the reader names the rest. */
static char *read_file(const char *path, size_t *length)
{
	/* @path is the BUNDLE argument, which the option parser requires: never NULL. */
	/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct stat st;
	char *text;

	if (f && f != stdin && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		errno = EISDIR;
		f = NULL;
	}
	if (!f) {
		cli_error("cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	text = malloc(BUNDLE_READ_MAX + 2);
	*length = text ? fread(text, 1, BUNDLE_READ_MAX + 1, f) : 0;
	if (text && ferror(f)) {
		cli_error("cannot read '%s': %s", path, strerror(errno));
		free(text);
		text = NULL;
	}
	if (text)
		text[*length] = '\0';
	if (f != stdin)
		fclose(f);
	return text;
}

/* ----------------------------------------------------------------------------------------- */
/* vxsave compat                                                                                */

static int compat_options(int argc, char **argv, struct compat_request *q)
{
	static const struct option options[] = {
	    {"to", required_argument, NULL, OPT_TO},
	    {"flavour", required_argument, NULL, OPT_FLAVOUR},
	    {"design", required_argument, NULL, OPT_DESIGN},
	    {"vcpu", required_argument, NULL, OPT_VCPU},
	    {"fix", required_argument, NULL, OPT_FIX},
	    {"json", no_argument, NULL, CLI_OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint64_t n = 0;
	int opt, rc = 0;

	opterr = 0;
	while (!rc && (opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == 'h') {
			cli_usage_compat(stdout);
			return -1;
		}
		if (opt == '?' || opt == ':')
			return cli_getopt_failure("compat", opt, argc, argv);
		if (opt == OPT_TO)
			q->to = optarg;
		else if (opt == OPT_FIX)
			q->fix = optarg;
		else if (opt == CLI_OPT_JSON)
			q->json = true;
		else if (opt == OPT_DESIGN)
			rc = parse_design("compat", optarg, &q->design);
		else if (opt == OPT_FLAVOUR && (q->flavour = vx_kvm_flavour_by_name(optarg)) < 0)
			rc = cli_usage_error("compat", "unknown --flavour '%s' (vmx, svm, pvm)",
					     optarg);
		else if (opt == OPT_VCPU &&
			 (vx_parse_u64(optarg, strlen(optarg), &n, NULL) != 0 || n > 4095))
			rc = cli_usage_error("compat", "bad --vcpu '%s' (a vCPU id, 0-4095)",
					     optarg);
		q->vcpu = (unsigned)n;
	}
	if (rc)
		return rc;
	if (optind < argc)
		q->bundle = argv[optind++];
	if (!q->bundle)
		return cli_usage_error("compat", "no BUNDLE given");
	if (!q->to)
		return cli_usage_error("compat", "--to SOURCE is required (host, a profile or a "
						 "dump)");
	return cli_extra_arguments("compat", optind, argc, argv);
}

static int load_bundle(const char *path, unsigned vcpu, struct vx_vmm_bundle *b,
		       enum vx_vmm_state_format *format)
{
	struct vx_error err = VX_ERROR_INIT;
	size_t length = 0;
	char *text = read_file(path, &length);
	int rc;

	if (!text)
		return CLI_EXIT_FAILURE;
	rc = vx_vmm_bundle_parse(text, length, vcpu, b, format, &err);
	free(text);
	if (rc) {
		cli_error("%s: %s", strcmp(path, "-") == 0 ? "<stdin>" : path, err.reason);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static int compat_exit(enum vx_compat_verdict verdict, bool fixed)
{
	return verdict == VX_COMPAT_RESTORES || fixed ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

static const char *flavour_text(int flavour)
{
	return flavour >= 0 ? vx_kvm_flavour_name((enum vx_kvm_flavour)flavour) : "unknown";
}

static const char *design_text(int design)
{
	return design >= 0 ? vx_kvm_cet_design_name((enum vx_kvm_cet_design)design) : "unknown";
}

static void print_finding(const struct vx_compat_finding *f)
{
	char first[48], text[VX_COMPAT_MESSAGE_MAX * 2], rule[192];

	snprintf(first, sizeof(first), "  %-8s %-15s", vx_compat_severity_name(f->severity),
		 vx_compat_check_name(f->check));
	cli_cited(f->message, text, sizeof(text));
	if (f->rule) {
		size_t n = strlen(text);

		snprintf(text + n, sizeof(text) - n, " [%s]",
			 cli_cited(f->rule, rule, sizeof(rule)));
	}
	cli_print_wrapped(stdout, first, "                           ", text, ' ');
}

static void print_compat(const struct compat_request *q, const struct vx_vmm_bundle *b,
			 enum vx_vmm_state_format format, const struct vx_compat_target *t,
			 const struct vx_compat_report *r)
{
	char m1[600], m2[600];

	printf("Bundle     %s (%s, vCPU %u)\n", q->bundle, vx_vmm_state_format_name(format),
	       b->vcpu_id);
	printf("Origin     %s\n", b->origin[0] ? b->origin : "(not recorded)");
	printf("Source     layout from %s; KVM %s, CET_S design %s\n", r->source_layout,
	       flavour_text(b->flavour), design_text(b->design));
	printf("Target     %s%s; KVM %s, CET_S design %s\n",
	       t->profile.name[0] ? t->profile.name : "(unnamed)", t->live ? " (this machine)" : "",
	       vx_kvm_flavour_name(t->flavour), vx_kvm_cet_design_name(t->design));
	printf("XCR0       %s\n", cli_compat_mask(r->xcr0, m1, sizeof(m1)));
	printf("           target vCPU allows %s\n",
	       cli_compat_mask(r->guest_supported_xcr0, m2, sizeof(m2)));
	printf("IA32_XSS   %s; target vCPU allows %s\n", cli_compat_mask(r->xss, m1, sizeof(m1)),
	       cli_compat_mask(r->guest_supported_xss, m2, sizeof(m2)));
	printf("Blob       %u bytes, XSTATE_BV %s\n", r->blob_size,
	       cli_compat_mask(r->xstate_bv, m1, sizeof(m1)));
	printf("           the target's KVM_SET_XSAVE reads %u (KVM_CAP_XSAVE2 %u)\n",
	       r->target_uabi_size, r->target_xsave2);
	if (r->restore_ran)
		printf("Restore    %u ioctls on a model vCPU of the target, %u refused\n",
		       r->restore_steps, r->restore_refusals);
	else
		printf("Restore    not run: no vCPU could be created on the target\n");
	printf("\nVerdict    %s\n", vx_compat_verdict_name(r->verdict));
	for (unsigned i = 0; i < r->count; i++)
		print_finding(&r->findings[i]);
	if (r->omitted)
		printf("  (%u more findings not kept)\n", r->omitted);
}

static json_t *finding_json(const struct vx_compat_finding *f)
{
	json_t *o = json_object();
	char text[VX_COMPAT_MESSAGE_MAX * 2];

	cli_json_set(o, "check", json_string(vx_compat_check_name(f->check)));
	cli_json_set(o, "severity", json_string(vx_compat_severity_name(f->severity)));
	cli_json_set(o, "step", f->step ? json_string(f->step) : NULL);
	cli_json_set(o, "errno", f->code ? json_string(vx_errno_name(f->code)) : NULL);
	cli_json_set(o, "bits", f->bits ? cli_json_hex(f->bits) : NULL);
	cli_json_set(o, "msr", f->msr ? cli_json_hex(f->msr) : NULL);
	cli_json_set(o, "component", f->component >= 0 ? json_integer(f->component) : NULL);
	cli_json_set(o, "leaf", f->leaf ? cli_json_reg32(f->leaf) : NULL);
	cli_json_set(o, "subleaf", f->leaf ? cli_json_reg32(f->subleaf) : NULL);
	cli_json_set(o, "rule",
		     f->rule ? cli_json_text(cli_cited(f->rule, text, sizeof(text))) : NULL);
	cli_json_set(o, "message", cli_json_text(cli_cited(f->message, text, sizeof(text))));
	return o;
}

static json_t *facts_json(const struct vx_compat_report *r)
{
	json_t *o = json_object();

	cli_json_set(o, "xcr0", cli_json_mask(r->xcr0));
	cli_json_set(o, "xss", cli_json_mask(r->xss));
	cli_json_set(o, "xfd", cli_json_hex(r->xfd));
	cli_json_set(o, "xstate_bv", cli_json_mask(r->xstate_bv));
	cli_json_set(o, "blob_size", json_integer(r->blob_size));
	cli_json_set(o, "target_xsave2", json_integer(r->target_xsave2));
	cli_json_set(o, "target_uabi_size", json_integer(r->target_uabi_size));
	cli_json_set(o, "target_supported_xcr0", cli_json_mask(r->target_supported_xcr0));
	cli_json_set(o, "target_supported_xss", cli_json_mask(r->target_supported_xss));
	cli_json_set(o, "guest_supported_xcr0", cli_json_mask(r->guest_supported_xcr0));
	cli_json_set(o, "guest_supported_xss", cli_json_mask(r->guest_supported_xss));
	cli_json_set(o, "restore_ran", json_boolean(r->restore_ran));
	cli_json_set(o, "restore_steps", json_integer(r->restore_steps));
	cli_json_set(o, "restore_refusals", json_integer(r->restore_refusals));
	return o;
}

static int json_compat(const struct compat_request *q, const struct vx_vmm_bundle *b,
		       enum vx_vmm_state_format format, const struct vx_compat_target *t,
		       const struct vx_compat_report *r, const char *fixed)
{
	json_t *root = json_object(), *o, *list = json_array();

	cli_json_set(root, "schema_version", json_integer(CLI_JSON_SCHEMA_VERSION));
	cli_json_set(root, "command", json_string("compat"));
	o = json_object();
	cli_json_set(o, "path", cli_json_text(q->bundle));
	cli_json_set(o, "format", json_string(vx_vmm_state_format_name(format)));
	cli_json_set(o, "origin", cli_json_text(b->origin));
	cli_json_set(o, "vcpu_id", json_integer(b->vcpu_id));
	cli_json_set(o, "layout", cli_json_text(r->source_layout));
	cli_json_set(o, "flavour", b->flavour >= 0 ? json_string(flavour_text(b->flavour)) : NULL);
	cli_json_set(o, "design", b->design >= 0 ? json_string(design_text(b->design)) : NULL);
	cli_json_set(root, "bundle", o);
	o = json_object();
	cli_json_set(o, "name", cli_json_text(t->profile.name));
	cli_json_set(o, "live", json_boolean(t->live));
	cli_json_set(o, "flavour", json_string(vx_kvm_flavour_name(t->flavour)));
	cli_json_set(o, "design", json_string(vx_kvm_cet_design_name(t->design)));
	cli_json_set(root, "target", o);
	cli_json_set(root, "verdict", json_string(vx_compat_verdict_name(r->verdict)));
	cli_json_set(root, "exit_status", json_integer(compat_exit(r->verdict, fixed != NULL)));
	cli_json_set(root, "facts", facts_json(r));
	for (unsigned i = 0; i < r->count; i++)
		json_array_append_new(list, finding_json(&r->findings[i]));
	cli_json_set(root, "findings", list);
	cli_json_set(root, "omitted", json_integer(r->omitted));
	cli_json_set(root, "fixed", fixed ? cli_json_text(fixed) : NULL);
	return cli_json_print(root);
}

/* Write @b to the file @path, the library's bundle text. */
static int write_bundle(const char *path, const struct vx_vmm_bundle *b)
{
	size_t n = vx_vmm_bundle_format(b, NULL, 0);
	char *text = malloc(n + 1);
	FILE *f;
	int ok;

	if (!text) {
		cli_error("out of memory");
		return CLI_EXIT_FAILURE;
	}
	vx_vmm_bundle_format(b, text, n + 1);
	f = fopen(path, "w");
	ok = f && fwrite(text, 1, n, f) == n;
	if (f)
		ok &= fclose(f) == 0;
	if (!ok)
		cli_error("cannot write '%s': %s", path, strerror(errno));
	free(text);
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

/* --fix: the converted bundle, written only when a conversion is enough. */
static int fix(const struct compat_request *q, const struct vx_vmm_bundle *b,
	       const struct vx_compat_target *t, const char **written)
{
	struct vx_vmm_bundle *fixed = malloc(sizeof(*fixed));
	struct vx_error err = VX_ERROR_INIT;
	int rc = fixed ? vx_compat_fix(b, t, fixed, &err) : -ENOMEM;

	if (rc) {
		cli_vx_error("compat: --fix", &err);
		free(fixed);
		return CLI_EXIT_FAILURE;
	}
	rc = write_bundle(q->fix, fixed);
	free(fixed);
	if (rc == CLI_EXIT_OK)
		*written = q->fix;
	return rc;
}

static int run_compat(const struct compat_request *q)
{
	struct vx_vmm_bundle *b = malloc(sizeof(*b));
	struct vx_compat_report *r = malloc(sizeof(*r));
	enum vx_vmm_state_format format = VX_VMM_STATE_BUNDLE;
	struct vx_compat_target t;
	struct vx_error err = VX_ERROR_INIT;
	const char *written = NULL;
	int rc = b && r ? load_bundle(q->bundle, q->vcpu, b, &format) : CLI_EXIT_FAILURE;

	if (!rc)
		rc = cli_compat_host(q->to, q->flavour, q->design, &t);
	if (!rc && vx_compat_check(b, &t, r, &err) != 0) {
		cli_vx_error("compat: the target", &err);
		rc = CLI_EXIT_FAILURE;
	}
	if (!rc && q->fix && r->verdict == VX_COMPAT_CONVERTIBLE)
		rc = fix(q, b, &t, &written);
	if (!rc && q->json)
		rc = json_compat(q, b, format, &t, r, written);
	else if (!rc)
		print_compat(q, b, format, &t, r);
	if (!rc && written && !q->json)
		printf("\nWrote the converted bundle to %s\n", written);
	if (!rc)
		rc = compat_exit(r->verdict, written != NULL);
	free(b);
	free(r);
	return rc;
}

int cli_cmd_compat(int argc, char **argv)
{
	struct compat_request q = {NULL, NULL, NULL, -1, VX_KVM_CET_GUEST_ONLY, 0, false};
	int rc = compat_options(argc, argv, &q);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	/* The report is on standard output; the fixed bundle goes to a file. */
	if (q.fix && strcmp(q.fix, "-") == 0)
		return cli_usage_error("compat", "--fix needs a file name (the report is on "
						 "standard output)");
	return run_compat(&q);
}

/* ----------------------------------------------------------------------------------------- */
/* vxsave baseline                                                                              */

static int baseline_options(int argc, char **argv, enum vx_kvm_cet_design *design, bool *json)
{
	static const struct option options[] = {
	    {"design", required_argument, NULL, OPT_DESIGN},
	    {"json", no_argument, NULL, CLI_OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt, rc = 0;

	opterr = 0;
	while (!rc && (opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == 'h') {
			cli_usage_baseline(stdout);
			return -1;
		}
		if (opt == '?' || opt == ':')
			return cli_getopt_failure("baseline", opt, argc, argv);
		if (opt == OPT_DESIGN)
			rc = parse_design("baseline", optarg, design);
		*json |= opt == CLI_OPT_JSON;
	}
	if (!rc && optind >= argc)
		rc = cli_usage_error("baseline", "no SOURCE given (host, profiles or dumps)");
	if (!rc && argc - optind > (int)VX_BASELINE_MAX_HOSTS)
		rc = cli_usage_error("baseline", "at most %u hosts", VX_BASELINE_MAX_HOSTS);
	return rc;
}

static void print_cpuid_line(const struct vx_kvm_cpuid_entry *e)
{
	printf("   0x%08x 0x%02x: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n", e->function,
	       e->index, e->eax, e->ebx, e->ecx, e->edx);
}

static void print_baseline(const struct vx_compat_target *hosts, const struct vx_baseline *b)
{
	char m[600], text[VX_COMPAT_MESSAGE_MAX * 2];

	printf("Baseline of %u host%s:", b->nhosts, b->nhosts == 1 ? "" : "s");
	for (unsigned i = 0; i < b->nhosts; i++)
		printf("%s %s (%s)", i ? "," : "", hosts[i].profile.name,
		       vx_kvm_flavour_name(hosts[i].flavour));
	printf("\nXCR0       %s\n", cli_compat_mask(b->xcr0, m, sizeof(m)));
	printf("IA32_XSS   %s\n", cli_compat_mask(b->xss, m, sizeof(m)));
	printf("Sizes      standard %u, compacted %u, KVM_CAP_XSAVE2 %u\n", b->standard_size,
	       b->compacted_size, b->xsave2);
	printf("0xD.1 EAX  xsaveopt %s, xsavec %s, xgetbv1 %s, xsaves %s, xfd %s\n",
	       cli_yes_no(b->xsaveopt), cli_yes_no(b->xsavec), cli_yes_no(b->xgetbv1),
	       cli_yes_no(b->xsaves), cli_yes_no(b->xfd));
	printf("CET        shstk %s, ibt %s\n", cli_yes_no(b->shstk), cli_yes_no(b->ibt));
	printf("MSRs       ");
	for (uint32_t i = 0; i < b->nmsrs; i++)
		printf("%s%s", i ? ", " : "",
		       vx_msr_info(b->msrs[i]) ? vx_msr_info(b->msrs[i])->name : "?");
	printf("%s\n", b->nmsrs ? "" : "(none)");
	if (b->count)
		printf("\nLeft out\n");
	for (unsigned i = 0; i < b->count; i++)
		cli_print_wrapped(stdout, "  - ", "    ",
				  cli_cited(b->notes[i].message, text, sizeof(text)), ' ');
	printf("\nCPUID entries for KVM_SET_CPUID2 (leaf sub-leaf: registers, as `cpuid -r`)\n");
	for (uint32_t i = 0; i < b->ncpuid; i++)
		print_cpuid_line(&b->cpuid[i]);
}

static json_t *entries_json(const struct vx_baseline *b)
{
	json_t *list = json_array();

	for (uint32_t i = 0; i < b->ncpuid; i++) {
		const struct vx_kvm_cpuid_entry *e = &b->cpuid[i];
		json_t *o = json_object();

		cli_json_set(o, "function", cli_json_reg32(e->function));
		cli_json_set(o, "index", cli_json_reg32(e->index));
		cli_json_set(o, "flags", cli_json_reg32(e->flags));
		cli_json_set(o, "eax", cli_json_reg32(e->eax));
		cli_json_set(o, "ebx", cli_json_reg32(e->ebx));
		cli_json_set(o, "ecx", cli_json_reg32(e->ecx));
		cli_json_set(o, "edx", cli_json_reg32(e->edx));
		json_array_append_new(list, o);
	}
	return list;
}

static int json_baseline(const struct vx_compat_target *hosts, const struct vx_baseline *b)
{
	json_t *root = json_object(), *list = json_array(), *notes = json_array(), *msrs;
	char text[VX_COMPAT_MESSAGE_MAX * 2];

	cli_json_set(root, "schema_version", json_integer(CLI_JSON_SCHEMA_VERSION));
	cli_json_set(root, "command", json_string("baseline"));
	for (unsigned i = 0; i < b->nhosts; i++) {
		json_t *h = json_object();

		cli_json_set(h, "name", cli_json_text(hosts[i].profile.name));
		cli_json_set(h, "flavour", json_string(vx_kvm_flavour_name(hosts[i].flavour)));
		cli_json_set(h, "design", json_string(vx_kvm_cet_design_name(hosts[i].design)));
		json_array_append_new(list, h);
	}
	cli_json_set(root, "hosts", list);
	cli_json_set(root, "xcr0", cli_json_mask(b->xcr0));
	cli_json_set(root, "xss", cli_json_mask(b->xss));
	cli_json_set(root, "standard_size", json_integer(b->standard_size));
	cli_json_set(root, "compacted_size", json_integer(b->compacted_size));
	cli_json_set(root, "xsave2", json_integer(b->xsave2));
	cli_json_set(root, "shstk", json_boolean(b->shstk));
	cli_json_set(root, "ibt", json_boolean(b->ibt));
	cli_json_set(root, "xsaves", json_boolean(b->xsaves));
	cli_json_set(root, "xfd", json_boolean(b->xfd));
	msrs = json_array();
	for (uint32_t i = 0; i < b->nmsrs; i++)
		json_array_append_new(msrs, cli_json_hex(b->msrs[i]));
	cli_json_set(root, "msrs", msrs);
	for (unsigned i = 0; i < b->count; i++)
		json_array_append_new(
		    notes, cli_json_text(cli_cited(b->notes[i].message, text, sizeof(text))));
	cli_json_set(root, "left_out", notes);
	cli_json_set(root, "cpuid", entries_json(b));
	return cli_json_print(root);
}

int cli_cmd_baseline(int argc, char **argv)
{
	enum vx_kvm_cet_design design = VX_KVM_CET_GUEST_ONLY;
	struct vx_compat_target *hosts = NULL;
	struct vx_baseline *b = malloc(sizeof(*b));
	struct vx_error err = VX_ERROR_INIT;
	bool json = false;
	unsigned n = 0;
	int rc = baseline_options(argc, argv, &design, &json);

	if (!rc && b)
		hosts = calloc((size_t)(argc - optind), sizeof(*hosts));
	if (!rc && !hosts) {
		cli_error("out of memory");
		rc = CLI_EXIT_FAILURE;
	}
	for (int i = optind; !rc && i < argc; i++)
		rc = cli_compat_host(argv[i], -1, design, &hosts[n++]);
	if (!rc && vx_baseline_compute(hosts, n, b, &err) != 0) {
		cli_vx_error("baseline", &err);
		rc = CLI_EXIT_FAILURE;
	}
	if (!rc)
		rc = json ? json_baseline(hosts, b) : (print_baseline(hosts, b), CLI_EXIT_OK);
	free(hosts);
	free(b);
	return rc < 0 ? CLI_EXIT_OK : rc;
}
