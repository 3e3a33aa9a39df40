/* SPDX-License-Identifier: MIT */
/*
 * Inside the fpu statements (fpu_script.h): the payload every fpu statement carries, the facts
 * and choices the table uses, the helpers the handlers share (fpu_script_common.c) and one run
 * handler per row, by subject: tasks, CPUs and registers (fpu_script_task.c), signal frames,
 * buffers and ptrace (fpu_script_signal.c), guest fpstates (fpu_script_guest.c).  The table
 * itself is fpu_script_table.c.  Reference: docs/fpu-script.md.
 */
#ifndef VXSAVE_CLI_FPU_SCRIPT_INTERNAL_H
#define VXSAVE_CLI_FPU_SCRIPT_INTERNAL_H

#include <vxsave/fpu_signal.h>

#include "fpu_script.h"
#include "script_grammar.h"

#define FS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Largest buffer a script may make (a regset is at most the user max size, ~11 KiB). */
#define FS_BUFFER_MAX (1u << 20)

/* Facts of this table (above the cpu table's bits). */
enum {
	FS_FACT_RESULT = 1u << 8,     /* a call with a result ran: `fpu expect result` may follow */
	FS_FACT_SIGNAL = 1u << 9,     /* a user instruction ran: `fpu expect signal` may follow */
	FS_FACT_SIGRETURN = 1u << 10, /* `fpu expect sigreturn` may follow */
};

/**
 * struct fs_at - where in a buffer: a byte offset, and the width a field name carries (0 for a
 * plain number); @magic2: at the xstate_size the buffer's software bytes hold.
 */
struct fs_at {
	uint64_t offset;
	uint32_t width;
	bool magic2;
};

/**
 * struct fs_stmt - the payload of every fpu statement; each row's arguments store into the
 * fields it names, the rest stay zero.
 * @name:    the task, guest or buffer the statement is about.
 * @other:   a second name (parent, buffer, the guest's task).
 * @number:  a CPU, a CPU count.
 * @option:  a choice (arch_prctl option, regset note, kernel_fpu_begin mask, on/off...).
 * @value:   a number or a mask; @select the `& MASK` of a comparison.
 * @field:   a field choice.
 * @result:  `fpu expect result`'s value or negative errno.
 * @reg, @bytes: a register and a value of its width.
 * @at, @width:  a place in a buffer and u8..u64 (bytes).
 * @negate:  `!=`.  @flag: a marker word was given (strict_sas_size, disable).
 * @present: bit i set when argument i was given (optional arguments).
 */
struct fs_stmt {
	char name[FPU_SCRIPT_NAME_MAX];
	char other[FPU_SCRIPT_NAME_MAX];
	uint32_t number;
	uint64_t option;
	uint64_t value;
	uint64_t select;
	uint64_t field;
	long long result;
	const struct vx_reg_info *reg;
	struct sg_bytes bytes;
	struct fs_at at;
	uint64_t width;
	bool negate;
	bool flag;
	bool has_select;
	unsigned present;
};

#define FS_AT(field)	    SG_AT(struct fs_stmt, field)
#define FS_STMT(stmt)	    ((const struct fs_stmt *)(stmt)->payload)
#define FS_CONTEXT(context) ((struct fpu_script_context *)(context))
#define FS_RUN(name)	    int name(struct sg_runner *r, void *context, const struct sg_stmt *stmt)

/* Fields of a task (`fpu expect TASK FIELD VALUE`) and of a guest (`fpu expect guest`). */
enum fs_task_field {
	F_SIZE,
	F_USER_SIZE,
	F_XFEATURES,
	F_USER_XFEATURES,
	F_XFD,
	F_NEED_LOAD,
	F_LAST_CPU,
	F_PERM,
	F_CPU,
	F_SAS_SIZE,
	F_PKRU,
	F_GUEST_PERM,
	F_TASK_FIELDS
};

enum fs_guest_field {
	G_SIZE,
	G_USER_SIZE,
	G_XFEATURES,
	G_USER_XFEATURES,
	G_XFD,
	G_IN_USE,
	G_ENABLED,
	G_UABI_SIZE,
	G_PKRU,
	G_GUEST_FIELDS
};

/* fpu_script_common.c: choices, kinds, checks */
extern const struct sg_choice fs_prctl_options[], fs_task_fields[], fs_guest_fields[], fs_signals[],
    fs_errnos[], fs_regsets[], fs_widths[], fs_kfpu[], fs_sigreturns[];
extern const struct sg_kind fs_kind_name;     /* a task, guest or buffer name */
extern const struct sg_kind fs_kind_result;   /* long long: a value or an errno name */
extern const struct sg_kind fs_kind_at;	      /* struct fs_at: OFFSET or a field name */
extern const struct sg_kind fs_kind_altstack; /* uint64_t SIZE, or `disable` (flag) */
const char *fs_choice_name(const struct sg_choice *choices, uint64_t value);
int fs_check_present(struct sg_parser *p, void *payload);
int fs_check_reg_value(struct sg_parser *p, void *payload);
int fs_check_buffer_value(struct sg_parser *p, void *payload);

/* fpu_script_common.c: what handlers share */
int fs_need_machine(struct sg_runner *r, const struct fpu_script_context *c);
int fs_check_cpu(struct sg_runner *r, const struct fpu_script_context *c, unsigned cpu);
int fs_find_task(struct sg_runner *r, struct fpu_script_context *c, const char *name,
		 struct vx_fpu_task **task);
const char *fs_task_name(const struct fpu_script_context *c, const struct vx_fpu_task *task);
int fs_model_error(struct sg_runner *r, int rc, const char *what, const struct vx_error *err);
int fs_expect_failed(struct sg_runner *r, const struct sg_stmt *stmt, const char *found);
void fs_format_result(char *buf, size_t len, long long value);
void fs_record_result(struct sg_runner *r, struct fpu_script_context *c, const char *what,
		      long long result);
void fs_print_outcome(struct sg_runner *r, const char *call, long long result,
		      const struct vx_error *err);
size_t fs_reg_width(struct sg_runner *r, const struct fpu_script_context *c,
		    const struct vx_reg_info *reg);
void fs_widen(const struct sg_bytes *value, uint8_t *out, size_t width);
void fs_print_reg(FILE *out, const char *owner, const struct vx_reg_info *reg, const uint8_t *bytes,
		  size_t width);
int fs_compare_reg(struct sg_runner *r, const struct sg_stmt *stmt, const uint8_t *actual,
		   size_t width);
const char *fs_signal_text(const struct vx_fpu_user_result *result);
struct fpu_script_buffer *fs_find_buffer(struct fpu_script_context *c, const char *name);
int fs_buffer(struct sg_runner *r, struct fpu_script_context *c, const char *name, size_t size,
	      struct fpu_script_buffer **buffer);
int fs_existing_buffer(struct sg_runner *r, struct fpu_script_context *c, const char *name,
		       struct fpu_script_buffer **buffer);
void fs_buffers_clear(struct fpu_script_context *c);
void fs_guests_clear(struct fpu_script_context *c);
void fs_guests_forget_task(struct fpu_script_context *c, const struct vx_fpu_task *task);
struct fpu_script_guest *fs_guest_of_task(struct fpu_script_context *c,
					  const struct vx_fpu_task *task);

/* fpu_script_task.c */
FS_RUN(fs_run_machine);
FS_RUN(fs_run_process);
FS_RUN(fs_run_fork);
FS_RUN(fs_run_thread);
FS_RUN(fs_run_exec);
FS_RUN(fs_run_run);
FS_RUN(fs_run_switch);
FS_RUN(fs_run_idle);
FS_RUN(fs_run_return);
FS_RUN(fs_run_kernel_begin);
FS_RUN(fs_run_kernel_end);
FS_RUN(fs_run_prctl);
FS_RUN(fs_run_sigaltstack);
FS_RUN(fs_run_use);
FS_RUN(fs_run_reg);
FS_RUN(fs_run_print);
FS_RUN(fs_run_print_reg);
FS_RUN(fs_run_print_log);
FS_RUN(fs_run_expect_task);
FS_RUN(fs_run_expect_reg);
FS_RUN(fs_run_expect_result);
FS_RUN(fs_run_expect_signal);

/* fpu_script_signal.c */
FS_RUN(fs_run_buffer);
FS_RUN(fs_run_poke);
FS_RUN(fs_run_print_buffer);
FS_RUN(fs_run_expect_buffer);
FS_RUN(fs_run_signal);
FS_RUN(fs_run_sigreturn);
FS_RUN(fs_run_expect_sigreturn);
FS_RUN(fs_run_ptrace_get);
FS_RUN(fs_run_ptrace_set);

/* fpu_script_guest.c */
FS_RUN(fs_run_guest_alloc);
FS_RUN(fs_run_guest_free);
FS_RUN(fs_run_guest_enter);
FS_RUN(fs_run_guest_exit);
FS_RUN(fs_run_guest_enable);
FS_RUN(fs_run_guest_xfd);
FS_RUN(fs_run_guest_reg);
FS_RUN(fs_run_guest_to_uabi);
FS_RUN(fs_run_guest_from_uabi);
FS_RUN(fs_run_print_guest);
FS_RUN(fs_run_print_guest_reg);
FS_RUN(fs_run_expect_guest);
FS_RUN(fs_run_expect_guest_reg);

#endif /* VXSAVE_CLI_FPU_SCRIPT_INTERNAL_H */
