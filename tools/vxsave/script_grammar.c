/* SPDX-License-Identifier: MIT */
/*
 * The script grammar engine: text to words, words to the row of a statement table, arguments
 * through their kinds into the statement's payload, and the run loop.  The statements
 * themselves (what `xsave` or `expect reg` mean) live in the tables (cpu_script.c for `cpu`).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "script_grammar.h"

/* The analyzer's models of the failure functions (script_grammar.h); defined here. */
#undef sg_fail
#undef sg_fail_word
#undef sg_run_error

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct sg_parser {
	struct sg_program *program;
	struct vx_error *err;
	unsigned line;
	const char *line_start; /* the physical line, for columns */
	const char *text;	/* the statement, trimmed */
	char *words[SG_WORDS_MAX];
	unsigned columns[SG_WORDS_MAX];
	unsigned count;
	unsigned facts; /* what earlier statements provided */
	/* the row being parsed */
	unsigned table;
	const struct sg_row *row;
	unsigned phrase_words;
	int at[SG_ARGS_MAX];		/* the word each argument takes, -1 if absent */
	const char *bound[SG_ARGS_MAX]; /* the same as text */
	int column;			/* of the word being read, -1 for the whole statement */
};

int sg_fail(struct sg_parser *p, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vx_error_vset(p->err, code, NULL, fmt, ap);
	va_end(ap);
	if (p->err) {
		p->err->line = p->line;
		p->err->offset = p->column;
	}
	return code;
}

/* Templates live in tables, so they are not printf formats: '{}' is the one placeholder. */
int sg_fail_word(struct sg_parser *p, int code, const char *template, const char *word)
{
	const char *hole = strstr(template, "{}");

	if (!hole)
		return sg_fail(p, code, "%s", template);
	return sg_fail(p, code, "%.*s%s%s", (int)(hole - template), template, word, hole + 2);
}

void *sg_context(const struct sg_parser *p)
{
	return p->program->contexts[p->table];
}

const char *sg_word(const struct sg_parser *p, unsigned index)
{
	return index < SG_ARGS_MAX ? p->bound[index] : NULL;
}

unsigned sg_arg_count(const struct sg_parser *p)
{
	unsigned count = 0;

	while (count < SG_ARGS_MAX && p->row->args[count].kind)
		count++;
	return count;
}

unsigned sg_line(const struct sg_parser *p)
{
	return p->line;
}

unsigned sg_word_count(const struct sg_parser *p)
{
	return p->count;
}

/* ----------------------------------------------------------------------------------------- */
/* Tables                                                                                       */

/* How many words @phrase has, and whether they equal words[0..n). */
static unsigned phrase_match(const char *phrase, char *const *words, unsigned count)
{
	unsigned n = 0;

	while (*phrase) {
		size_t length = strcspn(phrase, " ");

		if (n >= count || strlen(words[n]) != length ||
		    strncasecmp(words[n], phrase, length) != 0)
			return 0;
		n++;
		phrase += length;
		phrase += *phrase == ' ';
	}
	return n;
}

/* The bucket of sg_program.by_initial a phrase or word starting with @c is in. */
static unsigned initial(char c)
{
	unsigned lower = (unsigned)tolower((unsigned char)c) - 'a';

	return lower < 26 ? lower : 26;
}

/* sg_program.by_initial again over every table (a counting sort: stable, so each bucket keeps
 * table then row order, which find_rows() relies on). */
static void index_rows(struct sg_program *program)
{
	uint16_t next[SG_INITIALS + 1] = {0};

	for (unsigned t = 0; t < program->table_count; t++)
		for (unsigned i = 0; i < program->tables[t]->count; i++)
			next[initial(program->tables[t]->rows[i].phrase[0]) + 1]++;
	for (unsigned c = 0; c < SG_INITIALS; c++)
		next[c + 1] = (uint16_t)(next[c + 1] + next[c]);
	memcpy(program->initial_at, next, sizeof(next));
	for (unsigned t = 0; t < program->table_count; t++)
		for (unsigned i = 0; i < program->tables[t]->count; i++)
			program->by_initial[next[initial(program->tables[t]->rows[i].phrase[0])]++] =
			    t << 16 | i;
}

int sg_program_add(struct sg_program *program, const struct sg_table *table, void *context,
		   struct vx_error *err)
{
	unsigned rows = table->count;

	for (unsigned t = 0; t < program->table_count; t++)
		rows += program->tables[t]->count;
	if (program->table_count >= SG_TABLES_MAX || rows > SG_ROWS_MAX)
		return vx_error_set(err, -E2BIG, NULL,
				    "too many statement tables (at most %u) or rows (at most %u)",
				    SG_TABLES_MAX, SG_ROWS_MAX);
	program->tables[program->table_count] = table;
	program->contexts[program->table_count++] = context;
	return 0;
}

/* Does a table before @table have @row's phrase?  (Rows of one table may share a phrase: they
 * are its forms with other arguments.) */
static bool phrase_taken(const struct sg_program *program, unsigned table, unsigned row)
{
	const char *phrase = program->tables[table]->rows[row].phrase;

	for (unsigned t = 0; t < table; t++)
		for (unsigned i = 0; i < program->tables[t]->count; i++)
			if (strcasecmp(program->tables[t]->rows[i].phrase, phrase) == 0)
				return true;
	return false;
}

int sg_program_check(const struct sg_program *program, struct vx_error *err)
{
	for (unsigned t = 0; t < program->table_count; t++)
		for (unsigned i = 0; i < program->tables[t]->count; i++)
			if (phrase_taken(program, t, i))
				return vx_error_set(err, -EEXIST, NULL,
						    "statement '%s' of table '%s' is already defined",
						    program->tables[t]->rows[i].phrase,
						    program->tables[t]->name);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Finding the row                                                                              */

struct match {
	unsigned table;
	const struct sg_row *rows[8];
	unsigned count;
	unsigned words;
};

static void add_candidate(struct match *m, unsigned table, const struct sg_row *row, unsigned words)
{
	if (words > m->words) {
		m->count = 0;
		m->words = words;
		m->table = table;
	}
	if (words == m->words && m->count < ARRAY_SIZE(m->rows) &&
	    (m->count == 0 || m->table == table))
		m->rows[m->count++] = row;
}

/* The statement rows with the longest phrase matching the words; the group row, if any. */
static void find_rows(struct sg_parser *p, struct match *m, const struct sg_row **group,
		      unsigned *group_table)
{
	const struct sg_program *program = p->program;
	unsigned c = p->count ? initial(p->words[0][0]) : 0;

	memset(m, 0, sizeof(*m));
	*group = NULL;
	for (unsigned k = program->initial_at[c]; p->count && k < program->initial_at[c + 1]; k++) {
		unsigned t = program->by_initial[k] >> 16;
		const struct sg_row *row = &program->tables[t]->rows[program->by_initial[k] & 0xffff];
		unsigned words = phrase_match(row->phrase, p->words, p->count);

		if (!words)
			continue;
		if (!(row->flags & SG_GROUP)) {
			add_candidate(m, t, row, words);
		} else if (!*group) {
			*group = row;
			*group_table = t;
		}
	}
}

/* "cpl, mode, cr0...": the second words of every row in @group, in table order. */
static void group_subjects(const struct sg_program *program, const struct sg_row *group, char *buf,
			   size_t len)
{
	size_t used = 0, prefix = strlen(group->phrase);
	char last[32] = "";

	buf[0] = '\0';
	for (unsigned t = 0; t < program->table_count; t++) {
		for (unsigned i = 0; i < program->tables[t]->count; i++) {
			const char *phrase = program->tables[t]->rows[i].phrase;
			size_t length;

			if (strncasecmp(phrase, group->phrase, prefix) != 0 ||
			    phrase[prefix] != ' ')
				continue;
			phrase += prefix + 1;
			length = strcspn(phrase, " ");
			if (length >= sizeof(last) ||
			    (strlen(last) == length && !strncmp(last, phrase, length)))
				continue;
			snprintf(last, sizeof(last), "%.*s", (int)length, phrase);
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
						 last);
			if (used >= len)
				return;
		}
	}
}

static int unknown_subject(struct sg_parser *p, const struct sg_row *group)
{
	char subjects[512];

	group_subjects(p->program, group, subjects, sizeof(subjects));
	p->column = (int)p->columns[1];
	return sg_fail(p, -EINVAL, "%s '%s' (%s%s)", group->unknown, p->words[1], subjects,
		       group->unknown_tail ? group->unknown_tail : "");
}

/* The first word of @phrase into @first (32 bytes); its length. */
static size_t first_word(const char *phrase, char *first)
{
	snprintf(first, 32, "%.*s", (int)strcspn(phrase, " "), phrase);
	return strlen(first);
}

static const char *closest_command(const struct sg_program *program, const char *word)
{
	const char *best = NULL;
	unsigned best_distance = 3;
	size_t length = strlen(word);
	char last[32] = "";

	for (unsigned t = 0; t < program->table_count; t++) {
		for (unsigned i = 0; i < program->tables[t]->count; i++) {
			char first[32];
			const char *phrase = program->tables[t]->rows[i].phrase;
			size_t n = first_word(phrase, first);
			unsigned d;

			/* One distance per command (its rows are adjacent), none where the lengths
			 * alone differ by the best distance so far or more. */
			if (strcmp(first, last) == 0 || n >= length + best_distance ||
			    length >= n + best_distance)
				continue;
			memcpy(last, first, sizeof(last));
			d = sg_edit_distance(word, first);
			if (d < best_distance) {
				best_distance = d;
				best = phrase;
			}
		}
	}
	return best;
}

static int unknown_command(struct sg_parser *p)
{
	const char *guess = closest_command(p->program, p->words[0]);

	p->column = (int)p->columns[0];
	if (guess)
		return sg_fail(p, -EINVAL, "unknown command '%s' (did you mean '%.*s'?)",
			       p->words[0], (int)strcspn(guess, " "), guess);
	return sg_fail(p, -EINVAL, "unknown command '%s'", p->words[0]);
}

/* The rows that may parse this statement, after the group's own checks. */
static int select_rows(struct sg_parser *p, struct match *m)
{
	const struct sg_row *group;
	unsigned group_table = 0;

	find_rows(p, m, &group, &group_table);
	if (group) {
		if (p->count < group->min_words)
			return sg_fail(p, -EINVAL, "usage: %s", group->usage);
		if (m->words <= 1 &&
		    (!m->count ||
		     (group->fallback_if &&
		      !group->fallback_if(p->program->contexts[m->table], p->words[1]))))
			return unknown_subject(p, group);
	}
	return m->count ? 0 : unknown_command(p);
}

/* ----------------------------------------------------------------------------------------- */
/* Arguments                                                                                    */

static int arity_error(struct sg_parser *p, const struct sg_row *row, bool missing)
{
	if (row->flags & SG_PLAIN_USAGE)
		return sg_fail(p, -EINVAL, "usage: %s", row->usage);
	return sg_fail(p, -EINVAL, "%s: usage: %s", missing ? "missing words" : "too many words",
		       row->usage);
}

static bool arg_present(const struct sg_parser *p, const struct sg_arg *a, unsigned word,
			bool previous)
{
	if (a->flags & SG_TIED)
		return previous;
	if (a->flags & SG_MARK)
		return word < p->count && strcasecmp(p->words[word], a->what) == 0;
	return word < p->count || !(a->flags & SG_OPT);
}

/*
 * Which word each argument of @row takes (p->at[], -1 when absent), before any is parsed, so
 * a statement with a word too few or too many says so first.  Errors only when @report.
 */
static int bind(struct sg_parser *p, const struct sg_row *row, bool report)
{
	unsigned word = p->phrase_words;
	bool previous = false;

	for (unsigned i = 0; i < SG_ARGS_MAX; i++) {
		const struct sg_arg *a = &row->args[i];

		p->at[i] = -1;
		if (!a->kind || !(previous = arg_present(p, a, word, previous)))
			continue;
		if (word >= p->count && !report)
			return -EINVAL;
		if (word >= p->count && (a->flags & SG_TIED) && a->missing)
			return sg_fail(p, -EINVAL, "%s", a->missing);
		if (word >= p->count)
			return arity_error(p, row, true);
		p->at[i] = (int)word;
		word = a->flags & SG_REPEAT ? p->count : word + 1;
	}
	if (word < p->count && report) {
		p->column = (int)p->columns[word];
		return arity_error(p, row, false);
	}
	return word < p->count ? -EINVAL : 0;
}

/* The first row the words fit (rows of one phrase differ by their arguments). */
static int pick_row(struct sg_parser *p, const struct match *m)
{
	for (unsigned i = 0; i < m->count; i++) {
		if (bind(p, m->rows[i], false) == 0) {
			p->row = m->rows[i];
			return 0;
		}
	}
	p->row = m->rows[0];
	return bind(p, m->rows[0], true);
}

/* Each bound word through its argument's kind, into the payload. */
static int parse_args(struct sg_parser *p, void *payload)
{
	for (unsigned i = 0; i < SG_ARGS_MAX; i++) {
		const struct sg_arg *a = &p->row->args[i];
		void *dest = a->to ? (char *)payload + a->to - 1 : NULL;
		unsigned word = (unsigned)p->at[i];
		int rc;

		p->bound[i] = p->at[i] < 0 ? NULL : p->words[word];
		if (p->at[i] < 0)
			continue;
		do {
			p->column = (int)p->columns[word];
			rc = a->kind->parse(p, a, p->words[word++], dest);
		} while (!rc && (a->flags & SG_REPEAT) && word < p->count);
		if (rc)
			return rc;
	}
	p->column = -1;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Statements                                                                                   */

static void free_payload(const struct sg_table *table, void *payload)
{
	if (!payload)
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(table->bytes_at) && table->bytes_at[i]; i++) {
		struct sg_bytes *bytes =
		    (struct sg_bytes *)((char *)payload + table->bytes_at[i] - 1);

		free(bytes->bytes);
	}
	if (table->free_stmt)
		table->free_stmt(payload);
	free(payload);
}

static struct sg_stmt *new_stmt(struct sg_program *program)
{
	if (program->count == program->capacity) {
		unsigned capacity = program->capacity ? program->capacity * 2 : 64;
		struct sg_stmt *bigger = realloc(program->stmts, capacity * sizeof(*bigger));

		if (!bigger)
			return NULL;
		program->stmts = bigger;
		program->capacity = capacity;
	}
	return &program->stmts[program->count];
}

/* Keep the parsed statement (a declaration returned 1 and keeps nothing). */
static int record(struct sg_parser *p, void *payload, int rc)
{
	const struct sg_table *table = p->program->tables[p->table];
	struct sg_stmt *stmt;

	if (rc == 0)
		p->facts |= p->row->provides;
	if (rc != 0 || (p->row->flags & SG_DECLARATION)) {
		free_payload(table, payload);
		return rc < 0 ? rc : 0;
	}
	stmt = new_stmt(p->program);
	if (!stmt || !(stmt->text = strdup(p->text))) {
		free_payload(table, payload);
		return sg_fail(p, -ENOMEM, "out of memory");
	}
	stmt->row = p->row;
	stmt->table = p->table;
	stmt->line = p->line;
	stmt->payload = payload;
	p->program->count++;
	return 0;
}

/* The words of one statement into a row and its payload. */
static int parse_words(struct sg_parser *p)
{
	struct match m;
	void *payload;
	int rc;

	p->column = (int)p->columns[0];
	rc = select_rows(p, &m);
	if (rc)
		return rc;
	p->table = m.table;
	p->phrase_words = m.words;
	if ((m.rows[0]->needs & ~p->facts) != 0)
		return sg_fail_word(p, -EINVAL, m.rows[0]->needs_msg,
				    p->count > 1 ? p->words[1] : "");
	rc = pick_row(p, &m);
	if (rc)
		return rc;
	payload = calloc(1, p->program->tables[p->table]->stmt_size + 1);
	if (!payload)
		return sg_fail(p, -ENOMEM, "out of memory");
	rc = parse_args(p, payload);
	if (!rc && p->row->check)
		rc = p->row->check(p, payload);
	return record(p, payload, rc);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Split @text (a copy of the statement, modified in place) into words and their columns. */
static int split_words(struct sg_parser *p, char *text)
{
	char *s = text;

	p->count = 0;
	while (*s) {
		while (is_blank(*s))
			*s++ = '\0';
		if (!*s)
			break;
		if (p->count == SG_WORDS_MAX)
			return sg_fail(p, -E2BIG, "too many words (at most %u)", SG_WORDS_MAX);
		p->columns[p->count] = (unsigned)(p->text - p->line_start + (s - text));
		p->words[p->count++] = s;
		while (*s && !is_blank(*s))
			s++;
	}
	return 0;
}

static int check_printable(struct sg_parser *p, const char *text)
{
	for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
		if (*s < 0x20 && !is_blank((char)*s)) {
			p->column = (int)(s - (const unsigned char *)p->line_start);
			return sg_fail(p, -EINVAL, "control character 0x%02x in the text", *s);
		}
	}
	return 0;
}

static char *trim(char *text)
{
	char *end;

	while (*text == ' ' || *text == '\t' || *text == '\r')
		text++;
	end = text + strlen(text);
	while (end > text && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return text;
}

/* One statement (no ';', no comment).  Empty statements are skipped. */
static int parse_statement(struct sg_parser *p, char *text)
{
	char words_text[SG_LINE_MAX + 1];
	int rc;

	text = trim(text);
	if (!*text)
		return 0;
	p->text = text;
	p->column = -1;
	if (p->program->count >= SG_STATEMENTS_MAX)
		return sg_fail(p, -E2BIG, "too many statements (at most %u)", SG_STATEMENTS_MAX);
	rc = check_printable(p, text);
	if (rc)
		return rc;
	snprintf(words_text, sizeof(words_text), "%s", text);
	rc = split_words(p, words_text);
	/* Only blanks trim() keeps (form feed, vertical tab): an empty statement, no words
	 * (parse_words() needs one; found by fuzz_script, issue 11). */
	if (rc == 0 && p->count == 0)
		return 0;
	return rc ? rc : parse_words(p);
}

/*
 * Where a comment starts: '#' first on the line, or '#' after a blank (or ';') and followed by
 * a blank or the end ("expect fault #GP" keeps its '#').
 */
static char *find_comment(char *line)
{
	char *s = line;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '#')
		return s;
	for (; *s; s++) {
		if (*s == '#' && (s[-1] == ' ' || s[-1] == '\t' || s[-1] == ';') &&
		    (s[1] == '\0' || s[1] == ' ' || s[1] == '\t' || s[1] == '\r'))
			return s;
	}
	return NULL;
}

/* One physical line: strip the comment, split at ';'. */
static int parse_line(struct sg_parser *p, char *line, bool semicolon_lines)
{
	char *comment = find_comment(line);
	char *statement = line;
	unsigned hidden_lines = 0;
	int rc;

	p->line_start = line;
	if (comment) {
		/* with -e every ';' is a line, also the ones a comment hides */
		for (const char *s = comment; semicolon_lines && *s; s++)
			hidden_lines += *s == ';';
		*comment = '\0';
	}
	for (;;) {
		char *next = strchr(statement, ';');

		if (next)
			*next = '\0';
		rc = parse_statement(p, statement);
		if (rc)
			return rc;
		if (!next) {
			p->line += hidden_lines;
			return 0;
		}
		statement = next + 1;
		if (semicolon_lines)
			p->line++;
	}
}

int sg_parse(struct sg_program *program, const char *text, size_t len, bool semicolon_lines,
	     struct vx_error *err)
{
	struct sg_parser p = {.program = program, .err = err, .line = 1, .column = -1};
	char line[SG_LINE_MAX + 2];
	size_t pos = 0;
	int rc;

	if (!text && len)
		return sg_fail(&p, -EINVAL, "no script text");
	if (len > SG_TEXT_MAX)
		return sg_fail(&p, -E2BIG, "script is larger than %u bytes", SG_TEXT_MAX);
	index_rows(program);
	while (pos < len) {
		const char *start = text + pos;
		const char *newline = memchr(start, '\n', len - pos);
		size_t length = newline ? (size_t)(newline - start) : len - pos;

		if (length > SG_LINE_MAX)
			return sg_fail(&p, -E2BIG, "line longer than %u characters", SG_LINE_MAX);
		if (memchr(start, '\0', length))
			return sg_fail(&p, -EINVAL, "NUL byte in the text");
		memcpy(line, start, length);
		line[length] = '\0';
		rc = parse_line(&p, line, semicolon_lines);
		if (rc)
			return rc;
		pos += length + 1;
		p.line++;
	}
	return 0;
}

void sg_program_clear(struct sg_program *program)
{
	for (unsigned i = 0; i < program->count; i++) {
		free_payload(program->tables[program->stmts[i].table], program->stmts[i].payload);
		free(program->stmts[i].text);
	}
	free(program->stmts);
	program->stmts = NULL;
	program->count = program->capacity = 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Running                                                                                      */

int sg_run_error(struct sg_runner *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vx_error_vset(r->err, code, NULL, fmt, ap);
	va_end(ap);
	if (r->err)
		r->err->line = r->stmt->line;
	return code;
}

int sg_run(const struct sg_program *program, const struct sg_run_options *options,
	   struct sg_summary *summary, struct vx_error *err)
{
	struct sg_runner r = {program, options, options->out ? options->out : stdout,
			      summary, err,	NULL};
	int rc = 0;

	memset(summary, 0, sizeof(*summary));
	for (unsigned i = 0; i < program->count && rc == 0; i++) {
		r.stmt = &program->stmts[i];
		if (options->trace)
			fprintf(r.out, "%u> %s\n", r.stmt->line, r.stmt->text);
		rc = r.stmt->row->run(&r, program->contexts[r.stmt->table], r.stmt);
		summary->statements++;
		if (rc == 0 && (r.stmt->row->flags & SG_EXPECTATION)) {
			summary->expectations++;
			if (options->trace)
				fprintf(r.out, "%u: %s -> passed\n", r.stmt->line, r.stmt->text);
		}
	}
	fflush(r.out);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */

#define SG_HELP_COLUMN 39

static void print_help_lines(FILE *out, const char *help, bool newline_first)
{
	while (*help) {
		size_t length = strcspn(help, "\n");

		if (newline_first)
			fprintf(out, "\n  %*s", SG_HELP_COLUMN, "");
		fprintf(out, "%.*s", (int)length, help);
		newline_first = true;
		help += length;
		help += *help == '\n';
	}
}

void sg_print_statements(FILE *out, const struct sg_table *table)
{
	for (unsigned i = 0; i < table->count; i++) {
		const struct sg_row *row = &table->rows[i];
		size_t length;

		if (!row->synopsis)
			continue;
		length = strlen(row->synopsis);
		fprintf(out, "  %s", row->synopsis);
		if (row->help && length < SG_HELP_COLUMN)
			fprintf(out, "%*s", (int)(SG_HELP_COLUMN - length), "");
		if (row->help)
			print_help_lines(out, row->help, length >= SG_HELP_COLUMN);
		fputc('\n', out);
	}
}

/* Levenshtein distance of two short words, for "did you mean". */
unsigned sg_edit_distance(const char *a, const char *b)
{
	unsigned row[32], la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la >= 31 || lb >= 31)
		return 99;
	for (unsigned j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned i = 1; i <= la; i++) {
		unsigned diagonal = row[0];

		row[0] = i;
		for (unsigned j = 1; j <= lb; j++) {
			unsigned above = row[j];
			unsigned cost =
			    tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			unsigned best = diagonal + cost;

			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}
