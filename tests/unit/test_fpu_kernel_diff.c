/* SPDX-License-Identifier: MIT */
/*
 * Differential test of the fpu layer's signal frames, sigreturn and ptrace regsets against
 * the REAL Linux kernel of this machine (linux-fpu.md §7, §8.4, §12).  The model is booted on
 * the live host profile; the kernel is asked through the ABI alone:
 *
 *  (a) signal frames: a child loads a random register state (XRSTOR64 from a buffer: x87
 *      sometimes in its initial configuration, XMM, YMM, MXCSR), reads XGETBV(1) and executes
 *      UD2; the SIGILL handler (on a pattern-filled altstack) copies the kernel's frame from
 *      uc_mcontext.fpregs.  It must equal vx_fpu_copy_fpstate_to_sigframe() of the same state
 *      on a model CPU, byte for byte over user_size + 4 bytes (both start from the same pattern,
 *      so bytes neither writes - 416-463 - compare too).  XINUSE is noisy on a KVM guest
 *      (§12): a frame whose only difference is an XSTATE_BV bit the XGETBV(1) read contradicts
 *      is repeated (up to 3 times) before it counts as a failure;
 *  (b) sigreturn: the handler mutates the frame (magic, sizes, sw.xfeatures, XSTATE_BV,
 *      XCOMP_BV, reserved header bytes, MXCSR, content, fpregs = NULL, UC_FP_XSTATE) and
 *      returns; XSAVE64 right after the return reads the registers back.  The outcome (state,
 *      or SIGSEGV with SI_KERNEL) must equal vx_fpu_restore_sig() on the same mutated bytes;
 *  (c) ptrace: a traced child stops with a known state; PTRACE_GETREGSET NT_X86_XSTATE and
 *      NT_PRFPREG must equal vx_fpu_ptrace_getregset(); PTRACE_SETREGSET with valid and
 *      mutated buffers and lengths must be accepted or refused exactly as
 *      vx_fpu_ptrace_setregset() does, with the same errno; an accepted buffer must give the
 *      same GETREGSET answer and, once the child runs again, the same registers.
 *
 * Fixed seed (printed; VXSAVE_DIFF_SEED overrides), VXSAVE_DIFF_CASES scales the case count.
 * Exits 77 with the reason where the machine cannot answer (not x86-64 Linux, no XSAVE, a
 * kernel that forbids ptrace of a child).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__) && defined(__x86_64__)
#include <elf.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <vxsave/area.h>
#include <vxsave/fpu_signal.h>

#include "diff_util.h"
#include <vxsave/fpu_task.h>

#define SKIP	       77
#define AREA_MAX       16384u
#define ALT_SIZE       32768u
#define REGION_SIZE    65536u
#define COPY_MAX       8192u
#define PATTERN	       0xA5
#define FPSSE_YMM      UINT64_C(0x7)
#define MXCSR_VALID    0xFFFFu /* random MXCSR values stay clear of MM (bit 17) */
#define SI_KERNEL_CODE 0x80

/* ----------------------------------------------------------------------------------------- */
/* Shared setup                                                                                 */

struct host {
	struct vx_profile profile;
	struct vx_fpu_system *sys;
	struct vx_cpu *cpu;  /* the task's registers */
	struct vx_cpu *cpu2; /* the registers after sigreturn / after the tracee ran */
	struct vx_fpstate *fps;
	uint64_t xcr0;
	uint32_t usize;
	uint32_t mxcsr_mask;
	const uint8_t *init_state; /* the tracee's all-init image (stop A) */
};

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static uint32_t rnd(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rng_next(s) % n);
}

static void fill_random(uint64_t *s, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next(s);
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void wr(uint8_t *p, uint64_t v, unsigned width)
{
	memcpy(p, &v, width);
}

static int host_setup(struct host *h, char *why, size_t len)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_profile_from_host(&h->profile, &err) != 0)
		return snprintf(why, len, "host profile: %.200s", err.reason), -1;
	if (vx_fpu_system_create(&h->profile, NULL, &h->sys, &err) != 0)
		return snprintf(why, len, "boot on the host profile: %.200s", err.reason), -1;
	if (!vx_fpu_insns(h->sys)->xsave)
		return snprintf(why, len, "the host has no XSAVE"), -1;
	if (vx_cpu_create(&h->profile, NULL, &h->cpu, &err) ||
	    vx_cpu_create(&h->profile, NULL, &h->cpu2, &err) ||
	    vx_fpu_system_init_cpu(h->sys, h->cpu, &err) ||
	    vx_fpu_system_init_cpu(h->sys, h->cpu2, &err) ||
	    vx_fpstate_create(h->sys, false, &h->fps, &err))
		return snprintf(why, len, "model CPU: %.200s", err.reason), -1;
	h->xcr0 = vx_fpu_user_cfg(h->sys)->max_features;
	h->usize = vx_fpu_user_cfg(h->sys)->max_size;
	h->mxcsr_mask = vx_fpu_mxcsr_feature_mask(h->sys);
	if (h->fps->user_size != h->usize || h->usize > AREA_MAX - 64)
		return snprintf(why, len, "user default size %u != max %u (dynamic features)",
				h->fps->user_size, h->usize),
		       -1;
	return 0;
}

/*
 * A random register state as a standard XSAVE image: each of FP, SSE, YMM in use (random
 * values) or in its initial configuration (XSTATE_BV bit clear, init values); MXCSR random.
 */
static uint64_t gen_state(const struct host *h, uint64_t *s, uint8_t *img)
{
	uint64_t bv = rng_next(s) & FPSSE_YMM & h->xcr0;
	uint16_t fcw = (uint16_t)(0x037Fu ^ (rnd(s, 16) << 8)); /* masks set, PC/RC random */
	uint16_t fsw = (uint16_t)((rnd(s, 8) << 11) | (rnd(s, 16) & 0x7) << 8);
	uint32_t mxcsr = rnd(s, 4) ? ((uint32_t)rng_next(s) & MXCSR_VALID) : VX_MXCSR_DEFAULT;

	memset(img, 0, h->usize);
	wr(img, VX_FCW_DEFAULT, 2);
	if (bv & 1) {
		wr(img, fcw, 2);
		wr(img + 2, fsw, 2);
		img[4] = (uint8_t)rng_next(s); /* abridged FTW */
		for (unsigned r = 0; r < 8; r++)
			fill_random(s, img + 32 + 16 * r, 10);
	}
	wr(img + VX_MXCSR_OFFSET, mxcsr, 4);
	if (bv & 2)
		fill_random(s, img + VX_XMM_OFFSET, 256);
	if (bv & 4)
		fill_random(s, img + 576, 256);
	wr(img + VX_XSTATE_BV_OFFSET, bv, 8);
	return bv;
}

static void model_load(const struct host *h, struct vx_cpu *cpu, const uint8_t *img)
{
	vx_cpu_reset(cpu);
	vx_fpu_system_init_cpu(h->sys, cpu, NULL);
	vx_cpu_from_standard_image(cpu, h->xcr0, img, h->usize);
}

/* Register content, independent of XINUSE: components with XSTATE_BV clear become init. */
static void normalize(const struct host *h, uint8_t *img)
{
	uint64_t bv = rd64(img + VX_XSTATE_BV_OFFSET);

	if (!(bv & 1)) {
		memset(img, 0, 24);
		memset(img + 32, 0, 128);
		wr(img, VX_FCW_DEFAULT, 2);
	}
	if (!(bv & 2))
		memset(img + VX_XMM_OFFSET, 0, 256);
	if ((h->xcr0 & 4) && !(bv & 4))
		memset(img + 576, 0, 256);
	memset(img + 416, 0, 96);
	memset(img + 512, 0, 64);
	wr(img + VX_MXCSR_MASK_OFFSET, 0, 4);
}

/* ----------------------------------------------------------------------------------------- */
/* (a) and (b): signal frames and sigreturn                                                     */

struct frame_write {
	uint32_t off;
	unsigned width;
	uint64_t val;
};

struct mutation {
	const char *name;
	unsigned nwrites;
	struct frame_write w[4];
	bool null_fpregs;
	bool clear_uc_flag;
};

/* What the handler sees and does; the only state shared with signal handlers. */
static struct {
	_Alignas(64) uint8_t *region;
	struct mutation mut;
	volatile int window; /* a SIGSEGV is expected only inside the case */
	volatile int segv;
	volatile int segv_code;
	size_t copied;
	uint8_t frame[COPY_MAX];		/* the frame as the kernel wrote it */
	_Alignas(64) uint8_t mutated[COPY_MAX]; /* as sigreturn will read it */
	bool had_fpregs;
} G;

static void apply_writes(uint8_t *f, size_t avail, const struct mutation *m)
{
	for (unsigned i = 0; i < m->nwrites; i++)
		if ((uint64_t)m->w[i].off + m->w[i].width <= avail)
			memcpy(f + m->w[i].off, &m->w[i].val, m->w[i].width);
}

static void on_sigill(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
	size_t avail = fp ? (size_t)(G.region + REGION_SIZE - fp) : 0;

	(void)sig;
	(void)si;
	G.had_fpregs = fp != NULL;
	G.copied = avail < COPY_MAX ? avail : COPY_MAX;
	if (fp) {
		memcpy(G.frame, fp, G.copied);
		apply_writes(fp, G.copied, &G.mut);
		memcpy(G.mutated, fp, G.copied);
	}
	if (G.mut.null_fpregs)
		uc->uc_mcontext.fpregs = NULL;
	if (G.mut.clear_uc_flag)
		uc->uc_flags &= ~1UL;	     /* UC_FP_XSTATE */
	uc->uc_mcontext.gregs[REG_RIP] += 2; /* past UD2 */
}

static void on_sigsegv(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	if (!G.window || G.segv)
		_exit(99); /* a real crash: do not loop */
	G.segv++;
	G.segv_code = si->si_code;
}

/* XRSTOR64 @in; XGETBV(1); UD2 (the signal); XSAVE64 @out; back to init. */
static uint64_t signal_roundtrip(const void *in, void *out, const void *init)
{
	uint64_t xinuse;

	__asm__ volatile("mov $-1, %%eax\n\t"
			 "mov $-1, %%edx\n\t"
			 "xrstor64 (%[in])\n\t"
			 "mov $1, %%ecx\n\t"
			 "xgetbv\n\t"
			 "shl $32, %%rdx\n\t"
			 "or %%rdx, %%rax\n\t"
			 "mov %%rax, %[xi]\n\t"
			 "ud2\n\t"
			 "mov $-1, %%eax\n\t"
			 "mov $-1, %%edx\n\t"
			 "xsave64 (%[out])\n\t"
			 "xrstor64 (%[init])\n\t"
			 : [xi] "=&r"(xinuse)
			 : [in] "r"(in), [out] "r"(out), [init] "r"(init)
			 : "rax", "rcx", "rdx", "memory", "cc");
	return xinuse;
}

static void add_write(struct mutation *m, uint32_t off, unsigned width, uint64_t val)
{
	if (m->nwrites < 4)
		m->w[m->nwrites++] = (struct frame_write){off, width, val};
}

/* Interesting xstate_size / extended_size values around the frame's bounds. */
static uint32_t size_value(const struct host *h, uint64_t *s)
{
	const uint32_t u = h->usize;
	const uint32_t v[] = {0,     4, 512,   575,   576,   577,    640,  u - 4,
			      u - 1, u, u + 1, u + 4, u + 8, u + 60, 4096, 0xFFFFFFFFu};

	return rnd(s, 5) ? v[rnd(s, sizeof(v) / sizeof(v[0]))] : rnd(s, u + 64);
}

static void gen_mutation(const struct host *h, uint64_t *s, struct mutation *m)
{
	uint32_t kind = rnd(s, 16), size;

	memset(m, 0, sizeof(*m));
	switch (kind) {
	case 0:
		m->name = "none";
		break;
	case 1:
		m->name = "magic1";
		add_write(m, 464, 4, rng_next(s) & 0xFFFFFFFFu);
		break;
	case 2:
		m->name = "magic2";
		add_write(m, h->usize + rnd(s, 4), 1, rnd(s, 255) + 1);
		break;
	case 3: /* xstate_size, with MAGIC2 moved there so the range checks decide */
		m->name = "xstate_size";
		size = size_value(h, s);
		add_write(m, 480, 4, size);
		if (rnd(s, 4))
			add_write(m, size, 4, VX_FP_XSTATE_MAGIC2);
		break;
	case 4:
		m->name = "extended_size";
		add_write(m, 468, 4, size_value(h, s));
		break;
	case 5:
		m->name = "sw.xfeatures";
		add_write(m, 472, 8, rnd(s, 2) ? rng_next(s) & 0xF : rng_next(s));
		break;
	case 6:
		m->name = "xstate_bv";
		add_write(m, 512, 8,
			  rnd(s, 2) ? (rng_next(s) & h->xcr0) : (h->xcr0 | VX_BIT(rnd(s, 61) + 3)));
		break;
	case 7: {
		const uint64_t forms[] = {VX_XCOMP_BV_COMPACTED | h->xcr0,
					  VX_XCOMP_BV_COMPACTED | 3,
					  VX_XCOMP_BV_COMPACTED,
					  1,
					  h->xcr0,
					  VX_XCOMP_BV_COMPACTED | VX_BIT(rnd(s, 60) + 3),
					  rng_next(s)};

		m->name = "xcomp_bv";
		add_write(m, 520, 8, forms[rnd(s, 7)]);
		break;
	}
	case 8:
		m->name = "header byte";
		add_write(m, 528 + rnd(s, 48), 1, rnd(s, 255) + 1);
		break;
	case 9:
		m->name = "mxcsr reserved";
		add_write(m, 24, 4, VX_MXCSR_DEFAULT | VX_BIT(rnd(s, 16) + 16));
		break;
	case 10:
		m->name = "mxcsr valid";
		add_write(m, 24, 4, rng_next(s) & h->mxcsr_mask & MXCSR_VALID);
		break;
	case 11:
		m->name = "mxcsr_mask";
		add_write(m, 28, 4, rng_next(s));
		break;
	case 12:
		m->name = "padding";
		add_write(m, 416 + rnd(s, 96), 1, rnd(s, 256));
		break;
	case 13:
		m->name = "content";
		add_write(m, 160 + rnd(s, h->usize - 160 - 8), 8, rng_next(s));
		break;
	case 14:
		m->name = rnd(s, 2) ? "fpregs NULL" : "UC_FP_XSTATE";
		m->null_fpregs = m->name[0] == 'f';
		m->clear_uc_flag = !m->null_fpregs;
		break;
	default: /* a combination */
		m->name = "combined";
		add_write(m, 512, 8, rng_next(s) & h->xcr0);
		add_write(m, 472, 8, rng_next(s) & 0xF);
		add_write(m, 24, 4, rnd(s, 2) ? VX_MXCSR_DEFAULT : (uint32_t)rng_next(s));
		if (rnd(s, 2))
			add_write(m, 520, 8, VX_XCOMP_BV_COMPACTED | h->xcr0);
		break;
	}
}

struct sig_stats {
	unsigned cases, frame_fail, restore_fail, noisy, segv, fx_only, cleared, xstate;
};

static _Alignas(64) uint8_t in_img[AREA_MAX], out_img[AREA_MAX], init_img[AREA_MAX];
static _Alignas(64) uint8_t model_frame[AREA_MAX], model_img[AREA_MAX];

/* (a): the unmutated kernel frame against the model's; true if equal. */
static bool check_frame(struct host *h, uint64_t bv, uint64_t xinuse, bool *noisy)
{
	uint32_t n = vx_fpu_sigframe_size(h->sys, h->fps);
	struct vx_error err = VX_ERROR_INIT;
	int d;

	model_load(h, h->cpu, in_img);
	memset(model_frame, PATTERN, n);
	if (vx_fpu_copy_fpstate_to_sigframe(h->sys, h->cpu, h->fps, 0, model_frame, n, &err)) {
		printf("  model frame: %s\n", err.reason);
		return false;
	}
	d = diff_first_byte(G.frame, model_frame, n);
	*noisy = d >= 512 && d < 520 &&
		 diff_first_byte(G.frame + 520, model_frame + 520, n - 520) < 0 &&
		 ((xinuse ^ bv) & ~UINT64_C(3));
	if (d >= 0 && !*noisy)
		diff_dump_bytes("frame", G.frame, model_frame, n);
	return d < 0;
}

/* (b): the state after the real sigreturn against vx_fpu_restore_sig(). */
static bool check_restore(struct host *h, struct sig_stats *st, const char *mname)
{
	enum vx_sigreturn_outcome outcome;
	struct vx_error err = VX_ERROR_INIT;
	bool ok;

	vx_cpu_from_standard_image(h->cpu2, h->xcr0, in_img, h->usize); /* handler junk */
	if (vx_fpu_restore_sig(h->sys, h->cpu2, h->fps,
			       G.had_fpregs && !G.mut.null_fpregs ? G.mutated : NULL, G.copied,
			       &outcome, &err)) {
		printf("  model restore: %s\n", err.reason);
		return false;
	}
	st->segv += outcome == VX_SIGRETURN_SEGV;
	st->fx_only += outcome == VX_SIGRETURN_FX_ONLY;
	st->cleared += outcome == VX_SIGRETURN_CLEARED;
	st->xstate += outcome == VX_SIGRETURN_XSTATE;
	memset(model_img, 0, h->usize);
	vx_cpu_to_standard_image(h->cpu2, h->xcr0, model_img, h->usize);
	normalize(h, model_img);
	normalize(h, out_img);
	ok = (outcome == VX_SIGRETURN_SEGV) == (G.segv != 0) &&
	     (!G.segv || G.segv_code == SI_KERNEL_CODE) &&
	     diff_first_byte(out_img, model_img, h->usize) < 0;
	if (!ok) {
		printf("  mutation '%s': kernel %s, model %s (%s)\n", mname,
		       G.segv ? "SIGSEGV" : "returned", vx_sigreturn_outcome_name(outcome),
		       err.reason);
		diff_dump_bytes("restored state", out_img, model_img, h->usize);
	}
	return ok;
}

static void run_signal_case(struct host *h, uint64_t *s, struct sig_stats *st)
{
	uint64_t bv, xinuse;
	bool noisy = false, frame_ok = false;
	struct mutation m;

	bv = gen_state(h, s, in_img);
	gen_mutation(h, s, &m);
	if (getenv("VXSAVE_DIFF_TRACE"))
		fprintf(stderr, "case %u: state 0x%" PRIx64 ", mutation %s\n", st->cases, bv,
			m.name);
	for (int attempt = 0; attempt < 4 && !frame_ok; attempt++) {
		memset(G.region, PATTERN, REGION_SIZE);
		memset(out_img, 0, h->usize);
		G.mut = m;
		G.segv = 0;
		G.window = 1;
		xinuse = signal_roundtrip(in_img, out_img, init_img);
		G.window = 0;
		frame_ok = check_frame(h, bv, xinuse, &noisy);
		if (!frame_ok && !noisy)
			break;
		st->noisy += noisy;
	}
	st->cases++;
	if (!frame_ok) {
		st->frame_fail++;
		printf("  frame case %u (state bv 0x%" PRIx64 ") differs\n", st->cases, bv);
	}
	if (!check_restore(h, st, m.name))
		st->restore_fail++;
}

static int signal_child(struct host *h, uint64_t seed, unsigned cases)
{
	struct sig_stats st = {0};
	struct sigaction sa;
	stack_t ss;
	uint64_t s = seed;

	G.region =
	    mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (G.region == MAP_FAILED)
		return 98;
	ss = (stack_t){.ss_sp = G.region, .ss_size = ALT_SIZE, .ss_flags = 0};
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sa.sa_sigaction = on_sigill;
	if (sigaltstack(&ss, NULL) || sigaction(SIGILL, &sa, NULL))
		return 98;
	sa.sa_sigaction = on_sigsegv;
	if (sigaction(SIGSEGV, &sa, NULL))
		return 98;
	memset(init_img, 0, sizeof(init_img));
	wr(init_img, VX_FCW_DEFAULT, 2);
	wr(init_img + VX_MXCSR_OFFSET, VX_MXCSR_DEFAULT, 4);
	for (unsigned i = 0; i < cases && st.frame_fail + st.restore_fail < 20; i++)
		run_signal_case(h, &s, &st);
	printf("signal frames: %u cases, %u frame and %u restore differences; %u noisy repeats; "
	       "model outcomes: %u xstate, %u fx-only, %u cleared, %u SIGSEGV\n",
	       st.cases, st.frame_fail, st.restore_fail, st.noisy, st.xstate, st.fx_only,
	       st.cleared, st.segv);
	fflush(stdout);
	return st.frame_fail + st.restore_fail ? 1 : 0;
}

/* ----------------------------------------------------------------------------------------- */
/* (c): ptrace                                                                                  */

struct shared {
	_Alignas(64) uint8_t in[AREA_MAX];
	_Alignas(64) uint8_t out[AREA_MAX];
	_Alignas(64) uint8_t init[AREA_MAX];
	volatile int quit;
};

/*
 * XRSTOR64 @in; kill(@pid, SIGSTOP) (stop B, the tracer's SETs); XSAVE64 @out; back to init;
 * kill(@pid, SIGSTOP) again (stop A).  Raw syscalls: no library code touches the registers, so
 * the kernel saves exactly these states at both stops and the model can follow its fpstate.
 */
static void stop_roundtrip(const void *in, void *out, const void *init, long pid)
{
	__asm__ volatile("mov $-1, %%eax\n\t"
			 "mov $-1, %%edx\n\t"
			 "xrstor64 (%[in])\n\t"
			 "mov %[pid], %%rdi\n\t"
			 "mov $19, %%esi\n\t"
			 "mov $62, %%eax\n\t"
			 "syscall\n\t"
			 "mov $-1, %%eax\n\t"
			 "mov $-1, %%edx\n\t"
			 "xsave64 (%[out])\n\t"
			 "xrstor64 (%[init])\n\t"
			 "mov %[pid], %%rdi\n\t"
			 "mov $19, %%esi\n\t"
			 "mov $62, %%eax\n\t"
			 "syscall\n\t"
			 :
			 : [in] "r"(in), [out] "r"(out), [init] "r"(init), [pid] "r"(pid)
			 : "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "cc");
}

static void ptrace_child(struct shared *sh)
{
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
		_exit(3);
	raise(SIGSTOP);
	while (!sh->quit)
		stop_roundtrip(sh->in, sh->out, sh->init, (long)getpid());
	_exit(0);
}

struct pt_stats {
	unsigned cases, fails, get_noisy, accepted, refused;
};

static int wait_stop(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return -1;
	if (WSTOPSIG(status) != SIGSTOP)
		printf("  the tracee stopped with signal %d\n", WSTOPSIG(status));
	return WSTOPSIG(status) == SIGSTOP ? 0 : -1;
}

static int kernel_get(pid_t pid, unsigned note, uint8_t *buf, size_t *len)
{
	struct iovec iov = {buf, *len};

	if (ptrace(PTRACE_GETREGSET, pid, (void *)(uintptr_t)note, &iov) != 0)
		return -errno;
	*len = iov.iov_len;
	return 0;
}

static int kernel_set(pid_t pid, unsigned note, uint8_t *buf, size_t len)
{
	struct iovec iov = {buf, len};

	return ptrace(PTRACE_SETREGSET, pid, (void *)(uintptr_t)note, &iov) != 0 ? -errno : 0;
}

static _Alignas(64) uint8_t kbuf[32768], mbuf[32768], set_buf[32768];

/* Both GETs of @note with @len; true if they agree (errno, length, bytes). */
static bool quiet_gets; /* while testing noise hypotheses */

static bool compare_get(struct host *h, pid_t pid, unsigned note, size_t len, uint32_t pkru,
			const char *what)
{
	size_t klen = len, mlen = len;
	int krc, mrc;

	memset(kbuf, 0x5A, len);
	memset(mbuf, 0x5A, len);
	krc = kernel_get(pid, note, kbuf, &klen);
	mrc = vx_fpu_ptrace_getregset(h->sys, h->fps, pkru, note, mbuf, &mlen, NULL);
	if (krc == mrc && (krc || (klen == mlen && diff_first_byte(kbuf, mbuf, klen) < 0)))
		return true;
	if (quiet_gets)
		return false;
	printf("  GETREGSET 0x%x len %zu (%s): kernel %d/%zu, model %d/%zu\n", note, len, what, krc,
	       klen, mrc, mlen);
	if (krc == 0 && mrc == 0)
		diff_dump_bytes("GET", kbuf, mbuf, klen < mlen ? klen : mlen);
	return false;
}

/* A valid NT_X86_XSTATE buffer: a random state with the uABI's sw bytes. */
static void gen_uabi(struct host *h, uint64_t *s, uint8_t *buf)
{
	gen_state(h, s, buf);
	if (rnd(s, 4) == 0)
		fill_random(s, buf + 416, 96); /* padding and sw bytes are not checked */
	else
		wr(buf + 464, h->xcr0, 8);
}

/* One SET case; mutations as in linux-fpu.md §7.2/§12. */
static size_t gen_set_case(struct host *h, uint64_t *s, unsigned *note, const char **name)
{
	const size_t u = h->usize;
	const size_t xlen[] = {0, 8, 512, 576, u - 8, u - 1, u + 1, u + 8, 4096, 32768};
	const size_t flen[] = {0, 8, 256, 504, 511, 513, 520, 1024};
	uint32_t kind = rnd(s, 12);

	*note = VX_NT_X86_XSTATE;
	gen_uabi(h, s, set_buf);
	switch (kind) {
	case 0:
		*name = "xstate_bv outside XCR0";
		wr(set_buf + 512, rd64(set_buf + 512) | VX_BIT(rnd(s, 61) + 3), 8);
		break;
	case 1:
		*name = "xcomp_bv";
		wr(set_buf + 520, rnd(s, 2) ? (VX_XCOMP_BV_COMPACTED | h->xcr0) : rng_next(s), 8);
		break;
	case 2:
		*name = "reserved header byte";
		set_buf[528 + rnd(s, 48)] = (uint8_t)(rnd(s, 255) + 1);
		break;
	case 3:
		*name = "mxcsr reserved";
		wr(set_buf + 24, VX_MXCSR_DEFAULT | VX_BIT(rnd(s, 14) + 18), 4);
		break;
	case 4:
		*name = "mxcsr_mask";
		wr(set_buf + 28, rng_next(s), 4);
		break;
	case 5:
		*name = "xstate length";
		return xlen[rnd(s, sizeof(xlen) / sizeof(xlen[0]))];
	case 6:
		*name = "prfpreg";
		*note = VX_NT_PRFPREG;
		return 512;
	case 7:
		*name = "prfpreg length";
		*note = VX_NT_PRFPREG;
		return flen[rnd(s, sizeof(flen) / sizeof(flen[0]))];
	case 8:
		*name = "prfpreg mxcsr";
		*note = VX_NT_PRFPREG;
		wr(set_buf + 24, rng_next(s) & 0xFFFFFFFFu, 4);
		return 512;
	default:
		*name = "valid";
		break;
	}
	return u;
}

static bool run_set_case(struct host *h, uint64_t *s, pid_t pid, uint32_t *pkru,
			 struct pt_stats *st)
{
	unsigned note;
	const char *name;
	size_t len = gen_set_case(h, s, &note, &name);
	struct vx_error err = VX_ERROR_INIT;
	int krc = kernel_set(pid, note, set_buf, len);
	int mrc = vx_fpu_ptrace_setregset(h->sys, h->fps, pkru, note, set_buf, len, &err);

	st->cases++;
	if (krc != mrc) {
		printf("  SETREGSET 0x%x '%s' len %zu: kernel %s, model %s (%s)\n", note, name, len,
		       krc ? vx_errno_name(krc) : "ok", mrc ? vx_errno_name(mrc) : "ok",
		       err.reason);
		return false;
	}
	st->accepted += krc == 0;
	st->refused += krc != 0;
	if (krc)
		return true;
	return compare_get(h, pid, VX_NT_X86_XSTATE, h->usize, *pkru, name) &&
	       compare_get(h, pid, VX_NT_PRFPREG, 512, *pkru, name);
}

/* A GET with a random length: clamping, partial copies, -EINVAL off the 8-byte grid. */
static bool run_get_case(struct host *h, uint64_t *s, pid_t pid, uint32_t pkru, struct pt_stats *st)
{
	unsigned note = rnd(s, 2) ? VX_NT_X86_XSTATE : VX_NT_PRFPREG;
	size_t len = rnd(s, 3) ? 8 * rnd(s, (uint32_t)h->usize / 8 + 16) : rnd(s, 2 * h->usize);

	st->cases++;
	return compare_get(h, pid, note, len, pkru, "random length");
}

/* The registers the child XSAVEd after running with its SET fpstate. */
static bool check_registers(struct host *h, struct shared *sh)
{
	struct vx_error err = VX_ERROR_INIT;

	vx_cpu_from_standard_image(h->cpu2, h->xcr0, sh->init, h->usize);
	if (vx_fpstate_restore(h->sys, h->cpu2, h->fps, ~UINT64_C(0), NULL, &err)) {
		printf("  model restore: %s\n", err.reason);
		return false;
	}
	memset(model_img, 0, h->usize);
	vx_cpu_to_standard_image(h->cpu2, h->xcr0, model_img, h->usize);
	memcpy(out_img, sh->out, h->usize);
	normalize(h, out_img);
	normalize(h, model_img);
	if (diff_first_byte(out_img, model_img, h->usize) < 0)
		return true;
	diff_dump_bytes("registers after SETREGSET", out_img, model_img, h->usize);
	return false;
}

/* The image before the model's last save at a stop A (back to init) and at a stop B. */
static _Alignas(64) uint8_t before_a[AREA_MAX], before_b[AREA_MAX], after_b[AREA_MAX];

/*
 * The kernel saved the task at a stop: the model saves the same state into its fpstate.
 * @sse_noise: the save found XINUSE[1] set although the state did not (§12's noise).
 */
static void model_stop(struct host *h, const uint8_t *state, bool sse_noise)
{
	struct vx_error err = VX_ERROR_INIT;

	model_load(h, h->cpu, state);
	if (sse_noise)
		vx_cpu_use(h->cpu, 2, NULL);
	if (vx_fpstate_save(h->sys, h->cpu, h->fps, NULL, &err))
		printf("  model save: %s\n", err.reason);
}

/* Continue the tracee to its next stop; the model follows with @state saved there. */
static bool cont_to_stop(struct host *h, pid_t pid, const uint8_t *state)
{
	if (ptrace(PTRACE_CONT, pid, NULL, NULL) || wait_stop(pid))
		return false;
	memcpy(state == h->init_state ? before_a : before_b, h->fps->regs, h->fps->size);
	model_stop(h, state, false);
	return true;
}

static bool gets_agree(struct host *h, pid_t pid)
{
	return compare_get(h, pid, VX_NT_X86_XSTATE, h->usize, 0, "after the stop") &&
	       compare_get(h, pid, VX_NT_PRFPREG, 512, 0, "after the stop");
}

/*
 * §12: XINUSE is noisy on a KVM guest, more so on a loaded machine: a save at a stop may find
 * XINUSE[1] set for a state whose XMM registers are init (SSE then saved: XMM zero, MXCSR and
 * MXCSR_MASK rewritten).  A first GET that differs is accepted when the kernel's answer is
 * exactly the model's under that hypothesis, for the save at B, at the stop A before it, or
 * both; the model keeps the matching fpstate.
 */
static bool explained_by_noise(struct host *h, pid_t pid, const uint8_t *in)
{
	static const bool hyp[3][2] = {{false, true}, {true, false}, {true, true}};
	bool ok = false;

	memcpy(after_b, h->fps->regs, h->fps->size);
	quiet_gets = true;
	for (int i = 0; i < 3 && !ok; i++) {
		memcpy(h->fps->regs, hyp[i][0] ? before_a : before_b, h->fps->size);
		if (hyp[i][0])
			model_stop(h, h->init_state, true);
		model_stop(h, in, hyp[i][1]);
		ok = gets_agree(h, pid);
	}
	quiet_gets = false;
	if (!ok)
		memcpy(h->fps->regs, after_b, h->fps->size);
	return ok;
}

/*
 * One round: the child loads a state and stops (B); GETs, then many SET/GET cases; it runs,
 * XSAVEs its registers, returns to init and stops (A).  The model's fpstate lives as long as
 * the task's and sees the same saves and SETs: GET reports stale bytes of the fpstate (MXCSR,
 * MXCSR_MASK) exactly when the kernel does.
 */
static bool ptrace_round(struct host *h, uint64_t *s, pid_t pid, struct shared *sh, unsigned ncases,
			 struct pt_stats *st)
{
	uint32_t pkru = 0;
	bool ok = false;

	gen_state(h, s, sh->in);
	for (int attempt = 0; attempt < 4 && !ok; attempt++) {
		if (attempt && !cont_to_stop(h, pid, sh->init)) /* a repeat: A */
			return false;
		if (!cont_to_stop(h, pid, sh->in)) /* B */
			return false;
		st->cases++;
		quiet_gets = true;
		ok = gets_agree(h, pid);
		quiet_gets = false;
		if (!ok && explained_by_noise(h, pid, sh->in)) {
			st->get_noisy++;
			ok = true;
		}
		if (!ok && attempt == 3) {
			gets_agree(h, pid); /* print the difference */
			printf("  state: XSTATE_BV 0x%" PRIx64 ", MXCSR 0x%08" PRIx64 "\n",
			       rd64(sh->in + 512), rd64(sh->in + 24) & 0xFFFFFFFFu);
		}
	}
	for (unsigned i = 0; i < ncases; i++)
		ok &= rnd(s, 8) ? run_set_case(h, s, pid, &pkru, st)
				: run_get_case(h, s, pid, pkru, st);
	if (ptrace(PTRACE_CONT, pid, NULL, NULL) || wait_stop(pid)) /* XSAVEs, stops at A */
		return false;
	st->cases++;
	ok &= check_registers(h, sh);
	memcpy(before_a, h->fps->regs, h->fps->size);
	model_stop(h, sh->init, false);
	return ok;
}

/* Before the first round (stop A0): one valid SET puts both fpstates in the same state. */
static bool ptrace_sync(struct host *h, uint64_t *s, pid_t pid)
{
	uint32_t pkru = 0;

	gen_uabi(h, s, set_buf);
	wr(set_buf + 512, h->xcr0 & FPSSE_YMM, 8);
	wr(set_buf + 28, h->mxcsr_mask, 4);
	return kernel_set(pid, VX_NT_X86_XSTATE, set_buf, h->usize) == 0 &&
	       vx_fpu_ptrace_setregset(h->sys, h->fps, &pkru, VX_NT_X86_XSTATE, set_buf, h->usize,
				       NULL) == 0;
}

static int ptrace_test(struct host *h, uint64_t seed, unsigned rounds, unsigned per_round)
{
	struct shared *sh =
	    mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct pt_stats st = {0};
	uint64_t s = seed ^ UINT64_C(0x9E3779B97F4A7C15);
	pid_t pid;
	int status;

	if (sh == MAP_FAILED)
		return 1;
	memset(sh, 0, sizeof(*sh));
	wr(sh->init, VX_FCW_DEFAULT, 2);
	wr(sh->init + VX_MXCSR_OFFSET, VX_MXCSR_DEFAULT, 4);
	h->init_state = sh->init;
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		ptrace_child(sh);
	if (pid < 0 || wait_stop(pid)) {
		printf("SKIP: cannot trace a child (%s)\n", strerror(errno));
		return SKIP;
	}
	if (!ptrace_sync(h, &s, pid))
		st.fails++;
	for (unsigned r = 0; r < rounds && st.fails < 20; r++)
		st.fails += !ptrace_round(h, &s, pid, sh, per_round, &st);
	sh->quit = 1;
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	waitpid(pid, &status, 0);
	if (WIFSTOPPED(status)) {
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		waitpid(pid, &status, 0);
	}
	printf("ptrace: %u cases in %u rounds: %u accepted SETs, %u refused (errno equal), "
	       "%u first GETs explained by XINUSE[1] noise, %u failing rounds\n",
	       st.cases, rounds, st.accepted, st.refused, st.get_noisy, st.fails);
	munmap(sh, sizeof(*sh));
	return st.fails ? 1 : 0;
}

/*
 * AT_MINSIGSTKSZ (§4, §12): get_sigframe_size() = round16(non-FPU part + fpu__get_fpstate_size()
 * + 63); the notes do not give the non-FPU part, fpu_task.h's model of it must match here.
 */
static int check_minsigstksz(struct host *h)
{
	unsigned long at = getauxval(AT_MINSIGSTKSZ);
	uint32_t fp = vx_fpu_sigframe_size(h->sys, h->fps), model = vx_fpu_max_frame_size(h->sys);

	printf("AT_MINSIGSTKSZ %lu = frame FPU part %u + %lu; model get_sigframe_size() %u\n", at,
	       fp, at - fp, model);
	if (at == 0 || at == model)
		return 0;
	printf("FAIL: AT_MINSIGSTKSZ %lu != model %u\n", at, model);
	return 1;
}

int main(void)
{
	const char *env_seed = getenv("VXSAVE_DIFF_SEED"), *env_cases = getenv("VXSAVE_DIFF_CASES");
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : UINT64_C(0x5EEDF00D12345678);
	unsigned cases = env_cases ? (unsigned)strtoul(env_cases, NULL, 0) : 6000;
	struct host h;
	char why[512];
	int status, rc_sig, rc_pt, rc_minsig;
	pid_t pid;

	memset(&h, 0, sizeof(h));
	if (host_setup(&h, why, sizeof(why))) {
		printf("SKIP: %s\n", why);
		return SKIP;
	}
	printf("seed 0x%" PRIx64 " (VXSAVE_DIFF_SEED), %u signal cases (VXSAVE_DIFF_CASES); user "
	       "max 0x%" PRIx64 ", %u bytes\n",
	       seed, cases, h.xcr0, h.usize);
	rc_minsig = check_minsigstksz(&h);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(signal_child(&h, seed, cases));
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	rc_sig = WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
	if (rc_sig)
		printf("FAIL: signal frames (child status %d)\n", rc_sig);
	rc_pt = ptrace_test(&h, seed, cases / 100 + 1, 100);
	if (rc_pt == SKIP)
		rc_pt = 0; /* the signal part ran */
	vx_fpstate_destroy(h.sys, h.fps);
	vx_cpu_destroy(h.cpu);
	vx_cpu_destroy(h.cpu2);
	vx_fpu_system_destroy(h.sys);
	return rc_sig || rc_pt || rc_minsig ? 1 : 0;
}

#else
#include <stdio.h>

int main(void)
{
	printf("SKIP: not Linux on x86-64: no kernel signal frames or regsets to compare with\n");
	return 77;
}
#endif
