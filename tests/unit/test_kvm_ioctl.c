/* SPDX-License-Identifier: MIT */
/*
 * The drop-in /dev/kvm (kvm_ioctl.h) on the model alone: the host choice from the
 * environment with errors naming the variable, flavour detection from a sysfs tree, the
 * descriptors' lifetimes (a VM lives while one of its descriptors is open, a vCPU id stays
 * taken), the errno KVM gives per descriptor kind, EFAULT for pointers, the header write-back
 * rules, mmap of kvm_run, KVM_RUN with and without a hook, arch_prctl, the runtime CPUID bits
 * and the two measured PVM CPUID quirks (expectations computed here from the profile's
 * leaves and the measured rules in docs/kvm.md "The drop-in /dev/kvm").
 */
#define _GNU_SOURCE
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vxsave/kvm_ioctl.h>

union cpuid_buf {
	struct kvm_cpuid2 hdr;
	struct {
		__u32 nent, padding;
		struct kvm_cpuid_entry2 e[256];
	};
};

static struct vx_kvm_dev *dev_up(const char *profile, int flavour, int design)
{
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_dev *dev = NULL;

	vx_kvm_dev_options_init(&o);
	o.profile = profile;
	o.flavour = flavour;
	o.design = design;
	if (vx_kvm_dev_create(&o, &dev, &err) != 0)
		fail_msg("dev on %s: %s", profile, err.reason);
	return dev;
}

/* ioctl and its errno in one value: the result, or -errno. */
static int kio(struct vx_kvm_dev *dev, int fd, unsigned long req, void *arg)
{
	int rc = vx_kvm_ioctl(dev, fd, req, arg);

	return rc < 0 ? -errno : rc;
}

static void vm_vcpu(struct vx_kvm_dev *dev, int *sys, int *vm, int *vcpu)
{
	*sys = vx_kvm_dev_open(dev, O_RDWR);
	assert_true(*sys >= 0);
	*vm = kio(dev, *sys, KVM_CREATE_VM, 0);
	assert_true(*vm >= 0);
	*vcpu = kio(dev, *vm, KVM_CREATE_VCPU, 0);
	assert_true(*vcpu >= 0);
}

/* ----------------------------------------------------------------------------------------- */
/* The host choice                                                                              */

static void env_errors_name_the_variable(void **state)
{
	static const struct {
		const char *var, *value;
	} bad[] = {{"VXSAVE_KVM_DESIGN", "eager"},
		   {"VXSAVE_KVM_FLAVOUR", "tdx"},
		   {"VXSAVE_KVM_SAFE_COPY", "yes"}};
	struct vx_kvm_dev_options o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vx_error err = VX_ERROR_INIT;

		setenv(bad[i].var, bad[i].value, 1);
		assert_int_equal(vx_kvm_dev_options_from_env(&o, &err), -EINVAL);
		assert_non_null(strstr(err.reason, bad[i].var));
		assert_non_null(strstr(err.reason, bad[i].value));
		unsetenv(bad[i].var);
	}
	setenv("VXSAVE_KVM_DESIGN", "kvm-lazy", 1);
	setenv("VXSAVE_KVM_FLAVOUR", "svm", 1);
	setenv("VXSAVE_KVM_PROFILE", "zen4", 1);
	assert_int_equal(vx_kvm_dev_options_from_env(&o, NULL), 0);
	assert_int_equal(o.design, VX_KVM_CET_KVM_LAZY);
	assert_int_equal(o.flavour, VX_KVM_SVM);
	assert_string_equal(o.profile, "zen4");
	unsetenv("VXSAVE_KVM_DESIGN");
	unsetenv("VXSAVE_KVM_FLAVOUR");
	unsetenv("VXSAVE_KVM_PROFILE");
	/* Defaults: live host, guest-only, detect. */
	assert_int_equal(vx_kvm_dev_options_from_env(&o, NULL), 0);
	assert_null(o.profile);
	assert_int_equal(o.design, VX_KVM_CET_GUEST_ONLY);
	assert_int_equal(o.flavour, -1);
}

static void unknown_profile_is_refused(void **state)
{
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_dev *dev = NULL;

	(void)state;
	vx_kvm_dev_options_init(&o);
	o.profile = "/nonexistent/profile.txt";
	assert_int_equal(vx_kvm_dev_create(&o, &dev, &err), -ENOENT);
	assert_null(dev);
	assert_non_null(strstr(err.reason, "VXSAVE_KVM_PROFILE"));
	/* A flavour that does not fit the vendor (VMX on AMD) is the module's refusal. */
	o.profile = "zen4";
	o.flavour = VX_KVM_VMX;
	assert_int_equal(vx_kvm_dev_create(&o, &dev, &err), -EINVAL);
}

static void detect_flavour_from_sysfs(void **state)
{
	static const struct {
		const char *module;
		int expected;
	} rows[] = {{"kvm_amd", VX_KVM_SVM}, {"kvm_intel", VX_KVM_VMX}, {"kvm_pvm", VX_KVM_PVM}};
	char dir[] = "/tmp/vxsave-sysfs-XXXXXX", path[256];
	enum vx_kvm_flavour f = VX_KVM_VMX;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(vx_kvm_detect_flavour(dir, &f), -ENOENT);
	/* Added one by one: kvm_pvm wins over a vendor module beside it. */
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, rows[i].module);
		assert_int_equal(mkdir(path, 0700), 0);
		assert_int_equal(vx_kvm_detect_flavour(dir, &f), 0);
		assert_int_equal(f, rows[i].expected);
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, rows[i].module);
		rmdir(path);
	}
	rmdir(dir);
}

/* ----------------------------------------------------------------------------------------- */
/* Descriptors and errno                                                                        */

static void descriptor_lifetimes(void **state)
{
	struct vx_kvm_dev *dev = dev_up("sapphire-rapids", VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	struct kvm_xcrs x;
	int sys, vm, vcpu;

	(void)state;
	vm_vcpu(dev, &sys, &vm, &vcpu);
	assert_true(vx_kvm_dev_owns(dev, sys) && vx_kvm_dev_owns(dev, vm));
	assert_non_null(vx_kvm_dev_vcpu(dev, vcpu));
	assert_null(vx_kvm_dev_vcpu(dev, vm));
	/* Closing the VM's and /dev/kvm's descriptors leaves the vCPU usable (kvm_get_kvm). */
	assert_int_equal(vx_kvm_close(dev, vm), 0);
	assert_int_equal(vx_kvm_close(dev, sys), 0);
	assert_false(vx_kvm_dev_owns(dev, vm));
	assert_int_equal(kio(dev, vcpu, KVM_GET_XCRS, &x), 0);
	assert_int_equal(kio(dev, vm, KVM_CREATE_VCPU, (void *)1), -EBADF);
	assert_int_equal(vx_kvm_close(dev, vm), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(vx_kvm_close(dev, vcpu), 0);
	/* A vCPU id stays taken after its descriptor is closed (measured EEXIST). */
	vm_vcpu(dev, &sys, &vm, &vcpu);
	assert_int_equal(vx_kvm_close(dev, vcpu), 0);
	assert_int_equal(kio(dev, vm, KVM_CREATE_VCPU, 0), -EEXIST);
	vx_kvm_dev_destroy(dev);
}

static void errno_per_kind(void **state)
{
	struct vx_kvm_dev *dev = dev_up("sapphire-rapids", VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	int sys, vm, vcpu;

	(void)state;
	vm_vcpu(dev, &sys, &vm, &vcpu);
	/* Measured on this machine: /dev/kvm and vCPUs -EINVAL, VMs -ENOTTY. */
	assert_int_equal(kio(dev, sys, KVM_CREATE_VCPU, 0), -EINVAL);
	assert_int_equal(kio(dev, vm, KVM_GET_API_VERSION, 0), -ENOTTY);
	assert_int_equal(kio(dev, vm, KVM_GET_XCRS, NULL), -ENOTTY);
	assert_int_equal(kio(dev, vcpu, KVM_GET_SUPPORTED_CPUID, NULL), -EINVAL);
	assert_int_equal(kio(dev, vcpu, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_XSAVE2),
			 -EINVAL);
	assert_int_equal(kio(dev, sys, KVM_GET_API_VERSION, 0), 12);
	assert_int_equal(kio(dev, sys, KVM_GET_API_VERSION, (void *)1), -EINVAL);
	assert_int_equal(kio(dev, sys, KVM_CREATE_VM, (void *)1), -EINVAL);
	assert_int_equal(kio(dev, sys, KVM_GET_VCPU_MMAP_SIZE, 0), 12288);
	assert_int_equal(kio(dev, sys, KVM_CHECK_EXTENSION, (void *)-1L), 0);
	assert_int_equal(kio(dev, vm, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_XSAVE), 1);
	assert_int_equal(kio(dev, vm, KVM_CREATE_VCPU, (void *)-1L), -EINVAL);
	assert_int_equal(kio(dev, 12345, KVM_GET_API_VERSION, 0), -EBADF);
	vx_kvm_dev_destroy(dev);
}

static void bad_pointers_fault(void **state)
{
	static const unsigned long reqs[] = {KVM_GET_XCRS,   KVM_SET_XCRS,   KVM_GET_MSRS,
					     KVM_SET_MSRS,   KVM_GET_XSAVE2, KVM_SET_XSAVE,
					     KVM_SET_CPUID2, KVM_GET_CPUID2, KVM_GET_ONE_REG,
					     KVM_GET_REGS,   KVM_SET_SREGS};
	void *bad[] = {NULL, (void *)16, (void *)0xffff800000000000ull};
	struct vx_kvm_dev_options o;
	struct vx_kvm_dev *dev = dev_up("sapphire-rapids", VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	int sys, vm, vcpu;
	void *page;

	(void)state;
	vm_vcpu(dev, &sys, &vm, &vcpu);
	for (size_t r = 0; r < sizeof(reqs) / sizeof(reqs[0]); r++)
		for (size_t b = 0; b < 3; b++)
			assert_int_equal(kio(dev, vcpu, reqs[r], bad[b]), -EFAULT);
	assert_int_equal(kio(dev, sys, KVM_GET_SUPPORTED_CPUID, NULL), -EFAULT);
	vx_kvm_dev_destroy(dev);
	/* safe_copy: any unmapped buffer, as copy_from_user(). */
	vx_kvm_dev_options_init(&o);
	o.profile = "sapphire-rapids";
	o.flavour = VX_KVM_VMX;
	o.safe_copy = true;
	assert_int_equal(vx_kvm_dev_create(&o, &dev, NULL), 0);
	vm_vcpu(dev, &sys, &vm, &vcpu);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(page != MAP_FAILED);
	munmap(page, 4096);
	assert_int_equal(kio(dev, vcpu, KVM_GET_XCRS, page), -EFAULT);
	assert_int_equal(kio(dev, vcpu, KVM_SET_XCRS, page), -EFAULT);
	vx_kvm_dev_destroy(dev);
}

static void header_write_back(void **state)
{
	struct vx_kvm_dev *dev = dev_up("sapphire-rapids", VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	static union cpuid_buf c;
	union {
		struct kvm_msr_list hdr;
		struct {
			__u32 nmsrs;
			uint32_t idx[64];
		};
	} l = {.hdr.nmsrs = 0};
	int sys, vm, vcpu, n;

	(void)state;
	vm_vcpu(dev, &sys, &vm, &vcpu);
	/* GET_SUPPORTED_CPUID: -E2BIG for nent 0 and 1, nent untouched (measured). */
	c.hdr.nent = 0;
	assert_int_equal(kio(dev, sys, KVM_GET_SUPPORTED_CPUID, &c), -E2BIG);
	assert_int_equal(c.hdr.nent, 0);
	c.hdr.nent = 1;
	assert_int_equal(kio(dev, sys, KVM_GET_SUPPORTED_CPUID, &c), -E2BIG);
	assert_int_equal(c.hdr.nent, 1);
	c.hdr.nent = 256;
	assert_int_equal(kio(dev, sys, KVM_GET_SUPPORTED_CPUID, &c), 0);
	n = (int)c.hdr.nent;
	assert_true(n > 4);
	/* SET_CPUID2 then GET_CPUID2 with one entry too few: -E2BIG, nent untouched (§2.5). */
	assert_int_equal(kio(dev, vcpu, KVM_SET_CPUID2, &c), 0);
	c.hdr.nent = (uint32_t)n - 1;
	assert_int_equal(kio(dev, vcpu, KVM_GET_CPUID2, &c), -E2BIG);
	assert_int_equal(c.hdr.nent, (uint32_t)n - 1);
	c.hdr.nent = 257;
	assert_int_equal(kio(dev, vcpu, KVM_SET_CPUID2, &c), -E2BIG);
	/* MSR index list: the count is written back with -E2BIG (measured n = 40 here). */
	assert_int_equal(kio(dev, sys, KVM_GET_MSR_INDEX_LIST, &l), -E2BIG);
	assert_true(l.hdr.nmsrs > 0);
	vx_kvm_dev_destroy(dev);
}

/* ----------------------------------------------------------------------------------------- */
/* mmap, KVM_RUN, arch_prctl, memory regions                                                    */

static int hook_calls;

static int run_hook(void *ctx, struct vx_kvm_dev *dev, struct vx_kvm_vcpu *vcpu, void *run,
		    struct vx_error *err)
{
	(void)dev;
	(void)err;
	assert_ptr_equal(ctx, &hook_calls);
	assert_int_equal(vx_kvm_vcpu_id(vcpu), 0);
	((struct kvm_run *)run)->exit_reason = KVM_EXIT_HLT;
	hook_calls++;
	return 0;
}

static void mmap_and_run(void **state)
{
	struct vx_kvm_dev *dev = dev_up("sapphire-rapids", VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	struct kvm_run *run;
	int sys, vm, vcpu;

	(void)state;
	vm_vcpu(dev, &sys, &vm, &vcpu);
	assert_int_equal(vx_kvm_dev_mmap_check(dev, vcpu, 12288, 0), 0);
	assert_int_equal(vx_kvm_dev_mmap_check(dev, vcpu, 12288, 4096), -EINVAL);
	assert_int_equal(vx_kvm_dev_mmap_check(dev, vcpu, 16384, 0), -EINVAL);
	assert_int_equal(vx_kvm_dev_mmap_check(dev, sys, 4096, 0), -ENODEV);
	run = mmap(NULL, 12288, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	assert_true(run != MAP_FAILED);
	/* No guest program: ENOEXEC and a sentence that says what is missing. */
	assert_int_equal(kio(dev, vcpu, KVM_RUN, 0), -ENOEXEC);
	assert_non_null(strstr(vx_kvm_dev_last_error(dev)->reason, "guest program"));
	assert_int_equal(kio(dev, vcpu, KVM_RUN, (void *)1), -EINVAL);
	vx_kvm_dev_set_run_hook(dev, run_hook, &hook_calls);
	assert_int_equal(kio(dev, vcpu, KVM_RUN, 0), 0);
	assert_int_equal(hook_calls, 1);
	/* The model's page is the program's: the exit is seen through the program's mapping. */
	assert_int_equal(run->exit_reason, KVM_EXIT_HLT);
	munmap(run, 12288);
	vx_kvm_dev_destroy(dev);
}

/* A guest program file (VXSAVE_KVM_GUEST): KVM_RUN runs it to each exit (kvm_ioctl.h). */
static const char guest_text[] = "# a guest that says hello, sets XCR0 and halts\n"
				 "out 0x3f8 0x41\n"
				 "mov-cr0 0x80010011\n"
				 "mov-cr4 0x40620   # OSXSAVE|OSXMMEXCPT|OSFXSR|PAE\n"
				 "xsetbv 0 0x7\n"
				 "cpl3 out 0x80 0x1234\n"
				 "hlt\n";

static char *write_guest(const char *text)
{
	static char path[] = "/tmp/vxsave-guest-XXXXXX";
	int fd;

	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): rewrites the template's tail */
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void guest_program_runs(void **state)
{
	union cpuid_buf *in = calloc(1, sizeof(*in));
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_dev *dev = NULL;
	struct kvm_xcrs xcrs;
	struct kvm_run *run;
	char *path = write_guest(guest_text);
	int sys, vm, vcpu;

	(void)state;
	vx_kvm_dev_options_init(&o);
	o.profile = "sapphire-rapids";
	o.flavour = VX_KVM_VMX;
	o.guest = path;
	if (vx_kvm_dev_create(&o, &dev, &err) != 0)
		fail_msg("dev with a guest: %s", err.reason);
	vm_vcpu(dev, &sys, &vm, &vcpu);
	in->hdr.nent = 256;
	assert_int_equal(kio(dev, sys, KVM_GET_SUPPORTED_CPUID, in), 0);
	assert_int_equal(kio(dev, vcpu, KVM_SET_CPUID2, in), 0);
	run = mmap(NULL, 12288, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	assert_true(run != MAP_FAILED);
	assert_int_equal(kio(dev, vcpu, KVM_RUN, 0), 0);
	assert_int_equal(run->exit_reason, KVM_EXIT_IO);
	assert_int_equal(run->io.port, 0x3f8);
	assert_int_equal(run->io.size, 1);
	assert_int_equal(((uint8_t *)run)[run->io.data_offset], 0x41);
	assert_int_equal(kio(dev, vcpu, KVM_RUN, 0), 0);
	assert_int_equal(run->exit_reason, KVM_EXIT_IO);
	assert_int_equal(run->io.size, 2);
	assert_int_equal(run->io.port, 0x80);
	memset(&xcrs, 0, sizeof(xcrs));
	assert_int_equal(kio(dev, vcpu, KVM_GET_XCRS, &xcrs), 0);
	assert_int_equal(xcrs.xcrs[0].value, 0x7);
	assert_int_equal(kio(dev, vcpu, KVM_RUN, 0), 0);
	assert_int_equal(run->exit_reason, KVM_EXIT_HLT);
	assert_int_equal(kio(dev, vcpu, KVM_RUN, 0), 0); /* past the end: still halted */
	assert_int_equal(run->exit_reason, KVM_EXIT_HLT);
	munmap(run, 12288);
	vx_kvm_dev_destroy(dev);
	unlink(path);
	free(in);
}

static void guest_program_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"hlt\nfly 1\n", "line 2: unknown guest instruction 'fly'"},
	    {"xsetbv 0\n", "line 1: usage: xsetbv ECX VALUE"},
	    {"wrmsr 0x6a4 12x\n", "line 1: '12x' is not a number"},
	    {"set ymmh0 0x1g\n", "is not a hex value"},
	    {"set nosuch 1\n", "'nosuch' is not a register"},
	    {"cpl3\n", "'cpl3' needs an instruction"},
	    {"xsave fxsave 0 1\n", "'fxsave' is not an XSAVE-family instruction"},
	};
	struct vx_kvm_dev_options o;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vx_error err = VX_ERROR_INIT;
		struct vx_kvm_dev *dev = NULL;
		char *path = write_guest(cases[i].text);

		vx_kvm_dev_options_init(&o);
		o.profile = "sapphire-rapids";
		o.flavour = VX_KVM_VMX;
		o.guest = path;
		assert_int_equal(vx_kvm_dev_create(&o, &dev, &err), -EINVAL);
		assert_null(dev);
		if (!strstr(err.reason, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.reason, cases[i].want);
		unlink(path);
	}
}

static void arch_prctl_reaches_the_model(void **state)
{
	struct vx_kvm_dev *dev = dev_up("sapphire-rapids", VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	const uint64_t xtile = UINT64_C(0x40000); /* XTILE_DATA; XTILE_CFG is in the default */
	uint64_t perm = 0;
	int sys, size_before, size_after;

	(void)state;
	sys = vx_kvm_dev_open(dev, O_RDWR);
	size_before = kio(dev, sys, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_XSAVE2);
	assert_int_equal(vx_kvm_dev_arch_prctl(dev, VX_ARCH_GET_XCOMP_GUEST_PERM,
					       (unsigned long)(uintptr_t)&perm),
			 0);
	assert_int_equal(perm & xtile, 0);
	assert_int_equal(vx_kvm_dev_arch_prctl(dev, VX_ARCH_GET_XCOMP_GUEST_PERM, 0), -1);
	assert_int_equal(errno, EFAULT);
	/* SPR has AMX: the guest permission grows KVM_CAP_XSAVE2 by the tile data (§5.1). */
	assert_int_equal(vx_kvm_dev_arch_prctl(dev, VX_ARCH_REQ_XCOMP_GUEST_PERM, 18), 0);
	assert_int_equal(vx_kvm_dev_arch_prctl(dev, VX_ARCH_GET_XCOMP_GUEST_PERM,
					       (unsigned long)(uintptr_t)&perm),
			 0);
	assert_int_equal(perm & xtile, xtile);
	size_after = kio(dev, sys, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_XSAVE2);
	assert_int_equal(size_before, 4096);
	assert_int_equal(size_after, 2816 + 8192); /* XTILE_DATA offset + size on SPR */
	vx_kvm_dev_destroy(dev);
}

static void memory_regions(void **state)
{
	struct vx_kvm_dev *dev = dev_up("sapphire-rapids", VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	struct kvm_userspace_memory_region r = {0, 0, 0, 0x10000, 0x7f0000000000};
	int sys, vm, vcpu;

	(void)state;
	vm_vcpu(dev, &sys, &vm, &vcpu);
	assert_int_equal(kio(dev, vm, KVM_SET_USER_MEMORY_REGION, &r), 0);
	r.memory_size = 0x10001;
	assert_int_equal(kio(dev, vm, KVM_SET_USER_MEMORY_REGION, &r), -EINVAL);
	r.memory_size = 0;
	assert_int_equal(kio(dev, vm, KVM_SET_USER_MEMORY_REGION, &r), 0);
	assert_int_equal(kio(dev, vm, KVM_SET_USER_MEMORY_REGION, NULL), -EFAULT);
	vx_kvm_dev_destroy(dev);
}

/* ----------------------------------------------------------------------------------------- */
/* CPUID through the descriptors                                                                */

/* The entry (fn, idx), which must exist. */
static const struct kvm_cpuid_entry2 *find(const union cpuid_buf *c, uint32_t fn, uint32_t idx)
{
	static const struct kvm_cpuid_entry2 none;

	for (uint32_t i = 0; i < c->hdr.nent; i++)
		if (c->e[i].function == fn && c->e[i].index == idx)
			return &c->e[i];
	fail_msg("no CPUID entry 0x%x.%u", fn, idx);
	return &none;
}

static void set_get(struct vx_kvm_dev *dev, int vcpu, union cpuid_buf *in, union cpuid_buf *out)
{
	assert_int_equal(kio(dev, vcpu, KVM_SET_CPUID2, in), 0);
	out->hdr.nent = 256;
	assert_int_equal(kio(dev, vcpu, KVM_GET_CPUID2, out), 0);
}

/* Upstream (VMX): GET_CPUID2 is what was set with the runtime bits: OSXSAVE = CR4.OSXSAVE
 * (0 at RESET), APIC = APIC_BASE.EN (1 at RESET), 0xD.0 EBX = size for XCR0 = FP (576). */
static void upstream_runtime_bits(void **state)
{
	struct vx_kvm_dev *dev = dev_up("sapphire-rapids", VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	static union cpuid_buf in, out;
	int sys, vm, vcpu;

	(void)state;
	vm_vcpu(dev, &sys, &vm, &vcpu);
	in.hdr.nent = 3;
	in.e[0] = (struct kvm_cpuid_entry2){1, 0, 0, 0x806f8, 0, 1u << 27, 0, {0}};
	in.e[1] = (struct kvm_cpuid_entry2){0xD, 0, 1, 0x7, 0x1234, 0x340, 0, {0}};
	/* A flagged leaf 1 of index 5 is still found by the runtime update. */
	in.e[2] = (struct kvm_cpuid_entry2){7, 0, 1, 0, 0x5, 0, 0, {0}};
	set_get(dev, vcpu, &in, &out);
	assert_int_equal(out.hdr.nent, 3);
	assert_int_equal(out.e[0].ecx, 0);
	assert_int_equal(out.e[0].edx, 1u << 9);
	assert_int_equal(out.e[1].ebx, 576);
	assert_memory_equal(&out.e[2], &in.e[2], sizeof(in.e[2]));
	in.hdr.nent = 1;
	in.e[0] = (struct kvm_cpuid_entry2){1, 5, 1, 0, 0, 0, 1, {0}};
	set_get(dev, vcpu, &in, &out);
	assert_int_equal(out.e[0].edx, 0x201);
	vx_kvm_dev_destroy(dev);
}

/* pvm-cpuid-override on zen4 (measured rules, docs/kvm.md): leaf 1 alone gets 0xD.0, 0xD.1
 * and one 0xD.i per supported XCR0 component appended; ECX ORs in the host's features less
 * CX16/PCID/X2APIC/TSC_DEADLINE/OSXSAVE/HYPERVISOR; EDX is the host's. */
static void pvm_override(void **state)
{
	struct vx_kvm_dev *dev = dev_up("zen4", VX_KVM_PVM, VX_KVM_CET_GUEST_ONLY);
	struct vx_profile p;
	struct vx_cpuid_regs h1, h7, hd1;
	uint64_t xcr0 = vx_kvm_supported_xcr0(vx_kvm_dev_module(dev));
	static union cpuid_buf in, out;
	const struct kvm_cpuid_entry2 *d0, *d1, *e7;
	uint32_t comps = 0;
	int sys, vm, vcpu;

	(void)state;
	assert_int_equal(vx_profile_builtin(&p, "zen4", NULL), 0);
	h1 = vx_profile_leaf(&p, 1, 0);
	h7 = vx_profile_leaf(&p, 7, 0);
	hd1 = vx_profile_leaf(&p, 0xD, 1);
	for (unsigned i = 2; i < 64; i++)
		comps += (unsigned)(xcr0 >> i & 1u);
	vm_vcpu(dev, &sys, &vm, &vcpu);
	in.hdr.nent = 2;
	in.e[0] = (struct kvm_cpuid_entry2){1, 0, 0, 0, 0, 0, 0, {0}};
	in.e[1] = (struct kvm_cpuid_entry2){7, 0, 1, 5, ~0u, ~0u, ~0u, {0}};
	set_get(dev, vcpu, &in, &out);
	assert_int_equal(out.hdr.nent, 2 + 2 + comps);
	assert_int_equal(out.e[0].ecx, h1.ecx & ~0x89222000u);
	assert_int_equal(out.e[0].edx, h1.edx | 1u << 9);
	e7 = find(&out, 7, 0);
	assert_int_equal(e7->eax, h7.eax);
	assert_int_equal(e7->ebx, h7.ebx & ~(1u << 10));
	/* ... and OSPKE is the runtime bit: CR4.PKE = 0 at RESET (§1.4 step 3). */
	assert_int_equal(e7->ecx, h7.ecx & ~((1u << 7) | (1u << 22) | (1u << 4)));
	d0 = find(&out, 0xD, 0);
	d1 = find(&out, 0xD, 1);
	assert_int_equal(d0->eax, (uint32_t)xcr0);
	assert_int_equal(d0->ebx, 576);
	assert_int_equal(d1->eax, hd1.eax & ~0x18u);
	assert_int_equal(d1->ecx, 0);
	/* 7.0 alone: no 0xD.0, so no YMM: AVX2, VAES and VPCLMULQDQ go too. */
	vm = kio(dev, sys, KVM_CREATE_VM, 0);
	vcpu = kio(dev, vm, KVM_CREATE_VCPU, 0);
	in.hdr.nent = 1;
	in.e[0] = in.e[1];
	set_get(dev, vcpu, &in, &out);
	assert_int_equal(out.hdr.nent, 1);
	assert_int_equal(out.e[0].ebx, h7.ebx & ~((1u << 10) | (1u << 5)));
	assert_int_equal(out.e[0].ecx, h7.ecx & ~((1u << 7) | (1u << 22) | (3u << 9) | (1u << 4)));
	vx_kvm_dev_destroy(dev);
}

/* pvm-supported-cpuid-sparse: 0xD.1 all zero, no XSAVE/AVX/SSE3/MOVBE in leaf 1, no RDPID in
 * the emulated CPUID; VMX on the same host keeps them. */
static void pvm_sparse(void **state)
{
	struct vx_kvm_dev *pvm = dev_up("zen4", VX_KVM_PVM, VX_KVM_CET_GUEST_ONLY);
	struct vx_kvm_dev *svm = dev_up("zen4", VX_KVM_SVM, VX_KVM_CET_GUEST_ONLY);
	static union cpuid_buf a, b;
	const uint32_t cleared = (1u << 0) | (1u << 22) | (1u << 26) | (1u << 28);
	int sa = vx_kvm_dev_open(pvm, O_RDWR), sb = vx_kvm_dev_open(svm, O_RDWR);

	(void)state;
	a.hdr.nent = b.hdr.nent = 256;
	assert_int_equal(kio(pvm, sa, KVM_GET_SUPPORTED_CPUID, &a), 0);
	assert_int_equal(kio(svm, sb, KVM_GET_SUPPORTED_CPUID, &b), 0);
	assert_int_equal(find(&a, 1, 0)->ecx, find(&b, 1, 0)->ecx & ~cleared);
	assert_int_not_equal(find(&b, 0xD, 1)->eax, 0);
	assert_int_equal(find(&a, 0xD, 1)->eax | find(&a, 0xD, 1)->ebx | find(&a, 0xD, 1)->ecx, 0);
	assert_memory_equal(find(&a, 0xD, 0), find(&b, 0xD, 0), sizeof(a.e[0]));
	a.hdr.nent = b.hdr.nent = 256;
	assert_int_equal(kio(pvm, sa, KVM_GET_EMULATED_CPUID, &a), 0);
	assert_int_equal(kio(svm, sb, KVM_GET_EMULATED_CPUID, &b), 0);
	assert_int_equal(find(&a, 7, 0)->ecx, 0);
	assert_int_equal(find(&b, 7, 0)->ecx, 1u << 22);
	vx_kvm_dev_destroy(pvm);
	vx_kvm_dev_destroy(svm);
}

/* A profile the caller parsed boots the same host as its name, and is copied (kvm_ioctl.h
 * @host_profile): the caller's copy may go away right after creation. */
static void host_profile_is_copied(void **state)
{
	static union cpuid_buf a, b;
	struct vx_kvm_dev *by_name = dev_up("zen4", VX_KVM_SVM, VX_KVM_CET_KVM_EAGER);
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_dev *dev = NULL;
	struct vx_profile *p = malloc(sizeof(*p));
	int sa, sb;

	(void)state;
	assert_int_equal(vx_profile_builtin(p, "zen4", &err), 0);
	vx_kvm_dev_options_init(&o);
	o.profile = "sapphire-rapids"; /* not read: the parsed profile wins */
	o.host_profile = p;
	o.flavour = VX_KVM_SVM;
	o.design = VX_KVM_CET_KVM_EAGER;
	assert_int_equal(vx_kvm_dev_create(&o, &dev, &err), 0);
	memset(p, 0xA5, sizeof(*p));
	free(p);
	assert_string_equal(vx_kvm_dev_profile_name(dev), "zen4");
	sa = vx_kvm_dev_open(by_name, O_RDWR);
	sb = vx_kvm_dev_open(dev, O_RDWR);
	a.hdr.nent = b.hdr.nent = 256;
	assert_int_equal(kio(by_name, sa, KVM_GET_SUPPORTED_CPUID, &a), 0);
	assert_int_equal(kio(dev, sb, KVM_GET_SUPPORTED_CPUID, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a.hdr) + a.nent * sizeof(a.e[0]));
	vx_kvm_dev_destroy(dev);
	vx_kvm_dev_destroy(by_name);
}

/* Contexts built on a caller's booted fpu system (kvm_ioctl.h @system) answer as one that booted
 * its own on the same profile, live on after each other's end, and a system booted for another
 * CET design is refused with -EINVAL naming both designs. */
static void shared_system(void **state)
{
	static union cpuid_buf a, b;
	struct vx_kvm_dev *by_name = dev_up("zen4", VX_KVM_SVM, VX_KVM_CET_KVM_EAGER);
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_dev *dev[2] = {NULL, NULL}, *wrong = NULL;
	struct vx_fpu_system *sys = NULL;
	struct vx_profile p;
	int sa, vm[2], vcpu;

	(void)state;
	assert_int_equal(vx_profile_builtin(&p, "zen4", &err), 0);
	config.cet_design = vx_kvm_cet_design_fpu(VX_KVM_CET_KVM_EAGER);
	assert_int_equal(vx_fpu_system_create(&p, &config, &sys, &err), 0);
	vx_kvm_dev_options_init(&o);
	o.profile = "sapphire-rapids"; /* not read: the system's profile is the host */
	o.system = sys;
	o.flavour = VX_KVM_SVM;
	o.design = VX_KVM_CET_KVM_EAGER;
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(vx_kvm_dev_create(&o, &dev[i], &err), 0);
		assert_string_equal(vx_kvm_dev_profile_name(dev[i]), "zen4");
		vm[i] = kio(dev[i], vx_kvm_dev_open(dev[i], O_RDWR), KVM_CREATE_VM, 0);
		assert_true(vm[i] >= 0);
	}
	sa = vx_kvm_dev_open(by_name, O_RDWR);
	a.hdr.nent = b.hdr.nent = 256;
	assert_int_equal(kio(by_name, sa, KVM_GET_SUPPORTED_CPUID, &a), 0);
	assert_int_equal(kio(dev[1], vx_kvm_dev_open(dev[1], O_RDWR), KVM_GET_SUPPORTED_CPUID, &b),
			 0);
	assert_memory_equal(&a, &b, sizeof(a.hdr) + a.nent * sizeof(a.e[0]));
	assert_int_equal(kio(dev[1], vm[1], KVM_CHECK_EXTENSION, (void *)KVM_CAP_XSAVE2),
			 kio(by_name, kio(by_name, sa, KVM_CREATE_VM, 0), KVM_CHECK_EXTENSION,
			     (void *)KVM_CAP_XSAVE2));
	vx_kvm_dev_destroy(dev[0]);
	vcpu = kio(dev[1], vm[1], KVM_CREATE_VCPU, 0);
	assert_true(vcpu >= 0);
	assert_int_equal(kio(dev[1], vcpu, KVM_SET_CPUID2, &b), 0);
	o.design = VX_KVM_CET_GUEST_ONLY;
	assert_int_equal(vx_kvm_dev_create(&o, &wrong, &err), -EINVAL);
	assert_null(wrong);
	assert_non_null(strstr(err.reason, vx_kvm_cet_design_name(VX_KVM_CET_GUEST_ONLY)));
	assert_non_null(strstr(err.reason, vx_fpu_cet_design_name(config.cet_design)));
	vx_kvm_dev_destroy(dev[1]);
	vx_kvm_dev_destroy(by_name);
	vx_fpu_system_destroy(sys);
}

/* ioctl @req with @arg at an aligned address and with a copy of its first @in bytes at an odd
 * one: the same result and the same first @out bytes afterwards. */
static void same_at_odd(struct vx_kvm_dev *dev, int fd, unsigned long req, void *arg, size_t in,
			size_t out)
{
	static uint8_t raw[sizeof(union cpuid_buf) + 8];
	uint8_t *odd = raw + 1;
	int rc;

	memset(raw, 0, sizeof(raw));
	memcpy(odd, arg, in);
	rc = kio(dev, fd, req, arg);
	assert_int_equal(kio(dev, fd, req, odd), rc);
	assert_memory_equal(odd, arg, out);
}

/*
 * copy_from_user() takes a buffer at any address: the requests whose structs end in an array
 * give the same result and bytes with the struct at an odd address (the model once formed
 * misaligned struct pointers from the argument, undefined behaviour UBSan reports; found by
 * fuzz_kvm_ioctl, issue 11, regression inputs in fuzz/regressions/kvm_ioctl/).
 */
static void any_alignment(void **state)
{
	static union cpuid_buf c;
	union {
		struct kvm_msrs hdr;
		struct {
			__u32 nmsrs, pad;
			struct kvm_msr_entry e[2];
		};
	} m = {.nmsrs = 2, .e = {{.index = 0x1c4}, {.index = 0xda0}}};
	union {
		struct kvm_reg_list hdr;
		struct {
			__u64 n;
			uint64_t reg[64];
		};
	} r = {.n = 64};
	union {
		struct kvm_msr_list hdr;
		struct {
			__u32 nmsrs;
			uint32_t idx[64];
		};
	} l = {.nmsrs = 64};
	struct vx_kvm_dev *dev = dev_up("sapphire-rapids", VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	int sys, vm, vcpu;

	(void)state;
	vm_vcpu(dev, &sys, &vm, &vcpu);
	c.hdr.nent = 256;
	same_at_odd(dev, sys, KVM_GET_SUPPORTED_CPUID, &c, sizeof(c.hdr), sizeof(c));
	assert_true(c.nent > 0);
	same_at_odd(dev, vcpu, KVM_SET_CPUID2, &c, sizeof(c), sizeof(c));
	same_at_odd(dev, vcpu, KVM_GET_CPUID2, &c, sizeof(c.hdr), sizeof(c));
	same_at_odd(dev, vcpu, KVM_GET_MSRS, &m, sizeof(m), sizeof(m));
	assert_int_equal(m.e[0].data, 0); /* IA32_XFD after RESET */
	same_at_odd(dev, sys, KVM_GET_MSR_INDEX_LIST, &l, sizeof(l.hdr), sizeof(l));
	same_at_odd(dev, vcpu, KVM_GET_REG_LIST, &r, sizeof(r.hdr), sizeof(r));
	vx_kvm_dev_destroy(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(env_errors_name_the_variable),
	    cmocka_unit_test(unknown_profile_is_refused),
	    cmocka_unit_test(detect_flavour_from_sysfs),
	    cmocka_unit_test(descriptor_lifetimes),
	    cmocka_unit_test(errno_per_kind),
	    cmocka_unit_test(bad_pointers_fault),
	    cmocka_unit_test(header_write_back),
	    cmocka_unit_test(mmap_and_run),
	    cmocka_unit_test(guest_program_runs),
	    cmocka_unit_test(guest_program_errors),
	    cmocka_unit_test(arch_prctl_reaches_the_model),
	    cmocka_unit_test(memory_regions),
	    cmocka_unit_test(upstream_runtime_bits),
	    cmocka_unit_test(pvm_override),
	    cmocka_unit_test(pvm_sparse),
	    cmocka_unit_test(any_alignment),
	    cmocka_unit_test(host_profile_is_copied),
	    cmocka_unit_test(shared_system),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
