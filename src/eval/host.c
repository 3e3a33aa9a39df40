/* SPDX-License-Identifier: MIT */
/*
 * A host thread in user mode (issue 9): a task after its hand-off, or a VMM thread after KVM_RUN
 * returned to userspace.  It first checks what it sees (check.c: its CPU's PL0-2_SSP and
 * registers, its fpstate, its signal frame and ptrace output hold no guest value), then reads
 * back every register it wrote (each must hold exactly what it last wrote), then writes fresh
 * values.  An AMX task asks ARCH_REQ_XCOMP_PERM on its first step and uses the tiles: the #NM
 * with XFD_ERR grows its fpstate (linux-fpu.md §4, §5.2).
 */
#include <stdio.h>

#include "eval/eval_internal.h"

#define MAX_WIDTH 1024u /* tmm0 */

static uint32_t next_seq(uint32_t seq)
{
	return seq % 0xFFFFFFu + 1; /* 24 bits, never 0 (0 = never written) */
}

/* Slot @s: the task registers (0..3), then tilecfg and tmm0 (4, 5) for AMX users; NULL when
 * @e does not use it. */
static const struct vx_reg_info *slot_reg(const struct ev_world *w, const struct ev_entity *e,
					  unsigned s)
{
	if (s < VX_EVAL_REG_MAX)
		return s < w->ntask_regs ? w->task_regs[s] : NULL;
	return (e->amx && e->amx_started) ? w->amx_regs[s - VX_EVAL_REG_MAX] : NULL;
}

/* ARCH_REQ_XCOMP_PERM(XTILEDATA), then the first tile instruction: #NM, realloc (§4, §5.2). */
static int amx_start(struct ev_world *w, struct ev_entity *e, struct vx_error *err)
{
	struct vx_error local = VX_ERROR_INIT;
	struct vx_fpu_user_result res;
	int rc;

	e->amx_started = true;
	if (vx_fpu_arch_prctl(e->task, VX_ARCH_REQ_XCOMP_PERM, VX_ARCH_XCOMP_TILEDATA, NULL,
			      &local) != 0) {
		/* No AMX on this CPU: the program runs without it. */
		w->res->amx_available = false;
		e->amx = false;
		return 0;
	}
	rc = vx_fpu_task_use(e->task, EV_AMX_MASK, &res, err);
	if (rc)
		return rc;
	if (!res.retired)
		return vx_error_set(
		    err, -EIO, "linux-fpu.md §5.2",
		    "task %u: the first AMX instruction after the permission did not "
		    "retire (signal %d)",
		    e->index, res.signal);
	return 0;
}

static int check_slot(struct ev_world *w, struct ev_entity *e, unsigned s,
		      const struct vx_reg_info *r, struct vx_error *err)
{
	uint8_t want[MAX_WIDTH], got[MAX_WIDTH];
	char owner[VX_EVAL_NAME_MAX], reg[VX_EVAL_REGNAME], name[VX_EVAL_NAME_MAX];
	uint64_t w0, g0, tag = 0;
	int rc = vx_fpu_task_get_reg(e->task, r, got, r->width, err);

	if (rc)
		return rc;
	ev_host_value(e->index, s, e->seq[s], want, r->width);
	if (memcmp(want, got, r->width) == 0)
		return 0;
	memcpy(&w0, want, 8);
	memcpy(&g0, got, 8);
	snprintf(name, sizeof(name), "%s %u", e->kind == EV_TASK ? "task" : "vCPU thread",
		 e->kind == EV_TASK ? e->index : e->vcpu->index);
	if (ev_find_guest_tag(got, r->width, &tag) >= 0) {
		ev_tag_owner(tag, w->guest_reg_names, reg, sizeof(reg), owner, sizeof(owner));
		return ev_violation(w, VX_EVAL_CHECK_HOST_STATE, r->name, name, w0, g0,
				    "read back on CPU %d holds %s's %s", e->cpu, owner, reg);
	}
	return ev_violation(w, VX_EVAL_CHECK_HOST_STATE, r->name, name, w0, g0,
			    "read back on CPU %d is not what it last wrote", e->cpu);
}

static int write_slot(struct ev_world *w, struct ev_entity *e, unsigned s,
		      const struct vx_reg_info *r, struct vx_error *err)
{
	uint8_t value[MAX_WIDTH];
	struct vx_fpu_user_result res;
	int rc;

	e->seq[s] = next_seq(e->seq[s]);
	ev_host_value(e->index, s, e->seq[s], value, r->width);
	rc = vx_fpu_task_set_reg(e->task, r, value, r->width, &res, err);
	if (rc == 0 && !res.retired)
		rc = vx_error_set(err, -EIO, NULL, "a user write of %s did not retire: %s", r->name,
				  res.event.reason);
	(void)w;
	return rc;
}

int ev_user_mode(struct ev_world *w, struct ev_entity *e, struct vx_error *err)
{
	int rc = 0;

	w->c.returns_to_user++;
	if (e->amx && !e->amx_started && (rc = amx_start(w, e, err)) != 0)
		return rc;
	if (ev_check_host_view(w, e, err))
		return 1;
	for (unsigned s = 0; s < EV_HOST_SLOTS && rc == 0; s++)
		if (slot_reg(w, e, s))
			rc = check_slot(w, e, s, slot_reg(w, e, s), err);
	for (unsigned s = 0; s < EV_HOST_SLOTS && rc == 0; s++)
		if (slot_reg(w, e, s))
			rc = write_slot(w, e, s, slot_reg(w, e, s), err);
	return rc;
}

/* A task's step: it was switched in (sched.c); it returns to user mode and runs. */
int ev_host_step(struct ev_world *w, struct ev_entity *e, struct vx_error *err)
{
	int rc = vx_kvm_return_to_user(w->kvm, e->task, err);

	return rc ? rc : ev_user_mode(w, e, err);
}
