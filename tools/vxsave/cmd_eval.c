/* SPDX-License-Identifier: MIT */
/*
 * `vxsave eval [SOURCE] [--design ...] [--workload ...] ...`: the CET_S designs side by side on
 * workloads (issue 9, docs/eval.md "vxsave eval").  This file reads the command line, sets up
 * the session (profile, designs, workloads, cost table) and prints the tables and the verdict;
 * eval_report_run.c runs the evaluations on --jobs threads and derives the figures,
 * eval_report_json.c writes --json, eval_report.c the --report folder.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_eval.h"
#include "eval_report.h"
#include "json_output.h"
#include "source.h"

enum eval_option {
	OPT_DESIGN = CLI_OPT_FIRST_LOCAL,
	OPT_WORKLOAD,
	OPT_CPUS,
	OPT_SEED,
	OPT_STEPS,
	OPT_COSTS,
	OPT_JOBS,
	OPT_REPORT,
	OPT_NO_PROGRESS,
};

#define EVAL_MAX_JOBS	  256u
#define WORKLOAD_FILE_MAX (1u << 20)

/* What the command line asked for. */
struct eval_request {
	struct cli_source source;
	const char *designs;
	const char *workloads[EVAL_MAX_WORKLOADS];
	unsigned nworkload_args;
	unsigned cpus;	/* 0: each workload's own */
	uint64_t steps; /* 0: each workload's own */
	uint64_t seed;
	const char *costs;
	unsigned jobs; /* 0: online CPUs */
	bool json;
	const char *report;
	bool no_progress;
};

static const char default_workloads[] = "context-switch,vcpu-exits,mixed,amx,threads";

void cli_usage_eval(FILE *out)
{
	fputs(
	    "Usage: vxsave eval [SOURCE] [--design all|D,...] [--workload W[,W...]|FILE]\n"
	    "                   [--cpus N] [--seed S] [--steps N] [--costs FILE] [--jobs N]\n"
	    "                   [--json] [--report DIR] [--no-progress]\n"
	    "\n"
	    "Evaluate the CET supervisor-state designs side by side on workloads run by the\n"
	    "model (scheduler, Linux FPU framework, KVM, integrity checks at every step): for\n"
	    "each workload a table with one row per design - fpstate memory per non-vCPU thread\n"
	    "and per vCPU, bytes one XSAVES writes / one XRSTORS reads, KVM's PL0-2_SSP MSR\n"
	    "accesses and intercepted guest MSR accesses per 1 000 guest exits, modeled time per\n"
	    "operation (the cost model) - each relative to all-tasks, the design the upstream\n"
	    "series replaces; then a verdict on the seeds' two claims: the bytes guest-only saves\n"
	    "per non-vCPU thread, and the switch cost difference against the run-to-run spread\n"
	    "of the context-switch workload over 5 seeds.  The same seed gives the same numbers.\n"
	    "\n",
	    out);
	cli_source_usage(out);
	fputs(
	    "\n"
	    "Options:\n"
	    "      --design LIST    'all' (default) or designs joined by ',': unsupported,\n"
	    "                       all-tasks, guest-only, kvm-eager, kvm-lazy, kvm-user-return\n"
	    "      --workload W     built-in workloads joined by ',' (context-switch, vcpu-exits,\n"
	    "                       mixed, amx, threads; default: all five), or a workload file\n"
	    "                       (docs/eval.md \"The format\"); may be repeated\n"
	    "      --cpus N         model CPUs of every workload (1-64; default: the workload's)\n"
	    "      --steps N        scheduler steps of every workload (default: the workload's)\n"
	    "      --seed S         the scheduler's seed (default 1)\n"
	    "      --costs FILE     cost-model overrides, 'name value unit # source' a line\n"
	    "      --jobs N         evaluations run on N threads at once (default: online CPUs);\n"
	    "                       the output does not depend on N\n"
	    "      --json           print one JSON document instead of the tables\n"
	    "      --report DIR     also write SVG charts and index.html into DIR (created)\n"
	    "      --no-progress    no progress line on standard error (it is shown only when\n"
	    "                       standard error is a terminal)\n"
	    "  -h, --help           show this help and exit\n"
	    "\n"
	    "Exit status: 0 every evaluation passed (a design's own losses, kvm-user-return, are\n"
	    "a finding, not a failure); 1 an integrity VIOLATION (its text is printed), an\n"
	    "evaluation the model refused, a malformed workload or cost file (FILE:LINE), an\n"
	    "unwritable report; 2 a usage error (unknown design or workload, --cpus 0, --jobs "
	    "0).\n",
	    out);
}

/* ----------------------------------------------------------------------------------------- */
/* options                                                                                      */

static int parse_number(const char *option, const char *text, uint64_t min, uint64_t max,
			uint64_t *value)
{
	if (vx_parse_u64(text, strlen(text), value, NULL) < 0 || *value < min || *value > max)
		return cli_usage_error("eval", "%s needs a number from %llu to %llu, not '%s'",
				       option, (unsigned long long)min, (unsigned long long)max,
				       text);
	return CLI_EXIT_OK;
}

static int take_number(struct eval_request *q, int opt, const char *text)
{
	uint64_t v = 0;
	int rc;

	if (opt == OPT_CPUS) {
		rc = parse_number("--cpus", text, 1, VX_EVAL_MAX_CPUS, &v);
		q->cpus = (unsigned)v;
	} else if (opt == OPT_STEPS) {
		rc = parse_number("--steps", text, 1, UINT64_MAX / 2, &v);
		q->steps = v;
	} else if (opt == OPT_SEED) {
		/* JSON numbers are signed 64-bit here; the spread runs use S..S+4. */
		rc = parse_number("--seed", text, 0, INT64_MAX - EVAL_SPREAD_SEEDS, &v);
		q->seed = v;
	} else {
		rc = parse_number("--jobs", text, 1, EVAL_MAX_JOBS, &v);
		q->jobs = (unsigned)v;
	}
	return rc;
}

static int take_option(struct eval_request *q, int opt, const char *arg)
{
	switch (opt) {
	case OPT_DESIGN:
		q->designs = arg;
		return CLI_EXIT_OK;
	case OPT_WORKLOAD:
		if (q->nworkload_args >= EVAL_MAX_WORKLOADS)
			return cli_usage_error("eval", "at most %u --workload options",
					       EVAL_MAX_WORKLOADS);
		q->workloads[q->nworkload_args++] = arg;
		return CLI_EXIT_OK;
	case OPT_CPUS:
	case OPT_STEPS:
	case OPT_SEED:
	case OPT_JOBS:
		return take_number(q, opt, arg);
	case OPT_COSTS:
		q->costs = arg;
		return CLI_EXIT_OK;
	case OPT_REPORT:
		q->report = arg;
		return CLI_EXIT_OK;
	case CLI_OPT_JSON:
		q->json = true;
		return CLI_EXIT_OK;
	case OPT_NO_PROGRESS:
		q->no_progress = true;
		return CLI_EXIT_OK;
	default:
		return -1; /* not ours */
	}
}

static int parse_eval_options(int argc, char **argv, struct eval_request *q)
{
	static const struct option options[] = {
	    CLI_SOURCE_LONG_OPTIONS,
	    {"design", required_argument, NULL, OPT_DESIGN},
	    {"workload", required_argument, NULL, OPT_WORKLOAD},
	    {"cpus", required_argument, NULL, OPT_CPUS},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"steps", required_argument, NULL, OPT_STEPS},
	    {"costs", required_argument, NULL, OPT_COSTS},
	    {"jobs", required_argument, NULL, OPT_JOBS},
	    {"json", no_argument, NULL, CLI_OPT_JSON},
	    {"report", required_argument, NULL, OPT_REPORT},
	    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == 'h') {
			cli_usage_eval(stdout);
			return -1;
		}
		rc = take_option(q, opt, optarg);
		if (rc >= 0) {
			if (rc)
				return rc;
			continue;
		}
		rc = cli_source_option(&q->source, "eval", opt, optarg);
		if (rc == 1)
			continue;
		return rc ? rc : cli_getopt_failure("eval", opt, argc, argv);
	}
	if (optind < argc)
		return cli_extra_arguments("eval", optind, argc, argv);
	return cli_source_finish(&q->source, "eval");
}

/* ----------------------------------------------------------------------------------------- */
/* designs and workloads                                                                        */

static bool has_design(const struct eval_session *s, enum vx_kvm_cet_design d)
{
	for (unsigned i = 0; i < s->ndesigns; i++)
		if (s->designs[i] == d)
			return true;
	return false;
}

static int add_design(struct eval_session *s, const char *name, size_t len)
{
	char word[40];
	int d;

	snprintf(word, sizeof(word), "%.*s", (int)(len < 39 ? len : 39), name);
	d = vx_kvm_cet_design_by_name(word);
	if (d < 0)
		return cli_usage_error("eval",
				       "unknown --design '%s' (all, or unsupported, all-tasks, "
				       "guest-only, kvm-eager, kvm-lazy, kvm-user-return)",
				       word);
	if (has_design(s, (enum vx_kvm_cet_design)d))
		return cli_usage_error("eval", "--design names '%s' twice", word);
	s->designs[s->ndesigns++] = (enum vx_kvm_cet_design)d;
	return CLI_EXIT_OK;
}

/* --design: "all" or names joined by ','; the baseline is all-tasks if chosen, else the first. */
static int choose_designs(struct eval_session *s, const char *text)
{
	int rc;

	if (!text || strcmp(text, "all") == 0) {
		for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++)
			s->designs[s->ndesigns++] = (enum vx_kvm_cet_design)d;
	} else {
		for (const char *p = text;; p++) {
			size_t len = strcspn(p, ",");

			rc = add_design(s, p, len);
			if (rc)
				return rc;
			p += len;
			if (!*p)
				break;
		}
	}
	s->baseline = 0;
	for (unsigned i = 0; i < s->ndesigns; i++)
		if (s->designs[i] == VX_KVM_CET_ALL_TASKS)
			s->baseline = i;
	return CLI_EXIT_OK;
}

static char *read_text_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *text = f ? malloc(WORKLOAD_FILE_MAX + 1) : NULL;

	if (!text) {
		if (f)
			fclose(f);
		return NULL;
	}
	*len = fread(text, 1, WORKLOAD_FILE_MAX + 1, f);
	if (ferror(f) || *len > WORKLOAD_FILE_MAX) {
		errno = ferror(f) ? EIO : EFBIG;
		free(text);
		fclose(f);
		return NULL;
	}
	fclose(f);
	text[*len] = '\0';
	return text;
}

/* "FILE:LINE: reason", as for dumps and scripts: the library's "line N: " prefix goes. */
static void file_error(const char *shown, const struct vx_error *err, int rc)
{
	char prefix[32];
	int length = snprintf(prefix, sizeof(prefix), "line %u: ", err->line);
	const char *reason = err->reason[0] ? err->reason : vx_errno_name(rc);

	if (err->line && length > 0 && strncmp(reason, prefix, (size_t)length) == 0)
		reason += length;
	if (err->line)
		cli_error("%s:%u: %s", shown, err->line, reason);
	else
		cli_error("%s: %s", shown, reason);
}

/* A workload file: FILE:LINE: reason on failure (bad input: exit 1, as `vxsave cpu` scripts). */
static int load_workload_file(struct eval_session *s, const char *path)
{
	struct vx_error err = VX_ERROR_INIT;
	size_t len = 0;
	char *text = read_text_file(path, &len);
	int rc;

	if (!text) {
		cli_error("cannot read workload file '%s': %s", path, strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	rc = vx_eval_workload_parse(text, len, &s->workloads[s->nworkloads], &err);
	free(text);
	if (rc < 0) {
		file_error(path, &err, rc);
		return CLI_EXIT_FAILURE;
	}
	s->nworkloads++;
	return CLI_EXIT_OK;
}

static int add_builtin_workload(struct eval_session *s, const char *name, size_t len)
{
	struct vx_error err = VX_ERROR_INIT;
	char word[VX_EVAL_NAME_MAX];

	snprintf(word, sizeof(word), "%.*s", (int)(len < sizeof(word) - 1 ? len : sizeof(word) - 1),
		 name);
	if (s->nworkloads >= EVAL_MAX_WORKLOADS)
		return cli_usage_error("eval", "at most %u workloads", EVAL_MAX_WORKLOADS);
	if (vx_eval_workload_builtin(word, &s->workloads[s->nworkloads], &err) < 0)
		return cli_usage_error(
		    "eval",
		    "unknown --workload '%s' (context-switch, vcpu-exits, mixed, "
		    "amx, threads, or a workload file)",
		    word);
	s->nworkloads++;
	return CLI_EXIT_OK;
}

/* One --workload: a file if it names one (or has a '/'), else built-in names joined by ','. */
static int add_workloads(struct eval_session *s, const char *arg)
{
	struct stat info;
	int rc;

	if (strchr(arg, '/') || stat(arg, &info) == 0) {
		if (s->nworkloads >= EVAL_MAX_WORKLOADS)
			return cli_usage_error("eval", "at most %u workloads", EVAL_MAX_WORKLOADS);
		return load_workload_file(s, arg);
	}
	for (const char *p = arg;; p++) {
		size_t len = strcspn(p, ",");

		rc = add_builtin_workload(s, p, len);
		if (rc)
			return rc;
		p += len;
		if (!*p)
			return CLI_EXIT_OK;
	}
}

/* --cpus and --steps override every workload; the result must still be a valid workload. */
static int apply_overrides(struct eval_session *s, const struct eval_request *q)
{
	struct vx_error err = VX_ERROR_INIT;

	for (unsigned i = 0; i < s->nworkloads; i++) {
		struct vx_eval_workload *w = &s->workloads[i];

		if (q->cpus)
			w->cpus = q->cpus;
		if (q->steps)
			w->steps = q->steps;
		if (vx_eval_workload_check(w, &err) < 0) {
			cli_error("workload %s with the options given: %s", w->name, err.reason);
			return CLI_EXIT_FAILURE;
		}
	}
	return CLI_EXIT_OK;
}

static int choose_workloads(struct eval_session *s, const struct eval_request *q)
{
	int rc = CLI_EXIT_OK;

	if (!q->nworkload_args)
		rc = add_workloads(s, default_workloads);
	for (unsigned i = 0; rc == CLI_EXIT_OK && i < q->nworkload_args; i++)
		rc = add_workloads(s, q->workloads[i]);
	return rc ? rc : apply_overrides(s, q);
}

static int load_costs(struct eval_session *s, const char *path)
{
	struct vx_error err = VX_ERROR_INIT;
	char shown[4200];
	int rc;

	vx_eval_cost_table_init(&s->costs);
	snprintf(s->costs_label, sizeof(s->costs_label), "the built-in table");
	if (!path)
		return CLI_EXIT_OK;
	rc = vx_eval_cost_load(&s->costs, path, &err);
	if (rc < 0) {
		snprintf(shown, sizeof(shown), "--costs %s", path);
		file_error(shown, &err, rc);
		return CLI_EXIT_FAILURE;
	}
	snprintf(s->costs_label, sizeof(s->costs_label), "the built-in table with %s", path);
	return CLI_EXIT_OK;
}

static int setup_session(struct eval_session *s, const struct eval_request *q)
{
	int rc = choose_designs(s, q->designs);

	if (rc == CLI_EXIT_OK)
		rc = choose_workloads(s, q);
	if (rc == CLI_EXIT_OK)
		rc = cli_source_load(&q->source, &s->profile);
	if (rc == CLI_EXIT_OK)
		rc = load_costs(s, q->costs);
	cli_source_describe(&q->source, s->source, sizeof(s->source));
	s->seed = q->seed;
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* shared text                                                                                  */

const char *eval_operation_name(enum vx_eval_kind kind)
{
	static const char *const names[VX_EVAL_KIND_COUNT] = {
	    [VX_EVAL_CONTEXT_SWITCH] = "switch",
	    [VX_EVAL_VCPU_EXITS] = "guest exit",
	    [VX_EVAL_MIXED] = "step",
	    [VX_EVAL_AMX] = "step",
	    [VX_EVAL_THREADS] = "switch",
	};

	return kind < VX_EVAL_KIND_COUNT ? names[kind] : "operation";
}

const char *eval_outcome_text(const struct eval_cell *cell, char *buf, size_t len)
{
	if (cell->rc < 0)
		snprintf(buf, len, "error");
	else if (cell->rc == VX_EVAL_VIOLATION)
		snprintf(buf, len, "VIOLATION");
	else if (cell->rc == VX_EVAL_DESIGN_LOSS)
		snprintf(buf, len, "design-loss %llu",
			 (unsigned long long)(cell->result.losses.count
						  ? cell->result.losses.count
						  : cell->result.run.design_losses));
	else
		snprintf(buf, len, "pass");
	return buf;
}

const char *eval_relative_text(double value, double base, char *buf, size_t len)
{
	double pct;

	if (isnan(value) || isnan(base))
		snprintf(buf, len, "%s", "");
	else if (value == base)
		snprintf(buf, len, "=");
	else if (base == 0)
		snprintf(buf, len, "vs 0");
	else if ((pct = (value - base) / base * 100.0), fabs(pct) >= 1000)
		snprintf(buf, len, "x%.0f", value / base);
	else if (fabs(pct) < 0.05)
		snprintf(buf, len, "~0%%"); /* not equal, but "-0.0%" would read as a sign error */
	else
		snprintf(buf, len, "%+.1f%%", pct);
	return buf;
}

void eval_verdict_sentences(const struct eval_session *s, char *memory, size_t mlen, char *sw,
			    size_t slen)
{
	const struct eval_verdict *v = &s->verdict;

	if (v->memory_known)
		snprintf(
		    memory, mlen,
		    "guest-only saves %lld bytes per non-vCPU thread versus all-tasks "
		    "(%.1f KiB for 10 000 threads): the default fpstate is %llu bytes in "
		    "all-tasks and %llu in guest-only",
		    (long long)v->thread_saving, (double)v->thread_saving * 10000.0 / 1024.0,
		    (unsigned long long)v->thread_bytes_alltasks,
		    (unsigned long long)((int64_t)v->thread_bytes_alltasks - v->thread_saving));
	else
		snprintf(memory, mlen,
			 "not answered: it needs the designs all-tasks and guest-only");
	if (v->switch_known)
		snprintf(sw, slen,
			 "the switch cost difference is %+.2f %% (guest-only %.1f ns vs all-tasks "
			 "%.1f ns per switch, modeled, %s); run-to-run spread over %u seeds: "
			 "%.2f %%: %s",
			 v->diff_pct, v->guestonly_ns, v->alltasks_ns, s->spread_workload.name,
			 (unsigned)EVAL_SPREAD_SEEDS, v->spread_pct,
			 v->diff_pct == 0 ? "no difference at all, within any run-to-run variation "
					    "(the model's spread is the schedule's alone)"
			 : v->within	  ? "within the run-to-run variation"
					  : "larger than the run-to-run variation");
	else
		snprintf(sw, slen, "not answered: it needs the designs all-tasks and guest-only");
}

/* ----------------------------------------------------------------------------------------- */
/* the text tables                                                                              */

struct text_column {
	const char *head;
	size_t offset; /* of the double in struct eval_figures */
	int decimals;
};

static const struct text_column text_columns[] = {
    {"mem/thread", offsetof(struct eval_figures, mem_thread), 0},
    {"mem/vCPU", offsetof(struct eval_figures, mem_vcpu), 0},
    {"B/save", offsetof(struct eval_figures, saved_per_switch), 1},
    {"B/restore", offsetof(struct eval_figures, restored_per_switch), 1},
    {"KVM MSR/1k ex", offsetof(struct eval_figures, msr_per_kexits), 1},
    {"MSR exits/1k ex", offsetof(struct eval_figures, msr_exits_per_kexits), 1},
    {"ns/op", offsetof(struct eval_figures, time_per_op), 1},
};

#define TEXT_COLUMNS (sizeof(text_columns) / sizeof(text_columns[0]))
#define CELL_WIDTH   16

static double figure_at(const struct eval_figures *f, size_t offset)
{
	double v;

	memcpy(&v, (const char *)f + offset, sizeof(v));
	return v;
}

static void print_cell(double value, double base, int decimals)
{
	char number[32], rel[16];

	if (isnan(value))
		snprintf(number, sizeof(number), "-");
	else
		snprintf(number, sizeof(number), "%.*f", decimals, value);
	eval_relative_text(value, base, rel, sizeof(rel));
	printf(" %8s %-6s", number, rel);
}

static void print_table_head(const struct eval_session *s, const struct vx_eval_workload *w)
{
	char kind[VX_EVAL_NAME_MAX + 4] = "";

	/* A user's workload file names its own workload: say which pattern it runs. */
	if (strcmp(w->name, vx_eval_kind_name(w->kind)) != 0)
		snprintf(kind, sizeof(kind), " (%s)", vx_eval_kind_name(w->kind));
	printf("\n%s%s: %u CPU%s, %u tasks, %u vCPUs in %u VM%s, %llu steps, seed %llu; "
	       "ns/op = per %s; relative to %s%s\n",
	       w->name, kind, w->cpus, w->cpus == 1 ? "" : "s", w->tasks, w->vcpus, w->vms,
	       w->vms == 1 ? "" : "s", (unsigned long long)w->steps, (unsigned long long)s->seed,
	       eval_operation_name(w->kind), vx_kvm_cet_design_name(s->designs[s->baseline]),
	       s->designs[s->baseline] == VX_KVM_CET_ALL_TASKS
		   ? " (the design the upstream series replaces)"
		   : "");
	char line[16 + CELL_WIDTH * TEXT_COLUMNS + 16];

	/* Each heading ends where its column's numbers end; a long one reaches left into the
	 * space of the previous column's relative figure. */
	snprintf(line, sizeof(line), "%-*s", (int)sizeof(line) - 1, "design");
	for (unsigned c = 0; c < TEXT_COLUMNS; c++) {
		size_t len = strlen(text_columns[c].head), end = 16 + c * CELL_WIDTH + 9;

		memcpy(line + end - len, text_columns[c].head, len);
	}
	snprintf(line + 16 + CELL_WIDTH * TEXT_COLUMNS, 16, "  outcome");
	puts(line);
}

static void print_row(const struct eval_session *s, unsigned w, unsigned d)
{
	const struct eval_cell *cell = eval_cell_at(s, w, d);
	const struct eval_cell *base = eval_cell_at(s, w, s->baseline);
	char outcome[48];

	printf("%-16s", vx_kvm_cet_design_name(s->designs[d]));
	for (unsigned c = 0; c < TEXT_COLUMNS && cell->rc >= 0; c++)
		print_cell(figure_at(&cell->fig, text_columns[c].offset),
			   base->rc >= 0 ? figure_at(&base->fig, text_columns[c].offset) : NAN,
			   text_columns[c].decimals);
	if (cell->rc < 0)
		printf("%*s", (int)(CELL_WIDTH * TEXT_COLUMNS), "");
	printf("  %s\n", eval_outcome_text(cell, outcome, sizeof(outcome)));
}

/* Below a table: every violation, design loss and error in words. */
static void print_findings(const struct eval_session *s, unsigned w)
{
	for (unsigned d = 0; d < s->ndesigns; d++) {
		const struct eval_cell *c = eval_cell_at(s, w, d);
		const char *name = vx_kvm_cet_design_name(s->designs[d]);

		if (c->rc < 0)
			printf("  %s: error: %s\n", name,
			       c->err.reason[0] ? c->err.reason : vx_errno_name(c->rc));
		else if (c->rc == VX_EVAL_VIOLATION)
			printf("  %s: VIOLATION: %s (reproduce: --seed %llu, step %llu)\n", name,
			       c->result.violation.text, (unsigned long long)s->seed,
			       (unsigned long long)c->result.violation.step);
		else if (c->rc == VX_EVAL_DESIGN_LOSS)
			printf(
			    "  %s: design loss (a finding about the design, not a checker "
			    "failure): %llu guest value(s) lost, first at step %llu, vCPU %u %s\n",
			    name, (unsigned long long)c->result.losses.count,
			    (unsigned long long)c->result.losses.step, c->result.losses.vcpu,
			    c->result.losses.reg);
	}
}

static void print_text(const struct eval_session *s)
{
	char memory[512], sw[512];

	printf("vxsave eval: %s (%s), %u design%s, %u workload%s, seed %llu, costs: %s\n",
	       s->profile.name, s->source, s->ndesigns, s->ndesigns == 1 ? "" : "s", s->nworkloads,
	       s->nworkloads == 1 ? "" : "s", (unsigned long long)s->seed, s->costs_label);
	printf("mem/thread, mem/vCPU: fpstate bytes of one non-vCPU thread; of one vCPU (its guest "
	       "fpstate and\nKVM's PL0-2_SSP copy).  B/save, B/restore: bytes one XSAVES writes, "
	       "one XRSTORS reads (mean).\nKVM MSR/1k ex: KVM's PL0-2_SSP RDMSR+WRMSR per 1 000 "
	       "guest exits; MSR exits/1k ex: guest\nRDMSR/WRMSR intercepted per 1 000 guest "
	       "exits.  ns/op: modeled time (the cost model).\n");
	for (unsigned w = 0; w < s->nworkloads; w++) {
		print_table_head(s, &s->workloads[w]);
		for (unsigned d = 0; d < s->ndesigns; d++)
			print_row(s, w, d);
		print_findings(s, w);
	}
	eval_verdict_sentences(s, memory, sizeof(memory), sw, sizeof(sw));
	printf("\nVerdict for %s (the seeds' two claims):\n", s->profile.name);
	cli_print_wrapped(stdout, "  memory: ", "          ", memory, ' ');
	cli_print_wrapped(stdout, "  switch: ", "          ", sw, ' ');
	printf("  integrity: %u of %u evaluations passed, %u design loss%s, %u violation%s, "
	       "%u error%s\n",
	       s->verdict.runs - s->verdict.violations - s->verdict.losses - s->verdict.errors,
	       s->verdict.runs, s->verdict.losses, s->verdict.losses == 1 ? "" : "es",
	       s->verdict.violations, s->verdict.violations == 1 ? "" : "s", s->verdict.errors,
	       s->verdict.errors == 1 ? "" : "s");
	printf("wall time %.2f s on %u thread%s\n", s->wall_seconds, s->jobs,
	       s->jobs == 1 ? "" : "s");
}

/* ----------------------------------------------------------------------------------------- */
/* the command                                                                                  */

/*
 * --json: as cli_json_print() (schema_version first), with reals printed to 10 significant
 * digits: figures such as 4577.1 ns stay 4577.1, not 4577.1000000000004.
 */
static int print_json(json_t *doc)
{
	json_t *root = json_object();
	int rc;

	if (!doc || !root ||
	    json_object_set_new(root, "schema_version", json_integer(CLI_JSON_SCHEMA_VERSION)) <
		0 ||
	    json_object_update(root, doc) < 0) {
		json_decref(doc);
		json_decref(root);
		cli_error("out of memory while building JSON output");
		return CLI_EXIT_FAILURE;
	}
	json_decref(doc);
	rc = json_dumpf(root, stdout,
			JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(root);
	if (rc < 0 || fputc('\n', stdout) == EOF) {
		cli_error("cannot write JSON to standard output");
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static int write_report(const struct eval_session *s, const char *dir, bool json)
{
	char what[512] = "";
	int rc = eval_report_write(s, dir, what, sizeof(what));

	if (rc < 0) {
		cli_error("--report %s: cannot write %s: %s", dir, what[0] ? what : dir,
			  strerror(-rc));
		return CLI_EXIT_FAILURE;
	}
	/* With --json the document owns standard output: the path goes to standard error. */
	fprintf(json ? stderr : stdout, "report: %s/index.html\n", dir);
	return CLI_EXIT_OK;
}

/* On standard error too, so a violation is seen whatever standard output goes to. */
static void report_failures(const struct eval_session *s)
{
	for (unsigned w = 0; w < s->nworkloads; w++)
		for (unsigned d = 0; d < s->ndesigns; d++) {
			const struct eval_cell *c = eval_cell_at(s, w, d);

			if (c->rc == VX_EVAL_VIOLATION)
				cli_error("%s, %s: integrity VIOLATION: %s", s->workloads[w].name,
					  vx_kvm_cet_design_name(s->designs[d]),
					  c->result.violation.text);
			else if (c->rc < 0)
				cli_error("%s, %s: %s", s->workloads[w].name,
					  vx_kvm_cet_design_name(s->designs[d]),
					  c->err.reason[0] ? c->err.reason : vx_errno_name(c->rc));
		}
}

static void free_session(struct eval_session *s)
{
	free(s->cells);
	free(s->spread);
	free(s->sweep);
	free(s);
}

static unsigned default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1u : n > (long)EVAL_MAX_JOBS ? EVAL_MAX_JOBS : (unsigned)n;
}

int cli_cmd_eval(int argc, char **argv)
{
	struct eval_request q = {.source = CLI_SOURCE_INIT, .seed = 1};
	struct eval_session *s;
	int rc = parse_eval_options(argc, argv, &q);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	s = calloc(1, sizeof(*s));
	if (!s) {
		cli_error("out of memory");
		return CLI_EXIT_FAILURE;
	}
	rc = setup_session(s, &q);
	s->jobs = q.jobs ? q.jobs : default_jobs();
	if (rc == CLI_EXIT_OK)
		rc = eval_session_run(s, q.report != NULL, isatty(STDERR_FILENO) && !q.no_progress);
	if (rc == CLI_EXIT_OK && q.json)
		rc = print_json(eval_session_json(s));
	else if (rc == CLI_EXIT_OK)
		print_text(s);
	if (rc == CLI_EXIT_OK && q.report)
		rc = write_report(s, q.report, q.json);
	if (rc == CLI_EXIT_OK)
		report_failures(s);
	/* A violation or an evaluation the model refused fails the command (see --help). */
	if (rc == CLI_EXIT_OK && (s->verdict.violations || s->verdict.errors))
		rc = CLI_EXIT_FAILURE;
	free_session(s);
	return rc;
}
