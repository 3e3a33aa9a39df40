/* SPDX-License-Identifier: MIT */
/* What the cost model's files share (cost.c, cost_table.c, calibrate.c; issue 9). */
#ifndef VXSAVE_EVAL_COST_INTERNAL_H
#define VXSAVE_EVAL_COST_INTERNAL_H

#include <stddef.h>

#include <vxsave/eval_cost.h>

/*
 * The development machine's calibration, the built-in VX_COST_MEASURED values (cost_table.c
 * names the machine): for each constant the median of 7 runs of vx_eval_calibrate() (31
 * samples each) there, a shared nested VM with other builds running (load 5-19).
 */
#define COST_DEV_XSAVE_INSN   39.1
#define COST_DEV_XSAVE_BYTE   0.028
#define COST_DEV_XSAVE_INIT   0.05
#define COST_DEV_XRSTOR_INSN  79.7
#define COST_DEV_XRSTOR_BYTE  0.066
#define COST_DEV_XRSTOR_INIT  3.6
#define COST_DEV_EXIT_USER    11550.0
#define COST_DEV_KVM_IOCTL    240.0
#define COST_DEV_KERNEL_ENTRY 261.0
#define COST_DEV_REALLOC      11980.0
#define COST_DEV_SWITCH	      4430.0

/* snprintf into @buf at @used (nothing once full); returns the length it needed. */
size_t vx_cost_append(char *buf, size_t len, size_t used, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* The whole file at @path, NUL-terminated, in *@text allocated from @pf (free it there);
 * -errno naming the path. */
int vx_cost_read_file(const char *path, const struct vx_platform *pf, char **text, size_t *len,
		      struct vx_error *err);

#endif
