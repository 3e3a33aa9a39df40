/* SPDX-License-Identifier: MIT */
/*
 * The guest programs (issue 9 "vcpu-exits"; docs/eval.md "Guest programs").  A vCPU's program
 * is generated one instruction at a time, so every result is checked: a boot sequence (CR0,
 * CR4, XCR0; with supervisor shadow stacks S_CET and a PL0_SSP write; with AMX the XFD arm),
 * then steady-state instruction k is
 *   - an exit when exit_every divides k + 1: exit x is handled in KVM (XSETBV of the XCR0 in
 *     force, kvm.md §4.2) iff floor((x+1)·p/100) > floor(x·p/100) for p = kernel_exits, and
 *     otherwise returns to userspace (OUT);
 *   - with supervisor shadow stacks, at k % guest_switch_every == 0 and == 1, the guest
 *     kernel's context switch: RDMSR PL0_SSP (checked: it must be what it last wrote), then
 *     WRMSR PL0_SSP with a fresh value;
 *   - otherwise user work at CPL3: an AMX guest first takes its #NM (XFD armed) and disarms
 *     XFD, then the registers rotate, each read back (checked) and written in turn.
 * Values are tags (eval_internal.h): a guest value found anywhere else names its owner.
 */
#include <stdio.h>

#include "eval/eval_internal.h"

#define CR0_ET		VX_BIT(4)
#define CR0_PG		VX_BIT(31)
#define CR4_PAE		VX_BIT(5)
#define S_CET_SH_STK_EN 1u
#define OUT_PORT	0x3f8u /* the serial port a VMM emulates in userspace */
#define MASK_AVX512	(VX_BIT(VX_COMP_OPMASK) | VX_BIT(VX_COMP_ZMM_HI256) | VX_BIT(VX_COMP_HI16_ZMM))

enum gstep {
	G_BOOT = 0,
	G_EXIT_KERNEL,
	G_EXIT_USER,
	G_PL0_READ,
	G_PL0_WRITE,
	G_AMX_NM,
	G_AMX_DISARM,
	G_AMX_USE,
	G_REG_GET,
	G_REG_SET,
	G_IDLE,
};

static uint32_t next_seq(uint32_t seq)
{
	return seq % EV_SEQ_MASK + 1;
}

static struct vx_kvm_guest_op gop(enum vx_kvm_gop kind, unsigned cpl, uint32_t index,
				  uint64_t value)
{
	struct vx_kvm_guest_op op;

	memset(&op, 0, sizeof(op));
	op.op = kind;
	op.cpl = cpl;
	op.index = index;
	op.value = value;
	return op;
}

/* ----------------------------------------------------------------------------------------- */
/* Setup: what the guest can use, its boot sequence                                             */

static unsigned feature(const char *name)
{
	int f = vx_kvm_feature_by_name(name);

	return f < 0 ? 0 : (unsigned)f;
}

/* XCR0 the guest kernel sets: x87, SSE, AVX, AVX-512 (all three), AMX for an AMX guest, and
 * the components of its registers, within guest_supported_xcr0 (kvm.md §4.1). */
static int guest_xcr0(struct ev_vcpu *v, struct vx_error *err)
{
	uint64_t sup = vx_kvm_vcpu_guest_supported_xcr0(v->vcpu) | VX_FPU_MASK_FPSSE;
	uint64_t want = VX_FPU_MASK_FPSSE | (sup & VX_BIT(VX_COMP_AVX));

	if ((sup & MASK_AVX512) == MASK_AVX512)
		want |= MASK_AVX512;
	if (v->amx)
		want |= EV_AMX_MASK;
	for (unsigned i = 0; i < v->nregs; i++) {
		uint64_t bit = VX_BIT(v->regs[i]->component);

		if (!(sup & bit))
			return vx_error_set(err, -EINVAL, "kvm.md §4.1",
					    "guest register %s: component %u is not in the guest's "
					    "supported XCR0 0x%llx on this profile",
					    v->regs[i]->name, v->regs[i]->component,
					    (unsigned long long)sup);
		want |= bit;
	}
	v->xcr0 = want;
	return 0;
}

static void add_boot(struct ev_vcpu *v, struct vx_kvm_guest_op op)
{
	v->boot[v->nboot++] = op;
}

/* The guest kernel's boot: paging and CR0.WP (CR4.CET needs it, kvm.md §7.1), CR4, XCR0, then
 * S_CET and PL0_SSP with shadow stacks, XFD armed for AMX (linux-fpu.md §5). */
static void boot_program(struct ev_vcpu *v, bool xsave)
{
	uint64_t cr4 = CR4_PAE | VX_CR4_OSFXSR;

	if (xsave)
		cr4 |= VX_CR4_OSXSAVE;
	if (v->shstk)
		cr4 |= VX_CR4_CET;
	add_boot(v, gop(VX_KVM_GOP_MOV_CR0, 0, 0, CR0_PG | VX_CR0_WP | CR0_ET | VX_CR0_PE));
	add_boot(v, gop(VX_KVM_GOP_MOV_CR4, 0, 0, cr4));
	if (xsave)
		add_boot(v, gop(VX_KVM_GOP_XSETBV, 0, 0, v->xcr0));
	if (v->shstk) {
		add_boot(v, gop(VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_S_CET, S_CET_SH_STK_EN));
		add_boot(v, gop(VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_PL0_SSP, 0)); /* value at run */
	}
	if (v->amx)
		add_boot(v, gop(VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_XFD, VX_BIT(VX_COMP_XTILEDATA)));
}

int ev_guest_setup(struct ev_world *w, struct ev_vcpu *v, struct vx_error *err)
{
	const struct vx_eval_workload *wl = w->wl;
	bool xsave = vx_kvm_vcpu_cap_has(v->vcpu, feature("xsave"));
	int rc;

	v->shstk = wl->guest_shstk && vx_kvm_vcpu_cap_has(v->vcpu, feature("shstk"));
	v->amx = v->index < wl->amx_vcpus &&
		 (vx_kvm_vcpu_guest_supported_xcr0(v->vcpu) & EV_AMX_MASK) == EV_AMX_MASK;
	if (v->index < wl->amx_vcpus && !v->amx)
		w->res->amx_available = false;
	v->nregs = 0;
	for (unsigned i = 0; i < wl->nguest_regs; i++) {
		v->codes[v->nregs] = EV_CODE_REG + i;
		v->regs[v->nregs++] = ev_writable_reg(wl->guest_regs[i]);
	}
	rc = guest_xcr0(v, err);
	if (rc == 0 && !xsave && v->xcr0 != VX_FPU_MASK_FPSSE)
		rc = vx_error_set(err, -EINVAL, "kvm.md §1.4",
				  "the guest has no XSAVE: only SSE registers can be used");
	if (rc)
		return rc;
	boot_program(v, xsave);
	v->ops[1] = gop(VX_KVM_GOP_HLT, 0, 0, 0);
	v->run.ops = v->ops;
	v->run.count = 2;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* The next instruction                                                                         */

/* Exit x goes to KVM iff floor((x+1)·p/100) > floor(x·p/100): p% of exits, evenly spread. */
static bool kernel_exit(uint64_t x, unsigned percent)
{
	return (x + 1) * percent / 100 > x * percent / 100;
}

static bool amx_ready(const struct ev_vcpu *v)
{
	return v->amx && v->amx_state == EV_AMX_READY;
}

/* The registers the guest rotates through now: its list, and tilecfg once AMX is in use. */
static unsigned work_regs(const struct ev_vcpu *v)
{
	return v->nregs + (amx_ready(v) ? 1 : 0);
}

static enum gstep steady_step(const struct ev_world *w, const struct ev_vcpu *v, unsigned *slot)
{
	const struct vx_eval_workload *wl = w->wl;
	unsigned g = wl->guest_switch_every, n;

	if (wl->exit_every && v->k % wl->exit_every == wl->exit_every - 1)
		return kernel_exit(v->k / wl->exit_every, wl->kernel_exits) ? G_EXIT_KERNEL
									    : G_EXIT_USER;
	if (v->shstk && g && v->k % g <= 1)
		return v->k % g == 0 ? G_PL0_READ : G_PL0_WRITE;
	if (v->amx && v->amx_state != EV_AMX_READY)
		return (enum gstep)(G_AMX_NM + v->amx_state);
	n = work_regs(v);
	if (n == 0)
		return G_IDLE;
	*slot = (unsigned)((v->work / 2) % n);
	return v->work % 2 ? G_REG_SET : G_REG_GET;
}

static const struct vx_reg_info *slot_reg(const struct ev_world *w, const struct ev_vcpu *v,
					  unsigned slot, unsigned *code)
{
	if (slot < v->nregs) {
		*code = v->codes[slot];
		return v->regs[slot];
	}
	*code = EV_CODE_TILECFG;
	return w->amx_regs[0];
}

static void reg_op(struct ev_world *w, struct ev_vcpu *v, unsigned slot, bool set)
{
	unsigned code = 0;
	const struct vx_reg_info *r = slot_reg(w, v, slot, &code);
	struct vx_kvm_guest_op *op = &v->ops[0];

	op->reg = r;
	op->width = r->width;
	if (set) {
		v->reg_seq[slot] = next_seq(v->reg_seq[slot]);
		ev_guest_value(v->index, code, v->reg_seq[slot], op->data, r->width);
	}
}

/* Each step's guest instruction: the op, its privilege level, MSR or port, components. */
static const struct {
	enum vx_kvm_gop op;
	unsigned cpl;
	uint32_t index;
	uint64_t components;
} step_ops[] = {
    [G_EXIT_KERNEL] = {VX_KVM_GOP_XSETBV, 0, 0, 0}, /* the XCR0 in force again */
    [G_EXIT_USER] = {VX_KVM_GOP_OUT, 0, OUT_PORT, 0},
    [G_PL0_READ] = {VX_KVM_GOP_RDMSR, 0, VX_MSR_IA32_PL0_SSP, 0},
    [G_PL0_WRITE] = {VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_PL0_SSP, 0}, /* a fresh value */
    [G_AMX_NM] = {VX_KVM_GOP_USE, 3, 0, EV_AMX_MASK},
    [G_AMX_DISARM] = {VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_XFD, 0},
    [G_AMX_USE] = {VX_KVM_GOP_USE, 3, 0, EV_AMX_MASK},
    [G_REG_GET] = {VX_KVM_GOP_GET_REG, 3, 0, 0},
    [G_REG_SET] = {VX_KVM_GOP_SET_REG, 3, 0, 0},
    [G_IDLE] = {VX_KVM_GOP_USE, 3, 0, VX_BIT(VX_COMP_SSE)},
};

static void fill_op(struct ev_world *w, struct ev_vcpu *v, enum gstep s, unsigned slot)
{
	struct vx_kvm_guest_op *op = &v->ops[0];

	*op = gop(step_ops[s].op, step_ops[s].cpl, step_ops[s].index, 0);
	op->components = step_ops[s].components;
	if (s == G_EXIT_KERNEL)
		op->value = v->xcr0;
	if (s == G_EXIT_USER)
		op->value = v->k & 0xFF;
	if (s == G_PL0_WRITE) {
		v->pl0_seq = next_seq(v->pl0_seq);
		op->value = ev_guest_tag(v->index, EV_CODE_PL0, v->pl0_seq);
	}
	if (s == G_REG_GET || s == G_REG_SET)
		reg_op(w, v, slot, s == G_REG_SET);
}

/* The boot op at boot_pc; the PL0_SSP write gets its value now. */
static void fill_boot(struct ev_vcpu *v)
{
	v->ops[0] = v->boot[v->boot_pc];
	if (v->ops[0].op == VX_KVM_GOP_WRMSR && v->ops[0].index == VX_MSR_IA32_PL0_SSP) {
		v->pl0_seq = next_seq(v->pl0_seq);
		v->ops[0].value = ev_guest_tag(v->index, EV_CODE_PL0, v->pl0_seq);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* Checking one instruction                                                                     */

static uint64_t design_lost(const struct ev_vcpu *v)
{
	struct vx_kvm_design_counters c;

	vx_kvm_vcpu_design_counters(v->vcpu, &c);
	return c.lost;
}

static int unexpected_event(struct ev_world *w, struct ev_vcpu *v, const char *what)
{
	char owner[VX_EVAL_NAME_MAX];

	snprintf(owner, sizeof(owner), "vCPU %u", v->index);
	return ev_violation(
	    w, VX_EVAL_CHECK_GUEST_EVENT, what, owner, 0, v->run.event.vector, "raised %s: %.100s",
	    vx_vector_name(v->run.event.vector) ? vx_vector_name(v->run.event.vector)
						: "an exception",
	    v->run.event.reason);
}

/* A guest value read back that is someone else's: another guest's, or a host's. */
static int foreign(struct ev_world *w, struct ev_vcpu *v, const char *reg, uint64_t want,
		   uint64_t got)
{
	char owner[VX_EVAL_NAME_MAX], oreg[VX_EVAL_REGNAME];
	unsigned vcpu = 0, code = 0;
	uint32_t seq = 0;

	if (ev_tag_decode(got, &vcpu, &code, &seq) && vcpu != v->index) {
		ev_tag_owner(got, w->guest_reg_names, oreg, sizeof(oreg), owner, sizeof(owner));
		return ev_violation(w, VX_EVAL_CHECK_CROSS_GUEST, oreg, owner, want, got,
				    "read back by vCPU %u as its %s", v->index, reg);
	}
	if ((got >> 56) == EV_HOST_MARKER)
		return ev_violation(w, VX_EVAL_CHECK_CROSS_GUEST, reg, "a host task", want, got,
				    "read back by vCPU %u as its %s", v->index, reg);
	return 0;
}

static bool own_or_zero(const struct ev_vcpu *v, uint64_t value)
{
	unsigned vcpu = 0, code = 0;
	uint32_t seq = 0;

	return value == 0 || (ev_tag_decode(value, &vcpu, &code, &seq) && vcpu == v->index &&
			      code == EV_CODE_PL0);
}

/* A PL0_SSP read: what it last wrote; a design that lost it (kvm-user-return) gives back an
 * older value of its own, after the kvm layer counted the loss: a finding, not a failure. */
static int check_pl0(struct ev_world *w, struct ev_vcpu *v)
{
	uint64_t got = v->run.value, lost = design_lost(v);
	char owner[VX_EVAL_NAME_MAX];
	struct vx_eval_loss *l = &w->res->losses;

	if (got == v->pl0_expect)
		return 0;
	if (foreign(w, v, "pl0_ssp", v->pl0_expect, got))
		return 1;
	/* Attributed to the design only after a loss it counted, and only an own value. */
	if (lost > v->lost_seen && own_or_zero(v, got)) {
		if (l->count++ == 0) {
			l->step = w->step;
			l->vcpu = v->index;
			snprintf(l->reg, sizeof(l->reg), "pl0_ssp");
			l->expected = v->pl0_expect;
			l->observed = got;
		}
		v->pl0_expect = got;
		v->lost_seen = lost;
		return 0;
	}
	snprintf(owner, sizeof(owner), "vCPU %u", v->index);
	return ev_violation(w, VX_EVAL_CHECK_GUEST_STATE, "pl0_ssp", owner, v->pl0_expect, got,
			    "read back by the guest is not what it last wrote");
}

static int check_reg(struct ev_world *w, struct ev_vcpu *v, unsigned slot)
{
	unsigned code = 0;
	const struct vx_reg_info *r = slot_reg(w, v, slot, &code);
	uint8_t want[VX_EVAL_GUEST_WIDTH];
	char owner[VX_EVAL_NAME_MAX];
	uint64_t w0, g0;

	ev_guest_value(v->index, code, v->reg_seq[slot], want, r->width);
	if (memcmp(want, v->run.data, r->width) == 0)
		return 0;
	memcpy(&w0, want, 8);
	memcpy(&g0, v->run.data, 8);
	if (foreign(w, v, r->name, w0, g0))
		return 1;
	snprintf(owner, sizeof(owner), "vCPU %u", v->index);
	return ev_violation(w, VX_EVAL_CHECK_GUEST_STATE, r->name, owner, w0, g0,
			    "read back by the guest is not what it last wrote");
}

/* What the instruction's outcome means for the program and the checks. */
static int after_op(struct ev_world *w, struct ev_vcpu *v, enum gstep s, unsigned slot)
{
	bool event = v->run.event.kind != VX_EVENT_NONE;

	/* The AMX first use: the #NM from XFD is reflected to the guest (kvm.md §6.5). */
	if (s == G_AMX_NM) {
		if (event && v->run.event.vector == VX_VEC_NM)
			w->c.guest_nm_events++;
		v->amx_state = event ? EV_AMX_NM_TAKEN : EV_AMX_READY;
		return 0;
	}
	if (event)
		return unexpected_event(w, v, vx_kvm_gop_name(v->ops[0].op));
	if (s == G_AMX_DISARM || s == G_AMX_USE)
		v->amx_state = s == G_AMX_USE ? EV_AMX_READY : EV_AMX_DISARMED;
	if (s == G_PL0_WRITE || (s == G_BOOT && v->ops[0].index == VX_MSR_IA32_PL0_SSP &&
				 v->ops[0].op == VX_KVM_GOP_WRMSR)) {
		v->pl0_expect = v->ops[0].value;
		v->lost_seen = design_lost(v);
	}
	if (s == G_PL0_READ)
		return check_pl0(w, v);
	if (s == G_REG_GET)
		return check_reg(w, v, slot);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Running: one instruction per KVM_RUN call (budget 1), a slice of them per step               */

static void count_op(struct ev_world *w, struct ev_vcpu *v)
{
	uint64_t exits = v->run.vm_exits - v->vm_exits_seen;
	const struct vx_kvm_guest_op *op = &v->ops[0];

	v->vm_exits_seen = v->run.vm_exits;
	w->c.guest_instructions++;
	w->c.exits_kernel += exits;
	if (op->op == VX_KVM_GOP_RDMSR)
		exits ? w->c.guest_msr_read_exits++ : w->c.guest_msr_reads++;
	if (op->op == VX_KVM_GOP_WRMSR)
		exits ? w->c.guest_msr_write_exits++ : w->c.guest_msr_writes++;
}

/* One guest instruction on @cpu; *@user: KVM_RUN returned to userspace. */
static int one_instruction(struct ev_world *w, struct ev_vcpu *v, struct ev_entity *e, unsigned cpu,
			   bool *user, struct vx_error *err)
{
	enum gstep s = G_BOOT;
	unsigned slot = 0;
	int rc;

	if (v->boot_pc < v->nboot) {
		fill_boot(v);
	} else {
		s = steady_step(w, v, &slot);
		fill_op(w, v, s, slot);
	}
	if (!vx_kvm_vcpu_in_run(v->vcpu))
		w->c.kvm_runs++;
	v->run.pc = 0;
	rc = vx_kvm_vcpu_run(v->vcpu, e->task, cpu, &v->run, 1, err);
	if (rc < 0)
		return rc;
	if (s == G_BOOT && v->run.event.kind != VX_EVENT_NONE)
		return vx_error_set(err, -EIO, "docs/eval.md", "vCPU %u's boot: %s raised %s",
				    v->index, vx_kvm_gop_name(v->ops[0].op), v->run.event.reason);
	count_op(w, v);
	*user = rc != VX_KVM_RUN_PREEMPTED;
	if (s == G_BOOT)
		v->boot_pc++;
	else
		v->k++;
	if (s == G_REG_GET || s == G_REG_SET || s == G_IDLE)
		v->work++;
	return after_op(w, v, s, slot);
}

int ev_vcpu_slice(struct ev_world *w, struct ev_entity *e, unsigned cpu, struct vx_error *err)
{
	struct ev_vcpu *v = e->vcpu;
	struct ev_hist *h = ev_history_last(w);
	int rc = 0;

	for (unsigned n = 0; n < w->wl->slice && rc == 0; n++) {
		bool user = false;

		rc = one_instruction(w, v, e, cpu, &user, err);
		h->instructions++;
		if (rc == 0 && user) {
			h->exits_user++;
			w->c.exits_user++;
			rc = ev_user_mode(w, e, err);
		}
	}
	return rc;
}
