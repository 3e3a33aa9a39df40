/* SPDX-License-Identifier: MIT */
/*
 * KVM_RUN on the model CPUs (kvm.md §6.2, §6.5): vcpu_load/put with the CET_S design's hooks,
 * kvm_load/put_guest_fpu (fpu_swap_kvm_fpstate), VM entry and exit around each guest
 * instruction (kvm_load_guest_xsave_state: XCR0, XSS, PKRU; the VMCS-resident CET registers
 * with the load-CET controls), the exits KVM handles (XSETBV, intercepted MSRs, MOV CR4, #NM
 * with XFD) and those it returns to userspace (OUT, HLT), and the host scheduler's preempt and
 * user-return notifiers.
 */
#include <stdio.h>

#include <vxsave/cpu_cet.h>

#include "kvm/kvm_internal.h"

#define FP_MASK VX_BIT(VX_COMP_X87)

static const char *const gop_names[VX_KVM_GOP_COUNT] = {
    [VX_KVM_GOP_XSETBV] = "xsetbv",	[VX_KVM_GOP_XGETBV] = "xgetbv",
    [VX_KVM_GOP_RDMSR] = "rdmsr",	[VX_KVM_GOP_WRMSR] = "wrmsr",
    [VX_KVM_GOP_SET_REG] = "set",	[VX_KVM_GOP_GET_REG] = "get",
    [VX_KVM_GOP_USE] = "use",		[VX_KVM_GOP_MOV_CR4] = "mov-cr4",
    [VX_KVM_GOP_OUT] = "out",		[VX_KVM_GOP_HLT] = "hlt",
    [VX_KVM_GOP_MOV_CR0] = "mov-cr0",	[VX_KVM_GOP_SETSSBSY] = "setssbsy",
    [VX_KVM_GOP_CLRSSBSY] = "clrssbsy", [VX_KVM_GOP_RDSSP] = "rdssp",
    [VX_KVM_GOP_XSAVE] = "xsave",	[VX_KVM_GOP_BRANCH] = "branch",
};

const char *vx_kvm_gop_name(enum vx_kvm_gop op)
{
	return (unsigned)op < VX_KVM_GOP_COUNT ? gop_names[op] : NULL;
}

/* ----------------------------------------------------------------------------------------- */
/* Which vCPU a thread has loaded; the scheduler's notifiers                                    */

static struct vx_kvm_vcpu *loaded_by(const struct vx_kvm *kvm, const struct vx_fpu_task *t)
{
	for (const struct vx_kvm_vm *vm = kvm->vms; t && vm; vm = vm->next)
		for (unsigned i = 0; i < vm->nvcpus; i++)
			if (vm->vcpus[i]->in_run && vm->vcpus[i]->run_task == t)
				return vm->vcpus[i];
	return NULL;
}

static int task_cpu(const struct vx_fpu_task *t)
{
	struct vx_fpu_task_info info;

	vx_fpu_task_info(t, &info);
	return info.cpu;
}

/* kvm_sched_out(): vcpu_put (§6.2; the design's put hook). */
static void sched_out(struct vx_kvm_vcpu *vcpu, unsigned cpu)
{
	if (!vcpu || !vcpu->loaded)
		return;
	vx_kvm_design_put(vcpu, cpu);
	vcpu->loaded = false;
	vcpu->design.sched_out++;
}

/* kvm_sched_in(): vcpu_load on the new CPU. */
static void sched_in(struct vx_kvm_vcpu *vcpu, unsigned cpu)
{
	if (!vcpu || vcpu->loaded)
		return;
	vx_kvm_design_load(vcpu, cpu);
	vcpu->loaded = true;
	vcpu->design.sched_in++;
}

int vx_kvm_sched(struct vx_kvm *kvm, struct vx_fpu_task *task, unsigned cpu, struct vx_error *err)
{
	struct vx_fpu_percpu pc;
	int from = task_cpu(task), rc;

	if (from == (int)cpu)
		return 0;
	rc = vx_fpu_percpu_get(kvm->machine, cpu, &pc);
	if (rc)
		return vx_error_set(err, rc, NULL, "CPU %u does not exist", cpu);
	/* Preempt notifiers fire before the context switch (prepare_task_switch). */
	if (from >= 0)
		sched_out(loaded_by(kvm, task), (unsigned)from);
	if (pc.current)
		sched_out(loaded_by(kvm, pc.current), cpu);
	rc = vx_fpu_task_schedule(task, cpu, err);
	if (rc)
		return rc;
	sched_in(loaded_by(kvm, task), cpu);
	return 0;
}

int vx_kvm_return_to_user(struct vx_kvm *kvm, struct vx_fpu_task *task, struct vx_error *err)
{
	int cpu = task_cpu(task);

	if (cpu < 0)
		return vx_error_set(err, -ESRCH, NULL, "the task is not running");
	if (loaded_by(kvm, task))
		return vx_error_set(err, -EBUSY, "kvm.md §6.2", "the task is inside KVM_RUN");
	/* fire_user_return_notifiers() before switch_fpu_return() (exit to user mode). */
	vx_kvm_design_user_return(kvm, (unsigned)cpu);
	return vx_fpu_task_return_to_user(task, err);
}

bool vx_kvm_vcpu_in_run(const struct vx_kvm_vcpu *vcpu)
{
	return vcpu->in_run;
}

/* ----------------------------------------------------------------------------------------- */
/* VM entry and exit (kvm_load_guest_xsave_state / kvm_load_host_xsave_state, §6.2, §6.3)     */

struct guest_ctx {
	struct vx_kvm_vcpu *vcpu;
	struct vx_fpu_task *task;
	struct vx_cpu *cpu;
	unsigned cpu_index;
	struct vx_cpu_control host_ctl;
	uint64_t host_xcr0;
	uint64_t host_xss;
	uint32_t host_pkru;
	struct vx_cet_vmcs vmcs;      /* VMX: the CET fields of this entry */
	struct vx_cet_vmcb vmcb_host; /* SVM: the host's save area */
	struct vx_kvm_run *run;
	struct vx_error *err;
	struct vx_cpu_memory scratch_memory;
};

/* Looked up once per module (vx_kvm_create): the entry/exit path uses it on every op. */
static const struct vx_reg_info *pkru_reg(const struct guest_ctx *g)
{
	return g->vcpu->vm->kvm->pkru_reg;
}

static bool vmcs_has_cet(const struct vx_kvm_vcpu *v)
{
	return vx_kvm_vcpu_cap_has(v, VX_KF_SHSTK) || vx_kvm_vcpu_cap_has(v, VX_KF_IBT);
}

static void host_msr(struct vx_cpu *cpu, enum vx_msr_op op, uint32_t msr, uint64_t *v)
{
	(void)vx_cpu_msr_access(cpu, VX_MSR_HOST, op, msr, v, NULL);
}

/*
 * The VMCS/VMCB CET fields go through the processor's own VM entry and exit (cpu_cet.h, arch.md
 * §7.11-§7.12): VMX with the "load CET state" controls KVM always sets when it offers CET
 * (kvm.md §6.3), with its checks; SVM's VMRUN/#VMEXIT.  Host values: HOST_S_CET = the host's
 * S_CET, HOST_SSP = HOST_INTR_SSP_TABLE = 0 (vmx.c:4321-4342).
 */
static void vmcs_fill(struct guest_ctx *g, struct vx_cet_vmcs *vmcs)
{
	const struct vx_kvm_vcpu *v = g->vcpu;

	memset(vmcs, 0, sizeof(*vmcs));
	vmcs->entry_controls = VX_VMX_ENTRY_LOAD_CET;
	vmcs->exit_controls = VX_VMX_EXIT_LOAD_CET | VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE;
	vmcs->guest_cr0 = v->cr0;
	vmcs->guest_cr4 = v->cr4;
	vmcs->host_cr0 = g->host_ctl.cr0;
	vmcs->host_cr4 = g->host_ctl.cr4;
	vmcs->guest_s_cet = v->vmcs.s_cet;
	vmcs->guest_ssp = v->vmcs.ssp;
	vmcs->guest_intr_ssp_table = v->vmcs.int_ssp_tab;
	vmcs->host_s_cet = v->vm->kvm->host.s_cet;
}

static int cet_entry(struct guest_ctx *g)
{
	struct vx_kvm_vcpu *v = g->vcpu;
	struct vx_cet_vmcb guest = {v->vmcs.s_cet, v->vmcs.ssp, v->vmcs.int_ssp_tab};
	struct vx_vmentry_failure fail;
	int rc;

	if (!vmcs_has_cet(v))
		return 0;
	if (v->vm->kvm->opts.flavour == VX_KVM_SVM) {
		rc = vx_cpu_cet_vmrun(g->cpu, &guest, &g->vmcb_host, &fail);
	} else {
		vmcs_fill(g, &g->vmcs);
		rc = vx_cpu_cet_vmentry(g->cpu, &g->vmcs, &fail);
	}
	if (rc == VX_VMENTRY_OK)
		return 0;
	vx_error_set(g->err, -EIO, fail.rule, "VM entry failed: %s", fail.reason);
	return rc < 0 ? rc : -EIO;
}

static void cet_exit(struct guest_ctx *g)
{
	struct vx_kvm_vcpu *v = g->vcpu;
	struct vx_cet_vmcb guest;

	if (!vmcs_has_cet(v))
		return;
	if (v->vm->kvm->opts.flavour == VX_KVM_SVM) {
		(void)vx_cpu_cet_svm_vmexit(g->cpu, &guest, &g->vmcb_host);
		v->vmcs = (struct vx_kvm_vmcs_cet){guest.s_cet, guest.ssp, guest.isst_addr};
		return;
	}
	(void)vx_cpu_cet_vmexit(g->cpu, &g->vmcs);
	v->vmcs = (struct vx_kvm_vmcs_cet){g->vmcs.guest_s_cet, g->vmcs.guest_ssp,
					   g->vmcs.guest_intr_ssp_table};
}

/* Whether this entry runs with the guest's XCR0/XSS/CR4 (quirk pvm-cpl3-native: not at CPL3). */
static bool guest_xstate(const struct guest_ctx *g, unsigned cpl)
{
	/* Quirk pvm-cpl3-native: guest user code runs natively with the host's XCR0/CR4. */
	if (cpl == 3 && (g->vcpu->vm->kvm->opts.quirks & VX_BIT(VX_KVM_QUIRK_PVM_CPL3_NATIVE)))
		return false;
	return true;
}

static void load_xcr0(struct vx_cpu *cpu, uint64_t xcr0)
{
	struct vx_event ev;

	if (vx_cpu_xcr0(cpu) != xcr0)
		(void)vx_cpu_xsetbv(cpu, 0, xcr0, &ev);
}

/* kvm_load_guest_xsave_state(): XCR0 and XSS when CR4.OSXSAVE, PKRU when CR4.PKE. */
static void xstate_entry(struct guest_ctx *g, unsigned cpl)
{
	struct vx_kvm_vcpu *v = g->vcpu;
	uint64_t xss = v->ia32_xss;
	uint32_t pkru = v->pkru;

	g->host_xcr0 = vx_cpu_xcr0(g->cpu);
	host_msr(g->cpu, VX_MSR_READ, VX_MSR_IA32_XSS, &g->host_xss);
	(void)vx_cpu_get_reg(g->cpu, pkru_reg(g), &g->host_pkru, 4);
	if (!guest_xstate(g, cpl) || !(v->cr4 & VX_CR4_OSXSAVE))
		return;
	load_xcr0(g->cpu, v->xcr0);
	if (vx_kvm_vcpu_cap_has(v, VX_KF_XSAVES) && xss != g->host_xss)
		host_msr(g->cpu, VX_MSR_WRITE, VX_MSR_IA32_XSS, &xss);
	if (v->cr4 & VX_CR4_PKE)
		(void)vx_cpu_set_reg(g->cpu, pkru_reg(g), &pkru, 4, NULL);
}

static void xstate_exit(struct guest_ctx *g)
{
	struct vx_kvm_vcpu *v = g->vcpu;

	if (v->cr4 & VX_CR4_PKE)
		(void)vx_cpu_get_reg(g->cpu, pkru_reg(g), &v->pkru, 4);
	(void)vx_cpu_set_reg(g->cpu, pkru_reg(g), &g->host_pkru, 4, NULL);
	load_xcr0(g->cpu, g->host_xcr0);
	host_msr(g->cpu, VX_MSR_WRITE, VX_MSR_IA32_XSS, &g->host_xss);
}

static struct vx_cpu_control guest_control(const struct guest_ctx *g, unsigned cpl)
{
	struct vx_cpu_control c = g->host_ctl;

	c.vmx_non_root = true;
	c.cpl = cpl;
	/* The VMX "enable XSAVES/XRSTORS" control is set iff the XSAVES cap (vmx.c:4608); an
	 * empty XSS-exiting bitmap, as KVM programs it. */
	c.vmx_xsaves_enabled = vx_kvm_vcpu_cap_has(g->vcpu, VX_KF_XSAVES);
	c.vmx_xss_exit_bitmap = 0;
	if (!guest_xstate(g, cpl))
		return c;
	c.cr0 = g->vcpu->cr0;
	c.cr4 = g->vcpu->cr4;
	c.mode = (g->vcpu->cr0 & VX_CR0_PE) ? VX_MODE_64BIT : VX_MODE_REAL;
	return c;
}

/* Load a control state; a paging-mode change goes through compatibility mode, as an OS does. */
static void load_control(struct vx_cpu *cpu, const struct vx_cpu_control *c)
{
	struct vx_cpu_control mid;
	struct vx_event ev;

	if (vx_cpu_set_control(cpu, c, &ev) == 0)
		return;
	vx_cpu_get_control(cpu, &mid);
	mid.mode = VX_MODE_COMPAT;
	(void)vx_cpu_set_control(cpu, &mid, &ev);
	mid = *c;
	mid.mode = VX_MODE_COMPAT;
	(void)vx_cpu_set_control(cpu, &mid, &ev);
	(void)vx_cpu_set_control(cpu, c, &ev);
}

static int vm_entry(struct guest_ctx *g, unsigned cpl)
{
	struct vx_cpu_control gc;
	int rc;

	g->cpu = vx_fpu_guest_cpu(g->task, &g->vcpu->gfpu, g->err);
	if (!g->cpu)
		return -EINVAL;
	vx_cpu_get_control(g->cpu, &g->host_ctl);
	xstate_entry(g, cpl);
	rc = cet_entry(g);
	if (rc) {
		xstate_exit(g);
		return rc;
	}
	gc = guest_control(g, cpl);
	load_control(g->cpu, &gc);
	/* Quirk pvm-cpl3-sse-in-use: entering CPL3 guest code marks SSE in use (measured). */
	if (cpl == 3 && (g->vcpu->vm->kvm->opts.quirks & VX_BIT(VX_KVM_QUIRK_PVM_CPL3_SSE_IN_USE)))
		(void)vx_cpu_use(g->cpu, VX_BIT(VX_COMP_SSE), NULL);
	return 0;
}

static void vm_exit(struct guest_ctx *g)
{
	load_control(g->cpu, &g->host_ctl);
	cet_exit(g);
	xstate_exit(g);
	/* fpu_sync_guest_vmexit_xfd_state() once XFD writes are not intercepted (§6.5). */
	if (g->vcpu->xfd_no_write_intercept)
		(void)vx_fpu_sync_guest_vmexit_xfd_state(g->task, NULL);
}

/* ----------------------------------------------------------------------------------------- */
/* MSR intercepts (kvm.md §3.2 "Intercept" lines)                                               */

static bool cap(const struct vx_kvm_vcpu *v, unsigned f)
{
	return vx_kvm_vcpu_cap_has(v, f);
}

static bool is_vmx(const struct vx_kvm_vcpu *v)
{
	return v->vm->kvm->opts.flavour == VX_KVM_VMX;
}

/* U_CET, S_CET: VMX passes them through with SHSTK or IBT, SVM with SHSTK. */
static bool pass_cet_ctl(const struct vx_kvm_vcpu *v, bool write)
{
	(void)write;
	return cap(v, VX_KF_SHSTK) || (is_vmx(v) && cap(v, VX_KF_IBT));
}

/* PL0-2_SSP: with SHSTK; kvm-lazy intercepts writes until the first non-zero one. */
static bool pass_pl012(const struct vx_kvm_vcpu *v, bool write)
{
	if (write && vx_kvm_design_pl_write_intercepted(v))
		return false;
	return cap(v, VX_KF_SHSTK);
}

static bool pass_pl3(const struct vx_kvm_vcpu *v, bool write)
{
	(void)write;
	return cap(v, VX_KF_SHSTK);
}

/* XFD: both directions once the guest wrote a non-zero value (VMX, vmx.c:2204-2220). */
static bool pass_xfd(const struct vx_kvm_vcpu *v, bool write)
{
	(void)write;
	return v->xfd_no_write_intercept;
}

/* XFD_ERR: reads pass through with the XFD cap; writes are always intercepted. */
static bool pass_xfd_err(const struct vx_kvm_vcpu *v, bool write)
{
	return !write && is_vmx(v) && cap(v, VX_KF_XFD);
}

static const struct {
	uint32_t msr;
	bool (*passthrough)(const struct vx_kvm_vcpu *v, bool write);
} msr_intercepts[] = {
    {VX_MSR_IA32_U_CET, pass_cet_ctl}, {VX_MSR_IA32_S_CET, pass_cet_ctl},
    {VX_MSR_IA32_PL0_SSP, pass_pl012}, {VX_MSR_IA32_PL1_SSP, pass_pl012},
    {VX_MSR_IA32_PL2_SSP, pass_pl012}, {VX_MSR_IA32_PL3_SSP, pass_pl3},
    {VX_MSR_IA32_XFD, pass_xfd},       {VX_MSR_IA32_XFD_ERR, pass_xfd_err},
};

/* Everything not listed (XSS, INT_SSP_TAB, unknown MSRs) is intercepted. */
static bool msr_passthrough(const struct vx_kvm_vcpu *v, uint32_t msr, bool write)
{
	for (size_t i = 0; i < sizeof(msr_intercepts) / sizeof(msr_intercepts[0]); i++)
		if (msr_intercepts[i].msr == msr)
			return msr_intercepts[i].passthrough(v, write);
	return false;
}

/* ----------------------------------------------------------------------------------------- */
/* Guest instructions                                                                           */

static void inject_gp(struct guest_ctx *g, const struct vx_error *why)
{
	struct vx_event *ev = &g->run->event;

	memset(ev, 0, sizeof(*ev));
	ev->kind = VX_EVENT_EXCEPTION;
	ev->vector = VX_VEC_GP;
	ev->offset = -1;
	snprintf(ev->reason, sizeof(ev->reason), "#GP(0) injected by KVM: %.160s",
		 why ? why->reason : "");
	ev->rule = why ? why->rule : NULL;
}

static void cpl_gp(struct guest_ctx *g, unsigned cpl)
{
	struct vx_error why = VX_ERROR_INIT;

	vx_error_set(&why, -EPERM, "SDM Vol. 2B MOV CR", "MOV to a control register at CPL %u",
		     cpl);
	inject_gp(g, &why);
	snprintf(g->run->event.reason, sizeof(g->run->event.reason),
		 "#GP(0): MOV to a control register at CPL %u", cpl);
}

/* An instruction that exits unconditionally: the exit happens before it executes. */
static int exit_xsetbv(struct guest_ctx *g, const struct vx_kvm_guest_op *op)
{
	g->run->vm_exits++;
	(void)vx_kvm_vcpu_guest_xsetbv(g->vcpu, op->cpl, op->index, op->value, &g->run->event);
	return 0;
}

/* MOV to CR0/CR4 exits for the bits KVM owns (CET, WP, OSXSAVE, PKE: kvm.md §7.1). */
static int exit_mov_cr(struct guest_ctx *g, const struct vx_kvm_guest_op *op)
{
	struct vx_error err = VX_ERROR_INIT;

	g->run->vm_exits++;
	if (op->op == VX_KVM_GOP_MOV_CR0)
		(void)vx_kvm_vcpu_set_cr0(g->vcpu, false, op->value, &g->run->event, &err);
	else
		(void)vx_kvm_vcpu_set_cr4(g->vcpu, false, op->value, &g->run->event, &err);
	return 0;
}

static int exit_msr(struct guest_ctx *g, const struct vx_kvm_guest_op *op, bool write)
{
	struct vx_error err = VX_ERROR_INIT;
	uint64_t value = op->value;
	int rc;

	g->run->vm_exits++;
	rc = write ? vx_kvm_vcpu_set_msr(g->vcpu, false, op->index, value, &err)
		   : vx_kvm_vcpu_get_msr(g->vcpu, false, op->index, &value, &err);
	if (rc != 0) {
		inject_gp(g, &err);
		return 0;
	}
	if (!write)
		g->run->value = value;
	return 0;
}

/* The VM's guest memory, or an empty window (every access #PF). */
static struct vx_cpu_memory *guest_memory(struct guest_ctx *g)
{
	static const struct vx_cpu_memory none;

	if (g->vcpu->vm->memory)
		return g->vcpu->vm->memory;
	g->scratch_memory = none;
	return &g->scratch_memory;
}

void vx_kvm_vm_set_guest_memory(struct vx_kvm_vm *vm, struct vx_cpu_memory *memory)
{
	vm->memory = memory;
}

/* Instructions the processor executes in the guest (no exit, or an exception). */
static void in_guest(struct guest_ctx *g, const struct vx_kvm_guest_op *op)
{
	struct vx_kvm_run *r = g->run;
	enum vx_msr_op mop = op->op == VX_KVM_GOP_WRMSR ? VX_MSR_WRITE : VX_MSR_READ;

	r->value = op->value;
	switch (op->op) {
	case VX_KVM_GOP_XGETBV:
		(void)vx_cpu_xgetbv(g->cpu, op->index, &r->value, &r->event);
		break;
	case VX_KVM_GOP_RDMSR:
	case VX_KVM_GOP_WRMSR:
		(void)vx_cpu_msr_access(g->cpu, VX_MSR_GUEST, mop, op->index, &r->value, &r->event);
		break;
	case VX_KVM_GOP_SET_REG:
		(void)vx_cpu_set_reg(g->cpu, op->reg, op->data, op->width, &r->event);
		break;
	case VX_KVM_GOP_GET_REG:
		(void)vx_cpu_get_reg(g->cpu, op->reg, r->data, op->width);
		memcpy(&r->value, r->data, op->width < 8 ? op->width : 8);
		break;
	case VX_KVM_GOP_USE:
		(void)vx_cpu_use(g->cpu, op->components, &r->event);
		break;
	case VX_KVM_GOP_SETSSBSY:
		(void)vx_cpu_setssbsy(g->cpu, guest_memory(g), &r->event);
		break;
	case VX_KVM_GOP_CLRSSBSY:
		(void)vx_cpu_clrssbsy(g->cpu, guest_memory(g), op->value, &r->value, &r->event);
		break;
	case VX_KVM_GOP_RDSSP:
		(void)vx_cpu_rdssp(g->cpu, true, &r->value, &r->event);
		break;
	case VX_KVM_GOP_XSAVE:
		if (op->index < VX_INSN_COUNT)
			(void)vx_cpu_exec(g->cpu, (enum vx_insn)op->index, 0,
					  &guest_memory(g)->window, op->addr, op->value, &r->event);
		break;
	case VX_KVM_GOP_BRANCH:
		vx_kvm_branch_native(g->cpu, guest_memory(g), op, &r->event);
		break;
	case VX_KVM_GOP_MOV_CR0:
	case VX_KVM_GOP_MOV_CR4:
		/* Reached only at CPL > 0: the processor's #GP(0), no exit (SDM MOV CR). */
		cpl_gp(g, op->cpl);
		break;
	default:
		break;
	}
}

/* #NM from XFD while KVM traps #NM (after the first non-zero XFD write): XFD_ERR read into
 * guest_fpu.xfd_err with IRQs off, then the #NM queued to the guest (vmx.c:6991-7020). */
static void nm_exit(struct guest_ctx *g)
{
	const struct vx_event *ev = &g->run->event;

	if (ev->kind != VX_EVENT_EXCEPTION || ev->vector != VX_VEC_NM ||
	    !g->vcpu->xfd_no_write_intercept)
		return;
	g->run->vm_exits++;
	host_msr(g->cpu, VX_MSR_READ, VX_MSR_IA32_XFD_ERR, &g->vcpu->gfpu.xfd_err);
}

/* XFD_ERR switching around the run (x86.c:11312-11313, 11411-11412). */
static void xfd_err_entry(struct guest_ctx *g)
{
	uint64_t v = g->vcpu->gfpu.xfd_err;

	if (v)
		host_msr(g->cpu, VX_MSR_WRITE, VX_MSR_IA32_XFD_ERR, &v);
}

static void xfd_err_exit(struct guest_ctx *g)
{
	uint64_t zero = 0;

	if (g->vcpu->gfpu.xfd_err)
		host_msr(g->cpu, VX_MSR_WRITE, VX_MSR_IA32_XFD_ERR, &zero);
}

static bool privileged(const struct vx_kvm_guest_op *op)
{
	return op->op == VX_KVM_GOP_RDMSR || op->op == VX_KVM_GOP_WRMSR ||
	       op->op == VX_KVM_GOP_MOV_CR4 || op->op == VX_KVM_GOP_MOV_CR0;
}

/* Does @op exit to KVM before executing (intercepted), after the privilege check? */
static bool exits_to_kvm(const struct guest_ctx *g, const struct vx_kvm_guest_op *op)
{
	if (op->op == VX_KVM_GOP_XSETBV)
		return true; /* the #UD/CPL checks are in __kvm_set_xcr's caller (kvm_regs.h) */
	if (op->op == VX_KVM_GOP_BRANCH)
		return vx_kvm_branch_exits(op); /* emulated, or a task switch (kvm_emulate.h) */
	if (privileged(op) && op->cpl != 0)
		return false; /* #GP(0) from the processor, no exit */
	if (op->op == VX_KVM_GOP_MOV_CR4 || op->op == VX_KVM_GOP_MOV_CR0)
		return true;
	if (op->op == VX_KVM_GOP_RDMSR || op->op == VX_KVM_GOP_WRMSR)
		return !msr_passthrough(g->vcpu, op->index, op->op == VX_KVM_GOP_WRMSR);
	return false;
}

static int handle_kvm_exit(struct guest_ctx *g, const struct vx_kvm_guest_op *op)
{
	int rc;

	if (op->op == VX_KVM_GOP_XSETBV)
		return exit_xsetbv(g, op);
	if (op->op == VX_KVM_GOP_BRANCH)
		return vx_kvm_branch_exit(g->vcpu, op, g->run);
	if (op->op == VX_KVM_GOP_MOV_CR4 || op->op == VX_KVM_GOP_MOV_CR0)
		return exit_mov_cr(g, op);
	rc = exit_msr(g, op, op->op == VX_KVM_GOP_WRMSR);
	/* kvm-lazy: an intercepted non-zero PL0-2_SSP write starts passing them through. */
	if (op->op == VX_KVM_GOP_WRMSR && op->index >= VX_MSR_IA32_PL0_SSP &&
	    op->index <= VX_MSR_IA32_PL2_SSP && g->run->event.kind == VX_EVENT_NONE) {
		g->vcpu->design.intercepted_writes++;
		vx_kvm_design_pl_written(g->vcpu, g->cpu_index, op->value);
	}
	return rc;
}

/* x87/SSE registers the emulator moves (FNSTCW/FNSTSW, MOVDQU), by name prefix. */
static bool emulated_move(const struct vx_kvm_guest_op *op)
{
	const char *name = op->reg ? op->reg->name : "";

	if (op->reg && op->reg->component == VX_COMP_SSE)
		return strncmp(name, "xmm", 3) == 0; /* MOVDQU; LDMXCSR/STMXCSR stop */
	if (op->reg && op->reg->component == VX_COMP_X87)
		return op->op == VX_KVM_GOP_GET_REG &&
		       (strcmp(name, "fcw") == 0 || strcmp(name, "fsw") == 0); /* FNSTCW/FNSTSW */
	return op->reg && op->reg->component >= VX_COMP_LIMIT; /* not a vector register */
}

/*
 * Quirk pvm-cpl0-emulated: kvm_pvm runs CPL0 guest code in KVM's instruction emulator, which
 * stops (KVM_EXIT_INTERNAL_ERROR, RIP on the instruction) at XGETBV, XSAVE-family
 * instructions, RDSSP, SSE arithmetic, VEX/EVEX and x87 loads (measured; quirks.c).
 */
static bool pvm_emulator_stops(const struct guest_ctx *g, const struct vx_kvm_guest_op *op)
{
	if (op->cpl != 0 ||
	    !(g->vcpu->vm->kvm->opts.quirks & VX_BIT(VX_KVM_QUIRK_PVM_CPL0_EMULATED)))
		return false;
	switch (op->op) {
	case VX_KVM_GOP_XGETBV:
	case VX_KVM_GOP_XSAVE:
	case VX_KVM_GOP_RDSSP:
	case VX_KVM_GOP_USE:
		return true;
	case VX_KVM_GOP_SET_REG:
	case VX_KVM_GOP_GET_REG:
		return !emulated_move(op);
	default:
		return false;
	}
}

/* One guest instruction; returns 1 when it exits to userspace after it, 2 before it. */
static int run_op(struct guest_ctx *g, const struct vx_kvm_guest_op *op)
{
	bool to_kvm = exits_to_kvm(g, op);
	int rc;

	if (pvm_emulator_stops(g, op)) {
		g->run->exit_reason = VX_KVM_EXIT_INTERNAL_ERROR;
		return 2;
	}
	rc = vm_entry(g, op->cpl);

	if (rc)
		return rc;
	memset(&g->run->event, 0, sizeof(g->run->event));
	xfd_err_entry(g);
	if (!to_kvm && op->op != VX_KVM_GOP_OUT && op->op != VX_KVM_GOP_HLT)
		in_guest(g, op);
	nm_exit(g);
	xfd_err_exit(g);
	vm_exit(g);
	if (to_kvm)
		return handle_kvm_exit(g, op);
	if (op->op == VX_KVM_GOP_OUT || op->op == VX_KVM_GOP_HLT) {
		g->run->exit_reason = op->op == VX_KVM_GOP_OUT ? VX_KVM_EXIT_IO : VX_KVM_EXIT_HLT;
		return 1;
	}
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_RUN                                                                                      */

static int run_checks(const struct vx_kvm_vcpu *vcpu, const struct vx_fpu_task *task,
		      const struct vx_kvm_run *run, struct vx_error *err)
{
	/* vCPU ioctls from another mm fail with -EIO (kvm_vcpu_ioctl). */
	if (vx_fpu_task_process(task) != vcpu->vm->owner)
		return vx_error_set(err, -EIO, "KVM_RUN", "the thread is not in the VM's process");
	/* One thread at a time holds the vCPU mutex. */
	if (vcpu->in_run && vcpu->run_task != task)
		return vx_error_set(err, -EBUSY, "KVM_RUN", "another thread is running vCPU %u",
				    vcpu->id);
	if (!run || (run->count && !run->ops) || run->pc > run->count)
		return vx_error_set(err, -EINVAL, "KVM_RUN", "no guest program (or pc past it)");
	return 0;
}

/* vcpu_load + kvm_load_guest_fpu (§6.2). */
static int run_begin(struct vx_kvm_vcpu *vcpu, struct vx_fpu_task *task, unsigned cpu,
		     struct vx_error *err)
{
	int rc = vx_kvm_sched(vcpu->vm->kvm, task, cpu, err);

	if (rc)
		return rc;
	rc = vx_fpu_swap_kvm_fpstate(task, &vcpu->gfpu, true, err);
	if (rc)
		return rc;
	vcpu->in_run = true;
	vcpu->run_task = task;
	vcpu->has_run = true;
	sched_in(vcpu, cpu);
	return 0;
}

/* kvm_put_guest_fpu + vcpu_put, then the return to user mode (notifiers, switch_fpu_return). */
static int run_end(struct vx_kvm_vcpu *vcpu, struct vx_fpu_task *task, struct vx_error *err)
{
	int cpu = task_cpu(task);
	int rc = vx_fpu_swap_kvm_fpstate(task, &vcpu->gfpu, false, err);

	if (rc)
		return rc;
	sched_out(vcpu, (unsigned)cpu);
	vcpu->in_run = false;
	vcpu->run_task = NULL;
	return vx_kvm_return_to_user(vcpu->vm->kvm, task, err);
}

/*
 * The thread inside KVM_RUN is killed (its VM is being destroyed): it is brought back on a CPU
 * if it was switched out and leaves KVM_RUN as a signal would make it, so the guest fpstate is
 * uninstalled and can be freed.
 */
void vx_kvm_vcpu_leave_run(struct vx_kvm_vcpu *vcpu)
{
	struct vx_fpu_task *task = vcpu->run_task;
	int cpu;

	if (!vcpu->in_run || !task)
		return;
	cpu = task_cpu(task);
	if (cpu < 0 && vx_kvm_sched(vcpu->vm->kvm, task, 0, NULL) != 0)
		return;
	(void)run_end(vcpu, task, NULL);
}

int vx_kvm_vcpu_run(struct vx_kvm_vcpu *vcpu, struct vx_fpu_task *task, unsigned cpu,
		    struct vx_kvm_run *run, unsigned budget, struct vx_error *err)
{
	struct guest_ctx g = {.vcpu = vcpu, .task = task, .cpu_index = cpu, .run = run, .err = err};
	int rc = run_checks(vcpu, task, run, err), out = 0;

	if (rc)
		return rc;
	rc = vcpu->in_run ? vx_kvm_sched(vcpu->vm->kvm, task, cpu, err)
			  : run_begin(vcpu, task, cpu, err);
	if (rc)
		return rc;
	for (unsigned n = 0; run->pc < run->count && out == 0; n++) {
		if (budget && n == budget)
			return VX_KVM_RUN_PREEMPTED;
		out = run_op(&g, &run->ops[run->pc]);
		if (out < 0)
			return out;
		/* An exit before the instruction leaves RIP on it. */
		if (out != 2)
			run->pc++;
	}
	rc = run_end(vcpu, task, err);
	if (rc)
		return rc;
	return out ? VX_KVM_RUN_EXIT : VX_KVM_RUN_DONE;
}
