/* SPDX-License-Identifier: MIT */
/*
 * Building the world of one evaluation (docs/eval.md "What one run builds"): the fpu layer
 * booted for the design (vx_kvm_cet_design_fpu), a machine of N model CPUs, the kvm module
 * (VMX on Intel, SVM on AMD), the processes and their threads, then per VM its VMM process,
 * the VM, the vCPUs (KVM_CREATE_VCPU and KVM_SET_CPUID2 with the supported CPUID, after
 * ARCH_REQ_XCOMP_GUEST_PERM for AMX guests, kvm.md §2.6) and one vCPU thread each.  Threads
 * are cloned from their process's leader, which must run to clone (linux-fpu.md §8.4); at the
 * end every CPU is idle.  vCPU threads are made last, so they end the thread list.
 */
#include <stdio.h>

#include "eval/eval_internal.h"

void *ev_alloc(const struct ev_world *w, size_t size)
{
	void *p = w->pf->alloc(w->pf->ctx, size ? size : 1, 64);

	if (p)
		memset(p, 0, size ? size : 1);
	return p;
}

void ev_free(const struct ev_world *w, void *p)
{
	if (p)
		w->pf->free(w->pf->ctx, p);
}

/* A refusal from a layer below: -ENOMEM as it is, anything else -EIO naming the step. */
static int setup_error(struct vx_error *err, int rc, const char *what)
{
	char reason[VX_ERROR_REASON_MAX];

	snprintf(reason, sizeof(reason), "%s", err ? err->reason : "");
	return vx_error_set(err, rc == -ENOMEM ? -ENOMEM : -EIO, "docs/eval.md",
			    "setup: %s: %.200s", what, reason);
}

static int add_thread(struct ev_world *w, struct vx_fpu_task *t)
{
	w->threads[w->nthreads++] = t;
	return 0;
}

static unsigned feature(const char *name)
{
	int f = vx_kvm_feature_by_name(name);

	return f < 0 ? 0 : (unsigned)f;
}

/* ----------------------------------------------------------------------------------------- */
/* Boot, machine, module                                                                        */

static enum vx_kvm_flavour flavour_for(const struct vx_profile *p, const struct vx_eval_options *o)
{
	if (!o->flavour_auto)
		return o->flavour;
	return vx_profile_vendor(p) == VX_VENDOR_AMD ? VX_KVM_SVM : VX_KVM_VMX;
}

static int boot(struct ev_world *w, const struct vx_profile *profile,
		const struct vx_eval_options *opts, struct vx_error *err)
{
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_kvm_options ko;

	config.cet_design = vx_kvm_cet_design_fpu(w->design);
	config.platform = w->pf;
	if (vx_fpu_system_create(profile, &config, &w->sys, err) != 0)
		return setup_error(err, err ? err->code : -EIO, "boot");
	if (vx_fpu_machine_create(w->sys, w->ncpus, &w->machine, err) != 0)
		return setup_error(err, err ? err->code : -EIO, "machine");
	vx_kvm_options_init(&ko, flavour_for(profile, opts));
	ko.design = w->design;
	ko.fault = opts->fault;
	ko.fault_at = opts->fault_at;
	w->fault_armed = opts->fault != VX_KVM_FAULT_NONE;
	w->res->flavour = ko.flavour;
	if (vx_kvm_create(w->machine, &ko, &w->kvm, err) != 0)
		return setup_error(err, err ? err->code : -EIO, "kvm module");
	return 0;
}

/* The task registers must exist on this CPU (in the kernel's user features, XCR0). */
static int resolve_regs(struct ev_world *w, struct vx_error *err)
{
	uint64_t user = vx_fpu_user_cfg(w->sys)->max_features;
	const struct vx_eval_workload *wl = w->wl;

	w->ntask_regs = wl->ntask_regs;
	for (unsigned i = 0; i < wl->ntask_regs; i++) {
		const struct vx_reg_info *r = ev_writable_reg(wl->task_regs[i]);

		if (!r || !(user & VX_BIT(r->component)))
			return vx_error_set(err, -EINVAL, "linux-fpu.md §2.1",
					    "task register %s: component %u is not in this CPU's "
					    "user features 0x%llx",
					    wl->task_regs[i], r ? r->component : 0,
					    (unsigned long long)user);
		w->task_regs[i] = r;
	}
	w->amx_regs[0] = vx_reg_lookup("tilecfg");
	w->amx_regs[1] = vx_reg_lookup("tmm0");
	for (unsigned i = 0; i < wl->nguest_regs; i++)
		w->guest_reg_names[EV_CODE_REG + i] = wl->guest_regs[i];
	w->guest_reg_names[EV_CODE_TILECFG] = "tilecfg";
	w->res->amx_available =
	    (wl->amx_tasks || wl->amx_vcpus) && (user & EV_AMX_MASK) == EV_AMX_MASK;
	return 0;
}

/* The standard offset and size of every user component with one (linux-fpu.md §2.3). */
static void std_places(struct ev_world *w)
{
	w->std_user = 0;
	for (unsigned id = 2; id < VX_FPU_XFEATURE_MAX; id++) {
		struct vx_fpu_xstate_info info;

		if (!vx_fpu_xstate_info(w->sys, id, &info) || info.offset == VX_FPU_NO_OFFSET ||
		    info.size == 0)
			continue;
		w->std_offset[id] = info.offset;
		w->std_size[id] = info.size;
		w->std_user |= VX_BIT(id);
	}
	w->std_user |= UINT64_C(3);
}

static int alloc_arrays(struct ev_world *w, unsigned nproc, struct vx_error *err)
{
	const struct vx_eval_workload *wl = w->wl;
	size_t image = vx_fpu_user_cfg(w->sys)->max_size;

	if (vx_fpu_max_frame_size(w->sys) > image)
		image = vx_fpu_max_frame_size(w->sys);
	w->scratch_len = (image + 4096 + 63) & ~(size_t)63;
	w->scratch = ev_alloc(w, w->scratch_len);
	std_places(w);
	w->threads_cap = wl->tasks + nproc + wl->vcpus;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	w->threads = ev_alloc(w, w->threads_cap * sizeof(*w->threads));
	w->ents = ev_alloc(w, (wl->tasks + wl->vcpus) * sizeof(*w->ents));
	w->vcpus = ev_alloc(w, (wl->vcpus ? wl->vcpus : 1) * sizeof(*w->vcpus));
	if (!w->scratch || !w->threads || !w->ents || !w->vcpus)
		return vx_error_set(err, -ENOMEM, NULL, "no memory for %u threads", w->threads_cap);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Processes and threads                                                                        */

/* A new thread of @leader's process: the leader runs (on CPU 0) to clone (§8.4). */
static int clone_from(struct ev_world *w, struct vx_fpu_task *leader, struct vx_fpu_task **t,
		      struct vx_error *err)
{
	if (vx_fpu_task_schedule(leader, 0, err) != 0 ||
	    vx_fpu_task_clone_thread(leader, t, err) != 0)
		return setup_error(err, err ? err->code : -EIO, "clone");
	return add_thread(w, *t);
}

static void init_entity(struct ev_world *w, struct ev_entity *e, enum ev_entity_kind kind,
			struct vx_fpu_task *t)
{
	e->kind = kind;
	e->index = (unsigned)(e - w->ents);
	e->task = t;
	e->cpu = -1;
	e->home = e->index % w->ncpus;
	/* context_switch1: pair p shares CPU p mod cpus. */
	if (w->wl->kind == VX_EVAL_CONTEXT_SWITCH)
		e->home = (e->index / 2) % w->ncpus;
	e->amx = kind == EV_TASK && e->index < w->wl->amx_tasks;
}

static int make_tasks(struct ev_world *w, struct vx_fpu_task **leaders, unsigned nproc,
		      struct vx_error *err)
{
	for (unsigned p = 0; p < nproc; p++) {
		if (vx_fpu_process_create(w->machine, &leaders[p], err) != 0)
			return setup_error(err, err ? err->code : -EIO, "process");
		add_thread(w, leaders[p]);
	}
	for (unsigned i = 0; i < w->wl->tasks; i++) {
		/* nproc >= tasks >= 1 here (ev_world_build). */
		/* NOLINTNEXTLINE(clang-analyzer-core.DivideZero) */
		struct vx_fpu_task *t = leaders[i % nproc];
		int rc = i < nproc ? 0 : clone_from(w, leaders[i % nproc], &t, err);

		if (rc)
			return rc;
		init_entity(w, &w->ents[i], EV_TASK, t);
	}
	w->ntasks_ent = w->nents = w->wl->tasks;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* VMs and vCPUs                                                                                */

/* vCPU i is in VM i mod vms and the first amx_vcpus vCPUs use AMX. */
static bool vm_has_amx(const struct ev_world *w, unsigned vm)
{
	return vm < w->wl->amx_vcpus;
}

/* The VMM process of VM @j: ARCH_REQ_XCOMP_GUEST_PERM for AMX guests, then KVM_CREATE_VM. */
static int make_vm(struct ev_world *w, unsigned j, struct vx_fpu_task *leader, struct vx_error *err)
{
	struct vx_error local = VX_ERROR_INIT;

	w->vmm[j] = leader;
	if (vm_has_amx(w, j) && w->res->amx_available &&
	    vx_fpu_arch_prctl(leader, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA, NULL,
			      &local) != 0)
		w->res->amx_available = false;
	if (vx_kvm_vm_create(w->kvm, leader, &w->vms[j], err) != 0)
		return setup_error(err, err ? err->code : -EIO, "KVM_CREATE_VM");
	return 0;
}

/* KVM_CREATE_VCPU, KVM_SET_CPUID2 with what KVM supports, the vCPU thread, the program. */
static int make_vcpu(struct ev_world *w, unsigned i, struct vx_error *err)
{
	struct vx_kvm_cpuid_entry ents[VX_KVM_MAX_CPUID_ENTRIES];
	/* vms >= 1 whenever there are vCPUs (vx_eval_workload_check). */
	unsigned j = i % w->wl->vms; /* NOLINT(clang-analyzer-core.DivideZero) */
	struct vx_fpu_task *vmm = w->vmm[j], *thread = NULL;
	struct ev_vcpu *v = &w->vcpus[i];
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;
	int rc;

	v->index = i;
	v->vm = j;
	if (vx_kvm_vcpu_create(w->vms[j], vmm, i / w->wl->vms, &v->vcpu, err) != 0)
		return setup_error(err, err ? err->code : -EIO, "KVM_CREATE_VCPU");
	w->nvcpus++;
	if (vx_kvm_get_supported_cpuid(w->kvm, vmm, ents, &n, err) != 0 ||
	    vx_kvm_vcpu_set_cpuid2(v->vcpu, vmm, ents, n, err) != 0)
		return setup_error(err, err ? err->code : -EIO, "KVM_SET_CPUID2");
	rc = clone_from(w, vmm, &thread, err);
	if (rc)
		return rc;
	init_entity(w, &w->ents[w->nents], EV_VCPU_THREAD, thread);
	w->ents[w->nents++].vcpu = v;
	return ev_guest_setup(w, v, err);
}

static int make_vms(struct ev_world *w, struct vx_fpu_task **leaders, struct vx_error *err)
{
	int rc = 0;

	for (unsigned j = 0; j < w->wl->vms && rc == 0; j++)
		rc = make_vm(w, j, leaders[j], err);
	for (unsigned i = 0; i < w->wl->vcpus && rc == 0; i++)
		rc = make_vcpu(w, i, err);
	return rc;
}

static int idle_cpus(struct ev_world *w, struct vx_error *err)
{
	for (unsigned c = 0; c < w->ncpus; c++) {
		w->cpu_entity[c] = -1;
		if (vx_fpu_cpu_idle(w->machine, c, err) != 0)
			return setup_error(err, err ? err->code : -EIO, "idle");
	}
	return 0;
}

int ev_world_build(struct ev_world *w, const struct vx_profile *profile,
		   const struct vx_eval_options *opts, struct vx_error *err)
{
	const struct vx_eval_workload *wl = w->wl;
	unsigned nproc = wl->processes ? wl->processes : wl->tasks;
	struct vx_fpu_task **leaders = NULL;
	int rc;

	if (nproc < wl->vms)
		nproc = wl->vms;
	w->ncpus = wl->cpus;
	w->kvm_copy = vx_kvm_cet_design_kvm_managed(w->design);
	rc = boot(w, profile, opts, err);
	if (rc == 0)
		rc = resolve_regs(w, err);
	if (rc == 0)
		rc = alloc_arrays(w, nproc, err);
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	if (rc == 0 && !(leaders = ev_alloc(w, nproc * sizeof(*leaders))))
		rc = vx_error_set(err, -ENOMEM, NULL, "no memory for %u processes", nproc);
	if (rc == 0)
		rc = make_tasks(w, leaders, nproc, err);
	if (rc == 0)
		rc = make_vms(w, leaders, err);
	if (rc == 0)
		rc = idle_cpus(w, err);
	w->res->shstk_offered = w->kvm && vx_kvm_cap_has(w->kvm, feature("shstk"));
	ev_free(w, leaders);
	return rc;
}

void ev_world_destroy(struct ev_world *w)
{
	if (w->kvm)
		vx_kvm_destroy(w->kvm);
	if (w->machine)
		vx_fpu_machine_destroy(w->machine);
	if (w->sys)
		vx_fpu_system_destroy(w->sys);
	ev_free(w, w->scratch);
	ev_free(w, w->threads);
	ev_free(w, w->ents);
	ev_free(w, w->vcpus);
}
