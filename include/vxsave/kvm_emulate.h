/* SPDX-License-Identifier: MIT */
/*
 * vxsave `kvm` layer: where KVM itself runs guest control transfers, and the CET state of nested
 * guests and SMM (kvm.md §7).
 *
 *   - The instruction emulator (§7.1): one table of instruction classes (KVM's ShadowStack
 *     opcode flag, is_ibt_instruction(), near or far); the CET refusal of x86_decode_insn
 *     (U_CET at CPL3 or S_CET below it for near branches, both for far transfers); what a
 *     refusal becomes (#UD for forced emulation, else handle_emulation_failure: #UD, and
 *     KVM_EXIT_INTERNAL_ERROR at CPL0 outside guest mode or with exit-on-emulation-failure);
 *     the far-transfer SSP check (emulator_is_ssp_invalid); the task-switch refusal
 *     (kvm_task_switch).  Guest programs reach all of it with the VX_KVM_GOP_BRANCH op
 *     (kvm_run.h), which also runs a transfer natively, on the processor's CET rules (cpu_cet.h),
 *     when KVM is not involved: that is how #CP reaches a guest (delivered by the hardware, not
 *     by KVM, whose exception tables do not know #CP).
 *   - Nested VMX (§7.2): the load-CET controls and VMX_BASIC[56] offered to L1, the vmcs12 CET
 *     fields, the VMLAUNCH consistency checks (S_CET evaluated against L1's caps), and the
 *     VM-entry/VM-exit copying rules between vmcs12, vmcs02 and L1.  L1 is a struct holding
 *     vmcs12 and what KVM keeps for it; while L2 runs, the vCPU's VMCS-resident CET registers
 *     are vmcs02's, so KVM_RUN executes L2's instructions.
 *   - Nested SVM (§7.3): vmcb12's s_cet/ssp/isst_addr copied to vmcb02 (new vmcb12 or CET area
 *     not clean) and back at #VMEXIT.
 *   - SMM (§7.3): SSP in the 64-bit SMRAM image at 0xFF18, CR4 cleared on SMI, RSM restoring.
 *
 * Not modelled: the other VMX/SVM state (L2 runs with L1's CR0/CR4 in the model; vmcs12's
 * CR fields only feed the consistency checks), the MSR-bitmap merge (L2 sees L0's intercepts,
 * i.e. L1 passes every CET MSR through), enlightened VMCS (which does not map the CET fields),
 * instruction bytes and exit information in the emulation-failure exit.
 */
#ifndef VXSAVE_KVM_EMULATE_H
#define VXSAVE_KVM_EMULATE_H

#include <vxsave/cpu_cet.h>
#include <vxsave/kvm_run.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/* Instruction classes (kvm.md §7.1)                                                            */

/**
 * enum vx_kvm_insn - an instruction as KVM's emulator classifies it.
 * @VX_KVM_INSN_TASK_SWITCH: a task switch (CALL/JMP to a TSS, IRET with NT, a task gate):
 *                           always a VM exit, handled by kvm_task_switch.
 * @VX_KVM_INSN_MOV:         an instruction without a control transfer (an MMIO MOV).
 */
enum vx_kvm_insn {
	VX_KVM_INSN_JMP = 0,	  /* JMP rel */
	VX_KVM_INSN_JMP_INDIRECT, /* JMP r/m */
	VX_KVM_INSN_JMP_FAR,	  /* JMP ptr16:xx / m16:xx (ljmp) */
	VX_KVM_INSN_CALL,	  /* CALL rel */
	VX_KVM_INSN_CALL_INDIRECT,
	VX_KVM_INSN_CALL_FAR,
	VX_KVM_INSN_RET,
	VX_KVM_INSN_RET_IMM,
	VX_KVM_INSN_RET_FAR,
	VX_KVM_INSN_RET_FAR_IMM,
	VX_KVM_INSN_INT, /* INT n */
	VX_KVM_INSN_IRET,
	VX_KVM_INSN_SYSCALL,
	VX_KVM_INSN_SYSENTER,
	VX_KVM_INSN_SYSEXIT,
	VX_KVM_INSN_TASK_SWITCH,
	VX_KVM_INSN_MOV,
	VX_KVM_INSN_COUNT
};

/* Class flags (struct vx_kvm_insn_info.flags). */
#define VX_KVM_INSN_NEAR_BRANCH	 0x01u /* NearBranch: only the current CPL's CET MSR is read */
#define VX_KVM_INSN_SHADOW_STACK 0x02u /* the ShadowStack opcode flag (emulate.c:181) */
#define VX_KVM_INSN_IBT		 0x04u /* is_ibt_instruction() */
#define VX_KVM_INSN_REAL_MODE	 0x08u /* the emulator runs it in real mode only */
#define VX_KVM_INSN_LOADS_CS	 0x10u /* loads CS through the descriptor path (SSP check) */
#define VX_KVM_INSN_TASK	 0x20u /* handled by kvm_task_switch, not by the decoder */

/** struct vx_kvm_insn_info - one row: @name ("lcall"), @flags, @note (the rule, with source). */
struct vx_kvm_insn_info {
	const char *name;
	unsigned flags;
	const char *note;
};

/** The row of @insn; NULL if out of range. */
VX_API const struct vx_kvm_insn_info *vx_kvm_insn_info(enum vx_kvm_insn insn);
/** The instruction called @name (case-insensitive), or -ENOENT. */
VX_API int vx_kvm_insn_by_name(const char *name);

/* ----------------------------------------------------------------------------------------- */
/* A control transfer in a guest program                                                        */

/* Flags of struct vx_kvm_branch. */
#define VX_KVM_BRANCH_EMULATED 0x1u /* KVM's emulator runs it (e.g. an MMIO operand) */
#define VX_KVM_BRANCH_FEP      0x2u /* behind the forced-emulation prefix (KVM_FEP) */
#define VX_KVM_BRANCH_NOTRACK  0x4u /* 3EH prefix on an indirect JMP/CALL */
#define VX_KVM_BRANCH_COMPAT   0x8u /* executes in compatibility mode (a 32-bit code segment) */

/**
 * struct vx_kvm_branch - one instruction of enum vx_kvm_insn and its operands.
 * @insn:   enum vx_kvm_insn.
 * @flags:  VX_KVM_BRANCH_*.  Without EMULATED or FEP the processor runs it (cpu_cet.h), except
 *          a task switch, which always exits to KVM.
 * @far:    far transfers, INT, IRET (struct vx_cet_far: CPL and mode after it, the CS and
 *          linear IP pushed or popped); SYSCALL/SYSENTER/SYSEXIT use @far.mode.
 * @ret:    near CALL: the return address pushed; near RET: the address popped from the data
 *          stack.
 * @target: the linear address of the first instruction at the target, and @fetch what it is
 *          (enum vx_cet_fetch: the IBT check after an indirect transfer).
 */
struct vx_kvm_branch {
	uint32_t insn;
	uint32_t flags;
	struct vx_cet_far far;
	uint64_t ret;
	uint64_t target;
	uint32_t fetch;
};

/** Make @op the guest instruction @branch at @cpl (VX_KVM_GOP_BRANCH).  -EINVAL for a bad
 * instruction, flags or CPL (@op unchanged). */
VX_API int vx_kvm_guest_op_branch(struct vx_kvm_guest_op *op, unsigned cpl,
				  const struct vx_kvm_branch *branch);

/* ----------------------------------------------------------------------------------------- */
/* The emulator and the task switch (kvm.md §7.1)                                               */

#define VX_KVM_INTERNAL_ERROR_EMULATION 1u /* kvm_run->internal.suberror */
/* ndata of an emulation-failure exit: KVM adds the instruction bytes and exit information,
 * which the model does not hold. */
#define VX_KVM_NDATA_UNMODELLED 0xFFFFFFFFu

/**
 * enum vx_kvm_emul_status - how KVM came out of emulating an instruction.
 * @VX_KVM_EMUL_DONE:  emulated (or the task switched); no event.
 * @VX_KVM_EMUL_FAULT: an exception is queued for the guest (@event).
 * @VX_KVM_EMUL_EXIT:  KVM_RUN returns KVM_EXIT_INTERNAL_ERROR; an exception may be queued too.
 */
enum vx_kvm_emul_status { VX_KVM_EMUL_DONE = 0, VX_KVM_EMUL_FAULT, VX_KVM_EMUL_EXIT };

/**
 * struct vx_kvm_emulation - the outcome.
 * @refused:     the CET refusal (x86_decode_insn or kvm_task_switch) decided it.
 * @event:       the exception queued (kind NONE if none).
 * @exit_reason, @suberror, @ndata: for VX_KVM_EMUL_EXIT (VX_KVM_EXIT_INTERNAL_ERROR,
 *               VX_KVM_INTERNAL_ERROR_EMULATION; ndata 0 for a task switch,
 *               VX_KVM_NDATA_UNMODELLED for an emulation failure).
 * @rule, @reason: the spec section and one sentence.
 */
struct vx_kvm_emulation {
	enum vx_kvm_emul_status status;
	bool refused;
	struct vx_event event;
	uint32_t exit_reason;
	uint32_t suberror;
	uint32_t ndata;
	const char *rule;
	char reason[192];
};

/**
 * vx_kvm_vcpu_emulate() - KVM emulates @branch for the guest at @cpl (@branch->flags FEP: the
 * forced-emulation prefix; otherwise as any other emulation, e.g. MMIO), or handles the task
 * switch; reads the guest's CR4, CR0 (the model's EFER.LMA: run.c runs a guest with CR0.PE in
 * 64-bit mode), U_CET/S_CET and SSP as KVM does.  0 with @out filled, or -EINVAL (bad
 * arguments), -EBUSY (the guest FPU is held by a thread preempted inside KVM_RUN).
 */
VX_API int vx_kvm_vcpu_emulate(struct vx_kvm_vcpu *vcpu, unsigned cpl,
			       const struct vx_kvm_branch *branch, struct vx_kvm_emulation *out,
			       struct vx_error *err);

/** KVM_CAP_EXIT_ON_EMULATION_FAILURE: every emulation failure exits to userspace. */
VX_API void vx_kvm_vm_set_exit_on_emulation_failure(struct vx_kvm_vm *vm, bool enable);

/* KVM's exception tables (x86.c exception_class, x86.h x86_exception_has_error_code). */
enum vx_kvm_exception_class {
	VX_KVM_EXCPT_BENIGN = 0,
	VX_KVM_EXCPT_CONTRIBUTORY,
	VX_KVM_EXCPT_PF,
};

/** The class KVM gives @vector when merging exceptions (#CP: benign, not listed in 6.18.2). */
VX_API enum vx_kvm_exception_class vx_kvm_exception_class(unsigned vector);
/** Whether KVM pushes an error code for @vector (#CP: no, in 6.18.2). */
VX_API bool vx_kvm_exception_has_error_code(unsigned vector);

/* ----------------------------------------------------------------------------------------- */
/* Nested VMX (kvm.md §7.2)                                                                     */

/** S_CET, SSP and the interrupt SSP table address, as one VMCS/VMCB holds them. */
struct vx_kvm_cet_state {
	uint64_t s_cet;
	uint64_t ssp;
	uint64_t ssp_tbl;
};

#define VX_VMX_BASIC_NO_HW_ERROR_CODE_CC (UINT64_C(1) << 56)

/** What KVM offers L1 in its VMX capability MSRs (the bits the model knows). */
struct vx_kvm_nested_vmx_caps {
	uint32_t entry_ctls_allowed1;
	uint32_t exit_ctls_allowed1;
	uint64_t basic;
};

/** The controls and VMX_BASIC bits offered to L1 (nested.c:1290-1294, 7178-7228, 7375-7376).
 * -EINVAL unless the module is the VMX flavour. */
VX_API int vx_kvm_nested_vmx_get_caps(const struct vx_kvm *kvm, struct vx_kvm_nested_vmx_caps *caps,
				      struct vx_error *err);

/** struct vx_kvm_vmcs12_field - a vmcs12 CET field: @name, VMCS @encoding, @offset in vmcs12. */
struct vx_kvm_vmcs12_field {
	const char *name;
	uint32_t encoding;
	uint32_t offset;
};

/** The six vmcs12 CET fields (vmx/vmcs12.h): host_s_cet ... guest_ssp_tbl; NULL past the end. */
VX_API const struct vx_kvm_vmcs12_field *vx_kvm_vmcs12_cet_field(unsigned index);

/**
 * struct vx_kvm_vmcs12 - the vmcs12 fields the CET rules read (L1 writes them).
 * @vm_entry_controls, @vm_exit_controls: VX_VMX_ENTRY_LOAD_CET, VX_VMX_EXIT_LOAD_CET,
 *               VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE (cpu_cet.h).
 * @vm_exit_reason: written by KVM at a nested VM exit or failed VM entry.
 */
struct vx_kvm_vmcs12 {
	uint32_t vm_entry_controls;
	uint32_t vm_exit_controls;
	uint64_t host_cr0, host_cr4, guest_cr0, guest_cr4;
	struct vx_kvm_cet_state host_cet;
	struct vx_kvm_cet_state guest_cet;
	uint32_t vm_exit_reason;
};

/**
 * struct vx_kvm_nested_vmx - L1's nested state: @vmcs12 (L1's), and what KVM keeps: @vmcs01
 * (L1's CET fields while L2 runs), @vmcs02 (what L2 ran with), @pre_vmenter (L1's values saved
 * at VM entry without ENTRY_LOAD_CET), @active (L2 is running).  Zero it before first use.
 */
struct vx_kvm_nested_vmx {
	struct vx_kvm_vmcs12 vmcs12;
	struct vx_kvm_cet_state vmcs01;
	struct vx_kvm_cet_state vmcs02;
	struct vx_kvm_cet_state pre_vmenter;
	bool active;
};

/**
 * vx_kvm_nested_vmlaunch() - L1 executes VMLAUNCH: the §7.2 consistency checks (controls:
 * VMfail 7; host state: VMfail 8, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD; guest state: a VM
 * exit to L1 with reason 0x80000021 and L1's state loaded as at a VM exit), then L2 runs with
 * vmcs02's CET registers.  Returns the status (enum vx_vmentry_status) with @fail filled, or
 * -EINVAL (not VMX, L2 already running), -EBUSY (inside KVM_RUN).
 */
VX_API int vx_kvm_nested_vmlaunch(struct vx_kvm_vcpu *vcpu, struct vx_kvm_nested_vmx *nested,
				  struct vx_vmentry_failure *fail, struct vx_error *err);
/** A VM exit from L2 to L1 with @exit_reason: vmcs12's guest CET fields refreshed from vmcs02,
 * L1's from the host fields (EXIT_LOAD_CET) or from L2's values.  -EINVAL if L2 is not running. */
VX_API int vx_kvm_nested_vmexit(struct vx_kvm_vcpu *vcpu, struct vx_kvm_nested_vmx *nested,
				uint32_t exit_reason, struct vx_error *err);
/** is_guest_mode(): L2 is running on @vcpu. */
VX_API bool vx_kvm_vcpu_guest_mode(const struct vx_kvm_vcpu *vcpu);

/* ----------------------------------------------------------------------------------------- */
/* Nested SVM (kvm.md §7.3)                                                                     */

/**
 * struct vx_kvm_vmcb12 - L1's VMCB: @gpa (another one than the last VMRUN's is "new"),
 * @cet_clean (L1 set the clean bit of the CET area), @cet (save.s_cet, ssp, isst_addr).
 */
struct vx_kvm_vmcb12 {
	uint64_t gpa;
	bool cet_clean;
	struct vx_cet_vmcb cet;
};

/**
 * struct vx_kvm_nested_svm - L1's nested SVM state: @vmcb12, and KVM's: @vmcb01 (L1's CET
 * fields while L2 runs), @vmcb02 (kept between VMRUNs), @hsave (L1's save state copied by
 * VMRUN when the KVM caps have SHSTK), the last vmcb12 address.  Zero it before first use.
 */
struct vx_kvm_nested_svm {
	struct vx_kvm_vmcb12 vmcb12;
	struct vx_cet_vmcb vmcb01;
	struct vx_cet_vmcb vmcb02;
	struct vx_cet_vmcb hsave;
	uint64_t last_vmcb12_gpa;
	bool last_valid;
	bool active;
};

/** L1 executes VMRUN (§7.3).  -EINVAL (not SVM, L2 running), -EBUSY (inside KVM_RUN). */
VX_API int vx_kvm_nested_vmrun(struct vx_kvm_vcpu *vcpu, struct vx_kvm_nested_svm *nested,
			       struct vx_error *err);
/** #VMEXIT from L2 to L1 (§7.3). */
VX_API int vx_kvm_nested_svm_vmexit(struct vx_kvm_vcpu *vcpu, struct vx_kvm_nested_svm *nested,
				    struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* SMM (kvm.md §7.3)                                                                            */

/* The 64-bit SMRAM state-save image: 512 bytes for SMBASE + 0xFE00 .. 0xFFFF (smm.h). */
#define VX_KVM_SMRAM_SIZE   512u
#define VX_KVM_SMRAM64_BASE 0xFE00u
#define VX_KVM_SMRAM64_EFER 0xFED0u
#define VX_KVM_SMRAM64_SSP  0xFF18u
#define VX_KVM_SMRAM64_CR4  0xFF48u
#define VX_KVM_SMRAM64_CR0  0xFF58u

enum vx_kvm_smm_status {
	VX_KVM_SMM_OK = 0,
	VX_KVM_SMM_UD,		 /* RSM outside SMM: #UD */
	VX_KVM_SMM_UNHANDLEABLE, /* RSM could not restore the image (X86EMUL_UNHANDLEABLE) */
	VX_KVM_SMM_TRIPLE_FAULT, /* SMI could not save SSP (KVM requests a triple fault) */
};

/**
 * vx_kvm_vcpu_smi() - the vCPU enters SMM: the image (@smram, @len >= 512 bytes, offset 0 =
 * SMBASE + 0xFE00) is zeroed and gets CR0, CR4, EFER and, with the SHSTK cap, SSP; then CR4 = 0
 * (CET off in SMM), CR0 loses PE/EM/TS/PG, EFER = 0.  S_CET and PLx_SSP are not saved.  Returns
 * the status, or -EINVAL (short buffer), -EOPNOTSUPP (a vCPU without LM uses the 32-bit image,
 * not modelled), -EBUSY (already in SMM, or inside KVM_RUN).
 */
VX_API int vx_kvm_vcpu_smi(struct vx_kvm_vcpu *vcpu, uint8_t *smram, size_t len,
			   struct vx_error *err);
/**
 * vx_kvm_vcpu_rsm() - RSM: CR4 then CR0 through the MOV-to-CR checks, EFER, and SSP (with the
 * SHSTK cap) through the host-initiated MSR rules.  VX_KVM_SMM_UD outside SMM; a refused
 * value gives VX_KVM_SMM_UNHANDLEABLE with the vCPU left unchanged (still in SMM).
 */
VX_API int vx_kvm_vcpu_rsm(struct vx_kvm_vcpu *vcpu, const uint8_t *smram, size_t len,
			   struct vx_error *err);
VX_API bool vx_kvm_vcpu_in_smm(const struct vx_kvm_vcpu *vcpu);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_KVM_EMULATE_H */
