/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the cpu-layer unit tests (test_cpu_*.c).
 *
 * Everything is static inline so that each test file can include it without "unused function"
 * warnings.  The helpers only drive the public API (vxsave/cpu.h); expected values are always
 * computed by hand in the tests from ../shared/spec/arch.md, never by asking the code under
 * test.
 *
 * A fixture (struct tu) is one logical processor made from a built-in profile, a snapshot
 * processor of the same profile (for "a fault changes nothing"), and a window of linear memory
 * (TU_MEM_SIZE bytes at linear address TU_BASE) that holds the XSAVE areas.
 */
#ifndef VXSAVE_CPU_TEST_UTIL_H
#define VXSAVE_CPU_TEST_UTIL_H

/* cmocka.h needs these four first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/arch.h>
#include <vxsave/cpu.h>

/* Linear address of the memory window (64-byte aligned) and its size. */
#define TU_BASE	    UINT64_C(0x7f3400000000)
#define TU_MEM_SIZE 32768u
/* The canary every area is filled with before an instruction runs. */
#define TU_CANARY   0xA5u
#define TU_CANARY64 UINT64_C(0xA5A5A5A5A5A5A5A5)

#define TU_ALL UINT64_MAX

/* Print a failure for a table case and count it (the loop goes on with the next case). */
#define TU_CASE_FAIL(failures, name, ...)                                                          \
	do {                                                                                       \
		print_error("%s:%d: case \"%s\": ", __FILE__, __LINE__, (name));                   \
		print_error(__VA_ARGS__);                                                          \
		print_error("\n");                                                                 \
		(failures)++;                                                                      \
	} while (0)

#define TU_CASE_CHECK(failures, cond, name, ...)                                                   \
	do {                                                                                       \
		if (!(cond))                                                                       \
			TU_CASE_FAIL(failures, name, __VA_ARGS__);                                 \
	} while (0)

/* Fail the current test now with a formatted message. */
#define TU_FAIL(...)                                                                               \
	do {                                                                                       \
		print_error("%s:%d: ", __FILE__, __LINE__);                                        \
		print_error(__VA_ARGS__);                                                          \
		print_error("\n");                                                                 \
		fail();                                                                            \
		abort();                                                                           \
	} while (0)

#define TU_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond))                                                                       \
			TU_FAIL(__VA_ARGS__);                                                      \
	} while (0)

struct tu {
	struct vx_profile profile;
	struct vx_cpu *cpu;
	struct vx_cpu *snap;
	uint8_t *buf;
	uint8_t *saved;
	struct vx_memory mem;
	struct vx_event ev;
};

static inline void tu_load_profile(struct vx_profile *p, const char *name)
{
	struct vx_error err = VX_ERROR_INIT;
	int rc = vx_profile_builtin(p, name, &err);

	TU_CHECK(rc == 0, "vx_profile_builtin(%s) = %d: %s", name, rc, err.reason);
}

/* Change one register of one CPUID leaf of @p: (old & ~clear) | set. */
static inline void tu_profile_edit(struct vx_profile *p, uint32_t leaf, uint32_t subleaf,
				   enum vx_cpuid_reg reg, uint32_t clear, uint32_t set)
{
	struct vx_cpuid_regs r = vx_profile_leaf(p, leaf, subleaf);
	uint32_t *v = reg == VX_EAX   ? &r.eax
		      : reg == VX_EBX ? &r.ebx
		      : reg == VX_ECX ? &r.ecx
				      : &r.edx;
	int rc;

	*v = (*v & ~clear) | set;
	rc = vx_profile_set_leaf(p, leaf, subleaf, &r);
	TU_CHECK(rc == 0, "vx_profile_set_leaf(%#x,%#x) = %d", leaf, subleaf, rc);
}

static inline void tu_open_profile(struct tu *t, const struct vx_profile *p)
{
	struct vx_error err = VX_ERROR_INIT;
	int rc;

	memset(t, 0, sizeof(*t));
	t->profile = *p;
	rc = vx_cpu_create(&t->profile, NULL, &t->cpu, &err);
	TU_CHECK(rc == 0 && t->cpu != NULL, "vx_cpu_create(%s) = %d: %s", p->name, rc, err.reason);
	rc = vx_cpu_create(&t->profile, NULL, &t->snap, &err);
	TU_CHECK(rc == 0 && t->snap != NULL, "vx_cpu_create(%s) = %d: %s", p->name, rc, err.reason);
	t->buf = malloc(TU_MEM_SIZE);
	t->saved = malloc(TU_MEM_SIZE);
	TU_CHECK(t->buf != NULL && t->saved != NULL, "out of memory");
	memset(t->buf, TU_CANARY, TU_MEM_SIZE);
	t->mem.bytes = t->buf;
	t->mem.size = TU_MEM_SIZE;
	t->mem.base = TU_BASE;
}

static inline void tu_open(struct tu *t, const char *profile_name)
{
	struct vx_profile p;

	tu_load_profile(&p, profile_name);
	tu_open_profile(t, &p);
}

static inline void tu_close(struct tu *t)
{
	vx_cpu_destroy(t->cpu);
	vx_cpu_destroy(t->snap);
	free(t->buf);
	free(t->saved);
	memset(t, 0, sizeof(*t));
}

static inline const char *tu_event_str(const struct vx_event *ev, char *buf, size_t len)
{
	if (ev->kind == VX_EVENT_NONE) {
		snprintf(buf, len, "no event");
		return buf;
	}
	snprintf(buf, len, "kind %d vector %u error %" PRIu32 " exit %" PRIu32 " (%s)",
		 (int)ev->kind, ev->vector, ev->error_code, ev->exit_reason, ev->reason);
	return buf;
}

/* ---- control state ---------------------------------------------------------------------- */

static inline struct vx_cpu_control tu_control(const struct tu *t)
{
	struct vx_cpu_control c;

	vx_cpu_get_control(t->cpu, &c);
	return c;
}

static inline void tu_set_control(struct tu *t, const struct vx_cpu_control *c)
{
	struct vx_event ev;
	char b[256];
	int rc;

	memset(&ev, 0, sizeof(ev));
	rc = vx_cpu_set_control(t->cpu, c, &ev);
	TU_CHECK(rc == 0, "vx_cpu_set_control = %d (%s)", rc, tu_event_str(&ev, b, sizeof(b)));
}

static inline void tu_set_cpl(struct tu *t, unsigned cpl)
{
	struct vx_cpu_control c = tu_control(t);

	c.cpl = cpl;
	tu_set_control(t, &c);
}

static inline void tu_cr0(struct tu *t, uint64_t set, uint64_t clear)
{
	struct vx_cpu_control c = tu_control(t);

	c.cr0 = (c.cr0 & ~clear) | set;
	tu_set_control(t, &c);
}

static inline void tu_cr4(struct tu *t, uint64_t set, uint64_t clear)
{
	struct vx_cpu_control c = tu_control(t);

	c.cr4 = (c.cr4 & ~clear) | set;
	tu_set_control(t, &c);
}

static inline void tu_vmx(struct tu *t, bool non_root, bool xsaves_enabled, uint64_t bitmap)
{
	struct vx_cpu_control c = tu_control(t);

	c.vmx_non_root = non_root;
	c.vmx_xsaves_enabled = xsaves_enabled;
	c.vmx_xss_exit_bitmap = bitmap;
	tu_set_control(t, &c);
}

/* ---- XCR0 / MSRs ------------------------------------------------------------------------- */

static inline void tu_xsetbv(struct tu *t, uint64_t xcr0)
{
	struct vx_event ev;
	char b[256];
	int rc;

	memset(&ev, 0, sizeof(ev));
	rc = vx_cpu_xsetbv(t->cpu, 0, xcr0, &ev);
	TU_CHECK(rc == 0, "XSETBV(0, %#" PRIx64 ") = %d (%s)", xcr0, rc,
		 tu_event_str(&ev, b, sizeof(b)));
	TU_CHECK(vx_cpu_xcr0(t->cpu) == xcr0, "XCR0 = %#" PRIx64 " after XSETBV %#" PRIx64,
		 vx_cpu_xcr0(t->cpu), xcr0);
}

static inline void tu_wrmsr(struct tu *t, uint32_t msr, uint64_t value)
{
	struct vx_event ev;
	char b[256];
	int rc;

	memset(&ev, 0, sizeof(ev));
	rc = vx_cpu_wrmsr(t->cpu, msr, value, &ev);
	TU_CHECK(rc == 0, "WRMSR(%#x, %#" PRIx64 ") = %d (%s)", msr, value, rc,
		 tu_event_str(&ev, b, sizeof(b)));
}

static inline uint64_t tu_rdmsr(struct tu *t, uint32_t msr)
{
	struct vx_event ev;
	uint64_t v = 0;
	char b[256];
	int rc;

	memset(&ev, 0, sizeof(ev));
	rc = vx_cpu_rdmsr(t->cpu, msr, &v, &ev);
	TU_CHECK(rc == 0, "RDMSR(%#x) = %d (%s)", msr, rc, tu_event_str(&ev, b, sizeof(b)));
	return v;
}

static inline uint64_t tu_xgetbv(struct tu *t, uint32_t ecx)
{
	struct vx_event ev;
	uint64_t v = 0;
	char b[256];
	int rc;

	memset(&ev, 0, sizeof(ev));
	rc = vx_cpu_xgetbv(t->cpu, ecx, &v, &ev);
	TU_CHECK(rc == 0, "XGETBV(%u) = %d (%s)", ecx, rc, tu_event_str(&ev, b, sizeof(b)));
	return v;
}

/* A deterministic byte pattern: byte i of register "seed" is (seed * 31 + i * 7 + 1). */
static inline void tu_pattern(uint8_t *out, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(seed * 31u + i * 7u + 1u);
}

/* ---- registers ----------------------------------------------------------------------------- */

static inline const struct vx_reg_info *tu_reg(const char *name)
{
	const struct vx_reg_info *r = vx_reg_lookup(name);

	if (r == NULL) {
		print_error("vx_reg_lookup(\"%s\") = NULL; the table has:", name);
		for (unsigned i = 0; i < vx_reg_count(); i++) {
			const struct vx_reg_info *x = vx_reg_at(i);

			if (x != NULL)
				print_error(" %s", x->name);
		}
		print_error("\n");
		fail();
		abort();
	}
	return r;
}

/* The @index-th register of @component in table order, or NULL. */
static inline const struct vx_reg_info *tu_reg_of(unsigned component, unsigned index)
{
	for (unsigned i = 0; i < vx_reg_count(); i++) {
		const struct vx_reg_info *x = vx_reg_at(i);

		if (x != NULL && x->component == component && index-- == 0)
			return x;
	}
	return NULL;
}

static inline void tu_set_bytes(struct tu *t, const char *name, const void *value, size_t width)
{
	const struct vx_reg_info *r = tu_reg(name);
	struct vx_event ev;
	char b[256];
	int rc;

	TU_CHECK(r->width == width, "register %s has width %u, the test expects %zu", name,
		 (unsigned)r->width, width);
	memset(&ev, 0, sizeof(ev));
	rc = vx_cpu_set_reg(t->cpu, r, value, width, &ev);
	TU_CHECK(rc == 0, "vx_cpu_set_reg(%s) = %d (%s)", name, rc,
		 tu_event_str(&ev, b, sizeof(b)));
}

/* Write @value (little-endian, zero-extended) into a register of at most 8 bytes... or the
 * low 8 bytes of a wider one (the rest zero). */
static inline void tu_set_u64(struct tu *t, const char *name, uint64_t value)
{
	const struct vx_reg_info *r = tu_reg(name);
	uint8_t bytes[4096];

	TU_CHECK(r->width <= sizeof(bytes), "register %s too wide", name);
	memset(bytes, 0, r->width);
	for (unsigned i = 0; i < 8 && i < r->width; i++)
		bytes[i] = (uint8_t)(value >> (8 * i));
	tu_set_bytes(t, name, bytes, r->width);
}

static inline void tu_get_bytes(const struct tu *t, const char *name, void *value, size_t width)
{
	const struct vx_reg_info *r = tu_reg(name);
	int rc;

	TU_CHECK(r->width == width, "register %s has width %u, the test expects %zu", name,
		 (unsigned)r->width, width);
	rc = vx_cpu_get_reg(t->cpu, r, value, width);
	TU_CHECK(rc == 0, "vx_cpu_get_reg(%s) = %d", name, rc);
}

static inline uint64_t tu_get_u64(const struct tu *t, const char *name)
{
	const struct vx_reg_info *r = tu_reg(name);
	uint8_t bytes[4096];
	uint64_t v = 0;
	int rc;

	TU_CHECK(r->width <= sizeof(bytes), "register %s too wide", name);
	rc = vx_cpu_get_reg(t->cpu, r, bytes, r->width);
	TU_CHECK(rc == 0, "vx_cpu_get_reg(%s) = %d", name, rc);
	for (unsigned i = 0; i < 8 && i < r->width; i++)
		v |= (uint64_t)bytes[i] << (8 * i);
	return v;
}

/* Write register @name with tu_pattern(seed) over its whole width. */
static inline void tu_set_pat(struct tu *t, const char *name, unsigned seed)
{
	const struct vx_reg_info *r = tu_reg(name);
	uint8_t bytes[4096];

	TU_CHECK(r->width > 0 && r->width <= sizeof(bytes), "register %s width %u", name,
		 (unsigned)r->width);
	tu_pattern(bytes, r->width, seed);
	tu_set_bytes(t, name, bytes, r->width);
}

/* Does register @name hold tu_pattern(seed)? */
static inline bool tu_reg_has_pat(const struct tu *t, const char *name, unsigned seed)
{
	const struct vx_reg_info *r = tu_reg(name);
	uint8_t want[4096], got[4096];

	TU_CHECK(r->width > 0 && r->width <= sizeof(want), "register %s width", name);
	tu_pattern(want, r->width, seed);
	TU_CHECK(vx_cpu_get_reg(t->cpu, r, got, r->width) == 0, "get_reg %s", name);
	return memcmp(want, got, r->width) == 0;
}

/* Does the buffer at @off hold tu_pattern(seed) over @len bytes? */
static inline bool tu_mem_has_pat(const struct tu *t, size_t off, size_t len, unsigned seed)
{
	uint8_t want[4096];

	TU_CHECK(len <= sizeof(want) && off + len <= TU_MEM_SIZE, "tu_mem_has_pat range");
	tu_pattern(want, len, seed);
	return memcmp(t->buf + off, want, len) == 0;
}

/* Put tu_pattern(seed) into the buffer at @off. */
static inline void tu_mem_pat(struct tu *t, size_t off, size_t len, unsigned seed)
{
	TU_CHECK(off + len <= TU_MEM_SIZE, "tu_mem_pat range");
	tu_pattern(t->buf + off, len, seed);
}

/* True if every byte of register @name is zero. */
static inline bool tu_reg_is_zero(const struct tu *t, const char *name)
{
	const struct vx_reg_info *r = tu_reg(name);
	uint8_t bytes[4096];

	TU_CHECK(r->width <= sizeof(bytes), "register %s too wide", name);
	TU_CHECK(vx_cpu_get_reg(t->cpu, r, bytes, r->width) == 0, "get_reg %s", name);
	for (unsigned i = 0; i < r->width; i++)
		if (bytes[i] != 0)
			return false;
	return true;
}

/* xorshift64*, for the seeded random register values. */
static inline uint64_t tu_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

/* ---- memory -------------------------------------------------------------------------------- */

static inline void tu_fill(struct tu *t, uint8_t byte)
{
	memset(t->buf, byte, TU_MEM_SIZE);
}

static inline void tu_put(struct tu *t, size_t off, uint64_t value, unsigned width)
{
	TU_CHECK(off + width <= TU_MEM_SIZE, "tu_put out of range");
	for (unsigned i = 0; i < width; i++)
		t->buf[off + i] = (uint8_t)(value >> (8 * i));
}

static inline uint64_t tu_get(const struct tu *t, size_t off, unsigned width)
{
	uint64_t v = 0;

	TU_CHECK(off + width <= TU_MEM_SIZE, "tu_get out of range");
	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)t->buf[off + i] << (8 * i);
	return v;
}

static inline void tu_put64(struct tu *t, size_t off, uint64_t v)
{
	tu_put(t, off, v, 8);
}

static inline uint64_t tu_get64(const struct tu *t, size_t off)
{
	return tu_get(t, off, 8);
}

/* Zero the 64-byte header of the area at buffer offset @area. */
static inline void tu_header(struct tu *t, size_t area, uint64_t xstate_bv, uint64_t xcomp_bv)
{
	memset(t->buf + area + 512, 0, 64);
	tu_put64(t, area + 512, xstate_bv);
	tu_put64(t, area + 520, xcomp_bv);
}

/* First offset in [from, to) where the buffer does not hold @byte, or -1. */
static inline long tu_find_not(const struct tu *t, size_t from, size_t to, uint8_t byte)
{
	for (size_t i = from; i < to; i++)
		if (t->buf[i] != byte)
			return (long)i;
	return -1;
}

static inline bool tu_all(const struct tu *t, size_t from, size_t to, uint8_t byte)
{
	return tu_find_not(t, from, to, byte) < 0;
}

/* ---- instructions ------------------------------------------------------------------------ */

/* Run @insn with the area at buffer offset @area (linear TU_BASE + @area). */
static inline int tu_exec(struct tu *t, enum vx_insn insn, size_t area, uint64_t edx_eax)
{
	memset(&t->ev, 0, sizeof(t->ev));
	return vx_cpu_exec(t->cpu, insn, 0, &t->mem, TU_BASE + area, edx_eax, &t->ev);
}

/* Same, asserting that it retires. */
static inline void tu_run(struct tu *t, enum vx_insn insn, size_t area, uint64_t edx_eax)
{
	char b[256];
	int rc = tu_exec(t, insn, area, edx_eax);

	TU_CHECK(rc == 0, "%s(area +%zu, mask %#" PRIx64 ") = %d (%s)", vx_insn_name(insn), area,
		 edx_eax, rc, tu_event_str(&t->ev, b, sizeof(b)));
}

/* Take the "before" copy of the processor and of memory. */
static inline void tu_snapshot(struct tu *t)
{
	int rc = vx_cpu_copy(t->snap, t->cpu);

	TU_CHECK(rc == 0, "vx_cpu_copy = %d", rc);
	memcpy(t->saved, t->buf, TU_MEM_SIZE);
}

/*
 * After a fault: is the processor identical to the snapshot and memory untouched?
 * Returns NULL if so, else a description in @where.
 */
static inline const char *tu_unchanged(struct tu *t, char *where, size_t len)
{
	if (vx_cpu_compare(t->cpu, t->snap, TU_ALL, where, len) != 0)
		return where;
	for (size_t i = 0; i < TU_MEM_SIZE; i++) {
		if (t->buf[i] != t->saved[i]) {
			snprintf(where, len, "memory byte at buffer offset %zu changed: %#x -> %#x",
				 i, t->saved[i], t->buf[i]);
			return where;
		}
	}
	return NULL;
}

static inline bool tu_is_exc(const struct vx_event *ev, unsigned vector)
{
	return ev->kind == VX_EVENT_EXCEPTION && ev->vector == vector;
}

static inline bool tu_is_gp0(const struct vx_event *ev)
{
	return tu_is_exc(ev, VX_VEC_GP) && ev->error_code == 0;
}

static inline bool tu_is_exit(const struct vx_event *ev, uint32_t reason)
{
	return ev->kind == VX_EVENT_VMEXIT && ev->exit_reason == reason;
}

/*
 * Expectation of one instruction outcome.  kind NONE = retires.
 */
struct tu_expect {
	enum vx_event_kind kind;
	unsigned vector;      /* for exceptions */
	uint32_t exit_reason; /* for VM exits */
};

#define TU_OK                                                                                      \
	{                                                                                          \
		VX_EVENT_NONE, 0, 0                                                                \
	}
#define TU_GP                                                                                      \
	{                                                                                          \
		VX_EVENT_EXCEPTION, VX_VEC_GP, 0                                                   \
	}
#define TU_UD                                                                                      \
	{                                                                                          \
		VX_EVENT_EXCEPTION, VX_VEC_UD, 0                                                   \
	}
#define TU_NM                                                                                      \
	{                                                                                          \
		VX_EVENT_EXCEPTION, VX_VEC_NM, 0                                                   \
	}
#define TU_PF                                                                                      \
	{                                                                                          \
		VX_EVENT_EXCEPTION, VX_VEC_PF, 0                                                   \
	}
#define TU_EXIT(r)                                                                                 \
	{                                                                                          \
		VX_EVENT_VMEXIT, 0, (r)                                                            \
	}

/*
 * Check the outcome @rc/@t->ev of an instruction against @exp.  For a fault or exit, also check
 * that nothing changed since tu_snapshot().  Returns the number of failures (0 or 1) and prints
 * the case name.
 */
static inline int tu_check_outcome(struct tu *t, const char *name, int rc,
				   const struct tu_expect *exp)
{
	char b[256], where[256];
	const char *diff;

	if (exp->kind == VX_EVENT_NONE) {
		if (rc != 0) {
			print_error("case \"%s\": expected to retire, got rc %d (%s)\n", name, rc,
				    tu_event_str(&t->ev, b, sizeof(b)));
			return 1;
		}
		return 0;
	}
	if (rc != VX_FAULTED) {
		print_error("case \"%s\": expected %s %u, got rc %d (%s)\n", name,
			    exp->kind == VX_EVENT_VMEXIT ? "VM exit" : "exception",
			    exp->kind == VX_EVENT_VMEXIT ? exp->exit_reason : exp->vector, rc,
			    tu_event_str(&t->ev, b, sizeof(b)));
		return 1;
	}
	if (exp->kind == VX_EVENT_VMEXIT ? !tu_is_exit(&t->ev, exp->exit_reason)
					 : !tu_is_exc(&t->ev, exp->vector)) {
		print_error("case \"%s\": expected %s %u, got %s\n", name,
			    exp->kind == VX_EVENT_VMEXIT ? "VM exit" : "vector",
			    exp->kind == VX_EVENT_VMEXIT ? exp->exit_reason : exp->vector,
			    tu_event_str(&t->ev, b, sizeof(b)));
		return 1;
	}
	if (exp->kind == VX_EVENT_EXCEPTION && exp->vector == VX_VEC_GP && t->ev.error_code != 0) {
		print_error("case \"%s\": #GP error code %" PRIu32 ", expected 0\n", name,
			    t->ev.error_code);
		return 1;
	}
	diff = tu_unchanged(t, where, sizeof(where));
	if (diff != NULL) {
		print_error("case \"%s\": the fault changed state: %s\n", name, diff);
		return 1;
	}
	return 0;
}

#endif /* VXSAVE_CPU_TEST_UTIL_H */
