/* SPDX-License-Identifier: MIT */
/*
 * The CPU-source options shared by every subcommand that works on one CPU (see source.h).
 */
#include "source.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Dumps of real machines are a few hundred KiB at most; refuse anything absurd. */
#define CLI_DUMP_MAX_BYTES (64u << 20)

void cli_source_usage(FILE *out)
{
	fputs("CPU source (at most one; default: the built-in profile " VX_DEFAULT_PROFILE "):\n"
	      "      --host             the CPU this command runs on (CPUID, XGETBV, FXSAVE)\n"
	      "      --profile NAME     a built-in profile (see 'vxsave profile list')\n"
	      "      --cpuid-dump FILE  the output of 'cpuid -r' ('-' reads standard input)\n"
	      "      --cpu N            with --cpuid-dump: use the block \"CPU N:\" (default 0)\n",
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
	char *end;
	unsigned long value;

	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || value > UINT_MAX)
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

/* Read all of @file into a NUL-terminated buffer the caller frees; NULL with errno set. */
static char *read_whole_stream(FILE *file, size_t *length)
{
	size_t capacity = 16384, used = 0;
	char *buffer = malloc(capacity);

	while (buffer) {
		size_t got = fread(buffer + used, 1, capacity - used - 1, file);

		used += got;
		if (got == 0) {
			if (ferror(file)) {
				free(buffer);
				errno = EIO;
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

static int load_cpuid_dump(const struct cli_source *source, struct vx_profile *profile)
{
	const char *path = source->argument;
	const char *shown = dump_display_name(path);
	bool from_stdin = strcmp(path, "-") == 0;
	struct vx_error err = VX_ERROR_INIT;
	FILE *file = from_stdin ? stdin : fopen(path, "r");
	size_t length = 0;
	char *text;
	int rc;

	if (!file) {
		cli_error("cannot open cpuid dump '%s': %s", path, strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	text = read_whole_stream(file, &length);
	if (!text) {
		cli_error("cannot read cpuid dump '%s': %s", shown, strerror(errno));
		if (!from_stdin)
			fclose(file);
		return CLI_EXIT_FAILURE;
	}
	if (!from_stdin)
		fclose(file);

	rc = vx_profile_parse_cpuid_dump(profile, text, length, source->cpu_index, &err);
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

	if (vx_profile_builtin(profile, name, &err) < 0) {
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

int cli_source_load(const struct cli_source *source, struct vx_profile *profile)
{
	vx_profile_init(profile);
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
