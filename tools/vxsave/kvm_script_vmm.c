/* SPDX-License-Identifier: MIT */
/*
 * The VMM-side kvm statements (kvm_script_internal.h): load the module, arch_prctl, the
 * system ioctls (KVM_CHECK_EXTENSION, KVM_GET_DEVICE_ATTR, the MSR index lists), VMs and
 * vCPUs, KVM_SET_CPUID2 from the supported CPUID with edits, XCR0, CR0/CR4, MSRs, ONE_REG and
 * the XSAVE uABI into the fpu statements' named buffers.  Each goes through the backend
 * (kvm_script_backend.c: the model or /dev/kvm).  A call the kernel may refuse prints
 * `CALL = -ERRNO (reason)` and is a result for `kvm expect result`; only misuse of the script
 * (an unknown vCPU, no module) stops it.  Reference: docs/kvm-script.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/vmm_compat.h>

#include "cli.h"
#include "kvm_script_internal.h"

#define CPUID_ROOM (VX_KVM_MAX_CPUID_ENTRIES + KS_EDITS_MAX)

/* ----------------------------------------------------------------------------------------- */
/* Shared                                                                                       */

int ks_need_module(struct sg_runner *r, const struct kvm_script_context *c)
{
	if (!c->loaded)
		return sg_run_error(r, -EINVAL, "no module: 'kvm module' must come first");
	return 0;
}

int ks_find_vcpu(struct sg_runner *r, struct kvm_script_context *c, const char *name,
		 struct kvm_script_vcpu **vcpu)
{
	int rc = ks_need_module(r, c);

	if (rc)
		return rc;
	for (unsigned i = 0; i < c->vcpu_count; i++)
		if (strcmp(c->vcpus[i].name, name) == 0) {
			*vcpu = &c->vcpus[i];
			return 0;
		}
	return sg_run_error(r, -EINVAL, "no vCPU '%s'", name);
}

static int find_vm(struct sg_runner *r, struct kvm_script_context *c, const char *name,
		   unsigned *index)
{
	for (unsigned i = 0; i < c->vm_count; i++)
		if (strcmp(c->vms[i].name, name) == 0) {
			*index = i;
			return 0;
		}
	return sg_run_error(r, -EINVAL, "no VM '%s'", name);
}

void ks_record(struct sg_runner *r, struct kvm_script_context *c, const char *what,
	       long long result)
{
	c->result = result;
	c->result_what = what;
	r->summary->operations++;
	if (result < 0)
		r->summary->faults++;
}

void ks_print_outcome(struct sg_runner *r, const struct kvm_script_context *c, const char *call,
		      long long result, const struct vx_error *err, const char *extra)
{
	char text[32];

	if (r->options->quiet)
		return;
	/* Counts, sizes and 0 in decimal; a value read (hex) comes with @extra or via hex_result.
	 */
	if (result >= 0 && !c->hex_result)
		snprintf(text, sizeof(text), "%lld", result);
	else
		fs_format_result(text, sizeof(text), result);
	if (result < 0 && err && err->reason[0])
		fprintf(r->out, "%s = %s (%s)\n", call, text, err->reason);
	else if (result < 0 && c->real)
		fprintf(r->out, "%s = %s (real KVM)\n", call, text);
	else
		fprintf(r->out, "%s = %s%s%s\n", call, text, extra && *extra ? ": " : "",
			extra ? extra : "");
}

/* The model refused something the script asked for (not a modelled errno): stop. */
static int stop(struct sg_runner *r, int rc, const char *what, const struct vx_error *err)
{
	return fs_model_error(r, rc, what, err);
}

/* ----------------------------------------------------------------------------------------- */
/* The module                                                                                   */

/* `fpu machine` did not come first: boot one as it would (the design's fpu layer). */
static int boot_machine(struct sg_runner *r, struct kvm_script_context *c)
{
	struct fpu_script_context *f = c->fpu;
	struct vx_error err = VX_ERROR_INIT;
	int rc;

	if (f->machine)
		return 0;
	rc = vx_fpu_system_create(f->profile, &f->config, &f->system, &err);
	if (rc < 0)
		return stop(r, rc, "fpu boot", &err);
	rc = vx_fpu_machine_create(f->system, KVM_SCRIPT_DEFAULT_CPUS, &f->machine, &err);
	if (rc < 0)
		return stop(r, rc, "fpu machine", &err);
	if (!r->options->quiet)
		fprintf(r->out, "fpu machine: %u CPUs, CET_S design %s (booted by kvm module)\n",
			KVM_SCRIPT_DEFAULT_CPUS, vx_fpu_cet_design_name(f->config.cet_design));
	return 0;
}

/* The VMM thread: the task called "vmm", made (and run on CPU 0) if there is none. */
static int vmm_task(struct sg_runner *r, struct kvm_script_context *c)
{
	struct fpu_script_context *f = c->fpu;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *task;
	int rc;

	for (unsigned i = 0; i < f->task_count; i++)
		if (strcmp(f->names[i], "vmm") == 0) {
			c->vmm = f->tasks[i];
			return 0;
		}
	if (f->task_count == FPU_SCRIPT_TASKS_MAX)
		return sg_run_error(r, -E2BIG, "more than %u tasks", FPU_SCRIPT_TASKS_MAX);
	rc = vx_fpu_process_create(f->machine, &task, &err);
	if (rc == 0)
		rc = vx_fpu_task_schedule(task, 0, &err);
	if (rc < 0)
		return stop(r, rc, "the VMM process", &err);
	snprintf(f->names[f->task_count], FPU_SCRIPT_NAME_MAX, "vmm");
	f->tasks[f->task_count++] = task;
	c->vmm = task;
	if (!r->options->quiet)
		fprintf(r->out, "task vmm created (the VMM thread, on CPU 0)\n");
	return 0;
}

static void print_module(struct sg_runner *r, const struct kvm_script_context *c)
{
	const struct vx_kvm_options *o;
	enum vx_kvm_flavour loaded;
	char xcr0[160], xss[160];

	if (r->options->quiet)
		return;
	if (c->real) {
		fprintf(r->out, "kvm module: /dev/kvm (real; %s loaded)\n",
			vx_kvm_detect_flavour(NULL, &loaded) == 0 ? vx_kvm_flavour_name(loaded)
								  : "no vendor module");
		return;
	}
	o = vx_kvm_options(c->kvm);
	fprintf(r->out,
		"kvm module: %s on %s, CET_S design %s%s; supported_xcr0 0x%llx%s, "
		"supported_xss 0x%llx%s\n",
		vx_kvm_flavour_name(o->flavour), c->fpu->profile->name,
		vx_kvm_cet_design_name(o->design), o->tdp ? "" : ", TDP off",
		(unsigned long long)vx_kvm_supported_xcr0(c->kvm),
		ks_mask_paren(vx_kvm_supported_xcr0(c->kvm), xcr0, sizeof(xcr0)),
		(unsigned long long)vx_kvm_supported_xss(c->kvm),
		ks_mask_paren(vx_kvm_supported_xss(c->kvm), xss, sizeof(xss)));
}

KS_RUN(ks_run_module)
{
	struct kvm_script_context *c = context;
	struct vx_error err = VX_ERROR_INIT;
	int rc = 0;

	if (c->loaded)
		return sg_run_error(r, -EEXIST, "the module is already loaded");
	if (!c->real)
		rc = boot_machine(r, c);
	if (!rc && !c->real)
		rc = vmm_task(r, c);
	if (rc)
		return rc;
	rc = kb_open(c, &KS_STMT(stmt)->module, &err);
	if (rc < 0)
		return stop(r, rc, c->real ? "open /dev/kvm" : "kvm module", &err);
	c->loaded = true;
	print_module(r, c);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* System calls                                                                                 */

KS_RUN(ks_run_prctl)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	bool get = s->option != VX_ARCH_REQ_XCOMP_PERM && s->option != VX_ARCH_REQ_XCOMP_GUEST_PERM;
	uint64_t user = 0;
	char call[96];
	int rc = ks_need_module(r, c);

	if (rc)
		return rc;
	rc = kb_prctl(c, s->option, s->value, &user, &err);
	ks_record(r, c, "arch_prctl", rc < 0 ? rc : get ? (long long)user : 0);
	snprintf(call, sizeof(call), "arch_prctl(%s, 0x%llx) by the VMM",
		 fs_choice_name(fs_prctl_options, s->option), (unsigned long long)s->value);
	c->hex_result = get;
	ks_print_outcome(r, c, call, c->result, &err, NULL);
	c->hex_result = false;
	return 0;
}

KS_RUN(ks_run_check_extension)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	char call[64];
	int rc = ks_need_module(r, c);

	if (rc)
		return rc;
	rc = kb_check_extension(c, -1, (long)s->value, &err);
	ks_record(r, c, "KVM_CHECK_EXTENSION", rc);
	snprintf(call, sizeof(call), "KVM_CHECK_EXTENSION(%s)", fs_choice_name(ks_caps, s->value));
	if (call[20] == '?')
		snprintf(call, sizeof(call), "KVM_CHECK_EXTENSION(%llu)",
			 (unsigned long long)s->value);
	ks_print_outcome(r, c, call, rc, &err, NULL);
	return 0;
}

KS_RUN(ks_run_device_attr)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	uint64_t value = 0;
	char call[96], names[128];
	int rc = ks_need_module(r, c);

	if (rc)
		return rc;
	rc = kb_device_attr(c, s->group, s->value, &value, &err);
	ks_record(r, c, "KVM_GET_DEVICE_ATTR", rc < 0 ? rc : (long long)value);
	snprintf(call, sizeof(call), "KVM_GET_DEVICE_ATTR(group %u, attr %llu%s)", s->group,
		 (unsigned long long)s->value,
		 s->group == 0 && s->value == 0 ? " = KVM_X86_XCOMP_GUEST_SUPP" : "");
	c->hex_result = true;
	ks_print_outcome(r, c, call, c->result, &err,
			 rc < 0 ? NULL : cli_mask_names(value, names, sizeof(names)));
	c->hex_result = false;
	return 0;
}

static void list_msrs(char *buf, size_t len, const uint32_t *indices, uint32_t n)
{
	size_t used = 0;
	char name[40];

	buf[0] = '\0';
	for (uint32_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s (0x%x)", i ? ", " : "",
					 ks_msr_name(indices[i], name, sizeof(name)), indices[i]);
	if (n == 0)
		snprintf(buf, len, "(none)");
}

KS_RUN(ks_run_msr_list)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	uint32_t indices[256], n = 256;
	char text[2048];
	const char *call = s->flag ? "KVM_GET_MSR_FEATURE_INDEX_LIST" : "KVM_GET_MSR_INDEX_LIST";
	int rc = ks_need_module(r, c);

	if (rc)
		return rc;
	rc = kb_msr_list(c, s->flag, indices, &n, &err);
	ks_record(r, c, call, rc < 0 ? rc : (long long)n);
	if (rc >= 0)
		list_msrs(text, sizeof(text), indices, n);
	ks_print_outcome(r, c, call, c->result, &err, rc < 0 ? NULL : text);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* VMs and vCPUs                                                                                */

static int name_free(struct sg_runner *r, const struct kvm_script_context *c, const char *name)
{
	for (unsigned i = 0; i < c->vm_count; i++)
		if (strcmp(c->vms[i].name, name) == 0)
			return sg_run_error(r, -EEXIST, "VM '%s' already exists", name);
	for (unsigned i = 0; i < c->vcpu_count; i++)
		if (strcmp(c->vcpus[i].name, name) == 0)
			return sg_run_error(r, -EEXIST, "vCPU '%s' already exists", name);
	return 0;
}

/* The thread a VM or vCPU is created by: `TASK` if given (the model only), else the VMM. */
static int creator(struct sg_runner *r, struct kvm_script_context *c, const char *task,
		   struct vx_fpu_task *fallback, struct vx_fpu_task **out)
{
	*out = fallback;
	if (!task[0] || c->real)
		return 0;
	return fs_find_task(r, c->fpu, task, out);
}

KS_RUN(ks_run_vm)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct kvm_script_vm *vm = &c->vms[c->vm_count];
	struct vx_error err = VX_ERROR_INIT;
	char call[64], extra[64];
	int rc = ks_need_module(r, c);

	if (!rc)
		rc = name_free(r, c, s->name);
	if (!rc && c->vm_count == KVM_SCRIPT_VMS_MAX)
		rc = sg_run_error(r, -E2BIG, "more than %u VMs", KVM_SCRIPT_VMS_MAX);
	if (rc)
		return rc;
	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
	rc = creator(r, c, s->task, c->vmm, &vm->task);
	if (rc)
		return rc;
	rc = kb_vm_create(c, vm->task, vm, &err);
	ks_record(r, c, "KVM_CREATE_VM", rc);
	snprintf(call, sizeof(call), "KVM_CREATE_VM");
	snprintf(extra, sizeof(extra), "VM %s%s%s", s->name, c->real ? "" : " by ",
		 c->real ? "" : fs_task_name(c->fpu, vm->task));
	ks_print_outcome(r, c, call, rc, &err, extra);
	if (rc >= 0) {
		snprintf(vm->name, sizeof(vm->name), "%s", s->name);
		c->vm_count++;
	}
	return 0;
}

KS_RUN(ks_run_vcpu)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct kvm_script_vcpu *v = &c->vcpus[c->vcpu_count];
	struct vx_error err = VX_ERROR_INIT;
	char call[96];
	unsigned vm = 0;
	int rc = ks_need_module(r, c);

	if (!rc)
		rc = name_free(r, c, s->name);
	if (!rc)
		rc = find_vm(r, c, s->other, &vm);
	if (!rc && c->vcpu_count == KVM_SCRIPT_VCPUS_MAX)
		rc = sg_run_error(r, -E2BIG, "more than %u vCPUs", KVM_SCRIPT_VCPUS_MAX);
	if (rc)
		return rc;
	memset(v, 0, sizeof(*v));
	v->fd = -1;
	v->vm = vm;
	v->id = s->number;
	v->status = -1;
	rc = creator(r, c, s->task, c->vms[vm].task, &v->task);
	if (rc)
		return rc;
	rc = kb_vcpu_create(c, &c->vms[vm], v, &err);
	ks_record(r, c, "KVM_CREATE_VCPU", rc);
	snprintf(call, sizeof(call), "KVM_CREATE_VCPU(%s, %u)", c->vms[vm].name, s->number);
	ks_print_outcome(r, c, call, rc, &err, s->name);
	if (rc >= 0) {
		snprintf(v->name, sizeof(v->name), "%s", s->name);
		c->vcpu_count++;
	}
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_SET_CPUID2                                                                               */

/* The CPUID a statement starts from: supported, emulated, none, or the vCPU's current one. */
int ks_cpuid_of(struct sg_runner *r, struct kvm_script_context *c, const char *who,
		struct vx_kvm_cpuid_entry *entries, uint32_t *n, long long *rc,
		struct vx_error *err)
{
	struct kvm_script_vcpu *v;
	int found;

	*rc = 0;
	if (strcmp(who, "none") == 0) {
		*n = 0;
		return 0;
	}
	if (strcmp(who, "supported") == 0 || strcmp(who, "emulated") == 0) {
		*rc = kb_supported_cpuid(c, who[0] == 'e', entries, n, err);
		return 0;
	}
	found = ks_find_vcpu(r, c, who, &v);
	if (found)
		return found;
	*rc = kb_get_cpuid(c, v, entries, n, err);
	return 0;
}

/* Leaves whose sub-leaf is significant (KVM_CPUID_FLAG_SIGNIFCANT_INDEX in KVM's lists). */
bool ks_cpuid_indexed_leaf(uint32_t leaf)
{
	static const uint32_t indexed[] = {4,	 7,    0xb,  0xd,  0xf,	 0x10, 0x12,	  0x14,
					   0x17, 0x18, 0x1d, 0x1e, 0x1f, 0x24, 0x8000001d};

	for (size_t i = 0; i < sizeof(indexed) / sizeof(indexed[0]); i++)
		if (indexed[i] == leaf)
			return true;
	return false;
}

/* The entry (leaf, subleaf), appended zero-filled when the list has none. */
static struct vx_kvm_cpuid_entry *entry_for(struct vx_kvm_cpuid_entry *e, uint32_t *n,
					    uint32_t leaf, uint32_t subleaf)
{
	for (uint32_t i = 0; i < *n; i++)
		if (e[i].function == leaf && e[i].index == subleaf)
			return &e[i];
	if (*n >= CPUID_ROOM)
		return NULL;
	e[*n] = (struct vx_kvm_cpuid_entry){leaf, subleaf, 0, 0, 0, 0, 0};
	if (ks_cpuid_indexed_leaf(leaf))
		e[*n].flags = VX_KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	return &e[(*n)++];
}

static uint32_t *reg_of(struct vx_kvm_cpuid_entry *e, unsigned reg)
{
	uint32_t *regs[4] = {&e->eax, &e->ebx, &e->ecx, &e->edx};

	return regs[reg & 3];
}

static void apply_edit(const struct ks_edit *edit, struct vx_kvm_cpuid_entry *e, uint32_t *n)
{
	const struct vx_kvm_feature_info *f = vx_kvm_feature_at(edit->feature);
	const struct vx_kvm_word_info *w;
	struct vx_kvm_cpuid_entry *entry;
	uint32_t *reg;

	if (edit->kind == KS_EDIT_CLEAR_FEATURE || edit->kind == KS_EDIT_SET_FEATURE) {
		w = vx_kvm_word_info(f->word);
		entry = entry_for(e, n, w->leaf, w->subleaf);
		if (!entry)
			return;
		reg = reg_of(entry, w->reg);
		*reg = edit->kind == KS_EDIT_SET_FEATURE ? *reg | 1u << f->bit
							 : *reg & ~(1u << f->bit);
		return;
	}
	entry = entry_for(e, n, edit->leaf, edit->subleaf);
	if (!entry)
		return;
	reg = reg_of(entry, edit->reg);
	*reg = edit->kind == KS_EDIT_SET  ? edit->value
	       : edit->kind == KS_EDIT_OR ? *reg | edit->value
					  : *reg & edit->value;
}

KS_RUN(ks_run_cpuid)
{
	static struct vx_kvm_cpuid_entry entries[CPUID_ROOM];
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	const char *base = fs_choice_name(ks_cpuid_bases, s->option);
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;
	long long got;
	char call[96];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (!rc)
		rc = ks_cpuid_of(r, c, s->option == 3 ? s->name : base, entries, &n, &got, &err);
	if (rc)
		return rc;
	if (got < 0)
		return stop(r, (int)got, base, &err);
	for (unsigned i = 0; i < s->edits.count; i++)
		apply_edit(&s->edits.e[i], entries, &n);
	rc = kb_set_cpuid(c, v, entries, n, &err);
	ks_record(r, c, "KVM_SET_CPUID2", rc);
	snprintf(call, sizeof(call), "KVM_SET_CPUID2(%s, %s%s, %u entries)", v->name, base,
		 s->edits.count ? " edited" : "", n);
	ks_print_outcome(r, c, call, rc, &err, NULL);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* XCR0, CR0/CR4                                                                                */

static void print_xcrs(struct sg_runner *r, const struct kvm_script_context *c,
		       const struct kvm_script_vcpu *v, int rc, const struct vx_kvm_xcrs *x,
		       const struct vx_error *err)
{
	char call[64], extra[160], names[128];

	snprintf(call, sizeof(call), "KVM_GET_XCRS(%s)", v->name);
	if (rc >= 0 && x->nr_xcrs == 0)
		snprintf(extra, sizeof(extra), "no XCRs (the host has no XSAVE)");
	else if (rc >= 0)
		snprintf(extra, sizeof(extra), "XCR0 = 0x%llx%s",
			 (unsigned long long)x->xcrs[0].value,
			 ks_mask_paren(x->xcrs[0].value, names, sizeof(names)));
	ks_print_outcome(r, c, call, rc, err, rc >= 0 ? extra : NULL);
}

KS_RUN(ks_run_xcr0)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_kvm_xcrs xcrs;
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	char call[96];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	memset(&xcrs, 0, sizeof(xcrs));
	if (!(s->present & 2u)) {
		rc = kb_get_xcrs(c, v, &xcrs, &err);
		ks_record(r, c, "KVM_GET_XCRS", rc < 0 ? rc : (long long)xcrs.xcrs[0].value);
		print_xcrs(r, c, v, rc, &xcrs, &err);
		return 0;
	}
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = s->value;
	rc = kb_set_xcrs(c, v, &xcrs, &err);
	ks_record(r, c, "KVM_SET_XCRS", rc);
	snprintf(call, sizeof(call), "KVM_SET_XCRS(%s, XCR0 = 0x%llx)", v->name,
		 (unsigned long long)s->value);
	ks_print_outcome(r, c, call, rc, &err, NULL);
	return 0;
}

KS_RUN(ks_run_cr)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	bool write = s->present & 4u;
	uint64_t value = s->value;
	char call[96], extra[40];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	rc = kb_cr(c, v, write, (unsigned)s->option, &value, &err);
	ks_record(r, c, write ? "KVM_SET_SREGS" : "KVM_GET_SREGS",
		  rc < 0 || write ? rc : (long long)value);
	if (write)
		snprintf(call, sizeof(call), "KVM_SET_SREGS(%s, CR%u = 0x%llx)", v->name,
			 (unsigned)s->option, (unsigned long long)s->value);
	else
		snprintf(call, sizeof(call), "KVM_GET_SREGS(%s)", v->name);
	snprintf(extra, sizeof(extra), "CR%u = 0x%llx", (unsigned)s->option,
		 (unsigned long long)value);
	ks_print_outcome(r, c, call, rc, &err, write ? NULL : extra);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* MSRs (kvm.md §3)                                                                             */

/* "IA32_XSS = 0x0, ..." for the first @done entries; where the batch stopped and why. */
static void msr_text(char *buf, size_t len, const struct ks_msrs *m,
		     const struct vx_kvm_msr_entry *e, int done, bool values,
		     const struct vx_error *err)
{
	size_t used = 0;
	char name[40];

	buf[0] = '\0';
	for (int i = 0; i < done && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s = 0x%llx", i ? ", " : "",
					 ks_msr_name(e[i].index, name, sizeof(name)),
					 (unsigned long long)e[i].data);
	if (done >= 0 && (uint32_t)done < m->count && used < len)
		snprintf(buf + used, len - used, "%sstopped at %s%s%s%s", used ? "; " : "",
			 ks_msr_name(m->e[done].index, name, sizeof(name)),
			 err && err->reason[0] ? " (" : "", err ? err->reason : "",
			 err && err->reason[0] ? ")" : "");
	(void)values;
}

KS_RUN(ks_run_msr_get)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_kvm_msr_entry e[KS_MSRS_MAX];
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	char call[64], text[1024];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	memcpy(e, s->msrs.e, sizeof(e));
	rc = kb_msrs(c, v, false, e, s->msrs.count, &err);
	ks_record(r, c, "KVM_GET_MSRS", rc);
	snprintf(call, sizeof(call), "KVM_GET_MSRS(%s, %u)", v->name, s->msrs.count);
	msr_text(text, sizeof(text), &s->msrs, e, rc, true, &err);
	ks_print_outcome(r, c, call, rc, rc < 0 ? &err : NULL, text);
	return 0;
}

KS_RUN(ks_run_msr_set)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_kvm_msr_entry e[KS_MSRS_MAX];
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	char call[64], text[1024];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	memcpy(e, s->msrs.e, sizeof(e));
	rc = kb_msrs(c, v, true, e, s->msrs.count, &err);
	ks_record(r, c, "KVM_SET_MSRS", rc);
	snprintf(call, sizeof(call), "KVM_SET_MSRS(%s, %u)", v->name, s->msrs.count);
	msr_text(text, sizeof(text), &s->msrs, s->msrs.e, rc, true, &err);
	ks_print_outcome(r, c, call, rc, rc < 0 ? &err : NULL, text);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* ONE_REG (kvm.md §3.4)                                                                        */

KS_RUN(ks_run_one_reg_get)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	uint64_t value = 0;
	char call[96], id[64], extra[32];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	rc = kb_one_reg(c, v, false, s->value, &value, &err);
	ks_record(r, c, "KVM_GET_ONE_REG", rc < 0 ? rc : (long long)value);
	snprintf(call, sizeof(call), "KVM_GET_ONE_REG(%s, %s)", v->name,
		 ks_reg_id_name(s->value, id, sizeof(id)));
	snprintf(extra, sizeof(extra), "0x%llx", (unsigned long long)value);
	ks_print_outcome(r, c, call, rc, &err, extra);
	return 0;
}

KS_RUN(ks_run_one_reg_set)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	uint64_t value = s->select;
	char call[128], id[64];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	rc = kb_one_reg(c, v, true, s->value, &value, &err);
	ks_record(r, c, "KVM_SET_ONE_REG", rc);
	snprintf(call, sizeof(call), "KVM_SET_ONE_REG(%s, %s, 0x%llx)", v->name,
		 ks_reg_id_name(s->value, id, sizeof(id)), (unsigned long long)s->select);
	ks_print_outcome(r, c, call, rc, &err, NULL);
	return 0;
}

KS_RUN(ks_run_one_reg_list)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	uint64_t ids[256], n = 256;
	char call[64], text[2048], id[64];
	size_t used = 0;
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	rc = kb_reg_list(c, v, ids, &n, &err);
	ks_record(r, c, "KVM_GET_REG_LIST", rc < 0 ? rc : (long long)n);
	snprintf(call, sizeof(call), "KVM_GET_REG_LIST(%s)", v->name);
	text[0] = '\0';
	for (uint64_t i = 0; rc >= 0 && i < n && used < sizeof(text); i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%s", i ? ", " : "",
					 ks_reg_id_name(ids[i], id, sizeof(id)));
	ks_print_outcome(r, c, call, c->result, &err, rc < 0 ? NULL : n ? text : "(none)");
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* The XSAVE uABI (kvm.md §5)                                                                   */

/* The buffer @name with exactly @size bytes (made, or remade zero-filled). */
static int sized_buffer(struct sg_runner *r, struct fpu_script_context *f, const char *name,
			size_t size, struct fpu_script_buffer **out)
{
	struct fpu_script_buffer *b = fs_find_buffer(f, name);
	size_t rounded = (size + 63) & ~(size_t)63;
	uint8_t *bytes;

	if (!b)
		return fs_buffer(r, f, name, size, out);
	if (b->size != size) {
		bytes = aligned_alloc(64, rounded);
		if (!bytes)
			return sg_run_error(r, -ENOMEM, "buffer '%s': out of memory", name);
		memset(bytes, 0, rounded);
		free(b->bytes);
		b->bytes = bytes;
		b->size = size;
	}
	*out = b;
	return 0;
}

static uint64_t load_le(const uint8_t *p, size_t width)
{
	uint64_t v = 0;

	for (size_t i = width; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

KS_RUN(ks_run_xsave_get)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_buffer *b;
	struct kvm_script_vcpu *v;
	const char *what = s->flag ? "KVM_GET_XSAVE" : "KVM_GET_XSAVE2";
	char call[96], extra[128];
	int size, rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	size = s->flag ? (int)VX_KVM_XSAVE_SIZE : kb_xsave_size(c, v, &err);
	rc = sized_buffer(r, c->fpu, s->other, (size_t)size, &b);
	if (rc)
		return rc;
	rc = kb_xsave(c, v, false, !s->flag, b->bytes, b->size, &err);
	ks_record(r, c, what, rc);
	snprintf(call, sizeof(call), "%s(%s) into %s", what, v->name, s->other);
	snprintf(extra, sizeof(extra), "%d bytes, XSTATE_BV 0x%llx, XCOMP_BV 0x%llx", size,
		 (unsigned long long)load_le(b->bytes + 512, 8),
		 (unsigned long long)load_le(b->bytes + 520, 8));
	ks_print_outcome(r, c, call, rc, &err, extra);
	return 0;
}

/* A copy of @b, as long as the vCPU's uABI size, with the statement's mutation applied. */
static int mutated_copy(struct sg_runner *r, const struct ks_stmt *s,
			const struct fpu_script_buffer *b, size_t size, uint8_t **out)
{
	size_t len = b->size > size ? b->size : size;
	uint8_t *copy = calloc(1, len);
	uint64_t value = s->value;

	if (!copy)
		return sg_run_error(r, -ENOMEM, "out of memory");
	memcpy(copy, b->bytes, b->size);
	if ((s->present & 4u) && s->at.offset + s->width > len) {
		free(copy);
		return sg_run_error(r, -EINVAL, "offset %llu + %llu is outside %zu bytes",
				    (unsigned long long)s->at.offset, (unsigned long long)s->width,
				    len);
	}
	for (uint64_t i = 0; (s->present & 4u) && i < s->width; i++, value >>= 8)
		copy[s->at.offset + i] = (uint8_t)value;
	*out = copy;
	return 0;
}

KS_RUN(ks_run_xsave_set)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct fpu_script_buffer *b;
	struct kvm_script_vcpu *v;
	uint8_t *copy = NULL;
	char call[160];
	size_t size;
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (!rc)
		rc = fs_existing_buffer(r, c->fpu, s->other, &b);
	if (rc)
		return rc;
	size = (size_t)kb_xsave_size(c, v, &err);
	rc = mutated_copy(r, s, b, size, &copy);
	if (rc)
		return rc;
	rc = kb_xsave(c, v, true, true, copy, b->size > size ? b->size : size, &err);
	free(copy);
	ks_record(r, c, "KVM_SET_XSAVE", rc);
	if (s->present & 4u)
		snprintf(call, sizeof(call),
			 "KVM_SET_XSAVE(%s) from %s with %llu byte%s at %llu = 0x%llx", v->name,
			 s->other, (unsigned long long)s->width, s->width == 1 ? "" : "s",
			 (unsigned long long)s->at.offset, (unsigned long long)s->value);
	else
		snprintf(call, sizeof(call), "KVM_SET_XSAVE(%s) from %s", v->name, s->other);
	ks_print_outcome(r, c, call, rc, &err, NULL);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Saving a vCPU as a bundle (docs/vmm.md "Capture", "Bundles")                                 */

/* Who made the bundle: the script's line, the model of which host or the real /dev/kvm; the
 * module's flavour and design, the VMM's guest permission (kvm.md §2.6). */
static void save_source(struct sg_runner *r, struct kvm_script_context *c,
			const struct kvm_script_vcpu *v, struct vx_vmm_bundle *b)
{
	const char *script = c->script ? c->script : "<script>";
	struct vx_error err = VX_ERROR_INIT;
	enum vx_kvm_flavour detected;
	uint64_t perm = 0;

	vx_vmm_bundle_init(b);
	b->vcpu_id = v->id;
	if (c->real)
		snprintf(b->origin, sizeof(b->origin), "vxsave kvm script %s:%u on /dev/kvm (real)",
			 script, r->stmt->line);
	else
		snprintf(b->origin, sizeof(b->origin), "vxsave kvm script %s:%u on the model of %s",
			 script, r->stmt->line, c->fpu->profile->name);
	if (!c->real)
		b->flavour = (int)vx_kvm_options(c->kvm)->flavour;
	else if (vx_kvm_detect_flavour(NULL, &detected) == 0)
		b->flavour = (int)detected;
	/* The real kernel's design: Linux >= 6.17 keeps CET_S guest-only (kvm.md §6.4). */
	b->design = c->real ? (int)VX_KVM_CET_GUEST_ONLY : (int)c->design;
	if (kb_prctl(c, VX_ARCH_GET_XCOMP_GUEST_PERM, 0, &perm, &err) == 0)
		b->guest_perm = perm;
}

/* The bundle's text into @path (relative to the current directory); the file is made only
 * once the text is complete. */
static int save_write(struct sg_runner *r, const char *path, const struct vx_vmm_bundle *b)
{
	size_t n = vx_vmm_bundle_format(b, NULL, 0);
	char *text = malloc(n + 1);
	FILE *f = NULL;
	bool ok = false;

	if (!text)
		return sg_run_error(r, -ENOMEM, "kvm save: out of memory");
	vx_vmm_bundle_format(b, text, n + 1);
	f = fopen(path, "w");
	ok = f && fwrite(text, 1, n, f) == n;
	if (f)
		ok &= fclose(f) == 0;
	free(text);
	if (!ok)
		return sg_run_error(r, -EIO, "kvm save: cannot write '%s': %s", path,
				    strerror(errno));
	return 0;
}

KS_RUN(ks_run_save)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	struct vx_vmm_bundle *b = NULL;
	uint64_t xcr0 = 0;
	char call[FPU_SCRIPT_NAME_MAX + KS_PATH_MAX + 16], extra[160];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (!rc) {
		b = malloc(sizeof(*b));
		rc = b ? 0 : sg_run_error(r, -ENOMEM, "kvm save: out of memory");
	}
	if (rc)
		return rc;
	save_source(r, c, v, b);
	rc = kb_save(c, v, c->fpu->profile, b, &err);
	/* A result: the blob's size in bytes (KVM_CAP_XSAVE2's, or 4096), or the errno. */
	ks_record(r, c, "kvm save", rc < 0 ? rc : (long long)b->xsave_len);
	snprintf(call, sizeof(call), "save(%s) to %s", v->name, s->path);
	vx_vmm_bundle_xcr0(b, &xcr0);
	snprintf(extra, sizeof(extra),
		 "%u CPUID entries, XCR0 0x%llx, %u MSRs, %u ONE_REG, XSTATE_BV 0x%llx", b->ncpuid,
		 (unsigned long long)xcr0, b->nmsrs, b->none_regs,
		 (unsigned long long)vx_vmm_bundle_xstate_bv(b));
	rc = rc < 0 ? 0 : save_write(r, s->path, b);
	if (!rc)
		ks_print_outcome(r, c, call, c->result, &err, extra);
	free(b);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */

void kvm_script_context_clear(struct kvm_script_context *context)
{
	kb_close(context);
	for (unsigned i = 0; i < context->vcpu_count; i++)
		free(context->vcpus[i].ops);
	context->vcpu_count = 0;
	context->vm_count = 0;
	context->loaded = false;
}
