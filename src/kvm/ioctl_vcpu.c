/* SPDX-License-Identifier: MIT */
/*
 * vx_kvm_ioctl() on a vCPU descriptor (kvm_ioctl.h, issue 8): the <linux/kvm.h> structs
 * converted to the model's (kvm.h, kvm_regs.h) and copied as KVM copies them: which bytes go
 * out, whether a header is written back on failure, the order of the checks (kvm.md §2.5,
 * §3.1, §3.4, §4.3, §5.1-§5.3).  KVM_GET/SET_REGS and _SREGS are stored plainly (CR0/CR4
 * through the vCPU's CR rules); KVM_RUN runs the context's hook.
 */
#include <stdlib.h>

#include "kvm/dev_internal.h"

#define MAX_IO_MSRS	  256u /* x86.c msr_io(): nmsrs >= MAX_IO_MSRS → -E2BIG */
#define MAX_REG_LIST	  16u
#define APIC_DEFAULT_BASE UINT64_C(0xfee00000)
#define APIC_BASE_ENABLE  UINT64_C(0x800)
#define APIC_BASE_BSP	  UINT64_C(0x100)

#define VCPU(f) ((f)->vcpu->vcpu)

/* ----------------------------------------------------------------------------------------- */
/* KVM_SET_CPUID2 / KVM_GET_CPUID2 (kvm.md §2.5)                                               */

static int h_set_cpuid2(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	struct vx_kvm_cpuid_entry e[VX_KVM_MAX_CPUID_ENTRIES];
	struct kvm_cpuid_entry2 k;
	struct kvm_cpuid2 hdr;
	int rc = vx_dev_copy_in(dev, &hdr, arg, sizeof(hdr));

	if (rc)
		return rc;
	/* nent above KVM_MAX_CPUID_ENTRIES is -E2BIG before the entries are read. */
	if (hdr.nent > VX_KVM_MAX_CPUID_ENTRIES)
		return vx_error_set(&dev->last, -E2BIG, "kvm.md §2.5", "nent %u > %u", hdr.nent,
				    VX_KVM_MAX_CPUID_ENTRIES);
	for (uint32_t i = 0; !rc && i < hdr.nent; i++) {
		rc = vx_dev_copy_in(
		    dev, &k,
		    vx_dev_user_at(arg, offsetof(struct kvm_cpuid2, entries) + i * sizeof(k)),
		    sizeof(k));
		e[i] = (struct vx_kvm_cpuid_entry){k.function, k.index, k.flags, k.eax,
						   k.ebx,      k.ecx,	k.edx};
	}
	return rc ? rc : vx_kvm_vcpu_set_cpuid2(VCPU(f), dev->task, e, hdr.nent, &dev->last);
}

static int h_get_cpuid2(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	struct vx_kvm_cpuid_entry e[VX_KVM_MAX_CPUID_ENTRIES];
	struct kvm_cpuid_entry2 k;
	struct kvm_cpuid2 hdr;
	uint32_t n;
	int rc = vx_dev_copy_in(dev, &hdr, arg, sizeof(hdr));

	if (rc)
		return rc;
	/* Too small: -E2BIG with nent untouched (§2.5); the header goes back only on success. */
	n = hdr.nent < VX_KVM_MAX_CPUID_ENTRIES ? hdr.nent : VX_KVM_MAX_CPUID_ENTRIES;
	rc = vx_kvm_vcpu_get_cpuid2(VCPU(f), e, &n, &dev->last);
	for (uint32_t i = 0; !rc && i < n; i++) {
		k = (struct kvm_cpuid_entry2){e[i].function, e[i].index, e[i].flags, e[i].eax,
					      e[i].ebx,	     e[i].ecx,	 e[i].edx,   {0}};
		rc = vx_dev_copy_out(
		    dev, vx_dev_user_at(arg, offsetof(struct kvm_cpuid2, entries) + i * sizeof(k)),
		    &k, sizeof(k));
	}
	hdr.nent = n;
	return rc ? rc : vx_dev_copy_out(dev, arg, &hdr, sizeof(hdr));
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_GET/SET_XCRS (kvm.md §4.3): the whole struct kvm_xcrs, zero-filled, both ways            */

static int h_get_xcrs(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	struct vx_kvm_xcrs x;
	struct kvm_xcrs k;
	int rc;

	memset(&x, 0, sizeof(x));
	memset(&k, 0, sizeof(k));
	rc = vx_kvm_vcpu_get_xcrs(VCPU(f), &x, &dev->last);
	if (rc)
		return rc;
	k.nr_xcrs = x.nr_xcrs;
	k.flags = x.flags;
	for (unsigned i = 0; i < x.nr_xcrs && i < VX_KVM_MAX_XCRS; i++) {
		k.xcrs[i].xcr = x.xcrs[i].xcr;
		k.xcrs[i].value = x.xcrs[i].value;
	}
	return vx_dev_copy_out(dev, arg, &k, sizeof(k));
}

static int h_set_xcrs(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	struct vx_kvm_xcrs x;
	struct kvm_xcrs k;
	int rc = vx_dev_copy_in(dev, &k, arg, sizeof(k));

	if (rc)
		return rc;
	memset(&x, 0, sizeof(x));
	x.nr_xcrs = k.nr_xcrs;
	x.flags = k.flags;
	for (unsigned i = 0; i < VX_KVM_MAX_XCRS; i++) {
		x.xcrs[i].xcr = k.xcrs[i].xcr;
		x.xcrs[i].value = k.xcrs[i].value;
	}
	return vx_kvm_vcpu_set_xcrs(VCPU(f), &x, &dev->last);
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_GET/SET_MSRS (kvm.md §3.1): the count processed; GET writes every entry back            */

static int msr_io(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg, bool set)
{
	struct vx_kvm_msr_entry e[MAX_IO_MSRS];
	struct kvm_msrs hdr;
	int rc = vx_dev_copy_in(dev, &hdr, arg, sizeof(hdr));
	void *user = rc ? NULL : vx_dev_user_at(arg, offsetof(struct kvm_msrs, entries));

	if (rc)
		return rc;
	if (hdr.nmsrs >= MAX_IO_MSRS)
		return vx_error_set(&dev->last, -E2BIG, "kvm.md §3.1", "nmsrs %u >= %u", hdr.nmsrs,
				    MAX_IO_MSRS);
	_Static_assert(sizeof(e[0]) == sizeof(struct kvm_msr_entry), "kvm_msr_entry layout");
	rc = vx_dev_copy_in(dev, e, user, hdr.nmsrs * sizeof(e[0]));
	if (rc)
		return rc;
	rc = set ? vx_kvm_vcpu_set_msrs(VCPU(f), e, hdr.nmsrs, &dev->last)
		 : vx_kvm_vcpu_get_msrs(VCPU(f), e, hdr.nmsrs, &dev->last);
	if (rc >= 0 && !set && vx_dev_copy_out(dev, user, e, hdr.nmsrs * sizeof(e[0])))
		return -EFAULT;
	return rc;
}

static int h_get_msrs(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	return msr_io(dev, f, arg, false);
}

static int h_set_msrs(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	return msr_io(dev, f, arg, true);
}

/* ----------------------------------------------------------------------------------------- */
/* ONE_REG and KVM_GET_REG_LIST (kvm.md §3.4)                                                   */

static int h_get_one_reg(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	struct kvm_one_reg r;
	uint64_t value = 0;
	int rc = vx_dev_copy_in(dev, &r, arg, sizeof(r));

	if (!rc)
		rc = vx_kvm_vcpu_get_one_reg(VCPU(f), r.id, &value, &dev->last);
	if (!rc)
		rc = vx_dev_copy_out(dev, (void *)(uintptr_t)r.addr, &value, sizeof(value));
	return rc;
}

/* A plain MSR id: X86, size U64, type MSR, reserved fields zero (kvm.md §3.4). */
static bool msr_reg_id(uint64_t id)
{
	return (id & ~UINT64_C(0xffffffff)) ==
	       (VX_KVM_REG_X86 | VX_KVM_REG_SIZE_U64 | (uint64_t)VX_KVM_X86_REG_TYPE_MSR << 32);
}

/* kvm_get_set_one_reg(): the id's format and the KVM-type translation (GUEST_SSP needs
 * SHSTK) are checked before the value is read, the MSR access after it (measured: a bad
 * value pointer is -EFAULT for any MSR id, -EINVAL for a refused format or GUEST_SSP).  The
 * model's GET answers the first part without side effects. */
static int h_set_one_reg(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	struct kvm_one_reg r;
	uint64_t value = 0;
	int rc = vx_dev_copy_in(dev, &r, arg, sizeof(r));

	if (!rc && !msr_reg_id(r.id))
		rc = vx_kvm_vcpu_get_one_reg(VCPU(f), r.id, &value, &dev->last);
	if (!rc)
		rc = vx_dev_copy_in(dev, &value, (void *)(uintptr_t)r.addr, sizeof(value));
	return rc ? rc : vx_kvm_vcpu_set_one_reg(VCPU(f), r.id, value, &dev->last);
}

static int h_get_reg_list(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	uint64_t ids[MAX_REG_LIST];
	struct kvm_reg_list hdr;
	uint64_t room;
	int rc = vx_dev_copy_in(dev, &hdr, arg, sizeof(hdr));

	if (rc)
		return rc;
	room = hdr.n < MAX_REG_LIST ? hdr.n : MAX_REG_LIST;
	rc = vx_kvm_vcpu_get_reg_list(VCPU(f), ids, &room, &dev->last);
	if (rc && rc != -E2BIG)
		return rc;
	/* The count is written back first, then -E2BIG or the ids. */
	hdr.n = room;
	if (vx_dev_copy_out(dev, arg, &hdr, sizeof(hdr)))
		return -EFAULT;
	return rc ? rc
		  : vx_dev_copy_out(dev, vx_dev_user_at(arg, offsetof(struct kvm_reg_list, reg)),
				    ids, room * sizeof(ids[0]));
}

/* ----------------------------------------------------------------------------------------- */
/* The XSAVE uABI (kvm.md §5.1-§5.3)                                                            */

static int xsave_get(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg, bool v2)
{
	/* KVM_GET_XSAVE2 copies KVM_CAP_XSAVE2 bytes, zero beyond uabi_size (§5.1). */
	size_t size = v2 ? (size_t)vx_kvm_check_extension(dev->kvm, dev->task, VX_KVM_CAP_XSAVE2)
			 : VX_KVM_XSAVE_SIZE;
	uint8_t *buf;
	int rc;

	if (v2 && size < VCPU(f)->gfpu.uabi_size)
		size = VCPU(f)->gfpu.uabi_size;
	buf = vx_dev_alloc(dev, size);
	if (!buf)
		return vx_error_set(&dev->last, -ENOMEM, v2 ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE",
				    "no memory for a %zu-byte buffer", size);
	rc = vx_kvm_vcpu_get_xsave(VCPU(f), v2, buf, size, &dev->last);
	if (!rc)
		rc = vx_dev_copy_out(dev, arg, buf, size);
	vx_dev_free(dev, buf);
	return rc;
}

static int h_get_xsave(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	return xsave_get(dev, f, arg, false);
}

static int h_get_xsave2(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	return xsave_get(dev, f, arg, true);
}

/* KVM_SET_XSAVE reads the vCPU's uabi_size bytes (§5.3). */
static int h_set_xsave(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	size_t size = VCPU(f)->gfpu.uabi_size;
	uint8_t *buf = vx_dev_alloc(dev, size);
	int rc = buf ? vx_dev_copy_in(dev, buf, arg, size)
		     : vx_error_set(&dev->last, -ENOMEM, "KVM_SET_XSAVE",
				    "no memory for a %zu-byte buffer", size);

	if (!rc)
		rc = vx_kvm_vcpu_set_xsave(VCPU(f), buf, size, &dev->last);
	vx_dev_free(dev, buf);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* Plain registers, device attributes, KVM_RUN                                                  */

void vx_dev_vcpu_reset(struct vx_dev_vcpu *v)
{
	memset(&v->regs, 0, sizeof(v->regs));
	memset(&v->sregs, 0, sizeof(v->sregs));
	/* RESET (SDM Vol. 3A §10.1.1): RFLAGS 2, RIP 0xfff0, CS base 0xffff0000. */
	v->regs.rflags = 2;
	v->regs.rip = 0xfff0;
	v->sregs.cs.selector = 0xf000;
	v->sregs.cs.base = 0xffff0000;
	v->sregs.cr0 = vx_kvm_vcpu_cr0(v->vcpu);
	v->sregs.cr4 = vx_kvm_vcpu_cr4(v->vcpu);
	v->sregs.apic_base = APIC_DEFAULT_BASE | APIC_BASE_ENABLE |
			     (vx_kvm_vcpu_id(v->vcpu) == 0 ? APIC_BASE_BSP : 0);
}

static int h_get_regs(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	return vx_dev_copy_out(dev, arg, &f->vcpu->regs, sizeof(f->vcpu->regs));
}

static int h_set_regs(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	return vx_dev_copy_in(dev, &f->vcpu->regs, arg, sizeof(f->vcpu->regs));
}

static int h_get_sregs(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	f->vcpu->sregs.cr0 = vx_kvm_vcpu_cr0(VCPU(f));
	f->vcpu->sregs.cr4 = vx_kvm_vcpu_cr4(VCPU(f));
	return vx_dev_copy_out(dev, arg, &f->vcpu->sregs, sizeof(f->vcpu->sregs));
}

/* KVM_SET_SREGS: CR0 and CR4 through the vCPU's rules (kvm.md §7.1, x86.c:12299). */
static int h_set_sregs(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	struct kvm_sregs s;
	struct vx_event ev;
	int rc = vx_dev_copy_in(dev, &s, arg, sizeof(s));

	if (!rc && s.cr4 != vx_kvm_vcpu_cr4(VCPU(f)))
		rc = vx_kvm_vcpu_set_cr4(VCPU(f), true, s.cr4, &ev, &dev->last);
	if (!rc && s.cr0 != vx_kvm_vcpu_cr0(VCPU(f)))
		rc = vx_kvm_vcpu_set_cr0(VCPU(f), true, s.cr0, &ev, &dev->last);
	if (!rc)
		f->vcpu->sregs = s;
	return rc;
}

/* vCPU device attributes: none is modelled (-ENXIO after the copy). */
static int h_vcpu_device_attr(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	struct kvm_device_attr a;
	int rc = vx_dev_copy_in(dev, &a, arg, sizeof(a));

	(void)f;
	return rc ? rc
		  : vx_error_set(&dev->last, -ENXIO, "kvm_ioctl.h",
				 "vCPU attribute group %u attr %llu is not modelled", a.group,
				 (unsigned long long)a.attr);
}

static int h_run(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	/* KVM_RUN takes no argument (kvm_vcpu_ioctl). */
	if (arg)
		return vx_error_set(&dev->last, -EINVAL, "KVM_RUN", "KVM_RUN takes no argument");
	if (!dev->run_hook)
		return vx_error_set(&dev->last, -ENOEXEC, "kvm_ioctl.h",
				    "KVM_RUN: vCPU %u has no guest program: the model runs guest "
				    "code only from a guest script (vxsave kvm SCRIPT) or a run "
				    "hook (vx_kvm_dev_set_run_hook)",
				    vx_kvm_vcpu_id(VCPU(f)));
	return dev->run_hook(dev->run_ctx, dev, VCPU(f), f->vcpu->run, &dev->last);
}

const struct vx_dev_request vx_dev_vcpu_requests[] = {
    {KVM_SET_CPUID2, VX_DEV_VCPU, h_set_cpuid2},
    {KVM_GET_CPUID2, VX_DEV_VCPU, h_get_cpuid2},
    {KVM_GET_XCRS, VX_DEV_VCPU, h_get_xcrs},
    {KVM_SET_XCRS, VX_DEV_VCPU, h_set_xcrs},
    {KVM_GET_MSRS, VX_DEV_VCPU, h_get_msrs},
    {KVM_SET_MSRS, VX_DEV_VCPU, h_set_msrs},
    {KVM_GET_ONE_REG, VX_DEV_VCPU, h_get_one_reg},
    {KVM_SET_ONE_REG, VX_DEV_VCPU, h_set_one_reg},
    {KVM_GET_REG_LIST, VX_DEV_VCPU, h_get_reg_list},
    {KVM_GET_XSAVE, VX_DEV_VCPU, h_get_xsave},
    {KVM_GET_XSAVE2, VX_DEV_VCPU, h_get_xsave2},
    {KVM_SET_XSAVE, VX_DEV_VCPU, h_set_xsave},
    {KVM_GET_REGS, VX_DEV_VCPU, h_get_regs},
    {KVM_SET_REGS, VX_DEV_VCPU, h_set_regs},
    {KVM_GET_SREGS, VX_DEV_VCPU, h_get_sregs},
    {KVM_SET_SREGS, VX_DEV_VCPU, h_set_sregs},
    {KVM_GET_DEVICE_ATTR, VX_DEV_VCPU, h_vcpu_device_attr},
    {KVM_HAS_DEVICE_ATTR, VX_DEV_VCPU, h_vcpu_device_attr},
    {KVM_RUN, VX_DEV_VCPU, h_run},
};

const size_t vx_dev_vcpu_nrequests = sizeof(vx_dev_vcpu_requests) / sizeof(vx_dev_vcpu_requests[0]);
