/* SPDX-License-Identifier: MIT */
/*
 * vxsave hardware backend (include/vxsave/cpu_hw.h): CPUID/XCR0 queries, signal handling
 * and the C side of vx_hw_run().  The state-touching sequence itself is one assembly routine
 * (hw_x86_64.S), because compiled C may use XMM registers at any point.
 */
#if defined(__x86_64__) && defined(__linux__)
#define _GNU_SOURCE /* REG_RIP & co. in <sys/ucontext.h> */
#endif

#include "vxsave/cpu_hw.h"

#include <errno.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <ucontext.h>

/* Must match the CTX_* offsets in hw_x86_64.S. */
struct vx_hw_asm_ctx {
	uint64_t flags;
	const void *load_image;
	uint64_t load_mask;
	uint64_t touch;
	const void *touch_src;
	uint64_t pre_kind;
	const void *pre_area;
	uint64_t pre_mask;
	void *patch_dst;
	const void *patch_src;
	uint64_t patch_len;
	uint64_t op;
	void *area;
	uint64_t mask;
	uint64_t ecx;
	void *out;
	uint64_t xinuse;
	uint64_t rax;
	uint64_t rdx;
	uint64_t signo;
	uint64_t si_code;
	uint64_t stage;
	uint64_t fault_addr;
	uint32_t off_avx;
	uint32_t off_k;
	uint32_t off_zmmh;
	uint32_t off_hi16;
	uint32_t off_pkru;
	uint32_t pad0;
	uint32_t saved_mxcsr;
	uint16_t saved_fcw;
	uint16_t pad1;
	uint32_t saved_pkru;
	_Alignas(64) uint8_t scratch[512];
	_Alignas(64) uint8_t restore[576];
};

#define CTX_CHECK(field, off)                                                                      \
	_Static_assert(offsetof(struct vx_hw_asm_ctx, field) == (off), "asm offset " #field)
CTX_CHECK(flags, 0);
CTX_CHECK(load_image, 8);
CTX_CHECK(load_mask, 16);
CTX_CHECK(touch, 24);
CTX_CHECK(touch_src, 32);
CTX_CHECK(pre_kind, 40);
CTX_CHECK(pre_area, 48);
CTX_CHECK(pre_mask, 56);
CTX_CHECK(patch_dst, 64);
CTX_CHECK(patch_src, 72);
CTX_CHECK(patch_len, 80);
CTX_CHECK(op, 88);
CTX_CHECK(area, 96);
CTX_CHECK(mask, 104);
CTX_CHECK(ecx, 112);
CTX_CHECK(out, 120);
CTX_CHECK(xinuse, 128);
CTX_CHECK(rax, 136);
CTX_CHECK(rdx, 144);
CTX_CHECK(signo, 152);
CTX_CHECK(si_code, 160);
CTX_CHECK(stage, 168);
CTX_CHECK(fault_addr, 176);
CTX_CHECK(off_avx, 184);
CTX_CHECK(off_k, 188);
CTX_CHECK(off_zmmh, 192);
CTX_CHECK(off_hi16, 196);
CTX_CHECK(off_pkru, 200);
CTX_CHECK(saved_mxcsr, 208);
CTX_CHECK(saved_fcw, 212);
CTX_CHECK(saved_pkru, 216);
CTX_CHECK(scratch, 256);
CTX_CHECK(restore, 768);

#define ASM_F_AVX     1u
#define ASM_F_AVX512  2u
#define ASM_F_PKRU    4u
#define ASM_F_XGETBV1 8u
#define ASM_F_AC      16u

_Static_assert(VX_HW_OP_COUNT == 18, "op table in hw_x86_64.S has 18 entries");

/* Provided by hw_x86_64.S. */
void vx_hw_asm_run(struct vx_hw_asm_ctx *ctx);
extern const char vx_hw_asm_fault_begin[];
extern const char vx_hw_asm_fault_end[];
extern const char vx_hw_asm_recover[];

static void cpuid_raw(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(subleaf));
	r[0] = a;
	r[1] = b;
	r[2] = c;
	r[3] = d;
}

static uint64_t xgetbv_raw(uint32_t index)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return ((uint64_t)hi << 32) | lo;
}

bool vx_hw_supported(void)
{
	return true;
}

int vx_hw_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	if (!out)
		return -EINVAL;
	cpuid_raw(leaf, subleaf, out);
	return 0;
}

int vx_hw_host_query(struct vx_hw_host *host)
{
	uint32_t r[4], max_leaf, max_ext;

	if (!host)
		return -EINVAL;
	memset(host, 0, sizeof(*host));
	cpuid_raw(0, 0, r);
	max_leaf = r[0];
	memcpy(host->vendor + 0, &r[1], 4);
	memcpy(host->vendor + 4, &r[3], 4);
	memcpy(host->vendor + 8, &r[2], 4);
	host->vendor[12] = '\0';

	cpuid_raw(1, 0, r);
	{
		uint32_t base_family = (r[0] >> 8) & 0xF, base_model = (r[0] >> 4) & 0xF;

		host->family =
		    base_family == 0xF ? base_family + ((r[0] >> 20) & 0xFF) : base_family;
		host->model = (base_family == 0xF || base_family == 0x6)
				  ? (((r[0] >> 16) & 0xF) << 4) | base_model
				  : base_model;
		host->stepping = r[0] & 0xF;
	}
	host->has_xsave = (r[2] >> 26) & 1;
	host->has_osxsave = (r[2] >> 27) & 1;
	host->has_avx = (r[2] >> 28) & 1;

	if (max_leaf >= 7) {
		cpuid_raw(7, 0, r);
		host->has_fdp_excp_only = (r[1] >> 6) & 1;
		host->has_fcs_fds_deprecated = (r[1] >> 13) & 1;
		host->has_avx512f = (r[1] >> 16) & 1;
		host->has_pku = (r[2] >> 3) & 1;
		host->has_ospke = (r[2] >> 4) & 1;
	}
	cpuid_raw(0x80000000u, 0, r);
	max_ext = r[0];
	if (max_ext >= 0x80000008u) {
		cpuid_raw(0x80000008u, 0, r);
		host->has_rstr_fp_err_ptrs = (r[1] >> 2) & 1;
	}
	if (max_leaf >= 0xD && host->has_xsave) {
		cpuid_raw(0xD, 0, r);
		host->xcr0_supported = ((uint64_t)r[3] << 32) | r[0];
		host->std_size = r[1];
		host->std_size_max = r[2];
		cpuid_raw(0xD, 1, r);
		host->has_xsaveopt = r[0] & 1;
		host->has_xsavec = (r[0] >> 1) & 1;
		host->has_xgetbv1 = (r[0] >> 2) & 1;
		host->has_xsaves = (r[0] >> 3) & 1;
		host->has_xfd = (r[0] >> 4) & 1;
		host->compacted_size = r[1];
		host->xss_supported = ((uint64_t)r[3] << 32) | r[2];
		for (unsigned i = 2; i < 64; i++) {
			if (!(((host->xcr0_supported | host->xss_supported) >> i) & 1))
				continue;
			cpuid_raw(0xD, i, r);
			host->comp_size[i] = r[0];
			host->comp_offset[i] = r[1];
			host->comp_flags[i] = r[2];
		}
	}
	if (!host->has_xsave || !host->has_osxsave)
		return -ENOTSUP;
	host->xcr0 = xgetbv_raw(0);

	host->runnable_ops = VX_BIT(VX_HW_OP_NONE) | VX_BIT(VX_HW_OP_XSAVE) |
			     VX_BIT(VX_HW_OP_XSAVE64) | VX_BIT(VX_HW_OP_XRSTOR) |
			     VX_BIT(VX_HW_OP_XRSTOR64) | VX_BIT(VX_HW_OP_XGETBV) |
			     VX_BIT(VX_HW_OP_FXSAVE64) | VX_BIT(VX_HW_OP_FXRSTOR64);
	if (host->has_xsaveopt)
		host->runnable_ops |= VX_BIT(VX_HW_OP_XSAVEOPT) | VX_BIT(VX_HW_OP_XSAVEOPT64);
	if (host->has_xsavec)
		host->runnable_ops |= VX_BIT(VX_HW_OP_XSAVEC) | VX_BIT(VX_HW_OP_XSAVEC64);
	return 0;
}

/* ---- signal handling ------------------------------------------------------------------ */

static const int hw_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
#define HW_NSIG (sizeof(hw_signals) / sizeof(hw_signals[0]))

static pthread_mutex_t hw_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint hw_refs; /* written under hw_lock, read lock-free by vx_hw_run() */
static struct sigaction hw_old[HW_NSIG];
static struct vx_hw_host hw_host;

static struct sigaction *old_action_for(int signo)
{
	for (size_t i = 0; i < HW_NSIG; i++)
		if (hw_signals[i] == signo)
			return &hw_old[i];
	return NULL;
}

static void hw_signal_handler(int signo, siginfo_t *info, void *uctx_v)
{
	ucontext_t *uc = uctx_v;
	greg_t rip = uc->uc_mcontext.gregs[REG_RIP];
	struct sigaction *old;

	if ((uintptr_t)rip >= (uintptr_t)vx_hw_asm_fault_begin &&
	    (uintptr_t)rip < (uintptr_t)vx_hw_asm_fault_end) {
		/* Resume in the asm routine; the kernel restores the faulting FPU state. */
		uc->uc_mcontext.gregs[REG_R12] = signo;
		uc->uc_mcontext.gregs[REG_R13] = info->si_code;
		uc->uc_mcontext.gregs[REG_R15] = (greg_t)(uintptr_t)info->si_addr;
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)vx_hw_asm_recover;
		return;
	}

	/* Not ours: hand it to whoever had it before. */
	old = old_action_for(signo);
	if (old && (old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
		old->sa_sigaction(signo, info, uctx_v);
		return;
	}
	if (old && old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(signo);
		return;
	}
	/* Default action: reinstall it and return, so the faulting instruction faults again
	 * and the process dies the usual way (with a core dump where configured). */
	{
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigemptyset(&dfl.sa_mask);
		sigaction(signo, &dfl, NULL);
	}
}

int vx_hw_open(void)
{
	struct sigaction sa;
	int rc = 0;
	size_t i;

	pthread_mutex_lock(&hw_lock);
	if (atomic_load(&hw_refs) > 0) {
		atomic_fetch_add(&hw_refs, 1);
		goto out;
	}
	rc = vx_hw_host_query(&hw_host);
	if (rc)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = hw_signal_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < HW_NSIG; i++) {
		if (sigaction(hw_signals[i], &sa, &hw_old[i]) != 0) {
			rc = -errno;
			while (i-- > 0)
				sigaction(hw_signals[i], &hw_old[i], NULL);
			goto out;
		}
	}
	atomic_store(&hw_refs, 1);
out:
	pthread_mutex_unlock(&hw_lock);
	return rc;
}

void vx_hw_close(void)
{
	pthread_mutex_lock(&hw_lock);
	if (atomic_load(&hw_refs) > 0 && atomic_fetch_sub(&hw_refs, 1) == 1) {
		for (size_t i = 0; i < HW_NSIG; i++)
			sigaction(hw_signals[i], &hw_old[i], NULL);
	}
	pthread_mutex_unlock(&hw_lock);
}

int vx_hw_signal_to_vector(int signo, int si_code)
{
	switch (signo) {
	case SIGSEGV:
		if (si_code == SI_KERNEL)
			return 13;
		return 14;
	case SIGILL:
		return 6;
	case SIGBUS:
		if (si_code == BUS_ADRALN)
			return 17;
		if (si_code == SI_KERNEL)
			return 12;
		return 14;
	case SIGFPE:
		return 16;
	default:
		return -1;
	}
}

/* ---- the run ------------------------------------------------------------------------- */

static uint32_t readable_end(const struct vx_hw_host *h, uint64_t comps)
{
	uint32_t end = 576;

	for (unsigned i = 2; i < 10; i++) {
		if ((comps >> i) & 1) {
			uint32_t e = h->comp_offset[i] + h->comp_size[i];

			if (e > end)
				end = e;
		}
	}
	return end;
}

int vx_hw_run(const struct vx_hw_run_args *args, struct vx_hw_result *res)
{
	_Alignas(64) struct vx_hw_asm_ctx ctx;
	const struct vx_hw_host *h = &hw_host;
	uint64_t comps;

	if (!args || !res || !args->load_image || ((uintptr_t)args->load_image & 63) ||
	    (unsigned)args->op >= VX_HW_OP_COUNT || (unsigned)args->pre > VX_HW_PRE_XRSTOR64 ||
	    (args->pre != VX_HW_PRE_NONE && !args->pre_area) ||
	    (args->patch_len && (!args->patch_dst || !args->patch_src)))
		return -EINVAL;
	if (!atomic_load_explicit(&hw_refs, memory_order_acquire))
		return -EPERM;

	comps = h->xcr0 & VX_HW_READABLE_COMPONENTS;
	memset(&ctx, 0, offsetof(struct vx_hw_asm_ctx, scratch));
	memset(ctx.restore, 0, sizeof(ctx.restore));
	/* The final XRSTOR64 initialises everything; MXCSR comes from the area (standard
	 * form), then the asm reloads the caller's MXCSR/FCW anyway. */
	ctx.restore[24] = 0x80;
	ctx.restore[25] = 0x1F;

	if (((h->xcr0 >> 1) & 3) == 3)
		ctx.flags |= ASM_F_AVX;
	if (((h->xcr0 >> 5) & 7) == 7)
		ctx.flags |= ASM_F_AVX512;
	if (((h->xcr0 >> 9) & 1) && h->has_ospke)
		ctx.flags |= ASM_F_PKRU;
	if (h->has_xgetbv1)
		ctx.flags |= ASM_F_XGETBV1;
	if (!(ctx.flags & ASM_F_AVX512))
		comps &= ~UINT64_C(0xE0);
	if (!(ctx.flags & ASM_F_PKRU))
		comps &= ~VX_BIT(9);
	ctx.off_avx = h->comp_offset[2];
	ctx.off_k = h->comp_offset[5];
	ctx.off_zmmh = h->comp_offset[6];
	ctx.off_hi16 = h->comp_offset[7];
	ctx.off_pkru = h->comp_offset[9];

	if (args->align_check)
		ctx.flags |= ASM_F_AC;
	ctx.load_image = args->load_image;
	ctx.load_mask = args->load_mask ? args->load_mask : ~UINT64_C(0);
	ctx.touch = args->touch;
	ctx.touch_src = args->touch_image ? args->touch_image : args->load_image;
	if (!(ctx.flags & ASM_F_AVX))
		ctx.touch &= ~(VX_HW_TOUCH_AVX | VX_HW_TOUCH_VZEROUPPER | VX_HW_TOUCH_VZEROALL);
	if (!(ctx.flags & ASM_F_AVX512))
		ctx.touch &= ~(VX_HW_TOUCH_OPMASK | VX_HW_TOUCH_ZMM_HI256 | VX_HW_TOUCH_HI16_ZMM);
	ctx.pre_kind = (uint64_t)args->pre;
	ctx.pre_area = args->pre_area;
	ctx.pre_mask = args->pre_mask;
	ctx.patch_dst = args->patch_dst;
	ctx.patch_src = args->patch_src;
	ctx.patch_len = args->patch_len;
	ctx.op = (uint64_t)args->op;
	ctx.area = args->area;
	ctx.mask = args->mask;
	ctx.ecx = args->ecx;

	memset(res, 0, sizeof(*res));
	ctx.out = res->regs.image;

	vx_hw_asm_run(&ctx);

	res->regs.size = readable_end(h, comps);
	res->regs.components = comps;
	/* FXSAVE leaves 464-511 alone (they were zeroed); store the header. */
	memset(res->regs.image + 512, 0, 64);
	memcpy(res->regs.image + 512, &comps, sizeof(comps));
	res->regs.xinuse = ctx.xinuse;
	res->regs.xinuse_valid = (ctx.flags & ASM_F_XGETBV1) != 0;
	res->edx_eax = (ctx.rdx << 32) | (ctx.rax & 0xFFFFFFFFu);
	res->stage = (enum vx_hw_stage)ctx.stage;
	res->signo = (int)ctx.signo;
	res->si_code = (int)ctx.si_code;
	res->fault_addr = (uintptr_t)ctx.fault_addr;
	res->vector = ctx.signo ? vx_hw_signal_to_vector(res->signo, res->si_code) : -1;
	if (!ctx.signo)
		res->stage = VX_HW_STAGE_NONE;
	return 0;
}

#else /* not x86-64 Linux: stubs */

bool vx_hw_supported(void)
{
	return false;
}

int vx_hw_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)leaf;
	(void)subleaf;
	(void)out;
	return -ENOTSUP;
}

int vx_hw_host_query(struct vx_hw_host *host)
{
	if (host)
		memset(host, 0, sizeof(*host));
	return -ENOTSUP;
}

int vx_hw_open(void)
{
	return -ENOTSUP;
}

void vx_hw_close(void)
{
}

int vx_hw_run(const struct vx_hw_run_args *args, struct vx_hw_result *res)
{
	(void)args;
	(void)res;
	return -ENOTSUP;
}

int vx_hw_signal_to_vector(int signo, int si_code)
{
	(void)signo;
	(void)si_code;
	return -1;
}

#endif
