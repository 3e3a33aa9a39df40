/* SPDX-License-Identifier: MIT */
/*
 * vxsave `arch` layer: whole XSAVE areas as byte buffers (area.c, area_decode.c).
 *
 *  - header validation with the XRSTOR/XRSTORS rules (arch.md §2.3, §5.5, §5.6) and the
 *    MXCSR reserved-bit check (§5.5);
 *  - where each component lives in a standard or compacted area (§2.2, §2.4);
 *  - initial values of components, from the component table's init_fields (§6);
 *  - conversion between the standard and compacted formats for a feature mask, defined as
 *    "XRSTOR of the source with RFBM = mask, then XSAVE or XSAVEC with RFBM = mask";
 *  - decoding an area into labelled byte ranges and named registers.
 *
 * Every function is pure: it reads the profile and the caller's (buf, len) and writes only
 * the caller's output buffer.  Offsets are computed in 64 bits and every access is bounded by
 * the buffer length, whatever the profile's CPUID says.  A refused call returns a negative
 * errno, fills struct vx_error (component, bits, byte offset, rule) and leaves every output
 * unchanged.  docs/areas.md describes the rules with their spec sections.
 */
#ifndef VXSAVE_AREA_H
#define VXSAVE_AREA_H

#include <vxsave/arch.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum vx_area_format - how the extended region is laid out (§2.4).
 * @VX_AREA_STANDARD:  fixed CPUID.(0xD,i).EBX offsets; XCOMP_BV = 0 (XSAVE, XRSTOR).
 * @VX_AREA_COMPACTED: packed by index with 64-byte alignment; XCOMP_BV[63] = 1 (XSAVEC,
 *                     XSAVES, XRSTORS).
 * @VX_AREA_AUTO:      whichever the header says (XCOMP_BV[63]), as XRSTOR decides (§5.5).
 */
enum vx_area_format { VX_AREA_STANDARD = 0, VX_AREA_COMPACTED = 1, VX_AREA_AUTO = 2 };

/** Header check flag: also refuse non-zero header bytes 24-63 in the standard form (Linux
 * uABI rule, linux-fpu.md §7.2 (c)); standard-form XRSTOR itself does not check them. */
#define VX_AREA_CHECK_ALL_RESERVED 0x1u

/** Conversion flag: leave the destination bytes of components that are not saved (their
 * XSTATE_BV bit is 0), padding and unused legacy bytes as they are, as XSAVEC does (§5.3);
 * without it they are written with initial values and zeros. */
#define VX_AREA_KEEP_UNSAVED 0x1u

/** Read XSTATE_BV (bytes 512-519) and XCOMP_BV (520-527); -EINVAL if @len < 576. */
VX_API int vx_area_header(const void *area, size_t len, uint64_t *xstate_bv, uint64_t *xcomp_bv,
			  struct vx_error *err);

/**
 * vx_area_check_header() - would XRSTOR (or XRSTORS) accept this header? (§5.5, §5.6)
 * @allowed: the mask the header's bits must stay in: XCR0 for XRSTOR, XCR0|IA32_XSS for
 *           XRSTORS, user_xfeatures for a uABI buffer.
 * @format:  the form the caller expects; VX_AREA_AUTO takes it from XCOMP_BV[63].
 * @flags:   VX_AREA_CHECK_ALL_RESERVED.
 * Standard form: XCOMP_BV[63] = 0, XSTATE_BV within @allowed, header bytes 8-23 zero.
 * Compacted form: XCOMP_BV[63] = 1 and the profile has XSAVEC, XCOMP_BV[62:0] within
 * @allowed, XSTATE_BV within XCOMP_BV[62:0], header bytes 16-63 zero.
 * Returns 0 or -EINVAL with @err naming the bits or the header byte and the rule.
 */
VX_API int vx_area_check_header(const struct vx_profile *profile, const void *area, size_t len,
				uint64_t allowed, enum vx_area_format format, unsigned flags,
				struct vx_error *err);

/**
 * vx_area_check_mxcsr() - MXCSR (bytes 24-27) has no bit outside @mxcsr_mask (0 means the
 * default 0xFFBF, §2.2); XRSTOR raises #GP(0) otherwise (§5.5).  -EINVAL naming the bits.
 */
VX_API int vx_area_check_mxcsr(const void *area, size_t len, uint32_t mxcsr_mask,
			       struct vx_error *err);

/**
 * vx_area_size() - bytes an area of @format needs for the components of @layout on @profile:
 * standard, max(576, offset + size over the user components); compacted, the §2.4 walk.
 * -EINVAL if a component of @layout is not enumerated (size 0), is supervisor in the standard
 * format, or its standard offset overlaps the legacy region or header.
 */
VX_API int vx_area_size(const struct vx_profile *profile, enum vx_area_format format,
			uint64_t layout, uint64_t *size, struct vx_error *err);

/**
 * vx_area_locate() - where @component's bytes start and how many there are, in an area of
 * @format laid out for @layout (XCOMP_BV[62:0] for the compacted format; the standard
 * format ignores the other bits).  x87 and SSE report their first piece (0/160 and
 * 160/256; their other bytes are 24-31 and 32-159, §2.2).  Same errors as vx_area_size(),
 * and -ENOENT if @component is not in @layout.
 */
VX_API int vx_area_locate(const struct vx_profile *profile, enum vx_area_format format,
			  uint64_t layout, unsigned component, uint64_t *offset, uint64_t *size,
			  struct vx_error *err);

/**
 * vx_area_init_components() - write the initial configuration (§6) of every component in
 * @components into @area, laid out as @format for @layout.  Each component's bytes are zeroed,
 * then its init_fields are applied (x87: FCW = 0x037F; SSE: MXCSR = 0x1F80, and MXCSR_MASK
 * gets the profile's value as XSAVE stores it).  The header is not touched.  -EINVAL if a
 * component is not in @layout or lies past @len; the area is then unchanged.
 */
VX_API int vx_area_init_components(const struct vx_profile *profile, void *area, size_t len,
				   enum vx_area_format format, uint64_t layout, uint64_t components,
				   struct vx_error *err);

/**
 * vx_area_convert() - re-lay @src (format @src_format) into @dst (format @dst_format) for
 * the feature mask @features, with the result of XRSTOR(@src, RFBM = @features) followed by
 * XSAVE (standard) or XSAVEC (compacted) with RFBM = @features (§5.1, §5.3, §5.5):
 *  - components outside @features are dropped; a component is carried when its XSTATE_BV bit
 *    (and, for a compacted source, its XCOMP_BV bit) is set; the others are in their initial
 *    configuration (written as such unless VX_AREA_KEEP_UNSAVED);
 *  - MXCSR: a standard source supplies it whenever @features has SSE or AVX; a compacted
 *    destination records SSE when MXCSR is not 0x1F80 (§5.3); it is checked against the
 *    profile's MXCSR_MASK;
 *  - header: standard XSTATE_BV = carried bits, XCOMP_BV = 0; compacted XSTATE_BV = saved
 *    bits, XCOMP_BV = 2^63 | @features; bytes 16-63 zero.
 * The source header must pass vx_area_check_header() against the profile's XCR0 mask
 * (standard) or XCR0|XSS mask (compacted).  @src and @dst must not overlap.
 * Returns 0; -ENOSPC with *@required (may be NULL) set when @dst_len is too short (probe
 * with dst NULL, length 0); -EINVAL for a bad mask, a malformed or too short source.
 */
VX_API int vx_area_convert(const struct vx_profile *profile, uint64_t features, const void *src,
			   size_t src_len, enum vx_area_format src_format, void *dst,
			   size_t dst_len, enum vx_area_format dst_format, unsigned flags,
			   size_t *required, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* Decoding (area_decode.c)                                                                     */

/**
 * struct vx_area_field - one named register inside a component (one table, area_decode.c).
 * @offset: x87/SSE: byte offset in the legacy region; others: offset within the component's
 *          bytes (the standard offsets differ between vendors, §2.6).
 * @width:  bytes; 0 = the whole component, as large as CPUID says (PT, LBR).
 */
struct vx_area_field {
	const char *name;
	unsigned component;
	uint32_t offset;
	uint32_t width;
};

VX_API unsigned vx_area_field_count(void);
VX_API const struct vx_area_field *vx_area_field_at(unsigned index);
/** Field by name (case-insensitive), or NULL. */
VX_API const struct vx_area_field *vx_area_field_lookup(const char *name);

/**
 * vx_area_field_width() - the width of a register of @component whose table width is @width
 * on @profile: @width itself, or the component's CPUID size when @width is 0.  -ENOTSUP when
 * the profile does not enumerate the component (components 2..62 must be in its XCR0 or XSS
 * mask); -ERANGE when the width comes out 0 (CPUID gives the component size 0).
 */
VX_API int vx_area_field_width(const struct vx_profile *profile, unsigned component, uint32_t width,
			       uint32_t *out, struct vx_error *err);

enum vx_area_region_kind {
	VX_AREA_REGION_COMPONENT, /* bytes of @component */
	VX_AREA_REGION_RESERVED,  /* legacy 416-463 */
	VX_AREA_REGION_SOFTWARE,  /* legacy 464-511: never written by XSAVE* (§2.2) */
	VX_AREA_REGION_HEADER,	  /* 512-575 */
	VX_AREA_REGION_HOLE,	  /* no component: alignment padding or unused standard space */
	VX_AREA_REGION_PAST_END,  /* in the buffer, after the area */
};

/**
 * struct vx_area_region - a byte range [@start, @end) of the area.
 * @component: the component for VX_AREA_REGION_COMPONENT, else -1.
 * @base:      the area offset its fields' offsets count from (0 for x87/SSE).
 */
struct vx_area_region {
	enum vx_area_region_kind kind;
	int component;
	uint64_t start, end;
	uint64_t base;
};

#define VX_AREA_REGIONS_MAX 160

/**
 * struct vx_area_map - an area as its header describes it.
 * @format:   VX_AREA_COMPACTED if XCOMP_BV[63] is set, else VX_AREA_STANDARD (also when the
 *            buffer is too short to hold a header).
 * @layout:   XCOMP_BV[62:0], or the user bits of XCR0|XSTATE_BV for the standard format.
 * @end:      end of the last component (at least 576), or the buffer length below 576.
 * @regions:  sorted by start; components the profile gives size 0 are left out, holes and
 *            the rest of the buffer are listed.
 */
struct vx_area_map {
	enum vx_area_format format;
	bool has_header;
	uint64_t xstate_bv, xcomp_bv;
	uint64_t layout;
	uint64_t end;
	unsigned count;
	struct vx_area_region regions[VX_AREA_REGIONS_MAX];
};

/**
 * vx_area_decode() - map @len bytes of @area as XRSTOR would read it with XCR0 = @xcr0
 * (@xcr0 only matters for the standard format).  Never fails on odd content: a header with
 * reserved bits still gets a map; checking is vx_area_check_header()'s job.
 */
VX_API void vx_area_decode(const struct vx_profile *profile, const void *area, size_t len,
			   uint64_t xcr0, struct vx_area_map *map);

/**
 * struct vx_area_register - one named register found in an area.
 * @bytes: its @width bytes, or NULL when they run past the buffer.
 */
struct vx_area_register {
	const struct vx_area_field *field;
	unsigned component;
	uint64_t offset;
	uint32_t width;
	const uint8_t *bytes;
};

typedef int (*vx_area_register_fn)(void *ctx, const struct vx_area_register *reg);

/**
 * vx_area_registers() - call @fn for every named register of every component region of
 * @map (in region order, then table order).  Stops at the first non-zero return and returns
 * it; 0 when all were visited.
 */
VX_API int vx_area_registers(const struct vx_profile *profile, const struct vx_area_map *map,
			     const void *area, size_t len, vx_area_register_fn fn, void *ctx);

/** Little-endian value of @width (1..8) bytes at @offset, or 0 if they run past @len. */
VX_API uint64_t vx_area_read(const void *area, size_t len, uint64_t offset, unsigned width);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_AREA_H */
