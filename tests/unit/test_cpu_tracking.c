/* SPDX-License-Identifier: MIT */
/*
 * cpu layer: the processor's tracking state XINUSE, XMODIFIED and XRSTOR_INFO (arch.md §4),
 * XGETBV(ECX=1) (§5.7), the modified and init optimizations of XSAVEOPT/XSAVES (§5.2, §5.4)
 * and §10 items 17 and 39.
 *
 * The spec lets an implementation over-report XINUSE (§4) but the cpu.h contract is exact:
 * power-on XINUSE = 0, vx_cpu_set_reg() sets the component's bit, XRSTOR sets it for loaded
 * and clears it for initialized components.  The expectations below follow that contract; the
 * one place the spec allows freedom (XINUSE[1] while MXCSR != 0x1F80) is avoided by keeping
 * MXCSR at 0x1F80 or by masking bit 1.
 */
#include "cpu_test_util.h"

#define SPR "sapphire-rapids"
#define SKX "skylake-server"
#define APX "future-intel-apx"
#define BIT VX_BIT
#define CMP VX_XCOMP_BV_COMPACTED

#define A0 0u
#define A1 16384u

static void prep_area(struct tu *t, size_t area, uint64_t xstate_bv, uint64_t xcomp_bv)
{
	memset(t->buf + area, 0, 12288);
	tu_put(t, area + 24, 0x1F80, 4);
	tu_header(t, area, xstate_bv, xcomp_bv);
}

/* XMODIFIED compared on the components this CPU supports (XCR0 or XSS mask): other bits name
 * no state component, so their value is meaningless. */
static bool xmodified_is(const struct tu *t, uint64_t want)
{
	uint64_t known =
	    vx_profile_xcr0_supported(&t->profile) | vx_profile_xss_supported(&t->profile);

	return (vx_cpu_xmodified(t->cpu) & known) == (want & known);
}

/* ------------------------------------------------------------------------------------------ */

static void test_power_on_tracking(void **state)
{
	struct vx_xrstor_info info;
	struct tu t;

	(void)state;
	tu_open(&t, SPR);
	assert_true(vx_cpu_xinuse(t.cpu) == 0);
	assert_true(tu_xgetbv(&t, 1) == 0);
	memset(&info, 0xFF, sizeof(info));
	vx_cpu_xrstor_info(t.cpu, &info);
	assert_false(info.valid);
	tu_xsetbv(&t, 0x602E7);
	assert_true(tu_xgetbv(&t, 1) == 0);
	/* vx_cpu_reset() returns to the same state. */
	tu_set_pat(&t, "xmm1", 1);
	prep_area(&t, A0, 0x3, 0);
	tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
	vx_cpu_reset(t.cpu);
	assert_true(vx_cpu_xinuse(t.cpu) == 0);
	vx_cpu_xrstor_info(t.cpu, &info);
	assert_false(info.valid);
	tu_close(&t);
}

/* Register writes set XINUSE and XMODIFIED of their component; XGETBV(1) = XCR0 & XINUSE. */
struct setreg_case {
	const char *profile;
	uint64_t xcr0;
	const char *reg;
	unsigned component;
};

static const struct setreg_case setreg_cases[] = {
    {SPR, 0x602E7, "fcw", 0},	   {SPR, 0x602E7, "st5", 0},   {SPR, 0x602E7, "xmm3", 1},
    {SPR, 0x602E7, "xmm15", 1},	   {SPR, 0x602E7, "ymmh2", 2}, {SPR, 0x602E7, "k7", 5},
    {SPR, 0x602E7, "zmmh3", 6},	   {SPR, 0x602E7, "zmm20", 7}, {SPR, 0x602E7, "pkru", 9},
    {SPR, 0x602E7, "tilecfg", 17}, {SPR, 0x602E7, "tmm2", 18}, {SKX, 0x1F, "bnd0", 3},
    {SKX, 0x1F, "bndcfgu", 4},	   {APX, 0xE02E7, "r17", 19},  {APX, 0x80003, "r31", 19},
};

static void test_set_reg_sets_xinuse(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(setreg_cases) / sizeof(setreg_cases[0]); i++) {
		const struct setreg_case *c = &setreg_cases[i];
		char name[96];
		struct tu t;
		uint64_t v;

		snprintf(name, sizeof(name), "%s: write %s", c->profile, c->reg);
		tu_open(&t, c->profile);
		tu_cr4(&t, VX_CR4_PKE, 0);
		tu_xsetbv(&t, c->xcr0);
		TU_CASE_CHECK(failures, tu_reg(c->reg)->component == c->component, name,
			      "component %u", tu_reg(c->reg)->component);
		if (strcmp(c->reg, "tilecfg") == 0) {
			uint8_t cfg[64] = {1};

			tu_set_bytes(&t, c->reg, cfg, sizeof(cfg));
		} else {
			tu_set_u64(&t, c->reg, 0x3F);
		}
		v = tu_xgetbv(&t, 1);
		TU_CASE_CHECK(failures, v == BIT(c->component), name,
			      "XGETBV(1) = %#" PRIx64 ", expected %#" PRIx64, v, BIT(c->component));
		TU_CASE_CHECK(failures, (vx_cpu_xinuse(t.cpu) & c->xcr0) == BIT(c->component), name,
			      "XINUSE %#" PRIx64, vx_cpu_xinuse(t.cpu));
		TU_CASE_CHECK(failures, (vx_cpu_xmodified(t.cpu) & BIT(c->component)) != 0, name,
			      "XMODIFIED %#" PRIx64 " lacks the component",
			      vx_cpu_xmodified(t.cpu));
		tu_close(&t);
	}
	assert_int_equal(failures, 0);
}

/* vx_cpu_set_reg(): #UD for a user component outside XCR0 or with CR4.OSXSAVE = 0, except x87
 * and SSE, which are always writable (cpu.h). */
static void test_set_reg_faults(void **state)
{
	static const struct {
		const char *name;
		uint64_t xcr0;
		bool osxsave;
		const char *reg;
		struct tu_expect exp;
	} cases[] = {
	    {"ymmh2 with XCR0=0x3", 0x3, true, "ymmh2", TU_UD},
	    {"k7 with XCR0=0x7", 0x7, true, "k7", TU_UD},
	    {"pkru with XCR0=0xE7", 0xE7, true, "pkru", TU_UD},
	    {"tmm0 with XCR0=0x2E7", 0x2E7, true, "tmm0", TU_UD},
	    {"ymmh2 with CR4.OSXSAVE=0", 0x7, false, "ymmh2", TU_UD},
	    {"xmm3 with CR4.OSXSAVE=0 (always writable)", 0x7, false, "xmm3", TU_OK},
	    {"st0 with XCR0=0x1 (always writable)", 0x1, true, "st0", TU_OK},
	    {"xmm3 with XCR0=0x1 (always writable)", 0x1, true, "xmm3", TU_OK},
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vx_reg_info *r = tu_reg(cases[i].reg);
		uint8_t bytes[1024];
		struct tu t;
		int rc;

		tu_open(&t, SPR);
		tu_cr4(&t, VX_CR4_PKE, 0);
		tu_xsetbv(&t, cases[i].xcr0);
		if (!cases[i].osxsave)
			tu_cr4(&t, 0, VX_CR4_OSXSAVE);
		tu_pattern(bytes, r->width, 9);
		tu_snapshot(&t);
		memset(&t.ev, 0, sizeof(t.ev));
		rc = vx_cpu_set_reg(t.cpu, r, bytes, r->width, &t.ev);
		failures += tu_check_outcome(&t, cases[i].name, rc, &cases[i].exp);
		tu_close(&t);
	}
	assert_int_equal(failures, 0);
}

/* §4: after XRSTOR, loaded components are in use, initialized ones are not, others keep their
 * bit; XMODIFIED = NOT RFBM; XRSTOR_INFO = (CPL, VMXNR, LAXA, COMPMASK). */
static void test_xrstor_updates_tracking(void **state)
{
	struct vx_xrstor_info info;
	struct vx_cpu_control ctl;
	struct tu t;
	int failures = 0;
	uint64_t v;

	(void)state;
	tu_open(&t, SPR);
	tu_cr4(&t, VX_CR4_PKE, 0);
	tu_xsetbv(&t, 0x2E7);
	tu_wrmsr(&t, VX_MSR_IA32_XSS, 0x1800);
	tu_set_u64(&t, "pkru", 4);
	tu_set_u64(&t, "fcw", 0x27F);
	tu_set_pat(&t, "ymmh1", 1);

	/* Standard form, RFBM = 0x7, XSTATE_BV = 0x2: SSE loaded, x87 and AVX initialized. */
	prep_area(&t, A0, 0x2, 0);
	tu_run(&t, VX_INSN_XRSTOR64, A0, 0x7);
	v = tu_xgetbv(&t, 1);
	TU_CASE_CHECK(failures, v == 0x202, "std RFBM=0x7 XSTATE_BV=0x2",
		      "XGETBV(1) = %#" PRIx64 ", expected 0x202 (SSE loaded, PKRU kept)", v);
	TU_CASE_CHECK(failures, xmodified_is(&t, ~UINT64_C(0x7)), "std RFBM=0x7",
		      "XMODIFIED %#" PRIx64 ", expected NOT 0x7", vx_cpu_xmodified(t.cpu));
	vx_cpu_xrstor_info(t.cpu, &info);
	TU_CASE_CHECK(failures,
		      info.valid && info.cpl == 0 && !info.vmx_non_root &&
			  info.linear_address == TU_BASE + A0 && info.compmask == 0,
		      "std XRSTOR_INFO",
		      "valid %d cpl %u nr %d laxa %#" PRIx64 " compmask %#" PRIx64, info.valid,
		      info.cpl, info.vmx_non_root, info.linear_address, info.compmask);
	/* A register write marks its component modified again. */
	tu_set_pat(&t, "xmm4", 4);
	TU_CASE_CHECK(failures, xmodified_is(&t, ~UINT64_C(0x5)), "write after XRSTOR",
		      "XMODIFIED %#" PRIx64 ", expected NOT 0x5", vx_cpu_xmodified(t.cpu));

	/* Compacted form, XCOMP_BV = 2^63|0x207, XSTATE_BV = 0x204, RFBM = 0x2E7: AVX and PKRU
	 * loaded; x87, SSE and the AVX-512 components (missing from XCOMP_BV) initialized. */
	tu_set_u64(&t, "k2", 2);
	prep_area(&t, A1, 0x204, CMP | 0x207);
	tu_run(&t, VX_INSN_XRSTOR64, A1, TU_ALL);
	v = tu_xgetbv(&t, 1);
	TU_CASE_CHECK(failures, v == 0x204, "cmp XCOMP_BV 0x207 XSTATE_BV 0x204",
		      "XGETBV(1) = %#" PRIx64, v);
	TU_CASE_CHECK(failures, xmodified_is(&t, ~UINT64_C(0x2E7)), "cmp RFBM=0x2E7",
		      "XMODIFIED %#" PRIx64, vx_cpu_xmodified(t.cpu));
	vx_cpu_xrstor_info(t.cpu, &info);
	TU_CASE_CHECK(failures,
		      info.valid && info.cpl == 0 && info.linear_address == TU_BASE + A1 &&
			  info.compmask == (CMP | 0x207),
		      "cmp XRSTOR_INFO", "laxa %#" PRIx64 " compmask %#" PRIx64,
		      info.linear_address, info.compmask);

	/* XRSTORS: RFBM = 0x1AE7; CET_U and CET_S loaded.  The values are non-zero: for an
	 * all-zero CET image §4 ("loaded -> XINUSE=1") and §2.5 ("in use if any value is
	 * non-zero") disagree, so that case is not tested. */
	prep_area(&t, A0, 0x1800, CMP | 0x1803);
	tu_put64(&t, A0 + 576, 0x1);	/* U_CET */
	tu_put64(&t, A0 + 600, 0x8008); /* PL1_SSP */
	tu_run(&t, VX_INSN_XRSTORS64, A0, TU_ALL);
	TU_CASE_CHECK(failures, (vx_cpu_xinuse(t.cpu) & 0x1AE7) == 0x1800, "XRSTORS 0x1800",
		      "XINUSE %#" PRIx64, vx_cpu_xinuse(t.cpu));
	TU_CASE_CHECK(failures, tu_xgetbv(&t, 1) == 0, "XRSTORS: XGETBV(1) has no XSS bits",
		      "%#" PRIx64, tu_xgetbv(&t, 1));
	TU_CASE_CHECK(failures, xmodified_is(&t, ~UINT64_C(0x1AE7)), "XRSTORS RFBM",
		      "XMODIFIED %#" PRIx64, vx_cpu_xmodified(t.cpu));
	vx_cpu_xrstor_info(t.cpu, &info);
	TU_CASE_CHECK(failures, info.valid && info.compmask == (CMP | 0x1803),
		      "XRSTORS XRSTOR_INFO", "compmask %#" PRIx64, info.compmask);

	/* XRSTOR with RFBM = 0: nothing loaded, XMODIFIED = all ones, XINUSE unchanged. */
	tu_set_pat(&t, "xmm0", 1);
	v = vx_cpu_xinuse(t.cpu);
	prep_area(&t, A1, 0, 0);
	tu_run(&t, VX_INSN_XRSTOR64, A1, 0);
	TU_CASE_CHECK(failures, vx_cpu_xinuse(t.cpu) == v, "XRSTOR RFBM=0", "XINUSE changed");
	TU_CASE_CHECK(failures, xmodified_is(&t, TU_ALL), "XRSTOR RFBM=0", "XMODIFIED %#" PRIx64,
		      vx_cpu_xmodified(t.cpu));

	/* CPL3 and VMX non-root are recorded. */
	ctl = tu_control(&t);
	ctl.cpl = 3;
	ctl.vmx_non_root = true;
	ctl.vmx_xsaves_enabled = true;
	tu_set_control(&t, &ctl);
	tu_run(&t, VX_INSN_XRSTOR, A1, 0x3);
	vx_cpu_xrstor_info(t.cpu, &info);
	TU_CASE_CHECK(failures,
		      info.valid && info.cpl == 3 && info.vmx_non_root &&
			  info.linear_address == TU_BASE + A1 && info.compmask == 0,
		      "CPL3 non-root XRSTOR_INFO", "cpl %u nr %d", info.cpl, info.vmx_non_root);

	/* A faulting XRSTOR records nothing. */
	tu_put(&t, A0 + 530, 1, 1);
	assert_int_equal(tu_exec(&t, VX_INSN_XRSTOR64, A0, TU_ALL), VX_FAULTED);
	vx_cpu_xrstor_info(t.cpu, &info);
	TU_CASE_CHECK(failures, info.linear_address == TU_BASE + A1 && info.cpl == 3,
		      "faulting XRSTOR", "XRSTOR_INFO changed (laxa %#" PRIx64 ")",
		      info.linear_address);
	tu_close(&t);
	assert_int_equal(failures, 0);
}

/* vx_cpu_init_components(): the components return to §6 and leave XINUSE. */
static void test_init_components(void **state)
{
	struct tu t;
	uint8_t cfg[64] = {1};

	(void)state;
	tu_open(&t, SPR);
	tu_cr4(&t, VX_CR4_PKE, 0);
	tu_xsetbv(&t, 0x602E7);
	tu_set_pat(&t, "xmm2", 2);
	tu_set_pat(&t, "ymmh2", 22);
	tu_set_pat(&t, "ymmh9", 29);
	tu_set_bytes(&t, "tilecfg", cfg, sizeof(cfg));
	tu_set_pat(&t, "tmm5", 55);
	tu_set_u64(&t, "pkru", 8);
	assert_true(tu_xgetbv(&t, 1) == 0x60206);
	vx_cpu_init_components(t.cpu, 0x4); /* VZEROUPPER */
	assert_true(tu_xgetbv(&t, 1) == 0x60202);
	assert_true(tu_reg_is_zero(&t, "ymmh2"));
	assert_true(tu_reg_is_zero(&t, "ymmh9"));
	assert_true(tu_reg_has_pat(&t, "xmm2", 2));
	vx_cpu_init_components(t.cpu, 0x60000); /* TILERELEASE */
	assert_true(tu_xgetbv(&t, 1) == 0x202);
	assert_true(tu_reg_is_zero(&t, "tmm5"));
	assert_true(tu_reg_is_zero(&t, "tilecfg"));
	vx_cpu_init_components(t.cpu, 0x200);
	assert_true(tu_xgetbv(&t, 1) == 0x2);
	assert_true(tu_get_u64(&t, "pkru") == 0);
	/* An XSAVEC now stores only SSE (init optimization, §5.3). */
	tu_run(&t, VX_INSN_XSAVEC64, A0, TU_ALL);
	assert_true(tu_get64(&t, A0 + 512) == 0x2);
	tu_close(&t);
}

/* §10 item 17: XGETBV(1) never reports a bit that is clear in XCR0, whatever happened. */
static void test_xgetbv1_subset_of_xcr0(void **state)
{
	static const uint64_t xcr0s[] = {0x1,	0x3,	 0x7,	  0xE7,	   0x207,
					 0x2E7, 0x60003, 0x60203, 0x602E7, 0x201};
	static const char *const regs[] = {"fcw",    "st3",   "xmm9",  "mxcsr",	 "ymmh4",
					   "k1",     "zmmh7", "zmm30", "pkru",	 "tmm6",
					   "ymmh15", "xmm0",  "k7",    "tilecfg"};
	uint64_t seed = 0x5EED17;
	int failures = 0;
	struct tu t;

	(void)state;
	tu_open(&t, SPR);
	tu_cr4(&t, VX_CR4_PKE, 0);
	/* Deterministic start: everything in use, then shrink XCR0. */
	tu_xsetbv(&t, 0x602E7);
	for (size_t r = 0; r < sizeof(regs) / sizeof(regs[0]); r++) {
		uint8_t bytes[1024] = {1};
		const struct vx_reg_info *ri = tu_reg(regs[r]);

		if (strcmp(regs[r], "mxcsr") == 0)
			continue;
		tu_set_bytes(&t, regs[r], bytes, ri->width);
	}
	assert_true(tu_xgetbv(&t, 1) == 0x602E7);
	tu_xsetbv(&t, 0x3);
	assert_true((tu_xgetbv(&t, 1) & ~UINT64_C(0x3)) == 0);

	for (unsigned step = 0; step < 400; step++) {
		uint64_t r = tu_rand(&seed), xcr0 = vx_cpu_xcr0(t.cpu), v;
		char name[96];

		snprintf(name, sizeof(name), "seed 0x5EED17 step %u op %u", step,
			 (unsigned)(r % 4));
		switch (r % 4) {
		case 0:
			tu_xsetbv(&t, xcr0s[(r >> 8) % (sizeof(xcr0s) / sizeof(xcr0s[0]))]);
			break;
		case 1: {
			const char *rn = regs[(r >> 8) % (sizeof(regs) / sizeof(regs[0]))];
			const struct vx_reg_info *ri = tu_reg(rn);
			uint8_t bytes[1024] = {0};
			struct vx_event ev;
			int rc;

			bytes[0] = (uint8_t)(r >> 16) | 1;
			if (strcmp(rn, "mxcsr") == 0) {
				bytes[0] = 0x80;
				bytes[1] = 0x9F;
			} else if (strcmp(rn, "tilecfg") == 0) {
				bytes[0] = 1;
			}
			memset(&ev, 0, sizeof(ev));
			rc = vx_cpu_set_reg(t.cpu, ri, bytes, ri->width, &ev);
			if (ri->component > 1 && !(xcr0 & BIT(ri->component)))
				TU_CASE_CHECK(failures,
					      rc == VX_FAULTED && tu_is_exc(&ev, VX_VEC_UD), name,
					      "%s outside XCR0 %#" PRIx64 ": rc %d", rn, xcr0, rc);
			else
				TU_CASE_CHECK(failures, rc == 0, name, "%s: rc %d", rn, rc);
			break;
		}
		case 2:
			vx_cpu_init_components(t.cpu, (r >> 8) & xcr0);
			break;
		default:
			/* XRSTOR of a compacted image: loads some, inits others. */
			prep_area(&t, A0, (r >> 8) & xcr0 & ~UINT64_C(0x60000), CMP | xcr0);
			tu_run(&t, VX_INSN_XRSTOR64, A0, r >> 20);
			break;
		}
		xcr0 = vx_cpu_xcr0(t.cpu);
		v = tu_xgetbv(&t, 1);
		TU_CASE_CHECK(failures, (v & ~xcr0) == 0, name,
			      "XGETBV(1) = %#" PRIx64 " has bits outside XCR0 %#" PRIx64, v, xcr0);
		TU_CASE_CHECK(failures, v == (xcr0 & vx_cpu_xinuse(t.cpu)), name,
			      "XGETBV(1) = %#" PRIx64 " != XCR0 & XINUSE = %#" PRIx64, v,
			      xcr0 & vx_cpu_xinuse(t.cpu));
		if (failures > 10)
			break;
	}
	tu_close(&t);
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* XSAVEOPT / XSAVES optimizations (§4, §5.2, §5.4; §10 item 39)                                */

/* SPR, XCR0 = 0x2E7, XSS = 0x1800, every component of 0x1AE7 loaded (XINUSE = 0x1AE7) by an
 * XRSTORS from a compacted image with distinct data, then the area at A0 is overwritten with
 * the standard image an XSAVE64 writes for that state. */
static void setup_all_in_use(struct tu *t)
{
	tu_open(t, SPR);
	tu_cr4(t, VX_CR4_PKE, 0);
	tu_xsetbv(t, 0x2E7);
	tu_wrmsr(t, VX_MSR_IA32_XSS, 0x1800);
	memset(t->buf + A1, 0, 4096);
	tu_mem_pat(t, A1 + 32, 128, 1);	 /* ST0-7 */
	tu_put(t, A1, 0x027F, 2);	 /* FCW */
	tu_put(t, A1 + 24, 0x1F80, 4);	 /* MXCSR */
	tu_mem_pat(t, A1 + 160, 256, 2); /* XMM */
	tu_mem_pat(t, A1 + 576, 2440 - 576, 3);
	memset(t->buf + A1 + 2436, 0, 4); /* PKRU reserved half */
	tu_put64(t, A1 + 2440, 0x1);	  /* U_CET */
	tu_put64(t, A1 + 2448, 0x7000);	  /* PL3_SSP */
	tu_put64(t, A1 + 2456, 0x8000);	  /* PL0_SSP */
	tu_put64(t, A1 + 2464, 0x9000);
	tu_put64(t, A1 + 2472, 0xA000);
	tu_header(t, A1, 0x1AE7, CMP | 0x1AE7);
	tu_run(t, VX_INSN_XRSTORS64, A1, TU_ALL);
	TU_CHECK((vx_cpu_xinuse(t->cpu) & 0x1AE7) == 0x1AE7, "XINUSE %#" PRIx64,
		 vx_cpu_xinuse(t->cpu));
}

/* Fill 4 KiB at @off with 0x5A, but keep the header zero so the area stays restorable (no
 * XSAVE-family instruction writes bytes 16-63, XSAVE/XSAVEOPT keep XCOMP_BV and merge into the
 * old XSTATE_BV). */
static void garble(struct tu *t, size_t off)
{
	memset(t->buf + off, 0x5A, 4096);
	memset(t->buf + off + 512, 0, 64);
}

static long region_diff(const struct tu *t, size_t a, size_t b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (t->buf[a + i] != t->buf[b + i])
			return (long)i;
	return -1;
}

static void test_xsaveopt_equals_xsave(void **state)
{
	struct tu t;
	int failures = 0;
	long d;

	(void)state;
	/* item 39: XSAVE; XRSTOR (standard) from the same area; nothing changed; XSAVEOPT to the
	 * same area -> the area equals what XSAVE produced. */
	setup_all_in_use(&t);
	garble(&t, A0);
	tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
	memcpy(t.buf + A1, t.buf + A0, 4096);
	tu_run(&t, VX_INSN_XSAVEOPT64, A0, TU_ALL);
	d = region_diff(&t, A0, A1, 4096);
	TU_CASE_CHECK(failures, d < 0, "item39: same area", "differs at byte %ld", d);

	/* A register changed after the XRSTOR is modified: XSAVEOPT must write it. */
	tu_set_pat(&t, "ymmh6", 66);
	tu_run(&t, VX_INSN_XSAVEOPT64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_mem_has_pat(&t, A0 + 576 + 96, 16, 66),
		      "XSAVEOPT after a register write", "new YMMH6 not written");
	tu_close(&t);

	/* Different address: XRSTOR from A0, XSAVEOPT to A1 must write every in-use component
	 * (same bytes as XSAVE to a second copy). */
	setup_all_in_use(&t);
	garble(&t, A0);
	tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
	garble(&t, A1);
	garble(&t, 8192);
	tu_run(&t, VX_INSN_XSAVEOPT64, A1, TU_ALL);
	tu_run(&t, VX_INSN_XSAVE64, 8192, TU_ALL);
	d = region_diff(&t, A1, 8192, 4096);
	TU_CASE_CHECK(failures, d < 0, "XSAVEOPT to another address", "differs at byte %ld", d);
	tu_close(&t);

	/* Same address but the last restore was compacted (COMPMASK != 0): no modified
	 * optimization, so a garbled area is fully rewritten. */
	setup_all_in_use(&t);
	garble(&t, A0);
	tu_run(&t, VX_INSN_XSAVEC64, A0, TU_ALL);
	tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
	garble(&t, A0);
	garble(&t, 8192);
	tu_run(&t, VX_INSN_XSAVE64, 8192, TU_ALL);
	tu_run(&t, VX_INSN_XSAVEOPT64, A0, TU_ALL);
	d = region_diff(&t, A0, 8192, 4096);
	TU_CASE_CHECK(failures, d < 0, "XSAVEOPT after compacted XRSTOR, garbled area",
		      "differs at byte %ld", d);
	tu_close(&t);

	/* Same address, standard restore, but XSAVEOPT runs at another CPL: no optimization. */
	setup_all_in_use(&t);
	garble(&t, A0);
	tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
	tu_set_cpl(&t, 3);
	garble(&t, A0);
	garble(&t, 8192);
	tu_run(&t, VX_INSN_XSAVE64, 8192, TU_ALL);
	tu_run(&t, VX_INSN_XSAVEOPT64, A0, TU_ALL);
	d = region_diff(&t, A0, 8192, 4096);
	TU_CASE_CHECK(failures, d < 0, "XSAVEOPT at CPL3 after XRSTOR at CPL0, garbled area",
		      "differs at byte %ld", d);
	tu_close(&t);

	/* Same address, standard restore, but in VMX non-root now: no optimization. */
	setup_all_in_use(&t);
	garble(&t, A0);
	tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
	tu_vmx(&t, true, true, 0);
	garble(&t, A0);
	garble(&t, 8192);
	tu_run(&t, VX_INSN_XSAVE64, 8192, TU_ALL);
	tu_run(&t, VX_INSN_XSAVEOPT64, A0, TU_ALL);
	d = region_diff(&t, A0, 8192, 4096);
	TU_CASE_CHECK(failures, d < 0, "XSAVEOPT non-root after XRSTOR in root, garbled area",
		      "differs at byte %ld", d);
	tu_close(&t);

	/* XSAVEOPT header: XINUSE & RFBM for every requested component, even skipped ones, and
	 * the init optimization: a component initialized after XRSTOR gets XSTATE_BV 0. */
	setup_all_in_use(&t);
	garble(&t, A0);
	tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
	vx_cpu_init_components(t.cpu, 0x4);
	tu_run(&t, VX_INSN_XSAVEOPT64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_get64(&t, A0 + 512) == 0x2E3, "XSAVEOPT header",
		      "XSTATE_BV %#" PRIx64 ", expected 0x2E3", tu_get64(&t, A0 + 512));
	tu_close(&t);
	assert_int_equal(failures, 0);
}

static void test_xsaves_modified_optimization(void **state)
{
	struct tu t;
	int failures = 0;
	long d;

	(void)state;
	/* XRSTORS then XSAVES to the same area, nothing changed: the area stays correct. */
	setup_all_in_use(&t);
	garble(&t, A0);
	tu_run(&t, VX_INSN_XSAVES64, A0, TU_ALL);
	tu_run(&t, VX_INSN_XRSTORS64, A0, TU_ALL);
	memcpy(t.buf + 8192, t.buf + A0, 4096);
	tu_run(&t, VX_INSN_XSAVES64, A0, TU_ALL);
	d = region_diff(&t, A0, 8192, 4096);
	TU_CASE_CHECK(failures, d < 0, "XSAVES after XRSTORS, same area", "differs at %ld", d);

	/* Modified after XRSTORS: written. */
	tu_wrmsr(&t, VX_MSR_IA32_PL0_SSP, 0xB000);
	tu_run(&t, VX_INSN_XSAVES64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_get64(&t, A0 + 2456) == 0xB000, "XSAVES after WRMSR PL0_SSP",
		      "CET_S not rewritten: %#" PRIx64, tu_get64(&t, A0 + 2456));
	tu_close(&t);

	/* §4: XSAVES does not use the modified optimization after a standard-form XRSTOR, even
	 * to the same address: a garbled area is fully rewritten (compare with XSAVES to another
	 * address, which can never be optimized). */
	setup_all_in_use(&t);
	garble(&t, A0);
	tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
	garble(&t, A0);
	garble(&t, 8192);
	tu_run(&t, VX_INSN_XSAVES64, 8192, TU_ALL);
	tu_run(&t, VX_INSN_XSAVES64, A0, TU_ALL);
	d = region_diff(&t, A0, 8192, 4096);
	TU_CASE_CHECK(failures, d < 0, "XSAVES after standard XRSTOR, garbled area",
		      "differs at byte %ld", d);
	tu_close(&t);

	/* XRSTORS with a different RFBM than the XSAVES: COMPMASK != 2^63|RFBM -> no
	 * optimization. */
	setup_all_in_use(&t);
	garble(&t, A0);
	tu_run(&t, VX_INSN_XSAVES64, A0, 0x2E7);
	tu_run(&t, VX_INSN_XRSTORS64, A0, 0x2E7);
	memset(t.buf + A0 + 576, 0x5A, 2048);
	memset(t.buf + 8192, 0x5A, 4096);
	memcpy(t.buf + 8192, t.buf + A0, 4096);
	tu_run(&t, VX_INSN_XSAVES64, 8192, TU_ALL);
	tu_run(&t, VX_INSN_XSAVES64, A0, TU_ALL);
	d = region_diff(&t, A0, 8192, 4096);
	TU_CASE_CHECK(failures, d < 0, "XSAVES RFBM 0x1AE7 after XRSTORS of 0x2E7 image",
		      "differs at byte %ld", d);
	tu_close(&t);
	assert_int_equal(failures, 0);
}

/*
 * docs/hardware-behaviour.md §A.4, measured on an EPYC family 19h model 1 (Zen 3): legacy-SSE
 * writes of zeros into XMM0-15 while AVX is in use leave XINUSE[1] = 1 until VZEROUPPER, or an
 * XSAVE-family save that writes AVX while it is in use, re-evaluates it by value.  A VEX write
 * settles the merge first.  Expected values are the XGETBV(1) results measured on that CPU
 * (XCR0 = 7, MXCSR = 0x1F80); a family 1Ah part (Zen 5) was measured without the effect.
 */
enum merge_then {
	THEN_NOTHING,
	THEN_XSAVE64,
	THEN_XSAVEOPT64,
	THEN_XSAVEC64,
	THEN_VZEROUPPER,
	THEN_VEX_XSAVE64
};

struct merge_case {
	const char *what;
	unsigned family; /* 0x19 or 0x1A: CPUID.1 extended family of the zen4 profile edited */
	uint64_t load_bv;
	bool zeros; /* the legacy-SSE writes store zeros (else a pattern) */
	enum merge_then then;
	uint64_t rfbm;
	uint64_t xinuse;
};

static const struct merge_case merge_cases[] = {
    {.what = "no re-evaluation yet",
     .family = 0x19,
     .load_bv = 6,
     .zeros = true,
     .then = THEN_NOTHING,
     .xinuse = 6},
    {.what = "XSAVE64 saving AVX",
     .family = 0x19,
     .load_bv = 6,
     .zeros = true,
     .then = THEN_XSAVE64,
     .rfbm = 7,
     .xinuse = 4},
    {.what = "XSAVEOPT64 saving AVX",
     .family = 0x19,
     .load_bv = 4,
     .zeros = true,
     .then = THEN_XSAVEOPT64,
     .rfbm = 4,
     .xinuse = 4},
    {.what = "XSAVEC64 saving AVX",
     .family = 0x19,
     .load_bv = 6,
     .zeros = true,
     .then = THEN_XSAVEC64,
     .rfbm = 6,
     .xinuse = 4},
    {.what = "XSAVE64 without AVX in RFBM",
     .family = 0x19,
     .load_bv = 6,
     .zeros = true,
     .then = THEN_XSAVE64,
     .rfbm = 3,
     .xinuse = 6},
    {.what = "AVX not in use: no merge",
     .family = 0x19,
     .load_bv = 2,
     .zeros = true,
     .then = THEN_XSAVE64,
     .rfbm = 7,
     .xinuse = 2},
    {.what = "non-zero XMM stay in use",
     .family = 0x19,
     .load_bv = 6,
     .zeros = false,
     .then = THEN_XSAVE64,
     .rfbm = 7,
     .xinuse = 6},
    {.what = "VZEROUPPER",
     .family = 0x19,
     .load_bv = 6,
     .zeros = true,
     .then = THEN_VZEROUPPER,
     .xinuse = 0},
    {.what = "VZEROUPPER, non-zero XMM",
     .family = 0x19,
     .load_bv = 6,
     .zeros = false,
     .then = THEN_VZEROUPPER,
     .xinuse = 2},
    {.what = "a VEX write settles the merge",
     .family = 0x19,
     .load_bv = 6,
     .zeros = true,
     .then = THEN_VEX_XSAVE64,
     .rfbm = 7,
     .xinuse = 6},
    {.what = "family 1Ah keeps XINUSE[1]",
     .family = 0x1A,
     .load_bv = 6,
     .zeros = true,
     .then = THEN_XSAVE64,
     .rfbm = 7,
     .xinuse = 6},
};

static void merge_then_run(struct tu *t, const struct merge_case *c)
{
	static const enum vx_insn insn[] = {[THEN_XSAVE64] = VX_INSN_XSAVE64,
					    [THEN_XSAVEOPT64] = VX_INSN_XSAVEOPT64,
					    [THEN_XSAVEC64] = VX_INSN_XSAVEC64,
					    [THEN_VEX_XSAVE64] = VX_INSN_XSAVE64};
	struct vx_event ev;

	if (c->then == THEN_VZEROUPPER) {
		assert_int_equal(vx_cpu_vzeroupper(t->cpu, &ev), 0);
		return;
	}
	if (c->then == THEN_VEX_XSAVE64)
		tu_set_pat(t, "ymmh0", 9);
	if (c->then != THEN_NOTHING)
		tu_run(t, insn[c->then], A1, c->rfbm);
}

static void test_amd_sse_merge_reevaluation(void **state)
{
	(void)state;
	for (size_t n = 0; n < sizeof(merge_cases) / sizeof(merge_cases[0]); n++) {
		const struct merge_case *c = &merge_cases[n];
		struct vx_profile p;
		struct tu t;
		char name[8];

		tu_load_profile(&p, "zen4");
		tu_profile_edit(&p, 1, 0, VX_EAX, 0xFFu << 20, (c->family - 0xF) << 20);
		tu_open_profile(&t, &p);
		tu_xsetbv(&t, 0x7);
		prep_area(&t, A0, c->load_bv, 0);
		for (unsigned i = 0; i < 16; i++)
			tu_mem_pat(&t, A0 + 160 + 16 * i, 16, 100 + i);
		tu_mem_pat(&t, A0 + 576, 256, 7);
		tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
		for (unsigned i = 0; i < 16; i++) {
			snprintf(name, sizeof(name), "xmm%u", i);
			if (c->zeros)
				tu_set_u64(&t, name, 0);
			else
				tu_set_pat(&t, name, 200 + i);
		}
		merge_then_run(&t, c);
		TU_CHECK(tu_xgetbv(&t, 1) == c->xinuse, "%s: XGETBV(1) = %#llx, measured %#llx",
			 c->what, (unsigned long long)tu_xgetbv(&t, 1),
			 (unsigned long long)c->xinuse);
		tu_close(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_power_on_tracking),
	    cmocka_unit_test(test_set_reg_sets_xinuse),
	    cmocka_unit_test(test_set_reg_faults),
	    cmocka_unit_test(test_xrstor_updates_tracking),
	    cmocka_unit_test(test_init_components),
	    cmocka_unit_test(test_xgetbv1_subset_of_xcr0),
	    cmocka_unit_test(test_xsaveopt_equals_xsave),
	    cmocka_unit_test(test_xsaves_modified_optimization),
	    cmocka_unit_test(test_amd_sse_merge_reevaluation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
