/* SPDX-License-Identifier: MIT */
/*
 * The shadow-stack side of control transfers (arch.md §7.6): near CALL/RET, far CALL, event
 * delivery (with the interrupt SSP table), far RET and IRET, SYSCALL/SYSRET, task switches.
 * Each transfer plans its reads and writes first (struct txn) and commits only when none
 * faulted; then it sets CPL and mode to where the transfer lands.
 */
#include <errno.h>

#include "cpu/cet_internal.h"

/* ---- near CALL / RET ---------------------------------------------------------------------- */

static int near_args(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, const char *who,
		     struct vx_event *event)
{
	if (!cpu)
		return cet_misuse(event, "%s: NULL processor", who);
	event_clear(event);
	return mem_args_check(mem, who, event);
}

/* §7.8: an indirect CALL/JMP arms the tracker unless NOTRACK is honoured (NO_TRACK_EN = 1). */
static bool branch_tracked(const struct vx_cpu *cpu, unsigned cpl, unsigned flags)
{
	if (!(flags & VX_BRANCH_INDIRECT))
		return false;
	return !((flags & VX_BRANCH_NOTRACK) && (cet_control(cpu, cpl) & VX_CET_NO_TRACK_EN));
}

int vx_cpu_cet_call(struct vx_cpu *cpu, struct vx_cpu_memory *mem, uint64_t return_address,
		    unsigned flags, struct vx_event *event)
{
	int rc = near_args(cpu, mem, "near CALL", event);
	unsigned cpl, w;
	uint64_t ssp;
	struct txn t = {0};
	struct mem_access a;

	if (rc)
		return rc;
	cpl = cpu_effective_cpl(cpu);
	ssp = cpu->state.ssp;
	/* §7.6: a near CALL pushes the return address, 8 bytes in 64-bit mode, else 4. */
	if (vx_cpu_shstk_enabled(cpu, cpl)) {
		w = cpu_in_64bit_mode(cpu) ? 8u : 4u;
		ssp -= w;
		a = ss_access(ssp, w, true, cpl == 3, cpu_in_64bit_mode(cpu));
		if (txn_store(cpu, mem, &t, &a,
			      w == 8 ? return_address : return_address & CET_LOW32, event))
			return VX_FAULTED;
	}
	txn_commit(mem, &t);
	cpu->state.ssp = cpu_in_64bit_mode(cpu) ? ssp : ssp & CET_LOW32;
	if (branch_tracked(cpu, cpl, flags))
		ibt_arm(cpu, cpl);
	return 0;
}

int vx_cpu_cet_ret(struct vx_cpu *cpu, struct vx_cpu_memory *mem, uint64_t return_address,
		   struct vx_event *event)
{
	int rc = near_args(cpu, mem, "near RET", event);
	unsigned cpl, w;
	uint64_t shadow = 0, expected;
	struct mem_access a;

	if (rc)
		return rc;
	cpl = cpu_effective_cpl(cpu);
	if (!vx_cpu_shstk_enabled(cpu, cpl))
		return 0;
	w = cpu_in_64bit_mode(cpu) ? 8u : 4u;
	a = ss_access(cpu->state.ssp, w, false, cpl == 3, cpu_in_64bit_mode(cpu));
	if (mem_load(cpu, mem, &a, &shadow, event))
		return VX_FAULTED;
	expected = w == 8 ? return_address : return_address & CET_LOW32;
	/* §7.6: the shadow copy must equal the data-stack return address, else #CP(1) NEAR-RET. */
	if (shadow != expected)
		return cet_raise_cp(event, VX_CP_NEAR_RET,
				    "near RET: shadow-stack copy 0x%llx at SSP 0x%llx differs from "
				    "the return address 0x%llx",
				    (unsigned long long)shadow, (unsigned long long)cpu->state.ssp,
				    (unsigned long long)expected);
	cpu->state.ssp += w;
	if (w == 4)
		cpu->state.ssp &= CET_LOW32;
	return 0;
}

/* ---- far transfers: arguments and the pieces ------------------------------------------------ */

static int far_args(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem,
		    const struct vx_cet_far *far, bool inward, const char *who,
		    struct vx_event *event)
{
	unsigned cur;

	if (!cpu || !far)
		return cet_misuse(event, "%s: NULL processor or transfer", who);
	event_clear(event);
	if (mem_args_check(mem, who, event))
		return -EINVAL;
	cur = cpu_effective_cpl(cpu);
	if (far->cpl > 3 || far->ist > 7)
		return cet_misuse(event, "%s: CPL %u or IST %u out of range", who, far->cpl,
				  far->ist);
	if (far->mode != VX_MODE_64BIT && far->mode != VX_MODE_COMPAT)
		return cet_misuse(event, "%s: lands in mode %d; only 64-bit or compatibility mode",
				  who, (int)far->mode);
	if (inward && far->cpl > cur)
		return cet_misuse(event, "%s: cannot go from CPL %u out to CPL %u", who, cur,
				  far->cpl);
	if (!inward && far->cpl < cur)
		return cet_misuse(event, "%s: cannot return from CPL %u in to CPL %u", who, cur,
				  far->cpl);
	return 0;
}

static int ssp_gp(struct vx_event *event, enum vx_event_cause cause, const char *who,
		  const char *why, uint64_t ssp)
{
	raise_exception(event, VX_VEC_GP, cause, "arch.md §7.6", "%s: new SSP 0x%llx %s", who,
			(unsigned long long)ssp, why);
	return event_detail(event, 0, ssp, -1);
}

/* §7.6: a new supervisor SSP must be 8-aligned and, outside 64-bit mode, 32-bit (#GP(0)). */
static int check_new_ssp(uint64_t ssp, bool in64, const char *who, struct vx_event *event)
{
	if (ssp & 7u)
		return ssp_gp(event, VX_CAUSE_MISALIGNED, who, "is not 8-aligned", ssp);
	if (!in64 && (ssp >> 32))
		return ssp_gp(event, VX_CAUSE_SSP_HIGH_BITS, who,
			      "has bits 63:32 set outside 64-bit mode", ssp);
	return 0;
}

/* §7.6: push CS, LIP and the old SSP (8 bytes each), after a 4-byte 0 if SSP is 4-aligned. */
static int push_frame(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, struct txn *t,
		      uint64_t *ssp, const uint64_t frame[3], bool user, bool in64,
		      struct vx_event *event)
{
	struct mem_access a;

	if (*ssp & 4u) {
		a = ss_access(*ssp - 4, 4, true, user, in64);
		if (txn_store(cpu, mem, t, &a, 0, event))
			return VX_FAULTED;
		*ssp -= 4;
	}
	for (unsigned i = 0; i < 3; i++) {
		a = ss_access(*ssp - 8u * (i + 1), 8, true, user, in64);
		if (txn_store(cpu, mem, t, &a, frame[i], event))
			return VX_FAULTED;
	}
	*ssp -= 24;
	return 0;
}

/* §7.6: where an entry's new SSP comes from; *@switched = false keeps the current one. */
static int entry_source(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem,
			const struct vx_cet_far *far, bool use_ist, uint64_t *ssp, bool *switched,
			struct vx_event *event)
{
	struct mem_access a;

	*switched = false;
	/* §7.6: in 64-bit mode an IST gate loads SSP from ISST_ADDR + 8 * IST, even without a
	 * privilege change (a supervisor data read of the table). */
	if (use_ist && far->mode == VX_MODE_64BIT && far->ist != 0) {
		a = data_access(cpu->state.int_ssp_tab + 8u * far->ist, 8, false, false, true);
		*switched = true;
		return mem_load(cpu, mem, &a, ssp, event);
	}
	/* §7.6: a privilege change loads PLn_SSP of the new level. */
	if (far->cpl < cpu_effective_cpl(cpu)) {
		*ssp = cet_pl_ssp(cpu, far->cpl);
		*switched = true;
	}
	return 0;
}

/* §7.6: switch to the new stack: check the SSP, mark its supervisor token busy. */
static int take_token(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, struct txn *t,
		      uint64_t ssp, bool in64, const char *who, struct vx_event *event)
{
	uint64_t seen = 0;
	bool ok = false;

	if (check_new_ssp(ssp, in64, who, event) ||
	    token_update(cpu, mem, t, ssp, true, in64, &ok, &seen, event))
		return VX_FAULTED;
	/* §7.6: a token that cannot be marked busy → #GP(0) (as Bochs does). */
	if (!ok)
		return ssp_gp(
		    event, VX_CAUSE_SS_TOKEN, who,
		    "does not hold a free supervisor token (busy, or not its own address)", ssp);
	return 0;
}

/* Land: CPL and mode of the target, the tracker of the new level (§7.8). */
static void land(struct vx_cpu *cpu, unsigned cpl, enum vx_cpu_mode mode, uint64_t ssp, bool arm)
{
	cpu->state.ssp = ssp;
	cpu->control.cpl = cpl;
	cpu->control.mode = mode;
	if (arm)
		ibt_arm(cpu, cpl);
}

/* Far CALL and event delivery (§7.6). */
static int enter(struct vx_cpu *cpu, struct vx_cpu_memory *mem, const struct vx_cet_far *far,
		 bool use_ist, const char *who, struct vx_event *event)
{
	unsigned cur = cpu_effective_cpl(cpu);
	bool from_user = cur == 3 && far->cpl < 3;
	bool in64 = far->mode == VX_MODE_64BIT;
	uint64_t old_ssp = cpu->state.ssp, ssp = old_ssp;
	uint64_t frame[3] = {far->cs, far->lip, old_ssp};
	bool switched = false;
	struct txn t = {0};

	if (cet_shstk_at(cpu, far->cpl, far->mode)) {
		if (entry_source(cpu, mem, far, use_ist, &ssp, &switched, event) ||
		    (switched && take_token(cpu, mem, &t, ssp, in64, who, event)))
			return VX_FAULTED;
		/* §7.6: nothing is pushed on the supervisor shadow stack when coming from CPL3. */
		if (!from_user && push_frame(cpu, mem, &t, &ssp, frame, far->cpl == 3, in64, event))
			return VX_FAULTED;
	}
	txn_commit(mem, &t);
	/* §7.6: leaving CPL3 with user shadow stacks on saves SSP in IA32_PL3_SSP. */
	if (from_user && cet_shstk_at(cpu, 3, cpu->control.mode))
		cet_set_pl3_ssp(cpu, old_ssp);
	land(cpu, far->cpl, far->mode, ssp, true);
	return 0;
}

int vx_cpu_cet_far_call(struct vx_cpu *cpu, struct vx_cpu_memory *mem, const struct vx_cet_far *far,
			struct vx_event *event)
{
	int rc = far_args(cpu, mem, far, true, "far CALL", event);

	return rc ? rc : enter(cpu, mem, far, false, "far CALL", event);
}

int vx_cpu_cet_event(struct vx_cpu *cpu, struct vx_cpu_memory *mem, const struct vx_cet_far *far,
		     struct vx_event *event)
{
	int rc = far_args(cpu, mem, far, true, "event delivery", event);

	return rc ? rc : enter(cpu, mem, far, true, "event delivery", event);
}

/* ---- far RET / IRET ------------------------------------------------------------------------ */

/* How a return checks the SSP it pops (far RET/IRET, or the IRET of a task switch). */
struct pop_rules {
	const char *who;
	bool iret;	  /* a different popped SSP frees the token at the top */
	bool task;	  /* §7.6 task IRET: popped SSP 4-aligned and 32-bit, else #CP(2) */
	bool in64_target; /* the mode returned to is 64-bit */
	uint16_t cs;
	uint64_t lip;
};

static int cp_far(struct vx_event *event, const struct pop_rules *r, const char *why,
		  uint64_t value)
{
	cet_raise_cp(event, VX_CP_FAR_RET, "%s: %s (0x%llx)", r->who, why,
		     (unsigned long long)value);
	return event_detail(event, 0, value, -1);
}

/* §7.6: what the popped SSP must look like. */
static int check_popped_ssp(const struct pop_rules *r, uint64_t prev, struct vx_event *event)
{
	/* §7.6 task IRET: the popped value must be 4-aligned and 32-bit, else #CP(2). */
	if (r->task && ((prev & 3u) || (prev >> 32)))
		return cp_far(event, r, "popped SSP is not 4-aligned and 32-bit", prev);
	/* §7.6: the popped SSP must have bits 1:0 = 0, else #CP(2). */
	if (prev & 3u)
		return cp_far(event, r, "popped SSP has bits 1:0 set", prev);
	/* §7.6/§7.3: returning outside 64-bit mode, popped-SSP bits 63:32 ≠ 0 → #GP(0). */
	if (!r->in64_target && (prev >> 32))
		return ssp_gp(event, VX_CAUSE_SSP_HIGH_BITS, r->who,
			      "has bits 63:32 set for a return outside 64-bit mode", prev);
	return 0;
}

/* §7.6: pop SSP, LIP and CS from the current shadow stack and compare. */
static int pop_frame(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem,
		     const struct pop_rules *r, uint64_t *ssp, uint64_t *prev,
		     struct vx_event *event)
{
	bool user = cpu_effective_cpl(cpu) == 3, in64 = cpu_in_64bit_mode(cpu);
	uint64_t got[3] = {0, 0, 0};

	/* §7.6: SSP must be 8-aligned, else #CP(2). */
	if (*ssp & 7u)
		return cp_far(event, r, "SSP is not 8-aligned", *ssp);
	for (unsigned i = 0; i < 3; i++) {
		struct mem_access a = ss_access(*ssp + 8u * i, 8, false, user, in64);

		if (mem_load(cpu, mem, &a, &got[i], event))
			return VX_FAULTED;
	}
	/* §7.6: a CS or LIP mismatch → #CP(2) FAR-RET/IRET. */
	if (got[2] != r->cs)
		return cp_far(event, r, "shadow-stack CS differs from the popped CS", got[2]);
	if (got[1] != r->lip)
		return cp_far(event, r, "shadow-stack LIP differs from the return address", got[1]);
	if (check_popped_ssp(r, got[0], event))
		return VX_FAULTED;
	*prev = got[0];
	*ssp += 24;
	return 0;
}

/* §7.6: clear the busy bit of the supervisor token at @addr; an invalid token is left alone. */
static int free_token(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, struct txn *t,
		      uint64_t addr, struct vx_event *event)
{
	uint64_t seen = 0;
	bool ok = false;

	return token_update(cpu, mem, t, addr, false, cpu_in_64bit_mode(cpu), &ok, &seen, event);
}

/* Returns that stay at CPL0-2 or at the same level: pop, compare, maybe free, switch. */
static int ret_inner(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem,
		     const struct pop_rules *r, unsigned target_cpl, uint64_t *ssp, struct txn *t,
		     struct vx_event *event)
{
	uint64_t prev = 0;

	if (pop_frame(cpu, mem, r, ssp, &prev, event))
		return VX_FAULTED;
	/* §7.6: a privilege change, or an IRET back to another stack (the event switched, e.g.
	 * through IST), frees the token at the top of the stack being left. */
	if ((target_cpl != cpu_effective_cpl(cpu) || (r->iret && prev != *ssp)) &&
	    free_token(cpu, mem, t, *ssp, event))
		return VX_FAULTED;
	*ssp = prev;
	return 0;
}

/* §7.6: return to CPL3: free the supervisor token at SSP, SSP = IA32_PL3_SSP. */
static int ret_to_user(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem,
		       const struct pop_rules *r, enum vx_cpu_mode mode, uint64_t *ssp,
		       struct txn *t, struct vx_event *event)
{
	unsigned cur = cpu_effective_cpl(cpu);
	uint64_t pl3;

	if (cet_shstk_at(cpu, cur, cpu->control.mode) && free_token(cpu, mem, t, *ssp, event))
		return VX_FAULTED;
	if (!cet_shstk_at(cpu, 3, mode))
		return 0;
	pl3 = cet_pl_ssp(cpu, 3);
	/* §7.6/§7.3: going to a 32-bit mode with PL3_SSP bits 63:32 set → #GP(0). */
	if (mode != VX_MODE_64BIT && (pl3 >> 32)) {
		ssp_gp(event, VX_CAUSE_SSP_HIGH_BITS, r->who,
		       "(IA32_PL3_SSP) has bits 63:32 set for a return outside 64-bit mode", pl3);
		return event_detail(event, VX_MSR_IA32_PL3_SSP, pl3, -1);
	}
	*ssp = pl3;
	return 0;
}

static int leave(struct vx_cpu *cpu, struct vx_cpu_memory *mem, const struct vx_cet_far *far,
		 bool iret, const char *who, struct vx_event *event)
{
	int rc = far_args(cpu, mem, far, false, who, event);
	struct pop_rules r = {who,
			      iret,
			      false,
			      far && far->mode == VX_MODE_64BIT,
			      far ? far->cs : 0,
			      far ? far->lip : 0};
	unsigned cur;
	uint64_t ssp;
	struct txn t = {0};

	if (rc)
		return rc;
	cur = cpu_effective_cpl(cpu);
	ssp = cpu->state.ssp;
	if (far->cpl == 3 && cur < 3) {
		if (ret_to_user(cpu, mem, &r, far->mode, &ssp, &t, event))
			return VX_FAULTED;
	} else if (vx_cpu_shstk_enabled(cpu, cur) &&
		   ret_inner(cpu, mem, &r, far->cpl, &ssp, &t, event)) {
		return VX_FAULTED;
	}
	txn_commit(mem, &t);
	land(cpu, far->cpl, far->mode, ssp, false);
	return 0;
}

int vx_cpu_cet_far_ret(struct vx_cpu *cpu, struct vx_cpu_memory *mem, const struct vx_cet_far *far,
		       struct vx_event *event)
{
	return leave(cpu, mem, far, false, "far RET", event);
}

int vx_cpu_cet_iret(struct vx_cpu *cpu, struct vx_cpu_memory *mem, const struct vx_cet_far *far,
		    struct vx_event *event)
{
	return leave(cpu, mem, far, true, "IRET", event);
}

/* ---- SYSCALL / SYSRET ---------------------------------------------------------------------- */

static int sys_args(const struct vx_cpu *cpu, enum vx_cpu_mode mode, const char *who,
		    struct vx_event *event)
{
	if (!cpu)
		return cet_misuse(event, "%s: NULL processor", who);
	event_clear(event);
	if (mode != VX_MODE_64BIT && mode != VX_MODE_COMPAT)
		return cet_misuse(event, "%s: lands in mode %d; only 64-bit or compatibility mode",
				  who, (int)mode);
	return 0;
}

int vx_cpu_cet_syscall(struct vx_cpu *cpu, enum vx_cpu_mode mode, struct vx_event *event)
{
	int rc = sys_args(cpu, mode, "SYSCALL", event);
	uint64_t ssp;

	if (rc)
		return rc;
	ssp = cpu->state.ssp;
	/* §7.6: IA32_PL3_SSP ← SSP if user shadow stacks are enabled. */
	if (cpu_effective_cpl(cpu) == 3 && cet_shstk_at(cpu, 3, cpu->control.mode))
		cet_set_pl3_ssp(cpu, ssp);
	/* §7.6: SSP ← 0 if supervisor shadow stacks are enabled (the kernel uses SETSSBSY). */
	if (cet_shstk_at(cpu, 0, mode))
		ssp = 0;
	/* §7.6/§7.8: the CPL0 tracker becomes WAIT_FOR_ENDBRANCH. */
	land(cpu, 0, mode, ssp, true);
	return 0;
}

int vx_cpu_cet_sysret(struct vx_cpu *cpu, enum vx_cpu_mode mode, struct vx_event *event)
{
	int rc = sys_args(cpu, mode, "SYSRET", event);
	uint64_t ssp;

	if (rc)
		return rc;
	/* SDM Vol.2 SYSRET/SYSEXIT: #GP(0) at CPL > 0. */
	if (cpu_effective_cpl(cpu) != 0)
		return raise_exception(event, VX_VEC_GP, VX_CAUSE_CPL, "SDM Vol.2 SYSRET",
				       "SYSRET at CPL %u", cpu_effective_cpl(cpu));
	ssp = cpu->state.ssp;
	/* §7.6: SSP ← IA32_PL3_SSP if user shadow stacks are enabled; no busy bit cleared. */
	if (cet_shstk_at(cpu, 3, mode)) {
		ssp = cet_pl_ssp(cpu, 3);
		/* §7.3: a 32-bit target mode with PL3_SSP bits 63:32 set → #GP(0). */
		if (mode != VX_MODE_64BIT && (ssp >> 32)) {
			ssp_gp(event, VX_CAUSE_SSP_HIGH_BITS, "SYSRET",
			       "(IA32_PL3_SSP) has bits 63:32 set outside 64-bit mode", ssp);
			return event_detail(event, VX_MSR_IA32_PL3_SSP, ssp, -1);
		}
	}
	land(cpu, 3, mode, ssp, false);
	return 0;
}

/* ---- task switch ---------------------------------------------------------------------------- */

static int raise_ts(struct vx_event *event, uint16_t selector, const char *why, uint64_t value)
{
	if (!event)
		return VX_FAULTED;
	raise_exception(event, VX_VEC_TS, VX_CAUSE_TSS, "arch.md §7.6",
			"task switch to TSS %#x: %s", (unsigned)selector, why);
	/* SDM Vol.3 §6.13: the #TS error code is the TSS selector's index (EXT = IDT = 0). */
	event->error_code = selector & 0xFFFCu;
	return event_detail(event, 0, value, -1);
}

static int task_args(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem,
		     const struct vx_cet_task_switch *ts, struct vx_event *event)
{
	if (!cpu || !ts)
		return cet_misuse(event, "task switch: NULL processor or task switch");
	event_clear(event);
	if (mem_args_check(mem, "task switch", event))
		return -EINVAL;
	if (ts->cpl > 3 || (unsigned)ts->kind > VX_TASK_IRET)
		return cet_misuse(event, "task switch: CPL %u or kind %d out of range", ts->cpl,
				  (int)ts->kind);
	/* SDM Vol.3 §7.7: IA-32e mode has no hardware task switching. */
	if (cpu_in_64bit_mode(cpu))
		return cet_misuse(event, "task switch: none in 64-bit mode");
	return 0;
}

/* §7.1/§7.6: the TSS checks that CR4.CET = 1 adds. */
static int tss_checks(const struct vx_cpu *cpu, const struct vx_cet_task_switch *ts,
		      struct vx_event *event)
{
	unsigned cur = cpu_effective_cpl(cpu);

	if (!(cpu->control.cr4 & VX_CR4_CET))
		return 0;
	/* §7.6: a 16-bit TSS → #TS. */
	if (!ts->tss32)
		return raise_ts(event, ts->selector, "16-bit TSS with CR4.CET=1", 0);
	/* §7.6: a 32-bit TSS needs limit ≥ 0x6B (its SSP field at 0x68). */
	if (ts->tss_limit < CET_TSS_MIN_LIM)
		return raise_ts(event, ts->selector, "TSS limit below 0x6B with CR4.CET=1",
				ts->tss_limit);
	/* §7.1: into V86 mode while shadow stacks or IBT are active → #TS. */
	if (ts->v86 && (vx_cpu_shstk_enabled(cpu, cur) || vx_cpu_ibt_enabled(cpu, cur)))
		return raise_ts(event, ts->selector,
				"into virtual-8086 mode with shadow stacks or IBT active", 0);
	return 0;
}

/* §7.6: CALL/INT/JMP: new SSP from the TSS, token busy, frame pushed from a supervisor level. */
static int task_enter(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem,
		      const struct vx_cet_task_switch *ts, unsigned cpl, enum vx_cpu_mode mode,
		      uint64_t *ssp, struct txn *t, struct vx_event *event)
{
	uint64_t frame[3] = {ts->cs, ts->lip, *ssp};
	struct mem_access a = data_access(ts->tss_base + CET_TSS_SSP, 4, false, false, false);
	uint64_t seen = 0;
	bool ok = false;

	if (!cet_shstk_at(cpu, cpl, mode))
		return 0;
	if (mem_load(cpu, mem, &a, ssp, event))
		return VX_FAULTED;
	/* §7.6: a new SSP that is not 8-aligned → #TS. */
	if (*ssp & 7u)
		return raise_ts(event, ts->selector, "SSP in the TSS is not 8-aligned", *ssp);
	if (token_update(cpu, mem, t, *ssp, true, false, &ok, &seen, event))
		return VX_FAULTED;
	/* §7.6 says the token is verified; the fault for a bad one is #TS here (docs). */
	if (!ok)
		return raise_ts(event, ts->selector, "no free supervisor token at the TSS's SSP",
				*ssp);
	if (cpu_effective_cpl(cpu) == 3)
		return 0;
	return push_frame(cpu, mem, t, ssp, frame, cpl == 3, false, event);
}

/* §7.6: IRET-initiated switch: pop and verify, free the current token, load the popped SSP. */
static int task_iret(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem,
		     const struct vx_cet_task_switch *ts, uint64_t *ssp, struct txn *t,
		     struct vx_event *event)
{
	struct pop_rules r = {"task-switch IRET", false, true, false, ts->cs, ts->lip};
	uint64_t prev = 0;

	if (!vx_cpu_shstk_enabled(cpu, cpu_effective_cpl(cpu)))
		return 0;
	if (pop_frame(cpu, mem, &r, ssp, &prev, event) || free_token(cpu, mem, t, *ssp, event))
		return VX_FAULTED;
	*ssp = prev;
	return 0;
}

int vx_cpu_cet_task_switch(struct vx_cpu *cpu, struct vx_cpu_memory *mem,
			   const struct vx_cet_task_switch *ts, struct vx_event *event)
{
	int rc = task_args(cpu, mem, ts, event);
	unsigned cpl;
	enum vx_cpu_mode mode;
	uint64_t old_ssp, ssp;
	struct txn t = {0};

	if (rc)
		return rc;
	if (tss_checks(cpu, ts, event))
		return VX_FAULTED;
	cpl = ts->v86 ? 3u : ts->cpl;
	mode = ts->v86 ? VX_MODE_V86 : VX_MODE_COMPAT;
	old_ssp = ssp = cpu->state.ssp;
	rc = ts->kind == VX_TASK_IRET ? task_iret(cpu, mem, ts, &ssp, &t, event)
				      : task_enter(cpu, mem, ts, cpl, mode, &ssp, &t, event);
	if (rc)
		return rc;
	txn_commit(mem, &t);
	/* §7.6: from CPL3 (user shadow stacks on) IA32_PL3_SSP ← SSP. */
	if (ts->kind != VX_TASK_IRET && cpu_effective_cpl(cpu) == 3 && cpl < 3 &&
	    cet_shstk_at(cpu, 3, cpu->control.mode))
		cet_set_pl3_ssp(cpu, old_ssp);
	land(cpu, cpl, mode, ssp, ts->kind != VX_TASK_IRET);
	return 0;
}
