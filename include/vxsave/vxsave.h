/* SPDX-License-Identifier: MIT */
/*
 * vxsave: x86 extended-state (XSAVE) management and CET state virtualization.
 *
 * The umbrella header.  Layers, each using only the ones before it:
 *   common.h  errors and the platform interface
 *   arch.h    component table, CPU profiles, layouts, XCR0/XSS/XFD rules
 *   area.h    whole XSAVE areas: header checks, conversion, initial values, decoding
 *   cpu.h     the software logical processor (and cpu_hw.h, the hardware backend)
 *   cpu_cet.h   CET on that processor: shadow-stack instructions, transfers, VM entry/exit
 *   fpu.h     the host FPU framework: the booted system, feature sets and sizes
 *   fpu_task.h  tasks and processes on model CPUs, permissions, XFD, guest fpstates
 *   fpu_signal.h  signal frames and sigreturn, ptrace regsets, the core-dump layout note
 *   kvm.h     the KVM module: caps, supported CPUID, VMs and vCPUs, the CET_S designs
 *   kvm_regs.h  a vCPU's XCR0, MSRs, ONE_REG and the XSAVE uABI
 *   kvm_run.h   KVM_RUN on the model CPUs, the host scheduler's notifiers, the designs' costs
 *   kvm_emulate.h  KVM's emulator, task switch, nested VMX/SVM and SMM under CET
 *   kvm_ioctl.h the drop-in /dev/kvm interface over <linux/kvm.h>
 *   vmm.h     VMM tooling: vCPU XSAVE blobs recognised, decoded, validated, converted
 *   vmm_compat.h  vCPU state bundles, Cloud Hypervisor state, restore compatibility, baselines
 *   eval.h    the CET_S designs side by side: workloads, counters, integrity checks
 *   eval_cost.h  the cost model: counts to time, its constants and their calibration
 */
#ifndef VXSAVE_VXSAVE_H
#define VXSAVE_VXSAVE_H

/* The order (and, in the hygiene test, the repetition) is the point. */
/* clang-format off */
#include <vxsave/common.h>
#include <vxsave/version.h>
#include <vxsave/arch.h>
#include <vxsave/area.h>
#include <vxsave/cpu.h>
#include <vxsave/cpu_cet.h>
#include <vxsave/fpu.h>
#include <vxsave/fpu_task.h>
#include <vxsave/fpu_signal.h>
#include <vxsave/kvm.h>
#include <vxsave/kvm_regs.h>
#include <vxsave/kvm_run.h>
#include <vxsave/kvm_emulate.h>
#include <vxsave/kvm_ioctl.h>
#include <vxsave/vmm.h>
#include <vxsave/vmm_compat.h>
#include <vxsave/eval.h>
#include <vxsave/eval_cost.h>
/* clang-format on */

#endif /* VXSAVE_VXSAVE_H */
