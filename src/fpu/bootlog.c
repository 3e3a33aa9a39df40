/* SPDX-License-Identifier: MIT */
/*
 * The boot log: the lines the kernel prints while booting its FPU framework, with the same
 * text and field widths as dmesg shows them (without the timestamp), so a person - or a test -
 * can hold the model against `dmesg`.  The formats are facts about the kernel's output; this
 * machine's dmesg confirmed the "Supporting", "xstate_offset" and "Enabled" lines (docs/fpu.md).
 */
#include <stdarg.h>
#include <stdio.h>

#include "fpu_internal.h"

void fpu_log(struct vx_fpu_system *sys, enum vx_fpu_log_level level, const char *fmt, ...)
{
	struct vx_fpu_log_line *line;
	va_list ap;

	if (sys->log_count >= FPU_LOG_LINES)
		return;
	line = &sys->log[sys->log_count++];
	line->level = level;
	va_start(ap, fmt);
	vsnprintf(line->text, sizeof(line->text), fmt, ap);
	va_end(ap);
}

/* print_xstate_features() (§2.2 step 17): every feature of the kernel max, by index. */
void fpu_log_features(struct vx_fpu_system *sys)
{
	for (unsigned i = 0; i < VX_FPU_XFEATURE_MAX; i++)
		if (sys->kernel.max_features & VX_BIT(i))
			fpu_log(sys, VX_FPU_LOG_INFO,
				"x86/fpu: Supporting XSAVE feature 0x%03llx: '%s'",
				(unsigned long long)VX_BIT(i), vx_fpu_xfeature_name(sys, i));
}

/*
 * print_xstate_offset_size() and the closing line (§2.2 step 18): offsets as the kernel max's
 * own buffer has them (compacted when XCOMPACTED), sizes from the cache, "%4d" wide.
 */
void fpu_log_offsets(struct vx_fpu_system *sys)
{
	uint64_t max = sys->kernel.max_features;

	for (unsigned i = VX_COMP_AVX; i < VX_FPU_XFEATURE_MAX; i++)
		if (max & VX_BIT(i))
			fpu_log(sys, VX_FPU_LOG_INFO,
				"x86/fpu: xstate_offset[%u]: %4u, xstate_sizes[%u]: %4u", i,
				vx_fpu_xfeature_offset(sys, max, i), i, sys->xstate[i].size);
	fpu_log(sys, VX_FPU_LOG_INFO,
		"x86/fpu: Enabled xstate features 0x%llx, context size is %u bytes, using '%s' "
		"format.",
		(unsigned long long)max, sys->kernel.max_size,
		sys->insns.compacted ? "compacted" : "standard");
}

unsigned vx_fpu_boot_log_count(const struct vx_fpu_system *system)
{
	return system ? system->log_count : 0;
}

const struct vx_fpu_log_line *vx_fpu_boot_log_line(const struct vx_fpu_system *system,
						   unsigned index)
{
	if (!system || index >= system->log_count)
		return NULL;
	return &system->log[index];
}
