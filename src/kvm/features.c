/* SPDX-License-Identifier: MIT */
/*
 * The features KVM knows, one row each (kvm.md §1.2-§1.4): where the bit lives (the CPUID word
 * of reverse_cpuid[]), how kvm_set_cpu_caps() declares it, and whether a vCPU gets it by
 * emulation.  The first VX_KF_COUNT rows are in enum vx_kvm_feat_idx order, so rules in the
 * code can name them; the rest complete the words that matter for XSAVE and CET.  A subset of
 * KVM's full initializer lists: bits of a word not listed here are treated as undeclared.
 */
#include <strings.h>

#include "kvm/kvm_internal.h"

#define W1C  VX_KVM_W_1_ECX
#define W1D  VX_KVM_W_1_EDX
#define W7B  VX_KVM_W_7_0_EBX
#define W7C  VX_KVM_W_7_0_ECX
#define W7D  VX_KVM_W_7_0_EDX
#define W71A VX_KVM_W_7_1_EAX
#define W71D VX_KVM_W_7_1_EDX
#define WD1A VX_KVM_W_D_1_EAX
#define WX1C VX_KVM_W_8000_0001_ECX
#define WX1D VX_KVM_W_8000_0001_EDX

#define F    VX_KVM_CAP_F
#define EMU  VX_KVM_CAP_EMULATED
#define PASS VX_KVM_CAP_PASSTHROUGH
#define RT   VX_KVM_CAP_RUNTIME
#define X64  VX_KVM_CAP_X86_64
#define UND  VX_KVM_CAP_UNDECLARED
#define VEMU VX_KVM_FEAT_VCPU_EMULATED
#define ECPU VX_KVM_FEAT_EMULATED_CPUID
#define NOF  VX_FEAT_COUNT

static const struct vx_kvm_word_info words[VX_KVM_NR_WORDS] = {
    [VX_KVM_W_1_ECX] = {"1.ecx", 0x1, 0, VX_ECX},
    [VX_KVM_W_1_EDX] = {"1.edx", 0x1, 0, VX_EDX},
    [VX_KVM_W_7_0_EBX] = {"7.0.ebx", 0x7, 0, VX_EBX},
    [VX_KVM_W_7_0_ECX] = {"7.0.ecx", 0x7, 0, VX_ECX},
    [VX_KVM_W_7_0_EDX] = {"7.0.edx", 0x7, 0, VX_EDX},
    [VX_KVM_W_7_1_EAX] = {"7.1.eax", 0x7, 1, VX_EAX},
    [VX_KVM_W_7_1_EDX] = {"7.1.edx", 0x7, 1, VX_EDX},
    [VX_KVM_W_D_1_EAX] = {"d.1.eax", 0xD, 1, VX_EAX},
    [VX_KVM_W_8000_0001_ECX] = {"80000001.ecx", 0x80000001, 0, VX_ECX},
    [VX_KVM_W_8000_0001_EDX] = {"80000001.edx", 0x80000001, 0, VX_EDX},
};

static const struct vx_kvm_feature_info features[] = {
    /* Rows named by enum vx_kvm_feat_idx, in its order. */
    [VX_KF_SSE3] = {"sse3", W1C, 0, F, 0, NOF, "F (kvm.md §1.3)"},
    [VX_KF_MWAIT] = {"mwait", W1C, 3, RT, VEMU, NOF,
		     "RUNTIME_F, never advertised; MONITOR/MWAIT emulated as NOP, so a vCPU "
		     "whose CPUID has it gets the cap (kvm.md §1.4 step 2)"},
    [VX_KF_X2APIC] = {"x2apic", W1C, 21, EMU, 0, NOF, "EMULATED_F: always (kvm.md §1.3)"},
    [VX_KF_MOVBE] = {"movbe", W1C, 22, F, VEMU | ECPU, NOF,
		     "F, and emulated: a vCPU whose CPUID has it gets it (kvm.md §1.4, §2.3)"},
    [VX_KF_TSC_DEADLINE] = {"tsc_deadline_timer", W1C, 24, EMU, 0, NOF,
			    "EMULATED_F: always (kvm.md §1.3)"},
    [VX_KF_XSAVE] = {"xsave", W1C, 26, F, 0, VX_FEAT_XSAVE, "F (kvm.md §1.3)"},
    [VX_KF_OSXSAVE] = {"osxsave", W1C, 27, RT, 0, VX_FEAT_OSXSAVE,
		       "RUNTIME_F: CR4.OSXSAVE, recomputed at runtime (kvm.md §1.4 step 3)"},
    [VX_KF_AVX] = {"avx", W1C, 28, F, 0, VX_FEAT_AVX, "F (kvm.md §1.3)"},
    [VX_KF_HYPERVISOR] = {"hypervisor", W1C, 31, EMU, 0, NOF, "EMULATED_F: always (kvm.md §1.3)"},
    [VX_KF_FPU] = {"fpu", W1D, 0, F, 0, VX_FEAT_FPU, "F"},
    [VX_KF_FXSR] = {"fxsr", W1D, 24, F, 0, VX_FEAT_FXSR, "F"},
    [VX_KF_SSE] = {"sse", W1D, 25, F, 0, VX_FEAT_SSE, "F"},
    [VX_KF_SSE2] = {"sse2", W1D, 26, F, 0, NOF, "F"},
    [VX_KF_TSC_ADJUST] = {"tsc_adjust", W7B, 1, EMU, 0, NOF, "EMULATED_F: always (kvm.md §1.3)"},
    [VX_KF_AVX2] = {"avx2", W7B, 5, F, 0, NOF, "F"},
    [VX_KF_MPX] = {"mpx", W7B, 14, F, 0, VX_FEAT_MPX,
		   "F, cleared unless supported_xcr0 has BNDREGS and BNDCSR (kvm_mpx_supported)"},
    [VX_KF_AVX512F] = {"avx512f", W7B, 16, F, 0, VX_FEAT_AVX512F, "F"},
    [VX_KF_PKU] = {"pku", W7C, 3, F, 0, VX_FEAT_PKU, "F (needs host CR4.PKE)"},
    [VX_KF_OSPKE] = {"ospke", W7C, 4, RT, 0, VX_FEAT_OSPKE,
		     "RUNTIME_F: CR4.PKE, recomputed at runtime (kvm.md §1.4 step 3)"},
    [VX_KF_SHSTK] = {"shstk", W7C, 7, X64, 0, VX_FEAT_CET_SS,
		     "X86_64_F; needs TDP, no allow_smaller_maxphyaddr, the VMX CET controls, "
		     "XSAVES and both CET xfeatures in host XSS (kvm.md §2.1)"},
    [VX_KF_LA57] = {"la57", W7C, 16, PASS, 0, NOF, "PASSTHROUGH_F: raw CPUID only (kvm.md §1.3)"},
    [VX_KF_RDPID] = {"rdpid", W7C, 22, F, VEMU | ECPU, NOF,
		     "F; emulated when KVM supports RDTSCP (kvm.md §1.4, §2.3)"},
    [VX_KF_IBT] = {"ibt", W7D, 20, F, 0, VX_FEAT_CET_IBT,
		   "F; never on SVM; same conditions as SHSTK (kvm.md §2.1)"},
    [VX_KF_AMX_BF16] = {"amx_bf16", W7D, 22, X64, 0, VX_FEAT_AMX_BF16, "X86_64_F"},
    [VX_KF_AMX_TILE] = {"amx_tile", W7D, 24, X64, 0, VX_FEAT_AMX_TILE, "X86_64_F"},
    [VX_KF_AMX_INT8] = {"amx_int8", W7D, 25, X64, 0, VX_FEAT_AMX_INT8, "X86_64_F"},
    [VX_KF_ARCH_CAPABILITIES] = {"arch_capabilities", W7D, 29, EMU, 0, NOF,
				 "EMULATED_F: always (kvm.md §1.3)"},
    [VX_KF_AMX_FP16] = {"amx_fp16", W71A, 21, X64, 0, VX_FEAT_AMX_FP16, "X86_64_F"},
    [VX_KF_AMX_COMPLEX] = {"amx_complex", W71D, 8, X64, 0, VX_FEAT_AMX_COMPLEX, "X86_64_F"},
    [VX_KF_APX_F] = {"apx_f", W71D, 21, UND, 0, VX_FEAT_APX_F,
		     "not supported by KVM 6.18 (no APX xfeature in KVM_SUPPORTED_XCR0)"},
    [VX_KF_XSAVEOPT] = {"xsaveopt", WD1A, 0, F, 0, VX_FEAT_XSAVEOPT, "F (kvm.md §1.3)"},
    [VX_KF_XSAVEC] = {"xsavec", WD1A, 1, F, 0, VX_FEAT_XSAVEC, "F (kvm.md §1.3)"},
    [VX_KF_XGETBV1] = {"xgetbv1", WD1A, 2, F, 0, VX_FEAT_XGETBV1, "F (kvm.md §1.3)"},
    [VX_KF_XSAVES] = {"xsaves", WD1A, 3, F, 0, VX_FEAT_XSAVES,
		      "F; VMX needs the XSAVES control; SVM forces the vCPU cap to XSAVE's "
		      "(kvm.md §1.3, §1.4)"},
    [VX_KF_XFD] = {"xfd", WD1A, 4, X64, 0, VX_FEAT_XFD, "X86_64_F (kvm.md §1.3)"},
    [VX_KF_LAHF_LM] = {"lahf_lm", WX1C, 0, F, 0, NOF, "F"},
    [VX_KF_SYSCALL] = {"syscall", WX1D, 11, X64, 0, NOF, "X86_64_F"},
    [VX_KF_NX] = {"nx", WX1D, 20, F, 0, NOF, "F"},
    [VX_KF_GBPAGES] = {"gbpages", WX1D, 26, F, 0, NOF,
		       "F; with TDP a vCPU has it iff the host has it (kvm.md §1.4 step 4)"},
    [VX_KF_RDTSCP] = {"rdtscp", WX1D, 27, F, 0, NOF, "F"},
    [VX_KF_LM] = {"lm", WX1D, 29, X64, 0, VX_FEAT_LM, "X86_64_F"},
    /* The rest of the words' plain F features that guests commonly see. */
    {"pclmulqdq", W1C, 1, F, 0, NOF, "F"},
    {"ssse3", W1C, 9, F, 0, NOF, "F"},
    {"fma", W1C, 12, F, 0, NOF, "F"},
    {"cx16", W1C, 13, F, 0, NOF, "F"},
    {"pcid", W1C, 17, F, 0, NOF, "F"},
    {"sse4_1", W1C, 19, F, 0, NOF, "F"},
    {"sse4_2", W1C, 20, F, 0, NOF, "F"},
    {"popcnt", W1C, 23, F, 0, NOF, "F"},
    {"aes", W1C, 25, F, 0, NOF, "F"},
    {"f16c", W1C, 29, F, 0, NOF, "F"},
    {"rdrand", W1C, 30, F, 0, NOF, "F"},
    {"tsc", W1D, 4, F, 0, NOF, "F"},
    {"msr", W1D, 5, F, 0, NOF, "F"},
    {"cx8", W1D, 8, F, 0, NOF, "F"},
    {"apic", W1D, 9, F, 0, NOF, "F; runtime: APIC_BASE.EN (kvm.md §1.4 step 3)"},
    {"cmov", W1D, 15, F, 0, NOF, "F"},
    {"mmx", W1D, 23, F, 0, NOF, "F"},
    {"fsgsbase", W7B, 0, F, 0, NOF, "F"},
    {"bmi1", W7B, 3, F, 0, NOF, "F"},
    {"smep", W7B, 7, F, 0, NOF, "F"},
    {"bmi2", W7B, 8, F, 0, NOF, "F"},
    {"erms", W7B, 9, F, 0, NOF, "F"},
    {"invpcid", W7B, 10, F, 0, NOF, "F"},
    {"avx512dq", W7B, 17, F, 0, NOF, "F"},
    {"rdseed", W7B, 18, F, 0, NOF, "F"},
    {"adx", W7B, 19, F, 0, NOF, "F"},
    {"smap", W7B, 20, F, 0, NOF, "F"},
    {"avx512ifma", W7B, 21, F, 0, NOF, "F"},
    {"clflushopt", W7B, 23, F, 0, NOF, "F"},
    {"clwb", W7B, 24, F, 0, NOF, "F"},
    {"avx512cd", W7B, 28, F, 0, NOF, "F"},
    {"sha_ni", W7B, 29, F, 0, NOF, "F"},
    {"avx512bw", W7B, 30, F, 0, NOF, "F"},
    {"avx512vl", W7B, 31, F, 0, NOF, "F"},
    {"avx512vbmi", W7C, 1, F, 0, NOF, "F"},
    {"umip", W7C, 2, F, 0, NOF, "F"},
    {"avx512_vbmi2", W7C, 6, F, 0, NOF, "F"},
    {"gfni", W7C, 8, F, 0, NOF, "F"},
    {"vaes", W7C, 9, F, 0, NOF, "F"},
    {"vpclmulqdq", W7C, 10, F, 0, NOF, "F"},
    {"avx512_vnni", W7C, 11, F, 0, NOF, "F"},
    {"avx512_bitalg", W7C, 12, F, 0, NOF, "F"},
    {"avx512_vpopcntdq", W7C, 14, F, 0, NOF, "F"},
    {"fsrm", W7D, 4, F, 0, NOF, "F"},
    {"serialize", W7D, 14, F, 0, NOF, "F"},
    {"avx512_fp16", W7D, 23, F, 0, NOF, "F"},
    {"avx_vnni", W71A, 4, F, 0, NOF, "F"},
    {"avx512_bf16", W71A, 5, F, 0, NOF, "F"},
    {"abm", WX1C, 5, F, 0, NOF, "F"},
    {"sse4a", WX1C, 6, F, 0, NOF, "F"},
    {"misalignsse", WX1C, 7, F, 0, NOF, "F"},
    {"3dnowprefetch", WX1C, 8, F, 0, NOF, "F"},
    {"mmxext", WX1D, 22, F, 0, NOF, "F"},
};

#define NFEATURES (sizeof(features) / sizeof(features[0]))

const struct vx_kvm_word_info *vx_kvm_word_info(enum vx_kvm_word word)
{
	return (unsigned)word < VX_KVM_NR_WORDS ? &words[word] : NULL;
}

unsigned vx_kvm_feature_count(void)
{
	return (unsigned)NFEATURES;
}

const struct vx_kvm_feature_info *vx_kvm_feature_at(unsigned index)
{
	return index < NFEATURES ? &features[index] : NULL;
}

int vx_kvm_feature_by_name(const char *name)
{
	for (unsigned i = 0; name && i < NFEATURES; i++)
		if (strcasecmp(features[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

unsigned vx_kvm_find_feature(enum vx_kvm_word word, unsigned bit)
{
	for (unsigned i = 0; i < NFEATURES; i++)
		if (features[i].word == word && features[i].bit == bit)
			return i;
	return VX_KF_COUNT + (unsigned)NFEATURES; /* none */
}
