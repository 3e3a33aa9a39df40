/* SPDX-License-Identifier: MIT */
/*
 * Two entries for the fpu layer's context switch (issue 7, docs/fpu.md "Speed"): the kernel's
 * own XSAVE-family instruction when the CPU is already at CPL 0, and the place of PKRU for the
 * RDPKRU of switch_to() (linux-fpu.md §8.3).  Each gives what the general call it stands for
 * gives (vx_cpu_exec(), vx_cpu_get_reg() of "pkru") without the per-call set-up: no copy of
 * the control state to learn the CPL, no walk of the register table.  Internal to the library.
 */
#ifndef VXSAVE_CPU_KERNEL_ENTRY_H
#define VXSAVE_CPU_KERNEL_ENTRY_H

#include <errno.h>

#include <vxsave/cpu.h>

/* What vx_cpu_exec_cpl0() returns, having done nothing, when the CPU is not at CPL 0. */
#define VX_CPU_NOT_CPL0 (-EAGAIN)

/*
 * vx_cpu_exec(@cpu, @insn, no prefix, the @size bytes at @bytes seen at their own linear
 * address, EDX:EAX = @rfbm, @event) if the CPU's CPL (struct vx_cpu_control.cpl) is 0; else
 * VX_CPU_NOT_CPL0 and nothing changed - the caller changes the CPL itself (fpstate_exec()).
 * @event (required) is written only when the instruction faults (VX_FAULTED): on success it
 * holds whatever it held, where vx_cpu_exec() would have cleared it.
 */
int vx_cpu_exec_cpl0(struct vx_cpu *cpu, enum vx_insn insn, uint8_t *bytes, size_t size,
		     uint64_t rfbm, struct vx_event *event);

/*
 * Where @cpu keeps PKRU: the 4 bytes vx_cpu_get_reg(@cpu, vx_reg_lookup("pkru"), ...) reads
 * (little-endian), at the same place for the processor's lifetime; NULL when it has no PKRU
 * component.  Read-only: writes go through vx_cpu_set_reg() (WRPKRU and its XINUSE rules).
 */
const uint8_t *vx_cpu_pkru_bytes(const struct vx_cpu *cpu);

#endif /* VXSAVE_CPU_KERNEL_ENTRY_H */
