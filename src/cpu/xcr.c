/* SPDX-License-Identifier: MIT */
/* XGETBV (arch.md §5.7) and XSETBV (§5.8, value rules §3.1). */
#include <errno.h>

#include "cpu/cpu_internal.h"

static int check_xsave_enabled(const struct vx_cpu *cpu, const char *insn, struct vx_event *event)
{
	/* §5.7/§5.8: no XSAVE or CR4.OSXSAVE = 0 → #UD. */
	if (!cpu->facts.xsave || !(cpu->control.cr4 & VX_CR4_OSXSAVE))
		return raise_exception(event, VX_VEC_UD, VX_CAUSE_NO_XSAVE, "arch.md §5.7",
				       "%s needs CPUID XSAVE and CR4.OSXSAVE=1", insn);
	return 0;
}

int vx_cpu_xgetbv(struct vx_cpu *cpu, uint32_t ecx, uint64_t *value, struct vx_event *event)
{
	if (!cpu || !value)
		return -EINVAL;
	event_clear(event);
	if (check_xsave_enabled(cpu, "XGETBV", event))
		return VX_FAULTED;
	/* §5.7: ECX = 0 reads XCR0, at any CPL. */
	if (ecx == 0) {
		*value = cpu->state.xcr0;
		return 0;
	}
	/* §5.7: ECX = 1 returns XCR0 & XINUSE, only with CPUID.(0xD,1):EAX[2]. */
	if (ecx == 1 && cpu->facts.xgetbv1) {
		*value = cpu->state.xcr0 & state_xinuse_visible(cpu);
		return 0;
	}
	/* §5.7: any other ECX, or ECX = 1 without XGETBV1 → #GP(0). */
	return raise_exception(event, VX_VEC_GP, VX_CAUSE_XCR_INDEX, "arch.md §5.7",
			       "XGETBV with ECX=%u%s", ecx,
			       ecx == 1 ? " on a CPU without XGETBV1 (CPUID.(0xD,1):EAX[2]=0)"
					: " (only 0 and 1 exist)");
}

int vx_cpu_xsetbv(struct vx_cpu *cpu, uint32_t ecx, uint64_t value, struct vx_event *event)
{
	struct vx_error err = VX_ERROR_INIT;

	if (!cpu)
		return -EINVAL;
	event_clear(event);
	if (check_xsave_enabled(cpu, "XSETBV", event))
		return VX_FAULTED;
	/* §5.8: CPL ≠ 0 (V86 included) → #GP(0); privilege faults come before the VM exit. */
	if (cpu_effective_cpl(cpu) != 0)
		return raise_exception(event, VX_VEC_GP, VX_CAUSE_CPL, "arch.md §5.8",
				       "XSETBV at CPL %u", cpu_effective_cpl(cpu));
	/* §5.8: in VMX non-root XSETBV always exits (reason 55). */
	if (cpu->control.vmx_non_root)
		return raise_vm_exit(event, VX_EXIT_XSETBV, VX_CAUSE_VMX_XSETBV, "arch.md §5.8",
				     "XSETBV in VMX non-root (ECX=%u, EDX:EAX=0x%llx)", ecx,
				     (unsigned long long)value);
	/* §5.8: only XCR0 is writable. */
	if (ecx != 0)
		return raise_exception(event, VX_VEC_GP, VX_CAUSE_XCR_INDEX, "arch.md §5.8",
				       "XSETBV with ECX=%u (only XCR0 is writable)", ecx);
	/* §3.1: the value must be a valid XCR0 for this CPU. */
	if (vx_xcr0_check(&cpu->profile, value, &err) != 0) {
		raise_exception(event, VX_VEC_GP, VX_CAUSE_XCR0_INVALID,
				err.rule ? err.rule : "arch.md §3.1", "XSETBV 0x%llx: %s",
				(unsigned long long)value, err.reason);
		return event_detail(event, 0, err.bits ? err.bits : value, -1);
	}
	/* Choice (docs/cpu-model.md): components leaving XCR0 keep their state and XINUSE. */
	cpu->state.xcr0 = value;
	return 0;
}
