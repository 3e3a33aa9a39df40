/* SPDX-License-Identifier: MIT */
/*
 * vCPU state bundles (vmm_compat.h, docs/vmm.md "Bundles"; issue 10): the reader, which also
 * recognises the Cloud Hypervisor files of vmm_state.c, and the writer.  Every error names the
 * line and the JSON path of the value that is wrong.
 */
#include <stdlib.h>

#include "vmm/compat_internal.h"

#define HEX_LINE 64u /* blob bytes per line of "data" */

/* ----------------------------------------------------------------------------------------- */
/* Reading values                                                                               */

int vx_bundle_fail(struct vx_error *err, int code, const struct vx_json *at, const char *path,
		   const char *fmt, ...)
{
	char what[VX_ERROR_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (at)
		vx_error_set(err, code, VX_BUNDLE_RULE, "line %u: %s: %s", at->line, path, what);
	else
		vx_error_set(err, code, VX_BUNDLE_RULE, "%s: %s", path, what);
	if (err && at)
		err->line = at->line;
	return code;
}

const char *vx_bundle_path(char *buf, size_t len, const char *path, const char *key, size_t index)
{
	if (key)
		snprintf(buf, len, "%s%s%s", path, *path ? "." : "", key);
	else
		snprintf(buf, len, "%s[%zu]", path, index);
	return buf;
}

static bool listed(const char *const *names, const char *name)
{
	for (; names && *names; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

int vx_bundle_object(const struct vx_json *obj, const char *path, const char *const *known,
		     const char *const *required, struct vx_error *err)
{
	char sub[160];

	if (!obj || obj->type != VX_JSON_OBJECT)
		return vx_bundle_fail(err, -EINVAL, obj, path, "expected an object, found %s",
				      obj ? vx_json_type_name(obj->type) : "nothing");
	for (size_t i = 0; i < obj->count; i++)
		if (!listed(known, obj->keys[i]))
			return vx_bundle_fail(
			    err, -EINVAL, obj->items[i],
			    vx_bundle_path(sub, sizeof(sub), path, obj->keys[i], 0),
			    "unknown key (a typo, or a newer format?)");
	for (; required && *required; required++)
		if (!vx_json_get(obj, *required))
			return vx_bundle_fail(err, -EINVAL, obj, path, "missing \"%s\"", *required);
	return 0;
}

int vx_bundle_array(const struct vx_json *v, const char *path, size_t max, struct vx_error *err)
{
	if (!v || v->type != VX_JSON_ARRAY)
		return vx_bundle_fail(err, -EINVAL, v, path, "expected an array, found %s",
				      v ? vx_json_type_name(v->type) : "nothing");
	if (v->count > max)
		return vx_bundle_fail(
		    err, -EFBIG, v, path,
		    "oversized: %zu elements, at most %zu fit (kvm.md §2.5, §5.1)", v->count, max);
	return 0;
}

int vx_bundle_u64(const struct vx_json *v, const char *path, uint64_t max, uint64_t *out,
		  struct vx_error *err)
{
	if (vx_json_u64(v, max, out))
		return 0;
	if (v && (v->type == VX_JSON_NUMBER || v->type == VX_JSON_STRING))
		return vx_bundle_fail(err, -EINVAL, v, path,
				      "\"%.40s\" is not an unsigned integer of at most 0x%llx",
				      v->text, (unsigned long long)max);
	return vx_bundle_fail(err, -EINVAL, v, path,
			      "expected a number or a \"0x...\" string, found %s",
			      v ? vx_json_type_name(v->type) : "nothing");
}

int vx_bundle_member_u64(const struct vx_json *obj, const char *path, const char *key, uint64_t max,
			 uint64_t *out, struct vx_error *err)
{
	char sub[160];

	return vx_bundle_u64(vx_json_get(obj, key), vx_bundle_path(sub, sizeof(sub), path, key, 0),
			     max, out, err);
}

int vx_bundle_cpuid_entry(const struct vx_json *v, const char *path,
			  struct vx_kvm_cpuid_entry *entry, struct vx_error *err)
{
	static const char *const keys[] = {"function", "index", "flags", "eax",
					   "ebx",      "ecx",	"edx",	 NULL};
	uint64_t f[7] = {0};
	int rc = vx_bundle_object(v, path, keys, keys, err);

	for (unsigned i = 0; i < 7 && !rc; i++)
		rc = vx_bundle_member_u64(v, path, keys[i], UINT32_MAX, &f[i], err);
	if (rc)
		return rc;
	*entry = (struct vx_kvm_cpuid_entry){(uint32_t)f[0], (uint32_t)f[1], (uint32_t)f[2],
					     (uint32_t)f[3], (uint32_t)f[4], (uint32_t)f[5],
					     (uint32_t)f[6]};
	return 0;
}

int vx_bundle_add_cpuid(struct vx_vmm_bundle *b, const struct vx_kvm_cpuid_entry *e,
			const struct vx_json *at, const char *path, struct vx_error *err)
{
	/* KVM_SET_CPUID2 takes at most KVM_MAX_CPUID_ENTRIES (kvm.md §2.5). */
	if (b->ncpuid >= VX_VMM_BUNDLE_MAX_CPUID)
		return vx_bundle_fail(err, -EFBIG, at, path,
				      "oversized: more than %u CPUID entries (kvm.md §2.5)",
				      VX_VMM_BUNDLE_MAX_CPUID);
	b->cpuid[b->ncpuid++] = *e;
	return 0;
}

int vx_bundle_add_msr(struct vx_vmm_bundle *b, uint32_t index, uint64_t value,
		      const struct vx_json *at, const char *path, struct vx_error *err)
{
	for (uint32_t i = 0; i < b->nmsrs; i++)
		if (b->msrs[i].index == index)
			return vx_bundle_fail(
			    err, -EINVAL, at, path,
			    "MSR 0x%x appears twice (also entry %u): which value?", index, i);
	if (b->nmsrs >= VX_VMM_BUNDLE_MAX_MSRS)
		return vx_bundle_fail(err, -EFBIG, at, path, "oversized: more than %u MSRs",
				      VX_VMM_BUNDLE_MAX_MSRS);
	b->msrs[b->nmsrs++] = (struct vx_kvm_msr_entry){index, 0, value};
	return 0;
}

int vx_bundle_check_blob_size(uint64_t size, const struct vx_json *at, const char *path,
			      struct vx_error *err)
{
	if (size > VX_VMM_BUNDLE_XSAVE_MAX)
		return vx_bundle_fail(err, -EFBIG, at, path,
				      "oversized: a %llu-byte XSAVE blob, at most %u fit",
				      (unsigned long long)size, VX_VMM_BUNDLE_XSAVE_MAX);
	/* kvm.md §5.1: struct kvm_xsave is 4096 bytes; KVM_GET_XSAVE2 adds __u32 extra[]. */
	if (size < VX_KVM_XSAVE_SIZE)
		return vx_bundle_fail(
		    err, -EINVAL, at, path,
		    "truncated: %llu bytes, a kvm_xsave blob has 4096 (kvm.md §5.1)",
		    (unsigned long long)size);
	if (size % 4)
		return vx_bundle_fail(
		    err, -EINVAL, at, path,
		    "%llu bytes: a KVM_GET_XSAVE2 blob is a whole number of __u32 "
		    "(kvm.md §5.1)",
		    (unsigned long long)size);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* The source host                                                                              */

static int read_text(const struct vx_json *obj, const char *path, const char *key, char *out,
		     size_t size, struct vx_error *err)
{
	const struct vx_json *v = vx_json_get(obj, key);
	char sub[160];

	if (!v || v->type == VX_JSON_NULL)
		return 0;
	if (v->type != VX_JSON_STRING)
		return vx_bundle_fail(err, -EINVAL, v,
				      vx_bundle_path(sub, sizeof(sub), path, key, 0),
				      "expected a string, found %s", vx_json_type_name(v->type));
	snprintf(out, size, "%s", v->text);
	return 0;
}

static int read_leaf(const struct vx_json *v, const char *path, struct vx_profile *p,
		     struct vx_error *err)
{
	static const char *const keys[] = {"leaf", "subleaf", "eax", "ebx", "ecx", "edx", NULL};
	uint64_t f[6] = {0};
	struct vx_cpuid_regs regs;
	int rc = vx_bundle_object(v, path, keys, keys, err);

	for (unsigned i = 0; i < 6 && !rc; i++)
		rc = vx_bundle_member_u64(v, path, keys[i], UINT32_MAX, &f[i], err);
	if (rc)
		return rc;
	regs =
	    (struct vx_cpuid_regs){(uint32_t)f[2], (uint32_t)f[3], (uint32_t)f[4], (uint32_t)f[5]};
	if (vx_profile_set_leaf(p, (uint32_t)f[0], (uint32_t)f[1], &regs) != 0)
		return vx_bundle_fail(err, -EINVAL, v, path,
				      "leaf 0x%x subleaf 0x%x is not one a profile keeps "
				      "(docs/profiles.md)",
				      (unsigned)f[0], (unsigned)f[1]);
	return 0;
}

/* "xcr0_at_capture": "0x..." or null (unknown). */
static int read_capture(const struct vx_json *host, const char *path, const char *key,
			uint64_t *value, bool *known, struct vx_error *err)
{
	const struct vx_json *v = vx_json_get(host, key);

	if (known)
		*known = v && v->type != VX_JSON_NULL;
	if (!v || v->type == VX_JSON_NULL)
		return 0;
	return vx_bundle_member_u64(host, path, key, UINT64_MAX, value, err);
}

static int read_host(const struct vx_json *host, struct vx_profile *p, struct vx_error *err)
{
	static const char *const keys[] = {
	    "name",	      "description", "source", "xcr0_at_capture",
	    "xss_at_capture", "mxcsr_mask",  "leaves", NULL};
	static const char *const required[] = {"leaves", NULL};
	const char *path = "source.host";
	const struct vx_json *leaves = vx_json_get(host, "leaves");
	struct vx_error why = VX_ERROR_INIT;
	uint64_t mxcsr_mask = 0xFFFF;
	char sub[160];
	int rc = vx_bundle_object(host, path, keys, required, err);

	vx_profile_init(p);
	if (!rc)
		rc = read_text(host, path, "name", p->name, sizeof(p->name), err);
	if (!rc)
		rc = read_text(host, path, "description", p->description, sizeof(p->description),
			       err);
	if (!rc)
		rc = read_text(host, path, "source", p->source, sizeof(p->source), err);
	if (!rc)
		rc = read_capture(host, path, "xcr0_at_capture", &p->xcr0_at_capture, NULL, err);
	if (!rc)
		rc = read_capture(host, path, "xss_at_capture", &p->xss_at_capture, &p->xss_known,
				  err);
	if (!rc && vx_json_get(host, "mxcsr_mask"))
		rc = vx_bundle_member_u64(host, path, "mxcsr_mask", UINT32_MAX, &mxcsr_mask, err);
	if (!rc)
		rc = vx_bundle_array(leaves, "source.host.leaves", VX_PROFILE_SLOTS * 2u, err);
	for (size_t i = 0; !rc && i < leaves->count; i++)
		rc = read_leaf(leaves->items[i],
			       vx_bundle_path(sub, sizeof(sub), "source.host.leaves", NULL, i), p,
			       err);
	if (rc)
		return rc;
	p->mxcsr_mask = (uint32_t)mxcsr_mask;
	vx_profile_sanitize_text(p);
	/* The leaves must lay out (arch.md §1.4) before any layout reads them. */
	if (vx_profile_check_xsave_leaves(p, &why) != 0)
		return vx_bundle_fail(err, -EINVAL, leaves, "source.host.leaves", "%s", why.reason);
	return 0;
}

/* "profile": "NAME" or "NAME,-feat,..." - a built-in profile, derived as `--profile` does. */
static int read_profile_name(const struct vx_json *v, struct vx_profile *p, struct vx_error *err)
{
	struct vx_error why = VX_ERROR_INIT;
	char name[VX_PROFILE_NAME_MAX];
	char *comma;
	int rc;

	if (!v || v->type != VX_JSON_STRING)
		return vx_bundle_fail(err, -EINVAL, v, "source.profile",
				      "expected a built-in profile name, found %s",
				      v ? vx_json_type_name(v->type) : "nothing");
	snprintf(name, sizeof(name), "%s", v->text);
	comma = strchr(name, ',');
	if (comma)
		*comma = '\0';
	rc = vx_profile_builtin(p, name, &why);
	if (!rc && comma)
		rc = vx_profile_derive(p, comma + 1, &why);
	if (rc)
		return vx_bundle_fail(err, -EINVAL, v, "source.profile", "%s", why.reason);
	return 0;
}

static int read_enum(const struct vx_json *src, const char *key, int (*by_name)(const char *),
		     int *out, struct vx_error *err)
{
	const struct vx_json *v = vx_json_get(src, key);
	char path[64];
	int value;

	*out = -1;
	snprintf(path, sizeof(path), "source.%s", key);
	if (!v || v->type == VX_JSON_NULL)
		return 0;
	if (v->type != VX_JSON_STRING)
		return vx_bundle_fail(err, -EINVAL, v, path, "expected a name or null, found %s",
				      vx_json_type_name(v->type));
	value = by_name(v->text);
	if (value < 0)
		return vx_bundle_fail(err, -EINVAL, v, path, "unknown %s \"%.40s\"", key, v->text);
	*out = value;
	return 0;
}

static int read_source(const struct vx_json *src, struct vx_vmm_bundle *b, struct vx_error *err)
{
	static const char *const keys[] = {"profile", "host",	    "flavour",
					   "design",  "guest_perm", NULL};
	const struct vx_json *name = vx_json_get(src, "profile"), *host = vx_json_get(src, "host");
	int rc = vx_bundle_object(src, "source", keys, NULL, err);

	if (!rc && name && host)
		rc = vx_bundle_fail(err, -EINVAL, host, "source",
				    "both \"profile\" and \"host\": give one source host");
	if (!rc && name)
		rc = read_profile_name(name, &b->profile, err);
	if (!rc && host)
		rc = read_host(host, &b->profile, err);
	b->has_profile = name || host;
	b->profile_by_name = name != NULL;
	if (!rc)
		rc = read_enum(src, "flavour", vx_kvm_flavour_by_name, &b->flavour, err);
	if (!rc)
		rc = read_enum(src, "design", vx_kvm_cet_design_by_name, &b->design, err);
	if (!rc && vx_json_get(src, "guest_perm"))
		rc = vx_bundle_member_u64(src, "source", "guest_perm", UINT64_MAX, &b->guest_perm,
					  err);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* The vCPU                                                                                     */

static int read_cpuid(const struct vx_json *list, struct vx_vmm_bundle *b, struct vx_error *err)
{
	struct vx_kvm_cpuid_entry e;
	char path[48];
	int rc = vx_bundle_array(list, "cpuid", VX_VMM_BUNDLE_MAX_CPUID, err);

	for (size_t i = 0; !rc && i < list->count; i++) {
		vx_bundle_path(path, sizeof(path), "cpuid", NULL, i);
		rc = vx_bundle_cpuid_entry(list->items[i], path, &e, err);
		if (!rc)
			rc = vx_bundle_add_cpuid(b, &e, list->items[i], path, err);
	}
	return rc;
}

static int read_xcrs(const struct vx_json *list, struct vx_vmm_bundle *b, struct vx_error *err)
{
	static const char *const keys[] = {"xcr", "value", NULL};
	uint64_t xcr = 0, value = 0;
	char path[48];
	int rc = vx_bundle_array(list, "xcrs", VX_KVM_MAX_XCRS, err);

	for (size_t i = 0; !rc && i < list->count; i++) {
		vx_bundle_path(path, sizeof(path), "xcrs", NULL, i);
		rc = vx_bundle_object(list->items[i], path, keys, keys, err);
		if (!rc)
			rc = vx_bundle_member_u64(list->items[i], path, "xcr", UINT32_MAX, &xcr,
						  err);
		if (!rc)
			rc = vx_bundle_member_u64(list->items[i], path, "value", UINT64_MAX, &value,
						  err);
		if (!rc) {
			b->xcrs.xcrs[i].xcr = (uint32_t)xcr;
			b->xcrs.xcrs[i].value = value;
			b->xcrs.nr_xcrs = (uint32_t)i + 1;
		}
	}
	return rc;
}

static int read_msrs(const struct vx_json *list, struct vx_vmm_bundle *b, struct vx_error *err)
{
	static const char *const keys[] = {"index", "name", "value", NULL};
	static const char *const required[] = {"index", "value", NULL};
	uint64_t index = 0, value = 0;
	const struct vx_json *name;
	char path[48];
	int rc = vx_bundle_array(list, "msrs", VX_VMM_BUNDLE_MAX_MSRS, err);

	for (size_t i = 0; !rc && i < list->count; i++) {
		vx_bundle_path(path, sizeof(path), "msrs", NULL, i);
		rc = vx_bundle_object(list->items[i], path, keys, required, err);
		name = vx_json_get(list->items[i], "name");
		if (!rc && name && name->type != VX_JSON_STRING)
			rc = vx_bundle_fail(err, -EINVAL, name, path,
					    "\"name\" is a comment and must be a string");
		if (!rc)
			rc = vx_bundle_member_u64(list->items[i], path, "index", UINT32_MAX, &index,
						  err);
		if (!rc)
			rc = vx_bundle_member_u64(list->items[i], path, "value", UINT64_MAX, &value,
						  err);
		if (!rc)
			rc =
			    vx_bundle_add_msr(b, (uint32_t)index, value, list->items[i], path, err);
	}
	return rc;
}

static int read_one_regs(const struct vx_json *list, struct vx_vmm_bundle *b, struct vx_error *err)
{
	static const char *const keys[] = {"id", "name", "value", NULL};
	static const char *const required[] = {"id", "value", NULL};
	char path[48];
	int rc = vx_bundle_array(list, "one_regs", VX_VMM_BUNDLE_MAX_ONE_REG, err);

	for (size_t i = 0; !rc && i < list->count; i++) {
		struct vx_vmm_one_reg *r = &b->one_regs[i];

		vx_bundle_path(path, sizeof(path), "one_regs", NULL, i);
		rc = vx_bundle_object(list->items[i], path, keys, required, err);
		if (!rc)
			rc = vx_bundle_member_u64(list->items[i], path, "id", UINT64_MAX, &r->id,
						  err);
		if (!rc)
			rc = vx_bundle_member_u64(list->items[i], path, "value", UINT64_MAX,
						  &r->value, err);
		if (!rc)
			b->none_regs = (uint32_t)i + 1;
	}
	return rc;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* One string of hex digits appended to the blob. */
static int read_hex(const struct vx_json *v, const char *path, struct vx_vmm_bundle *b,
		    uint64_t size, struct vx_error *err)
{
	if (!v || v->type != VX_JSON_STRING)
		return vx_bundle_fail(err, -EINVAL, v, path,
				      "expected a string of hex digits, found %s",
				      v ? vx_json_type_name(v->type) : "nothing");
	if (v->len % 2)
		return vx_bundle_fail(err, -EINVAL, v, path,
				      "bad hex: %zu digits, an odd number (two per byte)", v->len);
	for (size_t i = 0; i < v->len; i += 2) {
		int hi = hex_digit(v->text[i]), lo = hex_digit(v->text[i + 1]);
		size_t bad = hi < 0 ? i : i + 1;

		if (hi < 0 || lo < 0)
			return vx_bundle_fail(
			    err, -EINVAL, v, path,
			    "bad hex: character %zu ('%c') is not a hex digit "
			    "(blob byte %u)",
			    bad + 1,
			    v->text[bad] >= 0x20 && v->text[bad] < 0x7f ? v->text[bad] : '?',
			    b->xsave_len);
		if (b->xsave_len >= size)
			return vx_bundle_fail(
			    err, -EINVAL, v, path,
			    "the data holds more than the %llu bytes \"size\" says",
			    (unsigned long long)size);
		b->xsave[b->xsave_len++] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int read_xsave(const struct vx_json *x, struct vx_vmm_bundle *b, struct vx_error *err)
{
	static const char *const keys[] = {"encoding", "size", "data", NULL};
	const struct vx_json *enc = vx_json_get(x, "encoding"), *data = vx_json_get(x, "data");
	uint64_t size = 0;
	char path[48];
	int rc = vx_bundle_object(x, "xsave", keys, keys, err);

	if (!rc && (enc->type != VX_JSON_STRING || strcmp(enc->text, "hex") != 0))
		rc = vx_bundle_fail(err, -EINVAL, enc, "xsave.encoding",
				    "only \"hex\" (two digits a byte) is defined");
	if (!rc)
		rc = vx_bundle_member_u64(x, "xsave", "size", UINT32_MAX, &size, err);
	if (!rc)
		rc = vx_bundle_check_blob_size(size, vx_json_get(x, "size"), "xsave.size", err);
	if (!rc && data->type == VX_JSON_STRING)
		rc = read_hex(data, "xsave.data", b, size, err);
	else if (!rc)
		rc = vx_bundle_array(data, "xsave.data", VX_VMM_BUNDLE_XSAVE_MAX, err);
	for (size_t i = 0; !rc && data->type == VX_JSON_ARRAY && i < data->count; i++)
		rc = read_hex(data->items[i],
			      vx_bundle_path(path, sizeof(path), "xsave.data", NULL, i), b, size,
			      err);
	if (!rc && b->xsave_len != size)
		rc = vx_bundle_fail(err, -EINVAL, data, "xsave.data",
				    "truncated: %u bytes of data, \"size\" says %llu", b->xsave_len,
				    (unsigned long long)size);
	return rc;
}

/* "capture": how `vxsave kvm capture` loaded the registers (docs/vmm.md "Bundles"). */
static int read_capture_info(const struct vx_json *cap, struct vx_vmm_bundle *b,
			     struct vx_error *err)
{
	static const char *const keys[] = {"registers_set_by", "seed", "note", NULL};
	static const char *const required[] = {"registers_set_by", NULL};
	const struct vx_json *by = vx_json_get(cap, "registers_set_by");
	uint64_t seed = 0;
	int rc = vx_bundle_object(cap, "capture", keys, required, err);

	if (!rc && (by->type != VX_JSON_STRING ||
		    (strcmp(by->text, VX_VMM_SET_BY_GUEST_NAME) != 0 &&
		     strcmp(by->text, VX_VMM_SET_BY_KVM_SET_XSAVE_NAME) != 0)))
		rc = vx_bundle_fail(err, -EINVAL, by, "capture.registers_set_by",
				    "expected \"%s\" or \"%s\"", VX_VMM_SET_BY_GUEST_NAME,
				    VX_VMM_SET_BY_KVM_SET_XSAVE_NAME);
	if (!rc && vx_json_get(cap, "seed"))
		rc = vx_bundle_member_u64(cap, "capture", "seed", UINT32_MAX, &seed, err);
	if (!rc)
		rc = read_text(cap, "capture", "note", b->registers_note, sizeof(b->registers_note),
			       err);
	if (!rc) {
		snprintf(b->registers_set_by, sizeof(b->registers_set_by), "%s", by->text);
		b->registers_seed = (uint32_t)seed;
	}
	return rc;
}

static int read_bundle(const struct vx_json *root, struct vx_vmm_bundle *b, struct vx_error *err)
{
	static const char *const keys[] = {"format", "version",	 "origin", "vcpu_id",
					   "source", "capture",	 "cpuid",  "xcrs",
					   "msrs",   "one_regs", "xsave",  NULL};
	static const char *const required[] = {"format", "version", "cpuid", "xcrs",
					       "msrs",	 "xsave",   NULL};
	uint64_t version = 0, id = 0;
	int rc = vx_bundle_object(root, "", keys, required, err);

	if (!rc)
		rc = vx_bundle_member_u64(root, "", "version", UINT32_MAX, &version, err);
	if (!rc && version != VX_VMM_BUNDLE_VERSION)
		rc = vx_bundle_fail(err, -EINVAL, vx_json_get(root, "version"), "version",
				    "version %llu; this vxsave reads version %u",
				    (unsigned long long)version, VX_VMM_BUNDLE_VERSION);
	if (!rc)
		rc = read_text(root, "", "origin", b->origin, sizeof(b->origin), err);
	if (!rc && vx_json_get(root, "vcpu_id"))
		rc = vx_bundle_member_u64(root, "", "vcpu_id", 4095, &id, err);
	b->vcpu_id = (unsigned)id;
	if (!rc && vx_json_get(root, "source"))
		rc = read_source(vx_json_get(root, "source"), b, err);
	if (!rc && vx_json_get(root, "capture"))
		rc = read_capture_info(vx_json_get(root, "capture"), b, err);
	if (!rc)
		rc = read_cpuid(vx_json_get(root, "cpuid"), b, err);
	if (!rc)
		rc = read_xcrs(vx_json_get(root, "xcrs"), b, err);
	if (!rc)
		rc = read_msrs(vx_json_get(root, "msrs"), b, err);
	if (!rc && vx_json_get(root, "one_regs"))
		rc = read_one_regs(vx_json_get(root, "one_regs"), b, err);
	if (!rc)
		rc = read_xsave(vx_json_get(root, "xsave"), b, err);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */

void vx_vmm_bundle_init(struct vx_vmm_bundle *bundle)
{
	memset(bundle, 0, sizeof(*bundle));
	vx_profile_init(&bundle->profile);
	bundle->flavour = -1;
	bundle->design = -1;
}

const char *vx_vmm_state_format_name(enum vx_vmm_state_format format)
{
	static const char *const names[VX_VMM_STATE_FORMAT_COUNT] = {
	    "bundle", "cloud-hypervisor snapshot", "cloud-hypervisor vcpu"};

	return (unsigned)format < VX_VMM_STATE_FORMAT_COUNT ? names[format] : NULL;
}

void vx_bundle_infer_profile(struct vx_vmm_bundle *b)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;

	vx_profile_init(&p);
	for (uint32_t i = 0; i < b->ncpuid; i++) {
		const struct vx_kvm_cpuid_entry *e = &b->cpuid[i];
		struct vx_cpuid_regs r = {e->eax, e->ebx, e->ecx, e->edx};

		(void)vx_profile_set_leaf(&p, e->function, e->index, &r);
	}
	/* A guest CPUID without a usable leaf 0xD says nothing about the layout. */
	if (!p.xsave.xsave || vx_profile_check_xsave_leaves(&p, &err) != 0)
		return;
	snprintf(p.name, sizeof(p.name), "guest CPUID");
	snprintf(p.source, sizeof(p.source),
		 "inferred from the bundle's guest CPUID: KVM passes the host's leaf-0xD sizes and "
		 "offsets through (kvm.md §2.2)");
	b->profile = p;
	b->has_profile = true;
	b->profile_inferred = true;
}

static int parse_root(const struct vx_platform *pl, const struct vx_json *root, unsigned vcpu,
		      struct vx_vmm_bundle *b, enum vx_vmm_state_format *format,
		      struct vx_error *err)
{
	const struct vx_json *fmt = vx_json_get(root, "format");

	if (root->type != VX_JSON_OBJECT)
		return vx_bundle_fail(err, -EINVAL, root, "(top level)",
				      "expected an object, found %s",
				      vx_json_type_name(root->type));
	if (fmt && (fmt->type != VX_JSON_STRING || strcmp(fmt->text, VX_VMM_BUNDLE_FORMAT) != 0))
		return vx_bundle_fail(err, -EINVAL, fmt, "format",
				      "not \"" VX_VMM_BUNDLE_FORMAT "\": not a vxsave bundle");
	*format = fmt				   ? VX_VMM_STATE_BUNDLE
		  : vx_json_get(root, "snapshots") ? VX_VMM_STATE_CH_SNAPSHOT
						   : VX_VMM_STATE_CH_VCPU;
	if (*format == VX_VMM_STATE_BUNDLE)
		return read_bundle(root, b, err);
	if (*format == VX_VMM_STATE_CH_SNAPSHOT)
		return vx_ch_read_snapshot(pl, root, vcpu, b, err);
	if (vx_json_get(root, "Kvm") || vx_json_get(root, "Mshv"))
		return vx_ch_read_vcpu(root, "", vcpu, b, err);
	return vx_bundle_fail(err, -EINVAL, root, "(top level)",
			      "not a vCPU state: expected a vxsave bundle (\"format\"), a Cloud "
			      "Hypervisor state.json (\"snapshots\") or one Cloud Hypervisor vCPU "
			      "state (\"Kvm\")");
}

int vx_vmm_bundle_parse(const char *text, size_t len, unsigned vcpu, struct vx_vmm_bundle *bundle,
			enum vx_vmm_state_format *format, struct vx_error *err)
{
	return vx_vmm_bundle_parse_with_platform(text, len, vcpu, NULL, bundle, format, err);
}

int vx_vmm_bundle_parse_with_platform(const char *text, size_t len, unsigned vcpu,
				      const struct vx_platform *platform,
				      struct vx_vmm_bundle *bundle,
				      enum vx_vmm_state_format *format, struct vx_error *err)
{
	const struct vx_platform *pl = platform ? platform : vx_platform_default();
	enum vx_vmm_state_format kind = VX_VMM_STATE_BUNDLE;
	struct vx_json_doc *doc = NULL;
	struct vx_vmm_bundle *b;
	int rc;

	if (!text || !bundle)
		return vx_error_set(err, -EINVAL, NULL, "no input or no bundle");
	rc = vx_json_parse_with(pl, text, len, &doc, err);
	if (rc)
		return rc;
	b = pl->alloc(pl->ctx, sizeof(*b), 16);
	if (!b) {
		vx_json_free(doc);
		return vx_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	vx_vmm_bundle_init(b);
	rc = parse_root(pl, vx_json_root(doc), vcpu, b, &kind, err);
	if (!rc && !b->has_profile)
		vx_bundle_infer_profile(b);
	if (!rc) {
		memcpy(bundle, b, sizeof(*b));
		if (format)
			*format = kind;
	}
	pl->free(pl->ctx, b);
	vx_json_free(doc);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* Accessors                                                                                    */

const struct vx_kvm_cpuid_entry *vx_vmm_bundle_cpuid(const struct vx_vmm_bundle *bundle,
						     uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < bundle->ncpuid; i++) {
		const struct vx_kvm_cpuid_entry *e = &bundle->cpuid[i];
		bool indexed = e->flags & VX_KVM_CPUID_FLAG_SIGNIFCANT_INDEX;

		if (e->function == function && (!indexed || e->index == index))
			return e;
	}
	return NULL;
}

bool vx_vmm_bundle_msr(const struct vx_vmm_bundle *bundle, uint32_t index, uint64_t *value)
{
	for (uint32_t i = 0; i < bundle->nmsrs; i++) {
		if (bundle->msrs[i].index == index) {
			*value = bundle->msrs[i].data;
			return true;
		}
	}
	return false;
}

bool vx_vmm_bundle_xcr0(const struct vx_vmm_bundle *bundle, uint64_t *xcr0)
{
	for (uint32_t i = 0; i < bundle->xcrs.nr_xcrs && i < VX_KVM_MAX_XCRS; i++) {
		if (bundle->xcrs.xcrs[i].xcr == 0) {
			*xcr0 = bundle->xcrs.xcrs[i].value;
			return true;
		}
	}
	return false;
}

uint64_t vx_vmm_bundle_xstate_bv(const struct vx_vmm_bundle *bundle)
{
	if (bundle->xsave_len < VX_XSTATE_BV_OFFSET + 8)
		return 0;
	return vx_le(bundle->xsave + VX_XSTATE_BV_OFFSET, 8);
}

/* ----------------------------------------------------------------------------------------- */
/* The writer                                                                                   */

struct out {
	char *buf;
	size_t len, pos;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(struct out *o, const char *fmt, ...)
{
	size_t room = o->pos < o->len ? o->len - o->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

/* A JSON string: quotes, backslashes and control characters escaped (RFC 8259 §7). */
static void emit_string(struct out *o, const char *s)
{
	emit(o, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			emit(o, "\\%c", c);
		else if (c < 0x20)
			emit(o, "\\u%04x", c);
		else
			emit(o, "%c", c);
	}
	emit(o, "\"");
}

static void emit_leaves(struct out *o, const struct vx_profile *p)
{
	const char *sep = "";

	emit(o, "      \"leaves\": [");
	for (unsigned s = 0; s < VX_PROFILE_SLOTS; s++) {
		const struct vx_cpuid_regs *r = &p->leaves[s];
		uint32_t leaf = 0, sub = 0;

		if (!vx_profile_slot_leaf(s, &leaf, &sub) || !(r->eax | r->ebx | r->ecx | r->edx))
			continue;
		emit(o,
		     "%s\n        {\"leaf\": \"0x%08x\", \"subleaf\": \"0x%08x\", \"eax\": "
		     "\"0x%08x\", "
		     "\"ebx\": \"0x%08x\", \"ecx\": \"0x%08x\", \"edx\": \"0x%08x\"}",
		     sep, leaf, sub, r->eax, r->ebx, r->ecx, r->edx);
		sep = ",";
	}
	emit(o, "\n      ]\n");
}

static void emit_host(struct out *o, const struct vx_profile *p)
{
	emit(o, "    \"host\": {\n      \"name\": ");
	emit_string(o, p->name);
	emit(o, ",\n      \"description\": ");
	emit_string(o, p->description);
	emit(o, ",\n      \"source\": ");
	emit_string(o, p->source);
	emit(o, ",\n      \"xcr0_at_capture\": \"0x%llx\",\n      \"xss_at_capture\": ",
	     (unsigned long long)p->xcr0_at_capture);
	if (p->xss_known)
		emit(o, "\"0x%llx\"", (unsigned long long)p->xss_at_capture);
	else
		emit(o, "null");
	emit(o, ",\n      \"mxcsr_mask\": \"0x%x\",\n", p->mxcsr_mask);
	emit_leaves(o, p);
	emit(o, "    },\n");
}

static void emit_name_or_null(struct out *o, const char *key, const char *name, bool last)
{
	emit(o, "    \"%s\": ", key);
	if (name)
		emit_string(o, name);
	else
		emit(o, "null");
	emit(o, last ? "\n" : ",\n");
}

static void emit_source(struct out *o, const struct vx_vmm_bundle *b)
{
	emit(o, "  \"source\": {\n");
	if (b->has_profile && b->profile_by_name && !b->profile_inferred) {
		emit(o, "    \"profile\": ");
		emit_string(o, b->profile.name);
		emit(o, ",\n");
	} else if (b->has_profile && !b->profile_inferred) {
		emit_host(o, &b->profile);
	}
	emit_name_or_null(
	    o, "flavour",
	    b->flavour >= 0 ? vx_kvm_flavour_name((enum vx_kvm_flavour)b->flavour) : NULL, false);
	emit_name_or_null(o, "design",
			  b->design >= 0 ? vx_kvm_cet_design_name((enum vx_kvm_cet_design)b->design)
					 : NULL,
			  false);
	emit(o, "    \"guest_perm\": \"0x%llx\"\n  },\n", (unsigned long long)b->guest_perm);
}

/* Only a capture records how its registers were loaded. */
static void emit_capture(struct out *o, const struct vx_vmm_bundle *b)
{
	if (!b->registers_set_by[0])
		return;
	emit(o, "  \"capture\": {\n    \"registers_set_by\": ");
	emit_string(o, b->registers_set_by);
	emit(o, ",\n    \"seed\": %u,\n    \"note\": ", b->registers_seed);
	emit_string(o, b->registers_note);
	emit(o, "\n  },\n");
}

static void emit_cpuid(struct out *o, const struct vx_vmm_bundle *b)
{
	emit(o, "  \"cpuid\": [");
	for (uint32_t i = 0; i < b->ncpuid; i++) {
		const struct vx_kvm_cpuid_entry *e = &b->cpuid[i];

		emit(o,
		     "%s\n    {\"function\": \"0x%08x\", \"index\": \"0x%08x\", \"flags\": "
		     "\"0x%x\", "
		     "\"eax\": \"0x%08x\", \"ebx\": \"0x%08x\", \"ecx\": \"0x%08x\", \"edx\": "
		     "\"0x%08x\"}",
		     i ? "," : "", e->function, e->index, e->flags, e->eax, e->ebx, e->ecx, e->edx);
	}
	emit(o, "\n  ],\n  \"xcrs\": [");
	for (uint32_t i = 0; i < b->xcrs.nr_xcrs && i < VX_KVM_MAX_XCRS; i++)
		emit(o, "%s\n    {\"xcr\": %u, \"value\": \"0x%llx\"}", i ? "," : "",
		     b->xcrs.xcrs[i].xcr, (unsigned long long)b->xcrs.xcrs[i].value);
	emit(o, "\n  ],\n");
}

static void emit_msrs(struct out *o, const struct vx_vmm_bundle *b)
{
	emit(o, "  \"msrs\": [");
	for (uint32_t i = 0; i < b->nmsrs; i++) {
		const struct vx_msr_info *info = vx_msr_info(b->msrs[i].index);

		emit(o, "%s\n    {\"index\": \"0x%08x\", ", i ? "," : "", b->msrs[i].index);
		if (info)
			emit(o, "\"name\": \"%s\", ", info->name);
		emit(o, "\"value\": \"0x%llx\"}", (unsigned long long)b->msrs[i].data);
	}
	emit(o, "\n  ],\n  \"one_regs\": [");
	for (uint32_t i = 0; i < b->none_regs; i++)
		emit(o, "%s\n    {\"id\": \"0x%016llx\", %s\"value\": \"0x%llx\"}", i ? "," : "",
		     (unsigned long long)b->one_regs[i].id,
		     b->one_regs[i].id == VX_KVM_X86_REG_KVM(VX_KVM_REG_GUEST_SSP)
			 ? "\"name\": \"KVM_REG_GUEST_SSP\", "
			 : "",
		     (unsigned long long)b->one_regs[i].value);
	emit(o, "\n  ],\n");
}

static void emit_xsave(struct out *o, const struct vx_vmm_bundle *b)
{
	emit(o, "  \"xsave\": {\n    \"encoding\": \"hex\",\n    \"size\": %u,\n    \"data\": [",
	     b->xsave_len);
	for (uint32_t i = 0; i < b->xsave_len; i++) {
		if (i % HEX_LINE == 0)
			emit(o, "%s\n      \"", i ? "\"," : "");
		emit(o, "%02x", b->xsave[i]);
	}
	emit(o, "%s\n    ]\n  }\n", b->xsave_len ? "\"" : "");
}

size_t vx_vmm_bundle_format(const struct vx_vmm_bundle *bundle, char *buf, size_t len)
{
	struct out o = {buf, len, 0};

	emit(&o,
	     "{\n  \"format\": \"%s\",\n  \"version\": %u,\n  \"origin\": ", VX_VMM_BUNDLE_FORMAT,
	     VX_VMM_BUNDLE_VERSION);
	emit_string(&o, bundle->origin);
	emit(&o, ",\n  \"vcpu_id\": %u,\n", bundle->vcpu_id);
	emit_source(&o, bundle);
	emit_capture(&o, bundle);
	emit_cpuid(&o, bundle);
	emit_msrs(&o, bundle);
	emit_xsave(&o, bundle);
	emit(&o, "}\n");
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return o.pos;
}
