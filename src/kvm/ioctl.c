/* SPDX-License-Identifier: MIT */
/*
 * vx_kvm_ioctl() (kvm_ioctl.h, issue 8): one table row per request a descriptor kind takes,
 * with the <linux/kvm.h> structs copied in and out as KVM copies them, and the errno KVM
 * gives for a request the kind does not take (measured on this machine's KVM: /dev/kvm and
 * vCPUs -EINVAL, VMs -ENOTTY).  System and VM requests are here, vCPU ones in ioctl_vcpu.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kvm/dev_internal.h"

#define KVM_API_VERSION_NUMBER 12 /* KVM_API_VERSION (<linux/kvm.h>) */
#define USER_TOP	       UINT64_C(0x0000800000000000)
#define NULL_PAGE	       4096u

/* ----------------------------------------------------------------------------------------- */
/* User memory                                                                                  */

/* What access_ok() and a fault would refuse that the model can see without touching memory:
 * the NULL page, the kernel half, a range that wraps (kvm_ioctl.h). */
static bool user_range_bad(const void *user, size_t len)
{
	uint64_t a = (uint64_t)(uintptr_t)user;

	return a < NULL_PAGE || a >= USER_TOP || len > USER_TOP - a;
}

static int safe_copy(const void *dst, const void *src, size_t len, bool out)
{
	struct iovec local = {(void *)(uintptr_t)(out ? src : dst), len};
	struct iovec remote = {(void *)(uintptr_t)(out ? dst : src), len};
	ssize_t n = out ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0)
			: process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

	return n == (ssize_t)len ? 0 : -EFAULT;
}

int vx_dev_copy_in(const struct vx_kvm_dev *dev, void *dst, const void *user, size_t len)
{
	if (!len)
		return 0;
	if (user_range_bad(user, len))
		return -EFAULT;
	if (dev->opts.safe_copy) {
		memset(dst, 0, len);
		return safe_copy(dst, user, len, false);
	}
	memcpy(dst, user, len);
	return 0;
}

int vx_dev_copy_out(const struct vx_kvm_dev *dev, void *user, const void *src, size_t len)
{
	if (!len)
		return 0;
	if (user_range_bad(user, len))
		return -EFAULT;
	if (dev->opts.safe_copy)
		return safe_copy(user, src, len, true);
	memcpy(user, src, len);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Capabilities the descriptor layer answers itself (the rest: vx_kvm_check_extension)         */

static const struct {
	long cap;
	int value;
} dev_caps[] = {
    {KVM_CAP_USER_MEMORY, 1}, /* KVM_SET_USER_MEMORY_REGION is stored */
    {KVM_CAP_EXT_CPUID, 1},   /* KVM_GET_SUPPORTED_CPUID / KVM_SET_CPUID2 */
    {KVM_CAP_NR_MEMSLOTS, (int)VX_KVM_DEV_MAX_SLOTS},
    {KVM_CAP_MAX_VCPU_ID, (int)VX_KVM_MAX_VCPU_ID},
    {KVM_CAP_NR_VCPUS, (int)VX_KVM_MAX_VCPUS},
    {KVM_CAP_CHECK_EXTENSION_VM, 1},
    {KVM_CAP_X86_ROBUST_SINGLESTEP, 0},
};

static int check_extension(struct vx_kvm_dev *dev, long cap)
{
	for (size_t i = 0; i < sizeof(dev_caps) / sizeof(dev_caps[0]); i++)
		if (dev_caps[i].cap == cap)
			return dev_caps[i].value;
	return vx_kvm_check_extension(dev->kvm, dev->task, cap);
}

/* ----------------------------------------------------------------------------------------- */
/* /dev/kvm                                                                                     */

/* struct kvm_cpuid2 out: the header's nent, then the entries with zero padding. */
static int cpuid_out(struct vx_kvm_dev *dev, void *arg, const struct vx_kvm_cpuid_entry *e,
		     uint32_t n)
{
	struct kvm_cpuid2 hdr = {.nent = n};
	struct kvm_cpuid_entry2 k;
	int rc = vx_dev_copy_out(dev, arg, &hdr, sizeof(hdr));

	for (uint32_t i = 0; !rc && i < n; i++) {
		k = (struct kvm_cpuid_entry2){e[i].function, e[i].index, e[i].flags, e[i].eax,
					      e[i].ebx,	     e[i].ecx,	 e[i].edx,   {0}};
		rc = vx_dev_copy_out(
		    dev, vx_dev_user_at(arg, offsetof(struct kvm_cpuid2, entries) + i * sizeof(k)),
		    &k, sizeof(k));
	}
	return rc;
}

/* KVM_GET_SUPPORTED_CPUID / KVM_GET_EMULATED_CPUID (kvm.md §2.1-§2.3): nent < 1 → -E2BIG,
 * above 256 it is clamped, the header is written back only on success. */
static int sys_get_cpuid(struct vx_kvm_dev *dev, void *arg, bool emulated)
{
	struct vx_kvm_cpuid_entry e[VX_KVM_MAX_CPUID_ENTRIES];
	struct kvm_cpuid2 hdr;
	int rc = vx_dev_copy_in(dev, &hdr, arg, sizeof(hdr));

	if (rc)
		return rc;
	rc = emulated ? vx_kvm_get_emulated_cpuid(dev->kvm, e, &hdr.nent, &dev->last)
		      : vx_kvm_get_supported_cpuid(dev->kvm, dev->task, e, &hdr.nent, &dev->last);
	return rc ? rc : cpuid_out(dev, arg, e, hdr.nent);
}

/* KVM_GET_MSR_INDEX_LIST / _FEATURE_ (kvm.md §3.3): the count is written back even with
 * -E2BIG, then the indices. */
static int sys_msr_list(struct vx_kvm_dev *dev, void *arg, bool features)
{
	uint32_t idx[512];
	struct kvm_msr_list hdr;
	uint32_t room;
	int rc = vx_dev_copy_in(dev, &hdr, arg, sizeof(hdr));

	if (rc)
		return rc;
	room = hdr.nmsrs < 512 ? hdr.nmsrs : 512;
	rc = features ? vx_kvm_get_msr_feature_index_list(dev->kvm, idx, &room, &dev->last)
		      : vx_kvm_get_msr_index_list(dev->kvm, idx, &room, &dev->last);
	if (rc && rc != -E2BIG)
		return rc;
	hdr.nmsrs = room;
	if (vx_dev_copy_out(dev, arg, &hdr, sizeof(hdr)))
		return -EFAULT;
	if (rc)
		return rc;
	return vx_dev_copy_out(dev, vx_dev_user_at(arg, offsetof(struct kvm_msr_list, indices)),
			       idx, room * sizeof(idx[0]));
}

/* KVM_GET/HAS_DEVICE_ATTR on /dev/kvm (kvm.md §2.2): flags are not checked. */
static int sys_device_attr(struct vx_kvm_dev *dev, void *arg, bool get)
{
	struct kvm_device_attr a;
	uint64_t value = 0;
	int rc = vx_dev_copy_in(dev, &a, arg, sizeof(a));

	if (!rc)
		rc = vx_kvm_get_device_attr(dev->kvm, a.group, a.attr, &value, &dev->last);
	if (!rc && get)
		rc = vx_dev_copy_out(dev, (void *)(uintptr_t)a.addr, &value, sizeof(value));
	return rc;
}

static struct vx_dev_vm *vm_new(struct vx_kvm_dev *dev, int *rc)
{
	struct vx_dev_vm *vm = vx_dev_alloc(dev, sizeof(*vm));

	*rc = vm ? vx_kvm_vm_create(dev->kvm, dev->task, &vm->vm, &dev->last)
		 : vx_error_set(&dev->last, -ENOMEM, "KVM_CREATE_VM", "no memory for the VM");
	if (*rc) {
		vx_dev_free(dev, vm);
		return NULL;
	}
	vm->refs = 1;
	return vm;
}

/* KVM_CREATE_VM (type 0 only: KVM_X86_DEFAULT_VM, measured -EINVAL for 1 and 2). */
static int sys_create_vm(struct vx_kvm_dev *dev, unsigned long type)
{
	struct vx_dev_vm *vm;
	int fd, rc;

	if (type != 0)
		return vx_error_set(&dev->last, -EINVAL, "KVM_CREATE_VM",
				    "VM type %lu: only KVM_X86_DEFAULT_VM (0) is modelled", type);
	vm = vm_new(dev, &rc);
	if (!vm)
		return rc;
	fd = vx_dev_new_fd(dev, VX_DEV_VM, 0, 1);
	if (fd < 0) {
		vx_dev_vm_put(dev, vm);
		return fd;
	}
	dev->fds[fd].vm = vm;
	return fd;
}

/* A request whose argument must be 0 (KVM_GET_API_VERSION, KVM_GET_VCPU_MMAP_SIZE). */
static int zero_arg(struct vx_kvm_dev *dev, const void *arg, int value, const char *what)
{
	if (arg)
		return vx_error_set(&dev->last, -EINVAL, what, "%s takes no argument", what);
	return value;
}

static int h_api_version(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	(void)f;
	return zero_arg(dev, arg, KVM_API_VERSION_NUMBER, "KVM_GET_API_VERSION");
}

static int h_mmap_size(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	(void)f;
	return zero_arg(dev, arg, (int)VX_KVM_DEV_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE");
}

static int h_create_vm(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	(void)f;
	return sys_create_vm(dev, (unsigned long)(uintptr_t)arg);
}

static int h_check_extension(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	(void)f;
	return check_extension(dev, (long)(uintptr_t)arg);
}

static int h_supported_cpuid(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	(void)f;
	return sys_get_cpuid(dev, arg, false);
}

static int h_emulated_cpuid(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	(void)f;
	return sys_get_cpuid(dev, arg, true);
}

static int h_msr_list(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	(void)f;
	return sys_msr_list(dev, arg, false);
}

static int h_msr_feature_list(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	(void)f;
	return sys_msr_list(dev, arg, true);
}

static int h_get_device_attr(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	(void)f;
	return sys_device_attr(dev, arg, true);
}

static int h_has_device_attr(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	(void)f;
	return sys_device_attr(dev, arg, false);
}

/* ----------------------------------------------------------------------------------------- */
/* VMs                                                                                          */

static struct vx_dev_vcpu *vcpu_new(struct vx_kvm_dev *dev, struct vx_dev_vm *vm, unsigned long id,
				    int *rc)
{
	struct vx_dev_vcpu *v = vx_dev_alloc(dev, sizeof(*v));

	*rc = -ENOMEM;
	if (!v) {
		vx_error_set(&dev->last, -ENOMEM, "KVM_CREATE_VCPU", "no memory for the vCPU");
		return NULL;
	}
	/* KVM_MAX_VCPU_IDS: an id that does not fit is -EINVAL before anything else. */
	*rc = id > UINT32_MAX
		  ? vx_error_set(&dev->last, -EINVAL, "KVM_CREATE_VCPU", "vCPU id %lu out of range",
				 id)
		  : vx_kvm_vcpu_create(vm->vm, dev->task, (unsigned)id, &v->vcpu, &dev->last);
	if (*rc) {
		vx_dev_free(dev, v);
		return NULL;
	}
	v->vm = vm;
	vx_dev_vcpu_reset(v);
	return v;
}

static void *map_run(int fd)
{
	void *p = mmap(NULL, VX_KVM_DEV_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * KVM_CREATE_VCPU: the vCPU lives with the VM; its descriptor holds a VM reference.  The
 * descriptor and its kvm_run mapping come first: a vCPU once created cannot be taken out of
 * its VM again, so nothing may fail after it (a failure leaves the VM as it was).
 */
static int vm_create_vcpu(struct vx_kvm_dev *dev, struct vx_dev_vm *vm, unsigned long id)
{
	struct vx_dev_vcpu *v;
	void *run;
	int rc, fd = vx_dev_new_fd(dev, VX_DEV_VCPU, VX_KVM_DEV_MMAP_SIZE, 1);

	if (fd < 0)
		return fd;
	run = map_run(fd);
	v = run ? vcpu_new(dev, vm, id, &rc) : NULL;
	if (!run)
		rc = vx_error_set(&dev->last, -ENOMEM, "KVM_CREATE_VCPU",
				  "cannot map the vCPU's kvm_run page");
	if (!v) {
		if (run)
			munmap(run, VX_KVM_DEV_MMAP_SIZE);
		dev->fds[fd] = (struct vx_dev_fd){VX_DEV_NONE, NULL, NULL};
		close(fd);
		return rc;
	}
	v->run = run;
	vm->vcpus[vm->nvcpus++] = v;
	dev->fds[fd].vm = vm;
	dev->fds[fd].vcpu = v;
	vm->refs++;
	return fd;
}

static struct kvm_userspace_memory_region *find_slot(struct vx_dev_vm *vm, uint32_t slot)
{
	for (unsigned i = 0; i < vm->nslots; i++)
		if (vm->slots[i].slot == slot)
			return &vm->slots[i];
	return NULL;
}

/* KVM_SET_USER_MEMORY_REGION stored plainly, with the generic checks of
 * kvm_set_memory_region(): page alignment, known flags, size 0 deletes. */
static int vm_set_memory(struct vx_kvm_dev *dev, struct vx_dev_vm *vm, void *arg)
{
	struct kvm_userspace_memory_region r, *s;
	int rc = vx_dev_copy_in(dev, &r, arg, sizeof(r));

	if (rc)
		return rc;
	if ((r.guest_phys_addr | r.memory_size | r.userspace_addr) & 4095u ||
	    r.flags & ~(uint32_t)(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY))
		return vx_error_set(&dev->last, -EINVAL, "KVM_SET_USER_MEMORY_REGION",
				    "unaligned address or size, or unknown flags 0x%x", r.flags);
	s = find_slot(vm, r.slot);
	if (!s && vm->nslots >= VX_KVM_DEV_MAX_SLOTS)
		return vx_error_set(&dev->last, -EINVAL, "KVM_SET_USER_MEMORY_REGION",
				    "the model keeps %u slots", VX_KVM_DEV_MAX_SLOTS);
	if (!s)
		s = &vm->slots[vm->nslots++];
	*s = r;
	if (!r.memory_size)
		*s = vm->slots[--vm->nslots];
	return 0;
}

static int h_create_vcpu(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	return vm_create_vcpu(dev, f->vm, (unsigned long)(uintptr_t)arg);
}

static int h_set_memory(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg)
{
	return vm_set_memory(dev, f->vm, arg);
}

/* The system and VM requests: one row each (the vCPU ones are in ioctl_vcpu.c). */
static const struct vx_dev_request requests[] = {
    {KVM_GET_API_VERSION, VX_DEV_SYSTEM, h_api_version},
    {KVM_CREATE_VM, VX_DEV_SYSTEM, h_create_vm},
    {KVM_CHECK_EXTENSION, VX_DEV_SYSTEM, h_check_extension},
    {KVM_GET_VCPU_MMAP_SIZE, VX_DEV_SYSTEM, h_mmap_size},
    {KVM_GET_SUPPORTED_CPUID, VX_DEV_SYSTEM, h_supported_cpuid},
    {KVM_GET_EMULATED_CPUID, VX_DEV_SYSTEM, h_emulated_cpuid},
    {KVM_GET_MSR_INDEX_LIST, VX_DEV_SYSTEM, h_msr_list},
    {KVM_GET_MSR_FEATURE_INDEX_LIST, VX_DEV_SYSTEM, h_msr_feature_list},
    {KVM_GET_DEVICE_ATTR, VX_DEV_SYSTEM, h_get_device_attr},
    {KVM_HAS_DEVICE_ATTR, VX_DEV_SYSTEM, h_has_device_attr},
    /* KVM_CAP_CHECK_EXTENSION_VM: the VM descriptor answers it too. */
    {KVM_CHECK_EXTENSION, VX_DEV_VM, h_check_extension},
    {KVM_CREATE_VCPU, VX_DEV_VM, h_create_vcpu},
    {KVM_SET_USER_MEMORY_REGION, VX_DEV_VM, h_set_memory},
};

/* ----------------------------------------------------------------------------------------- */
/* Dispatch                                                                                     */

/* What KVM answers a request the object does not take (kvm_dev_ioctl: -EINVAL,
 * kvm_arch_vm_ioctl: -ENOTTY, kvm_arch_vcpu_ioctl: -EINVAL; measured here). */
static const int unknown_errno[VX_DEV_KIND_COUNT] = {
    [VX_DEV_SYSTEM] = -EINVAL, [VX_DEV_VM] = -ENOTTY, [VX_DEV_VCPU] = -EINVAL};

static const struct vx_dev_request *find_request(const struct vx_dev_request *table, size_t n,
						 enum vx_dev_kind kind, unsigned long request)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].request == request && table[i].kind == kind)
			return &table[i];
	return NULL;
}

static int dispatch(struct vx_kvm_dev *dev, struct vx_dev_fd *f, unsigned long request, void *arg)
{
	const struct vx_dev_request *r =
	    find_request(requests, sizeof(requests) / sizeof(requests[0]), f->kind, request);

	if (!r)
		r = find_request(vx_dev_vcpu_requests, vx_dev_vcpu_nrequests, f->kind, request);
	if (!r)
		return vx_error_set(&dev->last, unknown_errno[f->kind], "kvm_ioctl.h",
				    "request 0x%lx is not one this descriptor takes", request);
	return r->fn(dev, f, arg);
}

int vx_kvm_ioctl(struct vx_kvm_dev *dev, int fd, unsigned long request, void *arg)
{
	struct vx_dev_fd *f;
	int rc;

	pthread_mutex_lock(&dev->lock);
	vx_error_clear(&dev->last);
	f = vx_dev_fd(dev, fd);
	rc = f ? dispatch(dev, f, request, arg)
	       : vx_error_set(&dev->last, -EBADF, "kvm_ioctl.h", "fd %d is not the model's", fd);
	if (rc == -EFAULT && !dev->last.code)
		vx_error_set(&dev->last, -EFAULT, "kvm_ioctl.h", "bad user pointer");
	pthread_mutex_unlock(&dev->lock);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}
