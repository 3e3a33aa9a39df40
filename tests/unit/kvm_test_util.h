/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the kvm layer's tests: a booted host (fpu system, machine, a VMM task)
 * with a module on top, and small CPUID builders.  Expected values are computed in the tests
 * from kvm.md and the profiles' leaves, never read back from the code under test.
 */
#ifndef VXSAVE_KVM_TEST_UTIL_H
#define VXSAVE_KVM_TEST_UTIL_H

#include "fpu_task_test_util.h"

#include <vxsave/kvm.h>

struct kt_env {
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *machine;
	struct vx_fpu_task *vmm;
	struct vx_kvm *kvm;
};

/* Boot @profile for @design and load the module with @opts (NULL: the flavour defaults). */
static inline void kt_up_opts(struct kt_env *e, const char *profile,
			      const struct vx_kvm_options *opts)
{
	struct vx_error err = VX_ERROR_INIT;

	e->sys = ft_boot(profile, vx_kvm_cet_design_fpu(opts->design), NULL);
	e->machine = ft_machine(e->sys, 2);
	e->vmm = ft_spawn(e->machine);
	e->kvm = NULL;
	if (vx_kvm_create(e->machine, opts, &e->kvm, &err) != 0)
		fail_msg("kvm on %s: %s", profile, err.reason);
}

static inline void kt_up(struct kt_env *e, const char *profile, enum vx_kvm_flavour flavour,
			 enum vx_kvm_cet_design design)
{
	struct vx_kvm_options o;

	vx_kvm_options_init(&o, flavour);
	o.design = design;
	kt_up_opts(e, profile, &o);
}

static inline void kt_down(struct kt_env *e)
{
	vx_kvm_destroy(e->kvm);
	vx_fpu_machine_destroy(e->machine);
	vx_fpu_system_destroy(e->sys);
}

static inline unsigned kt_feat(const char *name)
{
	int i = vx_kvm_feature_by_name(name);

	if (i < 0)
		fail_msg("no KVM feature %s", name);
	return (unsigned)i;
}

static inline struct vx_kvm_vcpu *kt_vcpu(struct kt_env *e, struct vx_kvm_vm **vm, unsigned id)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vcpu *v = NULL;

	if (!*vm && vx_kvm_vm_create(e->kvm, e->vmm, vm, &err) != 0)
		fail_msg("vm: %s", err.reason);
	if (vx_kvm_vcpu_create(*vm, e->vmm, id, &v, &err) != 0)
		fail_msg("vcpu %u: %s", id, err.reason);
	return v;
}

/* An indexed CPUID entry. */
static inline struct vx_kvm_cpuid_entry kt_leaf(uint32_t fn, uint32_t idx, uint32_t eax,
						uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	struct vx_kvm_cpuid_entry e = {fn, idx, 0, eax, ebx, ecx, edx};

	if (fn == 7 || fn == 0xD)
		e.flags = VX_KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	return e;
}

/* The module's whole supported CPUID (the usual VMM start). */
static inline uint32_t kt_supported(struct kt_env *e, struct vx_kvm_cpuid_entry *out, uint32_t room)
{
	struct vx_error err = VX_ERROR_INIT;
	uint32_t n = room;

	ft_check(vx_kvm_get_supported_cpuid(e->kvm, e->vmm, out, &n, &err), &err,
		 "KVM_GET_SUPPORTED_CPUID");
	return n;
}

static inline const struct vx_kvm_cpuid_entry *kt_lookup(const struct vx_kvm_cpuid_entry *e,
							 uint32_t n, uint32_t fn, uint32_t idx)
{
	/* The callers' arrays are what KVM_GET_SUPPORTED_CPUID/KVM_GET_CPUID2 filled. */
	for (uint32_t i = 0; i < n; i++)
		/* cppcheck-suppress uninitvar */
		if (e[i].function == fn && e[i].index == idx)
			return &e[i];
	return NULL;
}

/* The entry (fn, idx), which must exist. */
static inline const struct vx_kvm_cpuid_entry *kt_find(const struct vx_kvm_cpuid_entry *e,
						       uint32_t n, uint32_t fn, uint32_t idx)
{
	static const struct vx_kvm_cpuid_entry none;
	const struct vx_kvm_cpuid_entry *r = kt_lookup(e, n, fn, idx);

	if (!r) {
		fail_msg("no CPUID entry 0x%x.%u", fn, idx);
		return &none;
	}
	return r;
}

#endif /* VXSAVE_KVM_TEST_UTIL_H */
