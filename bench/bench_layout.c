/* SPDX-License-Identifier: MIT */
/* Layout arithmetic cost: what a hypervisor pays to size a buffer from a profile. */
#include <stdio.h>

#include <vxsave/arch.h>

#include "bench.h"

struct layout_ctx {
	struct vx_profile profile;
	uint64_t mask;
	volatile uint32_t sink;
};

static void run_layout_compute(void *opaque, unsigned iterations)
{
	struct layout_ctx *ctx = opaque;
	struct vx_layout layout;

	for (unsigned i = 0; i < iterations; i++) {
		vx_layout_compute(&ctx->profile, ctx->mask, &layout, NULL);
		ctx->sink = layout.compacted_size;
	}
}

static void run_compacted_size(void *opaque, unsigned iterations)
{
	struct layout_ctx *ctx = opaque;

	for (unsigned i = 0; i < iterations; i++)
		ctx->sink = vx_compacted_size(&ctx->profile, ctx->mask);
}

int bench_layout(void)
{
	struct layout_ctx ctx;

	if (vx_profile_builtin(&ctx.profile, VX_DEFAULT_PROFILE, NULL) != 0) {
		printf("layout: cannot load the default profile\n");
		return 1;
	}
	ctx.mask = vx_profile_xcr0_supported(&ctx.profile) | vx_profile_xss_supported(&ctx.profile);
	printf("layout arithmetic on %s, mask 0x%llx\n", ctx.profile.name,
	       (unsigned long long)ctx.mask);
	printf("  vx_layout_compute    %8.1f ns\n", bench_median_ns(run_layout_compute, &ctx, 2000));
	printf("  vx_compacted_size    %8.1f ns\n\n",
	       bench_median_ns(run_compacted_size, &ctx, 20000));
	return 0;
}
