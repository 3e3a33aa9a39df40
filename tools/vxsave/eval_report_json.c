/* SPDX-License-Identifier: MIT */
/*
 * `vxsave eval --json`: the whole session as one document (docs/cli.md "vxsave eval"): the
 * profile, seed, the cost table used, every result with every counter by its table name
 * (vx_eval_counter_at()), memory, outcome, violation and losses, the derived figures and
 * the verdict.  No wall times and no timestamps: the same seed gives the same bytes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval_report.h"
#include "json_output.h"

/* A figure: a JSON number, or null where the workload has nothing to divide by. */
static json_t *real_or_null(double value)
{
	return isnan(value) || isinf(value) ? json_null() : json_real(value);
}

static json_t *counters_json(const struct vx_eval_counters *c)
{
	json_t *o = json_object();

	for (unsigned i = 0; i < vx_eval_counter_count(); i++)
		cli_json_set(o, vx_eval_counter_at(i)->name,
			     json_integer((json_int_t)vx_eval_counter_value(c, i)));
	return o;
}

static json_t *memory_json(const struct vx_eval_memory *m)
{
	json_t *o = json_object();

	cli_json_set(o, "host_threads", json_integer((json_int_t)m->host_threads));
	cli_json_set(o, "vcpus", json_integer((json_int_t)m->vcpus));
	cli_json_set(o, "host_thread_min", json_integer((json_int_t)m->host_thread_min));
	cli_json_set(o, "host_thread_max", json_integer((json_int_t)m->host_thread_max));
	cli_json_set(o, "vcpu_fpstate", json_integer((json_int_t)m->vcpu_fpstate));
	cli_json_set(o, "vcpu_kvm_copy", json_integer((json_int_t)m->vcpu_kvm_copy));
	cli_json_set(o, "vcpu_thread", json_integer((json_int_t)m->vcpu_thread));
	cli_json_set(o, "total", json_integer((json_int_t)m->total));
	cli_json_set(o, "peak", json_integer((json_int_t)m->peak));
	return o;
}

static json_t *violation_json(const struct vx_eval_violation *v)
{
	json_t *o = json_object(), *history = json_array();

	cli_json_set(o, "check", json_string(vx_eval_check_name(v->check)));
	cli_json_set(o, "step", json_integer((json_int_t)v->step));
	cli_json_set(o, "seed", json_integer((json_int_t)v->seed));
	cli_json_set(o, "design", json_string(vx_kvm_cet_design_name(v->design)));
	cli_json_set(o, "register", cli_json_text(v->reg));
	cli_json_set(o, "owner", cli_json_text(v->owner));
	cli_json_set(o, "where", cli_json_text(v->where));
	cli_json_set(o, "expected", cli_json_hex(v->expected));
	cli_json_set(o, "observed", cli_json_hex(v->observed));
	cli_json_set(o, "text", cli_json_text(v->text));
	for (unsigned i = 0; i < v->nhistory && i < VX_EVAL_HISTORY; i++)
		json_array_append_new(history, cli_json_text(v->history[i]));
	cli_json_set(o, "history", history);
	return o;
}

static json_t *losses_json(const struct vx_eval_loss *l)
{
	json_t *o = json_object();

	cli_json_set(o, "count", json_integer((json_int_t)l->count));
	if (!l->count)
		return o;
	cli_json_set(o, "first_step", json_integer((json_int_t)l->step));
	cli_json_set(o, "vcpu", json_integer(l->vcpu));
	cli_json_set(o, "register", cli_json_text(l->reg));
	cli_json_set(o, "expected", cli_json_hex(l->expected));
	cli_json_set(o, "observed", cli_json_hex(l->observed));
	return o;
}

static json_t *figures_json(const struct eval_figures *f, const struct eval_figures *base)
{
	static const struct {
		const char *name;
		size_t offset;
	} keys[] = {
	    {"memory_per_thread", offsetof(struct eval_figures, mem_thread)},
	    {"memory_per_vcpu", offsetof(struct eval_figures, mem_vcpu)},
	    {"bytes_per_save", offsetof(struct eval_figures, saved_per_switch)},
	    {"bytes_per_restore", offsetof(struct eval_figures, restored_per_switch)},
	    {"kvm_msr_per_1000_exits", offsetof(struct eval_figures, msr_per_kexits)},
	    {"msr_exits_per_1000_exits", offsetof(struct eval_figures, msr_exits_per_kexits)},
	    {"ns_per_operation", offsetof(struct eval_figures, time_per_op)},
	};
	json_t *o = json_object(), *rel = json_object();

	cli_json_set(o, "operations", json_integer((json_int_t)f->operations));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		double v, b = NAN;

		memcpy(&v, (const char *)f + keys[i].offset, sizeof(v));
		if (base)
			memcpy(&b, (const char *)base + keys[i].offset, sizeof(b));

		cli_json_set(o, keys[i].name, real_or_null(v));
		cli_json_set(rel, keys[i].name, real_or_null(b != 0 ? v / b : NAN));
	}
	cli_json_set(o, "relative_to_baseline", rel);
	return o;
}

static json_t *cost_json(const struct vx_eval_cost_breakdown *b)
{
	json_t *o = json_object();

	for (unsigned i = 0; i < VX_COST_CAT_COUNT; i++)
		cli_json_set(o, vx_eval_cost_category_name((enum vx_eval_cost_category)i),
			     json_real(b->ns[i]));
	cli_json_set(o, "total_ns", json_real(b->total_ns));
	cli_json_set(o, "per_operation_ns", json_real(b->per_operation_ns));
	return o;
}

static json_t *cell_json(const struct eval_cell *c, const struct eval_cell *base)
{
	const struct vx_eval_result *r = &c->result;
	json_t *o = json_object();
	char outcome[48];

	cli_json_set(o, "design", json_string(vx_kvm_cet_design_name(r->design)));
	cli_json_set(o, "outcome", json_string(eval_outcome_text(c, outcome, sizeof(outcome))));
	if (c->rc < 0) {
		cli_json_set(
		    o, "error",
		    cli_json_text(c->err.reason[0] ? c->err.reason : vx_errno_name(c->rc)));
		return o;
	}
	cli_json_set(o, "seed", json_integer((json_int_t)r->seed));
	cli_json_set(o, "flavour", json_string(vx_kvm_flavour_name(r->flavour)));
	cli_json_set(o, "shstk_offered", json_boolean(r->shstk_offered));
	cli_json_set(o, "amx_available", json_boolean(r->amx_available));
	cli_json_set(o, "host_default_bytes", json_integer(r->host_default_bytes));
	cli_json_set(o, "guest_default_bytes", json_integer(r->guest_default_bytes));
	cli_json_set(o, "setup", counters_json(&r->setup));
	cli_json_set(o, "run", counters_json(&r->run));
	cli_json_set(o, "memory", memory_json(&r->memory));
	cli_json_set(o, "violation",
		     r->outcome == VX_EVAL_VIOLATION ? violation_json(&r->violation) : NULL);
	cli_json_set(o, "losses", losses_json(&r->losses));
	cli_json_set(o, "figures",
		     figures_json(&c->fig, base && base->rc >= 0 ? &base->fig : NULL));
	cli_json_set(o, "cost", cost_json(&c->cost));
	return o;
}

static json_t *workload_json(const struct eval_session *s, unsigned w)
{
	const struct vx_eval_workload *wl = &s->workloads[w];
	size_t len = vx_eval_workload_format(wl, NULL, 0);
	char *text = malloc(len + 1);
	json_t *o = json_object(), *results = json_array();

	cli_json_set(o, "name", cli_json_text(wl->name));
	cli_json_set(o, "kind", json_string(vx_eval_kind_name(wl->kind)));
	cli_json_set(o, "operation", json_string(eval_operation_name(wl->kind)));
	if (text)
		vx_eval_workload_format(wl, text, len + 1);
	cli_json_set(o, "definition", text ? cli_json_text(text) : NULL);
	free(text);
	for (unsigned d = 0; d < s->ndesigns; d++)
		json_array_append_new(
		    results, cell_json(eval_cell_at(s, w, d), eval_cell_at(s, w, s->baseline)));
	cli_json_set(o, "results", results);
	return o;
}

static json_t *costs_json(const struct vx_eval_cost_table *t)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < VX_COST_COUNT; i++) {
		const struct vx_eval_cost_entry *e = &t->entry[i];
		json_t *o = json_object();

		cli_json_set(o, "name",
			     json_string(vx_eval_cost_info((enum vx_eval_cost_id)i)->name));
		cli_json_set(o, "value", json_real(e->value));
		cli_json_set(o, "unit", cli_json_text(e->unit));
		cli_json_set(o, "model_value",
			     json_real(vx_eval_cost_ns(t, (enum vx_eval_cost_id)i)));
		cli_json_set(o, "origin", json_string(vx_eval_cost_origin_name(e->origin)));
		cli_json_set(o, "source", cli_json_text(e->source));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *spread_json(const struct eval_session *s)
{
	json_t *o, *seeds, *at, *go;

	if (!s->spread_run)
		return json_null();
	o = json_object();
	seeds = json_array();
	at = json_array();
	go = json_array();
	cli_json_set(o, "workload", cli_json_text(s->spread_workload.name));
	for (unsigned i = 0; i < EVAL_SPREAD_SEEDS; i++) {
		json_array_append_new(seeds, json_integer((json_int_t)s->seed + (json_int_t)i));
		json_array_append_new(at, real_or_null(s->spread[2 * i].fig.time_per_op));
		json_array_append_new(go, real_or_null(s->spread[2 * i + 1].fig.time_per_op));
	}
	cli_json_set(o, "seeds", seeds);
	cli_json_set(o, "all-tasks_ns_per_switch", at);
	cli_json_set(o, "guest-only_ns_per_switch", go);
	return o;
}

static json_t *sweep_json(const struct eval_session *s)
{
	json_t *a;

	if (!s->sweep_run)
		return json_null();
	a = json_array();
	for (unsigned i = 0; i < EVAL_SWEEP_POINTS; i++)
		for (unsigned d = 0; d < s->ndesigns; d++) {
			const struct eval_cell *c = &s->sweep[i * s->ndesigns + d];
			json_t *o = json_object();

			cli_json_set(o, "threads", json_integer(s->sweep_threads[i]));
			cli_json_set(o, "design",
				     json_string(vx_kvm_cet_design_name(s->designs[d])));
			cli_json_set(o, "memory",
				     c->rc >= 0 ? memory_json(&c->result.memory) : NULL);
			json_array_append_new(a, o);
		}
	return a;
}

static json_t *verdict_json(const struct eval_session *s)
{
	const struct eval_verdict *v = &s->verdict;
	json_t *o = json_object();
	char memory[512], sw[512];

	eval_verdict_sentences(s, memory, sizeof(memory), sw, sizeof(sw));
	cli_json_set(o, "thread_saving_bytes",
		     v->memory_known ? json_integer((json_int_t)v->thread_saving) : NULL);
	cli_json_set(o, "thread_saving_10000_threads_kib",
		     v->memory_known ? json_real((double)v->thread_saving * 10000.0 / 1024.0)
				     : NULL);
	cli_json_set(o, "switch_diff_percent", v->switch_known ? json_real(v->diff_pct) : NULL);
	cli_json_set(o, "spread_percent", v->switch_known ? json_real(v->spread_pct) : NULL);
	cli_json_set(o, "within_variation", v->switch_known ? json_boolean(v->within) : NULL);
	cli_json_set(o, "memory", json_string(memory));
	cli_json_set(o, "switch", json_string(sw));
	cli_json_set(o, "evaluations", json_integer(v->runs));
	cli_json_set(o, "violations", json_integer(v->violations));
	cli_json_set(o, "design_losses", json_integer(v->losses));
	cli_json_set(o, "errors", json_integer(v->errors));
	return o;
}

json_t *eval_session_json(const struct eval_session *s)
{
	json_t *root = json_object(), *designs = json_array(), *workloads = json_array();

	cli_json_set(root, "command", json_string("eval"));
	cli_json_set(root, "profile", cli_json_text(s->profile.name));
	cli_json_set(root, "source", cli_json_text(s->source));
	cli_json_set(root, "seed", json_integer((json_int_t)s->seed));
	for (unsigned d = 0; d < s->ndesigns; d++)
		json_array_append_new(designs, json_string(vx_kvm_cet_design_name(s->designs[d])));
	cli_json_set(root, "designs", designs);
	cli_json_set(root, "baseline",
		     json_string(vx_kvm_cet_design_name(s->designs[s->baseline])));
	cli_json_set(root, "costs", costs_json(&s->costs));
	for (unsigned w = 0; w < s->nworkloads; w++)
		json_array_append_new(workloads, workload_json(s, w));
	cli_json_set(root, "workloads", workloads);
	cli_json_set(root, "spread", spread_json(s));
	cli_json_set(root, "memory_sweep", sweep_json(s));
	cli_json_set(root, "verdict", verdict_json(s));
	return root;
}
