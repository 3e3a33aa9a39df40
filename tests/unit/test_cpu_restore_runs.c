/* SPDX-License-Identifier: MIT */
/*
 * XRSTOR64 reuses its last copy plan while the format and the loaded components repeat
 * (issue 9, docs/cpu-model.md "Speed"): the same XSTATE_BV restored from a compacted image of
 * one XCOMP_BV, then a standard image, then a compacted image of another XCOMP_BV must load
 * every component from where that image keeps it (arch.md §2.3 standard offsets, §2.4
 * compacted offsets: ascending from byte 576, each component 64-byte aligned when
 * CPUID.(0xD,i):ECX[1] = 1).  Expected places come from the profile's CPUID leaf 0xD, not
 * from the cpu layer; the loaded bytes are read back through the standard image.  On
 * sapphire-rapids (AVX-512, PKRU, AMX: offsets differ between the forms and formats).  The
 * seed is fixed and printed.
 */
#include "cpu_test_util.h"

#define ROUNDS	     150
#define IMAGE_SIZE   16384u
#define SEED_RUNS    UINT64_C(0x5eed0209)
#define LEGACY_BYTES 512u

struct place {
	uint32_t offset[64], size[64];
};

/* §2.3: the standard place of component @i is CPUID.(0xD,i): EBX, its size EAX. */
static void standard_places(const struct vx_profile *p, uint64_t xcr0, struct place *pl)
{
	memset(pl, 0, sizeof(*pl));
	for (unsigned i = 2; i < 64; i++) {
		struct vx_cpuid_regs r = vx_profile_leaf(p, 0xD, i);

		if (xcr0 >> i & 1) {
			pl->offset[i] = r.ebx;
			pl->size[i] = r.eax;
		}
	}
}

/* §2.4: compacted places for XCOMP_BV[62:0] = @format, from 576 in ascending order. */
static void compacted_places(const struct vx_profile *p, uint64_t format, struct place *pl)
{
	uint32_t at = 576;

	memset(pl, 0, sizeof(*pl));
	for (unsigned i = 2; i < 63; i++) {
		struct vx_cpuid_regs r = vx_profile_leaf(p, 0xD, i);

		if (!(format >> i & 1))
			continue;
		if (r.ecx & 2u)
			at = (at + 63u) & ~63u;
		pl->offset[i] = at;
		pl->size[i] = r.eax;
		at += r.eax;
	}
}

/* An image of @bv at @pl with random component bytes (TILECFG 0: a valid palette, §3.1). */
static void build_image(uint64_t *seed, const struct place *pl, uint64_t bv, uint64_t xcomp_bv,
			uint8_t *img)
{
	uint32_t mxcsr = 0x1F80;

	memset(img, 0, IMAGE_SIZE);
	memcpy(img + VX_MXCSR_OFFSET, &mxcsr, 4);
	for (unsigned i = 2; i < 64; i++)
		for (uint32_t b = 0; (bv >> i & 1) && b < pl->size[i]; b += 8) {
			uint64_t v = i == VX_COMP_XTILECFG ? 0 : tu_rand(seed);

			memcpy(img + pl->offset[i] + b, &v, 8);
		}
	memcpy(img + VX_XSTATE_BV_OFFSET, &bv, 8);
	memcpy(img + VX_XSTATE_BV_OFFSET + 8, &xcomp_bv, 8);
}

/* XRSTOR64 of @img, then each component of @bv holds the image's bytes at @pl (§5.5). */
static unsigned restore_and_check(struct tu *t, uint64_t xcr0, uint64_t bv, const uint8_t *img,
				  const struct place *pl, const char *name)
{
	static uint8_t std[IMAGE_SIZE];
	struct place sp;
	struct vx_event ev;
	unsigned failures = 0;
	int rc;

	memcpy(t->buf, img, IMAGE_SIZE);
	memset(&ev, 0, sizeof(ev));
	rc = vx_cpu_exec(t->cpu, VX_INSN_XRSTOR64, 0, &t->mem, TU_BASE, TU_ALL, &ev);
	TU_CHECK(rc == 0, "%s: XRSTOR64 = %d: %s", name, rc, ev.reason);
	TU_CHECK(vx_cpu_to_standard_image(t->cpu, xcr0, std, IMAGE_SIZE) == 0, "standard image");
	standard_places(&t->profile, xcr0, &sp);
	for (unsigned i = 2; i < 64; i++)
		if (bv >> i & 1)
			TU_CASE_CHECK(
			    failures,
			    memcmp(std + sp.offset[i], img + pl->offset[i], sp.size[i]) == 0, name,
			    "component %u not loaded from image offset %u", i, pl->offset[i]);
	return failures;
}

/* One XSTATE_BV in three forms back to back: compacted A, standard, compacted B. */
static unsigned round_trip(struct tu *t, uint64_t *seed, uint64_t xcr0, uint8_t *img,
			   unsigned round)
{
	uint64_t bv = (tu_rand(seed) & xcr0) | 3u;
	uint64_t formats[2] = {bv | (tu_rand(seed) & xcr0), bv | (tu_rand(seed) & xcr0)};
	struct place pl;
	unsigned failures = 0;
	char name[160];

	for (unsigned k = 0; k < 3; k++) {
		uint64_t format = formats[k / 2];

		if (k == 1)
			standard_places(&t->profile, xcr0, &pl);
		else
			compacted_places(&t->profile, format, &pl);
		build_image(seed, &pl, bv, k == 1 ? 0 : format | VX_XCOMP_BV_COMPACTED, img);
		snprintf(name, sizeof(name), "round %u, XSTATE_BV 0x%llx, %s 0x%llx", round,
			 (unsigned long long)bv, k == 1 ? "standard" : "XCOMP_BV[62:0]",
			 (unsigned long long)(k == 1 ? 0 : format));
		failures += restore_and_check(t, xcr0, bv, img, &pl, name);
	}
	return failures;
}

static void test_same_mask_other_format(void **state)
{
	uint8_t *img = malloc(IMAGE_SIZE);
	uint64_t seed = SEED_RUNS, xcr0;
	unsigned failures = 0;
	struct tu t;

	(void)state;
	TU_CHECK(img != NULL, "out of memory");
	tu_open(&t, "sapphire-rapids");
	xcr0 = vx_profile_xcr0_supported(&t.profile);
	tu_xsetbv(&t, xcr0);
	print_message("sapphire-rapids: XCR0 0x%llx, seed 0x%llx, %u rounds\n",
		      (unsigned long long)xcr0, (unsigned long long)seed, ROUNDS);
	for (unsigned round = 0; round < ROUNDS; round++)
		failures += round_trip(&t, &seed, xcr0, img, round);
	tu_close(&t);
	free(img);
	TU_CHECK(failures == 0, "%u component(s) loaded from the wrong place", failures);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_mask_other_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
