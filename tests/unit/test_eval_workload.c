/* SPDX-License-Identifier: MIT */
/*
 * eval layer: workloads (issue 9 "Workloads ... A small workload description format"): the
 * built-ins have the defaults docs/eval.md lists, every workload survives format → parse
 * unchanged, a user's file overrides only what it names, and bad input is refused with the
 * line and the word, leaving the caller's workload unchanged.  The run refuses what the
 * profile cannot do (a register the CPU lacks) with a clear error and a zeroed result.
 */
#include "eval_test_util.h"

static const char *const kinds[] = {"context-switch", "vcpu-exits", "mixed", "amx", "threads"};

static void builtins_have_documented_defaults(void **state)
{
	struct vx_eval_workload w;

	(void)state;
	/* docs/eval.md "Built-in workloads". */
	w = et_workload("context-switch");
	assert_int_equal(w.kind, VX_EVAL_CONTEXT_SWITCH);
	assert_int_equal(w.tasks, 4);
	assert_int_equal(w.vcpus, 0);
	assert_int_equal(w.cpus, 2);
	w = et_workload("vcpu-exits");
	assert_int_equal(w.vcpus, 2);
	assert_int_equal(w.exit_every, 8);
	assert_int_equal(w.kernel_exits, 50);
	assert_true(w.guest_shstk);
	w = et_workload("threads");
	/* "a process tree of many threads (default 10 000), some of them vCPU threads" */
	assert_int_equal(w.tasks + w.vcpus, 10000);
	assert_true(w.vcpus > 0);
	w = et_workload("amx");
	assert_true(w.amx_tasks > 0 && w.amx_tasks < w.tasks);
	assert_true(w.amx_vcpus > 0 && w.amx_vcpus < w.vcpus);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct vx_error err = VX_ERROR_INIT;

		w = et_workload(kinds[i]);
		assert_string_equal(w.name, kinds[i]);
		assert_string_equal(vx_eval_kind_name(w.kind), kinds[i]);
		assert_int_equal(vx_eval_workload_check(&w, &err), 0);
	}
}

static void unknown_builtin_is_refused(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_eval_workload w;

	(void)state;
	assert_int_equal(vx_eval_workload_builtin("pingpong", &w, &err), -ENOENT);
	assert_non_null(strstr(err.reason, "pingpong"));
	assert_int_equal(vx_eval_kind_by_name("nope"), -ENOENT);
	assert_null(vx_eval_kind_name(VX_EVAL_KIND_COUNT));
}

static void assert_same_workload(const struct vx_eval_workload *a, const struct vx_eval_workload *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->cpus, b->cpus);
	assert_int_equal(a->tasks, b->tasks);
	assert_int_equal(a->processes, b->processes);
	assert_int_equal(a->vcpus, b->vcpus);
	assert_int_equal(a->vms, b->vms);
	assert_int_equal(a->steps, b->steps);
	assert_int_equal(a->slice, b->slice);
	assert_int_equal(a->exit_every, b->exit_every);
	assert_int_equal(a->kernel_exits, b->kernel_exits);
	assert_int_equal(a->guest_shstk, b->guest_shstk);
	assert_int_equal(a->guest_switch_every, b->guest_switch_every);
	assert_int_equal(a->migrate, b->migrate);
	assert_int_equal(a->amx_tasks, b->amx_tasks);
	assert_int_equal(a->amx_vcpus, b->amx_vcpus);
	assert_int_equal(a->ntask_regs, b->ntask_regs);
	for (unsigned i = 0; i < a->ntask_regs; i++)
		assert_string_equal(a->task_regs[i], b->task_regs[i]);
	assert_int_equal(a->nguest_regs, b->nguest_regs);
	for (unsigned i = 0; i < a->nguest_regs; i++)
		assert_string_equal(a->guest_regs[i], b->guest_regs[i]);
	assert_int_equal(a->deep_check_every, b->deep_check_every);
}

static void format_parse_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct vx_eval_workload w = et_workload(kinds[i]), back;
		struct vx_error err = VX_ERROR_INIT;
		char text[2048];
		size_t n;

		/* A non-default value in every kind of field. */
		w.migrate = 33;
		w.guest_shstk = !w.guest_shstk;
		w.steps = UINT64_C(123456789012);
		snprintf(w.task_regs[1], sizeof(w.task_regs[1]), "ymmh3");
		w.ntask_regs = 2;
		n = vx_eval_workload_format(&w, text, sizeof(text));
		assert_true(n < sizeof(text));
		assert_int_equal(strlen(text), n);
		memset(&back, 0xA5, sizeof(back));
		if (vx_eval_workload_parse(text, n, &back, &err) != 0)
			fail_msg("%s: %s\n%s", kinds[i], err.reason, text);
		assert_same_workload(&w, &back);
		/* snprintf semantics: a short buffer gets the length needed. */
		assert_int_equal(vx_eval_workload_format(&w, text, 10), n);
	}
}

static void user_file_overrides_named_keys(void **state)
{
	static const char text[] = "# my own exits\n"
				   "workload vcpu-exits\n"
				   "name my-exits\n"
				   "\n"
				   "vcpus 4   # four of them\n"
				   "vms 2\n"
				   "kernel-exits 90%\n"
				   "guest-shstk no\n"
				   "exit-every 0x10\n"
				   "guest-regs xmm2, zmm16\n";
	struct vx_error err = VX_ERROR_INIT;
	struct vx_eval_workload w, def = et_workload("vcpu-exits");

	(void)state;
	assert_int_equal(vx_eval_workload_parse(text, strlen(text), &w, &err), 0);
	assert_string_equal(w.name, "my-exits");
	assert_int_equal(w.vcpus, 4);
	assert_int_equal(w.vms, 2);
	assert_int_equal(w.kernel_exits, 90);
	assert_false(w.guest_shstk);
	assert_int_equal(w.exit_every, 16);
	assert_int_equal(w.nguest_regs, 2);
	assert_string_equal(w.guest_regs[1], "zmm16");
	/* Untouched keys keep the kind's defaults. */
	assert_int_equal(w.cpus, def.cpus);
	assert_int_equal(w.slice, def.slice);
	assert_int_equal(w.steps, def.steps);
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *word;
};

static const struct bad_case bad[] = {
    {"cpus 2\n", 1, "cpus"},			   /* before the workload line */
    {"workload mixed\nfoo 1\n", 2, "foo"},	   /* unknown key */
    {"workload sleepy\n", 1, "sleepy"},		   /* unknown kind */
    {"workload mixed\ncpus two\n", 2, "two"},	   /* not a number */
    {"workload mixed\ncpus 65\n", 2, "65"},	   /* above 64 CPUs */
    {"workload mixed\nmigrate 101%\n", 2, "101%"}, /* a percentage above 100 */
    {"workload mixed\nguest-shstk maybe\n", 2, "maybe"},
    {"workload mixed\ntask-regs xmm0,mxcsr\n", 2, "mxcsr"}, /* constrained values */
    {"workload mixed\ntask-regs xmm0,xmm1,xmm2,xmm3,xmm4\n", 2, "xmm4"},
    {"workload mixed\nname a/b\n", 2, "a/b"},
    {"workload mixed\nworkload amx\n", 2, "workload"}, /* a second kind line */
    {"workload mixed\nsteps\n", 2, "steps"},	       /* no value */
    {"workload mixed\ncpus -1\n", 2, "-1"},
};

static void bad_lines_name_line_and_word(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vx_error err = VX_ERROR_INIT;
		struct vx_eval_workload w, before;

		memset(&w, 0x5A, sizeof(w));
		before = w;
		assert_int_equal(vx_eval_workload_parse(bad[i].text, strlen(bad[i].text), &w, &err),
				 -EINVAL);
		if (err.line != bad[i].line || !strstr(err.reason, bad[i].word))
			fail_msg("case %zu: line %u reason '%s' (want line %u, '%s')", i, err.line,
				 err.reason, bad[i].line, bad[i].word);
		assert_memory_equal(&w, &before, sizeof(w));
	}
}

/* Whole-workload rules (vx_eval_workload_check), through the parser too. */
static const struct {
	const char *text;
	const char *why;
} rules[] = {
    {"workload context-switch\ntasks 3\n", "pairs"},
    {"workload context-switch\nvcpus 1\nvms 1\n", "pairs"},
    {"workload mixed\nvcpus 2\nvms 0\n", "vms"},
    {"workload mixed\nvcpus 130\nvms 2\n", "64 vCPUs per VM"},
    {"workload mixed\namx-tasks 9\n", "amx"},
    {"workload mixed\nguest-switch-every 1\n", "guest-switch-every"},
    {"workload mixed\nslice 0\n", "slice"},
    {"workload mixed\ntasks 0\nvcpus 0\nvms 0\n", "nothing to run"},
    {"", "workload KIND"},
    {"# only a comment\n", "workload KIND"},
};

static void workload_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct vx_error err = VX_ERROR_INIT;
		struct vx_eval_workload w;

		assert_int_equal(
		    vx_eval_workload_parse(rules[i].text, strlen(rules[i].text), &w, &err),
		    -EINVAL);
		if (!strstr(err.reason, rules[i].why))
			fail_msg("rule %zu: '%s' lacks '%s'", i, err.reason, rules[i].why);
	}
}

static void nul_byte_and_long_line_refused(void **state)
{
	static const char nul[] = "workload mixed\ncpus 2\0\n";
	struct vx_error err = VX_ERROR_INIT;
	struct vx_eval_workload w;
	char longline[700];

	(void)state;
	assert_int_equal(vx_eval_workload_parse(nul, sizeof(nul) - 1, &w, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	memset(longline, 'x', sizeof(longline));
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): text with a length, no NUL */
	memcpy(longline, "workload mixed\n", 15);
	vx_error_clear(&err);
	assert_int_equal(vx_eval_workload_parse(longline, sizeof(longline), &w, &err), -EINVAL);
	assert_int_equal(err.line, 2);
}

/* What only the profile can say: registers the CPU lacks; bad arguments; the result zeroed. */
static void run_refuses_what_the_profile_lacks(void **state)
{
	struct vx_eval_workload w = et_workload("mixed");
	struct vx_error err = VX_ERROR_INIT;
	static struct vx_eval_result r;
	struct vx_profile adl;

	(void)state;
	et_profile(&adl, "alder-lake");
	/* Alder Lake has no AVX-512: zmm16 (Hi16_ZMM, component 7) is not in its XCR0. */
	snprintf(w.task_regs[0], sizeof(w.task_regs[0]), "zmm16");
	w.steps = 10;
	memset(&r, 0x77, sizeof(r));
	assert_int_equal(vx_eval_run(&adl, VX_KVM_CET_GUEST_ONLY, &w, 1, NULL, &r, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "zmm16"));
	assert_int_equal(r.run.steps, 0);
	assert_int_equal(r.memory.total, 0);
	/* The same for a guest register. */
	w = et_workload("vcpu-exits");
	w.steps = 10;
	snprintf(w.guest_regs[0], sizeof(w.guest_regs[0]), "zmmh1");
	vx_error_clear(&err);
	assert_int_equal(vx_eval_run(&adl, VX_KVM_CET_KVM_EAGER, &w, 1, NULL, &r, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "zmmh1"));
	/* Arguments. */
	w = et_workload("mixed");
	assert_int_equal(vx_eval_run(NULL, VX_KVM_CET_GUEST_ONLY, &w, 1, NULL, &r, &err), -EINVAL);
	assert_int_equal(vx_eval_run(&adl, VX_KVM_CET_DESIGN_COUNT, &w, 1, NULL, &r, &err),
			 -EINVAL);
	assert_int_equal(vx_eval_run(&adl, VX_KVM_CET_GUEST_ONLY, &w, 1, NULL, NULL, &err),
			 -EINVAL);
	w.cpus = 0;
	assert_int_equal(vx_eval_run(&adl, VX_KVM_CET_GUEST_ONLY, &w, 1, NULL, &r, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "cpus"));
}

/* A platform whose allocation number @fail_at fails; counts what is still allocated. */
struct failing {
	int fail_at, calls, live;
	struct vx_platform pf;
};

static void *failing_alloc(void *ctx, size_t size, size_t align)
{
	struct failing *f = ctx;

	if (f->calls++ == f->fail_at)
		return NULL;
	f->live++;
	return vx_platform_default()->alloc(NULL, size, align);
}

static void failing_free(void *ctx, void *ptr)
{
	struct failing *f = ctx;

	if (ptr)
		f->live--;
	vx_platform_default()->free(NULL, ptr);
}

/* Every allocation of a run may fail: the run says so (-ENOMEM, or -EIO naming the step a
 * layer refused), zeroes the result, and frees everything it had built. */
static void allocation_failures_are_clean(void **state)
{
	struct vx_eval_workload w = et_workload("amx");
	struct vx_eval_options o;
	static struct vx_eval_result r;
	struct vx_profile spr;
	int rc = -1, fail_at;

	(void)state;
	et_profile(&spr, "sapphire-rapids");
	w.steps = 30;
	vx_eval_options_init(&o);
	for (fail_at = 0; rc < 0 && fail_at < 400; fail_at++) {
		struct failing f = {fail_at, 0, 0, {failing_alloc, failing_free, NULL, NULL}};
		struct vx_error err = VX_ERROR_INIT;

		f.pf.ctx = &f;
		o.platform = &f.pf;
		rc = vx_eval_run(&spr, VX_KVM_CET_GUEST_ONLY, &w, 1, &o, &r, &err);
		assert_int_equal(f.live, 0);
		if (rc >= 0)
			break;
		assert_true(rc == -ENOMEM || rc == -EIO);
		assert_true(err.reason[0] != '\0');
		assert_int_equal(r.run.steps + r.memory.total, 0);
	}
	print_message("the run needs %d allocations\n", fail_at);
	assert_int_equal(rc, VX_EVAL_PASS);
}

static void counter_table_covers_the_struct(void **state)
{
	struct vx_eval_counters c;
	unsigned n = vx_eval_counter_count();

	(void)state;
	assert_int_equal(n * sizeof(uint64_t), sizeof(c));
	memset(&c, 0, sizeof(c));
	c.host_bytes_saved = 336;
	c.exits_user = 7;
	for (unsigned i = 0; i < n; i++) {
		const struct vx_eval_counter_info *info = vx_eval_counter_at(i);

		assert_non_null(info);
		assert_true(info->name[0] && info->unit[0] && info->meaning[0]);
		if (strcmp(info->name, "host_bytes_saved") == 0)
			assert_int_equal(vx_eval_counter_value(&c, i), 336);
		if (strcmp(info->name, "exits_user") == 0)
			assert_int_equal(vx_eval_counter_value(&c, i), 7);
	}
	assert_null(vx_eval_counter_at(n));
	assert_int_equal(vx_eval_counter_value(&c, n), 0);
	assert_string_equal(vx_eval_outcome_name(VX_EVAL_DESIGN_LOSS), "design-loss");
	assert_string_equal(vx_eval_check_name(VX_EVAL_CHECK_MSR), "msr");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(builtins_have_documented_defaults),
	    cmocka_unit_test(unknown_builtin_is_refused),
	    cmocka_unit_test(format_parse_round_trip),
	    cmocka_unit_test(user_file_overrides_named_keys),
	    cmocka_unit_test(bad_lines_name_line_and_word),
	    cmocka_unit_test(workload_rules),
	    cmocka_unit_test(nul_byte_and_long_line_refused),
	    cmocka_unit_test(run_refuses_what_the_profile_lacks),
	    cmocka_unit_test(allocation_failures_are_clean),
	    cmocka_unit_test(counter_table_covers_the_struct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
