/* SPDX-License-Identifier: MIT */
/*
 * struct fpstate (linux-fpu.md §3.1): allocation and reset (__fpstate_reset, fpstate_init_user,
 * §3.1 table and §6), and the save and restore of its image on a model CPU at CPL0 (os_xsave,
 * restore_fpregs_from_fpstate, §8.1 and §8.3).
 *
 * The model CPU sees the image at the linear address of its bytes in this process, so two
 * fpstates never share an address and XSAVEOPT's modified optimization (which keys on the
 * address of the last XRSTOR, arch.md §4) behaves as in the kernel.
 *
 * Counters: the cpu layer does not report the bytes it moved, so they are computed from the
 * header the instruction produced (or read): 64 header bytes plus the size of every component
 * whose XSTATE_BV bit is set after a save (written) or set in RFBM ∩ XSTATE_BV of a restore
 * (loaded from memory; the others are initialised without a memory read).  x87 counts 160 and
 * SSE 256 bytes (+8 for MXCSR when SSE or YMM is moved, as the legacy region holds it).
 */
#include <errno.h>
#include <string.h>

#include <vxsave/area.h>

#include "fpstate_internal.h"

#define FPSTATE_HDR_SIZE ((sizeof(struct vx_fpstate) + 63u) & ~(size_t)63u)

/* ----------------------------------------------------------------------------------------- */
/* Allocation and reset                                                                         */

/* fpstate_init_user() (§6): zero image, XCOMP_BV of @xfeatures when compacted, FCW, MXCSR. */
static void init_image(const struct vx_fpu_system *sys, struct vx_fpstate *fps)
{
	uint16_t fcw = VX_FCW_DEFAULT;
	uint32_t mxcsr = VX_MXCSR_DEFAULT;
	uint64_t xcomp_bv = fps->xfeatures | VX_XCOMP_BV_COMPACTED;

	memset(fps->regs, 0, fps->size);
	memcpy(fps->regs, &fcw, sizeof(fcw));
	if (fps->size >= VX_LEGACY_SIZE) /* FXSR: every 64-bit CPU */
		memcpy(fps->regs + VX_MXCSR_OFFSET, &mxcsr, sizeof(mxcsr));
	if (sys->insns.xsave && sys->insns.compacted)
		memcpy(fps->regs + VX_XCOMP_BV_OFFSET, &xcomp_bv, sizeof(xcomp_bv));
}

/* __fpstate_reset() (§3.1 table): host or guest defaults; the user part is shared. */
static void reset_fields(const struct vx_fpu_system *sys, struct vx_fpstate *fps, bool guest)
{
	fps->size = guest ? sys->guest.size : sys->kernel.default_size;
	fps->xfeatures = guest ? sys->guest.features : sys->kernel.default_features;
	fps->xfd = guest ? 0 : sys->init_xfd;
	fps->user_size = sys->user.default_size;
	fps->user_xfeatures = sys->user.default_features;
	fps->is_guest = guest;
	fps->is_valloc = guest; /* fpu_alloc_guest_fpstate() vzalloc()s (§6) */
}

int vx_fpstate_create(const struct vx_fpu_system *system, bool guest, struct vx_fpstate **out,
		      struct vx_error *err)
{
	uint32_t size = guest ? system->guest.size : system->kernel.default_size;
	const struct vx_platform *pf = system->platform;
	uint8_t *mem = pf->alloc(pf->ctx, FPSTATE_HDR_SIZE + size, VX_AREA_ALIGN);
	struct vx_fpstate *fps = (struct vx_fpstate *)(void *)mem;

	if (!mem)
		return vx_error_set(err, -ENOMEM, "linux-fpu.md §6",
				    "cannot allocate an fpstate of %u bytes", size);
	memset(fps, 0, sizeof(*fps));
	fps->regs = mem + FPSTATE_HDR_SIZE;
	reset_fields(system, fps, guest);
	init_image(system, fps);
	*out = fps;
	return 0;
}

void vx_fpstate_destroy(const struct vx_fpu_system *system, struct vx_fpstate *fps)
{
	if (fps)
		system->platform->free(system->platform->ctx, fps);
}

void vx_fpstate_init_image(const struct vx_fpu_system *system, struct vx_fpstate *fps)
{
	init_image(system, fps);
}

/* ----------------------------------------------------------------------------------------- */
/* Save and restore                                                                             */

/*
 * sys->mask_bytes[k][b]: the bytes of the components whose bits are set in byte value @b of
 * byte @k of a feature mask (bits 0-23: every xfeature, VX_FPU_XFEATURE_MAX is 20), from the
 * xstate cache (§2.3).  Byte 0's table also holds what every save or restore moves besides
 * the components (the counters of fpstate.c's top comment): the 64 header bytes, and the 8 of
 * MXCSR/MXCSR_MASK when SSE or YMM (bits 1-2, in byte 0) moves - so a count is three look-ups
 * and two additions.  Filled once at boot.
 */
void fpu_fpstate_setup_tables(struct vx_fpu_system *sys)
{
	for (unsigned k = 0; k < 3; k++) {
		sys->mask_bytes[k][0] = 0;
		for (unsigned b = 1; b < 256; b++) { /* b's lowest bit, plus b without it */
			unsigned id = 8 * k + (unsigned)__builtin_ctz(b);

			sys->mask_bytes[k][b] =
			    sys->mask_bytes[k][b & (b - 1)] +
			    (id < VX_FPU_XFEATURE_MAX ? sys->xstate[id].size : 0);
		}
	}
	for (unsigned b = 0; b < 256; b++)
		sys->mask_bytes[0][b] +=
		    VX_HEADER_SIZE + ((b & (FPU_MASK_SSE | FPU_MASK_YMM)) ? 8 : 0);
}

static int exec_event_error(struct vx_error *err, enum vx_insn insn, uint64_t rfbm,
			    const struct vx_event *event)
{
	char name[48];

	return vx_error_set(err, -EFAULT, event->rule ? event->rule : "linux-fpu.md §8.1",
			    "%s with RFBM 0x%llx faulted on the model CPU: %s: %s",
			    vx_insn_name(insn), (unsigned long long)rfbm,
			    vx_event_name(event, name, sizeof(name)), event->reason);
}

static int set_cpl(struct vx_cpu *cpu, unsigned cpl, struct vx_event *event)
{
	struct vx_cpu_control control;

	vx_cpu_get_control(cpu, &control);
	control.cpl = cpl;
	return vx_cpu_set_control(cpu, &control, event);
}

/* The CPU's CPL, read once per instruction: the kernel's own saves and restores run at 0. */
static unsigned cpu_cpl(const struct vx_cpu *cpu)
{
	struct vx_cpu_control control;

	vx_cpu_get_control(cpu, &control);
	return control.cpl;
}

int fpstate_exec_failed(struct vx_error *err, enum vx_insn insn, uint64_t rfbm, int rc,
			const struct vx_event *event)
{
	if (rc == VX_FAULTED)
		return exec_event_error(err, insn, rfbm, event);
	return rc < 0 ? vx_error_set(err, rc, "linux-fpu.md §8.1", "model CPU refused %s",
				     vx_insn_name(insn))
		      : 0;
}

int fpstate_exec(struct vx_cpu *cpu, unsigned cpl, enum vx_insn insn, uint8_t *bytes, size_t size,
		 uint64_t rfbm, struct vx_error *err)
{
	struct vx_memory mem = {bytes, size, (uint64_t)(uintptr_t)bytes};
	unsigned saved = cpu_cpl(cpu);
	struct vx_event event, restore_event;
	int rc;

	if (saved != cpl && set_cpl(cpu, cpl, &event) != 0)
		return exec_event_error(err, insn, rfbm, &event);
	rc = vx_cpu_exec(cpu, insn, 0, &mem, mem.base, rfbm, &event);
	/* Put the caller's CPL back with an event of its own: @event is the fault reported. */
	if (saved != cpl)
		set_cpl(cpu, saved, &restore_event);
	return rc == 0 ? 0 : fpstate_exec_failed(err, insn, rfbm, rc, &event);
}

/*
 * Without XSAVE the kernel uses FXSAVE/FXRSTOR (§8.1).  The model CPU has neither: the
 * legacy region is taken from (or put into) the registers as XSAVE64/XRSTOR64 of FP|SSE would,
 * without fault checks - the same bytes 0-415; FXRSTOR's MXCSR #GP is checked here.
 */
static uint8_t *scratch_area(const struct vx_fpu_system *sys, size_t *size)
{
	*size = sys->user.max_size > FPU_XREGS_SIZE ? sys->user.max_size : FPU_XREGS_SIZE;
	return sys->platform->alloc(sys->platform->ctx, *size, VX_AREA_ALIGN);
}

int fpstate_fxsave(const struct vx_fpu_system *sys, struct vx_cpu *cpu, uint8_t *image)
{
	size_t size;
	uint8_t *area = scratch_area(sys, &size);
	int rc = area ? vx_cpu_to_standard_image(cpu, VX_FPU_MASK_FPSSE, area, size) : -ENOMEM;

	if (rc == 0)
		memcpy(image, area, 416);
	sys->platform->free(sys->platform->ctx, area);
	return rc;
}

int fpstate_fxrstor(const struct vx_fpu_system *sys, struct vx_cpu *cpu, const uint8_t *image,
		    struct vx_error *err)
{
	uint64_t bv = VX_FPU_MASK_FPSSE;
	size_t size;
	uint8_t *area;
	int rc;

	if (vx_area_check_mxcsr(image, FPU_FXSAVE_SIZE, vx_profile_mxcsr_mask(vx_cpu_profile(cpu)),
				err) != 0)
		return vx_error_set(err, -EFAULT, "arch.md §5.5", "FXRSTOR64: #GP(0): %s",
				    err ? err->reason : "reserved MXCSR bits");
	area = scratch_area(sys, &size);
	if (!area)
		return vx_error_set(err, -ENOMEM, "linux-fpu.md §8.1", "no memory for FXRSTOR");
	memset(area, 0, size);
	memcpy(area, image, FPU_FXSAVE_SIZE);
	memcpy(area + VX_XSTATE_BV_OFFSET, &bv, sizeof(bv));
	rc = vx_cpu_from_standard_image(cpu, VX_FPU_MASK_FPSSE, area, size);
	sys->platform->free(sys->platform->ctx, area);
	return rc ? vx_error_set(err, rc, "linux-fpu.md §8.1", "FXRSTOR64 on the model failed") : 0;
}

int vx_fpstate_save(const struct vx_fpu_system *system, struct vx_cpu *cpu, struct vx_fpstate *fps,
		    struct vx_fpu_counters *counters, struct vx_error *err)
{
	return fpstate_save_regs(system, cpu, fps, counters, err);
}

/* xfd_update_state() (§5.1): with dynamic sizing, IA32_XFD := fpstate->xfd before XRSTOR. */
int fpstate_xfd_update(const struct vx_fpu_system *sys, struct vx_cpu *cpu, uint64_t xfd,
		       struct vx_error *err)
{
	struct vx_event event;
	uint64_t cur;

	if (sys->init_xfd == 0)
		return 0; /* fpu_state_size_dynamic() is false */
	if (vx_cpu_rdmsr(cpu, VX_MSR_IA32_XFD, &cur, &event) == 0 && cur == xfd)
		return 0;
	if (vx_cpu_wrmsr(cpu, VX_MSR_IA32_XFD, xfd, &event) != 0)
		return vx_error_set(err, -EINVAL, "linux-fpu.md §5.1",
				    "WRMSR IA32_XFD 0x%llx faulted: %s", (unsigned long long)xfd,
				    event.reason);
	return 0;
}

/* os_xrstor(&init_fpstate, @mask): the image at its own address, on a scratch copy. */
int fpstate_restore_init(const struct vx_fpu_system *sys, struct vx_cpu *cpu, uint64_t mask,
			 struct vx_error *err)
{
	_Alignas(64) uint8_t image[VX_FPU_INIT_FPSTATE_REGS_SIZE];

	memcpy(image, sys->init_image, sizeof(image));
	if (!sys->insns.xsave)
		return fpstate_fxrstor(sys, cpu, image, err);
	return fpstate_exec(cpu, 0, sys->insns.restore, image, sys->init_size, mask, err);
}

int vx_fpstate_restore(const struct vx_fpu_system *system, struct vx_cpu *cpu,
		       struct vx_fpstate *fps, uint64_t mask, struct vx_fpu_counters *counters,
		       struct vx_error *err)
{
	/* No per-CPU cache here: IA32_XFD is read and written only if it differs (§5.1). */
	int rc = system->insns.xsave ? fpstate_xfd_update(system, cpu, fps->xfd, err) : 0;

	return rc ? rc : fpstate_restore_regs(system, cpu, fps, mask, counters, err);
}
