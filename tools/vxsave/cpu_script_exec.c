/* SPDX-License-Identifier: MIT */
/*
 * The `vxsave cpu` script language, part 2: running a parsed program on a model processor.
 * Every operation that can fault records its outcome (retired, exception or VM exit) for the
 * `expect ok|fault|vmexit` that follows; a fault is printed and the script goes on.  A failed
 * expectation stops the run.  Reference: docs/cpu-script.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_script_internal.h"

#define CS_EVENT_NAME_MAX 64
#define CS_MASK_TEXT_MAX  256
/* Registers up to a ZMM print as one number; wider ones (tiles) as rows of bytes. */
#define CS_NUMERIC_REG_MAX 64u

#define SCRIPT(context) ((struct cpu_script *)(context))
#define STMT(stmt)	((const struct cs_stmt *)(stmt)->payload)

static const char *mask_text(uint64_t mask, char *buf, size_t len)
{
	if (!mask)
		snprintf(buf, len, "none");
	else
		vx_format_component_mask(mask, buf, len);
	return buf;
}

/*
 * "#GP(0): reason [rule]" or "VM exit 55 (XSETBV): reason".  The rule and any reference in the
 * reason cite the Intel SDM / AMD APM section users can open, not the project's notes (vx_cite).
 */
static const char *describe_event(const struct vx_event *event, char *buf, size_t len)
{
	char name[CS_EVENT_NAME_MAX], reason[sizeof(event->reason) + 64], rule[96];

	vx_event_name(event, name, sizeof(name));
	vx_cite(event->reason, reason, sizeof(reason));
	if (event->rule && event->reason[0] && !strstr(event->reason, event->rule)) {
		vx_cite(event->rule, rule, sizeof(rule));
		snprintf(buf, len, "%s: %s [%s]", name, reason, rule);
	} else if (event->reason[0]) {
		snprintf(buf, len, "%s: %s", name, reason);
	} else {
		snprintf(buf, len, "%s", name);
	}
	return buf;
}

/*
 * Record what an operation did.  @always: print the result line even when it retired
 * (instructions do; set/reg only speak up when they fault).  @result: text for a retired
 * operation that returns something ("0x7 (x87|SSE|AVX)").
 */
static int record_outcome(struct sg_runner *r, struct cpu_script *s, int rc,
			  const struct vx_event *event, bool always, const char *result)
{
	char text[512];

	r->summary->operations++;
	if (rc < 0)
		return sg_run_error(r, rc, "the model refused '%s': %s", r->stmt->text,
				    event && event->reason[0] ? event->reason : vx_errno_name(rc));
	s->faulted = rc == VX_FAULTED;
	if (s->faulted) {
		s->event = *event;
		r->summary->faults++;
	}
	if (r->options->quiet || (!s->faulted && !always))
		return 0;
	if (s->faulted)
		fprintf(r->out, "%u: %s -> %s\n", r->stmt->line, r->stmt->text,
			describe_event(event, text, sizeof(text)));
	else
		fprintf(r->out, "%u: %s -> %s\n", r->stmt->line, r->stmt->text,
			result ? result : "ok");
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Reading state without side effects                                                           */

/* RDMSR as a debugger would: a host-side read, whatever the processor's CPL, mode or VMX. */
static int peek_msr(struct sg_runner *r, struct cpu_script *s, uint32_t msr, uint64_t *value,
		    struct vx_event *event)
{
	int rc = vx_cpu_msr_access(s->cpu, VX_MSR_HOST, VX_MSR_READ, msr, value, event);

	if (rc < 0)
		return sg_run_error(r, rc, "cannot read MSR %#x: %s", msr, vx_errno_name(rc));
	return rc;
}

static const char *msr_label(uint32_t msr, char *buf, size_t len)
{
	const char *name = vx_msr_name(msr);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "MSR %#x", msr);
	return buf;
}

/* MSRs whose value is a component bitmap print with the component names. */
static bool msr_is_mask(uint32_t msr)
{
	return msr == VX_MSR_IA32_XSS || msr == VX_MSR_IA32_XFD || msr == VX_MSR_IA32_XFD_ERR;
}

static const char *value_text(uint64_t value, bool as_mask, char *buf, size_t len)
{
	char names[CS_MASK_TEXT_MAX];

	if (as_mask && value)
		snprintf(buf, len, "%#llx (%s)", (unsigned long long)value,
			 mask_text(value, names, sizeof(names)));
	else
		snprintf(buf, len, "%#llx", (unsigned long long)value);
	return buf;
}

/* Little-endian @bytes as one hex number, '_' between 8-byte groups when wider than 8. */
static void print_wide_number(FILE *out, const uint8_t *bytes, size_t length)
{
	fputs("0x", out);
	for (size_t i = length; i-- > 0;) {
		fprintf(out, "%02x", bytes[i]);
		if (i && length > 8 && i % 8 == 0)
			fputc('_', out);
	}
}

static void print_byte_rows(FILE *out, const uint8_t *bytes, size_t length)
{
	for (size_t row = 0; row < length; row += 32) {
		fprintf(out, "    +%04zx ", row);
		for (size_t i = row; i < row + 32 && i < length; i++)
			fprintf(out, " %02x", bytes[i]);
		fputc('\n', out);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* Memory                                                                                       */

static uint8_t *stmt_bytes(const struct cpu_script *s, const struct cs_stmt *stmt)
{
	return s->buffers[stmt->area.buffer].bytes + stmt->area.offset + stmt->where;
}

static void store_le(uint8_t *to, uint64_t value, uint64_t width)
{
	for (uint64_t i = 0; i < width; i++)
		to[i] = (uint8_t)(value >> (8 * i));
}

static uint64_t load_le(const uint8_t *from, uint64_t width)
{
	uint64_t value = 0;

	for (uint64_t i = 0; i < width; i++)
		value |= (uint64_t)from[i] << (8 * i);
	return value;
}

/* A literal widened to @width bytes (zero-extended, or all ones). */
static void widen_value(const struct sg_bytes *value, uint8_t *to, size_t width)
{
	memset(to, value->all_ones ? 0xFF : 0, width);
	if (!value->all_ones)
		memcpy(to, value->bytes, value->length < width ? value->length : width);
}

CS_RUN(cs_run_fill)
{
	(void)r;
	memset(stmt_bytes(SCRIPT(context), STMT(stmt)), (int)STMT(stmt)->mask, STMT(stmt)->length);
	return 0;
}

CS_RUN(cs_run_poke)
{
	const struct cs_stmt *poke = STMT(stmt);
	uint8_t *to = stmt_bytes(SCRIPT(context), poke);

	(void)r;
	if (poke->value.bytes)
		memcpy(to, poke->value.bytes, poke->value.length);
	else
		store_le(to, poke->mask, poke->length);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Control state: every change goes through vx_cpu_set_control(), which may #GP                 */

static int set_control(struct sg_runner *r, struct cpu_script *s,
		       const struct vx_cpu_control *control)
{
	struct vx_event event = {0};

	return record_outcome(r, s, vx_cpu_set_control(s->cpu, control, &event), &event, false,
			      NULL);
}

/* The processor's control state with one field changed by the caller. */
#define CHANGE_CONTROL(field, value)                                                               \
	do {                                                                                       \
		struct vx_cpu_control control;                                                     \
                                                                                                   \
		vx_cpu_get_control(SCRIPT(context)->cpu, &control);                                \
		control.field = (value);                                                           \
		return set_control(r, SCRIPT(context), &control);                                  \
	} while (0)

static uint64_t change_bits(const struct cs_cr_change *change, uint64_t old)
{
	uint64_t value = change->assign ? change->value : old;

	return (value | change->set) & ~change->clear;
}

static uint64_t current_cr(const struct cpu_script *s, bool cr4)
{
	struct vx_cpu_control control;

	vx_cpu_get_control(s->cpu, &control);
	return cr4 ? control.cr4 : control.cr0;
}

CS_RUN(cs_run_set_cpl)
{
	CHANGE_CONTROL(cpl, STMT(stmt)->number);
}

CS_RUN(cs_run_set_mode)
{
	CHANGE_CONTROL(mode, (enum vx_cpu_mode)STMT(stmt)->mask);
}

CS_RUN(cs_run_set_cr0)
{
	CHANGE_CONTROL(cr0, change_bits(&STMT(stmt)->cr, current_cr(SCRIPT(context), false)));
}

CS_RUN(cs_run_set_cr4)
{
	CHANGE_CONTROL(cr4, change_bits(&STMT(stmt)->cr, current_cr(SCRIPT(context), true)));
}

CS_RUN(cs_run_set_ac)
{
	CHANGE_CONTROL(eflags_ac, STMT(stmt)->mask != 0);
}

CS_RUN(cs_run_set_vmx)
{
	CHANGE_CONTROL(vmx_non_root, STMT(stmt)->mask != 0);
}

CS_RUN(cs_run_set_vmx_xsaves)
{
	CHANGE_CONTROL(vmx_xsaves_enabled, STMT(stmt)->mask != 0);
}

CS_RUN(cs_run_set_xss_exit)
{
	CHANGE_CONTROL(vmx_xss_exit_bitmap, STMT(stmt)->mask);
}

/* The shadow-stack pointer is not control state: it cannot fault, but counts as an operation. */
CS_RUN(cs_run_set_ssp)
{
	struct vx_event event = {0};

	vx_cpu_set_ssp(SCRIPT(context)->cpu, STMT(stmt)->mask);
	return record_outcome(r, SCRIPT(context), 0, &event, false, NULL);
}

CS_RUN(cs_run_reset)
{
	(void)r, (void)stmt;
	vx_cpu_reset(SCRIPT(context)->cpu);
	return 0;
}

CS_RUN(cs_run_require)
{
	const struct vx_profile *profile = vx_cpu_profile(SCRIPT(context)->cpu);

	/* NOLINTNEXTLINE(misc-redundant-expression): the 64-bit mask's bound, whatever the count */
	for (int feature = 0; feature < VX_FEAT_COUNT && feature < 64; feature++) {
		const struct vx_feature_info *info = vx_feature_info((enum vx_feature)feature);

		if (!(STMT(stmt)->mask & VX_BIT(feature)) || vx_profile_has(profile, feature))
			continue;
		return sg_run_error(r, -ENOTSUP, "this script needs '%s', which %s does not have",
				    info ? info->name : "?",
				    profile->name[0] ? profile->name : "the CPU");
	}
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Operations                                                                                   */

/* A register's width on this CPU (PT, LBR... are as large as CPUID says); 0 after an error. */
static size_t reg_width(struct sg_runner *r, const struct cpu_script *s,
			const struct vx_reg_info *reg)
{
	const struct vx_profile *profile = vx_cpu_profile(s->cpu);
	const struct vx_component_info *info = vx_component_info(reg->component);
	uint32_t width = 0;
	int rc = vx_area_field_width(profile, reg->component, reg->width, &width, NULL);

	if (rc == -ENOTSUP) {
		sg_run_error(r, -ENOTSUP, "register %s is in component %s, which %s does not have",
			     reg->name, info ? info->name : "?",
			     profile->name[0] ? profile->name : "this CPU");
		return 0;
	}
	if (rc || width > CS_VALUE_BYTES_MAX) {
		sg_run_error(r, -E2BIG, "register %s: width %u is not supported here", reg->name,
			     width);
		return 0;
	}
	return width;
}

CS_RUN(cs_run_reg)
{
	const struct cs_stmt *write = STMT(stmt);
	struct cpu_script *s = SCRIPT(context);
	uint8_t value[CS_VALUE_BYTES_MAX];
	struct vx_event event = {0};
	size_t width = reg_width(r, s, write->reg);
	int rc;

	if (!width)
		return r->err ? r->err->code : -ENOTSUP;
	if (!write->value.all_ones && write->value.length > width)
		return sg_run_error(r, -EINVAL, "value has %zu significant bytes, %s holds %zu",
				    write->value.length, write->reg->name, width);
	widen_value(&write->value, value, width);
	rc = vx_cpu_set_reg(s->cpu, write->reg, value, width, &event);
	return record_outcome(r, s, rc, &event, false, NULL);
}

CS_RUN(cs_run_insn)
{
	const struct cs_stmt *insn = STMT(stmt);
	struct cpu_script *s = SCRIPT(context);
	const struct cs_buffer *buffer = &s->buffers[insn->area.buffer];
	struct vx_memory memory = {buffer->bytes, buffer->size, buffer->base};
	struct vx_event event = {0};
	int rc;

	rc = vx_cpu_exec(s->cpu, (enum vx_insn)stmt->row->data, insn->lock ? VX_PREFIX_LOCK : 0,
			 &memory, memory.base + insn->area.offset, insn->mask, &event);
	return record_outcome(r, s, rc, &event, true, NULL);
}

/* xgetbv / rdmsr: the value becomes `expect value`'s subject. */
static int record_read(struct sg_runner *r, struct cpu_script *s, int rc,
		       const struct vx_event *event, uint64_t value, bool as_mask)
{
	char text[CS_MASK_TEXT_MAX + 32];

	s->have_value = rc == 0;
	s->value = value;
	return record_outcome(r, s, rc, event, true,
			      value_text(value, as_mask, text, sizeof(text)));
}

CS_RUN(cs_run_xgetbv)
{
	struct vx_event event = {0};
	uint64_t value = 0;
	int rc = vx_cpu_xgetbv(SCRIPT(context)->cpu, STMT(stmt)->number, &value, &event);

	return record_read(r, SCRIPT(context), rc, &event, value, true);
}

CS_RUN(cs_run_rdmsr)
{
	struct vx_event event = {0};
	uint64_t value = 0;
	int rc = vx_cpu_rdmsr(SCRIPT(context)->cpu, STMT(stmt)->number, &value, &event);

	return record_read(r, SCRIPT(context), rc, &event, value, msr_is_mask(STMT(stmt)->number));
}

CS_RUN(cs_run_xsetbv)
{
	struct vx_event event = {0};
	int rc = vx_cpu_xsetbv(SCRIPT(context)->cpu, STMT(stmt)->number, STMT(stmt)->mask, &event);

	return record_outcome(r, SCRIPT(context), rc, &event, true, NULL);
}

CS_RUN(cs_run_wrmsr)
{
	struct vx_event event = {0};
	int rc = vx_cpu_wrmsr(SCRIPT(context)->cpu, STMT(stmt)->number, STMT(stmt)->mask, &event);

	return record_outcome(r, SCRIPT(context), rc, &event, true, NULL);
}

CS_RUN(cs_run_use)
{
	struct vx_event event = {0};
	int rc = vx_cpu_use(SCRIPT(context)->cpu, STMT(stmt)->mask, &event);

	return record_outcome(r, SCRIPT(context), rc, &event, true, NULL);
}

CS_RUN(cs_run_init)
{
	(void)r;
	vx_cpu_init_components(SCRIPT(context)->cpu, STMT(stmt)->mask);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* print and echo                                                                               */

CS_RUN(cs_run_echo)
{
	const char *text = stmt->text + 4; /* "echo" */

	(void)context;
	while (*text == ' ' || *text == '\t')
		text++;
	fprintf(r->out, "%s\n", text);
	return 0;
}

CS_RUN(cs_run_print_state)
{
	size_t needed = 0, size = 16384;
	char *text = NULL;
	int rc = 0;

	(void)stmt;
	for (int attempt = 0; attempt < 4; attempt++) {
		char *bigger = realloc(text, size);

		if (!bigger) {
			free(text);
			return sg_run_error(r, -ENOMEM, "out of memory");
		}
		text = bigger;
		rc = vx_cpu_dump(SCRIPT(context)->cpu, text, size, &needed);
		if (rc != -ENOBUFS)
			break;
		size = needed + 1;
	}
	if (rc == 0)
		fputs(text, r->out);
	free(text);
	if (rc < 0)
		return sg_run_error(r, rc, "cannot dump the processor state: %s",
				    vx_errno_name(rc));
	return 0;
}

static int read_reg(struct sg_runner *r, const struct cpu_script *s, const struct vx_reg_info *reg,
		    uint8_t *bytes, size_t *width)
{
	int rc;

	*width = reg_width(r, s, reg);
	if (!*width)
		return r->err ? r->err->code : -ENOTSUP;
	rc = vx_cpu_get_reg(s->cpu, reg, bytes, *width);
	if (rc < 0)
		return sg_run_error(r, rc, "cannot read %s: %s", reg->name, vx_errno_name(rc));
	return 0;
}

CS_RUN(cs_run_print_reg)
{
	const struct vx_reg_info *reg = STMT(stmt)->reg;
	uint8_t bytes[CS_VALUE_BYTES_MAX];
	size_t width;
	int rc = read_reg(r, SCRIPT(context), reg, bytes, &width);

	if (rc)
		return rc;
	if (width > CS_NUMERIC_REG_MAX) {
		fprintf(r->out, "%s (%zu bytes, memory order):\n", reg->name, width);
		print_byte_rows(r->out, bytes, width);
		return 0;
	}
	fprintf(r->out, "%s = ", reg->name);
	print_wide_number(r->out, bytes, width);
	fputc('\n', r->out);
	return 0;
}

CS_RUN(cs_run_print_xinuse)
{
	char names[CS_MASK_TEXT_MAX];
	uint64_t xinuse = vx_cpu_xinuse(SCRIPT(context)->cpu);

	(void)stmt;
	fprintf(r->out, "XINUSE    = %#llx (%s)\n", (unsigned long long)xinuse,
		mask_text(xinuse, names, sizeof(names)));
	return 0;
}

CS_RUN(cs_run_print_tracking)
{
	const struct vx_cpu *cpu = SCRIPT(context)->cpu;
	char names[CS_MASK_TEXT_MAX];
	struct vx_xrstor_info info;

	cs_run_print_xinuse(r, context, stmt);
	fprintf(r->out, "XMODIFIED = %#llx (%s)\n", (unsigned long long)vx_cpu_xmodified(cpu),
		mask_text(vx_cpu_xmodified(cpu), names, sizeof(names)));
	vx_cpu_xrstor_info(cpu, &info);
	if (!info.valid) {
		fprintf(r->out, "XRSTOR_INFO: none (no XRSTOR/XRSTORS yet)\n");
		return 0;
	}
	fprintf(r->out, "XRSTOR_INFO: CPL %u, %s, linear address %#llx, COMPMASK %#llx\n", info.cpl,
		info.vmx_non_root ? "VMX non-root" : "not VMX non-root",
		(unsigned long long)info.linear_address, (unsigned long long)info.compmask);
	return 0;
}

CS_RUN(cs_run_print_xcr0)
{
	char names[CS_MASK_TEXT_MAX];
	uint64_t xcr0 = vx_cpu_xcr0(SCRIPT(context)->cpu);

	(void)stmt;
	fprintf(r->out, "XCR0 = %#llx (%s)\n", (unsigned long long)xcr0,
		mask_text(xcr0, names, sizeof(names)));
	return 0;
}

static void print_bits(FILE *out, uint64_t value, const char *const *names, unsigned count)
{
	fprintf(out, "%#llx", (unsigned long long)value);
	for (unsigned bit = 0; bit < count; bit++)
		if (names[bit] && (value & VX_BIT(bit)))
			fprintf(out, " %s", names[bit]);
}

CS_RUN(cs_run_print_control)
{
	static const char *const cr0_names[19] = {
	    [0] = "PE", [2] = "EM", [3] = "TS", [16] = "WP", [18] = "AM"};
	static const char *const cr4_names[24] = {
	    [9] = "OSFXSR", [18] = "OSXSAVE", [22] = "PKE", [23] = "CET"};
	struct vx_cpu_control control;
	char names[CS_MASK_TEXT_MAX];

	(void)stmt;
	vx_cpu_get_control(SCRIPT(context)->cpu, &control);
	fprintf(r->out, "CPL %u, mode %s, EFLAGS.AC %u\nCR0 ", control.cpl,
		cs_mode_name(control.mode), control.eflags_ac);
	print_bits(r->out, control.cr0, cr0_names, 19);
	fputs("\nCR4 ", r->out);
	print_bits(r->out, control.cr4, cr4_names, 24);
	fprintf(r->out, "\nVMX %s, enable XSAVES/XRSTORS %s, XSS-exiting bitmap %#llx (%s)\n",
		control.vmx_non_root ? "non-root" : "root/off",
		control.vmx_xsaves_enabled ? "on" : "off",
		(unsigned long long)control.vmx_xss_exit_bitmap,
		mask_text(control.vmx_xss_exit_bitmap, names, sizeof(names)));
	fprintf(r->out, "SSP %#llx\n", (unsigned long long)vx_cpu_get_ssp(SCRIPT(context)->cpu));
	return 0;
}

CS_RUN(cs_run_print_msr)
{
	char label[48], text[CS_MASK_TEXT_MAX + 32], event_text[256];
	uint32_t msr = STMT(stmt)->number;
	struct vx_event event;
	uint64_t value = 0;
	int rc = peek_msr(r, SCRIPT(context), msr, &value, &event);

	if (rc < 0)
		return rc;
	msr_label(msr, label, sizeof(label));
	if (rc == VX_FAULTED)
		fprintf(r->out, "%s: cannot be read on this CPU (%s)\n", label,
			describe_event(&event, event_text, sizeof(event_text)));
	else
		fprintf(r->out, "%s = %s\n", label,
			value_text(value, msr_is_mask(msr), text, sizeof(text)));
	return 0;
}

CS_RUN(cs_run_print_area)
{
	const struct cpu_script *s = SCRIPT(context);
	const struct cs_stmt *print = STMT(stmt);

	cs_print_area(r->out, vx_cpu_profile(s->cpu), vx_cpu_xcr0(s->cpu),
		      &s->buffers[print->area.buffer], print->area.offset, print->where,
		      print->length);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* expect                                                                                       */

static int expectation_failed(struct sg_runner *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int expectation_failed(struct sg_runner *r, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return sg_run_error(r, -EDOM, "expectation failed: %s: %s", r->stmt->text, detail);
}

static int outcome_failure(struct sg_runner *r, const struct cpu_script *s, const char *wanted)
{
	char text[512];

	if (!s->faulted)
		return expectation_failed(r, "expected %s, the instruction retired", wanted);
	return expectation_failed(r, "expected %s, got %s", wanted,
				  describe_event(&s->event, text, sizeof(text)));
}

CS_RUN(cs_run_expect_ok)
{
	(void)stmt;
	return SCRIPT(context)->faulted ? outcome_failure(r, SCRIPT(context), "ok") : 0;
}

CS_RUN(cs_run_expect_vmexit)
{
	const struct cs_exit *want = &STMT(stmt)->exit;
	const struct cpu_script *s = SCRIPT(context);
	char wanted[48];

	if (s->faulted && s->event.kind == VX_EVENT_VMEXIT &&
	    (!want->given || s->event.exit_reason == want->reason))
		return 0;
	if (want->given)
		snprintf(wanted, sizeof(wanted), "VM exit %u", want->reason);
	else
		snprintf(wanted, sizeof(wanted), "a VM exit");
	return outcome_failure(r, s, wanted);
}

CS_RUN(cs_run_expect_fault)
{
	const struct sg_fault *want = &STMT(stmt)->fault;
	const struct cpu_script *s = SCRIPT(context);
	const struct vx_event *e = &s->event;
	char wanted[48];

	if (s->faulted && e->kind == VX_EVENT_EXCEPTION &&
	    (!want->vector || e->vector == want->vector) &&
	    (!want->has_code || e->error_code == want->code))
		return 0;
	if (!want->vector)
		snprintf(wanted, sizeof(wanted), "an exception");
	else if (want->has_code)
		snprintf(wanted, sizeof(wanted), "#%s(%llu)", sg_vector_name(want->vector),
			 (unsigned long long)want->code);
	else
		snprintf(wanted, sizeof(wanted), "#%s", sg_vector_name(want->vector));
	return outcome_failure(r, s, wanted);
}

/* SUBJECT [& MASK] ==|!= VALUE for the 64-bit subjects. */
static int compare_scalar(struct sg_runner *r, const struct sg_stmt *stmt, const char *subject,
			  uint64_t actual, bool as_mask)
{
	const struct cs_stmt *expect = STMT(stmt);
	char have[CS_MASK_TEXT_MAX + 32], want[CS_MASK_TEXT_MAX + 32];

	if (expect->has_select)
		actual &= expect->select;
	if ((actual == expect->mask) != expect->negate)
		return 0;
	value_text(actual, as_mask, have, sizeof(have));
	if (expect->negate)
		return expectation_failed(r, "%s is %s", subject, have);
	value_text(expect->mask, as_mask, want, sizeof(want));
	return expectation_failed(r, "%s is %s, expected %s", subject, have, want);
}

CS_RUN(cs_run_expect_xinuse)
{
	return compare_scalar(r, stmt, "XINUSE", vx_cpu_xinuse(SCRIPT(context)->cpu), true);
}

CS_RUN(cs_run_expect_xmodified)
{
	return compare_scalar(r, stmt, "XMODIFIED", vx_cpu_xmodified(SCRIPT(context)->cpu), true);
}

CS_RUN(cs_run_expect_xcr0)
{
	return compare_scalar(r, stmt, "XCR0", vx_cpu_xcr0(SCRIPT(context)->cpu), true);
}

CS_RUN(cs_run_expect_ssp)
{
	return compare_scalar(r, stmt, "SSP", vx_cpu_get_ssp(SCRIPT(context)->cpu), false);
}

CS_RUN(cs_run_expect_value)
{
	if (!SCRIPT(context)->have_value)
		return expectation_failed(r, "the last xgetbv/rdmsr faulted: no value");
	return compare_scalar(r, stmt, "the value read", SCRIPT(context)->value, false);
}

CS_RUN(cs_run_expect_msr)
{
	uint32_t msr = STMT(stmt)->number;
	char label[48], text[256];
	struct vx_event event;
	uint64_t value = 0;
	int rc = peek_msr(r, SCRIPT(context), msr, &value, &event);

	msr_label(msr, label, sizeof(label));
	if (rc < 0)
		return rc;
	if (rc == VX_FAULTED)
		return expectation_failed(r, "%s cannot be read on this CPU (%s)", label,
					  describe_event(&event, text, sizeof(text)));
	return compare_scalar(r, stmt, label, value, msr_is_mask(msr));
}

/* hex:AABB.. of @length bytes (two digits each) into @buf. */
static const char *bytes_text(const uint8_t *bytes, size_t length, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < length && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%02x", bytes[i]);
	return buf;
}

static int compare_bytes(struct sg_runner *r, bool negate, const char *subject,
			 const uint8_t *actual, const uint8_t *wanted, size_t length)
{
	char have[2 * CS_NUMERIC_REG_MAX + 16], want[2 * CS_NUMERIC_REG_MAX + 16];

	if ((memcmp(actual, wanted, length) == 0) != negate)
		return 0;
	if (length <= CS_NUMERIC_REG_MAX)
		return expectation_failed(
		    r, "%s holds hex:%s%s%s", subject,
		    bytes_text(actual, length, have, sizeof(have)), negate ? "" : ", expected hex:",
		    negate ? "" : bytes_text(wanted, length, want, sizeof(want)));
	for (size_t i = 0; i < length; i++)
		if (actual[i] != wanted[i])
			return expectation_failed(r, "%s byte %zu is 0x%02x, expected 0x%02x",
						  subject, i, actual[i], wanted[i]);
	return expectation_failed(r, "%s is equal", subject);
}

CS_RUN(cs_run_expect_reg)
{
	const struct cs_stmt *expect = STMT(stmt);
	uint8_t actual[CS_VALUE_BYTES_MAX], wanted[CS_VALUE_BYTES_MAX];
	const char *name = expect->reg->name;
	size_t width;
	int rc = read_reg(r, SCRIPT(context), expect->reg, actual, &width);

	if (rc)
		return rc;
	widen_value(&expect->value, wanted, width);
	if ((memcmp(actual, wanted, width) == 0) != expect->negate)
		return 0;
	if (width <= 8 && expect->negate)
		return expectation_failed(r, "%s is %#llx", name,
					  (unsigned long long)load_le(actual, width));
	if (width <= 8)
		return expectation_failed(r, "%s is %#llx, expected %#llx", name,
					  (unsigned long long)load_le(actual, width),
					  (unsigned long long)load_le(wanted, width));
	return compare_bytes(r, expect->negate, name, actual, wanted, width);
}

CS_RUN(cs_run_expect_memory)
{
	const struct cs_stmt *expect = STMT(stmt);
	const struct cpu_script *s = SCRIPT(context);
	const uint8_t *actual = stmt_bytes(s, expect);
	char subject[96];

	snprintf(subject, sizeof(subject), "%s+%#llx", s->buffers[expect->area.buffer].name,
		 (unsigned long long)expect->area.offset + expect->where);
	if (expect->value.bytes)
		return compare_bytes(r, expect->negate, subject, actual, expect->value.bytes,
				     expect->length);
	return compare_scalar(r, stmt, subject, load_le(actual, expect->length), false);
}

/* ----------------------------------------------------------------------------------------- */

int cpu_script_run(struct cpu_script *script, struct vx_cpu *cpu,
		   const struct cpu_script_options *options, struct cpu_script_summary *summary,
		   struct vx_error *err)
{
	static const struct cpu_script_options defaults = {0};
	struct sg_run_options run_options;
	struct sg_summary counts;
	int rc;

	if (!script || !cpu)
		return vx_error_set(err, -EINVAL, NULL, "no script or no processor");
	options = options ? options : &defaults;
	run_options = (struct sg_run_options){options->trace, options->quiet, options->out};
	script->cpu = cpu;
	script->faulted = script->have_value = false;
	for (unsigned i = 0; i < script->buffer_count; i++)
		memset(script->buffers[i].bytes, 0, script->buffers[i].size);
	rc = sg_run(&script->program, &run_options, &counts, err);
	if (summary)
		*summary = (struct cpu_script_summary){counts.statements, counts.operations,
						       counts.faults, counts.expectations};
	script->cpu = NULL;
	return rc;
}
