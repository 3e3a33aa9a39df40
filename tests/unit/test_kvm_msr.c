/* SPDX-License-Identifier: MIT */
/*
 * kvm layer: the MSRs (kvm.md §3.1-§3.3), KVM_GET/SET_MSRS, the MSR index lists, ONE_REG and
 * KVM_GET_REG_LIST (§3.4), and where each CET register lives per CET_S design (§6.3, issue 8).
 *
 * kvm.md §8 items covered (the model expresses them without a guest program; guest accesses
 * are the RDMSR/WRMSR exits, vx_kvm_vcpu_get/set_msr with host = false), with the test:
 *   §8.1  1 S_CET/U_CET read 0 at reset, SHSTK_EN written and read back: msr_rules
 *         3 reserved bits 9:6 → #GP: msr_rules
 *         5 SHSTK-only vCPU: ENDBR_EN → #GP, and the SVM case: msr_rules, svm_rules
 *         7 PL0-3_SSP = 0x123456789000 written and read back: msr_rules
 *         9 PLx_SSP | 1 → #GP: msr_rules
 *        11 host reads the guest's value, writes the reset value 0: host_sees_guest_writes
 *        13 U_CET/S_CET listed ⇔ supported SHSTK or IBT; PLx ⇔ SHSTK: index_list_rules
 *        15 GET_ONE_REG(GUEST_SSP) without SHSTK → EINVAL: one_reg_ids
 *        17 GUEST_SSP 0 at reset, 0x123456789000 set and read back: one_reg_guest_ssp
 *        19 SET_ONE_REG(MSR) behaves like KVM_SET_MSRS: one_reg_guest_ssp
 *        21 three vCPUs on one thread migrated between CPUs keep their CET state:
 *           three_vcpus_migrating (and designs_storage for every CET_S design)
 *        23 INT_SSP_TAB = 1 accepted (no alignment), non-canonical refused: msr_rules
 *        25 U_CET SUPPRESS|WAIT_ENDBR → #GP: msr_rules
 *   §8.4 45 fresh vCPU: KVM_GET_MSRS(IA32_XSS) = 0: xss_bits
 *        47 KVM_SET_MSRS(XSS, 1 << i) returns 0 or 1, 1 only when XSS is listed; with CET in
 *           guest 0xD.1 ECX bits 11 and 12 succeed: xss_bits
 *   §8.6 69 (its MSR part) XFD = XFD_ERR = XTILE_DATA with AMX, kept across a host
 *           save/restore: amx_xfd
 * Not here: §8.1 item 27 (CR4/CR0: cr.c) and the guest-program items (run.c, test_kvm_designs).
 *
 * Every expected value is hand-computed from kvm.md §3 (the rule named beside each case), the
 * profiles' CPUID (SPR: LA57, SHSTK, IBT, AMX/XFD; Zen 4: SHSTK, no IBT, no XFD; Alder Lake: no
 * LA57) or measured on this machine's kvm_pvm (host-kvm.md and the probe quoted in pvm_*).
 */
#include "kvm_test_util.h"

#include <vxsave/kvm_regs.h>

#include "kvm/msr_internal.h"

#define SPR  "sapphire-rapids"
#define ZEN4 "zen4"
#define ADL  "alder-lake"

#define XSS	  VX_MSR_IA32_XSS
#define XFD	  VX_MSR_IA32_XFD
#define XFD_ERR	  VX_MSR_IA32_XFD_ERR
#define U_CET	  VX_MSR_IA32_U_CET
#define S_CET	  VX_MSR_IA32_S_CET
#define PL0	  VX_MSR_IA32_PL0_SSP
#define PL1	  VX_MSR_IA32_PL1_SSP
#define PL2	  VX_MSR_IA32_PL2_SSP
#define PL3	  VX_MSR_IA32_PL3_SSP
#define ISST	  VX_MSR_IA32_INT_SSP_TAB
#define GSSP	  VX_MSR_KVM_INTERNAL_GUEST_SSP
#define ARCH_CAPS 0x10Au

#define SSPV  UINT64_C(0x123456789000)	   /* kvm.md §8.1 item 7 */
#define NC57  UINT64_C(0x0100000000000000) /* bit 56 alone: non-canonical with 57 bits */
#define C48   UINT64_C(0x0000800000000000) /* bit 47 alone: canonical only with 57 bits */
#define XTILE UINT64_C(0x40000)
#define CET   UINT64_C(0x1800)

/* ----------------------------------------------------------------------------------------- */
/* vCPUs with CPUID variants                                                                    */

enum vkind { V_FULL, V_NO_CET, V_SHSTK_ONLY, V_IBT_ONLY, V_NO_XSAVES, V_NO_LM, V_NO_XFD, V_EMPTY };

/* The bits each variant clears from the supported CPUID (SDM bit positions). */
static const struct {
	enum vkind kind;
	uint32_t leaf, subleaf;
	enum vx_cpuid_reg reg;
	uint32_t mask;
} clears[] = {
    {V_NO_CET, 7, 0, VX_ECX, 1u << 7},		/* SHSTK */
    {V_NO_CET, 7, 0, VX_EDX, 1u << 20},		/* IBT */
    {V_SHSTK_ONLY, 7, 0, VX_EDX, 1u << 20},	/* IBT */
    {V_IBT_ONLY, 7, 0, VX_ECX, 1u << 7},	/* SHSTK */
    {V_NO_XSAVES, 0xD, 1, VX_EAX, 1u << 3},	/* XSAVES */
    {V_NO_LM, 0x80000001, 0, VX_EDX, 1u << 29}, /* LM */
    {V_NO_XFD, 0xD, 1, VX_EAX, 1u << 4},	/* XFD */
};

static void clear_bits(struct vx_kvm_cpuid_entry *ents, uint32_t n, enum vkind kind)
{
	for (size_t i = 0; i < sizeof(clears) / sizeof(clears[0]); i++) {
		struct vx_kvm_cpuid_entry *e;

		if (clears[i].kind != kind)
			continue;
		e = (struct vx_kvm_cpuid_entry *)(uintptr_t)kt_find(ents, n, clears[i].leaf,
								    clears[i].subleaf);
		uint32_t *regs[4] = {&e->eax, &e->ebx, &e->ecx, &e->edx};
		*regs[clears[i].reg] &= ~clears[i].mask;
	}
}

static struct vx_kvm_vcpu *make_vcpu(struct kt_env *e, struct vx_kvm_vm **vm, unsigned id,
				     enum vkind kind)
{
	struct vx_kvm_cpuid_entry ents[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vcpu *v = kt_vcpu(e, vm, id);
	uint32_t n;

	if (kind == V_EMPTY)
		return v;
	n = kt_supported(e, ents, VX_KVM_MAX_CPUID_ENTRIES);
	clear_bits(ents, n, kind);
	ft_check(vx_kvm_vcpu_set_cpuid2(v, e->vmm, ents, n, &err), &err, "KVM_SET_CPUID2");
	return v;
}

static int hset(struct vx_kvm_vcpu *v, uint32_t msr, uint64_t value)
{
	struct vx_error err = VX_ERROR_INIT;

	return vx_kvm_vcpu_set_msr(v, true, msr, value, &err);
}

static int hget(struct vx_kvm_vcpu *v, uint32_t msr, uint64_t *value)
{
	struct vx_error err = VX_ERROR_INIT;

	return vx_kvm_vcpu_get_msr(v, true, msr, value, &err);
}

static uint64_t hget_ok(struct vx_kvm_vcpu *v, uint32_t msr)
{
	uint64_t value = 0xdead;

	if (hget(v, msr, &value) != 0)
		fail_msg("host read of MSR 0x%x failed", msr);
	return value;
}

/* A host-side read of @msr on model CPU @cpu (what any code on that CPU would find). */
static uint64_t cpu_msr(struct kt_env *e, unsigned cpu, uint32_t msr)
{
	uint64_t value = 0xdead;

	if (vx_cpu_msr_access(vx_fpu_machine_cpu(e->machine, cpu), VX_MSR_HOST, VX_MSR_READ, msr,
			      &value, NULL) != 0)
		fail_msg("CPU %u has no MSR 0x%x", cpu, msr);
	return value;
}

static void cpu_msr_write(struct kt_env *e, unsigned cpu, uint32_t msr, uint64_t value)
{
	if (vx_cpu_msr_access(vx_fpu_machine_cpu(e->machine, cpu), VX_MSR_HOST, VX_MSR_WRITE, msr,
			      &value, NULL) != 0)
		fail_msg("CPU %u refused MSR 0x%x = 0x%llx", cpu, msr, (unsigned long long)value);
}

/* ----------------------------------------------------------------------------------------- */
/* Every rule of every MSR, host and guest (kvm.md §3.1-§3.2), on SPR with VMX                  */

struct msr_case {
	const char *name;
	bool ignore_msrs;
	enum vkind kind;
	bool host, write;
	uint32_t index;
	uint64_t value;
	int rc;		/* 0, or 1: the access failed */
	uint64_t after; /* a host read afterwards (reads: the value read) */
};

#define H  true
#define G  false
#define W  true
#define R  false
#define IG true

/* SPR, VMX, guest-only: supported CPUID has SHSTK, IBT, XSAVES, XFD, LM; 0xD.1 ECX = CET_U|
 * CET_S so guest_supported_xss = 0x1800; no AMX permission, so guest_supported_xcr0 lacks
 * XTILE_DATA; KVM supports LA57 (7.0 ECX[16]) so addresses are canonical in 57 bits. */
static const struct msr_case spr_cases[] = {
    /* IA32_XSS (§3.2, x86.c:4125-4135, 4585-4590) */
    {"xss host write CET_U|CET_S", 0, V_FULL, H, W, XSS, CET, 0, CET},
    {"xss host write PT (bit 8, not KVM-supported) → GP", 0, V_FULL, H, W, XSS, 0x100, 1, 0},
    {"xss guest write CET_S", 0, V_FULL, G, W, XSS, 0x1000, 0, 0x1000},
    {"xss guest write PASID (bit 10) → GP", 0, V_FULL, G, W, XSS, 0x400, 1, 0},
    {"xss guest read", 0, V_FULL, G, R, XSS, 0, 0, 0},
    {"xss no XSAVES in CPUID: host write 0 (advertised)", 0, V_NO_XSAVES, H, W, XSS, 0, 0, 0},
    {"xss no XSAVES: host write CET_U → UNSUP", 0, V_NO_XSAVES, H, W, XSS, 0x800, 1, 0},
    {"xss no XSAVES: guest write 0 → UNSUP = GP", 0, V_NO_XSAVES, G, W, XSS, 0, 1, 0},
    {"xss no XSAVES: guest read → GP", 0, V_NO_XSAVES, G, R, XSS, 0, 1, 0},
    {"xss no XSAVES: host read works", 0, V_NO_XSAVES, H, R, XSS, 0, 0, 0},
    {"xss no XSAVES, ignore_msrs: guest write ignored", IG, V_NO_XSAVES, G, W, XSS, 0x800, 0, 0},
    {"xss no XSAVES, ignore_msrs: guest read is GP, not UNSUP", IG, V_NO_XSAVES, G, R, XSS, 0, 1,
     0},
    {"xss no CPUID at all: host write CET_U → UNSUP", 0, V_EMPTY, H, W, XSS, 0x800, 1, 0},
    /* IA32_XFD and IA32_XFD_ERR (§3.2, x86.c:4295-4313, 4654-4666) */
    {"xfd host write 0", 0, V_FULL, H, W, XFD, 0, 0, 0},
    {"xfd host write XTILE_DATA, not in guest_supported_xcr0 → GP", 0, V_FULL, H, W, XFD, XTILE, 1,
     0},
    {"xfd guest write XTILE_DATA without AMX → GP", 0, V_FULL, G, W, XFD, XTILE, 1, 0},
    {"xfd guest write bit 0 → GP", 0, V_FULL, G, W, XFD, 1, 1, 0},
    {"xfd guest read", 0, V_FULL, G, R, XFD, 0, 0, 0},
    {"xfd no XFD cap: guest read → GP", 0, V_NO_XFD, G, R, XFD, 0, 1, 0},
    {"xfd no XFD cap: guest write 0 → GP", 0, V_NO_XFD, G, W, XFD, 0, 1, 0},
    {"xfd no XFD cap: host write 0", 0, V_NO_XFD, H, W, XFD, 0, 0, 0},
    {"xfd no XFD cap: host read", 0, V_NO_XFD, H, R, XFD, 0, 0, 0},
    {"xfd no XFD cap, ignore_msrs: guest read is GP, not UNSUP", IG, V_NO_XFD, G, R, XFD, 0, 1, 0},
    {"xfd_err host write 0", 0, V_FULL, H, W, XFD_ERR, 0, 0, 0},
    {"xfd_err guest write XTILE_DATA without AMX → GP", 0, V_FULL, G, W, XFD_ERR, XTILE, 1, 0},
    {"xfd_err host write bit 0 → GP", 0, V_FULL, H, W, XFD_ERR, 1, 1, 0},
    {"xfd_err no XFD cap: guest read → GP", 0, V_NO_XFD, G, R, XFD_ERR, 0, 1, 0},
    {"xfd_err no XFD cap: host write 0", 0, V_NO_XFD, H, W, XFD_ERR, 0, 0, 0},
    /* IA32_U_CET (§3.1 kvm_is_valid_u_s_cet, §3.2) */
    {"u_cet guest read at reset (8.1 #1)", 0, V_FULL, G, R, U_CET, 0, 0, 0},
    {"u_cet guest write SHSTK_EN (8.1 #1)", 0, V_FULL, G, W, U_CET, 1, 0, 1},
    {"u_cet guest write reserved bit 6 (8.1 #3)", 0, V_FULL, G, W, U_CET, 0x40, 1, 0},
    {"u_cet host write reserved bit 9", 0, V_FULL, H, W, U_CET, 0x200, 1, 0},
    {"u_cet SUPPRESS|WAIT_ENDBR → GP (8.1 #25)", 0, V_FULL, G, W, U_CET, 0xC00, 1, 0},
    {"u_cet ENDBR_EN|SUPPRESS", 0, V_FULL, G, W, U_CET, 0x404, 0, 0x404},
    {"u_cet bitmap base bit 12 → GP", 0, V_FULL, H, W, U_CET, 0x1004, 1, 0},
    {"u_cet bitmap base bit 13 → GP", 0, V_FULL, H, W, U_CET, 0x2004, 1, 0},
    {"u_cet bitmap base bit 14 (multiple of 4)", 0, V_FULL, H, W, U_CET, 0x4004, 0, 0x4004},
    {"u_cet SHSTK-only vCPU: ENDBR_EN → GP (8.1 #5)", 0, V_SHSTK_ONLY, G, W, U_CET, 4, 1, 0},
    {"u_cet SHSTK-only: SHSTK_EN|WRSS_EN", 0, V_SHSTK_ONLY, G, W, U_CET, 3, 0, 3},
    {"u_cet SHSTK-only: SUPPRESS (IBT range) → GP", 0, V_SHSTK_ONLY, H, W, U_CET, 0x400, 1, 0},
    {"u_cet IBT-only vCPU: SHSTK_EN → GP", 0, V_IBT_ONLY, G, W, U_CET, 1, 1, 0},
    {"u_cet IBT-only: WRSS_EN → GP", 0, V_IBT_ONLY, H, W, U_CET, 2, 1, 0},
    {"u_cet IBT-only: ENDBR_EN|NO_TRACK_EN", 0, V_IBT_ONLY, G, W, U_CET, 0x14, 0, 0x14},
    {"u_cet no CET caps: guest read → UNSUP = GP", 0, V_NO_CET, G, R, U_CET, 0, 1, 0},
    {"u_cet no CET caps: host read 0 (advertised)", 0, V_NO_CET, H, R, U_CET, 0, 0, 0},
    {"u_cet no CET caps: host write 0 (advertised)", 0, V_NO_CET, H, W, U_CET, 0, 0, 0},
    {"u_cet no CET caps: host write SHSTK_EN → UNSUP", 0, V_NO_CET, H, W, U_CET, 1, 1, 0},
    {"u_cet no CET caps: guest write 0 → GP", 0, V_NO_CET, G, W, U_CET, 0, 1, 0},
    {"u_cet no CET, ignore_msrs: guest write ignored", IG, V_NO_CET, G, W, U_CET, 1, 0, 0},
    {"u_cet no CET, ignore_msrs: guest read 0", IG, V_NO_CET, G, R, U_CET, 0, 0, 0},
    /* IA32_S_CET: same rules, VMCS storage (§3.2) */
    {"s_cet guest read at reset (8.1 #1)", 0, V_FULL, G, R, S_CET, 0, 0, 0},
    {"s_cet guest write SHSTK_EN (8.1 #1)", 0, V_FULL, G, W, S_CET, 1, 0, 1},
    {"s_cet reserved bit 7 (8.1 #3)", 0, V_FULL, G, W, S_CET, 0x80, 1, 0},
    {"s_cet SUPPRESS|WAIT_ENDBR → GP", 0, V_FULL, H, W, S_CET, 0xC00, 1, 0},
    {"s_cet SHSTK-only: ENDBR_EN → GP (8.1 #5)", 0, V_SHSTK_ONLY, G, W, S_CET, 4, 1, 0},
    {"s_cet IBT-only: WRSS_EN → GP", 0, V_IBT_ONLY, H, W, S_CET, 2, 1, 0},
    {"s_cet no CET: host write 0 (advertised)", 0, V_NO_CET, H, W, S_CET, 0, 0, 0},
    {"s_cet no CET: guest read → GP", 0, V_NO_CET, G, R, S_CET, 0, 1, 0},
    {"s_cet non-canonical bitmap base stored verbatim (no canonical rule)", 0, V_FULL, H, W, S_CET,
     NC57 | 4, 0, NC57 | 4},
    /* IA32_INT_SSP_TAB (§3.2, x86.c:1922-1936) */
    {"int_ssp_tab host write 1: no alignment rule (8.1 #23)", 0, V_FULL, H, W, ISST, 1, 0, 1},
    {"int_ssp_tab non-canonical → GP (8.1 #23)", 0, V_FULL, H, W, ISST, NC57, 1, 0},
    {"int_ssp_tab bit 47 is canonical with LA57", 0, V_FULL, G, W, ISST, C48, 0, C48},
    {"int_ssp_tab no LM: guest write → UNSUP = GP", 0, V_NO_LM, G, W, ISST, 0x1000, 1, 0},
    {"int_ssp_tab no LM: host write 0 (advertised)", 0, V_NO_LM, H, W, ISST, 0, 0, 0},
    {"int_ssp_tab no LM: host write value → UNSUP", 0, V_NO_LM, H, W, ISST, 0x1000, 1, 0},
    {"int_ssp_tab no LM: guest read (reads check SHSTK only)", 0, V_NO_LM, G, R, ISST, 0, 0, 0},
    {"int_ssp_tab no CET: guest read → GP", 0, V_NO_CET, G, R, ISST, 0, 1, 0},
    {"int_ssp_tab IBT-only: host read 0 (advertised)", 0, V_IBT_ONLY, H, R, ISST, 0, 0, 0},
    /* The guest SSP, synthetic index (§3.2, x86.c:1907-1936) */
    {"guest ssp guest read → GP (host only)", 0, V_FULL, G, R, GSSP, 0, 1, 0},
    {"guest ssp guest write → GP", 0, V_FULL, G, W, GSSP, SSPV, 1, 0},
    {"guest ssp host write", 0, V_FULL, H, W, GSSP, SSPV, 0, SSPV},
    {"guest ssp host write unaligned → GP", 0, V_FULL, H, W, GSSP, SSPV | 3, 1, 0},
    {"guest ssp host write non-canonical → GP", 0, V_FULL, H, W, GSSP, NC57, 1, 0},
    {"guest ssp no SHSTK: host read (never advertised)", 0, V_IBT_ONLY, H, R, GSSP, 0, 1, 0},
    {"guest ssp no CET: host write 0 (never advertised)", 0, V_NO_CET, H, W, GSSP, 0, 1, 0},
    {"guest ssp no CET, ignore_msrs: host read 0", IG, V_NO_CET, H, R, GSSP, 0, 0, 0},
    {"guest ssp guest read, ignore_msrs: GP, not UNSUP", IG, V_FULL, G, R, GSSP, 0, 1, 0},
    /* An MSR the model does not implement: UNSUP, never advertised (§3.1) */
    {"unknown MSR 0x10: host read", 0, V_FULL, H, R, 0x10, 0, 1, 0},
    {"unknown MSR 0x10, ignore_msrs: host read 0", IG, V_FULL, H, R, 0x10, 0, 0, 0},
    {"unknown MSR 0x10, ignore_msrs: guest write ignored", IG, V_FULL, G, W, 0x10, 5, 0, 0},
};

/* PL0-3_SSP: the same rules for each of the four (§3.2, x86.c:1922-1936). */
static const struct msr_case pl_cases[] = {
    {"guest write 0x123456789000 (8.1 #7)", 0, V_FULL, G, W, 0, SSPV, 0, SSPV},
    {"guest write | 1 → GP (8.1 #9)", 0, V_FULL, G, W, 0, SSPV | 1, 1, 0},
    {"host write | 2 → GP", 0, V_FULL, H, W, 0, SSPV | 2, 1, 0},
    {"host write bit 56 alone: non-canonical in 57 bits → GP", 0, V_FULL, H, W, 0, NC57, 1, 0},
    {"host write bit 47 alone: canonical with LA57", 0, V_FULL, H, W, 0, C48, 0, C48},
    {"IBT-only vCPU: host read 0 (advertised)", 0, V_IBT_ONLY, H, R, 0, 0, 0, 0},
    {"IBT-only vCPU: guest write → UNSUP = GP", 0, V_IBT_ONLY, G, W, 0, SSPV, 1, 0},
    {"no CET: host write 0 (advertised)", 0, V_NO_CET, H, W, 0, 0, 0, 0},
    {"no CET: host write value → UNSUP", 0, V_NO_CET, H, W, 0, SSPV, 1, 0},
    {"no CET, ignore_msrs: guest write ignored", IG, V_NO_CET, G, W, 0, SSPV, 0, 0},
};

/* Run one case on a fresh vCPU of @e; returns false (after printing why) on a mismatch. */
static bool run_case(struct kt_env *e, const struct msr_case *c, uint32_t index)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *v = make_vcpu(e, &vm, 0, c->kind);
	uint64_t value = c->write ? c->value : 0x5a5a, after = 0x5a5a;
	int rc = c->write ? vx_kvm_vcpu_set_msr(v, c->host, index, value, &err)
			  : vx_kvm_vcpu_get_msr(v, c->host, index, &value, &err);
	bool ok = rc == c->rc;

	/* A read gives the expected value, or 0 when it failed (§3.1: a failed read stores 0). */
	if (!c->write)
		ok = ok && value == (c->rc ? 0 : c->after);
	/* Afterwards the host sees the stored value (0: nothing was stored). */
	(void)hget(v, index, &after);
	if (c->write || c->rc == 0)
		ok = ok && after == c->after;
	/* A refusal names the MSR. */
	ok = ok && (rc == 0 || (err.msr == index && err.rule != NULL));
	if (!ok)
		print_message("FAIL %s (MSR 0x%x): rc %d want %d, value 0x%llx, after 0x%llx want "
			      "0x%llx: %s\n",
			      c->name, index, rc, c->rc, (unsigned long long)value,
			      (unsigned long long)after, (unsigned long long)c->after, err.reason);
	vx_kvm_vm_destroy(vm);
	return ok;
}

static void msr_rules(void **state)
{
	struct kt_env env[2];
	struct vx_kvm_options o;
	unsigned failures = 0;

	(void)state;
	for (int i = 0; i < 2; i++) {
		vx_kvm_options_init(&o, VX_KVM_VMX);
		o.ignore_msrs = i == 1;
		kt_up_opts(&env[i], SPR, &o);
	}
	for (size_t i = 0; i < sizeof(spr_cases) / sizeof(spr_cases[0]); i++)
		failures +=
		    !run_case(&env[spr_cases[i].ignore_msrs], &spr_cases[i], spr_cases[i].index);
	for (uint32_t msr = PL0; msr <= PL3; msr++)
		for (size_t i = 0; i < sizeof(pl_cases) / sizeof(pl_cases[0]); i++)
			failures += !run_case(&env[pl_cases[i].ignore_msrs], &pl_cases[i], msr);
	print_message("%zu cases, %u failures\n",
		      sizeof(spr_cases) / sizeof(spr_cases[0]) +
			  4 * sizeof(pl_cases) / sizeof(pl_cases[0]),
		      failures);
	kt_down(&env[0]);
	kt_down(&env[1]);
	assert_int_equal(failures, 0);
}

/* The refusal says which rule (spec section) and which bits. */
static void refusals_name_rule_and_bits(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *v;
	struct kt_env e;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = make_vcpu(&e, &vm, 0, V_SHSTK_ONLY);
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, U_CET, 0x4, &err), 1);
	assert_non_null(strstr(err.rule, "§3.1"));
	assert_non_null(strstr(err.reason, "IBT"));
	assert_int_equal(err.bits, 0x4);
	assert_int_equal(err.msr, U_CET);
	assert_int_equal(vx_kvm_vcpu_set_msr(v, true, XSS, 0x8100, &err), 1);
	assert_int_equal(err.bits, 0x8100);
	assert_non_null(strstr(err.reason, "host write"));
	assert_int_equal(vx_kvm_vcpu_set_msr(v, true, PL0, SSPV | 1, &err), 1);
	assert_int_equal(err.bits, 1);
	assert_non_null(strstr(err.reason, "aligned"));
	/* Bad arguments are errors, never crashes. */
	assert_int_equal(vx_kvm_vcpu_get_msr(NULL, true, XSS, NULL, &err), -EINVAL);
	assert_int_equal(vx_kvm_vcpu_get_msr(v, true, XSS, NULL, &err), -EINVAL);
	assert_int_equal(vx_kvm_vcpu_set_msr(NULL, true, XSS, 0, &err), -EINVAL);
	kt_down(&e);
}

/* kvm_is_valid_u_s_cet and the canonical width, directly (§3.1). */
static void value_rules(void **state)
{
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *full, *none;
	struct kt_env e, adl;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	full = make_vcpu(&e, &vm, 0, V_FULL);
	none = make_vcpu(&e, &vm, 1, V_NO_CET);
	assert_true(vx_kvm_is_valid_u_s_cet(full, 0, NULL));
	assert_true(vx_kvm_is_valid_u_s_cet(none, 0, NULL));
	assert_false(vx_kvm_is_valid_u_s_cet(none, 1, NULL));
	/* Bitmap base 0xffff_ffff_ffff_c000 with ENDBR_EN: valid, no canonical rule there. */
	assert_true(vx_kvm_is_valid_u_s_cet(full, UINT64_C(0xffffffffffffc004), NULL));
	assert_false(vx_kvm_is_valid_u_s_cet(full, UINT64_C(0xffffffffffffd004), NULL));
	/* SPR: LA57, so 57 bits. */
	assert_false(vx_kvm_is_noncanonical_msr_address(e.kvm, C48));
	assert_true(vx_kvm_is_noncanonical_msr_address(e.kvm, NC57));
	assert_false(vx_kvm_is_noncanonical_msr_address(e.kvm, UINT64_C(0xff00000000000000)));
	assert_true(vx_kvm_is_noncanonical_msr_address(e.kvm, UINT64_C(0xfe00000000000000)));
	/* Alder Lake: no LA57 (7.0 ECX[16] = 0), so 48 bits: bit 47 alone is not canonical. */
	kt_up(&adl, ADL, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	assert_true(vx_kvm_is_noncanonical_msr_address(adl.kvm, C48));
	assert_false(vx_kvm_is_noncanonical_msr_address(adl.kvm, UINT64_C(0xffff800000000000)));
	{
		struct vx_kvm_vm *vm2 = NULL;
		struct vx_kvm_vcpu *v = make_vcpu(&adl, &vm2, 0, V_FULL);

		assert_int_equal(hset(v, PL0, C48), 1);
		assert_int_equal(hset(v, ISST, C48), 1);
		assert_int_equal(hset(v, GSSP, C48), 1);
		assert_int_equal(hset(v, PL0, UINT64_C(0xffff800000000000)), 0);
		assert_int_equal(hget_ok(v, PL0), UINT64_C(0xffff800000000000));
	}
	kt_down(&adl);
	kt_down(&e);
}

/* §8.1 item 11: the host reads what the guest wrote, and restores the reset value 0. */
static void host_sees_guest_writes(void **state)
{
	static const uint32_t msrs[] = {U_CET, S_CET, PL0, PL1, PL2, PL3, ISST};
	static const uint64_t values[] = {1, 5, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000};
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_msr_entry ents[7];
	struct vx_kvm_vcpu *v;
	struct kt_env e;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = make_vcpu(&e, &vm, 0, V_FULL);
	for (int i = 0; i < 7; i++)
		assert_int_equal(vx_kvm_vcpu_set_msr(v, false, msrs[i], values[i], &err), 0);
	for (int i = 0; i < 7; i++)
		ents[i] = (struct vx_kvm_msr_entry){msrs[i], 0, 0};
	assert_int_equal(vx_kvm_vcpu_get_msrs(v, ents, 7, &err), 7);
	for (int i = 0; i < 7; i++)
		assert_int_equal(ents[i].data, values[i]);
	for (int i = 0; i < 7; i++)
		ents[i].data = 0;
	assert_int_equal(vx_kvm_vcpu_set_msrs(v, ents, 7, &err), 7);
	for (int i = 0; i < 7; i++) {
		uint64_t got = 1;

		assert_int_equal(vx_kvm_vcpu_get_msr(v, false, msrs[i], &got, &err), 0);
		assert_int_equal(got, 0);
	}
	kt_down(&e);
}

/* SVM (Zen 4): SHSTK without IBT, no XFD (kvm.md §1.3, §3.2). */
static void svm_rules(void **state)
{
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *v;
	struct kt_env e;

	(void)state;
	kt_up(&e, ZEN4, VX_KVM_SVM, VX_KVM_CET_GUEST_ONLY);
	v = make_vcpu(&e, &vm, 0, V_FULL);
	/* §8.1 item 5, "the normal case on SVM": ENDBR_EN → GP, SHSTK_EN fine. */
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, U_CET, 4, NULL), 1);
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, S_CET, 4, NULL), 1);
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, U_CET, 1, NULL), 0);
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, PL0, SSPV, NULL), 0);
	assert_int_equal(hget_ok(v, PL0), SSPV);
	assert_int_equal(hset(v, ISST, 1), 0);
	/* XSS: the SVM XSAVES cap is forced, CPUID has XSAVES; CET bits accepted. */
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, XSS, CET, NULL), 0);
	/* No XFD on Zen 4: the guest has no cap; the host may still write 0. */
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, XFD, 0, NULL), 1);
	assert_int_equal(hset(v, XFD, 0), 0);
	assert_false(v->xfd_no_write_intercept);
	kt_down(&e);
}

/* ----------------------------------------------------------------------------------------- */
/* PVM: the quirks, against what this machine's kvm_pvm did (host-kvm.md "Host-side ABI")       */

/* A PVM module on Zen 4 with the quirk set @quirks (the flavour's default when ~0). */
static void pvm_up(struct kt_env *e, const char *profile, uint64_t quirks)
{
	struct vx_kvm_options o;

	vx_kvm_options_init(&o, VX_KVM_PVM);
	if (quirks != UINT64_MAX)
		o.quirks = quirks;
	kt_up_opts(e, profile, &o);
}

#define Q(q) VX_BIT(VX_KVM_QUIRK_##q)

/* The default PVM module against what this machine's kvm_pvm did (host-kvm.md). */
static void pvm_measured(void **state)
{
	static const uint32_t cet[] = {U_CET, S_CET, PL0, PL3};
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *v;
	struct kt_env e;
	uint64_t value = 7;

	(void)state;
	pvm_up(&e, ZEN4, UINT64_MAX);
	v = make_vcpu(&e, &vm, 0, V_FULL);
	/* Host reads of XSS, XFD, XFD_ERR give 0. */
	assert_int_equal(hget(v, XSS, &value), 0);
	assert_int_equal(value, 0);
	assert_int_equal(hget_ok(v, XFD), 0);
	assert_int_equal(hget_ok(v, XFD_ERR), 0);
	/* Host writes of XSS fail for every value, 0 included. */
	assert_int_equal(hset(v, XSS, 0), 1);
	assert_int_equal(hset(v, XSS, 0x800), 1);
	/* XFD 0 and XFD_ERR 0 succeed, XFD 0x40000 fails. */
	assert_int_equal(hset(v, XFD, 0), 0);
	assert_int_equal(hset(v, XFD, XTILE), 1);
	assert_int_equal(hset(v, XFD_ERR, 0), 0);
	/* The probe: KVM_GET_MSRS {XFD, U_CET, XFD_ERR} → 1, U_CET's data zeroed, XFD_ERR's
	 * untouched. */
	{
		struct vx_kvm_msr_entry ents[3] = {
		    {XFD, 0, 0x55}, {U_CET, 0, 0x77}, {XFD_ERR, 0, 0x99}};

		assert_int_equal(vx_kvm_vcpu_get_msrs(v, ents, 3, NULL), 1);
		assert_int_equal(ents[0].data, 0);
		assert_int_equal(ents[1].data, 0);
		assert_int_equal(ents[2].data, 0x99);
	}
	/* The CET MSRs fail both ways. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(hget(v, cet[i], &value), 1);
		assert_int_equal(hset(v, cet[i], 0), 1);
	}
	/* Guest RDMSR/WRMSR of XSS, XFD, XFD_ERR, U_CET, S_CET, PL0_SSP, PL3_SSP → #GP. */
	assert_int_equal(vx_kvm_vcpu_get_msr(v, false, XSS, &value, NULL), 1);
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, XSS, 0, NULL), 1);
	assert_int_equal(vx_kvm_vcpu_get_msr(v, false, XFD, &value, NULL), 1);
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, XFD_ERR, 0, NULL), 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(vx_kvm_vcpu_get_msr(v, false, cet[i], &value, NULL), 1);
	kt_down(&e);
}

/* Each MSR quirk alone changes exactly its rule: with a guest CPUID that has XSAVES (no CPUID
 * quirks), upstream lets the host write XSS = 0 and the guest read it; the quirks refuse. */
static void pvm_quirks(void **state)
{
	struct vx_kvm_vm *vm = NULL, *vm2 = NULL;
	struct vx_kvm_vcpu *q, *up;
	struct kt_env with, without;
	uint64_t value = 7;

	(void)state;
	pvm_up(&with, ZEN4,
	       Q(PVM_NO_CET) | Q(PVM_XSS_HOST_WRITE_FAILS) | Q(PVM_GUEST_XSTATE_MSRS_GP));
	pvm_up(&without, ZEN4, Q(PVM_NO_CET));
	q = make_vcpu(&with, &vm, 0, V_FULL);
	up = make_vcpu(&without, &vm2, 0, V_FULL);
	assert_true(vx_kvm_vcpu_cpuid_has(q, VX_KF_XSAVES));
	assert_true(vx_kvm_vcpu_cpuid_has(up, VX_KF_XSAVES));
	/* pvm-xss-host-write-fails */
	assert_int_equal(hset(q, XSS, 0), 1);
	assert_int_equal(hset(up, XSS, 0), 0);
	assert_int_equal(hget(q, XSS, &value), 0);
	/* pvm-guest-xstate-msrs-gp */
	assert_int_equal(vx_kvm_vcpu_get_msr(q, false, XSS, &value, NULL), 1);
	assert_int_equal(vx_kvm_vcpu_get_msr(up, false, XSS, &value, NULL), 0);
	assert_int_equal(vx_kvm_vcpu_set_msr(q, false, XSS, 0, NULL), 1);
	assert_int_equal(vx_kvm_vcpu_set_msr(up, false, XSS, 0, NULL), 0);
	kt_down(&with);
	kt_down(&without);
}

/* An Intel host under kvm_pvm: the XFD cap exists, the guest-xstate quirk alone refuses XFD. */
static void pvm_guest_xfd_on_intel(void **state)
{
	struct vx_kvm_vm *vm = NULL, *vm2 = NULL;
	struct vx_kvm_vcpu *q, *up;
	struct kt_env with, without;
	uint64_t value = 1;

	(void)state;
	pvm_up(&with, SPR, Q(PVM_NO_CET) | Q(PVM_GUEST_XSTATE_MSRS_GP));
	pvm_up(&without, SPR, Q(PVM_NO_CET));
	q = make_vcpu(&with, &vm, 0, V_FULL);
	up = make_vcpu(&without, &vm2, 0, V_FULL);
	assert_true(vx_kvm_vcpu_cap_has(q, VX_KF_XFD));
	assert_int_equal(vx_kvm_vcpu_get_msr(q, false, XFD, &value, NULL), 1);
	assert_int_equal(value, 0);
	assert_int_equal(vx_kvm_vcpu_set_msr(q, false, XFD_ERR, 0, NULL), 1);
	assert_int_equal(vx_kvm_vcpu_get_msr(up, false, XFD, &value, NULL), 0);
	assert_int_equal(vx_kvm_vcpu_set_msr(up, false, XFD_ERR, 0, NULL), 0);
	/* The host is not affected. */
	assert_int_equal(hget(q, XFD, &value), 0);
	kt_down(&with);
	kt_down(&without);
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_GET/SET_MSRS (§3.1)                                                                      */

static void msrs_batch(void **state)
{
	struct vx_kvm_msr_entry ents[256];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *v, *nocet;
	struct kt_env e;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = make_vcpu(&e, &vm, 0, V_FULL);
	nocet = make_vcpu(&e, &vm, 1, V_NO_CET);
	/* U_CET without CET caps is advertised here, so the host reads 0 (§3.1); the guest SSP is
	 * never advertised: 1 processed, the failed entry zeroed, the next untouched. */
	ents[0] = (struct vx_kvm_msr_entry){XFD, 0, 0x55};
	ents[1] = (struct vx_kvm_msr_entry){U_CET, 0, 0x77};
	ents[2] = (struct vx_kvm_msr_entry){XFD_ERR, 0, 0x99};
	assert_int_equal(vx_kvm_vcpu_get_msrs(nocet, ents, 3, &err), 3);
	assert_int_equal(ents[1].data, 0);
	ents[1] = (struct vx_kvm_msr_entry){GSSP, 0, 0x77};
	ents[2] = (struct vx_kvm_msr_entry){XFD_ERR, 0, 0x99};
	assert_int_equal(vx_kvm_vcpu_get_msrs(nocet, ents, 3, &err), 1);
	assert_int_equal(ents[0].data, 0);
	assert_int_equal(ents[1].data, 0); /* zeroed (§3.1) */
	assert_int_equal(ents[2].data, 0x99);
	/* SET stops at the first failure: PL1 after the refused PL0 is not written. */
	ents[0] = (struct vx_kvm_msr_entry){U_CET, 0, 1};
	ents[1] = (struct vx_kvm_msr_entry){PL0, 0, SSPV | 1};
	ents[2] = (struct vx_kvm_msr_entry){PL1, 0, SSPV};
	assert_int_equal(vx_kvm_vcpu_set_msrs(v, ents, 3, &err), 1);
	assert_non_null(strstr(err.reason, "IA32_PL0_SSP"));
	assert_int_equal(hget_ok(v, U_CET), 1);
	assert_int_equal(hget_ok(v, PL1), 0);
	/* nmsrs >= 256 → -E2BIG (255 works; both measured on this host). */
	for (int i = 0; i < 256; i++)
		ents[i] = (struct vx_kvm_msr_entry){XFD, 0, 0};
	assert_int_equal(vx_kvm_vcpu_get_msrs(v, ents, 255, &err), 255);
	assert_int_equal(vx_kvm_vcpu_get_msrs(v, ents, 256, &err), -E2BIG);
	assert_int_equal(vx_kvm_vcpu_set_msrs(v, ents, 256, &err), -E2BIG);
	assert_int_equal(vx_kvm_vcpu_get_msrs(v, ents, 0, &err), 0);
	assert_int_equal(vx_kvm_vcpu_get_msrs(v, NULL, 1, &err), -EFAULT);
	assert_int_equal(vx_kvm_vcpu_set_msrs(v, NULL, 1, &err), -EFAULT);
	assert_int_equal(vx_kvm_vcpu_get_msrs(NULL, ents, 1, &err), -EINVAL);
	kt_down(&e);
}

/* The guest FPU is loaded once around a batch with XSTATE-managed MSRs, not at all without. */
static void msrs_load_guest_fpu_once(void **state)
{
	struct vx_kvm_msr_entry ents[4] = {{U_CET, 0, 0}, {PL3, 0, 0}, {PL0, 0, 0}, {XSS, 0, 0}};
	struct vx_kvm_msr_entry plain[2] = {{XSS, 0, 0}, {S_CET, 0, 0}};
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *v, *nocet;
	uint64_t before;
	struct kt_env e;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = make_vcpu(&e, &vm, 0, V_FULL);
	nocet = make_vcpu(&e, &vm, 1, V_NO_CET);
	before = v->gfpu.counters.restores;
	assert_int_equal(vx_kvm_vcpu_get_msrs(v, ents, 4, &err), 4);
	assert_int_equal(v->gfpu.counters.restores - before, 1);
	assert_int_equal(v->gfpu.counters.saves, 1);
	assert_false(v->gfpu.fpstate->in_use);
	before = v->gfpu.counters.restores;
	assert_int_equal(vx_kvm_vcpu_get_msrs(v, plain, 2, &err), 2);
	assert_int_equal(v->gfpu.counters.restores, before);
	/* Without SHSTK/IBT caps U_CET is not XSTATE-managed: no load (and a 0 read). */
	assert_false(vx_kvm_is_xstate_managed_msr(nocet, U_CET));
	assert_int_equal(vx_kvm_vcpu_get_msrs(nocet, ents, 1, &err), 1);
	assert_int_equal(nocet->gfpu.counters.restores, 0);
	/* S_CET is never XSTATE-managed (§3.1). */
	assert_false(vx_kvm_is_xstate_managed_msr(v, S_CET));
	assert_true(vx_kvm_is_xstate_managed_msr(v, PL0));
	kt_down(&e);
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_GET_MSR_INDEX_LIST and the feature list (§3.3)                                           */

struct list_case {
	const char *name;
	const char *profile;
	enum vx_kvm_flavour flavour;
	enum vx_kvm_cet_design design;
	uint32_t n;
	uint32_t msrs[10];
};

/* Hand-computed from §3.3's rules and the module's caps (test_kvm_caps module_table). */
static const struct list_case list_cases[] = {
    {"spr vmx guest-only",
     SPR,
     VX_KVM_VMX,
     VX_KVM_CET_GUEST_ONLY,
     10,
     {XFD, XFD_ERR, XSS, U_CET, S_CET, PL0, PL1, PL2, PL3, ISST}},
    {"spr vmx kvm-eager (CET_S still offered)",
     SPR,
     VX_KVM_VMX,
     VX_KVM_CET_KVM_EAGER,
     10,
     {XFD, XFD_ERR, XSS, U_CET, S_CET, PL0, PL1, PL2, PL3, ISST}},
    /* No CET_S in XSS: no CET caps, supported_xss = 0, so no XSS either. */
    {"spr vmx unsupported", SPR, VX_KVM_VMX, VX_KVM_CET_UNSUPPORTED, 2, {XFD, XFD_ERR}},
    /* Zen 4: no AMX, so no XFD. */
    {"zen4 svm guest-only",
     ZEN4,
     VX_KVM_SVM,
     VX_KVM_CET_GUEST_ONLY,
     8,
     {XSS, U_CET, S_CET, PL0, PL1, PL2, PL3, ISST}},
    /* pvm-no-cet and supported_xss = 0: none, as measured on this host. */
    {"zen4 pvm", ZEN4, VX_KVM_PVM, VX_KVM_CET_GUEST_ONLY, 0, {0}},
};

static void index_list_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
		const struct list_case *c = &list_cases[i];
		struct vx_kvm_cpuid_entry ents[VX_KVM_MAX_CPUID_ENTRIES];
		const struct vx_kvm_cpuid_entry *l7;
		struct vx_error err = VX_ERROR_INIT;
		uint32_t got[16], n = 16;
		bool shstk, ibt;
		struct kt_env e;

		print_message("list %s\n", c->name);
		kt_up(&e, c->profile, c->flavour, c->design);
		ft_check(vx_kvm_get_msr_index_list(e.kvm, got, &n, &err), &err, "index list");
		assert_int_equal(n, c->n);
		assert_memory_equal(got, c->msrs, n * sizeof(got[0]));
		/* §8.1 item 13: U_CET/S_CET ⇔ supported SHSTK or IBT; PL0-3 ⇔ SHSTK. */
		l7 = kt_find(ents, kt_supported(&e, ents, VX_KVM_MAX_CPUID_ENTRIES), 7, 0);
		shstk = l7->ecx >> 7 & 1;
		ibt = l7->edx >> 20 & 1;
		assert_int_equal(vx_kvm_msr_advertised(e.kvm, U_CET), shstk || ibt);
		assert_int_equal(vx_kvm_msr_advertised(e.kvm, S_CET), shstk || ibt);
		for (uint32_t pl = PL0; pl <= PL3; pl++)
			assert_int_equal(vx_kvm_msr_advertised(e.kvm, pl), shstk);
		assert_false(vx_kvm_msr_advertised(e.kvm, GSSP)); /* never listed */
		kt_down(&e);
	}
}

static void index_list_room(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	uint32_t got[16], n = 0;
	struct kt_env e;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	/* Too small → -E2BIG with the count written back (measured: n = 0 gave E2BIG, n = 40). */
	assert_int_equal(vx_kvm_get_msr_index_list(e.kvm, got, &n, &err), -E2BIG);
	assert_int_equal(n, 10);
	n = 9;
	assert_int_equal(vx_kvm_get_msr_index_list(e.kvm, got, &n, &err), -E2BIG);
	assert_int_equal(n, 10);
	assert_int_equal(vx_kvm_get_msr_index_list(e.kvm, got, NULL, &err), -EFAULT);
	n = 10;
	assert_int_equal(vx_kvm_get_msr_index_list(e.kvm, NULL, &n, &err), -EFAULT);
	/* Feature MSRs: IA32_ARCH_CAPABILITIES only (KVM emulates it on every host; this
	 * host's kvm_pvm lists 0x8b 0x10a 0x345 0xce). */
	n = 0;
	assert_int_equal(vx_kvm_get_msr_feature_index_list(e.kvm, got, &n, &err), -E2BIG);
	assert_int_equal(n, 1);
	ft_check(vx_kvm_get_msr_feature_index_list(e.kvm, got, &n, &err), &err, "features");
	assert_int_equal(got[0], ARCH_CAPS);
	assert_int_equal(vx_kvm_get_msr_index_list(NULL, got, &n, &err), -EINVAL);
	kt_down(&e);
}

/* ----------------------------------------------------------------------------------------- */
/* IA32_XSS (§8.4) and XFD with AMX (§8.6 item 69)                                              */

static void xss_bits(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_msr_entry ent;
	struct vx_kvm_vcpu *fresh, *full;
	struct kt_env e;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	fresh = make_vcpu(&e, &vm, 0, V_EMPTY);
	full = make_vcpu(&e, &vm, 1, V_FULL);
	/* Item 45: a fresh vCPU reads XSS = 0. */
	ent = (struct vx_kvm_msr_entry){XSS, 0, 0x1234};
	assert_int_equal(vx_kvm_vcpu_get_msrs(fresh, &ent, 1, &err), 1);
	assert_int_equal(ent.data, 0);
	/* Item 47: each bit alone; successes only for CET_U/CET_S (guest 0xD.1 ECX), and XSS is
	 * then in the list.  The fresh vCPU has no XSAVES in CPUID: every non-zero value fails. */
	for (unsigned i = 0; i < 64; i++) {
		struct vx_kvm_msr_entry w = {XSS, 0, VX_BIT(i)};
		int want = (i == 11 || i == 12) ? 1 : 0;
		int rc = vx_kvm_vcpu_set_msrs(full, &w, 1, &err);

		if (rc != want)
			fail_msg("XSS bit %u: %d, want %d", i, rc, want);
		assert_int_equal(vx_kvm_vcpu_set_msrs(fresh, &w, 1, &err), 0);
	}
	assert_true(vx_kvm_msr_advertised(e.kvm, XSS));
	/* Storage and the dirty CPUID bits (x86.c:4129-4134): a change marks them, an equal
	 * write does not. */
	full->cpuid_dynamic_dirty = false;
	assert_int_equal(hset(full, XSS, VX_BIT(12)), 0); /* the last success above */
	assert_false(full->cpuid_dynamic_dirty);
	assert_int_equal(hset(full, XSS, CET), 0);
	assert_true(full->cpuid_dynamic_dirty);
	assert_int_equal(full->ia32_xss, CET);
	kt_down(&e);
}

static void amx_xfd(void **state)
{
	struct vx_kvm_msr_entry save[2] = {{XFD, 0, 0}, {XFD_ERR, 0, 0}};
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *v, *dst;
	uint64_t perm = 0;
	struct kt_env e;
	int cpu;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	ft_check(vx_fpu_arch_prctl(e.vmm, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA,
				   &perm, &err),
		 &err, "ARCH_REQ_XCOMP_GUEST_PERM");
	v = make_vcpu(&e, &vm, 0, V_FULL);
	dst = make_vcpu(&e, &vm, 1, V_FULL);
	assert_true(v->guest_supported_xcr0 & XTILE);
	/* XFD = 0 reads back 0 (amx_test); XTILE_DATA accepted, XTILE_CFG is not dynamic. */
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, XFD, 0, &err), 0);
	assert_false(v->xfd_no_write_intercept);
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, XFD, XTILE, &err), 0);
	assert_int_equal(v->gfpu.fpstate->xfd, XTILE);
	/* VMX: the first non-zero write stops the XFD intercepts (vmx.c:2204-2220). */
	assert_true(v->xfd_no_write_intercept);
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, XFD, 0x20000, &err), 1);
	assert_int_equal(vx_kvm_vcpu_set_msr(v, false, XFD_ERR, XTILE, &err), 0);
	assert_int_equal(v->gfpu.xfd_err, XTILE);
	/* Both persist across a host save/restore into another vCPU. */
	assert_int_equal(vx_kvm_vcpu_get_msrs(v, save, 2, &err), 2);
	assert_int_equal(save[0].data, XTILE);
	assert_int_equal(save[1].data, XTILE);
	assert_int_equal(vx_kvm_vcpu_set_msrs(dst, save, 2, &err), 2);
	assert_int_equal(hget_ok(dst, XFD), XTILE);
	assert_int_equal(hget_ok(dst, XFD_ERR), XTILE);
	/* With the guest fpstate in use, fpu_update_guest_xfd reprograms the CPU's IA32_XFD. */
	ft_schedule(e.vmm, 1);
	ft_check(vx_fpu_swap_kvm_fpstate(e.vmm, &v->gfpu, true, &err), &err, "swap in");
	assert_int_equal(cpu_msr(&e, 1, XFD), XTILE);
	assert_int_equal(hset(v, XFD, 0), 0);
	assert_int_equal(cpu_msr(&e, 1, XFD), 0);
	ft_check(vx_fpu_swap_kvm_fpstate(e.vmm, &v->gfpu, false, &err), &err, "swap out");
	cpu = ft_info(e.vmm).cpu;
	assert_int_equal(cpu, 1);
	kt_down(&e);
}

/* ----------------------------------------------------------------------------------------- */
/* ONE_REG and KVM_GET_REG_LIST (§3.4)                                                          */

#define ID_GSSP	   UINT64_C(0x2030000300000000)
#define ID_MSR(m)  (UINT64_C(0x2030000200000000) | (m))
#define ID_XFD_U32 UINT64_C(0x20200002000001c4)

static void one_reg_ids(void **state)
{
	static const struct {
		const char *name;
		uint64_t id;
	} bad[] = {
	    {"architecture ARM64 (0x60)", UINT64_C(0x6030000200000DA0)},
	    {"architecture 0", UINT64_C(0x0030000200000DA0)},
	    {"rsvd1 bit 40", ID_MSR(XSS) | VX_BIT(40)},
	    {"rsvd1 bit 47", ID_MSR(XSS) | VX_BIT(47)},
	    {"rsvd2 bit 48", ID_MSR(XSS) | VX_BIT(48)},
	    {"rsvd2 bit 51", ID_MSR(XSS) | VX_BIT(51)},
	    {"type 0", UINT64_C(0x2030000000000DA0)},
	    {"type 1 (measured: EINVAL)", UINT64_C(0x20300001000001c4)},
	    {"type 4", UINT64_C(0x2030000400000DA0)},
	    {"type KVM index 1", ID_GSSP | 1},
	    {"size U32 (measured: EINVAL)", ID_XFD_U32},
	    {"size U128", UINT64_C(0x2040000200000DA0)},
	    {"GUEST_SSP with size U32", UINT64_C(0x2020000300000000)},
	};
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *v, *nocet;
	struct vx_kvm_options o;
	struct kt_env e;
	uint64_t value = 9;

	(void)state;
	vx_kvm_options_init(&o, VX_KVM_VMX);
	o.ignore_msrs = true; /* GUEST_SSP's explicit SHSTK check must hold even so */
	kt_up_opts(&e, SPR, &o);
	v = make_vcpu(&e, &vm, 0, V_FULL);
	nocet = make_vcpu(&e, &vm, 1, V_NO_CET);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("bad id: %s\n", bad[i].name);
		assert_int_equal(vx_kvm_vcpu_get_one_reg(v, bad[i].id, &value, &err), -EINVAL);
		assert_int_equal(vx_kvm_vcpu_set_one_reg(v, bad[i].id, 0, &err), -EINVAL);
		assert_int_equal(err.bits, bad[i].id);
	}
	/* §8.1 item 15: GUEST_SSP without SHSTK → EINVAL, even with ignore_msrs. */
	assert_int_equal(vx_kvm_vcpu_get_one_reg(nocet, ID_GSSP, &value, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "SHSTK"));
	assert_int_equal(vx_kvm_vcpu_set_one_reg(nocet, ID_GSSP, 0, &err), -EINVAL);
	/* An unknown MSR through ONE_REG with ignore_msrs succeeds, as KVM_GET_MSRS would. */
	assert_int_equal(vx_kvm_vcpu_get_one_reg(v, ID_MSR(0x10), &value, &err), 0);
	assert_int_equal(value, 0);
	/* A refused access is -EINVAL with the MSR path's reason. */
	assert_int_equal(vx_kvm_vcpu_set_one_reg(v, ID_MSR(PL0), SSPV | 1, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "aligned"));
	/* put_user() failure → -EFAULT, after the read. */
	assert_int_equal(vx_kvm_vcpu_get_one_reg(v, ID_MSR(XSS), NULL, &err), -EFAULT);
	assert_int_equal(vx_kvm_vcpu_get_one_reg(NULL, ID_MSR(XSS), &value, &err), -EINVAL);
	kt_down(&e);
}

static void one_reg_guest_ssp(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_msr_entry ent = {U_CET, 0, 0};
	struct vx_kvm_vm *vm = NULL;
	uint64_t ids[2] = {0, 0}, n = 0, value = 9;
	struct vx_kvm_vcpu *v, *nocet;
	struct kt_env e;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = make_vcpu(&e, &vm, 0, V_FULL);
	nocet = make_vcpu(&e, &vm, 1, V_NO_CET);
	/* §8.1 item 17: 0 at reset; set and read back; it is the VMCS GUEST_SSP. */
	ft_check(vx_kvm_vcpu_get_one_reg(v, ID_GSSP, &value, &err), &err, "GET GUEST_SSP");
	assert_int_equal(value, 0);
	ft_check(vx_kvm_vcpu_set_one_reg(v, ID_GSSP, SSPV, &err), &err, "SET GUEST_SSP");
	ft_check(vx_kvm_vcpu_get_one_reg(v, ID_GSSP, &value, &err), &err, "GET GUEST_SSP");
	assert_int_equal(value, SSPV);
	assert_int_equal(v->vmcs.ssp, SSPV);
	assert_int_equal(vx_kvm_vcpu_set_one_reg(v, ID_GSSP, SSPV | 2, &err), -EINVAL);
	/* §8.1 item 19: ONE_REG of an MSR is KVM_SET_MSRS; KVM_GET_MSRS sees it. */
	ft_check(vx_kvm_vcpu_set_one_reg(v, ID_MSR(U_CET), 1, &err), &err, "SET U_CET");
	assert_int_equal(vx_kvm_vcpu_get_msrs(v, &ent, 1, &err), 1);
	assert_int_equal(ent.data, 1);
	ft_check(vx_kvm_vcpu_get_one_reg(v, ID_MSR(U_CET), &value, &err), &err, "GET U_CET");
	assert_int_equal(value, 1);
	/* KVM_GET_REG_LIST: n = 1 with SHSTK, written back before -E2BIG. */
	assert_int_equal(vx_kvm_vcpu_get_reg_list(v, ids, &n, &err), -E2BIG);
	assert_int_equal(n, 1);
	ft_check(vx_kvm_vcpu_get_reg_list(v, ids, &n, &err), &err, "REG_LIST");
	assert_int_equal(ids[0], ID_GSSP);
	assert_int_equal(n, 1);
	assert_int_equal(vx_kvm_vcpu_get_reg_list(v, NULL, &n, &err), -EFAULT);
	assert_int_equal(vx_kvm_vcpu_get_reg_list(v, ids, NULL, &err), -EFAULT);
	/* Without SHSTK: n = 0 and success with no room (measured on this host). */
	n = 0;
	ft_check(vx_kvm_vcpu_get_reg_list(nocet, NULL, &n, &err), &err, "REG_LIST no SHSTK");
	assert_int_equal(n, 0);
	n = 5;
	ft_check(vx_kvm_vcpu_get_reg_list(nocet, ids, &n, &err), &err, "REG_LIST no SHSTK");
	assert_int_equal(n, 0);
	kt_down(&e);
}

/* ONE_REG on kvm_pvm: the probe on this machine (GUEST_SSP, U_CET, XFD as U32 and type 1 all
 * EINVAL; XFD as U64 reads 0; REG_LIST n = 0). */
static void pvm_one_reg_measured(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	uint64_t value = 9, n = 0;
	struct vx_kvm_vcpu *v;
	struct kt_env e;

	(void)state;
	kt_up(&e, ZEN4, VX_KVM_PVM, VX_KVM_CET_GUEST_ONLY);
	v = make_vcpu(&e, &vm, 0, V_EMPTY);
	assert_int_equal(vx_kvm_vcpu_get_one_reg(v, ID_GSSP, &value, &err), -EINVAL);
	assert_int_equal(vx_kvm_vcpu_get_one_reg(v, ID_MSR(XFD), &value, &err), 0);
	assert_int_equal(value, 0);
	assert_int_equal(vx_kvm_vcpu_get_one_reg(v, ID_MSR(U_CET), &value, &err), -EINVAL);
	assert_int_equal(vx_kvm_vcpu_get_one_reg(v, ID_XFD_U32, &value, &err), -EINVAL);
	assert_int_equal(vx_kvm_vcpu_get_one_reg(v, UINT64_C(0x20300001000001c4), &value, &err),
			 -EINVAL);
	ft_check(vx_kvm_vcpu_get_reg_list(v, NULL, &n, &err), &err, "REG_LIST");
	assert_int_equal(n, 0);
	kt_down(&e);
}

/* ----------------------------------------------------------------------------------------- */
/* Where the CET registers live, per CET_S design (§6.3, issue 8)                               */

#define X0 UINT64_C(0x7ffcdeadb000) /* PL0_SSP */
#define X1 UINT64_C(0x7ffcdeadc000) /* PL1_SSP */
#define X2 UINT64_C(0x7ffcdeadd000) /* PL2_SSP */
#define X3 UINT64_C(0x7ffcdeade000) /* PL3_SSP */
#define UC UINT64_C(0x3)	    /* U_CET: SHSTK_EN | WRSS_EN */

/* Offset of component @c in a compacted image (SDM Vol.1 §13.4.3): from 576, each component of
 * XCOMP_BV in order, 64-aligned when CPUID.(0xD,i):ECX[1], sizes from CPUID.(0xD,i):EAX. */
static uint32_t compacted_offset(const struct vx_profile *p, const struct vx_fpstate *fps,
				 unsigned c)
{
	uint64_t xcomp = ft_hdr(fps, 520);
	uint32_t off = 576;

	for (unsigned i = 2; i < c; i++) {
		if (!(xcomp >> i & 1))
			continue;
		if (vx_profile_leaf(p, 0xD, i).ecx & 2)
			off = (off + 63) & ~63u;
		off += vx_profile_leaf(p, 0xD, i).eax;
	}
	if (vx_profile_leaf(p, 0xD, c).ecx & 2)
		off = (off + 63) & ~63u;
	return off;
}

static uint64_t fps_u64(const struct vx_fpstate *fps, uint32_t off)
{
	uint64_t v;

	memcpy(&v, fps->regs + off, 8);
	return v;
}

static bool fps_contains(const struct vx_fpstate *fps, uint64_t value)
{
	for (uint32_t off = 0; off + 8 <= fps->size; off += 8)
		if (fps_u64(fps, off) == value)
			return true;
	return false;
}

/* What the guest's values look like from the host side: never in a host task's registers or
 * fpstate (the VMM thread after the access, and another task run on the same CPU). */
static void host_never_sees(struct kt_env *e)
{
	struct vx_fpu_task *other = ft_spawn(e->machine);
	struct vx_error err = VX_ERROR_INIT;
	int cpu = ft_info(e->vmm).cpu;
	const uint64_t vals[] = {X0, X2, X3};

	assert_true(cpu >= 0);
	assert_int_equal(cpu_msr(e, (unsigned)cpu, PL0), 0);
	assert_int_equal(cpu_msr(e, (unsigned)cpu, PL2), 0);
	assert_int_equal(cpu_msr(e, (unsigned)cpu, PL3), 0);
	assert_int_equal(cpu_msr(e, (unsigned)cpu, U_CET), 0);
	for (int i = 0; i < 3; i++)
		assert_false(fps_contains(ft_info(e->vmm).fpstate, vals[i]));
	ft_schedule(other, (unsigned)cpu);
	ft_check(vx_fpu_task_return_to_user(other, &err), &err, "return to user");
	assert_int_equal(cpu_msr(e, (unsigned)cpu, PL0), 0);
	assert_int_equal(cpu_msr(e, (unsigned)cpu, PL3), 0);
	for (int i = 0; i < 3; i++)
		assert_false(fps_contains(ft_info(other).fpstate, vals[i]));
}

static void write_cet_state(struct vx_kvm_vcpu *v, int want)
{
	struct vx_kvm_msr_entry w[4] = {{PL0, 0, X0}, {PL2, 0, X2}, {PL3, 0, X3}, {U_CET, 0, UC}};
	struct vx_error err = VX_ERROR_INIT;

	assert_int_equal(vx_kvm_vcpu_set_msrs(v, w, 4, &err), want);
}

static void check_fpstate_cet(struct kt_env *e, struct vx_kvm_vcpu *v, bool cet_s)
{
	const struct vx_profile *p = vx_fpu_system_profile(e->sys);
	const struct vx_fpstate *g = vx_kvm_vcpu_guest_fpu(v)->fpstate;
	uint32_t u = compacted_offset(p, g, VX_COMP_CET_U), s;

	/* CET_USER = {user_cet, user_ssp} (fpu/types.h:264-269), saved by XSAVES. */
	assert_true(ft_hdr(g, 512) >> VX_COMP_CET_U & 1);
	assert_int_equal(fps_u64(g, u), UC);
	assert_int_equal(fps_u64(g, u + 8), X3);
	assert_int_equal(g->xfeatures >> VX_COMP_CET_S & 1, cet_s);
	if (!cet_s) {
		assert_false(fps_contains(g, X0));
		return;
	}
	/* CET_KERNEL = {pl0_ssp, pl1_ssp, pl2_ssp} (fpu/types.h:275-279). */
	s = compacted_offset(p, g, VX_COMP_CET_S);
	assert_true(ft_hdr(g, 512) >> VX_COMP_CET_S & 1);
	assert_int_equal(fps_u64(g, s), X0);
	assert_int_equal(fps_u64(g, s + 8), 0);
	assert_int_equal(fps_u64(g, s + 16), X2);
}

static void one_design(enum vx_kvm_cet_design d)
{
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *v;
	struct kt_env e;
	bool kvm_managed = vx_kvm_cet_design_kvm_managed(d);

	print_message("design %s\n", vx_kvm_cet_design_name(d));
	kt_up(&e, SPR, VX_KVM_VMX, d);
	v = make_vcpu(&e, &vm, 0, V_FULL);
	/* unsupported: no SHSTK for guests; nothing listed, so not even 0 is accepted. */
	if (d == VX_KVM_CET_UNSUPPORTED) {
		write_cet_state(v, 0);
		assert_int_equal(hset(v, PL0, 0), 1);
		assert_int_equal(hset(v, U_CET, 0), 1);
		kt_down(&e);
		return;
	}
	write_cet_state(v, 4);
	check_fpstate_cet(&e, v, !kvm_managed);
	if (kvm_managed) {
		assert_int_equal(v->cet_sw.pl_ssp[0], X0);
		assert_int_equal(v->cet_sw.pl_ssp[2], X2);
		/* kvm-lazy: a host-restored non-zero value ends the write interception. */
		assert_int_equal(v->cet_sw.passthrough, d == VX_KVM_CET_KVM_LAZY);
	}
	host_never_sees(&e);
	/* Clobber both CPUs' MSRs: the values come back from where the design keeps them. */
	for (unsigned c = 0; c < 2; c++)
		cpu_msr_write(&e, c, PL0, 0xbad000);
	assert_int_equal(hget_ok(v, PL0), X0);
	assert_int_equal(hget_ok(v, PL2), X2);
	assert_int_equal(hget_ok(v, PL3), X3);
	assert_int_equal(hget_ok(v, U_CET), UC);
	kt_down(&e);
}

static void designs_storage(void **state)
{
	(void)state;
	for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++)
		one_design((enum vx_kvm_cet_design)d);
}

/* kvm-*: while loaded (inside KVM_RUN), PL0-2_SSP are the running CPU's MSRs. */
static void kvm_copy_while_loaded(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *v;
	struct kt_env e;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_KVM_EAGER);
	v = make_vcpu(&e, &vm, 0, V_FULL);
	ft_schedule(e.vmm, 1);
	ft_check(vx_fpu_swap_kvm_fpstate(e.vmm, &v->gfpu, true, &err), &err, "swap in");
	v->cet_sw.loaded = true; /* what vcpu_load does in kvm-eager (design.c) */
	assert_int_equal(hset(v, PL1, X1), 0);
	assert_int_equal(cpu_msr(&e, 1, PL1), X1);
	assert_int_equal(v->cet_sw.pl_ssp[1], 0);
	assert_int_equal(hget_ok(v, PL1), X1);
	/* Preempted inside KVM_RUN: the thread holding the vCPU is not running → -EBUSY. */
	ft_check(vx_fpu_cpu_idle(e.machine, 1, &err), &err, "idle");
	assert_int_equal(vx_kvm_vcpu_set_msr(v, true, PL1, X2, &err), -EBUSY);
	assert_int_equal(vx_kvm_vcpu_set_msr(v, true, U_CET, 1, &err), -EBUSY);
	assert_int_equal(vx_kvm_vcpu_set_msrs(v, &(struct vx_kvm_msr_entry){U_CET, 0, 1}, 1, &err),
			 -EBUSY);
	v->cet_sw.loaded = false;
	ft_schedule(e.vmm, 0);
	ft_check(vx_fpu_swap_kvm_fpstate(e.vmm, &v->gfpu, false, &err), &err, "swap out");
	kt_down(&e);
}

/* §8.1 item 21: three vCPUs on one thread, migrated between CPUs, other tasks in between. */
static void three_vcpus_migrating(void **state)
{
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *v[3];
	struct vx_fpu_task *other;
	struct kt_env e;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	other = ft_spawn(e.machine);
	for (unsigned i = 0; i < 3; i++)
		v[i] = make_vcpu(&e, &vm, i, V_FULL);
	for (unsigned i = 0; i < 3; i++) {
		ft_schedule(e.vmm, i % 2);
		assert_int_equal(hset(v[i], PL0, X0 + i * 0x1000), 0);
		assert_int_equal(hset(v[i], PL3, X3 + i * 0x1000), 0);
		assert_int_equal(vx_kvm_vcpu_set_msr(v[i], false, U_CET, i, NULL), 0);
		ft_schedule(other, i % 2);
	}
	for (unsigned i = 3; i-- > 0;) {
		ft_schedule(e.vmm, (i + 1) % 2);
		assert_int_equal(hget_ok(v[i], PL0), X0 + i * 0x1000);
		assert_int_equal(hget_ok(v[i], PL3), X3 + i * 0x1000);
		assert_int_equal(hget_ok(v[i], U_CET), i);
	}
	kt_down(&e);
}

/* ----------------------------------------------------------------------------------------- */
/* A value KVM accepts and the CPU refuses (kvm.md §3.1 vs arch.md §7.2)                        */

static unsigned log_lines;
static char log_last[512];

static void capture_log(void *ctx, const char *message)
{
	(void)ctx;
	log_lines++;
	snprintf(log_last, sizeof(log_last), "%s", message);
}

static void unchecked_msr_access(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_msr_entry w = {U_CET, 0, NC57 | 4};
	struct vx_kvm_vm *vm = NULL;
	struct ft_platform fp;
	struct vx_kvm_options o;
	struct vx_kvm_vcpu *v;
	struct kt_env e;

	(void)state;
	ft_platform_init(&fp);
	fp.platform.log = capture_log;
	vx_kvm_options_init(&o, VX_KVM_VMX);
	e.sys = ft_boot(SPR, VX_FPU_CET_GUEST_ONLY, &fp.platform);
	e.machine = ft_machine(e.sys, 2);
	e.vmm = ft_spawn(e.machine);
	ft_check(vx_kvm_create(e.machine, &o, &e.kvm, &err), &err, "kvm");
	v = make_vcpu(&e, &vm, 0, V_FULL);
	log_lines = 0;
	/* ENDBR_EN with bitmap base bit 56: kvm_is_valid_u_s_cet passes (no canonical rule), the
	 * CPU's WRMSR refuses it (non-canonical in 57 bits): KVM reports success, U_CET keeps 0,
	 * and the kernel logs an unchecked MSR access error. */
	assert_true(vx_kvm_is_valid_u_s_cet(v, NC57 | 4, NULL));
	assert_int_equal(vx_kvm_vcpu_set_msrs(v, &w, 1, &err), 1);
	assert_int_equal(hget_ok(v, U_CET), 0);
	assert_int_equal(log_lines, 1);
	assert_non_null(strstr(log_last, "unchecked MSR access error: WRMSR to 0x6a0"));
	kt_down(&e);
	assert_int_equal(fp.live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(msr_rules),
	    cmocka_unit_test(refusals_name_rule_and_bits),
	    cmocka_unit_test(value_rules),
	    cmocka_unit_test(host_sees_guest_writes),
	    cmocka_unit_test(svm_rules),
	    cmocka_unit_test(pvm_measured),
	    cmocka_unit_test(pvm_quirks),
	    cmocka_unit_test(pvm_guest_xfd_on_intel),
	    cmocka_unit_test(msrs_batch),
	    cmocka_unit_test(msrs_load_guest_fpu_once),
	    cmocka_unit_test(index_list_rules),
	    cmocka_unit_test(index_list_room),
	    cmocka_unit_test(xss_bits),
	    cmocka_unit_test(amx_xfd),
	    cmocka_unit_test(one_reg_ids),
	    cmocka_unit_test(one_reg_guest_ssp),
	    cmocka_unit_test(pvm_one_reg_measured),
	    cmocka_unit_test(designs_storage),
	    cmocka_unit_test(kvm_copy_while_loaded),
	    cmocka_unit_test(three_vcpus_migrating),
	    cmocka_unit_test(unchecked_msr_access),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
