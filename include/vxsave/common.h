/* SPDX-License-Identifier: MIT */
/*
 * vxsave common definitions: the error record every layer fills in, and the small platform
 * interface (allocation, logging) through which the core reaches the outside world.
 *
 * Error model: functions return 0 on success or a negative errno value (-EINVAL, -ENOBUFS,
 * -ENOTSUP, -ERANGE, -ENOMEM, -ENOENT).  When the caller passes a struct vx_error, it is filled
 * with *where* the problem is (component, bit mask, MSR, byte offset, line) and a sentence that
 * says why, naming the spec rule.  A failing call leaves every object it was given unchanged.
 *
 * Symbols: the library's global symbols are its API and nothing else: functions declared in
 * include/vxsave/ *.h with VX_API, named vx_* (vxsave_* is reserved for the same use).  Every
 * other function and table is static or compiled with hidden visibility, so it is absent from
 * libvxsave.so's dynamic symbol table and local in libvxsave.a (whose one object is the
 * `ld -r` of the library's objects with hidden symbols localized; CMakeLists.txt "Symbols"):
 * an internal helper can never clash with, or be interposed by, a name of the program.  The
 * library_symbols test (cmake/check_symbols.sh) fails on any other global symbol.
 *
 * Global mutable state: none in arch, cpu (model), fpu, kvm, eval or vmm.  Every object
 * (profile, cpu, fpu machine, task, VM) holds its own state and the struct vx_platform it was
 * created with, so any number of them coexist in one process and objects used by one thread at
 * a time need no locking.  The one exception is named: the hardware backend (src/cpu/hw.c,
 * cpu_hw.h) owns the process-wide SIGSEGV/SIGBUS/SIGILL/SIGFPE handlers vx_hw_open() installs,
 * the previous handlers it restores, a reference count and the host facts it queried
 * (hw_old, hw_refs, hw_host), guarded by one mutex (hw_lock; the count is also read lock-free
 * by vx_hw_run()); see cpu_hw.h for the threading rules.  The library_globals test
 * (cmake/check_globals.sh) fails on any other writable static object in the library.
 *
 * Threads (checked by tests/unit/test_threads.c under ThreadSanitizer, `make test-tsan`):
 *  - May be shared by any number of threads, read-only: a parsed struct vx_profile; a booted
 *    struct vx_fpu_system (immutable after vx_fpu_system_create(): machines built on one
 *    system may run on different threads); a struct vx_vmm_converter after
 *    vx_vmm_converter_init(); the library's tables and the strings its name functions return;
 *    vx_platform_default().
 *  - Internally locked, any thread at any time: a struct vx_kvm_dev (vx_kvm_ioctl() and the
 *    other vx_kvm_dev_* calls serialise on its mutex; kvm_ioctl.h); vx_hw_open()/vx_hw_close()
 *    (cpu_hw.h).
 *  - One thread at a time (the caller locks if it hands them over): a struct vx_cpu; a
 *    struct vx_fpu_machine with everything made on it - its CPUs, processes, tasks, guest
 *    fpstates, the struct vx_kvm loaded on it and its VMs and vCPUs - as one unit; a
 *    struct vx_vmm_host with its vCPUs; a struct vx_error and any output buffer a call fills.
 *  - Independent objects of the last kind may be used on different threads at the same time,
 *    as may concurrent vx_eval_run() calls: they share nothing.
 *  - A struct vx_platform shared by objects on several threads must be thread-safe itself (the
 *    default one is); callbacks (platform, logs, run hooks) run on the thread of the call.
 */
#ifndef VXSAVE_COMMON_H
#define VXSAVE_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VXSAVE_BUILDING) && defined(__GNUC__)
#define VX_API __attribute__((visibility("default")))
#else
#define VX_API
#endif

#define VX_BIT(n) (UINT64_C(1) << (n))

/** Size of the human-readable reason in struct vx_error. */
#define VX_ERROR_REASON_MAX 256

/**
 * struct vx_error - where and why a call failed.
 * @code:      the negative errno value the call returned (0 if none).
 * @component: the XSAVE state component involved, or -1.
 * @bits:      the offending bits of a mask (XCR0, XSS, XFD, XSTATE_BV...), or 0.
 * @msr:       the MSR involved, or 0.
 * @offset:    the byte offset in a buffer or area, or -1.
 * @line:      the 1-based line of a text input (dump, script), or 0.
 * @rule:      the spec section the rule comes from ("arch.md §3.1 rule 2"), or NULL.
 * @reason:    one sentence saying what is wrong.
 *
 * Initialise with vx_error_clear() (or VX_ERROR_INIT) before passing it in.
 */
struct vx_error {
	int code;
	int component;
	uint64_t bits;
	uint32_t msr;
	int64_t offset;
	unsigned line;
	const char *rule;
	char reason[VX_ERROR_REASON_MAX];
};

#define VX_ERROR_INIT {0, -1, 0, 0, -1, 0, NULL, {0}}

/** Reset @err to "no error". @err may be NULL. */
VX_API void vx_error_clear(struct vx_error *err);

/**
 * vx_error_set() - record a failure in @err (which may be NULL) and return @code.
 * The location fields are left as they are; set them before or after with the helpers below.
 */
VX_API int vx_error_set(struct vx_error *err, int code, const char *rule, const char *fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 4, 5)))
#endif
	;

/*
 * For the clang static analyzer only (make lint): vx_error_set() returns @code, which it cannot
 * see across files; without this it explores "error path returns 0" and reports what follows.
 */
#ifdef __clang_analyzer__
#define vx_error_set(err, code, ...) (vx_error_set((err), (code), __VA_ARGS__), (code))
#endif

/** Same as vx_error_set() with a va_list. */
VX_API int vx_error_vset(struct vx_error *err, int code, const char *rule, const char *fmt,
			 va_list ap)
#ifdef __GNUC__
	__attribute__((format(printf, 4, 0)))
#endif
	;

/** Short name of a negative errno code ("EINVAL"), for messages. */
VX_API const char *vx_errno_name(int code);

/**
 * struct vx_platform - what the core asks of its environment.
 * @alloc: allocate @size zeroed bytes aligned to @align (a power of two, >= 8); NULL on failure.
 * @free:  release memory from @alloc (NULL is allowed).
 * @log:   optional diagnostic sink (may be NULL).
 * @ctx:   passed back to every callback.
 *
 * The core has no global mutable state; every object remembers the platform it was created
 * with.  Tests use their own platform to inject allocation failures.
 */
struct vx_platform {
	void *(*alloc)(void *ctx, size_t size, size_t align);
	void (*free)(void *ctx, void *ptr);
	void (*log)(void *ctx, const char *message);
	void *ctx;
};

/** The default platform: aligned_alloc/free, no logging.  Never NULL. */
VX_API const struct vx_platform *vx_platform_default(void);

/** The library's version string ("0.1.0"), for checking header/library skew. */
VX_API const char *vx_version(void);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_COMMON_H */
