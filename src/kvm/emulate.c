/* SPDX-License-Identifier: MIT */
/*
 * KVM's instruction emulator and task switch under CET (kvm.md §7.1), and the guest op that
 * reaches them (VX_KVM_GOP_BRANCH, kvm_emulate.h).
 *
 * One table classifies the instructions as the emulator does: the ShadowStack opcode flag,
 * is_ibt_instruction(), near or far, which ones the emulator runs only in real mode and which
 * load CS through the descriptor path.  With CR4.CET = 1 x86_decode_insn refuses a shadow-stack
 * instruction while SHSTK_EN is set and an IBT instruction while ENDBR_EN is set, reading U_CET
 * (CPL3) or S_CET (CPL0-2) for near branches and both for far ones; the refusal is #UD under the
 * forced-emulation prefix and handle_emulation_failure otherwise.  An instruction the emulator
 * runs has no CET effect to emulate (the refusal leaves only those whose CET feature is off),
 * except the SSP check of a CS load into a 32-bit segment.  Without KVM (no EMULATED/FEP flag)
 * the processor runs the transfer with its CET rules (cpu_cet.h): #CP reaches the guest from
 * the hardware, not from KVM, whose exception tables do not list it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include <vxsave/kvm_emulate.h>

#include "kvm/kvm_internal.h"
#include "kvm/regs_internal.h"

#define NEAR VX_KVM_INSN_NEAR_BRANCH
#define SS   VX_KVM_INSN_SHADOW_STACK
#define IBT  VX_KVM_INSN_IBT
#define REAL VX_KVM_INSN_REAL_MODE
#define CS   VX_KVM_INSN_LOADS_CS
#define TASK VX_KVM_INSN_TASK

#define RULE	 "kvm.md §7.1"
#define EFER_LMA VX_BIT(10)
#define BRANCH_FLAGS                                                                               \
	(VX_KVM_BRANCH_EMULATED | VX_KVM_BRANCH_FEP | VX_KVM_BRANCH_NOTRACK | VX_KVM_BRANCH_COMPAT)

typedef unsigned long long ull;

static const struct vx_kvm_insn_info insns[VX_KVM_INSN_COUNT] = {
    [VX_KVM_INSN_JMP] = {"jmp", NEAR, "direct JMP: neither class (emulate.c:4493-4536)"},
    [VX_KVM_INSN_JMP_INDIRECT] = {"jmp-indirect", NEAR | IBT,
				  "register/memory target: IBT (emulate.c:4493-4536)"},
    [VX_KVM_INSN_JMP_FAR] = {"ljmp", IBT | CS,
			     "far JMP: IBT, counted as indirect; its CS load checks SSP "
			     "(emulate.c:1664-1667)"},
    [VX_KVM_INSN_CALL] = {"call", NEAR | SS, "ShadowStack (emulate.c:4042-4377); direct: not IBT"},
    [VX_KVM_INSN_CALL_INDIRECT] = {"call-indirect", NEAR | SS | IBT, "ShadowStack and IBT"},
    [VX_KVM_INSN_CALL_FAR] = {"lcall", SS | IBT | CS, "ShadowStack and IBT, far; CS load"},
    [VX_KVM_INSN_RET] = {"ret", NEAR | SS, "ShadowStack; no RET is IBT"},
    [VX_KVM_INSN_RET_IMM] = {"ret-imm", NEAR | SS, "ShadowStack; no RET is IBT"},
    [VX_KVM_INSN_RET_FAR] = {"lret", SS | CS, "ShadowStack, far, not IBT; CS load"},
    [VX_KVM_INSN_RET_FAR_IMM] = {"lret-imm", SS | CS, "ShadowStack, far, not IBT; CS load"},
    [VX_KVM_INSN_INT] = {"int", SS | IBT | REAL,
			 "ShadowStack and IBT; em_int emulates real-mode interrupts only"},
    [VX_KVM_INSN_IRET] = {"iret", SS | REAL,
			  "ShadowStack, not IBT; em_iret emulates real mode only (§8.2 item 35)"},
    [VX_KVM_INSN_SYSCALL] = {"syscall", SS | IBT, "ShadowStack and IBT, far"},
    [VX_KVM_INSN_SYSENTER] = {"sysenter", SS | IBT, "ShadowStack and IBT, far"},
    [VX_KVM_INSN_SYSEXIT] = {"sysexit", SS, "ShadowStack, far, not IBT"},
    [VX_KVM_INSN_TASK_SWITCH] = {"task-switch", TASK,
				 "a VM exit handled by kvm_task_switch (x86.c:12229-12276)"},
    [VX_KVM_INSN_MOV] = {"mov", 0, "no control transfer: never refused"},
};

const struct vx_kvm_insn_info *vx_kvm_insn_info(enum vx_kvm_insn insn)
{
	return (unsigned)insn < VX_KVM_INSN_COUNT ? &insns[insn] : NULL;
}

int vx_kvm_insn_by_name(const char *name)
{
	for (unsigned i = 0; name && i < VX_KVM_INSN_COUNT; i++)
		if (strcasecmp(insns[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

/* ----------------------------------------------------------------------------------------- */
/* The guest op                                                                                 */

_Static_assert(sizeof(struct vx_kvm_branch) <= sizeof(((struct vx_kvm_guest_op *)0)->data),
	       "a branch fits in a guest op's data");

static const char *branch_problem(unsigned cpl, const struct vx_kvm_branch *b)
{
	if (!b)
		return "no branch";
	if (cpl > 3)
		return "CPL above 3";
	if (b->insn >= VX_KVM_INSN_COUNT)
		return "unknown instruction";
	if (b->flags & ~BRANCH_FLAGS)
		return "unknown VX_KVM_BRANCH_* flags";
	return NULL;
}

int vx_kvm_guest_op_branch(struct vx_kvm_guest_op *op, unsigned cpl,
			   const struct vx_kvm_branch *branch)
{
	if (!op || branch_problem(cpl, branch))
		return -EINVAL;
	memset(op, 0, sizeof(*op));
	op->op = VX_KVM_GOP_BRANCH;
	op->cpl = cpl;
	op->width = sizeof(*branch);
	memcpy(op->data, branch, sizeof(*branch));
	return 0;
}

/* The op's branch; false (with the reason in @event, kind NONE) for a malformed op. */
static bool op_branch(const struct vx_kvm_guest_op *op, struct vx_kvm_branch *b,
		      struct vx_event *event)
{
	const char *why = op->width == sizeof(*b) ? NULL : "data is not a struct vx_kvm_branch";

	if (!why) {
		memcpy(b, op->data, sizeof(*b));
		why = branch_problem(op->cpl, b);
	}
	if (why && event) {
		vx_kvm_event_none(event);
		snprintf(event->reason, sizeof(event->reason), "misuse: branch op: %s", why);
	}
	return !why;
}

/* ----------------------------------------------------------------------------------------- */
/* The processor runs it (no KVM involvement): cpu_cet.h                                        */

typedef int (*native_fn)(struct vx_cpu *cpu, struct vx_cpu_memory *mem,
			 const struct vx_kvm_branch *b, struct vx_event *event);

static unsigned indirect_flags(const struct vx_kvm_branch *b)
{
	return VX_BRANCH_INDIRECT | (b->flags & VX_KVM_BRANCH_NOTRACK ? VX_BRANCH_NOTRACK : 0u);
}

static int n_jmp(struct vx_cpu *c, struct vx_cpu_memory *m, const struct vx_kvm_branch *b,
		 struct vx_event *e)
{
	(void)m;
	(void)b;
	return vx_cpu_cet_jmp(c, 0, e);
}

static int n_jmp_indirect(struct vx_cpu *c, struct vx_cpu_memory *m, const struct vx_kvm_branch *b,
			  struct vx_event *e)
{
	(void)m;
	return vx_cpu_cet_jmp(c, indirect_flags(b), e);
}

/* A far JMP arms the tracker as an indirect one (cpu_cet.h). */
static int n_jmp_far(struct vx_cpu *c, struct vx_cpu_memory *m, const struct vx_kvm_branch *b,
		     struct vx_event *e)
{
	(void)m;
	(void)b;
	return vx_cpu_cet_jmp(c, VX_BRANCH_INDIRECT, e);
}

static int n_call(struct vx_cpu *c, struct vx_cpu_memory *m, const struct vx_kvm_branch *b,
		  struct vx_event *e)
{
	return vx_cpu_cet_call(c, m, b->ret, 0, e);
}

static int n_call_indirect(struct vx_cpu *c, struct vx_cpu_memory *m, const struct vx_kvm_branch *b,
			   struct vx_event *e)
{
	return vx_cpu_cet_call(c, m, b->ret, indirect_flags(b), e);
}

static int n_call_far(struct vx_cpu *c, struct vx_cpu_memory *m, const struct vx_kvm_branch *b,
		      struct vx_event *e)
{
	return vx_cpu_cet_far_call(c, m, &b->far, e);
}

static int n_ret(struct vx_cpu *c, struct vx_cpu_memory *m, const struct vx_kvm_branch *b,
		 struct vx_event *e)
{
	return vx_cpu_cet_ret(c, m, b->ret, e);
}

static int n_ret_far(struct vx_cpu *c, struct vx_cpu_memory *m, const struct vx_kvm_branch *b,
		     struct vx_event *e)
{
	return vx_cpu_cet_far_ret(c, m, &b->far, e);
}

static int n_int(struct vx_cpu *c, struct vx_cpu_memory *m, const struct vx_kvm_branch *b,
		 struct vx_event *e)
{
	return vx_cpu_cet_event(c, m, &b->far, e);
}

static int n_iret(struct vx_cpu *c, struct vx_cpu_memory *m, const struct vx_kvm_branch *b,
		  struct vx_event *e)
{
	return vx_cpu_cet_iret(c, m, &b->far, e);
}

static int n_syscall(struct vx_cpu *c, struct vx_cpu_memory *m, const struct vx_kvm_branch *b,
		     struct vx_event *e)
{
	(void)m;
	return vx_cpu_cet_syscall(c, b->far.mode, e);
}

static int n_sysexit(struct vx_cpu *c, struct vx_cpu_memory *m, const struct vx_kvm_branch *b,
		     struct vx_event *e)
{
	(void)m;
	return vx_cpu_cet_sysret(c, b->far.mode, e);
}

/* How the processor runs each class, and whether the target's first instruction is fetched
 * (the IBT check, §7.8).  A task switch always exits to KVM; MOV has no CET side. */
static const struct {
	native_fn run;
	bool fetch;
} natives[VX_KVM_INSN_COUNT] = {
    [VX_KVM_INSN_JMP] = {n_jmp, true},
    [VX_KVM_INSN_JMP_INDIRECT] = {n_jmp_indirect, true},
    [VX_KVM_INSN_JMP_FAR] = {n_jmp_far, true},
    [VX_KVM_INSN_CALL] = {n_call, true},
    [VX_KVM_INSN_CALL_INDIRECT] = {n_call_indirect, true},
    [VX_KVM_INSN_CALL_FAR] = {n_call_far, true},
    [VX_KVM_INSN_RET] = {n_ret, true},
    [VX_KVM_INSN_RET_IMM] = {n_ret, true},
    [VX_KVM_INSN_RET_FAR] = {n_ret_far, true},
    [VX_KVM_INSN_RET_FAR_IMM] = {n_ret_far, true},
    [VX_KVM_INSN_INT] = {n_int, true},
    [VX_KVM_INSN_IRET] = {n_iret, true},
    [VX_KVM_INSN_SYSCALL] = {n_syscall, true},
    [VX_KVM_INSN_SYSENTER] = {n_syscall, true},
    [VX_KVM_INSN_SYSEXIT] = {n_sysexit, true},
    [VX_KVM_INSN_TASK_SWITCH] = {NULL, false},
    [VX_KVM_INSN_MOV] = {NULL, false},
};

/* The instruction runs in a 32-bit code segment: compatibility mode. */
static int enter_compat(struct vx_cpu *cpu, struct vx_event *event)
{
	struct vx_cpu_control c;

	vx_cpu_get_control(cpu, &c);
	c.mode = VX_MODE_COMPAT;
	return vx_cpu_set_control(cpu, &c, event);
}

void vx_kvm_branch_native(struct vx_cpu *cpu, struct vx_cpu_memory *mem,
			  const struct vx_kvm_guest_op *op, struct vx_event *event)
{
	struct vx_kvm_branch b;

	if (!op_branch(op, &b, event))
		return;
	if ((b.flags & VX_KVM_BRANCH_COMPAT) && enter_compat(cpu, event))
		return;
	if (natives[b.insn].run && natives[b.insn].run(cpu, mem, &b, event) != 0)
		return;
	if (natives[b.insn].fetch)
		(void)vx_cpu_cet_fetch(cpu, mem, b.target, (enum vx_cet_fetch)b.fetch, event);
}

/* Emulated (EMULATED or FEP) or a task switch: a VM exit before the instruction executes. */
bool vx_kvm_branch_exits(const struct vx_kvm_guest_op *op)
{
	struct vx_kvm_branch b;

	if (!op_branch(op, &b, NULL))
		return false;
	return (b.flags & (VX_KVM_BRANCH_EMULATED | VX_KVM_BRANCH_FEP)) ||
	       (insns[b.insn].flags & TASK);
}

int vx_kvm_branch_exit(struct vx_kvm_vcpu *vcpu, const struct vx_kvm_guest_op *op,
		       struct vx_kvm_run *run)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_emulation e;
	struct vx_kvm_branch b;

	run->vm_exits++;
	if (!op_branch(op, &b, &run->event))
		return 0;
	if (vx_kvm_vcpu_emulate(vcpu, op->cpl, &b, &e, &err) < 0) {
		vx_kvm_event_none(&run->event);
		snprintf(run->event.reason, sizeof(run->event.reason),
			 "KVM could not emulate: %.160s", err.reason);
		return 0;
	}
	run->event = e.event;
	if (e.status != VX_KVM_EMUL_EXIT)
		return 0;
	run->exit_reason = e.exit_reason;
	run->internal_suberror = e.suberror;
	run->internal_ndata = e.ndata;
	return 1;
}

/* ----------------------------------------------------------------------------------------- */
/* KVM's side: reading the guest's state                                                        */

/* The guest's U_CET (@user) and S_CET (@sup), ORed: 0, 1 if a read failed, <0 a model error. */
static int read_cet(struct vx_kvm_vcpu *v, bool user, bool sup, uint64_t *cet, struct vx_error *err)
{
	struct vx_error why = VX_ERROR_INIT;
	uint64_t u = 0, s = 0;
	int rc = user ? vx_kvm_vcpu_get_msr(v, true, VX_MSR_IA32_U_CET, &u, &why) : 0;

	if (rc == 0 && sup)
		rc = vx_kvm_vcpu_get_msr(v, true, VX_MSR_IA32_S_CET, &s, &why);
	if (rc < 0)
		return vx_error_set(err, rc, why.rule, "%s", why.reason);
	*cet = u | s;
	return rc ? 1 : 0;
}

static int read_ssp(struct vx_kvm_vcpu *v, uint64_t *ssp, struct vx_error *err)
{
	struct vx_error why = VX_ERROR_INIT;
	int rc = vx_kvm_vcpu_get_msr(v, true, VX_MSR_KVM_INTERNAL_GUEST_SSP, ssp, &why);

	if (rc < 0)
		return vx_error_set(err, rc, why.rule, "%s", why.reason);
	return rc ? 1 : 0;
}

/* EFER.LMA: the model runs a guest with CR0.PE in 64-bit mode (run.c), so LMA is CR0.PE unless
 * EFER says so itself. */
static bool guest_lma(const struct vx_kvm_vcpu *v)
{
	return (v->efer & EFER_LMA) || (v->cr0 & VX_CR0_PE);
}

/* ----------------------------------------------------------------------------------------- */
/* Outcomes                                                                                     */

#ifdef __GNUC__
__attribute__((format(printf, 2, 3)))
#endif
static void
say(struct vx_kvm_emulation *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	out->rule = RULE;
}

static int queue_ud(struct vx_kvm_emulation *out)
{
	out->status = VX_KVM_EMUL_FAULT;
	vx_kvm_queue_exception(&out->event, VX_VEC_UD, VX_CAUSE_NONE, 0, RULE,
			       "#UD queued by KVM: %.160s", out->reason);
	return 0;
}

/* KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION. */
static int exit_internal(struct vx_kvm_emulation *out, uint32_t ndata)
{
	out->status = VX_KVM_EMUL_EXIT;
	out->exit_reason = VX_KVM_EXIT_INTERNAL_ERROR;
	out->suberror = VX_KVM_INTERNAL_ERROR_EMULATION;
	out->ndata = ndata;
	return 0;
}

/* handle_emulation_failure() (x86.c:9112-9136). */
static int emulation_failure(const struct vx_kvm_vcpu *v, unsigned cpl,
			     struct vx_kvm_emulation *out)
{
	/* exit_on_emulation_error: always exit, nothing queued. */
	if (v->vm->exit_on_emulation_error)
		return exit_internal(out, VX_KVM_NDATA_UNMODELLED);
	queue_ud(out);
	/* At CPL0 outside guest mode KVM also exits to userspace. */
	if (!v->guest_mode && cpl == 0)
		return exit_internal(out, VX_KVM_NDATA_UNMODELLED);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Decode, execute, task switch                                                                 */

static const char *cet_msr_names(bool far, unsigned cpl)
{
	return far ? "U_CET or S_CET" : cpl == 3 ? "U_CET" : "S_CET";
}

/* x86_decode_insn's CET refusal (emulate.c:4970-5003): 1 refused (why in @out), 0 not. */
static int decode_refusal(struct vx_kvm_vcpu *v, unsigned cpl, const struct vx_kvm_insn_info *in,
			  struct vx_kvm_emulation *out, struct vx_error *err)
{
	bool far = !(in->flags & NEAR);
	uint64_t cet = 0;
	int rc;

	/* Only with CR4.CET = 1, and only IBT or shadow-stack instructions. */
	if (!(v->cr4 & VX_CR4_CET) || !(in->flags & (SS | IBT)))
		return 0;
	/* U_CET at CPL3 or S_CET below for near branches, both for far transfers. */
	rc = read_cet(v, far || cpl == 3, far || cpl < 3, &cet, err);
	if (rc < 0)
		return rc;
	/* A failed MSR read is EMULATION_FAILED. */
	if (rc)
		say(out, "%s: reading %s failed", in->name, cet_msr_names(far, cpl));
	/* SHSTK_EN and a shadow-stack instruction. */
	else if ((cet & VX_CET_SH_STK_EN) && (in->flags & SS))
		say(out, "%s is a shadow-stack instruction and %s has SHSTK_EN (bit 0)", in->name,
		    cet_msr_names(far, cpl));
	/* ENDBR_EN and an IBT instruction. */
	else if ((cet & VX_CET_ENDBR_EN) && (in->flags & IBT))
		say(out, "%s is an IBT instruction and %s has ENDBR_EN (bit 2)", in->name,
		    cet_msr_names(far, cpl));
	else
		return 0;
	out->refused = true;
	return 1;
}

/* emulator_is_ssp_invalid() for a CS load into a 32-bit segment at @cpl (emulate.c:1493-1522):
 * 1 with #GP(0) queued, 0 fine, <0 a model error. */
static int ssp_check(struct vx_kvm_vcpu *v, unsigned cpl, struct vx_kvm_emulation *out,
		     struct vx_error *err)
{
	uint64_t cet = 0, ssp = 0;
	int rc;

	/* Only with CR4.CET = 1 and EFER.LMA = 1. */
	if (!(v->cr4 & VX_CR4_CET) || !guest_lma(v))
		return 0;
	/* The target level's CET MSR must have SHSTK_EN. */
	rc = read_cet(v, cpl == 3, cpl < 3, &cet, err);
	if (rc == 0 && !(cet & VX_CET_SH_STK_EN))
		return 0;
	if (rc == 0)
		rc = read_ssp(v, &ssp, err);
	if (rc < 0)
		return rc;
	/* SSP[63:32] must be 0 in a 32-bit segment; a failed read counts as invalid. */
	if (rc == 0 && !(ssp >> 32))
		return 0;
	say(out, "CS load into a 32-bit segment at CPL %u with SSP 0x%llx: %s", cpl, (ull)ssp,
	    rc ? "reading the CET MSR or SSP failed" : "SSP bits 63:32 are not 0");
	out->status = VX_KVM_EMUL_FAULT;
	vx_kvm_queue_exception(&out->event, VX_VEC_GP, VX_CAUSE_SSP_HIGH_BITS, ssp, RULE,
			       "#GP(0) queued by the emulator: %.160s", out->reason);
	return 1;
}

/* The emulator runs the instruction (x86_emulate_insn). */
static int execute(struct vx_kvm_vcpu *v, unsigned cpl, const struct vx_kvm_branch *b,
		   struct vx_kvm_emulation *out, struct vx_error *err)
{
	const struct vx_kvm_insn_info *in = &insns[b->insn];
	int rc;

	/* em_int / em_iret outside real mode: X86EMUL_UNHANDLEABLE, forced or not. */
	if ((in->flags & REAL) && (v->cr0 & VX_CR0_PE)) {
		say(out, "%s: the emulator runs it in real mode only (X86EMUL_UNHANDLEABLE)",
		    in->name);
		return emulation_failure(v, cpl, out);
	}
	/* A CS load into a 32-bit code segment checks SSP. */
	if ((in->flags & CS) && b->far.mode != VX_MODE_64BIT) {
		rc = ssp_check(v, b->far.cpl, out, err);
		if (rc)
			return rc < 0 ? rc : 0;
	}
	say(out, "%s emulated", in->name);
	return 0;
}

/* kvm_task_switch() (x86.c:12229-12276). */
static int task_switch(struct vx_kvm_vcpu *v, struct vx_kvm_emulation *out, struct vx_error *err)
{
	uint64_t cet = 0;
	int rc;

	/* Only with CR4.CET = 1. */
	if (!(v->cr4 & VX_CR4_CET)) {
		say(out, "task switch emulated (CR4.CET = 0)");
		return 0;
	}
	rc = read_cet(v, true, true, &cet, err);
	if (rc < 0)
		return rc;
	/* A failed read, or ENDBR_EN or SHSTK_EN in either MSR: internal error, ndata 0. */
	if (rc == 0 && !(cet & (VX_CET_ENDBR_EN | VX_CET_SH_STK_EN))) {
		say(out, "task switch emulated (no ENDBR_EN or SHSTK_EN)");
		return 0;
	}
	say(out, "task switch with CR4.CET = 1 and %s: KVM_EXIT_INTERNAL_ERROR",
	    rc ? "U_CET/S_CET unreadable" : "ENDBR_EN or SHSTK_EN in U_CET/S_CET");
	out->refused = true;
	return exit_internal(out, 0);
}

int vx_kvm_vcpu_emulate(struct vx_kvm_vcpu *vcpu, unsigned cpl, const struct vx_kvm_branch *branch,
			struct vx_kvm_emulation *out, struct vx_error *err)
{
	const char *why = vcpu && out ? branch_problem(cpl, branch) : "NULL vCPU or outcome";
	int rc;

	if (why)
		return vx_error_set(err, -EINVAL, RULE, "emulate: %s", why);
	memset(out, 0, sizeof(*out));
	vx_kvm_event_none(&out->event);
	if (insns[branch->insn].flags & TASK)
		return task_switch(vcpu, out, err);
	rc = decode_refusal(vcpu, cpl, &insns[branch->insn], out, err);
	if (rc <= 0)
		return rc < 0 ? rc : execute(vcpu, cpl, branch, out, err);
	/* A decode failure: #UD under forced emulation (x86.c:9428-9452), else
	 * handle_emulation_failure. */
	if (branch->flags & VX_KVM_BRANCH_FEP)
		return queue_ud(out);
	return emulation_failure(vcpu, cpl, out);
}

void vx_kvm_vm_set_exit_on_emulation_failure(struct vx_kvm_vm *vm, bool enable)
{
	if (vm)
		vm->exit_on_emulation_error = enable;
}

/* ----------------------------------------------------------------------------------------- */
/* KVM's exception tables: #CP is in neither (kvm.md §7.1, x86.c:725-740, x86.h:261-268)        */

static const struct {
	unsigned vector;
	enum vx_kvm_exception_class cls;
	bool error_code;
} exception_rows[] = {
    {0, VX_KVM_EXCPT_CONTRIBUTORY, false}, /* #DE */
    {8, VX_KVM_EXCPT_BENIGN, true},	   /* #DF */
    {10, VX_KVM_EXCPT_CONTRIBUTORY, true}, /* #TS */
    {11, VX_KVM_EXCPT_CONTRIBUTORY, true}, /* #NP */
    {12, VX_KVM_EXCPT_CONTRIBUTORY, true}, /* #SS */
    {13, VX_KVM_EXCPT_CONTRIBUTORY, true}, /* #GP */
    {14, VX_KVM_EXCPT_PF, true},	   /* #PF */
    {17, VX_KVM_EXCPT_BENIGN, true},	   /* #AC */
};

#define N_EXCEPTION_ROWS (sizeof(exception_rows) / sizeof(exception_rows[0]))

enum vx_kvm_exception_class vx_kvm_exception_class(unsigned vector)
{
	for (size_t i = 0; i < N_EXCEPTION_ROWS; i++)
		if (exception_rows[i].vector == vector)
			return exception_rows[i].cls;
	return VX_KVM_EXCPT_BENIGN;
}

bool vx_kvm_exception_has_error_code(unsigned vector)
{
	for (size_t i = 0; i < N_EXCEPTION_ROWS; i++)
		if (exception_rows[i].vector == vector)
			return exception_rows[i].error_code;
	return false;
}
