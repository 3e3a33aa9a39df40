/* SPDX-License-Identifier: MIT */
/*
 * The real backend (kvm_ioctl.h, issue 8): the same requests sent to this machine's
 * /dev/kvm, so that one call sequence runs on the model and on the kernel and the results
 * can be compared byte for byte (tests/unit/test_kvm_real_diff.c, `vxsave kvm --real`).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vxsave/kvm_ioctl.h>

#define DEV_KVM "/dev/kvm"

static int real_open(void *ctx)
{
	(void)ctx;
	return open(DEV_KVM, O_RDWR | O_CLOEXEC);
}

static int real_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	(void)ctx;
	return ioctl(fd, request, arg);
}

static int real_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd);
}

void vx_kvm_backend_real(struct vx_kvm_backend *b)
{
	*b = (struct vx_kvm_backend){"real", NULL, real_open, real_ioctl, real_close};
}

bool vx_kvm_real_available(char *why, size_t len)
{
	int fd;

#if !defined(__x86_64__)
	snprintf(why, len, "not an x86-64 build");
	return false;
#endif
	fd = open(DEV_KVM, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "%s: %s%s", DEV_KVM, strerror(errno),
			 errno == EACCES ? " (needs root or the kvm group)" : "");
		return false;
	}
	close(fd);
	snprintf(why, len, "%s usable", DEV_KVM);
	return true;
}
