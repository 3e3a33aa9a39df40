/* SPDX-License-Identifier: MIT */
/*
 * test_vmm_compat - vCPU bundles, Cloud Hypervisor state, compat and baseline (issue 10, part
 * 2; vmm_compat.h).
 *
 * The expectations are computed here from the profiles' own CPUID leaves with the rules of
 * kvm.md §1.3, §2.1-§2.2 and arch.md §2-§3 (the "oracle" below), never read from the code under
 * test: what each host's KVM supports (XCR0, XSS, SHSTK, IBT, AMX, every feature of the kvm
 * layer's table), what a default capture on a host holds, and so what compat must say for every
 * ordered pair of built-in profiles and what the baseline of every pair and of all of them is.
 * The register values a capture loads follow the documented generator (xorshift32 from the
 * seed, docs/vmm.md "Capture"), re-implemented here.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/vmm.h>
#include <vxsave/vmm_compat.h>

#define MAX_PROFILES 32
#define SEED	     7u

/* kvm.md §2.2: KVM_SUPPORTED_XCR0 = FP|SSE|YMM|BNDREGS|BNDCSR|AVX-512|PKRU|XTILE. */
#define KVM_SUPPORTED_XCR0 UINT64_C(0x602FF)
#define M_MPX		   UINT64_C(0x18)
#define M_AVX512	   UINT64_C(0xE0)
#define M_YMM		   UINT64_C(0x4)
#define M_PKRU		   UINT64_C(0x200)
#define M_AMX		   UINT64_C(0x60000)
#define M_CET		   UINT64_C(0x1800)
/* The components a capture fills (docs/vmm.md "Capture"). */
#define M_PATTERNED UINT64_C(0xE02E7)

/* ----------------------------------------------------------------------------------------- */
/* The oracle: a host's KVM from its leaves                                                    */

struct host {
	struct vx_profile p;
	enum vx_kvm_flavour flavour;
	uint64_t xcr0, xss;
	bool shstk, ibt, amx;
	uint32_t std_size;
};

static struct host hosts[MAX_PROFILES];
static struct vx_vmm_bundle *bundles[MAX_PROFILES];
static unsigned nhosts;

static uint32_t reg(struct vx_cpuid_regs r, enum vx_cpuid_reg which)
{
	const uint32_t v[4] = {r.eax, r.ebx, r.ecx, r.edx};

	return v[which & 3];
}

static bool raw_bit(const struct vx_profile *p, uint32_t leaf, uint32_t sub,
		    enum vx_cpuid_reg which, unsigned bit)
{
	return reg(vx_profile_leaf(p, leaf, sub), which) >> bit & 1;
}

/* Standard size of @mask on @p from raw 0xD.i (arch.md §2.4: max of offset + size). */
static uint32_t std_size(const struct vx_profile *p, uint64_t mask)
{
	uint32_t size = 576;

	for (unsigned i = 2; i < 63; i++) {
		struct vx_cpuid_regs r = vx_profile_leaf(p, 0xD, i);

		if ((mask & (UINT64_C(1) << i)) && r.ebx + r.eax > size)
			size = r.ebx + r.eax;
	}
	return size;
}

/* kvm.md §1.3, §2.1, §2.2 applied to a profile's leaves. */
static void oracle_host(struct host *h, const char *name)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cpuid_regs d0, d1;
	bool xsave, xsaves;

	assert_int_equal(vx_profile_builtin(&h->p, name, &err), 0);
	h->flavour = vx_profile_vendor(&h->p) == VX_VENDOR_AMD ? VX_KVM_SVM : VX_KVM_VMX;
	d0 = vx_profile_leaf(&h->p, 0xD, 0);
	d1 = vx_profile_leaf(&h->p, 0xD, 1);
	xsave = raw_bit(&h->p, 1, 0, VX_ECX, 26);
	xsaves = d1.eax >> 3 & 1;
	/* supported_xcr0 = host XCR0 & KVM_SUPPORTED_XCR0; SVM strips MPX (§2.2). */
	h->xcr0 = xsave ? (d0.eax | (uint64_t)d0.edx << 32) & KVM_SUPPORTED_XCR0 : 0;
	if (h->flavour == VX_KVM_SVM)
		h->xcr0 &= ~M_MPX;
	/* SHSTK: host XSAVES, SHSTK, both CET xfeatures in host XSS (§2.1); IBT: also VMX. */
	h->shstk = xsaves && raw_bit(&h->p, 7, 0, VX_ECX, 7) && (d1.ecx & M_CET) == M_CET;
	h->ibt = h->shstk && h->flavour == VX_KVM_VMX && raw_bit(&h->p, 7, 0, VX_EDX, 20);
	h->xss = h->shstk || h->ibt ? M_CET : 0;
	h->amx = (h->xcr0 & M_AMX) == M_AMX;
	h->std_size = std_size(&h->p, h->xcr0);
}

/* What a host's KVM honours for one feature of the kvm layer's table (kvm.md §1.3-§1.4): the
 * raw bit, unless KVM emulates it, never offers it, or the kernel cleared it with its XSAVE
 * component (AVX needs YMM, AVX-512 its three components, PKU PKRU, AMX the tiles). */
static bool oracle_has(const struct host *h, const struct vx_kvm_feature_info *f)
{
	static const struct {
		const char *name;
		uint64_t needs;
	} xstate[] = {
	    {"avx", M_YMM},	    {"fma", M_YMM},	   {"f16c", M_YMM},	{"avx2", M_YMM},
	    {"vaes", M_YMM},	    {"vpclmulqdq", M_YMM}, {"avx_vnni", M_YMM}, {"pku", M_PKRU},
	    {"amx_tile", M_AMX},    {"amx_bf16", M_AMX},   {"amx_int8", M_AMX}, {"amx_fp16", M_AMX},
	    {"amx_complex", M_AMX}, {"mpx", M_MPX},
	};
	const struct vx_kvm_word_info *w = vx_kvm_word_info(f->word);

	if ((f->flags & VX_KVM_FEAT_VCPU_EMULATED) || f->kind == VX_KVM_CAP_EMULATED)
		return true;
	if (f->kind == VX_KVM_CAP_UNDECLARED)
		return false;
	if (strcmp(f->name, "shstk") == 0)
		return h->shstk;
	if (strcmp(f->name, "ibt") == 0)
		return h->ibt;
	if (strncmp(f->name, "avx512", 6) == 0 && (h->xcr0 & M_AVX512) != M_AVX512)
		return false;
	for (size_t i = 0; i < sizeof(xstate) / sizeof(xstate[0]); i++)
		if (strcmp(f->name, xstate[i].name) == 0 &&
		    (h->xcr0 & xstate[i].needs) != xstate[i].needs)
			return false;
	return raw_bit(&h->p, w->leaf, w->subleaf, w->reg, f->bit);
}

static bool bundle_bit(const struct vx_vmm_bundle *b, uint32_t leaf, uint32_t sub,
		       enum vx_cpuid_reg which, unsigned bit)
{
	const struct vx_kvm_cpuid_entry *e = vx_vmm_bundle_cpuid(b, leaf, sub);
	struct vx_cpuid_regs r = {0, 0, 0, 0};

	if (e)
		r = (struct vx_cpuid_regs){e->eax, e->ebx, e->ecx, e->edx};
	return reg(r, which) >> bit & 1;
}

/* The documented capture values: xorshift32 from seed ^ 0x9E3779B9 * (component + 1). */
static void pattern(uint32_t seed, unsigned comp, uint8_t *out, uint32_t size)
{
	uint32_t x = (seed ^ (0x9E3779B9u * (comp + 1))) | 1u;

	for (uint32_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		out[i] = (uint8_t)x;
	}
	if (comp == 9)
		memset(out + 4, 0, size - 4); /* PKRU: 4 bytes of register, 4 reserved */
	if (comp == 17) {		      /* TILECFG: palette 1, 8 tiles of 16 x 64 */
		memset(out, 0, size);
		out[0] = 1;
		for (unsigned t = 0; t < 8; t++) {
			out[16 + 2 * t] = 64;
			out[48 + t] = 16;
		}
	}
}

/* ----------------------------------------------------------------------------------------- */
/* Captures on the drop-in model                                                                */

static int model_prctl(void *ctx, int option, unsigned long arg)
{
	return vx_kvm_dev_arch_prctl(ctx, option, arg);
}

static void capture_model(const struct host *h, uint32_t seed, struct vx_vmm_bundle *b)
{
	struct vx_kvm_dev_options d;
	struct vx_vmm_capture_options o;
	struct vx_kvm_dev *dev = NULL;
	struct vx_kvm_backend be;
	struct vx_error err = VX_ERROR_INIT;

	vx_kvm_dev_options_init(&d);
	d.profile = h->p.name;
	d.flavour = (int)h->flavour;
	if (vx_kvm_dev_create(&d, &dev, &err) != 0)
		fail_msg("drop-in /dev/kvm on %s: %s", h->p.name, err.reason);
	vx_kvm_backend_model(&be, dev);
	vx_vmm_capture_options_init(&o);
	o.backend = &be;
	o.arch_prctl = model_prctl;
	o.prctl_ctx = dev;
	o.host = &h->p;
	o.host_by_name = true;
	o.flavour = (int)h->flavour;
	o.design = VX_KVM_CET_GUEST_ONLY;
	o.guest_perm_amx = h->amx;
	o.seed = seed;
	if (vx_vmm_capture(&o, b, &err) != 0)
		fail_msg("capture on %s: %s", h->p.name, err.reason);
	vx_kvm_dev_destroy(dev);
}

static int setup(void **state)
{
	(void)state;
	nhosts = vx_builtin_profile_count();
	assert_true(nhosts > 1 && nhosts <= MAX_PROFILES);
	printf("seed %u, %u built-in profiles\n", SEED, nhosts);
	for (unsigned i = 0; i < nhosts; i++) {
		oracle_host(&hosts[i], vx_builtin_profile_name(i));
		bundles[i] = calloc(1, sizeof(*bundles[i]));
		assert_non_null(bundles[i]);
		capture_model(&hosts[i], SEED, bundles[i]);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < nhosts; i++)
		free(bundles[i]);
	return 0;
}

static void target_of(const struct host *h, struct vx_compat_target *t)
{
	vx_compat_target_init(t, &h->p);
	assert_int_equal(t->flavour, h->flavour);
}

/* ----------------------------------------------------------------------------------------- */
/* Captures hold what was loaded                                                                */

/* Every component XCR0 enables that a capture fills reads back through KVM_GET_XSAVE2 at the
 * host's standard offset (raw 0xD.i EBX) with the generator's bytes. */
static void check_registers(const struct vx_profile *p, const struct vx_vmm_bundle *b,
			    uint32_t seed, uint64_t expect_bv)
{
	uint64_t bv = vx_vmm_bundle_xstate_bv(b);
	uint8_t want[8192];

	assert_int_equal(bv, expect_bv);
	for (unsigned i = 0; i < 63; i++) {
		struct vx_cpuid_regs r = vx_profile_leaf(p, 0xD, i);
		uint32_t off = i == 0	? 32
			       : i == 1 ? 160
					: r.ebx,
			 size = i == 0	 ? 128
				: i == 1 ? 256
					 : r.eax;

		if (!(bv & (UINT64_C(1) << i)))
			continue;
		assert_true(size <= sizeof(want) && off + size <= b->xsave_len);
		pattern(seed, i, want, i == 0 ? 160 : size);
		if (i == 0) /* x87: FCW 0x037F, FTW 0xFF; ST(i) normal numbers */
			continue;
		if (memcmp(b->xsave + off, want, size) != 0)
			fail_msg("%s: component %u differs from the loaded values", p->name, i);
	}
	if (bv & 1) {
		assert_int_equal(b->xsave[0] | b->xsave[1] << 8, 0x037F);
		assert_int_equal(b->xsave[4], 0xFF);
	}
	/* MXCSR 0x1F80 with the seed's sticky flags (docs/vmm.md "Capture"). */
	assert_int_equal(b->xsave[24] | b->xsave[25] << 8, 0x1F80 | (seed & 0x3F));
}

static void test_captures(void **state)
{
	(void)state;
	for (unsigned i = 0; i < nhosts; i++) {
		const struct host *h = &hosts[i];
		const struct vx_vmm_bundle *b = bundles[i];
		uint64_t xcr0 = 0, xss = 0;
		uint8_t mine[64], theirs[64];

		assert_true(vx_vmm_bundle_xcr0(b, &xcr0));
		assert_int_equal(xcr0, h->xcr0);
		assert_int_equal(b->xsave_len, h->amx && h->std_size > 4096 ? h->std_size : 4096);
		assert_int_equal(vx_vmm_bundle_msr(b, 0xDA0, &xss), h->xss != 0);
		assert_int_equal(xss, h->xss);
		assert_int_equal(vx_vmm_bundle_msr(b, 0x6A4, &xss), h->shstk);
		check_registers(&h->p, b, SEED, h->xcr0 & M_PATTERNED);
		/* The library's generator is the documented one. */
		pattern(SEED, 6, mine, sizeof(mine));
		assert_true(vx_vmm_capture_pattern(SEED, 6, theirs, sizeof(theirs)));
		assert_memory_equal(mine, theirs, sizeof(mine));
		assert_false(vx_vmm_capture_pattern(SEED, 3, theirs, sizeof(theirs)));
	}
}

/* ----------------------------------------------------------------------------------------- */
/* Bundles: write, read back, malformed input                                                   */

static char *format(const struct vx_vmm_bundle *b, size_t *n)
{
	char *text;

	*n = vx_vmm_bundle_format(b, NULL, 0);
	text = malloc(*n + 1);
	assert_non_null(text);
	assert_int_equal(vx_vmm_bundle_format(b, text, *n + 1), *n);
	return text;
}

static void test_round_trip(void **state)
{
	struct vx_vmm_bundle *b = calloc(1, sizeof(*b));
	struct vx_error err = VX_ERROR_INIT;
	enum vx_vmm_state_format f = VX_VMM_STATE_CH_VCPU;

	(void)state;
	for (unsigned i = 0; i < nhosts; i++) {
		size_t n, m;
		char *text = format(bundles[i], &n), *again;

		assert_int_equal(vx_vmm_bundle_parse(text, n, 0, b, &f, &err), 0);
		assert_int_equal(f, VX_VMM_STATE_BUNDLE);
		assert_true(b->profile_by_name);
		assert_string_equal(b->profile.name, hosts[i].p.name);
		assert_int_equal(b->ncpuid, bundles[i]->ncpuid);
		assert_memory_equal(b->cpuid, bundles[i]->cpuid, b->ncpuid * sizeof(b->cpuid[0]));
		assert_int_equal(b->nmsrs, bundles[i]->nmsrs);
		assert_int_equal(b->xsave_len, bundles[i]->xsave_len);
		assert_memory_equal(b->xsave, bundles[i]->xsave, b->xsave_len);
		again = format(b, &m);
		assert_int_equal(m, n);
		assert_string_equal(again, text);
		free(again);
		free(text);
	}
	free(b);
}

/* Embedded leaves instead of a name: the same host after a round trip. */
static void test_embedded_host(void **state)
{
	struct vx_vmm_bundle *b = calloc(1, sizeof(*b)), *c = calloc(1, sizeof(*c));
	struct vx_error err = VX_ERROR_INIT;
	size_t n;
	char *text;

	(void)state;
	memcpy(b, bundles[0], sizeof(*b));
	b->profile_by_name = false;
	text = format(b, &n);
	assert_non_null(strstr(text, "\"leaves\""));
	assert_int_equal(vx_vmm_bundle_parse(text, n, 0, c, NULL, &err), 0);
	assert_false(c->profile_by_name);
	assert_int_equal(vx_profile_compare(&c->profile, &hosts[0].p, NULL), 0);
	assert_int_equal(c->profile.mxcsr_mask, hosts[0].p.mxcsr_mask);
	free(text);
	free(b);
	free(c);
}

struct bad {
	const char *what;
	const char *text;
	int code;
	unsigned line;
	const char *says;
};

/* A minimal valid bundle (line numbers matter to the cases below). */
static char *valid_bundle(void)
{
	size_t cap = 32768, n = 0;
	char *t = malloc(cap);

	assert_non_null(t);
	n += (size_t)snprintf(t + n, cap - n,
			      "{\n\"format\": \"vxsave-vcpu-bundle\",\n\"version\": 1,\n"
			      "\"cpuid\": [{\"function\": \"0xd\", \"index\": 0, \"flags\": 1, "
			      "\"eax\": 7, \"ebx\": 832, \"ecx\": 832, \"edx\": 0}],\n"
			      "\"xcrs\": [{\"xcr\": 0, \"value\": \"0x7\"}],\n"
			      "\"msrs\": [{\"index\": \"0xda0\", \"value\": 0}],\n"
			      "\"xsave\": {\"encoding\": \"hex\", \"size\": 4096, \"data\": [\n");
	for (unsigned i = 0; i < 64; i++)
		n += (size_t)snprintf(t + n, cap - n, "\"%0128d\"%s\n", 0, i < 63 ? "," : "");
	snprintf(t + n, cap - n, "]}\n}\n");
	return t;
}

/* @valid with its first occurrence of @from replaced by @to. */
static char *edit(const char *valid, const char *from, const char *to)
{
	const char *at = strstr(valid, from);
	size_t n = strlen(valid) + strlen(to) + 1;
	char *t = malloc(n);

	assert_non_null(at);
	assert_non_null(t);
	snprintf(t, n, "%.*s%s%s", (int)(at - valid), valid, to, at + strlen(from));
	return t;
}

static void expect_bad(const char *what, const char *text, size_t len, int code, unsigned line,
		       const char *says)
{
	struct vx_vmm_bundle *b = calloc(1, sizeof(*b));
	struct vx_error err = VX_ERROR_INIT;
	int rc;

	memset(b, 0x5A, sizeof(*b));
	rc = vx_vmm_bundle_parse(text, len, 0, b, NULL, &err);
	if (rc != code || !strstr(err.reason, says) || (line && err.line != line))
		fail_msg("%s: rc %d line %u '%s' (want %d, line %u, '%s')", what, rc, err.line,
			 err.reason, code, line, says);
	/* Refused input leaves the bundle untouched. */
	for (size_t i = 0; i < sizeof(*b); i++)
		if (((const uint8_t *)b)[i] != 0x5A)
			fail_msg("%s: the bundle changed", what);
	printf("  %-28s %s\n", what, err.reason);
	free(b);
}

static void test_valid_minimal(void **state)
{
	struct vx_vmm_bundle *b = calloc(1, sizeof(*b));
	struct vx_error err = VX_ERROR_INIT;
	char *t = valid_bundle();

	(void)state;
	assert_int_equal(vx_vmm_bundle_parse(t, strlen(t), 0, b, NULL, &err), 0);
	assert_int_equal(b->xsave_len, 4096);
	assert_int_equal(b->ncpuid, 1);
	/* No source host: the layout comes from the guest CPUID's leaf 0xD when it has one. */
	assert_false(b->profile_by_name);
	free(t);
	free(b);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *what, *from, *to;
		int code;
		unsigned line;
		const char *says;
	} edits[] = {
	    {"bad JSON", "\"version\": 1,", "\"version\": 1,,", -EINVAL, 3, "expected"},
	    {"trailing comma", "\"value\": 0}]", "\"value\": 0},]", -EINVAL, 6, "expected"},
	    {"duplicate key", "\"version\": 1,", "\"version\": 1, \"version\": 1,", -EINVAL, 3,
	     "duplicate key"},
	    {"unknown key", "\"version\": 1,", "\"version\": 1, \"msr\": [],", -EINVAL, 3,
	     "msr: unknown key"},
	    {"missing key", "\"xcrs\": [{\"xcr\": 0, \"value\": \"0x7\"}],\n", "", -EINVAL, 1,
	     "missing \"xcrs\""},
	    {"wrong format", "vxsave-vcpu-bundle", "other", -EINVAL, 2, "not a vxsave bundle"},
	    {"newer version", "\"version\": 1", "\"version\": 2", -EINVAL, 3, "version 2"},
	    {"wrong type", "\"eax\": 7", "\"eax\": [7]", -EINVAL, 4, "cpuid[0].eax"},
	    {"out of range", "\"eax\": 7", "\"eax\": 4294967296", -EINVAL, 4, "cpuid[0].eax"},
	    {"negative", "\"eax\": 7", "\"eax\": -7", -EINVAL, 4, "cpuid[0].eax"},
	    {"bad number string", "\"value\": \"0x7\"", "\"value\": \"0x7g\"", -EINVAL, 5,
	     "xcrs[0].value"},
	    {"repeated MSR", "\"value\": 0}]", "\"value\": 0}, {\"index\": 3488, \"value\": 1}]",
	     -EINVAL, 6, "appears twice"},
	    {"bad hex digit", "\"000000", "\"0g0000", -EINVAL, 8, "not a hex digit"},
	    {"odd hex", "\"000000", "\"00000", -EINVAL, 8, "odd number"},
	    {"truncated blob", "\"size\": 4096", "\"size\": 4160", -EINVAL, 0, "truncated"},
	    {"longer data", "\"\n]}", "\",\"00\"\n]}", -EINVAL, 0, "more than"},
	    {"short blob", "\"size\": 4096", "\"size\": 576", -EINVAL, 7, "truncated"},
	    {"unaligned blob", "\"size\": 4096", "\"size\": 4098", -EINVAL, 7, "__u32"},
	    {"oversized blob", "\"size\": 4096", "\"size\": 1048576", -EFBIG, 7, "oversized"},
	    {"encoding", "\"hex\"", "\"base64\"", -EINVAL, 7, "only \"hex\""},
	    {"control char", "\"format\"", "\"for\tmat\"", -EINVAL, 2, "control character"},
	    {"NUL escape", "\"format\"", "\"form\\u0000at\"", -EINVAL, 2, "NUL character"},
	    {"bad escape", "\"format\"", "\"form\\qat\"", -EINVAL, 2, "not a JSON escape"},
	    {"invalid UTF-8", "\"format\"",
	     "\"form\xc3\x28"
	     "at\"",
	     -EINVAL, 2, "invalid UTF-8"},
	    {"unknown profile", "\"version\": 1,",
	     "\"version\": 1, \"source\": {\"profile\": \"k6\"},", -EINVAL, 3, "source.profile"},
	    {"unknown flavour", "\"version\": 1,",
	     "\"version\": 1, \"source\": {\"flavour\": \"hvf\"},", -EINVAL, 3, "source.flavour"},
	    {"bad leaf", "\"version\": 1,",
	     "\"version\": 1, \"source\": {\"host\": {\"leaves\": [{\"leaf\": \"0x4000\", "
	     "\"subleaf\": 0, \"eax\": 0, \"ebx\": 0, \"ecx\": 0, \"edx\": 0}]}},",
	     -EINVAL, 3, "not one a profile keeps"},
	};
	char *valid = valid_bundle(), *big;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *t = edit(valid, edits[i].from, edits[i].to);

		expect_bad(edits[i].what, t, strlen(t), edits[i].code, edits[i].line,
			   edits[i].says);
		free(t);
	}
	/* Truncated mid-value, NUL bytes, an empty file, text after the value. */
	expect_bad("truncated file", valid, strlen(valid) / 2, -EINVAL, 0, "truncated");
	expect_bad("empty file", valid, 0, -EINVAL, 1, "truncated");
	n = strlen(valid);
	valid[40] = '\0';
	expect_bad("NUL byte", valid, n, -EINVAL, 3, "NUL byte");
	free(valid);
	valid = valid_bundle();
	big = edit(valid, "}\n}\n", "}\n}\n[]");
	expect_bad("text after the value", big, strlen(big), -EINVAL, 0, "end of the input");
	free(big);
	/* More than KVM_MAX_CPUID_ENTRIES entries, and an input past 8 MiB. */
	n = 300 * 96 + 1;
	big = malloc(n + strlen(valid));
	assert_non_null(big);
	strcpy(big, "{\"format\": \"vxsave-vcpu-bundle\", \"version\": 1, \"cpuid\": [");
	for (unsigned i = 0; i < 300; i++)
		strcat(big, "{\"function\":0,\"index\":0,\"flags\":0,\"eax\":0,\"ebx\":0,\"ecx\":0,"
			    "\"edx\":0},");
	strcat(big,
	       "{\"function\":0,\"index\":0,\"flags\":0,\"eax\":0,\"ebx\":0,\"ecx\":0,\"edx\":0}"
	       "], \"xcrs\": [], \"msrs\": [], \"xsave\": {}}");
	expect_bad("301 CPUID entries", big, strlen(big), -EFBIG, 1, "oversized");
	free(big);
	big = calloc(1, (9u << 20) + 1);
	assert_non_null(big);
	memset(big, ' ', 9u << 20);
	big[0] = '{';
	expect_bad("9 MiB file", big, 9u << 20, -EFBIG, 0, "oversized");
	free(big);
	free(valid);
}

/* ----------------------------------------------------------------------------------------- */
/* compat on every ordered pair of built-in profiles                                           */

struct expect {
	uint64_t xcr0_bits, xss_bits, layout_comps;
	bool amx_lost;
	unsigned ncpuid;
	unsigned cpuid[64]; /* feature indices */
	enum vx_compat_verdict verdict;
};

static void oracle_pair(unsigned a, unsigned t, struct expect *e)
{
	const struct host *A = &hosts[a], *T = &hosts[t];
	const struct vx_vmm_bundle *b = bundles[a];
	uint64_t bv = A->xcr0 & M_PATTERNED & ~UINT64_C(3);

	memset(e, 0, sizeof(*e));
	e->xcr0_bits = A->xcr0 & ~T->xcr0;
	e->xss_bits = A->xss & ~T->xss;
	e->amx_lost = A->amx && !T->amx;
	for (unsigned i = 0; i < vx_kvm_feature_count(); i++) {
		const struct vx_kvm_feature_info *f = vx_kvm_feature_at(i);
		const struct vx_kvm_word_info *w = vx_kvm_word_info(f->word);

		if (f->kind != VX_KVM_CAP_RUNTIME &&
		    bundle_bit(b, w->leaf, w->subleaf, w->reg, f->bit) && oracle_has(A, f) &&
		    !oracle_has(T, f))
			e->cpuid[e->ncpuid++] = i;
	}
	/* arch.md §2.4: a component both lay out at different standard offsets must move. */
	for (unsigned i = 2; i < 63; i++) {
		struct vx_cpuid_regs s = vx_profile_leaf(&A->p, 0xD, i),
				     d = vx_profile_leaf(&T->p, 0xD, i);
		uint64_t m = UINT64_C(1) << i;

		if ((bv & m) && (T->xcr0 & m) && s.ebx != d.ebx)
			e->layout_comps |= m;
	}
	e->verdict = e->xcr0_bits || e->xss_bits || e->amx_lost || e->ncpuid ? VX_COMPAT_REFUSES
		     : e->layout_comps					     ? VX_COMPAT_CONVERTIBLE
									     : VX_COMPAT_RESTORES;
}

static void check_pair(unsigned a, unsigned t, const struct vx_compat_report *r,
		       const struct expect *e)
{
	const char *an = hosts[a].p.name, *tn = hosts[t].p.name;
	uint64_t xcr0 = 0, xss = 0, layout = 0;
	unsigned ncpuid = 0;
	bool amx = false;

	for (unsigned i = 0; i < r->count; i++) {
		const struct vx_compat_finding *f = &r->findings[i];
		bool refused = f->severity == VX_COMPAT_REFUSED, statics = f->step == NULL;

		xcr0 |= f->check == VX_COMPAT_XCR0 && refused && statics ? f->bits : 0;
		xss |= f->check == VX_COMPAT_XSS && refused && f->bits ? f->bits : 0;
		amx |= f->check == VX_COMPAT_AMX_PERM && refused;
		ncpuid += f->check == VX_COMPAT_CPUID;
		if (f->check == VX_COMPAT_LAYOUT && f->severity == VX_COMPAT_CONVERT)
			layout |= UINT64_C(1) << f->component;
		if (f->check == VX_COMPAT_CPUID) {
			bool known = false;

			for (unsigned k = 0; k < e->ncpuid; k++) {
				const struct vx_kvm_feature_info *x =
				    vx_kvm_feature_at(e->cpuid[k]);
				const struct vx_kvm_word_info *w = vx_kvm_word_info(x->word);

				known |= f->leaf == w->leaf && f->subleaf == w->subleaf &&
					 f->bits == (UINT64_C(1) << x->bit) &&
					 strstr(f->message, x->name) != NULL;
			}
			if (!known)
				fail_msg("%s -> %s: unexpected %s", an, tn, f->message);
		}
	}
	if (r->verdict != e->verdict || xcr0 != e->xcr0_bits || xss != e->xss_bits ||
	    amx != e->amx_lost || ncpuid != e->ncpuid || layout != e->layout_comps)
		fail_msg("%s -> %s: verdict %s (want %s), xcr0 0x%llx/0x%llx xss 0x%llx/0x%llx "
			 "amx %d/%d cpuid %u/%u layout 0x%llx/0x%llx",
			 an, tn, vx_compat_verdict_name(r->verdict),
			 vx_compat_verdict_name(e->verdict), (unsigned long long)xcr0,
			 (unsigned long long)e->xcr0_bits, (unsigned long long)xss,
			 (unsigned long long)e->xss_bits, amx, e->amx_lost, ncpuid, e->ncpuid,
			 (unsigned long long)layout, (unsigned long long)e->layout_comps);
	/* Every refused restore step is explained by a static reason, and a clean pair ran
	 * its whole restore without a refusal. */
	if (e->verdict != VX_COMPAT_REFUSES)
		assert_int_equal(r->restore_refusals, 0);
	assert_true(r->restore_ran);
}

/* A conversion is enough: the fixed bundle restores as is and keeps every register. */
static void check_fix(unsigned a, unsigned t, const struct vx_compat_target *target,
		      enum vx_compat_verdict verdict)
{
	struct vx_vmm_bundle *fixed = calloc(1, sizeof(*fixed));
	struct vx_compat_report *r = calloc(1, sizeof(*r));
	struct vx_error err = VX_ERROR_INIT;
	int rc = vx_compat_fix(bundles[a], target, fixed, &err);

	if (verdict != VX_COMPAT_CONVERTIBLE) {
		assert_int_equal(rc, -EINVAL);
	} else {
		assert_int_equal(rc, 0);
		assert_int_equal(vx_compat_check(fixed, target, r, &err), 0);
		assert_int_equal(r->verdict, VX_COMPAT_RESTORES);
		check_registers(&hosts[t].p, fixed, SEED, vx_vmm_bundle_xstate_bv(bundles[a]));
	}
	free(fixed);
	free(r);
}

static void test_compat_pairs(void **state)
{
	struct vx_compat_report *r = calloc(1, sizeof(*r));
	struct vx_error err = VX_ERROR_INIT;
	unsigned count[3] = {0};
	struct expect e;

	(void)state;
	for (unsigned a = 0; a < nhosts; a++) {
		for (unsigned t = 0; t < nhosts; t++) {
			struct vx_compat_target target;

			target_of(&hosts[t], &target);
			if (vx_compat_check(bundles[a], &target, r, &err) != 0)
				fail_msg("%s -> %s: %s", hosts[a].p.name, hosts[t].p.name,
					 err.reason);
			oracle_pair(a, t, &e);
			check_pair(a, t, r, &e);
			check_fix(a, t, &target, e.verdict);
			count[e.verdict]++;
		}
	}
	printf("%u pairs: %u restore, %u after conversion, %u refused\n", nhosts * nhosts, count[0],
	       count[1], count[2]);
	/* Every profile restores onto itself; the set has all three verdicts. */
	assert_true(count[0] >= nhosts && count[1] > 0 && count[2] > 0);
	free(r);
}

/* ----------------------------------------------------------------------------------------- */
/* Single checks on edited bundles                                                              */

static int find_host(const char *name)
{
	for (unsigned i = 0; i < nhosts; i++)
		if (strcmp(hosts[i].p.name, name) == 0)
			return (int)i;
	fail_msg("no built-in profile %s", name);
	return 0;
}

static void set_msr(struct vx_vmm_bundle *b, uint32_t index, uint64_t value)
{
	for (uint32_t i = 0; i < b->nmsrs; i++) {
		if (b->msrs[i].index == index) {
			b->msrs[i].data = value;
			return;
		}
	}
	b->msrs[b->nmsrs++] = (struct vx_kvm_msr_entry){index, 0, value};
}

static void compat_on(const struct vx_vmm_bundle *b, const struct vx_compat_target *t,
		      struct vx_compat_report *r)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_compat_check(b, t, r, &err) != 0)
		fail_msg("compat: %s", err.reason);
}

/* A finding of @check at @severity (and, if given, @step and @msr). */
static const struct vx_compat_finding *has(const struct vx_compat_report *r,
					   enum vx_compat_check check,
					   enum vx_compat_severity severity, const char *step,
					   uint32_t msr)
{
	for (unsigned i = 0; i < r->count; i++) {
		const struct vx_compat_finding *f = &r->findings[i];

		if (f->check == check && f->severity == severity && (!msr || f->msr == msr) &&
		    (!step || (f->step && strcmp(f->step, step) == 0)))
			return f;
	}
	return NULL;
}

static struct vx_vmm_bundle *copy_of(const char *name)
{
	struct vx_vmm_bundle *b = malloc(sizeof(*b));

	assert_non_null(b);
	memcpy(b, bundles[find_host(name)], sizeof(*b));
	return b;
}

/* CET state in MSRs (kvm.md §3.1-§3.3, §5.4, §6.4): live values, a host without IBT, a host
 * without CET, a design that keeps no CET_S. */
static void test_cet_state(void **state)
{
	struct vx_vmm_bundle *b = copy_of("alder-lake");
	struct vx_compat_report *r = calloc(1, sizeof(*r));
	struct vx_compat_target t;

	(void)state;
	set_msr(b, 0x6A0, 0x5);		      /* U_CET: SHSTK_EN | ENDBR_EN */
	set_msr(b, 0x6A4, 0x7fffc0001000ull); /* PL0_SSP */
	set_msr(b, 0x6A7, 0x7fff00000ff8ull); /* PL3_SSP */
	target_of(&hosts[find_host("alder-lake")], &t);
	compat_on(b, &t, r);
	assert_int_equal(r->verdict, VX_COMPAT_RESTORES);
	/* zen4 runs SVM: no IBT cap, so ENDBR_EN in U_CET is refused (§3.1). */
	target_of(&hosts[find_host("zen4")], &t);
	compat_on(b, &t, r);
	assert_int_equal(r->verdict, VX_COMPAT_REFUSES);
	assert_non_null(has(r, VX_COMPAT_CET_MSRS, VX_COMPAT_REFUSED, "KVM_SET_MSRS", 0x6A0));
	assert_null(has(r, VX_COMPAT_CET_MSRS, VX_COMPAT_REFUSED, "KVM_SET_MSRS", 0x6A4));
	/* icelake has no CET: the MSRs are not in its index list and their values are lost. */
	target_of(&hosts[find_host("icelake-server")], &t);
	compat_on(b, &t, r);
	assert_non_null(has(r, VX_COMPAT_CET_MSRS, VX_COMPAT_REFUSED, NULL, 0x6A4));
	/* The design: PL0-2_SSP have nowhere to go in "unsupported"; kvm-eager keeps them. */
	target_of(&hosts[find_host("alder-lake")], &t);
	t.design = VX_KVM_CET_UNSUPPORTED;
	compat_on(b, &t, r);
	assert_non_null(has(r, VX_COMPAT_CET_DESIGN, VX_COMPAT_REFUSED, NULL, 0));
	t.design = VX_KVM_CET_KVM_EAGER;
	compat_on(b, &t, r);
	assert_non_null(has(r, VX_COMPAT_CET_DESIGN, VX_COMPAT_NOTE, NULL, 0));
	assert_int_equal(r->verdict, VX_COMPAT_RESTORES);
	/* A VMM that saved no CET MSRs and no XSS for a guest with SHSTK (anchors.md §3 P5-6). */
	b->nmsrs = 0;
	compat_on(b, &t, r);
	assert_non_null(has(r, VX_COMPAT_BUNDLE, VX_COMPAT_WARNING, NULL, 0));
	free(b);
	free(r);
}

/* AMX: guest permission, XFD armed over tile data (kvm.md §2.6, §9). */
static void test_amx_xfd(void **state)
{
	struct vx_vmm_bundle *b = copy_of("sapphire-rapids");
	struct vx_compat_report *r = calloc(1, sizeof(*r));
	struct vx_compat_target t;

	(void)state;
	target_of(&hosts[find_host("granite-rapids")], &t);
	compat_on(b, &t, r);
	assert_int_equal(r->verdict, VX_COMPAT_RESTORES);
	assert_int_equal(r->target_uabi_size, 11008);
	assert_non_null(has(r, VX_COMPAT_AMX_PERM, VX_COMPAT_NOTE, NULL, 0));
	set_msr(b, 0x1C4, 0x40000);
	set_msr(b, 0x1C5, 0x40000);
	compat_on(b, &t, r);
	assert_non_null(has(r, VX_COMPAT_XFD, VX_COMPAT_WARNING, NULL, 0));
	assert_non_null(has(r, VX_COMPAT_XFD, VX_COMPAT_NOTE, NULL, 0));
	assert_int_equal(r->verdict, VX_COMPAT_RESTORES);
	free(b);
	free(r);
}

/* A 4096-byte blob of an AMX guest (KVM_GET_XSAVE before XSAVE2, anchors.md §3 P1) restores
 * after a resize to the 11008 bytes KVM_SET_XSAVE reads; an 11008-byte one of a guest without
 * AMX after a cut to 4096 (kvm.md §5.1). */
static void test_resize(void **state)
{
	struct vx_vmm_bundle *b = copy_of("sapphire-rapids"), *fixed = malloc(sizeof(*fixed));
	struct vx_compat_report *r = calloc(1, sizeof(*r));
	struct vx_error err = VX_ERROR_INIT;
	struct vx_compat_target t;
	uint64_t bv = vx_vmm_bundle_xstate_bv(b) & ~M_AMX;

	(void)state;
	target_of(&hosts[find_host("sapphire-rapids")], &t);
	for (unsigned i = 0; i < 8; i++)
		b->xsave[512 + i] = (uint8_t)(bv >> (8 * i));
	b->xsave_len = 4096;
	compat_on(b, &t, r);
	assert_int_equal(r->verdict, VX_COMPAT_CONVERTIBLE);
	assert_non_null(has(r, VX_COMPAT_XSAVE_SIZE, VX_COMPAT_CONVERT, NULL, 0));
	assert_int_equal(vx_compat_fix(b, &t, fixed, &err), 0);
	assert_int_equal(fixed->xsave_len, 11008);
	check_registers(&hosts[find_host("sapphire-rapids")].p, fixed, SEED, bv);
	free(b);
	free(fixed);
	free(r);
}

/* MXCSR against the target's MXCSR_MASK (kvm.md §5.3; arch.md §2.2). */
static void test_mxcsr(void **state)
{
	struct vx_vmm_bundle *b = copy_of("sapphire-rapids");
	struct vx_compat_report *r = calloc(1, sizeof(*r));
	const struct vx_compat_finding *f;
	struct vx_compat_target t;

	(void)state;
	target_of(&hosts[find_host("sapphire-rapids")], &t);
	t.profile.mxcsr_mask = 0xFFBF; /* a CPU without DAZ */
	b->xsave[24] |= 0x40;	       /* MXCSR.DAZ */
	compat_on(b, &t, r);
	assert_int_equal(r->verdict, VX_COMPAT_REFUSES);
	f = has(r, VX_COMPAT_MXCSR, VX_COMPAT_REFUSED, NULL, 0);
	assert_non_null(f);
	assert_int_equal(f ? f->bits : 0, 0x40);
	/* The source's MXCSR_MASK has MM (AMD bit 17) the target lacks: a warning only. */
	b->xsave[24] &= (uint8_t)~0x40;
	b->xsave[28 + 2] |= 0x2;
	target_of(&hosts[find_host("sapphire-rapids")], &t);
	compat_on(b, &t, r);
	assert_non_null(has(r, VX_COMPAT_MXCSR, VX_COMPAT_WARNING, NULL, 0));
	assert_int_equal(r->verdict, VX_COMPAT_RESTORES);
	free(b);
	free(r);
}

/* ----------------------------------------------------------------------------------------- */
/* A real VMM's state: the Cloud Hypervisor fixture (tests/fixtures/vmm/README.md)             */

static char *slurp(const char *name, size_t *n)
{
	char path[512];
	FILE *f;
	char *text;

	snprintf(path, sizeof(path), "%s/vmm/%s", VXSAVE_FIXTURE_DIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	text = malloc(1u << 20);
	assert_non_null(text);
	*n = fread(text, 1, (1u << 20) - 1, f);
	text[*n] = '\0';
	fclose(f);
	return text;
}

static void parse_fixture(const char *name, unsigned vcpu, struct vx_vmm_bundle *b,
			  enum vx_vmm_state_format want)
{
	struct vx_error err = VX_ERROR_INIT;
	enum vx_vmm_state_format f = VX_VMM_STATE_FORMAT_COUNT;
	size_t n;
	char *text = slurp(name, &n);

	if (vx_vmm_bundle_parse(text, n, vcpu, b, &f, &err) != 0)
		fail_msg("%s vCPU %u: %s", name, vcpu, err.reason);
	assert_int_equal(f, want);
	free(text);
}

static void test_cloud_hypervisor(void **state)
{
	struct vx_vmm_bundle *real = calloc(1, sizeof(*real)), *ch = calloc(1, sizeof(*ch));
	struct vx_compat_report *r = calloc(1, sizeof(*r));
	struct vx_compat_target t;
	struct host spr = hosts[find_host("sapphire-rapids")];
	uint64_t xcr0 = 0;
	unsigned nref = 0;

	(void)state;
	parse_fixture("real-kvm-vcpu0.bundle.json", 0, real, VX_VMM_STATE_BUNDLE);
	parse_fixture("ch-snapshot-state.json", 0, ch, VX_VMM_STATE_CH_SNAPSHOT);
	/* The same capture: every field a VMM restores came through. */
	assert_int_equal(ch->ncpuid, real->ncpuid);
	assert_memory_equal(ch->cpuid, real->cpuid, ch->ncpuid * sizeof(ch->cpuid[0]));
	assert_int_equal(ch->nmsrs, real->nmsrs);
	assert_memory_equal(ch->msrs, real->msrs, ch->nmsrs * sizeof(ch->msrs[0]));
	assert_int_equal(ch->xsave_len, real->xsave_len);
	assert_memory_equal(ch->xsave, real->xsave, ch->xsave_len);
	assert_true(vx_vmm_bundle_xcr0(ch, &xcr0));
	assert_true(ch->profile_inferred);
	/* The kernel's KVM_GET_XSAVE2 holds the registers loaded with seed 1 and 2. */
	check_registers(&real->profile, real, 1, xcr0 & M_PATTERNED);
	parse_fixture("ch-snapshot-state.json", 1, ch, VX_VMM_STATE_CH_SNAPSHOT);
	assert_int_equal(ch->vcpu_id, 1);
	check_registers(&real->profile, ch, 2, xcr0 & M_PATTERNED);
	/* Its own host (the recorded profile, kvm_pvm) takes it as is. */
	vx_compat_target_init(&t, &real->profile);
	t.flavour = VX_KVM_PVM;
	compat_on(ch, &t, r);
	assert_int_equal(r->verdict, VX_COMPAT_RESTORES);
	assert_true(r->restore_ran && r->restore_refusals == 0);
	/* Sapphire Rapids: refused for each guest CPUID feature its KVM does not have. */
	target_of(&spr, &t);
	compat_on(ch, &t, r);
	assert_int_equal(r->verdict, VX_COMPAT_REFUSES);
	for (unsigned i = 0; i < vx_kvm_feature_count(); i++) {
		const struct vx_kvm_feature_info *f = vx_kvm_feature_at(i);
		const struct vx_kvm_word_info *w = vx_kvm_word_info(f->word);

		nref += f->kind != VX_KVM_CAP_RUNTIME && !oracle_has(&spr, f) &&
			bundle_bit(ch, w->leaf, w->subleaf, w->reg, f->bit);
	}
	for (unsigned i = 0; i < r->count; i++)
		nref -= r->findings[i].check == VX_COMPAT_CPUID;
	assert_int_equal(nref, 0);
	free(real);
	free(ch);
	free(r);
}

static void test_cloud_hypervisor_malformed(void **state)
{
	static const struct {
		const char *what, *from, *to, *says;
	} edits[] = {
	    {"no cpu-manager", "\"cpu-manager\"", "\"cpu-managers\"", "no \"cpu-manager\""},
	    {"MSHV state", "{\\\"Kvm\\\":", "{\\\"Mshv\\\":", "MSHV"},
	    {"embedded JSON", "{\\\"Kvm\\\":{", "{\\\"Kvm\\\":{{", "embedded vCPU state"},
	    {"region words", "\\\"region\\\":[", "\\\"region\\\":[1,", "oversized: 1025 words"},
	    {"xcrs bytes", "\\\"xcrs\\\":[1,", "\\\"xcrs\\\":[", "truncated: 391 bytes"},
	    {"nr_xcrs", "\\\"xcrs\\\":[1,", "\\\"xcrs\\\":[17,", "nr_xcrs = 17"},
	    {"state type", "\"state\":\"{\\\"Kvm", "\"state\":7,\"x\":\"{\\\"Kvm",
	     "as a JSON string"},
	};
	size_t n;
	char *text = slurp("ch-snapshot-state.json", &n);

	(void)state;
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *t = edit(text, edits[i].from, edits[i].to);

		expect_bad(edits[i].what, t, strlen(t), -EINVAL, 0, edits[i].says);
		free(t);
	}
	/* A vCPU the snapshot does not have. */
	{
		struct vx_vmm_bundle *b = calloc(1, sizeof(*b));
		struct vx_error err = VX_ERROR_INIT;

		assert_int_equal(vx_vmm_bundle_parse(text, n, 2, b, NULL, &err), -EINVAL);
		assert_non_null(strstr(err.reason, "no \"2\""));
		free(b);
	}
	free(text);
}

/* ----------------------------------------------------------------------------------------- */
/* The real /dev/kvm of this machine                                                            */

static void test_real_capture(void **state)
{
	struct vx_vmm_bundle *b = calloc(1, sizeof(*b));
	struct vx_compat_report *r = calloc(1, sizeof(*r));
	struct vx_vmm_capture_options o;
	struct vx_compat_target t;
	struct vx_kvm_backend be;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile host;
	enum vx_kvm_flavour flavour = VX_KVM_VMX;
	uint64_t xcr0 = 0;
	char why[160];

	(void)state;
	if (!vx_kvm_real_available(why, sizeof(why)) || vx_profile_from_host(&host, &err) != 0) {
		printf("SKIP: real capture: %s\n", why);
		free(b);
		free(r);
		skip();
		return; /* skip() longjmps; the return says so to cppcheck (doubleFree below) */
	}
	vx_kvm_backend_real(&be);
	vx_vmm_capture_options_init(&o);
	o.backend = &be;
	o.host = &host;
	o.seed = 3;
	if (vx_kvm_detect_flavour(NULL, &flavour) == 0)
		o.flavour = (int)flavour;
	assert_int_equal(vx_vmm_capture(&o, b, &err), 0);
	assert_true(vx_vmm_bundle_xcr0(b, &xcr0));
	check_registers(&host, b, 3, xcr0 & M_PATTERNED);
	vx_compat_target_init(&t, &host);
	t.flavour = flavour;
	t.live = true;
	compat_on(b, &t, r);
	printf("real capture: XCR0 0x%llx, %u bytes, %u MSRs; compat on the live host: %s\n",
	       (unsigned long long)xcr0, b->xsave_len, b->nmsrs,
	       vx_compat_verdict_name(r->verdict));
	assert_int_equal(r->verdict, VX_COMPAT_RESTORES);
	free(b);
	free(r);
}

/* ----------------------------------------------------------------------------------------- */
/* Baselines                                                                                    */

struct bexpect {
	uint64_t xcr0, xss;
	bool shstk, ibt;
};

static bool same_geometry(const unsigned *idx, unsigned n, unsigned i)
{
	struct vx_cpuid_regs a = vx_profile_leaf(&hosts[idx[0]].p, 0xD, i);

	for (unsigned k = 1; k < n; k++) {
		struct vx_cpuid_regs b = vx_profile_leaf(&hosts[idx[k]].p, 0xD, i);

		if (a.eax != b.eax || a.ebx != b.ebx || ((a.ecx ^ b.ecx) & 2))
			return false;
	}
	return true;
}

static void oracle_baseline(const unsigned *idx, unsigned n, struct bexpect *e)
{
	bool changed = true;

	e->xcr0 = e->xss = UINT64_MAX;
	e->shstk = e->ibt = true;
	for (unsigned k = 0; k < n; k++) {
		e->xcr0 &= hosts[idx[k]].xcr0;
		e->xss &= hosts[idx[k]].xss;
		e->shstk &= hosts[idx[k]].shstk;
		e->ibt &= hosts[idx[k]].ibt;
	}
	for (unsigned i = 2; i < 63; i++)
		if (((e->xcr0 | e->xss) >> i & 1) && !same_geometry(idx, n, i)) {
			e->xcr0 &= ~(UINT64_C(1) << i);
			e->xss &= ~(UINT64_C(1) << i);
		}
	/* arch.md §3.1: requirements and all-or-nothing groups. */
	while (changed) {
		changed = false;
		for (unsigned i = 2; i < 63; i++) {
			const struct vx_component_info *c = vx_component_info(i);

			if ((e->xcr0 >> i & 1) && c && ((c->requires | c->group) & ~e->xcr0)) {
				e->xcr0 &= ~(UINT64_C(1) << i);
				changed = true;
			}
		}
	}
	if ((e->xss & M_CET) != M_CET)
		e->xss &= ~M_CET;
	e->shstk &= e->xss == M_CET;
	e->ibt &= e->xss == M_CET;
}

/* The baseline's CPUID loads on every host of the pool, with its XCR0, and gives the vCPU the
 * CET caps it says (KVM_SET_CPUID2, KVM_SET_XCRS on each host's model). */
static void check_loads(const struct vx_baseline *b, const unsigned *idx, unsigned n)
{
	unsigned shstk = (unsigned)vx_kvm_feature_by_name("shstk");

	for (unsigned k = 0; k < n; k++) {
		const struct host *h = &hosts[idx[k]];
		struct vx_vmm_vcpu_config cfg = {b->cpuid, b->ncpuid, (b->xcr0 & M_AMX) != 0, true,
						 b->xcr0};
		struct vx_vmm_host_options o;
		struct vx_vmm_host *vh = NULL;
		struct vx_vmm_vcpu *v = NULL;
		struct vx_error err = VX_ERROR_INIT;
		struct vx_kvm_vcpu *kv;

		vx_vmm_host_options_init(&o);
		o.flavour = (int)h->flavour;
		assert_int_equal(vx_vmm_host_create(&h->p, &o, &vh, &err), 0);
		if (vx_vmm_vcpu_create(vh, &cfg, &v, &err) != 0)
			fail_msg("baseline CPUID on %s: %s", h->p.name, err.reason);
		kv = vx_vmm_vcpu_kvm(v);
		assert_int_equal(vx_kvm_vcpu_guest_supported_xcr0(kv) & b->xcr0, b->xcr0);
		assert_int_equal(vx_kvm_vcpu_guest_supported_xss(kv), b->xss);
		assert_int_equal(vx_kvm_vcpu_cap_has(kv, shstk), b->shstk);
		vx_vmm_vcpu_destroy(v);
		vx_vmm_host_destroy(vh);
	}
}

static void check_baseline(const unsigned *idx, unsigned n)
{
	struct vx_compat_target t[MAX_PROFILES];
	struct vx_baseline *b = calloc(1, sizeof(*b));
	struct vx_error err = VX_ERROR_INIT;
	struct bexpect e;
	/* The callers pass n >= 1 hosts, so idx[0] is set; the value is a default. */
	/* NOLINTNEXTLINE(clang-analyzer-deadcode.*,clang-analyzer-core.uninitialized.*) */
	uint32_t size = std_size(&hosts[idx[0]].p, 0);

	for (unsigned k = 0; k < n; k++)
		target_of(&hosts[idx[k]], &t[k]);
	assert_int_equal(vx_baseline_compute(t, n, b, &err), 0);
	oracle_baseline(idx, n, &e);
	if (b->xcr0 != e.xcr0 || b->xss != e.xss || b->shstk != e.shstk || b->ibt != e.ibt)
		fail_msg("baseline of %s + %u: xcr0 0x%llx/0x%llx xss 0x%llx/0x%llx shstk %d/%d "
			 "ibt %d/%d",
			 hosts[idx[0]].p.name, n - 1, (unsigned long long)b->xcr0,
			 (unsigned long long)e.xcr0, (unsigned long long)b->xss,
			 (unsigned long long)e.xss, b->shstk, e.shstk, b->ibt, e.ibt);
	/* Leaf 0xD is derived: sizes from the (common) geometry, one sub-leaf per component. */
	size = std_size(&hosts[idx[0]].p, e.xcr0);
	for (uint32_t i = 0; i < b->ncpuid; i++) {
		const struct vx_kvm_cpuid_entry *c = &b->cpuid[i];

		if (c->function == 0xD && c->index == 0) {
			assert_int_equal(c->eax | (uint64_t)c->edx << 32, e.xcr0);
			assert_int_equal(c->ebx, size);
			assert_int_equal(c->ecx, size);
		} else if (c->function == 0xD && c->index == 1) {
			assert_int_equal(c->ecx | (uint64_t)c->edx << 32, e.xss);
		} else if (c->function == 0xD) {
			assert_true((e.xcr0 | e.xss) >> c->index & 1);
			assert_int_equal(c->eax,
					 vx_profile_leaf(&hosts[idx[0]].p, 0xD, c->index).eax);
		} else if (c->function == 7 && c->index == 0) {
			assert_int_equal(c->ecx >> 7 & 1, e.shstk);
			assert_int_equal(c->edx >> 20 & 1, e.ibt);
		}
	}
	check_loads(b, idx, n);
	free(b);
}

static void test_baselines(void **state)
{
	unsigned idx[MAX_PROFILES], pairs = 0;

	(void)state;
	for (unsigned a = 0; a < nhosts; a++) {
		for (unsigned c = a; c < nhosts; c++) {
			idx[0] = a;
			idx[1] = c;
			check_baseline(idx, a == c ? 1 : 2);
			pairs++;
		}
	}
	for (unsigned k = 0; k < nhosts; k++)
		idx[k] = k;
	check_baseline(idx, nhosts);
	printf("%u baselines of one or two hosts and one of all %u\n", pairs, nhosts);
}

static void test_baseline_errors(void **state)
{
	struct vx_baseline *b = calloc(1, sizeof(*b));
	struct vx_error err = VX_ERROR_INIT;
	struct vx_compat_target t;

	(void)state;
	assert_int_equal(vx_baseline_compute(NULL, 0, b, &err), -EINVAL);
	target_of(&hosts[0], &t);
	assert_int_equal(vx_baseline_compute(&t, VX_BASELINE_MAX_HOSTS + 1, b, &err), -EINVAL);
	/* SVM on an Intel CPU cannot be booted: the host is named. */
	target_of(&hosts[find_host("sapphire-rapids")], &t);
	t.flavour = VX_KVM_SVM;
	assert_int_equal(vx_baseline_compute(&t, 1, b, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "sapphire-rapids"));
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_captures),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_embedded_host),
	    cmocka_unit_test(test_valid_minimal),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_compat_pairs),
	    cmocka_unit_test(test_cet_state),
	    cmocka_unit_test(test_amx_xfd),
	    cmocka_unit_test(test_resize),
	    cmocka_unit_test(test_mxcsr),
	    cmocka_unit_test(test_cloud_hypervisor),
	    cmocka_unit_test(test_cloud_hypervisor_malformed),
	    cmocka_unit_test(test_real_capture),
	    cmocka_unit_test(test_baselines),
	    cmocka_unit_test(test_baseline_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
