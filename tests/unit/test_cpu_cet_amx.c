/* SPDX-License-Identifier: MIT */
/*
 * cpu layer: CET state through XSAVES/XRSTORS (arch.md §2.5, §5.6, §7.2, §7.10), AMX and APX
 * layouts, and XFD (§3.3, §5.9).  Covers arch.md §10 items 23 (through the processor), 47,
 * 49, 73, 75, 77, 79 and 81.
 *
 * §10 items 89-101 (RDSSP, WRSS/WRUSS, CLRSSBSY, near RET, interrupt and task-switch
 * shadow-stack behaviour, VM entry with "load CET state") are the CET instructions, transfers
 * and VM entry/exit of cpu_cet.h: tests/unit/test_cpu_cet_ss.c covers them.
 *
 * Offsets are hand-computed from the §2.4 walk and its worked examples.
 */
#include "cpu_test_util.h"

#define SPR  "sapphire-rapids"
#define ZEN4 "zen4"
#define APX  "future-intel-apx"
#define BIT  VX_BIT
#define CMP  VX_XCOMP_BV_COMPACTED

#define A0 0u
#define A1 16384u

static void set_cet(struct tu *t, uint64_t u_cet, uint64_t pl3, uint64_t pl0, uint64_t pl1,
		    uint64_t pl2)
{
	tu_wrmsr(t, VX_MSR_IA32_U_CET, u_cet);
	tu_wrmsr(t, VX_MSR_IA32_PL3_SSP, pl3);
	tu_wrmsr(t, VX_MSR_IA32_PL0_SSP, pl0);
	tu_wrmsr(t, VX_MSR_IA32_PL1_SSP, pl1);
	tu_wrmsr(t, VX_MSR_IA32_PL2_SSP, pl2);
}

/* ------------------------------------------------------------------------------------------ */
/* XSAVES layouts with CET (§2.4 worked examples, §2.5, §10 item 49)                            */

struct cet_layout_case {
	const char *name;
	const char *profile;
	uint64_t xcr0, xss, rfbm;
	uint32_t cet_u, cet_s, pkru, end; /* 0 = not in the layout */
	uint64_t xstate_bv;
	bool legacy_written;
};

static const struct cet_layout_case cet_layouts[] = {
    /* item 49: EDX:EAX = 0x1800 -> CET_U@576 (U_CET 576, PL3_SSP 584), CET_S@592 (PL0/1/2
     * at 592/600/608), legacy region untouched. */
    {"item49: SPR XSAVES 0x1800", SPR, 0x2E7, 0x1800, 0x1800, 576, 592, 0, 616, 0x1800, false},
    {"item49: zen4 XSAVES 0x1800 (same compacted layout)", ZEN4, 0x2E7, 0x1800, 0x1800, 576, 592, 0,
     616, 0x1800, false},
    /* §2.4: 0x1803 -> CET_U@576, CET_S@592, size 616. */
    {"SPR XSAVES 0x1803", SPR, 0x3, 0x1800, TU_ALL, 576, 592, 0, 616, 0x1803, true},
    /* §2.4: 0x1A07 -> AVX@576, PKRU@832, CET_U@840, CET_S@856, size 880. */
    {"SPR XSAVES 0x1A07", SPR, 0x207, 0x1800, TU_ALL, 840, 856, 832, 880, 0x1A07, true},
    /* §2.4: 0x2E7 + XSS 0x1800 -> PKRU@2432, CET_U@2440, CET_S@2456, size 2480. */
    {"SPR XSAVES 0x1AE7", SPR, 0x2E7, 0x1800, TU_ALL, 2440, 2456, 2432, 2480, 0x1A07, true},
    {"zen4 XSAVES 0x1AE7", ZEN4, 0x2E7, 0x1800, TU_ALL, 2440, 2456, 2432, 2480, 0x1A07, true},
};

static void test_xsaves_cet_layouts(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cet_layouts) / sizeof(cet_layouts[0]); i++) {
		const struct cet_layout_case *c = &cet_layouts[i];
		const char *n = c->name;
		uint64_t rfbm = (c->xcr0 | c->xss) & c->rfbm;
		struct tu t;

		tu_open(&t, c->profile);
		tu_cr4(&t, VX_CR4_PKE, 0);
		tu_xsetbv(&t, c->xcr0);
		tu_wrmsr(&t, VX_MSR_IA32_XSS, c->xss);
		tu_set_u64(&t, "fcw", 0x027F);
		tu_set_pat(&t, "xmm1", 1);
		if (c->xcr0 & BIT(2))
			tu_set_pat(&t, "ymmh0", 40);
		if (c->xcr0 & BIT(9))
			tu_set_u64(&t, "pkru", 0x12345678);
		set_cet(&t, 0x1, 0x7008, 0x8000, 0x9004, 0xA000);
		tu_run(&t, VX_INSN_XSAVES64, A0, c->rfbm);
		TU_CASE_CHECK(failures, tu_get64(&t, 520) == (CMP | rfbm), n,
			      "XCOMP_BV %#" PRIx64 ", expected %#" PRIx64, tu_get64(&t, 520),
			      CMP | rfbm);
		TU_CASE_CHECK(failures, tu_get64(&t, 512) == c->xstate_bv, n,
			      "XSTATE_BV %#" PRIx64 ", expected %#" PRIx64, tu_get64(&t, 512),
			      c->xstate_bv);
		TU_CASE_CHECK(failures, tu_get64(&t, c->cet_u) == 0x1, n, "U_CET not at %u",
			      c->cet_u);
		TU_CASE_CHECK(failures, tu_get64(&t, c->cet_u + 8) == 0x7008, n,
			      "PL3_SSP not at %u", c->cet_u + 8);
		TU_CASE_CHECK(failures, tu_get64(&t, c->cet_s) == 0x8000, n, "PL0_SSP not at %u",
			      c->cet_s);
		TU_CASE_CHECK(failures, tu_get64(&t, c->cet_s + 8) == 0x9004, n,
			      "PL1_SSP not at %u", c->cet_s + 8);
		TU_CASE_CHECK(failures, tu_get64(&t, c->cet_s + 16) == 0xA000, n,
			      "PL2_SSP not at %u", c->cet_s + 16);
		if (c->pkru != 0)
			TU_CASE_CHECK(failures, tu_get(&t, c->pkru, 4) == 0x12345678, n,
				      "PKRU not at %u", c->pkru);
		if (c->rfbm & BIT(2) && c->xcr0 & BIT(2))
			TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 576, 16, 40), n,
				      "YMMH0 not at 576");
		if (!c->legacy_written)
			TU_CASE_CHECK(failures, tu_all(&t, 0, 512, TU_CANARY), n,
				      "legacy region written (first at %ld)",
				      tu_find_not(&t, 0, 512, TU_CANARY));
		else
			TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 176, 16, 1), n,
				      "XMM1 not at 176");
		TU_CASE_CHECK(failures, tu_all(&t, 528, 576, TU_CANARY), n,
			      "header bytes 16-63 written");
		TU_CASE_CHECK(failures, tu_all(&t, c->end, c->end + 1024, TU_CANARY), n,
			      "written past %u (first at %ld)", c->end,
			      tu_find_not(&t, c->end, c->end + 1024, TU_CANARY));
		tu_close(&t);
	}
	assert_int_equal(failures, 0);
}

/* Init optimization for CET: U_CET = PL3_SSP = 0 is the initial configuration (§2.5), so
 * XSAVES records XSTATE_BV[11] = 0 and writes nothing at 576. */
static void test_xsaves_cet_init(void **state)
{
	struct tu t;

	(void)state;
	tu_open(&t, SPR);
	tu_xsetbv(&t, 0x3);
	tu_wrmsr(&t, VX_MSR_IA32_XSS, 0x1800);
	tu_wrmsr(&t, VX_MSR_IA32_PL1_SSP, 0x4000);
	tu_run(&t, VX_INSN_XSAVES64, A0, 0x1800);
	assert_true(tu_get64(&t, 512) == 0x1000);
	assert_true(tu_all(&t, 576, 592, TU_CANARY));
	assert_true(tu_get64(&t, 592) == 0 && tu_get64(&t, 600) == 0x4000 &&
		    tu_get64(&t, 608) == 0);
	tu_close(&t);
}

/* §10 item 23 through the processor: XCR0 = 0x7, XSS = 0x1800 -> compacted size 872; a full
 * XSAVES fits a window of exactly 872 bytes (PL2_SSP at 864), not 871. */
static void test_item23_compacted_size_window(void **state)
{
	static const struct tu_expect pf = TU_PF;
	struct tu t;
	int rc, failures = 0;

	(void)state;
	tu_open(&t, SPR);
	tu_xsetbv(&t, 0x7);
	tu_wrmsr(&t, VX_MSR_IA32_XSS, 0x1800);
	tu_wrmsr(&t, VX_MSR_IA32_PL2_SSP, 0x2000);
	tu_set_pat(&t, "ymmh0", 1);
	t.mem.size = 872;
	tu_run(&t, VX_INSN_XSAVES64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_get64(&t, 864) == 0x2000, "item23", "PL2_SSP not at 864");
	TU_CASE_CHECK(failures, tu_get64(&t, 520) == (CMP | 0x1807), "item23", "XCOMP_BV %#" PRIx64,
		      tu_get64(&t, 520));
	tu_fill(&t, TU_CANARY);
	t.mem.size = 871;
	tu_snapshot(&t);
	rc = tu_exec(&t, VX_INSN_XSAVES64, A0, TU_ALL);
	failures += tu_check_outcome(&t, "item23: window of 871 bytes", rc, &pf);
	tu_close(&t);
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* XRSTORS value checks for CET (§2.5, §5.6, §7.2, §7.10; §10 items 73 and 75)                  */

enum prof_variant { P_SPR, P_SPR48, P_ZEN4 };

struct xrstors_cet_case {
	const char *name;
	enum prof_variant prof;
	uint64_t xstate_bv;
	uint64_t rfbm;
	uint64_t u_cet, pl3, pl0, pl1, pl2;
	struct tu_expect exp;
};

#define NONCANON57 UINT64_C(0x0100000000000000)
#define BIT47	   UINT64_C(0x0000800000000000)

static const struct xrstors_cet_case xrstors_cet_cases[] = {
    {"valid values", P_SPR, 0x1800, TU_ALL, 0x1, 0x7000, 0x8000, 0x9004, 0xA000, TU_OK},
    {"valid: U_CET SUPPRESS", P_SPR, 0x1800, TU_ALL, 0x400, 0, 0, 0, 0, TU_OK},
    {"valid: U_CET TRACKER + IBT enables", P_SPR, 0x1800, TU_ALL, 0x83C, 0, 0, 0, 0, TU_OK},
    {"item73: U_CET = 0x40 (bit 6 reserved)", P_SPR, 0x1800, TU_ALL, 0x40, 0, 0, 0, 0, TU_GP},
    {"U_CET = 0x200 (bit 9 reserved)", P_SPR, 0x800, TU_ALL, 0x200, 0, 0, 0, 0, TU_GP},
    {"U_CET = 0xC00 (SUPPRESS+TRACKER)", P_SPR, 0x800, TU_ALL, 0xC00, 0, 0, 0, 0, TU_GP},
    {"U_CET non-canonical bitmap base", P_SPR, 0x800, TU_ALL, NONCANON57, 0, 0, 0, 0, TU_GP},
    {"item75: PL3_SSP bit 47 on a 48-bit CPU", P_SPR48, 0x800, TU_ALL, 0, BIT47, 0, 0, 0, TU_GP},
    {"PL3_SSP bit 47 on a 57-bit CPU (canonical)", P_SPR, 0x800, TU_ALL, 0, BIT47, 0, 0, 0, TU_OK},
    {"PL3_SSP non-canonical at 57 bits", P_SPR, 0x800, TU_ALL, 0, NONCANON57, 0, 0, 0, TU_GP},
    {"item75: PL3_SSP = 0x1002 (bits 1:0)", P_SPR, 0x800, TU_ALL, 0, 0x1002, 0, 0, 0, TU_GP},
    {"PL3_SSP = 0x1001", P_SPR, 0x800, TU_ALL, 0, 0x1001, 0, 0, 0, TU_GP},
    {"PL3_SSP = 0x1004 (4-aligned)", P_SPR, 0x800, TU_ALL, 0, 0x1004, 0, 0, 0, TU_OK},
    {"U_CET bit 47 base on a 48-bit CPU", P_SPR48, 0x800, TU_ALL, BIT47, 0, 0, 0, 0, TU_GP},
    {"PL0_SSP = 0x1002", P_SPR, 0x1000, TU_ALL, 0, 0, 0x1002, 0, 0, TU_GP},
    {"PL1_SSP non-canonical", P_SPR, 0x1000, TU_ALL, 0, 0, 0, NONCANON57, 0, TU_GP},
    {"PL2_SSP = 0x3", P_SPR, 0x1000, TU_ALL, 0, 0, 0, 0, 0x3, TU_GP},
    {"PL2_SSP bit 47 on a 48-bit CPU", P_SPR48, 0x1000, TU_ALL, 0, 0, 0, 0, BIT47, TU_GP},
    /* Values are checked only when loaded. */
    {"XSTATE_BV[11]=0: bad U_CET image ignored (init)", P_SPR, 0x1000, TU_ALL, 0x40, 0x1002, 0x8000,
     0, 0, TU_OK},
    {"XSTATE_BV[12]=0: bad PL0_SSP image ignored (init)", P_SPR, 0x800, TU_ALL, 0x1, 0x7000, 0x1002,
     0, 0, TU_OK},
    {"RFBM[11]=0: bad U_CET image ignored (unchanged)", P_SPR, 0x1800, 0x1003, 0x40, 0x1002, 0x8000,
     0, 0, TU_OK},
    /* Zen 4: shadow stacks only (§7.12). */
    {"zen4: U_CET = 0x3", P_ZEN4, 0x1800, TU_ALL, 0x3, 0x7000, 0x8000, 0, 0, TU_OK},
    {"zen4: U_CET = 0x4 (ENDBR_EN without IBT)", P_ZEN4, 0x800, TU_ALL, 0x4, 0, 0, 0, 0, TU_GP},
    {"zen4: U_CET = 0x800 (TRACKER without IBT)", P_ZEN4, 0x800, TU_ALL, 0x800, 0, 0, 0, 0, TU_GP},
    {"zen4: PL3_SSP = 0x1002", P_ZEN4, 0x800, TU_ALL, 0, 0x1002, 0, 0, 0, TU_GP},
};

static void open_variant(struct tu *t, enum prof_variant v)
{
	struct vx_profile p;

	tu_load_profile(&p, v == P_ZEN4 ? ZEN4 : SPR);
	if (v == P_SPR48) /* CPUID 0x80000008 EAX[15:8] = 48 linear-address bits */
		tu_profile_edit(&p, 0x80000008u, 0, VX_EAX, 0xFF00, 0x3000);
	tu_open_profile(t, &p);
	TU_CHECK(vx_profile_linear_address_bits(&t->profile) == (v == P_SPR48 ? 48u : 57u),
		 "linear address bits %u", vx_profile_linear_address_bits(&t->profile));
}

static void test_xrstors_cet_checks(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(xrstors_cet_cases) / sizeof(xrstors_cet_cases[0]); i++) {
		const struct xrstors_cet_case *c = &xrstors_cet_cases[i];
		uint64_t rfbm, got[5], want[5];
		static const uint32_t msrs[5] = {VX_MSR_IA32_U_CET, VX_MSR_IA32_PL3_SSP,
						 VX_MSR_IA32_PL0_SSP, VX_MSR_IA32_PL1_SSP,
						 VX_MSR_IA32_PL2_SSP};
		/* Values before the instruction, all valid on every profile here. */
		static const uint64_t before[5] = {0x2, 0x6000, 0x5000, 0x5008, 0x5010};
		const uint64_t image[5] = {c->u_cet, c->pl3, c->pl0, c->pl1, c->pl2};
		struct tu t;
		int rc;

		open_variant(&t, c->prof);
		tu_xsetbv(&t, 0x3);
		tu_wrmsr(&t, VX_MSR_IA32_XSS, 0x1800);
		set_cet(&t, before[0], before[1], before[2], before[3], before[4]);
		/* Image: XCOMP_BV = 2^63|0x1803 -> CET_U@576, CET_S@592 (§2.4). */
		memset(t.buf, 0, 1024);
		tu_put(&t, 24, 0x1F80, 4);
		tu_header(&t, A0, c->xstate_bv, CMP | 0x1803);
		tu_put64(&t, 576, c->u_cet);
		tu_put64(&t, 584, c->pl3);
		tu_put64(&t, 592, c->pl0);
		tu_put64(&t, 600, c->pl1);
		tu_put64(&t, 608, c->pl2);
		tu_snapshot(&t);
		rc = tu_exec(&t, VX_INSN_XRSTORS64, A0, c->rfbm);
		if (tu_check_outcome(&t, c->name, rc, &c->exp) != 0) {
			failures++;
			tu_close(&t);
			continue;
		}
		if (c->exp.kind != VX_EVENT_NONE) {
			tu_close(&t);
			continue;
		}
		/* §5.5/§5.6/§7.10: loaded if RFBM & XSTATE_BV, zeroed if RFBM & ~XSTATE_BV,
		 * unchanged if not requested. */
		rfbm = c->rfbm & 0x1803;
		for (int k = 0; k < 5; k++) {
			uint64_t bit = k < 2 ? BIT(11) : BIT(12);

			if (!(rfbm & bit))
				want[k] = before[k];
			else if (c->xstate_bv & bit)
				want[k] = image[k];
			else
				want[k] = 0;
			got[k] = tu_rdmsr(&t, msrs[k]);
			TU_CASE_CHECK(failures, got[k] == want[k], c->name,
				      "MSR %#x = %#" PRIx64 ", expected %#" PRIx64, msrs[k], got[k],
				      want[k]);
		}
		tu_close(&t);
	}
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* AMX and APX layouts (§2.4; §10 item 47)                                                      */

static void set_tilecfg(struct tu *t)
{
	uint8_t cfg[64] = {0};

	cfg[0] = 1; /* palette 1 */
	for (int k = 0; k < 8; k++) {
		cfg[16 + 2 * k] = 64; /* colsb */
		cfg[48 + k] = 16;     /* rows */
	}
	tu_set_bytes(t, "tilecfg", cfg, sizeof(cfg));
}

static bool mem_is_tilecfg(const struct tu *t, size_t off)
{
	if (t->buf[off] != 1 || t->buf[off + 16] != 64 || t->buf[off + 48 + 7] != 16)
		return false;
	return true;
}

static void test_amx_layouts(void **state)
{
	struct tu t;
	int failures = 0;

	(void)state;
	/* item 47: XCR0 = 0x60203, RFBM = 0x20203 -> PKRU@576, TILECFG@640 (704 - 64 alignment
	 * from 584), size 704. */
	tu_open(&t, SPR);
	tu_cr4(&t, VX_CR4_PKE, 0);
	tu_xsetbv(&t, 0x60203);
	tu_set_u64(&t, "pkru", 0xC);
	set_tilecfg(&t);
	tu_set_pat(&t, "tmm1", 11);
	tu_run(&t, VX_INSN_XSAVEC64, A0, 0x20203);
	TU_CASE_CHECK(failures, tu_get64(&t, 520) == UINT64_C(0x8000000000020203), "item47",
		      "XCOMP_BV %#" PRIx64, tu_get64(&t, 520));
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == 0x20200, "item47", "XSTATE_BV %#" PRIx64,
		      tu_get64(&t, 512));
	TU_CASE_CHECK(failures, tu_get(&t, 576, 4) == 0xC, "item47", "PKRU not at 576");
	TU_CASE_CHECK(failures, mem_is_tilecfg(&t, 640), "item47", "TILECFG not at 640");
	TU_CASE_CHECK(failures, tu_all(&t, 704, 4096, TU_CANARY), "item47",
		      "written past 704 (first at %ld)", tu_find_not(&t, 704, 4096, TU_CANARY));
	tu_close(&t);

	/* §2.4: 0x60003 -> TILECFG@576, TILEDATA@640, size 8832. */
	tu_open(&t, SPR);
	tu_xsetbv(&t, 0x60003);
	set_tilecfg(&t);
	tu_set_pat(&t, "tmm7", 17);
	tu_run(&t, VX_INSN_XSAVEC64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == 0x60000, "XSAVEC 0x60003",
		      "XSTATE_BV %#" PRIx64, tu_get64(&t, 512));
	TU_CASE_CHECK(failures, mem_is_tilecfg(&t, 576), "XSAVEC 0x60003", "TILECFG not at 576");
	TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 640 + 7 * 1024, 1024, 17), "XSAVEC 0x60003",
		      "TMM7 not at 7808");
	TU_CASE_CHECK(failures, tu_all(&t, 640, 640 + 7 * 1024, 0), "XSAVEC 0x60003",
		      "TMM0-6 not zero");
	TU_CASE_CHECK(failures, tu_all(&t, 8832, 9856, TU_CANARY), "XSAVEC 0x60003",
		      "written past 8832");
	tu_close(&t);

	/* §2.4: 0x60207 -> AVX@576, PKRU@832, TILECFG@896 (840 rounded up), TILEDATA@960, size
	 * 9152.  Then restore a hand-laid image of the same layout. */
	tu_open(&t, SPR);
	tu_cr4(&t, VX_CR4_PKE, 0);
	tu_xsetbv(&t, 0x60207);
	tu_set_pat(&t, "ymmh15", 15);
	tu_set_u64(&t, "pkru", 0x30);
	set_tilecfg(&t);
	tu_set_pat(&t, "tmm2", 12);
	tu_run(&t, VX_INSN_XSAVEC64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_get64(&t, 520) == (CMP | 0x60207), "XSAVEC 0x60207",
		      "XCOMP_BV %#" PRIx64, tu_get64(&t, 520));
	TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 576 + 240, 16, 15), "XSAVEC 0x60207",
		      "YMMH15 not at 816");
	TU_CASE_CHECK(failures, tu_get(&t, 832, 4) == 0x30, "XSAVEC 0x60207", "PKRU not at 832");
	TU_CASE_CHECK(failures, mem_is_tilecfg(&t, 896), "XSAVEC 0x60207", "TILECFG not at 896");
	TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 960 + 2048, 1024, 12), "XSAVEC 0x60207",
		      "TMM2 not at 3008");
	TU_CASE_CHECK(failures, tu_all(&t, 9152, 10176, TU_CANARY), "XSAVEC 0x60207",
		      "written past 9152");
	/* Restore: a different TMM7 at 960 + 7168. */
	memset(t.buf + A1, 0, 10240);
	tu_put(&t, A1 + 24, 0x1F80, 4);
	tu_header(&t, A1, 0x60000, CMP | 0x60207);
	memcpy(t.buf + A1 + 896, t.buf + 896, 64);
	tu_mem_pat(&t, A1 + 960 + 7168, 1024, 77);
	tu_run(&t, VX_INSN_XRSTOR64, A1, TU_ALL);
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "tmm7", 77), "XRSTOR 0x60207",
		      "TMM7 not loaded from 8128");
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "tmm2"), "XRSTOR 0x60207", "TMM2 not 0");
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "ymmh15"), "XRSTOR 0x60207",
		      "YMMH15 not initialized");
	tu_close(&t);

	/* Standard format: TILECFG@2752, TILEDATA@2816 (§2.1). */
	tu_open(&t, SPR);
	tu_xsetbv(&t, 0x602E7);
	set_tilecfg(&t);
	tu_set_pat(&t, "tmm2", 12);
	tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	TU_CASE_CHECK(failures, mem_is_tilecfg(&t, 2752), "XSAVE AMX", "TILECFG not at 2752");
	TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 2816 + 2048, 1024, 12), "XSAVE AMX",
		      "TMM2 not at 4864");
	TU_CASE_CHECK(failures, tu_all(&t, 11008, 12032, TU_CANARY), "XSAVE AMX",
		      "written past 11008");
	tu_close(&t);
	assert_int_equal(failures, 0);
}

static void test_apx_layouts(void **state)
{
	struct tu t;
	int failures = 0;

	(void)state;
	tu_open(&t, APX);
	tu_cr4(&t, VX_CR4_PKE, 0);
	tu_xsetbv(&t, 0x802E7);
	tu_set_u64(&t, "r17", UINT64_C(0x1717171717171717));
	tu_set_u64(&t, "pkru", 0x4);
	/* Standard: APX at 960 (the old MPX space): R17 at 968. */
	tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_get64(&t, 968) == UINT64_C(0x1717171717171717), "APX std",
		      "R17 not at 968");
	TU_CASE_CHECK(failures, tu_all(&t, 960, 968, 0) && tu_all(&t, 976, 1088, 0), "APX std",
		      "other EGPRs not zero");
	/* Compacted 0x80003: APX at 576 -> R17 at 584. */
	tu_fill(&t, TU_CANARY);
	tu_run(&t, VX_INSN_XSAVEC64, A0, 0x80003);
	TU_CASE_CHECK(failures, tu_get64(&t, 584) == UINT64_C(0x1717171717171717),
		      "APX cmp 0x80003", "R17 not at 584");
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == 0x80000, "APX cmp 0x80003",
		      "XSTATE_BV %#" PRIx64, tu_get64(&t, 512));
	/* Compacted 0x802E7: after PKRU@2432 (8 bytes) -> APX@2440, R17 at 2448. */
	tu_fill(&t, TU_CANARY);
	tu_run(&t, VX_INSN_XSAVEC64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_get64(&t, 2448) == UINT64_C(0x1717171717171717),
		      "APX cmp 0x802E7", "R17 not at 2448");
	TU_CASE_CHECK(failures, tu_get(&t, 2432, 4) == 0x4, "APX cmp 0x802E7", "PKRU not at 2432");
	tu_close(&t);
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* XFD (§3.3, §5.9; §10 items 77, 79, 81)                                                       */

/* SPR, XCR0 = 0x60003, TILECFG and TMM2 live, then IA32_XFD = 0x40000 (armed: XCR0[18]=1). */
static void setup_xfd(struct tu *t)
{
	tu_open(t, SPR);
	tu_xsetbv(t, 0x60003);
	set_tilecfg(t);
	tu_set_pat(t, "tmm2", 12);
	tu_wrmsr(t, VX_MSR_IA32_XFD, 0x40000);
}

static void test_xfd_saves(void **state)
{
	struct tu t;
	int failures = 0;

	(void)state;
	/* item 77: XSAVE: no #NM, XSTATE_BV[18] = 0, TILEDATA area holds its initial
	 * configuration (zeros), TILECFG saved normally. */
	setup_xfd(&t);
	tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == ((TU_CANARY64 & ~UINT64_C(0x60003)) | 0x20000),
		      "item77 XSAVE", "XSTATE_BV %#" PRIx64, tu_get64(&t, 512));
	TU_CASE_CHECK(failures, tu_all(&t, 2816, 11008, 0), "item77 XSAVE",
		      "TILEDATA area not zero (first non-zero at %ld)",
		      tu_find_not(&t, 2816, 11008, 0));
	TU_CASE_CHECK(failures, mem_is_tilecfg(&t, 2752), "item77 XSAVE", "TILECFG not saved");
	TU_CASE_CHECK(failures, tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR) == 0, "item77 XSAVE",
		      "XFD_ERR set by a save");
	tu_close(&t);

	/* XSAVEOPT: XSTATE_BV[18] = 0 and nothing stored for it. */
	setup_xfd(&t);
	tu_run(&t, VX_INSN_XSAVEOPT64, A0, TU_ALL);
	TU_CASE_CHECK(failures, (tu_get64(&t, 512) & BIT(18)) == 0, "XFD XSAVEOPT",
		      "XSTATE_BV %#" PRIx64, tu_get64(&t, 512));
	TU_CASE_CHECK(failures, tu_all(&t, 2816, 11008, TU_CANARY), "XFD XSAVEOPT",
		      "TILEDATA written");
	tu_close(&t);

	/* XSAVEC and XSAVES: XCOMP_BV still lists 18, XSTATE_BV[18] = 0, TILEDATA@640 not
	 * written. */
	for (int s = 0; s < 2; s++) {
		const char *n = s ? "XFD XSAVES" : "XFD XSAVEC";

		setup_xfd(&t);
		tu_run(&t, s ? VX_INSN_XSAVES64 : VX_INSN_XSAVEC64, A0, TU_ALL);
		TU_CASE_CHECK(failures, tu_get64(&t, 520) == (CMP | 0x60003), n,
			      "XCOMP_BV %#" PRIx64, tu_get64(&t, 520));
		TU_CASE_CHECK(failures, tu_get64(&t, 512) == 0x20000, n, "XSTATE_BV %#" PRIx64,
			      tu_get64(&t, 512));
		TU_CASE_CHECK(failures, mem_is_tilecfg(&t, 576), n, "TILECFG not at 576");
		TU_CASE_CHECK(failures, tu_all(&t, 640, 8832, TU_CANARY), n, "TILEDATA written");
		tu_close(&t);
	}

	/* XFD[18] = 1 with XCR0[18] = 0 arms nothing (§5.9). */
	tu_open(&t, SPR);
	tu_xsetbv(&t, 0x3);
	tu_wrmsr(&t, VX_MSR_IA32_XFD, 0x40000);
	tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	tu_close(&t);
	assert_int_equal(failures, 0);
}

/* item 79: XRSTOR(S) loading an armed component -> #NM, IA32_XFD_ERR[18] = 1, nothing else
 * changes.  (The full XFD_ERR value on XRSTOR is unverified in §5.9/§11; only bit 18 is
 * checked.) */
static void test_xfd_restores(void **state)
{
	static const struct {
		const char *name;
		enum vx_insn insn;
		uint64_t xstate_bv, xcomp_bv, rfbm;
		bool nm;
	} cases[] = {
	    {"item79: std XRSTOR XSTATE_BV[18]=1", VX_INSN_XRSTOR64, 0x60000, 0, TU_ALL, true},
	    {"item79: cmp XRSTOR XSTATE_BV[18]=1", VX_INSN_XRSTOR64, 0x40000, CMP | 0x60003, TU_ALL,
	     true},
	    {"item79: XRSTORS XSTATE_BV[18]=1", VX_INSN_XRSTORS64, 0x40000, CMP | 0x60003, TU_ALL,
	     true},
	    {"std XRSTOR XSTATE_BV[18]=0 (init, no #NM)", VX_INSN_XRSTOR64, 0x20000, 0, TU_ALL,
	     false},
	    {"cmp XRSTOR XCOMP_BV without 18, RFBM[18]=1 (init, no #NM)", VX_INSN_XRSTOR64, 0x20000,
	     CMP | 0x20003, TU_ALL, false},
	    {"std XRSTOR RFBM[18]=0 (not requested, no #NM)", VX_INSN_XRSTOR64, 0x60000, 0, 0x20003,
	     false},
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static const struct tu_expect nm = TU_NM, ok = TU_OK;
		size_t cfg_off = cases[i].xcomp_bv ? 576 : 2752;
		uint64_t err;
		struct tu t;
		int rc;

		setup_xfd(&t);
		memset(t.buf, 0, 12288);
		tu_put(&t, 24, 0x1F80, 4);
		tu_header(&t, A0, cases[i].xstate_bv, cases[i].xcomp_bv);
		t.buf[cfg_off] = 1; /* palette 1 */
		tu_snapshot(&t);
		rc = tu_exec(&t, cases[i].insn, A0, cases[i].rfbm);
		if (!cases[i].nm) {
			failures += tu_check_outcome(&t, cases[i].name, rc, &ok);
			if (cases[i].rfbm & BIT(18))
				TU_CASE_CHECK(failures,
					      tu_reg_is_zero(&t, "tmm2") &&
						  !(vx_cpu_xinuse(t.cpu) & BIT(18)),
					      cases[i].name, "TILEDATA not initialized");
			else
				TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "tmm2", 12),
					      cases[i].name, "TMM2 changed");
			tu_close(&t);
			continue;
		}
		if (rc != VX_FAULTED || !tu_is_exc(&t.ev, VX_VEC_NM)) {
			TU_CASE_FAIL(failures, cases[i].name, "expected #NM, rc %d vector %u", rc,
				     t.ev.vector);
			tu_close(&t);
			continue;
		}
		err = tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR);
		TU_CASE_CHECK(failures, (err & BIT(18)) != 0, cases[i].name,
			      "XFD_ERR %#" PRIx64 " lacks bit 18", err);
		/* Apart from XFD_ERR, nothing changed. */
		tu_wrmsr(&t, VX_MSR_IA32_XFD_ERR, 0);
		failures += tu_check_outcome(&t, cases[i].name, rc, &nm);
		tu_close(&t);
	}
	assert_int_equal(failures, 0);
}

/* item 81 and §5.9: an AMX instruction on an armed component. */
static void test_xfd_use(void **state)
{
	static const struct tu_expect nm = TU_NM, ud = TU_UD;
	struct tu t;
	int rc, failures = 0;
	uint8_t row[1024] = {1};

	(void)state;
	/* Not armed: use works and marks 17/18 in use. */
	tu_open(&t, SPR);
	tu_xsetbv(&t, 0x60003);
	rc = vx_cpu_use(t.cpu, 0x60000, &t.ev);
	TU_CASE_CHECK(failures, rc == 0, "use AMX, XFD=0", "rc %d", rc);
	TU_CASE_CHECK(failures, (tu_xgetbv(&t, 1) & 0x60000) == 0x60000, "use AMX, XFD=0",
		      "XGETBV(1) %#" PRIx64, tu_xgetbv(&t, 1));
	tu_close(&t);

	/* item 81: armed -> #NM, IA32_XFD_ERR = 0x40000 (= XFD & {17,18}). */
	setup_xfd(&t);
	tu_snapshot(&t);
	memset(&t.ev, 0, sizeof(t.ev));
	rc = vx_cpu_use(t.cpu, 0x60000, &t.ev);
	TU_CASE_CHECK(failures, rc == VX_FAULTED && tu_is_exc(&t.ev, VX_VEC_NM), "item81",
		      "rc %d vector %u", rc, t.ev.vector);
	TU_CASE_CHECK(failures, tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR) == 0x40000, "item81",
		      "XFD_ERR %#" PRIx64, tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR));
	tu_wrmsr(&t, VX_MSR_IA32_XFD_ERR, 0);
	failures += tu_check_outcome(&t, "item81: nothing else changed", rc, &nm);
	/* The same through a register write (cpu.h vx_cpu_set_reg). */
	memset(&t.ev, 0, sizeof(t.ev));
	rc = vx_cpu_set_reg(t.cpu, tu_reg("tmm0"), row, sizeof(row), &t.ev);
	TU_CASE_CHECK(failures, rc == VX_FAULTED && tu_is_exc(&t.ev, VX_VEC_NM),
		      "set_reg tmm0 armed", "rc %d vector %u", rc, t.ev.vector);
	TU_CASE_CHECK(failures, tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR) == 0x40000, "set_reg tmm0 armed",
		      "XFD_ERR %#" PRIx64, tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR));
	/* Sticky: disarming does not clear XFD_ERR; the OS does. */
	tu_wrmsr(&t, VX_MSR_IA32_XFD, 0);
	rc = vx_cpu_use(t.cpu, 0x60000, &t.ev);
	TU_CASE_CHECK(failures, rc == 0, "use after disarm", "rc %d", rc);
	TU_CASE_CHECK(failures, tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR) == 0x40000, "XFD_ERR sticky",
		      "%#" PRIx64, tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR));
	tu_close(&t);

	/* item 81 second half: #NM from CR0.TS leaves IA32_XFD_ERR unchanged. */
	setup_xfd(&t);
	tu_cr0(&t, VX_CR0_TS, 0);
	tu_snapshot(&t);
	rc = vx_cpu_use(t.cpu, 0x2, &t.ev);
	failures += tu_check_outcome(&t, "item81: SSE use with CR0.TS", rc, &nm);
	TU_CASE_CHECK(failures, tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR) == 0, "item81 TS",
		      "XFD_ERR %#" PRIx64, tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR));
	rc = tu_exec(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	failures += tu_check_outcome(&t, "item81: XSAVE with CR0.TS", rc, &nm);
	TU_CASE_CHECK(failures, tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR) == 0, "item81 TS XSAVE",
		      "XFD_ERR %#" PRIx64, tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR));
	tu_close(&t);

	/* Not enabled in XCR0 -> #UD (XFD irrelevant); CR4.OSXSAVE = 0 -> #UD. */
	tu_open(&t, SPR);
	tu_xsetbv(&t, 0x3);
	tu_wrmsr(&t, VX_MSR_IA32_XFD, 0x40000);
	tu_snapshot(&t);
	rc = vx_cpu_use(t.cpu, 0x60000, &t.ev);
	failures += tu_check_outcome(&t, "use AMX with XCR0=0x3", rc, &ud);
	tu_xsetbv(&t, 0x60003);
	tu_wrmsr(&t, VX_MSR_IA32_XFD, 0);
	tu_cr4(&t, 0, VX_CR4_OSXSAVE);
	tu_snapshot(&t);
	rc = vx_cpu_use(t.cpu, 0x60000, &t.ev);
	failures += tu_check_outcome(&t, "use AMX with CR4.OSXSAVE=0", rc, &ud);
	tu_close(&t);
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xsaves_cet_layouts),
	    cmocka_unit_test(test_xsaves_cet_init),
	    cmocka_unit_test(test_item23_compacted_size_window),
	    cmocka_unit_test(test_xrstors_cet_checks),
	    cmocka_unit_test(test_amx_layouts),
	    cmocka_unit_test(test_apx_layouts),
	    cmocka_unit_test(test_xfd_saves),
	    cmocka_unit_test(test_xfd_restores),
	    cmocka_unit_test(test_xfd_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
