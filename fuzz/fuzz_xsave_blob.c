/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the VMM tooling's XSAVE blobs (vmm.h, issue 10): vx_vmm_blob_parse
 * (recognised or of a forced kind), the decode on a profile's layout with every register
 * lookup, the validation against a model vCPU (KVM_SET_XSAVE on the kvm layer, every failing
 * rule), and the conversion to another host's or format's layout.
 *
 * Input: byte 0 the source profile, byte 1 the target profile, byte 2 the forced kind (mod 6,
 * 0 = recognise), byte 3 the result kind (mod 4: kvm, kvm2, standard, compacted) and the
 * vCPU's dynamic (AMX) permission (bit 7); the rest is the blob, in a buffer of exactly its
 * length.
 *
 * Properties (vmm.h): a refused blob leaves the struct vx_vmm_blob as it was, with the errno in
 * err.code and a reason; a refused conversion leaves the destination as it was; a conversion
 * that noted nothing, converted back to the source's kind and size on the same host, gives the
 * source bytes again ("standard -> compacted -> standard ... give back the same bytes").
 */
#include <errno.h>

#include <vxsave/vmm.h>

#include "fuzz_util.h"

static const char *const regs[] = {"fcw",  "fsw",   "st3",     "mxcsr", "xmm7",	   "ymm3",
				   "zmm5", "zmm20", "k2",      "pkru",	"tilecfg", "tmm0",
				   "r16",  "u_cet", "pl3_ssp", "bogus"};

/* One model vCPU per profile and permission, made on first use (validation loads the blob
 * into it; the verdict does not depend on what an earlier blob left there). */
static struct vx_vmm_vcpu *vcpu_of(unsigned profile, bool dynamic_perm)
{
	static struct vx_vmm_host *hosts[FZ_PROFILES_MAX];
	static struct vx_vmm_vcpu *vcpus[FZ_PROFILES_MAX][2];
	struct vx_vmm_vcpu_config config = {NULL, 0, dynamic_perm, false, 0};
	struct vx_vmm_host_options o;
	struct vx_error err = VX_ERROR_INIT;

	profile %= FZ_PROFILES_MAX;
	vx_vmm_host_options_init(&o);
	o.sysfs_module = "/nonexistent";
	if (!hosts[profile] &&
	    vx_vmm_host_create(fz_profile(profile), &o, &hosts[profile], &err) != 0)
		fz_fail("host %u: %s", profile, err.reason);
	if (!vcpus[profile][dynamic_perm] &&
	    vx_vmm_vcpu_create(hosts[profile], &config, &vcpus[profile][dynamic_perm], &err) != 0)
		fz_fail("vcpu on %u: %s", profile, err.reason);
	return vcpus[profile][dynamic_perm];
}

static void decode(const struct vx_profile *p, const struct vx_vmm_blob *blob)
{
	static struct vx_vmm_xsave_view view;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_vmm_x87 x87;
	uint8_t value[1024];
	char text[256];
	uint32_t width = 0;

	if (vx_vmm_xsave_decode(p, blob, &view, &err) != 0)
		fz_fail("decode refused a parsed blob: %s", err.reason);
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		(void)vx_vmm_xsave_reg(&view, regs[i], value, sizeof(value), &width, &err);
	vx_vmm_x87_decode(blob->bytes, &x87);
	for (unsigned s = 0; s < VX_VMM_FLAGS_COUNT; s++)
		(void)vx_vmm_flags_format((enum vx_vmm_flag_set)s,
					  x87.fcw | (uint64_t)x87.fsw << 16, text, sizeof(text));
}

/* Converted back to the source's kind and size on the same host: the source bytes. */
static void round_trip(const struct vx_vmm_convert_options *o, const struct vx_vmm_blob *src,
		       const uint8_t *dst, size_t n)
{
	struct vx_vmm_convert_options back = *o;
	static struct vx_vmm_converter conv;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_vmm_blob mid;
	uint8_t *again;

	if (vx_vmm_blob_parse(dst, n, o->kind, &mid, &err) != 0)
		fz_fail("the converter's own %s result is refused: %s",
			vx_vmm_blob_kind_name(o->kind), err.reason);
	back.kind = src->kind;
	back.size = (uint32_t)src->len;
	back.xcomp_layout = src->xcomp_bv & ~VX_BIT(63);
	back.flags |= VX_VMM_CONVERT_EXACT_LAYOUT; /* XCOMP_BV = bit 63 alone is a layout too */
	if (vx_vmm_converter_init(&conv, &back, &err) != 0)
		return;
	again = malloc(src->len);
	if (vx_vmm_convert(&conv, &mid, again, src->len, NULL, &err) != 0)
		fz_fail("converting back to %s refused: %s", vx_vmm_blob_kind_name(src->kind),
			err.reason);
	if (memcmp(again, src->bytes, src->len) != 0)
		fz_fail("%s -> %s -> %s changed the bytes", vx_vmm_blob_kind_name(src->kind),
			vx_vmm_blob_kind_name(o->kind), vx_vmm_blob_kind_name(src->kind));
	free(again);
}

static void convert(const struct vx_profile *from, const struct vx_profile *to,
		    enum vx_vmm_blob_kind kind, const struct vx_vmm_blob *blob)
{
	static const enum vx_vmm_blob_kind kinds[] = {VX_VMM_BLOB_KVM, VX_VMM_BLOB_KVM2,
						      VX_VMM_BLOB_STANDARD, VX_VMM_BLOB_COMPACTED};
	struct vx_vmm_convert_options o = {from, to, kinds[kind % 4], 0, 0, VX_VMM_CONVERT_NOTES};
	static struct vx_vmm_converter conv;
	static struct vx_vmm_report report;
	struct vx_error err = VX_ERROR_INIT;
	size_t n;
	uint8_t *dst;
	int rc;

	if (vx_vmm_converter_init(&conv, &o, &err) != 0)
		return;
	n = vx_vmm_convert_size(&conv, blob);
	dst = malloc(n ? n : 1);
	memset(dst, 0xCC, n);
	rc = vx_vmm_convert(&conv, blob, dst, n, &report, &err);
	if (rc != 0) {
		for (size_t i = 0; i < n; i++)
			if (dst[i] != 0xCC)
				fz_fail("a refused conversion wrote byte %zu", i);
	} else if (from == to && report.count == 0 && blob->kind != VX_VMM_BLOB_SIGFRAME) {
		round_trip(&o, blob, dst, n);
	}
	free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vx_vmm_validation validation;
	struct fz f = {data, size};
	unsigned from = fz_u8(&f), to = fz_u8(&f);
	enum vx_vmm_blob_kind kind = (enum vx_vmm_blob_kind)(fz_u8(&f) % VX_VMM_BLOB_KIND_COUNT);
	uint8_t result = fz_u8(&f);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_vmm_blob blob, before;
	uint8_t *bytes = malloc(f.size ? f.size : 1);
	int rc;

	memcpy(bytes, f.data, f.size);
	memset(&blob, 0x5A, sizeof(blob));
	before = blob;
	rc = vx_vmm_blob_parse(bytes, f.size, kind, &blob, &err);
	if (rc != 0) {
		if (rc != err.code || !err.reason[0])
			fz_fail("refusal %d without a matching error ('%s')", rc, err.reason);
		if (memcmp(&blob, &before, sizeof(blob)) != 0)
			fz_fail("a refused blob changed the struct (%s)", err.reason);
		free(bytes);
		return 0;
	}
	decode(fz_profile(from), &blob);
	(void)vx_vmm_xsave_validate(vcpu_of(from, result & 0x80), &blob, result & 0x40 ? 1 : 0,
				    &validation, &err);
	convert(fz_profile(from), fz_profile(to), (enum vx_vmm_blob_kind)(result & 3), &blob);
	free(bytes);
	return 0;
}
