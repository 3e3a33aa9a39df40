/* SPDX-License-Identifier: MIT */
/*
 * `vxsave fpu boot`: boot the modelled Linux FPU framework on one CPU with one CET_S design and
 * show what the kernel would: its `x86/fpu:` boot log (comparable line by line with dmesg), the
 * kernel/user/guest configurations, what every CPU is programmed with, and the memory per thread
 * (linux-fpu.md §2).  Text or JSON with the same numbers.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vxsave/fpu.h>

#include "cli.h"
#include "cmd_cpu.h"
#include "cmd_fpu.h"
#include "cpu_script.h"
#include "fpu_script.h"
#include "json_output.h"
#include "script_grammar.h"
#include "source.h"

enum fpu_option { OPT_DESIGN = CLI_OPT_FIRST_LOCAL, OPT_TRACE };

/* ALIGN(offsetof(struct fpstate, regs), 64): the fpstate header before the image (§5.3, §6). */
#define FPSTATE_HEADER_BYTES 64u

struct fpu_request {
	struct cli_source source;
	struct vx_fpu_config config;
	bool json;
	bool trace;
	bool quiet;
	const char *script; /* `vxsave fpu SCRIPT` */
};

void cli_usage_fpu(FILE *out)
{
	fputs("Usage: vxsave fpu boot [SOURCE] [--design DESIGN] [--json]\n"
	      "       vxsave fpu [SOURCE] [--design DESIGN] [--trace] [--quiet] SCRIPT|-\n"
	      "\n"
	      "Boot the modelled Linux FPU framework (6.17-6.18) on one CPU: print the kernel's\n"
	      "'x86/fpu:' boot log exactly as dmesg shows it (without timestamps), then the\n"
	      "kernel/user/guest configurations (max and default features and sizes), the XCR0,\n"
	      "IA32_XSS and IA32_XFD values every CPU is programmed with, init_fpstate, and the\n"
	      "FPU memory per host thread and per vCPU.  A CPU on which the kernel turns XSAVE\n"
	      "off shows the kernel's message and the legacy sizes.\n"
	      "\n"
	      "With a SCRIPT: run a cpu script (docs/cpu-script.md) that may also use the fpu\n"
	      "statements below (docs/fpu-script.md): boot a machine, create processes and\n"
	      "tasks, switch them on and off CPUs, kernel FPU sections, arch_prctl and\n"
	      "sigaltstack, user-mode use of components and registers (#NM, realloc, SIGILL),\n"
	      "signal frames and sigreturn, ptrace regsets, guest fpstates; print and expect\n"
	      "fpstates, registers, buffers and results.  Cpu statements run on a processor\n"
	      "of their own.\n"
	      "\n",
	      out);
	cli_source_usage(out);
	fputs("\n"
	      "Options:\n"
	      "      --design DESIGN  where CET supervisor state (CET_S) lives:\n"
	      "                       unsupported  the kernel before the CET_S series\n"
	      "                       all-tasks    CET_S in every task's default features\n"
	      "                       guest-only   in IA32_XSS and guest fpstates only (default;\n"
	      "                                    the merged 6.17+ design)\n"
	      "      --json           print one JSON object instead of the text (boot)\n"
	      "      --trace          print every statement before it runs (SCRIPT)\n"
	      "  -q, --quiet          print only what print/echo ask for and errors (SCRIPT)\n"
	      "  -h, --help           show this help and exit\n"
	      "\n"
	      "fpu statements:\n",
	      out);
	sg_print_statements(out, &fpu_script_table);
	fputs("\nExit status: 0 success (every expectation held); 1 script error\n"
	      "(FILE:LINE: reason), failed expectation or unusable CPU source; 2 usage error.\n",
	      out);
}

static int parse_design(struct fpu_request *request, const char *text)
{
	int design = vx_fpu_cet_design_by_name(text);

	if (design < 0)
		return cli_usage_error("fpu",
				       "unknown --design '%s' (unsupported, all-tasks, "
				       "guest-only)",
				       text);
	request->config.cet_design = (enum vx_fpu_cet_design)design;
	return 0;
}

static int parse_fpu_options(int argc, char **argv, struct fpu_request *request, bool script)
{
	static const struct option options[] = {
	    CLI_SOURCE_LONG_OPTIONS,
	    {"design", required_argument, NULL, OPT_DESIGN},
	    {"json", no_argument, NULL, CLI_OPT_JSON},
	    {"trace", no_argument, NULL, OPT_TRACE},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hq", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			cli_usage_fpu(stdout);
			return -1;
		case OPT_DESIGN:
			rc = parse_design(request, optarg);
			if (rc)
				return rc;
			break;
		case CLI_OPT_JSON:
		case OPT_TRACE:
		case 'q':
			if ((opt == CLI_OPT_JSON) == script)
				return cli_usage_error("fpu", "%s is for %s", argv[optind - 1],
						       script ? "fpu boot" : "scripts");
			request->json |= opt == CLI_OPT_JSON;
			request->trace |= opt == OPT_TRACE;
			request->quiet |= opt == 'q';
			break;
		default:
			rc = cli_source_option(&request->source, "fpu", opt, optarg);
			if (rc == 1)
				break;
			return rc ? rc : cli_getopt_failure("fpu", opt, argc, argv);
		}
	}
	if (script && optind < argc)
		request->script = argv[optind++];
	if (script && !request->script)
		return cli_usage_error("fpu", "no script: give SCRIPT or -");
	/* `vxsave fpu reboot`: neither the boot action nor a script file */
	if (script && strcmp(request->script, "-") != 0 && access(request->script, F_OK) != 0)
		return cli_usage_error("fpu", "unknown action '%s' (boot) and no such script file",
				       request->script);
	if (optind < argc)
		return cli_extra_arguments("fpu", optind, argc, argv);
	return cli_source_finish(&request->source, "fpu");
}

/* ----------------------------------------------------------------------------------------- */
/* Text                                                                                         */

static void print_log(const struct vx_fpu_system *sys)
{
	unsigned count = vx_fpu_boot_log_count(sys);

	printf("Boot log (as dmesg prints it)\n");
	for (unsigned i = 0; i < count; i++)
		printf("  %s\n", vx_fpu_boot_log_line(sys, i)->text);
	if (count == 0)
		printf("  (no x86/fpu lines)\n");
}

static void print_config_row(const char *name, uint64_t max, uint32_t max_size, uint64_t defaults,
			     uint32_t default_size)
{
	char max_hex[24], default_hex[24];

	cli_format_hex(max_hex, sizeof(max_hex), max);
	cli_format_hex(default_hex, sizeof(default_hex), defaults);
	printf("  %-6s  %-12s  %9u  %-16s  %13u\n", name, max_hex, max_size, default_hex,
	       default_size);
}

/* "  kernel max       0x61ee7   x87|SSE|...", wrapped at 100 columns after a '|'. */
static void print_mask_line(const char *label, uint64_t mask)
{
	char names[256], hex[24], first[64];

	cli_format_hex(hex, sizeof(hex), mask);
	snprintf(first, sizeof(first), "  %-16s %-9s ", label, hex);
	cli_print_wrapped(stdout, first, "                             ",
			  mask ? cli_mask_names(mask, names, sizeof(names)) : "(none)", '|');
}

/* The guest has no max of its own: guest fpstates grow within the kernel max (§2.1). */
static void print_configs(const struct vx_fpu_system *sys)
{
	const struct vx_fpu_state_config *kernel = vx_fpu_kernel_cfg(sys);
	const struct vx_fpu_state_config *user = vx_fpu_user_cfg(sys);
	const struct vx_fpu_guest_config *guest = vx_fpu_guest_cfg(sys);

	printf("\nConfigurations\n");
	printf("  config  max features  max bytes  default features  default bytes\n");
	printf("  ------  ------------  ---------  ----------------  -------------\n");
	print_config_row("kernel", kernel->max_features, kernel->max_size, kernel->default_features,
			 kernel->default_size);
	print_config_row("user", user->max_features, user->max_size, user->default_features,
			 user->default_size);
	print_config_row("guest", kernel->max_features, kernel->max_size, guest->features,
			 guest->size);
	printf("\n");
	print_mask_line("kernel max", kernel->max_features);
	print_mask_line("kernel default", kernel->default_features);
	print_mask_line("guest default", guest->features);
	print_mask_line("user max", user->max_features);
	print_mask_line("legacy", user->legacy_features);
	print_mask_line("independent", kernel->independent_features);
}

static void print_msr_line(const char *label, bool written, uint64_t value, const char *why)
{
	if (written)
		print_mask_line(label, value);
	else
		printf("  %-16s (not written: %s)\n", label, why);
}

static void print_setup(const struct vx_fpu_system *sys)
{
	const struct vx_fpu_cpu_setup *setup = vx_fpu_cpu_setup(sys);
	const struct vx_fpu_insns *insns = vx_fpu_insns(sys);
	uint32_t init_size;
	uint64_t init_features, init_xfd;

	vx_fpu_init_fpstate(sys, &init_size, &init_features, &init_xfd);
	printf("\nEvery CPU (fpu__init_cpu_xstate)\n");
	printf("  %-16s %s\n", "CR4.OSXSAVE", setup->osxsave ? "1" : "0 (XSAVE not used)");
	if (setup->osxsave) {
		print_msr_line("IA32_XFD", setup->write_xfd, setup->xfd, "no XFD");
		print_mask_line("XCR0", setup->xcr0);
		print_msr_line("IA32_XSS", setup->write_xss, setup->xss, "no XSAVES");
		printf("  %-16s %s / %s, %s format\n", "save/restore", vx_insn_name(insns->save),
		       vx_insn_name(insns->restore), insns->compacted ? "compacted" : "standard");
	} else {
		printf("  %-16s FXSAVE / FXRSTOR\n", "save/restore");
	}
	printf("  %-16s %u bytes, xfeatures 0x%llx, xfd 0x%llx\n", "init_fpstate", init_size,
	       (unsigned long long)init_features, (unsigned long long)init_xfd);
}

static void print_memory(const struct vx_fpu_system *sys)
{
	const struct vx_fpu_state_config *kernel = vx_fpu_kernel_cfg(sys);
	const struct vx_fpu_state_config *user = vx_fpu_user_cfg(sys);
	uint32_t guest_size = vx_fpu_guest_cfg(sys)->size;

	printf("\nMemory\n");
	printf("  %-24s %6u bytes  fpu_kernel_cfg.default_size\n", "fpstate per host thread",
	       kernel->default_size);
	printf("  %-24s %6u bytes  guest_default_cfg.size %u + %u-byte fpstate header\n",
	       "guest fpstate per vCPU", guest_size + FPSTATE_HEADER_BYTES, guest_size,
	       FPSTATE_HEADER_BYTES);
	printf("  %-24s %6u bytes  user max %u + MAGIC2 + fsave header\n", "signal frame FPU part",
	       vx_fpu_sigframe_fpstate_size(sys), user->max_size);
}

static void print_text(const struct vx_fpu_system *sys)
{
	const struct vx_profile *profile = vx_fpu_system_profile(sys);

	printf("FPU boot on %s, CET_S design %s: XSAVE %s\n\n",
	       profile->name[0] ? profile->name : "(unnamed)",
	       vx_fpu_cet_design_name(vx_fpu_system_config(sys)->cet_design),
	       vx_fpu_xsave_status_name(vx_fpu_xsave_status(sys)));
	print_log(sys);
	print_configs(sys);
	print_setup(sys);
	print_memory(sys);
}

/* ----------------------------------------------------------------------------------------- */
/* JSON                                                                                         */

static const char *const level_names[] = {"info", "warning", "error"};

static json_t *json_log(const struct vx_fpu_system *sys)
{
	json_t *lines = json_array();

	for (unsigned i = 0; i < vx_fpu_boot_log_count(sys); i++) {
		const struct vx_fpu_log_line *line = vx_fpu_boot_log_line(sys, i);
		json_t *entry = json_object();

		cli_json_set(entry, "level", json_string(level_names[line->level]));
		cli_json_set(entry, "text", json_string(line->text));
		json_array_append_new(lines, entry);
	}
	return lines;
}

static json_t *json_config(uint64_t max, uint32_t max_size, uint64_t defaults,
			   uint32_t default_size)
{
	json_t *object = json_object();

	cli_json_set(object, "max_features", cli_json_mask(max));
	cli_json_set(object, "max_size", json_integer(max_size));
	cli_json_set(object, "default_features", cli_json_mask(defaults));
	cli_json_set(object, "default_size", json_integer(default_size));
	return object;
}

static json_t *json_configs(const struct vx_fpu_system *sys)
{
	const struct vx_fpu_state_config *kernel = vx_fpu_kernel_cfg(sys);
	const struct vx_fpu_state_config *user = vx_fpu_user_cfg(sys);
	const struct vx_fpu_guest_config *guest = vx_fpu_guest_cfg(sys);
	json_t *object = json_object(), *entry;

	entry = json_config(kernel->max_features, kernel->max_size, kernel->default_features,
			    kernel->default_size);
	cli_json_set(entry, "independent_features", cli_json_mask(kernel->independent_features));
	cli_json_set(object, "kernel", entry);
	entry = json_config(user->max_features, user->max_size, user->default_features,
			    user->default_size);
	cli_json_set(entry, "legacy_features", cli_json_mask(user->legacy_features));
	cli_json_set(object, "user", entry);
	cli_json_set(
	    object, "guest",
	    json_config(kernel->max_features, kernel->max_size, guest->features, guest->size));
	return object;
}

static json_t *json_setup(const struct vx_fpu_system *sys)
{
	const struct vx_fpu_cpu_setup *setup = vx_fpu_cpu_setup(sys);
	const struct vx_fpu_insns *insns = vx_fpu_insns(sys);
	json_t *object = json_object();

	cli_json_set(object, "osxsave", json_boolean(setup->osxsave));
	cli_json_set(object, "xfd", setup->write_xfd ? cli_json_hex(setup->xfd) : NULL);
	cli_json_set(object, "xcr0", setup->osxsave ? cli_json_hex(setup->xcr0) : NULL);
	cli_json_set(object, "xss", setup->write_xss ? cli_json_hex(setup->xss) : NULL);
	cli_json_set(object, "format",
		     json_string(!insns->xsave	    ? "fxsave"
				 : insns->compacted ? "compacted"
						    : "standard"));
	cli_json_set(object, "save",
		     json_string(insns->xsave ? vx_insn_name(insns->save) : "FXSAVE64"));
	cli_json_set(object, "restore",
		     json_string(insns->xsave ? vx_insn_name(insns->restore) : "FXRSTOR64"));
	return object;
}

static json_t *json_memory(const struct vx_fpu_system *sys)
{
	uint32_t size, guest_size = vx_fpu_guest_cfg(sys)->size;
	uint64_t features, xfd;
	json_t *object = json_object(), *init = json_object();

	vx_fpu_init_fpstate(sys, &size, &features, &xfd);
	cli_json_set(init, "size", json_integer(size));
	cli_json_set(init, "xfeatures", cli_json_hex(features));
	cli_json_set(init, "xfd", cli_json_hex(xfd));
	cli_json_set(object, "init_fpstate", init);
	cli_json_set(object, "host_thread_fpstate_bytes",
		     json_integer(vx_fpu_kernel_cfg(sys)->default_size));
	cli_json_set(object, "vcpu_guest_fpstate_bytes",
		     json_integer(guest_size + FPSTATE_HEADER_BYTES));
	cli_json_set(object, "sigframe_fpstate_bytes",
		     json_integer(vx_fpu_sigframe_fpstate_size(sys)));
	return object;
}

/* A profile name from a dump may hold any bytes: keep it printable ASCII. */
static json_t *json_ascii(const char *text)
{
	char clean[VX_PROFILE_NAME_MAX];
	size_t i;

	for (i = 0; text[i] && i + 1 < sizeof(clean); i++)
		clean[i] = (char)((text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : '?');
	clean[i] = '\0';
	return json_string(clean);
}

static json_t *json_boot(const struct vx_fpu_system *sys)
{
	json_t *root = json_object();

	cli_json_set(root, "profile", json_ascii(vx_fpu_system_profile(sys)->name));
	cli_json_set(root, "design",
		     json_string(vx_fpu_cet_design_name(vx_fpu_system_config(sys)->cet_design)));
	cli_json_set(root, "xsave",
		     json_string(vx_fpu_xsave_status_name(vx_fpu_xsave_status(sys))));
	cli_json_set(root, "log", json_log(sys));
	cli_json_set(root, "configs", json_configs(sys));
	cli_json_set(root, "cpu_setup", json_setup(sys));
	cli_json_set(root, "memory", json_memory(sys));
	return root;
}

/* ----------------------------------------------------------------------------------------- */

static int cmd_fpu_boot(int argc, char **argv)
{
	struct fpu_request request = {.source = CLI_SOURCE_INIT};
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_system *sys;
	struct vx_profile profile;
	int rc;

	vx_fpu_config_init(&request.config);
	rc = parse_fpu_options(argc, argv, &request, false);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	rc = cli_source_load(&request.source, &profile);
	if (rc)
		return rc;
	if (vx_fpu_system_create(&profile, &request.config, &sys, &err) < 0) {
		cli_vx_error("fpu boot", &err);
		return CLI_EXIT_FAILURE;
	}
	if (request.json)
		rc = cli_json_print(json_boot(sys));
	else
		print_text(sys);
	vx_fpu_system_destroy(sys);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* vxsave fpu SCRIPT                                                                            */

static void print_summary(const char *name, const struct cpu_script_summary *summary,
			  const struct vx_profile *profile)
{
	printf("%s: %u statement%s, %u operation%s (%u faulted), %u expectation%s held on %s\n",
	       name, summary->statements, summary->statements == 1 ? "" : "s",
	       summary->instructions, summary->instructions == 1 ? "" : "s", summary->faults,
	       summary->expectations, summary->expectations == 1 ? "" : "s",
	       profile->name[0] ? profile->name : "(unnamed)");
}

static int run_script(const struct fpu_request *request, const char *name,
		      struct cpu_script *script, struct fpu_script_context *context,
		      const struct cpu_script_options *options)
{
	struct cpu_script_summary summary;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cpu *cpu = NULL;
	int rc;

	if (vx_cpu_create(context->profile, NULL, &cpu, &err) < 0) {
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
		print_summary(name, &summary, context->profile);
	return CLI_EXIT_OK;
}

static int cmd_fpu_script(int argc, char **argv)
{
	struct fpu_request request = {.source = CLI_SOURCE_INIT};
	struct fpu_script_context context = {0};
	struct cpu_script_extension extension = {&fpu_script_table, &context};
	struct cpu_script_options options = {.extensions = &extension, .extension_count = 1};
	struct vx_error err = VX_ERROR_INIT;
	struct cpu_script *script = NULL;
	struct vx_profile profile;
	const char *name;
	size_t length = 0;
	char *text;
	int rc;

	vx_fpu_config_init(&request.config);
	rc = parse_fpu_options(argc, argv, &request, true);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	rc = cli_source_load(&request.source, &profile);
	if (rc)
		return rc;
	name = strcmp(request.script, "-") == 0 ? "<stdin>" : request.script;
	text = cli_read_script(request.script, &length);
	if (!text)
		return CLI_EXIT_FAILURE;
	options.trace = request.trace;
	options.quiet = request.quiet;
	options.out = stdout;
	rc = cpu_script_parse(text, length, &options, &script, &err);
	free(text);
	if (rc < 0) {
		cli_report_script_error(name, &err);
		return CLI_EXIT_FAILURE;
	}
	context.profile = &profile;
	context.config = request.config;
	rc = run_script(&request, name, script, &context, &options);
	fpu_script_context_clear(&context);
	cpu_script_free(script);
	return rc;
}

int cli_cmd_fpu(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("fpu", "missing action (boot) or SCRIPT");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cli_usage_fpu(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "boot") == 0)
		return cmd_fpu_boot(argc - 1, argv + 1);
	return cmd_fpu_script(argc, argv);
}
