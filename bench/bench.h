/* SPDX-License-Identifier: MIT */
/* `make bench`: shared timing helpers.  Ratios are measured in one run, medians of samples. */
#ifndef VXSAVE_BENCH_H
#define VXSAVE_BENCH_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_SAMPLES 41

/* One measured operation: called @iterations times per sample with @ctx. */
typedef void (*bench_fn)(void *ctx, unsigned iterations);

/* Median nanoseconds per call of @fn over BENCH_SAMPLES samples. */
double bench_median_ns(bench_fn fn, void *ctx, unsigned iterations);

/* Print one result row: "name  model ns  reference ns  ratio  target". */
void bench_report(const char *name, double subject_ns, const char *subject, double reference_ns,
		  const char *reference, double target_ratio);

/*
 * A subject against a reference, sampled alternately BENCH_SAMPLES times (a noisy stretch of
 * the machine hits both): the median of each and the median of the neighbouring samples'
 * ratios.
 */
struct bench_pair {
	double subject_ns;
	double reference_ns;
	double ratio;
};
void bench_paired(bench_fn subject, bench_fn reference, void *ctx, unsigned iterations,
		  struct bench_pair *out);
/* Print one paired row with its target: "... ratio 1.20x  target <= 1.50x: met". */
int bench_pair_row(const char *name, const struct bench_pair *p, const char *subject,
		   const char *reference, double target);

/* The benchmark groups (one file each). */
int bench_xsave_model_vs_hardware(void);
int bench_layout(void);
int bench_fpu(void);
int bench_kvm(void);
int bench_kvm_run(void);
int bench_eval(void);
int bench_vmm(void);

#endif
