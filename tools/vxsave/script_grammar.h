/* SPDX-License-Identifier: MIT */
/*
 * The script grammar engine behind `vxsave cpu` (and, later, the fpu and kvm statements of the
 * same scenarios): a language is a list of statement tables, one row per statement, and this
 * engine does everything that is not a statement's own meaning.
 *
 *  - Text: lines, ';', '#' comments, words with their columns, the bounds (line length, NUL
 *    and control bytes, statement count).
 *  - Statements: the row whose phrase ("xsetbv", "set cpl", "expect reg") matches the first
 *    words; groups ("set", "print", "expect") with their usage and "unknown subject" errors;
 *    "did you mean" over every table; arity from the row's arguments.
 *  - Arguments: each row lists its arguments as (kind, noun, destination) triples.  A kind
 *    parses one word and stores it at the destination inside the statement's payload (a
 *    struct the table chooses, table->stmt_size bytes), so most rows need no code to parse.
 *  - Facts: a row may provide a fact (an operation whose outcome `expect ok` checks, a value
 *    `expect value` compares) and another row may need it earlier in the script.
 *  - Running: statements run in order, each through its row's handler with its table's
 *    context; expectation rows are counted and traced.
 *
 * Errors name the line (vx_error.line), the word at fault in the sentence, and its 0-based
 * column in the line (vx_error.offset; -1 when the error is about the whole line).
 * How to add statements: docs/cpu-script.md, "For developers: adding statements".
 */
#ifndef VXSAVE_CLI_SCRIPT_GRAMMAR_H
#define VXSAVE_CLI_SCRIPT_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vxsave/cpu.h>

#define SG_LINE_MAX	  4096u
#define SG_TEXT_MAX	  (4u << 20)
#define SG_STATEMENTS_MAX 100000u
#define SG_WORDS_MAX	  64u
#define SG_ARGS_MAX	  8u
#define SG_TABLES_MAX	  8u
#define SG_ROWS_MAX	  1024u /* statement rows of all of a program's tables */
#define SG_INITIALS	  27u	/* a..z, then every other first character */
/* Largest literal a statement can carry (a TMM tile). */
#define SG_BYTES_MAX 2048u

struct sg_parser;
struct sg_runner;
struct sg_stmt;
struct sg_arg;

/** A literal of any width: little-endian bytes of a number, or hex: bytes in memory order. */
struct sg_bytes {
	uint8_t *bytes;
	size_t length;
	bool all_ones; /* -1 / all: every bit of whatever it is used for */
};

/** A word and the number it stands for (choices, CR bits, exit reasons...). */
struct sg_choice {
	const char *name;
	uint64_t value;
};

/**
 * struct sg_kind - how one word becomes a value.
 * @name:  what the word is, for documentation ("NUMBER", "MASK", "MSR").
 * @parse: read @word for argument @spec and store the result at @dest (the argument's
 *         destination in the payload, NULL when the row discards it); 0 or a negative errno
 *         after sg_fail().  A kind with SG_REPEAT is called once per word into the same @dest.
 */
struct sg_kind {
	const char *name;
	int (*parse)(struct sg_parser *p, const struct sg_arg *spec, const char *word, void *dest);
};

/* Argument flags. */
enum {
	SG_OPT = 1u << 0,  /* trailing optional: present when words remain */
	SG_MARK = 1u << 1, /* optional marker word (spec->what): present when the word equals it */
	SG_TIED = 1u << 2, /* present exactly when the argument before it is */
	SG_REPEAT = 1u << 3, /* takes every remaining word (at least one) */
};

/* A destination inside the payload: SG_AT(struct cs_stmt, mask); 0 discards the value. */
#define SG_AT(type, field) (offsetof(type, field) + 1)

/**
 * struct sg_arg - one argument of a row.
 * @kind:    how to read it (sg_kind_number, sg_kind_mask... or a table's own kind).
 * @what:    the noun for messages ("ECX" in "bad number 'x' for ECX"); for sg_kind_word and
 *           SG_MARK the word itself.
 * @to:      SG_AT(payload type, field), or 0.
 * @flags:   SG_OPT, SG_MARK, SG_TIED, SG_REPEAT.
 * @choices: for sg_kind_choice and similar kinds: the words, ended by {NULL, 0}.
 * @refuse:  the message for a word the kind refuses, '{}' standing for the word (kinds that
 *           have one; NULL = the kind's own sentence).
 * @missing: the message when a SG_TIED argument is missing (NULL = the row's usage).
 */
struct sg_arg {
	const struct sg_kind *kind;
	const char *what;
	size_t to;
	unsigned flags;
	const struct sg_choice *choices;
	const char *refuse;
	const char *missing;
};

/* Row flags. */
enum {
	SG_GROUP = 1u << 0,	  /* not a statement: a first word whose second word picks one */
	SG_PLAIN_USAGE = 1u << 1, /* arity errors say "usage: ..." without "missing words" */
	SG_EXPECTATION = 1u << 2, /* counted and traced as an expectation */
	SG_DECLARATION = 1u << 3, /* checked and recorded while parsing; nothing to run */
};

/**
 * struct sg_row - one statement (or one group of statements).
 * @phrase:   the words that name it, one blank between them ("set vmx xsaves").
 * @args:     its arguments in order, ended by a NULL kind.
 * @usage:    the synopsis arity errors quote ("xsetbv ECX VALUE").
 * @synopsis: the left column of the generated statement list (NULL: the row is covered by
 *            another row's line); @help the right column ('\n' starts a continuation line).
 * @flags:    SG_GROUP, SG_PLAIN_USAGE, SG_EXPECTATION, SG_DECLARATION.
 * @provides: facts (bits the table defines) this statement establishes for later ones.
 * @needs:    facts it needs from an earlier statement; @needs_msg says so ('{}' = the second
 *            word as written).
 * @check:    after the arguments: checks between them and with the context; 0, 1 for a
 *            declaration with nothing to record, or a negative errno after sg_fail().
 * @run:      executes it (not for SG_DECLARATION rows).
 * @data:     a constant the handlers read (an instruction number...).
 * Groups: @min_words below which "usage: @usage" is the error; @unknown starts the error for
 * a second word no row knows ("unknown setting"), followed by the subjects the tables have and
 * @unknown_tail; @fallback_if lets the group's own row (phrase = the group word) take words
 * that are not subjects (`expect BUFFER ...`).
 */
struct sg_row {
	const char *phrase;
	struct sg_arg args[SG_ARGS_MAX];
	const char *usage;
	const char *synopsis;
	const char *help;
	unsigned flags;
	unsigned provides;
	unsigned needs;
	const char *needs_msg;
	int (*check)(struct sg_parser *p, void *payload);
	int (*run)(struct sg_runner *r, void *context, const struct sg_stmt *stmt);
	uint64_t data;
	unsigned min_words;
	const char *unknown;
	const char *unknown_tail;
	bool (*fallback_if)(void *context, const char *word);
};

/**
 * struct sg_table - the statements of one layer.
 * @name:      "cpu", "fpu"... (for messages and the docs).
 * @rows:      the rows; @count how many.
 * @stmt_size: the size of the payload each statement of this table carries (zero-filled
 *             before its arguments are stored).
 * @free_stmt: releases what a payload owns besides sg_bytes fields it lists in @bytes_at
 *             (may be NULL).
 * @bytes_at:  offsets (SG_AT) of the sg_bytes fields of the payload, 0-terminated: the engine
 *             frees them.
 */
struct sg_table {
	const char *name;
	const struct sg_row *rows;
	unsigned count;
	size_t stmt_size;
	void (*free_stmt)(void *payload);
	size_t bytes_at[4];
};

/** One parsed statement. */
struct sg_stmt {
	const struct sg_row *row;
	unsigned table;
	unsigned line;
	char *text;    /* the statement as written, trimmed, without its comment */
	void *payload; /* table->stmt_size bytes */
};

/**
 * struct sg_program - a parsed script: statements of any registered table, in order.
 * Tables are registered with sg_program_add() before parsing, each with the context its
 * handlers receive (at parse time through sg_context(), at run time as an argument).
 */
struct sg_program {
	const struct sg_table *tables[SG_TABLES_MAX];
	void *contexts[SG_TABLES_MAX];
	unsigned table_count;
	/* The rows of every table by the first letter of their phrase, in table then row order
	 * (by_initial[initial_at[c]..initial_at[c + 1]), as (table << 16 | row)), made by
	 * sg_parse(): a statement is tried only against the rows that can match its first word. */
	uint32_t by_initial[SG_ROWS_MAX];
	uint16_t initial_at[SG_INITIALS + 1];
	struct sg_stmt *stmts;
	unsigned count;
	unsigned capacity;
};

/**
 * sg_program_add() - let scripts use @table's statements; @context goes to its handlers.
 * Returns 0 or -E2BIG (SG_TABLES_MAX tables, or SG_ROWS_MAX rows, already).  A phrase must belong to one table only
 * (two layers cannot both own "print state"); that is a property of the tables, checked by
 * sg_program_check() in tests (test_script_grammar: the cpu, fpu and kvm tables together),
 * not at every parse, where its n^2 compares were half the time of a short script.
 */
int sg_program_add(struct sg_program *program, const struct sg_table *table, void *context,
		   struct vx_error *err);
/**
 * sg_program_check() - 0 if no phrase is in two of @program's tables, else -EEXIST with @err
 * naming the phrase and the later table that has it too.
 */
int sg_program_check(const struct sg_program *program, struct vx_error *err);

/**
 * sg_parse() - parse @len bytes of @text into @program's statements.  With @semicolon_lines
 * every ';'-separated statement counts as a line (the `-e` rule).  Returns 0, or -EINVAL,
 * -E2BIG or -ENOMEM with @err->line, @err->offset (column) and @err->reason set.
 */
int sg_parse(struct sg_program *program, const char *text, size_t len, bool semicolon_lines,
	     struct vx_error *err);

/** Free the statements (not the tables or contexts). */
void sg_program_clear(struct sg_program *program);

/* ----------------------------------------------------------------------------------------- */
/* Used by kinds and check handlers while parsing                                               */

/** Fail with a message; line and column come from the statement and word being parsed. */
int sg_fail(struct sg_parser *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Fail with @template where '{}' stands for @word (templates kept in tables). */
int sg_fail_word(struct sg_parser *p, int code, const char *template, const char *word);

/*
 * For the clang static analyzer only (make lint): the failure functions return @code, which it
 * cannot see from another file; without this it explores "failed but returned 0" paths.
 */
#ifdef __clang_analyzer__
#define sg_fail(p, code, ...)	    (sg_fail((p), (code), __VA_ARGS__), (code))
#define sg_fail_word(p, code, t, w) (sg_fail_word((p), (code), (t), (w)), (code))
#endif
/** The context of the table whose statement is being parsed. */
void *sg_context(const struct sg_parser *p);
/** The word bound to argument @index of the current row (NULL if absent). */
const char *sg_word(const struct sg_parser *p, unsigned index);
/** How many arguments the current row has (given or not). */
unsigned sg_arg_count(const struct sg_parser *p);
/** The current line (for declarations that remember where they were made). */
unsigned sg_line(const struct sg_parser *p);
/** The words of the current statement (0 = the first word of the phrase). */
unsigned sg_word_count(const struct sg_parser *p);

/* The generic kinds. */
extern const struct sg_kind sg_kind_word;     /* spec->what itself; bool true at @to */
extern const struct sg_kind sg_kind_any;      /* any word, interpreted by the row's check */
extern const struct sg_kind sg_kind_number;   /* uint64_t: vx_parse_u64(), or -1 = all ones */
extern const struct sg_kind sg_kind_u32;      /* uint32_t: a number below 2^32 */
extern const struct sg_kind sg_kind_mask;     /* uint64_t: NUMBER, all, none, component names */
extern const struct sg_kind sg_kind_value;    /* sg_bytes: any width, 0x..., hex:..., -1/all */
extern const struct sg_kind sg_kind_hex;      /* sg_bytes: hex:BYTES only */
extern const struct sg_kind sg_kind_choice;   /* uint64_t: one of spec->choices */
extern const struct sg_kind sg_kind_compare;  /* bool: false for ==, true for != */
extern const struct sg_kind sg_kind_text;     /* the rest of the statement, as written */
extern const struct sg_kind sg_kind_features; /* uint64_t: CPUID feature bits, ',' or '|' */
/* x86 words any layer's statements share. */
extern const struct sg_kind sg_kind_msr;      /* uint32_t: IA32_XSS, XFD, PL0_SSP... or NUMBER */
extern const struct sg_kind sg_kind_register; /* const struct vx_reg_info *: xmm0, tmm3... */
extern const struct sg_kind sg_kind_fault;    /* struct sg_fault: #GP, GP, #GP(0)... */

/** An exception an `expect fault` names: the vector (0 = any), and the error code if given. */
struct sg_fault {
	uint32_t vector;
	bool has_code;
	uint64_t code;
};

/** Name of an exception vector ("GP"), "?" if none. */
const char *sg_vector_name(unsigned vector);

/* ----------------------------------------------------------------------------------------- */
/* Running                                                                                      */

struct sg_summary {
	unsigned statements;
	unsigned operations;
	unsigned faults;
	unsigned expectations;
};

struct sg_run_options {
	bool trace;
	bool quiet;
	FILE *out;
};

/** What handlers see of the run. */
struct sg_runner {
	const struct sg_program *program;
	const struct sg_run_options *options;
	FILE *out;
	struct sg_summary *summary;
	struct vx_error *err;
	const struct sg_stmt *stmt;
};

/**
 * sg_run() - run every statement in order until one fails.  Returns 0 or the failing
 * handler's negative errno (@err->line set).
 */
int sg_run(const struct sg_program *program, const struct sg_run_options *options,
	   struct sg_summary *summary, struct vx_error *err);

/** Fail the running statement (sets @err->line). */
int sg_run_error(struct sg_runner *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#ifdef __clang_analyzer__ /* as sg_fail() above */
#define sg_run_error(r, code, ...) (sg_run_error((r), (code), __VA_ARGS__), (code))
#endif

/* ----------------------------------------------------------------------------------------- */

/** Print the statement list of @table ("  SYNOPSIS   HELP"), as `--help` shows it. */
void sg_print_statements(FILE *out, const struct sg_table *table);

/** Levenshtein distance, case-insensitive, of two short words (99 when too long). */
unsigned sg_edit_distance(const char *a, const char *b);

#endif /* VXSAVE_CLI_SCRIPT_GRAMMAR_H */
