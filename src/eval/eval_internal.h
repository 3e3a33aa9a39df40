/* SPDX-License-Identifier: MIT */
/*
 * eval layer internals (issue 9): the world one evaluation builds (fpu system, machine, kvm
 * module, processes, threads, VMs, vCPUs), its entities (what the scheduler picks: a host task
 * or a vCPU thread), the guest programs, the value tags the integrity checks look for, and
 * the counters.  One concept per file:
 *   workload.c  the built-in workloads, the text format, the rules
 *   world.c     building and tearing down the world
 *   sched.c     the scheduler: one step, the kinds' patterns, the run loop
 *   host.c      a host task in user mode (and a VMM thread after an exit to userspace)
 *   guest.c     the guest programs, one instruction at a time
 *   check.c     value tags and the integrity checks
 *   counters.c  the counter table, sums over the world, memory
 *   run.c       vx_eval_run()
 */
#ifndef VXSAVE_SRC_EVAL_INTERNAL_H
#define VXSAVE_SRC_EVAL_INTERNAL_H

#include <errno.h>
#include <string.h>

#include <vxsave/eval.h>

/* ----------------------------------------------------------------------------------------- */
/* Tags: every value a task or a guest writes says whose it is (check.c)                         */

/*
 * A guest value (CET_S or a guest register lane): a canonical, 8-byte aligned user address, so
 * it is a valid PL0_SSP (arch.md §7.2), with marker 0x7E in bits 47:40, the vCPU + 1 in 39:28,
 * what it is in 27:24 (EV_CODE_*) and a sequence number in 23:3.  A host value has 0xA5 in
 * bits 63:56, so no host value is ever mistaken for a guest's.
 */
#define EV_GUEST_MARKER UINT64_C(0x7E)
#define EV_HOST_MARKER	UINT64_C(0xA5)
#define EV_SEQ_MASK	0x1FFFFFu /* guest sequence numbers wrap at 21 bits (0 = never written) */

enum ev_code {
	EV_CODE_PL0 = 0, /* pl0_ssp, pl1_ssp, pl2_ssp: 0..2 */
	EV_CODE_REG = 3, /* guest register slot 0..3: 3..6 */
	EV_CODE_TILECFG = 7,
	EV_CODE_COUNT = 8
};

uint64_t ev_guest_tag(unsigned vcpu, unsigned code, uint32_t seq);
/* Whether @v is a guest tag; if so its vCPU, code and sequence number. */
bool ev_tag_decode(uint64_t v, unsigned *vcpu, unsigned *code, uint32_t *seq);
/* A host value lane: @entity's register @slot, lane @lane, sequence @seq (0 = never written). */
uint64_t ev_host_lane(unsigned entity, unsigned slot, unsigned lane, uint32_t seq);
/* The bytes a register holds after a write of sequence @seq (0: the initial zeros). */
void ev_host_value(unsigned entity, unsigned slot, uint32_t seq, uint8_t *buf, size_t width);
void ev_guest_value(unsigned vcpu, unsigned code, uint32_t seq, uint8_t *buf, size_t width);
/* The first guest tag in @bytes (8-byte steps at 4-byte alignment): its offset, or -1. */
long ev_find_guest_tag(const uint8_t *bytes, size_t len, uint64_t *tag);
/* "vCPU 2's pl0_ssp" for a tag. */
void ev_tag_owner(uint64_t tag, const char *const *guest_regs, char *reg, size_t reglen,
		  char *owner, size_t ownerlen);

/* ----------------------------------------------------------------------------------------- */
/* The world                                                                                    */

/* The kvm-* designs keep PL0-2_SSP in the vCPU: three 8-byte MSRs (kvm.md §6.4), the bytes
 * the CET_S component takes in an fpstate (linux-fpu.md §1). */
#define EV_KVM_COPY_BYTES 24u

/* AMX: XTILECFG and XTILEDATA, used together (arch.md §3.1). */
#define EV_AMX_MASK (VX_BIT(VX_COMP_XTILECFG) | VX_BIT(VX_COMP_XTILEDATA))

#define EV_HOST_SLOTS (VX_EVAL_REG_MAX + 2) /* task_regs, then tilecfg and tmm0 for AMX */

enum ev_entity_kind { EV_TASK = 0, EV_VCPU_THREAD };

/* The guest's AMX first use (kvm.md §6.5): arm XFD at boot, #NM, disarm, use. */
enum ev_amx_state { EV_AMX_ARMED = 0, EV_AMX_NM_TAKEN, EV_AMX_DISARMED, EV_AMX_READY };

#define EV_BOOT_MAX 8

struct ev_vcpu {
	unsigned index;
	unsigned vm;
	struct vx_kvm_vcpu *vcpu;
	/* The program: one instruction at a time in ops[0] (ops[1] never runs), so that every
	 * instruction's result is checked (guest.c). */
	struct vx_kvm_guest_op ops[2];
	struct vx_kvm_run run;
	struct vx_kvm_guest_op boot[EV_BOOT_MAX];
	unsigned nboot, boot_pc;
	bool shstk;
	bool amx;
	enum ev_amx_state amx_state;
	uint64_t xcr0;
	uint64_t k; /* steady-state instructions done */
	uint64_t work;
	uint32_t pl0_seq;
	uint64_t pl0_expect;
	uint64_t lost_seen; /* the kvm layer's loss count when pl0_expect was last set */
	unsigned nregs;
	const struct vx_reg_info *regs[VX_EVAL_REG_MAX + 1];
	unsigned codes[VX_EVAL_REG_MAX + 1];
	uint32_t reg_seq[VX_EVAL_REG_MAX + 1];
	uint64_t vm_exits_seen;
};

struct ev_entity {
	enum ev_entity_kind kind;
	unsigned index; /* in the world's entity array; the owner number in host tags */
	struct vx_fpu_task *task;
	struct ev_vcpu *vcpu;
	int cpu;       /* the CPU it last ran on, -1 before its first step */
	unsigned home; /* where it runs when it does not migrate */
	bool amx;
	bool amx_started;
	uint32_t seq[EV_HOST_SLOTS];
	uint64_t bytes;	    /* fpstate memory last counted */
	unsigned pair_next; /* context-switch: which task of pair (index / 2) runs next */
};

/* One line of history per step (rendered only for a violation). */
struct ev_hist {
	uint64_t step;
	unsigned entity;
	unsigned cpu;
	uint32_t instructions;
	uint32_t exits_user;
};

struct ev_world {
	const struct vx_platform *pf;
	const struct vx_eval_workload *wl;
	struct vx_eval_result *res;
	enum vx_kvm_cet_design design;
	uint64_t seed, rng;
	uint64_t step;

	struct vx_fpu_system *sys;
	struct vx_fpu_machine *machine;
	struct vx_kvm *kvm;
	unsigned ncpus;

	/* Every thread (for the sums), the entities the scheduler picks, the vCPUs, the VMs. */
	struct vx_fpu_task **threads;
	unsigned nthreads, threads_cap;
	struct ev_entity *ents;
	unsigned nents, ntasks_ent;
	struct ev_vcpu *vcpus;
	unsigned nvcpus;
	struct vx_kvm_vm *vms[VX_EVAL_MAX_VMS];
	struct vx_fpu_task *vmm[VX_EVAL_MAX_VMS];
	int cpu_entity[VX_EVAL_MAX_CPUS];

	/* Registers: the tasks' (resolved once), the guests' names (for messages). */
	unsigned ntask_regs;
	const struct vx_reg_info *task_regs[VX_EVAL_REG_MAX];
	const struct vx_reg_info *amx_regs[2]; /* tilecfg, tmm0 */
	const char *guest_reg_names[EV_CODE_COUNT];
	bool kvm_copy;

	/* Scratch for the checks: the CPU image, a signal frame, a ptrace regset. */
	uint8_t *scratch;
	size_t scratch_len;
	uint64_t user_returns; /* for deep_check_every */
	/* The standard-format place of each user component (linux-fpu.md §2.3, from the fpu
	 * system's xstate cache once at build), so the register check images and scans only the
	 * components in use. */
	uint64_t std_user;
	uint32_t std_offset[VX_FPU_XFEATURE_MAX];
	uint32_t std_size[VX_FPU_XFEATURE_MAX];

	struct vx_eval_counters c; /* what the evaluation counts itself */
	uint64_t mem_total;
	uint64_t violations;
	struct ev_hist hist[VX_EVAL_HISTORY]; /* a ring: the oldest at hist_head */
	unsigned nhist, hist_head;
	bool fault_armed;
};

/* world.c */
int ev_world_build(struct ev_world *w, const struct vx_profile *profile,
		   const struct vx_eval_options *opts, struct vx_error *err);
void ev_world_destroy(struct ev_world *w);
uint64_t ev_rand(struct ev_world *w);
void *ev_alloc(const struct ev_world *w, size_t size);
void ev_free(const struct ev_world *w, void *p);

/* sched.c */
int ev_run_steps(struct ev_world *w, const struct vx_eval_options *opts, struct vx_error *err);
/* Put @e's thread on @cpu through the host scheduler (counting switches, migrations,
 * preemptions); the thread is then current there, in the kernel. */
int ev_sched(struct ev_world *w, struct ev_entity *e, unsigned cpu, struct vx_error *err);

/* host.c */
int ev_host_step(struct ev_world *w, struct ev_entity *e, struct vx_error *err);
/* The thread of @e is in user mode on its CPU: the checks, then new values. */
int ev_user_mode(struct ev_world *w, struct ev_entity *e, struct vx_error *err);

/* guest.c */
int ev_guest_setup(struct ev_world *w, struct ev_vcpu *v, struct vx_error *err);
int ev_vcpu_slice(struct ev_world *w, struct ev_entity *e, unsigned cpu, struct vx_error *err);

/* check.c: each returns 1 after recording a violation (the run stops), 0 if all held. */
int ev_violation(struct ev_world *w, enum vx_eval_check check, const char *reg, const char *owner,
		 uint64_t expected, uint64_t observed, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 7, 8)))
#endif
    ;
int ev_check_host_view(struct ev_world *w, struct ev_entity *e, struct vx_error *err);
void ev_history_add(struct ev_world *w, const struct ev_hist *h);
/* The newest history line (the step being run). */
struct ev_hist *ev_history_last(struct ev_world *w);
/* Where byte @off of an fpstate image (@compacted with @xcomp_bv, or standard) lies. */
void ev_locate(const struct ev_world *w, bool compacted, uint64_t xcomp_bv, long off, char *buf,
	       size_t len);

/* counters.c */
void ev_counters_sum(const struct ev_world *w, struct vx_eval_counters *out);
void ev_counters_sub(struct vx_eval_counters *a, const struct vx_eval_counters *b);
uint64_t ev_entity_bytes(const struct ev_world *w, const struct ev_entity *e);
void ev_memory_track(struct ev_world *w, struct ev_entity *e);
void ev_memory_final(const struct ev_world *w, struct vx_eval_memory *m);

/* workload.c: a register the lists may name (xmm, ymmh, k, zmmh, zmm, r16-r31). */
const struct vx_reg_info *ev_writable_reg(const char *name);

#endif /* VXSAVE_SRC_EVAL_INTERNAL_H */
