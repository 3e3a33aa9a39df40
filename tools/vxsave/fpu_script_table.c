/* SPDX-License-Identifier: MIT */
/*
 * The fpu statements (fpu_script.h): one table, one row per statement - the words that name
 * it, its arguments (kind, noun for messages, where the value goes), the usage arity errors
 * quote, the help line, the facts it provides or needs, and its handler (fpu_script_task.c,
 * fpu_script_signal.c, fpu_script_guest.c).  `vxsave fpu --help` prints the list from here.
 * Reference: docs/fpu-script.md.
 */
#include <errno.h>

#include "fpu_script_internal.h"

/* A word after `fpu guest` / `fpu ptrace` that no row knows: refused with the row's message. */
static int parse_unknown(struct sg_parser *p, const struct sg_arg *spec, const char *word,
			 void *dest)
{
	(void)dest;
	return sg_fail_word(p, -EINVAL, spec->refuse, word);
}

static const struct sg_kind fs_kind_unknown = {"WORD", parse_unknown};

#define NAME_ARG(field, noun)                                                                      \
	{                                                                                          \
		.kind = &fs_kind_name, .what = (noun), .to = FS_AT(field)                          \
	}
#define CPU_ARG                                                                                    \
	{                                                                                          \
		.kind = &sg_kind_u32, .what = "a CPU", .to = FS_AT(number)                         \
	}
#define REG_ARG                                                                                    \
	{                                                                                          \
		.kind = &sg_kind_register, .what = "a register", .to = FS_AT(reg)                  \
	}
#define REG_VALUE_ARG                                                                              \
	{                                                                                          \
		.kind = &sg_kind_value, .what = "a register value", .to = FS_AT(bytes)             \
	}
#define EQUALS_ARG                                                                                 \
	{                                                                                          \
		.kind = &sg_kind_word, .what = "=",                                                \
		.refuse = "expected '=' after the register name, not '{}'"                         \
	}
#define REG_WORD_ARG                                                                               \
	{                                                                                          \
		.kind = &sg_kind_word, .what = "reg",                                              \
		.refuse = "expected 'reg' (a register comparison), not '{}'"                       \
	}
#define COMPARE_ARG                                                                                \
	{                                                                                          \
		.kind = &sg_kind_compare, .what = "==", .to = FS_AT(negate)                        \
	}
#define AT_ARG                                                                                     \
	{                                                                                          \
		.kind = &fs_kind_at, .what = "offset", .to = FS_AT(at)                             \
	}
#define WIDTH_ARG                                                                                  \
	{                                                                                          \
		.kind = &sg_kind_choice, .what = "width", .to = FS_AT(width),                      \
		.choices = fs_widths,                                                              \
		.refuse = "expected a width (u8, u16, u32, u64) after the offset, not '{}' (or a " \
			  "word is missing)"                                                       \
	}
#define VALUE_ARG                                                                                  \
	{                                                                                          \
		.kind = &sg_kind_number, .what = "VALUE", .to = FS_AT(value)                       \
	}
#define SELECT_ARGS                                                                                \
	{.kind = &sg_kind_word, .what = "&", .to = FS_AT(has_select), .flags = SG_MARK},           \
	{                                                                                          \
		.kind = &sg_kind_mask, .what = "mask", .to = FS_AT(select), .flags = SG_TIED,      \
		.missing = "expected a mask after '&'"                                             \
	}
#define REGSET_ARG                                                                                 \
	{                                                                                          \
		.kind = &sg_kind_choice, .what = "regset", .to = FS_AT(option),                    \
		.choices = fs_regsets,                                                             \
		.refuse = "unknown regset '{}' (xstate = NT_X86_XSTATE, fpreg = NT_PRFPREG)"       \
	}
#define LEN_ARG                                                                                    \
	{                                                                                          \
		.kind = &sg_kind_number, .what = "a length", .to = FS_AT(value), .flags = SG_OPT   \
	}
#define FIELD_ARG(choices_, message)                                                               \
	{                                                                                          \
		.kind = &sg_kind_choice, .what = "field", .to = FS_AT(field),                      \
		.choices = (choices_), .refuse = (message)                                         \
	}

#define TASK_FIELDS                                                                                \
	"unknown field '{}' (size, user_size, xfeatures, user_xfeatures, xfd, need_fpu_load, "     \
	"last_cpu, state_perm, cpu, sas_ss_size, pkru, guest_perm)"
#define GUEST_FIELDS                                                                               \
	"unknown guest field '{}' (size, user_size, xfeatures, user_xfeatures, xfd, in_use, "      \
	"enabled, uabi_size, pkru)"
#define GUEST_STATEMENTS "alloc, free, enter, exit, enable, xfd, reg, to_uabi, from_uabi"

#define USAGE_EXPECT_TASK "fpu expect TASK FIELD VALUE, or fpu expect TASK reg NAME ==|!= VALUE"
#define USAGE_EXPECT_GUEST                                                                         \
	"fpu expect guest GUEST FIELD VALUE, or fpu expect guest GUEST reg NAME ==|!= VALUE"
#define USAGE_EXPECT_BUFFER                                                                        \
	"fpu expect buffer BUF FIELD [& MASK] VALUE, or fpu expect buffer BUF OFFSET "             \
	"u8|u16|u32|u64 [& MASK] VALUE"
#define USAGE_POKE "fpu poke BUF FIELD VALUE, or fpu poke BUF OFFSET u8|u16|u32|u64 VALUE"
#define USAGE_PRINT                                                                                \
	"fpu print TASK, fpu print TASK reg NAME, fpu print buffer BUF [OFFSET LENGTH], fpu "      \
	"print guest GUEST [reg NAME], fpu print log"
#define NEEDS_RESULT                                                                               \
	.needs = FS_FACT_RESULT,                                                                   \
	.needs_msg = "'fpu expect result' needs a call with a result before it (fpu prctl, "       \
		     "sigaltstack, kernel_fpu_begin/end, signal, ptrace, guest free/enable/"       \
		     "to_uabi/from_uabi)"

static const struct sg_row fpu_rows[] = {
    {"fpu",
     .usage = "fpu machine|process|fork|thread|exec|run|switch|idle|return|kernel_fpu_begin|"
	      "kernel_fpu_end|prctl|sigaltstack|use|reg|signal|sigreturn|buffer|poke|ptrace|guest|"
	      "print|expect ...",
     .flags = SG_GROUP, .min_words = 2, .unknown = "unknown fpu statement"},

    /* the machine and its tasks */
    {"fpu machine",
     {CPU_ARG,
      {.kind = &sg_kind_word,
       .what = "strict_sas_size",
       .to = FS_AT(flag),
       .flags = SG_OPT,
       .refuse = "unexpected '{}' (only strict_sas_size may follow the CPU count)"}},
     "fpu machine CPUS [strict_sas_size]",
     "fpu machine CPUS [strict_sas_size]",
     "boot the FPU framework on the profile and\ncreate CPUS model CPUs (first fpu statement)",
     .run = fs_run_machine},
    {"fpu process",
     {NAME_ARG(name, "task name")},
     "fpu process NAME",
     "fpu process NAME",
     "a new process (as after exec); NAME is its leader",
     .run = fs_run_process},
    {"fpu fork",
     {NAME_ARG(name, "task name"), NAME_ARG(other, "parent")},
     "fpu fork NAME PARENT",
     "fpu fork NAME PARENT",
     "fork() by the running PARENT: NAME leads a new\nprocess, perms copied",
     .run = fs_run_fork},
    {"fpu thread",
     {NAME_ARG(name, "task name"), NAME_ARG(other, "parent")},
     "fpu thread NAME PARENT",
     "fpu thread NAME PARENT",
     "clone(CLONE_THREAD) by the running PARENT",
     .run = fs_run_thread},
    {"fpu exec",
     {NAME_ARG(name, "task")},
     "fpu exec TASK",
     "fpu exec TASK",
     "execve(): fpstate and permissions reset",
     .run = fs_run_exec},

    /* CPUs */
    {"fpu run",
     {NAME_ARG(name, "task"), CPU_ARG},
     "fpu run TASK CPU",
     "fpu run TASK CPU",
     "schedule TASK on CPU and return to user",
     .run = fs_run_run},
    {"fpu switch",
     {NAME_ARG(name, "task"), CPU_ARG},
     "fpu switch TASK CPU",
     "fpu switch TASK CPU",
     "context switch to TASK on CPU (switch_fpu of\nthe previous task), no restore yet",
     .run = fs_run_switch},
    {"fpu idle",
     {CPU_ARG},
     "fpu idle CPU",
     "fpu idle CPU",
     "switch CPU to idle: its task is switched out",
     .run = fs_run_idle},
    {"fpu return",
     {NAME_ARG(name, "task")},
     "fpu return TASK",
     "fpu return TASK",
     "the running TASK returns to user\n(switch_fpu_return: restore if needed)",
     .run = fs_run_return},
    {"fpu kernel_fpu_begin",
     {CPU_ARG,
      {.kind = &sg_kind_choice,
       .what = "mask",
       .to = FS_AT(option),
       .flags = SG_OPT,
       .choices = fs_kfpu,
       .refuse = "unknown kernel_fpu_begin mask '{}' (mxcsr, 387, both)"}},
     "fpu kernel_fpu_begin CPU [mxcsr|387|both]",
     "fpu kernel_fpu_begin CPU [mxcsr|387|both]",
     "kernel_fpu_begin_mask() on CPU; nested:\n-EBUSY",
     .provides = FS_FACT_RESULT,
     .check = fs_check_present,
     .run = fs_run_kernel_begin},
    {"fpu kernel_fpu_end",
     {CPU_ARG},
     "fpu kernel_fpu_end CPU",
     "fpu kernel_fpu_end CPU",
     "kernel_fpu_end() on CPU",
     .provides = FS_FACT_RESULT,
     .run = fs_run_kernel_end},

    /* permissions */
    {"fpu prctl",
     {NAME_ARG(name, "task"),
      {.kind = &sg_kind_choice,
       .what = "option",
       .to = FS_AT(option),
       .choices = fs_prctl_options,
       .refuse = "unknown arch_prctl option '{}' (get_xcomp_supp, get_xcomp_perm, "
		 "req_xcomp_perm, get_xcomp_guest_perm, req_xcomp_guest_perm)"},
      {.kind = &sg_kind_number, .what = "ARG", .to = FS_AT(value), .flags = SG_OPT}},
     "fpu prctl TASK OPTION [ARG]",
     "fpu prctl TASK OPTION [ARG]",
     "arch_prctl(ARCH_OPTION, ARG) by TASK; prints\nthe result (GET: the value stored)",
     .provides = FS_FACT_RESULT,
     .run = fs_run_prctl},
    {"fpu sigaltstack",
     {NAME_ARG(name, "task"), {.kind = &fs_kind_altstack, .what = "size", .to = FS_AT(value)}},
     "fpu sigaltstack TASK SIZE|disable",
     "fpu sigaltstack TASK SIZE|disable",
     "sigaltstack() by TASK (-ENOMEM if too small)",
     .provides = FS_FACT_RESULT,
     .run = fs_run_sigaltstack},

    /* user mode */
    {"fpu use",
     {NAME_ARG(name, "task"), {.kind = &sg_kind_mask, .what = "MASK", .to = FS_AT(value)}},
     "fpu use TASK MASK",
     "fpu use TASK MASK",
     "the running TASK uses components MASK in user\nmode (#NM: realloc or SIGILL)",
     .provides = FS_FACT_SIGNAL,
     .run = fs_run_use},
    {"fpu reg",
     {NAME_ARG(name, "task"), REG_ARG, EQUALS_ARG, REG_VALUE_ARG},
     "fpu reg TASK NAME = VALUE",
     "fpu reg TASK NAME = VALUE",
     "the running TASK writes a register in user\nmode (xmm0, ymmh0, k0, pkru, tmm0...)",
     .provides = FS_FACT_SIGNAL,
     .check = fs_check_reg_value,
     .run = fs_run_reg},

    /* signals */
    {"fpu signal",
     {NAME_ARG(name, "task"), NAME_ARG(other, "frame buffer")},
     "fpu signal TASK FRAME",
     "fpu signal TASK FRAME",
     "signal delivery: copy_fpstate_to_sigframe()\ninto buffer FRAME, then user states to init",
     .provides = FS_FACT_RESULT,
     .run = fs_run_signal},
    {"fpu sigreturn",
     {NAME_ARG(name, "task"),
      {.kind = &fs_kind_name, .what = "frame buffer", .to = FS_AT(other), .flags = SG_OPT}},
     "fpu sigreturn TASK [FRAME]",
     "fpu sigreturn TASK [FRAME]",
     "fpu__restore_sig() from FRAME (none: fpregs\nNULL)",
     .provides = FS_FACT_SIGRETURN | FS_FACT_SIGNAL,
     .check = fs_check_present,
     .run = fs_run_sigreturn},

    /* buffers */
    {"fpu buffer",
     {NAME_ARG(name, "buffer name"),
      {.kind = &sg_kind_number, .what = "a size", .to = FS_AT(value)}},
     "fpu buffer NAME SIZE",
     "fpu buffer NAME SIZE",
     "a zero-filled buffer of SIZE bytes (frames,\nregsets and uABI buffers are made on "
     "first\nuse)",
     .run = fs_run_buffer},
    {"fpu poke",
     {NAME_ARG(name, "buffer"), AT_ARG, VALUE_ARG},
     USAGE_POKE,
     "fpu poke BUF FIELD|OFFSET [u8..u64] VALUE",
     "store a little-endian number (FIELD: magic1,\nxstate_size, xstate_bv, magic2...)",
     .check = fs_check_buffer_value,
     .run = fs_run_poke},
    {"fpu poke",
     {NAME_ARG(name, "buffer"), AT_ARG, WIDTH_ARG, VALUE_ARG},
     USAGE_POKE,
     .check = fs_check_buffer_value,
     .run = fs_run_poke},

    /* ptrace */
    {"fpu ptrace get",
     {NAME_ARG(name, "task"), REGSET_ARG, NAME_ARG(other, "buffer"), LEN_ARG},
     "fpu ptrace get TASK xstate|fpreg BUF [LEN]",
     "fpu ptrace get TASK xstate|fpreg BUF [LEN]",
     "PTRACE_GETREGSET of the stopped TASK into BUF",
     .provides = FS_FACT_RESULT,
     .check = fs_check_present,
     .run = fs_run_ptrace_get},
    {"fpu ptrace set",
     {NAME_ARG(name, "task"), REGSET_ARG, NAME_ARG(other, "buffer"), LEN_ARG},
     "fpu ptrace set TASK xstate|fpreg BUF [LEN]",
     "fpu ptrace set TASK xstate|fpreg BUF [LEN]",
     "PTRACE_SETREGSET of the stopped TASK from BUF",
     .provides = FS_FACT_RESULT,
     .check = fs_check_present,
     .run = fs_run_ptrace_set},
    {"fpu ptrace",
     {{.kind = &fs_kind_unknown,
       .what = "get or set",
       .flags = SG_REPEAT,
       .refuse = "unknown ptrace request '{}' (get, set)"}},
     .usage = "fpu ptrace get|set TASK xstate|fpreg BUF [LEN]"},

    /* guests */
    {"fpu guest alloc",
     {NAME_ARG(name, "guest name"), NAME_ARG(other, "task")},
     "fpu guest alloc GUEST TASK",
     "fpu guest alloc GUEST TASK",
     "vCPU creation by TASK: a guest fpstate, the\nguest permission locked",
     .run = fs_run_guest_alloc},
    {"fpu guest free",
     {NAME_ARG(name, "guest")},
     "fpu guest free GUEST",
     "fpu guest free GUEST",
     "fpu_free_guest_fpstate() (in use: -EBUSY)",
     .provides = FS_FACT_RESULT,
     .run = fs_run_guest_free},
    {"fpu guest enter",
     {NAME_ARG(name, "guest")},
     "fpu guest enter GUEST",
     "fpu guest enter GUEST",
     "KVM_RUN starts: fpu_swap_kvm_fpstate(enter)",
     .run = fs_run_guest_enter},
    {"fpu guest exit",
     {NAME_ARG(name, "guest")},
     "fpu guest exit GUEST",
     "fpu guest exit GUEST",
     "KVM_RUN ends: back to the task's fpstate",
     .run = fs_run_guest_exit},
    {"fpu guest enable",
     {NAME_ARG(name, "guest"), {.kind = &sg_kind_mask, .what = "MASK", .to = FS_AT(value)}},
     "fpu guest enable GUEST MASK",
     "fpu guest enable GUEST MASK",
     "fpu_enable_guest_xfd_features() (KVM_SET_CPUID2)",
     .provides = FS_FACT_RESULT,
     .run = fs_run_guest_enable},
    {"fpu guest xfd",
     {NAME_ARG(name, "guest"), {.kind = &sg_kind_mask, .what = "XFD", .to = FS_AT(value)}},
     "fpu guest xfd GUEST MASK",
     "fpu guest xfd GUEST MASK",
     "fpu_update_guest_xfd(): the guest's IA32_XFD",
     .run = fs_run_guest_xfd},
    {"fpu guest reg",
     {NAME_ARG(name, "guest"), REG_ARG, EQUALS_ARG, REG_VALUE_ARG},
     "fpu guest reg GUEST NAME = VALUE",
     "fpu guest reg GUEST NAME = VALUE",
     "guest code writes a register (pl0_ssp too)",
     .check = fs_check_reg_value,
     .run = fs_run_guest_reg},
    {"fpu guest to_uabi",
     {NAME_ARG(name, "guest"),
      NAME_ARG(other, "buffer"),
      {.kind = &sg_kind_mask, .what = "MASK", .to = FS_AT(value), .flags = SG_OPT}},
     "fpu guest to_uabi GUEST BUF [MASK]",
     "fpu guest to_uabi GUEST BUF [MASK]",
     "KVM_GET_XSAVE2: guest fpstate to uABI BUF",
     .provides = FS_FACT_RESULT,
     .check = fs_check_present,
     .run = fs_run_guest_to_uabi},
    {"fpu guest from_uabi",
     {NAME_ARG(name, "guest"),
      NAME_ARG(other, "buffer"),
      {.kind = &sg_kind_mask, .what = "XCR0", .to = FS_AT(value), .flags = SG_OPT}},
     "fpu guest from_uabi GUEST BUF [XCR0]",
     "fpu guest from_uabi GUEST BUF [XCR0]",
     "KVM_SET_XSAVE: uABI BUF into the guest fpstate",
     .provides = FS_FACT_RESULT,
     .check = fs_check_present,
     .run = fs_run_guest_from_uabi},
    {"fpu guest",
     {{.kind = &fs_kind_unknown,
       .what = "a guest statement",
       .flags = SG_REPEAT,
       .refuse = "unknown guest statement '{}' (" GUEST_STATEMENTS ")"}},
     .usage = "fpu guest " GUEST_STATEMENTS " GUEST ..."},

    /* output */
    {"fpu print",
     {NAME_ARG(name, "task")},
     USAGE_PRINT,
     "fpu print TASK",
     "the task's fpstate, flags and permissions",
     .run = fs_run_print},
    {"fpu print",
     {NAME_ARG(name, "task"), REG_WORD_ARG, REG_ARG},
     USAGE_PRINT,
     "fpu print TASK reg NAME",
     "a register of the running TASK",
     .run = fs_run_print_reg},
    {"fpu print buffer",
     {NAME_ARG(name, "buffer"),
      {.kind = &sg_kind_number, .what = "an offset", .to = FS_AT(at.offset), .flags = SG_OPT},
      {.kind = &sg_kind_number,
       .what = "a length",
       .to = FS_AT(value),
       .flags = SG_TIED,
       .missing = "fpu print buffer: OFFSET needs a LENGTH"}},
     USAGE_PRINT,
     "fpu print buffer BUF [OFFSET LENGTH]",
     "software bytes, MAGIC2, XSTATE_BV; a hex dump",
     .check = fs_check_present,
     .run = fs_run_print_buffer},
    {"fpu print guest",
     {NAME_ARG(name, "guest")},
     USAGE_PRINT,
     "fpu print guest GUEST",
     "the guest fpstate and struct fpu_guest",
     .run = fs_run_print_guest},
    {"fpu print guest",
     {NAME_ARG(name, "guest"), REG_WORD_ARG, REG_ARG},
     USAGE_PRINT,
     "fpu print guest GUEST reg NAME",
     "a register as the entered guest sees it",
     .run = fs_run_print_guest_reg},
    {"fpu print log",
     {{0}},
     USAGE_PRINT,
     "fpu print log",
     "the machine's WARNs and log lines",
     .run = fs_run_print_log},

    /* expectations */
    {"fpu expect",
     {NAME_ARG(name, "task"),
      FIELD_ARG(fs_task_fields, TASK_FIELDS),
      {.kind = &sg_kind_number, .what = "VALUE", .to = FS_AT(value)}},
     USAGE_EXPECT_TASK,
     "fpu expect TASK FIELD VALUE",
     "a field equals VALUE (fpu print's, and cpu,\nsas_ss_size, pkru, guest_perm)",
     SG_EXPECTATION,
     .run = fs_run_expect_task},
    {"fpu expect",
     {NAME_ARG(name, "task"), REG_WORD_ARG, REG_ARG, COMPARE_ARG, REG_VALUE_ARG},
     USAGE_EXPECT_TASK,
     "fpu expect TASK reg NAME ==|!= VALUE",
     "a register of the running TASK",
     SG_EXPECTATION,
     .check = fs_check_reg_value,
     .run = fs_run_expect_reg},
    {"fpu expect result",
     {{.kind = &fs_kind_result, .what = "result", .to = FS_AT(result)}},
     "fpu expect result VALUE|ERRNO",
     "fpu expect result VALUE|ERRNO",
     "the last call with a result returned this\n(0, EINVAL, EFAULT...)",
     SG_EXPECTATION,
     NEEDS_RESULT,
     .run = fs_run_expect_result},
    {"fpu expect signal",
     {{.kind = &sg_kind_choice,
       .what = "signal",
       .to = FS_AT(value),
       .choices = fs_signals,
       .refuse = "unknown signal '{}' (none, sigill, sigsegv)"}},
     "fpu expect signal none|sigill|sigsegv",
     "fpu expect signal none|sigill|sigsegv",
     "the signal of the last fpu use, reg or\nsigreturn",
     SG_EXPECTATION,
     .needs = FS_FACT_SIGNAL,
     .needs_msg = "'fpu expect signal' needs an fpu use, fpu reg or fpu sigreturn before it",
     .run = fs_run_expect_signal},
    {"fpu expect sigreturn",
     {{.kind = &sg_kind_choice,
       .what = "outcome",
       .to = FS_AT(value),
       .choices = fs_sigreturns,
       .refuse = "unknown sigreturn outcome '{}' (cleared, xstate, fx-only, segv)"}},
     "fpu expect sigreturn cleared|xstate|fx-only|segv",
     "fpu expect sigreturn OUTCOME",
     "how the last fpu sigreturn restored: cleared,\nxstate, fx-only, segv",
     SG_EXPECTATION,
     .needs = FS_FACT_SIGRETURN,
     .needs_msg = "'fpu expect sigreturn' needs an fpu sigreturn before it",
     .run = fs_run_expect_sigreturn},
    {"fpu expect buffer",
     {NAME_ARG(name, "buffer"), AT_ARG, SELECT_ARGS, VALUE_ARG},
     USAGE_EXPECT_BUFFER,
     "fpu expect buffer BUF FIELD|OFFSET [u8..u64] [& MASK] VALUE",
     "a number in a buffer (FIELD as for fpu poke)",
     SG_EXPECTATION,
     .check = fs_check_buffer_value,
     .run = fs_run_expect_buffer},
    {"fpu expect buffer",
     {NAME_ARG(name, "buffer"), AT_ARG, WIDTH_ARG, SELECT_ARGS, VALUE_ARG},
     USAGE_EXPECT_BUFFER,
     .flags = SG_EXPECTATION,
     .check = fs_check_buffer_value,
     .run = fs_run_expect_buffer},
    {"fpu expect guest",
     {NAME_ARG(name, "guest"),
      FIELD_ARG(fs_guest_fields, GUEST_FIELDS),
      {.kind = &sg_kind_number, .what = "VALUE", .to = FS_AT(value)}},
     USAGE_EXPECT_GUEST,
     "fpu expect guest GUEST FIELD VALUE",
     "a guest field (size, xfeatures, xfd, in_use,\nenabled, uabi_size, pkru...)",
     SG_EXPECTATION,
     .run = fs_run_expect_guest},
    {"fpu expect guest",
     {NAME_ARG(name, "guest"), REG_WORD_ARG, REG_ARG, COMPARE_ARG, REG_VALUE_ARG},
     USAGE_EXPECT_GUEST,
     "fpu expect guest GUEST reg NAME ==|!= VALUE",
     "a register as the entered guest sees it",
     SG_EXPECTATION,
     .check = fs_check_reg_value,
     .run = fs_run_expect_guest_reg},
};

const struct sg_table fpu_script_table = {
    .name = "fpu",
    .rows = fpu_rows,
    .count = FS_ARRAY_SIZE(fpu_rows),
    .stmt_size = sizeof(struct fs_stmt),
    .bytes_at = {FS_AT(bytes)},
};
