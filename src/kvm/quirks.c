/* SPDX-License-Identifier: MIT */
/*
 * Where a KVM flavour differs from upstream 6.18: one row per difference (issue 8: "each
 * difference is one named, documented quirk in a table, never a silent special case").  The
 * PVM rows were measured on the development machines (../shared/spec/host-kvm.md) and are
 * re-checked by the real-KVM differential tests, which print the quirk they depend on.
 */
#include "kvm/kvm_internal.h"

static const struct vx_kvm_quirk_info quirks[VX_KVM_QUIRK_COUNT] = {
    [VX_KVM_QUIRK_PVM_SUPPORTED_CPUID_SPARSE] =
	{"pvm-supported-cpuid-sparse", VX_KVM_PVM,
	 "KVM_GET_SUPPORTED_CPUID reports the host's features filtered by kvm_cpu_caps "
	 "(kvm.md §2.1-§2.2)",
	 "leaf 1 ECX lacks SSE3, MOVBE, XSAVE and AVX; 7.0 lacks AVX2 and RDPID; 0x80000001 EDX "
	 "lacks GBPAGES and RDTSCP; leaf 0xD.1 is all zero; KVM_GET_EMULATED_CPUID has no RDPID",
	 "host-kvm.md, Host-side ABI; re-measured by test_kvm_real_diff (2026-12, AMD EPYC)"},
    [VX_KVM_QUIRK_PVM_CPUID_OVERRIDE] =
	{"pvm-cpuid-override", VX_KVM_PVM,
	 "KVM_GET_CPUID2 returns the entries KVM_SET_CPUID2 stored, runtime bits applied "
	 "(kvm.md §1.4, §2.4)",
	 "leaf 1 ECX ORs in the host's features (less CX16, PCID, X2APIC, TSC_DEADLINE, "
	 "OSXSAVE, HYPERVISOR) and EDX becomes the host's (plus the caller's, less DS, ACPI, TM, "
	 "PBE); 7.0 and 7.1 become the host's less INVPCID, SHSTK, RDPID; 0xD.0 = supported_xcr0 "
	 "and its size, 0xD.1 EAX = the host's less XSAVES and XFD with no XSS, 0xD.i = the "
	 "host's for a supported component else zero; a leaf 1 without 0xD.0 gets the host's "
	 "0xD.0, 0xD.1 and component sub-leaves appended; without a 0xD.0 (no YMM) AVX2, VAES, "
	 "VPCLMULQDQ, XOP and FMA4 are cleared; the checks of kvm.md §2.5 run first, guest XCR0 "
	 "support follows the rewritten 0xD.0",
	 "host-kvm.md, Host-side ABI; re-measured by test_kvm_real_diff (2026-12, AMD EPYC)"},
    [VX_KVM_QUIRK_PVM_XSS_HOST_WRITE_FAILS] =
	{"pvm-xss-host-write-fails", VX_KVM_PVM,
	 "host KVM_SET_MSRS(IA32_XSS, 0) succeeds when XSS is advertised; other values "
	 "are checked against guest_supported_xss (kvm.md §3.2)",
	 "host KVM_SET_MSRS of IA32_XSS fails for every value, 0 included; reads give 0",
	 "host-kvm.md, Host-side ABI"},
    [VX_KVM_QUIRK_PVM_NO_CET] =
	{"pvm-no-cet", VX_KVM_PVM,
	 "SHSTK/IBT offered when the host and the vendor controls allow it; CET MSRs exist "
	 "for vCPUs with the caps (kvm.md §1.3, §3.2)",
	 "no SHSTK/IBT caps; host KVM_GET/SET_MSRS of every CET MSR fail; none is in "
	 "KVM_GET_MSR_INDEX_LIST",
	 "host-kvm.md, Host-side ABI"},
    [VX_KVM_QUIRK_PVM_GUEST_XSTATE_MSRS_GP] =
	{"pvm-guest-xstate-msrs-gp", VX_KVM_PVM,
	 "guest RDMSR/WRMSR of XSS/XFD/XFD_ERR follow the per-MSR rules of kvm.md §3.2",
	 "guest RDMSR/WRMSR of IA32_XSS, IA32_XFD, IA32_XFD_ERR raise #GP(0) at CPL0 and "
	 "CPL3",
	 "host-kvm.md, What the guest sees"},
    [VX_KVM_QUIRK_PVM_CPL3_NATIVE] =
	{"pvm-cpl3-native", VX_KVM_PVM,
	 "guest XCR0, CR4.OSXSAVE and the guest's PKRU govern guest user code (kvm.md §4, "
	 "§6.2)",
	 "CPL3 guest code runs natively with the machine's physical XCR0 (XGETBV(0) reads "
	 "the host's XCR0; XSAVES/XRSTORS give #UD); the guest's PKRU is not switched in for "
	 "it either, so a CPL3 WRPKRU does not reach the vCPU's saved PKRU (modelled from the "
	 "same rule, not measured: the development machine has no PKU; vxsave kvm capture's "
	 "guest leaves PKRU alone on this flavour)",
	 "host-kvm.md, How guest code runs"},
    [VX_KVM_QUIRK_PVM_CPUID_HOST_APIC_ID] =
	{"pvm-cpuid-host-apic-id", VX_KVM_PVM,
	 "leaf 1 EBX is what KVM_SET_CPUID2 stored (kvm.md §1.4)",
	 "after KVM_SET_CPUID2 of the supported CPUID, KVM_GET_CPUID2's leaf 1 EBX[31:24] is the "
	 "APIC id of the CPU the ioctl ran on (0 on CPU 0, 1 on CPU 1); not modelled: the model "
	 "answers as CPU 0",
	 "measured by test_kvm_real_diff's development probes (2026-12); the test pins itself "
	 "to CPU 0"},
    [VX_KVM_QUIRK_PVM_CPL3_SSE_IN_USE] =
	{"pvm-cpl3-sse-in-use", VX_KVM_PVM,
	 "the guest fpstate saved at VM exit keeps the guest's XINUSE: a component the guest "
	 "did not touch stays in its init state (XSTATE_BV bit clear in KVM_GET_XSAVE2, "
	 "kvm.md §5.2, §6.2)",
	 "a KVM_RUN that executes any guest code at CPL3 (a lone OUT, UD2 or HLT) leaves SSE in "
	 "use: KVM_GET_XSAVE2 shows XSTATE_BV bit 1 set after KVM_SET_XSAVE with it clear; "
	 "runs that stay at CPL0 (emulated) keep it clear",
	 "tests/unit/test_kvm_real_guest.c, the minimal real guest of tests/kvm_guest on "
	 "kvm_pvm, kernel 6.18.44 (2026-12)"},
    [VX_KVM_QUIRK_PVM_CPL0_EMULATED] =
	{"pvm-cpl0-emulated", VX_KVM_PVM,
	 "guest code runs on the processor in VMX non-root / SVM guest mode at every CPL; "
	 "only intercepted instructions exit (kvm.md §3.2, §4.2, §6.2)",
	 "CPL0 guest code runs in KVM's instruction emulator, which stops with "
	 "KVM_EXIT_INTERNAL_ERROR (suberror 1, RIP on the instruction) at XGETBV, LDMXCSR, "
	 "STMXCSR, FLDCW, FLD/FSTP m80, SSE arithmetic (PXOR), every VEX instruction (VMOVDQU, "
	 "VZEROUPPER), RDSSP and every XSAVE-family instruction; MOVDQU/MOVAPS, FXSAVE/FXRSTOR, "
	 "FNSTCW/FNSTSW/FNINIT, CPUID, XSETBV, RDMSR/WRMSR, OUT and HLT run. Modelled by guest "
	 "op: xgetbv, xsave, rdssp, use, and register moves other than XMM (MOVDQU) and "
	 "FCW/FSW reads stop with KVM_EXIT_INTERNAL_ERROR, the program counter on the op",
	 "tests/unit/test_kvm_real_guest.c (XGETBV, VMOVDQU, LDMXCSR after MOVDQU) and its "
	 "development probes, kvm_pvm, kernel 6.18.44 (2026-12); host-kvm.md (EVEX, KMOV)"},
};

const struct vx_kvm_quirk_info *vx_kvm_quirk_info(enum vx_kvm_quirk quirk)
{
	return (unsigned)quirk < VX_KVM_QUIRK_COUNT ? &quirks[quirk] : NULL;
}

uint64_t vx_kvm_flavour_quirks(enum vx_kvm_flavour flavour)
{
	uint64_t mask = 0;

	for (unsigned i = 0; i < VX_KVM_QUIRK_COUNT; i++)
		if (quirks[i].flavour == flavour)
			mask |= VX_BIT(i);
	return mask;
}
