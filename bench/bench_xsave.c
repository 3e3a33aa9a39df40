/* SPDX-License-Identifier: MIT */
/*
 * The software processor against this machine's own instructions: time per XSAVE64, XSAVEC64
 * and XRSTOR64 of the host's full user state (every component in use), model vs hardware,
 * medians measured in the same run.  Target (issue: cpu layer): model within 1.5x of the
 * hardware for XSAVEC and XRSTOR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/cpu.h>

#include "bench.h"

#define AREA_SIZE 16384

struct xsave_ctx {
	struct vx_cpu *cpu;
	uint64_t xcr0;
	struct vx_memory mem;
	_Alignas(64) uint8_t image[AREA_SIZE];   /* standard image, all components in use */
	_Alignas(64) uint8_t area[AREA_SIZE];    /* target of the timed instruction */
	_Alignas(64) uint8_t restore[AREA_SIZE]; /* compacted image for XRSTOR */
};

#if defined(__x86_64__)
/* Put the hardware in the benchmark state: every enabled component loaded (XINUSE = XCR0). */
#define HW_LOAD(img)                                                                               \
	"xrstor64 (" img ")\n\t"

static void hw_xsave64(void *opaque, unsigned iterations)
{
	struct xsave_ctx *ctx = opaque;

	__asm__ __volatile__(HW_LOAD("%[img]") "1: xsave64 (%[area])\n\t"
					       "dec %[n]\n\t"
					       "jnz 1b\n\t"
			     : [n] "+r"(iterations)
			     : [img] "r"(ctx->image), [area] "r"(ctx->area), "a"(~0u), "d"(~0u)
			     : "memory");
}

static void hw_xsavec64(void *opaque, unsigned iterations)
{
	struct xsave_ctx *ctx = opaque;

	__asm__ __volatile__(HW_LOAD("%[img]") "1: xsavec64 (%[area])\n\t"
					       "dec %[n]\n\t"
					       "jnz 1b\n\t"
			     : [n] "+r"(iterations)
			     : [img] "r"(ctx->image), [area] "r"(ctx->area), "a"(~0u), "d"(~0u)
			     : "memory");
}

static void hw_xrstor64(void *opaque, unsigned iterations)
{
	struct xsave_ctx *ctx = opaque;

	__asm__ __volatile__("1: xrstor64 (%[area])\n\t"
			     "dec %[n]\n\t"
			     "jnz 1b\n\t"
			     : [n] "+r"(iterations)
			     : [area] "r"(ctx->restore), "a"(~0u), "d"(~0u)
			     : "memory");
}

static void hw_memcpy_state(void *opaque, unsigned iterations)
{
	struct xsave_ctx *ctx = opaque;
	size_t size = vx_compacted_size(vx_cpu_profile(ctx->cpu), ctx->xcr0);

	for (unsigned i = 0; i < iterations; i++) {
		memcpy(ctx->area, ctx->image, size);
		__asm__ __volatile__("" ::: "memory");
	}
}
#endif

static void model_exec(struct xsave_ctx *ctx, enum vx_insn insn, uint8_t *buf, unsigned n)
{
	ctx->mem.bytes = buf;
	ctx->mem.base = (uintptr_t)buf;
	for (unsigned i = 0; i < n; i++)
		vx_cpu_exec(ctx->cpu, insn, 0, &ctx->mem, ctx->mem.base, ~0ull, NULL);
}

static void model_xsave64(void *opaque, unsigned n)
{
	struct xsave_ctx *ctx = opaque;

	model_exec(ctx, VX_INSN_XSAVE64, ctx->area, n);
}

static void model_xsavec64(void *opaque, unsigned n)
{
	struct xsave_ctx *ctx = opaque;

	model_exec(ctx, VX_INSN_XSAVEC64, ctx->area, n);
}

static void model_xrstor64(void *opaque, unsigned n)
{
	struct xsave_ctx *ctx = opaque;

	model_exec(ctx, VX_INSN_XRSTOR64, ctx->restore, n);
}

/* A standard image with random bytes in every enabled component and a valid legacy region. */
static void fill_image(struct xsave_ctx *ctx, const struct vx_profile *profile)
{
	/* The same bytes on every run, so that runs compare (not a security use). */
	srand(20261121); /* NOLINT(cert-msc32-c) */
	for (size_t i = 0; i < vx_standard_size(profile, ctx->xcr0); i++)
		/* NOLINTNEXTLINE(cert-msc30-c) */
		ctx->image[i] = (uint8_t)rand();
	memset(ctx->image + 464, 0, 576 - 464); /* software bytes and header */
	uint32_t mxcsr = 0x1F80, mxcsr_mask = vx_profile_mxcsr_mask(profile);
	memcpy(ctx->image + VX_MXCSR_OFFSET, &mxcsr, 4);
	memcpy(ctx->image + VX_MXCSR_MASK_OFFSET, &mxcsr_mask, 4);
	ctx->image[6 + 1] &= 0x07; /* FOP is 11 bits */
	memcpy(ctx->image + VX_XSTATE_BV_OFFSET, &ctx->xcr0, 8);
}

static int setup(struct xsave_ctx *ctx)
{
	struct vx_profile profile;
	struct vx_event event;

	if (vx_profile_from_host(&profile, NULL) != 0 || vx_host_xgetbv(0, &ctx->xcr0) != 0)
		return -1;
	if (vx_standard_size(&profile, ctx->xcr0) > AREA_SIZE)
		return -1;
	if (vx_cpu_create(&profile, NULL, &ctx->cpu, NULL) != 0)
		return -1;
	if (vx_cpu_xsetbv(ctx->cpu, 0, ctx->xcr0, &event) != 0)
		return -1;
	fill_image(ctx, &profile);
	vx_cpu_from_standard_image(ctx->cpu, ctx->xcr0, ctx->image, AREA_SIZE);
	ctx->mem.size = AREA_SIZE;
	/* The XRSTOR source: the model's own XSAVEC of that state. */
	model_exec(ctx, VX_INSN_XSAVEC64, ctx->restore, 1);
	return 0;
}

int bench_xsave_model_vs_hardware(void)
{
#if defined(__x86_64__)
	struct xsave_ctx *ctx = aligned_alloc(64, sizeof(*ctx));
	int missed = 0;

	if (!ctx)
		return 1;
	memset(ctx, 0, sizeof(*ctx));
	if (setup(ctx) != 0) {
		printf("xsave: skipped: this host has no usable XSAVE/XSAVEC\n");
		free(ctx);
		return 0;
	}
	printf("model vs hardware, host XCR0 0x%llx, every component in use\n",
	       (unsigned long long)ctx->xcr0);
	const struct {
		const char *name;
		bench_fn model, hardware;
		double target;
	} rows[] = {
		{"XSAVE64 (standard)", model_xsave64, hw_xsave64, 0},
		{"XSAVEC64 (compacted)", model_xsavec64, hw_xsavec64, 1.5},
		{"XRSTOR64 (compacted form)", model_xrstor64, hw_xrstor64, 1.5},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		double model_ns = bench_median_ns(rows[i].model, ctx, 2000);
		double hw_ns = bench_median_ns(rows[i].hardware, ctx, 2000);

		bench_report(rows[i].name, model_ns, "model", hw_ns, "hardware", rows[i].target);
		if (rows[i].target > 0 && model_ns / hw_ns > rows[i].target)
			missed++;
	}
	bench_report("memcpy of the compacted bytes", bench_median_ns(hw_memcpy_state, ctx, 2000),
		     "memcpy", bench_median_ns(hw_xsavec64, ctx, 2000), "XSAVEC", 0);
	vx_cpu_destroy(ctx->cpu);
	free(ctx);
	printf("\n%d target(s) missed\n", missed);
	return 0;
#else
	printf("xsave: skipped: not an x86-64 build\n");
	return 0;
#endif
}
