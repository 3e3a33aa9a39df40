/* SPDX-License-Identifier: MIT */
/* The benchmark driver: runs every group and reports ratios measured in this one run. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median_ns(bench_fn fn, void *ctx, unsigned iterations)
{
	double samples[BENCH_SAMPLES];

	fn(ctx, iterations); /* warm caches and branch predictors */
	for (int i = 0; i < BENCH_SAMPLES; i++) {
		double start = now_ns();

		fn(ctx, iterations);
		samples[i] = (now_ns() - start) / iterations;
	}
	qsort(samples, BENCH_SAMPLES, sizeof(samples[0]), compare_doubles);
	return samples[BENCH_SAMPLES / 2];
}

static double sample_ns(bench_fn fn, void *ctx, unsigned iterations)
{
	double start = now_ns();

	fn(ctx, iterations);
	return (now_ns() - start) / iterations;
}

static double median_of(double *samples, size_t n)
{
	qsort(samples, n, sizeof(samples[0]), compare_doubles);
	return samples[n / 2];
}

void bench_paired(bench_fn subject, bench_fn reference, void *ctx, unsigned iterations,
		  struct bench_pair *out)
{
	double s[BENCH_SAMPLES], r[BENCH_SAMPLES], ratio[BENCH_SAMPLES];

	subject(ctx, iterations); /* warm caches and branch predictors */
	reference(ctx, iterations);
	for (int i = 0; i < BENCH_SAMPLES; i++) {
		s[i] = sample_ns(subject, ctx, iterations);
		r[i] = sample_ns(reference, ctx, iterations);
		ratio[i] = s[i] / r[i];
	}
	out->ratio = median_of(ratio, BENCH_SAMPLES);
	out->subject_ns = median_of(s, BENCH_SAMPLES);
	out->reference_ns = median_of(r, BENCH_SAMPLES);
}

int bench_pair_row(const char *name, const struct bench_pair *p, const char *subject,
		   const char *reference, double target)
{
	int missed = target > 0 && p->ratio > target;

	printf("%-34s %9.1f ns %-6s %9.1f ns %-8s ratio %5.2fx", name, p->subject_ns, subject,
	       p->reference_ns, reference, p->ratio);
	if (target > 0)
		printf("  target <= %.2fx: %s", target, missed ? "NOT met" : "met");
	printf("\n");
	return missed;
}

void bench_report(const char *name, double subject_ns, const char *subject, double reference_ns,
		  const char *reference, double target_ratio)
{
	double ratio = subject_ns / reference_ns;

	printf("%-34s %9.1f ns %-6s %9.1f ns %-8s ratio %5.2fx", name, subject_ns, subject,
	       reference_ns, reference, ratio);
	if (target_ratio > 0)
		printf("  target <= %.2fx %s", target_ratio,
		       ratio <= target_ratio ? "met" : "NOT met");
	printf("\n");
}

int main(void)
{
	int failures = 0;

	printf("vxsave benchmarks (median of %d samples; ratios from this run)\n\n", BENCH_SAMPLES);
	failures += bench_layout();
	failures += bench_xsave_model_vs_hardware();
	failures += bench_fpu();
	failures += bench_kvm();
	failures += bench_kvm_run();
	failures += bench_eval();
	failures += bench_vmm();
	return failures ? 1 : 0;
}
