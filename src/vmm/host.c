/* SPDX-License-Identifier: MIT */
/*
 * Target hosts and the vCPUs blobs are restored into (vmm.h): a profile booted as a KVM host
 * (the fpu system, a machine, the kvm module with its flavour and quirks), and per vCPU a VMM
 * process doing what a VMM does before KVM_SET_XSAVE: guest permission for the dynamic
 * features before any vCPU exists (kvm.md §2.6; anchors.md §3 pains 2-4), KVM_CREATE_VM,
 * KVM_CREATE_VCPU, KVM_GET_SUPPORTED_CPUID + KVM_SET_CPUID2 (§2.5), KVM_SET_XCRS (§4.3).
 */
#include <stdio.h>
#include <stdlib.h>

#include <vxsave/kvm_ioctl.h>

#include "vmm/vmm_internal.h"

#define RULE_HOST "vmm.h"

void vx_vmm_host_options_init(struct vx_vmm_host_options *o)
{
	memset(o, 0, sizeof(*o));
	o->flavour = -1;
	o->design = VX_KVM_CET_GUEST_ONLY;
}

/* kvm.ignore_msrs of the loaded module (only meaningful for the live host). */
static bool sysfs_ignore_msrs(const char *sysfs)
{
	char path[512], c = 'N';
	FILE *f;

	snprintf(path, sizeof(path), "%s/kvm/parameters/ignore_msrs", sysfs);
	f = fopen(path, "r");
	if (f) {
		if (fread(&c, 1, 1, f) != 1)
			c = 'N';
		fclose(f);
	}
	return c == 'Y' || c == '1';
}

/* The module's options: the flavour given, detected (live host) or the vendor's. */
static void module_options(const struct vx_profile *p, const struct vx_vmm_host_options *o,
			   struct vx_kvm_options *ko)
{
	const char *sysfs = o->sysfs_module ? o->sysfs_module : "/sys/module";
	enum vx_kvm_flavour flavour =
	    vx_profile_vendor(p) == VX_VENDOR_AMD ? VX_KVM_SVM : VX_KVM_VMX;
	bool detected = false;

	if (o->flavour >= 0)
		flavour = (enum vx_kvm_flavour)o->flavour;
	else if (o->live)
		detected = vx_kvm_detect_flavour(sysfs, &flavour) == 0;
	vx_kvm_options_init(ko, flavour);
	ko->design = o->design;
	if (detected)
		ko->ignore_msrs = sysfs_ignore_msrs(sysfs);
}

int vx_vmm_host_create(const struct vx_profile *profile, const struct vx_vmm_host_options *o,
		       struct vx_vmm_host **out, struct vx_error *err)
{
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_kvm_options ko;
	struct vx_vmm_host *h;
	int rc;

	if (!profile || !o || !out || o->flavour >= VX_KVM_FLAVOUR_COUNT ||
	    (unsigned)o->design >= VX_KVM_CET_DESIGN_COUNT)
		return vx_error_set(err, -EINVAL, RULE_HOST,
				    "a host needs a profile and options "
				    "with a known flavour and design");
	h = vx_vmm_zalloc(o->platform ? o->platform : vx_platform_default(), sizeof(*h));
	if (!h)
		return vx_error_set(err, -ENOMEM, RULE_HOST, "cannot allocate the host");
	h->pf = o->platform ? o->platform : vx_platform_default();
	h->profile = *profile;
	module_options(&h->profile, o, &ko);
	config.cet_design = vx_kvm_cet_design_fpu(ko.design);
	config.platform = h->pf;
	rc = vx_fpu_system_create(&h->profile, &config, &h->sys, err);
	if (!rc)
		rc = vx_fpu_machine_create(h->sys, 1, &h->machine, err);
	if (!rc)
		rc = vx_kvm_create(h->machine, &ko, &h->kvm, err);
	if (rc) {
		vx_vmm_host_destroy(h);
		return rc;
	}
	*out = h;
	return 0;
}

void vx_vmm_host_destroy(struct vx_vmm_host *h)
{
	if (!h)
		return;
	vx_kvm_destroy(h->kvm);
	vx_fpu_machine_destroy(h->machine);
	vx_fpu_system_destroy(h->sys);
	vx_vmm_free(h->pf, h);
}

void *vx_vmm_zalloc(const struct vx_platform *pf, size_t size)
{
	void *p = pf->alloc(pf->ctx, size ? size : 1, 16);

	if (p)
		memset(p, 0, size ? size : 1);
	return p;
}

void vx_vmm_free(const struct vx_platform *pf, void *ptr)
{
	if (ptr)
		pf->free(pf->ctx, ptr);
}

static void *watch_alloc(void *ctx, size_t size, size_t align)
{
	struct vx_vmm_watch *w = ctx;
	void *p = w->inner->alloc(w->inner->ctx, size, align);

	if (!p)
		w->failed = true;
	return p;
}

static void watch_free(void *ctx, void *ptr)
{
	struct vx_vmm_watch *w = ctx;

	w->inner->free(w->inner->ctx, ptr);
}

static void watch_log(void *ctx, const char *message)
{
	struct vx_vmm_watch *w = ctx;

	if (w->inner->log)
		w->inner->log(w->inner->ctx, message);
}

void vx_vmm_watch_init(struct vx_vmm_watch *w, const struct vx_platform *inner)
{
	w->inner = inner ? inner : vx_platform_default();
	w->failed = false;
	w->platform =
	    (struct vx_platform){watch_alloc, watch_free, w->inner->log ? watch_log : NULL, w};
}

const struct vx_profile *vx_vmm_host_profile(const struct vx_vmm_host *h)
{
	return &h->profile;
}

struct vx_kvm *vx_vmm_host_kvm(const struct vx_vmm_host *h)
{
	return h->kvm;
}

enum vx_kvm_flavour vx_vmm_host_flavour(const struct vx_vmm_host *h)
{
	return vx_kvm_options(h->kvm)->flavour;
}

/* ----------------------------------------------------------------------------------------- */
/* vCPUs                                                                                        */

/* ARCH_REQ_XCOMP_GUEST_PERM for the highest dynamic feature KVM supports (kvm.md §2.6). */
static int request_dynamic(struct vx_vmm_vcpu *v, struct vx_error *err)
{
	uint64_t dynamic =
	    vx_kvm_supported_xcr0(v->host->kvm) & vx_profile_xfd_supported(&v->host->profile);
	int top = -1;

	for (int id = 0; id < 64; id++)
		if (dynamic & VX_BIT(id))
			top = id;
	if (top < 0)
		return 0; /* nothing dynamic to ask for */
	return vx_fpu_arch_prctl(v->task, VX_ARCH_REQ_XCOMP_GUEST_PERM, (uint64_t)top, NULL, err);
}

/* KVM_SET_CPUID2 with the config's entries or, as most VMMs start, the supported ones. */
static int set_cpuid(struct vx_vmm_vcpu *v, const struct vx_vmm_vcpu_config *c,
		     struct vx_error *err)
{
	struct vx_kvm_cpuid_entry *entries = NULL;
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;
	int rc;

	if (c->cpuid)
		return vx_kvm_vcpu_set_cpuid2(v->vcpu, v->task, c->cpuid, c->ncpuid, err);
	entries = vx_vmm_zalloc(v->host->pf, n * sizeof(*entries));
	if (!entries)
		return vx_error_set(err, -ENOMEM, RULE_HOST, "cannot allocate CPUID entries");
	rc = vx_kvm_get_supported_cpuid(v->host->kvm, v->task, entries, &n, err);
	if (!rc)
		rc = vx_kvm_vcpu_set_cpuid2(v->vcpu, v->task, entries, n, err);
	vx_vmm_free(v->host->pf, entries);
	return rc;
}

static int set_xcr0(struct vx_vmm_vcpu *v, uint64_t xcr0, struct vx_error *err)
{
	struct vx_kvm_xcrs xcrs;

	memset(&xcrs, 0, sizeof(xcrs));
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = xcr0;
	return vx_kvm_vcpu_set_xcrs(v->vcpu, &xcrs, err);
}

static int setup(struct vx_vmm_vcpu *v, const struct vx_vmm_vcpu_config *c, struct vx_error *err)
{
	int rc = vx_fpu_process_create(v->host->machine, &v->task, err);

	/* The VMM thread runs when it makes its calls (kvm.md §6.2). */
	if (!rc)
		rc = vx_fpu_task_schedule(v->task, 0, err);
	if (!rc)
		rc = vx_fpu_task_return_to_user(v->task, err);
	if (!rc && c->dynamic_perm)
		rc = request_dynamic(v, err);
	if (!rc)
		rc = vx_kvm_vm_create(v->host->kvm, v->task, &v->vm, err);
	if (!rc)
		rc = vx_kvm_vcpu_create(v->vm, v->task, 0, &v->vcpu, err);
	if (!rc)
		rc = set_cpuid(v, c, err);
	if (!rc && c->set_xcr0)
		rc = set_xcr0(v, c->xcr0, err);
	v->xcr0_set = c->set_xcr0;
	return rc;
}

int vx_vmm_vcpu_create(struct vx_vmm_host *host, const struct vx_vmm_vcpu_config *config,
		       struct vx_vmm_vcpu **out, struct vx_error *err)
{
	struct vx_vmm_vcpu *v;
	int rc;

	if (!host || !config || !out)
		return vx_error_set(err, -EINVAL, RULE_HOST, "a vCPU needs a host and a config");
	v = vx_vmm_zalloc(host->pf, sizeof(*v));
	if (!v)
		return vx_error_set(err, -ENOMEM, RULE_HOST, "cannot allocate the vCPU");
	v->host = host;
	rc = setup(v, config, err);
	if (!rc) {
		v->scratch_size = vx_vmm_vcpu_uabi_size(v);
		v->scratch = vx_vmm_zalloc(host->pf, v->scratch_size);
		if (!v->scratch)
			rc = vx_error_set(err, -ENOMEM, RULE_HOST, "cannot allocate %u bytes",
					  v->scratch_size);
	}
	if (rc) {
		vx_vmm_vcpu_destroy(v);
		return rc;
	}
	*out = v;
	return 0;
}

void vx_vmm_vcpu_destroy(struct vx_vmm_vcpu *v)
{
	if (!v)
		return;
	if (v->vm)
		vx_kvm_vm_destroy(v->vm);
	if (v->task)
		vx_fpu_task_exit(v->task, NULL);
	vx_vmm_free(v->host->pf, v->scratch);
	vx_vmm_free(v->host->pf, v);
}

struct vx_kvm_vcpu *vx_vmm_vcpu_kvm(const struct vx_vmm_vcpu *v)
{
	return v->vcpu;
}

uint32_t vx_vmm_vcpu_uabi_size(const struct vx_vmm_vcpu *v)
{
	return vx_kvm_vcpu_guest_fpu(v->vcpu)->uabi_size;
}

/* ----------------------------------------------------------------------------------------- */
/* A guest CPUID from a profile                                                                 */

/* The leaves profiles keep with more than one sub-leaf: their index is significant. */
static bool indexed_leaf(uint32_t leaf)
{
	return vx_profile_slot(leaf, 1) >= 0;
}

uint32_t vx_vmm_guest_cpuid(const struct vx_profile *p, struct vx_kvm_cpuid_entry *e, uint32_t max)
{
	uint32_t n = 0;

	for (unsigned slot = 0; slot < VX_PROFILE_SLOTS; slot++) {
		uint32_t leaf = 0, sub = 0;
		struct vx_cpuid_regs r;

		vx_profile_slot_leaf(slot, &leaf, &sub);
		r = vx_profile_leaf(p, leaf, sub);
		/* Sub-leaves past 0 that say nothing are absent (0xD.i of a missing component). */
		if (sub && !(r.eax | r.ebx | r.ecx | r.edx))
			continue;
		if (!(r.eax | r.ebx | r.ecx | r.edx) && leaf != 0 && leaf != 0x80000000)
			continue;
		if (n < max)
			e[n] = (struct vx_kvm_cpuid_entry){
			    leaf,
			    sub,
			    indexed_leaf(leaf) ? VX_KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
			    r.eax,
			    r.ebx,
			    r.ecx,
			    r.edx};
		n++;
	}
	return n;
}
