/* SPDX-License-Identifier: MIT */
/* The benchmark driver: runs every group (or the ones named) and reports ratios measured in
 * this one run. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The groups, in the order a full run takes them (`vxsave-bench [GROUP...]`, `make bench
 * BENCH="GROUP..."`). */
static const struct {
	const char *name;
	int (*run)(void);
	const char *what;
} groups[] = {
    {"layout", bench_layout, "layout arithmetic: sizing a buffer from a profile"},
    {"xsave", bench_xsave_model_vs_hardware, "model XSAVE*/XRSTOR* against the real instructions"},
    {"fpu", bench_fpu, "the fpu layer's switch and uABI conversions against bare copies"},
    {"kvm", bench_kvm, "the drop-in /dev/kvm's ioctls against the real /dev/kvm"},
    {"kvm_run", bench_kvm_run, "KVM_RUN round trips on the model, per CET_S design"},
    {"eval", bench_eval, "the cost model, the model against memcpy, switches/s, make run's job"},
    {"vmm", bench_vmm, "decode, validate and convert against memcpy"},
};

#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static int usage(FILE *out, int status)
{
	fprintf(out,
		"Usage: vxsave-bench [--list] [GROUP...]\n"
		"Run every benchmark group, or the ones named; exit 1 if a target was missed.\n"
		"Groups:\n");
	for (size_t i = 0; i < NGROUPS; i++)
		fprintf(out, "  %-8s %s\n", groups[i].name, groups[i].what);
	return status;
}

static int group_index(const char *name)
{
	for (size_t i = 0; i < NGROUPS; i++)
		if (strcmp(groups[i].name, name) == 0)
			return (int)i;
	return -1;
}

int main(int argc, char **argv)
{
	bool chosen[NGROUPS] = {false};
	int failures = 0, named = 0;

	for (int i = 1; i < argc; i++) {
		int g = group_index(argv[i]);

		if (strcmp(argv[i], "--list") == 0 || strcmp(argv[i], "--help") == 0)
			return usage(stdout, 0);
		if (g < 0) {
			fprintf(stderr, "vxsave-bench: unknown group '%s'\n", argv[i]);
			return usage(stderr, 2);
		}
		chosen[g] = true;
		named++;
	}
	printf("vxsave benchmarks (median of %d samples; ratios from this run)\n\n", BENCH_SAMPLES);
	for (size_t i = 0; i < NGROUPS; i++)
		if (!named || chosen[i])
			failures += groups[i].run();
	return failures ? 1 : 0;
}
