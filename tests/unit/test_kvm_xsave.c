/* SPDX-License-Identifier: MIT */
/*
 * kvm layer: the XSAVE uABI of a vCPU (kvm.md §5): KVM_GET_XSAVE (-EINVAL once uabi_size >
 * 4096), KVM_GET_XSAVE2, KVM_SET_XSAVE through the fpu layer's guest conversions.
 *   §5.2: exported XSTATE_BV = saved ∩ user_xfeatures ∩ (guest_supported_xcr0 | FP | SSE),
 *   PKRU from vcpu->pkru, absent components and gaps zero, sw_reserved word 0 = the kernel's
 *   XCR0; §5.3: every -EINVAL (bits outside supported_xcr0, outside user_xfeatures, XCOMP_BV,
 *   reserved header bytes, MXCSR), PKRU unchanged without its bit, supervisor state kept, the
 *   host without XSAVE; §5.1 sizes, confidential fpstates; §9: 6.18.2's XFD behaviour.
 *   §8.6 items 61, 63, 65, 67 (and 71 on the way to AMX).
 * Round trips SET→GET are byte-exact over the bytes KVM defines, on random valid blobs, and
 * random mutations of valid blobs are refused with the state unchanged (fixed seeds, printed).
 * Expected buffers are built here from the spec and the profiles' leaf 0xD:
 *   sapphire-rapids: YMM 256 B @576, opmask 64 @1088, ZMM_Hi256 512 @1152, Hi16_ZMM 1024 @1664,
 *   PKRU 8 @2688, XTILECFG 64 @2752, XTILEDATA 8192 @2816; kernel XCR0 0x602e7, so the AMX
 *   uABI size is 2816 + 8192 = 11008 and the tile data sits at 11008 - 8192.
 *   zen4: YMM @576, opmask 64 @832, ZMM_Hi256 512 @896, Hi16_ZMM 1024 @1408, PKRU 8 @2432;
 *   kernel XCR0 0x2e7.
 *   Both: FXSAVE's MXCSR_MASK is 0xFFFF, so init_fpstate has FCW 0x037F, MXCSR 0x1F80, mask
 *   0xFFFF, and MXCSR bits 31:16 are reserved.
 */
#include "kvm_test_util.h"

#include <vxsave/kvm_regs.h>

#include "kvm/kvm_internal.h"

#define SPR	  "sapphire-rapids"
#define ZEN4	  "zen4"
#define FPSSE	  UINT64_C(0x3)
#define M_FP	  UINT64_C(0x1)
#define M_SSE	  UINT64_C(0x2)
#define M_YMM	  UINT64_C(0x4)
#define M_PKRU	  UINT64_C(0x200)
#define M_TCFG	  UINT64_C(0x20000)
#define M_TDATA	  UINT64_C(0x40000)
#define AMX_SIZE  11008u
#define MAX_BLOB  AMX_SIZE
#define SEED	  UINT64_C(0x6b32786176652121)
#define ROUNDS	  200
#define MUTATIONS 400

struct comp {
	unsigned id;
	uint32_t off, size;
};

/* One host: its user components (standard offsets) and the kernel's XCR0. */
struct host {
	const char *profile;
	enum vx_kvm_flavour flavour;
	uint64_t kernel_xcr0;
	struct comp comps[8];
	unsigned ncomps;
};

static const struct host spr = {SPR,
				VX_KVM_VMX,
				0x602e7,
				{{2, 576, 256},
				 {5, 1088, 64},
				 {6, 1152, 512},
				 {7, 1664, 1024},
				 {9, 2688, 8},
				 {17, 2752, 64},
				 {18, 2816, 8192}},
				7};
static const struct host zen4 = {
    ZEN4,
    VX_KVM_SVM,
    0x2e7,
    {{2, 576, 256}, {5, 832, 64}, {6, 896, 512}, {7, 1408, 1024}, {9, 2432, 8}},
    5};

static _Alignas(64) uint8_t blob[MAX_BLOB], got[MAX_BLOB], want[MAX_BLOB], again[MAX_BLOB];

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint64_t next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* ----------------------------------------------------------------------------------------- */
/* Blobs and the expected GET                                                                   */

/* Random bytes everywhere (also where SET must not look), a valid header and MXCSR. */
static uint64_t random_blob(uint64_t *rng, uint8_t *b, uint32_t size, uint64_t allowed)
{
	uint64_t hdr;

	for (uint32_t i = 0; i < size; i += 8) {
		uint64_t r = next(rng);

		memcpy(b + i, &r, size - i < 8 ? size - i : 8);
	}
	hdr = next(rng) & allowed;
	wr32(b + 24, (uint32_t)next(rng) & 0xFFFF); /* MXCSR within MXCSR_MASK 0xFFFF */
	wr64(b + 512, hdr);
	memset(b + 520, 0, 56); /* XCOMP_BV and the reserved header bytes */
	return hdr;
}

/*
 * What KVM_GET_XSAVE(2) must return after KVM_SET_XSAVE(@src) when XSTATE_BV @hdr is exported
 * (§5.2, linux-fpu.md §7.1): legacy pieces by FP / SSE|YMM / SSE, else init_fpstate; sw_reserved
 * word 0 the kernel's XCR0; exported components copied, PKRU from @pkru; the rest zero.
 */
static void expect_get(const struct host *h, const uint8_t *src, uint64_t hdr, uint32_t pkru,
		       uint8_t *out, uint32_t size)
{
	memset(out, 0, size);
	out[0] = 0x7F; /* init FCW 0x037F */
	out[1] = 0x03;
	wr32(out + 24, 0x1F80);
	wr32(out + 28, 0xFFFF);
	if (hdr & M_FP) {
		memcpy(out, src, 24);
		memcpy(out + 32, src + 32, 128);
	}
	if (hdr & (M_SSE | M_YMM))
		memcpy(out + 24, src + 24, 8);
	if (hdr & M_SSE)
		memcpy(out + 160, src + 160, 256);
	wr64(out + 464, h->kernel_xcr0);
	wr64(out + 512, hdr);
	for (unsigned i = 0; i < h->ncomps; i++) {
		const struct comp *c = &h->comps[i];

		if (!(hdr & VX_BIT(c->id)) || c->off + c->size > size)
			continue;
		if (c->id == 9)
			wr32(out + c->off, pkru);
		else
			memcpy(out + c->off, src + c->off, c->size);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* Environment                                                                                  */

static struct vx_kvm_vcpu *vcpu_with_cpuid(struct kt_env *e, struct vx_kvm_vm **vm, unsigned id,
					   bool cpuid)
{
	struct vx_kvm_cpuid_entry c[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vcpu *v = kt_vcpu(e, vm, id);
	uint32_t n;

	if (!cpuid)
		return v;
	n = kt_supported(e, c, VX_KVM_MAX_CPUID_ENTRIES);
	ft_check(vx_kvm_vcpu_set_cpuid2(v, e->vmm, c, n, &err), &err, "KVM_SET_CPUID2");
	return v;
}

static void set_ok(struct vx_kvm_vcpu *v, const uint8_t *b, uint32_t size)
{
	struct vx_error err = VX_ERROR_INIT;

	ft_check(vx_kvm_vcpu_set_xsave(v, b, size, &err), &err, "KVM_SET_XSAVE");
}

static void get_ok(struct vx_kvm_vcpu *v, bool v2, uint8_t *b, uint32_t size)
{
	struct vx_error err = VX_ERROR_INIT;

	memset(b, 0xEE, size);
	ft_check(vx_kvm_vcpu_get_xsave(v, v2, b, size, &err), &err, "KVM_GET_XSAVE");
}

static void enter(struct kt_env *e, struct vx_kvm_vcpu *v, bool in)
{
	struct vx_error err = VX_ERROR_INIT;

	ft_check(vx_fpu_swap_kvm_fpstate(e->vmm, &v->gfpu, in, &err), &err, "guest FPU swap");
}

/* The guest (its fpstate installed) writes or reads register @name. */
static void guest_reg(struct kt_env *e, struct vx_kvm_vcpu *v, const char *name, void *value,
		      bool write)
{
	const struct vx_reg_info *r = ft_reg(name);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event ev;
	int rc = write ? vx_fpu_guest_set_reg(e->vmm, &v->gfpu, r, value, r->width, &ev, &err)
		       : vx_fpu_guest_get_reg(e->vmm, &v->gfpu, r, value, r->width, &err);

	ft_check(rc, &err, name);
}

/* ----------------------------------------------------------------------------------------- */
/* Tests                                                                                        */

/* §5.1/§5.2 on a fresh vCPU: 4096 bytes, XSTATE_BV 0, init legacy values, sw_reserved. */
static void test_fresh_get(void **state)
{
	struct vx_kvm_vm *vm = NULL;
	struct kt_env e;
	struct vx_kvm_vcpu *v;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = vcpu_with_cpuid(&e, &vm, 0, true);
	assert_int_equal(vx_kvm_vcpu_guest_fpu(v)->uabi_size, VX_KVM_XSAVE_SIZE);
	get_ok(v, false, got, VX_KVM_XSAVE_SIZE);
	expect_get(&spr, blob, 0, 0, want, VX_KVM_XSAVE_SIZE);
	assert_memory_equal(got, want, VX_KVM_XSAVE_SIZE);
	get_ok(v, true, got, VX_KVM_XSAVE_SIZE);
	assert_memory_equal(got, want, VX_KVM_XSAVE_SIZE);
	kt_down(&e);
}

/* Random valid blobs: SET→GET as expected, then GET→SET→GET identical. */
static void round_trips(const struct host *h, uint64_t seed)
{
	struct vx_kvm_vm *vm = NULL;
	struct kt_env e;
	struct vx_kvm_vcpu *v;
	uint64_t rng = seed, gsx, allowed;
	uint32_t pkru = 0;

	kt_up(&e, h->profile, h->flavour, VX_KVM_CET_GUEST_ONLY);
	v = vcpu_with_cpuid(&e, &vm, 0, true);
	gsx = vx_kvm_vcpu_guest_supported_xcr0(v);
	assert_int_equal(gsx, 0x2e7); /* no AMX permission: 0xD.0 EAX 0x2e7 on both */
	/* user_xfeatures: the guest defaults minus XTILE_DATA (SPR keeps XTILE_CFG). */
	allowed = h->kernel_xcr0 & ~M_TDATA;
	print_message("round trips on %s, seed 0x%llx\n", h->profile, (unsigned long long)seed);
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t hdr = random_blob(&rng, blob, VX_KVM_XSAVE_SIZE, allowed);

		if (hdr & M_PKRU)
			pkru = rd32(blob + h->comps[4].off);
		set_ok(v, blob, VX_KVM_XSAVE_SIZE);
		assert_int_equal(v->pkru, pkru);
		get_ok(v, i & 1, got, VX_KVM_XSAVE_SIZE);
		expect_get(h, blob, hdr & (gsx | FPSSE), pkru, want, VX_KVM_XSAVE_SIZE);
		if (memcmp(got, want, VX_KVM_XSAVE_SIZE) != 0)
			fail_msg("round %d (hdr 0x%llx) differs", i, (unsigned long long)hdr);
		set_ok(v, got, VX_KVM_XSAVE_SIZE);
		get_ok(v, true, again, VX_KVM_XSAVE_SIZE);
		assert_memory_equal(again, got, VX_KVM_XSAVE_SIZE);
	}
	kt_down(&e);
}

static void test_round_trips(void **state)
{
	(void)state;
	round_trips(&spr, SEED);
	round_trips(&zen4, SEED ^ 0x5a5a);
}

/* One mutation of a valid blob; returns the expected result. */
enum mutation {
	MUT_OUTSIDE_SUPPORTED,
	MUT_TILEDATA,
	MUT_XCOMP_BV,
	MUT_RESERVED,
	MUT_MXCSR,
	MUT_MXCSR_UNCHECKED,
	MUT_COUNT
};

static int mutate(uint64_t *rng, enum mutation m, uint8_t *b, struct vx_error *where)
{
	uint64_t hdr = rd64(b + 512), bit;
	uint32_t off;

	switch (m) {
	case MUT_OUTSIDE_SUPPORTED: /* any bit outside supported_xcr0 0x602e7 */
		do
			bit = VX_BIT(next(rng) % 64);
		while (bit & 0x602e7);
		wr64(b + 512, hdr | bit);
		where->bits = bit;
		return -EINVAL;
	case MUT_TILEDATA: /* supported, but not in user_xfeatures before KVM_SET_CPUID2 */
		wr64(b + 512, hdr | M_TDATA);
		where->bits = M_TDATA;
		return -EINVAL;
	case MUT_XCOMP_BV:
		wr64(b + 520, next(rng) | 1);
		where->offset = 520;
		return -EINVAL;
	case MUT_RESERVED:
		off = 528 + (uint32_t)(next(rng) % 48);
		b[off] = (uint8_t)(next(rng) | 1);
		where->offset = off;
		return -EINVAL;
	case MUT_MXCSR: /* a reserved MXCSR bit with FP, SSE or YMM present */
		wr32(b + 24, rd32(b + 24) | (uint32_t)VX_BIT(16 + next(rng) % 16));
		wr64(b + 512, hdr | VX_BIT(next(rng) % 3));
		where->offset = 24;
		return -EINVAL;
	default: /* without FP, SSE and YMM MXCSR is neither checked nor copied */
		wr32(b + 24, 0xFFFFFFFF);
		wr64(b + 512, hdr & ~UINT64_C(0x7));
		return 0;
	}
}

static void test_mutations(void **state)
{
	struct vx_error err = VX_ERROR_INIT, exp;
	struct vx_kvm_vm *vm = NULL;
	struct kt_env e;
	struct vx_kvm_vcpu *v;
	uint64_t rng = SEED ^ 0x1234, hdr;
	unsigned seen[MUT_COUNT] = {0};

	(void)state;
	print_message("mutations on %s, seed 0x%llx\n", SPR, (unsigned long long)rng);
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = vcpu_with_cpuid(&e, &vm, 0, true);
	for (int i = 0; i < MUTATIONS; i++) {
		enum mutation m = (enum mutation)(next(&rng) % MUT_COUNT);
		uint32_t pkru;
		int rc, expect;

		random_blob(&rng, blob, VX_KVM_XSAVE_SIZE, 0x202e7);
		wr32(blob + 2688, (uint32_t)next(&rng));
		wr64(blob + 512, rd64(blob + 512) | M_PKRU);
		set_ok(v, blob, VX_KVM_XSAVE_SIZE);
		get_ok(v, true, got, VX_KVM_XSAVE_SIZE);
		pkru = v->pkru;
		exp = (struct vx_error)VX_ERROR_INIT;
		expect = mutate(&rng, m, blob, &exp);
		vx_error_clear(&err);
		rc = vx_kvm_vcpu_set_xsave(v, blob, VX_KVM_XSAVE_SIZE, &err);
		seen[m]++;
		if (rc != expect)
			fail_msg("mutation %d kind %d: %d, expected %d (%s)", i, (int)m, rc, expect,
				 err.reason);
		if (expect == 0) {
			hdr = rd64(blob + 512);
			expect_get(&spr, blob, hdr & 0x2e7, pkru, want, VX_KVM_XSAVE_SIZE);
			get_ok(v, true, again, VX_KVM_XSAVE_SIZE);
			assert_memory_equal(again, want, VX_KVM_XSAVE_SIZE);
			continue;
		}
		assert_int_equal(err.code, -EINVAL);
		if (exp.bits)
			assert_int_equal(err.bits, exp.bits);
		if (exp.offset >= 0)
			assert_int_equal(err.offset, exp.offset);
		/* Refused: the fpstate and PKRU unchanged. */
		get_ok(v, true, again, VX_KVM_XSAVE_SIZE);
		assert_memory_equal(again, got, VX_KVM_XSAVE_SIZE);
		assert_int_equal(v->pkru, pkru);
	}
	for (int m = 0; m < MUT_COUNT; m++)
		assert_true(seen[m] > 0);
	kt_down(&e);
}

/* Items 61 and 63: SET before any CPUID and after an empty one (real and forced XSTATE_BV). */
static void test_set_without_cpuid(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct kt_env e;
	struct vx_kvm_vcpu *src, *bare, *empty;
	uint64_t rng = SEED ^ 61, hdr;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	src = vcpu_with_cpuid(&e, &vm, 0, true);
	bare = vcpu_with_cpuid(&e, &vm, 1, false);
	empty = vcpu_with_cpuid(&e, &vm, 2, false);
	ft_check(vx_kvm_vcpu_set_cpuid2(empty, e.vmm, NULL, 0, &err), &err, "empty CPUID");
	assert_int_equal(vx_kvm_vcpu_guest_supported_xcr0(bare), 0);
	/* A saved state with every guest-visible feature in use. */
	random_blob(&rng, blob, VX_KVM_XSAVE_SIZE, 0);
	wr64(blob + 512, 0x2e7);
	set_ok(src, blob, VX_KVM_XSAVE_SIZE);
	get_ok(src, true, got, VX_KVM_XSAVE_SIZE);
	assert_int_equal(rd64(got + 512), 0x2e7);
	/* Item 61: accepted (checked against KVM's support), but only FP|SSE are exported. */
	set_ok(bare, got, VX_KVM_XSAVE_SIZE);
	assert_int_equal(bare->pkru, src->pkru);
	get_ok(bare, true, again, VX_KVM_XSAVE_SIZE);
	expect_get(&spr, got, FPSSE, 0, want, VX_KVM_XSAVE_SIZE);
	assert_memory_equal(again, want, VX_KVM_XSAVE_SIZE);
	/* Item 63: the real XSTATE_BV (FP|SSE, as saved from the CPUID-less vCPU) and one
	 * forced to the supported 0xD.0 EAX (0x2e7). */
	hdr = rd64(again + 512);
	assert_int_equal(hdr, FPSSE);
	set_ok(empty, again, VX_KVM_XSAVE_SIZE);
	wr64(again + 512, 0x2e7);
	set_ok(empty, again, VX_KVM_XSAVE_SIZE);
	kt_down(&e);
}

/* Item 65: PKRU is taken with its bit and left alone without it. */
static void test_pkru(void **state)
{
	struct vx_kvm_vm *vm = NULL;
	struct kt_env e;
	struct vx_kvm_vcpu *v;
	uint64_t rng = SEED ^ 65;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = vcpu_with_cpuid(&e, &vm, 0, true);
	random_blob(&rng, blob, VX_KVM_XSAVE_SIZE, 0);
	wr64(blob + 512, FPSSE | M_PKRU);
	wr32(blob + 2688, 0x55555554);
	set_ok(v, blob, VX_KVM_XSAVE_SIZE);
	assert_int_equal(v->pkru, 0x55555554);
	get_ok(v, true, got, VX_KVM_XSAVE_SIZE);
	assert_int_equal(rd32(got + 2688), 0x55555554);
	/* Without the bit: vcpu PKRU unchanged, and nothing exported for PKRU. */
	wr64(blob + 512, FPSSE);
	wr32(blob + 2688, 0x12345678);
	set_ok(v, blob, VX_KVM_XSAVE_SIZE);
	assert_int_equal(v->pkru, 0x55555554);
	get_ok(v, true, got, VX_KVM_XSAVE_SIZE);
	assert_int_equal(rd64(got + 512), FPSSE);
	assert_int_equal(rd32(got + 2688), 0);
	/* The exported PKRU is vcpu->pkru, not the image (§5.2). */
	wr64(blob + 512, M_PKRU);
	wr32(blob + 2688, 0);
	set_ok(v, blob, VX_KVM_XSAVE_SIZE);
	v->pkru = 0xC;
	get_ok(v, true, got, VX_KVM_XSAVE_SIZE);
	assert_int_equal(rd32(got + 2688), 0xC);
	kt_down(&e);
}

/* §5.1: -EFAULT for a missing or short buffer, -EBUSY inside KVM_RUN, confidential state. */
static void test_buffers_and_states(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct kt_env e;
	struct vx_kvm_vcpu *v;
	uint8_t *image;
	uint32_t size;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = vcpu_with_cpuid(&e, &vm, 0, true);
	memset(blob, 0, sizeof(blob));
	wr32(blob + 24, 0x1F80);
	assert_int_equal(vx_kvm_vcpu_get_xsave(v, false, NULL, 4096, &err), -EFAULT);
	assert_int_equal(vx_kvm_vcpu_get_xsave(v, true, got, 4095, &err), -EFAULT);
	assert_int_equal(vx_kvm_vcpu_set_xsave(v, NULL, 4096, &err), -EFAULT);
	assert_int_equal(vx_kvm_vcpu_set_xsave(v, blob, 4095, &err), -EFAULT);
	assert_int_equal(err.offset, 4095);
	/* Inside KVM_RUN the guest fpstate is installed. */
	ft_schedule(e.vmm, 0);
	enter(&e, v, true);
	assert_int_equal(vx_kvm_vcpu_get_xsave(v, true, got, 4096, &err), -EBUSY);
	assert_int_equal(vx_kvm_vcpu_set_xsave(v, blob, 4096, &err), -EBUSY);
	assert_non_null(strstr(err.reason, "KVM_RUN"));
	enter(&e, v, false);
	set_ok(v, blob, VX_KVM_XSAVE_SIZE);
	/* Confidential, no protected state: 0, a zeroed buffer, nothing loaded or validated. */
	vx_fpu_guest_set_confidential(&v->gfpu);
	get_ok(v, false, got, VX_KVM_XSAVE_SIZE);
	for (uint32_t i = 0; i < VX_KVM_XSAVE_SIZE; i++)
		assert_int_equal(got[i], 0);
	size = v->gfpu.fpstate->size;
	image = malloc(size);
	assert_non_null(image);
	memcpy(image, v->gfpu.fpstate->regs, size);
	wr64(blob + 512, VX_BIT(63));
	set_ok(v, blob, VX_KVM_XSAVE_SIZE);
	assert_memory_equal(image, v->gfpu.fpstate->regs, size);
	free(image);
	kt_down(&e);
}

/* Supervisor components (CET) are neither exported nor touched by SET (§5.2, §5.3). */
static void test_supervisor_kept(void **state)
{
	struct vx_kvm_vm *vm = NULL;
	struct kt_env e;
	struct vx_kvm_vcpu *v;
	uint64_t ssp = 0x7000, u_cet = 1, rng = SEED ^ 12, back = 0;
	uint8_t bytes[64] = {0};

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = vcpu_with_cpuid(&e, &vm, 0, true);
	ft_schedule(e.vmm, 0);
	enter(&e, v, true);
	memcpy(bytes, &ssp, 8);
	guest_reg(&e, v, "pl0_ssp", bytes, true);
	memcpy(bytes, &u_cet, 8);
	guest_reg(&e, v, "u_cet", bytes, true);
	enter(&e, v, false);
	assert_int_equal(rd64(v->gfpu.fpstate->regs + 512) & 0x1800, 0x1800);
	get_ok(v, true, got, VX_KVM_XSAVE_SIZE);
	assert_int_equal(rd64(got + 512) & ~UINT64_C(0x2e7), 0);
	random_blob(&rng, blob, VX_KVM_XSAVE_SIZE, 0x2e7);
	set_ok(v, blob, VX_KVM_XSAVE_SIZE);
	assert_int_equal(rd64(v->gfpu.fpstate->regs + 512) & 0x1800, 0x1800);
	enter(&e, v, true);
	memset(bytes, 0, sizeof(bytes));
	guest_reg(&e, v, "pl0_ssp", bytes, false);
	memcpy(&back, bytes, 8);
	assert_int_equal(back, ssp);
	guest_reg(&e, v, "u_cet", bytes, false);
	memcpy(&back, bytes, 8);
	assert_int_equal(back, u_cet);
	enter(&e, v, false);
	kt_down(&e);
}

/* Item 71 on the way: XTILE_DATA without guest permission → -EPERM, uabi_size stays 4096. */
static void test_amx_without_permission(void **state)
{
	struct vx_kvm_cpuid_entry c[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct kt_env e;
	struct vx_kvm_vcpu *v;
	uint64_t perm = 0;
	uint32_t n;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	assert_int_equal(vx_kvm_check_extension(e.kvm, e.vmm, VX_KVM_CAP_XSAVE2), 4096);
	n = kt_supported(&e, c, VX_KVM_MAX_CPUID_ENTRIES);
	for (uint32_t i = 0; i < n; i++)
		if (c[i].function == 0xD && c[i].index == 0)
			c[i].eax |= (uint32_t)(M_TCFG | M_TDATA);
	v = kt_vcpu(&e, &vm, 0);
	assert_int_equal(vx_kvm_vcpu_set_cpuid2(v, e.vmm, c, n, &err), -EPERM);
	assert_int_equal(vx_kvm_vcpu_guest_fpu(v)->uabi_size, VX_KVM_XSAVE_SIZE);
	get_ok(v, false, got, VX_KVM_XSAVE_SIZE);
	/* The permission is locked by the first vCPU. */
	assert_int_equal(vx_fpu_arch_prctl(e.vmm, VX_ARCH_REQ_XCOMP_GUEST_PERM,
					   VX_ARCH_XCOMP_TILEDATA, &perm, &err),
			 -EBUSY);
	kt_down(&e);
}

/* Item 67: guest permission, CPUID with XTILE, uabi_size 11008, tile data at size - 8192. */
static void test_amx(void **state)
{
	struct vx_kvm_cpuid_entry c[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_event ev;
	struct kt_env e;
	struct vx_kvm_vcpu *v;
	const struct vx_kvm_cpuid_entry *d0, *d18;
	uint8_t tile[1024];
	uint64_t perm = 0, rng = SEED ^ 67, hdr;
	uint32_t n, pkru = 0;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	ft_check(vx_fpu_arch_prctl(e.vmm, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA,
				   &perm, &err),
		 &err, "ARCH_REQ_XCOMP_GUEST_PERM");
	assert_int_equal(vx_kvm_check_extension(e.kvm, e.vmm, VX_KVM_CAP_XSAVE2), AMX_SIZE);
	n = kt_supported(&e, c, VX_KVM_MAX_CPUID_ENTRIES);
	d0 = kt_find(c, n, 0xD, 0);
	d18 = kt_find(c, n, 0xD, 18);
	assert_int_equal(d0->eax, 0x602e7);
	assert_int_equal(d18->eax, 8192);
	assert_int_equal(d18->ebx, 2816);
	v = kt_vcpu(&e, &vm, 0);
	/* Before KVM_SET_CPUID2: 4096 bytes, and tile data is outside user_xfeatures. */
	assert_int_equal(vx_kvm_vcpu_guest_fpu(v)->uabi_size, VX_KVM_XSAVE_SIZE);
	random_blob(&rng, blob, VX_KVM_XSAVE_SIZE, 0);
	wr64(blob + 512, FPSSE | M_TCFG | M_TDATA);
	assert_int_equal(vx_kvm_vcpu_set_xsave(v, blob, VX_KVM_XSAVE_SIZE, &err), -EINVAL);
	assert_int_equal(err.bits, M_TDATA);
	ft_check(vx_kvm_vcpu_set_cpuid2(v, e.vmm, c, n, &err), &err, "KVM_SET_CPUID2 with AMX");
	assert_int_equal(vx_kvm_vcpu_guest_fpu(v)->uabi_size, AMX_SIZE);
	assert_int_equal(vx_kvm_vcpu_get_xsave(v, false, got, VX_KVM_XSAVE_SIZE, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "KVM_GET_XSAVE2"));
	assert_int_equal(vx_kvm_vcpu_get_xsave(v, true, got, AMX_SIZE - 1, &err), -EFAULT);
	assert_int_equal(vx_kvm_vcpu_set_xsave(v, blob, VX_KVM_XSAVE_SIZE, &err), -EFAULT);
	/* The guest enables XTILE in XCR0 and loads TMM0. */
	assert_int_equal(vx_kvm_vcpu_set_cr4(v, true, VX_CR4_OSXSAVE, NULL, &err), 0);
	assert_int_equal(vx_kvm_vcpu_guest_xsetbv(v, 0, 0, 0x602e7, &ev), 0);
	for (unsigned i = 0; i < sizeof(tile); i++)
		tile[i] = (uint8_t)(i * 7 + 1);
	ft_schedule(e.vmm, 0);
	enter(&e, v, true);
	guest_reg(&e, v, "tmm0", tile, true);
	enter(&e, v, false);
	get_ok(v, true, got, AMX_SIZE);
	assert_true(rd64(got + 512) & M_TDATA);
	assert_memory_equal(got + AMX_SIZE - 8192, tile, sizeof(tile));
	for (uint32_t i = AMX_SIZE - 8192 + sizeof(tile); i < AMX_SIZE; i++)
		assert_int_equal(got[i], 0);
	/* Round trips at 11008 bytes with tile data. */
	for (int i = 0; i < 20; i++) {
		hdr = random_blob(&rng, blob, AMX_SIZE, 0x602e7);
		if (hdr & M_PKRU)
			pkru = rd32(blob + 2688);
		set_ok(v, blob, AMX_SIZE);
		get_ok(v, true, got, AMX_SIZE);
		expect_get(&spr, blob, hdr, pkru, want, AMX_SIZE);
		assert_memory_equal(got, want, AMX_SIZE);
	}
	kt_down(&e);
}

/* kvm.md §9: in 6.18.2 KVM_SET_XSAVE ignores the guest's XFD (6.18.35 clears those bits). */
static void test_xfd_6_18_2(void **state)
{
	struct vx_kvm_cpuid_entry c[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct kt_env e;
	struct vx_kvm_vcpu *v;
	uint64_t perm = 0, rng = SEED ^ 9;
	uint32_t n;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	ft_check(vx_fpu_arch_prctl(e.vmm, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA,
				   &perm, &err),
		 &err, "ARCH_REQ_XCOMP_GUEST_PERM");
	n = kt_supported(&e, c, VX_KVM_MAX_CPUID_ENTRIES);
	v = kt_vcpu(&e, &vm, 0);
	ft_check(vx_kvm_vcpu_set_cpuid2(v, e.vmm, c, n, &err), &err, "KVM_SET_CPUID2");
	ft_check(vx_fpu_update_guest_xfd(e.vmm, &v->gfpu, M_TDATA, &err), &err, "guest XFD");
	random_blob(&rng, blob, AMX_SIZE, 0);
	wr64(blob + 512, FPSSE | M_TCFG | M_TDATA);
	set_ok(v, blob, AMX_SIZE);
	get_ok(v, true, got, AMX_SIZE);
	assert_int_equal(rd64(got + 512), FPSSE | M_TCFG | M_TDATA);
	assert_memory_equal(got + 2816, blob + 2816, 8192);
	kt_down(&e);
}

/* §5.2/§5.3 on a host without XSAVE: the FXSAVE image and FP|SSE only. */
static void test_no_host_xsave(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_options o;
	struct vx_kvm_vm *vm = NULL;
	struct vx_cpuid_regs r;
	struct vx_profile p;
	struct kt_env e;
	struct vx_kvm_vcpu *v;
	uint64_t rng = SEED ^ 0xF;

	(void)state;
	ft_profile(&p, ZEN4);
	r = vx_profile_leaf(&p, 1, 0);
	r.ecx &= ~(1u << 26);
	assert_int_equal(vx_profile_set_leaf(&p, 1, 0, &r), 0);
	vx_kvm_options_init(&o, VX_KVM_SVM);
	e.sys = ft_boot_profile(&p, VX_FPU_CET_GUEST_ONLY, NULL);
	e.machine = ft_machine(e.sys, 2);
	e.vmm = ft_spawn(e.machine);
	ft_check(vx_kvm_create(e.machine, &o, &e.kvm, &err), &err, "module without XSAVE");
	v = vcpu_with_cpuid(&e, &vm, 0, true);
	assert_int_equal(vx_kvm_vcpu_guest_fpu(v)->uabi_size, VX_KVM_XSAVE_SIZE);
	/* The fresh FXSAVE image: FCW 0x037F, MXCSR 0x1F80; XSTATE_BV forced to FP|SSE. */
	get_ok(v, false, got, VX_KVM_XSAVE_SIZE);
	memset(want, 0, VX_KVM_XSAVE_SIZE);
	want[0] = 0x7F;
	want[1] = 0x03;
	wr32(want + 24, 0x1F80);
	wr64(want + 512, FPSSE);
	assert_memory_equal(got, want, VX_KVM_XSAVE_SIZE);
	random_blob(&rng, blob, VX_KVM_XSAVE_SIZE, FPSSE);
	wr64(blob + 512, 0x7);
	assert_int_equal(vx_kvm_vcpu_set_xsave(v, blob, VX_KVM_XSAVE_SIZE, &err), -EINVAL);
	assert_int_equal(err.bits, 0x4);
	wr64(blob + 512, FPSSE);
	wr32(blob + 24, 0x10000);
	assert_int_equal(vx_kvm_vcpu_set_xsave(v, blob, VX_KVM_XSAVE_SIZE, &err), -EINVAL);
	get_ok(v, true, again, VX_KVM_XSAVE_SIZE);
	assert_memory_equal(again, want, VX_KVM_XSAVE_SIZE);
	wr32(blob + 24, 0x1F80);
	set_ok(v, blob, VX_KVM_XSAVE_SIZE);
	get_ok(v, true, got, VX_KVM_XSAVE_SIZE);
	memcpy(want, blob, 512);
	assert_memory_equal(got, want, VX_KVM_XSAVE_SIZE);
	kt_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fresh_get),
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_mutations),
	    cmocka_unit_test(test_set_without_cpuid),
	    cmocka_unit_test(test_pkru),
	    cmocka_unit_test(test_buffers_and_states),
	    cmocka_unit_test(test_supervisor_kept),
	    cmocka_unit_test(test_amx_without_permission),
	    cmocka_unit_test(test_amx),
	    cmocka_unit_test(test_xfd_6_18_2),
	    cmocka_unit_test(test_no_host_xsave),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
