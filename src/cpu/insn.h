/* SPDX-License-Identifier: MIT */
/* The XSAVE-family instructions as exec.c hands them to xsave.c and xrstor.c. */
#ifndef VXSAVE_CPU_INSN_H
#define VXSAVE_CPU_INSN_H

#include "cpu/cpu_internal.h"

enum insn_kind { INSN_XSAVE, INSN_XSAVEOPT, INSN_XSAVEC, INSN_XSAVES, INSN_XRSTOR, INSN_XRSTORS };

struct insn_desc {
	const char *name;
	enum insn_kind kind;
	bool rex_w;
};

/* One execution: the operands after the common checks of §5.0 have passed. */
struct insn_args {
	const struct insn_desc *desc;
	struct vx_memory *mem;
	uint64_t addr;
	uint64_t edx_eax;
	bool rex_w; /* 64-bit FIP/FDP format (REX.W in 64-bit mode) */
};

/* §5.1/§5.2: XSAVE and XSAVEOPT (standard format). */
int exec_xsave_standard(struct vx_cpu *cpu, const struct insn_args *args, struct vx_event *event);
/* §5.3/§5.4: XSAVEC and XSAVES (compacted format). */
int exec_xsave_compacted(struct vx_cpu *cpu, const struct insn_args *args,
			 struct vx_event *event);
/* §5.5/§5.6: XRSTOR (both forms) and XRSTORS. */
int exec_xrstor(struct vx_cpu *cpu, const struct insn_args *args, struct vx_event *event);

/* Shared by the save and restore sides (xsave.c). */
uint32_t mode_copy_size(const struct vx_cpu *cpu, unsigned component);
uint64_t mode_untouched_components(const struct vx_cpu *cpu);

#endif
