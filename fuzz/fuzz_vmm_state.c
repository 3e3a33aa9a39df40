/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: saved vCPU state files (vmm_compat.h, issue 10): vxsave vCPU bundles and
 * Cloud Hypervisor's snapshot state.json / vCPU state, told apart by content
 * (vx_vmm_bundle_parse, with the library's own JSON reader), then what a reader does with a
 * bundle: the lookups, the blob parsed and decoded on the bundle's source layout, and the
 * bundle written back (vx_vmm_bundle_format).  The input is the file's text.
 *
 * Properties (vmm_compat.h): a refused file leaves the bundle unchanged, with the errno in
 * err.code and a reason; an accepted one written as a bundle parses back, and writing that
 * gives the same text ("The text parses back to the same bundle").
 */
#include <errno.h>

#include <vxsave/vmm.h>
#include <vxsave/vmm_compat.h>

#include "fuzz_util.h"

static struct vx_vmm_bundle bundle, before, again;

static void use(const struct vx_vmm_bundle *b)
{
	static struct vx_vmm_xsave_view view;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_vmm_blob blob;
	uint64_t value;

	(void)vx_vmm_bundle_cpuid(b, 0xD, 0);
	(void)vx_vmm_bundle_msr(b, 0xda0, &value);
	(void)vx_vmm_bundle_xcr0(b, &value);
	(void)vx_vmm_bundle_xstate_bv(b);
	if (b->has_profile &&
	    vx_vmm_blob_parse(b->xsave, b->xsave_len, VX_VMM_BLOB_AUTO, &blob, &err) == 0)
		(void)vx_vmm_xsave_decode(&b->profile, &blob, &view, &err);
}

/* Written back as a bundle: parses again, and writes the same text. */
static void round_trip(const struct vx_vmm_bundle *b)
{
	struct vx_error err = VX_ERROR_INIT;
	size_t n = vx_vmm_bundle_format(b, NULL, 0);
	char *text = malloc(n + 1), *text2 = malloc(n + 1);

	if (vx_vmm_bundle_format(b, text, n + 1) != n)
		fz_fail("bundle format length changed");
	if (vx_vmm_bundle_parse(text, n, 0, &again, NULL, &err) != 0)
		fz_fail("a bundle the library wrote is refused: line %u: %s", err.line, err.reason);
	if (vx_vmm_bundle_format(&again, text2, n + 1) != n || memcmp(text, text2, n) != 0)
		fz_fail("bundle write -> parse -> write changed the text");
	free(text);
	free(text2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_error err = VX_ERROR_INIT;
	enum vx_vmm_state_format format;
	char *text = malloc(size ? size : 1);
	int rc;

	memcpy(text, data, size);
	memset(&bundle, 0x5A, sizeof(bundle));
	memcpy(&before, &bundle, sizeof(bundle));
	rc = vx_vmm_bundle_parse(text, size, 0, &bundle, &format, &err);
	if (rc != 0) {
		if (rc != err.code || !err.reason[0])
			fz_fail("refusal %d without a matching error ('%s')", rc, err.reason);
		if (memcmp(&bundle, &before, sizeof(bundle)) != 0)
			fz_fail("a refused file changed the bundle (%s)", err.reason);
	} else {
		use(&bundle);
		round_trip(&bundle);
	}
	free(text);
	return 0;
}
