/* SPDX-License-Identifier: MIT */
/*
 * The CPU-source options shared by every subcommand that works on one CPU (see source.h).
 */
#include "source.h"

#include "profile_report.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Dumps of real machines are a few hundred KiB at most; refuse anything absurd. */
#define CLI_DUMP_MAX_BYTES (64u << 20)

void cli_source_usage(FILE *out)
{
	fputs("CPU source (at most one; default: the built-in profile " VX_DEFAULT_PROFILE "):\n"
	      "      --host             the CPU this command runs on (CPUID, XGETBV, FXSAVE)\n"
	      "      --profile NAME[,-FEAT,+FEAT...]\n"
	      "                         a built-in profile (see 'vxsave profile list'), with\n"
	      "                         features taken away: \"sapphire-rapids,-amx,-avx512\"\n"
	      "      --cpuid-dump FILE  a dump ('-' reads standard input): 'cpuid -r' output, an\n"
	      "                         InstLatx64 (AIDA64) CPUID dump, or the JSON of 'vxsave\n"
	      "                         profile show --json'; the format is told by content\n"
	      "      --cpu N            with --cpuid-dump: the block labelled \"CPU N:\", or else\n"
	      "                         the Nth block counting from 0 (default 0); a note on\n"
	      "                         stderr says which block was taken when the two differ\n",
	      out);
}

static const char *source_option_name(enum cli_source_kind kind)
{
	switch (kind) {
	case CLI_SOURCE_HOST:
		return "--host";
	case CLI_SOURCE_PROFILE:
		return "--profile";
	case CLI_SOURCE_CPUID_DUMP:
		return "--cpuid-dump";
	case CLI_SOURCE_DEFAULT:
		break;
	}
	return "(default)";
}

static void select_source(struct cli_source *source, enum cli_source_kind kind,
			  const char *argument)
{
	/* Keep the first choice; remember the second so cli_source_finish() can name both. */
	if (source->kind != CLI_SOURCE_DEFAULT) {
		if (!source->conflict)
			source->conflict = source_option_name(kind);
		return;
	}
	source->kind = kind;
	source->argument = argument;
}

static int parse_cpu_index(struct cli_source *source, const char *command, const char *text)
{
	uint64_t value;

	/* The same number rule as every other number the tool reads (vx_parse_u64). */
	if (vx_parse_u64(text, strlen(text), &value, NULL) < 0 || value > UINT_MAX)
		return cli_usage_error(command, "--cpu needs a CPU number (0, 1, ...), not '%s'",
				       text);
	source->cpu_index = (unsigned)value;
	source->cpu_given = true;
	return 1;
}

int cli_source_option(struct cli_source *source, const char *command, int opt,
		      const char *argument)
{
	switch (opt) {
	case CLI_OPT_HOST:
		select_source(source, CLI_SOURCE_HOST, NULL);
		return 1;
	case CLI_OPT_PROFILE:
		select_source(source, CLI_SOURCE_PROFILE, argument);
		return 1;
	case CLI_OPT_CPUID_DUMP:
		select_source(source, CLI_SOURCE_CPUID_DUMP, argument);
		return 1;
	case CLI_OPT_CPU:
		return parse_cpu_index(source, command, argument);
	default:
		return 0;
	}
}

int cli_source_finish(const struct cli_source *source, const char *command)
{
	if (source->conflict)
		return cli_usage_error(command, "%s and %s both name the CPU; give only one source",
				       source_option_name(source->kind), source->conflict);
	if (source->cpu_given && source->kind != CLI_SOURCE_CPUID_DUMP)
		return cli_usage_error(command, "--cpu selects a CPU of a dump; it needs --cpuid-dump");
	return CLI_EXIT_OK;
}

/*
 * Read all of @file into a NUL-terminated buffer the caller frees; NULL with errno set (the
 * system's own code, so a directory reads as EISDIR; EFBIG past CLI_DUMP_MAX_BYTES).
 */
static char *read_whole_stream(FILE *file, size_t *length)
{
	size_t capacity = 16384, used = 0;
	char *buffer = malloc(capacity);

	while (buffer) {
		size_t got;

		errno = 0;
		got = fread(buffer + used, 1, capacity - used - 1, file);
		used += got;
		if (got == 0) {
			if (ferror(file)) {
				int saved = errno ? errno : EIO;

				free(buffer);
				errno = saved;
				return NULL;
			}
			buffer[used] = '\0';
			*length = used;
			return buffer;
		}
		if (capacity - used - 1 == 0) {
			char *bigger = capacity >= CLI_DUMP_MAX_BYTES ? NULL
								      : realloc(buffer, capacity * 2);

			if (!bigger) {
				free(buffer);
				errno = capacity >= CLI_DUMP_MAX_BYTES ? EFBIG : ENOMEM;
				return NULL;
			}
			buffer = bigger;
			capacity *= 2;
		}
	}
	errno = ENOMEM;
	return NULL;
}

static const char *dump_display_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

/* The reason may already start with "line N: "; the message puts FILE:N: in front of it. */
static const char *without_line_prefix(const struct vx_error *err)
{
	char prefix[32];
	int length = snprintf(prefix, sizeof(prefix), "line %u: ", err->line);

	if (length > 0 && strncmp(err->reason, prefix, (size_t)length) == 0)
		return err->reason + length;
	return err->reason;
}

/* "cannot read cpuid dump 'x': Is a directory", with the size limit named when it is hit. */
static void report_read_error(const char *shown, int code)
{
	if (code == EFBIG)
		cli_error("cannot read cpuid dump '%s': larger than the %u MiB limit for dumps "
			  "(real ones are a few hundred KiB)",
			  shown, CLI_DUMP_MAX_BYTES >> 20);
	else
		cli_error("cannot read cpuid dump '%s': %s", shown, strerror(code));
}

/* Open @path for reading; a directory is refused by name before any read. */
static FILE *open_dump(const char *path)
{
	struct stat info;
	FILE *file;

	if (stat(path, &info) == 0 && S_ISDIR(info.st_mode)) {
		errno = EISDIR;
		return NULL;
	}
	file = fopen(path, "r");
	return file;
}

/* The label N of a "CPU N:" header line (-1 for "CPU:"), or -2 if @line is no CPU header. */
static long cpu_header_label(const char *line, const char *end)
{
	long label = -1;

	while (line < end && (*line == ' ' || *line == '\t'))
		line++;
	if (end - line < 4 || memcmp(line, "CPU", 3) != 0)
		return -2;
	line += 3;
	if (*line == ' ') {
		line++;
		if (line >= end || *line < '0' || *line > '9')
			return -2;
		for (label = 0; line < end && *line >= '0' && *line <= '9'; line++)
			label = label > 100000000 ? label : label * 10 + (*line - '0');
	}
	return line < end && *line == ':' ? label : -2;
}

/*
 * --cpu N names a CPU, and `cpuid -r` labels its blocks "CPU N:" - but dumps of some CPUs only,
 * or of `cpuid -r -1` ("CPU:"), do not number blocks by position.  Rule (docs/cli.md): the block
 * labelled N if there is one, else the Nth block; say which when the two readings differ.
 */
static unsigned choose_cpu_block(const char *text, size_t length, unsigned cpu, const char *shown)
{
	long label_at_position = -3;
	unsigned blocks = 0, labelled_index = 0;
	bool labelled_found = false;

	for (const char *line = text; line < text + length;) {
		const char *end = memchr(line, '\n', (size_t)(text + length - line));
		long label;

		end = end ? end : text + length;
		label = cpu_header_label(line, end);
		if (label != -2) {
			if (blocks == cpu)
				label_at_position = label;
			if (label == (long)cpu && !labelled_found) {
				labelled_found = true;
				labelled_index = blocks;
			}
			blocks++;
		}
		line = end + 1;
	}
	if (labelled_found) {
		if (labelled_index != cpu)
			fprintf(stderr,
				"%s: note: %s: --cpu %u took the block labelled 'CPU %u:', which is "
				"block %u counting from 0\n",
				cli_program_name, shown, cpu, cpu, labelled_index);
		return labelled_index;
	}
	if (cpu < blocks && label_at_position >= 0)
		fprintf(stderr,
			"%s: note: %s: no block is labelled 'CPU %u:'; --cpu %u took block %u "
			"counting from 0, labelled 'CPU %ld:'\n",
			cli_program_name, shown, cpu, cpu, cpu, label_at_position);
	return cpu;
}

static bool looks_like_json(const char *text, size_t length)
{
	size_t i = 0;

	while (i < length && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' ||
			      text[i] == '\r'))
		i++;
	return i < length && text[i] == '{';
}

static int load_cpuid_dump(const struct cli_source *source, struct vx_profile *profile)
{
	const char *path = source->argument;
	const char *shown = dump_display_name(path);
	bool from_stdin = strcmp(path, "-") == 0;
	struct vx_error err = VX_ERROR_INIT;
	FILE *file = from_stdin ? stdin : open_dump(path);
	size_t length = 0;
	char *text;
	int rc;

	if (!file) {
		cli_error("cannot open cpuid dump '%s': %s", path, strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	text = read_whole_stream(file, &length);
	if (!text) {
		report_read_error(shown, errno);
		if (!from_stdin)
			fclose(file);
		return CLI_EXIT_FAILURE;
	}
	if (!from_stdin)
		fclose(file);

	/* Three formats, told apart by content (docs/cli.md "CPU sources"): vxsave's own JSON
	 * profile (starts with '{'), an InstLatx64 dump, or `cpuid -r` text. */
	if (looks_like_json(text, length)) {
		char why[VX_ERROR_REASON_MAX];

		rc = profile_from_json(profile, text, length, why, sizeof(why));
		free(text);
		if (rc < 0) {
			cli_error("%s: JSON profile: %s", shown, why);
			return CLI_EXIT_FAILURE;
		}
		return CLI_EXIT_OK;
	}
	rc = vx_profile_parse_dump(profile, text, length,
				   choose_cpu_block(text, length, source->cpu_index, shown), &err);
	free(text);
	if (rc < 0) {
		if (err.line)
			cli_error("%s:%u: %s", shown, err.line, without_line_prefix(&err));
		else
			cli_error("%s: %s", shown, err.reason[0] ? err.reason : vx_errno_name(rc));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static int load_builtin(const char *name, struct vx_profile *profile)
{
	struct vx_error err = VX_ERROR_INIT;
	/* "NAME,-feat,+feat": a built-in with toggles (vx_profile_derive, docs/profiles.md). */
	const char *toggles = name ? strchr(name, ',') : NULL;
	char base[VX_PROFILE_NAME_MAX] = "";

	if (toggles)
		snprintf(base, sizeof(base), "%.*s", (int)(toggles - name), name);
	if (vx_profile_builtin(profile, toggles ? base : name, &err) < 0 ||
	    (toggles && vx_profile_derive(profile, toggles + 1, &err) < 0)) {
		if (err.reason[0])
			cli_error("--profile %s: %s", name ? name : VX_DEFAULT_PROFILE, err.reason);
		else
			cli_error("--profile %s: no such built-in profile ('vxsave profile list')",
				  name ? name : VX_DEFAULT_PROFILE);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static int load_host(struct vx_profile *profile)
{
	struct vx_error err = VX_ERROR_INIT;
	int rc = vx_profile_from_host(profile, &err);

	if (rc < 0) {
		cli_error("cannot read the host CPU: %s",
			  err.reason[0] ? err.reason : vx_errno_name(rc));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static int load_source(const struct cli_source *source, struct vx_profile *profile)
{
	switch (source->kind) {
	case CLI_SOURCE_HOST:
		return load_host(profile);
	case CLI_SOURCE_PROFILE:
		return load_builtin(source->argument, profile);
	case CLI_SOURCE_CPUID_DUMP:
		return load_cpuid_dump(source, profile);
	case CLI_SOURCE_DEFAULT:
		break;
	}
	return load_builtin(NULL, profile);
}

int cli_source_load(const struct cli_source *source, struct vx_profile *profile)
{
	int rc;

	vx_profile_init(profile);
	rc = load_source(source, profile);
	/* Names and notes come from files anyone writes: clean them once for every output. */
	if (rc == CLI_EXIT_OK)
		vx_profile_sanitize_text(profile);
	return rc;
}

int cli_source_load_spec(const char *spec, struct vx_profile *profile)
{
	struct cli_source source = CLI_SOURCE_INIT;
	struct stat info;

	/* A path (has '/' or names a file) is a dump in any format; else a built-in[,toggles]. */
	source.argument = spec;
	source.kind = strchr(spec, '/') || strcmp(spec, "-") == 0 || stat(spec, &info) == 0
			  ? CLI_SOURCE_CPUID_DUMP
			  : CLI_SOURCE_PROFILE;
	return cli_source_load(&source, profile);
}

const char *cli_source_label(const struct cli_source *source, const struct vx_profile *profile,
			     char *buf, size_t len)
{
	if (profile->name[0])
		snprintf(buf, len, "%s", profile->name);
	else if (source->kind == CLI_SOURCE_CPUID_DUMP)
		snprintf(buf, len, "(unnamed, from %s)", dump_display_name(source->argument));
	else if (source->kind == CLI_SOURCE_HOST)
		snprintf(buf, len, "(unnamed, the host CPU)");
	else
		snprintf(buf, len, "(unnamed profile)");
	return buf;
}

const char *cli_source_describe(const struct cli_source *source, char *buf, size_t len)
{
	switch (source->kind) {
	case CLI_SOURCE_HOST:
		snprintf(buf, len, "the host CPU");
		break;
	case CLI_SOURCE_PROFILE:
		snprintf(buf, len, "built-in profile %s", source->argument);
		break;
	case CLI_SOURCE_CPUID_DUMP:
		snprintf(buf, len, "cpuid dump %s (CPU %u)", dump_display_name(source->argument),
			 source->cpu_index);
		break;
	case CLI_SOURCE_DEFAULT:
		snprintf(buf, len, "built-in profile %s (default)", VX_DEFAULT_PROFILE);
		break;
	}
	return buf;
}
