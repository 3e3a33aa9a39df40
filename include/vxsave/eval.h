/* SPDX-License-Identifier: MIT */
/*
 * vxsave `eval` layer: the CET_S designs side by side on workloads (issue 9).
 *
 * One evaluation boots the fpu layer and the kvm module for one design on one CPU profile,
 * builds the workload's processes, threads, VMs and vCPUs on N model CPUs, and lets a
 * scheduler interleave them deterministically from a seed: host tasks are switched in
 * (switch_fpu), return to user mode and use their registers; vCPU threads run guest programs
 * inside KVM_RUN, are preempted, migrate and exit to KVM or to userspace.  Everything the
 * model CPUs do is counted (XSAVE* and XRSTOR* and the bytes they move, KVM's MSR accesses, VM
 * exits, #NM events, reallocations, fpstate memory), and integrity checks run at every step:
 * every task and guest reads back exactly what it last wrote, and no guest value reaches a
 * host task, another guest, a signal frame, ptrace output, or a register while a host task
 * runs in user mode.  A violation stops the run and says where.
 *
 * The results are plain data (struct vx_eval_result): the same profile, design, workload and
 * seed always give identical results.  The cost model, the CLI (`vxsave eval`) and the report
 * are built on them: every counter is also listed in a table (vx_eval_counter_at()) with its
 * name, unit and meaning, so a consumer can print or serialize them without knowing the
 * struct.  docs/eval.md describes the workloads, their text format, the counters and the
 * checks.
 */
#ifndef VXSAVE_EVAL_H
#define VXSAVE_EVAL_H

#include <vxsave/kvm_run.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/* Workloads                                                                                    */

/**
 * enum vx_eval_kind - the scheduling pattern of a workload (docs/eval.md "Workloads").
 * @VX_EVAL_CONTEXT_SWITCH: pairs of host tasks ping-pong on one CPU each (will-it-scale
 *                          context_switch1): every step hands pair p's CPU to its other task.
 * @VX_EVAL_VCPU_EXITS:     vCPU threads running guest programs that exit at a rate.
 * @VX_EVAL_MIXED:          host tasks and vCPU threads drawn at random onto the CPUs, with
 *                          preemption and migration.
 * @VX_EVAL_AMX:            as mixed, some tasks and guests using AMX (permission, first-use
 *                          #NM, reallocation).
 * @VX_EVAL_THREADS:        a process tree of many threads, each run once in turn (memory).
 */
enum vx_eval_kind {
	VX_EVAL_CONTEXT_SWITCH = 0,
	VX_EVAL_VCPU_EXITS,
	VX_EVAL_MIXED,
	VX_EVAL_AMX,
	VX_EVAL_THREADS,
	VX_EVAL_KIND_COUNT
};

/** "context-switch", "vcpu-exits", "mixed", "amx", "threads"; NULL if out of range. */
VX_API const char *vx_eval_kind_name(enum vx_eval_kind kind);
/** The kind called @name; -ENOENT if none. */
VX_API int vx_eval_kind_by_name(const char *name);

#define VX_EVAL_NAME_MAX 32
#define VX_EVAL_REG_MAX	 4 /* registers a task or a guest writes */
#define VX_EVAL_REGNAME	 16

/* Limits the text format and vx_eval_run() enforce. */
#define VX_EVAL_MAX_CPUS  64u
#define VX_EVAL_MAX_TASKS 200000u
#define VX_EVAL_MAX_VCPUS 1024u
#define VX_EVAL_MAX_VMS	  64u
#define VX_EVAL_MAX_SLICE 1000000u
#define VX_EVAL_GUEST_WIDTH                                                                        \
	64u /* a guest register holds at most 64 bytes (struct vx_kvm_guest_op) */

/**
 * struct vx_eval_workload - one workload: plain data, every field a key of the text format
 * (vx_eval_workload_parse(); the key is the field name with '-' for '_').
 * @kind:      the scheduling pattern.  @name: a label for reports (the kind's name by default).
 * @cpus:      model CPUs (1..64).
 * @tasks:     host (non-vCPU) tasks that run user code; context-switch: 2 per pair.
 * @processes: processes the tasks are spread over, round robin (0: one per task).  The first
 *             @vms processes are the VMMs; a process without a task has an idle leader.
 * @vcpus:     vCPU threads, vCPU i in VM i % @vms.  @vms: VMs, each its own VMM process.
 * @steps:     scheduler steps: a hand-off (host task) or a time slice (vCPU thread).
 * @slice:     guest instructions per time slice of a vCPU thread.
 * @exit_every: every @exit_every-th guest instruction exits (0: never).
 * @kernel_exits: percent of those exits handled in KVM (XSETBV); the rest return to
 *             userspace (OUT).  Spread evenly: exit x is in KVM iff
 *             floor((x+1)·p/100) > floor(x·p/100).
 * @guest_shstk: the guest kernel uses supervisor shadow stacks: CR4.CET, S_CET and a
 *             PL0_SSP write at boot, and a PL0_SSP read (checked) and write on its own context
 *             switches.
 * @guest_switch_every: guest instructions between the guest kernel's context switches (0 or
 *             >= 2).
 * @migrate:   percent of steps that put the entity on a random CPU instead of its last one.
 * @amx_tasks: the first @amx_tasks tasks use AMX (ARCH_REQ_XCOMP_PERM, first use: #NM, realloc,
 *             then tilecfg and tmm0 as registers).
 * @amx_vcpus: the first @amx_vcpus vCPUs' guests use AMX (the VMM asks ARCH_REQ_XCOMP_GUEST_PERM,
 *             KVM_SET_CPUID2 grows the guest fpstate; the guest arms XFD, takes the #NM,
 *             disarms, then uses tilecfg).
 * @task_regs, @ntask_regs: registers each task (and each VMM thread after an exit to
 *             userspace) reads back and writes at every step: xmm, ymmh, k, zmmh, zmm, tmm, r16+
 *             registers.
 * @guest_regs, @nguest_regs: registers the guest's user code reads back and writes (<= 64 B).
 * @deep_check_every: the signal-frame and ptrace checks run at every @deep_check_every-th
 *             return to user mode (1: every one; 0: never).  The register checks always run.
 */
struct vx_eval_workload {
	enum vx_eval_kind kind;
	char name[VX_EVAL_NAME_MAX];
	unsigned cpus;
	unsigned tasks;
	unsigned processes;
	unsigned vcpus;
	unsigned vms;
	uint64_t steps;
	unsigned slice;
	unsigned exit_every;
	unsigned kernel_exits;
	bool guest_shstk;
	unsigned guest_switch_every;
	unsigned migrate;
	unsigned amx_tasks;
	unsigned amx_vcpus;
	unsigned ntask_regs;
	char task_regs[VX_EVAL_REG_MAX][VX_EVAL_REGNAME];
	unsigned nguest_regs;
	char guest_regs[VX_EVAL_REG_MAX][VX_EVAL_REGNAME];
	unsigned deep_check_every;
};

/**
 * vx_eval_workload_builtin() - the built-in workload @name (a kind name) with its defaults
 * (docs/eval.md lists them).  -ENOENT naming the known names.
 */
VX_API int vx_eval_workload_builtin(const char *name, struct vx_eval_workload *workload,
				    struct vx_error *err);
/**
 * vx_eval_workload_parse() - a workload from text: '#' comments, blank lines, one "key value"
 * a line; the first key must be "workload KIND", which loads that kind's defaults; every
 * other key overrides one field (names: vx_eval_workload_format()).  Numbers are decimal or
 * 0x hex, percentages may end in '%', booleans are yes/no/true/false/on/off/1/0, register
 * lists are comma-separated.  The result is checked with vx_eval_workload_check().  -EINVAL
 * with @err naming the line (err->line) and the word; @workload is unchanged on failure.
 */
VX_API int vx_eval_workload_parse(const char *text, size_t len, struct vx_eval_workload *workload,
				  struct vx_error *err);
/**
 * vx_eval_workload_format() - @workload as text vx_eval_workload_parse() reads back to the same
 * struct: "workload KIND" then every key.  snprintf semantics: returns the length needed.
 */
VX_API size_t vx_eval_workload_format(const struct vx_eval_workload *workload, char *buf,
				      size_t len);
/**
 * vx_eval_workload_check() - the rules every workload obeys (limits above; context-switch: an
 * even number of tasks and no vCPUs; vCPUs need VMs and at most 64 per VM; amx counts within
 * the task and vCPU counts; guest_switch_every 0 or >= 2; known, writable registers).
 * -EINVAL naming the field.  Profile-dependent checks (a register the CPU lacks) happen in
 * vx_eval_run().
 */
VX_API int vx_eval_workload_check(const struct vx_eval_workload *workload, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* Results                                                                                      */

/**
 * struct vx_eval_counters - what one phase cost, summed over every task, guest and vCPU.
 * XSAVE family (from the fpu layer's counters, struct vx_fpu_counters): "host" is every task's
 * own fpstate (non-vCPU threads and VMM threads), "guest" every guest fpstate.  Bytes are those
 * the model processor wrote or read: 64 header bytes plus every component whose XSTATE_BV bit
 * the instruction set (save) or read (restore), so XSAVES' init optimization shows (a component
 * in its initial configuration costs no bytes).
 * KVM's MSR accesses of PL0-2_SSP by the kvm-* designs (struct vx_kvm_design_counters), the
 * guest's own RDMSR/WRMSR (executed by the processor, or intercepted: an exit to KVM), exits
 * and the scheduler's events are counted by the evaluation.  vx_eval_counter_at() describes
 * every field.
 */
struct vx_eval_counters {
	uint64_t steps;
	uint64_t context_switches;
	uint64_t migrations;
	uint64_t preemptions;
	uint64_t returns_to_user;
	uint64_t host_xsaves;
	uint64_t host_xrstors;
	uint64_t host_bytes_saved;
	uint64_t host_bytes_restored;
	uint64_t guest_xsaves;
	uint64_t guest_xrstors;
	uint64_t guest_bytes_saved;
	uint64_t guest_bytes_restored;
	uint64_t kvm_msr_reads;
	uint64_t kvm_msr_writes;
	uint64_t guest_msr_reads;
	uint64_t guest_msr_writes;
	uint64_t guest_msr_read_exits;
	uint64_t guest_msr_write_exits;
	uint64_t msr_write_intercepts;
	uint64_t guest_instructions;
	uint64_t kvm_runs;
	uint64_t exits_kernel;
	uint64_t exits_user;
	uint64_t vcpu_loads;
	uint64_t vcpu_puts;
	uint64_t user_return_notifiers;
	uint64_t host_nm_events;
	uint64_t guest_nm_events;
	uint64_t host_reallocs;
	uint64_t guest_reallocs;
	uint64_t design_losses;
};

/** struct vx_eval_counter_info - one counter: @name ("host_bytes_saved"), @unit, @meaning. */
struct vx_eval_counter_info {
	const char *name;
	const char *unit;
	const char *meaning;
	size_t offset; /* of the uint64_t in struct vx_eval_counters */
};

VX_API unsigned vx_eval_counter_count(void);
/** Row @index of the counter table (struct order), or NULL past the end. */
VX_API const struct vx_eval_counter_info *vx_eval_counter_at(unsigned index);
/** The value of counter @index in @counters (0 past the end). */
VX_API uint64_t vx_eval_counter_value(const struct vx_eval_counters *counters, unsigned index);

/**
 * struct vx_eval_memory - fpstate memory at the end of the run (register images, bytes).
 * @host_threads: non-vCPU threads (tasks, VMM leaders and idle leaders); @vcpus: vCPUs.
 * @host_thread_min, @host_thread_max: one non-vCPU thread's fpstate (min: the kernel's default
 *             size, what every thread costs; max: with AMX grown, if any).
 * @vcpu_fpstate: one vCPU's guest fpstate (the largest, AMX guests included).
 * @vcpu_kvm_copy: bytes KVM keeps per vCPU for PL0-2_SSP outside XSAVE (24 in the kvm-*
 *             designs, 0 where CET_S is XSAVE-managed or absent).
 * @vcpu_thread: the fpstate of a vCPU thread itself (its task, outside KVM_RUN).
 * @total, @peak: every fpstate of every thread and guest plus KVM's copies: at the end, and
 *             the largest total seen at any step (setup included).
 */
struct vx_eval_memory {
	uint64_t host_threads;
	uint64_t vcpus;
	uint64_t host_thread_min;
	uint64_t host_thread_max;
	uint64_t vcpu_fpstate;
	uint64_t vcpu_kvm_copy;
	uint64_t vcpu_thread;
	uint64_t total;
	uint64_t peak;
};

/**
 * enum vx_eval_outcome - how an evaluation ended (vx_eval_run()'s return value).
 * @VX_EVAL_PASS:        every check held.
 * @VX_EVAL_DESIGN_LOSS: a FINDING, not a checker failure: the design lost guest values by
 *                       construction (kvm-user-return: a vCPU resumed on another CPU before
 *                       the old CPU's user-return notifier saved its newest PL0-2_SSP), each
 *                       loss counted by the kvm layer itself and matched to a guest read of
 *                       its own older value; every other check held.
 * @VX_EVAL_VIOLATION:   an integrity check failed: @violation says where; the run stopped.
 */
enum vx_eval_outcome { VX_EVAL_PASS = 0, VX_EVAL_DESIGN_LOSS, VX_EVAL_VIOLATION };

VX_API const char *vx_eval_outcome_name(enum vx_eval_outcome outcome);

/**
 * enum vx_eval_check - which integrity check (docs/eval.md "Integrity").
 * @VX_EVAL_CHECK_GUEST_STATE:  a guest read a register back and it was not what it last wrote.
 * @VX_EVAL_CHECK_HOST_STATE:   a host task (or VMM thread) read back a different value.
 * @VX_EVAL_CHECK_CROSS_GUEST:  a guest read a value another guest wrote.
 * @VX_EVAL_CHECK_MSR:          PL0-2_SSP of a CPU held a guest value while a host task ran
 *                              in user mode (or, when no guest value: not the host's 0).
 * @VX_EVAL_CHECK_REGISTERS:    a CPU's user registers held a guest value while a host task ran
 *                              in user mode.
 * @VX_EVAL_CHECK_FPSTATE:      a host task's fpstate held a guest value.
 * @VX_EVAL_CHECK_SIGFRAME:     the signal frame a host task would get held a guest value.
 * @VX_EVAL_CHECK_PTRACE:       NT_X86_XSTATE of a host task held a guest value.
 * @VX_EVAL_CHECK_GUEST_EVENT:  a guest instruction raised an exception the program does not
 *                              expect.
 */
enum vx_eval_check {
	VX_EVAL_CHECK_NONE = 0,
	VX_EVAL_CHECK_GUEST_STATE,
	VX_EVAL_CHECK_HOST_STATE,
	VX_EVAL_CHECK_CROSS_GUEST,
	VX_EVAL_CHECK_MSR,
	VX_EVAL_CHECK_REGISTERS,
	VX_EVAL_CHECK_FPSTATE,
	VX_EVAL_CHECK_SIGFRAME,
	VX_EVAL_CHECK_PTRACE,
	VX_EVAL_CHECK_GUEST_EVENT,
	VX_EVAL_CHECK_COUNT
};

VX_API const char *vx_eval_check_name(enum vx_eval_check check);

#define VX_EVAL_HISTORY 8
#define VX_EVAL_TEXT	256

/**
 * struct vx_eval_violation - the first failed check: the run stopped there.
 * @check:    which check.  @step: the scheduler step (0-based; with the seed, the event
 *            sequence that reproduces it).  @seed: the run's seed.  @design: its design.
 * @reg:      the register whose value leaked or was lost ("pl0_ssp", "xmm1").
 * @owner:    whose value it was ("vCPU 2", "task 5").
 * @where:    where it was seen ("CPU 1 IA32_PL0_SSP while task 3 runs in user mode",
 *            "task 3's signal frame at byte 0x340 (component 12)").
 * @expected, @observed: the first 8 bytes of what should and did appear.
 * @text:     one sentence with all of that.
 * @history:  the last steps before it, oldest first (@nhistory of them), one line each.
 */
struct vx_eval_violation {
	enum vx_eval_check check;
	uint64_t step;
	uint64_t seed;
	enum vx_kvm_cet_design design;
	char reg[VX_EVAL_REGNAME];
	char owner[VX_EVAL_NAME_MAX];
	char where[160];
	uint64_t expected;
	uint64_t observed;
	char text[VX_EVAL_TEXT];
	unsigned nhistory;
	char history[VX_EVAL_HISTORY][128];
};

/**
 * struct vx_eval_loss - the design's own losses (VX_EVAL_DESIGN_LOSS): @count guest reads that
 * found an older value of the guest's own after a loss the kvm layer counted, and the first:
 * @step, @vcpu, @reg, @expected (last written), @observed (what the guest got back).
 */
struct vx_eval_loss {
	uint64_t count;
	uint64_t step;
	unsigned vcpu;
	char reg[VX_EVAL_REGNAME];
	uint64_t expected;
	uint64_t observed;
};

/**
 * struct vx_eval_result - one evaluation, plain data (no pointers): what the cost model, the
 * CLI table, JSON and the report read.
 * @profile:   the profile's name.  @design, @workload (as run), @seed.
 * @flavour:   the KVM flavour the run used (VMX on Intel, SVM on AMD unless overridden).
 * @shstk_offered: guests had SHSTK (the design and the profile allow supervisor shadow stacks;
 *             false in "unsupported" or on a CPU without CET).
 * @amx_available: AMX permission was granted (false on a CPU without AMX: the amx users then
 *             run without it, as a program would after ARCH_REQ_XCOMP_PERM failed).
 * @host_default_bytes, @guest_default_bytes: the fpu layer's default fpstate sizes (kernel
 *             default_size and guest_default_cfg.size) for this design.
 * @setup:     what building the processes, threads, VMs and vCPUs cost.
 * @run:       what the steps cost: the numbers to compare.
 * @memory:    fpstate memory.
 * @outcome, @violation (when VX_EVAL_VIOLATION), @losses (the design's, any outcome).
 * @fault_step: the step at which a planted fault (struct vx_eval_options) fired, or UINT64_MAX.
 */
struct vx_eval_result {
	char profile[VX_EVAL_NAME_MAX * 2];
	enum vx_kvm_cet_design design;
	struct vx_eval_workload workload;
	uint64_t seed;
	enum vx_kvm_flavour flavour;
	bool shstk_offered;
	bool amx_available;
	uint32_t host_default_bytes;
	uint32_t guest_default_bytes;
	struct vx_eval_counters setup;
	struct vx_eval_counters run;
	struct vx_eval_memory memory;
	enum vx_eval_outcome outcome;
	struct vx_eval_violation violation;
	struct vx_eval_loss losses;
	uint64_t fault_step;
};

/* ----------------------------------------------------------------------------------------- */
/* Running                                                                                      */

/**
 * struct vx_eval_options - how to run (NULL: every default).
 * @platform:  allocation (NULL: vx_platform_default()).
 * @flavour_auto: pick VMX on Intel, SVM on AMD (default); otherwise @flavour (with its quirks).
 * @fault, @fault_at: TEST-ONLY fault injection in the kvm layer (struct vx_kvm_options): the
 *             checker's tests plant a leak or a lost save and expect a violation.
 * @progress:  called every @progress_every steps (and at the end) with (ctx, done, total);
 *             NULL: never.
 */
struct vx_eval_options {
	const struct vx_platform *platform;
	bool flavour_auto;
	enum vx_kvm_flavour flavour;
	enum vx_kvm_fault fault;
	unsigned fault_at;
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	uint64_t progress_every;
};

/** Defaults: platform NULL, flavour_auto, no fault, no progress. */
VX_API void vx_eval_options_init(struct vx_eval_options *options);

/**
 * vx_eval_run() - evaluate @design on @profile with @workload from @seed: boot, set up,
 * @workload->steps scheduler steps with every check, counters and memory into @result (zeroed
 * first).  Returns the outcome (>= 0: VX_EVAL_PASS, VX_EVAL_DESIGN_LOSS, VX_EVAL_VIOLATION)
 * or a negative errno with @err naming the problem and @result zeroed: -EINVAL (a workload
 * that fails vx_eval_workload_check(), a design out of range, a register or component the
 * profile lacks), -ENOMEM, or -EIO for a setup step the model refused (the reason is the
 * layer's).  Deterministic: the same arguments give byte-identical results.
 */
VX_API int vx_eval_run(const struct vx_profile *profile, enum vx_kvm_cet_design design,
		       const struct vx_eval_workload *workload, uint64_t seed,
		       const struct vx_eval_options *options, struct vx_eval_result *result,
		       struct vx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_EVAL_H */
