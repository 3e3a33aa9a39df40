/* SPDX-License-Identifier: MIT */
/*
 * Guest programs as text (kvm_run.h): one instruction per line, "[cpl3] NAME ARGS", '#' starts
 * a comment.  One table row per instruction: its name, the arguments it takes, where they go.
 * The drop-in /dev/kvm (VXSAVE_KVM_GUEST) and the CLI read guests this way.
 */
#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#include "kvm/kvm_internal.h"

/* What an argument is and which field it fills. */
enum garg { A_NONE = 0, A_INDEX, A_VALUE, A_ADDR, A_REG, A_BYTES, A_MASK, A_INSN };

static const struct {
	enum vx_kvm_gop op;
	enum garg args[3];
	const char *usage;
} gops[VX_KVM_GOP_COUNT] = {
    {VX_KVM_GOP_XSETBV, {A_INDEX, A_VALUE}, "xsetbv ECX VALUE"},
    {VX_KVM_GOP_XGETBV, {A_INDEX}, "xgetbv ECX"},
    {VX_KVM_GOP_RDMSR, {A_INDEX}, "rdmsr MSR"},
    {VX_KVM_GOP_WRMSR, {A_INDEX, A_VALUE}, "wrmsr MSR VALUE"},
    {VX_KVM_GOP_SET_REG, {A_REG, A_BYTES}, "set REG VALUE (hex, register width)"},
    {VX_KVM_GOP_GET_REG, {A_REG}, "get REG"},
    {VX_KVM_GOP_USE, {A_MASK}, "use COMPONENTS"},
    {VX_KVM_GOP_MOV_CR4, {A_VALUE}, "mov-cr4 VALUE"},
    {VX_KVM_GOP_OUT, {A_INDEX, A_VALUE}, "out PORT VALUE"},
    {VX_KVM_GOP_HLT, {A_NONE}, "hlt"},
    {VX_KVM_GOP_MOV_CR0, {A_VALUE}, "mov-cr0 VALUE"},
    {VX_KVM_GOP_SETSSBSY, {A_NONE}, "setssbsy"},
    {VX_KVM_GOP_CLRSSBSY, {A_VALUE}, "clrssbsy ADDRESS"},
    {VX_KVM_GOP_RDSSP, {A_NONE}, "rdssp"},
    {VX_KVM_GOP_XSAVE, {A_INSN, A_ADDR, A_VALUE}, "xsave INSN ADDRESS EDX:EAX"},
};

struct line_ctx {
	unsigned line;
	struct vx_error *err;
};

/* A refusal naming the line and the offending word: "line N: BEFORE WORD AFTER". */
static int bad(const struct line_ctx *c, const char *before, const char *word, const char *after)
{
	vx_error_set(c->err, -EINVAL, "kvm_run.h", "line %u: %s%s%s", c->line, before, word, after);
	if (c->err)
		c->err->line = c->line;
	return -EINVAL;
}

/* A register value: hex digits, the last pair is byte 0 (as a number is written). */
static int parse_bytes(const struct line_ctx *c, const char *w, struct vx_kvm_guest_op *op)
{
	size_t n = strlen(w), digits;

	if (n > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X'))
		w += 2, n -= 2;
	digits = op->width * 2;
	if (n == 0 || n > digits)
		return bad(c, "'", w, "': a register value of at most its width in hex digits");
	memset(op->data, 0, sizeof(op->data));
	for (size_t i = 0; i < n; i++) {
		int d = isdigit((unsigned char)w[n - 1 - i]) ? w[n - 1 - i] - '0'
			: isxdigit((unsigned char)w[n - 1 - i])
			    ? tolower((unsigned char)w[n - 1 - i]) - 'a' + 10
			    : -1;

		if (d < 0)
			return bad(c, "'", w, "' is not a hex value");
		op->data[i / 2] |= (uint8_t)(d << (4 * (i % 2)));
	}
	return 0;
}

static int parse_number(const struct line_ctx *c, const char *w, uint64_t *out)
{
	struct vx_error e = VX_ERROR_INIT;

	if (vx_parse_u64(w, strlen(w), out, &e) != 0)
		return bad(c, "'", w, "' is not a number");
	return 0;
}

static int parse_arg(const struct line_ctx *c, enum garg kind, const char *w,
		     struct vx_kvm_guest_op *op)
{
	uint64_t v = 0;
	int i;

	switch (kind) {
	case A_REG:
		op->reg = vx_reg_lookup(w);
		if (!op->reg || op->reg->width == 0 || op->reg->width > sizeof(op->data))
			return bad(c, "'", w, "' is not a register a guest instruction can name");
		op->width = op->reg->width;
		return 0;
	case A_BYTES:
		return parse_bytes(c, w, op);
	case A_MASK:
		return vx_parse_component_mask(w, &op->components, NULL)
			   ? bad(c, "'", w, "' is not a component mask")
			   : 0;
	case A_INSN:
		i = vx_insn_by_name(w);
		if (i < 0)
			return bad(c, "'", w, "' is not an XSAVE-family instruction");
		op->index = (uint32_t)i;
		return 0;
	default:
		if (parse_number(c, w, &v))
			return -EINVAL;
		if (kind == A_INDEX && v > UINT32_MAX)
			return bad(c, "'", w, "' does not fit 32 bits");
		if (kind == A_INDEX)
			op->index = (uint32_t)v;
		else if (kind == A_ADDR)
			op->addr = v;
		else
			op->value = v;
		return 0;
	}
}

static int find_op(const char *name)
{
	for (unsigned i = 0; i < VX_KVM_GOP_COUNT; i++)
		if (strcasecmp(vx_kvm_gop_name(gops[i].op), name) == 0)
			return (int)i;
	return -1;
}

/* Split @line (modified) into at most 5 words. */
static unsigned split(char *line, char **words, unsigned max)
{
	unsigned n = 0;

	for (char *p = strtok(line, " \t\r"); p && n < max; p = strtok(NULL, " \t\r"))
		words[n++] = p;
	return n;
}

static int parse_line(const struct line_ctx *c, char **w, unsigned n, struct vx_kvm_guest_op *op)
{
	unsigned first = 0, nargs = 0;
	int row;

	memset(op, 0, sizeof(*op));
	if (strcasecmp(w[0], "cpl3") == 0)
		op->cpl = 3, first = 1;
	if (first >= n)
		return bad(c, "'", w[0], "' needs an instruction after it");
	row = find_op(w[first]);
	if (row < 0)
		return bad(c, "unknown guest instruction '", w[first], "'");
	op->op = gops[row].op;
	while (nargs < 3 && gops[row].args[nargs] != A_NONE)
		nargs++;
	if (n - first - 1 != nargs)
		return bad(c, "usage: ", gops[row].usage, "");
	for (unsigned i = 0; i < nargs; i++)
		if (parse_arg(c, gops[row].args[i], w[first + 1 + i], op))
			return -EINVAL;
	return 0;
}

int vx_kvm_guest_program_parse(const char *text, size_t len, struct vx_kvm_guest_op *ops,
			       unsigned max, unsigned *count, struct vx_error *err)
{
	struct line_ctx c = {0, err};
	unsigned n = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char buf[256], *hash, *w[6];
		unsigned nw;

		c.line++;
		if (l >= sizeof(buf))
			return bad(&c, "line longer than 255 bytes", "", "");
		memcpy(buf, text + pos, l);
		buf[l] = '\0';
		pos += l + 1;
		if ((hash = strchr(buf, '#')) != NULL)
			*hash = '\0';
		nw = split(buf, w, 6);
		if (nw == 0)
			continue;
		if (n == max)
			return bad(&c, "more than the room for guest instructions", "", "");
		if (parse_line(&c, w, nw, &ops[n]))
			return -EINVAL;
		n++;
	}
	*count = n;
	return 0;
}
