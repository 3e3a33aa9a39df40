/* SPDX-License-Identifier: MIT */
/*
 * A minimal real guest (real_guest.h): memory, paging, GDT/IDT/TSS and exception handlers
 * written as machine code bytes, one instruction a line (Intel SDM Vol. 2 encodings; checked
 * with `objdump -D -b binary -mi386:x86-64`), on the real /dev/kvm with ioctl(2) or on the
 * VM and vCPU of a struct vx_kvm_backend.  Moved here from tests/kvm_guest (issue 10) so that
 * `vxsave kvm capture` can run a guest; the tests and the bench use it from here.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* alarm, sigaction */
#endif
#include "vmm/real_guest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* ----------------------------------------------------------------------------------------- */
/* Exception handlers                                                                          */

/* Vectors for which the processor pushes an error code (SDM Vol. 3A, Table 6-1). */
static bool has_error_code(unsigned v)
{
	static const uint32_t mask = 1u << 8 | 1u << 10 | 1u << 11 | 1u << 12 | 1u << 13 |
				     1u << 14 | 1u << 17 | 1u << 21 | 1u << 29 | 1u << 30;

	return mask >> v & 1;
}

#define HANDLER_COMMON (KRG_HANDLERS + 32 * KRG_HANDLER_SIZE)

/* The shared tail: report vector, error code, RIP and CS to the host. */
static const uint8_t handler_common[] = {
    0x58,			      /* pop rax               vector (pushed by the stub) */
    0x5b,			      /* pop rbx               error code (real or the stub's 0) */
    0x48, 0x8b,		  0x0c, 0x24, /* mov rcx, [rsp]        RIP of the faulting instruction */
    0x48, 0x8b,		  0x54, 0x24, 0x08, /* mov rdx, [rsp+8]  CS */
    0xe6, KRG_PORT_FAULT,		    /* out 0xee, al */
    0xf4,				    /* hlt */
};

/* Vector @v's entry: [push 0;] push v; jmp common (rel32 from the end of the jmp). */
static void write_handler(uint8_t *mem, unsigned v)
{
	uint8_t *p = mem + KRG_HANDLERS + v * KRG_HANDLER_SIZE, *start = p;
	int32_t rel;

	if (!has_error_code(v)) {
		*p++ = 0x6a; /* push 0 (imm8)         the missing error code */
		*p++ = 0x00;
	}
	*p++ = 0x6a; /* push v (imm8) */
	*p++ = (uint8_t)v;
	*p++ = 0xe9; /* jmp rel32             to handler_common */
	rel = (int32_t)(HANDLER_COMMON - (KRG_HANDLERS + v * KRG_HANDLER_SIZE + (p - start) + 4));
	memcpy(p, &rel, 4);
}

/* A 64-bit interrupt gate (type 0xE, present, DPL 0) to @target in the kernel code segment. */
static void write_gate(uint8_t *mem, unsigned v, uint64_t target)
{
	uint64_t lo = (target & 0xffff) | (uint64_t)KRG_SEL_KCODE << 16 | 0x8eull << 40 |
		      ((target >> 16) & 0xffff) << 48;
	uint64_t hi = target >> 32;

	memcpy(mem + KRG_IDT + 16 * v, &lo, 8);
	memcpy(mem + KRG_IDT + 16 * v + 8, &hi, 8);
}

/* ----------------------------------------------------------------------------------------- */
/* Tables                                                                                       */

static void put64(uint8_t *mem, uint64_t at, uint64_t v)
{
	memcpy(mem + at, &v, 8);
}

/* Identity map of the first 2 MiB: PML4[0] → PDPT[0] → PD[0], a 2 MiB page; P, RW, US. */
static void write_paging(uint8_t *mem)
{
	put64(mem, KRG_PML4, KRG_PDPT | 0x7);
	put64(mem, KRG_PDPT, KRG_PD | 0x7);
	put64(mem, KRG_PD, 0x0 | 0x87); /* PS: 2 MiB */
}

/* GDT: null, kernel code/data, user code/data (DPL 3), the 64-bit TSS (two slots). */
static void write_gdt(uint8_t *mem)
{
	uint64_t tss_lo = KRG_TSS_LIMIT | (uint64_t)(KRG_TSS & 0xffffff) << 16 | 0x89ull << 40 |
			  (uint64_t)((KRG_TSS >> 24) & 0xff) << 56;

	put64(mem, KRG_GDT + 0x00, 0);
	put64(mem, KRG_GDT + 0x08, 0x00af9a000000ffffull); /* code, L, DPL 0 */
	put64(mem, KRG_GDT + 0x10, 0x00cf92000000ffffull); /* data, DPL 0 */
	put64(mem, KRG_GDT + 0x18, 0x00affa000000ffffull); /* code, L, DPL 3 */
	put64(mem, KRG_GDT + 0x20, 0x00cff2000000ffffull); /* data, DPL 3 */
	put64(mem, KRG_GDT + 0x28, tss_lo);		   /* available 64-bit TSS */
	put64(mem, KRG_GDT + 0x30, 0);			   /* base[63:32] */
}

/*
 * TSS: RSP0 for the handlers, and an I/O permission bitmap for ports 0-255 (all allowed: bits
 * clear), then the 0xFF terminator byte at the limit (SDM Vol. 1 §19.5.2).
 */
static void write_tss(uint8_t *mem)
{
	uint16_t iomap = KRG_TSS_IOMAP;

	put64(mem, KRG_TSS + 4, KRG_KSTACK_TOP);
	memcpy(mem + KRG_TSS + 102, &iomap, 2);
	memset(mem + KRG_TSS + KRG_TSS_IOMAP, 0, 32);
	mem[KRG_TSS + KRG_TSS_LIMIT] = 0xff;
}

static void write_tables(uint8_t *mem)
{
	write_paging(mem);
	write_gdt(mem);
	write_tss(mem);
	for (unsigned v = 0; v < 32; v++) {
		write_handler(mem, v);
		write_gate(mem, v, KRG_HANDLERS + v * KRG_HANDLER_SIZE);
	}
	memcpy(mem + HANDLER_COMMON, handler_common, sizeof(handler_common));
}

/* ----------------------------------------------------------------------------------------- */
/* The VM                                                                                       */

/* ioctl(2), or the backend's (the real /dev/kvm or the drop-in model, kvm_ioctl.h). */
static int kio(struct vx_krg_guest *g, int fd, unsigned long request, void *arg)
{
	return g->be ? g->be->ioctl(g->be->ctx, fd, request, arg) : ioctl(fd, request, arg);
}

static int fail(struct vx_krg_guest *g, const char *what)
{
	int e = errno ? errno : EIO;

	snprintf(g->why, sizeof(g->why), "%s: %s", what, strerror(e));
	return -e;
}

static int make_memory(struct vx_krg_guest *g)
{
	struct kvm_userspace_memory_region region = {0};

	g->mem =
	    mmap(NULL, KRG_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED) {
		g->mem = NULL;
		return fail(g, "mmap guest memory");
	}
	write_tables(g->mem);
	region.memory_size = KRG_MEM_SIZE;
	region.userspace_addr = (uint64_t)(uintptr_t)g->mem;
	if (kio(g, g->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail(g, "KVM_SET_USER_MEMORY_REGION");
	return 0;
}

/* KVM_GET_SUPPORTED_CPUID → KVM_SET_CPUID2 (the usual VMM start). */
static int set_cpuid(struct vx_krg_guest *g)
{
	enum { N = 256 };
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + N * sizeof(c->entries[0]));
	int rc = 0;

	if (!c)
		return -ENOMEM;
	c->nent = N;
	if (kio(g, g->sys_fd, KVM_GET_SUPPORTED_CPUID, c) < 0)
		rc = fail(g, "KVM_GET_SUPPORTED_CPUID");
	else if (kio(g, g->vcpu_fd, KVM_SET_CPUID2, c) < 0)
		rc = fail(g, "KVM_SET_CPUID2");
	free(c);
	return rc;
}

/* The vCPU's struct kvm_run: mmap of its descriptor, KVM_GET_VCPU_MMAP_SIZE bytes. */
static int map_run(struct vx_krg_guest *g)
{
	int size = kio(g, g->sys_fd, KVM_GET_VCPU_MMAP_SIZE, (void *)0);

	if (size <= 0)
		return fail(g, "KVM_GET_VCPU_MMAP_SIZE");
	g->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu_fd, 0);
	if (g->run == MAP_FAILED) {
		g->run = NULL;
		return fail(g, "mmap kvm_run");
	}
	g->run_size = (size_t)size;
	return 0;
}

static int make_vcpu(struct vx_krg_guest *g)
{
	int rc;

	g->vcpu_fd = kio(g, g->vm_fd, KVM_CREATE_VCPU, (void *)0);
	if (g->vcpu_fd < 0)
		return fail(g, "KVM_CREATE_VCPU");
	rc = map_run(g);
	return rc ? rc : set_cpuid(g);
}

/* Close @g, keeping why it failed. */
static int close_failed(struct vx_krg_guest *g, int rc)
{
	char why[sizeof(g->why)];

	memcpy(why, g->why, sizeof(why));
	vx_krg_close(g);
	memcpy(g->why, why, sizeof(why));
	return rc;
}

static void on_alarm(int sig)
{
	(void)sig; /* only interrupts KVM_RUN (no SA_RESTART) */
}

int vx_krg_open(struct vx_krg_guest *g)
{
	struct sigaction sa;
	int rc;

	memset(g, 0, sizeof(*g));
	g->sys_fd = g->vm_fd = g->vcpu_fd = -1;
	g->owned = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	g->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (g->sys_fd < 0)
		return fail(g, "open /dev/kvm");
	g->vm_fd = kio(g, g->sys_fd, KVM_CREATE_VM, (void *)0);
	if (g->vm_fd < 0)
		rc = fail(g, "KVM_CREATE_VM");
	else if ((rc = make_memory(g)) == 0 && (rc = make_vcpu(g)) == 0)
		rc = vx_krg_get_xcr0(g, &g->xcr0_default);
	return rc ? close_failed(g, rc) : 0;
}

int vx_krg_attach(struct vx_krg_guest *g, const struct vx_kvm_backend *be, int sys_fd, int vm_fd,
		  int vcpu_fd)
{
	int rc;

	memset(g, 0, sizeof(*g));
	g->be = be;
	g->sys_fd = sys_fd;
	g->vm_fd = vm_fd;
	g->vcpu_fd = vcpu_fd;
	rc = make_memory(g);
	if (!rc)
		rc = map_run(g);
	return rc ? close_failed(g, rc) : 0;
}

void vx_krg_close(struct vx_krg_guest *g)
{
	if (g->run)
		munmap(g->run, g->run_size);
	if (g->mem)
		munmap(g->mem, KRG_MEM_SIZE);
	/* Descriptors of vx_krg_attach() are the caller's. */
	if (g->owned && g->vcpu_fd >= 0)
		close(g->vcpu_fd);
	if (g->owned && g->vm_fd >= 0)
		close(g->vm_fd);
	if (g->owned && g->sys_fd >= 0)
		close(g->sys_fd);
	memset(g, 0, sizeof(*g));
	g->sys_fd = g->vm_fd = g->vcpu_fd = -1;
}

int vx_krg_get_xcr0(struct vx_krg_guest *g, uint64_t *xcr0)
{
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	if (kio(g, g->vcpu_fd, KVM_GET_XCRS, &x) < 0)
		return fail(g, "KVM_GET_XCRS");
	*xcr0 = 0;
	for (unsigned i = 0; i < x.nr_xcrs; i++)
		if (x.xcrs[i].xcr == 0)
			*xcr0 = x.xcrs[i].value;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Entering and running                                                                         */

static struct kvm_segment code_seg(unsigned cpl)
{
	struct kvm_segment s = {
	    .base = 0, .limit = 0xffffffff, .type = 0xb, .present = 1, .s = 1, .l = 1, .g = 1};

	s.dpl = (uint8_t)cpl;
	s.selector = cpl ? KRG_SEL_UCODE : KRG_SEL_KCODE;
	return s;
}

static struct kvm_segment data_seg(unsigned cpl)
{
	struct kvm_segment s = {
	    .base = 0, .limit = 0xffffffff, .type = 0x3, .present = 1, .s = 1, .db = 1, .g = 1};

	s.dpl = (uint8_t)cpl;
	s.selector = cpl ? KRG_SEL_UDATA : KRG_SEL_KDATA;
	return s;
}

/* Long mode, paging on, the CPL in CS.DPL/SS.DPL (CR0: PE MP ET NE WP PG; EFER: LME LMA). */
static void long_mode_sregs(struct kvm_sregs *s, const struct vx_krg_entry *e)
{
	struct kvm_segment tr = {.base = KRG_TSS,
				 .limit = KRG_TSS_LIMIT,
				 .selector = KRG_SEL_TSS,
				 .type = 0xb,
				 .present = 1};
	struct kvm_segment ldt = {.type = 0x2, .unusable = 1};

	s->cs = code_seg(e->cpl);
	s->ds = s->es = s->fs = s->gs = s->ss = data_seg(e->cpl);
	s->tr = tr;
	s->ldt = ldt;
	s->gdt.base = KRG_GDT;
	s->gdt.limit = 7 * 8 - 1;
	s->idt.base = KRG_IDT;
	s->idt.limit = 256 * 16 - 1;
	s->cr0 = 0x80050033;
	s->cr3 = KRG_PML4;
	s->cr4 = e->cr4;
	s->efer = 0x500;
}

int vx_krg_enter(struct vx_krg_guest *g, const struct vx_krg_code *code,
		 const struct vx_krg_entry *e)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	memcpy(g->mem + KRG_CODE, code->bytes, code->len);
	if (kio(g, g->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return fail(g, "KVM_GET_SREGS");
	long_mode_sregs(&s, e);
	if (kio(g, g->vcpu_fd, KVM_SET_SREGS, &s) < 0)
		return fail(g, "KVM_SET_SREGS");
	memset(&r, 0, sizeof(r));
	r.rip = KRG_CODE;
	r.rsp = e->cpl ? KRG_USTACK_TOP : KRG_KSTACK_TOP - 0x800;
	r.rflags = 0x3002; /* IOPL 3 (OUT at CPL3), reserved bit 1, IF = 0 */
	r.rsi = KRG_IN;
	r.rdi = KRG_OUT;
	r.rax = e->rax;
	r.rcx = e->rcx;
	r.rdx = e->rdx;
	if (kio(g, g->vcpu_fd, KVM_SET_REGS, &r) < 0)
		return fail(g, "KVM_SET_REGS");
	return 0;
}

static void classify(struct vx_krg_guest *g, struct vx_krg_result *r)
{
	const struct kvm_run *run = g->run;

	r->exit_reason = run->exit_reason;
	r->outcome = KRG_OTHER_EXIT;
	if (run->exit_reason == KVM_EXIT_IO && run->io.port == KRG_PORT_DONE)
		r->outcome = KRG_DONE;
	if (run->exit_reason == KVM_EXIT_IO && run->io.port == KRG_PORT_FAULT) {
		r->outcome = KRG_FAULT;
		r->vector = (unsigned)(r->regs.rax & 0xff);
		r->error_code = r->regs.rbx;
		r->fault_rip = r->regs.rcx;
	}
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		r->suberror = run->internal.suberror;
}

int vx_krg_run(struct vx_krg_guest *g, struct vx_krg_result *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	/* The guard of vx_krg_open() (a library caller's process keeps its own signals). */
	if (g->owned)
		alarm(5);
	rc = kio(g, g->vcpu_fd, KVM_RUN, (void *)0);
	if (g->owned)
		alarm(0);
	if (rc < 0)
		return fail(g, "KVM_RUN");
	if (kio(g, g->vcpu_fd, KVM_GET_REGS, &r->regs) < 0)
		return fail(g, "KVM_GET_REGS");
	classify(g, r);
	return 0;
}

int vx_krg_exec(struct vx_krg_guest *g, const struct vx_krg_code *code,
		const struct vx_krg_entry *e, struct vx_krg_result *r)
{
	int rc = vx_krg_enter(g, code, e);

	return rc ? rc : vx_krg_run(g, r);
}

void vx_krg_describe(const struct vx_krg_result *r, char *buf, size_t len)
{
	static const char *const names[32] = {
	    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#9",  "#TS",
	    "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};

	if (r->outcome == KRG_DONE)
		snprintf(buf, len, "done");
	else if (r->outcome == KRG_FAULT)
		snprintf(buf, len, "%s(0x%llx) at 0x%llx",
			 r->vector < 32 && names[r->vector] ? names[r->vector] : "#?",
			 (unsigned long long)r->error_code, (unsigned long long)r->fault_rip);
	else
		snprintf(buf, len, "exit %u%s%u", r->exit_reason,
			 r->exit_reason == KVM_EXIT_INTERNAL_ERROR ? " suberror " : " ",
			 r->suberror);
}
