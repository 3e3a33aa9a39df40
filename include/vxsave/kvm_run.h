/* SPDX-License-Identifier: MIT */
/*
 * vxsave `kvm` layer: running vCPUs (kvm.md §6.2, §6.5; issue 8 "Running").
 *
 * A vCPU runs on the model CPUs of the fpu machine, inside the thread (a vx_fpu_task of the
 * VMM process) that calls KVM_RUN: vcpu_load, kvm_load_guest_fpu (fpu_swap_kvm_fpstate), then
 * guest code with the guest's XCR0/XSS/PKRU switched in around each VM entry
 * (kvm_load_guest_xsave_state), VM exits handled in KVM (XSETBV, intercepted MSRs, #NM with
 * XFD) or returned to userspace (OUT, HLT), and kvm_put_guest_fpu / vcpu_put on the way out.
 * The host scheduler (vx_kvm_sched) interleaves vCPU threads and ordinary tasks on the CPUs and
 * fires KVM's preempt notifiers (kvm_sched_out / kvm_sched_in); vx_kvm_return_to_user fires the
 * user-return notifiers.  Where PL0-2_SSP live between these points is the CET_S design:
 * XSAVE-managed (guest-only, all-tasks) or swapped by KVM (kvm-eager, kvm-lazy,
 * kvm-user-return), every other line shared.
 *
 * Guest code is a program of guest operations (struct vx_kvm_guest_op); the script language's
 * `guest` statements build them (`vxsave kvm SCRIPT`).
 */
#ifndef VXSAVE_KVM_RUN_H
#define VXSAVE_KVM_RUN_H

#include <vxsave/kvm_regs.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum vx_kvm_gop - what one guest instruction does.
 * @VX_KVM_GOP_XSETBV:  XSETBV ECX=@index, EDX:EAX=@value (always exits, §4.2).
 * @VX_KVM_GOP_XGETBV:  XGETBV ECX=@index (no exit); result in the run's @value.
 * @VX_KVM_GOP_RDMSR / @VX_KVM_GOP_WRMSR: MSR @index (exits when intercepted, §3.2).
 * @VX_KVM_GOP_SET_REG / @VX_KVM_GOP_GET_REG: register @reg (@width bytes of @data).
 * @VX_KVM_GOP_USE:     an instruction touching @components (AMX: #NM with XFD, §6.5).
 * @VX_KVM_GOP_MOV_CR4: MOV to CR4 = @value (CET/OSXSAVE/PKE rules, kvm_regs.h).
 * @VX_KVM_GOP_OUT:     OUT to port @index of @value: exit to userspace (KVM_EXIT_IO).
 * @VX_KVM_GOP_HLT:     HLT: exit to userspace (KVM_EXIT_HLT, no in-kernel APIC modelled).
 * @VX_KVM_GOP_MOV_CR0: MOV to CR0 = @value (the CR0.WP/CR4.CET pairing, kvm_regs.h).
 * @VX_KVM_GOP_SETSSBSY: SETSSBSY on the VM's guest memory (token at PL0_SSP; #CP(5), cpu_cet.h).
 * @VX_KVM_GOP_CLRSSBSY: CLRSSBSY of the token at @value.
 * @VX_KVM_GOP_RDSSP:   RDSSPQ; the SSP in the run's @value.
 * @VX_KVM_GOP_XSAVE:   an XSAVE-family instruction @index (enum vx_insn) with EDX:EAX = @value
 *                      on the area at guest address @addr of the VM's guest memory (XSAVES and
 *                      XRSTORS run without an exit when the vCPU has the XSAVES cap, §1.4).
 * @VX_KVM_GOP_BRANCH:  a control transfer, task switch or emulated instruction: the struct
 *                      vx_kvm_branch in @data (kvm_emulate.h, vx_kvm_guest_op_branch()), run by
 *                      the processor's CET rules or by KVM's emulator (kvm.md §7.1).
 */
enum vx_kvm_gop {
	VX_KVM_GOP_XSETBV = 0,
	VX_KVM_GOP_XGETBV,
	VX_KVM_GOP_RDMSR,
	VX_KVM_GOP_WRMSR,
	VX_KVM_GOP_SET_REG,
	VX_KVM_GOP_GET_REG,
	VX_KVM_GOP_USE,
	VX_KVM_GOP_MOV_CR4,
	VX_KVM_GOP_OUT,
	VX_KVM_GOP_HLT,
	VX_KVM_GOP_MOV_CR0,
	VX_KVM_GOP_SETSSBSY,
	VX_KVM_GOP_CLRSSBSY,
	VX_KVM_GOP_RDSSP,
	VX_KVM_GOP_XSAVE,
	VX_KVM_GOP_BRANCH,
	VX_KVM_GOP_COUNT
};

/** "xsetbv", "rdmsr", ...; NULL if out of range. */
VX_API const char *vx_kvm_gop_name(enum vx_kvm_gop op);

/** struct vx_kvm_guest_op - one guest instruction at privilege level @cpl. */
struct vx_kvm_guest_op {
	enum vx_kvm_gop op;
	unsigned cpl;
	uint32_t index;
	uint64_t value;
	uint64_t addr;
	uint64_t components;
	const struct vx_reg_info *reg;
	size_t width;
	uint8_t data[64];
};

/* KVM_RUN exit reasons (values of <linux/kvm.h>). */
#define VX_KVM_EXIT_IO		   2u
#define VX_KVM_EXIT_HLT		   5u
#define VX_KVM_EXIT_INTERNAL_ERROR 17u

/**
 * enum vx_kvm_run_status - how vx_kvm_vcpu_run() came back.
 * @VX_KVM_RUN_EXIT:      KVM_RUN returned to userspace with @exit_reason.
 * @VX_KVM_RUN_PREEMPTED: the time slice ended: the thread is still inside KVM_RUN (vCPU
 *                        loaded, guest fpstate installed) and may be switched out with
 *                        vx_kvm_sched(); call vx_kvm_vcpu_run() again to resume (on any CPU).
 * @VX_KVM_RUN_DONE:      the program ended (KVM_RUN returned as after HLT).
 */
enum vx_kvm_run_status { VX_KVM_RUN_EXIT = 0, VX_KVM_RUN_PREEMPTED, VX_KVM_RUN_DONE };

/**
 * struct vx_kvm_run - the vCPU's program and where it is.
 * @ops, @count: the guest program; @pc: the next op.
 * @exit_reason: the KVM exit reason of the last return to userspace.
 * @event:  the last exception the guest took (#GP/#UD/#NM injected or delivered), kind NONE if
 *          none; the op that raised it counts as executed (the guest's handler "skips" it).
 * @value:  the result of the last XGETBV/RDMSR/GET_REG (GET_REG: also @data).
 * @vm_exits: exits handled in KVM during this run.
 * @internal_suberror, @internal_ndata: kvm_run->internal for VX_KVM_EXIT_INTERNAL_ERROR
 *          (kvm_emulate.h).
 */
struct vx_kvm_run {
	const struct vx_kvm_guest_op *ops;
	unsigned count;
	unsigned pc;
	unsigned exit_reason;
	struct vx_event event;
	uint64_t value;
	uint8_t data[64];
	uint64_t vm_exits;
	uint32_t internal_suberror;
	uint32_t internal_ndata;
};

/**
 * vx_kvm_vcpu_run() - KVM_RUN by @task (a thread of the VM's process) on @cpu: executes at
 * most @budget ops (0 = no limit) of @run from @run->pc.  A fresh call loads the vCPU and the
 * guest FPU; a call after VX_KVM_RUN_PREEMPTED resumes (migrating to @cpu if it differs).
 * Returns the status (>= 0) or a negative errno: -EINVAL (the task belongs to another
 * process, or another thread is running this vCPU), -EBUSY.
 */
VX_API int vx_kvm_vcpu_run(struct vx_kvm_vcpu *vcpu, struct vx_fpu_task *task, unsigned cpu,
			   struct vx_kvm_run *run, unsigned budget, struct vx_error *err);

/**
 * vx_kvm_vm_set_guest_memory() - the VM's guest memory as the CET instructions see it (linear =
 * guest physical, paging attributes per page; cpu_cet.h), owned by the caller, who keeps it alive
 * while the VM runs.  NULL: no memory (the shadow-stack ops then fault with #PF).
 */
VX_API void vx_kvm_vm_set_guest_memory(struct vx_kvm_vm *vm, struct vx_cpu_memory *memory);

/**
 * vx_kvm_guest_program_parse() - a guest program from text: one instruction a line,
 * "[cpl3] NAME ARGS" with NAME as vx_kvm_gop_name() prints it ("xsetbv 0 0x7", "wrmsr 0x6a4
 * 0x7f0000001000", "set xmm0 0x00112233445566778899aabbccddeeff", "use amx", "out 0x3f8 65",
 * "xsave xsavec64 0x20000 0x3"), '#' comments, blank lines.  Writes at most @max ops; *@count
 * is how many.  -EINVAL with @err naming the line (err->line) and the word.
 */
VX_API int vx_kvm_guest_program_parse(const char *text, size_t len, struct vx_kvm_guest_op *ops,
				      unsigned max, unsigned *count, struct vx_error *err);

/**
 * vx_kvm_vcpu_leave_run() - the thread inside KVM_RUN on @vcpu is killed (it exits, or another
 * thread of its process calls execve): it leaves KVM_RUN as a fatal signal makes it (guest FPU
 * put, vcpu_put), so its guest fpstate is uninstalled.  Call it before vx_fpu_task_exit() or
 * vx_fpu_task_exec() of such a thread: the kvm layer keeps a pointer to the thread while it is
 * inside KVM_RUN (contract; the fpu layer cannot tell the kvm layer).  No-op when not in a run.
 */
VX_API void vx_kvm_vcpu_leave_run(struct vx_kvm_vcpu *vcpu);

/** True while @vcpu is inside KVM_RUN (loaded, possibly preempted). */
VX_API bool vx_kvm_vcpu_in_run(const struct vx_kvm_vcpu *vcpu);

/**
 * vx_kvm_sched() - the host scheduler puts @task on @cpu: KVM's preempt notifiers fire for a
 * vCPU thread switched out or in (kvm_sched_out / kvm_sched_in: vcpu_put/vcpu_load), around
 * the fpu layer's context switch (vx_fpu_task_schedule).
 */
VX_API int vx_kvm_sched(struct vx_kvm *kvm, struct vx_fpu_task *task, unsigned cpu,
			struct vx_error *err);
/**
 * vx_kvm_return_to_user() - running @task returns to user mode: the CPU's user-return
 * notifiers fire (kvm-user-return restores the host's PL0-2_SSP there), then
 * switch_fpu_return().  -EBUSY for a thread inside KVM_RUN.
 */
VX_API int vx_kvm_return_to_user(struct vx_kvm *kvm, struct vx_fpu_task *task,
				 struct vx_error *err);

/**
 * struct vx_kvm_design_counters - what the CET_S design cost (for the evaluation layer):
 * MSR reads and writes KVM executed for PL0-2_SSP, notifier calls, intercepted guest writes,
 * and values lost (a guest's PL0-2_SSP overwritten before KVM saved it: only a design that
 * breaks the invariant by construction counts any).
 */
struct vx_kvm_design_counters {
	uint64_t msr_reads;
	uint64_t msr_writes;
	uint64_t sched_out;
	uint64_t sched_in;
	uint64_t user_returns;
	uint64_t intercepted_writes;
	uint64_t lost;
};

VX_API void vx_kvm_vcpu_design_counters(const struct vx_kvm_vcpu *vcpu,
					struct vx_kvm_design_counters *counters);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_KVM_RUN_H */
