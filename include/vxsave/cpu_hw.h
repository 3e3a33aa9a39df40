/* SPDX-License-Identifier: MIT */
/*
 * vxsave cpu layer: the hardware backend.
 *
 * Runs the real XSAVE-family instructions of this machine in user mode so that the software
 * model can be checked against the processor (PRODUCT.md "Correct against the real
 * references").  Everything here works on byte images in the processor's own standard XSAVE
 * format; nothing depends on the software model's types.
 *
 * Available on x86-64 Linux only.  Elsewhere every function returns -ENOTSUP (and
 * vx_hw_supported() returns false).
 *
 * One run (vx_hw_run()) executes, with no compiled code in between:
 *   1. XRSTOR64 of a caller image (standard format, the caller's XSTATE_BV decides which
 *      components are loaded and which are put in their initial configuration),
 *   2. optional "touch" writes of registers by ordinary instructions (VX_HW_TOUCH_*),
 *   3. an optional "pre" XRSTOR/XRSTOR64 from a second area (sets up XSAVEOPT's tracking),
 *   4. an optional byte patch of memory done with rep movsb (no vector registers),
 *   5. the instruction under test,
 *   6. XGETBV(ECX=1) and a read of every register by non-XSAVE instructions (FXSAVE64,
 *      VEXTRACTI128/VEXTRACTI64X4, VMOVDQU64, KMOVQ, RDPKRU) into a standard-format image.
 * A fault in steps 1–5 is caught with a signal handler that resumes at step 6 with the
 * exact register state of the fault (the kernel's sigreturn restores it), and reported as an
 * exception vector.
 *
 * Thread safety: vx_hw_run(), vx_hw_host_query(), vx_hw_cpuid() and
 * vx_hw_signal_to_vector() may be called from any number of threads at once (no shared
 * mutable state; the fault record travels in registers of the faulting thread).  vx_hw_open()
 * and vx_hw_close() install and remove process-wide signal handlers: they are serialised
 * internally and reference-counted, but must not run while another thread is inside
 * vx_hw_run() with the last reference.
 *
 * Measured behaviour of the host this was written on: docs/hardware-behaviour.md.
 */
#ifndef VXSAVE_CPU_HW_H
#define VXSAVE_CPU_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxsave/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest standard-format image the backend reads (components 0–7 and 9; no AMX). */
#define VX_HW_IMAGE_MAX 4096

/** Components the backend can load and read back: x87, SSE, AVX, opmask, ZMM_Hi256,
 * Hi16_ZMM, PKRU.  Other XCR0 components (MPX, AMX) are loaded by XRSTOR64 but not read. */
#define VX_HW_READABLE_COMPONENTS UINT64_C(0x2E7)

/**
 * enum vx_hw_op - the instruction under test (step 5).
 *
 * Memory operands use struct vx_hw_run_args.area; mask-taking forms use EDX:EAX =
 * struct vx_hw_run_args.mask; XGETBV/XSETBV use ECX = .ecx (XSETBV also EDX:EAX = .mask).
 * XRSTOR/XRSTOR64 take the standard or compacted form from the area's XCOMP_BV[63], as the
 * processor does.  XSAVES/XRSTORS/XSETBV are privileged: at CPL3 they only fault, which is
 * what they are here for.  VX_HW_OP_LOCK_XSAVE is XSAVE with a LOCK prefix (#UD).
 */
enum vx_hw_op {
	VX_HW_OP_NONE = 0,
	VX_HW_OP_XSAVE,
	VX_HW_OP_XSAVE64,
	VX_HW_OP_XSAVEOPT,
	VX_HW_OP_XSAVEOPT64,
	VX_HW_OP_XSAVEC,
	VX_HW_OP_XSAVEC64,
	VX_HW_OP_XRSTOR,
	VX_HW_OP_XRSTOR64,
	VX_HW_OP_XGETBV,
	VX_HW_OP_XSAVES,
	VX_HW_OP_XSAVES64,
	VX_HW_OP_XRSTORS,
	VX_HW_OP_XRSTORS64,
	VX_HW_OP_XSETBV,
	VX_HW_OP_LOCK_XSAVE,
	VX_HW_OP_FXSAVE64,
	VX_HW_OP_FXRSTOR64,
	VX_HW_OP_COUNT
};

/** enum vx_hw_pre - the optional XRSTOR of step 3. */
enum vx_hw_pre {
	VX_HW_PRE_NONE = 0,
	VX_HW_PRE_XRSTOR,   /**< XRSTOR (no REX.W) */
	VX_HW_PRE_XRSTOR64, /**< XRSTOR64 */
};

/**
 * Touch bits (step 2), applied in this order.  Component bits write that component's
 * registers with the values of the touch image (at its standard offsets) by ordinary moves:
 *  - VX_HW_TOUCH_X87:  FXSAVE64 of the current state, bytes 0–23 and 32–159 replaced by the
 *    image's, FXRSTOR64.  FXRSTOR64 also rewrites XMM0–15/MXCSR with their current values,
 *    and on the AMD Zen 5 host it detects initial values like XRSTOR does: loading the x87
 *    (or zero XMM) initial configuration this way leaves XINUSE[0] (XINUSE[1]) at 0.
 *  - VX_HW_TOUCH_SSE:  MOVDQU XMM0–15 (legacy SSE encoding, upper bits kept), LDMXCSR.
 *  - VX_HW_TOUCH_AVX:  VINSERTI32X4 $1 into ZMM0–15 when AVX-512 is enabled (bits 511:256
 *    kept), else VINSERTI128 $1 into YMM0–15.
 *  - VX_HW_TOUCH_ZMM_HI256: VINSERTI64X4 $1 into ZMM0–15.
 *  - VX_HW_TOUCH_HI16_ZMM:  VMOVDQU64 into ZMM16–31.
 *  - VX_HW_TOUCH_OPMASK:    KMOVQ into k0–k7.
 *  - VX_HW_TOUCH_PKRU:      WRPKRU (only when PKRU is enabled).
 * Then the single-instruction touches: FNINIT; FLDZ + FSTP ST(0) (x87 registers written,
 * state still equal to init if it was); LDMXCSR of image bytes 24–27 alone; VZEROUPPER;
 * VZEROALL.
 * Register writes mark the *register* in use, not just the component: on Zen 5 an EVEX
 * 512-bit write of ZMM0–15 (the AVX and ZMM_Hi256 touches) sets XINUSE bits 1, 2 and 6
 * together, even with zero values.  See docs/hardware-behaviour.md §A.
 */
#define VX_HW_TOUCH_X87		   VX_BIT(0)
#define VX_HW_TOUCH_SSE		   VX_BIT(1)
#define VX_HW_TOUCH_AVX		   VX_BIT(2)
#define VX_HW_TOUCH_OPMASK	   VX_BIT(5)
#define VX_HW_TOUCH_ZMM_HI256	   VX_BIT(6)
#define VX_HW_TOUCH_HI16_ZMM	   VX_BIT(7)
#define VX_HW_TOUCH_PKRU	   VX_BIT(9)
#define VX_HW_TOUCH_FNINIT	   VX_BIT(32)
#define VX_HW_TOUCH_FLDZ_FSTP	   VX_BIT(33)
#define VX_HW_TOUCH_LDMXCSR	   VX_BIT(34)
#define VX_HW_TOUCH_VZEROUPPER	   VX_BIT(35)
#define VX_HW_TOUCH_VZEROALL	   VX_BIT(36)
#define VX_HW_TOUCH_ALL_COMPONENTS UINT64_C(0x2E7)

/** enum vx_hw_stage - the step a fault happened in. */
enum vx_hw_stage {
	VX_HW_STAGE_NONE = 0,  /**< no fault */
	VX_HW_STAGE_LOAD = 1,  /**< the XRSTOR64 of the load image */
	VX_HW_STAGE_TOUCH = 2, /**< a touch instruction (e.g. LDMXCSR of a bad value) */
	VX_HW_STAGE_PRE = 3,   /**< the pre XRSTOR */
	VX_HW_STAGE_PATCH = 4, /**< the memory patch */
	VX_HW_STAGE_OP = 5,    /**< the instruction under test */
};

/**
 * struct vx_hw_regs - the register state read back in step 6.
 * @image:      standard-format XSAVE image (64-byte aligned) of the readable components:
 *              bytes 0–511 are exactly what FXSAVE64 stored (64-bit FIP/FDP, no FCS/FDS;
 *              abridged FTW; MXCSR_MASK; bytes 464–511 zero); AVX, opmask, ZMM_Hi256,
 *              Hi16_ZMM and PKRU at the host's CPUID.(0xD,i).EBX offsets.  Header:
 *              XSTATE_BV = @components, everything else zero.  Bytes past @size are zero.
 * @size:       bytes used: the end of the last readable enabled component (at least 576).
 * @components: the components present in @image (XCR0 & VX_HW_READABLE_COMPONENTS).
 * @xinuse:     XGETBV(ECX=1) taken right after the instruction under test (after the fault
 *              path if it faulted); valid only if @xinuse_valid.
 * @xinuse_valid: the host supports XGETBV with ECX=1.
 */
struct vx_hw_regs {
	_Alignas(64) uint8_t image[VX_HW_IMAGE_MAX];
	size_t size;
	uint64_t components;
	uint64_t xinuse;
	bool xinuse_valid;
};

/**
 * struct vx_hw_run_args - one run.  Zero-initialise, then fill what is needed.
 * @load_image: standard-format image, 64-byte aligned, at least the host's standard size
 *              (CPUID.(0xD,0).EBX).  XRSTOR64'd with EDX:EAX = @load_mask (0 means all
 *              ones).  Its header (XSTATE_BV at 512, zeros at 520–575) is the caller's: a
 *              component with XSTATE_BV[i]=0 is put in its initial configuration.  Required.
 *              If PKU is enabled, its PKRU must keep the caller's stack and this image
 *              writable (key 0), or the run faults in a confusing place.
 * @load_mask:  RFBM of the load (0 = everything enabled).
 * @touch:      VX_HW_TOUCH_* bits.
 * @touch_image: standard-format image (any alignment) with the touch values; NULL means
 *              @load_image.
 * @pre:        kind of pre XRSTOR.
 * @pre_area:   its area (the caller decides alignment, so faults can be provoked).
 * @pre_mask:   its EDX:EAX.
 * @patch_dst, @patch_src, @patch_len: bytes copied with rep movsb after the pre XRSTOR
 *              (e.g. to change the XSAVEOPT area behind the processor's back); len 0 = none.
 * @op:         the instruction under test.
 * @area:       its memory operand; any address, including misaligned ones.  The caller
 *              makes sure the bytes the instruction may touch belong to it.
 * @mask:       EDX:EAX for the instruction (the high halves of RAX/RDX hold mask>>32 and 0).
 * @ecx:        ECX for XGETBV/XSETBV.
 * @align_check: set EFLAGS.AC around the instruction under test only (Linux runs user mode
 *              with CR0.AM=1, so misaligned operands may then raise #AC instead of #GP).
 */
struct vx_hw_run_args {
	const void *load_image;
	uint64_t load_mask;
	uint64_t touch;
	const void *touch_image;
	enum vx_hw_pre pre;
	const void *pre_area;
	uint64_t pre_mask;
	void *patch_dst;
	const void *patch_src;
	size_t patch_len;
	enum vx_hw_op op;
	void *area;
	uint64_t mask;
	uint32_t ecx;
	bool align_check;
};

/**
 * struct vx_hw_result - what one run observed.
 * @regs:     registers and XINUSE after the instruction (or after the fault).
 * @edx_eax:  for VX_HW_OP_XGETBV: the value returned, EDX:EAX.
 * @vector:   -1 if nothing faulted, else the exception vector derived from the signal
 *            (vx_hw_signal_to_vector()).
 * @stage:    the step that faulted (VX_HW_STAGE_NONE if none).
 * @signo, @si_code, @fault_addr: the raw signal information.
 */
struct vx_hw_result {
	struct vx_hw_regs regs;
	uint64_t edx_eax;
	int vector;
	enum vx_hw_stage stage;
	int signo;
	int si_code;
	uintptr_t fault_addr;
};

/**
 * struct vx_hw_host - CPUID/XCR0 facts of the host needed to drive the backend.
 * @vendor:          CPUID.0 vendor string ("AuthenticAMD", "GenuineIntel").
 * @family, @model, @stepping: decoded from CPUID.1:EAX.
 * @xcr0:            XGETBV(0) (0 if OSXSAVE is clear).
 * @xcr0_supported:  CPUID.(0xD,0) EDX:EAX.
 * @xss_supported:   CPUID.(0xD,1) EDX:ECX.
 * @std_size:        CPUID.(0xD,0).EBX: standard size for the current XCR0.
 * @std_size_max:    CPUID.(0xD,0).ECX.
 * @compacted_size:  CPUID.(0xD,1).EBX (XCR0|XSS, compacted).
 * @comp_size, @comp_offset, @comp_flags: CPUID.(0xD,i).EAX/EBX/ECX for i = 2..63 (zero for
 *                   0/1 and for components the CPU does not report).
 * @has_*:           feature flags (CPUID.1:ECX XSAVE/OSXSAVE/AVX, (7,0) AVX512F/PKU/OSPKE,
 *                   FDP_EXCP_ONLY, FCS/FDS deprecated, (0xD,1):EAX XSAVEOPT/XSAVEC/XGETBV1/
 *                   XSAVES/XFD, 8000_0008H:EBX[2] RstrFpErrPtrs).
 * @runnable_ops:    bit (1 << op) set for each enum vx_hw_op the host executes without #UD
 *                   at CPL3 (XSAVES/XRSTORS/XSETBV are never set: they #GP at CPL3).
 */
struct vx_hw_host {
	char vendor[13];
	uint32_t family, model, stepping;
	uint64_t xcr0;
	uint64_t xcr0_supported;
	uint64_t xss_supported;
	uint32_t std_size;
	uint32_t std_size_max;
	uint32_t compacted_size;
	uint32_t comp_size[64];
	uint32_t comp_offset[64];
	uint32_t comp_flags[64];
	bool has_xsave, has_osxsave, has_avx, has_avx512f, has_pku, has_ospke;
	bool has_xsaveopt, has_xsavec, has_xgetbv1, has_xsaves, has_xfd;
	bool has_fdp_excp_only, has_fcs_fds_deprecated, has_rstr_fp_err_ptrs;
	uint64_t runnable_ops;
};

/** True when the hardware backend is compiled in (x86-64 Linux). */
VX_API bool vx_hw_supported(void);

/**
 * vx_hw_cpuid() - execute CPUID with EAX=@leaf, ECX=@subleaf.
 * @out: receives EAX, EBX, ECX, EDX.
 * Return: 0, or -ENOTSUP off x86-64 Linux, -EINVAL if @out is NULL.
 */
VX_API int vx_hw_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/**
 * vx_hw_host_query() - fill @host with the host's CPUID/XCR0 facts.
 * Return: 0; -ENOTSUP off x86-64 Linux or when XSAVE/OSXSAVE is absent (@host is still
 * filled as far as known); -EINVAL if @host is NULL.
 */
VX_API int vx_hw_host_query(struct vx_hw_host *host);

/**
 * vx_hw_open() - install the SIGSEGV/SIGBUS/SIGILL/SIGFPE handlers (once per process;
 * reference-counted) and cache the host facts.  Faults outside the backend's own code are
 * passed on to the handlers that were installed before.
 * Return: 0; -ENOTSUP if unsupported or without XSAVE/OSXSAVE; -errno if sigaction fails.
 */
VX_API int vx_hw_open(void);

/**
 * vx_hw_close() - drop one reference; the last one puts the previous signal handlers back.
 */
VX_API void vx_hw_close(void);

/**
 * vx_hw_run() - load state, run one instruction and read the registers back.
 * Requires vx_hw_open().  The processor's x87/SSE/AVX/AVX-512 registers are left in their
 * initial configuration afterwards, with the caller's MXCSR, FCW and PKRU.
 *
 * A context switch between step 1 and step 6 makes the kernel save and restore the state
 * (XSAVES/XRSTORS), which drops XSAVEOPT's modified tracking and may change XINUSE;
 * it is rare (the window is ~100 ns) but callers comparing XINUSE should retry on a
 * mismatch.
 *
 * Return: 0 when the run happened (whether or not the instruction faulted: see
 * @res->vector); -EINVAL for bad arguments (NULL, misaligned @load_image, unknown op);
 * -ENOTSUP if unsupported; -EPERM if vx_hw_open() has not been called.
 */
VX_API int vx_hw_run(const struct vx_hw_run_args *args, struct vx_hw_result *res);

/**
 * vx_hw_signal_to_vector() - the exception vector a user-mode signal stands for.
 *
 * Linux x86-64 6.x: SIGSEGV/SI_KERNEL → #GP (13); SIGSEGV/SEGV_MAPERR, SEGV_ACCERR,
 * SEGV_PKUERR → #PF (14); SIGILL/ILL_ILLOPN (and any other SIGILL) → #UD (6);
 * SIGBUS/BUS_ADRALN → #AC (17); SIGBUS/SI_KERNEL → #SS (12); SIGBUS/BUS_ADRERR → #PF (14,
 * a file mapping past EOF); SIGFPE → #MF (16) or #XM (19) for FPE codes raised by SIMD
 * (not distinguishable: returns 16).  #NM (7) cannot be seen in user mode except through XFD,
 * which the kernel turns into SIGILL or a silent state expansion; it is never returned.
 * Return: the vector, or -1 if the signal does not map to an exception.
 */
VX_API int vx_hw_signal_to_vector(int signo, int si_code);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_CPU_HW_H */
