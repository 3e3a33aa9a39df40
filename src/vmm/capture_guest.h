/* SPDX-License-Identifier: MIT */
/*
 * Capture's guest-side register setter (issue 10: "registers set by a real guest where KVM_RUN
 * works"; docs/vmm.md "Capture"): the values a seed gives (splitmix64), the machine code that
 * loads them at CPL3 on a real /dev/kvm (real_guest.h), the equivalent guest program
 * (kvm_run.h ops) for the drop-in model's KVM_RUN, and the run itself.  Internal (src/vmm).
 */
#ifndef VXSAVE_SRC_VMM_CAPTURE_GUEST_H
#define VXSAVE_SRC_VMM_CAPTURE_GUEST_H

#include <vxsave/vmm_compat.h>

/* The x87 constants FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ (D9 E8..EE). */
#define VX_CAPTURE_X87_CONSTANTS 7u

/**
 * struct vx_capture_values - what the guest loads (docs/vmm.md "Capture", in draw order).
 * @fcw:     FLDCW's control word; @nst: how many constants are pushed (1-8); @konst[j]: the
 *           constant of push j (0-6: FLD1 ... FLDZ), so ST(i) is @konst[@nst - 1 - i].
 * @mxcsr:   LDMXCSR's value.
 * @xmm, @ymmh, @zmmh, @hi16, @k, @pkru: the vector, opmask and PKRU values, little-endian.
 * @touched: the components the guest writes (a subset of the guest XCR0; x87 and SSE when the
 *           guest has no XSAVE, XCR0 0).
 * @osxsave: the guest runs with CR4.OSXSAVE (it has an XCR0).
 */
struct vx_capture_values {
	uint16_t fcw;
	unsigned nst;
	uint8_t konst[8];
	uint32_t mxcsr;
	uint8_t xmm[16][16];
	uint8_t ymmh[16][16];
	uint8_t zmmh[16][32];
	uint8_t hi16[16][64];
	uint64_t k[8];
	uint32_t pkru;
	uint64_t touched;
	bool osxsave;
};

/** The values @seed gives for a guest with XCR0 @xcr0 (splitmix64 from @seed). */
void vx_capture_values(uint32_t seed, uint64_t xcr0, struct vx_capture_values *v);

/** The 80-bit encoding of x87 constant @k (10 bytes, little-endian; rounded to nearest). */
void vx_capture_x87_constant(unsigned k, uint8_t out[10]);

/**
 * vx_capture_check() - the components of @v->touched whose registers in @blob (@size bytes of
 * KVM_GET_XSAVE2, standard format on @host's layout) are not what the guest wrote, or whose
 * XSTATE_BV bit is clear (FOP, FIP, FDP and bytes the guest did not write are not compared).
 */
uint64_t vx_capture_check(const struct vx_capture_values *v, const struct vx_profile *host,
			  const uint8_t *blob, uint32_t size);

/**
 * vx_capture_guest_run() - have a guest load the values of @seed into the vCPU @vcpu_fd of VM
 * @vm_fd (made through @be with XCR0 @xcr0 set): guest memory and tables, the code at CPL3,
 * KVM_RUN until the OUT that ends it.  @model: the drop-in device behind @be (its KVM_RUN runs
 * the equivalent guest program), or NULL for the real /dev/kvm (the machine code runs).
 * 0 when the guest ran to its end; otherwise -errno with @why saying what went wrong (the
 * ioctl and errno, the exception the guest took, the exit).  @done gets the components set.
 * The program and the code are allocated from @pf (-ENOMEM when they cannot be).
 */
int vx_capture_guest_run(const struct vx_kvm_backend *be, struct vx_kvm_dev *model,
			 const struct vx_platform *pf, int sys_fd, int vm_fd, int vcpu_fd,
			 uint32_t seed, uint64_t xcr0, uint64_t *done, char *why, size_t len);

#endif /* VXSAVE_SRC_VMM_CAPTURE_GUEST_H */
