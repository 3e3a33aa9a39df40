/* SPDX-License-Identifier: MIT */
/*
 * The VMM side of the kvm statements, sent to one of two backends (kvm_script_internal.h):
 * the model of the kvm layer (kvm.h, kvm_regs.h, on the fpu statements' machine, calls made by
 * the VMM thread), or with --real this machine's /dev/kvm through the real backend of
 * kvm_ioctl.h (vx_kvm_backend_real) with the <linux/kvm.h> structs.  Every call returns what
 * the ioctl returns (a count or 0) or a negative errno, so the statements above print and
 * expect the same things on both.  The model's refusals carry its reason in @err; the real
 * kernel gives only the errno.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vxsave/vmm_compat.h>

#include "kvm_script_internal.h"

#define REAL_CPUID_MAX 256u
#define REAL_MSRS_MAX  256u
#define REAL_REGS_MAX  256u

_Static_assert(sizeof(struct vx_kvm_cpuid_entry) == 28, "entry without padding");

/* ioctl(2) through the real backend: the result, or the negative errno. */
static int real_ioctl(struct kvm_script_context *c, int fd, unsigned long request, void *arg)
{
	int rc = c->backend.ioctl(c->backend.ctx, fd, request, arg);

	return rc < 0 ? -errno : rc;
}

static int no_module(struct vx_error *err)
{
	return vx_error_set(err, -ENODEV, NULL, "no module");
}

/* ----------------------------------------------------------------------------------------- */
/* The module                                                                                   */

static enum vx_kvm_flavour pick_flavour(const struct kvm_script_context *c,
					const struct ks_module *m)
{
	const struct vx_profile *host = vx_fpu_system_profile(c->fpu->system);

	if (m && m->flavour)
		return (enum vx_kvm_flavour)(m->flavour - 1);
	if (c->flavour >= 0)
		return (enum vx_kvm_flavour)c->flavour;
	/* Default: the vendor module of the host (kvm_amd on AMD, kvm_intel otherwise). */
	return vx_profile_vendor(host) == VX_VENDOR_AMD ? VX_KVM_SVM : VX_KVM_VMX;
}

static void apply_module_options(struct vx_kvm_options *o, const struct ks_module *m)
{
	if (!m)
		return;
	o->tdp = !m->no_tdp;
	o->allow_smaller_maxphyaddr = m->allow_smaller_maxphyaddr;
	o->ignore_msrs = m->ignore_msrs;
	o->vmx_load_cet = !m->no_vmx_load_cet;
	o->vmx_xsaves = !m->no_vmx_xsaves;
	if (m->no_quirks)
		o->quirks = 0;
}

static int open_real(struct kvm_script_context *c, struct vx_error *err)
{
	char why[160];

	if (!vx_kvm_real_available(why, sizeof(why)))
		return vx_error_set(err, -ENODEV, NULL, "%s", why);
	vx_kvm_backend_real(&c->backend);
	c->sys_fd = c->backend.open(c->backend.ctx);
	if (c->sys_fd < 0)
		return vx_error_set(err, -errno, NULL, "open /dev/kvm failed");
	return 0;
}

int kb_open(struct kvm_script_context *c, const struct ks_module *m, struct vx_error *err)
{
	struct vx_kvm_options o;

	if (c->real)
		return open_real(c, err);
	vx_kvm_options_init(&o, pick_flavour(c, m));
	o.design = c->design;
	apply_module_options(&o, m);
	return vx_kvm_create(c->fpu->machine, &o, &c->kvm, err);
}

void kb_close(struct kvm_script_context *c)
{
	for (unsigned i = 0; i < c->vcpu_count; i++)
		if (c->real && c->vcpus[i].fd >= 0)
			c->backend.close(c->backend.ctx, c->vcpus[i].fd);
	for (unsigned i = 0; i < c->vm_count; i++)
		if (c->real && c->vms[i].fd >= 0)
			c->backend.close(c->backend.ctx, c->vms[i].fd);
	if (c->real && c->loaded && c->sys_fd >= 0)
		c->backend.close(c->backend.ctx, c->sys_fd);
	/* The module destroys its VMs and their vCPUs (leaving KVM_RUN first). */
	vx_kvm_destroy(c->kvm);
	c->kvm = NULL;
}

int kb_check_extension(struct kvm_script_context *c, int fd, long cap, struct vx_error *err)
{
	if (c->real)
		return real_ioctl(c, fd < 0 ? c->sys_fd : fd, KVM_CHECK_EXTENSION,
				  (void *)(uintptr_t)cap);
	(void)err;
	return vx_kvm_check_extension(c->kvm, c->vmm, cap);
}

int kb_device_attr(struct kvm_script_context *c, uint32_t group, uint64_t attr, uint64_t *value,
		   struct vx_error *err)
{
	struct kvm_device_attr a = {0, group, attr, (uint64_t)(uintptr_t)value};

	if (c->real)
		return real_ioctl(c, c->sys_fd, KVM_GET_DEVICE_ATTR, &a);
	return vx_kvm_get_device_attr(c->kvm, group, attr, value, err);
}

/* arch_prctl() by the VMM thread: the guest permission KVM reads (kvm.md §2.6). */
int kb_prctl(struct kvm_script_context *c, uint64_t option, uint64_t arg, uint64_t *out,
	     struct vx_error *err)
{
	bool get = option != VX_ARCH_REQ_XCOMP_PERM && option != VX_ARCH_REQ_XCOMP_GUEST_PERM;
	long rc;

	if (!c->real)
		return vx_fpu_arch_prctl(c->vmm, option, arg, out, err);
	/* The GET options store through the pointer in the second argument. */
	rc = syscall(SYS_arch_prctl, (int)option, get ? (unsigned long)(uintptr_t)out : arg);
	return rc < 0 ? -errno : 0;
}

/* ----------------------------------------------------------------------------------------- */
/* CPUID                                                                                        */

union real_cpuid {
	struct kvm_cpuid2 hdr;
	struct {
		__u32 nent, padding;
		struct kvm_cpuid_entry2 e[];
	};
};

static union real_cpuid *real_cpuid_alloc(uint32_t n)
{
	union real_cpuid *b = calloc(1, sizeof(*b) + (size_t)n * sizeof(b->e[0]));

	if (b)
		b->hdr.nent = n;
	return b;
}

static void from_real(const struct kvm_cpuid_entry2 *in, struct vx_kvm_cpuid_entry *out)
{
	*out = (struct vx_kvm_cpuid_entry){in->function, in->index, in->flags, in->eax,
					   in->ebx,	 in->ecx,   in->edx};
}

static void to_real(const struct vx_kvm_cpuid_entry *in, struct kvm_cpuid_entry2 *out)
{
	memset(out, 0, sizeof(*out));
	out->function = in->function;
	out->index = in->index;
	out->flags = in->flags;
	out->eax = in->eax;
	out->ebx = in->ebx;
	out->ecx = in->ecx;
	out->edx = in->edx;
}

/* KVM_GET_SUPPORTED/EMULATED_CPUID and KVM_GET_CPUID2: nent in, entries out. */
static int real_cpuid_get(struct kvm_script_context *c, int fd, unsigned long request,
			  struct vx_kvm_cpuid_entry *entries, uint32_t *n)
{
	uint32_t room = *n < REAL_CPUID_MAX ? *n : REAL_CPUID_MAX;
	union real_cpuid *b = real_cpuid_alloc(room);
	int rc;

	if (!b)
		return -ENOMEM;
	rc = real_ioctl(c, fd, request, b);
	if (rc >= 0) {
		*n = b->hdr.nent;
		for (uint32_t i = 0; i < b->hdr.nent && i < room; i++)
			from_real(&b->e[i], &entries[i]);
	}
	free(b);
	return rc;
}

int kb_supported_cpuid(struct kvm_script_context *c, bool emulated,
		       struct vx_kvm_cpuid_entry *entries, uint32_t *n, struct vx_error *err)
{
	if (c->real)
		return real_cpuid_get(c, c->sys_fd,
				      emulated ? KVM_GET_EMULATED_CPUID : KVM_GET_SUPPORTED_CPUID,
				      entries, n);
	if (emulated)
		return vx_kvm_get_emulated_cpuid(c->kvm, entries, n, err);
	return vx_kvm_get_supported_cpuid(c->kvm, c->vmm, entries, n, err);
}

int kb_set_cpuid(struct kvm_script_context *c, struct kvm_script_vcpu *v,
		 const struct vx_kvm_cpuid_entry *entries, uint32_t n, struct vx_error *err)
{
	union real_cpuid *b;
	int rc;

	if (!c->real)
		return vx_kvm_vcpu_set_cpuid2(v->vcpu, v->task, entries, n, err);
	b = real_cpuid_alloc(n);
	if (!b)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		to_real(&entries[i], &b->e[i]);
	rc = real_ioctl(c, v->fd, KVM_SET_CPUID2, b);
	free(b);
	return rc;
}

int kb_get_cpuid(struct kvm_script_context *c, struct kvm_script_vcpu *v,
		 struct vx_kvm_cpuid_entry *entries, uint32_t *n, struct vx_error *err)
{
	if (c->real)
		return real_cpuid_get(c, v->fd, KVM_GET_CPUID2, entries, n);
	return vx_kvm_vcpu_get_cpuid2(v->vcpu, entries, n, err);
}

/* ----------------------------------------------------------------------------------------- */
/* MSR lists, VMs and vCPUs                                                                     */

int kb_msr_list(struct kvm_script_context *c, bool features, uint32_t *indices, uint32_t *n,
		struct vx_error *err)
{
	union {
		struct kvm_msr_list hdr;
		struct {
			__u32 nmsrs;
			uint32_t indices[REAL_MSRS_MAX];
		};
	} b;
	int rc;

	if (!c->kvm && !c->real)
		return no_module(err);
	if (!c->real)
		return features ? vx_kvm_get_msr_feature_index_list(c->kvm, indices, n, err)
				: vx_kvm_get_msr_index_list(c->kvm, indices, n, err);
	b.hdr.nmsrs = *n < REAL_MSRS_MAX ? *n : REAL_MSRS_MAX;
	rc = real_ioctl(c, c->sys_fd,
			features ? KVM_GET_MSR_FEATURE_INDEX_LIST : KVM_GET_MSR_INDEX_LIST, &b);
	*n = b.hdr.nmsrs;
	if (rc >= 0)
		memcpy(indices, b.indices,
		       (size_t)(*n < REAL_MSRS_MAX ? *n : 0) * sizeof(uint32_t));
	return rc;
}

int kb_vm_create(struct kvm_script_context *c, struct vx_fpu_task *task, struct kvm_script_vm *vm,
		 struct vx_error *err)
{
	if (!c->real)
		return vx_kvm_vm_create(c->kvm, task, &vm->vm, err);
	vm->fd = real_ioctl(c, c->sys_fd, KVM_CREATE_VM, 0);
	return vm->fd < 0 ? vm->fd : 0;
}

int kb_vcpu_create(struct kvm_script_context *c, struct kvm_script_vm *vm,
		   struct kvm_script_vcpu *vcpu, struct vx_error *err)
{
	if (!c->real)
		return vx_kvm_vcpu_create(vm->vm, vcpu->task, vcpu->id, &vcpu->vcpu, err);
	vcpu->fd = real_ioctl(c, vm->fd, KVM_CREATE_VCPU, (void *)(uintptr_t)vcpu->id);
	return vcpu->fd < 0 ? vcpu->fd : 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Registers                                                                                    */

int kb_get_xcrs(struct kvm_script_context *c, struct kvm_script_vcpu *v, struct vx_kvm_xcrs *xcrs,
		struct vx_error *err)
{
	struct kvm_xcrs b;
	int rc;

	if (!c->real)
		return vx_kvm_vcpu_get_xcrs(v->vcpu, xcrs, err);
	memset(&b, 0, sizeof(b));
	rc = real_ioctl(c, v->fd, KVM_GET_XCRS, &b);
	memset(xcrs, 0, sizeof(*xcrs));
	xcrs->nr_xcrs = b.nr_xcrs < VX_KVM_MAX_XCRS ? b.nr_xcrs : VX_KVM_MAX_XCRS;
	xcrs->flags = b.flags;
	for (uint32_t i = 0; i < xcrs->nr_xcrs; i++) {
		xcrs->xcrs[i].xcr = b.xcrs[i].xcr;
		xcrs->xcrs[i].value = b.xcrs[i].value;
	}
	return rc;
}

int kb_set_xcrs(struct kvm_script_context *c, struct kvm_script_vcpu *v,
		const struct vx_kvm_xcrs *xcrs, struct vx_error *err)
{
	struct kvm_xcrs b;

	if (!c->real)
		return vx_kvm_vcpu_set_xcrs(v->vcpu, xcrs, err);
	memset(&b, 0, sizeof(b));
	b.nr_xcrs = xcrs->nr_xcrs;
	b.flags = xcrs->flags;
	for (uint32_t i = 0; i < xcrs->nr_xcrs && i < VX_KVM_MAX_XCRS; i++) {
		b.xcrs[i].xcr = xcrs->xcrs[i].xcr;
		b.xcrs[i].value = xcrs->xcrs[i].value;
	}
	return real_ioctl(c, v->fd, KVM_SET_XCRS, &b);
}

int kb_msrs(struct kvm_script_context *c, struct kvm_script_vcpu *v, bool write,
	    struct vx_kvm_msr_entry *entries, uint32_t n, struct vx_error *err)
{
	union {
		struct kvm_msrs hdr;
		struct {
			__u32 nmsrs, pad;
			struct kvm_msr_entry e[KS_MSRS_MAX];
		};
	} b;
	int rc;

	_Static_assert(sizeof(struct kvm_msr_entry) == sizeof(struct vx_kvm_msr_entry), "entry");
	if (!c->real)
		return write ? vx_kvm_vcpu_set_msrs(v->vcpu, entries, n, err)
			     : vx_kvm_vcpu_get_msrs(v->vcpu, entries, n, err);
	if (n > KS_MSRS_MAX)
		return -E2BIG;
	memset(&b, 0, sizeof(b));
	b.hdr.nmsrs = n;
	memcpy(b.e, entries, n * sizeof(*entries));
	rc = real_ioctl(c, v->fd, write ? KVM_SET_MSRS : KVM_GET_MSRS, &b);
	if (!write)
		memcpy(entries, b.e, n * sizeof(*entries));
	return rc;
}

int kb_one_reg(struct kvm_script_context *c, struct kvm_script_vcpu *v, bool write, uint64_t id,
	       uint64_t *value, struct vx_error *err)
{
	struct kvm_one_reg reg = {id, (uint64_t)(uintptr_t)value};

	if (c->real)
		return real_ioctl(c, v->fd, write ? KVM_SET_ONE_REG : KVM_GET_ONE_REG, &reg);
	return write ? vx_kvm_vcpu_set_one_reg(v->vcpu, id, *value, err)
		     : vx_kvm_vcpu_get_one_reg(v->vcpu, id, value, err);
}

int kb_reg_list(struct kvm_script_context *c, struct kvm_script_vcpu *v, uint64_t *ids, uint64_t *n,
		struct vx_error *err)
{
	union {
		struct kvm_reg_list hdr;
		struct {
			__u64 n;
			uint64_t reg[REAL_REGS_MAX];
		};
	} b;
	int rc;

	if (!c->real)
		return vx_kvm_vcpu_get_reg_list(v->vcpu, ids, n, err);
	b.hdr.n = *n < REAL_REGS_MAX ? *n : REAL_REGS_MAX;
	rc = real_ioctl(c, v->fd, KVM_GET_REG_LIST, &b);
	*n = b.hdr.n;
	if (rc >= 0)
		memcpy(ids, b.reg, (size_t)(*n < REAL_REGS_MAX ? *n : 0) * sizeof(uint64_t));
	return rc;
}

int kb_xsave_size(struct kvm_script_context *c, struct kvm_script_vcpu *v, struct vx_error *err)
{
	int size = c->real ? real_ioctl(c, c->vms[v->vm].fd, KVM_CHECK_EXTENSION,
					(void *)(uintptr_t)KVM_CAP_XSAVE2)
			   : vx_kvm_check_extension(c->kvm, v->task, VX_KVM_CAP_XSAVE2);

	(void)err;
	/* Without KVM_CAP_XSAVE2 (0) the ABI is the 4096-byte struct kvm_xsave (§5.1). */
	return size < (int)VX_KVM_XSAVE_SIZE ? (int)VX_KVM_XSAVE_SIZE : size;
}

int kb_xsave(struct kvm_script_context *c, struct kvm_script_vcpu *v, bool write, bool v2,
	     uint8_t *buf, size_t len, struct vx_error *err)
{
	unsigned long get = v2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE;

	/* The caller's buffer holds at least kb_xsave_size() bytes: the kernel copies that many. */
	if (c->real)
		return real_ioctl(c, v->fd, write ? KVM_SET_XSAVE : get, buf);
	if (write)
		return vx_kvm_vcpu_set_xsave(v->vcpu, buf, len, err);
	return vx_kvm_vcpu_get_xsave(v->vcpu, v2, buf, len, err);
}

static int real_cr(struct kvm_script_context *c, struct kvm_script_vcpu *v, bool write, unsigned cr,
		   uint64_t *value)
{
	struct kvm_sregs sregs;
	int rc = real_ioctl(c, v->fd, KVM_GET_SREGS, &sregs);

	if (rc < 0)
		return rc;
	if (!write) {
		*value = cr == 0 ? sregs.cr0 : sregs.cr4;
		return 0;
	}
	if (cr == 0)
		sregs.cr0 = *value;
	else
		sregs.cr4 = *value;
	return real_ioctl(c, v->fd, KVM_SET_SREGS, &sregs);
}

int kb_cr(struct kvm_script_context *c, struct kvm_script_vcpu *v, bool write, unsigned cr,
	  uint64_t *value, struct vx_error *err)
{
	if (c->real)
		return real_cr(c, v, write, cr, value);
	if (!write) {
		*value = cr == 0 ? vx_kvm_vcpu_cr0(v->vcpu) : vx_kvm_vcpu_cr4(v->vcpu);
		return 0;
	}
	/* KVM_SET_SREGS: the host path of the CR rules (kvm.md §7.1), -EINVAL when refused. */
	return cr == 0 ? vx_kvm_vcpu_set_cr0(v->vcpu, true, *value, NULL, err)
		       : vx_kvm_vcpu_set_cr4(v->vcpu, true, *value, NULL, err);
}

/* ----------------------------------------------------------------------------------------- */
/* Saving a vCPU: the library's read-back (vx_vmm_save_vcpu) through the calls above            */

/* The vCPU being saved, for the ioctls the read-back makes; @why: the model's first reason. */
struct save_ctx {
	struct kvm_script_context *c;
	struct kvm_script_vcpu *v;
	struct vx_error why;
};

/* ioctl(2) semantics for the read-back: the result, or -1 with errno. */
static int save_result(struct save_ctx *s, int rc, const struct vx_error *err)
{
	if (rc >= 0)
		return rc;
	if (!s->why.code && err->code)
		s->why = *err;
	errno = -rc;
	return -1;
}

static int save_extension(struct save_ctx *s, void *arg, struct vx_error *err)
{
	/* The VM's KVM_CAP_XSAVE2 is the vCPU's uABI size (kvm.md §5.1). */
	if ((uintptr_t)arg == KVM_CAP_XSAVE2)
		return kb_xsave_size(s->c, s->v, err);
	return kb_check_extension(s->c, s->c->real ? s->c->vms[s->v->vm].fd : -1,
				  (long)(uintptr_t)arg, err);
}

static int save_cpuid(struct save_ctx *s, void *arg, struct vx_error *err)
{
	union real_cpuid *b = arg;
	uint32_t n = b->hdr.nent < REAL_CPUID_MAX ? b->hdr.nent : REAL_CPUID_MAX;
	struct vx_kvm_cpuid_entry *e = calloc(n ? n : 1, sizeof(*e));
	int rc = e ? kb_get_cpuid(s->c, s->v, e, &n, err) : -ENOMEM;

	if (rc >= 0) {
		b->hdr.nent = n;
		for (uint32_t i = 0; i < n; i++)
			to_real(&e[i], &b->e[i]);
	}
	free(e);
	return rc;
}

static int save_xcrs(struct save_ctx *s, void *arg, struct vx_error *err)
{
	struct kvm_xcrs *b = arg;
	struct vx_kvm_xcrs x;
	int rc = kb_get_xcrs(s->c, s->v, &x, err);

	memset(b, 0, sizeof(*b));
	b->nr_xcrs = rc < 0 ? 0 : x.nr_xcrs;
	b->flags = x.flags;
	for (uint32_t i = 0; i < b->nr_xcrs && i < VX_KVM_MAX_XCRS; i++) {
		b->xcrs[i].xcr = x.xcrs[i].xcr;
		b->xcrs[i].value = x.xcrs[i].value;
	}
	return rc;
}

static int save_msr_list(struct save_ctx *s, void *arg, struct vx_error *err)
{
	struct kvm_msr_list *b = arg;

	return kb_msr_list(s->c, false, b->indices, &b->nmsrs, err);
}

/* KVM_GET_MSRS in runs of KS_MSRS_MAX (kb_msrs's buffer): the count before the first failure,
 * as one call would give it (kvm.md §3.1). */
static int save_msrs(struct save_ctx *s, void *arg, struct vx_error *err)
{
	struct kvm_msrs *b = arg;
	struct vx_kvm_msr_entry *e = (struct vx_kvm_msr_entry *)(void *)b->entries;
	uint32_t done = 0, n;
	int rc = 0;

	while (done < b->nmsrs) {
		n = b->nmsrs - done < KS_MSRS_MAX ? b->nmsrs - done : KS_MSRS_MAX;
		rc = kb_msrs(s->c, s->v, false, e + done, n, err);
		if (rc < 0)
			return done ? (int)done : rc;
		done += (uint32_t)rc;
		if ((uint32_t)rc < n)
			break;
	}
	return (int)done;
}

static int save_reg_list(struct save_ctx *s, void *arg, struct vx_error *err)
{
	struct kvm_reg_list *b = arg;

	return kb_reg_list(s->c, s->v, (uint64_t *)(void *)b->reg, (uint64_t *)(void *)&b->n, err);
}

static int save_one_reg(struct save_ctx *s, void *arg, struct vx_error *err)
{
	struct kvm_one_reg *b = arg;

	return kb_one_reg(s->c, s->v, false, b->id, (uint64_t *)(uintptr_t)b->addr, err);
}

/* The read-back's buffer holds the KVM_CAP_XSAVE2 size it asked for (kvm.md §5.1, §5.2). */
static int save_xsave(struct save_ctx *s, void *arg, struct vx_error *err)
{
	int size = kb_xsave_size(s->c, s->v, err);

	return kb_xsave(s->c, s->v, false, size > (int)VX_KVM_XSAVE_SIZE, arg, (size_t)size, err);
}

/* The requests vx_vmm_save_vcpu() makes, each to its kb_ call. */
static const struct {
	unsigned long request;
	int (*call)(struct save_ctx *s, void *arg, struct vx_error *err);
} save_calls[] = {
    {KVM_CHECK_EXTENSION, save_extension},
    {KVM_GET_CPUID2, save_cpuid},
    {KVM_GET_XCRS, save_xcrs},
    {KVM_GET_MSR_INDEX_LIST, save_msr_list},
    {KVM_GET_MSRS, save_msrs},
    {KVM_GET_REG_LIST, save_reg_list},
    {KVM_GET_ONE_REG, save_one_reg},
    {KVM_GET_XSAVE, save_xsave},
    {KVM_GET_XSAVE2, save_xsave},
};

static int save_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	struct save_ctx *s = ctx;
	struct vx_error err = VX_ERROR_INIT;

	(void)fd; /* one vCPU, its VM and the module: the request says which */
	for (size_t i = 0; i < sizeof(save_calls) / sizeof(save_calls[0]); i++)
		if (save_calls[i].request == request)
			return save_result(s, save_calls[i].call(s, arg, &err), &err);
	return save_result(s, -ENOTTY, &err);
}

int kb_save(struct kvm_script_context *c, struct kvm_script_vcpu *v, const struct vx_profile *host,
	    struct vx_vmm_bundle *b, struct vx_error *err)
{
	struct save_ctx s = {c, v, VX_ERROR_INIT};
	struct vx_kvm_backend be = {c->real ? "real" : "model", &s, NULL, save_ioctl, NULL};
	char reason[VX_ERROR_REASON_MAX];
	int rc =
	    vx_vmm_save_vcpu(&be, c->sys_fd, c->real ? c->vms[v->vm].fd : -1, v->fd, host, b, err);

	/* The model knows why: its rule after the library's "IOCTL on the model /dev/kvm". */
	if (rc < 0 && s.why.code && err) {
		snprintf(reason, sizeof(reason), "%s", err->reason);
		vx_error_set(err, rc, s.why.rule, "%s (%s)", reason, s.why.reason);
	}
	return rc;
}
