/* SPDX-License-Identifier: MIT */
/*
 * Tasks and their struct fpu (linux-fpu.md §3.2): the task allocation carries the default-sized
 * __fpstate (arch_task_struct_size, §2.2), grown fpstates are separate "vmalloc" blocks
 * (§5.3), and the fpstate/perm resets of fpstate_reset() (§3.1, §3.3).  Also user-mode
 * register use: the task returns to user mode and the instruction runs on its CPU at CPL3.
 */
#include <errno.h>
#include <string.h>

#include "task_internal.h"

#define ALIGN64(x) (((x) + 63u) & ~(size_t)63u)

/* ----------------------------------------------------------------------------------------- */
/* fpstates                                                                                     */

/* vzalloc(size + ALIGN(offsetof(struct fpstate, regs), 64)) (§5.3, §6): one zeroed block. */
struct vx_fpstate *fpu_fpstate_valloc(struct vx_fpu_machine *m, uint32_t size)
{
	size_t head = ALIGN64(sizeof(struct vx_fpstate));
	uint8_t *block = m->platform->alloc(m->platform->ctx, head + ALIGN64(size), 64);
	struct vx_fpstate *fps = (struct vx_fpstate *)block;

	if (!block)
		return NULL;
	memset(block, 0, head + ALIGN64(size));
	fps->regs = block + head;
	fps->size = size;
	fps->is_valloc = true;
	return fps;
}

void fpu_fpstate_vfree(struct vx_fpu_machine *m, struct vx_fpstate *fps)
{
	m->platform->free(m->platform->ctx, fps);
}

/* __fpstate_reset() (§3.1 table): host or guest defaults; the image is not touched. */
void fpu_fpstate_reset(const struct vx_fpu_system *sys, struct vx_fpstate *fps, bool guest)
{
	fps->size = guest ? sys->guest.size : sys->kernel.default_size;
	fps->xfeatures = guest ? sys->guest.features : sys->kernel.default_features;
	fps->xfd = guest ? 0 : sys->init_xfd;
	fps->user_size = sys->user.default_size;
	fps->user_xfeatures = sys->user.default_features;
	fps->is_guest = guest;
}

/* fpstate_reset()'s perms (§3.3): host defaults, guest defaults (patch 2 of the series). */
void fpu_perm_reset(struct vx_fpu_task *t)
{
	const struct vx_fpu_system *sys = t->machine->sys;

	t->fpu.perm.state_perm = sys->kernel.default_features;
	t->fpu.perm.state_size = sys->kernel.default_size;
	t->fpu.perm.user_state_size = sys->user.default_size;
	t->fpu.guest_perm.state_perm = sys->guest.features;
	t->fpu.guest_perm.state_size = sys->guest.size;
	t->fpu.guest_perm.user_state_size = sys->user.default_size;
}

/* fpu_reset_fpregs() (§8.4): the memory image becomes a copy of init_fpstate. */
void fpu_image_from_init(const struct vx_fpu_system *sys, struct vx_fpstate *fps)
{
	uint32_t size = sys->init_size < fps->size ? sys->init_size : fps->size;

	memset(fps->regs, 0, fps->size);
	memcpy(fps->regs, sys->init_image, size);
}

/* The task's own fpstate (the parked one while a guest's is installed). */
static struct vx_fpstate *own_fpstate(struct vx_fpu_task *t)
{
	return t->fpu.task_fpstate ? t->fpu.task_fpstate : t->fpu.fpstate;
}

/* fpstate_free() (§5.3): a grown fpstate is freed; the embedded one never is. */
void fpu_fpstate_free(struct vx_fpu_task *t)
{
	struct vx_fpstate *fps = own_fpstate(t);

	if (fps != &t->fpu.embedded && fps->is_valloc && !fps->is_guest) {
		t->counters.fpstate_bytes -= fps->size;
		fpu_fpstate_vfree(t->machine, fps);
	}
	if (t->fpu.task_fpstate)
		t->fpu.task_fpstate = &t->fpu.embedded;
	else
		t->fpu.fpstate = &t->fpu.embedded;
}

/* ----------------------------------------------------------------------------------------- */
/* The task object                                                                              */

/*
 * One allocation: the task, then its __fpstate image (kernel default size, §2.2
 * fpu__init_task_struct_size), reset to host defaults, perms to defaults, TIF_NEED_FPU_LOAD.
 */
struct vx_fpu_task *fpu_task_alloc(struct vx_fpu_machine *m)
{
	const struct vx_fpu_system *sys = m->sys;
	size_t head = ALIGN64(sizeof(struct vx_fpu_task));
	uint8_t *block =
	    m->platform->alloc(m->platform->ctx, head + ALIGN64(sys->kernel.default_size), 64);
	struct vx_fpu_task *t = (struct vx_fpu_task *)block;

	if (!block)
		return NULL;
	memset(block, 0, head + ALIGN64(sys->kernel.default_size));
	t->machine = m;
	t->cpu = -1;
	t->fpu.last_cpu = -1;
	t->need_fpu_load = true;
	t->pkru = FPU_INIT_PKRU;
	t->fpu.embedded.regs = block + head;
	fpu_fpstate_reset(sys, &t->fpu.embedded, false);
	t->fpu.fpstate = &t->fpu.embedded;
	fpu_perm_reset(t);
	t->counters.fpstate_bytes = t->fpu.embedded.size;
	return t;
}

void fpu_task_free(struct vx_fpu_task *t)
{
	t->machine->platform->free(t->machine->platform->ctx, t);
}

struct vx_fpu_task *fpu_group_leader(const struct vx_fpu_task *t)
{
	return t->process->leader;
}

void vx_fpu_task_info(const struct vx_fpu_task *task, struct vx_fpu_task_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = task->id;
	info->is_leader = task->process->leader == task;
	info->fpstate = task->fpu.fpstate;
	info->task_fpstate = task->fpu.task_fpstate;
	info->embedded = &task->fpu.embedded;
	info->perm = task->fpu.perm;
	info->guest_perm = task->fpu.guest_perm;
	info->last_cpu = task->fpu.last_cpu;
	info->cpu = task->cpu;
	info->need_fpu_load = task->need_fpu_load;
	info->sas_ss_size = task->sas_ss_size;
	info->pkru = task->pkru;
	info->counters = task->counters;
}

struct vx_fpu_process *vx_fpu_task_process(const struct vx_fpu_task *task)
{
	return task->process;
}

/* ----------------------------------------------------------------------------------------- */
/* User-mode instructions                                                                       */

struct user_insn {
	const struct vx_reg_info *reg; /* set_reg, or NULL for use */
	const void *value;
	size_t width;
	uint64_t components;
};

static int exec_user_insn(struct vx_cpu *cpu, const struct user_insn *insn, struct vx_event *ev)
{
	if (insn->reg)
		return vx_cpu_set_reg(cpu, insn->reg, insn->value, insn->width, ev);
	return vx_cpu_use(cpu, insn->components, ev);
}

/* Signals for the exceptions a user instruction can raise besides an XFD #NM. */
static const struct {
	unsigned vector;
	int signal;
	int si_code;
} fault_signals[] = {
    {VX_VEC_UD, VX_SIGILL, VX_ILL_ILLOPN},
    {VX_VEC_GP, VX_SIGSEGV, VX_SI_KERNEL},
};

static void fault_signal(struct vx_fpu_user_result *res)
{
	res->signal = VX_SIGSEGV;
	res->si_code = VX_SI_KERNEL;
	for (size_t i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++) {
		if (fault_signals[i].vector == res->event.vector) {
			res->signal = fault_signals[i].signal;
			res->si_code = fault_signals[i].si_code;
		}
	}
}

/*
 * exc_device_not_available() (§5.2): an XFD event grows the fpstate and the instruction is
 * re-executed (1); no permission → SIGILL/ILL_ILLOPC, no memory → SIGSEGV (0).  An #NM that is
 * not an XFD event cannot be fixed up on a 64-bit kernel: "unexpected #NM exception", die.
 */
static int handle_nm(struct vx_fpu_task *t, struct vx_fpu_user_result *res, struct vx_error *err)
{
	struct vx_error local = VX_ERROR_INIT;
	int rc = vx_fpu_handle_xfd_event(t, &local);

	if (rc == -ENOENT)
		return vx_error_set(err, -EFAULT, "linux-fpu.md §5.2",
				    "unexpected #NM exception: IA32_XFD_ERR is 0 (die)");
	res->nm_events++;
	if (rc == 0)
		return 1;
	res->signal = rc == -EPERM ? VX_SIGILL : VX_SIGSEGV;
	res->si_code = rc == -EPERM ? VX_ILL_ILLOPC : VX_SI_KERNEL;
	return rc == -EPERM || rc == -EFAULT ? 0 : vx_error_set(err, rc, NULL, "%s", local.reason);
}

static int run_once(struct vx_fpu_task *t, const struct user_insn *insn,
		    struct vx_fpu_user_result *res, struct vx_error *err)
{
	struct vx_fpu_machine *m = t->machine;
	unsigned cpu;
	int rc = vx_fpu_task_return_to_user(t, err);

	if (rc)
		return rc;
	cpu = (unsigned)t->cpu;
	fpu_set_cpl(m, cpu, 3);
	rc = exec_user_insn(m->percpu[cpu].cpu, insn, &res->event);
	fpu_set_cpl(m, cpu, 0);
	if (rc < 0)
		return vx_error_set(err, rc, NULL, "the user instruction was refused (%s)",
				    vx_errno_name(rc));
	if (rc == 0) {
		res->retired = true;
		return 0;
	}
	if (res->event.kind == VX_EVENT_EXCEPTION && res->event.vector == VX_VEC_NM)
		return handle_nm(t, res, err);
	fault_signal(res);
	return 0;
}

/* Run the instruction; after an XFD #NM that grew the fpstate, once more (§5.2). */
static int run_user(struct vx_fpu_task *t, const struct user_insn *insn,
		    struct vx_fpu_user_result *res, struct vx_error *err)
{
	int rc = fpu_running(t, err);

	memset(res, 0, sizeof(*res));
	if (rc)
		return rc;
	rc = run_once(t, insn, res, err);
	if (rc != 1)
		return rc;
	memset(&res->event, 0, sizeof(res->event));
	rc = run_once(t, insn, res, err);
	return rc == 1 ? 0 : rc;
}

int vx_fpu_task_set_reg(struct vx_fpu_task *task, const struct vx_reg_info *reg, const void *value,
			size_t width, struct vx_fpu_user_result *result, struct vx_error *err)
{
	struct user_insn insn = {reg, value, width, 0};

	if (!reg)
		return vx_error_set(err, -EINVAL, NULL, "no register");
	return run_user(task, &insn, result, err);
}

int vx_fpu_task_use(struct vx_fpu_task *task, uint64_t components,
		    struct vx_fpu_user_result *result, struct vx_error *err)
{
	struct user_insn insn = {NULL, NULL, 0, components};

	return run_user(task, &insn, result, err);
}

int vx_fpu_task_get_reg(struct vx_fpu_task *task, const struct vx_reg_info *reg, void *value,
			size_t width, struct vx_error *err)
{
	int rc = fpu_running(task, err);

	if (rc == 0)
		rc = vx_fpu_task_return_to_user(task, err);
	if (rc)
		return rc;
	rc = vx_cpu_get_reg(task->machine->percpu[task->cpu].cpu, reg, value, width);
	if (rc)
		return vx_error_set(err, rc, NULL, "cannot read %s (%s)", reg ? reg->name : "?",
				    vx_errno_name(rc));
	return 0;
}
