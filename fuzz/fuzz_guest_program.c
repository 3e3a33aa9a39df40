/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the kvm guest program text (vx_kvm_guest_program_parse, kvm_run.h) and,
 * when it parses, the program run by a vCPU under KVM_RUN on the model: a VMM process that asked
 * for the AMX guest permission, a VM with four pages of guest memory (ordinary, supervisor
 * shadow stack, user, user shadow stack), vCPU 0 with the module's supported CPUID, KVM_RUN
 * with short budgets so the thread is preempted and migrated between the two CPUs inside the
 * run (vx_kvm_sched).  A first line "#! PROFILE DESIGN FLAVOUR" picks the host (fuzz_util.h).
 *
 * Properties: a refused program returns -EINVAL with err.line set and a reason, and writes no
 * more than the ops it was given room for (a guard op after them must stay as it was).
 */
#include <errno.h>

#include <vxsave/kvm_run.h>

#include "fuzz_util.h"

#define OPS_MAX	      64u
#define GUEST_BASE    UINT64_C(0x20000)
#define GUEST_PAGES   4u
#define RUN_STEPS_MAX 256u

struct env {
	struct vx_fpu_machine *machine;
	struct vx_fpu_task *vmm;
	struct vx_kvm *kvm;
	struct vx_kvm_vm *vm;
	struct vx_kvm_vcpu *vcpu;
	uint8_t bytes[GUEST_PAGES * VX_PAGE_SIZE];
	uint8_t attr[GUEST_PAGES];
	struct vx_cpu_memory mem;
};

/* vCPU 0 with the supported CPUID, after the AMX guest permission (kvm.md §2.2, §2.5). */
static int vcpu_up(struct env *e, struct vx_error *err)
{
	static struct vx_kvm_cpuid_entry cpuid[VX_KVM_MAX_CPUID_ENTRIES];
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;
	int rc;

	(void)vx_fpu_arch_prctl(e->vmm, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA, NULL,
				err);
	rc = vx_kvm_vm_create(e->kvm, e->vmm, &e->vm, err);
	if (!rc)
		rc = vx_kvm_vcpu_create(e->vm, e->vmm, 0, &e->vcpu, err);
	if (!rc)
		rc = vx_kvm_get_supported_cpuid(e->kvm, e->vmm, cpuid, &n, err);
	if (!rc)
		rc = vx_kvm_vcpu_set_cpuid2(e->vcpu, e->vmm, cpuid, n, err);
	return rc;
}

static int env_up(struct env *e, const struct fz_host *h, struct vx_error *err)
{
	static const uint8_t attr[GUEST_PAGES] = {0, VX_PAGE_SHADOW_STACK, VX_PAGE_USER,
						  VX_PAGE_USER | VX_PAGE_SHADOW_STACK};
	struct vx_kvm_options o;
	int rc = vx_fpu_machine_create(fz_system(h), 2, &e->machine, err);

	if (!rc)
		rc = vx_fpu_process_create(e->machine, &e->vmm, err);
	if (!rc)
		rc = vx_fpu_task_schedule(e->vmm, 0, err);
	if (rc)
		return rc;
	vx_kvm_options_init(&o, fz_host_flavour(h));
	o.design = h->design;
	rc = vx_kvm_create(e->machine, &o, &e->kvm, err);
	if (!rc)
		rc = vcpu_up(e, err);
	if (rc)
		return rc;
	memcpy(e->attr, attr, sizeof(attr));
	e->mem.window = (struct vx_memory){e->bytes, sizeof(e->bytes), GUEST_BASE};
	e->mem.attr = e->attr;
	e->mem.pages = GUEST_PAGES;
	vx_kvm_vm_set_guest_memory(e->vm, &e->mem);
	return 0;
}

static void env_down(struct env *e)
{
	/* The module destroys its VMs and vCPUs, leaving KVM_RUN first (kvm.h). */
	vx_kvm_destroy(e->kvm);
	vx_fpu_machine_destroy(e->machine);
}

/* KVM_RUN until the program ends: budgets 1..5, a preemption migrates to the other CPU. */
static void run(struct env *e, const struct vx_kvm_guest_op *ops, unsigned count)
{
	struct vx_kvm_run r;
	unsigned cpu = 0;

	memset(&r, 0, sizeof(r));
	r.ops = ops;
	r.count = count;
	for (unsigned step = 0; step < RUN_STEPS_MAX && r.pc < count; step++) {
		struct vx_error err = VX_ERROR_INIT;
		int rc = vx_kvm_vcpu_run(e->vcpu, e->vmm, cpu, &r, 1 + step % 5, &err);

		if (rc < 0 || rc == VX_KVM_RUN_DONE)
			return;
		if (rc == VX_KVM_RUN_PREEMPTED) {
			cpu ^= 1;
			if (vx_kvm_sched(e->kvm, e->vmm, cpu, &err) < 0)
				return;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vx_kvm_guest_op ops[OPS_MAX + 1], guard;
	struct vx_error err = VX_ERROR_INIT;
	static struct env e;
	struct fz_host h;
	unsigned count = 0;
	int rc;

	memset(&guard, 0x5A, sizeof(guard));
	ops[OPS_MAX] = guard;
	rc = vx_kvm_guest_program_parse((const char *)data, size, ops, OPS_MAX, &count, &err);
	if (memcmp(&ops[OPS_MAX], &guard, sizeof(guard)) != 0)
		fz_fail("the parser wrote past the %u ops it was given", OPS_MAX);
	if (rc != 0) {
		if (rc != err.code || !err.reason[0])
			fz_fail("refusal %d without a matching error ('%s')", rc, err.reason);
		return 0;
	}
	if (count > OPS_MAX)
		fz_fail("%u ops reported for room of %u", count, OPS_MAX);
	fz_host_parse(data, size, &h);
	memset(&e, 0, sizeof(e));
	if (env_up(&e, &h, &err) == 0)
		run(&e, ops, count);
	env_down(&e);
	return 0;
}
