/* SPDX-License-Identifier: MIT */
/*
 * `vxsave kvm` (cmd_kvm.c: options, the host, scripts; cmd_kvm_report.c: caps, cpuid, msrs),
 * for main.c's command table, and what the two files share.
 */
#ifndef VXSAVE_CLI_CMD_KVM_H
#define VXSAVE_CLI_CMD_KVM_H

#include <stdio.h>

#include <vxsave/kvm_regs.h>

#include "source.h"

int cli_cmd_kvm(int argc, char **argv);
void cli_usage_kvm(FILE *out);

/**
 * struct kvm_request - the command line of `vxsave kvm ACTION|SCRIPT`.
 * @flavour:     enum vx_kvm_flavour, or -1 for the host vendor's module.
 * @guest_cpuid: caps: the vCPU's CPUID (a `cpuid -r` file, "supported" or "none"), or NULL.
 * @guest_perm:  ARCH_REQ_XCOMP_GUEST_PERM of this xfeature before anything (-1: none).
 */
struct kvm_request {
	const char *action;
	struct cli_source source;
	enum vx_kvm_cet_design design;
	int flavour;
	bool json, trace, quiet, real, emulated;
	bool no_tdp, allow_smaller_maxphyaddr;
	const char *guest_cpuid;
	int guest_perm;
	const char *script;
};

/**
 * struct kvm_host - a booted host with the module loaded: the profile, the fpu system of the
 * design's fpu layer, a machine of 2 CPUs, the VMM process (its task on CPU 0) and the module.
 */
struct kvm_host {
	struct vx_profile profile;
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *machine;
	struct vx_fpu_task *vmm;
	struct vx_kvm *kvm;
};

/* cmd_kvm.c: boot the host of @request (after its guest permission request); CLI exit code. */
int cli_kvm_host_up(const struct kvm_request *request, struct kvm_host *host);
void cli_kvm_host_down(struct kvm_host *host);
/* "vmx (kvm_intel)", "pvm (kvm_pvm)". */
const char *cli_kvm_flavour_label(enum vx_kvm_flavour flavour);

/* cmd_kvm_report.c */
int cli_kvm_caps(const struct kvm_request *request);
int cli_kvm_cpuid(const struct kvm_request *request);
int cli_kvm_msrs(const struct kvm_request *request);

#endif /* VXSAVE_CLI_CMD_KVM_H */
