/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the uABI conversions both ways on a booted system (fpstate.h, linux-fpu.md
 * §7): vx_fpstate_from_uabi (ptrace, sigreturn), vx_fpu_copy_uabi_to_guest_fpstate
 * (KVM_SET_XSAVE) into a fresh host or guest fpstate, then vx_fpstate_to_uabi /
 * vx_fpu_copy_guest_fpstate_to_uabi with fuzzed features, mode and buffer length.
 *
 * Input: byte 0 the built-in profile, byte 1 the fpu CET_S design (low 2 bits) and a guest
 * fpstate (bit 4), byte 2 the entry point, then XCR0 (8 bytes, the guest copy's), the
 * features and length of the copy back (8 + 2 bytes); the rest is the uABI buffer, passed with
 * exactly its length in a buffer of its own (so ASan sees any read past it).
 *
 * Properties: a refusal returns err.code with a reason and leaves the fpstate (struct and image)
 * and the PKRU value unchanged (fpstate.h); an accepted buffer's copy back (XSAVE mode, the
 * fpstate's user_xfeatures, user_size bytes) is itself accepted by a fresh fpstate, and copying
 * that one back gives the same bytes (§7.1/§7.2 are inverse on their own output).
 */
#include <errno.h>

#include <vxsave/fpstate.h>

#include "fuzz_util.h"

#define PKRU_SENTINEL UINT32_C(0x55555554)

struct snapshot {
	struct vx_fpstate fps;
	uint8_t *regs;
	uint32_t pkru;
};

static void snap(struct snapshot *s, const struct vx_fpstate *fps, uint32_t pkru)
{
	s->fps = *fps;
	s->regs = malloc(fps->size);
	memcpy(s->regs, fps->regs, fps->size);
	s->pkru = pkru;
}

static void check_unchanged(struct snapshot *s, const struct vx_fpstate *fps, uint32_t pkru, int rc,
			    const struct vx_error *err)
{
	if (rc != err->code || !err->reason[0])
		fz_fail("refusal %d without a matching error ('%s')", rc, err->reason);
	if (memcmp(&s->fps, fps, sizeof(*fps)) != 0 || memcmp(s->regs, fps->regs, fps->size) != 0)
		fz_fail("a refused buffer changed the fpstate (%s)", err->reason);
	if (pkru != s->pkru)
		fz_fail("a refused buffer changed PKRU (%s)", err->reason);
}

/* The copy back of an accepted buffer is accepted again and round-trips to the same bytes. */
static void round_trip(const struct vx_fpu_system *sys, const struct vx_fpstate *fps, uint32_t pkru)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpstate *again = NULL;
	uint32_t n = fps->user_size, pkru2 = 0;
	uint8_t *out = calloc(1, n), *out2 = calloc(1, n);

	if (vx_fpstate_to_uabi(sys, fps, fps->user_xfeatures, pkru, VX_UABI_COPY_XSAVE, out, n,
			       &err) != 0)
		fz_fail("copy back of an accepted buffer: %s", err.reason);
	if (vx_fpstate_create(sys, fps->is_guest, &again, &err) != 0)
		fz_fail("fpstate: %s", err.reason);
	if (vx_fpstate_from_uabi(sys, again, out, n, &pkru2, &err) != 0)
		fz_fail("the kernel's own uABI buffer was refused: %s", err.reason);
	if (vx_fpstate_to_uabi(sys, again, again->user_xfeatures, pkru2, VX_UABI_COPY_XSAVE, out2,
			       n, &err) != 0)
		fz_fail("second copy back: %s", err.reason);
	if (memcmp(out, out2, n) != 0)
		fz_fail("uABI round trip changed the bytes");
	vx_fpstate_destroy(sys, again);
	free(out);
	free(out2);
}

/* Copies back with fuzzed features, mode and length (partial copies, §7.1). */
static void copy_back(const struct vx_fpu_system *sys, const struct vx_fpstate *fps,
		      uint64_t xfeatures, uint16_t len, uint32_t pkru)
{
	struct vx_error err = VX_ERROR_INIT;
	uint8_t *out = malloc(len ? len : 1);

	(void)vx_fpstate_to_uabi(sys, fps, xfeatures, pkru, (enum vx_uabi_mode)(len % 3), out, len,
				 &err);
	(void)vx_fpu_copy_guest_fpstate_to_uabi(sys, fps, out, len, xfeatures, pkru, &err);
	free(out);
}

static int load(const struct vx_fpu_system *sys, struct vx_fpstate *fps, unsigned entry,
		uint64_t xcr0, const uint8_t *buf, size_t len, uint32_t *pkru, struct vx_error *err)
{
	switch (entry % 4) {
	case 0:
		return vx_fpstate_from_uabi(sys, fps, buf, len, pkru, err);
	case 1:
		return vx_fpstate_from_uabi(sys, fps, buf, len, NULL, err);
	case 2:
		return vx_fpu_copy_uabi_to_guest_fpstate(sys, fps, buf, len, xcr0, pkru, err);
	default:
		return vx_fpu_copy_uabi_to_guest_fpstate(sys, fps, buf, len, xcr0, NULL, err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct fz_host h = {fz_u8(&f), VX_KVM_CET_GUEST_ONLY, -1};
	uint8_t flags = fz_u8(&f), entry = fz_u8(&f);
	uint64_t xcr0 = fz_u64(&f), xfeatures = fz_u64(&f);
	uint16_t back_len = fz_u16(&f);
	const struct vx_fpu_system *sys;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpstate *fps = NULL;
	struct snapshot s;
	uint32_t pkru = PKRU_SENTINEL;
	uint8_t *buf;
	int rc;

	h.design = (enum vx_kvm_cet_design)((flags & 3) % VX_FPU_CET_DESIGN_COUNT);
	sys = fz_system(&h);
	if (vx_fpstate_create(sys, (flags & 0x10) != 0, &fps, &err) != 0)
		fz_fail("fpstate: %s", err.reason);
	buf = malloc(f.size ? f.size : 1);
	memcpy(buf, f.data, f.size);
	snap(&s, fps, pkru);
	rc = load(sys, fps, entry, xcr0, buf, f.size, &pkru, &err);
	if (rc != 0)
		check_unchanged(&s, fps, pkru, rc, &err);
	else if (vx_fpu_xsave_status(sys) == VX_FPU_XSAVE_ENABLED)
		round_trip(sys, fps, pkru);
	copy_back(sys, fps, xfeatures, back_len, pkru);
	free(s.regs);
	free(buf);
	vx_fpstate_destroy(sys, fps);
	return 0;
}
