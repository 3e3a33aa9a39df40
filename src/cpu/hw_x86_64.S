/* SPDX-License-Identifier: MIT */
/*
 * vxsave hardware backend: the one assembly routine that loads the extended state, runs the
 * instruction under test and reads the registers back, with no compiled code in between
 * (compiled C uses the XMM registers freely, so it must never run inside the sequence).
 *
 * Register use inside vx_hw_asm_run():
 *   %rbx  the struct vx_hw_asm_ctx pointer (callee-saved; survives the fault path, because
 *         the kernel saves and restores every GPR around a signal handler)
 *   %r14  the current stage (VX_HW_STAGE_*): the fault path records it
 *   %r12, %r13, %r15  written by the signal handler: signal number, si_code, si_addr
 *
 * The field offsets below must match struct vx_hw_asm_ctx in hw.c (checked there with
 * _Static_assert).
 */
#if defined(__x86_64__) && defined(__linux__)

#define CTX_FLAGS	0
#define CTX_LOAD	8
#define CTX_LOAD_MASK	16
#define CTX_TOUCH	24
#define CTX_TOUCH_SRC	32
#define CTX_PRE_KIND	40
#define CTX_PRE_AREA	48
#define CTX_PRE_MASK	56
#define CTX_PATCH_DST	64
#define CTX_PATCH_SRC	72
#define CTX_PATCH_LEN	80
#define CTX_OP		88
#define CTX_AREA	96
#define CTX_MASK	104
#define CTX_ECX		112
#define CTX_OUT		120
#define CTX_XINUSE	128
#define CTX_RAX		136
#define CTX_RDX		144
#define CTX_SIGNO	152
#define CTX_SICODE	160
#define CTX_STAGE	168
#define CTX_ADDR	176
#define CTX_OFF_AVX	184
#define CTX_OFF_K	188
#define CTX_OFF_ZMMH	192
#define CTX_OFF_HI16	196
#define CTX_OFF_PKRU	200
#define CTX_MXCSR	208
#define CTX_FCW		212
#define CTX_PKRU_SAVED	216
#define CTX_SCRATCH	256
#define CTX_RESTORE	768

/* CTX_FLAGS bits */
#define F_AVX		1
#define F_AVX512	2
#define F_PKRU		4
#define F_XGETBV1	8
#define F_AC		16

/* touch bits (public VX_HW_TOUCH_*) */
#define T_X87		(1 << 0)
#define T_SSE		(1 << 1)
#define T_AVX		(1 << 2)
#define T_OPMASK	(1 << 5)
#define T_ZMMH		(1 << 6)
#define T_HI16		(1 << 7)
#define T_PKRU		(1 << 9)
#define T_FNINIT_BIT	32
#define T_FLDZ_BIT	33
#define T_LDMXCSR_BIT	34
#define T_VZU_BIT	35
#define T_VZA_BIT	36

	.text

	.p2align 6
	.globl	vx_hw_asm_run
	.hidden	vx_hw_asm_run
	.type	vx_hw_asm_run, @function
/* void vx_hw_asm_run(struct vx_hw_asm_ctx *ctx) */
vx_hw_asm_run:
	.cfi_startproc
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	movq	%rdi, %rbx
	/* MXCSR and the x87 control word are callee-saved in the SysV ABI. */
	stmxcsr	CTX_MXCSR(%rbx)
	fnstcw	CTX_FCW(%rbx)
	/* PKRU is process policy, not scratch state: keep the caller's value. */
	testq	$F_PKRU, CTX_FLAGS(%rbx)
	jz	1f
	xorl	%ecx, %ecx
	rdpkru
	movl	%eax, CTX_PKRU_SAVED(%rbx)
1:

	.globl	vx_hw_asm_fault_begin
	.hidden	vx_hw_asm_fault_begin
vx_hw_asm_fault_begin:
	/* Stage 1: load every enabled component with XRSTOR64 (RFBM from ctx). */
	movl	$1, %r14d
	movq	CTX_LOAD(%rbx), %rdi
	movq	CTX_LOAD_MASK(%rbx), %rax
	movq	%rax, %rdx
	shrq	$32, %rdx
	xrstor64 (%rdi)

	/* Stage 2: touches, with plain register writes. */
	movl	$2, %r14d
	movq	CTX_TOUCH(%rbx), %rbp
	movq	CTX_TOUCH_SRC(%rbx), %rsi

	testq	$T_X87, %rbp
	jz	1f
	/* x87 only: FXSAVE64 the current state, overlay bytes 0-23 and 32-159, FXRSTOR64. */
	leaq	CTX_SCRATCH(%rbx), %rdi
	fxsave64 (%rdi)
	movq	(%rsi), %rax
	movq	%rax, (%rdi)
	movq	8(%rsi), %rax
	movq	%rax, 8(%rdi)
	movq	16(%rsi), %rax
	movq	%rax, 16(%rdi)
	pushq	%rsi
	leaq	32(%rsi), %rsi
	leaq	32(%rdi), %rdi
	movl	$128, %ecx
	rep movsb
	popq	%rsi
	leaq	CTX_SCRATCH(%rbx), %rdi
	fxrstor64 (%rdi)
1:
	testq	$T_SSE, %rbp
	jz	1f
	movdqu	160+16*0(%rsi), %xmm0
	movdqu	160+16*1(%rsi), %xmm1
	movdqu	160+16*2(%rsi), %xmm2
	movdqu	160+16*3(%rsi), %xmm3
	movdqu	160+16*4(%rsi), %xmm4
	movdqu	160+16*5(%rsi), %xmm5
	movdqu	160+16*6(%rsi), %xmm6
	movdqu	160+16*7(%rsi), %xmm7
	movdqu	160+16*8(%rsi), %xmm8
	movdqu	160+16*9(%rsi), %xmm9
	movdqu	160+16*10(%rsi), %xmm10
	movdqu	160+16*11(%rsi), %xmm11
	movdqu	160+16*12(%rsi), %xmm12
	movdqu	160+16*13(%rsi), %xmm13
	movdqu	160+16*14(%rsi), %xmm14
	movdqu	160+16*15(%rsi), %xmm15
	ldmxcsr	24(%rsi)
1:
	testq	$T_AVX, %rbp
	jz	2f
	movl	CTX_OFF_AVX(%rbx), %eax
	leaq	(%rsi,%rax), %rdi
	testq	$F_AVX512, CTX_FLAGS(%rbx)
	jz	1f
	/* EVEX form: replaces bits 255:128 and keeps bits 511:256. */
	vinserti32x4 $1, 16*0(%rdi), %zmm0, %zmm0
	vinserti32x4 $1, 16*1(%rdi), %zmm1, %zmm1
	vinserti32x4 $1, 16*2(%rdi), %zmm2, %zmm2
	vinserti32x4 $1, 16*3(%rdi), %zmm3, %zmm3
	vinserti32x4 $1, 16*4(%rdi), %zmm4, %zmm4
	vinserti32x4 $1, 16*5(%rdi), %zmm5, %zmm5
	vinserti32x4 $1, 16*6(%rdi), %zmm6, %zmm6
	vinserti32x4 $1, 16*7(%rdi), %zmm7, %zmm7
	vinserti32x4 $1, 16*8(%rdi), %zmm8, %zmm8
	vinserti32x4 $1, 16*9(%rdi), %zmm9, %zmm9
	vinserti32x4 $1, 16*10(%rdi), %zmm10, %zmm10
	vinserti32x4 $1, 16*11(%rdi), %zmm11, %zmm11
	vinserti32x4 $1, 16*12(%rdi), %zmm12, %zmm12
	vinserti32x4 $1, 16*13(%rdi), %zmm13, %zmm13
	vinserti32x4 $1, 16*14(%rdi), %zmm14, %zmm14
	vinserti32x4 $1, 16*15(%rdi), %zmm15, %zmm15
	jmp	2f
1:
	vinserti128 $1, 16*0(%rdi), %ymm0, %ymm0
	vinserti128 $1, 16*1(%rdi), %ymm1, %ymm1
	vinserti128 $1, 16*2(%rdi), %ymm2, %ymm2
	vinserti128 $1, 16*3(%rdi), %ymm3, %ymm3
	vinserti128 $1, 16*4(%rdi), %ymm4, %ymm4
	vinserti128 $1, 16*5(%rdi), %ymm5, %ymm5
	vinserti128 $1, 16*6(%rdi), %ymm6, %ymm6
	vinserti128 $1, 16*7(%rdi), %ymm7, %ymm7
	vinserti128 $1, 16*8(%rdi), %ymm8, %ymm8
	vinserti128 $1, 16*9(%rdi), %ymm9, %ymm9
	vinserti128 $1, 16*10(%rdi), %ymm10, %ymm10
	vinserti128 $1, 16*11(%rdi), %ymm11, %ymm11
	vinserti128 $1, 16*12(%rdi), %ymm12, %ymm12
	vinserti128 $1, 16*13(%rdi), %ymm13, %ymm13
	vinserti128 $1, 16*14(%rdi), %ymm14, %ymm14
	vinserti128 $1, 16*15(%rdi), %ymm15, %ymm15
2:
	testq	$F_AVX512, CTX_FLAGS(%rbx)
	jz	3f
	testq	$T_ZMMH, %rbp
	jz	1f
	movl	CTX_OFF_ZMMH(%rbx), %eax
	leaq	(%rsi,%rax), %rdi
	vinserti64x4 $1, 32*0(%rdi), %zmm0, %zmm0
	vinserti64x4 $1, 32*1(%rdi), %zmm1, %zmm1
	vinserti64x4 $1, 32*2(%rdi), %zmm2, %zmm2
	vinserti64x4 $1, 32*3(%rdi), %zmm3, %zmm3
	vinserti64x4 $1, 32*4(%rdi), %zmm4, %zmm4
	vinserti64x4 $1, 32*5(%rdi), %zmm5, %zmm5
	vinserti64x4 $1, 32*6(%rdi), %zmm6, %zmm6
	vinserti64x4 $1, 32*7(%rdi), %zmm7, %zmm7
	vinserti64x4 $1, 32*8(%rdi), %zmm8, %zmm8
	vinserti64x4 $1, 32*9(%rdi), %zmm9, %zmm9
	vinserti64x4 $1, 32*10(%rdi), %zmm10, %zmm10
	vinserti64x4 $1, 32*11(%rdi), %zmm11, %zmm11
	vinserti64x4 $1, 32*12(%rdi), %zmm12, %zmm12
	vinserti64x4 $1, 32*13(%rdi), %zmm13, %zmm13
	vinserti64x4 $1, 32*14(%rdi), %zmm14, %zmm14
	vinserti64x4 $1, 32*15(%rdi), %zmm15, %zmm15
1:
	testq	$T_HI16, %rbp
	jz	1f
	movl	CTX_OFF_HI16(%rbx), %eax
	leaq	(%rsi,%rax), %rdi
	vmovdqu64 64*0(%rdi), %zmm16
	vmovdqu64 64*1(%rdi), %zmm17
	vmovdqu64 64*2(%rdi), %zmm18
	vmovdqu64 64*3(%rdi), %zmm19
	vmovdqu64 64*4(%rdi), %zmm20
	vmovdqu64 64*5(%rdi), %zmm21
	vmovdqu64 64*6(%rdi), %zmm22
	vmovdqu64 64*7(%rdi), %zmm23
	vmovdqu64 64*8(%rdi), %zmm24
	vmovdqu64 64*9(%rdi), %zmm25
	vmovdqu64 64*10(%rdi), %zmm26
	vmovdqu64 64*11(%rdi), %zmm27
	vmovdqu64 64*12(%rdi), %zmm28
	vmovdqu64 64*13(%rdi), %zmm29
	vmovdqu64 64*14(%rdi), %zmm30
	vmovdqu64 64*15(%rdi), %zmm31
1:
	testq	$T_OPMASK, %rbp
	jz	3f
	movl	CTX_OFF_K(%rbx), %eax
	leaq	(%rsi,%rax), %rdi
	kmovq	8*0(%rdi), %k0
	kmovq	8*1(%rdi), %k1
	kmovq	8*2(%rdi), %k2
	kmovq	8*3(%rdi), %k3
	kmovq	8*4(%rdi), %k4
	kmovq	8*5(%rdi), %k5
	kmovq	8*6(%rdi), %k6
	kmovq	8*7(%rdi), %k7
3:
	testq	$T_PKRU, %rbp
	jz	1f
	testq	$F_PKRU, CTX_FLAGS(%rbx)
	jz	1f
	movl	CTX_OFF_PKRU(%rbx), %eax
	movl	(%rsi,%rax), %eax
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	wrpkru
1:
	btq	$T_FNINIT_BIT, %rbp
	jnc	1f
	fninit
1:
	btq	$T_FLDZ_BIT, %rbp
	jnc	1f
	fldz
	fstp	%st(0)
1:
	btq	$T_LDMXCSR_BIT, %rbp
	jnc	1f
	ldmxcsr	24(%rsi)
1:
	btq	$T_VZU_BIT, %rbp
	jnc	1f
	vzeroupper
1:
	btq	$T_VZA_BIT, %rbp
	jnc	1f
	vzeroall
1:

	/* Stage 3: optional XRSTOR / XRSTOR64 from a second area. */
	movl	$3, %r14d
	movq	CTX_PRE_KIND(%rbx), %rcx
	movq	CTX_PRE_AREA(%rbx), %rdi
	movq	CTX_PRE_MASK(%rbx), %rax
	movq	%rax, %rdx
	shrq	$32, %rdx
	cmpq	$1, %rcx
	jne	1f
	xrstor	(%rdi)
	jmp	2f
1:
	cmpq	$2, %rcx
	jne	2f
	xrstor64 (%rdi)
2:
	/* Stage 4: optional byte patch of memory with GPR-only moves (rep movsb). */
	movl	$4, %r14d
	movq	CTX_PATCH_LEN(%rbx), %rcx
	testq	%rcx, %rcx
	jz	1f
	movq	CTX_PATCH_DST(%rbx), %rdi
	movq	CTX_PATCH_SRC(%rbx), %rsi
	rep movsb
1:
	/* Stage 5: the instruction under test. */
	movl	$5, %r14d
	movq	CTX_AREA(%rbx), %rdi
	movq	CTX_MASK(%rbx), %rax
	movq	%rax, %rdx
	shrq	$32, %rdx
	movl	CTX_ECX(%rbx), %ecx
	movq	CTX_OP(%rbx), %rsi
	cmpq	$OP_COUNT, %rsi
	jae	.Lop_done
	leaq	.Lop_table(%rip), %rbp
	movslq	(%rbp,%rsi,4), %rsi
	addq	%rbp, %rsi
	testq	$F_AC, CTX_FLAGS(%rbx)
	jz	1f
	/* EFLAGS.AC=1: alignment checking at CPL3 (Linux runs with CR0.AM=1). */
	pushfq
	orq	$0x40000, (%rsp)
	popfq
1:
	jmp	*%rsi

.Lop_xsave:	xsave	(%rdi)
	jmp	.Lop_done
.Lop_xsave64:	xsave64	(%rdi)
	jmp	.Lop_done
.Lop_xsaveopt:	xsaveopt (%rdi)
	jmp	.Lop_done
.Lop_xsaveopt64: xsaveopt64 (%rdi)
	jmp	.Lop_done
.Lop_xsavec:	xsavec	(%rdi)
	jmp	.Lop_done
.Lop_xsavec64:	xsavec64 (%rdi)
	jmp	.Lop_done
.Lop_xrstor:	xrstor	(%rdi)
	jmp	.Lop_done
.Lop_xrstor64:	xrstor64 (%rdi)
	jmp	.Lop_done
.Lop_xgetbv:	xgetbv
	movq	%rax, CTX_RAX(%rbx)
	movq	%rdx, CTX_RDX(%rbx)
	jmp	.Lop_done
.Lop_xsaves:	xsaves	(%rdi)
	jmp	.Lop_done
.Lop_xsaves64:	xsaves64 (%rdi)
	jmp	.Lop_done
.Lop_xrstors:	xrstors	(%rdi)
	jmp	.Lop_done
.Lop_xrstors64:	xrstors64 (%rdi)
	jmp	.Lop_done
.Lop_xsetbv:	xsetbv
	jmp	.Lop_done
.Lop_lock_xsave:
	/* LOCK XSAVE (%rdi): F0 0F AE /4, modrm 0x27 */
	.byte	0xf0, 0x0f, 0xae, 0x27
	jmp	.Lop_done
.Lop_fxsave64:	fxsave64 (%rdi)
	jmp	.Lop_done
.Lop_fxrstor64:	fxrstor64 (%rdi)
	jmp	.Lop_done
.Lop_none:
	jmp	.Lop_done

	.globl	vx_hw_asm_recover
	.hidden	vx_hw_asm_recover
vx_hw_asm_recover:
	/* The signal handler sends a fault here, with r12/r13/r15 set and r14 = stage. */
	movq	%r12, CTX_SIGNO(%rbx)
	movq	%r13, CTX_SICODE(%rbx)
	movq	%r14, CTX_STAGE(%rbx)
	movq	%r15, CTX_ADDR(%rbx)
	.globl	vx_hw_asm_fault_end
	.hidden	vx_hw_asm_fault_end
vx_hw_asm_fault_end:

.Lop_done:
	testq	$F_AC, CTX_FLAGS(%rbx)
	jz	1f
	pushfq
	andq	$~0x40000, (%rsp)
	popfq
1:
	/* Stage 6: XINUSE first, then the registers, by non-XSAVE instructions only. */
	testq	$F_XGETBV1, CTX_FLAGS(%rbx)
	jz	1f
	movl	$1, %ecx
	xgetbv
	shlq	$32, %rdx
	movl	%eax, %eax
	orq	%rdx, %rax
	movq	%rax, CTX_XINUSE(%rbx)
1:
	movq	CTX_OUT(%rbx), %rsi
	fxsave64 (%rsi)
	testq	$F_AVX, CTX_FLAGS(%rbx)
	jz	3f
	movl	CTX_OFF_AVX(%rbx), %eax
	leaq	(%rsi,%rax), %rdi
	vextracti128 $1, %ymm0, 16*0(%rdi)
	vextracti128 $1, %ymm1, 16*1(%rdi)
	vextracti128 $1, %ymm2, 16*2(%rdi)
	vextracti128 $1, %ymm3, 16*3(%rdi)
	vextracti128 $1, %ymm4, 16*4(%rdi)
	vextracti128 $1, %ymm5, 16*5(%rdi)
	vextracti128 $1, %ymm6, 16*6(%rdi)
	vextracti128 $1, %ymm7, 16*7(%rdi)
	vextracti128 $1, %ymm8, 16*8(%rdi)
	vextracti128 $1, %ymm9, 16*9(%rdi)
	vextracti128 $1, %ymm10, 16*10(%rdi)
	vextracti128 $1, %ymm11, 16*11(%rdi)
	vextracti128 $1, %ymm12, 16*12(%rdi)
	vextracti128 $1, %ymm13, 16*13(%rdi)
	vextracti128 $1, %ymm14, 16*14(%rdi)
	vextracti128 $1, %ymm15, 16*15(%rdi)
	testq	$F_AVX512, CTX_FLAGS(%rbx)
	jz	3f
	movl	CTX_OFF_K(%rbx), %eax
	leaq	(%rsi,%rax), %rdi
	kmovq	%k0, 8*0(%rdi)
	kmovq	%k1, 8*1(%rdi)
	kmovq	%k2, 8*2(%rdi)
	kmovq	%k3, 8*3(%rdi)
	kmovq	%k4, 8*4(%rdi)
	kmovq	%k5, 8*5(%rdi)
	kmovq	%k6, 8*6(%rdi)
	kmovq	%k7, 8*7(%rdi)
	movl	CTX_OFF_ZMMH(%rbx), %eax
	leaq	(%rsi,%rax), %rdi
	vextracti64x4 $1, %zmm0, 32*0(%rdi)
	vextracti64x4 $1, %zmm1, 32*1(%rdi)
	vextracti64x4 $1, %zmm2, 32*2(%rdi)
	vextracti64x4 $1, %zmm3, 32*3(%rdi)
	vextracti64x4 $1, %zmm4, 32*4(%rdi)
	vextracti64x4 $1, %zmm5, 32*5(%rdi)
	vextracti64x4 $1, %zmm6, 32*6(%rdi)
	vextracti64x4 $1, %zmm7, 32*7(%rdi)
	vextracti64x4 $1, %zmm8, 32*8(%rdi)
	vextracti64x4 $1, %zmm9, 32*9(%rdi)
	vextracti64x4 $1, %zmm10, 32*10(%rdi)
	vextracti64x4 $1, %zmm11, 32*11(%rdi)
	vextracti64x4 $1, %zmm12, 32*12(%rdi)
	vextracti64x4 $1, %zmm13, 32*13(%rdi)
	vextracti64x4 $1, %zmm14, 32*14(%rdi)
	vextracti64x4 $1, %zmm15, 32*15(%rdi)
	movl	CTX_OFF_HI16(%rbx), %eax
	leaq	(%rsi,%rax), %rdi
	vmovdqu64 %zmm16, 64*0(%rdi)
	vmovdqu64 %zmm17, 64*1(%rdi)
	vmovdqu64 %zmm18, 64*2(%rdi)
	vmovdqu64 %zmm19, 64*3(%rdi)
	vmovdqu64 %zmm20, 64*4(%rdi)
	vmovdqu64 %zmm21, 64*5(%rdi)
	vmovdqu64 %zmm22, 64*6(%rdi)
	vmovdqu64 %zmm23, 64*7(%rdi)
	vmovdqu64 %zmm24, 64*8(%rdi)
	vmovdqu64 %zmm25, 64*9(%rdi)
	vmovdqu64 %zmm26, 64*10(%rdi)
	vmovdqu64 %zmm27, 64*11(%rdi)
	vmovdqu64 %zmm28, 64*12(%rdi)
	vmovdqu64 %zmm29, 64*13(%rdi)
	vmovdqu64 %zmm30, 64*14(%rdi)
	vmovdqu64 %zmm31, 64*15(%rdi)
3:
	testq	$F_PKRU, CTX_FLAGS(%rbx)
	jz	1f
	xorl	%ecx, %ecx
	rdpkru
	movl	CTX_OFF_PKRU(%rbx), %ecx
	movl	%eax, (%rsi,%rcx)
1:
	/* Leave every component in its initial configuration (cheap for the caller, and the
	 * ABI wants an empty x87 stack), then give back the caller's MXCSR and FCW. */
	leaq	CTX_RESTORE(%rbx), %rdi
	movq	$~(1 << 9), %rax
	movq	$-1, %rdx
	xrstor64 (%rdi)
	ldmxcsr	CTX_MXCSR(%rbx)
	fldcw	CTX_FCW(%rbx)
	testq	$F_PKRU, CTX_FLAGS(%rbx)
	jz	1f
	movl	CTX_PKRU_SAVED(%rbx), %eax
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	wrpkru
1:

	popq	%r15
	.cfi_adjust_cfa_offset -8
	popq	%r14
	.cfi_adjust_cfa_offset -8
	popq	%r13
	.cfi_adjust_cfa_offset -8
	popq	%r12
	.cfi_adjust_cfa_offset -8
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc

	.p2align 2
/* Indexed by enum vx_hw_op (include/vxsave/cpu_hw.h). */
.Lop_table:
	.long	.Lop_none - .Lop_table
	.long	.Lop_xsave - .Lop_table
	.long	.Lop_xsave64 - .Lop_table
	.long	.Lop_xsaveopt - .Lop_table
	.long	.Lop_xsaveopt64 - .Lop_table
	.long	.Lop_xsavec - .Lop_table
	.long	.Lop_xsavec64 - .Lop_table
	.long	.Lop_xrstor - .Lop_table
	.long	.Lop_xrstor64 - .Lop_table
	.long	.Lop_xgetbv - .Lop_table
	.long	.Lop_xsaves - .Lop_table
	.long	.Lop_xsaves64 - .Lop_table
	.long	.Lop_xrstors - .Lop_table
	.long	.Lop_xrstors64 - .Lop_table
	.long	.Lop_xsetbv - .Lop_table
	.long	.Lop_lock_xsave - .Lop_table
	.long	.Lop_fxsave64 - .Lop_table
	.long	.Lop_fxrstor64 - .Lop_table
.Lop_table_end:
	.set	OP_COUNT, (.Lop_table_end - .Lop_table) / 4
	.size	vx_hw_asm_run, . - vx_hw_asm_run

#endif /* __x86_64__ && __linux__ */

	.section .note.GNU-stack, "", @progbits
