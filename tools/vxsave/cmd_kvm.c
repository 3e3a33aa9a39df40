/* SPDX-License-Identifier: MIT */
/*
 * `vxsave kvm`: the modelled KVM (kvm.h) as a VMM sees it.  `caps`, `cpuid` and `msrs` load
 * the module on a booted host and show its capability table with the reason for each feature
 * (and a vCPU's table after KVM_SET_CPUID2), KVM_GET_SUPPORTED_CPUID with leaf 0xD decoded, and
 * the MSR index list with where each XSAVE/CET MSR lives and whether the guest's accesses exit
 * (cmd_kvm_report.c).  `vxsave kvm SCRIPT` runs a script of cpu, fpu and kvm statements
 * (docs/kvm-script.md); with --real the VMM-side kvm statements go to this machine's /dev/kvm.
 * This file: options, the host, the script runner.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vxsave/fpu.h>

#include "cli.h"
#include "cmd_compat.h"
#include "cmd_cpu.h"
#include "cmd_kvm.h"
#include "cpu_script.h"
#include "fpu_script_internal.h"
#include "kvm_script.h"
#include "script_grammar.h"

enum kvm_option {
	OPT_DESIGN = CLI_OPT_FIRST_LOCAL,
	OPT_FLAVOUR,
	OPT_GUEST_CPUID,
	OPT_GUEST_PERM,
	OPT_EMULATED,
	OPT_NO_TDP,
	OPT_SMALLER_MAXPHYADDR,
	OPT_REAL,
	OPT_TRACE,
};

/* Which actions take an option (the rest refuse it with a usage error naming it). */
enum { ACT_CAPS = 1u, ACT_CPUID = 2u, ACT_MSRS = 4u, ACT_SCRIPT = 8u, ACT_REPORTS = 7u };

#define FLAVOUR_DETECT (-2)

static const struct {
	int opt;
	unsigned actions;
} option_actions[] = {
    {CLI_OPT_JSON, ACT_REPORTS}, {OPT_GUEST_CPUID, ACT_CAPS}, {OPT_GUEST_PERM, ACT_REPORTS},
    {OPT_EMULATED, ACT_CPUID},	 {OPT_NO_TDP, ACT_REPORTS},   {OPT_SMALLER_MAXPHYADDR, ACT_REPORTS},
    {OPT_REAL, ACT_SCRIPT},	 {OPT_TRACE, ACT_SCRIPT},     {'q', ACT_SCRIPT},
};

void cli_usage_kvm(FILE *out)
{
	fputs(
	    "Usage: vxsave kvm caps  [SOURCE] [--flavour F] [--design D] [--guest-cpuid "
	    "FILE|supported|none]\n"
	    "                        [--guest-perm amx|N] [--no-tdp] "
	    "[--allow-smaller-maxphyaddr] [--json]\n"
	    "       vxsave kvm cpuid [SOURCE] [--flavour F] [--design D] [--emulated] "
	    "[--guest-perm amx|N] [--json]\n"
	    "       vxsave kvm msrs  [SOURCE] [--flavour F] [--design D] [--json]\n"
	    "       vxsave kvm [SOURCE] [--flavour F] [--design D] [--real] [--trace] [--quiet] "
	    "SCRIPT|-\n"
	    "       vxsave kvm capture [--out BUNDLE] [SOURCE] ...  (vxsave kvm capture --help)\n"
	    "\n"
	    "The modelled KVM x86 6.18 (kvm.md) loaded on one CPU:\n"
	    "  caps   kvm_cpu_caps: every feature KVM knows with its CPUID bit, how KVM declares\n"
	    "         it (F, EMULATED_F...), whether it is supported and why; supported_xcr0/xss;\n"
	    "         the flavour's quirks.  --guest-cpuid: also a vCPU's table after\n"
	    "         KVM_SET_CPUID2 (feature, guest CPUID, KVM supports, effective, why).\n"
	    "  cpuid  KVM_GET_SUPPORTED_CPUID (--emulated: KVM_GET_EMULATED_CPUID) as 'cpuid -r'\n"
	    "         prints it, leaf 0xD decoded; the output is itself a valid --cpuid-dump.\n"
	    "  msrs   KVM_GET_MSR_INDEX_LIST and the feature list, then for each XSAVE/CET MSR a\n"
	    "         vCPU with the supported CPUID: host and guest access, VM exit or not,\n"
	    "         where the value lives in this CET_S design, the kvm.md §3.2 rule.\n"
	    "  capture  a vCPU state bundle from this machine's /dev/kvm (with SOURCE: from the\n"
	    "         model of that host), as a VMM saves one (docs/vmm.md).\n"
	    "\n"
	    "With a SCRIPT: run a script of cpu, fpu and kvm statements (docs/kvm-script.md):\n"
	    "load the module, create VMs and vCPUs, set CPUID, XCR0, CRs, MSRs, ONE_REG and\n"
	    "XSAVE images, write guest programs, run them on the fpu machine's CPUs with\n"
	    "preemption and migration, and expect results, registers, exits, guest events and\n"
	    "the CET_S design's counters.  --real sends the VMM-side kvm statements to this\n"
	    "machine's /dev/kvm instead; statements that need the model are refused.\n"
	    "\n",
	    out);
	cli_source_usage(out);
	fputs("\n"
	      "Options:\n"
	      "      --flavour F      vmx (kvm_intel), svm (kvm_amd), pvm (kvm_pvm, the\n"
	      "                       paravirtual module of the development machines), or\n"
	      "                       detect (what /sys/module shows); default: vmx on Intel,\n"
	      "                       svm on AMD\n"
	      "      --design D       where guest CET supervisor state lives: unsupported,\n"
	      "                       all-tasks, guest-only (default), kvm-eager, kvm-lazy,\n"
	      "                       kvm-user-return (docs/kvm.md)\n"
	      "      --guest-cpuid X  caps: a vCPU's table after KVM_SET_CPUID2 of X: a file in\n"
	      "                       'cpuid -r' format, supported, or none\n"
	      "      --guest-perm P   ARCH_REQ_XCOMP_GUEST_PERM of xfeature P (amx = 18) by the\n"
	      "                       VMM first (caps, cpuid, msrs)\n"
	      "      --emulated       cpuid: KVM_GET_EMULATED_CPUID\n"
	      "      --no-tdp         the module without EPT/NPT (SHSTK needs TDP)\n"
	      "      --allow-smaller-maxphyaddr\n"
	      "                       the module parameter (clears SHSTK and IBT)\n"
	      "      --json           caps, cpuid, msrs: one JSON object\n"
	      "      --real           SCRIPT: the VMM side on the real /dev/kvm\n"
	      "      --trace          SCRIPT: print every statement before it runs\n"
	      "  -q, --quiet          SCRIPT: print only what print asks for and errors\n"
	      "  -h, --help           show this help and exit\n"
	      "\n"
	      "kvm statements:\n",
	      out);
	sg_print_statements(out, &kvm_script_table);
	fputs("\nExit status: 0 success (every expectation held); 1 script error (FILE:LINE:\n"
	      "reason), failed expectation, unusable CPU source or /dev/kvm; 2 usage error.\n",
	      out);
}

/* ----------------------------------------------------------------------------------------- */
/* Options                                                                                      */

static int parse_design(struct kvm_request *request, const char *text)
{
	int design = vx_kvm_cet_design_by_name(text);

	if (design < 0)
		return cli_usage_error("kvm",
				       "unknown --design '%s' (unsupported, all-tasks, guest-only, "
				       "kvm-eager, kvm-lazy, kvm-user-return)",
				       text);
	request->design = (enum vx_kvm_cet_design)design;
	return 0;
}

static int parse_flavour(struct kvm_request *request, const char *text)
{
	int flavour = vx_kvm_flavour_by_name(text);

	if (strcmp(text, "detect") == 0)
		flavour = FLAVOUR_DETECT;
	else if (flavour < 0)
		return cli_usage_error("kvm", "unknown --flavour '%s' (vmx, svm, pvm, detect)",
				       text);
	request->flavour = flavour;
	return 0;
}

/* amx (XTILE_DATA, 18) or an xfeature number below 64. */
static int parse_guest_perm(struct kvm_request *request, const char *text)
{
	uint64_t value;

	if (strcmp(text, "amx") == 0)
		value = VX_ARCH_XCOMP_TILEDATA;
	else if (vx_parse_u64(text, strlen(text), &value, NULL) != 0 || value > 63)
		return cli_usage_error(
		    "kvm", "bad --guest-perm '%s' (amx, or an xfeature number 0-63)", text);
	request->guest_perm = (int)value;
	return 0;
}

static const char *action_name(unsigned action)
{
	return action == ACT_CAPS    ? "kvm caps"
	       : action == ACT_CPUID ? "kvm cpuid"
	       : action == ACT_MSRS  ? "kvm msrs"
				     : "kvm SCRIPT";
}

/* An option the action does not take is a usage error naming both. */
static int check_option_action(int opt, unsigned action, const char *word)
{
	for (size_t i = 0; i < sizeof(option_actions) / sizeof(option_actions[0]); i++)
		if (option_actions[i].opt == opt && !(option_actions[i].actions & action))
			return cli_usage_error("kvm", "%s is not an option of '%s'", word,
					       action_name(action));
	return 0;
}

static int take_option(struct kvm_request *request, int opt, const char *arg)
{
	switch (opt) {
	case OPT_DESIGN:
		return parse_design(request, arg);
	case OPT_FLAVOUR:
		return parse_flavour(request, arg);
	case OPT_GUEST_PERM:
		return parse_guest_perm(request, arg);
	case OPT_GUEST_CPUID:
		request->guest_cpuid = arg;
		return 0;
	default:
		break;
	}
	request->json |= opt == CLI_OPT_JSON;
	request->emulated |= opt == OPT_EMULATED;
	request->no_tdp |= opt == OPT_NO_TDP;
	request->allow_smaller_maxphyaddr |= opt == OPT_SMALLER_MAXPHYADDR;
	request->real |= opt == OPT_REAL;
	request->trace |= opt == OPT_TRACE;
	request->quiet |= opt == 'q';
	return 0;
}

static int parse_options(int argc, char **argv, struct kvm_request *request, unsigned action)
{
	static const struct option options[] = {
	    CLI_SOURCE_LONG_OPTIONS,
	    {"design", required_argument, NULL, OPT_DESIGN},
	    {"flavour", required_argument, NULL, OPT_FLAVOUR},
	    {"guest-cpuid", required_argument, NULL, OPT_GUEST_CPUID},
	    {"guest-perm", required_argument, NULL, OPT_GUEST_PERM},
	    {"emulated", no_argument, NULL, OPT_EMULATED},
	    {"no-tdp", no_argument, NULL, OPT_NO_TDP},
	    {"allow-smaller-maxphyaddr", no_argument, NULL, OPT_SMALLER_MAXPHYADDR},
	    {"json", no_argument, NULL, CLI_OPT_JSON},
	    {"real", no_argument, NULL, OPT_REAL},
	    {"trace", no_argument, NULL, OPT_TRACE},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt, rc, index = 0;
	char word[48];

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hq", options, &index)) != -1) {
		if (opt == 'h') {
			cli_usage_kvm(stdout);
			return -1;
		}
		rc = cli_source_option(&request->source, "kvm", opt, optarg);
		if (rc == 1)
			continue;
		if (rc)
			return rc;
		if (opt == '?' || opt == ':')
			return cli_getopt_failure("kvm", opt, argc, argv);
		snprintf(word, sizeof(word), "--%s", opt == 'q' ? "quiet" : options[index].name);
		rc = check_option_action(opt, action, word);
		if (!rc)
			rc = take_option(request, opt, optarg);
		if (rc)
			return rc;
	}
	if (action == ACT_SCRIPT && optind < argc)
		request->script = argv[optind++];
	if (optind < argc)
		return cli_extra_arguments("kvm", optind, argc, argv);
	return cli_source_finish(&request->source, "kvm");
}

/* ----------------------------------------------------------------------------------------- */
/* The host                                                                                     */

const char *cli_kvm_flavour_label(enum vx_kvm_flavour flavour)
{
	static const char *const labels[VX_KVM_FLAVOUR_COUNT] = {"vmx (kvm_intel)", "svm (kvm_amd)",
								 "pvm (kvm_pvm)"};

	return (unsigned)flavour < VX_KVM_FLAVOUR_COUNT ? labels[flavour] : "?";
}

/* The flavour to load: the option, what /sys/module shows, or the vendor's; -1 on error. */
static int resolve_flavour(const struct kvm_request *request, const struct vx_profile *profile,
			   int *flavour)
{
	enum vx_kvm_flavour detected;
	enum vx_vendor vendor = vx_profile_vendor(profile);

	*flavour = request->flavour;
	if (*flavour == FLAVOUR_DETECT && vx_kvm_detect_flavour(NULL, &detected) != 0) {
		cli_error("kvm: --flavour detect: no KVM vendor module (kvm_pvm, kvm_intel, "
			  "kvm_amd) under /sys/module");
		return CLI_EXIT_FAILURE;
	}
	if (*flavour == FLAVOUR_DETECT)
		*flavour = (int)detected;
	if (*flavour < 0)
		*flavour = vendor == VX_VENDOR_AMD ? VX_KVM_SVM : VX_KVM_VMX;
	/* kvm_intel needs VMX (Intel), kvm_amd needs SVM (AMD); kvm_pvm runs on either. */
	if ((*flavour == VX_KVM_VMX && vendor == VX_VENDOR_AMD) ||
	    (*flavour == VX_KVM_SVM && vendor == VX_VENDOR_INTEL))
		return cli_usage_error(
		    "kvm", "--flavour %s does not fit the %s CPU %s (use %s or pvm)",
		    vx_kvm_flavour_name((enum vx_kvm_flavour) * flavour), vx_vendor_name(vendor),
		    profile->name[0] ? profile->name : "", vendor == VX_VENDOR_AMD ? "svm" : "vmx");
	return CLI_EXIT_OK;
}

static int host_fail(struct kvm_host *host, const char *what, const struct vx_error *err)
{
	cli_vx_error(what, err);
	cli_kvm_host_down(host);
	return CLI_EXIT_FAILURE;
}

/* The machine, the VMM process on CPU 0, and its guest permission request. */
static int host_vmm(const struct kvm_request *request, struct kvm_host *host)
{
	struct vx_error err = VX_ERROR_INIT;
	uint64_t user = 0;

	if (vx_fpu_machine_create(host->sys, 2, &host->machine, &err) < 0)
		return host_fail(host, "kvm: fpu machine", &err);
	if (vx_fpu_process_create(host->machine, &host->vmm, &err) < 0 ||
	    vx_fpu_task_schedule(host->vmm, 0, &err) < 0)
		return host_fail(host, "kvm: the VMM process", &err);
	if (request->guest_perm >= 0 &&
	    vx_fpu_arch_prctl(host->vmm, VX_ARCH_REQ_XCOMP_GUEST_PERM,
			      (uint64_t)request->guest_perm, &user, &err) < 0) {
		char result[32];

		fs_format_result(result, sizeof(result), err.code);
		cli_error("kvm: --guest-perm %d: arch_prctl(ARCH_REQ_XCOMP_GUEST_PERM) = %s (%s)",
			  request->guest_perm, result, err.reason);
		cli_kvm_host_down(host);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

int cli_kvm_host_up(const struct kvm_request *request, struct kvm_host *host)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_config config;
	struct vx_kvm_options options;
	int flavour, rc;

	memset(host, 0, sizeof(*host));
	rc = cli_source_load(&request->source, &host->profile);
	if (!rc)
		rc = resolve_flavour(request, &host->profile, &flavour);
	if (rc)
		return rc;
	vx_fpu_config_init(&config);
	config.cet_design = vx_kvm_cet_design_fpu(request->design);
	if (vx_fpu_system_create(&host->profile, &config, &host->sys, &err) < 0)
		return host_fail(host, "kvm: fpu boot", &err);
	rc = host_vmm(request, host);
	if (rc)
		return rc;
	vx_kvm_options_init(&options, (enum vx_kvm_flavour)flavour);
	options.design = request->design;
	options.tdp = !request->no_tdp;
	options.allow_smaller_maxphyaddr = request->allow_smaller_maxphyaddr;
	if (vx_kvm_create(host->machine, &options, &host->kvm, &err) < 0)
		return host_fail(host, "kvm: module", &err);
	return CLI_EXIT_OK;
}

void cli_kvm_host_down(struct kvm_host *host)
{
	vx_kvm_destroy(host->kvm);
	vx_fpu_machine_destroy(host->machine);
	vx_fpu_system_destroy(host->sys);
	host->kvm = NULL;
	host->machine = NULL;
	host->sys = NULL;
}

/* ----------------------------------------------------------------------------------------- */
/* vxsave kvm SCRIPT                                                                            */

static void print_summary(const struct kvm_request *request, const char *name,
			  const struct cpu_script_summary *summary,
			  const struct vx_profile *profile)
{
	printf("%s: %u statement%s, %u operation%s (%u faulted), %u expectation%s held on %s%s\n",
	       name, summary->statements, summary->statements == 1 ? "" : "s",
	       summary->instructions, summary->instructions == 1 ? "" : "s", summary->faults,
	       summary->expectations, summary->expectations == 1 ? "" : "s",
	       profile->name[0] ? profile->name : "(unnamed)",
	       request->real ? " (VMM side on the real /dev/kvm)" : "");
}

static int run_parsed(const struct kvm_request *request, const char *name,
		      struct cpu_script *script, const struct cpu_script_options *options,
		      const struct vx_profile *profile)
{
	struct cpu_script_summary summary;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cpu *cpu = NULL;
	int rc;

	if (vx_cpu_create(profile, NULL, &cpu, &err) < 0) {
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
		print_summary(request, name, &summary, profile);
	return CLI_EXIT_OK;
}

static int run_script(const struct kvm_request *request, const struct vx_profile *profile,
		      int flavour)
{
	struct fpu_script_context fpu = {0};
	struct kvm_script_context kvm = {0};
	struct cpu_script_extension extensions[2] = {{&fpu_script_table, &fpu},
						     {&kvm_script_table, &kvm}};
	struct cpu_script_options options = {.extensions = extensions, .extension_count = 2};
	struct vx_error err = VX_ERROR_INIT;
	struct cpu_script *script = NULL;
	const char *name = strcmp(request->script, "-") == 0 ? "<stdin>" : request->script;
	size_t length = 0;
	char *text = cli_read_script(request->script, &length);
	int rc;

	if (!text)
		return CLI_EXIT_FAILURE;
	fpu.profile = profile;
	vx_fpu_config_init(&fpu.config);
	fpu.config.cet_design = vx_kvm_cet_design_fpu(request->design);
	kvm.fpu = &fpu;
	kvm.script = name;
	kvm.design = request->design;
	kvm.flavour = flavour;
	kvm.real = request->real;
	kvm.sys_fd = -1;
	options.trace = request->trace;
	options.quiet = request->quiet;
	options.out = stdout;
	rc = cpu_script_parse(text, length, &options, &script, &err);
	free(text);
	if (rc < 0) {
		cli_report_script_error(name, &err);
		return CLI_EXIT_FAILURE;
	}
	rc = run_parsed(request, name, script, &options, profile);
	kvm_script_context_clear(&kvm);
	fpu_script_context_clear(&fpu);
	cpu_script_free(script);
	return rc;
}

static int cmd_kvm_script(int argc, char **argv)
{
	struct kvm_request request = {.source = CLI_SOURCE_INIT, .flavour = -1, .guest_perm = -1};
	struct vx_profile profile;
	int flavour, rc;

	request.design = VX_KVM_CET_GUEST_ONLY;
	rc = parse_options(argc, argv, &request, ACT_SCRIPT);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (!request.script)
		return cli_usage_error("kvm", "no script: give caps, cpuid, msrs, SCRIPT or -");
	/* `vxsave kvm cap`: neither an action nor a script file */
	if (strcmp(request.script, "-") != 0 && access(request.script, F_OK) != 0)
		return cli_usage_error("kvm",
				       "unknown action '%s' (caps, cpuid, msrs) and no such script "
				       "file",
				       request.script);
	/* --real: the cpu and fpu statements default to the CPU the real KVM runs on. */
	if (request.real && request.source.kind == CLI_SOURCE_DEFAULT)
		request.source.kind = CLI_SOURCE_HOST;
	rc = cli_source_load(&request.source, &profile);
	if (!rc)
		rc = resolve_flavour(&request, &profile, &flavour);
	if (rc)
		return rc;
	return run_script(&request, &profile, flavour);
}

/* ----------------------------------------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned action;
	int (*run)(const struct kvm_request *request);
} actions[] = {
    {"caps", ACT_CAPS, cli_kvm_caps},
    {"cpuid", ACT_CPUID, cli_kvm_cpuid},
    {"msrs", ACT_MSRS, cli_kvm_msrs},
};

int cli_cmd_kvm(int argc, char **argv)
{
	struct kvm_request request = {.source = CLI_SOURCE_INIT, .flavour = -1, .guest_perm = -1};
	int rc;

	if (argc < 2)
		return cli_usage_error("kvm", "missing action (caps, cpuid, msrs) or SCRIPT");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cli_usage_kvm(stdout);
		return CLI_EXIT_OK;
	}
	/* `vxsave kvm capture` has options of its own (cmd_kvm_capture.c, issue 10). */
	if (strcmp(argv[1], "capture") == 0)
		return cli_kvm_capture(argc - 1, argv + 1);
	request.design = VX_KVM_CET_GUEST_ONLY;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(argv[1], actions[i].name) != 0)
			continue;
		request.action = actions[i].name;
		rc = parse_options(argc - 1, argv + 1, &request, actions[i].action);
		if (rc)
			return rc < 0 ? CLI_EXIT_OK : rc;
		return actions[i].run(&request);
	}
	return cmd_kvm_script(argc, argv);
}
