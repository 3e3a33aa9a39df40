/* SPDX-License-Identifier: MIT */
/*
 * kvm layer: the module's caps (kvm.md §1.3, §2.1), supported_xcr0/xss with the XSS/CET
 * pruning (§2.2), KVM_GET_SUPPORTED_CPUID leaf 0xD (§2.2), KVM_GET_EMULATED_CPUID (§2.3),
 * KVM_CHECK_EXTENSION(XSAVE2) (§5.1), KVM_GET_DEVICE_ATTR (§2.2) and the quirk table.
 * Expected masks and sizes are hand-computed from the profiles' leaf 0xD (sizes and offsets
 * quoted in the comments) and the spec's rules.
 */
#include "kvm_test_util.h"

#include "kvm/kvm_internal.h"

#define SPR  "sapphire-rapids"
#define ZEN4 "zen4"
#define CET  UINT64_C(0x1800)

/* One module configuration and what §1.3/§2.2 say it supports. */
struct module_case {
	const char *name;
	const char *profile;
	enum vx_kvm_flavour flavour;
	enum vx_kvm_cet_design design;
	bool no_tdp, smaller_maxphyaddr, no_load_cet, no_xsaves_ctl;
	uint64_t xcr0, xss;
	bool shstk, ibt, xsaves;
};

/* SPR: kernel XCR0 0x602e7 (no MPX on this part), XSS PASID|CET_U|CET_S|LBR; KVM keeps CET. */
static const struct module_case module_cases[] = {
    {.name = "spr vmx guest-only",
     .profile = SPR,
     .flavour = VX_KVM_VMX,
     .design = VX_KVM_CET_GUEST_ONLY,
     .xcr0 = 0x602e7,
     .xss = CET,
     .shstk = true,
     .ibt = true,
     .xsaves = true},
    {.name = "spr vmx all-tasks",
     .profile = SPR,
     .flavour = VX_KVM_VMX,
     .design = VX_KVM_CET_ALL_TASKS,
     .xcr0 = 0x602e7,
     .xss = CET,
     .shstk = true,
     .ibt = true,
     .xsaves = true},
    /* Pre-series kernel: CET_S not in host XSS, so "both CET xfeatures" clears CET (§1.3). */
    {.name = "spr vmx unsupported",
     .profile = SPR,
     .flavour = VX_KVM_VMX,
     .design = VX_KVM_CET_UNSUPPORTED,
     .xcr0 = 0x602e7,
     .xss = 0,
     .xsaves = true},
    /* kvm-*: KVM owns PL0-2_SSP, so CET_S stays usable by guests. */
    {.name = "spr vmx kvm-eager",
     .profile = SPR,
     .flavour = VX_KVM_VMX,
     .design = VX_KVM_CET_KVM_EAGER,
     .xcr0 = 0x602e7,
     .xss = CET,
     .shstk = true,
     .ibt = true,
     .xsaves = true},
    {.name = "spr vmx kvm-lazy",
     .profile = SPR,
     .flavour = VX_KVM_VMX,
     .design = VX_KVM_CET_KVM_LAZY,
     .xcr0 = 0x602e7,
     .xss = CET,
     .shstk = true,
     .ibt = true,
     .xsaves = true},
    /* TDP off clears SHSTK only; IBT keeps the CET xfeatures alive. */
    {.name = "spr vmx no tdp",
     .profile = SPR,
     .flavour = VX_KVM_VMX,
     .design = VX_KVM_CET_GUEST_ONLY,
     .no_tdp = true,
     .xcr0 = 0x602e7,
     .xss = CET,
     .ibt = true,
     .xsaves = true},
    {.name = "spr vmx allow_smaller_maxphyaddr",
     .profile = SPR,
     .flavour = VX_KVM_VMX,
     .design = VX_KVM_CET_GUEST_ONLY,
     .smaller_maxphyaddr = true,
     .xcr0 = 0x602e7,
     .xsaves = true},
    {.name = "spr vmx without load-CET",
     .profile = SPR,
     .flavour = VX_KVM_VMX,
     .design = VX_KVM_CET_GUEST_ONLY,
     .no_load_cet = true,
     .xcr0 = 0x602e7,
     .xsaves = true},
    /* No XSAVES control: no XSS at all, hence no CET. */
    {.name = "spr vmx without XSAVES control",
     .profile = SPR,
     .flavour = VX_KVM_VMX,
     .design = VX_KVM_CET_GUEST_ONLY,
     .no_xsaves_ctl = true,
     .xcr0 = 0x602e7},
    /* Zen 4: XCR0 0x2e7, XSS CET_U|CET_S; SVM never offers IBT (and Zen 4 has none). */
    {.name = "zen4 svm guest-only",
     .profile = ZEN4,
     .flavour = VX_KVM_SVM,
     .design = VX_KVM_CET_GUEST_ONLY,
     .xcr0 = 0x2e7,
     .xss = CET,
     .shstk = true,
     .xsaves = true},
    {.name = "zen4 pvm (quirk pvm-no-cet)",
     .profile = ZEN4,
     .flavour = VX_KVM_PVM,
     .design = VX_KVM_CET_GUEST_ONLY,
     .xcr0 = 0x2e7,
     .xsaves = true},
};

static void module_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(module_cases) / sizeof(module_cases[0]); i++) {
		const struct module_case *c = &module_cases[i];
		struct vx_kvm_options o;
		struct kt_env e;

		vx_kvm_options_init(&o, c->flavour);
		o.design = c->design;
		o.tdp = !c->no_tdp;
		o.allow_smaller_maxphyaddr = c->smaller_maxphyaddr;
		o.vmx_load_cet = !c->no_load_cet;
		o.vmx_xsaves = !c->no_xsaves_ctl;
		kt_up_opts(&e, c->profile, &o);
		print_message("case %s\n", c->name);
		assert_int_equal(vx_kvm_supported_xcr0(e.kvm), c->xcr0);
		assert_int_equal(vx_kvm_supported_xss(e.kvm), c->xss);
		assert_int_equal(vx_kvm_cap_has(e.kvm, kt_feat("shstk")), c->shstk);
		assert_int_equal(vx_kvm_cap_has(e.kvm, kt_feat("ibt")), c->ibt);
		assert_int_equal(vx_kvm_cap_has(e.kvm, kt_feat("xsaves")), c->xsaves);
		/* EMULATED_F always, RUNTIME_F never (§1.3). */
		assert_true(vx_kvm_cap_has(e.kvm, kt_feat("x2apic")));
		assert_false(vx_kvm_cap_has(e.kvm, kt_feat("osxsave")));
		assert_false(vx_kvm_cap_has(e.kvm, kt_feat("mwait")));
		kt_down(&e);
	}
}

static void reasons_name_the_rule(void **state)
{
	struct kt_env e;
	char why[200];

	(void)state;
	kt_up(&e, ZEN4, VX_KVM_SVM, VX_KVM_CET_UNSUPPORTED);
	vx_kvm_cap_reason(e.kvm, kt_feat("shstk"), why, sizeof(why));
	assert_non_null(strstr(why, "not supported"));
	assert_non_null(strstr(why, "CET_KERNEL"));
	vx_kvm_cap_reason(e.kvm, kt_feat("x2apic"), why, sizeof(why));
	assert_non_null(strstr(why, "EMULATED_F"));
	kt_down(&e);
}

static void refuses_mismatched_options(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_options o;
	struct vx_kvm *kvm = NULL;
	struct kt_env e;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	vx_kvm_options_init(&o, VX_KVM_VMX);
	o.design = VX_KVM_CET_KVM_EAGER; /* needs the fpu booted as "unsupported" */
	assert_int_equal(vx_kvm_create(e.machine, &o, &kvm, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "unsupported"));
	vx_kvm_options_init(&o, VX_KVM_SVM); /* SVM on an Intel host */
	assert_int_equal(vx_kvm_create(e.machine, &o, &kvm, &err), -EINVAL);
	assert_null(kvm);
	kt_down(&e);
}

/*
 * Leaf 0xD on SPR without AMX guest permission: XTILE_CFG goes with XTILE_DATA, so 0x2e7.
 * Standard size: PKRU at 2688 + 8 = 2696.  Compacted 0x2e7|CET: 576 + 256 (YMM) + 64 (k)
 * + 512 + 1024 + 8 (PKRU) + 16 (CET_U) + 24 (CET_S) = 2480 (no align64 among them).
 * With permission: XTILEDATA at 2816 + 8192 = 11008.
 */
static void supported_leaf_d(void **state)
{
	struct vx_kvm_cpuid_entry ents[VX_KVM_MAX_CPUID_ENTRIES];
	const struct vx_kvm_cpuid_entry *d0, *d1;
	struct vx_error err = VX_ERROR_INIT;
	uint64_t perm = 0;
	struct kt_env e;
	uint32_t n;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	n = kt_supported(&e, ents, VX_KVM_MAX_CPUID_ENTRIES);
	d0 = kt_find(ents, n, 0xD, 0);
	d1 = kt_find(ents, n, 0xD, 1);
	assert_int_equal(d0->eax, 0x2e7);
	assert_int_equal(d0->ebx, 2696);
	assert_int_equal(d0->ecx, 2696);
	assert_int_equal(d1->ebx, 2480);
	assert_int_equal(d1->ecx, CET);
	assert_int_equal(d1->eax, 0x1f); /* XSAVEOPT|XSAVEC|XGETBV1|XSAVES|XFD */
	assert_non_null(kt_lookup(ents, n, 0xD, 11));
	assert_int_equal(kt_find(ents, n, 0xD, 12)->ecx & 1, 1); /* supervisor */
	assert_null(kt_lookup(ents, n, 0xD, 18));
	assert_null(kt_lookup(ents, n, 0xD, 10)); /* PASID: not KVM-supported XSS */
	assert_int_equal(vx_kvm_check_extension(e.kvm, e.vmm, VX_KVM_CAP_XSAVE2), 4096);
	/* SHSTK (7.0.ECX[7]) and IBT (7.0.EDX[20]) advertised on VMX SPR. */
	assert_true(kt_find(ents, n, 7, 0)->ecx >> 7 & 1);
	assert_true(kt_find(ents, n, 7, 0)->edx >> 20 & 1);
	ft_check(vx_fpu_arch_prctl(e.vmm, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA,
				   &perm, &err),
		 &err, "ARCH_REQ_XCOMP_GUEST_PERM");
	n = kt_supported(&e, ents, VX_KVM_MAX_CPUID_ENTRIES);
	assert_int_equal(kt_find(ents, n, 0xD, 0)->eax, 0x602e7);
	assert_int_equal(kt_find(ents, n, 0xD, 0)->ebx, 11008);
	assert_int_equal(kt_find(ents, n, 0xD, 18)->eax, 8192);
	assert_int_equal(kt_find(ents, n, 0xD, 18)->ecx & 4, 4); /* XFD-capable kept */
	assert_int_equal(vx_kvm_check_extension(e.kvm, e.vmm, VX_KVM_CAP_XSAVE2), 11008);
	kt_down(&e);
}

static void supported_cpuid_room(void **state)
{
	struct vx_kvm_cpuid_entry ents[4];
	struct vx_error err = VX_ERROR_INIT;
	struct kt_env e;
	uint32_t n = 4;

	(void)state;
	kt_up(&e, ZEN4, VX_KVM_SVM, VX_KVM_CET_GUEST_ONLY);
	assert_int_equal(vx_kvm_get_supported_cpuid(e.kvm, e.vmm, ents, &n, &err), -E2BIG);
	assert_int_equal(n, 4);
	n = 0;
	assert_int_equal(vx_kvm_get_supported_cpuid(e.kvm, e.vmm, ents, &n, &err), -E2BIG);
	kt_down(&e);
}

static void emulated_cpuid_and_attr(void **state)
{
	struct vx_kvm_cpuid_entry ents[8];
	struct vx_error err = VX_ERROR_INIT;
	uint64_t v = 0;
	struct kt_env e;
	uint32_t n = 8;

	(void)state;
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	ft_check(vx_kvm_get_emulated_cpuid(e.kvm, ents, &n, &err), &err, "emulated");
	assert_int_equal(n, 3);
	assert_int_equal(kt_find(ents, n, 0, 0)->eax, 7);
	assert_int_equal(kt_find(ents, n, 1, 0)->ecx, 1u << 22); /* MOVBE, no MWAIT */
	assert_int_equal(kt_find(ents, n, 7, 0)->ecx, 1u << 22); /* RDPID: SPR has RDTSCP */
	ft_check(vx_kvm_get_device_attr(e.kvm, 0, VX_KVM_X86_XCOMP_GUEST_SUPP, &v, &err), &err,
		 "attr");
	assert_int_equal(v, 0x602e7); /* unfiltered: AMX included without permission */
	assert_int_equal(vx_kvm_get_device_attr(e.kvm, 0, 1, &v, &err), -ENXIO);
	assert_int_equal(vx_kvm_get_device_attr(e.kvm, 1, 0, &v, &err), -ENXIO);
	kt_down(&e);
}

static void quirk_table(void **state)
{
	(void)state;
	assert_int_equal(vx_kvm_flavour_quirks(VX_KVM_VMX), 0);
	assert_int_equal(vx_kvm_flavour_quirks(VX_KVM_SVM), 0);
	assert_int_not_equal(vx_kvm_flavour_quirks(VX_KVM_PVM), 0);
	for (unsigned i = 0; i < VX_KVM_QUIRK_COUNT; i++) {
		const struct vx_kvm_quirk_info *q = vx_kvm_quirk_info((enum vx_kvm_quirk)i);

		assert_non_null(q);
		assert_true(strlen(q->upstream) > 20 && strlen(q->observed) > 20);
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(q->name,
						vx_kvm_quirk_info((enum vx_kvm_quirk)j)->name);
	}
	assert_null(vx_kvm_quirk_info(VX_KVM_QUIRK_COUNT));
}

static void names_round_trip(void **state)
{
	(void)state;
	for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++)
		assert_int_equal(vx_kvm_cet_design_by_name(vx_kvm_cet_design_name(d)), (int)d);
	assert_int_equal(vx_kvm_cet_design_by_name("kvm-eagre"), -ENOENT);
	/* The fpu layer's seam agrees on the base designs. */
	for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++)
		assert_int_equal(vx_fpu_cet_design_base(vx_kvm_cet_design_name(d)),
				 (int)vx_kvm_cet_design_fpu(d));
	for (unsigned i = 0; i < vx_kvm_feature_count(); i++)
		assert_int_equal(vx_kvm_feature_by_name(vx_kvm_feature_at(i)->name), (int)i);
}

/* An entry's register by enum vx_cpuid_reg; no entry reads as 0 and is never dereferenced (it
 * was read before the NULL check; found by cppcheck, issue 11). */
static void cpuid_reg_of_an_entry(void **state)
{
	const struct vx_kvm_cpuid_entry e = {0xd, 1, 1, 0x11, 0x22, 0x33, 0x44};

	(void)state;
	assert_int_equal(vx_kvm_cpuid_reg(&e, VX_EAX), 0x11);
	assert_int_equal(vx_kvm_cpuid_reg(&e, VX_EBX), 0x22);
	assert_int_equal(vx_kvm_cpuid_reg(&e, VX_ECX), 0x33);
	assert_int_equal(vx_kvm_cpuid_reg(&e, VX_EDX), 0x44);
	assert_int_equal(vx_kvm_cpuid_reg(NULL, VX_ECX), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cpuid_reg_of_an_entry),   cmocka_unit_test(module_table),
	    cmocka_unit_test(reasons_name_the_rule),   cmocka_unit_test(refuses_mismatched_options),
	    cmocka_unit_test(supported_leaf_d),	       cmocka_unit_test(supported_cpuid_room),
	    cmocka_unit_test(emulated_cpuid_and_attr), cmocka_unit_test(quirk_table),
	    cmocka_unit_test(names_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
