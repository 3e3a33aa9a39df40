/* SPDX-License-Identifier: MIT */
/*
 * The fpu statements about what user space sees of the FPU state outside the registers
 * (fpu_script_internal.h): named buffers (made, mutated, printed, checked), signal delivery
 * into a frame and sigreturn from it (linux-fpu.md §8.4, §12), and the ptrace regsets
 * NT_X86_XSTATE and NT_PRFPREG (§7, §12).  Reference: docs/fpu-script.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fpu_script_internal.h"

/* ----------------------------------------------------------------------------------------- */
/* Buffers                                                                                      */

static uint64_t load_le(const uint8_t *bytes, size_t width)
{
	uint64_t value = 0;

	for (size_t i = width; i-- > 0;)
		value = value << 8 | bytes[i];
	return value;
}

static void store_le(uint8_t *bytes, size_t width, uint64_t value)
{
	for (size_t i = 0; i < width; i++)
		bytes[i] = (uint8_t)(value >> (8 * i));
}

/* A fresh zero-filled buffer (an existing one of that name is replaced). */
FS_RUN(fs_run_buffer)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct fpu_script_buffer *b = fs_find_buffer(c, s->name);

	if (b) {
		free(b->bytes);
		*b = c->buffers[--c->buffer_count];
	}
	return fs_buffer(r, c, s->name, s->value, &b);
}

/* Where @s's place is in @b: MAGIC2 sits at the xstate_size of the software bytes (§8.4). */
static int place(struct sg_runner *r, const struct fpu_script_buffer *b, const struct fs_stmt *s,
		 uint64_t *offset)
{
	struct vx_fpx_sw_bytes sw;

	*offset = s->at.offset;
	if (s->at.magic2 && !vx_fpx_sw_bytes_read(b->bytes, b->size, &sw))
		return sg_run_error(r, -ERANGE,
				    "buffer '%s' (%zu bytes) has no software bytes: magic2 is at "
				    "the xstate_size at byte 480",
				    b->name, b->size);
	if (s->at.magic2)
		*offset = sw.xstate_size;
	if (*offset > b->size || s->width > b->size - *offset)
		return sg_run_error(
		    r, -ERANGE, "%llu bytes at %#llx are outside buffer '%s' (%zu bytes)",
		    (unsigned long long)s->width, (unsigned long long)*offset, b->name, b->size);
	return 0;
}

FS_RUN(fs_run_poke)
{
	const struct fs_stmt *s = FS_STMT(stmt);
	struct fpu_script_buffer *b;
	uint64_t offset = 0;
	int rc = fs_existing_buffer(r, context, s->name, &b);

	if (rc == 0)
		rc = place(r, b, s, &offset);
	if (rc == 0)
		store_le(b->bytes + offset, s->width, s->value);
	return rc;
}

FS_RUN(fs_run_expect_buffer)
{
	const struct fs_stmt *s = FS_STMT(stmt);
	struct fpu_script_buffer *b;
	uint64_t offset = 0, got, mask;
	char found[96];
	int rc = fs_existing_buffer(r, context, s->name, &b);

	if (rc == 0)
		rc = place(r, b, s, &offset);
	if (rc)
		return rc;
	mask = s->width == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * s->width)) - 1;
	got = load_le(b->bytes + offset, s->width) & (s->has_select ? s->select : mask);
	if (got == (s->value & mask))
		return 0;
	snprintf(found, sizeof(found), "%s+%#llx is %#llx", b->name, (unsigned long long)offset,
		 (unsigned long long)got);
	return fs_expect_failed(r, stmt, found);
}

static void print_header(FILE *out, const struct fpu_script_buffer *b)
{
	struct vx_fpx_sw_bytes sw;
	uint64_t bv = load_le(b->bytes + 512, 8);
	char names[256];

	vx_fpx_sw_bytes_read(b->bytes, b->size, &sw);
	/* a regset or KVM buffer has XCR0 where a frame has magic1 (linux-fpu.md §7.1 step 4) */
	if (sw.magic1 != VX_FP_XSTATE_MAGIC1)
		fprintf(out,
			"  no FP_XSTATE_MAGIC1 at 464; bytes 464-471 (XCR0 in a regset or KVM "
			"buffer): %#llx\n",
			(unsigned long long)load_le(b->bytes + VX_FPX_SW_BYTES_OFFSET, 8));
	else
		fprintf(out,
			"  software bytes: magic1 %#x (FP_XSTATE_MAGIC1), extended_size %u, "
			"xfeatures %#llx, xstate_size %u\n",
			sw.magic1, sw.extended_size, (unsigned long long)sw.xfeatures,
			sw.xstate_size);
	if (sw.magic1 == VX_FP_XSTATE_MAGIC1 &&
	    sw.xstate_size <= b->size - VX_FP_XSTATE_MAGIC2_SIZE) {
		uint32_t magic2 = (uint32_t)load_le(b->bytes + sw.xstate_size, 4);

		fprintf(out, "  MAGIC2 at %u: %#x%s\n", sw.xstate_size, magic2,
			magic2 == VX_FP_XSTATE_MAGIC2 ? " (FP_XSTATE_MAGIC2)" : "");
	}
	if (b->size >= 528)
		fprintf(out, "  XSTATE_BV %#llx %s, XCOMP_BV %#llx\n", (unsigned long long)bv,
			bv ? cli_mask_names(bv, names, sizeof(names)) : "(none)",
			(unsigned long long)load_le(b->bytes + 520, 8));
}

static void dump(FILE *out, const struct fpu_script_buffer *b, uint64_t from, uint64_t length)
{
	for (uint64_t i = 0; i < length; i++)
		fprintf(out, "%s%02x%s", i % 16 ? " " : "", b->bytes[from + i],
			i % 16 == 15 || i + 1 == length ? "\n" : "");
}

static void dump_rows(FILE *out, const struct fpu_script_buffer *b, uint64_t from, uint64_t to)
{
	for (uint64_t row = from; row < to; row += 16) {
		fprintf(out, "  %#06llx: ", (unsigned long long)row);
		dump(out, b, row, to - row < 16 ? to - row : 16);
	}
}

FS_RUN(fs_run_print_buffer)
{
	const struct fs_stmt *s = FS_STMT(stmt);
	struct fpu_script_buffer *b;
	int rc = fs_existing_buffer(r, context, s->name, &b);

	if (rc)
		return rc;
	if ((s->present & (1u << 1)) &&
	    (s->at.offset > b->size || s->value > b->size - s->at.offset))
		return sg_run_error(r, -ERANGE,
				    "%llu bytes at %#llx are outside buffer '%s' (%zu bytes)",
				    (unsigned long long)s->value, (unsigned long long)s->at.offset,
				    b->name, b->size);
	fprintf(r->out, "buffer %s: %zu bytes\n", b->name, b->size);
	if (b->size >= VX_FPX_SW_BYTES_OFFSET + VX_FPX_SW_BYTES_SIZE)
		print_header(r->out, b);
	if (s->present & (1u << 1))
		dump_rows(r->out, b, s->at.offset, s->at.offset + s->value);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Signal delivery and sigreturn (linux-fpu.md §8.4, §12)                                       */

/* The running task with its registers loaded (fpregs_restore_userregs), and its CPU. */
static int loaded_task(struct sg_runner *r, struct fpu_script_context *c, const char *name,
		       const char *what, struct vx_fpu_task **task, struct vx_fpu_task_info *info)
{
	struct vx_error err = VX_ERROR_INIT;
	int rc = fs_find_task(r, c, name, task);

	if (rc)
		return rc;
	rc = vx_fpu_task_return_to_user(*task, &err);
	if (rc < 0)
		return fs_model_error(r, rc, what, &err);
	vx_fpu_task_info(*task, info);
	return 0;
}

/* The PKRU the frame records: the live register (switched eagerly, §8.3), when PKRU is used. */
static uint32_t live_pkru(const struct fpu_script_context *c, struct vx_fpu_task *task)
{
	struct vx_error err = VX_ERROR_INIT;
	uint32_t pkru = 0;

	if (vx_fpu_user_cfg(c->system)->max_features & VX_BIT(VX_COMP_PKRU))
		vx_fpu_task_get_reg(task, vx_reg_lookup("pkru"), &pkru, sizeof(pkru), &err);
	return pkru;
}

/*
 * handle_signal(): copy_fpstate_to_sigframe() into the frame (§8.4), then, once the frame is
 * set up, fpu__clear_user_states() so the handler starts from init.  A frame that cannot be
 * written is -EFAULT with nothing changed (the kernel would kill the task, docs/fpu.md).
 */
FS_RUN(fs_run_signal)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_buffer *b;
	struct vx_fpu_task_info info = {0};
	struct vx_fpu_task *task;
	char call[96];
	int rc = loaded_task(r, c, s->name, "signal", &task, &info);

	if (rc == 0)
		rc = fs_buffer(r, c, s->other, vx_fpu_sigframe_size(c->system, info.fpstate), &b);
	if (rc)
		return rc;
	rc = vx_fpu_copy_fpstate_to_sigframe(c->system, vx_fpu_machine_cpu(c->machine, info.cpu),
					     info.fpstate, live_pkru(c, task), b->bytes, b->size,
					     &err);
	fs_record_result(r, c, "copy_fpstate_to_sigframe", rc);
	snprintf(call, sizeof(call), "signal to %s: frame %s (%zu bytes, needs %u)", s->name,
		 b->name, b->size, vx_fpu_sigframe_size(c->system, info.fpstate));
	fs_print_outcome(r, call, rc, &err);
	if (rc < 0)
		return 0;
	rc = vx_fpu_task_clear_user_states(task, &err);
	return rc < 0 ? fs_model_error(r, rc, "fpu__clear_user_states", &err) : 0;
}

/* fpu__restore_sig() from the frame, or with no frame (fpregs NULL: user states reset). */
FS_RUN(fs_run_sigreturn)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	enum vx_sigreturn_outcome outcome = VX_SIGRETURN_CLEARED;
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_buffer *b = NULL;
	struct vx_fpu_task_info info = {0};
	struct vx_fpu_task *task;
	int rc = loaded_task(r, c, s->name, "sigreturn", &task, &info);

	if (rc == 0 && (s->present & (1u << 1)))
		rc = fs_existing_buffer(r, c, s->other, &b);
	if (rc)
		return rc;
	rc = vx_fpu_restore_sig(c->system, vx_fpu_machine_cpu(c->machine, info.cpu), info.fpstate,
				b ? b->bytes : NULL, b ? b->size : 0, &outcome, &err);
	if (rc < 0)
		return fs_model_error(r, rc, "sigreturn", &err);
	c->sigreturn = (int)outcome;
	c->signal = outcome == VX_SIGRETURN_SEGV ? VX_SIGSEGV : 0;
	r->summary->operations++;
	r->summary->faults += outcome == VX_SIGRETURN_SEGV;
	if (!r->options->quiet)
		fprintf(r->out, "sigreturn by %s from %s: %s%s%s%s\n", s->name,
			b ? b->name : "no frame", vx_sigreturn_outcome_name(outcome),
			c->signal ? ", SIGSEGV" : "", c->signal && err.reason[0] ? ": " : "",
			c->signal ? err.reason : "");
	return 0;
}

FS_RUN(fs_run_expect_sigreturn)
{
	const struct fpu_script_context *c = context;
	char found[64];

	if ((uint64_t)c->sigreturn == FS_STMT(stmt)->value)
		return 0;
	snprintf(found, sizeof(found), "the outcome was %s",
		 vx_sigreturn_outcome_name((enum vx_sigreturn_outcome)c->sigreturn));
	return fs_expect_failed(r, stmt, found);
}

/* ----------------------------------------------------------------------------------------- */
/* ptrace regsets (linux-fpu.md §7.1, §7.2, §12)                                                */

/* iov_len: LEN if given (within the buffer), else the whole buffer. */
static int iov_length(struct sg_runner *r, const struct fs_stmt *s,
		      const struct fpu_script_buffer *b, size_t *len)
{
	*len = s->present & (1u << 3) ? (size_t)s->value : b->size;
	if ((s->present & (1u << 3)) && s->value > b->size)
		return sg_run_error(r, -ERANGE, "length %llu is beyond buffer '%s' (%zu bytes)",
				    (unsigned long long)s->value, b->name, b->size);
	return 0;
}

static void regset_call(char *buf, size_t len, const char *request, const struct fs_stmt *s)
{
	snprintf(buf, len, "ptrace(%s, %s, %s, %s)", request, s->name,
		 s->option == VX_NT_PRFPREG ? "NT_PRFPREG" : "NT_X86_XSTATE", s->other);
}

FS_RUN(fs_run_ptrace_get)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	uint32_t size = 0;
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_buffer *b;
	struct vx_fpu_task *task;
	size_t len = 0;
	char call[96];
	int rc = fs_find_task(r, c, s->name, &task);

	if (rc)
		return rc;
	regset_call(call, sizeof(call), "PTRACE_GETREGSET", s);
	size = vx_fpu_regset_size(c->system, (unsigned)s->option);
	rc = fs_buffer(r, c, s->other, size ? size : 512, &b);
	if (rc == 0)
		rc = iov_length(r, s, b, &len);
	if (rc)
		return rc;
	/* A tracee that runs is not stopped: -ESRCH (ptrace(2), ptrace_check_attach). */
	rc = vx_fpu_task_ptrace_getregset(task, (unsigned)s->option, b->bytes, &len, &err);
	fs_record_result(r, c, "ptrace", rc);
	fs_print_outcome(r, call, rc, &err);
	if (rc == 0 && !r->options->quiet)
		fprintf(r->out, "  %zu bytes written\n", len);
	return 0;
}

FS_RUN(fs_run_ptrace_set)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_buffer *b;
	struct vx_fpu_task_info before, after;
	struct vx_fpu_task *task;
	size_t len = 0;
	char call[96];
	int rc = fs_find_task(r, c, s->name, &task);

	if (rc)
		return rc;
	regset_call(call, sizeof(call), "PTRACE_SETREGSET", s);
	rc = fs_existing_buffer(r, c, s->other, &b);
	if (rc == 0)
		rc = iov_length(r, s, b, &len);
	if (rc)
		return rc;
	/* xstateregs_set()/xfpregs_set() with fpu_force_restore() and thread.pkru (§7.2);
	 * -ESRCH for a tracee that runs. */
	vx_fpu_task_info(task, &before);
	rc = vx_fpu_task_ptrace_setregset(task, (unsigned)s->option, b->bytes, len, &err);
	vx_fpu_task_info(task, &after);
	fs_record_result(r, c, "ptrace", rc);
	fs_print_outcome(r, call, rc, &err);
	if (rc == 0 && after.pkru != before.pkru && !r->options->quiet)
		fprintf(r->out, "  thread.pkru %#x -> %#x\n", before.pkru, after.pkru);
	return 0;
}
