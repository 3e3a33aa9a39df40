/* SPDX-License-Identifier: MIT */
/*
 * What the CET files of the cpu layer share (cet_mem.c, cet.c, cet_transfer.c, cet_ibt.c,
 * cet_vmx.c): memory accesses under the §7.4 page rules, a write log that makes a transfer
 * all-or-nothing, and the CET control registers by privilege level.
 */
#ifndef VXSAVE_CPU_CET_INTERNAL_H
#define VXSAVE_CPU_CET_INTERNAL_H

#include <vxsave/cpu_cet.h>

#include "cpu/cpu_internal.h"

#define CET_TOKEN_BUSY	UINT64_C(1)	     /* §7.5: supervisor token bit 0 */
#define CET_LOW32	UINT64_C(0xFFFFFFFF) /* outside 64-bit mode addresses are 32-bit */
#define CET_TSS_SSP	0x68u		     /* §7.6: SSP field of a 32-bit TSS */
#define CET_TSS_MIN_LIM 0x6Bu		     /* §7.6: limit that covers it */

/* ---- cet_mem.c: accesses (§7.4) and the write log ---- */

/* One access: which bytes, and what kind (the page rules depend on all four flags). */
struct mem_access {
	uint64_t addr;
	unsigned len;
	bool write;  /* a write, or a locked read-modify-write (token operations) */
	bool shadow; /* a shadow-stack access (§7.4) */
	bool user;   /* a user-mode access (CPL3, or WRUSS) */
	bool in64;   /* 64-bit mode: the address must be canonical */
};

/* Up to this many writes per instruction or transfer (a token and four pushes at most). */
#define TXN_MAX 8

/* Writes checked but not yet done: a fault later in the transfer leaves memory unchanged. */
struct txn {
	unsigned n;
	struct {
		uint64_t addr;
		uint64_t value;
		unsigned len;
	} w[TXN_MAX];
};

int mem_args_check(const struct vx_cpu_memory *mem, const char *who, struct vx_event *event);
int mem_check(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, const struct mem_access *a,
	      struct vx_event *event);
int mem_load(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, const struct mem_access *a,
	     uint64_t *value, struct vx_event *event);
int txn_store(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, struct txn *t,
	      const struct mem_access *a, uint64_t value, struct vx_event *event);
void txn_commit(struct vx_cpu_memory *mem, const struct txn *t);

static inline struct mem_access ss_access(uint64_t addr, unsigned len, bool write, bool user,
					  bool in64)
{
	struct mem_access a = {addr, len, write, true, user, in64};

	return a;
}

static inline struct mem_access data_access(uint64_t addr, unsigned len, bool write, bool user,
					    bool in64)
{
	struct mem_access a = {addr, len, write, false, user, in64};

	return a;
}

/* ---- cet.c: control registers, enables, faults, tokens ---- */
uint64_t cet_control(const struct vx_cpu *cpu, unsigned cpl);
void cet_set_control(struct vx_cpu *cpu, unsigned cpl, uint64_t value);
uint64_t cet_pl_ssp(const struct vx_cpu *cpu, unsigned cpl);
void cet_set_pl3_ssp(struct vx_cpu *cpu, uint64_t value);
bool cet_shstk_at(const struct vx_cpu *cpu, unsigned cpl, enum vx_cpu_mode mode);
int cet_misuse(struct vx_event *event, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int cet_raise_cp(struct vx_event *event, unsigned code, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* §7.5: set (@busy) or clear the busy bit of the supervisor token at @addr; *@ok = false (and
 * nothing queued) when the token, returned in *@seen, does not have the expected value. */
int token_update(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, struct txn *t,
		 uint64_t addr, bool busy, bool in64, bool *ok, uint64_t *seen,
		 struct vx_event *event);

/* ---- cet_ibt.c ---- */
/* §7.8: arm the tracker of @cpl (ENDBR_EN, SUPPRESS = 0); call at commit time. */
void ibt_arm(struct vx_cpu *cpu, unsigned cpl);

#endif /* VXSAVE_CPU_CET_INTERNAL_H */
