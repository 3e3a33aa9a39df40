/* SPDX-License-Identifier: MIT */
/*
 * The shadow-stack instructions of arch.md §7.7 (INCSSP, RDSSP, SAVEPREVSSP, RSTORSSP, WRSS,
 * WRUSS, SETSSBSY, CLRSSBSY), and what the CET files share: the CET control registers by
 * privilege level, the enables of §7.1, #CP with its error codes (§7.9), supervisor tokens (§7.5).
 *
 * Every instruction checks in the order of its §7.7 row (#UD, then #GP, then the memory accesses
 * and their #PF, then #CP), queues its writes, and changes memory and registers only when nothing
 * faulted.
 */
#include <errno.h>
#include <stdio.h>

#include "cpu/cet_internal.h"

/* ---- shared ------------------------------------------------------------------------------ */

/* §7.2: IA32_S_CET serves CPL0-2 (a state field), IA32_U_CET CPL3 (bytes 0-7 of CET_U). */
uint64_t cet_control(const struct vx_cpu *cpu, unsigned cpl)
{
	if (cpl < 3)
		return cpu->state.s_cet;
	if (!cpu->facts.cet_ss && !cpu->facts.cet_ibt)
		return 0;
	return load_le64(component_bytes_const(cpu, VX_COMP_CET_U) + U_CET_OFFSET);
}

void cet_set_control(struct vx_cpu *cpu, unsigned cpl, uint64_t value)
{
	if (cpl < 3) {
		cpu->state.s_cet = value;
		return;
	}
	store_le64(component_bytes(cpu, VX_COMP_CET_U) + U_CET_OFFSET, value);
	/* §2.5: CET_U is in use while any of its values is non-zero. */
	state_mark_by_value(cpu, VX_COMP_CET_U);
}

/* §2.5/§7.2: PL0-2_SSP are bytes 0-23 of CET_S, PL3_SSP bytes 8-15 of CET_U. */
uint64_t cet_pl_ssp(const struct vx_cpu *cpu, unsigned cpl)
{
	if (!cpu->facts.cet_ss)
		return 0;
	if (cpl < 3)
		return load_le64(component_bytes_const(cpu, VX_COMP_CET_S) + 8u * cpl);
	return load_le64(component_bytes_const(cpu, VX_COMP_CET_U) + PL3_SSP_OFFSET);
}

void cet_set_pl3_ssp(struct vx_cpu *cpu, uint64_t value)
{
	store_le64(component_bytes(cpu, VX_COMP_CET_U) + PL3_SSP_OFFSET, value);
	state_mark_by_value(cpu, VX_COMP_CET_U);
}

/* §7.1: shadow stacks are active at @cpl in @mode iff CR4.CET, protected mode, SH_STK_EN. */
bool cet_shstk_at(const struct vx_cpu *cpu, unsigned cpl, enum vx_cpu_mode mode)
{
	if (!(cpu->control.cr4 & VX_CR4_CET) || mode == VX_MODE_REAL || mode == VX_MODE_V86)
		return false;
	return (cet_control(cpu, cpl) & VX_CET_SH_STK_EN) != 0;
}

bool vx_cpu_shstk_enabled(const struct vx_cpu *cpu, unsigned cpl)
{
	return cpu && cpl <= 3 && cet_shstk_at(cpu, cpl, cpu->control.mode);
}

bool vx_cpu_ibt_enabled(const struct vx_cpu *cpu, unsigned cpl)
{
	enum vx_cpu_mode mode;

	if (!cpu || cpl > 3 || !(cpu->control.cr4 & VX_CR4_CET))
		return false;
	mode = cpu->control.mode;
	/* §7.1: IBT is active the same way, through ENDBR_EN. */
	return mode != VX_MODE_REAL && mode != VX_MODE_V86 &&
	       (cet_control(cpu, cpl) & VX_CET_ENDBR_EN) != 0;
}

int cet_misuse(struct vx_event *event, const char *fmt, ...)
{
	va_list ap;

	event_clear(event);
	if (!event)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(event->reason, sizeof(event->reason), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* §7.9: the cause of each #CP error code. */
static const enum vx_event_cause cp_causes[] = {
    [VX_CP_NEAR_RET] = VX_CAUSE_CP_NEAR_RET,   [VX_CP_FAR_RET] = VX_CAUSE_CP_FAR_RET,
    [VX_CP_ENDBRANCH] = VX_CAUSE_CP_ENDBRANCH, [VX_CP_RSTORSSP] = VX_CAUSE_CP_RSTORSSP,
    [VX_CP_SETSSBSY] = VX_CAUSE_CP_SETSSBSY,
};

int cet_raise_cp(struct vx_event *event, unsigned code, const char *fmt, ...)
{
	va_list ap;

	if (!event)
		return VX_FAULTED;
	raise_exception(event, VX_VEC_CP, cp_causes[code], "arch.md §7.9", "#CP");
	/* §7.9: vector 21, error code bits 14:0 = the cause; bit 15 (ENCL) is never set here. */
	event->error_code = code;
	va_start(ap, fmt);
	vsnprintf(event->reason, sizeof(event->reason), fmt, ap);
	va_end(ap);
	return VX_FAULTED;
}

int token_update(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, struct txn *t,
		 uint64_t addr, bool busy, bool in64, bool *ok, uint64_t *seen,
		 struct vx_event *event)
{
	/* §7.5: an atomic compare-exchange, a supervisor shadow-stack access. */
	struct mem_access a = ss_access(addr, 8, true, false, in64);
	/* §7.5: set busy expects the address with busy 0 (its low 32 bits outside 64-bit mode);
	 * clear busy expects address | 1. */
	uint64_t expected = busy ? (in64 ? addr : addr & CET_LOW32) : addr | CET_TOKEN_BUSY;
	uint64_t token = 0;

	*ok = false;
	if (mem_load(cpu, mem, &a, &token, event))
		return VX_FAULTED;
	*seen = token;
	if (token != expected)
		return 0;
	*ok = true;
	return txn_store(cpu, mem, t, &a, busy ? token | CET_TOKEN_BUSY : addr, event);
}

/* ---- instructions ----------------------------------------------------------------------- */

static int cet_ud(struct vx_event *event, const char *insn, const char *why)
{
	return raise_exception(event, VX_VEC_UD, VX_CAUSE_CET_DISABLED, "arch.md §7.7", "%s: %s",
			       insn, why);
}

static int cet_gp(struct vx_event *event, enum vx_event_cause cause, const char *insn,
		  const char *why, uint64_t value)
{
	raise_exception(event, VX_VEC_GP, cause, "arch.md §7.7", "%s: %s (0x%llx)", insn, why,
			(unsigned long long)value);
	return event_detail(event, 0, value, -1);
}

static int insn_args(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, const char *who,
		     struct vx_event *event)
{
	if (!cpu)
		return cet_misuse(event, "%s: NULL processor", who);
	event_clear(event);
	return mem ? mem_args_check(mem, who, event) : 0;
}

/* The element width of the current mode: 8 bytes in 64-bit mode, else 4 (§7.6, §7.7). */
static unsigned insn_width(const struct vx_cpu *cpu, bool q)
{
	return q && cpu_in_64bit_mode(cpu) ? 8u : 4u;
}

/* §7.3: outside 64-bit mode SSP is a 32-bit value. */
static uint64_t ssp_mode_mask(const struct vx_cpu *cpu, uint64_t ssp)
{
	return cpu_in_64bit_mode(cpu) ? ssp : ssp & CET_LOW32;
}

/* A shadow-stack access at the current privilege class. */
static struct mem_access ss_here(const struct vx_cpu *cpu, uint64_t addr, unsigned len, bool write)
{
	return ss_access(addr, len, write, cpu_effective_cpl(cpu) == 3, cpu_in_64bit_mode(cpu));
}

int vx_cpu_incssp(struct vx_cpu *cpu, struct vx_cpu_memory *mem, bool q, uint64_t reg,
		  struct vx_event *event)
{
	int rc = insn_args(cpu, mem, "INCSSP", event);
	unsigned w, n;
	uint64_t ssp, tmp = 0;
	struct mem_access first, last;

	if (rc || !mem)
		return rc ? rc : cet_misuse(event, "INCSSP: NULL memory");
	/* §7.7: #UD unless shadow stacks are enabled at CPL. */
	if (!vx_cpu_shstk_enabled(cpu, cpu_effective_cpl(cpu)))
		return cet_ud(event, "INCSSP", "shadow stacks are not enabled at CPL");
	w = insn_width(cpu, q);
	n = (unsigned)(reg & 0xFFu);
	ssp = cpu->state.ssp;
	/* §7.7: reads the elements at SSP and SSP + (max(n,1) - 1) * w; these may fault. */
	first = ss_here(cpu, ssp, w, false);
	last = ss_here(cpu, ssp + (uint64_t)(n ? n - 1 : 0) * w, w, false);
	if (mem_load(cpu, mem, &first, &tmp, event) || mem_load(cpu, mem, &last, &tmp, event))
		return VX_FAULTED;
	cpu->state.ssp = ssp_mode_mask(cpu, ssp + (uint64_t)n * w);
	return 0;
}

int vx_cpu_rdssp(struct vx_cpu *cpu, bool q, uint64_t *reg, struct vx_event *event)
{
	int rc = insn_args(cpu, NULL, "RDSSP", event);

	if (rc || !reg)
		return rc ? rc : cet_misuse(event, "RDSSP: NULL register");
	/* §7.7: a NOP (register unchanged) unless shadow stacks are enabled at CPL. */
	if (!vx_cpu_shstk_enabled(cpu, cpu_effective_cpl(cpu)))
		return 0;
	*reg = insn_width(cpu, q) == 8 ? cpu->state.ssp : cpu->state.ssp & CET_LOW32;
	return 0;
}

/* SAVEPREVSSP: pop the previous-SSP token at *@ssp and, with CF = 1, the 4-byte alignment hole
 * above it; check both (§7.7). */
static int pop_prev_token(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, bool cf,
			  uint64_t *ssp, uint64_t *token, struct vx_event *event)
{
	bool in64 = cpu_in_64bit_mode(cpu);
	struct mem_access pop = ss_here(cpu, *ssp, 8, false);
	uint64_t hole = 0;

	if (mem_load(cpu, mem, &pop, token, event))
		return VX_FAULTED;
	*ssp += 8;
	/* §7.7: CF = 1 (an alignment hole) is impossible in 64-bit mode. */
	if (cf && in64)
		return cet_gp(event, VX_CAUSE_PREV_SSP_TOKEN, "SAVEPREVSSP",
			      "CF=1 (alignment hole) in 64-bit mode", *token);
	if (cf) {
		pop = ss_here(cpu, *ssp, 4, false);
		if (mem_load(cpu, mem, &pop, &hole, event))
			return VX_FAULTED;
		/* §7.7: the popped 4-byte alignment hole must be 0. */
		if (hole != 0)
			return cet_gp(event, VX_CAUSE_PREV_SSP_TOKEN, "SAVEPREVSSP",
				      "alignment hole is not 0", hole);
		*ssp += 4;
	}
	/* §7.5/§7.7: a previous-SSP token has bit 1 = 1. */
	if (!(*token & 2u))
		return cet_gp(event, VX_CAUSE_PREV_SSP_TOKEN, "SAVEPREVSSP",
			      "previous-SSP token bit 1 is 0", *token);
	/* §7.7: outside 64-bit mode the token's bits 63:32 must be 0. */
	if (!in64 && (*token >> 32))
		return cet_gp(event, VX_CAUSE_PREV_SSP_TOKEN, "SAVEPREVSSP",
			      "previous-SSP token bits 63:32 set outside 64-bit mode", *token);
	return 0;
}

/* SAVEPREVSSP after the enable and alignment checks: pop, then write the restore token on the
 * old stack. */
static int saveprevssp_body(struct vx_cpu *cpu, struct vx_cpu_memory *mem, bool cf,
			    struct vx_event *event)
{
	uint64_t ssp = cpu->state.ssp, token = 0, old;
	struct mem_access zero, restore;
	struct txn t = {0};

	if (pop_prev_token(cpu, mem, cf, &ssp, &token, event))
		return VX_FAULTED;
	old = token & ~UINT64_C(3);
	/* §7.7: a 4-byte 0 at old_ssp - 4, then the restore token (old_ssp | mode) at
	 * (old_ssp & ~7) - 8. */
	zero = ss_here(cpu, old - 4, 4, true);
	restore = ss_here(cpu, (old & ~UINT64_C(7)) - 8, 8, true);
	if (txn_store(cpu, mem, &t, &zero, 0, event) ||
	    txn_store(cpu, mem, &t, &restore, old | (cpu_in_64bit_mode(cpu) ? 1u : 0u), event))
		return VX_FAULTED;
	txn_commit(mem, &t);
	cpu->state.ssp = ssp_mode_mask(cpu, ssp);
	return 0;
}

int vx_cpu_saveprevssp(struct vx_cpu *cpu, struct vx_cpu_memory *mem, const uint64_t *rflags,
		       struct vx_event *event)
{
	int rc = insn_args(cpu, mem, "SAVEPREVSSP", event);

	if (rc || !mem || !rflags)
		return rc ? rc : cet_misuse(event, "SAVEPREVSSP: NULL memory or RFLAGS");
	/* §7.7: #UD unless shadow stacks are enabled at CPL. */
	if (!vx_cpu_shstk_enabled(cpu, cpu_effective_cpl(cpu)))
		return cet_ud(event, "SAVEPREVSSP", "shadow stacks are not enabled at CPL");
	/* §7.7: #GP(0) if SSP is not 8-aligned. */
	if (cpu->state.ssp & 7u)
		return cet_gp(event, VX_CAUSE_MISALIGNED, "SAVEPREVSSP", "SSP is not 8-aligned",
			      cpu->state.ssp);
	return saveprevssp_body(cpu, mem, (*rflags & VX_RFLAGS_CF) != 0, event);
}

/* §7.5: is @token a restore token for address @m in the current mode? */
static bool restore_token_valid(uint64_t token, uint64_t m, bool in64)
{
	/* §7.5: bit 0 = mode (1 = 64-bit), equal to CS.L. */
	if ((token & 1u) != (in64 ? 1u : 0u))
		return false;
	/* §7.5: bit 1 = 0. */
	if (token & 2u)
		return false;
	/* §7.7: outside 64-bit mode the upper half must be 0. */
	if (!in64 && (token >> 32))
		return false;
	/* §7.5: it points just above itself: ((token & ~1) - 8) & ~7 == m. */
	return (((token & ~UINT64_C(1)) - 8) & ~UINT64_C(7)) == m;
}

static void clear_arith_flags(uint64_t *rflags, bool cf)
{
	*rflags &= ~(VX_RFLAGS_CF | VX_RFLAGS_PF | VX_RFLAGS_AF | VX_RFLAGS_ZF | VX_RFLAGS_SF |
		     VX_RFLAGS_OF);
	if (cf)
		*rflags |= VX_RFLAGS_CF;
}

int vx_cpu_rstorssp(struct vx_cpu *cpu, struct vx_cpu_memory *mem, uint64_t addr, uint64_t *rflags,
		    struct vx_event *event)
{
	int rc = insn_args(cpu, mem, "RSTORSSP", event);
	bool in64;
	uint64_t token = 0;
	struct mem_access a;
	struct txn t = {0};

	if (rc || !mem || !rflags)
		return rc ? rc : cet_misuse(event, "RSTORSSP: NULL memory or RFLAGS");
	/* §7.7: #UD unless shadow stacks are enabled at CPL. */
	if (!vx_cpu_shstk_enabled(cpu, cpu_effective_cpl(cpu)))
		return cet_ud(event, "RSTORSSP", "shadow stacks are not enabled at CPL");
	/* §7.7: #GP(0) if m is not 8-aligned. */
	if (addr & 7u)
		return cet_gp(event, VX_CAUSE_MISALIGNED, "RSTORSSP", "m64 is not 8-aligned", addr);
	in64 = cpu_in_64bit_mode(cpu);
	a = ss_here(cpu, addr, 8, true);
	if (mem_load(cpu, mem, &a, &token, event))
		return VX_FAULTED;
	/* §7.7: a bad restore token → #CP(4) RSTORSSP. */
	if (!restore_token_valid(token, addr, in64))
		return cet_raise_cp(event, VX_CP_RSTORSSP,
				    "RSTORSSP: 0x%llx at 0x%llx is not a restore token for it "
				    "(mode bit %u, bit 1 = 0, ((token & ~1) - 8) & ~7 = m)",
				    (unsigned long long)token, (unsigned long long)addr, in64);
	/* §7.5: replaced by the previous-SSP token SSP | mode | 2. */
	if (txn_store(cpu, mem, &t, &a, cpu->state.ssp | (in64 ? 1u : 0u) | 2u, event))
		return VX_FAULTED;
	txn_commit(mem, &t);
	cpu->state.ssp = addr;
	/* §7.7: CF = token bit 2 (alignment hole); ZF/PF/AF/OF/SF cleared. */
	clear_arith_flags(rflags, (token & 4u) != 0);
	return 0;
}

/* WRSS/WRUSS after their enable checks: alignment, then the shadow-stack write. */
static int write_shadow(struct vx_cpu *cpu, struct vx_cpu_memory *mem, const char *insn, bool q,
			uint64_t addr, uint64_t value, bool user, struct vx_event *event)
{
	unsigned w = insn_width(cpu, q);
	struct mem_access a = ss_access(addr, w, true, user, cpu_in_64bit_mode(cpu));
	struct txn t = {0};

	/* §7.7: #GP(0) if m is not 4-/8-aligned. */
	if (addr & (w - 1u))
		return cet_gp(event, VX_CAUSE_MISALIGNED, insn,
			      w == 8 ? "m is not 8-aligned" : "m is not 4-aligned", addr);
	if (txn_store(cpu, mem, &t, &a, w == 8 ? value : value & CET_LOW32, event))
		return VX_FAULTED;
	txn_commit(mem, &t);
	return 0;
}

int vx_cpu_wrss(struct vx_cpu *cpu, struct vx_cpu_memory *mem, bool q, uint64_t addr,
		uint64_t value, struct vx_event *event)
{
	int rc = insn_args(cpu, mem, "WRSS", event);
	unsigned cpl;

	if (rc || !mem)
		return rc ? rc : cet_misuse(event, "WRSS: NULL memory");
	cpl = cpu_effective_cpl(cpu);
	/* §7.7: #UD unless SH_STK_EN and WR_SHSTK_EN at CPL. */
	if (!vx_cpu_shstk_enabled(cpu, cpl))
		return cet_ud(event, "WRSS", "shadow stacks are not enabled at CPL");
	if (!(cet_control(cpu, cpl) & VX_CET_WR_SHSTK_EN))
		return cet_ud(event, "WRSS", "WR_SHSTK_EN is 0 at CPL");
	return write_shadow(cpu, mem, "WRSS", q, addr, value, cpl == 3, event);
}

int vx_cpu_wruss(struct vx_cpu *cpu, struct vx_cpu_memory *mem, bool q, uint64_t addr,
		 uint64_t value, struct vx_event *event)
{
	int rc = insn_args(cpu, mem, "WRUSS", event);
	enum vx_cpu_mode mode;

	if (rc || !mem)
		return rc ? rc : cet_misuse(event, "WRUSS: NULL memory");
	mode = cpu->control.mode;
	/* §7.7: #UD if CR4.CET = 0 (SH_STK_EN is not needed). */
	if (!(cpu->control.cr4 & VX_CR4_CET))
		return cet_ud(event, "WRUSS", "CR4.CET is 0");
	/* §7.1: CET works in protected mode only (docs/cpu-model.md: #UD in real and V86 mode). */
	if (mode == VX_MODE_REAL || mode == VX_MODE_V86)
		return cet_ud(event, "WRUSS", "not in protected mode");
	/* §7.7: #GP(0) if CPL != 0. */
	if (cpu_effective_cpl(cpu) != 0)
		return cet_gp(event, VX_CAUSE_CPL, "WRUSS", "CPL is not 0", cpu_effective_cpl(cpu));
	/* §7.7: a user-mode shadow-stack access. */
	return write_shadow(cpu, mem, "WRUSS", q, addr, value, true, event);
}

/* The common checks of SETSSBSY and CLRSSBSY (§7.7). */
static int busy_insn_checks(const struct vx_cpu *cpu, const char *insn, struct vx_event *event)
{
	/* §7.7: #UD unless supervisor shadow stacks are enabled (S_CET.SH_STK_EN, CR4.CET). */
	if (!vx_cpu_shstk_enabled(cpu, 0))
		return cet_ud(event, insn, "supervisor shadow stacks are not enabled");
	/* §7.7: #GP(0) if CPL != 0. */
	if (cpu_effective_cpl(cpu) != 0)
		return cet_gp(event, VX_CAUSE_CPL, insn, "CPL is not 0", cpu_effective_cpl(cpu));
	return 0;
}

int vx_cpu_setssbsy(struct vx_cpu *cpu, struct vx_cpu_memory *mem, struct vx_event *event)
{
	int rc = insn_args(cpu, mem, "SETSSBSY", event);
	uint64_t pl0, token = 0;
	bool ok = false;
	struct txn t = {0};

	if (rc || !mem)
		return rc ? rc : cet_misuse(event, "SETSSBSY: NULL memory");
	if (busy_insn_checks(cpu, "SETSSBSY", event))
		return VX_FAULTED;
	pl0 = cet_pl_ssp(cpu, 0);
	/* §7.7: #GP(0) if PL0_SSP is not 8-aligned. */
	if (pl0 & 7u) {
		cet_gp(event, VX_CAUSE_MISALIGNED, "SETSSBSY", "IA32_PL0_SSP is not 8-aligned",
		       pl0);
		return event_detail(event, VX_MSR_IA32_PL0_SSP, pl0, -1);
	}
	if (token_update(cpu, mem, &t, pl0, true, cpu_in_64bit_mode(cpu), &ok, &token, event))
		return VX_FAULTED;
	/* §7.7: a token that is busy or not its own address → #CP(5) SETSSBSY. */
	if (!ok) {
		cet_raise_cp(event, VX_CP_SETSSBSY,
			     "SETSSBSY: token 0x%llx at IA32_PL0_SSP 0x%llx is not a free "
			     "supervisor token (expected 0x%llx)",
			     (unsigned long long)token, (unsigned long long)pl0,
			     (unsigned long long)(cpu_in_64bit_mode(cpu) ? pl0 : pl0 & CET_LOW32));
		return event_detail(event, VX_MSR_IA32_PL0_SSP, token, -1);
	}
	txn_commit(mem, &t);
	cpu->state.ssp = pl0;
	return 0;
}

int vx_cpu_clrssbsy(struct vx_cpu *cpu, struct vx_cpu_memory *mem, uint64_t addr, uint64_t *rflags,
		    struct vx_event *event)
{
	int rc = insn_args(cpu, mem, "CLRSSBSY", event);
	uint64_t token = 0;
	bool ok = false;
	struct txn t = {0};

	if (rc || !mem || !rflags)
		return rc ? rc : cet_misuse(event, "CLRSSBSY: NULL memory or RFLAGS");
	if (busy_insn_checks(cpu, "CLRSSBSY", event))
		return VX_FAULTED;
	/* §7.7: #GP(0) if m is not 8-aligned. */
	if (addr & 7u)
		return cet_gp(event, VX_CAUSE_MISALIGNED, "CLRSSBSY", "m64 is not 8-aligned", addr);
	if (token_update(cpu, mem, &t, addr, false, cpu_in_64bit_mode(cpu), &ok, &token, event))
		return VX_FAULTED;
	/* §7.7: an invalid token sets CF without a fault; OF/SF/ZF/AF/PF cleared; SSP = 0. */
	txn_commit(mem, &t);
	clear_arith_flags(rflags, !ok);
	cpu->state.ssp = 0;
	return 0;
}
