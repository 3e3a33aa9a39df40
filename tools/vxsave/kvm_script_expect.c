/* SPDX-License-Identifier: MIT */
/*
 * `kvm print` and `kvm expect` (kvm_script_internal.h): a vCPU's capability table, CPUID
 * lists as `cpuid -r` prints them, design counters and registers; expectations on the last
 * call's result, the last KVM_RUN's exit and the guest's last event and value, and on what
 * KVM reports now (MSRs, XCR0, ONE_REG, CPUID, caps, counters).  A failed expectation stops
 * the script with `expectation failed: STATEMENT: what was found`.  Reference:
 * docs/kvm-script.md.
 */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "kvm_script_internal.h"

/* ----------------------------------------------------------------------------------------- */
/* print                                                                                        */

KS_RUN(ks_run_print_caps)
{
	static struct vx_kvm_cap_row rows[VX_KVM_MAX_CPUID_ENTRIES];
	struct kvm_script_context *c = context;
	struct kvm_script_vcpu *v;
	unsigned n;
	int rc = ks_find_vcpu(r, c, KS_STMT(stmt)->name, &v);

	if (rc)
		return rc;
	n = vx_kvm_vcpu_cap_table(v->vcpu, rows, VX_KVM_MAX_CPUID_ENTRIES);
	fprintf(r->out,
		"vCPU %s capabilities (guest_supported_xcr0 0x%llx, guest_supported_xss 0x%llx); "
		"features KVM and the guest both lack are not shown:\n",
		v->name, (unsigned long long)vx_kvm_vcpu_guest_supported_xcr0(v->vcpu),
		(unsigned long long)vx_kvm_vcpu_guest_supported_xss(v->vcpu));
	fprintf(r->out, "  %-18s %-12s %-13s %-10s %s\n", "feature", "guest CPUID", "KVM supports",
		"effective", "why");
	for (unsigned i = 0; i < n && i < VX_KVM_MAX_CPUID_ENTRIES; i++) {
		const struct vx_kvm_cap_row *row = &rows[i];

		if (!row->guest_cpuid && !row->kvm_supported && !row->effective)
			continue;
		fprintf(r->out, "  %-18s %-12s %-13s %-10s %s\n",
			vx_kvm_feature_at(row->feature)->name, cli_yes_no(row->guest_cpuid),
			cli_yes_no(row->kvm_supported), cli_yes_no(row->effective), row->why);
	}
	return 0;
}

KS_RUN(ks_run_print_cpuid)
{
	static struct vx_kvm_cpuid_entry entries[VX_KVM_MAX_CPUID_ENTRIES];
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;
	long long got;
	int rc = ks_need_module(r, c);

	if (!rc)
		rc = ks_cpuid_of(r, c, s->name, entries, &n, &got, &err);
	if (rc)
		return rc;
	if (got < 0)
		return fs_model_error(r, (int)got, "CPUID", &err);
	fprintf(r->out, "CPUID of %s (%u entries, as 'cpuid -r' prints them):\n", s->name, n);
	for (uint32_t i = 0; i < n; i++)
		fprintf(r->out, "   0x%08x 0x%02x: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n",
			entries[i].function, entries[i].index, entries[i].eax, entries[i].ebx,
			entries[i].ecx, entries[i].edx);
	return 0;
}

static uint64_t counter(const struct kvm_script_vcpu *v, uint64_t which)
{
	struct vx_kvm_design_counters d;
	/* Addresses only: d is filled below, before any field is read. */
	/* cppcheck-suppress uninitvar */
	const uint64_t *fields[7] = {&d.msr_reads, &d.msr_writes,   &d.sched_out,
				     &d.sched_in,  &d.user_returns, &d.intercepted_writes,
				     &d.lost};

	vx_kvm_vcpu_design_counters(v->vcpu, &d);
	return which < 7 ? *fields[which] : v->run.vm_exits;
}

KS_RUN(ks_run_print_counters)
{
	struct kvm_script_context *c = context;
	struct kvm_script_vcpu *v;
	int rc = ks_find_vcpu(r, c, KS_STMT(stmt)->name, &v);

	if (rc)
		return rc;
	fprintf(r->out, "vCPU %s, design %s:", v->name, vx_kvm_cet_design_name(c->design));
	for (unsigned i = 0; ks_counters[i].name; i++)
		fprintf(r->out, "%s %s %llu", i ? "," : "", ks_counters[i].name,
			(unsigned long long)counter(v, ks_counters[i].value));
	fputc('\n', r->out);
	return 0;
}

/* One register through KVM_GET_MSRS; "failed" when KVM refuses it. */
static int read_msr(struct kvm_script_context *c, struct kvm_script_vcpu *v, uint32_t index,
		    uint64_t *value, struct vx_error *err)
{
	struct vx_kvm_msr_entry e = {index, 0, 0};
	int rc = kb_msrs(c, v, false, &e, 1, err);

	*value = e.data;
	return rc == 1 ? 0 : rc < 0 ? rc : -EINVAL;
}

static void print_msr_line(struct sg_runner *r, struct kvm_script_context *c,
			   struct kvm_script_vcpu *v, uint32_t index)
{
	struct vx_error err = VX_ERROR_INIT;
	uint64_t value;
	char name[40];

	ks_msr_name(index, name, sizeof(name));
	if (read_msr(c, v, index, &value, &err) == 0)
		fprintf(r->out, "  %-16s 0x%llx\n", name, (unsigned long long)value);
	else
		fprintf(r->out, "  %-16s (KVM_GET_MSRS fails%s%s%s)\n", name,
			err.reason[0] ? ": " : "", err.reason, "");
}

KS_RUN(ks_run_print_vcpu)
{
	static const uint32_t msrs[] = {VX_MSR_IA32_XSS,   VX_MSR_IA32_XFD,   VX_MSR_IA32_XFD_ERR,
					VX_MSR_IA32_U_CET, VX_MSR_IA32_S_CET, VX_MSR_IA32_PL0_SSP};
	struct kvm_script_context *c = context;
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	struct vx_kvm_xcrs xcrs;
	uint64_t cr0 = 0, cr4 = 0;
	int rc = ks_find_vcpu(r, c, KS_STMT(stmt)->name, &v);

	if (rc)
		return rc;
	memset(&xcrs, 0, sizeof(xcrs));
	fprintf(r->out, "vCPU %s (id %u of VM %s):\n", v->name, v->id, c->vms[v->vm].name);
	if (kb_get_xcrs(c, v, &xcrs, &err) >= 0 && xcrs.nr_xcrs)
		fprintf(r->out, "  %-16s 0x%llx\n", "XCR0", (unsigned long long)xcrs.xcrs[0].value);
	if (kb_cr(c, v, false, 0, &cr0, &err) >= 0 && kb_cr(c, v, false, 4, &cr4, &err) >= 0)
		fprintf(r->out, "  %-16s 0x%llx\n  %-16s 0x%llx\n", "CR0", (unsigned long long)cr0,
			"CR4", (unsigned long long)cr4);
	for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		print_msr_line(r, c, v, msrs[i]);
	fprintf(r->out, "  %-16s %d bytes\n", "uABI size", kb_xsave_size(c, v, &err));
	if (c->real)
		return 0;
	fprintf(r->out, "  %-16s 0x%llx\n  %-16s 0x%llx\n  %-16s %u of %u%s\n", "guest_supp_xcr0",
		(unsigned long long)vx_kvm_vcpu_guest_supported_xcr0(v->vcpu), "guest_supp_xss",
		(unsigned long long)vx_kvm_vcpu_guest_supported_xss(v->vcpu), "program at",
		v->run.pc, v->nops, vx_kvm_vcpu_in_run(v->vcpu) ? " (inside KVM_RUN)" : "");
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* expect                                                                                       */

static int expect_u64(struct sg_runner *r, const struct sg_stmt *stmt, const char *what,
		      uint64_t actual, uint64_t wanted)
{
	char found[96];

	if (actual == wanted)
		return 0;
	snprintf(found, sizeof(found), "%s is 0x%llx", what, (unsigned long long)actual);
	return fs_expect_failed(r, stmt, found);
}

/* KVM refused the read an expectation needs: it fails, saying why. */
static int read_failed(struct sg_runner *r, const struct sg_stmt *stmt, const char *call, int rc,
		       const struct vx_error *err)
{
	char found[VX_ERROR_REASON_MAX + 64];
	char text[32];

	fs_format_result(text, sizeof(text), rc);
	snprintf(found, sizeof(found), "%s failed: %s%s%s%s", call, text,
		 err->reason[0] ? " (" : "", err->reason, err->reason[0] ? ")" : "");
	return fs_expect_failed(r, stmt, found);
}

KS_RUN(ks_run_expect_result)
{
	const struct kvm_script_context *c = context;
	char found[128], text[48];

	if (c->result == KS_STMT(stmt)->result)
		return 0;
	if (c->result >= 0)
		snprintf(text, sizeof(text), "%lld (0x%llx)", c->result,
			 (unsigned long long)c->result);
	else
		fs_format_result(text, sizeof(text), c->result);
	snprintf(found, sizeof(found), "%s returned %s", c->result_what, text);
	return fs_expect_failed(r, stmt, found);
}

static bool exit_matches(const struct kvm_script_vcpu *v, uint64_t wanted)
{
	if (wanted >= 0x100)
		return (uint64_t)v->status == wanted - 0x100;
	return v->status == VX_KVM_RUN_EXIT && v->run.exit_reason == wanted;
}

KS_RUN(ks_run_expect_exit)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct kvm_script_vcpu *v;
	char found[96], text[64];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	if (v->status >= 0 && exit_matches(v, s->option))
		return 0;
	if (v->status < 0)
		snprintf(found, sizeof(found), "%s has not run", v->name);
	else if (v->status == VX_KVM_RUN_EXIT)
		snprintf(found, sizeof(found), "the last KVM_RUN came back with exit %s",
			 fs_choice_name(ks_exits, v->run.exit_reason));
	else
		snprintf(found, sizeof(found), "the last KVM_RUN %s",
			 v->status == VX_KVM_RUN_DONE ? "ended with the program (done)"
						      : "was preempted");
	(void)text;
	return fs_expect_failed(r, stmt, found);
}

static bool event_matches(const struct vx_event *ev, const struct ks_event *want)
{
	if (want->none)
		return ev->kind == VX_EVENT_NONE;
	return ev->kind == VX_EVENT_EXCEPTION && ev->vector == want->fault.vector &&
	       (!want->fault.has_code || ev->error_code == want->fault.code);
}

KS_RUN(ks_run_expect_event)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct kvm_script_vcpu *v;
	char found[300], name[48];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	if (v->run.pc == 0)
		return fs_expect_failed(r, stmt, "no guest instruction has run");
	if (event_matches(&v->run.event, &s->event))
		return 0;
	if (v->run.event.kind == VX_EVENT_NONE)
		snprintf(found, sizeof(found), "the last guest instruction raised nothing");
	else
		snprintf(found, sizeof(found), "the guest took %s (%s)",
			 vx_event_name(&v->run.event, name, sizeof(name)), v->run.event.reason);
	return fs_expect_failed(r, stmt, found);
}

/* The last guest instruction's result: GET_REG's bytes, or the 64-bit value. */
KS_RUN(ks_run_expect_value)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	const struct vx_kvm_guest_op *last;
	struct kvm_script_vcpu *v;
	uint8_t actual[64], wanted[64];
	size_t width = 8;
	char found[160];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	if (v->run.pc == 0)
		return fs_expect_failed(r, stmt, "no guest instruction has run");
	last = &v->ops[v->run.pc - 1];
	memset(actual, 0, sizeof(actual));
	if (last->op == VX_KVM_GOP_GET_REG) {
		width = last->width;
		memcpy(actual, v->run.data, width);
	} else {
		for (unsigned i = 0; i < 8; i++)
			actual[i] = (uint8_t)(v->run.value >> (8 * i));
	}
	if (!s->bytes.all_ones && s->bytes.length > width)
		return fs_expect_failed(r, stmt, "the value is wider than the result");
	fs_widen(&s->bytes, wanted, width);
	if (memcmp(actual, wanted, width) == 0)
		return 0;
	snprintf(found, sizeof(found), "the last guest instruction (%s) gave 0x%llx%s",
		 vx_kvm_gop_name(last->op), (unsigned long long)v->run.value,
		 width > 8 ? " in its low 8 bytes" : "");
	return fs_expect_failed(r, stmt, found);
}

KS_RUN(ks_run_expect_msr)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	uint64_t value = 0;
	char name[40];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	ks_msr_name(s->msrs.e[0].index, name, sizeof(name));
	rc = read_msr(c, v, s->msrs.e[0].index, &value, &err);
	if (rc)
		return read_failed(r, stmt, "KVM_GET_MSRS", rc, &err);
	return expect_u64(r, stmt, name, value, s->value);
}

KS_RUN(ks_run_expect_xcr0)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	struct vx_kvm_xcrs xcrs;
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	memset(&xcrs, 0, sizeof(xcrs));
	rc = kb_get_xcrs(c, v, &xcrs, &err);
	if (rc < 0)
		return read_failed(r, stmt, "KVM_GET_XCRS", rc, &err);
	if (xcrs.nr_xcrs == 0)
		return fs_expect_failed(r, stmt, "KVM_GET_XCRS returned no XCR");
	return expect_u64(r, stmt, "XCR0", xcrs.xcrs[0].value, s->value);
}

KS_RUN(ks_run_expect_one_reg)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct kvm_script_vcpu *v;
	uint64_t value = 0;
	char id[64];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	rc = kb_one_reg(c, v, false, s->value, &value, &err);
	if (rc < 0)
		return read_failed(r, stmt, "KVM_GET_ONE_REG", rc, &err);
	return expect_u64(r, stmt, ks_reg_id_name(s->value, id, sizeof(id)), value, s->select);
}

/* kvm_find_cpuid_entry(): the index counts only for an entry that says it is significant. */
static const struct vx_kvm_cpuid_entry *find_entry(const struct vx_kvm_cpuid_entry *e, uint32_t n,
						   const struct ks_leaf *leaf)
{
	for (uint32_t i = 0; i < n; i++)
		if (e[i].function == leaf->leaf &&
		    (!(e[i].flags & VX_KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e[i].index == leaf->subleaf))
			return &e[i];
	return NULL;
}

KS_RUN(ks_run_expect_cpuid)
{
	static struct vx_kvm_cpuid_entry entries[VX_KVM_MAX_CPUID_ENTRIES];
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	const struct vx_kvm_cpuid_entry *e;
	struct vx_error err = VX_ERROR_INIT;
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES, regs[4];
	long long got;
	char what[64];
	int rc = ks_need_module(r, c);

	if (!rc)
		rc = ks_cpuid_of(r, c, s->name, entries, &n, &got, &err);
	if (rc)
		return rc;
	if (got < 0)
		return read_failed(r, stmt, "the CPUID call", (int)got, &err);
	e = find_entry(entries, n, &s->leaf);
	snprintf(what, sizeof(what), "0x%x.%u %s", s->leaf.leaf, s->leaf.subleaf,
		 ks_reg_name((unsigned)s->option));
	if (!e)
		return fs_expect_failed(r, stmt, "no such CPUID entry");
	regs[0] = e->eax, regs[1] = e->ebx, regs[2] = e->ecx, regs[3] = e->edx;
	return expect_u64(r, stmt, what,
			  s->has_select ? regs[s->option & 3] & s->select : regs[s->option & 3],
			  s->value);
}

KS_RUN(ks_run_expect_cap)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct kvm_script_vcpu *v;
	char found[96];
	bool has;
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	has = vx_kvm_vcpu_cap_has(v->vcpu, (unsigned)s->option);
	if (has == (s->value != 0))
		return 0;
	snprintf(found, sizeof(found), "the vCPU's %s cap is %s",
		 vx_kvm_feature_at((unsigned)s->option)->name, has ? "set" : "clear");
	return fs_expect_failed(r, stmt, found);
}

KS_RUN(ks_run_expect_counter)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct kvm_script_vcpu *v;
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	return expect_u64(r, stmt, fs_choice_name(ks_counters, s->option), counter(v, s->option),
			  s->value);
}
