/* SPDX-License-Identifier: MIT */
/*
 * vxsave `fpu` layer: what user space sees of the FPU state outside the registers - the FPU
 * part of the signal frame of 64-bit and ia32 processes and sigreturn (linux-fpu.md §4, §8.4,
 * §12), the ptrace regsets
 * NT_X86_XSTATE and NT_PRFPREG (§7, §12) and the core-dump NT_X86_XSAVE_LAYOUT note (§8.4).
 *
 * Every function works on a booted system (fpu.h), an fpstate (fpstate.h) and, for signals, the
 * model CPU that holds the task's live registers: the frame is written by XSAVE64 executed at
 * CPL3 on that CPU, and sigreturn runs XRSTOR64 at CPL3 from the frame, as the kernel does.
 * Where this machine's kernel disagrees with linux-fpu.md, the kernel decides: docs/fpu.md,
 * "Signal frames, ptrace, uABI".
 */
#ifndef VXSAVE_FPU_SIGNAL_H
#define VXSAVE_FPU_SIGNAL_H

#include <vxsave/fpstate.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/* Signal frames (sigframe.c; §8.4, §12)                                                        */

#define VX_FP_XSTATE_MAGIC1	 0x46505853u /* "SXPF" at byte 464 (fpx_sw_bytes.magic1) */
#define VX_FP_XSTATE_MAGIC2	 0x46505845u /* "EXPF" at byte xstate_size */
#define VX_FP_XSTATE_MAGIC2_SIZE 4u
#define VX_FPX_SW_BYTES_OFFSET	 464u
#define VX_FPX_SW_BYTES_SIZE	 48u

/**
 * struct vx_fpx_sw_bytes - struct _fpx_sw_bytes, the 48 software bytes at offset 464 of the
 * frame's FXSAVE area (uapi sigcontext.h layout, little-endian).
 */
struct vx_fpx_sw_bytes {
	uint32_t magic1;
	uint32_t extended_size; /* user_size + 4 (MAGIC2) */
	uint64_t xfeatures;	/* user_xfeatures */
	uint32_t xstate_size;	/* user_size: where MAGIC2 is */
	uint32_t padding[7];
};

/**
 * enum vx_sigframe_abi - the frame formats (§8.4): a 64-bit process's, and an ia32 (32-bit)
 * process's, which has the 112-byte fsave header (struct _fpstate_32's first part) in front of
 * the same FXSAVE/XSAVE part; its sigcontext's fpstate pointer points at that header.
 */
enum vx_sigframe_abi { VX_SIGFRAME_64 = 0, VX_SIGFRAME_IA32 = 1 };

#define VX_FSAVE_HEADER_SIZE 112u    /* sizeof(struct fregs_state) (§4) */
#define VX_X86_FXSR_MAGIC    0x0000u /* the header's magic at byte 110: an FXSAVE part follows */
#define VX_IA32_USER_CS	     0x23u   /* the header's FCS: the task's CS (measured, docs/fpu.md) */
#define VX_IA32_USER_DS	     0x2Bu   /* the header's FOS: its DS | 0xffff0000 (measured) */

/** Decode the software bytes of a frame (@len >= 512); false if it is shorter. */
VX_API bool vx_fpx_sw_bytes_read(const uint8_t *frame, size_t len, struct vx_fpx_sw_bytes *sw);
/** Encode @sw at offset 464 of @frame (@len >= 512); false if it is shorter. */
VX_API bool vx_fpx_sw_bytes_write(uint8_t *frame, size_t len, const struct vx_fpx_sw_bytes *sw);

/**
 * vx_fpu_sigframe_size() - xstate_sigframe_size(): the bytes the FPU part of a 64-bit frame of
 * a task with @fps takes: user_size + 4 (MAGIC2) with XSAVE, 512 (FXSAVE) without.  The frame
 * starts 64-byte aligned below the stack pointer (fpu__alloc_mathframe()).
 */
VX_API uint32_t vx_fpu_sigframe_size(const struct vx_fpu_system *system,
				     const struct vx_fpstate *fps);
/**
 * vx_fpu_sigframe_size_abi() - the same for @abi: an ia32 frame adds the 112-byte fsave header
 * in front (fpu__alloc_mathframe(); §4 counts it in fpu__get_fpstate_size()).  0 for an
 * unknown @abi.
 */
VX_API uint32_t vx_fpu_sigframe_size_abi(const struct vx_fpu_system *system,
					 const struct vx_fpstate *fps, enum vx_sigframe_abi abi);

/**
 * vx_fpu_copy_fpstate_to_sigframe() - copy_fpstate_to_sigframe() for a 64-bit frame (§8.4):
 * @cpu holds the task's live registers (fpregs_restore_userregs() already done), @fps is its
 * fpstate, @pkru the PKRU value to record.  On @frame (64-byte aligned, @len bytes, seen by the
 * CPU at its own address): zero the 64-byte header, IA32_XFD := @fps->xfd (6.18-rc4), XSAVE64
 * at CPL3 with RFBM = user_xfeatures (with dynamic sizing reduced to XINUSE | (USER_SUPPORTED &
 * ~SIGFRAME_INITOPT)), patch PKRU in (when the kernel uses PKRU), write the software bytes and
 * MAGIC2 at user_size, and force FP|SSE into XSTATE_BV.  Without XSAVE: the FXSAVE image only.
 * Bytes XSAVE does not write (416-463, components outside RFBM) keep what was there.
 * Returns 0; -EFAULT (the frame cannot be written: shorter than vx_fpu_sigframe_size(),
 * misaligned) with @frame unchanged - the kernel then kills the task with SIGSEGV.
 */
VX_API int vx_fpu_copy_fpstate_to_sigframe(const struct vx_fpu_system *system, struct vx_cpu *cpu,
					   const struct vx_fpstate *fps, uint32_t pkru,
					   uint8_t *frame, size_t len, struct vx_error *err);
/**
 * vx_fpu_copy_fpstate_to_sigframe_abi() - the same for a frame of @abi; the 64-bit one is
 * vx_fpu_copy_fpstate_to_sigframe().  For VX_SIGFRAME_IA32 @frame is the fsave header: the
 * FXSAVE/XSAVE part at @frame + 112 must be 64-byte aligned and is written as above, with
 * extended_size = user_size + 4 + 112; the header is made from an FXSAVE64 of the registers
 * (save_fsave_header + convert_from_fxsr): FCW, FSW and the full tag word (computed from the
 * abridged one and the register values) with bits 31:16 set, FIP/FDP's low halves,
 * FCS = VX_IA32_USER_CS, FOS = VX_IA32_USER_DS | 0xffff0000, ST0-7 as 10-byte values, then
 * status = FSW and magic = VX_X86_FXSR_MAGIC.  -EINVAL for an unknown @abi.
 */
VX_API int vx_fpu_copy_fpstate_to_sigframe_abi(const struct vx_fpu_system *system,
					       struct vx_cpu *cpu, const struct vx_fpstate *fps,
					       uint32_t pkru, enum vx_sigframe_abi abi,
					       uint8_t *frame, size_t len, struct vx_error *err);

/** How sigreturn restored the FPU state (fpu__restore_sig, §8.4, §12). */
enum vx_sigreturn_outcome {
	VX_SIGRETURN_CLEARED = 0, /* fpstate pointer NULL: user states reset to init */
	VX_SIGRETURN_XSTATE,	  /* XRSTOR64 from the frame with sw.xfeatures ∩ user_xfeatures */
	VX_SIGRETURN_FX_ONLY, /* magic or size check failed: x87/SSE from the frame, rest init */
	VX_SIGRETURN_SEGV,    /* the restore faulted: user states reset, sigreturn -> SIGSEGV */
};

/** "cleared", "xstate", "fx-only", "segv"; NULL if out of range. */
VX_API const char *vx_sigreturn_outcome_name(enum vx_sigreturn_outcome outcome);

/**
 * vx_fpu_restore_sig() - fpu__restore_sig() of a 64-bit sigreturn, executed on @cpu (the
 * task's registers) for a task with @fps.  @frame NULL: fpu__clear_user_states().  Otherwise:
 * the software bytes are checked (magic1, xstate_size in [576, user_size] and not above
 * extended_size, MAGIC2 at xstate_size within @len) - a failure means an FX-only restore, not
 * an error; then XRSTOR64 at CPL3 from the frame with RFBM = sw.xfeatures ∩ user_xfeatures
 * (FX-only: FP|SSE), the user features outside it from init_fpstate.  A faulting restore (a
 * header or MXCSR the CPU refuses, a frame shorter than what it reads) resets the user states
 * and gives VX_SIGRETURN_SEGV (the reason in @err).  PKRU, when restored, is in @cpu's
 * register.  Returns 0 with *@outcome set, or the error of a failed internal step.
 */
VX_API int vx_fpu_restore_sig(const struct vx_fpu_system *system, struct vx_cpu *cpu,
			      const struct vx_fpstate *fps, const uint8_t *frame, size_t len,
			      enum vx_sigreturn_outcome *outcome, struct vx_error *err);
/**
 * vx_fpu_restore_sig_abi() - the same for a frame of @abi (@frame at the fsave header for
 * VX_SIGFRAME_IA32).  The software-byte checks, outcomes and fault paths are the 64-bit ones,
 * on the part after the header.  An ia32 frame is not restored from the frame directly but
 * through a copy of @fps (@fps itself is not written), as the kernel does through the task's
 * fpstate: the registers on @cpu saved into it first when the kernel has supervisor states,
 * then the XSAVE part with every vx_fpstate_from_uabi() check (copy_sigframe_from_user_to_xstate,
 * §7.2) - or, FX-only, the 512-byte image with its MXCSR checked - then the header's x87 state
 * (FCW, FSW, tag word → abridged, FOP = FCS >> 16, FIP, FDP, ST0-7) folded over it, XSTATE_BV
 * limited to sw.xfeatures (FX-only: FP|SSE) plus the supervisor bits, and XRSTOR(S) with the
 * kernel max, XFD first.  A refused part or restore is VX_SIGRETURN_SEGV.
 */
VX_API int vx_fpu_restore_sig_abi(const struct vx_fpu_system *system, struct vx_cpu *cpu,
				  const struct vx_fpstate *fps, enum vx_sigframe_abi abi,
				  const uint8_t *frame, size_t len,
				  enum vx_sigreturn_outcome *outcome, struct vx_error *err);

/**
 * vx_fpu_clear_user_states() - fpu__clear_user_states() (§8.4): IA32_XFD := @fps->xfd, XRSTOR(S)
 * of init_fpstate with RFBM = USER_RESTORE, PKRU to the kernel's default when PKRU is used.
 */
VX_API int vx_fpu_clear_user_states(const struct vx_fpu_system *system, struct vx_cpu *cpu,
				    const struct vx_fpstate *fps, struct vx_error *err);

/* ----------------------------------------------------------------------------------------- */
/* ptrace regsets and the core-dump layout note (regset.c; §7, §8.4, §12)                      */

#define VX_NT_PRFPREG	       2u
#define VX_NT_X86_XSTATE       0x202u
#define VX_NT_X86_XSAVE_LAYOUT 0x205u

/**
 * vx_fpu_ptrace_getregset() - PTRACE_GETREGSET(@note) of a stopped tracee with @fps and
 * thread.pkru @pkru: NT_X86_XSTATE (xstateregs_get: §7.1 XSAVE mode with user_xfeatures, XCR0
 * at 464, XSTATE_BV as saved - FP|SSE not forced; -ENODEV without XSAVE) or NT_PRFPREG
 * (xfpregs_get: FX mode, 512 bytes).  *@iov_len in: the buffer size, out: the bytes written
 * (clamped to the regset size).  -EINVAL when *@iov_len is not a multiple of the regset's
 * element size (8) or @note is unknown (-EIO for the generic unknown-note path is not modelled).
 */
VX_API int vx_fpu_ptrace_getregset(const struct vx_fpu_system *system, const struct vx_fpstate *fps,
				   uint32_t pkru, unsigned note, uint8_t *buf, size_t *iov_len,
				   struct vx_error *err);

/**
 * vx_fpu_ptrace_setregset() - PTRACE_SETREGSET(@note) (§7.2 and §12 measured): @len not a
 * multiple of 8 → -EINVAL; longer than the regset → clamped and accepted.  NT_X86_XSTATE
 * (xstateregs_set): shorter → -EFAULT, then vx_fpstate_from_uabi() with @pkru (thread.pkru).
 * NT_PRFPREG (xfpregs_set): shorter than 512 → -EINVAL, MXCSR outside mxcsr_feature_mask →
 * -EINVAL; the 512 bytes replace the legacy region and FP|SSE are ORed into XSTATE_BV.
 * A refusal leaves @fps and *@pkru unchanged.
 */
VX_API int vx_fpu_ptrace_setregset(const struct vx_fpu_system *system, struct vx_fpstate *fps,
				   uint32_t *pkru, unsigned note, const uint8_t *buf, size_t len,
				   struct vx_error *err);

struct vx_fpu_task; /* fpu_task.h */

/**
 * vx_fpu_task_ptrace_getregset() - PTRACE_GETREGSET(@note) of @task, a stopped tracee of a
 * machine (fpu_task.h): vx_fpu_ptrace_getregset() of its active fpstate with its thread.pkru.
 * -ESRCH when @task is not in a ptrace stop (ptrace_check_attach): it runs on a CPU, has exited,
 * or is inside KVM_RUN with a guest fpstate installed; -EINVAL for a NULL @task, -EFAULT for a
 * NULL @buf or @iov_len.  The task is not changed.
 */
VX_API int vx_fpu_task_ptrace_getregset(const struct vx_fpu_task *task, unsigned note, uint8_t *buf,
					size_t *iov_len, struct vx_error *err);

/**
 * vx_fpu_task_ptrace_setregset() - PTRACE_SETREGSET(@note) of @task, a stopped tracee, as
 * xstateregs_set()/xfpregs_set() do (§7.2): vx_fpu_ptrace_setregset() into the task's fpstate
 * with its thread.pkru (NT_X86_XSTATE: the buffer's PKRU when its XSTATE_BV bit is set, else 0),
 * then fpu_force_restore(): last_cpu = -1, so the next return to user loads the new fpstate
 * even if the CPU it last ran on still holds its old registers.  The switch-in writes the new
 * thread.pkru to PKRU (§8.3).  -ESRCH, -EINVAL and -EFAULT as for the GET, then the regset's own
 * refusals; a refusal leaves the task unchanged (the kernel calls fpu_force_restore() before
 * its xstate checks; it only makes the next return to user reload the same values).
 */
VX_API int vx_fpu_task_ptrace_setregset(struct vx_fpu_task *task, unsigned note, const uint8_t *buf,
					size_t len, struct vx_error *err);

/** The regset size of @note: user max size (NT_X86_XSTATE), 512 (NT_PRFPREG), else 0. */
VX_API uint32_t vx_fpu_regset_size(const struct vx_fpu_system *system, unsigned note);

/** struct x86_xfeat_component: one entry of the NT_X86_XSAVE_LAYOUT note. */
struct vx_xfeat_component {
	uint32_t type;	 /* the xfeature number */
	uint32_t size;	 /* CPUID.(0xD,type).EAX */
	uint32_t offset; /* standard-format offset */
	uint32_t flags;	 /* always 0 */
};

/**
 * vx_fpu_xsave_layout_note() - the NT_X86_XSAVE_LAYOUT core-dump note ("LINUX"): one entry per
 * extended feature (2 and up) of the user max features, in feature order.  Writes up to @max
 * entries; returns how many there are.
 */
VX_API unsigned vx_fpu_xsave_layout_note(const struct vx_fpu_system *system,
					 struct vx_xfeat_component *out, unsigned max);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_FPU_SIGNAL_H */
