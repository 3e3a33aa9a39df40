/* SPDX-License-Identifier: MIT */
/*
 * VMs and vCPUs: KVM_CREATE_VM, KVM_CREATE_VCPU (guest fpstate allocated and the guest
 * permission locked, kvm.md §6.1), RESET values (§3.2, §4.3), destruction.
 */
#include "kvm/kvm_internal.h"

#define CR0_RESET UINT64_C(0x60000010) /* CD | NW | ET (SDM Vol. 3A §10.1.1) */

void *vx_kvm_alloc(const struct vx_kvm *kvm, size_t size)
{
	void *p = kvm->platform->alloc(kvm->platform->ctx, size ? size : 1, 64);

	if (p)
		memset(p, 0, size ? size : 1);
	return p;
}

void vx_kvm_free(const struct vx_kvm *kvm, void *ptr)
{
	if (ptr)
		kvm->platform->free(kvm->platform->ctx, ptr);
}

int vx_kvm_vm_create(struct vx_kvm *kvm, struct vx_fpu_task *task, struct vx_kvm_vm **out,
		     struct vx_error *err)
{
	struct vx_kvm_vm *vm = vx_kvm_alloc(kvm, sizeof(*vm));

	if (!vm)
		return vx_error_set(err, -ENOMEM, "kvm.md §6.1", "cannot allocate the VM");
	vm->kvm = kvm;
	vm->owner = vx_fpu_task_process(task);
	vm->next = kvm->vms;
	kvm->vms = vm;
	*out = vm;
	return 0;
}

static void vcpu_free(struct vx_kvm_vcpu *vcpu)
{
	const struct vx_kvm *kvm = vcpu->vm->kvm;

	vx_kvm_vcpu_leave_run(vcpu);
	if (vcpu->gfpu.fpstate)
		(void)vx_fpu_free_guest_fpstate(&vcpu->gfpu, NULL);
	vx_kvm_free(kvm, vcpu->cpuid);
	vx_kvm_free(kvm, vcpu);
}

void vx_kvm_vm_destroy(struct vx_kvm_vm *vm)
{
	struct vx_kvm_vm **link;

	if (!vm)
		return;
	for (link = &vm->kvm->vms; *link && *link != vm; link = &(*link)->next)
		;
	if (*link)
		*link = vm->next;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_free(vm->vcpus[i]);
	vx_kvm_free(vm->kvm, vm);
}

struct vx_kvm *vx_kvm_vm_module(const struct vx_kvm_vm *vm)
{
	return vm->kvm;
}

static int check_vcpu_id(const struct vx_kvm_vm *vm, unsigned id, struct vx_error *err)
{
	/* KVM_MAX_VCPU_IDS (kvm_vm_ioctl_create_vcpu): -EINVAL beyond it. */
	if (id >= VX_KVM_MAX_VCPU_ID)
		return vx_error_set(err, -EINVAL, "KVM_CREATE_VCPU", "vCPU id %u >= %u", id,
				    VX_KVM_MAX_VCPU_ID);
	/* The model's own limit on vCPUs per VM (KVM_CAP_MAX_VCPUS). */
	if (vm->nvcpus >= VX_KVM_MAX_VCPUS)
		return vx_error_set(err, -EINVAL, "KVM_CREATE_VCPU", "more than %u vCPUs",
				    VX_KVM_MAX_VCPUS);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i]->id == id)
			return vx_error_set(err, -EEXIST, "KVM_CREATE_VCPU", "vCPU id %u exists",
					    id);
	return 0;
}

/* RESET (§3.2, §4.3): XCR0 = FP, XSS = 0, CET registers 0, CR0 at its reset value. */
static void vcpu_reset(struct vx_kvm_vcpu *vcpu)
{
	vcpu->xcr0 = VX_BIT(VX_COMP_X87);
	vcpu->ia32_xss = 0;
	vcpu->pkru = 0;
	vcpu->cr0 = CR0_RESET;
	vcpu->cr4 = 0;
	vcpu->efer = 0;
	memset(&vcpu->vmcs, 0, sizeof(vcpu->vmcs));
}

int vx_kvm_vcpu_create(struct vx_kvm_vm *vm, struct vx_fpu_task *task, unsigned id,
		       struct vx_kvm_vcpu **out, struct vx_error *err)
{
	struct vx_kvm_vcpu *vcpu;
	int rc = check_vcpu_id(vm, id, err);

	if (rc)
		return rc;
	vcpu = vx_kvm_alloc(vm->kvm, sizeof(*vcpu));
	if (!vcpu)
		return vx_error_set(err, -ENOMEM, "kvm.md §6.1", "cannot allocate the vCPU");
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->creator = task;
	/* fpu_alloc_guest_fpstate() locks the guest permission (§6.1). */
	rc = vx_fpu_alloc_guest_fpstate(task, &vcpu->gfpu, err);
	if (rc) {
		vx_kvm_free(vm->kvm, vcpu);
		return rc;
	}
	vcpu_reset(vcpu);
	/* kvm_vcpu_after_set_cpuid() with no entries: almost every cap is 0 (§1.4). */
	vx_kvm_vcpu_after_set_cpuid(vcpu);
	vm->vcpus[vm->nvcpus++] = vcpu;
	*out = vcpu;
	return 0;
}

/* kvm_xstate_reset(): MPX, CET_USER and CET_KERNEL components to zero (x86.c:12807-12852). */
#define INIT_ZEROED                                                                                \
	(VX_BIT(VX_COMP_BNDREGS) | VX_BIT(VX_COMP_BNDCSR) | VX_BIT(VX_COMP_CET_U) |                \
	 VX_BIT(VX_COMP_CET_S))

static void xstate_reset(struct vx_kvm_vcpu *vcpu)
{
	const struct vx_fpu_system *sys = vcpu->vm->kvm->fpu;
	struct vx_fpstate *fps = vcpu->gfpu.fpstate;
	uint64_t xcomp_bv = 0;
	struct vx_fpu_xstate_info info;

	if (vx_fpu_insns(sys)->compacted)
		memcpy(&xcomp_bv, fps->regs + VX_XCOMP_BV_OFFSET, sizeof(xcomp_bv));
	for (unsigned id = 0; id < VX_FPU_XFEATURE_MAX; id++) {
		uint32_t off = vx_fpu_xfeature_offset(sys, xcomp_bv, id);

		if (!(INIT_ZEROED & fps->xfeatures & VX_BIT(id)) || off == VX_FPU_NO_OFFSET ||
		    !vx_fpu_xstate_info(sys, id, &info) || off + info.size > fps->size)
			continue;
		memset(fps->regs + off, 0, info.size);
	}
}

int vx_kvm_vcpu_init_event(struct vx_kvm_vcpu *vcpu, struct vx_error *err)
{
	const struct vx_kvm *kvm = vcpu->vm->kvm;

	if (vcpu->in_run)
		return vx_error_set(err, -EBUSY, "kvm.md §6.5", "vCPU %u is inside KVM_RUN",
				    vcpu->id);
	xstate_reset(vcpu);
	/* VMX RESET/INIT zero GUEST_SSP, GUEST_INTR_SSP_TABLE and GUEST_S_CET (vmx.c:4884-4890). */
	if (vx_kvm_cap_has(kvm, VX_KF_SHSTK) || vx_kvm_cap_has(kvm, VX_KF_IBT))
		memset(&vcpu->vmcs, 0, sizeof(vcpu->vmcs));
	memset(vcpu->cet_sw.pl_ssp, 0, sizeof(vcpu->cet_sw.pl_ssp));
	vcpu->cr0 = CR0_RESET;
	vcpu->cr4 = 0;
	vcpu->cpuid_dynamic_dirty = true;
	vx_kvm_vcpu_runtime_caps(vcpu);
	return 0;
}

struct vx_kvm_vm *vx_kvm_vcpu_vm(const struct vx_kvm_vcpu *vcpu)
{
	return vcpu->vm;
}

unsigned vx_kvm_vcpu_id(const struct vx_kvm_vcpu *vcpu)
{
	return vcpu->id;
}

const struct vx_fpu_guest *vx_kvm_vcpu_guest_fpu(const struct vx_kvm_vcpu *vcpu)
{
	return &vcpu->gfpu;
}
