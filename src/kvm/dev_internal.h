/* SPDX-License-Identifier: MIT */
/*
 * The drop-in /dev/kvm (kvm_ioctl.h) internals: the device context, its descriptor table and
 * the objects behind the descriptors.  dev.c creates the context (options, environment, host
 * boot) and owns the table; ioctl.c dispatches requests (system and VM ones there,
 * ioctl_vcpu.c the vCPU ones) with the user-copy helpers; real.c is the real backend.
 */
#ifndef VXSAVE_SRC_KVM_DEV_INTERNAL_H
#define VXSAVE_SRC_KVM_DEV_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>

#include <vxsave/kvm_ioctl.h>

#include "kvm/kvm_internal.h"

/* KVM_GET_VCPU_MMAP_SIZE on x86: the kvm_run page, the PIO data page and the coalesced-MMIO
 * ring page (measured 12288 on this machine's KVM; docs/kvm.md "The drop-in /dev/kvm"). */
#define VX_KVM_DEV_MMAP_SIZE 12288u
/* Memory slots the model stores (KVM_CAP_NR_MEMSLOTS it reports). */
#define VX_KVM_DEV_MAX_SLOTS 64u

enum vx_dev_kind { VX_DEV_NONE = 0, VX_DEV_SYSTEM, VX_DEV_VM, VX_DEV_VCPU, VX_DEV_KIND_COUNT };

struct vx_dev_vm;

/* A vCPU: the model's, its kvm_run page (the memfd mapped here too) and the plain registers. */
struct vx_dev_vcpu {
	struct vx_kvm_vcpu *vcpu;
	struct vx_dev_vm *vm;
	void *run;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

/* A VM: alive while its own descriptor or one of its vCPUs' is open (kvm_get_kvm refs). */
struct vx_dev_vm {
	struct vx_kvm_vm *vm;
	unsigned refs;
	struct vx_dev_vcpu *vcpus[VX_KVM_MAX_VCPUS];
	unsigned nvcpus;
	struct kvm_userspace_memory_region slots[VX_KVM_DEV_MAX_SLOTS];
	unsigned nslots;
};

struct vx_dev_fd {
	enum vx_dev_kind kind;
	struct vx_dev_vm *vm;
	struct vx_dev_vcpu *vcpu;
};

struct vx_kvm_dev {
	struct vx_kvm_dev_options opts;
	const struct vx_platform *pf; /* opts.platform, or the default: every allocation */
	char profile_name[64];
	struct vx_profile profile;
	const struct vx_fpu_system *sys; /* opts.system, or own_sys */
	struct vx_fpu_system *own_sys;	 /* booted by the context, destroyed with it */
	struct vx_fpu_machine *machine;
	struct vx_fpu_task *task;
	struct vx_kvm *kvm;
	pthread_mutex_t lock;
	struct vx_error last;
	struct vx_dev_fd *fds; /* indexed by descriptor number */
	unsigned nfds;
	vx_kvm_run_hook run_hook;
	void *run_ctx;
	struct vx_dev_guest *guest; /* dev_guest.c: the guest program file's, if any */
};

/* dev.c: zeroed memory from the context's platform (kvm_ioctl.h @platform); NULL if none. */
void *vx_dev_alloc(const struct vx_kvm_dev *dev, size_t size);
void vx_dev_free(const struct vx_kvm_dev *dev, void *ptr);

/* dev.c: descriptors. */
int vx_dev_new_fd(struct vx_kvm_dev *dev, enum vx_dev_kind kind, size_t size, int cloexec);
struct vx_dev_fd *vx_dev_fd(const struct vx_kvm_dev *dev, int fd);
void vx_dev_vm_put(struct vx_kvm_dev *dev, struct vx_dev_vm *vm);

/* ioctl.c: user memory (kvm_ioctl.h: the checks the model can make), -EFAULT on failure. */
int vx_dev_copy_in(const struct vx_kvm_dev *dev, void *dst, const void *user, size_t len);
int vx_dev_copy_out(const struct vx_kvm_dev *dev, void *user, const void *src, size_t len);

/*
 * The user address @offset bytes into the struct at @user (offsetof(struct kvm_msrs, entries)
 * ...).  Plain address arithmetic: a user pointer may have any alignment, as copy_from_user()
 * takes any, so it is never used as a pointer to the struct (a misaligned struct pointer is
 * undefined behaviour, C11 6.3.2.3p7; found by fuzz_kvm_ioctl, issue 11).
 */
static inline void *vx_dev_user_at(const void *user, size_t offset)
{
	return (void *)((uintptr_t)user + offset);
}

/* One request a descriptor kind takes: its handler returns >= 0 or a negative errno. */
typedef int (*vx_dev_handler)(struct vx_kvm_dev *dev, struct vx_dev_fd *f, void *arg);
struct vx_dev_request {
	unsigned long request;
	enum vx_dev_kind kind;
	vx_dev_handler fn;
};

/* ioctl_vcpu.c: the vCPU requests. */
extern const struct vx_dev_request vx_dev_vcpu_requests[];
extern const size_t vx_dev_vcpu_nrequests;
/* The plain register state a new vCPU starts with (KVM_GET_REGS/SREGS after creation). */
void vx_dev_vcpu_reset(struct vx_dev_vcpu *vcpu);

#endif /* VXSAVE_SRC_KVM_DEV_INTERNAL_H */
