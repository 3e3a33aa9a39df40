/* SPDX-License-Identifier: MIT */
/*
 * The fpu statements about the machine, tasks, CPUs and registers (fpu_script_internal.h):
 * boot, processes and threads, the context switch and return to user, kernel FPU sections,
 * arch_prctl and sigaltstack, user-mode register use, and what `fpu print` and `fpu expect`
 * show of a task.  Task names are checked while parsing; whether a task exists is known only
 * when the statement runs.  Reference: docs/fpu-script.md.
 */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "fpu_script_internal.h"

/* ----------------------------------------------------------------------------------------- */
/* The machine and its tasks                                                                    */

FS_RUN(fs_run_machine)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	int rc;

	if (c->machine)
		return sg_run_error(r, -EEXIST, "the machine is already booted");
	rc = vx_fpu_system_create(c->profile, &c->config, &c->system, &err);
	if (rc < 0)
		return fs_model_error(r, rc, "fpu boot", &err);
	rc = vx_fpu_machine_create(c->system, s->number, &c->machine, &err);
	if (rc < 0)
		return fs_model_error(r, rc, "fpu machine", &err);
	/* the strict_sas_size= boot option (linux-fpu.md §4, sigaltstack_size_valid) */
	vx_fpu_machine_set_strict_sas_size(c->machine, s->flag);
	if (!r->options->quiet)
		fprintf(r->out, "fpu machine: %u CPU%s, CET_S design %s%s\n", s->number,
			s->number == 1 ? "" : "s", vx_fpu_cet_design_name(c->config.cet_design),
			s->flag ? ", strict_sas_size" : "");
	return 0;
}

/* Check that @name is unused and a slot is free, and reserve the name (add_task() fills it). */
static int new_slot(struct sg_runner *r, struct fpu_script_context *c, const char *name)
{
	int rc = fs_need_machine(r, c);

	if (rc)
		return rc;
	for (unsigned i = 0; i < c->task_count; i++)
		if (strcmp(c->names[i], name) == 0)
			return sg_run_error(r, -EEXIST, "task '%s' already exists", name);
	if (c->task_count == FPU_SCRIPT_TASKS_MAX)
		return sg_run_error(r, -E2BIG, "more than %u tasks", FPU_SCRIPT_TASKS_MAX);
	memcpy(c->names[c->task_count], name, FPU_SCRIPT_NAME_MAX);
	return 0;
}

static int add_task(struct sg_runner *r, struct fpu_script_context *c, const char *name,
		    const char *parent,
		    int (*create)(struct vx_fpu_task *, struct vx_fpu_task **, struct vx_error *))
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *from = NULL, *task;
	int rc = new_slot(r, c, name);

	if (!rc && parent)
		rc = fs_find_task(r, c, parent, &from);
	if (rc)
		return rc;
	rc = parent ? create(from, &task, &err) : vx_fpu_process_create(c->machine, &task, &err);
	if (rc < 0)
		return fs_model_error(r, rc, parent ? "fork/clone" : "process", &err);
	c->tasks[c->task_count++] = task;
	if (!r->options->quiet)
		fprintf(r->out, "task %s created\n", name);
	return 0;
}

FS_RUN(fs_run_process)
{
	return add_task(r, context, FS_STMT(stmt)->name, NULL, NULL);
}

FS_RUN(fs_run_fork)
{
	return add_task(r, context, FS_STMT(stmt)->name, FS_STMT(stmt)->other, vx_fpu_task_fork);
}

FS_RUN(fs_run_thread)
{
	return add_task(r, context, FS_STMT(stmt)->name, FS_STMT(stmt)->other,
			vx_fpu_task_clone_thread);
}

/* Forget the tasks of the process other than @keep (exec freed them: de_thread). */
static void drop_other_threads(struct fpu_script_context *c, const bool *same,
			       const struct vx_fpu_task *keep)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < c->task_count; i++) {
		if (same[i] && c->tasks[i] != keep) {
			fs_guests_forget_task(c, c->tasks[i]);
			continue;
		}
		memmove(c->names[kept], c->names[i], FPU_SCRIPT_NAME_MAX);
		c->tasks[kept++] = c->tasks[i];
	}
	c->task_count = kept;
}

/* A thread that exec kills leaves KVM_RUN first: one inside it is a script error (§6). */
static int check_no_guest_inside(struct sg_runner *r, struct fpu_script_context *c,
				 const bool *same, const struct vx_fpu_task *keep)
{
	for (unsigned i = 0; i < c->task_count; i++) {
		const struct fpu_script_guest *g = fs_guest_of_task(c, c->tasks[i]);

		if (same[i] && c->tasks[i] != keep && g)
			return sg_run_error(r, -EBUSY,
					    "exec would end thread '%s' inside KVM_RUN with guest "
					    "'%s' entered: 'fpu guest exit %s' first",
					    c->names[i], g->name, g->name);
	}
	return 0;
}

FS_RUN(fs_run_exec)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	bool same[FPU_SCRIPT_TASKS_MAX] = {false};
	struct vx_fpu_task *task;
	int rc = fs_find_task(r, c, s->name, &task);

	if (rc)
		return rc;
	for (unsigned i = 0; i < c->task_count; i++)
		same[i] = vx_fpu_task_process(c->tasks[i]) == vx_fpu_task_process(task);
	rc = check_no_guest_inside(r, c, same, task);
	if (rc)
		return rc;
	rc = vx_fpu_task_exec(task, &err);
	if (rc < 0)
		return fs_model_error(r, rc, "exec", &err);
	drop_other_threads(c, same, task);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* CPUs: switch, return to user, kernel FPU sections (linux-fpu.md §8.2-§8.4)                   */

static int check_cpu(struct sg_runner *r, const struct fpu_script_context *c, unsigned cpu)
{
	int rc = fs_need_machine(r, c);

	if (rc == 0 && cpu >= vx_fpu_machine_ncpus(c->machine))
		rc = sg_run_error(r, -EINVAL, "no CPU %u (the machine has %u)", cpu,
				  vx_fpu_machine_ncpus(c->machine));
	return rc;
}

FS_RUN(fs_run_run)
{
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *task;
	int rc = fs_find_task(r, context, s->name, &task);

	if (rc)
		return rc;
	rc = vx_fpu_task_schedule(task, s->number, &err);
	if (rc < 0)
		return fs_model_error(r, rc, "schedule", &err);
	rc = vx_fpu_task_return_to_user(task, &err);
	return rc < 0 ? fs_model_error(r, rc, "return to user", &err) : 0;
}

/* switch_fpu() of the previous task only: the registers are restored on return to user. */
FS_RUN(fs_run_switch)
{
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *task;
	int rc = fs_find_task(r, context, s->name, &task);

	if (rc)
		return rc;
	rc = vx_fpu_task_schedule(task, s->number, &err);
	return rc < 0 ? fs_model_error(r, rc, "schedule", &err) : 0;
}

FS_RUN(fs_run_idle)
{
	struct fpu_script_context *c = context;
	struct vx_error err = VX_ERROR_INIT;
	int rc = check_cpu(r, c, FS_STMT(stmt)->number);

	if (rc)
		return rc;
	rc = vx_fpu_cpu_idle(c->machine, FS_STMT(stmt)->number, &err);
	return rc < 0 ? fs_model_error(r, rc, "idle", &err) : 0;
}

FS_RUN(fs_run_return)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *task;
	int rc = fs_find_task(r, context, FS_STMT(stmt)->name, &task);

	if (rc)
		return rc;
	rc = vx_fpu_task_return_to_user(task, &err);
	return rc < 0 ? fs_model_error(r, rc, "return to user", &err) : 0;
}

/* kernel_fpu_begin_mask(): a nested section is the kernel's WARN and -EBUSY (§8.4). */
FS_RUN(fs_run_kernel_begin)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	uint64_t kfpu = s->present & (1u << 1) ? s->option : VX_KFPU_MXCSR;
	struct vx_error err = VX_ERROR_INIT;
	char call[64];
	int rc = check_cpu(r, c, s->number);

	if (rc)
		return rc;
	rc = vx_fpu_kernel_fpu_begin(c->machine, s->number, (unsigned)kfpu, &err);
	fs_record_result(r, c, "kernel_fpu_begin", rc);
	snprintf(call, sizeof(call), "kernel_fpu_begin(CPU %u, %s)", s->number,
		 fs_choice_name(fs_kfpu, kfpu));
	fs_print_outcome(r, call, rc, &err);
	return 0;
}

FS_RUN(fs_run_kernel_end)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	char call[64];
	int rc = check_cpu(r, c, s->number);

	if (rc)
		return rc;
	rc = vx_fpu_kernel_fpu_end(c->machine, s->number, &err);
	fs_record_result(r, c, "kernel_fpu_end", rc);
	snprintf(call, sizeof(call), "kernel_fpu_end(CPU %u)", s->number);
	fs_print_outcome(r, call, rc, &err);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Permissions: arch_prctl and sigaltstack (linux-fpu.md §4)                                    */

FS_RUN(fs_run_prctl)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *task;
	uint64_t user = 0;
	bool get = s->option != VX_ARCH_REQ_XCOMP_PERM && s->option != VX_ARCH_REQ_XCOMP_GUEST_PERM;
	char call[80];
	int rc = fs_find_task(r, c, s->name, &task);

	if (rc)
		return rc;
	rc = vx_fpu_arch_prctl(task, s->option, s->value, &user, &err);
	fs_record_result(r, c, "arch_prctl", rc < 0 ? rc : get ? (long long)user : 0);
	snprintf(call, sizeof(call), "arch_prctl(%s, %#llx)",
		 fs_choice_name(fs_prctl_options, s->option), (unsigned long long)s->value);
	fs_print_outcome(r, call, c->result, &err);
	return 0;
}

FS_RUN(fs_run_sigaltstack)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	bool disable = s->value == UINT64_MAX;
	struct vx_fpu_task *task;
	char call[80];
	int rc = fs_find_task(r, c, s->name, &task);

	if (rc)
		return rc;
	rc = vx_fpu_task_sigaltstack(task, disable, disable ? 0 : s->value, &err);
	fs_record_result(r, c, "sigaltstack", rc);
	if (disable)
		snprintf(call, sizeof(call), "sigaltstack(%s, SS_DISABLE)", s->name);
	else
		snprintf(call, sizeof(call), "sigaltstack(%s, %llu)", s->name,
			 (unsigned long long)s->value);
	fs_print_outcome(r, call, rc, &err);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* User-mode instructions (linux-fpu.md §5.2)                                                   */

static void print_user_result(struct sg_runner *r, const char *what, const char *task,
			      const struct vx_fpu_user_result *result)
{
	if (r->options->quiet)
		return;
	fprintf(r->out, "%s by %s: %s%s%s\n", what, task, result->nm_events ? "#NM (XFD), " : "",
		result->retired ? "retired" : "not retired", fs_signal_text(result));
}

static void record_user_result(struct sg_runner *r, struct fpu_script_context *c,
			       const struct vx_fpu_user_result *result)
{
	r->summary->operations++;
	c->signal = result->signal;
	if (result->signal)
		r->summary->faults++;
}

FS_RUN(fs_run_use)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_user_result result;
	struct vx_fpu_task *task;
	char what[48];
	int rc = fs_find_task(r, c, s->name, &task);

	if (rc)
		return rc;
	rc = vx_fpu_task_use(task, s->value, &result, &err);
	if (rc < 0)
		return fs_model_error(r, rc, "use", &err);
	record_user_result(r, c, &result);
	snprintf(what, sizeof(what), "use %#llx", (unsigned long long)s->value);
	print_user_result(r, what, s->name, &result);
	return 0;
}

/* The value of a register statement, @width bytes (register widths are known when it runs). */
static int reg_value(struct sg_runner *r, const struct fpu_script_context *c,
		     const struct fs_stmt *s, uint8_t *value, size_t *width)
{
	*width = fs_reg_width(r, c, s->reg);
	if (!*width)
		return r->err ? r->err->code : -ENOTSUP;
	if (!s->bytes.all_ones && s->bytes.length > *width)
		return sg_run_error(r, -EINVAL, "value has %zu significant bytes, %s holds %zu",
				    s->bytes.length, s->reg->name, *width);
	fs_widen(&s->bytes, value, *width);
	return 0;
}

FS_RUN(fs_run_reg)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_user_result result;
	uint8_t value[SG_BYTES_MAX];
	struct vx_fpu_task *task;
	char what[48];
	size_t width = 0;
	int rc = fs_find_task(r, c, s->name, &task);

	if (rc == 0)
		rc = reg_value(r, c, s, value, &width);
	if (rc)
		return rc;
	rc = vx_fpu_task_set_reg(task, s->reg, value, width, &result, &err);
	if (rc < 0)
		return fs_model_error(r, rc, "reg", &err);
	record_user_result(r, c, &result);
	snprintf(what, sizeof(what), "reg %s", s->reg->name);
	print_user_result(r, what, s->name, &result);
	return 0;
}

/* The running task reads a register (after its return to user, as the CPU holds it). */
static int read_task_reg(struct sg_runner *r, struct fpu_script_context *c, const struct fs_stmt *s,
			 uint8_t *bytes, size_t *width)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *task;
	int rc = fs_find_task(r, c, s->name, &task);

	if (rc)
		return rc;
	*width = fs_reg_width(r, c, s->reg);
	if (!*width)
		return r->err ? r->err->code : -ENOTSUP;
	rc = vx_fpu_task_get_reg(task, s->reg, bytes, *width, &err);
	return rc < 0 ? fs_model_error(r, rc, "read register", &err) : 0;
}

FS_RUN(fs_run_print_reg)
{
	uint8_t bytes[SG_BYTES_MAX];
	size_t width = 0;
	int rc = read_task_reg(r, context, FS_STMT(stmt), bytes, &width);

	if (rc == 0)
		fs_print_reg(r->out, FS_STMT(stmt)->name, FS_STMT(stmt)->reg, bytes, width);
	return rc;
}

FS_RUN(fs_run_expect_reg)
{
	uint8_t bytes[SG_BYTES_MAX];
	size_t width = 0;
	int rc = read_task_reg(r, context, FS_STMT(stmt), bytes, &width);

	return rc ? rc : fs_compare_reg(r, stmt, bytes, width);
}

/* ----------------------------------------------------------------------------------------- */
/* print and expect                                                                             */

/* Every field of `fpu expect TASK FIELD`, indexed by enum fs_task_field. */
static void task_fields(struct vx_fpu_task *task, uint64_t *v)
{
	struct vx_fpu_task_info info;
	struct vx_fpu_perm perm, guest;

	vx_fpu_task_info(task, &info);
	vx_fpu_process_perm(vx_fpu_task_process(task), &perm, &guest);
	v[F_SIZE] = info.fpstate->size;
	v[F_USER_SIZE] = info.fpstate->user_size;
	v[F_XFEATURES] = info.fpstate->xfeatures;
	v[F_USER_XFEATURES] = info.fpstate->user_xfeatures;
	v[F_XFD] = info.fpstate->xfd;
	v[F_NEED_LOAD] = info.need_fpu_load;
	v[F_LAST_CPU] = (uint64_t)(int64_t)info.last_cpu;
	v[F_PERM] = perm.state_perm;
	v[F_CPU] = (uint64_t)(int64_t)info.cpu;
	v[F_SAS_SIZE] = info.sas_ss_size;
	v[F_PKRU] = info.pkru;
	v[F_GUEST_PERM] = guest.state_perm;
}

FS_RUN(fs_run_print)
{
	const struct fs_stmt *s = FS_STMT(stmt);
	uint64_t v[F_TASK_FIELDS];
	struct vx_fpu_task *task;
	char names[256];
	int rc = fs_find_task(r, context, s->name, &task);

	if (rc)
		return rc;
	task_fields(task, v);
	fprintf(r->out,
		"task %s: fpstate size %llu, user_size %llu, xfd %#llx, TIF_NEED_FPU_LOAD %llu, "
		"last_cpu %lld\n",
		s->name, (unsigned long long)v[F_SIZE], (unsigned long long)v[F_USER_SIZE],
		(unsigned long long)v[F_XFD], (unsigned long long)v[F_NEED_LOAD],
		(long long)v[F_LAST_CPU]);
	fprintf(r->out, "  xfeatures      %#llx %s\n", (unsigned long long)v[F_XFEATURES],
		cli_mask_names(v[F_XFEATURES], names, sizeof(names)));
	fprintf(r->out, "  user_xfeatures %#llx\n", (unsigned long long)v[F_USER_XFEATURES]);
	fprintf(r->out, "  state_perm     %#llx\n", (unsigned long long)v[F_PERM]);
	return 0;
}

FS_RUN(fs_run_print_log)
{
	struct fpu_script_context *c = context;
	int rc = fs_need_machine(r, c);
	unsigned count;

	(void)stmt;
	if (rc)
		return rc;
	count = vx_fpu_machine_log_count(c->machine);
	fprintf(r->out, "machine log: %u line%s, %u WARN%s\n", count, count == 1 ? "" : "s",
		vx_fpu_machine_warnings(c->machine),
		vx_fpu_machine_warnings(c->machine) == 1 ? "" : "s");
	for (unsigned i = 0; i < count; i++)
		fprintf(r->out, "  %s\n", vx_fpu_machine_log_line(c->machine, i));
	return 0;
}

FS_RUN(fs_run_expect_task)
{
	const struct fs_stmt *s = FS_STMT(stmt);
	uint64_t v[F_TASK_FIELDS];
	struct vx_fpu_task *task;
	char found[64];
	int rc = fs_find_task(r, context, s->name, &task);

	if (rc)
		return rc;
	task_fields(task, v);
	if (v[s->field] == s->value)
		return 0;
	snprintf(found, sizeof(found), "%s is %#llx", fs_choice_name(fs_task_fields, s->field),
		 (unsigned long long)v[s->field]);
	return fs_expect_failed(r, stmt, found);
}

FS_RUN(fs_run_expect_result)
{
	const struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	char got[32], found[80];

	if (c->result == s->result)
		return 0;
	fs_format_result(got, sizeof(got), c->result);
	snprintf(found, sizeof(found), "%s returned %s", c->result_what ? c->result_what : "?",
		 got);
	return fs_expect_failed(r, stmt, found);
}

FS_RUN(fs_run_expect_signal)
{
	const struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	char found[64];

	if ((uint64_t)c->signal == s->value)
		return 0;
	snprintf(found, sizeof(found), "the signal was %s",
		 fs_choice_name(fs_signals, (uint64_t)c->signal));
	return fs_expect_failed(r, stmt, found);
}
