/* SPDX-License-Identifier: MIT */
/*
 * Converting blobs (vmm.h): standard <-> compacted (arch.md §2.4), between two hosts' standard
 * layouts (§2.6: AMD and Intel put AVX-512 and PKRU at different standard offsets, so a raw
 * copy scrambles them), between the KVM_GET_XSAVE and KVM_GET_XSAVE2 sizes (kvm.md §5.1).
 *
 * A conversion moves state, it does not re-execute it: every component of XSTATE_BV goes from
 * its place on the source host to its place on the target, the legacy region is carried, and
 * everything else is zero - the initial configuration of every extended component (arch.md
 * §6), which is also what KVM_GET_XSAVE writes there (§5.2).  So round trips give back the
 * same bytes.  Everything the target cannot hold is refused, each reason with its bit, byte or
 * value; nothing is written then.
 *
 * Speed: the per-host offsets are computed once (vx_vmm_converter_init); a conversion is the
 * header checks and a walk over the target's components in offset order, where neighbouring
 * copies (and neighbouring zero fills) that are contiguous on both sides become one memcpy()
 * (one memset()).
 */
#include "vmm/vmm_internal.h"

#define RULE_LAYOUT "arch.md §2.4"
#define NONE	    0u
#define MXCSR_USERS (VMM_MASK_FP | VMM_MASK_SSE | VMM_MASK_YMM)

static const char *comp_name(unsigned id)
{
	const struct vx_component_info *c = vx_component_info(id);

	return c ? c->name : "?";
}

static bool is_result_kind(enum vx_vmm_blob_kind k)
{
	return k == VX_VMM_BLOB_STANDARD || k == VX_VMM_BLOB_COMPACTED || k == VX_VMM_BLOB_KVM ||
	       k == VX_VMM_BLOB_KVM2;
}

/* ----------------------------------------------------------------------------------------- */
/* Preparation                                                                                  */

static void side(const struct vx_profile *p, uint32_t *off, uint32_t *size, bool *align)
{
	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		struct vx_component_desc d;

		if (!vx_profile_component(p, id, &d) || !d.supported)
			continue;
		size[id] = d.size;
		off[id] = d.supervisor ? NONE : d.standard_offset;
		align[id] = d.align64;
	}
}

/* @to's standard components by offset (insertion sort of at most 61). */
static unsigned sort_order(const struct vx_vmm_converter *c, uint8_t *order)
{
	unsigned n = 0;

	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		unsigned j;

		if (!(c->user_to & VX_BIT(id)) || c->to_off[id] == NONE || !c->to_size[id])
			continue;
		for (j = n; j > 0 && c->to_off[order[j - 1]] > c->to_off[id]; j--)
			order[j] = order[j - 1];
		order[j] = (uint8_t)id;
		n++;
	}
	return n;
}

static uint32_t standard_size(const struct vx_vmm_converter *c)
{
	uint32_t end = VX_VMM_BLOB_MIN;

	for (unsigned id = 2; id < VX_COMP_LIMIT; id++)
		if ((c->user_to & VX_BIT(id)) && c->to_off[id] != NONE &&
		    c->to_off[id] + c->to_size[id] > end)
			end = c->to_off[id] + c->to_size[id];
	return end;
}

static void add_piece(struct vx_vmm_converter *c, uint32_t dst, uint32_t end, uint8_t id)
{
	end = end < c->size ? end : c->size; /* the part within the result */
	if (end > dst)
		c->plan[c->nplan++] = (struct vx_vmm_piece){dst, end - dst, id};
}

/* A standard result's pieces: its components by offset, the gaps between them, the tail. */
static void build_plan(struct vx_vmm_converter *c)
{
	uint8_t order[VX_COMP_LIMIT];
	unsigned n = sort_order(c, order);
	uint32_t cursor = VX_EXTENDED_OFFSET;

	c->nplan = 0;
	for (unsigned k = 0; k < n; k++) {
		unsigned id = order[k];
		uint32_t end = c->to_off[id] + c->to_size[id];

		add_piece(c, cursor, c->to_off[id], VX_VMM_PIECE_GAP);
		add_piece(c, c->to_off[id], end, (uint8_t)id);
		cursor = end > cursor ? end : cursor;
	}
	add_piece(c, cursor, c->size, VX_VMM_PIECE_GAP);
}

/* What the result can take without a refusal, whatever the blob (vmm.h, check_target()). */
static void movable_masks(struct vx_vmm_converter *c)
{
	bool compacted = c->opt.kind == VX_VMM_BLOB_COMPACTED;
	uint64_t allowed = compacted ? c->user_to | c->xss_to : c->user_to & ~c->supervisor;

	c->from_std = c->movable = 0;
	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		bool same = c->from_size[id] && c->from_size[id] == c->to_size[id];
		bool fits = compacted || (uint64_t)c->to_off[id] + c->to_size[id] <= c->size;

		if (c->from_size[id] && c->from_off[id] != NONE)
			c->from_std |= VX_BIT(id);
		if ((allowed & VX_BIT(id)) && same && fits)
			c->movable |= VX_BIT(id);
	}
}

/* The result's size: the one given, checked against its kind, or the kind's own (vmm.h). */
static int choose_size(struct vx_vmm_converter *c, struct vx_error *err)
{
	uint32_t s = c->opt.size;
	enum vx_vmm_blob_kind k = c->opt.kind;

	if (!s) {
		s = k == VX_VMM_BLOB_KVM ? VX_KVM_XSAVE_SIZE : standard_size(c);
		if (k == VX_VMM_BLOB_KVM2 && s < VX_KVM_XSAVE_SIZE)
			s = VX_KVM_XSAVE_SIZE; /* max(4096, ...) (kvm.md §5.1) */
		c->size = k == VX_VMM_BLOB_COMPACTED ? 0 : s;
		return 0;
	}
	c->size = s;
	if (s < VX_VMM_BLOB_MIN || s > VX_VMM_BLOB_MAX)
		return vx_error_set(err, -EINVAL, "arch.md §2.3",
				    "a result of %u bytes is not within [%u, %u]", s,
				    VX_VMM_BLOB_MIN, VX_VMM_BLOB_MAX);
	if (k == VX_VMM_BLOB_KVM && s != VX_KVM_XSAVE_SIZE)
		return vx_error_set(err, -EINVAL, "kvm.md §5.1",
				    "a struct kvm_xsave is %u bytes, not %u", VX_KVM_XSAVE_SIZE, s);
	if (k == VX_VMM_BLOB_KVM2 && (s < VX_KVM_XSAVE_SIZE || s % 4))
		return vx_error_set(
		    err, -EINVAL, "kvm.md §5.1",
		    "a KVM_GET_XSAVE2 buffer is at least %u bytes and a multiple of "
		    "4, not %u",
		    VX_KVM_XSAVE_SIZE, s);
	return 0;
}

static int check_options(const struct vx_vmm_convert_options *o, struct vx_error *err)
{
	int rc;

	if (!o || !o->from || !o->to || !is_result_kind(o->kind))
		return vx_error_set(err, -EINVAL, "vmm.h",
				    "a conversion needs two profiles and a result of kind std, "
				    "compacted, kvm or kvm2");
	rc = vx_profile_check_xsave_leaves(o->from, err);
	if (!rc)
		rc = vx_profile_check_xsave_leaves(o->to, err);
	if (rc)
		return rc;
	/* arch.md §1.3: without XSAVEC no instruction reads or writes the compacted form. */
	if (o->kind == VX_VMM_BLOB_COMPACTED && !o->to->xsave.xsavec)
		return vx_error_set(err, -EINVAL, "arch.md §1.3",
				    "'%s' has no XSAVEC (CPUID.(0xD,1).EAX[1] = 0): it cannot use "
				    "a compacted area",
				    o->to->name);
	if (o->xcomp_layout & ~(vx_profile_xcr0_supported(o->to) | vx_profile_xss_supported(o->to)))
		return vx_error_set(err, -EINVAL, RULE_LAYOUT,
				    "compacted layout 0x%llx has bits '%s' does not enumerate",
				    (unsigned long long)o->xcomp_layout, o->to->name);
	return 0;
}

int vx_vmm_converter_init(struct vx_vmm_converter *c, const struct vx_vmm_convert_options *o,
			  struct vx_error *err)
{
	struct vx_vmm_converter n;
	int rc = check_options(o, err);

	if (rc)
		return rc;
	memset(&n, 0, sizeof(n));
	n.opt = *o;
	n.user_from = vx_profile_xcr0_supported(o->from) & vx_user_components();
	n.user_to = vx_profile_xcr0_supported(o->to) & vx_user_components();
	n.xss_to = vx_profile_xss_supported(o->to);
	n.supervisor = vx_supervisor_components();
	n.mxcsr_mask_to = vx_profile_mxcsr_mask(o->to);
	side(o->from, n.from_off, n.from_size, n.align_from);
	side(o->to, n.to_off, n.to_size, n.align_to);
	rc = choose_size(&n, err);
	if (rc)
		return rc;
	movable_masks(&n);
	if (o->kind != VX_VMM_BLOB_COMPACTED)
		build_plan(&n);
	*c = n;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* One blob: where everything is                                                                */

/*
 * Where the components of one conversion are.  @src and @dst point at the converter's standard
 * offsets or at @src_buf/@dst_buf, filled for the bits of a compacted layout only (the fast
 * path reads no other entry; the refusal path clears them first).
 */
struct geometry {
	uint64_t xstate_bv;
	uint64_t src_layout; /* compacted source: XCOMP_BV[62:0] */
	uint64_t dst_layout; /* compacted result: XCOMP_BV[62:0] */
	const uint32_t *src, *dst;
	uint64_t size;
	bool src_unknown; /* a compacted source names a component @from does not size */
	bool sse_added;
	uint32_t src_buf[VX_COMP_LIMIT], dst_buf[VX_COMP_LIMIT];
};

/* arch.md §2.4: the compacted walk of @layout with one side's sizes and alignment; false if a
 * component of @layout has no size there (every offset after it is then unknown). */
static bool compact(const uint32_t *size, const bool *align, uint64_t layout, uint32_t *off,
		    uint64_t *end)
{
	uint64_t at = VX_EXTENDED_OFFSET;
	bool known = true;

	for (uint64_t m = layout & ~(VMM_MASK_FPSSE | VX_XCOMP_BV_COMPACTED); m; m &= m - 1) {
		unsigned id = (unsigned)__builtin_ctzll(m);

		if (align[id])
			at = (at + 63u) & ~(uint64_t)63u;
		off[id] = (uint32_t)at;
		at += size[id];
		known &= size[id] != 0;
	}
	*end = at;
	return known;
}

static uint64_t result_layout(const struct vx_vmm_converter *c, uint64_t xstate_bv)
{
	/* An explicit layout, an empty one included (vmm.h VX_VMM_CONVERT_EXACT_LAYOUT). */
	if (c->opt.xcomp_layout || (c->opt.flags & VX_VMM_CONVERT_EXACT_LAYOUT))
		return c->opt.xcomp_layout & ~VX_XCOMP_BV_COMPACTED;
	return c->user_to | (xstate_bv & (c->user_to | c->xss_to));
}

static void place(const struct vx_vmm_converter *c, const struct vx_vmm_blob *b, struct geometry *g,
		  bool clear)
{
	uint64_t end = 0;

	if (clear)
		memset(g, 0, sizeof(*g));
	g->xstate_bv = b->xstate_bv;
	g->src = c->from_off;
	g->dst = c->to_off;
	g->size = c->size;
	g->sse_added = false;
	g->src_unknown = false;
	if (b->format == VX_AREA_COMPACTED) {
		g->src_layout = b->xcomp_bv & ~VX_XCOMP_BV_COMPACTED;
		g->src_unknown =
		    !compact(c->from_size, c->align_from, g->src_layout, g->src_buf, &end);
		g->src = g->src_buf;
	}
	if (c->opt.kind == VX_VMM_BLOB_COMPACTED) {
		g->dst_layout = result_layout(c, b->xstate_bv);
		compact(c->to_size, c->align_to, g->dst_layout, g->dst_buf, &end);
		g->dst = g->dst_buf;
		g->size = c->size ? c->size : end;
	}
}

size_t vx_vmm_convert_size(const struct vx_vmm_converter *c, const struct vx_vmm_blob *b)
{
	struct geometry g = {0};

	place(c, b, &g, false);
	return (size_t)g.size;
}

/* ----------------------------------------------------------------------------------------- */
/* Refusals                                                                                     */

/* The header XRSTOR and KVM_SET_XSAVE read (arch.md §2.3, §5.5; kvm.md §5.3). */
static void check_header(const struct vx_vmm_blob *b, const struct geometry *g,
			 struct vx_vmm_report *r)
{
	for (unsigned i = 0; i < VX_HEADER_SIZE - 16; i++)
		if (b->bytes[VMM_HDR_RESERVED + i])
			vmm_report_addf(r, true, -EINVAL, -1, 0, VMM_HDR_RESERVED + i,
					"arch.md §2.3",
					"reserved header byte %u is 0x%02x, not 0: XRSTOR and "
					"KVM_SET_XSAVE refuse the area",
					VMM_HDR_RESERVED + i, b->bytes[VMM_HDR_RESERVED + i]);
	if (b->format == VX_AREA_STANDARD && b->xcomp_bv)
		vmm_report_addf(r, true, -EINVAL, -1, b->xcomp_bv, VX_XCOMP_BV_OFFSET,
				"kvm.md §5.3", "XCOMP_BV 0x%llx is not 0 in a standard-format blob",
				(unsigned long long)b->xcomp_bv);
	if (g->xstate_bv & VX_XCOMP_BV_COMPACTED)
		vmm_report_addf(r, true, -EINVAL, -1, VX_XCOMP_BV_COMPACTED, VX_XSTATE_BV_OFFSET,
				"arch.md §2.3", "XSTATE_BV bit 63 is set: no component has it");
	if (b->format == VX_AREA_COMPACTED &&
	    (g->xstate_bv & ~g->src_layout & ~VX_XCOMP_BV_COMPACTED))
		vmm_report_addf(r, true, -EINVAL, -1, g->xstate_bv & ~g->src_layout,
				VX_XSTATE_BV_OFFSET, "arch.md §5.5",
				"XSTATE_BV 0x%llx has bits outside XCOMP_BV 0x%llx: XRSTOR refuses "
				"the area",
				(unsigned long long)g->xstate_bv, (unsigned long long)b->xcomp_bv);
}

/* A compacted source must lay out every XCOMP_BV bit to place the ones after it. */
static void check_source_layout(const struct vx_vmm_converter *c, const struct vx_vmm_blob *b,
				const struct geometry *g, struct vx_vmm_report *r)
{
	uint64_t unknown = 0;

	if (b->format != VX_AREA_COMPACTED || !g->src_unknown)
		return;
	for (unsigned id = 2; id < VX_COMP_LIMIT; id++)
		if ((g->src_layout & VX_BIT(id)) && !c->from_size[id])
			unknown |= VX_BIT(id);
	vmm_report_addf(r, true, -EINVAL, -1, unknown, VX_XCOMP_BV_OFFSET, RULE_LAYOUT,
			"XCOMP_BV 0x%llx names components '%s' does not enumerate (0x%llx): "
			"their sizes, and so every offset after them, are unknown",
			(unsigned long long)b->xcomp_bv, c->opt.from->name,
			(unsigned long long)unknown);
}

/* Where component @id comes from: on the source host, inside the blob. */
static void check_source(const struct vx_vmm_converter *c, const struct vx_vmm_blob *b,
			 const struct geometry *g, unsigned id, struct vx_vmm_report *r)
{
	const char *from = c->opt.from->name;
	bool compacted = b->format == VX_AREA_COMPACTED;

	if (!c->from_size[id] || (compacted ? !(g->src_layout & VX_BIT(id)) : g->src[id] == NONE)) {
		vmm_report_addf(
		    r, true, -EINVAL, (int)id, VX_BIT(id), VX_XSTATE_BV_OFFSET, RULE_LAYOUT,
		    "%s (bit %u) is in XSTATE_BV but '%s' has no %s place for it", comp_name(id),
		    id, from, compacted ? "compacted" : "standard-format");
		return;
	}
	if ((uint64_t)g->src[id] + c->from_size[id] > b->area_len)
		vmm_report_addf(r, true, -EINVAL, (int)id, VX_BIT(id), g->src[id], RULE_LAYOUT,
				"%s (bit %u, %u bytes at %u on '%s') runs past the end of the "
				"%zu-byte blob",
				comp_name(id), id, c->from_size[id], g->src[id], from, b->area_len);
}

/* Where component @id goes: the target must enumerate it with the same size, room for it. */
static void check_target(const struct vx_vmm_converter *c, const struct geometry *g, unsigned id,
			 struct vx_vmm_report *r)
{
	const char *to = c->opt.to->name;
	bool compacted = c->opt.kind == VX_VMM_BLOB_COMPACTED;

	if (!compacted && (c->supervisor & VX_BIT(id))) {
		vmm_report_addf(r, true, -EINVAL, (int)id, VX_BIT(id), VX_XSTATE_BV_OFFSET,
				"kvm.md §5.4",
				"%s (bit %u) is a supervisor component: the standard format and "
				"KVM's uABI have no place for it (move it through MSRs)",
				comp_name(id), id);
		return;
	}
	if (!c->to_size[id] || !((c->user_to | (compacted ? c->xss_to : 0)) & VX_BIT(id))) {
		vmm_report_addf(r, true, -EINVAL, (int)id, VX_BIT(id), VX_XSTATE_BV_OFFSET,
				"arch.md §1.2", "%s (bit %u) is not supported on '%s'",
				comp_name(id), id, to);
		return;
	}
	if (c->from_size[id] && c->from_size[id] != c->to_size[id])
		vmm_report_addf(r, true, -EINVAL, (int)id, VX_BIT(id), VX_XSTATE_BV_OFFSET,
				"arch.md §1.4", "%s (bit %u) is %u bytes on '%s' but %u on '%s'",
				comp_name(id), id, c->from_size[id], c->opt.from->name,
				c->to_size[id], to);
	else if (compacted && !(g->dst_layout & VX_BIT(id)))
		vmm_report_addf(r, true, -EINVAL, (int)id, VX_BIT(id), VX_XCOMP_BV_OFFSET,
				RULE_LAYOUT, "%s (bit %u) is not in the result's layout 0x%llx",
				comp_name(id), id, (unsigned long long)g->dst_layout);
	else if ((uint64_t)g->dst[id] + c->to_size[id] > g->size)
		vmm_report_addf(
		    r, true, -EINVAL, (int)id, VX_BIT(id), g->dst[id], "kvm.md §5.1",
		    "%s (bit %u, %u bytes at %u on '%s') does not fit in a %llu-byte "
		    "%s result%s",
		    comp_name(id), id, c->to_size[id], g->dst[id], to, (unsigned long long)g->size,
		    vx_vmm_blob_kind_name(c->opt.kind),
		    c->opt.kind == VX_VMM_BLOB_KVM ? " (use kvm2: KVM_GET_XSAVE2's size)" : "");
}

static uint32_t blob_mxcsr(const struct vx_vmm_blob *b)
{
	return (uint32_t)vmm_rd(b->bytes + VX_MXCSR_OFFSET, 4);
}

/* KVM_SET_XSAVE on the target refuses MXCSR bits outside its mask (linux-fpu.md §7.2). */
static void check_mxcsr(const struct vx_vmm_converter *c, const struct vx_vmm_blob *b,
			const struct geometry *g, struct vx_vmm_report *r)
{
	uint32_t mxcsr = blob_mxcsr(b);

	if ((g->xstate_bv & MXCSR_USERS) && (mxcsr & ~c->mxcsr_mask_to))
		vmm_report_addf(r, true, -EINVAL, VX_COMP_SSE, mxcsr & ~c->mxcsr_mask_to,
				VX_MXCSR_OFFSET, "linux-fpu.md §7.2",
				"MXCSR 0x%08x has bits 0x%x outside '%s''s MXCSR_MASK 0x%08x",
				mxcsr, mxcsr & ~c->mxcsr_mask_to, c->opt.to->name,
				c->mxcsr_mask_to);
}

/* Every reason, in order: the header, each component of XSTATE_BV, MXCSR. */
static void check_all(const struct vx_vmm_converter *c, const struct vx_vmm_blob *b,
		      const struct geometry *g, struct vx_vmm_report *r)
{
	check_header(b, g, r);
	check_source_layout(c, b, g, r);
	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		if (!(g->xstate_bv & VX_BIT(id)))
			continue;
		check_source(c, b, g, id, r);
		check_target(c, g, id, r);
	}
	check_mxcsr(c, b, g, r);
}

/*
 * The same rules as word tests, for blobs that break none (the common case): a header with
 * nothing reserved, every extended component movable (converter_init() checked the hosts),
 * inside both areas.  False sends the blob through check_all() for the reasons.
 */
static bool header_clean(const struct vx_vmm_blob *b, const struct geometry *g)
{
	uint64_t reserved = 0;

	for (unsigned at = VMM_HDR_RESERVED; at < VX_EXTENDED_OFFSET; at += 8)
		reserved |= vmm_rd(b->bytes + at, 8);
	if (reserved || (g->xstate_bv & VX_XCOMP_BV_COMPACTED))
		return false;
	if (b->format == VX_AREA_STANDARD)
		return b->xcomp_bv == 0;
	return !g->src_unknown && !(g->xstate_bv & ~g->src_layout);
}

static bool quick_ok(const struct vx_vmm_converter *c, const struct vx_vmm_blob *b,
		     const struct geometry *g)
{
	uint64_t ext = g->xstate_bv & ~VMM_MASK_FPSSE;

	if (!header_clean(b, g) || (ext & ~c->movable))
		return false;
	if (b->format == VX_AREA_STANDARD && (ext & ~c->from_std))
		return false;
	if (c->opt.kind == VX_VMM_BLOB_COMPACTED && (ext & ~g->dst_layout))
		return false;
	if ((g->xstate_bv & MXCSR_USERS) && (blob_mxcsr(b) & ~c->mxcsr_mask_to))
		return false;
	for (uint64_t m = ext; m; m &= m - 1) {
		unsigned id = (unsigned)__builtin_ctzll(m);

		if ((uint64_t)g->src[id] + c->from_size[id] > b->area_len ||
		    (uint64_t)g->dst[id] + c->to_size[id] > g->size)
			return false;
	}
	return true;
}

/* ----------------------------------------------------------------------------------------- */
/* Writing                                                                                      */

/* Pending copy and zero runs: contiguous pieces on both sides become one call. */
struct writer {
	uint8_t *dst;
	const uint8_t *src;
	uint64_t cursor; /* bytes of dst written so far */
	uint64_t limit;	 /* the result's size: nothing is written past it */
	uint64_t copy_dst, copy_src, copy_len;
	uint64_t zero_dst, zero_len;
};

static inline void flush(struct writer *w)
{
	if (w->copy_len)
		memcpy(w->dst + w->copy_dst, w->src + w->copy_src, (size_t)w->copy_len);
	if (w->zero_len)
		memset(w->dst + w->zero_dst, 0, (size_t)w->zero_len);
	w->copy_len = w->zero_len = 0;
}

static inline void zero_to(struct writer *w, uint64_t end)
{
	end = end < w->limit ? end : w->limit; /* init components past a short result */
	if (end <= w->cursor)
		return;
	if (w->copy_len)
		flush(w);
	if (!w->zero_len)
		w->zero_dst = w->cursor;
	w->zero_len = end - w->zero_dst;
	w->cursor = end;
}

static inline void copy_at(struct writer *w, uint64_t dst, uint64_t src, uint64_t len)
{
	zero_to(w, dst);
	if (w->zero_len ||
	    (w->copy_len && (w->copy_dst + w->copy_len != dst || w->copy_src + w->copy_len != src)))
		flush(w);
	if (!w->copy_len) {
		w->copy_dst = dst;
		w->copy_src = src;
	}
	w->copy_len = dst + len - w->copy_dst;
	if (dst + len > w->cursor)
		w->cursor = dst + len;
}

/* A standard result: the prepared pieces, each copied when its component is in XSTATE_BV. */
static void write_standard(const struct vx_vmm_converter *c, const struct geometry *g,
			   struct writer *w)
{
	for (unsigned k = 0; k < c->nplan; k++) {
		const struct vx_vmm_piece *p = &c->plan[k];

		if (p->id != VX_VMM_PIECE_GAP && (g->xstate_bv & VX_BIT(p->id)))
			copy_at(w, p->dst, g->src[p->id], p->size);
		else
			zero_to(w, (uint64_t)p->dst + p->size);
	}
}

/* A compacted result: its layout's components by index (arch.md §2.4). */
static void write_compacted(const struct vx_vmm_converter *c, const struct geometry *g,
			    struct writer *w)
{
	for (uint64_t m = g->dst_layout & ~VMM_MASK_FPSSE; m; m &= m - 1) {
		unsigned id = (unsigned)__builtin_ctzll(m);

		if (g->xstate_bv & VX_BIT(id))
			copy_at(w, g->dst[id], g->src[id], c->to_size[id]);
		else
			zero_to(w, (uint64_t)g->dst[id] + c->to_size[id]);
	}
}

/*
 * Fixed-size stores of zeros are copied from a constant block: gcc -O2 turns a fixed-size
 * memset() or memcpy() of a few hundred bytes into REP STOS/MOVS, whose start-up costs more
 * than the bytes (measured: the 512-byte legacy copy alone was most of a conversion), so the
 * legacy region goes through the writer's variable-length memcpy() instead.
 */
static const uint8_t zeros[VX_HEADER_SIZE - 16];

/* The header over the copied legacy region and header; a compacted result keeps MXCSR alive
 * with SSE (arch.md §5.5). */
static void write_header(const struct vx_vmm_converter *c, const struct vx_vmm_blob *b,
			 struct geometry *g, uint8_t *dst)
{
	if (b->kind == VX_VMM_BLOB_SIGFRAME) /* its software bytes describe the frame only */
		memcpy(dst + VMM_SW_BYTES, zeros, VX_LEGACY_SIZE - VMM_SW_BYTES);
	if (c->opt.kind == VX_VMM_BLOB_COMPACTED && !(g->xstate_bv & VMM_MASK_SSE) &&
	    (g->xstate_bv & MXCSR_USERS) && blob_mxcsr(b) != VX_MXCSR_DEFAULT) {
		g->xstate_bv |= VMM_MASK_SSE;
		g->sse_added = true;
		memset(dst + VX_XMM_OFFSET, 0, VMM_LEGACY_USED - VX_XMM_OFFSET);
	}
	vmm_wr(dst + VX_XSTATE_BV_OFFSET, 8, g->xstate_bv);
	vmm_wr(dst + VX_XCOMP_BV_OFFSET, 8,
	       c->opt.kind == VX_VMM_BLOB_COMPACTED ? VX_XCOMP_BV_COMPACTED | g->dst_layout : 0);
	memcpy(dst + VMM_HDR_RESERVED, zeros, sizeof(zeros));
}

static void write_all(const struct vx_vmm_converter *c, const struct vx_vmm_blob *b,
		      struct geometry *g, uint8_t *dst)
{
	struct writer w = {dst, b->bytes, 0, g->size, 0, 0, 0, 0, 0};

	copy_at(&w, 0, 0, VX_EXTENDED_OFFSET); /* legacy region and header, patched below */
	if (c->opt.kind == VX_VMM_BLOB_COMPACTED)
		write_compacted(c, g, &w);
	else
		write_standard(c, g, &w);
	zero_to(&w, g->size);
	flush(&w);
	write_header(c, b, g, dst);
}

/* ----------------------------------------------------------------------------------------- */
/* Notes                                                                                        */

/* The source ranges that are carried, sorted by start (at most 61). */
static unsigned carried_ranges(const struct vx_vmm_converter *c, const struct geometry *g,
			       uint64_t start[], uint64_t end[])
{
	unsigned n = 0;

	for (uint64_t m = g->xstate_bv & ~VMM_MASK_FPSSE; m; m &= m - 1) {
		unsigned id = (unsigned)__builtin_ctzll(m), j;

		for (j = n; j > 0 && start[j - 1] > g->src[id]; j--) {
			start[j] = start[j - 1];
			end[j] = end[j - 1];
		}
		start[j] = g->src[id];
		end[j] = (uint64_t)g->src[id] + c->from_size[id];
		n++;
	}
	return n;
}

/* Non-zero bytes of [@from, @to): their count, and the first one in *@first. */
static uint64_t nonzero(const uint8_t *p, uint64_t from, uint64_t to, uint64_t *first,
			uint64_t count)
{
	for (uint64_t at = from; at < to; at++) {
		if (!p[at])
			continue;
		*first = count ? *first : at;
		count++;
	}
	return count;
}

static void note_dropped(const struct vx_vmm_converter *c, const struct vx_vmm_blob *b,
			 const struct geometry *g, struct vx_vmm_report *r)
{
	uint64_t first = 0, count = 0, at = VX_EXTENDED_OFFSET;
	uint64_t start[VX_COMP_LIMIT], end[VX_COMP_LIMIT];
	unsigned n = carried_ranges(c, g, start, end);

	/* The bytes between the carried ranges (and after them), up to the area's end. */
	for (unsigned k = 0; k <= n && at < b->area_len; k++) {
		uint64_t stop = k < n && start[k] < b->area_len ? start[k] : b->area_len;

		if (stop > at)
			count = nonzero(b->bytes, at, stop, &first, count);
		if (k < n && end[k] > at)
			at = end[k];
	}
	if (count)
		vmm_report_addf(r, false, 0, -1, 0, (int64_t)first, "arch.md §5.5",
				"%llu non-zero source byte(s) from byte %llu hold no state (no "
				"XSTATE_BV component covers them) and are not carried",
				(unsigned long long)count, (unsigned long long)first);
	if (g->sse_added)
		vmm_report_addf(r, false, 0, VX_COMP_SSE, VMM_MASK_SSE, VX_XSTATE_BV_OFFSET,
				"arch.md §5.5",
				"SSE added to XSTATE_BV (XMM registers zero, as before): compacted "
				"XRSTOR loads MXCSR 0x%08x only with XSTATE_BV[1]",
				blob_mxcsr(b));
}

/* The refusal path: every reason into @r; 0 if, after all, there is none. */
static int refusals(const struct vx_vmm_converter *c, const struct vx_vmm_blob *b,
		    struct geometry *g, struct vx_vmm_report *r, struct vx_error *err)
{
	place(c, b, g, true);
	check_all(c, b, g, r);
	if (!r->refusals)
		return 0;
	if (err)
		*err = r->items[0].err;
	return -EINVAL;
}

int vx_vmm_convert(const struct vx_vmm_converter *c, const struct vx_vmm_blob *b, uint8_t *dst,
		   size_t dst_len, struct vx_vmm_report *report, struct vx_error *err)
{
	struct vx_vmm_report local;
	/* Only the address: the report is filled before it is read. */
	/* cppcheck-suppress uninitvar */
	struct vx_vmm_report *r = report ? report : &local;
	struct geometry g = {0};
	int rc;

	if (!c || !b || !b->bytes)
		return vx_error_set(err, -EINVAL, "vmm.h", "convert needs a converter and a blob");
	vmm_report_clear(r);
	place(c, b, &g, false);
	if (!quick_ok(c, b, &g)) {
		rc = refusals(c, b, &g, r, err);
		if (rc)
			return rc;
	}
	if (!dst || dst_len < g.size) {
		vx_error_set(err, -ENOSPC, "vmm.h", "the result needs %llu bytes, %zu given",
			     (unsigned long long)g.size, dst ? dst_len : 0);
		if (err)
			err->offset = (int64_t)(dst ? dst_len : 0);
		return -ENOSPC;
	}
	write_all(c, b, &g, dst);
	if (report && (c->opt.flags & VX_VMM_CONVERT_NOTES))
		note_dropped(c, b, &g, report);
	return 0;
}
