/* SPDX-License-Identifier: MIT */
/*
 * `vxsave xsave decode|validate|convert` (issue 10): a vCPU's extended-state blob - struct
 * kvm_xsave, a KVM_GET_XSAVE2 buffer, a raw standard or compacted XSAVE area, a 64-bit signal
 * frame - decoded into its registers, checked against what KVM_SET_XSAVE on a given host and
 * vCPU would do (every failing rule), or re-laid out for another format or host.  The library
 * does the work (vmm.h); this file reads files and options and prints (xsave_report.c).
 *
 * Exit status: 0 success (decode printed; validate: KVM would accept; convert: written);
 * 1 bad input, a refused blob or an unwritable file; 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/vmm.h>

#include "cli.h"
#include "cmd_xsave.h"
#include "json_output.h"
#include "source.h"
#include "xsave_report.h"

enum xsave_option {
	OPT_FORMAT = CLI_OPT_FIRST_LOCAL,
	OPT_INPUT_FORMAT,
	OPT_GUEST_CPUID,
	OPT_XCR0,
	OPT_FLAVOUR,
	OPT_DESIGN,
	OPT_GUEST_PERM,
	OPT_FROM,
	OPT_TO,
	OPT_SIZE,
	OPT_XCOMP_BV,
};

/* Everything the three actions take; each action accepts its own subset. */
struct xsave_request {
	const char *action;
	struct cli_source source;
	const char *file;
	int format;	  /* decode/validate: the input's kind; convert: the result's */
	int input_format; /* convert */
	bool json;
	const char *guest_cpuid;
	const char *xcr0;
	int flavour;
	int design;
	int guest_perm; /* -1 auto, 0 no, 1 yes */
	const char *from, *to, *output;
	uint64_t size;
	const char *xcomp_bv;
};

void cli_usage_xsave(FILE *out)
{
	fputs("Usage: vxsave xsave decode FILE [SOURCE] [--format F] [--json]\n"
	      "       vxsave xsave validate FILE SOURCE [--format F] [--guest-cpuid SPEC]\n"
	      "                             [--xcr0 MASK] [--guest-perm auto|yes|no]\n"
	      "                             [--flavour vmx|svm|pvm] [--design D] [--json]\n"
	      "       vxsave xsave convert FILE --from SPEC --to SPEC -o OUT\n"
	      "                             [--format std|compacted|kvm|kvm2] [--size BYTES]\n"
	      "                             [--xcomp-bv MASK] [--input-format F] [--json]\n"
	      "\n"
	      "A vCPU's extended state as VMMs save it.  FILE ('-' = standard input) is\n"
	      "recognised from its bytes, or named with --format (--input-format for convert):\n"
	      "  kvm        struct kvm_xsave of KVM_GET_XSAVE: 4096 bytes, standard format\n"
	      "  kvm2       a KVM_GET_XSAVE2 buffer: KVM_CAP_XSAVE2 bytes (>= 4096)\n"
	      "  std        a raw standard-format XSAVE area (XSAVE, NT_X86_XSTATE)\n"
	      "  compacted  a raw compacted area (XSAVEC/XSAVES): XCOMP_BV[63] = 1\n"
	      "  sigframe   the FPU part of a 64-bit signal frame (magic1 at 464, MAGIC2)\n"
	      "\n"
	      "decode    the header (XSTATE_BV, XCOMP_BV, reserved bytes), every component with\n"
	      "          its registers as they load (x87 stack with tags, MXCSR flags, YMM/ZMM,\n"
	      "          k0-7, PKRU keys, tile configuration and data, APX, CET_U), components\n"
	      "          in their initial configuration marked 'init', and non-zero bytes that\n"
	      "          hold no state as hex.  Standard offsets differ between hosts: decode\n"
	      "          with the source host's SOURCE (default " VX_DEFAULT_PROFILE ").\n"
	      "validate  would KVM_SET_XSAVE accept FILE on the host SOURCE, in a vCPU set up\n"
	      "          as a VMM does (guest permission, KVM_SET_CPUID2, KVM_SET_XCRS)?  The\n"
	      "          model's own KVM_SET_XSAVE gives the verdict; every failing rule is\n"
	      "          listed with its bit, byte or value, then notes (state the next\n"
	      "          KVM_GET_XSAVE drops, PKRU left as it was, bytes KVM does not read).\n"
	      "convert   re-lay FILE out: standard <-> compacted, one host's standard offsets\n"
	      "          to another's (AMD and Intel place AVX-512 differently), KVM_GET_XSAVE\n"
	      "          <-> KVM_GET_XSAVE2 sizes.  What the target cannot hold is refused\n"
	      "          with every reason and nothing is written.\n"
	      "\n",
	      out);
	cli_source_usage(out);
	fputs("\n"
	      "Options:\n"
	      "      --format F         decode/validate: FILE's format; convert: the result's\n"
	      "                         (default: FILE's, a signal frame becoming std)\n"
	      "      --input-format F   convert: FILE's format (default: recognised)\n"
	      "      --json             print one JSON object instead of the text\n"
	      "      --guest-cpuid SPEC the guest CPUID given to KVM_SET_CPUID2: a 'cpuid -r'\n"
	      "                         dump or a built-in profile with toggles (default:\n"
	      "                         KVM_GET_SUPPORTED_CPUID, as most VMMs start)\n"
	      "      --xcr0 MASK        the guest XCR0 (KVM_SET_XCRS); names or a number\n"
	      "      --guest-perm P     ARCH_REQ_XCOMP_GUEST_PERM for AMX before the vCPU: yes,\n"
	      "                         no, or auto (default: yes when FILE is larger than 4096\n"
	      "                         bytes or names tile data, or the guest CPUID has AMX)\n"
	      "      --flavour F        the KVM module: vmx, svm, pvm (default: detected with\n"
	      "                         --host, else the vendor's)\n"
	      "      --design D         where CET_S lives (default guest-only)\n"
	      "      --from SPEC, --to SPEC\n"
	      "                         convert: source and target hosts: a built-in profile\n"
	      "                         (with toggles), a dump file, or 'host' (this machine)\n"
	      "  -o, --output OUT       convert: where the result goes ('-': standard output)\n"
	      "      --size BYTES       convert: the result's size (default: the format's on the\n"
	      "                         target; kvm2: KVM_CAP_XSAVE2 with AMX permitted)\n"
	      "      --xcomp-bv MASK    convert to compacted: the layout, XCOMP_BV[62:0]\n"
	      "                         (default: the target's XCR0 components; 0: the legacy\n"
	      "                         region and header only)\n"
	      "  -h, --help             show this help and exit\n"
	      "\n"
	      "Exit status: 0 decoded / accepted / converted; 1 bad input, refused, or a file\n"
	      "that cannot be read or written; 2 usage error.\n",
	      out);
}

/* ----------------------------------------------------------------------------------------- */
/* Options                                                                                      */

static int parse_kind(const char *action, const char *option, const char *text, int *kind)
{
	int k = vx_vmm_blob_kind_by_name(text);

	if (k <= 0)
		return cli_usage_error(action,
				       "%s must be kvm, kvm2, std, compacted or sigframe, "
				       "not '%s'",
				       option, text);
	*kind = k;
	return 0;
}

static int parse_named(const char *action, const char *option, const char *text, int found,
		       const char *choices, int *out)
{
	if (found < 0)
		return cli_usage_error(action, "%s must be %s, not '%s'", option, choices, text);
	*out = found;
	return 0;
}

static int parse_perm(const char *action, const char *text, int *perm)
{
	static const char *const words[] = {"no", "yes", "auto"};

	for (int i = 0; i < 3; i++)
		if (strcmp(text, words[i]) == 0) {
			*perm = i == 2 ? -1 : i;
			return 0;
		}
	return cli_usage_error(action, "--guest-perm must be auto, yes or no, not '%s'", text);
}

static int parse_size(const char *action, const char *text, uint64_t *size)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_parse_u64(text, strlen(text), size, &err) < 0 || *size == 0 ||
	    *size > VX_VMM_BLOB_MAX)
		return cli_usage_error(action,
				       "--size must be a number of bytes up to %u, not "
				       "'%s'",
				       VX_VMM_BLOB_MAX, text);
	return 0;
}

/* One option of any action; 1 if it was not one of ours (a source option, maybe). */
static int take_option(struct xsave_request *r, int opt, const char *arg)
{
	switch (opt) {
	case OPT_FORMAT:
		return parse_kind(r->action, "--format", arg, &r->format);
	case OPT_INPUT_FORMAT:
		return parse_kind(r->action, "--input-format", arg, &r->input_format);
	case CLI_OPT_JSON:
		r->json = true;
		return 0;
	case OPT_GUEST_CPUID:
		r->guest_cpuid = arg;
		return 0;
	case OPT_XCR0:
		r->xcr0 = arg;
		return 0;
	case OPT_FLAVOUR:
		return parse_named(r->action, "--flavour", arg, vx_kvm_flavour_by_name(arg),
				   "vmx, svm or pvm", &r->flavour);
	case OPT_DESIGN:
		return parse_named(r->action, "--design", arg, vx_kvm_cet_design_by_name(arg),
				   "a CET_S design (unsupported, all-tasks, guest-only, kvm-eager, "
				   "kvm-lazy, kvm-user-return)",
				   &r->design);
	case OPT_GUEST_PERM:
		return parse_perm(r->action, arg, &r->guest_perm);
	case OPT_FROM:
		r->from = arg;
		return 0;
	case OPT_TO:
		r->to = arg;
		return 0;
	case 'o':
		r->output = arg;
		return 0;
	case OPT_SIZE:
		return parse_size(r->action, arg, &r->size);
	case OPT_XCOMP_BV:
		r->xcomp_bv = arg;
		return 0;
	}
	return 1;
}

/* Which options each action takes (the rest are usage errors). */
static bool option_allowed(const char *action, int opt)
{
	static const struct {
		const char *action;
		int opts[12];
	} allowed[] = {
	    {"xsave decode",
	     {OPT_FORMAT, CLI_OPT_JSON, CLI_OPT_HOST, CLI_OPT_PROFILE, CLI_OPT_CPUID_DUMP,
	      CLI_OPT_CPU}},
	    {"xsave validate",
	     {OPT_FORMAT, CLI_OPT_JSON, CLI_OPT_HOST, CLI_OPT_PROFILE, CLI_OPT_CPUID_DUMP,
	      CLI_OPT_CPU, OPT_GUEST_CPUID, OPT_XCR0, OPT_FLAVOUR, OPT_DESIGN, OPT_GUEST_PERM}},
	    {"xsave convert",
	     {OPT_FORMAT, OPT_INPUT_FORMAT, CLI_OPT_JSON, OPT_FROM, OPT_TO, 'o', OPT_SIZE,
	      OPT_XCOMP_BV}},
	};

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (strcmp(allowed[i].action, action) != 0)
			continue;
		for (size_t k = 0; k < 12; k++)
			if (allowed[i].opts[k] == opt)
				return true;
	}
	return false;
}

static const struct option options[] = {
    CLI_SOURCE_LONG_OPTIONS,
    {"format", required_argument, NULL, OPT_FORMAT},
    {"input-format", required_argument, NULL, OPT_INPUT_FORMAT},
    {"json", no_argument, NULL, CLI_OPT_JSON},
    {"guest-cpuid", required_argument, NULL, OPT_GUEST_CPUID},
    {"xcr0", required_argument, NULL, OPT_XCR0},
    {"flavour", required_argument, NULL, OPT_FLAVOUR},
    {"design", required_argument, NULL, OPT_DESIGN},
    {"guest-perm", required_argument, NULL, OPT_GUEST_PERM},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"output", required_argument, NULL, 'o'},
    {"size", required_argument, NULL, OPT_SIZE},
    {"xcomp-bv", required_argument, NULL, OPT_XCOMP_BV},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The long name of option @opt, for messages (argv may hold its value, not its name). */
static const char *option_name(int opt)
{
	for (const struct option *o = options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

static int parse_options(int argc, char **argv, struct xsave_request *r)
{
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":ho:", options, NULL)) != -1) {
		if (opt == 'h') {
			cli_usage_xsave(stdout);
			return -1;
		}
		if (opt == '?' || opt == ':')
			return cli_getopt_failure(r->action, opt, argc, argv);
		if (!option_allowed(r->action, opt))
			return cli_usage_error(r->action, "option '--%s' does not apply to '%s'",
					       option_name(opt), r->action);
		rc = take_option(r, opt, optarg);
		if (rc == 1)
			rc = cli_source_option(&r->source, r->action, opt, optarg);
		if (rc != 0 && rc != 1)
			return rc;
	}
	if (optind >= argc)
		return cli_usage_error(r->action, "missing FILE");
	r->file = argv[optind];
	rc = cli_extra_arguments(r->action, optind + 1, argc, argv);
	return rc ? rc : cli_source_finish(&r->source, r->action);
}

/* ----------------------------------------------------------------------------------------- */
/* Files                                                                                        */

/* Up to one byte more than a blob may have, so an oversized file is told apart. */
static uint8_t *read_blob_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t room = (size_t)VX_VMM_BLOB_MAX + 1;
	uint8_t *buf;

	if (!f) {
		cli_error("cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(room);
	if (buf)
		*len = fread(buf, 1, room, f);
	if (!buf || ferror(f)) {
		cli_error("cannot read '%s': %s", path, buf ? strerror(errno) : "out of memory");
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

static int write_file(const char *path, const uint8_t *bytes, size_t len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");

	if (!f || fwrite(bytes, 1, len, f) != len || (f != stdout && fclose(f) != 0)) {
		cli_error("cannot write '%s': %s", path, strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

/* Read and parse FILE: CLI_EXIT_OK with *@bytes to free, or a message and exit 1. */
static int load_blob(const char *path, int kind, uint8_t **bytes, struct vx_vmm_blob *blob)
{
	struct vx_error err = VX_ERROR_INIT;
	char context[512];
	size_t len = 0;

	*bytes = read_blob_file(path, &len);
	if (!*bytes)
		return CLI_EXIT_FAILURE;
	if (vx_vmm_blob_parse(*bytes, len, (enum vx_vmm_blob_kind)kind, blob, &err) == 0)
		return CLI_EXIT_OK;
	if (err.offset >= 0)
		snprintf(context, sizeof(context), "%s: byte %lld", path, (long long)err.offset);
	else
		snprintf(context, sizeof(context), "%s", path);
	cli_vx_error(context, &err);
	free(*bytes);
	*bytes = NULL;
	return CLI_EXIT_FAILURE;
}

/* A host named by one word: 'host' is this machine, else cli_source_load_spec(). */
static int load_spec(const char *spec, struct vx_profile *profile)
{
	struct vx_error err = VX_ERROR_INIT;

	if (strcmp(spec, "host") != 0)
		return cli_source_load_spec(spec, profile);
	if (vx_profile_from_host(profile, &err) == 0)
		return CLI_EXIT_OK;
	cli_vx_error("host", &err);
	return CLI_EXIT_FAILURE;
}

/* ----------------------------------------------------------------------------------------- */
/* decode                                                                                       */

static int cmd_decode(int argc, char **argv)
{
	struct xsave_request r = {
	    .action = "xsave decode", .source = CLI_SOURCE_INIT, .flavour = -1};
	static struct vx_vmm_xsave_view view;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile profile;
	struct vx_vmm_blob blob;
	uint8_t *bytes = NULL;
	int rc = parse_options(argc, argv, &r);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	rc = cli_source_load(&r.source, &profile);
	if (!rc)
		rc = load_blob(r.file, r.format, &bytes, &blob);
	if (rc)
		return rc;
	if (vx_vmm_xsave_decode(&profile, &blob, &view, &err) < 0) {
		cli_vx_error(r.file, &err);
		free(bytes);
		return CLI_EXIT_FAILURE;
	}
	if (r.json)
		rc = cli_json_print(xsave_report_json(r.file, &view));
	else
		xsave_report_text(stdout, r.file, &view);
	free(bytes);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* validate                                                                                     */

/* What the vCPU was given, for the messages. */
struct vcpu_setup {
	struct vx_vmm_vcpu_config config;
	struct vx_kvm_cpuid_entry cpuid[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_profile guest;
	char cpuid_label[VX_PROFILE_NAME_MAX + 64];
};

/* --guest-perm auto: as the source VMM must have had it (kvm.md §2.6, §5.1). */
static bool want_perm(const struct xsave_request *r, const struct vx_vmm_blob *b,
		      const struct vcpu_setup *s)
{
	uint64_t tiledata = VX_BIT(VX_COMP_XTILEDATA);

	if (r->guest_perm >= 0)
		return r->guest_perm == 1;
	return b->area_len > VX_KVM_XSAVE_SIZE || (b->xstate_bv & tiledata) ||
	       (r->guest_cpuid && (vx_profile_xcr0_supported(&s->guest) & tiledata));
}

static int vcpu_config(const struct xsave_request *r, const struct vx_vmm_blob *b,
		       struct vcpu_setup *s)
{
	struct vx_error err = VX_ERROR_INIT;

	memset(&s->config, 0, sizeof(s->config));
	snprintf(s->cpuid_label, sizeof(s->cpuid_label), "KVM_GET_SUPPORTED_CPUID");
	if (r->guest_cpuid) {
		if (load_spec(r->guest_cpuid, &s->guest))
			return CLI_EXIT_FAILURE;
		s->config.cpuid = s->cpuid;
		s->config.ncpuid =
		    vx_vmm_guest_cpuid(&s->guest, s->cpuid, VX_KVM_MAX_CPUID_ENTRIES);
		snprintf(s->cpuid_label, sizeof(s->cpuid_label), "'%s' (%u entries)",
			 s->guest.name[0] ? s->guest.name : r->guest_cpuid, s->config.ncpuid);
	}
	if (r->xcr0) {
		if (vx_parse_component_mask(r->xcr0, &s->config.xcr0, &err) < 0) {
			cli_vx_error("--xcr0", &err);
			return CLI_EXIT_FAILURE;
		}
		s->config.set_xcr0 = true;
	}
	s->config.dynamic_perm = want_perm(r, b, s);
	return CLI_EXIT_OK;
}

static int make_vcpu(const struct xsave_request *r, const struct vx_profile *profile,
		     const struct vcpu_setup *s, struct vx_vmm_host **host,
		     struct vx_vmm_vcpu **vcpu)
{
	struct vx_vmm_host_options o;
	struct vx_error err = VX_ERROR_INIT;

	vx_vmm_host_options_init(&o);
	o.flavour = r->flavour;
	o.design = (enum vx_kvm_cet_design)r->design;
	o.live = r->source.kind == CLI_SOURCE_HOST;
	if (vx_vmm_host_create(profile, &o, host, &err) < 0) {
		cli_vx_error("cannot model the host's KVM", &err);
		return CLI_EXIT_FAILURE;
	}
	if (vx_vmm_vcpu_create(*host, &s->config, vcpu, &err) < 0) {
		cli_vx_error("the vCPU configuration is refused", &err);
		vx_vmm_host_destroy(*host);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static void text_validation(const char *path, const struct vx_vmm_blob *b,
			    const struct vx_vmm_host *h, const struct vcpu_setup *s,
			    const struct vx_vmm_validation *v)
{
	char kind[128], names[400];

	printf("%s: %zu bytes, %s\n", path, b->len, xsave_kind_label(b, kind, sizeof(kind)));
	printf("host:     '%s', KVM %s, CET_S design %s\n", vx_vmm_host_profile(h)->name,
	       vx_kvm_flavour_name(vx_vmm_host_flavour(h)),
	       vx_kvm_cet_design_name(vx_kvm_options(vx_vmm_host_kvm(h))->design));
	printf("vCPU:     guest CPUID %s, guest permission for AMX %s, XCR0 0x%llx%s\n",
	       s->cpuid_label, s->config.dynamic_perm ? "requested" : "not requested",
	       (unsigned long long)v->xcr0, s->config.set_xcr0 ? "" : " (reset value)");
	printf("against:  uabi_size %u, supported_xcr0 0x%llx, user_xfeatures 0x%llx (%s)\n",
	       v->uabi_size, (unsigned long long)v->supported_xcr0,
	       (unsigned long long)v->user_xfeatures,
	       cli_mask_names(v->user_xfeatures, names, sizeof(names)));
	if (v->rc == 0)
		printf("verdict:  ACCEPTED: KVM_SET_XSAVE returns 0\n");
	else
		printf("verdict:  REFUSED: KVM_SET_XSAVE fails with %s, %u rule%s broken\n",
		       vx_errno_name(v->rc), v->report.refusals,
		       v->report.refusals == 1 ? "" : "s");
	xsave_report_findings(stdout, &v->report);
}

static json_t *json_validation(const char *path, const struct vx_vmm_blob *b,
			       const struct vx_vmm_host *h, const struct vcpu_setup *s,
			       const struct vx_vmm_validation *v)
{
	json_t *root = json_object(), *host = json_object(), *vcpu = json_object();

	cli_json_set(root, "file", cli_json_text(path));
	cli_json_set(root, "bytes", json_integer((json_int_t)b->len));
	cli_json_set(root, "kind", json_string(vx_vmm_blob_kind_name(b->kind)));
	cli_json_set(host, "profile", cli_json_text(vx_vmm_host_profile(h)->name));
	cli_json_set(host, "flavour", json_string(vx_kvm_flavour_name(vx_vmm_host_flavour(h))));
	cli_json_set(host, "supported_xcr0", cli_json_hex(v->supported_xcr0));
	cli_json_set(root, "host", host);
	cli_json_set(vcpu, "guest_cpuid", cli_json_text(s->cpuid_label));
	cli_json_set(vcpu, "guest_perm", json_boolean(s->config.dynamic_perm));
	cli_json_set(vcpu, "xcr0", cli_json_hex(v->xcr0));
	cli_json_set(vcpu, "uabi_size", json_integer(v->uabi_size));
	cli_json_set(vcpu, "user_xfeatures", cli_json_hex(v->user_xfeatures));
	cli_json_set(vcpu, "guest_supported_xcr0", cli_json_hex(v->guest_supported_xcr0));
	cli_json_set(root, "vcpu", vcpu);
	cli_json_set(root, "accepted", json_boolean(v->rc == 0));
	cli_json_set(root, "errno", v->rc ? json_string(vx_errno_name(v->rc)) : NULL);
	cli_json_set(root, "refusals", json_integer(v->report.refusals));
	cli_json_set(root, "findings", xsave_findings_json(&v->report));
	return root;
}

static int report_validation(const struct xsave_request *r, const struct vx_vmm_blob *b,
			     const struct vx_vmm_host *h, const struct vcpu_setup *s,
			     const struct vx_vmm_validation *v)
{
	int rc = CLI_EXIT_OK;

	if (r->json)
		rc = cli_json_print(json_validation(r->file, b, h, s, v));
	else
		text_validation(r->file, b, h, s, v);
	return rc ? rc : v->rc ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

static int cmd_validate(int argc, char **argv)
{
	struct xsave_request r = {.action = "xsave validate",
				  .source = CLI_SOURCE_INIT,
				  .flavour = -1,
				  .design = VX_KVM_CET_GUEST_ONLY,
				  .guest_perm = -1};
	static struct vx_vmm_validation result;
	static struct vcpu_setup setup;
	struct vx_vmm_host *host = NULL;
	struct vx_vmm_vcpu *vcpu = NULL;
	struct vx_profile profile;
	struct vx_vmm_blob blob;
	uint8_t *bytes = NULL;
	int rc = parse_options(argc, argv, &r);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (r.source.kind == CLI_SOURCE_DEFAULT)
		return cli_usage_error("xsave validate",
				       "which host? give --host, --profile NAME or "
				       "--cpuid-dump FILE");
	rc = cli_source_load(&r.source, &profile);
	if (!rc)
		rc = load_blob(r.file, r.format, &bytes, &blob);
	if (!rc)
		rc = vcpu_config(&r, &blob, &setup);
	if (!rc)
		rc = make_vcpu(&r, &profile, &setup, &host, &vcpu);
	if (!rc) {
		vx_vmm_xsave_validate(vcpu, &blob, 0, &result, NULL);
		rc = report_validation(&r, &blob, host, &setup, &result);
		vx_vmm_vcpu_destroy(vcpu);
		vx_vmm_host_destroy(host);
	}
	free(bytes);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* convert                                                                                      */

/* The result's kind: --format, else the input's own (a signal frame becomes std). */
static enum vx_vmm_blob_kind result_kind(const struct xsave_request *r, const struct vx_vmm_blob *b)
{
	if (r->format)
		return (enum vx_vmm_blob_kind)r->format;
	return b->kind == VX_VMM_BLOB_SIGFRAME ? VX_VMM_BLOB_STANDARD : b->kind;
}

static int prepare(const struct xsave_request *r, const struct vx_vmm_blob *b,
		   const struct vx_profile *from, const struct vx_profile *to,
		   struct vx_vmm_converter *conv)
{
	struct vx_vmm_convert_options o = {
	    from, to, result_kind(r, b), (uint32_t)r->size, 0, VX_VMM_CONVERT_NOTES};
	struct vx_error err = VX_ERROR_INIT;

	if (r->xcomp_bv && vx_parse_component_mask(r->xcomp_bv, &o.xcomp_layout, &err) < 0) {
		cli_vx_error("--xcomp-bv", &err);
		return CLI_EXIT_FAILURE;
	}
	if (r->xcomp_bv) /* as given, 0 (legacy region and header only) included */
		o.flags |= VX_VMM_CONVERT_EXACT_LAYOUT;
	if (vx_vmm_converter_init(conv, &o, &err) < 0) {
		cli_vx_error("convert", &err);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

/* The report goes to @out: standard output, or standard error when the blob goes there. */
static int report_conversion(FILE *out, const struct xsave_request *r,
			     const struct vx_vmm_converter *c, const struct vx_vmm_blob *b,
			     size_t out_len, const struct vx_vmm_report *report, int result)
{
	char kind[128];
	json_t *root;

	if (r->json) {
		root = json_object();
		cli_json_set(root, "file", cli_json_text(r->file));
		cli_json_set(root, "kind", json_string(vx_vmm_blob_kind_name(b->kind)));
		cli_json_set(root, "from", cli_json_text(c->opt.from->name));
		cli_json_set(root, "to", cli_json_text(c->opt.to->name));
		cli_json_set(root, "format", json_string(vx_vmm_blob_kind_name(c->opt.kind)));
		cli_json_set(root, "converted", json_boolean(result == 0));
		cli_json_set(root, "output", result == 0 ? cli_json_text(r->output) : NULL);
		cli_json_set(root, "bytes", result == 0 ? json_integer((json_int_t)out_len) : NULL);
		cli_json_set(root, "findings", xsave_findings_json(report));
		return cli_json_print(root);
	}
	fprintf(out, "%s: %zu bytes, %s on '%s'\n", r->file, b->len,
		xsave_kind_label(b, kind, sizeof(kind)), c->opt.from->name);
	if (result == 0)
		fprintf(out, "converted to %s on '%s': %zu bytes written to %s\n",
			vx_vmm_blob_kind_name(c->opt.kind), c->opt.to->name, out_len, r->output);
	else
		fprintf(out, "REFUSED: %s on '%s' cannot hold it (%u reason%s); nothing written\n",
			vx_vmm_blob_kind_name(c->opt.kind), c->opt.to->name, report->refusals,
			report->refusals == 1 ? "" : "s");
	xsave_report_findings(out, report);
	return CLI_EXIT_OK;
}

static int run_conversion(const struct xsave_request *r, const struct vx_vmm_converter *c,
			  const struct vx_vmm_blob *b)
{
	static struct vx_vmm_report report;
	size_t n = vx_vmm_convert_size(c, b);
	uint8_t *out = calloc(1, n ? n : 1);
	int result, rc;

	if (!out) {
		cli_error("out of memory for a %zu-byte result", n);
		return CLI_EXIT_FAILURE;
	}
	result = vx_vmm_convert(c, b, out, n, &report, NULL);
	rc = report_conversion(strcmp(r->output, "-") == 0 ? stderr : stdout, r, c, b, n, &report,
			       result);
	if (!rc && result == 0)
		rc = write_file(r->output, out, n);
	free(out);
	return rc ? rc : result ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

static int cmd_convert(int argc, char **argv)
{
	struct xsave_request r = {
	    .action = "xsave convert", .source = CLI_SOURCE_INIT, .flavour = -1};
	static struct vx_profile from, to;
	struct vx_vmm_converter conv;
	struct vx_vmm_blob blob;
	uint8_t *bytes = NULL;
	int rc = parse_options(argc, argv, &r);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (!r.from || !r.to)
		return cli_usage_error("xsave convert", "convert needs --from SPEC and --to SPEC");
	if (!r.output)
		return cli_usage_error("xsave convert",
				       "convert needs -o OUT ('-' for standard output)");
	if (r.json && strcmp(r.output, "-") == 0)
		return cli_usage_error("xsave convert",
				       "--json and -o - both want standard output");
	if (r.format == VX_VMM_BLOB_SIGFRAME)
		return cli_usage_error("xsave convert",
				       "--format must be std, compacted, kvm or kvm2");
	rc = load_spec(r.from, &from);
	if (!rc)
		rc = load_spec(r.to, &to);
	if (!rc)
		rc = load_blob(r.file, r.input_format, &bytes, &blob);
	if (!rc)
		rc = prepare(&r, &blob, &from, &to, &conv);
	if (!rc)
		rc = run_conversion(&r, &conv, &blob);
	free(bytes);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} actions[] = {
    {"decode", cmd_decode},
    {"validate", cmd_validate},
    {"convert", cmd_convert},
};

int cli_cmd_xsave(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("xsave", "missing action: decode, validate or convert");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cli_usage_xsave(stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(argv[1], actions[i].name) == 0)
			return actions[i].run(argc - 1, argv + 1);
	return cli_usage_error("xsave", "unknown action '%s' (decode, validate, convert)", argv[1]);
}
