/* SPDX-License-Identifier: MIT */
/*
 * Calibration on this machine (issue 9, "measured on this machine where it can be"; docs/eval.md
 * "Cost model"): the real user-mode XSAVE/XSAVEOPT/XSAVEC/XRSTOR timed with and without extra
 * components in their initial configuration in RFBM (the init optimization the seeds rest on),
 * the real /dev/kvm KVM_RUN round trip of a minimal guest and one ioctl, a syscall, an fpstate
 * reallocation and a context switch.  Medians of short batches; whatever cannot run here is
 * reported with the reason and leaves its constant alone.
 *
 * The timed instructions run in inline assembly with the state loaded in the same asm
 * statement (compiled code between them could touch XMM registers and change XINUSE).  The
 * images keep FCW 0x037F, FSW 0, an empty x87 tag word and MXCSR 0x1F80, so nothing loaded
 * here can raise an FP exception or break the ABI's empty x87 stack; everything is put back
 * in its initial configuration at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vxsave/cpu_hw.h>
#include <vxsave/eval_cost.h>

#include "eval/cost_internal.h"

#if defined(__x86_64__) && defined(__linux__)
#define CAL_X86_LINUX 1
#include <fcntl.h>
#include <linux/kvm.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define CAL_RULE	    "docs/eval.md \"Cost model\""
#define CAL_SAMPLES_DEFAULT 31u
#define CAL_SAMPLES_MAX	    255u
#define CAL_XSAVE_BATCH	    200u
#define CAL_AREA_MAX	    16384u

/* arch.md §2.1: x87 (0), SSE (1), AVX (2), opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7): the
 * components user mode may load with any data; PKRU, MPX, AMX (XFD) and APX are left out. */
#define CAL_BASE_MASK	  UINT64_C(0x3)
#define CAL_LOADABLE_MASK UINT64_C(0xE7)
#define CAL_MXCSR_DEFAULT 0x1F80u
#define CAL_FCW_DEFAULT	  0x037Fu
#define CAL_XSTATE_BV	  512u
#define CAL_XCOMP_BV	  520u
#define CAL_COMPACTED	  (UINT64_C(1) << 63)

static const char *const cal_insn_names[VX_CAL_INSN_COUNT] = {
    "XSAVE64", "XSAVEOPT64", "XSAVEC64", "XRSTOR64", "XSAVES64",
};

const char *vx_eval_cal_insn_name(enum vx_eval_cal_insn insn)
{
	return (unsigned)insn < VX_CAL_INSN_COUNT ? cal_insn_names[insn] : NULL;
}

static void set_why(char *why, const char *text)
{
	if (why)
		snprintf(why, VX_CAL_WHY_MAX, "%s", text);
}

/* Every measurement unmeasured with @why (the reasons a skipped run reports). */
static void cal_all_unmeasured(struct vx_eval_calibration *cal, const char *why)
{
	struct vx_eval_cal_value *values[] = {
	    &cal->xsave_insn, &cal->xsave_byte, &cal->xrstor_insn, &cal->xrstor_byte,
	    &cal->kvm_run,    &cal->kvm_ioctl,	&cal->syscall,	   &cal->realloc,
	    &cal->handoff,    &cal->switch_rest};

	for (unsigned i = 0; i < VX_CAL_INSN_COUNT; i++)
		set_why(cal->init[i].why, why);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		set_why(values[i]->why, why);
}

#if CAL_X86_LINUX

/* ----------------------------------------------------------------------------------------- */
/* Timing                                                                                       */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One batch of @n operations of the measurement @ctx describes; returns 0 or -1 (failed). */
typedef int (*cal_batch_fn)(void *ctx, unsigned n);

/* Median ns per operation over @samples batches of @n (one warm-up batch first); < 0 if a
 * batch failed. */
static double cal_median(cal_batch_fn fn, void *ctx, unsigned n, unsigned samples)
{
	double v[CAL_SAMPLES_MAX];

	if (fn(ctx, n) != 0)
		return -1;
	for (unsigned i = 0; i < samples; i++) {
		double start = now_ns();

		if (fn(ctx, n) != 0)
			return -1;
		v[i] = (now_ns() - start) / n;
	}
	qsort(v, samples, sizeof(v[0]), compare_doubles);
	return v[samples / 2];
}

static void put_value(struct vx_eval_cal_value *out, double ns)
{
	out->measured = ns >= 0;
	out->ns = ns >= 0 ? ns : 0;
	if (ns < 0)
		set_why(out->why, "the measured operation failed");
}

/* ----------------------------------------------------------------------------------------- */
/* The XSAVE family                                                                             */

/* Clobbers of every asm statement that loads state: the vector registers it changes. */
#define CAL_VEC_CLOBBERS                                                                           \
	"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",   \
	    "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

/* XRSTOR64 @load with RFBM @load_mask, then @n times SAVE to @area with RFBM @mask. */
#define CAL_SAVE_LOOP(insn)                                                                        \
	__asm__ __volatile__("xrstor64 (%[load])\n\t"                                              \
			     "mov %[lo], %%eax\n\t"                                                \
			     "mov %[hi], %%edx\n\t"                                                \
			     "1: " insn " (%[area])\n\t"                                           \
			     "dec %[n]\n\t"                                                        \
			     "jnz 1b\n\t"                                                          \
			     : [n] "+r"(n), "+a"(load_lo), "+d"(load_hi)                           \
			     : [load] "r"(load), [area] "r"(area), [lo] "r"(lo), [hi] "r"(hi)      \
			     : "memory", "cc", CAL_VEC_CLOBBERS)

struct cal_xs {
	const struct vx_hw_host *host;
	enum vx_eval_cal_insn insn;
	uint8_t *load;	   /* standard image loaded before a save batch */
	uint8_t *area;	   /* what the instruction saves to or restores from */
	uint64_t mask;	   /* RFBM of the timed instruction */
	uint64_t loadable; /* RFBM of the load */
};

static int xs_batch(void *opaque, unsigned n)
{
	struct cal_xs *c = opaque;
	const void *load = c->load;
	void *area = c->area;
	uint32_t lo = (uint32_t)c->mask, hi = (uint32_t)(c->mask >> 32);
	uint32_t load_lo = (uint32_t)c->loadable, load_hi = (uint32_t)(c->loadable >> 32);

	if (c->insn == VX_CAL_XSAVE)
		CAL_SAVE_LOOP("xsave64");
	else if (c->insn == VX_CAL_XSAVEOPT)
		CAL_SAVE_LOOP("xsaveopt64");
	else if (c->insn == VX_CAL_XSAVEC)
		CAL_SAVE_LOOP("xsavec64");
	else
		__asm__ __volatile__("1: xrstor64 (%[area])\n\t"
				     "dec %[n]\n\t"
				     "jnz 1b\n\t"
				     : [n] "+r"(n)
				     : [area] "r"(area), "a"(lo), "d"(hi)
				     : "memory", "cc", CAL_VEC_CLOBBERS);
	return 0;
}

static void store_u64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/*
 * A standard image with random bytes in every loadable component, XSTATE_BV = @bv: FCW
 * 0x037F, FSW 0, an empty tag word, MXCSR 0x1F80 (arch.md §2.1: valid, and nothing pending).
 */
static void fill_image(const struct vx_hw_host *host, uint8_t *img, uint64_t bv)
{
	uint64_t x = UINT64_C(0x9E3779B97F4A7C15);
	uint32_t mxcsr = CAL_MXCSR_DEFAULT;
	uint16_t fcw = CAL_FCW_DEFAULT;

	memset(img, 0, CAL_AREA_MAX);
	for (uint32_t i = 0; i < host->std_size && i + 8 <= CAL_AREA_MAX; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		store_u64(img + i, x | 1); /* never zero: every component in use */
	}
	memcpy(img, &fcw, 2);
	memset(img + 2, 0, 4); /* FSW and the abridged tag word (all empty) */
	memcpy(img + 24, &mxcsr, 4);
	memset(img + 28, 0, 4); /* MXCSR_MASK is ignored by XRSTOR; keep it 0 */
	memset(img + 464, 0, 576 - 464);
	store_u64(img + CAL_XSTATE_BV, bv);
}

/* linux-fpu.md §8.1 counting as the fpu layer does (fpstate.c): header, MXCSR, components. */
static uint64_t moved_bytes(const struct vx_hw_host *host, uint64_t mask)
{
	uint64_t bytes = 64 + ((mask & 0x6) ? 8 : 0);

	bytes += (mask & 1) ? 160 : 0;
	bytes += (mask & 2) ? 256 : 0;
	for (unsigned i = 2; i < 64; i++)
		if (mask & (UINT64_C(1) << i))
			bytes += host->comp_size[i];
	return bytes;
}

/*
 * The XSAVE measurements run interleaved: every sample times one batch of each configuration
 * in turn, so a slow phase of the machine (it is shared, and nested) hits them all alike;
 * each configuration's median is taken over the samples.
 */
#define CAL_MAX_CONFIGS 24 /* 4 instructions x 3 for the claim, 2 x 4 for the fits */

struct cal_config {
	struct cal_xs xs;
	uint64_t bytes; /* moved, as the fpu layer counts them */
	double ns;	/* median per instruction */
};

struct cal_xsave_set {
	const struct vx_hw_host *host;
	uint8_t *use, *base, *area, *r_use, *r_init;
	uint64_t all, extra;
	unsigned extra_count, samples;
	struct cal_config config[CAL_MAX_CONFIGS];
	unsigned nconfig;
};

/* Add a configuration; returns its index. */
static unsigned add_config(struct cal_xsave_set *s, enum vx_eval_cal_insn insn, uint8_t *load,
			   uint8_t *area, uint64_t mask)
{
	struct cal_config *c = &s->config[s->nconfig];

	_Static_assert(CAL_MAX_CONFIGS >= 3 * (VX_CAL_INSN_COUNT - 1) + 2 * 4, "room for all");
	c->xs = (struct cal_xs){s->host, insn, load, area, mask, s->all};
	c->bytes = moved_bytes(s->host, mask);
	c->ns = 0;
	return s->nconfig++;
}

static int time_configs(struct cal_xsave_set *s, const struct vx_platform *pf)
{
	double *v = pf->alloc(pf->ctx, sizeof(double) * CAL_MAX_CONFIGS * s->samples, 8);

	if (!v)
		return -ENOMEM;
	for (unsigned k = 0; k < s->nconfig; k++)
		xs_batch(&s->config[k].xs, CAL_XSAVE_BATCH); /* warm-up */
	for (unsigned i = 0; i < s->samples; i++)
		for (unsigned k = 0; k < s->nconfig; k++) {
			double start = now_ns();

			xs_batch(&s->config[k].xs, CAL_XSAVE_BATCH);
			v[k * s->samples + i] = (now_ns() - start) / CAL_XSAVE_BATCH;
		}
	for (unsigned k = 0; k < s->nconfig; k++) {
		qsort(v + k * s->samples, s->samples, sizeof(double), compare_doubles);
		s->config[k].ns = v[k * s->samples + s->samples / 2];
	}
	pf->free(pf->ctx, v);
	return 0;
}

/* The compacted restore sources: XSAVEC64 of everything in use, and a copy with the extra
 * components' XSTATE_BV bits clear (XRSTOR then initializes them, arch.md §5.5). */
static void make_restore_areas(struct cal_xsave_set *s)
{
	struct cal_xs c = {s->host, VX_CAL_XSAVEC, s->use, s->r_use, s->all, s->all};
	uint64_t bv;

	xs_batch(&c, 1);
	memcpy(s->r_init, s->r_use, CAL_AREA_MAX);
	memcpy(&bv, s->r_use + CAL_XSTATE_BV, 8);
	store_u64(s->r_init + CAL_XSTATE_BV, bv & ~s->extra);
}

static bool insn_runs(const struct vx_hw_host *host, enum vx_eval_cal_insn insn, char *why)
{
	if (insn == VX_CAL_XSAVES) {
		set_why(why, "XSAVES/XRSTORS are CPL0 instructions (#GP in user mode): the "
			     "supervisor factor is a published figure");
		return false;
	}
	if (insn == VX_CAL_XSAVEOPT && !host->has_xsaveopt) {
		set_why(why, "this CPU has no XSAVEOPT (CPUID.(0xD,1):EAX[0])");
		return false;
	}
	if ((insn == VX_CAL_XSAVEC || insn == VX_CAL_XRSTOR) && !host->has_xsavec) {
		set_why(why,
			"this CPU has no XSAVEC (CPUID.(0xD,1):EAX[1]) for the compacted form");
		return false;
	}
	return true;
}

/* The three configurations of the init claim for @insn: base, extra initial, extra in use. */
static void plan_init(struct cal_xsave_set *s, enum vx_eval_cal_insn insn, unsigned first[],
		      struct vx_eval_cal_init *out)
{
	bool restore = insn == VX_CAL_XRSTOR;

	memset(out, 0, sizeof(*out));
	first[insn] = CAL_MAX_CONFIGS;
	if (!insn_runs(s->host, insn, out->why))
		return;
	if (s->extra_count == 0) {
		set_why(out->why,
			"XCR0 has no loadable component beyond x87 and SSE to put in RFBM");
		return;
	}
	first[insn] = add_config(s, insn, s->use, restore ? s->r_use : s->area, CAL_BASE_MASK);
	add_config(s, insn, s->base, restore ? s->r_init : s->area, s->all);
	add_config(s, insn, s->use, restore ? s->r_use : s->area, s->all);
}

static void read_init(const struct cal_xsave_set *s, unsigned first, struct vx_eval_cal_init *out)
{
	if (first >= CAL_MAX_CONFIGS)
		return;
	out->measured = true;
	out->base_ns = s->config[first].ns;
	out->init_ns = s->config[first + 1].ns;
	out->in_use_ns = s->config[first + 2].ns;
	out->init_per_component_ns = (out->init_ns - out->base_ns) / s->extra_count;
	out->in_use_per_component_ns = (out->in_use_ns - out->base_ns) / s->extra_count;
}

/*
 * The fit points of @insn (XSAVEC or XRSTOR): RFBM 0 (the header alone), x87, x87+SSE and
 * every loadable component, all in use.  Returns the first index, or CAL_MAX_CONFIGS.
 */
static unsigned plan_fit(struct cal_xsave_set *s, enum vx_eval_cal_insn insn)
{
	uint8_t *area = insn == VX_CAL_XRSTOR ? s->r_use : s->area;
	unsigned first;

	if (!insn_runs(s->host, insn, NULL))
		return CAL_MAX_CONFIGS;
	first = add_config(s, insn, s->use, area, 0);
	add_config(s, insn, s->use, area, 1);
	add_config(s, insn, s->use, area, CAL_BASE_MASK);
	add_config(s, insn, s->use, area, s->all);
	return first;
}

/* Least squares of ns over moved bytes: the fixed part and the cost per byte. */
static void fit(const struct cal_xsave_set *s, unsigned first, const char *why,
		struct vx_eval_cal_value *insn, struct vx_eval_cal_value *byte)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0;

	if (first >= CAL_MAX_CONFIGS) {
		set_why(insn->why, why);
		set_why(byte->why, why);
		return;
	}
	for (unsigned k = first; k < first + 4; k++) {
		mx += (double)s->config[k].bytes / 4;
		my += s->config[k].ns / 4;
	}
	for (unsigned k = first; k < first + 4; k++) {
		sxy += ((double)s->config[k].bytes - mx) * (s->config[k].ns - my);
		sxx += ((double)s->config[k].bytes - mx) * ((double)s->config[k].bytes - mx);
	}
	byte->measured = insn->measured = true;
	byte->ns = sxx > 0 && sxy > 0 ? sxy / sxx : 0; /* never negative: noise */
	insn->ns = my - byte->ns * mx > 0 ? my - byte->ns * mx : 0;
}

/* Put every loadable component back in its initial configuration (MXCSR and FCW default). */
static void reset_state(uint8_t *img, uint64_t mask)
{
	uint32_t lo = (uint32_t)mask, hi = (uint32_t)(mask >> 32), mxcsr = CAL_MXCSR_DEFAULT;

	/* arch.md §5.5: the standard form loads MXCSR from the area whatever XSTATE_BV says. */
	memset(img, 0, 576);
	memcpy(img + 24, &mxcsr, 4);
	__asm__ __volatile__("xrstor64 (%[img])\n\t"
			     :
			     : [img] "r"(img), "a"(lo), "d"(hi)
			     : "memory", CAL_VEC_CLOBBERS);
}

static void xsave_set_init(struct cal_xsave_set *s, uint8_t *mem, const struct vx_hw_host *host,
			   unsigned samples)
{
	memset(s, 0, sizeof(*s));
	s->host = host;
	s->use = mem;
	s->base = mem + CAL_AREA_MAX;
	s->area = mem + 2 * CAL_AREA_MAX;
	s->r_use = mem + 3 * CAL_AREA_MAX;
	s->r_init = mem + 4 * CAL_AREA_MAX;
	s->all = host->xcr0 & CAL_LOADABLE_MASK;
	s->extra = s->all & ~CAL_BASE_MASK;
	s->extra_count = (unsigned)__builtin_popcountll(s->extra);
	s->samples = samples;
}

static void cal_free(const struct vx_platform *pf, void *p)
{
	if (p)
		pf->free(pf->ctx, p);
}

static int measure_xsave(struct vx_eval_calibration *cal, const struct vx_hw_host *host,
			 unsigned samples, const struct vx_platform *pf)
{
	uint8_t *mem = pf->alloc(pf->ctx, 5 * (size_t)CAL_AREA_MAX, 64);
	unsigned first[VX_CAL_INSN_COUNT], fit_save, fit_restore;
	struct cal_xsave_set *s = pf->alloc(pf->ctx, sizeof(*s), _Alignof(struct cal_xsave_set));
	int rc;

	if (!mem || !s) {
		cal_free(pf, mem);
		cal_free(pf, s);
		return -ENOMEM;
	}
	memset(mem, 0, 5 * (size_t)CAL_AREA_MAX);
	xsave_set_init(s, mem, host, samples);
	cal->base_mask = CAL_BASE_MASK;
	cal->extra_mask = s->extra;
	cal->extra_count = s->extra_count;
	fill_image(host, s->use, s->all);
	fill_image(host, s->base, CAL_BASE_MASK);
	if (host->has_xsavec)
		make_restore_areas(s);
	for (unsigned i = 0; i < VX_CAL_INSN_COUNT; i++)
		plan_init(s, (enum vx_eval_cal_insn)i, first, &cal->init[i]);
	fit_save = plan_fit(s, VX_CAL_XSAVEC);
	fit_restore = plan_fit(s, VX_CAL_XRSTOR);
	rc = time_configs(s, pf);
	reset_state(mem, s->all);
	for (unsigned i = 0; rc == 0 && i < VX_CAL_INSN_COUNT; i++)
		read_init(s, first[i], &cal->init[i]);
	fit(s, fit_save, cal->init[VX_CAL_XSAVEC].why, &cal->xsave_insn, &cal->xsave_byte);
	fit(s, fit_restore, cal->init[VX_CAL_XRSTOR].why, &cal->xrstor_insn, &cal->xrstor_byte);
	cal_free(pf, mem);
	cal_free(pf, s);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* /dev/kvm: a real-mode guest doing OUT 0x10 in a loop                                         */

/* OUT 0x10, AL; JMP back to it (real mode, CS base 0, RIP 0). */
static const uint8_t kvm_guest_code[] = {0xE6, 0x10, 0xEB, 0xFC};

struct cal_kvm {
	int sys, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;
	char why[VX_CAL_WHY_MAX];
};

static int kvm_fail(struct cal_kvm *k, const char *what)
{
	snprintf(k->why, sizeof(k->why), "%s: %s", what, strerror(errno));
	return -1;
}

static int kvm_regs_setup(struct cal_kvm *k)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(k->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return kvm_fail(k, "KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(k->vcpu, KVM_SET_SREGS, &sregs) < 0)
		return kvm_fail(k, "KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0;
	regs.rflags = 2;
	if (ioctl(k->vcpu, KVM_SET_REGS, &regs) < 0)
		return kvm_fail(k, "KVM_SET_REGS");
	return 0;
}

static int kvm_vm_setup(struct cal_kvm *k)
{
	struct kvm_userspace_memory_region region;
	int mmap_size;

	k->vm = ioctl(k->sys, KVM_CREATE_VM, 0);
	if (k->vm < 0)
		return kvm_fail(k, "KVM_CREATE_VM");
	k->mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k->mem == MAP_FAILED)
		return k->mem = NULL, kvm_fail(k, "mmap of guest memory");
	memcpy(k->mem, kvm_guest_code, sizeof(kvm_guest_code));
	region = (struct kvm_userspace_memory_region){0, 0, 0, 4096, (uint64_t)(uintptr_t)k->mem};
	if (ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return kvm_fail(k, "KVM_SET_USER_MEMORY_REGION");
	(void)ioctl(k->vm, KVM_SET_TSS_ADDR, 0xfffbd000ul); /* real mode on old VMX; else unused */
	k->vcpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
	mmap_size = ioctl(k->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->vcpu < 0 || mmap_size <= 0)
		return kvm_fail(k, "KVM_CREATE_VCPU");
	k->run_size = (size_t)mmap_size;
	k->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu, 0);
	if (k->run == MAP_FAILED)
		return k->run = NULL, kvm_fail(k, "mmap of kvm_run");
	return kvm_regs_setup(k);
}

static void kvm_close(struct cal_kvm *k)
{
	if (k->run)
		munmap(k->run, k->run_size);
	if (k->mem)
		munmap(k->mem, 4096);
	if (k->vcpu >= 0)
		close(k->vcpu);
	if (k->vm >= 0)
		close(k->vm);
	if (k->sys >= 0)
		close(k->sys);
}

static int kvm_run_batch(void *opaque, unsigned n)
{
	struct cal_kvm *k = opaque;

	for (unsigned i = 0; i < n; i++) {
		if (ioctl(k->vcpu, KVM_RUN, 0) < 0)
			return kvm_fail(k, "KVM_RUN");
		if (k->run->exit_reason != KVM_EXIT_IO || k->run->io.port != 0x10) {
			snprintf(k->why, sizeof(k->why),
				 "KVM_RUN of the real-mode guest exited with reason %u, not the "
				 "OUT (KVM_EXIT_IO)",
				 k->run->exit_reason);
			return -1;
		}
	}
	return 0;
}

static int kvm_ioctl_batch(void *opaque, unsigned n)
{
	struct cal_kvm *k = opaque;

	for (unsigned i = 0; i < n; i++)
		if (ioctl(k->vm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) < 0)
			return kvm_fail(k, "KVM_CHECK_EXTENSION");
	return 0;
}

static void kvm_unmeasured(struct vx_eval_calibration *cal, const char *why)
{
	set_why(cal->kvm_run.why, why);
	set_why(cal->kvm_ioctl.why, why);
}

static void measure_kvm(struct vx_eval_calibration *cal, unsigned samples)
{
	struct cal_kvm k = {-1, -1, -1, NULL, 0, NULL, {0}};
	double run_ns, ioctl_ns;

	k.sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k.sys < 0) {
		kvm_fail(&k, "no usable /dev/kvm");
		kvm_unmeasured(cal, k.why);
		return;
	}
	if (ioctl(k.sys, KVM_GET_API_VERSION, 0) != KVM_API_VERSION || kvm_vm_setup(&k) != 0) {
		if (!k.why[0])
			set_why(k.why, "/dev/kvm speaks another KVM API version");
		kvm_close(&k);
		kvm_unmeasured(cal, k.why);
		return;
	}
	run_ns = cal_median(kvm_run_batch, &k, 16, samples);
	ioctl_ns = cal_median(kvm_ioctl_batch, &k, 64, samples);
	if (run_ns < 0 || ioctl_ns < 0)
		kvm_unmeasured(cal, k.why);
	else {
		put_value(&cal->kvm_run, run_ns);
		put_value(&cal->kvm_ioctl, ioctl_ns);
	}
	kvm_close(&k);
}

/* ----------------------------------------------------------------------------------------- */
/* A syscall, a reallocation, a context switch                                                  */

static int syscall_batch(void *opaque, unsigned n)
{
	(void)opaque;
	for (unsigned i = 0; i < n; i++)
		if (syscall(SYS_getppid) < 0)
			return -1;
	return 0;
}

#define CAL_REALLOC_BYTES 12288u

/* fpstate_realloc() (linux-fpu.md §5.3): vzalloc of the bigger buffer, copy, vfree. */
static int realloc_batch(void *opaque, unsigned n)
{
	const uint8_t *old = opaque;

	for (unsigned i = 0; i < n; i++) {
		void *p = mmap(NULL, CAL_REALLOC_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (p == MAP_FAILED)
			return -1;
		memcpy(p, old, CAL_REALLOC_BYTES);
		munmap(p, CAL_REALLOC_BYTES);
	}
	return 0;
}

struct cal_pingpong {
	int to_child, from_child;
};

/* will-it-scale context_switch1: one byte each way through two pipes, 2 hand-offs a trip. */
static int pingpong_batch(void *opaque, unsigned n)
{
	struct cal_pingpong *p = opaque;
	char c = 'x';

	for (unsigned i = 0; i < n; i++)
		if (write(p->to_child, &c, 1) != 1 || read(p->from_child, &c, 1) != 1)
			return -1;
	return 0;
}

static void child_echo(int in, int out)
{
	char c;

	while (read(in, &c, 1) == 1)
		if (write(out, &c, 1) != 1)
			break;
	_exit(0);
}

/* Both processes on the CPU this one runs on; *@pinned false if that is not allowed. */
static pid_t start_echo(struct cal_pingpong *p, int fds[4], bool *pinned)
{
	cpu_set_t one;
	int cpu = sched_getcpu();
	pid_t pid;

	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	*pinned = sched_setaffinity(0, sizeof(one), &one) == 0;
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		close(fds[2]);
		child_echo(fds[0], fds[3]);
	}
	close(fds[0]);
	close(fds[3]);
	p->to_child = fds[1];
	p->from_child = fds[2];
	return pid;
}

static void measure_switch(struct vx_eval_calibration *cal, unsigned samples)
{
	struct cal_pingpong p;
	cpu_set_t saved;
	int fds[4];
	bool pinned = false, have_mask = sched_getaffinity(0, sizeof(saved), &saved) == 0;
	pid_t pid;
	double ns;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		set_why(cal->handoff.why, "pipe2 failed");
		return;
	}
	if (pipe2(fds + 2, O_CLOEXEC) != 0) {
		close(fds[0]);
		close(fds[1]);
		set_why(cal->handoff.why, "pipe2 failed");
		return;
	}
	pid = start_echo(&p, fds, &pinned);
	ns = pid < 0 ? -1 : cal_median(pingpong_batch, &p, 200, samples);
	close(p.to_child);
	close(p.from_child);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (have_mask)
		sched_setaffinity(0, sizeof(saved), &saved);
	if (pid < 0) {
		set_why(cal->handoff.why, "fork failed");
		return;
	}
	put_value(&cal->handoff, ns < 0 ? ns : ns / 2);
	if (cal->handoff.measured && !pinned)
		set_why(cal->handoff.why, "not pinned to one CPU: hand-offs crossed CPUs");
}

/* The hand-off without this CPU's own save and restore of its in-use state. */
static void switch_rest(struct vx_eval_calibration *cal)
{
	const struct vx_eval_cal_init *save = &cal->init[VX_CAL_XSAVEC];
	const struct vx_eval_cal_init *restore = &cal->init[VX_CAL_XRSTOR];

	if (!cal->handoff.measured || !save->measured || !restore->measured) {
		set_why(cal->switch_rest.why, cal->handoff.measured ? save->why : cal->handoff.why);
		return;
	}
	put_value(&cal->switch_rest, cal->handoff.ns - save->in_use_ns - restore->in_use_ns);
	if (!cal->switch_rest.measured) { /* the FPU part exceeded the whole: noise */
		put_value(&cal->switch_rest, 0);
		set_why(cal->switch_rest.why, "hand-off shorter than XSAVEC+XRSTOR: clamped to 0");
	}
}

/* ----------------------------------------------------------------------------------------- */
/* The table                                                                                    */

static void brand_string(char *out, size_t len)
{
	uint32_t r[12];
	char text[49];
	size_t start = 0;

	memset(r, 0, sizeof(r));
	for (unsigned i = 0; i < 3; i++)
		vx_hw_cpuid(0x80000002u + i, 0, r + 4 * i);
	memcpy(text, r, 48);
	text[48] = '\0';
	while (text[start] == ' ')
		start++;
	snprintf(out, len, "%s", text[start] ? text + start : "an x86-64 CPU");
}

/* Constant @id := @v (ns or ns/B) measured here by @how, if it was measured. */
static void table_put(struct vx_eval_cost_table *table, const struct vx_eval_calibration *cal,
		      enum vx_eval_cost_id id, const struct vx_eval_cal_value *v, const char *how)
{
	char source[VX_COST_SOURCE_MAX];
	bool rate = vx_eval_cost_info(id)->kind == VX_COST_KIND_RATE;

	if (!table || !v->measured)
		return;
	snprintf(source, sizeof(source),
		 "vx_eval_calibrate() here (%s, XCR0 0x%llx): %s, median of %u", cal->cpu,
		 (unsigned long long)cal->xcr0, how, cal->samples);
	vx_eval_cost_set(table, id, v->ns, rate ? "ns/B" : "ns", VX_COST_MEASURED, source, NULL);
}

static void fill_table(struct vx_eval_cost_table *table, const struct vx_eval_calibration *cal)
{
	struct vx_eval_cal_value init_save = {cal->init[VX_CAL_XSAVEC].measured, {0}, 0};
	struct vx_eval_cal_value init_restore = {cal->init[VX_CAL_XRSTOR].measured, {0}, 0};
	struct vx_eval_cal_value exit_user = cal->kvm_run;

	init_save.ns = cal->init[VX_CAL_XSAVEC].init_per_component_ns;
	init_restore.ns = cal->init[VX_CAL_XRSTOR].init_per_component_ns;
	init_save.ns = init_save.ns < 0 ? 0 : init_save.ns;
	init_restore.ns = init_restore.ns < 0 ? 0 : init_restore.ns;
	exit_user.measured = cal->kvm_run.measured && cal->kvm_ioctl.measured;
	exit_user.ns =
	    cal->kvm_run.ns > cal->kvm_ioctl.ns ? cal->kvm_run.ns - cal->kvm_ioctl.ns : 0;
	table_put(table, cal, VX_COST_XSAVE_INSN, &cal->xsave_insn, "XSAVEC64 fixed part");
	table_put(table, cal, VX_COST_XSAVE_BYTE, &cal->xsave_byte, "XSAVEC64 per byte");
	table_put(table, cal, VX_COST_XSAVE_INIT, &init_save, "XSAVEC64 per initial component");
	table_put(table, cal, VX_COST_XRSTOR_INSN, &cal->xrstor_insn, "XRSTOR64 fixed part");
	table_put(table, cal, VX_COST_XRSTOR_BYTE, &cal->xrstor_byte, "XRSTOR64 per byte");
	table_put(table, cal, VX_COST_XRSTOR_INIT, &init_restore,
		  "XRSTOR64 per initialized component");
	table_put(table, cal, VX_COST_EXIT_USER, &exit_user,
		  "KVM_RUN round trip of a real-mode OUT minus kvm_ioctl");
	table_put(table, cal, VX_COST_KVM_IOCTL, &cal->kvm_ioctl, "KVM_CHECK_EXTENSION on a VM");
	table_put(table, cal, VX_COST_KERNEL_ENTRY, &cal->syscall, "getppid()");
	table_put(table, cal, VX_COST_REALLOC, &cal->realloc, "mmap+copy+munmap of 12 KiB");
	table_put(table, cal, VX_COST_SWITCH, &cal->switch_rest,
		  "pipe ping-pong hand-off on one CPU minus XSAVEC64+XRSTOR64");
}

static int calibrate_here(struct vx_eval_cost_table *table,
			  const struct vx_eval_calibrate_options *o, const struct vx_platform *pf,
			  struct vx_eval_calibration *cal, struct vx_error *err)
{
	struct vx_hw_host host;
	uint8_t old[CAL_REALLOC_BYTES];
	int rc;

	if (vx_hw_host_query(&host) != 0 || !host.has_xsave || !host.has_osxsave) {
		cal_all_unmeasured(cal, "no XSAVE/OSXSAVE on this CPU");
		return vx_error_set(err, -ENOTSUP, CAL_RULE, "this CPU has no usable XSAVE");
	}
	cal->xcr0 = host.xcr0;
	brand_string(cal->cpu, sizeof(cal->cpu));
	rc = measure_xsave(cal, &host, cal->samples, pf);
	if (rc != 0)
		return vx_error_set(err, rc, CAL_RULE, "no memory for the XSAVE areas");
	if (o && o->skip_kvm)
		kvm_unmeasured(cal, "skipped (skip_kvm)");
	else
		measure_kvm(cal, cal->samples);
	put_value(&cal->syscall, cal_median(syscall_batch, NULL, 256, cal->samples));
	memset(old, 0x5a, sizeof(old));
	put_value(&cal->realloc, cal_median(realloc_batch, old, 8, cal->samples));
	if (o && o->skip_switch)
		set_why(cal->handoff.why, "skipped (skip_switch)");
	else
		measure_switch(cal, cal->samples);
	switch_rest(cal);
	fill_table(table, cal);
	return 0;
}

#endif /* CAL_X86_LINUX */

int vx_eval_calibrate(struct vx_eval_cost_table *table,
		      const struct vx_eval_calibrate_options *options,
		      struct vx_eval_calibration *cal, struct vx_error *err)
{
	return vx_eval_calibrate_with_platform(table, options, NULL, cal, err);
}

int vx_eval_calibrate_with_platform(struct vx_eval_cost_table *table,
				    const struct vx_eval_calibrate_options *options,
				    const struct vx_platform *platform,
				    struct vx_eval_calibration *cal, struct vx_error *err)
{
	if (!cal)
		return vx_error_set(err, -EINVAL, CAL_RULE, "no calibration record");
	memset(cal, 0, sizeof(*cal));
	cal->samples = options && options->samples ? options->samples : CAL_SAMPLES_DEFAULT;
	if (cal->samples > CAL_SAMPLES_MAX)
		return vx_error_set(err, -EINVAL, CAL_RULE, "%u samples: at most %u", cal->samples,
				    CAL_SAMPLES_MAX);
#if CAL_X86_LINUX
	return calibrate_here(table, options, platform ? platform : vx_platform_default(), cal,
			      err);
#else
	(void)table;
	(void)platform;
	cal_all_unmeasured(cal, "calibration needs x86-64 Linux");
	return vx_error_set(err, -ENOTSUP, CAL_RULE, "calibration needs x86-64 Linux");
#endif
}
