/* SPDX-License-Identifier: MIT */
/*
 * The kernel's xfeature facts as two tables: one row per xfeature (its CPUID gate, its boot-log
 * name, the size of the C struct the kernel checks CPUID against), and one row per CET_S design
 * (where component 12 sits among the kernel's masks).  linux-fpu.md §1.
 */
#include <errno.h>
#include <string.h>

#include "fpu_internal.h"

#define NO_GATE VX_FEAT_COUNT

/*
 * struct xfeature_row - one index of xsave_cpuid_features[], xfeature_names[] and
 * check_xstate_against_struct() (§1 table, §2.4).
 * @gate:        the CPU feature whose absence clears the bit (§2.2 step 6); NO_GATE for slots
 *               without a mapping, which are always cleared.
 * @name:        what "Supporting XSAVE feature" prints.
 * @struct_size: sizeof the kernel's struct for it; 0 = no case in the check (§2.4: "unknown
 *               component returns false").  XTILE_DATA is checked against leaf 0x1D instead.
 */
struct xfeature_row {
	enum vx_feature gate;
	const char *name;
	uint32_t struct_size;
};

/*
 * PKRU's gate is X86_FEATURE_OSPKE, which the kernel sets itself from PKU before FPU init, so
 * PKU is the CPU's answer; a dump's OSPKE only says what the capturing OS did (§1 table).
 */
static const struct xfeature_row xfeatures[VX_FPU_XFEATURE_MAX] = {
    [0] = {VX_FEAT_FPU, "x87 floating point registers", 0},
    [1] = {VX_FEAT_SSE, "SSE registers", 0},
    [2] = {VX_FEAT_AVX, "AVX registers", 256},
    [3] = {VX_FEAT_MPX, "MPX bounds registers", 64},
    [4] = {VX_FEAT_MPX, "MPX CSR", 64},
    [5] = {VX_FEAT_AVX512F, "AVX-512 opmask", 64},
    [6] = {VX_FEAT_AVX512F, "AVX-512 Hi256", 512},
    [7] = {VX_FEAT_AVX512F, "AVX-512 ZMM_Hi256", 1024},
    [8] = {VX_FEAT_PT, "Processor Trace (unused)", 0},
    [9] = {VX_FEAT_PKU, "Protection Keys User registers", 8},
    [10] = {VX_FEAT_ENQCMD, "PASID state", 8},
    [11] = {VX_FEAT_CET_SS, "Control-flow User registers", 16},
    [12] = {VX_FEAT_CET_SS, "Control-flow Kernel registers (KVM only)", 24},
    [13] = {NO_GATE, "unknown xstate feature", 0},
    [14] = {NO_GATE, "unknown xstate feature", 0},
    [15] = {NO_GATE, "unknown xstate feature", 0},
    [16] = {NO_GATE, "unknown xstate feature", 0},
    [17] = {VX_FEAT_AMX_TILE, "AMX Tile config", 64},
    [18] = {VX_FEAT_AMX_TILE, "AMX Tile data", 0},
    [19] = {VX_FEAT_APX_F, "APX registers", 128},
};

/*
 * struct design_row - where CET_S sits for one design (§0, §1 composite masks).
 * @cet_s_gated:  component 12 has SHSTK as its CPUID gate (added by the series; before it the
 *                slot had no mapping and the bit was cleared at step 6).
 * @cet_s_where:  the mask CET_S belongs to: supported, unsupported, or guest-only supervisor.
 * @name12:       what xfeature_names[12] says in that kernel.
 */
struct design_row {
	const char *name;
	bool cet_s_gated;
	bool cet_s_supported;
	bool cet_s_guest_only;
	const char *name12;
};

static const struct design_row designs[VX_FPU_CET_DESIGN_COUNT] = {
    /* Before the series: XFEATURE_CET_KERNEL_UNUSED, in SUPERVISOR_UNSUPPORTED (§1). */
    [VX_FPU_CET_UNSUPPORTED] = {"unsupported", false, false, false,
				"Control-flow Kernel registers (unused)"},
    /* Patch 5 of the series: GUEST_SUPERVISOR still 0, so CET_S is in every default. */
    [VX_FPU_CET_ALL_TASKS] = {"all-tasks", true, true, false,
			      "Control-flow Kernel registers (KVM only)"},
    /* Merged v8 (6.17+): GUEST_SUPERVISOR = CET_KERNEL. */
    [VX_FPU_CET_GUEST_ONLY] = {"guest-only", true, true, true,
			       "Control-flow Kernel registers (KVM only)"},
};

/* The KVM-managed designs keep CET_S out of XSAVE: this layer boots them as `unsupported`. */
static const char *const kvm_managed_designs[] = {"kvm-eager", "kvm-lazy", "kvm-user-return"};

void vx_fpu_config_init(struct vx_fpu_config *config)
{
	const struct vx_fpu_config init = VX_FPU_CONFIG_INIT;

	if (config)
		*config = init;
}

const char *vx_fpu_cet_design_name(enum vx_fpu_cet_design design)
{
	if ((unsigned)design >= VX_FPU_CET_DESIGN_COUNT)
		return NULL;
	return designs[design].name;
}

int vx_fpu_cet_design_by_name(const char *name)
{
	for (unsigned i = 0; name && i < VX_FPU_CET_DESIGN_COUNT; i++)
		if (strcmp(designs[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

int vx_fpu_cet_design_base(const char *name)
{
	int design = vx_fpu_cet_design_by_name(name);

	if (design >= 0)
		return design;
	for (size_t i = 0; name && i < sizeof(kvm_managed_designs) / sizeof(*kvm_managed_designs);
	     i++)
		if (strcmp(kvm_managed_designs[i], name) == 0)
			return VX_FPU_CET_UNSUPPORTED;
	return -ENOENT;
}

void fpu_design_masks(enum vx_fpu_cet_design design, struct vx_fpu_masks *masks)
{
	const struct design_row *row = &designs[design];
	uint64_t cet_s = FPU_MASK_CET_S;

	/* §1: SUPERVISOR_SUPPORTED = PASID | CET_USER | GUEST_SUPERVISOR; UNSUPPORTED = PT. */
	masks->user_supported = VX_FPU_MASK_USER_SUPPORTED;
	masks->guest_supervisor = row->cet_s_guest_only ? cet_s : 0;
	masks->supervisor_supported =
	    VX_BIT(VX_COMP_PASID) | VX_BIT(VX_COMP_CET_U) | (row->cet_s_supported ? cet_s : 0);
	masks->supervisor_unsupported = VX_BIT(VX_COMP_PT) | (row->cet_s_supported ? 0 : cet_s);
	masks->independent = VX_FPU_MASK_INDEPENDENT;
	masks->fpstate = VX_FPU_MASK_USER_RESTORE | masks->supervisor_supported;
	/* §2.2 step 10: host_default_mask() and guest_default_mask(). */
	masks->host_default = ~(VX_FPU_MASK_USER_DYNAMIC | masks->guest_supervisor);
	masks->guest_default = ~VX_FPU_MASK_USER_DYNAMIC;
}

/*
 * The kernel clears a CPU feature whose prerequisite is missing (arch/x86/kernel/cpu/
 * cpuid-deps.c; not in linux-fpu.md).  The one that matters at FPU boot: AMX_TILE needs XFD,
 * which needs XSAVES and XGETBV1 - so a CPU with AMX but no XFD loses XTILE_CFG too, as it must:
 * XCR0 with bit 17 and without bit 18 faults on XSETBV (arch.md §3.1).  docs/fpu.md.
 */
static const struct {
	enum vx_feature feature, needs;
} cpuid_deps[] = {
    {VX_FEAT_XFD, VX_FEAT_XSAVES},
    {VX_FEAT_XFD, VX_FEAT_XGETBV1},
    {VX_FEAT_AMX_TILE, VX_FEAT_XFD},
};

/* boot_cpu_has(): the profile's flag unless the kernel cleared it or what it depends on. */
/* NOLINTNEXTLINE(misc-no-recursion): follows cpuid_deps, a table without cycles */
bool fpu_cpu_has(const struct vx_fpu_system *sys, enum vx_feature feature)
{
	if (sys->config.cleared_features & VX_BIT(feature))
		return false;
	if (!vx_profile_has(&sys->profile, feature))
		return false;
	for (size_t i = 0; i < sizeof(cpuid_deps) / sizeof(cpuid_deps[0]); i++)
		if (cpuid_deps[i].feature == feature && !fpu_cpu_has(sys, cpuid_deps[i].needs))
			return false;
	return true;
}

/*
 * §2.2 step 6: the xfeatures whose CPUID gate is present.  FP is special-cased in the kernel
 * ("X86_FEATURE_FPU is 0"), which the table's explicit FPU gate covers.
 */
uint64_t fpu_gated_features(const struct vx_fpu_system *sys)
{
	uint64_t kept = 0;

	for (unsigned i = 0; i < VX_FPU_XFEATURE_MAX; i++) {
		enum vx_feature gate = xfeatures[i].gate;

		if (i == VX_COMP_CET_S && !designs[sys->config.cet_design].cet_s_gated)
			continue;
		if (gate != NO_GATE && fpu_cpu_has(sys, gate))
			kept |= VX_BIT(i);
	}
	return kept;
}

uint32_t fpu_xfeature_struct_size(unsigned id)
{
	return id < VX_FPU_XFEATURE_MAX ? xfeatures[id].struct_size : 0;
}

const char *vx_fpu_xfeature_name(const struct vx_fpu_system *system, unsigned id)
{
	if (id >= VX_FPU_XFEATURE_MAX)
		return "unknown xstate feature";
	if (id == VX_COMP_CET_S && system)
		return designs[system->config.cet_design].name12;
	return xfeatures[id].name;
}
