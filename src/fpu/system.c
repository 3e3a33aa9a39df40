/* SPDX-License-Identifier: MIT */
/*
 * Booting the FPU framework: fpu__init_system() of linux-fpu.md §2.2, one table row per step.
 * A row either computes (and may fail with an errno: allocation, a model CPU refusing a value)
 * or checks; a check that fails prints the kernel's message and ends the XSAVE boot with its
 * status, and every DISABLED_* status then takes the kernel's disable path.
 */
#include <errno.h>
#include <string.h>

#include "fpu_internal.h"

/* ----------------------------------------------------------------------------------------- */
/* What CPUID answers once the kernel has programmed XCR0/XSS (§2.4)                            */

/*
 * CPUID.(0xD,0).EBX and (0xD,1).EBX follow the XCR0/XSS in force.  When the profile was
 * captured with exactly those values, its recorded leaf is the real CPU's answer (and a CPU
 * that disagrees with itself trips the kernel's paranoia check); otherwise the answer is what
 * the architecture computes for them (arch.md §1.2, §1.3).
 */
static uint32_t cpuid_standard_size(const struct vx_fpu_system *sys, uint64_t xcr0)
{
	if (sys->profile.xcr0_at_capture == xcr0)
		return vx_profile_leaf(&sys->profile, 0xD, 0).ebx;
	return vx_standard_size(&sys->profile, xcr0);
}

static uint32_t cpuid_compacted_size(const struct vx_fpu_system *sys, uint64_t xcr0, uint64_t xss)
{
	if (sys->profile.xcr0_at_capture == xcr0 && sys->profile.xss_at_capture == xss)
		return vx_profile_leaf(&sys->profile, 0xD, 1).ebx;
	return vx_compacted_size(&sys->profile, xcr0 | xss);
}

/* xfeatures_mask_supervisor() (§1): kernel max ∩ SUPERVISOR_SUPPORTED, CET_S included. */
static uint64_t supervisor_mask(const struct vx_fpu_system *sys)
{
	return sys->kernel.max_features & sys->masks.supervisor_supported;
}

/* xfeatures_mask_independent() (§1): LBR only with architectural LBRs. */
static uint64_t independent_mask(const struct vx_fpu_system *sys)
{
	uint64_t independent = sys->kernel.independent_features;

	if (!fpu_cpu_has(sys, VX_FEAT_ARCH_LBR))
		independent &= ~VX_BIT(VX_COMP_LBR);
	return independent;
}

/* The kernel size: XSAVES' size with IA32_XSS briefly without independent features (§2.4). */
static uint32_t cpuid_kernel_size(const struct vx_fpu_system *sys)
{
	if (!sys->insns.compacted)
		return cpuid_standard_size(sys, sys->user.max_features);
	return cpuid_compacted_size(sys, sys->user.max_features,
				    sys->setup.write_xss ? supervisor_mask(sys) : 0);
}

/* ----------------------------------------------------------------------------------------- */
/* Legacy sizing and the disable path (init.c, §2.2)                                            */

static void set_all_sizes(struct vx_fpu_system *sys, uint32_t size)
{
	sys->kernel.max_size = sys->kernel.default_size = size;
	sys->user.max_size = sys->user.default_size = size;
	sys->guest.size = size;
}

/* init_fpstate without XSAVE: fpstate_init_user() (§6: FCW 0x37f, MXCSR 0x1f80 with FXSR). */
static void legacy_init_fpstate(struct vx_fpu_system *sys)
{
	static const uint16_t fcw = VX_FCW_DEFAULT;
	static const uint32_t mxcsr = VX_MXCSR_DEFAULT;
	/* fregs_state init words: cwd, swd, twd, and fos at byte 24 (32-bit kernels only). */
	static const uint32_t fsave_words[] = {0xffff037fu, 0xffff0000u, 0xffffffffu};
	static const uint32_t fsave_fos = 0xffff0000u;

	memset(sys->init_image, 0, sizeof(sys->init_image));
	sys->init_size = sys->legacy_size;
	sys->init_xfeatures = sys->user.legacy_features;
	sys->init_xfd = 0;
	if (sys->legacy_size == FPU_FXSAVE_SIZE) {
		memcpy(sys->init_image, &fcw, sizeof(fcw));
		memcpy(sys->init_image + VX_MXCSR_OFFSET, &mxcsr, sizeof(mxcsr));
		return;
	}
	memcpy(sys->init_image, fsave_words, sizeof(fsave_words));
	memcpy(sys->init_image + 24, &fsave_fos, sizeof(fsave_fos));
}

/*
 * fpu__init_system_xstate_size_legacy() and the MXCSR mask probe (§2.2): FXSR gives 512 bytes
 * and FP|SSE, otherwise the 112-byte fsave image and FP; all five sizes start there.
 */
static void legacy_sizing(struct vx_fpu_system *sys)
{
	bool fxsr = fpu_cpu_has(sys, VX_FEAT_FXSR);

	sys->legacy_size = fxsr ? FPU_FXSAVE_SIZE : FPU_FSAVE_SIZE;
	sys->user.legacy_features = fxsr ? VX_FPU_MASK_FPSSE : FPU_MASK_FP;
	sys->mxcsr_feature_mask = fxsr ? vx_profile_mxcsr_mask(&sys->profile) : 0xffffffffu;
	set_all_sizes(sys, sys->legacy_size);
	legacy_init_fpstate(sys);
}

/*
 * fpu__init_disable_system_xstate() (§2.2): "XSAVE disabled", kernel max = 0, CR4.OSXSAVE off,
 * legacy sizes everywhere (guest too), init_fpstate.xfd = 0.  Only the *kernel* max is zeroed:
 * the user and default features keep what the boot had computed (the kernel does the same).
 */
static void disable_xsave(struct vx_fpu_system *sys)
{
	fpu_log(sys, VX_FPU_LOG_INFO, "x86/fpu: XSAVE disabled");
	sys->kernel.max_features = 0;
	set_all_sizes(sys, sys->legacy_size);
	memset(&sys->setup, 0, sizeof(sys->setup));
	memset(&sys->insns, 0, sizeof(sys->insns));
	legacy_init_fpstate(sys);
}

/* ----------------------------------------------------------------------------------------- */
/* The steps of fpu__init_system_xstate() (§2.2)                                                */

/* Step 1: without XSAVE the kernel stays with FXSAVE (or FSAVE) and says so. */
static bool xsave_absent(struct vx_fpu_system *sys)
{
	if (fpu_cpu_has(sys, VX_FEAT_XSAVE))
		return false;
	fpu_log(sys, VX_FPU_LOG_INFO, "x86/fpu: x87 FPU will use %s",
		fpu_cpu_has(sys, VX_FEAT_FXSR) ? "FXSAVE" : "FSAVE");
	return true;
}

/* Step 2: everything XCR0 and IA32_XSS can hold. */
static int read_max_features(struct vx_fpu_system *sys, struct vx_error *err)
{
	(void)err;
	sys->raw_max_features =
	    vx_profile_xcr0_supported(&sys->profile) | vx_profile_xss_supported(&sys->profile);
	sys->kernel.max_features = sys->raw_max_features;
	return 0;
}

/* Step 3: XSAVE without FP and SSE is an enumeration nobody can trust. */
static bool fpsse_missing(struct vx_fpu_system *sys)
{
	if ((sys->kernel.max_features & VX_FPU_MASK_FPSSE) == VX_FPU_MASK_FPSSE)
		return false;
	fpu_log(sys, VX_FPU_LOG_ERROR,
		"x86/fpu: FP/SSE not present amongst the CPU's xstate features: 0x%llx.",
		(unsigned long long)sys->kernel.max_features);
	return true;
}

/* Step 4: APX's standard offset overlaps the MPX area (§1), checked on the raw leaf 0xD. */
static bool apx_with_mpx(struct vx_fpu_system *sys)
{
	uint64_t max = sys->kernel.max_features;

	if (!(max & FPU_MASK_APX) || !(max & FPU_MASK_MPX))
		return false;
	fpu_log(sys, VX_FPU_LOG_ERROR,
		"x86/fpu: Both APX/MPX present in the CPU's xstate features: 0x%llx.",
		(unsigned long long)max);
	return true;
}

/* Steps 5-9: independent features first, then CPUID gates, XFD, XSAVES, the user part. */
static int mask_max_features(struct vx_fpu_system *sys, struct vx_error *err)
{
	uint64_t max = sys->kernel.max_features;

	(void)err;
	sys->kernel.independent_features = max & sys->masks.independent;
	max &= fpu_gated_features(sys);
	if (!fpu_cpu_has(sys, VX_FEAT_XFD))
		max &= ~VX_FPU_MASK_USER_DYNAMIC;
	if (fpu_cpu_has(sys, VX_FEAT_XSAVES))
		max &= sys->masks.user_supported | sys->masks.supervisor_supported;
	else
		max &= sys->masks.user_supported;
	sys->kernel.max_features = max;
	sys->user.max_features = max & sys->masks.user_supported;
	return 0;
}

/* Steps 10-11: host and guest defaults, and XTILE_DATA armed in XFD by default. */
static int compute_defaults(struct vx_fpu_system *sys, struct vx_error *err)
{
	(void)err;
	sys->kernel.default_features = sys->kernel.max_features & sys->masks.host_default;
	sys->user.default_features = sys->user.max_features & sys->masks.host_default;
	sys->guest.features = sys->kernel.max_features & sys->masks.guest_default;
	sys->paranoia_features = sys->kernel.max_features;
	sys->init_xfd = sys->user.max_features & VX_FPU_MASK_USER_DYNAMIC;
	return 0;
}

/* Step 12 and §8.1: compacted format with XSAVEC or XSAVES; the save/restore alternatives. */
static int choose_insns(struct vx_fpu_system *sys, struct vx_error *err)
{
	bool xsaves = fpu_cpu_has(sys, VX_FEAT_XSAVES), xsavec = fpu_cpu_has(sys, VX_FEAT_XSAVEC);

	(void)err;
	sys->insns.xsave = true;
	sys->insns.compacted = xsaves || xsavec;
	if (xsaves)
		sys->insns.save = VX_INSN_XSAVES64;
	else if (xsavec)
		sys->insns.save = VX_INSN_XSAVEC64;
	else if (fpu_cpu_has(sys, VX_FEAT_XSAVEOPT))
		sys->insns.save = VX_INSN_XSAVEOPT64;
	else
		sys->insns.save = VX_INSN_XSAVE64;
	sys->insns.restore = xsaves ? VX_INSN_XRSTORS64 : VX_INSN_XRSTOR64;
	return 0;
}

/* Step 13: fpu__init_cpu_xstate()'s values (written by vx_fpu_system_init_cpu()). */
static int compute_cpu_setup(struct vx_fpu_system *sys, struct vx_error *err)
{
	(void)err;
	sys->setup.osxsave = true;
	sys->setup.write_xfd = fpu_cpu_has(sys, VX_FEAT_XFD);
	sys->setup.xfd = sys->init_xfd;
	sys->setup.xcr0 = sys->user.max_features;
	sys->setup.write_xss = fpu_cpu_has(sys, VX_FEAT_XSAVES);
	sys->setup.xss = sys->setup.write_xss ? supervisor_mask(sys) | independent_mask(sys) : 0;
	return 0;
}

/* Step 14: setup_xstate_cache() (§2.3). */
static int setup_cache(struct vx_fpu_system *sys, struct vx_error *err)
{
	(void)err;
	fpu_setup_xstate_cache(sys);
	return 0;
}

/*
 * §2.4 paranoid_xstate_size_valid(): every extended feature against its struct (warn-only,
 * except a feature without one), supervisor features only with XSAVES (step 9 makes that
 * unreachable), then the computed size of the kernel max against what CPUID reports.
 */
static bool size_paranoia_fails(struct vx_fpu_system *sys)
{
	uint64_t max = sys->kernel.max_features & ~VX_FPU_MASK_FPSSE;
	uint32_t size, kernel_size = cpuid_kernel_size(sys);

	for (unsigned i = VX_COMP_AVX; i < VX_FPU_XFEATURE_MAX; i++) {
		if (!(max & VX_BIT(i)))
			continue;
		if (!fpu_check_xstate_against_struct(sys, i))
			return true;
		if (!sys->setup.write_xss &&
		    (sys->xstate[i].flags & VX_FPU_XSTATE_FLAG_SUPERVISOR)) {
			fpu_log(sys, VX_FPU_LOG_WARNING,
				"XSAVE consistency problem: Got supervisor feature %u, but XSAVES "
				"not advertised",
				i);
			return true;
		}
	}
	size = vx_fpu_calculate_size(sys, sys->kernel.max_features, sys->insns.compacted);
	if (size == kernel_size)
		return false;
	fpu_log(sys, VX_FPU_LOG_WARNING, "XSAVE consistency problem: size %u != kernel_size %u",
		size, kernel_size);
	return true;
}

/* §2.4 results: max sizes from CPUID, default sizes computed from the cache. */
static int assign_sizes(struct vx_fpu_system *sys, struct vx_error *err)
{
	bool compacted = sys->insns.compacted;

	(void)err;
	sys->kernel.max_size = cpuid_kernel_size(sys);
	sys->user.max_size = cpuid_standard_size(sys, sys->user.max_features);
	sys->kernel.default_size =
	    vx_fpu_calculate_size(sys, sys->kernel.default_features, compacted);
	sys->user.default_size = vx_fpu_calculate_size(sys, sys->user.default_features, false);
	sys->guest.size = vx_fpu_calculate_size(sys, sys->guest.features, compacted);
	/* Step 16: init_fpstate holds the kernel defaults (dynamic states are all-zero at init). */
	sys->init_size = sys->kernel.default_size;
	sys->init_xfeatures = sys->kernel.default_features;
	return 0;
}

/* Step 16: init_fpstate.regs is one page; a larger default cannot be initialized. */
static bool init_buffer_too_small(struct vx_fpu_system *sys)
{
	if (sys->init_size <= VX_FPU_INIT_FPSTATE_REGS_SIZE)
		return false;
	fpu_log(sys, VX_FPU_LOG_WARNING,
		"x86/fpu: init_fpstate buffer too small (%u < %u), disabling XSAVE",
		VX_FPU_INIT_FPSTATE_REGS_SIZE, sys->init_size);
	return true;
}

/* Step 17 (logs the supported features first, as setup_init_fpu_buf() does). */
static int init_fpu_buf(struct vx_fpu_system *sys, struct vx_error *err)
{
	return fpu_setup_init_fpu_buf(sys, err);
}

/* Tables derived from the cache for the switch and uABI paths (fpstate.c, uabi.c; issue 7). */
static int derive_tables(struct vx_fpu_system *sys, struct vx_error *err)
{
	(void)err;
	fpu_fpstate_setup_tables(sys);
	fpu_uabi_setup_layouts(sys);
	return 0;
}

/* Step 18: offsets, sizes and the "Enabled xstate features" line. */
static int log_enabled(struct vx_fpu_system *sys, struct vx_error *err)
{
	(void)err;
	fpu_log_offsets(sys);
	return 0;
}

/*
 * struct boot_step - one row: @compute (0 or a negative errno), or @fails, a check that prints
 * the kernel's message and ends the XSAVE boot with @status.
 */
struct boot_step {
	const char *rule;
	int (*compute)(struct vx_fpu_system *sys, struct vx_error *err);
	bool (*fails)(struct vx_fpu_system *sys);
	enum vx_fpu_xsave_status status;
};

static const struct boot_step boot_steps[] = {
    {"linux-fpu.md §2.2 step 1", NULL, xsave_absent, VX_FPU_XSAVE_ABSENT},
    {"linux-fpu.md §2.2 step 2", read_max_features, NULL, 0},
    {"linux-fpu.md §2.2 step 3", NULL, fpsse_missing, VX_FPU_XSAVE_DISABLED_FPSSE},
    {"linux-fpu.md §2.2 step 4", NULL, apx_with_mpx, VX_FPU_XSAVE_DISABLED_APX_MPX},
    {"linux-fpu.md §2.2 steps 5-9", mask_max_features, NULL, 0},
    {"linux-fpu.md §2.2 steps 10-11", compute_defaults, NULL, 0},
    {"linux-fpu.md §2.2 step 12", choose_insns, NULL, 0},
    {"linux-fpu.md §2.2 step 13", compute_cpu_setup, NULL, 0},
    {"linux-fpu.md §2.3", setup_cache, NULL, 0},
    {"linux-fpu.md §2.4", NULL, size_paranoia_fails, VX_FPU_XSAVE_DISABLED_SIZE},
    {"linux-fpu.md §2.4", assign_sizes, NULL, 0},
    {"linux-fpu.md §2.2 step 16", NULL, init_buffer_too_small, VX_FPU_XSAVE_DISABLED_INIT_BUFFER},
    {"linux-fpu.md §2.2 step 17", init_fpu_buf, NULL, 0},
    {"linux-fpu.md §2.3", derive_tables, NULL, 0},
    {"linux-fpu.md §2.2 step 18", log_enabled, NULL, 0},
};

static int run_boot_steps(struct vx_fpu_system *sys, struct vx_error *err)
{
	for (size_t i = 0; i < sizeof(boot_steps) / sizeof(boot_steps[0]); i++) {
		const struct boot_step *step = &boot_steps[i];
		int rc;

		if (step->fails) {
			if (!step->fails(sys))
				continue;
			sys->status = step->status;
			if (step->status != VX_FPU_XSAVE_ABSENT)
				disable_xsave(sys);
			return 0;
		}
		rc = step->compute(sys, err);
		if (rc < 0) {
			if (err && !err->rule)
				err->rule = step->rule;
			return rc;
		}
	}
	sys->status = VX_FPU_XSAVE_ENABLED;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Creation and accessors                                                                       */

static int check_arguments(const struct vx_profile *profile, const struct vx_fpu_config *config,
			   struct vx_fpu_system **system, struct vx_error *err)
{
	if (!profile || !system)
		return vx_error_set(err, -EINVAL, NULL,
				    "vx_fpu_system_create needs a profile and a result pointer");
	if (config && (unsigned)config->cet_design >= VX_FPU_CET_DESIGN_COUNT)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §0", "unknown CET_S design %d",
				    (int)config->cet_design);
	/* A 64-bit kernel needs an x87 FPU; "no FPU" (math emulation) is 32-bit only (§2.2). */
	if (!vx_profile_has(profile, VX_FEAT_FPU))
		return vx_error_set(err, -EINVAL, "linux-fpu.md §2.2 step 1",
				    "profile %s has no x87 FPU (CPUID.1:EDX[0]=0): a 64-bit "
				    "kernel cannot boot on it",
				    profile->name[0] ? profile->name : "(unnamed)");
	return 0;
}

int vx_fpu_system_create(const struct vx_profile *profile, const struct vx_fpu_config *config,
			 struct vx_fpu_system **system, struct vx_error *err)
{
	struct vx_fpu_config defaults = VX_FPU_CONFIG_INIT;
	const struct vx_platform *platform;
	struct vx_fpu_system *sys;
	int rc = check_arguments(profile, config, system, err);

	if (rc)
		return rc;
	if (!config)
		config = &defaults;
	platform = config->platform ? config->platform : vx_platform_default();
	sys = platform->alloc(platform->ctx, sizeof(*sys), _Alignof(struct vx_fpu_system));
	if (!sys)
		return vx_error_set(err, -ENOMEM, NULL,
				    "cannot allocate the FPU system (%zu bytes)", sizeof(*sys));
	memset(sys, 0, sizeof(*sys));
	sys->profile = *profile;
	sys->config = *config;
	sys->platform = platform;
	fpu_design_masks(config->cet_design, &sys->masks);
	legacy_sizing(sys);
	rc = run_boot_steps(sys, err);
	if (rc < 0) {
		platform->free(platform->ctx, sys);
		return rc;
	}
	*system = sys;
	return 0;
}

void vx_fpu_system_destroy(struct vx_fpu_system *system)
{
	if (system)
		system->platform->free(system->platform->ctx, system);
}

const struct vx_profile *vx_fpu_system_profile(const struct vx_fpu_system *system)
{
	return &system->profile;
}

const struct vx_fpu_config *vx_fpu_system_config(const struct vx_fpu_system *system)
{
	return &system->config;
}

enum vx_fpu_xsave_status vx_fpu_xsave_status(const struct vx_fpu_system *system)
{
	return system->status;
}

const struct vx_fpu_state_config *vx_fpu_kernel_cfg(const struct vx_fpu_system *system)
{
	return &system->kernel;
}

const struct vx_fpu_state_config *vx_fpu_user_cfg(const struct vx_fpu_system *system)
{
	return &system->user;
}

const struct vx_fpu_guest_config *vx_fpu_guest_cfg(const struct vx_fpu_system *system)
{
	return &system->guest;
}

const struct vx_fpu_masks *vx_fpu_masks(const struct vx_fpu_system *system)
{
	return &system->masks;
}

const struct vx_fpu_cpu_setup *vx_fpu_cpu_setup(const struct vx_fpu_system *system)
{
	return &system->setup;
}

const struct vx_fpu_insns *vx_fpu_insns(const struct vx_fpu_system *system)
{
	return &system->insns;
}

uint32_t vx_fpu_mxcsr_feature_mask(const struct vx_fpu_system *system)
{
	return system->mxcsr_feature_mask;
}

const uint8_t *vx_fpu_init_fpstate(const struct vx_fpu_system *system, uint32_t *size,
				   uint64_t *xfeatures, uint64_t *xfd)
{
	if (size)
		*size = system->init_size;
	if (xfeatures)
		*xfeatures = system->init_xfeatures;
	if (xfd)
		*xfd = system->init_xfd;
	return system->init_image;
}

/* §4: user max + MAGIC2 (with XSAVE) + the fsave header (IA32 emulation). */
uint32_t vx_fpu_sigframe_fpstate_size(const struct vx_fpu_system *system)
{
	uint32_t size = system->user.max_size;

	if (system->insns.xsave)
		size += 4;
	if (system->config.ia32_emulation && system->legacy_size == FPU_FXSAVE_SIZE)
		size += FPU_FSAVE_SIZE;
	return size;
}

static const char *const status_names[VX_FPU_XSAVE_STATUS_COUNT] = {
    [VX_FPU_XSAVE_ENABLED] = "enabled",
    [VX_FPU_XSAVE_ABSENT] = "absent (FXSAVE/FSAVE only)",
    [VX_FPU_XSAVE_DISABLED_FPSSE] = "disabled: FP/SSE not in leaf 0xD",
    [VX_FPU_XSAVE_DISABLED_APX_MPX] = "disabled: APX together with MPX",
    [VX_FPU_XSAVE_DISABLED_SIZE] = "disabled: XSAVE size consistency",
    [VX_FPU_XSAVE_DISABLED_INIT_BUFFER] = "disabled: init_fpstate buffer too small",
};

const char *vx_fpu_xsave_status_name(enum vx_fpu_xsave_status status)
{
	if ((unsigned)status >= VX_FPU_XSAVE_STATUS_COUNT)
		return NULL;
	return status_names[status];
}
