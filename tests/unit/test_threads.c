/* SPDX-License-Identifier: MIT */
/*
 * The thread-safety contract of include/vxsave/common.h ("Threads"), checked by running
 * independent objects on several threads at once (issue 11).  Built in every configuration;
 * `make test-tsan` builds it with ThreadSanitizer (VXSAVE_TSAN), where any data race fails it.
 *
 * Every job is run once alone first; its digest (FNV-1a over what it observed: registers,
 * fpstate images, KVM_GET_XSAVE2 bytes, CPUID, eval results) is the expectation the same job
 * must reproduce while the others run on other threads.  Shared between the threads, as the
 * contract allows: parsed profiles, booted fpu systems (each thread builds its own machine on
 * them), a prepared VMM converter, the default platform, one drop-in /dev/kvm context that
 * several threads call at once (it serialises them), and the hardware backend's reference
 * count (vx_hw_open/vx_hw_close) where the CPU can run it.
 */
#define _POSIX_C_SOURCE 200809L /* pthread barriers */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>

#include <vxsave/cpu_hw.h>
#include <vxsave/eval.h>
#include <vxsave/kvm_ioctl.h>
#include <vxsave/kvm_run.h>
#include <vxsave/vmm.h>

#include "kvm_test_util.h"

#define ROUNDS	  3u /* each job repeats its work this many times in one call */
#define INSTANCES 2u /* concurrent copies of every job */
#define REPEATS	  4u /* each thread runs its job this many times */

/* What every thread may read, made once before the threads start (common.h "Threads"). */
static struct {
	struct vx_profile spr, zen4;
	struct vx_fpu_system *spr_sys, *zen4_sys;
	struct vx_vmm_converter conv;
	struct vx_kvm_dev *dev;
	bool hw;
} shared;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * UINT64_C(0x100000001b3);
	return h;
}

#define FNV_INIT UINT64_C(0xcbf29ce484222325)

/* A failure inside a thread: cmocka's fail() is not thread-safe, so record and report later. */
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;
static char failure[512];

static uint64_t job_fail(const char *what, const struct vx_error *err)
{
	pthread_mutex_lock(&failure_lock);
	if (!failure[0])
		snprintf(failure, sizeof(failure), "%s: %s", what, err ? err->reason : "");
	pthread_mutex_unlock(&failure_lock);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Jobs: each returns a digest of what it saw (0 after a failure)                               */

/* A machine on the shared spr system: two processes switching, fork, AMX first use (#NM and
 * fpstate_realloc), registers written and read back, every task's fpstate image hashed. */
static uint64_t job_fpu(void)
{
	const struct vx_reg_info *xmm = vx_reg_lookup("xmm5"), *tmm = vx_reg_lookup("tmm0");
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_machine *m = NULL;
	struct vx_fpu_task *a = NULL, *b = NULL, *c = NULL;
	struct vx_fpu_user_result r;
	uint8_t v[1024];
	uint64_t h = FNV_INIT, grant = 0;

	if (vx_fpu_machine_create(shared.spr_sys, 2, &m, &err) ||
	    vx_fpu_process_create(m, &a, &err) || vx_fpu_process_create(m, &b, &err))
		return job_fail("fpu setup", &err);
	/* a writes, b takes its CPU and writes, a comes back on the other CPU and reads. */
	for (unsigned round = 0; round < ROUNDS; round++) {
		uint8_t back[16];

		memset(v, (int)(0x11 * (round + 1)), 16);
		if (vx_fpu_task_schedule(a, round % 2, &err) ||
		    vx_fpu_task_set_reg(a, xmm, v, 16, &r, &err) || !r.retired ||
		    vx_fpu_task_schedule(b, round % 2, &err) ||
		    vx_fpu_task_set_reg(b, xmm, back, 16, &r, &err) ||
		    vx_fpu_task_schedule(a, (round + 1) % 2, &err) ||
		    vx_fpu_task_get_reg(a, xmm, back, 16, &err))
			return job_fail("fpu switch", &err);
		if (memcmp(back, v, 16) != 0)
			return job_fail("xmm5 not as written after a switch and a migration", NULL);
		h = fnv(h, back, 16);
	}
	if (vx_fpu_arch_prctl(a, VX_ARCH_REQ_XCOMP_PERM, VX_ARCH_XCOMP_TILEDATA, NULL, &err) ||
	    vx_fpu_task_schedule(a, 1, &err) || vx_fpu_task_use(a, FT_AMX, &r, &err) ||
	    !r.retired || vx_fpu_task_get_reg(a, tmm, v, tmm->width, &err) ||
	    vx_fpu_task_fork(a, &c, &err) ||
	    vx_fpu_arch_prctl(c, VX_ARCH_GET_XCOMP_PERM, 0, &grant, &err))
		return job_fail("fpu amx/fork", &err);
	h = fnv(h, v, tmm->width);
	h = fnv(h, &grant, sizeof(grant));
	for (struct vx_fpu_task *t = a; t; t = t == a ? b : t == b ? c : NULL) {
		struct vx_fpu_task_info i = ft_info(t);

		h = fnv(h, i.fpstate->regs, i.fpstate->size);
		h = fnv(h, &i.perm, sizeof(i.perm));
	}
	vx_fpu_machine_destroy(m);
	return h;
}

/* A KVM module on the shared zen4 system: a vCPU with the supported CPUID runs a guest
 * program preempted and migrated between the CPUs; KVM_GET_XSAVE2 and the XCRs hashed. */
static uint64_t job_kvm(void)
{
	static const char text[] = "mov-cr0 0x80010031\nmov-cr4 0x40620\nxsetbv 0 0xe7\n"
				   "set xmm1 0x0123456789abcdef\nset k3 0x5a5a\nout 0x80 1\n"
				   "set zmmh2 0x77\nhlt\n";
	struct vx_kvm_cpuid_entry cpuid[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_kvm_guest_op ops[16];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_options o;
	struct vx_fpu_machine *m = NULL;
	struct vx_fpu_task *vmm = NULL;
	struct vx_kvm *kvm = NULL;
	struct vx_kvm_vm *vm = NULL;
	struct vx_kvm_vcpu *vcpu = NULL;
	struct vx_kvm_run run;
	struct vx_kvm_xcrs xcrs;
	uint8_t xsave[VX_KVM_XSAVE_SIZE];
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;
	unsigned count = 0, cpu = 0;
	uint64_t h = FNV_INIT;
	int rc = 0;

	vx_kvm_options_init(&o, VX_KVM_SVM);
	o.design = VX_KVM_CET_GUEST_ONLY;
	if (vx_fpu_machine_create(shared.zen4_sys, 2, &m, &err) ||
	    vx_fpu_process_create(m, &vmm, &err) || vx_fpu_task_schedule(vmm, 0, &err) ||
	    vx_kvm_create(m, &o, &kvm, &err) || vx_kvm_vm_create(kvm, vmm, &vm, &err) ||
	    vx_kvm_vcpu_create(vm, vmm, 0, &vcpu, &err) ||
	    vx_kvm_get_supported_cpuid(kvm, vmm, cpuid, &n, &err) ||
	    vx_kvm_vcpu_set_cpuid2(vcpu, vmm, cpuid, n, &err) ||
	    vx_kvm_guest_program_parse(text, sizeof(text) - 1, ops, 16, &count, &err))
		return job_fail("kvm setup", &err);
	memset(&run, 0, sizeof(run));
	run.ops = ops;
	run.count = count;
	for (unsigned step = 0; step < 64 && rc != VX_KVM_RUN_DONE; step++) {
		rc = vx_kvm_vcpu_run(vcpu, vmm, cpu, &run, 2, &err);
		if (rc < 0)
			return job_fail("KVM_RUN", &err);
		if (rc == VX_KVM_RUN_PREEMPTED && vx_kvm_sched(kvm, vmm, cpu ^= 1, &err))
			return job_fail("sched", &err);
	}
	memset(&xcrs, 0, sizeof(xcrs));
	if (vx_kvm_vcpu_get_xsave(vcpu, false, xsave, sizeof(xsave), &err) ||
	    vx_kvm_vcpu_get_xcrs(vcpu, &xcrs, &err))
		return job_fail("kvm read back", &err);
	h = fnv(h, xsave, sizeof(xsave));
	h = fnv(h, &xcrs, sizeof(xcrs));
	h = fnv(h, cpuid, n * sizeof(cpuid[0]));
	vx_kvm_destroy(kvm);
	vx_fpu_machine_destroy(m);
	return h;
}

/* An evaluation run (eval.h: plain-data results, deterministic from the seed). */
static uint64_t job_eval(void)
{
	static _Thread_local struct vx_eval_result r;
	struct vx_eval_workload w;
	struct vx_error err = VX_ERROR_INIT;

	if (vx_eval_workload_builtin("mixed", &w, &err))
		return job_fail("workload", &err);
	w.steps = 24;
	if (vx_eval_run(&shared.spr, VX_KVM_CET_KVM_EAGER, &w, 7, NULL, &r, &err) < 0)
		return job_fail("eval", &err);
	return fnv(fnv(FNV_INIT, &r.run, sizeof(r.run)), &r.memory, sizeof(r.memory));
}

/* The shared drop-in context, called by several threads at once: each makes its own VM and
 * vCPU and reads KVM_GET_XSAVE2 after KVM_SET_CPUID2 (the same bytes for every thread). */
static uint64_t job_dev(void)
{
	union {
		struct kvm_cpuid2 hdr;
		struct {
			__u32 nent, padding;
			struct kvm_cpuid_entry2 e[256];
		};
	} *c = calloc(1, sizeof(*c));
	static _Thread_local uint8_t xsave[1u << 15];
	int sys = vx_kvm_dev_open(shared.dev, O_RDWR), vm, vcpu;
	uint64_t h = FNV_INIT;

	vm = vx_kvm_ioctl(shared.dev, sys, KVM_CREATE_VM, 0);
	vcpu = vm < 0 ? -1 : vx_kvm_ioctl(shared.dev, vm, KVM_CREATE_VCPU, 0);
	c->nent = 256;
	if (vcpu < 0 || vx_kvm_ioctl(shared.dev, sys, KVM_GET_SUPPORTED_CPUID, c) ||
	    vx_kvm_ioctl(shared.dev, vcpu, KVM_SET_CPUID2, c) ||
	    vx_kvm_ioctl(shared.dev, vcpu, KVM_GET_XSAVE2, xsave)) {
		free(c);
		return job_fail("drop-in /dev/kvm", vx_kvm_dev_last_error(shared.dev));
	}
	h = fnv(h, xsave, 4096);
	vx_kvm_close(shared.dev, vcpu);
	vx_kvm_close(shared.dev, vm);
	vx_kvm_close(shared.dev, sys);
	free(c);
	return h;
}

/* The VMM tooling on shared read-only data: a blob built here, parsed, decoded on the shared
 * profile and converted with the shared converter (read-only after vx_vmm_converter_init). */
static uint64_t job_vmm(void)
{
	static _Thread_local uint8_t blob[4096], out[1u << 15];
	static _Thread_local struct vx_vmm_xsave_view view;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_vmm_blob b;
	uint8_t xmm[16];
	size_t n;

	memset(blob, 0, sizeof(blob));
	blob[0] = 0x7f, blob[1] = 0x03;	  /* FCW 0x037F */
	blob[24] = 0x80, blob[25] = 0x1f; /* MXCSR 0x1F80 */
	blob[512] = 0x3;		  /* XSTATE_BV: x87 | SSE */
	memset(blob + 160, 0x42, 16);	  /* XMM0 */
	if (vx_vmm_blob_parse(blob, sizeof(blob), VX_VMM_BLOB_AUTO, &b, &err) ||
	    vx_vmm_xsave_decode(&shared.spr, &b, &view, &err) ||
	    vx_vmm_xsave_reg(&view, "xmm0", xmm, sizeof(xmm), NULL, &err))
		return job_fail("vmm decode", &err);
	n = vx_vmm_convert_size(&shared.conv, &b);
	if (n > sizeof(out) || vx_vmm_convert(&shared.conv, &b, out, n, NULL, &err))
		return job_fail("vmm convert", &err);
	return fnv(fnv(FNV_INIT, xmm, sizeof(xmm)), out, n);
}

/* The hardware backend: open/close are reference-counted under one mutex (cpu_hw.h). */
static uint64_t job_hw(void)
{
	struct vx_hw_host host;
	uint32_t regs[4];

	if (!shared.hw)
		return 1;
	if (vx_hw_open() != 0 || vx_hw_host_query(&host) != 0 || vx_hw_cpuid(0xd, 0, regs) != 0)
		return job_fail("hw", NULL);
	vx_hw_close();
	return fnv(FNV_INIT, regs, sizeof(regs));
}

static uint64_t (*const jobs[])(void) = {job_fpu, job_kvm, job_eval, job_dev, job_vmm, job_hw};
#define NJOBS (sizeof(jobs) / sizeof(jobs[0]))

/* ----------------------------------------------------------------------------------------- */

static void share(void)
{
	struct vx_vmm_convert_options c = {
	    &shared.spr, &shared.zen4, VX_VMM_BLOB_COMPACTED, 0, 0, 0};
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;

	ft_profile(&shared.spr, "sapphire-rapids");
	ft_profile(&shared.zen4, "zen4");
	shared.spr_sys = ft_boot_profile(&shared.spr, VX_FPU_CET_GUEST_ONLY, NULL);
	shared.zen4_sys = ft_boot_profile(&shared.zen4, VX_FPU_CET_GUEST_ONLY, NULL);
	ft_check(vx_vmm_converter_init(&shared.conv, &c, &err), &err, "converter");
	vx_kvm_dev_options_init(&o);
	o.host_profile = &shared.spr;
	o.flavour = VX_KVM_VMX;
	ft_check(vx_kvm_dev_create(&o, &shared.dev, &err), &err, "drop-in context");
	shared.hw = vx_hw_supported() && vx_hw_open() == 0;
	if (!shared.hw)
		print_message("SKIP: the hardware backend: not supported on this CPU/build\n");
}

static void unshare(void)
{
	if (shared.hw)
		vx_hw_close();
	vx_kvm_dev_destroy(shared.dev);
	vx_fpu_system_destroy(shared.spr_sys);
	vx_fpu_system_destroy(shared.zen4_sys);
}

struct slot {
	pthread_t thread;
	unsigned job;
	uint64_t digest[REPEATS];
};

static pthread_barrier_t start;

/* All threads start together and repeat their job, so that the jobs overlap in time. */
static void *thread_main(void *arg)
{
	struct slot *s = arg;

	pthread_barrier_wait(&start);
	for (unsigned i = 0; i < REPEATS; i++)
		s->digest[i] = jobs[s->job]();
	return NULL;
}

/* Each job alone, then INSTANCES copies of every job at once: the same digests. */
static void independent_objects_on_threads(void **state)
{
	uint64_t expected[NJOBS];
	struct slot slots[NJOBS * INSTANCES];

	(void)state;
	share();
	for (unsigned j = 0; j < NJOBS; j++) {
		expected[j] = jobs[j]();
		if (failure[0])
			fail_msg("job %u alone: %s", j, failure);
	}
	assert_int_equal(pthread_barrier_init(&start, NULL, NJOBS * INSTANCES), 0);
	for (unsigned i = 0; i < NJOBS * INSTANCES; i++) {
		slots[i].job = i % NJOBS;
		assert_int_equal(pthread_create(&slots[i].thread, NULL, thread_main, &slots[i]), 0);
	}
	for (unsigned i = 0; i < NJOBS * INSTANCES; i++)
		assert_int_equal(pthread_join(slots[i].thread, NULL), 0);
	pthread_barrier_destroy(&start);
	if (failure[0])
		fail_msg("on threads: %s", failure);
	for (unsigned i = 0; i < NJOBS * INSTANCES; i++)
		for (unsigned r = 0; r < REPEATS; r++)
			if (slots[i].digest[r] != expected[slots[i].job])
				fail_msg("job %u gave %016llx on a thread, %016llx alone",
					 slots[i].job, (unsigned long long)slots[i].digest[r],
					 (unsigned long long)expected[slots[i].job]);
	print_message("%zu jobs x %u threads x %u runs: every digest as alone\n", NJOBS, INSTANCES,
		      REPEATS);
	unshare();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(independent_objects_on_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
