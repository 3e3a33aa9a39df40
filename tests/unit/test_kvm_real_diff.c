/* SPDX-License-Identifier: MIT */
/*
 * Differential test of the drop-in /dev/kvm (kvm_ioctl.h) against this machine's real KVM
 * (issue 8): a generated corpus of ioctl sequences - KVM_SET_CPUID2 variants, KVM_SET_XCRS
 * values, KVM_SET_XSAVE blobs (valid, mutated headers, reserved bytes, MXCSR, sizes against
 * an unmapped page), KVM_SET/GET_MSRS, ONE_REG and KVM_GET_REG_LIST - each run on a fresh vCPU
 * of the real /dev/kvm and of the model configured for this host (live profile, flavour
 * detected, safe_copy so that unreadable buffers fault as copy_from_user() does).  Every call
 * compares the return value, errno and every byte of the argument buffer afterwards
 * (KVM_GET_CPUID2, GET_XCRS, GET_MSRS, GET_XSAVE/GET_XSAVE2, ONE_REG values).  Where this KVM
 * differs from upstream 6.18 the model carries a named quirk (quirks.c), printed here.
 *
 * The process is pinned to CPU 0: kvm_pvm writes the APIC id of the CPU the ioctl runs on
 * into CPUID.1.EBX[31:24] of some KVM_GET_CPUID2 results (quirk pvm-cpuid-host-apic-id).
 * Needs a usable /dev/kvm (root); exits 77 with the reason otherwise.  VXSAVE_DIFF_SEED and
 * VXSAVE_DIFF_CASES override the seed and the number of sequences (default 5 000).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <vxsave/kvm_ioctl.h>

#include "diff_util.h"

#define SKIP	      77
#define PAGE	      4096u
#define SCRATCH_PAGES 5u /* 4 usable pages, then one PROT_NONE */
#define VCPUS_PER_VM  32u
#define SHOW_MAX      40u
#define XSAVE_BYTES   4096u
#define NCPUID	      256u

#define MSR_XFD		0x1c4u
#define MSR_XFD_ERR	0x1c5u
#define MSR_XSS		0xda0u
#define MSR_U_CET	0x6a0u
#define MSR_S_CET	0x6a2u
#define MSR_PL0_SSP	0x6a4u
#define MSR_PL3_SSP	0x6a7u
#define MSR_INT_SSP_TAB 0x6a8u

/* One side: a backend, its /dev/kvm descriptor, the current VM and vCPU, a scratch area. */
struct side {
	struct vx_kvm_backend b;
	int sys, vm, vcpu;
	unsigned vcpus_in_vm;
	uint8_t *scratch;
};

struct op {
	const char *name;
	unsigned long req;
	bool int_arg; /* the argument is a value, not a buffer */
	unsigned long value;
	size_t len;   /* bytes of the buffer copied in and compared afterwards */
	size_t avail; /* readable bytes before the unmapped page (0: the whole area) */
	bool one_reg; /* the kvm_one_reg's addr points 64 bytes into the buffer */
	int fd_kind;  /* 0 vCPU, 1 /dev/kvm, 2 VM */
};

struct stats {
	unsigned long ops, mismatches, sequences;
	unsigned long per_kind[5];
};

static uint8_t in_buf[4 * PAGE];
static struct kvm_cpuid_entry2 base_cpuid[NCPUID];
static uint32_t base_n;

/* ----------------------------------------------------------------------------------------- */
/* Running one call on both sides                                                               */

static uint8_t *buffer_of(struct side *s, const struct op *o)
{
	size_t usable = (SCRATCH_PAGES - 1) * PAGE;

	return o->avail ? s->scratch + usable - o->avail : s->scratch;
}

static int fd_of(const struct side *s, const struct op *o)
{
	return o->fd_kind == 1 ? s->sys : o->fd_kind == 2 ? s->vm : s->vcpu;
}

static int call(struct side *s, const struct op *o, uint8_t *out, int *err)
{
	uint8_t *buf = buffer_of(s, o);
	void *arg = buf;
	int rc;

	bool placeholder;

	memset(s->scratch, 0xA5, (SCRATCH_PAGES - 1) * PAGE);
	memcpy(buf, in_buf, o->avail && o->avail < o->len ? o->avail : o->len);
	placeholder = o->one_reg && ((struct kvm_one_reg *)buf)->addr == 1;
	if (placeholder)
		((struct kvm_one_reg *)buf)->addr = (uint64_t)(uintptr_t)(buf + 64);
	if (o->int_arg)
		arg = (void *)(uintptr_t)o->value;
	errno = 0;
	rc = s->b.ioctl(s->b.ctx, fd_of(s, o), o->req, arg);
	*err = rc < 0 ? errno : 0;
	if (!o->int_arg)
		memcpy(out, buf, o->avail && o->avail < o->len ? o->avail : o->len);
	/* The address is each side's own: compare the placeholder instead. */
	if (placeholder)
		((struct kvm_one_reg *)out)->addr = 1;
	if (o->one_reg)
		memcpy(out + o->len, buf + 64, 8);
	return rc;
}

static void show_entry(const char *who, const uint8_t *p)
{
	const struct kvm_cpuid_entry2 *e = (const struct kvm_cpuid_entry2 *)p;

	printf("      %s 0x%x.%u flags %u: %08x %08x %08x %08x\n", who, e->function, e->index,
	       e->flags, e->eax, e->ebx, e->ecx, e->edx);
}

static void show_diff(const struct op *o, const uint8_t *a, const uint8_t *b, size_t n)
{
	const size_t hdr = sizeof(struct kvm_cpuid2), esz = sizeof(struct kvm_cpuid_entry2);
	unsigned shown = 0;

	/* CPUID: the differing entries as registers. */
	for (size_t i = hdr; o->req == KVM_GET_CPUID2 && i + esz <= n && shown < 4; i += esz)
		if (memcmp(a + i, b + i, esz) != 0) {
			show_entry("real ", a + i);
			show_entry("model", b + i);
			shown++;
		}
	shown = 0;

	for (size_t i = 0; i < n && shown < 8; i++)
		if (a[i] != b[i]) {
			printf("      byte %zu: real 0x%02x model 0x%02x\n", i, a[i], b[i]);
			shown++;
		}
	(void)o;
}

static bool run_op(struct side *real, struct side *model, const struct op *o, struct stats *st,
		   unsigned long seq)
{
	static uint8_t out_r[4 * PAGE + 8], out_m[4 * PAGE + 8];
	size_t n = (o->avail && o->avail < o->len ? o->avail : o->len) + (o->one_reg ? 8 : 0);
	int err_r, err_m;
	int rc_r = call(real, o, out_r, &err_r), rc_m = call(model, o, out_m, &err_m);
	bool same = rc_r == rc_m && err_r == err_m && (o->int_arg || !memcmp(out_r, out_m, n));

	st->ops++;
	if (same)
		return true;
	if (st->mismatches++ < SHOW_MAX) {
		printf("  MISMATCH sequence %lu %s: real %d (%s) model %d (%s)\n", seq, o->name,
		       rc_r, err_r ? strerrorname_np(err_r) : "-", rc_m,
		       err_m ? strerrorname_np(err_m) : "-");
		if (rc_m < 0 && model->b.ctx)
			printf("      model: %s\n", vx_kvm_dev_last_error(model->b.ctx)->reason);
		show_diff(o, out_r, out_m, n);
	}
	return false;
}

/* ----------------------------------------------------------------------------------------- */
/* VMs and vCPUs                                                                                */

static int new_vcpu(struct side *s)
{
	if (s->vm < 0 || s->vcpus_in_vm == VCPUS_PER_VM) {
		if (s->vm >= 0)
			s->b.close(s->b.ctx, s->vm);
		s->vm = s->b.ioctl(s->b.ctx, s->sys, KVM_CREATE_VM, 0);
		s->vcpus_in_vm = 0;
	}
	if (s->vcpu >= 0)
		s->b.close(s->b.ctx, s->vcpu);
	s->vcpu = s->vm < 0 ? -1
			    : s->b.ioctl(s->b.ctx, s->vm, KVM_CREATE_VCPU,
					 (void *)(uintptr_t)s->vcpus_in_vm++);
	return s->vcpu;
}

/* ----------------------------------------------------------------------------------------- */
/* Inputs                                                                                       */

static void put_cpuid(const struct kvm_cpuid_entry2 *e, uint32_t n, uint32_t nent)
{
	struct kvm_cpuid2 *c = (struct kvm_cpuid2 *)in_buf;

	memset(in_buf, 0, sizeof(in_buf));
	c->nent = nent;
	if (n)
		memcpy(c->entries, e, n * sizeof(*e));
}

static const struct op op_set_cpuid = {"KVM_SET_CPUID2",
				       KVM_SET_CPUID2,
				       false,
				       0,
				       sizeof(struct kvm_cpuid2) +
					   NCPUID * sizeof(struct kvm_cpuid_entry2),
				       0,
				       false,
				       0};

static struct kvm_cpuid_entry2 *find_entry(struct kvm_cpuid_entry2 *e, uint32_t n, uint32_t fn,
					   uint32_t idx)
{
	for (uint32_t i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == idx)
			return &e[i];
	return NULL;
}

/* One mutation of a CPUID table (the KVM_SET_CPUID2 variants). */
static void mutate_cpuid(struct diff_rng *r, struct kvm_cpuid_entry2 *e, uint32_t *n)
{
	static const uint32_t keys[][2] = {{1, 0},   {7, 0},	      {7, 1},	       {0xD, 0},
					   {0xD, 1}, {0xD, 2},	      {0x80000001, 0}, {6, 0},
					   {0, 0},   {0x80000008, 0}, {0xD, 5}};
	static const uint32_t xcr0s[] = {0, 1, 3, 5, 7, 0x207, 0x40007, 0x60007, 0xe7, ~0u};
	static const uint32_t widths[] = {0, 48, 57, 40, 64};
	const uint32_t *k = keys[diff_below(r, sizeof(keys) / sizeof(keys[0]))];
	struct kvm_cpuid_entry2 *x = find_entry(e, *n, k[0], k[1]);
	uint32_t *regs = x ? &x->eax : NULL, i = *n ? diff_below(r, *n) : 0;

	switch (diff_below(r, 9)) {
	case 0: /* flip a bit of a register of a key leaf */
		if (regs)
			regs[diff_below(r, 4)] ^= 1u << diff_below(r, 32);
		break;
	case 1: /* the XCR0 support mask */
		if ((x = find_entry(e, *n, 0xD, 0)))
			x->eax = xcr0s[diff_below(r, sizeof(xcr0s) / sizeof(xcr0s[0]))];
		break;
	case 2: /* 0xD.1 EAX */
		if ((x = find_entry(e, *n, 0xD, 1)))
			x->eax = diff_below(r, 32);
		break;
	case 3: /* the virtual-address width */
		if ((x = find_entry(e, *n, 0x80000008, 0)))
			x->eax = (x->eax & ~0xff00u) |
				 widths[diff_below(r, sizeof(widths) / sizeof(widths[0]))] << 8;
		break;
	case 4: /* drop an entry */
		if (*n)
			e[i] = e[--*n];
		break;
	case 5: /* swap two entries */
		if (*n) {
			struct kvm_cpuid_entry2 t = e[i];
			uint32_t j = diff_below(r, *n);

			e[i] = e[j];
			e[j] = t;
		}
		break;
	case 6: /* a whole register of a key leaf */
		if (regs)
			regs[diff_below(r, 4)] = (uint32_t)diff_next(r);
		break;
	case 7: /* keep a prefix */
		*n = diff_below(r, *n + 1);
		break;
	default: /* remove a key leaf */
		if (x)
			*x = e[--*n];
		break;
	}
}

static uint32_t cpuid_variant(struct diff_rng *r, struct kvm_cpuid_entry2 *e)
{
	uint32_t n = base_n, muts = diff_below(r, 4);

	memcpy(e, base_cpuid, base_n * sizeof(*e));
	for (uint32_t m = 0; m < muts; m++)
		mutate_cpuid(r, e, &n);
	return n;
}

/* SET_CPUID2 with the base table (@variant: a mutated one), or none at all. */
static void set_cpuid(struct diff_rng *r, struct side *sr, struct side *sm, struct stats *st,
		      unsigned long seq, bool variant)
{
	struct kvm_cpuid_entry2 e[NCPUID];
	uint32_t n;

	if (!variant && diff_below(r, 8) == 0)
		return;
	n = variant ? cpuid_variant(r, e) : base_n;
	if (!variant)
		memcpy(e, base_cpuid, n * sizeof(e[0]));
	put_cpuid(e, n, variant && diff_below(r, 32) == 0 ? NCPUID + 1 : n);
	run_op(sr, sm, &op_set_cpuid, st, seq);
}

/* ----------------------------------------------------------------------------------------- */
/* The sequences                                                                                */

static void get_cpuid_ops(struct diff_rng *r, struct side *sr, struct side *sm, struct stats *st,
			  unsigned long seq)
{
	struct op o = {"KVM_GET_CPUID2", KVM_GET_CPUID2, false, 0, op_set_cpuid.len, 0, false, 0};

	put_cpuid(NULL, 0, NCPUID);
	run_op(sr, sm, &o, st, seq);
	/* Too small: -E2BIG with nent untouched (§2.5). */
	put_cpuid(NULL, 0, diff_below(r, 8));
	o.name = "KVM_GET_CPUID2 small";
	run_op(sr, sm, &o, st, seq);
}

static const struct op op_get_xcrs = {
    "KVM_GET_XCRS", KVM_GET_XCRS, false, 0, sizeof(struct kvm_xcrs), 0, false, 0};

static void xcrs_input(struct diff_rng *r)
{
	static const uint64_t values[] = {
	    0, 1, 2, 3, 5, 7, 0xe7, 0x6, 0x207, 0x40007, UINT64_C(1) << 32, 0x27, 0x807};
	struct kvm_xcrs *x = (struct kvm_xcrs *)in_buf;

	memset(in_buf, 0, sizeof(in_buf));
	x->nr_xcrs = diff_below(r, 10) == 0 ? diff_below(r, 20) : 1 + diff_below(r, 2);
	x->flags = diff_below(r, 16) == 0 ? 1u << diff_below(r, 32) : 0;
	for (unsigned i = 0; i < KVM_MAX_XCRS; i++) {
		x->xcrs[i].xcr = diff_below(r, 4) == 0 ? diff_below(r, 3) : 0;
		x->xcrs[i].value = diff_below(r, 8) == 0
				       ? diff_next(r)
				       : values[diff_below(r, sizeof(values) / sizeof(values[0]))];
	}
}

static void seq_cpuid(struct diff_rng *r, struct side *sr, struct side *sm, struct stats *st,
		      unsigned long seq)
{
	set_cpuid(r, sr, sm, st, seq, true);
	get_cpuid_ops(r, sr, sm, st, seq);
	memset(in_buf, 0, sizeof(in_buf));
	run_op(sr, sm, &op_get_xcrs, st, seq);
	/* What the CPUID allows for XCR0 (validation is against guest CPUID, §4.3). */
	xcrs_input(r);
	run_op(sr, sm,
	       &(struct op){"KVM_SET_XCRS", KVM_SET_XCRS, false, 0, sizeof(struct kvm_xcrs), 0,
			    false, 0},
	       st, seq);
	memset(in_buf, 0, sizeof(in_buf));
	run_op(sr, sm, &op_get_xcrs, st, seq);
}

static void seq_xcrs(struct diff_rng *r, struct side *sr, struct side *sm, struct stats *st,
		     unsigned long seq)
{
	const struct op set = {
	    "KVM_SET_XCRS", KVM_SET_XCRS, false, 0, sizeof(struct kvm_xcrs), 0, false, 0};

	set_cpuid(r, sr, sm, st, seq, diff_below(r, 4) == 0);
	for (unsigned i = 0, n = 1 + diff_below(r, 3); i < n; i++) {
		xcrs_input(r);
		run_op(sr, sm, &set, st, seq);
		memset(in_buf, 0, sizeof(in_buf));
		run_op(sr, sm, &op_get_xcrs, st, seq);
	}
}

/* An XSAVE blob: valid-looking, then header, reserved bytes and MXCSR mutated. */
static void xsave_blob(struct diff_rng *r)
{
	static const uint64_t bvs[] = {0, 1, 2, 3, 4, 5, 7, 0xe7, 0x200, 0x800, 0x40000};
	uint8_t *b = in_buf;

	memset(in_buf, 0, sizeof(in_buf));
	for (unsigned i = 0; i < XSAVE_BYTES; i++)
		b[i] = diff_below(r, 4) ? 0 : (uint8_t)diff_next(r);
	*(uint16_t *)b = diff_below(r, 2) ? 0x37f : (uint16_t)diff_next(r);
	*(uint32_t *)(b + 24) = diff_below(r, 3) ? 0x1f80 : (uint32_t)diff_next(r);
	*(uint32_t *)(b + 28) = diff_below(r, 2) ? 0xffff : (uint32_t)diff_next(r);
	memset(b + 512, 0, 64);
	*(uint64_t *)(b + 512) = diff_below(r, 6) == 0 ? UINT64_C(1) << diff_below(r, 64)
				 : diff_below(r, 6) == 0
				     ? diff_next(r) & 0xff
				     : bvs[diff_below(r, sizeof(bvs) / sizeof(bvs[0]))];
	if (diff_below(r, 10) == 0)
		*(uint64_t *)(b + 520) = diff_below(r, 2) ? UINT64_C(1) << 63 : diff_next(r);
	if (diff_below(r, 10) == 0)
		b[528 + diff_below(r, 48)] = (uint8_t)(1 + diff_below(r, 255));
}

static void seq_xsave(struct diff_rng *r, struct side *sr, struct side *sm, struct stats *st,
		      unsigned long seq)
{
	static const size_t avails[] = {4095, 4088, 4096, 1024, 576, 8};
	struct op get2 = {"KVM_GET_XSAVE2", KVM_GET_XSAVE2, false, 0, XSAVE_BYTES, 0, false, 0};
	struct op get = {"KVM_GET_XSAVE", KVM_GET_XSAVE, false, 0, XSAVE_BYTES, 0, false, 0};
	struct op set = {"KVM_SET_XSAVE", KVM_SET_XSAVE, false, 0, XSAVE_BYTES, 0, false, 0};

	set_cpuid(r, sr, sm, st, seq, diff_below(r, 6) == 0);
	if (diff_below(r, 2)) {
		xcrs_input(r);
		run_op(sr, sm,
		       &(struct op){"KVM_SET_XCRS", KVM_SET_XCRS, false, 0, sizeof(struct kvm_xcrs),
				    0, false, 0},
		       st, seq);
	}
	memset(in_buf, 0, sizeof(in_buf));
	run_op(sr, sm, &get2, st, seq);
	xsave_blob(r);
	/* Sizes: the blob ends at an unmapped page after @avail readable bytes. */
	if (diff_below(r, 12) == 0) {
		set.avail = avails[diff_below(r, sizeof(avails) / sizeof(avails[0]))];
		set.name = "KVM_SET_XSAVE short buffer";
	}
	run_op(sr, sm, &set, st, seq);
	memset(in_buf, 0, sizeof(in_buf));
	run_op(sr, sm, &get2, st, seq);
	run_op(sr, sm, &get, st, seq);
}

static const uint32_t msr_indices[] = {MSR_XSS,	  MSR_XFD,     MSR_XFD_ERR, MSR_U_CET,
				       MSR_S_CET, MSR_PL0_SSP, MSR_PL3_SSP, MSR_INT_SSP_TAB,
				       0x6a5,	  0x12345,     0x4b564dffu};

static uint64_t msr_value(struct diff_rng *r)
{
	static const uint64_t values[] = {0,
					  1,
					  4,
					  0x40000,
					  0x20000,
					  0x800,
					  0x1000,
					  0x1800,
					  0x60000,
					  UINT64_C(0x123456789000),
					  UINT64_C(0x123456789001),
					  UINT64_C(0xffff800000000000)};

	return diff_below(r, 8) == 0 ? diff_next(r)
				     : values[diff_below(r, sizeof(values) / sizeof(values[0]))];
}

static void msrs_input(struct diff_rng *r, unsigned n)
{
	struct kvm_msrs *m = (struct kvm_msrs *)in_buf;

	memset(in_buf, 0, sizeof(in_buf));
	m->nmsrs = diff_below(r, 40) == 0 ? 256 + diff_below(r, 4) : n;
	for (unsigned i = 0; i < n; i++) {
		m->entries[i].index =
		    msr_indices[diff_below(r, sizeof(msr_indices) / sizeof(msr_indices[0]))];
		m->entries[i].reserved = diff_below(r, 20) == 0 ? 1 : 0;
		m->entries[i].data = msr_value(r);
	}
}

static void seq_msrs(struct diff_rng *r, struct side *sr, struct side *sm, struct stats *st,
		     unsigned long seq)
{
	unsigned n = 1 + diff_below(r, 4);
	struct op o = {"KVM_SET_MSRS",
		       KVM_SET_MSRS,
		       false,
		       0,
		       sizeof(struct kvm_msrs) + 4 * sizeof(struct kvm_msr_entry),
		       0,
		       false,
		       0};

	set_cpuid(r, sr, sm, st, seq, diff_below(r, 6) == 0);
	msrs_input(r, n);
	run_op(sr, sm, &o, st, seq);
	msrs_input(r, 1 + diff_below(r, 4));
	o.name = "KVM_GET_MSRS";
	o.req = KVM_GET_MSRS;
	run_op(sr, sm, &o, st, seq);
}

static uint64_t reg_id(struct diff_rng *r)
{
	uint64_t msr = msr_indices[diff_below(r, sizeof(msr_indices) / sizeof(msr_indices[0]))];

	switch (diff_below(r, 8)) {
	case 0:
		return VX_KVM_X86_REG_KVM(0); /* KVM_REG_GUEST_SSP */
	case 1:
		return VX_KVM_X86_REG_KVM(1 + diff_below(r, 3));
	case 2: /* another size */
		return (VX_KVM_X86_REG_MSR(msr) & ~UINT64_C(0x00f0000000000000)) |
		       (uint64_t)diff_below(r, 8) << 52;
	case 3: /* another architecture, reserved bits, type */
		return VX_KVM_X86_REG_MSR(msr) ^ (UINT64_C(1) << (32 + diff_below(r, 32)));
	default:
		return VX_KVM_X86_REG_MSR(msr);
	}
}

static void seq_one_reg(struct diff_rng *r, struct side *sr, struct side *sm, struct stats *st,
			unsigned long seq)
{
	struct op o = {"KVM_SET_ONE_REG", KVM_SET_ONE_REG, false, 0, 64, 0, true, 0};
	struct kvm_one_reg *reg = (struct kvm_one_reg *)in_buf;
	struct op list = {"KVM_GET_REG_LIST", KVM_GET_REG_LIST, false, 0, 64, 0, false, 0};

	set_cpuid(r, sr, sm, st, seq, diff_below(r, 6) == 0);
	for (unsigned i = 0, n = 1 + diff_below(r, 3); i < n; i++) {
		bool set = diff_below(r, 2);

		memset(in_buf, 0, sizeof(in_buf));
		reg->id = reg_id(r);
		/* addr 1: the value 64 bytes into the buffer; else a bad pointer. */
		reg->addr = diff_below(r, 12) == 0 ? diff_below(r, 2) * 16 : 1;
		*(uint64_t *)(in_buf + 64) = msr_value(r);
		o.name = set ? "KVM_SET_ONE_REG" : "KVM_GET_ONE_REG";
		o.req = set ? KVM_SET_ONE_REG : KVM_GET_ONE_REG;
		o.len = 72;
		run_op(sr, sm, &o, st, seq);
	}
	memset(in_buf, 0, sizeof(in_buf));
	*(uint64_t *)in_buf = diff_below(r, 3);
	run_op(sr, sm, &list, st, seq);
}

typedef void (*seq_fn)(struct diff_rng *, struct side *, struct side *, struct stats *,
		       unsigned long);

static const struct {
	const char *name;
	seq_fn fn;
	unsigned weight;
} kinds[] = {
    {"KVM_SET_CPUID2 variants", seq_cpuid, 3}, {"KVM_SET_XCRS values", seq_xcrs, 2},
    {"KVM_SET_XSAVE blobs", seq_xsave, 3},     {"KVM_SET/GET_MSRS", seq_msrs, 2},
    {"ONE_REG / REG_LIST", seq_one_reg, 2},
};

/* ----------------------------------------------------------------------------------------- */
/* Once per run: the system calls                                                               */

static void system_ops(struct side *sr, struct side *sm, struct stats *st)
{
	static const long caps[] = {KVM_CAP_XSAVE, KVM_CAP_XCRS, KVM_CAP_ONE_REG, KVM_CAP_XSAVE2,
				    KVM_CAP_GET_MSR_FEATURES};
	struct op o = {"KVM_CHECK_EXTENSION", KVM_CHECK_EXTENSION, true, 0, 0, 0, false, 1};
	uint64_t *attr = (uint64_t *)in_buf;

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		o.value = (unsigned long)caps[i];
		run_op(sr, sm, &o, st, 0);
	}
	o = (struct op){"KVM_GET_API_VERSION", KVM_GET_API_VERSION, true, 0, 0, 0, false, 1};
	run_op(sr, sm, &o, st, 0);
	o = (struct op){"KVM_GET_EMULATED_CPUID",
			KVM_GET_EMULATED_CPUID,
			false,
			0,
			op_set_cpuid.len,
			0,
			false,
			1};
	put_cpuid(NULL, 0, NCPUID);
	run_op(sr, sm, &o, st, 0);
	/* KVM_GET_DEVICE_ATTR(KVM_X86_XCOMP_GUEST_SUPP): the value lands in the same buffer. */
	memset(in_buf, 0, sizeof(in_buf));
	o = (struct op){"KVM_HAS_DEVICE_ATTR", KVM_HAS_DEVICE_ATTR, false, 0, 24, 0, false, 1};
	run_op(sr, sm, &o, st, 0);
	attr[0] = 0;
	attr[1] = 1;
	run_op(sr, sm, &o, st, 0);
}

/* The supported CPUID from the real KVM (the input of every variant); its 0xD leaves must be
 * the model's byte for byte (the model keeps only its tables' features elsewhere). */
static int supported(struct side *sr, struct side *sm, struct stats *st)
{
	static union {
		struct kvm_cpuid2 hdr;
		struct {
			__u32 nent, padding;
			struct kvm_cpuid_entry2 e[NCPUID];
		};
	} a, b;
	uint32_t nd = 0;

	a.hdr.nent = b.hdr.nent = NCPUID;
	if (sr->b.ioctl(NULL, sr->sys, KVM_GET_SUPPORTED_CPUID, &a) < 0 ||
	    sm->b.ioctl(sm->b.ctx, sm->sys, KVM_GET_SUPPORTED_CPUID, &b) < 0)
		return -1;
	memcpy(base_cpuid, a.e, a.hdr.nent * sizeof(a.e[0]));
	base_n = a.hdr.nent;
	for (uint32_t i = 0; i < a.hdr.nent; i++) {
		struct kvm_cpuid_entry2 *m =
		    a.e[i].function == 0xD ? find_entry(b.e, b.hdr.nent, 0xD, a.e[i].index) : NULL;

		if (a.e[i].function != 0xD)
			continue;
		nd++;
		st->ops++;
		if (!m || memcmp(m, &a.e[i], sizeof(*m)) != 0) {
			st->mismatches++;
			printf("  MISMATCH KVM_GET_SUPPORTED_CPUID 0xD.%u\n", a.e[i].index);
		}
	}
	printf("supported CPUID: %u entries from the real KVM, %u of leaf 0xD compared\n", base_n,
	       nd);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */

static int setup(struct side *real, struct side *model, char *why, size_t len)
{
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_dev *dev = NULL;
	cpu_set_t cpus;

	if (!vx_kvm_real_available(why, len))
		return SKIP;
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) != 0) {
		snprintf(why, len, "cannot pin to CPU 0: %s", strerror(errno));
		return SKIP;
	}
	/* The model configured for this host: live profile, flavour detected, safe copies. */
	vx_kvm_dev_options_init(&o);
	o.safe_copy = true;
	if (vx_kvm_dev_create(&o, &dev, &err) != 0) {
		snprintf(why, len, "the model for this host: %.200s", err.reason);
		return 1;
	}
	vx_kvm_backend_real(&real->b);
	vx_kvm_backend_model(&model->b, dev);
	for (struct side *s = real; s; s = s == real ? model : NULL) {
		s->sys = s->b.open(s->b.ctx);
		s->vm = s->vcpu = -1;
		s->scratch = mmap(NULL, SCRATCH_PAGES * PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s->sys < 0 || s->scratch == MAP_FAILED)
			return 1;
		mprotect(s->scratch + (SCRATCH_PAGES - 1) * PAGE, PAGE, PROT_NONE);
	}
	return 0;
}

static void print_host(const struct vx_kvm_dev *dev)
{
	const struct vx_kvm_options *ko = vx_kvm_options(vx_kvm_dev_module(dev));

	printf("model: profile %s, flavour %s, design %s, quirks:", vx_kvm_dev_profile_name(dev),
	       vx_kvm_flavour_name(ko->flavour), vx_kvm_cet_design_name(ko->design));
	for (unsigned q = 0; q < VX_KVM_QUIRK_COUNT; q++)
		if (ko->quirks & VX_BIT(q))
			printf(" %s", vx_kvm_quirk_info((enum vx_kvm_quirk)q)->name);
	printf("\n");
}

int main(void)
{
	const char *env_seed = getenv("VXSAVE_DIFF_SEED"), *env_cases = getenv("VXSAVE_DIFF_CASES");
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : UINT64_C(0x6B766D2D64696666);
	unsigned long cases = env_cases ? strtoul(env_cases, NULL, 0) : 5000, total = 0;
	struct side real = {0}, model = {0};
	struct stats st = {0};
	struct diff_rng r = {seed};
	char why[256] = "";
	struct timespec t0, t1;
	int rc = setup(&real, &model, why, sizeof(why));

	if (rc) {
		printf("%s: %s\n", rc == SKIP ? "SKIP" : "FAIL", why);
		return rc;
	}
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		total += kinds[k].weight;
	printf("seed 0x%" PRIx64 " (VXSAVE_DIFF_SEED), %lu sequences (VXSAVE_DIFF_CASES), pinned "
	       "to CPU 0\n",
	       seed, cases);
	print_host(model.b.ctx);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	system_ops(&real, &model, &st);
	if (supported(&real, &model, &st) != 0) {
		printf("FAIL: KVM_GET_SUPPORTED_CPUID failed\n");
		return 1;
	}
	for (unsigned long seq = 1; seq <= cases; seq++) {
		unsigned long pick = diff_below(&r, (uint32_t)total), k = 0;

		while (pick >= kinds[k].weight)
			pick -= kinds[k++].weight;
		if (new_vcpu(&real) < 0 || new_vcpu(&model) < 0) {
			printf("FAIL: cannot create a vCPU (sequence %lu)\n", seq);
			return 1;
		}
		kinds[k].fn(&r, &real, &model, &st, seq);
		st.per_kind[k]++;
		st.sequences++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		printf("  %-26s %lu sequences\n", kinds[k].name, st.per_kind[k]);
	printf("%lu sequences, %lu calls compared in %.1f s: %lu mismatches\n", st.sequences,
	       st.ops, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9,
	       st.mismatches);
	printf("%lu passed, %lu failed\n", st.ops - st.mismatches, st.mismatches);
	vx_kvm_dev_destroy(model.b.ctx);
	return st.mismatches ? 1 : 0;
}
