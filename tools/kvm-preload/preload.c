/* SPDX-License-Identifier: MIT */
/*
 * libvxsave-kvm-preload.so (issue 8): LD_PRELOAD it and an unmodified program that manages
 * vCPU state through /dev/kvm runs against the vxsave model.  open("/dev/kvm") (open, open64,
 * openat, openat64 and the _FORTIFY_SOURCE entry points) returns a model descriptor; ioctl,
 * close and mmap on the model's descriptors go to the model (kvm_ioctl.h), everything else to
 * the next definition (dlsym(RTLD_NEXT)).  arch_prctl(ARCH_REQ/GET_XCOMP_GUEST_PERM), called
 * directly or through syscall(SYS_arch_prctl), reaches the model, whose guest permission
 * KVM_GET_SUPPORTED_CPUID and KVM_SET_CPUID2 read; the other XCOMP options go to the kernel
 * (the program's own AMX use) and REQ_XCOMP_PERM is mirrored to the model.
 *
 * The host is chosen by VXSAVE_KVM_PROFILE, VXSAVE_KVM_DESIGN and VXSAVE_KVM_FLAVOUR (default:
 * this machine with its KVM flavour).  The one global below is the context, created at the
 * first open("/dev/kvm"); a context that cannot be created makes that open fail with the
 * error printed once on stderr.  KVM_RUN without a guest program fails with ENOEXEC and the
 * reason on stderr.  VXSAVE_KVM_TRACE=1 prints every failing model call.
 *
 * Limits: a dup() of a model descriptor is an ordinary memfd to the model (ioctl on it gives
 * ENOTTY); descriptors survive fork() as copies of the same state.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vxsave/kvm_ioctl.h>

#define PRELOAD_API __attribute__((visibility("default")))
#define DEV_KVM	    "/dev/kvm"

/* Entry points <fcntl.h> declares only under _FORTIFY_SOURCE, and arch_prctl(2). */
PRELOAD_API int __open_2(const char *path, int flags);
PRELOAD_API int __open64_2(const char *path, int flags);
PRELOAD_API int __openat_2(int dirfd, const char *path, int flags);
PRELOAD_API int arch_prctl(int option, unsigned long arg2);

/* The only global state of the kvm layer (kvm_ioctl.h): the context and its creation. */
static struct vx_kvm_dev *g_dev;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_create_errno;
static bool g_trace;

/* ----------------------------------------------------------------------------------------- */
/* The next definitions                                                                         */

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef int (*close_fn)(int);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);
typedef long (*syscall_fn)(long, ...);

static void *next(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (!fn) {
		fprintf(stderr, "vxsave-kvm-preload: no next definition of %s\n", name);
		abort();
	}
	return fn;
}

/* ----------------------------------------------------------------------------------------- */
/* The context                                                                                  */

static void create_dev(void)
{
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;
	const char *trace = getenv("VXSAVE_KVM_TRACE");
	int rc = vx_kvm_dev_options_from_env(&o, &err);

	g_trace = trace && trace[0] == '1';
	if (!rc)
		rc = vx_kvm_dev_create(&o, &g_dev, &err);
	if (rc) {
		g_create_errno = -rc;
		fprintf(stderr, "vxsave-kvm-preload: cannot stand in for %s: %s\n", DEV_KVM,
			err.reason);
	}
}

static struct vx_kvm_dev *dev_get(void)
{
	pthread_once(&g_once, create_dev);
	return g_dev;
}

static bool is_dev_kvm(const char *path)
{
	return path && strcmp(path, DEV_KVM) == 0;
}

static bool owned(int fd)
{
	return g_dev && vx_kvm_dev_owns(g_dev, fd);
}

static int model_open(int flags)
{
	if (!dev_get()) {
		errno = g_create_errno;
		return -1;
	}
	return vx_kvm_dev_open(g_dev, flags);
}

static void report(const char *what, unsigned long request)
{
	const struct vx_error *e = vx_kvm_dev_last_error(g_dev);

	if (g_trace || e->code == -ENOEXEC)
		fprintf(stderr, "vxsave-kvm-preload: %s 0x%lx: %s (%s)\n", what, request, e->reason,
			e->rule ? e->rule : "");
}

/* ----------------------------------------------------------------------------------------- */
/* open                                                                                         */

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

PRELOAD_API int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	if (is_dev_kvm(path))
		return model_open(flags);
	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return ((open_fn)next("open"))(path, flags, mode);
}

PRELOAD_API int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	if (is_dev_kvm(path))
		return model_open(flags);
	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return ((open_fn)next("open64"))(path, flags, mode);
}

PRELOAD_API int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	/* An absolute path ignores dirfd. */
	if (is_dev_kvm(path))
		return model_open(flags);
	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return ((openat_fn)next("openat"))(dirfd, path, flags, mode);
}

PRELOAD_API int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	if (is_dev_kvm(path))
		return model_open(flags);
	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return ((openat_fn)next("openat64"))(dirfd, path, flags, mode);
}

/* _FORTIFY_SOURCE builds call these for open() without a mode. */
PRELOAD_API int __open_2(const char *path, int flags)
{
	if (is_dev_kvm(path))
		return model_open(flags);
	return ((int (*)(const char *, int))next("__open_2"))(path, flags);
}

PRELOAD_API int __open64_2(const char *path, int flags)
{
	if (is_dev_kvm(path))
		return model_open(flags);
	return ((int (*)(const char *, int))next("__open64_2"))(path, flags);
}

PRELOAD_API int __openat_2(int dirfd, const char *path, int flags)
{
	if (is_dev_kvm(path))
		return model_open(flags);
	return ((int (*)(int, const char *, int))next("__openat_2"))(dirfd, path, flags);
}

/* ----------------------------------------------------------------------------------------- */
/* ioctl, close, mmap                                                                           */

PRELOAD_API int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	int rc;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!owned(fd))
		return ((ioctl_fn)next("ioctl"))(fd, request, arg);
	rc = vx_kvm_ioctl(g_dev, fd, request, arg);
	if (rc < 0) {
		int e = errno;

		report("ioctl", request);
		errno = e;
	}
	return rc;
}

PRELOAD_API int close(int fd)
{
	if (owned(fd))
		return vx_kvm_close(g_dev, fd);
	return ((close_fn)next("close"))(fd);
}

static void *model_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off,
			const char *name)
{
	/* The vCPU's kvm_run: offset 0, at most KVM_GET_VCPU_MMAP_SIZE (kvm_vcpu_mmap). */
	if (owned(fd)) {
		int rc = vx_kvm_dev_mmap_check(g_dev, fd, len, (long long)off);

		if (rc) {
			errno = -rc;
			return MAP_FAILED;
		}
	}
	return ((mmap_fn)next(name))(addr, len, prot, flags, fd, off);
}

PRELOAD_API void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return model_mmap(addr, len, prot, flags, fd, off, "mmap");
}

PRELOAD_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return model_mmap(addr, len, prot, flags, fd, off, "mmap64");
}

/* ----------------------------------------------------------------------------------------- */
/* arch_prctl                                                                                   */

static bool guest_perm_option(int option)
{
	return option == VX_ARCH_GET_XCOMP_GUEST_PERM || option == VX_ARCH_REQ_XCOMP_GUEST_PERM;
}

/* The guest-permission options belong to the model; REQ_XCOMP_PERM is the kernel's, mirrored
 * so that the model's process has the same permissions. */
static long prctl_route(int option, unsigned long arg2, long (*kernel)(int, unsigned long))
{
	long rc;

	if (guest_perm_option(option) && dev_get())
		return vx_kvm_dev_arch_prctl(g_dev, option, arg2);
	rc = kernel(option, arg2);
	if (rc == 0 && option == VX_ARCH_REQ_XCOMP_PERM && dev_get())
		(void)vx_kvm_dev_arch_prctl(g_dev, option, arg2);
	return rc;
}

static long kernel_prctl(int option, unsigned long arg2)
{
	return ((syscall_fn)next("syscall"))(SYS_arch_prctl, option, arg2);
}

PRELOAD_API int arch_prctl(int option, unsigned long arg2)
{
	return (int)prctl_route(option, arg2, kernel_prctl);
}

PRELOAD_API long syscall(long number, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == SYS_arch_prctl)
		return prctl_route((int)a[0], (unsigned long)a[1], kernel_prctl);
	return ((syscall_fn)next("syscall"))(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
