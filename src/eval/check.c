/* SPDX-License-Identifier: MIT */
/*
 * Integrity checks (issue 9 "Integrity checks", docs/eval.md "Integrity").  Every value a task
 * or a guest writes is a tag that says whose it is (eval_internal.h), so a value found in the
 * wrong place names its owner and register.  While a host task (or a VMM thread after an exit
 * to userspace) runs in user mode, its CPU must hold no guest value: PL0-2_SSP are the host's 0
 * (host supervisor shadow stacks are off, kvm.md §6.3) and no user register holds a guest tag;
 * its fpstate, the signal frame it would get (linux-fpu.md §8.4) and its NT_X86_XSTATE
 * (§7.1) hold none either.  The first failure is recorded as a violation and stops the run.
 */
#include <stdarg.h>
#include <stdio.h>

#include <vxsave/fpu_signal.h>

#include "eval/eval_internal.h"

/* ----------------------------------------------------------------------------------------- */
/* Tags                                                                                         */

uint64_t ev_guest_tag(unsigned vcpu, unsigned code, uint32_t seq)
{
	return EV_GUEST_MARKER << 40 | (uint64_t)((vcpu + 1) & 0xFFF) << 28 |
	       (uint64_t)(code & 0xF) << 24 | (uint64_t)(seq & EV_SEQ_MASK) << 3;
}

bool ev_tag_decode(uint64_t v, unsigned *vcpu, unsigned *code, uint32_t *seq)
{
	if ((v >> 40) != EV_GUEST_MARKER || (v & 7) || !((v >> 28) & 0xFFF))
		return false;
	*vcpu = (unsigned)((v >> 28) & 0xFFF) - 1;
	*code = (unsigned)((v >> 24) & 0xF);
	*seq = (uint32_t)(v >> 3) & EV_SEQ_MASK;
	return true;
}

/*
 * Bit 23 of a written host lane is always set (the sequence number keeps 23 bits): the scan
 * reads 8 bytes at every 4-byte offset, and the 8 bytes that straddle one register's last lane
 * and the next register's lane 0 take their top three bytes from bits 8-31 of that lane 0 -
 * which, for a sequence number 0x7E00-0x7EFF, would spell a guest tag's marker (0x00007E) and
 * stop the run on a violation that did not happen.  With bit 23 set they never can.
 */
uint64_t ev_host_lane(unsigned entity, unsigned slot, unsigned lane, uint32_t seq)
{
	return EV_HOST_MARKER << 56 | (uint64_t)(entity & 0xFFFFF) << 36 |
	       (uint64_t)(slot & 0xF) << 32 | (uint64_t)(lane & 0xFF) << 24 | 0x800000u |
	       (seq & 0x7FFFFFu);
}

void ev_host_value(unsigned entity, unsigned slot, uint32_t seq, uint8_t *buf, size_t width)
{
	memset(buf, 0, width);
	for (size_t lane = 0; seq && lane * 8 < width; lane++) {
		uint64_t v = ev_host_lane(entity, slot, (unsigned)lane, seq);

		memcpy(buf + lane * 8, &v, 8);
	}
}

void ev_guest_value(unsigned vcpu, unsigned code, uint32_t seq, uint8_t *buf, size_t width)
{
	uint64_t v = ev_guest_tag(vcpu, code, seq);

	memset(buf, 0, width);
	for (size_t lane = 0; seq && lane * 8 < width; lane++)
		memcpy(buf + lane * 8, &v, 8);
}

/* Byte 5 of a tag (little-endian) is the marker: memchr() finds the candidates fast. */
long ev_find_guest_tag(const uint8_t *bytes, size_t len, uint64_t *tag)
{
	const uint8_t *p = bytes + 5, *end = bytes + len;

	while (len >= 8 && p + 3 <= end &&
	       (p = memchr(p, (int)EV_GUEST_MARKER, (size_t)(end - 2 - p)))) {
		size_t at = (size_t)(p - bytes) - 5;
		unsigned vcpu, code;
		uint32_t seq;
		uint64_t v;

		p++;
		if (at % 4)
			continue;
		memcpy(&v, bytes + at, 8);
		if (ev_tag_decode(v, &vcpu, &code, &seq)) {
			*tag = v;
			return (long)at;
		}
	}
	return -1;
}

static const char *const pl_names[3] = {"pl0_ssp", "pl1_ssp", "pl2_ssp"};
static const char *const pl_msrs[3] = {"IA32_PL0_SSP", "IA32_PL1_SSP", "IA32_PL2_SSP"};

void ev_tag_owner(uint64_t tag, const char *const *guest_regs, char *reg, size_t reglen,
		  char *owner, size_t ownerlen)
{
	unsigned vcpu = 0, code = 0;
	uint32_t seq = 0;

	if (!ev_tag_decode(tag, &vcpu, &code, &seq)) {
		snprintf(reg, reglen, "?");
		snprintf(owner, ownerlen, "nobody");
		return;
	}
	snprintf(owner, ownerlen, "vCPU %u", vcpu);
	if (code < EV_CODE_REG)
		snprintf(reg, reglen, "%s", pl_names[code]);
	else
		snprintf(reg, reglen, "%s", guest_regs[code] ? guest_regs[code] : "?");
}

/* ----------------------------------------------------------------------------------------- */
/* Violations and history                                                                       */

/* One line per step in a ring of VX_EVAL_HISTORY (no memmove per step). */
void ev_history_add(struct ev_world *w, const struct ev_hist *h)
{
	if (w->nhist == VX_EVAL_HISTORY) {
		w->hist[w->hist_head] = *h;
		w->hist_head = (w->hist_head + 1) % VX_EVAL_HISTORY;
		return;
	}
	w->hist[(w->hist_head + w->nhist++) % VX_EVAL_HISTORY] = *h;
}

struct ev_hist *ev_history_last(struct ev_world *w)
{
	return &w->hist[(w->hist_head + w->nhist - 1) % VX_EVAL_HISTORY];
}

static void render_history(const struct ev_world *w, struct vx_eval_violation *v)
{
	v->nhistory = w->nhist;
	for (unsigned i = 0; i < w->nhist; i++) {
		const struct ev_hist *h = &w->hist[(w->hist_head + i) % VX_EVAL_HISTORY];
		const struct ev_entity *e = &w->ents[h->entity];

		if (e->kind == EV_TASK)
			snprintf(v->history[i], sizeof(v->history[i]),
				 "step %llu: task %u on CPU %u, returns to user",
				 (unsigned long long)h->step, e->index, h->cpu);
		else
			snprintf(v->history[i], sizeof(v->history[i]),
				 "step %llu: vCPU %u's thread on CPU %u, %u guest instructions, "
				 "%u exits to userspace",
				 (unsigned long long)h->step, e->vcpu->index, h->cpu,
				 h->instructions, h->exits_user);
	}
}

int ev_violation(struct ev_world *w, enum vx_eval_check check, const char *reg, const char *owner,
		 uint64_t expected, uint64_t observed, const char *fmt, ...)
{
	struct vx_eval_violation *v = &w->res->violation;
	char where[sizeof(v->where)];
	va_list ap;

	if (w->violations++)
		return 1;
	va_start(ap, fmt);
	vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
	v->check = check;
	v->step = w->step;
	v->seed = w->seed;
	v->design = w->design;
	v->expected = expected;
	v->observed = observed;
	snprintf(v->reg, sizeof(v->reg), "%s", reg);
	snprintf(v->owner, sizeof(v->owner), "%s", owner);
	snprintf(v->where, sizeof(v->where), "%s", where);
	snprintf(v->text, sizeof(v->text),
		 "%s check failed in design %s, seed 0x%llx, step %llu: %s's %s 0x%llx (expected "
		 "0x%llx) %s",
		 vx_eval_check_name(check), vx_kvm_cet_design_name(w->design),
		 (unsigned long long)w->seed, (unsigned long long)w->step, owner, reg,
		 (unsigned long long)observed, (unsigned long long)expected, where);
	render_history(w, v);
	return 1;
}

/* ----------------------------------------------------------------------------------------- */
/* Locating a byte in an image                                                                  */

static const char *legacy_reg(long off, char *buf, size_t len)
{
	if (off < 160)
		snprintf(buf, len, "x87 state");
	else if (off < 416)
		snprintf(buf, len, "xmm%ld", (off - 160) / 16);
	else
		snprintf(buf, len, "legacy-region byte %ld", off);
	return buf;
}

void ev_locate(const struct ev_world *w, bool compacted, uint64_t xcomp_bv, long off, char *buf,
	       size_t len)
{
	char legacy[32];

	if (off < 512) {
		snprintf(buf, len, "byte 0x%lx (%s)", off, legacy_reg(off, legacy, sizeof(legacy)));
		return;
	}
	for (unsigned id = 2; id < VX_FPU_XFEATURE_MAX; id++) {
		struct vx_fpu_xstate_info info;
		uint32_t at =
		    compacted
			? vx_fpu_xfeature_offset(w->sys, xcomp_bv, id)
			: (vx_fpu_xstate_info(w->sys, id, &info) ? info.offset : VX_FPU_NO_OFFSET);

		if (at == VX_FPU_NO_OFFSET || !vx_fpu_xstate_info(w->sys, id, &info))
			continue;
		if ((uint64_t)off >= at && (uint64_t)off < (uint64_t)at + info.size) {
			snprintf(buf, len, "byte 0x%lx (component %u, %s)", off, id,
				 vx_fpu_xfeature_name(w->sys, id));
			return;
		}
	}
	snprintf(buf, len, "byte 0x%lx", off);
}

/* ----------------------------------------------------------------------------------------- */
/* The host's view                                                                              */

static const char *who(const struct ev_entity *e, char *buf, size_t len)
{
	if (e->kind == EV_TASK)
		snprintf(buf, len, "task %u", e->index);
	else
		snprintf(buf, len, "vCPU %u's thread", e->vcpu->index);
	return buf;
}

static int found_tag(struct ev_world *w, enum vx_eval_check check, uint64_t tag, const char *where)
{
	char reg[VX_EVAL_REGNAME], owner[VX_EVAL_NAME_MAX];

	ev_tag_owner(tag, w->guest_reg_names, reg, sizeof(reg), owner, sizeof(owner));
	return ev_violation(w, check, reg, owner, 0, tag, "%s", where);
}

/* PL0-2_SSP of the CPU: the host's 0 while user code runs (kvm.md §6.3). */
static int check_msrs(struct ev_world *w, const struct ev_entity *e, struct vx_cpu *cpu)
{
	char where[256], name[48];
	unsigned vcpu, code;
	uint32_t seq;

	for (unsigned l = 0; l < 3; l++) {
		uint64_t v = 0;

		if (vx_cpu_msr_access(cpu, VX_MSR_HOST, VX_MSR_READ, VX_MSR_IA32_PL0_SSP + l, &v,
				      NULL) != 0 ||
		    v == 0)
			continue;
		snprintf(where, sizeof(where), "in CPU %d's %s while %s runs in user mode", e->cpu,
			 pl_msrs[l], who(e, name, sizeof(name)));
		if (ev_tag_decode(v, &vcpu, &code, &seq))
			return found_tag(w, VX_EVAL_CHECK_MSR, v, where);
		return ev_violation(w, VX_EVAL_CHECK_MSR, pl_names[l], "an unknown writer", 0, v,
				    "%s", where);
	}
	return 0;
}

/*
 * The first guest tag in the standard image's bytes of @mask: the legacy region and header,
 * then each run of components that lie back to back (a run is scanned as one range, as the
 * whole image was before).
 */
static long find_in_components(const struct ev_world *w, uint64_t mask, uint64_t *tag)
{
	uint32_t start = 0, end = VX_EXTENDED_OFFSET;
	long off;

	for (uint64_t m = mask & ~UINT64_C(3); m; m &= m - 1) {
		unsigned i = (unsigned)__builtin_ctzll(m);

		if (w->std_offset[i] != end) {
			if ((off = ev_find_guest_tag(w->scratch + start, end - start, tag)) >= 0)
				return off + (long)start;
			start = w->std_offset[i];
		}
		end = w->std_offset[i] + w->std_size[i];
	}
	off = ev_find_guest_tag(w->scratch + start, end - start, tag);
	return off < 0 ? -1 : off + (long)start;
}

/*
 * Every user register of the CPU, as XSAVE would store them (standard format).  Only the
 * components in use can hold anything but their initial zeros (arch.md §4, §6: XINUSE[i] = 0
 * means component i is in its initial configuration), so only those are imaged and scanned -
 * x87 and SSE always; an XFD-armed component keeps its XINUSE bit and is scanned too.
 */
static int check_registers(struct ev_world *w, const struct ev_entity *e, struct vx_cpu *cpu)
{
	char where[256], at[64], name[48];
	uint64_t tag = 0;
	uint64_t mask = (vx_cpu_xinuse(cpu) | UINT64_C(3)) & vx_cpu_xcr0(cpu) & w->std_user;
	long off;

	if (vx_cpu_to_standard_image(cpu, mask, w->scratch, w->scratch_len) != 0)
		return 0;
	off = find_in_components(w, mask, &tag);
	if (off < 0)
		return 0;
	ev_locate(w, false, 0, off, at, sizeof(at));
	snprintf(where, sizeof(where), "in CPU %d's registers, %s, while %s runs in user mode",
		 e->cpu, at, who(e, name, sizeof(name)));
	return found_tag(w, VX_EVAL_CHECK_REGISTERS, tag, where);
}

static int scan(struct ev_world *w, enum vx_eval_check check, const struct ev_entity *e,
		const uint8_t *bytes, size_t len, bool compacted, uint64_t xcomp_bv,
		const char *what)
{
	char where[256], at[64], name[48];
	uint64_t tag = 0;
	long off = ev_find_guest_tag(bytes, len, &tag);

	if (off < 0)
		return 0;
	ev_locate(w, compacted, xcomp_bv, off, at, sizeof(at));
	snprintf(where, sizeof(where), "in %s's %s at %s", who(e, name, sizeof(name)), what, at);
	return found_tag(w, check, tag, where);
}

static uint64_t image_xcomp_bv(const struct vx_fpstate *fps)
{
	uint64_t v;

	memcpy(&v, fps->regs + 520, 8);
	return v;
}

/* The signal frame a signal would get now and what a tracer would read (§8.4, §7.1). */
static int check_deep(struct ev_world *w, const struct ev_entity *e, struct vx_cpu *cpu,
		      const struct vx_fpu_task_info *info)
{
	struct vx_error err = VX_ERROR_INIT;
	size_t len = w->scratch_len;
	uint32_t size = vx_fpu_sigframe_size(w->sys, info->fpstate);

	/* Bytes XSAVE does not write keep what was there: zero the frame's bytes only. */
	memset(w->scratch, 0, size < w->scratch_len ? size : w->scratch_len);
	if (vx_fpu_copy_fpstate_to_sigframe(w->sys, cpu, info->fpstate, info->pkru, w->scratch,
					    w->scratch_len, &err) == 0 &&
	    scan(w, VX_EVAL_CHECK_SIGFRAME, e, w->scratch, size, false, 0, "signal frame"))
		return 1;
	if (vx_fpu_ptrace_getregset(w->sys, info->fpstate, info->pkru, VX_NT_X86_XSTATE, w->scratch,
				    &len, &err) == 0 &&
	    scan(w, VX_EVAL_CHECK_PTRACE, e, w->scratch, len, false, 0, "NT_X86_XSTATE"))
		return 1;
	return 0;
}

int ev_check_host_view(struct ev_world *w, struct ev_entity *e, struct vx_error *err)
{
	struct vx_cpu *cpu = vx_fpu_machine_cpu(w->machine, (unsigned)e->cpu);
	const struct vx_fpu_insns *insns = vx_fpu_insns(w->sys);
	struct vx_fpu_task_info info;
	unsigned every = w->wl->deep_check_every;

	(void)err;
	vx_fpu_task_info(e->task, &info);
	if (check_msrs(w, e, cpu) || check_registers(w, e, cpu))
		return 1;
	if (scan(w, VX_EVAL_CHECK_FPSTATE, e, info.fpstate->regs, info.fpstate->size,
		 insns->compacted, image_xcomp_bv(info.fpstate), "fpstate"))
		return 1;
	w->user_returns++;
	if (every && w->user_returns % every == 0)
		return check_deep(w, e, cpu, &info);
	return 0;
}
