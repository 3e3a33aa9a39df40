/* SPDX-License-Identifier: MIT */
/*
 * The fpu statements of the script language (`vxsave fpu SCRIPT`): a statement table for the
 * grammar engine (script_grammar.h) that cpu_script_options.extensions adds to the cpu
 * statements, so one scenario mixes cpu-level and fpu-level lines.  Documented in
 * docs/fpu-script.md.
 */
#ifndef VXSAVE_CLI_FPU_SCRIPT_H
#define VXSAVE_CLI_FPU_SCRIPT_H

#include <stdio.h>

#include <vxsave/fpu.h>
#include <vxsave/fpu_task.h>

#define FPU_SCRIPT_TASKS_MAX 32u
#define FPU_SCRIPT_NAME_MAX  16u

struct sg_table;

/**
 * struct fpu_script_context - what the fpu statements run on: the profile and boot options
 * `fpu machine` boots with, then the machine and the named tasks.  Zero it, set @profile and
 * @config, and call fpu_script_context_clear() after the run.
 */
struct fpu_script_context {
	const struct vx_profile *profile;
	struct vx_fpu_config config;
	struct vx_fpu_system *system;
	struct vx_fpu_machine *machine;
	char names[FPU_SCRIPT_TASKS_MAX][FPU_SCRIPT_NAME_MAX];
	struct vx_fpu_task *tasks[FPU_SCRIPT_TASKS_MAX];
	unsigned task_count;
	long long result; /* the last `fpu prctl` (value, or a negative errno) */
	int signal;	  /* the last `fpu use` */
};

extern const struct sg_table fpu_script_table;

/** Free the machine, the system and the tasks. */
void fpu_script_context_clear(struct fpu_script_context *context);

#endif /* VXSAVE_CLI_FPU_SCRIPT_H */
