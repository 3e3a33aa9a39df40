/* SPDX-License-Identifier: MIT */
/*
 * vxsave `kvm` layer: a drop-in /dev/kvm (issue 8).  vx_kvm_ioctl() takes the requests of
 * <linux/kvm.h> with their structs (struct kvm_cpuid2, kvm_xcrs, kvm_msrs, kvm_one_reg,
 * kvm_xsave, ...) on file descriptors a struct vx_kvm_dev hands out, and answers them from
 * the model: return value and errno as ioctl(2) gives them (-1 with errno set on failure).
 *
 * A device context (struct vx_kvm_dev) owns everything: the booted fpu system on a host
 * profile, the fpu machine, the VMM process and the one task that makes the calls (the thread
 * of the fpu layer, kvm.md §6.2), the KVM module and the table of its file descriptors.  Its
 * host is chosen by options or by the environment (vx_kvm_dev_options_from_env):
 *   VXSAVE_KVM_PROFILE  a built-in profile name or the path of a dump; default: the live host
 *   VXSAVE_KVM_DESIGN   a CET_S design name (kvm.h); default: guest-only
 *   VXSAVE_KVM_FLAVOUR  vmx, svm, pvm or detect; default: detect from /sys/module
 *                       (kvm_pvm → pvm, kvm_intel → vmx, kvm_amd → svm)
 * so that, by default, the model stands in for this machine's /dev/kvm.
 *
 * Every descriptor is a real one (a memfd: a vCPU's is sized to KVM_GET_VCPU_MMAP_SIZE, so
 * mmap() of it gives the struct kvm_run page as KVM's does), which keeps them distinct from
 * the program's own descriptors and usable with dup/close/select.  Pointers are checked as
 * far as the model can without touching them (NULL page, kernel half, wrap-around → EFAULT);
 * with safe_copy (VXSAVE_KVM_SAFE_COPY=1) every copy goes through process_vm_readv/writev so
 * that any unmapped buffer gives EFAULT as copy_from_user() does, at about 1.5 µs a copy.
 *
 * The same calls can be sent to the real /dev/kvm through a backend (struct vx_kvm_backend):
 * tests and `vxsave kvm SCRIPT --real` run one sequence on both and compare.
 *
 * Thread safety: a context serialises its calls with a mutex; the model has one VMM task, so
 * calls from several threads are the same thread to it.  The LD_PRELOAD library
 * (libvxsave-kvm-preload.so, tools/kvm-preload) keeps one context in a global, created at the
 * first open("/dev/kvm"): the only global state of the kvm layer.
 */
#ifndef VXSAVE_KVM_IOCTL_H
#define VXSAVE_KVM_IOCTL_H

#include <vxsave/kvm_regs.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vx_kvm_dev;

/**
 * struct vx_kvm_dev_options - the model's host.
 * @profile:  built-in profile name or path of a dump (vx_profile_parse_dump); NULL = the live
 *            host (vx_profile_from_host).
 * @design:   enum vx_kvm_cet_design.
 * @flavour:  enum vx_kvm_flavour, or -1 to detect it under @sysfs_module (then the profile's
 *            vendor when no KVM module is loaded).
 * @ncpus:    model CPUs of the fpu machine (1..64).
 * @safe_copy: probe every user buffer with process_vm_readv/writev (see above).
 * @sysfs_module: where the modules are listed ("/sys/module"; tests point it elsewhere).
 * @guest:    a guest program file (vx_kvm_guest_program_parse()) every vCPU runs on KVM_RUN;
 *            NULL: KVM_RUN fails with ENOEXEC unless a run hook is set.
 * @host_profile: a profile already parsed, copied at creation and booted instead of reading
 *            @profile (its name becomes the profile name); for programs that create many
 *            contexts on one host (fuzzers, tests), which then skip parsing it each time.
 * @platform: what the context allocates with (the context, its descriptor table, VMs, vCPUs,
 *            ioctl buffers, the guest program) and what its fpu system is booted with; NULL =
 *            vx_platform_default().  Every allocation failure is -ENOMEM with a reason
 *            (vx_kvm_dev_last_error() for a call, errno ENOMEM) and changes nothing.
 * @system:   an fpu system already booted (vx_fpu_system_create()) to build the machine on
 *            instead of booting one: its profile is the host (@profile and @host_profile are
 *            not read) and its CET design must be @design's (vx_kvm_cet_design_fpu()), else
 *            -EINVAL.  Not copied: it must outlive the context; being immutable it may be
 *            shared by any number of contexts on any threads (common.h).  For programs that
 *            create many contexts on one host (fuzz_kvm_ioctl: a third of each input's time
 *            was the boot).
 */
struct vx_kvm_dev_options {
	const char *profile;
	int design;
	int flavour;
	unsigned ncpus;
	bool safe_copy;
	const char *sysfs_module;
	const char *guest;
	const struct vx_profile *host_profile;
	const struct vx_platform *platform;
	const struct vx_fpu_system *system;
};

/** Defaults: live host, guest-only, detect the flavour, 2 CPUs, no safe_copy, default platform. */
VX_API void vx_kvm_dev_options_init(struct vx_kvm_dev_options *options);
/**
 * vx_kvm_dev_options_from_env() - the defaults overridden by VXSAVE_KVM_PROFILE,
 * VXSAVE_KVM_DESIGN, VXSAVE_KVM_FLAVOUR, VXSAVE_KVM_SAFE_COPY and VXSAVE_KVM_GUEST.  -EINVAL with
 * @err naming the variable and the accepted values for a value it cannot use.  @options->profile
 * points into the environment.
 */
VX_API int vx_kvm_dev_options_from_env(struct vx_kvm_dev_options *options, struct vx_error *err);
/**
 * vx_kvm_detect_flavour() - the KVM vendor module loaded here: a directory kvm_pvm, kvm_intel
 * or kvm_amd under @sysfs_module (NULL = "/sys/module"), in that order.  -ENOENT if none.
 */
VX_API int vx_kvm_detect_flavour(const char *sysfs_module, enum vx_kvm_flavour *flavour);

/**
 * vx_kvm_dev_create() - boot the host and load the module: profile, fpu system for the
 * design's fpu layer, machine, the VMM process with its task running on CPU 0, the module
 * with the flavour's options (and kvm.ignore_msrs from sysfs when the flavour was detected).
 * Errors name what failed: -ENOENT (profile), -EINVAL, -ENOMEM, -ENOTSUP (live host on a
 * non-x86 build).
 */
VX_API int vx_kvm_dev_create(const struct vx_kvm_dev_options *options, struct vx_kvm_dev **dev,
			     struct vx_error *err);
/** Close every descriptor the context handed out and free everything. */
VX_API void vx_kvm_dev_destroy(struct vx_kvm_dev *dev);

VX_API struct vx_kvm *vx_kvm_dev_module(const struct vx_kvm_dev *dev);
/** The VMM thread every call is made by. */
VX_API struct vx_fpu_task *vx_kvm_dev_task(const struct vx_kvm_dev *dev);
/** The profile name the host was booted on ("host" for the live one). */
VX_API const char *vx_kvm_dev_profile_name(const struct vx_kvm_dev *dev);
/** Why the last failing call failed (rule, sentence); code 0 after a success. */
VX_API const struct vx_error *vx_kvm_dev_last_error(const struct vx_kvm_dev *dev);

/** open("/dev/kvm", @flags): a new system descriptor, or -1 with errno (EMFILE, ENOMEM). */
VX_API int vx_kvm_dev_open(struct vx_kvm_dev *dev, int flags);
/**
 * vx_kvm_ioctl() - ioctl(@fd, @request, @arg) on a descriptor of @dev: the request's result
 * (>= 0), or -1 with errno as KVM sets it (EBADF for a descriptor @dev does not own, ENOTTY or
 * EINVAL for a request the object does not take, as KVM does per object kind).
 */
VX_API int vx_kvm_ioctl(struct vx_kvm_dev *dev, int fd, unsigned long request, void *arg);
/** close(@fd): 0, or -1/EBADF.  VMs and vCPUs live until no descriptor refers to them. */
VX_API int vx_kvm_close(struct vx_kvm_dev *dev, int fd);
/** True if @fd is one of @dev's descriptors. */
VX_API bool vx_kvm_dev_owns(const struct vx_kvm_dev *dev, int fd);
/**
 * vx_kvm_dev_mmap_check() - may mmap(@fd, @length, @offset) map a vCPU's kvm_run?  0, or
 * -EINVAL for a non-vCPU descriptor, a non-zero offset or more than the vCPU mmap size.
 */
VX_API int vx_kvm_dev_mmap_check(const struct vx_kvm_dev *dev, int fd, size_t length,
				 long long offset);
/** The model vCPU behind a vCPU descriptor, or NULL. */
VX_API struct vx_kvm_vcpu *vx_kvm_dev_vcpu(const struct vx_kvm_dev *dev, int fd);
/**
 * vx_kvm_dev_arch_prctl() - arch_prctl(@option, @arg2) by the VMM thread as the model sees
 * it (fpu_xstate_prctl): the guest permission that KVM_GET_SUPPORTED_CPUID, XSAVE2 and
 * KVM_SET_CPUID2 read.  GET options store through @arg2 as a pointer.  0 or -1 with errno.
 */
VX_API int vx_kvm_dev_arch_prctl(struct vx_kvm_dev *dev, int option, unsigned long arg2);

/**
 * vx_kvm_run_hook - what KVM_RUN does: run the guest of @vcpu (whose kvm_run page is @run,
 * struct kvm_run of <linux/kvm.h>) and fill the exit; 0 or a negative errno with @err set.
 * Without a hook, KVM_RUN fails with ENOEXEC and a last error that says so.
 */
typedef int (*vx_kvm_run_hook)(void *ctx, struct vx_kvm_dev *dev, struct vx_kvm_vcpu *vcpu,
			       void *run, struct vx_error *err);
VX_API void vx_kvm_dev_set_run_hook(struct vx_kvm_dev *dev, vx_kvm_run_hook hook, void *ctx);
/**
 * vx_kvm_dev_load_guest() - every vCPU of @dev runs the guest program in file @path (text, as
 * vx_kvm_guest_program_parse() reads it) from its start; each KVM_RUN goes on to the next OUT
 * (KVM_EXIT_IO, the value after struct kvm_run in the page) or HLT/the end (KVM_EXIT_HLT).
 * Installs the run hook.  Errors name the file and line; @dev unchanged on failure.
 */
VX_API int vx_kvm_dev_load_guest(struct vx_kvm_dev *dev, const char *path, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* Backends: one call sequence on the model or on the real /dev/kvm                             */

/**
 * struct vx_kvm_backend - open/ioctl/close with ioctl(2) semantics (-1 and errno).
 * @name: "model" or "real".
 */
struct vx_kvm_backend {
	const char *name;
	void *ctx;
	int (*open)(void *ctx);
	int (*ioctl)(void *ctx, int fd, unsigned long request, void *arg);
	int (*close)(void *ctx, int fd);
};

/** The model behind @dev. */
VX_API void vx_kvm_backend_model(struct vx_kvm_backend *backend, struct vx_kvm_dev *dev);
/** The real /dev/kvm (src/kvm/real.c): the same requests sent to the kernel. */
VX_API void vx_kvm_backend_real(struct vx_kvm_backend *backend);
/**
 * vx_kvm_real_available() - can this process use the real /dev/kvm?  False with the reason
 * in @why (absent, permission, not x86-64) when it cannot.
 */
VX_API bool vx_kvm_real_available(char *why, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_KVM_IOCTL_H */
