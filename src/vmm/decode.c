/* SPDX-License-Identifier: MIT */
/*
 * Decoding a blob (vmm.h): where every component is on a profile's layout and whether it is in
 * its initial configuration (arch.md §2.3, §2.4, §6), and the value every register gets when
 * the blob is loaded - the blob's bytes for a component in XSTATE_BV, the initial value
 * otherwise (arch.md §5.5; KVM_SET_XSAVE puts user components absent from the header in their
 * initial configuration, kvm.md §5.3).  The byte ranges come from area.h's decoder.
 */
#include <stdio.h>

#include "vmm/vmm_internal.h"

#include "arch/text.h"

#define MXCSR_LOADERS_STD (VMM_MASK_FP | VMM_MASK_SSE | VMM_MASK_YMM) /* linux-fpu.md §7.2 */
#define X87_FIRST_END	  VX_MXCSR_OFFSET /* x87 bytes 0-23, then 32-159 (arch.md §2.2) */
#define X87_ST_START	  32u

/* Eight bytes at a time: a decode looks at every byte of every component (8 KiB of tiles). */
static bool zero_bytes(const uint8_t *p, uint64_t n)
{
	uint64_t any = 0, i = 0;

	for (; i + 32 <= n; i += 32)
		any |= vmm_rd(p + i, 8) | vmm_rd(p + i + 8, 8) | vmm_rd(p + i + 16, 8) |
		       vmm_rd(p + i + 24, 8);
	for (; i < n; i++)
		any |= p[i];
	return any == 0;
}

/* arch.md §6: the initial configuration of the legacy components, extended ones all zero. */
static bool legacy_init(const uint8_t *a, unsigned id)
{
	if (id == VX_COMP_X87)
		return vmm_rd(a, 2) == VX_FCW_DEFAULT && zero_bytes(a + 2, X87_FIRST_END - 2) &&
		       zero_bytes(a + X87_ST_START, VX_XMM_OFFSET - X87_ST_START);
	return vmm_rd(a + VX_MXCSR_OFFSET, 4) == VX_MXCSR_DEFAULT &&
	       zero_bytes(a + VX_XMM_OFFSET, VMM_LEGACY_USED - VX_XMM_OFFSET);
}

static void locate(struct vx_vmm_xsave_view *v, struct vx_vmm_component *c,
		   const struct vx_area_region *r)
{
	static const uint32_t legacy_at[2][2] = {{0, 160}, {VX_XMM_OFFSET, 256}};
	struct vx_component_desc d;

	if (c->id <= VX_COMP_SSE) {
		c->located = true;
		c->offset = legacy_at[c->id][0];
		c->size = legacy_at[c->id][1];
	} else if (r) {
		c->located = true;
		c->offset = r->start;
		c->size = r->end - r->start;
	}
	c->unknown = !vx_profile_component(v->profile, c->id, &d) || !d.supported || !d.size;
	c->truncated = c->located && c->offset + c->size > v->blob.area_len;
}

static void describe(struct vx_vmm_xsave_view *v, unsigned id, const struct vx_area_region *r)
{
	struct vx_vmm_component *c = &v->comp[id];
	const uint8_t *a = v->blob.bytes;

	*c = (struct vx_vmm_component){.id = id};
	c->in_xstate_bv = v->blob.xstate_bv & VX_BIT(id);
	c->in_xcomp_bv = v->map.format == VX_AREA_COMPACTED && (v->layout & VX_BIT(id));
	c->listed = id <= VX_COMP_SSE || c->in_xstate_bv || (v->layout & VX_BIT(id));
	if (!c->listed)
		return;
	locate(v, c, r);
	if (!c->located || c->truncated)
		return;
	c->bytes_init = id <= VX_COMP_SSE ? legacy_init(a, id) : zero_bytes(a + c->offset, c->size);
}

int vx_vmm_xsave_decode(const struct vx_profile *profile, const struct vx_vmm_blob *blob,
			struct vx_vmm_xsave_view *view, struct vx_error *err)
{
	const struct vx_area_region *region[VX_COMP_LIMIT] = {NULL};
	uint64_t xcr0;

	if (!profile || !blob || !blob->bytes || !view)
		return vx_error_set(err, -EINVAL, "vmm.h",
				    "decode needs a profile, a blob and a view");
	/* Every field is written below (the map by area.h, each component by describe()): no
	 * memset of the 10 KiB view, which was a third of a decode. */
	view->blob = *blob;
	view->profile = profile;
	view->reserved_nonzero = 0;
	view->sw_xcr0 = 0;
	/* The standard form lays out every user component the host enumerates (kvm.md §5.1);
	 * area.h's decoder keeps the user bits of it. */
	xcr0 = vx_profile_xcr0_supported(profile);
	vx_area_decode(profile, blob->bytes, blob->area_len, xcr0, &view->map);
	view->layout = view->map.layout;
	/* Each located extended component has one region, whose base is its offset (area.h). */
	for (unsigned i = 0; i < view->map.count; i++)
		if (view->map.regions[i].kind == VX_AREA_REGION_COMPONENT &&
		    view->map.regions[i].component > VX_COMP_SSE)
			region[view->map.regions[i].component] = &view->map.regions[i];
	for (unsigned id = 0; id < VX_COMP_LIMIT; id++)
		describe(view, id, region[id]);
	for (unsigned i = 0; i < VX_HEADER_SIZE - 16; i++)
		if (blob->bytes[VMM_HDR_RESERVED + i])
			view->reserved_nonzero |= VX_BIT(i);
	view->mxcsr_loaded = view->map.format == VX_AREA_COMPACTED
				 ? (blob->xstate_bv & VMM_MASK_SSE) != 0
				 : (blob->xstate_bv & MXCSR_LOADERS_STD) != 0;
	if (blob->kind != VX_VMM_BLOB_SIGFRAME)
		view->sw_xcr0 = vmm_rd(blob->bytes + VMM_SW_BYTES, 8);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Register values                                                                              */

/* One piece of a register: a field of area.h's table, read as loaded. */
static int read_field(const struct vx_vmm_xsave_view *v, const struct vx_area_field *f,
		      uint8_t *out, size_t len, uint32_t *width, struct vx_error *err)
{
	const struct vx_vmm_component *c = &v->comp[f->component];
	bool mxcsr = f->component == VX_COMP_SSE && f->offset == VX_MXCSR_OFFSET;
	uint32_t w = 0;
	uint64_t at;
	int rc = vx_area_field_width(v->profile, f->component, f->width, &w, err);

	if (rc)
		return rc;
	if (w > len)
		return vx_error_set(err, -ENOSPC, "vmm.h", "%s is %u bytes, room for %zu", f->name,
				    w, len);
	*width = w;
	memset(out, 0, w); /* every initial value is zero but FCW's and MXCSR's (arch.md §6) */
	if (f->offset == 0 && f->component == VX_COMP_X87)
		vmm_wr(out, 2, VX_FCW_DEFAULT);
	if (mxcsr)
		vmm_wr(out, 4, VX_MXCSR_DEFAULT);
	if (!(mxcsr ? v->mxcsr_loaded : c->in_xstate_bv))
		return 0; /* the initial value */
	at = (f->component <= VX_COMP_SSE ? 0 : c->offset) + f->offset;
	if (!c->located || at + w > v->blob.area_len)
		return vx_error_set(err, -ERANGE, "arch.md §2.4",
				    "%s (component %u) has no bytes in this %zu-byte area", f->name,
				    f->component, v->blob.area_len);
	memcpy(out, v->blob.bytes + at, w);
	return 0;
}

/* "ymm5" / "zmm5": the XMM, YMM_Hi128 and ZMM_Hi256 pieces, low to high. */
static int read_vector(const struct vx_vmm_xsave_view *v, const char *name, unsigned pieces,
		       uint8_t *out, size_t len, uint32_t *width, struct vx_error *err)
{
	static const char *const prefix[] = {"xmm", "ymmh", "zmmh"};
	unsigned n = (unsigned)(name[3] - '0');
	uint32_t at = 0;

	if (name[4])
		n = n * 10 + (unsigned)(name[4] - '0');
	for (unsigned p = 0; p < pieces; p++) {
		char piece[16];
		uint32_t w = 0;
		int rc;

		snprintf(piece, sizeof(piece), "%s%u", prefix[p], n);
		rc = read_field(v, vx_area_field_lookup(piece), out + at, len - at, &w, err);
		if (rc)
			return rc;
		at += w;
	}
	*width = at;
	return 0;
}

/* "ymm0".."ymm15" → 2 pieces, "zmm0".."zmm15" → 3; 0 for any other name. */
static unsigned vector_pieces(const char *name)
{
	size_t n = vx_strlen(name);
	unsigned number;

	if (n < 4 || n > 5 || vx_ascii_lower(name[1]) != 'm' || vx_ascii_lower(name[2]) != 'm')
		return 0;
	if (name[3] < '0' || name[3] > '9' || (n == 5 && (name[4] < '0' || name[4] > '9')))
		return 0;
	number = (unsigned)(name[3] - '0') * (n == 5 ? 10u : 1u) +
		 (n == 5 ? (unsigned)(name[4] - '0') : 0u);
	if (number > 15 || (n == 5 && name[3] == '0'))
		return 0;
	return vx_ascii_lower(name[0]) == 'y' ? 2 : vx_ascii_lower(name[0]) == 'z' ? 3 : 0;
}

int vx_vmm_xsave_reg(const struct vx_vmm_xsave_view *view, const char *name, void *out, size_t len,
		     uint32_t *width, struct vx_error *err)
{
	const struct vx_area_field *f;
	unsigned pieces;
	uint32_t w = 0;
	int rc;

	if (!view || !name || !out)
		return vx_error_set(err, -EINVAL, "vmm.h",
				    "a register read needs a view and a name");
	pieces = vector_pieces(name);
	if (pieces) {
		rc = read_vector(view, name, pieces, out, len, &w, err);
	} else {
		f = vx_area_field_lookup(name);
		if (!f)
			return vx_error_set(err, -ENOENT, "area.h", "no register called '%s'",
					    name);
		rc = read_field(view, f, out, len, &w, err);
	}
	if (rc == 0 && width)
		*width = w;
	return rc;
}
