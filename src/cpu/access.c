/* SPDX-License-Identifier: MIT */
/*
 * Memory accesses of the XSAVE-family instructions.  The whole range an instruction will touch
 * is checked before anything is read for real or written, so a fault leaves memory and the
 * processor unchanged (arch.md §5.0: "#PF on any byte accessed"; non-canonical → #GP(0)).
 */
#include "cpu/cpu_internal.h"

static bool inside_window(const struct vx_memory *mem, uint64_t address)
{
	return address >= mem->base && address - mem->base < mem->size;
}

int area_check_slow(const struct vx_cpu *cpu, const struct vx_memory *mem, uint64_t addr,
		    struct area_range range, bool write, struct vx_event *event)
{
	uint64_t first = addr + range.first;
	uint64_t last = addr + range.end - 1;

	if (range.end <= range.first)
		return 0;
	/* §5.0: in 64-bit mode a non-canonical memory operand raises #GP(0); canonical means
	 * 48 bits with 4-level paging, 57 with 5-level (CR4.LA57 = 1). */
	if (cpu_in_64bit_mode(cpu) &&
	    (!cpu_canonical_access(cpu, first) || !cpu_canonical_access(cpu, last)))
		return raise_exception(event, VX_VEC_GP, VX_CAUSE_NONCANONICAL, "arch.md §5.0",
				       "area bytes 0x%llx-0x%llx are not canonical",
				       (unsigned long long)first, (unsigned long long)last);
	/* §5.0: #PF on the lowest byte accessed that is not mapped (the window is one piece). */
	if (!inside_window(mem, first))
		return raise_page_fault(event, first, write);
	if (!inside_window(mem, last))
		return raise_page_fault(event, mem->base + mem->size, write);
	return 0;
}
