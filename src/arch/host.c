/* SPDX-License-Identifier: MIT */
/*
 * The live host as a profile source: the CPUID instruction, XGETBV and FXSAVE of this machine
 * (arch.md §1 for what the leaves mean, §2.2 for MXCSR_MASK).  Only this file contains inline
 * assembly for profiles; everything else reads CPUID through a vx_cpuid_fn so that dumps,
 * built-in profiles and the host are interchangeable.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/arch.h>

#define CPUID_EXTENDED_BASE 0x80000000u
#define CPUID1_ECX_OSXSAVE  (1u << 27)
#define CPUIDD1_EAX_XGETBV1 (1u << 2)
#define CPUIDD1_EAX_XSAVES  (1u << 3)

#if defined(__x86_64__) && defined(__GNUC__)
#define VX_HOST_X86_64 1
#else
#define VX_HOST_X86_64 0
#endif

void vx_host_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, struct vx_cpuid_regs *out)
{
	(void)ctx;
#if VX_HOST_X86_64
	__asm__ volatile("cpuid"
			 : "=a"(out->eax), "=b"(out->ebx), "=c"(out->ecx), "=d"(out->edx)
			 : "a"(leaf), "c"(subleaf));
#else
	(void)leaf;
	(void)subleaf;
	memset(out, 0, sizeof(*out));
#endif
}

/* XGETBV faults with #UD unless CR4.OSXSAVE=1, which CPUID.1:ECX[27] mirrors (§1.1). */
static bool host_has_osxsave(void)
{
	struct vx_cpuid_regs r;

	vx_host_cpuid(NULL, 0, 0, &r);
	if (r.eax < 1)
		return false;
	vx_host_cpuid(NULL, 1, 0, &r);
	return (r.ecx & CPUID1_ECX_OSXSAVE) != 0;
}

/* CPUID.(0xD,1).EAX, or 0 when the basic range stops before leaf 0xD. */
static uint32_t host_xsave_subleaf1_eax(void)
{
	struct vx_cpuid_regs r;

	vx_host_cpuid(NULL, 0, 0, &r);
	if (r.eax < 0xD)
		return 0;
	vx_host_cpuid(NULL, 0xD, 1, &r);
	return r.eax;
}

int vx_host_xgetbv(uint32_t ecx, uint64_t *value)
{
	if (!value || ecx > 1)
		return -EINVAL;
	if (!VX_HOST_X86_64 || !host_has_osxsave())
		return -ENOTSUP;
	/* §1.3: XGETBV with ECX=1 (XINUSE) exists only when CPUID.(0xD,1).EAX[2] = 1. */
	if (ecx == 1 && !(host_xsave_subleaf1_eax() & CPUIDD1_EAX_XGETBV1))
		return -ENOTSUP;
#if VX_HOST_X86_64
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(ecx));
	*value = (uint64_t)hi << 32 | lo;
	return 0;
#else
	return -ENOTSUP;
#endif
}

/*
 * Whether CPUID(@leaf) exists: leaves above the maximum of their range (leaf 0 EAX for the
 * basic range, 0x80000000 EAX for the extended one) return unrelated data on real CPUs, so a
 * profile keeps them as zeros, exactly as `cpuid -r` leaves them out.
 */
static bool leaf_in_range(uint32_t leaf, uint32_t max_basic, uint32_t max_extended)
{
	if (leaf >= CPUID_EXTENDED_BASE)
		return leaf == CPUID_EXTENDED_BASE || leaf <= max_extended;
	return leaf == 0 || leaf <= max_basic;
}

int vx_profile_from_cpuid(struct vx_profile *profile, vx_cpuid_fn cpuid, void *ctx,
			  struct vx_error *err)
{
	struct vx_profile fresh;
	struct vx_cpuid_regs max_basic, max_extended;
	uint32_t leaf, subleaf;

	if (!profile || !cpuid)
		return vx_error_set(err, -EINVAL, NULL,
				    "vx_profile_from_cpuid needs a profile and a CPUID function");
	vx_profile_init(&fresh);
	cpuid(ctx, 0, 0, &max_basic);
	cpuid(ctx, CPUID_EXTENDED_BASE, 0, &max_extended);
	/* An extended range whose EAX does not name an extended leaf does not exist. */
	if (max_extended.eax < CPUID_EXTENDED_BASE)
		max_extended.eax = 0;
	/* Slot order covers leaf 0xD sub-leaves 0..63: one per component (§1.4). */
	for (unsigned slot = 0; vx_profile_slot_leaf(slot, &leaf, &subleaf); slot++) {
		struct vx_cpuid_regs regs = {0, 0, 0, 0};

		if (leaf_in_range(leaf, max_basic.eax, max_extended.eax))
			cpuid(ctx, leaf, subleaf, &regs);
		if (leaf == CPUID_EXTENDED_BASE && max_extended.eax == 0)
			memset(&regs, 0, sizeof(regs));
		fresh.leaves[slot] = regs;
	}
	vx_profile_decode_xsave(&fresh);
	*profile = fresh;
	return 0;
}

#if VX_HOST_X86_64
/* The rest is the host probe proper, which only makes sense on x86-64. */

/* MXCSR_MASK as FXSAVE stores it at byte 28 of the legacy region (§2.2); 0 = default. */
static uint32_t host_mxcsr_mask(void)
{
	struct {
		_Alignas(64) unsigned char bytes[VX_LEGACY_SIZE];
	} area;
	uint32_t mask;

	memset(&area, 0, sizeof(area));
	__asm__ volatile("fxsave64 %0" : "=m"(area));
	memcpy(&mask, area.bytes + VX_MXCSR_MASK_OFFSET, sizeof(mask));
	return mask;
}

/* The 48-byte brand string of leaves 0x80000002..4, trimmed; empty if the CPU has none. */
static void host_brand_string(char *brand, size_t len)
{
	struct vx_cpuid_regs r;
	char raw[49];
	size_t start = 0, end;

	brand[0] = '\0';
	vx_host_cpuid(NULL, CPUID_EXTENDED_BASE, 0, &r);
	if (r.eax < CPUID_EXTENDED_BASE + 4)
		return;
	for (uint32_t i = 0; i < 3; i++) {
		vx_host_cpuid(NULL, CPUID_EXTENDED_BASE + 2 + i, 0, &r);
		memcpy(raw + 16 * i, &r, 16);
	}
	raw[48] = '\0';
	end = strlen(raw);
	while (start < end && raw[start] == ' ')
		start++;
	while (end > start && raw[end - 1] == ' ')
		end--;
	snprintf(brand, len, "%.*s", (int)(end - start), raw + start);
}

/* "AuthenticAMD family 0x1a model 0x1 stepping 1" from leaves 0 and 1. */
static void host_signature(const struct vx_profile *profile, char *text, size_t len)
{
	struct vx_cpuid_regs id = vx_profile_leaf(profile, 0, 0);
	uint32_t eax = vx_profile_leaf(profile, 1, 0).eax;
	uint32_t family = (eax >> 8) & 0xf, model = (eax >> 4) & 0xf;
	char vendor[13];

	memcpy(vendor, &id.ebx, 4);
	memcpy(vendor + 4, &id.edx, 4);
	memcpy(vendor + 8, &id.ecx, 4);
	vendor[12] = '\0';
	/* The extended family and model fields count only for families 0xF (and 0x6 model). */
	if (family == 0xf)
		family += (eax >> 20) & 0xff;
	if (family == 0x6 || family >= 0xf)
		model |= ((eax >> 16) & 0xf) << 4;
	snprintf(text, len, "%s family 0x%x model 0x%x stepping %u", vendor, family, model,
		 eax & 0xf);
}

static void host_describe(struct vx_profile *profile)
{
	char brand[49], signature[96];

	host_brand_string(brand, sizeof(brand));
	host_signature(profile, signature, sizeof(signature));
	if (brand[0])
		snprintf(profile->description, sizeof(profile->description), "%s (%s)", brand,
			 signature);
	else
		snprintf(profile->description, sizeof(profile->description), "%s", signature);
}

static unsigned bit_count(uint64_t mask)
{
	unsigned count = 0;

	for (; mask; mask &= mask - 1)
		count++;
	return count;
}

/*
 * IA32_XSS cannot be read from user mode, but CPUID.(0xD,1).EBX is the compacted size of
 * XCR0 | IA32_XSS (§1.3).  When exactly one subset of the XSS mask explains that size, it is
 * the value in force; if none or several do, the value stays 0 ("unknown").
 */
/* The one IA32_XSS subset that explains 0xD.1 EBX; false when none or several do. */
static bool host_infer_xss(const struct vx_profile *profile, uint64_t xcr0, uint64_t *xss)
{
	uint64_t xss_mask = vx_profile_xss_supported(profile);
	uint32_t reported = profile->xsave.compacted_size;
	uint64_t subset = 0, found = 0;
	unsigned matches = 0;

	if (!xss_mask || !xcr0 || reported == 0)
		return false;
	if (bit_count(xss_mask) > 16) /* keep the subset walk small */
		return false;
	do {
		subset = (subset - xss_mask) & xss_mask;
		if (vx_compacted_size(profile, xcr0 | subset) == reported) {
			found = subset;
			matches++;
		}
	} while (subset != 0);
	*xss = found;
	return matches == 1;
}

int vx_profile_from_host(struct vx_profile *profile, struct vx_error *err)
{
	struct vx_profile host;
	uint64_t xcr0 = 0;
	int ret;

	if (!profile)
		return vx_error_set(err, -EINVAL, NULL, "vx_profile_from_host needs a profile");
	ret = vx_profile_from_cpuid(&host, vx_host_cpuid, NULL, err);
	if (ret)
		return ret;
	snprintf(host.name, sizeof(host.name), "host");
	snprintf(host.source, sizeof(host.source), "live CPUID on this machine");
	host_describe(&host);
	if (vx_host_xgetbv(0, &xcr0) == 0)
		host.xcr0_at_capture = xcr0;
	if (host_xsave_subleaf1_eax() & CPUIDD1_EAX_XSAVES)
		host.xss_known = host_infer_xss(&host, xcr0, &host.xss_at_capture);
	host.mxcsr_mask = host_mxcsr_mask();
	*profile = host;
	return 0;
}
#else
int vx_profile_from_host(struct vx_profile *profile, struct vx_error *err)
{
	(void)profile;
	return vx_error_set(err, -ENOTSUP, NULL,
			    "reading the live host needs an x86-64 build (CPUID, XGETBV, FXSAVE)");
}
#endif
