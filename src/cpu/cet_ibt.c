/* SPDX-License-Identifier: MIT */
/*
 * Indirect-branch tracking (arch.md §7.8): what arms the tracker, and the check on the next
 * instruction with ENDBR32/ENDBR64 (§7.7), the legacy code-page bitmap and #CP(3) ENDBRANCH.
 * The tracker and SUPPRESS live in IA32_U_CET (CPL3) and IA32_S_CET (CPL0-2), bits 11 and 10.
 */
#include <errno.h>

#include "cpu/cet_internal.h"

#define LEGACY_BITMAP_LA_MASK UINT64_C(0x0000FFFFFFFFFFFF) /* §7.8: LA[47:0] */

void ibt_arm(struct vx_cpu *cpu, unsigned cpl)
{
	uint64_t v;

	if (!vx_cpu_ibt_enabled(cpu, cpl))
		return;
	v = cet_control(cpu, cpl);
	/* §7.8: while SUPPRESS = 1 tracking is not armed; otherwise WAIT_FOR_ENDBRANCH. */
	if (!(v & VX_CET_SUPPRESS) && !(v & VX_CET_TRACKER))
		cet_set_control(cpu, cpl, v | VX_CET_TRACKER);
}

int vx_cpu_cet_jmp(struct vx_cpu *cpu, unsigned flags, struct vx_event *event)
{
	unsigned cpl;

	if (!cpu)
		return cet_misuse(event, "JMP: NULL processor");
	event_clear(event);
	cpl = cpu_effective_cpl(cpu);
	/* §7.8: an indirect JMP arms the tracker unless NOTRACK is honoured (NO_TRACK_EN = 1). */
	if ((flags & VX_BRANCH_INDIRECT) &&
	    !((flags & VX_BRANCH_NOTRACK) && (cet_control(cpu, cpl) & VX_CET_NO_TRACK_EN)))
		ibt_arm(cpu, cpl);
	return 0;
}

/* §7.8: the legacy code-page bitmap bit of the page holding @lip (an ordinary read). */
static int legacy_bit(struct vx_cpu *cpu, const struct vx_cpu_memory *mem, uint64_t control,
		      uint64_t lip, bool *set, struct vx_event *event)
{
	uint64_t byte = 0;
	struct mem_access a;

	if (!mem)
		return cet_misuse(event, "ENDBR check: LEG_IW_EN=1 but no memory for the bitmap");
	/* §7.8: byte (MSR & ~0xFFF) + (LA[47:0] >> 15), bit LA[14:12]. */
	a = data_access((control & ~UINT64_C(0xFFF)) + ((lip & LEGACY_BITMAP_LA_MASK) >> 15), 1,
			false, cpu_effective_cpl(cpu) == 3, cpu_in_64bit_mode(cpu));
	if (mem_load(cpu, mem, &a, &byte, event))
		return VX_FAULTED;
	*set = (byte >> ((lip >> 12) & 7u)) & 1u;
	return 0;
}

static int fetch_args(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem,
		      enum vx_cet_fetch insn, struct vx_event *event)
{
	if (!cpu)
		return cet_misuse(event, "ENDBR check: NULL processor");
	event_clear(event);
	if ((unsigned)insn > VX_FETCH_ENDBR32)
		return cet_misuse(event, "ENDBR check: instruction kind %d unknown", (int)insn);
	return mem ? mem_args_check(mem, "ENDBR check", event) : 0;
}

int vx_cpu_cet_fetch(struct vx_cpu *cpu, struct vx_cpu_memory *mem, uint64_t lip,
		     enum vx_cet_fetch insn, struct vx_event *event)
{
	int rc = fetch_args(cpu, mem, insn, event);
	unsigned cpl;
	uint64_t v;
	bool in64, excused = false;

	if (rc)
		return rc;
	cpl = cpu_effective_cpl(cpu);
	if (!vx_cpu_ibt_enabled(cpu, cpl))
		return 0;
	v = cet_control(cpu, cpl);
	in64 = cpu_in_64bit_mode(cpu);
	/* §7.7: the ENDBR of the current mode sets TRACKER = IDLE and clears SUPPRESS; the other
	 * one is a NOP. */
	if ((insn == VX_FETCH_ENDBR64 && in64) || (insn == VX_FETCH_ENDBR32 && !in64)) {
		if (v & (VX_CET_TRACKER | VX_CET_SUPPRESS))
			cet_set_control(cpu, cpl, v & ~(VX_CET_TRACKER | VX_CET_SUPPRESS));
		return 0;
	}
	if (!(v & VX_CET_TRACKER))
		return 0;
	/* §7.8: LEG_IW_EN and the page's legacy-bitmap bit excuse the missing ENDBR. */
	if (v & VX_CET_LEG_IW_EN)
		rc = legacy_bit(cpu, mem, v, lip, &excused, event);
	if (rc)
		return rc;
	if (excused) {
		/* §7.8: TRACKER ← IDLE, SUPPRESS ← 1 unless SUPPRESS_DIS. */
		v &= ~VX_CET_TRACKER;
		cet_set_control(cpu, cpl, v | (v & VX_CET_SUPPRESS_DIS ? 0 : VX_CET_SUPPRESS));
		return 0;
	}
	/* §7.8: otherwise #CP(3) ENDBRANCH. */
	return cet_raise_cp(event, VX_CP_ENDBRANCH,
			    "instruction at 0x%llx is not ENDBR%s while the CPL%u tracker waits "
			    "for it",
			    (unsigned long long)lip, in64 ? "64" : "32", cpl);
}
