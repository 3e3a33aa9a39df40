/* SPDX-License-Identifier: MIT */
/*
 * The module: designs, flavours, options, and kvm_set_cpu_caps() with the vendor adjustments
 * and the XSS/CET pruning (kvm.md §1.3, §2.1, §2.2).  One commented `if` per rule; each rule
 * that decides a feature records why, so the capability table can say it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "kvm/kvm_internal.h"

static const struct {
	const char *name;
	enum vx_fpu_cet_design fpu;
	bool kvm_managed;
} designs[VX_KVM_CET_DESIGN_COUNT] = {
    [VX_KVM_CET_UNSUPPORTED] = {"unsupported", VX_FPU_CET_UNSUPPORTED, false},
    [VX_KVM_CET_ALL_TASKS] = {"all-tasks", VX_FPU_CET_ALL_TASKS, false},
    [VX_KVM_CET_GUEST_ONLY] = {"guest-only", VX_FPU_CET_GUEST_ONLY, false},
    [VX_KVM_CET_KVM_EAGER] = {"kvm-eager", VX_FPU_CET_UNSUPPORTED, true},
    [VX_KVM_CET_KVM_LAZY] = {"kvm-lazy", VX_FPU_CET_UNSUPPORTED, true},
    [VX_KVM_CET_KVM_USER_RETURN] = {"kvm-user-return", VX_FPU_CET_UNSUPPORTED, true},
};

const char *vx_kvm_cet_design_name(enum vx_kvm_cet_design design)
{
	return (unsigned)design < VX_KVM_CET_DESIGN_COUNT ? designs[design].name : NULL;
}

int vx_kvm_cet_design_by_name(const char *name)
{
	for (unsigned i = 0; name && i < VX_KVM_CET_DESIGN_COUNT; i++)
		if (strcmp(designs[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

enum vx_fpu_cet_design vx_kvm_cet_design_fpu(enum vx_kvm_cet_design design)
{
	return (unsigned)design < VX_KVM_CET_DESIGN_COUNT ? designs[design].fpu
							  : VX_FPU_CET_UNSUPPORTED;
}

bool vx_kvm_cet_design_kvm_managed(enum vx_kvm_cet_design design)
{
	return (unsigned)design < VX_KVM_CET_DESIGN_COUNT && designs[design].kvm_managed;
}

static const char *const flavour_names[VX_KVM_FLAVOUR_COUNT] = {"vmx", "svm", "pvm"};

const char *vx_kvm_flavour_name(enum vx_kvm_flavour flavour)
{
	return (unsigned)flavour < VX_KVM_FLAVOUR_COUNT ? flavour_names[flavour] : NULL;
}

int vx_kvm_flavour_by_name(const char *name)
{
	for (unsigned i = 0; name && i < VX_KVM_FLAVOUR_COUNT; i++)
		if (strcasecmp(flavour_names[i], name) == 0)
			return (int)i;
	return -ENOENT;
}

void vx_kvm_options_init(struct vx_kvm_options *options, enum vx_kvm_flavour flavour)
{
	memset(options, 0, sizeof(*options));
	options->design = VX_KVM_CET_GUEST_ONLY;
	options->flavour = flavour;
	options->quirks = vx_kvm_flavour_quirks(flavour);
	options->tdp = true;
	options->vmx_load_cet = true;
	options->vmx_unrestricted_guest = true;
	options->vmx_basic_no_hw_errcode = true;
	options->vmx_xsaves = true;
}

/* ----------------------------------------------------------------------------------------- */
/* kvm_set_cpu_caps() (§1.3)                                                                    */

/* KVM_SUPPORTED_XCR0 and KVM_SUPPORTED_XSS (kvm.md §2.2, x86.c:217-229). */
#define KVM_SUPPORTED_XCR0                                                                         \
	(VX_BIT(VX_COMP_X87) | VX_BIT(VX_COMP_SSE) | VX_BIT(VX_COMP_AVX) |                         \
	 VX_BIT(VX_COMP_BNDREGS) | VX_BIT(VX_COMP_BNDCSR) | VX_BIT(VX_COMP_OPMASK) |               \
	 VX_BIT(VX_COMP_ZMM_HI256) | VX_BIT(VX_COMP_HI16_ZMM) | VX_BIT(VX_COMP_PKRU) |             \
	 VX_BIT(VX_COMP_XTILECFG) | VX_BIT(VX_COMP_XTILEDATA))
#define KVM_MASK_CET (VX_BIT(VX_COMP_CET_U) | VX_BIT(VX_COMP_CET_S))
#define KVM_MASK_MPX (VX_BIT(VX_COMP_BNDREGS) | VX_BIT(VX_COMP_BNDCSR))

/* Features the kernel drops from its capability words when XSAVE is off (cpuid-deps). */
static const unsigned xsave_dependents[] = {
    VX_KF_XSAVE,    VX_KF_AVX,	    VX_KF_AVX2,	       VX_KF_AVX512F,  VX_KF_MPX,
    VX_KF_PKU,	    VX_KF_SHSTK,    VX_KF_IBT,	       VX_KF_AMX_BF16, VX_KF_AMX_TILE,
    VX_KF_AMX_INT8, VX_KF_AMX_FP16, VX_KF_AMX_COMPLEX, VX_KF_XSAVEOPT, VX_KF_XSAVEC,
    VX_KF_XGETBV1,  VX_KF_XSAVES,   VX_KF_XFD,
};

static bool raw_has(const struct vx_kvm *kvm, const struct vx_kvm_feature_info *f)
{
	const struct vx_kvm_word_info *w = vx_kvm_word_info(f->word);
	struct vx_cpuid_regs r = vx_profile_leaf(kvm->profile, w->leaf, w->subleaf);
	uint32_t regs[4] = {r.eax, r.ebx, r.ecx, r.edx};

	return regs[w->reg] >> f->bit & 1u;
}

/* boot_cpu_data: raw CPUID minus what the kernel cleared (its config, or XSAVE off). */
static bool kernel_has(const struct vx_kvm *kvm, unsigned idx)
{
	const struct vx_kvm_feature_info *f = vx_kvm_feature_at(idx);
	const struct vx_fpu_config *cfg = vx_fpu_system_config(kvm->fpu);

	if (f->feature != VX_FEAT_COUNT && (cfg->cleared_features & VX_BIT(f->feature)))
		return false;
	if (vx_fpu_xsave_status(kvm->fpu) != VX_FPU_XSAVE_ENABLED)
		for (size_t i = 0; i < sizeof(xsave_dependents) / sizeof(xsave_dependents[0]); i++)
			if (xsave_dependents[i] == idx)
				return false;
	return raw_has(kvm, f);
}

static void cap_set(struct vx_kvm *kvm, unsigned idx, bool on, const char *why)
{
	const struct vx_kvm_feature_info *f = vx_kvm_feature_at(idx);

	if (on)
		kvm->caps[f->word] |= 1u << f->bit;
	else
		kvm->caps[f->word] &= ~(1u << f->bit);
	kvm->why[idx] = why;
}

static bool cap_has(const struct vx_kvm *kvm, unsigned idx)
{
	return vx_kvm_words_has(kvm->caps, idx);
}

/* kvm_cpu_cap_init() per feature: the declared flavour decides (§1.3). */
static void init_feature(struct vx_kvm *kvm, unsigned idx)
{
	const struct vx_kvm_feature_info *f = vx_kvm_feature_at(idx);
	bool host = kernel_has(kvm, idx);

	switch (f->kind) {
	case VX_KVM_CAP_F:
	case VX_KVM_CAP_X86_64:
		cap_set(kvm, idx, host,
			host ? "declared, and the host has it (kvm.md §1.3)"
			     : "declared, but the host kernel lacks it (kvm.md §1.3)");
		break;
	case VX_KVM_CAP_EMULATED:
		cap_set(kvm, idx, true, "EMULATED_F: always supported (kvm.md §1.3)");
		break;
	case VX_KVM_CAP_PASSTHROUGH:
		cap_set(kvm, idx, raw_has(kvm, f), "PASSTHROUGH_F: raw host CPUID (kvm.md §1.3)");
		break;
	case VX_KVM_CAP_RUNTIME:
		cap_set(kvm, idx, false, "RUNTIME_F: never advertised (kvm.md §1.3)");
		break;
	default:
		cap_set(kvm, idx, false, "not supported by KVM 6.18");
		break;
	}
}

static void clear_cet(struct vx_kvm *kvm, const char *why)
{
	if (cap_has(kvm, VX_KF_SHSTK))
		cap_set(kvm, VX_KF_SHSTK, false, why);
	if (cap_has(kvm, VX_KF_IBT))
		cap_set(kvm, VX_KF_IBT, false, why);
}

/* The module parameters and vendor adjustments of §1.3. */
static void vendor_adjust(struct vx_kvm *kvm)
{
	const struct vx_kvm_options *o = &kvm->opts;

	/* SHSTK needs TDP: the shadow MMU cannot map shadow-stack PTEs (§1.3, cpuid.c:959). */
	if (!o->tdp && cap_has(kvm, VX_KF_SHSTK))
		cap_set(kvm, VX_KF_SHSTK, false, "cleared: TDP is off (kvm.md §1.3)");
	/* The emulator supports neither SHSTK nor IBT (§1.3, cpuid.c:987-995). */
	if (o->allow_smaller_maxphyaddr)
		clear_cet(kvm, "cleared: allow_smaller_maxphyaddr (kvm.md §1.3)");
	/* VMX: XSAVES needs the "enable XSAVES/XRSTORS" secondary control (vmx.c:7964ff). */
	if (o->flavour == VX_KVM_VMX && !o->vmx_xsaves && cap_has(kvm, VX_KF_XSAVES))
		cap_set(kvm, VX_KF_XSAVES, false, "cleared: no VMX XSAVES control (kvm.md §1.3)");
	/* VMX: CET needs load-CET entry/exit, unrestricted guest and VMX_BASIC[56] (§1.3). */
	if (o->flavour == VX_KVM_VMX &&
	    !(o->vmx_load_cet && o->vmx_unrestricted_guest && o->vmx_basic_no_hw_errcode))
		clear_cet(kvm, "cleared: VMX lacks load-CET controls, unrestricted guest or "
			       "VMX_BASIC[56] (kvm.md §1.3)");
	/* SVM never offers IBT, whatever the host has (§1.3, svm.c:5194). */
	if (o->flavour == VX_KVM_SVM)
		cap_set(kvm, VX_KF_IBT, false, "cleared: SVM never offers IBT (kvm.md §1.3)");
	/* Quirk pvm-no-cet: kvm_pvm has no CET virtualization (host-kvm.md). */
	if (o->quirks & VX_BIT(VX_KVM_QUIRK_PVM_NO_CET))
		clear_cet(kvm, "cleared: quirk pvm-no-cet (host-kvm.md)");
}

/* The host XSS KVM starts from: the kernel's, plus CET_S for the kvm-* designs (issue 8). */
static uint64_t host_xss_for_kvm(const struct vx_kvm *kvm)
{
	uint64_t xss = kvm->host.xss;

	/* kvm-*: KVM swaps PL0-2_SSP itself, so the CPU's CET_S is usable by guests even though
	 * the host kernel keeps it out of IA32_XSS (design rule, DESIGNS in docs/kvm.md). */
	if (vx_kvm_cet_design_kvm_managed(kvm->opts.design))
		xss |= vx_profile_xss_supported(kvm->profile) & VX_BIT(VX_COMP_CET_S);
	return xss;
}

/* supported_xcr0/xss and the XSS/CET dependencies (§1.3 kvm_x86_vendor_init, §2.2). */
static void xstate_caps(struct vx_kvm *kvm)
{
	kvm->supported_xcr0 = kvm->host.xcr0 & KVM_SUPPORTED_XCR0;
	/* SVM strips MPX from supported_xcr0 (§2.2). */
	if (kvm->opts.flavour == VX_KVM_SVM)
		kvm->supported_xcr0 &= ~KVM_MASK_MPX;
	/* MPX is supported only with both BND components (kvm_mpx_supported). */
	if ((kvm->supported_xcr0 & KVM_MASK_MPX) != KVM_MASK_MPX && cap_has(kvm, VX_KF_MPX))
		cap_set(kvm, VX_KF_MPX, false, "cleared: supported_xcr0 lacks BNDREGS|BNDCSR");
	/* XSS is read only with XSAVES (§2.2, x86.c:10076). */
	kvm->supported_xss = cap_has(kvm, VX_KF_XSAVES) ? host_xss_for_kvm(kvm) & KVM_MASK_CET : 0;
	/* No SHSTK and no IBT: no CET bits in XSS (§1.3). */
	if (!cap_has(kvm, VX_KF_SHSTK) && !cap_has(kvm, VX_KF_IBT))
		kvm->supported_xss &= ~KVM_MASK_CET;
	/* Both CET xfeatures or no CET at all (§1.3, x86.c:10130-10141). */
	if ((kvm->supported_xss & KVM_MASK_CET) != KVM_MASK_CET) {
		clear_cet(kvm, "cleared: supported_xss lacks CET_USER or CET_KERNEL (kvm.md §1.3)");
		kvm->supported_xss &= ~KVM_MASK_CET;
	}
}

static int read_host(struct vx_kvm *kvm, struct vx_error *err)
{
	const struct vx_fpu_cpu_setup *setup = vx_fpu_cpu_setup(kvm->fpu);
	struct vx_cpu *cpu0 = vx_fpu_machine_cpu(kvm->machine, 0);
	uint64_t s_cet = 0;

	kvm->host.xcr0 = setup->osxsave ? setup->xcr0 : 0;
	kvm->host.xss = setup->write_xss ? setup->xss : 0;
	if (vx_profile_has(kvm->profile, VX_FEAT_CET_SS) ||
	    vx_profile_has(kvm->profile, VX_FEAT_CET_IBT))
		(void)vx_cpu_msr_access(cpu0, VX_MSR_HOST, VX_MSR_READ, VX_MSR_IA32_S_CET, &s_cet,
					NULL);
	kvm->host.s_cet = s_cet;
	/* Supervisor shadow stacks on in the host: KVM refuses to load (§3.2, x86.c:10035). */
	if (s_cet & 1u)
		return vx_error_set(err, -EIO, "kvm.md §3.2",
				    "host S_CET has SHSTK_EN: KVM does not preserve host PLx_SSP");
	return 0;
}

static int check_options(const struct vx_fpu_machine *machine, const struct vx_kvm_options *o,
			 struct vx_error *err)
{
	const struct vx_fpu_system *sys = vx_fpu_machine_system(machine);
	enum vx_vendor vendor = vx_profile_vendor(vx_fpu_system_profile(sys));

	if ((unsigned)o->design >= VX_KVM_CET_DESIGN_COUNT ||
	    (unsigned)o->flavour >= VX_KVM_FLAVOUR_COUNT)
		return vx_error_set(err, -EINVAL, "kvm.md §1.3", "unknown design or flavour");
	if (vx_fpu_system_config(sys)->cet_design != vx_kvm_cet_design_fpu(o->design))
		return vx_error_set(err, -EINVAL, "kvm.md §6.4",
				    "design %s needs the fpu layer booted as %s, not %s",
				    vx_kvm_cet_design_name(o->design),
				    vx_fpu_cet_design_name(vx_kvm_cet_design_fpu(o->design)),
				    vx_fpu_cet_design_name(vx_fpu_system_config(sys)->cet_design));
	if ((o->flavour == VX_KVM_VMX && vendor == VX_VENDOR_AMD) ||
	    (o->flavour == VX_KVM_SVM && vendor == VX_VENDOR_INTEL))
		return vx_error_set(err, -EINVAL, "kvm.md §1.3", "flavour %s on an %s host",
				    vx_kvm_flavour_name(o->flavour), vx_vendor_name(vendor));
	if (o->quirks >> VX_KVM_QUIRK_COUNT)
		return vx_error_set(
		    err, -EINVAL, "kvm.md §1.3", "unknown quirk bits 0x%llx",
		    (unsigned long long)o->quirks >> VX_KVM_QUIRK_COUNT << VX_KVM_QUIRK_COUNT);
	return 0;
}

int vx_kvm_create(struct vx_fpu_machine *machine, const struct vx_kvm_options *options,
		  struct vx_kvm **out, struct vx_error *err)
{
	const struct vx_fpu_system *sys = vx_fpu_machine_system(machine);
	const struct vx_platform *pf = vx_fpu_system_config(sys)->platform;
	struct vx_kvm *kvm;
	int rc = check_options(machine, options, err);

	_Static_assert(VX_KF_COUNT <= VX_KVM_MAX_FEATURES, "feature table too large");
	if (rc)
		return rc;
	pf = pf ? pf : vx_platform_default();
	kvm = pf->alloc(pf->ctx, sizeof(*kvm), 64);
	if (!kvm)
		return vx_error_set(err, -ENOMEM, "kvm.md §1.3", "cannot allocate the module");
	memset(kvm, 0, sizeof(*kvm));
	kvm->opts = *options;
	kvm->machine = machine;
	kvm->fpu = sys;
	kvm->profile = vx_fpu_system_profile(sys);
	kvm->platform = pf;
	kvm->pkru_reg = vx_reg_lookup("pkru");
	rc = read_host(kvm, err);
	if (rc) {
		pf->free(pf->ctx, kvm);
		return rc;
	}
	for (unsigned i = 0; i < vx_kvm_feature_count(); i++)
		init_feature(kvm, i);
	vendor_adjust(kvm);
	xstate_caps(kvm);
	*out = kvm;
	return 0;
}

void vx_kvm_destroy(struct vx_kvm *kvm)
{
	if (!kvm)
		return;
	while (kvm->vms)
		vx_kvm_vm_destroy(kvm->vms);
	kvm->platform->free(kvm->platform->ctx, kvm);
}

const struct vx_kvm_options *vx_kvm_options(const struct vx_kvm *kvm)
{
	return &kvm->opts;
}

struct vx_fpu_machine *vx_kvm_machine(const struct vx_kvm *kvm)
{
	return kvm->machine;
}

uint64_t vx_kvm_supported_xcr0(const struct vx_kvm *kvm)
{
	return kvm->supported_xcr0;
}

uint64_t vx_kvm_supported_xss(const struct vx_kvm *kvm)
{
	return kvm->supported_xss;
}

bool vx_kvm_cap_has(const struct vx_kvm *kvm, unsigned index)
{
	return index < vx_kvm_feature_count() && cap_has(kvm, index);
}

uint32_t vx_kvm_cap_word(const struct vx_kvm *kvm, enum vx_kvm_word word)
{
	return (unsigned)word < VX_KVM_NR_WORDS ? kvm->caps[word] : 0;
}

size_t vx_kvm_cap_reason(const struct vx_kvm *kvm, unsigned index, char *buf, size_t len)
{
	const char *why = index < vx_kvm_feature_count() ? kvm->why[index] : NULL;
	int n =
	    snprintf(buf, len, "%s: %s", vx_kvm_cap_has(kvm, index) ? "supported" : "not supported",
		     why ? why : "unknown feature");

	return n < 0 ? 0 : (size_t)n;
}
