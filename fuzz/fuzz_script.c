/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the script language of `vxsave cpu|fpu|kvm SCRIPT` (tools/vxsave: the
 * grammar engine script_grammar.c, the cpu, fpu and kvm statement tables) parsed and, when it
 * parses, run as `vxsave kvm SCRIPT` runs it: cpu statements on a model processor of their
 * own, fpu statements on the fpu machine the script boots, kvm statements on the model's
 * module (never --real).  Output goes to /dev/null.  A first line "#! PROFILE DESIGN FLAVOUR"
 * (a comment) picks the host (fuzz_util.h); default sapphire-rapids, guest-only.
 *
 * Property besides no crash/UB/leak: a refused script (parse or run) returns a negative errno
 * with a reason and the line it is on (vx_error.line, script_grammar.h).
 */
#include <errno.h>

#include <vxsave/kvm_ioctl.h>

#include "cli.h"
#include "cpu_script.h"
#include "fpu_script.h"
#include "kvm_script.h"

#include "fuzz_util.h"

/* The CLI's name in messages (tools/vxsave/main.c, which is not linked here). */
const char cli_program_name[] = "vxsave";

static FILE *devnull(void)
{
	static FILE *out;

	if (!out && !(out = fopen("/dev/null", "w")))
		fz_fail("cannot open /dev/null");
	return out;
}

static void check_refusal(int rc, const struct vx_error *err, const char *what)
{
	if (rc >= 0 || !err->reason[0] || err->line == 0)
		fz_fail("%s refused with %d without a reason and line ('%s', line %u)", what, rc,
			err->reason, err->line);
}

static void run(struct cpu_script *script, const struct cpu_script_options *options,
		const struct vx_profile *profile)
{
	struct cpu_script_summary summary;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cpu *cpu = NULL;
	int rc;

	if (vx_cpu_create(profile, NULL, &cpu, &err) != 0)
		fz_fail("cpu: %s", err.reason);
	rc = cpu_script_run(script, cpu, options, &summary, &err);
	if (rc < 0)
		check_refusal(rc, &err, "run");
	vx_cpu_destroy(cpu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fpu_script_context fpu;
	struct kvm_script_context kvm;
	struct cpu_script_extension ext[2] = {{&fpu_script_table, &fpu}, {&kvm_script_table, &kvm}};
	struct cpu_script_options options = {.extensions = ext, .extension_count = 2};
	struct vx_error err = VX_ERROR_INIT;
	struct cpu_script *script = NULL;
	struct fz_host h;
	int rc;

	fz_host_parse(data, size, &h);
	memset(&fpu, 0, sizeof(fpu));
	memset(&kvm, 0, sizeof(kvm));
	fpu.profile = fz_profile(h.profile);
	vx_fpu_config_init(&fpu.config);
	fpu.config.cet_design = vx_kvm_cet_design_fpu(h.design);
	kvm.fpu = &fpu;
	kvm.design = h.design;
	kvm.flavour = h.flavour;
	kvm.real = false;
	kvm.sys_fd = -1;
	options.quiet = true;
	options.out = devnull();
	rc = cpu_script_parse((const char *)data, size, &options, &script, &err);
	if (rc < 0) {
		check_refusal(rc, &err, "parse");
		return 0;
	}
	run(script, &options, fpu.profile);
	kvm_script_context_clear(&kvm);
	fpu_script_context_clear(&fpu);
	cpu_script_free(script);
	return 0;
}
