/* SPDX-License-Identifier: MIT */
/*
 * kvm layer: CET in guests where KVM or the hardware runs the control transfers, in nested
 * guests and in SMM (kvm_emulate.h; kvm.md §7).
 *   §8.2 (KUT x86/cet.c) items 29, 31, 33, 35, 37 through KVM_RUN guest programs;
 *   §8.3 (KUT vmx_tests.c vmx_cet_test) items 39, 41, 43 with L2 run by KVM_RUN;
 *   §7.1 the emulator's refusal, what it becomes, the SSP check, the task switch, #CP in KVM's
 *   exception tables; §7.2 the nested VMX controls, checks (next to the processor's own,
 *   arch.md §7.11) and copying rules; §7.3 nested SVM and SMM.
 *
 * Every expected value is worked out by hand from the rule quoted beside it.  The shadow-stack
 * frames follow arch.md §7.6 (a same-level far CALL pushes CS, LIP, then the old SSP, 8 bytes
 * each).  Guest memory: 4 pages at 0x10000000 (below 4 GiB, so 32-bit code segments can use
 * the user shadow stack): page 0 supervisor data, 1 supervisor shadow stack, 2 user shadow
 * stack (its top, 0x10003000, is PL3_SSP), 3 user data.
 */
#include "kvm_test_util.h"

#include <vxsave/kvm_emulate.h>

#define SPR  "sapphire-rapids" /* SHSTK + IBT, LA57: 57-bit canonical checks */
#define ZEN4 "zen4"	       /* SHSTK only, SVM */

#define CR0_GUEST   UINT64_C(0x80010011) /* PG|WP|ET|PE */
#define CR0_NOWP    UINT64_C(0x80000011) /* PG|ET|PE */
#define CR0_REAL    UINT64_C(0x00000010) /* ET: real mode */
#define CR4_XSAVE   UINT64_C(0x40620)	 /* OSXSAVE|OSXMMEXCPT|OSFXSR|PAE */
#define CR4_CET	    (CR4_XSAVE | VX_CR4_CET)
#define SH	    VX_CET_SH_STK_EN
#define ENDBR	    VX_CET_ENDBR_EN
#define NOTRACK	    VX_CET_NO_TRACK_EN
#define TRACKER	    VX_CET_TRACKER
#define LO	    UINT64_C(0x10000000)
#define L(off)	    (LO + (uint64_t)(off))
#define PAGES	    4u
#define USER_TOP    L(0x3000)
#define HI_SSP	    UINT64_C(0x7f0000003000) /* SSP[63:32] != 0 */
#define USER_CS	    0x33u
#define M64	    VX_MODE_64BIT
#define M32	    VX_MODE_COMPAT
#define FEP	    VX_KVM_BRANCH_FEP
#define EMUL	    VX_KVM_BRANCH_EMULATED
#define NONE	    0u /* no exception expected */
#define EXIT_VMCALL 18u

struct gt {
	struct kt_env env;
	struct vx_kvm_vm *vm;
	struct vx_kvm_vcpu *vcpu;
	struct vx_kvm_guest_op ops[48];
	struct vx_kvm_run run;
	unsigned n;
	uint8_t bytes[PAGES * VX_PAGE_SIZE];
	uint8_t attr[PAGES];
	struct vx_cpu_memory mem;
};

/* CPUID.7.0 bits a test takes away from the vCPU. */
#define NO_SHSTK VX_BIT(7)	     /* ECX[7] */
#define NO_IBT	 (VX_BIT(20) << 32)  /* EDX[20] */
#define NO_LM	 (UINT64_C(1) << 63) /* 0x80000001 EDX[29] (flag of this test) */

static void strip_cpuid(struct vx_kvm_cpuid_entry *e, uint32_t n, uint64_t strip)
{
	for (uint32_t i = 0; i < n; i++) {
		if (e[i].function == 7 && e[i].index == 0) {
			e[i].ecx &= ~(uint32_t)(strip & NO_SHSTK);
			e[i].edx &= ~(uint32_t)((strip & NO_IBT) >> 32);
		}
		if (e[i].function == 0x80000001 && (strip & NO_LM))
			e[i].edx &= ~(uint32_t)VX_BIT(29);
	}
}

static void gt_up_opts(struct gt *t, const char *profile, const struct vx_kvm_options *o,
		       uint64_t strip)
{
	static const uint8_t map[PAGES] = {0, VX_PAGE_SHADOW_STACK,
					   VX_PAGE_SHADOW_STACK | VX_PAGE_USER, VX_PAGE_USER};
	struct vx_kvm_cpuid_entry ents[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	uint32_t n;

	memset(t, 0, sizeof(*t));
	kt_up_opts(&t->env, profile, o);
	n = kt_supported(&t->env, ents, VX_KVM_MAX_CPUID_ENTRIES);
	strip_cpuid(ents, n, strip);
	t->vcpu = kt_vcpu(&t->env, &t->vm, 0);
	ft_check(vx_kvm_vcpu_set_cpuid2(t->vcpu, t->env.vmm, ents, n, &err), &err, "cpuid");
	ft_schedule(t->env.vmm, 0);
	memcpy(t->attr, map, sizeof(map));
	t->mem.window = (struct vx_memory){t->bytes, sizeof(t->bytes), LO};
	t->mem.attr = t->attr;
	t->mem.pages = PAGES;
	vx_kvm_vm_set_guest_memory(t->vm, &t->mem);
}

static void gt_up(struct gt *t, const char *profile, enum vx_kvm_flavour flavour, uint64_t strip)
{
	struct vx_kvm_options o;

	vx_kvm_options_init(&o, flavour);
	o.design = VX_KVM_CET_GUEST_ONLY;
	gt_up_opts(t, profile, &o, strip);
}

static void gt_down(struct gt *t)
{
	kt_down(&t->env);
}

/* ---- guest programs ---------------------------------------------------------------------- */

static void add(struct gt *t, enum vx_kvm_gop kind, unsigned cpl, uint32_t index, uint64_t value)
{
	struct vx_kvm_guest_op *op = &t->ops[t->n++];

	assert_true(t->n <= sizeof(t->ops) / sizeof(t->ops[0]));
	memset(op, 0, sizeof(*op));
	op->op = kind;
	op->cpl = cpl;
	op->index = index;
	op->value = value;
	t->run.ops = t->ops;
	t->run.count = t->n;
}

/* A branch whose target starts with ENDBR64 and lands at CPL3 in 64-bit mode, CS = USER_CS. */
static struct vx_kvm_branch br(enum vx_kvm_insn insn, unsigned flags)
{
	struct vx_kvm_branch b;

	memset(&b, 0, sizeof(b));
	b.insn = insn;
	b.flags = flags;
	b.far = (struct vx_cet_far){3, M64, 0, USER_CS, 0x401000};
	b.target = 0x402000;
	b.fetch = VX_FETCH_ENDBR64;
	return b;
}

static void add_br(struct gt *t, unsigned cpl, const struct vx_kvm_branch *b)
{
	assert_true(t->n < sizeof(t->ops) / sizeof(t->ops[0]));
	assert_int_equal(vx_kvm_guest_op_branch(&t->ops[t->n++], cpl, b), 0);
	t->run.ops = t->ops;
	t->run.count = t->n;
}

static int gt_run(struct gt *t, unsigned budget)
{
	struct vx_error err = VX_ERROR_INIT;
	int rc = vx_kvm_vcpu_run(t->vcpu, t->env.vmm, 0, &t->run, budget, &err);

	if (rc < 0)
		fail_msg("KVM_RUN: %d %s", rc, err.reason);
	return rc;
}

/* Run the next op; check it raised @vector (NONE: nothing) with @code, and did not exit. */
static void step_expect(struct gt *t, unsigned vector, uint32_t code, const char *what)
{
	unsigned pc = t->run.pc;
	int rc = gt_run(t, 1);
	const struct vx_event *ev = &t->run.event;

	if (rc == VX_KVM_RUN_EXIT)
		fail_msg("%s: unexpected exit %u to userspace", what, t->run.exit_reason);
	assert_int_equal(t->run.pc, pc + 1);
	if (vector == NONE && ev->kind != VX_EVENT_NONE)
		fail_msg("%s: unexpected vector %u (%s)", what, ev->vector, ev->reason);
	if (vector == NONE)
		return;
	if (ev->kind != VX_EVENT_EXCEPTION || ev->vector != vector || ev->error_code != code)
		fail_msg("%s: want vector %u code %u, got kind %d vector %u code %u (%s)", what,
			 vector, code, (int)ev->kind, ev->vector, ev->error_code, ev->reason);
}

/* Run the ops added so far that have not run, each expected to raise nothing. */
static void run_quiet(struct gt *t, const char *what)
{
	while (t->run.pc < t->run.count)
		step_expect(t, NONE, 0, what);
}

/* The guest kernel enables CET (CR0.WP, CR4.CET), writes U_CET/S_CET and PL3_SSP = the top of
 * the user shadow stack, and enters user mode with SYSEXIT (SSP = PL3_SSP, §7.6). */
static void kernel_setup(struct gt *t, uint64_t u_cet, uint64_t s_cet)
{
	struct vx_kvm_branch to_user = br(VX_KVM_INSN_SYSEXIT, 0);

	add(t, VX_KVM_GOP_MOV_CR0, 0, 0, CR0_GUEST);
	add(t, VX_KVM_GOP_MOV_CR4, 0, 0, CR4_CET);
	add(t, VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_U_CET, u_cet);
	add(t, VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_S_CET, s_cet);
	add(t, VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_PL3_SSP, USER_TOP);
	add_br(t, 0, &to_user);
	run_quiet(t, "kernel setup");
}

static uint64_t mem64(const struct gt *t, uint32_t off)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)t->bytes[off + i] << (8 * i);
	return v;
}

static uint64_t rdssp(struct gt *t)
{
	add(t, VX_KVM_GOP_RDSSP, 3, 0, 0);
	step_expect(t, NONE, 0, "rdssp");
	return t->run.value;
}

/* ---- §8.2 item 29 ------------------------------------------------------------------------ */

/* Item 29: a user far CALL to a 32-bit CS; the callee changes its return address and does
 * lret → #CP(2) FAR-RET.  Same for a 64-bit CS (the KUT code's USER_CS). */
static void item29_far_ret(struct gt *t, enum vx_cpu_mode callee)
{
	struct vx_kvm_branch call = br(VX_KVM_INSN_CALL_FAR, 0);
	struct vx_kvm_branch lret =
	    br(VX_KVM_INSN_RET_FAR, callee == M32 ? VX_KVM_BRANCH_COMPAT : 0);

	kernel_setup(t, SH, 0);
	/* lcall: lands at CPL3 in @callee; pushes CS 0x33, LIP 0x401005 and SSP 0x10003000. */
	call.far = (struct vx_cet_far){3, callee, 0, USER_CS, 0x401005};
	call.fetch = VX_FETCH_OTHER;
	add_br(t, 3, &call);
	step_expect(t, NONE, 0, "item 29 lcall");
	assert_int_equal(mem64(t, 0x2FF8), USER_CS);
	assert_int_equal(mem64(t, 0x2FF0), 0x401005);
	assert_int_equal(mem64(t, 0x2FE8), USER_TOP);
	assert_int_equal(rdssp(t), L(0x2FE8));
	/* "incq (%rsp); lretl": the return address popped is 0x401006 → #CP(2). */
	lret.far = (struct vx_cet_far){3, M64, 0, USER_CS, 0x401006};
	add_br(t, 3, &lret);
	step_expect(t, VX_VEC_CP, VX_CP_FAR_RET, "item 29 lret to a changed address");
	/* #CP changed nothing: the untouched return works and SSP is back at the top. */
	lret.far.lip = 0x401005;
	add_br(t, 3, &lret);
	step_expect(t, NONE, 0, "lret to the pushed address");
	assert_int_equal(rdssp(t), USER_TOP);
}

static void item29_compat_cs(void **state)
{
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	item29_far_ret(&t, M32);
	gt_down(&t);
}

static void item29_64bit_cs(void **state)
{
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	item29_far_ret(&t, M64);
	gt_down(&t);
}

/* ---- §8.2 item 33 ------------------------------------------------------------------------ */

/* Item 33: U_CET = ENDBR_EN | NO_TRACK_EN, a user indirect jmp to a target without ENDBR64 →
 * #CP(3); the tracker stays WAIT_FOR_ENDBRANCH (U_CET bit 11) until the kernel clears it, as
 * KUT's fixup does. */
static void item33_ibt(void **state)
{
	struct vx_kvm_branch jmp = br(VX_KVM_INSN_JMP_INDIRECT, 0);
	struct vx_kvm_branch call = br(VX_KVM_INSN_CALL_INDIRECT, 0);
	struct vx_kvm_branch direct = br(VX_KVM_INSN_JMP, 0);
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	kernel_setup(&t, ENDBR | NOTRACK, 0);
	jmp.fetch = VX_FETCH_OTHER;
	add_br(&t, 3, &jmp);
	step_expect(&t, VX_VEC_CP, VX_CP_ENDBRANCH, "item 33 jmp *%rax to no ENDBR64");
	add(&t, VX_KVM_GOP_RDMSR, 0, VX_MSR_IA32_U_CET, 0);
	step_expect(&t, NONE, 0, "rdmsr U_CET");
	assert_int_equal(t.run.value, ENDBR | NOTRACK | TRACKER);
	add(&t, VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_U_CET, ENDBR | NOTRACK);
	/* The same jump to an ENDBR64: no #CP. */
	jmp.fetch = VX_FETCH_ENDBR64;
	add_br(&t, 3, &jmp);
	/* notrack jmp with NO_TRACK_EN: not tracked. */
	jmp.fetch = VX_FETCH_OTHER;
	jmp.flags = VX_KVM_BRANCH_NOTRACK;
	add_br(&t, 3, &jmp);
	/* A direct jmp never arms the tracker. */
	direct.fetch = VX_FETCH_OTHER;
	add_br(&t, 3, &direct);
	run_quiet(&t, "tracked and untracked jumps");
	/* An indirect call to an ENDBR32 in 64-bit mode: #CP(3). */
	call.fetch = VX_FETCH_ENDBR32;
	call.ret = 0x401005;
	add_br(&t, 3, &call);
	step_expect(&t, VX_VEC_CP, VX_CP_ENDBRANCH, "call *%rax to ENDBR32");
	gt_down(&t);
}

/* ---- §8.2 items 31 and 35: forced emulation ---------------------------------------------- */

struct fep_case {
	enum vx_kvm_insn insn;
	unsigned vector;
};

static void fep_cases(struct gt *t, const struct fep_case *c, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		struct vx_kvm_branch b = br(c[i].insn, FEP);
		uint64_t exits = t->run.vm_exits;
		char name[96];

		add_br(t, 3, &b);
		snprintf(name, sizeof(name), "%s: forced %s", what,
			 vx_kvm_insn_info(c[i].insn)->name);
		step_expect(t, c[i].vector, 0, name);
		/* Each forced emulation is one VM exit (the #UD intercept). */
		assert_int_equal(t->run.vm_exits, exits + 1);
	}
}

/* Item 31 with KUT's SHSTK list: U_CET = SHSTK_EN; forced jmp rel, jmp *%rax and ljmpq are
 * emulated (neither is a shadow-stack instruction; ENDBR_EN is off); every shadow-stack
 * instruction is refused → #UD (§7.1). */
static void item31_shstk_emulation(void **state)
{
	static const struct fep_case cases[] = {
	    {VX_KVM_INSN_JMP, NONE},
	    {VX_KVM_INSN_JMP_INDIRECT, NONE},
	    {VX_KVM_INSN_JMP_FAR, NONE},
	    {VX_KVM_INSN_CALL_INDIRECT, VX_VEC_UD},
	    {VX_KVM_INSN_CALL_FAR, VX_VEC_UD},
	    {VX_KVM_INSN_SYSCALL, VX_VEC_UD},
	    {VX_KVM_INSN_SYSENTER, VX_VEC_UD},
	    {VX_KVM_INSN_IRET, VX_VEC_UD},
	    {VX_KVM_INSN_CALL, VX_VEC_UD},
	    {VX_KVM_INSN_RET, VX_VEC_UD},
	    {VX_KVM_INSN_RET_IMM, VX_VEC_UD},
	    {VX_KVM_INSN_RET_FAR, VX_VEC_UD},
	    {VX_KVM_INSN_RET_FAR_IMM, VX_VEC_UD},
	};
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	kernel_setup(&t, SH, 0);
	fep_cases(&t, cases, sizeof(cases) / sizeof(cases[0]), "item 31");
	assert_int_equal(gt_run(&t, 0), VX_KVM_RUN_DONE); /* no exit to userspace at CPL3 */
	gt_down(&t);
}

/* Item 35: U_CET = ENDBR_EN | NO_TRACK_EN; forced call *%rax, lcall, syscall, sysenter,
 * jmp *%rax, ljmpl → #UD (IBT instructions), iretq → #UD (the emulator runs IRET in real mode
 * only); direct jmp/call and every RET are emulated. */
static void item35_ibt_emulation(void **state)
{
	static const struct fep_case cases[] = {
	    {VX_KVM_INSN_CALL_INDIRECT, VX_VEC_UD},
	    {VX_KVM_INSN_CALL_FAR, VX_VEC_UD},
	    {VX_KVM_INSN_SYSCALL, VX_VEC_UD},
	    {VX_KVM_INSN_SYSENTER, VX_VEC_UD},
	    {VX_KVM_INSN_IRET, VX_VEC_UD},
	    {VX_KVM_INSN_JMP_INDIRECT, VX_VEC_UD},
	    {VX_KVM_INSN_JMP_FAR, VX_VEC_UD},
	    {VX_KVM_INSN_JMP, NONE},
	    {VX_KVM_INSN_RET, NONE},
	    {VX_KVM_INSN_CALL, NONE},
	    {VX_KVM_INSN_RET_FAR, NONE},
	    {VX_KVM_INSN_RET_FAR_IMM, NONE},
	};
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	kernel_setup(&t, ENDBR | NOTRACK, 0);
	fep_cases(&t, cases, sizeof(cases) / sizeof(cases[0]), "item 35");
	assert_int_equal(gt_run(&t, 0), VX_KVM_RUN_DONE);
	gt_down(&t);
}

/* ---- §8.2 item 37 ------------------------------------------------------------------------ */

/* Item 37: CR4.CET = 1 with CR0.WP = 1 is allowed; clearing it and writing U_CET = 0 too.
 * The counter-cases of §7.1: CR4.CET with CR0.WP = 0, and clearing WP under CR4.CET → #GP. */
static void item37_cr4_cet(void **state)
{
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	add(&t, VX_KVM_GOP_MOV_CR0, 0, 0, CR0_NOWP);
	add(&t, VX_KVM_GOP_MOV_CR4, 0, 0, CR4_CET);
	step_expect(&t, NONE, 0, "mov cr0 without WP");
	step_expect(&t, VX_VEC_GP, 0, "CR4.CET with CR0.WP = 0");
	add(&t, VX_KVM_GOP_MOV_CR0, 0, 0, CR0_GUEST);
	add(&t, VX_KVM_GOP_MOV_CR4, 0, 0, CR4_CET);
	run_quiet(&t, "item 37 CR4.CET with WP");
	assert_int_equal(vx_kvm_vcpu_cr4(t.vcpu), CR4_CET);
	add(&t, VX_KVM_GOP_MOV_CR0, 0, 0, CR0_NOWP);
	step_expect(&t, VX_VEC_GP, 0, "clearing WP with CR4.CET = 1");
	add(&t, VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_U_CET, SH);
	add(&t, VX_KVM_GOP_MOV_CR4, 0, 0, CR4_XSAVE);
	add(&t, VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_U_CET, 0);
	add(&t, VX_KVM_GOP_RDMSR, 0, VX_MSR_IA32_U_CET, 0);
	run_quiet(&t, "item 37 clearing CR4.CET and U_CET");
	assert_int_equal(t.run.value, 0);
	assert_int_equal(vx_kvm_vcpu_cr4(t.vcpu), CR4_XSAVE);
	gt_down(&t);
}

/* ---- §7.1 the emulator, one case at a time (vx_kvm_vcpu_emulate) ------------------------- */

/* Guest states the cases start from: CR0, CR4, U_CET, S_CET. */
enum st { ST_A, ST_B, ST_C, ST_REAL };

static const struct {
	uint64_t cr0, cr4, u_cet, s_cet;
} states[] = {
    [ST_A] = {CR0_GUEST, CR4_CET, SH, 0},
    [ST_B] = {CR0_GUEST, CR4_CET, ENDBR, SH},
    [ST_C] = {CR0_GUEST, CR4_XSAVE, SH | ENDBR, SH | ENDBR},
    [ST_REAL] = {CR0_REAL, 0, 0, 0},
};

struct emul_case {
	const char *name;
	enum st st;
	bool exit_on_failure;
	unsigned cpl;
	enum vx_kvm_insn insn;
	unsigned flags;
	enum vx_cpu_mode target_mode; /* far transfers */
	unsigned target_cpl;
	uint64_t ssp;
	enum vx_kvm_emul_status status;
	unsigned vector;
	bool refused;
};

#define EXIT VX_KVM_EMUL_EXIT
#define DONE VX_KVM_EMUL_DONE
#define FLT  VX_KVM_EMUL_FAULT
#define UD   VX_VEC_UD
#define GP   VX_VEC_GP

/* Hand-derived from §7.1: near branches read U_CET at CPL3 / S_CET below, far ones both. */
static const struct emul_case emul_cases[] = {
    /* U_CET = SHSTK_EN, S_CET = 0 */
    {"A: user call, SHSTK_EN in U_CET", ST_A, false, 3, VX_KVM_INSN_CALL, FEP, M64, 3, USER_TOP,
     FLT, UD, true},
    {"A: user jmp *%rax, no ENDBR_EN", ST_A, false, 3, VX_KVM_INSN_JMP_INDIRECT, FEP, M64, 3,
     USER_TOP, DONE, NONE, false},
    {"A: kernel call reads S_CET only", ST_A, false, 0, VX_KVM_INSN_CALL, FEP, M64, 0, USER_TOP,
     DONE, NONE, false},
    {"A: kernel lcall reads both", ST_A, false, 0, VX_KVM_INSN_CALL_FAR, FEP, M64, 0, USER_TOP, FLT,
     UD, true},
    {"A: kernel lcall, not forced: #UD and exit", ST_A, false, 0, VX_KVM_INSN_CALL_FAR, EMUL, M64,
     0, USER_TOP, EXIT, UD, true},
    {"A: user lcall, not forced: #UD only", ST_A, false, 3, VX_KVM_INSN_CALL_FAR, EMUL, M64, 3,
     USER_TOP, FLT, UD, true},
    {"A: kernel MMIO mov", ST_A, false, 0, VX_KVM_INSN_MOV, EMUL, M64, 0, USER_TOP, DONE, NONE,
     false},
    {"A: user iretq refused", ST_A, false, 3, VX_KVM_INSN_IRET, FEP, M64, 3, USER_TOP, FLT, UD,
     true},
    {"A: task switch", ST_A, false, 0, VX_KVM_INSN_TASK_SWITCH, 0, M64, 0, USER_TOP, EXIT, NONE,
     true},
    {"A: ljmp to 32-bit CS, SSP < 4G", ST_A, false, 3, VX_KVM_INSN_JMP_FAR, FEP, M32, 3, USER_TOP,
     DONE, NONE, false},
    {"A: ljmp to 32-bit CS, SSP >= 4G", ST_A, false, 3, VX_KVM_INSN_JMP_FAR, FEP, M32, 3, HI_SSP,
     FLT, GP, false},
    {"A: ljmp to 64-bit CS, SSP >= 4G", ST_A, false, 3, VX_KVM_INSN_JMP_FAR, FEP, M64, 3, HI_SSP,
     DONE, NONE, false},
    {"A: kernel ljmp to 32-bit CS, S_CET off", ST_A, false, 0, VX_KVM_INSN_JMP_FAR, FEP, M32, 0,
     HI_SSP, DONE, NONE, false},
    {"A+exit: user lcall, not forced", ST_A, true, 3, VX_KVM_INSN_CALL_FAR, EMUL, M64, 3, USER_TOP,
     EXIT, NONE, true},
    {"A+exit: user lcall, forced", ST_A, true, 3, VX_KVM_INSN_CALL_FAR, FEP, M64, 3, USER_TOP, FLT,
     UD, true},
    /* U_CET = ENDBR_EN, S_CET = SHSTK_EN */
    {"B: user call, U_CET without SHSTK_EN", ST_B, false, 3, VX_KVM_INSN_CALL, FEP, M64, 3,
     USER_TOP, DONE, NONE, false},
    {"B: user call *%rax, ENDBR_EN", ST_B, false, 3, VX_KVM_INSN_CALL_INDIRECT, FEP, M64, 3,
     USER_TOP, FLT, UD, true},
    {"B: kernel call, S_CET SHSTK_EN", ST_B, false, 0, VX_KVM_INSN_CALL, FEP, M64, 0, USER_TOP, FLT,
     UD, true},
    {"B: kernel jmp *%rax, S_CET without ENDBR_EN", ST_B, false, 0, VX_KVM_INSN_JMP_INDIRECT, FEP,
     M64, 0, USER_TOP, DONE, NONE, false},
    {"B: user lret reads S_CET too", ST_B, false, 3, VX_KVM_INSN_RET_FAR, FEP, M64, 3, USER_TOP,
     FLT, UD, true},
    {"B: sysexit", ST_B, false, 0, VX_KVM_INSN_SYSEXIT, FEP, M64, 3, USER_TOP, FLT, UD, true},
    {"B: task switch", ST_B, false, 0, VX_KVM_INSN_TASK_SWITCH, 0, M64, 0, USER_TOP, EXIT, NONE,
     true},
    {"B: kernel ljmp: refused before the SSP check", ST_B, false, 0, VX_KVM_INSN_JMP_FAR, FEP, M32,
     0, HI_SSP, FLT, UD, true},
    /* CR4.CET = 0: nothing is refused */
    {"C: user call *%rax", ST_C, false, 3, VX_KVM_INSN_CALL_INDIRECT, FEP, M64, 3, USER_TOP, DONE,
     NONE, false},
    {"C: user iretq outside real mode", ST_C, false, 3, VX_KVM_INSN_IRET, FEP, M64, 3, USER_TOP,
     FLT, UD, false},
    {"C: kernel iretq outside real mode", ST_C, false, 0, VX_KVM_INSN_IRET, FEP, M64, 0, USER_TOP,
     EXIT, UD, false},
    {"C: kernel int outside real mode", ST_C, false, 0, VX_KVM_INSN_INT, FEP, M64, 0, USER_TOP,
     EXIT, UD, false},
    {"C: task switch", ST_C, false, 0, VX_KVM_INSN_TASK_SWITCH, 0, M64, 0, USER_TOP, DONE, NONE,
     false},
    {"C: ljmp to 32-bit CS, SSP >= 4G", ST_C, false, 3, VX_KVM_INSN_JMP_FAR, FEP, M32, 3, HI_SSP,
     DONE, NONE, false},
    {"C+exit: kernel iretq", ST_C, true, 0, VX_KVM_INSN_IRET, EMUL, M64, 0, USER_TOP, EXIT, NONE,
     false},
    /* real mode */
    {"real: iret", ST_REAL, false, 0, VX_KVM_INSN_IRET, FEP, M64, 0, USER_TOP, DONE, NONE, false},
    {"real: int", ST_REAL, false, 0, VX_KVM_INSN_INT, FEP, M64, 0, USER_TOP, DONE, NONE, false},
};

static void host_msr(struct vx_kvm_vcpu *v, uint32_t msr, uint64_t value)
{
	struct vx_error err = VX_ERROR_INIT;

	if (vx_kvm_vcpu_set_msr(v, true, msr, value, &err) != 0)
		fail_msg("host MSR 0x%x = 0x%llx: %s", msr, (unsigned long long)value, err.reason);
}

static uint64_t host_rdmsr(struct vx_kvm_vcpu *v, uint32_t msr)
{
	struct vx_error err = VX_ERROR_INIT;
	uint64_t value = 0;

	if (vx_kvm_vcpu_get_msr(v, true, msr, &value, &err) != 0)
		fail_msg("host RDMSR 0x%x: %s", msr, err.reason);
	return value;
}

static void host_crs(struct vx_kvm_vcpu *v, uint64_t cr0, uint64_t cr4)
{
	struct vx_error err = VX_ERROR_INIT;

	ft_check(vx_kvm_vcpu_set_cr4(v, true, 0, NULL, &err), &err, "CR4 = 0");
	ft_check(vx_kvm_vcpu_set_cr0(v, true, cr0, NULL, &err), &err, "CR0");
	ft_check(vx_kvm_vcpu_set_cr4(v, true, cr4, NULL, &err), &err, "CR4");
}

static void apply_state(struct gt *t, const struct emul_case *c)
{
	host_crs(t->vcpu, states[c->st].cr0, states[c->st].cr4);
	host_msr(t->vcpu, VX_MSR_IA32_U_CET, states[c->st].u_cet);
	host_msr(t->vcpu, VX_MSR_IA32_S_CET, states[c->st].s_cet);
	host_msr(t->vcpu, VX_MSR_KVM_INTERNAL_GUEST_SSP, c->ssp);
	vx_kvm_vm_set_exit_on_emulation_failure(t->vm, c->exit_on_failure);
}

static unsigned check_emul_case(struct gt *t, const struct emul_case *c)
{
	struct vx_kvm_branch b = br(c->insn, c->flags);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_emulation e;
	unsigned failures = 0;

	apply_state(t, c);
	b.far.mode = c->target_mode;
	b.far.cpl = c->target_cpl;
	ft_check(vx_kvm_vcpu_emulate(t->vcpu, c->cpl, &b, &e, &err), &err, c->name);
	if (e.status != c->status || e.refused != c->refused ||
	    (c->vector ? e.event.vector != c->vector || e.event.kind != VX_EVENT_EXCEPTION
		       : e.event.kind != VX_EVENT_NONE)) {
		print_error("case \"%s\": status %d refused %d event %d/%u (%s; %s)\n", c->name,
			    (int)e.status, e.refused, (int)e.event.kind, e.event.vector, e.reason,
			    e.event.reason);
		failures++;
	}
	/* Exits are KVM_EXIT_INTERNAL_ERROR / EMULATION; a task switch's has ndata 0. */
	if (e.status == EXIT &&
	    (e.exit_reason != VX_KVM_EXIT_INTERNAL_ERROR ||
	     e.suberror != VX_KVM_INTERNAL_ERROR_EMULATION ||
	     e.ndata != (c->insn == VX_KVM_INSN_TASK_SWITCH ? 0u : VX_KVM_NDATA_UNMODELLED))) {
		print_error("case \"%s\": exit %u suberror %u ndata %u\n", c->name, e.exit_reason,
			    e.suberror, e.ndata);
		failures++;
	}
	return failures;
}

static void emulator_rules(void **state)
{
	unsigned failures = 0;
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	for (size_t i = 0; i < sizeof(emul_cases) / sizeof(emul_cases[0]); i++)
		failures += check_emul_case(&t, &emul_cases[i]);
	assert_int_equal(failures, 0);
	gt_down(&t);
}

/* The instruction table is §7.1's lists, name by name. */
static void insn_table(void **state)
{
	static const char *const shadow_stack[] = {
	    "call",	"call-indirect", "lcall", "ret",     "ret-imm",	 "lret",
	    "lret-imm", "int",		 "iret",  "syscall", "sysenter", "sysexit"};
	static const char *const ibt[] = {"jmp-indirect", "call-indirect", "ljmp",    "lcall",
					  "int",	  "syscall",	   "sysenter"};
	static const char *const near[] = {"jmp",	    "jmp-indirect", "call",
					   "call-indirect", "ret",	    "ret-imm"};
	unsigned ss = 0, ib = 0, nr = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(shadow_stack) / sizeof(shadow_stack[0]); i++)
		assert_true(vx_kvm_insn_info((enum vx_kvm_insn)vx_kvm_insn_by_name(shadow_stack[i]))
				->flags &
			    VX_KVM_INSN_SHADOW_STACK);
	for (size_t i = 0; i < sizeof(ibt) / sizeof(ibt[0]); i++)
		assert_true(vx_kvm_insn_info((enum vx_kvm_insn)vx_kvm_insn_by_name(ibt[i]))->flags &
			    VX_KVM_INSN_IBT);
	for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++)
		assert_true(
		    vx_kvm_insn_info((enum vx_kvm_insn)vx_kvm_insn_by_name(near[i]))->flags &
		    VX_KVM_INSN_NEAR_BRANCH);
	/* ... and nothing else is in those lists. */
	for (unsigned i = 0; i < VX_KVM_INSN_COUNT; i++) {
		unsigned f = vx_kvm_insn_info((enum vx_kvm_insn)i)->flags;

		assert_int_equal(vx_kvm_insn_by_name(vx_kvm_insn_info((enum vx_kvm_insn)i)->name),
				 (int)i);
		ss += !!(f & VX_KVM_INSN_SHADOW_STACK);
		ib += !!(f & VX_KVM_INSN_IBT);
		nr += !!(f & VX_KVM_INSN_NEAR_BRANCH);
	}
	assert_int_equal(ss, 12);
	assert_int_equal(ib, 7);
	assert_int_equal(nr, 6);
	assert_null(vx_kvm_insn_info(VX_KVM_INSN_COUNT));
	assert_int_equal(vx_kvm_insn_by_name("sysret"), -ENOENT);
}

/* KVM_RUN returns KVM_EXIT_INTERNAL_ERROR for a refused emulation at CPL0 (with #UD queued)
 * and for a task switch under CET (ndata 0, nothing queued); the run resumes after them. */
static void internal_error_exits(void **state)
{
	struct vx_kvm_branch call = br(VX_KVM_INSN_CALL_INDIRECT, EMUL);
	struct vx_kvm_branch task = br(VX_KVM_INSN_TASK_SWITCH, 0);
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	add(&t, VX_KVM_GOP_MOV_CR0, 0, 0, CR0_GUEST);
	add(&t, VX_KVM_GOP_MOV_CR4, 0, 0, CR4_CET);
	add(&t, VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_S_CET, ENDBR);
	add_br(&t, 0, &call);
	add_br(&t, 0, &task);
	add(&t, VX_KVM_GOP_HLT, 0, 0, 0);
	assert_int_equal(gt_run(&t, 0), VX_KVM_RUN_EXIT);
	assert_int_equal(t.run.pc, 4);
	assert_int_equal(t.run.exit_reason, VX_KVM_EXIT_INTERNAL_ERROR);
	assert_int_equal(t.run.internal_suberror, VX_KVM_INTERNAL_ERROR_EMULATION);
	assert_int_equal(t.run.internal_ndata, VX_KVM_NDATA_UNMODELLED);
	assert_int_equal(t.run.event.vector, VX_VEC_UD);
	assert_int_equal(gt_run(&t, 0), VX_KVM_RUN_EXIT);
	assert_int_equal(t.run.pc, 5);
	assert_int_equal(t.run.exit_reason, VX_KVM_EXIT_INTERNAL_ERROR);
	assert_int_equal(t.run.internal_ndata, 0);
	assert_int_equal(t.run.event.kind, VX_EVENT_NONE);
	assert_int_equal(gt_run(&t, 0), VX_KVM_RUN_EXIT);
	assert_int_equal(t.run.exit_reason, VX_KVM_EXIT_HLT);
	gt_down(&t);
}

/* KVM's exception tables do not know #CP (6.18.2): benign, no error code; the guest still gets
 * #CP(2) with its error code from the hardware (item 29). */
static void cp_exception_tables(void **state)
{
	(void)state;
	assert_int_equal(vx_kvm_exception_class(VX_VEC_CP), VX_KVM_EXCPT_BENIGN);
	assert_false(vx_kvm_exception_has_error_code(VX_VEC_CP));
	assert_int_equal(vx_kvm_exception_class(VX_VEC_GP), VX_KVM_EXCPT_CONTRIBUTORY);
	assert_true(vx_kvm_exception_has_error_code(VX_VEC_GP));
	assert_int_equal(vx_kvm_exception_class(VX_VEC_PF), VX_KVM_EXCPT_PF);
	assert_true(vx_kvm_exception_has_error_code(8));			/* #DF */
	assert_int_equal(vx_kvm_exception_class(0), VX_KVM_EXCPT_CONTRIBUTORY); /* #DE */
	assert_false(vx_kvm_exception_has_error_code(0));
	assert_false(vx_kvm_exception_has_error_code(VX_VEC_UD));
}

static void branch_misuse(void **state)
{
	struct vx_kvm_branch b = br(VX_KVM_INSN_COUNT, 0);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_guest_op op;
	struct vx_kvm_emulation e;
	struct gt t;

	(void)state;
	memset(&op, 0x5a, sizeof(op));
	assert_int_equal(vx_kvm_guest_op_branch(&op, 0, &b), -EINVAL);
	assert_int_equal(op.cpl, 0x5a5a5a5a); /* unchanged */
	b = br(VX_KVM_INSN_JMP, 0x100);
	assert_int_equal(vx_kvm_guest_op_branch(&op, 0, &b), -EINVAL);
	b = br(VX_KVM_INSN_JMP, 0);
	assert_int_equal(vx_kvm_guest_op_branch(&op, 4, &b), -EINVAL);
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	assert_int_equal(vx_kvm_vcpu_emulate(t.vcpu, 0, NULL, &e, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "no branch"));
	assert_int_equal(vx_kvm_vcpu_emulate(NULL, 0, &b, &e, &err), -EINVAL);
	/* A malformed op in a program: nothing happens, the reason says why. */
	add(&t, VX_KVM_GOP_BRANCH, 0, 0, 0);
	step_expect(&t, NONE, 0, "malformed branch op");
	assert_non_null(strstr(t.run.event.reason, "misuse"));
	gt_down(&t);
}

/* ---- §7.2 / §8.3 nested VMX -------------------------------------------------------------- */

static void l1_vmcs12(struct gt *t, struct vx_kvm_nested_vmx *n)
{
	memset(n, 0, sizeof(*n));
	host_crs(t->vcpu, CR0_GUEST, CR4_XSAVE);
	n->vmcs12.vm_exit_controls = VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE;
	n->vmcs12.host_cr0 = n->vmcs12.guest_cr0 = CR0_GUEST;
	n->vmcs12.host_cr4 = n->vmcs12.guest_cr4 = CR4_XSAVE;
}

static int launch(struct gt *t, struct vx_kvm_nested_vmx *n, struct vx_vmentry_failure *f)
{
	struct vx_error err = VX_ERROR_INIT;
	int rc = vx_kvm_nested_vmlaunch(t->vcpu, n, f, &err);

	if (rc < 0)
		fail_msg("VMLAUNCH: %d %s", rc, err.reason);
	return rc;
}

/* L2 reads S_CET (L1's MSR bitmap passes it through, as KUT's msr_bmp_init does). */
static uint64_t l2_rdmsr_s_cet(struct gt *t)
{
	t->n = 0;
	t->run.pc = 0;
	add(t, VX_KVM_GOP_RDMSR, 0, VX_MSR_IA32_S_CET, 0);
	assert_int_equal(gt_run(t, 0), VX_KVM_RUN_DONE);
	assert_int_equal(t->run.event.kind, VX_EVENT_NONE);
	return t->run.value;
}

static void vmexit(struct gt *t, struct vx_kvm_nested_vmx *n)
{
	struct vx_error err = VX_ERROR_INIT;

	ft_check(vx_kvm_nested_vmexit(t->vcpu, n, EXIT_VMCALL, &err), &err, "nested VM exit");
	assert_false(vx_kvm_vcpu_guest_mode(t->vcpu));
	assert_int_equal(n->vmcs12.vm_exit_reason, EXIT_VMCALL);
}

/* Items 39, 41, 43 in KUT's order, with the invalid-guest-state step between 41 and 43. */
static void items39_43_vmx_cet(void **state)
{
	struct vx_kvm_nested_vmx n;
	struct vx_vmentry_failure f;
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	l1_vmcs12(&t, &n);
	/* Item 39: HOST_S_CET = GUEST_S_CET = 2 without the load-CET controls: L2 reads L1's
	 * S_CET (0); after the exit L1's S_CET is still 0 and GUEST_S_CET was saved (0). */
	n.vmcs12.host_cet.s_cet = n.vmcs12.guest_cet.s_cet = VX_CET_WR_SHSTK_EN;
	assert_int_equal(launch(&t, &n, &f), VX_VMENTRY_OK);
	assert_true(vx_kvm_vcpu_guest_mode(t.vcpu));
	assert_int_equal(l2_rdmsr_s_cet(&t), 0);
	vmexit(&t, &n);
	assert_int_equal(host_rdmsr(t.vcpu, VX_MSR_IA32_S_CET), 0);
	assert_int_equal(n.vmcs12.guest_cet.s_cet, 0);
	/* Item 41: with both controls and GUEST_S_CET = 2, L2 sees 2, L1 gets HOST_S_CET = 2. */
	n.vmcs12.vm_entry_controls |= VX_VMX_ENTRY_LOAD_CET;
	n.vmcs12.vm_exit_controls |= VX_VMX_EXIT_LOAD_CET;
	n.vmcs12.guest_cet.s_cet = VX_CET_WR_SHSTK_EN;
	assert_int_equal(launch(&t, &n, &f), VX_VMENTRY_OK);
	assert_int_equal(l2_rdmsr_s_cet(&t), VX_CET_WR_SHSTK_EN);
	vmexit(&t, &n);
	assert_int_equal(host_rdmsr(t.vcpu, VX_MSR_IA32_S_CET), VX_CET_WR_SHSTK_EN);
	/* GUEST_S_CET with SUPPRESS and TRACKER: a VM exit for invalid guest state, L1 state
	 * from the host fields. */
	host_msr(t.vcpu, VX_MSR_IA32_S_CET, 0);
	n.vmcs12.guest_cet.s_cet = VX_CET_SUPPRESS | VX_CET_TRACKER;
	assert_int_equal(launch(&t, &n, &f), VX_VMENTRY_INVALID_GUEST);
	assert_int_equal(f.exit_reason, 0x80000021u);
	assert_int_equal(f.field, VX_VMCS_GUEST_S_CET);
	assert_int_equal(n.vmcs12.vm_exit_reason, 0x80000021u);
	assert_false(vx_kvm_vcpu_guest_mode(t.vcpu));
	assert_int_equal(host_rdmsr(t.vcpu, VX_MSR_IA32_S_CET), VX_CET_WR_SHSTK_EN);
	/* Item 43: HOST_S_CET with bits 10 and 11 → VMfail, invalid host-state field. */
	n.vmcs12.host_cet.s_cet = VX_CET_SUPPRESS | VX_CET_TRACKER;
	n.vmcs12.vm_exit_reason = 0;
	assert_int_equal(launch(&t, &n, &f), VX_VMENTRY_VMFAIL);
	assert_int_equal(f.vm_instruction_error, VX_VMX_ERROR_INVALID_HOST);
	assert_int_equal(f.field, VX_VMCS_HOST_S_CET);
	assert_int_equal(n.vmcs12.vm_exit_reason, 0); /* VMfail: no VM exit */
	assert_false(vx_kvm_vcpu_guest_mode(t.vcpu));
	gt_down(&t);
}

/* Without EXIT_LOAD_CET L2's values carry over to L1 (§7.2 VM-exit). */
static void vmx_l2_values_carry_over(void **state)
{
	struct vx_kvm_nested_vmx n;
	struct vx_vmentry_failure f;
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	l1_vmcs12(&t, &n);
	n.vmcs12.host_cet.s_cet = VX_CET_WR_SHSTK_EN; /* unused without EXIT_LOAD_CET */
	assert_int_equal(launch(&t, &n, &f), VX_VMENTRY_OK);
	t.n = 0;
	t.run.pc = 0;
	add(&t, VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_S_CET, ENDBR);
	assert_int_equal(gt_run(&t, 0), VX_KVM_RUN_DONE);
	vmexit(&t, &n);
	assert_int_equal(n.vmcs12.guest_cet.s_cet, ENDBR);
	assert_int_equal(host_rdmsr(t.vcpu, VX_MSR_IA32_S_CET), ENDBR);
	gt_down(&t);
}

/* Only the fields the vCPU has move (nested.c:2542-2566): with IBT and no SHSTK, S_CET does,
 * SSP and the SSP table do not. */
static void vmx_fields_by_caps(void **state)
{
	struct vx_kvm_nested_vmx n;
	struct vx_vmentry_failure f;
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, NO_SHSTK);
	l1_vmcs12(&t, &n);
	n.vmcs12.vm_entry_controls = VX_VMX_ENTRY_LOAD_CET;
	n.vmcs12.guest_cet = (struct vx_kvm_cet_state){ENDBR, 0x1000, 0x2000};
	assert_int_equal(launch(&t, &n, &f), VX_VMENTRY_OK);
	assert_int_equal(n.vmcs02.s_cet, ENDBR);
	assert_int_equal(n.vmcs02.ssp, 0);
	assert_int_equal(n.vmcs02.ssp_tbl, 0);
	vmexit(&t, &n);
	/* vmcs12's guest SSP fields are not refreshed either. */
	assert_int_equal(n.vmcs12.guest_cet.ssp, 0x1000);
	assert_int_equal(n.vmcs12.guest_cet.ssp_tbl, 0x2000);
	gt_down(&t);
}

/* Guest mode: a refused emulation at CPL0 in L2 queues #UD without exiting (§7.1). */
static void emulation_failure_in_l2(void **state)
{
	struct vx_kvm_branch lcall = br(VX_KVM_INSN_CALL_FAR, EMUL);
	struct vx_kvm_nested_vmx n;
	struct vx_vmentry_failure f;
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	l1_vmcs12(&t, &n);
	host_crs(t.vcpu, CR0_GUEST, CR4_CET);
	host_msr(t.vcpu, VX_MSR_IA32_U_CET, SH);
	assert_int_equal(launch(&t, &n, &f), VX_VMENTRY_OK);
	t.n = 0;
	add_br(&t, 0, &lcall);
	assert_int_equal(gt_run(&t, 0), VX_KVM_RUN_DONE);
	assert_int_equal(t.run.event.vector, VX_VEC_UD);
	vmexit(&t, &n);
	/* The same in L1: #UD and KVM_EXIT_INTERNAL_ERROR. */
	t.run.pc = 0;
	assert_int_equal(gt_run(&t, 0), VX_KVM_RUN_EXIT);
	assert_int_equal(t.run.exit_reason, VX_KVM_EXIT_INTERNAL_ERROR);
	assert_int_equal(t.run.event.vector, VX_VEC_UD);
	gt_down(&t);
}

/* What KVM offers L1 (§7.2), and the vmcs12 field layout next to the cpu layer's encodings. */
static void vmx_caps_offered(void **state)
{
	static const uint32_t encodings[6] = {
	    VX_VMCS_HOST_S_CET,	 VX_VMCS_HOST_SSP,  VX_VMCS_HOST_INTR_SSP_TABLE,
	    VX_VMCS_GUEST_S_CET, VX_VMCS_GUEST_SSP, VX_VMCS_GUEST_INTR_SSP_TABLE};
	struct vx_kvm_nested_vmx_caps caps;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_options o;
	struct kt_env e;

	(void)state;
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(vx_kvm_vmcs12_cet_field(i)->offset, 680 + 8 * i);
		assert_int_equal(vx_kvm_vmcs12_cet_field(i)->encoding, encodings[i]);
	}
	assert_null(vx_kvm_vmcs12_cet_field(6));
	kt_up(&e, SPR, VX_KVM_VMX, VX_KVM_CET_GUEST_ONLY);
	ft_check(vx_kvm_nested_vmx_get_caps(e.kvm, &caps, &err), &err, "caps");
	assert_int_equal(caps.entry_ctls_allowed1, VX_VMX_ENTRY_LOAD_CET);
	assert_int_equal(caps.exit_ctls_allowed1,
			 VX_VMX_EXIT_LOAD_CET | VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE);
	assert_int_equal(caps.basic, VX_VMX_BASIC_NO_HW_ERROR_CODE_CC);
	kt_down(&e);
	/* No load-CET controls on the host: none offered (and no SHSTK/IBT caps, §1.3). */
	vx_kvm_options_init(&o, VX_KVM_VMX);
	o.design = VX_KVM_CET_GUEST_ONLY;
	o.vmx_load_cet = false;
	kt_up_opts(&e, SPR, &o);
	ft_check(vx_kvm_nested_vmx_get_caps(e.kvm, &caps, &err), &err, "caps");
	assert_int_equal(caps.entry_ctls_allowed1, 0);
	assert_int_equal(caps.exit_ctls_allowed1, VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE);
	assert_int_equal(caps.basic, VX_VMX_BASIC_NO_HW_ERROR_CODE_CC);
	kt_down(&e);
	/* No VMX_BASIC[56]: not offered, and KVM drops SHSTK/IBT, so no load-CET either. */
	o.vmx_load_cet = true;
	o.vmx_basic_no_hw_errcode = false;
	kt_up_opts(&e, SPR, &o);
	ft_check(vx_kvm_nested_vmx_get_caps(e.kvm, &caps, &err), &err, "caps");
	assert_int_equal(caps.basic, 0);
	assert_int_equal(caps.entry_ctls_allowed1, 0);
	kt_down(&e);
	kt_up(&e, ZEN4, VX_KVM_SVM, VX_KVM_CET_GUEST_ONLY);
	assert_int_equal(vx_kvm_nested_vmx_get_caps(e.kvm, &caps, &err), -EINVAL);
	kt_down(&e);
}

/* One VMLAUNCH consistency case: the mutation, KVM's verdict (status and field), and whether
 * the processor's own VM-entry checks (arch.md §7.11) agree. */
struct cc_case {
	const char *name;
	void (*mutate)(struct vx_kvm_vmcs12 *c);
	int status;
	uint32_t field;
	bool hw_agrees;
};

static void m_none(struct vx_kvm_vmcs12 *c)
{
	(void)c;
}
static void m_host_wp(struct vx_kvm_vmcs12 *c)
{
	c->host_cr4 |= VX_CR4_CET;
	c->host_cr0 = CR0_NOWP;
}
static void m_host_rsvd(struct vx_kvm_vmcs12 *c)
{
	c->host_cet.s_cet = VX_BIT(6);
}
static void m_host_bit12(struct vx_kvm_vmcs12 *c)
{
	c->host_cet.s_cet = VX_BIT(12);
}
static void m_host_ssp_align(struct vx_kvm_vmcs12 *c)
{
	c->host_cet.ssp = 0x1002;
}
static void m_host_tbl(struct vx_kvm_vmcs12 *c)
{
	c->host_cet.ssp_tbl = UINT64_C(0x0100000000000000); /* bit 56: not canonical at 57 */
}
static void m_host_s_cet_high(struct vx_kvm_vmcs12 *c)
{
	c->host_cet.s_cet = UINT64_C(0x1000000000000000); /* bit 60 */
}
static void m_host32_ssp(struct vx_kvm_vmcs12 *c)
{
	c->vm_exit_controls &= ~VX_VMX_EXIT_HOST_ADDR_SPACE_SIZE;
	c->host_cet.ssp = UINT64_C(0x100000000000); /* bit 44: fine for a 64-bit host */
}
static void m_host64_ssp(struct vx_kvm_vmcs12 *c)
{
	c->host_cet.ssp = UINT64_C(0x100000000000);
}
static void m_guest_wp(struct vx_kvm_vmcs12 *c)
{
	c->guest_cr4 |= VX_CR4_CET;
	c->guest_cr0 = CR0_NOWP;
}
static void m_guest_supp(struct vx_kvm_vmcs12 *c)
{
	c->guest_cet.s_cet = VX_CET_SUPPRESS | VX_CET_TRACKER;
}
static void m_guest_ssp_align(struct vx_kvm_vmcs12 *c)
{
	c->guest_cet.ssp = 0x1001;
}
static void m_guest_ssp_bit56(struct vx_kvm_vmcs12 *c)
{
	c->guest_cet.ssp = UINT64_C(0x0100000000000000); /* 63:57 identical: allowed */
}
static void m_guest_ssp_bit57(struct vx_kvm_vmcs12 *c)
{
	c->guest_cet.ssp = UINT64_C(0x0200000000000000);
}
static void m_guest_tbl(struct vx_kvm_vmcs12 *c)
{
	c->guest_cet.ssp_tbl = UINT64_C(0x0100000000000000);
}
static void m_guest_bad_ungated(struct vx_kvm_vmcs12 *c)
{
	c->vm_entry_controls = 0;
	c->guest_cet.s_cet = VX_CET_SUPPRESS | VX_CET_TRACKER;
}
static void m_host_bad_ungated(struct vx_kvm_vmcs12 *c)
{
	c->vm_exit_controls &= ~VX_VMX_EXIT_LOAD_CET;
	c->host_cet.s_cet = VX_CET_SUPPRESS | VX_CET_TRACKER;
}
static void m_both_bad(struct vx_kvm_vmcs12 *c)
{
	c->host_cet.s_cet = c->guest_cet.s_cet = VX_CET_SUPPRESS | VX_CET_TRACKER;
}

#define VMFAIL VX_VMENTRY_VMFAIL
#define BADGST VX_VMENTRY_INVALID_GUEST

static const struct cc_case cc_cases[] = {
    {"valid", m_none, VX_VMENTRY_OK, 0, true},
    {"host CR4.CET without CR0.WP", m_host_wp, VMFAIL, VX_VMCS_HOST_CR4, true},
    {"host S_CET reserved bit 6", m_host_rsvd, VMFAIL, VX_VMCS_HOST_S_CET, true},
    {"host S_CET bit 12 (KVM: bits 13:12 must be 0)", m_host_bit12, VMFAIL, VX_VMCS_HOST_S_CET,
     false},
    {"host SSP bit 1", m_host_ssp_align, VMFAIL, VX_VMCS_HOST_SSP, true},
    {"host SSP table not canonical", m_host_tbl, VMFAIL, VX_VMCS_HOST_INTR_SSP_TABLE, true},
    {"host S_CET not canonical, 64-bit host", m_host_s_cet_high, VMFAIL, VX_VMCS_HOST_S_CET, true},
    {"host SSP bits 63:32, 32-bit host", m_host32_ssp, VMFAIL, VX_VMCS_HOST_SSP, true},
    {"host SSP bit 44, 64-bit host", m_host64_ssp, VX_VMENTRY_OK, 0, true},
    {"guest CR4.CET without CR0.WP", m_guest_wp, BADGST, VX_VMCS_GUEST_CR4, true},
    {"guest S_CET SUPPRESS|TRACKER", m_guest_supp, BADGST, VX_VMCS_GUEST_S_CET, true},
    {"guest SSP bit 0", m_guest_ssp_align, BADGST, VX_VMCS_GUEST_SSP, true},
    {"guest SSP bit 56 (63:57 identical)", m_guest_ssp_bit56, VX_VMENTRY_OK, 0, true},
    {"guest SSP bit 57", m_guest_ssp_bit57, BADGST, VX_VMCS_GUEST_SSP, true},
    {"guest SSP table not canonical", m_guest_tbl, BADGST, VX_VMCS_GUEST_INTR_SSP_TABLE, true},
    {"bad guest S_CET, no ENTRY_LOAD_CET", m_guest_bad_ungated, VX_VMENTRY_OK, 0, true},
    {"bad host S_CET, no EXIT_LOAD_CET", m_host_bad_ungated, VX_VMENTRY_OK, 0, true},
    {"host checked before guest", m_both_bad, VMFAIL, VX_VMCS_HOST_S_CET, true},
};

static struct vx_cet_vmcs as_vmcs(const struct vx_kvm_vmcs12 *c)
{
	struct vx_cet_vmcs v = {c->vm_entry_controls, c->vm_exit_controls, c->guest_cr0,
				c->guest_cr4,	      c->host_cr0,	   c->host_cr4,
				c->guest_cet.s_cet,   c->guest_cet.ssp,	   c->guest_cet.ssp_tbl,
				c->host_cet.s_cet,    c->host_cet.ssp,	   c->host_cet.ssp_tbl};

	return v;
}

static unsigned check_cc_case(struct gt *t, const struct cc_case *c)
{
	struct vx_cpu *hw = vx_fpu_machine_cpu(t->env.machine, 1);
	struct vx_vmentry_failure f, hf;
	struct vx_kvm_nested_vmx n;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cet_vmcs v;
	int rc, hrc;

	l1_vmcs12(t, &n);
	n.vmcs12.vm_entry_controls = VX_VMX_ENTRY_LOAD_CET;
	n.vmcs12.vm_exit_controls |= VX_VMX_EXIT_LOAD_CET;
	n.vmcs12.host_cet = (struct vx_kvm_cet_state){SH, 0x7f0000001000, 0x7f0000002000};
	n.vmcs12.guest_cet = (struct vx_kvm_cet_state){SH | ENDBR, 0x7f0000003000, 0x7f0000004000};
	c->mutate(&n.vmcs12);
	v = as_vmcs(&n.vmcs12);
	rc = launch(t, &n, &f);
	hrc = vx_cpu_cet_vmentry_check(hw, &v, &hf);
	if (rc == VX_VMENTRY_OK)
		ft_check(vx_kvm_nested_vmexit(t->vcpu, &n, EXIT_VMCALL, &err), &err, "exit");
	if (rc != c->status || (rc != VX_VMENTRY_OK && f.field != c->field) ||
	    (rc == VMFAIL && f.vm_instruction_error != VX_VMX_ERROR_INVALID_HOST)) {
		print_error("case \"%s\": KVM %d field 0x%x (%s)\n", c->name, rc, f.field,
			    f.reason);
		return 1;
	}
	if ((hrc == rc) != c->hw_agrees) {
		print_error("case \"%s\": processor %d vs KVM %d (%s)\n", c->name, hrc, rc,
			    hf.reason);
		return 1;
	}
	return 0;
}

/* VMLAUNCH's consistency checks (§7.2), side by side with the processor's (arch.md §7.11). */
static void vmx_consistency_checks(void **state)
{
	unsigned failures = 0;
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	for (size_t i = 0; i < sizeof(cc_cases) / sizeof(cc_cases[0]); i++)
		failures += check_cc_case(&t, &cc_cases[i]);
	assert_int_equal(failures, 0);
	gt_down(&t);
}

/* S_CET is judged against L1's caps, and the controls against what KVM offers. */
static void vmx_checks_use_l1_caps(void **state)
{
	struct vx_kvm_nested_vmx n;
	struct vx_vmentry_failure f;
	struct vx_kvm_options o;
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, NO_IBT);
	l1_vmcs12(&t, &n);
	n.vmcs12.vm_exit_controls |= VX_VMX_EXIT_LOAD_CET;
	n.vmcs12.host_cet.s_cet = ENDBR; /* valid on this processor, not for an L1 without IBT */
	assert_int_equal(launch(&t, &n, &f), VX_VMENTRY_VMFAIL);
	assert_int_equal(f.vm_instruction_error, VX_VMX_ERROR_INVALID_HOST);
	assert_int_equal(f.field, VX_VMCS_HOST_S_CET);
	gt_down(&t);
	vx_kvm_options_init(&o, VX_KVM_VMX);
	o.design = VX_KVM_CET_GUEST_ONLY;
	o.vmx_load_cet = false;
	gt_up_opts(&t, SPR, &o, 0);
	l1_vmcs12(&t, &n);
	n.vmcs12.vm_entry_controls = VX_VMX_ENTRY_LOAD_CET;
	assert_int_equal(launch(&t, &n, &f), VX_VMENTRY_VMFAIL);
	assert_int_equal(f.vm_instruction_error, VX_VMX_ERROR_INVALID_CONTROL);
	gt_down(&t);
}

static void nested_misuse(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_nested_vmx n;
	struct vx_kvm_nested_svm s;
	struct vx_vmentry_failure f;
	struct gt t;

	(void)state;
	memset(&s, 0, sizeof(s));
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	l1_vmcs12(&t, &n);
	assert_int_equal(vx_kvm_nested_vmexit(t.vcpu, &n, EXIT_VMCALL, &err), -EINVAL);
	assert_int_equal(vx_kvm_nested_vmrun(t.vcpu, &s, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "svm"));
	assert_int_equal(vx_kvm_nested_vmlaunch(t.vcpu, &n, NULL, &err), -EINVAL);
	assert_int_equal(launch(&t, &n, &f), VX_VMENTRY_OK);
	assert_int_equal(vx_kvm_nested_vmlaunch(t.vcpu, &n, &f, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "already"));
	gt_down(&t);
}

/* ---- §7.3 nested SVM --------------------------------------------------------------------- */

static void svm_run(struct gt *t, struct vx_kvm_nested_svm *s)
{
	struct vx_error err = VX_ERROR_INIT;

	ft_check(vx_kvm_nested_vmrun(t->vcpu, s, &err), &err, "VMRUN");
	assert_true(vx_kvm_vcpu_guest_mode(t->vcpu));
}

static void svm_exit(struct gt *t, struct vx_kvm_nested_svm *s)
{
	struct vx_error err = VX_ERROR_INIT;

	ft_check(vx_kvm_nested_svm_vmexit(t->vcpu, s, &err), &err, "#VMEXIT");
	assert_false(vx_kvm_vcpu_guest_mode(t->vcpu));
}

#define L1_SSP UINT64_C(0x7f0000008000)
#define L1_TBL UINT64_C(0x7f0000009000)

static void svm_vmcb12_cet(void **state)
{
	struct vx_kvm_nested_svm s;
	struct gt t;

	(void)state;
	gt_up(&t, ZEN4, VX_KVM_SVM, 0);
	host_msr(t.vcpu, VX_MSR_KVM_INTERNAL_GUEST_SSP, L1_SSP);
	host_msr(t.vcpu, VX_MSR_IA32_INT_SSP_TAB, L1_TBL);
	memset(&s, 0, sizeof(s));
	s.vmcb12 = (struct vx_kvm_vmcb12){0x5000, false, {SH, 0x7f0000001000, 0x7f0000002000}};
	/* A new vmcb12: vmcb02 gets its CET fields; L2 reads S_CET = SHSTK_EN and clears it. */
	svm_run(&t, &s);
	assert_int_equal(s.hsave.ssp, L1_SSP); /* KVM caps have SHSTK: L1's state saved */
	assert_int_equal(l2_rdmsr_s_cet(&t), SH);
	t.n = 0;
	t.run.pc = 0;
	add(&t, VX_KVM_GOP_WRMSR, 0, VX_MSR_IA32_S_CET, 0);
	assert_int_equal(gt_run(&t, 0), VX_KVM_RUN_DONE);
	svm_exit(&t, &s);
	/* #VMEXIT: vmcb12 gets L2's values; L1 has its own back. */
	assert_int_equal(s.vmcb12.cet.s_cet, 0);
	assert_int_equal(s.vmcb12.cet.ssp, 0x7f0000001000);
	assert_int_equal(host_rdmsr(t.vcpu, VX_MSR_KVM_INTERNAL_GUEST_SSP), L1_SSP);
	assert_int_equal(host_rdmsr(t.vcpu, VX_MSR_IA32_INT_SSP_TAB), L1_TBL);
	/* Same vmcb12, L1 writes s_cet but marks the CET area clean: vmcb02 keeps 0. */
	s.vmcb12.cet.s_cet = SH;
	s.vmcb12.cet_clean = true;
	svm_run(&t, &s);
	assert_int_equal(l2_rdmsr_s_cet(&t), 0);
	svm_exit(&t, &s);
	/* Not clean: copied. */
	s.vmcb12.cet.s_cet = SH;
	s.vmcb12.cet_clean = false;
	svm_run(&t, &s);
	assert_int_equal(l2_rdmsr_s_cet(&t), SH);
	svm_exit(&t, &s);
	/* Clean but another vmcb12 (new): copied. */
	s.vmcb12 = (struct vx_kvm_vmcb12){0x6000, true, {0, 0x7f0000001000, 0x7f0000002000}};
	svm_run(&t, &s);
	assert_int_equal(l2_rdmsr_s_cet(&t), 0);
	svm_exit(&t, &s);
	gt_down(&t);
}

/* A vCPU without SHSTK: vmcb02 never takes vmcb12's CET fields, nor gives them back. */
static void svm_without_shstk(void **state)
{
	struct vx_kvm_nested_svm s;
	struct gt t;

	(void)state;
	gt_up(&t, ZEN4, VX_KVM_SVM, NO_SHSTK);
	memset(&s, 0, sizeof(s));
	s.vmcb12 = (struct vx_kvm_vmcb12){0x5000, false, {SH, 0x7f0000001000, 0x7f0000002000}};
	svm_run(&t, &s);
	assert_int_equal(s.vmcb02.s_cet, 0);
	assert_int_equal(s.vmcb02.ssp, 0);
	svm_exit(&t, &s);
	assert_int_equal(s.vmcb12.cet.s_cet, SH);
	assert_int_equal(s.vmcb12.cet.ssp, 0x7f0000001000);
	gt_down(&t);
}

/* ---- §7.3 SMM ---------------------------------------------------------------------------- */

static uint64_t smram64(const uint8_t *smram, unsigned field)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)smram[field - VX_KVM_SMRAM64_BASE + i] << (8 * i);
	return v;
}

static void smram_put(uint8_t *smram, unsigned field, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		smram[field - VX_KVM_SMRAM64_BASE + i] = (uint8_t)(v >> (8 * i));
}

#define SMM_SSP	  UINT64_C(0x7f0000004ff0)
#define SMM_PL0	  UINT64_C(0x7f0000005ff8)
#define SMM_CR0	  UINT64_C(0x00010010) /* CR0_GUEST without PE and PG */
#define SMM_S_CET (SH | ENDBR)

static int smi(struct gt *t, uint8_t *smram)
{
	struct vx_error err = VX_ERROR_INIT;
	int rc = vx_kvm_vcpu_smi(t->vcpu, smram, VX_KVM_SMRAM_SIZE, &err);

	if (rc < 0)
		fail_msg("SMI: %s", err.reason);
	return rc;
}

static int rsm(struct gt *t, const uint8_t *smram)
{
	struct vx_error err = VX_ERROR_INIT;
	int rc = vx_kvm_vcpu_rsm(t->vcpu, smram, VX_KVM_SMRAM_SIZE, &err);

	if (rc < 0)
		fail_msg("RSM: %s", err.reason);
	return rc;
}

static void smm_ssp_and_cr4(void **state)
{
	uint8_t smram[VX_KVM_SMRAM_SIZE];
	struct vx_error err = VX_ERROR_INIT;
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	host_crs(t.vcpu, CR0_GUEST, CR4_CET);
	host_msr(t.vcpu, VX_MSR_IA32_S_CET, SMM_S_CET);
	host_msr(t.vcpu, VX_MSR_IA32_PL0_SSP, SMM_PL0);
	host_msr(t.vcpu, VX_MSR_KVM_INTERNAL_GUEST_SSP, SMM_SSP);
	memset(smram, 0xA5, sizeof(smram));
	assert_int_equal(smi(&t, smram), VX_KVM_SMM_OK);
	/* The image: SSP at 0xFF18, CR4 at 0xFF48, CR0 at 0xFF58, EFER at 0xFED0. */
	assert_int_equal(smram64(smram, VX_KVM_SMRAM64_SSP), SMM_SSP);
	assert_int_equal(smram64(smram, VX_KVM_SMRAM64_CR4), CR4_CET);
	assert_int_equal(smram64(smram, VX_KVM_SMRAM64_CR0), CR0_GUEST);
	assert_int_equal(smram64(smram, VX_KVM_SMRAM64_EFER), 0);
	/* S_CET and PL0_SSP are not in SMRAM; they keep their values. */
	for (unsigned off = 0; off < VX_KVM_SMRAM_SIZE; off += 8) {
		assert_int_not_equal(smram64(smram, VX_KVM_SMRAM64_BASE + off), SMM_S_CET);
		assert_int_not_equal(smram64(smram, VX_KVM_SMRAM64_BASE + off), SMM_PL0);
	}
	assert_int_equal(host_rdmsr(t.vcpu, VX_MSR_IA32_S_CET), SMM_S_CET);
	assert_int_equal(host_rdmsr(t.vcpu, VX_MSR_IA32_PL0_SSP), SMM_PL0);
	/* In SMM: CR4 = 0, CR0 without PE/PG; CET is off: RDSSP is a NOP, SETSSBSY #UD. */
	assert_true(vx_kvm_vcpu_in_smm(t.vcpu));
	assert_int_equal(vx_kvm_vcpu_cr4(t.vcpu), 0);
	assert_int_equal(vx_kvm_vcpu_cr0(t.vcpu), SMM_CR0);
	add(&t, VX_KVM_GOP_RDSSP, 0, 0, 0xdead);
	step_expect(&t, NONE, 0, "rdssp in SMM");
	assert_int_equal(t.run.value, 0xdead);
	add(&t, VX_KVM_GOP_SETSSBSY, 0, 0, 0);
	step_expect(&t, VX_VEC_UD, 0, "setssbsy in SMM");
	assert_int_equal(vx_kvm_vcpu_smi(t.vcpu, smram, sizeof(smram), &err), -EBUSY);
	/* RSM with the SSP the SMM handler left in SMRAM. */
	smram_put(smram, VX_KVM_SMRAM64_SSP, SMM_SSP + 0x10);
	assert_int_equal(rsm(&t, smram), VX_KVM_SMM_OK);
	assert_false(vx_kvm_vcpu_in_smm(t.vcpu));
	assert_int_equal(vx_kvm_vcpu_cr4(t.vcpu), CR4_CET);
	assert_int_equal(vx_kvm_vcpu_cr0(t.vcpu), CR0_GUEST);
	assert_int_equal(host_rdmsr(t.vcpu, VX_MSR_KVM_INTERNAL_GUEST_SSP), SMM_SSP + 0x10);
	/* RSM outside SMM: #UD. */
	assert_int_equal(rsm(&t, smram), VX_KVM_SMM_UD);
	gt_down(&t);
}

/* RSM refuses an SSP the MSR rules refuse, and CR4.CET with CR0.WP cleared in SMM; the vCPU
 * stays in SMM, unchanged. */
static void smm_rsm_refusals(void **state)
{
	uint8_t smram[VX_KVM_SMRAM_SIZE];
	struct vx_error err = VX_ERROR_INIT;
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, 0);
	host_crs(t.vcpu, CR0_GUEST, CR4_CET);
	host_msr(t.vcpu, VX_MSR_KVM_INTERNAL_GUEST_SSP, SMM_SSP);
	assert_int_equal(smi(&t, smram), VX_KVM_SMM_OK);
	smram_put(smram, VX_KVM_SMRAM64_SSP, SMM_SSP | 1);
	assert_int_equal(rsm(&t, smram), VX_KVM_SMM_UNHANDLEABLE);
	assert_true(vx_kvm_vcpu_in_smm(t.vcpu));
	assert_int_equal(vx_kvm_vcpu_cr4(t.vcpu), 0);
	assert_int_equal(vx_kvm_vcpu_cr0(t.vcpu), SMM_CR0);
	assert_int_equal(host_rdmsr(t.vcpu, VX_MSR_KVM_INTERNAL_GUEST_SSP), SMM_SSP);
	smram_put(smram, VX_KVM_SMRAM64_SSP, SMM_SSP);
	ft_check(vx_kvm_vcpu_set_cr0(t.vcpu, true, CR0_REAL, NULL, &err), &err, "SMM clears WP");
	assert_int_equal(vx_kvm_vcpu_rsm(t.vcpu, smram, sizeof(smram), &err),
			 VX_KVM_SMM_UNHANDLEABLE);
	assert_non_null(strstr(err.reason, "CR0/CR4"));
	assert_int_equal(vx_kvm_vcpu_cr0(t.vcpu), CR0_REAL);
	ft_check(vx_kvm_vcpu_set_cr0(t.vcpu, true, SMM_CR0, NULL, &err), &err, "WP back");
	assert_int_equal(rsm(&t, smram), VX_KVM_SMM_OK);
	gt_down(&t);
}

/* Without SHSTK SSP is neither saved nor restored; without LM the image is not modelled. */
static void smm_without_shstk_or_lm(void **state)
{
	uint8_t smram[VX_KVM_SMRAM_SIZE];
	struct vx_error err = VX_ERROR_INIT;
	struct gt t;

	(void)state;
	gt_up(&t, SPR, VX_KVM_VMX, NO_SHSTK);
	host_crs(t.vcpu, CR0_GUEST, CR4_CET);
	assert_int_equal(smi(&t, smram), VX_KVM_SMM_OK);
	assert_int_equal(smram64(smram, VX_KVM_SMRAM64_SSP), 0);
	smram_put(smram, VX_KVM_SMRAM64_SSP, 0x3); /* would be refused with SHSTK */
	assert_int_equal(rsm(&t, smram), VX_KVM_SMM_OK);
	gt_down(&t);
	gt_up(&t, SPR, VX_KVM_VMX, NO_LM);
	assert_int_equal(vx_kvm_vcpu_smi(t.vcpu, smram, sizeof(smram), &err), -EOPNOTSUPP);
	assert_int_equal(vx_kvm_vcpu_smi(t.vcpu, smram, 100, &err), -EINVAL);
	gt_down(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(item29_compat_cs),
	    cmocka_unit_test(item29_64bit_cs),
	    cmocka_unit_test(item31_shstk_emulation),
	    cmocka_unit_test(item33_ibt),
	    cmocka_unit_test(item35_ibt_emulation),
	    cmocka_unit_test(item37_cr4_cet),
	    cmocka_unit_test(emulator_rules),
	    cmocka_unit_test(insn_table),
	    cmocka_unit_test(internal_error_exits),
	    cmocka_unit_test(cp_exception_tables),
	    cmocka_unit_test(branch_misuse),
	    cmocka_unit_test(items39_43_vmx_cet),
	    cmocka_unit_test(vmx_l2_values_carry_over),
	    cmocka_unit_test(vmx_fields_by_caps),
	    cmocka_unit_test(emulation_failure_in_l2),
	    cmocka_unit_test(vmx_caps_offered),
	    cmocka_unit_test(vmx_consistency_checks),
	    cmocka_unit_test(vmx_checks_use_l1_caps),
	    cmocka_unit_test(nested_misuse),
	    cmocka_unit_test(svm_vmcb12_cet),
	    cmocka_unit_test(svm_without_shstk),
	    cmocka_unit_test(smm_ssp_and_cr4),
	    cmocka_unit_test(smm_rsm_refusals),
	    cmocka_unit_test(smm_without_shstk_or_lm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
