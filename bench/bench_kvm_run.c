/* SPDX-License-Identifier: MIT */
/*
 * KVM_RUN round trips (issue 8, "a vCPU run/exit round trip with guest FPU load/put on the
 * model, per design"): one vx_kvm_vcpu_run() of a guest program that is one OUT - vcpu_load,
 * fpu_swap_kvm_fpstate in, VM entry, the OUT, VM exit, swap out, vcpu_put and the return to
 * user mode - for each of the six CET_S designs on sapphire-rapids (VMX, the profile with
 * supervisor shadow stacks), and for the kvm-* designs also with a guest WRMSR(PL0_SSP)
 * before the OUT, with the design counters per round trip (KVM's own PL0-2_SSP MSR reads and
 * writes, intercepted writes, notifier calls).  Then, in the same run, the model configured
 * for this host (the drop-in /dev/kvm: live profile, flavour detected) against this machine's
 * real KVM_RUN with the minimal real guest of tests/kvm_guest executing OUT at CPL0 and at
 * CPL3.  Medians of BENCH_SAMPLES samples; no targets (the issue sets none for these).
 */
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vxsave/kvm_ioctl.h>
#include <vxsave/kvm_run.h>

#include "bench.h"
#include "kvm_guest/kvm_real_guest.h"

#define RUN_MODEL_ITERATIONS 400
#define RUN_REAL_ITERATIONS  40
#define RUN_COUNT_TRIPS	     100
#define RUN_DESIGN_PROFILE   "sapphire-rapids"
#define RUN_PL0_SSP_VALUE    0x7ff000u /* an 8-byte aligned supervisor shadow-stack pointer */

/* A booted host, one VM with one vCPU, and the guest program the round trip runs. */
struct run_model {
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *machine;
	struct vx_fpu_task *vmm;
	struct vx_kvm *kvm;
	struct vx_kvm_vm *vm;
	struct vx_kvm_vcpu *vcpu;
	struct vx_kvm_guest_op ops[2];
	struct vx_kvm_run run;
	int failed;
};

static void model_round_trips(void *opaque, unsigned iterations)
{
	struct run_model *m = opaque;
	struct vx_error err = VX_ERROR_INIT;

	for (unsigned i = 0; i < iterations; i++) {
		m->run.pc = 0;
		if (vx_kvm_vcpu_run(m->vcpu, m->vmm, 0, &m->run, 0, &err) != VX_KVM_RUN_EXIT)
			m->failed = 1;
	}
}

/* The guest program: [WRMSR PL0_SSP at CPL0,] OUT at @cpl. */
static void model_program(struct run_model *m, bool pl0_write, unsigned cpl)
{
	unsigned n = 0;

	memset(m->ops, 0, sizeof(m->ops));
	memset(&m->run, 0, sizeof(m->run));
	if (pl0_write)
		m->ops[n++] = (struct vx_kvm_guest_op){.op = VX_KVM_GOP_WRMSR,
						       .index = VX_MSR_IA32_PL0_SSP,
						       .value = RUN_PL0_SSP_VALUE};
	m->ops[n++] = (struct vx_kvm_guest_op){.op = VX_KVM_GOP_OUT, .cpl = cpl, .index = 0x10};
	m->run.ops = m->ops;
	m->run.count = n;
}

static int model_vcpu(struct run_model *m, struct vx_error *err)
{
	static struct vx_kvm_cpuid_entry ents[VX_KVM_MAX_CPUID_ENTRIES];
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;

	if (vx_kvm_vm_create(m->kvm, m->vmm, &m->vm, err) ||
	    vx_kvm_vcpu_create(m->vm, m->vmm, 0, &m->vcpu, err) ||
	    vx_kvm_get_supported_cpuid(m->kvm, m->vmm, ents, &n, err))
		return -1;
	return vx_kvm_vcpu_set_cpuid2(m->vcpu, m->vmm, ents, n, err) ? -1 : 0;
}

/* The kvm layer on @profile for @design (VMX), the VMM task running on CPU 0. */
static int model_up(struct run_model *m, const char *profile, enum vx_kvm_cet_design design)
{
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_options o;
	struct vx_profile p;

	memset(m, 0, sizeof(*m));
	config.cet_design = vx_kvm_cet_design_fpu(design);
	vx_kvm_options_init(&o, VX_KVM_VMX);
	o.design = design;
	if (vx_profile_builtin(&p, profile, &err) ||
	    vx_fpu_system_create(&p, &config, &m->sys, &err) ||
	    vx_fpu_machine_create(m->sys, 2, &m->machine, &err) ||
	    vx_fpu_process_create(m->machine, &m->vmm, &err) ||
	    vx_fpu_task_schedule(m->vmm, 0, &err) || vx_kvm_create(m->machine, &o, &m->kvm, &err) ||
	    model_vcpu(m, &err)) {
		printf("  %s: %s\n", vx_kvm_cet_design_name(design), err.reason);
		return -1;
	}
	return 0;
}

static void model_down(struct run_model *m)
{
	vx_kvm_destroy(m->kvm);
	vx_fpu_machine_destroy(m->machine);
	vx_fpu_system_destroy(m->sys);
}

/* The design counters of RUN_COUNT_TRIPS round trips, per trip. */
static void counters_per_trip(struct run_model *m, double per[3])
{
	struct vx_kvm_design_counters a, b;

	vx_kvm_vcpu_design_counters(m->vcpu, &a);
	model_round_trips(m, RUN_COUNT_TRIPS);
	vx_kvm_vcpu_design_counters(m->vcpu, &b);
	per[0] = (double)(b.msr_reads - a.msr_reads) / RUN_COUNT_TRIPS;
	per[1] = (double)(b.msr_writes - a.msr_writes) / RUN_COUNT_TRIPS;
	per[2] = (double)(b.intercepted_writes - a.intercepted_writes) / RUN_COUNT_TRIPS;
}

/* One row: the round trip's median and what the design did per trip. */
static int design_row(enum vx_kvm_cet_design design, bool pl0_write)
{
	struct run_model m;
	double ns, per[3];
	int failed;

	if (model_up(&m, RUN_DESIGN_PROFILE, design) != 0)
		return 1;
	model_program(&m, pl0_write, 0);
	ns = bench_median_ns(model_round_trips, &m, RUN_MODEL_ITERATIONS);
	counters_per_trip(&m, per);
	printf("  %-16s %-15s %9.1f ns   MSR reads %4.1f  writes %4.1f  intercepted %4.1f\n",
	       vx_kvm_cet_design_name(design), pl0_write ? "WRMSR+OUT" : "OUT", ns, per[0], per[1],
	       per[2]);
	failed = m.failed;
	model_down(&m);
	if (failed)
		printf("  a round trip did not exit with KVM_EXIT_IO\n");
	return failed;
}

static int bench_designs(void)
{
	int failures = 0;

	printf("\nkvm_run: model KVM_RUN round trip (guest FPU load/put) per CET_S design, %s "
	       "(vmx); design counters per trip (PL0-2_SSP)\n",
	       RUN_DESIGN_PROFILE);
	for (unsigned d = 0; d < VX_KVM_CET_DESIGN_COUNT; d++) {
		enum vx_kvm_cet_design design = (enum vx_kvm_cet_design)d;

		failures += design_row(design, false);
		if (vx_kvm_cet_design_kvm_managed(design))
			failures += design_row(design, true);
	}
	return failures;
}

/* ----------------------------------------------------------------------------------------- */
/* The model for this host against the real KVM_RUN                                            */

struct run_real {
	struct krg_guest g;
	int failed;
};

static void real_round_trips(void *opaque, unsigned iterations)
{
	struct run_real *r = opaque;

	for (unsigned i = 0; i < iterations; i++)
		if (ioctl(r->g.vcpu_fd, KVM_RUN, 0) < 0 || r->g.run->exit_reason != KVM_EXIT_IO)
			r->failed = 1;
}

/* The drop-in device's model of this host, its vCPU running the same OUT at @cpl. */
static int host_model_up(struct vx_kvm_dev **dev, struct run_model *m, unsigned cpl)
{
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;
	int sys, vm, vcpu;

	memset(m, 0, sizeof(*m));
	vx_kvm_dev_options_init(&o);
	if (vx_kvm_dev_create(&o, dev, &err) != 0) {
		printf("  the model for this host: %s\n", err.reason);
		return -1;
	}
	sys = vx_kvm_dev_open(*dev, 0);
	vm = sys < 0 ? -1 : vx_kvm_ioctl(*dev, sys, KVM_CREATE_VM, NULL);
	vcpu = vm < 0 ? -1 : vx_kvm_ioctl(*dev, vm, KVM_CREATE_VCPU, NULL);
	m->vcpu = vcpu < 0 ? NULL : vx_kvm_dev_vcpu(*dev, vcpu);
	m->vmm = vx_kvm_dev_task(*dev);
	model_program(m, false, cpl);
	return m->vcpu ? 0 : -1;
}

static int host_row(struct run_real *real, unsigned cpl)
{
	static const struct krg_code *const loop = &krg_out_loop;
	struct krg_entry e = {cpl, KRG_CR4_DEFAULT, 0, 0, 0};
	struct vx_kvm_dev *dev = NULL;
	struct run_model m;
	double model_ns, real_ns;
	char name[48];

	if (krg_enter(&real->g, loop, &e) != 0 || host_model_up(&dev, &m, cpl) != 0) {
		printf("  setting up the CPL%u guests failed: %s\n", cpl, real->g.why);
		vx_kvm_dev_destroy(dev);
		return 1;
	}
	model_ns = bench_median_ns(model_round_trips, &m, RUN_MODEL_ITERATIONS);
	real_ns = bench_median_ns(real_round_trips, real, RUN_REAL_ITERATIONS);
	snprintf(name, sizeof(name), "KVM_RUN round trip, OUT at CPL%u", cpl);
	bench_report(name, model_ns, "model", real_ns, "real", 0);
	vx_kvm_dev_destroy(dev);
	return m.failed;
}

static int bench_host(void)
{
	struct run_real real;
	char why[256];
	int failures = 0;

	printf("\nkvm_run: KVM_RUN round trip (one OUT), the model for this host vs this "
	       "machine's /dev/kvm with the minimal real guest\n");
	if (!vx_kvm_real_available(why, sizeof(why))) {
		printf("  SKIP: %s\n", why);
		return 0;
	}
	memset(&real, 0, sizeof(real));
	if (krg_open(&real.g) != 0) {
		printf("  SKIP: the real guest: %s\n", real.g.why);
		return 0;
	}
	alarm(60); /* a guest that never exits makes KVM_RUN fail with EINTR (kvm_real_guest.c) */
	failures += host_row(&real, 0);
	failures += host_row(&real, 3);
	alarm(0);
	if (real.failed) {
		printf("  a real KVM_RUN did not exit with KVM_EXIT_IO\n");
		failures++;
	}
	krg_close(&real.g);
	return failures;
}

int bench_kvm_run(void)
{
	int failures = bench_designs();

	failures += bench_host();
	return failures ? 1 : 0;
}
