/* SPDX-License-Identifier: MIT */
/*
 * vxsave hardware backend (include/vxsave/cpu_hw.h): CPUID/XCR0 queries, signal handling
 * and the C side of vx_hw_run().  The state-touching sequence itself is one assembly routine
 * (hw_x86_64.S), because compiled C may use XMM registers at any point.
 */
#if defined(__x86_64__) && defined(__linux__)
#define _GNU_SOURCE /* REG_RIP & co. in <sys/ucontext.h> */
#endif

#include "vxsave/arch.h"
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

bool vx_hw_supported(void)
{
	return true;
}

int vx_hw_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	struct vx_cpuid_regs r;

	if (!out)
		return -EINVAL;
	vx_host_cpuid(NULL, leaf, subleaf, &r);
	out[0] = r.eax;
	out[1] = r.ebx;
	out[2] = r.ecx;
	out[3] = r.edx;
	return 0;
}

/* Vendor string, family/model/stepping: CPUID 0 and 1 as the profile holds them. */
static void host_identity(const struct vx_profile *p, struct vx_hw_host *host)
{
	struct vx_cpuid_regs r = vx_profile_leaf(p, 0, 0);
	uint32_t eax = vx_profile_leaf(p, 1, 0).eax;
	uint32_t base_family = (eax >> 8) & 0xF, base_model = (eax >> 4) & 0xF;

	memcpy(host->vendor + 0, &r.ebx, 4);
	memcpy(host->vendor + 4, &r.edx, 4);
	memcpy(host->vendor + 8, &r.ecx, 4);
	host->vendor[12] = '\0';
	host->family = base_family == 0xF ? base_family + ((eax >> 20) & 0xFF) : base_family;
	host->model = (base_family == 0xF || base_family == 0x6)
			  ? (((eax >> 16) & 0xF) << 4) | base_model
			  : base_model;
	host->stepping = eax & 0xF;
}

static void host_features(const struct vx_profile *p, struct vx_hw_host *host)
{
	host->has_xsave = vx_profile_has(p, VX_FEAT_XSAVE);
	host->has_osxsave = vx_profile_has(p, VX_FEAT_OSXSAVE);
	host->has_avx = vx_profile_has(p, VX_FEAT_AVX);
	host->has_fdp_excp_only = vx_profile_has(p, VX_FEAT_FDP_EXCP_ONLY);
	host->has_fcs_fds_deprecated = vx_profile_has(p, VX_FEAT_FCS_FDS_DEPRECATED);
	host->has_avx512f = vx_profile_has(p, VX_FEAT_AVX512F);
	host->has_pku = vx_profile_has(p, VX_FEAT_PKU);
	host->has_ospke = vx_profile_has(p, VX_FEAT_OSPKE);
	host->has_rstr_fp_err_ptrs = vx_profile_has(p, VX_FEAT_RSTR_FP_ERR_PTRS);
	host->has_xsaveopt = vx_profile_has(p, VX_FEAT_XSAVEOPT);
	host->has_xsavec = vx_profile_has(p, VX_FEAT_XSAVEC);
	host->has_xgetbv1 = vx_profile_has(p, VX_FEAT_XGETBV1);
	host->has_xsaves = vx_profile_has(p, VX_FEAT_XSAVES);
	host->has_xfd = vx_profile_has(p, VX_FEAT_XFD);
}

/* Leaf 0xD: the masks, the three sizes and each supported component's raw sub-leaf. */
static void host_xsave_leaves(const struct vx_profile *p, struct vx_hw_host *host)
{
	struct vx_cpuid_regs d0 = vx_profile_leaf(p, 0xD, 0);

	host->xcr0_supported = vx_profile_xcr0_supported(p);
	host->xss_supported = vx_profile_xss_supported(p);
	host->std_size = d0.ebx;
	host->std_size_max = d0.ecx;
	host->compacted_size = vx_profile_leaf(p, 0xD, 1).ebx;
	for (unsigned i = 2; i < 64; i++) {
		struct vx_cpuid_regs r;

		if (!(((host->xcr0_supported | host->xss_supported) >> i) & 1))
			continue;
		r = vx_profile_leaf(p, 0xD, i);
		host->comp_size[i] = r.eax;
		host->comp_offset[i] = r.ebx;
		host->comp_flags[i] = r.ecx;
	}
}

/* What the backend can run: the baseline ops plus those the CPU enumerates. */
static uint64_t host_runnable_ops(const struct vx_hw_host *host)
{
	uint64_t ops = VX_BIT(VX_HW_OP_NONE) | VX_BIT(VX_HW_OP_XSAVE) | VX_BIT(VX_HW_OP_XSAVE64) |
		       VX_BIT(VX_HW_OP_XRSTOR) | VX_BIT(VX_HW_OP_XRSTOR64) |
		       VX_BIT(VX_HW_OP_XGETBV) | VX_BIT(VX_HW_OP_FXSAVE64) |
		       VX_BIT(VX_HW_OP_FXRSTOR64);

	if (host->has_xsaveopt)
		ops |= VX_BIT(VX_HW_OP_XSAVEOPT) | VX_BIT(VX_HW_OP_XSAVEOPT64);
	if (host->has_xsavec)
		ops |= VX_BIT(VX_HW_OP_XSAVEC) | VX_BIT(VX_HW_OP_XSAVEC64);
	return ops;
}

/*
 * The host's facts come through the library's one CPUID seam (vx_profile_from_host(): the
 * same leaves a `--host` profile holds), so the backend and the model never read CPUID twice
 * in two ways.
 */
int vx_hw_host_query(struct vx_hw_host *host)
{
	struct vx_profile profile;
	struct vx_error err = VX_ERROR_INIT;

	if (!host)
		return -EINVAL;
	memset(host, 0, sizeof(*host));
	if (vx_profile_from_host(&profile, &err) != 0)
		return -ENOTSUP;
	host_identity(&profile, host);
	host_features(&profile, host);
	if (host->has_xsave)
		host_xsave_leaves(&profile, host);
	if (!host->has_xsave || !host->has_osxsave || vx_host_xgetbv(0, &host->xcr0) != 0)
		return -ENOTSUP;
	host->runnable_ops = host_runnable_ops(host);
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

/*
 * The bytes of the image the run filled: 64-bit sums, at most the image (a hypervisor's CPUID
 * is not checked by anyone else here).
 */
static size_t readable_end(const struct vx_hw_host *h, uint64_t comps)
{
	uint64_t end = 576;

	for (unsigned i = 2; i < 10; i++) {
		if ((comps >> i) & 1) {
			uint64_t e = (uint64_t)h->comp_offset[i] + h->comp_size[i];

			if (e > end)
				end = e;
		}
	}
	return end < VX_HW_IMAGE_MAX ? (size_t)end : VX_HW_IMAGE_MAX;
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
