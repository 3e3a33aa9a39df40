/* SPDX-License-Identifier: MIT */
/*
 * Which CPU a profile is: family, model and stepping from CPUID.1:EAX and the brand string
 * from CPUID 0x80000002-0x80000004 (Intel SDM Vol. 2A, CPUID; AMD APM Vol. 3, CPUID Fn0000_0001
 * and Fn8000_0002-4).  Computed from the leaves like every other fact of a profile.
 */
#include <string.h>

#include <vxsave/arch.h>

void vx_profile_identity(const struct vx_profile *profile, struct vx_cpu_identity *id)
{
	uint32_t eax = vx_profile_leaf(profile, 1, 0).eax;
	unsigned base_family = (eax >> 8) & 0xfu;
	unsigned base_model = (eax >> 4) & 0xfu;

	memset(id, 0, sizeof(*id));
	id->signature = eax;
	id->stepping = eax & 0xfu;
	/* SDM: the extended family counts only when the family field is 0xF. */
	id->family = base_family == 0xfu ? base_family + ((eax >> 20) & 0xffu) : base_family;
	/* SDM: the extended model counts for families 6 and 0xF (APM: AMD reports 0xF in the
	 * base field from family 0xF on, so the same rule holds). */
	id->model = (base_family == 6u || base_family == 0xfu)
			? base_model | ((eax >> 16) & 0xfu) << 4
			: base_model;
}

size_t vx_profile_brand(const struct vx_profile *profile, char *buf, size_t len)
{
	char raw[49];
	size_t start = 0, end;

	if (!buf || !len)
		return 0;
	buf[0] = '\0';
	/* The brand leaves exist only when the extended range reaches 0x80000004. */
	if (vx_profile_leaf(profile, 0x80000000, 0).eax < 0x80000004u)
		return 0;
	for (unsigned i = 0; i < 3; i++) {
		struct vx_cpuid_regs r = vx_profile_leaf(profile, 0x80000002 + i, 0);

		memcpy(raw + 16 * i, &r.eax, 4);
		memcpy(raw + 16 * i + 4, &r.ebx, 4);
		memcpy(raw + 16 * i + 8, &r.ecx, 4);
		memcpy(raw + 16 * i + 12, &r.edx, 4);
	}
	raw[48] = '\0';
	end = strlen(raw);
	/* Intel pads the front with blanks; keep printable ASCII only (the text comes from
	 * whatever dump was loaded). */
	while (start < end && raw[start] == ' ')
		start++;
	while (end > start && raw[end - 1] == ' ')
		end--;
	for (size_t i = start; i < end; i++)
		if (raw[i] < 0x20 || raw[i] > 0x7e)
			raw[i] = '?';
	if (end - start >= len)
		end = start + len - 1;
	memcpy(buf, raw + start, end - start);
	buf[end - start] = '\0';
	return end - start;
}
