/* SPDX-License-Identifier: MIT */
/*
 * A readable dump of a processor, and a comparison that names the first difference.
 * Registers come from the one register table (reg.c); nothing here lists registers.
 */
#include <errno.h>
#include <stdio.h>

#include "cpu/cpu_internal.h"

/* Text written into (buf, len) while counting what the whole text needs. */
struct writer {
	char *buf;
	size_t len;
	size_t used; /* characters the full text needs so far */
};

#ifdef __GNUC__
__attribute__((format(printf, 2, 3)))
#endif
static void put(struct writer *w, const char *fmt, ...)
{
	va_list ap;
	char *dst = w->used < w->len ? w->buf + w->used : NULL;
	size_t room = w->used < w->len ? w->len - w->used : 0;

	va_start(ap, fmt);
	int n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->used += (size_t)n;
}

/* A little-endian value as one hex number, most significant byte first, no leading zeros. */
static void put_hex(struct writer *w, const uint8_t *bytes, uint32_t width)
{
	uint32_t top = width;

	while (top > 1 && bytes[top - 1] == 0)
		top--;
	put(w, "0x%x", bytes[top - 1]);
	for (uint32_t i = top - 1; i-- > 0;)
		put(w, "%02x", bytes[i]);
}

static const char *mode_name(enum vx_cpu_mode mode)
{
	static const char *const names[] = {"64-bit", "compat/protected", "real", "v86"};

	return (unsigned)mode <= VX_MODE_V86 ? names[mode] : "?";
}

static void dump_control(struct writer *w, const struct vx_cpu *cpu)
{
	const struct vx_cpu_control *c = &cpu->control;

	put(w, "profile: %s\n", cpu->profile.name);
	put(w, "control: mode=%s cpl=%u cr0=0x%llx cr4=0x%llx eflags.ac=%d\n",
	    mode_name(c->mode), c->cpl, (unsigned long long)c->cr0, (unsigned long long)c->cr4,
	    c->eflags_ac);
	put(w, "vmx: non_root=%d xsaves_enabled=%d xss_exit_bitmap=0x%llx\n", c->vmx_non_root,
	    c->vmx_xsaves_enabled, (unsigned long long)c->vmx_xss_exit_bitmap);
}

static uint64_t component_qword(const struct vx_cpu *cpu, unsigned component, uint32_t offset)
{
	if (!(cpu->facts.stored & VX_BIT(component)))
		return 0;
	return load_le64(component_bytes_const(cpu, component) + offset);
}

static void dump_msrs(struct writer *w, const struct vx_cpu *cpu)
{
	const struct cpu_state *s = &cpu->state;

	put(w, "xcr0=0x%llx xss=0x%llx xfd=0x%llx xfd_err=0x%llx\n", (unsigned long long)s->xcr0,
	    (unsigned long long)s->xss, (unsigned long long)s->xfd,
	    (unsigned long long)s->xfd_err);
	put(w, "cet: u_cet=0x%llx s_cet=0x%llx pl0_ssp=0x%llx pl1_ssp=0x%llx pl2_ssp=0x%llx "
	       "pl3_ssp=0x%llx int_ssp_tab=0x%llx ssp=0x%llx\n",
	    (unsigned long long)component_qword(cpu, VX_COMP_CET_U, U_CET_OFFSET),
	    (unsigned long long)s->s_cet,
	    (unsigned long long)component_qword(cpu, VX_COMP_CET_S, 0),
	    (unsigned long long)component_qword(cpu, VX_COMP_CET_S, 8),
	    (unsigned long long)component_qword(cpu, VX_COMP_CET_S, 16),
	    (unsigned long long)component_qword(cpu, VX_COMP_CET_U, PL3_SSP_OFFSET),
	    (unsigned long long)s->int_ssp_tab, (unsigned long long)s->ssp);
}

static void dump_tracking(struct writer *w, const struct vx_cpu *cpu)
{
	const struct vx_xrstor_info *info = &cpu->state.xrstor_info;

	put(w, "tracking: xinuse=0x%llx xmodified=0x%llx", (unsigned long long)vx_cpu_xinuse(cpu),
	    (unsigned long long)cpu->state.xmodified);
	if (info->valid)
		put(w, " xrstor_info=(cpl=%u vmx_non_root=%d laxa=0x%llx compmask=0x%llx)\n",
		    info->cpl, info->vmx_non_root, (unsigned long long)info->linear_address,
		    (unsigned long long)info->compmask);
	else
		put(w, " xrstor_info=(none)\n");
}

static bool reg_is_zero(const uint8_t *bytes, uint32_t width)
{
	for (uint32_t i = 0; i < width; i++)
		if (bytes[i])
			return false;
	return true;
}

/* One component: "(initial)" when it holds its initial configuration, else its registers. */
static void dump_component(struct writer *w, const struct vx_cpu *cpu, unsigned component)
{
	const struct vx_component_info *info = vx_component_info(component);
	unsigned zero = 0;

	put(w, "[%u %s]", component, info ? info->name : "?");
	if (state_component_is_init(cpu, component) &&
	    (component != VX_COMP_SSE || cpu_mxcsr(cpu) == VX_MXCSR_DEFAULT)) {
		put(w, " (initial)\n");
		return;
	}
	put(w, "\n");
	for (unsigned r = 0; r < vx_reg_count(); r++) {
		const struct vx_reg_info *reg = vx_reg_at(r);
		uint32_t width;
		const uint8_t *bytes;

		if (reg->component != component)
			continue;
		bytes = reg_storage_const(cpu, reg, &width);
		if (!bytes)
			continue;
		if (reg_is_zero(bytes, width) && !(component == VX_COMP_X87 && r < 8)) {
			zero++;
			continue;
		}
		put(w, "  %s=", reg->name);
		put_hex(w, bytes, width);
		put(w, "\n");
	}
	if (zero)
		put(w, "  (%u more registers are zero)\n", zero);
}

int vx_cpu_dump(const struct vx_cpu *cpu, char *buf, size_t len, size_t *needed)
{
	struct writer w = {buf, buf ? len : 0, 0};
	uint64_t shown;

	if (!cpu)
		return -EINVAL;
	dump_control(&w, cpu);
	dump_msrs(&w, cpu);
	dump_tracking(&w, cpu);
	shown = (MASK_LEGACY | cpu->state.xcr0 | cpu->state.xss) & cpu_known_components(cpu);
	for (unsigned i = 0; i < VX_COMP_LIMIT; i++)
		if (shown & VX_BIT(i))
			dump_component(&w, cpu, i);
	if (needed)
		*needed = w.used + 1;
	if (w.used + 1 > w.len)
		return -ENOBUFS;
	return 0;
}

/* ---- comparison ---- */

struct scalar {
	const char *name;
	uint64_t a, b;
};

static int differ_scalar(const struct scalar *s, char *where, size_t len)
{
	if (s->a == s->b)
		return 0;
	if (where && len)
		snprintf(where, len, "%s: 0x%llx != 0x%llx", s->name, (unsigned long long)s->a,
			 (unsigned long long)s->b);
	return 1;
}

static int compare_scalars(const struct vx_cpu *a, const struct vx_cpu *b, char *where,
			   size_t len)
{
	const struct vx_cpu_control *ca = &a->control, *cb = &b->control;
	const struct cpu_state *sa = &a->state, *sb = &b->state;
	const struct scalar list[] = {
		{"mode", (uint64_t)ca->mode, (uint64_t)cb->mode},
		{"cpl", ca->cpl, cb->cpl},
		{"cr0", ca->cr0, cb->cr0},
		{"cr4", ca->cr4, cb->cr4},
		{"eflags.ac", ca->eflags_ac, cb->eflags_ac},
		{"vmx_non_root", ca->vmx_non_root, cb->vmx_non_root},
		{"vmx_xsaves_enabled", ca->vmx_xsaves_enabled, cb->vmx_xsaves_enabled},
		{"vmx_xss_exit_bitmap", ca->vmx_xss_exit_bitmap, cb->vmx_xss_exit_bitmap},
		{"xcr0", sa->xcr0, sb->xcr0},
		{"xss", sa->xss, sb->xss},
		{"xfd", sa->xfd, sb->xfd},
		{"xfd_err", sa->xfd_err, sb->xfd_err},
		{"s_cet", sa->s_cet, sb->s_cet},
		{"int_ssp_tab", sa->int_ssp_tab, sb->int_ssp_tab},
		{"ssp", sa->ssp, sb->ssp},
	};

	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
		if (differ_scalar(&list[i], where, len))
			return 1;
	return 0;
}

static int compare_reg(const struct vx_cpu *a, const struct vx_cpu *b,
		       const struct vx_reg_info *reg, char *where, size_t len)
{
	uint32_t wa, wb;
	const uint8_t *pa = reg_storage_const(a, reg, &wa);
	const uint8_t *pb = reg_storage_const(b, reg, &wb);

	if (!pa && !pb)
		return 0;
	if (!pa || !pb || wa != wb) {
		if (where && len)
			snprintf(where, len, "%s: present in only one processor", reg->name);
		return 1;
	}
	for (uint32_t i = 0; i < wa; i++) {
		if (pa[i] == pb[i])
			continue;
		if (where && len)
			snprintf(where, len, "%s byte %u: 0x%02x != 0x%02x", reg->name, i, pa[i],
				 pb[i]);
		return 1;
	}
	return 0;
}

int vx_cpu_compare(const struct vx_cpu *a, const struct vx_cpu *b, uint64_t mask, char *where,
		   size_t len)
{
	if (where && len)
		where[0] = '\0';
	if (!a || !b)
		return -EINVAL;
	if (compare_scalars(a, b, where, len))
		return 1;
	for (unsigned r = 0; r < vx_reg_count(); r++) {
		const struct vx_reg_info *reg = vx_reg_at(r);

		if ((mask & VX_BIT(reg->component)) && compare_reg(a, b, reg, where, len))
			return 1;
	}
	return 0;
}
