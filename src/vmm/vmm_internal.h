/* SPDX-License-Identifier: MIT */
/*
 * vmm layer internals (vmm.h): little-endian access, the report helpers shared by validation
 * and conversion, and the host and vCPU objects (host.c).
 */
#ifndef VXSAVE_SRC_VMM_INTERNAL_H
#define VXSAVE_SRC_VMM_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <vxsave/vmm.h>

#define VMM_MASK_FP	 VX_BIT(VX_COMP_X87)
#define VMM_MASK_SSE	 VX_BIT(VX_COMP_SSE)
#define VMM_MASK_YMM	 VX_BIT(VX_COMP_AVX)
#define VMM_MASK_PKRU	 VX_BIT(VX_COMP_PKRU)
#define VMM_MASK_FPSSE	 (VMM_MASK_FP | VMM_MASK_SSE)
#define VMM_HDR_RESERVED 528u /* header bytes 16-63 (arch.md §2.3) */
#define VMM_SW_BYTES	 464u /* software bytes 464-511 (arch.md §2.2) */
#define VMM_LEGACY_USED	 416u /* legacy bytes 416-511 belong to no component (§2.2) */

/* Little-endian loads of @width (1..8) bytes: one move for 4 and 8 on the little-endian hosts
 * vxsave builds for (x86; the byte loop is what gcc compiled the header checks into). */
static inline uint64_t vmm_rd(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (width == 8 || width == 4) {
		uint32_t v32;

		if (width == 8) {
			memcpy(&v, p, 8);
			return v;
		}
		memcpy(&v32, p, 4);
		return v32;
	}
#endif
	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void vmm_wr(uint8_t *p, unsigned width, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (width == 8) {
		memcpy(p, &v, 8);
		return;
	}
#endif
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* report.c: add a finding; the vx_error fields are filled as vx_error_set() does. */
void vmm_report_clear(struct vx_vmm_report *report);
int vmm_report_add(struct vx_vmm_report *report, bool refuses, const struct vx_error *err);
int vmm_report_addf(struct vx_vmm_report *report, bool refuses, int code, int component,
		    uint64_t bits, int64_t offset, const char *rule, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 8, 9)))
#endif
    ;

/* host.c: zeroed memory from @pf / its release (NULL is ignored). */
void *vx_vmm_zalloc(const struct vx_platform *pf, size_t size);
void vx_vmm_free(const struct vx_platform *pf, void *ptr);

/*
 * struct vx_vmm_watch - a platform forwarding to @inner that remembers whether an allocation
 * failed (@failed): for the best-effort steps of compat and baseline, which carry on past a
 * failing step, so that a failed allocation anywhere is the call's -ENOMEM, not a verdict.
 */
struct vx_vmm_watch {
	struct vx_platform platform;
	const struct vx_platform *inner;
	bool failed;
};
void vx_vmm_watch_init(struct vx_vmm_watch *watch, const struct vx_platform *inner);

/* host.c */
struct vx_vmm_host {
	const struct vx_platform *pf; /* options->platform or the default */
	struct vx_profile profile;
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *machine;
	struct vx_kvm *kvm;
};

struct vx_vmm_vcpu {
	struct vx_vmm_host *host;
	struct vx_fpu_task *task;
	struct vx_kvm_vm *vm;
	struct vx_kvm_vcpu *vcpu;
	uint8_t *scratch; /* uabi_size bytes: a short blob padded with zeros */
	uint32_t scratch_size;
	bool xcr0_set; /* the config gave the guest XCR0 (KVM_SET_XCRS) */
};

#endif /* VXSAVE_SRC_VMM_INTERNAL_H */
