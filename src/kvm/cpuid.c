/* SPDX-License-Identifier: MIT */
/*
 * The module's CPUID answers (kvm.md §2): KVM_GET_SUPPORTED_CPUID built from the host's leaves
 * and kvm_cpu_caps (leaf 0xD derived from supported_xcr0/xss and the caller's guest
 * permission, never passed through), KVM_GET_EMULATED_CPUID, KVM_CHECK_EXTENSION and
 * KVM_GET_DEVICE_ATTR.  Only the leaves a profile keeps are produced (arch profile.c).
 */
#include "kvm/kvm_internal.h"

#define MASK_XTILE_CFG	 VX_BIT(VX_COMP_XTILECFG)
#define MASK_XTILE_DATA	 VX_BIT(VX_COMP_XTILEDATA)
#define FP_SSE		 (VX_BIT(VX_COMP_X87) | VX_BIT(VX_COMP_SSE))
#define XSAVE_LEGACY_HDR 576u

const struct vx_kvm_cpuid_entry *vx_kvm_cpuid_find(const struct vx_kvm_cpuid_entry *entries,
						   uint32_t nent, uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < nent; i++) {
		const struct vx_kvm_cpuid_entry *e = &entries[i];
		bool indexed = e->flags & VX_KVM_CPUID_FLAG_SIGNIFCANT_INDEX;

		if (e->function == function && (!indexed || e->index == index))
			return e;
	}
	return NULL;
}

uint32_t vx_kvm_cpuid_reg(const struct vx_kvm_cpuid_entry *e, enum vx_cpuid_reg reg)
{
	/* NULL (no such entry) reads as 0: checked before anything is read from it. */
	if (!e)
		return 0;
	const uint32_t regs[4] = {e->eax, e->ebx, e->ecx, e->edx};

	return regs[reg & 3];
}

uint64_t vx_kvm_filtered_xcr0(const struct vx_kvm *kvm, const struct vx_fpu_task *task)
{
	uint64_t xcr0 = kvm->supported_xcr0;
	struct vx_fpu_perm perm, guest;

	/* AND with the process's guest permission when dynamic features exist (§2.2). */
	if (task && (xcr0 & VX_FPU_MASK_USER_DYNAMIC)) {
		vx_fpu_process_perm(vx_fpu_task_process(task), &perm, &guest);
		xcr0 &= guest.state_perm;
	}
	/* XTILE_CFG goes with XTILE_DATA (x86.h:468-486). */
	if (!(xcr0 & MASK_XTILE_DATA))
		xcr0 &= ~MASK_XTILE_CFG;
	return xcr0;
}

uint32_t vx_kvm_xstate_required_size(const struct vx_kvm *kvm, uint64_t xfeatures, bool compacted)
{
	/* xstate_required_size(): 576 plus the components from YMM up (§2.2, cpuid.c:59-80). */
	uint64_t ext = xfeatures & ~FP_SSE;
	uint32_t size;

	if (!ext)
		return XSAVE_LEGACY_HDR;
	size = compacted ? vx_compacted_size(kvm->profile, ext)
			 : vx_standard_size(kvm->profile, ext | FP_SSE);
	return size > XSAVE_LEGACY_HDR ? size : XSAVE_LEGACY_HDR;
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_GET_SUPPORTED_CPUID                                                                      */

struct cpuid_out {
	struct vx_kvm_cpuid_entry *entries;
	uint32_t room;
	uint32_t count;
	const struct vx_kvm *kvm; /* for the supported CPUID's quirks; NULL for emulated */
};

static void emit(struct cpuid_out *out, uint32_t fn, uint32_t idx, bool indexed,
		 struct vx_cpuid_regs r)
{
	/* Quirk pvm-supported-cpuid-sparse: bits this flavour leaves out (quirks_pvm.c). */
	if (out->kvm)
		vx_kvm_pvm_sparse_supported(out->kvm, fn, idx, &r);
	if (out->count < out->room) {
		struct vx_kvm_cpuid_entry *e = &out->entries[out->count];

		e->function = fn;
		e->index = idx;
		e->flags = indexed ? VX_KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
		e->eax = r.eax;
		e->ebx = r.ebx;
		e->ecx = r.ecx;
		e->edx = r.edx;
	}
	out->count++;
}

/* cpuid_entry_override(): the register of a word becomes the module's caps word (§2.1). */
static void override(const struct vx_kvm *kvm, struct vx_cpuid_regs *r, uint32_t leaf,
		     uint32_t subleaf)
{
	uint32_t *regs[4] = {&r->eax, &r->ebx, &r->ecx, &r->edx};

	for (unsigned w = 0; w < VX_KVM_NR_WORDS; w++) {
		const struct vx_kvm_word_info *wi = vx_kvm_word_info((enum vx_kvm_word)w);

		if (wi->leaf == leaf && wi->subleaf == subleaf)
			*regs[wi->reg] = kvm->caps[w];
	}
}

static struct vx_cpuid_regs host_leaf(const struct vx_kvm *kvm, uint32_t leaf, uint32_t subleaf)
{
	return vx_profile_leaf(kvm->profile, leaf, subleaf);
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Leaf 0xD (§2.2): sub-leaves 0, 1, then one per permitted component. */
static void leaf_d(const struct vx_kvm *kvm, const struct vx_fpu_task *task, struct cpuid_out *out)
{
	uint64_t xcr0 = vx_kvm_filtered_xcr0(kvm, task), xss = kvm->supported_xss;
	struct vx_cpuid_regs r = host_leaf(kvm, 0xD, 0);
	bool compact_size = vx_kvm_cap_has(kvm, VX_KF_XSAVES) || vx_kvm_cap_has(kvm, VX_KF_XSAVEC);

	r.eax &= (uint32_t)xcr0;
	r.edx &= (uint32_t)(xcr0 >> 32);
	r.ebx = r.ecx = vx_kvm_xstate_required_size(kvm, xcr0, false);
	emit(out, 0xD, 0, true, r);
	/* The leaf stops here without permitted features (§2.2). */
	if (!xcr0)
		return;
	r = host_leaf(kvm, 0xD, 1);
	r.eax = kvm->caps[VX_KVM_W_D_1_EAX];
	r.ebx = compact_size ? vx_kvm_xstate_required_size(kvm, xcr0 | xss, true) : 0;
	r.ecx &= (uint32_t)xss;
	r.edx &= (uint32_t)(xss >> 32);
	emit(out, 0xD, 1, true, r);
	for (unsigned i = 2; i < 64; i++) {
		bool user = xcr0 >> i & 1, super = xss >> i & 1;

		if (!user && !super)
			continue;
		r = host_leaf(kvm, 0xD, i);
		/* Dropped (with a WARN) if the size is 0 or ECX[0] disagrees with the kind. */
		if (!r.eax || (bool)(r.ecx & 1u) != super)
			continue;
		/* ECX[2] (XFD-capable) only when KVM has XFD; EDX = 0. */
		if (!vx_kvm_cap_has(kvm, VX_KF_XFD))
			r.ecx &= ~4u;
		r.edx = 0;
		emit(out, 0xD, i, true, r);
	}
}

/* Leaves 0x1D/0x1E (AMX palettes and TMUL) are passed through when AMX_TILE is supported. */
static void leaf_amx(const struct vx_kvm *kvm, struct cpuid_out *out)
{
	if (!vx_kvm_cap_has(kvm, VX_KF_AMX_TILE))
		return;
	for (uint32_t leaf = 0x1D; leaf <= 0x1E; leaf++)
		for (uint32_t sub = 0; sub < 2; sub++)
			emit(out, leaf, sub, true, host_leaf(kvm, leaf, sub));
}

static void basic_leaves(const struct vx_kvm *kvm, const struct vx_fpu_task *task,
			 struct cpuid_out *out)
{
	struct vx_cpuid_regs r = host_leaf(kvm, 0, 0);
	uint32_t max = r.eax;

	emit(out, 0, 0, false, r);
	r = host_leaf(kvm, 1, 0);
	override(kvm, &r, 1, 0);
	emit(out, 1, 0, false, r);
	/* Leaf 6: only ARAT (cpuid.c case 6). */
	emit(out, 6, 0, false, (struct vx_cpuid_regs){0x4, 0, 0, 0});
	if (max >= 7) {
		r = host_leaf(kvm, 7, 0);
		r.eax = min_u32(r.eax, 2);
		override(kvm, &r, 7, 0);
		emit(out, 7, 0, true, r);
		r = (struct vx_cpuid_regs){0, 0, 0, 0};
		override(kvm, &r, 7, 1);
		emit(out, 7, 1, true, r);
	}
	if (max >= 0xD)
		leaf_d(kvm, task, out);
	if (max >= 0x1D)
		leaf_amx(kvm, out);
}

static void extended_leaves(const struct vx_kvm *kvm, struct cpuid_out *out)
{
	struct vx_cpuid_regs r = host_leaf(kvm, 0x80000000, 0);
	uint32_t max = r.eax;

	if (max < 0x80000000)
		return;
	emit(out, 0x80000000, 0, false, r);
	r = host_leaf(kvm, 0x80000001, 0);
	override(kvm, &r, 0x80000001, 0);
	emit(out, 0x80000001, 0, false, r);
	for (uint32_t leaf = 0x80000002; leaf <= 0x80000004 && leaf <= max; leaf++)
		emit(out, leaf, 0, false, host_leaf(kvm, leaf, 0));
	if (max >= 0x80000008) {
		r = host_leaf(kvm, 0x80000008, 0);
		r.ebx = r.ecx = r.edx = 0;
		emit(out, 0x80000008, 0, false, r);
	}
}

static int finish(struct cpuid_out *out, uint32_t *nent, struct vx_error *err, const char *what)
{
	/* A too-small array is -E2BIG and nent stays (kvm_dev_ioctl_get_cpuid). */
	if (out->count > out->room)
		return vx_error_set(err, -E2BIG, "kvm.md §2", "%s needs %u entries, room for %u",
				    what, out->count, out->room);
	*nent = out->count;
	return 0;
}

int vx_kvm_get_supported_cpuid(const struct vx_kvm *kvm, const struct vx_fpu_task *task,
			       struct vx_kvm_cpuid_entry *entries, uint32_t *nent,
			       struct vx_error *err)
{
	struct cpuid_out out = {entries, *nent, 0, kvm};

	/* nent < 1 → -E2BIG; above KVM_MAX_CPUID_ENTRIES it is clamped (cpuid.c). */
	if (*nent < 1)
		return vx_error_set(err, -E2BIG, "kvm.md §2", "nent is 0");
	out.room = min_u32(*nent, VX_KVM_MAX_CPUID_ENTRIES);
	basic_leaves(kvm, task, &out);
	extended_leaves(kvm, &out);
	return finish(&out, nent, err, "KVM_GET_SUPPORTED_CPUID");
}

int vx_kvm_get_emulated_cpuid(const struct vx_kvm *kvm, struct vx_kvm_cpuid_entry *entries,
			      uint32_t *nent, struct vx_error *err)
{
	struct cpuid_out out = {entries, *nent, 0, NULL};
	struct vx_cpuid_regs r1 = {0, 0, 0, 0}, r7 = {0, 0, 0, 0};

	if (*nent < 1)
		return vx_error_set(err, -E2BIG, "kvm.md §2.3", "nent is 0");
	out.room = min_u32(*nent, VX_KVM_MAX_CPUID_ENTRIES);
	/* Leaf 0 EAX = 7; 1.ECX MOVBE; 7.ECX RDPID if KVM supports RDTSCP (§2.3). */
	emit(&out, 0, 0, false, (struct vx_cpuid_regs){7, 0, 0, 0});
	r1.ecx = 1u << vx_kvm_feature_at(VX_KF_MOVBE)->bit;
	emit(&out, 1, 0, false, r1);
	if (vx_kvm_cap_has(kvm, VX_KF_RDTSCP) && vx_kvm_pvm_emulates_rdpid(kvm))
		r7.ecx = 1u << vx_kvm_feature_at(VX_KF_RDPID)->bit;
	emit(&out, 7, 0, true, r7);
	return finish(&out, nent, err, "KVM_GET_EMULATED_CPUID");
}

int vx_kvm_check_extension(const struct vx_kvm *kvm, const struct vx_fpu_task *task, long cap)
{
	bool xsave = kvm->host.xcr0 != 0;
	uint32_t size;

	switch (cap) {
	case VX_KVM_CAP_XSAVE:
	case VX_KVM_CAP_XCRS:
		/* Both need host XSAVE (x86.c kvm_vm_ioctl_check_extension). */
		return xsave;
	case VX_KVM_CAP_ONE_REG:
	case VX_KVM_CAP_GET_MSR_FEATURES:
		return 1;
	case VX_KVM_CAP_XSAVE2:
		/* max(4096, standard size of the filtered XCR0) (§5.1). */
		size = vx_kvm_xstate_required_size(kvm, vx_kvm_filtered_xcr0(kvm, task), false);
		return (int)(size > 4096 ? size : 4096);
	case VX_KVM_CAP_MAX_VCPUS:
		return (int)VX_KVM_MAX_VCPUS;
	default:
		return 0;
	}
}

int vx_kvm_get_device_attr(const struct vx_kvm *kvm, uint32_t group, uint64_t attr, uint64_t *value,
			   struct vx_error *err)
{
	/* Group 0, KVM_X86_XCOMP_GUEST_SUPP: the unfiltered supported_xcr0 (§2.2). */
	if (group != 0 || attr != VX_KVM_X86_XCOMP_GUEST_SUPP)
		return vx_error_set(err, -ENXIO, "kvm.md §2.2",
				    "device attribute group %u attr %llu does not exist", group,
				    (unsigned long long)attr);
	*value = kvm->supported_xcr0;
	return 0;
}
