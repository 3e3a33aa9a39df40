/* SPDX-License-Identifier: MIT */
/*
 * init_fpstate and the per-CPU setup, executed on a model processor rather than written by
 * hand: fpu__init_cpu_xstate() programs CR4.OSXSAVE, IA32_XFD, XCR0 and IA32_XSS, and
 * setup_init_fpu_buf() restores an all-init header and saves the legacy region back
 * (linux-fpu.md §2.2 steps 13 and 17).  A value the model CPU refuses is an error, not a boot.
 */
#include <errno.h>
#include <string.h>

#include "fpu_internal.h"

/* Where the scratch CPU sees init_fpstate: any 64-byte aligned linear address will do. */
#define INIT_FPSTATE_LINEAR 0x100000u

static int event_error(struct vx_error *err, const char *what, uint64_t value,
		       const struct vx_event *event)
{
	char name[48];

	return vx_error_set(err, -EINVAL, event->rule ? event->rule : "linux-fpu.md §2.2 step 13",
			    "%s 0x%llx faulted on the model CPU: %s: %s", what,
			    (unsigned long long)value, vx_event_name(event, name, sizeof(name)),
			    event->reason);
}

static int set_osxsave(struct vx_cpu *cpu, bool on, struct vx_error *err)
{
	struct vx_cpu_control control;
	struct vx_event event;

	vx_cpu_get_control(cpu, &control);
	control.cr4 = on ? control.cr4 | VX_CR4_OSXSAVE : control.cr4 & ~VX_CR4_OSXSAVE;
	if (vx_cpu_set_control(cpu, &control, &event) != 0)
		return event_error(err, "CR4", control.cr4, &event);
	return 0;
}

/* fpu__init_cpu_xstate(): XFD before XSETBV (so no dynamic state is live unarmed), then XSS. */
int vx_fpu_system_init_cpu(const struct vx_fpu_system *system, struct vx_cpu *cpu,
			   struct vx_error *err)
{
	const struct vx_fpu_cpu_setup *setup = &system->setup;
	struct vx_event event;
	int rc = set_osxsave(cpu, setup->osxsave, err);

	if (rc || !setup->osxsave)
		return rc;
	if (setup->write_xfd && vx_cpu_wrmsr(cpu, VX_MSR_IA32_XFD, setup->xfd, &event) != 0)
		return event_error(err, "WRMSR IA32_XFD", setup->xfd, &event);
	if (vx_cpu_xsetbv(cpu, 0, setup->xcr0, &event) != 0)
		return event_error(err, "XSETBV XCR0", setup->xcr0, &event);
	if (setup->write_xss && vx_cpu_wrmsr(cpu, VX_MSR_IA32_XSS, setup->xss, &event) != 0)
		return event_error(err, "WRMSR IA32_XSS", setup->xss, &event);
	return 0;
}

/*
 * fpstate_init_user() before the restore (§6: FCW 0x37f, MXCSR 0x1f80), then the compacted
 * XCOMP_BV of the default features (xstate_init_xcomp_bv) and XSTATE_BV = 0: everything init.
 */
static void prepare_image(struct vx_fpu_system *sys)
{
	uint16_t fcw = VX_FCW_DEFAULT;
	uint32_t mxcsr = VX_MXCSR_DEFAULT;
	uint64_t xcomp_bv = sys->init_xfeatures | VX_XCOMP_BV_COMPACTED;

	memset(sys->init_image, 0, sizeof(sys->init_image));
	memcpy(sys->init_image, &fcw, sizeof(fcw));
	memcpy(sys->init_image + VX_MXCSR_OFFSET, &mxcsr, sizeof(mxcsr));
	if (sys->insns.compacted)
		memcpy(sys->init_image + VX_XCOMP_BV_OFFSET, &xcomp_bv, sizeof(xcomp_bv));
}

/*
 * The kernel FXSAVEs the legacy region after the restore; the model has no FXSAVE, so XSAVE64
 * of FP|SSE into a scratch area stands in: it writes the same bytes 0-415 (x87 and SSE state,
 * MXCSR and MXCSR_MASK), and only those are copied.  Bytes 416-511 stay as they were (zero).
 */
static int save_legacy_region(struct vx_fpu_system *sys, struct vx_cpu *cpu, struct vx_error *err)
{
	_Alignas(64) uint8_t scratch[FPU_XREGS_SIZE];
	struct vx_memory mem = {scratch, sizeof(scratch), INIT_FPSTATE_LINEAR};
	struct vx_event event;

	memset(scratch, 0, sizeof(scratch));
	if (vx_cpu_exec(cpu, VX_INSN_XSAVE64, 0, &mem, mem.base, VX_FPU_MASK_FPSSE, &event) != 0)
		return event_error(err, "XSAVE64 (for FXSAVE) with RFBM", VX_FPU_MASK_FPSSE,
				   &event);
	memcpy(sys->init_image, scratch, 416);
	return 0;
}

static int restore_and_save(struct vx_fpu_system *sys, struct vx_cpu *cpu, struct vx_error *err)
{
	struct vx_memory mem = {sys->init_image, sizeof(sys->init_image), INIT_FPSTATE_LINEAR};
	struct vx_event event;
	int rc = vx_fpu_system_init_cpu(sys, cpu, err);

	if (rc)
		return rc;
	/* os_xrstor_booting(): XRSTORS (or XRSTOR) with every RFBM bit set. */
	if (vx_cpu_exec(cpu, sys->insns.restore, 0, &mem, mem.base, ~UINT64_C(0), &event) != 0)
		return event_error(err, vx_insn_name(sys->insns.restore), 0, &event);
	return save_legacy_region(sys, cpu, err);
}

/* setup_init_fpu_buf() (§2.2 step 17): prints the supported features, then builds the image. */
int fpu_setup_init_fpu_buf(struct vx_fpu_system *sys, struct vx_error *err)
{
	struct vx_cpu *cpu;
	int rc;

	fpu_log_features(sys);
	prepare_image(sys);
	rc = vx_cpu_create(&sys->profile, sys->platform, &cpu, err);
	if (rc)
		return rc;
	rc = restore_and_save(sys, cpu, err);
	vx_cpu_destroy(cpu);
	return rc;
}
