/* SPDX-License-Identifier: MIT */
/*
 * The cost model (issue 9; docs/eval.md "Cost model"): modeled time = Σ count × constant, by
 * category.  The formulas are the table below, one row per (count, constants, category).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/eval_cost.h>

#include "eval/cost_internal.h"

/* A count's cost: the sum of up to three constants, times @scale (the supervisor factor). */
struct cost_row {
	size_t count; /* offset of the uint64_t in struct vx_eval_cost_counts */
	enum vx_eval_cost_category category;
	enum vx_eval_cost_id id[3]; /* VX_COST_COUNT: unused */
	bool supervisor;	    /* times VX_COST_SUPERVISOR */
};

#define COUNT(field) offsetof(struct vx_eval_cost_counts, field)
#define NONE	     VX_COST_COUNT

static const struct cost_row cost_rows[] = {
    {COUNT(saves), VX_COST_CAT_XSAVE, {VX_COST_XSAVE_INSN, NONE, NONE}, false},
    {COUNT(save_bytes[VX_COST_BYTES_USER]),
     VX_COST_CAT_XSAVE,
     {VX_COST_XSAVE_BYTE, NONE, NONE},
     false},
    {COUNT(save_bytes[VX_COST_BYTES_SUPERVISOR]),
     VX_COST_CAT_XSAVE,
     {VX_COST_XSAVE_BYTE, NONE, NONE},
     true},
    {COUNT(save_init_components), VX_COST_CAT_XSAVE, {VX_COST_XSAVE_INIT, NONE, NONE}, false},
    {COUNT(restores), VX_COST_CAT_XRSTOR, {VX_COST_XRSTOR_INSN, NONE, NONE}, false},
    {COUNT(restore_bytes[VX_COST_BYTES_USER]),
     VX_COST_CAT_XRSTOR,
     {VX_COST_XRSTOR_BYTE, NONE, NONE},
     false},
    {COUNT(restore_bytes[VX_COST_BYTES_SUPERVISOR]),
     VX_COST_CAT_XRSTOR,
     {VX_COST_XRSTOR_BYTE, NONE, NONE},
     true},
    {COUNT(restore_init_components), VX_COST_CAT_XRSTOR, {VX_COST_XRSTOR_INIT, NONE, NONE}, false},
    {COUNT(msr_reads[VX_COST_MSR_CET_SSP]), VX_COST_CAT_MSR, {VX_COST_RDMSR, NONE, NONE}, false},
    {COUNT(msr_reads[VX_COST_MSR_GUEST]), VX_COST_CAT_MSR, {VX_COST_RDMSR, NONE, NONE}, false},
    {COUNT(msr_reads[VX_COST_MSR_OTHER]), VX_COST_CAT_MSR, {VX_COST_RDMSR, NONE, NONE}, false},
    {COUNT(msr_writes[VX_COST_MSR_CET_SSP]), VX_COST_CAT_MSR, {VX_COST_WRMSR, NONE, NONE}, false},
    {COUNT(msr_writes[VX_COST_MSR_GUEST]), VX_COST_CAT_MSR, {VX_COST_WRMSR, NONE, NONE}, false},
    {COUNT(msr_writes[VX_COST_MSR_OTHER]), VX_COST_CAT_MSR, {VX_COST_WRMSR, NONE, NONE}, false},
    /* msr_intercepts are part of exits_kernel: reported, not costed twice. */
    {COUNT(exits_kernel), VX_COST_CAT_EXIT, {VX_COST_VMEXIT, NONE, NONE}, false},
    {COUNT(exits_user), VX_COST_CAT_EXIT, {VX_COST_EXIT_USER, NONE, NONE}, false},
    {COUNT(kvm_runs), VX_COST_CAT_EXIT, {VX_COST_KVM_IOCTL, NONE, NONE}, false},
    /* An XFD #NM: into the kernel, RDMSR of IA32_XFD_ERR, WRMSR of 0 (linux-fpu.md §5.2). */
    {COUNT(nm_events), VX_COST_CAT_NM, {VX_COST_KERNEL_ENTRY, VX_COST_RDMSR, VX_COST_WRMSR}, false},
    {COUNT(reallocs), VX_COST_CAT_REALLOC, {VX_COST_REALLOC, NONE, NONE}, false},
    {COUNT(context_switches), VX_COST_CAT_SWITCH, {VX_COST_SWITCH, NONE, NONE}, false},
};

#define NROWS (sizeof(cost_rows) / sizeof(cost_rows[0]))

static uint64_t count_at(const struct vx_eval_cost_counts *counts, size_t offset)
{
	uint64_t v;

	memcpy(&v, (const char *)counts + offset, sizeof(v));
	return v;
}

static double row_unit_cost(const struct vx_eval_cost_table *table, const struct cost_row *row)
{
	double ns = 0;

	for (unsigned k = 0; k < 3 && row->id[k] != NONE; k++)
		ns += vx_eval_cost_ns(table, row->id[k]);
	return row->supervisor ? ns * vx_eval_cost_ns(table, VX_COST_SUPERVISOR) : ns;
}

void vx_eval_cost_model(const struct vx_eval_cost_table *table,
			const struct vx_eval_cost_counts *counts,
			struct vx_eval_cost_breakdown *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!table || !counts)
		return;
	for (size_t i = 0; i < NROWS; i++) {
		double ns = (double)count_at(counts, cost_rows[i].count) *
			    row_unit_cost(table, &cost_rows[i]);

		out->ns[cost_rows[i].category] += ns;
		out->total_ns += ns;
	}
	if (counts->operations)
		out->per_operation_ns = out->total_ns / (double)counts->operations;
}

/* ----------------------------------------------------------------------------------------- */
/* Shared helpers                                                                               */

size_t vx_cost_append(char *buf, size_t len, size_t used, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, fmt, ap);
	va_end(ap);
	return n > 0 ? (size_t)n : 0;
}

/* The text buffer of @used bytes moved into one of @cap bytes from @pf (the platform has no
 * realloc); NULL with @buf freed when it cannot be allocated. */
static char *grow_text(const struct vx_platform *pf, char *buf, size_t used, size_t cap)
{
	char *bigger = pf->alloc(pf->ctx, cap, 16);

	if (bigger && used)
		memcpy(bigger, buf, used);
	if (buf)
		pf->free(pf->ctx, buf);
	return bigger;
}

int vx_cost_read_file(const char *path, const struct vx_platform *pf, char **text, size_t *len,
		      struct vx_error *err)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	char *buf = NULL;
	size_t used = 0, cap = 0;

	if (!f)
		return vx_error_set(err, path ? -errno : -EINVAL, NULL, "cannot open '%s': %s",
				    path ? path : "(null)", path ? strerror(errno) : "no path");
	for (;;) {
		if (used + 4096 + 1 > cap) {
			buf = grow_text(pf, buf, used, cap = cap * 2 + 8192);
			if (!buf) {
				fclose(f);
				return vx_error_set(err, -ENOMEM, NULL,
						    "cannot allocate %zu bytes reading '%s'", cap,
						    path);
			}
		}
		size_t n = fread(buf + used, 1, 4096, f);

		used += n;
		if (n < 4096)
			break;
	}
	if (ferror(f)) {
		int code = errno ? -errno : -EIO;

		pf->free(pf->ctx, buf);
		fclose(f);
		return vx_error_set(err, code, NULL, "cannot read '%s': %s", path, strerror(-code));
	}
	fclose(f);
	buf[used] = '\0';
	*text = buf;
	*len = used;
	return 0;
}

int vx_eval_cost_load_with_platform(struct vx_eval_cost_table *table, const char *path,
				    const struct vx_platform *platform, struct vx_error *err)
{
	const struct vx_platform *pf = platform ? platform : vx_platform_default();
	char *text = NULL;
	size_t len = 0;
	int rc = vx_cost_read_file(path, pf, &text, &len, err);

	if (rc == 0)
		rc = vx_eval_cost_parse(table, text, len, err);
	if (text)
		pf->free(pf->ctx, text);
	return rc;
}
