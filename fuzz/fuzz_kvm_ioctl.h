/* SPDX-License-Identifier: MIT */
/*
 * The input format of fuzz_kvm_ioctl.c, shared with the seed generator (gen_seeds.c):
 *
 *   byte 0        built-in profile (index modulo their count)
 *   byte 1        CET_S design (modulo 6) | flavour << 6 (0 vmx, 1 svm, 2 pvm, 3 the vendor's)
 *   byte 2, text  length N and N bytes of a guest program (kvm_run.h) KVM_RUN runs
 *   calls         up to FZ_CALLS_MAX of: kind, descriptor, request index [4 raw request bytes
 *                 for FZ_CALL_RAW_IOCTL], argument mode, argument length (2 bytes LE), then the
 *                 argument's bytes (FZ_ARG_WILD: 1, FZ_ARG_INT: 2, FZ_ARG_TIGHT and FZ_ARG_COPY:
 *                 length, the others none)
 *
 * Descriptor byte: below 0xF0 the (byte mod count)th descriptor handed out so far, in order
 * (the system descriptor opened first is number 0); from 0xF0 one the context does not own.
 */
#ifndef VXSAVE_FUZZ_KVM_IOCTL_H
#define VXSAVE_FUZZ_KVM_IOCTL_H

#include <linux/kvm.h>

#include <vxsave/fpu_task.h>

#define FZ_CALLS_MAX  64u
#define FZ_ARENA_SIZE (64u << 10)

enum fz_call {
	FZ_CALL_IOCTL = 0,
	FZ_CALL_RAW_IOCTL,
	FZ_CALL_OPEN,
	FZ_CALL_CLOSE,
	FZ_CALL_PRCTL,
	FZ_CALL_MMAP,
	FZ_CALL_COUNT
};

/* Argument modes (the byte modulo 8; 5-7 are FZ_ARG_COPY). */
enum fz_arg {
	FZ_ARG_NULL = 0,
	FZ_ARG_WILD,  /* a pointer the model must refuse untouched, or the guard page */
	FZ_ARG_INT,   /* an integer below 4096 */
	FZ_ARG_TIGHT, /* the bytes end where the guard page starts */
	FZ_ARG_KEEP,  /* the arena's start as earlier calls left it */
	FZ_ARG_COPY,  /* the bytes copied to the arena's start */
};

/* Requests the model takes, and some it does not (KVM's errno per descriptor kind). */
static const unsigned long fz_requests[] = {
    KVM_GET_API_VERSION,
    KVM_CREATE_VM,
    KVM_CHECK_EXTENSION,
    KVM_GET_VCPU_MMAP_SIZE,
    KVM_GET_SUPPORTED_CPUID,
    KVM_GET_EMULATED_CPUID,
    KVM_GET_MSR_INDEX_LIST,
    KVM_GET_MSR_FEATURE_INDEX_LIST,
    KVM_GET_DEVICE_ATTR,
    KVM_HAS_DEVICE_ATTR,
    KVM_CREATE_VCPU,
    KVM_SET_USER_MEMORY_REGION,
    KVM_SET_CPUID2,
    KVM_GET_CPUID2,
    KVM_GET_XCRS,
    KVM_SET_XCRS,
    KVM_GET_MSRS,
    KVM_SET_MSRS,
    KVM_GET_ONE_REG,
    KVM_SET_ONE_REG,
    KVM_GET_REG_LIST,
    KVM_GET_XSAVE,
    KVM_GET_XSAVE2,
    KVM_SET_XSAVE,
    KVM_GET_REGS,
    KVM_SET_REGS,
    KVM_GET_SREGS,
    KVM_SET_SREGS,
    KVM_RUN,
    KVM_GET_FPU,
    KVM_SET_FPU,
    KVM_CREATE_IRQCHIP,
    KVM_SET_TSS_ADDR,
    KVM_GET_CLOCK,
    KVM_SET_CPUID,
};

#define FZ_NREQUESTS (sizeof(fz_requests) / sizeof(fz_requests[0]))

/* ARCH_* options of arch_prctl (fpu_task.h) and one the kernel does not know. */
static const int fz_prctl_options[] = {VX_ARCH_GET_XCOMP_SUPP,	     VX_ARCH_GET_XCOMP_PERM,
				       VX_ARCH_REQ_XCOMP_PERM,	     VX_ARCH_GET_XCOMP_GUEST_PERM,
				       VX_ARCH_REQ_XCOMP_GUEST_PERM, 0x1026};

#define FZ_NPRCTL (sizeof(fz_prctl_options) / sizeof(fz_prctl_options[0]))

/* The index of @request in fz_requests (for the seed generator). */
static inline uint8_t fz_request_index(unsigned long request)
{
	for (unsigned i = 0; i < FZ_NREQUESTS; i++)
		if (fz_requests[i] == request)
			return (uint8_t)i;
	return 0xFF;
}

#endif /* VXSAVE_FUZZ_KVM_IOCTL_H */
