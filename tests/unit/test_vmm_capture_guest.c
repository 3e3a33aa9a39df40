/* SPDX-License-Identifier: MIT */
/*
 * `vxsave kvm capture` with the registers set by a guest under KVM_RUN (issue 10: "registers
 * set by a real guest where KVM_RUN works"; docs/vmm.md "Capture").
 *
 *  1. On this machine's /dev/kvm (SKIP, printed, without it): the captured bundle, decoded
 *     with the vmm layer's decoder on the live layout, holds exactly what the seed says the
 *     guest wrote - FCW, the x87 constants on the stack with TOP and the tags their pushes
 *     leave, MXCSR, XMM, the YMM upper halves (AVX in the guest XCR0), ZMM and k (AVX-512),
 *     PKRU - and XSTATE_BV is exactly the components the guest touched (plus SSE on a KVM
 *     with quirk pvm-cpl3-sse-in-use, for a guest XCR0 without it).  The blob is accepted by
 *     the real KVM_SET_XSAVE of a fresh vCPU and by validation on the model of this host.
 *  2. On the drop-in model of built-in profiles (Intel and AMD layouts, AVX-512 and PKRU
 *     where the profile has them; each flavour): the same values through the model's KVM_RUN.
 *  3. Real and model captures of one seed decode to the same registers.
 *  4. A guest that cannot run (the model without a guest program: KVM_RUN refused) falls back
 *     to KVM_SET_XSAVE, visibly: registers_set_by says so and the note names KVM_RUN.
 *  5. The bundle's "capture" object round-trips and malformed ones are refused by path.
 *
 * The expectation is computed here, not by the code under test: the seed's splitmix64
 * sequence in the documented draw order (vt_next of vmm_test_util.h), the x87 constants as
 * the compiler rounds their decimal values to the 64-bit significand (the x87's
 * round-to-nearest, SDM Vol. 1 §8.7.2), TOP and the abridged tags from the number of pushes
 * (arch.md §2.2), component offsets from the raw CPUID leaf 0xD.  Seeds fixed and printed.
 */
#define _GNU_SOURCE
#include "vmm_test_util.h"

#include <fcntl.h>
#include <float.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vxsave/kvm_ioctl.h>
#include <vxsave/vmm_compat.h>

#include "vmm/capture_guest.h"

#define C_X87	 UINT64_C(0x1)
#define C_SSE	 UINT64_C(0x2)
#define C_AVX	 UINT64_C(0x4)
#define C_AVX512 UINT64_C(0xE0) /* opmask, ZMM_Hi256, Hi16_ZMM (arch.md §3.1: together) */
#define C_PKRU	 UINT64_C(0x200)

static const uint32_t seeds[] = {1u, 0x5eed1234u, 0xfffffffeu};

/* ----------------------------------------------------------------------------------------- */
/* The expectation                                                                              */

struct expect {
	uint64_t touched;
	uint16_t fcw, fsw;
	uint8_t ftw;
	unsigned nst;
	uint8_t st[8][10];
	uint32_t mxcsr;
	uint8_t xmm[16][16], ymmh[16][16], zmmh[16][32], hi16[16][64];
	uint8_t k[8][8];
	uint32_t pkru;
};

/* FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ (D9 E8..EE): +1, log2(10), log2(e), pi,
 * log10(2), ln(2), +0 to 36 digits; the compiler rounds each to nearest in the 80-bit format. */
static void x87_constant(unsigned k, uint8_t out[10])
{
	static const long double v[7] = {
	    1.0L,
	    3.32192809488736234787031942948939018L,
	    1.44269504088896340735992468100189214L,
	    3.14159265358979323846264338327950288L,
	    0.301029995663981195213738894724493027L,
	    0.693147180559945309417232121458176568L,
	    0.0L,
	};

	memcpy(out, &v[k], 10);
}

static void draw(void *out, size_t n, uint64_t *s)
{
	for (size_t i = 0; i < n; i += 8)
		vt_put((uint8_t *)out + i, 8, vt_next(s));
}

/* The components a guest with XCR0 @xcr0 writes: each group only when XCR0 has all of it. */
static uint64_t touched_by(uint64_t xcr0)
{
	static const uint64_t groups[] = {C_X87, C_SSE, C_AVX, C_AVX512, C_PKRU};
	uint64_t m = 0;

	for (unsigned i = 0; i < 5; i++)
		m |= (xcr0 & groups[i]) == groups[i] ? groups[i] : 0;
	return m;
}

static void expect_x87(uint64_t d, struct expect *e)
{
	unsigned konst[8];

	e->fcw = (uint16_t)(0x0361 | (d & 0x1E));
	e->nst = 1 + (unsigned)((d >> 8) & 7);
	for (unsigned j = 0; j < 8; j++)
		konst[j] = (unsigned)((d >> (16 + 4 * j)) & 15) % 7;
	/* The last push is ST(0); TOP counts down from 0 (8 - n mod 8); the pushed physical
	 * registers TOP..7 are tagged valid in the abridged byte. */
	for (unsigned i = 0; i < e->nst; i++)
		x87_constant(konst[e->nst - 1 - i], e->st[i]);
	e->fsw = (uint16_t)(((8 - e->nst) & 7) << 11);
	e->ftw = (uint8_t)(0xFF << (8 - e->nst));
}

static void expect_of(uint32_t seed, uint64_t xcr0, struct expect *e)
{
	uint64_t s = seed;

	memset(e, 0, sizeof(*e));
	e->touched = touched_by(xcr0);
	expect_x87(vt_next(&s), e);
	e->mxcsr = 0x1F80u | (uint32_t)(vt_next(&s) & 0x603F);
	draw(e->xmm, sizeof(e->xmm), &s);
	if (e->touched & C_AVX)
		draw(e->ymmh, sizeof(e->ymmh), &s);
	if (e->touched & C_AVX512) {
		draw(e->zmmh, sizeof(e->zmmh), &s);
		draw(e->hi16, sizeof(e->hi16), &s);
		draw(e->k, sizeof(e->k), &s);
	}
	if (e->touched & C_PKRU)
		e->pkru = (uint32_t)vt_next(&s) & ~3u;
}

/* ----------------------------------------------------------------------------------------- */
/* Checking a bundle                                                                            */

static void reg_is(const struct vx_vmm_xsave_view *v, const char *name, const void *want, size_t n)
{
	struct vx_error err = VX_ERROR_INIT;
	uint8_t got[64];
	uint32_t w = 0;

	if (vx_vmm_xsave_reg(v, name, got, sizeof(got), &w, &err) != 0)
		fail_msg("%s: %s", name, err.reason);
	if (w < n || memcmp(got, want, n) != 0)
		fail_msg("%s differs from what the guest loaded", name);
}

static void check_vectors(const struct vx_vmm_xsave_view *v, const struct expect *e)
{
	char name[16];

	for (unsigned r = 0; r < 16; r++) {
		snprintf(name, sizeof(name), "xmm%u", r);
		reg_is(v, name, e->xmm[r], 16);
		snprintf(name, sizeof(name), "ymmh%u", r);
		if (e->touched & C_AVX)
			reg_is(v, name, e->ymmh[r], 16);
		snprintf(name, sizeof(name), "zmmh%u", r);
		if (e->touched & C_AVX512)
			reg_is(v, name, e->zmmh[r], 32);
		snprintf(name, sizeof(name), "zmm%u", 16 + r);
		if (e->touched & C_AVX512)
			reg_is(v, name, e->hi16[r], 64);
	}
	for (unsigned r = 0; r < 8 && (e->touched & C_AVX512); r++) {
		snprintf(name, sizeof(name), "k%u", r);
		reg_is(v, name, e->k[r], 8);
	}
}

/* Every register the guest wrote, decoded from the bundle's blob on @p's layout; FOP, FIP and
 * FDP are left out (AMD saves them only with an exception pending). */
static void check_bundle(const struct vx_profile *p, const struct vx_vmm_bundle *b,
			 const struct expect *e, uint64_t want_bv)
{
	static struct vx_vmm_xsave_view v;
	struct vx_vmm_blob blob = vt_parse(b->xsave, b->xsave_len, VX_VMM_BLOB_AUTO);
	struct vx_error err = VX_ERROR_INIT;
	uint64_t xcr0 = 0, free_bits = 0;
	char name[16];

	assert_int_equal(vx_vmm_xsave_decode(p, &blob, &v, &err), 0);
	/* PKRU in the guest XCR0 that the guest left alone (quirk pvm-cpl3-native): its bit and
	 * value are the vCPU's PKRU as KVM_GET_XSAVE2 writes it (linux-fpu.md §7.1 step 5), not
	 * something the guest did. */
	if (vx_vmm_bundle_xcr0(b, &xcr0) && (xcr0 & C_PKRU) && !(e->touched & C_PKRU))
		free_bits = C_PKRU;
	if ((vx_vmm_bundle_xstate_bv(b) & ~free_bits) != want_bv)
		fail_msg("XSTATE_BV 0x%llx, the guest touched 0x%llx (expected 0x%llx)",
			 (unsigned long long)vx_vmm_bundle_xstate_bv(b),
			 (unsigned long long)e->touched, (unsigned long long)want_bv);
	reg_is(&v, "fcw", &e->fcw, 2);
	reg_is(&v, "fsw", &e->fsw, 2);
	reg_is(&v, "ftw", &e->ftw, 1);
	for (unsigned i = 0; i < e->nst; i++) {
		snprintf(name, sizeof(name), "st%u", i);
		reg_is(&v, name, e->st[i], 10);
	}
	if (e->touched & C_SSE)
		reg_is(&v, "mxcsr", &e->mxcsr, 4);
	if (e->touched & C_SSE)
		check_vectors(&v, e);
	if (e->touched & C_PKRU)
		reg_is(&v, "pkru", &e->pkru, 4);
}

static void say_skipped(const char *where, uint64_t touched)
{
	if (!(touched & C_AVX512))
		printf("SKIP: %s: AVX-512 (opmask, ZMM) not in the guest XCR0\n", where);
	if (!(touched & C_PKRU))
		printf("SKIP: %s: PKRU not in the guest XCR0\n", where);
}

/* Quirk pvm-cpl3-native: guest CPL3 code runs with the host's PKRU, so capture's guest leaves
 * PKRU alone on such a KVM (quirks.c). */
static uint64_t quirk_skips(int flavour)
{
	return flavour >= 0 && (vx_kvm_flavour_quirks((enum vx_kvm_flavour)flavour) &
				VX_BIT(VX_KVM_QUIRK_PVM_CPL3_NATIVE))
		   ? C_PKRU
		   : 0;
}

/* ----------------------------------------------------------------------------------------- */
/* 1. The real /dev/kvm                                                                         */

static bool real_usable(const char *test)
{
	char why[160];

	if (vx_kvm_real_available(why, sizeof(why)))
		return true;
	printf("SKIP: %s: %s\n", test, why);
	return false;
}

static int real_flavour(void)
{
	enum vx_kvm_flavour flavour = VX_KVM_VMX;

	return vx_kvm_detect_flavour(NULL, &flavour) == 0 ? (int)flavour : -1;
}

static void capture_real(const struct vx_profile *host, uint32_t seed, uint64_t xcr0,
			 struct vx_vmm_bundle *b)
{
	struct vx_vmm_capture_options o;
	struct vx_kvm_backend be;
	struct vx_error err = VX_ERROR_INIT;

	vx_kvm_backend_real(&be);
	vx_vmm_capture_options_init(&o);
	o.flavour = real_flavour();
	o.backend = &be;
	o.host = host;
	o.seed = seed;
	o.set_by = VX_VMM_SET_BY_GUEST;
	o.set_xcr0 = xcr0 != 0;
	o.xcr0 = xcr0;
	if (vx_vmm_capture(&o, b, &err) != 0)
		fail_msg("real capture, seed 0x%x: %s", seed, err.reason);
	if (strcmp(b->registers_set_by, "guest") != 0)
		fail_msg("seed 0x%x: KVM_RUN works here, yet registers_set_by is '%s': %s", seed,
			 b->registers_set_by, b->registers_note);
}

/* The real KVM_SET_XSAVE of a fresh vCPU (supported CPUID, as a VMM sets one up) takes it. */
static void real_accepts(const struct vx_vmm_bundle *b)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(struct kvm_cpuid_entry2));
	int sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vm = sys < 0 ? -1 : ioctl(sys, KVM_CREATE_VM, 0);
	int vcpu = vm < 0 ? -1 : ioctl(vm, KVM_CREATE_VCPU, 0);
	int rc = -1;

	assert_non_null(c);
	c->nent = 256;
	if (vcpu >= 0 && ioctl(sys, KVM_GET_SUPPORTED_CPUID, c) == 0 &&
	    ioctl(vcpu, KVM_SET_CPUID2, c) == 0)
		rc = ioctl(vcpu, KVM_SET_XSAVE, b->xsave);
	if (rc != 0)
		fail_msg("the real KVM_SET_XSAVE refused the captured blob: %s", strerror(errno));
	free(c);
	close(vcpu);
	close(vm);
	close(sys);
}

/* And validation on the model of this host agrees (vmm.h, vx_vmm_xsave_validate()). */
static void model_validates(const struct vx_profile *host, const struct vx_vmm_bundle *b)
{
	static struct vx_vmm_validation val;
	struct vx_vmm_host_options o;
	struct vx_vmm_vcpu_config cfg = {0};
	struct vx_vmm_host *mh = NULL;
	struct vx_vmm_vcpu *mv = NULL;
	struct vx_vmm_blob blob = vt_parse(b->xsave, b->xsave_len, VX_VMM_BLOB_AUTO);
	struct vx_error err = VX_ERROR_INIT;

	vx_vmm_host_options_init(&o);
	o.live = true;
	if (vx_vmm_host_create(host, &o, &mh, &err) != 0 ||
	    vx_vmm_vcpu_create(mh, &cfg, &mv, &err) != 0)
		fail_msg("model of this host: %s", err.reason);
	assert_int_equal(vx_vmm_xsave_validate(mv, &blob, 0, &val, &err), 0);
	if (val.rc != 0)
		fail_msg("validation refuses the captured blob: %s",
			 val.report.count ? val.report.items[0].err.reason : "-");
	vx_vmm_vcpu_destroy(mv);
	vx_vmm_host_destroy(mh);
}

static void test_real_guest(void **state)
{
	struct vx_vmm_bundle *b = calloc(1, sizeof(*b));
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile host;
	struct expect e;
	uint64_t xcr0 = 0;

	(void)state;
	assert_non_null(b);
	if (!real_usable("real guest capture") || vx_profile_from_host(&host, &err) != 0) {
		free(b);
		skip();
		return;
	}
	for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		capture_real(&host, seeds[i], 0, b);
		assert_true(vx_vmm_bundle_xcr0(b, &xcr0));
		expect_of(seeds[i], xcr0 & ~quirk_skips(real_flavour()), &e);
		check_bundle(&host, b, &e, e.touched);
		real_accepts(b);
		model_validates(&host, b);
		printf(
		    "real capture, seed 0x%08x: XCR0 0x%llx, XSTATE_BV 0x%llx, %u x87 constants, "
		    "\"%s\"\n",
		    seeds[i], (unsigned long long)xcr0,
		    (unsigned long long)vx_vmm_bundle_xstate_bv(b), e.nst, b->registers_note);
	}
	say_skipped("real guest capture", e.touched);
	free(b);
}

/* A guest XCR0 of x87 alone: upstream leaves SSE in its init state; a KVM with quirk
 * pvm-cpl3-sse-in-use has SSE in use after any CPL3 run (quirks.c). */
static void test_real_x87_only(void **state)
{
	struct vx_vmm_bundle *b = calloc(1, sizeof(*b));
	struct vx_error err = VX_ERROR_INIT;
	enum vx_kvm_flavour flavour = VX_KVM_VMX;
	struct vx_profile host;
	struct expect e;
	uint64_t want;
	bool quirk;

	(void)state;
	assert_non_null(b);
	if (!real_usable("real x87-only capture") || vx_profile_from_host(&host, &err) != 0) {
		free(b);
		skip();
		return;
	}
	quirk = vx_kvm_detect_flavour(NULL, &flavour) == 0 &&
		(vx_kvm_flavour_quirks(flavour) & VX_BIT(VX_KVM_QUIRK_PVM_CPL3_SSE_IN_USE));
	capture_real(&host, 3, C_X87, b);
	expect_of(3, C_X87, &e);
	want = quirk ? C_X87 | C_SSE : C_X87;
	check_bundle(&host, b, &e, want);
	printf("real capture, XCR0 0x1: XSTATE_BV 0x%llx (%s)\n",
	       (unsigned long long)vx_vmm_bundle_xstate_bv(b),
	       quirk ? "quirk pvm-cpl3-sse-in-use: SSE in use after a CPL3 run" : "upstream");
	free(b);
}

/* ----------------------------------------------------------------------------------------- */
/* 2. The drop-in model                                                                         */

static void capture_model(const char *profile, int flavour, uint32_t seed, struct vx_profile *host,
			  struct vx_vmm_bundle *b, bool with_guest)
{
	struct vx_kvm_dev_options d;
	struct vx_vmm_capture_options o;
	struct vx_kvm_dev *dev = NULL;
	struct vx_kvm_backend be;
	struct vx_error err = VX_ERROR_INIT;

	vx_kvm_dev_options_init(&d);
	d.profile = profile;
	d.flavour = flavour;
	if (profile)
		vt_profile(host, profile);
	else if (vx_profile_from_host(host, &err) != 0)
		fail_msg("host profile: %s", err.reason);
	if (vx_kvm_dev_create(&d, &dev, &err) != 0)
		fail_msg("model of %s: %s", profile ? profile : "host", err.reason);
	vx_kvm_backend_model(&be, dev);
	vx_vmm_capture_options_init(&o);
	o.backend = &be;
	o.host = host;
	o.seed = seed;
	o.set_by = VX_VMM_SET_BY_GUEST;
	o.flavour = flavour;
	o.model = with_guest ? dev : NULL;
	if (vx_vmm_capture(&o, b, &err) != 0)
		fail_msg("model capture on %s: %s", profile ? profile : "host", err.reason);
	vx_kvm_dev_destroy(dev);
}

static void test_model_guest(void **state)
{
	static const struct {
		const char *profile;
		int flavour;
	} hosts[] = {
	    {"sapphire-rapids", VX_KVM_VMX},
	    {"zen4", VX_KVM_SVM},
	    {"zen3", VX_KVM_PVM},
	    {"alder-lake", VX_KVM_VMX},
	};
	struct vx_vmm_bundle *b = calloc(1, sizeof(*b));
	struct vx_profile host;
	struct expect e;
	uint64_t xcr0 = 0, all = 0;

	(void)state;
	assert_non_null(b);
	for (unsigned h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
			capture_model(hosts[h].profile, hosts[h].flavour, seeds[i], &host, b, true);
			assert_string_equal(b->registers_set_by, "guest");
			assert_true(vx_vmm_bundle_xcr0(b, &xcr0));
			expect_of(seeds[i], xcr0 & ~quirk_skips(hosts[h].flavour), &e);
			check_bundle(&host, b, &e, e.touched);
			all |= e.touched;
		}
		printf("model %s (%s): XCR0 0x%llx, XSTATE_BV 0x%llx, \"%s\"\n", hosts[h].profile,
		       vx_kvm_flavour_name((enum vx_kvm_flavour)hosts[h].flavour),
		       (unsigned long long)xcr0, (unsigned long long)vx_vmm_bundle_xstate_bv(b),
		       b->registers_note);
	}
	/* The table has AVX-512 and PKRU somewhere: each load kind was checked. */
	assert_true((all & (C_AVX512 | C_PKRU)) == (C_AVX512 | C_PKRU));
	free(b);
}

/* ----------------------------------------------------------------------------------------- */
/* 3. Real and model agree                                                                      */

static void test_real_equals_model(void **state)
{
	struct vx_vmm_bundle *r = calloc(1, sizeof(*r)), *m = calloc(1, sizeof(*m));
	struct vx_error err = VX_ERROR_INIT;
	enum vx_kvm_flavour flavour = VX_KVM_VMX;
	struct vx_profile host, mhost;

	(void)state;
	assert_non_null(r);
	assert_non_null(m);
	if (!real_usable("real vs model capture") || vx_profile_from_host(&host, &err) != 0 ||
	    vx_kvm_detect_flavour(NULL, &flavour) != 0) {
		free(r);
		free(m);
		skip();
		return;
	}
	for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct expect e;
		uint64_t xcr0 = 0;

		capture_real(&host, seeds[i], 0, r);
		capture_model(NULL, (int)flavour, seeds[i], &mhost, m, true);
		assert_true(vx_vmm_bundle_xcr0(r, &xcr0));
		expect_of(seeds[i], xcr0 & ~quirk_skips((int)flavour), &e);
		assert_int_equal(vx_vmm_bundle_xstate_bv(r), vx_vmm_bundle_xstate_bv(m));
		check_bundle(&host, r, &e, e.touched);
		check_bundle(&mhost, m, &e, e.touched);
	}
	printf("real and model (%s) captures of %zu seeds hold the same registers\n",
	       vx_kvm_flavour_name(flavour), sizeof(seeds) / sizeof(seeds[0]));
	free(r);
	free(m);
}

/* ----------------------------------------------------------------------------------------- */
/* 4. The fallback is visible                                                                   */

static void test_fallback_visible(void **state)
{
	struct vx_vmm_bundle *b = calloc(1, sizeof(*b));
	struct vx_profile host;
	uint64_t xcr0 = 0;

	(void)state;
	assert_non_null(b);
	/* No guest program: the model's KVM_RUN refuses (ENOEXEC). */
	capture_model("zen4", VX_KVM_SVM, 1, &host, b, false);
	assert_string_equal(b->registers_set_by, "KVM_SET_XSAVE");
	assert_non_null(strstr(b->registers_note, "the guest could not run"));
	assert_non_null(strstr(b->registers_note, "KVM_RUN"));
	/* KVM_SET_XSAVE loaded every user component of XCR0 (docs/vmm.md "Capture"). */
	assert_true(vx_vmm_bundle_xcr0(b, &xcr0));
	assert_int_equal(vx_vmm_bundle_xstate_bv(b) & xcr0, xcr0);
	printf("fallback: registers_set_by %s, \"%s\"\n", b->registers_set_by, b->registers_note);
	free(b);
}

/* The check behind a "guest" claim: a byte of any register the guest wrote, changed in the
 * saved blob, or its XSTATE_BV bit cleared, names that component (offsets from raw 0xD). */
static void test_check_catches(void **state)
{
	static const struct {
		unsigned comp;
		uint32_t off; /* legacy offset (x87, SSE) or offset within the component */
	} pokes[] = {{0, 0}, {0, 32 + 9}, {1, 24}, {1, 160 + 16 * 7 + 3}, {2, 255}, {5, 63},
		     {6, 0}, {7, 1023},	  {9, 2}};
	struct vx_vmm_bundle *b = calloc(1, sizeof(*b));
	struct vx_capture_values v;
	struct vx_profile host;
	uint64_t xcr0 = 0;

	(void)state;
	assert_non_null(b);
	capture_model("sapphire-rapids", VX_KVM_VMX, 11, &host, b, true);
	assert_true(vx_vmm_bundle_xcr0(b, &xcr0));
	vx_capture_values(11, xcr0, &v);
	assert_int_equal(vx_capture_check(&v, &host, b->xsave, b->xsave_len), 0);
	for (unsigned i = 0; i < sizeof(pokes) / sizeof(pokes[0]); i++) {
		uint32_t off = pokes[i].off, base = 0, size = 0;

		if (pokes[i].comp > 1)
			vt_comp(&host, pokes[i].comp, &base, &size);
		b->xsave[base + off] ^= 0x10;
		assert_int_equal(vx_capture_check(&v, &host, b->xsave, b->xsave_len),
				 UINT64_C(1) << pokes[i].comp);
		b->xsave[base + off] ^= 0x10;
		b->xsave[512 + pokes[i].comp / 8] ^= (uint8_t)(1u << (pokes[i].comp % 8));
		assert_int_equal(vx_capture_check(&v, &host, b->xsave, b->xsave_len),
				 UINT64_C(1) << pokes[i].comp);
		b->xsave[512 + pokes[i].comp / 8] ^= (uint8_t)(1u << (pokes[i].comp % 8));
	}
	free(b);
}

/* ----------------------------------------------------------------------------------------- */
/* 5. The "capture" object of a bundle                                                          */

static char *format(const struct vx_vmm_bundle *b)
{
	size_t n = vx_vmm_bundle_format(b, NULL, 0);
	char *t = malloc(n + 1);

	assert_non_null(t);
	vx_vmm_bundle_format(b, t, n + 1);
	return t;
}

/* @text with the first @from replaced by @to. */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out = malloc(strlen(text) + strlen(to) + 1);

	assert_true(at && out);
	memcpy(out, text, (size_t)(at - text));
	strcpy(out + (at - text), to);
	strcat(out, at + strlen(from));
	return out;
}

static void test_capture_object(void **state)
{
	static const struct {
		const char *from, *to, *says;
	} bad[] = {
	    {"\"registers_set_by\": \"guest\"", "\"registers_set_by\": \"bios\"",
	     "capture.registers_set_by"},
	    {"\"registers_set_by\": \"guest\"", "\"registers_set_by\": 7",
	     "capture.registers_set_by"},
	    {"\"registers_set_by\": \"guest\",", "", "missing \"registers_set_by\""},
	    {"\"seed\": 5,", "\"seed\": 4294967296,", "capture.seed"},
	    {"\"seed\": 5,", "\"seed\": 5, \"when\": 1,", "when"},
	    {"\"note\": \"", "\"note\": 12, \"x\": \"", "capture"},
	};
	struct vx_vmm_bundle *b = calloc(1, sizeof(*b)), *back = calloc(1, sizeof(*back));
	struct vx_profile host;
	char *text, *again;

	(void)state;
	assert_non_null(b);
	assert_non_null(back);
	capture_model("zen4", VX_KVM_SVM, 5, &host, b, true);
	text = format(b);
	assert_non_null(strstr(text, "\"registers_set_by\": \"guest\""));
	assert_int_equal(vx_vmm_bundle_parse(text, strlen(text), 0, back, NULL, NULL), 0);
	assert_string_equal(back->registers_set_by, "guest");
	assert_int_equal(back->registers_seed, 5);
	assert_string_equal(back->registers_note, b->registers_note);
	again = format(back);
	assert_string_equal(text, again);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vx_error err = VX_ERROR_INIT;
		char *t = edit(text, bad[i].from, bad[i].to);

		memcpy(back, b, sizeof(*b));
		assert_int_equal(vx_vmm_bundle_parse(t, strlen(t), 0, back, NULL, &err), -EINVAL);
		if (!strstr(err.reason, bad[i].says))
			fail_msg("case %u: '%s' does not name '%s'", i, err.reason, bad[i].says);
		assert_memory_equal(back, b, sizeof(*b));
		free(t);
	}
	free(again);
	free(text);
	free(b);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_guest),	     cmocka_unit_test(test_real_x87_only),
	    cmocka_unit_test(test_model_guest),	     cmocka_unit_test(test_real_equals_model),
	    cmocka_unit_test(test_fallback_visible), cmocka_unit_test(test_check_catches),
	    cmocka_unit_test(test_capture_object),
	};

#if LDBL_MANT_DIG != 64
	printf("SKIP: long double is not the x87's 80-bit format here\n");
	return 77;
#endif
	printf("seeds: 0x%08x 0x%08x 0x%08x\n", seeds[0], seeds[1], seeds[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
