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

struct runner {
	struct cpu_script *script;
	struct vx_cpu *cpu;
	struct vx_cpu *scratch; /* for side-effect-free MSR reads (`print msr`, `expect msr`) */
	const struct cpu_script_options *options;
	FILE *out;
	struct vx_error *err;
	struct cpu_script_summary *summary;
	const struct cs_stmt *stmt;
	/* the outcome of the last operation that could fault */
	bool faulted;
	struct vx_event event;
	/* the result of the last xgetbv/rdmsr */
	bool have_value;
	uint64_t value;
};

static int run_error(struct runner *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int run_error(struct runner *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vx_error_vset(r->err, code, NULL, fmt, ap);
	va_end(ap);
	if (r->err)
		r->err->line = r->stmt->line;
	return code;
}

static const char *mask_text(uint64_t mask, char *buf, size_t len)
{
	if (!mask)
		snprintf(buf, len, "none");
	else
		vx_format_component_mask(mask, buf, len);
	return buf;
}

/* "#GP(0): reason [rule]" or "VM exit 55 (XSETBV): reason". */
static const char *describe_event(const struct vx_event *event, char *buf, size_t len)
{
	char name[CS_EVENT_NAME_MAX];

	vx_event_name(event, name, sizeof(name));
	if (event->rule && event->reason[0] && !strstr(event->reason, event->rule))
		snprintf(buf, len, "%s: %s [%s]", name, event->reason, event->rule);
	else if (event->reason[0])
		snprintf(buf, len, "%s: %s", name, event->reason);
	else
		snprintf(buf, len, "%s", name);
	return buf;
}

/*
 * Record what an operation did.  @always: print the result line even when it retired
 * (instructions do; set/reg only speak up when they fault).  @result: text for a retired
 * operation that returns something ("0x7 (x87|SSE|AVX)").
 */
static int record_outcome(struct runner *r, int rc, const struct vx_event *event, bool always,
			  const char *result)
{
	char text[512];

	r->summary->instructions++;
	if (rc < 0)
		return run_error(r, rc, "the model refused '%s': %s", r->stmt->text,
				 event && event->reason[0] ? event->reason : vx_errno_name(rc));
	r->faulted = rc == VX_FAULTED;
	if (r->faulted) {
		r->event = *event;
		r->summary->faults++;
	}
	if (r->options->quiet || (!r->faulted && !always))
		return 0;
	if (r->faulted)
		fprintf(r->out, "%u: %s -> %s\n", r->stmt->line, r->stmt->text,
			describe_event(event, text, sizeof(text)));
	else
		fprintf(r->out, "%u: %s -> %s\n", r->stmt->line, r->stmt->text,
			result ? result : "ok");
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Reading state without side effects                                                           */

/* RDMSR as a debugger would: on a copy of the processor at CPL 0, 64-bit, outside VMX. */
static int peek_msr(struct runner *r, uint32_t msr, uint64_t *value, struct vx_event *event)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cpu_control control;
	int rc;

	if (!r->scratch) {
		rc = vx_cpu_create(vx_cpu_profile(r->cpu), NULL, &r->scratch, &err);
		if (rc < 0)
			return run_error(r, rc, "cannot create a scratch processor: %s", err.reason);
	}
	rc = vx_cpu_copy(r->scratch, r->cpu);
	if (rc < 0)
		return run_error(r, rc, "cannot copy the processor: %s", vx_errno_name(rc));
	vx_cpu_get_control(r->scratch, &control);
	control.cpl = 0;
	control.mode = VX_MODE_64BIT;
	control.vmx_non_root = false;
	memset(event, 0, sizeof(*event));
	rc = vx_cpu_set_control(r->scratch, &control, event);
	if (rc == 0)
		rc = vx_cpu_rdmsr(r->scratch, msr, value, event);
	if (rc < 0)
		return run_error(r, rc, "cannot read MSR %#x: %s", msr, vx_errno_name(rc));
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
/* Statements                                                                                   */

static struct vx_memory buffer_memory(const struct runner *r, int index)
{
	const struct cs_buffer *buffer = &r->script->buffers[index];
	struct vx_memory memory = {buffer->bytes, buffer->size, buffer->base};

	return memory;
}

static uint8_t *stmt_bytes(const struct runner *r, const struct cs_stmt *stmt)
{
	return r->script->buffers[stmt->buffer].bytes + stmt->offset + stmt->where;
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
static void widen_value(const struct cs_value *value, uint8_t *to, size_t width)
{
	memset(to, value->all_ones ? 0xFF : 0, width);
	if (!value->all_ones)
		memcpy(to, value->bytes, value->length < width ? value->length : width);
}

static int run_memory(struct runner *r, const struct cs_stmt *stmt)
{
	uint8_t *to = stmt_bytes(r, stmt);

	if (stmt->kind == CS_FILL)
		memset(to, (int)stmt->mask, stmt->length);
	else if (stmt->value.bytes)
		memcpy(to, stmt->value.bytes, stmt->value.length);
	else
		store_le(to, stmt->mask, stmt->length);
	return 0;
}

static uint64_t change_bits(const struct cs_stmt *stmt, uint64_t old)
{
	uint64_t value = stmt->assign ? stmt->mask : old;

	return (value | stmt->set) & ~stmt->clear;
}

/* set ...: control state changes go through vx_cpu_set_control(), which may #GP. */
static int run_set(struct runner *r, const struct cs_stmt *stmt)
{
	struct vx_cpu_control control;
	struct vx_event event = {0};

	if (stmt->kind == CS_SET_SSP) {
		vx_cpu_set_ssp(r->cpu, stmt->mask);
		return record_outcome(r, 0, &event, false, NULL);
	}
	vx_cpu_get_control(r->cpu, &control);
	switch (stmt->kind) {
	case CS_SET_CPL:
		control.cpl = stmt->number;
		break;
	case CS_SET_MODE:
		control.mode = (enum vx_cpu_mode)stmt->mask;
		break;
	case CS_SET_CR0:
		control.cr0 = change_bits(stmt, control.cr0);
		break;
	case CS_SET_CR4:
		control.cr4 = change_bits(stmt, control.cr4);
		break;
	case CS_SET_AC:
		control.eflags_ac = stmt->set;
		break;
	case CS_SET_VMX:
		control.vmx_non_root = stmt->set;
		break;
	case CS_SET_VMX_XSAVES:
		control.vmx_xsaves_enabled = stmt->set;
		break;
	default: /* CS_SET_XSS_EXIT */
		control.vmx_xss_exit_bitmap = stmt->mask;
		break;
	}
	return record_outcome(r, vx_cpu_set_control(r->cpu, &control, &event), &event, false,
			      NULL);
}

static int run_require(struct runner *r, const struct cs_stmt *stmt)
{
	const struct vx_profile *profile = vx_cpu_profile(r->cpu);

	for (int feature = 0; feature < VX_FEAT_COUNT && feature < 64; feature++) {
		const struct vx_feature_info *info = vx_feature_info((enum vx_feature)feature);

		if (!(stmt->mask & VX_BIT(feature)) || vx_profile_has(profile, feature))
			continue;
		return run_error(r, -ENOTSUP, "this script needs '%s', which %s does not have",
				 info ? info->name : "?",
				 profile->name[0] ? profile->name : "the CPU");
	}
	return 0;
}

/* A register's width on this CPU (PT, LBR... are as large as CPUID says); 0 after an error. */
static size_t reg_width(struct runner *r, const struct vx_reg_info *reg)
{
	const struct vx_profile *profile = vx_cpu_profile(r->cpu);
	const struct vx_component_info *info = vx_component_info(reg->component);
	uint32_t width = 0;
	int rc = vx_area_field_width(profile, reg->component, reg->width, &width, NULL);

	if (rc == -ENOTSUP) {
		run_error(r, -ENOTSUP, "register %s is in component %s, which %s does not have",
			  reg->name, info ? info->name : "?",
			  profile->name[0] ? profile->name : "this CPU");
		return 0;
	}
	if (rc || width > CS_VALUE_BYTES_MAX) {
		run_error(r, -E2BIG, "register %s: width %u is not supported here", reg->name,
			  width);
		return 0;
	}
	return width;
}

static int run_reg_write(struct runner *r, const struct cs_stmt *stmt)
{
	uint8_t value[CS_VALUE_BYTES_MAX];
	struct vx_event event = {0};
	size_t width = reg_width(r, stmt->reg);
	int rc;

	if (!width)
		return r->err ? r->err->code : -ENOTSUP;
	if (!stmt->value.all_ones && stmt->value.length > width)
		return run_error(r, -EINVAL, "value has %zu significant bytes, %s holds %zu",
				 stmt->value.length, stmt->reg->name, width);
	widen_value(&stmt->value, value, width);
	rc = vx_cpu_set_reg(r->cpu, stmt->reg, value, width, &event);
	return record_outcome(r, rc, &event, false, NULL);
}

static int run_insn(struct runner *r, const struct cs_stmt *stmt)
{
	struct vx_memory memory = buffer_memory(r, stmt->buffer);
	uint64_t address = memory.base + stmt->offset;
	struct vx_event event = {0};
	int rc;

	rc = vx_cpu_exec(r->cpu, stmt->insn, stmt->prefixes, &memory, address, stmt->mask,
			 &event);
	return record_outcome(r, rc, &event, true, NULL);
}

/* xgetbv / rdmsr: the value becomes `expect value`'s subject. */
static int run_read(struct runner *r, const struct cs_stmt *stmt)
{
	struct vx_event event = {0};
	char text[CS_MASK_TEXT_MAX + 32];
	uint64_t value = 0;
	bool as_mask;
	int rc;

	if (stmt->kind == CS_XGETBV) {
		rc = vx_cpu_xgetbv(r->cpu, stmt->number, &value, &event);
		as_mask = true;
	} else {
		rc = vx_cpu_rdmsr(r->cpu, stmt->number, &value, &event);
		as_mask = msr_is_mask(stmt->number);
	}
	r->have_value = rc == 0;
	r->value = value;
	return record_outcome(r, rc, &event, true, value_text(value, as_mask, text, sizeof(text)));
}

static int run_operation(struct runner *r, const struct cs_stmt *stmt)
{
	struct vx_event event = {0};
	int rc;

	switch (stmt->kind) {
	case CS_XSETBV:
		rc = vx_cpu_xsetbv(r->cpu, stmt->number, stmt->mask, &event);
		break;
	case CS_WRMSR:
		rc = vx_cpu_wrmsr(r->cpu, stmt->number, stmt->mask, &event);
		break;
	case CS_USE:
		rc = vx_cpu_use(r->cpu, stmt->mask, &event);
		break;
	case CS_XGETBV:
	case CS_RDMSR:
		return run_read(r, stmt);
	case CS_REG:
		return run_reg_write(r, stmt);
	default: /* CS_INSN */
		return run_insn(r, stmt);
	}
	return record_outcome(r, rc, &event, true, NULL);
}

/* ----------------------------------------------------------------------------------------- */
/* print                                                                                        */

static int print_state(struct runner *r)
{
	size_t needed = 0, size = 16384;
	char *text = NULL;
	int rc;

	for (int attempt = 0; attempt < 4; attempt++) {
		char *bigger = realloc(text, size);

		if (!bigger) {
			free(text);
			return run_error(r, -ENOMEM, "out of memory");
		}
		text = bigger;
		rc = vx_cpu_dump(r->cpu, text, size, &needed);
		if (rc != -ENOBUFS)
			break;
		size = needed + 1;
	}
	if (rc == 0)
		fputs(text, r->out);
	free(text);
	if (rc < 0)
		return run_error(r, rc, "cannot dump the processor state: %s", vx_errno_name(rc));
	return 0;
}

static int read_reg(struct runner *r, const struct vx_reg_info *reg, uint8_t *bytes,
		    size_t *width)
{
	int rc;

	*width = reg_width(r, reg);
	if (!*width)
		return r->err ? r->err->code : -ENOTSUP;
	rc = vx_cpu_get_reg(r->cpu, reg, bytes, *width);
	if (rc < 0)
		return run_error(r, rc, "cannot read %s: %s", reg->name, vx_errno_name(rc));
	return 0;
}

static int print_reg(struct runner *r, const struct vx_reg_info *reg)
{
	uint8_t bytes[CS_VALUE_BYTES_MAX];
	size_t width;
	int rc = read_reg(r, reg, bytes, &width);

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

static void print_tracking(struct runner *r)
{
	char names[CS_MASK_TEXT_MAX];
	struct vx_xrstor_info info;

	fprintf(r->out, "XINUSE    = %#llx (%s)\n", (unsigned long long)vx_cpu_xinuse(r->cpu),
		mask_text(vx_cpu_xinuse(r->cpu), names, sizeof(names)));
	if (r->stmt->kind == CS_PRINT_XINUSE)
		return;
	fprintf(r->out, "XMODIFIED = %#llx (%s)\n", (unsigned long long)vx_cpu_xmodified(r->cpu),
		mask_text(vx_cpu_xmodified(r->cpu), names, sizeof(names)));
	vx_cpu_xrstor_info(r->cpu, &info);
	if (!info.valid) {
		fprintf(r->out, "XRSTOR_INFO: none (no XRSTOR/XRSTORS yet)\n");
		return;
	}
	fprintf(r->out, "XRSTOR_INFO: CPL %u, %s, linear address %#llx, COMPMASK %#llx\n",
		info.cpl, info.vmx_non_root ? "VMX non-root" : "not VMX non-root",
		(unsigned long long)info.linear_address, (unsigned long long)info.compmask);
}

static void print_bits(FILE *out, uint64_t value, const char *const *names, unsigned count)
{
	fprintf(out, "%#llx", (unsigned long long)value);
	for (unsigned bit = 0; bit < count; bit++)
		if (names[bit] && (value & VX_BIT(bit)))
			fprintf(out, " %s", names[bit]);
}

static void print_control(struct runner *r)
{
	static const char *const cr0_names[19] = {[0] = "PE", [2] = "EM", [3] = "TS",
						  [16] = "WP", [18] = "AM"};
	static const char *const cr4_names[24] = {[9] = "OSFXSR", [18] = "OSXSAVE",
						  [22] = "PKE", [23] = "CET"};
	struct vx_cpu_control control;
	char names[CS_MASK_TEXT_MAX];

	vx_cpu_get_control(r->cpu, &control);
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
	fprintf(r->out, "SSP %#llx\n", (unsigned long long)vx_cpu_get_ssp(r->cpu));
}

static int print_msr(struct runner *r, uint32_t msr)
{
	char label[48], text[CS_MASK_TEXT_MAX + 32], event_text[256];
	struct vx_event event;
	uint64_t value = 0;
	int rc = peek_msr(r, msr, &value, &event);

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

static int run_print(struct runner *r, const struct cs_stmt *stmt)
{
	char names[CS_MASK_TEXT_MAX];

	switch (stmt->kind) {
	case CS_PRINT_STATE:
		return print_state(r);
	case CS_PRINT_REG:
		return print_reg(r, stmt->reg);
	case CS_PRINT_XINUSE:
	case CS_PRINT_TRACKING:
		print_tracking(r);
		return 0;
	case CS_PRINT_XCR0:
		fprintf(r->out, "XCR0 = %#llx (%s)\n", (unsigned long long)vx_cpu_xcr0(r->cpu),
			mask_text(vx_cpu_xcr0(r->cpu), names, sizeof(names)));
		return 0;
	case CS_PRINT_MSR:
		return print_msr(r, stmt->number);
	case CS_PRINT_CONTROL:
		print_control(r);
		return 0;
	default: /* CS_PRINT_AREA */
		cs_print_area(r->out, vx_cpu_profile(r->cpu), vx_cpu_xcr0(r->cpu),
			      &r->script->buffers[stmt->buffer], stmt->offset, stmt->where,
			      stmt->length);
		return 0;
	}
}

/* ----------------------------------------------------------------------------------------- */
/* expect                                                                                       */

static int expectation_failed(struct runner *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int expectation_failed(struct runner *r, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return run_error(r, -EDOM, "expectation failed: %s: %s", r->stmt->text, detail);
}

static int outcome_text_failure(struct runner *r, const char *wanted)
{
	char text[512];

	if (!r->faulted)
		return expectation_failed(r, "expected %s, the instruction retired", wanted);
	return expectation_failed(r, "expected %s, got %s", wanted,
				  describe_event(&r->event, text, sizeof(text)));
}

static int expect_outcome(struct runner *r, const struct cs_stmt *stmt)
{
	char wanted[48];
	const struct vx_event *e = &r->event;

	if (stmt->kind == CS_EXPECT_OK)
		return r->faulted ? outcome_text_failure(r, "ok") : 0;
	if (stmt->kind == CS_EXPECT_VMEXIT) {
		snprintf(wanted, sizeof(wanted), "VM exit %u", stmt->number);
		if (!stmt->has_number)
			snprintf(wanted, sizeof(wanted), "a VM exit");
		if (r->faulted && e->kind == VX_EVENT_VMEXIT &&
		    (!stmt->has_number || e->exit_reason == stmt->number))
			return 0;
		return outcome_text_failure(r, wanted);
	}
	if (!stmt->number)
		snprintf(wanted, sizeof(wanted), "an exception");
	else if (stmt->has_number)
		snprintf(wanted, sizeof(wanted), "#%s(%llu)", cs_vector_name(stmt->number),
			 (unsigned long long)stmt->where);
	else
		snprintf(wanted, sizeof(wanted), "#%s", cs_vector_name(stmt->number));
	if (r->faulted && e->kind == VX_EVENT_EXCEPTION &&
	    (!stmt->number || e->vector == stmt->number) &&
	    (!stmt->has_number || e->error_code == stmt->where))
		return 0;
	return outcome_text_failure(r, wanted);
}

static int compare_scalar(struct runner *r, const struct cs_stmt *stmt, const char *subject,
			  uint64_t actual, bool as_mask)
{
	char have[CS_MASK_TEXT_MAX + 32], want[CS_MASK_TEXT_MAX + 32];

	if (stmt->kind != CS_EXPECT_MEM)
		actual &= stmt->select;
	if ((actual == stmt->mask) != stmt->negate)
		return 0;
	value_text(actual, as_mask, have, sizeof(have));
	if (stmt->negate)
		return expectation_failed(r, "%s is %s", subject, have);
	value_text(stmt->mask, as_mask, want, sizeof(want));
	return expectation_failed(r, "%s is %s, expected %s", subject, have, want);
}

static int expect_msr(struct runner *r, const struct cs_stmt *stmt)
{
	char label[48], text[256];
	struct vx_event event;
	uint64_t value = 0;
	int rc = peek_msr(r, stmt->number, &value, &event);

	msr_label(stmt->number, label, sizeof(label));
	if (rc < 0)
		return rc;
	if (rc == VX_FAULTED)
		return expectation_failed(r, "%s cannot be read on this CPU (%s)", label,
					  describe_event(&event, text, sizeof(text)));
	return compare_scalar(r, stmt, label, value, msr_is_mask(stmt->number));
}

static int compare_bytes(struct runner *r, const struct cs_stmt *stmt, const char *subject,
			 const uint8_t *actual, const uint8_t *wanted, size_t length)
{
	bool equal = memcmp(actual, wanted, length) == 0;

	if (equal != stmt->negate)
		return 0;
	if (length <= CS_NUMERIC_REG_MAX) {
		char have[2 * CS_NUMERIC_REG_MAX + 16], want[2 * CS_NUMERIC_REG_MAX + 16];
		size_t used_have = 0, used_want = 0;

		for (size_t i = 0; i < length; i++) {
			used_have += (size_t)snprintf(have + used_have, sizeof(have) - used_have,
						      "%02x", actual[i]);
			used_want += (size_t)snprintf(want + used_want, sizeof(want) - used_want,
						      "%02x", wanted[i]);
		}
		return expectation_failed(r, "%s holds hex:%s%s%s", subject, have,
					  stmt->negate ? "" : ", expected hex:",
					  stmt->negate ? "" : want);
	}
	for (size_t i = 0; i < length; i++)
		if (actual[i] != wanted[i])
			return expectation_failed(r, "%s byte %zu is 0x%02x, expected 0x%02x",
						  subject, i, actual[i], wanted[i]);
	return expectation_failed(r, "%s is equal", subject);
}

static int expect_reg(struct runner *r, const struct cs_stmt *stmt)
{
	uint8_t actual[CS_VALUE_BYTES_MAX], wanted[CS_VALUE_BYTES_MAX];
	size_t width;
	int rc = read_reg(r, stmt->reg, actual, &width);

	if (rc)
		return rc;
	widen_value(&stmt->value, wanted, width);
	if ((memcmp(actual, wanted, width) == 0) != stmt->negate)
		return 0;
	if (width <= 8 && stmt->negate)
		return expectation_failed(r, "%s is %#llx", stmt->reg->name,
					  (unsigned long long)load_le(actual, width));
	if (width <= 8)
		return expectation_failed(r, "%s is %#llx, expected %#llx", stmt->reg->name,
					  (unsigned long long)load_le(actual, width),
					  (unsigned long long)load_le(wanted, width));
	return compare_bytes(r, stmt, stmt->reg->name, actual, wanted, width);
}

static int expect_memory(struct runner *r, const struct cs_stmt *stmt)
{
	const struct cs_buffer *buffer = &r->script->buffers[stmt->buffer];
	const uint8_t *actual = stmt_bytes(r, stmt);
	char subject[96];

	snprintf(subject, sizeof(subject), "%s+%#llx", buffer->name,
		 (unsigned long long)(stmt->offset + stmt->where));
	if (stmt->value.bytes)
		return compare_bytes(r, stmt, subject, actual, stmt->value.bytes, stmt->length);
	return compare_scalar(r, stmt, subject, load_le(actual, stmt->length), false);
}

static int run_expect(struct runner *r, const struct cs_stmt *stmt)
{
	switch (stmt->kind) {
	case CS_EXPECT_OK:
	case CS_EXPECT_FAULT:
	case CS_EXPECT_VMEXIT:
		return expect_outcome(r, stmt);
	case CS_EXPECT_REG:
		return expect_reg(r, stmt);
	case CS_EXPECT_XINUSE:
		return compare_scalar(r, stmt, "XINUSE", vx_cpu_xinuse(r->cpu), true);
	case CS_EXPECT_XMODIFIED:
		return compare_scalar(r, stmt, "XMODIFIED", vx_cpu_xmodified(r->cpu), true);
	case CS_EXPECT_XCR0:
		return compare_scalar(r, stmt, "XCR0", vx_cpu_xcr0(r->cpu), true);
	case CS_EXPECT_SSP:
		return compare_scalar(r, stmt, "SSP", vx_cpu_get_ssp(r->cpu), false);
	case CS_EXPECT_MSR:
		return expect_msr(r, stmt);
	case CS_EXPECT_VALUE:
		if (!r->have_value)
			return expectation_failed(r, "the last xgetbv/rdmsr faulted: no value");
		return compare_scalar(r, stmt, "the value read", r->value, false);
	default: /* CS_EXPECT_MEM */
		return expect_memory(r, stmt);
	}
}

/* ----------------------------------------------------------------------------------------- */

static const char *echo_text(const char *text)
{
	text += 4; /* "echo" */
	while (*text == ' ' || *text == '\t')
		text++;
	return text;
}

static int run_stmt(struct runner *r, const struct cs_stmt *stmt)
{
	switch (stmt->kind) {
	case CS_FILL:
	case CS_POKE:
		return run_memory(r, stmt);
	case CS_SET_CPL:
	case CS_SET_MODE:
	case CS_SET_CR0:
	case CS_SET_CR4:
	case CS_SET_AC:
	case CS_SET_VMX:
	case CS_SET_VMX_XSAVES:
	case CS_SET_XSS_EXIT:
	case CS_SET_SSP:
		return run_set(r, stmt);
	case CS_RESET:
		vx_cpu_reset(r->cpu);
		return 0;
	case CS_REQUIRE:
		return run_require(r, stmt);
	case CS_XSETBV:
	case CS_XGETBV:
	case CS_WRMSR:
	case CS_RDMSR:
	case CS_REG:
	case CS_USE:
	case CS_INSN:
		return run_operation(r, stmt);
	case CS_INIT:
		vx_cpu_init_components(r->cpu, stmt->mask);
		return 0;
	case CS_ECHO:
		fprintf(r->out, "%s\n", echo_text(stmt->text));
		return 0;
	case CS_PRINT_STATE:
	case CS_PRINT_AREA:
	case CS_PRINT_REG:
	case CS_PRINT_XINUSE:
	case CS_PRINT_TRACKING:
	case CS_PRINT_XCR0:
	case CS_PRINT_MSR:
	case CS_PRINT_CONTROL:
		return run_print(r, stmt);
	default:
		return run_expect(r, stmt);
	}
}

static bool is_expectation(enum cs_kind kind)
{
	return kind >= CS_EXPECT_OK;
}

int cpu_script_run(struct cpu_script *script, struct vx_cpu *cpu,
		   const struct cpu_script_options *options, struct cpu_script_summary *summary,
		   struct vx_error *err)
{
	static const struct cpu_script_options defaults = {0};
	struct cpu_script_summary ignored;
	struct runner r = {
		.script = script,
		.cpu = cpu,
		.options = options ? options : &defaults,
		.err = err,
		.summary = summary ? summary : &ignored,
	};
	int rc = 0;

	if (!script || !cpu)
		return vx_error_set(err, -EINVAL, NULL, "no script or no processor");
	r.out = r.options->out ? r.options->out : stdout;
	memset(r.summary, 0, sizeof(*r.summary));
	for (unsigned i = 0; i < script->buffer_count; i++)
		memset(script->buffers[i].bytes, 0, script->buffers[i].size);
	for (unsigned i = 0; i < script->count && rc == 0; i++) {
		r.stmt = &script->stmts[i];
		if (r.options->trace)
			fprintf(r.out, "%u> %s\n", r.stmt->line, r.stmt->text);
		rc = run_stmt(&r, r.stmt);
		r.summary->statements++;
		if (rc == 0 && is_expectation(r.stmt->kind)) {
			r.summary->expectations++;
			if (r.options->trace)
				fprintf(r.out, "%u: %s -> passed\n", r.stmt->line, r.stmt->text);
		}
	}
	fflush(r.out);
	vx_cpu_destroy(r.scratch);
	return rc;
}
