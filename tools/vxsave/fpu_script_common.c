/* SPDX-License-Identifier: MIT */
/*
 * What the fpu statements share (fpu_script_internal.h): the words they accept (choices and
 * kinds), the checks made while parsing, and the run-time helpers - names to tasks, buffers and
 * guests, results for `fpu expect result`, register values.  Reference: docs/fpu-script.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <vxsave/area.h>

#include "fpu_script_internal.h"

/* ----------------------------------------------------------------------------------------- */
/* Words                                                                                        */

const struct sg_choice fs_prctl_options[] = {
    {"get_xcomp_supp", VX_ARCH_GET_XCOMP_SUPP},
    {"get_xcomp_perm", VX_ARCH_GET_XCOMP_PERM},
    {"req_xcomp_perm", VX_ARCH_REQ_XCOMP_PERM},
    {"get_xcomp_guest_perm", VX_ARCH_GET_XCOMP_GUEST_PERM},
    {"req_xcomp_guest_perm", VX_ARCH_REQ_XCOMP_GUEST_PERM},
    {NULL, 0},
};

const struct sg_choice fs_task_fields[] = {
    {"size", F_SIZE},
    {"user_size", F_USER_SIZE},
    {"xfeatures", F_XFEATURES},
    {"user_xfeatures", F_USER_XFEATURES},
    {"xfd", F_XFD},
    {"need_fpu_load", F_NEED_LOAD},
    {"last_cpu", F_LAST_CPU},
    {"state_perm", F_PERM},
    {"cpu", F_CPU},
    {"sas_ss_size", F_SAS_SIZE},
    {"pkru", F_PKRU},
    {"guest_perm", F_GUEST_PERM},
    {NULL, 0},
};

const struct sg_choice fs_guest_fields[] = {
    {"size", G_SIZE},
    {"user_size", G_USER_SIZE},
    {"xfeatures", G_XFEATURES},
    {"user_xfeatures", G_USER_XFEATURES},
    {"xfd", G_XFD},
    {"in_use", G_IN_USE},
    {"enabled", G_ENABLED},
    {"uabi_size", G_UABI_SIZE},
    {"pkru", G_PKRU},
    {NULL, 0},
};

const struct sg_choice fs_signals[] = {
    {"none", 0},
    {"sigill", VX_SIGILL},
    {"sigsegv", VX_SIGSEGV},
    {NULL, 0},
};

/* The errors the modelled calls return (fpu_task.h, fpu_signal.h, fpstate.h). */
const struct sg_choice fs_errnos[] = {
    {"EINVAL", EINVAL}, {"EOPNOTSUPP", EOPNOTSUPP}, {"EBUSY", EBUSY},
    {"ENOSPC", ENOSPC}, {"EFAULT", EFAULT},	    {"EPERM", EPERM},
    {"ESRCH", ESRCH},	{"ENOMEM", ENOMEM},	    {"ENODEV", ENODEV},
    {NULL, 0},
};

/* PTRACE_GETREGSET/SETREGSET notes (linux-fpu.md §7). */
const struct sg_choice fs_regsets[] = {
    {"xstate", VX_NT_X86_XSTATE},
    {"nt_x86_xstate", VX_NT_X86_XSTATE},
    {"fpreg", VX_NT_PRFPREG},
    {"nt_prfpreg", VX_NT_PRFPREG},
    {NULL, 0},
};

const struct sg_choice fs_widths[] = {
    {"u8", 1}, {"u16", 2}, {"u32", 4}, {"u64", 8}, {NULL, 0},
};

/* kernel_fpu_begin_mask()'s mask (linux-fpu.md §8.4): 64-bit kernel_fpu_begin() is mxcsr. */
const struct sg_choice fs_kfpu[] = {
    {"mxcsr", VX_KFPU_MXCSR},
    {"387", VX_KFPU_387},
    {"both", VX_KFPU_MXCSR | VX_KFPU_387},
    {NULL, 0},
};

const struct sg_choice fs_sigreturns[] = {
    {"cleared", VX_SIGRETURN_CLEARED},
    {"xstate", VX_SIGRETURN_XSTATE},
    {"fx-only", VX_SIGRETURN_FX_ONLY},
    {"segv", VX_SIGRETURN_SEGV},
    {NULL, 0},
};

const char *fs_choice_name(const struct sg_choice *choices, uint64_t value)
{
	for (; choices->name; choices++)
		if (choices->value == value)
			return choices->name;
	return "?";
}

/* ----------------------------------------------------------------------------------------- */
/* Kinds                                                                                        */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static int parse_name(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	size_t length = strlen(word);

	if (length == 0 || length >= FPU_SCRIPT_NAME_MAX)
		return sg_fail(p, -EINVAL, "%s '%s' must have 1 to %u characters", spec->what, word,
			       FPU_SCRIPT_NAME_MAX - 1);
	for (size_t i = 0; i < length; i++)
		if (!name_char(word[i]))
			return sg_fail(p, -EINVAL, "bad %s '%s' (letters, digits, '_', '-')",
				       spec->what, word);
	if (dest)
		memcpy(dest, word, length + 1);
	return 0;
}

static void errno_list(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const struct sg_choice *c = fs_errnos; c->name && used < len; c++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", c->name);
}

/* A value or an errno name (stored negative). */
static int parse_result(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			void *dest)
{
	const char *name = word[0] == '-' ? word + 1 : word;
	uint64_t value;
	char names[160];

	for (const struct sg_choice *c = fs_errnos; c->name; c++)
		if (strcasecmp(name, c->name) == 0) {
			*(long long *)dest = -(long long)c->value;
			return 0;
		}
	if (word[0] != '-' && vx_parse_u64(word, strlen(word), &value, NULL) == 0) {
		*(long long *)dest = (long long)value;
		return 0;
	}
	errno_list(names, sizeof(names));
	return sg_fail(p, -EINVAL, "bad %s '%s' (a number or %s)", spec->what, word, names);
}

/*
 * Places in a signal frame or uABI buffer by name: the legacy region and XSAVE header (arch.md
 * §2.2, §3), the software bytes at 464 (struct _fpx_sw_bytes, linux-fpu.md §8.4; a ptrace or
 * KVM buffer has XCR0 in the same bytes, §7.1 step 4) and MAGIC2 at xstate_size.
 */
static const struct {
	const char *name;
	struct fs_at at;
} at_names[] = {
    {"fcw", {0, 2, false}},
    {"fsw", {2, 2, false}},
    {"ftw", {4, 1, false}},
    {"mxcsr", {24, 4, false}},
    {"mxcsr_mask", {28, 4, false}},
    {"magic1", {VX_FPX_SW_BYTES_OFFSET, 4, false}},
    {"extended_size", {VX_FPX_SW_BYTES_OFFSET + 4, 4, false}},
    {"sw_xfeatures", {VX_FPX_SW_BYTES_OFFSET + 8, 8, false}},
    {"xstate_size", {VX_FPX_SW_BYTES_OFFSET + 16, 4, false}},
    {"xcr0", {VX_FPX_SW_BYTES_OFFSET, 8, false}},
    {"xstate_bv", {512, 8, false}},
    {"xcomp_bv", {520, 8, false}},
    {"magic2", {0, VX_FP_XSTATE_MAGIC2_SIZE, true}},
};

static int parse_at(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	struct fs_at at = {0, 0, false};

	for (size_t i = 0; i < FS_ARRAY_SIZE(at_names); i++)
		if (strcasecmp(word, at_names[i].name) == 0) {
			memcpy(dest, &at_names[i].at, sizeof(at));
			return 0;
		}
	if (vx_parse_u64(word, strlen(word), &at.offset, NULL) != 0)
		return sg_fail(p, -EINVAL,
			       "bad %s '%s' (a number, or fcw, fsw, ftw, mxcsr, mxcsr_mask, "
			       "magic1, extended_size, sw_xfeatures, xstate_size, xcr0, "
			       "xstate_bv, xcomp_bv, magic2)",
			       spec->what, word);
	memcpy(dest, &at, sizeof(at));
	return 0;
}

/* sigaltstack's size, or `disable` (SS_DISABLE): the value UINT64_MAX stands for it. */
static int parse_altstack(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			  void *dest)
{
	uint64_t size = UINT64_MAX;

	if (strcasecmp(word, "disable") != 0 &&
	    (vx_parse_u64(word, strlen(word), &size, NULL) != 0 || size == UINT64_MAX))
		return sg_fail(p, -EINVAL, "bad %s '%s' (a size in bytes, or disable)", spec->what,
			       word);
	memcpy(dest, &size, sizeof(size));
	return 0;
}

const struct sg_kind fs_kind_name = {"NAME", parse_name};
const struct sg_kind fs_kind_result = {"VALUE|ERRNO", parse_result};
const struct sg_kind fs_kind_at = {"OFFSET|FIELD", parse_at};
const struct sg_kind fs_kind_altstack = {"SIZE|disable", parse_altstack};

/* ----------------------------------------------------------------------------------------- */
/* Checks while parsing                                                                         */

int fs_check_present(struct sg_parser *p, void *payload)
{
	struct fs_stmt *s = payload;

	for (unsigned i = 0; i < sg_arg_count(p); i++)
		if (sg_word(p, i))
			s->present |= 1u << i;
	return 0;
}

/* The value of `fpu reg`, `fpu expect TASK reg` and the guest's: no wider than the register. */
int fs_check_reg_value(struct sg_parser *p, void *payload)
{
	const struct fs_stmt *s = payload;
	const char *word = sg_word(p, sg_arg_count(p) - 1);

	if (s->reg->width && !s->bytes.all_ones && s->bytes.length > s->reg->width)
		return sg_fail(p, -EINVAL, "value '%.40s%s' has %zu significant bytes, %s holds %u",
			       word, strlen(word) > 40 ? "..." : "", s->bytes.length, s->reg->name,
			       s->reg->width);
	return fs_check_present(p, payload);
}

/* OFFSET needs a width (a field name brings its own); the value must fit in it. */
int fs_check_buffer_value(struct sg_parser *p, void *payload)
{
	struct fs_stmt *s = payload;
	const char *at = sg_word(p, 1);

	if (!s->width)
		s->width = s->at.width;
	if (!s->width)
		return sg_fail(p, -EINVAL, "offset '%s' needs a width: u8, u16, u32 or u64", at);
	if (s->width < 8 && s->value != UINT64_MAX && (s->value >> (8 * s->width)) != 0)
		return sg_fail(p, -EINVAL, "value %#llx does not fit in %llu byte%s at '%s'",
			       (unsigned long long)s->value, (unsigned long long)s->width,
			       s->width == 1 ? "" : "s", at);
	return fs_check_present(p, payload);
}

/* ----------------------------------------------------------------------------------------- */
/* Tasks                                                                                        */

int fs_need_machine(struct sg_runner *r, const struct fpu_script_context *c)
{
	if (!c->machine)
		return sg_run_error(r, -EINVAL, "no machine: 'fpu machine CPUS' must come first");
	return 0;
}

int fs_find_task(struct sg_runner *r, struct fpu_script_context *c, const char *name,
		 struct vx_fpu_task **task)
{
	int rc = fs_need_machine(r, c);

	if (rc)
		return rc;
	for (unsigned i = 0; i < c->task_count; i++)
		if (strcmp(c->names[i], name) == 0) {
			*task = c->tasks[i];
			return 0;
		}
	return sg_run_error(r, -EINVAL, "no task '%s'", name);
}

const char *fs_task_name(const struct fpu_script_context *c, const struct vx_fpu_task *task)
{
	for (unsigned i = 0; i < c->task_count; i++)
		if (c->tasks[i] == task)
			return c->names[i];
	return "?";
}

/* ----------------------------------------------------------------------------------------- */
/* Results                                                                                      */

static const char *errno_text(int code)
{
	const char *name = fs_choice_name(fs_errnos, (uint64_t)-code);

	return name[0] == '?' ? vx_errno_name(code) : name;
}

int fs_model_error(struct sg_runner *r, int rc, const char *what, const struct vx_error *err)
{
	return sg_run_error(r, rc, "%s: %s (%s)", what, errno_text(rc),
			    err->reason[0] ? err->reason : "refused");
}

/* "expectation failed: STATEMENT: what was found", as the cpu expectations say it. */
int fs_expect_failed(struct sg_runner *r, const struct sg_stmt *stmt, const char *found)
{
	return sg_run_error(r, -EDOM, "expectation failed: %s: %s", stmt->text, found);
}

void fs_format_result(char *buf, size_t len, long long value)
{
	if (value < 0)
		snprintf(buf, len, "-%s", errno_text((int)value));
	else
		snprintf(buf, len, "%#llx", (unsigned long long)value);
}

/* A call's outcome for `fpu expect result`; an error counts as a faulted operation. */
void fs_record_result(struct sg_runner *r, struct fpu_script_context *c, const char *what,
		      long long result)
{
	c->result = result;
	c->result_what = what;
	r->summary->operations++;
	if (result < 0)
		r->summary->faults++;
}

/* "CALL = VALUE" or "CALL = -ERRNO (reason)". */
void fs_print_outcome(struct sg_runner *r, const char *call, long long result,
		      const struct vx_error *err)
{
	char text[32];

	if (r->options->quiet)
		return;
	fs_format_result(text, sizeof(text), result);
	if (result < 0 && err && err->reason[0])
		fprintf(r->out, "%s = %s (%s)\n", call, text, err->reason);
	else
		fprintf(r->out, "%s = %s\n", call, text);
}

/* ----------------------------------------------------------------------------------------- */
/* Registers                                                                                    */

size_t fs_reg_width(struct sg_runner *r, const struct fpu_script_context *c,
		    const struct vx_reg_info *reg)
{
	const struct vx_component_info *info = vx_component_info(reg->component);
	uint32_t width = 0;
	int rc = vx_area_field_width(c->profile, reg->component, reg->width, &width, NULL);

	if (rc == -ENOTSUP) {
		sg_run_error(r, -ENOTSUP, "register %s is in component %s, which %s does not have",
			     reg->name, info ? info->name : "?",
			     c->profile->name[0] ? c->profile->name : "this CPU");
		return 0;
	}
	if (rc || width > SG_BYTES_MAX) {
		sg_run_error(r, -E2BIG, "register %s: width %u is not supported here", reg->name,
			     width);
		return 0;
	}
	return width;
}

/* A literal into @width little-endian bytes (all ones: every byte 0xff). */
void fs_widen(const struct sg_bytes *value, uint8_t *out, size_t width)
{
	memset(out, value->all_ones ? 0xff : 0, width);
	if (!value->all_ones)
		memcpy(out, value->bytes, value->length < width ? value->length : width);
}

static void print_number(FILE *out, const uint8_t *bytes, size_t width)
{
	size_t top = width;

	while (top > 1 && bytes[top - 1] == 0)
		top--;
	fputs("0x", out);
	fprintf(out, "%x", bytes[top - 1]);
	for (size_t i = top - 1; i-- > 0;)
		fprintf(out, "%02x", bytes[i]);
}

/* Up to a ZMM register as one number; wider ones (tiles) as rows of bytes in memory order. */
void fs_print_reg(FILE *out, const char *owner, const struct vx_reg_info *reg, const uint8_t *bytes,
		  size_t width)
{
	if (width <= 64) {
		fprintf(out, "%s: %s = ", owner, reg->name);
		print_number(out, bytes, width);
		fputc('\n', out);
		return;
	}
	fprintf(out, "%s: %s (%zu bytes, memory order):\n", owner, reg->name, width);
	for (size_t i = 0; i < width; i++)
		fprintf(out, "%s%02x%s", i % 32 ? "" : "  ", bytes[i],
			i % 32 == 31 || i + 1 == width ? "\n" : "");
}

/* `... reg NAME ==|!= VALUE` against the register's bytes @actual. */
int fs_compare_reg(struct sg_runner *r, const struct sg_stmt *stmt, const uint8_t *actual,
		   size_t width)
{
	const struct fs_stmt *s = FS_STMT(stmt);
	uint8_t wanted[SG_BYTES_MAX];
	char found[160];
	size_t at = 0;

	fs_widen(&s->bytes, wanted, width);
	if ((memcmp(actual, wanted, width) == 0) != s->negate)
		return 0;
	while (at < width && actual[at] == wanted[at])
		at++;
	if (s->negate)
		snprintf(found, sizeof(found), "%s has exactly that value", s->reg->name);
	else
		snprintf(found, sizeof(found), "%s differs at byte %zu: 0x%02x, expected 0x%02x",
			 s->reg->name, at, actual[at], wanted[at]);
	return fs_expect_failed(r, stmt, found);
}

/* ", SIGILL" / ", SIGSEGV" / "" for a user instruction. */
const char *fs_signal_text(const struct vx_fpu_user_result *result)
{
	if (result->signal == VX_SIGILL)
		return ", SIGILL";
	return result->signal == VX_SIGSEGV ? ", SIGSEGV" : "";
}

/* ----------------------------------------------------------------------------------------- */
/* Buffers                                                                                      */

struct fpu_script_buffer *fs_find_buffer(struct fpu_script_context *c, const char *name)
{
	for (unsigned i = 0; i < c->buffer_count; i++)
		if (strcmp(c->buffers[i].name, name) == 0)
			return &c->buffers[i];
	return NULL;
}

static int new_buffer(struct sg_runner *r, struct fpu_script_context *c, const char *name,
		      size_t size, struct fpu_script_buffer **buffer)
{
	struct fpu_script_buffer *b = &c->buffers[c->buffer_count];
	size_t rounded = (size + 63) & ~(size_t)63;

	if (size == 0 || size > FS_BUFFER_MAX)
		return sg_run_error(r, -EINVAL, "buffer '%s': %zu bytes (1 to %u)", name, size,
				    FS_BUFFER_MAX);
	if (c->buffer_count == FPU_SCRIPT_BUFFERS_MAX)
		return sg_run_error(r, -E2BIG, "more than %u buffers", FPU_SCRIPT_BUFFERS_MAX);
	b->bytes = aligned_alloc(64, rounded);
	if (!b->bytes)
		return sg_run_error(r, -ENOMEM, "buffer '%s': out of memory", name);
	memset(b->bytes, 0, rounded);
	b->size = size;
	snprintf(b->name, sizeof(b->name), "%s", name);
	c->buffer_count++;
	*buffer = b;
	return 0;
}

/* The buffer called @name; made zero-filled with @size bytes if there is none. */
int fs_buffer(struct sg_runner *r, struct fpu_script_context *c, const char *name, size_t size,
	      struct fpu_script_buffer **buffer)
{
	*buffer = fs_find_buffer(c, name);
	return *buffer ? 0 : new_buffer(r, c, name, size, buffer);
}

int fs_existing_buffer(struct sg_runner *r, struct fpu_script_context *c, const char *name,
		       struct fpu_script_buffer **buffer)
{
	*buffer = fs_find_buffer(c, name);
	if (!*buffer)
		return sg_run_error(r, -EINVAL, "no buffer '%s'", name);
	return 0;
}

void fs_buffers_clear(struct fpu_script_context *c)
{
	for (unsigned i = 0; i < c->buffer_count; i++)
		free(c->buffers[i].bytes);
	c->buffer_count = 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Guests                                                                                       */

struct fpu_script_guest *fs_guest_of_task(struct fpu_script_context *c,
					  const struct vx_fpu_task *task)
{
	for (unsigned i = 0; i < c->guest_count; i++)
		if (c->guests[i].task == task && c->guests[i].gfpu.fpstate &&
		    c->guests[i].gfpu.fpstate->in_use)
			return &c->guests[i];
	return NULL;
}

/* The vCPU thread exited: its guests stay (KVM frees them with the vCPU), without a task. */
void fs_guests_forget_task(struct fpu_script_context *c, const struct vx_fpu_task *task)
{
	for (unsigned i = 0; i < c->guest_count; i++)
		if (c->guests[i].task == task)
			c->guests[i].task = NULL;
}

/*
 * KVM_RUN ends (the swap back, on a CPU: a preempted vCPU thread is scheduled first) before
 * the vCPU's guest fpstate is freed (linux-fpu.md §6).
 */
static void leave_guest(struct fpu_script_guest *g)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task_info info;

	if (!g->task || !g->gfpu.fpstate || !g->gfpu.fpstate->in_use)
		return;
	vx_fpu_task_info(g->task, &info);
	if (info.cpu < 0 && vx_fpu_task_schedule(g->task, 0, &err) < 0)
		return;
	vx_fpu_swap_kvm_fpstate(g->task, &g->gfpu, false, &err);
}

void fs_guests_clear(struct fpu_script_context *c)
{
	for (unsigned i = 0; i < c->guest_count; i++) {
		struct vx_error err = VX_ERROR_INIT;

		leave_guest(&c->guests[i]);
		vx_fpu_free_guest_fpstate(&c->guests[i].gfpu, &err);
	}
	c->guest_count = 0;
}

void fpu_script_context_clear(struct fpu_script_context *context)
{
	fs_guests_clear(context);
	fs_buffers_clear(context);
	vx_fpu_machine_destroy(context->machine); /* frees every task */
	vx_fpu_system_destroy(context->system);
	context->machine = NULL;
	context->system = NULL;
	context->task_count = 0;
}
