/* SPDX-License-Identifier: MIT */
/*
 * cpu layer: the six memory-operand XSAVE-family instructions (arch.md §5.0-§5.6).
 *
 * Covers arch.md §10 items 27, 29, 31, 33, 35, 37, 41, 43, 45, 51, 53, 55, 57, 59, 61, 63,
 * 65, 67, 69 and 71 (CET-specific items 47, 49, 73, 75 and the XFD items are in
 * test_cpu_cet_amx.c, item 39 in test_cpu_tracking.c), every §5.0 fault condition for every
 * instruction, every XRSTOR/XRSTORS header rule, the VMX XSAVES/XRSTORS controls, hand-laid
 * standard and compacted areas, and seeded random round trips.
 *
 * Expected bytes and offsets are computed by hand from the spec (§2.1 table, §2.4 worked
 * examples, §2.6 AMD offsets); the only library facts used as input are the built-in profiles.
 */
#include "cpu_test_util.h"

#define SPR  "sapphire-rapids"
#define ZEN4 "zen4"
#define BIT  VX_BIT
#define CMP  VX_XCOMP_BV_COMPACTED

/* Area placement inside the memory window. */
#define A0 0u
#define A1 16384u

/* SPR with XCR0 = 0x2E7, XSS = 0x1800, CR4.PKE, and live state in x87, SSE, AVX, opmask,
 * Hi16_ZMM, PKRU and CET_U.  XINUSE is then 0x2A7 | 0x800 (x87, SSE, AVX, opmask, Hi16_ZMM,
 * PKRU; CET_U is in use because U_CET != 0, §2.5). */
static void setup_spr(struct tu *t)
{
	tu_open(t, SPR);
	tu_cr4(t, VX_CR4_PKE, 0);
	tu_xsetbv(t, 0x2E7);
	tu_wrmsr(t, VX_MSR_IA32_XSS, 0x1800);
	tu_set_u64(t, "fcw", 0x027F);
	tu_set_pat(t, "st0", 10);
	tu_set_pat(t, "xmm3", 3);
	tu_set_pat(t, "ymmh2", 22);
	tu_set_u64(t, "k3", UINT64_C(0x1122334455667788));
	tu_set_pat(t, "zmm20", 20);
	tu_set_u64(t, "pkru", 0x55555554);
	tu_wrmsr(t, VX_MSR_IA32_U_CET, 0x1);
	tu_wrmsr(t, VX_MSR_IA32_PL3_SSP, 0x7000);
}

/* A standard-format image at @area: zero data, MXCSR @mxcsr, the given XSTATE_BV. */
static void prep_std(struct tu *t, size_t area, uint64_t xstate_bv, uint32_t mxcsr)
{
	memset(t->buf + area, 0, 12288);
	tu_put(t, area + 24, mxcsr, 4);
	tu_header(t, area, xstate_bv, 0);
}

/* A compacted image at @area: zero data, MXCSR @mxcsr, the given header. */
static void prep_cmp(struct tu *t, size_t area, uint64_t xstate_bv, uint64_t xcomp_bv,
		     uint32_t mxcsr)
{
	memset(t->buf + area, 0, 12288);
	tu_put(t, area + 24, mxcsr, 4);
	tu_header(t, area, xstate_bv, xcomp_bv);
}

static bool is_restore(enum vx_insn i)
{
	return i == VX_INSN_XRSTOR || i == VX_INSN_XRSTOR64 || i == VX_INSN_XRSTORS ||
	       i == VX_INSN_XRSTORS64;
}

static bool is_supervisor(enum vx_insn i)
{
	return i == VX_INSN_XSAVES || i == VX_INSN_XSAVES64 || i == VX_INSN_XRSTORS ||
	       i == VX_INSN_XRSTORS64;
}

/* A valid area for @insn at @area: garbage (canary) for the saves, an all-init image for the
 * restores (compacted for XRSTORS). */
static void prep_for(struct tu *t, enum vx_insn insn, size_t area)
{
	if (insn == VX_INSN_XRSTORS || insn == VX_INSN_XRSTORS64)
		prep_cmp(t, area, 0, CMP | 0x1AE7, 0x1F80);
	else if (is_restore(insn))
		prep_std(t, area, 0, 0x1F80);
	else
		memset(t->buf + area, TU_CANARY, 12288);
}

/* ------------------------------------------------------------------------------------------ */
/* §5.0 common checks, for each of the twelve instruction forms                                 */

enum common_variant {
	V_OSXSAVE0,
	V_LOCK,
	V_TS,
	V_TS_OSXSAVE0,
	V_LOCK_TS,
	V_MIS32,
	V_MIS8,
	V_MIS1,
	V_MIS_OUTSIDE,
	V_WINDOW_512,
	V_WINDOW_BEFORE,
	V_CPL3,
	V_CPL3_MIS,
	V_CPL3_AC_MIS,
	V_EM,
	V_TS_XFD_ERR,
	V_COUNT
};

static const char *const variant_names[V_COUNT] = {
    "CR4.OSXSAVE=0 -> #UD",
    "LOCK prefix -> #UD",
    "CR0.TS=1 -> #NM",
    "CR0.TS=1 and CR4.OSXSAVE=0 -> #UD first",
    "LOCK and CR0.TS=1 -> #UD first",
    "area = 32 mod 64 -> #GP(0) (item 27)",
    "area = 8 mod 64 -> #GP(0)",
    "area = 1 mod 64 -> #GP(0)",
    "misaligned and outside the window -> #GP(0) before #PF",
    "window ends at area+512 (header outside) -> #PF",
    "area starts 64 bytes before the window -> #PF",
    "CPL3 (#GP(0) for XSAVES/XRSTORS only)",
    "CPL3, misaligned, AM=0 -> #GP(0)",
    "CPL3, misaligned, CR0.AM=EFLAGS.AC=1 -> #GP(0) or #AC",
    "CR0.EM=1 -> no effect",
    "CR0.TS #NM leaves IA32_XFD_ERR unchanged",
};

static void test_common_checks_every_instruction(void **state)
{
	int failures = 0;

	(void)state;
	for (int insn = 0; insn < VX_INSN_COUNT; insn++) {
		for (int v = 0; v < V_COUNT; v++) {
			static const struct tu_expect ud = TU_UD, nm = TU_NM, gp = TU_GP,
						      pf = TU_PF, ok = TU_OK;
			const struct tu_expect *exp = &ok;
			struct vx_cpu_control ctl;
			size_t area = A0;
			uint64_t addr;
			unsigned prefixes = 0;
			char name[192];
			struct tu t;
			int rc;

			snprintf(name, sizeof(name), "%s: %s", vx_insn_name((enum vx_insn)insn),
				 variant_names[v]);
			setup_spr(&t);
			prep_for(&t, (enum vx_insn)insn, A0);
			prep_for(&t, (enum vx_insn)insn, A1 + 32);
			ctl = tu_control(&t);
			switch (v) {
			case V_OSXSAVE0:
				ctl.cr4 &= ~VX_CR4_OSXSAVE;
				exp = &ud;
				break;
			case V_LOCK:
				prefixes = VX_PREFIX_LOCK;
				exp = &ud;
				break;
			case V_TS:
				ctl.cr0 |= VX_CR0_TS;
				exp = &nm;
				break;
			case V_TS_OSXSAVE0:
				ctl.cr0 |= VX_CR0_TS;
				ctl.cr4 &= ~VX_CR4_OSXSAVE;
				exp = &ud;
				break;
			case V_LOCK_TS:
				ctl.cr0 |= VX_CR0_TS;
				prefixes = VX_PREFIX_LOCK;
				exp = &ud;
				break;
			case V_MIS32:
				area = A1 + 32;
				exp = &gp;
				break;
			case V_MIS8:
				area = A1 + 8;
				exp = &gp;
				break;
			case V_MIS1:
				area = A1 + 1;
				exp = &gp;
				break;
			case V_MIS_OUTSIDE:
				area = TU_MEM_SIZE + 32;
				exp = &gp;
				break;
			case V_WINDOW_512:
				t.mem.size = 512;
				exp = &pf;
				break;
			case V_WINDOW_BEFORE:
				/* Only the saves: they write x87 (in use) at bytes 0-23 of the
				 * area, which lie before the window. */
				if (is_restore((enum vx_insn)insn)) {
					tu_close(&t);
					continue;
				}
				exp = &pf;
				break;
			case V_CPL3:
				ctl.cpl = 3;
				exp = is_supervisor((enum vx_insn)insn) ? &gp : &ok;
				break;
			case V_CPL3_MIS:
				ctl.cpl = 3;
				area = A1 + 32;
				exp = &gp;
				break;
			case V_CPL3_AC_MIS:
				ctl.cpl = 3;
				ctl.cr0 |= VX_CR0_AM;
				ctl.eflags_ac = true;
				area = A1 + 32;
				exp = &gp; /* #AC also accepted below (§5.0) */
				break;
			case V_EM:
				ctl.cr0 |= VX_CR0_EM;
				break;
			case V_TS_XFD_ERR:
				ctl.cr0 |= VX_CR0_TS;
				tu_wrmsr(&t, VX_MSR_IA32_XFD_ERR, 0x40000);
				exp = &nm;
				break;
			default:
				break;
			}
			tu_set_control(&t, &ctl);
			tu_snapshot(&t);
			memset(&t.ev, 0, sizeof(t.ev));
			addr = v == V_WINDOW_BEFORE ? TU_BASE - 64 : TU_BASE + area;
			rc = vx_cpu_exec(t.cpu, (enum vx_insn)insn, prefixes, &t.mem, addr, TU_ALL,
					 &t.ev);
			if (v == V_CPL3_AC_MIS && rc == VX_FAULTED && tu_is_exc(&t.ev, VX_VEC_AC)) {
				static const struct tu_expect ac = {VX_EVENT_EXCEPTION, VX_VEC_AC,
								    0};

				exp = &ac;
			}
			failures += tu_check_outcome(&t, name, rc, exp);
			if (exp == &pf && rc == VX_FAULTED && tu_is_exc(&t.ev, VX_VEC_PF)) {
				uint64_t lo = v == V_WINDOW_512 ? TU_BASE + 512 : TU_BASE - 64;
				uint64_t hi = v == V_WINDOW_512 ? TU_BASE + 12288 : TU_BASE;

				TU_CASE_CHECK(
				    failures, t.ev.address >= lo && t.ev.address < hi, name,
				    "#PF address %#" PRIx64 " outside [%#" PRIx64 ", %#" PRIx64 ")",
				    t.ev.address, lo, hi);
			}
			if (v == V_TS_XFD_ERR)
				TU_CASE_CHECK(failures,
					      tu_rdmsr(&t, VX_MSR_IA32_XFD_ERR) == 0x40000, name,
					      "XFD_ERR changed");
			tu_close(&t);
		}
	}
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Missing CPUID sub-features (§5.0, §5.5, §10 items 51 and 59)                                 */

struct absent_case {
	const char *name;
	uint32_t leaf, subleaf;
	enum vx_cpuid_reg reg;
	uint32_t clear;
	enum vx_insn insn;
	uint64_t xcomp_bv; /* header for the restores */
	struct tu_expect exp;
};

static const struct absent_case absent_cases[] = {
    {"no XSAVE: XSAVE", 1, 0, VX_ECX, BIT(26) | BIT(27), VX_INSN_XSAVE, 0, TU_UD},
    {"no XSAVE: XSAVE64", 1, 0, VX_ECX, BIT(26) | BIT(27), VX_INSN_XSAVE64, 0, TU_UD},
    {"no XSAVE: XSAVEOPT", 1, 0, VX_ECX, BIT(26) | BIT(27), VX_INSN_XSAVEOPT, 0, TU_UD},
    {"no XSAVE: XSAVEC64", 1, 0, VX_ECX, BIT(26) | BIT(27), VX_INSN_XSAVEC64, 0, TU_UD},
    {"no XSAVE: XSAVES64", 1, 0, VX_ECX, BIT(26) | BIT(27), VX_INSN_XSAVES64, 0, TU_UD},
    {"no XSAVE: XRSTOR", 1, 0, VX_ECX, BIT(26) | BIT(27), VX_INSN_XRSTOR, 0, TU_UD},
    {"no XSAVE: XRSTOR64", 1, 0, VX_ECX, BIT(26) | BIT(27), VX_INSN_XRSTOR64, 0, TU_UD},
    {"no XSAVE: XRSTORS64", 1, 0, VX_ECX, BIT(26) | BIT(27), VX_INSN_XRSTORS64, CMP | 0x3, TU_UD},
    {"no XSAVEOPT: XSAVEOPT", 0xD, 1, VX_EAX, BIT(0), VX_INSN_XSAVEOPT, 0, TU_UD},
    {"no XSAVEOPT: XSAVEOPT64", 0xD, 1, VX_EAX, BIT(0), VX_INSN_XSAVEOPT64, 0, TU_UD},
    {"no XSAVEOPT: XSAVE still works", 0xD, 1, VX_EAX, BIT(0), VX_INSN_XSAVE64, 0, TU_OK},
    {"no XSAVEC: XSAVEC", 0xD, 1, VX_EAX, BIT(1), VX_INSN_XSAVEC, 0, TU_UD},
    {"no XSAVEC: XSAVEC64", 0xD, 1, VX_EAX, BIT(1), VX_INSN_XSAVEC64, 0, TU_UD},
    {"item59: no XSAVEC: compacted XRSTOR64 -> #GP(0)", 0xD, 1, VX_EAX, BIT(1), VX_INSN_XRSTOR64,
     CMP | 0x3, TU_GP},
    {"no XSAVEC: standard XRSTOR64 works", 0xD, 1, VX_EAX, BIT(1), VX_INSN_XRSTOR64, 0, TU_OK},
    {"item51: no XSAVES: XSAVES", 0xD, 1, VX_EAX, BIT(3), VX_INSN_XSAVES, 0, TU_UD},
    {"item51: no XSAVES: XSAVES64", 0xD, 1, VX_EAX, BIT(3), VX_INSN_XSAVES64, 0, TU_UD},
    {"no XSAVES: XRSTORS", 0xD, 1, VX_EAX, BIT(3), VX_INSN_XRSTORS, CMP | 0x3, TU_UD},
    {"no XSAVES: XRSTORS64", 0xD, 1, VX_EAX, BIT(3), VX_INSN_XRSTORS64, CMP | 0x3, TU_UD},
    {"no XSAVES: XSAVEC64 still works", 0xD, 1, VX_EAX, BIT(3), VX_INSN_XSAVEC64, 0, TU_OK},
};

static void test_absent_subfeatures(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(absent_cases) / sizeof(absent_cases[0]); i++) {
		const struct absent_case *c = &absent_cases[i];
		struct vx_profile p;
		struct tu t;
		int rc;

		tu_load_profile(&p, SPR);
		tu_profile_edit(&p, c->leaf, c->subleaf, c->reg, c->clear, 0);
		tu_open_profile(&t, &p);
		if (c->leaf == 0xD) /* XSAVE itself is there: give it a real XCR0 */
			tu_xsetbv(&t, 0x7);
		prep_cmp(&t, A0, 0, c->xcomp_bv, 0x1F80);
		tu_snapshot(&t);
		rc = tu_exec(&t, c->insn, A0, TU_ALL);
		failures += tu_check_outcome(&t, c->name, rc, &c->exp);
		tu_close(&t);
	}
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* VMX controls for XSAVES/XRSTORS (§5.4, §5.6, §10 item 53)                                   */

struct vmx_case {
	const char *name;
	enum vx_insn insn;
	unsigned cpl;
	bool enabled;
	uint64_t bitmap;
	uint64_t xss;
	uint64_t edx_eax;
	struct tu_expect exp;
};

static const struct vmx_case vmx_cases[] = {
    {"item53: XSAVES non-root, enable=0", VX_INSN_XSAVES64, 0, false, 0, 0x1800, TU_ALL, TU_UD},
    {"XRSTORS non-root, enable=0", VX_INSN_XRSTORS64, 0, false, 0, 0x1800, TU_ALL, TU_UD},
    {"XSAVES non-root, enable=0, bitmap set: #UD first", VX_INSN_XSAVES, 0, false, 0x800, 0x1800,
     TU_ALL, TU_UD},
    {"XSAVES non-root, enabled, bitmap 0", VX_INSN_XSAVES64, 0, true, 0, 0x1800, TU_ALL, TU_OK},
    {"XRSTORS non-root, enabled, bitmap 0", VX_INSN_XRSTORS64, 0, true, 0, 0x1800, TU_ALL, TU_OK},
    {"XSAVES: bitmap & XSS & EDX:EAX = 0x800 -> exit 63", VX_INSN_XSAVES64, 0, true, 0x800, 0x1800,
     TU_ALL, TU_EXIT(VX_EXIT_XSAVES)},
    {"XRSTORS: bitmap & XSS & EDX:EAX = 0x800 -> exit 64", VX_INSN_XRSTORS64, 0, true, 0x800,
     0x1800, TU_ALL, TU_EXIT(VX_EXIT_XRSTORS)},
    {"XSAVES: bit only in bitmap and XSS, not EDX:EAX -> no exit", VX_INSN_XSAVES64, 0, true, 0x800,
     0x1800, 0x2E7, TU_OK},
    {"XSAVES: bit only in bitmap and EDX:EAX, not XSS -> no exit", VX_INSN_XSAVES64, 0, true, 0x800,
     0x1000, TU_ALL, TU_OK},
    {"XSAVES: bitmap bit for a user component (not in XSS) -> no exit", VX_INSN_XSAVES64, 0, true,
     0x2, 0x1800, TU_ALL, TU_OK},
    {"XRSTORS: bitmap 0x1000 -> exit 64", VX_INSN_XRSTORS, 0, true, 0x1000, 0x1800, TU_ALL,
     TU_EXIT(VX_EXIT_XRSTORS)},
    /* Privilege faults take priority over VM exits (the general rule quoted in §5.8). */
    {"XSAVES non-root CPL3 with exiting bitmap -> #GP(0)", VX_INSN_XSAVES64, 3, true, 0x800, 0x1800,
     TU_ALL, TU_GP},
    {"XSAVE non-root never exits", VX_INSN_XSAVE64, 0, true, 0x800, 0x1800, TU_ALL, TU_OK},
    {"XSAVEC non-root never exits", VX_INSN_XSAVEC64, 0, true, 0x800, 0x1800, TU_ALL, TU_OK},
    {"XRSTOR non-root never exits", VX_INSN_XRSTOR64, 0, true, 0x800, 0x1800, TU_ALL, TU_OK},
};

static void test_vmx_xsaves_controls(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(vmx_cases) / sizeof(vmx_cases[0]); i++) {
		const struct vmx_case *c = &vmx_cases[i];
		struct vx_cpu_control ctl;
		struct tu t;
		int rc;

		setup_spr(&t);
		tu_wrmsr(&t, VX_MSR_IA32_XSS, c->xss);
		prep_for(&t, c->insn, A0);
		ctl = tu_control(&t);
		ctl.vmx_non_root = true;
		ctl.vmx_xsaves_enabled = c->enabled;
		ctl.vmx_xss_exit_bitmap = c->bitmap;
		ctl.cpl = c->cpl;
		tu_set_control(&t, &ctl);
		tu_snapshot(&t);
		rc = tu_exec(&t, c->insn, A0, c->edx_eax);
		failures += tu_check_outcome(&t, c->name, rc, &c->exp);
		tu_close(&t);
	}
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* XRSTOR / XRSTORS header and MXCSR rules (§5.5, §5.6, §10 items 55-61, 67-71)                 */

#define NO_PATCH 0u

struct hdr_case {
	const char *name;
	enum vx_insn insn;
	uint64_t xstate_bv;
	uint64_t xcomp_bv;
	unsigned patch; /* area byte set to 1, or NO_PATCH */
	uint32_t mxcsr; /* at area+24 */
	uint64_t rfbm;	/* EDX:EAX */
	struct tu_expect exp;
};

#define BAD_MXCSR 0x00010000u /* bit 16: outside any MXCSR_MASK */
#define GOOD	  0x1F80u

static const struct hdr_case hdr_cases[] = {
    /* Standard form, XCR0 = 0x2E7. */
    {"std: all-init header", VX_INSN_XRSTOR64, 0, 0, NO_PATCH, GOOD, TU_ALL, TU_OK},
    {"std: XSTATE_BV = XCR0", VX_INSN_XRSTOR64, 0x2E7, 0, NO_PATCH, GOOD, TU_ALL, TU_OK},
    {"item55: std XSTATE_BV bit 63", VX_INSN_XRSTOR64, BIT(63), 0, NO_PATCH, GOOD, TU_ALL, TU_GP},
    {"std: XSTATE_BV bit 17 (not in XCR0)", VX_INSN_XRSTOR64, BIT(17), 0, NO_PATCH, GOOD, TU_ALL,
     TU_GP},
    {"std: XSTATE_BV bit 3 (MPX, not in XCR0)", VX_INSN_XRSTOR64, BIT(3), 0, NO_PATCH, GOOD, TU_ALL,
     TU_GP},
    {"std: XSTATE_BV bit 11 (supervisor)", VX_INSN_XRSTOR64, BIT(11), 0, NO_PATCH, GOOD, TU_ALL,
     TU_GP},
    {"std: XSTATE_BV bit 8 (supervisor)", VX_INSN_XRSTOR, BIT(8), 0, NO_PATCH, GOOD, TU_ALL, TU_GP},
    {"std: XSTATE_BV bit outside XCR0 but also outside RFBM", VX_INSN_XRSTOR64, BIT(17), 0,
     NO_PATCH, GOOD, 0x3, TU_GP},
    {"std: XCOMP_BV = 1 (bit 63 clear)", VX_INSN_XRSTOR64, 0, 0x1, NO_PATCH, GOOD, TU_ALL, TU_GP},
    {"std: XCOMP_BV = 0x7 (bit 63 clear)", VX_INSN_XRSTOR64, 0x7, 0x7, NO_PATCH, GOOD, TU_ALL,
     TU_GP},
    {"std: XCOMP_BV = bit 62", VX_INSN_XRSTOR64, 0, BIT(62), NO_PATCH, GOOD, TU_ALL, TU_GP},
    {"item57: std byte 530 non-zero", VX_INSN_XRSTOR64, 0, 0, 530, GOOD, TU_ALL, TU_GP},
    {"std: byte 528 non-zero", VX_INSN_XRSTOR64, 0, 0, 528, GOOD, TU_ALL, TU_GP},
    {"std: byte 535 non-zero", VX_INSN_XRSTOR, 0, 0, 535, GOOD, TU_ALL, TU_GP},
    {"item57: std byte 540 non-zero -> no fault", VX_INSN_XRSTOR64, 0, 0, 540, GOOD, TU_ALL, TU_OK},
    {"std: byte 536 non-zero -> no fault", VX_INSN_XRSTOR64, 0, 0, 536, GOOD, TU_ALL, TU_OK},
    {"std: byte 575 non-zero -> no fault", VX_INSN_XRSTOR64, 0x2E7, 0, 575, GOOD, TU_ALL, TU_OK},
    {"std: MXCSR bit 16", VX_INSN_XRSTOR64, 0x2, 0, NO_PATCH, BAD_MXCSR, TU_ALL, TU_GP},
    {"std: MXCSR 0xFFFF0000", VX_INSN_XRSTOR64, 0x2, 0, NO_PATCH, 0xFFFF0000u, TU_ALL, TU_GP},
    {"std: MXCSR 0x9FBF (valid FZ + flags)", VX_INSN_XRSTOR64, 0x2, 0, NO_PATCH, 0x9FBF, TU_ALL,
     TU_OK},
    {"std: bad MXCSR, RFBM=0x4 (AVX alone loads MXCSR)", VX_INSN_XRSTOR64, 0x4, 0, NO_PATCH,
     BAD_MXCSR, 0x4, TU_GP},
    {"std: bad MXCSR, RFBM=0x2, XSTATE_BV=0 (still loaded)", VX_INSN_XRSTOR64, 0, 0, NO_PATCH,
     BAD_MXCSR, 0x2, TU_GP},
    {"std: bad MXCSR, RFBM=0x1 (not read)", VX_INSN_XRSTOR64, 0x1, 0, NO_PATCH, BAD_MXCSR, 0x1,
     TU_OK},
    {"std: bad MXCSR, RFBM=0x200 (not read)", VX_INSN_XRSTOR64, 0x200, 0, NO_PATCH, BAD_MXCSR,
     0x200, TU_OK},
    {"std: bad MXCSR, RFBM=0 via EDX:EAX outside XCR0", VX_INSN_XRSTOR64, 0, 0, NO_PATCH, BAD_MXCSR,
     BIT(17), TU_OK},

    /* Compacted form. */
    {"cmp: XCOMP_BV = 2^63|XCR0, XSTATE_BV = XCR0", VX_INSN_XRSTOR64, 0x2E7, CMP | 0x2E7, NO_PATCH,
     GOOD, TU_ALL, TU_OK},
    {"cmp: XCOMP_BV = 2^63 only", VX_INSN_XRSTOR64, 0, CMP, NO_PATCH, GOOD, TU_ALL, TU_OK},
    {"item61: cmp XSTATE_BV 0x7, XCOMP_BV 2^63|0x3", VX_INSN_XRSTOR64, 0x7, CMP | 0x3, NO_PATCH,
     GOOD, TU_ALL, TU_GP},
    {"cmp: XCOMP_BV bit 17 outside XCR0", VX_INSN_XRSTOR64, 0x3, CMP | 0x20003, NO_PATCH, GOOD,
     TU_ALL, TU_GP},
    {"cmp: XCOMP_BV bit 11 (supervisor, XRSTOR checks XCR0)", VX_INSN_XRSTOR64, 0x3, CMP | 0x803,
     NO_PATCH, GOOD, TU_ALL, TU_GP},
    {"cmp: XCOMP_BV bit 62", VX_INSN_XRSTOR64, 0x3, CMP | BIT(62) | 0x3, NO_PATCH, GOOD, TU_ALL,
     TU_GP},
    {"cmp: byte 530 non-zero", VX_INSN_XRSTOR64, 0x3, CMP | 0x3, 530, GOOD, TU_ALL, TU_GP},
    {"cmp: byte 540 non-zero (checked in compacted form)", VX_INSN_XRSTOR64, 0x3, CMP | 0x3, 540,
     GOOD, TU_ALL, TU_GP},
    {"cmp: byte 575 non-zero", VX_INSN_XRSTOR, 0x3, CMP | 0x3, 575, GOOD, TU_ALL, TU_GP},
    {"cmp: bad MXCSR with XSTATE_BV[1]=1", VX_INSN_XRSTOR64, 0x3, CMP | 0x3, NO_PATCH, BAD_MXCSR,
     TU_ALL, TU_GP},
    {"item69: cmp bad MXCSR, RFBM=0x2, XSTATE_BV[1]=0", VX_INSN_XRSTOR64, 0, CMP | 0x3, NO_PATCH,
     BAD_MXCSR, 0x2, TU_OK},
    {"cmp: bad MXCSR, XSTATE_BV[1]=1 but RFBM[1]=0", VX_INSN_XRSTOR64, 0x3, CMP | 0x3, NO_PATCH,
     BAD_MXCSR, 0x1, TU_OK},
    {"cmp: bad MXCSR, RFBM=0x4 (no AVX exception in compacted form)", VX_INSN_XRSTOR64, 0x4,
     CMP | 0x7, NO_PATCH, BAD_MXCSR, 0x4, TU_OK},

    /* XRSTORS, XSS = 0x1800. */
    {"item71: XRSTORS XCOMP_BV = 0", VX_INSN_XRSTORS64, 0, 0, NO_PATCH, GOOD, TU_ALL, TU_GP},
    {"XRSTORS XCOMP_BV = 0x1803 (bit 63 clear)", VX_INSN_XRSTORS64, 0x3, 0x1803, NO_PATCH, GOOD,
     TU_ALL, TU_GP},
    {"XRSTORS XCOMP_BV = 2^63|0x1AE7, all init", VX_INSN_XRSTORS64, 0, CMP | 0x1AE7, NO_PATCH, GOOD,
     TU_ALL, TU_OK},
    {"XRSTORS XCOMP_BV = 2^63|0x1803, XSTATE_BV 0x1803", VX_INSN_XRSTORS, 0x1803, CMP | 0x1803,
     NO_PATCH, GOOD, TU_ALL, TU_OK},
    {"XRSTORS XCOMP_BV bit 13 (HDC: not in XCR0|XSS)", VX_INSN_XRSTORS64, 0, CMP | 0x2003, NO_PATCH,
     GOOD, TU_ALL, TU_GP},
    {"XRSTORS XCOMP_BV bit 10 (PASID: supported, not in XSS)", VX_INSN_XRSTORS64, 0, CMP | 0x403,
     NO_PATCH, GOOD, TU_ALL, TU_GP},
    {"XRSTORS XCOMP_BV bit 17 (not in XCR0)", VX_INSN_XRSTORS64, 0, CMP | 0x20003, NO_PATCH, GOOD,
     TU_ALL, TU_GP},
    {"XRSTORS XSTATE_BV 0x1800 outside XCOMP_BV 0x803", VX_INSN_XRSTORS64, 0x1800, CMP | 0x803,
     NO_PATCH, GOOD, TU_ALL, TU_GP},
    {"XRSTORS byte 540 non-zero", VX_INSN_XRSTORS64, 0, CMP | 0x1803, 540, GOOD, TU_ALL, TU_GP},
    {"XRSTORS byte 530 non-zero", VX_INSN_XRSTORS64, 0, CMP | 0x1803, 530, GOOD, TU_ALL, TU_GP},
    {"XRSTORS bad MXCSR with XSTATE_BV[1]=1", VX_INSN_XRSTORS64, 0x2, CMP | 0x1803, NO_PATCH,
     BAD_MXCSR, TU_ALL, TU_GP},
    {"XRSTORS bad MXCSR with XSTATE_BV[1]=0", VX_INSN_XRSTORS64, 0x1, CMP | 0x1803, NO_PATCH,
     BAD_MXCSR, TU_ALL, TU_OK},
};

static void test_xrstor_header_rules(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
		const struct hdr_case *c = &hdr_cases[i];
		struct tu t;
		int rc;

		setup_spr(&t);
		prep_cmp(&t, A0, c->xstate_bv, c->xcomp_bv, c->mxcsr);
		if (c->patch != NO_PATCH)
			t.buf[A0 + c->patch] = 1;
		tu_snapshot(&t);
		rc = tu_exec(&t, c->insn, A0, c->rfbm);
		failures += tu_check_outcome(&t, c->name, rc, &c->exp);
		tu_close(&t);
	}
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* XSAVE (standard format, §5.1)                                                                */

/* Hand-computed standard offsets (§2.1 Intel, §2.6 Zen 4). */
struct std_offsets {
	const char *profile;
	uint32_t opmask, zmm_hi256, hi16_zmm, pkru, size;
};

static const struct std_offsets std_layouts[] = {
    {SPR, 1088, 1152, 1664, 2688, 2696},
    {ZEN4, 832, 896, 1408, 2432, 2440},
};

static void test_xsave_standard_layout(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(std_layouts) / sizeof(std_layouts[0]); i++) {
		const struct std_offsets *L = &std_layouts[i];
		const char *n = L->profile;
		uint64_t want_bv;
		struct tu t;

		tu_open(&t, L->profile);
		tu_cr4(&t, VX_CR4_PKE, 0);
		tu_xsetbv(&t, 0x2E7);
		tu_set_u64(&t, "fcw", 0x027F);
		tu_set_pat(&t, "st0", 10);
		tu_set_pat(&t, "xmm3", 3);
		tu_set_pat(&t, "ymmh5", 25);
		tu_set_u64(&t, "k3", UINT64_C(0x1122334455667788));
		tu_set_pat(&t, "zmm20", 20);
		tu_set_u64(&t, "pkru", 0x55555554);
		tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);

		/* Header: XSTATE_BV = (OLD & ~RFBM) | (XINUSE & RFBM); XINUSE = x87, SSE, AVX,
		 * opmask, Hi16_ZMM, PKRU = 0x2A7 (ZMM_Hi256 untouched). */
		want_bv = (TU_CANARY64 & ~UINT64_C(0x2E7)) | 0x2A7;
		TU_CASE_CHECK(failures, tu_get64(&t, 512) == want_bv, n,
			      "XSTATE_BV %#" PRIx64 ", expected %#" PRIx64, tu_get64(&t, 512),
			      want_bv);
		TU_CASE_CHECK(failures, tu_get64(&t, 520) == TU_CANARY64, n,
			      "XSAVE wrote XCOMP_BV: %#" PRIx64, tu_get64(&t, 520));
		TU_CASE_CHECK(failures, tu_all(&t, 528, 576, TU_CANARY), n,
			      "XSAVE wrote header bytes 16-63 (first at %ld)",
			      tu_find_not(&t, 528, 576, TU_CANARY));
		TU_CASE_CHECK(failures, tu_all(&t, 464, 512, TU_CANARY), n,
			      "XSAVE wrote bytes 464-511 (first at %ld)",
			      tu_find_not(&t, 464, 512, TU_CANARY));
		/* Legacy region. */
		TU_CASE_CHECK(failures, tu_get(&t, 0, 2) == 0x027F, n, "FCW %#" PRIx64,
			      tu_get(&t, 0, 2));
		TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 32, 10, 10), n, "ST0 not at 32");
		TU_CASE_CHECK(failures, tu_get(&t, 24, 4) == 0x1F80, n, "MXCSR %#" PRIx64,
			      tu_get(&t, 24, 4));
		TU_CASE_CHECK(failures, tu_get(&t, 28, 4) == 0xFFFF, n, "MXCSR_MASK %#" PRIx64,
			      tu_get(&t, 28, 4));
		TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 160 + 3 * 16, 16, 3), n,
			      "XMM3 not at 208");
		TU_CASE_CHECK(failures, tu_all(&t, 160, 208, 0) && tu_all(&t, 224, 416, 0), n,
			      "other XMM registers not written as zero");
		/* AVX at 576 on both vendors: YMM5[255:128] at 576 + 16*5. */
		TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 576 + 5 * 16, 16, 25), n,
			      "YMMH5 not at 656");
		TU_CASE_CHECK(failures, tu_all(&t, 576, 656, 0) && tu_all(&t, 672, 832, 0), n,
			      "other YMMH not zero");
		if (L->opmask == 1088) /* Intel: MPX hole 960-1087, not in XCR0: untouched */
			TU_CASE_CHECK(failures, tu_all(&t, 960, 1088, TU_CANARY), n,
				      "XSAVE wrote the MPX hole (first at %ld)",
				      tu_find_not(&t, 960, 1088, TU_CANARY));
		TU_CASE_CHECK(failures,
			      tu_get64(&t, L->opmask + 24) == UINT64_C(0x1122334455667788), n,
			      "k3 not at %u", L->opmask + 24);
		TU_CASE_CHECK(failures, tu_all(&t, L->opmask, L->opmask + 24, 0), n,
			      "k0-k2 not zero");
		/* ZMM_Hi256 not in use: XSAVE still writes its initial configuration (§5.1). */
		TU_CASE_CHECK(failures, tu_all(&t, L->zmm_hi256, L->zmm_hi256 + 512, 0), n,
			      "ZMM_Hi256 (init) not written as zeros at %u", L->zmm_hi256);
		TU_CASE_CHECK(failures, tu_mem_has_pat(&t, L->hi16_zmm + 4 * 64, 64, 20), n,
			      "ZMM20 not at %u", L->hi16_zmm + 256);
		TU_CASE_CHECK(failures, tu_get(&t, L->pkru, 4) == 0x55555554, n,
			      "PKRU not at %u (%#" PRIx64 ")", L->pkru, tu_get(&t, L->pkru, 4));
		TU_CASE_CHECK(failures, tu_all(&t, L->size, L->size + 512, TU_CANARY), n,
			      "XSAVE wrote past the standard size %u", L->size);
		tu_close(&t);
	}
	assert_int_equal(failures, 0);
}

/* §5.1 special cases, each on a fresh canary-filled area (SPR, XCR0 = 0x2E7). */
static void test_xsave_special_cases(void **state)
{
	struct tu t;
	int failures = 0;
	uint64_t xinuse_lo;

	(void)state;
	/* item 31: RFBM = 0x1 -> bytes 24-31 (MXCSR, MXCSR_MASK) not written; XMM not written. */
	setup_spr(&t);
	tu_run(&t, VX_INSN_XSAVE64, A0, 0x1);
	TU_CASE_CHECK(failures, tu_all(&t, 24, 32, TU_CANARY), "item31: RFBM=0x1",
		      "bytes 24-31 written");
	TU_CASE_CHECK(failures, tu_all(&t, 160, 416, TU_CANARY), "item31: RFBM=0x1",
		      "XMM area written");
	TU_CASE_CHECK(failures, tu_get(&t, 0, 2) == 0x027F, "item31: RFBM=0x1", "FCW not written");
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == ((TU_CANARY64 & ~UINT64_C(1)) | 1),
		      "item31: RFBM=0x1", "XSTATE_BV %#" PRIx64, tu_get64(&t, 512));
	tu_close(&t);

	/* RFBM = 0x4: MXCSR and MXCSR_MASK are written (AVX alone), XMM not (§5.1). */
	setup_spr(&t);
	tu_set_u64(&t, "mxcsr", 0x9FA0);
	tu_run(&t, VX_INSN_XSAVE64, A0, 0x4);
	TU_CASE_CHECK(failures, tu_get(&t, 24, 4) == 0x9FA0 && tu_get(&t, 28, 4) == 0xFFFF,
		      "XSAVE RFBM=0x4", "MXCSR/MXCSR_MASK %#" PRIx64 "/%#" PRIx64,
		      tu_get(&t, 24, 4), tu_get(&t, 28, 4));
	TU_CASE_CHECK(failures, tu_all(&t, 160, 416, TU_CANARY), "XSAVE RFBM=0x4",
		      "XMM area written");
	TU_CASE_CHECK(failures, tu_all(&t, 0, 24, TU_CANARY), "XSAVE RFBM=0x4", "x87 written");
	TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 576 + 32, 16, 22), "XSAVE RFBM=0x4",
		      "YMMH2 not at 608");
	tu_close(&t);

	/* item 29: XCR0 = 0x7, EDX:EAX = all ones -> RFBM = 0x7, nothing past 832 written. */
	setup_spr(&t);
	tu_xsetbv(&t, 0x7);
	xinuse_lo = vx_cpu_xinuse(t.cpu) & 0x7;
	tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	TU_CASE_CHECK(failures, xinuse_lo == 0x7, "item29", "XINUSE[2:0] = %#" PRIx64, xinuse_lo);
	TU_CASE_CHECK(failures, tu_all(&t, 832, 12288, TU_CANARY), "item29",
		      "written past component 2 (first at %ld)",
		      tu_find_not(&t, 832, 12288, TU_CANARY));
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == ((TU_CANARY64 & ~UINT64_C(7)) | 7), "item29",
		      "XSTATE_BV %#" PRIx64, tu_get64(&t, 512));
	TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 608, 16, 22), "item29", "YMMH2");
	tu_close(&t);

	/* RFBM = 0 (EDX:EAX = 0, or only bits outside XCR0): nothing written; XSTATE_BV is
	 * rewritten with its old value, so memory is unchanged. */
	setup_spr(&t);
	memcpy(t.saved, t.buf, TU_MEM_SIZE);
	tu_run(&t, VX_INSN_XSAVE64, A0, 0);
	TU_CASE_CHECK(failures, memcmp(t.saved, t.buf, TU_MEM_SIZE) == 0, "XSAVE RFBM=0",
		      "memory changed");
	tu_run(&t, VX_INSN_XSAVE, A0, BIT(17) | BIT(3));
	TU_CASE_CHECK(failures, memcmp(t.saved, t.buf, TU_MEM_SIZE) == 0,
		      "XSAVE EDX:EAX outside XCR0", "memory changed");
	tu_close(&t);

	/* item 33: XCOMP_BV = 0x8000000000000007 survives XSAVE, and a later XRSTOR takes the
	 * area as compacted.  Proof: with XSTATE_BV[1] cleared by software, the compacted form
	 * initializes SSE and sets MXCSR = 0x1F80 without reading area+24 (§5.5), while the
	 * standard form would load 0x9FA0 from area+24. */
	setup_spr(&t);
	tu_set_u64(&t, "mxcsr", 0x9FA0);
	prep_std(&t, A0, 0, 0x1F80);
	tu_put64(&t, A0 + 520, CMP | 0x7);
	tu_run(&t, VX_INSN_XSAVE64, A0, 0x7);
	TU_CASE_CHECK(failures, tu_get64(&t, 520) == (CMP | 0x7), "item33",
		      "XCOMP_BV now %#" PRIx64, tu_get64(&t, 520));
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == 0x7, "item33", "XSTATE_BV %#" PRIx64,
		      tu_get64(&t, 512));
	TU_CASE_CHECK(failures, tu_get(&t, 24, 4) == 0x9FA0, "item33", "MXCSR not saved");
	tu_put64(&t, A0 + 512, 0x5);
	tu_run(&t, VX_INSN_XRSTOR64, A0, 0x7);
	TU_CASE_CHECK(failures, tu_get_u64(&t, "mxcsr") == 0x1F80, "item33",
		      "MXCSR %#" PRIx64 " after XRSTOR: the area was not taken as compacted",
		      tu_get_u64(&t, "mxcsr"));
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "xmm3"), "item33", "XMM3 not initialized");
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "ymmh2", 22), "item33", "YMMH2 not restored");
	tu_close(&t);

	/* item 37: outside 64-bit mode XSAVE does not write XMM8-15 (288-415) nor
	 * YMM8-15[255:128] (576+128 .. 831). */
	setup_spr(&t);
	{
		struct vx_cpu_control c = tu_control(&t);

		c.mode = VX_MODE_COMPAT;
		tu_set_control(&t, &c);
	}
	tu_run(&t, VX_INSN_XSAVE, A0, 0x7);
	TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 208, 16, 3), "item37", "XMM3 not saved");
	TU_CASE_CHECK(failures, tu_all(&t, 288, 416, TU_CANARY), "item37",
		      "XMM8-15 slots written (first at %ld)", tu_find_not(&t, 288, 416, TU_CANARY));
	TU_CASE_CHECK(failures, tu_all(&t, 704, 832, TU_CANARY), "item37",
		      "YMMH8-15 slots written (first at %ld)",
		      tu_find_not(&t, 704, 832, TU_CANARY));
	TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 608, 16, 22), "item37", "YMMH2 not saved");
	/* The restore side (§2.2, §6): XRSTOR outside 64-bit mode neither loads nor initializes
	 * XMM8-15 and YMM8-15[255:128]. */
	tu_set_pat(&t, "xmm9", 9);
	tu_set_pat(&t, "ymmh10", 30);
	prep_std(&t, A1, 0x6, 0x1F80);
	tu_mem_pat(&t, A1 + 160 + 8 * 16, 16, 99); /* XMM8 slot */
	tu_mem_pat(&t, A1 + 576 + 8 * 16, 16, 98); /* YMMH8 slot */
	tu_set_pat(&t, "xmm8", 8);
	tu_set_pat(&t, "ymmh8", 28);
	tu_run(&t, VX_INSN_XRSTOR, A1, 0x7);
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "xmm8", 8), "item37 XRSTOR", "XMM8 loaded");
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "ymmh8", 28), "item37 XRSTOR", "YMMH8 loaded");
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "xmm3"), "item37 XRSTOR", "XMM3 not loaded");
	prep_std(&t, A1, 0, 0x1F80);
	tu_run(&t, VX_INSN_XRSTOR, A1, 0x7);
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "xmm9", 9), "item37 XRSTOR init",
		      "XMM9 initialized outside 64-bit mode");
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "ymmh10", 30), "item37 XRSTOR init",
		      "YMMH10 initialized outside 64-bit mode");
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "ymmh2"), "item37 XRSTOR init",
		      "YMMH2 not initialized");
	tu_close(&t);
	assert_int_equal(failures, 0);
}

/* XSAVE of components in their initial configuration writes the §6 values. */
static void test_xsave_writes_initial_values(void **state)
{
	struct tu t;
	int failures = 0;

	(void)state;
	tu_open(&t, SPR);
	tu_xsetbv(&t, 0x2E7);
	tu_run(&t, VX_INSN_XSAVE64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_get(&t, 0, 2) == 0x037F, "init FCW", "%#" PRIx64,
		      tu_get(&t, 0, 2));
	TU_CASE_CHECK(failures, tu_get(&t, 2, 2) == 0, "init FSW", "%#" PRIx64, tu_get(&t, 2, 2));
	TU_CASE_CHECK(failures, tu_get(&t, 4, 1) == 0, "init abridged FTW (all empty)", "%#" PRIx64,
		      tu_get(&t, 4, 1));
	TU_CASE_CHECK(failures, tu_get(&t, 6, 2) == 0, "init FOP", "%#" PRIx64, tu_get(&t, 6, 2));
	TU_CASE_CHECK(failures, tu_all(&t, 8, 24, 0), "init FIP/FDP", "not zero");
	TU_CASE_CHECK(failures, tu_get(&t, 24, 4) == 0x1F80, "init MXCSR", "%#" PRIx64,
		      tu_get(&t, 24, 4));
	for (unsigned r = 0; r < 8; r++)
		TU_CASE_CHECK(failures, tu_all(&t, 32 + 16 * r, 42 + 16 * r, 0), "init ST",
			      "ST%u not zero", r);
	TU_CASE_CHECK(failures, tu_all(&t, 160, 416, 0), "init XMM", "not zero");
	TU_CASE_CHECK(failures, tu_all(&t, 576, 832, 0), "init AVX", "not zero");
	TU_CASE_CHECK(failures, tu_all(&t, 1088, 2688, 0), "init AVX-512", "not zero");
	TU_CASE_CHECK(failures, tu_get(&t, 2688, 4) == 0, "init PKRU", "not zero");
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == (TU_CANARY64 & ~UINT64_C(0x2E7)),
		      "init XSTATE_BV", "%#" PRIx64, tu_get64(&t, 512));
	tu_close(&t);
	assert_int_equal(failures, 0);
}

/* item 35: no XSAVE-family instruction writes bytes 464-511 or header bytes 16-63. */
static void test_saves_never_write_reserved(void **state)
{
	static const enum vx_insn saves[] = {
	    VX_INSN_XSAVE,  VX_INSN_XSAVE64,  VX_INSN_XSAVEOPT, VX_INSN_XSAVEOPT64,
	    VX_INSN_XSAVEC, VX_INSN_XSAVEC64, VX_INSN_XSAVES,	VX_INSN_XSAVES64,
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(saves) / sizeof(saves[0]); i++) {
		const char *n = vx_insn_name(saves[i]);
		struct tu t;

		setup_spr(&t);
		tu_run(&t, saves[i], A0, TU_ALL);
		TU_CASE_CHECK(failures, tu_all(&t, 464, 512, TU_CANARY), n,
			      "bytes 464-511 written (first at %ld)",
			      tu_find_not(&t, 464, 512, TU_CANARY));
		TU_CASE_CHECK(failures, tu_all(&t, 528, 576, TU_CANARY), n,
			      "header bytes 16-63 written (first at %ld)",
			      tu_find_not(&t, 528, 576, TU_CANARY));
		/* And the restores write no memory at all. */
		prep_for(&t, VX_INSN_XRSTORS64, A1);
		memcpy(t.saved, t.buf, TU_MEM_SIZE);
		tu_run(&t, VX_INSN_XRSTORS64, A1, TU_ALL);
		TU_CASE_CHECK(failures, memcmp(t.saved, t.buf, TU_MEM_SIZE) == 0, n,
			      "XRSTORS64 wrote memory");
		tu_close(&t);
	}
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* XSAVEC (§5.3; §10 items 41, 43, 45)                                                          */

static void test_xsavec_item45_pkru_at_832(void **state)
{
	const char *n = "item45: XSAVEC RFBM=0x207 on SPR";
	struct tu t;
	int failures = 0;

	(void)state;
	tu_open(&t, SPR);
	tu_cr4(&t, VX_CR4_PKE, 0);
	tu_xsetbv(&t, 0x2E7);
	tu_set_pat(&t, "xmm3", 3);
	tu_set_pat(&t, "ymmh2", 22);
	tu_set_u64(&t, "k3", 0x77); /* in use but not requested */
	tu_set_u64(&t, "pkru", 0x55555554);
	tu_run(&t, VX_INSN_XSAVEC64, A0, 0x207);
	TU_CASE_CHECK(failures, tu_get64(&t, 520) == UINT64_C(0x8000000000000207), n,
		      "XCOMP_BV %#" PRIx64, tu_get64(&t, 520));
	/* XSTATE_BV = XINUSE & RFBM = {SSE, AVX, PKRU}; x87 never touched. */
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == 0x206, n, "XSTATE_BV %#" PRIx64,
		      tu_get64(&t, 512));
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == (vx_cpu_xinuse(t.cpu) & 0x207), n,
		      "XSTATE_BV != XINUSE & RFBM");
	TU_CASE_CHECK(failures, tu_get(&t, 832, 4) == 0x55555554, n, "PKRU at 832: %#" PRIx64,
		      tu_get(&t, 832, 4));
	TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 608, 16, 22), n, "YMMH2 not at 608");
	TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 208, 16, 3), n, "XMM3 not at 208");
	TU_CASE_CHECK(failures, tu_get(&t, 24, 4) == 0x1F80 && tu_get(&t, 28, 4) == 0xFFFF, n,
		      "MXCSR/MXCSR_MASK not written with SSE");
	/* x87 not in use: not written (§5.3). */
	TU_CASE_CHECK(failures, tu_all(&t, 0, 24, TU_CANARY) && tu_all(&t, 32, 160, TU_CANARY), n,
		      "x87 (init) written");
	TU_CASE_CHECK(failures, tu_all(&t, 464, 512, TU_CANARY), n, "464-511 written");
	TU_CASE_CHECK(failures, tu_all(&t, 528, 576, TU_CANARY), n, "header 16-63 written");
	TU_CASE_CHECK(failures, tu_all(&t, 840, 4096, TU_CANARY), n,
		      "written past 840 (first at %ld)", tu_find_not(&t, 840, 4096, TU_CANARY));
	tu_close(&t);
	assert_int_equal(failures, 0);
}

static void test_xsavec_mxcsr_rules(void **state)
{
	struct tu t;
	int failures = 0;

	(void)state;
	/* item 41: RFBM=0x2, XMM zero, MXCSR=0x1F80, XINUSE[1]=0 -> XSTATE_BV[1]=0 and bytes
	 * 24-31 not written. */
	tu_open(&t, SPR);
	tu_xsetbv(&t, 0x7);
	tu_run(&t, VX_INSN_XSAVEC64, A0, 0x2);
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == 0, "item41", "XSTATE_BV %#" PRIx64,
		      tu_get64(&t, 512));
	TU_CASE_CHECK(failures, tu_get64(&t, 520) == (CMP | 0x2), "item41", "XCOMP_BV %#" PRIx64,
		      tu_get64(&t, 520));
	TU_CASE_CHECK(failures, tu_all(&t, 0, 512, TU_CANARY), "item41",
		      "legacy region written (first at %ld)", tu_find_not(&t, 0, 512, TU_CANARY));
	/* MXCSR != 0x1F80 forces bit 1 even with XMM in init (§5.3). */
	tu_set_u64(&t, "mxcsr", 0x9F80);
	tu_fill(&t, TU_CANARY);
	tu_run(&t, VX_INSN_XSAVEC64, A0, 0x2);
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == 0x2, "XSAVEC MXCSR != 0x1F80",
		      "XSTATE_BV %#" PRIx64, tu_get64(&t, 512));
	TU_CASE_CHECK(failures, tu_get(&t, 24, 4) == 0x9F80 && tu_get(&t, 28, 4) == 0xFFFF,
		      "XSAVEC MXCSR != 0x1F80", "MXCSR not written");
	TU_CASE_CHECK(failures, tu_all(&t, 160, 416, 0), "XSAVEC MXCSR != 0x1F80",
		      "XMM not written as zeros");
	tu_close(&t);

	/* item 43: RFBM=0x4 -> MXCSR not written; XCOMP_BV = 2^63|4; AVX at 576. */
	tu_open(&t, SPR);
	tu_xsetbv(&t, 0x7);
	tu_set_u64(&t, "mxcsr", 0x9F80);
	tu_set_pat(&t, "ymmh0", 40);
	tu_run(&t, VX_INSN_XSAVEC64, A0, 0x4);
	TU_CASE_CHECK(failures, tu_all(&t, 0, 512, TU_CANARY), "item43",
		      "legacy region written (first at %ld)", tu_find_not(&t, 0, 512, TU_CANARY));
	TU_CASE_CHECK(failures, tu_get64(&t, 520) == UINT64_C(0x8000000000000004), "item43",
		      "XCOMP_BV %#" PRIx64, tu_get64(&t, 520));
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == 0x4, "item43", "XSTATE_BV %#" PRIx64,
		      tu_get64(&t, 512));
	TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 576, 16, 40), "item43", "YMMH0 not at 576");
	tu_close(&t);

	/* XSAVEC clears XSTATE_BV bits outside RFBM (unlike XSAVE's read-modify-write). */
	tu_open(&t, SPR);
	tu_xsetbv(&t, 0x7);
	tu_set_pat(&t, "xmm0", 1);
	tu_run(&t, VX_INSN_XSAVEC, A0, 0x3);
	TU_CASE_CHECK(failures, tu_get64(&t, 512) == 0x2, "XSAVEC XSTATE_BV outside RFBM",
		      "XSTATE_BV %#" PRIx64, tu_get64(&t, 512));
	tu_close(&t);
	assert_int_equal(failures, 0);
}

/* §2.4 worked example 0x2E7, and §2.6: the compacted format is the same on both vendors. */
static void test_xsavec_avx512_compacted_both_vendors(void **state)
{
	static const char *const profiles[] = {SPR, ZEN4};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		const char *n = profiles[i];
		struct tu t;

		tu_open(&t, profiles[i]);
		tu_cr4(&t, VX_CR4_PKE, 0);
		tu_xsetbv(&t, 0x2E7);
		tu_set_u64(&t, "k3", UINT64_C(0xAABBCCDD00112233));
		tu_set_pat(&t, "zmmh1", 61);
		tu_set_pat(&t, "zmm20", 20);
		tu_set_u64(&t, "pkru", 0x0000000C);
		tu_run(&t, VX_INSN_XSAVEC64, A0, 0x2E7);
		TU_CASE_CHECK(failures, tu_get64(&t, 520) == (CMP | 0x2E7), n, "XCOMP_BV %#" PRIx64,
			      tu_get64(&t, 520));
		TU_CASE_CHECK(failures, tu_get64(&t, 512) == 0x2E0, n, "XSTATE_BV %#" PRIx64,
			      tu_get64(&t, 512));
		/* AVX@576 (not in use: not written), k@832, ZMM_Hi256@896, Hi16_ZMM@1408,
		 * PKRU@2432, size 2440. */
		TU_CASE_CHECK(failures, tu_all(&t, 576, 832, TU_CANARY), n, "AVX (init) written");
		TU_CASE_CHECK(failures, tu_get64(&t, 832 + 24) == UINT64_C(0xAABBCCDD00112233), n,
			      "k3 not at 856");
		TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 896 + 32, 32, 61), n,
			      "ZMMH1 not at 928");
		TU_CASE_CHECK(failures, tu_mem_has_pat(&t, 1408 + 256, 64, 20), n,
			      "ZMM20 not at 1664");
		TU_CASE_CHECK(failures, tu_get(&t, 2432, 4) == 0xC, n, "PKRU not at 2432");
		TU_CASE_CHECK(failures, tu_all(&t, 2440, 4096, TU_CANARY), n, "written past 2440");
		TU_CASE_CHECK(failures, tu_all(&t, 0, 512, TU_CANARY), n,
			      "legacy region (x87/SSE init, not requested) written");
		tu_close(&t);
	}
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* XRSTOR semantics (§5.5, §6; §10 items 63, 65, 67)                                            */

static void test_xrstor_init_semantics(void **state)
{
	struct tu t;
	int failures = 0;

	(void)state;
	/* item 63, standard form: XSTATE_BV = 0, RFBM = all -> §6 initial configuration, except
	 * MXCSR, which the standard form loads from area+24. */
	setup_spr(&t);
	tu_set_u64(&t, "mxcsr", 0x1FA0);
	tu_set_pat(&t, "zmmh1", 61);
	prep_std(&t, A0, 0, 0x9F80);
	tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_get_u64(&t, "fcw") == 0x037F, "item63 std: FCW", "%#" PRIx64,
		      tu_get_u64(&t, "fcw"));
	TU_CASE_CHECK(failures, tu_get_u64(&t, "fsw") == 0, "item63 std: FSW", "not 0");
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "st0"), "item63 std: ST0", "not zero");
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "xmm3"), "item63 std: XMM3", "not zero");
	TU_CASE_CHECK(failures, tu_get_u64(&t, "mxcsr") == 0x9F80, "item63 std: MXCSR",
		      "%#" PRIx64 ", expected 0x9F80 loaded from area+24", tu_get_u64(&t, "mxcsr"));
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "ymmh2"), "item63 std: YMMH2", "not zero");
	TU_CASE_CHECK(failures, tu_get_u64(&t, "k3") == 0, "item63 std: k3", "not zero");
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "zmmh1"), "item63 std: ZMMH1", "not zero");
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "zmm20"), "item63 std: ZMM20", "not zero");
	TU_CASE_CHECK(failures, tu_get_u64(&t, "pkru") == 0, "item63 std: PKRU", "not zero");
	TU_CASE_CHECK(failures, (vx_cpu_xinuse(t.cpu) & 0x2E5) == 0, "item63 std: XINUSE",
		      "%#" PRIx64 " (bits 0,2,5-7,9 must be 0)", vx_cpu_xinuse(t.cpu));
	/* The x87 tag word is "all empty": XSAVE shows abridged FTW 0, FSW 0. */
	tu_run(&t, VX_INSN_XSAVE64, A1, 0x1);
	TU_CASE_CHECK(failures,
		      tu_get(&t, A1 + 4, 1) == 0 && tu_get(&t, A1 + 2, 2) == 0 &&
			  tu_get(&t, A1, 2) == 0x037F,
		      "item63 std: x87 image", "FCW %#" PRIx64 " FSW %#" PRIx64 " FTW %#" PRIx64,
		      tu_get(&t, A1, 2), tu_get(&t, A1 + 2, 2), tu_get(&t, A1 + 4, 1));
	tu_close(&t);

	/* Compacted form with XSTATE_BV = 0: MXCSR = 0x1F80; area+24 (invalid) not examined
	 * (items 63, 67, 69). */
	setup_spr(&t);
	tu_set_u64(&t, "mxcsr", 0x9FA0);
	prep_cmp(&t, A0, 0, CMP | 0x2E7, 0xFFFFFFFFu);
	tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_get_u64(&t, "mxcsr") == 0x1F80, "item67 cmp: MXCSR", "%#" PRIx64,
		      tu_get_u64(&t, "mxcsr"));
	TU_CASE_CHECK(failures, tu_get_u64(&t, "fcw") == 0x037F, "item63 cmp: FCW", "%#" PRIx64,
		      tu_get_u64(&t, "fcw"));
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "xmm3"), "item67 cmp: XMM3", "not zero");
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "ymmh2"), "item63 cmp: YMMH2", "not zero");
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "zmm20"), "item63 cmp: ZMM20", "not zero");
	TU_CASE_CHECK(failures, tu_get_u64(&t, "pkru") == 0, "item63 cmp: PKRU", "not zero");
	tu_close(&t);

	/* item 67 exactly: compacted, RFBM = 0x2, XSTATE_BV[1] = 0. */
	setup_spr(&t);
	tu_set_u64(&t, "mxcsr", 0x9FA0);
	prep_cmp(&t, A0, 0, CMP | 0x3, 0x12345678u);
	tu_run(&t, VX_INSN_XRSTOR64, A0, 0x2);
	TU_CASE_CHECK(failures, tu_get_u64(&t, "mxcsr") == 0x1F80 && tu_reg_is_zero(&t, "xmm3"),
		      "item67", "MXCSR %#" PRIx64, tu_get_u64(&t, "mxcsr"));
	TU_CASE_CHECK(failures, tu_get_u64(&t, "fcw") == 0x027F, "item67: x87 not requested",
		      "FCW changed to %#" PRIx64, tu_get_u64(&t, "fcw"));
	tu_close(&t);

	/* Standard form: SSE init zeroes XMM but does not reset MXCSR (it is loaded). */
	setup_spr(&t);
	prep_std(&t, A0, 0, 0x1FBF);
	tu_run(&t, VX_INSN_XRSTOR64, A0, 0x2);
	TU_CASE_CHECK(failures, tu_get_u64(&t, "mxcsr") == 0x1FBF && tu_reg_is_zero(&t, "xmm3"),
		      "std SSE init", "MXCSR %#" PRIx64, tu_get_u64(&t, "mxcsr"));
	tu_close(&t);
	assert_int_equal(failures, 0);
}

static void test_xrstor_rfbm_rules(void **state)
{
	struct tu t;
	int failures = 0;

	(void)state;
	/* item 65: standard, RFBM = 0x4 -> MXCSR from area+24, XMM unchanged, YMMH loaded. */
	setup_spr(&t);
	prep_std(&t, A0, 0x4, 0x1FBF);
	tu_mem_pat(&t, A0 + 576 + 16 * 7, 16, 77);
	tu_run(&t, VX_INSN_XRSTOR64, A0, 0x4);
	TU_CASE_CHECK(failures, tu_get_u64(&t, "mxcsr") == 0x1FBF, "item65: MXCSR", "%#" PRIx64,
		      tu_get_u64(&t, "mxcsr"));
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "xmm3", 3), "item65: XMM3", "changed");
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "ymmh7", 77), "item65: YMMH7", "not loaded");
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "ymmh2"), "item65: YMMH2", "not loaded (0)");
	tu_close(&t);

	/* RFBM[i] = 0 -> component unchanged whatever XSTATE_BV says. */
	setup_spr(&t);
	tu_set_u64(&t, "mxcsr", 0x9F80);
	prep_std(&t, A0, 0x2E7, 0x1F80);
	/* FCW with bit 6 set and bits 15:13 clear: hardware keeps exactly that value
	 * (docs/hardware-behaviour.md: bit 6 reads 1, 15:13 read 0). */
	tu_put(&t, A0, 0x0A7F, 2);
	tu_run(&t, VX_INSN_XRSTOR64, A0, 0x1);
	TU_CASE_CHECK(failures, tu_get_u64(&t, "fcw") == 0x0A7F, "RFBM=1: x87 loaded",
		      "FCW %#" PRIx64, tu_get_u64(&t, "fcw"));
	TU_CASE_CHECK(failures, tu_get_u64(&t, "mxcsr") == 0x9F80, "RFBM=1: MXCSR", "changed");
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "xmm3", 3), "RFBM=1: XMM3", "changed");
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "ymmh2", 22), "RFBM=1: YMMH2", "changed");
	TU_CASE_CHECK(failures, tu_get_u64(&t, "pkru") == 0x55555554, "RFBM=1: PKRU", "changed");
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "zmm20", 20), "RFBM=1: ZMM20", "changed");
	tu_close(&t);

	/* Compacted: a requested component missing from XCOMP_BV is initialized. */
	setup_spr(&t);
	prep_cmp(&t, A0, 0x3, CMP | 0x3, 0x1F80);
	tu_mem_pat(&t, A0 + 208, 16, 33);
	tu_run(&t, VX_INSN_XRSTOR64, A0, 0x207);
	TU_CASE_CHECK(failures, tu_reg_is_zero(&t, "ymmh2"), "cmp forced init: YMMH2",
		      "not initialized");
	TU_CASE_CHECK(failures, tu_get_u64(&t, "pkru") == 0, "cmp forced init: PKRU",
		      "not initialized");
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "xmm3", 33), "cmp forced init: XMM3",
		      "not loaded");
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "zmm20", 20), "cmp forced init: ZMM20",
		      "changed although not requested");
	tu_close(&t);

	/* Loading from hand-laid images: standard offsets on both vendors, compacted 0x207. */
	{
		static const struct {
			const char *profile;
			uint32_t k, hi16, pkru;
		} L[] = {{SPR, 1088, 1664, 2688}, {ZEN4, 832, 1408, 2432}};

		for (size_t i = 0; i < 2; i++) {
			tu_open(&t, L[i].profile);
			tu_cr4(&t, VX_CR4_PKE, 0);
			tu_xsetbv(&t, 0x2E7);
			prep_std(&t, A0, 0x2E7, 0x1F80);
			tu_put64(&t, A0 + L[i].k + 8 * 6, UINT64_C(0x6666));
			tu_mem_pat(&t, A0 + L[i].hi16 + 64 * 15, 64, 131);
			tu_put(&t, A0 + L[i].pkru, 0xABCD0004, 4);
			tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
			TU_CASE_CHECK(failures, tu_get_u64(&t, "k6") == 0x6666, L[i].profile,
				      "k6 not loaded from %u", L[i].k + 48);
			TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "zmm31", 131), L[i].profile,
				      "ZMM31 not loaded from %u", L[i].hi16 + 960);
			TU_CASE_CHECK(failures, tu_get_u64(&t, "pkru") == 0xABCD0004, L[i].profile,
				      "PKRU not loaded from %u", L[i].pkru);
			tu_close(&t);
		}
	}
	tu_open(&t, SPR);
	tu_cr4(&t, VX_CR4_PKE, 0);
	tu_xsetbv(&t, 0x2E7);
	prep_cmp(&t, A0, 0x204, CMP | 0x207, 0x1F80);
	tu_put(&t, A0 + 832, 0x11110000, 4);
	tu_mem_pat(&t, A0 + 576 + 16 * 15, 16, 5);
	tu_run(&t, VX_INSN_XRSTOR64, A0, TU_ALL);
	TU_CASE_CHECK(failures, tu_get_u64(&t, "pkru") == 0x11110000, "cmp 0x207: PKRU",
		      "not loaded from 832");
	TU_CASE_CHECK(failures, tu_reg_has_pat(&t, "ymmh15", 5), "cmp 0x207: YMMH15",
		      "not loaded from 816");
	tu_close(&t);
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Seeded random round trips                                                                    */

#define RT_XCR0 UINT64_C(0x602E7)
#define RT_XSS	UINT64_C(0x1800)

/* Give every register of XCR0|XSS a random value that every restore accepts. */
static void randomize(struct tu *t, uint64_t seed)
{
	uint64_t s = seed * UINT64_C(0x9E3779B97F4A7C15) + 1;

	for (unsigned i = 0; i < vx_reg_count(); i++) {
		const struct vx_reg_info *r = vx_reg_at(i);
		uint8_t bytes[1024] = {0};

		if (r == NULL || r->width == 0 || r->width > sizeof(bytes) ||
		    !((RT_XCR0 | RT_XSS) & BIT(r->component)))
			continue;
		for (unsigned b = 0; b < r->width; b += 8) {
			uint64_t v = tu_rand(&s);

			for (unsigned k = 0; k < 8 && b + k < r->width; k++)
				bytes[b + k] = (uint8_t)(v >> (8 * k));
		}
		if (strcmp(r->name, "fcw") == 0) {
			/* reserved bits: 15:13 and 7 read 0, bit 6 reads 1 on hardware */
			bytes[0] = (uint8_t)((bytes[0] & 0x3F) | 0x40);
			bytes[1] &= 0x1F;
		} else if (strcmp(r->name, "fsw") == 0) {
			/* C0-C3 and TOP only: no exception flags, so ES and B (derived) are 0 */
			bytes[0] = 0;
			bytes[1] &= 0x7F;
		} else if (strcmp(r->name, "mxcsr") == 0) {
			/* within MXCSR_MASK 0xFFFF */
			bytes[2] = bytes[3] = 0;
		} else if (strcmp(r->name, "fop") == 0) {
			bytes[1] &= 0x07; /* FOP bits 15:11 are 0 */
		} else if (strcmp(r->name, "fip") == 0 || strcmp(r->name, "fdp") == 0 ||
			   strcmp(r->name, "fcs") == 0 || strcmp(r->name, "fds") == 0) {
			/* The x87 pointers depend on the REX.W format and on FCS/FDS
			 * deprecation (§2.2): keep them 0 so every form round-trips. */
			memset(bytes, 0, r->width);
		} else if (strcmp(r->name, "u_cet") == 0) {
			/* No reserved bits, not SUPPRESS+TRACKER, bits 13:12 clear (KVM's
			 * unverified rule, §7.2), canonical 47-bit base. */
			bytes[0] &= 0x3F;
			bytes[1] &= 0xC0;
			bytes[6] = bytes[7] = 0;
			bytes[5] &= 0x7F;
		} else if (strstr(r->name, "_ssp") != NULL) {
			bytes[0] &= 0xF8;
			bytes[6] = bytes[7] = 0;
			bytes[5] &= 0x7F;
		} else if (strcmp(r->name, "tilecfg") == 0) {
			/* palette 1, 8 tiles of 16 rows x 64 bytes */
			memset(bytes, 0, 64);
			bytes[0] = 1;
			for (unsigned k = 0; k < 8; k++) {
				bytes[16 + 2 * k] = 64;
				bytes[48 + k] = 16;
			}
		}
		tu_set_bytes(t, r->name, bytes, r->width);
	}
}

static void open_rt(struct tu *t)
{
	tu_open(t, SPR);
	tu_cr4(t, VX_CR4_PKE, 0);
	tu_xsetbv(t, RT_XCR0);
	tu_wrmsr(t, VX_MSR_IA32_XSS, RT_XSS);
}

/* Compare every register of @mask between two processors; name the first difference. */
static bool same_regs(const struct tu *a, const struct tu *b, uint64_t mask, char *where,
		      size_t len)
{
	for (unsigned i = 0; i < vx_reg_count(); i++) {
		const struct vx_reg_info *r = vx_reg_at(i);
		uint8_t x[1024], y[1024];

		if (r == NULL || r->width == 0 || r->width > sizeof(x) ||
		    !(mask & BIT(r->component)))
			continue;
		if (vx_cpu_get_reg(a->cpu, r, x, r->width) != 0 ||
		    vx_cpu_get_reg(b->cpu, r, y, r->width) != 0) {
			snprintf(where, len, "get_reg(%s) failed", r->name);
			return false;
		}
		for (unsigned k = 0; k < r->width; k++) {
			if (x[k] != y[k]) {
				snprintf(where, len, "%s byte %u: %#x != %#x", r->name, k, x[k],
					 y[k]);
				return false;
			}
		}
	}
	return true;
}

static void test_round_trips(void **state)
{
	static const struct {
		const char *name;
		enum vx_insn save, restore;
		uint64_t mask;
	} trips[] = {
	    {"XSAVEC64 -> XRSTOR64", VX_INSN_XSAVEC64, VX_INSN_XRSTOR64, RT_XCR0},
	    {"XSAVES64 -> XRSTORS64", VX_INSN_XSAVES64, VX_INSN_XRSTORS64, RT_XCR0 | RT_XSS},
	    {"XSAVE64 -> XRSTOR64", VX_INSN_XSAVE64, VX_INSN_XRSTOR64, RT_XCR0},
	    {"XSAVEOPT64 -> XRSTOR64", VX_INSN_XSAVEOPT64, VX_INSN_XRSTOR64, RT_XCR0},
	    {"XSAVES -> XRSTORS", VX_INSN_XSAVES, VX_INSN_XRSTORS, RT_XCR0 | RT_XSS},
	};
	int failures = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		for (size_t i = 0; i < sizeof(trips) / sizeof(trips[0]); i++) {
			struct tu a, b;
			char where[160], name[160];

			snprintf(name, sizeof(name), "%s, seed %" PRIu64, trips[i].name, seed);
			open_rt(&a);
			open_rt(&b);
			randomize(&a, seed);
			randomize(&b, seed + 1000);
			/* No instruction writes header bytes 16-63 and XSAVE keeps XCOMP_BV:
			 * software zeroes the header first. */
			tu_header(&a, A0, 0, 0);
			tu_run(&a, trips[i].save, A0, TU_ALL);
			memcpy(b.buf, a.buf, TU_MEM_SIZE);
			tu_run(&b, trips[i].restore, A0, TU_ALL);
			TU_CASE_CHECK(failures,
				      same_regs(&a, &b, trips[i].mask, where, sizeof(where)), name,
				      "restored state differs: %s", where);
			/* Everything was in use and loaded: XINUSE covers the mask. */
			TU_CASE_CHECK(
			    failures, (vx_cpu_xinuse(b.cpu) & trips[i].mask) == trips[i].mask, name,
			    "XINUSE %#" PRIx64 " after loading everything", vx_cpu_xinuse(b.cpu));
			tu_close(&a);
			tu_close(&b);
		}
	}
	assert_int_equal(failures, 0);
}

/* Standard and compacted images of the same state restore identical registers. */
static void test_standard_vs_compacted_restore(void **state)
{
	int failures = 0;

	(void)state;
	for (uint64_t seed = 11; seed <= 16; seed++) {
		struct tu a, s, c;
		char where[160], name[96];

		snprintf(name, sizeof(name), "std vs compacted, seed %" PRIu64, seed);
		open_rt(&a);
		open_rt(&s);
		open_rt(&c);
		randomize(&a, seed);
		randomize(&s, seed + 77);
		randomize(&c, seed + 99);
		tu_header(&a, A0, 0, 0);
		tu_header(&a, A1, 0, 0);
		tu_run(&a, VX_INSN_XSAVE64, A0, TU_ALL);
		tu_run(&a, VX_INSN_XSAVEC64, A1, TU_ALL);
		memcpy(s.buf, a.buf, TU_MEM_SIZE);
		memcpy(c.buf, a.buf, TU_MEM_SIZE);
		tu_run(&s, VX_INSN_XRSTOR64, A0, TU_ALL);
		tu_run(&c, VX_INSN_XRSTOR64, A1, TU_ALL);
		TU_CASE_CHECK(failures, same_regs(&s, &c, RT_XCR0, where, sizeof(where)), name,
			      "%s", where);
		TU_CASE_CHECK(failures, same_regs(&a, &c, RT_XCR0, where, sizeof(where)), name,
			      "compacted restore != original: %s", where);
		/* Partial RFBM restores identical subsets too. */
		randomize(&s, seed + 5);
		randomize(&c, seed + 5);
		tu_run(&s, VX_INSN_XRSTOR64, A0, 0x60202);
		tu_run(&c, VX_INSN_XRSTOR64, A1, 0x60202);
		TU_CASE_CHECK(failures, same_regs(&s, &c, RT_XCR0, where, sizeof(where)), name,
			      "RFBM 0x60202: %s", where);
		tu_close(&a);
		tu_close(&s);
		tu_close(&c);
	}
	assert_int_equal(failures, 0);
}

/* The instruction names round-trip (used in every message above). */
static void test_insn_names(void **state)
{
	(void)state;
	for (int i = 0; i < VX_INSN_COUNT; i++) {
		const char *n = vx_insn_name((enum vx_insn)i);

		assert_non_null(n);
		assert_int_equal(vx_insn_by_name(n), i);
	}
	assert_string_equal(vx_insn_name(VX_INSN_XSAVEC64), "XSAVEC64");
	assert_int_equal(vx_insn_by_name("xrstors"), VX_INSN_XRSTORS);
	assert_int_equal(vx_insn_by_name("xsave128"), -1);
	assert_null(vx_insn_name(VX_INSN_COUNT));
}

/* API misuse is a negative errno, not an architectural event, and changes nothing. */
static void test_exec_misuse(void **state)
{
	struct tu t;
	char where[160];
	int rc;

	(void)state;
	tu_open(&t, SPR);
	tu_xsetbv(&t, 0x7);
	tu_snapshot(&t);
	rc = tu_exec(&t, VX_INSN_COUNT, A0, TU_ALL);
	assert_true(rc < 0);
	rc = vx_cpu_exec(t.cpu, VX_INSN_XSAVE, 0, NULL, TU_BASE, TU_ALL, &t.ev);
	assert_true(rc < 0);
	assert_null(tu_unchanged(&t, where, sizeof(where)));
	tu_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_insn_names),
	    cmocka_unit_test(test_exec_misuse),
	    cmocka_unit_test(test_common_checks_every_instruction),
	    cmocka_unit_test(test_absent_subfeatures),
	    cmocka_unit_test(test_vmx_xsaves_controls),
	    cmocka_unit_test(test_xrstor_header_rules),
	    cmocka_unit_test(test_xsave_standard_layout),
	    cmocka_unit_test(test_xsave_special_cases),
	    cmocka_unit_test(test_xsave_writes_initial_values),
	    cmocka_unit_test(test_saves_never_write_reserved),
	    cmocka_unit_test(test_xsavec_item45_pkru_at_832),
	    cmocka_unit_test(test_xsavec_mxcsr_rules),
	    cmocka_unit_test(test_xsavec_avx512_compacted_both_vendors),
	    cmocka_unit_test(test_xrstor_init_semantics),
	    cmocka_unit_test(test_xrstor_rfbm_rules),
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_standard_vs_compacted_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
