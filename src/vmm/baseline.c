/* SPDX-License-Identifier: MIT */
/*
 * The baseline of a pool of hosts (vmm_compat.h, docs/vmm.md "vxsave baseline"; issue 10):
 * the largest guest XSAVE/CET configuration every host's KVM can run, with leaf 0xD derived
 * from the result (never passed through: anchors.md §1.1, Xen's recalculate_xstate), the CET
 * bits of leaf 7 kept only with their XSS components, and the MSRs a VMM must then save - the
 * step that CPU templates and `virsh cpu-baseline` leave out (anchors.md §3 pains 23-26).
 *
 * Each host is asked what a VMM asks: KVM_GET_SUPPORTED_CPUID with the AMX guest permission
 * requested (kvm.md §2.2, §2.6) and KVM_GET_MSR_INDEX_LIST (§3.3), on its model.
 */
#include <stdlib.h>

#include <vxsave/vmm.h>

#include "vmm/compat_internal.h"
#include "vmm/vmm_internal.h"

#define RULE_POOL  "kvm.md §2.2; arch.md §1.4, §2.4"
#define RULE_GROUP "arch.md §3.1"
#define RULE_CET   "kvm.md §1.3, §2.1"
#define RULE_MSRS  "kvm.md §3.3"

#define B(n)   (1u << (n))
#define YMM    VX_BIT(VX_COMP_AVX)
#define AVX512 (VX_BIT(VX_COMP_OPMASK) | VX_BIT(VX_COMP_ZMM_HI256) | VX_BIT(VX_COMP_HI16_ZMM))
#define MPX    (VX_BIT(VX_COMP_BNDREGS) | VX_BIT(VX_COMP_BNDCSR))
#define PKRU   VX_BIT(VX_COMP_PKRU)
#define APX    VX_BIT(VX_COMP_APX)

/* The feature words ANDed over the pool: KVM's words that hold XSAVE and CET features. */
static const struct {
	uint32_t leaf, subleaf;
} pooled_leaves[] = {{1, 0}, {7, 0}, {7, 1}};

/*
 * A guest CPUID bit that means something only with some XSAVE components: it goes when they
 * go (the SDM's enumeration of AVX, AVX-512, MPX, PKU, AMX and APX; kvm.md §2.1 for CET,
 * which needs both CET_U and CET_S in XSS).
 */
static const struct dependent {
	uint32_t leaf, subleaf;
	enum vx_cpuid_reg reg;
	uint32_t bits;
	uint64_t needs;
	uint64_t needs_xss;
	const char *what;
	const char *rule;
} dependents[] = {
    {1, 0, VX_ECX, B(12) | B(28) | B(29), YMM, 0, "FMA, AVX, F16C", RULE_GROUP},
    {7, 0, VX_EBX, B(5), YMM, 0, "AVX2", RULE_GROUP},
    {7, 0, VX_ECX, B(9) | B(10), YMM, 0, "VAES, VPCLMULQDQ", RULE_GROUP},
    {7, 1, VX_EAX, B(4), YMM, 0, "AVX-VNNI", RULE_GROUP},
    {7, 0, VX_EBX, B(16) | B(17) | B(21) | B(26) | B(27) | B(28) | B(30) | B(31), AVX512, 0,
     "AVX512F/DQ/IFMA/PF/ER/CD/BW/VL", RULE_GROUP},
    {7, 0, VX_ECX, B(1) | B(6) | B(11) | B(12) | B(14), AVX512, 0,
     "AVX512_VBMI/VBMI2/VNNI/BITALG/VPOPCNTDQ", RULE_GROUP},
    {7, 0, VX_EDX, B(2) | B(3) | B(8) | B(23), AVX512, 0, "AVX512_4VNNIW/4FMAPS/VP2INTERSECT/FP16",
     RULE_GROUP},
    {7, 1, VX_EAX, B(5), AVX512, 0, "AVX512_BF16", RULE_GROUP},
    {7, 0, VX_EBX, B(14), MPX, 0, "MPX", RULE_GROUP},
    {7, 0, VX_ECX, B(3) | B(4), PKRU, 0, "PKU, OSPKE", RULE_GROUP},
    {7, 0, VX_EDX, B(22) | B(24) | B(25), VX_MASK_AMX, 0, "AMX-BF16/TILE/INT8", RULE_GROUP},
    {7, 1, VX_EAX, B(21), VX_MASK_AMX, 0, "AMX-FP16", RULE_GROUP},
    {7, 1, VX_EDX, B(8), VX_MASK_AMX, 0, "AMX-COMPLEX", RULE_GROUP},
    {7, 1, VX_EDX, B(21), APX, 0, "APX_F", RULE_GROUP},
    {7, 0, VX_ECX, B(7), 0, VX_MASK_CET, "SHSTK", RULE_CET},
    {7, 0, VX_EDX, B(20), 0, VX_MASK_CET, "IBT", RULE_CET},
};

/* The XSAVE/CET MSRs a VMM saves, and the baseline feature each needs (kvm.md §3.3). */
enum msr_need { NEED_XSAVES, NEED_XFD, NEED_CET, NEED_SHSTK };

static const struct {
	uint32_t msr;
	enum msr_need need;
} state_msrs[] = {
    {VX_MSR_IA32_XSS, NEED_XSAVES},    {VX_MSR_IA32_XFD, NEED_XFD},
    {VX_MSR_IA32_XFD_ERR, NEED_XFD},   {VX_MSR_IA32_U_CET, NEED_CET},
    {VX_MSR_IA32_S_CET, NEED_CET},     {VX_MSR_IA32_PL0_SSP, NEED_SHSTK},
    {VX_MSR_IA32_PL1_SSP, NEED_SHSTK}, {VX_MSR_IA32_PL2_SSP, NEED_SHSTK},
    {VX_MSR_IA32_PL3_SSP, NEED_SHSTK}, {VX_MSR_IA32_INT_SSP_TAB, NEED_SHSTK},
};

struct host_facts {
	char name[VX_PROFILE_NAME_MAX];
	uint32_t ncpuid;
	struct vx_kvm_cpuid_entry cpuid[VX_KVM_MAX_CPUID_ENTRIES];
	uint32_t nmsrs;
	uint32_t msrs[64];
};

struct pool {
	struct host_facts *h;
	unsigned n;
	struct vx_baseline *out;
	struct vx_compat_list list;
	uint32_t size[VX_COMP_LIMIT], offset[VX_COMP_LIMIT], ecx[VX_COMP_LIMIT];
	struct vx_cpuid_regs words[3];
	uint32_t max7, d1_eax;
};

/* ----------------------------------------------------------------------------------------- */
/* Asking each host                                                                             */

static struct vx_cpuid_regs leaf(const struct host_facts *h, uint32_t fn, uint32_t idx)
{
	struct vx_cpuid_regs r = {0, 0, 0, 0};

	for (uint32_t i = 0; i < h->ncpuid; i++)
		if (h->cpuid[i].function == fn && h->cpuid[i].index == idx)
			r = (struct vx_cpuid_regs){h->cpuid[i].eax, h->cpuid[i].ebx,
						   h->cpuid[i].ecx, h->cpuid[i].edx};
	return r;
}

/* A VMM process of the host with the AMX guest permission, then the two lists (§2.2, §3.3). */
static int ask(struct vx_kvm *kvm, struct host_facts *h, struct vx_error *err)
{
	struct vx_fpu_task *task = NULL;
	struct vx_error e = VX_ERROR_INIT;
	uint64_t user = 0;
	int rc;

	h->nmsrs = 64;
	rc = vx_kvm_get_msr_index_list(kvm, h->msrs, &h->nmsrs, err);
	if (!rc)
		rc = vx_fpu_process_create(vx_kvm_machine(kvm), &task, err);
	if (rc)
		return rc;
	if (vx_kvm_supported_xcr0(kvm) & VX_MASK_TILEDATA)
		(void)vx_fpu_arch_prctl(task, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA,
					&user, &e);
	h->ncpuid = VX_KVM_MAX_CPUID_ENTRIES;
	rc = vx_kvm_get_supported_cpuid(kvm, task, h->cpuid, &h->ncpuid, err);
	(void)vx_fpu_task_exit(task, &e);
	return rc;
}

static int ask_host(const struct vx_platform *pf, const struct vx_compat_target *t,
		    struct host_facts *h, struct vx_error *err)
{
	struct vx_vmm_host_options o;
	struct vx_vmm_host *host = NULL;
	int rc;

	vx_vmm_host_options_init(&o);
	o.platform = pf;
	o.flavour = (int)t->flavour;
	o.design = t->design;
	o.live = t->live;
	snprintf(h->name, sizeof(h->name), "%s",
		 t->profile.name[0] ? t->profile.name : "(unnamed)");
	rc = vx_vmm_host_create(&t->profile, &o, &host, err);
	if (!rc)
		rc = ask(vx_vmm_host_kvm(host), h, err);
	vx_vmm_host_destroy(host);
	if (rc && err) {
		char why[VX_ERROR_REASON_MAX];

		snprintf(why, sizeof(why), "%s", err->reason);
		vx_error_set(err, rc, err->rule, "host %s: %s", h->name, why);
	}
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* XCR0 and XSS                                                                                 */

static const char *comp_name(unsigned i)
{
	const struct vx_component_info *info = vx_component_info(i);

	return info ? info->name : "component";
}

/* The bits every host's KVM supports (0xD.0 EDX:EAX, 0xD.1 EDX:ECX; kvm.md §2.2). */
static void intersect_masks(struct pool *p)
{
	uint64_t xcr0 = UINT64_MAX, xss = UINT64_MAX;
	struct vx_compat_finding *f;
	char m[160];

	for (unsigned k = 0; k < p->n; k++) {
		struct vx_cpuid_regs d0 = leaf(&p->h[k], 0xD, 0), d1 = leaf(&p->h[k], 0xD, 1);
		uint64_t hx = d0.eax | (uint64_t)d0.edx << 32, hs = d1.ecx | (uint64_t)d1.edx << 32;

		if (k && (xcr0 & ~hx)) {
			f = vx_compat_add(&p->list, VX_COMPAT_XCR0, VX_COMPAT_NOTE, RULE_POOL,
					  "%s left out: %s's KVM does not support it",
					  (vx_format_component_mask(xcr0 & ~hx, m, sizeof(m)), m),
					  p->h[k].name);
			if (f)
				f->bits = xcr0 & ~hx;
		}
		if (k && (xss & ~hs))
			vx_compat_add(&p->list, VX_COMPAT_XSS, VX_COMPAT_NOTE, RULE_POOL,
				      "XSS %s left out: %s's KVM does not support it",
				      (vx_format_component_mask(xss & ~hs, m, sizeof(m)), m),
				      p->h[k].name);
		xcr0 &= hx;
		xss &= hs;
	}
	p->out->xcr0 = xcr0;
	p->out->xss = xss;
}

struct geometry {
	uint32_t size, offset, align;
};

static struct geometry geometry_of(struct vx_cpuid_regs r)
{
	return (struct geometry){r.eax, r.ebx, r.ecx >> 1 & 1};
}

/* Which of size, offset, alignment differs first (NULL: none), with both values. */
static const char *geometry_diff(struct geometry x, struct geometry y, uint32_t *a, uint32_t *b)
{
	const char *what = x.size != y.size	  ? "size"
			   : x.offset != y.offset ? "standard offset"
			   : x.align != y.align	  ? "64-byte alignment"
						  : NULL;

	*a = x.size != y.size ? x.size : x.offset != y.offset ? x.offset : x.align;
	*b = x.size != y.size ? y.size : x.offset != y.offset ? y.offset : y.align;
	return what;
}

/* The same size, standard offset and 64-byte alignment everywhere, or the component goes: a
 * guest reads its layout once from CPUID 0xD and the hardware of every host must agree
 * (arch.md §1.4, §2.4; AMD and Intel place AVX-512 and PKRU differently). */
static void same_geometry(struct pool *p, unsigned i)
{
	struct vx_cpuid_regs ref = leaf(&p->h[0], 0xD, i);
	const char *what = NULL;
	uint32_t a = 0, b = 0;
	unsigned k;

	p->size[i] = ref.eax;
	p->offset[i] = ref.ebx;
	p->ecx[i] = ref.ecx;
	for (k = 1; k < p->n && !what; k++) {
		struct vx_cpuid_regs r = leaf(&p->h[k], 0xD, i);

		what = geometry_diff(geometry_of(ref), geometry_of(r), &a, &b);
		p->ecx[i] &= r.ecx | ~B(2); /* XFD-capable only where every host says so */
	}
	if (!what)
		return;
	p->out->xcr0 &= ~VX_BIT(i);
	p->out->xss &= ~VX_BIT(i);
	vx_compat_add(&p->list, VX_COMPAT_LAYOUT, VX_COMPAT_NOTE, RULE_POOL,
		      "%s left out: its %s is %u on %s but %u on %s, so a guest's XSAVE images "
		      "would not mean the same on both",
		      comp_name(i), what, a, p->h[0].name, b, p->h[k - 1].name);
}

/* Close the masks under the XCR0 rules (arch.md §3.1: requires, all-or-nothing groups) and
 * KVM's CET pairing (kvm.md §1.3: CET_U and CET_S together or neither). */
static void close_masks(struct pool *p)
{
	bool changed = true;
	char m[160];

	while (changed) {
		changed = false;
		for (unsigned i = 2; i < VX_COMP_LIMIT; i++) {
			const struct vx_component_info *c = vx_component_info(i);
			uint64_t need = c ? c->requires | c->group : 0;

			if (!(p->out->xcr0 & VX_BIT(i)) || !(need & ~p->out->xcr0))
				continue;
			p->out->xcr0 &= ~VX_BIT(i);
			changed = true;
			vx_format_component_mask(need & ~p->out->xcr0, m, sizeof(m));
			vx_compat_add(&p->list, VX_COMPAT_XCR0, VX_COMPAT_NOTE, RULE_GROUP,
				      "%s left out: it needs %s", comp_name(i), m);
		}
	}
	if ((p->out->xss & VX_MASK_CET) && (p->out->xss & VX_MASK_CET) != VX_MASK_CET) {
		vx_compat_add(&p->list, VX_COMPAT_XSS, VX_COMPAT_NOTE, RULE_CET,
			      "CET_U/CET_S left out: KVM offers CET only with both in XSS");
		p->out->xss &= ~VX_MASK_CET;
	}
}

/* ----------------------------------------------------------------------------------------- */
/* Feature bits                                                                                 */

static void intersect_words(struct pool *p)
{
	p->max7 = UINT32_MAX;
	p->d1_eax = UINT32_MAX;
	for (size_t w = 0; w < 3; w++)
		p->words[w] =
		    (struct vx_cpuid_regs){UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};
	for (unsigned k = 0; k < p->n; k++) {
		for (size_t w = 0; w < 3; w++) {
			struct vx_cpuid_regs r =
			    leaf(&p->h[k], pooled_leaves[w].leaf, pooled_leaves[w].subleaf);

			p->words[w].eax &= r.eax;
			p->words[w].ebx &= r.ebx;
			p->words[w].ecx &= r.ecx;
			p->words[w].edx &= r.edx;
		}
		if (leaf(&p->h[k], 7, 0).eax < p->max7)
			p->max7 = leaf(&p->h[k], 7, 0).eax;
		p->d1_eax &= leaf(&p->h[k], 0xD, 1).eax;
	}
	/* Leaf 7.0 EAX is the highest sub-leaf, not flags; leaf 1 EAX/EBX are the first host's. */
	p->words[1].eax = p->max7;
	p->words[0].eax = leaf(&p->h[0], 1, 0).eax;
	p->words[0].ebx = leaf(&p->h[0], 1, 0).ebx;
}

static uint32_t *word_reg(struct pool *p, uint32_t lf, uint32_t sub, enum vx_cpuid_reg reg)
{
	for (size_t w = 0; w < 3; w++) {
		uint32_t *r[4] = {&p->words[w].eax, &p->words[w].ebx, &p->words[w].ecx,
				  &p->words[w].edx};

		if (pooled_leaves[w].leaf == lf && pooled_leaves[w].subleaf == sub)
			return r[reg & 3];
	}
	return NULL;
}

static void drop_dependents(struct pool *p)
{
	static const char *const reg_names[4] = {"EAX", "EBX", "ECX", "EDX"};

	for (size_t i = 0; i < sizeof(dependents) / sizeof(dependents[0]); i++) {
		const struct dependent *d = &dependents[i];
		uint32_t *reg = word_reg(p, d->leaf, d->subleaf, d->reg);
		bool kept = !(d->needs & ~p->out->xcr0) && !(d->needs_xss & ~p->out->xss);
		struct vx_compat_finding *f;

		if (!reg || kept || !(*reg & d->bits))
			continue;
		f = vx_compat_add(&p->list, VX_COMPAT_CPUID, VX_COMPAT_NOTE, d->rule,
				  "CPUID 0x%x.%u %s bits 0x%x (%s) cleared: their state components "
				  "are not in the baseline",
				  d->leaf, d->subleaf, reg_names[d->reg & 3], *reg & d->bits,
				  d->what);
		if (f) {
			f->leaf = d->leaf;
			f->subleaf = d->subleaf;
			f->bits = *reg & d->bits;
		}
		*reg &= ~d->bits;
	}
	/* XFD means something only with an XFD-capable component (arch.md §3.3). */
	if (!(p->out->xcr0 & VX_MASK_TILEDATA))
		p->d1_eax &= ~B(4);
}

/* ----------------------------------------------------------------------------------------- */
/* The result                                                                                   */

static void add_entry(struct vx_baseline *b, uint32_t fn, uint32_t idx, struct vx_cpuid_regs r)
{
	bool indexed = fn == 7 || fn == 0xD;

	if (b->ncpuid < VX_BASELINE_MAX_CPUID)
		b->cpuid[b->ncpuid++] = (struct vx_kvm_cpuid_entry){
		    fn,	   idx,	 indexed ? VX_KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0u, r.eax, r.ebx,
		    r.ecx, r.edx};
}

/* Sizes of the baseline layout, computed as the hardware does (arch.md §2.4). */
static void sizes(struct pool *p)
{
	struct vx_baseline *b = p->out;
	uint32_t std = VX_EXTENDED_OFFSET, cmp = VX_EXTENDED_OFFSET;

	for (unsigned i = 2; i < VX_COMP_LIMIT; i++) {
		if ((b->xcr0 & VX_BIT(i)) && p->offset[i] + p->size[i] > std)
			std = p->offset[i] + p->size[i];
		if (!((b->xcr0 | b->xss) & VX_BIT(i)))
			continue;
		if (p->ecx[i] & B(1))
			cmp = (cmp + 63u) & ~63u;
		cmp += p->size[i];
	}
	b->standard_size = std;
	b->compacted_size = cmp;
	b->xsave2 = std > VX_KVM_XSAVE_SIZE ? std : VX_KVM_XSAVE_SIZE;
}

/* Leaf 0xD derived from the baseline, never passed through (anchors.md §1.1). */
static void derive_leaf_d(struct pool *p)
{
	struct vx_baseline *b = p->out;
	bool compacted = b->xsavec || b->xsaves;

	add_entry(b, 0xD, 0,
		  (struct vx_cpuid_regs){(uint32_t)b->xcr0, b->standard_size, b->standard_size,
					 (uint32_t)(b->xcr0 >> 32)});
	add_entry(b, 0xD, 1,
		  (struct vx_cpuid_regs){p->d1_eax, compacted ? b->compacted_size : 0u,
					 (uint32_t)b->xss, (uint32_t)(b->xss >> 32)});
	for (unsigned i = 2; i < VX_COMP_LIMIT; i++) {
		bool sup = b->xss & VX_BIT(i);

		if (!((b->xcr0 | b->xss) & VX_BIT(i)))
			continue;
		add_entry(b, 0xD, i,
			  (struct vx_cpuid_regs){p->size[i], sup ? 0u : p->offset[i],
						 (p->ecx[i] & (B(1) | B(2))) | (sup ? B(0) : 0u),
						 0});
	}
}

static void features(struct pool *p)
{
	struct vx_baseline *b = p->out;
	uint32_t e7c = p->words[1].ecx, e7d = p->words[1].edx;

	b->shstk = e7c & B(7);
	b->ibt = e7d & B(20);
	b->xsaveopt = p->d1_eax & B(0);
	b->xsavec = p->d1_eax & B(1);
	b->xgetbv1 = p->d1_eax & B(2);
	b->xsaves = p->d1_eax & B(3);
	b->xfd = p->d1_eax & B(4);
	add_entry(b, 1, 0, p->words[0]);
	add_entry(b, 7, 0, p->words[1]);
	add_entry(b, 7, 1, p->words[2]);
}

static bool msr_needed(const struct vx_baseline *b, enum msr_need need)
{
	return need == NEED_XSAVES ? b->xsaves
	       : need == NEED_XFD  ? b->xfd
	       : need == NEED_CET  ? b->shstk || b->ibt
				   : b->shstk;
}

/* The XSAVE/CET MSRs every host lists and the baseline uses (kvm.md §3.3, §5.4). */
static void msrs(struct pool *p)
{
	for (size_t i = 0; i < sizeof(state_msrs) / sizeof(state_msrs[0]); i++) {
		bool all = msr_needed(p->out, state_msrs[i].need);

		for (unsigned k = 0; k < p->n && all; k++) {
			bool listed = false;

			for (uint32_t j = 0; j < p->h[k].nmsrs; j++)
				listed |= p->h[k].msrs[j] == state_msrs[i].msr;
			all = listed;
		}
		if (all && p->out->nmsrs < VX_BASELINE_MAX_MSRS)
			p->out->msrs[p->out->nmsrs++] = state_msrs[i].msr;
	}
}

static void combine(struct pool *p)
{
	intersect_masks(p);
	for (unsigned i = 2; i < VX_COMP_LIMIT; i++)
		if ((p->out->xcr0 | p->out->xss) & VX_BIT(i))
			same_geometry(p, i);
	close_masks(p);
	intersect_words(p);
	drop_dependents(p);
	features(p);
	sizes(p);
	derive_leaf_d(p);
	msrs(p);
}

int vx_baseline_compute(const struct vx_compat_target *hosts, unsigned nhosts,
			struct vx_baseline *baseline, struct vx_error *err)
{
	return vx_baseline_compute_with_platform(hosts, nhosts, NULL, baseline, err);
}

int vx_baseline_compute_with_platform(const struct vx_compat_target *hosts, unsigned nhosts,
				      const struct vx_platform *platform,
				      struct vx_baseline *baseline, struct vx_error *err)
{
	struct vx_vmm_watch watch;
	struct pool p;
	struct vx_baseline *out;
	int rc = 0;

	if (!hosts || !baseline || nhosts == 0 || nhosts > VX_BASELINE_MAX_HOSTS)
		return vx_error_set(err, -EINVAL, NULL, "a baseline needs 1 to %u hosts, not %u",
				    VX_BASELINE_MAX_HOSTS, nhosts);
	vx_vmm_watch_init(&watch, platform);
	memset(&p, 0, sizeof(p));
	p.h = vx_vmm_zalloc(&watch.platform, nhosts * sizeof(*p.h));
	out = vx_vmm_zalloc(&watch.platform, sizeof(*out));
	if (!p.h || !out)
		rc = vx_error_set(err, -ENOMEM, NULL, "out of memory");
	for (unsigned k = 0; !rc && k < nhosts; k++)
		rc = ask_host(&watch.platform, &hosts[k], &p.h[k], err);
	/* A host step that could not allocate and went on (the permission) asked nothing. */
	if (!rc && watch.failed)
		rc = vx_error_set(err, -ENOMEM, NULL, "out of memory while asking the hosts");
	if (!rc) {
		p.n = nhosts;
		p.out = out;
		out->nhosts = nhosts;
		p.list = (struct vx_compat_list){out->notes, &out->count, &out->omitted,
						 VX_COMPAT_FINDINGS_MAX};
		combine(&p);
		memcpy(baseline, out, sizeof(*out));
	}
	vx_vmm_free(&watch.platform, p.h);
	vx_vmm_free(&watch.platform, out);
	return rc;
}
