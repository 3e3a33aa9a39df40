/* SPDX-License-Identifier: MIT */
/*
 * The arch layer's layouts against the real instructions of this machine (x86-64 only).
 *
 * 1. vx_profile_from_host(); XCR0 from vx_host_xgetbv(0); vx_standard_size(host, XCR0) must
 *    equal CPUID.(0xD,0).EBX read with the CPUID instruction, and some XSS subset must give
 *    CPUID.(0xD,1).EBX through vx_compacted_size (IA32_XSS is not readable from user mode).
 * 2. Distinctive patterns are loaded into the registers of every enabled user component
 *    (x87, XMM/MXCSR, YMM, k0-k7, ZMM0-31) and saved with the REAL XSAVEC64 (RFBM = XCR0), in
 *    one asm block so that no compiled code can clobber a vector register in between.  Each
 *    pattern is then found by scanning the area, and must sit exactly where
 *    vx_compacted_offset() says; XCOMP_BV = 2^63 | XCR0; the last component ends at
 *    vx_compacted_size(); bytes past it, bytes 464-511 and header bytes 16-63 are untouched.
 * 3. The same with XSAVE64 (standard format) against the host profile's standard offsets.
 * A machine that is not x86-64, or has no XSAVE/OSXSAVE/XSAVEC, skips (exit 77) saying why.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/arch.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>

#define B(n) VX_BIT(n)

/* What the asm block loads and which instruction it runs. */
#define F_AVX      1u /* load YMM0-15 (XCR0[2:1] = 11b) */
#define F_AVX512   2u /* load ZMM0-31 and k0-k7 (XCR0[7:5] = 111b and AVX512F) */
#define F_BW       4u /* kmovq (AVX512BW) rather than kmovw */
#define F_STANDARD 8u /* XSAVE64 instead of XSAVEC64 */

#define AREA_SIZE 65536u

/* x87: FNINIT; FLDZ; FLD1 -> ST0 = 1.0, ST1 = +0.0, TOP = 6, abridged FTW = 0xC0. */
static const uint8_t st0_one[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x3F};
static const uint8_t st1_zero[10] = {0};
#define TEST_MXCSR 0x9F80u /* default masks + FTZ: not the init value 0x1F80 */

struct patterns {
	_Alignas(64) uint8_t vec[32][64]; /* ZMM0-31 (YMM/XMM are prefixes) */
	uint64_t k[8];
};

static struct patterns pat;
static struct vx_profile host;
static uint64_t xcr0;
static unsigned flags;

static void cpuid_insn(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void make_patterns(void)
{
	uint64_t s = 0xC0DEC0DE12345678u;

	for (unsigned r = 0; r < 32; r++)
		for (unsigned b = 0; b < 64; b += 8) {
			uint64_t v = xorshift64(&s);

			memcpy(&pat.vec[r][b], &v, 8);
		}
	for (unsigned r = 0; r < 32; r++)
		for (unsigned b = 0; b < 64; b++)
			if (pat.vec[r][b] == 0 || pat.vec[r][b] == 0xCC)
				pat.vec[r][b] = 0x5A;
	for (unsigned i = 0; i < 8; i++)
		pat.k[i] = xorshift64(&s) | 0x0101010101010101u;
}

#define S_(x) #x
#define S(x)  S_(x)
#define LD_X(i)   "movdqu " S(i) "*64(%[vec]), %%xmm" S(i) "\n\t"
#define LD_Y(i)   "vmovdqu " S(i) "*64(%[vec]), %%ymm" S(i) "\n\t"
#define LD_Z(i)   "vmovdqu64 " S(i) "*64(%[vec]), %%zmm" S(i) "\n\t"
#define LD_KQ(i)  "kmovq " S(i) "*8(%[k]), %%k" S(i) "\n\t"
#define LD_KW(i)  "kmovw " S(i) "*8(%[k]), %%k" S(i) "\n\t"
#define R0_7(M)   M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#define R8_15(M)  M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)
#define R16_23(M) M(16) M(17) M(18) M(19) M(20) M(21) M(22) M(23)
#define R24_31(M) M(24) M(25) M(26) M(27) M(28) M(29) M(30) M(31)

/*
 * Load the patterns into every register @fl says is enabled, then save with XSAVEC64 (or
 * XSAVE64) and RFBM = @rfbm, all in one asm block.  The AVX/AVX-512 instructions are only
 * executed when the matching flag is set, so the block runs on any x86-64 CPU.  MXCSR and the
 * x87 stack are restored afterwards; vector registers are declared clobbered (ZMM16-31 and
 * k0-k7 are caller-saved and never allocated by this non-AVX-512 translation unit).
 */
static void load_and_save(uint8_t *area, uint64_t rfbm, unsigned fl)
{
	uint32_t old_mxcsr = 0;
	const uint32_t new_mxcsr = TEST_MXCSR;

	__asm__ __volatile__(
		"fninit\n\t"
		"fldz\n\t"
		"fld1\n\t"
		"stmxcsr %[old]\n\t"
		"ldmxcsr %[new]\n\t"
		"testl $2, %[fl]\n\t"
		"jnz 3f\n\t"
		"testl $1, %[fl]\n\t"
		"jnz 2f\n\t"
		R0_7(LD_X) R8_15(LD_X)
		"jmp 6f\n"
		"2:\n\t"
		R0_7(LD_Y) R8_15(LD_Y)
		"jmp 6f\n"
		"3:\n\t"
		R0_7(LD_Z) R8_15(LD_Z) R16_23(LD_Z) R24_31(LD_Z)
		"testl $4, %[fl]\n\t"
		"jz 4f\n\t"
		R0_7(LD_KQ)
		"jmp 6f\n"
		"4:\n\t"
		R0_7(LD_KW)
		"6:\n\t"
		"testl $8, %[fl]\n\t"
		"jnz 7f\n\t"
		"xsavec64 (%[area])\n\t"
		"jmp 8f\n"
		"7:\n\t"
		"xsave64 (%[area])\n"
		"8:\n\t"
		"ldmxcsr %[old]\n\t"
		"testl $3, %[fl]\n\t"
		"jz 9f\n\t"
		"vzeroupper\n"
		"9:\n\t"
		"fninit\n\t"
		: [old] "+m"(old_mxcsr)
		: [new] "m"(new_mxcsr), [fl] "r"(fl), [vec] "r"(&pat.vec[0][0]), [k] "r"(&pat.k[0]),
		  [area] "r"(area), "a"((uint32_t)rfbm), "d"((uint32_t)(rfbm >> 32))
		: "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st",
		  "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
}

static uint32_t read_pkru(void)
{
	uint32_t eax, edx;

	/* RDPKRU (0F 01 EE) with ECX = 0. */
	__asm__ __volatile__(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	(void)edx;
	return eax;
}

static uint8_t *new_area(int fill)
{
	uint8_t *a = aligned_alloc(64, AREA_SIZE);

	assert_non_null(a);
	memset(a, fill, AREA_SIZE);
	return a;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static long find(const uint8_t *hay, size_t len, const void *needle, size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return (long)i;
	return -1;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* Where the save put component @id: compacted or standard offset. */
static uint32_t offset_of(bool standard, unsigned id)
{
	struct vx_component_desc d;

	if (!standard)
		return vx_compacted_offset(&host, xcr0, id);
	assert_true(vx_profile_component(&host, id, &d));
	return d.standard_offset;
}

/* Find @needle in the area and require it at @expected (reports where it really is). */
static void expect_at(const uint8_t *area, size_t len, const void *needle, size_t n,
		      uint32_t expected, const char *what)
{
	long got = find(area, len, needle, n);

	if (got < 0)
		fail_msg("%s: pattern not found in the saved area (expected at %u)", what, expected);
	if ((uint32_t)got != expected)
		fail_msg("%s: pattern found at %ld, vxsave says %u", what, got, expected);
}

/* The contents of every loaded register, at the offsets vxsave computes. */
static void check_contents(const uint8_t *area, bool standard)
{
	const char *fmt = standard ? "standard" : "compacted";
	uint64_t xstate_bv = rd64(area + VX_XSTATE_BV_OFFSET);
	char what[96];

	/* x87 (legacy region, both formats). */
	uint16_t fcw, fsw;

	memcpy(&fcw, area, 2);
	memcpy(&fsw, area + 2, 2);
	assert_int_equal(fcw, 0x037F);
	assert_int_equal((fsw >> 11) & 7, 6);
	assert_int_equal(area[4], 0xC0);
	assert_memory_equal(area + 32, st0_one, 10);
	assert_memory_equal(area + 48, st1_zero, 10);
	assert_true(xstate_bv & B(0));

	/* SSE: MXCSR and XMM0-15. */
	uint32_t mxcsr;

	memcpy(&mxcsr, area + VX_MXCSR_OFFSET, 4);
	assert_int_equal(mxcsr, TEST_MXCSR);
	if (host.mxcsr_mask) {
		uint32_t mask;

		memcpy(&mask, area + VX_MXCSR_MASK_OFFSET, 4);
		assert_int_equal(mask, host.mxcsr_mask);
	}
	for (unsigned i = 0; i < 16; i++) {
		snprintf(what, sizeof(what), "%s XMM%u", fmt, i);
		expect_at(area, AREA_SIZE, pat.vec[i], 16, VX_XMM_OFFSET + 16 * i, what);
	}
	assert_true(xstate_bv & B(1));

	if (flags & F_AVX) {
		uint32_t off = offset_of(standard, VX_COMP_AVX);

		assert_true(xstate_bv & B(2));
		for (unsigned i = 0; i < 16; i++) {
			snprintf(what, sizeof(what), "%s YMM%u[255:128] (component 2)", fmt, i);
			expect_at(area, AREA_SIZE, pat.vec[i] + 16, 16, off + 16 * i, what);
		}
	}
	if (flags & F_AVX512) {
		uint32_t off5 = offset_of(standard, VX_COMP_OPMASK);
		uint32_t off6 = offset_of(standard, VX_COMP_ZMM_HI256);
		uint32_t off7 = offset_of(standard, VX_COMP_HI16_ZMM);

		assert_true((xstate_bv & 0xE0) == 0xE0);
		for (unsigned i = 0; i < 8; i++) {
			uint64_t k = (flags & F_BW) ? pat.k[i] : (pat.k[i] & 0xFFFF);

			snprintf(what, sizeof(what), "%s k%u (component 5)", fmt, i);
			if (flags & F_BW)
				expect_at(area, AREA_SIZE, &k, 8, off5 + 8 * i, what);
			else
				assert_int_equal(rd64(area + off5 + 8 * i), k);
		}
		for (unsigned i = 0; i < 16; i++) {
			snprintf(what, sizeof(what), "%s ZMM%u[511:256] (component 6)", fmt, i);
			expect_at(area, AREA_SIZE, pat.vec[i] + 32, 32, off6 + 32 * i, what);
		}
		for (unsigned i = 0; i < 16; i++) {
			snprintf(what, sizeof(what), "%s ZMM%u (component 7)", fmt, 16 + i);
			expect_at(area, AREA_SIZE, pat.vec[16 + i], 64, off7 + 64 * i, what);
		}
	}
	if ((xcr0 & B(VX_COMP_PKRU)) && (xstate_bv & B(VX_COMP_PKRU))) {
		uint32_t pkru = read_pkru(), saved;

		memcpy(&saved, area + offset_of(standard, VX_COMP_PKRU), 4);
		assert_int_equal(saved, pkru);
	}
	/* Nothing outside XCR0 is ever marked. */
	assert_int_equal(xstate_bv & ~xcr0, 0);
}

static int setup(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	uint32_t r[4];

	(void)state;
	int ret = vx_profile_from_host(&host, &err);

	if (ret != 0) {
		print_error("vx_profile_from_host: %d: %s\n", ret, err.reason);
		return -1;
	}
	if (vx_host_xgetbv(0, &xcr0) != 0) {
		print_error("vx_host_xgetbv(0) failed\n");
		return -1;
	}
	flags = 0;
	if ((xcr0 & 0x6) == 0x6)
		flags |= F_AVX;
	cpuid_insn(7, 0, r);
	if ((xcr0 & 0xE6) == 0xE6 && (r[1] & (1u << 16)))
		flags |= F_AVX512;
	if (r[1] & (1u << 30))
		flags |= F_BW;
	make_patterns();
	print_message("host: XCR0 0x%llx, XSS mask 0x%llx, loading%s%s%s\n",
		      (unsigned long long)xcr0, (unsigned long long)vx_profile_xss_supported(&host),
		      " x87 SSE", (flags & F_AVX) ? " AVX" : "",
		      (flags & F_AVX512) ? ((flags & F_BW) ? " AVX-512(kmovq)" : " AVX-512(kmovw)")
					 : "");
	return 0;
}

/* 1. The sizes CPUID reports equal vxsave's calculation. */
static void test_host_sizes(void **state)
{
	uint32_t d0[4], d1[4];

	(void)state;
	cpuid_insn(0xD, 0, d0);
	cpuid_insn(0xD, 1, d1);
	assert_int_equal(vx_profile_xcr0_supported(&host), (uint64_t)d0[3] << 32 | d0[0]);
	assert_int_equal(xcr0 & ~vx_profile_xcr0_supported(&host), 0);
	assert_int_equal(vx_xcr0_check(&host, xcr0, NULL), 0);
	if (vx_standard_size(&host, xcr0) != d0[1])
		fail_msg("vx_standard_size(host, 0x%llx) = %u, CPUID.(0xD,0).EBX = %u",
			 (unsigned long long)xcr0, vx_standard_size(&host, xcr0), d0[1]);
	if (vx_standard_size(&host, vx_profile_xcr0_supported(&host)) != d0[2])
		fail_msg("standard size of the supported XCR0 = %u, CPUID.(0xD,0).ECX = %u",
			 vx_standard_size(&host, vx_profile_xcr0_supported(&host)), d0[2]);

	/* IA32_XSS is not readable here: some subset of the XSS mask must explain 0xD.1 EBX. */
	uint64_t xss_mask = vx_profile_xss_supported(&host);
	uint64_t s = 0;
	bool matched = false;

	do {
		if (vx_compacted_size(&host, xcr0 | s) == d1[1]) {
			print_message("CPUID.(0xD,1).EBX %u = compacted XCR0 0x%llx | XSS 0x%llx\n",
				      d1[1], (unsigned long long)xcr0, (unsigned long long)s);
			matched = true;
			break;
		}
		s = (s - xss_mask) & xss_mask; /* next subset */
	} while (s != 0);
	if (!matched)
		fail_msg("no XSS subset of 0x%llx gives CPUID.(0xD,1).EBX = %u with XCR0 0x%llx",
			 (unsigned long long)xss_mask, d1[1], (unsigned long long)xcr0);
}

/* 2. XSAVEC64 with RFBM = XCR0, zeroed area: every pattern where vx_compacted_offset says. */
static void test_host_xsavec_layout(void **state)
{
	uint8_t *area = new_area(0);
	uint32_t size = vx_compacted_size(&host, xcr0);

	(void)state;
	assert_true(size <= AREA_SIZE);
	load_and_save(area, xcr0, flags);

	assert_int_equal(rd64(area + VX_XCOMP_BV_OFFSET), VX_XCOMP_BV_COMPACTED | xcr0);
	check_contents(area, false);
	for (unsigned i = 2; i < VX_COMP_LIMIT; i++)
		if (xcr0 & B(i))
			print_message("compacted: component %u at %u (checked against XSAVEC where "
				      "a pattern was loaded)\n",
				      i, vx_compacted_offset(&host, xcr0, i));
	print_message("compacted size %u, XSTATE_BV 0x%llx\n", size,
		      (unsigned long long)rd64(area + VX_XSTATE_BV_OFFSET));

	/* The last component of XCR0 ends exactly at vx_compacted_size(). */
	unsigned last = 1;
	for (unsigned i = 2; i < VX_COMP_LIMIT; i++)
		if (xcr0 & B(i))
			last = i;
	if (last >= 2) {
		struct vx_component_desc d;

		vx_profile_component(&host, last, &d);
		assert_int_equal(vx_compacted_offset(&host, xcr0, last) + d.size, size);
		if (last == VX_COMP_HI16_ZMM && (flags & F_AVX512)) {
			/* Measured: ZMM31 is the last 64 bytes of the area XSAVEC wrote. */
			long z31 = find(area, AREA_SIZE, pat.vec[31], 64);

			assert_int_equal(z31 + 64, (long)size);
		}
	} else {
		assert_int_equal(size, VX_EXTENDED_OFFSET);
	}
	/* Zeroed area: nothing after the compacted size was written. */
	assert_true(all_bytes(area + size, AREA_SIZE - size, 0));
	free(area);
}

/* XSAVEC never writes bytes 464-511, header bytes 16-63, or past the compacted size. */
static void test_host_xsavec_untouched(void **state)
{
	uint8_t *area = new_area(0xCC);
	uint32_t size = vx_compacted_size(&host, xcr0);

	(void)state;
	load_and_save(area, xcr0, flags);
	assert_int_equal(rd64(area + VX_XCOMP_BV_OFFSET), VX_XCOMP_BV_COMPACTED | xcr0);
	assert_true(all_bytes(area + 464, 48, 0xCC));
	assert_true(all_bytes(area + VX_HEADER_OFFSET + 16, 48, 0xCC));
	assert_true(all_bytes(area + size, AREA_SIZE - size, 0xCC));
	free(area);
}

/* A smaller RFBM: components outside it take no space (XSAVEC with RFBM = XCR0 & 0x7). */
static void test_host_xsavec_small_rfbm(void **state)
{
	uint8_t *area = new_area(0xCC);
	uint64_t rfbm = xcr0 & 0x7;

	(void)state;
	load_and_save(area, rfbm, flags);
	assert_int_equal(rd64(area + VX_XCOMP_BV_OFFSET), VX_XCOMP_BV_COMPACTED | rfbm);
	if (flags & F_AVX) {
		assert_int_equal(vx_compacted_offset(&host, rfbm, 2), 576);
		expect_at(area, AREA_SIZE, pat.vec[0] + 16, 16, 576, "YMM0 high, RFBM 0x7");
	}
	uint32_t size = vx_compacted_size(&host, rfbm);

	assert_true(all_bytes(area + size, AREA_SIZE - size, 0xCC));
	if (flags & F_AVX512)
		assert_int_equal(find(area, AREA_SIZE, pat.vec[0] + 32, 32), -1);
	free(area);
}

/* 3. XSAVE64 (standard format): the host profile's standard offsets and 0xD.0 EBX. */
static void test_host_xsave_standard(void **state)
{
	uint8_t *area = new_area(0);
	uint32_t d0[4];

	(void)state;
	cpuid_insn(0xD, 0, d0);
	load_and_save(area, xcr0, flags | F_STANDARD);
	assert_int_equal(rd64(area + VX_XCOMP_BV_OFFSET), 0);
	check_contents(area, true);
	assert_true(all_bytes(area + d0[1], AREA_SIZE - d0[1], 0));
	free(area);

	area = new_area(0xCC);
	load_and_save(area, xcr0, flags | F_STANDARD);
	assert_true(all_bytes(area + 464, 48, 0xCC));
	assert_true(all_bytes(area + VX_HEADER_OFFSET + 8, 56, 0xCC));
	assert_true(all_bytes(area + vx_standard_size(&host, xcr0),
			      AREA_SIZE - vx_standard_size(&host, xcr0), 0xCC));
	free(area);
}

/* Returns false (after printing why) if this machine cannot run the test. */
static bool host_can_run(void)
{
	uint32_t r[4];

	cpuid_insn(0, 0, r);
	if (r[0] < 0xD) {
		printf("SKIP: CPUID leaf 0xD is not available (max basic leaf 0x%x)\n", r[0]);
		return false;
	}
	cpuid_insn(1, 0, r);
	if (!(r[2] & (1u << 26)) || !(r[2] & (1u << 27))) {
		printf("SKIP: XSAVE or OSXSAVE not enabled (CPUID.1:ECX = 0x%08x)\n", r[2]);
		return false;
	}
	cpuid_insn(0xD, 1, r);
	if (!(r[0] & (1u << 1))) {
		printf("SKIP: XSAVEC not supported (CPUID.(0xD,1).EAX = 0x%08x)\n", r[0]);
		return false;
	}
	cpuid_insn(0xD, 0, r);
	if (r[2] + 4096 > AREA_SIZE) {
		printf("SKIP: XSAVE area of %u bytes is larger than the test's buffer\n", r[2]);
		return false;
	}
	return true;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_sizes),
		cmocka_unit_test(test_host_xsavec_layout),
		cmocka_unit_test(test_host_xsavec_untouched),
		cmocka_unit_test(test_host_xsavec_small_rfbm),
		cmocka_unit_test(test_host_xsave_standard),
	};

	if (!host_can_run())
		return 77;
	return cmocka_run_group_tests(tests, setup, NULL);
}

#else

int main(void)
{
	printf("SKIP: test_arch_host_xsavec needs an x86-64 build (it runs XSAVEC/XSAVE)\n");
	return 77;
}

#endif
