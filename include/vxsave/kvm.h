/* SPDX-License-Identifier: MIT */
/*
 * vxsave `kvm` layer: KVM x86 6.18 as a VMM sees it, on top of the `fpu` layer (kvm.md).
 *
 * A module (struct vx_kvm) is created from a booted FPU machine (fpu_task.h) and options: the
 * vendor flavour (VMX, SVM, or the paravirtual PVM seen on the development machines), module
 * parameters, and where CET supervisor state lives (the six CET_S designs).  At creation it
 * computes kvm_cpu_caps (kvm.md §1.3), supported_xcr0/xss with the XSS/CET pruning, and the
 * MSR lists (§3.3).  VMs and vCPUs are created by a task of the machine (the VMM thread): a
 * vCPU owns a guest fpstate (fpu_alloc_guest_fpstate, which locks the process's guest
 * permission), its CPUID entries and the capability words derived from them once per
 * KVM_SET_CPUID2 (§1.4), XCR0, IA32_XSS, PKRU and the VMCS/VMCB-resident CET registers.
 *
 * Every entry point is shaped like the ioctl it models and returns 0 (or a count) or the
 * ioctl's negative errno, with a struct vx_error naming the rule (spec section, MSR, bit).  A
 * refused call leaves every object unchanged.  The drop-in /dev/kvm interface over
 * <linux/kvm.h> structs is kvm_ioctl.h.
 *
 * Thread safety: a module and everything created from it belong to one thread at a time;
 * separate modules share nothing.
 */
#ifndef VXSAVE_KVM_H
#define VXSAVE_KVM_H

#include <vxsave/fpu_task.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vx_kvm;
struct vx_kvm_vm;
struct vx_kvm_vcpu;

/* ----------------------------------------------------------------------------------------- */
/* Where CET supervisor state (PL0-2_SSP) lives: the six designs (issue 8; kvm.md §6.4)          */

/**
 * enum vx_kvm_cet_design - one switch, every other line shared.
 * @VX_KVM_CET_UNSUPPORTED:     no CET_S anywhere: KVM offers no SHSTK (the baseline; 6.17).
 * @VX_KVM_CET_ALL_TASKS:       CET_S XSAVE-managed in every task's fpstate.
 * @VX_KVM_CET_GUEST_ONLY:      CET_S XSAVE-managed in guest fpstates only (merged; default).
 * @VX_KVM_CET_KVM_EAGER:       not XSAVE-managed: KVM saves PL0-2_SSP, zeroes them on the way
 *                              out and reloads them on the way in, at KVM_RUN entry/exit and
 *                              sched out/in (the first, rejected proposals).
 * @VX_KVM_CET_KVM_LAZY:        as eager, but the MSRs stay write-intercepted until the guest
 *                              first writes a non-zero value; only then swapped.
 * @VX_KVM_CET_KVM_USER_RETURN: as eager, but the host values come back only when the thread
 *                              returns to user mode (as the SYSCALL MSRs' user-return hook).
 * The three kvm-* designs boot the fpu layer as "unsupported" (vx_fpu_cet_design_base()).
 */
enum vx_kvm_cet_design {
	VX_KVM_CET_UNSUPPORTED = 0,
	VX_KVM_CET_ALL_TASKS,
	VX_KVM_CET_GUEST_ONLY,
	VX_KVM_CET_KVM_EAGER,
	VX_KVM_CET_KVM_LAZY,
	VX_KVM_CET_KVM_USER_RETURN,
	VX_KVM_CET_DESIGN_COUNT
};

/** "unsupported", ..., "kvm-user-return"; NULL if out of range. */
VX_API const char *vx_kvm_cet_design_name(enum vx_kvm_cet_design design);
/** The design called @name; -ENOENT if none. */
VX_API int vx_kvm_cet_design_by_name(const char *name);
/** The fpu-layer design @design boots with (itself, or unsupported for the kvm-* ones). */
VX_API enum vx_fpu_cet_design vx_kvm_cet_design_fpu(enum vx_kvm_cet_design design);
/** True for the kvm-eager, kvm-lazy and kvm-user-return designs (KVM swaps PL0-2_SSP). */
VX_API bool vx_kvm_cet_design_kvm_managed(enum vx_kvm_cet_design design);

/* ----------------------------------------------------------------------------------------- */
/* Flavours and quirks                                                                          */

/**
 * enum vx_kvm_flavour - which vendor module the model is.
 * @VX_KVM_VMX: upstream kvm_intel.  @VX_KVM_SVM: upstream kvm_amd.
 * @VX_KVM_PVM: kvm_pvm, the paravirtual nested flavour measured on the development machines
 *              (host-kvm.md); it is SVM/VMX-agnostic and differs from upstream as the quirk
 *              table says.
 */
enum vx_kvm_flavour { VX_KVM_VMX = 0, VX_KVM_SVM, VX_KVM_PVM, VX_KVM_FLAVOUR_COUNT };

VX_API const char *vx_kvm_flavour_name(enum vx_kvm_flavour flavour);
VX_API int vx_kvm_flavour_by_name(const char *name);

/**
 * enum vx_kvm_quirk - one named difference between a flavour and upstream 6.18 KVM, never a
 * silent special case (quirks.c holds the table: name, flavour, what upstream does, what this
 * flavour does, where it was measured).  A module's options carry the set it models.
 */
enum vx_kvm_quirk {
	/* KVM_GET_SUPPORTED_CPUID leaves out 1.ECX SSE3/XSAVE/AVX and 0xD.1 (host-kvm.md). */
	VX_KVM_QUIRK_PVM_SUPPORTED_CPUID_SPARSE = 0,
	/* KVM_SET_CPUID2's leaves 1, 7.0, 7.1 and 0xD are rewritten from the host's (quirks_pvm.c). */
	VX_KVM_QUIRK_PVM_CPUID_OVERRIDE,
	/* Host KVM_SET_MSRS of IA32_XSS fails for every value, 0 included. */
	VX_KVM_QUIRK_PVM_XSS_HOST_WRITE_FAILS,
	/* No CET MSR exists for the host or the guest (no SHSTK/IBT caps at all). */
	VX_KVM_QUIRK_PVM_NO_CET,
	/* Guest RDMSR/WRMSR of XSS, XFD, XFD_ERR → #GP even where upstream allows them. */
	VX_KVM_QUIRK_PVM_GUEST_XSTATE_MSRS_GP,
	/* CPL3 guest code runs natively: XCR0/CR4 of the guest have no effect there. */
	VX_KVM_QUIRK_PVM_CPL3_NATIVE,
	/* KVM_GET_CPUID2 may show the calling CPU's APIC id in leaf 1 EBX[31:24] (not modelled:
	 * the model answers as CPU 0; the differential tests pin themselves there). */
	VX_KVM_QUIRK_PVM_CPUID_HOST_APIC_ID,
	/* Any KVM_RUN that enters CPL3 guest code leaves SSE in use (XSTATE_BV[1] in
	 * KVM_GET_XSAVE2) even if the guest touched no SSE register. */
	VX_KVM_QUIRK_PVM_CPL3_SSE_IN_USE,
	/* CPL0 guest code runs in KVM's instruction emulator, which stops with
	 * KVM_EXIT_INTERNAL_ERROR at XGETBV, LDMXCSR, VEX and XSAVE-family instructions (not
	 * modelled: the model's CPL0 ops run as on hardware). */
	VX_KVM_QUIRK_PVM_CPL0_EMULATED,
	VX_KVM_QUIRK_COUNT
};

/**
 * struct vx_kvm_quirk_info - a row of the quirk table.
 * @name: "pvm-cpuid-override"; @flavour: where it applies; @upstream / @observed: the
 * behaviours, one sentence each; @source: where it was measured or read.
 */
struct vx_kvm_quirk_info {
	const char *name;
	enum vx_kvm_flavour flavour;
	const char *upstream;
	const char *observed;
	const char *source;
};

VX_API const struct vx_kvm_quirk_info *vx_kvm_quirk_info(enum vx_kvm_quirk quirk);
/** The quirks a flavour has by default (VMX and SVM: none). */
VX_API uint64_t vx_kvm_flavour_quirks(enum vx_kvm_flavour flavour);

/* ----------------------------------------------------------------------------------------- */
/* The module                                                                                   */

/**
 * enum vx_kvm_fault - TEST-ONLY fault injection (issue 9: the eval layer's integrity checker
 * must catch a planted bug in every design).  Never set it outside tests.  The fault fires
 * once, at the (@fault_at + 1)-th chance; the module's own copy of the options then shows
 * VX_KVM_FAULT_NONE (vx_kvm_options()), so a caller can tell that it fired.
 * @VX_KVM_FAULT_SKIP_ZEROING: the guest's registers are left in place once when the thread
 *     leaves the guest: kvm-eager and kvm-lazy skip the zeroing of PL0-2_SSP in vcpu_put,
 *     kvm-user-return skips it in the user-return notifier, and the XSAVE-managed designs
 *     (unsupported, all-tasks, guest-only) leave the guest fpstate loaded after KVM_RUN put
 *     it (as if the host's XRSTORS had not reset its components, linux-fpu.md §8.3).
 * @VX_KVM_FAULT_SKIP_SAVE: the kvm-* designs replace PL0-2_SSP once without saving them first
 *     (vcpu_put, or the notifier): the guest later reads an older value.  No chance arises in
 *     the XSAVE-managed designs.
 */
enum vx_kvm_fault {
	VX_KVM_FAULT_NONE = 0,
	VX_KVM_FAULT_SKIP_ZEROING,
	VX_KVM_FAULT_SKIP_SAVE,
	VX_KVM_FAULT_COUNT
};

/**
 * struct vx_kvm_options - how the module is loaded (kvm.md §1.3).
 * @design:   where CET_S lives; must agree with the fpu system's design
 *            (vx_kvm_cet_design_fpu()).
 * @flavour:  vendor module.  @quirks: mask of VX_BIT(enum vx_kvm_quirk); the flavour's default
 *            when created through vx_kvm_options_init().
 * @tdp:      enable_ept / npt (SHSTK needs TDP, §1.3).
 * @allow_smaller_maxphyaddr: clears SHSTK and IBT (§1.3).
 * @ignore_msrs: kvm.ignore_msrs (§3.1).
 * @vmx_load_cet, @vmx_unrestricted_guest, @vmx_basic_no_hw_errcode, @vmx_xsaves: what the VMX
 *            capability MSRs offer (§1.3 vendor adjustments); ignored on SVM/PVM.
 * @fault, @fault_at: TEST-ONLY fault injection (enum vx_kvm_fault); VX_KVM_FAULT_NONE normally.
 */
struct vx_kvm_options {
	enum vx_kvm_cet_design design;
	enum vx_kvm_flavour flavour;
	uint64_t quirks;
	bool tdp;
	bool allow_smaller_maxphyaddr;
	bool ignore_msrs;
	bool vmx_load_cet;
	bool vmx_unrestricted_guest;
	bool vmx_basic_no_hw_errcode;
	bool vmx_xsaves;
	enum vx_kvm_fault fault;
	unsigned fault_at;
};

/**
 * vx_kvm_options_init() - defaults for @flavour: guest-only, TDP on, every VMX control present,
 * the flavour's quirks.
 */
VX_API void vx_kvm_options_init(struct vx_kvm_options *options, enum vx_kvm_flavour flavour);

/**
 * vx_kvm_create() - load the module on @machine (which must outlive it): kvm_cpu_caps,
 * supported_xcr0/xss, MSR lists.  -EINVAL if @options' design does not match the machine's
 * fpu design, or the flavour does not fit the host vendor (VMX on AMD, SVM on Intel); -ENOMEM.
 */
VX_API int vx_kvm_create(struct vx_fpu_machine *machine, const struct vx_kvm_options *options,
			 struct vx_kvm **kvm, struct vx_error *err);
VX_API void vx_kvm_destroy(struct vx_kvm *kvm);
VX_API const struct vx_kvm_options *vx_kvm_options(const struct vx_kvm *kvm);
VX_API struct vx_fpu_machine *vx_kvm_machine(const struct vx_kvm *kvm);

/** kvm_caps.supported_xcr0 / supported_xss after the §1.3 pruning. */
VX_API uint64_t vx_kvm_supported_xcr0(const struct vx_kvm *kvm);
VX_API uint64_t vx_kvm_supported_xss(const struct vx_kvm *kvm);

/* ----------------------------------------------------------------------------------------- */
/* Capability words and features (kvm.md §1.2-§1.5)                                            */

/**
 * enum vx_kvm_word - the CPUID words KVM tracks that this model keeps (a subset of
 * NR_KVM_CPU_CAPS: the words holding XSAVE, CET, AMX and the features the rules of §1.4 name).
 */
enum vx_kvm_word {
	VX_KVM_W_1_ECX = 0,
	VX_KVM_W_1_EDX,
	VX_KVM_W_7_0_EBX,
	VX_KVM_W_7_0_ECX,
	VX_KVM_W_7_0_EDX,
	VX_KVM_W_7_1_EAX,
	VX_KVM_W_7_1_EDX,
	VX_KVM_W_D_1_EAX,
	VX_KVM_W_8000_0001_ECX,
	VX_KVM_W_8000_0001_EDX,
	VX_KVM_NR_WORDS
};

/** struct vx_kvm_word_info - reverse_cpuid[]: the (leaf, subleaf, register) of a word. */
struct vx_kvm_word_info {
	const char *name;
	uint32_t leaf;
	uint32_t subleaf;
	enum vx_cpuid_reg reg;
};

VX_API const struct vx_kvm_word_info *vx_kvm_word_info(enum vx_kvm_word word);

/**
 * Flavours of a feature in kvm_set_cpu_caps() (§1.3): how the module decides support.
 * F: declared, AND host kernel caps, AND raw CPUID.  EMULATED: always.  PASSTHROUGH: raw CPUID
 * only (LA57).  RUNTIME: never advertised, computed at runtime (OSXSAVE, OSPKE, MWAIT).
 * X86_64: F on a 64-bit kernel (always here).  UNDECLARED: KVM does not support it at all.
 */
enum vx_kvm_cap_kind {
	VX_KVM_CAP_F = 0,
	VX_KVM_CAP_EMULATED,
	VX_KVM_CAP_PASSTHROUGH,
	VX_KVM_CAP_RUNTIME,
	VX_KVM_CAP_X86_64,
	VX_KVM_CAP_UNDECLARED,
	VX_KVM_CAP_KIND_COUNT
};

/* The feature is in cpuid_func_emulated(include_partially_emulated): a vCPU whose CPUID has it
 * gets the cap even if the module does not support it (MOVBE, MWAIT, RDPID; §1.4 step 2). */
#define VX_KVM_FEAT_VCPU_EMULATED 0x1u
/* The feature is reported by KVM_GET_EMULATED_CPUID (§2.3). */
#define VX_KVM_FEAT_EMULATED_CPUID 0x2u

/**
 * struct vx_kvm_feature_info - one feature KVM knows: @name ("shstk"), @word, @bit, @kind,
 * @flags (VX_KVM_FEAT_*), @feature (the arch layer's enum vx_feature, VX_FEAT_COUNT if none),
 * @note (the rule that governs it, with the spec section).
 */
struct vx_kvm_feature_info {
	const char *name;
	enum vx_kvm_word word;
	unsigned bit;
	enum vx_kvm_cap_kind kind;
	unsigned flags;
	enum vx_feature feature;
	const char *note;
};

VX_API unsigned vx_kvm_feature_count(void);
VX_API const struct vx_kvm_feature_info *vx_kvm_feature_at(unsigned index);
/** Index of the feature called @name (case-insensitive), or -ENOENT. */
VX_API int vx_kvm_feature_by_name(const char *name);

/** kvm_cpu_cap_has(): the module supports (may advertise) feature @index. */
VX_API bool vx_kvm_cap_has(const struct vx_kvm *kvm, unsigned index);
/** The module's word @word of kvm_cpu_caps. */
VX_API uint32_t vx_kvm_cap_word(const struct vx_kvm *kvm, enum vx_kvm_word word);
/**
 * vx_kvm_cap_reason() - why the module supports feature @index or not, one sentence naming
 * the rule and spec section ("cleared: SVM never offers IBT (kvm.md §1.3)").  Returns the
 * length vx_cite()-style (snprintf semantics).
 */
VX_API size_t vx_kvm_cap_reason(const struct vx_kvm *kvm, unsigned index, char *buf, size_t len);

/* ----------------------------------------------------------------------------------------- */
/* CPUID (kvm.md §2)                                                                            */

/** struct vx_kvm_cpuid_entry - struct kvm_cpuid_entry2 without padding. */
struct vx_kvm_cpuid_entry {
	uint32_t function;
	uint32_t index;
	uint32_t flags;
	uint32_t eax, ebx, ecx, edx;
};

#define VX_KVM_CPUID_FLAG_SIGNIFCANT_INDEX 0x1u
#define VX_KVM_MAX_CPUID_ENTRIES	   256u

/**
 * vx_kvm_get_supported_cpuid() - KVM_GET_SUPPORTED_CPUID as @task's process asks it (leaf 0xD
 * depends on its guest permission, §2.2): the leaves this model keeps, filtered by the caps.
 * @nent in: room in @entries; out: entries written.  -E2BIG if @nent is too small (@nent then
 * unchanged), -EINVAL for @nent = 0 ... as the real ioctl.
 */
VX_API int vx_kvm_get_supported_cpuid(const struct vx_kvm *kvm, const struct vx_fpu_task *task,
				      struct vx_kvm_cpuid_entry *entries, uint32_t *nent,
				      struct vx_error *err);
/** KVM_GET_EMULATED_CPUID (§2.3): same contract. */
VX_API int vx_kvm_get_emulated_cpuid(const struct vx_kvm *kvm, struct vx_kvm_cpuid_entry *entries,
				     uint32_t *nent, struct vx_error *err);

/* KVM_CHECK_EXTENSION numbers the model answers (values of <linux/kvm.h>). */
#define VX_KVM_CAP_XSAVE	    55
#define VX_KVM_CAP_XCRS		    56
#define VX_KVM_CAP_ONE_REG	    70
#define VX_KVM_CAP_GET_MSR_FEATURES 153
#define VX_KVM_CAP_XSAVE2	    208
#define VX_KVM_CAP_MAX_VCPUS	    66

/**
 * vx_kvm_check_extension() - KVM_CHECK_EXTENSION(@cap) on /dev/kvm by @task: XSAVE 1, XCRS 1
 * (with host XSAVE), ONE_REG 1, XSAVE2 = max(4096, standard size of the filtered XCR0), ...;
 * 0 for anything the model does not know (as KVM does for unknown caps).
 */
VX_API int vx_kvm_check_extension(const struct vx_kvm *kvm, const struct vx_fpu_task *task,
				  long cap);

#define VX_KVM_X86_XCOMP_GUEST_SUPP 0
/** KVM_GET_DEVICE_ATTR on /dev/kvm (§2.2): group 0 attr 0 → supported_xcr0, else -ENXIO. */
VX_API int vx_kvm_get_device_attr(const struct vx_kvm *kvm, uint32_t group, uint64_t attr,
				  uint64_t *value, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* VMs and vCPUs                                                                                */

/** KVM_CREATE_VM by @task (its process is the VM's owner).  -ENOMEM. */
VX_API int vx_kvm_vm_create(struct vx_kvm *kvm, struct vx_fpu_task *task, struct vx_kvm_vm **vm,
			    struct vx_error *err);
/** Destroy the VM and its vCPUs (none may be running). */
VX_API void vx_kvm_vm_destroy(struct vx_kvm_vm *vm);
VX_API struct vx_kvm *vx_kvm_vm_module(const struct vx_kvm_vm *vm);

/**
 * vx_kvm_vcpu_create() - KVM_CREATE_VCPU @id by @task: guest fpstate (guest permission
 * locked), caps computed with no CPUID (almost all 0), XCR0 = FP, XSS = 0, RESET values.
 * -EEXIST for a used id, -EINVAL for id >= 4096 (KVM_CAP_MAX_VCPU_ID), -ENOMEM.
 */
VX_API int vx_kvm_vcpu_create(struct vx_kvm_vm *vm, struct vx_fpu_task *task, unsigned id,
			      struct vx_kvm_vcpu **vcpu, struct vx_error *err);
/**
 * vx_kvm_vcpu_init_event() - an INIT signal (kvm_vcpu_reset(init_event = true)): CR0/CR4 back to
 * their reset values, XCR0 and IA32_XSS kept; kvm_xstate_reset() zeroes the guest fpstate's MPX,
 * CET_USER and CET_KERNEL components (§6.5), and the VMCS-resident S_CET, SSP and INT_SSP_TAB are
 * zeroed (§3.2 "Initial values"); the kvm-* designs zero their PL0-2_SSP copy.  -EBUSY inside
 * KVM_RUN (the model delivers INIT between runs).
 */
VX_API int vx_kvm_vcpu_init_event(struct vx_kvm_vcpu *vcpu, struct vx_error *err);
VX_API struct vx_kvm_vm *vx_kvm_vcpu_vm(const struct vx_kvm_vcpu *vcpu);
VX_API unsigned vx_kvm_vcpu_id(const struct vx_kvm_vcpu *vcpu);
/** The vCPU's guest FPU (struct fpu_guest) for inspection. */
VX_API const struct vx_fpu_guest *vx_kvm_vcpu_guest_fpu(const struct vx_kvm_vcpu *vcpu);

/**
 * vx_kvm_vcpu_set_cpuid2() - KVM_SET_CPUID2 by @task (§1.4, §2.5): -E2BIG above 256 entries,
 * -EINVAL after KVM_RUN unless identical (runtime bits applied first), -EINVAL for a virtual
 * address width other than 0/48/57, -EPERM for XTILE_DATA without guest permission, -EFAULT
 * when growing the guest fpstate fails.  On success the capability words, guest_supported_xcr0
 * and _xss are recomputed.  On failure nothing changed.
 */
VX_API int vx_kvm_vcpu_set_cpuid2(struct vx_kvm_vcpu *vcpu, struct vx_fpu_task *task,
				  const struct vx_kvm_cpuid_entry *entries, uint32_t nent,
				  struct vx_error *err);
/**
 * vx_kvm_vcpu_get_cpuid2() - KVM_GET_CPUID2: the entries with runtime bits applied (§2.4).
 * -E2BIG if @nent is smaller than the count (@nent untouched).
 */
VX_API int vx_kvm_vcpu_get_cpuid2(struct vx_kvm_vcpu *vcpu, struct vx_kvm_cpuid_entry *entries,
				  uint32_t *nent, struct vx_error *err);

/** guest_cpu_cap_has(): the vCPU's effective capability for feature @index. */
VX_API bool vx_kvm_vcpu_cap_has(const struct vx_kvm_vcpu *vcpu, unsigned index);
/** guest_cpuid_has(): the vCPU's CPUID has feature @index (XSAVES' one legitimate use, §1.5). */
VX_API bool vx_kvm_vcpu_cpuid_has(const struct vx_kvm_vcpu *vcpu, unsigned index);
VX_API uint64_t vx_kvm_vcpu_guest_supported_xcr0(const struct vx_kvm_vcpu *vcpu);
VX_API uint64_t vx_kvm_vcpu_guest_supported_xss(const struct vx_kvm_vcpu *vcpu);

/**
 * struct vx_kvm_cap_row - one line of a vCPU's capability table: the feature, whether guest
 * CPUID sets it, whether KVM supports it, the effective cap, and why (the §1.4 rule applied).
 */
struct vx_kvm_cap_row {
	unsigned feature;
	bool guest_cpuid;
	bool kvm_supported;
	bool effective;
	char why[160];
};

/** Fill @rows (room for @max) with the vCPU's table, one row per known feature; returns count. */
VX_API unsigned vx_kvm_vcpu_cap_table(const struct vx_kvm_vcpu *vcpu, struct vx_kvm_cap_row *rows,
				      unsigned max);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_KVM_H */
