/* SPDX-License-Identifier: MIT */
/*
 * Differential test of the permission API against this machine's kernel (linux-fpu.md §4,
 * §12): each scenario - a sequence of arch_prctl XCOMP calls and sigaltstack() calls - runs
 * once through the real syscalls in a forked child (so permissions never leak between
 * scenarios) and once on the model booted on the live host profile; every step must return
 * the same value and errno, and every GET the same bits.
 */
#define _GNU_SOURCE /* syscall(), getauxval() */
#include "fpu_task_test_util.h"

#if defined(__linux__) && defined(__x86_64__)
#include <signal.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#define HOST_LINUX_X86_64 1
#else
#define HOST_LINUX_X86_64 0
#endif

#if HOST_LINUX_X86_64
enum step_kind { PRCTL, ALTSTACK, ALTSTACK_DISABLE, END };
enum pointer { NONE = 0, VALID, BAD_NULL, BAD_LOW, BAD_KERNEL };

/* Sizes relative to AT_MINSIGSTKSZ are resolved at run time. */
#define REL_MINSIG (UINT64_C(1) << 62)

struct step {
	enum step_kind kind;
	uint64_t option;
	uint64_t arg2; /* REQ index, or altstack size (| REL_MINSIG: AT_MINSIGSTKSZ + signed) */
	enum pointer ptr;
};

struct outcome {
	long rc; /* 0 or -errno */
	uint64_t value;
};

#define MAX_STEPS 64

struct scenario {
	const char *name;
	struct step steps[MAX_STEPS];
};

#define GET(op, p)                                                                                 \
	{                                                                                          \
		PRCTL, (op), 0, (p)                                                                \
	}
#define REQ(op, i)                                                                                 \
	{                                                                                          \
		PRCTL, (op), (i), NONE                                                             \
	}
#define ALT(size)                                                                                  \
	{                                                                                          \
		ALTSTACK, 0, (size), NONE                                                          \
	}
#define ALT_REL(d)                                                                                 \
	{                                                                                          \
		ALTSTACK, 0, REL_MINSIG + (uint64_t)(int64_t)(d), NONE                             \
	}
#define ALT_OFF                                                                                    \
	{                                                                                          \
		ALTSTACK_DISABLE, 0, 0, NONE                                                       \
	}
#define GETS(p)                                                                                    \
	GET(VX_ARCH_GET_XCOMP_SUPP, p), GET(VX_ARCH_GET_XCOMP_PERM, p),                            \
	    GET(VX_ARCH_GET_XCOMP_GUEST_PERM, p)
#define REQ_IDX(op)                                                                                \
	REQ(op, 0), REQ(op, 1), REQ(op, 2), REQ(op, 3), REQ(op, 4), REQ(op, 5), REQ(op, 6),        \
	    REQ(op, 7), REQ(op, 8), REQ(op, 9), REQ(op, 10), REQ(op, 11), REQ(op, 12),             \
	    REQ(op, 13), REQ(op, 14), REQ(op, 15), REQ(op, 16), REQ(op, 17), REQ(op, 18),          \
	    REQ(op, 19), REQ(op, 20), REQ(op, 21), REQ(op, (UINT64_C(1) << 32) + 18),              \
	    REQ(op, UINT64_MAX)
#define END_STEP                                                                                   \
	{                                                                                          \
		END, 0, 0, NONE                                                                    \
	}

static const struct scenario scenarios[] = {
    {"GET operations", {GETS(VALID), END_STEP}},
    {"GET with bad pointers", {GETS(BAD_NULL), GETS(BAD_LOW), GETS(BAD_KERNEL), END_STEP}},
    {"REQ_XCOMP_PERM idx 0..21, 2^32+18, ~0",
     {REQ_IDX(VX_ARCH_REQ_XCOMP_PERM), GETS(VALID), END_STEP}},
    {"REQ_XCOMP_GUEST_PERM idx 0..21, 2^32+18, ~0",
     {REQ_IDX(VX_ARCH_REQ_XCOMP_GUEST_PERM), GETS(VALID), END_STEP}},
    {"unknown options",
     {GET(0, VALID), GET(0x1000, VALID), GET(0x1005, VALID), GET(0x1020, VALID), GET(0x1026, VALID),
      GET(0x1fff, VALID), GET(0x3000, VALID), GET(0x7fffffff, VALID), GET(0xffffffff, VALID),
      END_STEP}},
    {"option is an int",
     {GET((UINT64_C(1) << 32) | VX_ARCH_GET_XCOMP_SUPP, VALID),
      GET((UINT64_C(7) << 32) | VX_ARCH_GET_XCOMP_PERM, VALID),
      REQ((UINT64_C(1) << 32) | VX_ARCH_REQ_XCOMP_PERM, 18),
      REQ((UINT64_C(1) << 32) | VX_ARCH_REQ_XCOMP_PERM, 20), END_STEP}},
    {"sigaltstack sizes around the limits",
     {ALT(0), ALT(1), ALT(2047), ALT(2048), ALT(2049), ALT_REL(-1), ALT_REL(0), ALT_REL(1),
      ALT(65536), ALT_OFF, ALT(2047), END_STEP}},
    {"altstack, then REQ, then altstack",
     {ALT(2048), REQ(VX_ARCH_REQ_XCOMP_PERM, 18), REQ(VX_ARCH_REQ_XCOMP_GUEST_PERM, 18), ALT(2048),
      ALT(2047), ALT_REL(-1), GETS(VALID), END_STEP}},
    {"GUEST_PERM after REQ",
     {REQ(VX_ARCH_REQ_XCOMP_PERM, 18), GET(VX_ARCH_GET_XCOMP_GUEST_PERM, VALID),
      REQ(VX_ARCH_REQ_XCOMP_GUEST_PERM, 18), GET(VX_ARCH_GET_XCOMP_GUEST_PERM, VALID),
      GET(VX_ARCH_GET_XCOMP_PERM, VALID), REQ(VX_ARCH_REQ_XCOMP_GUEST_PERM, 17),
      GET(VX_ARCH_GET_XCOMP_GUEST_PERM, BAD_NULL), END_STEP}},
};

static uint64_t altstack_size(const struct step *s, uint64_t minsig)
{
	if (s->arg2 >= REL_MINSIG / 2)
		return minsig + (s->arg2 - REL_MINSIG);
	return s->arg2;
}

/* ----------------------------------------------------------------------------------------- */
/* The model                                                                                    */

static struct outcome model_step(struct vx_fpu_task *t, const struct step *s, uint64_t minsig)
{
	struct vx_error err = VX_ERROR_INIT;
	struct outcome o = {0, 0};

	switch (s->kind) {
	case PRCTL:
		o.rc = vx_fpu_arch_prctl(t, s->option, s->arg2, s->ptr == VALID ? &o.value : NULL,
					 &err);
		break;
	case ALTSTACK:
		o.rc = vx_fpu_task_sigaltstack(t, false, altstack_size(s, minsig), &err);
		break;
	default:
		o.rc = vx_fpu_task_sigaltstack(t, true, 0, &err);
		break;
	}
	return o;
}

static void run_model(const struct vx_fpu_system *sys, const struct scenario *sc,
		      struct outcome *out, uint64_t minsig)
{
	struct vx_fpu_machine *m = ft_machine(sys, 1);
	struct vx_fpu_task *t = ft_spawn(m);

	for (int i = 0; sc->steps[i].kind != END; i++)
		out[i] = model_step(t, &sc->steps[i], minsig);
	vx_fpu_machine_destroy(m);
}

/* ----------------------------------------------------------------------------------------- */
/* The real kernel, in a child                                                                  */

static char altstack_memory[1 << 16];

static unsigned long pointer_arg(enum pointer p, uint64_t *value)
{
	static const unsigned long bad[] = {
	    [BAD_NULL] = 0, [BAD_LOW] = 1, [BAD_KERNEL] = 0xffff800000001000ul};

	return p == VALID ? (unsigned long)value : bad[p];
}

static struct outcome real_step(const struct step *s, uint64_t minsig)
{
	struct outcome o = {0, 0};
	stack_t ss = {altstack_memory, 0, 0};
	long rc;

	if (s->kind == PRCTL) {
		unsigned long arg2 =
		    s->ptr == NONE ? (unsigned long)s->arg2 : pointer_arg(s->ptr, &o.value);

		rc = syscall(SYS_arch_prctl, (unsigned long)s->option, arg2);
	} else {
		ss.ss_flags = s->kind == ALTSTACK_DISABLE ? SS_DISABLE : 0;
		ss.ss_size = (size_t)altstack_size(s, minsig);
		rc = sigaltstack(&ss, NULL);
	}
	o.rc = rc < 0 ? -errno : rc;
	return o;
}

static int run_real(const struct scenario *sc, struct outcome *out, uint64_t minsig)
{
	int fds[2], status = 0;
	pid_t pid;
	size_t n = 0;

	while (sc->steps[n].kind != END)
		n++;
	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct outcome res[MAX_STEPS];

		for (size_t i = 0; i < n; i++)
			res[i] = real_step(&sc->steps[i], minsig);
		_exit(write(fds[1], res, n * sizeof(res[0])) == (ssize_t)(n * sizeof(res[0])) ? 0
											      : 1);
	}
	close(fds[1]);
	if (read(fds[0], out, n * sizeof(out[0])) != (ssize_t)(n * sizeof(out[0])))
		status = -1;
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return status;
}

static int compare(const struct scenario *sc, const struct outcome *model,
		   const struct outcome *real)
{
	int failures = 0;

	for (int i = 0; sc->steps[i].kind != END; i++) {
		const struct step *s = &sc->steps[i];

		if (model[i].rc == real[i].rc && model[i].value == real[i].value)
			continue;
		print_error(
		    "%s, step %d (kind %d option 0x%llx arg 0x%llx ptr %d): model %ld 0x%llx,"
		    " kernel %ld 0x%llx\n",
		    sc->name, i, (int)s->kind, (unsigned long long)s->option,
		    (unsigned long long)s->arg2, (int)s->ptr, model[i].rc,
		    (unsigned long long)model[i].value, real[i].rc,
		    (unsigned long long)real[i].value);
		failures++;
	}
	return failures;
}

static void tally(long rc, int *seen)
{
	static const long codes[] = {0, -EINVAL, -EOPNOTSUPP, -EFAULT, -ENOMEM};

	for (int k = 0; k < 5; k++)
		seen[k] += rc == codes[k];
}

static void test_prctl_against_kernel(void **state)
{
	struct vx_profile host;
	struct vx_fpu_system *sys;
	uint64_t minsig = getauxval(AT_MINSIGSTKSZ);
	int failures = 0, steps = 0, seen[5] = {0};

	(void)state;
	if (vx_profile_from_host(&host, NULL) != 0)
		skip();
	sys = ft_boot_profile(&host, VX_FPU_CET_GUEST_ONLY, NULL);
	if (minsig == 0)
		minsig = vx_fpu_max_frame_size(sys);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		struct outcome model[MAX_STEPS], real[MAX_STEPS];

		memset(model, 0, sizeof(model));
		memset(real, 0, sizeof(real));
		run_model(sys, &scenarios[i], model, minsig);
		assert_int_equal(run_real(&scenarios[i], real, minsig), 0);
		failures += compare(&scenarios[i], model, real);
		for (int j = 0; scenarios[i].steps[j].kind != END; j++, steps++)
			tally(real[j].rc, seen);
	}
	print_message("%zu scenarios, %d steps compared with the kernel: %d returned 0, %d EINVAL, "
		      "%d EOPNOTSUPP, %d EFAULT, %d ENOMEM\n",
		      sizeof(scenarios) / sizeof(scenarios[0]), steps, seen[0], seen[1], seen[2],
		      seen[3], seen[4]);
	/* The scenarios reach every code this kernel can give. */
	for (int k = 0; k < 5; k++)
		assert_true(seen[k] > 0);
	vx_fpu_system_destroy(sys);
	assert_int_equal(failures, 0);
}
#else
static void test_prctl_against_kernel(void **state)
{
	(void)state;
	skip();
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prctl_against_kernel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
