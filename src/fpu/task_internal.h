/* SPDX-License-Identifier: MIT */
/*
 * The private layout of machines, processes and tasks (fpu_task.h), and what task.c,
 * process.c, fpu_cpu.c, switch.c, perm.c, xfd.c and guest.c share.
 */
#ifndef VXSAVE_FPU_TASK_INTERNAL_H
#define VXSAVE_FPU_TASK_INTERNAL_H

#include <vxsave/fpu_task.h>

#include "fpu_internal.h"

#define FPU_MACHINE_MAX_CPUS 64
#define FPU_MACHINE_LOG_MAX  32
#define FPU_MACHINE_LOG_LINE 200

/* Linux's default PKRU (init_pkru_value): every key but 0 access-disabled. */
#define FPU_INIT_PKRU 0x55555554u

/* struct fpu (§3.2); __fpstate's image is part of the task's allocation. */
struct fpu_struct {
	int last_cpu;
	struct vx_fpstate *fpstate;
	struct vx_fpstate *task_fpstate;
	struct vx_fpu_perm perm;
	struct vx_fpu_perm guest_perm;
	struct vx_fpstate embedded;
};

struct vx_fpu_task {
	struct vx_fpu_machine *machine;
	struct vx_fpu_process *process;
	struct vx_fpu_task *next_thread;
	unsigned id;
	bool exited;	    /* a zombie leader: only its perms are alive */
	bool need_fpu_load; /* TIF_NEED_FPU_LOAD */
	int cpu;	    /* the CPU it is current on, -1 */
	uint64_t sas_ss_size;
	uint32_t pkru;			   /* thread.pkru */
	struct vx_fpu_guest *active_guest; /* the guest whose fpstate is installed */
	struct fpu_struct fpu;
	struct vx_fpu_counters counters;
};

struct vx_fpu_process {
	struct vx_fpu_machine *machine;
	struct vx_fpu_task *leader;
	struct vx_fpu_task *threads; /* every task, zombie leader included */
	unsigned live_threads;
	struct vx_fpu_process *next;
};

/* Per-CPU state (§3.5). */
struct fpu_percpu {
	struct vx_cpu *cpu;
	const uint8_t *pkru; /* where @cpu keeps PKRU when the kernel uses it (OSPKE), or NULL */
	struct vx_fpu_task *current;
	struct vx_fpu_task *owner; /* fpu_fpregs_owner_ctx */
	bool kernel_fpu_allowed;
	uint64_t xfd_state;
};

struct vx_fpu_machine {
	const struct vx_fpu_system *sys;
	const struct vx_platform *platform;
	const struct vx_reg_info *pkru_reg; /* looked up once: the switch path uses it (§8.2) */
	unsigned ncpus;
	bool strict_sas_size;
	bool xfd_err_printed; /* pr_err_once */
	unsigned warnings;
	unsigned kernel_xfd_nms; /* XFD #NMs taken in kernel mode (§5.2 step 3) */
	unsigned next_task_id;
	struct vx_fpu_process *processes;
	unsigned log_count;
	char log[FPU_MACHINE_LOG_MAX][FPU_MACHINE_LOG_LINE];
	struct fpu_percpu percpu[FPU_MACHINE_MAX_CPUS];
};

/* fpu_cpu.c: the machine, its log, and the per-CPU register operations. */
void fpu_machine_log(struct vx_fpu_machine *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int fpu_warn(struct vx_fpu_machine *m, struct vx_error *err, int code, const char *rule,
	     const char *what);
bool fpu_state_size_dynamic(const struct vx_fpu_machine *m);
int fpu_xfd_update_state(struct vx_fpu_machine *m, unsigned cpu, const struct vx_fpstate *fps,
			 struct vx_error *err);
struct vx_fpu_counters *fpu_counters_for(struct vx_fpu_task *t, const struct vx_fpstate *fps);
int fpu_save_fpregs(struct vx_fpu_task *t, struct vx_error *err);
int fpu_restore_fpregs(struct vx_fpu_task *t, struct vx_fpstate *fps, uint64_t mask,
		       struct vx_error *err);
bool fpu_fpregs_state_valid(const struct vx_fpu_task *t, unsigned cpu);
void fpu_fpregs_activate(struct vx_fpu_task *t);
int fpu_set_cpl(struct vx_fpu_machine *m, unsigned cpu, unsigned cpl);
int fpu_running(const struct vx_fpu_task *t, struct vx_error *err);

/* task.c: fpstates and the task object. */
struct vx_fpstate *fpu_fpstate_valloc(struct vx_fpu_machine *m, uint32_t size);
void fpu_fpstate_vfree(struct vx_fpu_machine *m, struct vx_fpstate *fps);
void fpu_fpstate_reset(const struct vx_fpu_system *sys, struct vx_fpstate *fps, bool guest);
void fpu_perm_reset(struct vx_fpu_task *t);
void fpu_image_from_init(const struct vx_fpu_system *sys, struct vx_fpstate *fps);
struct vx_fpu_task *fpu_task_alloc(struct vx_fpu_machine *m);
void fpu_task_free(struct vx_fpu_task *t);
void fpu_fpstate_free(struct vx_fpu_task *t);
struct vx_fpu_task *fpu_group_leader(const struct vx_fpu_task *t);

/* switch.c */
int fpu_switch_fpu(struct vx_fpu_task *old, struct vx_error *err);
int fpu_fpregs_restore_userregs(struct vx_fpu_task *t, struct vx_error *err);
int fpu_task_deschedule(struct vx_fpu_task *t, struct vx_error *err);

/* perm.c */
struct vx_fpu_perm *fpu_group_perm(const struct vx_fpu_task *t, bool guest);

/* xfd.c */
int fpu_xfd_enable_feature(struct vx_fpu_task *t, uint64_t xfd_err, struct vx_fpu_guest *gfpu,
			   struct vx_error *err);

#endif /* VXSAVE_FPU_TASK_INTERNAL_H */
