/* SPDX-License-Identifier: MIT */
/*
 * A minimal real guest for a /dev/kvm (moved from tests/kvm_guest for `vxsave kvm capture`,
 * issue 10; first written for issue 8, "compare guest-side behaviour with a minimal real guest
 * under KVM_RUN"): one VM with one vCPU, guest memory through KVM_SET_USER_MEMORY_REGION,
 * 64-bit long mode with identity paging (one 2 MiB page, user accessible), a GDT with ring-0
 * and ring-3 code and data, a 64-bit TSS (RSP0) and an IDT whose handlers for vectors 0-31
 * report the vector, error code and faulting RIP to the host with OUT to KRG_PORT_FAULT.  Code
 * is machine code written by hand (one commented instruction a line); a caller copies it into
 * the code page, sets the registers it reads, and runs it at CPL0 or CPL3.
 *
 * Two ways in: vx_krg_open() makes its own VM and vCPU on the real /dev/kvm with ioctl(2)
 * (tests/kvm_guest, bench); vx_krg_attach() adds the memory and the kvm_run mapping to a VM
 * and vCPU a caller made through a struct vx_kvm_backend (capture, vmm_state.c), so the same
 * calls reach the drop-in model, whose KVM_RUN then runs its own guest program instead.
 * Internal to the library (src/vmm); not installed.
 */
#ifndef VXSAVE_SRC_VMM_REAL_GUEST_H
#define VXSAVE_SRC_VMM_REAL_GUEST_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vxsave/kvm_ioctl.h>

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
#define KRG_CODE	 0x20000u /* the code under test */
#define KRG_CODE_MAX	 0x10000u /* bytes of code that fit before KRG_IN */
#define KRG_IN		 0x30000u /* data the code loads (RSI points here) */
#define KRG_OUT		 0x40000u /* data the code stores (RDI points here) */
#define KRG_DATA_SIZE	 0x4000u

/* Selectors (GDT entries 1-5; the TSS takes two slots). */
#define KRG_SEL_KCODE 0x08u
#define KRG_SEL_KDATA 0x10u
#define KRG_SEL_UCODE 0x1bu /* 0x18 | RPL 3 */
#define KRG_SEL_UDATA 0x23u /* 0x20 | RPL 3 */
#define KRG_SEL_TSS   0x28u

/* Ports the guest writes with OUT imm8, AL. */
#define KRG_PORT_DONE  0x10u /* the code finished */
#define KRG_PORT_FAULT 0xeeu /* an exception handler: RAX vector, RBX error, RCX RIP */

/* Data-area offsets used by the code (from RSI / RDI). */
#define KRG_OFF_FXSAVE 0x000u /* FXSAVE64 image: x87, MXCSR, XMM0-15 (512 bytes) */
#define KRG_OFF_YMM    0x200u /* YMM0-15, 32 bytes each */
#define KRG_OFF_ZMM    0x400u /* ZMM0-31, 64 bytes each */
#define KRG_OFF_K      0xc00u /* k0-7, 8 bytes each */
#define KRG_OFF_MXCSR  0xc40u /* MXCSR (LDMXCSR / STMXCSR) */
#define KRG_OFF_FCW    0xc48u /* x87 control word (FLDCW / FNSTCW) */
#define KRG_OFF_PKRU   0xc50u /* PKRU (WRPKRU's EAX) */

/*
 * Instruction encodings shared by the code of the tests and of capture (Intel SDM Vol. 2;
 * checked with `objdump -D -b binary -mi386:x86-64`).
 */
/* A 32-bit displacement, little-endian. */
#define KRG_D32(x) (uint8_t)(x), (uint8_t)((x) >> 8), (uint8_t)((x) >> 16), (uint8_t)((x) >> 24)
/* ModRM mod=10 (disp32), reg=@r, rm=110 ([RSI+disp32]) or 111 ([RDI+disp32]). */
#define KRG_RSI_D32(r) (uint8_t)(0x86 | (((r)&7) << 3))
#define KRG_RDI_D32(r) (uint8_t)(0x87 | (((r)&7) << 3))
/* REX for an XMM register operand: 0x40 (no extension, ignored) or 0x44 (REX.R) for 8-15. */
#define KRG_REX_R(r) (uint8_t)((r) < 8 ? 0x40 : 0x44)
/* OUT KRG_PORT_DONE, AL; HLT (not reached: the host stops at the OUT). */
#define KRG_OUT_DONE 0xe6, KRG_PORT_DONE, 0xf4
/* MOVDQU xmm, m128: F3 REX 0F 6F /r (legacy SSE: YMM upper halves kept). */
#define KRG_XMM_LD(r)                                                                              \
	0xf3, KRG_REX_R(r), 0x0f, 0x6f, KRG_RSI_D32(r), KRG_D32(KRG_OFF_FXSAVE + 160 + 16 * (r))
/* LDMXCSR m32: 0F AE /2.  STMXCSR m32: 0F AE /3. */
#define KRG_LDMXCSR 0x0f, 0xae, KRG_RSI_D32(2), KRG_D32(KRG_OFF_MXCSR)
#define KRG_STMXCSR 0x0f, 0xae, KRG_RDI_D32(3), KRG_D32(KRG_OFF_MXCSR)
/* VMOVDQU ymm, m256: VEX.256.F3.0F 6F /r, two-byte VEX C5 [R̄ vvvv=1111 L=1 pp=10]. */
#define KRG_VEX2_R(r) (uint8_t)((r) < 8 ? 0xfe : 0x7e)
#define KRG_YMM_LD(r) 0xc5, KRG_VEX2_R(r), 0x6f, KRG_RSI_D32(r), KRG_D32(KRG_OFF_YMM + 32 * (r))
#define KRG_YMM_ST(r) 0xc5, KRG_VEX2_R(r), 0x7f, KRG_RDI_D32(r), KRG_D32(KRG_OFF_YMM + 32 * (r))
/*
 * VMOVDQU64 zmm, m512: EVEX.512.F3.0F.W1 6F /r.  EVEX = 62 P0 P1 P2:
 *   P0 = R̄ X̄ B̄ R̄' 0 0 m m   (mm = 01: 0F; X̄ = B̄ = 1: RSI/RDI need no extension)
 *   P1 = W vvvv 1 pp          = 1 1111 1 10 = 0xFE (W1, no vvvv, F3)
 *   P2 = z L'L b V̄' aaa       = 0 10 0 1 000 = 0x48 (512 bits, no mask)
 * The disp32 form is not scaled (only disp8 is).
 */
#define KRG_EVEX_P0(r) (uint8_t)(((r)&8 ? 0x00 : 0x80) | 0x60 | ((r)&16 ? 0x00 : 0x10) | 0x01)
#define KRG_ZMM_LD(r)                                                                              \
	0x62, KRG_EVEX_P0(r), 0xfe, 0x48, 0x6f, KRG_RSI_D32(r), KRG_D32(KRG_OFF_ZMM + 64 * (r))
#define KRG_ZMM_ST(r)                                                                              \
	0x62, KRG_EVEX_P0(r), 0xfe, 0x48, 0x7f, KRG_RDI_D32(r), KRG_D32(KRG_OFF_ZMM + 64 * (r))
/* KMOVQ k, m64: VEX.L0.0F.W1 90 /r (three-byte VEX C4 [R̄X̄B̄ 00001] [W=1 1111 L=0 00]). */
#define KRG_K_LD(r) 0xc4, 0xe1, 0xf8, 0x90, KRG_RSI_D32(r), KRG_D32(KRG_OFF_K + 8 * (r))
/* KMOVQ m64, k: VEX.L0.0F.W1 91 /r. */
#define KRG_K_ST(r) 0xc4, 0xe1, 0xf8, 0x91, KRG_RDI_D32(r), KRG_D32(KRG_OFF_K + 8 * (r))
/* FXSAVE64 m512: REX.W 0F AE /0, here [RDI+0]. */
#define KRG_FXSAVE64 0x48, 0x0f, 0xae, KRG_RDI_D32(0), KRG_D32(KRG_OFF_FXSAVE)

/** A piece of guest code: hand-written machine code. */
struct vx_krg_code {
	const char *name;
	const uint8_t *bytes;
	size_t len;
};

/* A vCPU entry: privilege level, CR4, and the registers the code reads. */
struct vx_krg_entry {
	unsigned cpl;
	uint64_t cr4;
	uint64_t rax, rcx, rdx;
};

enum vx_krg_outcome {
	KRG_DONE = 0,  /* OUT to KRG_PORT_DONE */
	KRG_FAULT,     /* an exception reached the guest's handler */
	KRG_OTHER_EXIT /* any other exit (internal error, shutdown, ...): see exit_reason */
};

struct vx_krg_result {
	enum vx_krg_outcome outcome;
	unsigned exit_reason;
	unsigned vector;
	uint64_t error_code;
	uint64_t fault_rip;
	uint32_t suberror; /* KVM_EXIT_INTERNAL_ERROR */
	struct kvm_regs regs;
};

/** One VM, one vCPU, its kvm_run page and the guest memory. */
struct vx_krg_guest {
	int sys_fd, vm_fd, vcpu_fd;
	bool owned;			 /* vx_krg_open() made the descriptors (and closes them) */
	const struct vx_kvm_backend *be; /* NULL: ioctl(2) on the real /dev/kvm */
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;
	uint64_t xcr0_default; /* KVM_GET_XCRS right after creation (vx_krg_open) */
	char why[256];	       /* why the last call failed */
};

/* Default CR4 of the guest: PAE, OSFXSR, OSXMMEXCPT, OSXSAVE. */
#define KRG_CR4_DEFAULT 0x40620ull
#define KRG_CR4_OSXSAVE 0x40000ull
#define KRG_CR4_PKE	0x400000ull

/**
 * vx_krg_open() - open /dev/kvm and build the guest: VM, memory, tables, one vCPU with the
 * supported CPUID set (KVM_GET_SUPPORTED_CPUID → KVM_SET_CPUID2, the usual VMM start); a
 * SIGALRM guard (no SA_RESTART) makes a guest that never exits come back from vx_krg_run().
 * 0, or -errno with @g->why naming the step.  @g is closed again on failure.
 */
int vx_krg_open(struct vx_krg_guest *g);
/**
 * vx_krg_attach() - the memory and tables (KVM_SET_USER_MEMORY_REGION) and the kvm_run mapping
 * for @vm_fd/@vcpu_fd of @be (made and closed by the caller).  No signal guard: the code the
 * caller runs must end with an OUT.  0, or -errno with @g->why; @g is detached on failure.
 */
int vx_krg_attach(struct vx_krg_guest *g, const struct vx_kvm_backend *be, int sys_fd, int vm_fd,
		  int vcpu_fd);
/** Unmap what @g mapped; close the descriptors when vx_krg_open() made them. */
void vx_krg_close(struct vx_krg_guest *g);

/**
 * vx_krg_enter() - load @code into the code page and point the vCPU at it: KVM_SET_SREGS (long
 * mode, CPL from @e->cpl, @e->cr4) and KVM_SET_REGS (RIP, RSP, RFLAGS with IOPL 3 so that OUT
 * works at CPL3, RSI = KRG_IN, RDI = KRG_OUT, RAX/RCX/RDX from @e).  0 or -errno.
 */
int vx_krg_enter(struct vx_krg_guest *g, const struct vx_krg_code *code,
		 const struct vx_krg_entry *e);

/**
 * vx_krg_run() - KVM_RUN until the code reports (OUT to DONE or FAULT) or another exit.  0 or
 * -errno (-EINTR: the guard timer of vx_krg_open() fired).
 */
int vx_krg_run(struct vx_krg_guest *g, struct vx_krg_result *r);

/** vx_krg_enter() then vx_krg_run(). */
int vx_krg_exec(struct vx_krg_guest *g, const struct vx_krg_code *code,
		const struct vx_krg_entry *e, struct vx_krg_result *r);

/** A text for @r ("done", "#GP(0x0) at 0x20000", "exit 17 suberror 1"). */
void vx_krg_describe(const struct vx_krg_result *r, char *buf, size_t len);

/** KVM_GET_XCRS' XCR0, or -errno. */
int vx_krg_get_xcr0(struct vx_krg_guest *g, uint64_t *xcr0);

#endif /* VXSAVE_SRC_VMM_REAL_GUEST_H */
