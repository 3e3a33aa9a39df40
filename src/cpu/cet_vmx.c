/* SPDX-License-Identifier: MIT */
/*
 * CET at VM entry and exit: the VMX checks and the "load CET state" controls (arch.md §7.11),
 * and the AMD VMCB save-area fields moved by VMRUN/#VMEXIT (§7.12).  The processor is the
 * physical one: VM entry puts the guest's S_CET/SSP/ISST into it, VM exit takes them out and,
 * with the exit control, brings the host's back.  IA32_U_CET and PLx_SSP are not in the VMCS;
 * they move with XSAVES/XRSTORS (the fpu and kvm layers).
 */
#include <errno.h>
#include <stdio.h>

#include "cpu/cet_internal.h"

#define S_CET_RESERVED	 UINT64_C(0x3C0)		     /* §7.2: bits 9:6 */
#define S_CET_SHSTK_BITS UINT64_C(0x3)			     /* §7.2: bits 1:0 */
#define S_CET_IBT_BITS	 (UINT64_C(0x3C) | ~UINT64_C(0x3FF)) /* §7.2: bits 5:2, 63:10 */
#define VMX_FAIL_EXIT	 (VX_EXIT_INVALID_GUEST_STATE | 0x80000000u)

#ifdef __GNUC__
__attribute__((format(printf, 6, 7)))
#endif
static int
vm_fail(struct vx_vmentry_failure *f, enum vx_vmentry_status status, uint32_t field, uint64_t value,
	enum vx_event_cause cause, const char *fmt, ...)
{
	va_list ap;

	f->status = status;
	f->field = field;
	f->value = value;
	f->cause = cause;
	f->rule = "arch.md §7.11";
	va_start(ap, fmt);
	vsnprintf(f->reason, sizeof(f->reason), fmt, ap);
	va_end(ap);
	return (int)status;
}

static int host_fail(struct vx_vmentry_failure *f, uint32_t field, uint64_t value,
		     enum vx_event_cause cause, const char *why)
{
	f->vm_instruction_error = VX_VMX_ERROR_INVALID_HOST;
	return vm_fail(f, VX_VMENTRY_VMFAIL, field, value, cause,
		       "VMfail (invalid host-state field 0x%x = 0x%llx): %s", field,
		       (unsigned long long)value, why);
}

static int guest_fail(struct vx_vmentry_failure *f, uint32_t field, uint64_t value,
		      enum vx_event_cause cause, const char *why)
{
	f->exit_reason = VMX_FAIL_EXIT;
	return vm_fail(f, VX_VMENTRY_INVALID_GUEST, field, value, cause,
		       "VM-entry failure, invalid guest state (field 0x%x = 0x%llx): %s", field,
		       (unsigned long long)value, why);
}

/* §7.11 with §7.2: S_CET "has no reserved bits set and not SUPPRESS+TRACKER"; the feature
 * bits of a missing CET_SS/CET_IBT count as reserved (§7.2, §7.12).  NULL when valid. */
static const char *s_cet_problem(const struct vx_cpu *cpu, uint64_t v, enum vx_event_cause *cause)
{
	*cause = VX_CAUSE_MSR_RESERVED_BITS;
	if (v & S_CET_RESERVED)
		return "S_CET reserved bits 9:6 set";
	if ((v & VX_CET_SUPPRESS) && (v & VX_CET_TRACKER)) {
		*cause = VX_CAUSE_MSR_CONFLICT;
		return "S_CET SUPPRESS and TRACKER both 1";
	}
	if (!cpu->facts.cet_ss && (v & S_CET_SHSTK_BITS))
		return "S_CET shadow-stack bits 1:0 set without CET_SS";
	if (!cpu->facts.cet_ibt && (v & S_CET_IBT_BITS))
		return "S_CET IBT bits 5:2 or 63:10 set without CET_IBT";
	return NULL;
}

/* §7.1/§7.11: CR4.CET = 1 requires CR0.WP = 1 (guest and host). */
static bool cet_wp_ok(uint64_t cr0, uint64_t cr4)
{
	return !(cr4 & VX_CR4_CET) || (cr0 & VX_CR0_WP);
}

/* §7.11 host only: canonical for a 64-bit host, else bits 63:32 = 0. */
static int host_width_check(const struct vx_cpu *cpu, const struct vx_cet_vmcs *v,
			    struct vx_vmentry_failure *f)
{
	const struct {
		uint32_t field;
		uint64_t value;
	} fields[] = {{VX_VMCS_HOST_S_CET, v->host_s_cet}, {VX_VMCS_HOST_SSP, v->host_ssp}};
	bool host64 = v->exit_controls & VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE;

	for (unsigned i = 0; i < 2; i++) {
		if (host64 && !cpu_canonical(cpu, fields[i].value))
			return host_fail(f, fields[i].field, fields[i].value, VX_CAUSE_NONCANONICAL,
					 "not canonical for a 64-bit host");
		if (!host64 && (fields[i].value >> 32))
			return host_fail(f, fields[i].field, fields[i].value,
					 VX_CAUSE_SSP_HIGH_BITS,
					 "bits 63:32 set for a 32-bit host");
	}
	return 0;
}

static int host_checks(const struct vx_cpu *cpu, const struct vx_cet_vmcs *v,
		       struct vx_vmentry_failure *f)
{
	enum vx_event_cause cause = VX_CAUSE_NONE;
	const char *why;

	/* §7.11: host CR4.CET = 1 requires host CR0.WP = 1. */
	if (!cet_wp_ok(v->host_cr0, v->host_cr4))
		return host_fail(f, VX_VMCS_HOST_CR4, v->host_cr4, VX_CAUSE_CR_INVALID,
				 "CR4.CET=1 with CR0.WP=0");
	if (!(v->exit_controls & VX_VMX_EXIT_LOAD_CET))
		return 0;
	/* §7.11: HOST_S_CET without reserved bits or SUPPRESS+TRACKER. */
	why = s_cet_problem(cpu, v->host_s_cet, &cause);
	if (why)
		return host_fail(f, VX_VMCS_HOST_S_CET, v->host_s_cet, cause, why);
	/* §7.11: HOST_SSP bits 1:0 = 0. */
	if (v->host_ssp & 3u)
		return host_fail(f, VX_VMCS_HOST_SSP, v->host_ssp, VX_CAUSE_MISALIGNED,
				 "SSP bits 1:0 are not 0");
	/* §7.11: HOST_INTR_SSP_TABLE canonical. */
	if (!cpu_canonical(cpu, v->host_intr_ssp_table))
		return host_fail(f, VX_VMCS_HOST_INTR_SSP_TABLE, v->host_intr_ssp_table,
				 VX_CAUSE_NONCANONICAL, "not canonical");
	return host_width_check(cpu, v, f);
}

/* §7.11 guest: SSP bits 63:N identical, N = the linear-address width (one bit looser than
 * canonical). */
static bool guest_ssp_upper_ok(const struct vx_cpu *cpu, uint64_t ssp)
{
	unsigned n = cpu->facts.linear_address_bits;
	uint64_t upper;

	if (n >= 64)
		return true;
	upper = ssp >> n;
	return upper == 0 || upper == (UINT64_MAX >> n);
}

static int guest_checks(const struct vx_cpu *cpu, const struct vx_cet_vmcs *v,
			struct vx_vmentry_failure *f)
{
	enum vx_event_cause cause = VX_CAUSE_NONE;
	const char *why;

	/* §7.11: guest CR4.CET = 1 requires guest CR0.WP = 1. */
	if (!cet_wp_ok(v->guest_cr0, v->guest_cr4))
		return guest_fail(f, VX_VMCS_GUEST_CR4, v->guest_cr4, VX_CAUSE_CR_INVALID,
				  "CR4.CET=1 with CR0.WP=0");
	if (!(v->entry_controls & VX_VMX_ENTRY_LOAD_CET))
		return 0;
	/* §7.11: GUEST_S_CET without reserved bits or SUPPRESS+TRACKER. */
	why = s_cet_problem(cpu, v->guest_s_cet, &cause);
	if (why)
		return guest_fail(f, VX_VMCS_GUEST_S_CET, v->guest_s_cet, cause, why);
	/* §7.11: GUEST_SSP bits 1:0 = 0. */
	if (v->guest_ssp & 3u)
		return guest_fail(f, VX_VMCS_GUEST_SSP, v->guest_ssp, VX_CAUSE_MISALIGNED,
				  "SSP bits 1:0 are not 0");
	/* §7.11: GUEST_SSP bits 63:N identical. */
	if (!guest_ssp_upper_ok(cpu, v->guest_ssp))
		return guest_fail(f, VX_VMCS_GUEST_SSP, v->guest_ssp, VX_CAUSE_NONCANONICAL,
				  "SSP bits 63:N (N = linear-address width) not identical");
	/* §7.11: GUEST_INTR_SSP_TABLE canonical. */
	if (!cpu_canonical(cpu, v->guest_intr_ssp_table))
		return guest_fail(f, VX_VMCS_GUEST_INTR_SSP_TABLE, v->guest_intr_ssp_table,
				  VX_CAUSE_NONCANONICAL, "not canonical");
	return 0;
}

static void failure_clear(struct vx_vmentry_failure *f)
{
	memset(f, 0, sizeof(*f));
	f->cause = VX_CAUSE_NONE;
}

int vx_cpu_cet_vmentry_check(const struct vx_cpu *cpu, const struct vx_cet_vmcs *vmcs,
			     struct vx_vmentry_failure *fail)
{
	uint32_t load = VX_VMX_ENTRY_LOAD_CET | VX_VMX_EXIT_LOAD_CET;
	int rc;

	if (!cpu || !vmcs || !fail)
		return -EINVAL;
	failure_clear(fail);
	/* SDM Vol.3 §27.2.1 (controls first): "load CET state" is allowed-1 only with CET. */
	if (((vmcs->entry_controls | vmcs->exit_controls) & load) && !cpu->facts.cet_ss &&
	    !cpu->facts.cet_ibt) {
		fail->vm_instruction_error = VX_VMX_ERROR_INVALID_CONTROL;
		return vm_fail(fail, VX_VMENTRY_VMFAIL, 0, 0, VX_CAUSE_NOT_ENUMERATED,
			       "VMfail (invalid control field): \"load CET state\" on a CPU "
			       "without CET_SS or CET_IBT");
	}
	/* SDM order: host state (VMfail) before guest state (failure exit). */
	rc = host_checks(cpu, vmcs, fail);
	return rc ? rc : guest_checks(cpu, vmcs, fail);
}

/* §7.11: "Only fields the vCPU has": S_CET with CET_SS or CET_IBT; SSP, ISST with CET_SS. */
static void load_cet(struct vx_cpu *cpu, uint64_t s_cet, uint64_t ssp, uint64_t isst)
{
	if (cpu->facts.cet_ss || cpu->facts.cet_ibt)
		cpu->state.s_cet = s_cet;
	if (cpu->facts.cet_ss) {
		cpu->state.ssp = ssp;
		cpu->state.int_ssp_tab = isst;
	}
}

int vx_cpu_cet_vmentry(struct vx_cpu *cpu, const struct vx_cet_vmcs *vmcs,
		       struct vx_vmentry_failure *fail)
{
	int rc = vx_cpu_cet_vmentry_check(cpu, vmcs, fail);

	if (rc)
		return rc;
	/* §7.11: VM-entry control bit 20 loads GUEST_S_CET, GUEST_SSP, GUEST_INTR_SSP_TABLE. */
	if (vmcs->entry_controls & VX_VMX_ENTRY_LOAD_CET)
		load_cet(cpu, vmcs->guest_s_cet, vmcs->guest_ssp, vmcs->guest_intr_ssp_table);
	return 0;
}

int vx_cpu_cet_vmexit(struct vx_cpu *cpu, struct vx_cet_vmcs *vmcs)
{
	if (!cpu || !vmcs)
		return -EINVAL;
	/* §7.11: every VM exit on a CET-capable CPU saves the guest's S_CET, SSP and ISST. */
	if (cpu->facts.cet_ss || cpu->facts.cet_ibt)
		vmcs->guest_s_cet = cpu->state.s_cet;
	if (cpu->facts.cet_ss) {
		vmcs->guest_ssp = cpu->state.ssp;
		vmcs->guest_intr_ssp_table = cpu->state.int_ssp_tab;
	}
	/* §7.11: VM-exit control bit 28 loads the host fields; without it the guest's stay. */
	if (vmcs->exit_controls & VX_VMX_EXIT_LOAD_CET)
		load_cet(cpu, vmcs->host_s_cet, vmcs->host_ssp, vmcs->host_intr_ssp_table);
	return 0;
}

/* ---- AMD ---------------------------------------------------------------------------------- */

static int svm_fail(struct vx_vmentry_failure *f, uint32_t offset, uint64_t value,
		    enum vx_event_cause cause, const char *why)
{
	f->exit_reason = VX_SVM_EXIT_INVALID;
	vm_fail(f, VX_VMENTRY_INVALID_GUEST, offset, value, cause,
		"VMRUN: VMEXIT_INVALID (VMCB 0x%x = 0x%llx): %s", offset, (unsigned long long)value,
		why);
	f->rule = "arch.md §7.12";
	return (int)f->status;
}

/* §7.12 gives no VMRUN checks; the model refuses what WRMSR would (§7.2), see docs. */
static int vmrun_checks(const struct vx_cpu *cpu, const struct vx_cet_vmcb *g,
			struct vx_vmentry_failure *f)
{
	enum vx_event_cause cause = VX_CAUSE_NONE;
	const char *why = s_cet_problem(cpu, g->s_cet, &cause);

	if (why)
		return svm_fail(f, VX_VMCB_S_CET, g->s_cet, cause, why);
	/* §7.2: S_CET (the legacy-bitmap base) canonical. */
	if (!cpu_canonical(cpu, g->s_cet))
		return svm_fail(f, VX_VMCB_S_CET, g->s_cet, VX_CAUSE_NONCANONICAL, "not canonical");
	/* §7.2/§7.12: SSPs canonical and 4-aligned. */
	if (!cpu_canonical(cpu, g->ssp) || (g->ssp & 3u))
		return svm_fail(f, VX_VMCB_SSP, g->ssp,
				g->ssp & 3u ? VX_CAUSE_MISALIGNED : VX_CAUSE_NONCANONICAL,
				"SSP not canonical or bits 1:0 not 0");
	/* §7.2: ISST canonical. */
	if (!cpu_canonical(cpu, g->isst_addr))
		return svm_fail(f, VX_VMCB_ISST_ADDR, g->isst_addr, VX_CAUSE_NONCANONICAL,
				"not canonical");
	return 0;
}

int vx_cpu_cet_vmrun(struct vx_cpu *cpu, const struct vx_cet_vmcb *guest,
		     struct vx_cet_vmcb *host_save, struct vx_vmentry_failure *fail)
{
	int rc;

	if (!cpu || !guest || !host_save || !fail)
		return -EINVAL;
	failure_clear(fail);
	/* §7.12: AMD has shadow stacks only; without CET_SS there is nothing to move. */
	if (!cpu->facts.cet_ss)
		return 0;
	rc = vmrun_checks(cpu, guest, fail);
	if (rc)
		return rc;
	host_save->s_cet = cpu->state.s_cet;
	host_save->ssp = cpu->state.ssp;
	host_save->isst_addr = cpu->state.int_ssp_tab;
	load_cet(cpu, guest->s_cet, guest->ssp, guest->isst_addr);
	return 0;
}

int vx_cpu_cet_svm_vmexit(struct vx_cpu *cpu, struct vx_cet_vmcb *guest,
			  const struct vx_cet_vmcb *host_save)
{
	if (!cpu || !guest || !host_save)
		return -EINVAL;
	if (!cpu->facts.cet_ss)
		return 0;
	guest->s_cet = cpu->state.s_cet;
	guest->ssp = cpu->state.ssp;
	guest->isst_addr = cpu->state.int_ssp_tab;
	load_cet(cpu, host_save->s_cet, host_save->ssp, host_save->isst_addr);
	return 0;
}
