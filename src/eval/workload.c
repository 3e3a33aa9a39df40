/* SPDX-License-Identifier: MIT */
/*
 * Workloads (issue 9 "Workloads"): the five built-ins as one table of defaults, the text
 * format (one "key value" a line, keys = the fields of struct vx_eval_workload) as one table
 * of keys, and the rules every workload obeys.  docs/eval.md documents both tables.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "eval/eval_internal.h"

static const char *const kind_names[VX_EVAL_KIND_COUNT] = {
    [VX_EVAL_CONTEXT_SWITCH] = "context-switch",
    [VX_EVAL_VCPU_EXITS] = "vcpu-exits",
    [VX_EVAL_MIXED] = "mixed",
    [VX_EVAL_AMX] = "amx",
    [VX_EVAL_THREADS] = "threads",
};

const char *vx_eval_kind_name(enum vx_eval_kind kind)
{
	return (unsigned)kind < VX_EVAL_KIND_COUNT ? kind_names[kind] : NULL;
}

int vx_eval_kind_by_name(const char *name)
{
	for (unsigned k = 0; name && k < VX_EVAL_KIND_COUNT; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return (int)k;
	return -ENOENT;
}

/* ----------------------------------------------------------------------------------------- */
/* The built-in workloads (docs/eval.md "Built-in workloads")                                   */

#define REGS1(r)                                                                                   \
	1,                                                                                         \
	{                                                                                          \
		r                                                                                  \
	}

static const struct vx_eval_workload builtins[VX_EVAL_KIND_COUNT] = {
    [VX_EVAL_CONTEXT_SWITCH] = {.kind = VX_EVAL_CONTEXT_SWITCH,
				.name = "context-switch",
				.cpus = 2,
				.tasks = 4,
				.steps = 10000,
				.slice = 16,
				.ntask_regs = REGS1("xmm0"),
				.nguest_regs = REGS1("xmm1"),
				.deep_check_every = 1},
    [VX_EVAL_VCPU_EXITS] = {.kind = VX_EVAL_VCPU_EXITS,
			    .name = "vcpu-exits",
			    .cpus = 2,
			    .vcpus = 2,
			    .vms = 1,
			    .steps = 2000,
			    .slice = 16,
			    .exit_every = 8,
			    .kernel_exits = 50,
			    .guest_shstk = true,
			    .guest_switch_every = 32,
			    .ntask_regs = REGS1("xmm0"),
			    .nguest_regs = REGS1("xmm1"),
			    .deep_check_every = 1},
    [VX_EVAL_MIXED] = {.kind = VX_EVAL_MIXED,
		       .name = "mixed",
		       .cpus = 2,
		       .tasks = 4,
		       .vcpus = 2,
		       .vms = 1,
		       .steps = 4000,
		       .slice = 16,
		       .exit_every = 16,
		       .kernel_exits = 50,
		       .guest_shstk = true,
		       .guest_switch_every = 32,
		       .migrate = 20,
		       .ntask_regs = REGS1("xmm0"),
		       .nguest_regs = REGS1("xmm1"),
		       .deep_check_every = 1},
    [VX_EVAL_AMX] = {.kind = VX_EVAL_AMX,
		     .name = "amx",
		     .cpus = 2,
		     .tasks = 4,
		     .vcpus = 2,
		     .vms = 2,
		     .steps = 2000,
		     .slice = 16,
		     .exit_every = 16,
		     .kernel_exits = 50,
		     .guest_shstk = true,
		     .guest_switch_every = 32,
		     .migrate = 10,
		     .amx_tasks = 2,
		     .amx_vcpus = 1,
		     .ntask_regs = REGS1("xmm0"),
		     .nguest_regs = REGS1("xmm1"),
		     .deep_check_every = 1},
    [VX_EVAL_THREADS] = {.kind = VX_EVAL_THREADS,
			 .name = "threads",
			 .cpus = 4,
			 .tasks = 9984,
			 .processes = 100,
			 .vcpus = 16,
			 .vms = 2,
			 .steps = 10000,
			 .slice = 8,
			 .exit_every = 8,
			 .kernel_exits = 50,
			 .guest_shstk = true,
			 .guest_switch_every = 32,
			 .ntask_regs = REGS1("xmm0"),
			 .nguest_regs = REGS1("xmm1"),
			 .deep_check_every = 64},
};

int vx_eval_workload_builtin(const char *name, struct vx_eval_workload *workload,
			     struct vx_error *err)
{
	int kind = vx_eval_kind_by_name(name);

	if (kind < 0)
		return vx_error_set(err, -ENOENT, "docs/eval.md",
				    "no built-in workload '%s' (context-switch, vcpu-exits, mixed, "
				    "amx, threads)",
				    name ? name : "(null)");
	*workload = builtins[kind];
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Registers a workload may name                                                                */

/* Components whose registers hold any value (mxcsr, x87 control words and PKRU do not). */
static const unsigned writable_components[] = {VX_COMP_SSE,	  VX_COMP_AVX,	    VX_COMP_OPMASK,
					       VX_COMP_ZMM_HI256, VX_COMP_HI16_ZMM, VX_COMP_APX};

const struct vx_reg_info *ev_writable_reg(const char *name)
{
	const struct vx_reg_info *r = vx_reg_lookup(name);

	if (!r || r->width == 0 || r->width % 8 || strcmp(r->name, "mxcsr") == 0)
		return NULL;
	for (size_t i = 0; i < sizeof(writable_components) / sizeof(writable_components[0]); i++)
		if (r->component == writable_components[i])
			return r;
	return NULL;
}

/* ----------------------------------------------------------------------------------------- */
/* The keys                                                                                     */

enum key_type { KEY_KIND, KEY_NAME, KEY_UINT, KEY_U64, KEY_BOOL, KEY_PERCENT, KEY_REGS };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	size_t count_offset; /* KEY_REGS: the count */
	uint64_t max;
};

#define FIELD(f) offsetof(struct vx_eval_workload, f)

static const struct key keys[] = {
    {"workload", KEY_KIND, FIELD(kind), 0, 0},
    {"name", KEY_NAME, FIELD(name), 0, 0},
    {"cpus", KEY_UINT, FIELD(cpus), 0, VX_EVAL_MAX_CPUS},
    {"tasks", KEY_UINT, FIELD(tasks), 0, VX_EVAL_MAX_TASKS},
    {"processes", KEY_UINT, FIELD(processes), 0, VX_EVAL_MAX_TASKS},
    {"vcpus", KEY_UINT, FIELD(vcpus), 0, VX_EVAL_MAX_VCPUS},
    {"vms", KEY_UINT, FIELD(vms), 0, VX_EVAL_MAX_VMS},
    {"steps", KEY_U64, FIELD(steps), 0, UINT64_C(1000000000000)},
    {"slice", KEY_UINT, FIELD(slice), 0, VX_EVAL_MAX_SLICE},
    {"exit-every", KEY_UINT, FIELD(exit_every), 0, VX_EVAL_MAX_SLICE},
    {"kernel-exits", KEY_PERCENT, FIELD(kernel_exits), 0, 100},
    {"guest-shstk", KEY_BOOL, FIELD(guest_shstk), 0, 1},
    {"guest-switch-every", KEY_UINT, FIELD(guest_switch_every), 0, VX_EVAL_MAX_SLICE},
    {"migrate", KEY_PERCENT, FIELD(migrate), 0, 100},
    {"amx-tasks", KEY_UINT, FIELD(amx_tasks), 0, VX_EVAL_MAX_TASKS},
    {"amx-vcpus", KEY_UINT, FIELD(amx_vcpus), 0, VX_EVAL_MAX_VCPUS},
    {"task-regs", KEY_REGS, FIELD(task_regs), FIELD(ntask_regs), VX_EVAL_REG_MAX},
    {"guest-regs", KEY_REGS, FIELD(guest_regs), FIELD(nguest_regs), VX_EVAL_REG_MAX},
    {"deep-check-every", KEY_UINT, FIELD(deep_check_every), 0, UINT32_MAX},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct key *key_by_name(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static void *field(struct vx_eval_workload *w, size_t offset)
{
	return (char *)w + offset;
}

static const void *cfield(const struct vx_eval_workload *w, size_t offset)
{
	return (const char *)w + offset;
}

/* ----------------------------------------------------------------------------------------- */
/* Values                                                                                       */

static int bad_value(struct vx_error *err, unsigned line, const struct key *k, const char *word,
		     const char *what)
{
	vx_error_set(err, -EINVAL, "docs/eval.md \"The format\"", "line %u: '%s' for %s: %s", line,
		     word, k->name, what);
	if (err)
		err->line = line;
	return -EINVAL;
}

static int parse_number(const char *word, uint64_t max, bool percent, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (!isdigit((unsigned char)word[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(word, &end, 0);
	if (percent && *end == '%')
		end++;
	if (errno || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static const struct {
	const char *word;
	bool value;
} bool_words[] = {{"yes", true}, {"true", true},   {"on", true},   {"1", true},
		  {"no", false}, {"false", false}, {"off", false}, {"0", false}};

static int parse_bool(const char *word, bool *out)
{
	for (size_t i = 0; i < sizeof(bool_words) / sizeof(bool_words[0]); i++) {
		if (strcmp(word, bool_words[i].word) == 0) {
			*out = bool_words[i].value;
			return 0;
		}
	}
	return -EINVAL;
}

static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

/* The next word of a comma- or blank-separated list, NUL-terminated in place; NULL at the end. */
static char *next_word(char **cursor)
{
	char *s = *cursor, *word;

	while (*s == ',' || isspace((unsigned char)*s))
		s++;
	if (!*s)
		return NULL;
	word = s;
	while (*s && *s != ',' && !isspace((unsigned char)*s))
		s++;
	if (*s)
		*s++ = '\0';
	*cursor = s;
	return word;
}

/* A register list; each name must be a register a workload may write. */
static int parse_regs(struct vx_eval_workload *w, const struct key *k, char *value, unsigned line,
		      struct vx_error *err)
{
	char(*regs)[VX_EVAL_REGNAME] = field(w, k->offset);
	unsigned *count = field(w, k->count_offset), n = 0;
	char *cursor = value;

	for (char *tok = next_word(&cursor); tok; tok = next_word(&cursor)) {
		if (n == VX_EVAL_REG_MAX)
			return bad_value(err, line, k, tok, "at most 4 registers");
		if (!ev_writable_reg(tok))
			return bad_value(err, line, k, tok,
					 "not a register a workload writes (xmm, ymmh, k, zmmh, "
					 "zmm, r16-r31)");
		snprintf(regs[n++], VX_EVAL_REGNAME, "%s", tok);
	}
	*count = n;
	return 0;
}

static int parse_numeric(struct vx_eval_workload *w, const struct key *k, char *word, unsigned line,
			 struct vx_error *err)
{
	uint64_t v = 0;

	if (parse_number(word, k->max, k->type == KEY_PERCENT, &v))
		return bad_value(err, line, k, word, "not a number in range");
	if (k->type == KEY_U64)
		*(uint64_t *)field(w, k->offset) = v;
	else
		*(unsigned *)field(w, k->offset) = (unsigned)v;
	return 0;
}

/* "workload KIND": the kind's defaults, then the file's other lines on top. */
static int parse_kind(struct vx_eval_workload *w, const struct key *k, char *value, unsigned line,
		      struct vx_error *err)
{
	int kind = vx_eval_kind_by_name(value);

	if (kind < 0)
		return bad_value(err, line, k, value, "not a workload kind");
	*w = builtins[kind];
	return 0;
}

static int parse_name(struct vx_eval_workload *w, const struct key *k, char *value, unsigned line,
		      struct vx_error *err)
{
	if (!name_ok(value) || strlen(value) >= VX_EVAL_NAME_MAX)
		return bad_value(err, line, k, value, "letters, digits, '-', '_', '.'");
	snprintf(w->name, sizeof(w->name), "%s", value);
	return 0;
}

static int parse_boolean(struct vx_eval_workload *w, const struct key *k, char *value,
			 unsigned line, struct vx_error *err)
{
	if (parse_bool(value, (bool *)field(w, k->offset)))
		return bad_value(err, line, k, value, "yes or no");
	return 0;
}

static void format_kind(const struct vx_eval_workload *w, const struct key *k, char *buf,
			size_t len)
{
	(void)k;
	snprintf(buf, len, "%s", vx_eval_kind_name(w->kind) ? vx_eval_kind_name(w->kind) : "?");
}

static void format_name(const struct vx_eval_workload *w, const struct key *k, char *buf,
			size_t len)
{
	(void)k;
	snprintf(buf, len, "%.*s", VX_EVAL_NAME_MAX - 1, w->name);
}

static void format_boolean(const struct vx_eval_workload *w, const struct key *k, char *buf,
			   size_t len)
{
	snprintf(buf, len, "%s", *(const bool *)cfield(w, k->offset) ? "yes" : "no");
}

static void format_u64(const struct vx_eval_workload *w, const struct key *k, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64, *(const uint64_t *)cfield(w, k->offset));
}

static void format_uint(const struct vx_eval_workload *w, const struct key *k, char *buf,
			size_t len)
{
	snprintf(buf, len, "%u%s", *(const unsigned *)cfield(w, k->offset),
		 k->type == KEY_PERCENT ? "%" : "");
}

static void format_regs(const struct vx_eval_workload *w, const struct key *k, char *buf,
			size_t len)
{
	const char(*regs)[VX_EVAL_REGNAME] = cfield(w, k->offset);
	unsigned n = *(const unsigned *)cfield(w, k->count_offset);
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n && i < VX_EVAL_REG_MAX && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%.*s", i ? "," : "",
					 VX_EVAL_REGNAME - 1, regs[i]);
}

/* How each type of key is read and written. */
static const struct {
	int (*parse)(struct vx_eval_workload *w, const struct key *k, char *value, unsigned line,
		     struct vx_error *err);
	void (*format)(const struct vx_eval_workload *w, const struct key *k, char *buf,
		       size_t len);
} key_types[] = {
    [KEY_KIND] = {parse_kind, format_kind},	  [KEY_NAME] = {parse_name, format_name},
    [KEY_UINT] = {parse_numeric, format_uint},	  [KEY_U64] = {parse_numeric, format_u64},
    [KEY_BOOL] = {parse_boolean, format_boolean}, [KEY_PERCENT] = {parse_numeric, format_uint},
    [KEY_REGS] = {parse_regs, format_regs},
};

/* ----------------------------------------------------------------------------------------- */
/* Parsing                                                                                      */

static char *trim(char *s)
{
	char *end;

	/* @s is a NUL-terminated copy of one line (vx_eval_workload_parse). */
	/* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.ArraySubscript) */
	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int line_error(struct vx_error *err, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int line_error(struct vx_error *err, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vx_error_vset(err, -EINVAL, "docs/eval.md \"The format\"", fmt, ap);
	va_end(ap);
	if (err)
		err->line = line;
	return -EINVAL;
}

/* One line "key value" (comment already cut); @seen_kind: the workload line came first. */
static int parse_line(struct vx_eval_workload *w, char *text, unsigned line, bool *seen_kind,
		      struct vx_error *err)
{
	char *s = trim(text), *value = s;
	const struct key *k;

	if (!*s)
		return 0;
	while (*value && !isspace((unsigned char)*value))
		value++;
	if (*value)
		*value++ = '\0';
	value = trim(value);
	k = key_by_name(s);
	if (!k)
		return line_error(err, line, "line %u: unknown key '%s'", line, s);
	if (!*seen_kind && k->type != KEY_KIND)
		return line_error(err, line, "line %u: '%s' before the first line 'workload KIND'",
				  line, s);
	if (*seen_kind && k->type == KEY_KIND)
		return line_error(err, line, "line %u: a second '%s' line", line, s);
	if (!*value)
		return line_error(err, line, "line %u: '%s' needs a value", line, s);
	*seen_kind = true;
	return key_types[k->type].parse(w, k, value, line, err);
}

int vx_eval_workload_parse(const char *text, size_t len, struct vx_eval_workload *workload,
			   struct vx_error *err)
{
	struct vx_eval_workload w;
	char buf[512];
	bool seen_kind = false;
	unsigned line = 0;
	size_t pos = 0;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	while (rc == 0 && pos < len) {
		size_t end = pos, n;

		while (end < len && text[end] != '\n')
			end++;
		line++;
		n = end - pos;
		if (n >= sizeof(buf))
			return line_error(err, line, "line %u: longer than 511 bytes", line);
		if (memchr(text + pos, '\0', n))
			return line_error(err, line, "line %u: a NUL byte", line);
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		if (strchr(buf, '#'))
			*strchr(buf, '#') = '\0';
		rc = parse_line(&w, buf, line, &seen_kind, err);
		pos = end + 1;
	}
	if (rc == 0 && !seen_kind)
		rc = vx_error_set(err, -EINVAL, "docs/eval.md \"The format\"",
				  "no 'workload KIND' line");
	if (rc == 0)
		rc = vx_eval_workload_check(&w, err);
	if (rc == 0)
		*workload = w;
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* Formatting                                                                                   */

size_t vx_eval_workload_format(const struct vx_eval_workload *workload, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < NKEYS; i++) {
		char value[VX_EVAL_REG_MAX * (VX_EVAL_REGNAME + 1) + 8];
		int n;

		key_types[keys[i].type].format(workload, &keys[i], value, sizeof(value));
		if (keys[i].type == KEY_REGS && !value[0])
			continue; /* an empty list is the absence of the key's line */
		n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, "%s %s\n",
			     keys[i].name, value);
		used += (size_t)n;
	}
	return used;
}

/* ----------------------------------------------------------------------------------------- */
/* The rules (docs/eval.md "The format")                                                        */

static int rule(struct vx_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int rule(struct vx_error *err, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vx_error_vset(err, -EINVAL, "docs/eval.md \"The format\"", fmt, ap);
	va_end(ap);
	return rc;
}

static int check_counts(const struct vx_eval_workload *w, struct vx_error *err)
{
	if (w->cpus < 1 || w->cpus > VX_EVAL_MAX_CPUS)
		return rule(err, "cpus %u: 1 to %u model CPUs", w->cpus, VX_EVAL_MAX_CPUS);
	if (w->tasks > VX_EVAL_MAX_TASKS || w->processes > VX_EVAL_MAX_TASKS)
		return rule(err, "tasks %u / processes %u: at most 200000", w->tasks, w->processes);
	if (w->tasks + w->vcpus == 0)
		return rule(err, "tasks %u and vcpus %u: nothing to run", w->tasks, w->vcpus);
	if (w->vcpus > VX_EVAL_MAX_VCPUS || w->vms > VX_EVAL_MAX_VMS)
		return rule(err, "vcpus %u / vms %u: at most 1024 vCPUs in 64 VMs", w->vcpus,
			    w->vms);
	if (w->vcpus && (w->vms == 0 || w->vms > w->vcpus))
		return rule(err, "vms %u: 1 to vcpus (%u) VMs hold the vCPUs", w->vms, w->vcpus);
	/* KVM here takes at most 64 vCPUs per VM (kvm_internal.h VX_KVM_MAX_VCPUS). */
	if (w->vcpus && (w->vcpus + w->vms - 1) / w->vms > 64)
		return rule(err, "vcpus %u in %u VMs: at most 64 vCPUs per VM", w->vcpus, w->vms);
	if (w->amx_tasks > w->tasks || w->amx_vcpus > w->vcpus)
		return rule(err, "amx-tasks/amx-vcpus %u/%u: more than there are", w->amx_tasks,
			    w->amx_vcpus);
	return 0;
}

static int check_kind(const struct vx_eval_workload *w, struct vx_error *err)
{
	if ((unsigned)w->kind >= VX_EVAL_KIND_COUNT)
		return rule(err, "workload kind %u out of range (%u kinds)", (unsigned)w->kind,
			    VX_EVAL_KIND_COUNT);
	/* context_switch1: pairs of tasks, no vCPUs (issue 9). */
	if (w->kind == VX_EVAL_CONTEXT_SWITCH && (w->tasks < 2 || w->tasks % 2 || w->vcpus))
		return rule(err, "context-switch: tasks %u must be pairs (even, >= 2), vcpus %u 0",
			    w->tasks, w->vcpus);
	if (w->slice < 1 || w->slice > VX_EVAL_MAX_SLICE)
		return rule(err, "slice %u: 1 to %u guest instructions", w->slice,
			    VX_EVAL_MAX_SLICE);
	if (w->kernel_exits > 100 || w->migrate > 100)
		return rule(err, "kernel-exits %u%% / migrate %u%%: percentages", w->kernel_exits,
			    w->migrate);
	if (w->guest_switch_every == 1)
		return rule(err, "guest-switch-every %u: 0 (never) or >= %u (a read and a write)",
			    w->guest_switch_every, 2);
	return 0;
}

static int check_regs(const char (*regs)[VX_EVAL_REGNAME], unsigned n, unsigned max_width,
		      const char *what, struct vx_error *err)
{
	if (n > VX_EVAL_REG_MAX)
		return vx_error_set(err, -EINVAL, "docs/eval.md", "%s: %u registers, at most %u",
				    what, n, VX_EVAL_REG_MAX);
	for (unsigned i = 0; i < n; i++) {
		const struct vx_reg_info *r =
		    memchr(regs[i], '\0', VX_EVAL_REGNAME) ? ev_writable_reg(regs[i]) : NULL;

		if (!r)
			return vx_error_set(err, -EINVAL, "docs/eval.md",
					    "%s: '%.15s' is not a register a workload writes (xmm, "
					    "ymmh, k, zmmh, zmm, r16-r31)",
					    what, regs[i]);
		if (r->width > max_width)
			return vx_error_set(err, -EINVAL, "docs/eval.md",
					    "%s: %s is %u bytes, a guest op holds at most %u", what,
					    r->name, r->width, max_width);
	}
	return 0;
}

int vx_eval_workload_check(const struct vx_eval_workload *workload, struct vx_error *err)
{
	const struct vx_eval_workload *w = workload;
	int rc;

	if (!w)
		return vx_error_set(err, -EINVAL, NULL, "no workload");
	if (!memchr(w->name, '\0', sizeof(w->name)) || !name_ok(w->name))
		return vx_error_set(err, -EINVAL, "docs/eval.md",
				    "name: letters, digits, '-', '_', '.' (1-31 of them)");
	rc = check_kind(w, err);
	if (rc == 0)
		rc = check_counts(w, err);
	if (rc == 0)
		rc = check_regs(w->task_regs, w->ntask_regs, UINT32_MAX, "task-regs", err);
	if (rc == 0)
		rc = check_regs(w->guest_regs, w->nguest_regs, VX_EVAL_GUEST_WIDTH, "guest-regs",
				err);
	return rc;
}
