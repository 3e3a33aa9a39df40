/* SPDX-License-Identifier: MIT */
/*
 * `vxsave kvm capture [--out BUNDLE]`: a vCPU bundle from this machine's /dev/kvm (or, with a
 * CPU source option, from the drop-in model of that host), made as a VMM makes one: guest
 * permission, KVM_SET_CPUID2, KVM_SET_XCRS, known registers set by a guest under KVM_RUN (or
 * loaded with KVM_SET_XSAVE, with a note saying why, when the guest cannot run), then
 * KVM_GET_CPUID2, KVM_GET_XCRS, KVM_GET_MSRS of the index list, ONE_REG and KVM_GET_XSAVE2
 * (vmm_compat.h vx_vmm_capture(); docs/vmm.md "Capture").
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vxsave/vmm.h>

#include "cli.h"
#include "cmd_compat.h"
#include "source.h"

enum capture_option {
	OPT_OUT = CLI_OPT_FIRST_LOCAL + 0x20,
	OPT_FLAVOUR,
	OPT_DESIGN,
	OPT_GUEST_PERM,
	OPT_GUEST_CPUID,
	OPT_XCR0,
	OPT_VCPU_ID,
	OPT_SEED,
	OPT_REGISTERS,
};

struct capture_request {
	struct cli_source source;
	const char *out;
	int flavour;
	int design;
	bool amx;
	const char *guest_cpuid;
	bool set_xcr0;
	uint64_t xcr0;
	unsigned vcpu_id;
	uint32_t seed;
	enum vx_vmm_set_by set_by;
};

void cli_usage_kvm_capture(FILE *out)
{
	fputs("Usage: vxsave kvm capture [--out BUNDLE] [--host|--profile P|--cpuid-dump F]\n"
	      "                          [--flavour F] [--design D] [--guest-perm amx]\n"
	      "                          [--guest-cpuid FILE] [--xcr0 MASK] [--vcpu-id N]\n"
	      "                          [--seed N] [--registers guest|xsave]\n"
	      "\n"
	      "A vCPU bundle (docs/vmm.md \"Bundles\") from this machine's real /dev/kvm: a VM\n"
	      "and a vCPU set up as a VMM does (KVM_SET_CPUID2 of KVM_GET_SUPPORTED_CPUID,\n"
	      "KVM_SET_XCRS with the XCR0 it enables), known values set by a guest at CPL3\n"
	      "under KVM_RUN (x87 constants and control word, MXCSR, XMM, YMM, opmask/ZMM,\n"
	      "PKRU: each when the guest XCR0 has it), then saved as a VMM saves it\n"
	      "(KVM_GET_CPUID2, KVM_GET_XCRS, every MSR of KVM_GET_MSR_INDEX_LIST, ONE_REG,\n"
	      "KVM_GET_XSAVE2).\n"
	      "When the guest cannot run (KVM_RUN refused, an exception, an unexpected exit)\n"
	      "the values are loaded with KVM_SET_XSAVE instead and a note on standard error\n"
	      "says why; the bundle's \"capture\" object records which way it was\n"
	      "(\"registers_set_by\": \"guest\" or \"KVM_SET_XSAVE\").  With a CPU source option\n"
	      "the same calls go to the drop-in model of that host instead (no /dev/kvm\n"
	      "needed), whose KVM_RUN runs the equivalent guest program.\n"
	      "\n"
	      "Options:\n"
	      "      --out BUNDLE       write the bundle there (default: standard output)\n"
	      "      --host             the model of this machine's CPU\n"
	      "      --profile P        the model of a built-in profile (P,-feat derives one)\n"
	      "      --cpuid-dump F     the model of the CPU in a `cpuid -r` dump\n"
	      "      --cpu N            with --cpuid-dump: which CPU of the dump\n"
	      "      --flavour F        the model's KVM module: vmx, svm, pvm (default: the\n"
	      "                         vendor's; detected for --host)\n"
	      "      --design D         the model's CET_S design (default guest-only)\n"
	      "      --guest-perm amx   ARCH_REQ_XCOMP_GUEST_PERM(XTILE_DATA) first: AMX in the\n"
	      "                         CPUID, a KVM_CAP_XSAVE2-sized blob\n"
	      "      --guest-cpuid FILE the guest CPUID from a `cpuid -r` dump instead of\n"
	      "                         KVM_GET_SUPPORTED_CPUID\n"
	      "      --xcr0 MASK        the guest XCR0 (default: every bit the CPUID enables)\n"
	      "      --vcpu-id N        KVM_CREATE_VCPU's id (default 0)\n"
	      "      --seed N           the register values derive from N (default 1)\n"
	      "      --registers W      guest (default): set by a guest under KVM_RUN; xsave:\n"
	      "                         loaded with KVM_SET_XSAVE (every component of XCR0,\n"
	      "                         AMX tiles and APX included)\n"
	      "  -h, --help             show this help and exit\n"
	      "\n"
	      "Exit status: 0 the bundle was written (a fallback to KVM_SET_XSAVE included);\n"
	      "1 /dev/kvm missing or refusing (the message names the ioctl and errno), or an\n"
	      "unusable source; 2 usage error.\n",
	      out);
}

/* ----------------------------------------------------------------------------------------- */

static int take_option(struct capture_request *q, int opt, const char *arg)
{
	uint64_t v = 0;
	int d;

	switch (opt) {
	case OPT_OUT:
		q->out = arg;
		return CLI_EXIT_OK;
	case OPT_GUEST_CPUID:
		q->guest_cpuid = arg;
		return CLI_EXIT_OK;
	case OPT_GUEST_PERM:
		q->amx = strcmp(arg, "amx") == 0 || strcmp(arg, "18") == 0;
		return q->amx ? CLI_EXIT_OK
			      : cli_usage_error("kvm capture", "bad --guest-perm '%s' (amx)", arg);
	case OPT_FLAVOUR:
		q->flavour = vx_kvm_flavour_by_name(arg);
		return q->flavour >= 0
			   ? CLI_EXIT_OK
			   : cli_usage_error("kvm capture",
					     "unknown --flavour '%s' (vmx, svm, pvm)", arg);
	case OPT_DESIGN:
		d = vx_kvm_cet_design_by_name(arg);
		q->design = d;
		return d >= 0 ? CLI_EXIT_OK
			      : cli_usage_error("kvm capture", "unknown --design '%s'", arg);
	case OPT_REGISTERS:
		q->set_by =
		    strcmp(arg, "xsave") == 0 ? VX_VMM_SET_BY_KVM_SET_XSAVE : VX_VMM_SET_BY_GUEST;
		return strcmp(arg, "xsave") == 0 || strcmp(arg, "guest") == 0
			   ? CLI_EXIT_OK
			   : cli_usage_error("kvm capture", "bad --registers '%s' (guest, xsave)",
					     arg);
	case OPT_XCR0:
		q->set_xcr0 = true;
		return vx_parse_component_mask(arg, &q->xcr0, NULL) == 0
			   ? CLI_EXIT_OK
			   : cli_usage_error("kvm capture", "bad --xcr0 '%s'", arg);
	default:
		break;
	}
	if (vx_parse_u64(arg, strlen(arg), &v, NULL) != 0 ||
	    v > (opt == OPT_VCPU_ID ? 4095u : UINT32_MAX))
		return cli_usage_error("kvm capture", "bad number '%s'", arg);
	if (opt == OPT_VCPU_ID)
		q->vcpu_id = (unsigned)v;
	else
		q->seed = (uint32_t)v;
	return CLI_EXIT_OK;
}

static int parse(int argc, char **argv, struct capture_request *q)
{
	static const struct option options[] = {
	    CLI_SOURCE_LONG_OPTIONS,
	    {"out", required_argument, NULL, OPT_OUT},
	    {"flavour", required_argument, NULL, OPT_FLAVOUR},
	    {"design", required_argument, NULL, OPT_DESIGN},
	    {"guest-perm", required_argument, NULL, OPT_GUEST_PERM},
	    {"guest-cpuid", required_argument, NULL, OPT_GUEST_CPUID},
	    {"xcr0", required_argument, NULL, OPT_XCR0},
	    {"vcpu-id", required_argument, NULL, OPT_VCPU_ID},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"registers", required_argument, NULL, OPT_REGISTERS},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt, rc = 0;

	opterr = 0;
	optind = 0;
	while (!rc && (opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == 'h') {
			cli_usage_kvm_capture(stdout);
			return -1;
		}
		rc = cli_source_option(&q->source, "kvm capture", opt, optarg);
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (rc)
			return rc;
		if (opt == '?' || opt == ':')
			return cli_getopt_failure("kvm capture", opt, argc, argv);
		rc = take_option(q, opt, optarg);
	}
	if (!rc)
		rc = cli_extra_arguments("kvm capture", optind, argc, argv);
	if (!rc)
		rc = cli_source_finish(&q->source, "kvm capture");
	return rc;
}

/* ----------------------------------------------------------------------------------------- */

static int real_prctl(void *ctx, int option, unsigned long arg)
{
	(void)ctx;
	return (int)syscall(SYS_arch_prctl, option, arg);
}

static int model_prctl(void *ctx, int option, unsigned long arg)
{
	return vx_kvm_dev_arch_prctl(ctx, option, arg);
}

/* The model of the source host: a drop-in /dev/kvm booted on its profile. */
static int model_backend(const struct capture_request *q, const struct vx_profile *p,
			 struct vx_kvm_dev **dev, struct vx_kvm_backend *be, int *flavour)
{
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;
	enum vx_kvm_flavour detected;

	vx_kvm_dev_options_init(&o);
	o.profile = q->source.kind == CLI_SOURCE_HOST ? NULL : q->source.argument;
	*flavour = q->flavour;
	if (*flavour < 0 && q->source.kind == CLI_SOURCE_HOST &&
	    vx_kvm_detect_flavour(NULL, &detected) == 0)
		*flavour = (int)detected;
	if (*flavour < 0)
		*flavour = vx_profile_vendor(p) == VX_VENDOR_AMD ? VX_KVM_SVM : VX_KVM_VMX;
	o.flavour = *flavour;
	o.design = q->design >= 0 ? q->design : VX_KVM_CET_GUEST_ONLY;
	if (vx_kvm_dev_create(&o, dev, &err) != 0) {
		cli_vx_error("kvm capture: the model", &err);
		return CLI_EXIT_FAILURE;
	}
	vx_kvm_backend_model(be, *dev);
	return CLI_EXIT_OK;
}

static int guest_cpuid(const struct capture_request *q, struct vx_kvm_cpuid_entry *entries,
		       uint32_t *n)
{
	struct vx_profile guest;

	if (!q->guest_cpuid)
		return CLI_EXIT_OK;
	if (cli_source_load_spec(q->guest_cpuid, &guest) != CLI_EXIT_OK)
		return CLI_EXIT_FAILURE;
	*n = vx_vmm_guest_cpuid(&guest, entries, VX_KVM_MAX_CPUID_ENTRIES);
	if (*n > VX_KVM_MAX_CPUID_ENTRIES)
		*n = VX_KVM_MAX_CPUID_ENTRIES;
	return CLI_EXIT_OK;
}

static int write_out(const char *path, const struct vx_vmm_bundle *b)
{
	size_t n = vx_vmm_bundle_format(b, NULL, 0);
	char *text = malloc(n + 1);
	FILE *f = NULL;
	int ok = 0;

	if (text) {
		vx_vmm_bundle_format(b, text, n + 1);
		f = path ? fopen(path, "w") : stdout;
		ok = f && fwrite(text, 1, n, f) == n;
	}
	if (f && f != stdout)
		ok &= fclose(f) == 0;
	if (!ok)
		cli_error("kvm capture: cannot write '%s': %s", path ? path : "<stdout>",
			  strerror(errno));
	free(text);
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

struct capture_setup {
	struct vx_profile host;
	struct vx_kvm_dev *dev;
	struct vx_kvm_backend be;
	struct vx_kvm_cpuid_entry cpuid[VX_KVM_MAX_CPUID_ENTRIES];
	uint32_t ncpuid;
	char origin[160];
};

/* The drop-in model boots what it can name: a built-in profile, CPU 0 of a dump, the host. */
static int model_source_usable(const struct cli_source *source)
{
	if (source->kind == CLI_SOURCE_PROFILE && strchr(source->argument, ','))
		return cli_usage_error("kvm capture",
				       "the drop-in model boots built-in profiles by name, not "
				       "derived ones ('%s')",
				       source->argument);
	if (source->cpu_given && source->cpu_index != 0)
		return cli_usage_error("kvm capture", "the drop-in model boots CPU 0 of a dump");
	return CLI_EXIT_OK;
}

static int real_backend(struct capture_setup *s, struct vx_vmm_capture_options *o, int *flavour)
{
	struct cli_source host = {CLI_SOURCE_HOST, NULL, 0, false, NULL};
	enum vx_kvm_flavour detected;
	char why[160];

	if (!vx_kvm_real_available(why, sizeof(why))) {
		cli_error("kvm capture: %s (--profile NAME captures from the model instead)", why);
		return CLI_EXIT_FAILURE;
	}
	if (cli_source_load(&host, &s->host) != CLI_EXIT_OK)
		return CLI_EXIT_FAILURE;
	vx_kvm_backend_real(&s->be);
	o->arch_prctl = real_prctl;
	*flavour = vx_kvm_detect_flavour(NULL, &detected) == 0 ? (int)detected : -1;
	snprintf(s->origin, sizeof(s->origin), "vxsave kvm capture on this machine's /dev/kvm");
	return CLI_EXIT_OK;
}

/* The real /dev/kvm without a source option; else the model of the source. */
static int setup(const struct capture_request *q, struct capture_setup *s,
		 struct vx_vmm_capture_options *o)
{
	bool real = q->source.kind == CLI_SOURCE_DEFAULT;
	int flavour = -1, rc;

	vx_vmm_capture_options_init(o);
	if (real && (q->flavour >= 0 || q->design >= 0))
		return cli_usage_error("kvm capture", "--flavour and --design choose the model's "
						      "module: give a SOURCE (--host, --profile, "
						      "--cpuid-dump)");
	rc = real ? real_backend(s, o, &flavour) : model_source_usable(&q->source);
	if (!rc && !real)
		rc = cli_source_load(&q->source, &s->host);
	if (!rc && !real) {
		rc = model_backend(q, &s->host, &s->dev, &s->be, &flavour);
		o->arch_prctl = model_prctl;
		o->prctl_ctx = s->dev;
		o->host_by_name = q->source.kind == CLI_SOURCE_PROFILE;
		snprintf(s->origin, sizeof(s->origin), "vxsave kvm capture on the model of %s",
			 s->host.name);
	}
	if (!rc)
		rc = guest_cpuid(q, s->cpuid, &s->ncpuid);
	o->backend = &s->be;
	o->origin = s->origin;
	o->host = &s->host;
	o->flavour = flavour;
	/* The real kernel's design: Linux >= 6.17 keeps CET_S guest-only (kvm.md §6.4). */
	o->design = q->design >= 0 ? q->design : VX_KVM_CET_GUEST_ONLY;
	o->guest_perm_amx = q->amx;
	o->cpuid = q->guest_cpuid ? s->cpuid : NULL;
	o->ncpuid = s->ncpuid;
	o->set_xcr0 = q->set_xcr0;
	o->xcr0 = q->xcr0;
	o->vcpu_id = q->vcpu_id;
	o->seed = q->seed;
	o->set_by = q->set_by;
	/* The model's KVM_RUN runs the guest program capture gives it. */
	o->model = s->dev;
	return rc;
}

int cli_kvm_capture(int argc, char **argv)
{
	struct capture_request q = {CLI_SOURCE_INIT,	NULL, -1, -1, false, NULL, false, 0, 0, 1,
				    VX_VMM_SET_BY_GUEST};
	struct capture_setup *s = calloc(1, sizeof(*s));
	struct vx_vmm_bundle *b = malloc(sizeof(*b));
	struct vx_vmm_capture_options o;
	struct vx_error err = VX_ERROR_INIT;
	int rc = s && b ? parse(argc, argv, &q) : CLI_EXIT_FAILURE;

	if (!rc)
		rc = setup(&q, s, &o);
	if (!rc && vx_vmm_capture(&o, b, &err) != 0) {
		cli_vx_error("kvm capture", &err);
		/* The drop-in model knows why its ioctl failed: the rule it applied. */
		if (s->dev && vx_kvm_dev_last_error(s->dev)->code)
			cli_vx_error("kvm capture: the model", vx_kvm_dev_last_error(s->dev));
		rc = CLI_EXIT_FAILURE;
	}
	/* A guest was asked for and could not run: say so (the bundle records it too). */
	if (!rc && q.set_by == VX_VMM_SET_BY_GUEST &&
	    strcmp(b->registers_set_by, VX_VMM_SET_BY_GUEST_NAME) != 0)
		fprintf(stderr,
			"vxsave kvm capture: note: registers loaded with KVM_SET_XSAVE: %s\n",
			b->registers_note);
	if (!rc)
		rc = write_out(q.out, b);
	if (s && s->dev)
		vx_kvm_dev_destroy(s->dev);
	free(s);
	free(b);
	return rc < 0 ? CLI_EXIT_OK : rc;
}
