/* SPDX-License-Identifier: MIT */
/*
 * vxsave `eval` layer: the cost model (issue 9, "a cost model that turns counts into time").
 *
 * Modeled time = Σ count × constant.  The counts are what an evaluation counted (XSAVE* and
 * XRSTOR* executed and the bytes they moved, MSR accesses, VM exits, #NM events,
 * reallocations, context switches: struct vx_eval_cost_counts; the evaluation's counters
 * (struct vx_eval_counters, eval.h) map onto it in one function,
 * vx_eval_cost_counts_from_eval()).  The
 * constants live in ONE table (struct vx_eval_cost_table), each with its unit and its source:
 *  - measured on this machine where it can be (vx_eval_calibrate(): the real XSAVEC/XRSTOR in
 *    user mode, the real /dev/kvm KVM_RUN round trip and ioctl, a syscall, a reallocation, a
 *    context switch);
 *  - published figures with a citation otherwise (MSR access, VM exit and entry, XSAVES and
 *    XRSTORS of supervisor components, which user mode cannot execute);
 *  - every one overridable from a text file (vx_eval_cost_parse(): "name value unit # source").
 * The built-in table holds the values vx_eval_calibrate() measured on the development machine,
 * so modeled times are deterministic; calibrating replaces them with this machine's.
 *
 * The time comes back split by category (XSAVE, XRSTOR, MSR, exits, #NM, realloc, switch) for
 * the report.  docs/eval.md "Cost model" lists every constant, its source and the format.
 */
#ifndef VXSAVE_EVAL_COST_H
#define VXSAVE_EVAL_COST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vxsave/common.h>
#include <vxsave/eval.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/* The constants                                                                                */

/**
 * enum vx_eval_cost_id - one constant of the table (docs/eval.md "Cost model" has each one's
 * method and citation).
 * @VX_COST_CLOCK:          core clock that converts figures given in cycles to ns (GHz).
 * @VX_COST_XSAVE_INSN:     a save instruction's fixed part (ns): what it costs beyond its bytes.
 * @VX_COST_XSAVE_BYTE:     each byte a save writes (ns/B), user components.
 * @VX_COST_XSAVE_INIT:     each requested component skipped because it is in its initial
 *                          configuration (ns): the init optimization's residual cost.
 * @VX_COST_XRSTOR_INSN, @VX_COST_XRSTOR_BYTE, @VX_COST_XRSTOR_INIT: the same for restores
 *                          (bytes read; components put in their initial configuration).
 * @VX_COST_SUPERVISOR:     factor on the byte costs for supervisor components (XSAVES/XRSTORS
 *                          against XSAVEC/XRSTOR, published).
 * @VX_COST_RDMSR, @VX_COST_WRMSR: one MSR read / write (published).
 * @VX_COST_VMEXIT:         a VM exit handled in KVM and the VM entry back (published).
 * @VX_COST_EXIT_USER:      an exit that returns to userspace, beyond the KVM_RUN ioctl itself:
 *                          the measured KVM_RUN round trip minus @VX_COST_KVM_IOCTL.
 * @VX_COST_KVM_IOCTL:      one /dev/kvm ioctl round trip (each KVM_RUN call pays one).
 * @VX_COST_KERNEL_ENTRY:   an entry to the kernel and back (a syscall; an #NM pays one, plus
 *                          RDMSR and WRMSR of IA32_XFD_ERR).
 * @VX_COST_REALLOC:        growing an fpstate (allocate, copy, free 12 KiB).
 * @VX_COST_SWITCH:         the rest of a context switch (scheduler, switch_to), without the
 *                          FPU save and restore the other categories count.
 */
enum vx_eval_cost_id {
	VX_COST_CLOCK = 0,
	VX_COST_XSAVE_INSN,
	VX_COST_XSAVE_BYTE,
	VX_COST_XSAVE_INIT,
	VX_COST_XRSTOR_INSN,
	VX_COST_XRSTOR_BYTE,
	VX_COST_XRSTOR_INIT,
	VX_COST_SUPERVISOR,
	VX_COST_RDMSR,
	VX_COST_WRMSR,
	VX_COST_VMEXIT,
	VX_COST_EXIT_USER,
	VX_COST_KVM_IOCTL,
	VX_COST_KERNEL_ENTRY,
	VX_COST_REALLOC,
	VX_COST_SWITCH,
	VX_COST_COUNT
};

/**
 * enum vx_eval_cost_kind - what a constant measures, which decides the units it accepts:
 * @VX_COST_KIND_TIME: per event: "ns", "us" or "cycles".
 * @VX_COST_KIND_RATE: per byte: "ns/B" or "cycles/B".
 * @VX_COST_KIND_CLOCK: "GHz".
 * @VX_COST_KIND_RATIO: "x" (a factor).
 */
enum vx_eval_cost_kind {
	VX_COST_KIND_TIME = 0,
	VX_COST_KIND_RATE,
	VX_COST_KIND_CLOCK,
	VX_COST_KIND_RATIO,
};

/**
 * enum vx_eval_cost_origin - where a constant's current value comes from.
 * @VX_COST_MEASURED:  measured by vx_eval_calibrate() (on the development machine for the
 *                     built-in values, or here after calibrating).
 * @VX_COST_PUBLISHED: a published figure (the source names it).
 * @VX_COST_ASSUMED:   neither: an assumption the source explains.
 * @VX_COST_OVERRIDE:  set from an override file (vx_eval_cost_parse()).
 */
enum vx_eval_cost_origin {
	VX_COST_MEASURED = 0,
	VX_COST_PUBLISHED,
	VX_COST_ASSUMED,
	VX_COST_OVERRIDE,
};

/**
 * enum vx_eval_cost_category - the breakdown of modeled time.
 * @VX_COST_CAT_XSAVE:   save instructions and the bytes they write.
 * @VX_COST_CAT_XRSTOR:  restore instructions and the bytes they read.
 * @VX_COST_CAT_MSR:     RDMSR/WRMSR executed (by KVM, the kernel, or a guest without an exit).
 * @VX_COST_CAT_EXIT:    VM exits, exits to userspace, KVM_RUN ioctls.
 * @VX_COST_CAT_NM:      #NM events.
 * @VX_COST_CAT_REALLOC: fpstate reallocations.
 * @VX_COST_CAT_SWITCH:  the rest of each context switch.
 */
enum vx_eval_cost_category {
	VX_COST_CAT_XSAVE = 0,
	VX_COST_CAT_XRSTOR,
	VX_COST_CAT_MSR,
	VX_COST_CAT_EXIT,
	VX_COST_CAT_NM,
	VX_COST_CAT_REALLOC,
	VX_COST_CAT_SWITCH,
	VX_COST_CAT_COUNT
};

/** "xsave", "xrstor", "msr", "exits", "nm", "realloc", "switch"; NULL if out of range. */
VX_API const char *vx_eval_cost_category_name(enum vx_eval_cost_category category);
/** "measured", "published", "assumed", "override"; NULL if out of range. */
VX_API const char *vx_eval_cost_origin_name(enum vx_eval_cost_origin origin);

/**
 * struct vx_eval_cost_info - the fixed facts of one constant: @name (as in override files),
 * @kind, @category (VX_COST_CAT_COUNT for the clock and the supervisor factor, which only
 * scale others), @meaning (one line).
 */
struct vx_eval_cost_info {
	const char *name;
	enum vx_eval_cost_kind kind;
	enum vx_eval_cost_category category;
	const char *meaning;
};

/** The facts of constant @id, or NULL if out of range. */
VX_API const struct vx_eval_cost_info *vx_eval_cost_info(enum vx_eval_cost_id id);
/** The constant called @name (exact, as vx_eval_cost_info() spells it), or -ENOENT. */
VX_API int vx_eval_cost_by_name(const char *name);

#define VX_COST_UNIT_MAX   12
#define VX_COST_SOURCE_MAX 320

/**
 * struct vx_eval_cost_entry - one constant's current value: @value in @unit (one of the units
 * its kind accepts), @origin, and @source: how it was measured or where it was published.
 */
struct vx_eval_cost_entry {
	double value;
	char unit[VX_COST_UNIT_MAX];
	enum vx_eval_cost_origin origin;
	char source[VX_COST_SOURCE_MAX];
};

/** struct vx_eval_cost_table - every constant (plain data; index with enum vx_eval_cost_id). */
struct vx_eval_cost_table {
	struct vx_eval_cost_entry entry[VX_COST_COUNT];
};

/** The built-in table: measured values of the development machine, published figures. */
VX_API void vx_eval_cost_table_init(struct vx_eval_cost_table *table);

/**
 * vx_eval_cost_ns() - constant @id in the model's units: ns for a time, ns/B for a rate (both
 * converted from cycles with VX_COST_CLOCK), GHz for the clock, the factor for a ratio.
 * Returns 0 for an @id out of range.
 */
VX_API double vx_eval_cost_ns(const struct vx_eval_cost_table *table, enum vx_eval_cost_id id);

/**
 * vx_eval_cost_set() - set constant @id to @value @unit with @origin and @source (NULL: "").
 * -EINVAL naming the problem, @table unchanged: @id out of range, a unit the constant's kind
 * does not accept, a value that is not finite, negative, or (clock, factor) zero.
 */
VX_API int vx_eval_cost_set(struct vx_eval_cost_table *table, enum vx_eval_cost_id id, double value,
			    const char *unit, enum vx_eval_cost_origin origin, const char *source,
			    struct vx_error *err);

/**
 * vx_eval_cost_parse() - apply an override file: '#' comments and blank lines ignored, every
 * other line "name value unit [# source]" (the source defaults to "override file line N").
 * Each named constant becomes VX_COST_OVERRIDE.  -EINVAL with err->line set and the reason
 * naming the line and the word (unknown name, bad number, wrong unit, missing or extra
 * field); @table is unchanged on any failure.
 */
VX_API int vx_eval_cost_parse(struct vx_eval_cost_table *table, const char *text, size_t len,
			      struct vx_error *err);
/** vx_eval_cost_parse() of the file at @path; -errno naming the path if it cannot be read. */
VX_API int vx_eval_cost_load(struct vx_eval_cost_table *table, const char *path,
			     struct vx_error *err);
/**
 * vx_eval_cost_load_with_platform() - vx_eval_cost_load() reading the file into text
 * allocated from @platform (NULL = vx_platform_default()).  A failed allocation is -ENOMEM
 * naming the path, @table unchanged.
 */
VX_API int vx_eval_cost_load_with_platform(struct vx_eval_cost_table *table, const char *path,
					   const struct vx_platform *platform,
					   struct vx_error *err);
/**
 * vx_eval_cost_format() - the table in the override format ("name value unit # origin:
 * source", one line each, after a comment header); vx_eval_cost_parse() reads it back to the
 * same values.  snprintf semantics: returns the length needed.
 */
VX_API size_t vx_eval_cost_format(const struct vx_eval_cost_table *table, char *buf, size_t len);

/* ----------------------------------------------------------------------------------------- */
/* Counts and modeled time                                                                      */

/** Byte classes: user components (x87 ... AMX, with the header) and supervisor ones. */
enum vx_eval_cost_class { VX_COST_BYTES_USER = 0, VX_COST_BYTES_SUPERVISOR, VX_COST_CLASS_COUNT };

/**
 * MSR kinds: KVM's swaps of PL0-2_SSP (kvm-* designs), a guest's own RDMSR/WRMSR run by the
 * processor without an exit, and every other (IA32_XFD, XFD_ERR, ...).
 */
enum vx_eval_cost_msr_kind {
	VX_COST_MSR_CET_SSP = 0,
	VX_COST_MSR_GUEST,
	VX_COST_MSR_OTHER,
	VX_COST_MSR_KIND_COUNT
};

/**
 * struct vx_eval_cost_counts - the cost model's input: plain counts.
 * @operations:   what "per operation" divides by (context switches, guest exits...; 0: none).
 * @saves, @restores: XSAVE* / XRSTOR* executed.
 * @save_bytes, @restore_bytes: bytes written / read by class (64 header bytes per instruction,
 *                8 for MXCSR, x87 160, SSE 256, every other component its size: the fpu
 *                layer's counting, fpstate.c).
 * @save_init_components: components requested (RFBM) but not written, being in their initial
 *                configuration.  @restore_init_components: components a restore initialized.
 * @msr_reads, @msr_writes: RDMSR / WRMSR by kind.
 * @exits_kernel: VM exits handled in KVM, MSR intercepts included.
 * @msr_intercepts: how many of @exits_kernel were intercepted RDMSR/WRMSR (for the report;
 *                costed as exits).
 * @exits_user:   KVM_RUN returns to userspace.  @kvm_runs: KVM_RUN ioctls entered.
 * @nm_events:    #NM handled (XFD_ERR read and cleared).  @reallocs: fpstates grown.
 * @context_switches: threads switched in.
 */
struct vx_eval_cost_counts {
	uint64_t operations;
	uint64_t saves;
	uint64_t restores;
	uint64_t save_bytes[VX_COST_CLASS_COUNT];
	uint64_t restore_bytes[VX_COST_CLASS_COUNT];
	uint64_t save_init_components;
	uint64_t restore_init_components;
	uint64_t msr_reads[VX_COST_MSR_KIND_COUNT];
	uint64_t msr_writes[VX_COST_MSR_KIND_COUNT];
	uint64_t exits_kernel;
	uint64_t msr_intercepts;
	uint64_t exits_user;
	uint64_t kvm_runs;
	uint64_t nm_events;
	uint64_t reallocs;
	uint64_t context_switches;
};

/**
 * struct vx_eval_cost_breakdown - modeled time (ns) by category, the total, and the total per
 * operation (0 when @operations was 0).
 */
struct vx_eval_cost_breakdown {
	double ns[VX_COST_CAT_COUNT];
	double total_ns;
	double per_operation_ns;
};

/**
 * vx_eval_cost_model() - modeled time of @counts with @table:
 *   xsave   = saves·XSAVE_INSN + user bytes·XSAVE_BYTE + supervisor bytes·XSAVE_BYTE·SUPERVISOR
 *             + init components·XSAVE_INIT                  (XRSTOR alike)
 *   msr     = reads·RDMSR + writes·WRMSR                       (every kind)
 *   exits   = exits_kernel·VMEXIT + exits_user·EXIT_USER + kvm_runs·KVM_IOCTL
 *   nm      = nm_events·(KERNEL_ENTRY + RDMSR + WRMSR)
 *   realloc = reallocs·REALLOC;  switch = context_switches·SWITCH
 * (docs/eval.md "Cost model").  NULL arguments give a zero breakdown.
 */
VX_API void vx_eval_cost_model(const struct vx_eval_cost_table *table,
			       const struct vx_eval_cost_counts *counts,
			       struct vx_eval_cost_breakdown *out);

/**
 * vx_eval_cost_counts_from_eval() - the evaluation's counters as the model's counts, with
 * @operations as the per-operation divisor (e.g. @c->context_switches for context-switch, the
 * guest exits for vcpu-exits):
 *   saves/restores and their bytes: host + guest fpstates, all as user bytes (the fpu layer
 *     does not split them by component; CET_S in guest fpstates is among them);
 *   MSR CET_SSP: KVM's PL0-2_SSP reads and writes; MSR GUEST: guest RDMSR/WRMSR run without
 *     an exit; msr_intercepts: the intercepted ones (already VM exits in exits_kernel);
 *   exits_kernel, exits_user, kvm_runs, context_switches as counted; #NM and reallocations of
 *     host and guest fpstates together.  Initial components are not counted (0).
 * NULL @c gives zero counts.
 */
VX_API void vx_eval_cost_counts_from_eval(const struct vx_eval_counters *c, uint64_t operations,
					  struct vx_eval_cost_counts *out);

/* ----------------------------------------------------------------------------------------- */
/* Calibration on this machine                                                                  */

#define VX_CAL_WHY_MAX 160

/**
 * struct vx_eval_cal_init - the init-optimization claim for one instruction: the median time
 * with RFBM = the base components (x87, SSE) in use (@base_ns), with the extra components in
 * RFBM too but in their initial configuration (@init_ns), and in use (@in_use_ns); per extra
 * component: @init_per_component_ns = (init - base) / n and @in_use_per_component_ns =
 * (in use - base) / n.  @measured false with @why when it could not run here.
 */
struct vx_eval_cal_init {
	bool measured;
	char why[VX_CAL_WHY_MAX];
	double base_ns;
	double init_ns;
	double in_use_ns;
	double init_per_component_ns;
	double in_use_per_component_ns;
};

/** The instructions the init claim is measured for (XSAVE has no init optimization). */
enum vx_eval_cal_insn {
	VX_CAL_XSAVE = 0,
	VX_CAL_XSAVEOPT,
	VX_CAL_XSAVEC,
	VX_CAL_XRSTOR,
	VX_CAL_XSAVES, /* CPL0 only: never measured in user mode */
	VX_CAL_INSN_COUNT
};

/** "XSAVE64", "XSAVEOPT64", "XSAVEC64", "XRSTOR64", "XSAVES64"; NULL if out of range. */
VX_API const char *vx_eval_cal_insn_name(enum vx_eval_cal_insn insn);

/** One measured latency: @ns, or @measured false with @why. */
struct vx_eval_cal_value {
	bool measured;
	char why[VX_CAL_WHY_MAX];
	double ns;
};

/**
 * struct vx_eval_calibration - what vx_eval_calibrate() measured.
 * @cpu:        the CPU's brand string.  @xcr0: XCR0 here.
 * @base_mask, @extra_mask: the components of the init claim (extra: XCR0's user components
 *              beyond x87 and SSE that user mode can load safely: AVX, opmask, ZMM_Hi256,
 *              Hi16_ZMM; never PKRU, MPX or XFD-gated AMX).  @extra_count: popcount.
 * @samples:    samples per median.
 * @init:       the claim per instruction.
 * @xsave_insn_ns, @xsave_byte_ns, @xrstor_insn_ns, @xrstor_byte_ns: the XSAVEC / XRSTOR fit
 *              (fixed part and slope over the extra components' bytes).
 * @kvm_run:    KVM_RUN round trip with one OUT exit of a minimal real-mode guest.
 * @kvm_ioctl:  KVM_CHECK_EXTENSION on the VM descriptor.
 * @syscall:    getppid().  @realloc: mmap+copy+munmap of 12 KiB.
 * @handoff:    one hand-off of a pipe ping-pong between two processes on one CPU (will-it-scale
 *              context_switch1), and @switch_rest: that minus this CPU's own XSAVEC+XRSTOR
 *              of its in-use state (what the kernel saves and restores there).
 */
struct vx_eval_calibration {
	char cpu[64];
	uint64_t xcr0;
	uint64_t base_mask;
	uint64_t extra_mask;
	unsigned extra_count;
	unsigned samples;
	struct vx_eval_cal_init init[VX_CAL_INSN_COUNT];
	struct vx_eval_cal_value xsave_insn, xsave_byte, xrstor_insn, xrstor_byte;
	struct vx_eval_cal_value kvm_run, kvm_ioctl, syscall, realloc, handoff, switch_rest;
};

/**
 * struct vx_eval_calibrate_options - @samples per median (0: 31), @skip_kvm, @skip_switch
 * (leave those unmeasured, e.g. in a quick test).
 */
struct vx_eval_calibrate_options {
	unsigned samples;
	bool skip_kvm;
	bool skip_switch;
};

/**
 * vx_eval_calibrate() - measure on this machine what can be measured here (struct
 * vx_eval_calibration) and, if @table is not NULL, put every measured constant into it
 * (VX_COST_MEASURED, the source naming this CPU and the method).  What cannot run here stays
 * unmeasured with the reason (XSAVES is CPL0-only; no XSAVEC; no /dev/kvm...) and leaves its
 * constant as it was.  @options may be NULL.  Takes well under a second.
 * Return: 0; -ENOTSUP (with @err) off x86-64 Linux or without XSAVE/OSXSAVE, @cal then holding
 * only the reasons; -ENOMEM.
 */
VX_API int vx_eval_calibrate(struct vx_eval_cost_table *table,
			     const struct vx_eval_calibrate_options *options,
			     struct vx_eval_calibration *cal, struct vx_error *err);
/**
 * vx_eval_calibrate_with_platform() - vx_eval_calibrate() allocating the XSAVE areas and the
 * timing samples from @platform (NULL = vx_platform_default()); a failed allocation is -ENOMEM
 * with a reason and @table unchanged.
 */
VX_API int vx_eval_calibrate_with_platform(struct vx_eval_cost_table *table,
					   const struct vx_eval_calibrate_options *options,
					   const struct vx_platform *platform,
					   struct vx_eval_calibration *cal, struct vx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_EVAL_COST_H */
