/* SPDX-License-Identifier: MIT */
/*
 * The FPU part of the signal frame (linux-fpu.md §8.4 and the measurements of §12):
 * copy_fpstate_to_sigframe() on delivery, fpu__restore_sig() on sigreturn, and
 * fpu__clear_user_states().  The frame is written and read by the model CPU itself (XSAVE64 and
 * XRSTOR64 at CPL3 on the frame's bytes), as the kernel executes them on the user stack.
 *
 * One path for both frame formats, with the ABI as a parameter (one table row each): an ia32
 * frame is the 64-bit one with the 112-byte fsave header in front (§4 fpu__get_fpstate_size,
 * §8.4 extended_size + 112).  On sigreturn the 64-bit frame is restored from user memory, the
 * ia32 one through the task's fpstate (copy_sigframe_from_user_to_xstate, §7.2), with the fsave
 * header's x87 state folded over the FXSAVE part, as this machine's kernel does (docs/fpu.md).
 */
#include <errno.h>
#include <string.h>

#include <vxsave/fpu_signal.h>

#include "fpstate_internal.h"

#define HDR_BV	      VX_XSTATE_BV_OFFSET
#define MIN_XSTATE    FPU_XREGS_SIZE /* sizeof(fxregs_state) + header: the smallest frame */
#define SW_OFF	      VX_FPX_SW_BYTES_OFFSET
#define FPU_MASK_PKRU VX_BIT(VX_COMP_PKRU)

/* The ia32 fsave header (struct _fpstate_32 before its FXSAVE part), little-endian offsets. */
#define ENV_CWD	   0u
#define ENV_SWD	   4u
#define ENV_TWD	   8u
#define ENV_FIP	   12u
#define ENV_FCS	   16u
#define ENV_FOO	   20u
#define ENV_FOS	   24u
#define ENV_ST	   28u /* 8 x 10 bytes, ST(0) first */
#define ENV_STATUS 108u
#define ENV_MAGIC  110u
#define ST_BYTES   10u

/* The FXSAVE64 image's x87 fields (arch.md §2.2). */
#define FX_FCW 0u
#define FX_FSW 2u
#define FX_FTW 4u
#define FX_FOP 6u
#define FX_FIP 8u
#define FX_FDP 16u
#define FX_ST  32u

/*
 * The frame formats (§8.4): bytes in front of the FXSAVE/XSAVE part.  Everything after them is
 * the same for both; extended_size counts them (§8.4: "+112 for ia32 frames").
 */
static const uint32_t frame_head[] = {
    [VX_SIGFRAME_64] = 0,
    [VX_SIGFRAME_IA32] = VX_FSAVE_HEADER_SIZE,
};

#define NABI (sizeof(frame_head) / sizeof(frame_head[0]))

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static int bad_abi(struct vx_error *err, enum vx_sigframe_abi abi)
{
	return vx_error_set(err, -EINVAL, "linux-fpu.md §8.4",
			    "frame ABI %d is neither 64-bit (0) nor ia32 (1)", (int)abi);
}

bool vx_fpx_sw_bytes_read(const uint8_t *frame, size_t len, struct vx_fpx_sw_bytes *sw)
{
	if (!frame || len < VX_LEGACY_SIZE)
		return false;
	memcpy(&sw->magic1, frame + SW_OFF, 4);
	memcpy(&sw->extended_size, frame + SW_OFF + 4, 4);
	memcpy(&sw->xfeatures, frame + SW_OFF + 8, 8);
	memcpy(&sw->xstate_size, frame + SW_OFF + 16, 4);
	memcpy(sw->padding, frame + SW_OFF + 20, sizeof(sw->padding));
	return true;
}

bool vx_fpx_sw_bytes_write(uint8_t *frame, size_t len, const struct vx_fpx_sw_bytes *sw)
{
	if (!frame || len < VX_LEGACY_SIZE)
		return false;
	memcpy(frame + SW_OFF, &sw->magic1, 4);
	memcpy(frame + SW_OFF + 4, &sw->extended_size, 4);
	memcpy(frame + SW_OFF + 8, &sw->xfeatures, 8);
	memcpy(frame + SW_OFF + 16, &sw->xstate_size, 4);
	memcpy(frame + SW_OFF + 20, sw->padding, sizeof(sw->padding));
	return true;
}

/* xstate_sigframe_size() (§8.4), plus the fsave header of an ia32 frame (§4). */
uint32_t vx_fpu_sigframe_size_abi(const struct vx_fpu_system *system, const struct vx_fpstate *fps,
				  enum vx_sigframe_abi abi)
{
	uint32_t fx =
	    system->insns.xsave ? fps->user_size + VX_FP_XSTATE_MAGIC2_SIZE : FPU_FXSAVE_SIZE;

	return (unsigned)abi < NABI ? frame_head[abi] + fx : 0;
}

uint32_t vx_fpu_sigframe_size(const struct vx_fpu_system *system, const struct vx_fpstate *fps)
{
	return vx_fpu_sigframe_size_abi(system, fps, VX_SIGFRAME_64);
}

/* ----------------------------------------------------------------------------------------- */
/* The ia32 fsave header: convert_from_fxsr() and convert_to_fxsr()                             */

enum { TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3 };

/*
 * The FSAVE tag of a non-empty x87 register from its 80-bit value (Intel SDM Vol.1 §8.1.7,
 * "x87 FPU Tag Word"): exponent all ones → special; exponent 0 → zero if the significand is 0,
 * else special (denormal); otherwise valid when the integer bit (63) is set, else special
 * (unnormal).
 */
static unsigned st_tag(const uint8_t *st)
{
	uint64_t significand;
	uint16_t exponent = rd16(st + 8) & 0x7FFFu;

	memcpy(&significand, st, sizeof(significand));
	if (exponent == 0x7FFFu)
		return TAG_SPECIAL;
	if (exponent == 0)
		return significand ? TAG_SPECIAL : TAG_ZERO;
	return (significand >> 63) ? TAG_VALID : TAG_SPECIAL;
}

/*
 * The full tag word from FXSAVE's abridged one: physical register i is empty when abridged bit
 * i is 0, else tagged by its value, which sits at stack position (i - TOP) mod 8 (SDM Vol.1
 * §10.5.1.1; TOP is FSW bits 13:11).
 */
static uint32_t full_tag_word(const uint8_t *fx)
{
	unsigned top = (rd16(fx + FX_FSW) >> 11) & 7u, abridged = fx[FX_FTW];
	uint32_t twd = 0;

	for (unsigned i = 0; i < 8; i++) {
		unsigned tag = TAG_EMPTY;

		if (abridged & (1u << i))
			tag = st_tag(fx + FX_ST + 16u * ((i - top) & 7u));
		twd |= (uint32_t)tag << (2 * i);
	}
	return twd;
}

/*
 * convert_from_fxsr() of a 64-bit kernel, as measured on this machine's kernel (docs/fpu.md):
 * FCW/FSW/tag word with bits 31:16 set, FIP/FDP's low halves, FCS = the task's CS and FOS =
 * its DS | 0xffff0000 (the x87 selectors do not exist in 64-bit mode), ST0-7 packed to 10
 * bytes, then status = FSW and magic = X86_FXSR_MAGIC (0: an FXSAVE part follows).
 */
static void env_from_fxsave(const uint8_t *fx, uint8_t *env)
{
	memset(env, 0, VX_FSAVE_HEADER_SIZE);
	wr32(env + ENV_CWD, rd16(fx + FX_FCW) | 0xFFFF0000u);
	wr32(env + ENV_SWD, rd16(fx + FX_FSW) | 0xFFFF0000u);
	wr32(env + ENV_TWD, full_tag_word(fx) | 0xFFFF0000u);
	wr32(env + ENV_FIP, rd32(fx + FX_FIP));
	wr32(env + ENV_FCS, VX_IA32_USER_CS);
	wr32(env + ENV_FOO, rd32(fx + FX_FDP));
	wr32(env + ENV_FOS, VX_IA32_USER_DS | 0xFFFF0000u);
	for (unsigned i = 0; i < 8; i++)
		memcpy(env + ENV_ST + ST_BYTES * i, fx + FX_ST + 16u * i, ST_BYTES);
	wr16(env + ENV_STATUS, rd16(fx + FX_FSW));
	wr16(env + ENV_MAGIC, VX_X86_FXSR_MAGIC);
}

/* FXSAVE64 of the live registers, then the header built from it (save_fsave_header). */
static int fsave_header(const struct vx_fpu_system *sys, struct vx_cpu *cpu, uint8_t *env,
			struct vx_error *err)
{
	uint8_t fx[FPU_FXSAVE_SIZE] = {0};
	int rc = fpstate_fxsave(sys, cpu, fx);

	if (rc)
		return vx_error_set(err, rc, "linux-fpu.md §8.4", "FXSAVE64 for the fsave header");
	env_from_fxsave(fx, env);
	return 0;
}

/*
 * convert_to_fxsr() (measured, docs/fpu.md): the header's x87 state replaces the FXSAVE
 * part's - FCW, FSW, the abridged tag (bit i set unless tag i is empty), FOP from FCS bits
 * 31:16, FIP and FDP from FIP/FOO (zero-extended), and the 10 bytes of each register (the 6
 * bytes of padding in each 16-byte slot stay).
 */
static void fold_env(uint8_t *fx, const uint8_t *env)
{
	uint32_t twd = rd32(env + ENV_TWD);
	uint8_t abridged = 0;

	for (unsigned i = 0; i < 8; i++)
		if (((twd >> (2 * i)) & 3u) != TAG_EMPTY)
			abridged |= (uint8_t)(1u << i);
	wr16(fx + FX_FCW, (uint16_t)rd32(env + ENV_CWD));
	wr16(fx + FX_FSW, (uint16_t)rd32(env + ENV_SWD));
	wr16(fx + FX_FTW, abridged);
	wr16(fx + FX_FOP, (uint16_t)(rd32(env + ENV_FCS) >> 16));
	wr64(fx + FX_FIP, rd32(env + ENV_FIP));
	wr64(fx + FX_FDP, rd32(env + ENV_FOO));
	for (unsigned i = 0; i < 8; i++)
		memcpy(fx + FX_ST + 16u * i, env + ENV_ST + ST_BYTES * i, ST_BYTES);
}

/* ----------------------------------------------------------------------------------------- */
/* Delivery                                                                                     */

/*
 * The RFBM of the frame's XSAVE (§8.4): user_xfeatures; with dynamic sizing, features of
 * SIGFRAME_INITOPT (AMX) only when XINUSE says they are in use.
 */
static uint64_t sigframe_mask(const struct vx_fpu_system *sys, struct vx_cpu *cpu,
			      const struct vx_fpstate *fps)
{
	struct vx_event event;
	uint64_t xinuse = 0;

	if (sys->init_xfd == 0) /* fpu_state_size_dynamic() */
		return fps->user_xfeatures;
	if (vx_cpu_xgetbv(cpu, 1, &xinuse, &event) != 0)
		xinuse = vx_cpu_xinuse(cpu);
	return fps->user_xfeatures &
	       (xinuse | (VX_FPU_MASK_USER_SUPPORTED & ~VX_FPU_MASK_SIGFRAME_INITOPT));
}

/*
 * save_xstate_epilog(): software bytes, MAGIC2, FP|SSE forced (§8.4, §12); extended_size counts
 * the @head bytes of an ia32 frame's fsave header (§8.4).
 */
static void sigframe_epilog(const struct vx_fpstate *fps, uint32_t head, uint8_t *frame)
{
	struct vx_fpx_sw_bytes sw = {VX_FP_XSTATE_MAGIC1,
				     head + fps->user_size + VX_FP_XSTATE_MAGIC2_SIZE,
				     fps->user_xfeatures,
				     fps->user_size,
				     {0}};
	uint32_t magic2 = VX_FP_XSTATE_MAGIC2;

	vx_fpx_sw_bytes_write(frame, VX_LEGACY_SIZE, &sw);
	memcpy(frame + fps->user_size, &magic2, sizeof(magic2));
	wr64(frame + HDR_BV, rd64(frame + HDR_BV) | VX_FPU_MASK_FPSSE);
}

/* update_pkru_in_sigframe(): the PKRU value of the signal, and its XSTATE_BV bit. */
static void sigframe_pkru(const struct vx_fpu_system *sys, uint32_t pkru, uint8_t *frame)
{
	if (!(sys->user.max_features & FPU_MASK_PKRU)) /* OSPKE */
		return;
	wr64(frame + HDR_BV, rd64(frame + HDR_BV) | FPU_MASK_PKRU);
	memcpy(frame + sys->xstate[VX_COMP_PKRU].offset, &pkru, sizeof(pkru));
}

static int frame_fault(struct vx_error *err, const char *why, size_t len, uint32_t need)
{
	return vx_error_set(err, -EFAULT, "linux-fpu.md §8.4",
			    "the signal frame cannot be written: %s (%zu bytes, %u needed)", why,
			    len, need);
}

/*
 * copy_fpregs_to_sigframe() and the epilog on the FXSAVE/XSAVE part @fx (64-byte aligned, room
 * checked): the header zeroed first, XFD synced (6.18-rc4), XSAVE64 at CPL3; without XSAVE,
 * the FXSAVE image only.  A fault puts the header bytes back.
 */
static int write_xstate(const struct vx_fpu_system *sys, struct vx_cpu *cpu,
			const struct vx_fpstate *fps, uint32_t pkru, uint32_t head, uint8_t *fx,
			struct vx_error *err)
{
	uint8_t header[VX_HEADER_SIZE];
	int rc;

	if (!sys->insns.xsave) /* copy_fpregs_to_sigframe(): FXSAVE only */
		return fpstate_fxsave(sys, cpu, fx);
	memcpy(header, fx + HDR_BV, sizeof(header));
	memset(fx + HDR_BV, 0, VX_HEADER_SIZE);		  /* the user header is cleared first */
	rc = fpstate_xfd_update(sys, cpu, fps->xfd, err); /* 6.18-rc4: XFD in sync */
	if (rc == 0)
		rc = fpstate_exec(cpu, 3, VX_INSN_XSAVE64, fx,
				  fps->user_size + VX_FP_XSTATE_MAGIC2_SIZE,
				  sigframe_mask(sys, cpu, fps), err);
	if (rc) {
		memcpy(fx + HDR_BV, header, sizeof(header));
		return rc;
	}
	sigframe_pkru(sys, pkru, fx);
	sigframe_epilog(fps, head, fx);
	return 0;
}

int vx_fpu_copy_fpstate_to_sigframe_abi(const struct vx_fpu_system *system, struct vx_cpu *cpu,
					const struct vx_fpstate *fps, uint32_t pkru,
					enum vx_sigframe_abi abi, uint8_t *frame, size_t len,
					struct vx_error *err)
{
	uint8_t env[VX_FSAVE_HEADER_SIZE] = {0};
	uint32_t need, head;
	int rc;

	if ((unsigned)abi >= NABI)
		return bad_abi(err, abi);
	head = frame_head[abi];
	need = vx_fpu_sigframe_size_abi(system, fps, abi);
	if (!frame || len < need)
		return frame_fault(err, "too short", len, need);
	/* fpu__alloc_mathframe(): the FXSAVE/XSAVE part is 64-byte aligned (§8.4). */
	if ((uintptr_t)(frame + head) % VX_AREA_ALIGN)
		return frame_fault(err, "FXSAVE/XSAVE part not 64-byte aligned", len, need);
	/* ia32: save_fsave_header() converts an FXSAVE64 of the registers (§8.4). */
	if (head && (rc = fsave_header(system, cpu, env, err)) != 0)
		return rc;
	rc = write_xstate(system, cpu, fps, pkru, head, frame + head, err);
	if (rc == 0)
		memcpy(frame, env, head);
	return rc;
}

int vx_fpu_copy_fpstate_to_sigframe(const struct vx_fpu_system *system, struct vx_cpu *cpu,
				    const struct vx_fpstate *fps, uint32_t pkru, uint8_t *frame,
				    size_t len, struct vx_error *err)
{
	return vx_fpu_copy_fpstate_to_sigframe_abi(system, cpu, fps, pkru, VX_SIGFRAME_64, frame,
						   len, err);
}

/* ----------------------------------------------------------------------------------------- */
/* sigreturn                                                                                    */

static const char *const outcome_names[] = {
    [VX_SIGRETURN_CLEARED] = "cleared",
    [VX_SIGRETURN_XSTATE] = "xstate",
    [VX_SIGRETURN_FX_ONLY] = "fx-only",
    [VX_SIGRETURN_SEGV] = "segv",
};

const char *vx_sigreturn_outcome_name(enum vx_sigreturn_outcome outcome)
{
	return (unsigned)outcome <= VX_SIGRETURN_SEGV ? outcome_names[outcome] : NULL;
}

int vx_fpu_clear_user_states(const struct vx_fpu_system *system, struct vx_cpu *cpu,
			     const struct vx_fpstate *fps, struct vx_error *err)
{
	const struct vx_reg_info *reg = vx_reg_lookup("pkru");
	uint32_t pkru = FPSTATE_INIT_PKRU;
	struct vx_event event;
	int rc = fpstate_xfd_update(system, cpu, fps->xfd, err); /* 6.18-rc4 */

	if (rc == 0)
		rc = fpstate_restore_init(system, cpu, VX_FPU_MASK_USER_RESTORE, err);
	if (rc == 0 && (system->user.max_features & FPU_MASK_PKRU) && reg)
		vx_cpu_set_reg(cpu, reg, &pkru, sizeof(pkru), &event); /* pkru_write_default() */
	return rc;
}

/*
 * check_xstate_in_sigframe() (§8.4, §12): magic1, then xstate_size within [576, user_size] and
 * not above extended_size, then MAGIC2 at xstate_size.  false = FX-only.  A MAGIC2 that lies
 * outside the frame is a fault (*@fault).
 */
static bool xstate_in_sigframe(const struct vx_fpstate *fps, const uint8_t *frame, size_t len,
			       struct vx_fpx_sw_bytes *sw, bool *fault)
{
	uint32_t magic2;

	*fault = false;
	if (sw->magic1 != VX_FP_XSTATE_MAGIC1 || sw->xstate_size < MIN_XSTATE ||
	    sw->xstate_size > fps->user_size || sw->xstate_size > sw->extended_size)
		return false;
	if ((uint64_t)sw->xstate_size + sizeof(magic2) > len) {
		*fault = true;
		return false;
	}
	memcpy(&magic2, frame + sw->xstate_size, sizeof(magic2));
	return magic2 == VX_FP_XSTATE_MAGIC2;
}

/* The faulting-restore path: fpu__clear_user_states(), and sigreturn raises SIGSEGV. */
static int restore_failed(const struct vx_fpu_system *sys, struct vx_cpu *cpu,
			  const struct vx_fpstate *fps, enum vx_sigreturn_outcome *outcome,
			  struct vx_error *err)
{
	struct vx_error scratch = VX_ERROR_INIT;

	*outcome = VX_SIGRETURN_SEGV;
	return vx_fpu_clear_user_states(sys, cpu, fps, err ? &scratch : NULL);
}

/* __restore_fpregs_from_user(): XRSTOR64 (or FXRSTOR64) from the frame, then init the rest. */
static int restore_from_frame(const struct vx_fpu_system *sys, struct vx_cpu *cpu,
			      const struct vx_fpstate *fps, uint8_t *frame, size_t len,
			      uint64_t xrestore, bool fx_only, struct vx_error *err)
{
	uint64_t init_bv = fps->user_xfeatures & ~xrestore;
	int rc = fpstate_xfd_update(sys, cpu, fps->xfd, err);

	if (rc)
		return rc;
	if (fx_only)
		rc = len < FPU_FXSAVE_SIZE
			 ? vx_error_set(err, -EFAULT, "linux-fpu.md §8.4",
					"FXRSTOR64: #PF: the frame has %zu bytes", len)
			 : fpstate_fxrstor(sys, cpu, frame, err);
	else
		rc = fpstate_exec(cpu, 3, VX_INSN_XRSTOR64, frame, len, xrestore, err);
	if (rc == 0 && init_bv)
		rc = fpstate_restore_init(sys, cpu, init_bv, err);
	return rc;
}

/* The ia32 FX-only path: the 512-byte image replaces the legacy region; MXCSR is checked. */
static int fx_into_fpstate(const struct vx_fpu_system *sys, struct vx_fpstate *k, const uint8_t *fx,
			   size_t len, struct vx_error *err)
{
	uint32_t mxcsr;

	if (len < FPU_FXSAVE_SIZE)
		return vx_error_set(err, -EFAULT, "linux-fpu.md §8.4",
				    "the FXSAVE part has %zu bytes, 512 needed", len);
	mxcsr = rd32(fx + VX_MXCSR_OFFSET);
	if (mxcsr & ~sys->mxcsr_feature_mask) /* 64-bit kernel: rejected, not masked */
		return vx_error_set(err, -EINVAL, "linux-fpu.md §7.2",
				    "MXCSR 0x%08x has bits outside mxcsr_feature_mask 0x%08x",
				    mxcsr, sys->mxcsr_feature_mask);
	memcpy(k->regs, fx, FPU_FXSAVE_SIZE);
	if (sys->insns.xsave) /* XFEATURE_MASK_FPSSE enforced */
		wr64(k->regs + HDR_BV, rd64(k->regs + HDR_BV) | VX_FPU_MASK_FPSSE);
	return 0;
}

/*
 * The ia32 sigreturn (§7.2, §8.4; the fold measured, docs/fpu.md): the live registers are saved
 * into (a copy of) the task's fpstate when the kernel has supervisor states, so they survive;
 * the FXSAVE/XSAVE part is copied in - copy_sigframe_from_user_to_xstate() with every §7.2
 * check, or the FXSAVE image when FX-only - then the fsave header's x87 state is folded over
 * it, the user bits outside @xrestore are dropped from XSTATE_BV, and the whole fpstate is
 * restored with the kernel max (os_xrstor_safe), XFD first.
 */
static int restore_via_fpstate(const struct vx_fpu_system *sys, struct vx_cpu *cpu,
			       struct vx_fpstate *k, const uint8_t *env, const uint8_t *fx,
			       size_t len, uint64_t xrestore, bool fx_only, struct vx_error *err)
{
	uint64_t supervisor = sys->kernel.max_features & sys->masks.supervisor_supported;
	uint32_t pkru = 0; /* thread.pkru: PKRU reaches the register through the restore */
	int rc = 0;

	if (supervisor)
		rc = vx_fpstate_save(sys, cpu, k, NULL, err);
	if (rc == 0)
		rc = fx_only ? fx_into_fpstate(sys, k, fx, len, err)
			     : vx_fpstate_from_uabi(sys, k, fx, len, &pkru, err);
	if (rc)
		return rc == -ENOMEM ? rc : -EFAULT;
	fold_env(k->regs, env);
	if (sys->insns.xsave)
		wr64(k->regs + HDR_BV, rd64(k->regs + HDR_BV) & (xrestore | supervisor));
	rc = vx_fpstate_restore(sys, cpu, k, ~UINT64_C(0), NULL, err);
	return rc == 0 || rc == -ENOMEM ? rc : -EFAULT;
}

/* A scratch copy of @fps: the kernel writes the task's fpstate, the model leaves @fps alone. */
static int ia32_restore(const struct vx_fpu_system *sys, struct vx_cpu *cpu,
			const struct vx_fpstate *fps, const uint8_t *copy, size_t len,
			uint64_t xrestore, bool fx_only, struct vx_error *err)
{
	struct vx_fpstate k = *fps;
	int rc;

	k.regs = sys->platform->alloc(sys->platform->ctx, fps->size, VX_AREA_ALIGN);
	if (!k.regs)
		return vx_error_set(err, -ENOMEM, "linux-fpu.md §8.4", "no memory for the fpstate");
	memcpy(k.regs, fps->regs, fps->size);
	rc = restore_via_fpstate(sys, cpu, &k, copy, copy + VX_FSAVE_HEADER_SIZE,
				 len - VX_FSAVE_HEADER_SIZE, xrestore, fx_only, err);
	sys->platform->free(sys->platform->ctx, k.regs);
	return rc;
}

/*
 * Which restore, from the software bytes of the FXSAVE/XSAVE part (@head bytes into the frame):
 * XSTATE or FX_ONLY; a MAGIC2 outside the frame, a frame shorter than its fsave header, or a
 * misaligned part is a fault (*@fault, the reason in @err).
 */
static enum vx_sigreturn_outcome restore_kind(const struct vx_fpu_system *sys,
					      const struct vx_fpstate *fps, const uint8_t *frame,
					      size_t len, uint32_t head, struct vx_fpx_sw_bytes *sw,
					      bool *fault, struct vx_error *err)
{
	const uint8_t *fx = frame + head;
	bool xstate;

	*fault = len < head;
	if (*fault) {
		vx_error_set(err, -EFAULT, "linux-fpu.md §8.4",
			     "the %zu-byte frame is shorter than its %u-byte fsave header", len,
			     head);
		return VX_SIGRETURN_SEGV;
	}
	xstate = sys->insns.xsave && vx_fpx_sw_bytes_read(fx, len - head, sw) &&
		 xstate_in_sigframe(fps, fx, len - head, sw, fault);
	if (*fault)
		vx_error_set(err, -EFAULT, "linux-fpu.md §8.4",
			     "MAGIC2 at xstate_size %u lies outside the %zu-byte frame",
			     sw->xstate_size, len - head);
	else if ((uintptr_t)fx % (xstate ? VX_AREA_ALIGN : 16u)) { /* XRSTOR64/FXRSTOR64: #GP */
		*fault = true;
		vx_error_set(err, -EFAULT, "arch.md §5.0", "the frame at %p is misaligned",
			     (const void *)fx);
	}
	return xstate ? VX_SIGRETURN_XSTATE : VX_SIGRETURN_FX_ONLY;
}

int vx_fpu_restore_sig_abi(const struct vx_fpu_system *system, struct vx_cpu *cpu,
			   const struct vx_fpstate *fps, enum vx_sigframe_abi abi,
			   const uint8_t *frame, size_t len, enum vx_sigreturn_outcome *outcome,
			   struct vx_error *err)
{
	struct vx_fpx_sw_bytes sw = {0};
	uint64_t xrestore;
	uint8_t *copy;
	bool fault = false;
	int rc;

	*outcome = VX_SIGRETURN_CLEARED;
	if ((unsigned)abi >= NABI)
		return bad_abi(err, abi);
	if (!frame)
		return vx_fpu_clear_user_states(system, cpu, fps, err);
	*outcome = restore_kind(system, fps, frame, len, frame_head[abi], &sw, &fault, err);
	if (fault)
		return restore_failed(system, cpu, fps, outcome, err);
	/* The restore never writes: the model CPU reads an aligned copy of the frame. */
	copy = system->platform->alloc(system->platform->ctx, len ? len : 1, VX_AREA_ALIGN);
	if (!copy)
		return vx_error_set(err, -ENOMEM, "linux-fpu.md §8.4", "no memory for the frame");
	memcpy(copy, frame, len);
	xrestore = *outcome == VX_SIGRETURN_XSTATE ? sw.xfeatures : VX_FPU_MASK_FPSSE;
	if (abi == VX_SIGFRAME_IA32)
		rc = ia32_restore(system, cpu, fps, copy, len, xrestore,
				  *outcome == VX_SIGRETURN_FX_ONLY, err);
	else
		rc = restore_from_frame(system, cpu, fps, copy, len, xrestore & fps->user_xfeatures,
					*outcome == VX_SIGRETURN_FX_ONLY, err);
	system->platform->free(system->platform->ctx, copy);
	if (rc == -EFAULT)
		return restore_failed(system, cpu, fps, outcome, err);
	return rc;
}

int vx_fpu_restore_sig(const struct vx_fpu_system *system, struct vx_cpu *cpu,
		       const struct vx_fpstate *fps, const uint8_t *frame, size_t len,
		       enum vx_sigreturn_outcome *outcome, struct vx_error *err)
{
	return vx_fpu_restore_sig_abi(system, cpu, fps, VX_SIGFRAME_64, frame, len, outcome, err);
}
