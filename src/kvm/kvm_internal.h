/* SPDX-License-Identifier: MIT */
/*
 * kvm layer internals: the module, VM and vCPU objects (kvm.md §1.2) shared by the files of
 * src/kvm/.  One concept per file: module.c (load, caps), features.c (the feature table),
 * cpuid.c (supported/emulated CPUID, leaf 0xD), vcpu.c (VM/vCPU lifecycle), vcpu_cpuid.c
 * (KVM_SET/GET_CPUID2, per-vCPU caps), quirks.c, and the register/ABI/run files.
 */
#ifndef VXSAVE_SRC_KVM_INTERNAL_H
#define VXSAVE_SRC_KVM_INTERNAL_H

#include <errno.h>
#include <string.h>

#include <vxsave/kvm.h>
#include <vxsave/kvm_run.h>

#define VX_KVM_MAX_VCPU_ID 4096u /* KVM_CAP_MAX_VCPU_ID measured here (KVM_MAX_VCPU_IDS) */
#define VX_KVM_MAX_VCPUS   64u

/* kvm_host (x86.h): the host values KVM captured at load. */
struct vx_kvm_host {
	uint64_t xcr0;
	uint64_t xss;
	uint64_t s_cet;
};

#define VX_KVM_MAX_FEATURES 128u

struct vx_kvm {
	struct vx_kvm_options opts;
	struct vx_fpu_machine *machine;
	const struct vx_fpu_system *fpu;
	const struct vx_profile *profile; /* the host CPU (the fpu system's copy) */
	const struct vx_platform *platform;
	struct vx_kvm_host host;
	uint32_t caps[VX_KVM_NR_WORDS];	    /* kvm_cpu_caps */
	uint64_t supported_xcr0;	    /* kvm_caps.supported_xcr0 */
	uint64_t supported_xss;		    /* kvm_caps.supported_xss */
	struct vx_kvm_vm *vms;		    /* list, newest first */
	const struct vx_reg_info *pkru_reg; /* "pkru", for the VM entry/exit switch (run.c) */
	/* kvm-user-return: the vCPU whose PL0-2_SSP are in each CPU's MSRs, until that CPU's
	 * user-return notifier restores the host's (run.c). */
	struct vx_kvm_vcpu *ur_owner[64];
	bool ur_dirty[64]; /* the CPU's PL0-2_SSP hold a guest's values (owner or orphaned) */
	/* Why each feature is (not) in caps: the last rule of §1.3 that decided it. */
	const char *why[VX_KVM_MAX_FEATURES];
};

struct vx_kvm_vm {
	struct vx_kvm *kvm;
	struct vx_fpu_process *owner;
	struct vx_kvm_vcpu *vcpus[VX_KVM_MAX_VCPUS];
	struct vx_cpu_memory *memory; /* guest memory for the CET instructions (run.c) */
	bool exit_on_emulation_error; /* KVM_CAP_EXIT_ON_EMULATION_FAILURE (emulate.c) */
	unsigned nvcpus;
	struct vx_kvm_vm *next;
};

/* The CET registers KVM keeps outside XSAVE: VMCS/VMCB fields (kvm.md §6.3). */
struct vx_kvm_vmcs_cet {
	uint64_t s_cet;
	uint64_t ssp;
	uint64_t int_ssp_tab;
};

/*
 * The kvm-* designs' own copy of the guest's PL0-2_SSP (issue 8): where KVM keeps them while
 * they are not in the hardware MSRs.  @loaded: the guest's values are in the MSRs of the CPU
 * the vCPU's thread runs on; @passthrough: kvm-lazy has stopped intercepting writes.
 */
struct vx_kvm_cet_sw {
	uint64_t pl_ssp[3];
	bool loaded;
	bool passthrough;
};

struct vx_kvm_vcpu {
	struct vx_kvm_vm *vm;
	unsigned id;
	struct vx_fpu_task *creator;
	/* Guest CPUID as KVM_SET_CPUID2 gave it (runtime bits applied lazily, §2.4). */
	struct vx_kvm_cpuid_entry *cpuid;
	uint32_t ncpuid;
	uint32_t caps[VX_KVM_NR_WORDS]; /* vcpu->arch.cpu_caps */
	uint64_t guest_supported_xcr0;
	uint64_t guest_supported_xss;
	uint64_t xcr0;
	uint64_t ia32_xss;
	uint32_t pkru;
	uint64_t cr0;
	uint64_t cr4;
	uint64_t efer;
	bool has_run;
	bool cpuid_dynamic_dirty;
	bool xfd_no_write_intercept;
	struct vx_fpu_guest gfpu;
	struct vx_kvm_vmcs_cet vmcs;
	struct vx_kvm_cet_sw cet_sw;
	/* KVM_RUN (run.c): the thread inside it, whether the vCPU is loaded on its CPU. */
	struct vx_fpu_task *run_task;
	bool in_run;
	bool loaded;
	struct vx_kvm_design_counters design;
	/* nested.c: L2 runs (is_guest_mode); smm.c: the vCPU is in SMM. */
	bool guest_mode;
	bool smm;
	/* Why each feature is (not) a cap: the §1.4 rule that decided it. */
	const char *why[VX_KVM_MAX_FEATURES];
};

/* features.c: the feature table (one row per feature KVM knows here). */
unsigned vx_kvm_find_feature(enum vx_kvm_word word, unsigned bit);
static inline bool vx_kvm_words_has(const uint32_t *words, unsigned feature)
{
	const struct vx_kvm_feature_info *f = vx_kvm_feature_at(feature);

	return f && (words[f->word] >> f->bit & 1u);
}
/* Feature indices the rules name (features.c keeps the table in this order; a test checks
 * every name against its row). */
enum vx_kvm_feat_idx {
	VX_KF_SSE3 = 0,
	VX_KF_MWAIT,
	VX_KF_X2APIC,
	VX_KF_MOVBE,
	VX_KF_TSC_DEADLINE,
	VX_KF_XSAVE,
	VX_KF_OSXSAVE,
	VX_KF_AVX,
	VX_KF_HYPERVISOR,
	VX_KF_FPU,
	VX_KF_FXSR,
	VX_KF_SSE,
	VX_KF_SSE2,
	VX_KF_TSC_ADJUST,
	VX_KF_AVX2,
	VX_KF_MPX,
	VX_KF_AVX512F,
	VX_KF_PKU,
	VX_KF_OSPKE,
	VX_KF_SHSTK,
	VX_KF_LA57,
	VX_KF_RDPID,
	VX_KF_IBT,
	VX_KF_AMX_BF16,
	VX_KF_AMX_TILE,
	VX_KF_AMX_INT8,
	VX_KF_ARCH_CAPABILITIES,
	VX_KF_AMX_FP16,
	VX_KF_AMX_COMPLEX,
	VX_KF_APX_F,
	VX_KF_XSAVEOPT,
	VX_KF_XSAVEC,
	VX_KF_XGETBV1,
	VX_KF_XSAVES,
	VX_KF_XFD,
	VX_KF_LAHF_LM,
	VX_KF_SYSCALL,
	VX_KF_NX,
	VX_KF_GBPAGES,
	VX_KF_RDTSCP,
	VX_KF_LM,
	VX_KF_COUNT
};

/* cpuid.c */
const struct vx_kvm_cpuid_entry *vx_kvm_cpuid_find(const struct vx_kvm_cpuid_entry *entries,
						   uint32_t nent, uint32_t function,
						   uint32_t index);
uint32_t vx_kvm_cpuid_reg(const struct vx_kvm_cpuid_entry *e, enum vx_cpuid_reg reg);
/* kvm_get_filtered_xcr0(): supported_xcr0 ∩ the process's guest permission (§2.2). */
uint64_t vx_kvm_filtered_xcr0(const struct vx_kvm *kvm, const struct vx_fpu_task *task);
/* xstate_required_size() (§2.2) from the host's leaf 0xD. */
uint32_t vx_kvm_xstate_required_size(const struct vx_kvm *kvm, uint64_t xfeatures, bool compacted);

/* vcpu_cpuid.c: kvm_vcpu_after_set_cpuid() (§1.4) and kvm_update_cpuid_runtime() applied to
 * @entries with the vCPU's current CR4/XCR0/XSS (§1.4 step 3, §2.4). */
void vx_kvm_vcpu_after_set_cpuid(struct vx_kvm_vcpu *vcpu);
/* The runtime caps (OSXSAVE, OSPKE) from the vCPU's CR4 (§1.4 step 3). */
void vx_kvm_vcpu_runtime_caps(struct vx_kvm_vcpu *vcpu);
void vx_kvm_vcpu_runtime_entries(const struct vx_kvm_vcpu *vcpu, struct vx_kvm_cpuid_entry *entries,
				 uint32_t nent);
/* quirks_pvm.c: the measured CPUID quirks of kvm_pvm (quirks.c rows
 * pvm-supported-cpuid-sparse, pvm-cpuid-override).  The override rewrites @e in place and may
 * append up to VX_KVM_PVM_CPUID_EXTRA entries; returns the new count. */
#define VX_KVM_PVM_CPUID_EXTRA 64u
void vx_kvm_pvm_sparse_supported(const struct vx_kvm *kvm, uint32_t leaf, uint32_t subleaf,
				 struct vx_cpuid_regs *r);
bool vx_kvm_pvm_emulates_rdpid(const struct vx_kvm *kvm);
uint32_t vx_kvm_pvm_cpuid_override(const struct vx_kvm *kvm, struct vx_kvm_cpuid_entry *e,
				   uint32_t n);
/* The platform of the module (allocation for vCPU objects and CPUID arrays). */
void *vx_kvm_alloc(const struct vx_kvm *kvm, size_t size);
void vx_kvm_free(const struct vx_kvm *kvm, void *ptr);

/* emulate.c: the VX_KVM_GOP_BRANCH guest op (kvm_emulate.h): whether it exits to KVM, the
 * processor running it (event in @event), KVM handling the exit (1: exit to userspace). */
bool vx_kvm_branch_exits(const struct vx_kvm_guest_op *op);
void vx_kvm_branch_native(struct vx_cpu *cpu, struct vx_cpu_memory *mem,
			  const struct vx_kvm_guest_op *op, struct vx_event *event);
int vx_kvm_branch_exit(struct vx_kvm_vcpu *vcpu, const struct vx_kvm_guest_op *op,
		       struct vx_kvm_run *run);

/* design.c: the CET_S design's hooks (kvm_arch_vcpu_load/put, the user-return notifier, the
 * kvm-lazy write intercept). */
void vx_kvm_design_load(struct vx_kvm_vcpu *vcpu, unsigned cpu);
void vx_kvm_design_put(struct vx_kvm_vcpu *vcpu, unsigned cpu);
void vx_kvm_design_user_return(struct vx_kvm *kvm, unsigned cpu);
bool vx_kvm_design_pl_write_intercepted(const struct vx_kvm_vcpu *vcpu);
void vx_kvm_design_pl_written(struct vx_kvm_vcpu *vcpu, unsigned cpu, uint64_t value);

#endif /* VXSAVE_SRC_KVM_INTERNAL_H */
