/* SPDX-License-Identifier: MIT */
/* The default platform interface (common.h): the C library's allocator, no logging. */
#include <stdlib.h>
#include <string.h>

#include <vxsave/common.h>
#include <vxsave/version.h>

static void *default_alloc(void *ctx, size_t size, size_t align)
{
	(void)ctx;
	if (align < sizeof(void *))
		align = sizeof(void *);
	/* aligned_alloc wants the size to be a multiple of the alignment. */
	size_t rounded = (size + align - 1) & ~(align - 1);
	void *p = aligned_alloc(align, rounded ? rounded : align);
	if (p)
		memset(p, 0, rounded ? rounded : align);
	return p;
}

static void default_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

static const struct vx_platform default_platform = {
	.alloc = default_alloc,
	.free = default_free,
	.log = NULL,
	.ctx = NULL,
};

const struct vx_platform *vx_platform_default(void)
{
	return &default_platform;
}

const char *vx_version(void)
{
	return VX_VERSION_STRING;
}
