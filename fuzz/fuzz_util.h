/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the libFuzzer targets (fuzz/fuzz_*.c, issue 11): a reader that takes
 * numbers and bytes off the front of the fuzzer's input (past its end everything reads as
 * zero, so every input is a valid one), the built-in profiles parsed once per process, and
 * fz_fail() for a broken property (abort(), which libFuzzer reports as a crash with the input).
 *
 * The harness's own caches are the only global state here; the library has none (common.h).
 */
#ifndef VXSAVE_FUZZ_UTIL_H
#define VXSAVE_FUZZ_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/arch.h>
#include <vxsave/kvm.h>

/* The libFuzzer entry point every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	const uint8_t *data;
	size_t size;
};

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->size)
		return 0;
	f->size--;
	return *f->data++;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t lo = fz_u8(f);

	return (uint16_t)(lo | (uint16_t)fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t lo = fz_u16(f);

	return lo | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	uint64_t lo = fz_u32(f);

	return lo | (uint64_t)fz_u32(f) << 32;
}

/* Copy up to @n input bytes to @out, zero the rest; returns how many came from the input. */
static inline size_t fz_bytes(struct fz *f, void *out, size_t n)
{
	size_t take = n < f->size ? n : f->size;

	if (take)
		memcpy(out, f->data, take);
	memset((uint8_t *)out + take, 0, n - take);
	f->data += take;
	f->size -= take;
	return take;
}

/* A broken property: say which and why, then abort() so libFuzzer keeps the input. */
static inline void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz property broken: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

#define FZ_PROFILES_MAX 32u

/* Built-in profile @index modulo their count, parsed on first use. */
static inline const struct vx_profile *fz_profile(unsigned index)
{
	static struct vx_profile cache[FZ_PROFILES_MAX];
	static bool loaded[FZ_PROFILES_MAX];
	unsigned count = vx_builtin_profile_count();
	struct vx_error err = VX_ERROR_INIT;

	if (count > FZ_PROFILES_MAX)
		count = FZ_PROFILES_MAX;
	index %= count;
	if (!loaded[index]) {
		if (vx_profile_builtin(&cache[index], vx_builtin_profile_name(index), &err) != 0)
			fz_fail("built-in profile %u: %s", index, err.reason);
		loaded[index] = true;
	}
	return &cache[index];
}

/* The index of built-in profile @name (@len bytes), or -1. */
static inline int fz_profile_find(const char *name, size_t len)
{
	for (unsigned i = 0; i < vx_builtin_profile_count() && i < FZ_PROFILES_MAX; i++) {
		const char *n = vx_builtin_profile_name(i);

		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * struct fz_host - the host an input runs on: a built-in profile, a CET_S design (kvm.h's six)
 * and a KVM flavour (-1: the profile's vendor module).
 */
struct fz_host {
	unsigned profile;
	enum vx_kvm_cet_design design;
	int flavour;
};

/* One word of a "#!" line: a profile, design or flavour name; anything else is ignored. */
static inline void fz_host_word(struct fz_host *h, const char *w, size_t n)
{
	char word[64];
	int v;

	if (n == 0 || n >= sizeof(word))
		return;
	memcpy(word, w, n);
	word[n] = '\0';
	if ((v = vx_kvm_cet_design_by_name(word)) >= 0)
		h->design = (enum vx_kvm_cet_design)v;
	else if ((v = vx_kvm_flavour_by_name(word)) >= 0)
		h->flavour = v;
	else if ((v = fz_profile_find(word, n)) >= 0)
		h->profile = (unsigned)v;
}

/*
 * fz_host_parse() - the host named on a first line "#! WORD..." of a text input (a comment to
 * every language fuzzed here, so the rest stays a valid input): "#! zen4 kvm-eager svm".
 * Defaults: VX_DEFAULT_PROFILE, guest-only, the vendor's flavour.
 */
static inline void fz_host_parse(const uint8_t *data, size_t size, struct fz_host *h)
{
	int def = fz_profile_find(VX_DEFAULT_PROFILE, strlen(VX_DEFAULT_PROFILE));
	size_t end = 2;

	h->profile = def < 0 ? 0 : (unsigned)def;
	h->design = VX_KVM_CET_GUEST_ONLY;
	h->flavour = -1;
	if (size < 2 || data[0] != '#' || data[1] != '!')
		return;
	while (end < size && data[end] != '\n') {
		size_t start = end;

		while (end < size && data[end] != '\n' && data[end] != ' ')
			end++;
		fz_host_word(h, (const char *)data + start, end - start);
		if (end < size && data[end] == ' ')
			end++;
	}
}

/* The flavour of @h: its own, or the vendor module of its profile. */
static inline enum vx_kvm_flavour fz_host_flavour(const struct fz_host *h)
{
	if (h->flavour >= 0)
		return (enum vx_kvm_flavour)h->flavour;
	return vx_profile_vendor(fz_profile(h->profile)) == VX_VENDOR_AMD ? VX_KVM_SVM : VX_KVM_VMX;
}

/* The fpu system of @h's profile and design, booted on first use (read-only afterwards). */
static inline const struct vx_fpu_system *fz_system(const struct fz_host *h)
{
	static struct vx_fpu_system *cache[FZ_PROFILES_MAX][VX_FPU_CET_DESIGN_COUNT];
	enum vx_fpu_cet_design d = vx_kvm_cet_design_fpu(h->design);
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_system **slot = &cache[h->profile % FZ_PROFILES_MAX][d];

	config.cet_design = d;
	if (!*slot && vx_fpu_system_create(fz_profile(h->profile), &config, slot, &err) != 0)
		fz_fail("boot of built-in profile %u: %s", h->profile, err.reason);
	return *slot;
}

#endif /* VXSAVE_FUZZ_UTIL_H */
