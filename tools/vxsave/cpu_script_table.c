/* SPDX-License-Identifier: MIT */
/*
 * The statements of `vxsave cpu`, one row each: the words that name it, its arguments (kind,
 * noun for messages, where the value goes), the usage arity errors quote, the help line, the
 * facts it provides or needs, and its handlers.  `vxsave cpu --help` prints the list from
 * here, and the grammar engine (script_grammar.c) parses and runs scripts from it.
 * The order matters twice: "did you mean" prefers earlier rows, and the help lists them so.
 * Reference: docs/cpu-script.md.
 */
#include "cpu_script_internal.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Arguments several rows share. */
#define ARG_AREA                                                                                   \
	{                                                                                          \
		.kind = &cs_kind_area, .what = "a buffer", .to = CS_AT(area)                       \
	}
#define ARG_OFFSET                                                                                 \
	{                                                                                          \
		.kind = &cs_kind_offset, .what = "an offset", .to = CS_AT(where)                   \
	}
#define ARG_COMPONENTS                                                                             \
	{                                                                                          \
		.kind = &sg_kind_mask, .what = "component mask", .to = CS_AT(mask)                 \
	}
#define ARG_COMPARE                                                                                \
	{                                                                                          \
		.kind = &sg_kind_compare, .what = "==", .to = CS_AT(negate)                        \
	}
#define ARG_SELECT                                                                                 \
	{.kind = &sg_kind_word, .what = "&", .to = CS_AT(has_select), .flags = SG_MARK},           \
	{                                                                                          \
		.kind = &sg_kind_mask, .what = "mask", .to = CS_AT(select), .flags = SG_TIED,      \
		.missing = "expected a mask after '&'"                                             \
	}
#define ARG_SCALAR                                                                                 \
	ARG_SELECT, ARG_COMPARE,                                                                   \
	{                                                                                          \
		.kind = &sg_kind_mask, .what = "value", .to = CS_AT(mask)                          \
	}
/* [OFFSET LENGTH]: both or neither. */
#define ARG_RANGE(command)                                                                         \
	{.kind = &cs_kind_offset, .what = "an offset", .to = CS_AT(where), .flags = SG_OPT},       \
	{                                                                                          \
		.kind = &sg_kind_number, .what = "a length", .to = CS_AT(length),                  \
		.flags = SG_TIED, .missing = command ": OFFSET needs a LENGTH"                     \
	}
#define ARG_WIDTH_VALUE                                                                            \
	{                                                                                          \
		.kind = &cs_kind_width, .what = "a width", .to = CS_AT(length)                     \
	}

#define USAGE_POKE                                                                                 \
	"poke BUFFER[+OFF] OFFSET u8|u16|u32|u64 VALUE, or poke BUFFER[+OFF] OFFSET hex:BYTES"
#define USAGE_VMX	   "set vmx nonroot|root, set vmx xsaves on|off, set vmx xss-exit MASK"
#define USAGE_PRINT_SIMPLE "print state|xinuse|tracking|xcr0|control"
#define USAGE_SCALAR	   "expect SUBJECT [& MASK] == VALUE"
#define USAGE_EXPECT_MEM                                                                           \
	"expect BUFFER[+OFF] OFFSET u8|u16|u32|u64 == VALUE, or expect BUFFER[+OFF] OFFSET == "    \
	"hex:BYTES"
#define USAGE_INSN "INSTRUCTION BUFFER[+OFFSET] MASK [lock]"
#define NEEDS_OUTCOME                                                                              \
	.needs = CS_FACT_OUTCOME, .needs_msg = "'expect {}' needs an instruction before it"

/* The XSAVE family: the same arguments, the instruction in .data. */
#define INSN_ROW(name, insn, ...)                                                                  \
	{                                                                                          \
		name,                                                                              \
		    {ARG_AREA,                                                                     \
		     {.kind = &sg_kind_mask,                                                       \
		      .what = "instruction mask (EDX:EAX)",                                        \
		      .to = CS_AT(mask)},                                                          \
		     {.kind = &sg_kind_word,                                                       \
		      .what = "lock",                                                              \
		      .to = CS_AT(lock),                                                           \
		      .flags = SG_OPT,                                                             \
		      .refuse = "unexpected '{}' (only 'lock' may follow the mask)"}},             \
		    USAGE_INSN, .provides = CS_FACT_OUTCOME, .run = cs_run_insn, .data = insn,     \
				__VA_ARGS__                                                        \
	}

static const struct sg_row rows[] = {
    /* memory */
    {"buffer",
     {{.kind = &sg_kind_any, .what = "a buffer name"},
      {.kind = &sg_kind_any, .what = "a buffer size"},
      {.kind = &sg_kind_any, .what = "align or at", .flags = SG_OPT},
      {.kind = &sg_kind_any,
       .what = "a number",
       .flags = SG_TIED,
       .missing = "usage: buffer NAME SIZE [align N | at ADDR]"}},
     "buffer NAME SIZE [align N | at ADDR]",
     "buffer NAME SIZE [align N | at ADDR]",
     "a zero-filled memory window (<= 1 MiB,\n64-byte aligned unless told otherwise)",
     SG_DECLARATION | SG_PLAIN_USAGE,
     .check = cs_check_buffer},
    {"fill",
     {ARG_AREA,
      {.kind = &cs_kind_byte, .what = "a fill byte", .to = CS_AT(mask)},
      ARG_RANGE("fill")},
     "fill BUFFER BYTE [OFFSET LENGTH]",
     "fill BUF BYTE [OFFSET LENGTH]",
     "memset",
     .check = cs_check_range,
     .run = cs_run_fill},
    {"poke",
     {ARG_AREA,
      ARG_OFFSET,
      ARG_WIDTH_VALUE,
      {.kind = &sg_kind_mask, .what = "value", .to = CS_AT(mask)}},
     USAGE_POKE,
     "poke BUF OFFSET u8|u16|u32|u64 VALUE",
     "store a little-endian number",
     .check = cs_check_sized,
     .run = cs_run_poke},
    {"poke",
     {ARG_AREA,
      ARG_OFFSET,
      {.kind = &sg_kind_hex,
       .what = "bytes",
       .to = CS_AT(value),
       .refuse = "expected a width and a value, or hex:BYTES, not '{}'"}},
     USAGE_POKE,
     "poke BUF OFFSET hex:BYTES",
     "store bytes in memory order",
     .check = cs_check_bytes,
     .run = cs_run_poke},

    /* control state: every `set` may #GP, so `expect` can follow it */
    {"set", .usage = "set cpl|mode|cr0|cr4|ac|vmx|ssp ...", .flags = SG_GROUP, .min_words = 3,
     .unknown = "unknown setting"},
    {"set cpl",
     {{.kind = &sg_kind_u32, .what = "cpl", .to = CS_AT(number)}},
     "set cpl 0..3",
     "set cpl 0..3",
     "current privilege level",
     .provides = CS_FACT_OUTCOME,
     .check = cs_check_cpl,
     .run = cs_run_set_cpl},
    {"set mode",
     {{.kind = &sg_kind_choice,
       .what = "mode",
       .to = CS_AT(mask),
       .choices = cs_mode_names,
       .refuse = "unknown mode '{}' (64, compat, real, v86)"}},
     "set mode 64|compat|real|v86",
     "set mode 64|compat|real|v86",
     "operating mode",
     .provides = CS_FACT_OUTCOME,
     .run = cs_run_set_mode},
    {"set cr0",
     {{.kind = &cs_kind_cr,
       .what = "cr0",
       .to = CS_AT(cr),
       .flags = SG_REPEAT,
       .choices = cs_cr0_bits}},
     "set cr0 +BIT|-BIT|=VALUE...",
     "set cr0 +BIT|-BIT|=VALUE...",
     "bits pe em ts wp am",
     .provides = CS_FACT_OUTCOME,
     .run = cs_run_set_cr0},
    {"set cr4",
     {{.kind = &cs_kind_cr,
       .what = "cr4",
       .to = CS_AT(cr),
       .flags = SG_REPEAT,
       .choices = cs_cr4_bits}},
     "set cr4 +BIT|-BIT|=VALUE...",
     "set cr4 +BIT|-BIT|=VALUE...",
     "bits osfxsr osxsave pke cet",
     .provides = CS_FACT_OUTCOME,
     .run = cs_run_set_cr4},
    {"set ac",
     {{.kind = &sg_kind_choice,
       .what = "on or off",
       .to = CS_AT(mask),
       .choices = cs_on_off,
       .refuse = "expected on or off, not '{}'"}},
     "set ac on|off",
     "set ac on|off",
     "EFLAGS.AC",
     .provides = CS_FACT_OUTCOME,
     .run = cs_run_set_ac},
    {"set vmx",
     {{.kind = &sg_kind_choice,
       .what = "nonroot or root",
       .to = CS_AT(mask),
       .choices = cs_vmx_modes,
       .refuse = "usage: " USAGE_VMX}},
     USAGE_VMX,
     "set vmx nonroot|root",
     "VMX non-root operation (a guest) or not",
     SG_PLAIN_USAGE,
     .provides = CS_FACT_OUTCOME,
     .run = cs_run_set_vmx},
    {"set vmx xsaves",
     {{.kind = &sg_kind_choice,
       .what = "on or off",
       .to = CS_AT(mask),
       .choices = cs_on_off,
       .refuse = "expected on or off, not '{}'"}},
     USAGE_VMX,
     "set vmx xsaves on|off",
     "the \"enable XSAVES/XRSTORS\" control",
     SG_PLAIN_USAGE,
     .provides = CS_FACT_OUTCOME,
     .run = cs_run_set_vmx_xsaves},
    {"set vmx xss-exit",
     {{.kind = &sg_kind_mask, .what = "XSS-exiting bitmap", .to = CS_AT(mask)}},
     USAGE_VMX,
     "set vmx xss-exit MASK",
     "the XSS-exiting bitmap (VMCS 0x202C)",
     SG_PLAIN_USAGE,
     .provides = CS_FACT_OUTCOME,
     .run = cs_run_set_xss_exit},
    {"set ssp",
     {{.kind = &sg_kind_number, .what = "ssp", .to = CS_AT(mask)}},
     "set ssp VALUE",
     "set ssp VALUE",
     "the shadow-stack pointer",
     .provides = CS_FACT_OUTCOME,
     .run = cs_run_set_ssp},
    {"reset", {{0}}, "reset", "reset", "back to the power-on state", .run = cs_run_reset},
    {"require",
     {{.kind = &sg_kind_features, .what = "features", .to = CS_AT(mask)}},
     "require FEATURE[,FEATURE...]",
     "require FEATURE[,FEATURE...]",
     "stop (exit 1) unless the CPU has them",
     .run = cs_run_require},

    /* operations */
    {"xsetbv",
     {{.kind = &sg_kind_u32, .what = "ECX", .to = CS_AT(number)},
      {.kind = &sg_kind_mask, .what = "XCR value", .to = CS_AT(mask)}},
     "xsetbv ECX VALUE",
     "xsetbv ECX VALUE",
     "XCR0 (VALUE may be component names)",
     .provides = CS_FACT_OUTCOME,
     .run = cs_run_xsetbv},
    {"xgetbv",
     {{.kind = &sg_kind_u32, .what = "ECX", .to = CS_AT(number)}},
     "xgetbv ECX",
     "xgetbv ECX",
     "read XCR ECX (ECX = 1: XCR0 & XINUSE)",
     .provides = CS_FACT_OUTCOME | CS_FACT_VALUE,
     .run = cs_run_xgetbv},
    {"wrmsr",
     {{.kind = &sg_kind_msr, .what = "MSR", .to = CS_AT(number)},
      {.kind = &sg_kind_mask, .what = "MSR value", .to = CS_AT(mask)}},
     "wrmsr MSR VALUE",
     "wrmsr MSR VALUE",
     "MSR: IA32_XSS, IA32_XFD, IA32_XFD_ERR,\nIA32_U_CET, IA32_S_CET, IA32_PL0..3_SSP,\n"
     "IA32_INT_SSP_TAB, IA32_PASID, a number",
     .provides = CS_FACT_OUTCOME,
     .run = cs_run_wrmsr},
    {"rdmsr",
     {{.kind = &sg_kind_msr, .what = "MSR", .to = CS_AT(number)}},
     "rdmsr MSR",
     "rdmsr MSR",
     "read an MSR (expect value checks it)",
     .provides = CS_FACT_OUTCOME | CS_FACT_VALUE,
     .run = cs_run_rdmsr},
    {"reg",
     {{.kind = &sg_kind_register, .what = "a register", .to = CS_AT(reg)},
      {.kind = &sg_kind_word,
       .what = "=",
       .refuse = "expected '=' after the register name, not '{}'"},
      {.kind = &sg_kind_value, .what = "a register value", .to = CS_AT(value)}},
     "reg NAME = VALUE",
     "reg NAME = VALUE",
     "an instruction writes a register\n(xmm3, mxcsr, fcw, st0, k1, zmm20,\npkru, tmm0...)",
     .provides = CS_FACT_OUTCOME,
     .check = cs_check_reg_value,
     .run = cs_run_reg},
    {"use",
     {ARG_COMPONENTS},
     "use COMPONENTS",
     "use COMPONENTS",
     "an instruction uses them (e.g. amx)",
     .provides = CS_FACT_OUTCOME,
     .run = cs_run_use},
    {"init",
     {ARG_COMPONENTS},
     "init COMPONENTS",
     "init COMPONENTS",
     "back to initial config (VZEROUPPER...)",
     .run = cs_run_init},

    /* output */
    {"echo",
     {{.kind = &sg_kind_text, .what = "text", .flags = SG_OPT | SG_REPEAT}},
     "echo TEXT",
     "echo TEXT",
     "print TEXT",
     .run = cs_run_echo},
    {"print",
     .usage = "print state|xinuse|tracking|xcr0|control, print reg NAME, print msr NAME, "
	      "print BUFFER[+OFF] [OFFSET LENGTH]",
     .flags = SG_GROUP, .min_words = 2},
    {"print state",
     {{0}},
     USAGE_PRINT_SIMPLE,
     "print state",
     "every register and control",
     .run = cs_run_print_state},
    {"print xinuse",
     {{0}},
     USAGE_PRINT_SIMPLE,
     "print xinuse",
     "XINUSE",
     .run = cs_run_print_xinuse},
    {"print tracking",
     {{0}},
     USAGE_PRINT_SIMPLE,
     "print tracking",
     "XINUSE, XMODIFIED, XRSTOR_INFO",
     .run = cs_run_print_tracking},
    {"print xcr0", {{0}}, USAGE_PRINT_SIMPLE, "print xcr0", "XCR0", .run = cs_run_print_xcr0},
    {"print control",
     {{0}},
     USAGE_PRINT_SIMPLE,
     "print control",
     "CPL, mode, CR0, CR4, VMX controls, SSP",
     .run = cs_run_print_control},
    {"print reg",
     {{.kind = &sg_kind_register, .what = "a register", .to = CS_AT(reg)}},
     "print reg NAME",
     "print reg NAME",
     "a register's value",
     .run = cs_run_print_reg},
    {"print msr",
     {{.kind = &sg_kind_msr, .what = "MSR", .to = CS_AT(number)}},
     "print msr NAME",
     "print msr MSR",
     "an MSR (read without side effects)",
     .run = cs_run_print_msr},
    {"print",
     {ARG_AREA, ARG_RANGE("print")},
     "print BUFFER[+OFF] [OFFSET LENGTH]",
     "print BUF[+OFF] [OFFSET LENGTH]",
     "hex dump with the header decoded and\nevery byte range labelled",
     .check = cs_check_range,
     .run = cs_run_print_area},

    /* expectations */
    {"expect", .usage = "expect ok|fault|vmexit|reg|xinuse|xmodified|xcr0|msr|value|ssp|BUFFER ...",
     .flags = SG_GROUP, .min_words = 2, .unknown = "unknown expectation",
     .unknown_tail = ", or a buffer name", .fallback_if = cs_is_buffer_word},
    {"expect ok",
     {{0}},
     "expect ok",
     "expect ok",
     "the last operation retired",
     SG_EXPECTATION,
     NEEDS_OUTCOME,
     .run = cs_run_expect_ok},
    {"expect fault",
     {{.kind = &sg_kind_fault, .what = "an exception", .to = CS_AT(fault), .flags = SG_OPT}},
     "expect fault [#UD|#NM|#GP|#GP(0)|#PF|#AC|#SS|#CP]",
     "expect fault [#GP[(0)]]",
     "it raised this exception (#UD #NM #SS\n#GP #PF #AC #CP; any without a name)",
     SG_EXPECTATION,
     NEEDS_OUTCOME,
     .run = cs_run_expect_fault},
    {"expect vmexit",
     {{.kind = &cs_kind_exit, .what = "an exit reason", .to = CS_AT(exit), .flags = SG_OPT}},
     "expect vmexit [REASON|xsetbv|xsaves|xrstors]",
     "expect vmexit [REASON]",
     "it caused this VM exit (a number, or\nxsetbv xsaves xrstors)",
     SG_EXPECTATION,
     NEEDS_OUTCOME,
     .run = cs_run_expect_vmexit},
    {"expect reg",
     {{.kind = &sg_kind_register, .what = "a register", .to = CS_AT(reg)},
      ARG_COMPARE,
      {.kind = &sg_kind_value, .what = "a register value", .to = CS_AT(value)}},
     "expect reg NAME == VALUE",
     "expect reg NAME ==|!= VALUE",
     "a register's value",
     SG_EXPECTATION,
     .check = cs_check_reg_value,
     .run = cs_run_expect_reg},
    {"expect xinuse",
     {ARG_SCALAR},
     USAGE_SCALAR,
     "expect xinuse|xmodified|xcr0|ssp|value [& MASK] ==|!= VALUE",
     NULL,
     SG_EXPECTATION,
     .run = cs_run_expect_xinuse},
    {"expect xmodified",
     {ARG_SCALAR},
     USAGE_SCALAR,
     .flags = SG_EXPECTATION,
     .run = cs_run_expect_xmodified},
    {"expect xcr0", {ARG_SCALAR}, USAGE_SCALAR, .flags = SG_EXPECTATION, .run = cs_run_expect_xcr0},
    {"expect msr",
     {{.kind = &sg_kind_msr, .what = "MSR", .to = CS_AT(number)}, ARG_SCALAR},
     USAGE_SCALAR,
     "expect msr MSR [& MASK] ==|!= VALUE",
     NULL,
     SG_EXPECTATION,
     .run = cs_run_expect_msr},
    {"expect value",
     {ARG_SCALAR},
     USAGE_SCALAR,
     .flags = SG_EXPECTATION,
     .needs = CS_FACT_VALUE,
     .needs_msg = "'expect value' needs an xgetbv or rdmsr before it",
     .run = cs_run_expect_value},
    {"expect ssp", {ARG_SCALAR}, USAGE_SCALAR, .flags = SG_EXPECTATION, .run = cs_run_expect_ssp},
    {"expect",
     {ARG_AREA,
      ARG_OFFSET,
      ARG_WIDTH_VALUE,
      ARG_COMPARE,
      {.kind = &sg_kind_mask, .what = "value", .to = CS_AT(mask)}},
     USAGE_EXPECT_MEM,
     "expect BUF OFFSET u8|u16|u32|u64 ==|!= VALUE",
     NULL,
     SG_EXPECTATION,
     .check = cs_check_sized,
     .run = cs_run_expect_memory},
    {"expect",
     {ARG_AREA,
      ARG_OFFSET,
      ARG_COMPARE,
      {.kind = &sg_kind_hex,
       .what = "bytes",
       .to = CS_AT(value),
       .refuse = "expected hex:BYTES (or give a width: u8, u16, u32, u64), not '{}'"}},
     USAGE_EXPECT_MEM,
     "expect BUF OFFSET ==|!= hex:BYTES",
     NULL,
     SG_EXPECTATION,
     .check = cs_check_bytes,
     .run = cs_run_expect_memory},

    /* the XSAVE family (last: "did you mean" prefers the commands above) */
    INSN_ROW("xsave", VX_INSN_XSAVE, .synopsis = "INSN BUF[+OFF] MASK [lock]",
	     .help = "INSN: xsave xsaveopt xsavec xsaves xrstor\nxrstors, each also with "
		     "'64' (REX.W);\nMASK is EDX:EAX"),
    INSN_ROW("xsave64", VX_INSN_XSAVE64),
    INSN_ROW("xsaveopt", VX_INSN_XSAVEOPT),
    INSN_ROW("xsaveopt64", VX_INSN_XSAVEOPT64),
    INSN_ROW("xsavec", VX_INSN_XSAVEC),
    INSN_ROW("xsavec64", VX_INSN_XSAVEC64),
    INSN_ROW("xsaves", VX_INSN_XSAVES),
    INSN_ROW("xsaves64", VX_INSN_XSAVES64),
    INSN_ROW("xrstor", VX_INSN_XRSTOR),
    INSN_ROW("xrstor64", VX_INSN_XRSTOR64),
    INSN_ROW("xrstors", VX_INSN_XRSTORS),
    INSN_ROW("xrstors64", VX_INSN_XRSTORS64),
};

static void free_cs_stmt(void *payload)
{
	(void)payload; /* its only allocation, value, is listed in bytes_at */
}

const struct sg_table cs_table = {
    .name = "cpu",
    .rows = rows,
    .count = ARRAY_SIZE(rows),
    .stmt_size = sizeof(struct cs_stmt),
    .free_stmt = free_cs_stmt,
    .bytes_at = {CS_AT(value)},
};
