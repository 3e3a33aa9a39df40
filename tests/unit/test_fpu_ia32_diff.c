/* SPDX-License-Identifier: MIT */
/*
 * Differential test of the ia32 signal frame (linux-fpu.md §4, §7.2, §8.4) against the REAL
 * kernel of this machine.  A freestanding i386 program (ia32/sigframe_child32.c, built by
 * tests/CMakeLists.txt where the compiler can target i386) loads a register state with the
 * 32-bit XRSTOR and executes UD2; its SIGILL handler, on a pattern-filled altstack, sends back
 * the frame from the sigcontext's fpstate pointer (fsave header, FXSAVE/XSAVE part, MAGIC2):
 *
 *  (a) delivery: the bytes must equal vx_fpu_copy_fpstate_to_sigframe_abi(VX_SIGFRAME_IA32) of
 *      the same state on a model CPU, byte for byte over 112 + user_size + 4 bytes (both start
 *      from the same pattern).  A difference only in XSTATE_BV that the child's XGETBV(1)
 *      explains (§12's XINUSE noise) is repeated up to 3 times before it counts;
 *  (b) sigreturn: the handler writes a mutation into the frame (fsave header fields and
 *      registers, FXSAVE fields, magic, sizes, sw.xfeatures, XSTATE_BV, XCOMP_BV, reserved
 *      header bytes, MXCSR, content, fpstate = NULL) and returns; the 32-bit XSAVE after the
 *      return reads the registers (XMM0-7, YMM0-7: what an i386 program sees).  The outcome
 *      (state, or SIGSEGV) must equal vx_fpu_restore_sig_abi() on the same bytes;
 *  (c) AT_MINSIGSTKSZ in the i386 program's auxiliary vector against vx_fpu_max_frame_size().
 *
 * Fixed seed (printed; VXSAVE_DIFF_SEED overrides), VXSAVE_DIFF_CASES scales the case count.
 * Exits 77 with the reason where the machine cannot answer (no i386 helper built, not x86-64
 * Linux, no IA32 emulation, no XSAVE).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__) && defined(__x86_64__) && defined(VXSAVE_IA32_CHILD)
#include <sys/wait.h>
#include <unistd.h>

#include <vxsave/area.h>
#include <vxsave/fpu_signal.h>

#include "diff_util.h"
#include <vxsave/fpu_task.h>

#define SKIP	       77
#define AREA_MAX       8192u
#define FRAME_SLACK    64u
#define PATTERN	       0xA5
#define REQUEST_MAGIC  0x32334149u
#define MAX_WRITES     8
#define HDR	       VX_FSAVE_HEADER_SIZE
#define SEGV_SI_KERNEL 0x80

/* The helper's protocol (ia32/sigframe_child32.c), little-endian, no padding. */
struct write {
	uint32_t off, len;
	uint8_t bytes[8];
};

struct request {
	uint32_t magic, mode, img_len, frame_len, null_fpstate, nwrites;
	struct write w[MAX_WRITES];
};

struct reply {
	uint32_t magic, xinuse_lo, xinuse_hi, fpstate, alt_base, frame_len, segv, segv_code;
	uint32_t minsigstksz;
};

struct host {
	struct vx_profile profile;
	struct vx_fpu_system *sys;
	struct vx_cpu *cpu, *cpu2;
	struct vx_fpstate *fps;
	uint64_t xcr0;
	uint32_t usize, flen, mxcsr_mask;
};

struct result {
	struct reply rep;
	_Alignas(64) uint8_t frame[AREA_MAX];
	_Alignas(64) uint8_t out[AREA_MAX];
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

/* ----------------------------------------------------------------------------------------- */
/* Running the i386 helper                                                                      */

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t r = write(fd, b, n);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static size_t read_all(int fd, void *p, size_t n)
{
	uint8_t *b = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, b + got, n - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static pid_t spawn(int *to, int *from)
{
	int in[2], out[2];
	pid_t pid;

	if (pipe(in) || pipe(out))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(VXSAVE_IA32_CHILD, "sigframe_child32", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*to = in[1];
	*from = out[0];
	return pid;
}

/*
 * One run of the helper: @img loaded, the frame (and after a sigreturn, the XSAVE of the
 * registers) read back.  Returns 0, or -1 if the helper did not answer (the reason printed).
 */
static int run_child(const struct host *h, const struct request *req, const uint8_t *img,
		     struct result *res)
{
	int to, from, status = 0;
	pid_t pid = spawn(&to, &from);
	size_t got;

	if (pid < 0)
		return -1;
	memset(res, 0, sizeof(*res));
	write_all(to, req, sizeof(*req));
	write_all(to, img, req->img_len);
	close(to);
	got = read_all(from, &res->rep, sizeof(res->rep));
	got += read_all(from, res->frame, req->frame_len);
	if (req->mode == 1 && !res->rep.segv)
		got += read_all(from, res->out, h->usize);
	close(from);
	waitpid(pid, &status, 0);
	if (got >= sizeof(res->rep) && res->rep.magic == REQUEST_MAGIC)
		return 0;
	printf("the i386 helper did not answer (%zu bytes, status 0x%x)\n", got, status);
	return -1;
}

/* ----------------------------------------------------------------------------------------- */
/* States                                                                                       */

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
	    vx_fpstate_create(h->sys, false, &h->fps, &err))
		return snprintf(why, len, "model CPU: %.200s", err.reason), -1;
	h->xcr0 = vx_fpu_user_cfg(h->sys)->max_features;
	h->usize = vx_fpu_user_cfg(h->sys)->max_size;
	h->mxcsr_mask = vx_fpu_mxcsr_feature_mask(h->sys);
	h->flen = HDR + h->usize + 4 + FRAME_SLACK;
	if (h->fps->user_size != h->usize || h->flen > AREA_MAX - 64)
		return snprintf(why, len, "user default size %u != max %u, or too large",
				h->fps->user_size, h->usize),
		       -1;
	return 0;
}

/* An 80-bit x87 value of a random class: zero, normal, denormal, unnormal, infinity/NaN. */
static void gen_st(uint64_t *s, uint8_t *st)
{
	uint64_t sig = rng_next(s);
	uint16_t exp = (uint16_t)(rnd(s, 0x7FFE) + 1);

	switch (rnd(s, 5)) {
	case 0:
		sig = 0, exp = 0;
		break;
	case 1:
		sig |= UINT64_C(1) << 63;
		break;
	case 2:
		exp = 0;
		break;
	case 3:
		sig &= ~(UINT64_C(1) << 63);
		break;
	default:
		exp = 0x7FFF;
		break;
	}
	exp |= (uint16_t)(rnd(s, 2) << 15);
	wr(st, sig, 8);
	wr(st + 8, exp, 2);
}

/*
 * A random i386-visible state: x87 (TOP, tags, classes of values; sometimes an unmasked
 * exception pending with FOP/FIP/FDP, which only exist then), MXCSR, XMM0-7, YMM0-7 upper
 * halves; XMM8-15 stay zero.  @img32 is the child's (32-bit XRSTOR form: FIP/FCS, FDP/FDS),
 * @img64 the model's (64-bit form).  Returns XSTATE_BV.
 */
static uint64_t gen_state(const struct host *h, uint64_t *s, uint8_t *img32, uint8_t *img64)
{
	uint64_t bv = rng_next(s) & 0x7 & h->xcr0;
	bool pending = rnd(s, 3) == 0;
	uint16_t fcw = (uint16_t)((0x037Fu ^ (rnd(s, 16) << 8)) & (pending ? ~1u : ~0u));
	uint16_t fsw = (uint16_t)((rnd(s, 8) << 11) | (rnd(s, 16) & 0xB) << 8 | (rnd(s, 2) << 14));
	uint32_t mxcsr =
	    rnd(s, 4) ? ((uint32_t)rng_next(s) & h->mxcsr_mask & 0xFFFF) : VX_MXCSR_DEFAULT;
	uint32_t fip = (uint32_t)rng_next(s), fdp = (uint32_t)rng_next(s);
	uint16_t fop = (uint16_t)(rng_next(s) & 0x7FF);

	memset(img32, 0, h->usize);
	wr(img32, VX_FCW_DEFAULT, 2);
	if (bv & 1) {
		wr(img32, fcw, 2);
		wr(img32 + 2, pending ? (uint16_t)(fsw | 0x81) : fsw, 2);
		img32[4] = (uint8_t)rng_next(s);
		for (unsigned r = 0; r < 8; r++)
			gen_st(s, img32 + 32 + 16 * r);
		if (pending) {
			wr(img32 + 6, fop, 2);
			wr(img32 + 8, fip, 4);
			wr(img32 + 12, 0x23, 2);
			wr(img32 + 16, fdp, 4);
			wr(img32 + 20, 0x2B, 2);
		}
	}
	wr(img32 + VX_MXCSR_OFFSET, mxcsr, 4);
	for (unsigned i = 0; i < 128 && (bv & 2); i++)
		img32[VX_XMM_OFFSET + i] = (uint8_t)rng_next(s);
	for (unsigned i = 0; i < 128 && (bv & 4); i++)
		img32[576 + i] = (uint8_t)rng_next(s);
	wr(img32 + VX_XSTATE_BV_OFFSET, bv, 8);
	memcpy(img64, img32, h->usize);
	wr(img64 + 8, rd64(img32 + 8) & 0xFFFFFFFFu, 8);
	wr(img64 + 16, rd64(img32 + 16) & 0xFFFFFFFFu, 8);
	return bv;
}

static void model_load(const struct host *h, struct vx_cpu *cpu, const uint8_t *img64)
{
	vx_cpu_reset(cpu);
	vx_fpu_system_init_cpu(h->sys, cpu, NULL);
	if (img64)
		vx_cpu_from_standard_image(cpu, h->xcr0, img64, h->usize);
}

/* ----------------------------------------------------------------------------------------- */
/* (a) delivery                                                                                 */

static _Alignas(64) uint8_t img32[AREA_MAX], img64[AREA_MAX], model_buf[AREA_MAX + 64];
static _Alignas(64) uint8_t model_out[AREA_MAX];

/* The model's frame of @img64: the fsave header at byte 16 so the XSAVE part is aligned. */
static uint8_t *model_frame(struct host *h)
{
	uint8_t *frame = model_buf + 64 - (HDR % 64);
	struct vx_error err = VX_ERROR_INIT;

	model_load(h, h->cpu, img64);
	memset(model_buf, PATTERN, sizeof(model_buf));
	if (vx_fpu_copy_fpstate_to_sigframe_abi(h->sys, h->cpu, h->fps, 0, VX_SIGFRAME_IA32, frame,
						h->flen, &err)) {
		printf("  model frame: %s\n", err.reason);
		return NULL;
	}
	return frame;
}

/* Equal, or (*@noisy) only XSTATE_BV differs where the child's XINUSE disagrees with the model. */
static bool frame_equal(struct host *h, const struct result *r, const uint8_t *mf, bool *noisy)
{
	uint32_t n = HDR + h->usize + 4;
	uint64_t xinuse = r->rep.xinuse_lo | (uint64_t)r->rep.xinuse_hi << 32;
	int d = diff_first_byte(r->frame, mf, n);

	*noisy = d >= (int)(HDR + 512) && d < (int)(HDR + 520) &&
		 diff_first_byte(r->frame + HDR + 520, mf + HDR + 520, n - HDR - 520) < 0 &&
		 ((xinuse ^ vx_cpu_xinuse(h->cpu)) & ~UINT64_C(3));
	return d < 0;
}

struct stats {
	unsigned frames, frame_fail, noisy, restores, restore_fail, segv, fx_only, cleared, xstate;
};

static bool delivery_case(struct host *h, uint64_t *s, struct stats *st, struct result *r)
{
	struct request req = {REQUEST_MAGIC, 0, h->usize, h->flen, 0, 0, {{0}}};
	bool noisy = false, ok = false;
	const uint8_t *mf = NULL;

	gen_state(h, s, img32, img64);
	for (int attempt = 0; attempt < 4 && !ok; attempt++) {
		if (run_child(h, &req, img32, r) || !(mf = model_frame(h)))
			return false;
		ok = frame_equal(h, r, mf, &noisy);
		if (!ok && !noisy)
			break;
		st->noisy += noisy;
	}
	st->frames++;
	if (!ok && mf)
		diff_dump_bytes("ia32 frame", r->frame, mf, HDR + h->usize + 4);
	st->frame_fail += !ok;
	return ok;
}

/* ----------------------------------------------------------------------------------------- */
/* (b) sigreturn                                                                                */

static void add_write(struct request *req, uint32_t off, const void *bytes, uint32_t len)
{
	if (req->nwrites < MAX_WRITES && len <= 8) {
		struct write *w = &req->w[req->nwrites++];

		w->off = off;
		w->len = len;
		memcpy(w->bytes, bytes, len);
	}
}

static void add_value(struct request *req, uint32_t off, uint64_t v, uint32_t len)
{
	add_write(req, off, &v, len);
}

/* Sizes around the bounds of the XSAVE part (the sw bytes are checked as in 64-bit frames). */
static uint32_t size_value(const struct host *h, uint64_t *s)
{
	const uint32_t u = h->usize;
	const uint32_t v[] = {0, 575,	576,   577,	u - 4,	    u - 1,
			      u, u + 1, u + 4, u + 112, 0xFFFFFFFFu};

	return v[rnd(s, sizeof(v) / sizeof(v[0]))];
}

/* One mutation of the frame; offsets from the fsave header (the XSAVE part at HDR). */
static const char *gen_mutation(const struct host *h, uint64_t *s, struct request *req)
{
	uint8_t st[10];
	uint32_t x = HDR, size;

	switch (rnd(s, 20)) {
	case 0:
		return "none";
	case 1:
		add_value(req, 0, rng_next(s), 2);
		return "header cwd";
	case 2:
		add_value(req, 4, (rng_next(s) & 0x7F7F), 2); /* TOP, C0-C3, flags; not B/ES */
		return "header swd";
	case 3:
		add_value(req, 8, rng_next(s), 2);
		return "header twd";
	case 4:
		add_value(req, 12, rng_next(s), 4);
		add_value(req, 16, rng_next(s), 4);
		add_value(req, 20, rng_next(s), 4);
		return "header fip/fcs/foo";
	case 5:
		gen_st(s, st);
		add_write(req, 28 + 10 * rnd(s, 8), st, 8);
		add_write(req, 28 + 10 * rnd(s, 8) + 8, st + 8, 2);
		return "header st";
	case 6:
		add_value(req, 108 + rnd(s, 4), rnd(s, 255) + 1, 1);
		return "header status/magic";
	case 7:
		add_value(req, x + rnd(s, 24), rng_next(s), 8);
		add_value(req, x + 32 + rnd(s, 120), rng_next(s), 8);
		return "fx x87 part";
	case 8:
		add_value(req, x + 160 + rnd(s, 120), rng_next(s), 8);
		return "fx xmm0-7";
	case 9:
		add_value(req, x + 24, rng_next(s) & h->mxcsr_mask & 0xFFFF, 4);
		return "mxcsr valid";
	case 10:
		add_value(req, x + 24, VX_MXCSR_DEFAULT | VX_BIT(rnd(s, 14) + 18), 4);
		return "mxcsr reserved";
	case 11:
		add_value(req, x + 464, rng_next(s), 4);
		return "magic1";
	case 12:
		add_value(req, x + h->usize + rnd(s, 4), rnd(s, 255) + 1, 1);
		return "magic2";
	case 13:
		size = size_value(h, s);
		add_value(req, x + 480, size, 4);
		if (rnd(s, 2) && size < h->usize)
			add_value(req, x + size, VX_FP_XSTATE_MAGIC2, 4);
		return "xstate_size";
	case 14:
		add_value(req, x + 468, size_value(h, s), 4);
		return "extended_size";
	case 15:
		add_value(req, x + 472, rnd(s, 2) ? rng_next(s) & 0x7 : rng_next(s), 8);
		return "sw.xfeatures";
	case 16:
		add_value(req, x + 512,
			  rnd(s, 2) ? rng_next(s) & h->xcr0 : h->xcr0 | VX_BIT(rnd(s, 61) + 3), 8);
		return "xstate_bv";
	case 17:
		add_value(req, x + (rnd(s, 2) ? 520 : 528 + rnd(s, 48)), rnd(s, 255) + 1, 1);
		return "xcomp_bv / reserved header";
	case 18:
		add_value(req, x + 576 + rnd(s, 120), rng_next(s), 8);
		return "ymm0-7";
	default:
		req->null_fpstate = 1;
		return "fpstate NULL";
	}
}

/* What an i386 program sees of the registers after the return, independent of XINUSE. */
static void normalize(const struct host *h, uint8_t *img)
{
	uint64_t bv = rd64(img + VX_XSTATE_BV_OFFSET);

	if (!(bv & 1)) {
		memset(img, 0, 24);
		memset(img + 32, 0, 128);
		wr(img, VX_FCW_DEFAULT, 2);
	}
	if (!(bv & 2))
		memset(img + VX_XMM_OFFSET, 0, 128);
	if ((h->xcr0 & 4) && !(bv & 4))
		memset(img + 576, 0, 128);
	wr(img + 12, 0, 4); /* FCS (32-bit form) / FIP[63:32] (64-bit form) */
	wr(img + 20, 0, 4); /* FDS / FDP[63:32] */
	memset(img + VX_XMM_OFFSET + 128, 0, 128); /* XMM8-15 */
	memset(img + 416, 0, 160);		   /* padding, sw bytes, header */
	if (h->xcr0 & 4)
		memset(img + 576 + 128, 0, 128); /* YMM8-15 */
}

static bool restore_case(struct host *h, uint64_t *s, struct stats *st, struct result *r)
{
	struct request req = {REQUEST_MAGIC, 1, h->usize, h->flen, 0, 0, {{0}}};
	enum vx_sigreturn_outcome outcome = VX_SIGRETURN_CLEARED;
	struct vx_error err = VX_ERROR_INIT;
	const char *name = gen_mutation(h, s, &req);
	uint8_t *mf;
	bool ok;

	gen_state(h, s, img32, img64);
	if (run_child(h, &req, img32, r) || !(mf = model_frame(h)))
		return false;
	for (unsigned i = 0; i < req.nwrites; i++)
		memcpy(mf + req.w[i].off, req.w[i].bytes, req.w[i].len);
	model_load(h, h->cpu2, NULL); /* the handler ran with cleared user states */
	vx_fpu_restore_sig_abi(h->sys, h->cpu2, h->fps, VX_SIGFRAME_IA32,
			       req.null_fpstate ? NULL : mf, h->flen, &outcome, &err);
	st->restores++;
	st->segv += outcome == VX_SIGRETURN_SEGV;
	st->fx_only += outcome == VX_SIGRETURN_FX_ONLY;
	st->cleared += outcome == VX_SIGRETURN_CLEARED;
	st->xstate += outcome == VX_SIGRETURN_XSTATE;
	memset(model_out, 0, h->usize);
	vx_cpu_to_standard_image(h->cpu2, h->xcr0, model_out, h->usize);
	normalize(h, model_out);
	normalize(h, r->out);
	ok = (outcome == VX_SIGRETURN_SEGV) == (r->rep.segv != 0) &&
	     (!r->rep.segv || r->rep.segv_code == SEGV_SI_KERNEL) &&
	     (r->rep.segv || diff_first_byte(r->out, model_out, h->usize) < 0);
	if (!ok) {
		printf("  mutation '%s': kernel %s, model %s (%s)\n", name,
		       r->rep.segv ? "SIGSEGV" : "returned", vx_sigreturn_outcome_name(outcome),
		       err.reason);
		if (!r->rep.segv)
			diff_dump_bytes("restored state", r->out, model_out, h->usize);
	}
	st->restore_fail += !ok;
	return ok;
}

/* ----------------------------------------------------------------------------------------- */

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

int main(void)
{
	static struct result r;
	struct host h;
	struct stats st = {0};
	char why[256];
	uint64_t seed = env_u64("VXSAVE_DIFF_SEED", UINT64_C(0x1A32F00D5EED));
	unsigned cases = (unsigned)env_u64("VXSAVE_DIFF_CASES", 300);
	struct request probe = {REQUEST_MAGIC, 0, 0, 0, 0, 0, {{0}}};
	uint64_t s = seed;

	memset(&h, 0, sizeof(h));
	if (host_setup(&h, why, sizeof(why))) {
		printf("SKIP: %s\n", why);
		return SKIP;
	}
	probe.img_len = h.usize;
	probe.frame_len = h.flen;
	memset(img32, 0, sizeof(img32));
	wr(img32, VX_FCW_DEFAULT, 2);
	wr(img32 + VX_MXCSR_OFFSET, VX_MXCSR_DEFAULT, 4);
	if (run_child(&h, &probe, img32, &r)) {
		printf("SKIP: the kernel did not run the i386 helper %s (IA32 emulation off?)\n",
		       VXSAVE_IA32_CHILD);
		return SKIP;
	}
	printf("seed 0x%" PRIx64 ", %u cases each; the i386 helper's fpstate pointer 0x%x\n", seed,
	       cases, r.rep.fpstate);
	/* (c) AT_MINSIGSTKSZ of an i386 process (the spec gives none for ia32). */
	printf("AT_MINSIGSTKSZ: i386 process %u, model %u\n", r.rep.minsigstksz,
	       vx_fpu_max_frame_size(h.sys));
	if (r.rep.minsigstksz != vx_fpu_max_frame_size(h.sys) || (r.rep.fpstate + HDR) % 64) {
		printf("FAIL: AT_MINSIGSTKSZ or the frame's alignment\n");
		return 1;
	}
	for (unsigned i = 0; i < cases && st.frame_fail + st.restore_fail < 20; i++) {
		delivery_case(&h, &s, &st, &r);
		restore_case(&h, &s, &st, &r);
	}
	printf("ia32 frames: %u cases, %u differences, %u noisy repeats; sigreturn: %u cases, %u "
	       "differences; model outcomes: %u xstate, %u fx-only, %u cleared, %u SIGSEGV\n",
	       st.frames, st.frame_fail, st.noisy, st.restores, st.restore_fail, st.xstate,
	       st.fx_only, st.cleared, st.segv);
	vx_fpstate_destroy(h.sys, h.fps);
	vx_cpu_destroy(h.cpu);
	vx_cpu_destroy(h.cpu2);
	vx_fpu_system_destroy(h.sys);
	return st.frame_fail + st.restore_fail ? 1 : 0;
}

#else
int main(void)
{
#if !defined(VXSAVE_IA32_CHILD)
	printf("SKIP: the i386 helper was not built (the C compiler cannot target i386 with "
	       "-m32 -nostdlib)\n");
#else
	printf("SKIP: not x86-64 Linux\n");
#endif
	return 77;
}
#endif
