/* SPDX-License-Identifier: MIT */
/*
 * The script grammar engine (tools/vxsave/script_grammar.c) on a small table of its own:
 * tokenizing (';', comments, columns), each argument kind accepting and refusing a word with
 * the right message, line and column, unknown statements with "did you mean", arity errors,
 * groups, facts (`expect` needing an operation), expectation counting, and a second table
 * mixed into a `vxsave cpu` script (how fpu and kvm statements will join).  Then the cpu
 * table itself: every statement is documented in docs/cpu-script.md and listed by --help.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vxsave/vxsave.h>

#include "cpu_script_internal.h"
#include "fpu_script.h"
#include "kvm_script.h"
#include "script_grammar.h"

/* The CLI's name in messages (tools/vxsave/main.c, which is not linked here). */
const char cli_program_name[] = "vxsave";

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ----------------------------------------------------------------------------------------- */
/* A test language                                                                              */

struct t_stmt {
	uint64_t number;
	uint32_t u32;
	uint64_t mask;
	uint64_t choice;
	bool negate;
	bool has_select;
	uint64_t select;
	uint32_t msr;
	const struct vx_reg_info *reg;
	struct sg_fault fault;
	uint64_t features;
	struct sg_bytes value;
};

#define T_AT(field) SG_AT(struct t_stmt, field)

enum { T_FACT_OP = 1 };

struct t_context {
	unsigned ran;
	uint64_t last_number;
};

static int t_run(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	struct t_context *t = context;

	(void)r;
	t->ran++;
	t->last_number = ((const struct t_stmt *)stmt->payload)->number;
	return 0;
}

static int t_fail(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	(void)context, (void)stmt;
	return sg_run_error(r, -EDOM, "expectation failed");
}

static bool t_fallback(void *context, const char *word)
{
	(void)context;
	return word[0] == '@';
}

static const struct sg_choice colours[] = {{"red", 1}, {"green", 2}, {NULL, 0}};

static const struct sg_row t_rows[] = {
    {"num", {{.kind = &sg_kind_number, .what = "N", .to = T_AT(number)}}, "num N", .run = t_run},
    {"u32", {{.kind = &sg_kind_u32, .what = "ECX", .to = T_AT(u32)}}, "u32 ECX", .run = t_run},
    {"mask",
     {{.kind = &sg_kind_mask, .what = "XCR value", .to = T_AT(mask)}},
     "mask M",
     .run = t_run},
    {"value",
     {{.kind = &sg_kind_value, .what = "a value", .to = T_AT(value)}},
     "value V",
     .run = t_run},
    {"bytes",
     {{.kind = &sg_kind_hex, .what = "bytes", .to = T_AT(value), .refuse = "want hex, not '{}'"}},
     "bytes hex:B",
     .run = t_run},
    {"pick",
     {{.kind = &sg_kind_choice,
       .what = "colour",
       .to = T_AT(choice),
       .choices = colours,
       .refuse = "unknown colour '{}'"}},
     "pick red|green",
     .run = t_run},
    {"msr", {{.kind = &sg_kind_msr, .what = "MSR", .to = T_AT(msr)}}, "msr MSR", .run = t_run},
    {"reg",
     {{.kind = &sg_kind_register, .what = "a register", .to = T_AT(reg)}},
     "reg R",
     .run = t_run},
    {"feat",
     {{.kind = &sg_kind_features, .what = "f", .to = T_AT(features)}},
     "feat F",
     .run = t_run},
    {"op",
     {{.kind = &sg_kind_number, .what = "N", .to = T_AT(number), .flags = SG_OPT}},
     "op [N]",
     .provides = T_FACT_OP,
     .run = t_run},
    {"say",
     {{.kind = &sg_kind_text, .what = "text", .flags = SG_OPT | SG_REPEAT}},
     "say TEXT",
     .run = t_run},
    {"check", .usage = "check ok|fault|N ...", .flags = SG_GROUP, .min_words = 2,
     .unknown = "unknown check", .unknown_tail = ", or @NAME", .fallback_if = t_fallback},
    {"check ok",
     {{0}},
     "check ok",
     .flags = SG_EXPECTATION,
     .needs = T_FACT_OP,
     .needs_msg = "'check {}' needs an op before it",
     .run = t_run},
    {"check fault",
     {{.kind = &sg_kind_fault, .what = "an exception", .to = T_AT(fault), .flags = SG_OPT}},
     "check fault [#GP]",
     .flags = SG_EXPECTATION,
     .needs = T_FACT_OP,
     .needs_msg = "'check {}' needs an op before it",
     .run = t_run},
    {"check num",
     {{.kind = &sg_kind_word, .what = "&", .to = T_AT(has_select), .flags = SG_MARK},
      {.kind = &sg_kind_mask,
       .what = "mask",
       .to = T_AT(select),
       .flags = SG_TIED,
       .missing = "expected a mask after '&'"},
      {.kind = &sg_kind_compare, .what = "==", .to = T_AT(negate)},
      {.kind = &sg_kind_number, .what = "N", .to = T_AT(number)}},
     "check num [& MASK] == N",
     .flags = SG_EXPECTATION,
     .run = t_run},
    {"check fails", {{0}}, "check fails", .flags = SG_EXPECTATION, .run = t_fail},
    {"check", {{.kind = &sg_kind_any, .what = "@name"}}, "check @NAME", .run = t_run},
    {"two",
     {{.kind = &sg_kind_number, .what = "A", .to = T_AT(number)},
      {.kind = &sg_kind_number, .what = "B", .to = T_AT(mask)}},
     "two A B",
     .run = t_run},
    {"two", {{.kind = &sg_kind_hex, .what = "bytes", .to = T_AT(value)}}, "two A B", .run = t_run},
};

static const struct sg_table t_table = {
    .name = "t",
    .rows = t_rows,
    .count = ARRAY_SIZE(t_rows),
    .stmt_size = sizeof(struct t_stmt),
    .bytes_at = {T_AT(value)},
};

struct parsed {
	struct sg_program program;
	struct t_context context;
	struct vx_error err;
	int rc;
};

static void parse(struct parsed *out, const char *text, bool semicolon_lines)
{
	memset(out, 0, sizeof(*out));
	vx_error_clear(&out->err);
	assert_int_equal(sg_program_add(&out->program, &t_table, &out->context, &out->err), 0);
	out->rc = sg_parse(&out->program, text, strlen(text), semicolon_lines, &out->err);
}

static const struct t_stmt *payload(const struct parsed *p, unsigned index)
{
	assert_true(index < p->program.count);
	return p->program.stmts[index].payload;
}

/* ----------------------------------------------------------------------------------------- */
/* Refusals: each with its line, column (0-based; -1 = the whole line) and message             */

struct refusal {
	const char *script;
	int rc;
	unsigned line;
	int column;
	const char *message;
	bool semicolon_lines;
};

static const struct refusal refusals[] = {
    /* statements */
    {.script = "nmu 1",
     .rc = -EINVAL,
     .line = 1,
     .column = 0,
     .message = "unknown command 'nmu' (did you mean 'num'?)"},
    {.script = "\n\n  zzzzzzz",
     .rc = -EINVAL,
     .line = 3,
     .column = 2,
     .message = "unknown command 'zzzzzzz'"},
    {.script = "num",
     .rc = -EINVAL,
     .line = 1,
     .column = 0,
     .message = "missing words: usage: num N"},
    {.script = "num 1 2",
     .rc = -EINVAL,
     .line = 1,
     .column = 6,
     .message = "too many words: usage: num N"},
    {.script = "two 1",
     .rc = -EINVAL,
     .line = 1,
     .column = 4,
     .message = "expected hex:BYTES, not '1'" /* the one-word form of two */},
    {.script = "two", .rc = -EINVAL, .line = 1, .message = "missing words: usage: two A B"},
    {.script = "check", .rc = -EINVAL, .line = 1, .message = "usage: check ok|fault|N ..."},
    {.script = "check zz",
     .rc = -EINVAL,
     .line = 1,
     .column = 6,
     .message = "unknown check 'zz' (ok, fault, num, fails, or @NAME)"},
    {.script = "check ok", .rc = -EINVAL, .line = 1, .message = "'check ok' needs an op before it"},
    {.script = "op; CHECK OK extra",
     .rc = -EINVAL,
     .line = 1,
     .column = 13,
     .message = "too many words: usage: check ok"},
    {.script = "check num &", .rc = -EINVAL, .line = 1, .message = "expected a mask after '&'"},
    {.script = "check num & sse",
     .rc = -EINVAL,
     .line = 1,
     .message = "missing words: usage: check num [& MASK] == N"},
    {.script = "check num = 1",
     .rc = -EINVAL,
     .line = 1,
     .column = 10,
     .message = "expected '==' or '!=', not '='"},
    /* text */
    {.script = "num 1\nnum \001",
     .rc = -EINVAL,
     .line = 2,
     .column = 4,
     .message = "control character 0x01"},
    {.script = "num 1;\nnum 2; num x",
     .rc = -EINVAL,
     .line = 2,
     .column = 11,
     .message = "bad number 'x' for N"},
    {.script = "num 1; num 2; num x",
     .rc = -EINVAL,
     .line = 3,
     .column = 18,
     .message = "bad number 'x' for N",
     .semicolon_lines = true},
    {.script = "num 1 # c; hidden\nnum x",
     .rc = -EINVAL,
     .line = 3,
     .message = "bad number 'x' for N",
     .semicolon_lines = true},
    /* kinds */
    {.script = "num 0x12g",
     .rc = -EINVAL,
     .column = 4,
     .line = 1,
     .message = "bad number '0x12g' for N"},
    {.script = "num 1_", .rc = -EINVAL, .line = 1, .message = "bad number '1_' for N"},
    {.script = "num 99999999999999999999", .rc = -EINVAL, .line = 1, .message = "bad number"},
    {.script = "u32 0x100000000",
     .rc = -EINVAL,
     .line = 1,
     .message = "ECX '0x100000000' does not fit in 32 bits"},
    {.script = "mask x87,avx3",
     .rc = -EINVAL,
     .line = 1,
     .message = "bad XCR value 'x87,avx3': unknown component name 'avx3'"},
    {.script = "mask 1x", .rc = -EINVAL, .line = 1, .message = "bad number '1x' for XCR value"},
    {.script = "value 0x1__2",
     .rc = -EINVAL,
     .line = 1,
     .message = "bad hex digit '_' in '0x1__2'"},
    {.script = "value hex:abc",
     .rc = -EINVAL,
     .line = 1,
     .message = "odd number of hex digits in 'hex:abc'"},
    {.script = "value hex:", .rc = -EINVAL, .line = 1, .message = "no hex digits in 'hex:'"},
    {.script = "bytes 12", .rc = -EINVAL, .line = 1, .message = "want hex, not '12'"},
    {.script = "pick blue",
     .rc = -EINVAL,
     .line = 1,
     .column = 5,
     .message = "unknown colour 'blue'"},
    {.script = "msr IA32_FOO", .rc = -EINVAL, .line = 1, .message = "unknown MSR 'IA32_FOO'"},
    {.script = "reg xmm99", .rc = -EINVAL, .line = 1, .message = "unknown register 'xmm99'"},
    {.script = "feat xsaves,warp",
     .rc = -EINVAL,
     .line = 1,
     .message = "unknown CPUID feature 'warp'"},
    {.script = "op; check fault #XX",
     .rc = -EINVAL,
     .line = 1,
     .message = "unknown exception '#XX'"},
    {.script = "op; check fault #GP(",
     .rc = -EINVAL,
     .line = 1,
     .message = "bad error code in '#GP(' (write #GP(0))"},
};

static void test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(refusals); i++) {
		const struct refusal *want = &refusals[i];
		struct parsed p;

		parse(&p, want->script, want->semicolon_lines);
		if (p.rc != want->rc || p.err.line != want->line ||
		    !strstr(p.err.reason, want->message) ||
		    (want->column && p.err.offset != want->column))
			fail_msg("'%s': rc %d line %u column %lld '%s'; want %d line %u column %d "
				 "'%s'",
				 want->script, p.rc, p.err.line, (long long)p.err.offset,
				 p.err.reason, want->rc, want->line, want->column, want->message);
		sg_program_clear(&p.program);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* Acceptances: what each kind stores                                                           */

struct acceptance {
	const char *script;
	size_t field; /* offsetof in struct t_stmt of a uint64_t, or SIZE_MAX */
	uint64_t value;
};

static const struct acceptance acceptances[] = {
    {"num 42", offsetof(struct t_stmt, number), 42},
    {"num 010", offsetof(struct t_stmt, number), 10}, /* never octal */
    {"num 0x2a", offsetof(struct t_stmt, number), 42},
    {"num 0b101", offsetof(struct t_stmt, number), 5},
    {"num 0xffff_8000_0000_0000", offsetof(struct t_stmt, number), 0xffff800000000000},
    {"num -1", offsetof(struct t_stmt, number), UINT64_MAX},
    {"mask x87,sse|avx", offsetof(struct t_stmt, mask), 7},
    {"mask all", offsetof(struct t_stmt, mask), UINT64_MAX},
    {"mask none", offsetof(struct t_stmt, mask), 0},
    {"mask 0x3", offsetof(struct t_stmt, mask), 3},
    {"MASK AMX", offsetof(struct t_stmt, mask), 0x60000},
    {"pick GREEN", offsetof(struct t_stmt, choice), 2},
    {"check num & sse != 7", offsetof(struct t_stmt, select), 2},
    {"check num == 7", offsetof(struct t_stmt, number), 7},
    {"check @x", SIZE_MAX, 0},
    {"say", SIZE_MAX, 0},
    {"say a   b # c", SIZE_MAX, 0},
    {"two 1 2", offsetof(struct t_stmt, mask), 2},
};

static void test_acceptances(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(acceptances); i++) {
		const struct acceptance *want = &acceptances[i];
		struct parsed p;
		uint64_t got;

		parse(&p, want->script, false);
		if (p.rc)
			fail_msg("'%s': %s", want->script, p.err.reason);
		assert_int_equal(p.program.count, 1);
		if (want->field != SIZE_MAX) {
			memcpy(&got, (const char *)payload(&p, 0) + want->field, sizeof(got));
			if (got != want->value)
				fail_msg("'%s': %#llx, want %#llx", want->script,
					 (unsigned long long)got, (unsigned long long)want->value);
		}
		sg_program_clear(&p.program);
	}
}

/* Values of any width, MSRs, registers, faults, features: the typed fields. */
static void test_typed_kinds(void **state)
{
	struct parsed p;

	(void)state;
	parse(&p,
	      "value 0x0011223344556677_8899aabbccddeeff00\nbytes hex:0102\nmsr XSS\n"
	      "msr 0xda0\nreg XMM3\nop\ncheck fault #gp(0)\ncheck fault UD\nfeat xsaves|xsavec\n"
	      "value all",
	      false);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.program.count, 10);
	assert_int_equal(payload(&p, 0)->value.length, 16); /* leading zero byte trimmed */
	assert_int_equal(payload(&p, 0)->value.bytes[0], 0x00);
	assert_int_equal(payload(&p, 0)->value.bytes[15], 0x11);
	assert_int_equal(payload(&p, 1)->value.length, 2); /* memory order */
	assert_int_equal(payload(&p, 1)->value.bytes[0], 0x01);
	assert_int_equal(payload(&p, 2)->msr, VX_MSR_IA32_XSS);
	assert_int_equal(payload(&p, 3)->msr, 0xda0);
	assert_string_equal(payload(&p, 4)->reg->name, "xmm3");
	assert_int_equal(payload(&p, 6)->fault.vector, VX_VEC_GP);
	assert_true(payload(&p, 6)->fault.has_code);
	assert_int_equal(payload(&p, 7)->fault.vector, VX_VEC_UD);
	assert_false(payload(&p, 7)->fault.has_code);
	assert_int_equal(payload(&p, 8)->features, VX_BIT(vx_feature_by_name("xsaves")) |
						       VX_BIT(vx_feature_by_name("xsavec")));
	assert_true(payload(&p, 9)->value.all_ones);
	assert_string_equal(p.program.stmts[6].text, "check fault #gp(0)");
	sg_program_clear(&p.program);
}

/* Comments, ';' and line numbers: "#GP" is a word, "# x" a comment. */
static void test_tokenizing(void **state)
{
	struct parsed p;

	(void)state;
	parse(&p, "# head\n  num 1 ; num 2   # tail\n\nop;check fault #GP # why\n;;\n", false);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.program.count, 4);
	assert_int_equal(p.program.stmts[0].line, 2);
	assert_int_equal(p.program.stmts[1].line, 2);
	assert_string_equal(p.program.stmts[1].text, "num 2");
	assert_int_equal(p.program.stmts[3].line, 4);
	assert_string_equal(p.program.stmts[3].text, "check fault #GP");
	sg_program_clear(&p.program);

	parse(&p, "num 1; num 2;; num 3", true); /* -e: every ';' is a line */
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.program.stmts[2].line, 4);
	sg_program_clear(&p.program);

	/* Statements of blanks only - form feed, vertical tab, with spaces and tabs - are empty
	 * (a lone form feed crashed the parser; fuzz/regressions/script/form-feed-statement). */
	parse(&p, "\f\nnum 1\n \v\t\n\f;\v;num 2\n", false);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.program.count, 2);
	assert_int_equal(p.program.stmts[1].line, 4);
	sg_program_clear(&p.program);
}

/* Running: handlers in order, expectations counted, the first failure stops the run. */
static void test_run(void **state)
{
	struct sg_run_options options = {.quiet = true, .out = stderr};
	struct sg_summary summary;
	struct parsed p;

	(void)state;
	parse(&p, "op 5\ncheck ok\ncheck num == 1\ncheck fails\nnum 9", false);
	assert_int_equal(p.rc, 0);
	assert_int_equal(sg_run(&p.program, &options, &summary, &p.err), -EDOM);
	assert_int_equal(p.err.line, 4);
	assert_int_equal(summary.statements, 4);
	assert_int_equal(summary.expectations, 2);
	assert_int_equal(p.context.ran, 3);
	assert_int_equal(p.context.last_number, 1);
	sg_program_clear(&p.program);
}

/* Two tables may not both own a statement; one table's rows may share a phrase (its forms). */
static void test_tables_collide(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct sg_program program = {0};
	struct t_context context = {0};

	(void)state;
	assert_int_equal(sg_program_add(&program, &t_table, &context, &err), 0);
	assert_int_equal(sg_program_check(&program, &err), 0);
	assert_int_equal(sg_program_add(&program, &t_table, &context, &err), 0);
	assert_int_equal(sg_program_check(&program, &err), -EEXIST);
	assert_non_null(strstr(err.reason, "statement 'num' of table 't' is already defined"));
}

/* The CLI's own tables (`vxsave kvm SCRIPT` registers all three): no phrase in two of them. */
static void test_cli_tables_unique(void **state)
{
	const struct sg_table *tables[] = {&cs_table, &fpu_script_table, &kvm_script_table};
	struct vx_error err = VX_ERROR_INIT;
	struct sg_program program = {0};

	(void)state;
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(sg_program_add(&program, tables[i], NULL, &err), 0);
	if (sg_program_check(&program, &err) != 0)
		fail_msg("%s", err.reason);
}

/* ----------------------------------------------------------------------------------------- */
/* A second layer's statements in a cpu script                                                  */

struct fpu_stmt {
	uint64_t tasks;
};

static int fpu_run(struct sg_runner *r, void *context, const struct sg_stmt *stmt)
{
	(void)r;
	*(uint64_t *)context += ((const struct fpu_stmt *)stmt->payload)->tasks;
	return 0;
}

static const struct sg_row fpu_rows[] = {
    {"fpu tasks",
     {{.kind = &sg_kind_number, .what = "a task count", .to = SG_AT(struct fpu_stmt, tasks)}},
     "fpu tasks N",
     "fpu tasks N",
     "create N tasks",
     .run = fpu_run},
};

static const struct sg_table fpu_table = {
    .name = "fpu",
    .rows = fpu_rows,
    .count = ARRAY_SIZE(fpu_rows),
    .stmt_size = sizeof(struct fpu_stmt),
};

static void test_mixed_tables(void **state)
{
	const char *text = "buffer a 4096\nxsetbv 0 x87,sse\nfpu tasks 3\nxsave a all\n"
			   "expect ok\nfpu tasks 4\nexpect a xstate_bv u64 == 0\n";
	uint64_t tasks = 0;
	struct cpu_script_extension extension = {&fpu_table, &tasks};
	struct cpu_script_options options = {
	    .quiet = true, .out = stderr, .extensions = &extension, .extension_count = 1};
	struct vx_error err = VX_ERROR_INIT;
	struct cpu_script_summary summary;
	struct cpu_script *script = NULL;
	struct vx_cpu *cpu = NULL;
	struct vx_profile profile;

	(void)state;
	assert_int_equal(vx_profile_builtin(&profile, "sapphire-rapids", &err), 0);
	assert_int_equal(vx_cpu_create(&profile, NULL, &cpu, &err), 0);
	assert_int_equal(cpu_script_parse(text, strlen(text), &options, &script, &err), 0);
	assert_int_equal(cpu_script_run(script, cpu, &options, &summary, &err), 0);
	assert_int_equal(tasks, 7);
	assert_int_equal(summary.statements, 6);
	assert_int_equal(summary.expectations, 2);
	cpu_script_free(script);

	/* without the extension the same text is an error on line 3 */
	options.extension_count = 0;
	assert_int_equal(cpu_script_parse(text, strlen(text), &options, &script, &err), -EINVAL);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.reason, "unknown command 'fpu'"));
	vx_cpu_destroy(cpu);
}

/* ----------------------------------------------------------------------------------------- */
/* The cpu table: one source of truth for --help, and documented                               */

static char *read_file(const char *path)
{
	FILE *file = fopen(path, "rb");
	char *text;
	long size;

	assert_non_null(file);
	assert_int_equal(fseek(file, 0, SEEK_END), 0);
	size = ftell(file);
	assert_true(size > 0);
	rewind(file);
	text = calloc((size_t)size + 1, 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, file), (size_t)size);
	fclose(file);
	return text;
}

static void test_cpu_table_documented(void **state)
{
	char *docs = read_file(VXSAVE_SOURCE_DIR "/docs/cpu-script.md");
	char *help = NULL;
	size_t help_size = 0;
	FILE *out = open_memstream(&help, &help_size);

	(void)state;
	assert_non_null(out);
	cpu_script_print_statements(out);
	fclose(out);
	for (unsigned i = 0; i < cs_table.count; i++) {
		const struct sg_row *row = &cs_table.rows[i];
		char quoted[64];

		snprintf(quoted, sizeof(quoted), "`%s", row->phrase);
		if (!strstr(docs, quoted) && !strstr(docs, row->phrase))
			fail_msg("docs/cpu-script.md does not mention '%s'", row->phrase);
		if (row->synopsis && !strstr(help, row->synopsis))
			fail_msg("--help does not list '%s'", row->synopsis);
		if (!(row->flags & (SG_GROUP | SG_DECLARATION)) && !row->run)
			fail_msg("statement '%s' has no handler", row->phrase);
	}
	free(help);
	free(docs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refusals),	 cmocka_unit_test(test_acceptances),
	    cmocka_unit_test(test_typed_kinds),	 cmocka_unit_test(test_tokenizing),
	    cmocka_unit_test(test_run),		 cmocka_unit_test(test_tables_collide),
	    cmocka_unit_test(test_cli_tables_unique),
	    cmocka_unit_test(test_mixed_tables), cmocka_unit_test(test_cpu_table_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
