/* SPDX-License-Identifier: MIT */
/*
 * kvm layer: XCR0 and the control registers of a vCPU.
 *   kvm.md §4.1 __kvm_set_xcr (every rule, in order, with its bits), §4.2 the XSETBV exit
 *   (#UD for CR4.OSXSAVE = 0 first, CPL > 0 #GP, RCX[63:32] ignored), §4.3 KVM_GET/SET_XCRS
 *   (every -EINVAL, entries for other XCRs ignored, RESET XCR0 = FP), §2.4 the runtime CPUID
 *   (an XCR0 change of extended bits dirties 0xD.0 EBX; CR4.OSXSAVE/PKE), §7.1 the CR0.WP /
 *   CR4.CET rules for the guest (#GP) and the host (KVM_SET_SREGS, -EINVAL), §1.4 step 5
 *   (CR4.CET reserved unless SHSTK or IBT).
 *   §8.5 items 49, 51, 53, 55, 57, 59; §8.1 item 27; §8.2 item 37; host-kvm.md's measured
 *   XSETBV/KVM_SET_XCRS outcomes on the kvm_pvm flavour.
 * Expected values are hand-computed from the profiles' leaf 0xD (quoted where used):
 *   sapphire-rapids: 0xD.0 EAX 0x602e7; YMM 256 B @576, opmask 64 @1088, ZMM_Hi256 512 @1152,
 *   Hi16_ZMM 1024 @1664, PKRU 8 @2688, XTILECFG 64 @2752, XTILEDATA 8192 @2816.
 *   So the standard size is 576 for XCR0 0x1/0x3, 832 for 0x7, 2688 for 0xe7, 2696 for 0x2e7.
 *   skylake-server: the kernel's XCR0 keeps MPX (0x2ff), so KVM supports BNDREGS/BNDCSR there.
 */
#include "kvm_test_util.h"

#include <vxsave/kvm_regs.h>

#include "kvm/kvm_internal.h"

#define SPR	"sapphire-rapids"
#define ZEN4	"zen4"
#define SKX	"skylake-server"
#define OSXSAVE VX_CR4_OSXSAVE
#define WP	VX_CR0_WP
#define CET	VX_CR4_CET
#define PE_PG	(VX_BIT(0) | VX_BIT(31))

/* A vCPU whose CPUID is the module's whole supported CPUID (the usual VMM start). */
static struct vx_kvm_vcpu *full_vcpu(struct kt_env *e, struct vx_kvm_vm **vm)
{
	struct vx_kvm_cpuid_entry c[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vcpu *v = kt_vcpu(e, vm, (*vm) ? (*vm)->nvcpus : 0);
	uint32_t n = kt_supported(e, c, VX_KVM_MAX_CPUID_ENTRIES);

	ft_check(vx_kvm_vcpu_set_cpuid2(v, e->vmm, c, n, &err), &err, "KVM_SET_CPUID2");
	return v;
}

/* The entry for @fn (sub-leaf 0) of a CPUID array the test edits. */
static struct vx_kvm_cpuid_entry *leaf_mut(struct vx_kvm_cpuid_entry *c, uint32_t n, uint32_t fn)
{
	for (uint32_t i = 0; i < n; i++)
		if (c[i].function == fn && c[i].index == 0)
			return &c[i];
	fail_msg("no CPUID leaf 0x%x", fn);
	return &c[0];
}

static void set_cr(struct vx_kvm_vcpu *v, bool cr4, uint64_t value)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_event ev;
	int rc = cr4 ? vx_kvm_vcpu_set_cr4(v, true, value, &ev, &err)
		     : vx_kvm_vcpu_set_cr0(v, true, value, &ev, &err);

	ft_check(rc, &err, cr4 ? "host CR4" : "host CR0");
}

/* CPL0 guest kernel state: PE|PG|WP in CR0, OSXSAVE in CR4. */
static void kernel_mode(struct vx_kvm_vcpu *v)
{
	set_cr(v, false, PE_PG | WP | VX_BIT(4));
	set_cr(v, true, OSXSAVE);
}

static int xsetbv(struct vx_kvm_vcpu *v, unsigned cpl, uint64_t ecx, uint64_t value,
		  struct vx_event *ev)
{
	memset(ev, 0xA5, sizeof(*ev));
	return vx_kvm_vcpu_guest_xsetbv(v, cpl, ecx, value, ev);
}

static int set_xcr0(struct vx_kvm_vcpu *v, uint64_t value, struct vx_error *err)
{
	struct vx_kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].xcr = 0;
	x.xcrs[0].value = value;
	vx_error_clear(err);
	return vx_kvm_vcpu_set_xcrs(v, &x, err);
}

static uint64_t get_xcr0(struct vx_kvm_vcpu *v)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_xcrs x;

	ft_check(vx_kvm_vcpu_get_xcrs(v, &x, &err), &err, "KVM_GET_XCRS");
	assert_int_equal(x.nr_xcrs, 1);
	assert_int_equal(x.xcrs[0].xcr, 0);
	return x.xcrs[0].value;
}

/* KVM_GET_CPUID2 entry (fn, idx) register @reg (0 EAX .. 3 EDX). */
static uint32_t cpuid2(struct vx_kvm_vcpu *v, uint32_t fn, uint32_t idx, unsigned reg)
{
	struct vx_kvm_cpuid_entry c[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;
	const struct vx_kvm_cpuid_entry *e;

	ft_check(vx_kvm_vcpu_get_cpuid2(v, c, &n, &err), &err, "KVM_GET_CPUID2");
	e = kt_find(c, n, fn, idx);
	return reg == 0 ? e->eax : reg == 1 ? e->ebx : reg == 2 ? e->ecx : e->edx;
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_GET_XCRS / KVM_SET_XCRS (§4.3)                                                           */

/* RESET XCR0 = FP; GET copies out one entry and zeroes the rest (§4.3). */
static void test_get_xcrs_reset(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_xcrs x, zero;
	struct kt_env e;
	struct vx_kvm_vcpu *v;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = kt_vcpu(&e, &vm, 0);
	memset(&x, 0xFF, sizeof(x));
	ft_check(vx_kvm_vcpu_get_xcrs(v, &x, &err), &err, "KVM_GET_XCRS");
	assert_int_equal(x.nr_xcrs, 1);
	assert_int_equal(x.flags, 0);
	assert_int_equal(x.xcrs[0].xcr, 0);
	assert_int_equal(x.xcrs[0].value, 1);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&x.xcrs[1], &zero.xcrs[1], sizeof(x.xcrs) - sizeof(x.xcrs[0]));
	assert_int_equal(vx_kvm_vcpu_get_xcrs(v, NULL, &err), -EFAULT);
	kt_down(&e);
}

/* Item 49: the library programs the supported XCR0 after KVM_SET_CPUID2; 0xD.0 EBX follows. */
static void test_set_xcrs_supported(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct kt_env e;
	struct vx_kvm_vcpu *v;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = full_vcpu(&e, &vm);
	/* No AMX permission: supported 0xD.0 EAX = 0x2e7, so guest_supported_xcr0 = 0x2e7. */
	assert_int_equal(vx_kvm_vcpu_guest_supported_xcr0(v), 0x2e7);
	assert_int_equal(cpuid2(v, 0xD, 0, 1), 576); /* XCR0 = FP */
	assert_false(v->cpuid_dynamic_dirty);
	/* FP → FP|SSE changes no extended bit: not dirty, size still 576. */
	ft_check(set_xcr0(v, 0x3, &err), &err, "XCR0 0x3");
	assert_false(v->cpuid_dynamic_dirty);
	assert_int_equal(cpuid2(v, 0xD, 0, 1), 576);
	ft_check(set_xcr0(v, 0x7, &err), &err, "XCR0 0x7");
	assert_true(v->cpuid_dynamic_dirty);
	assert_int_equal(cpuid2(v, 0xD, 0, 1), 832);
	ft_check(set_xcr0(v, 0x2e7, &err), &err, "XCR0 0x2e7");
	assert_int_equal(get_xcr0(v), 0x2e7);
	assert_int_equal(cpuid2(v, 0xD, 0, 1), 2696);
	ft_check(set_xcr0(v, 0xe7, &err), &err, "XCR0 0xe7");
	assert_int_equal(cpuid2(v, 0xD, 0, 1), 2688);
	kt_down(&e);
}

/* §4.3: every -EINVAL, the first XCR0 entry wins, other XCRs ignored; §8.5 item 59. */
static void test_set_xcrs_errors(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_xcrs x;
	struct kt_env e;
	struct vx_kvm_vcpu *v, *bare;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	bare = kt_vcpu(&e, &vm, 0);
	v = full_vcpu(&e, &vm);
	/* No CPUID yet: guest_supported_xcr0 = 0, FP alone is still allowed. */
	assert_int_equal(set_xcr0(bare, 0x7, &err), -EINVAL);
	assert_int_equal(err.bits, 0x6);
	assert_non_null(strstr(err.reason, "guest_supported_xcr0"));
	assert_int_equal(get_xcr0(bare), 1);
	ft_check(set_xcr0(bare, 0x1, &err), &err, "XCR0 FP without CPUID");
	/* Item 59: bits beyond guest CPUID 0xD.0 (XTILE without permission, PT, CET_U). */
	assert_int_equal(set_xcr0(v, 0x602e7, &err), -EINVAL);
	assert_int_equal(err.bits, 0x60000);
	assert_int_equal(set_xcr0(v, 0x1803, &err), -EINVAL);
	assert_int_equal(err.bits, 0x1800);
	assert_int_equal(get_xcr0(v), 1);
	/* nr_xcrs > 16 and flags ≠ 0, even with a valid entry. */
	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 17;
	x.xcrs[0].value = 0x7;
	assert_int_equal(vx_kvm_vcpu_set_xcrs(v, &x, &err), -EINVAL);
	x.nr_xcrs = 1;
	x.flags = 1;
	assert_int_equal(vx_kvm_vcpu_set_xcrs(v, &x, &err), -EINVAL);
	assert_int_equal(get_xcr0(v), 1);
	assert_int_equal(vx_kvm_vcpu_set_xcrs(v, NULL, &err), -EFAULT);
	/* Other XCRs ignored; the first XCR0 entry applied, later ones not even checked. */
	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 16;
	x.xcrs[0].xcr = 1;
	x.xcrs[0].value = 0xdead;
	x.xcrs[15].xcr = 0;
	x.xcrs[15].value = 0x7;
	for (unsigned i = 1; i < 15; i++)
		x.xcrs[i].xcr = 2 + i;
	ft_check(vx_kvm_vcpu_set_xcrs(v, &x, &err), &err, "XCR0 at entry 15");
	assert_int_equal(get_xcr0(v), 0x7);
	x.nr_xcrs = 2;
	x.xcrs[0].xcr = 0;
	x.xcrs[0].value = 0xe7;
	x.xcrs[1].xcr = 0;
	x.xcrs[1].value = 0x5;
	ft_check(vx_kvm_vcpu_set_xcrs(v, &x, &err), &err, "first XCR0 entry");
	assert_int_equal(get_xcr0(v), 0xe7);
	x.nr_xcrs = 1;
	x.xcrs[0].xcr = 1;
	ft_check(vx_kvm_vcpu_set_xcrs(v, &x, &err), &err, "only XCR1");
	x.nr_xcrs = 0;
	ft_check(vx_kvm_vcpu_set_xcrs(v, &x, &err), &err, "no entries");
	assert_int_equal(get_xcr0(v), 0xe7);
	/* A refused value leaves XCR0 and the dirty flag alone. */
	v->cpuid_dynamic_dirty = false;
	assert_int_equal(set_xcr0(v, 0x27, &err), -EINVAL);
	assert_int_equal(get_xcr0(v), 0xe7);
	assert_false(v->cpuid_dynamic_dirty);
	kt_down(&e);
}

/* ----------------------------------------------------------------------------------------- */
/* __kvm_set_xcr through XSETBV (§4.1, §4.2)                                                    */

struct xcr_case {
	uint64_t ecx, value;
	bool ok;
	enum vx_event_cause cause;
	uint64_t bits;
	const char *says;
};

/* SPR with AMX permission: guest_supported_xcr0 = 0x602e7.  Item 53 and every §4.1 rule. */
static const struct xcr_case spr_cases[] = {
    {0, 0x0, false, VX_CAUSE_XCR0_INVALID, 0x1, "bit 0"},	  /* item 53 */
    {0, 0x2, false, VX_CAUSE_XCR0_INVALID, 0x1, "bit 0"},	  /* item 53: SSE */
    {0, 0x4, false, VX_CAUSE_XCR0_INVALID, 0x1, "bit 0"},	  /* item 53: YMM */
    {0, 0x5, false, VX_CAUSE_XCR0_INVALID, 0x6, "without bit 1"}, /* item 53: FP|YMM */
    {0, 0x1, true, VX_CAUSE_NONE, 0, NULL},
    {0, 0x3, true, VX_CAUSE_NONE, 0, NULL},
    {0, 0x7, true, VX_CAUSE_NONE, 0, NULL},
    {0, 0x103, false, VX_CAUSE_XCR0_INVALID, 0x100, "outside"},	    /* PT: supervisor */
    {0, 0x803, false, VX_CAUSE_XCR0_INVALID, 0x800, "outside"},	    /* CET_U never in XCR0 */
    {0, 0x1003, false, VX_CAUSE_XCR0_INVALID, 0x1000, "outside"},   /* CET_S */
    {0, 0x80003, false, VX_CAUSE_XCR0_INVALID, 0x80000, "outside"}, /* APX: not on SPR */
    {0, VX_BIT(63) | 3, false, VX_CAUSE_XCR0_INVALID, VX_BIT(63), "outside"},
    {0, VX_BIT(32) | 3, false, VX_CAUSE_XCR0_INVALID, VX_BIT(32), "outside"},
    {0, 0x1b, false, VX_CAUSE_XCR0_INVALID, 0x18, "outside"}, /* no MPX on SPR */
    {0, 0xe3, false, VX_CAUSE_XCR0_INVALID, 0xe4, "without bit 2"},
    {0, 0x27, false, VX_CAUSE_XCR0_INVALID, 0xc0, "only part"},
    {0, 0x67, false, VX_CAUSE_XCR0_INVALID, 0x80, "only part"},
    {0, 0xa7, false, VX_CAUSE_XCR0_INVALID, 0x40, "only part"},
    {0, 0xe7, true, VX_CAUSE_NONE, 0, NULL},
    {0, 0x2e7, true, VX_CAUSE_NONE, 0, NULL},
    {0, 0x202e7, false, VX_CAUSE_XCR0_INVALID, 0x60000, "bits 17 and 18"},
    {0, 0x402e7, false, VX_CAUSE_XCR0_INVALID, 0x60000, "bits 17 and 18"},
    {0, 0x602e7, true, VX_CAUSE_NONE, 0, NULL}, /* item 67: XCR0 with XTILE */
    {0, 0x60003, true, VX_CAUSE_NONE, 0, NULL}, /* AMX needs nothing but FP */
    {1, 0x3, false, VX_CAUSE_XCR_INDEX, 0, "XCR1"},
    {0x100000001ull, 0x3, false, VX_CAUSE_XCR_INDEX, 0, "XCR1"},
    {UINT64_C(0xFFFFFFFF00000000), 0x7, true, VX_CAUSE_NONE, 0, NULL}, /* item 55 */
};

/* Skylake-SP keeps MPX in the kernel's XCR0 (0x2ff): the pair rule is reachable there. */
static const struct xcr_case skx_cases[] = {
    {0, 0xb, false, VX_CAUSE_XCR0_INVALID, 0x18, "bits 3 and 4"},
    {0, 0x13, false, VX_CAUSE_XCR0_INVALID, 0x18, "bits 3 and 4"},
    {0, 0x1b, true, VX_CAUSE_NONE, 0, NULL},
    {0, 0x2ff, true, VX_CAUSE_NONE, 0, NULL},
    {0, 0x2fb, false, VX_CAUSE_XCR0_INVALID, 0xe4, "without bit 2"},
};

static void run_cases(struct vx_kvm_vcpu *v, const struct xcr_case *cases, size_t n)
{
	struct vx_event ev;

	for (size_t i = 0; i < n; i++) {
		const struct xcr_case *c = &cases[i];
		uint64_t before = get_xcr0(v);
		int rc = xsetbv(v, 0, c->ecx, c->value, &ev);

		print_message("  XSETBV ecx 0x%llx value 0x%llx -> %d %s\n",
			      (unsigned long long)c->ecx, (unsigned long long)c->value, rc,
			      ev.reason);
		if (c->ok) {
			assert_int_equal(rc, 0);
			assert_int_equal(ev.kind, VX_EVENT_NONE);
			assert_int_equal(get_xcr0(v), c->value);
			continue;
		}
		assert_int_equal(rc, VX_FAULTED);
		assert_int_equal(ev.kind, VX_EVENT_EXCEPTION);
		assert_int_equal(ev.vector, VX_VEC_GP);
		assert_int_equal(ev.error_code, 0);
		assert_int_equal(ev.cause, c->cause);
		assert_int_equal(ev.bits, c->bits);
		assert_non_null(strstr(ev.reason, c->says));
		assert_int_equal(get_xcr0(v), before);
	}
}

static void test_xsetbv_rules(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct kt_env e;
	struct vx_kvm_vcpu *v;
	uint64_t perm = 0;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	ft_check(vx_fpu_arch_prctl(e.vmm, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA,
				   &perm, &err),
		 &err, "guest permission");
	v = full_vcpu(&e, &vm);
	assert_int_equal(vx_kvm_vcpu_guest_supported_xcr0(v), 0x602e7);
	kernel_mode(v);
	run_cases(v, spr_cases, sizeof(spr_cases) / sizeof(spr_cases[0]));
	kt_down(&e);
	kt_up(&e, SKX, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	vm = NULL;
	v = full_vcpu(&e, &vm);
	assert_int_equal(vx_kvm_vcpu_guest_supported_xcr0(v), 0x2ff);
	kernel_mode(v);
	run_cases(v, skx_cases, sizeof(skx_cases) / sizeof(skx_cases[0]));
	kt_down(&e);
}

/* Items 51, 55, 59: FP then supported; #UD before CPL; CPL > 0 #GP; RCX[63:32] ignored. */
static void test_xsetbv_exit(void **state)
{
	struct vx_kvm_vm *vm = NULL;
	struct vx_event ev;
	struct kt_env e;
	struct vx_kvm_vcpu *v;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = full_vcpu(&e, &vm);
	/* CR4.OSXSAVE = 0: #UD, ahead of the CPL check and the value rules. */
	assert_int_equal(xsetbv(v, 3, 1, 0, &ev), VX_FAULTED);
	assert_int_equal(ev.vector, VX_VEC_UD);
	assert_int_equal(ev.cause, VX_CAUSE_NO_XSAVE);
	assert_int_equal(get_xcr0(v), 1);
	kernel_mode(v);
	/* Item 59: CPL > 0 → #GP(0) even for a valid value. */
	for (unsigned cpl = 1; cpl <= 3; cpl++) {
		assert_int_equal(xsetbv(v, cpl, 0, 0x7, &ev), VX_FAULTED);
		assert_int_equal(ev.vector, VX_VEC_GP);
		assert_int_equal(ev.error_code, 0);
		assert_int_equal(ev.cause, VX_CAUSE_CPL);
	}
	assert_int_equal(get_xcr0(v), 1);
	/* Item 51: XSETBV(0, FP), then XSETBV(0, supported). */
	assert_int_equal(xsetbv(v, 0, 0, 0x1, &ev), 0);
	assert_int_equal(xsetbv(v, 0, 0, 0x2e7, &ev), 0);
	assert_int_equal(get_xcr0(v), 0x2e7);
	assert_true(v->cpuid_dynamic_dirty);
	assert_int_equal(cpuid2(v, 0xD, 0, 1), 2696);
	/* Item 55: RCX[63:32] ≠ 0 is ignored; the low half still selects XCR0. */
	assert_int_equal(xsetbv(v, 0, UINT64_C(0x1234567800000000), 0x7, &ev), 0);
	assert_int_equal(get_xcr0(v), 0x7);
	/* A NULL event is allowed. */
	assert_int_equal(vx_kvm_vcpu_guest_xsetbv(v, 0, 0, 0x5, NULL), VX_FAULTED);
	assert_int_equal(get_xcr0(v), 0x7);
	kt_down(&e);
}

/* host-kvm.md, the kvm_pvm flavour measured here: the same outcomes as upstream. */
static void test_pvm_measured(void **state)
{
	static const uint64_t ok[] = {0x1, 0x3, 0x7, 0xe7};
	static const uint64_t gp[] = {0x2, 0x5, 0x27, 0x807, VX_BIT(32) | 1};
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_event ev;
	struct kt_env e;
	struct vx_kvm_vcpu *v;

	(void)state;
	kt_up(&e, ZEN4, VX_KVM_PVM, VX_KVM_CET_GUEST_ONLY);
	v = full_vcpu(&e, &vm);
	kernel_mode(v);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(xsetbv(v, 0, 0, ok[i], &ev), 0);
		assert_int_equal(get_xcr0(v), ok[i]);
	}
	for (size_t i = 0; i < sizeof(gp) / sizeof(gp[0]); i++) {
		assert_int_equal(xsetbv(v, 0, 0, gp[i], &ev), VX_FAULTED);
		assert_int_equal(ev.vector, VX_VEC_GP);
		assert_int_equal(get_xcr0(v), 0xe7);
	}
	assert_int_equal(xsetbv(v, 0, 1, 0x3, &ev), VX_FAULTED); /* ECX = 1 */
	assert_int_equal(xsetbv(v, 3, 0, 0x3, &ev), VX_FAULTED); /* CPL3 */
	assert_int_equal(ev.vector, VX_VEC_GP);
	set_cr(v, true, 0);
	assert_int_equal(xsetbv(v, 0, 0, 0x3, &ev), VX_FAULTED);
	assert_int_equal(ev.vector, VX_VEC_UD);
	ft_check(set_xcr0(v, 0x7, &err), &err, "KVM_SET_XCRS 0x7");
	ft_check(set_xcr0(v, 0xe7, &err), &err, "KVM_SET_XCRS 0xe7");
	assert_int_equal(set_xcr0(v, 0x5, &err), -EINVAL);
	assert_int_equal(set_xcr0(v, 0x27, &err), -EINVAL);
	assert_int_equal(set_xcr0(v, 0x807, &err), -EINVAL);
	assert_int_equal(get_xcr0(v), 0xe7);
	kt_down(&e);
}

/* §4.3 on a host without XSAVE: no XCRs at all. */
static void test_no_host_xsave(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_options o;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_xcrs x;
	struct vx_cpuid_regs r;
	struct vx_profile p;
	struct vx_event ev;
	struct kt_env e;
	struct vx_kvm_vcpu *v;

	(void)state;
	ft_profile(&p, ZEN4);
	r = vx_profile_leaf(&p, 1, 0);
	r.ecx &= ~(1u << 26); /* CPUID.1:ECX.XSAVE */
	assert_int_equal(vx_profile_set_leaf(&p, 1, 0, &r), 0);
	vx_kvm_options_init(&o, VX_KVM_SVM);
	e.sys = ft_boot_profile(&p, VX_FPU_CET_GUEST_ONLY, NULL);
	e.machine = ft_machine(e.sys, 2);
	e.vmm = ft_spawn(e.machine);
	ft_check(vx_kvm_create(e.machine, &o, &e.kvm, &err), &err, "module without XSAVE");
	v = full_vcpu(&e, &vm);
	memset(&x, 0xFF, sizeof(x));
	ft_check(vx_kvm_vcpu_get_xcrs(v, &x, &err), &err, "KVM_GET_XCRS");
	assert_int_equal(x.nr_xcrs, 0);
	assert_int_equal(x.flags, 0);
	assert_int_equal(set_xcr0(v, 0x1, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "no XSAVE"));
	/* The vCPU cannot have XSAVE, so CR4.OSXSAVE is reserved. */
	assert_int_equal(vx_kvm_vcpu_set_cr4(v, false, OSXSAVE, &ev, &err), VX_FAULTED);
	assert_int_equal(ev.cause, VX_CAUSE_CR_RESERVED);
	kt_down(&e);
}

/* ----------------------------------------------------------------------------------------- */
/* Control registers (§7.1, §1.4 step 5, §2.4)                                                  */

/* Item 57: CPUID.1.ECX.OSXSAVE and 7.0.ECX.OSPKE track CR4 (guest writes and host SREGS). */
static void test_cr4_runtime_cpuid(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_event ev;
	struct kt_env e;
	struct vx_kvm_vcpu *v;
	unsigned osxsave = (unsigned)kt_feat("osxsave"), ospke = (unsigned)kt_feat("ospke");

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = full_vcpu(&e, &vm);
	assert_int_equal(cpuid2(v, 1, 0, 2) >> 27 & 1, 0);
	assert_int_equal(cpuid2(v, 7, 0, 2) >> 4 & 1, 0);
	ft_check(vx_kvm_vcpu_set_cr4(v, false, OSXSAVE | VX_CR4_PKE, &ev, &err), &err, "guest CR4");
	assert_int_equal(ev.kind, VX_EVENT_NONE);
	assert_true(v->cpuid_dynamic_dirty);
	assert_int_equal(cpuid2(v, 1, 0, 2) >> 27 & 1, 1);
	assert_int_equal(cpuid2(v, 7, 0, 2) >> 4 & 1, 1);
	assert_true(vx_kvm_vcpu_cap_has(v, osxsave));
	assert_true(vx_kvm_vcpu_cap_has(v, ospke));
	/* The host clears OSXSAVE through KVM_SET_SREGS: guest CPUID shows 0. */
	set_cr(v, true, VX_CR4_PKE);
	assert_int_equal(cpuid2(v, 1, 0, 2) >> 27 & 1, 0);
	assert_int_equal(cpuid2(v, 7, 0, 2) >> 4 & 1, 1);
	assert_false(vx_kvm_vcpu_cap_has(v, osxsave));
	/* The guest restores it: 1 again. */
	ft_check(vx_kvm_vcpu_set_cr4(v, false, OSXSAVE, &ev, &err), &err, "guest CR4");
	assert_int_equal(cpuid2(v, 1, 0, 2) >> 27 & 1, 1);
	assert_int_equal(cpuid2(v, 7, 0, 2) >> 4 & 1, 0);
	assert_int_equal(vx_kvm_vcpu_cr4(v), OSXSAVE);
	kt_down(&e);
}

/* Guest MOV CR refused: #GP(0) with @cause, the register unchanged. */
static void expect_gp(struct vx_kvm_vcpu *v, bool cr4, uint64_t value, enum vx_event_cause cause,
		      uint64_t bits)
{
	struct vx_error err = VX_ERROR_INIT;
	uint64_t before = cr4 ? vx_kvm_vcpu_cr4(v) : vx_kvm_vcpu_cr0(v);
	struct vx_event ev;
	int rc = cr4 ? vx_kvm_vcpu_set_cr4(v, false, value, &ev, &err)
		     : vx_kvm_vcpu_set_cr0(v, false, value, &ev, &err);

	assert_int_equal(rc, VX_FAULTED);
	assert_int_equal(ev.vector, VX_VEC_GP);
	assert_int_equal(ev.error_code, 0);
	assert_int_equal(ev.cause, cause);
	assert_int_equal(ev.bits, bits);
	assert_int_equal(err.bits, bits);
	assert_int_equal(cr4 ? vx_kvm_vcpu_cr4(v) : vx_kvm_vcpu_cr0(v), before);
	/* The host's KVM_SET_SREGS refuses the same value with -EINVAL. */
	rc = cr4 ? vx_kvm_vcpu_set_cr4(v, true, value, NULL, &err)
		 : vx_kvm_vcpu_set_cr0(v, true, value, NULL, &err);
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_non_null(strstr(err.reason, "KVM_SET_SREGS"));
	assert_int_equal(cr4 ? vx_kvm_vcpu_cr4(v) : vx_kvm_vcpu_cr0(v), before);
}

/* Items 27 and 37: the CR0.WP / CR4.CET pairing and CR4.CET reserved without SHSTK/IBT. */
static void test_cet_wp_rules(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_event ev;
	struct kt_env e;
	struct vx_kvm_vcpu *v;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	v = full_vcpu(&e, &vm);
	kernel_mode(v);
	/* Item 37: CR4.CET = 1 with CR0.WP = 1, then cleared again. */
	ft_check(vx_kvm_vcpu_set_cr4(v, false, OSXSAVE | CET, &ev, &err), &err, "CR4.CET");
	assert_int_equal(vx_kvm_vcpu_cr4(v), OSXSAVE | CET);
	/* Item 27: clearing CR0.WP while CR4.CET = 1. */
	expect_gp(v, false, PE_PG | VX_BIT(4), VX_CAUSE_CR_INVALID, WP);
	ft_check(vx_kvm_vcpu_set_cr4(v, false, OSXSAVE, &ev, &err), &err, "CR4.CET off");
	/* Now WP may go, and then CET may not come back. */
	ft_check(vx_kvm_vcpu_set_cr0(v, false, PE_PG, &ev, &err), &err, "CR0.WP off");
	expect_gp(v, true, OSXSAVE | CET, VX_CAUSE_CR_INVALID, CET);
	kt_down(&e);
}

/* CR4.CET is reserved unless the vCPU and KVM have SHSTK or IBT (x86.h:683-685). */
static void test_cet_reserved(void **state)
{
	struct vx_kvm_cpuid_entry c[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_cpuid_entry *l7;
	struct vx_event ev;
	struct kt_env e;
	struct vx_kvm_vcpu *v;
	uint32_t n;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	/* Guest CPUID without SHSTK (7.0.ECX[7]) and IBT (7.0.EDX[20]). */
	n = kt_supported(&e, c, VX_KVM_MAX_CPUID_ENTRIES);
	l7 = leaf_mut(c, n, 7);
	l7->ecx &= ~(1u << 7);
	l7->edx &= ~(1u << 20);
	v = kt_vcpu(&e, &vm, 0);
	ft_check(vx_kvm_vcpu_set_cpuid2(v, e.vmm, c, n, &err), &err, "CPUID without CET");
	kernel_mode(v);
	expect_gp(v, true, OSXSAVE | CET, VX_CAUSE_CR_RESERVED, CET);
	assert_int_equal(vx_kvm_vcpu_set_cr4(v, false, OSXSAVE | CET, &ev, &err), VX_FAULTED);
	assert_non_null(strstr(err.reason, "(CET:"));
	assert_string_equal(ev.rule, "kvm.md §1.4 step 5");
	/* IBT alone unlocks it. */
	l7->edx |= 1u << 20;
	v = kt_vcpu(&e, &vm, 1);
	ft_check(vx_kvm_vcpu_set_cpuid2(v, e.vmm, c, n, &err), &err, "CPUID with IBT");
	kernel_mode(v);
	ft_check(vx_kvm_vcpu_set_cr4(v, false, OSXSAVE | CET, &ev, &err), &err, "CET by IBT");
	kt_down(&e);
	/* Zen 4 under SVM: SHSTK without IBT is enough. */
	kt_up(&e, ZEN4, VX_KVM_SVM, VX_KVM_CET_GUEST_ONLY);
	vm = NULL;
	v = full_vcpu(&e, &vm);
	kernel_mode(v);
	ft_check(vx_kvm_vcpu_set_cr4(v, false, OSXSAVE | CET, &ev, &err), &err, "CET by SHSTK");
	kt_down(&e);
	/* The unsupported design: KVM has neither, whatever guest CPUID says. */
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_UNSUPPORTED);
	vm = NULL;
	n = kt_supported(&e, c, VX_KVM_MAX_CPUID_ENTRIES);
	l7 = leaf_mut(c, n, 7);
	l7->ecx |= 1u << 7;
	l7->edx |= 1u << 20;
	v = kt_vcpu(&e, &vm, 0);
	ft_check(vx_kvm_vcpu_set_cpuid2(v, e.vmm, c, n, &err), &err, "CPUID claiming CET");
	kernel_mode(v);
	expect_gp(v, true, OSXSAVE | CET, VX_CAUSE_CR_RESERVED, CET);
	kt_down(&e);
}

/* The other CR validity rules the model keeps. */
static void test_cr_validity(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_cpuid_entry c[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_kvm_cpuid_entry *l7;
	struct vx_event ev;
	struct kt_env e;
	struct vx_kvm_vcpu *v, *bare;
	uint32_t n;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	bare = kt_vcpu(&e, &vm, 0);
	/* RESET CR0 = CD|NW|ET (0x60000010), CR4 = 0. */
	assert_int_equal(vx_kvm_vcpu_cr0(bare), 0x60000010);
	assert_int_equal(vx_kvm_vcpu_cr4(bare), 0);
	/* No CPUID: no XSAVE, no PKU, so OSXSAVE and PKE are reserved. */
	expect_gp(bare, true, OSXSAVE, VX_CAUSE_CR_RESERVED, OSXSAVE);
	expect_gp(bare, true, VX_CR4_PKE, VX_CAUSE_CR_RESERVED, VX_CR4_PKE);
	/* CR4 bits KVM does not know: 15, 24 (PKS), 63. */
	expect_gp(bare, true, VX_BIT(15), VX_CAUSE_CR_RESERVED, VX_BIT(15));
	expect_gp(bare, true, VX_BIT(24) | VX_BIT(5), VX_CAUSE_CR_RESERVED, VX_BIT(24));
	expect_gp(bare, true, VX_BIT(63), VX_CAUSE_CR_RESERVED, VX_BIT(63));
	/* Ungated architectural bits are accepted: PAE|PGE|OSFXSR|OSXMMEXCPT|FSGSBASE|SMEP. */
	ft_check(vx_kvm_vcpu_set_cr4(bare, false, 0x1106a0, &ev, &err), &err, "plain CR4");
	/* CR0: bits 63:32, NW without CD, PG without PE. */
	expect_gp(bare, false, VX_BIT(32) | 0x11, VX_CAUSE_CR_RESERVED, VX_BIT(32));
	expect_gp(bare, false, VX_BIT(29) | 0x11, VX_CAUSE_CR_INVALID, VX_BIT(29));
	expect_gp(bare, false, VX_BIT(31) | 0x10, VX_CAUSE_CR_INVALID, VX_BIT(31));
	/* A guest write forces ET and drops reserved bits 31:0 (here bit 6); SREGS keeps them. */
	ft_check(vx_kvm_vcpu_set_cr0(bare, false, 0x80010041, &ev, &err), &err, "guest CR0");
	assert_int_equal(vx_kvm_vcpu_cr0(bare), 0x80010011);
	set_cr(bare, false, 0x80010041);
	assert_int_equal(vx_kvm_vcpu_cr0(bare), 0x80010041);
	/* LA57 follows the vCPU's LA57 (7.0.ECX[16], present on SPR). */
	n = kt_supported(&e, c, VX_KVM_MAX_CPUID_ENTRIES);
	l7 = leaf_mut(c, n, 7);
	assert_true(l7->ecx >> 16 & 1);
	v = kt_vcpu(&e, &vm, 1);
	ft_check(vx_kvm_vcpu_set_cpuid2(v, e.vmm, c, n, &err), &err, "CPUID");
	ft_check(vx_kvm_vcpu_set_cr4(v, false, VX_CR4_LA57, &ev, &err), &err, "LA57");
	l7->ecx &= ~(1u << 16);
	v = kt_vcpu(&e, &vm, 2);
	ft_check(vx_kvm_vcpu_set_cpuid2(v, e.vmm, c, n, &err), &err, "CPUID without LA57");
	expect_gp(v, true, VX_CR4_LA57, VX_CAUSE_CR_RESERVED, VX_CR4_LA57);
	kt_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_xcrs_reset),  cmocka_unit_test(test_set_xcrs_supported),
	    cmocka_unit_test(test_set_xcrs_errors), cmocka_unit_test(test_xsetbv_rules),
	    cmocka_unit_test(test_xsetbv_exit),	    cmocka_unit_test(test_pvm_measured),
	    cmocka_unit_test(test_no_host_xsave),   cmocka_unit_test(test_cr4_runtime_cpuid),
	    cmocka_unit_test(test_cet_wp_rules),    cmocka_unit_test(test_cet_reserved),
	    cmocka_unit_test(test_cr_validity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
