/* SPDX-License-Identifier: MIT */
/*
 * The built-in CPU profiles: the text of every profiles/ *.cpuid file, compiled in by
 * cmake/embed_profiles.cmake (build/generated/builtin_profiles_data.c).  builtin.c is the only
 * reader; the public API is vx_builtin_profile_*() and vx_profile_builtin() in arch.h.
 */
#ifndef VXSAVE_ARCH_BUILTIN_PROFILES_H
#define VXSAVE_ARCH_BUILTIN_PROFILES_H

/* One built-in profile: its file name without ".cpuid", and the file's text. */
struct vx_builtin_profile_text {
	const char *name;
	const char *text;
};

/* Sorted by file name and followed by a {NULL, NULL} entry (so the array is never empty). */
extern const struct vx_builtin_profile_text vx_builtin_profile_table[];
/* Number of profiles in the table, not counting the terminating entry. */
extern const unsigned vx_builtin_profile_table_size;

#endif
