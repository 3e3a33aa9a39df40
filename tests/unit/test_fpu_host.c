/* SPDX-License-Identifier: MIT */
/*
 * Differential test against this machine's kernel: the model booted on the live host profile
 * (vx_profile_from_host) must print the same `x86/fpu:` lines as the kernel's own boot log, in
 * the same order, and report the same context size; and the kernel's "signal: max sigframe
 * size" line must equal AT_MINSIGSTKSZ.  The kernel log is read with syslog(2) (what dmesg
 * does).  Exits 77 with the reason when the log is unreadable (dmesg_restrict) or no longer
 * holds the boot lines, so ctest shows the test as skipped, never as passed.
 */
#define _GNU_SOURCE /* klogctl(), getauxval() */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__) && defined(__x86_64__)
#include <sys/auxv.h>
#include <sys/klog.h>
#define HOST_LINUX_X86_64 1
#else
#define HOST_LINUX_X86_64 0
#endif

#include <vxsave/fpu.h>

#define SKIP			  77
#define SYSLOG_ACTION_READ_ALL	  3
#define SYSLOG_ACTION_SIZE_BUFFER 10
#define MAX_LINES		  64

struct kernel_lines {
	char *buffer;
	const char *fpu[MAX_LINES];
	unsigned fpu_count;
	unsigned long max_sigframe;
};

#if HOST_LINUX_X86_64
/* "<6>[    0.322393] x86/fpu: ..." -> "x86/fpu: ..." (priority and timestamp dropped). */
static char *strip_prefixes(char *line)
{
	if (line[0] == '<') {
		char *end = strchr(line, '>');

		if (end)
			line = end + 1;
	}
	if (line[0] == '[') {
		char *end = strchr(line, ']');

		if (end)
			line = end + 1 + (end[1] == ' ');
	}
	return line;
}

static void collect(struct kernel_lines *k)
{
	for (char *save = NULL, *line = strtok_r(k->buffer, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		line = strip_prefixes(line);
		if (strncmp(line, "x86/fpu: ", 9) == 0 && k->fpu_count < MAX_LINES)
			k->fpu[k->fpu_count++] = line;
		/* NOLINTNEXTLINE(cert-err34-c): as above, the comparison after is the check */
		sscanf(line, "signal: max sigframe size: %lu", &k->max_sigframe);
	}
}

/* The kernel log, or the reason it cannot be read (returned as a skip message). */
static const char *read_kernel_log(struct kernel_lines *k)
{
	int size = klogctl(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0), length;

	if (size <= 0)
		return "cannot size the kernel log (syslog(2) SIZE_BUFFER failed)";
	k->buffer = malloc((size_t)size + 1);
	if (!k->buffer)
		return "out of memory";
	length = klogctl(SYSLOG_ACTION_READ_ALL, k->buffer, size);
	if (length < 0)
		return errno == EPERM ? "the kernel log is not readable (kernel.dmesg_restrict=1; "
					"run as root or with CAP_SYSLOG)"
				      : "syslog(2) READ_ALL failed";
	k->buffer[length] = '\0';
	collect(k);
	if (k->fpu_count == 0)
		return "the kernel log holds no x86/fpu lines (the boot messages were overwritten)";
	return NULL;
}

static int compare_lines(const struct vx_fpu_system *sys, const struct kernel_lines *k)
{
	unsigned model = vx_fpu_boot_log_count(sys);
	int failures = 0;

	for (unsigned i = 0; i < model || i < k->fpu_count; i++) {
		const char *mine = i < model ? vx_fpu_boot_log_line(sys, i)->text : "(none)";
		const char *theirs = i < k->fpu_count ? k->fpu[i] : "(none)";

		if (strcmp(mine, theirs) == 0) {
			printf("  same    %s\n", mine);
			continue;
		}
		printf("  DIFFERS model:  %s\n          kernel: %s\n", mine, theirs);
		failures++;
	}
	return failures;
}

/* "context size is N bytes" of the kernel's Enabled line. */
static unsigned kernel_context_size(const struct kernel_lines *k)
{
	unsigned size = 0;

	for (unsigned i = 0; i < k->fpu_count; i++) {
		const char *at = strstr(k->fpu[i], "context size is ");

		/* A number out of range fails the comparison after: no check needed here. */
		if (at)
			sscanf(at, "context size is %u", &size); /* NOLINT(cert-err34-c) */
	}
	return size;
}

static int run(void)
{
	struct kernel_lines k = {0};
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_system *sys;
	struct vx_profile host;
	const char *why = read_kernel_log(&k);
	int failures;

	if (why) {
		printf("SKIP: %s\n", why);
		free(k.buffer);
		return SKIP;
	}
	if (vx_profile_from_host(&host, &err) != 0 ||
	    vx_fpu_system_create(&host, NULL, &sys, &err) != 0) {
		printf("FAIL: cannot boot the model on the host: %s\n", err.reason);
		free(k.buffer);
		return 1;
	}
	printf("model (guest-only design, live host profile) vs this kernel's boot log:\n");
	failures = compare_lines(sys, &k);
	if (kernel_context_size(&k) != vx_fpu_kernel_cfg(sys)->max_size) {
		printf("FAIL: kernel context size %u, model fpu_kernel_cfg.max_size %u\n",
		       kernel_context_size(&k), vx_fpu_kernel_cfg(sys)->max_size);
		failures++;
	}
	if (k.max_sigframe && k.max_sigframe != getauxval(AT_MINSIGSTKSZ)) {
		printf("FAIL: max sigframe size %lu != AT_MINSIGSTKSZ %lu\n", k.max_sigframe,
		       getauxval(AT_MINSIGSTKSZ));
		failures++;
	}
	printf("%d difference(s); context size %u; AT_MINSIGSTKSZ %lu\n", failures,
	       vx_fpu_kernel_cfg(sys)->max_size, getauxval(AT_MINSIGSTKSZ));
	vx_fpu_system_destroy(sys);
	free(k.buffer);
	return failures ? 1 : 0;
}
#endif

int main(void)
{
#if HOST_LINUX_X86_64
	return run();
#else
	printf("SKIP: not Linux on x86-64: no kernel FPU boot log to compare with\n");
	return SKIP;
#endif
}
