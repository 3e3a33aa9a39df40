/* SPDX-License-Identifier: MIT */
/*
 * The kvm statements of the script language (`vxsave kvm SCRIPT`): a statement table for the
 * grammar engine (script_grammar.h) that cpu_script_options.extensions adds beside the cpu
 * and fpu statements, so one scenario mixes cpu, fpu and kvm lines.  The VMM side (module,
 * VMs, vCPUs, CPUID, XCRS, MSRs, ONE_REG, the XSAVE uABI, arch_prctl) goes to the model of
 * the kvm layer on the fpu statements' machine, or with --real to this machine's /dev/kvm
 * through the real backend of kvm_ioctl.h; guest programs, KVM_RUN and the host scheduler
 * run on the model only.  Documented in docs/kvm-script.md; the inside is
 * kvm_script_internal.h.
 */
#ifndef VXSAVE_CLI_KVM_SCRIPT_H
#define VXSAVE_CLI_KVM_SCRIPT_H

#include <vxsave/kvm_ioctl.h>
#include <vxsave/kvm_run.h>

#include "fpu_script.h"

#define KVM_SCRIPT_VMS_MAX   8u
#define KVM_SCRIPT_VCPUS_MAX 16u
/* Guest instructions one vCPU's program may hold. */
#define KVM_SCRIPT_OPS_MAX 4096u
/* CPUs `kvm module` boots when no `fpu machine` came first. */
#define KVM_SCRIPT_DEFAULT_CPUS 2u

/** A VM: the model's (and the VMM thread that created it), or the real one's descriptor. */
struct kvm_script_vm {
	char name[FPU_SCRIPT_NAME_MAX];
	struct vx_kvm_vm *vm;
	struct vx_fpu_task *task;
	int fd;
};

/**
 * A vCPU: the model's (or the real descriptor), the thread that created it and runs it by
 * default, and its guest program with where KVM_RUN is in it.
 */
struct kvm_script_vcpu {
	char name[FPU_SCRIPT_NAME_MAX];
	unsigned vm;
	unsigned id;
	struct vx_kvm_vcpu *vcpu;
	int fd;
	struct vx_fpu_task *task;
	struct vx_kvm_guest_op *ops;
	unsigned nops;
	struct vx_kvm_run run;
	int status; /* the last KVM_RUN's enum vx_kvm_run_status, -1 before the first */
};

/**
 * struct kvm_script_context - what the kvm statements run on.  Zero it, set @fpu (the fpu
 * statements' context: profile, machine, tasks, buffers), @design, @flavour and @real, and
 * call kvm_script_context_clear() before fpu_script_context_clear().
 * @flavour: enum vx_kvm_flavour, or -1 for the host vendor's (vmx on Intel, svm on AMD).
 */
struct kvm_script_context {
	struct fpu_script_context *fpu;
	const char *script; /* the script's name, for `kvm save`'s origin (NULL: "<script>") */
	enum vx_kvm_cet_design design;
	int flavour;
	bool real;
	/* the module: the model's, or the real /dev/kvm descriptor */
	bool loaded;
	struct vx_kvm *kvm;
	struct vx_fpu_task *vmm;
	struct vx_kvm_backend backend;
	int sys_fd;
	struct kvm_script_vm vms[KVM_SCRIPT_VMS_MAX];
	unsigned vm_count;
	struct kvm_script_vcpu vcpus[KVM_SCRIPT_VCPUS_MAX];
	unsigned vcpu_count;
	long long result;	 /* the last call with a result (value, or a negative errno) */
	bool hex_result;	 /* print the result being reported as a hex value */
	const char *result_what; /* its name, for messages */
};

extern const struct sg_table kvm_script_table;

/** Close the real descriptors, destroy the VMs and the module, free the programs. */
void kvm_script_context_clear(struct kvm_script_context *context);

#endif /* VXSAVE_CLI_KVM_SCRIPT_H */
