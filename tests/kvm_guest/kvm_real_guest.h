/* SPDX-License-Identifier: MIT */
/*
 * A minimal real guest for this machine's /dev/kvm (issue 8, "compare guest-side behaviour
 * with a minimal real guest under KVM_RUN"): one VM with one vCPU, guest memory through
 * KVM_SET_USER_MEMORY_REGION, 64-bit long mode with identity paging (one 2 MiB page, user
 * accessible), a GDT with ring-0 and ring-3 code and data, a 64-bit TSS (RSP0) and an IDT
 * whose handlers for vectors 0-31 report the vector, error code and faulting RIP to the host
 * with OUT to KRG_PORT_FAULT.  Code stubs are byte arrays written by hand (kvm_real_guest.c,
 * one commented instruction a line); a test copies one into the code page, sets the
 * registers it reads, and runs it at CPL0 or CPL3.  Written only against <linux/kvm.h>: it
 * never touches the model.
 *
 * Used by tests/unit/test_kvm_real_guest.c and bench/bench_kvm_run.c.
 */
#ifndef VXSAVE_KVM_REAL_GUEST_H
#define VXSAVE_KVM_REAL_GUEST_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest physical (= linear) layout. */
#define KRG_MEM_SIZE	 0x200000u /* one 2 MiB page, identity mapped */
#define KRG_PML4	 0x1000u
#define KRG_PDPT	 0x2000u
#define KRG_PD		 0x3000u
#define KRG_GDT		 0x4000u
#define KRG_IDT		 0x5000u
#define KRG_TSS		 0x6000u
#define KRG_TSS_IOMAP	 104u /* I/O bitmap of ports 0-255 after the 104-byte TSS */
#define KRG_TSS_LIMIT	 (KRG_TSS_IOMAP + 32u) /* the terminator byte */
#define KRG_KSTACK_TOP	 0x8000u	       /* TSS.RSP0: the handlers' stack */
#define KRG_USTACK_TOP	 0x9000u
#define KRG_HANDLERS	 0x10000u /* 32 handler stubs of KRG_HANDLER_SIZE bytes, then common */
#define KRG_HANDLER_SIZE 16u
#define KRG_CODE	 0x20000u /* the stub under test */
#define KRG_IN		 0x30000u /* data the stub loads (RSI points here) */
#define KRG_OUT		 0x40000u /* data the stub stores (RDI points here) */
#define KRG_DATA_SIZE	 0x4000u

/* Selectors (GDT entries 1-5; the TSS takes two slots). */
#define KRG_SEL_KCODE 0x08u
#define KRG_SEL_KDATA 0x10u
#define KRG_SEL_UCODE 0x1bu /* 0x18 | RPL 3 */
#define KRG_SEL_UDATA 0x23u /* 0x20 | RPL 3 */
#define KRG_SEL_TSS   0x28u

/* Ports the guest writes with OUT imm8, AL. */
#define KRG_PORT_DONE  0x10u /* the stub finished */
#define KRG_PORT_FAULT 0xeeu /* an exception handler: RAX vector, RBX error, RCX RIP */

/* Store-area offsets used by the stubs (from RSI / RDI). */
#define KRG_OFF_FXSAVE 0x000u /* FXSAVE64 image: x87, MXCSR, XMM0-15 (512 bytes) */
#define KRG_OFF_YMM    0x200u /* YMM0-15, 32 bytes each */
#define KRG_OFF_ZMM    0x400u /* ZMM0-31, 64 bytes each */
#define KRG_OFF_K      0xc00u /* k0-7, 8 bytes each */
#define KRG_OFF_MXCSR  0xc40u /* MXCSR (LDMXCSR / STMXCSR) */

/** A code stub: hand-written machine code (kvm_real_guest.c). */
struct krg_code {
	const char *name;
	const uint8_t *bytes;
	size_t len;
};

/* XSETBV with ECX, EDX:EAX from the registers; then OUT DONE. */
extern const struct krg_code krg_xsetbv;
/* XGETBV ECX (EDX:EAX in the registers afterwards); then OUT DONE. */
extern const struct krg_code krg_xgetbv;
/* RDMSR ECX (EDX:EAX in the registers afterwards); then OUT DONE. */
extern const struct krg_code krg_rdmsr;
/* WRMSR ECX, EDX:EAX; then OUT DONE. */
extern const struct krg_code krg_wrmsr;
/* OUT DONE, then a jump back to it: each KVM_RUN is one OUT round trip. */
extern const struct krg_code krg_out_loop;
/* Legacy-SSE loads: MOVDQU XMM0-15 from [RSI + KRG_OFF_FXSAVE + 160 + 16 i], LDMXCSR. */
extern const struct krg_code krg_load_xmm;
/* VEX loads: VMOVDQU YMM0-15 from [RSI + KRG_OFF_YMM + 32 i]; LDMXCSR. */
extern const struct krg_code krg_load_ymm;
/* EVEX loads: VMOVDQU64 ZMM0-31 from [RSI + KRG_OFF_ZMM + 64 i], KMOVQ k0-7; LDMXCSR. */
extern const struct krg_code krg_load_zmm;
/* Stores of what the guest sees: FXSAVE64 [RDI], YMM0-15, STMXCSR (AVX). */
extern const struct krg_code krg_store_ymm;
/* As krg_store_ymm plus ZMM0-31 and k0-7 (AVX-512). */
extern const struct krg_code krg_store_zmm;

/* A vCPU entry: privilege level, CR4, and the registers the stub reads. */
struct krg_entry {
	unsigned cpl;
	uint64_t cr4;
	uint64_t rax, rcx, rdx;
};

enum krg_outcome {
	KRG_DONE = 0,  /* OUT to KRG_PORT_DONE */
	KRG_FAULT,     /* an exception reached the guest's handler */
	KRG_OTHER_EXIT /* any other exit (internal error, shutdown, ...): see exit_reason */
};

struct krg_result {
	enum krg_outcome outcome;
	unsigned exit_reason;
	unsigned vector;
	uint64_t error_code;
	uint64_t fault_rip;
	uint32_t suberror; /* KVM_EXIT_INTERNAL_ERROR */
	struct kvm_regs regs;
};

/** One VM, one vCPU, its kvm_run page and the guest memory. */
struct krg_guest {
	int sys_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;
	uint64_t xcr0_default; /* KVM_GET_XCRS right after creation */
	char why[256];	       /* why the last call failed */
};

/* Default CR4 of the guest: PAE, OSFXSR, OSXMMEXCPT, OSXSAVE. */
#define KRG_CR4_DEFAULT 0x40620ull
#define KRG_CR4_OSXSAVE 0x40000ull

/**
 * krg_open() - open /dev/kvm and build the guest: VM, memory, tables, one vCPU with the
 * supported CPUID set (KVM_GET_SUPPORTED_CPUID → KVM_SET_CPUID2, the usual VMM start).
 * 0, or -errno with @g->why naming the step.  @g is closed again on failure.
 */
int krg_open(struct krg_guest *g);
void krg_close(struct krg_guest *g);

/**
 * krg_enter() - load @code into the code page and point the vCPU at it: KVM_SET_SREGS (long
 * mode, CPL from @e->cpl, @e->cr4) and KVM_SET_REGS (RIP, RSP, RFLAGS with IOPL 3 so that OUT
 * works at CPL3, RSI = KRG_IN, RDI = KRG_OUT, RAX/RCX/RDX from @e).  0 or -errno.
 */
int krg_enter(struct krg_guest *g, const struct krg_code *code, const struct krg_entry *e);

/**
 * krg_run() - KVM_RUN until the stub reports (OUT to DONE or FAULT) or another exit; a
 * guard timer makes a guest that never exits come back with -EINTR.  0 or -errno.
 */
int krg_run(struct krg_guest *g, struct krg_result *r);

/** krg_enter() then krg_run(). */
int krg_exec(struct krg_guest *g, const struct krg_code *code, const struct krg_entry *e,
	     struct krg_result *r);

/** A text for @r ("done", "#GP(0x0) at 0x20000", "exit 17 suberror 1"). */
void krg_describe(const struct krg_result *r, char *buf, size_t len);

/** KVM_GET_XCRS' XCR0, or -errno. */
int krg_get_xcr0(struct krg_guest *g, uint64_t *xcr0);

#endif /* VXSAVE_KVM_REAL_GUEST_H */
