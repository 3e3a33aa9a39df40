/* SPDX-License-Identifier: MIT */
/*
 * A real VMM's saved vCPU state, and capture from a /dev/kvm (vmm_compat.h; issue 10).
 *
 * Cloud Hypervisor (docs/vmm.md "Cloud Hypervisor snapshots" has the source read): a snapshot
 * directory holds state.json, the serde_json text of the VM's `Snapshot` tree
 * {"snapshots": {id: Snapshot}, "snapshot_data": {"state": STRING} | null}.  The vCPUs are the
 * children of "cpu-manager", keyed by vCPU id; each one's "state" string is itself JSON: the
 * `CpuState` enum, externally tagged, {"Kvm": VcpuKvmState}.  Of VcpuKvmState this reads
 * "cpuid" (CpuIdEntry objects), "msrs" ({index, data}), "xsave" ({region: 1024 __u32, extra:
 * more __u32 for KVM_GET_XSAVE2}) and "xcrs" (struct kvm_xcrs as its 392 bytes, the way
 * kvm-bindings serialises ioctl structs); the other members (regs, sregs, lapic...) are not
 * extended state and are left alone.
 *
 * Capture: one call sequence through struct vx_kvm_backend, so the real /dev/kvm and the
 * drop-in model give bundles made the same way; the registers loaded with KVM_SET_XSAVE or by
 * a guest under KVM_RUN (capture_guest.c), the way recorded in the bundle.
 */
#include <linux/kvm.h>
#include <stdlib.h>

#include "vmm/capture_guest.h"
#include "vmm/compat_internal.h"
#include "vmm/vmm_internal.h"

/* struct kvm_xcrs as kvm-bindings serialises it: nr_xcrs, flags, 16 x {xcr, reserved, value},
 * 16 x __u64 padding (<linux/kvm.h>). */
#define KVM_XCRS_BYTES	392u
#define CH_REGION_WORDS 1024u

/* ----------------------------------------------------------------------------------------- */
/* Cloud Hypervisor                                                                             */

static int ch_cpuid(const struct vx_json *list, const char *path, struct vx_vmm_bundle *b,
		    struct vx_error *err)
{
	struct vx_kvm_cpuid_entry e;
	char sub[200];
	int rc = vx_bundle_array(list, path, VX_VMM_BUNDLE_MAX_CPUID, err);

	for (size_t i = 0; !rc && i < list->count; i++) {
		vx_bundle_path(sub, sizeof(sub), path, NULL, i);
		rc = vx_bundle_cpuid_entry(list->items[i], sub, &e, err);
		if (!rc)
			rc = vx_bundle_add_cpuid(b, &e, list->items[i], sub, err);
	}
	return rc;
}

static int ch_msrs(const struct vx_json *list, const char *path, struct vx_vmm_bundle *b,
		   struct vx_error *err)
{
	static const char *const keys[] = {"index", "data", NULL};
	uint64_t index = 0, data = 0;
	char sub[200];
	int rc = vx_bundle_array(list, path, VX_VMM_BUNDLE_MAX_MSRS, err);

	for (size_t i = 0; !rc && i < list->count; i++) {
		vx_bundle_path(sub, sizeof(sub), path, NULL, i);
		rc = vx_bundle_object(list->items[i], sub, keys, keys, err);
		if (!rc)
			rc = vx_bundle_member_u64(list->items[i], sub, "index", UINT32_MAX, &index,
						  err);
		if (!rc)
			rc = vx_bundle_member_u64(list->items[i], sub, "data", UINT64_MAX, &data,
						  err);
		if (!rc)
			rc = vx_bundle_add_msr(b, (uint32_t)index, data, list->items[i], sub, err);
	}
	return rc;
}

/* __u32 words appended to the blob, little-endian as in memory. */
static int ch_words(const struct vx_json *list, const char *path, struct vx_vmm_bundle *b,
		    struct vx_error *err)
{
	uint64_t w = 0;
	char sub[200];
	int rc = vx_bundle_array(list, path, VX_VMM_BUNDLE_XSAVE_MAX / 4u, err);

	for (size_t i = 0; !rc && i < list->count; i++) {
		rc = vx_bundle_u64(list->items[i], vx_bundle_path(sub, sizeof(sub), path, NULL, i),
				   UINT32_MAX, &w, err);
		if (!rc && b->xsave_len + 4u > VX_VMM_BUNDLE_XSAVE_MAX)
			rc = vx_bundle_fail(err, -EFBIG, list->items[i], sub,
					    "oversized: more than %u bytes of XSAVE state",
					    VX_VMM_BUNDLE_XSAVE_MAX);
		if (!rc) {
			vx_le_put(b->xsave + b->xsave_len, 4, w);
			b->xsave_len += 4;
		}
	}
	return rc;
}

/* XsaveState {region: [u32; 1024], extra: Vec<u32> (skipped when empty)}: the kvm_xsave
 * region, then the KVM_GET_XSAVE2 words past it. */
static int ch_xsave(const struct vx_json *x, const char *path, struct vx_vmm_bundle *b,
		    struct vx_error *err)
{
	static const char *const keys[] = {"region", "extra", NULL};
	static const char *const required[] = {"region", NULL};
	const struct vx_json *region = vx_json_get(x, "region"), *extra = vx_json_get(x, "extra");
	char sub[200];
	int rc = vx_bundle_object(x, path, keys, required, err);

	vx_bundle_path(sub, sizeof(sub), path, "region", 0);
	if (!rc)
		rc = ch_words(region, sub, b, err);
	/* kvm.md §5.1: the region is struct kvm_xsave's 1024 __u32, never fewer. */
	if (!rc && region->count != CH_REGION_WORDS)
		rc = vx_bundle_fail(err, -EINVAL, region, sub,
				    "%s: %zu words, struct kvm_xsave's region has %u",
				    region->count < CH_REGION_WORDS ? "truncated" : "oversized",
				    region->count, CH_REGION_WORDS);
	if (!rc && extra)
		rc = ch_words(extra, vx_bundle_path(sub, sizeof(sub), path, "extra", 0), b, err);
	return rc;
}

/* struct kvm_xcrs from its bytes (serialize.rs: kvm-bindings writes ioctl structs as their
 * bytes; <linux/kvm.h> gives the layout). */
static int ch_xcrs(const struct vx_json *list, const char *path, struct vx_vmm_bundle *b,
		   struct vx_error *err)
{
	uint8_t raw[KVM_XCRS_BYTES];
	uint64_t v = 0;
	uint32_t n;
	char sub[200];
	int rc = vx_bundle_array(list, path, KVM_XCRS_BYTES, err);

	if (!rc && list->count != KVM_XCRS_BYTES)
		rc = vx_bundle_fail(err, -EINVAL, list, path,
				    "truncated: %zu bytes, struct kvm_xcrs has %u", list->count,
				    KVM_XCRS_BYTES);
	for (size_t i = 0; !rc && i < KVM_XCRS_BYTES; i++) {
		rc = vx_bundle_u64(list->items[i], vx_bundle_path(sub, sizeof(sub), path, NULL, i),
				   0xFF, &v, err);
		raw[i] = (uint8_t)v;
	}
	if (rc)
		return rc;
	n = (uint32_t)vx_le(raw, 4);
	/* kvm.md §4.3: KVM_SET_XCRS takes at most KVM_MAX_XCRS (16) entries. */
	if (n > VX_KVM_MAX_XCRS)
		return vx_bundle_fail(err, -EINVAL, list, path,
				      "nr_xcrs = %u, more than KVM_MAX_XCRS (16; kvm.md §4.3)", n);
	b->xcrs.nr_xcrs = n;
	b->xcrs.flags = (uint32_t)vx_le(raw + 4, 4);
	for (uint32_t i = 0; i < n; i++) {
		b->xcrs.xcrs[i].xcr = (uint32_t)vx_le(raw + 8 + 16 * i, 4);
		b->xcrs.xcrs[i].value = vx_le(raw + 16 + 16 * i, 8);
	}
	return 0;
}

static int ch_kvm_state(const struct vx_json *st, const char *path, struct vx_vmm_bundle *b,
			struct vx_error *err)
{
	static const char *const required[] = {"cpuid", "msrs", "xsave", "xcrs", NULL};
	char sub[200];
	int rc = 0;

	if (!st || st->type != VX_JSON_OBJECT)
		return vx_bundle_fail(err, -EINVAL, st, path, "expected VcpuKvmState, found %s",
				      st ? vx_json_type_name(st->type) : "nothing");
	for (const char *const *k = required; *k && !rc; k++)
		if (!vx_json_get(st, *k))
			rc = vx_bundle_fail(err, -EINVAL, st, path,
					    "missing \"%s\": not a KVM vCPU state", *k);
	if (!rc)
		rc = ch_cpuid(vx_json_get(st, "cpuid"),
			      vx_bundle_path(sub, sizeof(sub), path, "cpuid", 0), b, err);
	if (!rc)
		rc = ch_msrs(vx_json_get(st, "msrs"),
			     vx_bundle_path(sub, sizeof(sub), path, "msrs", 0), b, err);
	if (!rc)
		rc = ch_xsave(vx_json_get(st, "xsave"),
			      vx_bundle_path(sub, sizeof(sub), path, "xsave", 0), b, err);
	if (!rc)
		rc = ch_xcrs(vx_json_get(st, "xcrs"),
			     vx_bundle_path(sub, sizeof(sub), path, "xcrs", 0), b, err);
	if (!rc)
		rc = vx_bundle_check_blob_size(b->xsave_len, vx_json_get(st, "xsave"), path, err);
	return rc;
}

int vx_ch_read_vcpu(const struct vx_json *root, const char *path, unsigned vcpu,
		    struct vx_vmm_bundle *b, struct vx_error *err)
{
	char sub[200];

	/* CpuState is an externally tagged enum: {"Kvm": ...} or {"Mshv": ...}. */
	if (vx_json_get(root, "Mshv"))
		return vx_bundle_fail(err, -EINVAL, root, path,
				      "an MSHV vCPU state: only KVM vCPU states are read");
	if (root->type != VX_JSON_OBJECT || root->count != 1 || !vx_json_get(root, "Kvm"))
		return vx_bundle_fail(err, -EINVAL, root, path,
				      "expected a CpuState {\"Kvm\": {...}}");
	b->vcpu_id = vcpu;
	if (!b->origin[0])
		snprintf(b->origin, sizeof(b->origin),
			 "Cloud Hypervisor vCPU state (CpuState::Kvm)");
	return ch_kvm_state(vx_json_get(root, "Kvm"),
			    vx_bundle_path(sub, sizeof(sub), path, "Kvm", 0), b, err);
}

static const struct vx_json *ch_child(const struct vx_json *node, const char *id, const char *path,
				      struct vx_error *err)
{
	const struct vx_json *children = vx_json_get(node, "snapshots"), *child;

	if (!children || children->type != VX_JSON_OBJECT) {
		vx_bundle_fail(err, -EINVAL, node, path,
			       "no \"snapshots\" object: not a Cloud Hypervisor Snapshot");
		return NULL;
	}
	child = vx_json_get(children, id);
	if (!child)
		vx_bundle_fail(err, -EINVAL, children, path, "no \"%s\" among its %zu snapshots",
			       id, children->count);
	return child;
}

/* A failure inside the embedded JSON: say where the string is in the file. */
static int ch_embedded_fail(struct vx_error *err, const struct vx_json *state, const char *path)
{
	char inner[VX_ERROR_REASON_MAX];

	if (!err)
		return -EINVAL;
	snprintf(inner, sizeof(inner), "%s", err->reason);
	vx_error_set(err, err->code, err->rule, "line %u: %s (the embedded vCPU state): %s",
		     state->line, path, inner);
	err->line = state->line;
	return err->code;
}

int vx_ch_read_snapshot(const struct vx_platform *pl, const struct vx_json *root, unsigned vcpu,
			struct vx_vmm_bundle *b, struct vx_error *err)
{
	const struct vx_json *cpus, *node, *data, *state;
	struct vx_json_doc *doc = NULL;
	char id[16], path[200];
	int rc;

	snprintf(id, sizeof(id), "%u", vcpu);
	cpus = ch_child(root, "cpu-manager", "snapshots", err);
	node = cpus ? ch_child(cpus, id, "snapshots.cpu-manager.snapshots", err) : NULL;
	if (!node)
		return err ? err->code : -EINVAL;
	snprintf(path, sizeof(path), "snapshots.cpu-manager.snapshots.%s.snapshot_data.state", id);
	data = vx_json_get(node, "snapshot_data");
	state = vx_json_get(data, "state");
	if (!state || state->type != VX_JSON_STRING)
		return vx_bundle_fail(err, -EINVAL, data ? data : node, path,
				      "expected the vCPU's state as a JSON string");
	rc = vx_json_parse_with(pl, state->text, state->len, &doc, err);
	if (!rc)
		rc = vx_ch_read_vcpu(vx_json_root(doc), "Kvm-state", vcpu, b, err);
	vx_json_free(doc);
	if (rc)
		return ch_embedded_fail(err, state, path);
	snprintf(b->origin, sizeof(b->origin), "Cloud Hypervisor snapshot state.json, vCPU %u",
		 vcpu);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Capture                                                                                      */

void vx_vmm_capture_options_init(struct vx_vmm_capture_options *o)
{
	memset(o, 0, sizeof(*o));
	o->flavour = -1;
	o->design = -1;
	o->seed = 1;
}

/* xorshift32 (Marsaglia 2003): the documented generator of the capture patterns. */
static uint32_t xorshift32(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static void pattern_bytes(uint32_t seed, unsigned component, uint8_t *out, uint32_t size)
{
	uint32_t state = (seed ^ (0x9E3779B9u * (component + 1))) | 1u;

	for (uint32_t i = 0; i < size; i++)
		out[i] = (uint8_t)xorshift32(&state);
}

/* x87 (arch.md §2.2): FCW 0x037F, every register valid (FTW 0xFF), ST(i) normal numbers. */
static void pattern_x87(uint32_t seed, uint8_t *out, uint32_t size)
{
	uint8_t mant[8 * 8];

	memset(out, 0, size);
	pattern_bytes(seed, 0, mant, sizeof(mant));
	vx_le_put(out, 2, 0x037F);
	out[4] = 0xFF;
	for (unsigned i = 0; i < 8 && 32 + 16 * i + 10 <= size; i++) {
		memcpy(out + 32 + 16 * i, mant + 8 * i, 8);
		out[32 + 16 * i + 7] |= 0x80;			  /* the integer bit */
		vx_le_put(out + 32 + 16 * i + 8, 2, 0x3FFFu + i); /* exponent, sign 0 */
	}
}

/* TILECFG (arch.md §2.1): palette 1, eight tiles of 16 rows x 64 bytes, the rest zero. */
static void pattern_tilecfg(uint8_t *out, uint32_t size)
{
	memset(out, 0, size);
	out[0] = 1;
	for (unsigned i = 0; i < 8 && 48 + i < size; i++) {
		vx_le_put(out + 16 + 2 * i, 2, 64);
		out[48 + i] = 16;
	}
}

bool vx_vmm_capture_pattern(uint32_t seed, unsigned component, uint8_t *out, uint32_t size)
{
	static const bool patterned[VX_COMP_LIMIT] = {
	    [VX_COMP_X87] = true,    [VX_COMP_SSE] = true,	 [VX_COMP_AVX] = true,
	    [VX_COMP_OPMASK] = true, [VX_COMP_ZMM_HI256] = true, [VX_COMP_HI16_ZMM] = true,
	    [VX_COMP_PKRU] = true,   [VX_COMP_XTILECFG] = true,	 [VX_COMP_XTILEDATA] = true,
	    [VX_COMP_APX] = true,
	};

	if (component >= VX_COMP_LIMIT || !patterned[component])
		return false;
	if (component == VX_COMP_X87)
		pattern_x87(seed, out, size);
	else if (component == VX_COMP_XTILECFG)
		pattern_tilecfg(out, size);
	else
		pattern_bytes(seed, component, out, size);
	/* PKRU is 4 bytes of register and 4 reserved (arch.md §2.1). */
	if (component == VX_COMP_PKRU && size > 4)
		memset(out + 4, 0, size - 4);
	return true;
}

struct capture {
	const struct vx_vmm_capture_options *o;
	const struct vx_kvm_backend *be;
	struct vx_vmm_bundle *b;
	struct vx_error *err;
	int sys, vm, vcpu;
	uint32_t xsave_size;
	uint64_t xcr0, xss;
	uint8_t *buf;
	const struct vx_platform *pf; /* every allocation (NULL given: the default) */
};

/* A failed allocation of the capture or the read-back: -ENOMEM naming what it was for. */
static int no_memory(struct capture *c, const char *what)
{
	return vx_error_set(c->err, -ENOMEM, NULL, "cannot allocate %s", what);
}

static int call(struct capture *c, int fd, unsigned long request, void *arg, const char *name)
{
	int r = c->be->ioctl(c->be->ctx, fd, request, arg);

	if (r < 0)
		return vx_error_set(c->err, -errno, "kvm.md §2-§5", "%s on the %s /dev/kvm: %s",
				    name, c->be->name, strerror(errno));
	return r;
}

static struct kvm_cpuid2 *cpuid_alloc(struct capture *c)
{
	struct kvm_cpuid2 *cpuid = vx_vmm_zalloc(
	    c->pf, sizeof(*cpuid) + VX_VMM_BUNDLE_MAX_CPUID * sizeof(struct kvm_cpuid_entry2));

	if (cpuid)
		cpuid->nent = VX_VMM_BUNDLE_MAX_CPUID;
	return cpuid;
}

/* CPUID.(0xD, @index) EDX:EAX (sub-leaf 0: the XCR0 bits) or EDX:ECX (1: the XSS bits). */
static uint64_t cpuid_mask(const struct kvm_cpuid2 *cpuid, uint32_t index)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 0xD && e->index == index)
			return (index ? e->ecx : e->eax) | (uint64_t)e->edx << 32;
	}
	return 0;
}

/* KVM_SET_CPUID2 with the options' CPUID or KVM_GET_SUPPORTED_CPUID (kvm.md §2.1, §2.5). */
static int set_cpuid(struct capture *c)
{
	struct kvm_cpuid2 *cpuid = cpuid_alloc(c);
	int rc = cpuid ? 0 : no_memory(c, "the KVM_SET_CPUID2 buffer");

	if (!rc && c->o->cpuid) {
		cpuid->nent = c->o->ncpuid;
		for (uint32_t i = 0; i < c->o->ncpuid && i < VX_VMM_BUNDLE_MAX_CPUID; i++) {
			const struct vx_kvm_cpuid_entry *e = &c->o->cpuid[i];

			cpuid->entries[i] = (struct kvm_cpuid_entry2){.function = e->function,
								      .index = e->index,
								      .flags = e->flags,
								      .eax = e->eax,
								      .ebx = e->ebx,
								      .ecx = e->ecx,
								      .edx = e->edx};
		}
	} else if (!rc) {
		rc = call(c, c->sys, KVM_GET_SUPPORTED_CPUID, cpuid, "KVM_GET_SUPPORTED_CPUID");
	}
	if (rc >= 0)
		rc = call(c, c->vcpu, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
	if (rc >= 0) {
		c->xcr0 = c->o->set_xcr0 ? c->o->xcr0 : cpuid_mask(cpuid, 0);
		c->xss = cpuid_mask(cpuid, 1);
	}
	vx_vmm_free(c->pf, cpuid);
	return rc < 0 ? rc : 0;
}

static int set_xcr0(struct capture *c)
{
	struct kvm_xcrs xcrs;

	/* XCR0 must have x87 (arch.md §3.1); none means the CPUID enables no XSAVE. */
	if (!(c->xcr0 & 1))
		return 0;
	memset(&xcrs, 0, sizeof(xcrs));
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].value = c->xcr0;
	return call(c, c->vcpu, KVM_SET_XCRS, &xcrs, "KVM_SET_XCRS") < 0 ? -1 : 0;
}

/* Is @msr in KVM_GET_MSR_INDEX_LIST?  -ENOMEM when the list cannot be allocated (a guess
 * would change what the capture sets). */
static int listed(struct capture *c, uint32_t msr, bool *found)
{
	struct kvm_msr_list *list =
	    vx_vmm_zalloc(c->pf, sizeof(*list) + VX_VMM_BUNDLE_MAX_MSRS * 4u);

	*found = false;
	if (!list)
		return no_memory(c, "the MSR index list");
	list->nmsrs = VX_VMM_BUNDLE_MAX_MSRS;
	if (c->be->ioctl(c->be->ctx, c->sys, KVM_GET_MSR_INDEX_LIST, list) >= 0)
		for (uint32_t i = 0; i < list->nmsrs; i++)
			*found |= list->indices[i] == msr;
	vx_vmm_free(c->pf, list);
	return 0;
}

/* IA32_XSS = the supervisor bits the CPUID enables, as a guest kernel sets it, when KVM lists
 * the MSR (kvm.md §3.2, §3.3); restored before anything XRSTORS would use (§5.4). */
static int set_xss(struct capture *c)
{
	struct kvm_msrs *m;
	bool found = false;
	int rc = c->xss ? listed(c, VX_MSR_IA32_XSS, &found) : 0;

	if (rc || !found)
		return rc;
	m = vx_vmm_zalloc(c->pf, sizeof(*m) + sizeof(struct kvm_msr_entry));
	if (!m)
		return no_memory(c, "the KVM_SET_MSRS buffer");
	m->nmsrs = 1;
	m->entries[0].index = VX_MSR_IA32_XSS;
	m->entries[0].data = c->xss;
	rc = c->be->ioctl(c->be->ctx, c->vcpu, KVM_SET_MSRS, m);
	vx_vmm_free(c->pf, m);
	if (rc == 1)
		return 0;
	return vx_error_set(c->err, -EINVAL, "kvm.md §3.2",
			    "KVM_SET_MSRS(IA32_XSS = 0x%llx) on the %s /dev/kvm was refused",
			    (unsigned long long)c->xss, c->be->name);
}

/* The known registers: every user component of XCR0 the host lays out (docs/vmm.md). */
static int load_patterns(struct capture *c)
{
	uint8_t *pat = vx_vmm_zalloc(c->pf, VX_VMM_BUNDLE_XSAVE_MAX);
	uint64_t bv = vx_le(c->buf + VX_XSTATE_BV_OFFSET, 8);
	struct vx_component_desc d;

	if (!pat)
		return no_memory(c, "the register patterns");
	for (unsigned i = 0; i < VX_COMP_LIMIT; i++) {
		if (!(c->xcr0 & VX_BIT(i)) || !vx_profile_component(c->o->host, i, &d) ||
		    d.supervisor || d.standard_offset + (uint64_t)d.size > c->xsave_size ||
		    !vx_vmm_capture_pattern(c->o->seed, i, pat, d.size))
			continue;
		if (i == VX_COMP_X87) {
			memcpy(c->buf, pat, 24);
			memcpy(c->buf + 32, pat + 32, 128);
		} else {
			memcpy(c->buf + d.standard_offset, pat, d.size);
		}
		bv |= VX_BIT(i);
	}
	/* MXCSR: the default with sticky exception flags from the seed (arch.md §2.2). */
	if (c->xcr0 & VX_BIT(VX_COMP_SSE))
		vx_le_put(c->buf + VX_MXCSR_OFFSET, 4, 0x1F80u | (c->o->seed & 0x3Fu));
	vx_le_put(c->buf + VX_XSTATE_BV_OFFSET, 8, bv);
	vx_vmm_free(c->pf, pat);
	return 0;
}

static int xsave_get(struct capture *c)
{
	bool v2 = c->xsave_size > VX_KVM_XSAVE_SIZE;

	return call(c, c->vcpu, v2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, c->buf,
		    v2 ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE");
}

/* The blob as KVM_GET_XSAVE2 gives it now, into the bundle. */
static int save_xsave(struct capture *c)
{
	int rc = xsave_get(c);

	if (rc < 0)
		return rc;
	memcpy(c->b->xsave, c->buf, c->xsave_size);
	c->b->xsave_len = c->xsave_size;
	return 0;
}

static int load_registers(struct capture *c)
{
	int rc = xsave_get(c);

	if (rc >= 0)
		rc = load_patterns(c);
	if (rc < 0)
		return rc;
	rc = call(c, c->vcpu, KVM_SET_XSAVE, c->buf, "KVM_SET_XSAVE");
	snprintf(c->b->registers_set_by, sizeof(c->b->registers_set_by), "%s",
		 VX_VMM_SET_BY_KVM_SET_XSAVE_NAME);
	return rc < 0 ? rc : save_xsave(c);
}

/* Quirk pvm-cpl3-native: guest CPL3 code runs with the host's PKRU, so a WRPKRU there never
 * reaches the vCPU's (quirks.c); the guest leaves PKRU alone and the note says so. */
static uint64_t guest_cannot_set(const struct capture *c)
{
	if (c->o->flavour >= 0 && (vx_kvm_flavour_quirks((enum vx_kvm_flavour)c->o->flavour) &
				   VX_BIT(VX_KVM_QUIRK_PVM_CPL3_NATIVE)))
		return VX_BIT(VX_COMP_PKRU);
	return 0;
}

/* What the guest set, in the bundle's note: "x87 SSE AVX set by a guest at CPL3 under
 * KVM_RUN; not in the guest XCR0: AVX-512 PKRU". */
static void note_guest(struct capture *c, uint64_t done)
{
	static const struct {
		uint64_t mask;
		const char *name;
	} parts[] = {{VX_BIT(VX_COMP_X87), "x87"},
		     {VX_BIT(VX_COMP_SSE), "SSE"},
		     {VX_BIT(VX_COMP_AVX), "AVX"},
		     {VX_BIT(VX_COMP_OPMASK), "AVX-512"},
		     {VX_BIT(VX_COMP_PKRU), "PKRU"}};
	char set[64] = "", unset[64] = "";
	int n;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		char *to = done & parts[i].mask ? set : unset;

		if (!(done & parts[i].mask) && (c->xcr0 & guest_cannot_set(c) & parts[i].mask))
			continue;
		snprintf(to + strlen(to), 64 - strlen(to), "%s%s", *to ? " " : "", parts[i].name);
	}
	n = snprintf(c->b->registers_note, sizeof(c->b->registers_note),
		     "%s set by a guest at CPL3 under KVM_RUN%s%s", set,
		     *unset ? "; not in the guest XCR0: " : "", unset);
	if (n > 0 && (size_t)n < sizeof(c->b->registers_note) && (c->xcr0 & guest_cannot_set(c)))
		snprintf(c->b->registers_note + n, sizeof(c->b->registers_note) - (size_t)n,
			 "; PKRU not set: quirk pvm-cpl3-native (guest CPL3 code runs with the "
			 "host's PKRU)");
}

/* The guest ran: the bundle says so if KVM_GET_XSAVE2 holds what it wrote; if not, the values
 * go in with KVM_SET_XSAVE and the note names the components (never a guest claim it did not
 * earn). */
static int check_guest(struct capture *c, uint64_t done)
{
	struct vx_capture_values v;
	uint64_t bad;
	char names[96];
	int rc;

	vx_capture_values(c->o->seed, c->xcr0 & ~guest_cannot_set(c), &v);
	bad = vx_capture_check(&v, c->o->host, c->b->xsave, c->b->xsave_len);
	if (!bad) {
		snprintf(c->b->registers_set_by, sizeof(c->b->registers_set_by), "%s",
			 VX_VMM_SET_BY_GUEST_NAME);
		note_guest(c, done);
		return 0;
	}
	vx_format_component_mask(bad, names, sizeof(names));
	rc = load_registers(c);
	snprintf(c->b->registers_note, sizeof(c->b->registers_note),
		 "the guest ran, but KVM_GET_XSAVE2 did not hold what it wrote: %s", names);
	return rc;
}

/* A guest loads the registers (capture_guest.c); when it cannot run, KVM_SET_XSAVE does, and
 * the bundle says why (issue 10: "registers set by a real guest where KVM_RUN works"). */
static int set_registers(struct capture *c)
{
	char why[VX_VMM_ORIGIN_MAX - 40];
	uint64_t done = 0;
	int rc;

	c->b->registers_seed = c->o->seed;
	if (c->o->set_by != VX_VMM_SET_BY_GUEST)
		return load_registers(c);
	rc = vx_capture_guest_run(c->be, c->o->model, c->pf, c->sys, c->vm, c->vcpu, c->o->seed,
				  c->xcr0 & ~guest_cannot_set(c), &done, why, sizeof(why));
	/* Out of memory is the capture's error, not a guest that cannot run here: a fallback
	 * would give another bundle (docs/robustness.md "Allocation-failure injection"). */
	if (rc == -ENOMEM)
		return vx_error_set(c->err, -ENOMEM, NULL, "the capture guest: %s", why);
	if (rc) {
		rc = load_registers(c);
		snprintf(c->b->registers_note, sizeof(c->b->registers_note),
			 "the guest could not run: %s", why);
		return rc;
	}
	rc = save_xsave(c);
	return rc ? rc : check_guest(c, done);
}

/* KVM_GET_MSRS of every listed MSR, skipping those it refuses, as a VMM's save does. */
static int read_msrs(struct capture *c)
{
	struct kvm_msr_list *list =
	    vx_vmm_zalloc(c->pf, sizeof(*list) + VX_VMM_BUNDLE_MAX_MSRS * 4u);
	struct kvm_msrs *msrs =
	    list ? vx_vmm_zalloc(c->pf, sizeof(*msrs) +
					    VX_VMM_BUNDLE_MAX_MSRS * sizeof(struct kvm_msr_entry))
		 : NULL;
	int rc = list && msrs ? 0 : no_memory(c, "the KVM_GET_MSRS buffers");
	uint32_t done = 0, n = 0;

	if (!rc) {
		list->nmsrs = VX_VMM_BUNDLE_MAX_MSRS;
		rc = call(c, c->sys, KVM_GET_MSR_INDEX_LIST, list, "KVM_GET_MSR_INDEX_LIST");
	}
	while (rc >= 0 && done < list->nmsrs) {
		/* kvm.md §3.1: KVM_GET_MSRS takes fewer than MAX_IO_MSRS (256) at a time. */
		n = list->nmsrs - done < 255u ? list->nmsrs - done : 255u;
		msrs->nmsrs = n;
		for (uint32_t i = 0; i < n; i++)
			msrs->entries[i] = (struct kvm_msr_entry){.index = list->indices[done + i]};
		rc = call(c, c->vcpu, KVM_GET_MSRS, msrs, "KVM_GET_MSRS");
		for (int i = 0; i < rc; i++)
			c->b->msrs[c->b->nmsrs++] = (struct vx_kvm_msr_entry){
			    msrs->entries[i].index, 0, msrs->entries[i].data};
		/* A short count: entry rc failed; leave it out and go on after it. */
		done += rc < 0 ? 0u : (uint32_t)rc == n ? n : (uint32_t)rc + 1u;
	}
	vx_vmm_free(c->pf, list);
	vx_vmm_free(c->pf, msrs);
	return rc < 0 ? rc : 0;
}

/* KVM_GET_REG_LIST and each register's value (the guest SSP with SHSTK, kvm.md §3.4).  A
 * kernel without x86 ONE_REG answers EINVAL/ENOTTY: nothing to save then. */
static int read_one_regs(struct capture *c)
{
	struct kvm_reg_list *regs =
	    vx_vmm_zalloc(c->pf, sizeof(*regs) + VX_VMM_BUNDLE_MAX_ONE_REG * sizeof(uint64_t));
	struct kvm_one_reg one;
	uint64_t value = 0;

	if (!regs)
		return no_memory(c, "the KVM_GET_REG_LIST buffer");
	regs->n = VX_VMM_BUNDLE_MAX_ONE_REG;
	if (c->be->ioctl(c->be->ctx, c->vcpu, KVM_GET_REG_LIST, regs) < 0)
		regs->n = 0;
	for (uint64_t i = 0; i < regs->n && i < VX_VMM_BUNDLE_MAX_ONE_REG; i++) {
		one = (struct kvm_one_reg){.id = regs->reg[i], .addr = (uint64_t)(uintptr_t)&value};
		if (c->be->ioctl(c->be->ctx, c->vcpu, KVM_GET_ONE_REG, &one) < 0)
			continue;
		c->b->one_regs[c->b->none_regs++] = (struct vx_vmm_one_reg){regs->reg[i], value};
	}
	vx_vmm_free(c->pf, regs);
	return 0;
}

/* Read the vCPU back as a VMM saves it: KVM_GET_CPUID2, KVM_GET_XCRS, the listed MSRs,
 * ONE_REG (kvm.md §2-§5); with @xsave first KVM_GET_XSAVE2 too (a capture has read the blob
 * already, where its guest check needed it).  The one read-back of capture and
 * vx_vmm_save_vcpu(). */
static int read_back(struct capture *c, bool xsave)
{
	struct kvm_cpuid2 *cpuid = cpuid_alloc(c);
	struct kvm_xcrs xcrs;
	int rc = xsave ? save_xsave(c) : 0;

	if (!cpuid && rc >= 0)
		rc = no_memory(c, "the KVM_GET_CPUID2 buffer");
	if (rc >= 0)
		rc = call(c, c->vcpu, KVM_GET_CPUID2, cpuid, "KVM_GET_CPUID2");
	for (uint32_t i = 0; rc >= 0 && i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		c->b->cpuid[c->b->ncpuid++] = (struct vx_kvm_cpuid_entry){
		    e->function, e->index, e->flags, e->eax, e->ebx, e->ecx, e->edx};
	}
	vx_vmm_free(c->pf, cpuid);
	memset(&xcrs, 0, sizeof(xcrs));
	if (rc >= 0)
		rc = call(c, c->vcpu, KVM_GET_XCRS, &xcrs, "KVM_GET_XCRS");
	for (uint32_t i = 0; rc >= 0 && i < xcrs.nr_xcrs && i < VX_KVM_MAX_XCRS; i++) {
		c->b->xcrs.xcrs[i].xcr = xcrs.xcrs[i].xcr;
		c->b->xcrs.xcrs[i].value = xcrs.xcrs[i].value;
		c->b->xcrs.nr_xcrs = i + 1;
	}
	if (rc >= 0)
		rc = read_msrs(c);
	if (rc >= 0)
		rc = read_one_regs(c);
	return rc < 0 ? rc : 0;
}

/* kvm.md §5.1: KVM_CAP_XSAVE2 on the VM is the buffer size (0: only KVM_GET_XSAVE). */
static int xsave_size(struct capture *c)
{
	int rc =
	    c->be->ioctl(c->be->ctx, c->vm, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_XSAVE2);

	c->xsave_size = rc > (int)VX_KVM_XSAVE_SIZE ? (uint32_t)rc : VX_KVM_XSAVE_SIZE;
	if (c->xsave_size > VX_VMM_BUNDLE_XSAVE_MAX)
		return vx_error_set(c->err, -EFBIG, "kvm.md §5.1",
				    "KVM_CAP_XSAVE2 = %u, more than a bundle holds (%u)",
				    c->xsave_size, VX_VMM_BUNDLE_XSAVE_MAX);
	return 0;
}

/* Guest permission first (kvm.md §2.6), then what the VMM holds. */
static int permission(struct capture *c)
{
	uint64_t perm = 0;

	if (!c->o->arch_prctl)
		return 0;
	if (c->o->guest_perm_amx &&
	    c->o->arch_prctl(c->o->prctl_ctx, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA))
		return vx_error_set(c->err, -errno, "kvm.md §2.6",
				    "arch_prctl(ARCH_REQ_XCOMP_GUEST_PERM, XTILE_DATA): %s",
				    strerror(errno));
	if (c->o->arch_prctl(c->o->prctl_ctx, VX_ARCH_GET_XCOMP_GUEST_PERM,
			     (unsigned long)(uintptr_t)&perm) == 0)
		c->b->guest_perm = perm;
	return 0;
}

static int open_vcpu(struct capture *c)
{
	int rc;

	c->sys = c->be->open(c->be->ctx);
	if (c->sys < 0)
		return vx_error_set(c->err, -errno, NULL, "open /dev/kvm (%s): %s", c->be->name,
				    strerror(errno));
	rc = permission(c);
	if (!rc)
		c->vm = call(c, c->sys, KVM_CREATE_VM, (void *)0, "KVM_CREATE_VM");
	if (!rc && c->vm >= 0)
		c->vcpu = call(c, c->vm, KVM_CREATE_VCPU, (void *)(uintptr_t)c->o->vcpu_id,
			       "KVM_CREATE_VCPU");
	if (rc || c->vm < 0 || c->vcpu < 0)
		return rc ? rc : c->err ? c->err->code : -EIO;
	return xsave_size(c);
}

static int capture_vcpu(struct capture *c)
{
	int rc = open_vcpu(c);

	if (!rc)
		rc = set_cpuid(c);
	if (!rc)
		rc = set_xcr0(c);
	if (!rc)
		rc = set_xss(c);
	if (!rc) {
		c->buf = vx_vmm_zalloc(c->pf, c->xsave_size);
		rc = c->buf ? set_registers(c) : no_memory(c, "the XSAVE buffer");
	}
	if (!rc)
		rc = read_back(c, false);
	return rc;
}

static void source(const struct vx_vmm_capture_options *o, struct vx_vmm_bundle *b)
{
	b->vcpu_id = o->vcpu_id;
	snprintf(b->origin, sizeof(b->origin), "%s", o->origin ? o->origin : "vxsave kvm capture");
	b->has_profile = o->host != NULL;
	b->profile_by_name = o->host_by_name;
	if (o->host)
		b->profile = *o->host;
	b->flavour = o->flavour;
	b->design = o->design;
}

int vx_vmm_capture(const struct vx_vmm_capture_options *options, struct vx_vmm_bundle *bundle,
		   struct vx_error *err)
{
	struct capture c = {options, NULL, NULL, err, -1, -1, -1, 0, 0, 0, NULL, NULL};
	int rc;

	if (!options || !options->backend || !options->host || !bundle)
		return vx_error_set(err, -EINVAL, NULL,
				    "capture needs a backend and a host profile");
	c.be = options->backend;
	c.pf = options->platform ? options->platform : vx_platform_default();
	c.b = vx_vmm_zalloc(c.pf, sizeof(*c.b));
	if (!c.b)
		return no_memory(&c, "the bundle");
	vx_vmm_bundle_init(c.b);
	source(options, c.b);
	rc = capture_vcpu(&c);
	if (!rc)
		memcpy(bundle, c.b, sizeof(*c.b));
	/* Children first, as a VMM tears down (a VM lives while its vCPUs' descriptors do). */
	if (c.vcpu >= 0)
		c.be->close(c.be->ctx, c.vcpu);
	if (c.vm >= 0)
		c.be->close(c.be->ctx, c.vm);
	if (c.sys >= 0)
		c.be->close(c.be->ctx, c.sys);
	vx_vmm_free(c.pf, c.buf);
	vx_vmm_free(c.pf, c.b);
	return rc;
}

int vx_vmm_save_vcpu(const struct vx_kvm_backend *backend, int sys_fd, int vm_fd, int vcpu_fd,
		     const struct vx_profile *host, struct vx_vmm_bundle *bundle,
		     struct vx_error *err)
{
	return vx_vmm_save_vcpu_with_platform(backend, sys_fd, vm_fd, vcpu_fd, host, NULL, bundle,
					      err);
}

int vx_vmm_save_vcpu_with_platform(const struct vx_kvm_backend *backend, int sys_fd, int vm_fd,
				   int vcpu_fd, const struct vx_profile *host,
				   const struct vx_platform *platform, struct vx_vmm_bundle *bundle,
				   struct vx_error *err)
{
	struct capture c = {NULL, backend, NULL, err, sys_fd, vm_fd, vcpu_fd, 0, 0, 0, NULL, NULL};
	int rc;

	if (!backend || !backend->ioctl || !bundle)
		return vx_error_set(err, -EINVAL, NULL,
				    "saving a vCPU needs a backend and a bundle");
	c.pf = platform ? platform : vx_platform_default();
	c.b = vx_vmm_zalloc(c.pf, sizeof(*c.b));
	if (!c.b)
		return no_memory(&c, "the bundle");
	/* The caller's source (origin, id, flavour...) stays; the saved state starts empty. */
	memcpy(c.b, bundle, sizeof(*c.b));
	c.b->ncpuid = c.b->nmsrs = c.b->none_regs = c.b->xsave_len = 0;
	memset(&c.b->xcrs, 0, sizeof(c.b->xcrs));
	c.b->has_profile = host != NULL;
	c.b->profile_inferred = false;
	if (host) {
		c.b->profile = *host;
		c.b->profile_by_name = vx_builtin_profile_text(host->name) != NULL;
	}
	rc = xsave_size(&c);
	c.buf = rc ? NULL : vx_vmm_zalloc(c.pf, c.xsave_size);
	if (!rc && !c.buf)
		rc = no_memory(&c, "the XSAVE buffer");
	if (!rc)
		rc = read_back(&c, true);
	if (!rc)
		memcpy(bundle, c.b, sizeof(*c.b));
	vx_vmm_free(c.pf, c.buf);
	vx_vmm_free(c.pf, c.b);
	return rc;
}
