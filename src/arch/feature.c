/* SPDX-License-Identifier: MIT */
/*
 * The CPUID feature-flag table: where each flag that matters for XSAVE and CET lives.
 * One row per flag; profiles, diagnostics and the CLI all read this table (arch.md §1.1,
 * §1.3, §7.1, linux-fpu for HWP/HDC).
 */
#include <vxsave/arch.h>

#include "arch/text.h"

#define FEAT(id, nm, lf, sub, r, b, text)                                                         \
	[(id)] = {.name = (nm),                                                                    \
		  .leaf = (lf),                                                                    \
		  .subleaf = (sub),                                                                \
		  .reg = (r),                                                                      \
		  .bit = (b),                                                                      \
		  .description = (text)}

static const struct vx_feature_info feature_table[VX_FEAT_COUNT] = {
	FEAT(VX_FEAT_FPU, "fpu", 0x1, 0, VX_EDX, 0, "x87 FPU on chip"),
	FEAT(VX_FEAT_FXSR, "fxsr", 0x1, 0, VX_EDX, 24, "FXSAVE/FXRSTOR"),
	FEAT(VX_FEAT_SSE, "sse", 0x1, 0, VX_EDX, 25, "SSE"),
	FEAT(VX_FEAT_XSAVE, "xsave", 0x1, 0, VX_ECX, 26, "XSAVE/XRSTOR/XSETBV/XGETBV and XCR0 (§1.1)"),
	FEAT(VX_FEAT_OSXSAVE, "osxsave", 0x1, 0, VX_ECX, 27, "CR4.OSXSAVE as seen by software (§1.1)"),
	FEAT(VX_FEAT_AVX, "avx", 0x1, 0, VX_ECX, 28, "AVX: component 2 usable (§1.1)"),
	FEAT(VX_FEAT_FDP_EXCP_ONLY, "fdp_excp_only", 0x7, 0, VX_EBX, 6,
	     "x87 FDP updated only on unmasked exceptions (§2.2)"),
	FEAT(VX_FEAT_FCS_FDS_DEPRECATED, "fcs_fds_deprecated", 0x7, 0, VX_EBX, 13,
	     "FCS and FDS stored as 0 (§2.2)"),
	FEAT(VX_FEAT_MPX, "mpx", 0x7, 0, VX_EBX, 14, "MPX: components 3 and 4 (§1.1)"),
	FEAT(VX_FEAT_AVX512F, "avx512f", 0x7, 0, VX_EBX, 16, "AVX-512 Foundation: components 5-7"),
	FEAT(VX_FEAT_PT, "pt", 0x7, 0, VX_EBX, 25, "Intel Processor Trace: component 8"),
	FEAT(VX_FEAT_PKU, "pku", 0x7, 0, VX_ECX, 3, "Protection keys: component 9 (§1.1)"),
	FEAT(VX_FEAT_OSPKE, "ospke", 0x7, 0, VX_ECX, 4, "CR4.PKE as seen by software"),
	FEAT(VX_FEAT_CET_SS, "cet_ss", 0x7, 0, VX_ECX, 7, "CET shadow stacks (§7.1)"),
	FEAT(VX_FEAT_ENQCMD, "enqcmd", 0x7, 0, VX_ECX, 29, "ENQCMD and IA32_PASID: component 10"),
	FEAT(VX_FEAT_UINTR, "uintr", 0x7, 0, VX_EDX, 5, "User interrupts: component 14"),
	FEAT(VX_FEAT_ARCH_LBR, "arch_lbr", 0x7, 0, VX_EDX, 19, "Architectural LBR: component 15"),
	FEAT(VX_FEAT_CET_IBT, "cet_ibt", 0x7, 0, VX_EDX, 20, "CET indirect-branch tracking (§7.1)"),
	FEAT(VX_FEAT_AMX_BF16, "amx_bf16", 0x7, 0, VX_EDX, 22, "AMX BF16"),
	FEAT(VX_FEAT_AMX_TILE, "amx_tile", 0x7, 0, VX_EDX, 24, "AMX tiles: components 17 and 18"),
	FEAT(VX_FEAT_AMX_INT8, "amx_int8", 0x7, 0, VX_EDX, 25, "AMX INT8"),
	FEAT(VX_FEAT_AMX_FP16, "amx_fp16", 0x7, 1, VX_EAX, 21, "AMX FP16"),
	FEAT(VX_FEAT_AMX_COMPLEX, "amx_complex", 0x7, 1, VX_EDX, 8, "AMX complex"),
	FEAT(VX_FEAT_CET_SSS, "cet_sss", 0x7, 1, VX_EDX, 18,
	     "Supervisor shadow stacks safe to enable (§7.1)"),
	FEAT(VX_FEAT_AVX10, "avx10", 0x7, 1, VX_EDX, 19, "AVX10 (implies components 5-7)"),
	FEAT(VX_FEAT_APX_F, "apx_f", 0x7, 1, VX_EDX, 21, "APX extended GPRs: component 19"),
	FEAT(VX_FEAT_HWP, "hwp", 0x6, 0, VX_EAX, 7, "Hardware P-states: component 16"),
	FEAT(VX_FEAT_HDC, "hdc", 0x6, 0, VX_EAX, 13, "Hardware duty cycling: component 13"),
	FEAT(VX_FEAT_XSAVEOPT, "xsaveopt", 0xD, 1, VX_EAX, 0, "XSAVEOPT (§1.3)"),
	FEAT(VX_FEAT_XSAVEC, "xsavec", 0xD, 1, VX_EAX, 1, "XSAVEC and compacted XRSTOR (§1.3)"),
	FEAT(VX_FEAT_XGETBV1, "xgetbv1", 0xD, 1, VX_EAX, 2, "XGETBV with ECX=1 (XINUSE) (§1.3)"),
	FEAT(VX_FEAT_XSAVES, "xsaves", 0xD, 1, VX_EAX, 3, "XSAVES/XRSTORS and IA32_XSS (§1.3)"),
	FEAT(VX_FEAT_XFD, "xfd", 0xD, 1, VX_EAX, 4, "IA32_XFD and IA32_XFD_ERR (§1.3)"),
	FEAT(VX_FEAT_LM, "lm", 0x80000001, 0, VX_EDX, 29, "Long mode (Intel 64 / AMD64)"),
	FEAT(VX_FEAT_LWP, "lwp", 0x80000001, 0, VX_ECX, 15, "AMD lightweight profiling: component 62"),
	FEAT(VX_FEAT_RSTR_FP_ERR_PTRS, "rstr_fp_err_ptrs", 0x80000008, 0, VX_EBX, 2,
	     "AMD: FIP/FDP/FOP always saved and restored (§2.2)"),
};

const struct vx_feature_info *vx_feature_info(enum vx_feature feature)
{
	if ((unsigned)feature >= VX_FEAT_COUNT)
		return NULL;
	return &feature_table[feature];
}

int vx_feature_by_name(const char *name)
{
	if (!name)
		return -1;
	for (unsigned i = 0; i < VX_FEAT_COUNT; i++)
		if (vx_name_matches(feature_table[i].name, name, vx_strlen(name)))
			return (int)i;
	return -1;
}
