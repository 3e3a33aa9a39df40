/* SPDX-License-Identifier: MIT */
/*
 * Allocation-failure injection across the fpu, kvm, eval and vmm layers and the drop-in
 * /dev/kvm (issue 11): every entry point that allocates is called with the 1st, 2nd, ...
 * allocation of the platform failing in turn (struct ft_platform, fpu_task_test_util.h; past
 * the 128th, every 16th), until the call needs no more than were allowed.  Each failure must give
 * the error code the header documents for the path with a reason, leave every object byte for byte
 * as it was (a dump of the public state before and after: every model CPU through vx_cpu_dump, the
 * per-CPU FPU state and the machine's log, each task's info and fpstate bytes, the process's
 * permissions and threads, a guest FPU's fields and image, a vCPU's CPUID, XCRs, CR0/CR4, MSRs,
 * guest SSP and KVM_GET_XSAVE2 bytes), keep no allocation it made (the platform's count;
 * LeakSanitizer in the asan build), and the same call must then succeed without injection.  The
 * count of allocation points walked per entry point is printed (docs/robustness.md).
 */
#define _GNU_SOURCE /* dladdr: where the allocation sites are (alloc_sites) */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <unistd.h>

#include <vxsave/eval.h>
#include <vxsave/eval_cost.h>
#include <vxsave/fpu_signal.h>
#include <vxsave/kvm_ioctl.h>
#include <vxsave/kvm_regs.h>
#include <vxsave/kvm_run.h>
#include <vxsave/vmm_compat.h>

#include "kvm_test_util.h"
#include "vmm_test_util.h"

#define WALK_MAX     4096
#define WALK_DENSE   128
#define WALK_STRIDE  16
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
	/* The drop-in /dev/kvm (its machine, task, module and vCPU are the views above). */
	struct vx_kvm_dev *dev, *made_dev;
	int sys_fd, vm_fd, vcpu_fd;
	/* The vmm layer (its module and vCPU are the views above). */
	struct vx_vmm_host *vhost, *made_vhost;
	struct vx_vmm_vcpu *vvcpu, *made_vvcpu;
	struct vx_vmm_bundle *bundle;
	struct vx_compat_target *targets;
	uint8_t *in;
	size_t in_len;
	/* What a call writes its result into (vmm, calibration): dumped, must stay as it was. */
	void *out;
	size_t out_size;
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
	static const char hex[] = "0123456789abcdef";

	put(d, "%s %zu:", what, n);
	assert_true(d->used + 3 * n + 2 < DUMP_SIZE);
	for (size_t i = 0; i < n; i++) {
		if (i % 64 == 0) {
			d->text[d->used++] = '\n';
			d->text[d->used++] = ' ';
		}
		d->text[d->used++] = hex[b[i] >> 4];
		d->text[d->used++] = hex[b[i] & 15];
	}
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
 * the guest registers, which changes it.  @owned false: no FPU context owns the CPU's
 * registers, so they are nobody's state (valid only for owner == fpu, linux-fpu.md §3.5) and
 * the component blocks ("[n NAME]" on) are left out: a VMM process that ran and exited in a
 * failed call (vx_vmm_vcpu_create) leaves its values there, as an exited task does in Linux.
 */
static void put_cpu_text(struct dump *d, const char *text, bool owned)
{
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);

		if (!owned && line[0] == '[') {
			put(d, "registers: no owner\n");
			return;
		}
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
		put_cpu_text(d, cpu_text, p.owner != NULL);
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

/* A result object by its FNV-1a hash (a bundle is 100 KiB). */
static void put_hash(struct dump *d, const char *what, const void *bytes, size_t n)
{
	const uint8_t *b = bytes;
	uint64_t h = 0xcbf29ce484222325ull, w;
	size_t i = 0;

	/* FNV-1a over 64-bit words, then the tail bytes: the hash only has to differ. */
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	put(d, "%s %zu bytes fnv %016llx\n", what, n, (unsigned long long)h);
}

/* The descriptors a drop-in context owns, and what is behind each. */
static void put_dev(struct dump *d, const struct vx_kvm_dev *dev)
{
	put(d, "dev %s fds:", vx_kvm_dev_profile_name(dev));
	for (int fd = 0; fd < 512; fd++)
		if (vx_kvm_dev_owns(dev, fd))
			put(d, " %d%s", fd, vx_kvm_dev_vcpu(dev, fd) ? "v" : "");
	put(d, "\n");
}

/* Everything a caller can see of @e's objects. */
static void dump_env(struct env *e, struct dump *d)
{
	d->used = 0;
	put_bytes(d, "profile", (const uint8_t *)&e->profile, sizeof(e->profile));
	put(d, "made %p %p %p %p %p\n", (void *)e->made, (void *)e->made_vcpu, (void *)e->made_dev,
	    (void *)e->made_vhost, (void *)e->made_vvcpu);
	if (e->dev)
		put_dev(d, e->dev);
	if (e->out)
		put_hash(d, "out", e->out, e->out_size);
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

/* A standalone fpstate (fpstate.h), the kernel's default size and a guest's. */
static int call_fpstate(struct env *e, struct vx_error *err)
{
	struct vx_fpstate *fps = NULL, *guest = NULL;
	int rc = vx_fpstate_create(e->sys, false, &fps, err);

	if (!rc)
		rc = vx_fpstate_create(e->sys, true, &guest, err);
	if (rc)
		assert_null(guest);
	vx_fpstate_destroy(e->sys, fps);
	vx_fpstate_destroy(e->sys, guest);
	return rc;
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
/* Where the allocations come from: every distinct call stack of a platform allocation, written
 * to $VXSAVE_ALLOC_SITES for cmake/check_alloc_sites.sh, which finds each allocation site of
 * src/ among them (or in its list of exclusions).                                              */

#define SITE_FRAMES 8
#define SITE_STACKS 4096

static void *site_stacks[SITE_STACKS][SITE_FRAMES];
static unsigned site_nstacks;
/* Stacks are taken (backtrace() is slow) while the first allocation fails, then in the same
 * call made again in full, of each walk: every allocation a successful call makes. */
static bool recording = true;
/* With VXSAVE_ALLOC_SITES set only the stacks are wanted: each walk runs its first step. */
static bool sites_only;

static __attribute__((noinline)) void record_site(void)
{
	void *frames[SITE_FRAMES];
	int n = recording ? backtrace(frames, SITE_FRAMES) : 0;

	if (!n)
		return;
	for (int i = n; i < SITE_FRAMES; i++)
		frames[i] = NULL;
	for (unsigned k = 0; k < site_nstacks; k++)
		if (memcmp(site_stacks[k], frames, sizeof(frames)) == 0)
			return;
	if (site_nstacks < SITE_STACKS)
		memcpy(site_stacks[site_nstacks++], frames, sizeof(frames));
}

static __attribute__((noinline)) void *site_alloc(void *ctx, size_t size, size_t align)
{
	record_site();
	return ft_alloc(ctx, size, align);
}

/* ft_platform_init() with the allocations recorded. */
static void platform_init(struct ft_platform *fp)
{
	ft_platform_init(fp);
	fp->platform.alloc = site_alloc;
}

/* One line per stack: the return addresses in this executable, as offsets from its base. */
static void write_sites(void)
{
	const char *path = getenv("VXSAVE_ALLOC_SITES");
	Dl_info self, info;
	FILE *f;

	if (!path || !dladdr((void *)(uintptr_t)record_site, &self))
		return;
	f = fopen(path, "w");
	assert_non_null(f);
	for (unsigned k = 0; k < site_nstacks; k++) {
		for (unsigned i = 0; i < SITE_FRAMES && site_stacks[k][i]; i++)
			if (dladdr(site_stacks[k][i], &info) && info.dli_fbase == self.dli_fbase)
				fprintf(f, "%lx ",
					(unsigned long)((uintptr_t)site_stacks[k][i] -
							(uintptr_t)self.dli_fbase - 1));
		fprintf(f, "\n");
	}
	fclose(f);
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
	/* The views into a drop-in context or a vmm host go with it. */
	if (e->dev || e->vhost) {
		e->kvm = NULL;
		e->m = NULL;
		e->t = NULL;
	}
	vx_kvm_dev_destroy(e->made_dev);
	vx_kvm_dev_destroy(e->dev);
	vx_vmm_vcpu_destroy(e->made_vvcpu);
	vx_vmm_vcpu_destroy(e->vvcpu);
	vx_vmm_host_destroy(e->made_vhost);
	vx_vmm_host_destroy(e->vhost);
	free(e->bundle);
	free(e->targets);
	free(e->in);
	free(e->out);
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

/*
 * One failing allocation @n after @prev (the last one tried): returns the allocations the call
 * made once it needed no more than @n, else -1.
 */
static int walk_once(const struct walk *w, enum vx_kvm_cet_design design, int n, int prev,
		     struct dump *before, struct dump *after)
{
	struct vx_error err = VX_ERROR_INIT;
	struct env e;
	int rc, live, left;

	memset(&e, 0, sizeof(e));
	platform_init(&e.fp);
	recording = n == 0;
	e.design = design;
	w->up(&e, w->profile);
	dump_env(&e, before);
	if (n == 0) {
		dump_env(&e, after);
		same_dump(before, after, "dump twice", -1);
	}
	live = e.fp.live;
	e.fp.allocations_left = n;
	rc = w->call(&e, &err);
	left = e.fp.allocations_left;
	e.fp.allocations_left = -1;
	/* Success with allocation @n failing: the call made n - left, more than @prev (a
	 * smaller count would have ended the walk earlier; a failed allocation it ignored would
	 * leave the count at -1); exactly @n when the walk tries every allocation. */
	if (rc == 0) {
		if (left < 0 || n - left <= prev)
			fail_msg("%s succeeded with allocation %d failing (%d left)", w->name, n,
				 left);
		env_down(&e);
		return n - left;
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
	return -1;
}

/* Every allocation up to the 128th fails in turn, then every 16th (the state-file parses make
 * hundreds, through the same few sites: see docs/robustness.md). */
static int next_point(int n)
{
	return n < WALK_DENSE ? n + 1 : n + WALK_STRIDE;
}

static unsigned walk(const struct walk *w, enum vx_kvm_cet_design design)
{
	static struct dump before, after;
	int n;

	if (!before.text) {
		before.text = malloc(DUMP_SIZE);
		after.text = malloc(DUMP_SIZE);
	}
	if (sites_only) {
		(void)walk_once(w, design, 0, -1, &before, &after);
		return 0;
	}
	for (int at = 0, prev = -1; (n = walk_once(w, design, at, prev, &before, &after)) < 0;
	     prev = at, at = next_point(at))
		assert_true(at < WALK_MAX);
	print_message("%-28s %-16s %d allocation point%s%s\n", w->name,
		      vx_kvm_cet_design_name(design), n, n == 1 ? "" : "s",
		      n > WALK_DENSE ? " (the first 128 failed, then every 16th)" : "");
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
    {"fpstate create (host, guest)", "sapphire-rapids", up_system, call_fpstate, {-ENOMEM}},
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
/* The drop-in /dev/kvm: a call fails with -1 and errno, the reason in its last error           */

static char guest_path[] = "/tmp/vxsave-alloc-guest-XXXXXX";

static void dev_options(struct env *e, struct vx_kvm_dev_options *o)
{
	vx_kvm_dev_options_init(o);
	o->host_profile = &e->profile;
	o->flavour = VX_KVM_VMX;
	o->design = (int)e->design;
	o->platform = &e->fp.platform;
}

/* -1/errno as a negative code, with the context's last error. */
static int dev_rc(struct env *e, int rc, struct vx_error *err)
{
	int code = -errno;

	if (rc >= 0)
		return 0;
	*err = *vx_kvm_dev_last_error(e->dev);
	return code;
}

/* A context with no descriptor yet (no table either). */
static void up_dev_bare(struct env *e, const char *profile)
{
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;

	up_boot(e, profile);
	dev_options(e, &o);
	ft_check(vx_kvm_dev_create(&o, &e->dev, &err), &err, "dev");
	e->kvm = vx_kvm_dev_module(e->dev);
	e->m = vx_kvm_machine(e->kvm);
	e->t = vx_kvm_dev_task(e->dev);
}

static void up_dev(struct env *e, const char *profile)
{
	up_dev_bare(e, profile);
	e->sys_fd = vx_kvm_dev_open(e->dev, O_RDWR | O_CLOEXEC);
	assert_true(e->sys_fd >= 0);
}

static void up_dev_vm(struct env *e, const char *profile)
{
	up_dev(e, profile);
	e->vm_fd = vx_kvm_ioctl(e->dev, e->sys_fd, KVM_CREATE_VM, 0);
	assert_true(e->vm_fd >= 0);
	assert_int_equal(
	    vx_kvm_dev_arch_prctl(e->dev, VX_ARCH_REQ_XCOMP_GUEST_PERM, VX_ARCH_XCOMP_TILEDATA), 0);
}

/* Descriptors up to 63 taken: the next one needs a bigger table (dev.c grow_table). */
static void fill_table(struct env *e)
{
	int fd = 0;

	while (fd >= 0 && fd < 63)
		fd = vx_kvm_dev_open(e->dev, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 63);
}

static void up_dev_vm_full(struct env *e, const char *profile)
{
	up_dev_vm(e, profile);
	fill_table(e);
}

static void up_dev_vcpu(struct env *e, const char *profile)
{
	up_dev_vm(e, profile);
	e->vcpu_fd = vx_kvm_ioctl(e->dev, e->vm_fd, KVM_CREATE_VCPU, 0);
	assert_true(e->vcpu_fd >= 0);
	e->vcpu = vx_kvm_dev_vcpu(e->dev, e->vcpu_fd);
}

/* KVM_GET_SUPPORTED_CPUID's argument: the header, then its entries (as test_kvm_ioctl.c). */
static union {
	struct kvm_cpuid2 hdr;
	struct {
		__u32 nent, padding;
		struct kvm_cpuid_entry2 e[VX_KVM_MAX_CPUID_ENTRIES];
	};
} dev_cpuid;

static int dev_supported(struct env *e)
{
	dev_cpuid.hdr.nent = VX_KVM_MAX_CPUID_ENTRIES;
	return vx_kvm_ioctl(e->dev, e->sys_fd, KVM_GET_SUPPORTED_CPUID, &dev_cpuid);
}

static void up_dev_cpuid(struct env *e, const char *profile)
{
	up_dev_vcpu(e, profile);
	assert_int_equal(dev_supported(e), 0);
	assert_int_equal(vx_kvm_ioctl(e->dev, e->vcpu_fd, KVM_SET_CPUID2, &dev_cpuid), 0);
}

static int call_dev_create(struct env *e, struct vx_error *err)
{
	struct vx_kvm_dev_options o;

	dev_options(e, &o);
	return vx_kvm_dev_create(&o, &e->made_dev, err);
}

/* From a dump file, with a guest program: the file reads allocate too. */
static int call_dev_create_files(struct env *e, struct vx_error *err)
{
	struct vx_kvm_dev_options o;

	dev_options(e, &o);
	o.host_profile = NULL;
	o.profile = VXSAVE_FIXTURE_DIR "/cpuid/host-amd-zen5-kvm.txt";
	o.flavour = VX_KVM_SVM;
	o.guest = guest_path;
	return vx_kvm_dev_create(&o, &e->made_dev, err);
}

static int call_dev_open(struct env *e, struct vx_error *err)
{
	return dev_rc(e, vx_kvm_dev_open(e->dev, O_RDWR | O_CLOEXEC), err);
}

static int call_dev_create_vm(struct env *e, struct vx_error *err)
{
	return dev_rc(e, vx_kvm_ioctl(e->dev, e->sys_fd, KVM_CREATE_VM, 0), err);
}

static int call_dev_create_vcpu(struct env *e, struct vx_error *err)
{
	return dev_rc(e, vx_kvm_ioctl(e->dev, e->vm_fd, KVM_CREATE_VCPU, 0), err);
}

static int call_dev_supported(struct env *e, struct vx_error *err)
{
	return dev_rc(e, dev_supported(e), err);
}

static int call_dev_set_cpuid2(struct env *e, struct vx_error *err)
{
	int rc = dev_rc(e, dev_supported(e), err);

	return rc ? rc
		  : dev_rc(e, vx_kvm_ioctl(e->dev, e->vcpu_fd, KVM_SET_CPUID2, &dev_cpuid), err);
}

static uint8_t dev_xsave[1u << 15];

static int call_dev_get_xsave2(struct env *e, struct vx_error *err)
{
	return dev_rc(e, vx_kvm_ioctl(e->dev, e->vcpu_fd, KVM_GET_XSAVE2, dev_xsave), err);
}

static void up_dev_xsave(struct env *e, const char *profile)
{
	up_dev_cpuid(e, profile);
	assert_int_equal(vx_kvm_ioctl(e->dev, e->vcpu_fd, KVM_GET_XSAVE2, dev_xsave), 0);
	dev_xsave[160] ^= 1; /* XMM0 byte 0: a change KVM_SET_XSAVE must make */
}

static int call_dev_set_xsave(struct env *e, struct vx_error *err)
{
	return dev_rc(e, vx_kvm_ioctl(e->dev, e->vcpu_fd, KVM_SET_XSAVE, dev_xsave), err);
}

static int call_dev_load_guest(struct env *e, struct vx_error *err)
{
	return vx_kvm_dev_load_guest(e->dev, guest_path, err);
}

static int call_dev_close(struct env *e, struct vx_error *err)
{
	return dev_rc(e, vx_kvm_close(e->dev, e->vm_fd), err);
}

static const struct walk dev_walks[] = {
    {"dev create", "sapphire-rapids", up_boot, call_dev_create, {-ENOMEM}},
    {"dev create (dump, guest file)", "sapphire-rapids", up_boot, call_dev_create_files, {-ENOMEM}},
    {"dev open (first: the table)", "sapphire-rapids", up_dev_bare, call_dev_open, {-ENOMEM}},
    {"dev open (second)", "sapphire-rapids", up_dev, call_dev_open, {-ENOMEM}},
    {"dev KVM_CREATE_VM", "sapphire-rapids", up_dev, call_dev_create_vm, {-ENOMEM}},
    {"dev KVM_CREATE_VCPU", "sapphire-rapids", up_dev_vm, call_dev_create_vcpu, {-ENOMEM}},
    {"dev KVM_CREATE_VCPU (table)",
     "sapphire-rapids",
     up_dev_vm_full,
     call_dev_create_vcpu,
     {-ENOMEM}},
    {"dev KVM_GET_SUPPORTED_CPUID", "sapphire-rapids", up_dev, call_dev_supported, {-ENOMEM}},
    {"dev KVM_SET_CPUID2 (AMX)",
     "sapphire-rapids",
     up_dev_vcpu,
     call_dev_set_cpuid2,
     {-ENOMEM, -EFAULT}},
    {"dev KVM_GET_XSAVE2", "sapphire-rapids", up_dev_cpuid, call_dev_get_xsave2, {-ENOMEM}},
    {"dev KVM_SET_XSAVE", "sapphire-rapids", up_dev_xsave, call_dev_set_xsave, {-ENOMEM}},
    {"dev load guest", "sapphire-rapids", up_dev, call_dev_load_guest, {-ENOMEM}},
    {"dev close VM", "sapphire-rapids", up_dev_vcpu, call_dev_close, {-ENOMEM}},
};

static void dev_entry_points(void **state)
{
	static const char text[] = "set xmm3 0x1234\nout 0x10 0x41\nhlt\n";
	int fd = mkstemp(guest_path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	for (size_t i = 0; i < sizeof(dev_walks) / sizeof(dev_walks[0]); i++)
		walk(&dev_walks[i], VX_KVM_CET_GUEST_ONLY);
	unlink(guest_path);
}

/* ----------------------------------------------------------------------------------------- */
/* The vmm layer: the result object the call writes is filled with 0x5a first and must stay so */

static void up_out(struct env *e, size_t size)
{
	e->out = malloc(size);
	assert_non_null(e->out);
	memset(e->out, 0x5a, size);
	e->out_size = size;
}

static void host_options(struct env *e, struct vx_vmm_host_options *o)
{
	vx_vmm_host_options_init(o);
	o->platform = &e->fp.platform;
}

static void up_vmm_host(struct env *e, const char *profile)
{
	struct vx_vmm_host_options o;
	struct vx_error err = VX_ERROR_INIT;

	up_boot(e, profile);
	host_options(e, &o);
	ft_check(vx_vmm_host_create(&e->profile, &o, &e->vhost, &err), &err, "host");
	e->kvm = vx_vmm_host_kvm(e->vhost);
	e->m = vx_kvm_machine(e->kvm);
}

static int call_vmm_host(struct env *e, struct vx_error *err)
{
	struct vx_vmm_host_options o;

	host_options(e, &o);
	return vx_vmm_host_create(&e->profile, &o, &e->made_vhost, err);
}

static int call_vmm_vcpu(struct env *e, struct vx_error *err)
{
	struct vx_vmm_vcpu_config c = {NULL, 0, true, false, 0};

	return vx_vmm_vcpu_create(e->vhost, &c, &e->made_vvcpu, err);
}

/* A KVM_GET_XSAVE2 blob of the profile with random x87, SSE, AVX and AVX-512 (seed 11). */
static void up_blob(struct env *e, const char *profile)
{
	uint64_t seed = 11;

	up_boot(e, profile);
	e->in_len = vt_std_size(&e->profile);
	e->in = malloc(e->in_len);
	assert_non_null(e->in);
	vt_kvm_blob(&e->profile, 0xe7, &seed, e->in, e->in_len);
	print_message("blob: %zu bytes, seed 11\n", e->in_len);
}

static void up_blob_out(struct env *e, const char *profile)
{
	up_blob(e, profile);
	up_out(e, sizeof(struct vx_vmm_xsave_view));
}

static int call_blob_parse(struct env *e, struct vx_error *err)
{
	return vx_vmm_blob_parse(e->in, e->in_len, VX_VMM_BLOB_AUTO, e->out, err);
}

static int call_decode(struct env *e, struct vx_error *err)
{
	struct vx_vmm_blob b = vt_parse(e->in, e->in_len, VX_VMM_BLOB_AUTO);

	return vx_vmm_xsave_decode(&e->profile, &b, e->out, err);
}

/* To zen4's KVM_GET_XSAVE2 layout (no AMX there: a conversion, not a copy). */
static int call_convert(struct env *e, struct vx_error *err)
{
	static struct vx_profile to;
	struct vx_vmm_convert_options o = {&e->profile, &to, VX_VMM_BLOB_KVM2, 0, 0, 0};
	struct vx_vmm_blob b = vt_parse(e->in, e->in_len, VX_VMM_BLOB_AUTO);
	struct vx_vmm_converter conv;
	struct vx_vmm_report rep;
	int rc;

	ft_profile(&to, "zen4");
	rc = vx_vmm_converter_init(&conv, &o, err);
	if (!rc)
		rc = vx_vmm_convert(&conv, &b, e->out, e->out_size, &rep, err);
	return rc;
}

static void up_validate(struct env *e, const char *profile)
{
	struct vx_vmm_vcpu_config c = {NULL, 0, true, false, 0};
	struct vx_error err = VX_ERROR_INIT;

	up_vmm_host(e, profile);
	ft_check(vx_vmm_vcpu_create(e->vhost, &c, &e->vvcpu, &err), &err, "vcpu");
	e->vcpu = vx_vmm_vcpu_kvm(e->vvcpu);
	up_blob(e, profile);
	up_out(e, sizeof(struct vx_vmm_validation));
}

static int call_validate(struct env *e, struct vx_error *err)
{
	struct vx_vmm_blob b = vt_parse(e->in, e->in_len, VX_VMM_BLOB_AUTO);

	return vx_vmm_xsave_validate(e->vvcpu, &b, 0, e->out, err);
}

/* A fixture of tests/fixtures/vmm, read once. */
static void slurp(struct env *e, const char *name)
{
	static struct {
		const char *name;
		uint8_t *text;
		size_t len;
	} cache[2];
	char path[512];
	unsigned i = strcmp(name, "ch-snapshot-state.json") == 0;
	FILE *f;

	if (!cache[i].text) {
		snprintf(path, sizeof(path), "%s/vmm/%s", VXSAVE_FIXTURE_DIR, name);
		f = fopen(path, "rb");
		assert_non_null(f);
		cache[i].text = malloc(1u << 20);
		assert_non_null(cache[i].text);
		cache[i].len = fread(cache[i].text, 1, 1u << 20, f);
		fclose(f);
	}
	e->in = malloc(cache[i].len);
	assert_non_null(e->in);
	memcpy(e->in, cache[i].text, cache[i].len);
	e->in_len = cache[i].len;
}

static void up_bundle_text(struct env *e, const char *name)
{
	slurp(e, name);
	up_out(e, sizeof(struct vx_vmm_bundle));
}

static int call_bundle_parse(struct env *e, struct vx_error *err)
{
	return vx_vmm_bundle_parse_with_platform((const char *)e->in, e->in_len, 0, &e->fp.platform,
						 e->out, NULL, err);
}

/* The real KVM bundle of tests/fixtures/vmm, and targets made from built-in profiles. */
static void up_bundle(struct env *e, const char *profile)
{
	struct vx_error err = VX_ERROR_INIT;
	static const char *const names[] = {"sapphire-rapids", "zen4"};

	slurp(e, "real-kvm-vcpu0.bundle.json");
	e->bundle = malloc(sizeof(*e->bundle));
	assert_non_null(e->bundle);
	ft_check(vx_vmm_bundle_parse((const char *)e->in, e->in_len, 0, e->bundle, NULL, &err),
		 &err, "bundle");
	e->targets = calloc(2, sizeof(*e->targets));
	assert_non_null(e->targets);
	for (unsigned i = 0; i < 2; i++) {
		ft_profile(&e->profile, names[i]);
		vx_compat_target_init(&e->targets[i], &e->profile);
	}
	ft_profile(&e->profile, profile);
}

static void up_bundle_write(struct env *e, const char *profile)
{
	up_bundle(e, profile);
	up_out(e, 1u << 20);
}

static int call_bundle_write(struct env *e, struct vx_error *err)
{
	size_t n = vx_vmm_bundle_format(e->bundle, e->out, e->out_size);

	(void)err;
	assert_true(n > 0 && n < e->out_size);
	return 0;
}

static void up_compat(struct env *e, const char *profile)
{
	up_bundle(e, profile);
	up_out(e, sizeof(struct vx_compat_report));
}

static int call_compat(struct env *e, struct vx_error *err)
{
	return vx_compat_check_with_platform(e->bundle, &e->targets[0], &e->fp.platform, e->out,
					     err);
}

/* A 4096-byte blob for an AMX target: KVM_SET_XSAVE reads KVM_CAP_XSAVE2 bytes there, so the
 * fix resizes it (kvm.md §5.1). */
static int dev_prctl(void *ctx, int option, unsigned long arg)
{
	return vx_kvm_dev_arch_prctl(ctx, option, arg);
}

static void up_fix(struct env *e, const char *profile)
{
	struct vx_kvm_dev_options d;
	struct vx_vmm_capture_options o;
	struct vx_kvm_dev *dev = NULL;
	struct vx_kvm_backend be;
	struct vx_error err = VX_ERROR_INIT;
	uint64_t bv;

	up_bundle(e, profile);
	vx_kvm_dev_options_init(&d);
	d.host_profile = &e->profile;
	d.flavour = VX_KVM_VMX;
	ft_check(vx_kvm_dev_create(&d, &dev, &err), &err, "dev");
	vx_kvm_backend_model(&be, dev);
	vx_vmm_capture_options_init(&o);
	o.backend = &be;
	o.arch_prctl = dev_prctl;
	o.prctl_ctx = dev;
	o.host = &e->profile;
	o.host_by_name = true;
	o.flavour = VX_KVM_VMX;
	o.guest_perm_amx = true;
	o.seed = 7;
	ft_check(vx_vmm_capture(&o, e->bundle, &err), &err, "capture");
	vx_kvm_dev_destroy(dev);
	/* KVM_GET_XSAVE's 4096 bytes without the tiles (kvm.md §5.1): a resize fixes it. */
	bv = vx_vmm_bundle_xstate_bv(e->bundle) & ~FT_AMX;
	for (unsigned i = 0; i < 8; i++)
		e->bundle->xsave[512 + i] = (uint8_t)(bv >> (8 * i));
	e->bundle->xsave_len = 4096;
	up_out(e, sizeof(struct vx_vmm_bundle));
}

/* The same AMX bundle on zen4: KVM_SET_CPUID2 of its CPUID is refused, and compat tries the
 * CPUID less the tiles (compat.c vcpu_with). */
static int call_compat_zen4(struct env *e, struct vx_error *err)
{
	return vx_compat_check_with_platform(e->bundle, &e->targets[1], &e->fp.platform, e->out,
					     err);
}

static void up_compat_amx(struct env *e, const char *profile)
{
	up_fix(e, profile);
	e->bundle->xsave_len = 11008;
	free(e->out);
	up_out(e, sizeof(struct vx_compat_report));
}

static int call_fix(struct env *e, struct vx_error *err)
{
	return vx_compat_fix_with_platform(e->bundle, &e->targets[0], &e->fp.platform, e->out, err);
}

static void up_baseline(struct env *e, const char *profile)
{
	up_bundle(e, profile);
	up_out(e, sizeof(struct vx_baseline));
}

static int call_baseline(struct env *e, struct vx_error *err)
{
	return vx_baseline_compute_with_platform(e->targets, 2, &e->fp.platform, e->out, err);
}

static void up_ch(struct env *e, const char *profile)
{
	up_boot(e, profile);
	up_bundle_text(e, "ch-snapshot-state.json");
}

static void up_real_bundle(struct env *e, const char *profile)
{
	up_boot(e, profile);
	up_bundle_text(e, "real-kvm-vcpu0.bundle.json");
}

static void up_convert(struct env *e, const char *profile)
{
	up_blob(e, profile);
	up_out(e, 1u << 15);
}

static void up_parse(struct env *e, const char *profile)
{
	up_blob(e, profile);
	up_out(e, sizeof(struct vx_vmm_blob));
}

/* Capture on the drop-in /dev/kvm (its own allocations from the same platform, so an ioctl's
 * ENOMEM is walked too; KVM_SET_CPUID2's failed guest fpstate growth is EFAULT, as in the
 * kvm walks): /dev/kvm open, the guest permission granted and locked by a vCPU
 * made and closed before (kvm.md §2.6: the first KVM_CREATE_VCPU locks it, for good), the
 * bundle to fill. */
static void up_capture(struct env *e, const char *profile)
{
	up_dev_vcpu(e, profile);
	assert_int_equal(vx_kvm_close(e->dev, e->vcpu_fd), 0);
	assert_int_equal(vx_kvm_close(e->dev, e->vm_fd), 0);
	e->vcpu = NULL;
	up_out(e, sizeof(struct vx_vmm_bundle));
}

static int capture(struct env *e, enum vx_vmm_set_by set_by, struct vx_error *err)
{
	struct vx_vmm_capture_options o;
	struct vx_kvm_backend be;

	vx_kvm_backend_model(&be, e->dev);
	vx_vmm_capture_options_init(&o);
	o.backend = &be;
	o.arch_prctl = dev_prctl;
	o.prctl_ctx = e->dev;
	o.host = &e->profile;
	o.host_by_name = true;
	o.flavour = VX_KVM_VMX;
	o.design = (int)e->design;
	o.guest_perm_amx = true;
	o.seed = 7;
	o.set_by = set_by;
	o.model = e->dev;
	o.platform = &e->fp.platform;
	return vx_vmm_capture(&o, e->out, err);
}

static int call_capture(struct env *e, struct vx_error *err)
{
	return capture(e, VX_VMM_SET_BY_KVM_SET_XSAVE, err);
}

/* The guest must have set the registers: a KVM_SET_XSAVE fallback would be another bundle. */
static int call_capture_guest(struct env *e, struct vx_error *err)
{
	int rc = capture(e, VX_VMM_SET_BY_GUEST, err);
	const struct vx_vmm_bundle *b = e->out;

	if (rc == 0 && strcmp(b->registers_set_by, VX_VMM_SET_BY_GUEST_NAME) != 0)
		fail_msg("capture (guest): set by %s: %s", b->registers_set_by, b->registers_note);
	return rc;
}

/* A model vCPU with the supported CPUID (AMX permitted): the bundle keeps its source fields. */
static void up_save_vcpu(struct env *e, const char *profile)
{
	up_dev_cpuid(e, profile);
	up_out(e, sizeof(struct vx_vmm_bundle));
	vx_vmm_bundle_init(e->out);
}

static int call_save_vcpu(struct env *e, struct vx_error *err)
{
	struct vx_kvm_backend be;

	vx_kvm_backend_model(&be, e->dev);
	return vx_vmm_save_vcpu_with_platform(&be, e->sys_fd, e->vm_fd, e->vcpu_fd, &e->profile,
					      &e->fp.platform, e->out, err);
}

static const struct walk vmm_walks[] = {
    {"vmm blob parse", "sapphire-rapids", up_parse, call_blob_parse, {-ENOMEM}},
    {"vmm decode", "sapphire-rapids", up_blob_out, call_decode, {-ENOMEM}},
    {"vmm convert", "sapphire-rapids", up_convert, call_convert, {-ENOMEM}},
    {"vmm host", "sapphire-rapids", up_boot, call_vmm_host, {-ENOMEM}},
    {"vmm vCPU", "sapphire-rapids", up_vmm_host, call_vmm_vcpu, {-ENOMEM, -EFAULT}},
    {"vmm validate", "sapphire-rapids", up_validate, call_validate, {-ENOMEM}},
    {"vmm bundle parse", "sapphire-rapids", up_real_bundle, call_bundle_parse, {-ENOMEM}},
    {"vmm Cloud Hypervisor state", "sapphire-rapids", up_ch, call_bundle_parse, {-ENOMEM}},
    {"vmm bundle write", "sapphire-rapids", up_bundle_write, call_bundle_write, {-ENOMEM}},
    {"vmm compat", "sapphire-rapids", up_compat, call_compat, {-ENOMEM}},
    {"vmm compat fix", "sapphire-rapids", up_fix, call_fix, {-ENOMEM}},
    {"vmm compat (AMX on zen4)", "sapphire-rapids", up_compat_amx, call_compat_zen4, {-ENOMEM}},
    {"vmm baseline (2 hosts)", "sapphire-rapids", up_baseline, call_baseline, {-ENOMEM}},
    {"vmm capture (KVM_SET_XSAVE)",
     "sapphire-rapids",
     up_capture,
     call_capture,
     {-ENOMEM, -EFAULT}},
    {"vmm capture (guest)", "sapphire-rapids", up_capture, call_capture_guest, {-ENOMEM, -EFAULT}},
    {"vmm save vCPU", "sapphire-rapids", up_save_vcpu, call_save_vcpu, {-ENOMEM}},
};

static void vmm_entry_points(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vmm_walks) / sizeof(vmm_walks[0]); i++)
		walk(&vmm_walks[i], VX_KVM_CET_GUEST_ONLY);
}

/* ----------------------------------------------------------------------------------------- */
/* Calibration: the cost table must stay as it was                                             */

static void up_calibrate(struct env *e, const char *profile)
{
	up_boot(e, profile);
	up_out(e, sizeof(struct vx_eval_cost_table));
	vx_eval_cost_table_init(e->out);
}

static int call_calibrate(struct env *e, struct vx_error *err)
{
	struct vx_eval_calibrate_options o = {3, true, true};
	static struct vx_eval_calibration cal;

	return vx_eval_calibrate_with_platform(e->out, &o, &e->fp.platform, &cal, err);
}

static void calibrate(void **state)
{
	static const struct walk w = {
	    "calibrate", "sapphire-rapids", up_calibrate, call_calibrate, {-ENOMEM}};
	struct vx_eval_calibration cal;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_eval_calibrate_options o = {3, true, true};

	(void)state;
	if (vx_eval_calibrate(NULL, &o, &cal, &err) == -ENOTSUP) {
		print_message("SKIP: calibrate: %s\n", err.reason);
		return;
	}
	walk(&w, VX_KVM_CET_GUEST_ONLY);
}

/* ----------------------------------------------------------------------------------------- */
/* The cost file: the table must stay as it was                                                 */

static char cost_path[] = "/tmp/vxsave-alloc-cost-XXXXXX";

static int call_cost_load(struct env *e, struct vx_error *err)
{
	return vx_eval_cost_load_with_platform(e->out, cost_path, &e->fp.platform, err);
}

/* @text as the cost file; walked with a fresh table. */
static unsigned cost_walk(const char *name, const char *text, size_t len)
{
	const struct walk w = {name, "sapphire-rapids", up_calibrate, call_cost_load, {-ENOMEM}};
	int fd = open(cost_path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return walk(&w, VX_KVM_CET_GUEST_ONLY);
}

static void cost_load(void **state)
{
	static const char small[] = "rdmsr 120 cycles # box A\nclock 2 GHz\n";
	char big[6000];
	struct vx_eval_cost_table t;
	struct vx_error err = VX_ERROR_INIT;
	unsigned n;
	int fd = mkstemp(cost_path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	n = cost_walk("cost load (2 lines)", small, sizeof(small) - 1);
	/* Past the first 8 KiB buffer's room for another 4 KiB read: the text grows (cost.c). */
	memset(big, '#', sizeof(big));
	for (size_t i = 79; i < sizeof(big); i += 80)
		big[i] = '\n';
	memcpy(big, small, sizeof(small) - 1);
	if (!sites_only)
		assert_true(cost_walk("cost load (6000 bytes)", big, sizeof(big)) > n);
	/* What the walks loaded (hand-computed: 120 cycles at 2 GHz = 60 ns). */
	vx_eval_cost_table_init(&t);
	ft_check(vx_eval_cost_load(&t, cost_path, &err), &err, "cost load");
	assert_int_equal(t.entry[VX_COST_RDMSR].origin, VX_COST_OVERRIDE);
	assert_true(vx_eval_cost_ns(&t, VX_COST_RDMSR) > 59.99 &&
		    vx_eval_cost_ns(&t, VX_COST_RDMSR) < 60.01);
	unlink(cost_path);
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
	recording = true;
	ft_profile(&spr, "sapphire-rapids");
	for (size_t k = 0; k < 2; k++) {
		int rc = -1, n;

		ft_check(vx_eval_workload_builtin(kinds[k], &w, &err), &err, kinds[k]);
		w.steps = 8;
		for (n = sites_only ? -1 : 0; rc < 0 && n < 1000; n++) {
			struct ft_platform fp;

			platform_init(&fp);
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
	    cmocka_unit_test(fpu_entry_points), cmocka_unit_test(kvm_entry_points),
	    cmocka_unit_test(eval_setup),	cmocka_unit_test(dev_entry_points),
	    cmocka_unit_test(vmm_entry_points), cmocka_unit_test(calibrate),
	    cmocka_unit_test(cost_load),
	};
	int rc;

	sites_only = getenv("VXSAVE_ALLOC_SITES") != NULL;
	rc = cmocka_run_group_tests(tests, NULL, NULL);

	write_sites();
	return rc;
}
