/* SPDX-License-Identifier: MIT */
/*
 * vmm layer against this machine's real KVM (issue 10): blobs the real kernel produced.
 *
 *  1. Known registers go in with KVM_SET_XSAVE; the KVM_GET_XSAVE2 blob the real kernel gives
 *     back decodes (vx_vmm_xsave_decode/_reg) to exactly those registers - the expectation is
 *     the blob that was loaded, each register at the standard offset of the host's raw leaf
 *     0xD - for random XSTATE_BV subsets of what the host supports.
 *  2. validate agrees with the real KVM_SET_XSAVE - accept or refuse, and the errno - on
 *     valid blobs and at least 1 000 mutations of them (header bits, XCOMP_BV, reserved
 *     bytes, MXCSR, software bytes, state bytes); the model vCPU is set up as the real one
 *     (KVM_GET_SUPPORTED_CPUID → KVM_SET_CPUID2, no guest permission).
 *  3. A blob from an Intel-layout profile (sapphire-rapids, a KVM_GET_XSAVE2 buffer of 11008
 *     bytes) converted for this host and loaded through the real KVM reads back with the same
 *     register values; a blob with components this host lacks is refused by convert, and
 *     loaded raw the real KVM refuses it too (EINVAL).
 *
 * Needs a usable /dev/kvm (root): otherwise prints "SKIP: ..." and exits 77.  The seed is
 * fixed and printed; VXSAVE_VMM_SEED and VXSAVE_VMM_CASES override it and the number of
 * mutations (default 3 000).  VXSAVE_VMM_CAPTURE=DIR writes the captured blobs of part 1 to DIR
 * (how tests/fixtures/xsave/ was made, see its README).
 */
#define _GNU_SOURCE
#include "vmm_test_util.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vxsave/kvm_ioctl.h>

#define SKIP	     77
#define SEED	     UINT64_C(0x7265616c2d626c62)
#define CASES	     3000u
#define BUF	     16384u
#define NCPUID	     256u
#define CAPTURE_SEED UINT64_C(0x66697874757265) /* the fixtures' registers */

struct real {
	int sys, vm, vcpu;
	uint32_t size; /* KVM_CAP_XSAVE2: what KVM_SET_XSAVE reads, KVM_GET_XSAVE2 writes */
};

static struct real real;
static struct vx_profile host;
static struct vx_vmm_host *model_host;
static struct vx_vmm_vcpu *model;
static uint64_t seed;
static unsigned cases = CASES;
static _Alignas(64) uint8_t blob[BUF], got[BUF], conv[BUF];

static uint64_t env_u64(const char *name, uint64_t fallback)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : fallback;
}

/* ----------------------------------------------------------------------------------------- */
/* The real vCPU, set up as most VMMs do                                                        */

static bool real_up(struct real *r)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + NCPUID * sizeof(struct kvm_cpuid_entry2));
	int rc;

	r->sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	r->vm = r->sys < 0 ? -1 : ioctl(r->sys, KVM_CREATE_VM, 0);
	r->vcpu = r->vm < 0 ? -1 : ioctl(r->vm, KVM_CREATE_VCPU, 0);
	rc = r->vm < 0 ? -1 : ioctl(r->vm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	r->size = rc > 4096 ? (uint32_t)rc : 4096;
	if (!c || r->vcpu < 0) {
		free(c); /* found by clang-analyzer (make lint, issue 11) */
		return false;
	}
	c->nent = NCPUID;
	rc = ioctl(r->sys, KVM_GET_SUPPORTED_CPUID, c);
	if (rc == 0)
		rc = ioctl(r->vcpu, KVM_SET_CPUID2, c);
	free(c);
	return rc == 0;
}

static int real_set(const uint8_t *b)
{
	return ioctl(real.vcpu, KVM_SET_XSAVE, b) == 0 ? 0 : -errno;
}

static void real_get(uint8_t *b)
{
	memset(b, 0xEE, real.size);
	if (ioctl(real.vcpu, KVM_GET_XSAVE2, b) != 0)
		fail_msg("KVM_GET_XSAVE2: %s", strerror(errno));
}

static int setup(void **state)
{
	struct vx_vmm_host_options o;
	struct vx_vmm_vcpu_config cfg = {0};
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	if (!real_up(&real))
		fail_msg("cannot set up a real vCPU: %s", strerror(errno));
	if (vx_profile_from_host(&host, &err) != 0)
		fail_msg("host profile: %s", err.reason);
	vx_vmm_host_options_init(&o);
	o.live = true;
	if (vx_vmm_host_create(&host, &o, &model_host, &err) != 0 ||
	    vx_vmm_vcpu_create(model_host, &cfg, &model, &err) != 0)
		fail_msg("model of this host: %s", err.reason);
	printf("host: XCR0 mask 0x%llx, KVM_CAP_XSAVE2 %u, model flavour %s, uabi_size %u\n",
	       (unsigned long long)vt_user_mask(&host), real.size,
	       vx_kvm_flavour_name(vx_vmm_host_flavour(model_host)), vx_vmm_vcpu_uabi_size(model));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vx_vmm_vcpu_destroy(model);
	vx_vmm_host_destroy(model_host);
	close(real.vcpu);
	close(real.vm);
	close(real.sys);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* 1. Real blobs decode to the registers loaded                                                 */

/* Every named register of every component of @bv: decoded from @real_blob, expected from
 * @loaded at the raw leaf's standard offset (x87/SSE: their legacy places). */
static unsigned check_registers(const struct vx_profile *p, const uint8_t *loaded, uint64_t bv,
				const uint8_t *real_blob, size_t len)
{
	static struct vx_vmm_xsave_view v;
	struct vx_vmm_blob b = vt_parse(real_blob, len, VX_VMM_BLOB_AUTO);
	struct vx_error err = VX_ERROR_INIT;
	unsigned checked = 0;

	assert_int_equal(vx_vmm_xsave_decode(p, &b, &v, &err), 0);
	for (unsigned i = 0; i < vx_area_field_count(); i++) {
		const struct vx_area_field *f = vx_area_field_at(i);
		uint8_t value[1024];
		uint32_t off = 0, size = 0, w = 0;

		if (!(bv & ((uint64_t)1 << f->component)) || f->width == 0)
			continue;
		if (f->component > 1)
			vt_comp(p, f->component, &off, &size);
		assert_int_equal(vx_vmm_xsave_reg(&v, f->name, value, sizeof(value), &w, &err), 0);
		assert_int_equal(w, f->width);
		if (memcmp(value, loaded + off + f->offset, w) != 0)
			fail_msg("%s differs after the real KVM_GET_XSAVE2 (bv 0x%llx)", f->name,
				 (unsigned long long)bv);
		checked++;
	}
	return checked;
}

/* The blob a capture writes: registers from CAPTURE_SEED, so tests can rebuild them. */
static void capture(const char *dir, const char *name, const uint8_t *b, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b, 1, len, f) != len)
		fail_msg("cannot write %s", path);
	fclose(f);
	printf("captured %s (%zu bytes)\n", path, len);
}

static void test_real_blobs_decode(void **state)
{
	uint64_t user = vt_user_mask(&host);
	const char *dir = getenv("VXSAVE_VMM_CAPTURE");
	unsigned regs = 0;

	(void)state;
	for (unsigned r = 0; r < 40; r++) {
		uint64_t bv = r == 0 ? user : vt_next(&seed) & user;

		vt_kvm_blob(&host, bv, &seed, blob, real.size);
		assert_int_equal(real_set(blob), 0);
		real_get(got);
		/* §5.2: XSTATE_BV as loaded (all of it is guest-supported here). */
		assert_true(vt_get(got + 512, 8) == bv);
		regs += check_registers(&host, blob, bv, got, real.size);
	}
	printf("40 real KVM_GET_XSAVE2 blobs decoded: %u registers as loaded\n", regs);
	if (!dir)
		return;
	/* The fixtures: a pattern from CAPTURE_SEED with every component, SSE alone, init. */
	{
		uint64_t s = CAPTURE_SEED;

		vt_kvm_blob(&host, user, &s, blob, real.size);
		assert_int_equal(real_set(blob), 0);
		real_get(got);
		capture(dir, "host-xsave2-all.bin", got, real.size);
		s = CAPTURE_SEED;
		vt_kvm_blob(&host, 0x2, &s, blob, real.size);
		assert_int_equal(real_set(blob), 0);
		real_get(got);
		capture(dir, "host-xsave2-sse.bin", got, real.size);
		memset(blob, 0, real.size);
		assert_int_equal(real_set(blob), 0);
		real_get(got);
		capture(dir, "host-xsave2-init.bin", got, real.size);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* 2. validate agrees with the real KVM_SET_XSAVE                                               */

static void mutate_once(uint8_t *b)
{
	uint64_t r = vt_next(&seed), v = vt_next(&seed);
	unsigned bit = (unsigned)(v % 64 < 40 ? v % 20 : v % 64);

	switch (r % 10) {
	case 0: /* a header bit, mostly a known component */
		vt_put(b + 512, 8, vt_get(b + 512, 8) ^ ((uint64_t)1 << bit));
		break;
	case 1: /* XCOMP_BV: the compacted flag, a small mask, or anything */
		vt_put(b + 520, 8,
		       r & 16 ? (uint64_t)1 << 63 | (v & 0xff) : v & (r & 32 ? 0xff : ~0ull));
		break;
	case 2: /* a reserved header byte */
		b[528 + v % 48] = (uint8_t)(r >> 8) | 1;
		break;
	case 3: /* an MXCSR bit */
		vt_put(b + 24, 4, vt_get(b + 24, 4) ^ (1u << (v % 32)));
		break;
	case 4: /* XSTATE_BV without FP/SSE/YMM: MXCSR no longer checked */
		vt_put(b + 512, 8, vt_get(b + 512, 8) & ~(uint64_t)(v & 7));
		break;
	case 5: /* the software bytes */
		b[464 + v % 48] = (uint8_t)(r >> 8);
		break;
	case 6: /* any state byte */
		b[v % real.size] = (uint8_t)(r >> 8);
		break;
	case 7: /* MXCSR_MASK */
		vt_put(b + 28, 4, (uint32_t)v);
		break;
	case 8: /* XSTATE_BV all ones in the low word */
		vt_put(b + 512, 8, vt_get(b + 512, 8) | (v & 0xfffff));
		break;
	default: /* a valid header again (mutations that cancel out) */
		vt_put(b + 520, 8, 0);
		break;
	}
}

static void test_validate_agrees(void **state)
{
	static struct vx_vmm_validation val;
	uint64_t user = vt_user_mask(&host);
	unsigned accepted = 0, refused = 0, einval = 0;

	(void)state;
	for (unsigned i = 0; i < cases; i++) {
		struct vx_error err = VX_ERROR_INIT;
		struct vx_vmm_blob b;
		int want;

		vt_kvm_blob(&host, vt_next(&seed) & user, &seed, blob, real.size);
		for (unsigned m = i < 50 ? 0 : 1 + vt_next(&seed) % 3; m; m--)
			mutate_once(blob);
		want = real_set(blob);
		if (vx_vmm_blob_parse(blob, real.size, VX_VMM_BLOB_KVM2, &b, &err) != 0 &&
		    vx_vmm_blob_parse(blob, real.size, VX_VMM_BLOB_STANDARD, &b, &err) != 0)
			fail_msg("case %u: %s", i, err.reason);
		assert_int_equal(vx_vmm_xsave_validate(model, &b, 0, &val, &err), 0);
		if (val.rc != want)
			fail_msg(
			    "case %u: real KVM_SET_XSAVE %s, validate %s (%s); XSTATE_BV 0x%llx "
			    "XCOMP_BV 0x%llx MXCSR 0x%08x",
			    i, vx_errno_name(want), vx_errno_name(val.rc),
			    val.report.count ? val.report.items[0].err.reason : "-",
			    (unsigned long long)vt_get(blob + 512, 8),
			    (unsigned long long)vt_get(blob + 520, 8),
			    (unsigned)vt_get(blob + 24, 4));
		/* A refusal lists at least one rule; an acceptance none. */
		assert_int_equal(val.report.refusals == 0, want == 0);
		accepted += want == 0;
		refused += want != 0;
		einval += want == -EINVAL;
	}
	printf("validate vs real KVM_SET_XSAVE: %u blobs (%u accepted, %u refused, %u EINVAL), "
	       "0 disagreements\n",
	       cases, accepted, refused, einval);
	assert_true(cases >= 1000 && accepted > 50 && refused > 300);
}

/* ----------------------------------------------------------------------------------------- */
/* 3. An Intel-layout blob converted for this host                                              */

static void test_intel_blob_loads_here(void **state)
{
	static struct vx_vmm_report report;
	struct vx_profile spr;
	struct vx_vmm_converter c;
	struct vx_vmm_convert_options o;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_vmm_blob b;
	uint64_t common;
	unsigned regs = 0;

	(void)state;
	vt_profile(&spr, "sapphire-rapids");
	o = (struct vx_vmm_convert_options){&spr, &host, VX_VMM_BLOB_KVM2, real.size, 0, 0};
	assert_int_equal(vx_vmm_converter_init(&c, &o, &err), 0);
	common = vt_user_mask(&spr) & vt_user_mask(&host);
	for (unsigned r = 0; r < 20; r++) {
		uint64_t bv = r == 0 ? common : vt_next(&seed) & common;

		vt_kvm_blob(&spr, bv, &seed, blob, 11008); /* a KVM_GET_XSAVE2 buffer from SPR */
		b = vt_parse(blob, 11008, VX_VMM_BLOB_AUTO);
		assert_int_equal(vx_vmm_convert(&c, &b, conv, real.size, &report, &err), 0);
		assert_int_equal(real_set(conv), 0);
		real_get(got);
		/* The same registers, read on this host's layout, equal the Intel blob's. */
		regs += check_registers(&host, conv, bv, got, real.size);
		for (unsigned id = 2; id < 63; id++) {
			uint32_t so, ss, ho, hs;

			if (!(bv & ((uint64_t)1 << id)))
				continue;
			vt_comp(&spr, id, &so, &ss);
			vt_comp(&host, id, &ho, &hs);
			assert_memory_equal(blob + so, got + ho, ss);
		}
	}
	printf("sapphire-rapids blobs converted and loaded here: %u registers read back\n", regs);
	/* Components this host does not have: convert refuses, and so does the real KVM. */
	if ((vt_user_mask(&spr) & ~vt_user_mask(&host)) == 0)
		return;
	vt_kvm_blob(&spr, vt_user_mask(&spr) & ~(uint64_t)0x60000, &seed, blob, 11008);
	b = vt_parse(blob, 11008, VX_VMM_BLOB_AUTO);
	assert_int_equal(vx_vmm_convert(&c, &b, conv, real.size, &report, &err), -EINVAL);
	assert_true(report.refusals > 0);
	assert_int_equal(real_set(blob), -EINVAL);
	printf("sapphire-rapids XSTATE_BV 0x%llx: convert gives %u reasons, real KVM EINVAL\n",
	       (unsigned long long)vt_get(blob + 512, 8), report.refusals);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_blobs_decode),
	    cmocka_unit_test(test_validate_agrees),
	    cmocka_unit_test(test_intel_blob_loads_here),
	};
	char why[256];

	if (!vx_kvm_real_available(why, sizeof(why))) {
		printf("SKIP: %s\n", why);
		return SKIP;
	}
	seed = env_u64("VXSAVE_VMM_SEED", SEED);
	cases = (unsigned)env_u64("VXSAVE_VMM_CASES", CASES);
	printf("seed 0x%016llx, %u mutations\n", (unsigned long long)seed, cases);
	return cmocka_run_group_tests(tests, setup, teardown);
}
