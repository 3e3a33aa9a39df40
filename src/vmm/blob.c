/* SPDX-License-Identifier: MIT */
/*
 * Blobs (vmm.h): recognising and checking the byte formats a VMM handles - struct kvm_xsave
 * (kvm.md §5.1), KVM_GET_XSAVE2 buffers, raw standard and compacted XSAVE areas (arch.md §2.3,
 * §2.4) and the FPU part of a 64-bit signal frame (linux-fpu.md §8.4).  Only the bytes that
 * decide the format are read; every read is bounded by the buffer length.
 */
#include "vmm/vmm_internal.h"

#include "arch/text.h"

#define RULE_AREA     "arch.md §2.2, §2.3"
#define RULE_KVM      "kvm.md §5.1"
#define RULE_SIGFRAME "linux-fpu.md §8.4"
#define TEXT_PROBE    64u /* bytes looked at to tell text from a binary area */

static const char *const kind_names[VX_VMM_BLOB_KIND_COUNT] = {
    [VX_VMM_BLOB_AUTO] = "auto",	   [VX_VMM_BLOB_KVM] = "kvm",
    [VX_VMM_BLOB_KVM2] = "kvm2",	   [VX_VMM_BLOB_STANDARD] = "std",
    [VX_VMM_BLOB_COMPACTED] = "compacted", [VX_VMM_BLOB_SIGFRAME] = "sigframe",
};

const char *vx_vmm_blob_kind_name(enum vx_vmm_blob_kind kind)
{
	return (unsigned)kind < VX_VMM_BLOB_KIND_COUNT ? kind_names[kind] : NULL;
}

int vx_vmm_blob_kind_by_name(const char *name)
{
	if (!name)
		return -ENOENT;
	if (vx_name_matches("standard", name, vx_strlen(name)))
		return VX_VMM_BLOB_STANDARD;
	for (unsigned k = 0; k < VX_VMM_BLOB_KIND_COUNT; k++)
		if (vx_name_matches(kind_names[k], name, vx_strlen(name)))
			return (int)k;
	return -ENOENT;
}

static int refuse(struct vx_error *err, int code, int64_t offset, const char *rule, const char *fmt,
		  ...)
#ifdef __GNUC__
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static int refuse(struct vx_error *err, int code, int64_t offset, const char *rule, const char *fmt,
		  ...)
{
	va_list ap;

	va_start(ap, fmt);
	vx_error_vset(err, code, rule, fmt, ap);
	va_end(ap);
	if (err)
		err->offset = offset;
	return code;
}

/* Printable ASCII or blanks only: a JSON bundle, a hex dump or another text file. */
static bool looks_like_text(const uint8_t *p, size_t len)
{
	size_t n = len < TEXT_PROBE ? len : TEXT_PROBE;

	for (size_t i = 0; i < n; i++)
		if (!(p[i] == '\t' || p[i] == '\n' || p[i] == '\r' ||
		      (p[i] >= 0x20 && p[i] < 0x7f)))
			return false;
	return n > 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Sizes every kind shares: a header must fit, and nothing absurdly large is read. */
static int check_bounds(const uint8_t *p, size_t len, struct vx_error *err)
{
	if (len == 0)
		return refuse(err, -EINVAL, 0, RULE_AREA, "empty: the blob has no bytes");
	if (looks_like_text(p, len))
		return refuse(err, -EINVAL, 0, RULE_AREA,
			      "text, not a binary XSAVE blob: the first %u bytes are printable "
			      "characters (a binary area starts with the x87 FCW and FSW)",
			      (unsigned)(len < TEXT_PROBE ? len : TEXT_PROBE));
	if (len < VX_VMM_BLOB_MIN)
		return refuse(err, -EINVAL, (int64_t)len, RULE_AREA,
			      "truncated: %zu bytes, but an XSAVE area has at least %u (legacy "
			      "region 0-511 and header 512-575)",
			      len, VX_VMM_BLOB_MIN);
	if (len > VX_VMM_BLOB_MAX)
		return refuse(err, -EFBIG, VX_VMM_BLOB_MAX, "arch.h VX_XSAVE_AREA_MAX",
			      "oversized: %zu bytes, above the %u-byte limit (no CPU enumerates "
			      "more than about 11 KiB of XSAVE state)",
			      len, VX_VMM_BLOB_MAX);
	return 0;
}

/* The software bytes and MAGIC2 of a 64-bit signal frame (linux-fpu.md §8.4). */
static int check_sigframe(const uint8_t *p, size_t len, struct vx_fpx_sw_bytes *sw,
			  struct vx_error *err)
{
	uint32_t magic2;

	vx_fpx_sw_bytes_read(p, len, sw);
	if (sw->magic1 != VX_FP_XSTATE_MAGIC1)
		return refuse(err, -EINVAL, VX_FPX_SW_BYTES_OFFSET, RULE_SIGFRAME,
			      "wrong magic: magic1 at byte 464 is 0x%08x, not 0x%08x (\"SXPF\"): "
			      "not a signal frame with XSAVE state",
			      sw->magic1, VX_FP_XSTATE_MAGIC1);
	if (sw->xstate_size < VX_VMM_BLOB_MIN || (uint64_t)sw->xstate_size + 4 > len)
		return refuse(err, -EINVAL, VX_FPX_SW_BYTES_OFFSET + 16, RULE_SIGFRAME,
			      "signal frame: xstate_size %u (byte 480) is not within [%u, %zu], "
			      "the frame's %zu bytes less MAGIC2",
			      sw->xstate_size, VX_VMM_BLOB_MIN, len >= 4 ? len - 4 : 0, len);
	if (sw->extended_size < sw->xstate_size)
		return refuse(err, -EINVAL, VX_FPX_SW_BYTES_OFFSET + 4, RULE_SIGFRAME,
			      "signal frame: extended_size %u (byte 468) is below xstate_size %u",
			      sw->extended_size, sw->xstate_size);
	magic2 = (uint32_t)vmm_rd(p + sw->xstate_size, 4);
	if (magic2 != VX_FP_XSTATE_MAGIC2)
		return refuse(err, -EINVAL, sw->xstate_size, RULE_SIGFRAME,
			      "wrong magic: MAGIC2 at byte %u (xstate_size) is 0x%08x, not "
			      "0x%08x (\"EXPF\"): the frame is cut or not a signal frame",
			      sw->xstate_size, magic2, VX_FP_XSTATE_MAGIC2);
	return 0;
}

/* What the bytes are, when the caller did not say (the order of vmm.h). */
static enum vx_vmm_blob_kind recognise(const uint8_t *p, size_t len)
{
	if (vmm_rd(p + VX_FPX_SW_BYTES_OFFSET, 4) == VX_FP_XSTATE_MAGIC1)
		return VX_VMM_BLOB_SIGFRAME;
	if (vmm_rd(p + VX_XCOMP_BV_OFFSET, 8) & VX_XCOMP_BV_COMPACTED)
		return VX_VMM_BLOB_COMPACTED;
	if (len == VX_KVM_XSAVE_SIZE)
		return VX_VMM_BLOB_KVM;
	if (len > VX_KVM_XSAVE_SIZE && len % 4 == 0)
		return VX_VMM_BLOB_KVM2;
	return VX_VMM_BLOB_STANDARD;
}

/* The rules of a kind, given or recognised. */
static int check_kind(enum vx_vmm_blob_kind kind, const uint8_t *p, size_t len,
		      struct vx_vmm_blob *b, struct vx_error *err)
{
	/* kvm.md §5.1: struct kvm_xsave is __u32 region[1024]. */
	if (kind == VX_VMM_BLOB_KVM && len != VX_KVM_XSAVE_SIZE)
		return refuse(
		    err, -EINVAL, (int64_t)len, RULE_KVM,
		    "%s: a struct kvm_xsave is %u bytes, this blob has %zu%s",
		    len > VX_KVM_XSAVE_SIZE ? "oversized" : "truncated", VX_KVM_XSAVE_SIZE, len,
		    len > VX_KVM_XSAVE_SIZE ? " (a KVM_GET_XSAVE2 blob? --format kvm2)" : "");
	/* kvm.md §5.1: KVM_CAP_XSAVE2 >= 4096, a buffer of __u32 region[] and extra[]. */
	if (kind == VX_VMM_BLOB_KVM2 && (len < VX_KVM_XSAVE_SIZE || len % 4))
		return refuse(err, -EINVAL, (int64_t)len, RULE_KVM,
			      "%s: a KVM_GET_XSAVE2 buffer is at least %u bytes and a whole "
			      "number of __u32; this blob has %zu",
			      len < VX_KVM_XSAVE_SIZE ? "truncated" : "not a whole number of words",
			      VX_KVM_XSAVE_SIZE, len);
	/* arch.md §2.3: the compacted form says so in XCOMP_BV[63]. */
	if (kind == VX_VMM_BLOB_COMPACTED && !(b->xcomp_bv & VX_XCOMP_BV_COMPACTED))
		return refuse(err, -EINVAL, VX_XCOMP_BV_OFFSET, "arch.md §2.3",
			      "XCOMP_BV 0x%llx has bit 63 clear: a standard-format area, not a "
			      "compacted one",
			      (unsigned long long)b->xcomp_bv);
	if (kind == VX_VMM_BLOB_SIGFRAME) {
		int rc = check_sigframe(p, len, &b->sw, err);

		if (rc)
			return rc;
		b->area_len = b->sw.xstate_size;
	}
	return 0;
}

int vx_vmm_blob_parse(const void *bytes, size_t len, enum vx_vmm_blob_kind kind,
		      struct vx_vmm_blob *blob, struct vx_error *err)
{
	const uint8_t *p = bytes;
	struct vx_vmm_blob b;
	int rc;

	if (!p || !blob || (unsigned)kind >= VX_VMM_BLOB_KIND_COUNT)
		return refuse(err, -EINVAL, -1, "vmm.h", "no blob, no result or an unknown kind");
	rc = check_bounds(p, len, err);
	if (rc)
		return rc;
	memset(&b, 0, sizeof(b));
	b.bytes = p;
	b.len = b.area_len = len;
	b.xstate_bv = vmm_rd(p + VX_XSTATE_BV_OFFSET, 8);
	b.xcomp_bv = vmm_rd(p + VX_XCOMP_BV_OFFSET, 8);
	b.all_zero = all_zero(p, len);
	if (kind == VX_VMM_BLOB_AUTO && b.all_zero)
		return refuse(err, -EINVAL, 0, RULE_AREA,
			      "empty: all %zu bytes are NUL - a zeroed buffer, not a saved state "
			      "(KVM_GET_XSAVE always writes FCW 0x037F, MXCSR and MXCSR_MASK); "
			      "--format forces it",
			      len);
	b.recognized = kind == VX_VMM_BLOB_AUTO;
	b.kind = b.recognized ? recognise(p, len) : kind;
	rc = check_kind(b.kind, p, len, &b, err);
	if (rc)
		return rc;
	b.format = b.kind == VX_VMM_BLOB_COMPACTED ? VX_AREA_COMPACTED : VX_AREA_STANDARD;
	*blob = b;
	return 0;
}
