/* SPDX-License-Identifier: MIT */
/*
 * The words of the kvm statements (kvm_script_internal.h): module options, CPUID edits and
 * leaves, MSR lists and ONE_REG ids, guest instructions and their operands, exit reasons,
 * events, design counters and KVM_CHECK_EXTENSION names - and the checks made while parsing
 * (what --real cannot do is refused here, before anything runs).  Reference:
 * docs/kvm-script.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "kvm_script_internal.h"

#define KS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ----------------------------------------------------------------------------------------- */
/* Choices                                                                                      */

/* Where `kvm cpuid VCPU BASE` starts: the module's lists, nothing, or the vCPU's own CPUID. */
const struct sg_choice ks_cpuid_bases[] = {
    {"supported", 0}, {"emulated", 1}, {"none", 2}, {"current", 3}, {NULL, 0},
};

const struct sg_choice ks_cpuid_regs[] = {
    {"eax", VX_EAX}, {"ebx", VX_EBX}, {"ecx", VX_ECX}, {"edx", VX_EDX}, {NULL, 0},
};

/* How the last KVM_RUN came back (enum vx_kvm_run_status; exit reasons as <linux/kvm.h>). */
const struct sg_choice ks_exits[] = {
    {"io", VX_KVM_EXIT_IO},
    {"hlt", VX_KVM_EXIT_HLT},
    {"internal_error", VX_KVM_EXIT_INTERNAL_ERROR},
    {"done", 0x100 + VX_KVM_RUN_DONE},
    {"preempted", 0x100 + VX_KVM_RUN_PREEMPTED},
    {NULL, 0},
};

/* struct vx_kvm_design_counters, and the run's exits handled in KVM (kvm_run.h). */
const struct sg_choice ks_counters[] = {
    {"msr_reads", 0}, {"msr_writes", 1},   {"sched_out", 2},
    {"sched_in", 3},  {"user_returns", 4}, {"intercepted_writes", 5},
    {"lost", 6},      {"vm_exits", 7},	   {NULL, 0},
};

const struct sg_choice ks_yes_no[] = {
    {"yes", 1}, {"no", 0}, {"1", 1}, {"0", 0}, {NULL, 0},
};

/* KVM_CHECK_EXTENSION capabilities the model answers (kvm.h, <linux/kvm.h> values). */
const struct sg_choice ks_caps[] = {
    {"xsave", VX_KVM_CAP_XSAVE},
    {"xcrs", VX_KVM_CAP_XCRS},
    {"one_reg", VX_KVM_CAP_ONE_REG},
    {"get_msr_features", VX_KVM_CAP_GET_MSR_FEATURES},
    {"xsave2", VX_KVM_CAP_XSAVE2},
    {"max_vcpus", VX_KVM_CAP_MAX_VCPUS},
    {NULL, 0},
};

static bool lookup(const struct sg_choice *choices, const char *word, uint64_t *value)
{
	for (; choices->name; choices++)
		if (strcasecmp(choices->name, word) == 0) {
			*value = choices->value;
			return true;
		}
	return false;
}

static bool number(const char *word, uint64_t *value)
{
	return vx_parse_u64(word, strlen(word), value, NULL) == 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Module options (kvm.md §1.3)                                                                 */

static int parse_module(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			void *dest)
{
	struct ks_module *m = dest;
	int flavour = vx_kvm_flavour_by_name(word);
	bool *flag = strcasecmp(word, "no_tdp") == 0 ? &m->no_tdp
		     : strcasecmp(word, "allow_smaller_maxphyaddr") == 0
			 ? &m->allow_smaller_maxphyaddr
		     : strcasecmp(word, "ignore_msrs") == 0	? &m->ignore_msrs
		     : strcasecmp(word, "no_quirks") == 0	? &m->no_quirks
		     : strcasecmp(word, "no_vmx_load_cet") == 0 ? &m->no_vmx_load_cet
		     : strcasecmp(word, "no_vmx_xsaves") == 0	? &m->no_vmx_xsaves
								: NULL;

	(void)spec;
	m->count++;
	if (flavour >= 0 && !m->flavour) {
		m->flavour = flavour + 1;
		return 0;
	}
	if (flavour >= 0)
		return sg_fail(p, -EINVAL, "a second flavour '%s' (one of vmx, svm, pvm)", word);
	if (!flag)
		return sg_fail(p, -EINVAL,
			       "unknown module option '%s' (vmx, svm, pvm, no_tdp, "
			       "allow_smaller_maxphyaddr, ignore_msrs, no_quirks, no_vmx_load_cet, "
			       "no_vmx_xsaves)",
			       word);
	*flag = true;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* CPUID: leaves and edits                                                                      */

static int leaf_from(const char *text, struct ks_leaf *leaf)
{
	char copy[40];
	char *dot;
	uint64_t fn, sub = 0;

	if (strlen(text) >= sizeof(copy))
		return -EINVAL;
	snprintf(copy, sizeof(copy), "%s", text);
	dot = strchr(copy, '.');
	if (dot)
		*dot = '\0';
	if (!number(copy, &fn) || fn > UINT32_MAX ||
	    (dot && (!number(dot + 1, &sub) || sub > UINT32_MAX)))
		return -EINVAL;
	leaf->leaf = (uint32_t)fn;
	leaf->subleaf = (uint32_t)sub;
	return 0;
}

static int parse_leaf(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	struct ks_leaf leaf;

	if (leaf_from(word, &leaf))
		return sg_fail(p, -EINVAL, "bad %s '%s' (LEAF or LEAF.SUB: 0xd, 0xd.1, 7.0)",
			       spec->what, word);
	if (dest)
		memcpy(dest, &leaf, sizeof(leaf));
	return 0;
}

/* "0xd.0.eax=0x2e7", "7.0.ecx|=0x80", "7.0.edx&=0": LEAF.SUB.REG, an operator, a value. */
static int parse_reg_edit(const char *word, struct ks_edit *e)
{
	const char *op = strpbrk(word, "|&=");
	struct ks_leaf leaf;
	char target[48];
	char *reg;
	uint64_t value, r;

	if (!op || (size_t)(op - word) >= sizeof(target))
		return -EINVAL;
	snprintf(target, sizeof(target), "%.*s", (int)(op - word), word);
	e->kind = op[0] == '=' ? KS_EDIT_SET : op[0] == '|' ? KS_EDIT_OR : KS_EDIT_AND;
	op += e->kind == KS_EDIT_SET ? 1 : 2;
	if ((e->kind != KS_EDIT_SET && op[-1] != '=') || !number(op, &value) || value > UINT32_MAX)
		return -EINVAL;
	reg = strrchr(target, '.');
	if (!reg || !lookup(ks_cpuid_regs, reg + 1, &r))
		return -EINVAL;
	*reg = '\0';
	if (leaf_from(target, &leaf))
		return -EINVAL;
	e->leaf = leaf.leaf;
	e->subleaf = leaf.subleaf;
	e->reg = (unsigned)r;
	e->value = (uint32_t)value;
	return 0;
}

static int parse_edit(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	struct ks_edits *edits = dest;
	struct ks_edit e = {0};
	int feature;

	(void)spec;
	if (edits->count == KS_EDITS_MAX)
		return sg_fail(p, -E2BIG, "more than %u CPUID edits", KS_EDITS_MAX);
	if (word[0] == '-' || word[0] == '+') {
		feature = vx_kvm_feature_by_name(word + 1);
		if (feature < 0)
			return sg_fail(p, -EINVAL,
				       "unknown KVM feature '%s' (names as 'vxsave kvm caps' lists "
				       "them: shstk, ibt, xsaves, amx_tile...)",
				       word + 1);
		e.kind = word[0] == '-' ? KS_EDIT_CLEAR_FEATURE : KS_EDIT_SET_FEATURE;
		e.feature = (unsigned)feature;
	} else if (parse_reg_edit(word, &e)) {
		return sg_fail(p, -EINVAL,
			       "bad CPUID edit '%s' (-FEATURE, +FEATURE, or LEAF.SUB.REG=VALUE, "
			       "|=VALUE, &=VALUE: 0xd.0.eax|=0x60000)",
			       word);
	}
	edits->e[edits->count++] = e;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* MSRs and ONE_REG ids (kvm.md §3.2, §3.4)                                                     */

static int parse_one_msr(struct sg_parser *p, const char *word, uint32_t *msr)
{
	static const struct sg_arg spec = {.kind = &sg_kind_msr, .what = "an MSR"};

	/* The synthetic index of the guest SSP (not ABI; host-initiated only, §3.2). */
	if (strcasecmp(word, "guest_ssp") == 0) {
		*msr = VX_MSR_KVM_INTERNAL_GUEST_SSP;
		return 0;
	}
	return sg_kind_msr.parse(p, &spec, word, msr);
}

static int parse_msr_list(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			  void *dest)
{
	struct ks_msrs *msrs = dest;
	uint32_t msr = 0;
	int rc;

	(void)spec;
	if (msrs->count == KS_MSRS_MAX)
		return sg_fail(p, -E2BIG, "more than %u MSRs in one call", KS_MSRS_MAX);
	rc = parse_one_msr(p, word, &msr);
	if (rc)
		return rc;
	msrs->e[msrs->count++] = (struct vx_kvm_msr_entry){msr, 0, 0};
	return 0;
}

static int parse_msr_set(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			 void *dest)
{
	struct ks_msrs *msrs = dest;
	const char *equals = strchr(word, '=');
	char name[48];
	uint64_t value;
	uint32_t msr = 0;
	int rc;

	(void)spec;
	if (msrs->count == KS_MSRS_MAX)
		return sg_fail(p, -E2BIG, "more than %u MSRs in one call", KS_MSRS_MAX);
	if (!equals || (size_t)(equals - word) >= sizeof(name))
		return sg_fail(p, -EINVAL, "expected MSR=VALUE, not '%s'", word);
	snprintf(name, sizeof(name), "%.*s", (int)(equals - word), word);
	rc = parse_one_msr(p, name, &msr);
	if (rc)
		return rc;
	if (!number(equals + 1, &value))
		return sg_fail(p, -EINVAL, "bad value '%s' for %s", equals + 1, name);
	msrs->e[msrs->count++] = (struct vx_kvm_msr_entry){msr, 0, value};
	return 0;
}

/* guest_ssp, an MSR (KVM_X86_REG_MSR), a number below 2^32 (an MSR index) or a raw id. */
static int parse_one_reg(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			 void *dest)
{
	uint64_t id, raw;
	uint32_t msr = 0;

	(void)spec;
	if (strcasecmp(word, "guest_ssp") == 0)
		id = VX_KVM_X86_REG_KVM(VX_KVM_REG_GUEST_SSP);
	else if (number(word, &raw))
		id = raw > UINT32_MAX ? raw : VX_KVM_X86_REG_MSR((uint32_t)raw);
	else if (parse_one_msr(p, word, &msr) == 0)
		id = VX_KVM_X86_REG_MSR(msr);
	else
		return sg_fail(p, -EINVAL,
			       "bad ONE_REG id '%s' (guest_ssp, an MSR name or index, or a raw "
			       "64-bit id)",
			       word);
	memcpy(dest, &id, sizeof(id));
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Guest instructions (kvm_run.h)                                                               */

enum ks_operand { OPD_INDEX, OPD_VALUE, OPD_MSR, OPD_REG, OPD_BYTES, OPD_MASK };

static const struct {
	enum vx_kvm_gop op;
	const char *name;
	const char *usage;
	unsigned count;
	enum ks_operand arg[2];
} forms[] = {
    {VX_KVM_GOP_XSETBV, "xsetbv", "ECX VALUE", 2, {OPD_INDEX, OPD_VALUE}},
    {VX_KVM_GOP_XGETBV, "xgetbv", "ECX", 1, {OPD_INDEX}},
    {VX_KVM_GOP_RDMSR, "rdmsr", "MSR", 1, {OPD_MSR}},
    {VX_KVM_GOP_WRMSR, "wrmsr", "MSR VALUE", 2, {OPD_MSR, OPD_VALUE}},
    {VX_KVM_GOP_SET_REG, "set", "REG VALUE", 2, {OPD_REG, OPD_BYTES}},
    {VX_KVM_GOP_GET_REG, "get", "REG", 1, {OPD_REG}},
    {VX_KVM_GOP_USE, "use", "COMPONENTS", 1, {OPD_MASK}},
    {VX_KVM_GOP_MOV_CR4, "mov-cr4", "VALUE", 1, {OPD_VALUE}},
    {VX_KVM_GOP_MOV_CR0, "mov-cr0", "VALUE", 1, {OPD_VALUE}},
    {VX_KVM_GOP_OUT, "out", "PORT VALUE", 2, {OPD_INDEX, OPD_VALUE}},
    {VX_KVM_GOP_HLT, "hlt", "", 0, {OPD_INDEX}},
    {VX_KVM_GOP_RDSSP, "rdssp", "", 0, {OPD_INDEX}},
};

static int form_of(uint64_t op)
{
	for (size_t i = 0; i < KS_ARRAY_SIZE(forms); i++)
		if ((uint64_t)forms[i].op == op)
			return (int)i;
	return 0;
}

static int parse_gop(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	(void)spec;
	for (size_t i = 0; i < KS_ARRAY_SIZE(forms); i++)
		if (strcasecmp(forms[i].name, word) == 0) {
			uint64_t op = forms[i].op;

			memcpy(dest, &op, sizeof(op));
			return 0;
		}
	return sg_fail(p, -EINVAL,
		       "unknown guest instruction '%s' (xsetbv, xgetbv, rdmsr, wrmsr, set, get, "
		       "use, mov-cr4, mov-cr0, out, hlt, rdssp)",
		       word);
}

/* A register value into the instruction's bytes (at most the register's width). */
static int operand_bytes(struct sg_parser *p, struct ks_guest *g, const char *word)
{
	static const struct sg_arg spec = {.kind = &sg_kind_value, .what = "a register value"};
	struct sg_bytes value = {NULL, 0, false};
	size_t width = g->insn.width;
	int rc = sg_kind_value.parse(p, &spec, word, &value);

	if (rc)
		return rc;
	if (!value.all_ones && value.length > width)
		rc = sg_fail(p, -EINVAL, "value '%.40s' has %zu significant bytes, %s holds %zu",
			     word, value.length, g->insn.reg->name, width);
	else if (value.all_ones)
		memset(g->insn.data, 0xff, width);
	else
		memcpy(g->insn.data, value.bytes, value.length);
	free(value.bytes);
	return rc;
}

static int operand_reg(struct sg_parser *p, struct ks_guest *g, const char *word)
{
	static const struct sg_arg spec = {.kind = &sg_kind_register, .what = "a register"};
	const struct vx_reg_info *reg = NULL;
	int rc = sg_kind_register.parse(p, &spec, word, &reg);

	if (rc)
		return rc;
	/* A guest instruction carries at most 64 bytes: up to a ZMM register. */
	if (!reg->width || reg->width > sizeof(g->insn.data))
		return sg_fail(p, -EINVAL,
			       "register %s: a guest instruction moves at most %zu bytes", word,
			       sizeof(g->insn.data));
	g->insn.reg = reg;
	g->insn.width = reg->width;
	return 0;
}

static int operand(struct sg_parser *p, struct ks_guest *g, enum ks_operand kind, const char *word)
{
	static const struct sg_arg u32 = {.kind = &sg_kind_u32, .what = "ECX or port"};
	static const struct sg_arg num = {.kind = &sg_kind_number, .what = "VALUE"};
	static const struct sg_arg mask = {.kind = &sg_kind_mask, .what = "COMPONENTS"};

	switch (kind) {
	case OPD_INDEX:
		return sg_kind_u32.parse(p, &u32, word, &g->insn.index);
	case OPD_VALUE:
		return sg_kind_number.parse(p, &num, word, &g->insn.value);
	case OPD_MSR:
		return parse_one_msr(p, word, &g->insn.index);
	case OPD_REG:
		return operand_reg(p, g, word);
	case OPD_BYTES:
		return operand_bytes(p, g, word);
	case OPD_MASK:
		return sg_kind_mask.parse(p, &mask, word, &g->insn.components);
	}
	return -EINVAL;
}

static int parse_cpl(struct sg_parser *p, struct ks_guest *g, const char *word)
{
	uint64_t cpl;

	g->cpl_next = false;
	g->cpl_given = true;
	if (!number(word, &cpl) || cpl > 3)
		return sg_fail(p, -EINVAL, "bad CPL '%s' (0 to 3)", word);
	g->insn.cpl = (unsigned)cpl;
	return 0;
}

/* Every word after OP: the operands of its form, then an optional `cpl N`. */
static int parse_operand(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			 void *dest)
{
	struct ks_guest *g = dest;
	int f = form_of(g->op);

	(void)spec;
	if (g->cpl_next)
		return parse_cpl(p, g, word);
	if (strcasecmp(word, "cpl") == 0 && !g->cpl_given && g->words >= forms[f].count) {
		g->cpl_next = true;
		return 0;
	}
	if (g->cpl_given || g->words >= forms[f].count)
		return sg_fail(p, -EINVAL, "unexpected '%s': usage: kvm guest VCPU %s%s%s [cpl N]",
			       word, forms[f].name, forms[f].count ? " " : "", forms[f].usage);
	return operand(p, g, forms[f].arg[g->words++], word);
}

void ks_format_gop(const struct vx_kvm_guest_op *op, char *buf, size_t len)
{
	int f = form_of(op->op);
	char msr[48];

	switch (op->op) {
	case VX_KVM_GOP_RDMSR:
		snprintf(buf, len, "rdmsr %s", ks_msr_name(op->index, msr, sizeof(msr)));
		break;
	case VX_KVM_GOP_WRMSR:
		snprintf(buf, len, "wrmsr %s 0x%llx", ks_msr_name(op->index, msr, sizeof(msr)),
			 (unsigned long long)op->value);
		break;
	case VX_KVM_GOP_XSETBV:
	case VX_KVM_GOP_OUT:
		snprintf(buf, len, "%s 0x%x 0x%llx", forms[f].name, op->index,
			 (unsigned long long)op->value);
		break;
	case VX_KVM_GOP_XGETBV:
		snprintf(buf, len, "xgetbv 0x%x", op->index);
		break;
	case VX_KVM_GOP_SET_REG:
	case VX_KVM_GOP_GET_REG:
		snprintf(buf, len, "%s %s", forms[f].name, op->reg ? op->reg->name : "?");
		break;
	case VX_KVM_GOP_USE:
		snprintf(buf, len, "use 0x%llx", (unsigned long long)op->components);
		break;
	case VX_KVM_GOP_MOV_CR4:
	case VX_KVM_GOP_MOV_CR0:
		snprintf(buf, len, "%s 0x%llx", forms[f].name, (unsigned long long)op->value);
		break;
	default:
		snprintf(buf, len, "%s", forms[f].name);
		break;
	}
	if (op->cpl)
		snprintf(buf + strlen(buf), len - strlen(buf), " cpl %u", op->cpl);
}

/* ----------------------------------------------------------------------------------------- */
/* Events, features, capabilities                                                               */

static int parse_event(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	struct ks_event *e = dest;

	if (strcasecmp(word, "none") == 0) {
		e->none = true;
		return 0;
	}
	return sg_kind_fault.parse(p, spec, word, &e->fault);
}

static int parse_feature(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			 void *dest)
{
	int index = vx_kvm_feature_by_name(word);
	uint64_t value = (uint64_t)index;

	(void)spec;
	if (index < 0)
		return sg_fail(p, -EINVAL,
			       "unknown KVM feature '%s' (names as 'vxsave kvm caps' lists them)",
			       word);
	memcpy(dest, &value, sizeof(value));
	return 0;
}

static int parse_cap(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest)
{
	uint64_t value;

	(void)spec;
	if (!lookup(ks_caps, word, &value) && (!number(word, &value) || value > INT32_MAX))
		return sg_fail(p, -EINVAL,
			       "unknown capability '%s' (xsave, xcrs, one_reg, get_msr_features, "
			       "xsave2, max_vcpus, or a KVM_CAP_* number)",
			       word);
	memcpy(dest, &value, sizeof(value));
	return 0;
}

/* The errnos the KVM ioctls return (kvm.md §2.5, §3, §4.3, §5; ioctl(2)). */
static const struct sg_choice errnos[] = {
    {"EINVAL", EINVAL}, {"EPERM", EPERM},   {"EBUSY", EBUSY},	{"EFAULT", EFAULT},
    {"E2BIG", E2BIG},	{"EEXIST", EEXIST}, {"ENXIO", ENXIO},	{"EIO", EIO},
    {"ENOMEM", ENOMEM}, {"ENOTTY", ENOTTY}, {"EBADF", EBADF},	{"ENOENT", ENOENT},
    {"ESRCH", ESRCH},	{"ENOSPC", ENOSPC}, {"ENODEV", ENODEV}, {"EOPNOTSUPP", EOPNOTSUPP},
    {NULL, 0},
};

/* A value, or an errno name (stored negative; a leading '-' is allowed). */
static int parse_result(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			void *dest)
{
	const char *name = word[0] == '-' ? word + 1 : word;
	uint64_t value;
	long long result;

	if (lookup(errnos, name, &value))
		result = -(long long)value;
	else if (word[0] != '-' && number(word, &value) && value <= INT64_MAX)
		result = (long long)value;
	else
		return sg_fail(p, -EINVAL,
			       "bad %s '%s' (a number, or EINVAL, EPERM, EBUSY, EFAULT, E2BIG, "
			       "EEXIST, ENXIO, EIO, ENOMEM, ENOTTY, EBADF, ENOENT, ESRCH, ENOSPC, "
			       "ENODEV, EOPNOTSUPP)",
			       spec->what, word);
	memcpy(dest, &result, sizeof(result));
	return 0;
}

const struct sg_kind ks_kind_result = {"VALUE|ERRNO", parse_result};
const struct sg_kind ks_kind_module = {"OPTION", parse_module};
const struct sg_kind ks_kind_edit = {"EDIT", parse_edit};
const struct sg_kind ks_kind_msr = {"MSR", parse_msr_list};
const struct sg_kind ks_kind_msr_set = {"MSR=VALUE", parse_msr_set};
const struct sg_kind ks_kind_one_reg = {"ID", parse_one_reg};
const struct sg_kind ks_kind_leaf = {"LEAF[.SUB]", parse_leaf};
const struct sg_kind ks_kind_gop = {"OP", parse_gop};
const struct sg_kind ks_kind_operand = {"OPERAND", parse_operand};
const struct sg_kind ks_kind_event = {"none|#VECTOR[(CODE)]", parse_event};
const struct sg_kind ks_kind_feature = {"FEATURE", parse_feature};
const struct sg_kind ks_kind_cap = {"CAP", parse_cap};

/* ----------------------------------------------------------------------------------------- */
/* Checks while parsing                                                                         */

int ks_check_present(struct sg_parser *p, void *payload)
{
	struct ks_stmt *s = payload;

	for (unsigned i = 0; i < sg_arg_count(p); i++)
		if (sg_word(p, i))
			s->present |= 1u << i;
	return 0;
}

/* Guest programs, KVM_RUN, the host scheduler, caps and design counters: the model only. */
static int check_model(struct sg_parser *p, void *payload, const char *statement)
{
	const struct kvm_script_context *c = sg_context(p);

	if (c->real)
		return sg_fail(p, -EINVAL,
			       "'%s' needs the model (guest programs, KVM_RUN, the scheduler, caps "
			       "and design counters run on model CPUs); --real sends only the VMM "
			       "side to /dev/kvm",
			       statement);
	return ks_check_present(p, payload);
}

#define MODEL_CHECK(fn, statement)                                                                 \
	int fn(struct sg_parser *p, void *payload)                                                 \
	{                                                                                          \
		return check_model(p, payload, statement);                                         \
	}

MODEL_CHECK(ks_check_model_run, "kvm run")
MODEL_CHECK(ks_check_model_sched, "kvm sched")
MODEL_CHECK(ks_check_model_return, "kvm return")
MODEL_CHECK(ks_check_model_caps, "kvm print caps")
MODEL_CHECK(ks_check_model_counters, "kvm print counters")
MODEL_CHECK(ks_check_model_exit, "kvm expect exit")
MODEL_CHECK(ks_check_model_event, "kvm expect event")
MODEL_CHECK(ks_check_model_value, "kvm expect value")
MODEL_CHECK(ks_check_model_cap, "kvm expect cap")
MODEL_CHECK(ks_check_model_counter, "kvm expect counter")

int ks_check_guest(struct sg_parser *p, void *payload)
{
	struct ks_stmt *s = payload;
	int f = form_of(s->guest.op);
	int rc = check_model(p, payload, "kvm guest");

	if (rc)
		return rc;
	if (s->guest.cpl_next)
		return sg_fail(p, -EINVAL, "'cpl' needs a privilege level (0 to 3)");
	if (s->guest.words < forms[f].count)
		return sg_fail(p, -EINVAL, "missing words: usage: kvm guest VCPU %s %s [cpl N]",
			       forms[f].name, forms[f].usage);
	s->guest.insn.op = forms[f].op;
	return 0;
}

int ks_check_module(struct sg_parser *p, void *payload)
{
	const struct kvm_script_context *c = sg_context(p);
	const struct ks_module *m = &((const struct ks_stmt *)payload)->module;

	if (c->real && m->count)
		return sg_fail(p, -EINVAL,
			       "module options configure the model; --real uses this machine's "
			       "loaded KVM module as it is (see /sys/module/kvm*/parameters)");
	return 0;
}

/* `kvm xsave set VCPU BUF AT [WIDTH] VALUE`: a field name brings its width; the value fits. */
int ks_check_xsave_set(struct sg_parser *p, void *payload)
{
	struct ks_stmt *s = payload;
	const char *at = sg_word(p, 2);

	if (!at)
		return ks_check_present(p, payload);
	if (!s->width)
		s->width = s->at.width;
	if (!s->width || s->at.magic2)
		return sg_fail(p, -EINVAL, "offset '%s' needs a width: u8, u16, u32 or u64", at);
	if (s->width < 8 && (s->value >> (8 * s->width)) != 0)
		return sg_fail(p, -EINVAL, "value 0x%llx does not fit in %llu byte%s at '%s'",
			       (unsigned long long)s->value, (unsigned long long)s->width,
			       s->width == 1 ? "" : "s", at);
	return ks_check_present(p, payload);
}

/* ----------------------------------------------------------------------------------------- */
/* Names                                                                                        */

/* IA32_ARCH_CAPABILITIES is the one feature MSR the model lists (kvm.md §3.3). */
const char *ks_msr_name(uint32_t index, char *buf, size_t len)
{
	const char *name = vx_msr_name(index);

	if (index == VX_MSR_KVM_INTERNAL_GUEST_SSP)
		name = "guest_ssp";
	else if (index == 0x10a)
		name = "IA32_ARCH_CAPABILITIES";
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "MSR 0x%x", index);
	return buf;
}

const char *ks_reg_id_name(uint64_t id, char *buf, size_t len)
{
	char msr[40];

	if (id == VX_KVM_X86_REG_KVM(VX_KVM_REG_GUEST_SSP))
		snprintf(buf, len, "guest_ssp");
	else if ((id & ~UINT64_C(0xffffffff)) == VX_KVM_X86_REG_MSR(0))
		snprintf(buf, len, "msr %s", ks_msr_name((uint32_t)id, msr, sizeof(msr)));
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)id);
	return buf;
}

const char *ks_mask_paren(uint64_t mask, char *buf, size_t len)
{
	char names[256];

	if (!mask)
		snprintf(buf, len, " (none)");
	else
		snprintf(buf, len, " (%s)", cli_mask_names(mask, names, sizeof(names)));
	return buf;
}

const char *ks_reg_name(unsigned reg)
{
	return fs_choice_name(ks_cpuid_regs, reg);
}
