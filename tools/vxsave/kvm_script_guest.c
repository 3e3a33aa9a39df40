/* SPDX-License-Identifier: MIT */
/*
 * Guest programs, KVM_RUN and the host scheduler (kvm_script_internal.h; kvm_run.h): `kvm
 * guest` appends an instruction to a vCPU's program, `kvm run` is KVM_RUN by a thread of the
 * VM's process on a model CPU (one instruction at a time, so each one's outcome is printed:
 * its result, the exception the guest took, and whether it exited to KVM or ran without an
 * exit), `kvm sched` puts a task on a CPU through KVM's preempt notifiers, `kvm return` fires
 * the user-return notifiers.  The model only (kvm_script_kinds.c refuses them with --real).
 * Reference: docs/kvm-script.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_script_internal.h"

KS_RUN(ks_run_guest)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct kvm_script_vcpu *v;
	struct vx_kvm_guest_op *ops;
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (rc)
		return rc;
	if (v->nops == KVM_SCRIPT_OPS_MAX)
		return sg_run_error(r, -E2BIG, "vCPU %s: more than %u guest instructions", v->name,
				    KVM_SCRIPT_OPS_MAX);
	/* KVM_RUN reads the program only while it runs: growing it between runs is safe. */
	ops = realloc(v->ops, (v->nops + 1) * sizeof(*ops));
	if (!ops)
		return sg_run_error(r, -ENOMEM, "out of memory");
	ops[v->nops++] = s->guest.insn;
	v->ops = ops;
	v->run.ops = ops;
	v->run.count = v->nops;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_RUN                                                                                      */

/* The thread that runs: `by TASK`, or the one that created the vCPU. */
static int run_thread(struct sg_runner *r, struct kvm_script_context *c, const struct ks_stmt *s,
		      const struct kvm_script_vcpu *v, struct vx_fpu_task **task)
{
	*task = v->task;
	return s->by ? fs_find_task(r, c->fpu, s->task, task) : 0;
}

/* `on CPU`, else where the thread runs, else where it ran last, else CPU 0. */
static int run_cpu(struct sg_runner *r, const struct kvm_script_context *c, const struct ks_stmt *s,
		   const struct vx_fpu_task *task, unsigned *cpu)
{
	struct vx_fpu_task_info info;
	unsigned ncpus = vx_fpu_machine_ncpus(c->fpu->machine);

	vx_fpu_task_info(task, &info);
	*cpu = s->on		    ? s->number
	       : info.cpu >= 0	    ? (unsigned)info.cpu
	       : info.last_cpu >= 0 ? (unsigned)info.last_cpu
				    : 0;
	if (*cpu >= ncpus)
		return sg_run_error(r, -EINVAL, "no CPU %u (the machine has %u)", *cpu, ncpus);
	return 0;
}

/* What one guest instruction did: its value, the exception, or the exit to userspace. */
static void op_outcome(const struct vx_kvm_guest_op *op, const struct vx_kvm_run *run, int status,
		       char *buf, size_t len)
{
	char event[48];

	if (run->event.kind != VX_EVENT_NONE)
		snprintf(buf, len, "%s (%s)", vx_event_name(&run->event, event, sizeof(event)),
			 run->event.reason);
	else if (status == VX_KVM_RUN_EXIT && run->exit_reason == VX_KVM_EXIT_IO)
		snprintf(buf, len, "exit to userspace: KVM_EXIT_IO, port 0x%x, value 0x%llx",
			 op->index, (unsigned long long)op->value);
	else if (status == VX_KVM_RUN_EXIT && run->exit_reason == VX_KVM_EXIT_HLT)
		snprintf(buf, len, "exit to userspace: KVM_EXIT_HLT");
	/* Quirk pvm-cpl0-emulated: KVM's emulator cannot run it; the program stays on it. */
	else if (status == VX_KVM_RUN_EXIT)
		snprintf(buf, len,
			 "exit to userspace: KVM_EXIT_INTERNAL_ERROR (emulation): not executed, "
			 "the program stays on it");
	else if (op->op == VX_KVM_GOP_RDMSR || op->op == VX_KVM_GOP_XGETBV ||
		 op->op == VX_KVM_GOP_GET_REG || op->op == VX_KVM_GOP_RDSSP)
		snprintf(buf, len, "0x%llx", (unsigned long long)run->value);
	else
		snprintf(buf, len, "ok");
}

static void print_op(struct sg_runner *r, const struct kvm_script_vcpu *v, unsigned cpu,
		     const struct vx_kvm_guest_op *op, int status, uint64_t exits_before)
{
	char text[96], outcome[320];
	bool exited = v->run.vm_exits != exits_before;

	if (r->options->quiet)
		return;
	ks_format_gop(op, text, sizeof(text));
	op_outcome(op, &v->run, status, outcome, sizeof(outcome));
	fprintf(r->out, "  %s on CPU %u: %s -> %s%s\n", v->name, cpu, text, outcome,
		status == VX_KVM_RUN_EXIT ? ""
		: exited		  ? " [VM exit, handled by KVM]"
					  : " [no VM exit]");
}

static const char *status_text(const struct kvm_script_vcpu *v, char *buf, size_t len,
			       unsigned steps)
{
	if (v->status == VX_KVM_RUN_PREEMPTED)
		snprintf(buf, len,
			 "preempted after %u instruction%s (the thread stays inside KVM_RUN)",
			 steps, steps == 1 ? "" : "s");
	else if (v->status == VX_KVM_RUN_EXIT)
		snprintf(buf, len, "exit %s", fs_choice_name(ks_exits, v->run.exit_reason));
	else
		snprintf(buf, len, "done (the program ended)");
	return buf;
}

/* One instruction (budget 1): the same as a longer run, observed after each step. */
static int step(struct sg_runner *r, struct kvm_script_vcpu *v, struct vx_fpu_task *task,
		unsigned cpu)
{
	struct vx_error err = VX_ERROR_INIT;
	uint64_t exits = v->run.vm_exits;
	unsigned pc = v->run.pc;
	int status = vx_kvm_vcpu_run(v->vcpu, task, cpu, &v->run, 1, &err);

	if (status < 0)
		return fs_model_error(r, status, "KVM_RUN", &err);
	v->status = status;
	/* An exit before the instruction ran (an emulator stop) leaves the program on it. */
	if (v->run.pc == pc && status == VX_KVM_RUN_EXIT && pc < v->nops)
		print_op(r, v, cpu, &v->ops[pc], status, exits);
	if (v->run.pc == pc)
		return 0;
	r->summary->operations++;
	if (v->run.event.kind != VX_EVENT_NONE)
		r->summary->faults++;
	print_op(r, v, cpu, &v->ops[pc], status, exits);
	return 1;
}

KS_RUN(ks_run_run)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct kvm_script_vcpu *v;
	struct vx_fpu_task *task;
	unsigned cpu = 0, steps = 0;
	char text[96];
	int rc = ks_find_vcpu(r, c, s->name, &v);

	if (!rc)
		rc = run_thread(r, c, s, v, &task);
	if (!rc)
		rc = run_cpu(r, c, s, task, &cpu);
	if (rc)
		return rc;
	v->run.ops = v->ops;
	v->run.count = v->nops;
	do {
		rc = step(r, v, task, cpu);
		if (rc < 0)
			return rc;
		steps += (unsigned)rc;
	} while (v->status == VX_KVM_RUN_PREEMPTED && (!s->has_budget || steps < s->budget));
	if (!r->options->quiet)
		fprintf(r->out, "KVM_RUN(%s) by %s on CPU %u: %s\n", v->name,
			fs_task_name(c->fpu, task), cpu, status_text(v, text, sizeof(text), steps));
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* The host scheduler                                                                           */

KS_RUN(ks_run_sched)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *task;
	int rc = ks_need_module(r, c);

	if (!rc)
		rc = fs_find_task(r, c->fpu, s->name, &task);
	if (!rc && s->number >= vx_fpu_machine_ncpus(c->fpu->machine))
		rc = sg_run_error(r, -EINVAL, "no CPU %u (the machine has %u)", s->number,
				  vx_fpu_machine_ncpus(c->fpu->machine));
	if (rc)
		return rc;
	/* Preempt notifiers (kvm_sched_out/in) around the context switch (kvm.md §6.2). */
	rc = vx_kvm_sched(c->kvm, task, s->number, &err);
	if (rc < 0)
		return fs_model_error(r, rc, "sched", &err);
	if (!r->options->quiet)
		fprintf(r->out, "sched: %s runs on CPU %u\n", s->name, s->number);
	return 0;
}

KS_RUN(ks_run_return)
{
	struct kvm_script_context *c = context;
	const struct ks_stmt *s = KS_STMT(stmt);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *task;
	char call[64];
	int rc = ks_need_module(r, c);

	if (!rc)
		rc = fs_find_task(r, c->fpu, s->name, &task);
	if (rc)
		return rc;
	/* The CPU's user-return notifiers, then switch_fpu_return() (kvm_run.h). */
	rc = vx_kvm_return_to_user(c->kvm, task, &err);
	ks_record(r, c, "return to user", rc);
	snprintf(call, sizeof(call), "return to user(%s)", s->name);
	ks_print_outcome(r, c, call, rc, &err, NULL);
	return 0;
}
