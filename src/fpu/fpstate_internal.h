/* SPDX-License-Identifier: MIT */
/*
 * What fpstate.c shares with switch.c, uabi.c, sigframe.c and regset.c: running one
 * XSAVE-family instruction of the modelled kernel on a model CPU, the save and restore of an
 * fpstate (inline: the context switch is two of them, issue 7), and xfd_update_state().
 */
#ifndef VXSAVE_FPSTATE_INTERNAL_H
#define VXSAVE_FPSTATE_INTERNAL_H

#include <string.h>

#include <vxsave/fpstate.h>

#include "cpu/kernel_entry.h"
#include "fpu_internal.h"

/* Linux's default PKRU (init_pkru_value): every key but 0 access-disabled. */
#define FPSTATE_INIT_PKRU 0x55555554u

/*
 * Execute @insn with EDX:EAX = @rfbm on the @size bytes at @bytes, seen at their own linear
 * address, at privilege level @cpl (the CPU's CPL is put back afterwards).  A fault is
 * -EFAULT with the event's reason in @err; nothing changed then.
 */
int fpstate_exec(struct vx_cpu *cpu, unsigned cpl, enum vx_insn insn, uint8_t *bytes, size_t size,
		 uint64_t rfbm, struct vx_error *err);
/* What fpstate_exec() returns for vx_cpu_exec()'s @rc and @event (the error, or 0). */
int fpstate_exec_failed(struct vx_error *err, enum vx_insn insn, uint64_t rfbm, int rc,
			const struct vx_event *event);

/* FXSAVE64 / FXRSTOR64 of the 512-byte legacy image (the model CPU has no FXSAVE). */
int fpstate_fxsave(const struct vx_fpu_system *sys, struct vx_cpu *cpu, uint8_t *image);
int fpstate_fxrstor(const struct vx_fpu_system *sys, struct vx_cpu *cpu, const uint8_t *image,
		    struct vx_error *err);

/* xfd_update_state() (§5.1): with dynamic sizing, IA32_XFD := @xfd unless it holds it. */
int fpstate_xfd_update(const struct vx_fpu_system *sys, struct vx_cpu *cpu, uint64_t xfd,
		       struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* The save and restore of a context switch, inlined into fpstate.c and switch.c (issue 7)      */

/*
 * Counters (see fpstate.c's top comment): 64 header bytes, 8 for MXCSR/MXCSR_MASK when SSE or
 * YMM moves, and each component of @mask - three look-ups in sys->mask_bytes, whose byte-0
 * table holds the header and MXCSR bytes too (fpu_fpstate_setup_tables()).
 */
static inline uint64_t fpstate_moved_bytes(const struct vx_fpu_system *sys, uint64_t mask)
{
	return (uint64_t)sys->mask_bytes[0][mask & 0xFF] + sys->mask_bytes[1][(mask >> 8) & 0xFF] +
	       sys->mask_bytes[2][(mask >> 16) & 0xFF];
}

static inline void fpstate_count(struct vx_fpu_counters *c, bool save, uint64_t bytes)
{
	if (!c)
		return;
	*(save ? &c->saves : &c->restores) += 1;
	*(save ? &c->bytes_saved : &c->bytes_restored) += bytes;
}

static inline uint64_t fpstate_xstate_bv(const struct vx_fpstate *fps)
{
	uint64_t bv;

	memcpy(&bv, fps->regs + VX_XSTATE_BV_OFFSET, sizeof(bv));
	return bv;
}

/*
 * fpstate_exec() at CPL0, the kernel's own saves and restores: when the CPU is at CPL 0
 * already (the usual case) straight to the instruction, without a CPL change
 * (cpu/kernel_entry.h); otherwise through fpstate_exec(), which changes it and puts it back.
 */
FPU_HOT int fpstate_exec_cpl0(struct vx_cpu *cpu, enum vx_insn insn, uint8_t *bytes, size_t size,
			      uint64_t rfbm, struct vx_error *err)
{
	struct vx_event event;
	int rc = vx_cpu_exec_cpl0(cpu, insn, bytes, size, rfbm, &event);

	if (rc == 0)
		return 0;
	if (rc == VX_CPU_NOT_CPL0)
		return fpstate_exec(cpu, 0, insn, bytes, size, rfbm, err);
	return fpstate_exec_failed(err, insn, rfbm, rc, &event);
}

/* vx_fpstate_save() (os_xsave(), §8.1); FXSAVE without XSAVE, nothing when confidential. */
FPU_HOT int fpstate_save_regs(const struct vx_fpu_system *sys, struct vx_cpu *cpu,
			      struct vx_fpstate *fps, struct vx_fpu_counters *counters,
			      struct vx_error *err)
{
	int rc;

	if (fps->is_confidential)
		return 0; /* firmware saves it (§6) */
	if (!sys->insns.xsave) {
		rc = fpstate_fxsave(sys, cpu, fps->regs);
		if (rc == 0)
			fpstate_count(counters, true, FPU_FXSAVE_SIZE);
		return rc ? vx_error_set(err, rc, "linux-fpu.md §8.1", "FXSAVE failed") : 0;
	}
	rc = fpstate_exec_cpl0(cpu, sys->insns.save, fps->regs, fps->size, fps->xfeatures, err);
	if (rc == 0)
		fpstate_count(counters, true, fpstate_moved_bytes(sys, fpstate_xstate_bv(fps)));
	return rc;
}

/*
 * vx_fpstate_restore() without its IA32_XFD sync: the XRSTOR(S) with RFBM = kernel max ∩ @mask
 * (not fps->xfeatures, §8.3; FXRSTOR without XSAVE; nothing for a confidential fpstate, §6).
 * For callers that already ran xfd_update_state() against their per-CPU cache
 * (restore_fpregs_from_fpstate, §8.3).
 */
FPU_HOT int fpstate_restore_regs(const struct vx_fpu_system *sys, struct vx_cpu *cpu,
				 struct vx_fpstate *fps, uint64_t mask,
				 struct vx_fpu_counters *counters, struct vx_error *err)
{
	uint64_t rfbm = sys->kernel.max_features & mask;
	int rc;

	if (!sys->insns.xsave) {
		rc = fpstate_fxrstor(sys, cpu, fps->regs, err);
		if (rc == 0)
			fpstate_count(counters, false, FPU_FXSAVE_SIZE);
		return rc;
	}
	if (fps->is_confidential) /* firmware restores it, the kernel only syncs XFD (§6) */
		return 0;
	rc = fpstate_exec_cpl0(cpu, sys->insns.restore, fps->regs, fps->size, rfbm, err);
	if (rc == 0)
		fpstate_count(counters, false,
			      fpstate_moved_bytes(sys, rfbm & fpstate_xstate_bv(fps)));
	return rc;
}

/* XRSTOR(S) of init_fpstate with RFBM = @mask at CPL0 (os_xrstor(&init_fpstate, mask)). */
int fpstate_restore_init(const struct vx_fpu_system *sys, struct vx_cpu *cpu, uint64_t mask,
			 struct vx_error *err);

#endif /* VXSAVE_FPSTATE_INTERNAL_H */
