/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: `cpuid -r` and InstLatx64 dumps (vx_profile_parse_dump), and what the CLI
 * does next with a dump from another machine: the consistency diagnostics, the layout of every
 * supported component, the leaf-0xD checks, the boot of the modelled kernel on it and a
 * machine of one CPU with a process.  The input is the dump text.
 *
 * Properties checked besides "no crash, no out-of-bounds, no UB, no leak": a refused dump
 * returns a negative errno equal to err.code with a reason, and leaves the profile it was
 * given byte-for-byte unchanged (arch.h, vx_profile_parse_cpuid_dump()).
 */
#include <errno.h>

#include <vxsave/fpu_task.h>

#include "fuzz_util.h"

static void check_refusal(int rc, const struct vx_error *err, const struct vx_profile *before,
			  const struct vx_profile *after)
{
	if (rc >= 0)
		fz_fail("parse returned %d", rc);
	if (err->code != rc || !err->reason[0])
		fz_fail("refusal %d without a matching error (code %d, reason '%s')", rc, err->code,
			err->reason);
	if (memcmp(before, after, sizeof(*before)) != 0)
		fz_fail("a refused dump changed the profile (%s)", err->reason);
}

/* What `vxsave layout` / `vxsave fpu boot --source FILE` do with a parsed dump. */
static void use_profile(const struct vx_profile *p)
{
	static struct vx_diagnostic diags[64];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_system *sys = NULL;
	struct vx_fpu_machine *m = NULL;
	struct vx_fpu_task *t = NULL;
	struct vx_layout layout;
	uint64_t all = vx_profile_xcr0_supported(p) | vx_profile_xss_supported(p);

	(void)vx_profile_diagnose(p, diags, 64);
	(void)vx_layout_compute(p, all, &layout, &err);
	(void)vx_profile_check_xsave_leaves(p, &err);
	(void)vx_standard_size(p, all);
	(void)vx_compacted_size(p, all);
	if (vx_fpu_system_create(p, NULL, &sys, &err) != 0)
		return;
	if (vx_fpu_machine_create(sys, 1, &m, &err) == 0 && vx_fpu_process_create(m, &t, &err) == 0)
		(void)vx_fpu_task_schedule(t, 0, &err);
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vx_profile profile, before;
	struct vx_error err = VX_ERROR_INIT;
	int rc;

	memset(&profile, 0xA5, sizeof(profile));
	before = profile;
	rc = vx_profile_parse_dump(&profile, (const char *)data, size, 0, &err);
	if (rc != 0) {
		check_refusal(rc, &err, &before, &profile);
		return 0;
	}
	use_profile(&profile);
	/* The second CPU block, when there is one (multi-CPU `cpuid -r` output). */
	before = profile;
	vx_error_clear(&err);
	rc = vx_profile_parse_dump(&profile, (const char *)data, size, 1, &err);
	if (rc != 0)
		check_refusal(rc, &err, &before, &profile);
	return 0;
}
