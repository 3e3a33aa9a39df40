/* SPDX-License-Identifier: MIT */
/*
 * The architectural MSRs vxsave models: number and name, one table (arch.md §3.2, §3.3,
 * §7.2; IA32_PASID from the SDM Vol.4 MSR list).  Which CPU has each one and which values
 * WRMSR accepts are the cpu layer's access rules (src/cpu/msr.c).
 */
#include <vxsave/arch.h>

static const struct vx_msr_info msr_table[] = {
    {VX_MSR_IA32_XFD, "IA32_XFD", "components whose use raises #NM (arch.md §3.3)"},
    {VX_MSR_IA32_XFD_ERR, "IA32_XFD_ERR",
     "the components whose XFD-armed use raised #NM (arch.md §3.3, §5.9)"},
    {VX_MSR_IA32_U_CET, "IA32_U_CET",
     "user-mode CET controls; CET_U bytes 0-7 (arch.md §7.2, §2.5)"},
    {VX_MSR_IA32_S_CET, "IA32_S_CET", "supervisor-mode CET controls (arch.md §7.2)"},
    {VX_MSR_IA32_PL0_SSP, "IA32_PL0_SSP",
     "shadow-stack pointer for CPL 0; CET_S bytes 0-7 (arch.md §7.2, §2.5)"},
    {VX_MSR_IA32_PL1_SSP, "IA32_PL1_SSP",
     "shadow-stack pointer for CPL 1; CET_S bytes 8-15 (arch.md §7.2, §2.5)"},
    {VX_MSR_IA32_PL2_SSP, "IA32_PL2_SSP",
     "shadow-stack pointer for CPL 2; CET_S bytes 16-23 (arch.md §7.2, §2.5)"},
    {VX_MSR_IA32_PL3_SSP, "IA32_PL3_SSP",
     "shadow-stack pointer for CPL 3; CET_U bytes 8-15 (arch.md §7.2, §2.5)"},
    {VX_MSR_IA32_INT_SSP_TAB, "IA32_INTERRUPT_SSP_TABLE_ADDR",
     "linear address of the interrupt shadow-stack table (arch.md §7.2)"},
    {VX_MSR_IA32_PASID, "IA32_PASID",
     "process address-space ID for ENQCMD; PASID bytes 0-7 (arch.md §2.1; SDM Vol.4)"},
    {VX_MSR_IA32_XSS, "IA32_XSS",
     "the supervisor components XSAVES and XRSTORS manage (arch.md §3.2)"},
};

#define MSR_COUNT (sizeof(msr_table) / sizeof(msr_table[0]))

unsigned vx_msr_count(void)
{
	return (unsigned)MSR_COUNT;
}

const struct vx_msr_info *vx_msr_at(unsigned index)
{
	return index < MSR_COUNT ? &msr_table[index] : NULL;
}

const struct vx_msr_info *vx_msr_info(uint32_t msr)
{
	for (unsigned i = 0; i < MSR_COUNT; i++)
		if (msr_table[i].msr == msr)
			return &msr_table[i];
	return NULL;
}
