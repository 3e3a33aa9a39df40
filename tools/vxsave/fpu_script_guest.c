/* SPDX-License-Identifier: MIT */
/*
 * The fpu statements about KVM's guest fpstates (fpu_script_internal.h): a vCPU's fpstate
 * allocated by a task (its vCPU thread) and freed, swapped in and out around KVM_RUN, grown for
 * XFD features, its XFD, the registers guest code sees, and KVM_GET/SET_XSAVE's uABI copies
 * (linux-fpu.md §3.4, §5.4, §6, §7.1, §7.3; kvm.md §5, §6).  Reference: docs/fpu-script.md.
 */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "fpu_script_internal.h"

/* ----------------------------------------------------------------------------------------- */
/* Names                                                                                        */

static int find_guest(struct sg_runner *r, struct fpu_script_context *c, const char *name,
		      struct fpu_script_guest **guest)
{
	int rc = fs_need_machine(r, c);

	if (rc)
		return rc;
	for (unsigned i = 0; i < c->guest_count; i++)
		if (strcmp(c->guests[i].name, name) == 0) {
			*guest = &c->guests[i];
			return 0;
		}
	return sg_run_error(r, -EINVAL, "no guest '%s'", name);
}

/* The guest and its vCPU thread (gone once another thread's exec ended it). */
static int guest_and_task(struct sg_runner *r, struct fpu_script_context *c, const char *name,
			  struct fpu_script_guest **guest)
{
	int rc = find_guest(r, c, name, guest);

	if (rc == 0 && !(*guest)->task)
		rc =
		    sg_run_error(r, -ESRCH, "guest '%s' has no task: its vCPU thread exited", name);
	return rc;
}

/* KVM_GET/SET_XSAVE are vCPU ioctls outside KVM_RUN: the guest fpstate is saved (kvm.md §6.2). */
static int not_entered(struct sg_runner *r, const struct fpu_script_guest *g)
{
	if (g->gfpu.fpstate->in_use)
		return sg_run_error(r, -EBUSY,
				    "guest '%s' is entered (inside KVM_RUN): 'fpu guest exit %s' "
				    "first",
				    g->name, g->name);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Lifetime and swaps (linux-fpu.md §6)                                                         */

static int new_guest(struct sg_runner *r, struct fpu_script_context *c, const char *name)
{
	for (unsigned i = 0; i < c->guest_count; i++)
		if (strcmp(c->guests[i].name, name) == 0)
			return sg_run_error(r, -EEXIST, "guest '%s' already exists", name);
	if (c->guest_count == FPU_SCRIPT_GUESTS_MAX)
		return sg_run_error(r, -E2BIG, "more than %u guests", FPU_SCRIPT_GUESTS_MAX);
	return 0;
}

/* vCPU creation: guest defaults, uabi_size 4096, the guest permission locked (§4, §6). */
FS_RUN(fs_run_guest_alloc)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct fpu_script_guest *g = &c->guests[c->guest_count];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *task;
	int rc = fs_find_task(r, c, s->other, &task);

	if (rc == 0)
		rc = new_guest(r, c, s->name);
	if (rc)
		return rc;
	memset(g, 0, sizeof(*g));
	rc = vx_fpu_alloc_guest_fpstate(task, &g->gfpu, &err);
	if (rc < 0)
		return fs_model_error(r, rc, "fpu_alloc_guest_fpstate", &err);
	snprintf(g->name, sizeof(g->name), "%s", s->name);
	g->task = task;
	c->guest_count++;
	if (!r->options->quiet)
		fprintf(r->out,
			"guest %s (task %s): fpstate size %u, xfeatures %#llx, uabi_size %u\n",
			g->name, s->other, g->gfpu.fpstate->size,
			(unsigned long long)g->gfpu.fpstate->xfeatures, g->gfpu.uabi_size);
	return 0;
}

/* fpu_free_guest_fpstate(): refused (WARN, -EBUSY) while the fpstate is in use (§6). */
FS_RUN(fs_run_guest_free)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_guest *g;
	char call[64];
	int rc = find_guest(r, c, s->name, &g);

	if (rc)
		return rc;
	rc = vx_fpu_free_guest_fpstate(&g->gfpu, &err);
	fs_record_result(r, c, "fpu_free_guest_fpstate", rc);
	snprintf(call, sizeof(call), "fpu_free_guest_fpstate(%s)", s->name);
	fs_print_outcome(r, call, rc, &err);
	if (rc == 0)
		*g = c->guests[--c->guest_count];
	return 0;
}

static int swap(struct sg_runner *r, struct fpu_script_context *c, const char *name, bool enter)
{
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_guest *g;
	int rc = guest_and_task(r, c, name, &g);

	if (rc)
		return rc;
	rc = vx_fpu_swap_kvm_fpstate(g->task, &g->gfpu, enter, &err);
	return rc < 0 ? fs_model_error(r, rc, "fpu_swap_kvm_fpstate", &err) : 0;
}

FS_RUN(fs_run_guest_enter)
{
	return swap(r, context, FS_STMT(stmt)->name, true);
}

FS_RUN(fs_run_guest_exit)
{
	return swap(r, context, FS_STMT(stmt)->name, false);
}

/* ----------------------------------------------------------------------------------------- */
/* XFD (linux-fpu.md §5.4)                                                                      */

/* KVM_SET_CPUID2 grows the guest fpstate: -EPERM without guest permission. */
FS_RUN(fs_run_guest_enable)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_guest *g;
	char call[80];
	int rc = guest_and_task(r, c, s->name, &g);

	if (rc)
		return rc;
	rc = vx_fpu_enable_guest_xfd_features(g->task, &g->gfpu, s->value, &err);
	fs_record_result(r, c, "fpu_enable_guest_xfd_features", rc);
	snprintf(call, sizeof(call), "fpu_enable_guest_xfd_features(%s, %#llx)", s->name,
		 (unsigned long long)s->value);
	fs_print_outcome(r, call, rc, &err);
	return 0;
}

/* The guest's WRMSR IA32_XFD: loaded at once when its fpstate is in use. */
FS_RUN(fs_run_guest_xfd)
{
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_guest *g;
	int rc = guest_and_task(r, context, s->name, &g);

	if (rc)
		return rc;
	rc = vx_fpu_update_guest_xfd(g->task, &g->gfpu, s->value, &err);
	return rc < 0 ? fs_model_error(r, rc, "fpu_update_guest_xfd", &err) : 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Guest registers                                                                              */

/* Guest code writes a register (supervisor ones such as pl0_ssp too): it may fault. */
FS_RUN(fs_run_guest_reg)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event event = {0};
	uint8_t value[SG_BYTES_MAX];
	struct fpu_script_guest *g;
	size_t width = 0;
	char name[64];
	int rc = guest_and_task(r, c, s->name, &g);

	if (rc == 0 && !(width = fs_reg_width(r, c, s->reg)))
		rc = r->err ? r->err->code : -ENOTSUP;
	if (rc == 0 && !s->bytes.all_ones && s->bytes.length > width)
		rc = sg_run_error(r, -EINVAL, "value has %zu significant bytes, %s holds %zu",
				  s->bytes.length, s->reg->name, width);
	if (rc)
		return rc;
	fs_widen(&s->bytes, value, width);
	rc = vx_fpu_guest_set_reg(g->task, &g->gfpu, s->reg, value, width, &event, &err);
	if (rc < 0)
		return fs_model_error(r, rc, "guest reg", &err);
	r->summary->operations++;
	r->summary->faults += rc == VX_FAULTED;
	if (rc == VX_FAULTED && !r->options->quiet)
		fprintf(r->out, "guest %s: reg %s -> %s: %s\n", s->name, s->reg->name,
			vx_event_name(&event, name, sizeof(name)), event.reason);
	return 0;
}

static int read_guest_reg(struct sg_runner *r, struct fpu_script_context *c,
			  const struct fs_stmt *s, uint8_t *bytes, size_t *width)
{
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_guest *g;
	int rc = guest_and_task(r, c, s->name, &g);

	if (rc)
		return rc;
	*width = fs_reg_width(r, c, s->reg);
	if (!*width)
		return r->err ? r->err->code : -ENOTSUP;
	rc = vx_fpu_guest_get_reg(g->task, &g->gfpu, s->reg, bytes, *width, &err);
	return rc < 0 ? fs_model_error(r, rc, "guest register", &err) : 0;
}

FS_RUN(fs_run_print_guest_reg)
{
	uint8_t bytes[SG_BYTES_MAX];
	size_t width = 0;
	int rc = read_guest_reg(r, context, FS_STMT(stmt), bytes, &width);

	if (rc == 0)
		fs_print_reg(r->out, FS_STMT(stmt)->name, FS_STMT(stmt)->reg, bytes, width);
	return rc;
}

FS_RUN(fs_run_expect_guest_reg)
{
	uint8_t bytes[SG_BYTES_MAX];
	size_t width = 0;
	int rc = read_guest_reg(r, context, FS_STMT(stmt), bytes, &width);

	return rc ? rc : fs_compare_reg(r, stmt, bytes, width);
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_GET_XSAVE2 / KVM_SET_XSAVE (linux-fpu.md §7.1 item 7, §7.3; kvm.md §5.2, §5.3)          */

/*
 * fpu_copy_guest_fpstate_to_uabi() into BUF (made with uabi_size bytes if new).  KVM passes
 * guest_supported_xcr0 | FP|SSE; without MASK the fpstate's user_xfeatures | FP|SSE stand in.
 * PKRU comes from vcpu->arch.pkru (the guest's own copy here), not the fpstate (§7.1 step 5).
 */
FS_RUN(fs_run_guest_to_uabi)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_buffer *b;
	struct fpu_script_guest *g;
	uint64_t xfeatures;
	char call[96];
	int rc = find_guest(r, c, s->name, &g);

	if (rc == 0)
		rc = not_entered(r, g);
	if (rc == 0)
		rc = fs_buffer(r, c, s->other, g->gfpu.uabi_size, &b);
	if (rc)
		return rc;
	xfeatures = s->present & (1u << 2) ? s->value : g->gfpu.fpstate->user_xfeatures | 0x3;
	rc = vx_fpu_copy_guest_fpstate_to_uabi(c->system, g->gfpu.fpstate, b->bytes, b->size,
					       xfeatures, g->pkru, &err);
	fs_record_result(r, c, "fpu_copy_guest_fpstate_to_uabi", rc);
	snprintf(call, sizeof(call), "fpu_copy_guest_fpstate_to_uabi(%s, %s, %#llx)", s->name,
		 b->name, (unsigned long long)xfeatures);
	fs_print_outcome(r, call, rc, &err);
	return 0;
}

/*
 * fpu_copy_uabi_to_guest_fpstate() from BUF with XCR0 = kvm_caps.supported_xcr0 (without it:
 * the user max features stand in).  PKRU's header bit clear leaves the guest's PKRU (§7.3).
 */
FS_RUN(fs_run_guest_from_uabi)
{
	struct fpu_script_context *c = context;
	const struct fs_stmt *s = FS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_buffer *b;
	struct fpu_script_guest *g;
	uint64_t xcr0;
	char call[96];
	int rc = find_guest(r, c, s->name, &g);

	if (rc == 0)
		rc = not_entered(r, g);
	if (rc == 0)
		rc = fs_existing_buffer(r, c, s->other, &b);
	if (rc)
		return rc;
	xcr0 = s->present & (1u << 2) ? s->value : vx_fpu_user_cfg(c->system)->max_features;
	rc = vx_fpu_copy_uabi_to_guest_fpstate(c->system, g->gfpu.fpstate, b->bytes, b->size, xcr0,
					       &g->pkru, &err);
	fs_record_result(r, c, "fpu_copy_uabi_to_guest_fpstate", rc);
	snprintf(call, sizeof(call), "fpu_copy_uabi_to_guest_fpstate(%s, %s, %#llx)", s->name,
		 b->name, (unsigned long long)xcr0);
	fs_print_outcome(r, call, rc, &err);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* print and expect                                                                             */

/* Every field of `fpu expect guest GUEST FIELD`, indexed by enum fs_guest_field. */
static void guest_fields(const struct fpu_script_guest *g, uint64_t *v)
{
	const struct vx_fpstate *fps = g->gfpu.fpstate;

	v[G_SIZE] = fps->size;
	v[G_USER_SIZE] = fps->user_size;
	v[G_XFEATURES] = fps->xfeatures;
	v[G_USER_XFEATURES] = fps->user_xfeatures;
	v[G_XFD] = fps->xfd;
	v[G_IN_USE] = fps->in_use;
	v[G_ENABLED] = g->gfpu.xfeatures;
	v[G_UABI_SIZE] = g->gfpu.uabi_size;
	v[G_PKRU] = g->pkru;
}

FS_RUN(fs_run_print_guest)
{
	struct fpu_script_context *c = context;
	struct fpu_script_guest *g;
	uint64_t v[G_GUEST_FIELDS];
	char names[256];
	int rc = find_guest(r, c, FS_STMT(stmt)->name, &g);

	if (rc)
		return rc;
	guest_fields(g, v);
	fprintf(r->out,
		"guest %s (task %s): fpstate size %llu, user_size %llu, xfd %#llx, in_use %llu\n",
		g->name, g->task ? fs_task_name(c, g->task) : "(exited)",
		(unsigned long long)v[G_SIZE], (unsigned long long)v[G_USER_SIZE],
		(unsigned long long)v[G_XFD], (unsigned long long)v[G_IN_USE]);
	fprintf(r->out, "  xfeatures      %#llx %s\n", (unsigned long long)v[G_XFEATURES],
		cli_mask_names(v[G_XFEATURES], names, sizeof(names)));
	fprintf(r->out, "  user_xfeatures %#llx\n", (unsigned long long)v[G_USER_XFEATURES]);
	fprintf(r->out, "  enabled        %#llx, uabi_size %llu, pkru %#llx\n",
		(unsigned long long)v[G_ENABLED], (unsigned long long)v[G_UABI_SIZE],
		(unsigned long long)v[G_PKRU]);
	return 0;
}

FS_RUN(fs_run_expect_guest)
{
	const struct fs_stmt *s = FS_STMT(stmt);
	struct fpu_script_guest *g;
	uint64_t v[G_GUEST_FIELDS];
	char found[64];
	int rc = find_guest(r, context, s->name, &g);

	if (rc)
		return rc;
	guest_fields(g, v);
	if (v[s->field] == s->value)
		return 0;
	snprintf(found, sizeof(found), "%s is %#llx", fs_choice_name(fs_guest_fields, s->field),
		 (unsigned long long)v[s->field]);
	return fs_expect_failed(r, stmt, found);
}
