/* SPDX-License-Identifier: MIT */
/*
 * vxsave `cpu` layer, CET: the shadow-stack instructions, the shadow-stack side of control
 * transfers, indirect-branch tracking, and the CET parts of VM entry and exit, on a struct vx_cpu
 * (arch.md §7.1-§7.12).
 *
 * Memory is a struct vx_cpu_memory (cpu.h): a window of linear memory with one attribute byte per
 * 4 KiB page saying whether the page is a user page, read-only, a shadow-stack page (R/W = 0,
 * Dirty = 1) or not present.  Shadow-stack accesses (pushes, pops, token operations, INCSSP reads,
 * WRSS/WRUSS) must hit a shadow-stack page of their privilege class; ordinary writes may not
 * (§7.4).
 *
 * What the model does not hold is the caller's: general registers, the data stack, RIP, segment
 * registers, descriptor tables.  A near RET therefore takes the return address popped from the
 * data stack, a far transfer the CS and linear IP, an event delivery the gate's target CPL and IST
 * index.  The functions do the CET part of the transfer and set CPL and mode to where the transfer
 * lands.
 *
 * Return values as for vx_cpu_exec(): 0 when the instruction or transfer completes, VX_FAULTED
 * when it raises an exception (described in *event, with the #CP error code of §7.9 or the #PF
 * error code with bit 6 = SS; nothing changed, neither the processor nor memory), or -EINVAL for
 * API misuse (NULL pointers, a transfer the architecture cannot express, a bad memory map), with
 * the reason in event->reason and event->kind = VX_EVENT_NONE.
 */
#ifndef VXSAVE_CPU_CET_H
#define VXSAVE_CPU_CET_H

#include <vxsave/cpu.h>

#ifdef __cplusplus
extern "C" {
#endif

/* IA32_U_CET / IA32_S_CET bits (arch.md §7.2). */
#define VX_CET_SH_STK_EN    VX_BIT(0)
#define VX_CET_WR_SHSTK_EN  VX_BIT(1)
#define VX_CET_ENDBR_EN	    VX_BIT(2)
#define VX_CET_LEG_IW_EN    VX_BIT(3)
#define VX_CET_NO_TRACK_EN  VX_BIT(4)
#define VX_CET_SUPPRESS_DIS VX_BIT(5)
#define VX_CET_SUPPRESS	    VX_BIT(10)
#define VX_CET_TRACKER	    VX_BIT(11) /* 1 = WAIT_FOR_ENDBRANCH */

/* #CP error codes, bits 14:0 (arch.md §7.9). */
#define VX_CP_NEAR_RET	1u
#define VX_CP_FAR_RET	2u /* FAR-RET/IRET */
#define VX_CP_ENDBRANCH 3u
#define VX_CP_RSTORSSP	4u
#define VX_CP_SETSSBSY	5u

/* #PF error-code bits the model sets (SDM Vol.3 §4.7; bit 6 = SS from arch.md §7.4). */
#define VX_PF_PRESENT VX_BIT(0)
#define VX_PF_WRITE   VX_BIT(1)
#define VX_PF_USER    VX_BIT(2)
#define VX_PF_SS      VX_BIT(6)

/* RFLAGS bits the CET instructions read or write. */
#define VX_RFLAGS_CF VX_BIT(0)
#define VX_RFLAGS_PF VX_BIT(2)
#define VX_RFLAGS_AF VX_BIT(4)
#define VX_RFLAGS_ZF VX_BIT(6)
#define VX_RFLAGS_SF VX_BIT(7)
#define VX_RFLAGS_OF VX_BIT(11)

/* ----------------------------------------------------------------------------------------- */
/* State and ordinary memory accesses                                                           */

/** True if shadow stacks are active at privilege @cpl: CR4.CET, protected mode, SH_STK_EN of
 * IA32_U_CET (CPL3) or IA32_S_CET (CPL0-2) (§7.1). */
VX_API bool vx_cpu_shstk_enabled(const struct vx_cpu *cpu, unsigned cpl);
/** True if indirect-branch tracking is active at @cpl (ENDBR_EN, same conditions, §7.1). */
VX_API bool vx_cpu_ibt_enabled(const struct vx_cpu *cpu, unsigned cpl);

/**
 * vx_cpu_mem_read() / vx_cpu_mem_write() - an ordinary data access (a MOV) of @len bytes
 * (1-4096) at the current CPL, under the paging attributes of @mem (§7.4): user accesses need user
 * pages; writes to read-only and shadow-stack pages fault (supervisor writes only with CR0.WP = 1).
 * #GP(0) for a non-canonical address in 64-bit mode, #PF otherwise.
 */
VX_API int vx_cpu_mem_read(struct vx_cpu *cpu, const struct vx_cpu_memory *mem, uint64_t addr,
			   void *buf, size_t len, struct vx_event *event);
VX_API int vx_cpu_mem_write(struct vx_cpu *cpu, struct vx_cpu_memory *mem, uint64_t addr,
			    const void *buf, size_t len, struct vx_event *event);

/* ----------------------------------------------------------------------------------------- */
/* Shadow-stack instructions (arch.md §7.7)                                                     */

/*
 * @q selects the 64-bit operand size (INCSSPQ, RDSSPQ, WRSSQ, WRUSSQ); outside 64-bit mode the Q
 * forms behave as the D forms (REX.W does not exist there).
 */

/** INCSSPD/Q: #UD unless shadow stacks are enabled at CPL; reads the elements at SSP and at
 * SSP + (max(n,1) - 1) * w (n = @reg[7:0], w = 4 or 8); then SSP += n * w. */
VX_API int vx_cpu_incssp(struct vx_cpu *cpu, struct vx_cpu_memory *mem, bool q, uint64_t reg,
			 struct vx_event *event);
/** RDSSPD/Q: *@reg = SSP (D: low 32 bits, zero-extended) if shadow stacks are enabled at CPL,
 * otherwise a NOP leaving *@reg unchanged.  Never faults. */
VX_API int vx_cpu_rdssp(struct vx_cpu *cpu, bool q, uint64_t *reg, struct vx_event *event);
/** SAVEPREVSSP: reads CF from *@rflags (flags unchanged). */
VX_API int vx_cpu_saveprevssp(struct vx_cpu *cpu, struct vx_cpu_memory *mem, const uint64_t *rflags,
			      struct vx_event *event);
/** RSTORSSP m64 (m = @addr): #CP(4) for a bad restore token; CF = token bit 2, ZF/PF/AF/OF/SF = 0
 * in *@rflags. */
VX_API int vx_cpu_rstorssp(struct vx_cpu *cpu, struct vx_cpu_memory *mem, uint64_t addr,
			   uint64_t *rflags, struct vx_event *event);
/** WRSSD/Q m, r: a shadow-stack write at the current privilege class (SH_STK_EN and WR_SHSTK_EN
 * at CPL). */
VX_API int vx_cpu_wrss(struct vx_cpu *cpu, struct vx_cpu_memory *mem, bool q, uint64_t addr,
		       uint64_t value, struct vx_event *event);
/** WRUSSD/Q m, r: a user shadow-stack write from CPL0 (needs only CR4.CET). */
VX_API int vx_cpu_wruss(struct vx_cpu *cpu, struct vx_cpu_memory *mem, bool q, uint64_t addr,
			uint64_t value, struct vx_event *event);
/** SETSSBSY: marks the supervisor token at IA32_PL0_SSP busy (#CP(5) if it is not free and
 * self-referencing), SSP = PL0_SSP. */
VX_API int vx_cpu_setssbsy(struct vx_cpu *cpu, struct vx_cpu_memory *mem, struct vx_event *event);
/** CLRSSBSY m64: clears the busy bit of the token at @addr if it equals @addr | 1 (CF = 0), else
 * CF = 1 without a fault; ZF/PF/AF/OF/SF = 0; SSP = 0. */
VX_API int vx_cpu_clrssbsy(struct vx_cpu *cpu, struct vx_cpu_memory *mem, uint64_t addr,
			   uint64_t *rflags, struct vx_event *event);

/* ----------------------------------------------------------------------------------------- */
/* Control transfers (arch.md §7.6) and indirect-branch tracking (§7.8)                         */

/* Branch flags for near CALL and JMP. */
#define VX_BRANCH_INDIRECT 1u /* register or memory target: arms the IBT tracker */
#define VX_BRANCH_NOTRACK  2u /* 3EH prefix: no tracking when NO_TRACK_EN = 1 */

/** Near CALL: pushes @return_address (8 bytes in 64-bit mode, else 4) on the shadow stack if it
 * is enabled at CPL; an indirect CALL arms the tracker (§7.8). */
VX_API int vx_cpu_cet_call(struct vx_cpu *cpu, struct vx_cpu_memory *mem, uint64_t return_address,
			   unsigned flags, struct vx_event *event);
/** Near RET: pops the shadow copy and compares it with @return_address, the address popped from
 * the data stack: #CP(1) NEAR-RET on a mismatch. */
VX_API int vx_cpu_cet_ret(struct vx_cpu *cpu, struct vx_cpu_memory *mem, uint64_t return_address,
			  struct vx_event *event);
/** Near or far JMP: only an indirect one (or any far one, @flags = VX_BRANCH_INDIRECT) arms the
 * tracker. */
VX_API int vx_cpu_cet_jmp(struct vx_cpu *cpu, unsigned flags, struct vx_event *event);

/* What the next instruction is, for the IBT check. */
enum vx_cet_fetch {
	VX_FETCH_OTHER = 0,
	VX_FETCH_ENDBR64, /* F3 0F 1E FA */
	VX_FETCH_ENDBR32, /* F3 0F 1E FB */
};

/**
 * vx_cpu_cet_fetch() - the next instruction, at linear address @lip, starts executing: with
 * TRACKER = WAIT_FOR_ENDBRANCH it must be the ENDBR of the current mode, otherwise the legacy
 * code-page bitmap may excuse it (LEG_IW_EN, an ordinary read of the bitmap) or #CP(3) ENDBRANCH.
 * The ENDBR of the current mode sets TRACKER = IDLE and SUPPRESS = 0 (§7.7, §7.8).
 */
VX_API int vx_cpu_cet_fetch(struct vx_cpu *cpu, struct vx_cpu_memory *mem, uint64_t lip,
			    enum vx_cet_fetch insn, struct vx_event *event);

/**
 * struct vx_cet_far - a far transfer as the CET rules see it.
 * @cpl:  CPL after the transfer: the target code segment's DPL (calls, events), the RPL of the
 *        CS popped from the data stack (returns).  Calls and events cannot go outward, returns
 *        cannot go inward (-EINVAL).
 * @mode: mode after it: VX_MODE_64BIT or VX_MODE_COMPAT.
 * @ist:  event delivery only: the IDT gate's IST field, 0-7 (used when @mode is 64-bit).
 * @cs:   calls and events: the caller's CS, pushed; returns: the CS popped from the data stack.
 * @lip:  calls and events: the linear return address, pushed; returns: CS.base + the popped IP.
 */
struct vx_cet_far {
	unsigned cpl;
	enum vx_cpu_mode mode;
	unsigned ist;
	uint16_t cs;
	uint64_t lip;
};

/**
 * vx_cpu_cet_far_call() - far CALL (direct or through a call gate).  From CPL3 into CPL0-2:
 * PL3_SSP = SSP (user shadow stacks on), SSP = PLn_SSP with its token marked busy, nothing pushed.
 * Otherwise CS, LIP and the old SSP are pushed (after a 4-byte 0 when SSP is only 4-aligned),
 * onto the PLn_SSP stack when the privilege changes.  Arms the tracker at the new CPL.
 */
VX_API int vx_cpu_cet_far_call(struct vx_cpu *cpu, struct vx_cpu_memory *mem,
			       const struct vx_cet_far *far, struct vx_event *event);
/**
 * vx_cpu_cet_event() - interrupt/exception delivery: as vx_cpu_cet_far_call(), and in 64-bit mode
 * a gate with IST = n loads SSP from the interrupt SSP table entry at ISST_ADDR + 8n even without
 * a privilege change (token checked and marked busy).  A token that is not free → #GP(0).
 */
VX_API int vx_cpu_cet_event(struct vx_cpu *cpu, struct vx_cpu_memory *mem,
			    const struct vx_cet_far *far, struct vx_event *event);
/**
 * vx_cpu_cet_far_ret() / vx_cpu_cet_iret() - far RET / IRET.  Staying at CPL0-2 or at the same
 * level: SSP must be 8-aligned, SSP, LIP and CS are popped and compared (#CP(2)), the popped SSP
 * must have bits 1:0 = 0 (#CP(2)); a privilege change, or an IRET whose popped SSP differs (the
 * event switched stacks), clears the busy bit of the token at the stack's top.  Returning to CPL3:
 * busy bit cleared at SSP, SSP = PL3_SSP.  Tokens that are not busy are left alone (no fault).
 */
VX_API int vx_cpu_cet_far_ret(struct vx_cpu *cpu, struct vx_cpu_memory *mem,
			      const struct vx_cet_far *far, struct vx_event *event);
VX_API int vx_cpu_cet_iret(struct vx_cpu *cpu, struct vx_cpu_memory *mem,
			   const struct vx_cet_far *far, struct vx_event *event);

/** SYSCALL/SYSENTER into CPL0 (@mode after it): PL3_SSP = SSP if user shadow stacks are on,
 * SSP = 0 if supervisor ones are; the CPL0 tracker is armed. */
VX_API int vx_cpu_cet_syscall(struct vx_cpu *cpu, enum vx_cpu_mode mode, struct vx_event *event);
/** SYSRET/SYSEXIT to CPL3 (@mode after it): SSP = PL3_SSP if user shadow stacks are on; no busy
 * bit is cleared.  #GP(0) at CPL > 0. */
VX_API int vx_cpu_cet_sysret(struct vx_cpu *cpu, enum vx_cpu_mode mode, struct vx_event *event);

enum vx_task_switch_kind { VX_TASK_CALL = 0, VX_TASK_JMP, VX_TASK_INT, VX_TASK_IRET };

/**
 * struct vx_cet_task_switch - a task switch (legacy protected mode) as the CET rules see it.
 * @selector:  the new TSS's selector (the #TS error code).
 * @tss32:     a 32-bit TSS (else 16-bit: #TS with CR4.CET = 1).
 * @tss_base, @tss_limit: where the new TSS is; the SSP field is the dword at +0x68.
 * @cpl:       the new task's CPL; @v86: it runs in virtual-8086 mode.
 * @cs, @lip:  CALL/INT/JMP: pushed on the new shadow stack from a supervisor level; IRET: what
 *             the popped CS and LIP must equal.
 */
struct vx_cet_task_switch {
	enum vx_task_switch_kind kind;
	uint16_t selector;
	bool tss32;
	uint64_t tss_base;
	uint32_t tss_limit;
	unsigned cpl;
	bool v86;
	uint16_t cs;
	uint64_t lip;
};

/** The CET part of a task switch (§7.1, §7.6); afterwards the processor is in the new task's
 * CPL and mode (VX_MODE_COMPAT, or VX_MODE_V86). */
VX_API int vx_cpu_cet_task_switch(struct vx_cpu *cpu, struct vx_cpu_memory *mem,
				  const struct vx_cet_task_switch *ts, struct vx_event *event);

/* ----------------------------------------------------------------------------------------- */
/* VM entry and exit (arch.md §7.11, §7.12)                                                     */

/* VMCS field encodings (§7.11; CR0/CR4 from SDM Vol.3 App. B). */
#define VX_VMCS_GUEST_CR0	     0x6800u
#define VX_VMCS_GUEST_CR4	     0x6804u
#define VX_VMCS_GUEST_S_CET	     0x6828u
#define VX_VMCS_GUEST_SSP	     0x682Au
#define VX_VMCS_GUEST_INTR_SSP_TABLE 0x682Cu
#define VX_VMCS_HOST_CR0	     0x6C00u
#define VX_VMCS_HOST_CR4	     0x6C04u
#define VX_VMCS_HOST_S_CET	     0x6C18u
#define VX_VMCS_HOST_SSP	     0x6C1Au
#define VX_VMCS_HOST_INTR_SSP_TABLE  0x6C1Cu
/* Controls (§7.11; host address-space size from SDM Vol.3 §25.7.1). */
#define VX_VMX_ENTRY_LOAD_CET		 VX_BIT(20)
#define VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE VX_BIT(9)
#define VX_VMX_EXIT_LOAD_CET		 VX_BIT(28)
/* VMCB save-area fields, as offsets in the VMCB (§7.12). */
#define VX_VMCB_S_CET	  0x5E0u
#define VX_VMCB_SSP	  0x5E8u
#define VX_VMCB_ISST_ADDR 0x5F0u

/**
 * struct vx_cet_vmcs - the VMCS fields the CET entry/exit rules read and write.
 * @entry_controls, @exit_controls: the VM-entry and VM-exit controls.
 * @guest_cr0 ... @host_cr4: the control registers VM entry checks the CET/WP pairing of.
 */
struct vx_cet_vmcs {
	uint32_t entry_controls;
	uint32_t exit_controls;
	uint64_t guest_cr0, guest_cr4, host_cr0, host_cr4;
	uint64_t guest_s_cet, guest_ssp, guest_intr_ssp_table;
	uint64_t host_s_cet, host_ssp, host_intr_ssp_table;
};

enum vx_vmentry_status {
	VX_VMENTRY_OK = 0,
	VX_VMENTRY_VMFAIL,	  /* VMLAUNCH/VMRESUME fail: VM-instruction error, no entry */
	VX_VMENTRY_INVALID_GUEST, /* VM-entry failure exit (VMX: reason 33; SVM: VMEXIT_INVALID) */
};

#define VX_VMX_ERROR_INVALID_CONTROL 7u	 /* VM-instruction error: invalid control field(s) */
#define VX_VMX_ERROR_INVALID_HOST    8u	 /* VM-instruction error: invalid host-state field(s) */
#define VX_EXIT_INVALID_GUEST_STATE  33u /* with bit 31 set: VM-entry failure */
#define VX_SVM_EXIT_INVALID	     0xFFFFFFFFu /* VMEXIT_INVALID (-1), low 32 bits */

/**
 * struct vx_vmentry_failure - why a VM entry (or VMRUN) was refused.
 * @status:      the outcome.
 * @vm_instruction_error: for VMfail (7 or 8).
 * @exit_reason: for a failure exit (VMX: 0x80000021; SVM: VX_SVM_EXIT_INVALID).
 * @field:       the VMCS field encoding (or VMCB offset) whose value failed, 0 for a control.
 * @value:       that value.
 * @cause:       the check, as for events (VX_CAUSE_MISALIGNED, VX_CAUSE_NONCANONICAL...).
 * @rule, @reason: the spec section and one sentence.
 */
struct vx_vmentry_failure {
	enum vx_vmentry_status status;
	uint32_t vm_instruction_error;
	uint32_t exit_reason;
	uint32_t field;
	uint64_t value;
	enum vx_event_cause cause;
	const char *rule;
	char reason[192];
};

/**
 * vx_cpu_cet_vmentry_check() - the CET checks of VM entry (§7.11), in the SDM's order: controls
 * (VMfail 7: a "load CET state" control on a CPU without CET), host state (VMfail 8), guest state
 * (failure exit 33).  Host: CR4.CET needs CR0.WP; with "load CET state" on exit, HOST_S_CET valid,
 * HOST_SSP bits 1:0 = 0, HOST_INTR_SSP_TABLE canonical, S_CET and SSP canonical for a 64-bit host
 * or bits 63:32 = 0 otherwise.  Guest: CR4.CET needs CR0.WP; with "load CET state" on entry,
 * GUEST_S_CET valid, GUEST_SSP bits 1:0 = 0 and bits 63:N identical (N = linear-address width),
 * GUEST_INTR_SSP_TABLE canonical.  Returns the status (0 = may enter) or -EINVAL.
 */
VX_API int vx_cpu_cet_vmentry_check(const struct vx_cpu *cpu, const struct vx_cet_vmcs *vmcs,
				    struct vx_vmentry_failure *fail);
/** VM entry: the checks, then with "load CET state" the processor's S_CET, SSP and ISST become
 * the guest fields (without it the guest runs on the current values). */
VX_API int vx_cpu_cet_vmentry(struct vx_cpu *cpu, const struct vx_cet_vmcs *vmcs,
			      struct vx_vmentry_failure *fail);
/** VM exit: the guest's S_CET (CET_SS or CET_IBT), SSP and ISST (CET_SS) are always saved into
 * the guest fields; with "load CET state" on exit the host fields are loaded, otherwise the host
 * continues with the guest's values.  IA32_U_CET and PLx_SSP are not touched (XSAVES's job). */
VX_API int vx_cpu_cet_vmexit(struct vx_cpu *cpu, struct vx_cet_vmcs *vmcs);

/** The CET fields of a VMCB save area (§7.12). */
struct vx_cet_vmcb {
	uint64_t s_cet, ssp, isst_addr;
};

/**
 * vx_cpu_cet_vmrun() - AMD VMRUN: the host's S_CET/SSP/ISST go to @host_save, the guest's are
 * loaded from @guest.  Values WRMSR would refuse → VMEXIT_INVALID (a model choice: §7.12 lists
 * no VMRUN checks).
 */
VX_API int vx_cpu_cet_vmrun(struct vx_cpu *cpu, const struct vx_cet_vmcb *guest,
			    struct vx_cet_vmcb *host_save, struct vx_vmentry_failure *fail);
/** AMD #VMEXIT: the guest's values are saved into @guest, the host's come back from @host_save. */
VX_API int vx_cpu_cet_svm_vmexit(struct vx_cpu *cpu, struct vx_cet_vmcb *guest,
				 const struct vx_cet_vmcb *host_save);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_CPU_CET_H */
