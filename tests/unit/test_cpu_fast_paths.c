/* SPDX-License-Identifier: MIT */
/*
 * The speed paths of the model processor keep the architecture (issue 9, docs/cpu-model.md
 * "Speed"):
 *  - XRSTOR initializes only components in use (a component not in use is already initial):
 *    after every XRSTOR64 of a seeded random standard image over a seeded random state, each
 *    requested component the header does not name is all zeros (arch.md §5.5, §6), each one it
 *    names holds the image's bytes, and every component outside RFBM is unchanged - on an
 *    Intel profile and on an AMD one (whose XRSTOR tracks XINUSE by value, HB A.1), with
 *    AVX-512 and AMX state;
 *  - the one-copy legacy region of XSAVEC64 (x87 in its REX.W form, MXCSR, XMM0-15) is byte
 *    for byte what the standard image of the same registers holds, with the AMD rule that
 *    FOP/FIP/FDP read as 0 while FSW.ES = 0 (arch.md §2.2).
 * Expected places come from the profile's CPUID leaf 0xD (EBX offset, EAX size), not from the
 * cpu layer.  Seeds are fixed and printed.
 */
#include "cpu_test_util.h"

#define ROUNDS	     400
#define IMAGE_SIZE   16384u
#define SEED_RESTORE UINT64_C(0x5eed0009)
#define SEED_LEGACY  UINT64_C(0x5eed0109)
#define LEGACY_BYTES 416u /* x87 (0-159), MXCSR/MXCSR_MASK (24-31), XMM0-15 (160-415) */
#define FSW_ES	     0x80u
#define MXCSR_VALID  0x0000FFBFu /* every MXCSR bit the profiles' MXCSR_MASK allows */

/* Standard-format place of user component @i (CPUID.(0xD,i): EBX offset, EAX size). */
static void place(const struct vx_profile *p, unsigned i, uint32_t *offset, uint32_t *size)
{
	struct vx_cpuid_regs r = vx_profile_leaf(p, 0xD, i);

	*offset = r.ebx;
	*size = r.eax;
}

static void random_bytes(uint64_t *seed, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = tu_rand(seed);

		memcpy(out + i, &v, len - i < 8 ? len - i : 8);
	}
}

/* A valid standard image: random components of @bv, a loadable legacy region and header. */
static void random_image(const struct tu *t, uint64_t *seed, uint64_t xcr0, uint64_t bv,
			 uint8_t *img)
{
	uint32_t mxcsr = (uint32_t)tu_rand(seed) & MXCSR_VALID & vx_profile_mxcsr_mask(&t->profile);

	memset(img, 0, IMAGE_SIZE);
	random_bytes(seed, img, LEGACY_BYTES);
	memcpy(img + VX_MXCSR_OFFSET, &mxcsr, 4);
	memset(img + VX_MXCSR_MASK_OFFSET, 0, 4);
	for (unsigned i = 2; i < 64; i++) {
		uint32_t off, size;

		if (!((xcr0 & bv) >> i & 1))
			continue;
		place(&t->profile, i, &off, &size);
		random_bytes(seed, img + off, size);
	}
	if (bv & VX_BIT(VX_COMP_XTILECFG)) /* TILECFG: a valid palette 1 configuration (§3.1) */
		memset(img + vx_profile_leaf(&t->profile, 0xD, VX_COMP_XTILECFG).ebx, 0, 64);
	memcpy(img + VX_XSTATE_BV_OFFSET, &bv, 8);
}

static void standard_image(const struct tu *t, uint64_t xcr0, uint8_t *out)
{
	int rc = vx_cpu_to_standard_image(t->cpu, xcr0, out, IMAGE_SIZE);

	TU_CHECK(rc == 0, "vx_cpu_to_standard_image = %d", rc);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* After XRSTOR64 with @rfbm of @img over the state @before: §5.5 for every component >= 2. */
static unsigned check_restore(const struct tu *t, uint64_t xcr0, uint64_t rfbm, const uint8_t *img,
			      const uint8_t *before, const uint8_t *after, unsigned round)
{
	uint64_t bv;
	unsigned failures = 0;
	char name[160];

	memcpy(&bv, img + VX_XSTATE_BV_OFFSET, 8);
	snprintf(name, sizeof(name), "%s round %u", t->profile.name, round);
	for (unsigned i = 2; i < 64; i++) {
		uint32_t off, size;

		if (!(xcr0 >> i & 1))
			continue;
		place(&t->profile, i, &off, &size);
		if (!(rfbm >> i & 1))
			TU_CASE_CHECK(failures, memcmp(after + off, before + off, size) == 0, name,
				      "component %u outside RFBM 0x%llx changed", i,
				      (unsigned long long)rfbm);
		else if (bv >> i & 1)
			TU_CASE_CHECK(failures, memcmp(after + off, img + off, size) == 0, name,
				      "component %u was not loaded from the image", i);
		else
			TU_CASE_CHECK(failures, all_zero(after + off, size), name,
				      "component %u (RFBM 0x%llx, XSTATE_BV 0x%llx) is not initial",
				      i, (unsigned long long)rfbm, (unsigned long long)bv);
	}
	return failures;
}

/* One round: a random state (loaded image, then maybe a few register writes), then XRSTOR64. */
static unsigned restore_round(struct tu *t, uint64_t *seed, uint64_t xcr0, uint8_t *img,
			      uint8_t *before, uint8_t *after, unsigned round)
{
	uint64_t rfbm = tu_rand(seed) & xcr0, bv = tu_rand(seed) & xcr0;
	struct vx_event ev;
	int rc;

	random_image(t, seed, xcr0, tu_rand(seed) & xcr0, img);
	TU_CHECK(vx_cpu_from_standard_image(t->cpu, xcr0, img, IMAGE_SIZE) == 0, "load state");
	if (tu_rand(seed) & 1) /* VZEROUPPER: AVX and ZMM_Hi256 back to initial, not in use */
		TU_CHECK(vx_cpu_vzeroupper(t->cpu, &ev) == 0, "VZEROUPPER");
	standard_image(t, xcr0, before);
	random_image(t, seed, xcr0, bv, img);
	memcpy(t->buf, img, IMAGE_SIZE);
	memset(&ev, 0, sizeof(ev));
	rc = vx_cpu_exec(t->cpu, VX_INSN_XRSTOR64, 0, &t->mem, TU_BASE, rfbm, &ev);
	TU_CHECK(rc == 0, "%s round %u: XRSTOR64 RFBM 0x%llx = %d: %s", t->profile.name, round,
		 (unsigned long long)rfbm, rc, ev.reason);
	standard_image(t, xcr0, after);
	return check_restore(t, xcr0, rfbm, img, before, after, round);
}

static void restore_initializes(const char *profile)
{
	uint8_t *img = malloc(IMAGE_SIZE), *before = malloc(IMAGE_SIZE),
		*after = malloc(IMAGE_SIZE);
	uint64_t seed = SEED_RESTORE, xcr0;
	unsigned failures = 0;
	struct tu t;

	TU_CHECK(img && before && after, "out of memory");
	tu_open(&t, profile);
	xcr0 = vx_profile_xcr0_supported(&t.profile);
	tu_xsetbv(&t, xcr0);
	print_message("%s: XCR0 0x%llx, seed 0x%llx, %u rounds\n", profile,
		      (unsigned long long)xcr0, (unsigned long long)seed, ROUNDS);
	for (unsigned round = 0; round < ROUNDS; round++)
		failures += restore_round(&t, &seed, xcr0, img, before, after, round);
	tu_close(&t);
	free(img);
	free(before);
	free(after);
	TU_CHECK(failures == 0, "%u component(s) wrong after XRSTOR64", failures);
}

static void test_restore_initializes_intel(void **state)
{
	(void)state;
	restore_initializes("sapphire-rapids");
}

static void test_restore_initializes_amd(void **state)
{
	(void)state;
	restore_initializes("zen4");
}

/* XSAVEC64's legacy region against the standard image of the same registers (§2.2). */
static void legacy_one_copy(const char *profile, bool amd)
{
	uint8_t *img = malloc(IMAGE_SIZE), *std = malloc(IMAGE_SIZE);
	uint64_t seed = SEED_LEGACY, xcr0;
	unsigned failures = 0;
	struct tu t;

	TU_CHECK(img && std, "out of memory");
	tu_open(&t, profile);
	xcr0 = vx_profile_xcr0_supported(&t.profile);
	tu_xsetbv(&t, xcr0);
	print_message("%s: seed 0x%llx\n", profile, (unsigned long long)seed);
	for (unsigned round = 0; round < ROUNDS; round++) {
		struct vx_event ev;
		uint16_t fsw;
		char name[160];

		random_image(&t, &seed, xcr0, xcr0, img);
		TU_CHECK(vx_cpu_from_standard_image(t.cpu, xcr0, img, IMAGE_SIZE) == 0, "load");
		standard_image(&t, xcr0, std);
		memset(t.buf, TU_CANARY, IMAGE_SIZE);
		TU_CHECK(vx_cpu_exec(t.cpu, VX_INSN_XSAVEC64, 0, &t.mem, TU_BASE, TU_ALL, &ev) == 0,
			 "XSAVEC64: %s", ev.reason);
		snprintf(name, sizeof(name), "%s round %u", profile, round);
		TU_CASE_CHECK(failures, memcmp(t.buf, std, LEGACY_BYTES) == 0, name,
			      "XSAVEC64 bytes 0-415 differ from the standard image");
		memcpy(&fsw, t.buf + 2, 2);
		/* §2.2 (AMD): FOP, FIP, FDP read as 0 while FSW.ES = 0. */
		if (amd && !(fsw & FSW_ES))
			TU_CASE_CHECK(failures, all_zero(t.buf + 6, 18), name,
				      "FOP/FIP/FDP not 0 with FSW.ES = 0 on AMD");
	}
	tu_close(&t);
	free(img);
	free(std);
	TU_CHECK(failures == 0, "%u XSAVEC64 legacy region(s) wrong", failures);
}

static void test_legacy_one_copy_intel(void **state)
{
	(void)state;
	legacy_one_copy("sapphire-rapids", false);
}

static void test_legacy_one_copy_amd(void **state)
{
	(void)state;
	legacy_one_copy("zen4", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_restore_initializes_intel),
	    cmocka_unit_test(test_restore_initializes_amd),
	    cmocka_unit_test(test_legacy_one_copy_intel),
	    cmocka_unit_test(test_legacy_one_copy_amd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
