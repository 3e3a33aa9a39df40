/* SPDX-License-Identifier: MIT */
/*
 * Smoke tests of the cpu model written with the model (the full suite is test_cpu_*.c):
 * one focused case per instruction rule and fault path, with expected areas computed by
 * hand from arch.md §5 and docs/hardware-behaviour.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/cpu.h>

#define B(n) VX_BIT(n)
#define BASE UINT64_C(0x200000)
#define AREA_SIZE 16384u
#define CANARY 0xA5

static _Alignas(64) uint8_t area[AREA_SIZE];
static _Alignas(64) uint8_t saved[AREA_SIZE];
static struct vx_memory mem = {area, AREA_SIZE, BASE};

static struct vx_profile load_profile(const char *name)
{
	struct vx_profile p;
	struct vx_error err = VX_ERROR_INIT;

	assert_int_equal(vx_profile_builtin(&p, name, &err), 0);
	return p;
}

static struct vx_cpu *make_from(const struct vx_profile *p, uint64_t xcr0, uint64_t xss)
{
	struct vx_cpu *cpu = NULL;
	struct vx_event ev;

	assert_int_equal(vx_cpu_create(p, NULL, &cpu, NULL), 0);
	assert_int_equal(vx_cpu_xsetbv(cpu, 0, xcr0, &ev), 0);
	if (xss)
		assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_XSS, xss, &ev), 0);
	memset(area, CANARY, sizeof(area));
	return cpu;
}

static struct vx_cpu *make(const char *profile, uint64_t xcr0, uint64_t xss)
{
	struct vx_profile p = load_profile(profile);

	return make_from(&p, xcr0, xss);
}

static int run(struct vx_cpu *cpu, enum vx_insn insn, uint64_t offset, uint64_t mask,
	       struct vx_event *ev)
{
	return vx_cpu_exec(cpu, insn, 0, &mem, BASE + offset, mask, ev);
}

static void expect_fault(int ret, const struct vx_event *ev, unsigned vector)
{
	assert_int_equal(ret, VX_FAULTED);
	assert_int_equal(ev->kind, VX_EVENT_EXCEPTION);
	assert_int_equal(ev->vector, vector);
}

static uint64_t q(uint32_t off)
{
	uint64_t v;

	memcpy(&v, area + off, 8);
	return v;
}

static void put_q(uint32_t off, uint64_t v)
{
	memcpy(area + off, &v, 8);
}

static uint32_t d(uint32_t off)
{
	uint32_t v;

	memcpy(&v, area + off, 4);
	return v;
}

static bool all_bytes(uint32_t from, uint32_t to, uint8_t value)
{
	for (uint32_t i = from; i < to; i++)
		if (area[i] != value)
			return false;
	return true;
}

static void set_bytes(struct vx_cpu *cpu, const char *name, uint8_t value)
{
	const struct vx_reg_info *reg = vx_reg_lookup(name);
	uint8_t buf[1024];
	struct vx_event ev;

	assert_non_null(reg);
	memset(buf, value, sizeof(buf));
	assert_int_equal(vx_cpu_set_reg(cpu, reg, buf, reg->width, &ev), 0);
}

static void set_mxcsr(struct vx_cpu *cpu, uint32_t value)
{
	struct vx_event ev;

	assert_int_equal(vx_cpu_set_reg(cpu, vx_reg_lookup("mxcsr"), &value, 4, &ev), 0);
}

static uint32_t get_mxcsr(const struct vx_cpu *cpu)
{
	uint32_t v;

	assert_int_equal(vx_cpu_get_reg(cpu, vx_reg_lookup("mxcsr"), &v, 4), 0);
	return v;
}

static uint8_t reg_byte(const struct vx_cpu *cpu, const char *name, unsigned index)
{
	const struct vx_reg_info *reg = vx_reg_lookup(name);
	uint8_t buf[1024];

	assert_int_equal(vx_cpu_get_reg(cpu, reg, buf, reg->width), 0);
	return buf[index];
}

static void set_control(struct vx_cpu *cpu, unsigned cpl, enum vx_cpu_mode mode, uint64_t cr0_or)
{
	struct vx_cpu_control c;
	struct vx_event ev;

	vx_cpu_get_control(cpu, &c);
	c.cpl = cpl;
	c.mode = mode;
	c.cr0 |= cr0_or;
	assert_int_equal(vx_cpu_set_control(cpu, &c, &ev), 0);
}

/* A standard-format header: XSTATE_BV, XCOMP_BV, the rest zero. */
static void header(uint64_t xstate_bv, uint64_t xcomp_bv)
{
	memset(area + 512, 0, 64);
	put_q(512, xstate_bv);
	put_q(520, xcomp_bv);
}

/* ---- creation, XSETBV, XGETBV ---- */

static void test_power_on_state(void **state)
{
	struct vx_cpu *cpu = NULL;
	struct vx_profile p = load_profile("sapphire-rapids");
	struct vx_cpu_control c;
	uint64_t v = 0;
	struct vx_event ev;

	(void)state;
	assert_int_equal(vx_cpu_create(&p, NULL, &cpu, NULL), 0);
	assert_int_equal(vx_cpu_xcr0(cpu), 1);
	assert_int_equal(vx_cpu_xinuse(cpu), 0);
	vx_cpu_get_control(cpu, &c);
	assert_int_equal(c.mode, VX_MODE_64BIT);
	assert_true(c.cr4 & VX_CR4_OSXSAVE);
	assert_int_equal(vx_cpu_xgetbv(cpu, 0, &v, &ev), 0);
	assert_int_equal(v, 1);
	assert_int_equal(get_mxcsr(cpu), 0x1F80);
	vx_cpu_destroy(cpu);
}

static void test_xsetbv_rules(void **state)
{
	struct vx_cpu *cpu = make("skylake-server", 1, 0);
	struct vx_event ev;
	uint64_t v;

	(void)state;
	expect_fault(vx_cpu_xsetbv(cpu, 0, 0x2, &ev), &ev, VX_VEC_GP); /* §10 item 1 */
	assert_int_equal(vx_cpu_xsetbv(cpu, 0, 0x3, &ev), 0);	       /* item 3 */
	assert_int_equal(vx_cpu_xgetbv(cpu, 0, &v, &ev), 0);
	assert_int_equal(v, 3);
	expect_fault(vx_cpu_xsetbv(cpu, 0, 0xE3, &ev), &ev, VX_VEC_GP); /* item 5 */
	expect_fault(vx_cpu_xsetbv(cpu, 0, 0x0F, &ev), &ev, VX_VEC_GP); /* item 7 */
	assert_int_equal(vx_cpu_xsetbv(cpu, 0, 0x1F, &ev), 0);
	expect_fault(vx_cpu_xsetbv(cpu, 0, 0x103, &ev), &ev, VX_VEC_GP); /* item 9 */
	expect_fault(vx_cpu_xsetbv(cpu, 1, 0x3, &ev), &ev, VX_VEC_GP);	 /* item 11 */
	assert_int_equal(vx_cpu_xcr0(cpu), 0x1F);
	vx_cpu_destroy(cpu);
}

static void test_xsetbv_vmx_and_cpl(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 3, 0);
	struct vx_cpu_control c;
	struct vx_event ev;

	(void)state;
	vx_cpu_get_control(cpu, &c);
	c.vmx_non_root = true;
	assert_int_equal(vx_cpu_set_control(cpu, &c, &ev), 0);
	assert_int_equal(vx_cpu_xsetbv(cpu, 0, 0x7, &ev), VX_FAULTED); /* §10 item 13 */
	assert_int_equal(ev.kind, VX_EVENT_VMEXIT);
	assert_int_equal(ev.exit_reason, VX_EXIT_XSETBV);
	c.cpl = 3;
	assert_int_equal(vx_cpu_set_control(cpu, &c, &ev), 0);
	expect_fault(vx_cpu_xsetbv(cpu, 0, 0x7, &ev), &ev, VX_VEC_GP);
	assert_int_equal(vx_cpu_xcr0(cpu), 3);
	vx_cpu_destroy(cpu);
}

static void test_xgetbv1(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x7, 0);
	struct vx_event ev;
	uint64_t v;

	(void)state;
	set_bytes(cpu, "ymmh1", 0x11);
	assert_int_equal(vx_cpu_xgetbv(cpu, 1, &v, &ev), 0);
	assert_int_equal(v, 0x4);
	/* hardware-behaviour.md A.2: MXCSR != 0x1F80 shows as bit 1. */
	set_mxcsr(cpu, 0x1FC0);
	assert_int_equal(vx_cpu_xgetbv(cpu, 1, &v, &ev), 0);
	assert_int_equal(v, 0x6);
	expect_fault(vx_cpu_xgetbv(cpu, 2, &v, &ev), &ev, VX_VEC_GP);
	vx_cpu_destroy(cpu);
}

/* ---- XSAVE / XSAVEOPT ---- */

static void test_xsave_standard_area(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x7, 0);
	struct vx_event ev;

	(void)state;
	set_bytes(cpu, "xmm3", 0x33);
	put_q(520, UINT64_C(0x8000000000000007)); /* §10 item 33: XCOMP_BV kept */
	assert_int_equal(run(cpu, VX_INSN_XSAVE64, 0, ~UINT64_C(0), &ev), 0); /* item 29 */
	assert_int_equal(area[0], 0x7F);					/* FCW */
	assert_int_equal(d(24), 0x1F80);
	assert_int_equal(d(28), 0xFFFF);
	assert_true(all_bytes(160 + 48, 160 + 64, 0x33));
	assert_true(all_bytes(576, 832, 0));	      /* AVX in init: written as zeros */
	assert_true(all_bytes(416, 512, CANARY));     /* item 35 */
	assert_true(all_bytes(832, 900, CANARY));     /* nothing beyond RFBM */
	assert_int_equal(q(512), (UINT64_C(0xA5A5A5A5A5A5A5A5) & ~UINT64_C(7)) | 2);
	assert_int_equal(q(520), UINT64_C(0x8000000000000007));
	assert_true(all_bytes(528, 576, CANARY));
	vx_cpu_destroy(cpu);
}

static void test_xsave_mxcsr_rules(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x7, 0);
	struct vx_event ev;

	(void)state;
	assert_int_equal(run(cpu, VX_INSN_XSAVE64, 0, 0x1, &ev), 0); /* item 31 */
	assert_true(all_bytes(24, 32, CANARY));
	memset(area, CANARY, sizeof(area));
	assert_int_equal(run(cpu, VX_INSN_XSAVE64, 0, 0x4, &ev), 0); /* AVX alone stores MXCSR */
	assert_int_equal(d(24), 0x1F80);
	assert_true(all_bytes(160, 416, CANARY));
	vx_cpu_destroy(cpu);
}

static void test_xsave_faults(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x7, 0);
	struct vx_event ev;

	(void)state;
	expect_fault(run(cpu, VX_INSN_XSAVE64, 32, ~UINT64_C(0), &ev), &ev, VX_VEC_GP); /* 27 */
	expect_fault(vx_cpu_exec(cpu, VX_INSN_XSAVE, VX_PREFIX_LOCK, &mem, BASE, 7, &ev), &ev,
		     VX_VEC_UD);
	/* The window ends before the AVX component: #PF at the first missing byte. */
	struct vx_memory small = {area, 600, BASE};
	expect_fault(vx_cpu_exec(cpu, VX_INSN_XSAVE64, 0, &small, BASE, 7, &ev), &ev, VX_VEC_PF);
	assert_int_equal(ev.address, BASE + 600);
	assert_true(all_bytes(0, AREA_SIZE, CANARY)); /* nothing written on any fault */
	set_control(cpu, 0, VX_MODE_64BIT, VX_CR0_TS);
	expect_fault(run(cpu, VX_INSN_XSAVE64, 0, 7, &ev), &ev, VX_VEC_NM);
	vx_cpu_destroy(cpu);
}

static void test_xsave_compat_mode(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0xE7, 0);
	struct vx_event ev;

	(void)state;
	set_bytes(cpu, "xmm9", 0x99);
	set_bytes(cpu, "zmm17", 0x17);
	set_control(cpu, 0, VX_MODE_COMPAT, 0);
	assert_int_equal(run(cpu, VX_INSN_XSAVE, 0, 0xE7, &ev), 0); /* §10 item 37 */
	assert_true(all_bytes(160, 288, 0));
	assert_true(all_bytes(288, 416, CANARY));
	assert_true(all_bytes(1664, 2688, CANARY)); /* Hi16_ZMM untouched... */
	assert_int_equal(q(512) & 0xE7, 0x02);	    /* ...and recorded as init */
	vx_cpu_destroy(cpu);
}

static void test_xsave_fcs_fds(void **state)
{
	struct vx_cpu *cpu = make("zen4", 0x3, 0);
	struct vx_event ev;

	(void)state;
	/* 32-bit XRSTOR of an x87 image with FSW.ES=1 and selectors. */
	memset(area, 0, 1024);
	area[0] = 0x7E, area[1] = 0x03;	  /* FCW: invalid-operation unmasked */
	area[2] = 0x81, area[3] = 0x80;	  /* FSW: IE pending, so ES (and B) = 1 */
	put_q(8, UINT64_C(0x000012343456789A)); /* FIP 0x3456789A, FCS 0x1234 */
	put_q(16, UINT64_C(0x00005678CDEF0123));
	area[24] = 0x80, area[25] = 0x1F;
	header(1, 0);
	assert_int_equal(run(cpu, VX_INSN_XRSTOR, 0, 3, &ev), 0);
	memset(area, CANARY, 1024);
	assert_int_equal(run(cpu, VX_INSN_XSAVE, 0, 1, &ev), 0);
	assert_int_equal(q(8), UINT64_C(0x000012343456789A));
	assert_int_equal(q(16), UINT64_C(0x00005678CDEF0123));
	assert_int_equal(run(cpu, VX_INSN_XSAVE64, 0, 1, &ev), 0);
	assert_int_equal(q(8), UINT64_C(0x3456789A)); /* 64-bit format: selectors lost */
	vx_cpu_destroy(cpu);
}

static void test_xsave_fcs_deprecated(void **state)
{
	/* SPR enumerates CPUID.(7,0):EBX[13]: the 32-bit format stores FCS = FDS = 0. */
	struct vx_cpu *cpu = make("sapphire-rapids", 0x3, 0);
	struct vx_event ev;
	uint16_t fcs = 0x1234;

	(void)state;
	assert_int_equal(vx_cpu_set_reg(cpu, vx_reg_lookup("fcs"), &fcs, 2, &ev), 0);
	assert_int_equal(run(cpu, VX_INSN_XSAVE, 0, 1, &ev), 0);
	assert_int_equal(area[12], 0);
	assert_int_equal(area[13], 0);
	vx_cpu_destroy(cpu);
}

static void test_xsaveopt_skips(void **state)
{
	struct vx_cpu *cpu = make("zen4", 0x7, 0);
	struct vx_event ev;

	(void)state;
	set_bytes(cpu, "xmm0", 0x10);
	set_bytes(cpu, "ymmh0", 0x20);
	header(0, 0); /* a loadable header: XSAVE keeps bits outside RFBM */
	assert_int_equal(run(cpu, VX_INSN_XSAVE64, 0, 7, &ev), 0);
	assert_int_equal(run(cpu, VX_INSN_XRSTOR64, 0, 7, &ev), 0);
	area[160] = 0xEE; /* changed behind the processor's back */
	assert_int_equal(run(cpu, VX_INSN_XSAVEOPT64, 0, 7, &ev), 0);
	assert_int_equal(area[160], 0xEE); /* modified optimization: XMM not rewritten */
	assert_int_equal(run(cpu, VX_INSN_XSAVE64, 0, 7, &ev), 0);
	assert_int_equal(area[160], 0x10); /* XSAVE never skips */
	/* Init optimization: after VZEROUPPER-style init, AVX is not written, MXCSR is. */
	vx_cpu_init_components(cpu, B(2));
	memset(area + 576, CANARY, 256);
	put_q(24, 0);
	assert_int_equal(run(cpu, VX_INSN_XSAVEOPT64, 0x0, 7, &ev), 0);
	assert_true(all_bytes(576, 832, CANARY));
	assert_int_equal(d(24), 0x1F80);
	assert_int_equal(q(512) & 7, 0x2);
	vx_cpu_destroy(cpu);
}

/* ---- XSAVEC / XSAVES ---- */

static void test_xsavec_init_and_mxcsr(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x7, 0);
	struct vx_event ev;

	(void)state;
	assert_int_equal(run(cpu, VX_INSN_XSAVEC64, 0, 0x2, &ev), 0); /* §10 item 41 */
	assert_int_equal(q(512), 0);
	assert_int_equal(q(520), UINT64_C(0x8000000000000002));
	assert_true(all_bytes(0, 512, CANARY));
	assert_int_equal(run(cpu, VX_INSN_XSAVEC64, 0, 0x4, &ev), 0); /* item 43 */
	assert_int_equal(q(520), UINT64_C(0x8000000000000004));
	assert_true(all_bytes(24, 32, CANARY));
	/* MXCSR != 0x1F80 makes XSAVEC save SSE; XSAVE records the XMM-only bit (A.2). */
	set_mxcsr(cpu, 0x1FC0);
	assert_int_equal(run(cpu, VX_INSN_XSAVEC64, 0, 0x7, &ev), 0);
	assert_int_equal(q(512), 0x2);
	assert_int_equal(d(24), 0x1FC0);
	assert_true(all_bytes(160, 416, 0));
	assert_int_equal(run(cpu, VX_INSN_XSAVE64, 0, 0x7, &ev), 0);
	assert_int_equal(q(512) & 7, 0);
	vx_cpu_destroy(cpu);
}

static void test_xsavec_offsets(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x2E7, 0);
	struct vx_event ev;

	(void)state;
	set_bytes(cpu, "pkru", 0x55);
	assert_int_equal(run(cpu, VX_INSN_XSAVEC64, 0, 0x207, &ev), 0); /* §10 item 45 */
	assert_int_equal(d(832), 0x55555555);
	assert_int_equal(q(512), B(9));
	assert_int_equal(q(520), UINT64_C(0x8000000000000207));
	vx_cpu_destroy(cpu);

	cpu = make("sapphire-rapids", 0x60203, 0);
	set_bytes(cpu, "tilecfg", 0x01);
	assert_int_equal(run(cpu, VX_INSN_XSAVEC64, 0, 0x20203, &ev), 0); /* item 47 */
	assert_true(all_bytes(640, 704, 0x01));
	assert_true(all_bytes(576, 640, CANARY)); /* PKRU (not in use) and the padding */
	assert_int_equal(q(520), UINT64_C(0x8000000000020203));
	vx_cpu_destroy(cpu);
}

static void test_xsaves_cet(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x7, 0x1800);
	struct vx_event ev;

	(void)state;
	assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_U_CET, 0x1, &ev), 0);
	assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_PL3_SSP, 0x7000, &ev), 0);
	assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_PL1_SSP, 0x8008, &ev), 0);
	assert_int_equal(run(cpu, VX_INSN_XSAVES64, 0, 0x1800, &ev), 0); /* §10 item 49 */
	assert_int_equal(q(520), UINT64_C(0x8000000000001800));
	assert_int_equal(q(512), 0x1800);
	assert_int_equal(q(576), 1);
	assert_int_equal(q(584), 0x7000);
	assert_int_equal(q(592), 0);
	assert_int_equal(q(600), 0x8008);
	assert_true(all_bytes(0, 512, CANARY));
	vx_cpu_destroy(cpu);
}

static void test_xsaves_faults(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x7, 0x1800);
	struct vx_profile p = load_profile("sapphire-rapids");
	struct vx_cpuid_regs r = vx_profile_leaf(&p, 0xD, 1);
	struct vx_cpu_control c;
	struct vx_event ev;

	(void)state;
	vx_cpu_get_control(cpu, &c);
	c.vmx_non_root = true;
	assert_int_equal(vx_cpu_set_control(cpu, &c, &ev), 0);
	expect_fault(run(cpu, VX_INSN_XSAVES64, 0, 0x1800, &ev), &ev, VX_VEC_UD); /* item 53 */
	c.vmx_xsaves_enabled = true;
	c.vmx_xss_exit_bitmap = 0x800;
	assert_int_equal(vx_cpu_set_control(cpu, &c, &ev), 0);
	assert_int_equal(run(cpu, VX_INSN_XSAVES64, 0, 0x1800, &ev), VX_FAULTED);
	assert_int_equal(ev.kind, VX_EVENT_VMEXIT);
	assert_int_equal(ev.exit_reason, VX_EXIT_XSAVES);
	c.vmx_non_root = false;
	c.cpl = 3;
	assert_int_equal(vx_cpu_set_control(cpu, &c, &ev), 0);
	expect_fault(run(cpu, VX_INSN_XSAVES64, 0, 0x1800, &ev), &ev, VX_VEC_GP); /* item 51 */
	expect_fault(run(cpu, VX_INSN_XRSTORS64, 0, 0x1800, &ev), &ev, VX_VEC_GP); /* item 71 */
	vx_cpu_destroy(cpu);

	/* No XSAVES (CPUID.(0xD,1):EAX[3] = 0) → #UD; no XSAVEC → compacted XRSTOR #GP. */
	r.eax &= ~0xAu;
	vx_profile_set_leaf(&p, 0xD, 1, &r);
	cpu = make_from(&p, 0x3, 0);
	expect_fault(run(cpu, VX_INSN_XSAVES64, 0, 0x3, &ev), &ev, VX_VEC_UD);
	expect_fault(run(cpu, VX_INSN_XSAVEC64, 0, 0x3, &ev), &ev, VX_VEC_UD);
	header(0, UINT64_C(0x8000000000000003));
	expect_fault(run(cpu, VX_INSN_XRSTOR64, 0, 0x3, &ev), &ev, VX_VEC_GP); /* item 59 */
	vx_cpu_destroy(cpu);
}

/* ---- XRSTOR / XRSTORS ---- */

static void test_xrstor_header_checks(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x7, 0);
	struct vx_event ev;

	(void)state;
	memset(area, 0, 1024);
	area[0] = 0x7F, area[1] = 0x03, area[24] = 0x80, area[25] = 0x1F;
	header(B(63), 0);
	expect_fault(run(cpu, VX_INSN_XRSTOR64, 0, 7, &ev), &ev, VX_VEC_GP); /* item 55 */
	header(0, 0);
	area[530] = 1;
	expect_fault(run(cpu, VX_INSN_XRSTOR64, 0, 7, &ev), &ev, VX_VEC_GP); /* item 57 */
	header(0, 0);
	area[540] = 1;
	assert_int_equal(run(cpu, VX_INSN_XRSTOR64, 0, 7, &ev), 0);
	header(0x7, UINT64_C(0x8000000000000003));
	expect_fault(run(cpu, VX_INSN_XRSTOR64, 0, 7, &ev), &ev, VX_VEC_GP); /* item 61 */
	header(0, UINT64_C(0x8000000000000008));
	expect_fault(run(cpu, VX_INSN_XRSTOR64, 0, 7, &ev), &ev, VX_VEC_GP); /* not in XCR0 */
	header(0, UINT64_C(0x8000000000000007));
	area[570] = 1;
	expect_fault(run(cpu, VX_INSN_XRSTOR64, 0, 7, &ev), &ev, VX_VEC_GP);
	vx_cpu_destroy(cpu);
}

static void test_xrstor_init_and_load(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x7, 0);
	struct vx_event ev;

	(void)state;
	set_bytes(cpu, "ymmh4", 0x44);
	memset(area, 0, 1024);
	area[0] = 0x7F, area[1] = 0x03, area[24] = 0xC0, area[25] = 0x1F;
	memset(area + 160, 0x66, 16);
	header(0x2, 0);
	assert_int_equal(run(cpu, VX_INSN_XRSTOR64, 0, 7, &ev), 0); /* item 63 */
	assert_int_equal(reg_byte(cpu, "ymmh4", 0), 0);		/* AVX initialized */
	assert_int_equal(reg_byte(cpu, "xmm0", 0), 0x66);
	assert_int_equal(get_mxcsr(cpu), 0x1FC0);
	assert_int_equal(vx_cpu_xinuse(cpu) & 7, 0x2);
	assert_int_equal(vx_cpu_xmodified(cpu) & 7, 0);
	/* item 65: RFBM = AVX only loads MXCSR from area+24 and leaves XMM. */
	area[24] = 0x80;
	memset(area + 160, 0x77, 16);
	assert_int_equal(run(cpu, VX_INSN_XRSTOR64, 0, 0x4, &ev), 0);
	assert_int_equal(get_mxcsr(cpu), 0x1F80);
	assert_int_equal(reg_byte(cpu, "xmm0", 0), 0x66);
	vx_cpu_destroy(cpu);
}

static void test_xrstor_compacted_mxcsr(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x7, 0);
	struct vx_event ev;

	(void)state;
	set_bytes(cpu, "xmm2", 0x22);
	set_mxcsr(cpu, 0x1FC0);
	header(0, UINT64_C(0x8000000000000003));
	put_q(24, UINT64_C(0xFFFFFFFFFFFFFFFF)); /* bad MXCSR, not examined: items 67, 69 */
	assert_int_equal(run(cpu, VX_INSN_XRSTOR64, 0, 0x2, &ev), 0);
	assert_int_equal(reg_byte(cpu, "xmm2", 0), 0);
	assert_int_equal(get_mxcsr(cpu), 0x1F80);
	/* Standard form with a bad MXCSR: #GP and nothing changes. */
	set_bytes(cpu, "xmm2", 0x22);
	header(0x2, 0);
	put_q(24, 0x11F80);
	expect_fault(run(cpu, VX_INSN_XRSTOR64, 0, 0x2, &ev), &ev, VX_VEC_GP);
	assert_int_equal(reg_byte(cpu, "xmm2", 0), 0x22);
	vx_cpu_destroy(cpu);
}

static void test_xrstor_xinuse_of_init_values(void **state)
{
	struct vx_cpu *amd = make("zen4", 0x7, 0);
	struct vx_cpu *intel = make("sapphire-rapids", 0x7, 0);
	struct vx_event ev;

	(void)state;
	memset(area, 0, 1024);
	area[0] = 0x7F, area[1] = 0x03, area[24] = 0x80, area[25] = 0x1F;
	header(0x7, 0);
	assert_int_equal(run(amd, VX_INSN_XRSTOR64, 0, 7, &ev), 0);
	assert_int_equal(vx_cpu_xinuse(amd), 0); /* hardware-behaviour.md A.1 */
	assert_int_equal(run(intel, VX_INSN_XRSTOR64, 0, 7, &ev), 0);
	assert_int_equal(vx_cpu_xinuse(intel), 7); /* arch.md §4 as written */
	vx_cpu_destroy(amd);
	vx_cpu_destroy(intel);
}

static void test_xrstors_cet_checks(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x3, 0x1800);
	struct vx_event ev;
	uint64_t v;

	(void)state;
	memset(area, 0, 1024);
	header(0x800, UINT64_C(0x8000000000001800));
	put_q(576, 0x40); /* item 73 */
	expect_fault(run(cpu, VX_INSN_XRSTORS64, 0, 0x1800, &ev), &ev, VX_VEC_GP);
	put_q(576, 0);
	put_q(584, UINT64_C(0x0100000000000000)); /* item 75 */
	expect_fault(run(cpu, VX_INSN_XRSTORS64, 0, 0x1800, &ev), &ev, VX_VEC_GP);
	put_q(584, 0x1002);
	expect_fault(run(cpu, VX_INSN_XRSTORS64, 0, 0x1800, &ev), &ev, VX_VEC_GP);
	put_q(584, 0x1008);
	put_q(576, 0x5);
	assert_int_equal(run(cpu, VX_INSN_XRSTORS64, 0, 0x1800, &ev), 0);
	assert_int_equal(vx_cpu_rdmsr(cpu, VX_MSR_IA32_PL3_SSP, &v, &ev), 0);
	assert_int_equal(v, 0x1008);
	assert_int_equal(vx_cpu_rdmsr(cpu, VX_MSR_IA32_U_CET, &v, &ev), 0);
	assert_int_equal(v, 0x5);
	header(0, 0x1800); /* item 71: XRSTORS needs the compacted form */
	expect_fault(run(cpu, VX_INSN_XRSTORS64, 0, 0x1800, &ev), &ev, VX_VEC_GP);
	vx_cpu_destroy(cpu);
}

/* ---- XFD ---- */

static void test_xfd(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x60003, 0);
	struct vx_event ev;
	uint64_t v;

	(void)state;
	set_bytes(cpu, "tmm3", 0x33);
	assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_XFD, B(18), &ev), 0);
	assert_int_equal(run(cpu, VX_INSN_XSAVE64, 0, ~UINT64_C(0), &ev), 0); /* item 77 */
	assert_int_equal(q(512) & B(18), 0);
	assert_true(all_bytes(2816, 11008, 0));
	header(B(18), 0);
	expect_fault(run(cpu, VX_INSN_XRSTOR64, 0, ~UINT64_C(0), &ev), &ev, VX_VEC_NM); /* 79 */
	assert_int_equal(vx_cpu_rdmsr(cpu, VX_MSR_IA32_XFD_ERR, &v, &ev), 0);
	assert_int_equal(v, B(18));
	assert_int_equal(reg_byte(cpu, "tmm3", 0), 0x33);
	assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_XFD_ERR, 0, &ev), 0);
	expect_fault(vx_cpu_use(cpu, B(17) | B(18), &ev), &ev, VX_VEC_NM); /* item 81 */
	assert_int_equal(vx_cpu_rdmsr(cpu, VX_MSR_IA32_XFD_ERR, &v, &ev), 0);
	assert_int_equal(v, B(18));
	expect_fault(vx_cpu_wrmsr(cpu, VX_MSR_IA32_XFD, B(17), &ev), &ev, VX_VEC_GP);
	vx_cpu_destroy(cpu);
}

static void test_ts_nm_leaves_xfd_err(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x7, 0);
	struct vx_event ev;
	uint64_t v;

	(void)state;
	set_control(cpu, 0, VX_MODE_64BIT, VX_CR0_TS);
	expect_fault(vx_cpu_use(cpu, 0x4, &ev), &ev, VX_VEC_NM);
	assert_int_equal(vx_cpu_rdmsr(cpu, VX_MSR_IA32_XFD_ERR, &v, &ev), 0);
	assert_int_equal(v, 0);
	expect_fault(vx_cpu_use(cpu, B(9), &ev), &ev, VX_VEC_UD); /* PKRU not in XCR0 */
	vx_cpu_destroy(cpu);
}

/* ---- MSRs ---- */

static void test_cet_msrs(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x3, 0);
	struct vx_event ev;
	uint64_t v;

	(void)state;
	expect_fault(vx_cpu_wrmsr(cpu, VX_MSR_IA32_U_CET, 0x40, &ev), &ev, VX_VEC_GP);  /* 83 */
	expect_fault(vx_cpu_wrmsr(cpu, VX_MSR_IA32_U_CET, 0xC00, &ev), &ev, VX_VEC_GP);
	assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_U_CET, 0x400, &ev), 0);
	expect_fault(vx_cpu_wrmsr(cpu, VX_MSR_IA32_S_CET, UINT64_C(0x0100000000000000), &ev), &ev,
		     VX_VEC_GP); /* item 85 */
	expect_fault(vx_cpu_wrmsr(cpu, VX_MSR_IA32_PL0_SSP, UINT64_C(0x0100000000000000), &ev),
		     &ev, VX_VEC_GP); /* item 87 */
	expect_fault(vx_cpu_wrmsr(cpu, VX_MSR_IA32_PL0_SSP, 0x1002, &ev), &ev, VX_VEC_GP);
	assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_PL0_SSP, 0x1004, &ev), 0);
	assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_INT_SSP_TAB, 0x1001, &ev), 0);
	assert_int_equal(vx_cpu_rdmsr(cpu, VX_MSR_IA32_INT_SSP_TAB, &v, &ev), 0);
	assert_int_equal(v, 0x1001);
	assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_XSS, 0x1800, &ev), 0); /* item 25 */
	expect_fault(vx_cpu_wrmsr(cpu, VX_MSR_IA32_XSS, B(63), &ev), &ev, VX_VEC_GP);
	set_control(cpu, 3, VX_MODE_64BIT, 0);
	expect_fault(vx_cpu_rdmsr(cpu, VX_MSR_IA32_U_CET, &v, &ev), &ev, VX_VEC_GP);
	vx_cpu_destroy(cpu);
}

static void test_cet_msrs_without_ibt(void **state)
{
	struct vx_cpu *cpu = make("zen4", 0x3, 0);
	struct vx_event ev;
	uint64_t v;

	(void)state;
	expect_fault(vx_cpu_wrmsr(cpu, VX_MSR_IA32_U_CET, 0x4, &ev), &ev, VX_VEC_GP); /* §7.12 */
	expect_fault(vx_cpu_wrmsr(cpu, VX_MSR_IA32_U_CET, 0x400, &ev), &ev, VX_VEC_GP);
	assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_U_CET, 0x3, &ev), 0);
	expect_fault(vx_cpu_rdmsr(cpu, VX_MSR_IA32_XFD, &v, &ev), &ev, VX_VEC_GP); /* no XFD */
	vx_cpu_destroy(cpu);
}

/* ---- control, compare, dump, images, names ---- */

static void test_control_cet_wp(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids", 0x3, 0);
	struct vx_cpu_control c, orig;
	struct vx_event ev;

	(void)state;
	vx_cpu_get_control(cpu, &orig);
	c = orig;
	c.cr0 &= ~VX_CR0_WP;
	c.cr4 |= VX_CR4_CET;
	expect_fault(vx_cpu_set_control(cpu, &c, &ev), &ev, VX_VEC_GP);
	c = orig;
	c.cr4 |= VX_CR4_CET;
	assert_int_equal(vx_cpu_set_control(cpu, &c, &ev), 0);
	c.cr0 &= ~VX_CR0_WP;
	expect_fault(vx_cpu_set_control(cpu, &c, &ev), &ev, VX_VEC_GP);
	vx_cpu_destroy(cpu);
}

static void test_compare_and_dump(void **state)
{
	struct vx_cpu *a = make("sapphire-rapids", 0x7, 0);
	struct vx_cpu *b = make("sapphire-rapids", 0x7, 0);
	const struct vx_reg_info *xmm3 = vx_reg_lookup("xmm3");
	uint8_t v[16] = {0};
	char where[128], text[8192];
	size_t needed = 0;
	struct vx_event ev;

	(void)state;
	assert_int_equal(vx_cpu_compare(a, b, ~UINT64_C(0), where, sizeof(where)), 0);
	v[5] = 0x12;
	assert_int_equal(vx_cpu_set_reg(a, xmm3, v, 16, &ev), 0);
	assert_int_equal(vx_cpu_compare(a, b, ~UINT64_C(0), where, sizeof(where)), 1);
	assert_string_equal(where, "xmm3 byte 5: 0x12 != 0x00");
	assert_int_equal(vx_cpu_compare(a, b, 0x4, where, sizeof(where)), 0);
	assert_int_equal(vx_cpu_copy(b, a), 0);
	assert_int_equal(vx_cpu_compare(a, b, ~UINT64_C(0), where, sizeof(where)), 0);
	assert_int_equal(vx_cpu_dump(a, text, 10, &needed), -ENOBUFS);
	assert_true(needed > 10);
	assert_int_equal(vx_cpu_dump(a, text, sizeof(text), &needed), 0);
	assert_non_null(strstr(text, "xcr0=0x7"));
	assert_non_null(strstr(text, "[2 AVX] (initial)"));
	assert_non_null(strstr(text, "xmm3=0x120000000000"));
	vx_cpu_destroy(a);
	vx_cpu_destroy(b);
}

static void test_standard_image_roundtrip(void **state)
{
	struct vx_cpu *a = make("zen4", 0x2E7, 0);
	struct vx_cpu *b = make("zen4", 0x2E7, 0);
	char where[128];

	(void)state;
	set_bytes(a, "zmm20", 0x20);
	set_bytes(a, "k3", 0x03);
	set_bytes(a, "ymmh7", 0x07);
	assert_int_equal(vx_cpu_to_standard_image(a, ~UINT64_C(0), saved, 100), -ENOBUFS);
	assert_int_equal(vx_cpu_to_standard_image(a, ~UINT64_C(0), saved, sizeof(saved)), 0);
	assert_int_equal(saved[1408 + 4 * 64], 0x20); /* zen4: Hi16_ZMM at 1408 */
	assert_int_equal(vx_cpu_from_standard_image(b, ~UINT64_C(0), saved, sizeof(saved)), 0);
	assert_int_equal(vx_cpu_compare(a, b, ~UINT64_C(0), where, sizeof(where)), 0);
	assert_int_equal(vx_cpu_xinuse(b), B(2) | B(5) | B(7));
	vx_cpu_destroy(a);
	vx_cpu_destroy(b);
}

/*
 * Writing FCW with reserved bits set is normalized as FLDCW and XRSTOR do (bits 15:13 and 7
 * read 0, bit 6 reads 1: hardware-behaviour.md), so the value survives XSAVE + XRSTOR.
 */
static void test_fcw_write_normalized_like_xrstor(void **state)
{
	struct vx_cpu *cpu = make("zen4", 0x3, 0);
	const struct vx_reg_info *fcw = vx_reg_lookup("fcw");
	uint8_t value[2] = {0xF4, 0xFF}, back[2];
	struct vx_event ev;

	(void)state;
	assert_non_null(fcw);
	assert_int_equal(vx_cpu_set_reg(cpu, fcw, value, 2, &ev), 0);
	assert_int_equal(vx_cpu_get_reg(cpu, fcw, back, 2), 0);
	/* 0xFFF4 & 0x1F3F = 0x1F34, | 0x0040 = 0x1F74 */
	assert_int_equal(back[0] | back[1] << 8, 0x1F74);
	memset(area, 0, 1024);
	assert_int_equal(run(cpu, VX_INSN_XSAVE64, 0, 0x1, &ev), 0);
	assert_int_equal(run(cpu, VX_INSN_XRSTOR64, 0, 0x1, &ev), 0);
	assert_int_equal(vx_cpu_get_reg(cpu, fcw, back, 2), 0);
	assert_int_equal(back[0] | back[1] << 8, 0x1F74);
	vx_cpu_destroy(cpu);
}

static void test_names(void **state)
{
	struct vx_event ev = {0};
	char buf[64];

	(void)state;
	assert_string_equal(vx_insn_name(VX_INSN_XSAVEC64), "XSAVEC64");
	assert_int_equal(vx_insn_by_name("xrstors"), VX_INSN_XRSTORS);
	assert_int_equal(vx_insn_by_name("nope"), -1);
	assert_string_equal(vx_msr_name(VX_MSR_IA32_XSS), "IA32_XSS");
	ev.kind = VX_EVENT_EXCEPTION;
	ev.vector = VX_VEC_GP;
	assert_string_equal(vx_event_name(&ev, buf, sizeof(buf)), "#GP(0)");
	ev.kind = VX_EVENT_VMEXIT;
	ev.exit_reason = VX_EXIT_XSETBV;
	assert_string_equal(vx_event_name(&ev, buf, sizeof(buf)), "VM exit 55 (XSETBV)");
	assert_non_null(vx_reg_lookup("PL0_SSP"));
	assert_int_equal(vx_reg_lookup("r17")->offset, 8);
	assert_null(vx_reg_lookup("xmm16"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_on_state),
		cmocka_unit_test(test_fcw_write_normalized_like_xrstor),
		cmocka_unit_test(test_xsetbv_rules),
		cmocka_unit_test(test_xsetbv_vmx_and_cpl),
		cmocka_unit_test(test_xgetbv1),
		cmocka_unit_test(test_xsave_standard_area),
		cmocka_unit_test(test_xsave_mxcsr_rules),
		cmocka_unit_test(test_xsave_faults),
		cmocka_unit_test(test_xsave_compat_mode),
		cmocka_unit_test(test_xsave_fcs_fds),
		cmocka_unit_test(test_xsave_fcs_deprecated),
		cmocka_unit_test(test_xsaveopt_skips),
		cmocka_unit_test(test_xsavec_init_and_mxcsr),
		cmocka_unit_test(test_xsavec_offsets),
		cmocka_unit_test(test_xsaves_cet),
		cmocka_unit_test(test_xsaves_faults),
		cmocka_unit_test(test_xrstor_header_checks),
		cmocka_unit_test(test_xrstor_init_and_load),
		cmocka_unit_test(test_xrstor_compacted_mxcsr),
		cmocka_unit_test(test_xrstor_xinuse_of_init_values),
		cmocka_unit_test(test_xrstors_cet_checks),
		cmocka_unit_test(test_xfd),
		cmocka_unit_test(test_ts_nm_leaves_xfd_err),
		cmocka_unit_test(test_cet_msrs),
		cmocka_unit_test(test_cet_msrs_without_ibt),
		cmocka_unit_test(test_control_cet_wp),
		cmocka_unit_test(test_compare_and_dump),
		cmocka_unit_test(test_standard_image_roundtrip),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
