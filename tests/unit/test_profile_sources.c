/* SPDX-License-Identifier: MIT */
/*
 * Profile sources and diagnostics: the live host against Debian's `cpuid -r` (the external
 * reference), the dump parser on a real fixture and on a corpus of malformed dumps, the
 * built-in profiles, and vx_profile_diagnose() on good and deliberately broken profiles.
 */
#define _GNU_SOURCE /* sched_setaffinity, popen */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include <vxsave/arch.h>

#define FIXTURE_ZEN5  VXSAVE_FIXTURE_DIR "/cpuid/host-amd-zen5-kvm.txt"
#define MALFORMED_DIR VXSAVE_FIXTURE_DIR "/cpuid/malformed/"
#define DUMP_MAX      (1u << 20)
#define DIAG_MAX      64

/* Read a whole file; the caller frees.  Fails the test if it cannot. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(DUMP_MAX);

	if (!f)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	assert_non_null(buf);
	/* fail_msg() does not return (cmocka longjmps), which cppcheck cannot see. */
	/* cppcheck-suppress nullPointerRedundantCheck */
	*len = fread(buf, 1, DUMP_MAX, f);
	assert_true(*len < DUMP_MAX);
	/* cppcheck-suppress nullPointerRedundantCheck */
	fclose(f);
	return buf;
}

/* Read everything a command prints on stdout; NULL if it cannot be started. */
static char *run_command(const char *command, size_t *len)
{
	FILE *pipe = popen(command, "r"); /* NOLINT(cert-env33-c): the test runs cpuid(1) */
	char *buf;

	if (!pipe)
		return NULL;
	buf = malloc(DUMP_MAX);
	assert_non_null(buf);
	*len = fread(buf, 1, DUMP_MAX, pipe);
	if (pclose(pipe) != 0 || *len == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void print_vx_error(const char *what, const struct vx_error *err)
{
	print_message("%s: %s (line %u)\n", what, err->reason, err->line);
}

/* ----------------------------------------------------------------------------------------- */
/* (a) the live host against `cpuid -r`                                                      */

/* Pin to the first CPU we may run on, so this process and `cpuid -r -1` see the same CPU. */
static void pin_to_one_cpu(void)
{
	cpu_set_t allowed, one;

	assert_int_equal(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
		return;
	}
	fail_msg("no CPU in the affinity mask");
}

/*
 * The cpuid tool prints only the 0xD sub-leaves whose bit is in a mask; a sub-leaf outside
 * both masks that the CPU still fills (nested VMs do) is the tool's omission, not ours.
 */
static bool tool_omits(const struct vx_profile *host, uint32_t leaf, uint32_t subleaf,
		       const struct vx_profile *dump)
{
	uint64_t masks = vx_profile_xcr0_supported(host) | vx_profile_xss_supported(host);
	struct vx_cpuid_regs d = vx_profile_leaf(dump, leaf, subleaf);

	return leaf == 0xD && subleaf >= 2 && subleaf < 64 && !(masks & VX_BIT(subleaf)) &&
	       (d.eax | d.ebx | d.ecx | d.edx) == 0;
}

static struct vx_cpuid_regs leaf_without_apic_id(const struct vx_profile *p, uint32_t leaf,
						 uint32_t subleaf)
{
	struct vx_cpuid_regs r = vx_profile_leaf(p, leaf, subleaf);

	if (leaf == 1)
		r.ebx &= 0x00ffffffu; /* initial APIC ID: differs per logical CPU */
	return r;
}

static void compare_with_tool(const struct vx_profile *host, const struct vx_profile *dump)
{
	unsigned real_differences = 0;
	uint32_t leaf, subleaf;

	if (vx_profile_compare(host, dump, NULL) == 0)
		return;
	for (unsigned slot = 0; vx_profile_slot_leaf(slot, &leaf, &subleaf); slot++) {
		struct vx_cpuid_regs a = leaf_without_apic_id(host, leaf, subleaf);
		struct vx_cpuid_regs b = leaf_without_apic_id(dump, leaf, subleaf);

		if (memcmp(&a, &b, sizeof(a)) == 0)
			continue;
		if (tool_omits(host, leaf, subleaf, dump)) {
			print_message("note: cpuid -r does not print 0x%x.%u (not in any mask)\n",
				      leaf, subleaf);
			continue;
		}
		print_message("host and cpuid -r differ at 0x%x.%u: %08x %08x %08x %08x vs "
			      "%08x %08x %08x %08x\n",
			      leaf, subleaf, a.eax, a.ebx, a.ecx, a.edx, b.eax, b.ebx, b.ecx,
			      b.edx);
		real_differences++;
	}
	assert_int_equal(real_differences, 0);
}

static void test_host_matches_cpuid_tool(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile host, dump;
	uint64_t xcr0 = 0;
	char *text;
	size_t len = 0;
	int ret;

	(void)state;
	pin_to_one_cpu();
	ret = vx_profile_from_host(&host, &err);
	if (ret == -ENOTSUP) {
		print_message("skipped: not an x86-64 build (%s)\n", err.reason);
		skip();
	}
	assert_int_equal(ret, 0);
	assert_string_equal(host.name, "host");
	assert_string_equal(host.source, "live CPUID on this machine");
	assert_true(host.description[0] != '\0');
	print_message("host: %s, XCR0 0x%llx, XSS (inferred) 0x%llx, MXCSR_MASK 0x%x\n",
		      host.description, (unsigned long long)host.xcr0_at_capture,
		      (unsigned long long)host.xss_at_capture, host.mxcsr_mask);
	assert_int_equal(vx_host_xgetbv(0, &xcr0), 0);
	assert_true(xcr0 == host.xcr0_at_capture);
	assert_int_equal(vx_host_xgetbv(2, &xcr0), -EINVAL);
	vx_error_clear(&err);
	ret = vx_xcr0_check(&host, host.xcr0_at_capture, &err);
	if (ret)
		print_vx_error("host XCR0 refused", &err);
	assert_int_equal(ret, 0);
	assert_int_not_equal(host.mxcsr_mask & 0xffbf, 0); /* FXSAVE wrote something sane */

	/* NOLINTNEXTLINE(cert-env33-c): is the cpuid(1) the test compares with installed? */
	if (system("command -v cpuid >/dev/null 2>&1") != 0) {
		print_message("skipped: cpuid tool not installed\n");
		skip();
	}
	text = run_command("cpuid -r -1 2>/dev/null", &len);
	assert_non_null(text);
	vx_error_clear(&err);
	ret = vx_profile_parse_cpuid_dump(&dump, text, len, 0, &err);
	if (ret)
		print_vx_error("cpuid -r -1 output refused", &err);
	assert_int_equal(ret, 0);
	compare_with_tool(&host, &dump);
	free(text);
}

/* A fake CPUID that serves a profile, with junk above the maximum leaves like a real CPU. */
struct fake_cpu {
	const struct vx_profile *profile;
	uint32_t highest_basic;
};

static void fake_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, struct vx_cpuid_regs *out)
{
	static const struct vx_cpuid_regs junk = {0xdead, 0xbeef, 0xdead, 0xbeef};
	struct fake_cpu *cpu = ctx;
	const struct vx_profile *p = cpu->profile;
	uint32_t max = leaf < 0x80000000u ? p->leaves[vx_profile_slot(0, 0)].eax
					  : p->leaves[vx_profile_slot(0x80000000u, 0)].eax;
	int slot = vx_profile_slot(leaf, subleaf);

	if (leaf < 0x80000000u && leaf > cpu->highest_basic)
		cpu->highest_basic = leaf;
	*out = (leaf > max || slot < 0) ? junk : p->leaves[slot];
}

static void test_from_cpuid_respects_max_leaf(void **state)
{
	struct vx_profile skx, copy;
	struct fake_cpu cpu = {&skx, 0};
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile_difference diff;

	(void)state;
	/* Skylake-SP's leaf 0 EAX is 0x16: 0x1D and 0x1E must be neither asked for nor kept. */
	assert_int_equal(vx_profile_builtin(&skx, "skylake-server", &err), 0);
	assert_int_equal(vx_profile_from_cpuid(&copy, fake_cpuid, &cpu, &err), 0);
	assert_true(cpu.highest_basic <= vx_profile_leaf(&skx, 0, 0).eax);
	assert_int_equal(copy.leaves[vx_profile_slot(0x1D, 0)].eax, 0);
	assert_int_equal(copy.leaves[vx_profile_slot(0x1E, 1)].ebx, 0);
	assert_int_equal(vx_profile_compare(&copy, &skx, &diff), 0);
	assert_memory_equal(copy.leaves, skx.leaves, sizeof(copy.leaves));
	assert_int_equal(vx_profile_from_cpuid(&copy, NULL, NULL, &err), -EINVAL);
}

/* ----------------------------------------------------------------------------------------- */
/* (b) the real fixture                                                                       */

static void test_fixture_parses(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile cpu0, cpu1, before;
	size_t len;
	char *text = read_file(FIXTURE_ZEN5, &len);

	(void)state;
	assert_int_equal(vx_profile_parse_cpuid_dump(&cpu0, text, len, 0, &err), 0);
	assert_int_equal(vx_profile_parse_cpuid_dump(&cpu1, text, len, 1, &err), 0);
	assert_int_equal(vx_profile_vendor(&cpu0), VX_VENDOR_AMD);
	assert_true(vx_profile_xcr0_supported(&cpu0) == 0xe7);
	assert_true(vx_profile_xss_supported(&cpu0) == 0x1800);
	assert_int_equal(vx_profile_leaf(&cpu0, 0xD, 1).ebx, 0x9a8);
	/* The two logical CPUs differ only in their APIC IDs, which compare ignores. */
	assert_int_not_equal(vx_profile_leaf(&cpu0, 1, 0).ebx, vx_profile_leaf(&cpu1, 1, 0).ebx);
	assert_int_equal(vx_profile_compare(&cpu0, &cpu1, NULL), 0);

	memset(&before, 0x5a, sizeof(before));
	cpu1 = before;
	assert_int_equal(vx_profile_parse_cpuid_dump(&cpu1, text, len, 2, &err), -ENOENT);
	assert_int_equal(err.code, -ENOENT);
	assert_non_null(strstr(err.reason, "2 CPU blocks"));
	assert_memory_equal(&cpu1, &before, sizeof(before));
	free(text);
}

/* CRLF, trailing blanks, comments, metadata, several source lines, `cpuid -r -1` header. */
static void test_dump_extensions(void **state)
{
	static const char text[] =
	    "# name: crlf-test  \r\n"
	    "# description: a test profile\r\n"
	    "# source: first part\r\n"
	    "#source:second part\r\n"
	    "# just a remark: not a key we know\r\n"
	    "# xcr0: 0x207\r\n"
	    "# xss: 2048\r\n"
	    "# mxcsr-mask: 0x0000ffbf\r\n"
	    "\r\n"
	    "CPU:   \r\n"
	    "   0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69 \r\n"
	    "\t0x00000004 0x00: eax=0x1 ebx=0x2 ecx=0x3 edx=0x4\r\n"
	    "   0x0000000d 0x00: eax=0x00000207 ebx=0x00000a88 ecx=0x00000A88 edx=0x00000000\r\n";
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;

	(void)state;
	assert_int_equal(vx_profile_parse_cpuid_dump(&p, text, sizeof(text) - 1, 0, &err), 0);
	assert_string_equal(p.name, "crlf-test");
	assert_string_equal(p.description, "a test profile");
	assert_string_equal(p.source, "first part second part");
	assert_true(p.xcr0_at_capture == 0x207);
	assert_true(p.xss_at_capture == 0x800);
	assert_int_equal(p.mxcsr_mask, 0xffbf);
	assert_int_equal(vx_profile_vendor(&p), VX_VENDOR_INTEL);
	assert_int_equal(vx_profile_leaf(&p, 0xD, 0).ecx, 0xa88);
	/* NULL text with a length is refused; with length 0 it is just empty. */
	assert_int_equal(vx_profile_parse_cpuid_dump(&p, NULL, 5, 0, &err), -EINVAL);
	assert_int_equal(vx_profile_parse_cpuid_dump(&p, NULL, 0, 0, &err), -EINVAL);
}

/* ----------------------------------------------------------------------------------------- */
/* (c) malformed dumps                                                                        */

struct malformed_case {
	const char *file;
	unsigned cpu_index;
	int code;
	unsigned line;
	const char *reason_contains;
};

static const struct malformed_case malformed_cases[] = {
    {"leaf-before-header.txt", 0, -EINVAL, 3, "before any"},
    {"bad-hex-digit.txt", 0, -EINVAL, 5, "not a hex digit"},
    {"missing-register.txt", 0, -EINVAL, 6, "missing register edx"},
    {"register-out-of-order.txt", 0, -EINVAL, 5, "expected 'eax='"},
    {"duplicate-leaf.txt", 0, -EINVAL, 9, "first on line 7"},
    {"nine-hex-digits.txt", 0, -EINVAL, 6, "at most 8"},
    {"garbage-line.txt", 0, -EINVAL, 5, "unexpected text"},
    {"trailing-text.txt", 0, -EINVAL, 5, "after edx"},
    {"missing-0x-prefix.txt", 0, -EINVAL, 5, "malformed hex leaf"},
    {"missing-colon.txt", 0, -EINVAL, 5, "expected ':'"},
    {"empty.txt", 0, -EINVAL, 0, "no leaf lines"},
    {"comments-only.txt", 0, -EINVAL, 0, "no leaf lines"},
    {"headers-without-leaves.txt", 0, -EINVAL, 3, "CPU block 0 has no leaf lines"},
    {"headers-without-leaves.txt", 5, -ENOENT, 0, "2 CPU blocks"},
    {"bad-cpu-header.txt", 0, -EINVAL, 3, "malformed CPU header"},
    {"nul-byte.txt", 0, -EINVAL, 4, "NUL byte"},
    {"line-too-long.txt", 0, -EINVAL, 5, "limit is 4096"},
    {"bad-xcr0.txt", 0, -EINVAL, 3, "not a number"},
    {"mxcsr-mask-too-wide.txt", 0, -EINVAL, 3, "below 2^32"},
    {"duplicate-name.txt", 0, -EINVAL, 3, "second '# name:'"},
    {"name-too-long.txt", 0, -EINVAL, 1, "at most 63"},
    {"crlf-bad-hex.txt", 0, -EINVAL, 5, "not a hex digit"},
};

static void check_malformed(const struct malformed_case *c)
{
	char path[512], expect_line[32];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile profile, before;
	size_t len;
	char *text;
	int ret;

	snprintf(path, sizeof(path), "%s%s", MALFORMED_DIR, c->file);
	text = read_file(path, &len);
	/* A profile full of a pattern: a failing parse must leave every byte of it alone. */
	memset(&before, 0xa5, sizeof(before));
	profile = before;
	ret = vx_profile_parse_cpuid_dump(&profile, text, len, c->cpu_index, &err);
	print_message("%-28s -> %s: %s\n", c->file, vx_errno_name(ret), err.reason);
	assert_int_equal(ret, c->code);
	assert_int_equal(err.code, c->code);
	assert_int_equal(err.line, c->line);
	if (!strstr(err.reason, c->reason_contains))
		fail_msg("%s: reason '%s' lacks '%s'", c->file, err.reason, c->reason_contains);
	snprintf(expect_line, sizeof(expect_line), "line %u:", c->line);
	if (c->line && strncmp(err.reason, expect_line, strlen(expect_line)) != 0)
		fail_msg("%s: reason '%s' does not start with '%s'", c->file, err.reason,
			 expect_line);
	assert_memory_equal(&profile, &before, sizeof(before));
	free(text);
}

static void test_malformed_corpus(void **state)
{
	size_t count = sizeof(malformed_cases) / sizeof(malformed_cases[0]);
	DIR *dir = opendir(MALFORMED_DIR);
	struct dirent *entry;

	(void)state;
	assert_true(count >= 12);
	for (size_t i = 0; i < count; i++)
		check_malformed(&malformed_cases[i]);
	/* Every file in the corpus has a row in the table. */
	assert_non_null(dir);
	while ((entry = readdir(dir)) != NULL) {
		bool listed = false;

		if (entry->d_name[0] == '.')
			continue;
		for (size_t i = 0; i < count; i++)
			listed |= strcmp(entry->d_name, malformed_cases[i].file) == 0;
		if (!listed)
			fail_msg("%s%s has no expected error in the table", MALFORMED_DIR,
				 entry->d_name);
	}
	closedir(dir);
}

/* ----------------------------------------------------------------------------------------- */
/* (d) built-in profiles                                                                      */

static unsigned count_profile_files(void)
{
	DIR *dir = opendir(VXSAVE_SOURCE_DIR "/profiles");
	struct dirent *entry;
	unsigned count = 0;

	assert_non_null(dir);
	while ((entry = readdir(dir)) != NULL) {
		size_t len = strlen(entry->d_name);

		count += len > 6 && strcmp(entry->d_name + len - 6, ".cpuid") == 0;
	}
	closedir(dir);
	return count;
}

static void test_builtin_profiles(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p, q;
	unsigned count = vx_builtin_profile_count();

	(void)state;
	assert_int_equal(count, count_profile_files());
	assert_true(count >= 6);
	assert_null(vx_builtin_profile_name(count));
	for (unsigned i = 0; i < count; i++) {
		const char *name = vx_builtin_profile_name(i);
		const char *text = vx_builtin_profile_text(name);
		int ret = vx_profile_builtin(&p, name, &err);

		if (ret)
			print_vx_error(name, &err);
		assert_int_equal(ret, 0);
		assert_string_equal(p.name, name);
		assert_true(p.source[0] != '\0');
		assert_true(p.description[0] != '\0');
		assert_non_null(text);
		assert_int_equal(vx_profile_parse_cpuid_dump(&q, text, strlen(text), 0, &err), 0);
		assert_memory_equal(&p, &q, sizeof(p));
	}
	assert_int_equal(vx_profile_builtin(&p, NULL, &err), 0);
	assert_string_equal(p.name, VX_DEFAULT_PROFILE);
	q = p;
	assert_int_equal(vx_profile_builtin(&p, "no-such-cpu", &err), -ENOENT);
	assert_non_null(strstr(err.reason, "sapphire-rapids"));
	assert_memory_equal(&p, &q, sizeof(p));
	assert_null(vx_builtin_profile_text("no-such-cpu"));
	assert_null(vx_builtin_profile_text(NULL));
}

/* ----------------------------------------------------------------------------------------- */
/* (e) diagnostics                                                                            */

static unsigned diagnose(const struct vx_profile *p, struct vx_diagnostic *out)
{
	unsigned count = vx_profile_diagnose(p, out, DIAG_MAX);

	assert_true(count <= DIAG_MAX);
	for (unsigned i = 0; i < count; i++)
		print_message("  %s: %s 0x%x.%u component %d: %s\n", p->name,
			      vx_diag_severity_name(out[i].severity), out[i].leaf, out[i].subleaf,
			      out[i].component, out[i].message);
	return count;
}

/* Find a diagnostic about @component (-1: any) whose message holds @text; copy it to @hit. */
static bool find_diag(const struct vx_diagnostic *d, unsigned count, int component,
		      const char *text, enum vx_diag_severity at_least, struct vx_diagnostic *hit)
{
	for (unsigned i = 0; i < count; i++) {
		if ((component < 0 || d[i].component == component) && d[i].severity >= at_least &&
		    strstr(d[i].message, text)) {
			if (hit)
				*hit = d[i];
			return true;
		}
	}
	return false;
}

static void load(struct vx_profile *p, const char *name)
{
	struct vx_error err = VX_ERROR_INIT;

	assert_int_equal(vx_profile_builtin(p, name, &err), 0);
}

static void test_diagnose_nested_amx_hidden(void **state)
{
	struct vx_diagnostic d[DIAG_MAX];
	struct vx_profile p;
	unsigned count;

	(void)state;
	load(&p, "nested-amx-hidden");
	count = diagnose(&p, d);
	for (int comp = VX_COMP_XTILECFG; comp <= VX_COMP_XTILEDATA; comp++) {
		struct vx_diagnostic hit;

		assert_true(find_diag(d, count, comp, "neither", VX_DIAG_WARNING, &hit));
		assert_int_equal(hit.leaf, 0xD);
		assert_int_equal(hit.subleaf, (unsigned)comp);
		assert_non_null(strstr(hit.message, "§1.4"));
	}
	assert_true(find_diag(d, count, -1, "ECX=11008", VX_DIAG_ERROR, NULL));
	assert_true(find_diag(d, count, VX_COMP_XTILEDATA, "XFD", VX_DIAG_WARNING, NULL));
	/* Asking for fewer still counts them all. */
	assert_int_equal(vx_profile_diagnose(&p, d, 1), count);
	assert_int_equal(vx_profile_diagnose(&p, NULL, 0), count);
}

static void test_diagnose_real_cpus_clean(void **state)
{
	static const char *const names[] = {"sapphire-rapids", "skylake-server", "zen4",
					    "alder-lake", "future-intel-apx"};
	struct vx_diagnostic d[DIAG_MAX];
	struct vx_profile p;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		unsigned count;

		load(&p, names[i]);
		count = diagnose(&p, d);
		for (unsigned k = 0; k < count; k++)
			assert_int_not_equal(d[k].severity, VX_DIAG_ERROR);
	}
}

static void set_leaf(struct vx_profile *p, uint32_t leaf, uint32_t subleaf, uint32_t eax,
		     uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	struct vx_cpuid_regs r = {eax, ebx, ecx, edx};

	assert_int_equal(vx_profile_set_leaf(p, leaf, subleaf, &r), 0);
}

/* APX (component 19) reuses MPX's bytes 960..1087: both supported at once is an error. */
static void test_diagnose_apx_mpx_overlap(void **state)
{
	struct vx_diagnostic d[DIAG_MAX], hit;
	struct vx_profile p;
	struct vx_cpuid_regs r;
	unsigned count;

	(void)state;
	load(&p, "future-intel-apx");
	r = vx_profile_leaf(&p, 0xD, 0);
	set_leaf(&p, 0xD, 0, r.eax | 0x18, r.ebx, r.ecx, r.edx);
	set_leaf(&p, 0xD, 3, 64, 960, 0, 0);
	set_leaf(&p, 0xD, 4, 64, 1024, 0, 0);
	r = vx_profile_leaf(&p, 7, 0);
	set_leaf(&p, 7, 0, r.eax, r.ebx | (1u << 14), r.ecx, r.edx); /* MPX */
	p.xcr0_at_capture = 0;
	count = diagnose(&p, d);
	assert_true(find_diag(d, count, VX_COMP_APX, "overlap", VX_DIAG_ERROR, &hit));
	assert_non_null(strstr(hit.message, "BNDREGS"));
	assert_non_null(strstr(hit.message, "APX"));
}

static void test_diagnose_wrong_max_size(void **state)
{
	struct vx_diagnostic d[DIAG_MAX], hit;
	struct vx_profile p;
	struct vx_cpuid_regs r;
	unsigned count;

	(void)state;
	load(&p, "sapphire-rapids");
	r = vx_profile_leaf(&p, 0xD, 0);
	set_leaf(&p, 0xD, 0, r.eax, r.ebx, 10000, r.edx);
	count = diagnose(&p, d);
	assert_true(find_diag(d, count, -1, "ECX=10000", VX_DIAG_ERROR, &hit));
	assert_int_equal(hit.leaf, 0xD);
	assert_int_equal(hit.subleaf, 0);
	assert_non_null(strstr(hit.message, "11008"));
}

/* A wrong recorded XCR0 and a wrong supervisor size are caught too. */
static void test_diagnose_more_mistakes(void **state)
{
	struct vx_diagnostic d[DIAG_MAX];
	struct vx_profile p;
	struct vx_cpuid_regs r;
	unsigned count;

	(void)state;
	load(&p, "sapphire-rapids");
	p.xcr0_at_capture = 0x2e7; /* EBX says 0x602e7 */
	r = vx_profile_leaf(&p, 0xD, VX_COMP_CET_S);
	set_leaf(&p, 0xD, VX_COMP_CET_S, 32, r.ebx, r.ecx, r.edx);
	count = diagnose(&p, d);
	assert_true(find_diag(d, count, -1, "0xD.0 EBX=11008", VX_DIAG_ERROR, NULL));
	assert_true(find_diag(d, count, VX_COMP_CET_S, "architecturally", VX_DIAG_ERROR, NULL));
	assert_string_equal(vx_diag_severity_name(VX_DIAG_NOTE), "note");
	assert_string_equal(vx_diag_severity_name(VX_DIAG_WARNING), "warning");
	assert_string_equal(vx_diag_severity_name(VX_DIAG_ERROR), "error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_matches_cpuid_tool),
	    cmocka_unit_test(test_from_cpuid_respects_max_leaf),
	    cmocka_unit_test(test_fixture_parses),
	    cmocka_unit_test(test_dump_extensions),
	    cmocka_unit_test(test_malformed_corpus),
	    cmocka_unit_test(test_builtin_profiles),
	    cmocka_unit_test(test_diagnose_nested_amx_hidden),
	    cmocka_unit_test(test_diagnose_real_cpus_clean),
	    cmocka_unit_test(test_diagnose_apx_mpx_overlap),
	    cmocka_unit_test(test_diagnose_wrong_max_size),
	    cmocka_unit_test(test_diagnose_more_mistakes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
