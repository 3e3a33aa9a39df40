/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the tests of tasks, permissions and guests (test_fpu_task.c,
 * test_fpu_perm.c, test_fpu_guest.c, test_fpu_invariants.c, test_fpu_prctl_diff.c).
 * Everything is static inline; expected values are computed in the tests from linux-fpu.md.
 */
#ifndef VXSAVE_FPU_TASK_TEST_UTIL_H
#define VXSAVE_FPU_TASK_TEST_UTIL_H

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/fpu_task.h>

#define FT_CET_S     UINT64_C(0x1000)
#define FT_PASID     UINT64_C(0x400)
#define FT_XTILECFG  UINT64_C(0x20000)
#define FT_XTILEDATA UINT64_C(0x40000)
#define FT_AMX	     (FT_XTILECFG | FT_XTILEDATA)
#define FT_BIT63     (UINT64_C(1) << 63)

/* A platform that fails allocation number @allocations_left (0-based); -1 = never. */
struct ft_platform {
	int allocations_left;
	int live;
	struct vx_platform platform;
};

static inline void *ft_alloc(void *ctx, size_t size, size_t align)
{
	struct ft_platform *fp = ctx;

	if (fp->allocations_left >= 0 && fp->allocations_left-- == 0)
		return NULL;
	fp->live++;
	return vx_platform_default()->alloc(NULL, size, align);
}

static inline void ft_free(void *ctx, void *ptr)
{
	struct ft_platform *fp = ctx;

	if (ptr)
		fp->live--;
	vx_platform_default()->free(NULL, ptr);
}

static inline void ft_platform_init(struct ft_platform *fp)
{
	fp->allocations_left = -1;
	fp->live = 0;
	fp->platform.alloc = ft_alloc;
	fp->platform.free = ft_free;
	fp->platform.log = NULL;
	fp->platform.ctx = fp;
}

static inline struct vx_fpu_system *ft_boot_profile(const struct vx_profile *p,
						    enum vx_fpu_cet_design design,
						    const struct vx_platform *platform)
{
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_system *sys = NULL;

	config.cet_design = design;
	config.platform = platform;
	if (vx_fpu_system_create(p, &config, &sys, &err) != 0)
		fail_msg("boot of %s failed: %s", p->name, err.reason);
	return sys;
}

static inline void ft_profile(struct vx_profile *p, const char *name)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_profile_builtin(p, name, &err) != 0)
		fail_msg("profile %s: %s", name, err.reason);
}

static inline struct vx_fpu_system *ft_boot(const char *profile, enum vx_fpu_cet_design design,
					    const struct vx_platform *platform)
{
	struct vx_profile p;

	ft_profile(&p, profile);
	return ft_boot_profile(&p, design, platform);
}

static inline struct vx_fpu_machine *ft_machine(const struct vx_fpu_system *sys, unsigned ncpus)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_machine *m = NULL;

	if (vx_fpu_machine_create(sys, ncpus, &m, &err) != 0)
		fail_msg("machine: %s", err.reason);
	return m;
}

static inline struct vx_fpu_task *ft_spawn(struct vx_fpu_machine *m)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *t = NULL;

	if (vx_fpu_process_create(m, &t, &err) != 0)
		fail_msg("process: %s", err.reason);
	return t;
}

static inline const struct vx_reg_info *ft_reg(const char *name)
{
	const struct vx_reg_info *r = vx_reg_lookup(name);

	if (!r)
		fail_msg("no register %s", name);
	return r;
}

static inline void ft_check(int rc, const struct vx_error *err, const char *what)
{
	if (rc != 0)
		fail_msg("%s: %d (%s)", what, rc, err->reason);
}

static inline void ft_schedule(struct vx_fpu_task *t, unsigned cpu)
{
	struct vx_error err = VX_ERROR_INIT;

	ft_check(vx_fpu_task_schedule(t, cpu, &err), &err, "schedule");
}

/* The running task writes @reg with bytes @fill, @fill+1, ...; it must retire. */
static inline void ft_write(struct vx_fpu_task *t, const char *name, uint8_t fill)
{
	const struct vx_reg_info *r = ft_reg(name);
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;
	uint8_t value[1024];

	for (unsigned i = 0; i < r->width; i++)
		value[i] = (uint8_t)(fill + i);
	ft_check(vx_fpu_task_set_reg(t, r, value, r->width, &res, &err), &err, name);
	if (!res.retired)
		fail_msg("writing %s did not retire (signal %d: %s)", name, res.signal,
			 res.event.reason);
}

/* True if the running task reads @reg as written by ft_write(@fill) (fill 0 = all zero). */
static inline bool ft_reads(struct vx_fpu_task *t, const char *name, int fill)
{
	const struct vx_reg_info *r = ft_reg(name);
	struct vx_error err = VX_ERROR_INIT;
	uint8_t value[1024];

	ft_check(vx_fpu_task_get_reg(t, r, value, r->width, &err), &err, name);
	for (unsigned i = 0; i < r->width; i++) {
		uint8_t want = fill < 0 ? 0 : (uint8_t)(fill + i);

		if (value[i] != want)
			return false;
	}
	return true;
}

static inline uint64_t ft_hdr(const struct vx_fpstate *fps, unsigned offset)
{
	uint64_t v;

	memcpy(&v, fps->regs + offset, sizeof(v));
	return v;
}

#define FT_XSTATE_BV(fps) ft_hdr((fps), 512)
#define FT_XCOMP_BV(fps)  ft_hdr((fps), 520)

static inline struct vx_fpu_task_info ft_info(const struct vx_fpu_task *t)
{
	struct vx_fpu_task_info info;

	vx_fpu_task_info(t, &info);
	return info;
}

static inline uint64_t ft_rdmsr(struct vx_fpu_machine *m, unsigned cpu, uint32_t msr)
{
	struct vx_event event;
	uint64_t value = 0;

	if (vx_cpu_rdmsr(vx_fpu_machine_cpu(m, cpu), msr, &value, &event) != 0)
		fail_msg("rdmsr 0x%x: %s", msr, event.reason);
	return value;
}

static inline int ft_prctl(struct vx_fpu_task *t, uint64_t option, uint64_t arg2, uint64_t *out)
{
	struct vx_error err = VX_ERROR_INIT;

	return vx_fpu_arch_prctl(t, option, arg2, out, &err);
}

#endif /* VXSAVE_FPU_TASK_TEST_UTIL_H */
