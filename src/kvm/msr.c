/* SPDX-License-Identifier: MIT */
/*
 * KVM's XSAVE and CET MSRs (kvm.md §3): one table, one row per MSR - its existence rule, its
 * value check, where it is stored, whether it is XSTATE-managed and when it is in
 * KVM_GET_MSR_INDEX_LIST - with every rule a small function citing its spec line.  The common
 * plumbing of §3.1 sits around the table: kvm_do_msr_access() (a failed read stores 0;
 * KVM_MSR_RET_UNSUPPORTED lets the host read 0 and write 0 to an advertised MSR; ignore_msrs),
 * KVM_GET/SET_MSRS (the count before the first failure, the guest FPU loaded around
 * XSTATE-managed MSRs) and the index lists (§3.3).
 *
 * Storage follows the module's CET_S design (kvm.md §6.3, issue 8): U_CET and PL3_SSP are in
 * the guest fpstate's CET_USER component and, in the all-tasks and guest-only designs,
 * PL0-2_SSP in its CET_KERNEL component - read and written as KVM does, by a raw RDMSR/WRMSR on
 * the model CPU while the guest FPU is loaded (kvm_access_xstate_msr), so every value goes
 * through XRSTORS/XSAVES.  The kvm-* designs keep PL0-2_SSP in KVM's own copy (or in the MSRs
 * of the CPU the vCPU's thread runs on, while loaded).  S_CET, INT_SSP_TAB and the guest SSP
 * are VMCS/VMCB fields.
 */
#include <stdarg.h>
#include <stdio.h>

#include "kvm/msr_internal.h"

/* Handler results (kvm.md §3.1): success, failure (#GP for a guest), KVM_MSR_RET_UNSUPPORTED. */
#define MSR_OK	  0
#define MSR_FAIL  1
#define MSR_UNSUP 2

/* __msr_io(): nmsrs >= MAX_IO_MSRS → -E2BIG (x86.c; 256 → E2BIG measured on this host too). */
#define MAX_IO_MSRS 256u

/* CET control bits (kvm.md §3.1, msr-index.h:517-533). */
#define CET_SHSTK_BITS	UINT64_C(0x3)			    /* 1:0 SHSTK_EN, WRSS_EN */
#define CET_IBT_BITS	(UINT64_C(0x3C) | ~UINT64_C(0x3FF)) /* 5:2 and 63:10 */
#define CET_RESERVED	UINT64_C(0x3C0)			    /* 9:6 */
#define CET_BITMAP_LOW	UINT64_C(0x3000) /* 13:12: (data >> 12) must be a multiple of 4 */
#define CET_SUPPRESS	VX_BIT(10)
#define CET_WAIT_ENDBR	VX_BIT(11)
#define MASK_XTILE_DATA VX_BIT(VX_COMP_XTILEDATA)

/* The one feature MSR the model lists (see vx_kvm_get_msr_feature_index_list). */
#define MSR_IA32_ARCH_CAPABILITIES 0x10Au

struct msr_row;

/* One access: who, which way, and where the value goes. */
struct msr_access {
	struct vx_kvm_vcpu *vcpu;
	const struct msr_row *row;
	bool host;
	bool write;
	uint32_t index;
	uint64_t *data;
	struct vx_error *err;
};

/*
 * struct msr_row - one MSR of kvm.md §3.2.
 * @exists: the existence rule (MSR_OK, MSR_FAIL or MSR_UNSUP).
 * @check:  the value check of a write.
 * @store:  where the value lives (reads fill *data, writes store it).
 * @xstate: is_xstate_managed_msr() for this MSR (NULL: never).
 * @listed: the msrs_to_save rule (NULL: never listed).
 * @pvm_gp: quirk pvm-guest-xstate-msrs-gp applies to it.
 */
struct msr_row {
	uint32_t index;
	const char *name;
	int (*exists)(const struct msr_access *a);
	int (*check)(const struct msr_access *a);
	int (*store)(const struct msr_access *a);
	bool (*xstate)(const struct vx_kvm_vcpu *vcpu);
	bool (*listed)(const struct vx_kvm *kvm);
	bool pvm_gp;
};

static bool cap(const struct vx_kvm_vcpu *vcpu, unsigned feature)
{
	return vx_kvm_vcpu_cap_has(vcpu, feature);
}

static const struct vx_kvm *module_of(const struct msr_access *a)
{
	return a->vcpu->vm->kvm;
}

/* Record why an access failed, naming the MSR, the initiator and the rule; returns @ret. */
static int refuse(const struct msr_access *a, int ret, uint64_t bits, const char *rule,
		  const char *why)
{
	char value[40] = "";

	if (a->write)
		snprintf(value, sizeof(value), " = 0x%llx", (unsigned long long)*a->data);
	vx_error_set(a->err, MSR_FAIL, rule, "%s %s of %s (0x%x)%s: %s", a->host ? "host" : "guest",
		     a->write ? "write" : "read", a->row ? a->row->name : "an MSR", a->index, value,
		     why);
	if (a->err) {
		a->err->msr = a->index;
		a->err->bits = bits;
	}
	return ret;
}

/* ----------------------------------------------------------------------------------------- */
/* Value rules (kvm.md §3.1)                                                                    */

bool vx_kvm_is_noncanonical_msr_address(const struct vx_kvm *kvm, uint64_t address)
{
	/* Width 57 if KVM supports LA57, else 48, whatever the guest's CR4.LA57 (x86.h:300-336). */
	unsigned width = vx_kvm_cap_has(kvm, VX_KF_LA57) ? 57 : 48;
	int64_t extended = (int64_t)(address << (64 - width)) >> (64 - width);

	return (uint64_t)extended != address;
}

static bool cet_invalid(struct vx_error *err, uint64_t bits, const char *why)
{
	vx_error_set(err, MSR_FAIL, "kvm.md §3.1 (kvm_is_valid_u_s_cet, x86.h:717-739)", "%s", why);
	if (err)
		err->bits = bits;
	return false;
}

bool vx_kvm_is_valid_u_s_cet(const struct vx_kvm_vcpu *vcpu, uint64_t data, struct vx_error *err)
{
	/* Bits 9:6 are reserved. */
	if (data & CET_RESERVED)
		return cet_invalid(err, data & CET_RESERVED, "reserved bits 9:6 set");
	/* SHSTK_EN and WRSS_EN (bits 1:0) need the SHSTK cap. */
	if ((data & CET_SHSTK_BITS) && !cap(vcpu, VX_KF_SHSTK))
		return cet_invalid(err, data & CET_SHSTK_BITS,
				   "bits 1:0 (SHSTK_EN/WRSS_EN) without the SHSTK cap");
	/* Bits 5:2 and 63:10 (IBT controls, SUPPRESS, WAIT_ENDBR, bitmap base) need IBT. */
	if ((data & CET_IBT_BITS) && !cap(vcpu, VX_KF_IBT))
		return cet_invalid(err, data & CET_IBT_BITS,
				   "bits 5:2 or 63:10 (IBT controls, legacy bitmap) without the "
				   "IBT cap");
	/* The legacy bitmap base (data >> 12) must be a multiple of 4: bits 13:12 clear. */
	if (data & CET_BITMAP_LOW)
		return cet_invalid(err, data & CET_BITMAP_LOW,
				   "legacy bitmap base bits 13:12 set ((data >> 12) not a multiple "
				   "of 4)");
	/* SUPPRESS (bit 10) and WAIT_ENDBR (bit 11) may not both be set. */
	if ((data & (CET_SUPPRESS | CET_WAIT_ENDBR)) == (CET_SUPPRESS | CET_WAIT_ENDBR))
		return cet_invalid(err, CET_SUPPRESS | CET_WAIT_ENDBR,
				   "SUPPRESS and WAIT_ENDBR both set");
	return true;
}

/* ----------------------------------------------------------------------------------------- */
/* Existence rules (kvm.md §3.2)                                                                */

/* IA32_XSS: writes need XSAVES in guest CPUID (guest_cpuid_has, §1.5), host writes too. */
static int xss_exists(const struct msr_access *a)
{
	if (vx_kvm_vcpu_cpuid_has(a->vcpu, VX_KF_XSAVES))
		return MSR_OK;
	/* Write without XSAVES in guest CPUID → UNSUP, host included (x86.c:4125-4135). */
	if (a->write)
		return refuse(a, MSR_UNSUP, 0, "kvm.md §3.2 (x86.c:4125-4135)",
			      "guest CPUID lacks XSAVES");
	/* Guest read without XSAVES in CPUID → #GP; host reads always work (x86.c:4585-4590). */
	if (!a->host)
		return refuse(a, MSR_FAIL, 0, "kvm.md §3.2 (x86.c:4585-4590)",
			      "guest CPUID lacks XSAVES");
	return MSR_OK;
}

/* IA32_XFD, IA32_XFD_ERR: a guest needs the XFD cap, the host does not (x86.c:4295-4313,
 * 4654-4666). */
static int xfd_exists(const struct msr_access *a)
{
	if (!a->host && !cap(a->vcpu, VX_KF_XFD))
		return refuse(a, MSR_FAIL, 0, "kvm.md §3.2 (x86.c:4295-4313, 4654-4666)",
			      "the vCPU has no XFD cap");
	return MSR_OK;
}

/* U_CET, S_CET: cap(SHSTK) or cap(IBT), else UNSUP both ways (x86.c:1899-1905, 1981-1985). */
static int cet_ctl_exists(const struct msr_access *a)
{
	if (!cap(a->vcpu, VX_KF_SHSTK) && !cap(a->vcpu, VX_KF_IBT))
		return refuse(a, MSR_UNSUP, 0, "kvm.md §3.2 (x86.c:1899-1905, 1981-1985)",
			      "the vCPU has neither the SHSTK nor the IBT cap");
	return MSR_OK;
}

/* PL0-3_SSP: cap(SHSTK), else UNSUP (x86.c:1922-1924, 1991-1993). */
static int ssp_exists(const struct msr_access *a)
{
	if (!cap(a->vcpu, VX_KF_SHSTK))
		return refuse(a, MSR_UNSUP, 0, "kvm.md §3.2 (x86.c:1922-1924, 1991-1993)",
			      "the vCPU has no SHSTK cap");
	return MSR_OK;
}

/* INT_SSP_TAB: cap(SHSTK); writes also need cap(LM) (x86.c:1922-1930, 1991-1993). */
static int int_ssp_tab_exists(const struct msr_access *a)
{
	int rc = ssp_exists(a);

	if (rc)
		return rc;
	/* Writes only: the read side checks SHSTK alone. */
	if (a->write && !cap(a->vcpu, VX_KF_LM))
		return refuse(a, MSR_UNSUP, 0, "kvm.md §3.2 (x86.c:1922-1930)",
			      "the vCPU has no LM cap");
	return MSR_OK;
}

/* Guest SSP (synthetic index): host-initiated only, then as PLx_SSP (x86.c:1907-1936). */
static int guest_ssp_exists(const struct msr_access *a)
{
	if (!a->host)
		return refuse(a, MSR_FAIL, 0, "kvm.md §3.2 (x86.c:1907-1936)",
			      "the synthetic guest-SSP index is for host-initiated accesses only");
	return ssp_exists(a);
}

/* ----------------------------------------------------------------------------------------- */
/* Value checks of writes (kvm.md §3.2); host writes included                                   */

/* IA32_XSS: data & ~guest_supported_xss → #GP (x86.c:4125-4135). */
static int xss_check(const struct msr_access *a)
{
	uint64_t bad = *a->data & ~a->vcpu->guest_supported_xss;

	if (bad)
		return refuse(a, MSR_FAIL, bad, "kvm.md §3.2 (x86.c:4125-4135)",
			      "bits outside guest_supported_xss (guest CPUID 0xD.1 ECX/EDX ∩ "
			      "supported_xss)");
	return MSR_OK;
}

/* IA32_XFD, IA32_XFD_ERR: data & ~(guest_supported_xcr0 & XTILE_DATA) → #GP (x86.c:4295-4313). */
static int xfd_check(const struct msr_access *a)
{
	uint64_t bad = *a->data & ~(a->vcpu->guest_supported_xcr0 & MASK_XTILE_DATA);

	if (bad)
		return refuse(a, MSR_FAIL, bad, "kvm.md §3.2 (x86.c:4295-4313)",
			      "bits outside guest_supported_xcr0 & XTILE_DATA");
	return MSR_OK;
}

/* U_CET, S_CET: kvm_is_valid_u_s_cet() (§3.1). */
static int u_s_cet_check(const struct msr_access *a)
{
	struct vx_error why = VX_ERROR_INIT;

	if (!vx_kvm_is_valid_u_s_cet(a->vcpu, *a->data, &why))
		return refuse(a, MSR_FAIL, why.bits, why.rule, why.reason);
	return MSR_OK;
}

static int canonical_check(const struct msr_access *a)
{
	if (vx_kvm_is_noncanonical_msr_address(module_of(a), *a->data))
		return refuse(a, MSR_FAIL, *a->data, "kvm.md §3.1-§3.2 (x86.c:1931-1936)",
			      vx_kvm_cap_has(module_of(a), VX_KF_LA57)
				  ? "not canonical (57 bits: KVM supports LA57)"
				  : "not canonical (48 bits: KVM does not support LA57)");
	return MSR_OK;
}

/* PL0-3_SSP and the guest SSP: canonical and 4-byte aligned (x86.c:1931-1936). */
static int ssp_check(const struct msr_access *a)
{
	int rc = canonical_check(a);

	if (rc)
		return rc;
	/* Bits 1:0 must be 0 (all SSPs but INT_SSP_TAB). */
	if (*a->data & 3u)
		return refuse(a, MSR_FAIL, *a->data & 3u, "kvm.md §3.2 (x86.c:1931-1936)",
			      "not 4-byte aligned (bits 1:0 set)");
	return MSR_OK;
}

/* ----------------------------------------------------------------------------------------- */
/* Where the guest fpstate is loaded (kvm_load_guest_fpu, §3.1, §6.2)                           */

static const struct vx_fpstate *fpstate_of(const struct vx_fpu_task *t)
{
	struct vx_fpu_task_info info;

	vx_fpu_task_info(t, &info);
	return info.fpstate;
}

/* The running thread that has the vCPU's guest fpstate installed, or NULL. */
static struct vx_fpu_task *running_holder(const struct vx_kvm_vcpu *vcpu)
{
	struct vx_fpu_machine *m = vcpu->vm->kvm->machine;
	struct vx_fpu_percpu pc;

	for (unsigned c = 0; c < vx_fpu_machine_ncpus(m); c++)
		if (vx_fpu_percpu_get(m, c, &pc) == 0 && pc.current &&
		    fpstate_of(pc.current) == vcpu->gfpu.fpstate)
			return (struct vx_fpu_task *)(uintptr_t)pc.current;
	return NULL;
}

/* A CPU for the vCPU's thread: its last CPU if idle, another idle one, or one whose current
 * thread has no guest fpstate installed (so no vCPU is preempted behind KVM's back). */
static int free_cpu(struct vx_fpu_machine *m, int last)
{
	int best = -1, best_score = 0;

	for (unsigned c = 0; c < vx_fpu_machine_ncpus(m); c++) {
		struct vx_fpu_percpu pc;
		struct vx_fpu_task_info info;
		int score;

		if (vx_fpu_percpu_get(m, c, &pc) != 0)
			continue;
		if (pc.current)
			vx_fpu_task_info(pc.current, &info);
		score = !pc.current ? ((int)c == last ? 3 : 2) : info.task_fpstate ? 0 : 1;
		if (score > best_score) {
			best = (int)c;
			best_score = score;
		}
	}
	return best;
}

static int run_creator(struct vx_kvm_vcpu *vcpu, struct vx_error *err)
{
	struct vx_fpu_task_info info;
	int cpu;

	vx_fpu_task_info(vcpu->creator, &info);
	if (info.cpu >= 0)
		return 0;
	cpu = free_cpu(vcpu->vm->kvm->machine, info.last_cpu);
	if (cpu < 0)
		return vx_error_set(err, -EBUSY, "kvm.md §6.2",
				    "no model CPU can run vCPU %u's thread without preempting a "
				    "vCPU inside KVM_RUN",
				    vcpu->id);
	return vx_fpu_task_schedule(vcpu->creator, (unsigned)cpu, err);
}

int vx_kvm_vcpu_hold_guest_fpu(struct vx_kvm_vcpu *vcpu, struct vx_kvm_fpu_hold *hold,
			       struct vx_error *err)
{
	int rc;

	hold->swapped = false;
	hold->task = vcpu->gfpu.fpstate->in_use ? running_holder(vcpu) : vcpu->creator;
	/* Installed by a thread that is not running: inside KVM_RUN, holding the vCPU mutex. */
	if (!hold->task)
		return vx_error_set(err, -EBUSY, "kvm.md §6.2",
				    "vCPU %u's guest FPU is loaded by a thread that is not running "
				    "(preempted inside KVM_RUN)",
				    vcpu->id);
	if (!vcpu->gfpu.fpstate->in_use) {
		rc = run_creator(vcpu, err);
		if (rc == 0)
			rc = vx_fpu_swap_kvm_fpstate(hold->task, &vcpu->gfpu, true, err);
		if (rc)
			return rc;
		hold->swapped = true;
	}
	/* kvm_fpu_get(): reload the registers if TIF_NEED_FPU_LOAD (arch/x86/kvm/fpu.h:98-110). */
	hold->cpu = vx_fpu_guest_cpu(hold->task, &vcpu->gfpu, err);
	if (!hold->cpu) {
		(void)vx_kvm_vcpu_release_guest_fpu(vcpu, hold, NULL);
		return err && err->code ? err->code : -EINVAL;
	}
	return 0;
}

int vx_kvm_vcpu_release_guest_fpu(struct vx_kvm_vcpu *vcpu, struct vx_kvm_fpu_hold *hold,
				  struct vx_error *err)
{
	if (!hold->swapped)
		return 0;
	hold->swapped = false;
	return vx_fpu_swap_kvm_fpstate(hold->task, &vcpu->gfpu, false, err);
}

/* ----------------------------------------------------------------------------------------- */
/* Storage (kvm.md §3.2 "Storage" lines, §6.3)                                                  */

/* The CPU refused a value KVM's checks let through (U_CET's bitmap base has no canonical check
 * in KVM, §3.1, but WRMSR has one, arch.md §7.2): the kernel's "unchecked MSR access error" is
 * a warning, the MSR keeps its value and KVM reports success.  The model logs it the same way. */
static int unchecked_msr_access(const struct msr_access *a, const struct vx_event *event)
{
	const struct vx_platform *pf = module_of(a)->platform;
	char line[VX_ERROR_REASON_MAX + 64];

	if (!a->write)
		*a->data = 0;
	snprintf(line, sizeof(line), "kvm: unchecked MSR access error: %s to 0x%x: %s",
		 a->write ? "WRMSR" : "RDMSR", a->index, event->reason);
	if (pf->log)
		pf->log(pf->ctx, line);
	return MSR_OK;
}

/* Raw RDMSR/WRMSR of the real MSR on @cpu, host-side (kvm_access_xstate_msr, x86.c:3908-3933). */
static int raw_msr(const struct msr_access *a, struct vx_cpu *cpu)
{
	struct vx_event event;
	int rc = vx_cpu_msr_access(cpu, VX_MSR_HOST, a->write ? VX_MSR_WRITE : VX_MSR_READ,
				   a->index, a->data, &event);

	if (rc < 0)
		return vx_error_set(a->err, rc, "kvm.md §3.1", "raw access to MSR 0x%x failed",
				    a->index);
	return rc ? unchecked_msr_access(a, &event) : MSR_OK;
}

/* U_CET, PL3_SSP (CET_USER) and PL0-2_SSP (CET_KERNEL): the guest FPU loaded, then the MSR. */
static int store_xstate(const struct msr_access *a)
{
	struct vx_kvm_fpu_hold hold;
	int rc = vx_kvm_vcpu_hold_guest_fpu(a->vcpu, &hold, a->err), put;

	if (rc)
		return rc;
	rc = raw_msr(a, hold.cpu);
	put = vx_kvm_vcpu_release_guest_fpu(a->vcpu, &hold, rc ? NULL : a->err);
	return rc ? rc : put;
}

/* kvm-*: KVM's own copy, or the MSRs of the CPU the vCPU's thread runs on while loaded. */
static int store_kvm_copy(const struct msr_access *a)
{
	struct vx_kvm_cet_sw *sw = &a->vcpu->cet_sw;
	uint64_t *slot = &sw->pl_ssp[a->index - VX_MSR_IA32_PL0_SSP];
	struct vx_fpu_task *t = sw->loaded ? running_holder(a->vcpu) : NULL;

	/* Loaded (inside KVM_RUN): the guest's values are in the running thread's CPU. */
	if (sw->loaded)
		return t ? raw_msr(a, vx_fpu_guest_cpu(t, &a->vcpu->gfpu, a->err))
			 : vx_error_set(a->err, -EBUSY, "kvm.md §6.4",
					"vCPU %u's PL0-2_SSP are loaded on a CPU whose thread is "
					"not running",
					a->vcpu->id);
	if (a->write)
		*slot = *a->data;
	else
		*a->data = *slot;
	/* kvm-lazy: a host-restored non-zero value must reach the guest, so the interception ends
	 * and the next vcpu_load loads it (a guest's intercepted write does this in run.c). */
	if (a->write && a->host && *a->data && module_of(a)->opts.design == VX_KVM_CET_KVM_LAZY)
		sw->passthrough = true;
	return MSR_OK;
}

/* PL0-2_SSP: the guest fpstate's CET_KERNEL, or KVM's copy in the kvm-* designs (issue 8). */
static int store_pl012(const struct msr_access *a)
{
	if (vx_kvm_cet_design_kvm_managed(module_of(a)->opts.design))
		return store_kvm_copy(a);
	return store_xstate(a);
}

/* vcpu->arch.ia32_xss; a change marks the CPUID dynamic bits dirty (x86.c:4129-4134). */
static int store_xss(const struct msr_access *a)
{
	struct vx_kvm_vcpu *v = a->vcpu;

	if (!a->write)
		*a->data = v->ia32_xss;
	else if (v->ia32_xss != *a->data) {
		v->ia32_xss = *a->data;
		v->cpuid_dynamic_dirty = true;
	}
	return MSR_OK;
}

/* guest_fpu.fpstate->xfd through fpu_update_guest_xfd() (x86.c:4295-4303, 4654-4659). */
static int store_xfd(const struct msr_access *a)
{
	struct vx_kvm_vcpu *v = a->vcpu;
	struct vx_fpu_task *t = v->gfpu.fpstate->in_use ? running_holder(v) : v->creator;
	int rc;

	if (!a->write) {
		*a->data = v->gfpu.fpstate->xfd;
		return MSR_OK;
	}
	/* The fpstate in use by a thread that is not running: its CPU cannot be reprogrammed. */
	if (!t)
		return vx_error_set(a->err, -EBUSY, "kvm.md §6.2",
				    "vCPU %u's guest FPU is loaded by a thread that is not running",
				    v->id);
	rc = vx_fpu_update_guest_xfd(t, &v->gfpu, *a->data, a->err);
	/* VMX: the first successful non-zero write passes XFD through (vmx.c:2204-2220). */
	if (rc == 0 && *a->data && module_of(a)->opts.flavour == VX_KVM_VMX)
		v->xfd_no_write_intercept = true;
	return rc;
}

/* guest_fpu.xfd_err (x86.c:4305-4313, 4661-4666). */
static int store_xfd_err(const struct msr_access *a)
{
	if (a->write)
		a->vcpu->gfpu.xfd_err = *a->data;
	else
		*a->data = a->vcpu->gfpu.xfd_err;
	return MSR_OK;
}

/* VMCS GUEST_S_CET / GUEST_INTR_SSP_TABLE / GUEST_SSP, VMCB save.s_cet / isst_addr / ssp. */
static int store_vmcs(const struct msr_access *a)
{
	struct vx_kvm_vmcs_cet *vmcs = &a->vcpu->vmcs;
	uint64_t *field = a->index == VX_MSR_IA32_S_CET		? &vmcs->s_cet
			  : a->index == VX_MSR_IA32_INT_SSP_TAB ? &vmcs->int_ssp_tab
								: &vmcs->ssp;

	if (a->write)
		*field = *a->data;
	else
		*a->data = *field;
	return MSR_OK;
}

/* ----------------------------------------------------------------------------------------- */
/* XSTATE management and list rules (kvm.md §3.1, §3.3)                                         */

/* U_CET: with SHSTK or IBT (x86.c:3881-3896). */
static bool xstate_cet_ctl(const struct vx_kvm_vcpu *v)
{
	return cap(v, VX_KF_SHSTK) || cap(v, VX_KF_IBT);
}

/* PL3_SSP: with SHSTK (x86.c:3881-3896). */
static bool xstate_ssp(const struct vx_kvm_vcpu *v)
{
	return cap(v, VX_KF_SHSTK);
}

/* PL0-2_SSP: with SHSTK, unless a kvm-* design keeps them out of XSAVE (issue 8). */
static bool xstate_pl012(const struct vx_kvm_vcpu *v)
{
	return cap(v, VX_KF_SHSTK) && !vx_kvm_cet_design_kvm_managed(v->vm->kvm->opts.design);
}

/* XFD, XFD_ERR: KVM cap XFD (x86.c:7691-7694). */
static bool listed_xfd(const struct vx_kvm *kvm)
{
	return vx_kvm_cap_has(kvm, VX_KF_XFD);
}

/* XSS: supported_xss != 0 (x86.c:7700-7703). */
static bool listed_xss(const struct vx_kvm *kvm)
{
	return kvm->supported_xss != 0;
}

/* U_CET, S_CET: KVM cap SHSTK or IBT (x86.c:7704-7708). */
static bool listed_cet_ctl(const struct vx_kvm *kvm)
{
	return vx_kvm_cap_has(kvm, VX_KF_SHSTK) || vx_kvm_cap_has(kvm, VX_KF_IBT);
}

/* PL0-3_SSP: KVM cap SHSTK. */
static bool listed_ssp(const struct vx_kvm *kvm)
{
	return vx_kvm_cap_has(kvm, VX_KF_SHSTK);
}

/* INT_SSP_TAB: KVM cap LM and SHSTK (x86.c:7710-7717). */
static bool listed_int_ssp_tab(const struct vx_kvm *kvm)
{
	return vx_kvm_cap_has(kvm, VX_KF_LM) && vx_kvm_cap_has(kvm, VX_KF_SHSTK);
}

/* ----------------------------------------------------------------------------------------- */
/* The table (kvm.md §3.2), in msrs_to_save_base order (§3.3); the guest SSP is never listed.   */

static const struct msr_row msr_rows[] = {
    {VX_MSR_IA32_XFD, "IA32_XFD", xfd_exists, xfd_check, store_xfd, NULL, listed_xfd, true},
    {VX_MSR_IA32_XFD_ERR, "IA32_XFD_ERR", xfd_exists, xfd_check, store_xfd_err, NULL, listed_xfd,
     true},
    {VX_MSR_IA32_XSS, "IA32_XSS", xss_exists, xss_check, store_xss, NULL, listed_xss, true},
    {VX_MSR_IA32_U_CET, "IA32_U_CET", cet_ctl_exists, u_s_cet_check, store_xstate, xstate_cet_ctl,
     listed_cet_ctl, false},
    {VX_MSR_IA32_S_CET, "IA32_S_CET", cet_ctl_exists, u_s_cet_check, store_vmcs, NULL,
     listed_cet_ctl, false},
    {VX_MSR_IA32_PL0_SSP, "IA32_PL0_SSP", ssp_exists, ssp_check, store_pl012, xstate_pl012,
     listed_ssp, false},
    {VX_MSR_IA32_PL1_SSP, "IA32_PL1_SSP", ssp_exists, ssp_check, store_pl012, xstate_pl012,
     listed_ssp, false},
    {VX_MSR_IA32_PL2_SSP, "IA32_PL2_SSP", ssp_exists, ssp_check, store_pl012, xstate_pl012,
     listed_ssp, false},
    {VX_MSR_IA32_PL3_SSP, "IA32_PL3_SSP", ssp_exists, ssp_check, store_xstate, xstate_ssp,
     listed_ssp, false},
    {VX_MSR_IA32_INT_SSP_TAB, "IA32_INT_SSP_TAB", int_ssp_tab_exists, canonical_check, store_vmcs,
     NULL, listed_int_ssp_tab, false},
    {VX_MSR_KVM_INTERNAL_GUEST_SSP, "guest SSP (MSR_KVM_INTERNAL_GUEST_SSP)", guest_ssp_exists,
     ssp_check, store_vmcs, NULL, NULL, false},
};

#define MSR_ROWS (sizeof(msr_rows) / sizeof(msr_rows[0]))

static const struct msr_row *find_row(uint32_t index)
{
	for (size_t i = 0; i < MSR_ROWS; i++)
		if (msr_rows[i].index == index)
			return &msr_rows[i];
	return NULL;
}

bool vx_kvm_is_xstate_managed_msr(const struct vx_kvm_vcpu *vcpu, uint32_t index)
{
	const struct msr_row *row = find_row(index);

	return row && row->xstate && row->xstate(vcpu);
}

/* kvm_probe_msr_to_save(): RDMSR succeeds on the host and the row's rule holds (§3.3). */
static bool to_save(const struct vx_kvm *kvm, const struct msr_row *row)
{
	struct vx_cpu *cpu0 = vx_fpu_machine_cpu(kvm->machine, 0);
	uint64_t value = 0;

	return row->listed && row->listed(kvm) &&
	       vx_cpu_msr_access(cpu0, VX_MSR_HOST, VX_MSR_READ, row->index, &value, NULL) == 0;
}

/* emulated_msrs: the model emulates none of KVM's (its MSRs are all of §3.2), so only
 * msrs_to_save counts. */
bool vx_kvm_msr_advertised(const struct vx_kvm *kvm, uint32_t index)
{
	const struct msr_row *row = find_row(index);

	return row && to_save(kvm, row);
}

/* ----------------------------------------------------------------------------------------- */
/* One access: __kvm_get_msr/__kvm_set_msr inside kvm_do_msr_access() (kvm.md §3.1)             */

/* The quirks that replace upstream's rules for a flavour (quirks.c, host-kvm.md). */
static int quirks(const struct msr_access *a)
{
	uint64_t q = module_of(a)->opts.quirks;

	/* Quirk pvm-guest-xstate-msrs-gp: guest RDMSR/WRMSR of XSS, XFD, XFD_ERR → #GP(0). */
	if (!a->host && a->row->pvm_gp && (q & VX_BIT(VX_KVM_QUIRK_PVM_GUEST_XSTATE_MSRS_GP)))
		return refuse(a, MSR_FAIL, 0, "quirk pvm-guest-xstate-msrs-gp (host-kvm.md)",
			      "kvm_pvm refuses it to the guest");
	/* Quirk pvm-xss-host-write-fails: host writes of IA32_XSS fail, 0 included (a plain
	 * failure: this host runs ignore_msrs=N, so whether it would be ignored is unknown). */
	if (a->host && a->write && a->index == VX_MSR_IA32_XSS &&
	    (q & VX_BIT(VX_KVM_QUIRK_PVM_XSS_HOST_WRITE_FAILS)))
		return refuse(a, MSR_FAIL, 0, "quirk pvm-xss-host-write-fails (host-kvm.md)",
			      "kvm_pvm refuses every host write of IA32_XSS");
	return MSR_OK;
}

static int row_access(const struct msr_access *a)
{
	int rc = quirks(a);

	if (rc == MSR_OK)
		rc = a->row->exists(a);
	if (rc == MSR_OK && a->write)
		rc = a->row->check(a);
	if (rc == MSR_OK)
		rc = a->row->store(a);
	return rc;
}

/* kvm_do_msr_access(): 0, 1, or a negative errno when the model cannot reach the vCPU. */
static int do_msr(struct vx_kvm_vcpu *vcpu, bool host, bool write, uint32_t index, uint64_t *data,
		  struct vx_error *err)
{
	struct msr_access a = {vcpu, find_row(index), host, write, index, data, err};
	int rc = a.row ? row_access(&a)
		       : refuse(&a, MSR_UNSUP, 0, "kvm.md §3",
				"not an MSR this model implements (only those of kvm.md §3.2)");

	/* A failed read stores 0 (x86.c:516-552). */
	if (rc && !write)
		*data = 0;
	if (rc != MSR_UNSUP)
		return rc;
	/* UNSUP, host-initiated, advertised and 0: reads give 0, writes of 0 succeed (§3.1). */
	if (host && *data == 0 && vx_kvm_msr_advertised(vcpu->vm->kvm, index)) {
		vx_error_clear(err);
		return MSR_OK;
	}
	/* ignore_msrs: UNSUP accesses are ignored, reads returning 0 (§3.1). */
	if (vcpu->vm->kvm->opts.ignore_msrs) {
		vx_error_clear(err);
		return MSR_OK;
	}
	return MSR_FAIL;
}

int vx_kvm_vcpu_get_msr(struct vx_kvm_vcpu *vcpu, bool host, uint32_t index, uint64_t *data,
			struct vx_error *err)
{
	if (!vcpu || !data)
		return vx_error_set(err, -EINVAL, "kvm.md §3.1", "no vCPU or no data pointer");
	return do_msr(vcpu, host, false, index, data, err);
}

int vx_kvm_vcpu_set_msr(struct vx_kvm_vcpu *vcpu, bool host, uint32_t index, uint64_t data,
			struct vx_error *err)
{
	if (!vcpu)
		return vx_error_set(err, -EINVAL, "kvm.md §3.1", "no vCPU");
	return do_msr(vcpu, host, true, index, &data, err);
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_GET_MSRS / KVM_SET_MSRS (__msr_io, kvm.md §3.1)                                          */

static int msr_io_checks(const void *entries, uint32_t nmsrs, struct vx_error *err)
{
	/* nmsrs >= MAX_IO_MSRS → -E2BIG. */
	if (nmsrs >= MAX_IO_MSRS)
		return vx_error_set(err, -E2BIG, "kvm.md §3.1 (__msr_io)", "nmsrs %u >= %u", nmsrs,
				    MAX_IO_MSRS);
	/* The entries cannot be copied in. */
	if (nmsrs && !entries)
		return vx_error_set(err, -EFAULT, "kvm.md §3.1 (__msr_io)", "no entries");
	return 0;
}

/* The loop of __msr_io(): the guest FPU loaded before the first XSTATE-managed MSR and put
 * after the batch; the count of entries processed before the first failure. */
static int msr_io(struct vx_kvm_vcpu *vcpu, struct vx_kvm_msr_entry *entries, uint32_t nmsrs,
		  bool write, struct vx_error *err)
{
	struct vx_kvm_fpu_hold hold = {NULL, NULL, false};
	bool loaded = false;
	uint32_t i;
	int rc = 0;

	for (i = 0; i < nmsrs; i++) {
		if (!loaded && vx_kvm_is_xstate_managed_msr(vcpu, entries[i].index)) {
			rc = vx_kvm_vcpu_hold_guest_fpu(vcpu, &hold, err);
			if (rc)
				break;
			loaded = true;
		}
		rc = do_msr(vcpu, true, write, entries[i].index, &entries[i].data, err);
		if (rc)
			break;
	}
	if (loaded)
		(void)vx_kvm_vcpu_release_guest_fpu(vcpu, &hold, NULL);
	/* The model could not load the guest FPU before anything was done: the ioctl fails. */
	if (rc < 0 && i == 0)
		return rc;
	return (int)i;
}

int vx_kvm_vcpu_get_msrs(struct vx_kvm_vcpu *vcpu, struct vx_kvm_msr_entry *entries, uint32_t nmsrs,
			 struct vx_error *err)
{
	int rc = vcpu ? msr_io_checks(entries, nmsrs, err)
		      : vx_error_set(err, -EINVAL, "kvm.md §3.1", "no vCPU");

	return rc ? rc : msr_io(vcpu, entries, nmsrs, false, err);
}

int vx_kvm_vcpu_set_msrs(struct vx_kvm_vcpu *vcpu, const struct vx_kvm_msr_entry *entries,
			 uint32_t nmsrs, struct vx_error *err)
{
	struct vx_kvm_msr_entry copy[MAX_IO_MSRS];
	int rc = vcpu ? msr_io_checks(entries, nmsrs, err)
		      : vx_error_set(err, -EINVAL, "kvm.md §3.1", "no vCPU");

	if (rc)
		return rc;
	/* The kernel works on its copy of the user's entries (KVM_SET_MSRS writes nothing back). */
	if (nmsrs)
		memcpy(copy, entries, nmsrs * sizeof(*entries));
	return msr_io(vcpu, copy, nmsrs, true, err);
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_GET_MSR_INDEX_LIST / KVM_GET_MSR_FEATURE_INDEX_LIST (kvm.md §3.3)                        */

/* The count is written back first; too little room → -E2BIG (x86.c:5073-5098). */
static int copy_list(const uint32_t *list, uint32_t count, uint32_t *indices, uint32_t *n,
		     const char *what, struct vx_error *err)
{
	uint32_t room;

	if (!n)
		return vx_error_set(err, -EFAULT, "kvm.md §3.3", "%s: no count", what);
	room = *n;
	*n = count;
	if (room < count)
		return vx_error_set(err, -E2BIG, "kvm.md §3.3", "%s: room for %u, %u MSRs", what,
				    room, count);
	if (count && !indices)
		return vx_error_set(err, -EFAULT, "kvm.md §3.3", "%s: no indices buffer", what);
	if (count)
		memcpy(indices, list, count * sizeof(*list));
	return 0;
}

int vx_kvm_get_msr_index_list(const struct vx_kvm *kvm, uint32_t *indices, uint32_t *n,
			      struct vx_error *err)
{
	uint32_t list[MSR_ROWS];
	uint32_t count = 0;

	if (!kvm)
		return vx_error_set(err, -EINVAL, "kvm.md §3.3", "no module");
	for (size_t i = 0; i < MSR_ROWS; i++)
		if (to_save(kvm, &msr_rows[i]))
			list[count++] = msr_rows[i].index;
	return copy_list(list, count, indices, n, "KVM_GET_MSR_INDEX_LIST", err);
}

/*
 * KVM_GET_MSR_FEATURE_INDEX_LIST: IA32_ARCH_CAPABILITIES only.  KVM emulates it on every host
 * (ARCH_CAPABILITIES is EMULATED_F, kvm.md §1.3), so it is in every KVM's feature list; the
 * others KVM may list (PERF_CAPABILITIES, UCODE_REV, PLATFORM_INFO, the VMX capability MSRs,
 * AMD's DE_CFG) depend on PMU, microcode and vendor state outside this model.  This host's
 * kvm_pvm lists 0x8b, 0x10a, 0x345, 0xce (measured); the model's one entry is among them.
 */
int vx_kvm_get_msr_feature_index_list(const struct vx_kvm *kvm, uint32_t *indices, uint32_t *n,
				      struct vx_error *err)
{
	static const uint32_t features[] = {MSR_IA32_ARCH_CAPABILITIES};

	if (!kvm)
		return vx_error_set(err, -EINVAL, "kvm.md §3.3", "no module");
	return copy_list(features, 1, indices, n, "KVM_GET_MSR_FEATURE_INDEX_LIST", err);
}
