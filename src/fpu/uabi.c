/* SPDX-License-Identifier: MIT */
/*
 * The uABI (standard-format) conversions of linux-fpu.md §7: kernel image → uABI buffer
 * (__copy_xstate_to_uabi_buf, §7.1), uABI buffer → kernel image (copy_uabi_to_xstate with
 * validate_user_xstate_header, §7.2), and KVM's wrappers (§7.1 item 7, §7.3).
 *
 * A refused buffer leaves the fpstate and *pkru unchanged: every check, including "the buffer
 * is long enough for each component it names" (the kernel's copy failure, -EFAULT), runs
 * before the first byte is written.
 *
 * Speed (issue 7: both ways within 2x a memcpy() of the bytes they move): the layout of an
 * image - where each component is, and which neighbours are contiguous in both formats - is
 * derived at boot for the XCOMP_BVs the kernel's fpstates have (fpu_uabi_setup_layouts()), so
 * a conversion is the header checks, a memcpy() per run of contiguous components, and zero
 * fills for the components the header leaves out.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <vxsave/fpstate.h>

#include "fpu_internal.h"

#define HDR_RESERVED_OFFSET (VX_HEADER_OFFSET + 16u) /* 48 reserved header bytes (§7.2 c) */
#define HDR_RESERVED_SIZE   48u
#define SW_BYTES_OFFSET	    464u /* sw_reserved: xstate_fx_sw_bytes (§7.1 item 4) */
#define PADDING_OFFSET	    416u
#define FP_PIECE2_OFFSET    32u /* st_space */
#define FP_PIECE2_SIZE	    128u
#define PKRU_STATE_SIZE	    8u

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Where a refusal points: component (or -1), bits, byte offset. */
static void where(struct vx_error *err, int component, uint64_t bits, int64_t offset)
{
	if (!err)
		return;
	err->component = component;
	err->bits = bits;
	err->offset = offset;
}

/* membuf_write(): the part of [@off, @off + @n) that fits in @len. */
static void put(uint8_t *buf, size_t len, size_t off, const void *src, size_t n)
{
	if (off >= len)
		return;
	memcpy(buf + off, src, n < len - off ? n : len - off);
}

/* memset() of the part of [@off, @off + @n) that fits in @len. */
static void zero(uint8_t *buf, size_t len, size_t off, size_t n)
{
	if (off >= len)
		return;
	memset(buf + off, 0, n < len - off ? n : len - off);
}

/* ----------------------------------------------------------------------------------------- */
/* Layouts of kernel images, derived at boot                                                    */

/* The kernel image's XCOMP_BV: 0 (every offset standard) unless the system compacts. */
static uint64_t image_xcomp_bv(const struct vx_fpu_system *sys, const struct vx_fpstate *fps)
{
	return sys->insns.compacted ? rd64(fps->regs + VX_XCOMP_BV_OFFSET) : 0;
}

/*
 * §2.3 xfeature_get_offset() for every component at once: the cached standard offsets, or for
 * a compacted image one walk up its own XCOMP_BV from bit 2, aligning where ALIGNED64 says -
 * the answers of vx_fpu_xfeature_offset().  A bit the image lacks gets VX_FPU_NO_OFFSET.
 */
static void image_offsets(const struct vx_fpu_system *sys, uint64_t xcomp_bv,
			  uint32_t off[VX_FPU_XFEATURE_MAX])
{
	uint32_t at = FPU_XREGS_SIZE;

	for (unsigned id = 0; id < VX_FPU_XFEATURE_MAX; id++)
		off[id] = sys->insns.compacted && id > VX_COMP_SSE ? VX_FPU_NO_OFFSET
								   : sys->xstate[id].offset;
	if (!sys->insns.compacted)
		return;
	for (uint64_t m = xcomp_bv & FPU_XFEATURES_ALL & ~VX_FPU_MASK_FPSSE; m; m &= m - 1) {
		unsigned id = (unsigned)__builtin_ctzll(m);

		if (sys->xstate[id].flags & VX_FPU_XSTATE_FLAG_ALIGNED64)
			at = (at + 63u) & ~63u;
		off[id] = at;
		at += sys->xstate[id].size;
	}
}

/*
 * Add a component to @runs: it extends the last run when both of its ranges continue it.
 * PKRU is a run of its own: it is switched eagerly and often in its initial configuration
 * (so out of the header), and a run is one copy only when the header has all of it.
 */
static void run_add(struct fpu_uabi_run *runs, unsigned *n, unsigned id, uint32_t std,
		    uint32_t image, uint32_t size, unsigned seg)
{
	struct fpu_uabi_run *last = *n ? &runs[*n - 1] : NULL;
	uint64_t alone = VX_BIT(VX_COMP_PKRU);

	if (last && last->image != VX_FPU_NO_OFFSET && image != VX_FPU_NO_OFFSET &&
	    !((last->mask | VX_BIT(id)) & alone) && last->std + last->size == std &&
	    last->image + last->size == image) {
		last->mask |= VX_BIT(id);
		last->size += size;
		last->image_end += size;
		last->count++;
		return;
	}
	runs[(*n)++] = (struct fpu_uabi_run){
	    VX_BIT(id), std, image, size, image == VX_FPU_NO_OFFSET ? UINT32_MAX : image + size,
	    seg,	1};
}

/* The extended user components in standard order (§7.1 item 5) and their runs. */
static void layout_standard_order(const struct vx_fpu_system *sys, struct fpu_uabi_layout *layout)
{
	uint32_t end = 0;

	layout->nseg = layout->nstd = 0;
	layout->overlap = false;
	for (unsigned k = 0; k < sys->uncompact_count; k++) {
		unsigned id = sys->uncompact_order[k];
		const struct vx_fpu_xstate_info *x = &sys->xstate[id];
		/* §7.1 item 5: PKRU comes from pkru_val, never from the image (put_pkru()). */
		uint32_t image = id == VX_COMP_PKRU ? VX_FPU_NO_OFFSET : layout->image[id];

		layout->seg[layout->nseg++] =
		    (struct fpu_uabi_segment){x->offset, x->size, image, id};
		run_add(layout->std_runs, &layout->nstd, id, x->offset, image, x->size, k);
		layout->overlap |= x->offset < end;
		end = x->offset + x->size > end ? x->offset + x->size : end;
	}
	layout->joins_base = layout->nstd && layout->std_runs[0].std == FPU_XREGS_SIZE &&
			     layout->std_runs[0].image == FPU_XREGS_SIZE;
}

/*
 * The layout of images with @xcomp_bv: offsets, the standard order, and the components with
 * bytes in both formats by feature number and their runs (uABI → kernel; FP and SSE are one,
 * bytes 0-415).
 */
static void build_layout(const struct vx_fpu_system *sys, uint64_t xcomp_bv,
			 struct fpu_uabi_layout *layout)
{
	layout->xcomp_bv = xcomp_bv;
	image_offsets(sys, xcomp_bv, layout->image);
	layout_standard_order(sys, layout);
	layout->nid = 0;
	for (unsigned id = 0; id < VX_FPU_XFEATURE_MAX; id++) {
		const struct vx_fpu_xstate_info *x = &sys->xstate[id];

		if (x->size && x->offset != VX_FPU_NO_OFFSET &&
		    layout->image[id] != VX_FPU_NO_OFFSET)
			run_add(layout->id_runs, &layout->nid, id, x->offset, layout->image[id],
				x->size, 0);
	}
}

static void add_layout(struct vx_fpu_system *sys, uint64_t xcomp_bv)
{
	for (unsigned i = 0; i < sys->uabi_layout_count; i++)
		if (sys->uabi_layouts[i].xcomp_bv == xcomp_bv)
			return;
	if (sys->uabi_layout_count < FPU_UABI_LAYOUTS)
		build_layout(sys, xcomp_bv, &sys->uabi_layouts[sys->uabi_layout_count++]);
}

/*
 * sys->uabi_end[k][b]: the furthest standard end (offset + size) of the components whose bits
 * are set in byte value @b of byte @k of a feature mask; UINT32_MAX for one without a standard
 * offset (supervisor).  One look-up per byte says whether a buffer holds a whole header's worth.
 */
static void setup_ends(struct vx_fpu_system *sys)
{
	for (unsigned k = 0; k < 3; k++) {
		sys->uabi_end[k][0] = 0;
		for (unsigned b = 1; b < 256; b++) { /* b's lowest bit, and b without it */
			unsigned id = 8 * k + (unsigned)__builtin_ctz(b);
			uint64_t end = 0, rest = sys->uabi_end[k][b & (b - 1)];

			if (id < VX_FPU_XFEATURE_MAX)
				end = sys->xstate[id].offset == VX_FPU_NO_OFFSET
					  ? UINT32_MAX
					  : (uint64_t)sys->xstate[id].offset + sys->xstate[id].size;
			sys->uabi_end[k][b] = (uint32_t)(end > rest ? end : rest);
		}
	}
}

/*
 * At boot: the layouts of the fpstates the kernel makes - host default, grown by the dynamic
 * (XFD) features (§5.3), guest default and grown (§6), kernel max; or the one standard layout.
 */
void fpu_uabi_setup_layouts(struct vx_fpu_system *sys)
{
	const uint64_t features[] = {
	    sys->kernel.default_features, sys->kernel.default_features | sys->init_xfd,
	    sys->guest.features,	  sys->guest.features | sys->init_xfd,
	    sys->kernel.max_features,
	};

	setup_ends(sys);
	sys->uabi_layout_count = 0;
	if (!sys->insns.compacted) {
		add_layout(sys, 0);
		return;
	}
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		add_layout(sys, features[i] | VX_XCOMP_BV_COMPACTED);
}

/* The boot layout of @fps's image, or NULL for an unusual XCOMP_BV (built per call then). */
static const struct fpu_uabi_layout *boot_layout(const struct vx_fpu_system *sys,
						 const struct vx_fpstate *fps)
{
	uint64_t xcomp_bv = image_xcomp_bv(sys, fps);

	if (sys->uabi_layout_count && sys->uabi_layouts[0].xcomp_bv == xcomp_bv)
		return &sys->uabi_layouts[0]; /* the default fpstate */
	for (unsigned i = 1; i < sys->uabi_layout_count; i++)
		if (sys->uabi_layouts[i].xcomp_bv == xcomp_bv)
			return &sys->uabi_layouts[i];
	return NULL;
}

/* Whether @fps's image holds @size bytes at @image (the kernel reads nothing past it). */
static bool image_has(const struct vx_fpstate *fps, uint32_t image, uint32_t size)
{
	return image != VX_FPU_NO_OFFSET && image + (uint64_t)size <= fps->size;
}

/* Whether @hdr names every component of @run and @fps's image holds them. */
static bool run_whole(const struct fpu_uabi_run *run, const struct vx_fpstate *fps, uint64_t hdr)
{
	return (hdr & run->mask) == run->mask && run->image_end <= fps->size;
}

/* ----------------------------------------------------------------------------------------- */
/* Kernel → uABI (§7.1)                                                                         */

/* The kernel image's XSTATE_BV; a FXSAVE-only image holds FP|SSE. */
static uint64_t kernel_xstate_bv(const struct vx_fpu_system *sys, const struct vx_fpstate *fps)
{
	return sys->insns.xsave ? rd64(fps->regs + VX_XSTATE_BV_OFFSET) : VX_FPU_MASK_FPSSE;
}

/* §7.1 item 1: the header bits the mode lets through. */
static uint64_t mode_mask(const struct vx_fpstate *fps, uint64_t xfeatures, enum vx_uabi_mode mode)
{
	static const uint64_t masks[] = {
	    [VX_UABI_COPY_FP] = FPU_MASK_FP,
	    [VX_UABI_COPY_FX] = VX_FPU_MASK_FPSSE,
	};

	return mode == VX_UABI_COPY_XSAVE ? fps->user_xfeatures & xfeatures : masks[mode];
}

/*
 * §7.1 item 2: the legacy pieces, from the task image if @hdr has their bit, else init.
 * Measured on this machine's kernel (docs/fpu.md): with YMM in @hdr but SSE not saved by
 * XSAVES (XMM init, MXCSR 0x1F80), MXCSR/MXCSR_MASK come from image bytes that save did not
 * rewrite - stale values, e.g. from an earlier SETREGSET - and the kernel reports them too.
 */
struct legacy_piece {
	uint32_t offset, size;
	uint64_t bits;
};

static const struct legacy_piece legacy_pieces[] = {
    {0, VX_MXCSR_OFFSET, FPU_MASK_FP},				   /* FCW ... FOO/FOS */
    {VX_MXCSR_OFFSET, 8, FPU_MASK_SSE | FPU_MASK_YMM},		   /* MXCSR, MXCSR_MASK */
    {FP_PIECE2_OFFSET, FP_PIECE2_SIZE, FPU_MASK_FP},		   /* st_space */
    {VX_XMM_OFFSET, PADDING_OFFSET - VX_XMM_OFFSET, FPU_MASK_SSE}, /* xmm_space */
};

/* The pieces whose bit @hdr lacks, from init_fpstate, over the image's bytes copied before. */
static void legacy_from_init(const struct vx_fpu_system *sys, uint64_t hdr, uint8_t *buf,
			     size_t len)
{
	if ((hdr & VX_FPU_MASK_FPSSE) == VX_FPU_MASK_FPSSE)
		return; /* every piece is the task's */
	for (size_t i = 0; i < sizeof(legacy_pieces) / sizeof(legacy_pieces[0]); i++) {
		const struct legacy_piece *p = &legacy_pieces[i];

		if (!(hdr & p->bits))
			put(buf, len, p->offset, sys->init_image + p->offset, p->size);
	}
}

/* Zero the buffer from @cursor (the end of what was written) up to @std, copy there. */
static uint32_t copy_at(uint8_t *buf, size_t len, const uint8_t *image, uint32_t cursor,
			uint32_t std, uint32_t from, uint32_t size)
{
	if (std > cursor)
		zero(buf, len, cursor, std - cursor);
	put(buf, len, std, image + from, size);
	return std + size;
}

/* A run @hdr names in part: its named components one by one. */
static uint32_t copy_part(const struct fpu_uabi_layout *layout, const struct fpu_uabi_run *run,
			  const struct vx_fpstate *fps, uint64_t hdr, uint8_t *buf, size_t len,
			  uint32_t cursor)
{
	for (unsigned k = run->first; k < run->first + run->count; k++) {
		const struct fpu_uabi_segment *s = &layout->seg[k];

		if ((hdr & VX_BIT(s->id)) && image_has(fps, s->image, s->size))
			cursor = copy_at(buf, len, fps->regs, cursor, s->std, s->image, s->size);
	}
	return cursor;
}

/* Overlapping standard ranges: zero everything, then write what @hdr names in order. */
static void copy_overlapping(const struct fpu_uabi_layout *layout, const struct vx_fpstate *fps,
			     uint64_t hdr, uint8_t *buf, size_t len)
{
	zero(buf, len, FPU_XREGS_SIZE, len);
	for (unsigned k = 0; k < layout->nseg; k++) {
		const struct fpu_uabi_segment *s = &layout->seg[k];

		if ((hdr & VX_BIT(s->id)) && image_has(fps, s->image, s->size))
			put(buf, len, s->std, fps->regs + s->image, s->size);
	}
}

/*
 * Items 2 and 5 as copy runs: bytes 0-575 from the image (416-575 are rewritten by item 4, but
 * copying them lets the copy go on into a first run at 576 in both formats), then each
 * extended user feature in increasing standard offset - from its place in the image if @hdr
 * has it, else zero (all-zero init), gaps zero - and zeros up to @len.  A run whose features
 * @hdr has all is one memcpy(); the zeros between two copies are one memset().
 */
static inline void copy_runs(const struct fpu_uabi_layout *layout, const struct vx_fpstate *fps,
			     uint64_t hdr, uint8_t *buf, size_t len)
{
	const struct fpu_uabi_run *run = layout->std_runs, *end = run + layout->nstd;
	const uint8_t *regs = fps->regs; /* read once: memcpy() may alias, as far as gcc knows */
	uint32_t base = fps->size >= FPU_XREGS_SIZE ? FPU_XREGS_SIZE : PADDING_OFFSET;
	uint32_t cursor = FPU_XREGS_SIZE;

	if (layout->overlap) {
		put(buf, len, 0, regs, base);
		copy_overlapping(layout, fps, hdr, buf, len);
		return;
	}
	if (layout->joins_base && base == FPU_XREGS_SIZE && run_whole(run, fps, hdr))
		cursor = base += (run++)->size;
	put(buf, len, 0, regs, base);
	for (; run < end; run++) {
		if (run_whole(run, fps, hdr))
			cursor = copy_at(buf, len, regs, cursor, run->std, run->image, run->size);
		else if (hdr & run->mask)
			cursor = copy_part(layout, run, fps, hdr, buf, len, cursor);
	}
	zero(buf, len, cursor, len);
}

/*
 * §7.1 item 4: padding, sw_reserved (§12: word 0 = XCR0 at 464) and the header, bytes 416-575.
 * Zeroed in pieces of at most 64 bytes: gcc -O2/-O3 makes those a few vector stores, but a
 * 160-byte memset() a REP STOS whose start-up costs more than the stores.
 */
static void put_header(uint64_t xcr0, uint64_t hdr, uint8_t *buf, size_t len)
{
	if (len < FPU_XREGS_SIZE) { /* a partial copy: what fits */
		zero(buf, len, PADDING_OFFSET, FPU_XREGS_SIZE - PADDING_OFFSET);
		put(buf, len, SW_BYTES_OFFSET, &xcr0, sizeof(xcr0));
		put(buf, len, VX_XSTATE_BV_OFFSET, &hdr, sizeof(hdr));
		return;
	}
	memset(buf + PADDING_OFFSET, 0, 64);
	memset(buf + PADDING_OFFSET + 64, 0, 64);
	memset(buf + PADDING_OFFSET + 128, 0, 32);
	memcpy(buf + SW_BYTES_OFFSET, &xcr0, sizeof(xcr0));
	memcpy(buf + VX_XSTATE_BV_OFFSET, &hdr, sizeof(hdr));
}

/* §7.1 item 5: PKRU from the eagerly switched value; the image's copy may be stale. */
static void put_pkru(const struct vx_fpu_system *sys, uint32_t pkru, uint8_t *buf, size_t len)
{
	uint8_t pkru_state[PKRU_STATE_SIZE] = {0};

	memcpy(pkru_state, &pkru, sizeof(pkru));
	put(buf, len, sys->xstate[VX_COMP_PKRU].offset, pkru_state, sizeof(pkru_state));
}

/* copy_runs() of an image no boot layout describes; the layout (1.7 KiB) is built here, out
 * of the hot function's stack frame. */
static __attribute__((noinline, cold)) void copy_runs_built(const struct vx_fpu_system *sys,
							    const struct vx_fpstate *fps,
							    uint64_t hdr, uint8_t *buf, size_t len)
{
	struct fpu_uabi_layout layout;

	build_layout(sys, image_xcomp_bv(sys, fps), &layout);
	copy_runs(&layout, fps, hdr, buf, len);
}

int vx_fpstate_to_uabi(const struct vx_fpu_system *system, const struct vx_fpstate *fps,
		       uint64_t xfeatures, uint32_t pkru, enum vx_uabi_mode mode, uint8_t *buf,
		       size_t len, struct vx_error *err)
{
	const struct fpu_uabi_layout *layout;
	uint64_t hdr;

	if ((unsigned)mode > VX_UABI_COPY_XSAVE)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §7.1", "unknown copy mode %d",
				    (int)mode);
	hdr = kernel_xstate_bv(system, fps) & mode_mask(fps, xfeatures, mode);
	if (mode != VX_UABI_COPY_XSAVE) { /* §7.1 item 3: the legacy area, the rest zeroed */
		put(buf, len, 0, fps->regs, PADDING_OFFSET);
		zero(buf, len, PADDING_OFFSET, len);
	} else {
		layout = boot_layout(system, fps);
		if (layout)
			copy_runs(layout, fps, hdr, buf, len);
		else
			copy_runs_built(system, fps, hdr, buf, len);
		put_header(system->user.max_features, hdr, buf, len);
	}
	legacy_from_init(system, hdr, buf, len);
	if ((hdr & system->kernel.max_features) & VX_BIT(VX_COMP_PKRU))
		put_pkru(system, pkru, buf, len);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* uABI → kernel (§7.2)                                                                         */

/* §7.2 (b) and (c): XCOMP_BV and the 48 reserved bytes after it, ORed (seven words). */
static uint64_t header_zeros(const uint8_t *buf)
{
	uint64_t any = 0;

	for (uint32_t i = VX_XCOMP_BV_OFFSET; i < FPU_XREGS_SIZE; i += 8)
		any |= rd64(buf + i);
	return any;
}

/* §7.2: MXCSR is checked only when FP, SSE or YMM is in the header; its bits outside the mask. */
static uint32_t mxcsr_bad_bits(const struct vx_fpu_system *sys, uint64_t hdr, const uint8_t *buf)
{
	uint32_t checked = (hdr & (FPU_MASK_FP | FPU_MASK_SSE | FPU_MASK_YMM)) ? UINT32_MAX : 0;

	return rd32(buf + VX_MXCSR_OFFSET) & ~sys->mxcsr_feature_mask & checked;
}

/*
 * The furthest standard end of @hdr's components: a look-up per byte of @hdr that has bits
 * (fpu_uabi_setup_layouts()) - usually one: x87 to Hi16_ZMM are bits 0-7.
 */
static uint32_t header_end(const struct vx_fpu_system *sys, uint64_t hdr)
{
	uint32_t end0 = sys->uabi_end[0][hdr & 0xFF], end1, end2;

	if ((hdr >> 8) == 0)
		return end0;
	end1 = sys->uabi_end[1][(hdr >> 8) & 0xFF];
	end2 = sys->uabi_end[2][(hdr >> 16) & 0xFF];
	end0 = end0 > end1 ? end0 : end1;
	return end0 > end2 ? end0 : end2;
}

/*
 * The all-failures mode (vx_fpu_uabi_guest_refusals, for the vmm layer's validation): @all gets
 * every refusal and the checks go on; without it they stop at the first, as the kernel does.
 * refused() records one and says whether to stop.
 */
struct refusals {
	vx_fpu_uabi_sink sink;
	void *ctx;
	int first;
};

static bool refused(struct refusals *all, int rc, const struct vx_error *err)
{
	if (!all)
		return true;
	all->first = all->first ? all->first : rc;
	all->sink(all->ctx, err);
	return false;
}

/* §7.2 (a), (b), (c) refused with the bit, word or byte that breaks them. */
static int header_refusal(const struct vx_fpstate *fps, uint64_t hdr, const uint8_t *buf,
			  struct refusals *all, struct vx_error *err)
{
	uint64_t xcomp = rd64(buf + VX_XCOMP_BV_OFFSET);
	uint32_t at = HDR_RESERVED_OFFSET;

	int rc;

	if (hdr & ~fps->user_xfeatures) {
		where(err, -1, hdr & ~fps->user_xfeatures, VX_XSTATE_BV_OFFSET);
		rc = vx_error_set(err, -EINVAL, "linux-fpu.md §7.2 (a)",
				  "XSTATE_BV 0x%llx has bits outside user_xfeatures 0x%llx",
				  (unsigned long long)hdr, (unsigned long long)fps->user_xfeatures);
		if (refused(all, rc, err))
			return rc;
	}
	if (xcomp) {
		where(err, -1, xcomp, VX_XCOMP_BV_OFFSET);
		rc = vx_error_set(err, -EINVAL, "linux-fpu.md §7.2 (b)",
				  "XCOMP_BV 0x%llx is not 0: a uABI buffer is never compacted",
				  (unsigned long long)xcomp);
		if (refused(all, rc, err))
			return rc;
	}
	for (;; at++) {
		while (at < FPU_XREGS_SIZE && buf[at] == 0)
			at++;
		if (at == FPU_XREGS_SIZE)
			return 0;
		where(err, -1, 0, at);
		rc = vx_error_set(err, -EINVAL, "linux-fpu.md §7.2 (c)",
				  "reserved header byte %u is 0x%02x, not 0", at, buf[at]);
		if (refused(all, rc, err))
			return rc;
	}
}

/* §7.2: MXCSR outside mxcsr_feature_mask (only when FP, SSE or YMM is in @hdr). */
static int check_mxcsr(const struct vx_fpu_system *sys, uint64_t hdr, const uint8_t *buf,
		       struct vx_error *err)
{
	uint32_t bad = mxcsr_bad_bits(sys, hdr, buf);

	if (!bad)
		return 0;
	where(err, VX_COMP_SSE, bad, VX_MXCSR_OFFSET);
	return vx_error_set(err, -EINVAL, "linux-fpu.md §7.2",
			    "MXCSR 0x%08x has bits outside mxcsr_feature_mask 0x%08x",
			    rd32(buf + VX_MXCSR_OFFSET), sys->mxcsr_feature_mask);
}

/* The kernel's copy failure (-EFAULT), found up front: the lowest component past @len. */
static int length_refusal(const struct vx_fpu_system *sys, uint64_t hdr, size_t len,
			  struct refusals *all, struct vx_error *err)
{
	for (uint64_t m = hdr & FPU_XFEATURES_ALL; m; m &= m - 1) {
		unsigned id = (unsigned)__builtin_ctzll(m);
		uint32_t off = sys->xstate[id].offset, size = sys->xstate[id].size;
		int rc;

		if ((uint64_t)off + size <= len)
			continue;
		where(err, (int)id, VX_BIT(id), off);
		rc = vx_error_set(err, -EFAULT, "linux-fpu.md §7.2",
				  "component %u (%u bytes at %u) runs past the %zu-byte buffer", id,
				  size, off, len);
		if (refused(all, rc, err))
			return rc;
	}
	return 0;
}

/*
 * Which rule @buf breaks, in the kernel's order, and why; 0 if none.  With @all, every one:
 * only the components (a) lets through are length-checked, the set the kernel copies once (a)
 * passed (the same set without @all).
 */
static int refusal(const struct vx_fpu_system *sys, const struct vx_fpstate *fps,
		   const uint8_t *buf, size_t len, struct refusals *all, struct vx_error *err)
{
	uint64_t hdr = rd64(buf + VX_XSTATE_BV_OFFSET);
	int rc = header_refusal(fps, hdr, buf, all, err);

	if (rc == 0) {
		rc = check_mxcsr(sys, hdr, buf, err);
		if (rc && !refused(all, rc, err))
			rc = 0;
	}
	if (rc == 0)
		rc = length_refusal(sys, hdr & fps->user_xfeatures, len, all, err);
	return all ? all->first : rc;
}

/*
 * validate_user_xstate_header() and the rest of §7.2's checks: (a) header bits outside
 * user_xfeatures, (b) XCOMP_BV, (c) reserved bytes, MXCSR, every named component within @len.
 * A buffer that passes them all is recognised with word tests and table look-ups; a refused
 * one is then examined in the kernel's order for the message (refusal()).
 */
static bool acceptable(const struct vx_fpu_system *sys, const struct vx_fpstate *fps,
		       const uint8_t *buf, size_t len)
{
	uint64_t hdr = rd64(buf + VX_XSTATE_BV_OFFSET);

	return ((hdr & ~fps->user_xfeatures) | header_zeros(buf) | mxcsr_bad_bits(sys, hdr, buf)) ==
		   0 &&
	       header_end(sys, hdr & FPU_XFEATURES_ALL) <= len;
}

/* The header too short to hold (the kernel's copy failure of the first 576 bytes). */
static int short_refusal(size_t len, struct vx_error *err)
{
	where(err, -1, 0, (int64_t)len);
	return vx_error_set(err, -EFAULT, "linux-fpu.md §7.2",
			    "a %zu-byte buffer has no XSAVE header (576 bytes needed)", len);
}

/* The components @rest one by one (not whole runs of the layout), in feature order. */
static void copy_rest(const struct vx_fpu_system *sys, const struct fpu_uabi_layout *layout,
		      struct vx_fpstate *fps, uint64_t rest, const uint8_t *buf)
{
	for (; rest; rest &= rest - 1) {
		unsigned id = (unsigned)__builtin_ctzll(rest);
		const struct vx_fpu_xstate_info *x = &sys->xstate[id];

		if (x->size && image_has(fps, layout->image[id], x->size))
			memcpy(fps->regs + layout->image[id], buf + x->offset, x->size);
	}
}

/*
 * The copy of §7.2, once every check passed: each component of @hdr from its standard offset
 * to its place in the image (FP = bytes 0-159, SSE = 160-415) - a run of the layout whose
 * components @hdr has all is one memcpy(), the others go one by one.
 */
static inline void copy_components(const struct vx_fpu_system *sys,
				   const struct fpu_uabi_layout *layout, struct vx_fpstate *fps,
				   uint64_t hdr, const uint8_t *buf)
{
	uint64_t rest = hdr & FPU_XFEATURES_ALL;

	const struct fpu_uabi_run *run = layout->id_runs, *end = run + layout->nid;
	uint8_t *regs = fps->regs; /* read once: memcpy() may alias, as far as gcc knows */
	uint32_t size = fps->size;

	/* FP's 160 bytes would carry MXCSR; without FP it is stored explicitly (§7.2). */
	if ((hdr & (FPU_MASK_SSE | FPU_MASK_YMM)) && !(hdr & FPU_MASK_FP))
		memcpy(regs + VX_MXCSR_OFFSET, buf + VX_MXCSR_OFFSET, 8);
	for (; run < end; run++) {
		if ((rest & run->mask) != run->mask || run->image_end > size)
			continue;
		memcpy(regs + run->image, buf + run->std, run->size);
		rest &= ~run->mask;
	}
	if (rest)
		copy_rest(sys, layout, fps, rest, buf);
}

/* copy_components() into an image no boot layout describes (see copy_runs_built()). */
static __attribute__((noinline, cold)) void copy_components_built(const struct vx_fpu_system *sys,
								  struct vx_fpstate *fps,
								  uint64_t hdr, const uint8_t *buf)
{
	struct fpu_uabi_layout layout;

	build_layout(sys, image_xcomp_bv(sys, fps), &layout);
	copy_components(sys, &layout, fps, hdr, buf);
}

int vx_fpstate_from_uabi(const struct vx_fpu_system *system, struct vx_fpstate *fps,
			 const uint8_t *buf, size_t len, uint32_t *pkru, struct vx_error *err)
{
	const struct fpu_uabi_layout *layout;
	uint64_t hdr, kbv;

	if (!system->insns.xsave)
		return vx_error_set(err, -ENODEV, "linux-fpu.md §7.2",
				    "no XSAVE: the kernel has no standard-format state");
	if (len < FPU_XREGS_SIZE)
		return short_refusal(len, err);
	if (!acceptable(system, fps, buf, len))
		return refusal(system, fps, buf, len, NULL, err);
	hdr = rd64(buf + VX_XSTATE_BV_OFFSET);
	layout = boot_layout(system, fps);
	if (layout)
		copy_components(system, layout, fps, hdr, buf);
	else
		copy_components_built(system, fps, hdr, buf);
	if (pkru) /* the buffer's value, or XRSTOR's init value 0 (§7.2) */
		*pkru = (hdr & VX_BIT(VX_COMP_PKRU))
			    ? rd32(buf + system->xstate[VX_COMP_PKRU].offset)
			    : 0;
	/* Header merge: supervisor states are kept, user ones follow the buffer (§7.2). */
	kbv = rd64(fps->regs + VX_XSTATE_BV_OFFSET);
	kbv = (kbv & (system->masks.supervisor_supported | system->masks.independent |
		      system->masks.supervisor_unsupported)) |
	      hdr;
	memcpy(fps->regs + VX_XSTATE_BV_OFFSET, &kbv, sizeof(kbv));
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* KVM (§7.1 item 7, §7.3)                                                                      */

int vx_fpu_copy_guest_fpstate_to_uabi(const struct vx_fpu_system *system,
				      const struct vx_fpstate *fps, uint8_t *buf, size_t len,
				      uint64_t xfeatures, uint32_t pkru, struct vx_error *err)
{
	uint64_t fpsse = VX_FPU_MASK_FPSSE;

	if (system->insns.xsave)
		return vx_fpstate_to_uabi(system, fps, xfeatures, pkru, VX_UABI_COPY_XSAVE, buf,
					  len, err);
	/* No XSAVE: the FXSAVE image, and a header an XSAVE host can load (§7.1 item 7). */
	memset(buf, 0, len);
	put(buf, len, 0, fps->regs, FPU_FXSAVE_SIZE);
	put(buf, len, VX_XSTATE_BV_OFFSET, &fpsse, sizeof(fpsse));
	return 0;
}

/* §7.3 without XSAVE: only FP|SSE and a valid MXCSR (every failure to @all). */
static int fxsave_refusal(const struct vx_fpu_system *sys, const uint8_t *buf, size_t len,
			  struct refusals *all, struct vx_error *err)
{
	uint64_t hdr = len >= FPU_XREGS_SIZE ? rd64(buf + VX_XSTATE_BV_OFFSET) : 0;
	int rc;

	if (len < FPU_FXSAVE_SIZE) {
		rc = vx_error_set(err, -EFAULT, "linux-fpu.md §7.3",
				  "a %zu-byte buffer is shorter than an FXSAVE image", len);
		refused(all, rc, err);
		return rc;
	}
	if (hdr & ~VX_FPU_MASK_FPSSE) {
		where(err, -1, hdr & ~VX_FPU_MASK_FPSSE, VX_XSTATE_BV_OFFSET);
		rc = vx_error_set(err, -EINVAL, "linux-fpu.md §7.3",
				  "XSTATE_BV 0x%llx has bits beyond FP|SSE on a host without XSAVE",
				  (unsigned long long)hdr);
		if (refused(all, rc, err))
			return rc;
	}
	rc = check_mxcsr(sys, FPU_MASK_FP, buf, err);
	if (rc)
		refused(all, rc, err);
	return all ? all->first : rc;
}

/* §7.3 without XSAVE: the checks, then the FXSAVE image. */
static int uabi_to_fxsave(const struct vx_fpu_system *sys, struct vx_fpstate *fps,
			  const uint8_t *buf, size_t len, struct vx_error *err)
{
	int rc = fxsave_refusal(sys, buf, len, NULL, err);

	if (rc)
		return rc;
	memcpy(fps->regs, buf, FPU_FXSAVE_SIZE);
	return 0;
}

/* §7.3 with XSAVE: XSTATE_BV within @xcr0 (KVM passes kvm_caps.supported_xcr0). */
static int xcr0_refusal(uint64_t hdr, uint64_t xcr0, struct refusals *all, struct vx_error *err)
{
	int rc;

	if (!(hdr & ~xcr0))
		return 0;
	where(err, -1, hdr & ~xcr0, VX_XSTATE_BV_OFFSET);
	rc = vx_error_set(err, -EINVAL, "linux-fpu.md §7.3",
			  "XSTATE_BV 0x%llx has bits outside the supported XCR0 0x%llx",
			  (unsigned long long)hdr, (unsigned long long)xcr0);
	return refused(all, rc, err) ? rc : 0;
}

int vx_fpu_copy_uabi_to_guest_fpstate(const struct vx_fpu_system *system, struct vx_fpstate *fps,
				      const uint8_t *buf, size_t len, uint64_t xcr0,
				      uint32_t *vpkru, struct vx_error *err)
{
	uint64_t hdr;

	if (!system->insns.xsave)
		return uabi_to_fxsave(system, fps, buf, len, err);
	hdr = len >= FPU_XREGS_SIZE ? rd64(buf + VX_XSTATE_BV_OFFSET) : 0;
	if (xcr0_refusal(hdr, xcr0, NULL, err))
		return -EINVAL;
	/* KVM's ABI: PKRU untouched when its header bit is clear (§7.3). */
	return vx_fpstate_from_uabi(system, fps, buf, len,
				    (hdr & VX_BIT(VX_COMP_PKRU)) ? vpkru : NULL, err);
}

/*
 * Every rule of KVM_SET_XSAVE's checks @buf breaks (§7.3, then §7.2 in the kernel's order, or
 * §7.3 without XSAVE), each to @sink: the same checks vx_fpu_copy_uabi_to_guest_fpstate() stops
 * at the first of, nothing written.  Returns the first refusal's errno, 0 if none.
 */
int vx_fpu_uabi_guest_refusals(const struct vx_fpu_system *system, const struct vx_fpstate *fps,
			       const uint8_t *buf, size_t len, uint64_t xcr0, vx_fpu_uabi_sink sink,
			       void *ctx)
{
	struct refusals all = {sink, ctx, 0};
	struct vx_error err = VX_ERROR_INIT;
	uint64_t hdr = len >= FPU_XREGS_SIZE ? rd64(buf + VX_XSTATE_BV_OFFSET) : 0;

	if (!system->insns.xsave)
		return fxsave_refusal(system, buf, len, &all, &err);
	xcr0_refusal(hdr, xcr0, &all, &err);
	if (len < FPU_XREGS_SIZE) {
		refused(&all, short_refusal(len, &err), &err);
		return all.first;
	}
	refusal(system, fps, buf, len, &all, &err);
	return all.first;
}
