/* SPDX-License-Identifier: MIT */
/*
 * What register values mean (vmm.h): the x87 stack with its tags (the abridged FXSAVE tag
 * expanded, SDM Vol.1 §10.5.1; arch.md §2.2), the named fields of FCW, FSW, MXCSR and IA32_U_CET
 * as data tables (SDM Vol.1 §8.1.3, §8.1.5, §10.2.3; arch.md §7.2), and the AMX tile
 * configuration (SDM Vol.1 §18.2, LDTILECFG's memory format).
 */
#include <math.h>
#include <stdio.h>

#include "vmm/vmm_internal.h"

#define X87_ST_OFFSET 32u
#define X87_ST_STRIDE 16u
#define X87_EXP_MAX   0x7FFFu
#define X87_BIAS      16383
#define X87_J_BIT     VX_BIT(63)

static const char *const tag_names[] = {"valid", "zero", "special", "empty"};

const char *vx_vmm_x87_tag_name(enum vx_vmm_x87_tag tag)
{
	return (unsigned)tag < 4 ? tag_names[tag] : NULL;
}

/* SDM Vol.1 §10.5.1 (FXSAVE's tag table): the tag of a non-empty register from its value. */
static enum vx_vmm_x87_tag classify(const uint8_t raw[10])
{
	uint64_t mant = vmm_rd(raw, 8);
	unsigned exp = (unsigned)vmm_rd(raw + 8, 2) & X87_EXP_MAX;

	if (exp == X87_EXP_MAX)
		return VX_X87_SPECIAL; /* infinity, NaN */
	if (exp == 0)
		return mant ? VX_X87_SPECIAL : VX_X87_ZERO;	   /* denormal or zero */
	return (mant & X87_J_BIT) ? VX_X87_VALID : VX_X87_SPECIAL; /* unnormal without J */
}

/* x * 2^k without libm: a few exact multiplications by powers of two built from their bits. */
static double scale2(double x, int k)
{
	while (k > 1000 && x != 0 && x == x && x * 0.5 != x) {
		x *= 0x1p1000;
		k -= 1000;
	}
	while (k < -1000 && x != 0) {
		x *= 0x1p-1000;
		k += 1000;
	}
	if (k > 1000 || k < -1000)
		return x; /* already infinite or zero */
	{
		uint64_t bits = (uint64_t)(k + 1023) << 52;
		double p;

		memcpy(&p, &bits, sizeof(p));
		return x * p;
	}
}

/* The 80-bit value as a double, for display. */
static double to_double(const uint8_t raw[10])
{
	uint64_t mant = vmm_rd(raw, 8);
	unsigned se = (unsigned)vmm_rd(raw + 8, 2), exp = se & X87_EXP_MAX;
	double v;

	if (exp == X87_EXP_MAX)
		v = (mant << 1) ? NAN : INFINITY;
	else
		v = scale2((double)mant, (exp ? (int)exp : 1) - X87_BIAS - 63);
	return (se & 0x8000u) ? -v : v;
}

void vx_vmm_x87_decode(const uint8_t *legacy, struct vx_vmm_x87 *x)
{
	memset(x, 0, sizeof(*x));
	x->fcw = (uint16_t)vmm_rd(legacy, 2);
	x->fsw = (uint16_t)vmm_rd(legacy + 2, 2);
	x->ftw = legacy[4];
	x->fop = (uint16_t)vmm_rd(legacy + 6, 2);
	x->fip = vmm_rd(legacy + 8, 8);
	x->fdp = vmm_rd(legacy + 16, 8);
	x->top = (x->fsw >> 11) & 7u;
	/* ST(i) is stored at 32 + 16i and is physical register R((TOP + i) mod 8). */
	for (unsigned i = 0; i < 8; i++) {
		const uint8_t *raw = legacy + X87_ST_OFFSET + X87_ST_STRIDE * i;
		unsigned phys = (x->top + i) & 7u;

		x->st[i].phys = phys;
		memcpy(x->st[i].raw, raw, 10);
		x->st[i].tag = (x->ftw & (1u << phys)) ? classify(raw) : VX_X87_EMPTY;
		x->st[i].value = to_double(raw);
		x->full_tag_word |= (uint16_t)(x->st[i].tag << (2 * phys));
	}
}

/* ----------------------------------------------------------------------------------------- */
/* Named fields                                                                                 */

static const char *const pc_values[] = {"single", "reserved", "double", "extended", NULL};
static const char *const rc_values[] = {"nearest", "down", "up", "zero", NULL};

/* SDM Vol.1 §8.1.5 */
static const struct vx_vmm_flag fcw_flags[] = {
    {"IM", 0, 1, NULL},	     {"DM", 1, 1, NULL},       {"ZM", 2, 1, NULL},
    {"OM", 3, 1, NULL},	     {"UM", 4, 1, NULL},       {"PM", 5, 1, NULL},
    {"PC", 8, 2, pc_values}, {"RC", 10, 2, rc_values}, {"X", 12, 1, NULL},
};

/* SDM Vol.1 §8.1.3 */
static const struct vx_vmm_flag fsw_flags[] = {
    {"IE", 0, 1, NULL},	 {"DE", 1, 1, NULL}, {"ZE", 2, 1, NULL},  {"OE", 3, 1, NULL},
    {"UE", 4, 1, NULL},	 {"PE", 5, 1, NULL}, {"SF", 6, 1, NULL},  {"ES", 7, 1, NULL},
    {"C0", 8, 1, NULL},	 {"C1", 9, 1, NULL}, {"C2", 10, 1, NULL}, {"TOP", 11, 3, NULL},
    {"C3", 14, 1, NULL}, {"B", 15, 1, NULL},
};

/* SDM Vol.1 §10.2.3; MM (misaligned exception mask) is AMD's bit 17 (APM Vol.4). */
static const struct vx_vmm_flag mxcsr_flags[] = {
    {"IE", 0, 1, NULL},	 {"DE", 1, 1, NULL},	   {"ZE", 2, 1, NULL},	{"OE", 3, 1, NULL},
    {"UE", 4, 1, NULL},	 {"PE", 5, 1, NULL},	   {"DAZ", 6, 1, NULL}, {"IM", 7, 1, NULL},
    {"DM", 8, 1, NULL},	 {"ZM", 9, 1, NULL},	   {"OM", 10, 1, NULL}, {"UM", 11, 1, NULL},
    {"PM", 12, 1, NULL}, {"RC", 13, 2, rc_values}, {"FZ", 15, 1, NULL}, {"MM", 17, 1, NULL},
};

/* arch.md §7.2 */
static const struct vx_vmm_flag u_cet_flags[] = {
    {"SH_STK_EN", 0, 1, NULL}, {"WR_SHSTK_EN", 1, 1, NULL}, {"ENDBR_EN", 2, 1, NULL},
    {"LEG_IW_EN", 3, 1, NULL}, {"NO_TRACK_EN", 4, 1, NULL}, {"SUPPRESS_DIS", 5, 1, NULL},
    {"SUPPRESS", 10, 1, NULL}, {"TRACKER", 11, 1, NULL},    {"EB_LEG_BITMAP_BASE", 12, 52, NULL},
};

#define TABLE(t)                                                                                   \
	{                                                                                          \
		(t), sizeof(t) / sizeof((t)[0])                                                    \
	}

static const struct {
	const struct vx_vmm_flag *flags;
	unsigned count;
} flag_sets[VX_VMM_FLAGS_COUNT] = {
    [VX_VMM_FLAGS_FCW] = TABLE(fcw_flags),
    [VX_VMM_FLAGS_FSW] = TABLE(fsw_flags),
    [VX_VMM_FLAGS_MXCSR] = TABLE(mxcsr_flags),
    [VX_VMM_FLAGS_U_CET] = TABLE(u_cet_flags),
};

const struct vx_vmm_flag *vx_vmm_flags(enum vx_vmm_flag_set set, unsigned *count)
{
	if ((unsigned)set >= VX_VMM_FLAGS_COUNT)
		return NULL;
	if (count)
		*count = flag_sets[set].count;
	return flag_sets[set].flags;
}

static uint64_t field_mask(const struct vx_vmm_flag *f)
{
	return (f->width >= 64 ? ~UINT64_C(0) : (VX_BIT(f->width) - 1)) << f->bit;
}

/* Append one element, '|'-separated, snprintf-like on the running length. */
static void put(char *buf, size_t len, size_t *at, const char *text)
{
	int n = snprintf(*at < len ? buf + *at : NULL, *at < len ? len - *at : 0, "%s%s",
			 *at ? "|" : "", text);

	*at += n > 0 ? (size_t)n : 0;
}

/* One field: a set bit by name; a multi-bit one as NAME=value (named, or hex when non-zero). */
static void format_field(const struct vx_vmm_flag *f, uint64_t value, char *buf, size_t len,
			 size_t *at)
{
	uint64_t v = (value & field_mask(f)) >> f->bit;
	char text[64];

	if (f->width == 1) {
		if (v)
			put(buf, len, at, f->name);
		return;
	}
	if (f->values)
		snprintf(text, sizeof(text), "%s=%s", f->name, f->values[v]);
	else if (v || f->width < 8)
		snprintf(text, sizeof(text), "%s=0x%llx", f->name, (unsigned long long)v);
	else
		return;
	put(buf, len, at, text);
}

size_t vx_vmm_flags_format(enum vx_vmm_flag_set set, uint64_t value, char *buf, size_t len)
{
	unsigned count = 0;
	const struct vx_vmm_flag *f = vx_vmm_flags(set, &count);
	uint64_t named = 0;
	size_t at = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < count; i++) {
		format_field(&f[i], value, buf, len, &at);
		named |= field_mask(&f[i]);
	}
	for (unsigned b = 0; b < 64; b++) {
		char text[16];

		if (!(value & ~named & VX_BIT(b)))
			continue;
		snprintf(text, sizeof(text), "bit%u", b);
		put(buf, len, &at, text);
	}
	return at;
}

/* ----------------------------------------------------------------------------------------- */
/* AMX tile configuration (SDM Vol.1 §18.2: palette, start_row, reserved, colsb[16], rows[16])  */

void vx_vmm_tilecfg_decode(const uint8_t cfg[64], struct vx_vmm_tilecfg *out)
{
	memset(out, 0, sizeof(*out));
	out->palette = cfg[0];
	out->start_row = cfg[1];
	for (unsigned i = 2; i < 16; i++)
		out->reserved_nonzero |= cfg[i] != 0;
	for (unsigned t = 0; t < 16; t++) {
		out->colsb[t] = (uint16_t)vmm_rd(cfg + 16 + 2 * t, 2);
		out->rows[t] = cfg[48 + t];
	}
}
