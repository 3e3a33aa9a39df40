/* SPDX-License-Identifier: MIT */
/*
 * A small VMM written only against <linux/kvm.h> (and the C library): it opens /dev/kvm,
 * creates a VM and a vCPU, maps the vCPU's kvm_run, sets the supported CPUID, then exercises
 * the XSAVE-state ABI (XCRS, MSRs, ONE_REG, an XSAVE round trip) and prints what it saw.  The
 * test runs it on the real /dev/kvm and under LD_PRELOAD=libvxsave-kvm-preload.so and
 * compares the outputs (run_kvm_program.sh).  It prints the XSAVE-relevant results only: the
 * model keeps the leaves and features of its own tables (docs/kvm.md, "The drop-in /dev/kvm").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MSR_XFD			  0x1c4u
#define MSR_XFD_ERR		  0x1c5u
#define MSR_XSS			  0xda0u
#define MSR_U_CET		  0x6a0u
#define MSR_S_CET		  0x6a2u
#define MSR_PL0_SSP		  0x6a4u
#define ARCH_GET_XCOMP_GUEST_PERM 0x1024
#define REG_MSR(m)		  (0x2030000200000000ull | (m))
#define REG_GUEST_SSP		  0x2030000300000000ull

union cpuid_buf {
	struct kvm_cpuid2 hdr;
	struct {
		__u32 nent, padding;
		struct kvm_cpuid_entry2 e[256];
	};
};

static int check(const char *what, long rc)
{
	if (rc < 0)
		printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s: %ld\n", what, rc);
	return (int)rc;
}

static uint64_t fnv(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static const struct kvm_cpuid_entry2 *leaf(const union cpuid_buf *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->hdr.nent; i++)
		if (c->e[i].function == fn && c->e[i].index == idx)
			return &c->e[i];
	return NULL;
}

static void print_leaf(const char *tag, const union cpuid_buf *c, uint32_t fn, uint32_t idx)
{
	const struct kvm_cpuid_entry2 *e = leaf(c, fn, idx);

	if (e)
		printf("%s 0x%x.%u: %08x %08x %08x %08x\n", tag, fn, idx, e->eax, e->ebx, e->ecx,
		       e->edx);
	else
		printf("%s 0x%x.%u: absent\n", tag, fn, idx);
}

static void system_part(int kvm, union cpuid_buf *sup)
{
	uint64_t v = 0, perm = 0;
	struct kvm_device_attr a = {0, 0, 0, (uint64_t)(uintptr_t)&v};

	check("api version", ioctl(kvm, KVM_GET_API_VERSION, 0));
	check("cap xsave", ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE));
	check("cap xcrs", ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XCRS));
	check("cap xsave2", ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2));
	check("cap one_reg", ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ONE_REG));
	check("vcpu mmap size", ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0));
	if (check("xcomp guest supp", ioctl(kvm, KVM_GET_DEVICE_ATTR, &a)) == 0)
		printf("  value 0x%llx\n", (unsigned long long)v);
	if (check("guest perm", syscall(SYS_arch_prctl, ARCH_GET_XCOMP_GUEST_PERM, &perm)) == 0)
		printf("  value 0x%llx\n", (unsigned long long)perm);
	sup->hdr.nent = 256;
	check("supported cpuid", ioctl(kvm, KVM_GET_SUPPORTED_CPUID, sup) < 0 ? -1 : 0);
	for (uint32_t i = 0; i < 3; i++)
		print_leaf("  supported", sup, 0xd, i);
}

static void msr_list(int kvm)
{
	static const uint32_t msrs[] = {MSR_XFD,   MSR_XFD_ERR, MSR_XSS,
					MSR_U_CET, MSR_S_CET,	MSR_PL0_SSP};
	union {
		struct kvm_msr_list hdr;
		struct {
			__u32 nmsrs;
			uint32_t idx[1024];
		};
	} l = {.hdr.nmsrs = 1024};

	if (check("msr index list", ioctl(kvm, KVM_GET_MSR_INDEX_LIST, &l) < 0 ? -1 : 0) < 0)
		return;
	for (size_t m = 0; m < sizeof(msrs) / sizeof(msrs[0]); m++) {
		int found = 0;

		for (uint32_t i = 0; i < l.hdr.nmsrs; i++)
			found |= l.idx[i] == msrs[m];
		printf("  msr 0x%x listed: %d\n", msrs[m], found);
	}
}

static void cpuid_part(int vcpu, union cpuid_buf *sup)
{
	static union cpuid_buf got;
	const struct kvm_cpuid_entry2 *e1;

	check("set cpuid2", ioctl(vcpu, KVM_SET_CPUID2, sup));
	got.hdr.nent = 256;
	if (check("get cpuid2", ioctl(vcpu, KVM_GET_CPUID2, &got)) < 0)
		return;
	e1 = leaf(&got, 1, 0);
	/* Leaf 1 ECX: XSAVE (26), OSXSAVE (27), AVX (28). */
	printf("  leaf 1 ecx xsave/osxsave/avx: %u\n", e1 ? (e1->ecx >> 26) & 7u : 99u);
	for (uint32_t i = 0; i < 3; i++)
		print_leaf("  vcpu", &got, 0xd, i);
}

static void xcr_part(int vcpu)
{
	static const uint64_t values[] = {0x7, 0x5, 0x3, 0x1};
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	if (check("get xcrs", ioctl(vcpu, KVM_GET_XCRS, &x)) == 0)
		printf("  nr %u xcr%u = 0x%llx\n", x.nr_xcrs, x.xcrs[0].xcr,
		       (unsigned long long)x.xcrs[0].value);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char what[32];

		memset(&x, 0, sizeof(x));
		x.nr_xcrs = 1;
		x.xcrs[0].value = values[i];
		snprintf(what, sizeof(what), "set xcr0 0x%llx", (unsigned long long)values[i]);
		check(what, ioctl(vcpu, KVM_SET_XCRS, &x));
	}
}

static void msr_part(int vcpu)
{
	static const struct kvm_msr_entry sets[] = {
	    {MSR_XSS, 0, 0}, {MSR_XFD, 0, 0}, {MSR_XFD, 0, 0x40000}, {MSR_XFD_ERR, 0, 0}};
	union {
		struct kvm_msrs hdr;
		struct {
			__u32 nmsrs, pad;
			struct kvm_msr_entry e[3];
		};
	} m = {.nmsrs = 3, .e = {{MSR_XFD, 0, 7}, {MSR_XFD_ERR, 0, 7}, {MSR_XSS, 0, 7}}};

	if (check("get msrs", ioctl(vcpu, KVM_GET_MSRS, &m)) >= 0)
		for (int i = 0; i < 3; i++)
			printf("  msr 0x%x = 0x%llx\n", m.e[i].index,
			       (unsigned long long)m.e[i].data);
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		char what[48];

		m.hdr.nmsrs = 1;
		m.e[0] = sets[i];
		snprintf(what, sizeof(what), "set msr 0x%x = 0x%llx", sets[i].index,
			 (unsigned long long)sets[i].data);
		check(what, ioctl(vcpu, KVM_SET_MSRS, &m));
	}
}

static void one_reg_part(int vcpu)
{
	uint64_t v = 0;
	struct kvm_one_reg r = {REG_MSR(MSR_XFD), (uint64_t)(uintptr_t)&v};
	struct {
		__u64 n;
		__u64 reg[4];
	} list = {.n = 4};

	if (check("get one_reg xfd", ioctl(vcpu, KVM_GET_ONE_REG, &r)) == 0)
		printf("  value 0x%llx\n", (unsigned long long)v);
	r.id = REG_GUEST_SSP;
	check("get one_reg guest ssp", ioctl(vcpu, KVM_GET_ONE_REG, &r));
	if (check("reg list", ioctl(vcpu, KVM_GET_REG_LIST, &list)) == 0)
		printf("  n %llu\n", (unsigned long long)list.n);
}

/* XMM0-15 and, with AVX, YMM_Hi128 at the offset CPUID 0xD.2 EBX gives. */
static void fill(uint8_t *buf, uint32_t ymm_off)
{
	for (int i = 0; i < 256; i++)
		buf[160 + i] = (uint8_t)(0x11 * i + 3);
	for (int i = 0; ymm_off && i < 256; i++)
		buf[ymm_off + i] = (uint8_t)(0x37 * i + 5);
	*(uint64_t *)(buf + 512) = ymm_off ? 0x7 : 0x3;
}

static void xsave_part(int vcpu, const union cpuid_buf *sup, int size)
{
	const struct kvm_cpuid_entry2 *d2 = leaf(sup, 0xd, 2);
	uint8_t *a = calloc(1, (size_t)size), *b = calloc(1, (size_t)size);

	if (!a || !b || check("get xsave2", ioctl(vcpu, KVM_GET_XSAVE2, a)) < 0)
		goto out;
	printf("  xstate_bv 0x%llx xcomp_bv 0x%llx mxcsr 0x%x fcw 0x%x hash %016llx\n",
	       *(unsigned long long *)(a + 512), *(unsigned long long *)(a + 520),
	       *(uint32_t *)(a + 24), *(uint16_t *)a, (unsigned long long)fnv(a, (size_t)size));
	fill(a, d2 ? d2->ebx : 0);
	check("set xsave", ioctl(vcpu, KVM_SET_XSAVE, a));
	check("get xsave2 again", ioctl(vcpu, KVM_GET_XSAVE2, b));
	printf("  round trip %s hash %016llx\n",
	       memcmp(a + 160, b + 160, 256) == 0 ? "equal" : "different",
	       (unsigned long long)fnv(b, (size_t)size));
	*(uint64_t *)(a + 520) = 1;
	check("set xsave with xcomp_bv 1", ioctl(vcpu, KVM_SET_XSAVE, a));
out:
	free(a);
	free(b);
}

int main(void)
{
	static union cpuid_buf sup;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, vcpu, size;
	void *run;

	if (kvm < 0) {
		printf("open /dev/kvm: %s\n", strerrorname_np(errno));
		return 1;
	}
	system_part(kvm, &sup);
	msr_list(kvm);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	check("create vm", vm < 0 ? -1 : 0);
	vcpu = vm < 0 ? -1 : ioctl(vm, KVM_CREATE_VCPU, 0);
	if (check("create vcpu", vcpu < 0 ? -1 : 0) < 0)
		return 1;
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	printf("kvm_run mapped: %s\n", run == MAP_FAILED ? strerrorname_np(errno) : "yes");
	cpuid_part(vcpu, &sup);
	xcr_part(vcpu);
	msr_part(vcpu);
	one_reg_part(vcpu);
	xsave_part(vcpu, &sup, ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2));
	check("close vcpu", close(vcpu));
	check("close vm", close(vm));
	check("close kvm", close(kvm));
	return 0;
}
