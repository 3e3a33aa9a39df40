/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's XCR0 (kvm.md §4): __kvm_set_xcr() with one commented `if` per rule, each refusal
 * naming the rule and the bits (§4.1); the guest's XSETBV exit (§4.2); KVM_GET_XCRS and
 * KVM_SET_XCRS (§4.3).  Also the exception queueing shared with cr.c.
 *
 * XCR0 is validated against guest_supported_xcr0 (guest CPUID 0xD.0 ∩ kvm_caps.supported_xcr0,
 * §1.4 step 5), not against the host: userspace must KVM_SET_CPUID2 before restoring XCR0.
 * A change of any bit above SSE marks the runtime CPUID dirty, so KVM_GET_CPUID2 (and CPUID
 * emulation) recompute 0xD.0 EBX / 0xD.1 EBX for the new XCR0 (§2.4).
 */
#include <stdarg.h>
#include <stdio.h>

#include "kvm/regs_internal.h"

#define M_FP	   VX_BIT(VX_COMP_X87)
#define M_SSE	   VX_BIT(VX_COMP_SSE)
#define M_YMM	   VX_BIT(VX_COMP_AVX)
#define M_BNDREGS  VX_BIT(VX_COMP_BNDREGS)
#define M_BNDCSR   VX_BIT(VX_COMP_BNDCSR)
#define M_MPX	   (M_BNDREGS | M_BNDCSR)
#define M_AVX512   (VX_BIT(VX_COMP_OPMASK) | VX_BIT(VX_COMP_ZMM_HI256) | VX_BIT(VX_COMP_HI16_ZMM))
#define M_XTILE	   (VX_BIT(VX_COMP_XTILECFG) | VX_BIT(VX_COMP_XTILEDATA))
#define M_EXTENDED (~(M_FP | M_SSE)) /* XFEATURE_MASK_EXTEND: what dirties 0xD EBX (§4.1) */
#define RULE_XCR   "kvm.md §4.1"

typedef unsigned long long ull;

/* ----------------------------------------------------------------------------------------- */
/* Exceptions KVM queues for the guest                                                          */

void vx_kvm_event_none(struct vx_event *event)
{
	if (!event)
		return;
	memset(event, 0, sizeof(*event));
	event->kind = VX_EVENT_NONE;
	event->cause = VX_CAUSE_NONE;
	event->offset = -1;
}

int vx_kvm_queue_exception(struct vx_event *event, unsigned vector, enum vx_event_cause cause,
			   uint64_t bits, const char *rule, const char *fmt, ...)
{
	va_list ap;

	if (!event)
		return VX_FAULTED;
	vx_kvm_event_none(event);
	event->kind = VX_EVENT_EXCEPTION;
	event->vector = vector;
	event->cause = cause;
	event->bits = bits;
	event->rule = rule;
	va_start(ap, fmt);
	vsnprintf(event->reason, sizeof(event->reason), fmt, ap);
	va_end(ap);
	return VX_FAULTED;
}

/* ----------------------------------------------------------------------------------------- */
/* __kvm_set_xcr() (§4.1)                                                                       */

#ifdef __GNUC__
__attribute__((format(printf, 3, 4)))
#endif
static int
refuse(struct vx_error *err, uint64_t bits, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return 1;
	va_start(ap, fmt);
	vx_error_vset(err, 1, RULE_XCR, fmt, ap);
	va_end(ap);
	err->bits = bits;
	return 1;
}

/* The rules in KVM's order (x86.c:1262-1306); 1 with the first that refuses @x. */
static int check_xcr(const struct vx_kvm_vcpu *vcpu, uint32_t index, uint64_t x,
		     struct vx_error *err)
{
	uint64_t valid = vcpu->guest_supported_xcr0 | M_FP;

	/* Only XCR0 exists for KVM (XCR_XFEATURE_ENABLED_MASK). */
	if (index != 0)
		return refuse(err, 0, "XCR%u does not exist: KVM supports only XCR0 (index 0)",
			      index);
	/* x87 state cannot be disabled. */
	if (!(x & M_FP))
		return refuse(err, M_FP, "XCR0 0x%llx clears bit 0 (x87), which must be 1", (ull)x);
	/* YMM needs SSE. */
	if ((x & M_YMM) && !(x & M_SSE))
		return refuse(err, M_YMM | M_SSE,
			      "XCR0 0x%llx sets bit 2 (YMM) without bit 1 (SSE)", (ull)x);
	/* Guest CPUID 0xD.0 (∩ KVM support) is the limit; FP always allowed. */
	if (x & ~valid)
		return refuse(err, x & ~valid,
			      "XCR0 0x%llx sets bits 0x%llx outside guest_supported_xcr0 | FP = "
			      "0x%llx (guest CPUID 0xD.0 ∩ KVM support)",
			      (ull)x, (ull)(x & ~valid), (ull)valid);
	/* MPX: BNDREGS and BNDCSR all or none. */
	if (!(x & M_BNDREGS) != !(x & M_BNDCSR))
		return refuse(err, M_MPX,
			      "XCR0 0x%llx sets only one of bits 3 and 4 (BNDREGS, BNDCSR)",
			      (ull)x);
	/* AVX-512 needs YMM. */
	if ((x & M_AVX512) && !(x & M_YMM))
		return refuse(err, (x & M_AVX512) | M_YMM,
			      "XCR0 0x%llx sets AVX-512 bits 0x%llx without bit 2 (YMM)", (ull)x,
			      (ull)(x & M_AVX512));
	/* AVX-512: OPMASK, ZMM_Hi256 and Hi16_ZMM together. */
	if ((x & M_AVX512) && (x & M_AVX512) != M_AVX512)
		return refuse(err, M_AVX512 & ~x,
			      "XCR0 0x%llx sets only part of bits 7:5 (AVX-512); missing 0x%llx",
			      (ull)x, (ull)(M_AVX512 & ~x));
	/* AMX: XTILE_CFG and XTILE_DATA together. */
	if ((x & M_XTILE) && (x & M_XTILE) != M_XTILE)
		return refuse(err, M_XTILE,
			      "XCR0 0x%llx sets only one of bits 17 and 18 (XTILE_CFG, XTILE_DATA)",
			      (ull)x);
	return 0;
}

/* __kvm_set_xcr(): 0, or 1 with the rule in @err; on success dirty 0xD EBX if needed. */
static int set_xcr(struct vx_kvm_vcpu *vcpu, uint32_t index, uint64_t x, struct vx_error *err)
{
	uint64_t old = vcpu->xcr0;

	if (check_xcr(vcpu, index, x, err))
		return 1;
	vcpu->xcr0 = x;
	/* Extended bits changed: 0xD.0/0xD.1 EBX follow XCR0 (§2.4, x86.c:1302-1303). */
	if ((old ^ x) & M_EXTENDED)
		vcpu->cpuid_dynamic_dirty = true;
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* XSETBV exit (§4.2)                                                                           */

int vx_kvm_vcpu_guest_xsetbv(struct vx_kvm_vcpu *vcpu, unsigned cpl, uint64_t ecx, uint64_t value,
			     struct vx_event *event)
{
	struct vx_error why = VX_ERROR_INIT;
	uint32_t index = (uint32_t)ecx; /* RCX[63:32] ignored: the index is a u32 */

	/* #UD for CR4.OSXSAVE = 0 has hardware priority over the exit (arch.md §5.8). */
	if (!(vcpu->cr4 & VX_CR4_OSXSAVE))
		return vx_kvm_queue_exception(event, VX_VEC_UD, VX_CAUSE_NO_XSAVE, 0, "kvm.md §4.2",
					      "XSETBV with CR4.OSXSAVE = 0: #UD before any exit");
	/* KVM injects #GP(0) at CPL > 0 (x86.c:1311-1313). */
	if (cpl != 0)
		return vx_kvm_queue_exception(event, VX_VEC_GP, VX_CAUSE_CPL, 0, "kvm.md §4.2",
					      "XSETBV at CPL %u: KVM injects #GP(0)", cpl);
	/* __kvm_set_xcr() refused: #GP(0) with its rule. */
	if (set_xcr(vcpu, index, value, &why))
		return vx_kvm_queue_exception(
		    event, VX_VEC_GP, index ? VX_CAUSE_XCR_INDEX : VX_CAUSE_XCR0_INVALID, why.bits,
		    why.rule, "XSETBV: %s; KVM injects #GP(0)", why.reason);
	vx_kvm_event_none(event);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* KVM_GET_XCRS / KVM_SET_XCRS (§4.3)                                                           */

bool vx_kvm_host_xsave(const struct vx_kvm *kvm)
{
	/* boot_cpu_has(X86_FEATURE_XSAVE): the kernel runs with XSAVE enabled. */
	return vx_fpu_insns(kvm->fpu)->xsave;
}

int vx_kvm_vcpu_get_xcrs(struct vx_kvm_vcpu *vcpu, struct vx_kvm_xcrs *xcrs, struct vx_error *err)
{
	if (!xcrs)
		return vx_error_set(err, -EFAULT, "kvm.md §4.3",
				    "KVM_GET_XCRS: no kvm_xcrs buffer");
	/* The ioctl copies out a zeroed struct kvm_xcrs. */
	memset(xcrs, 0, sizeof(*xcrs));
	/* No host XSAVE: nr_xcrs = 0. */
	if (!vx_kvm_host_xsave(vcpu->vm->kvm))
		return 0;
	xcrs->nr_xcrs = 1;
	xcrs->xcrs[0].xcr = 0;
	xcrs->xcrs[0].value = vcpu->xcr0;
	return 0;
}

int vx_kvm_vcpu_set_xcrs(struct vx_kvm_vcpu *vcpu, const struct vx_kvm_xcrs *xcrs,
			 struct vx_error *err)
{
	struct vx_error why = VX_ERROR_INIT;

	if (!xcrs)
		return vx_error_set(err, -EFAULT, "kvm.md §4.3",
				    "KVM_SET_XCRS: no kvm_xcrs buffer");
	/* No host XSAVE → -EINVAL. */
	if (!vx_kvm_host_xsave(vcpu->vm->kvm))
		return vx_error_set(err, -EINVAL, "kvm.md §4.3",
				    "KVM_SET_XCRS: the host has no XSAVE, so no XCRs");
	/* At most KVM_MAX_XCRS entries. */
	if (xcrs->nr_xcrs > VX_KVM_MAX_XCRS)
		return vx_error_set(err, -EINVAL, "kvm.md §4.3", "KVM_SET_XCRS: nr_xcrs %u > %u",
				    xcrs->nr_xcrs, VX_KVM_MAX_XCRS);
	/* No flags are defined. */
	if (xcrs->flags)
		return vx_error_set(err, -EINVAL, "kvm.md §4.3",
				    "KVM_SET_XCRS: flags 0x%x, must be 0", xcrs->flags);
	/* The first entry for XCR0 is applied; entries for other XCRs are ignored. */
	for (uint32_t i = 0; i < xcrs->nr_xcrs; i++) {
		if (xcrs->xcrs[i].xcr != 0)
			continue;
		if (!set_xcr(vcpu, 0, xcrs->xcrs[i].value, &why))
			return 0;
		vx_error_set(err, -EINVAL, why.rule, "KVM_SET_XCRS: %s", why.reason);
		if (err)
			err->bits = why.bits;
		return -EINVAL;
	}
	return 0;
}
