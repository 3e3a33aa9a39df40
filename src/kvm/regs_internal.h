/* SPDX-License-Identifier: MIT */
/*
 * kvm layer internals shared by the register files (xcr.c, cr.c, xsave_abi.c) and whoever
 * emulates guest instructions: the exceptions KVM queues for a guest and the host checks
 * the register ioctls make.
 */
#ifndef VXSAVE_SRC_KVM_REGS_INTERNAL_H
#define VXSAVE_SRC_KVM_REGS_INTERNAL_H

#include <vxsave/kvm_regs.h>

#include "kvm/kvm_internal.h"

/* boot_cpu_has(X86_FEATURE_XSAVE): the host kernel runs with XSAVE enabled (§4.3, §5.2). */
bool vx_kvm_host_xsave(const struct vx_kvm *kvm);

/* An event that says "nothing happened" (NULL ignored). */
void vx_kvm_event_none(struct vx_event *event);

/*
 * vx_kvm_queue_exception() - KVM queues exception @vector for the guest (kvm_queue_exception,
 * kvm_inject_gp): @event (may be NULL) gets it with @cause, the offending @bits, @rule and a
 * sentence.  Returns VX_FAULTED.
 */
int vx_kvm_queue_exception(struct vx_event *event, unsigned vector, enum vx_event_cause cause,
			   uint64_t bits, const char *rule, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 6, 7)))
#endif
    ;

#endif /* VXSAVE_SRC_KVM_REGS_INTERNAL_H */
