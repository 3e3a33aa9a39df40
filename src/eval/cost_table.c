/* SPDX-License-Identifier: MIT */
/*
 * The cost model's one table of constants (issue 9; docs/eval.md "Cost model"): what each
 * constant is, its built-in value with unit and source, checked setting, and the override
 * file format "name value unit # source".
 *
 * Built-in values: the VX_COST_MEASURED ones are what vx_eval_calibrate() measured on the
 * development machine (so modeled times do not depend on where they are computed); the
 * published ones cite where the figure was published; the clock is an assumption.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/eval_cost.h>

#include "eval/cost_internal.h"

#define COST_RULE "docs/eval.md \"Cost model\""

static const struct vx_eval_cost_info info_table[VX_COST_COUNT] = {
    [VX_COST_CLOCK] = {"clock", VX_COST_KIND_CLOCK, VX_COST_CAT_COUNT,
		       "core clock converting figures given in cycles"},
    [VX_COST_XSAVE_INSN] = {"xsave_insn", VX_COST_KIND_TIME, VX_COST_CAT_XSAVE,
			    "fixed part of one save instruction"},
    [VX_COST_XSAVE_BYTE] = {"xsave_byte", VX_COST_KIND_RATE, VX_COST_CAT_XSAVE,
			    "each byte a save writes"},
    [VX_COST_XSAVE_INIT] = {"xsave_init", VX_COST_KIND_TIME, VX_COST_CAT_XSAVE,
			    "each requested component skipped as initial (init optimization)"},
    [VX_COST_XRSTOR_INSN] = {"xrstor_insn", VX_COST_KIND_TIME, VX_COST_CAT_XRSTOR,
			     "fixed part of one restore instruction"},
    [VX_COST_XRSTOR_BYTE] = {"xrstor_byte", VX_COST_KIND_RATE, VX_COST_CAT_XRSTOR,
			     "each byte a restore reads"},
    [VX_COST_XRSTOR_INIT] = {"xrstor_init", VX_COST_KIND_TIME, VX_COST_CAT_XRSTOR,
			     "each component a restore puts in its initial configuration"},
    [VX_COST_SUPERVISOR] = {"supervisor_factor", VX_COST_KIND_RATIO, VX_COST_CAT_COUNT,
			    "byte cost of supervisor components (XSAVES/XRSTORS) over user ones"},
    [VX_COST_RDMSR] = {"rdmsr", VX_COST_KIND_TIME, VX_COST_CAT_MSR, "one RDMSR"},
    [VX_COST_WRMSR] = {"wrmsr", VX_COST_KIND_TIME, VX_COST_CAT_MSR, "one WRMSR"},
    [VX_COST_VMEXIT] = {"vmexit", VX_COST_KIND_TIME, VX_COST_CAT_EXIT,
			"a VM exit handled in KVM and the VM entry back"},
    [VX_COST_EXIT_USER] = {"exit_user", VX_COST_KIND_TIME, VX_COST_CAT_EXIT,
			   "an exit to userspace beyond the KVM_RUN ioctl itself"},
    [VX_COST_KVM_IOCTL] = {"kvm_ioctl", VX_COST_KIND_TIME, VX_COST_CAT_EXIT,
			   "one /dev/kvm ioctl round trip (per KVM_RUN call)"},
    [VX_COST_KERNEL_ENTRY] = {"kernel_entry", VX_COST_KIND_TIME, VX_COST_CAT_NM,
			      "an entry to the kernel and back (per #NM, with RDMSR+WRMSR)"},
    [VX_COST_REALLOC] = {"realloc", VX_COST_KIND_TIME, VX_COST_CAT_REALLOC,
			 "growing an fpstate (allocate, copy, free)"},
    [VX_COST_SWITCH] = {"switch", VX_COST_KIND_TIME, VX_COST_CAT_SWITCH,
			"a context switch without its FPU save and restore"},
};

/* The development machine's calibration (vx_eval_calibrate(), 31 samples per median). */
#define DEV_MACHINE "AMD EPYC family 25 model 1 (Zen 3), XCR0 0x7, kvm_pvm, 2026-12-03"
#define DEV(how)    "vx_eval_calibrate() on " DEV_MACHINE ": " how

static const struct vx_eval_cost_entry default_table[VX_COST_COUNT] = {
    [VX_COST_CLOCK] = {3.0, "GHz", VX_COST_ASSUMED,
		       "a 3 GHz core for converting the published cycle counts; set it to the "
		       "modeled part's clock"},
    [VX_COST_XSAVE_INSN] = {COST_DEV_XSAVE_INSN, "ns", VX_COST_MEASURED,
			    DEV("XSAVEC64 of x87+SSE in use, minus its bytes at xsave_byte")},
    [VX_COST_XSAVE_BYTE] = {COST_DEV_XSAVE_BYTE, "ns/B", VX_COST_MEASURED,
			    DEV("XSAVEC64 with the extra components in use minus without them, "
				"per byte of theirs")},
    [VX_COST_XSAVE_INIT] = {COST_DEV_XSAVE_INIT, "ns", VX_COST_MEASURED,
			    DEV("XSAVEC64 with the extra components in RFBM but initial, minus "
				"without them in RFBM, per component")},
    [VX_COST_XRSTOR_INSN] = {COST_DEV_XRSTOR_INSN, "ns", VX_COST_MEASURED,
			     DEV("XRSTOR64 (compacted) of x87+SSE, minus its bytes at "
				 "xrstor_byte")},
    [VX_COST_XRSTOR_BYTE] = {COST_DEV_XRSTOR_BYTE, "ns/B", VX_COST_MEASURED,
			     DEV("XRSTOR64 loading the extra components minus without them, per "
				 "byte of theirs")},
    [VX_COST_XRSTOR_INIT] = {COST_DEV_XRSTOR_INIT, "ns", VX_COST_MEASURED,
			     DEV("XRSTOR64 initializing the extra components (XSTATE_BV clear) "
				 "minus without them in RFBM, per component")},
    [VX_COST_SUPERVISOR] = {1.007, "x", VX_COST_PUBLISHED,
			    "XSAVES/XRSTORS vs XSAVEOPT/XRSTOR context switch on Zen 3: 579.7 vs "
			    "575.9 ns per futex round trip, median of 5 boots "
			    "(github.com/AlessandroSangiuliano/Uros/issues/561, 2026-09-21)"},
    [VX_COST_RDMSR] = {40, "cycles", VX_COST_PUBLISHED,
		       "RDMSR ~30-50 cycles (midpoint) - 'The Mode-Specific Register', "
		       "newsletter.onedfrk.com, 2026-05-25; an upper bound: 217-279 ns per "
		       "read through /dev/cpu/N/msr, syscall included, on a Ryzen 3950X "
		       "(gist.github.com/iximeow/62c967d2fad28d70aa333f8310bfac4c)"},
    [VX_COST_WRMSR] = {144, "cycles", VX_COST_PUBLISHED,
		       "WRMSR(IA32_SYSENTER_ESP) 144 cycles on bare metal (Core i7, 323 580 "
		       "rdtsc-bracketed samples; 346 under KVM): github.com/AlessandroSangiuliano/"
		       "Uros/issues/348, 2026-06-25; ~100-300 cycles per newsletter.onedfrk.com "
		       "2026-05-25"},
    [VX_COST_VMEXIT] = {1360, "cycles", VX_COST_PUBLISHED,
			"KVM pre-VMRUN to post-VMRUN around a trivial exit, 1344-1376 cycles "
			"(M. Roth, LKML 2020-12-14, lkml.iu.edu/hypermail/linux/kernel/2012.2/"
			"00527.html); SplitX (Landau et al., WIOV 2011) gives 2000 cycles for the "
			"VMX world switch on a Xeon X5570"},
    [VX_COST_EXIT_USER] = {COST_DEV_EXIT_USER, "ns", VX_COST_MEASURED,
			   DEV("KVM_RUN round trip of a real-mode guest's OUT (emulated by "
			       "kvm_pvm) minus kvm_ioctl")},
    [VX_COST_KVM_IOCTL] = {COST_DEV_KVM_IOCTL, "ns", VX_COST_MEASURED,
			   DEV("KVM_CHECK_EXTENSION on a VM descriptor")},
    [VX_COST_KERNEL_ENTRY] = {COST_DEV_KERNEL_ENTRY, "ns", VX_COST_MEASURED,
			      DEV("getppid() round trip")},
    [VX_COST_REALLOC] = {COST_DEV_REALLOC, "ns", VX_COST_MEASURED,
			 DEV("mmap+populate, copy and munmap of 12 KiB (the kernel's vzalloc, "
			     "copy, vfree of an AMX fpstate)")},
    [VX_COST_SWITCH] = {COST_DEV_SWITCH, "ns", VX_COST_MEASURED,
			DEV("pipe ping-pong hand-off between two processes on one CPU "
			    "(will-it-scale context_switch1) minus XSAVEC64+XRSTOR64 of the "
			    "in-use state")},
};

static const char *const category_names[VX_COST_CAT_COUNT] = {
    "xsave", "xrstor", "msr", "exits", "nm", "realloc", "switch",
};

static const char *const origin_names[] = {"measured", "published", "assumed", "override"};

/* The units each kind accepts and their factor to the model's unit (cycles: by the clock). */
struct unit_row {
	enum vx_eval_cost_kind kind;
	const char *name;
	double to_model; /* 0: cycles, divided by the clock in GHz */
};

static const struct unit_row unit_table[] = {
    {VX_COST_KIND_TIME, "ns", 1.0},	  {VX_COST_KIND_TIME, "us", 1000.0},
    {VX_COST_KIND_TIME, "cycles", 0.0},	  {VX_COST_KIND_RATE, "ns/B", 1.0},
    {VX_COST_KIND_RATE, "cycles/B", 0.0}, {VX_COST_KIND_CLOCK, "GHz", 1.0},
    {VX_COST_KIND_RATIO, "x", 1.0},
};

#define NUNITS (sizeof(unit_table) / sizeof(unit_table[0]))

const char *vx_eval_cost_category_name(enum vx_eval_cost_category category)
{
	return (unsigned)category < VX_COST_CAT_COUNT ? category_names[category] : NULL;
}

const char *vx_eval_cost_origin_name(enum vx_eval_cost_origin origin)
{
	return (unsigned)origin <= VX_COST_OVERRIDE ? origin_names[origin] : NULL;
}

const struct vx_eval_cost_info *vx_eval_cost_info(enum vx_eval_cost_id id)
{
	return (unsigned)id < VX_COST_COUNT ? &info_table[id] : NULL;
}

int vx_eval_cost_by_name(const char *name)
{
	for (unsigned i = 0; name && i < VX_COST_COUNT; i++)
		if (strcmp(info_table[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

void vx_eval_cost_table_init(struct vx_eval_cost_table *table)
{
	if (table)
		memcpy(table->entry, default_table, sizeof(default_table));
}

/* The unit row @unit names for @kind, or NULL. */
static const struct unit_row *unit_lookup(enum vx_eval_cost_kind kind, const char *unit)
{
	for (size_t i = 0; unit && i < NUNITS; i++)
		if (unit_table[i].kind == kind && strcmp(unit_table[i].name, unit) == 0)
			return &unit_table[i];
	return NULL;
}

/* "ns, us or cycles" for messages. */
static void kind_units(enum vx_eval_cost_kind kind, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NUNITS; i++)
		if (unit_table[i].kind == kind && used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
						 unit_table[i].name);
}

/* NOLINTNEXTLINE(misc-no-recursion): one level: a cycle count is divided by the clock entry */
double vx_eval_cost_ns(const struct vx_eval_cost_table *table, enum vx_eval_cost_id id)
{
	const struct vx_eval_cost_entry *e;
	const struct unit_row *u;

	if (!table || (unsigned)id >= VX_COST_COUNT)
		return 0;
	e = &table->entry[id];
	u = unit_lookup(info_table[id].kind, e->unit);
	if (!u)
		return 0; /* vx_eval_cost_set() never stores such a unit */
	if (u->to_model > 0)
		return e->value * u->to_model;
	/* cycles (per byte): the clock is in GHz, i.e. cycles per ns. */
	return e->value / vx_eval_cost_ns(table, VX_COST_CLOCK);
}

/* The value rules of one constant (docs/eval.md "Cost model": the override format). */
static int check_value(enum vx_eval_cost_id id, double value, struct vx_error *err)
{
	enum vx_eval_cost_kind kind = info_table[id].kind;

	if (!isfinite(value) || value < 0)
		return vx_error_set(err, -EINVAL, COST_RULE,
				    "%s: %g is not a finite, non-negative number",
				    info_table[id].name, value);
	/* The clock divides cycle counts, and a factor of 0 would erase a whole class. */
	if (value == 0 && (kind == VX_COST_KIND_CLOCK || kind == VX_COST_KIND_RATIO))
		return vx_error_set(err, -EINVAL, COST_RULE, "%s must be greater than 0",
				    info_table[id].name);
	return 0;
}

int vx_eval_cost_set(struct vx_eval_cost_table *table, enum vx_eval_cost_id id, double value,
		     const char *unit, enum vx_eval_cost_origin origin, const char *source,
		     struct vx_error *err)
{
	struct vx_eval_cost_entry *e;
	char units[64];

	if (!table || (unsigned)id >= VX_COST_COUNT || (unsigned)origin > VX_COST_OVERRIDE)
		return vx_error_set(err, -EINVAL, COST_RULE, "no such constant or origin");
	if (!unit_lookup(info_table[id].kind, unit)) {
		kind_units(info_table[id].kind, units, sizeof(units));
		return vx_error_set(err, -EINVAL, COST_RULE, "%s: unit '%s' is not one of %s",
				    info_table[id].name, unit ? unit : "(none)", units);
	}
	if (check_value(id, value, err))
		return -EINVAL;
	e = &table->entry[id];
	e->value = value;
	snprintf(e->unit, sizeof(e->unit), "%s", unit);
	e->origin = origin;
	snprintf(e->source, sizeof(e->source), "%s", source ? source : "");
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* The override format                                                                          */

#define LINE_MAX_BYTES 1024

/* One line's fields: name, value, unit, and the source after '#'. */
struct cost_line {
	char text[LINE_MAX_BYTES];
	char *name, *value, *unit, *extra;
	const char *source;
};

#ifdef __GNUC__
__attribute__((format(printf, 3, 4)))
#endif
static int
line_error(struct vx_error *err, unsigned line, const char *fmt, ...)
{
	char what[VX_ERROR_REASON_MAX];
	int n = snprintf(what, sizeof(what), "line %u: ", line);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what + n, sizeof(what) - (size_t)n, fmt, ap);
	va_end(ap);
	vx_error_set(err, -EINVAL, COST_RULE, "%s", what);
	if (err)
		err->line = line;
	return -EINVAL;
}

static char *next_word(char **cursor)
{
	char *p = *cursor, *start;

	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (!*p) {
		*cursor = p;
		return NULL;
	}
	start = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '\r')
		p++;
	if (*p)
		*p++ = '\0';
	*cursor = p;
	return start;
}

/* Split @line (a copy of one text line) into its fields; the source is trimmed. */
static void split_line(struct cost_line *l)
{
	char *hash = strchr(l->text, '#'), *cursor = l->text;

	l->source = NULL;
	if (hash) {
		*hash++ = '\0';
		while (*hash == ' ' || *hash == '\t')
			hash++;
		for (size_t n = strlen(hash); n && (hash[n - 1] == ' ' || hash[n - 1] == '\r');)
			hash[--n] = '\0';
		l->source = hash;
	}
	l->name = next_word(&cursor);
	l->value = next_word(&cursor);
	l->unit = next_word(&cursor);
	l->extra = next_word(&cursor);
}

static int parse_number(const char *word, double *out)
{
	char *end = NULL;

	errno = 0;
	*out = strtod(word, &end);
	return end == word || *end != '\0' || errno == ERANGE ? -EINVAL : 0;
}

/* Apply one non-empty line to @table; errors name @lineno and the word. */
static int apply_line(struct vx_eval_cost_table *table, struct cost_line *l, unsigned lineno,
		      struct vx_error *err)
{
	char fallback[48];
	double value = 0;
	int id = vx_eval_cost_by_name(l->name);
	struct vx_error why = VX_ERROR_INIT;

	if (id < 0)
		return line_error(err, lineno, "unknown constant '%s'", l->name);
	if (!l->value)
		return line_error(err, lineno, "'%s' needs a value and a unit", l->name);
	if (parse_number(l->value, &value))
		return line_error(err, lineno, "'%s' is not a number", l->value);
	if (!l->unit)
		return line_error(err, lineno, "'%s' needs a unit", l->name);
	if (l->extra)
		return line_error(err, lineno,
				  "unexpected '%s' after the unit (a source starts with '#')",
				  l->extra);
	snprintf(fallback, sizeof(fallback), "override file line %u", lineno);
	if (vx_eval_cost_set(table, (enum vx_eval_cost_id)id, value, l->unit, VX_COST_OVERRIDE,
			     l->source && *l->source ? l->source : fallback, &why))
		return line_error(err, lineno, "%.200s", why.reason);
	return 0;
}

int vx_eval_cost_parse(struct vx_eval_cost_table *table, const char *text, size_t len,
		       struct vx_error *err)
{
	struct vx_eval_cost_table work;
	struct cost_line l;
	unsigned lineno = 0;
	size_t pos = 0;

	if (!table || (!text && len))
		return vx_error_set(err, -EINVAL, COST_RULE, "no table or no text");
	work = *table;
	while (pos < len) {
		size_t end = pos;

		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		if (end - pos >= sizeof(l.text))
			return line_error(err, lineno, "longer than %u bytes", LINE_MAX_BYTES - 1);
		if (memchr(text + pos, '\0', end - pos))
			return line_error(err, lineno, "holds a NUL byte");
		memcpy(l.text, text + pos, end - pos);
		l.text[end - pos] = '\0';
		pos = end + 1;
		split_line(&l);
		if (l.name && apply_line(&work, &l, lineno, err))
			return -EINVAL;
	}
	*table = work;
	return 0;
}

int vx_eval_cost_load(struct vx_eval_cost_table *table, const char *path, struct vx_error *err)
{
	return vx_eval_cost_load_with_platform(table, path, NULL, err);
}

/* The shortest "%.*g" of @v that reads back as @v. */
static void format_double(double v, char *buf, size_t len)
{
	for (int precision = 6; precision <= 17; precision++) {
		snprintf(buf, len, "%.*g", precision, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

size_t vx_eval_cost_format(const struct vx_eval_cost_table *table, char *buf, size_t len)
{
	size_t need = 0;
	char value[32];

	if (!table)
		return 0;
	need +=
	    vx_cost_append(buf, len, need,
			   "# vxsave cost model constants: name value unit # origin: source\n"
			   "# (docs/eval.md \"Cost model\"; units: ns us cycles ns/B cycles/B GHz "
			   "x)\n");
	for (unsigned i = 0; i < VX_COST_COUNT; i++) {
		const struct vx_eval_cost_entry *e = &table->entry[i];

		format_double(e->value, value, sizeof(value));
		need += vx_cost_append(buf, len, need, "%-18s %-10s %-8s # %s: %s\n",
				       info_table[i].name, value, e->unit,
				       vx_eval_cost_origin_name(e->origin), e->source);
	}
	return need;
}
