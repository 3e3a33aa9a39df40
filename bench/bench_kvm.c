/* SPDX-License-Identifier: MIT */
/*
 * The drop-in /dev/kvm (issue 8): latency of one ioctl on the model (vx_kvm_ioctl, default
 * options) against the same ioctl on this machine's real /dev/kvm, measured in one run,
 * medians: KVM_GET_XSAVE2, KVM_SET_XSAVE, KVM_SET_CPUID2 (the supported table) and
 * KVM_SET_MSRS (IA32_XFD = 0).  Target: the model at least 10x faster (ratio <= 0.10).
 * Without a usable /dev/kvm the group says why and measures nothing of that.
 *
 * Before it, on the model alone: creating and destroying a context on a booted fpu system
 * (kvm_ioctl.h @system, what fuzz_kvm_ioctl and programs with many contexts do) against one that
 * boots its own, both on the parsed Sapphire Rapids profile.  Target: at most 0.75 of the time.
 */
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/kvm_ioctl.h>

#include "bench.h"

#define KVM_ITERATIONS 200
#define KVM_TARGET     0.10
#define KVM_CREATE_ITERATIONS 20
#define KVM_SHARED_TARGET     0.75

struct kvm_side {
	struct vx_kvm_backend b;
	int sys, vm, vcpu;
	_Alignas(64) uint8_t xsave[4096];
	/* struct kvm_cpuid2 and struct kvm_msrs with room for their entries (ISO C allows no
	 * struct with a flexible array member inside another struct). */
	struct {
		__u32 nent, padding;
		struct kvm_cpuid_entry2 e[256];
	} cpuid;
	struct {
		__u32 nmsrs, pad;
		struct kvm_msr_entry e[1];
	} msrs;
	int failed;
};

static void call(struct kvm_side *s, unsigned long req, void *arg, unsigned iterations)
{
	for (unsigned i = 0; i < iterations; i++)
		if (s->b.ioctl(s->b.ctx, s->vcpu, req, arg) < 0)
			s->failed = 1;
}

static void get_xsave2(void *ctx, unsigned n)
{
	struct kvm_side *s = ctx;

	call(s, KVM_GET_XSAVE2, s->xsave, n);
}

static void set_xsave(void *ctx, unsigned n)
{
	struct kvm_side *s = ctx;

	call(s, KVM_SET_XSAVE, s->xsave, n);
}

static void set_cpuid2(void *ctx, unsigned n)
{
	struct kvm_side *s = ctx;

	call(s, KVM_SET_CPUID2, &s->cpuid, n);
}

static void set_msrs(void *ctx, unsigned n)
{
	struct kvm_side *s = ctx;

	call(s, KVM_SET_MSRS, &s->msrs, n);
}

static int side_up(struct kvm_side *s, const struct kvm_side *supported_from)
{
	s->sys = s->b.open(s->b.ctx);
	s->vm = s->sys < 0 ? -1 : s->b.ioctl(s->b.ctx, s->sys, KVM_CREATE_VM, 0);
	s->vcpu = s->vm < 0 ? -1 : s->b.ioctl(s->b.ctx, s->vm, KVM_CREATE_VCPU, 0);
	if (s->vcpu < 0)
		return -1;
	if (supported_from) {
		memcpy(&s->cpuid, &supported_from->cpuid, sizeof(s->cpuid));
	} else {
		s->cpuid.nent = 256;
		if (s->b.ioctl(s->b.ctx, s->sys, KVM_GET_SUPPORTED_CPUID, &s->cpuid) < 0)
			return -1;
	}
	s->msrs.nmsrs = 1;
	s->msrs.e[0] = (struct kvm_msr_entry){0x1c4, 0, 0}; /* IA32_XFD = 0 */
	if (s->b.ioctl(s->b.ctx, s->vcpu, KVM_SET_CPUID2, &s->cpuid) < 0 ||
	    s->b.ioctl(s->b.ctx, s->vcpu, KVM_GET_XSAVE2, s->xsave) < 0)
		return -1;
	return 0;
}

static struct kvm_side real_side, model_side;

static void create_destroy(void *ctx, unsigned n)
{
	const struct vx_kvm_dev_options *o = ctx;

	for (unsigned i = 0; i < n; i++) {
		struct vx_kvm_dev *dev = NULL;

		if (vx_kvm_dev_create(o, &dev, NULL) == 0)
			vx_kvm_dev_destroy(dev);
	}
}

/* The paired subject: the options' system; the reference: the same options without it. */
static struct vx_kvm_dev_options shared_options, own_options;

static void create_shared(void *ctx, unsigned n)
{
	(void)ctx;
	create_destroy(&shared_options, n);
}

static void create_own(void *ctx, unsigned n)
{
	(void)ctx;
	create_destroy(&own_options, n);
}

static int bench_contexts(void)
{
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_fpu_system *sys = NULL;
	struct bench_pair pair;
	struct vx_profile p;
	int failures;

	printf("\nkvm: creating a drop-in context on a booted fpu system vs booting one "
	       "(target: <= %.2fx)\n",
	       KVM_SHARED_TARGET);
	if (vx_profile_builtin(&p, "sapphire-rapids", NULL) != 0 ||
	    vx_fpu_system_create(&p, &config, &sys, NULL) != 0) {
		printf("  booting the Sapphire Rapids profile failed\n");
		return 1;
	}
	vx_kvm_dev_options_init(&own_options);
	own_options.host_profile = &p;
	own_options.flavour = VX_KVM_VMX;
	shared_options = own_options;
	shared_options.system = sys;
	bench_paired(create_shared, create_own, NULL, KVM_CREATE_ITERATIONS, &pair);
	failures = bench_pair_row("create + destroy", &pair, "shared", "own boot",
				  KVM_SHARED_TARGET);
	vx_fpu_system_destroy(sys);
	return failures;
}

int bench_kvm(void)
{
	static const struct {
		const char *name;
		bench_fn fn;
	} rows[] = {{"KVM_GET_XSAVE2", get_xsave2},
		    {"KVM_SET_XSAVE", set_xsave},
		    {"KVM_SET_CPUID2 (supported)", set_cpuid2},
		    {"KVM_SET_MSRS (IA32_XFD)", set_msrs}};
	struct vx_kvm_dev_options o;
	struct vx_kvm_dev *dev = NULL;
	char why[256];
	int failures = bench_contexts();

	printf(
	    "\nkvm: model vs this machine's /dev/kvm, one ioctl (target: model >= 10x faster)\n");
	if (!vx_kvm_real_available(why, sizeof(why))) {
		printf("  SKIP: %s\n", why);
		return 0;
	}
	vx_kvm_dev_options_init(&o);
	if (vx_kvm_dev_create(&o, &dev, NULL) != 0) {
		printf("  the model for this host could not be created\n");
		return 1;
	}
	vx_kvm_backend_real(&real_side.b);
	vx_kvm_backend_model(&model_side.b, dev);
	if (side_up(&real_side, NULL) || side_up(&model_side, &real_side)) {
		printf("  setting up the VMs failed\n");
		vx_kvm_dev_destroy(dev);
		return 1;
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		double model_ns = bench_median_ns(rows[i].fn, &model_side, KVM_ITERATIONS);
		double real_ns = bench_median_ns(rows[i].fn, &real_side, KVM_ITERATIONS);

		bench_report(rows[i].name, model_ns, "model", real_ns, "real", KVM_TARGET);
	}
	if (real_side.failed || model_side.failed) {
		printf("  an ioctl failed during the measurement\n");
		failures++;
	}
	vx_kvm_dev_destroy(dev);
	return failures ? 1 : 0;
}
