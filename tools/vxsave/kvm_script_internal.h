/* SPDX-License-Identifier: MIT */
/*
 * Inside the kvm statements (kvm_script.h): the payload every kvm statement carries, the
 * kinds that read its words (kvm_script_kinds.c), the backend that sends the VMM-side calls to
 * the model or to the real /dev/kvm (kvm_script_backend.c), and one run handler per row by
 * subject: module, VMs, vCPUs and their registers (kvm_script_vmm.c), guest programs, KVM_RUN
 * and the host scheduler (kvm_script_guest.c), print and expect (kvm_script_expect.c).  The
 * table itself is kvm_script_table.c.  Reference: docs/kvm-script.md.
 */
#ifndef VXSAVE_CLI_KVM_SCRIPT_INTERNAL_H
#define VXSAVE_CLI_KVM_SCRIPT_INTERNAL_H

#include "fpu_script_internal.h"
#include "kvm_script.h"

#define KS_MSRS_MAX  16u
#define KS_EDITS_MAX 16u
/* The FILE of `kvm save`, its terminating NUL included. */
#define KS_PATH_MAX 256u

/* Facts of this table (above the fpu table's bits). */
enum {
	KS_FACT_RESULT = 1u << 12, /* a call with a result ran: `kvm expect result` may follow */
};

/* `kvm module` options (the module parameters and VMX capabilities of kvm.md §1.3). */
struct ks_module {
	int flavour; /* enum vx_kvm_flavour + 1; 0 = not given */
	bool no_tdp;
	bool allow_smaller_maxphyaddr;
	bool ignore_msrs;
	bool no_quirks;
	bool no_vmx_load_cet;
	bool no_vmx_xsaves;
	unsigned count;
};

/* One change to a CPUID list before KVM_SET_CPUID2 (`kvm cpuid VCPU BASE EDIT...`). */
enum ks_edit_kind {
	KS_EDIT_CLEAR_FEATURE,
	KS_EDIT_SET_FEATURE,
	KS_EDIT_SET,
	KS_EDIT_OR,
	KS_EDIT_AND
};

struct ks_edit {
	enum ks_edit_kind kind;
	unsigned feature;
	uint32_t leaf, subleaf;
	unsigned reg; /* enum vx_cpuid_reg */
	uint32_t value;
};

struct ks_edits {
	unsigned count;
	struct ks_edit e[KS_EDITS_MAX];
};

/* MSRs of `kvm msr get` (indices) and `kvm msr set` (index=value pairs). */
struct ks_msrs {
	uint32_t count;
	struct vx_kvm_msr_entry e[KS_MSRS_MAX];
};

/* A CPUID (leaf, subleaf) written LEAF[.SUB]. */
struct ks_leaf {
	uint32_t leaf;
	uint32_t subleaf;
};

/* `kvm guest VCPU OP OPERANDS... [cpl N]`: the op word, then the operands read into @insn. */
struct ks_guest {
	uint64_t op;
	unsigned words;
	bool cpl_next;
	bool cpl_given;
	struct vx_kvm_guest_op insn;
};

/* A guest event to expect: none, or an exception (and its error code). */
struct ks_event {
	bool none;
	struct sg_fault fault;
};

/**
 * struct ks_stmt - the payload of every kvm statement; each row's arguments store into the
 * fields it names, the rest stay zero.
 * @name:   the vCPU, VM, task or source the statement is about; @other: a second name (the
 *          VM of a new vCPU, a buffer, a task); @task: `by TASK` / the creating thread.
 * @number: an id, a CPU; @budget: `budget N`; @value, @select: numbers; @option: a choice.
 * @path:   a file (`kvm save`).
 */
struct ks_stmt {
	char name[FPU_SCRIPT_NAME_MAX];
	char other[FPU_SCRIPT_NAME_MAX];
	char task[FPU_SCRIPT_NAME_MAX];
	uint32_t number;
	uint32_t budget;
	uint32_t group;
	uint64_t value;
	uint64_t select;
	uint64_t option;
	long long result;
	bool on, has_budget, by, has_select, flag;
	struct ks_module module;
	struct ks_edits edits;
	struct ks_msrs msrs;
	struct ks_leaf leaf;
	struct ks_guest guest;
	struct ks_event event;
	struct sg_bytes bytes;
	struct fs_at at;
	uint64_t width;
	unsigned present;
	char path[KS_PATH_MAX];
};

#define KS_AT(field)	    SG_AT(struct ks_stmt, field)
#define KS_STMT(stmt)	    ((const struct ks_stmt *)(stmt)->payload)
#define KS_CONTEXT(context) ((struct kvm_script_context *)(context))
#define KS_RUN(name)	    int name(struct sg_runner *r, void *context, const struct sg_stmt *stmt)

/* ----------------------------------------------------------------------------------------- */
/* kvm_script_kinds.c: words                                                                    */

extern const struct sg_choice ks_cpuid_bases[], ks_cpuid_regs[], ks_exits[], ks_counters[],
    ks_yes_no[], ks_caps[];
extern const struct sg_kind ks_kind_module;  /* REPEAT: vmx|svm|pvm, no_tdp, ... */
extern const struct sg_kind ks_kind_edit;    /* REPEAT: -FEAT, +FEAT, LEAF.SUB.REG=VALUE */
extern const struct sg_kind ks_kind_msr;     /* REPEAT: MSR names, guest_ssp, numbers */
extern const struct sg_kind ks_kind_msr_set; /* REPEAT: MSR=VALUE */
extern const struct sg_kind ks_kind_one_reg; /* uint64_t: guest_ssp, an MSR, a raw id */
extern const struct sg_kind ks_kind_leaf;    /* struct ks_leaf: LEAF[.SUB] */
extern const struct sg_kind ks_kind_gop;     /* uint64_t: xsetbv, rdmsr, ... */
extern const struct sg_kind ks_kind_operand; /* REPEAT, into struct ks_guest */
extern const struct sg_kind ks_kind_event;   /* struct ks_event: none, #GP, #GP(0)... */
extern const struct sg_kind ks_kind_feature; /* uint64_t: a KVM feature name */
extern const struct sg_kind ks_kind_cap;     /* uint64_t: a KVM_CAP_* name or number */
extern const struct sg_kind ks_kind_result;  /* long long: a value or a KVM errno name */

/* Checks while parsing. */
/* The statements --real refuses while parsing (they need the model), one per statement. */
int ks_check_model_run(struct sg_parser *p, void *payload);
int ks_check_model_sched(struct sg_parser *p, void *payload);
int ks_check_model_return(struct sg_parser *p, void *payload);
int ks_check_model_caps(struct sg_parser *p, void *payload);
int ks_check_model_counters(struct sg_parser *p, void *payload);
int ks_check_model_exit(struct sg_parser *p, void *payload);
int ks_check_model_event(struct sg_parser *p, void *payload);
int ks_check_model_value(struct sg_parser *p, void *payload);
int ks_check_model_cap(struct sg_parser *p, void *payload);
int ks_check_model_counter(struct sg_parser *p, void *payload);
int ks_check_guest(struct sg_parser *p, void *payload);
int ks_check_module(struct sg_parser *p, void *payload);
int ks_check_present(struct sg_parser *p, void *payload);
int ks_check_xsave_set(struct sg_parser *p, void *payload);

/* Names. */
const char *ks_msr_name(uint32_t index, char *buf, size_t len);
const char *ks_reg_id_name(uint64_t id, char *buf, size_t len);
const char *ks_reg_name(unsigned reg);
/* " (x87|SSE|AVX)", or " (none)". */
const char *ks_mask_paren(uint64_t mask, char *buf, size_t len);
/* "xsetbv 0 0x7", "rdmsr IA32_XSS", "set xmm0 0x...": a guest instruction as written. */
void ks_format_gop(const struct vx_kvm_guest_op *op, char *buf, size_t len);

/* ----------------------------------------------------------------------------------------- */
/* kvm_script_backend.c: the VMM-side calls, on the model or on /dev/kvm                        */

/* Each returns >= 0 or a negative errno; @err has the model's reason (empty for the real). */
int kb_open(struct kvm_script_context *c, const struct ks_module *m, struct vx_error *err);
void kb_close(struct kvm_script_context *c);
int kb_check_extension(struct kvm_script_context *c, int fd, long cap, struct vx_error *err);
int kb_device_attr(struct kvm_script_context *c, uint32_t group, uint64_t attr, uint64_t *value,
		   struct vx_error *err);
int kb_prctl(struct kvm_script_context *c, uint64_t option, uint64_t arg, uint64_t *out,
	     struct vx_error *err);
int kb_supported_cpuid(struct kvm_script_context *c, bool emulated,
		       struct vx_kvm_cpuid_entry *entries, uint32_t *n, struct vx_error *err);
int kb_msr_list(struct kvm_script_context *c, bool features, uint32_t *indices, uint32_t *n,
		struct vx_error *err);
int kb_vm_create(struct kvm_script_context *c, struct vx_fpu_task *task, struct kvm_script_vm *vm,
		 struct vx_error *err);
int kb_vcpu_create(struct kvm_script_context *c, struct kvm_script_vm *vm,
		   struct kvm_script_vcpu *vcpu, struct vx_error *err);
int kb_set_cpuid(struct kvm_script_context *c, struct kvm_script_vcpu *v,
		 const struct vx_kvm_cpuid_entry *entries, uint32_t n, struct vx_error *err);
int kb_get_cpuid(struct kvm_script_context *c, struct kvm_script_vcpu *v,
		 struct vx_kvm_cpuid_entry *entries, uint32_t *n, struct vx_error *err);
int kb_get_xcrs(struct kvm_script_context *c, struct kvm_script_vcpu *v, struct vx_kvm_xcrs *xcrs,
		struct vx_error *err);
int kb_set_xcrs(struct kvm_script_context *c, struct kvm_script_vcpu *v,
		const struct vx_kvm_xcrs *xcrs, struct vx_error *err);
int kb_msrs(struct kvm_script_context *c, struct kvm_script_vcpu *v, bool write,
	    struct vx_kvm_msr_entry *entries, uint32_t n, struct vx_error *err);
int kb_one_reg(struct kvm_script_context *c, struct kvm_script_vcpu *v, bool write, uint64_t id,
	       uint64_t *value, struct vx_error *err);
int kb_reg_list(struct kvm_script_context *c, struct kvm_script_vcpu *v, uint64_t *ids, uint64_t *n,
		struct vx_error *err);
/* KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) on the vCPU's VM: the uABI buffer size (>= 4096). */
int kb_xsave_size(struct kvm_script_context *c, struct kvm_script_vcpu *v, struct vx_error *err);
int kb_xsave(struct kvm_script_context *c, struct kvm_script_vcpu *v, bool write, bool v2,
	     uint8_t *buf, size_t len, struct vx_error *err);
/* The vCPU read back as a VMM saves it (vx_vmm_save_vcpu through the calls above, so the
 * model and /dev/kvm alike) into @b, whose source the caller sets; the model's reason in @err. */
struct vx_vmm_bundle;
int kb_save(struct kvm_script_context *c, struct kvm_script_vcpu *v, const struct vx_profile *host,
	    struct vx_vmm_bundle *b, struct vx_error *err);
/* KVM_GET_SREGS / KVM_SET_SREGS of CR0 (@cr 0) or CR4 (@cr 4). */
int kb_cr(struct kvm_script_context *c, struct kvm_script_vcpu *v, bool write, unsigned cr,
	  uint64_t *value, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* kvm_script_vmm.c: shared helpers                                                             */

int ks_need_module(struct sg_runner *r, const struct kvm_script_context *c);
int ks_find_vcpu(struct sg_runner *r, struct kvm_script_context *c, const char *name,
		 struct kvm_script_vcpu **vcpu);
/* A call's outcome for `kvm expect result`; an error counts as a faulted operation. */
void ks_record(struct sg_runner *r, struct kvm_script_context *c, const char *what,
	       long long result);
/* "CALL = VALUE" or "CALL = -ERRNO (reason)"; @extra follows a success (may be NULL). */
void ks_print_outcome(struct sg_runner *r, const struct kvm_script_context *c, const char *call,
		      long long result, const struct vx_error *err, const char *extra);
/* A leaf whose sub-leaf KVM treats as significant (KVM_CPUID_FLAG_SIGNIFCANT_INDEX). */
bool ks_cpuid_indexed_leaf(uint32_t leaf);
/* Fill @entries with the CPUID `kvm cpuid` / `kvm expect cpuid` start from. */
int ks_cpuid_of(struct sg_runner *r, struct kvm_script_context *c, const char *who,
		struct vx_kvm_cpuid_entry *entries, uint32_t *n, long long *rc,
		struct vx_error *err);

KS_RUN(ks_run_module);
KS_RUN(ks_run_prctl);
KS_RUN(ks_run_check_extension);
KS_RUN(ks_run_device_attr);
KS_RUN(ks_run_msr_list);
KS_RUN(ks_run_vm);
KS_RUN(ks_run_vcpu);
KS_RUN(ks_run_cpuid);
KS_RUN(ks_run_xcr0);
KS_RUN(ks_run_cr);
KS_RUN(ks_run_msr_get);
KS_RUN(ks_run_msr_set);
KS_RUN(ks_run_one_reg_get);
KS_RUN(ks_run_one_reg_set);
KS_RUN(ks_run_one_reg_list);
KS_RUN(ks_run_xsave_get);
KS_RUN(ks_run_xsave_set);
KS_RUN(ks_run_save);

/* kvm_script_guest.c */
KS_RUN(ks_run_guest);
KS_RUN(ks_run_run);
KS_RUN(ks_run_sched);
KS_RUN(ks_run_return);

/* kvm_script_expect.c */
KS_RUN(ks_run_print_caps);
KS_RUN(ks_run_print_cpuid);
KS_RUN(ks_run_print_counters);
KS_RUN(ks_run_print_vcpu);
KS_RUN(ks_run_expect_result);
KS_RUN(ks_run_expect_exit);
KS_RUN(ks_run_expect_event);
KS_RUN(ks_run_expect_value);
KS_RUN(ks_run_expect_msr);
KS_RUN(ks_run_expect_xcr0);
KS_RUN(ks_run_expect_one_reg);
KS_RUN(ks_run_expect_cpuid);
KS_RUN(ks_run_expect_cap);
KS_RUN(ks_run_expect_counter);

#endif /* VXSAVE_CLI_KVM_SCRIPT_INTERNAL_H */
