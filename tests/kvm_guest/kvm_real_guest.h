/* SPDX-License-Identifier: MIT */
/*
 * A minimal real guest for this machine's /dev/kvm (issue 8, "compare guest-side behaviour
 * with a minimal real guest under KVM_RUN"): the VM, its tables and KVM_RUN are the library's
 * (src/vmm/real_guest.h, moved there for `vxsave kvm capture`, issue 10); this header keeps the
 * krg_ names the tests and the bench use and declares their code stubs (kvm_real_guest.c, one
 * commented instruction a line).  Only <linux/kvm.h> and ioctl(2): the model is never involved.
 *
 * Used by tests/unit/test_kvm_real_guest.c and bench/bench_kvm_run.c.
 */
#ifndef VXSAVE_KVM_REAL_GUEST_H
#define VXSAVE_KVM_REAL_GUEST_H

#include "vmm/real_guest.h"

/* The library's names under the ones the tests were written with. */
#define krg_guest    vx_krg_guest
#define krg_code     vx_krg_code
#define krg_entry    vx_krg_entry
#define krg_result   vx_krg_result
#define krg_outcome  vx_krg_outcome
#define krg_open     vx_krg_open
#define krg_close    vx_krg_close
#define krg_enter    vx_krg_enter
#define krg_run	     vx_krg_run
#define krg_exec     vx_krg_exec
#define krg_describe vx_krg_describe
#define krg_get_xcr0 vx_krg_get_xcr0

/* XSETBV with ECX, EDX:EAX from the registers; then OUT DONE. */
extern const struct vx_krg_code krg_xsetbv;
/* XGETBV ECX (EDX:EAX in the registers afterwards); then OUT DONE. */
extern const struct vx_krg_code krg_xgetbv;
/* RDMSR ECX (EDX:EAX in the registers afterwards); then OUT DONE. */
extern const struct vx_krg_code krg_rdmsr;
/* WRMSR ECX, EDX:EAX; then OUT DONE. */
extern const struct vx_krg_code krg_wrmsr;
/* OUT DONE, then a jump back to it: each KVM_RUN is one OUT round trip. */
extern const struct vx_krg_code krg_out_loop;
/* Legacy-SSE loads: MOVDQU XMM0-15 from [RSI + KRG_OFF_FXSAVE + 160 + 16 i], LDMXCSR. */
extern const struct vx_krg_code krg_load_xmm;
/* VEX loads: VMOVDQU YMM0-15 from [RSI + KRG_OFF_YMM + 32 i]; LDMXCSR. */
extern const struct vx_krg_code krg_load_ymm;
/* EVEX loads: VMOVDQU64 ZMM0-31 from [RSI + KRG_OFF_ZMM + 64 i], KMOVQ k0-7; LDMXCSR. */
extern const struct vx_krg_code krg_load_zmm;
/* Stores of what the guest sees: FXSAVE64 [RDI], YMM0-15, STMXCSR (AVX). */
extern const struct vx_krg_code krg_store_ymm;
/* As krg_store_ymm plus ZMM0-31 and k0-7 (AVX-512). */
extern const struct vx_krg_code krg_store_zmm;

#endif /* VXSAVE_KVM_REAL_GUEST_H */
