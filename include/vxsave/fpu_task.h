/* SPDX-License-Identifier: MIT */
/*
 * vxsave `fpu` layer: the running kernel's FPU framework on N model CPUs (linux-fpu.md §3-§6,
 * §8): processes and tasks with their struct fpu, per-CPU register ownership, the lazy
 * context switch and return to user, kernel_fpu_begin/end, the arch_prctl permission API and
 * sigaltstack sizing, dynamic features (#NM with XFD_ERR, fpstate_realloc) and KVM's guest
 * fpstates.
 *
 * A machine is a booted system (fpu.h) plus N model CPUs programmed by
 * vx_fpu_system_init_cpu().  A task's registers live in the model CPU it runs on; every save
 * and restore is an XSAVE* or XRSTOR* executed by that CPU at CPL0 through vx_fpstate_save() and
 * vx_fpstate_restore() (fpstate.h), and user-mode register use runs at CPL3.  Everything is
 * allocated through the system's platform; a call that fails leaves every object unchanged.
 * Errors are the kernel's negative errno codes for the path, with a struct vx_error that names
 * the rule.  The kernel's WARN_ON()s and pr_err_once()s go to the machine's log.
 */
#ifndef VXSAVE_FPU_TASK_H
#define VXSAVE_FPU_TASK_H

#include <vxsave/fpstate.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vx_fpu_machine;
struct vx_fpu_process;
struct vx_fpu_task;

/* ----------------------------------------------------------------------------------------- */
/* The machine: CPUs and their per-CPU state (§3.5)                                             */

/**
 * vx_fpu_machine_create() - @ncpus (1..64) model CPUs of @system's profile, each programmed as
 * fpu__init_cpu_xstate() does; every CPU idle, kernel_fpu_allowed, xfd_state = init_fpstate.xfd.
 * @system must outlive the machine.  -EINVAL (ncpus), -ENOMEM, or a CPU refusing the setup.
 */
VX_API int vx_fpu_machine_create(const struct vx_fpu_system *system, unsigned ncpus,
				 struct vx_fpu_machine **machine, struct vx_error *err);
/** Free the machine with every process and task still in it. */
VX_API void vx_fpu_machine_destroy(struct vx_fpu_machine *machine);
VX_API const struct vx_fpu_system *vx_fpu_machine_system(const struct vx_fpu_machine *machine);
VX_API unsigned vx_fpu_machine_ncpus(const struct vx_fpu_machine *machine);
/** Model CPU @cpu (for inspection, and for kernel code between kernel_fpu_begin/end). */
VX_API struct vx_cpu *vx_fpu_machine_cpu(struct vx_fpu_machine *machine, unsigned cpu);
/** The strict_sas_size= boot option (§4, sigaltstack_size_valid); off by default. */
VX_API void vx_fpu_machine_set_strict_sas_size(struct vx_fpu_machine *machine, bool strict);

/**
 * struct vx_fpu_percpu - one CPU's FPU state (§3.5).
 * @current: the task running there (NULL = idle).
 * @owner:   fpu_fpregs_owner_ctx: the task whose fpu the registers hold (NULL = nobody).
 * @kernel_fpu_allowed: false inside kernel_fpu_begin/end.
 * @xfd_state: the cached IA32_XFD value.
 */
struct vx_fpu_percpu {
	const struct vx_fpu_task *current;
	const struct vx_fpu_task *owner;
	bool kernel_fpu_allowed;
	uint64_t xfd_state;
};

VX_API int vx_fpu_percpu_get(const struct vx_fpu_machine *machine, unsigned cpu,
			     struct vx_fpu_percpu *percpu);

/** The machine's log: WARN_ON() splats and pr_err_once() lines, oldest first. */
VX_API unsigned vx_fpu_machine_log_count(const struct vx_fpu_machine *machine);
VX_API const char *vx_fpu_machine_log_line(const struct vx_fpu_machine *machine, unsigned index);
/** How many WARNs the machine has hit. */
VX_API unsigned vx_fpu_machine_warnings(const struct vx_fpu_machine *machine);

/* ----------------------------------------------------------------------------------------- */
/* Processes and tasks (§3.2, §3.3, §8.4)                                                       */

/** struct vx_fpu_perm - the kernel's struct fpu_state_perm (§3.3). */
struct vx_fpu_perm {
	uint64_t state_perm; /* __state_perm: user and supervisor bits, FPU_GUEST_PERM_LOCKED */
	uint32_t state_size;
	uint32_t user_state_size;
};

#define VX_FPU_GUEST_PERM_LOCKED VX_BIT(63)

/**
 * struct vx_fpu_task_info - a task's struct fpu (§3.2) and the thread state around it.
 * @fpstate:      the active fpstate (a guest's while one is installed).
 * @task_fpstate: __task_fpstate: the task's own while a guest fpstate is installed, else NULL.
 * @embedded:     __fpstate, default-sized, part of the task's allocation.
 * @perm, @guest_perm: this task's fields (only the group leader's count, §3.3).
 * @last_cpu:     CPU whose registers hold this context, -1 if memory is newer.
 * @cpu:          CPU the task is current on, -1 if not running.
 * @need_fpu_load: TIF_NEED_FPU_LOAD.
 * @sas_ss_size:  the sigaltstack size (0 = none).
 * @pkru:         thread.pkru (switched eagerly, not by XRSTOR, §8.3).
 */
struct vx_fpu_task_info {
	unsigned id;
	bool is_leader;
	const struct vx_fpstate *fpstate;
	const struct vx_fpstate *task_fpstate;
	const struct vx_fpstate *embedded;
	struct vx_fpu_perm perm;
	struct vx_fpu_perm guest_perm;
	int last_cpu;
	int cpu;
	bool need_fpu_load;
	uint64_t sas_ss_size;
	uint32_t pkru;
	struct vx_fpu_counters counters;
};

VX_API void vx_fpu_task_info(const struct vx_fpu_task *task, struct vx_fpu_task_info *info);
VX_API struct vx_fpu_process *vx_fpu_task_process(const struct vx_fpu_task *task);
VX_API struct vx_fpu_task *vx_fpu_process_leader(const struct vx_fpu_process *process);
/** Live threads of the process (an exited leader is a zombie holding the perms, §3.3). */
VX_API unsigned vx_fpu_process_threads(const struct vx_fpu_process *process);
/** The group permissions: the leader's perm and guest_perm (§3.3). */
VX_API void vx_fpu_process_perm(const struct vx_fpu_process *process, struct vx_fpu_perm *perm,
				struct vx_fpu_perm *guest_perm);

/**
 * vx_fpu_process_create() - a new process, as after exec: its leader has the default fpstate
 * in its initial configuration, default perms (§3.3), TIF_NEED_FPU_LOAD, not running.
 */
VX_API int vx_fpu_process_create(struct vx_fpu_machine *machine, struct vx_fpu_task **leader,
				 struct vx_error *err);
/**
 * vx_fpu_task_fork() - fork() by @parent, which must be running (§8.4 fpu_clone): the child
 * is the leader of a new process, default-sized, holding the parent's live registers as saved
 * with the default features (no AMX data), PASID cleared from its XSTATE_BV, perms copied
 * from the parent's leader only with dynamic sizing, the altstack inherited.
 */
VX_API int vx_fpu_task_fork(struct vx_fpu_task *parent, struct vx_fpu_task **child,
			    struct vx_error *err);
/** clone(CLONE_VM|CLONE_THREAD): like fork, in @parent's process, no perm copy, no altstack. */
VX_API int vx_fpu_task_clone_thread(struct vx_fpu_task *parent, struct vx_fpu_task **child,
				    struct vx_error *err);

/* clone() flags the FPU side looks at (Linux uapi values). */
#define VX_CLONE_VM	0x00000100u
#define VX_CLONE_VFORK	0x00004000u
#define VX_CLONE_THREAD 0x00010000u

/**
 * struct vx_fpu_clone_args - one clone() as fpu_clone() sees it.
 * @flags:      VX_CLONE_* (CLONE_THREAD needs CLONE_VM).
 * @shstk_base, @shstk_size: the shadow stack the kernel mapped for the child, when it makes one:
 *              the parent has SH_STK_EN in IA32_U_CET and @flags have CLONE_VM without
 *              CLONE_VFORK (a thread sharing the address space; fork copies the parent's
 *              shadow stack and vfork borrows it).  Page-aligned, in the user half of the
 *              address space; both 0 otherwise.
 */
struct vx_fpu_clone_args {
	uint64_t flags;
	uint64_t shstk_base;
	uint64_t shstk_size;
};

/**
 * vx_fpu_task_clone() - clone() by running @parent (§8.4 fpu_clone): fork (no CLONE_THREAD: a
 * new process, perms copied with dynamic sizing) or a thread of @parent's process; registers as
 * vx_fpu_task_fork() says.  With a new shadow stack the child's saved CET_U gets IA32_PL3_SSP =
 * @shstk_base + @shstk_size (update_fpu_shstk(): the new stack's top, since shadow stacks grow
 * down); the rest of its CET_U (U_CET) is the parent's.  The altstack is inherited unless the
 * child shares the address space without vfork.  -EINVAL names a bad flag or shadow stack (one
 * given when none is made, none given when one is), -ESRCH/-EBUSY/-ENOMEM as for fork; a
 * refusal creates nothing.
 */
VX_API int vx_fpu_task_clone(struct vx_fpu_task *parent, const struct vx_fpu_clone_args *args,
			     struct vx_fpu_task **child, struct vx_error *err);
/**
 * vx_fpu_task_exec() - execve() by @task (running or not): the other threads exit, @task leads
 * the process, fpu_flush_thread(): dynamic buffer freed, fpstate and both perms reset, image
 * reset to init_fpstate, TIF_NEED_FPU_LOAD; altstack cleared; PKRU back to its default.
 * Another thread with a guest fpstate installed (inside KVM_RUN) puts it first, as the SIGKILL
 * of de_thread makes it do (fpu_swap_kvm_fpstate(exit), on its CPU if it runs): the guest
 * fpstate is then no longer in use.  -EBUSY if @task itself has a guest fpstate installed.
 */
VX_API int vx_fpu_task_exec(struct vx_fpu_task *task, struct vx_error *err);
/**
 * vx_fpu_task_exit() - the task exits and is freed (fpstate_free); a leader with live threads
 * stays as a zombie holding the perms.  -EBUSY if a guest fpstate is installed.
 */
VX_API int vx_fpu_task_exit(struct vx_fpu_task *task, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* Scheduling (§8.2, §8.3, §8.4)                                                                */

/**
 * vx_fpu_task_schedule() - context switch on @cpu to @task (taking it off another CPU first):
 * switch_fpu() of the previous task (save, TIF_NEED_FPU_LOAD, last_cpu), PKRU switched
 * eagerly.  No restore: that is vx_fpu_task_return_to_user().
 */
VX_API int vx_fpu_task_schedule(struct vx_fpu_task *task, unsigned cpu, struct vx_error *err);
/** Switch @cpu to idle (switch_fpu() of its current task). */
VX_API int vx_fpu_cpu_idle(struct vx_fpu_machine *machine, unsigned cpu, struct vx_error *err);
/**
 * vx_fpu_task_return_to_user() - switch_fpu_return(): if the registers are not this task's on
 * this CPU, XRSTOR(S) of its fpstate with kernel max ∩ FPSTATE (after xfd_update_state), owner
 * and last_cpu set; TIF_NEED_FPU_LOAD cleared.  -ESRCH if @task is not running.
 */
VX_API int vx_fpu_task_return_to_user(struct vx_fpu_task *task, struct vx_error *err);

/**
 * vx_fpu_idle_fpregs() - fpu_idle_fpregs() on idle @cpu before deep idle (§8.4): with AMX and
 * tiles in use (XINUSE[17|18]), TILERELEASE and no owner, so the task whose registers these
 * were restores from memory on its next return to user.  Returns 1 if tiles were released, 0 if
 * there was nothing to do; -EBUSY if a task runs on @cpu, -EINVAL for a bad @cpu.
 */
VX_API int vx_fpu_idle_fpregs(struct vx_fpu_machine *machine, unsigned cpu, struct vx_error *err);
/**
 * vx_fpu_resume_cpu() - fpu__resume_cpu() on @cpu after a suspend lost its XSAVE setup (§2.2):
 * XCR0 := user max features (with XSAVE), IA32_XSS := supervisor | independent features (with
 * XSAVES), and, with dynamic sizing, IA32_XFD := the fpstate->xfd of the task current on @cpu
 * (init_fpstate.xfd when idle).  The per-CPU xfd_state cache and the registers are not touched
 * (the kernel saved the task's registers before suspending).  -EINVAL for a bad @cpu or a value
 * the CPU refuses.
 */
VX_API int vx_fpu_resume_cpu(struct vx_fpu_machine *machine, unsigned cpu, struct vx_error *err);

#define VX_KFPU_387   0x1u /* fninit */
#define VX_KFPU_MXCSR 0x2u /* ldmxcsr 0x1f80; 64-bit kernel_fpu_begin() uses only this */

/**
 * vx_fpu_kernel_fpu_begin() - kernel_fpu_begin_mask(@kfpu) on @cpu: the current user task's
 * registers are saved (TIF_NEED_FPU_LOAD), ownership dropped, MXCSR/x87 reset.  Nested use is
 * a WARN and -EBUSY.  Kernel code may then use vx_fpu_machine_cpu() until _end().
 */
VX_API int vx_fpu_kernel_fpu_begin(struct vx_fpu_machine *machine, unsigned cpu, unsigned kfpu,
				   struct vx_error *err);
VX_API int vx_fpu_kernel_fpu_end(struct vx_fpu_machine *machine, unsigned cpu,
				 struct vx_error *err);
/**
 * vx_fpu_task_clear_user_states() - fpu__clear_user_states() for a running @task: supervisor
 * state reloaded if the registers are not current's, xfd_update_state() (6.18-rc4), user
 * states to init, PKRU to default, registers marked active.
 */
VX_API int vx_fpu_task_clear_user_states(struct vx_fpu_task *task, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* User-mode register use (cpu layer at CPL3) and the #NM/XFD path (§5.2)                       */

#define VX_SIGILL     4
#define VX_SIGSEGV    11
#define VX_ILL_ILLOPC 1
#define VX_ILL_ILLOPN 2
#define VX_SI_KERNEL  0x80

/**
 * struct vx_fpu_user_result - what happened to one user instruction.
 * @retired:   it executed (possibly after an #NM that grew the fpstate).
 * @nm_events: #NM with XFD_ERR handled for it (0 or 1).
 * @signal:    0, VX_SIGILL (no permission; #UD) or VX_SIGSEGV (allocation failed; #GP).
 * @si_code:   VX_ILL_ILLOPC for an XFD #NM without permission, VX_ILL_ILLOPN for #UD,
 *             VX_SI_KERNEL for #GP.
 * @event:     the last exception the instruction raised (kind NONE if none).
 */
struct vx_fpu_user_result {
	bool retired;
	unsigned nm_events;
	int signal;
	int si_code;
	struct vx_event event;
};

/**
 * vx_fpu_task_set_reg() - the running @task returns to user mode and an instruction writes
 * @reg (vx_cpu_set_reg at CPL3); an XFD #NM goes through handle_xfd_event() and the
 * instruction is re-executed once.  Returns 0 with @result filled (a signal is not an error),
 * or -ESRCH if @task is not running.
 */
VX_API int vx_fpu_task_set_reg(struct vx_fpu_task *task, const struct vx_reg_info *reg,
			       const void *value, size_t width, struct vx_fpu_user_result *result,
			       struct vx_error *err);
/** Same for an instruction using @components (vx_cpu_use; AMX: 17|18). */
VX_API int vx_fpu_task_use(struct vx_fpu_task *task, uint64_t components,
			   struct vx_fpu_user_result *result, struct vx_error *err);
/** The running @task returns to user mode and reads @reg from its CPU. */
VX_API int vx_fpu_task_get_reg(struct vx_fpu_task *task, const struct vx_reg_info *reg, void *value,
			       size_t width, struct vx_error *err);
/**
 * vx_fpu_handle_xfd_event() - the #NM handler's XFD part for running @task (§5.2), called at
 * CPL0 after an #NM: reads and clears IA32_XFD_ERR; 0 → -ENOENT (not an XFD event); then
 * xfd_enable_feature(): 0 (grown, or an invalid XFD_ERR logged once), -EPERM (→ SIGILL) or
 * -EFAULT (allocation failed → SIGSEGV).
 */
VX_API int vx_fpu_handle_xfd_event(struct vx_fpu_task *task, struct vx_error *err);

/** What became of one instruction of kernel code (vx_fpu_kernel_use()). */
enum vx_fpu_kernel_outcome {
	VX_FPU_KERNEL_RETIRED = 0, /* it executed (possibly after a CR0.TS fixup) */
	VX_FPU_KERNEL_DIE,	   /* die("unexpected #NM exception"): the kernel oopses */
};

/**
 * struct vx_fpu_kernel_result - @outcome, the #NMs taken (@nm_events), @xfd_err: IA32_XFD_ERR of
 * the last XFD #NM (0 if none), @ts_fixups: CR0.TS fixups, @event: the last exception.
 */
struct vx_fpu_kernel_result {
	enum vx_fpu_kernel_outcome outcome;
	unsigned nm_events;
	unsigned ts_fixups;
	uint64_t xfd_err;
	struct vx_event event;
};

/**
 * vx_fpu_kernel_use() - kernel code on @cpu, inside kernel_fpu_begin()/_end(), executes an
 * instruction using @components (vx_cpu_use at CPL0).  An #NM runs exc_device_not_available()
 * in kernel mode (§5.2 step 3): with XFD, IA32_XFD_ERR is read and cleared; a non-zero value is
 * a kernel bug: a WARN in the machine's log, counted by vx_fpu_machine_kernel_xfd_nms(), and no
 * feature is enabled.  Then the generic #NM handling: CR0.TS set → WARN, TS cleared and the
 * instruction runs again; otherwise die("unexpected #NM exception") - VX_FPU_KERNEL_DIE, the
 * line in the log.  Returns 0 with @result filled; -EINVAL outside a kernel FPU section or for
 * a bad @cpu; -EFAULT for an exception other than #NM (not modelled).
 */
VX_API int vx_fpu_kernel_use(struct vx_fpu_machine *machine, unsigned cpu, uint64_t components,
			     struct vx_fpu_kernel_result *result, struct vx_error *err);
/** How many XFD #NMs kernel code took on the machine (each one a WARN, §5.2 step 3). */
VX_API unsigned vx_fpu_machine_kernel_xfd_nms(const struct vx_fpu_machine *machine);

/* ----------------------------------------------------------------------------------------- */
/* Permissions (§4): arch_prctl and sigaltstack                                                 */

#define VX_ARCH_GET_XCOMP_SUPP	     0x1021
#define VX_ARCH_GET_XCOMP_PERM	     0x1022
#define VX_ARCH_REQ_XCOMP_PERM	     0x1023
#define VX_ARCH_GET_XCOMP_GUEST_PERM 0x1024
#define VX_ARCH_REQ_XCOMP_GUEST_PERM 0x1025
#define VX_ARCH_XCOMP_TILECFG	     17
#define VX_ARCH_XCOMP_TILEDATA	     18
#define VX_MINSIGSTKSZ		     2048u

/**
 * vx_fpu_arch_prctl() - arch_prctl(@option, @arg2) by @task (fpu_xstate_prctl, §4).  @option
 * is truncated to int as the syscall does.  The GET options store through @user_u64, the
 * model of the user pointer @arg2: NULL means it does not point to writable memory (-EFAULT).
 * Returns 0 or the kernel's error: -EINVAL (unknown option, index >= 20), -EOPNOTSUPP, -EBUSY
 * (guest permission locked), -ENOSPC (an altstack too small), -EFAULT.
 */
VX_API int vx_fpu_arch_prctl(struct vx_fpu_task *task, uint64_t option, uint64_t arg2,
			     uint64_t *user_u64, struct vx_error *err);
/**
 * vx_fpu_task_sigaltstack() - sigaltstack() by @task: @disable (SS_DISABLE) or an altstack of
 * @size bytes: -ENOMEM below MINSIGSTKSZ or when sigaltstack_size_valid() refuses (§4).
 */
VX_API int vx_fpu_task_sigaltstack(struct vx_fpu_task *task, bool disable, uint64_t size,
				   struct vx_error *err);
/** get_sigframe_size(): AT_MINSIGSTKSZ, the largest signal frame (§4). */
VX_API uint32_t vx_fpu_max_frame_size(const struct vx_fpu_system *system);

/* ----------------------------------------------------------------------------------------- */
/* Guest fpstates (§3.4, §5.4, §6)                                                              */

/**
 * struct vx_fpu_guest - the kernel's struct fpu_guest (§3.4): @xfeatures enabled for the vCPU,
 * @xfd_err (KVM's copy of the guest's XFD_ERR), @uabi_size for KVM_GET/SET_XSAVE, @fpstate.
 * @machine is private.  Zero it before vx_fpu_alloc_guest_fpstate().
 */
struct vx_fpu_guest {
	uint64_t xfeatures;
	uint64_t xfd_err;
	uint32_t uabi_size;
	struct vx_fpstate *fpstate;
	struct vx_fpu_counters counters;
	struct vx_fpu_machine *machine;
};

/**
 * vx_fpu_alloc_guest_fpstate() - vCPU creation by @task (§6): guest-default fpstate, uabi_size
 * 4096, the process's guest permission locked.  -ENOMEM leaves @gfpu and the perms unchanged.
 */
VX_API int vx_fpu_alloc_guest_fpstate(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu,
				      struct vx_error *err);
/** fpu_free_guest_fpstate(): WARN and -EBUSY (nothing freed) while it is in use (§6). */
VX_API int vx_fpu_free_guest_fpstate(struct vx_fpu_guest *gfpu, struct vx_error *err);
/**
 * vx_fpu_swap_kvm_fpstate() - fpu_swap_kvm_fpstate() by running @task (§6): save the live
 * registers (unless confidential or TIF_NEED_FPU_LOAD), install the guest fpstate (@enter) or
 * the task's, restore it with kernel max ∩ FPSTATE (confidential: only XFD), mark active.
 */
VX_API int vx_fpu_swap_kvm_fpstate(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu, bool enter,
				   struct vx_error *err);
/**
 * vx_fpu_enable_guest_xfd_features() - grow the guest fpstate for @xfeatures (KVM_SET_CPUID2,
 * §5.4): 0 if already enabled, -EPERM without guest permission, -EFAULT if realloc fails.
 */
VX_API int vx_fpu_enable_guest_xfd_features(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu,
					    uint64_t xfeatures, struct vx_error *err);
/** fpu_update_guest_xfd(): the guest's IA32_XFD; loaded now if its fpstate is in use (§5.4). */
VX_API int vx_fpu_update_guest_xfd(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu,
				   uint64_t xfd, struct vx_error *err);
/** fpu_sync_guest_vmexit_xfd_state(): IA32_XFD into current's fpstate->xfd and the cache. */
VX_API int vx_fpu_sync_guest_vmexit_xfd_state(struct vx_fpu_task *task, struct vx_error *err);
/** fpstate_set_confidential() (§6). */
VX_API void vx_fpu_guest_set_confidential(struct vx_fpu_guest *gfpu);
/**
 * vx_fpu_guest_set_reg() / _get_reg() - guest code (CPL0 in VMX non-root terms: supervisor
 * registers such as pl0_ssp allowed) writes or reads @reg while @task has @gfpu installed and
 * its registers loaded.  -EINVAL if the guest fpstate is not in use.
 */
VX_API int vx_fpu_guest_set_reg(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu,
				const struct vx_reg_info *reg, const void *value, size_t width,
				struct vx_event *event, struct vx_error *err);
VX_API int vx_fpu_guest_get_reg(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu,
				const struct vx_reg_info *reg, void *value, size_t width,
				struct vx_error *err);
/**
 * vx_fpu_guest_cpu() - the FPU part of vcpu_enter_guest() for running @task with @gfpu
 * installed: switch_fpu_return() if TIF_NEED_FPU_LOAD (the guest fpstate reloaded after a
 * preemption), then the model CPU the guest code runs on.  NULL with @err set if @gfpu is not
 * installed or @task is not running.
 */
VX_API struct vx_cpu *vx_fpu_guest_cpu(struct vx_fpu_task *task, struct vx_fpu_guest *gfpu,
				       struct vx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_FPU_TASK_H */
