/* SPDX-License-Identifier: MIT */
/*
 * Validity rules for XCR0 (XSETBV), IA32_XSS and IA32_XFD (WRMSR): arch.md §3.
 * One commented check per architectural rule; the pairing rules come from the component
 * table (requires / group), so a new component brings its own rule with it.
 */
#include <errno.h>
#include <stdio.h>

#include <vxsave/arch.h>

/* How a message names the CPU: a dump without '# name:' has an empty name, never print ''. */
static const char *cpu_label(const struct vx_profile *profile)
{
	return profile->name[0] ? profile->name : "this CPU (unnamed profile)";
}

static int fail_bits(struct vx_error *err, uint64_t bits, int component, uint32_t msr,
		     const char *rule, const char *what, uint64_t value, const char *why)
{
	char names[96];

	/* The names elide at a whole name ("x87|...") and the rule stays in err->rule, so the
	 * reason always ends with why - it never runs out of room mid-word. */
	vx_format_component_mask(bits, names, sizeof(names));
	vx_error_set(err, -EINVAL, rule, "%s 0x%llx: bits 0x%llx (%s) %s", what,
		     (unsigned long long)value, (unsigned long long)bits, names, why);
	if (err) {
		err->bits = bits;
		err->component = component;
		err->msr = msr;
	}
	return -EINVAL;
}

static int lowest_bit(uint64_t mask)
{
	for (int i = 0; i < 64; i++)
		if (mask & VX_BIT(i))
			return i;
	return -1;
}

/* Rules 2-5 of §3.1, read from the component table: "requires" and "all-or-nothing" groups. */
static int check_xcr0_pairing(uint64_t xcr0, struct vx_error *err)
{
	for (unsigned i = 0; i < VX_COMP_LIMIT; i++) {
		const struct vx_component_info *c = vx_component_info(i);

		if (!c || !(xcr0 & VX_BIT(i)))
			continue;
		/* A component whose partners must be enabled with it (AVX-512 5-7, MPX, AMX). */
		if (c->group && (xcr0 & c->group) != c->group) {
			char why[128], missing[64];

			vx_format_component_mask(c->group & ~xcr0, missing, sizeof(missing));
			snprintf(why, sizeof(why), "must be enabled together with %s", missing);
			return fail_bits(err, xcr0 & c->group, (int)i, 0, c->xcr0_rule, "XCR0",
					 xcr0, why);
		}
		/* A component that needs another one (AVX needs SSE; AVX-512 needs AVX). */
		if ((xcr0 & c->requires) != c->requires) {
			char why[128], missing[64];

			vx_format_component_mask(c->requires & ~xcr0, missing, sizeof(missing));
			snprintf(why, sizeof(why), "need %s (bits 0x%llx) enabled too", missing,
				 (unsigned long long)(c->requires & ~xcr0));
			return fail_bits(err, c->group ? (xcr0 & c->group) : VX_BIT(i), (int)i, 0,
					 c->xcr0_rule, "XCR0", xcr0, why);
		}
	}
	return 0;
}

int vx_xcr0_check(const struct vx_profile *profile, uint64_t xcr0, struct vx_error *err)
{
	uint64_t supported = vx_profile_xcr0_supported(profile);

	/* XSETBV itself needs XSAVE (§5.8: #UD without it). */
	if (!vx_profile_has(profile, VX_FEAT_XSAVE))
		return vx_error_set(err, -EINVAL, "arch.md §5.8",
				    "XCR0 does not exist: CPUID.1:ECX[26] XSAVE = 0 on %s",
				    cpu_label(profile));
	/* Rule 1: x87 state is always enabled. */
	if (!(xcr0 & VX_BIT(VX_COMP_X87)))
		return fail_bits(err, VX_BIT(VX_COMP_X87), VX_COMP_X87, 0, "arch.md §3.1 rule 1",
				 "XCR0", xcr0, "must be set (x87 is mandatory)");
	/* Rule 6: bits CPUID.(0xD,0).EDX:EAX does not report, including supervisor bits and 63. */
	if (xcr0 & ~supported)
		return fail_bits(err, xcr0 & ~supported, lowest_bit(xcr0 & ~supported), 0,
				 "arch.md §3.1 rule 6", "XCR0", xcr0,
				 "are reserved: not in CPUID.(0xD,0).EDX:EAX");
	return check_xcr0_pairing(xcr0, err);
}

int vx_xss_check(const struct vx_profile *profile, uint64_t xss, struct vx_error *err)
{
	uint64_t supported = vx_profile_xss_supported(profile);

	/* §3.2: the MSR exists only with XSAVES. */
	if (!vx_profile_has(profile, VX_FEAT_XSAVE) || !vx_profile_has(profile, VX_FEAT_XSAVES)) {
		vx_error_set(err, -EINVAL, "arch.md §3.2",
			     "IA32_XSS does not exist: CPUID.(0xD,1).EAX[3] XSAVES = 0 on %s",
			     cpu_label(profile));
		if (err)
			err->msr = VX_MSR_IA32_XSS;
		return -EINVAL;
	}
	/* §3.2: any bit that is 0 in CPUID.(0xD,1).EDX:ECX (user bits, bit 63, absent ones). */
	if (xss & ~supported)
		return fail_bits(err, xss & ~supported, lowest_bit(xss & ~supported),
				 VX_MSR_IA32_XSS, "arch.md §3.2", "IA32_XSS", xss,
				 "are reserved: not in CPUID.(0xD,1).EDX:ECX");
	return 0;
}

int vx_xfd_check(const struct vx_profile *profile, uint64_t xfd, struct vx_error *err)
{
	uint64_t supported = vx_profile_xfd_supported(profile);

	/* §3.3: IA32_XFD and IA32_XFD_ERR exist iff CPUID.(0xD,1).EAX[4]. */
	if (!vx_profile_has(profile, VX_FEAT_XFD)) {
		vx_error_set(err, -EINVAL, "arch.md §3.3",
			     "IA32_XFD does not exist: CPUID.(0xD,1).EAX[4] XFD = 0 on %s",
			     cpu_label(profile));
		if (err)
			err->msr = VX_MSR_IA32_XFD;
		return -EINVAL;
	}
	/* §3.3: bit i may be set only if CPUID.(0xD,i).ECX[2] = 1. */
	if (xfd & ~supported)
		return fail_bits(err, xfd & ~supported, lowest_bit(xfd & ~supported),
				 VX_MSR_IA32_XFD, "arch.md §3.3", "IA32_XFD", xfd,
				 "are not XFD-capable: CPUID.(0xD,i).ECX[2] = 0");
	return 0;
}

int vx_feature_mask_check(const struct vx_profile *profile, uint64_t features, struct vx_error *err)
{
	uint64_t supervisor = vx_supervisor_components();
	int ret = vx_xcr0_check(profile, features & ~supervisor, err);

	if (ret == 0 && (features & supervisor))
		ret = vx_xss_check(profile, features & supervisor, err);
	return ret;
}
