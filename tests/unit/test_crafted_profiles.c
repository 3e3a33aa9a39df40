/* SPDX-License-Identifier: MIT */
/*
 * Crafted leaf 0xD (docs/profiles.md "Bounds"): a corpus of variants of built-in profiles, each
 * with one register of 0xD.0, 0xD.1 or a component sub-leaf set to 0, 1, 0xffffffff or an edge
 * value (0xfffffffc, 0x80000000, 1 MiB, offsets at and just past 0xD.0 ECX, sizes that are not
 * a multiple of 8...).  Every variant either
 *
 *  - is refused: vx_profile_check_xsave_leaves(), vx_layout_compute() and vx_cpu_create() all
 *    return -EINVAL with the same reason, which names the leaf, sub-leaf and register
 *    ("CPUID.(0xD,0x12).EAX = ..."), and vx_profile_diagnose() reports it as an error; or
 *  - loads, and then its layouts are consistent (the compacted size covers every component's
 *    offset + size, the standard size every user component's and stays within 0xD.0 ECX), and
 *    a model processor saves and restores everything with XSAVE/XSAVEOPT/XSAVEC/XSAVES/XRSTOR/
 *    XRSTORS into an area exactly as large as the layout says (ASan checks every byte), faults
 *    with #PF on an area one byte short, dumps and copies itself.
 *
 * The corpus is enumerated, not random: the same variants every run.
 */
/* cmocka.h needs these four first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/arch.h>
#include <vxsave/cpu.h>

#define DIAG_MAX   256
#define VALUES_MAX 32
#define BASE       UINT64_C(0x7f0000000000)
#define B(n)       (UINT64_C(1) << (n))
#define LEGACY     (B(0) | B(1))

static unsigned failures;
static unsigned refused, loaded;

#define CHECK(cond, name, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			print_error("%s:%d: %s: ", __FILE__, __LINE__, (name));                    \
			print_error(__VA_ARGS__);                                                  \
			print_error("\n");                                                         \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static const char *const reg_names[] = {"EAX", "EBX", "ECX", "EDX"};

static uint32_t get_reg(const struct vx_cpuid_regs *r, int reg)
{
	const uint32_t v[] = {r->eax, r->ebx, r->ecx, r->edx};

	return v[reg];
}

static void set_reg(struct vx_cpuid_regs *r, int reg, uint32_t value)
{
	uint32_t *v[] = {&r->eax, &r->ebx, &r->ecx, &r->edx};

	*v[reg] = value;
}

/* ----------------------------------------------------------------------------------------- */
/* refused variants                                                                            */

/* "CPUID.(0xD,<sub-leaf>).<register>" at the start of the reason. */
static bool names_register(const char *reason)
{
	const char *p = reason;

	if (strncmp(p, "CPUID.(0xD,", 11) != 0)
		return false;
	p = strchr(p, ')');
	return p && p[1] == '.' && p[2] == 'E' && strchr("ABCD", p[3]) && p[4] == 'X';
}

static void check_refused(const struct vx_profile *p, const struct vx_error *why,
			  const struct vx_diagnostic *d, unsigned count, const char *name)
{
	uint64_t all = vx_profile_xcr0_supported(p) | vx_profile_xss_supported(p);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cpu *cpu = NULL;
	struct vx_layout layout;
	bool reported = false;

	refused++;
	CHECK(names_register(why->reason), name, "reason does not name the register: %s",
	      why->reason);
	for (unsigned i = 0; i < count && i < DIAG_MAX; i++)
		if (d[i].severity == VX_DIAG_ERROR && d[i].leaf == 0xD &&
		    strcmp(d[i].message, why->reason) == 0)
			reported = true;
	CHECK(reported, name, "vx_profile_diagnose() does not report '%s'", why->reason);
	CHECK(vx_layout_compute(p, all, &layout, &err) == -EINVAL, name,
	      "vx_layout_compute() accepted the profile");
	CHECK(strcmp(err.reason, why->reason) == 0, name, "layout refused with '%s'", err.reason);
	vx_error_clear(&err);
	CHECK(vx_cpu_create(p, NULL, &cpu, &err) == -EINVAL && cpu == NULL, name,
	      "vx_cpu_create() accepted the profile");
	CHECK(strcmp(err.reason, why->reason) == 0, name, "cpu refused with '%s'", err.reason);
	vx_cpu_destroy(cpu);
}

/* ----------------------------------------------------------------------------------------- */
/* loaded variants: layouts                                                                    */

static void check_layout(const struct vx_profile *p, uint64_t features, const char *name)
{
	uint32_t max_standard = vx_profile_leaf(p, 0xD, 0).ecx;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_layout l;
	uint64_t previous_end = VX_EXTENDED_OFFSET;

	if (vx_layout_compute(p, features, &l, &err) != 0) {
		CHECK(false, name, "layout of 0x%llx refused: %s", (unsigned long long)features,
		      err.reason);
		return;
	}
	for (unsigned i = 0; i < l.count; i++) {
		const struct vx_layout_entry *e = &l.entries[i];
		uint64_t compacted_end = (uint64_t)e->compacted_offset + e->size;
		uint64_t standard_end = (uint64_t)e->standard_offset + e->size;

		if (e->component < 2)
			continue;
		CHECK(e->compacted_offset >= previous_end, name,
		      "component %u at compacted offset %u overlaps the one before (end %llu)",
		      e->component, e->compacted_offset, (unsigned long long)previous_end);
		CHECK(compacted_end <= l.compacted_size, name,
		      "component %u ends at %llu past the compacted size %u", e->component,
		      (unsigned long long)compacted_end, l.compacted_size);
		CHECK(vx_compacted_offset(p, features, e->component) == e->compacted_offset, name,
		      "vx_compacted_offset(%u) disagrees", e->component);
		previous_end = compacted_end;
		if (!e->in_standard)
			continue;
		CHECK(e->standard_offset >= VX_EXTENDED_OFFSET, name,
		      "user component %u at standard offset %u", e->component, e->standard_offset);
		CHECK(standard_end <= l.standard_size, name,
		      "user component %u ends at %llu past the standard size %u", e->component,
		      (unsigned long long)standard_end, l.standard_size);
	}
	CHECK(l.standard_size <= VX_XSAVE_AREA_MAX && l.compacted_size <= VX_XSAVE_AREA_MAX, name,
	      "sizes %u / %u beyond 1 MiB", l.standard_size, l.compacted_size);
	CHECK(l.standard_size == VX_EXTENDED_OFFSET || l.standard_size <= max_standard, name,
	      "standard size %u beyond 0xD.0 ECX = %u", l.standard_size, max_standard);
	CHECK(vx_standard_size(p, features) == l.standard_size, name,
	      "vx_standard_size() %u != layout %u", vx_standard_size(p, features), l.standard_size);
	CHECK(vx_compacted_size(p, features) == l.compacted_size, name,
	      "vx_compacted_size() %u != layout %u", vx_compacted_size(p, features),
	      l.compacted_size);
}

/* ----------------------------------------------------------------------------------------- */
/* loaded variants: a model processor                                                          */

struct area {
	uint8_t *bytes;
	size_t size;
};

/*
 * Exactly @size bytes, so ASan sees one byte past the end.  The model only needs the linear
 * address (BASE) aligned, not the host pointer.
 */
static struct area area_alloc(size_t size)
{
	struct area a = {malloc(size ? size : 1), size};

	if (!a.bytes)
		abort();
	memset(a.bytes, 0, size);
	return a;
}

static int run(struct vx_cpu *cpu, enum vx_insn insn, struct area *a, size_t window,
	       uint64_t mask, struct vx_event *event)
{
	struct vx_memory mem = {a->bytes, window, BASE};

	memset(event, 0, sizeof(*event));
	return vx_cpu_exec(cpu, insn, 0, &mem, BASE, mask, event);
}

/* XCR0: every supported user bit if XSETBV takes it, else the largest simple subset. */
static uint64_t enable_xcr0(struct vx_cpu *cpu, uint64_t supported)
{
	const uint64_t tries[] = {supported, supported & (LEGACY | B(2)), LEGACY, B(0)};
	struct vx_event event;

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if ((tries[i] & supported) == tries[i] && tries[i] &&
		    vx_cpu_xsetbv(cpu, 0, tries[i], &event) == 0)
			return tries[i];
	return vx_cpu_xcr0(cpu);
}

/* Write every fixed-width register of the enabled components with a non-zero pattern. */
static void write_registers(struct vx_cpu *cpu)
{
	uint8_t value[1024];
	struct vx_event event;

	memset(value, 0x5A, sizeof(value));
	for (unsigned i = 0; i < vx_reg_count(); i++) {
		const struct vx_reg_info *reg = vx_reg_at(i);

		/* MXCSR stays valid; opaque registers (PT, LBR) are as large as CPUID says. */
		if (reg->width == 0 || reg->width > sizeof(value) || strcmp(reg->name, "mxcsr") == 0)
			continue;
		(void)vx_cpu_set_reg(cpu, reg, value, reg->width, &event);
	}
}

static void check_cpu(const struct vx_profile *p, const char *name, bool dump)
{
	uint64_t xcr0_supported = vx_profile_xcr0_supported(p);
	uint64_t xss_supported = vx_profile_xss_supported(p);
	bool xsavec = vx_profile_has(p, VX_FEAT_XSAVEC), xsaves = vx_profile_has(p, VX_FEAT_XSAVES);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cpu *cpu = NULL, *copy = NULL;
	uint64_t xcr0, xss = 0;
	struct vx_event event;
	struct area a;
	size_t standard, compacted;
	int rc;

	if (vx_cpu_create(p, NULL, &cpu, &err) != 0) {
		CHECK(false, name, "vx_cpu_create() refused a loadable profile: %s", err.reason);
		return;
	}
	xcr0 = enable_xcr0(cpu, xcr0_supported);
	if (xsaves && xss_supported && vx_cpu_wrmsr(cpu, VX_MSR_IA32_XSS, xss_supported, &event) == 0)
		xss = xss_supported;
	(void)vx_cpu_use(cpu, xcr0, &event);
	write_registers(cpu);

	standard = vx_standard_size(p, xcr0);
	compacted = vx_compacted_size(p, xcr0 | xss);
	a = area_alloc(standard > compacted ? standard : compacted);

	/* Standard format: exactly the standard size is enough, one byte less is a #PF. */
	rc = run(cpu, VX_INSN_XSAVE64, &a, standard, UINT64_MAX, &event);
	CHECK(rc == 0, name, "XSAVE64 into %zu bytes: %d (%s)", standard, rc, event.reason);
	rc = run(cpu, VX_INSN_XRSTOR64, &a, standard, UINT64_MAX, &event);
	CHECK(rc == 0, name, "XRSTOR64 from %zu bytes: %d (%s)", standard, rc, event.reason);
	rc = run(cpu, VX_INSN_XSAVEOPT64, &a, standard, UINT64_MAX, &event);
	CHECK(rc == 0 || !vx_profile_has(p, VX_FEAT_XSAVEOPT), name, "XSAVEOPT64: %d (%s)", rc,
	      event.reason);
	rc = run(cpu, VX_INSN_XSAVE64, &a, standard - 1, UINT64_MAX, &event);
	CHECK(rc == VX_FAULTED && event.vector == VX_VEC_PF, name,
	      "XSAVE64 into %zu bytes (one short): %d, vector %u", standard - 1, rc, event.vector);

	/* Compacted format. */
	if (xsavec) {
		memset(a.bytes, 0, a.size);
		rc = run(cpu, VX_INSN_XSAVEC64, &a, compacted, UINT64_MAX, &event);
		CHECK(rc == 0, name, "XSAVEC64 into %zu bytes: %d (%s)", compacted, rc,
		      event.reason);
		rc = run(cpu, VX_INSN_XRSTOR64, &a, compacted, UINT64_MAX, &event);
		CHECK(rc == 0, name, "compacted XRSTOR64: %d (%s)", rc, event.reason);
	}
	if (xsaves) {
		memset(a.bytes, 0, a.size);
		rc = run(cpu, VX_INSN_XSAVES64, &a, compacted, UINT64_MAX, &event);
		CHECK(rc == 0, name, "XSAVES64 into %zu bytes: %d (%s)", compacted, rc,
		      event.reason);
		/* The CET registers hold a pattern WRMSR would refuse: #GP is an answer too. */
		rc = run(cpu, VX_INSN_XRSTORS64, &a, compacted, UINT64_MAX, &event);
		CHECK(rc == 0 || (rc == VX_FAULTED && event.vector == VX_VEC_GP), name,
		      "XRSTORS64: %d (%s)", rc, event.reason);
	}
	free(a.bytes);

	a = area_alloc(standard);
	CHECK(vx_cpu_to_standard_image(cpu, UINT64_MAX, a.bytes, a.size) == 0, name,
	      "standard image of %zu bytes", standard);
	CHECK(vx_cpu_from_standard_image(cpu, UINT64_MAX, a.bytes, a.size) == 0, name,
	      "load of a standard image of %zu bytes", standard);
	free(a.bytes);

	if (dump) {
		size_t needed = 0;
		char *text;

		CHECK(vx_cpu_dump(cpu, NULL, 0, &needed) == -ENOBUFS, name, "dump size");
		text = malloc(needed + 1);
		CHECK(text && vx_cpu_dump(cpu, text, needed + 1, &needed) == 0, name, "dump");
		free(text);
		CHECK(vx_cpu_create(p, NULL, &copy, &err) == 0, name, "second processor");
		if (copy) {
			char where[128];

			CHECK(vx_cpu_copy(copy, cpu) == 0, name, "copy");
			CHECK(vx_cpu_compare(copy, cpu, UINT64_MAX, where, sizeof(where)) == 0,
			      name, "copy differs: %s", where);
			vx_cpu_destroy(copy);
		}
	}
	vx_cpu_destroy(cpu);
}

/* ----------------------------------------------------------------------------------------- */
/* the corpus                                                                                  */

static void check_variant(const struct vx_profile *p, const char *name, bool dump)
{
	static struct vx_diagnostic d[DIAG_MAX];
	struct vx_error why = VX_ERROR_INIT;
	uint64_t xcr0 = vx_profile_xcr0_supported(p), xss = vx_profile_xss_supported(p);
	unsigned count = vx_profile_diagnose(p, d, DIAG_MAX);

	if (vx_profile_check_xsave_leaves(p, &why) != 0) {
		check_refused(p, &why, d, count, name);
		return;
	}
	loaded++;
	for (unsigned i = 0; i < count && i < DIAG_MAX; i++)
		CHECK(strncmp(d[i].message, "CPUID.(0xD,", 11) != 0, name,
		      "a bound is reported but the profile passed: %s", d[i].message);
	if (!(xcr0 | xss))
		return; /* no XSAVE: nothing to lay out */
	check_layout(p, xcr0 | xss, name);
	check_layout(p, xcr0, name);
	check_layout(p, xcr0 & LEGACY, name);
	check_layout(p, (xcr0 | xss) & ~B(VX_COMP_AVX), name);
	check_cpu(p, name, dump);
}

/* The values one register of one sub-leaf is set to. */
static unsigned values_for(const struct vx_profile *p, uint32_t subleaf, int reg,
			   uint32_t *values)
{
	struct vx_cpuid_regs r = vx_profile_leaf(p, 0xD, subleaf);
	uint32_t ecx0 = vx_profile_leaf(p, 0xD, 0).ecx, original = get_reg(&r, reg);
	const uint32_t fixed[] = {0,	      1,	  2,	      3,	  4,	   6,
				  0xffffffff, 0xfffffffc, 0x80000000, 0x7fffffff, 0xffffffc1,
				  575,	      576,	  VX_XSAVE_AREA_MAX,	  VX_XSAVE_AREA_MAX + 1,
				  VX_XSAVE_AREA_MAX - VX_EXTENDED_OFFSET,
				  VX_XSAVE_AREA_MAX - VX_EXTENDED_OFFSET + 1};
	const uint32_t derived[] = {
		original + 1,	       original + 13, original * 2, ecx0,
		ecx0 - r.eax,	       ecx0 - r.eax + 1, /* an offset that ends at / just past ECX */
		ecx0 - r.ebx,	       ecx0 - r.ebx + 1, /* a size that ends at / just past ECX */
		original | 0x80000000,
	};
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		values[n++] = fixed[i];
	for (size_t i = 0; i < sizeof(derived) / sizeof(derived[0]); i++)
		values[n++] = derived[i];
	/* Drop repeats and the original value. */
	unsigned kept = 0;
	for (unsigned i = 0; i < n; i++) {
		bool seen = values[i] == original;

		for (unsigned k = 0; k < kept && !seen; k++)
			seen = values[k] == values[i];
		if (!seen)
			values[kept++] = values[i];
	}
	return kept;
}

static void run_corpus(const char *base_name)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile base;
	uint64_t kept;
	unsigned variants = 0;

	assert_int_equal(vx_profile_builtin(&base, base_name, &err), 0);
	kept = vx_profile_xcr0_supported(&base) | vx_profile_xss_supported(&base) | LEGACY;
	/* 0xD.0, 0xD.1, every component sub-leaf, and some of the absent ones (3, 4, 19, 62, 63). */
	kept |= B(3) | B(4) | B(19) | B(62) | B(63);
	check_variant(&base, base_name, true);
	for (uint32_t subleaf = 0; subleaf < 64; subleaf++) {
		if (!(kept & B(subleaf)))
			continue;
		for (int reg = 0; reg < 4; reg++) {
			uint32_t values[VALUES_MAX];
			unsigned count = values_for(&base, subleaf, reg, values);

			for (unsigned v = 0; v < count; v++) {
				struct vx_profile p = base;
				struct vx_cpuid_regs r = vx_profile_leaf(&p, 0xD, subleaf);
				char name[96];

				set_reg(&r, reg, values[v]);
				assert_int_equal(vx_profile_set_leaf(&p, 0xD, subleaf, &r), 0);
				snprintf(name, sizeof(name), "%s CPUID.(0xD,0x%x).%s=0x%x", base_name,
					 subleaf, reg_names[reg], values[v]);
				/* The dump and copy are slow under ASan: one variant in eight. */
				check_variant(&p, name, variants++ % 8 == 0);
			}
		}
	}
	print_message("%s: %u variants, %u refused with a named bound, %u loaded\n", base_name,
		      variants, refused, loaded);
}

static void test_corpus_sapphire_rapids(void **state)
{
	(void)state;
	failures = refused = loaded = 0;
	run_corpus("sapphire-rapids");
	assert_true(refused > 0 && loaded > 0);
	assert_int_equal(failures, 0);
}

static void test_corpus_zen4(void **state)
{
	(void)state;
	failures = refused = loaded = 0;
	run_corpus("zen4");
	assert_true(refused > 0 && loaded > 0);
	assert_int_equal(failures, 0);
}

/* ----------------------------------------------------------------------------------------- */
/* the cases of the issue, by name                                                             */

static void load_with(struct vx_profile *p, uint32_t subleaf, int reg, uint32_t value)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cpuid_regs r;

	assert_int_equal(vx_profile_builtin(p, "sapphire-rapids", &err), 0);
	r = vx_profile_leaf(p, 0xD, subleaf);
	set_reg(&r, reg, value);
	assert_int_equal(vx_profile_set_leaf(p, 0xD, subleaf, &r), 0);
}

static void expect_refused(const struct vx_profile *p, const char *start, int component)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_layout layout;
	struct vx_cpu *cpu = NULL;

	assert_int_equal(vx_profile_check_xsave_leaves(p, &err), -EINVAL);
	print_message("refused: %s\n", err.reason);
	assert_non_null(strstr(err.reason, start));
	assert_int_equal(err.component, component);
	vx_error_clear(&err);
	assert_int_equal(vx_layout_compute(p, vx_profile_xcr0_supported(p), &layout, &err),
			 -EINVAL);
	assert_non_null(strstr(err.reason, start));
	assert_int_equal(vx_cpu_create(p, NULL, &cpu, &err), -EINVAL);
	assert_null(cpu);
}

static void test_issue_cases(void **state)
{
	struct vx_profile p;

	(void)state;
	/* A 4 GiB tile (the model used to wrap its placement and memset 4 GiB). */
	load_with(&p, VX_COMP_XTILEDATA, 0, 0xffffffff);
	expect_refused(&p, "CPUID.(0xD,0x12).EAX = 0xffffffff", VX_COMP_XTILEDATA);
	/* 2 GiB: refused, not allocated. */
	load_with(&p, VX_COMP_XTILEDATA, 0, 0x80000000);
	expect_refused(&p, "CPUID.(0xD,0x12).EAX = 0x80000000", VX_COMP_XTILEDATA);
	/* PKRU at 0xfffffffc (offset + size wrapped in 32 bits). */
	load_with(&p, VX_COMP_PKRU, 1, 0xfffffffc);
	expect_refused(&p, "CPUID.(0xD,0x9).EBX = 0xfffffffc", VX_COMP_PKRU);
	/* 0xD.0 ECX smaller than the components need. */
	load_with(&p, 0, 2, 10000);
	expect_refused(&p, "CPUID.(0xD,0x12).EBX + EAX = 0xb00 + 0x2000", VX_COMP_XTILEDATA);
	/* 0xD.0 ECX of 4 GiB. */
	load_with(&p, 0, 2, 0xffffffff);
	expect_refused(&p, "CPUID.(0xD,0).ECX = 0xffffffff", -1);
	/* AVX marked supervisor while in the XCR0 mask. */
	load_with(&p, VX_COMP_AVX, 2, 1);
	expect_refused(&p, "CPUID.(0xD,0x2).ECX = 0x1", VX_COMP_AVX);
	/* The XSS mask claims every bit: user components in both masks. */
	load_with(&p, 1, 2, 0xffffffff);
	expect_refused(&p, "CPUID.(0xD,1).ECX = 0xffffffff", VX_COMP_AVX);
	/* A user component inside the legacy region. */
	load_with(&p, VX_COMP_OPMASK, 1, 512);
	expect_refused(&p, "CPUID.(0xD,0x5).EBX = 0x200", VX_COMP_OPMASK);
	/* Supervisor components add up past 1 MiB in the compacted format. */
	load_with(&p, VX_COMP_LBR, 0, VX_XSAVE_AREA_MAX - VX_EXTENDED_OFFSET);
	expect_refused(&p, "CPUID.(0xD,0xf).EAX = 0xffdc0: with component 15", VX_COMP_LBR);
}

/* Sizes are added in 64 bits: the public size functions saturate instead of wrapping. */
static void test_sizes_saturate(void **state)
{
	struct vx_profile p;

	(void)state;
	load_with(&p, VX_COMP_XTILEDATA, 0, 0xffffffff);
	assert_int_equal(vx_standard_size(&p, 0x602e7), UINT32_MAX);
	assert_int_equal(vx_compacted_size(&p, 0x602e7), UINT32_MAX);
	load_with(&p, VX_COMP_PKRU, 1, 0xfffffffc);
	assert_int_equal(vx_standard_size(&p, 0x2e7), UINT32_MAX);
}

/* A valid but odd profile loads: a size that is not a multiple of 8 is only a warning. */
static void test_odd_size_loads(void **state)
{
	struct vx_diagnostic d[DIAG_MAX];
	struct vx_profile p;
	bool warned = false;
	unsigned count;

	(void)state;
	load_with(&p, VX_COMP_LBR, 0, 0x32b);
	assert_int_equal(vx_profile_check_xsave_leaves(&p, NULL), 0);
	count = vx_profile_diagnose(&p, d, DIAG_MAX);
	for (unsigned i = 0; i < count && i < DIAG_MAX; i++)
		warned |= d[i].component == VX_COMP_LBR && d[i].severity == VX_DIAG_WARNING &&
			  strstr(d[i].message, "8-byte") != NULL;
	assert_true(warned);
	failures = 0;
	check_variant(&p, "LBR size 0x32b", true);
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_cases),
		cmocka_unit_test(test_sizes_saturate),
		cmocka_unit_test(test_odd_size_loads),
		cmocka_unit_test(test_corpus_sapphire_rapids),
		cmocka_unit_test(test_corpus_zen4),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
