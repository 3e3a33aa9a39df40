/* SPDX-License-Identifier: MIT */
/*
 * Allocation-failure injection across the fpu, kvm and eval layers (issue 11): every entry
 * point that allocates is called with the 1st, 2nd, ... allocation of the platform failing in
 * turn (struct ft_platform, fpu_task_test_util.h), until the call needs no more than were
 * allowed.  Each failure must give the error code the header documents for the path with a
 * reason, leave every object byte for byte as it was (a dump of the public state before and
 * after: every model CPU through vx_cpu_dump, the per-CPU FPU state and the machine's log,
 * each task's info and fpstate bytes, the process's permissions and threads, a guest FPU's
 * fields and image, a vCPU's CPUID, XCRs, CR0/CR4, MSRs, guest SSP and KVM_GET_XSAVE2 bytes),
 * keep no allocation it made (the platform's count; LeakSanitizer in the asan build), and the
 * same call must then succeed without injection.  The count of allocation points walked per
 * entry point is printed (docs/robustness.md).
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <vxsave/eval.h>
#include <vxsave/fpu_signal.h>
#include <vxsave/kvm_regs.h>
#include <vxsave/kvm_run.h>

#include "kvm_test_util.h"

#define WALK_MAX     64
#define DUMP_SIZE    (1u << 20)
#define CPU_DUMP_MAX (1u << 17)
#define FRAME_MAX    (1u << 15)
#define MSRS_MAX     64u

/* What a walk sets up and calls.  Objects not made stay NULL. */
struct env {
	struct ft_platform fp;
	struct vx_profile profile;
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *m;
	struct vx_fpu_task *t;	  /* the task the calls are made by (the VMM) */
	struct vx_fpu_task *made; /* what a call created (child, process...) */
	struct vx_fpu_guest gfpu;
	struct vx_kvm *kvm;
	struct vx_kvm_vm *vm;
	struct vx_kvm_vcpu *vcpu, *made_vcpu;
	uint8_t *frame, *frame_mem;
	enum vx_kvm_cet_design design;
};

/* ----------------------------------------------------------------------------------------- */
/* The public state as text                                                                     */

struct dump {
	char *text;
	size_t used;
};

static void put(struct dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct dump *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(d->text + d->used, DUMP_SIZE - d->used, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < DUMP_SIZE - d->used);
	d->used += (size_t)n;
}

static void put_bytes(struct dump *d, const char *what, const uint8_t *b, size_t n)
{
	put(d, "%s %zu:", what, n);
	for (size_t i = 0; i < n; i++)
		put(d, "%s%02x", i % 64 ? "" : "\n ", b[i]);
	put(d, "\n");
}

static void put_fpstate(struct dump *d, const char *what, const struct vx_fpstate *f)
{
	if (!f) {
		put(d, "%s none\n", what);
		return;
	}
	put(d, "%s size %u user %u xf %llx uxf %llx xfd %llx v%d g%d c%d u%d\n", what, f->size,
	    f->user_size, (unsigned long long)f->xfeatures, (unsigned long long)f->user_xfeatures,
	    (unsigned long long)f->xfd, f->is_valloc, f->is_guest, f->is_confidential, f->in_use);
	put_bytes(d, what, f->regs, f->size);
}

/*
 * Of the counters (what the model CPU did, for the evaluation layer) only those that describe
 * state: reallocations and the bytes held.  Saves, restores and #NMs are tallies of events; a
 * failed call may count the events it went through (the #NM before a failed realloc), and
 * reading a vCPU's state (KVM_GET_XSAVE2, guest MSRs) saves its registers.
 */
static void put_counters(struct dump *d, const struct vx_fpu_counters *c)
{
	put(d, "reallocs %llu fpstate_bytes %llu\n", (unsigned long long)c->reallocs,
	    (unsigned long long)c->fpstate_bytes);
}

static void put_task(struct dump *d, const struct vx_fpu_task *t)
{
	struct vx_fpu_perm perm, gperm;
	struct vx_fpu_task_info i;

	vx_fpu_task_info(t, &i);
	put(d, "task %u leader %d cpu %d last %d nfl %d sas %llu pkru %x\n", i.id, i.is_leader,
	    i.cpu, i.last_cpu, i.need_fpu_load, (unsigned long long)i.sas_ss_size, i.pkru);
	put(d, "perm %llx %u %u guest %llx %u %u\n", (unsigned long long)i.perm.state_perm,
	    i.perm.state_size, i.perm.user_state_size, (unsigned long long)i.guest_perm.state_perm,
	    i.guest_perm.state_size, i.guest_perm.user_state_size);
	put_counters(d, &i.counters);
	/* While a CPU holds the task's registers (last_cpu >= 0) they are its state, dumped with
	 * the CPU, and the image in memory may lag behind them (linux-fpu.md §3.2). */
	put_fpstate(d, "fpstate", i.last_cpu < 0 ? i.fpstate : NULL);
	put_fpstate(d, "task_fpstate", i.task_fpstate);
	vx_fpu_process_perm(vx_fpu_task_process(t), &perm, &gperm);
	put(d, "process threads %u perm %llx guest %llx\n",
	    vx_fpu_process_threads(vx_fpu_task_process(t)), (unsigned long long)perm.state_perm,
	    (unsigned long long)gperm.state_perm);
}

/*
 * A CPU's vx_cpu_dump() without its tracking line (XINUSE, XMODIFIED, XRSTOR_INFO): not
 * register content (cpu.h, vx_cpu_compare()), and reading a vCPU's state for this dump saves
 * the guest registers, which changes it.
 */
static void put_cpu_text(struct dump *d, const char *text)
{
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);

		if (strncmp(line, "tracking:", 9) != 0)
			put(d, "%.*s\n", (int)n, line);
		line += n + (end != NULL);
	}
}

static void put_machine(struct dump *d, struct vx_fpu_machine *m)
{
	static char cpu_text[CPU_DUMP_MAX];

	for (unsigned c = 0; c < vx_fpu_machine_ncpus(m); c++) {
		struct vx_fpu_percpu p;
		size_t needed = 0;

		assert_int_equal(vx_fpu_percpu_get(m, c, &p), 0);
		put(d, "cpu %u current %p owner %p kfpu %d xfd %llx\n", c, (const void *)p.current,
		    (const void *)p.owner, p.kernel_fpu_allowed, (unsigned long long)p.xfd_state);
		assert_int_equal(
		    vx_cpu_dump(vx_fpu_machine_cpu(m, c), cpu_text, sizeof(cpu_text), &needed), 0);
		put_cpu_text(d, cpu_text);
	}
	put(d, "log %u warnings %u kernel-xfd-nm %u\n", vx_fpu_machine_log_count(m),
	    vx_fpu_machine_warnings(m), vx_fpu_machine_kernel_xfd_nms(m));
}

static void put_vcpu(struct dump *d, struct vx_kvm *kvm, struct vx_kvm_vcpu *v)
{
	static struct vx_kvm_cpuid_entry cpuid[VX_KVM_MAX_CPUID_ENTRIES];
	static uint8_t xsave[1u << 15];
	struct vx_error err = VX_ERROR_INIT;
	uint32_t idx[MSRS_MAX], n = MSRS_MAX, nent = VX_KVM_MAX_CPUID_ENTRIES;
	struct vx_kvm_xcrs xcrs;
	uint64_t ssp = 0;
	int rc;

	put(d, "vcpu %u cr0 %llx cr4 %llx xcr0-supp %llx xss-supp %llx in-run %d\n",
	    vx_kvm_vcpu_id(v), (unsigned long long)vx_kvm_vcpu_cr0(v),
	    (unsigned long long)vx_kvm_vcpu_cr4(v),
	    (unsigned long long)vx_kvm_vcpu_guest_supported_xcr0(v),
	    (unsigned long long)vx_kvm_vcpu_guest_supported_xss(v), vx_kvm_vcpu_in_run(v));
	rc = vx_kvm_vcpu_get_cpuid2(v, cpuid, &nent, &err);
	put(d, "cpuid rc %d\n", rc);
	put_bytes(d, "cpuid", (const uint8_t *)cpuid, rc ? 0 : nent * sizeof(cpuid[0]));
	memset(&xcrs, 0, sizeof(xcrs));
	put(d, "xcrs rc %d\n", vx_kvm_vcpu_get_xcrs(v, &xcrs, &err));
	put_bytes(d, "xcrs", (const uint8_t *)&xcrs, sizeof(xcrs));
	assert_int_equal(vx_kvm_get_msr_index_list(kvm, idx, &n, &err), 0);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t value = 0;

		rc = vx_kvm_vcpu_get_msr(v, true, idx[i], &value, &err);
		put(d, "msr %x rc %d %llx\n", idx[i], rc, (unsigned long long)value);
	}
	rc = vx_kvm_vcpu_get_one_reg(v, VX_KVM_X86_REG_KVM(VX_KVM_REG_GUEST_SSP), &ssp, &err);
	put(d, "guest ssp rc %d %llx\n", rc, (unsigned long long)ssp);
	rc = vx_kvm_vcpu_get_xsave(v, true, xsave, sizeof(xsave), &err);
	put(d, "xsave2 rc %d\n", rc);
	put_bytes(d, "xsave2", xsave, vx_kvm_vcpu_guest_fpu(v)->uabi_size);
	put_fpstate(d, "guest fpstate", vx_kvm_vcpu_guest_fpu(v)->fpstate);
}

static void put_gfpu(struct dump *d, const struct vx_fpu_guest *g)
{
	put(d, "gfpu xf %llx xfd_err %llx uabi %u machine %p\n", (unsigned long long)g->xfeatures,
	    (unsigned long long)g->xfd_err, g->uabi_size, (const void *)g->machine);
	put_counters(d, &g->counters);
	put_fpstate(d, "gfpu fpstate", g->fpstate);
}

/* Everything a caller can see of @e's objects. */
static void dump_env(struct env *e, struct dump *d)
{
	d->used = 0;
	put_bytes(d, "profile", (const uint8_t *)&e->profile, sizeof(e->profile));
	put(d, "made %p %p\n", (void *)e->made, (void *)e->made_vcpu);
	if (e->m)
		put_machine(d, e->m);
	if (e->t)
		put_task(d, e->t);
	put_gfpu(d, &e->gfpu);
	if (e->vcpu)
		put_vcpu(d, e->kvm, e->vcpu);
	if (e->frame)
		put_bytes(d, "frame", e->frame, FRAME_MAX);
}

/* Fail naming the first line where @a and @b differ. */
static void same_dump(const struct dump *a, const struct dump *b, const char *walk, int n)
{
	size_t i = 0, line = 1, start = 0;

	while (i < a->used && i < b->used && a->text[i] == b->text[i]) {
		if (a->text[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	if (a->used == b->used && i == a->used)
		return;
	fail_msg("%s, allocation %d failing: state changed at dump line %zu:\n  before: %.160s\n"
		 "  after:  %.160s",
		 walk, n, line, a->text + start, b->text + start);
}

/* ----------------------------------------------------------------------------------------- */
/* Set-ups (allocation never fails here)                                                        */

static void up_boot(struct env *e, const char *profile)
{
	ft_profile(&e->profile, profile);
}

static void up_system(struct env *e, const char *profile)
{
	up_boot(e, profile);
	e->sys = ft_boot_profile(&e->profile, vx_kvm_cet_design_fpu(e->design), &e->fp.platform);
}

/* A machine of 2 CPUs with task t running on CPU 0, xmm2 and ymm... written. */
static void up_task(struct env *e, const char *profile)
{
	up_system(e, profile);
	e->m = ft_machine(e->sys, 2);
	e->t = ft_spawn(e->m);
	ft_schedule(e->t, 0);
	ft_write(e->t, "xmm2", 0x20);
}

static void up_amx_perm(struct env *e)
{
	up_task(e, "sapphire-rapids");
	assert_int_equal(ft_prctl(e->t, VX_ARCH_REQ_XCOMP_PERM, VX_ARCH_XCOMP_TILEDATA, NULL), 0);
}

static void up_module(struct env *e, const char *profile)
{
	struct vx_kvm_options o;
	struct vx_error err = VX_ERROR_INIT;

	up_task(e, profile);
	vx_kvm_options_init(&o, VX_KVM_VMX);
	o.design = e->design;
	ft_check(vx_kvm_create(e->m, &o, &e->kvm, &err), &err, "module");
}

static void up_vm(struct env *e, const char *profile)
{
	struct vx_error err = VX_ERROR_INIT;

	up_module(e, profile);
	ft_check(vx_kvm_vm_create(e->kvm, e->t, &e->vm, &err), &err, "vm");
}

/* vCPU 0 after the AMX guest permission; @cpuid: with the supported CPUID. */
static void up_vcpu(struct env *e, bool cpuid)
{
	static struct vx_kvm_cpuid_entry ents[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;

	up_vm(e, "sapphire-rapids");
	assert_int_equal(ft_prctl(e->t, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA, NULL),
			 0);
	ft_check(vx_kvm_vcpu_create(e->vm, e->t, 0, &e->vcpu, &err), &err, "vcpu");
	if (!cpuid)
		return;
	ft_check(vx_kvm_get_supported_cpuid(e->kvm, e->t, ents, &n, &err), &err, "supported");
	ft_check(vx_kvm_vcpu_set_cpuid2(e->vcpu, e->t, ents, n, &err), &err, "set cpuid");
}

/* ----------------------------------------------------------------------------------------- */
/* The entry points: 0 on success, the negative code on failure                                 */

static int call_boot(struct env *e, struct vx_error *err)
{
	struct vx_fpu_config c = VX_FPU_CONFIG_INIT;

	c.platform = &e->fp.platform;
	return vx_fpu_system_create(&e->profile, &c, &e->sys, err);
}

static int call_machine(struct env *e, struct vx_error *err)
{
	return vx_fpu_machine_create(e->sys, 4, &e->m, err);
}

static int call_process(struct env *e, struct vx_error *err)
{
	return vx_fpu_process_create(e->m, &e->made, err);
}

static int call_fork(struct env *e, struct vx_error *err)
{
	return vx_fpu_task_fork(e->t, &e->made, err);
}

static int call_thread(struct env *e, struct vx_error *err)
{
	return vx_fpu_task_clone_thread(e->t, &e->made, err);
}

static int call_vfork(struct env *e, struct vx_error *err)
{
	struct vx_fpu_clone_args a = {VX_CLONE_VM | VX_CLONE_VFORK, 0, 0};

	return vx_fpu_task_clone(e->t, &a, &e->made, err);
}

/* First AMX use with permission: #NM, fpstate_realloc(); its failure is SIGSEGV (§5.2). */
static int call_nm_realloc(struct env *e, struct vx_error *err)
{
	struct vx_fpu_user_result r;
	int rc = vx_fpu_task_use(e->t, FT_AMX, &r, err);

	if (rc)
		return rc;
	if (r.signal == VX_SIGSEGV && r.si_code == VX_SI_KERNEL && !r.retired) {
		vx_error_set(err, -EFAULT, "linux-fpu.md §5.2", "SIGSEGV: %s", r.event.reason);
		return -EFAULT;
	}
	assert_true(r.retired);
	assert_int_equal(r.signal, 0);
	return 0;
}

static int call_exec(struct env *e, struct vx_error *err)
{
	return vx_fpu_task_exec(e->t, err);
}

static int call_guest_alloc(struct env *e, struct vx_error *err)
{
	return vx_fpu_alloc_guest_fpstate(e->t, &e->gfpu, err);
}

static int call_guest_grow(struct env *e, struct vx_error *err)
{
	return vx_fpu_enable_guest_xfd_features(e->t, &e->gfpu, FT_AMX, err);
}

/* sigreturn of an ia32 frame: a copy of the frame and a scratch fpstate (§8.4). */
static int call_sigreturn_ia32(struct env *e, struct vx_error *err)
{
	struct vx_fpu_task_info i = ft_info(e->t);
	enum vx_sigreturn_outcome out;

	return vx_fpu_restore_sig_abi(e->sys, vx_fpu_machine_cpu(e->m, 0), i.fpstate,
				      VX_SIGFRAME_IA32, e->frame, FRAME_MAX, &out, err);
}

static int call_module(struct env *e, struct vx_error *err)
{
	struct vx_kvm_options o;

	vx_kvm_options_init(&o, VX_KVM_VMX);
	o.design = e->design;
	return vx_kvm_create(e->m, &o, &e->kvm, err);
}

static int call_vm(struct env *e, struct vx_error *err)
{
	return vx_kvm_vm_create(e->kvm, e->t, &e->vm, err);
}

static int call_create_vcpu(struct env *e, struct vx_error *err)
{
	return vx_kvm_vcpu_create(e->vm, e->t, 1, &e->made_vcpu, err);
}

static int call_set_cpuid2(struct env *e, struct vx_error *err)
{
	static struct vx_kvm_cpuid_entry ents[VX_KVM_MAX_CPUID_ENTRIES];
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;

	ft_check(vx_kvm_get_supported_cpuid(e->kvm, e->t, ents, &n, err), err, "supported");
	return vx_kvm_vcpu_set_cpuid2(e->vcpu, e->t, ents, n, err);
}

static int call_get_xsave2(struct env *e, struct vx_error *err)
{
	static uint8_t buf[1u << 15];

	return vx_kvm_vcpu_get_xsave(e->vcpu, true, buf, sizeof(buf), err);
}

static int call_set_xsave(struct env *e, struct vx_error *err)
{
	static uint8_t buf[1u << 15];

	ft_check(vx_kvm_vcpu_get_xsave(e->vcpu, true, buf, sizeof(buf), err), err, "get");
	buf[160] ^= 1; /* XMM0 byte 0: a change KVM_SET_XSAVE must make */
	return vx_kvm_vcpu_set_xsave(e->vcpu, buf, sizeof(buf), err);
}

/* KVM_RUN of a guest that boots XSAVE, writes XFD and uses AMX (#NM to the guest, §6.5). */
static int call_run(struct env *e, struct vx_error *err)
{
	static struct vx_kvm_guest_op ops[8];
	static const char text[] = "mov-cr0 0x80010011\nmov-cr4 0x40620\nxsetbv 0 0x60007\n"
				   "set xmm3 0x1234\nwrmsr 0x1c4 0x40000\nuse amx\nhlt\n";
	struct vx_kvm_run run;
	unsigned count = 0;
	int rc;

	ft_check(vx_kvm_guest_program_parse(text, sizeof(text) - 1, ops, 8, &count, err), err,
		 "program");
	memset(&run, 0, sizeof(run));
	run.ops = ops;
	run.count = count;
	rc = vx_kvm_vcpu_run(e->vcpu, e->t, 0, &run, 0, err);
	return rc < 0 ? rc : 0;
}

/* ----------------------------------------------------------------------------------------- */
/* The walk                                                                                     */

struct walk {
	const char *name;
	const char *profile;
	void (*up)(struct env *e, const char *profile);
	int (*call)(struct env *e, struct vx_error *err);
	int codes[2]; /* the documented error codes (0: none) */
};

static void env_down(struct env *e)
{
	if (e->gfpu.fpstate)
		assert_int_equal(vx_fpu_free_guest_fpstate(&e->gfpu, NULL), 0);
	vx_kvm_destroy(e->kvm);
	vx_fpu_machine_destroy(e->m);
	vx_fpu_system_destroy(e->sys);
	free(e->frame_mem);
	assert_int_equal(e->fp.live, 0);
}

static bool documented(const struct walk *w, int rc)
{
	return rc != 0 && (rc == w->codes[0] || rc == w->codes[1]);
}

/* One failing allocation @n: returns true once the call needed no more than @n. */
static bool walk_once(const struct walk *w, enum vx_kvm_cet_design design, int n,
		      struct dump *before, struct dump *after)
{
	struct vx_error err = VX_ERROR_INIT;
	struct env e;
	int rc, live, left;

	memset(&e, 0, sizeof(e));
	ft_platform_init(&e.fp);
	e.design = design;
	w->up(&e, w->profile);
	dump_env(&e, before);
	dump_env(&e, after);
	same_dump(before, after, "dump twice", -1);
	live = e.fp.live;
	e.fp.allocations_left = n;
	rc = w->call(&e, &err);
	left = e.fp.allocations_left;
	e.fp.allocations_left = -1;
	/* Success with allocation @n failing: the call made exactly @n (fewer would have ended
	 * the walk earlier; a failed one it ignored would leave the count at -1). */
	if (rc == 0) {
		if (left != 0)
			fail_msg("%s succeeded with allocation %d failing (%d left)", w->name, n,
				 left);
		env_down(&e);
		return true;
	}
	if (!documented(w, rc) || err.code != rc || !err.reason[0])
		fail_msg("%s, allocation %d failing: %d (%s) '%s'", w->name, n, rc,
			 vx_errno_name(rc), err.reason);
	dump_env(&e, after);
	same_dump(before, after, w->name, n);
	assert_int_equal(e.fp.live, live);
	/* The same call works once memory is there again. */
	vx_error_clear(&err);
	ft_check(w->call(&e, &err), &err, w->name);
	env_down(&e);
	return false;
}

static unsigned walk(const struct walk *w, enum vx_kvm_cet_design design)
{
	static struct dump before, after;
	int n;

	if (!before.text) {
		before.text = malloc(DUMP_SIZE);
		after.text = malloc(DUMP_SIZE);
	}
	for (n = 0; n < WALK_MAX; n++)
		if (walk_once(w, design, n, &before, &after))
			break;
	assert_true(n < WALK_MAX);
	print_message("%-28s %-16s %d allocation point%s\n", w->name,
		      vx_kvm_cet_design_name(design), n, n == 1 ? "" : "s");
	return (unsigned)n;
}

static void up_frame(struct env *e, const char *profile)
{
	struct vx_fpu_task_info i;
	struct vx_error err = VX_ERROR_INIT;

	up_task(e, profile);
	i = ft_info(e->t);
	/* An ia32 frame starts with the 112-byte fsave header; the XSAVE part after it is 64-byte
	 * aligned (linux-fpu.md §8.4). */
	e->frame_mem = aligned_alloc(64, FRAME_MAX + 64);
	memset(e->frame_mem, 0, FRAME_MAX + 64);
	e->frame = e->frame_mem + 64 - VX_FSAVE_HEADER_SIZE % 64;
	ft_check(vx_fpu_copy_fpstate_to_sigframe_abi(e->sys, vx_fpu_machine_cpu(e->m, 0), i.fpstate,
						     i.pkru, VX_SIGFRAME_IA32, e->frame, FRAME_MAX,
						     &err),
		 &err, "ia32 frame");
}

static void up_amx(struct env *e, const char *profile)
{
	(void)profile;
	up_amx_perm(e);
}

static void up_amx_grown(struct env *e, const char *profile)
{
	struct vx_error err = VX_ERROR_INIT;

	up_amx(e, profile);
	ft_check(call_nm_realloc(e, &err), &err, "first AMX use");
	ft_check(vx_fpu_task_clone_thread(e->t, &e->made, &err), &err, "thread");
}

static void up_guest_perm(struct env *e, const char *profile)
{
	up_task(e, profile);
	assert_int_equal(ft_prctl(e->t, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA, NULL),
			 0);
}

static void up_guest(struct env *e, const char *profile)
{
	struct vx_error err = VX_ERROR_INIT;

	up_guest_perm(e, profile);
	ft_check(vx_fpu_alloc_guest_fpstate(e->t, &e->gfpu, &err), &err, "guest fpstate");
}

static void up_vcpu_bare(struct env *e, const char *profile)
{
	(void)profile;
	up_vcpu(e, false);
}

static void up_vcpu_cpuid(struct env *e, const char *profile)
{
	(void)profile;
	up_vcpu(e, true);
}

static const struct walk fpu_walks[] = {
    {"boot", "sapphire-rapids", up_boot, call_boot, {-ENOMEM}},
    {"machine (4 CPUs)", "sapphire-rapids", up_system, call_machine, {-ENOMEM}},
    {"process", "sapphire-rapids", up_task, call_process, {-ENOMEM}},
    {"fork", "sapphire-rapids", up_task, call_fork, {-ENOMEM}},
    {"clone thread", "zen4", up_task, call_thread, {-ENOMEM}},
    {"vfork", "sapphire-rapids", up_task, call_vfork, {-ENOMEM}},
    {"exec (AMX, 2 threads)", "sapphire-rapids", up_amx_grown, call_exec, {-ENOMEM}},
    {"#NM realloc (AMX)", "sapphire-rapids", up_amx, call_nm_realloc, {-EFAULT}},
    {"sigreturn ia32", "sapphire-rapids", up_frame, call_sigreturn_ia32, {-ENOMEM}},
    {"guest fpstate alloc", "sapphire-rapids", up_guest_perm, call_guest_alloc, {-ENOMEM}},
    {"guest fpstate grow (AMX)", "sapphire-rapids", up_guest, call_guest_grow, {-EFAULT}},
};

static const struct walk kvm_walks[] = {
    {"kvm module", "sapphire-rapids", up_task, call_module, {-ENOMEM}},
    {"KVM_CREATE_VM", "sapphire-rapids", up_module, call_vm, {-ENOMEM}},
    {"KVM_CREATE_VCPU", NULL, up_vcpu_bare, call_create_vcpu, {-ENOMEM}},
    {"KVM_SET_CPUID2 (AMX growth)", NULL, up_vcpu_bare, call_set_cpuid2, {-ENOMEM, -EFAULT}},
    {"KVM_SET_CPUID2 (again)", NULL, up_vcpu_cpuid, call_set_cpuid2, {-ENOMEM, -EFAULT}},
    {"KVM_GET_XSAVE2", NULL, up_vcpu_cpuid, call_get_xsave2, {-ENOMEM}},
    {"KVM_SET_XSAVE", NULL, up_vcpu_cpuid, call_set_xsave, {-ENOMEM}},
    {"KVM_RUN (AMX guest)", NULL, up_vcpu_cpuid, call_run, {-ENOMEM}},
};

static void fpu_entry_points(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fpu_walks) / sizeof(fpu_walks[0]); i++)
		walk(&fpu_walks[i], VX_KVM_CET_GUEST_ONLY);
	/* all-tasks: CET_S in every task's fpstate, so fork copies more. */
	walk(&fpu_walks[3], VX_KVM_CET_ALL_TASKS);
}

static void kvm_entry_points(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kvm_walks) / sizeof(kvm_walks[0]); i++)
		walk(&kvm_walks[i], VX_KVM_CET_GUEST_ONLY);
	for (unsigned d = VX_KVM_CET_KVM_EAGER; d < VX_KVM_CET_DESIGN_COUNT; d++)
		walk(&kvm_walks[2], (enum vx_kvm_cet_design)d);
}

/* ----------------------------------------------------------------------------------------- */
/* eval setup (vx_eval_run): -ENOMEM or -EIO, the result zeroed, nothing kept                   */

static void eval_setup(void **state)
{
	static const char *const kinds[] = {"vcpu-exits", "amx"};
	static struct vx_eval_result r, zero;
	struct vx_eval_workload w;
	struct vx_eval_options o;
	struct vx_profile spr;
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	ft_profile(&spr, "sapphire-rapids");
	for (size_t k = 0; k < 2; k++) {
		int rc = -1, n;

		ft_check(vx_eval_workload_builtin(kinds[k], &w, &err), &err, kinds[k]);
		w.steps = 8;
		for (n = 0; rc < 0 && n < 1000; n++) {
			struct ft_platform fp;

			ft_platform_init(&fp);
			fp.allocations_left = n;
			vx_eval_options_init(&o);
			o.platform = &fp.platform;
			vx_error_clear(&err);
			rc = vx_eval_run(&spr, VX_KVM_CET_GUEST_ONLY, &w, 1, &o, &r, &err);
			assert_int_equal(fp.live, 0);
			if (rc >= 0)
				break;
			if ((rc != -ENOMEM && rc != -EIO) || !err.reason[0])
				fail_msg("eval %s, allocation %d failing: %d '%s'", kinds[k], n, rc,
					 err.reason);
			assert_memory_equal(&r, &zero, sizeof(r));
		}
		assert_int_equal(rc, VX_EVAL_PASS);
		print_message("%-28s %-16s %d allocation points\n", kinds[k], "eval setup", n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fpu_entry_points),
	    cmocka_unit_test(kvm_entry_points),
	    cmocka_unit_test(eval_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
