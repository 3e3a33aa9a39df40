/* SPDX-License-Identifier: MIT */
/*
 * A minimal real guest (kvm_real_guest.h): memory, paging, GDT/IDT/TSS, exception handlers
 * and code stubs written as machine code bytes, one instruction a line (Intel SDM Vol. 2
 * encodings; checked with `objdump -D -b binary -mi386:x86-64`).  Only <linux/kvm.h> and
 * ioctl(2): the model is never involved.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* alarm, sigaction */
#endif
#include "kvm_real_guest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* A 32-bit displacement, little-endian. */
#define D32(x) (uint8_t)(x), (uint8_t)((x) >> 8), (uint8_t)((x) >> 16), (uint8_t)((x) >> 24)

/* ModRM mod=10 (disp32), reg=@r, rm=110 ([RSI+disp32]) or 111 ([RDI+disp32]). */
#define RSI_D32(r) (uint8_t)(0x86 | (((r)&7) << 3))
#define RDI_D32(r) (uint8_t)(0x87 | (((r)&7) << 3))

/* REX for an XMM register operand: 0x40 (no extension, ignored) or 0x44 (REX.R) for 8-15. */
#define REX_R(r) (uint8_t)((r) < 8 ? 0x40 : 0x44)

/* OUT KRG_PORT_DONE, AL; HLT (not reached: the host stops at the OUT). */
#define OUT_DONE 0xe6, KRG_PORT_DONE, 0xf4

#define STUB(id, ...)                                                                              \
	static const uint8_t id##_bytes[] = {__VA_ARGS__};                                         \
	const struct krg_code krg_##id = {#id, id##_bytes, sizeof(id##_bytes)}

/* ----------------------------------------------------------------------------------------- */
/* Code stubs                                                                                   */

STUB(xsetbv, 0x0f, 0x01, 0xd1, /* xsetbv             XCR[ECX] = EDX:EAX */
     OUT_DONE);		       /* out 0x10, al; hlt */

STUB(xgetbv, 0x0f, 0x01, 0xd0, /* xgetbv             EDX:EAX = XCR[ECX] */
     OUT_DONE);		       /* out 0x10, al; hlt */

STUB(rdmsr, 0x0f, 0x32, /* rdmsr                     EDX:EAX = MSR[ECX] */
     OUT_DONE);		/* out 0x10, al; hlt */

STUB(wrmsr, 0x0f, 0x30, /* wrmsr                     MSR[ECX] = EDX:EAX */
     OUT_DONE);		/* out 0x10, al; hlt */

STUB(out_loop, 0xe6, KRG_PORT_DONE, /* again: out 0x10, al */
     0xeb, 0xfc);		    /* jmp again (rel8 -4) */

/* MOVDQU xmm, m128: F3 REX 0F 6F /r (legacy SSE: YMM upper halves kept). */
#define XMM_LD(r) 0xf3, REX_R(r), 0x0f, 0x6f, RSI_D32(r), D32(KRG_OFF_FXSAVE + 160 + 16 * (r))
/* LDMXCSR m32: 0F AE /2.  STMXCSR m32: 0F AE /3. */
#define LDMXCSR 0x0f, 0xae, RSI_D32(2), D32(KRG_OFF_MXCSR)
#define STMXCSR 0x0f, 0xae, RDI_D32(3), D32(KRG_OFF_MXCSR)

STUB(load_xmm, XMM_LD(0), /* movdqu xmm0, [rsi+0xa0] */
     XMM_LD(1),		  /* movdqu xmm1, [rsi+0xb0] */
     XMM_LD(2),		  /* movdqu xmm2, [rsi+0xc0] */
     XMM_LD(3),		  /* movdqu xmm3, [rsi+0xd0] */
     XMM_LD(4),		  /* movdqu xmm4, [rsi+0xe0] */
     XMM_LD(5),		  /* movdqu xmm5, [rsi+0xf0] */
     XMM_LD(6),		  /* movdqu xmm6, [rsi+0x100] */
     XMM_LD(7),		  /* movdqu xmm7, [rsi+0x110] */
     XMM_LD(8),		  /* movdqu xmm8, [rsi+0x120] */
     XMM_LD(9),		  /* movdqu xmm9, [rsi+0x130] */
     XMM_LD(10),	  /* movdqu xmm10, [rsi+0x140] */
     XMM_LD(11),	  /* movdqu xmm11, [rsi+0x150] */
     XMM_LD(12),	  /* movdqu xmm12, [rsi+0x160] */
     XMM_LD(13),	  /* movdqu xmm13, [rsi+0x170] */
     XMM_LD(14),	  /* movdqu xmm14, [rsi+0x180] */
     XMM_LD(15),	  /* movdqu xmm15, [rsi+0x190] */
     LDMXCSR,		  /* ldmxcsr [rsi+0xc40] */
     OUT_DONE);		  /* out 0x10, al; hlt */

/* VMOVDQU ymm, m256: VEX.256.F3.0F 6F /r, two-byte VEX C5 [R̄ vvvv=1111 L=1 pp=10]. */
#define VEX2_R(r) (uint8_t)((r) < 8 ? 0xfe : 0x7e)
#define YMM_LD(r) 0xc5, VEX2_R(r), 0x6f, RSI_D32(r), D32(KRG_OFF_YMM + 32 * (r))
#define YMM_ST(r) 0xc5, VEX2_R(r), 0x7f, RDI_D32(r), D32(KRG_OFF_YMM + 32 * (r))

STUB(load_ymm, YMM_LD(0), /* vmovdqu ymm0, [rsi+0x200] */
     YMM_LD(1),		  /* vmovdqu ymm1, [rsi+0x220] */
     YMM_LD(2),		  /* vmovdqu ymm2, [rsi+0x240] */
     YMM_LD(3),		  /* vmovdqu ymm3, [rsi+0x260] */
     YMM_LD(4),		  /* vmovdqu ymm4, [rsi+0x280] */
     YMM_LD(5),		  /* vmovdqu ymm5, [rsi+0x2a0] */
     YMM_LD(6),		  /* vmovdqu ymm6, [rsi+0x2c0] */
     YMM_LD(7),		  /* vmovdqu ymm7, [rsi+0x2e0] */
     YMM_LD(8),		  /* vmovdqu ymm8, [rsi+0x300] */
     YMM_LD(9),		  /* vmovdqu ymm9, [rsi+0x320] */
     YMM_LD(10),	  /* vmovdqu ymm10, [rsi+0x340] */
     YMM_LD(11),	  /* vmovdqu ymm11, [rsi+0x360] */
     YMM_LD(12),	  /* vmovdqu ymm12, [rsi+0x380] */
     YMM_LD(13),	  /* vmovdqu ymm13, [rsi+0x3a0] */
     YMM_LD(14),	  /* vmovdqu ymm14, [rsi+0x3c0] */
     YMM_LD(15),	  /* vmovdqu ymm15, [rsi+0x3e0] */
     LDMXCSR,		  /* ldmxcsr [rsi+0xc40] */
     OUT_DONE);		  /* out 0x10, al; hlt */

/*
 * VMOVDQU64 zmm, m512: EVEX.512.F3.0F.W1 6F /r.  EVEX = 62 P0 P1 P2:
 *   P0 = R̄ X̄ B̄ R̄' 0 0 m m   (mm = 01: 0F; X̄ = B̄ = 1: RSI/RDI need no extension)
 *   P1 = W vvvv 1 pp          = 1 1111 1 10 = 0xFE (W1, no vvvv, F3)
 *   P2 = z L'L b V̄' aaa       = 0 10 0 1 000 = 0x48 (512 bits, no mask)
 * The disp32 form is not scaled (only disp8 is).
 */
#define EVEX_P0(r) (uint8_t)(((r)&8 ? 0x00 : 0x80) | 0x60 | ((r)&16 ? 0x00 : 0x10) | 0x01)
#define ZMM_LD(r)  0x62, EVEX_P0(r), 0xfe, 0x48, 0x6f, RSI_D32(r), D32(KRG_OFF_ZMM + 64 * (r))
#define ZMM_ST(r)  0x62, EVEX_P0(r), 0xfe, 0x48, 0x7f, RDI_D32(r), D32(KRG_OFF_ZMM + 64 * (r))
/* KMOVQ k, m64: VEX.L0.0F.W1 90 /r (three-byte VEX C4 [R̄X̄B̄ 00001] [W=1 1111 L=0 00]). */
#define K_LD(r) 0xc4, 0xe1, 0xf8, 0x90, RSI_D32(r), D32(KRG_OFF_K + 8 * (r))
/* KMOVQ m64, k: VEX.L0.0F.W1 91 /r. */
#define K_ST(r) 0xc4, 0xe1, 0xf8, 0x91, RDI_D32(r), D32(KRG_OFF_K + 8 * (r))

STUB(load_zmm, ZMM_LD(0), /* vmovdqu64 zmm0, [rsi+0x400] */
     ZMM_LD(1),		  /* vmovdqu64 zmm1, [rsi+0x440] */
     ZMM_LD(2),		  /* vmovdqu64 zmm2, [rsi+0x480] */
     ZMM_LD(3),		  /* vmovdqu64 zmm3, [rsi+0x4c0] */
     ZMM_LD(4),		  /* vmovdqu64 zmm4, [rsi+0x500] */
     ZMM_LD(5),		  /* vmovdqu64 zmm5, [rsi+0x540] */
     ZMM_LD(6),		  /* vmovdqu64 zmm6, [rsi+0x580] */
     ZMM_LD(7),		  /* vmovdqu64 zmm7, [rsi+0x5c0] */
     ZMM_LD(8),		  /* vmovdqu64 zmm8, [rsi+0x600] */
     ZMM_LD(9),		  /* vmovdqu64 zmm9, [rsi+0x640] */
     ZMM_LD(10),	  /* vmovdqu64 zmm10, [rsi+0x680] */
     ZMM_LD(11),	  /* vmovdqu64 zmm11, [rsi+0x6c0] */
     ZMM_LD(12),	  /* vmovdqu64 zmm12, [rsi+0x700] */
     ZMM_LD(13),	  /* vmovdqu64 zmm13, [rsi+0x740] */
     ZMM_LD(14),	  /* vmovdqu64 zmm14, [rsi+0x780] */
     ZMM_LD(15),	  /* vmovdqu64 zmm15, [rsi+0x7c0] */
     ZMM_LD(16),	  /* vmovdqu64 zmm16, [rsi+0x800] */
     ZMM_LD(17),	  /* vmovdqu64 zmm17, [rsi+0x840] */
     ZMM_LD(18),	  /* vmovdqu64 zmm18, [rsi+0x880] */
     ZMM_LD(19),	  /* vmovdqu64 zmm19, [rsi+0x8c0] */
     ZMM_LD(20),	  /* vmovdqu64 zmm20, [rsi+0x900] */
     ZMM_LD(21),	  /* vmovdqu64 zmm21, [rsi+0x940] */
     ZMM_LD(22),	  /* vmovdqu64 zmm22, [rsi+0x980] */
     ZMM_LD(23),	  /* vmovdqu64 zmm23, [rsi+0x9c0] */
     ZMM_LD(24),	  /* vmovdqu64 zmm24, [rsi+0xa00] */
     ZMM_LD(25),	  /* vmovdqu64 zmm25, [rsi+0xa40] */
     ZMM_LD(26),	  /* vmovdqu64 zmm26, [rsi+0xa80] */
     ZMM_LD(27),	  /* vmovdqu64 zmm27, [rsi+0xac0] */
     ZMM_LD(28),	  /* vmovdqu64 zmm28, [rsi+0xb00] */
     ZMM_LD(29),	  /* vmovdqu64 zmm29, [rsi+0xb40] */
     ZMM_LD(30),	  /* vmovdqu64 zmm30, [rsi+0xb80] */
     ZMM_LD(31),	  /* vmovdqu64 zmm31, [rsi+0xbc0] */
     K_LD(0),		  /* kmovq k0, [rsi+0xc00] */
     K_LD(1),		  /* kmovq k1, [rsi+0xc08] */
     K_LD(2),		  /* kmovq k2, [rsi+0xc10] */
     K_LD(3),		  /* kmovq k3, [rsi+0xc18] */
     K_LD(4),		  /* kmovq k4, [rsi+0xc20] */
     K_LD(5),		  /* kmovq k5, [rsi+0xc28] */
     K_LD(6),		  /* kmovq k6, [rsi+0xc30] */
     K_LD(7),		  /* kmovq k7, [rsi+0xc38] */
     LDMXCSR,		  /* ldmxcsr [rsi+0xc40] */
     OUT_DONE);		  /* out 0x10, al; hlt */

/* FXSAVE64 m512: REX.W 0F AE /0, here [RDI+0]. */
#define FXSAVE64 0x48, 0x0f, 0xae, RDI_D32(0), D32(KRG_OFF_FXSAVE)

STUB(store_ymm, FXSAVE64, /* fxsave64 [rdi]: x87, MXCSR, XMM0-15 */
     YMM_ST(0),		  /* vmovdqu [rdi+0x200], ymm0 */
     YMM_ST(1),		  /* vmovdqu [rdi+0x220], ymm1 */
     YMM_ST(2),		  /* vmovdqu [rdi+0x240], ymm2 */
     YMM_ST(3),		  /* vmovdqu [rdi+0x260], ymm3 */
     YMM_ST(4),		  /* vmovdqu [rdi+0x280], ymm4 */
     YMM_ST(5),		  /* vmovdqu [rdi+0x2a0], ymm5 */
     YMM_ST(6),		  /* vmovdqu [rdi+0x2c0], ymm6 */
     YMM_ST(7),		  /* vmovdqu [rdi+0x2e0], ymm7 */
     YMM_ST(8),		  /* vmovdqu [rdi+0x300], ymm8 */
     YMM_ST(9),		  /* vmovdqu [rdi+0x320], ymm9 */
     YMM_ST(10),	  /* vmovdqu [rdi+0x340], ymm10 */
     YMM_ST(11),	  /* vmovdqu [rdi+0x360], ymm11 */
     YMM_ST(12),	  /* vmovdqu [rdi+0x380], ymm12 */
     YMM_ST(13),	  /* vmovdqu [rdi+0x3a0], ymm13 */
     YMM_ST(14),	  /* vmovdqu [rdi+0x3c0], ymm14 */
     YMM_ST(15),	  /* vmovdqu [rdi+0x3e0], ymm15 */
     STMXCSR,		  /* stmxcsr [rdi+0xc40] */
     OUT_DONE);		  /* out 0x10, al; hlt */

STUB(store_zmm, FXSAVE64, /* fxsave64 [rdi]: x87, MXCSR, XMM0-15 */
     YMM_ST(0),		  /* vmovdqu [rdi+0x200], ymm0 */
     YMM_ST(1),		  /* vmovdqu [rdi+0x220], ymm1 */
     YMM_ST(2),		  /* vmovdqu [rdi+0x240], ymm2 */
     YMM_ST(3),		  /* vmovdqu [rdi+0x260], ymm3 */
     YMM_ST(4),		  /* vmovdqu [rdi+0x280], ymm4 */
     YMM_ST(5),		  /* vmovdqu [rdi+0x2a0], ymm5 */
     YMM_ST(6),		  /* vmovdqu [rdi+0x2c0], ymm6 */
     YMM_ST(7),		  /* vmovdqu [rdi+0x2e0], ymm7 */
     YMM_ST(8),		  /* vmovdqu [rdi+0x300], ymm8 */
     YMM_ST(9),		  /* vmovdqu [rdi+0x320], ymm9 */
     YMM_ST(10),	  /* vmovdqu [rdi+0x340], ymm10 */
     YMM_ST(11),	  /* vmovdqu [rdi+0x360], ymm11 */
     YMM_ST(12),	  /* vmovdqu [rdi+0x380], ymm12 */
     YMM_ST(13),	  /* vmovdqu [rdi+0x3a0], ymm13 */
     YMM_ST(14),	  /* vmovdqu [rdi+0x3c0], ymm14 */
     YMM_ST(15),	  /* vmovdqu [rdi+0x3e0], ymm15 */
     ZMM_ST(0),		  /* vmovdqu64 [rdi+0x400], zmm0 */
     ZMM_ST(1),		  /* vmovdqu64 [rdi+0x440], zmm1 */
     ZMM_ST(2),		  /* vmovdqu64 [rdi+0x480], zmm2 */
     ZMM_ST(3),		  /* vmovdqu64 [rdi+0x4c0], zmm3 */
     ZMM_ST(4),		  /* vmovdqu64 [rdi+0x500], zmm4 */
     ZMM_ST(5),		  /* vmovdqu64 [rdi+0x540], zmm5 */
     ZMM_ST(6),		  /* vmovdqu64 [rdi+0x580], zmm6 */
     ZMM_ST(7),		  /* vmovdqu64 [rdi+0x5c0], zmm7 */
     ZMM_ST(8),		  /* vmovdqu64 [rdi+0x600], zmm8 */
     ZMM_ST(9),		  /* vmovdqu64 [rdi+0x640], zmm9 */
     ZMM_ST(10),	  /* vmovdqu64 [rdi+0x680], zmm10 */
     ZMM_ST(11),	  /* vmovdqu64 [rdi+0x6c0], zmm11 */
     ZMM_ST(12),	  /* vmovdqu64 [rdi+0x700], zmm12 */
     ZMM_ST(13),	  /* vmovdqu64 [rdi+0x740], zmm13 */
     ZMM_ST(14),	  /* vmovdqu64 [rdi+0x780], zmm14 */
     ZMM_ST(15),	  /* vmovdqu64 [rdi+0x7c0], zmm15 */
     ZMM_ST(16),	  /* vmovdqu64 [rdi+0x800], zmm16 */
     ZMM_ST(17),	  /* vmovdqu64 [rdi+0x840], zmm17 */
     ZMM_ST(18),	  /* vmovdqu64 [rdi+0x880], zmm18 */
     ZMM_ST(19),	  /* vmovdqu64 [rdi+0x8c0], zmm19 */
     ZMM_ST(20),	  /* vmovdqu64 [rdi+0x900], zmm20 */
     ZMM_ST(21),	  /* vmovdqu64 [rdi+0x940], zmm21 */
     ZMM_ST(22),	  /* vmovdqu64 [rdi+0x980], zmm22 */
     ZMM_ST(23),	  /* vmovdqu64 [rdi+0x9c0], zmm23 */
     ZMM_ST(24),	  /* vmovdqu64 [rdi+0xa00], zmm24 */
     ZMM_ST(25),	  /* vmovdqu64 [rdi+0xa40], zmm25 */
     ZMM_ST(26),	  /* vmovdqu64 [rdi+0xa80], zmm26 */
     ZMM_ST(27),	  /* vmovdqu64 [rdi+0xac0], zmm27 */
     ZMM_ST(28),	  /* vmovdqu64 [rdi+0xb00], zmm28 */
     ZMM_ST(29),	  /* vmovdqu64 [rdi+0xb40], zmm29 */
     ZMM_ST(30),	  /* vmovdqu64 [rdi+0xb80], zmm30 */
     ZMM_ST(31),	  /* vmovdqu64 [rdi+0xbc0], zmm31 */
     K_ST(0),		  /* kmovq [rdi+0xc00], k0 */
     K_ST(1),		  /* kmovq [rdi+0xc08], k1 */
     K_ST(2),		  /* kmovq [rdi+0xc10], k2 */
     K_ST(3),		  /* kmovq [rdi+0xc18], k3 */
     K_ST(4),		  /* kmovq [rdi+0xc20], k4 */
     K_ST(5),		  /* kmovq [rdi+0xc28], k5 */
     K_ST(6),		  /* kmovq [rdi+0xc30], k6 */
     K_ST(7),		  /* kmovq [rdi+0xc38], k7 */
     STMXCSR,		  /* stmxcsr [rdi+0xc40] */
     OUT_DONE);		  /* out 0x10, al; hlt */

/* ----------------------------------------------------------------------------------------- */
/* Exception handlers                                                                          */

/* Vectors for which the processor pushes an error code (SDM Vol. 3A, Table 6-1). */
static bool has_error_code(unsigned v)
{
	static const uint32_t mask = 1u << 8 | 1u << 10 | 1u << 11 | 1u << 12 | 1u << 13 |
				     1u << 14 | 1u << 17 | 1u << 21 | 1u << 29 | 1u << 30;

	return mask >> v & 1;
}

#define HANDLER_COMMON (KRG_HANDLERS + 32 * KRG_HANDLER_SIZE)

/* The shared tail: report vector, error code, RIP and CS to the host. */
static const uint8_t handler_common[] = {
    0x58,			      /* pop rax               vector (pushed by the stub) */
    0x5b,			      /* pop rbx               error code (real or the stub's 0) */
    0x48, 0x8b,		  0x0c, 0x24, /* mov rcx, [rsp]        RIP of the faulting instruction */
    0x48, 0x8b,		  0x54, 0x24, 0x08, /* mov rdx, [rsp+8]  CS */
    0xe6, KRG_PORT_FAULT,		    /* out 0xee, al */
    0xf4,				    /* hlt */
};

/* Vector @v's entry: [push 0;] push v; jmp common (rel32 from the end of the jmp). */
static void write_handler(uint8_t *mem, unsigned v)
{
	uint8_t *p = mem + KRG_HANDLERS + v * KRG_HANDLER_SIZE, *start = p;
	int32_t rel;

	if (!has_error_code(v)) {
		*p++ = 0x6a; /* push 0 (imm8)         the missing error code */
		*p++ = 0x00;
	}
	*p++ = 0x6a; /* push v (imm8) */
	*p++ = (uint8_t)v;
	*p++ = 0xe9; /* jmp rel32             to handler_common */
	rel = (int32_t)(HANDLER_COMMON - (KRG_HANDLERS + v * KRG_HANDLER_SIZE + (p - start) + 4));
	memcpy(p, &rel, 4);
}

/* A 64-bit interrupt gate (type 0xE, present, DPL 0) to @target in the kernel code segment. */
static void write_gate(uint8_t *mem, unsigned v, uint64_t target)
{
	uint64_t lo = (target & 0xffff) | (uint64_t)KRG_SEL_KCODE << 16 | 0x8eull << 40 |
		      ((target >> 16) & 0xffff) << 48;
	uint64_t hi = target >> 32;

	memcpy(mem + KRG_IDT + 16 * v, &lo, 8);
	memcpy(mem + KRG_IDT + 16 * v + 8, &hi, 8);
}

/* ----------------------------------------------------------------------------------------- */
/* Tables                                                                                       */

static void put64(uint8_t *mem, uint64_t at, uint64_t v)
{
	memcpy(mem + at, &v, 8);
}

/* Identity map of the first 2 MiB: PML4[0] → PDPT[0] → PD[0], a 2 MiB page; P, RW, US. */
static void write_paging(uint8_t *mem)
{
	put64(mem, KRG_PML4, KRG_PDPT | 0x7);
	put64(mem, KRG_PDPT, KRG_PD | 0x7);
	put64(mem, KRG_PD, 0x0 | 0x87); /* PS: 2 MiB */
}

/* GDT: null, kernel code/data, user code/data (DPL 3), the 64-bit TSS (two slots). */
static void write_gdt(uint8_t *mem)
{
	uint64_t tss_lo = KRG_TSS_LIMIT | (uint64_t)(KRG_TSS & 0xffffff) << 16 | 0x89ull << 40 |
			  (uint64_t)((KRG_TSS >> 24) & 0xff) << 56;

	put64(mem, KRG_GDT + 0x00, 0);
	put64(mem, KRG_GDT + 0x08, 0x00af9a000000ffffull); /* code, L, DPL 0 */
	put64(mem, KRG_GDT + 0x10, 0x00cf92000000ffffull); /* data, DPL 0 */
	put64(mem, KRG_GDT + 0x18, 0x00affa000000ffffull); /* code, L, DPL 3 */
	put64(mem, KRG_GDT + 0x20, 0x00cff2000000ffffull); /* data, DPL 3 */
	put64(mem, KRG_GDT + 0x28, tss_lo);		   /* available 64-bit TSS */
	put64(mem, KRG_GDT + 0x30, 0);			   /* base[63:32] */
}

/*
 * TSS: RSP0 for the handlers, and an I/O permission bitmap for ports 0-255 (all allowed: bits
 * clear), then the 0xFF terminator byte at the limit (SDM Vol. 1 §19.5.2).
 */
static void write_tss(uint8_t *mem)
{
	uint16_t iomap = KRG_TSS_IOMAP;

	put64(mem, KRG_TSS + 4, KRG_KSTACK_TOP);
	memcpy(mem + KRG_TSS + 102, &iomap, 2);
	memset(mem + KRG_TSS + KRG_TSS_IOMAP, 0, 32);
	mem[KRG_TSS + KRG_TSS_LIMIT] = 0xff;
}

static void write_tables(uint8_t *mem)
{
	write_paging(mem);
	write_gdt(mem);
	write_tss(mem);
	for (unsigned v = 0; v < 32; v++) {
		write_handler(mem, v);
		write_gate(mem, v, KRG_HANDLERS + v * KRG_HANDLER_SIZE);
	}
	memcpy(mem + HANDLER_COMMON, handler_common, sizeof(handler_common));
}

/* ----------------------------------------------------------------------------------------- */
/* The VM                                                                                       */

static int fail(struct krg_guest *g, const char *what)
{
	int e = errno ? errno : EIO;

	snprintf(g->why, sizeof(g->why), "%s: %s", what, strerror(e));
	return -e;
}

static int make_memory(struct krg_guest *g)
{
	struct kvm_userspace_memory_region region = {0};

	g->mem =
	    mmap(NULL, KRG_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED) {
		g->mem = NULL;
		return fail(g, "mmap guest memory");
	}
	write_tables(g->mem);
	region.memory_size = KRG_MEM_SIZE;
	region.userspace_addr = (uint64_t)(uintptr_t)g->mem;
	if (ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail(g, "KVM_SET_USER_MEMORY_REGION");
	return 0;
}

/* KVM_GET_SUPPORTED_CPUID → KVM_SET_CPUID2 (the usual VMM start). */
static int set_cpuid(struct krg_guest *g)
{
	enum { N = 256 };
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + N * sizeof(c->entries[0]));
	int rc = 0;

	if (!c)
		return -ENOMEM;
	c->nent = N;
	if (ioctl(g->sys_fd, KVM_GET_SUPPORTED_CPUID, c) < 0)
		rc = fail(g, "KVM_GET_SUPPORTED_CPUID");
	else if (ioctl(g->vcpu_fd, KVM_SET_CPUID2, c) < 0)
		rc = fail(g, "KVM_SET_CPUID2");
	free(c);
	return rc;
}

static int make_vcpu(struct krg_guest *g)
{
	int size;

	g->vcpu_fd = ioctl(g->vm_fd, KVM_CREATE_VCPU, 0);
	if (g->vcpu_fd < 0)
		return fail(g, "KVM_CREATE_VCPU");
	size = ioctl(g->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		return fail(g, "KVM_GET_VCPU_MMAP_SIZE");
	g->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu_fd, 0);
	if (g->run == MAP_FAILED) {
		g->run = NULL;
		return fail(g, "mmap kvm_run");
	}
	g->run_size = (size_t)size;
	return set_cpuid(g);
}

static void on_alarm(int sig)
{
	(void)sig; /* only interrupts KVM_RUN (no SA_RESTART) */
}

int krg_open(struct krg_guest *g)
{
	struct sigaction sa;
	int rc;

	memset(g, 0, sizeof(*g));
	g->sys_fd = g->vm_fd = g->vcpu_fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	g->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (g->sys_fd < 0)
		return fail(g, "open /dev/kvm");
	g->vm_fd = ioctl(g->sys_fd, KVM_CREATE_VM, 0);
	if (g->vm_fd < 0)
		rc = fail(g, "KVM_CREATE_VM");
	else if ((rc = make_memory(g)) == 0 && (rc = make_vcpu(g)) == 0)
		rc = krg_get_xcr0(g, &g->xcr0_default);
	if (rc) {
		char why[sizeof(g->why)];

		memcpy(why, g->why, sizeof(why));
		krg_close(g);
		memcpy(g->why, why, sizeof(why));
	}
	return rc;
}

void krg_close(struct krg_guest *g)
{
	if (g->run)
		munmap(g->run, g->run_size);
	if (g->mem)
		munmap(g->mem, KRG_MEM_SIZE);
	if (g->vcpu_fd >= 0)
		close(g->vcpu_fd);
	if (g->vm_fd >= 0)
		close(g->vm_fd);
	if (g->sys_fd >= 0)
		close(g->sys_fd);
	memset(g, 0, sizeof(*g));
	g->sys_fd = g->vm_fd = g->vcpu_fd = -1;
}

int krg_get_xcr0(struct krg_guest *g, uint64_t *xcr0)
{
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	if (ioctl(g->vcpu_fd, KVM_GET_XCRS, &x) < 0)
		return fail(g, "KVM_GET_XCRS");
	*xcr0 = 0;
	for (unsigned i = 0; i < x.nr_xcrs; i++)
		if (x.xcrs[i].xcr == 0)
			*xcr0 = x.xcrs[i].value;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Entering and running                                                                         */

static struct kvm_segment code_seg(unsigned cpl)
{
	struct kvm_segment s = {
	    .base = 0, .limit = 0xffffffff, .type = 0xb, .present = 1, .s = 1, .l = 1, .g = 1};

	s.dpl = (uint8_t)cpl;
	s.selector = cpl ? KRG_SEL_UCODE : KRG_SEL_KCODE;
	return s;
}

static struct kvm_segment data_seg(unsigned cpl)
{
	struct kvm_segment s = {
	    .base = 0, .limit = 0xffffffff, .type = 0x3, .present = 1, .s = 1, .db = 1, .g = 1};

	s.dpl = (uint8_t)cpl;
	s.selector = cpl ? KRG_SEL_UDATA : KRG_SEL_KDATA;
	return s;
}

/* Long mode, paging on, the CPL in CS.DPL/SS.DPL (CR0: PE MP ET NE WP PG; EFER: LME LMA). */
static void long_mode_sregs(struct kvm_sregs *s, const struct krg_entry *e)
{
	struct kvm_segment tr = {.base = KRG_TSS,
				 .limit = KRG_TSS_LIMIT,
				 .selector = KRG_SEL_TSS,
				 .type = 0xb,
				 .present = 1};
	struct kvm_segment ldt = {.type = 0x2, .unusable = 1};

	s->cs = code_seg(e->cpl);
	s->ds = s->es = s->fs = s->gs = s->ss = data_seg(e->cpl);
	s->tr = tr;
	s->ldt = ldt;
	s->gdt.base = KRG_GDT;
	s->gdt.limit = 7 * 8 - 1;
	s->idt.base = KRG_IDT;
	s->idt.limit = 256 * 16 - 1;
	s->cr0 = 0x80050033;
	s->cr3 = KRG_PML4;
	s->cr4 = e->cr4;
	s->efer = 0x500;
}

int krg_enter(struct krg_guest *g, const struct krg_code *code, const struct krg_entry *e)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	memcpy(g->mem + KRG_CODE, code->bytes, code->len);
	if (ioctl(g->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return fail(g, "KVM_GET_SREGS");
	long_mode_sregs(&s, e);
	if (ioctl(g->vcpu_fd, KVM_SET_SREGS, &s) < 0)
		return fail(g, "KVM_SET_SREGS");
	memset(&r, 0, sizeof(r));
	r.rip = KRG_CODE;
	r.rsp = e->cpl ? KRG_USTACK_TOP : KRG_KSTACK_TOP - 0x800;
	r.rflags = 0x3002; /* IOPL 3 (OUT at CPL3), reserved bit 1, IF = 0 */
	r.rsi = KRG_IN;
	r.rdi = KRG_OUT;
	r.rax = e->rax;
	r.rcx = e->rcx;
	r.rdx = e->rdx;
	if (ioctl(g->vcpu_fd, KVM_SET_REGS, &r) < 0)
		return fail(g, "KVM_SET_REGS");
	return 0;
}

static void classify(struct krg_guest *g, struct krg_result *r)
{
	const struct kvm_run *run = g->run;

	r->exit_reason = run->exit_reason;
	r->outcome = KRG_OTHER_EXIT;
	if (run->exit_reason == KVM_EXIT_IO && run->io.port == KRG_PORT_DONE)
		r->outcome = KRG_DONE;
	if (run->exit_reason == KVM_EXIT_IO && run->io.port == KRG_PORT_FAULT) {
		r->outcome = KRG_FAULT;
		r->vector = (unsigned)(r->regs.rax & 0xff);
		r->error_code = r->regs.rbx;
		r->fault_rip = r->regs.rcx;
	}
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		r->suberror = run->internal.suberror;
}

int krg_run(struct krg_guest *g, struct krg_result *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	alarm(5);
	rc = ioctl(g->vcpu_fd, KVM_RUN, 0);
	alarm(0);
	if (rc < 0)
		return fail(g, "KVM_RUN");
	if (ioctl(g->vcpu_fd, KVM_GET_REGS, &r->regs) < 0)
		return fail(g, "KVM_GET_REGS");
	classify(g, r);
	return 0;
}

int krg_exec(struct krg_guest *g, const struct krg_code *code, const struct krg_entry *e,
	     struct krg_result *r)
{
	int rc = krg_enter(g, code, e);

	return rc ? rc : krg_run(g, r);
}

void krg_describe(const struct krg_result *r, char *buf, size_t len)
{
	static const char *const names[32] = {
	    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#9",  "#TS",
	    "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};

	if (r->outcome == KRG_DONE)
		snprintf(buf, len, "done");
	else if (r->outcome == KRG_FAULT)
		snprintf(buf, len, "%s(0x%llx) at 0x%llx",
			 r->vector < 32 && names[r->vector] ? names[r->vector] : "#?",
			 (unsigned long long)r->error_code, (unsigned long long)r->fault_rip);
	else
		snprintf(buf, len, "exit %u%s%u", r->exit_reason,
			 r->exit_reason == KVM_EXIT_INTERNAL_ERROR ? " suberror " : " ",
			 r->suberror);
}
