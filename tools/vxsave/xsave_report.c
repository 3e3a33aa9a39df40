/* SPDX-License-Identifier: MIT */
/*
 * `vxsave xsave decode` output: the header (arch.md §2.3), every component listed by the
 * decoder with its registers as the blob loads them (vmm.h vx_vmm_xsave_reg: a component in
 * its initial configuration reads as its initial values), the x87 stack with tags, the named
 * fields of FCW/FSW/MXCSR/U_CET, PKRU keys, the tile configuration and a tile-data summary,
 * and every non-zero byte that holds no state as hex.  Text and JSON carry the same facts.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_output.h"
#include "xsave_report.h"

#define VALUE_MAX    1024 /* the widest register (a tile row block, LBR) */
#define HEX_LINES    8	  /* hex dump lines per region before "... more" */
#define HEX_PER_LINE 16

/* ----------------------------------------------------------------------------------------- */
/* Values                                                                                       */

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* A little-endian value as "0x" + hex, most significant byte first, 8-byte groups with '_'. */
static const char *hex_value(const uint8_t *v, uint32_t width, char *buf, size_t len)
{
	size_t at = 0;

	if (all_zero(v, width)) {
		snprintf(buf, len, "0");
		return buf;
	}
	at += (size_t)snprintf(buf, len, "0x");
	for (uint32_t i = width; i-- > 0 && at + 3 < len;) {
		at += (size_t)snprintf(buf + at, len - at, "%02x", v[i]);
		if (i && i % 8 == 0 && at + 2 < len)
			buf[at++] = '_';
	}
	buf[at < len ? at : len - 1] = '\0';
	return buf;
}

static uint64_t le(const uint8_t *v, uint32_t width)
{
	uint64_t x = 0;

	for (uint32_t i = 0; i < width && i < 8; i++)
		x |= (uint64_t)v[i] << (8 * i);
	return x;
}

/* Read @name as loaded; false (nothing printed) when it has no bytes in this blob. */
static bool reg(const struct vx_vmm_xsave_view *v, const char *name, uint8_t *value,
		uint32_t *width)
{
	return vx_vmm_xsave_reg(v, name, value, VALUE_MAX, width, NULL) == 0;
}

/* ----------------------------------------------------------------------------------------- */
/* What each component shows: one function per kind, picked from a table                       */

typedef void (*text_fn)(FILE *out, const struct vx_vmm_xsave_view *v, unsigned id);
typedef void (*json_fn)(json_t *regs, const struct vx_vmm_xsave_view *v, unsigned id);

static void text_reg(FILE *out, const struct vx_vmm_xsave_view *v, const char *name,
		     const char *extra)
{
	uint8_t value[VALUE_MAX];
	char hex[VALUE_MAX * 3];
	uint32_t w = 0;

	if (reg(v, name, value, &w))
		fprintf(out, "    %-9s %s%s%s\n", name, hex_value(value, w, hex, sizeof(hex)),
			extra ? "  " : "", extra ? extra : "");
}

static void json_reg(json_t *regs, const struct vx_vmm_xsave_view *v, const char *name)
{
	uint8_t value[VALUE_MAX];
	char hex[VALUE_MAX * 3];
	uint32_t w = 0;

	if (!reg(v, name, value, &w))
		return;
	hex_value(value, w, hex, sizeof(hex));
	cli_json_set(regs, name, json_string(hex));
}

/* Registers named "<prefix>0".."<prefix>N-1" (k0-7, ymm0-15, zmm16-31, r16-31...). */
struct reg_range {
	unsigned id;
	const char *prefix;
	unsigned first, count;
};

static const struct reg_range ranges[] = {
    {VX_COMP_AVX, "ymm", 0, 16},       {VX_COMP_BNDREGS, "bnd", 0, 4},
    {VX_COMP_OPMASK, "k", 0, 8},       {VX_COMP_ZMM_HI256, "zmm", 0, 16},
    {VX_COMP_HI16_ZMM, "zmm", 16, 16}, {VX_COMP_APX, "r", 16, 16},
};

static const struct reg_range *range_of(unsigned id)
{
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (ranges[i].id == id)
			return &ranges[i];
	return NULL;
}

static void text_range(FILE *out, const struct vx_vmm_xsave_view *v, unsigned id)
{
	const struct reg_range *r = range_of(id);

	for (unsigned i = r ? r->first : 0; r && i < r->first + r->count; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%s%u", r->prefix, i);
		text_reg(out, v, name, NULL);
	}
}

static void json_range(json_t *regs, const struct vx_vmm_xsave_view *v, unsigned id)
{
	const struct reg_range *r = range_of(id);

	for (unsigned i = r ? r->first : 0; r && i < r->first + r->count; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%s%u", r->prefix, i);
		json_reg(regs, v, name);
	}
}

/* Any other component: the fields area.h's table gives it. */
static void text_fields(FILE *out, const struct vx_vmm_xsave_view *v, unsigned id)
{
	for (unsigned i = 0; i < vx_area_field_count(); i++)
		if (vx_area_field_at(i)->component == id)
			text_reg(out, v, vx_area_field_at(i)->name, NULL);
}

static void json_fields(json_t *regs, const struct vx_vmm_xsave_view *v, unsigned id)
{
	for (unsigned i = 0; i < vx_area_field_count(); i++)
		if (vx_area_field_at(i)->component == id)
			json_reg(regs, v, vx_area_field_at(i)->name);
}

/* x87: control/status with their fields, then the stack ST(i) → R(j) with its tag. */
static void text_x87(FILE *out, const struct vx_vmm_xsave_view *v, unsigned id)
{
	uint8_t legacy[160] = {0}, value[VALUE_MAX];
	struct vx_vmm_x87 x;
	char flags[256];
	uint32_t w = 0;

	(void)id;
	/* The legacy region as loaded: from the registers, so init state shows its values. */
	if (reg(v, "fcw", value, &w))
		memcpy(legacy, value, 2);
	for (unsigned i = 0; v->comp[0].in_xstate_bv && i < 160; i++)
		legacy[i] = i < 24 || i >= 32 ? v->blob.bytes[i] : 0;
	vx_vmm_x87_decode(legacy, &x);
	vx_vmm_flags_format(VX_VMM_FLAGS_FCW, x.fcw, flags, sizeof(flags));
	fprintf(out, "    fcw       0x%04x  %s\n", x.fcw, flags);
	vx_vmm_flags_format(VX_VMM_FLAGS_FSW, x.fsw, flags, sizeof(flags));
	fprintf(out, "    fsw       0x%04x  %s\n", x.fsw, flags);
	fprintf(out, "    ftw       0x%02x (abridged; tag word 0x%04x)\n", x.ftw, x.full_tag_word);
	fprintf(out, "    fop       0x%04x  fip 0x%016llx  fdp 0x%016llx\n", x.fop,
		(unsigned long long)x.fip, (unsigned long long)x.fdp);
	for (unsigned i = 0; i < 8; i++) {
		fprintf(out, "    st%u  R%u  %-7s", i, x.st[i].phys,
			vx_vmm_x87_tag_name(x.st[i].tag));
		if (x.st[i].tag != VX_X87_EMPTY)
			fprintf(out, " %.17g", x.st[i].value);
		fprintf(out, "  (0x%04llx_%016llx)\n", (unsigned long long)le(x.st[i].raw + 8, 2),
			(unsigned long long)le(x.st[i].raw, 8));
	}
}

static void json_x87(json_t *regs, const struct vx_vmm_xsave_view *v, unsigned id)
{
	uint8_t legacy[160] = {0}, value[VALUE_MAX];
	struct vx_vmm_x87 x;
	json_t *stack = json_array();
	char flags[256];
	uint32_t w = 0;

	(void)id;
	if (reg(v, "fcw", value, &w))
		memcpy(legacy, value, 2);
	for (unsigned i = 0; v->comp[0].in_xstate_bv && i < 160; i++)
		legacy[i] = i < 24 || i >= 32 ? v->blob.bytes[i] : 0;
	vx_vmm_x87_decode(legacy, &x);
	json_fields(regs, v, VX_COMP_X87);
	vx_vmm_flags_format(VX_VMM_FLAGS_FCW, x.fcw, flags, sizeof(flags));
	cli_json_set(regs, "fcw_fields", json_string(flags));
	vx_vmm_flags_format(VX_VMM_FLAGS_FSW, x.fsw, flags, sizeof(flags));
	cli_json_set(regs, "fsw_fields", json_string(flags));
	cli_json_set(regs, "top", json_integer(x.top));
	cli_json_set(regs, "tag_word", cli_json_hex(x.full_tag_word));
	for (unsigned i = 0; i < 8; i++) {
		json_t *st = json_object();

		cli_json_set(st, "physical", json_integer(x.st[i].phys));
		cli_json_set(st, "tag", json_string(vx_vmm_x87_tag_name(x.st[i].tag)));
		cli_json_set(st, "value",
			     x.st[i].tag == VX_X87_EMPTY || x.st[i].value != x.st[i].value
				 ? NULL
				 : json_real(x.st[i].value));
		json_array_append_new(stack, st);
	}
	cli_json_set(regs, "stack", stack);
}

static void text_sse(FILE *out, const struct vx_vmm_xsave_view *v, unsigned id)
{
	uint8_t value[VALUE_MAX];
	char flags[256];
	uint32_t w = 0;

	(void)id;
	if (reg(v, "mxcsr", value, &w)) {
		vx_vmm_flags_format(VX_VMM_FLAGS_MXCSR, le(value, 4), flags, sizeof(flags));
		fprintf(out, "    mxcsr     0x%08llx  %s%s\n", (unsigned long long)le(value, 4),
			flags,
			v->mxcsr_loaded ? "" : "  (initial value: the blob's is not loaded)");
	}
	fprintf(out, "    mxcsr_mask 0x%08llx\n",
		(unsigned long long)le(v->blob.bytes + VX_MXCSR_MASK_OFFSET, 4));
	for (unsigned i = 0; i < 16; i++) {
		char name[8];

		snprintf(name, sizeof(name), "xmm%u", i);
		text_reg(out, v, name, NULL);
	}
}

static void json_sse(json_t *regs, const struct vx_vmm_xsave_view *v, unsigned id)
{
	uint8_t value[VALUE_MAX];
	char flags[256];
	uint32_t w = 0;

	json_fields(regs, v, id);
	if (reg(v, "mxcsr", value, &w)) {
		vx_vmm_flags_format(VX_VMM_FLAGS_MXCSR, le(value, 4), flags, sizeof(flags));
		cli_json_set(regs, "mxcsr_fields", json_string(flags));
	}
	cli_json_set(regs, "mxcsr_mask", cli_json_reg32((uint32_t)le(v->blob.bytes + 28, 4)));
}

/* PKRU: AD (bit 2k) and WD (bit 2k+1) of each key. */
static void pkru_keys(uint32_t pkru, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned k = 0; k < 16 && at < len; k++) {
		unsigned bits = (pkru >> (2 * k)) & 3u;

		if (bits)
			at += (size_t)snprintf(buf + at, len - at, "%skey%u:%s%s", at ? " " : "", k,
					       bits & 1 ? "AD" : "", bits & 2 ? "WD" : "");
	}
}

static void text_pkru(FILE *out, const struct vx_vmm_xsave_view *v, unsigned id)
{
	uint8_t value[VALUE_MAX];
	char keys[400];
	uint32_t w = 0;

	(void)id;
	if (!reg(v, "pkru", value, &w))
		return;
	pkru_keys((uint32_t)le(value, 4), keys, sizeof(keys));
	fprintf(out, "    pkru      0x%08llx  %s\n", (unsigned long long)le(value, 4),
		keys[0] ? keys : "every key allowed");
}

static void text_cet_u(FILE *out, const struct vx_vmm_xsave_view *v, unsigned id)
{
	uint8_t value[VALUE_MAX];
	char flags[256];
	uint32_t w = 0;

	(void)id;
	if (reg(v, "u_cet", value, &w)) {
		vx_vmm_flags_format(VX_VMM_FLAGS_U_CET, le(value, 8), flags, sizeof(flags));
		fprintf(out, "    u_cet     0x%016llx  %s\n", (unsigned long long)le(value, 8),
			flags[0] ? flags : "(nothing enabled)");
	}
	text_reg(out, v, "pl3_ssp", NULL);
}

static void json_cet_u(json_t *regs, const struct vx_vmm_xsave_view *v, unsigned id)
{
	uint8_t value[VALUE_MAX];
	char flags[256];
	uint32_t w = 0;

	json_fields(regs, v, id);
	if (reg(v, "u_cet", value, &w)) {
		vx_vmm_flags_format(VX_VMM_FLAGS_U_CET, le(value, 8), flags, sizeof(flags));
		cli_json_set(regs, "u_cet_fields", json_string(flags));
	}
}

static bool tilecfg(const struct vx_vmm_xsave_view *v, struct vx_vmm_tilecfg *cfg)
{
	uint8_t value[VALUE_MAX];
	uint32_t w = 0;

	if (!reg(v, "tilecfg", value, &w) || w < 64)
		return false;
	vx_vmm_tilecfg_decode(value, cfg);
	return true;
}

static void text_tilecfg(FILE *out, const struct vx_vmm_xsave_view *v, unsigned id)
{
	struct vx_vmm_tilecfg cfg;

	(void)id;
	if (!tilecfg(v, &cfg))
		return;
	fprintf(out, "    palette %u  start_row %u%s\n", cfg.palette, cfg.start_row,
		cfg.reserved_nonzero ? "  (reserved bytes 2-15 not zero)" : "");
	for (unsigned t = 0; t < 16; t++)
		if (cfg.rows[t] || cfg.colsb[t])
			fprintf(out, "    tmm%-2u  %u rows x %u bytes\n", t, cfg.rows[t],
				cfg.colsb[t]);
}

static void json_tilecfg(json_t *regs, const struct vx_vmm_xsave_view *v, unsigned id)
{
	struct vx_vmm_tilecfg cfg;
	json_t *tiles = json_array();

	json_fields(regs, v, id);
	if (!tilecfg(v, &cfg)) {
		json_decref(tiles);
		return;
	}
	cli_json_set(regs, "palette", json_integer(cfg.palette));
	cli_json_set(regs, "start_row", json_integer(cfg.start_row));
	for (unsigned t = 0; t < 16; t++) {
		json_t *tile = json_object();

		cli_json_set(tile, "rows", json_integer(cfg.rows[t]));
		cli_json_set(tile, "colsb", json_integer(cfg.colsb[t]));
		json_array_append_new(tiles, tile);
	}
	cli_json_set(regs, "tiles", tiles);
}

/* Tile data: eight 1 KiB registers, summarised by their non-zero bytes. */
static unsigned nonzero_bytes(const uint8_t *p, uint32_t n)
{
	unsigned count = 0;

	for (uint32_t i = 0; i < n; i++)
		count += p[i] != 0;
	return count;
}

static void text_tiledata(FILE *out, const struct vx_vmm_xsave_view *v, unsigned id)
{
	uint8_t value[VALUE_MAX];
	uint32_t w = 0;

	(void)id;
	for (unsigned t = 0; t < 8; t++) {
		char name[8];

		snprintf(name, sizeof(name), "tmm%u", t);
		if (reg(v, name, value, &w))
			fprintf(out, "    %-5s %u of %u bytes non-zero\n", name,
				nonzero_bytes(value, w), w);
	}
}

static void json_tiledata(json_t *regs, const struct vx_vmm_xsave_view *v, unsigned id)
{
	uint8_t value[VALUE_MAX];
	uint32_t w = 0;

	(void)id;
	for (unsigned t = 0; t < 8; t++) {
		char name[8];

		snprintf(name, sizeof(name), "tmm%u", t);
		if (reg(v, name, value, &w))
			cli_json_set(regs, name, json_integer(nonzero_bytes(value, w)));
	}
}

static void json_pkru(json_t *regs, const struct vx_vmm_xsave_view *v, unsigned id)
{
	json_fields(regs, v, id);
}

static const struct {
	unsigned id;
	text_fn text;
	json_fn json;
} shows[] = {
    {VX_COMP_X87, text_x87, json_x87},
    {VX_COMP_SSE, text_sse, json_sse},
    {VX_COMP_AVX, text_range, json_range},
    {VX_COMP_BNDREGS, text_range, json_range},
    {VX_COMP_OPMASK, text_range, json_range},
    {VX_COMP_ZMM_HI256, text_range, json_range},
    {VX_COMP_HI16_ZMM, text_range, json_range},
    {VX_COMP_PKRU, text_pkru, json_pkru},
    {VX_COMP_CET_U, text_cet_u, json_cet_u},
    {VX_COMP_XTILECFG, text_tilecfg, json_tilecfg},
    {VX_COMP_XTILEDATA, text_tiledata, json_tiledata},
    {VX_COMP_APX, text_range, json_range},
};

static size_t show_index(unsigned id)
{
	for (size_t i = 0; i < sizeof(shows) / sizeof(shows[0]); i++)
		if (shows[i].id == id)
			return i;
	return SIZE_MAX;
}

/* ----------------------------------------------------------------------------------------- */
/* Components and bytes                                                                         */

static const char *comp_name(unsigned id, char *buf, size_t len)
{
	const struct vx_component_info *c = vx_component_info(id);

	if (c)
		return c->name;
	snprintf(buf, len, "bit%u", id);
	return buf;
}

static const char *state_word(const struct vx_vmm_component *c)
{
	return c->in_xstate_bv ? "present" : "init";
}

/* Where the component is, and why it cannot show registers when it cannot. */
static void text_place(FILE *out, const struct vx_vmm_xsave_view *v,
		       const struct vx_vmm_component *c)
{
	if (!c->located) {
		fprintf(out, "%s",
			c->unknown ? "  not enumerated by this profile"
				   : "  no bytes in this format");
		return;
	}
	fprintf(out, "  bytes %llu-%llu", (unsigned long long)c->offset,
		(unsigned long long)(c->offset + c->size - 1));
	if (c->truncated)
		fprintf(out, ": past the end of the %zu-byte area", v->blob.area_len);
	else if (!c->in_xstate_bv && !c->bytes_init)
		fprintf(out, ": not in the initial configuration, ignored by XRSTOR");
}

/* Hex lines of the non-zero 16-byte rows of [@start, @end). */
static void text_hex(FILE *out, const uint8_t *p, uint64_t start, uint64_t end)
{
	unsigned lines = 0, more = 0;

	for (uint64_t row = start & ~(uint64_t)15; row < end; row += HEX_PER_LINE) {
		uint64_t a = row < start ? start : row, b = row + 16 < end ? row + 16 : end;

		if (all_zero(p + a, (size_t)(b - a)))
			continue;
		if (lines == HEX_LINES) {
			more += nonzero_bytes(p + a, (uint32_t)(b - a));
			continue;
		}
		lines++;
		fprintf(out, "      %06llx:", (unsigned long long)row);
		for (uint64_t i = row; i < row + 16; i++)
			if (i >= a && i < b)
				fprintf(out, " %02x", p[i]);
			else
				fprintf(out, "   ");
		fputc('\n', out);
	}
	if (more)
		fprintf(out, "      ... %u more non-zero bytes\n", more);
}

static void text_component(FILE *out, const struct vx_vmm_xsave_view *v, unsigned id)
{
	const struct vx_vmm_component *c = &v->comp[id];
	size_t show = show_index(id);
	char name[16];

	fprintf(out, "  %-10s %-8s", comp_name(id, name, sizeof(name)), state_word(c));
	text_place(out, v, c);
	fputc('\n', out);
	if (c->truncated || (!c->located && c->in_xstate_bv))
		return;
	if (!c->in_xstate_bv && id > VX_COMP_SSE) {
		if (c->located && !c->bytes_init)
			text_hex(out, v->blob.bytes, c->offset, c->offset + c->size);
		return; /* every extended register reads 0 */
	}
	if (show != SIZE_MAX)
		shows[show].text(out, v, id);
	else
		text_fields(out, v, id);
	if (show == SIZE_MAX && !vx_component_info(id) && c->located)
		text_hex(out, v->blob.bytes, c->offset, c->offset + c->size);
}

static const char *region_word(enum vx_area_region_kind kind)
{
	static const char *const words[] = {
	    [VX_AREA_REGION_COMPONENT] = "component", [VX_AREA_REGION_RESERVED] = "reserved",
	    [VX_AREA_REGION_SOFTWARE] = "software",   [VX_AREA_REGION_HEADER] = "header",
	    [VX_AREA_REGION_HOLE] = "hole",	      [VX_AREA_REGION_PAST_END] = "past the area",
	};

	return words[kind];
}

/* Bytes of no component (and of no header field) that are not zero. */
static bool stray_region(const struct vx_vmm_xsave_view *v, const struct vx_area_region *r,
			 uint64_t *start)
{
	*start = r->start;
	/* KVM_GET_XSAVE writes the kernel's XCR0 at 464 (linux-fpu.md §7.1 item 4). */
	if (r->kind == VX_AREA_REGION_SOFTWARE && v->blob.kind != VX_VMM_BLOB_SIGFRAME)
		*start = VX_FPX_SW_BYTES_OFFSET + 8;
	if (r->kind == VX_AREA_REGION_SOFTWARE && v->blob.kind == VX_VMM_BLOB_SIGFRAME)
		return false; /* the frame's software bytes, shown with the header */
	if (r->kind == VX_AREA_REGION_COMPONENT || r->kind == VX_AREA_REGION_HEADER)
		return false;
	return r->end <= v->blob.area_len && !all_zero(v->blob.bytes + *start, r->end - *start);
}

static void text_stray(FILE *out, const struct vx_vmm_xsave_view *v)
{
	bool any = false;

	for (unsigned i = 0; i < v->map.count; i++) {
		const struct vx_area_region *r = &v->map.regions[i];
		uint64_t start;

		if (!stray_region(v, r, &start))
			continue;
		if (!any)
			fprintf(out, "bytes that hold no state (not zero):\n");
		any = true;
		fprintf(out, "  %s %llu-%llu\n", region_word(r->kind), (unsigned long long)start,
			(unsigned long long)(r->end - 1));
		text_hex(out, v->blob.bytes, start, r->end);
	}
	if (v->blob.len > v->blob.area_len &&
	    !all_zero(v->blob.bytes + v->blob.area_len, v->blob.len - v->blob.area_len - 4)) {
		fprintf(out, "  after the signal frame's MAGIC2:\n");
		text_hex(out, v->blob.bytes, v->blob.area_len + 4, v->blob.len);
	}
}

const char *xsave_kind_label(const struct vx_vmm_blob *b, char *buf, size_t len)
{
	static const char *const what[VX_VMM_BLOB_KIND_COUNT] = {
	    [VX_VMM_BLOB_KVM] = "struct kvm_xsave",
	    [VX_VMM_BLOB_KVM2] = "KVM_GET_XSAVE2 buffer",
	    [VX_VMM_BLOB_STANDARD] = "standard-format XSAVE area",
	    [VX_VMM_BLOB_COMPACTED] = "compacted XSAVE area",
	    [VX_VMM_BLOB_SIGFRAME] = "64-bit signal frame",
	};

	snprintf(buf, len, "%s (%s, %s)", vx_vmm_blob_kind_name(b->kind),
		 what[b->kind] ? what[b->kind] : "?", b->recognized ? "recognised" : "as told");
	return buf;
}

static void text_header(FILE *out, const struct vx_vmm_xsave_view *v)
{
	const struct vx_vmm_blob *b = &v->blob;
	char names[400];

	fprintf(out, "header:\n  XSTATE_BV  0x%llx  %s\n", (unsigned long long)b->xstate_bv,
		cli_mask_names(b->xstate_bv, names, sizeof(names)));
	fprintf(out, "  XCOMP_BV   0x%llx  %s\n", (unsigned long long)b->xcomp_bv,
		b->xcomp_bv & VX_XCOMP_BV_COMPACTED ? "compacted format" : "standard format");
	if (!v->reserved_nonzero)
		fprintf(out, "  reserved   bytes 528-575 zero\n");
	for (unsigned i = 0; i < 48; i++)
		if (v->reserved_nonzero & VX_BIT(i))
			fprintf(out, "  reserved   byte %u = 0x%02x (must be 0)\n", 528 + i,
				b->bytes[528 + i]);
	if (b->kind == VX_VMM_BLOB_SIGFRAME)
		fprintf(out,
			"  frame      magic1 0x%08x, extended_size %u, xfeatures 0x%llx, "
			"xstate_size %u, MAGIC2 at %u\n",
			b->sw.magic1, b->sw.extended_size, (unsigned long long)b->sw.xfeatures,
			b->sw.xstate_size, b->sw.xstate_size);
	else if (v->sw_xcr0)
		fprintf(
		    out,
		    "  software   0x%llx at byte 464 (KVM_GET_XSAVE: the source kernel's XCR0)\n",
		    (unsigned long long)v->sw_xcr0);
}

/* A KVM blob's software XCR0 outside what the profile enumerates: decoded on the wrong host? */
static void text_host_hint(FILE *out, const struct vx_vmm_xsave_view *v)
{
	uint64_t supported = vx_profile_xcr0_supported(v->profile);

	if (v->sw_xcr0 && (v->sw_xcr0 & 1) && (v->sw_xcr0 & ~supported))
		fprintf(out,
			"note: the source kernel's XCR0 0x%llx has bits '%s' does not enumerate: "
			"decode with the source host's profile (standard offsets differ between "
			"hosts)\n",
			(unsigned long long)v->sw_xcr0, v->profile->name);
}

void xsave_report_text(FILE *out, const char *path, const struct vx_vmm_xsave_view *v)
{
	char kind[128];

	fprintf(out, "%s: %zu bytes, %s; layout of '%s'\n", path, v->blob.len,
		xsave_kind_label(&v->blob, kind, sizeof(kind)), v->profile->name);
	text_header(out, v);
	text_host_hint(out, v);
	fprintf(out, "components:\n");
	for (unsigned id = 0; id < VX_COMP_LIMIT; id++)
		if (v->comp[id].listed)
			text_component(out, v, id);
	text_stray(out, v);
}

/* ----------------------------------------------------------------------------------------- */
/* JSON                                                                                         */

static json_t *json_hex_bytes(const uint8_t *p, uint64_t start, uint64_t end)
{
	char *hex = malloc((size_t)(end - start) * 2 + 1);
	json_t *s;

	if (!hex)
		return NULL;
	for (uint64_t i = start; i < end; i++)
		snprintf(hex + 2 * (i - start), 3, "%02x", p[i]);
	hex[2 * (end - start)] = '\0';
	s = json_string(hex);
	free(hex);
	return s;
}

static json_t *json_component(const struct vx_vmm_xsave_view *v, unsigned id)
{
	const struct vx_vmm_component *c = &v->comp[id];
	json_t *o = json_object(), *regs = json_object();
	size_t show = show_index(id);
	char name[16];

	cli_json_set(o, "id", json_integer(id));
	cli_json_set(o, "name", json_string(comp_name(id, name, sizeof(name))));
	cli_json_set(o, "state", json_string(state_word(c)));
	cli_json_set(o, "offset", c->located ? json_integer((json_int_t)c->offset) : NULL);
	cli_json_set(o, "size", c->located ? json_integer((json_int_t)c->size) : NULL);
	cli_json_set(o, "truncated", json_boolean(c->truncated));
	cli_json_set(o, "bytes_init", json_boolean(c->bytes_init));
	cli_json_set(o, "enumerated", json_boolean(!c->unknown));
	if (!c->truncated && (c->located || !c->in_xstate_bv)) {
		if (show != SIZE_MAX)
			shows[show].json(regs, v, id);
		else
			json_fields(regs, v, id);
	}
	cli_json_set(o, "registers", regs);
	return o;
}

static json_t *json_stray(const struct vx_vmm_xsave_view *v)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < v->map.count; i++) {
		const struct vx_area_region *r = &v->map.regions[i];
		json_t *o;
		uint64_t start;

		if (!stray_region(v, r, &start))
			continue;
		o = json_object();
		cli_json_set(o, "kind", json_string(region_word(r->kind)));
		cli_json_set(o, "offset", json_integer((json_int_t)start));
		cli_json_set(o, "hex", json_hex_bytes(v->blob.bytes, start, r->end));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *json_header(const struct vx_vmm_xsave_view *v)
{
	json_t *h = json_object(), *reserved = json_array();

	cli_json_set(h, "xstate_bv", cli_json_mask(v->blob.xstate_bv));
	cli_json_set(h, "xcomp_bv", cli_json_hex(v->blob.xcomp_bv));
	for (unsigned i = 0; i < 48; i++)
		if (v->reserved_nonzero & VX_BIT(i))
			json_array_append_new(reserved, json_integer(528 + i));
	cli_json_set(h, "reserved_nonzero", reserved);
	cli_json_set(h, "software_xcr0", v->sw_xcr0 ? cli_json_hex(v->sw_xcr0) : NULL);
	if (v->blob.kind == VX_VMM_BLOB_SIGFRAME) {
		cli_json_set(h, "xstate_size", json_integer(v->blob.sw.xstate_size));
		cli_json_set(h, "frame_xfeatures", cli_json_hex(v->blob.sw.xfeatures));
	}
	return h;
}

json_t *xsave_report_json(const char *path, const struct vx_vmm_xsave_view *v)
{
	json_t *root = json_object(), *comps = json_array();

	cli_json_set(root, "file", cli_json_text(path));
	cli_json_set(root, "bytes", json_integer((json_int_t)v->blob.len));
	cli_json_set(root, "kind", json_string(vx_vmm_blob_kind_name(v->blob.kind)));
	cli_json_set(root, "recognized", json_boolean(v->blob.recognized));
	cli_json_set(root, "area_bytes", json_integer((json_int_t)v->blob.area_len));
	cli_json_set(root, "profile", cli_json_text(v->profile->name));
	cli_json_set(root, "header", json_header(v));
	for (unsigned id = 0; id < VX_COMP_LIMIT; id++)
		if (v->comp[id].listed)
			json_array_append_new(comps, json_component(v, id));
	cli_json_set(root, "components", comps);
	cli_json_set(root, "stray_bytes", json_stray(v));
	return root;
}

/* ----------------------------------------------------------------------------------------- */
/* Findings (validate, convert)                                                                 */

void xsave_report_findings(FILE *out, const struct vx_vmm_report *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->count; i++) {
		const struct vx_error *e = &r->items[i].err;
		char reason[VX_ERROR_REASON_MAX * 2], rule[192], head[32];

		cli_cited(e->reason, reason, sizeof(reason));
		if (r->items[i].refuses)
			snprintf(head, sizeof(head), "  refusal %u: ", ++n);
		else
			snprintf(head, sizeof(head), "  note: ");
		fprintf(out, "%s%s", head, reason);
		if (e->rule)
			fprintf(out, " [%s]", cli_cited(e->rule, rule, sizeof(rule)));
		fputc('\n', out);
	}
	if (r->omitted)
		fprintf(out, "  ... %u more findings not listed\n", r->omitted);
}

json_t *xsave_findings_json(const struct vx_vmm_report *r)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < r->count; i++) {
		const struct vx_error *e = &r->items[i].err;
		json_t *o = json_object();
		char buf[VX_ERROR_REASON_MAX * 2];

		cli_json_set(o, "refuses", json_boolean(r->items[i].refuses));
		cli_json_set(o, "errno", e->code ? json_string(vx_errno_name(e->code)) : NULL);
		cli_json_set(o, "rule",
			     e->rule ? json_string(cli_cited(e->rule, buf, sizeof(buf))) : NULL);
		cli_json_set(o, "reason", cli_json_text(cli_cited(e->reason, buf, sizeof(buf))));
		cli_json_set(o, "component", e->component >= 0 ? json_integer(e->component) : NULL);
		cli_json_set(o, "bits", e->bits ? cli_json_hex(e->bits) : NULL);
		cli_json_set(o, "offset", e->offset >= 0 ? json_integer(e->offset) : NULL);
		json_array_append_new(a, o);
	}
	return a;
}
