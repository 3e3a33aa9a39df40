/* SPDX-License-Identifier: MIT */
/*
 * cpu layer, CET shadow stacks and their transfers (cpu_cet.h): arch.md §7.3-§7.9, §7.11,
 * §7.12 and the CET items of §10 that test_cpu_cet_amx.c does not cover: 89 (RDSSP as a NOP),
 * 91 (WRSS/WRUSS faults), 93 (CLRSSBSY on a bad token), 95 (near RET mismatch → #CP(1)),
 * 97 (interrupt from CPL3), 99 (16-bit TSS → #TS) and 101 (HOST_SSP bits 1:0 → VMfail).
 *
 * Every expected value is computed by hand from the spec text quoted beside it: tokens are
 * written as the address they hold (§7.5), pushes as the bytes §7.6 lists, fault codes from
 * §7.4 (#PF bit 0 P, 1 W, 2 U/S, 6 SS) and §7.9 (#CP 1-5).
 *
 * Memory: one window of 8 pages; the base is HI (64-bit mode) or LO (below 4 GiB, for
 * compatibility mode).  Page map (offsets from the base):
 *   0x0000 ordinary supervisor data (interrupt SSP table at 0, TSS at 0x100, IBT bitmap at 0x80)
 *   0x1000 supervisor shadow stack (kernel: its token at 0x1FF8)
 *   0x2000 supervisor shadow stack (IST1: token at 0x2FF8)
 *   0x3000 user shadow stack
 *   0x4000 ordinary user data
 *   0x5000 supervisor read-only
 *   0x6000 not present
 *   0x7000 supervisor shadow stack (a second kernel stack: token at 0x7FF8)
 *
 * The last test runs RDSSP (and, with user shadow stacks, CALL/RET/INCSSP) on this machine and
 * compares with the model; it prints SKIP for what the machine cannot do.
 */
#define _GNU_SOURCE 1 /* sigaction, siginfo_t, syscall numbers */

#include "cpu_test_util.h"

#include <errno.h>

#include <vxsave/cpu_cet.h>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#define LIVE_X86 1
#else
#define LIVE_X86 0
#endif

#define SPR  "sapphire-rapids" /* CET_SS + CET_IBT, 57-bit linear addresses */
#define ZEN4 "zen4"	       /* CET_SS only (§7.12) */
#define SKX  "skylake-server"  /* no CET */

#define HI     UINT64_C(0x7f3400000000) /* = TU_BASE: canonical with 4-level paging */
#define LO     UINT64_C(0x10000000)	/* below 4 GiB */
#define K(off) (HI + (uint64_t)(off))
#define L(off) (LO + (uint64_t)(off))
#define PAGES  8u
#define NONCAN UINT64_C(0x0000800000000000) /* bit 47: not canonical with 4-level paging */
#define BIT56  UINT64_C(0x0100000000000000) /* not canonical at 48 or 57 bits */
#define ARITH  UINT64_C(0x8D5)		    /* CF|PF|AF|ZF|SF|OF */
#define SH     VX_CET_SH_STK_EN
#define WR     VX_CET_WR_SHSTK_EN
#define M64    VX_MODE_64BIT
#define M32    VX_MODE_COMPAT
#define FAULT  VX_FAULTED
#define PF_P   1u
#define PF_W   2u
#define PF_U   4u
#define PF_SS  0x40u

static const uint8_t page_map[PAGES] = {
    0,
    VX_PAGE_SHADOW_STACK,
    VX_PAGE_SHADOW_STACK,
    VX_PAGE_SHADOW_STACK | VX_PAGE_USER,
    VX_PAGE_USER,
    VX_PAGE_READ_ONLY,
    VX_PAGE_NOT_PRESENT,
    VX_PAGE_SHADOW_STACK,
};

struct fx {
	struct tu t;
	uint8_t attr[PAGES];
	struct vx_cpu_memory mem;
	uint64_t base;
};

static void fx_open(struct fx *f, const char *profile, uint64_t base)
{
	tu_open(&f->t, profile);
	tu_fill(&f->t, 0);
	f->base = base;
	f->t.mem.base = base;
	memcpy(f->attr, page_map, sizeof(page_map));
	f->mem.window = f->t.mem;
	f->mem.attr = f->attr;
	f->mem.pages = PAGES;
}

static void fx_close(struct fx *f)
{
	tu_close(&f->t);
}

static void host_wrmsr(struct fx *f, uint32_t msr, uint64_t value)
{
	struct vx_event ev;
	char b[256];
	int rc = vx_cpu_msr_access(f->t.cpu, VX_MSR_HOST, VX_MSR_WRITE, msr, &value, &ev);

	TU_CHECK(rc == 0, "host WRMSR(%#x, %#" PRIx64 ") = %d (%s)", msr, value, rc,
		 tu_event_str(&ev, b, sizeof(b)));
}

static uint64_t host_rdmsr(struct fx *f, uint32_t msr)
{
	struct vx_event ev;
	uint64_t v = 0;
	int rc = vx_cpu_msr_access(f->t.cpu, VX_MSR_HOST, VX_MSR_READ, msr, &v, &ev);

	TU_CHECK(rc == 0, "host RDMSR(%#x) = %d", msr, rc);
	return v;
}

/* CR4.CET, U_CET, S_CET, then CPL and mode (MSRs first: WRMSR is a CPL0 matter). */
static void fx_cet(struct fx *f, bool cet, uint64_t u_cet, uint64_t s_cet, unsigned cpl,
		   enum vx_cpu_mode mode)
{
	struct vx_cpu_control c = tu_control(&f->t);

	c.cr4 = cet ? c.cr4 | VX_CR4_CET : c.cr4 & ~VX_CR4_CET;
	tu_set_control(&f->t, &c);
	host_wrmsr(f, VX_MSR_IA32_U_CET, u_cet);
	host_wrmsr(f, VX_MSR_IA32_S_CET, s_cet);
	c.cpl = cpl;
	c.mode = mode;
	tu_set_control(&f->t, &c);
}

static uint64_t mem_get(struct fx *f, uint32_t off, unsigned width)
{
	return tu_get(&f->t, off, width);
}

static void mem_put(struct fx *f, uint32_t off, uint64_t value, unsigned width)
{
	tu_put(&f->t, off, value, width);
}

static unsigned cpl_of(struct fx *f)
{
	return tu_control(&f->t).cpl;
}

/* Assert success. */
#define OK(f, call)                                                                                \
	do {                                                                                       \
		char ok_b_[256];                                                                   \
		int ok_rc_;                                                                        \
		memset(&(f)->t.ev, 0, sizeof((f)->t.ev));                                          \
		ok_rc_ = (call);                                                                   \
		TU_CHECK(ok_rc_ == 0, "%s = %d (%s)", #call, ok_rc_,                               \
			 tu_event_str(&(f)->t.ev, ok_b_, sizeof(ok_b_)));                          \
	} while (0)

/* Assert an exception with vector, error code and cause, and that nothing changed. */
#define FAULTS(f, call, vec, code, cz)                                                             \
	do {                                                                                       \
		char fb_[256];                                                                     \
		int frc_;                                                                          \
		tu_snapshot(&(f)->t);                                                              \
		memset(&(f)->t.ev, 0, sizeof((f)->t.ev));                                          \
		frc_ = (call);                                                                     \
		TU_CHECK(frc_ == VX_FAULTED, "%s = %d, expected a fault", #call, frc_);            \
		TU_CHECK((f)->t.ev.vector == (unsigned)(vec) &&                                    \
			     (f)->t.ev.error_code == (uint32_t)(code) && (f)->t.ev.cause == (cz),  \
			 "%s: got %s cause %s, expected vector %u code %#x cause %s", #call,       \
			 tu_event_str(&(f)->t.ev, fb_, sizeof(fb_)),                               \
			 vx_event_cause_name((f)->t.ev.cause), (unsigned)(vec), (unsigned)(code),  \
			 vx_event_cause_name(cz));                                                 \
		TU_CHECK(tu_unchanged(&(f)->t, fb_, sizeof(fb_)) == NULL,                          \
			 "%s changed state after the fault: %s", #call, fb_);                      \
	} while (0)

/* ------------------------------------------------------------------------------------------ */
/* The instructions of §7.7, near CALL/RET and ordinary accesses: one table                    */

enum op {
	OP_INCSSP,
	OP_RDSSP,
	OP_SAVEPREVSSP,
	OP_RSTORSSP,
	OP_WRSS,
	OP_WRUSS,
	OP_SETSSBSY,
	OP_CLRSSBSY,
	OP_CALL,
	OP_RET,
	OP_MOV_LOAD,
	OP_MOV_STORE,
};

struct cell {
	uint32_t off; /* 0 with width 0 ends the list */
	unsigned width;
	uint64_t value;
};

struct setup {
	uint64_t base;
	bool cet;
	uint64_t u_cet, s_cet;
	unsigned cpl;
	enum vx_cpu_mode mode;
	uint64_t ssp, pl0;
};

struct operation {
	enum op op;
	bool q;
	uint64_t a, b, rflags;
};

/* What must happen: rc 0 with SSP and a result (RDSSP/MOV value, or RFLAGS for RSTORSSP and
 * CLRSSBSY), or a fault with vector, error code, cause and #PF address. */
struct outcome {
	int rc;
	unsigned vector;
	uint32_t code;
	enum vx_event_cause cause;
	uint64_t address;
	uint64_t ssp, out;
};

struct insn_case {
	const char *name;
	struct setup at;
	struct cell init[3];
	struct operation op;
	struct outcome want;
	struct cell after[3];
};

#define AT(base, cet, u, s, cpl, mode, ssp, pl0)                                                   \
	{                                                                                          \
		base, cet, u, s, cpl, mode, ssp, pl0                                               \
	}
#define DO(op, q, a, b, rflags)                                                                    \
	{                                                                                          \
		op, q, a, b, rflags                                                                \
	}
#define RETIRES(ssp, out)                                                                          \
	{                                                                                          \
		0, 0, 0, VX_CAUSE_NONE, 0, ssp, out                                                \
	}
#define RAISES(vec, code, cause, address)                                                          \
	{                                                                                          \
		VX_FAULTED, vec, code, cause, address, 0, 0                                        \
	}

#define C_UD   VX_VEC_UD
#define C_GP   VX_VEC_GP
#define C_PF   VX_VEC_PF
#define C_CP   VX_VEC_CP
#define Z_CET  VX_CAUSE_CET_DISABLED
#define Z_MIS  VX_CAUSE_MISALIGNED
#define Z_CPL  VX_CAUSE_CPL
#define Z_SSPG VX_CAUSE_SS_PAGE
#define Z_PROT VX_CAUSE_PAGE_PROTECTION
#define Z_NP   VX_CAUSE_NOT_MAPPED
#define Z_PREV VX_CAUSE_PREV_SSP_TOKEN
#define Z_NC   VX_CAUSE_NONCANONICAL

static const struct insn_case insn_cases[] = {
    /* ---- INCSSP (§7.7) ---- */
    {"INCSSPQ with CR4.CET=0 -> #UD",
     AT(HI, false, 0, 0, 3, M64, K(0x3F00), 0),
     {{0}},
     DO(OP_INCSSP, true, 1, 0, 0),
     RAISES(C_UD, 0, Z_CET, 0),
     {{0}}},
    {"INCSSPQ at CPL3 with U_CET.SH_STK_EN=0 (S_CET on) -> #UD",
     AT(HI, true, 0, SH, 3, M64, K(0x3F00), 0),
     {{0}},
     DO(OP_INCSSP, true, 1, 0, 0),
     RAISES(C_UD, 0, Z_CET, 0),
     {{0}}},
    /* n = 3, w = 8: reads 0x3F00 and 0x3F10, SSP = 0x3F00 + 24. */
    {"INCSSPQ 3 at CPL3",
     AT(HI, true, SH, 0, 3, M64, K(0x3F00), 0),
     {{0}},
     DO(OP_INCSSP, true, 3, 0, 0),
     RETIRES(K(0x3F18), 0),
     {{0}}},
    /* n = r[7:0] = 0: one read at SSP, SSP unchanged. */
    {"INCSSPQ 0x100 uses only bits 7:0 (n = 0)",
     AT(HI, true, SH, 0, 3, M64, K(0x3F00), 0),
     {{0}},
     DO(OP_INCSSP, true, 0x100, 0, 0),
     RETIRES(K(0x3F00), 0),
     {{0}}},
    /* n = 255: second read at 0x3F80 + 254 * 8 = 0x4770, an ordinary user page: #PF
     * P|U|SS = 0x45. */
    {"INCSSPQ 255 reads past the shadow stack -> #PF(SS)",
     AT(HI, true, SH, 0, 3, M64, K(0x3F80), 0),
     {{0}},
     DO(OP_INCSSP, true, 255, 0, 0),
     RAISES(C_PF, PF_P | PF_U | PF_SS, Z_SSPG, K(0x4770)),
     {{0}}},
    /* INCSSPD in 64-bit mode: w = 4, n = 2 -> SSP + 8. */
    {"INCSSPD 2 moves SSP by 8",
     AT(HI, true, SH, 0, 3, M64, K(0x3F00), 0),
     {{0}},
     DO(OP_INCSSP, false, 2, 0, 0),
     RETIRES(K(0x3F08), 0),
     {{0}}},
    /* §7.4: a supervisor shadow-stack read of a user shadow-stack page: #PF P|SS = 0x41. */
    {"INCSSPQ at CPL0 on a user shadow-stack page -> #PF(SS)",
     AT(HI, true, 0, SH, 0, M64, K(0x3F00), 0),
     {{0}},
     DO(OP_INCSSP, true, 1, 0, 0),
     RAISES(C_PF, PF_P | PF_SS, Z_SSPG, K(0x3F00)),
     {{0}}},
    /* ---- RDSSP (§7.7, §10 item 89) ---- */
    {"item 89: RDSSPQ with shadow stacks disabled is a NOP",
     AT(HI, true, 0, SH, 3, M64, K(0x3F00), 0),
     {{0}},
     DO(OP_RDSSP, true, 0x1234, 0, 0),
     RETIRES(K(0x3F00), 0x1234),
     {{0}}},
    {"RDSSPQ with CR4.CET=0 is a NOP",
     AT(HI, false, 0, 0, 0, M64, K(0x3F00), 0),
     {{0}},
     DO(OP_RDSSP, true, 0x1234, 0, 0),
     RETIRES(K(0x3F00), 0x1234),
     {{0}}},
    {"RDSSPQ at CPL3",
     AT(HI, true, SH, 0, 3, M64, K(0x3FF8), 0),
     {{0}},
     DO(OP_RDSSP, true, 0x1234, 0, 0),
     RETIRES(K(0x3FF8), K(0x3FF8)),
     {{0}}},
    /* RDSSPD: low 32 bits of 0x7f3400003ff8, zero-extended. */
    {"RDSSPD zero-extends the low 32 bits",
     AT(HI, true, SH, 0, 3, M64, K(0x3FF8), 0),
     {{0}},
     DO(OP_RDSSP, false, UINT64_MAX, 0, 0),
     RETIRES(K(0x3FF8), 0x3FF8),
     {{0}}},
    /* ---- WRSS / WRUSS (§7.7, §10 item 91) ---- */
    {"item 91: WRSSQ with WR_SHSTK_EN=0 -> #UD",
     AT(HI, true, 0, SH, 0, M64, 0, 0),
     {{0}},
     DO(OP_WRSS, true, K(0x1F00), 5, 0),
     RAISES(C_UD, 0, Z_CET, 0),
     {{0}}},
    {"item 91: WRSSQ to an address = 4 (mod 8) -> #GP(0)",
     AT(HI, true, 0, SH | WR, 0, M64, 0, 0),
     {{0}},
     DO(OP_WRSS, true, K(0x1F04), 5, 0),
     RAISES(C_GP, 0, Z_MIS, 0),
     {{0}}},
    {"WRSSQ to a supervisor shadow-stack page",
     AT(HI, true, 0, SH | WR, 0, M64, 0, 0),
     {{0}},
     DO(OP_WRSS, true, K(0x1F00), 0xDEADBEEF, 0),
     RETIRES(0, 0),
     {{0x1F00, 8, 0xDEADBEEF}}},
    /* §7.4: shadow-stack write to an ordinary page: P|W|SS = 0x43. */
    {"WRSSQ to an ordinary page -> #PF(SS)",
     AT(HI, true, 0, SH | WR, 0, M64, 0, 0),
     {{0}},
     DO(OP_WRSS, true, K(0x0F00), 5, 0),
     RAISES(C_PF, PF_P | PF_W | PF_SS, Z_SSPG, K(0x0F00)),
     {{0}}},
    /* WRSSD writes 4 bytes: the qword at 0x1F00 becomes 0x55667788 << 32. */
    {"WRSSD writes the low 4 bytes",
     AT(HI, true, 0, SH | WR, 0, M64, 0, 0),
     {{0}},
     DO(OP_WRSS, false, K(0x1F04), UINT64_C(0x1122334455667788), 0),
     RETIRES(0, 0),
     {{0x1F00, 8, UINT64_C(0x5566778800000000)}, {0x1F08, 8, 0}}},
    {"WRSSQ to a non-canonical address -> #GP(0)",
     AT(HI, true, 0, SH | WR, 0, M64, 0, 0),
     {{0}},
     DO(OP_WRSS, true, NONCAN, 5, 0),
     RAISES(C_GP, 0, Z_NC, 0),
     {{0}}},
    {"item 91: WRUSSQ at CPL3 -> #GP(0)",
     AT(HI, true, SH | WR, 0, 3, M64, 0, 0),
     {{0}},
     DO(OP_WRUSS, true, K(0x3F00), 5, 0),
     RAISES(C_GP, 0, Z_CPL, 0),
     {{0}}},
    {"item 91: WRUSSQ with CR4.CET=0 -> #UD",
     AT(HI, false, 0, 0, 0, M64, 0, 0),
     {{0}},
     DO(OP_WRUSS, true, K(0x3F00), 5, 0),
     RAISES(C_UD, 0, Z_CET, 0),
     {{0}}},
    {"WRUSSQ needs only CR4.CET (no SH_STK_EN)",
     AT(HI, true, 0, 0, 0, M64, 0, 0),
     {{0}},
     DO(OP_WRUSS, true, K(0x3F00), 5, 0),
     RETIRES(0, 0),
     {{0x3F00, 8, 5}}},
    /* §7.4: a user shadow-stack access to a supervisor page: P|W|U|SS = 0x47. */
    {"WRUSSQ to a supervisor shadow-stack page -> #PF(U|SS)",
     AT(HI, true, 0, SH, 0, M64, 0, 0),
     {{0}},
     DO(OP_WRUSS, true, K(0x1F00), 5, 0),
     RAISES(C_PF, PF_P | PF_W | PF_U | PF_SS, Z_SSPG, K(0x1F00)),
     {{0}}},
    /* ---- SETSSBSY (§7.5, §7.7) ---- */
    {"SETSSBSY on a free token: busy, SSP = PL0_SSP",
     AT(HI, true, 0, SH, 0, M64, 0, K(0x1FF8)),
     {{0x1FF8, 8, K(0x1FF8)}},
     DO(OP_SETSSBSY, false, 0, 0, 0),
     RETIRES(K(0x1FF8), 0),
     {{0x1FF8, 8, K(0x1FF9)}}},
    {"SETSSBSY on a busy token -> #CP(5)",
     AT(HI, true, 0, SH, 0, M64, 0, K(0x1FF8)),
     {{0x1FF8, 8, K(0x1FF9)}},
     DO(OP_SETSSBSY, false, 0, 0, 0),
     RAISES(C_CP, 5, VX_CAUSE_CP_SETSSBSY, 0),
     {{0}}},
    {"SETSSBSY on another stack's token -> #CP(5)",
     AT(HI, true, 0, SH, 0, M64, 0, K(0x1FF8)),
     {{0x1FF8, 8, K(0x2FF8)}},
     DO(OP_SETSSBSY, false, 0, 0, 0),
     RAISES(C_CP, 5, VX_CAUSE_CP_SETSSBSY, 0),
     {{0}}},
    {"SETSSBSY at CPL3 -> #GP(0)",
     AT(HI, true, 0, SH, 3, M64, 0, K(0x1FF8)),
     {{0x1FF8, 8, K(0x1FF8)}},
     DO(OP_SETSSBSY, false, 0, 0, 0),
     RAISES(C_GP, 0, Z_CPL, 0),
     {{0}}},
    {"SETSSBSY with S_CET.SH_STK_EN=0 -> #UD",
     AT(HI, true, SH, 0, 0, M64, 0, K(0x1FF8)),
     {{0x1FF8, 8, K(0x1FF8)}},
     DO(OP_SETSSBSY, false, 0, 0, 0),
     RAISES(C_UD, 0, Z_CET, 0),
     {{0}}},
    {"SETSSBSY with PL0_SSP only 4-aligned -> #GP(0)",
     AT(HI, true, 0, SH, 0, M64, 0, K(0x1FF4)),
     {{0}},
     DO(OP_SETSSBSY, false, 0, 0, 0),
     RAISES(C_GP, 0, Z_MIS, 0),
     {{0}}},
    /* §7.4: the supervisor token access to a user page: P|W|SS = 0x43. */
    {"SETSSBSY with PL0_SSP on a user shadow-stack page -> #PF(SS)",
     AT(HI, true, 0, SH, 0, M64, 0, K(0x3FF8)),
     {{0x3FF8, 8, K(0x3FF8)}},
     DO(OP_SETSSBSY, false, 0, 0, 0),
     RAISES(C_PF, PF_P | PF_W | PF_SS, Z_SSPG, K(0x3FF8)),
     {{0}}},
    /* A lost PL0_SSP (0): the token access hits an absent page: W|SS = 0x42, address 0. */
    {"SETSSBSY with PL0_SSP = 0 -> #PF(SS, not present)",
     AT(HI, true, 0, SH, 0, M64, 0, 0),
     {{0}},
     DO(OP_SETSSBSY, false, 0, 0, 0),
     RAISES(C_PF, PF_W | PF_SS, Z_NP, 0),
     {{0}}},
    /* Outside 64-bit mode the expected token is the low 32 bits: bit 32 makes it invalid. */
    {"SETSSBSY in compatibility mode: token with bit 32 -> #CP(5)",
     AT(LO, true, 0, SH, 0, M32, 0, L(0x1FF8)),
     {{0x1FF8, 8, L(0x1FF8) | VX_BIT(32)}},
     DO(OP_SETSSBSY, false, 0, 0, 0),
     RAISES(C_CP, 5, VX_CAUSE_CP_SETSSBSY, 0),
     {{0}}},
    /* PL0_SSP above 4 GiB in compatibility mode: the expected value is its low 32 bits, the
     * token holds all 64: "a token above 4 GB fails" (§7.5). */
    {"SETSSBSY in compatibility mode: token above 4 GiB -> #CP(5)",
     AT(HI, true, 0, SH, 0, M32, 0, K(0x1FF8)),
     {{0x1FF8, 8, K(0x1FF8)}},
     DO(OP_SETSSBSY, false, 0, 0, 0),
     RAISES(C_CP, 5, VX_CAUSE_CP_SETSSBSY, 0),
     {{0}}},
    {"SETSSBSY in compatibility mode on a free token",
     AT(LO, true, 0, SH, 0, M32, 0, L(0x1FF8)),
     {{0x1FF8, 8, L(0x1FF8)}},
     DO(OP_SETSSBSY, false, 0, 0, 0),
     RETIRES(L(0x1FF8), 0),
     {{0x1FF8, 8, L(0x1FF9)}}},
    /* ---- CLRSSBSY (§7.7, §10 item 93) ---- */
    {"CLRSSBSY on a busy token: free, CF=0, flags cleared, SSP = 0",
     AT(HI, true, 0, SH, 0, M64, K(0x1FF8), 0),
     {{0x1FF8, 8, K(0x1FF9)}},
     DO(OP_CLRSSBSY, false, K(0x1FF8), 0, ARITH),
     RETIRES(0, 0),
     {{0x1FF8, 8, K(0x1FF8)}}},
    /* IF (0x200) is not an arithmetic flag: kept. */
    {"item 93: CLRSSBSY on a token != address|1: CF=1, no fault, SSP = 0",
     AT(HI, true, 0, SH, 0, M64, K(0x1FF8), 0),
     {{0x1FF8, 8, K(0x1FF8)}},
     DO(OP_CLRSSBSY, false, K(0x1FF8), 0, 0x200 | VX_RFLAGS_ZF),
     RETIRES(0, 0x201),
     {{0x1FF8, 8, K(0x1FF8)}}},
    {"CLRSSBSY with m only 4-aligned -> #GP(0)",
     AT(HI, true, 0, SH, 0, M64, K(0x1FF8), 0),
     {{0}},
     DO(OP_CLRSSBSY, false, K(0x1FF4), 0, 0),
     RAISES(C_GP, 0, Z_MIS, 0),
     {{0}}},
    /* ---- RSTORSSP (§7.5, §7.7) ---- */
    /* Restore token at m = 0x7FF0: (m + 8) | 1 (mode 1); becomes SSP | 1 | 2 = 0x1F03. */
    {"RSTORSSP with a valid 64-bit restore token",
     AT(HI, true, 0, SH, 0, M64, K(0x1F00), 0),
     {{0x7FF0, 8, K(0x7FF9)}},
     DO(OP_RSTORSSP, false, K(0x7FF0), 0, ARITH),
     RETIRES(K(0x7FF0), 0),
     {{0x7FF0, 8, K(0x1F03)}}},
    /* Token (m + 12) | 1: ((0x7FFC) - 8) & ~7 = 0x7FF0 = m, bit 2 set -> CF = 1. */
    {"RSTORSSP with the alignment-hole bit -> CF=1",
     AT(HI, true, 0, SH, 0, M64, K(0x1F00), 0),
     {{0x7FF0, 8, K(0x7FFD)}},
     DO(OP_RSTORSSP, false, K(0x7FF0), 0, 0),
     RETIRES(K(0x7FF0), 1),
     {{0x7FF0, 8, K(0x1F03)}}},
    {"RSTORSSP token with mode bit 0 in 64-bit mode -> #CP(4)",
     AT(HI, true, 0, SH, 0, M64, K(0x1F00), 0),
     {{0x7FF0, 8, K(0x7FF8)}},
     DO(OP_RSTORSSP, false, K(0x7FF0), 0, 0),
     RAISES(C_CP, 4, VX_CAUSE_CP_RSTORSSP, 0),
     {{0}}},
    {"RSTORSSP token with bit 1 set -> #CP(4)",
     AT(HI, true, 0, SH, 0, M64, K(0x1F00), 0),
     {{0x7FF0, 8, K(0x7FFB)}},
     DO(OP_RSTORSSP, false, K(0x7FF0), 0, 0),
     RAISES(C_CP, 4, VX_CAUSE_CP_RSTORSSP, 0),
     {{0}}},
    /* Token 0x7FF0 | 1: ((0x7FF0) - 8) & ~7 = 0x7FE8 != m. */
    {"RSTORSSP token that points at itself -> #CP(4)",
     AT(HI, true, 0, SH, 0, M64, K(0x1F00), 0),
     {{0x7FF0, 8, K(0x7FF1)}},
     DO(OP_RSTORSSP, false, K(0x7FF0), 0, 0),
     RAISES(C_CP, 4, VX_CAUSE_CP_RSTORSSP, 0),
     {{0}}},
    {"RSTORSSP with m only 4-aligned -> #GP(0)",
     AT(HI, true, 0, SH, 0, M64, K(0x1F00), 0),
     {{0}},
     DO(OP_RSTORSSP, false, K(0x7FF4), 0, 0),
     RAISES(C_GP, 0, Z_MIS, 0),
     {{0}}},
    {"RSTORSSP in compatibility mode: a 64-bit-mode token -> #CP(4)",
     AT(LO, true, SH, 0, 3, M32, L(0x3E00), 0),
     {{0x3FF0, 8, L(0x3FF9)}},
     DO(OP_RSTORSSP, false, L(0x3FF0), 0, 0),
     RAISES(C_CP, 4, VX_CAUSE_CP_RSTORSSP, 0),
     {{0}}},
    /* Mode 0 token m + 8; previous-SSP token SSP | 0 | 2 = 0x3E02. */
    {"RSTORSSP in compatibility mode with a 32-bit token",
     AT(LO, true, SH, 0, 3, M32, L(0x3E00), 0),
     {{0x3FF0, 8, L(0x3FF8)}},
     DO(OP_RSTORSSP, false, L(0x3FF0), 0, 0),
     RETIRES(L(0x3FF0), 0),
     {{0x3FF0, 8, L(0x3E02)}}},
    /* ---- SAVEPREVSSP (§7.5, §7.7) ---- */
    /* Previous-SSP token 0x1F03 at SSP: old = 0x1F00; 4-byte 0 at 0x1EFC, then the restore token
     * 0x1F00 | 1 at (0x1F00 & ~7) - 8 = 0x1EF8 (overlapping it); SSP += 8. */
    {"SAVEPREVSSP after RSTORSSP writes the restore token on the old stack",
     AT(HI, true, 0, SH, 0, M64, K(0x7FF0), 0),
     {{0x7FF0, 8, K(0x1F03)}, {0x1EF8, 8, UINT64_MAX}},
     DO(OP_SAVEPREVSSP, false, 0, 0, 0),
     RETIRES(K(0x7FF8), 0),
     {{0x1EF8, 8, K(0x1F01)}, {0x1F00, 8, 0}}},
    {"SAVEPREVSSP with CF=1 in 64-bit mode -> #GP(0)",
     AT(HI, true, 0, SH, 0, M64, K(0x7FF0), 0),
     {{0x7FF0, 8, K(0x1F03)}},
     DO(OP_SAVEPREVSSP, false, 0, 0, VX_RFLAGS_CF),
     RAISES(C_GP, 0, Z_PREV, 0),
     {{0}}},
    {"SAVEPREVSSP on a token with bit 1 = 0 -> #GP(0)",
     AT(HI, true, 0, SH, 0, M64, K(0x7FF0), 0),
     {{0x7FF0, 8, K(0x1F01)}},
     DO(OP_SAVEPREVSSP, false, 0, 0, 0),
     RAISES(C_GP, 0, Z_PREV, 0),
     {{0}}},
    {"SAVEPREVSSP with SSP only 4-aligned -> #GP(0)",
     AT(HI, true, 0, SH, 0, M64, K(0x7FF4), 0),
     {{0}},
     DO(OP_SAVEPREVSSP, false, 0, 0, 0),
     RAISES(C_GP, 0, Z_MIS, 0),
     {{0}}},
    /* Compatibility mode, CF = 1: token 0x1F06 (old 0x1F04, mode 0), hole 0 at 0x7FF8.  4-byte
     * 0 at 0x1F00, restore token 0x1F04 at (0x1F04 & ~7) - 8 = 0x1EF8, SSP = 0x7FF0 + 12. */
    {"SAVEPREVSSP in compatibility mode pops the alignment hole",
     AT(LO, true, 0, SH, 0, M32, L(0x7FF0), 0),
     {{0x7FF0, 8, L(0x1F06)}, {0x1EF8, 8, UINT64_MAX}, {0x1F00, 8, UINT64_MAX}},
     DO(OP_SAVEPREVSSP, false, 0, 0, VX_RFLAGS_CF),
     RETIRES(L(0x7FFC), 0),
     {{0x1EF8, 8, L(0x1F04)}, {0x1F00, 8, UINT64_C(0xFFFFFFFF00000000)}}},
    /* §7.7: outside 64-bit mode a previous-SSP token with bits 63:32 set → #GP(0). */
    {"SAVEPREVSSP in compatibility mode: token bit 32 -> #GP(0)",
     AT(LO, true, 0, SH, 0, M32, L(0x7FF0), 0),
     {{0x7FF0, 8, L(0x1F02) | VX_BIT(32)}},
     DO(OP_SAVEPREVSSP, false, 0, 0, 0),
     RAISES(C_GP, 0, Z_PREV, 0),
     {{0}}},
    {"SAVEPREVSSP in compatibility mode: hole not 0 -> #GP(0)",
     AT(LO, true, 0, SH, 0, M32, L(0x7FF0), 0),
     {{0x7FF0, 8, L(0x1F06)}, {0x7FF8, 4, 1}},
     DO(OP_SAVEPREVSSP, false, 0, 0, VX_RFLAGS_CF),
     RAISES(C_GP, 0, Z_PREV, 0),
     {{0}}},
    /* ---- near CALL / RET (§7.6, §10 item 95) ---- */
    {"near CALL pushes the return address (8 bytes)",
     AT(HI, true, SH, 0, 3, M64, K(0x3F00), 0),
     {{0}},
     DO(OP_CALL, false, 0x401000, 0, 0),
     RETIRES(K(0x3EF8), 0),
     {{0x3EF8, 8, 0x401000}}},
    {"near RET with a matching copy pops it",
     AT(HI, true, SH, 0, 3, M64, K(0x3EF8), 0),
     {{0x3EF8, 8, 0x401000}},
     DO(OP_RET, false, 0x401000, 0, 0),
     RETIRES(K(0x3F00), 0),
     {{0}}},
    {"item 95: near RET with a different copy -> #CP(1)",
     AT(HI, true, SH, 0, 3, M64, K(0x3EF8), 0),
     {{0x3EF8, 8, 0x401000}},
     DO(OP_RET, false, 0x401008, 0, 0),
     RAISES(C_CP, 1, VX_CAUSE_CP_NEAR_RET, 0),
     {{0}}},
    {"near CALL with shadow stacks off touches nothing",
     AT(HI, true, 0, SH, 3, M64, K(0x3F00), 0),
     {{0}},
     DO(OP_CALL, false, 0x401000, 0, 0),
     RETIRES(K(0x3F00), 0),
     {{0x3EF8, 8, 0}}},
    {"near CALL in compatibility mode pushes 4 bytes",
     AT(LO, true, SH, 0, 3, M32, L(0x3F00), 0),
     {{0}},
     DO(OP_CALL, false, 0x8048000, 0, 0),
     RETIRES(L(0x3EFC), 0),
     {{0x3EF8, 8, UINT64_C(0x0804800000000000)}}},
    {"near RET in compatibility mode compares 4 bytes",
     AT(LO, true, SH, 0, 3, M32, L(0x3EFC), 0),
     {{0x3EFC, 4, 0x8048000}},
     DO(OP_RET, false, 0x8048000, 0, 0),
     RETIRES(L(0x3F00), 0),
     {{0}}},
    /* ---- ordinary accesses (§7.4) ---- */
    {"ordinary write to a shadow-stack page -> #PF(P|W)",
     AT(HI, true, 0, SH, 0, M64, 0, 0),
     {{0}},
     DO(OP_MOV_STORE, false, K(0x1F00), 7, 0),
     RAISES(C_PF, PF_P | PF_W, Z_PROT, K(0x1F00)),
     {{0}}},
    {"ordinary read of a shadow-stack page is allowed",
     AT(HI, true, 0, SH, 0, M64, 0, 0),
     {{0x1F00, 8, 0x99}},
     DO(OP_MOV_LOAD, false, K(0x1F00), 0, 0),
     RETIRES(0, 0x99),
     {{0}}},
    {"user read of a supervisor page -> #PF(P|U)",
     AT(HI, true, 0, 0, 3, M64, 0, 0),
     {{0}},
     DO(OP_MOV_LOAD, false, K(0x0F00), 0, 0),
     RAISES(C_PF, PF_P | PF_U, Z_PROT, K(0x0F00)),
     {{0}}},
    {"supervisor write to a read-only page with CR0.WP=1 -> #PF(P|W)",
     AT(HI, true, 0, 0, 0, M64, 0, 0),
     {{0}},
     DO(OP_MOV_STORE, false, K(0x5000), 7, 0),
     RAISES(C_PF, PF_P | PF_W, Z_PROT, K(0x5000)),
     {{0}}},
    {"read of a not-present page -> #PF(0)",
     AT(HI, true, 0, 0, 0, M64, 0, 0),
     {{0}},
     DO(OP_MOV_LOAD, false, K(0x6008), 0, 0),
     RAISES(C_PF, 0, Z_NP, K(0x6008)),
     {{0}}},
    /* An 8-byte write at 0x4FFC spans the user page 0x4000 and the read-only 0x5000. */
    {"user write crossing into a supervisor page faults on the second page",
     AT(HI, true, 0, 0, 3, M64, 0, 0),
     {{0}},
     DO(OP_MOV_STORE, false, K(0x4FFC), 7, 0),
     RAISES(C_PF, PF_P | PF_W | PF_U, Z_PROT, K(0x5000)),
     {{0}}},
};

static int run_op(struct fx *f, const struct operation *o, uint64_t *out, uint64_t *rflags)
{
	struct vx_cpu *cpu = f->t.cpu;
	struct vx_cpu_memory *m = &f->mem;
	struct vx_event *ev = &f->t.ev;
	uint8_t bytes[8] = {0};
	int rc;

	switch (o->op) {
	case OP_INCSSP:
		return vx_cpu_incssp(cpu, m, o->q, o->a, ev);
	case OP_RDSSP:
		*out = o->a;
		return vx_cpu_rdssp(cpu, o->q, out, ev);
	case OP_SAVEPREVSSP:
		return vx_cpu_saveprevssp(cpu, m, rflags, ev);
	case OP_RSTORSSP:
		return vx_cpu_rstorssp(cpu, m, o->a, rflags, ev);
	case OP_WRSS:
		return vx_cpu_wrss(cpu, m, o->q, o->a, o->b, ev);
	case OP_WRUSS:
		return vx_cpu_wruss(cpu, m, o->q, o->a, o->b, ev);
	case OP_SETSSBSY:
		return vx_cpu_setssbsy(cpu, m, ev);
	case OP_CLRSSBSY:
		return vx_cpu_clrssbsy(cpu, m, o->a, rflags, ev);
	case OP_CALL:
		return vx_cpu_cet_call(cpu, m, o->a, 0, ev);
	case OP_RET:
		return vx_cpu_cet_ret(cpu, m, o->a, ev);
	case OP_MOV_LOAD:
		rc = vx_cpu_mem_read(cpu, m, o->a, bytes, 8, ev);
		memcpy(out, bytes, 8);
		return rc;
	case OP_MOV_STORE:
		memcpy(bytes, &o->b, 8);
		return vx_cpu_mem_write(cpu, m, o->a, bytes, 8, ev);
	}
	return -1;
}

static void setup_case(struct fx *f, const struct insn_case *c)
{
	fx_open(f, SPR, c->at.base);
	fx_cet(f, true, 0, 0, 0, M64); /* CR4.CET on, to write PL0_SSP */
	host_wrmsr(f, VX_MSR_IA32_PL0_SSP, c->at.pl0);
	fx_cet(f, c->at.cet, c->at.u_cet, c->at.s_cet, c->at.cpl, c->at.mode);
	vx_cpu_set_ssp(f->t.cpu, c->at.ssp);
	for (unsigned i = 0; i < 3 && c->init[i].width; i++)
		mem_put(f, c->init[i].off, c->init[i].value, c->init[i].width);
}

/* A fault: vector, code, cause, #PF address, and nothing changed (processor, memory, RFLAGS). */
static int check_fault(struct fx *f, const struct insn_case *c, uint64_t rflags)
{
	const struct outcome *w = &c->want;
	int failures = 0;
	char b[256];

	TU_CASE_CHECK(failures,
		      f->t.ev.vector == w->vector && f->t.ev.error_code == w->code &&
			  f->t.ev.cause == w->cause,
		      c->name, "%s cause %s, expected vector %u code %#x cause %s",
		      tu_event_str(&f->t.ev, b, sizeof(b)), vx_event_cause_name(f->t.ev.cause),
		      w->vector, w->code, vx_event_cause_name(w->cause));
	if (w->vector == VX_VEC_PF)
		TU_CASE_CHECK(failures, f->t.ev.address == w->address, c->name,
			      "#PF address %#" PRIx64 ", expected %#" PRIx64, f->t.ev.address,
			      w->address);
	TU_CASE_CHECK(failures, tu_unchanged(&f->t, b, sizeof(b)) == NULL, c->name,
		      "state changed by a fault: %s", b);
	TU_CASE_CHECK(failures, rflags == c->op.rflags, c->name, "RFLAGS changed by a fault");
	return failures;
}

static int check_retired(struct fx *f, const struct insn_case *c, uint64_t out, uint64_t rflags)
{
	const struct outcome *w = &c->want;
	enum op op = c->op.op;
	int failures = 0;

	TU_CASE_CHECK(failures, vx_cpu_get_ssp(f->t.cpu) == w->ssp, c->name,
		      "SSP %#" PRIx64 ", expected %#" PRIx64, vx_cpu_get_ssp(f->t.cpu), w->ssp);
	if (op == OP_RDSSP || op == OP_MOV_LOAD)
		TU_CASE_CHECK(failures, out == w->out, c->name,
			      "result %#" PRIx64 ", expected %#" PRIx64, out, w->out);
	if (op == OP_RSTORSSP || op == OP_CLRSSBSY)
		TU_CASE_CHECK(failures, rflags == w->out, c->name,
			      "RFLAGS %#" PRIx64 ", expected %#" PRIx64, rflags, w->out);
	for (unsigned i = 0; i < 3 && c->after[i].width; i++) {
		uint64_t got = mem_get(f, c->after[i].off, c->after[i].width);

		TU_CASE_CHECK(failures, got == c->after[i].value, c->name,
			      "memory +%#x = %#" PRIx64 ", expected %#" PRIx64, c->after[i].off,
			      got, c->after[i].value);
	}
	return failures;
}

static int check_insn_case(const struct insn_case *c)
{
	uint64_t out = 0, rflags = c->op.rflags;
	int failures = 0;
	char b[256];
	struct fx f;
	int rc;

	setup_case(&f, c);
	tu_snapshot(&f.t);
	memset(&f.t.ev, 0, sizeof(f.t.ev));
	rc = run_op(&f, &c->op, &out, &rflags);
	TU_CASE_CHECK(failures, rc == c->want.rc, c->name, "rc %d, expected %d (%s)", rc,
		      c->want.rc, tu_event_str(&f.t.ev, b, sizeof(b)));
	if (rc == c->want.rc)
		failures += rc == VX_FAULTED ? check_fault(&f, c, rflags)
					     : check_retired(&f, c, out, rflags);
	fx_close(&f);
	return failures;
}

static void test_instruction_table(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(insn_cases) / sizeof(insn_cases[0]); i++)
		failures += check_insn_case(&insn_cases[i]);
	TU_CHECK(failures == 0, "%d case failure(s)", failures);
}

/* ------------------------------------------------------------------------------------------ */
/* Far transfers and events (§7.6)                                                             */

static struct vx_cet_far far_to(unsigned cpl, enum vx_cpu_mode mode, unsigned ist, uint16_t cs,
				uint64_t lip)
{
	struct vx_cet_far x = {cpl, mode, ist, cs, lip};

	return x;
}

/* §10 item 97: CPL3 → CPL0 with U and S shadow stacks on, then IRET back. */
static void test_interrupt_from_user(void **state)
{
	struct vx_cet_far in = far_to(0, M64, 0, 0x33, 0x401234);
	struct vx_cet_far out = far_to(3, M64, 0, 0x33, 0x401234);
	struct fx f;

	(void)state;
	fx_open(&f, SPR, HI);
	fx_cet(&f, true, SH, SH, 0, M64);
	host_wrmsr(&f, VX_MSR_IA32_PL0_SSP, K(0x1FF8));
	mem_put(&f, 0x1FF8, K(0x1FF8), 8);
	fx_cet(&f, true, SH, SH, 3, M64);
	vx_cpu_set_ssp(f.t.cpu, K(0x3F00));
	OK(&f, vx_cpu_cet_event(f.t.cpu, &f.mem, &in, &f.t.ev));
	/* item 97: PL3_SSP = old SSP; SSP = PL0_SSP; token busy; nothing pushed. */
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_PL3_SSP) == K(0x3F00), "PL3_SSP %#" PRIx64,
		 host_rdmsr(&f, VX_MSR_IA32_PL3_SSP));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x1FF8), "SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	TU_CHECK(mem_get(&f, 0x1FF8, 8) == K(0x1FF9), "token %#" PRIx64, mem_get(&f, 0x1FF8, 8));
	TU_CHECK(tu_all(&f.t, 0x1000, 0x1FF8, 0), "something was pushed below the token");
	TU_CHECK(cpl_of(&f) == 0, "CPL %u after the event", cpl_of(&f));
	/* §7.6: return to CPL3: busy bit cleared, SSP = PL3_SSP. */
	OK(&f, vx_cpu_cet_iret(f.t.cpu, &f.mem, &out, &f.t.ev));
	TU_CHECK(mem_get(&f, 0x1FF8, 8) == K(0x1FF8), "token not freed: %#" PRIx64,
		 mem_get(&f, 0x1FF8, 8));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x3F00), "SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	TU_CHECK(cpl_of(&f) == 3, "CPL %u after IRET", cpl_of(&f));
	/* The same interrupt again, but the token is still busy (never freed): #GP(0) (§7.6). */
	mem_put(&f, 0x1FF8, K(0x1FF9), 8);
	FAULTS(&f, vx_cpu_cet_event(f.t.cpu, &f.mem, &in, &f.t.ev), VX_VEC_GP, 0,
	       VX_CAUSE_SS_TOKEN);
	/* A PL0_SSP that is only 4-aligned: #GP(0) before the token is looked at (§7.6). */
	host_wrmsr(&f, VX_MSR_IA32_PL0_SSP, K(0x1FF4));
	FAULTS(&f, vx_cpu_cet_event(f.t.cpu, &f.mem, &in, &f.t.ev), VX_VEC_GP, 0,
	       VX_CAUSE_MISALIGNED);
	/* Back to IRET into compatibility mode with PL3_SSP above 4 GiB: #GP(0) (§7.3, §7.6). */
	host_wrmsr(&f, VX_MSR_IA32_PL0_SSP, K(0x1FF8));
	mem_put(&f, 0x1FF8, K(0x1FF8), 8);
	OK(&f, vx_cpu_cet_event(f.t.cpu, &f.mem, &in, &f.t.ev));
	out.mode = M32;
	FAULTS(&f, vx_cpu_cet_iret(f.t.cpu, &f.mem, &out, &f.t.ev), VX_VEC_GP, 0,
	       VX_CAUSE_SSP_HIGH_BITS);
	fx_close(&f);
}

/* Far CALL / far RET at the same level and through call gates (§7.6). */
static void test_far_call_ret(void **state)
{
	struct vx_cet_far same = far_to(3, M64, 0, 0x33, 0x401000);
	struct vx_cet_far gate = far_to(0, M64, 0, 0x63, 0x402000);
	struct vx_cet_far back;
	struct fx f;

	(void)state;
	fx_open(&f, SPR, HI);
	fx_cet(&f, true, SH, SH, 0, M64);
	host_wrmsr(&f, VX_MSR_IA32_PL0_SSP, K(0x1FF8));
	host_wrmsr(&f, VX_MSR_IA32_PL1_SSP, K(0x7FF8)); /* unused: checks PL0 is the one taken */
	mem_put(&f, 0x1FF8, K(0x1FF8), 8);
	fx_cet(&f, true, SH, SH, 3, M64);
	/* Same privilege, SSP 8-aligned: CS at -8, LIP at -16, old SSP at -24. */
	vx_cpu_set_ssp(f.t.cpu, K(0x3F00));
	OK(&f, vx_cpu_cet_far_call(f.t.cpu, &f.mem, &same, &f.t.ev));
	TU_CHECK(mem_get(&f, 0x3EF8, 8) == 0x33 && mem_get(&f, 0x3EF0, 8) == 0x401000 &&
		     mem_get(&f, 0x3EE8, 8) == K(0x3F00),
		 "far CALL frame %#" PRIx64 " %#" PRIx64 " %#" PRIx64, mem_get(&f, 0x3EF8, 8),
		 mem_get(&f, 0x3EF0, 8), mem_get(&f, 0x3EE8, 8));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x3EE8), "SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	/* far RET with another CS: #CP(2); with the right one: SSP back. */
	back = far_to(3, M64, 0, 0x2B, 0x401000);
	FAULTS(&f, vx_cpu_cet_far_ret(f.t.cpu, &f.mem, &back, &f.t.ev), VX_VEC_CP, 2,
	       VX_CAUSE_CP_FAR_RET);
	back.cs = 0x33;
	back.lip = 0x401001;
	FAULTS(&f, vx_cpu_cet_far_ret(f.t.cpu, &f.mem, &back, &f.t.ev), VX_VEC_CP, 2,
	       VX_CAUSE_CP_FAR_RET);
	back.lip = 0x401000;
	/* Returning to compatibility mode with a popped SSP above 4 GiB: #GP(0) (§7.6). */
	back.mode = M32;
	FAULTS(&f, vx_cpu_cet_far_ret(f.t.cpu, &f.mem, &back, &f.t.ev), VX_VEC_GP, 0,
	       VX_CAUSE_SSP_HIGH_BITS);
	back.mode = M64;
	OK(&f, vx_cpu_cet_far_ret(f.t.cpu, &f.mem, &back, &f.t.ev));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x3F00), "SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	/* SSP only 4-aligned: a 4-byte 0 at 0x3F00, then the frame below 0x3F00. */
	vx_cpu_set_ssp(f.t.cpu, K(0x3F04));
	mem_put(&f, 0x3F00, 0xFFFFFFFF, 4);
	OK(&f, vx_cpu_cet_far_call(f.t.cpu, &f.mem, &same, &f.t.ev));
	TU_CHECK(mem_get(&f, 0x3F00, 4) == 0, "alignment hole not written as 0");
	TU_CHECK(mem_get(&f, 0x3EE8, 8) == K(0x3F04), "old SSP %#" PRIx64, mem_get(&f, 0x3EE8, 8));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x3EE8), "SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	OK(&f, vx_cpu_cet_far_ret(f.t.cpu, &f.mem, &back, &f.t.ev));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x3F04), "SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	/* A popped SSP with bits 1:0 set: #CP(2); a misaligned SSP at far RET: #CP(2). */
	vx_cpu_set_ssp(f.t.cpu, K(0x3EE8));
	mem_put(&f, 0x3EE8, K(0x3F01), 8);
	FAULTS(&f, vx_cpu_cet_far_ret(f.t.cpu, &f.mem, &back, &f.t.ev), VX_VEC_CP, 2,
	       VX_CAUSE_CP_FAR_RET);
	vx_cpu_set_ssp(f.t.cpu, K(0x3EEC));
	FAULTS(&f, vx_cpu_cet_far_ret(f.t.cpu, &f.mem, &back, &f.t.ev), VX_VEC_CP, 2,
	       VX_CAUSE_CP_FAR_RET);
	/* Call gate CPL3 → CPL0: PL3_SSP saved, SSP = PL0_SSP (busy), nothing pushed. */
	vx_cpu_set_ssp(f.t.cpu, K(0x3F00));
	OK(&f, vx_cpu_cet_far_call(f.t.cpu, &f.mem, &gate, &f.t.ev));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x1FF8) && mem_get(&f, 0x1FF8, 8) == K(0x1FF9) &&
		     host_rdmsr(&f, VX_MSR_IA32_PL3_SSP) == K(0x3F00),
		 "call gate: SSP %#" PRIx64 " token %#" PRIx64, vx_cpu_get_ssp(f.t.cpu),
		 mem_get(&f, 0x1FF8, 8));
	back = far_to(3, M64, 0, 0x33, 0x401000);
	OK(&f, vx_cpu_cet_far_ret(f.t.cpu, &f.mem, &back, &f.t.ev));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x3F00) && mem_get(&f, 0x1FF8, 8) == K(0x1FF8),
		 "far RET to CPL3: SSP %#" PRIx64 " token %#" PRIx64, vx_cpu_get_ssp(f.t.cpu),
		 mem_get(&f, 0x1FF8, 8));
	fx_close(&f);
}

/* Supervisor → supervisor (CPL1 → CPL0 gate): token busy on the PL0 stack, then CS/LIP/SSP pushed
 * on it; far RET to CPL1 pops, frees the token and returns to the CPL1 stack (§7.6). */
static void test_supervisor_gate(void **state)
{
	struct vx_cet_far gate = far_to(0, M64, 0, 0x4B, 0x403000);
	struct vx_cet_far back = far_to(1, M64, 0, 0x4B, 0x403000);
	struct fx f;

	(void)state;
	fx_open(&f, SPR, HI);
	fx_cet(&f, true, 0, SH, 0, M64);
	host_wrmsr(&f, VX_MSR_IA32_PL0_SSP, K(0x1FF8));
	mem_put(&f, 0x1FF8, K(0x1FF8), 8);
	fx_cet(&f, true, 0, SH, 1, M64);
	vx_cpu_set_ssp(f.t.cpu, K(0x7F00));
	OK(&f, vx_cpu_cet_far_call(f.t.cpu, &f.mem, &gate, &f.t.ev));
	TU_CHECK(mem_get(&f, 0x1FF8, 8) == K(0x1FF9), "token not busy");
	TU_CHECK(mem_get(&f, 0x1FF0, 8) == 0x4B && mem_get(&f, 0x1FE8, 8) == 0x403000 &&
		     mem_get(&f, 0x1FE0, 8) == K(0x7F00),
		 "frame on the PL0 stack: %#" PRIx64 " %#" PRIx64 " %#" PRIx64,
		 mem_get(&f, 0x1FF0, 8), mem_get(&f, 0x1FE8, 8), mem_get(&f, 0x1FE0, 8));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x1FE0), "SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	OK(&f, vx_cpu_cet_far_ret(f.t.cpu, &f.mem, &back, &f.t.ev));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x7F00), "SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	TU_CHECK(mem_get(&f, 0x1FF8, 8) == K(0x1FF8), "token not freed by the outward return");
	TU_CHECK(cpl_of(&f) == 1, "CPL %u", cpl_of(&f));
	fx_close(&f);
}

/*
 * A kernel's path: SYSCALL (SSP = 0) → SETSSBSY → a near CALL → an NMI-like event through IST1
 * (interrupt SSP table) → a nested event on the busy IST stack → IRET → RET → CLRSSBSY → SYSRET.
 */
static void test_kernel_sequence(void **state)
{
	struct vx_cet_far nmi = far_to(0, M64, 1, 0x10, UINT64_C(0xFFFFFFFF81001234));
	struct vx_cet_far iret = far_to(0, M64, 0, 0x10, UINT64_C(0xFFFFFFFF81001234));
	uint64_t rflags = 0;
	struct fx f;

	(void)state;
	fx_open(&f, SPR, HI);
	fx_cet(&f, true, SH, SH, 0, M64);
	host_wrmsr(&f, VX_MSR_IA32_PL0_SSP, K(0x1FF8));
	host_wrmsr(&f, VX_MSR_IA32_INT_SSP_TAB, K(0x0000));
	mem_put(&f, 0x0008, K(0x2FF8), 8); /* ISST entry 1 */
	mem_put(&f, 0x1FF8, K(0x1FF8), 8);
	mem_put(&f, 0x2FF8, K(0x2FF8), 8);
	fx_cet(&f, true, SH, SH, 3, M64);
	vx_cpu_set_ssp(f.t.cpu, K(0x3F00));
	/* §7.6: SYSCALL: PL3_SSP = SSP, SSP = 0. */
	OK(&f, vx_cpu_cet_syscall(f.t.cpu, M64, &f.t.ev));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == 0 && host_rdmsr(&f, VX_MSR_IA32_PL3_SSP) == K(0x3F00),
		 "SYSCALL: SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	/* §7.7: SETSSBSY. */
	OK(&f, vx_cpu_setssbsy(f.t.cpu, &f.mem, &f.t.ev));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x1FF8) && mem_get(&f, 0x1FF8, 8) == K(0x1FF9),
		 "SETSSBSY");
	OK(&f, vx_cpu_cet_call(f.t.cpu, &f.mem, UINT64_C(0xFFFFFFFF81000100), 0, &f.t.ev));
	TU_CHECK(mem_get(&f, 0x1FF0, 8) == UINT64_C(0xFFFFFFFF81000100), "kernel CALL push");
	/* §7.6 IST: SSP from ISST + 8 = 0x2FF8, token busy, CS/LIP/old SSP pushed below it. */
	OK(&f, vx_cpu_cet_event(f.t.cpu, &f.mem, &nmi, &f.t.ev));
	TU_CHECK(mem_get(&f, 0x2FF8, 8) == K(0x2FF9), "IST token not busy");
	TU_CHECK(mem_get(&f, 0x2FF0, 8) == 0x10 &&
		     mem_get(&f, 0x2FE8, 8) == UINT64_C(0xFFFFFFFF81001234) &&
		     mem_get(&f, 0x2FE0, 8) == K(0x1FF0),
		 "IST frame %#" PRIx64 " %#" PRIx64 " %#" PRIx64, mem_get(&f, 0x2FF0, 8),
		 mem_get(&f, 0x2FE8, 8), mem_get(&f, 0x2FE0, 8));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x2FE0), "SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	/* A nested event through the same IST while its token is busy: #GP(0) (§7.6). */
	FAULTS(&f, vx_cpu_cet_event(f.t.cpu, &f.mem, &nmi, &f.t.ev), VX_VEC_GP, 0,
	       VX_CAUSE_SS_TOKEN);
	/* IRET: popped SSP 0x1FF0 differs from 0x2FF8 → the IST token is freed. */
	OK(&f, vx_cpu_cet_iret(f.t.cpu, &f.mem, &iret, &f.t.ev));
	TU_CHECK(mem_get(&f, 0x2FF8, 8) == K(0x2FF8), "IST token not freed by IRET");
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x1FF0), "SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	OK(&f, vx_cpu_cet_ret(f.t.cpu, &f.mem, UINT64_C(0xFFFFFFFF81000100), &f.t.ev));
	/* The kernel frees its token before SYSRET (§7.6). */
	OK(&f, vx_cpu_clrssbsy(f.t.cpu, &f.mem, K(0x1FF8), &rflags, &f.t.ev));
	TU_CHECK(!(rflags & VX_RFLAGS_CF) && mem_get(&f, 0x1FF8, 8) == K(0x1FF8) &&
		     vx_cpu_get_ssp(f.t.cpu) == 0,
		 "CLRSSBSY: CF %d token %#" PRIx64, (int)(rflags & 1), mem_get(&f, 0x1FF8, 8));
	OK(&f, vx_cpu_cet_sysret(f.t.cpu, M64, &f.t.ev));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x3F00) && cpl_of(&f) == 3, "SYSRET: SSP %#" PRIx64,
		 vx_cpu_get_ssp(f.t.cpu));
	/* SYSRET at CPL3: #GP(0). */
	FAULTS(&f, vx_cpu_cet_sysret(f.t.cpu, M64, &f.t.ev), VX_VEC_GP, 0, VX_CAUSE_CPL);
	/* An IST gate whose ISST entry (2, at ISST + 16) is only 4-aligned: #GP(0) (§7.6). */
	mem_put(&f, 0x0010, K(0x2FF4), 8);
	nmi.ist = 2;
	FAULTS(&f, vx_cpu_cet_event(f.t.cpu, &f.mem, &nmi, &f.t.ev), VX_VEC_GP, 0,
	       VX_CAUSE_MISALIGNED);
	fx_close(&f);
}

/* ------------------------------------------------------------------------------------------ */
/* A VMM that loses or leaks a guest's PL0_SSP (issue 8)                                      */

static struct vx_cet_vmcs vmcs_valid(void)
{
	struct vx_cet_vmcs v;

	memset(&v, 0, sizeof(v));
	v.entry_controls = VX_VMX_ENTRY_LOAD_CET;
	v.exit_controls = VX_VMX_EXIT_LOAD_CET | VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE;
	v.guest_cr0 = v.host_cr0 = VX_CR0_PE | VX_CR0_WP;
	v.guest_cr4 = v.host_cr4 = VX_CR4_CET;
	v.guest_s_cet = SH;
	v.guest_ssp = K(0x3F00);
	v.guest_intr_ssp_table = K(0x0000);
	return v;
}

/*
 * The guest kernel owns the token at 0x1FF8 (its PL0_SSP); another vCPU's kernel stack at 0x7FF8
 * is in use (busy).  Between two runs the VMM either keeps the guest's PL0_SSP (as XSAVES of
 * CET_S would) or lets another value through.  The guest notices only at its next SETSSBSY or
 * interrupt from user mode.  @pl0_between: what PL0_SSP holds when the guest runs again.
 */
static void guest_after_vmm(uint64_t pl0_between, int *setssbsy_rc, struct vx_event *set_ev,
			    int *event_rc, struct vx_event *int_ev)
{
	struct vx_cet_far irq = far_to(0, M64, 0, 0x33, 0x401000);
	struct vx_vmentry_failure fail;
	struct vx_cet_vmcs v = vmcs_valid();
	uint64_t rflags = 0;
	struct fx f;

	fx_open(&f, SPR, HI);
	fx_cet(&f, true, SH, 0, 0, M64); /* the host: user shadow stacks only */
	mem_put(&f, 0x1FF8, K(0x1FF8), 8);
	mem_put(&f, 0x7FF8, K(0x7FF9), 8);
	/* Entry: the guest's S_CET/SSP/ISST come from the VMCS (§7.11). */
	TU_CHECK(vx_cpu_cet_vmentry(f.t.cpu, &v, &fail) == 0, "VM entry: %s", fail.reason);
	host_wrmsr(&f, VX_MSR_IA32_PL0_SSP, K(0x1FF8)); /* the guest kernel's WRMSR */
	OK(&f, vx_cpu_setssbsy(f.t.cpu, &f.mem, &f.t.ev));
	OK(&f, vx_cpu_clrssbsy(f.t.cpu, &f.mem, K(0x1FF8), &rflags, &f.t.ev));
	TU_CHECK(!(rflags & VX_RFLAGS_CF), "guest CLRSSBSY found no busy token");
	OK(&f, vx_cpu_cet_sysret(f.t.cpu, M64, &f.t.ev));
	/* Exit: the guest's S_CET/SSP/ISST saved, the host's loaded (§7.11); then the VMM. */
	TU_CHECK(vx_cpu_cet_vmexit(f.t.cpu, &v) == 0, "VM exit");
	TU_CHECK(v.guest_s_cet == SH, "GUEST_S_CET not saved: %#" PRIx64, v.guest_s_cet);
	host_wrmsr(&f, VX_MSR_IA32_PL0_SSP, pl0_between);
	fx_cet(&f, true, SH, 0, 3, M64); /* back to the guest's user mode */
	TU_CHECK(vx_cpu_cet_vmentry(f.t.cpu, &v, &fail) == 0, "VM entry: %s", fail.reason);
	/* The guest kernel path 1: SYSCALL then SETSSBSY. */
	OK(&f, vx_cpu_cet_syscall(f.t.cpu, M64, &f.t.ev));
	memset(set_ev, 0, sizeof(*set_ev));
	*setssbsy_rc = vx_cpu_setssbsy(f.t.cpu, &f.mem, set_ev);
	/* Path 2: an interrupt from user mode. */
	fx_cet(&f, true, SH, SH, 3, M64);
	memset(int_ev, 0, sizeof(*int_ev));
	*event_rc = vx_cpu_cet_event(f.t.cpu, &f.mem, &irq, int_ev);
	fx_close(&f);
}

static void test_lost_or_leaked_pl0_ssp(void **state)
{
	struct vx_event set_ev, int_ev;
	int set_rc = -1, int_rc = -1;
	char b[256];

	(void)state;
	/* A design that keeps PL0_SSP: both paths work. */
	guest_after_vmm(K(0x1FF8), &set_rc, &set_ev, &int_rc, &int_ev);
	TU_CHECK(set_rc == 0, "kept PL0_SSP: SETSSBSY %d (%s)", set_rc,
		 tu_event_str(&set_ev, b, sizeof(b)));
	/* The SETSSBSY above left the token busy: the interrupt path is checked on its own. */
	/* A design that leaks another vCPU's PL0_SSP (a busy token): #CP(5) on SETSSBSY (§7.7),
	 * #GP(0) on the interrupt (§7.6: a token that cannot be marked busy). */
	guest_after_vmm(K(0x7FF8), &set_rc, &set_ev, &int_rc, &int_ev);
	TU_CHECK(set_rc == VX_FAULTED && set_ev.vector == VX_VEC_CP && set_ev.error_code == 5,
		 "leaked PL0_SSP: SETSSBSY gave %s, expected #CP(5)",
		 tu_event_str(&set_ev, b, sizeof(b)));
	TU_CHECK(int_rc == VX_FAULTED && int_ev.vector == VX_VEC_GP &&
		     int_ev.cause == VX_CAUSE_SS_TOKEN,
		 "leaked PL0_SSP: interrupt gave %s, expected #GP(0)",
		 tu_event_str(&int_ev, b, sizeof(b)));
	/* A design that loses PL0_SSP (reads as 0): the token access at 0 finds no page: #PF
	 * with W|SS (§7.4), on both paths. */
	guest_after_vmm(0, &set_rc, &set_ev, &int_rc, &int_ev);
	TU_CHECK(set_rc == VX_FAULTED && set_ev.vector == VX_VEC_PF &&
		     set_ev.error_code == (PF_W | PF_SS) && set_ev.address == 0,
		 "lost PL0_SSP: SETSSBSY gave %s", tu_event_str(&set_ev, b, sizeof(b)));
	TU_CHECK(int_rc == VX_FAULTED && int_ev.vector == VX_VEC_PF &&
		     int_ev.error_code == (PF_W | PF_SS),
		 "lost PL0_SSP: interrupt gave %s", tu_event_str(&int_ev, b, sizeof(b)));
	/* A PL0_SSP pointing at a free token of someone else's stack (0x2FF8 holds 0): #CP(5). */
	guest_after_vmm(K(0x2FF8), &set_rc, &set_ev, &int_rc, &int_ev);
	TU_CHECK(set_rc == VX_FAULTED && set_ev.vector == VX_VEC_CP && set_ev.error_code == 5,
		 "stale PL0_SSP: SETSSBSY gave %s", tu_event_str(&set_ev, b, sizeof(b)));
}

/* The interrupt path of the kept design, separately (SETSSBSY consumed the token above). */
static void test_kept_pl0_ssp_interrupt(void **state)
{
	struct vx_cet_far irq = far_to(0, M64, 0, 0x33, 0x401000);
	struct vx_vmentry_failure fail;
	struct vx_cet_vmcs v = vmcs_valid();
	uint64_t saved;
	struct fx f;

	(void)state;
	fx_open(&f, SPR, HI);
	fx_cet(&f, true, SH, 0, 0, M64);
	mem_put(&f, 0x1FF8, K(0x1FF8), 8);
	TU_CHECK(vx_cpu_cet_vmentry(f.t.cpu, &v, &fail) == 0, "VM entry: %s", fail.reason);
	host_wrmsr(&f, VX_MSR_IA32_PL0_SSP, K(0x1FF8));
	TU_CHECK(vx_cpu_cet_vmexit(f.t.cpu, &v) == 0, "VM exit");
	/* The VMM saves PL0_SSP, runs its own code with another value, restores it. */
	saved = host_rdmsr(&f, VX_MSR_IA32_PL0_SSP);
	host_wrmsr(&f, VX_MSR_IA32_PL0_SSP, K(0x7FF8));
	host_wrmsr(&f, VX_MSR_IA32_PL0_SSP, saved);
	TU_CHECK(vx_cpu_cet_vmentry(f.t.cpu, &v, &fail) == 0, "VM entry: %s", fail.reason);
	fx_cet(&f, true, SH, SH, 3, M64);
	vx_cpu_set_ssp(f.t.cpu, K(0x3F00));
	OK(&f, vx_cpu_cet_event(f.t.cpu, &f.mem, &irq, &f.t.ev));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x1FF8), "SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	fx_close(&f);
}

/* ------------------------------------------------------------------------------------------ */
/* VM entry and exit (§7.11, §7.12, §10 item 101)                                              */

enum vmcs_field_id {
	F_NONE,
	F_ENTRY,
	F_EXIT,
	F_GCR0,
	F_GCR4,
	F_HCR0,
	F_HCR4,
	F_GSCET,
	F_GSSP,
	F_GISST,
	F_HSCET,
	F_HSSP,
	F_HISST,
};

struct vmentry_case {
	const char *name;
	const char *profile;
	enum vmcs_field_id id1;
	uint64_t v1;
	enum vmcs_field_id id2;
	uint64_t v2;
	int status;
	uint32_t error, exit_reason, field;
	enum vx_event_cause cause;
};

#define VMFAIL VX_VMENTRY_VMFAIL
#define GUEST  VX_VMENTRY_INVALID_GUEST
#define EXIT33 0x80000021u
#define EXIT64 (VX_VMX_EXIT_LOAD_CET | VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE)

static const struct vmentry_case vmentry_cases[] = {
    {"valid CET state", SPR, F_NONE, 0, F_NONE, 0, 0, 0, 0, 0, VX_CAUSE_NONE},
    {"item 101: HOST_SSP bits 1:0 = 2 -> VMfail (invalid host state)", SPR, F_HSSP, 0x1002, F_NONE,
     0, VMFAIL, 8, 0, 0x6C1A, VX_CAUSE_MISALIGNED},
    {"HOST_SSP bits 1:0 unchecked without exit 'load CET state'", SPR, F_HSSP, 0x1002, F_EXIT,
     VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE, 0, 0, 0, 0, VX_CAUSE_NONE},
    {"host CR4.CET with CR0.WP = 0 -> VMfail", SPR, F_HCR0, VX_CR0_PE, F_NONE, 0, VMFAIL, 8, 0,
     0x6C04, VX_CAUSE_CR_INVALID},
    {"HOST_S_CET bit 6 -> VMfail", SPR, F_HSCET, 0x40, F_NONE, 0, VMFAIL, 8, 0, 0x6C18,
     VX_CAUSE_MSR_RESERVED_BITS},
    {"HOST_S_CET SUPPRESS and TRACKER -> VMfail", SPR, F_HSCET, 0xC00, F_NONE, 0, VMFAIL, 8, 0,
     0x6C18, VX_CAUSE_MSR_CONFLICT},
    {"HOST_INTR_SSP_TABLE not canonical -> VMfail", SPR, F_HISST, BIT56, F_NONE, 0, VMFAIL, 8, 0,
     0x6C1C, VX_CAUSE_NONCANONICAL},
    {"64-bit host: HOST_SSP not canonical -> VMfail", SPR, F_HSSP, BIT56, F_NONE, 0, VMFAIL, 8, 0,
     0x6C1A, VX_CAUSE_NONCANONICAL},
    {"32-bit host: HOST_SSP bit 32 -> VMfail", SPR, F_HSSP, VX_BIT(32), F_EXIT,
     VX_VMX_EXIT_LOAD_CET, VMFAIL, 8, 0, 0x6C1A, VX_CAUSE_SSP_HIGH_BITS},
    {"64-bit host: HOST_SSP bit 32 is fine", SPR, F_HSSP, VX_BIT(32), F_NONE, 0, 0, 0, 0, 0,
     VX_CAUSE_NONE},
    {"guest CR4.CET with CR0.WP = 0 -> invalid guest state", SPR, F_GCR0, VX_CR0_PE, F_NONE, 0,
     GUEST, 0, EXIT33, 0x6804, VX_CAUSE_CR_INVALID},
    {"GUEST_SSP bits 1:0 -> invalid guest state", SPR, F_GSSP, K(0x3F01), F_NONE, 0, GUEST, 0,
     EXIT33, 0x682A, VX_CAUSE_MISALIGNED},
    /* N = 57 (CPUID 0x80000008 EAX[15:8] = 0x39): bits 63:57 identical.  Bit 56 alone passes
     * (not canonical, one bit looser); bit 57 alone fails. */
    {"GUEST_SSP with bit 56 only: bits 63:57 identical, accepted", SPR, F_GSSP, BIT56, F_NONE, 0, 0,
     0, 0, 0, VX_CAUSE_NONE},
    {"GUEST_SSP with bit 57 -> invalid guest state", SPR, F_GSSP, VX_BIT(57), F_NONE, 0, GUEST, 0,
     EXIT33, 0x682A, VX_CAUSE_NONCANONICAL},
    {"GUEST_S_CET bit 9 -> invalid guest state", SPR, F_GSCET, 0x200, F_NONE, 0, GUEST, 0, EXIT33,
     0x6828, VX_CAUSE_MSR_RESERVED_BITS},
    {"GUEST_INTR_SSP_TABLE not canonical -> invalid guest state", SPR, F_GISST, BIT56, F_NONE, 0,
     GUEST, 0, EXIT33, 0x682C, VX_CAUSE_NONCANONICAL},
    {"guest fields unchecked without entry 'load CET state'", SPR, F_GSSP, K(0x3F01), F_ENTRY, 0, 0,
     0, 0, 0, VX_CAUSE_NONE},
    {"host and guest both bad: the host VMfail comes first", SPR, F_HSSP, 0x1002, F_GSSP, K(0x3F01),
     VMFAIL, 8, 0, 0x6C1A, VX_CAUSE_MISALIGNED},
    {"'load CET state' on a CPU without CET -> VMfail (invalid control)", SKX, F_NONE, 0, F_NONE, 0,
     VMFAIL, 7, 0, 0, VX_CAUSE_NOT_ENUMERATED},
    /* zen4 has no IBT (§7.12): ENDBR_EN (bit 2) in S_CET counts as reserved. */
    {"GUEST_S_CET.ENDBR_EN on a CPU without IBT -> invalid guest state", ZEN4, F_GSCET,
     VX_CET_ENDBR_EN, F_NONE, 0, GUEST, 0, EXIT33, 0x6828, VX_CAUSE_MSR_RESERVED_BITS},
};

static void vmcs_set(struct vx_cet_vmcs *v, enum vmcs_field_id id, uint64_t value)
{
	uint64_t *fields[] = {
	    [F_GCR0] = &v->guest_cr0,
	    [F_GCR4] = &v->guest_cr4,
	    [F_HCR0] = &v->host_cr0,
	    [F_HCR4] = &v->host_cr4,
	    [F_GSCET] = &v->guest_s_cet,
	    [F_GSSP] = &v->guest_ssp,
	    [F_GISST] = &v->guest_intr_ssp_table,
	    [F_HSCET] = &v->host_s_cet,
	    [F_HSSP] = &v->host_ssp,
	    [F_HISST] = &v->host_intr_ssp_table,
	};

	if (id == F_ENTRY)
		v->entry_controls = (uint32_t)value;
	else if (id == F_EXIT)
		v->exit_controls = (uint32_t)value;
	else if (id != F_NONE)
		*fields[id] = value;
}

static void test_vmentry_checks(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(vmentry_cases) / sizeof(vmentry_cases[0]); i++) {
		const struct vmentry_case *c = &vmentry_cases[i];
		struct vx_cet_vmcs v = vmcs_valid();
		struct vx_vmentry_failure fail;
		struct fx f;
		int rc;

		fx_open(&f, c->profile, HI);
		vmcs_set(&v, c->id1, c->v1);
		vmcs_set(&v, c->id2, c->v2);
		if (strcmp(c->profile, ZEN4) == 0)
			v.guest_cr4 = v.host_cr4 = 0; /* checked here: S_CET alone */
		tu_snapshot(&f.t);
		rc = vx_cpu_cet_vmentry(f.t.cpu, &v, &fail);
		TU_CASE_CHECK(failures, rc == c->status, c->name, "status %d, expected %d (%s)", rc,
			      c->status, fail.reason);
		if (rc == c->status && rc != 0)
			TU_CASE_CHECK(
			    failures,
			    fail.vm_instruction_error == c->error &&
				fail.exit_reason == c->exit_reason && fail.field == c->field &&
				fail.cause == c->cause,
			    c->name,
			    "error %u exit %#x field %#x cause %s, expected %u %#x %#x %s "
			    "(%s)",
			    fail.vm_instruction_error, fail.exit_reason, fail.field,
			    vx_event_cause_name(fail.cause), c->error, c->exit_reason, c->field,
			    vx_event_cause_name(c->cause), fail.reason);
		if (rc != 0) {
			char b[256];

			TU_CASE_CHECK(failures, tu_unchanged(&f.t, b, sizeof(b)) == NULL, c->name,
				      "a refused entry changed the processor: %s", b);
		}
		fx_close(&f);
	}
	TU_CHECK(failures == 0, "%d case failure(s)", failures);
}

/* What entry and exit load and save (§7.11): the "load CET state" controls decide. */
static void test_vmentry_vmexit_loads(void **state)
{
	struct vx_vmentry_failure fail;
	struct vx_cet_vmcs v = vmcs_valid();
	struct fx f;

	(void)state;
	fx_open(&f, SPR, HI);
	fx_cet(&f, true, 0, 0, 0, M64);
	host_wrmsr(&f, VX_MSR_IA32_INT_SSP_TAB, K(0x0100));
	vx_cpu_set_ssp(f.t.cpu, K(0x7FF8));
	v.guest_s_cet = SH | WR;
	v.host_ssp = K(0x1FF8);
	v.host_intr_ssp_table = K(0x0200);
	TU_CHECK(vx_cpu_cet_vmentry(f.t.cpu, &v, &fail) == 0, "entry: %s", fail.reason);
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_S_CET) == (SH | WR) &&
		     vx_cpu_get_ssp(f.t.cpu) == K(0x3F00) &&
		     host_rdmsr(&f, VX_MSR_IA32_INT_SSP_TAB) == K(0x0000),
		 "entry did not load the guest's S_CET/SSP/ISST");
	vx_cpu_set_ssp(f.t.cpu, K(0x3EF8)); /* the guest ran */
	TU_CHECK(vx_cpu_cet_vmexit(f.t.cpu, &v) == 0, "exit");
	TU_CHECK(v.guest_ssp == K(0x3EF8) && v.guest_s_cet == (SH | WR),
		 "exit did not save the guest's SSP: %#" PRIx64, v.guest_ssp);
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_S_CET) == 0 && vx_cpu_get_ssp(f.t.cpu) == K(0x1FF8) &&
		     host_rdmsr(&f, VX_MSR_IA32_INT_SSP_TAB) == K(0x0200),
		 "exit did not load the host fields");
	/* Without the exit control the host continues with the guest's values (a leak). */
	v.exit_controls = VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE;
	TU_CHECK(vx_cpu_cet_vmentry(f.t.cpu, &v, &fail) == 0, "entry: %s", fail.reason);
	TU_CHECK(vx_cpu_cet_vmexit(f.t.cpu, &v) == 0, "exit");
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_S_CET) == (SH | WR) &&
		     vx_cpu_get_ssp(f.t.cpu) == K(0x3EF8),
		 "without 'load CET state' on exit the guest's S_CET/SSP should stay");
	/* Without the entry control the guest runs on whatever the processor holds. */
	v.entry_controls = 0;
	vx_cpu_set_ssp(f.t.cpu, K(0x5550));
	TU_CHECK(vx_cpu_cet_vmentry(f.t.cpu, &v, &fail) == 0, "entry: %s", fail.reason);
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == K(0x5550), "entry without the control loaded SSP");
	fx_close(&f);
}

/* AMD VMRUN / #VMEXIT (§7.12). */
static void test_svm(void **state)
{
	struct vx_cet_vmcb guest = {SH, K(0x3F00), K(0x0000)}, host = {0, 0, 0};
	struct vx_vmentry_failure fail;
	struct fx f;

	(void)state;
	TU_CHECK(VX_VMCB_S_CET == 0x5E0 && VX_VMCB_SSP == 0x5E8 && VX_VMCB_ISST_ADDR == 0x5F0,
		 "VMCB offsets differ from §7.12");
	fx_open(&f, ZEN4, HI);
	fx_cet(&f, true, 0, 0, 0, M64);
	vx_cpu_set_ssp(f.t.cpu, K(0x1FF8));
	TU_CHECK(vx_cpu_cet_vmrun(f.t.cpu, &guest, &host, &fail) == 0, "VMRUN: %s", fail.reason);
	TU_CHECK(host.ssp == K(0x1FF8) && vx_cpu_get_ssp(f.t.cpu) == K(0x3F00) &&
		     host_rdmsr(&f, VX_MSR_IA32_S_CET) == SH,
		 "VMRUN: host SSP %#" PRIx64 " guest SSP %#" PRIx64, host.ssp,
		 vx_cpu_get_ssp(f.t.cpu));
	vx_cpu_set_ssp(f.t.cpu, K(0x3EF0));
	TU_CHECK(vx_cpu_cet_svm_vmexit(f.t.cpu, &guest, &host) == 0, "#VMEXIT");
	TU_CHECK(guest.ssp == K(0x3EF0) && vx_cpu_get_ssp(f.t.cpu) == K(0x1FF8) &&
		     host_rdmsr(&f, VX_MSR_IA32_S_CET) == 0,
		 "#VMEXIT: guest SSP %#" PRIx64, guest.ssp);
	/* Values WRMSR would refuse: VMEXIT_INVALID, nothing loaded. */
	guest.ssp = K(0x3EF2);
	tu_snapshot(&f.t);
	TU_CHECK(vx_cpu_cet_vmrun(f.t.cpu, &guest, &host, &fail) == VX_VMENTRY_INVALID_GUEST &&
		     fail.exit_reason == VX_SVM_EXIT_INVALID && fail.field == 0x5E8,
		 "VMRUN with SSP bits 1:0: status %d field %#x", (int)fail.status, fail.field);
	guest.ssp = K(0x3EF0);
	guest.s_cet = VX_CET_ENDBR_EN; /* no IBT on AMD */
	TU_CHECK(vx_cpu_cet_vmrun(f.t.cpu, &guest, &host, &fail) == VX_VMENTRY_INVALID_GUEST &&
		     fail.field == 0x5E0,
		 "VMRUN with S_CET.ENDBR_EN on zen4: status %d field %#x", (int)fail.status,
		 fail.field);
	{
		char b[256];

		TU_CHECK(tu_unchanged(&f.t, b, sizeof(b)) == NULL, "refused VMRUN changed %s", b);
	}
	fx_close(&f);
}

/* ------------------------------------------------------------------------------------------ */
/* Task switches (§7.1, §7.6, §10 item 99)                                                     */

static void test_task_switch(void **state)
{
	struct vx_cet_task_switch ts = {VX_TASK_CALL, 0x2B, false, L(0x0100), 0x6B, 0,
					false,	      0x08, 0x1000};
	struct fx f;

	(void)state;
	fx_open(&f, SPR, LO);
	fx_cet(&f, true, 0, SH, 0, M32);
	/* item 99: CALL to a 16-bit TSS with CR4.CET = 1 → #TS (error code: selector & ~3). */
	FAULTS(&f, vx_cpu_cet_task_switch(f.t.cpu, &f.mem, &ts, &f.t.ev), VX_VEC_TS, 0x28,
	       VX_CAUSE_TSS);
	/* §7.6: a 32-bit TSS needs limit ≥ 0x6B. */
	ts.tss32 = true;
	ts.tss_limit = 0x67;
	FAULTS(&f, vx_cpu_cet_task_switch(f.t.cpu, &f.mem, &ts, &f.t.ev), VX_VEC_TS, 0x28,
	       VX_CAUSE_TSS);
	ts.tss_limit = 0x6B;
	/* §7.6: the SSP field (TSS + 0x68) not 8-aligned → #TS. */
	mem_put(&f, 0x0168, L(0x1FF4), 4);
	FAULTS(&f, vx_cpu_cet_task_switch(f.t.cpu, &f.mem, &ts, &f.t.ev), VX_VEC_TS, 0x28,
	       VX_CAUSE_TSS);
	/* From CPL0: token at 0x1FF8 busy, CS/LIP/old SSP pushed below it. */
	mem_put(&f, 0x0168, L(0x1FF8), 4);
	mem_put(&f, 0x1FF8, L(0x1FF8), 8);
	vx_cpu_set_ssp(f.t.cpu, L(0x7F00));
	OK(&f, vx_cpu_cet_task_switch(f.t.cpu, &f.mem, &ts, &f.t.ev));
	TU_CHECK(mem_get(&f, 0x1FF8, 8) == L(0x1FF9), "TSS token not busy");
	TU_CHECK(mem_get(&f, 0x1FF0, 8) == 0x08 && mem_get(&f, 0x1FE8, 8) == 0x1000 &&
		     mem_get(&f, 0x1FE0, 8) == L(0x7F00),
		 "task frame %#" PRIx64 " %#" PRIx64 " %#" PRIx64, mem_get(&f, 0x1FF0, 8),
		 mem_get(&f, 0x1FE8, 8), mem_get(&f, 0x1FE0, 8));
	TU_CHECK(vx_cpu_get_ssp(f.t.cpu) == L(0x1FE0), "SSP %#" PRIx64, vx_cpu_get_ssp(f.t.cpu));
	/* IRET back: a wrong LIP → #CP(2); the right one frees the token, SSP = 0x7F00. */
	ts.kind = VX_TASK_IRET;
	ts.lip = 0x1004;
	FAULTS(&f, vx_cpu_cet_task_switch(f.t.cpu, &f.mem, &ts, &f.t.ev), VX_VEC_CP, 2,
	       VX_CAUSE_CP_FAR_RET);
	ts.lip = 0x1000;
	OK(&f, vx_cpu_cet_task_switch(f.t.cpu, &f.mem, &ts, &f.t.ev));
	TU_CHECK(mem_get(&f, 0x1FF8, 8) == L(0x1FF8) && vx_cpu_get_ssp(f.t.cpu) == L(0x7F00),
		 "task IRET: token %#" PRIx64 " SSP %#" PRIx64, mem_get(&f, 0x1FF8, 8),
		 vx_cpu_get_ssp(f.t.cpu));
	/* §7.1: into V86 mode with shadow stacks active → #TS. */
	ts.kind = VX_TASK_JMP;
	ts.v86 = true;
	FAULTS(&f, vx_cpu_cet_task_switch(f.t.cpu, &f.mem, &ts, &f.t.ev), VX_VEC_TS, 0x28,
	       VX_CAUSE_TSS);
	/* CR4.CET = 0: a 16-bit TSS is fine (nothing CET to do). */
	ts.v86 = false;
	ts.tss32 = false;
	fx_cet(&f, false, 0, 0, 0, M32);
	OK(&f, vx_cpu_cet_task_switch(f.t.cpu, &f.mem, &ts, &f.t.ev));
	fx_close(&f);
}

/* ------------------------------------------------------------------------------------------ */
/* Indirect-branch tracking and #CP(3) (§7.7, §7.8)                                            */

static void test_ibt(void **state)
{
	const uint64_t endbr = VX_CET_ENDBR_EN;
	struct fx f;

	(void)state;
	fx_open(&f, SPR, HI);
	fx_cet(&f, true, 0, endbr, 0, M64);
	/* An indirect JMP arms the tracker; the next instruction must be ENDBR64. */
	OK(&f, vx_cpu_cet_jmp(f.t.cpu, VX_BRANCH_INDIRECT, &f.t.ev));
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_S_CET) == (endbr | VX_CET_TRACKER), "not armed");
	FAULTS(&f, vx_cpu_cet_fetch(f.t.cpu, &f.mem, 0x401000, VX_FETCH_OTHER, &f.t.ev), VX_VEC_CP,
	       3, VX_CAUSE_CP_ENDBRANCH);
	/* ENDBR32 in 64-bit mode is not the ENDBR of the mode: it does not complete tracking. */
	FAULTS(&f, vx_cpu_cet_fetch(f.t.cpu, &f.mem, 0x401000, VX_FETCH_ENDBR32, &f.t.ev),
	       VX_VEC_CP, 3, VX_CAUSE_CP_ENDBRANCH);
	/* Without a pending branch ENDBR32 is a NOP and any instruction runs. */
	OK(&f, vx_cpu_cet_fetch(f.t.cpu, &f.mem, 0x401000, VX_FETCH_ENDBR64, &f.t.ev));
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_S_CET) == endbr, "ENDBR64 did not idle the tracker");
	/* A direct JMP or CALL does not arm; NOTRACK with NO_TRACK_EN does not either. */
	OK(&f, vx_cpu_cet_jmp(f.t.cpu, 0, &f.t.ev));
	OK(&f, vx_cpu_cet_call(f.t.cpu, &f.mem, 0x401005, 0, &f.t.ev));
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_S_CET) == endbr, "a direct branch armed the tracker");
	host_wrmsr(&f, VX_MSR_IA32_S_CET, endbr | VX_CET_NO_TRACK_EN);
	OK(&f, vx_cpu_cet_call(f.t.cpu, &f.mem, 0x401005, VX_BRANCH_INDIRECT | VX_BRANCH_NOTRACK,
			       &f.t.ev));
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_S_CET) == (endbr | VX_CET_NO_TRACK_EN),
		 "NOTRACK armed the tracker");
	/* Legacy bitmap at the base: LIP 0x401000 → byte 0x401000 >> 15 = 0x80, bit
	 * (0x401000 >> 12) & 7 = 1.  Set: TRACKER idle, SUPPRESS = 1. */
	host_wrmsr(&f, VX_MSR_IA32_S_CET, K(0) | endbr | VX_CET_LEG_IW_EN);
	mem_put(&f, 0x80, 0x02, 1);
	OK(&f, vx_cpu_cet_jmp(f.t.cpu, VX_BRANCH_INDIRECT, &f.t.ev));
	OK(&f, vx_cpu_cet_fetch(f.t.cpu, &f.mem, 0x401000, VX_FETCH_OTHER, &f.t.ev));
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_S_CET) ==
		     (K(0) | endbr | VX_CET_LEG_IW_EN | VX_CET_SUPPRESS),
		 "legacy page: S_CET %#" PRIx64, host_rdmsr(&f, VX_MSR_IA32_S_CET));
	/* While SUPPRESS = 1 nothing arms; ENDBR64 clears SUPPRESS. */
	OK(&f, vx_cpu_cet_jmp(f.t.cpu, VX_BRANCH_INDIRECT, &f.t.ev));
	TU_CHECK(!(host_rdmsr(&f, VX_MSR_IA32_S_CET) & VX_CET_TRACKER), "armed while suppressed");
	OK(&f, vx_cpu_cet_fetch(f.t.cpu, &f.mem, 0x401010, VX_FETCH_ENDBR64, &f.t.ev));
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_S_CET) == (K(0) | endbr | VX_CET_LEG_IW_EN),
		 "ENDBR64 did not clear SUPPRESS");
	/* Bit clear for page 0x402000 (bit 2): #CP(3). */
	OK(&f, vx_cpu_cet_jmp(f.t.cpu, VX_BRANCH_INDIRECT, &f.t.ev));
	FAULTS(&f, vx_cpu_cet_fetch(f.t.cpu, &f.mem, 0x402000, VX_FETCH_OTHER, &f.t.ev), VX_VEC_CP,
	       3, VX_CAUSE_CP_ENDBRANCH);
	/* SUPPRESS_DIS: the legacy page idles the tracker without SUPPRESS. */
	host_wrmsr(&f, VX_MSR_IA32_S_CET,
		   K(0) | endbr | VX_CET_LEG_IW_EN | VX_CET_SUPPRESS_DIS | VX_CET_TRACKER);
	OK(&f, vx_cpu_cet_fetch(f.t.cpu, &f.mem, 0x401000, VX_FETCH_OTHER, &f.t.ev));
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_S_CET) ==
		     (K(0) | endbr | VX_CET_LEG_IW_EN | VX_CET_SUPPRESS_DIS),
		 "SUPPRESS_DIS: S_CET %#" PRIx64, host_rdmsr(&f, VX_MSR_IA32_S_CET));
	/* User level: U_CET's tracker; SYSCALL arms the CPL0 one (§7.6). */
	host_wrmsr(&f, VX_MSR_IA32_S_CET, endbr);
	host_wrmsr(&f, VX_MSR_IA32_U_CET, endbr);
	fx_cet(&f, true, endbr, endbr, 3, M64);
	OK(&f, vx_cpu_cet_jmp(f.t.cpu, VX_BRANCH_INDIRECT, &f.t.ev));
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_U_CET) == (endbr | VX_CET_TRACKER) &&
		     host_rdmsr(&f, VX_MSR_IA32_S_CET) == endbr,
		 "CPL3 JMP armed the wrong tracker");
	OK(&f, vx_cpu_cet_fetch(f.t.cpu, &f.mem, 0x401000, VX_FETCH_ENDBR64, &f.t.ev));
	OK(&f, vx_cpu_cet_syscall(f.t.cpu, M64, &f.t.ev));
	TU_CHECK(host_rdmsr(&f, VX_MSR_IA32_S_CET) == (endbr | VX_CET_TRACKER),
		 "SYSCALL did not arm the CPL0 tracker");
	FAULTS(&f,
	       vx_cpu_cet_fetch(f.t.cpu, &f.mem, UINT64_C(0xFFFFFFFF81000000), VX_FETCH_OTHER,
				&f.t.ev),
	       VX_VEC_CP, 3, VX_CAUSE_CP_ENDBRANCH);
	fx_close(&f);
}

/* Every #CP error code of §7.9 has been raised above with its cause; the names agree. */
static void test_cp_codes(void **state)
{
	static const struct {
		unsigned code;
		enum vx_event_cause cause;
		const char *name;
	} codes[] = {
	    {1, VX_CAUSE_CP_NEAR_RET, "cp-near-ret"},	{2, VX_CAUSE_CP_FAR_RET, "cp-far-ret"},
	    {3, VX_CAUSE_CP_ENDBRANCH, "cp-endbranch"}, {4, VX_CAUSE_CP_RSTORSSP, "cp-rstorssp"},
	    {5, VX_CAUSE_CP_SETSSBSY, "cp-setssbsy"},
	};
	struct vx_event ev;
	char b[64];

	(void)state;
	TU_CHECK(VX_CP_NEAR_RET == 1 && VX_CP_FAR_RET == 2 && VX_CP_ENDBRANCH == 3 &&
		     VX_CP_RSTORSSP == 4 && VX_CP_SETSSBSY == 5,
		 "#CP codes differ from §7.9");
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		TU_CHECK(strcmp(vx_event_cause_name(codes[i].cause), codes[i].name) == 0,
			 "cause name %s", vx_event_cause_name(codes[i].cause));
	memset(&ev, 0, sizeof(ev));
	ev.kind = VX_EVENT_EXCEPTION;
	ev.vector = VX_VEC_CP;
	ev.error_code = 5;
	TU_CHECK(strcmp(vx_event_name(&ev, b, sizeof(b)), "#CP(5)") == 0, "name %s", b);
	ev.vector = VX_VEC_TS;
	ev.error_code = 0x28;
	TU_CHECK(strcmp(vx_event_name(&ev, b, sizeof(b)), "#TS(40)") == 0, "name %s", b);
}

/* ------------------------------------------------------------------------------------------ */
/* API misuse: -EINVAL with a reason, nothing changed                                          */

static void test_misuse(void **state)
{
	struct vx_cet_far up = far_to(3, M64, 0, 0x33, 0);
	struct vx_cet_far down = far_to(0, M64, 0, 0x10, 0);
	struct vx_cet_task_switch ts = {VX_TASK_CALL, 0x28, true, K(0x100), 0x6B, 0, false, 8, 0};
	struct vx_cpu_memory short_map;
	uint64_t reg = 0;
	char b[256];
	struct fx f;

	(void)state;
	fx_open(&f, SPR, HI);
	fx_cet(&f, true, SH, SH, 0, M64);
	short_map = f.mem;
	short_map.pages = 7;
	tu_snapshot(&f.t);
	assert_int_equal(vx_cpu_setssbsy(f.t.cpu, &short_map, &f.t.ev), -EINVAL);
	TU_CHECK(strstr(f.t.ev.reason, "page attributes") != NULL, "reason: %s", f.t.ev.reason);
	assert_int_equal(vx_cpu_setssbsy(f.t.cpu, NULL, &f.t.ev), -EINVAL);
	assert_int_equal(vx_cpu_rdssp(f.t.cpu, true, NULL, &f.t.ev), -EINVAL);
	assert_int_equal(vx_cpu_incssp(NULL, &f.mem, true, 1, &f.t.ev), -EINVAL);
	assert_int_equal(vx_cpu_cet_far_call(f.t.cpu, &f.mem, &up, &f.t.ev), -EINVAL);
	TU_CHECK(strstr(f.t.ev.reason, "out to CPL 3") != NULL, "reason: %s", f.t.ev.reason);
	tu_set_cpl(&f.t, 3);
	tu_snapshot(&f.t);
	assert_int_equal(vx_cpu_cet_iret(f.t.cpu, &f.mem, &down, &f.t.ev), -EINVAL);
	TU_CHECK(f.t.ev.kind == VX_EVENT_NONE, "misuse reported as an event");
	tu_set_cpl(&f.t, 0);
	tu_snapshot(&f.t);
	assert_int_equal(vx_cpu_cet_task_switch(f.t.cpu, &f.mem, &ts, &f.t.ev), -EINVAL);
	TU_CHECK(strstr(f.t.ev.reason, "64-bit mode") != NULL, "reason: %s", f.t.ev.reason);
	assert_int_equal(vx_cpu_cet_fetch(f.t.cpu, &f.mem, 0, (enum vx_cet_fetch)7, &f.t.ev),
			 -EINVAL);
	assert_int_equal(vx_cpu_mem_read(f.t.cpu, &f.mem, K(0), &reg, 0, &f.t.ev), -EINVAL);
	assert_int_equal(vx_cpu_cet_vmentry(f.t.cpu, NULL, NULL), -EINVAL);
	assert_int_equal(vx_cpu_cet_vmexit(NULL, NULL), -EINVAL);
	TU_CHECK(tu_unchanged(&f.t, b, sizeof(b)) == NULL, "misuse changed %s", b);
	fx_close(&f);
}

/* ------------------------------------------------------------------------------------------ */
/* This machine: RDSSP, and user shadow stacks in a child when the CPU and kernel have them      */

#if LIVE_X86
#define ARCH_SHSTK_ENABLE 0x5001
#define ARCH_SHSTK_SHSTK  1ul
#define LIVE_SEGV_CPERR	  10 /* si_code of a #CP (SEGV_CPERR) */

/* RDSSPQ RAX (F3 48 0F 1E C8): a NOP on CPUs without CET and with shadow stacks off. */
static inline uint64_t live_rdsspq(uint64_t value)
{
	__asm__ volatile(".byte 0xf3, 0x48, 0x0f, 0x1e, 0xc8" : "+a"(value));
	return value;
}

/* Does the kernel run this process with user shadow stacks on? */
static bool live_process_shstk(void)
{
	char line[256];
	bool on = false;
	FILE *fp = fopen("/proc/self/status", "r");

	if (!fp)
		return false;
	while (fgets(line, sizeof(line), fp))
		if (strncmp(line, "x86_Thread_features:", 20) == 0 && strstr(line, "shstk"))
			on = true;
	fclose(fp);
	return on;
}

/* The model's RDSSPQ on a processor like this process (user shadow stacks @on at CPL3). */
static uint64_t model_rdsspq(bool on, uint64_t value)
{
	struct fx f;

	fx_open(&f, SPR, HI);
	fx_cet(&f, true, on ? SH : 0, 0, 3, M64);
	vx_cpu_set_ssp(f.t.cpu, K(0x3FF8));
	OK(&f, vx_cpu_rdssp(f.t.cpu, true, &value, &f.t.ev));
	fx_close(&f);
	return value;
}

static void test_live_rdssp(void **state)
{
	const uint64_t in = UINT64_C(0x1234567);
	bool on = live_process_shstk();
	uint64_t live = live_rdsspq(in), model = model_rdsspq(on, in);

	(void)state;
	print_message("live RDSSPQ: process shadow stack %s, RAX 0x%" PRIx64 " -> 0x%" PRIx64 "\n",
		      on ? "on" : "off", in, live);
	if (!on) {
		/* §7.7 / item 89: a NOP: the register keeps its value, in the model as here. */
		TU_CHECK(live == in && model == in,
			 "RDSSPQ with shadow stacks off: live %#" PRIx64 ", model %#" PRIx64
			 ", both should be %#" PRIx64,
			 live, model, in);
		return;
	}
	TU_CHECK(live != in && (live & 7) == 0 && model == K(0x3FF8),
		 "RDSSPQ with shadow stacks on: live %#" PRIx64 " model %#" PRIx64, live, model);
}

struct live_result {
	long enable_rc;
	uint64_t ssp0, ssp_callee, ssp_after;
	int si_code;
};

static int live_fd = -1;

static void live_segv(int sig, siginfo_t *si, void *uc)
{
	int code = si->si_code;
	ssize_t n;

	(void)sig;
	(void)uc;
	n = write(live_fd, &code, sizeof(code));
	(void)n;
	_exit(0);
}

__attribute__((always_inline)) static inline long live_arch_prctl(long code, unsigned long arg)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"((long)SYS_arch_prctl), "D"(code), "S"(arg)
			 : "rcx", "r11", "memory");
	return ret;
}

__attribute__((noinline)) static uint64_t live_callee_ssp(void)
{
	uint64_t v = live_rdsspq(0);

	__asm__ volatile("" ::: "memory");
	return v;
}

/* INCSSPQ 1 drops this function's own return address from the shadow stack: its RET then
 * meets the caller's (a near-RET mismatch, §7.6). */
__attribute__((noinline)) static void live_cp_inner(void)
{
	__asm__ volatile("incsspq %0" ::"r"(UINT64_C(1)) : "memory");
}

__attribute__((noinline)) static void live_cp_outer(void)
{
	live_cp_inner();
	__asm__ volatile("" ::: "memory");
}

/* Runs in the child; never returns (its caller's frames predate the shadow stack). */
__attribute__((noreturn, noinline)) static void live_child(int fd)
{
	struct live_result r;
	struct sigaction sa;
	ssize_t n;

	memset(&r, 0, sizeof(r));
	memset(&sa, 0, sizeof(sa));
	live_fd = fd;
	sa.sa_sigaction = live_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	r.enable_rc =
	    live_process_shstk() ? 0 : live_arch_prctl(ARCH_SHSTK_ENABLE, ARCH_SHSTK_SHSTK);
	if (r.enable_rc == 0) {
		r.ssp0 = live_rdsspq(0);
		r.ssp_callee = live_callee_ssp();
		r.ssp_after = live_rdsspq(0);
	}
	n = write(fd, &r, sizeof(r));
	(void)n;
	if (r.enable_rc == 0)
		live_cp_outer(); /* the handler reports the si_code and exits */
	_exit(0);
}

/* The model on the child's sequence: CALL, RDSSP, RET; then CALL, CALL, INCSSP 1, RET. */
static void model_child_sequence(uint64_t *call_delta, unsigned *cp_code)
{
	struct fx f;

	fx_open(&f, SPR, HI);
	fx_cet(&f, true, SH, 0, 3, M64);
	vx_cpu_set_ssp(f.t.cpu, K(0x3F00));
	OK(&f, vx_cpu_cet_call(f.t.cpu, &f.mem, 0x401000, 0, &f.t.ev));
	*call_delta = K(0x3F00) - vx_cpu_get_ssp(f.t.cpu);
	OK(&f, vx_cpu_cet_ret(f.t.cpu, &f.mem, 0x401000, &f.t.ev));
	OK(&f, vx_cpu_cet_call(f.t.cpu, &f.mem, 0x401100, 0, &f.t.ev));
	OK(&f, vx_cpu_cet_call(f.t.cpu, &f.mem, 0x401200, 0, &f.t.ev));
	OK(&f, vx_cpu_incssp(f.t.cpu, &f.mem, true, 1, &f.t.ev));
	*cp_code = vx_cpu_cet_ret(f.t.cpu, &f.mem, 0x401200, &f.t.ev) == VX_FAULTED &&
			   f.t.ev.vector == VX_VEC_CP
		       ? f.t.ev.error_code
		       : 0;
	fx_close(&f);
}

static void test_live_user_shadow_stack(void **state)
{
	unsigned a = 0, b = 0, c = 0, d = 0, cp_code = 0;
	struct live_result r;
	uint64_t call_delta = 0;
	int fds[2], status = 0, si_code = -1;
	pid_t pid;

	(void)state;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(c & (1u << 7))) {
		print_message("SKIP: CPUID.(7,0):ECX[7] (CET_SS) = 0 on this CPU: no user shadow "
			      "stacks to compare with\n");
		skip();
		return;
	}
	TU_CHECK(pipe(fds) == 0, "pipe");
	pid = fork();
	TU_CHECK(pid >= 0, "fork");
	if (pid == 0) {
		close(fds[0]);
		live_child(fds[1]);
	}
	close(fds[1]);
	memset(&r, 0, sizeof(r));
	TU_CHECK(read(fds[0], &r, sizeof(r)) == (ssize_t)sizeof(r), "child result");
	if (read(fds[0], &si_code, sizeof(si_code)) != (ssize_t)sizeof(si_code))
		si_code = -1;
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (r.enable_rc != 0) {
		print_message("SKIP: CPUID.(7,0):ECX[7] = 1 but the kernel refused "
			      "arch_prctl(ARCH_SHSTK_ENABLE) with %s (no user shadow-stack "
			      "support: see 'user_shstk' in /proc/cpuinfo)\n",
			      strerror((int)-r.enable_rc));
		skip();
		return;
	}
	model_child_sequence(&call_delta, &cp_code);
	print_message("live shadow stack: SSP %#" PRIx64 ", in a callee %#" PRIx64
		      ", after %#" PRIx64 ", #CP si_code %d\n",
		      r.ssp0, r.ssp_callee, r.ssp_after, si_code);
	TU_CHECK(r.ssp0 != 0 && (r.ssp0 & 7) == 0, "live SSP %#" PRIx64, r.ssp0);
	TU_CHECK(r.ssp0 - r.ssp_callee == call_delta,
		 "CALL moved SSP by %" PRIu64 " live, %" PRIu64 " in the model",
		 r.ssp0 - r.ssp_callee, call_delta);
	TU_CHECK(r.ssp_after == r.ssp0, "RET did not restore the live SSP");
	TU_CHECK(si_code == LIVE_SEGV_CPERR && cp_code == VX_CP_NEAR_RET,
		 "INCSSP then RET: live si_code %d (SEGV_CPERR = 10), model #CP(%u)", si_code,
		 cp_code);
}
#else
static void test_live_rdssp(void **state)
{
	(void)state;
	print_message("SKIP: not x86-64 Linux\n");
	skip();
}

static void test_live_user_shadow_stack(void **state)
{
	(void)state;
	print_message("SKIP: not x86-64 Linux\n");
	skip();
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_instruction_table),
	    cmocka_unit_test(test_interrupt_from_user),
	    cmocka_unit_test(test_far_call_ret),
	    cmocka_unit_test(test_supervisor_gate),
	    cmocka_unit_test(test_kernel_sequence),
	    cmocka_unit_test(test_lost_or_leaked_pl0_ssp),
	    cmocka_unit_test(test_kept_pl0_ssp_interrupt),
	    cmocka_unit_test(test_vmentry_checks),
	    cmocka_unit_test(test_vmentry_vmexit_loads),
	    cmocka_unit_test(test_svm),
	    cmocka_unit_test(test_task_switch),
	    cmocka_unit_test(test_ibt),
	    cmocka_unit_test(test_cp_codes),
	    cmocka_unit_test(test_misuse),
	    cmocka_unit_test(test_live_rdssp),
	    cmocka_unit_test(test_live_user_shadow_stack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
