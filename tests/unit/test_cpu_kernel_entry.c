/* SPDX-License-Identifier: MIT */
/*
 * The cpu layer's entries for the fpu layer's context switch (src/cpu/kernel_entry.h, issue
 * 7/9) against the public calls they stand for:
 *  - vx_cpu_exec_cpl0() on one CPU and vx_cpu_exec() on a copy of it, each given the same area
 *    at the same linear address, over ROUNDS seeded random steps (XSAVES64 and XRSTORS64 with
 *    random masks, random register values between them, images with random header bits, CR0.TS
 *    set, a misaligned area): the same return, the same area bytes, the same registers
 *    (vx_cpu_compare) and the same tracking state (XINUSE, XMODIFIED, XRSTOR_INFO), and on a
 *    fault the same vector and cause - on sapphire-rapids and zen4 programmed as the kernel
 *    programs them (vx_fpu_system_init_cpu);
 *  - at CPL 3 vx_cpu_exec() raises #GP(0) for XSAVES/XRSTORS (arch.md §5.4/§5.6) while
 *    vx_cpu_exec_cpl0() answers VX_CPU_NOT_CPL0 and changes neither the CPU nor the area;
 *  - vx_cpu_pkru_bytes() holds, little-endian, every value written to PKRU (hand values), as
 *    vx_cpu_get_reg("pkru") reads it, at the same place after vx_cpu_reset(); NULL on a
 *    profile without PKU ("-pku" derived).
 * The seed is fixed and printed.
 */
#include "cpu/kernel_entry.h"
#include "cpu_test_util.h"

#include <vxsave/fpu.h>

#define ROUNDS	  300
#define AREA_SIZE 16384u
#define SEED	  UINT64_C(0x5eed0007)

struct pair {
	const struct vx_fpu_insns *insns;
	struct vx_fpu_system *sys;
	struct vx_cpu *fast; /* runs vx_cpu_exec_cpl0() */
	struct vx_cpu *ref;  /* runs vx_cpu_exec() */
	uint64_t features;   /* every component the kernel enables (XCR0 | IA32_XSS) */
	uint8_t *area;	     /* AREA_SIZE + 64 bytes, 64-byte aligned */
	uint8_t *before;     /* the area before a step */
	uint8_t *after_ref;  /* the area after vx_cpu_exec() */
	unsigned retired, faulted;
};

static void pair_open(struct pair *p, const char *profile_name)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile profile;
	const struct vx_fpu_state_config *kernel;

	tu_load_profile(&profile, profile_name);
	memset(p, 0, sizeof(*p));
	TU_CHECK(vx_fpu_system_create(&profile, NULL, &p->sys, &err) == 0, "boot: %s", err.reason);
	TU_CHECK(vx_cpu_create(&profile, NULL, &p->fast, &err) == 0, "cpu: %s", err.reason);
	TU_CHECK(vx_cpu_create(&profile, NULL, &p->ref, &err) == 0, "cpu: %s", err.reason);
	TU_CHECK(vx_fpu_system_init_cpu(p->sys, p->fast, &err) == 0, "init: %s", err.reason);
	TU_CHECK(vx_fpu_system_init_cpu(p->sys, p->ref, &err) == 0, "init: %s", err.reason);
	p->insns = vx_fpu_insns(p->sys);
	kernel = vx_fpu_kernel_cfg(p->sys);
	p->features = kernel->max_features;
	p->area = aligned_alloc(64, AREA_SIZE + 64);
	p->before = malloc(AREA_SIZE + 64);
	p->after_ref = malloc(AREA_SIZE + 64);
	TU_CHECK(p->area && p->before && p->after_ref, "out of memory");
	/* The canary everywhere but the header, whose bytes 16-63 XSAVES keeps and XRSTORS
	 * wants zero (§5.6): an fpstate starts zeroed (linux-fpu.md §6). */
	memset(p->area, TU_CANARY, AREA_SIZE + 64);
	memset(p->area + VX_HEADER_OFFSET, 0, 64);
}

static void pair_close(struct pair *p)
{
	vx_cpu_destroy(p->fast);
	vx_cpu_destroy(p->ref);
	vx_fpu_system_destroy(p->sys);
	free(p->area);
	free(p->before);
	free(p->after_ref);
}

static void set_cpl_both(struct pair *p, unsigned cpl)
{
	struct vx_cpu *cpus[2] = {p->fast, p->ref};

	for (int i = 0; i < 2; i++) {
		struct vx_cpu_control c;
		struct vx_event ev;

		vx_cpu_get_control(cpus[i], &c);
		c.cpl = cpl;
		TU_CHECK(vx_cpu_set_control(cpus[i], &c, &ev) == 0, "CPL %u refused", cpl);
	}
}

static void set_ts_both(struct pair *p, bool ts)
{
	struct vx_cpu *cpus[2] = {p->fast, p->ref};

	for (int i = 0; i < 2; i++) {
		struct vx_cpu_control c;
		struct vx_event ev;

		vx_cpu_get_control(cpus[i], &c);
		c.cr0 = ts ? (c.cr0 | VX_CR0_TS) : (c.cr0 & ~(uint64_t)VX_CR0_TS);
		TU_CHECK(vx_cpu_set_control(cpus[i], &c, &ev) == 0, "CR0.TS refused");
	}
}

/* The same random value in one random register of each user component, on both CPUs. */
static void scramble(struct pair *p, uint64_t *seed)
{
	static const char *const regs[] = {"st0", "fcw",   "xmm3",  "xmm15", "ymmh2",
					   "k5",  "zmmh7", "zmm20", "pkru",  "mxcsr"};

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		const struct vx_reg_info *reg = vx_reg_lookup(regs[i]);
		uint8_t value[64];
		struct vx_event ev;
		int a, b;

		if (!reg || reg->width > sizeof(value) || (tu_rand(seed) & 3) == 0)
			continue;
		for (size_t k = 0; k < reg->width; k++)
			value[k] = (uint8_t)tu_rand(seed);
		if (reg->component == VX_COMP_SSE && reg->offset == VX_MXCSR_OFFSET)
			value[2] = value[3] = 0, value[1] &= 0x7F; /* MXCSR within MXCSR_MASK */
		a = vx_cpu_set_reg(p->fast, reg, value, reg->width, &ev);
		b = vx_cpu_set_reg(p->ref, reg, value, reg->width, &ev);
		TU_CHECK(a == b, "%s: set_reg %d != %d", regs[i], a, b);
	}
}

static void same_state(const struct pair *p, const char *what, unsigned round)
{
	struct vx_xrstor_info fi, ri;
	char where[160] = "";

	TU_CHECK(vx_cpu_compare(p->fast, p->ref, TU_ALL, where, sizeof(where)) == 0,
		 "round %u %s: registers differ: %s", round, what, where);
	TU_CHECK(vx_cpu_xinuse(p->fast) == vx_cpu_xinuse(p->ref), "round %u %s: XINUSE", round,
		 what);
	TU_CHECK(vx_cpu_xmodified(p->fast) == vx_cpu_xmodified(p->ref), "round %u %s: XMODIFIED",
		 round, what);
	vx_cpu_xrstor_info(p->fast, &fi);
	vx_cpu_xrstor_info(p->ref, &ri);
	TU_CHECK(fi.valid == ri.valid && fi.cpl == ri.cpl && fi.vmx_non_root == ri.vmx_non_root &&
		     fi.linear_address == ri.linear_address && fi.compmask == ri.compmask,
		 "round %u %s: XRSTOR_INFO", round, what);
}

/*
 * One instruction both ways on the same bytes at the same address (@off from the aligned
 * area): reference first, then the area put back and the fast entry.  Same outcome required.
 */
static void step(struct pair *p, enum vx_insn insn, size_t off, uint64_t rfbm, unsigned round)
{
	struct vx_memory mem = {p->area + off, AREA_SIZE, (uint64_t)(uintptr_t)(p->area + off)};
	struct vx_event ref_ev, fast_ev;
	int ref_rc, fast_rc;

	memcpy(p->before, p->area, AREA_SIZE + 64);
	ref_rc = vx_cpu_exec(p->ref, insn, 0, &mem, mem.base, rfbm, &ref_ev);
	memcpy(p->after_ref, p->area, AREA_SIZE + 64);
	memcpy(p->area, p->before, AREA_SIZE + 64);
	fast_rc = vx_cpu_exec_cpl0(p->fast, insn, p->area + off, AREA_SIZE, rfbm, &fast_ev);
	TU_CHECK(fast_rc == ref_rc, "round %u %s rfbm 0x%" PRIx64 ": rc %d != %d", round,
		 vx_insn_name(insn), rfbm, fast_rc, ref_rc);
	TU_CHECK(memcmp(p->area, p->after_ref, AREA_SIZE + 64) == 0,
		 "round %u %s: the areas differ", round, vx_insn_name(insn));
	p->retired += ref_rc == 0;
	p->faulted += ref_rc == VX_FAULTED;
	if (ref_rc == VX_FAULTED)
		TU_CHECK(fast_ev.kind == ref_ev.kind && fast_ev.vector == ref_ev.vector &&
			     fast_ev.cause == ref_ev.cause,
			 "round %u %s: fault %u/%u != %u/%u", round, vx_insn_name(insn),
			 fast_ev.vector, (unsigned)fast_ev.cause, ref_ev.vector,
			 (unsigned)ref_ev.cause);
	same_state(p, vx_insn_name(insn), round);
}

/* A random mask: mostly the kernel's features, sometimes any bits at all. */
static uint64_t random_rfbm(const struct pair *p, uint64_t *seed)
{
	uint64_t r = tu_rand(seed);

	return (r & 7) == 0 ? tu_rand(seed) : (p->features & (tu_rand(seed) | (r & 1 ? ~0ull : 0)));
}

/* Sometimes flip a header bit of the saved image (XSTATE_BV/XCOMP_BV: #GP cases of §5.6). */
static void maybe_corrupt_header(struct pair *p, uint64_t *seed)
{
	uint64_t r = tu_rand(seed);
	uint64_t word;
	size_t at = (r & 1) ? VX_XSTATE_BV_OFFSET : VX_XCOMP_BV_OFFSET;

	if ((r & 0x30) != 0)
		return;
	memcpy(&word, p->area + at, 8);
	word ^= VX_BIT((r >> 8) & 63);
	memcpy(p->area + at, &word, 8);
}

static void differential(const char *profile_name)
{
	uint64_t seed = SEED;
	struct pair p;

	printf("%s: seed 0x%" PRIx64 ", %d rounds\n", profile_name, seed, ROUNDS);
	pair_open(&p, profile_name);
	TU_CHECK(p.insns->xsave && p.insns->save == VX_INSN_XSAVES64, "%s: no XSAVES64 here",
		 profile_name);
	for (unsigned round = 0; round < ROUNDS; round++) {
		uint64_t r = tu_rand(&seed);
		bool ts = (r & 0x1F) == 1;
		size_t off = (r & 0x3E0) == 0x20 ? 8 : 0; /* misaligned: #GP(0), §5.0 */

		scramble(&p, &seed);
		if (ts)
			set_ts_both(&p, true);
		step(&p, p.insns->save, off, random_rfbm(&p, &seed), round);
		maybe_corrupt_header(&p, &seed);
		scramble(&p, &seed);
		step(&p, p.insns->restore, off, random_rfbm(&p, &seed), round);
		if (ts)
			set_ts_both(&p, false);
	}
	/* Both outcomes must have been compared, many times, or the test proves little. */
	printf("  %u retired, %u faulted\n", p.retired, p.faulted);
	TU_CHECK(p.retired >= ROUNDS / 2 && p.faulted >= ROUNDS / 20,
		 "%s: only %u retired and %u faulted steps", profile_name, p.retired, p.faulted);
	pair_close(&p);
}

static void test_exec_cpl0_matches_exec(void **state)
{
	(void)state;
	differential("sapphire-rapids");
	differential("zen4");
}

/* §5.4/§5.6: XSAVES/XRSTORS at CPL 3 are #GP(0); the fast entry declines and changes nothing. */
static void test_exec_cpl0_declines_above_cpl0(void **state)
{
	struct vx_memory mem;
	struct vx_event ev;
	struct pair p;
	char where[160] = "";
	const enum vx_insn insns[2] = {VX_INSN_XSAVES64, VX_INSN_XRSTORS64};

	(void)state;
	pair_open(&p, "sapphire-rapids");
	mem = (struct vx_memory){p.area, AREA_SIZE, (uint64_t)(uintptr_t)p.area};
	TU_CHECK(vx_cpu_exec(p.ref, VX_INSN_XSAVES64, 0, &mem, mem.base, p.features, &ev) == 0,
		 "XSAVES64 at CPL 0: %s", ev.reason);
	set_cpl_both(&p, 3);
	for (int i = 0; i < 2; i++) {
		int rc = vx_cpu_exec(p.ref, insns[i], 0, &mem, mem.base, p.features, &ev);

		TU_CHECK(rc == VX_FAULTED && ev.vector == VX_VEC_GP, "%s at CPL 3: rc %d vector %u",
			 vx_insn_name(insns[i]), rc, ev.vector);
		memcpy(p.before, p.area, AREA_SIZE);
		TU_CHECK(vx_cpu_copy(p.ref, p.fast) == 0, "copy");
		rc = vx_cpu_exec_cpl0(p.fast, insns[i], p.area, AREA_SIZE, p.features, &ev);
		TU_CHECK(rc == VX_CPU_NOT_CPL0, "%s: vx_cpu_exec_cpl0 at CPL 3 = %d",
			 vx_insn_name(insns[i]), rc);
		TU_CHECK(memcmp(p.before, p.area, AREA_SIZE) == 0, "%s at CPL 3 wrote the area",
			 vx_insn_name(insns[i]));
		TU_CHECK(vx_cpu_compare(p.fast, p.ref, TU_ALL, where, sizeof(where)) == 0,
			 "%s at CPL 3 changed the CPU: %s", vx_insn_name(insns[i]), where);
	}
	pair_close(&p);
}

static void test_pkru_bytes(void **state)
{
	/* Hand values: Linux's init_pkru_value, all keys disabled, none, one bit per byte. */
	static const uint32_t values[] = {0x55555554u, 0xFFFFFFFCu, 0, 0x80402010u};
	const struct vx_reg_info *pkru = vx_reg_lookup("pkru");
	struct tu t;
	struct vx_profile no_pku;
	struct vx_cpu *cpu = NULL;
	struct vx_error err = VX_ERROR_INIT;
	const uint8_t *place;

	(void)state;
	tu_open(&t, "sapphire-rapids");
	tu_xsetbv(&t, VX_BIT(VX_COMP_X87) | VX_BIT(VX_COMP_PKRU)); /* WRPKRU needs XCR0[9] */
	place = vx_cpu_pkru_bytes(t.cpu);
	TU_CHECK(place != NULL && pkru != NULL, "sapphire-rapids has PKRU");
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		const uint8_t le[4] = {(uint8_t)values[i], (uint8_t)(values[i] >> 8),
				       (uint8_t)(values[i] >> 16), (uint8_t)(values[i] >> 24)};
		uint32_t read = ~values[i];

		tu_set_bytes(&t, "pkru", &values[i], 4);
		TU_CHECK(memcmp(place, le, 4) == 0, "PKRU 0x%08x not at its place", values[i]);
		TU_CHECK(vx_cpu_get_reg(t.cpu, pkru, &read, 4) == 0 && read == values[i],
			 "vx_cpu_get_reg(pkru) = 0x%08x, wrote 0x%08x", read, values[i]);
	}
	vx_cpu_reset(t.cpu);
	TU_CHECK(vx_cpu_pkru_bytes(t.cpu) == place, "the place moved at reset");
	TU_CHECK(place[0] == 0 && place[1] == 0 && place[2] == 0 && place[3] == 0,
		 "PKRU after reset is not its init value 0 (arch.md §6)");
	tu_close(&t);
	/* CPUID.(7,0):ECX[3] PKU cleared: no PKRU component (§2.1), no place. */
	tu_load_profile(&no_pku, "sapphire-rapids");
	TU_CHECK(vx_profile_derive(&no_pku, "-pku", &err) == 0, "-pku: %s", err.reason);
	TU_CHECK(vx_cpu_create(&no_pku, NULL, &cpu, &err) == 0, "cpu: %s", err.reason);
	TU_CHECK(vx_cpu_pkru_bytes(cpu) == NULL, "a CPU without PKU has a PKRU place");
	vx_cpu_destroy(cpu);
	TU_CHECK(vx_cpu_pkru_bytes(NULL) == NULL, "NULL cpu");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exec_cpl0_matches_exec),
	    cmocka_unit_test(test_exec_cpl0_declines_above_cpl0),
	    cmocka_unit_test(test_pkru_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
