/* SPDX-License-Identifier: MIT */
/*
 * Whole XSAVE areas (area.h): header validation (arch.md §2.3, §5.5, §5.6), where each
 * component lives (§2.2, §2.4), initial values (§6) and standard <-> compacted conversion.
 *
 * Safety: every placement is computed in 64 bits from the profile and checked against the
 * caller's buffer length before a byte moves; a refused call writes nothing.
 */
#include <errno.h>
#include <string.h>

#include <vxsave/area.h>

#define MASK_X87		  VX_BIT(VX_COMP_X87)
#define MASK_SSE		  VX_BIT(VX_COMP_SSE)
#define MASK_AVX		  VX_BIT(VX_COMP_AVX)
#define MASK_LEGACY		  (MASK_X87 | MASK_SSE)
#define LEGACY_USED		  416u /* §2.2: bytes 416-511 belong to no component */
#define MXCSR_FXSAVE_DEFAULT_MASK 0xFFBFu

/* §2.2: x87 and SSE share the legacy region in pieces, at the same places in both formats. */
static const struct legacy_piece {
	unsigned component;
	uint32_t start, end;
} legacy_pieces[] = {
    {VX_COMP_X87, 0, VX_MXCSR_OFFSET},
    {VX_COMP_SSE, VX_MXCSR_OFFSET, 32},
    {VX_COMP_X87, 32, VX_XMM_OFFSET},
    {VX_COMP_SSE, VX_XMM_OFFSET, LEGACY_USED},
};

#define LEGACY_PIECES (sizeof(legacy_pieces) / sizeof(legacy_pieces[0]))

/* Where the components of one layout live: offsets and sizes in 64 bits. */
struct placement {
	uint64_t layout;
	uint64_t offset[VX_COMP_LIMIT];
	uint64_t size[VX_COMP_LIMIT];
	uint64_t end;
};

static int refuse(struct vx_error *err, int component, uint64_t bits, int64_t offset,
		  const char *rule, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static int refuse(struct vx_error *err, int component, uint64_t bits, int64_t offset,
		  const char *rule, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vx_error_vset(err, -EINVAL, rule, fmt, ap);
	va_end(ap);
	if (err) {
		err->component = component;
		err->bits = bits;
		err->offset = offset;
	}
	return -EINVAL;
}

static int lowest_bit(uint64_t mask)
{
	for (int i = 0; i < 64; i++)
		if (mask & VX_BIT(i))
			return i;
	return -1;
}

static uint64_t get_le(const uint8_t *p, unsigned width)
{
	uint64_t value = 0;

	for (unsigned i = 0; i < width; i++)
		value |= (uint64_t)p[i] << (8 * i);
	return value;
}

static void put_le(uint8_t *p, unsigned width, uint64_t value)
{
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(value >> (8 * i));
}

uint64_t vx_area_read(const void *area, size_t len, uint64_t offset, unsigned width)
{
	if (!area || width == 0 || width > 8 || offset > len || len - offset < width)
		return 0;
	return get_le((const uint8_t *)area + offset, width);
}

static int too_short(struct vx_error *err, size_t len)
{
	return refuse(err, -1, 0, (int64_t)len, "arch.md §2.3",
		      "the area is %zu bytes: shorter than the legacy region and header (576)",
		      len);
}

int vx_area_header(const void *area, size_t len, uint64_t *xstate_bv, uint64_t *xcomp_bv,
		   struct vx_error *err)
{
	if (!area || len < VX_EXTENDED_OFFSET)
		return too_short(err, area ? len : 0);
	if (xstate_bv)
		*xstate_bv = vx_area_read(area, len, VX_XSTATE_BV_OFFSET, 8);
	if (xcomp_bv)
		*xcomp_bv = vx_area_read(area, len, VX_XCOMP_BV_OFFSET, 8);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Placement (§2.2, §2.4)                                                                        */

/* The bits @format can hold on @profile: XCR0 bits (standard, §2.4) or XCR0|XSS bits. */
static int check_layout_bits(const struct vx_profile *profile, enum vx_area_format format,
			     uint64_t layout, struct vx_error *err)
{
	uint64_t user = vx_profile_xcr0_supported(profile);
	uint64_t supervisor = vx_profile_xss_supported(profile);
	uint64_t unknown = layout & ~(user | supervisor);

	if (unknown)
		return refuse(err, lowest_bit(unknown), unknown, -1, "arch.md §1.2/§1.3",
			      "component bits 0x%llx are not enumerated by profile '%s'",
			      (unsigned long long)unknown, profile->name);
	if (format == VX_AREA_STANDARD && (layout & ~user))
		return refuse(err, lowest_bit(layout & ~user), layout & ~user, -1, "arch.md §2.4",
			      "supervisor component %d has no place in the standard format",
			      lowest_bit(layout & ~user));
	return 0;
}

/* Component @id (>= 2) at its standard offset; it must not overlap the legacy region. */
static int place_standard(struct placement *pl, unsigned id, const struct vx_component_desc *d,
			  struct vx_error *err)
{
	if (d->standard_offset < VX_EXTENDED_OFFSET)
		return refuse(err, (int)id, VX_BIT(id), d->standard_offset, "arch.md §1.4/§2.4",
			      "CPUID.(0xD,%u).EBX = %u puts component %u inside the legacy region "
			      "or header (below 576)",
			      id, d->standard_offset, id);
	pl->offset[id] = d->standard_offset;
	return 0;
}

static int place(const struct vx_profile *profile, enum vx_area_format format, uint64_t layout,
		 struct placement *pl, struct vx_error *err)
{
	uint64_t next = VX_EXTENDED_OFFSET;
	int rc = check_layout_bits(profile, format, layout, err);

	if (rc)
		return rc;
	memset(pl, 0, sizeof(*pl));
	pl->layout = layout;
	pl->offset[VX_COMP_SSE] = VX_XMM_OFFSET;
	pl->size[VX_COMP_X87] = VX_XMM_OFFSET;
	pl->size[VX_COMP_SSE] = LEGACY_USED - VX_XMM_OFFSET;
	pl->end = VX_EXTENDED_OFFSET;
	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		struct vx_component_desc d;

		if (!(layout & VX_BIT(id)))
			continue;
		vx_profile_component(profile, id, &d);
		if (d.size == 0)
			return refuse(err, (int)id, VX_BIT(id), -1, "arch.md §1.4",
				      "CPUID.(0xD,%u).EAX gives component %u size 0", id, id);
		if (format == VX_AREA_STANDARD) {
			rc = place_standard(pl, id, &d, err);
			if (rc)
				return rc;
		} else {
			/* §2.4: packed by index; ECX[1] rounds the start up to 64 bytes. */
			next = d.align64 ? (next + 63u) & ~(uint64_t)63u : next;
			pl->offset[id] = next;
			next += d.size;
		}
		pl->size[id] = d.size;
		if (pl->offset[id] + d.size > pl->end)
			pl->end = pl->offset[id] + d.size;
	}
	return 0;
}

int vx_area_size(const struct vx_profile *profile, enum vx_area_format format, uint64_t layout,
		 uint64_t *size, struct vx_error *err)
{
	struct placement pl;
	int rc;

	if (format == VX_AREA_AUTO)
		return refuse(err, -1, 0, -1, "arch.md §2.4", "a size needs a definite format");
	rc = place(profile, format, layout & ~VX_XCOMP_BV_COMPACTED, &pl, err);
	if (rc == 0 && size)
		*size = pl.end;
	return rc;
}

int vx_area_locate(const struct vx_profile *profile, enum vx_area_format format, uint64_t layout,
		   unsigned component, uint64_t *offset, uint64_t *size, struct vx_error *err)
{
	struct placement pl;
	int rc;

	layout &= ~VX_XCOMP_BV_COMPACTED;
	if (component >= VX_COMP_LIMIT || !(layout & VX_BIT(component))) {
		vx_error_set(err, -ENOENT, "arch.md §2.4", "component %u is not in layout 0x%llx",
			     component, (unsigned long long)layout);
		return -ENOENT;
	}
	if (format == VX_AREA_AUTO)
		return refuse(err, -1, 0, -1, "arch.md §2.4", "a place needs a definite format");
	rc = place(profile, format, layout, &pl, err);
	if (rc)
		return rc;
	if (offset)
		*offset = pl.offset[component];
	if (size)
		*size = pl.size[component];
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Header and MXCSR checks (§2.3, §5.5, §5.6)                                                   */

/* First non-zero header byte in [from, to), as an area offset; -1 if none. */
static int64_t nonzero_header_byte(const uint8_t *area, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++)
		if (area[VX_HEADER_OFFSET + i])
			return VX_HEADER_OFFSET + i;
	return -1;
}

static int refuse_header_byte(struct vx_error *err, int64_t at, const char *rule, const char *what)
{
	return refuse(err, -1, 0, at, rule, "header byte %lld (area offset %lld) is not zero: %s",
		      (long long)(at - VX_HEADER_OFFSET), (long long)at, what);
}

static int check_standard(const uint8_t *area, uint64_t xstate_bv, uint64_t allowed, unsigned flags,
			  struct vx_error *err)
{
	uint64_t extra = xstate_bv & ~allowed;
	int64_t at;

	if (extra)
		return refuse(err, lowest_bit(extra), extra, VX_XSTATE_BV_OFFSET, "arch.md §5.5",
			      "XSTATE_BV 0x%llx has bits 0x%llx outside the allowed mask 0x%llx: "
			      "standard-form XRSTOR raises #GP(0)",
			      (unsigned long long)xstate_bv, (unsigned long long)extra,
			      (unsigned long long)allowed);
	at = nonzero_header_byte(area, 8, 24);
	if (at >= 0)
		return refuse_header_byte(
		    err, at, "arch.md §5.5",
		    "standard-form XRSTOR needs XCOMP_BV and bytes 16-23 zero");
	at = nonzero_header_byte(area, 24, VX_HEADER_SIZE);
	if (at >= 0 && (flags & VX_AREA_CHECK_ALL_RESERVED))
		return refuse_header_byte(err, at, "linux-fpu.md §7.2 (c)",
					  "a uABI buffer needs all 48 reserved header bytes zero");
	return 0;
}

static int check_compacted(const struct vx_profile *profile, const uint8_t *area,
			   uint64_t xstate_bv, uint64_t xcomp_bv, uint64_t allowed,
			   struct vx_error *err)
{
	uint64_t format = xcomp_bv & ~VX_XCOMP_BV_COMPACTED;
	int64_t at;

	if (!vx_profile_has(profile, VX_FEAT_XSAVEC))
		return refuse(err, 63, VX_XCOMP_BV_COMPACTED, VX_XCOMP_BV_OFFSET + 7,
			      "arch.md §5.5",
			      "XCOMP_BV[63] = 1 but profile '%s' has no XSAVEC: XRSTOR raises "
			      "#GP(0)",
			      profile->name);
	if (format & ~allowed)
		return refuse(
		    err, lowest_bit(format & ~allowed), format & ~allowed, VX_XCOMP_BV_OFFSET,
		    "arch.md §5.5/§5.6",
		    "XCOMP_BV[62:0] 0x%llx has bits 0x%llx outside the allowed mask 0x%llx",
		    (unsigned long long)format, (unsigned long long)(format & ~allowed),
		    (unsigned long long)allowed);
	if (xstate_bv & ~format)
		return refuse(err, lowest_bit(xstate_bv & ~format), xstate_bv & ~format,
			      VX_XSTATE_BV_OFFSET, "arch.md §5.5",
			      "XSTATE_BV 0x%llx has bits 0x%llx outside XCOMP_BV[62:0] 0x%llx",
			      (unsigned long long)xstate_bv,
			      (unsigned long long)(xstate_bv & ~format),
			      (unsigned long long)format);
	at = nonzero_header_byte(area, 16, VX_HEADER_SIZE);
	if (at >= 0)
		return refuse_header_byte(err, at, "arch.md §5.5/§5.6",
					  "the compacted form needs header bytes 16-63 zero");
	return 0;
}

int vx_area_check_header(const struct vx_profile *profile, const void *area, size_t len,
			 uint64_t allowed, enum vx_area_format format, unsigned flags,
			 struct vx_error *err)
{
	uint64_t xstate_bv = 0, xcomp_bv = 0;
	int rc = vx_area_header(area, len, &xstate_bv, &xcomp_bv, err);
	bool compacted = xcomp_bv & VX_XCOMP_BV_COMPACTED;

	if (rc)
		return rc;
	if (format == VX_AREA_AUTO)
		format = compacted ? VX_AREA_COMPACTED : VX_AREA_STANDARD;
	if (format == VX_AREA_STANDARD && compacted)
		return refuse(err, 63, VX_XCOMP_BV_COMPACTED, VX_XCOMP_BV_OFFSET + 7,
			      "arch.md §2.3",
			      "XCOMP_BV[63] = 1 marks a compacted area; the standard format was "
			      "expected");
	if (format == VX_AREA_COMPACTED && !compacted)
		return refuse(err, 63, VX_XCOMP_BV_COMPACTED, VX_XCOMP_BV_OFFSET + 7,
			      "arch.md §5.6",
			      "XCOMP_BV[63] = 0 marks a standard area; the compacted format was "
			      "expected (XRSTORS raises #GP(0))");
	if (format == VX_AREA_STANDARD)
		return check_standard(area, xstate_bv, allowed, flags, err);
	return check_compacted(profile, area, xstate_bv, xcomp_bv, allowed, err);
}

static uint32_t effective_mxcsr_mask(uint32_t mxcsr_mask)
{
	return mxcsr_mask ? mxcsr_mask : MXCSR_FXSAVE_DEFAULT_MASK;
}

int vx_area_check_mxcsr(const void *area, size_t len, uint32_t mxcsr_mask, struct vx_error *err)
{
	uint32_t mask = effective_mxcsr_mask(mxcsr_mask);
	uint32_t mxcsr;

	if (!area || len < VX_MXCSR_OFFSET + 4)
		return refuse(err, VX_COMP_SSE, 0, (int64_t)len, "arch.md §2.2",
			      "the area is %zu bytes: MXCSR (bytes 24-27) is not in it", len);
	mxcsr = (uint32_t)vx_area_read(area, len, VX_MXCSR_OFFSET, 4);
	if (mxcsr & ~mask)
		return refuse(err, VX_COMP_SSE, mxcsr & ~mask, VX_MXCSR_OFFSET, "arch.md §5.5",
			      "MXCSR 0x%08x has bits 0x%08x outside MXCSR_MASK 0x%08x: XRSTOR "
			      "raises #GP(0)",
			      mxcsr, mxcsr & ~mask, mask);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Initial values (§6)                                                                          */

/* Apply @id's init_fields; x87/SSE fields are legacy-region offsets, others component ones. */
static void apply_init_fields(uint8_t *area, const struct placement *pl, unsigned id)
{
	const struct vx_component_info *info = vx_component_info(id);
	bool legacy = id <= VX_COMP_SSE;
	uint64_t base = legacy ? 0 : pl->offset[id];
	uint64_t limit = legacy ? LEGACY_USED : pl->size[id];

	for (const struct vx_init_field *f = info ? info->init_fields : NULL; f && f->width; f++)
		if (f->width <= 8 && (uint64_t)f->offset + f->width <= limit)
			put_le(area + base + f->offset, f->width, f->value);
}

static void zero_component(uint8_t *area, const struct placement *pl, unsigned id)
{
	if (id > VX_COMP_SSE) {
		/* id < VX_COMP_LIMIT: the only caller loops below it (vx_area_init_components). */
		/* cppcheck-suppress arrayIndexOutOfBoundsCond */
		memset(area + pl->offset[id], 0, (size_t)pl->size[id]);
		return;
	}
	for (size_t i = 0; i < LEGACY_PIECES; i++)
		if (legacy_pieces[i].component == id)
			memset(area + legacy_pieces[i].start, 0,
			       legacy_pieces[i].end - legacy_pieces[i].start);
}

/* §6 plus what XSAVE stores beside an initial SSE: the processor's MXCSR_MASK (§2.2). */
static void fill_init(const struct vx_profile *profile, uint8_t *area, const struct placement *pl,
		      unsigned id)
{
	zero_component(area, pl, id);
	apply_init_fields(area, pl, id);
	if (id == VX_COMP_SSE)
		put_le(area + VX_MXCSR_MASK_OFFSET, 4, profile->mxcsr_mask);
}

int vx_area_init_components(const struct vx_profile *profile, void *area, size_t len,
			    enum vx_area_format format, uint64_t layout, uint64_t components,
			    struct vx_error *err)
{
	struct placement pl;
	int rc;

	if (format == VX_AREA_AUTO)
		return refuse(err, -1, 0, -1, "arch.md §2.4",
			      "initial values need a definite format");
	if (components & ~layout)
		return refuse(err, lowest_bit(components & ~layout), components & ~layout, -1,
			      "arch.md §2.4", "components 0x%llx are not in layout 0x%llx",
			      (unsigned long long)(components & ~layout),
			      (unsigned long long)layout);
	rc = place(profile, format, layout & ~VX_XCOMP_BV_COMPACTED, &pl, err);
	if (rc)
		return rc;
	if (!area || len < pl.end)
		return refuse(err, -1, 0, (int64_t)len, "arch.md §2.4",
			      "the area is %zu bytes; layout 0x%llx needs %llu", area ? len : 0,
			      (unsigned long long)layout, (unsigned long long)pl.end);
	for (unsigned id = 0; id < VX_COMP_LIMIT; id++)
		if (components & VX_BIT(id))
			fill_init(profile, area, &pl, id);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Conversion (§5.1, §5.3, §5.5)                                                                */

/* One conversion: the source as XRSTOR would load it, and where it goes. */
struct conversion {
	const struct vx_profile *profile;
	uint64_t features;
	const uint8_t *src;
	size_t src_len;
	enum vx_area_format src_format;
	struct placement from, to;
	uint64_t loaded;   /* components XRSTOR would load from the source */
	bool mxcsr_loaded; /* MXCSR (and MXCSR_MASK) come from the source */
	uint32_t mxcsr;	   /* the MXCSR the processor would hold */
};

/* The source header and its placement; XRSTOR's rules against what the profile allows. */
static int read_source(struct conversion *c, struct vx_error *err)
{
	uint64_t allowed = vx_profile_xcr0_supported(c->profile);
	uint64_t xstate_bv = 0, xcomp_bv = 0, format;
	int rc = vx_area_header(c->src, c->src_len, &xstate_bv, &xcomp_bv, err);

	if (rc)
		return rc;
	if (c->src_format == VX_AREA_AUTO)
		c->src_format =
		    (xcomp_bv & VX_XCOMP_BV_COMPACTED) ? VX_AREA_COMPACTED : VX_AREA_STANDARD;
	if (c->src_format == VX_AREA_COMPACTED)
		allowed |= vx_profile_xss_supported(c->profile);
	rc = vx_area_check_header(c->profile, c->src, c->src_len, allowed, c->src_format, 0, err);
	if (rc)
		return rc;
	/* §5.5: standard TO_RESTORE = RFBM & XSTATE_BV; compacted also & XCOMP_BV[62:0]. */
	format = c->src_format == VX_AREA_COMPACTED ? xcomp_bv & ~VX_XCOMP_BV_COMPACTED : xstate_bv;
	c->loaded = xstate_bv & format & c->features;
	return place(c->profile, c->src_format,
		     c->src_format == VX_AREA_COMPACTED ? format : c->loaded, &c->from, err);
}

/* Every loaded component must lie inside the source buffer. */
static int check_source_bounds(const struct conversion *c, struct vx_error *err)
{
	for (unsigned id = 2; id < VX_COMP_LIMIT; id++) {
		uint64_t end = c->from.offset[id] + c->from.size[id];

		if ((c->loaded & VX_BIT(id)) && end > c->src_len)
			return refuse(
			    err, (int)id, VX_BIT(id), (int64_t)c->from.offset[id], "arch.md §2.4",
			    "component %u at offset %llu (%llu bytes) runs past the end of "
			    "the %zu-byte source",
			    id, (unsigned long long)c->from.offset[id],
			    (unsigned long long)c->from.size[id], c->src_len);
	}
	return 0;
}

/* §5.5: standard XRSTOR loads MXCSR whenever RFBM has SSE or AVX; compacted only with SSE. */
static int read_mxcsr(struct conversion *c, struct vx_error *err)
{
	if (c->src_format == VX_AREA_STANDARD)
		c->mxcsr_loaded = c->features & (MASK_SSE | MASK_AVX);
	else
		c->mxcsr_loaded = c->loaded & MASK_SSE;
	c->mxcsr = VX_MXCSR_DEFAULT;
	if (!c->mxcsr_loaded)
		return 0;
	c->mxcsr = (uint32_t)get_le(c->src + VX_MXCSR_OFFSET, 4);
	return vx_area_check_mxcsr(c->src, c->src_len, vx_profile_mxcsr_mask(c->profile), err);
}

static void write_mxcsr_pair(const struct conversion *c, uint8_t *dst)
{
	put_le(dst + VX_MXCSR_OFFSET, 4, c->mxcsr);
	if (c->mxcsr_loaded)
		memcpy(dst + VX_MXCSR_MASK_OFFSET, c->src + VX_MXCSR_MASK_OFFSET, 4);
	else
		put_le(dst + VX_MXCSR_MASK_OFFSET, 4, c->profile->mxcsr_mask);
}

static void copy_component(const struct conversion *c, uint8_t *dst, unsigned id)
{
	if (id == VX_COMP_X87) {
		memcpy(dst, c->src, VX_MXCSR_OFFSET);
		memcpy(dst + 32, c->src + 32, VX_XMM_OFFSET - 32);
	} else if (id == VX_COMP_SSE) {
		/* §5.3: SSE may be saved for MXCSR alone; its XMM registers are then zero. */
		if (c->loaded & MASK_SSE)
			memcpy(dst + VX_XMM_OFFSET, c->src + VX_XMM_OFFSET, 256);
		else
			memset(dst + VX_XMM_OFFSET, 0, 256);
		write_mxcsr_pair(c, dst);
	} else {
		memcpy(dst + c->to.offset[id], c->src + c->from.offset[id], (size_t)c->to.size[id]);
	}
}

/* Bytes of the destination layout that belong to no component of @features. */
static void zero_outside(const struct conversion *c, uint8_t *dst)
{
	memset(dst, 0, VX_LEGACY_SIZE);
	memset(dst + VX_EXTENDED_OFFSET, 0, (size_t)(c->to.end - VX_EXTENDED_OFFSET));
}

static void write_destination(const struct conversion *c, uint8_t *dst, enum vx_area_format format,
			      unsigned flags)
{
	uint64_t saved = c->loaded;
	bool keep = flags & VX_AREA_KEEP_UNSAVED;

	/* §5.3: XSAVEC records SSE whenever MXCSR is not its initial value. */
	if (format == VX_AREA_COMPACTED && (c->features & MASK_SSE) && c->mxcsr != VX_MXCSR_DEFAULT)
		saved |= MASK_SSE;
	if (!keep)
		zero_outside(c, dst);
	for (unsigned id = 0; id < VX_COMP_LIMIT; id++) {
		if (!(c->features & VX_BIT(id)))
			continue;
		if (saved & VX_BIT(id))
			copy_component(c, dst, id);
		else if (!keep)
			fill_init(c->profile, dst, &c->to, id);
	}
	/* §5.1: XSAVE writes MXCSR and MXCSR_MASK when RFBM has SSE or AVX. */
	if (format == VX_AREA_STANDARD && (c->features & (MASK_SSE | MASK_AVX)))
		write_mxcsr_pair(c, dst);
	put_le(dst + VX_XSTATE_BV_OFFSET, 8, saved);
	put_le(dst + VX_XCOMP_BV_OFFSET, 8,
	       format == VX_AREA_COMPACTED ? VX_XCOMP_BV_COMPACTED | c->features : 0);
	memset(dst + VX_HEADER_OFFSET + 16, 0, VX_HEADER_SIZE - 16);
}

static bool overlaps(const void *a, size_t alen, const void *b, size_t blen)
{
	uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;

	return pa < pb + blen && pb < pa + alen;
}

static int check_destination(const struct conversion *c, void *dst, size_t dst_len,
			     size_t *required, struct vx_error *err)
{
	if (c->to.end > SIZE_MAX)
		return refuse(err, -1, 0, -1, "arch.md §2.4", "the layout does not fit in memory");
	if (required)
		*required = (size_t)c->to.end;
	if (!dst || dst_len < c->to.end) {
		vx_error_set(err, -ENOSPC, "arch.md §2.4",
			     "the destination is %zu bytes; features 0x%llx need %llu",
			     dst ? dst_len : 0, (unsigned long long)c->features,
			     (unsigned long long)c->to.end);
		if (err)
			err->offset = (int64_t)(dst ? dst_len : 0);
		return -ENOSPC;
	}
	return 0;
}

int vx_area_convert(const struct vx_profile *profile, uint64_t features, const void *src,
		    size_t src_len, enum vx_area_format src_format, void *dst, size_t dst_len,
		    enum vx_area_format dst_format, unsigned flags, size_t *required,
		    struct vx_error *err)
{
	struct conversion c = {.profile = profile,
			       .features = features,
			       .src = src,
			       .src_len = src_len,
			       .src_format = src_format};
	int rc;

	if (dst_format == VX_AREA_AUTO || (features & VX_XCOMP_BV_COMPACTED))
		return refuse(err, -1, features & VX_XCOMP_BV_COMPACTED, -1, "arch.md §2.3",
			      "a conversion needs a definite destination format and a feature "
			      "mask without bit 63");
	rc = place(profile, dst_format, features, &c.to, err);
	if (!rc)
		rc = check_destination(&c, dst, dst_len, required, err);
	if (!rc && !src)
		rc = too_short(err, 0);
	if (!rc)
		rc = read_source(&c, err);
	if (!rc)
		rc = check_source_bounds(&c, err);
	if (!rc)
		rc = read_mxcsr(&c, err);
	if (!rc && overlaps(src, src_len, dst, (size_t)c.to.end))
		rc = refuse(err, -1, 0, -1, "area.h", "source and destination overlap");
	if (rc)
		return rc;
	write_destination(&c, dst, dst_format, flags);
	return 0;
}
