/* SPDX-License-Identifier: MIT */
/*
 * Built-in CPU profiles: real CPUs (and a few deliberately odd ones) whose `cpuid -r` dumps
 * live in profiles/ *.cpuid and are compiled in, so every part of vxsave can be tested on CPUs
 * this machine is not (CET, AMX, APX; see docs/profiles.md).  They are parsed with the same
 * parser as user dumps, so a built-in profile is exactly as trustworthy as its file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/arch.h>

#include "arch/builtin_profiles.h"

unsigned vx_builtin_profile_count(void)
{
	return vx_builtin_profile_table_size;
}

const char *vx_builtin_profile_name(unsigned index)
{
	if (index >= vx_builtin_profile_table_size)
		return NULL;
	return vx_builtin_profile_table[index].name;
}

static const struct vx_builtin_profile_text *find_builtin(const char *name)
{
	for (unsigned i = 0; i < vx_builtin_profile_table_size; i++)
		if (strcmp(vx_builtin_profile_table[i].name, name) == 0)
			return &vx_builtin_profile_table[i];
	return NULL;
}

const char *vx_builtin_profile_text(const char *name)
{
	const struct vx_builtin_profile_text *entry = name ? find_builtin(name) : NULL;

	return entry ? entry->text : NULL;
}

/* "a, b, c" (cut short if it does not fit), for the "no such profile" message. */
static void list_builtin_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < vx_builtin_profile_table_size && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 vx_builtin_profile_table[i].name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

int vx_profile_builtin(struct vx_profile *profile, const char *name, struct vx_error *err)
{
	const struct vx_builtin_profile_text *entry;
	struct vx_profile parsed;
	int ret;

	if (!profile)
		return vx_error_set(err, -EINVAL, NULL, "vx_profile_builtin needs a profile");
	if (!name)
		name = VX_DEFAULT_PROFILE;
	entry = find_builtin(name);
	if (!entry) {
		char names[160];

		list_builtin_names(names, sizeof(names));
		return vx_error_set(err, -ENOENT, NULL,
				    "no built-in profile '%.48s' (there are: %s)", name, names);
	}
	/* A built-in text that does not parse is a bug in profiles/: say which file. */
	ret = vx_profile_parse_cpuid_dump(&parsed, entry->text, strlen(entry->text), 0, err);
	if (ret) {
		if (err) {
			char inner[VX_ERROR_REASON_MAX];

			snprintf(inner, sizeof(inner), "%s", err->reason);
			vx_error_set(err, ret, err->rule, "built-in profile %s.cpuid: %.200s",
				     entry->name, inner);
		}
		return ret;
	}
	/* The file name is the profile's name unless the file says otherwise. */
	if (parsed.name[0] == '\0')
		snprintf(parsed.name, sizeof(parsed.name), "%s", entry->name);
	*profile = parsed;
	return 0;
}
