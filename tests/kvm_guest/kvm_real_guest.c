/* SPDX-License-Identifier: MIT */
/*
 * The code stubs of the minimal real guest (kvm_real_guest.h): machine code bytes, one
 * instruction a line (Intel SDM Vol. 2 encodings, the macros of src/vmm/real_guest.h; checked
 * with `objdump -D -b binary -mi386:x86-64`).  The VM itself (memory, tables, handlers, KVM_RUN)
 * is the library's src/vmm/real_guest.c, which `vxsave kvm capture` runs too.
 */
#include "kvm_real_guest.h"

#define STUB(id, ...)                                                                              \
	static const uint8_t id##_bytes[] = {__VA_ARGS__};                                         \
	const struct vx_krg_code krg_##id = {#id, id##_bytes, sizeof(id##_bytes)}

/* ----------------------------------------------------------------------------------------- */
/* Code stubs                                                                                   */

STUB(xsetbv, 0x0f, 0x01, 0xd1, /* xsetbv             XCR[ECX] = EDX:EAX */
     KRG_OUT_DONE);	       /* out 0x10, al; hlt */

STUB(xgetbv, 0x0f, 0x01, 0xd0, /* xgetbv             EDX:EAX = XCR[ECX] */
     KRG_OUT_DONE);	       /* out 0x10, al; hlt */

STUB(rdmsr, 0x0f, 0x32, /* rdmsr                     EDX:EAX = MSR[ECX] */
     KRG_OUT_DONE);	/* out 0x10, al; hlt */

STUB(wrmsr, 0x0f, 0x30, /* wrmsr                     MSR[ECX] = EDX:EAX */
     KRG_OUT_DONE);	/* out 0x10, al; hlt */

STUB(out_loop, 0xe6, KRG_PORT_DONE, /* again: out 0x10, al */
     0xeb, 0xfc);		    /* jmp again (rel8 -4) */

STUB(load_xmm, KRG_XMM_LD(0), /* movdqu xmm0, [rsi+0xa0] */
     KRG_XMM_LD(1),	      /* movdqu xmm1, [rsi+0xb0] */
     KRG_XMM_LD(2),	      /* movdqu xmm2, [rsi+0xc0] */
     KRG_XMM_LD(3),	      /* movdqu xmm3, [rsi+0xd0] */
     KRG_XMM_LD(4),	      /* movdqu xmm4, [rsi+0xe0] */
     KRG_XMM_LD(5),	      /* movdqu xmm5, [rsi+0xf0] */
     KRG_XMM_LD(6),	      /* movdqu xmm6, [rsi+0x100] */
     KRG_XMM_LD(7),	      /* movdqu xmm7, [rsi+0x110] */
     KRG_XMM_LD(8),	      /* movdqu xmm8, [rsi+0x120] */
     KRG_XMM_LD(9),	      /* movdqu xmm9, [rsi+0x130] */
     KRG_XMM_LD(10),	      /* movdqu xmm10, [rsi+0x140] */
     KRG_XMM_LD(11),	      /* movdqu xmm11, [rsi+0x150] */
     KRG_XMM_LD(12),	      /* movdqu xmm12, [rsi+0x160] */
     KRG_XMM_LD(13),	      /* movdqu xmm13, [rsi+0x170] */
     KRG_XMM_LD(14),	      /* movdqu xmm14, [rsi+0x180] */
     KRG_XMM_LD(15),	      /* movdqu xmm15, [rsi+0x190] */
     KRG_LDMXCSR,	      /* ldmxcsr [rsi+0xc40] */
     KRG_OUT_DONE);	      /* out 0x10, al; hlt */

STUB(load_ymm, KRG_YMM_LD(0), /* vmovdqu ymm0, [rsi+0x200] */
     KRG_YMM_LD(1),	      /* vmovdqu ymm1, [rsi+0x220] */
     KRG_YMM_LD(2),	      /* vmovdqu ymm2, [rsi+0x240] */
     KRG_YMM_LD(3),	      /* vmovdqu ymm3, [rsi+0x260] */
     KRG_YMM_LD(4),	      /* vmovdqu ymm4, [rsi+0x280] */
     KRG_YMM_LD(5),	      /* vmovdqu ymm5, [rsi+0x2a0] */
     KRG_YMM_LD(6),	      /* vmovdqu ymm6, [rsi+0x2c0] */
     KRG_YMM_LD(7),	      /* vmovdqu ymm7, [rsi+0x2e0] */
     KRG_YMM_LD(8),	      /* vmovdqu ymm8, [rsi+0x300] */
     KRG_YMM_LD(9),	      /* vmovdqu ymm9, [rsi+0x320] */
     KRG_YMM_LD(10),	      /* vmovdqu ymm10, [rsi+0x340] */
     KRG_YMM_LD(11),	      /* vmovdqu ymm11, [rsi+0x360] */
     KRG_YMM_LD(12),	      /* vmovdqu ymm12, [rsi+0x380] */
     KRG_YMM_LD(13),	      /* vmovdqu ymm13, [rsi+0x3a0] */
     KRG_YMM_LD(14),	      /* vmovdqu ymm14, [rsi+0x3c0] */
     KRG_YMM_LD(15),	      /* vmovdqu ymm15, [rsi+0x3e0] */
     KRG_LDMXCSR,	      /* ldmxcsr [rsi+0xc40] */
     KRG_OUT_DONE);	      /* out 0x10, al; hlt */

STUB(load_zmm, KRG_ZMM_LD(0), /* vmovdqu64 zmm0, [rsi+0x400] */
     KRG_ZMM_LD(1),	      /* vmovdqu64 zmm1, [rsi+0x440] */
     KRG_ZMM_LD(2),	      /* vmovdqu64 zmm2, [rsi+0x480] */
     KRG_ZMM_LD(3),	      /* vmovdqu64 zmm3, [rsi+0x4c0] */
     KRG_ZMM_LD(4),	      /* vmovdqu64 zmm4, [rsi+0x500] */
     KRG_ZMM_LD(5),	      /* vmovdqu64 zmm5, [rsi+0x540] */
     KRG_ZMM_LD(6),	      /* vmovdqu64 zmm6, [rsi+0x580] */
     KRG_ZMM_LD(7),	      /* vmovdqu64 zmm7, [rsi+0x5c0] */
     KRG_ZMM_LD(8),	      /* vmovdqu64 zmm8, [rsi+0x600] */
     KRG_ZMM_LD(9),	      /* vmovdqu64 zmm9, [rsi+0x640] */
     KRG_ZMM_LD(10),	      /* vmovdqu64 zmm10, [rsi+0x680] */
     KRG_ZMM_LD(11),	      /* vmovdqu64 zmm11, [rsi+0x6c0] */
     KRG_ZMM_LD(12),	      /* vmovdqu64 zmm12, [rsi+0x700] */
     KRG_ZMM_LD(13),	      /* vmovdqu64 zmm13, [rsi+0x740] */
     KRG_ZMM_LD(14),	      /* vmovdqu64 zmm14, [rsi+0x780] */
     KRG_ZMM_LD(15),	      /* vmovdqu64 zmm15, [rsi+0x7c0] */
     KRG_ZMM_LD(16),	      /* vmovdqu64 zmm16, [rsi+0x800] */
     KRG_ZMM_LD(17),	      /* vmovdqu64 zmm17, [rsi+0x840] */
     KRG_ZMM_LD(18),	      /* vmovdqu64 zmm18, [rsi+0x880] */
     KRG_ZMM_LD(19),	      /* vmovdqu64 zmm19, [rsi+0x8c0] */
     KRG_ZMM_LD(20),	      /* vmovdqu64 zmm20, [rsi+0x900] */
     KRG_ZMM_LD(21),	      /* vmovdqu64 zmm21, [rsi+0x940] */
     KRG_ZMM_LD(22),	      /* vmovdqu64 zmm22, [rsi+0x980] */
     KRG_ZMM_LD(23),	      /* vmovdqu64 zmm23, [rsi+0x9c0] */
     KRG_ZMM_LD(24),	      /* vmovdqu64 zmm24, [rsi+0xa00] */
     KRG_ZMM_LD(25),	      /* vmovdqu64 zmm25, [rsi+0xa40] */
     KRG_ZMM_LD(26),	      /* vmovdqu64 zmm26, [rsi+0xa80] */
     KRG_ZMM_LD(27),	      /* vmovdqu64 zmm27, [rsi+0xac0] */
     KRG_ZMM_LD(28),	      /* vmovdqu64 zmm28, [rsi+0xb00] */
     KRG_ZMM_LD(29),	      /* vmovdqu64 zmm29, [rsi+0xb40] */
     KRG_ZMM_LD(30),	      /* vmovdqu64 zmm30, [rsi+0xb80] */
     KRG_ZMM_LD(31),	      /* vmovdqu64 zmm31, [rsi+0xbc0] */
     KRG_K_LD(0),	      /* kmovq k0, [rsi+0xc00] */
     KRG_K_LD(1),	      /* kmovq k1, [rsi+0xc08] */
     KRG_K_LD(2),	      /* kmovq k2, [rsi+0xc10] */
     KRG_K_LD(3),	      /* kmovq k3, [rsi+0xc18] */
     KRG_K_LD(4),	      /* kmovq k4, [rsi+0xc20] */
     KRG_K_LD(5),	      /* kmovq k5, [rsi+0xc28] */
     KRG_K_LD(6),	      /* kmovq k6, [rsi+0xc30] */
     KRG_K_LD(7),	      /* kmovq k7, [rsi+0xc38] */
     KRG_LDMXCSR,	      /* ldmxcsr [rsi+0xc40] */
     KRG_OUT_DONE);	      /* out 0x10, al; hlt */

STUB(store_ymm, KRG_FXSAVE64, /* fxsave64 [rdi]: x87, MXCSR, XMM0-15 */
     KRG_YMM_ST(0),	      /* vmovdqu [rdi+0x200], ymm0 */
     KRG_YMM_ST(1),	      /* vmovdqu [rdi+0x220], ymm1 */
     KRG_YMM_ST(2),	      /* vmovdqu [rdi+0x240], ymm2 */
     KRG_YMM_ST(3),	      /* vmovdqu [rdi+0x260], ymm3 */
     KRG_YMM_ST(4),	      /* vmovdqu [rdi+0x280], ymm4 */
     KRG_YMM_ST(5),	      /* vmovdqu [rdi+0x2a0], ymm5 */
     KRG_YMM_ST(6),	      /* vmovdqu [rdi+0x2c0], ymm6 */
     KRG_YMM_ST(7),	      /* vmovdqu [rdi+0x2e0], ymm7 */
     KRG_YMM_ST(8),	      /* vmovdqu [rdi+0x300], ymm8 */
     KRG_YMM_ST(9),	      /* vmovdqu [rdi+0x320], ymm9 */
     KRG_YMM_ST(10),	      /* vmovdqu [rdi+0x340], ymm10 */
     KRG_YMM_ST(11),	      /* vmovdqu [rdi+0x360], ymm11 */
     KRG_YMM_ST(12),	      /* vmovdqu [rdi+0x380], ymm12 */
     KRG_YMM_ST(13),	      /* vmovdqu [rdi+0x3a0], ymm13 */
     KRG_YMM_ST(14),	      /* vmovdqu [rdi+0x3c0], ymm14 */
     KRG_YMM_ST(15),	      /* vmovdqu [rdi+0x3e0], ymm15 */
     KRG_STMXCSR,	      /* stmxcsr [rdi+0xc40] */
     KRG_OUT_DONE);	      /* out 0x10, al; hlt */

STUB(store_zmm, KRG_FXSAVE64, /* fxsave64 [rdi]: x87, MXCSR, XMM0-15 */
     KRG_YMM_ST(0),	      /* vmovdqu [rdi+0x200], ymm0 */
     KRG_YMM_ST(1),	      /* vmovdqu [rdi+0x220], ymm1 */
     KRG_YMM_ST(2),	      /* vmovdqu [rdi+0x240], ymm2 */
     KRG_YMM_ST(3),	      /* vmovdqu [rdi+0x260], ymm3 */
     KRG_YMM_ST(4),	      /* vmovdqu [rdi+0x280], ymm4 */
     KRG_YMM_ST(5),	      /* vmovdqu [rdi+0x2a0], ymm5 */
     KRG_YMM_ST(6),	      /* vmovdqu [rdi+0x2c0], ymm6 */
     KRG_YMM_ST(7),	      /* vmovdqu [rdi+0x2e0], ymm7 */
     KRG_YMM_ST(8),	      /* vmovdqu [rdi+0x300], ymm8 */
     KRG_YMM_ST(9),	      /* vmovdqu [rdi+0x320], ymm9 */
     KRG_YMM_ST(10),	      /* vmovdqu [rdi+0x340], ymm10 */
     KRG_YMM_ST(11),	      /* vmovdqu [rdi+0x360], ymm11 */
     KRG_YMM_ST(12),	      /* vmovdqu [rdi+0x380], ymm12 */
     KRG_YMM_ST(13),	      /* vmovdqu [rdi+0x3a0], ymm13 */
     KRG_YMM_ST(14),	      /* vmovdqu [rdi+0x3c0], ymm14 */
     KRG_YMM_ST(15),	      /* vmovdqu [rdi+0x3e0], ymm15 */
     KRG_ZMM_ST(0),	      /* vmovdqu64 [rdi+0x400], zmm0 */
     KRG_ZMM_ST(1),	      /* vmovdqu64 [rdi+0x440], zmm1 */
     KRG_ZMM_ST(2),	      /* vmovdqu64 [rdi+0x480], zmm2 */
     KRG_ZMM_ST(3),	      /* vmovdqu64 [rdi+0x4c0], zmm3 */
     KRG_ZMM_ST(4),	      /* vmovdqu64 [rdi+0x500], zmm4 */
     KRG_ZMM_ST(5),	      /* vmovdqu64 [rdi+0x540], zmm5 */
     KRG_ZMM_ST(6),	      /* vmovdqu64 [rdi+0x580], zmm6 */
     KRG_ZMM_ST(7),	      /* vmovdqu64 [rdi+0x5c0], zmm7 */
     KRG_ZMM_ST(8),	      /* vmovdqu64 [rdi+0x600], zmm8 */
     KRG_ZMM_ST(9),	      /* vmovdqu64 [rdi+0x640], zmm9 */
     KRG_ZMM_ST(10),	      /* vmovdqu64 [rdi+0x680], zmm10 */
     KRG_ZMM_ST(11),	      /* vmovdqu64 [rdi+0x6c0], zmm11 */
     KRG_ZMM_ST(12),	      /* vmovdqu64 [rdi+0x700], zmm12 */
     KRG_ZMM_ST(13),	      /* vmovdqu64 [rdi+0x740], zmm13 */
     KRG_ZMM_ST(14),	      /* vmovdqu64 [rdi+0x780], zmm14 */
     KRG_ZMM_ST(15),	      /* vmovdqu64 [rdi+0x7c0], zmm15 */
     KRG_ZMM_ST(16),	      /* vmovdqu64 [rdi+0x800], zmm16 */
     KRG_ZMM_ST(17),	      /* vmovdqu64 [rdi+0x840], zmm17 */
     KRG_ZMM_ST(18),	      /* vmovdqu64 [rdi+0x880], zmm18 */
     KRG_ZMM_ST(19),	      /* vmovdqu64 [rdi+0x8c0], zmm19 */
     KRG_ZMM_ST(20),	      /* vmovdqu64 [rdi+0x900], zmm20 */
     KRG_ZMM_ST(21),	      /* vmovdqu64 [rdi+0x940], zmm21 */
     KRG_ZMM_ST(22),	      /* vmovdqu64 [rdi+0x980], zmm22 */
     KRG_ZMM_ST(23),	      /* vmovdqu64 [rdi+0x9c0], zmm23 */
     KRG_ZMM_ST(24),	      /* vmovdqu64 [rdi+0xa00], zmm24 */
     KRG_ZMM_ST(25),	      /* vmovdqu64 [rdi+0xa40], zmm25 */
     KRG_ZMM_ST(26),	      /* vmovdqu64 [rdi+0xa80], zmm26 */
     KRG_ZMM_ST(27),	      /* vmovdqu64 [rdi+0xac0], zmm27 */
     KRG_ZMM_ST(28),	      /* vmovdqu64 [rdi+0xb00], zmm28 */
     KRG_ZMM_ST(29),	      /* vmovdqu64 [rdi+0xb40], zmm29 */
     KRG_ZMM_ST(30),	      /* vmovdqu64 [rdi+0xb80], zmm30 */
     KRG_ZMM_ST(31),	      /* vmovdqu64 [rdi+0xbc0], zmm31 */
     KRG_K_ST(0),	      /* kmovq [rdi+0xc00], k0 */
     KRG_K_ST(1),	      /* kmovq [rdi+0xc08], k1 */
     KRG_K_ST(2),	      /* kmovq [rdi+0xc10], k2 */
     KRG_K_ST(3),	      /* kmovq [rdi+0xc18], k3 */
     KRG_K_ST(4),	      /* kmovq [rdi+0xc20], k4 */
     KRG_K_ST(5),	      /* kmovq [rdi+0xc28], k5 */
     KRG_K_ST(6),	      /* kmovq [rdi+0xc30], k6 */
     KRG_K_ST(7),	      /* kmovq [rdi+0xc38], k7 */
     KRG_STMXCSR,	      /* stmxcsr [rdi+0xc40] */
     KRG_OUT_DONE);	      /* out 0x10, al; hlt */
