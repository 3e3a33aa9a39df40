/* SPDX-License-Identifier: MIT */
/*
 * eval layer: the cost model (issue 9, docs/eval.md "Cost model").  The table is complete
 * (every constant named, with a unit its kind accepts and a source; published figures dated),
 * units convert as documented, the override format parses with errors naming the line and
 * the word and leaves the table unchanged, it round-trips, modeled time of hand-built counts
 * equals the sum computed by hand, and calibration on this machine returns sane values
 * (positive; in use >= initial) and says why for what it cannot measure.
 */
#define _GNU_SOURCE /* mkstemp, truncate */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* cmocka needs these first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <vxsave/eval_cost.h>

#include "eval_test_util.h"

static bool close_to(double a, double b)
{
	double scale = fabs(b) > 1.0 ? fabs(b) : 1.0;

	return fabs(a - b) <= 1e-9 * scale;
}

/* A dated citation: a year 19xx/20xx somewhere in the text. */
static bool has_year(const char *s)
{
	for (; s[0] && s[1] && s[2] && s[3]; s++)
		if ((s[0] == '1' && s[1] == '9') || (s[0] == '2' && s[1] == '0'))
			if (s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9')
				return true;
	return false;
}

static void test_table_complete(void **state)
{
	struct vx_eval_cost_table t;
	bool category_used[VX_COST_CAT_COUNT] = {false};

	(void)state;
	vx_eval_cost_table_init(&t);
	for (unsigned i = 0; i < VX_COST_COUNT; i++) {
		const struct vx_eval_cost_info *info = vx_eval_cost_info((enum vx_eval_cost_id)i);
		const struct vx_eval_cost_entry *e = &t.entry[i];
		struct vx_eval_cost_table copy = t;

		assert_non_null(info);
		assert_true(info->name[0] && info->meaning[0]);
		assert_int_equal(vx_eval_cost_by_name(info->name), (int)i);
		/* The unit is one the constant's kind accepts: setting it back is accepted. */
		assert_int_equal(vx_eval_cost_set(&copy, (enum vx_eval_cost_id)i, e->value, e->unit,
						  e->origin, e->source, NULL),
				 0);
		assert_memory_equal(&copy, &t, sizeof(t));
		assert_true(strlen(e->source) > 20);
		assert_non_null(vx_eval_cost_origin_name(e->origin));
		/* A published figure names when and where it was published. */
		if (e->origin == VX_COST_PUBLISHED)
			assert_true(has_year(e->source));
		if (e->origin == VX_COST_MEASURED)
			assert_non_null(strstr(e->source, "vx_eval_calibrate()"));
		assert_true(vx_eval_cost_ns(&t, (enum vx_eval_cost_id)i) >= 0);
		if (info->category < VX_COST_CAT_COUNT)
			category_used[info->category] = true;
	}
	/* Every category of the breakdown has a constant, and each has a name. */
	for (unsigned c = 0; c < VX_COST_CAT_COUNT; c++) {
		assert_true(category_used[c]);
		assert_non_null(vx_eval_cost_category_name((enum vx_eval_cost_category)c));
	}
	assert_null(vx_eval_cost_category_name(VX_COST_CAT_COUNT));
	assert_null(vx_eval_cost_info(VX_COST_COUNT));
	assert_int_equal(vx_eval_cost_by_name("no_such_constant"), -ENOENT);
	assert_int_equal(vx_eval_cost_by_name(NULL), -ENOENT);
	/* The issue: MSR access and VM exits are published figures; XSAVE costs measured. */
	assert_int_equal(t.entry[VX_COST_RDMSR].origin, VX_COST_PUBLISHED);
	assert_int_equal(t.entry[VX_COST_WRMSR].origin, VX_COST_PUBLISHED);
	assert_int_equal(t.entry[VX_COST_VMEXIT].origin, VX_COST_PUBLISHED);
	assert_int_equal(t.entry[VX_COST_SUPERVISOR].origin, VX_COST_PUBLISHED);
	assert_int_equal(t.entry[VX_COST_XSAVE_BYTE].origin, VX_COST_MEASURED);
	assert_int_equal(t.entry[VX_COST_EXIT_USER].origin, VX_COST_MEASURED);
}

static void test_units_convert(void **state)
{
	struct vx_eval_cost_table t;

	(void)state;
	vx_eval_cost_table_init(&t);
	assert_int_equal(
	    vx_eval_cost_set(&t, VX_COST_CLOCK, 2.5, "GHz", VX_COST_ASSUMED, "x", NULL), 0);
	/* 300 cycles at 2.5 GHz = 120 ns; 2 us = 2000 ns; 5 cycles/B at 2.5 GHz = 2 ns/B. */
	assert_int_equal(
	    vx_eval_cost_set(&t, VX_COST_WRMSR, 300, "cycles", VX_COST_PUBLISHED, "x", NULL), 0);
	assert_true(close_to(vx_eval_cost_ns(&t, VX_COST_WRMSR), 120));
	assert_int_equal(
	    vx_eval_cost_set(&t, VX_COST_REALLOC, 2, "us", VX_COST_OVERRIDE, NULL, NULL), 0);
	assert_true(close_to(vx_eval_cost_ns(&t, VX_COST_REALLOC), 2000));
	assert_string_equal(t.entry[VX_COST_REALLOC].source, "");
	assert_int_equal(
	    vx_eval_cost_set(&t, VX_COST_XSAVE_BYTE, 5, "cycles/B", VX_COST_OVERRIDE, "x", NULL),
	    0);
	assert_true(close_to(vx_eval_cost_ns(&t, VX_COST_XSAVE_BYTE), 2));
	assert_true(close_to(vx_eval_cost_ns(&t, VX_COST_CLOCK), 2.5));
	assert_true(close_to(vx_eval_cost_ns(NULL, VX_COST_CLOCK), 0));
	assert_true(close_to(vx_eval_cost_ns(&t, VX_COST_COUNT), 0));
}

static void expect_set_error(enum vx_eval_cost_id id, double value, const char *unit,
			     const char *words)
{
	struct vx_eval_cost_table t, before;
	struct vx_error err = VX_ERROR_INIT;

	vx_eval_cost_table_init(&t);
	before = t;
	assert_int_equal(vx_eval_cost_set(&t, id, value, unit, VX_COST_OVERRIDE, "s", &err),
			 -EINVAL);
	assert_memory_equal(&t, &before, sizeof(t));
	assert_non_null(strstr(err.reason, words));
}

static void test_set_refuses(void **state)
{
	(void)state;
	expect_set_error(VX_COST_RDMSR, 10, "ns/B", "unit 'ns/B' is not one of ns, us, cycles");
	expect_set_error(VX_COST_XSAVE_BYTE, 1, "ns", "unit 'ns' is not one of ns/B, cycles/B");
	expect_set_error(VX_COST_CLOCK, 1, "MHz", "not one of GHz");
	expect_set_error(VX_COST_RDMSR, 10, NULL, "unit '(none)'");
	expect_set_error(VX_COST_RDMSR, -1, "ns", "rdmsr: -1 is not a finite, non-negative");
	expect_set_error(VX_COST_RDMSR, NAN, "ns", "not a finite");
	expect_set_error(VX_COST_RDMSR, INFINITY, "ns", "not a finite");
	expect_set_error(VX_COST_CLOCK, 0, "GHz", "clock must be greater than 0");
	expect_set_error(VX_COST_SUPERVISOR, 0, "x", "supervisor_factor must be greater than 0");
	expect_set_error(VX_COST_COUNT, 1, "ns", "no such constant");
}

static void test_parse_overrides(void **state)
{
	static const char text[] = "# my machine\n"
				   "\n"
				   "  rdmsr 120 cycles   # measured with perf on box A, 2026\r\n"
				   "vmexit\t0.9\tus\n"
				   "xsave_byte 0.03 ns/B #\n"
				   "clock 2 GHz # box A base clock\n";
	struct vx_eval_cost_table t, defaults;
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	vx_eval_cost_table_init(&t);
	defaults = t;
	assert_int_equal(vx_eval_cost_parse(&t, text, strlen(text), &err), 0);
	assert_int_equal(t.entry[VX_COST_RDMSR].origin, VX_COST_OVERRIDE);
	assert_string_equal(t.entry[VX_COST_RDMSR].source, "measured with perf on box A, 2026");
	assert_true(close_to(vx_eval_cost_ns(&t, VX_COST_RDMSR), 60)); /* 120 cycles at 2 GHz */
	assert_true(close_to(vx_eval_cost_ns(&t, VX_COST_VMEXIT), 900));
	assert_string_equal(t.entry[VX_COST_VMEXIT].source, "override file line 4");
	assert_string_equal(t.entry[VX_COST_XSAVE_BYTE].source, "override file line 5");
	assert_true(close_to(vx_eval_cost_ns(&t, VX_COST_XSAVE_BYTE), 0.03));
	/* Untouched constants keep their values and origins. */
	assert_memory_equal(&t.entry[VX_COST_SWITCH], &defaults.entry[VX_COST_SWITCH],
			    sizeof(t.entry[0]));
	/* An empty file changes nothing. */
	assert_int_equal(vx_eval_cost_parse(&t, "", 0, &err), 0);
}

/* @text fails at @line with every one of the words in the reason; the table is unchanged. */
static void expect_parse_error(const char *text, unsigned line, const char *w1, const char *w2)
{
	struct vx_eval_cost_table t, before;
	struct vx_error err = VX_ERROR_INIT;
	char at[32];

	vx_eval_cost_table_init(&t);
	before = t;
	assert_int_equal(vx_eval_cost_parse(&t, text, strlen(text), &err), -EINVAL);
	assert_memory_equal(&t, &before, sizeof(t));
	assert_int_equal(err.line, line);
	snprintf(at, sizeof(at), "line %u: ", line);
	assert_non_null(strstr(err.reason, at));
	assert_non_null(strstr(err.reason, w1));
	if (w2)
		assert_non_null(strstr(err.reason, w2));
}

static void test_parse_errors_name_the_line(void **state)
{
	(void)state;
	/* The first two lines are valid: a later error must not leave them applied. */
	expect_parse_error("rdmsr 1 ns\nwrmsr 2 ns\nwrmrs 3 ns\n", 3, "unknown constant",
			   "'wrmrs'");
	expect_parse_error("# c\nrdmsr 12x ns\n", 2, "'12x' is not a number", NULL);
	expect_parse_error("rdmsr\n", 1, "'rdmsr' needs a value and a unit", NULL);
	expect_parse_error("\n\nrdmsr 5\n", 3, "'rdmsr' needs a unit", NULL);
	expect_parse_error("rdmsr 5 ns extra # s\n", 1, "unexpected 'extra'", NULL);
	expect_parse_error("xsave_byte 5 ns\n", 1, "unit 'ns' is not one of", "xsave_byte");
	expect_parse_error("rdmsr -5 ns\n", 1, "not a finite, non-negative", NULL);
	expect_parse_error("rdmsr 1e999 ns\n", 1, "'1e999' is not a number", NULL);
	expect_parse_error("clock 0 GHz\n", 1, "clock must be greater than 0", NULL);

	char nul[] = "rdmsr 1 ns\nwrmsr 2\0 ns\n";

	struct vx_eval_cost_table t;
	struct vx_error err = VX_ERROR_INIT;

	vx_eval_cost_table_init(&t);
	assert_int_equal(vx_eval_cost_parse(&t, nul, sizeof(nul) - 1, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.reason, "NUL"));
	assert_int_equal(vx_eval_cost_parse(NULL, "", 0, &err), -EINVAL);
	assert_int_equal(vx_eval_cost_parse(&t, NULL, 3, &err), -EINVAL);
}

static void test_format_round_trips(void **state)
{
	struct vx_eval_cost_table t, back;
	struct vx_error err = VX_ERROR_INIT;
	char buf[16384];
	size_t need;

	(void)state;
	vx_eval_cost_table_init(&t);
	/* Values that need every digit. */
	vx_eval_cost_set(&t, VX_COST_XSAVE_BYTE, 0.1, "ns/B", VX_COST_OVERRIDE, "a", NULL);
	vx_eval_cost_set(&t, VX_COST_REALLOC, 123456.789012345, "ns", VX_COST_OVERRIDE, "b", NULL);
	vx_eval_cost_set(&t, VX_COST_RDMSR, 1e-7, "us", VX_COST_OVERRIDE, "c", NULL);
	need = vx_eval_cost_format(&t, buf, sizeof(buf));
	assert_true(need < sizeof(buf));
	assert_int_equal(strlen(buf), need);
	assert_int_equal(vx_eval_cost_format(&t, NULL, 0), need);
	/* Every constant is one line: "name value unit # origin: source". */
	for (unsigned i = 0; i < VX_COST_COUNT; i++) {
		char line[64];

		snprintf(line, sizeof(line), "\n%s ",
			 vx_eval_cost_info((enum vx_eval_cost_id)i)->name);
		assert_non_null(strstr(buf, line));
	}
	back = t;
	vx_eval_cost_table_init(&back);
	assert_int_equal(vx_eval_cost_parse(&back, buf, need, &err), 0);
	for (unsigned i = 0; i < VX_COST_COUNT; i++) {
		assert_true(back.entry[i].value == t.entry[i].value);
		assert_string_equal(back.entry[i].unit, t.entry[i].unit);
		assert_int_equal(back.entry[i].origin, VX_COST_OVERRIDE);
		/* The source keeps the original origin and text. */
		assert_non_null(strstr(back.entry[i].source, t.entry[i].source));
	}
	/* A short buffer gets a terminated prefix and the needed length. */
	assert_int_equal(vx_eval_cost_format(&t, buf, 10), need);
	assert_int_equal(strlen(buf), 9);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/vxsave_cost_XXXXXX";
	struct vx_eval_cost_table t;
	struct vx_error err = VX_ERROR_INIT;
	int fd = mkstemp(path);
	static const char text[] = "wrmsr 1 us # file\nbogus 1 ns\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	vx_eval_cost_table_init(&t);
	assert_int_equal(vx_eval_cost_load(&t, path, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_int_equal(truncate(path, 18), 0);
	assert_int_equal(vx_eval_cost_load(&t, path, &err), 0);
	assert_true(close_to(vx_eval_cost_ns(&t, VX_COST_WRMSR), 1000));
	unlink(path);
	assert_int_equal(vx_eval_cost_load(&t, path, &err), -ENOENT);
	assert_non_null(strstr(err.reason, path));
	assert_int_equal(vx_eval_cost_load(&t, "/", &err), -EISDIR);
}

/* The hand-built counts of docs/eval.md's worked example, with round constants. */
static void hand_table(struct vx_eval_cost_table *t)
{
	static const struct {
		enum vx_eval_cost_id id;
		double value;
		const char *unit;
	} rows[] = {
	    {VX_COST_CLOCK, 3, "GHz"},	       {VX_COST_XSAVE_INSN, 10, "ns"},
	    {VX_COST_XSAVE_BYTE, 0.5, "ns/B"}, {VX_COST_XSAVE_INIT, 2, "ns"},
	    {VX_COST_XRSTOR_INSN, 20, "ns"},   {VX_COST_XRSTOR_BYTE, 0.25, "ns/B"},
	    {VX_COST_XRSTOR_INIT, 3, "ns"},    {VX_COST_SUPERVISOR, 2, "x"},
	    {VX_COST_RDMSR, 90, "cycles"},     {VX_COST_WRMSR, 300, "cycles"},
	    {VX_COST_VMEXIT, 1500, "cycles"},  {VX_COST_EXIT_USER, 4, "us"},
	    {VX_COST_KVM_IOCTL, 300, "ns"},    {VX_COST_KERNEL_ENTRY, 150, "ns"},
	    {VX_COST_REALLOC, 5000, "ns"},     {VX_COST_SWITCH, 1000, "ns"},
	};

	vx_eval_cost_table_init(t);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(vx_eval_cost_set(t, rows[i].id, rows[i].value, rows[i].unit,
						  VX_COST_OVERRIDE, "test", NULL),
				 0);
}

static void test_model_hand_computed(void **state)
{
	struct vx_eval_cost_table t;
	struct vx_eval_cost_counts c;
	struct vx_eval_cost_breakdown b;

	(void)state;
	hand_table(&t);
	memset(&c, 0, sizeof(c));
	c.operations = 4;
	c.saves = 3;
	c.save_bytes[VX_COST_BYTES_USER] = 1000;
	c.save_bytes[VX_COST_BYTES_SUPERVISOR] = 100;
	c.save_init_components = 4;
	c.restores = 2;
	c.restore_bytes[VX_COST_BYTES_USER] = 800;
	c.restore_bytes[VX_COST_BYTES_SUPERVISOR] = 50;
	c.restore_init_components = 1;
	c.msr_reads[VX_COST_MSR_CET_SSP] = 3;
	c.msr_reads[VX_COST_MSR_GUEST] = 1;
	c.msr_reads[VX_COST_MSR_OTHER] = 2;
	c.msr_writes[VX_COST_MSR_CET_SSP] = 6;
	c.msr_writes[VX_COST_MSR_OTHER] = 1;
	c.exits_kernel = 5;
	c.msr_intercepts = 2;
	c.exits_user = 2;
	c.kvm_runs = 3;
	c.nm_events = 1;
	c.reallocs = 1;
	c.context_switches = 4;
	vx_eval_cost_model(&t, &c, &b);
	/* 3·10 + 1000·0.5 + 100·0.5·2 + 4·2 */
	assert_true(close_to(b.ns[VX_COST_CAT_XSAVE], 638));
	/* 2·20 + 800·0.25 + 50·0.25·2 + 1·3 */
	assert_true(close_to(b.ns[VX_COST_CAT_XRSTOR], 268));
	/* rdmsr 90 cycles / 3 GHz = 30 ns, wrmsr 100 ns: 6·30 + 7·100 */
	assert_true(close_to(b.ns[VX_COST_CAT_MSR], 880));
	/* vmexit 500 ns: 5·500 + 2·4000 + 3·300 (the 2 intercepts are among the 5 exits) */
	assert_true(close_to(b.ns[VX_COST_CAT_EXIT], 11400));
	/* 150 + 30 + 100 */
	assert_true(close_to(b.ns[VX_COST_CAT_NM], 280));
	assert_true(close_to(b.ns[VX_COST_CAT_REALLOC], 5000));
	assert_true(close_to(b.ns[VX_COST_CAT_SWITCH], 4000));
	assert_true(close_to(b.total_ns, 22466));
	assert_true(close_to(b.per_operation_ns, 5616.5));

	/* No operations: no per-operation figure; NULL anything: all zero. */
	c.operations = 0;
	vx_eval_cost_model(&t, &c, &b);
	assert_true(close_to(b.per_operation_ns, 0));
	assert_true(close_to(b.total_ns, 22466));
	vx_eval_cost_model(&t, NULL, &b);
	assert_true(close_to(b.total_ns, 0));
	vx_eval_cost_model(NULL, &c, &b);
	assert_true(close_to(b.total_ns, 0));
	vx_eval_cost_model(&t, &c, NULL);
}

/* Every count is costed exactly once: one unit of each count alone gives its constant(s). */
static void test_model_each_count(void **state)
{
	struct vx_eval_cost_table t;
	struct vx_eval_cost_breakdown b;
	/* The hand table's unit costs per count, in struct order (ns, by hand). */
	static const struct {
		size_t offset;
		double ns;
		enum vx_eval_cost_category cat;
	} rows[] = {
	    {offsetof(struct vx_eval_cost_counts, saves), 10, VX_COST_CAT_XSAVE},
	    {offsetof(struct vx_eval_cost_counts, restores), 20, VX_COST_CAT_XRSTOR},
	    {offsetof(struct vx_eval_cost_counts, save_bytes[0]), 0.5, VX_COST_CAT_XSAVE},
	    {offsetof(struct vx_eval_cost_counts, save_bytes[1]), 1.0, VX_COST_CAT_XSAVE},
	    {offsetof(struct vx_eval_cost_counts, restore_bytes[0]), 0.25, VX_COST_CAT_XRSTOR},
	    {offsetof(struct vx_eval_cost_counts, restore_bytes[1]), 0.5, VX_COST_CAT_XRSTOR},
	    {offsetof(struct vx_eval_cost_counts, save_init_components), 2, VX_COST_CAT_XSAVE},
	    {offsetof(struct vx_eval_cost_counts, restore_init_components), 3, VX_COST_CAT_XRSTOR},
	    {offsetof(struct vx_eval_cost_counts, msr_reads[0]), 30, VX_COST_CAT_MSR},
	    {offsetof(struct vx_eval_cost_counts, msr_reads[1]), 30, VX_COST_CAT_MSR},
	    {offsetof(struct vx_eval_cost_counts, msr_reads[2]), 30, VX_COST_CAT_MSR},
	    {offsetof(struct vx_eval_cost_counts, msr_writes[0]), 100, VX_COST_CAT_MSR},
	    {offsetof(struct vx_eval_cost_counts, msr_writes[1]), 100, VX_COST_CAT_MSR},
	    {offsetof(struct vx_eval_cost_counts, msr_writes[2]), 100, VX_COST_CAT_MSR},
	    {offsetof(struct vx_eval_cost_counts, exits_kernel), 500, VX_COST_CAT_EXIT},
	    {offsetof(struct vx_eval_cost_counts, msr_intercepts), 0, VX_COST_CAT_EXIT},
	    {offsetof(struct vx_eval_cost_counts, exits_user), 4000, VX_COST_CAT_EXIT},
	    {offsetof(struct vx_eval_cost_counts, kvm_runs), 300, VX_COST_CAT_EXIT},
	    {offsetof(struct vx_eval_cost_counts, nm_events), 280, VX_COST_CAT_NM},
	    {offsetof(struct vx_eval_cost_counts, reallocs), 5000, VX_COST_CAT_REALLOC},
	    {offsetof(struct vx_eval_cost_counts, context_switches), 1000, VX_COST_CAT_SWITCH},
	};

	(void)state;
	hand_table(&t);
	/* Every field but @operations is in the list. */
	assert_int_equal(sizeof(rows) / sizeof(rows[0]) + 1,
			 sizeof(struct vx_eval_cost_counts) / sizeof(uint64_t));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vx_eval_cost_counts c;
		uint64_t seven = 7;

		memset(&c, 0, sizeof(c));
		memcpy((char *)&c + rows[i].offset, &seven, sizeof(seven));
		vx_eval_cost_model(&t, &c, &b);
		assert_true(close_to(b.total_ns, 7 * rows[i].ns));
		assert_true(close_to(b.ns[rows[i].cat], 7 * rows[i].ns));
	}
}

/* Every counter of struct vx_eval_counters lands where docs/eval.md "Cost model" says. */
static void test_counts_from_eval(void **state)
{
	struct vx_eval_counters c;
	struct vx_eval_cost_counts k;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.context_switches = 7;
	c.host_xsaves = 11;
	c.guest_xsaves = 13;
	c.host_xrstors = 17;
	c.guest_xrstors = 19;
	c.host_bytes_saved = 1000;
	c.guest_bytes_saved = 2000;
	c.host_bytes_restored = 3000;
	c.guest_bytes_restored = 4000;
	c.kvm_msr_reads = 23;
	c.kvm_msr_writes = 29;
	c.guest_msr_reads = 31;
	c.guest_msr_writes = 37;
	c.guest_msr_read_exits = 41;
	c.guest_msr_write_exits = 43;
	c.msr_write_intercepts = 43;
	c.exits_kernel = 100;
	c.exits_user = 47;
	c.kvm_runs = 53;
	c.host_nm_events = 59;
	c.guest_nm_events = 61;
	c.host_reallocs = 67;
	c.guest_reallocs = 71;
	/* Not costs: */
	c.steps = 9999;
	c.user_return_notifiers = 5;
	c.design_losses = 3;
	vx_eval_cost_counts_from_eval(&c, 7, &k);
	assert_int_equal(k.operations, 7);
	assert_int_equal(k.saves, 24);
	assert_int_equal(k.restores, 36);
	assert_int_equal(k.save_bytes[VX_COST_BYTES_USER], 3000);
	assert_int_equal(k.restore_bytes[VX_COST_BYTES_USER], 7000);
	assert_int_equal(k.save_bytes[VX_COST_BYTES_SUPERVISOR], 0);
	assert_int_equal(k.restore_bytes[VX_COST_BYTES_SUPERVISOR], 0);
	assert_int_equal(k.save_init_components + k.restore_init_components, 0);
	assert_int_equal(k.msr_reads[VX_COST_MSR_CET_SSP], 23);
	assert_int_equal(k.msr_writes[VX_COST_MSR_CET_SSP], 29);
	assert_int_equal(k.msr_reads[VX_COST_MSR_GUEST], 31);
	assert_int_equal(k.msr_writes[VX_COST_MSR_GUEST], 37);
	assert_int_equal(k.msr_reads[VX_COST_MSR_OTHER] + k.msr_writes[VX_COST_MSR_OTHER], 0);
	/* The 84 intercepts are among the 100 exits handled in KVM: not added again. */
	assert_int_equal(k.exits_kernel, 100);
	assert_int_equal(k.msr_intercepts, 84);
	assert_int_equal(k.exits_user, 47);
	assert_int_equal(k.kvm_runs, 53);
	assert_int_equal(k.nm_events, 120);
	assert_int_equal(k.reallocs, 138);
	assert_int_equal(k.context_switches, 7);
	vx_eval_cost_counts_from_eval(NULL, 7, &k);
	assert_int_equal(k.saves + k.operations, 0);
	vx_eval_cost_counts_from_eval(&c, 7, NULL);
}

static void modeled(const struct vx_profile *p, enum vx_kvm_cet_design d,
		    const struct vx_eval_workload *w, struct vx_eval_cost_breakdown *b)
{
	struct vx_eval_result *r = malloc(sizeof(*r));
	struct vx_eval_cost_table t;
	struct vx_eval_cost_counts k;

	assert_non_null(r);
	assert_true(et_run(p, d, w, 7, NULL, r) != VX_EVAL_VIOLATION);
	vx_eval_cost_table_init(&t);
	vx_eval_cost_counts_from_eval(&r->run, r->run.context_switches, &k);
	vx_eval_cost_model(&t, &k, b);
	free(r);
}

/*
 * The seeds' claim through the model, on sapphire-rapids: with CET_S in its initial
 * configuration XSAVES writes nothing for it (arch.md §5.4 init optimization), so all-tasks
 * costs exactly what guest-only costs per context switch; a kvm-* design pays KVM's PL0-2_SSP
 * MSR swaps around vCPU runs that the XSAVE-managed designs do not.
 */
static void test_designs_modeled_on_spr(void **state)
{
	struct vx_eval_workload cs = et_workload("context-switch"), ex = et_workload("vcpu-exits");
	struct vx_eval_cost_breakdown guest_only, all_tasks, eager;
	struct vx_profile p;

	(void)state;
	et_profile(&p, "sapphire-rapids");
	cs.steps = 200;
	modeled(&p, VX_KVM_CET_GUEST_ONLY, &cs, &guest_only);
	modeled(&p, VX_KVM_CET_ALL_TASKS, &cs, &all_tasks);
	assert_true(guest_only.ns[VX_COST_CAT_XSAVE] > 0 && guest_only.ns[VX_COST_CAT_SWITCH] > 0);
	assert_true(close_to(all_tasks.total_ns, guest_only.total_ns));
	assert_true(close_to(all_tasks.per_operation_ns, guest_only.per_operation_ns));
	printf("  context-switch on SPR: %.1f ns per switch modeled in guest-only and all-tasks\n",
	       guest_only.per_operation_ns);
	ex.steps = 40;
	modeled(&p, VX_KVM_CET_GUEST_ONLY, &ex, &guest_only);
	modeled(&p, VX_KVM_CET_KVM_EAGER, &ex, &eager);
	assert_true(guest_only.ns[VX_COST_CAT_EXIT] > 0);
	assert_true(eager.ns[VX_COST_CAT_MSR] > guest_only.ns[VX_COST_CAT_MSR]);
}

static void print_init(const struct vx_eval_calibration *cal)
{
	for (unsigned i = 0; i < VX_CAL_INSN_COUNT; i++) {
		const struct vx_eval_cal_init *r = &cal->init[i];

		if (!r->measured) {
			printf("SKIP: %s: %s\n", vx_eval_cal_insn_name((enum vx_eval_cal_insn)i),
			       r->why);
			continue;
		}
		printf("  %-10s base %6.1f ns  +%u initial %6.1f ns  +%u in use %6.1f ns  per "
		       "component: initial %+5.1f ns, in use %+5.1f ns\n",
		       vx_eval_cal_insn_name((enum vx_eval_cal_insn)i), r->base_ns,
		       cal->extra_count, r->init_ns, cal->extra_count, r->in_use_ns,
		       r->init_per_component_ns, r->in_use_per_component_ns);
	}
}

static void check_value(const char *name, const struct vx_eval_cal_value *v)
{
	if (!v->measured) {
		printf("SKIP: %s: %s\n", name, v->why);
		assert_true(v->why[0] != '\0');
		return;
	}
	printf("  %-12s %10.2f ns\n", name, v->ns);
	assert_true(isfinite(v->ns) && v->ns >= 0);
}

static void test_calibrate_here(void **state)
{
	struct vx_eval_calibrate_options o = {15, false, false};
	struct vx_eval_calibration cal;
	struct vx_eval_cost_table t, before;
	struct vx_error err = VX_ERROR_INIT;
	int rc;

	(void)state;
	vx_eval_cost_table_init(&t);
	before = t;
	rc = vx_eval_calibrate(&t, &o, &cal, &err);
	if (rc == -ENOTSUP) {
		printf("SKIP: calibration: %s\n", err.reason);
		assert_memory_equal(&t, &before, sizeof(t));
		return;
	}
	assert_int_equal(rc, 0);
	printf("  calibration on %s, XCR0 0x%llx, extra components 0x%llx\n", cal.cpu,
	       (unsigned long long)cal.xcr0, (unsigned long long)cal.extra_mask);
	print_init(&cal);
	/* XSAVES is CPL0-only: never measured here, and says so. */
	assert_false(cal.init[VX_CAL_XSAVES].measured);
	assert_non_null(strstr(cal.init[VX_CAL_XSAVES].why, "CPL0"));
	for (unsigned i = 0; i < VX_CAL_INSN_COUNT; i++) {
		const struct vx_eval_cal_init *r = &cal.init[i];

		if (!r->measured) {
			assert_true(r->why[0] != '\0');
			continue;
		}
		/* Only sanity here: how the times compare is the benchmark's to report
		 * (bench_eval.c), never a timed test's to assert (it fails under load). */
		assert_true(r->base_ns >= 0 && r->init_ns >= 0 && r->in_use_ns >= 0);
	}
	check_value("xsave_insn", &cal.xsave_insn);
	check_value("xsave_byte", &cal.xsave_byte);
	check_value("xrstor_insn", &cal.xrstor_insn);
	check_value("xrstor_byte", &cal.xrstor_byte);
	check_value("kvm_run", &cal.kvm_run);
	check_value("kvm_ioctl", &cal.kvm_ioctl);
	check_value("syscall", &cal.syscall);
	check_value("realloc", &cal.realloc);
	check_value("handoff", &cal.handoff);
	check_value("switch_rest", &cal.switch_rest);
	assert_true(cal.syscall.measured && cal.syscall.ns > 0);
	assert_true(cal.realloc.measured && cal.realloc.ns > 0);
	if (cal.kvm_run.measured)
		assert_true(cal.kvm_run.ns > 0 && cal.kvm_ioctl.ns > 0);
	/* What was measured went into the table, naming this machine. */
	if (cal.xsave_byte.measured) {
		assert_int_equal(t.entry[VX_COST_XSAVE_BYTE].origin, VX_COST_MEASURED);
		assert_non_null(strstr(t.entry[VX_COST_XSAVE_BYTE].source, "here ("));
		assert_true(close_to(vx_eval_cost_ns(&t, VX_COST_XSAVE_BYTE), cal.xsave_byte.ns));
	}
	assert_true(close_to(vx_eval_cost_ns(&t, VX_COST_KERNEL_ENTRY), cal.syscall.ns));
	/* Published figures are left alone. */
	assert_memory_equal(&t.entry[VX_COST_WRMSR], &before.entry[VX_COST_WRMSR],
			    sizeof(t.entry[0]));
}

static void test_calibrate_skips_and_refuses(void **state)
{
	struct vx_eval_calibrate_options o = {5, true, true};
	struct vx_eval_calibration cal;
	struct vx_eval_cost_table t, before;
	struct vx_error err = VX_ERROR_INIT;
	int rc;

	(void)state;
	vx_eval_cost_table_init(&t);
	rc = vx_eval_calibrate(&t, &o, &cal, &err);
	if (rc == 0) {
		/* Skipped parts say so and leave their constants alone. */
		assert_false(cal.kvm_run.measured);
		assert_non_null(strstr(cal.kvm_run.why, "skip_kvm"));
		assert_false(cal.handoff.measured);
		assert_non_null(strstr(cal.handoff.why, "skip_switch"));
		vx_eval_cost_table_init(&before);
		assert_memory_equal(&t.entry[VX_COST_EXIT_USER], &before.entry[VX_COST_EXIT_USER],
				    sizeof(t.entry[0]));
		assert_memory_equal(&t.entry[VX_COST_SWITCH], &before.entry[VX_COST_SWITCH],
				    sizeof(t.entry[0]));
	} else {
		assert_int_equal(rc, -ENOTSUP);
	}
	o.samples = 1000;
	assert_int_equal(vx_eval_calibrate(&t, &o, &cal, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "1000 samples"));
	assert_int_equal(vx_eval_calibrate(&t, NULL, NULL, &err), -EINVAL);
	assert_string_equal(vx_eval_cal_insn_name(VX_CAL_XSAVEC), "XSAVEC64");
	assert_null(vx_eval_cal_insn_name(VX_CAL_INSN_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_complete),
	    cmocka_unit_test(test_units_convert),
	    cmocka_unit_test(test_set_refuses),
	    cmocka_unit_test(test_parse_overrides),
	    cmocka_unit_test(test_parse_errors_name_the_line),
	    cmocka_unit_test(test_format_round_trips),
	    cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_model_hand_computed),
	    cmocka_unit_test(test_model_each_count),
	    cmocka_unit_test(test_counts_from_eval),
	    cmocka_unit_test(test_designs_modeled_on_spr),
	    cmocka_unit_test(test_calibrate_here),
	    cmocka_unit_test(test_calibrate_skips_and_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
