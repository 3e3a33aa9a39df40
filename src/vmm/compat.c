/* SPDX-License-Identifier: MIT */
/*
 * Can a vCPU bundle be restored on another host? (vmm_compat.h, docs/vmm.md "vxsave compat";
 * issue 10).  Static checks first, each a small function naming its rule, from the bundle, the
 * source layout (its profile, or the guest CPUID's leaf 0xD) and the target's model; then the
 * bundle restored into a model vCPU of the target through the kvm layer, in the order a VMM
 * restores, every refusal reported; then what did not stick.  A blob whose only problems are
 * its layout or its size is converted with the vmm layer's converter (vmm.h) and the restore
 * uses the converted blob, so "a conversion is enough" is checked, not assumed.
 */
#include <stdlib.h>

#include <vxsave/vmm.h>

#include "vmm/compat_internal.h"
#include "vmm/vmm_internal.h"

#define RULE_CPUID  "kvm.md §1.4, §1.5"
#define RULE_XCR0   "kvm.md §4.1, §4.3"
#define RULE_XSS    "kvm.md §3.2 MSR_IA32_XSS"
#define RULE_SIZE   "kvm.md §5.1"
#define RULE_LAYOUT "kvm.md §5.1; arch.md §1.4, §2.4"
#define RULE_AMX    "kvm.md §2.5, §2.6"
#define RULE_XFD    "kvm.md §3.2 MSR_IA32_XFD, §6.5, §9"
#define RULE_MSRS   "kvm.md §3.3, §5.4"
#define RULE_MXCSR  "kvm.md §5.3; arch.md §2.2"
#define RULE_DESIGN "kvm.md §6.3, §6.4"
#define RULE_BUNDLE "kvm.md §5.4; anchors.md §3 pains 5-6"

/* The XSAVE and CET MSRs the kvm layer models, in restore order: IA32_XSS first, before
 * anything XRSTORS would use (kvm.md §5.4), then XFD, then the CET registers (§3.2). */
static const struct {
	uint32_t msr;
	enum vx_compat_check check;
} state_msrs[] = {
    {VX_MSR_IA32_XSS, VX_COMPAT_XSS},	       {VX_MSR_IA32_XFD, VX_COMPAT_XFD},
    {VX_MSR_IA32_XFD_ERR, VX_COMPAT_XFD},      {VX_MSR_IA32_U_CET, VX_COMPAT_CET_MSRS},
    {VX_MSR_IA32_S_CET, VX_COMPAT_CET_MSRS},   {VX_MSR_IA32_PL0_SSP, VX_COMPAT_CET_MSRS},
    {VX_MSR_IA32_PL1_SSP, VX_COMPAT_CET_MSRS}, {VX_MSR_IA32_PL2_SSP, VX_COMPAT_CET_MSRS},
    {VX_MSR_IA32_PL3_SSP, VX_COMPAT_CET_MSRS}, {VX_MSR_IA32_INT_SSP_TAB, VX_COMPAT_CET_MSRS},
};

#define NSTATE_MSRS (sizeof(state_msrs) / sizeof(state_msrs[0]))

struct compat {
	const struct vx_vmm_bundle *b;
	const struct vx_compat_target *t;
	struct vx_compat_report *r;
	struct vx_compat_list list;
	struct vx_vmm_host *host, *src_host;
	struct vx_vmm_vcpu *vcpu, *src_vcpu;
	struct vx_kvm *kvm;
	const struct vx_profile *from; /* the source layout */
	bool needs_amx;
	bool target_amx;
	const uint8_t *blob; /* what KVM_SET_XSAVE gets: the bundle's, or @owned */
	uint8_t *owned;	     /* the converted blob */
	uint32_t blob_len;
	bool converted;
	struct vx_vmm_watch *watch; /* the caller's platform: every allocation of the check */
};

/* ----------------------------------------------------------------------------------------- */
/* Findings                                                                                     */

struct vx_compat_finding *vx_compat_add(const struct vx_compat_list *list,
					enum vx_compat_check check,
					enum vx_compat_severity severity, const char *rule,
					const char *fmt, ...)
{
	struct vx_compat_finding *f;
	va_list ap;

	if (*list->count >= list->max) {
		(*list->omitted)++;
		return NULL;
	}
	f = &list->items[(*list->count)++];
	memset(f, 0, sizeof(*f));
	f->check = check;
	f->severity = severity;
	f->rule = rule;
	f->component = -1;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	return f;
}

static const char *mask_text(uint64_t mask, char *buf, size_t len)
{
	vx_format_component_mask(mask, buf, len);
	return buf;
}

const char *vx_compat_check_name(enum vx_compat_check check)
{
	static const char *const names[VX_COMPAT_CHECK_COUNT] = {
	    "cpuid", "xcr0",	 "xss",	  "xsave-size", "layout",  "amx-permission",
	    "xfd",   "cet-msrs", "mxcsr", "cet-design", "restore", "bundle"};

	return (unsigned)check < VX_COMPAT_CHECK_COUNT ? names[check] : NULL;
}

const char *vx_compat_severity_name(enum vx_compat_severity severity)
{
	static const char *const names[] = {"note", "warning", "convert", "refused"};

	return (unsigned)severity <= VX_COMPAT_REFUSED ? names[severity] : NULL;
}

const char *vx_compat_verdict_name(enum vx_compat_verdict verdict)
{
	static const char *const names[] = {"restores", "restores after conversion", "refused"};

	return (unsigned)verdict <= VX_COMPAT_REFUSES ? names[verdict] : NULL;
}

void vx_compat_target_init(struct vx_compat_target *target, const struct vx_profile *profile)
{
	memset(target, 0, sizeof(*target));
	target->profile = *profile;
	target->flavour = vx_profile_vendor(profile) == VX_VENDOR_AMD ? VX_KVM_SVM : VX_KVM_VMX;
	target->design = VX_KVM_CET_GUEST_ONLY;
}

/* ----------------------------------------------------------------------------------------- */
/* Facts                                                                                        */

static bool bundle_msr(const struct compat *c, uint32_t msr, uint64_t *value)
{
	*value = 0;
	return vx_vmm_bundle_msr(c->b, msr, value);
}

static bool target_lists(const struct compat *c, uint32_t msr)
{
	for (uint32_t i = 0; i < c->r->target_nmsrs; i++)
		if (c->r->target_msrs[i] == msr)
			return true;
	return false;
}

static const char *msr_name(uint32_t msr)
{
	const struct vx_msr_info *info = vx_msr_info(msr);

	return info ? info->name : "MSR";
}

/* The guest's XCR0 bits from CPUID 0xD.0 EDX:EAX (kvm.md §1.4 step 5). */
static uint64_t guest_cpuid_xcr0(const struct vx_vmm_bundle *b)
{
	const struct vx_kvm_cpuid_entry *e = vx_vmm_bundle_cpuid(b, 0xD, 0);

	return e ? e->eax | (uint64_t)e->edx << 32 : 0;
}

/* kvm.md §2.5-§2.6: XTILE_DATA in the guest CPUID, the blob or a blob above 4096 bytes. */
static bool bundle_needs_amx(const struct compat *c)
{
	return (guest_cpuid_xcr0(c->b) & VX_MASK_TILEDATA) || (c->r->xstate_bv & VX_MASK_AMX) ||
	       c->b->xsave_len > VX_KVM_XSAVE_SIZE;
}

static void bundle_facts(struct compat *c)
{
	struct vx_compat_report *r = c->r;

	(void)vx_vmm_bundle_xcr0(c->b, &r->xcr0);
	(void)bundle_msr(c, VX_MSR_IA32_XSS, &r->xss);
	(void)bundle_msr(c, VX_MSR_IA32_XFD, &r->xfd);
	r->xstate_bv = vx_vmm_bundle_xstate_bv(c->b);
	r->blob_size = c->b->xsave_len;
	c->needs_amx = bundle_needs_amx(c);
	c->from = c->b->has_profile ? &c->b->profile : &c->t->profile;
	if (c->b->profile_inferred)
		snprintf(r->source_layout, sizeof(r->source_layout), "guest CPUID leaf 0xD");
	else if (c->b->has_profile)
		snprintf(r->source_layout, sizeof(r->source_layout), "profile %s",
			 c->b->profile.name[0] ? c->b->profile.name : "(unnamed)");
	else
		snprintf(r->source_layout, sizeof(r->source_layout),
			 "unknown (taken as the target's)");
}

/* A task of the target's machine holding the guest permission the restore needs: what
 * KVM_CAP_XSAVE2 and KVM_GET_SUPPORTED_CPUID depend on (kvm.md §2.2, §5.1). */
static void target_facts(struct compat *c)
{
	struct vx_fpu_task *task = NULL;
	struct vx_error e = VX_ERROR_INIT;
	uint64_t user = 0;
	uint32_t n = 64;
	int xsave2 = 0;

	c->r->target_supported_xcr0 = vx_kvm_supported_xcr0(c->kvm);
	c->r->target_supported_xss = vx_kvm_supported_xss(c->kvm);
	c->target_amx = (c->r->target_supported_xcr0 & VX_MASK_TILEDATA) != 0;
	if (vx_kvm_get_msr_index_list(c->kvm, c->r->target_msrs, &n, &e) == 0)
		c->r->target_nmsrs = n;
	if (vx_fpu_process_create(vx_kvm_machine(c->kvm), &task, &e) != 0)
		return;
	if (c->needs_amx && c->target_amx)
		(void)vx_fpu_arch_prctl(task, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA,
					&user, &e);
	xsave2 = vx_kvm_check_extension(c->kvm, task, VX_KVM_CAP_XSAVE2);
	c->r->target_xsave2 = xsave2 > 0 ? (uint32_t)xsave2 : 0;
	(void)vx_fpu_task_exit(task, &e);
}

/* ----------------------------------------------------------------------------------------- */
/* The model hosts and vCPUs                                                                   */

static int boot(const struct vx_platform *pf, const struct vx_profile *p, int flavour, int design,
		bool live, struct vx_vmm_host **host, struct vx_error *err)
{
	struct vx_vmm_host_options o;

	vx_vmm_host_options_init(&o);
	o.platform = pf;
	o.flavour = flavour;
	o.design = design >= 0 ? (enum vx_kvm_cet_design)design : VX_KVM_CET_GUEST_ONLY;
	o.live = live;
	return vx_vmm_host_create(p, &o, host, err);
}

/* Which CPUID the vCPU gets: the bundle's, the bundle's without the tiles in 0xD.0, or the
 * host's supported one. */
enum cpuid_choice { OWN_CPUID, OWN_WITHOUT_AMX, SUPPORTED_CPUID };

static int vcpu_with(struct vx_vmm_host *host, const struct vx_vmm_bundle *b, bool amx,
		     enum cpuid_choice choice, struct vx_vmm_vcpu **vcpu, struct vx_error *err)
{
	struct vx_vmm_vcpu_config cfg = {0};
	struct vx_kvm_cpuid_entry *copy = NULL;
	int rc;

	if (choice == OWN_WITHOUT_AMX) {
		copy = vx_vmm_zalloc(host->pf, sizeof(*copy) * (b->ncpuid ? b->ncpuid : 1));
		if (!copy)
			return vx_error_set(err, -ENOMEM, NULL, "out of memory");
		memcpy(copy, b->cpuid, sizeof(*copy) * b->ncpuid);
		for (uint32_t i = 0; i < b->ncpuid; i++)
			if (copy[i].function == 0xD && copy[i].index == 0)
				copy[i].eax &= ~(uint32_t)VX_MASK_AMX;
	}
	cfg.cpuid = choice == OWN_CPUID ? b->cpuid : copy;
	cfg.ncpuid = choice == SUPPORTED_CPUID ? 0 : b->ncpuid;
	cfg.dynamic_perm = amx;
	rc = vx_vmm_vcpu_create(host, &cfg, vcpu, err);
	vx_vmm_free(host->pf, copy);
	return rc;
}

/* KVM_SET_CPUID2 of the bundle's CPUID on the target (kvm.md §2.5).  If refused, the rest of
 * the restore still looks for reasons: on the bundle's CPUID without XTILE_DATA in 0xD.0 (the
 * one dynamic feature, whose missing permission is the -EPERM, §2.5), else on the target's
 * supported CPUID. */
static void target_vcpu(struct compat *c)
{
	struct vx_error e = VX_ERROR_INIT, e2 = VX_ERROR_INIT;
	struct vx_compat_finding *f;
	bool amx = c->needs_amx && c->target_amx;
	enum cpuid_choice used = OWN_WITHOUT_AMX;

	c->r->restore_steps++;
	if (vcpu_with(c->host, c->b, amx, OWN_CPUID, &c->vcpu, &e) == 0)
		return;
	c->r->restore_refusals++;
	if (vcpu_with(c->host, c->b, amx, OWN_WITHOUT_AMX, &c->vcpu, &e2) != 0) {
		used = SUPPORTED_CPUID;
		(void)vcpu_with(c->host, c->b, amx, SUPPORTED_CPUID, &c->vcpu, &e2);
	}
	f = vx_compat_add(&c->list, VX_COMPAT_RESTORE, VX_COMPAT_REFUSED,
			  e.rule ? e.rule : RULE_CPUID,
			  "KVM_SET_CPUID2 of the bundle's %u entries: %s (the checks below ran on "
			  "a vCPU with %s)",
			  c->b->ncpuid, e.reason,
			  used == OWN_WITHOUT_AMX ? "that CPUID less XTILECFG/XTILEDATA in 0xD.0"
						  : "the target's supported CPUID");
	if (f) {
		f->step = "KVM_SET_CPUID2";
		f->code = e.code;
	}
}

/* The source, booted as the bundle says (its vendor's module, guest-only by default), to know
 * which guest CPUID bits its KVM honoured.  Best effort: without it, every bit counts. */
static void source_vcpu(struct compat *c)
{
	struct vx_error e = VX_ERROR_INIT;

	if (!c->b->has_profile || c->b->profile_inferred)
		return;
	if (boot(&c->watch->platform, &c->b->profile, c->b->flavour, c->b->design, false,
		 &c->src_host, &e) == 0)
		(void)vcpu_with(c->src_host, c->b, c->needs_amx, OWN_CPUID, &c->src_vcpu, &e);
}

/* ----------------------------------------------------------------------------------------- */
/* Static checks                                                                                */

static bool cpuid_bit(const struct vx_vmm_bundle *b, const struct vx_kvm_feature_info *f)
{
	const struct vx_kvm_word_info *w = vx_kvm_word_info(f->word);
	const struct vx_kvm_cpuid_entry *e = w ? vx_vmm_bundle_cpuid(b, w->leaf, w->subleaf) : NULL;
	const uint32_t regs[4] = {e ? e->eax : 0, e ? e->ebx : 0, e ? e->ecx : 0, e ? e->edx : 0};

	return e && (regs[w->reg & 3] >> f->bit & 1);
}

/* kvm.md §1.5: the guest sees its CPUID, but only the vCPU's caps are honoured; a bit the
 * source's KVM honoured and the target's does not is a feature the guest loses. */
static void check_cpuid(struct compat *c)
{
	struct vx_kvm_vcpu *t = c->vcpu ? vx_vmm_vcpu_kvm(c->vcpu) : NULL;
	struct vx_kvm_vcpu *s = c->src_vcpu ? vx_vmm_vcpu_kvm(c->src_vcpu) : NULL;
	char why[160];

	for (unsigned i = 0; t && i < vx_kvm_feature_count(); i++) {
		const struct vx_kvm_feature_info *f = vx_kvm_feature_at(i);
		const struct vx_kvm_word_info *w = vx_kvm_word_info(f->word);
		struct vx_compat_finding *x;

		/* RUNTIME_F bits follow CR4/MSRs, not CPUID (kvm.md §1.3, §1.4 step 3). */
		if (f->kind == VX_KVM_CAP_RUNTIME || !cpuid_bit(c->b, f) ||
		    vx_kvm_vcpu_cap_has(t, i) || (s && !vx_kvm_vcpu_cap_has(s, i)))
			continue;
		vx_kvm_cap_reason(c->kvm, i, why, sizeof(why));
		x = vx_compat_add(
		    &c->list, VX_COMPAT_CPUID, VX_COMPAT_REFUSED, RULE_CPUID,
		    "guest CPUID %s[%u] %s: the target's KVM does not honour it (%s); "
		    "a guest using it would fault",
		    w->name, f->bit, f->name, why);
		if (x) {
			x->leaf = w->leaf;
			x->subleaf = w->subleaf;
			x->bits = VX_BIT(f->bit);
		}
	}
}

static void check_xcr0(struct compat *c)
{
	struct vx_kvm_vcpu *t = c->vcpu ? vx_vmm_vcpu_kvm(c->vcpu) : NULL;
	uint64_t allowed, bad;
	struct vx_compat_finding *f;
	char m[160], k[160];

	if (!t || !c->r->xcr0)
		return;
	/* __kvm_set_xcr: bits outside guest_supported_xcr0 | FP are refused (kvm.md §4.1). */
	allowed = vx_kvm_vcpu_guest_supported_xcr0(t) | VX_BIT(VX_COMP_X87);
	c->r->guest_supported_xcr0 = allowed;
	bad = c->r->xcr0 & ~allowed;
	if (!bad)
		return;
	f = vx_compat_add(&c->list, VX_COMPAT_XCR0, VX_COMPAT_REFUSED, RULE_XCR0,
			  "XCR0 0x%llx has %s, which the target vCPU does not allow (its KVM "
			  "supports XCR0 %s): KVM_SET_XCRS fails with EINVAL",
			  (unsigned long long)c->r->xcr0, mask_text(bad, m, sizeof(m)),
			  mask_text(c->r->target_supported_xcr0, k, sizeof(k)));
	if (f)
		f->bits = bad;
}

static void check_xss(struct compat *c)
{
	struct vx_kvm_vcpu *t = c->vcpu ? vx_vmm_vcpu_kvm(c->vcpu) : NULL;
	uint64_t bad;
	struct vx_compat_finding *f;
	char m[160];

	if (!t)
		return;
	c->r->guest_supported_xss = vx_kvm_vcpu_guest_supported_xss(t);
	bad = c->r->xss & ~c->r->guest_supported_xss;
	/* kvm.md §3.2: data & ~guest_supported_xss → #GP, host writes included. */
	if (!bad)
		return;
	f = vx_compat_add(&c->list, VX_COMPAT_XSS, VX_COMPAT_REFUSED, RULE_XSS,
			  "IA32_XSS 0x%llx has %s, outside the target vCPU's supported XSS 0x%llx: "
			  "KVM_SET_MSRS refuses it and the guest's supervisor state is lost",
			  (unsigned long long)c->r->xss, mask_text(bad, m, sizeof(m)),
			  (unsigned long long)c->r->guest_supported_xss);
	if (f) {
		f->bits = bad;
		f->msr = VX_MSR_IA32_XSS;
	}
}

/* The blob's size against what the target's KVM_SET_XSAVE reads (kvm.md §5.1). */
static void check_size(struct compat *c)
{
	uint32_t uabi = c->r->target_uabi_size, size = c->r->blob_size;
	uint64_t past = c->r->xstate_bv & ~VX_MASK_FPSSE;
	bool beyond = false;
	struct vx_component_desc d;

	if (!uabi || size == uabi)
		return;
	/* A component of XSTATE_BV ending past uabi_size cannot be carried (AMX in 4096): where
	 * the target lays it out, or where the source did when the target has no place for it. */
	for (unsigned i = 2; i < VX_COMP_LIMIT; i++) {
		if (!(past & VX_BIT(i)))
			continue;
		if (!vx_profile_component(&c->t->profile, i, &d) || !d.supported)
			(void)vx_profile_component(c->from, i, &d);
		beyond |= d.standard_offset + (uint64_t)d.size > uabi;
	}
	if (beyond)
		vx_compat_add(&c->list, VX_COMPAT_XSAVE_SIZE, VX_COMPAT_REFUSED, RULE_SIZE,
			      "the blob is %u bytes with state past byte %u, but the target's "
			      "KVM_SET_XSAVE reads %u (KVM_CAP_XSAVE2 %u: %s)",
			      size, uabi, uabi, c->r->target_xsave2,
			      c->target_amx ? "AMX not enabled for this vCPU" : "no AMX there");
	else
		vx_compat_add(&c->list, VX_COMPAT_XSAVE_SIZE, VX_COMPAT_CONVERT, RULE_SIZE,
			      "the blob is %u bytes; the target's KVM_SET_XSAVE reads %u "
			      "(KVM_CAP_XSAVE2 %u): resize it (%s)",
			      size, uabi, c->r->target_xsave2,
			      size > uabi ? "the bytes past it hold no state"
					  : "padded with the initial configuration");
}

/* Standard offsets differ between hosts (AMD and Intel AVX-512): kvm.md §5.1 says the blob
 * follows the host's CPUID 0xD, so it must be moved, not loaded raw (arch.md §2.4). */
static void check_layout(struct compat *c)
{
	uint64_t bv = c->r->xstate_bv & ~VX_MASK_FPSSE;
	struct vx_component_desc s, t;
	struct vx_compat_finding *f;

	if (!c->b->has_profile)
		vx_compat_add(&c->list, VX_COMPAT_LAYOUT, VX_COMPAT_NOTE, RULE_LAYOUT,
			      "the source's XSAVE layout is not recorded and the guest CPUID has "
			      "no leaf 0xD: the blob is taken to be in the target's layout");
	for (unsigned i = 2; c->b->has_profile && i < VX_COMP_LIMIT; i++) {
		bool sk, tk;

		if (!(bv & VX_BIT(i)))
			continue;
		sk = vx_profile_component(c->from, i, &s) && s.supported && !s.supervisor;
		tk = vx_profile_component(&c->t->profile, i, &t) && t.supported && !t.supervisor;
		if (!sk || !tk || (s.size == t.size && s.standard_offset == t.standard_offset))
			continue;
		f = vx_compat_add(
		    &c->list, VX_COMPAT_LAYOUT,
		    s.size == t.size ? VX_COMPAT_CONVERT : VX_COMPAT_REFUSED, RULE_LAYOUT,
		    "%s is at standard offset %u (%u bytes) on the source (%s) and %u "
		    "(%u bytes) on the target: %s",
		    vx_component_info(i) ? vx_component_info(i)->name : "component",
		    s.standard_offset, s.size, c->r->source_layout, t.standard_offset, t.size,
		    s.size == t.size ? "loaded raw it would scramble; move it"
				     : "the sizes differ, no conversion keeps it");
		if (f)
			f->component = (int)i;
	}
}

/* The guest read its layout from CPUID 0xD at boot; the target's hardware XSAVE uses the
 * target's offsets (arch.md §1.4).  Restores, but the guest's XSAVE images would disagree. */
static void check_guest_leaf_d(struct compat *c)
{
	uint64_t xcr0 = guest_cpuid_xcr0(c->b) & ~VX_MASK_FPSSE;
	struct vx_component_desc t;
	struct vx_compat_finding *f;

	for (unsigned i = 2; i < VX_COMP_LIMIT; i++) {
		const struct vx_kvm_cpuid_entry *e = vx_vmm_bundle_cpuid(c->b, 0xD, i);

		if (!(xcr0 & VX_BIT(i)) || !e || !vx_profile_component(&c->t->profile, i, &t) ||
		    !t.supported || (e->eax == t.size && e->ebx == t.standard_offset))
			continue;
		f = vx_compat_add(
		    &c->list, VX_COMPAT_LAYOUT, VX_COMPAT_WARNING, RULE_LAYOUT,
		    "guest CPUID.(0xD,%u) says %u bytes at offset %u, the target's "
		    "hardware uses %u at %u: the guest's standard-format XSAVE images "
		    "(signal frames, ptrace) would be misread after the move",
		    i, e->eax, e->ebx, t.size, t.standard_offset);
		if (f) {
			f->component = (int)i;
			f->leaf = 0xD;
			f->subleaf = i;
		}
	}
}

static void check_amx(struct compat *c)
{
	struct vx_compat_finding *f;

	if (!c->needs_amx)
		return;
	if (!c->target_amx) {
		f = vx_compat_add(&c->list, VX_COMPAT_AMX_PERM, VX_COMPAT_REFUSED, RULE_AMX,
				  "the guest uses AMX (XTILE_DATA in its CPUID or blob), but the "
				  "target's KVM supports no XTILE_DATA");
		if (f)
			f->bits = VX_MASK_AMX;
		return;
	}
	vx_compat_add(
	    &c->list, VX_COMPAT_AMX_PERM, VX_COMPAT_NOTE, RULE_AMX,
	    "AMX: the restoring VMM must call arch_prctl(ARCH_REQ_XCOMP_GUEST_PERM, "
	    "XTILE_DATA) before creating the vCPU, or KVM_SET_CPUID2 fails with EPERM and "
	    "KVM_CAP_XSAVE2 stays 4096 (done here)");
}

static void check_xfd(struct compat *c)
{
	uint64_t err_value = 0;

	(void)bundle_msr(c, VX_MSR_IA32_XFD_ERR, &err_value);
	/* kvm.md §9: 6.18.35 clears XSTATE_BV bits armed in the guest's XFD on KVM_SET_XSAVE. */
	if (c->r->xfd & c->r->xstate_bv & VX_MASK_TILEDATA)
		vx_compat_add(&c->list, VX_COMPAT_XFD, VX_COMPAT_WARNING, RULE_XFD,
			      "XFD arms XTILE_DATA while the blob holds tile data: 6.18.2 loads "
			      "it, later 6.18.y kernels drop it (KVM_SET_XSAVE clears XSTATE_BV "
			      "bits the guest's XFD arms)");
	if (err_value)
		vx_compat_add(&c->list, VX_COMPAT_XFD, VX_COMPAT_NOTE, RULE_XFD,
			      "XFD_ERR = 0x%llx: the guest was inside its #NM handler; restore it "
			      "with XFD, as KVM keeps it in guest_fpu.xfd_err",
			      (unsigned long long)err_value);
}

/* The XSAVE/CET MSRs the bundle has against the target's KVM_GET_MSR_INDEX_LIST (§3.3). */
static void check_msr_list(struct compat *c)
{
	uint64_t v;
	struct vx_compat_finding *f;

	for (size_t i = 0; i < NSTATE_MSRS; i++) {
		uint32_t msr = state_msrs[i].msr;

		if (!bundle_msr(c, msr, &v) || target_lists(c, msr))
			continue;
		f = vx_compat_add(
		    &c->list, state_msrs[i].check, v ? VX_COMPAT_REFUSED : VX_COMPAT_NOTE,
		    RULE_MSRS,
		    "%s (0x%x) = 0x%llx is not in the target's KVM_GET_MSR_INDEX_LIST: "
		    "%s",
		    msr_name(msr), msr, (unsigned long long)v,
		    v ? "its value is lost" : "KVM_SET_MSRS refuses it, but 0 loses nothing");
		if (f)
			f->msr = msr;
	}
}

/* What a VMM should have saved (anchors.md §3 pains 5-6: XSS and CET MSRs left out of
 * snapshots crashed restored guests). */
static void check_bundle(struct compat *c)
{
	const struct vx_kvm_cpuid_entry *d1 = vx_vmm_bundle_cpuid(c->b, 0xD, 1);
	const struct vx_kvm_cpuid_entry *l7 = vx_vmm_bundle_cpuid(c->b, 7, 0);
	bool xss = d1 && (d1->eax & VX_BIT(3)) && (d1->ecx | d1->edx);
	bool shstk = l7 && (l7->ecx & VX_BIT(7));
	uint64_t v;

	if (xss && !bundle_msr(c, VX_MSR_IA32_XSS, &v))
		vx_compat_add(
		    &c->list, VX_COMPAT_BUNDLE, VX_COMPAT_WARNING, RULE_BUNDLE,
		    "the guest CPUID enables XSAVES with supervisor state, but the bundle "
		    "has no IA32_XSS: the guest's XRSTORS would fault after the restore");
	if (shstk && !bundle_msr(c, VX_MSR_IA32_PL3_SSP, &v))
		vx_compat_add(&c->list, VX_COMPAT_BUNDLE, VX_COMPAT_WARNING, RULE_BUNDLE,
			      "the guest CPUID has SHSTK, but the bundle has no CET MSRs: U_CET, "
			      "S_CET and PL0-3_SSP live outside the XSAVE uABI and are lost");
}

static void check_mxcsr(struct compat *c)
{
	uint32_t mask = vx_profile_mxcsr_mask(&c->t->profile), mxcsr, src_mask;
	bool loaded = c->r->xstate_bv & (VX_MASK_FPSSE | VX_BIT(VX_COMP_AVX));
	struct vx_compat_finding *f;

	if (c->b->xsave_len < 32)
		return;
	mxcsr = (uint32_t)vx_le(c->b->xsave + VX_MXCSR_OFFSET, 4);
	src_mask = (uint32_t)vx_le(c->b->xsave + VX_MXCSR_MASK_OFFSET, 4);
	/* kvm.md §5.3: FP, SSE or YMM present and MXCSR has reserved bits → -EINVAL. */
	if (loaded && (mxcsr & ~mask)) {
		f = vx_compat_add(&c->list, VX_COMPAT_MXCSR, VX_COMPAT_REFUSED, RULE_MXCSR,
				  "MXCSR 0x%x has bits 0x%x outside the target's MXCSR_MASK 0x%x: "
				  "KVM_SET_XSAVE fails with EINVAL",
				  mxcsr, mxcsr & ~mask, mask);
		if (f)
			f->bits = mxcsr & ~mask;
	}
	if (src_mask && (src_mask & ~mask))
		vx_compat_add(
		    &c->list, VX_COMPAT_MXCSR, VX_COMPAT_WARNING, RULE_MXCSR,
		    "the source's MXCSR_MASK 0x%x has bits 0x%x the target's (0x%x) lacks: "
		    "a guest that read it at boot may set them, and LDMXCSR/XRSTOR then "
		    "#GP",
		    src_mask, src_mask & ~mask, mask);
}

static const char *design_home(int design)
{
	static const char *const homes[VX_KVM_CET_DESIGN_COUNT] = {
	    "nowhere (no SHSTK for guests)",
	    "the guest fpstate (CET_S in every task)",
	    "the guest fpstate (guest-only CET_S)",
	    "KVM's own copy, swapped eagerly",
	    "KVM's own copy, swapped after the first write",
	    "KVM's own copy, restored at user return"};

	return design >= 0 && design < (int)VX_KVM_CET_DESIGN_COUNT ? homes[design] : "unknown";
}

/* kvm.md §5.4: PL0-2_SSP travel as MSRs in every design; where they live differs (§6.4). */
static void check_design(struct compat *c)
{
	uint64_t pl[3] = {0};
	bool any = false;

	for (unsigned i = 0; i < 3; i++)
		any |= bundle_msr(c, VX_MSR_IA32_PL0_SSP + i, &pl[i]) && pl[i];
	if (c->b->design < 0 || c->b->design == (int)c->t->design)
		return;
	if (c->t->design == VX_KVM_CET_UNSUPPORTED && any)
		vx_compat_add(&c->list, VX_COMPAT_CET_DESIGN, VX_COMPAT_REFUSED, RULE_DESIGN,
			      "PL0-2_SSP = 0x%llx/0x%llx/0x%llx were kept in %s; the target's "
			      "design keeps them %s",
			      (unsigned long long)pl[0], (unsigned long long)pl[1],
			      (unsigned long long)pl[2], design_home(c->b->design),
			      design_home((int)c->t->design));
	else
		vx_compat_add(&c->list, VX_COMPAT_CET_DESIGN, VX_COMPAT_NOTE, RULE_DESIGN,
			      "CET_S design %s -> %s: PL0-2_SSP move from %s to %s; they travel as "
			      "MSRs either way",
			      vx_kvm_cet_design_name((enum vx_kvm_cet_design)c->b->design),
			      vx_kvm_cet_design_name(c->t->design), design_home(c->b->design),
			      design_home((int)c->t->design));
}

/* ----------------------------------------------------------------------------------------- */
/* The restore                                                                                  */

static void refusal(struct compat *c, enum vx_compat_check check, const char *step,
		    const struct vx_error *e, uint32_t msr)
{
	struct vx_compat_finding *f;

	c->r->restore_refusals++;
	f = vx_compat_add(&c->list, check, VX_COMPAT_REFUSED, e->rule ? e->rule : RULE_MSRS,
			  "%s refused%s%s: %s", step, msr ? " " : "", msr ? msr_name(msr) : "",
			  e->reason[0] ? e->reason : vx_errno_name(e->code));
	if (f) {
		f->step = step;
		f->code = e->code;
		f->msr = msr;
		f->bits = e->bits;
	}
}

static void restore_xcrs(struct compat *c, struct vx_kvm_vcpu *v)
{
	struct vx_error e = VX_ERROR_INIT;

	if (!c->b->xcrs.nr_xcrs)
		return;
	c->r->restore_steps++;
	if (vx_kvm_vcpu_set_xcrs(v, &c->b->xcrs, &e) != 0)
		refusal(c, VX_COMPAT_XCR0, "KVM_SET_XCRS", &e, 0);
}

/* One MSR at a time, as Cloud Hypervisor's restore skips a failing one (docs/vmm.md), then
 * read back: a value the target keeps differently is lost as surely as a refused one. */
static void restore_msr(struct compat *c, struct vx_kvm_vcpu *v, size_t i)
{
	struct vx_kvm_msr_entry m = {state_msrs[i].msr, 0, 0};
	struct vx_error e = VX_ERROR_INIT;
	struct vx_compat_finding *f;
	uint64_t want;

	if (!bundle_msr(c, m.index, &want))
		return;
	m.data = want;
	c->r->restore_steps++;
	if (vx_kvm_vcpu_set_msrs(v, &m, 1, &e) != 1) {
		if (!e.reason[0])
			vx_error_set(&e, -EINVAL, RULE_MSRS,
				     "the MSR does not exist on the target");
		refusal(c, state_msrs[i].check, "KVM_SET_MSRS", &e, m.index);
		return;
	}
	m.data = ~want;
	if (vx_kvm_vcpu_get_msrs(v, &m, 1, &e) != 1 || m.data == want)
		return;
	f = vx_compat_add(&c->list, state_msrs[i].check, VX_COMPAT_REFUSED, RULE_MSRS,
			  "%s: KVM_SET_MSRS took 0x%llx but KVM_GET_MSRS reads 0x%llx back",
			  msr_name(m.index), (unsigned long long)want, (unsigned long long)m.data);
	if (f) {
		f->step = "KVM_GET_MSRS";
		f->msr = m.index;
	}
}

static void restore_one_regs(struct compat *c, struct vx_kvm_vcpu *v)
{
	struct vx_error e = VX_ERROR_INIT;

	for (uint32_t i = 0; i < c->b->none_regs; i++) {
		c->r->restore_steps++;
		if (vx_kvm_vcpu_set_one_reg(v, c->b->one_regs[i].id, c->b->one_regs[i].value, &e))
			refusal(c, VX_COMPAT_CET_MSRS, "KVM_SET_ONE_REG", &e, 0);
	}
}

/* What the converter refused (a component the target cannot hold...). */
static void convert_refusals(struct compat *c, const struct vx_vmm_report *rep)
{
	for (unsigned i = 0; i < rep->count; i++) {
		const struct vx_vmm_finding *x = &rep->items[i];
		struct vx_compat_finding *f;

		if (!x->refuses)
			continue;
		f = vx_compat_add(&c->list, VX_COMPAT_LAYOUT, VX_COMPAT_REFUSED,
				  x->err.rule ? x->err.rule : RULE_LAYOUT,
				  "converting the blob for the target: %s", x->err.reason);
		if (f) {
			f->component = x->err.component;
			f->bits = x->err.bits;
		}
	}
}

/* A conversion is tried when the layout or size checks asked for one and refused nothing. */
static bool conversion_needed(const struct compat *c)
{
	bool convert = false;

	for (unsigned i = 0; i < c->r->count; i++) {
		const struct vx_compat_finding *f = &c->r->findings[i];

		if (f->check != VX_COMPAT_LAYOUT && f->check != VX_COMPAT_XSAVE_SIZE)
			continue;
		if (f->severity == VX_COMPAT_REFUSED)
			return false;
		convert |= f->severity == VX_COMPAT_CONVERT;
	}
	return convert;
}

/* The blob KVM_SET_XSAVE gets: moved to the target's layout and uabi_size when needed. */
static void prepare_blob(struct compat *c)
{
	struct vx_vmm_convert_options o = {c->from, &c->t->profile, VX_VMM_BLOB_KVM, 0, 0, 0};
	struct vx_vmm_converter conv;
	struct vx_vmm_report *rep = vx_vmm_zalloc(&c->watch->platform, sizeof(*rep));
	struct vx_error e = VX_ERROR_INIT;
	struct vx_vmm_blob blob;
	uint32_t size = c->r->target_uabi_size ? c->r->target_uabi_size : c->b->xsave_len;

	c->blob = c->b->xsave;
	c->blob_len = c->b->xsave_len;
	if (!rep || !conversion_needed(c)) {
		vx_vmm_free(&c->watch->platform, rep);
		return;
	}
	o.kind = size > VX_KVM_XSAVE_SIZE ? VX_VMM_BLOB_KVM2 : VX_VMM_BLOB_KVM;
	o.size = size;
	if (vx_vmm_blob_parse(c->b->xsave, c->b->xsave_len, VX_VMM_BLOB_AUTO, &blob, &e) == 0 &&
	    vx_vmm_converter_init(&conv, &o, &e) == 0) {
		size_t need = vx_vmm_convert_size(&conv, &blob);
		uint8_t *out = vx_vmm_zalloc(&c->watch->platform, need > size ? need : size);

		if (out &&
		    vx_vmm_convert(&conv, &blob, out, need > size ? need : size, rep, &e) == 0) {
			c->owned = out;
			c->blob = out;
			c->blob_len = size;
			c->converted = true;
		} else {
			convert_refusals(c, rep);
			vx_vmm_free(&c->watch->platform, out);
		}
	}
	vx_vmm_free(&c->watch->platform, rep);
}

/* V1's validation runs the kvm layer's KVM_SET_XSAVE and lists every failing rule. */
static void restore_xsave(struct compat *c)
{
	struct vx_vmm_validation *val = vx_vmm_zalloc(&c->watch->platform, sizeof(*val));
	struct vx_error e = VX_ERROR_INIT;
	struct vx_vmm_blob blob;

	if (!val)
		return;
	c->r->restore_steps++;
	if (vx_vmm_blob_parse(c->blob, c->blob_len, VX_VMM_BLOB_AUTO, &blob, &e) != 0) {
		refusal(c, VX_COMPAT_RESTORE, "KVM_SET_XSAVE", &e, 0);
	} else if (vx_vmm_xsave_validate(c->vcpu, &blob, 0, val, &e) == 0 && val->rc != 0) {
		c->r->restore_refusals++;
		for (unsigned i = 0; i < val->report.count; i++) {
			const struct vx_vmm_finding *x = &val->report.items[i];
			struct vx_compat_finding *f;

			/* MXCSR has its own check above, with the target's MXCSR_MASK. */
			if (!x->refuses || x->err.offset == VX_MXCSR_OFFSET)
				continue;
			f = vx_compat_add(&c->list, VX_COMPAT_RESTORE, VX_COMPAT_REFUSED,
					  x->err.rule, "KVM_SET_XSAVE%s refused: %s",
					  c->converted ? " of the converted blob" : "",
					  x->err.reason);
			if (f) {
				f->step = "KVM_SET_XSAVE";
				f->code = x->err.code;
				f->component = x->err.component;
				f->bits = x->err.bits;
			}
		}
	}
	vx_vmm_free(&c->watch->platform, val);
}

/* KVM_GET_XSAVE2 after the restore: every component of XSTATE_BV still there, same bytes. */
static void read_back_xsave(struct compat *c)
{
	struct vx_kvm_vcpu *v = vx_vmm_vcpu_kvm(c->vcpu);
	uint32_t n = c->r->target_uabi_size;
	uint8_t *got = n ? vx_vmm_zalloc(&c->watch->platform, n) : NULL;
	struct vx_error e = VX_ERROR_INIT;
	uint64_t lost;
	char m[160];

	if (!got || n != c->blob_len || vx_kvm_vcpu_get_xsave(v, true, got, n, &e) != 0) {
		vx_vmm_free(&c->watch->platform, got);
		return;
	}
	lost = vx_le(c->blob + VX_XSTATE_BV_OFFSET, 8) & ~vx_le(got + VX_XSTATE_BV_OFFSET, 8);
	/* kvm.md §5.2: the next KVM_GET_XSAVE exports only guest_supported_xcr0 | FP | SSE. */
	if (lost)
		vx_compat_add(&c->list, VX_COMPAT_RESTORE, VX_COMPAT_REFUSED, "kvm.md §5.2",
			      "after KVM_SET_XSAVE, KVM_GET_XSAVE2 no longer has %s: the guest "
			      "CPUID on the target does not enable them, so the next save drops "
			      "them",
			      mask_text(lost, m, sizeof(m)));
	vx_vmm_free(&c->watch->platform, got);
}

static void restore(struct compat *c)
{
	struct vx_kvm_vcpu *v = vx_vmm_vcpu_kvm(c->vcpu);

	c->r->restore_ran = true;
	c->r->target_uabi_size = vx_vmm_vcpu_uabi_size(c->vcpu);
	restore_xcrs(c, v);
	for (size_t i = 0; i < NSTATE_MSRS; i++)
		restore_msr(c, v, i);
	restore_one_regs(c, v);
	check_size(c);
	prepare_blob(c);
	restore_xsave(c);
	read_back_xsave(c);
}

/* ----------------------------------------------------------------------------------------- */

static void verdict(struct vx_compat_report *r)
{
	r->verdict = VX_COMPAT_RESTORES;
	for (unsigned i = 0; i < r->count; i++) {
		if (r->findings[i].severity == VX_COMPAT_REFUSED)
			r->verdict = VX_COMPAT_REFUSES;
		else if (r->findings[i].severity == VX_COMPAT_CONVERT &&
			 r->verdict == VX_COMPAT_RESTORES)
			r->verdict = VX_COMPAT_CONVERTIBLE;
	}
}

static void release(struct compat *c)
{
	vx_vmm_free(&c->watch->platform, c->owned);
	vx_vmm_vcpu_destroy(c->vcpu);
	vx_vmm_vcpu_destroy(c->src_vcpu);
	vx_vmm_host_destroy(c->host);
	vx_vmm_host_destroy(c->src_host);
}

static int run(struct compat *c, struct vx_error *err)
{
	int rc = boot(&c->watch->platform, &c->t->profile, (int)c->t->flavour, (int)c->t->design,
		      c->t->live, &c->host, err);

	if (rc)
		return rc;
	c->kvm = vx_vmm_host_kvm(c->host);
	bundle_facts(c);
	target_facts(c);
	source_vcpu(c);
	target_vcpu(c);
	check_cpuid(c);
	check_xcr0(c);
	check_xss(c);
	check_layout(c);
	check_guest_leaf_d(c);
	check_amx(c);
	check_xfd(c);
	check_msr_list(c);
	check_bundle(c);
	check_mxcsr(c);
	check_design(c);
	if (c->vcpu)
		restore(c);
	verdict(c->r);
	/* A step that could not allocate found nothing: the verdict would be a guess. */
	if (c->watch->failed)
		return vx_error_set(err, -ENOMEM, NULL,
				    "out of memory: a step of the check could not allocate");
	return 0;
}

int vx_compat_check(const struct vx_vmm_bundle *bundle, const struct vx_compat_target *target,
		    struct vx_compat_report *report, struct vx_error *err)
{
	return vx_compat_check_with_platform(bundle, target, NULL, report, err);
}

int vx_compat_check_with_platform(const struct vx_vmm_bundle *bundle,
				  const struct vx_compat_target *target,
				  const struct vx_platform *platform,
				  struct vx_compat_report *report, struct vx_error *err)
{
	struct vx_vmm_watch watch;
	struct vx_compat_report *r;
	struct compat c;
	int rc;

	if (!bundle || !target || !report)
		return vx_error_set(err, -EINVAL, NULL,
				    "compat needs a bundle, a target, a report");
	vx_vmm_watch_init(&watch, platform);
	r = vx_vmm_zalloc(&watch.platform, sizeof(*r));
	if (!r)
		return vx_error_set(err, -ENOMEM, NULL, "out of memory");
	memset(&c, 0, sizeof(c));
	c.watch = &watch;
	c.b = bundle;
	c.t = target;
	c.r = r;
	c.list =
	    (struct vx_compat_list){r->findings, &r->count, &r->omitted, VX_COMPAT_FINDINGS_MAX};
	rc = run(&c, err);
	if (!rc)
		memcpy(report, r, sizeof(*r));
	release(&c);
	vx_vmm_free(&watch.platform, r);
	return rc;
}

static int fix_refused(const struct vx_compat_report *r, struct vx_error *err)
{
	const char *rule = "docs/vmm.md \"vxsave compat\"";

	if (r->verdict == VX_COMPAT_RESTORES)
		return vx_error_set(err, -EINVAL, rule,
				    "nothing to fix: the bundle restores on the target as is");
	for (unsigned i = 0; i < r->count; i++)
		if (r->findings[i].severity == VX_COMPAT_REFUSED)
			return vx_error_set(err, -EINVAL, rule, "a conversion is not enough: %s",
					    r->findings[i].message);
	return vx_error_set(err, -EINVAL, rule, "a conversion is not enough");
}

int vx_compat_fix(const struct vx_vmm_bundle *bundle, const struct vx_compat_target *target,
		  struct vx_vmm_bundle *fixed, struct vx_error *err)
{
	return vx_compat_fix_with_platform(bundle, target, NULL, fixed, err);
}

int vx_compat_fix_with_platform(const struct vx_vmm_bundle *bundle,
				const struct vx_compat_target *target,
				const struct vx_platform *platform, struct vx_vmm_bundle *fixed,
				struct vx_error *err)
{
	struct vx_vmm_watch watch;
	struct vx_compat_report *r;
	struct compat c;
	int rc;

	vx_vmm_watch_init(&watch, platform);
	r = vx_vmm_zalloc(&watch.platform, sizeof(*r));
	rc = r ? 0 : vx_error_set(err, -ENOMEM, NULL, "out of memory");
	memset(&c, 0, sizeof(c));
	c.watch = &watch;
	c.b = bundle;
	c.t = target;
	c.r = r;
	if (!rc) {
		c.list = (struct vx_compat_list){r->findings, &r->count, &r->omitted,
						 VX_COMPAT_FINDINGS_MAX};
		rc = run(&c, err);
	}
	if (!rc && r->verdict != VX_COMPAT_CONVERTIBLE)
		rc = fix_refused(r, err);
	if (!rc && c.converted) {
		memcpy(fixed, bundle, sizeof(*fixed));
		memcpy(fixed->xsave, c.blob, c.blob_len);
		fixed->xsave_len = c.blob_len;
		/* The bundle now belongs to the target: its layout, its KVM, its design. */
		fixed->profile = target->profile;
		fixed->flavour = (int)target->flavour;
		fixed->design = (int)target->design;
		fixed->has_profile = true;
		fixed->profile_inferred = false;
		fixed->profile_by_name = vx_builtin_profile_text(target->profile.name) != NULL;
		snprintf(fixed->origin, sizeof(fixed->origin), "%.170s; converted for %.60s",
			 bundle->origin, target->profile.name);
	}
	release(&c);
	vx_vmm_free(&watch.platform, r);
	return rc;
}
