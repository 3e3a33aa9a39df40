/* SPDX-License-Identifier: MIT */
/*
 * The fpu statements (fpu_script.h): one table, one row per statement, run on the machine of
 * a struct fpu_script_context.  Task names are checked while parsing; whether a task exists is
 * known only when the statement runs.  Reference: docs/fpu-script.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "fpu_script.h"
#include "script_grammar.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Facts of this table (above the cpu table's bits). */
enum {
	FS_FACT_RESULT = 1u << 8, /* an `fpu prctl` ran: `fpu expect result` may follow */
	FS_FACT_SIGNAL = 1u << 9, /* an `fpu use` ran: `fpu expect signal` may follow */
};

struct fs_stmt {
	char name[FPU_SCRIPT_NAME_MAX];
	char other[FPU_SCRIPT_NAME_MAX];
	uint32_t number;
	uint64_t option;
	uint64_t value;
	uint64_t field;
	long long result;
};

#define FS_AT(field) SG_AT(struct fs_stmt, field)

enum fs_field {
	F_SIZE,
	F_USER_SIZE,
	F_XFEATURES,
	F_USER_XFEATURES,
	F_XFD,
	F_NEED_LOAD,
	F_LAST_CPU,
	F_PERM
};

static const struct sg_choice prctl_options[] = {
    {"get_xcomp_supp", VX_ARCH_GET_XCOMP_SUPP},
    {"get_xcomp_perm", VX_ARCH_GET_XCOMP_PERM},
    {"req_xcomp_perm", VX_ARCH_REQ_XCOMP_PERM},
    {"get_xcomp_guest_perm", VX_ARCH_GET_XCOMP_GUEST_PERM},
    {"req_xcomp_guest_perm", VX_ARCH_REQ_XCOMP_GUEST_PERM},
    {NULL, 0},
};

static const struct sg_choice fields[] = {
    {"size", F_SIZE},
    {"user_size", F_USER_SIZE},
    {"xfeatures", F_XFEATURES},
    {"user_xfeatures", F_USER_XFEATURES},
    {"xfd", F_XFD},
    {"need_fpu_load", F_NEED_LOAD},
    {"last_cpu", F_LAST_CPU},
    {"state_perm", F_PERM},
    {NULL, 0},
};

static const struct sg_choice signals[] = {
    {"none", 0},
    {"sigill", VX_SIGILL},
    {"sigsegv", VX_SIGSEGV},
    {NULL, 0},
};

/* The errors arch_prctl returns (fpu_task.h). */
static const struct sg_choice errnos[] = {
    {"EINVAL", EINVAL}, {"EOPNOTSUPP", EOPNOTSUPP}, {"EBUSY", EBUSY},
    {"ENOSPC", ENOSPC}, {"EFAULT", EFAULT},	    {"EPERM", EPERM},
    {"ESRCH", ESRCH},	{"ENOMEM", ENOMEM},	    {NULL, 0},
};

static const char *choice_name(const struct sg_choice *choices, uint64_t value)
{
	for (; choices->name; choices++)
		if (choices->value == value)
			return choices->name;
	return "?";
}

/* ----------------------------------------------------------------------------------------- */
/* Kinds                                                                                        */

static int parse_name(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	size_t length = strlen(word);

	if (length == 0 || length >= FPU_SCRIPT_NAME_MAX)
		return sg_fail(p, -EINVAL, "%s '%s' must have 1 to %u characters", spec->what, word,
			       FPU_SCRIPT_NAME_MAX - 1);
	for (size_t i = 0; i < length; i++)
		if (!((word[i] >= 'a' && word[i] <= 'z') || (word[i] >= 'A' && word[i] <= 'Z') ||
		      (word[i] >= '0' && word[i] <= '9') || word[i] == '_' || word[i] == '-'))
			return sg_fail(p, -EINVAL, "bad %s '%s' (letters, digits, '_', '-')",
				       spec->what, word);
	if (dest)
		memcpy(dest, word, length + 1);
	return 0;
}

/* A value or an errno name (stored negative). */
static int parse_result(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			void *dest)
{
	const char *name = word[0] == '-' ? word + 1 : word;
	char *end;
	unsigned long long value;

	for (const struct sg_choice *c = errnos; c->name; c++)
		if (strcasecmp(name, c->name) == 0) {
			*(long long *)dest = -(long long)c->value;
			return 0;
		}
	errno = 0;
	value = strtoull(word, &end, 0);
	if (errno || *end || word[0] == '-' || !word[0])
		return sg_fail(p, -EINVAL,
			       "bad %s '%s' (a number or EINVAL, EOPNOTSUPP, EBUSY, "
			       "ENOSPC, EFAULT, EPERM, ESRCH, ENOMEM)",
			       spec->what, word);
	*(long long *)dest = (long long)value;
	return 0;
}

static const struct sg_kind fs_kind_name = {"NAME", parse_name};
static const struct sg_kind fs_kind_result = {"VALUE|ERRNO", parse_result};

/* ----------------------------------------------------------------------------------------- */
/* Helpers                                                                                      */

static int need_machine(struct sg_runner *r, const struct fpu_script_context *c)
{
	if (!c->machine)
		return sg_run_error(r, -EINVAL, "no machine: 'fpu machine CPUS' must come first");
	return 0;
}

static int find_task(struct sg_runner *r, struct fpu_script_context *c, const char *name,
		     struct vx_fpu_task **task)
{
	int rc = need_machine(r, c);

	if (rc)
		return rc;
	for (unsigned i = 0; i < c->task_count; i++)
		if (strcmp(c->names[i], name) == 0) {
			*task = c->tasks[i];
			return 0;
		}
	return sg_run_error(r, -EINVAL, "no task '%s'", name);
}

/* Check that @name is unused and a slot is free, and reserve the name (add_task() fills it). */
static int new_slot(struct sg_runner *r, struct fpu_script_context *c, const char *name)
{
	int rc = need_machine(r, c);

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

static int model_error(struct sg_runner *r, int rc, const char *what, const struct vx_error *err)
{
	const char *name = choice_name(errnos, (uint64_t)-rc);

	return sg_run_error(r, rc, "%s: %s (%s)", what, name[0] == '?' ? vx_errno_name(rc) : name,
			    err->reason[0] ? err->reason : "refused");
}

/* ----------------------------------------------------------------------------------------- */
/* Statements                                                                                   */

static int run_machine(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = stmt->payload;
	struct vx_error err = VX_ERROR_INIT;
	int rc;

	if (c->machine)
		return sg_run_error(r, -EEXIST, "the machine is already booted");
	rc = vx_fpu_system_create(c->profile, &c->config, &c->system, &err);
	if (rc < 0)
		return model_error(r, rc, "fpu boot", &err);
	rc = vx_fpu_machine_create(c->system, s->number, &c->machine, &err);
	if (rc < 0)
		return model_error(r, rc, "fpu machine", &err);
	if (!r->options->quiet)
		fprintf(r->out, "fpu machine: %u CPU%s, CET_S design %s\n", s->number,
			s->number == 1 ? "" : "s", vx_fpu_cet_design_name(c->config.cet_design));
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
		rc = find_task(r, c, parent, &from);
	if (rc)
		return rc;
	rc = parent ? create(from, &task, &err) : vx_fpu_process_create(c->machine, &task, &err);
	if (rc < 0)
		return model_error(r, rc, parent ? "fork/clone" : "process", &err);
	c->tasks[c->task_count++] = task;
	if (!r->options->quiet)
		fprintf(r->out, "task %s created\n", name);
	return 0;
}

static int run_process(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	return add_task(r, context, ((const struct fs_stmt *)stmt->payload)->name, NULL, NULL);
}

static int run_fork(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	const struct fs_stmt *s = stmt->payload;

	return add_task(r, context, s->name, s->other, vx_fpu_task_fork);
}

static int run_thread(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	const struct fs_stmt *s = stmt->payload;

	return add_task(r, context, s->name, s->other, vx_fpu_task_clone_thread);
}

/* Forget the tasks of @process other than @keep (exec freed them: de_thread). */
static void drop_other_threads(struct fpu_script_context *c, const bool *same,
			       const struct vx_fpu_task *keep)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < c->task_count; i++) {
		if (same[i] && c->tasks[i] != keep)
			continue;
		memmove(c->names[kept], c->names[i], FPU_SCRIPT_NAME_MAX);
		c->tasks[kept++] = c->tasks[i];
	}
	c->task_count = kept;
}

static int run_exec(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = stmt->payload;
	struct vx_error err = VX_ERROR_INIT;
	bool same[FPU_SCRIPT_TASKS_MAX];
	struct vx_fpu_task *task;
	int rc = find_task(r, c, s->name, &task);

	if (rc)
		return rc;
	for (unsigned i = 0; i < c->task_count; i++)
		same[i] = vx_fpu_task_process(c->tasks[i]) == vx_fpu_task_process(task);
	rc = vx_fpu_task_exec(task, &err);
	if (rc < 0)
		return model_error(r, rc, "exec", &err);
	drop_other_threads(c, same, task);
	return 0;
}

static int run_run(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	const struct fs_stmt *s = stmt->payload;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *task;
	int rc = find_task(r, context, s->name, &task);

	if (rc)
		return rc;
	rc = vx_fpu_task_schedule(task, s->number, &err);
	if (rc < 0)
		return model_error(r, rc, "schedule", &err);
	rc = vx_fpu_task_return_to_user(task, &err);
	return rc < 0 ? model_error(r, rc, "return to user", &err) : 0;
}

static int run_prctl(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = stmt->payload;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *task;
	uint64_t user = 0;
	bool get = s->option != VX_ARCH_REQ_XCOMP_PERM && s->option != VX_ARCH_REQ_XCOMP_GUEST_PERM;
	int rc = find_task(r, c, s->name, &task);

	if (rc)
		return rc;
	r->summary->operations++;
	rc = vx_fpu_arch_prctl(task, s->option, s->value, &user, &err);
	c->result = rc < 0 ? rc : get ? (long long)user : 0;
	if (rc < 0)
		r->summary->faults++;
	if (r->options->quiet)
		return 0;
	if (rc < 0)
		fprintf(r->out, "arch_prctl(%s, %#llx) = -%s\n",
			choice_name(prctl_options, s->option), (unsigned long long)s->value,
			choice_name(errnos, (uint64_t)-rc));
	else
		fprintf(r->out, "arch_prctl(%s, %#llx) = %#llx\n",
			choice_name(prctl_options, s->option), (unsigned long long)s->value,
			(unsigned long long)c->result);
	return 0;
}

static int run_use(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = stmt->payload;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_user_result result;
	struct vx_fpu_task *task;
	int rc = find_task(r, c, s->name, &task);

	if (rc)
		return rc;
	r->summary->operations++;
	rc = vx_fpu_task_use(task, s->value, &result, &err);
	if (rc < 0)
		return model_error(r, rc, "use", &err);
	c->signal = result.signal;
	if (result.signal)
		r->summary->faults++;
	if (!r->options->quiet)
		fprintf(r->out, "use %#llx by %s: %s%s%s\n", (unsigned long long)s->value, s->name,
			result.nm_events ? "#NM (XFD), " : "",
			result.retired ? "retired" : "not retired",
			result.signal == VX_SIGILL    ? ", SIGILL"
			: result.signal == VX_SIGSEGV ? ", SIGSEGV"
						      : "");
	return 0;
}

static uint64_t field_value(const struct vx_fpu_task_info *info, const struct vx_fpu_perm *perm,
			    uint64_t field)
{
	switch (field) {
	case F_SIZE:
		return info->fpstate->size;
	case F_USER_SIZE:
		return info->fpstate->user_size;
	case F_XFEATURES:
		return info->fpstate->xfeatures;
	case F_USER_XFEATURES:
		return info->fpstate->user_xfeatures;
	case F_XFD:
		return info->fpstate->xfd;
	case F_NEED_LOAD:
		return info->need_fpu_load;
	case F_LAST_CPU:
		return (uint64_t)(int64_t)info->last_cpu;
	default:
		return perm->state_perm;
	}
}

static void task_state(struct vx_fpu_task *task, struct vx_fpu_task_info *info,
		       struct vx_fpu_perm *perm)
{
	struct vx_fpu_perm guest;

	vx_fpu_task_info(task, info);
	vx_fpu_process_perm(vx_fpu_task_process(task), perm, &guest);
}

static int run_print(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	const struct fs_stmt *s = stmt->payload;
	struct vx_fpu_task_info info;
	struct vx_fpu_perm perm;
	struct vx_fpu_task *task;
	char names[256];
	int rc = find_task(r, context, s->name, &task);

	if (rc)
		return rc;
	task_state(task, &info, &perm);
	fprintf(r->out,
		"task %s: fpstate size %u, user_size %u, xfd %#llx, TIF_NEED_FPU_LOAD %d, "
		"last_cpu %d\n",
		s->name, info.fpstate->size, info.fpstate->user_size,
		(unsigned long long)info.fpstate->xfd, info.need_fpu_load, info.last_cpu);
	fprintf(r->out, "  xfeatures      %#llx %s\n", (unsigned long long)info.fpstate->xfeatures,
		cli_mask_names(info.fpstate->xfeatures, names, sizeof(names)));
	fprintf(r->out, "  user_xfeatures %#llx\n",
		(unsigned long long)info.fpstate->user_xfeatures);
	fprintf(r->out, "  state_perm     %#llx\n", (unsigned long long)perm.state_perm);
	return 0;
}

/* "expectation failed: STATEMENT: what was found", as the cpu expectations say it. */
static int expect_failed(struct sg_runner *r, const struct sg_stmt *stmt, const char *found)
{
	return sg_run_error(r, -EDOM, "expectation failed: %s: %s", stmt->text, found);
}

static int run_expect_task(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	const struct fs_stmt *s = stmt->payload;
	struct vx_fpu_task_info info;
	struct vx_fpu_perm perm;
	struct vx_fpu_task *task;
	char found[64];
	uint64_t got;
	int rc = find_task(r, context, s->name, &task);

	if (rc)
		return rc;
	task_state(task, &info, &perm);
	got = field_value(&info, &perm, s->field);
	if (got == s->value)
		return 0;
	snprintf(found, sizeof(found), "%s is %#llx", choice_name(fields, s->field),
		 (unsigned long long)got);
	return expect_failed(r, stmt, found);
}

static void format_result(char *buf, size_t len, long long value)
{
	if (value < 0)
		snprintf(buf, len, "-%s", choice_name(errnos, (uint64_t)-value));
	else
		snprintf(buf, len, "%#llx", (unsigned long long)value);
}

static int run_expect_result(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	const struct fpu_script_context *c = context;
	const struct fs_stmt *s = stmt->payload;
	char got[32], found[64];

	if (c->result == s->result)
		return 0;
	format_result(got, sizeof(got), c->result);
	snprintf(found, sizeof(found), "arch_prctl returned %s", got);
	return expect_failed(r, stmt, found);
}

static int run_expect_signal(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	const struct fpu_script_context *c = context;
	const struct fs_stmt *s = stmt->payload;
	char found[64];

	if ((uint64_t)c->signal == s->value)
		return 0;
	snprintf(found, sizeof(found), "the signal was %s",
		 choice_name(signals, (uint64_t)c->signal));
	return expect_failed(r, stmt, found);
}

/* ----------------------------------------------------------------------------------------- */
/* The table                                                                                    */

#define TASK_ARG(field, noun)                                                                      \
	{                                                                                          \
		.kind = &fs_kind_name, .what = noun, .to = FS_AT(field)                            \
	}

static const struct sg_row fpu_rows[] = {
    {"fpu", .usage = "fpu machine|process|fork|thread|exec|run|prctl|use|print|expect ...",
     .flags = SG_GROUP, .min_words = 2, .unknown = "unknown fpu statement"},
    {"fpu machine",
     {{.kind = &sg_kind_u32, .what = "a CPU count", .to = FS_AT(number)}},
     "fpu machine CPUS",
     "fpu machine CPUS",
     "boot the FPU framework on the profile and\ncreate CPUS model CPUs (first fpu statement)",
     .run = run_machine},
    {"fpu process",
     {TASK_ARG(name, "task name")},
     "fpu process NAME",
     "fpu process NAME",
     "a new process (as after exec); NAME is its leader",
     .run = run_process},
    {"fpu fork",
     {TASK_ARG(name, "task name"), TASK_ARG(other, "parent")},
     "fpu fork NAME PARENT",
     "fpu fork NAME PARENT",
     "fork() by the running PARENT: NAME leads a new\nprocess, perms copied",
     .run = run_fork},
    {"fpu thread",
     {TASK_ARG(name, "task name"), TASK_ARG(other, "parent")},
     "fpu thread NAME PARENT",
     "fpu thread NAME PARENT",
     "clone(CLONE_THREAD) by the running PARENT",
     .run = run_thread},
    {"fpu exec",
     {TASK_ARG(name, "task")},
     "fpu exec TASK",
     "fpu exec TASK",
     "execve(): fpstate and permissions reset",
     .run = run_exec},
    {"fpu run",
     {TASK_ARG(name, "task"), {.kind = &sg_kind_u32, .what = "a CPU", .to = FS_AT(number)}},
     "fpu run TASK CPU",
     "fpu run TASK CPU",
     "schedule TASK on CPU and return to user",
     .run = run_run},
    {"fpu prctl",
     {TASK_ARG(name, "task"),
      {.kind = &sg_kind_choice,
       .what = "option",
       .to = FS_AT(option),
       .choices = prctl_options,
       .refuse = "unknown arch_prctl option '{}' (get_xcomp_supp, get_xcomp_perm, "
		 "req_xcomp_perm, get_xcomp_guest_perm, req_xcomp_guest_perm)"},
      {.kind = &sg_kind_number, .what = "ARG", .to = FS_AT(value), .flags = SG_OPT}},
     "fpu prctl TASK OPTION [ARG]",
     "fpu prctl TASK OPTION [ARG]",
     "arch_prctl(ARCH_OPTION, ARG) by TASK; prints\nthe result (GET: the value stored)",
     .provides = FS_FACT_RESULT,
     .run = run_prctl},
    {"fpu use",
     {TASK_ARG(name, "task"), {.kind = &sg_kind_mask, .what = "MASK", .to = FS_AT(value)}},
     "fpu use TASK MASK",
     "fpu use TASK MASK",
     "the running TASK uses components MASK in user\nmode (#NM: realloc or SIGILL)",
     .provides = FS_FACT_SIGNAL,
     .run = run_use},
    {"fpu print",
     {TASK_ARG(name, "task")},
     "fpu print TASK",
     "fpu print TASK",
     "the task's fpstate, flags and permissions",
     .run = run_print},
    {"fpu expect",
     {TASK_ARG(name, "task"),
      {.kind = &sg_kind_choice,
       .what = "field",
       .to = FS_AT(field),
       .choices = fields,
       .refuse = "unknown field '{}' (size, user_size, xfeatures, user_xfeatures, xfd, "
		 "need_fpu_load, last_cpu, state_perm)"},
      {.kind = &sg_kind_number, .what = "VALUE", .to = FS_AT(value)}},
     "fpu expect TASK FIELD VALUE",
     "fpu expect TASK FIELD VALUE",
     "a field of fpu print equals VALUE",
     SG_EXPECTATION,
     .run = run_expect_task},
    {"fpu expect result",
     {{.kind = &fs_kind_result, .what = "result", .to = FS_AT(result)}},
     "fpu expect result VALUE|ERRNO",
     "fpu expect result VALUE|ERRNO",
     "the last fpu prctl returned this (EOPNOTSUPP...)",
     SG_EXPECTATION,
     .needs = FS_FACT_RESULT,
     .needs_msg = "'fpu expect result' needs an fpu prctl before it",
     .run = run_expect_result},
    {"fpu expect signal",
     {{.kind = &sg_kind_choice,
       .what = "signal",
       .to = FS_AT(value),
       .choices = signals,
       .refuse = "unknown signal '{}' (none, sigill, sigsegv)"}},
     "fpu expect signal none|sigill|sigsegv",
     "fpu expect signal none|sigill|sigsegv",
     "the signal the last fpu use raised",
     SG_EXPECTATION,
     .needs = FS_FACT_SIGNAL,
     .needs_msg = "'fpu expect signal' needs an fpu use before it",
     .run = run_expect_signal},
};

const struct sg_table fpu_script_table = {
    .name = "fpu",
    .rows = fpu_rows,
    .count = ARRAY_SIZE(fpu_rows),
    .stmt_size = sizeof(struct fs_stmt),
};

void fpu_script_context_clear(struct fpu_script_context *context)
{
	vx_fpu_machine_destroy(context->machine); /* frees every task */
	vx_fpu_system_destroy(context->system);
	context->machine = NULL;
	context->system = NULL;
	context->task_count = 0;
}
