/* SPDX-License-Identifier: MIT */
/*
 * The booted FPU system (linux-fpu.md §1-§2): masks and designs, sizes on the built-in
 * profiles (hand-computed from their CPUID leaf 0xD below, not asked of the code), where CET_S
 * sits in each design, every disable path on crafted profiles, init_fpstate's bytes, the values
 * programmed on a model CPU, injected allocation failures, and this machine's kernel through
 * the ABI that needs no privilege (ARCH_GET_XCOMP_*, AT_MINSIGSTKSZ).  The dmesg comparison is
 * in test_fpu_host.c (it may have to skip).
 */
#define _GNU_SOURCE /* syscall(), getauxval() */

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

#if defined(__linux__) && defined(__x86_64__)
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>
#define HOST_LINUX_X86_64 1
#else
#define HOST_LINUX_X86_64 0
#endif

#include <vxsave/fpu.h>

#define CET_S	  UINT64_C(0x1000)
#define XTILEDATA UINT64_C(0x40000)
#define XTILECFG  UINT64_C(0x20000)

static struct vx_fpu_system *boot(const struct vx_profile *profile, enum vx_fpu_cet_design design)
{
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_system *sys = NULL;

	config.cet_design = design;
	if (vx_fpu_system_create(profile, &config, &sys, &err) != 0)
		fail_msg("boot of %s failed: %s", profile->name, err.reason);
	return sys;
}

static void load(struct vx_profile *profile, const char *name)
{
	struct vx_error err = VX_ERROR_INIT;

	assert_int_equal(vx_profile_builtin(profile, name, &err), 0);
}

static void set_reg(struct vx_profile *p, uint32_t leaf, uint32_t sub, int reg, uint32_t value)
{
	struct vx_cpuid_regs r = vx_profile_leaf(p, leaf, sub);
	uint32_t *regs[] = {&r.eax, &r.ebx, &r.ecx, &r.edx};

	*regs[reg] = value;
	assert_int_equal(vx_profile_set_leaf(p, leaf, sub, &r), 0);
}

static uint32_t get_reg(const struct vx_profile *p, uint32_t leaf, uint32_t sub, int reg)
{
	struct vx_cpuid_regs r = vx_profile_leaf(p, leaf, sub);
	uint32_t regs[] = {r.eax, r.ebx, r.ecx, r.edx};

	return regs[reg];
}

/* True if the boot log has exactly @text as a line. */
static bool log_has(const struct vx_fpu_system *sys, const char *text)
{
	for (unsigned i = 0; i < vx_fpu_boot_log_count(sys); i++)
		if (strcmp(vx_fpu_boot_log_line(sys, i)->text, text) == 0)
			return true;
	return false;
}

static void dump_log(const struct vx_fpu_system *sys)
{
	for (unsigned i = 0; i < vx_fpu_boot_log_count(sys); i++)
		print_message("  log: %s\n", vx_fpu_boot_log_line(sys, i)->text);
}

/* ----------------------------------------------------------------------------------------- */
/* Masks and designs (§1, test expectations 1, 3, 5)                                            */

static void test_design_names_and_masks(void **state)
{
	struct vx_fpu_masks m;

	(void)state;
	assert_string_equal(vx_fpu_cet_design_name(VX_FPU_CET_UNSUPPORTED), "unsupported");
	assert_string_equal(vx_fpu_cet_design_name(VX_FPU_CET_ALL_TASKS), "all-tasks");
	assert_string_equal(vx_fpu_cet_design_name(VX_FPU_CET_GUEST_ONLY), "guest-only");
	assert_null(vx_fpu_cet_design_name(VX_FPU_CET_DESIGN_COUNT));
	assert_int_equal(vx_fpu_cet_design_by_name("guest-only"), VX_FPU_CET_GUEST_ONLY);
	assert_int_equal(vx_fpu_cet_design_by_name("Guest-Only"), -ENOENT);
	assert_int_equal(vx_fpu_cet_design_by_name("kvm-lazy"), -ENOENT);
	/* The seam: KVM-managed designs boot the FPU as `unsupported`. */
	assert_int_equal(vx_fpu_cet_design_base("kvm-eager"), VX_FPU_CET_UNSUPPORTED);
	assert_int_equal(vx_fpu_cet_design_base("kvm-lazy"), VX_FPU_CET_UNSUPPORTED);
	assert_int_equal(vx_fpu_cet_design_base("kvm-user-return"), VX_FPU_CET_UNSUPPORTED);
	assert_int_equal(vx_fpu_cet_design_base("all-tasks"), VX_FPU_CET_ALL_TASKS);
	assert_int_equal(vx_fpu_cet_design_base("nope"), -ENOENT);
	assert_int_equal(VX_FPU_CET_DEFAULT, VX_FPU_CET_GUEST_ONLY);

	assert_int_equal(VX_FPU_XFEATURE_MAX, 20);
	assert_int_equal(VX_FPU_MASK_USER_SUPPORTED, 0xE02FF);
	assert_int_equal(VX_FPU_MASK_USER_DYNAMIC, 0x40000);
	assert_int_equal(VX_FPU_MASK_INDEPENDENT, 0x8000);

	struct vx_profile p;
	struct vx_fpu_system *sys;

	load(&p, "zen4");
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	m = *vx_fpu_masks(sys);
	assert_int_equal(m.guest_supervisor, 0x1000);
	assert_int_equal(m.supervisor_supported, 0x1C00);
	assert_int_equal(m.supervisor_unsupported, 0x100);
	assert_int_equal(m.fpstate, 0xE1CFF);
	vx_fpu_system_destroy(sys);
	sys = boot(&p, VX_FPU_CET_UNSUPPORTED);
	m = *vx_fpu_masks(sys);
	assert_int_equal(m.guest_supervisor, 0);
	assert_int_equal(m.supervisor_supported, 0x0C00);
	assert_int_equal(m.supervisor_unsupported, 0x1100);
	vx_fpu_system_destroy(sys);
	sys = boot(&p, VX_FPU_CET_ALL_TASKS);
	m = *vx_fpu_masks(sys);
	assert_int_equal(m.guest_supervisor, 0);
	assert_int_equal(m.supervisor_supported, 0x1C00);
	vx_fpu_system_destroy(sys);
}

/* ----------------------------------------------------------------------------------------- */
/* Sizes per design on the built-in profiles                                                    */

/*
 * struct expected_boot - computed by hand from the profiles' leaf 0xD (sizes, offsets,
 * align64 flags) with the rules of §2.2-§2.4.  Examples of the arithmetic:
 *  sapphire-rapids kernel max 0x61ee7 compacted: AVX 576+256, opmask 832+64, ZMM_Hi256
 *    896+512, Hi16_ZMM 1408+1024, PKRU 2432+8, PASID 2440+8, CET_U 2448+16, CET_S 2464+24 =
 *    2488, XTILECFG aligned to 2496 +64 = 2560, XTILEDATA aligned 2560 +8192 = 10752.
 *    Host default (no CET_S, no XTILEDATA) ends at XTILECFG: 2560; the guest default with
 *    CET_S also ends at 2560 - the 24 bytes vanish into XTILECFG's alignment.
 *  zen4 0x1ae7: PKRU 2432+8, CET_U 2440+16 = 2456, CET_S +24 = 2480.
 *  alder-lake 0x1a07: AVX 576+256, PKRU 832+8, CET_U 840+16 = 856, CET_S 856+24 = 880.
 *  skylake-server 0x2ff (MPX kept, PT unsupported): 576+256, 832+64, 896+64, 960+64, 1024+512,
 *    1536+1024, PKRU 2560+8 = 2568; standard size 2688+8 = 2696.
 *  future-intel-apx: SPR plus APX (128, not aligned) after XTILEDATA: 10880; defaults end with
 *    APX at 2560+128 = 2688; user default's largest offset is XTILECFG 2752+64 = 2816 (APX
 *    sits at 960).
 *  nested-amx-hidden 0xe7: 2432 compacted, 2688 standard; XSS written but empty.
 */
struct expected_boot {
	const char *profile;
	enum vx_fpu_cet_design design;
	uint64_t kmax, kdef, umax, udef, guest, xss, xfd;
	uint32_t kmax_size, kdef_size, umax_size, udef_size, guest_size;
};

static const struct expected_boot expected_boots[] = {
    {"sapphire-rapids", VX_FPU_CET_GUEST_ONLY, 0x61ee7, 0x20ee7, 0x602e7, 0x202e7, 0x21ee7, 0x9c00,
     0x40000, 10752, 2560, 11008, 2816, 2560},
    {"sapphire-rapids", VX_FPU_CET_ALL_TASKS, 0x61ee7, 0x21ee7, 0x602e7, 0x202e7, 0x21ee7, 0x9c00,
     0x40000, 10752, 2560, 11008, 2816, 2560},
    {"sapphire-rapids", VX_FPU_CET_UNSUPPORTED, 0x60ee7, 0x20ee7, 0x602e7, 0x202e7, 0x20ee7, 0x8c00,
     0x40000, 10752, 2560, 11008, 2816, 2560},
    {"zen4", VX_FPU_CET_GUEST_ONLY, 0x1ae7, 0xae7, 0x2e7, 0x2e7, 0x1ae7, 0x1800, 0, 2480, 2456,
     2440, 2440, 2480},
    {"zen4", VX_FPU_CET_ALL_TASKS, 0x1ae7, 0x1ae7, 0x2e7, 0x2e7, 0x1ae7, 0x1800, 0, 2480, 2480,
     2440, 2440, 2480},
    {"zen4", VX_FPU_CET_UNSUPPORTED, 0xae7, 0xae7, 0x2e7, 0x2e7, 0xae7, 0x800, 0, 2456, 2456, 2440,
     2440, 2456},
    {"alder-lake", VX_FPU_CET_GUEST_ONLY, 0x1a07, 0xa07, 0x207, 0x207, 0x1a07, 0x9800, 0, 880, 856,
     2696, 2696, 880},
    {"alder-lake", VX_FPU_CET_ALL_TASKS, 0x1a07, 0x1a07, 0x207, 0x207, 0x1a07, 0x9800, 0, 880, 880,
     2696, 2696, 880},
    {"alder-lake", VX_FPU_CET_UNSUPPORTED, 0xa07, 0xa07, 0x207, 0x207, 0xa07, 0x8800, 0, 856, 856,
     2696, 2696, 856},
    {"skylake-server", VX_FPU_CET_GUEST_ONLY, 0x2ff, 0x2ff, 0x2ff, 0x2ff, 0x2ff, 0, 0, 2568, 2568,
     2696, 2696, 2568},
    {"future-intel-apx", VX_FPU_CET_GUEST_ONLY, 0xe1ee7, 0xa0ee7, 0xe02e7, 0xa02e7, 0xa1ee7, 0x9c00,
     0x40000, 10880, 2688, 11008, 2816, 2688},
    {"nested-amx-hidden", VX_FPU_CET_GUEST_ONLY, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0, 0, 2432, 2432,
     2688, 2688, 2432},
};

static int check_expected_boot(const struct expected_boot *e)
{
	struct vx_profile p;
	struct vx_fpu_system *sys;
	int bad = 0;

	load(&p, e->profile);
	sys = boot(&p, e->design);
	const struct vx_fpu_state_config *k = vx_fpu_kernel_cfg(sys), *u = vx_fpu_user_cfg(sys);
	const struct vx_fpu_guest_config *g = vx_fpu_guest_cfg(sys);
	const struct vx_fpu_cpu_setup *s = vx_fpu_cpu_setup(sys);
	uint64_t got[] = {k->max_features, k->default_features,
			  u->max_features, u->default_features,
			  g->features,	   s->xss,
			  s->xfd,	   k->max_size,
			  k->default_size, u->max_size,
			  u->default_size, g->size,
			  s->xcr0};
	uint64_t want[] = {e->kmax,	 e->kdef,	e->umax,      e->udef,	    e->guest,
			   e->xss,	 e->xfd,	e->kmax_size, e->kdef_size, e->umax_size,
			   e->udef_size, e->guest_size, e->umax};
	static const char *const names[] = {
	    "kernel max",    "kernel default",	  "user max",
	    "user default",  "guest default",	  "IA32_XSS",
	    "IA32_XFD",	     "kernel max size",	  "kernel default size",
	    "user max size", "user default size", "guest size",
	    "XCR0"};

	for (size_t i = 0; i < sizeof(got) / sizeof(got[0]); i++) {
		if (got[i] == want[i])
			continue;
		print_error("%s/%s: %s is 0x%llx, expected 0x%llx\n", e->profile,
			    vx_fpu_cet_design_name(e->design), names[i], (unsigned long long)got[i],
			    (unsigned long long)want[i]);
		bad++;
	}
	if (vx_fpu_xsave_status(sys) != VX_FPU_XSAVE_ENABLED || !s->osxsave)
		bad++;
	vx_fpu_system_destroy(sys);
	return bad;
}

static void test_sizes_per_design_on_builtin_profiles(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(expected_boots) / sizeof(expected_boots[0]); i++)
		bad += check_expected_boot(&expected_boots[i]);
	assert_int_equal(bad, 0);
}

/*
 * Test expectations 9 and 11 over every built-in profile and design: CET_S in the kernel max
 * whenever the CPU has it with XSAVES, except `unsupported`; in the host defaults only in
 * all-tasks; in the guest defaults in guest-only and all-tasks; never in the user sets; user
 * sets identical across designs; XTILE_DATA never in a default.
 */
static void check_cet_placement(const char *name, const struct vx_profile *p,
				enum vx_fpu_cet_design design, uint64_t user_max_ref)
{
	bool cpu_has = vx_profile_has(p, VX_FEAT_CET_SS) && vx_profile_has(p, VX_FEAT_XSAVES) &&
		       (vx_profile_xss_supported(p) & CET_S);
	struct vx_fpu_system *sys = boot(p, design);
	const struct vx_fpu_state_config *k = vx_fpu_kernel_cfg(sys), *u = vx_fpu_user_cfg(sys);
	uint64_t guest = vx_fpu_guest_cfg(sys)->features;
	bool supported = cpu_has && design != VX_FPU_CET_UNSUPPORTED;

	print_message("%s/%s\n", name, vx_fpu_cet_design_name(design));
	assert_int_equal(!!(k->max_features & CET_S), supported);
	assert_int_equal(!!(vx_fpu_cpu_setup(sys)->xss & CET_S), supported);
	assert_int_equal(!!(k->default_features & CET_S),
			 supported && design == VX_FPU_CET_ALL_TASKS);
	assert_int_equal(!!(guest & CET_S), supported);
	assert_int_equal(u->max_features & ~VX_FPU_MASK_USER_SUPPORTED, 0);
	assert_int_equal(u->default_features & (CET_S | XTILEDATA), 0);
	assert_int_equal((k->default_features | guest) & XTILEDATA, 0);
	assert_int_equal(u->max_features, user_max_ref);
	/* The guest default differs from the host default by CET_S at most. */
	assert_int_equal(guest & ~CET_S, k->default_features & ~CET_S);
	vx_fpu_system_destroy(sys);
}

static void test_cet_s_placement_every_profile(void **state)
{
	(void)state;
	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		const char *name = vx_builtin_profile_name(i);
		struct vx_profile p;
		struct vx_fpu_system *ref;
		uint64_t user_max;

		load(&p, name);
		ref = boot(&p, VX_FPU_CET_UNSUPPORTED);
		user_max = vx_fpu_user_cfg(ref)->max_features;
		vx_fpu_system_destroy(ref);
		for (int d = 0; d < VX_FPU_CET_DESIGN_COUNT; d++)
			check_cet_placement(name, &p, (enum vx_fpu_cet_design)d, user_max);
	}
}

/* Expectation 9's condition: a kernel that cleared SHSTK has neither CET_U nor CET_S. */
static void test_cleared_shstk_drops_cet(void **state)
{
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_fpu_system *sys;
	struct vx_profile p;

	(void)state;
	load(&p, "sapphire-rapids");
	config.cleared_features = VX_BIT(VX_FEAT_CET_SS);
	assert_int_equal(vx_fpu_system_create(&p, &config, &sys, NULL), 0);
	assert_int_equal(vx_fpu_kernel_cfg(sys)->max_features, 0x606e7);
	assert_int_equal(vx_fpu_cpu_setup(sys)->xss, 0x8400);
	vx_fpu_system_destroy(sys);
}

/*
 * Expectation 13: AMX with XFD arms XTILE_DATA.  AMX without XFD: linux-fpu.md says XTILE_DATA
 * goes and XTILE_CFG stays, but that XCR0 (bit 17 without 18) faults on XSETBV (arch.md §3.1);
 * the kernel's CPUID dependencies clear AMX_TILE without XFD, so both go (docs/fpu.md).
 */
static void test_amx_without_xfd(void **state)
{
	struct vx_profile p;
	struct vx_fpu_system *sys;
	uint64_t xfd;

	(void)state;
	load(&p, "sapphire-rapids");
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	vx_fpu_init_fpstate(sys, NULL, NULL, &xfd);
	assert_int_equal(xfd, XTILEDATA);
	assert_true(vx_fpu_cpu_setup(sys)->write_xfd);
	vx_fpu_system_destroy(sys);

	set_reg(&p, 0xD, 1, VX_EAX, get_reg(&p, 0xD, 1, VX_EAX) & ~0x10u);
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	assert_int_equal(vx_fpu_kernel_cfg(sys)->max_features & (XTILECFG | XTILEDATA), 0);
	assert_int_equal(vx_fpu_user_cfg(sys)->max_features, 0x2e7);
	vx_fpu_init_fpstate(sys, NULL, NULL, &xfd);
	assert_int_equal(xfd, 0);
	assert_false(vx_fpu_cpu_setup(sys)->write_xfd);
	/* Kernel max 0x1ee7 ends with CET_S: 2464 + 24. */
	assert_int_equal(vx_fpu_kernel_cfg(sys)->max_size, 2488);
	vx_fpu_system_destroy(sys);
}

/* Without XSAVES: no supervisor features, guest = host defaults; XSAVEC keeps compaction. */
static void test_xsavec_without_xsaves(void **state)
{
	struct vx_profile p;
	struct vx_fpu_system *sys;

	(void)state;
	load(&p, "zen4");
	set_reg(&p, 0xD, 1, VX_EAX, get_reg(&p, 0xD, 1, VX_EAX) & ~0x8u);
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	assert_int_equal(vx_fpu_kernel_cfg(sys)->max_features, 0x2e7);
	assert_int_equal(vx_fpu_guest_cfg(sys)->features, 0x2e7);
	assert_int_equal(vx_fpu_kernel_cfg(sys)->max_size, 2440);
	assert_true(vx_fpu_insns(sys)->compacted);
	assert_int_equal(vx_fpu_insns(sys)->save, VX_INSN_XSAVEC64);
	assert_int_equal(vx_fpu_insns(sys)->restore, VX_INSN_XRSTOR64);
	assert_false(vx_fpu_cpu_setup(sys)->write_xss);
	vx_fpu_system_destroy(sys);

	/* And with neither: the standard format; the kernel size is the user size. */
	set_reg(&p, 0xD, 1, VX_EAX, get_reg(&p, 0xD, 1, VX_EAX) & ~0x2u);
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	assert_false(vx_fpu_insns(sys)->compacted);
	assert_int_equal(vx_fpu_insns(sys)->save, VX_INSN_XSAVEOPT64);
	assert_int_equal(vx_fpu_kernel_cfg(sys)->max_size, 2440);
	assert_int_equal(vx_fpu_kernel_cfg(sys)->default_size, 2440);
	assert_true(log_has(sys, "x86/fpu: xstate_offset[9]: 2432, xstate_sizes[9]:    8"));
	assert_true(log_has(sys, "x86/fpu: Enabled xstate features 0x2e7, context size is 2440 "
				 "bytes, using 'standard' format."));
	vx_fpu_system_destroy(sys);
}

/* ----------------------------------------------------------------------------------------- */
/* The xstate cache and offsets (§2.3, expectation 21)                                          */

static void test_uncompact_order_and_offsets(void **state)
{
	static const unsigned want[] = {2, 19, 5, 6, 7, 9, 17, 18};
	unsigned order[VX_FPU_XFEATURE_MAX];
	struct vx_fpu_xstate_info info;
	struct vx_profile p;
	struct vx_fpu_system *sys;

	(void)state;
	load(&p, "future-intel-apx");
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	assert_int_equal(vx_fpu_uncompact_order(sys, order, VX_FPU_XFEATURE_MAX), 8);
	assert_memory_equal(order, want, sizeof(want));
	assert_true(vx_fpu_xstate_info(sys, VX_COMP_CET_S, &info));
	assert_int_equal(info.offset, VX_FPU_NO_OFFSET);
	assert_int_equal(info.size, 24);
	assert_int_equal(info.flags, VX_FPU_XSTATE_FLAG_SUPERVISOR);
	assert_true(vx_fpu_xstate_info(sys, VX_COMP_XTILECFG, &info));
	assert_int_equal(info.flags, VX_FPU_XSTATE_FLAG_ALIGNED64);
	assert_int_equal(info.offset, 2752);
	/* Compacted offsets follow the buffer's own XCOMP_BV; aligned components round up. */
	assert_int_equal(vx_fpu_xfeature_offset(sys, 0x20003 | VX_XCOMP_BV_COMPACTED, 17), 576);
	assert_int_equal(vx_fpu_xfeature_offset(sys, 0x20803, 17), 640);
	assert_int_equal(vx_fpu_xfeature_offset(sys, 0x21803, 17), 640);
	assert_int_equal(vx_fpu_xfeature_offset(sys, 0xe1ee7, 19), 10752);
	assert_int_equal(vx_fpu_xfeature_offset(sys, 0xa0ee7, 19), 2560);
	assert_int_equal(vx_fpu_xfeature_offset(sys, 0x1003, 12), 576);
	assert_int_equal(vx_fpu_xfeature_offset(sys, 0x1007, 12), 832);
	assert_int_equal(vx_fpu_xfeature_offset(sys, 0x0007, 12), VX_FPU_NO_OFFSET);
	assert_int_equal(vx_fpu_xfeature_offset(sys, 0, 1), 160);
	/* Sizes: up to SSE is 576; standard size ignores supervisor bits. */
	assert_int_equal(vx_fpu_calculate_size(sys, 0x3, true), 576);
	assert_int_equal(vx_fpu_calculate_size(sys, 0x80007, false), 1088);
	assert_int_equal(vx_fpu_calculate_size(sys, 0x81807, false), 1088);
	assert_int_equal(vx_fpu_calculate_size(sys, 0x81807, true), 576 + 256 + 16 + 24 + 128);
	vx_fpu_system_destroy(sys);
}

/* ----------------------------------------------------------------------------------------- */
/* The boot log                                                                                 */

static void test_boot_log_sapphire_rapids(void **state)
{
	static const char *const want[] = {
	    "x86/fpu: Supporting XSAVE feature 0x001: 'x87 floating point registers'",
	    "x86/fpu: Supporting XSAVE feature 0x002: 'SSE registers'",
	    "x86/fpu: Supporting XSAVE feature 0x004: 'AVX registers'",
	    "x86/fpu: Supporting XSAVE feature 0x020: 'AVX-512 opmask'",
	    "x86/fpu: Supporting XSAVE feature 0x040: 'AVX-512 Hi256'",
	    "x86/fpu: Supporting XSAVE feature 0x080: 'AVX-512 ZMM_Hi256'",
	    "x86/fpu: Supporting XSAVE feature 0x200: 'Protection Keys User registers'",
	    "x86/fpu: Supporting XSAVE feature 0x400: 'PASID state'",
	    "x86/fpu: Supporting XSAVE feature 0x800: 'Control-flow User registers'",
	    "x86/fpu: Supporting XSAVE feature 0x1000: 'Control-flow Kernel registers (KVM only)'",
	    "x86/fpu: Supporting XSAVE feature 0x20000: 'AMX Tile config'",
	    "x86/fpu: Supporting XSAVE feature 0x40000: 'AMX Tile data'",
	    "x86/fpu: xstate_offset[2]:  576, xstate_sizes[2]:  256",
	    "x86/fpu: xstate_offset[5]:  832, xstate_sizes[5]:   64",
	    "x86/fpu: xstate_offset[6]:  896, xstate_sizes[6]:  512",
	    "x86/fpu: xstate_offset[7]: 1408, xstate_sizes[7]: 1024",
	    "x86/fpu: xstate_offset[9]: 2432, xstate_sizes[9]:    8",
	    "x86/fpu: xstate_offset[10]: 2440, xstate_sizes[10]:    8",
	    "x86/fpu: xstate_offset[11]: 2448, xstate_sizes[11]:   16",
	    "x86/fpu: xstate_offset[12]: 2464, xstate_sizes[12]:   24",
	    "x86/fpu: xstate_offset[17]: 2496, xstate_sizes[17]:   64",
	    "x86/fpu: xstate_offset[18]: 2560, xstate_sizes[18]: 8192",
	    ("x86/fpu: Enabled xstate features 0x61ee7, context size is 10752 bytes, using "
	     "'compacted' format."),
	};
	struct vx_profile p;
	struct vx_fpu_system *sys;

	(void)state;
	load(&p, "sapphire-rapids");
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	assert_int_equal(vx_fpu_boot_log_count(sys), sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(vx_fpu_boot_log_line(sys, i)->text, want[i]);
		assert_int_equal(vx_fpu_boot_log_line(sys, i)->level, VX_FPU_LOG_INFO);
	}
	assert_null(vx_fpu_boot_log_line(sys, 99));
	vx_fpu_system_destroy(sys);

	/* Before the series, CET_S is neither supported nor printed. */
	sys = boot(&p, VX_FPU_CET_UNSUPPORTED);
	assert_false(log_has(sys, "x86/fpu: Supporting XSAVE feature 0x1000: 'Control-flow "
				  "Kernel registers (KVM only)'"));
	assert_true(log_has(sys, "x86/fpu: xstate_offset[17]: 2496, xstate_sizes[17]:   64"));
	assert_true(log_has(sys, "x86/fpu: Enabled xstate features 0x60ee7, context size is 10752 "
				 "bytes, using 'compacted' format."));
	vx_fpu_system_destroy(sys);
}

/* ----------------------------------------------------------------------------------------- */
/* Disable paths (§2.2, §2.4; expectations 15, 17, 19, 23)                                      */

/* Every disabled boot: legacy sizes everywhere, kernel max 0, nothing programmed. */
static void assert_disabled(const struct vx_fpu_system *sys, enum vx_fpu_xsave_status status)
{
	const struct vx_fpu_state_config *k = vx_fpu_kernel_cfg(sys), *u = vx_fpu_user_cfg(sys);
	uint64_t xfd;
	uint32_t init_size;

	if (vx_fpu_xsave_status(sys) != status)
		dump_log(sys);
	assert_int_equal(vx_fpu_xsave_status(sys), status);
	assert_int_equal(k->max_features, 0);
	assert_int_equal(k->max_size, 512);
	assert_int_equal(k->default_size, 512);
	assert_int_equal(u->max_size, 512);
	assert_int_equal(u->default_size, 512);
	assert_int_equal(vx_fpu_guest_cfg(sys)->size, 512);
	assert_int_equal(u->legacy_features, 0x3);
	assert_false(vx_fpu_cpu_setup(sys)->osxsave);
	assert_false(vx_fpu_insns(sys)->xsave);
	vx_fpu_init_fpstate(sys, &init_size, NULL, &xfd);
	assert_int_equal(xfd, 0);
	assert_int_equal(init_size, 512);
	assert_int_equal(vx_fpu_sigframe_fpstate_size(sys), 512 + 112);
	if (status != VX_FPU_XSAVE_ABSENT)
		assert_true(log_has(sys, "x86/fpu: XSAVE disabled"));
	else
		assert_false(log_has(sys, "x86/fpu: XSAVE disabled"));
	/* No XSAVE feature is announced when the boot stops before setup_init_fpu_buf(). */
	assert_false(log_has(sys, "x86/fpu: Supporting XSAVE feature 0x001: 'x87 floating point "
				  "registers'"));
}

static void test_disable_apx_with_mpx(void **state)
{
	struct vx_profile p;
	struct vx_fpu_system *sys;

	(void)state;
	load(&p, "future-intel-apx");
	/* Leaf 0xD enumerates BNDREGS|BNDCSR next to APX (the MPX CPUID flag stays off: the
	 * check looks at leaf 0xD before any CPUID gate). */
	set_reg(&p, 0xD, 0, VX_EAX, get_reg(&p, 0xD, 0, VX_EAX) | 0x18u);
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	assert_disabled(sys, VX_FPU_XSAVE_DISABLED_APX_MPX);
	assert_true(log_has(sys, "x86/fpu: Both APX/MPX present in the CPU's xstate features: "
				 "0xedfff."));
	assert_int_equal(vx_fpu_boot_log_line(sys, 0)->level, VX_FPU_LOG_ERROR);
	vx_fpu_system_destroy(sys);
}

static void test_disable_fp_sse_missing(void **state)
{
	struct vx_profile p;
	struct vx_fpu_system *sys;

	(void)state;
	load(&p, "zen4");
	set_reg(&p, 0xD, 0, VX_EAX, get_reg(&p, 0xD, 0, VX_EAX) & ~0x2u);
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	assert_disabled(sys, VX_FPU_XSAVE_DISABLED_FPSSE);
	assert_string_equal(
	    vx_fpu_boot_log_line(sys, 0)->text,
	    "x86/fpu: FP/SSE not present amongst the CPU's xstate features: 0x1ae5.");
	assert_string_equal(vx_fpu_boot_log_line(sys, 1)->text, "x86/fpu: XSAVE disabled");
	assert_int_equal(vx_fpu_boot_log_count(sys), 2);
	vx_fpu_system_destroy(sys);
}

/* A CPU whose (0xD,1).EBX disagrees with its own components, read at the XCR0/XSS in force. */
static void test_disable_size_paranoia(void **state)
{
	struct vx_profile p;
	struct vx_fpu_system *sys;

	(void)state;
	load(&p, "zen4");
	p.xcr0_at_capture = 0x2e7;
	p.xss_at_capture = 0x1800;
	set_reg(&p, 0xD, 1, VX_EBX, 2544);
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	assert_disabled(sys, VX_FPU_XSAVE_DISABLED_SIZE);
	assert_true(log_has(sys, "XSAVE consistency problem: size 2480 != kernel_size 2544"));
	vx_fpu_system_destroy(sys);

	/* The same leaf read under another XSS (`unsupported` programs 0x800) is not the answer
	 * the kernel gets: it sees the architectural 2456 and boots. */
	sys = boot(&p, VX_FPU_CET_UNSUPPORTED);
	assert_int_equal(vx_fpu_xsave_status(sys), VX_FPU_XSAVE_ENABLED);
	assert_int_equal(vx_fpu_kernel_cfg(sys)->max_size, 2456);
	vx_fpu_system_destroy(sys);
}

/* A 2048-byte PKRU: the struct check only warns, then the 4496-byte default cannot fit. */
static void test_disable_init_buffer_too_small(void **state)
{
	struct vx_profile p;
	struct vx_fpu_system *sys;

	(void)state;
	load(&p, "zen4");
	/* XCR0 at capture unknown: no recorded (0xD,1).EBX to contradict the bigger PKRU. */
	p.xcr0_at_capture = 0;
	set_reg(&p, 0xD, 9, VX_EAX, 2048);
	set_reg(&p, 0xD, 0, VX_EBX, 2432 + 2048);
	set_reg(&p, 0xD, 0, VX_ECX, 2432 + 2048);
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	assert_disabled(sys, VX_FPU_XSAVE_DISABLED_INIT_BUFFER);
	assert_true(log_has(sys, "[Protection Keys User registers]: struct is 8 bytes, cpu state "
				 "2048 bytes"));
	assert_true(log_has(sys, "x86/fpu: init_fpstate buffer too small (4096 < 4496), "
				 "disabling XSAVE"));
	vx_fpu_system_destroy(sys);

	/* With a 1024-byte PKRU even all-tasks' default (3496 bytes) fits in the page. */
	set_reg(&p, 0xD, 9, VX_EAX, 1024);
	set_reg(&p, 0xD, 0, VX_EBX, 2432 + 1024); /* consistent standard sizes for the model CPU */
	set_reg(&p, 0xD, 0, VX_ECX, 2432 + 1024);
	for (int d = 0; d < VX_FPU_CET_DESIGN_COUNT; d++) {
		sys = boot(&p, (enum vx_fpu_cet_design)d);
		assert_int_equal(vx_fpu_xsave_status(sys), VX_FPU_XSAVE_ENABLED);
		vx_fpu_system_destroy(sys);
	}
}

/* Struct and tile checks that only warn (§2.4). */
static void test_warn_only_checks(void **state)
{
	struct vx_profile p;
	struct vx_fpu_system *sys;

	(void)state;
	load(&p, "sapphire-rapids");
	/* Leaf 0x1D.1: 8 tiles of 1024 bytes; claim 4 tiles. */
	set_reg(&p, 0x1D, 1, VX_EBX, (get_reg(&p, 0x1D, 1, VX_EBX) & 0xffffu) | (4u << 16));
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	assert_int_equal(vx_fpu_xsave_status(sys), VX_FPU_XSAVE_ENABLED);
	assert_true(log_has(sys, "XFEATURE_XTILE_DATA: calculated size is 4096 bytes, cpu state "
				 "8192 bytes"));
	vx_fpu_system_destroy(sys);
}

/* Expectation 23: a CPU without XSAVE keeps FXSAVE; GET_XCOMP_SUPP reports 0x3. */
static void test_no_xsave(void **state)
{
	struct vx_profile p;
	struct vx_fpu_system *sys;

	(void)state;
	load(&p, "zen4");
	set_reg(&p, 1, 0, VX_ECX, get_reg(&p, 1, 0, VX_ECX) & ~(1u << 26));
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	assert_disabled(sys, VX_FPU_XSAVE_ABSENT);
	assert_int_equal(vx_fpu_boot_log_count(sys), 1);
	assert_string_equal(vx_fpu_boot_log_line(sys, 0)->text, "x86/fpu: x87 FPU will use FXSAVE");
	assert_int_equal(vx_fpu_user_cfg(sys)->max_features | vx_fpu_user_cfg(sys)->legacy_features,
			 0x3);
	vx_fpu_system_destroy(sys);
}

static void test_refused_inputs(void **state)
{
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_system *sys = NULL;
	struct vx_profile p;

	(void)state;
	load(&p, "zen4");
	config.cet_design = VX_FPU_CET_DESIGN_COUNT;
	assert_int_equal(vx_fpu_system_create(&p, &config, &sys, &err), -EINVAL);
	assert_null(sys);
	assert_int_equal(vx_fpu_system_create(NULL, NULL, &sys, &err), -EINVAL);
	set_reg(&p, 1, 0, VX_EDX, get_reg(&p, 1, 0, VX_EDX) & ~1u);
	assert_int_equal(vx_fpu_system_create(&p, NULL, &sys, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "no x87 FPU"));
	assert_null(sys);
}

/* ----------------------------------------------------------------------------------------- */
/* init_fpstate and the per-CPU setup on model CPUs                                             */

static uint64_t read64(const uint8_t *bytes, size_t offset)
{
	uint64_t value;

	memcpy(&value, bytes + offset, sizeof(value));
	return value;
}

/* §2.2 step 17: FCW 0x37f, MXCSR 0x1f80, the CPU's MXCSR_MASK, XCOMP_BV, all else zero. */
static void test_init_fpstate_image(void **state)
{
	struct vx_profile p;
	struct vx_fpu_system *sys;
	uint64_t features;
	uint32_t size;

	(void)state;
	load(&p, "zen4");
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	const uint8_t *image = vx_fpu_init_fpstate(sys, &size, &features, NULL);
	assert_int_equal(size, 2456);
	assert_int_equal(features, 0xae7);
	for (uint32_t i = 0; i < size; i++) {
		uint8_t want = 0;

		if (i < 2)
			want = (uint8_t)(0x037f >> (8 * i));
		else if (i >= 24 && i < 28)
			want = (uint8_t)(0x1f80 >> (8 * (i - 24)));
		else if (i >= 28 && i < 32)
			want = (uint8_t)(vx_profile_mxcsr_mask(&p) >> (8 * (i - 28)));
		else if (i >= 520 && i < 528)
			want = (uint8_t)((0xae7 | VX_XCOMP_BV_COMPACTED) >> (8 * (i - 520)));
		if (image[i] != want)
			fail_msg("init_fpstate byte %u is 0x%02x, expected 0x%02x", i, image[i],
				 want);
	}
	assert_int_equal(read64(image, 512), 0);
	assert_int_equal(vx_fpu_mxcsr_feature_mask(sys), vx_profile_mxcsr_mask(&p));
	vx_fpu_system_destroy(sys);
}

static void test_init_cpu_programs_model_cpu(void **state)
{
	struct vx_profile p;
	struct vx_fpu_system *sys;
	struct vx_cpu *cpu;
	struct vx_event event;
	uint64_t value;

	(void)state;
	load(&p, "sapphire-rapids");
	sys = boot(&p, VX_FPU_CET_GUEST_ONLY);
	assert_int_equal(vx_cpu_create(&p, NULL, &cpu, NULL), 0);
	assert_int_equal(vx_fpu_system_init_cpu(sys, cpu, NULL), 0);
	assert_int_equal(vx_cpu_xgetbv(cpu, 0, &value, &event), 0);
	assert_int_equal(value, 0x602e7);
	assert_int_equal(vx_cpu_rdmsr(cpu, VX_MSR_IA32_XSS, &value, &event), 0);
	assert_int_equal(value, 0x9c00);
	assert_int_equal(vx_cpu_rdmsr(cpu, VX_MSR_IA32_XFD, &value, &event), 0);
	assert_int_equal(value, 0x40000);
	vx_cpu_destroy(cpu);
	vx_fpu_system_destroy(sys);
}

/* ----------------------------------------------------------------------------------------- */
/* Injected allocation failures                                                                 */

struct failing_platform {
	int allocations_left; /* fail when it reaches 0 */
	int live;
};

static void *failing_alloc(void *ctx, size_t size, size_t align)
{
	struct failing_platform *fp = ctx;

	if (fp->allocations_left-- == 0)
		return NULL;
	fp->live++;
	return vx_platform_default()->alloc(NULL, size, align);
}

static void failing_free(void *ctx, void *ptr)
{
	struct failing_platform *fp = ctx;

	if (ptr)
		fp->live--;
	vx_platform_default()->free(NULL, ptr);
}

static void test_allocation_failures(void **state)
{
	struct vx_profile p;
	int successes = 0;

	(void)state;
	load(&p, "sapphire-rapids");
	for (int n = 0; n < 8; n++) {
		struct failing_platform fp = {n, 0};
		struct vx_platform platform = {failing_alloc, failing_free, NULL, &fp};
		struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
		struct vx_error err = VX_ERROR_INIT;
		struct vx_fpu_system *sys = NULL;
		int rc;

		config.platform = &platform;
		rc = vx_fpu_system_create(&p, &config, &sys, &err);
		if (rc == 0) {
			successes++;
			vx_fpu_system_destroy(sys);
		} else {
			assert_int_equal(rc, -ENOMEM);
			assert_null(sys);
		}
		assert_int_equal(fp.live, 0);
	}
	/* The system, then the scratch CPU, fail; from then on the boot succeeds. */
	assert_true(successes >= 6);
}

/* ----------------------------------------------------------------------------------------- */
/* This machine's kernel through unprivileged ABI (the dmesg lines: test_fpu_host.c)            */

#define ARCH_GET_XCOMP_SUPP	  0x1021
#define ARCH_GET_XCOMP_PERM	  0x1022
#define ARCH_GET_XCOMP_GUEST_PERM 0x1024
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

static void test_host_kernel_abi(void **state)
{
	(void)state;
#if HOST_LINUX_X86_64
	struct vx_fpu_system *sys;
	struct vx_profile host;
	uint64_t supp = 0, perm = 0, guest_perm = 0;

	assert_int_equal(vx_profile_from_host(&host, NULL), 0);
	sys = boot(&host, VX_FPU_CET_GUEST_ONLY);
	const struct vx_fpu_state_config *u = vx_fpu_user_cfg(sys), *k = vx_fpu_kernel_cfg(sys);

	/* §4: SUPP = user max | legacy; PERM and GUEST_PERM = defaults masked to user bits. */
	assert_int_equal(syscall(SYS_arch_prctl, ARCH_GET_XCOMP_SUPP, &supp), 0);
	assert_int_equal(syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm), 0);
	assert_int_equal(syscall(SYS_arch_prctl, ARCH_GET_XCOMP_GUEST_PERM, &guest_perm), 0);
	print_message("host: ARCH_GET_XCOMP_SUPP 0x%llx PERM 0x%llx GUEST_PERM 0x%llx\n",
		      (unsigned long long)supp, (unsigned long long)perm,
		      (unsigned long long)guest_perm);
	assert_int_equal(supp, u->max_features | u->legacy_features);
	assert_int_equal(perm, k->default_features & VX_FPU_MASK_USER_SUPPORTED);
	assert_int_equal(guest_perm, vx_fpu_guest_cfg(sys)->features & VX_FPU_MASK_USER_SUPPORTED);

	/*
	 * AT_MINSIGSTKSZ = round16(frame + fpu__get_fpstate_size() + 63) (§4).  linux-fpu.md does
	 * not give the non-FPU part, but §12 measured 3376 with a 2432-byte user max on Zen 4
	 * (FPU part 2432 + 4 + 112 = 2548): the rest, 828, must be the same on this machine.
	 */
	unsigned long minsigstksz = getauxval(AT_MINSIGSTKSZ);

	print_message("host: AT_MINSIGSTKSZ %lu, model FPU part %u\n", minsigstksz,
		      vx_fpu_sigframe_fpstate_size(sys));
	if (minsigstksz != 0)
		assert_int_equal(minsigstksz - vx_fpu_sigframe_fpstate_size(sys), 3376 - 2548);
	vx_fpu_system_destroy(sys);
#else
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_design_names_and_masks),
	    cmocka_unit_test(test_sizes_per_design_on_builtin_profiles),
	    cmocka_unit_test(test_cet_s_placement_every_profile),
	    cmocka_unit_test(test_cleared_shstk_drops_cet),
	    cmocka_unit_test(test_amx_without_xfd),
	    cmocka_unit_test(test_xsavec_without_xsaves),
	    cmocka_unit_test(test_uncompact_order_and_offsets),
	    cmocka_unit_test(test_boot_log_sapphire_rapids),
	    cmocka_unit_test(test_disable_apx_with_mpx),
	    cmocka_unit_test(test_disable_fp_sse_missing),
	    cmocka_unit_test(test_disable_size_paranoia),
	    cmocka_unit_test(test_disable_init_buffer_too_small),
	    cmocka_unit_test(test_warn_only_checks),
	    cmocka_unit_test(test_no_xsave),
	    cmocka_unit_test(test_refused_inputs),
	    cmocka_unit_test(test_init_fpstate_image),
	    cmocka_unit_test(test_init_cpu_programs_model_cpu),
	    cmocka_unit_test(test_allocation_failures),
	    cmocka_unit_test(test_host_kernel_abi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
