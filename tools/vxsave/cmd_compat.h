/* SPDX-License-Identifier: MIT */
/*
 * `vxsave compat`, `vxsave baseline` (cmd_compat.c) and `vxsave kvm capture`
 * (cmd_kvm_capture.c): vCPU state bundles and where they restore (issue 10, part 2).
 */
#ifndef VXSAVE_CLI_CMD_COMPAT_H
#define VXSAVE_CLI_CMD_COMPAT_H

#include <stdio.h>

#include <vxsave/vmm_compat.h>

int cli_cmd_compat(int argc, char **argv);
void cli_usage_compat(FILE *out);
int cli_cmd_baseline(int argc, char **argv);
void cli_usage_baseline(FILE *out);

/* `vxsave kvm capture ...`: @argv[0] is "capture". */
int cli_kvm_capture(int argc, char **argv);
void cli_usage_kvm_capture(FILE *out);

/*
 * cli_compat_host() - a host named by one word: "host" (this machine: its CPUID and its KVM
 * flavour from /sys/module), a built-in profile ("zen4", "zen4,-avx512") or a `cpuid -r` /
 * InstLatx64 dump path; @flavour (-1: the vendor's, or detected for "host") and @design.
 * CLI exit code, after printing why it failed.
 */
int cli_compat_host(const char *spec, int flavour, enum vx_kvm_cet_design design,
		    struct vx_compat_target *target);

/* "0x2e7 (x87|SSE|AVX|...)" */
const char *cli_compat_mask(uint64_t mask, char *buf, size_t len);

#endif /* VXSAVE_CLI_CMD_COMPAT_H */
