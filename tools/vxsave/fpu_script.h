/* SPDX-License-Identifier: MIT */
/*
 * The fpu statements of the script language (`vxsave fpu SCRIPT`): a statement table for the
 * grammar engine (script_grammar.h) that cpu_script_options.extensions adds to the cpu
 * statements, so one scenario mixes cpu-level and fpu-level lines.  Documented in
 * docs/fpu-script.md; the inside is fpu_script_internal.h.
 */
#ifndef VXSAVE_CLI_FPU_SCRIPT_H
#define VXSAVE_CLI_FPU_SCRIPT_H

#include <stdio.h>

#include <vxsave/fpu.h>
#include <vxsave/fpu_task.h>

#define FPU_SCRIPT_TASKS_MAX   32u
#define FPU_SCRIPT_NAME_MAX    16u
#define FPU_SCRIPT_BUFFERS_MAX 16u
#define FPU_SCRIPT_GUESTS_MAX  8u

struct sg_table;

/** A named byte buffer of the fpu statements: a signal frame, a regset, a KVM uABI buffer. */
struct fpu_script_buffer {
	char name[FPU_SCRIPT_NAME_MAX];
	uint8_t *bytes; /* 64-byte aligned, @size bytes */
	size_t size;
};

/** A guest fpstate (a vCPU) and the task that created it (its vCPU thread). */
struct fpu_script_guest {
	char name[FPU_SCRIPT_NAME_MAX];
	struct vx_fpu_guest gfpu;
	struct vx_fpu_task *task; /* NULL once the thread exited (exec by another thread) */
	uint32_t pkru;		  /* vcpu->arch.pkru: KVM's own copy, outside the swap */
};

/**
 * struct fpu_script_context - what the fpu statements run on: the profile and boot options
 * `fpu machine` boots with, then the machine, the named tasks, buffers and guests.  Zero it,
 * set @profile and @config, and call fpu_script_context_clear() after the run.
 */
struct fpu_script_context {
	const struct vx_profile *profile;
	struct vx_fpu_config config;
	struct vx_fpu_system *system;
	struct vx_fpu_machine *machine;
	char names[FPU_SCRIPT_TASKS_MAX][FPU_SCRIPT_NAME_MAX];
	struct vx_fpu_task *tasks[FPU_SCRIPT_TASKS_MAX];
	unsigned task_count;
	struct fpu_script_buffer buffers[FPU_SCRIPT_BUFFERS_MAX];
	unsigned buffer_count;
	struct fpu_script_guest guests[FPU_SCRIPT_GUESTS_MAX];
	unsigned guest_count;
	long long result;	 /* the last call with a result (value, or a negative errno) */
	const char *result_what; /* its name, for `fpu expect result` ("arch_prctl") */
	int signal;		 /* the last `fpu use`, `fpu reg` or `fpu sigreturn` */
	int sigreturn;		 /* the last `fpu sigreturn` (enum vx_sigreturn_outcome) */
};

extern const struct sg_table fpu_script_table;

/** Free the guests, the buffers, the machine, the system and the tasks. */
void fpu_script_context_clear(struct fpu_script_context *context);

#endif /* VXSAVE_CLI_FPU_SCRIPT_H */
