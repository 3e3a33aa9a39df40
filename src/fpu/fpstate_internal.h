/* SPDX-License-Identifier: MIT */
/*
 * What fpstate.c shares with uabi.c, sigframe.c and regset.c: running one XSAVE-family
 * instruction of the modelled kernel on a model CPU, and xfd_update_state().
 */
#ifndef VXSAVE_FPSTATE_INTERNAL_H
#define VXSAVE_FPSTATE_INTERNAL_H

#include <vxsave/fpstate.h>

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

/* xfd_update_state() (§5.1): with dynamic sizing, IA32_XFD := @xfd unless it holds it. */
int fpstate_xfd_update(const struct vx_fpu_system *sys, struct vx_cpu *cpu, uint64_t xfd,
		       struct vx_error *err);

/* XRSTOR(S) of init_fpstate with RFBM = @mask at CPL0 (os_xrstor(&init_fpstate, mask)). */
int fpstate_restore_init(const struct vx_fpu_system *sys, struct vx_cpu *cpu, uint64_t mask,
			 struct vx_error *err);

/* FXSAVE64 / FXRSTOR64 of the 512-byte legacy image (the model CPU has no FXSAVE). */
int fpstate_fxsave(const struct vx_fpu_system *sys, struct vx_cpu *cpu, uint8_t *image);
int fpstate_fxrstor(const struct vx_fpu_system *sys, struct vx_cpu *cpu, const uint8_t *image,
		    struct vx_error *err);

#endif /* VXSAVE_FPSTATE_INTERNAL_H */
