/* SPDX-License-Identifier: MIT */
/*
 * The uABI (standard-format) conversions of linux-fpu.md §7: kernel image → uABI buffer
 * (__copy_xstate_to_uabi_buf, §7.1), uABI buffer → kernel image (copy_uabi_to_xstate with
 * validate_user_xstate_header, §7.2), and KVM's wrappers (§7.1 item 7, §7.3).
 *
 * A refused buffer leaves the fpstate and *pkru unchanged: every check, including "the buffer
 * is long enough for each component it names" (the kernel's copy failure, -EFAULT), runs
 * before the first byte is written.
 */
#include <errno.h>
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

static void copy_legacy(const struct vx_fpu_system *sys, const struct vx_fpstate *fps, uint64_t hdr,
			uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(legacy_pieces) / sizeof(legacy_pieces[0]); i++) {
		const struct legacy_piece *p = &legacy_pieces[i];
		const uint8_t *src = (hdr & p->bits) ? fps->regs : sys->init_image;

		put(buf, len, p->offset, src + p->offset, p->size);
	}
}

/* §7.1 item 5: each extended feature of @hdr in increasing standard offset. */
static void copy_extended(const struct vx_fpu_system *sys, const struct vx_fpstate *fps,
			  uint64_t hdr, uint32_t pkru, uint8_t *buf, size_t len)
{
	uint64_t xcomp_bv = sys->insns.compacted ? rd64(fps->regs + VX_XCOMP_BV_OFFSET) : 0;
	uint8_t pkru_state[PKRU_STATE_SIZE] = {0};

	memcpy(pkru_state, &pkru, sizeof(pkru));
	for (unsigned k = 0; k < sys->uncompact_count; k++) {
		unsigned id = sys->uncompact_order[k];
		const struct vx_fpu_xstate_info *x = &sys->xstate[id];
		uint32_t src = vx_fpu_xfeature_offset(sys, xcomp_bv, id);

		if (!(hdr & VX_BIT(id)))
			continue;	/* init: all zero, already there */
		if (id == VX_COMP_PKRU) /* PKRU from the eagerly switched value, not the image */
			put(buf, len, x->offset, pkru_state, sizeof(pkru_state));
		else if (src != VX_FPU_NO_OFFSET && src + (uint64_t)x->size <= fps->size)
			put(buf, len, x->offset, fps->regs + src, x->size);
	}
}

int vx_fpstate_to_uabi(const struct vx_fpu_system *system, const struct vx_fpstate *fps,
		       uint64_t xfeatures, uint32_t pkru, enum vx_uabi_mode mode, uint8_t *buf,
		       size_t len, struct vx_error *err)
{
	uint64_t hdr, xcr0 = system->user.max_features;

	if ((unsigned)mode > VX_UABI_COPY_XSAVE)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §7.1", "unknown copy mode %d",
				    (int)mode);
	hdr = kernel_xstate_bv(system, fps) & mode_mask(fps, xfeatures, mode);
	memset(buf, 0, len); /* gaps, padding and the rest of @buf (§7.1) */
	copy_legacy(system, fps, hdr, buf, len);
	if (mode != VX_UABI_COPY_XSAVE)
		return 0;				     /* §7.1 item 3 */
	put(buf, len, SW_BYTES_OFFSET, &xcr0, sizeof(xcr0)); /* item 4; §12: XCR0 at 464 */
	put(buf, len, VX_XSTATE_BV_OFFSET, &hdr, sizeof(hdr));
	copy_extended(system, fps, hdr, pkru, buf, len);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* uABI → kernel (§7.2)                                                                         */

static int check_header(const struct vx_fpu_system *sys, const struct vx_fpstate *fps,
			const uint8_t *buf, struct vx_error *err)
{
	uint64_t hdr = rd64(buf + VX_XSTATE_BV_OFFSET), xcomp = rd64(buf + VX_XCOMP_BV_OFFSET);

	(void)sys;
	if (hdr & ~fps->user_xfeatures) {
		where(err, -1, hdr & ~fps->user_xfeatures, VX_XSTATE_BV_OFFSET);
		return vx_error_set(err, -EINVAL, "linux-fpu.md §7.2 (a)",
				    "XSTATE_BV 0x%llx has bits outside user_xfeatures 0x%llx",
				    (unsigned long long)hdr,
				    (unsigned long long)fps->user_xfeatures);
	}
	if (xcomp) {
		where(err, -1, xcomp, VX_XCOMP_BV_OFFSET);
		return vx_error_set(err, -EINVAL, "linux-fpu.md §7.2 (b)",
				    "XCOMP_BV 0x%llx is not 0: a uABI buffer is never compacted",
				    (unsigned long long)xcomp);
	}
	for (uint32_t i = 0; i < HDR_RESERVED_SIZE; i++) {
		if (buf[HDR_RESERVED_OFFSET + i] == 0)
			continue;
		where(err, -1, 0, HDR_RESERVED_OFFSET + i);
		return vx_error_set(err, -EINVAL, "linux-fpu.md §7.2 (c)",
				    "reserved header byte %u is 0x%02x, not 0",
				    HDR_RESERVED_OFFSET + i, buf[HDR_RESERVED_OFFSET + i]);
	}
	return 0;
}

/* §7.2: MXCSR is checked only when FP, SSE or YMM is in the header. */
static int check_mxcsr(const struct vx_fpu_system *sys, uint64_t hdr, const uint8_t *buf,
		       struct vx_error *err)
{
	uint32_t mxcsr = rd32(buf + VX_MXCSR_OFFSET);

	if (!(hdr & (FPU_MASK_FP | FPU_MASK_SSE | FPU_MASK_YMM)) ||
	    !(mxcsr & ~sys->mxcsr_feature_mask))
		return 0;
	where(err, VX_COMP_SSE, mxcsr & ~sys->mxcsr_feature_mask, VX_MXCSR_OFFSET);
	return vx_error_set(err, -EINVAL, "linux-fpu.md §7.2",
			    "MXCSR 0x%08x has bits outside mxcsr_feature_mask 0x%08x", mxcsr,
			    sys->mxcsr_feature_mask);
}

/* Standard-format source range of component @id. */
static void uabi_range(const struct vx_fpu_system *sys, unsigned id, uint32_t *off, uint32_t *size)
{
	*off = sys->xstate[id].offset;
	*size = sys->xstate[id].size;
}

/* The kernel's copy failure (-EFAULT), checked up front: every named component fits @len. */
static int check_lengths(const struct vx_fpu_system *sys, uint64_t hdr, size_t len,
			 struct vx_error *err)
{
	for (unsigned id = 0; id < VX_FPU_XFEATURE_MAX; id++) {
		uint32_t off, size;

		if (!(hdr & VX_BIT(id)))
			continue;
		uabi_range(sys, id, &off, &size);
		if ((uint64_t)off + size <= len)
			continue;
		where(err, (int)id, VX_BIT(id), off);
		return vx_error_set(err, -EFAULT, "linux-fpu.md §7.2",
				    "component %u (%u bytes at %u) runs past the %zu-byte buffer",
				    id, size, off, len);
	}
	return 0;
}

static int validate(const struct vx_fpu_system *sys, const struct vx_fpstate *fps,
		    const uint8_t *buf, size_t len, struct vx_error *err)
{
	int rc;

	if (len < FPU_XREGS_SIZE) {
		where(err, -1, 0, (int64_t)len);
		return vx_error_set(err, -EFAULT, "linux-fpu.md §7.2",
				    "a %zu-byte buffer has no XSAVE header (576 bytes needed)",
				    len);
	}
	rc = check_header(sys, fps, buf, err);
	if (rc == 0)
		rc = check_mxcsr(sys, rd64(buf + VX_XSTATE_BV_OFFSET), buf, err);
	if (rc == 0)
		rc = check_lengths(sys, rd64(buf + VX_XSTATE_BV_OFFSET), len, err);
	return rc;
}

static void copy_components(const struct vx_fpu_system *sys, struct vx_fpstate *fps, uint64_t hdr,
			    const uint8_t *buf)
{
	uint64_t xcomp_bv = sys->insns.compacted ? rd64(fps->regs + VX_XCOMP_BV_OFFSET) : 0;

	/* FP's 160 bytes would carry MXCSR; without FP it is stored explicitly (§7.2). */
	if ((hdr & (FPU_MASK_SSE | FPU_MASK_YMM)) && !(hdr & FPU_MASK_FP))
		memcpy(fps->regs + VX_MXCSR_OFFSET, buf + VX_MXCSR_OFFSET, 8);
	for (unsigned id = 0; id < VX_FPU_XFEATURE_MAX; id++) {
		uint32_t off, size, dst;

		if (!(hdr & VX_BIT(id)))
			continue;
		uabi_range(sys, id, &off, &size);
		dst = vx_fpu_xfeature_offset(sys, xcomp_bv, id);
		if (dst != VX_FPU_NO_OFFSET && dst + (uint64_t)size <= fps->size)
			memcpy(fps->regs + dst, buf + off, size);
	}
}

int vx_fpstate_from_uabi(const struct vx_fpu_system *system, struct vx_fpstate *fps,
			 const uint8_t *buf, size_t len, uint32_t *pkru, struct vx_error *err)
{
	uint64_t hdr, kbv;
	int rc;

	if (!system->insns.xsave)
		return vx_error_set(err, -ENODEV, "linux-fpu.md §7.2",
				    "no XSAVE: the kernel has no standard-format state");
	rc = validate(system, fps, buf, len, err);
	if (rc)
		return rc;
	hdr = rd64(buf + VX_XSTATE_BV_OFFSET);
	copy_components(system, fps, hdr, buf);
	if (pkru && (hdr & VX_BIT(VX_COMP_PKRU)))
		*pkru = rd32(buf + system->xstate[VX_COMP_PKRU].offset);
	else if (pkru)
		*pkru = 0; /* XRSTOR would put PKRU in its init state, 0 (§7.2) */
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

/* §7.3 without XSAVE: only FP|SSE, a valid MXCSR, then the FXSAVE image. */
static int uabi_to_fxsave(const struct vx_fpu_system *sys, struct vx_fpstate *fps,
			  const uint8_t *buf, size_t len, struct vx_error *err)
{
	uint64_t hdr = len >= FPU_XREGS_SIZE ? rd64(buf + VX_XSTATE_BV_OFFSET) : 0;

	if (len < FPU_FXSAVE_SIZE)
		return vx_error_set(err, -EFAULT, "linux-fpu.md §7.3",
				    "a %zu-byte buffer is shorter than an FXSAVE image", len);
	if (hdr & ~VX_FPU_MASK_FPSSE) {
		where(err, -1, hdr & ~VX_FPU_MASK_FPSSE, VX_XSTATE_BV_OFFSET);
		return vx_error_set(err, -EINVAL, "linux-fpu.md §7.3",
				    "XSTATE_BV 0x%llx has bits beyond FP|SSE on a host without "
				    "XSAVE",
				    (unsigned long long)hdr);
	}
	if (check_mxcsr(sys, FPU_MASK_FP, buf, err))
		return -EINVAL;
	memcpy(fps->regs, buf, FPU_FXSAVE_SIZE);
	return 0;
}

int vx_fpu_copy_uabi_to_guest_fpstate(const struct vx_fpu_system *system, struct vx_fpstate *fps,
				      const uint8_t *buf, size_t len, uint64_t xcr0,
				      uint32_t *vpkru, struct vx_error *err)
{
	uint64_t hdr;

	if (!system->insns.xsave)
		return uabi_to_fxsave(system, fps, buf, len, err);
	hdr = len >= FPU_XREGS_SIZE ? rd64(buf + VX_XSTATE_BV_OFFSET) : 0;
	if (hdr & ~xcr0) {
		where(err, -1, hdr & ~xcr0, VX_XSTATE_BV_OFFSET);
		return vx_error_set(err, -EINVAL, "linux-fpu.md §7.3",
				    "XSTATE_BV 0x%llx has bits outside the supported XCR0 0x%llx",
				    (unsigned long long)hdr, (unsigned long long)xcr0);
	}
	/* KVM's ABI: PKRU untouched when its header bit is clear (§7.3). */
	return vx_fpstate_from_uabi(system, fps, buf, len,
				    (hdr & VX_BIT(VX_COMP_PKRU)) ? vpkru : NULL, err);
}
