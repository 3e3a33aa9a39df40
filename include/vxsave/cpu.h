/* SPDX-License-Identifier: MIT */
/*
 * vxsave `cpu` layer: a software logical processor whose XSAVE behaviour is exact.
 *
 * One struct vx_cpu per logical processor, created from a CPU profile.  It holds every
 * component's registers (stored as the component's standard-format bytes, so saving and
 * restoring are copies), the control state that decides faults (CPL, mode, CR0, CR4, VMX
 * controls), the XSAVE-related MSRs and CET registers, and the processor's tracking state
 * XINUSE, XMODIFIED and XRSTOR_INFO (arch.md §4).
 *
 * Instructions return 0 when they retire, VX_FAULTED when they raise an exception or cause a
 * VM exit (described in *event; no state changed), or a negative errno for API misuse (NULL
 * pointers, unknown instruction).  Facts: ../shared/spec/arch.md §2-§7; behaviour choices
 * where the architecture leaves freedom are listed in docs/cpu-model.md.
 *
 * The hardware backend that runs the same instructions on this machine is in cpu_hw.h.
 */
#ifndef VXSAVE_CPU_H
#define VXSAVE_CPU_H

#include <vxsave/arch.h>
#include <vxsave/cpu_hw.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vx_cpu;

/* ----------------------------------------------------------------------------------------- */
/* Events: exceptions and VM exits                                                              */

#define VX_FAULTED 1

enum vx_vector {
	VX_VEC_UD = 6,
	VX_VEC_NM = 7,
	VX_VEC_TS = 10,
	VX_VEC_SS = 12,
	VX_VEC_GP = 13,
	VX_VEC_PF = 14,
	VX_VEC_AC = 17,
	VX_VEC_CP = 21,
};

enum vx_event_kind { VX_EVENT_NONE = 0, VX_EVENT_EXCEPTION, VX_EVENT_VMEXIT };

/* VMX basic exit reasons the model produces (arch.md §5.4, §5.6, §5.8). */
#define VX_EXIT_XSETBV	55u
#define VX_EXIT_XSAVES	63u
#define VX_EXIT_XRSTORS 64u

/**
 * enum vx_event_cause - which check stopped an instruction (machine-readable, one per raise
 * site class; vx_event_cause_name() gives the stable lower-case name, e.g. "cpl").
 */
enum vx_event_cause {
	VX_CAUSE_NONE = 0,
	VX_CAUSE_NO_XSAVE,	      /* CPUID XSAVE absent or CR4.OSXSAVE = 0 (§5.0, §3.1) */
	VX_CAUSE_LOCK_PREFIX,	      /* LOCK on an XSAVE-family instruction (§5.0) */
	VX_CAUSE_NOT_ENUMERATED,      /* the instruction's CPUID.(0xD,1):EAX bit is 0 (§5.0) */
	VX_CAUSE_VMX_XSAVES_DISABLED, /* non-root, "enable XSAVES/XRSTORS" = 0 (§5.4) */
	VX_CAUSE_CR0_TS,	      /* CR0.TS = 1 (§5.0) */
	VX_CAUSE_CPL,		      /* privileged instruction at CPL > 0 (§5.4, §5.8, §7.2) */
	VX_CAUSE_XSS_EXITING,	      /* XSS-exiting bitmap hit (§5.4) */
	VX_CAUSE_VMX_XSETBV,	      /* XSETBV in VMX non-root (§5.8) */
	VX_CAUSE_MISALIGNED,	      /* area not 64-byte aligned, SSP bits 1:0 (§5.0, §7.2) */
	VX_CAUSE_NONCANONICAL,	      /* non-canonical address or MSR value (§5.0, §7.2) */
	VX_CAUSE_NOT_MAPPED,	      /* access outside the memory window: #PF (§5.0) */
	VX_CAUSE_COMPONENT_DISABLED,  /* component used while not enabled in XCR0 (§3.1) */
	VX_CAUSE_XFD_ARMED,	      /* component armed in IA32_XFD (§5.9) */
	VX_CAUSE_MXCSR_RESERVED,      /* MXCSR bits outside MXCSR_MASK (§5.5) */
	VX_CAUSE_XCR_INDEX,	      /* XGETBV/XSETBV ECX not supported (§5.7, §5.8) */
	VX_CAUSE_XCR0_INVALID,	      /* XSETBV value refused by the XCR0 rules (§3.1) */
	VX_CAUSE_XCOMP_BV_FORM,	      /* XRSTORS with XCOMP_BV[63] = 0 (§5.6) */
	VX_CAUSE_XCOMP_BV_NO_XSAVEC,  /* compacted form on a CPU without XSAVEC (§5.5) */
	VX_CAUSE_XCOMP_BV_OUTSIDE_ENABLED,   /* XCOMP_BV bits not in XCR0 (| IA32_XSS) (§5.5) */
	VX_CAUSE_XSTATE_BV_OUTSIDE_XCR0,     /* standard form XSTATE_BV outside XCR0 (§5.5) */
	VX_CAUSE_XSTATE_BV_OUTSIDE_XCOMP_BV, /* compacted XSTATE_BV not in XCOMP_BV (§5.5) */
	VX_CAUSE_HEADER_RESERVED,	     /* reserved XSAVE header bytes not zero (§5.5) */
	VX_CAUSE_MSR_ABSENT,	    /* RDMSR/WRMSR of an MSR the CPU does not have (§7.2) */
	VX_CAUSE_MSR_RESERVED_BITS, /* WRMSR (or XRSTORS image) sets reserved bits (§3.2, §7.2) */
	VX_CAUSE_MSR_CONFLICT,	    /* WRMSR value with contradictory bits (§7.2) */
	VX_CAUSE_CR_RESERVED,	    /* MOV to CR sets a bit the CPU does not enumerate (§1.1) */
	VX_CAUSE_CR_INVALID,	    /* MOV to CR breaks a pairing rule (CET/WP, LA57) (§7.1) */
	/* CET instructions and transfers (cpu_cet.h, arch.md §7.3-§7.9) */
	VX_CAUSE_CET_DISABLED,	  /* #UD: CR4.CET, SH_STK_EN or WR_SHSTK_EN off at CPL (§7.7) */
	VX_CAUSE_SS_PAGE,	  /* #PF (SS bit): shadow-stack access to a wrong page (§7.4) */
	VX_CAUSE_PAGE_PROTECTION, /* #PF: ordinary access the page forbids (§7.4) */
	VX_CAUSE_SS_TOKEN,	  /* supervisor token not free on a stack switch (§7.5, §7.6) */
	VX_CAUSE_SSP_HIGH_BITS,	  /* SSP bits 63:32 set outside 64-bit mode (§7.3) */
	VX_CAUSE_PREV_SSP_TOKEN,  /* SAVEPREVSSP: bad previous-SSP token or hole (§7.7) */
	VX_CAUSE_TSS,		  /* #TS: TSS refused by a task switch with CR4.CET = 1 (§7.6) */
	VX_CAUSE_CP_NEAR_RET,	  /* #CP(1) NEAR-RET (§7.9) */
	VX_CAUSE_CP_FAR_RET,	  /* #CP(2) FAR-RET/IRET (§7.9) */
	VX_CAUSE_CP_ENDBRANCH,	  /* #CP(3) ENDBRANCH (§7.9) */
	VX_CAUSE_CP_RSTORSSP,	  /* #CP(4) RSTORSSP (§7.9) */
	VX_CAUSE_CP_SETSSBSY,	  /* #CP(5) SETSSBSY (§7.9) */
	VX_CAUSE_COUNT
};

/** Stable name of @cause ("cpl", "xfd-armed"...), or NULL if out of range. */
VX_API const char *vx_event_cause_name(enum vx_event_cause cause);

/**
 * struct vx_event - what stopped an instruction.
 * @kind:        exception or VM exit.
 * @vector:      exception vector (enum vx_vector) for VX_EVENT_EXCEPTION.
 * @error_code:  the error code pushed (0 for #GP(0)); for #PF the faulting linear address
 *               is in @address.
 * @exit_reason: VMX basic exit reason for VX_EVENT_VMEXIT.
 * @address:     faulting linear address (#PF, #AC) or 0.
 * @cause:       the check that failed (VX_CAUSE_NONE when no event).
 * @msr:         the MSR involved (WRMSR/RDMSR, or the MSR whose XRSTORS image failed), or 0.
 * @bits:        the offending bits or value (mask bits, header qword, MSR value...), or 0.
 * @offset:      the byte offset in the XSAVE area involved, or -1.
 * @rule:        the spec section that decided it ("arch.md §5.5").
 * @reason:      one sentence: which check failed and on what value.
 */
struct vx_event {
	enum vx_event_kind kind;
	unsigned vector;
	uint32_t error_code;
	uint32_t exit_reason;
	uint64_t address;
	enum vx_event_cause cause;
	uint32_t msr;
	uint64_t bits;
	int64_t offset;
	const char *rule;
	char reason[192];
};

/** Mnemonic of exception @vector ("#GP", "#UD", "#NM", "#PF"...), or NULL if unnamed. */
VX_API const char *vx_vector_name(unsigned vector);

/** "#GP(0)", "#UD", "VM exit 55 (XSETBV)"... for messages. */
VX_API const char *vx_event_name(const struct vx_event *event, char *buf, size_t len);

/* ----------------------------------------------------------------------------------------- */
/* Creation and control state                                                                   */

enum vx_cpu_mode {
	VX_MODE_64BIT = 0, /* IA-32e 64-bit mode */
	VX_MODE_COMPAT,	   /* IA-32e compatibility mode, or legacy protected mode */
	VX_MODE_REAL,
	VX_MODE_V86,
};

#define VX_CR0_PE      VX_BIT(0)
#define VX_CR0_EM      VX_BIT(2)
#define VX_CR0_TS      VX_BIT(3)
#define VX_CR0_WP      VX_BIT(16)
#define VX_CR0_AM      VX_BIT(18)
#define VX_CR4_OSFXSR  VX_BIT(9)
#define VX_CR4_LA57    VX_BIT(12)
#define VX_CR4_OSXSAVE VX_BIT(18)
#define VX_CR4_PKE     VX_BIT(22)
#define VX_CR4_CET     VX_BIT(23)

/**
 * struct vx_cpu_control - the state that decides faults and tracking (not XSAVE-managed).
 * @vmx_non_root:        the processor runs a guest (VMX non-root operation).
 * @vmx_xsaves_enabled:  secondary control "enable XSAVES/XRSTORS" (§5.4).
 * @vmx_xss_exit_bitmap: the XSS-exiting bitmap (VMCS 0x202C).
 */
struct vx_cpu_control {
	unsigned cpl;
	enum vx_cpu_mode mode;
	uint64_t cr0;
	uint64_t cr4;
	bool eflags_ac;
	bool vmx_non_root;
	bool vmx_xsaves_enabled;
	uint64_t vmx_xss_exit_bitmap;
};

/**
 * vx_cpu_create() - a logical processor for @profile (copied), in the power-on XSAVE state
 * (XCR0 = 1, IA32_XSS = 0, XFD = 0, every component in its initial configuration, XINUSE = 0)
 * and the control state an OS sets up: 64-bit mode, CPL 0, CR0 = PE|WP, CR4 = OSFXSR|OSXSAVE
 * (OSXSAVE only if the profile has XSAVE).  @platform may be NULL (default).
 */
VX_API int vx_cpu_create(const struct vx_profile *profile, const struct vx_platform *platform,
			 struct vx_cpu **cpu, struct vx_error *err);
VX_API void vx_cpu_destroy(struct vx_cpu *cpu);
/** Back to the state vx_cpu_create() gives. */
VX_API void vx_cpu_reset(struct vx_cpu *cpu);
/** Copy all architectural state of @src into @dst (same profile required, else -EINVAL). */
VX_API int vx_cpu_copy(struct vx_cpu *dst, const struct vx_cpu *src);
VX_API const struct vx_profile *vx_cpu_profile(const struct vx_cpu *cpu);

VX_API void vx_cpu_get_control(const struct vx_cpu *cpu, struct vx_cpu_control *control);
/**
 * vx_cpu_set_control() - change the control state as MOV to CR0/CR4 and mode switches would:
 * CR4.OSXSAVE needs XSAVE, CR4.CET needs CET_SS or CET_IBT and CR0.WP (§7.1), clearing CR0.WP
 * with CR4.CET set faults, CR4.PKE needs PKU, CR4.LA57 needs LA57 (CPUID.(7,0):ECX[16]) and
 * cannot change while the processor stays in 64-bit mode (leave it, as an OS does, to switch
 * paging modes).  Returns VX_FAULTED (#GP(0)) leaving everything unchanged when a rule is
 * broken.
 *
 * The paging mode decides which memory operands are canonical in 64-bit mode: 48-bit addresses
 * with 4-level paging (CR4.LA57 = 0, the power-on state), 57-bit with 5-level paging.  Values
 * written to MSRs that hold linear addresses (the CET SSPs, ISST, U_CET/S_CET) are checked
 * against the CPU's widest width (CPUID.80000008H:EAX[15:8]) whatever the paging mode.
 */
VX_API int vx_cpu_set_control(struct vx_cpu *cpu, const struct vx_cpu_control *control,
			      struct vx_event *event);

/* ----------------------------------------------------------------------------------------- */
/* XSAVE-family instructions (arch.md §5)                                                       */

enum vx_insn {
	VX_INSN_XSAVE,
	VX_INSN_XSAVE64,
	VX_INSN_XSAVEOPT,
	VX_INSN_XSAVEOPT64,
	VX_INSN_XSAVEC,
	VX_INSN_XSAVEC64,
	VX_INSN_XSAVES,
	VX_INSN_XSAVES64,
	VX_INSN_XRSTOR,
	VX_INSN_XRSTOR64,
	VX_INSN_XRSTORS,
	VX_INSN_XRSTORS64,
	VX_INSN_COUNT
};

/** "XSAVEC64" etc.; NULL if out of range. */
VX_API const char *vx_insn_name(enum vx_insn insn);
/** Parse an instruction name (case-insensitive); -1 if unknown. */
VX_API int vx_insn_by_name(const char *name);

/** Instruction prefixes that change behaviour. */
#define VX_PREFIX_LOCK 1u

/**
 * struct vx_memory - a window of linear memory: @size bytes at linear address @base.
 * An access outside it raises #PF with the linear address in event->address.
 */
struct vx_memory {
	uint8_t *bytes;
	size_t size;
	uint64_t base;
};

/* Page attributes of struct vx_cpu_memory: what the page's paging entries say (arch.md §7.4). */
#define VX_PAGE_SIZE	     4096u
#define VX_PAGE_USER	     0x01u /* U/S = 1 at every level: a user page (else supervisor) */
#define VX_PAGE_READ_ONLY    0x02u /* final entry R/W = 0, Dirty = 0: an ordinary read-only page */
#define VX_PAGE_SHADOW_STACK 0x04u /* final entry R/W = 0 and Dirty = 1, higher levels R/W = 1 */
#define VX_PAGE_NOT_PRESENT  0x08u /* P = 0 */

/**
 * struct vx_cpu_memory - a window of linear memory with paging attributes per 4 KiB page, for the
 * CET instructions and transfers (cpu_cet.h).
 * @window: the bytes; an address outside it is not present (#PF with P = 0).
 * @attr:   one VX_PAGE_* byte per page: @attr[i] describes the page at linear address
 *          ((@window.base >> 12) + i) << 12.  NULL: every page of the window is an ordinary
 *          writable supervisor page.
 * @pages:  entries in @attr; at least vx_cpu_memory_pages(&@window) when @attr is set.
 */
struct vx_cpu_memory {
	struct vx_memory window;
	uint8_t *attr;
	size_t pages;
};

/** Number of 4 KiB pages @window touches (the length @attr needs). */
VX_API size_t vx_cpu_memory_pages(const struct vx_memory *window);

/**
 * vx_cpu_exec() - execute one XSAVE-family instruction with its area at linear address @addr
 * and EDX:EAX = @edx_eax (the instruction-mask operand; the upper halves of RAX/RDX are the
 * caller's business: pass what EDX:EAX holds).  Exceptions in architectural priority order
 * (§5.0 then the instruction's own).  On VX_FAULTED neither the processor nor @mem changed.
 */
VX_API int vx_cpu_exec(struct vx_cpu *cpu, enum vx_insn insn, unsigned prefixes,
		       struct vx_memory *mem, uint64_t addr, uint64_t edx_eax,
		       struct vx_event *event);

/** XGETBV with ECX = @ecx (§5.7). */
VX_API int vx_cpu_xgetbv(struct vx_cpu *cpu, uint32_t ecx, uint64_t *value, struct vx_event *event);
/** XSETBV with ECX = @ecx, EDX:EAX = @value (§5.8, rules §3.1). */
VX_API int vx_cpu_xsetbv(struct vx_cpu *cpu, uint32_t ecx, uint64_t value, struct vx_event *event);

/* The MSR numbers (VX_MSR_IA32_*) are architectural facts: see arch.h (§3.2, §3.3, §7.2). */

/**
 * Who accesses an MSR (as KVM's host_initiated): VX_MSR_GUEST is the RDMSR/WRMSR instruction
 * executed by the processor, with its privilege check (CPL > 0 or V86 → #GP(0), §7.2);
 * VX_MSR_HOST is the VMM/debugger/kernel-on-behalf side, which skips the privilege check
 * whatever the processor's CPL, mode or VMX state.  Both get the existence check (an MSR the
 * profile does not have → #GP(0)) and, for writes, every value check of §3.2, §3.3, §7.2, so no
 * path stores a value WRMSR would refuse.
 */
enum vx_msr_initiator { VX_MSR_GUEST = 0, VX_MSR_HOST = 1 };
enum vx_msr_op { VX_MSR_READ = 0, VX_MSR_WRITE = 1 };

/**
 * vx_cpu_msr_access() - the one MSR access path: read MSR @msr into *@value or write *@value
 * to it, as @who.  Returns 0, VX_FAULTED (#GP(0) in *@event, nothing changed), or -EINVAL.
 */
VX_API int vx_cpu_msr_access(struct vx_cpu *cpu, enum vx_msr_initiator who, enum vx_msr_op op,
			     uint32_t msr, uint64_t *value, struct vx_event *event);
/** RDMSR (§7.2: #GP(0) at CPL>0 or for an MSR the profile does not have). */
VX_API int vx_cpu_rdmsr(struct vx_cpu *cpu, uint32_t msr, uint64_t *value, struct vx_event *event);
/** WRMSR with the architectural value checks (§3.2, §3.3, §7.2). */
VX_API int vx_cpu_wrmsr(struct vx_cpu *cpu, uint32_t msr, uint64_t value, struct vx_event *event);
/** Name of an MSR the model knows ("IA32_XSS"), or NULL. */
VX_API const char *vx_msr_name(uint32_t msr);

/** The shadow-stack pointer register SSP (not XSAVE-managed, §2.5). */
VX_API uint64_t vx_cpu_get_ssp(const struct vx_cpu *cpu);
VX_API void vx_cpu_set_ssp(struct vx_cpu *cpu, uint64_t ssp);

/* ----------------------------------------------------------------------------------------- */
/* Registers and "use" operations                                                               */

/**
 * struct vx_reg_info - one named register of the model (one table, reg.c).
 * @name:      "xmm3", "mxcsr", "fcw", "st0", "k7", "zmm20", "ymmh5", "pkru", "u_cet",
 *             "pl0_ssp", "tilecfg", "tmm2", "r17", "pt" (opaque components by their name).
 * @component: the state component that holds it.
 * @offset:    for x87 and SSE registers, the byte offset in the legacy region (bytes 0-511,
 *             the same in every format); for every other component, the offset within the
 *             component's bytes (add CPUID.(0xD,i).EBX for the standard format, or the
 *             compacted offset; the standard offsets differ between vendors, §2.6).
 * @width:     bytes; 0 for an opaque component whose size only CPUID knows (PT, LBR): the
 *             whole component, as large as the cpu's profile makes it.
 */
struct vx_reg_info {
	const char *name;
	unsigned component;
	uint32_t offset;
	uint32_t width;
};

/** Register by name (case-insensitive), or NULL. */
VX_API const struct vx_reg_info *vx_reg_lookup(const char *name);
/** Number of registers in the table, and entry @index. */
VX_API unsigned vx_reg_count(void);
VX_API const struct vx_reg_info *vx_reg_at(unsigned index);

/**
 * vx_cpu_set_reg() - an instruction writes register @reg with @width bytes of @value
 * (little-endian).  For user components: #UD if CR4.OSXSAVE=0 or the component is not enabled
 * in XCR0 (x87 and SSE are always writable), #NM if CR0.TS=1 (x87/SSE/AVX/AVX-512 state),
 * #NM with XFD_ERR if XFD-armed (§5.9), #GP(0) for an MXCSR value outside MXCSR_MASK.  Sets
 * XINUSE and XMODIFIED of the component (MXCSR alone sets only XMODIFIED[1]: XGETBV(1) derives
 * bit 1 from MXCSR, docs/cpu-model.md).  -EINVAL if @width is not the register's width or the
 * cpu does not have the register.  Supervisor registers that are MSRs (u_cet, pl0-3_ssp,
 * pasid) are written host-side through vx_cpu_msr_access(VX_MSR_HOST): no privilege check,
 * but #GP(0) for a value WRMSR would refuse or an MSR the profile lacks (§7.2).  Other
 * supervisor bytes (PT, LBR...) have no MSR in the model and are stored as given.
 */
VX_API int vx_cpu_set_reg(struct vx_cpu *cpu, const struct vx_reg_info *reg, const void *value,
			  size_t width, struct vx_event *event);
/** Read register @reg (no side effects).  -EINVAL if @width is wrong. */
VX_API int vx_cpu_get_reg(const struct vx_cpu *cpu, const struct vx_reg_info *reg, void *value,
			  size_t width);

/**
 * vx_cpu_use() - an instruction that uses @components executes (e.g. an AMX instruction:
 * 17|18).  #UD if a user component is not enabled in XCR0 or CR4.OSXSAVE=0; #NM if CR0.TS=1
 * (x87/SSE/AVX-class state); #NM and IA32_XFD_ERR = XFD & @components if XFD-armed (§5.9:
 * the MSR is written, not ORed).
 * Otherwise marks the components in use and modified.
 */
VX_API int vx_cpu_use(struct vx_cpu *cpu, uint64_t components, struct vx_event *event);

/**
 * vx_cpu_mark_modified() - an instruction rewrote @components' registers with the values they
 * already hold (FXRSTOR of an unchanged image does this to x87 and SSE): XMODIFIED is set for
 * them (& XCR0), XINUSE and the register values are unchanged.
 */
VX_API void vx_cpu_mark_modified(struct vx_cpu *cpu, uint64_t components);

/**
 * vx_cpu_init_components() - return @components to their initial configuration (what
 * VZEROUPPER does for AVX, TILERELEASE for AMX): XINUSE bits cleared.
 */
VX_API void vx_cpu_init_components(struct vx_cpu *cpu, uint64_t components);

/**
 * vx_cpu_vzeroupper() - VZEROUPPER: #UD unless AVX is enabled (XCR0[2], CR4.OSXSAVE), #NM with
 * CR0.TS; then AVX and ZMM_Hi256 return to their initial configuration.  The whole ZMM0-15
 * file is rewritten, so SSE counts as modified (XMM values kept), and on CPUs that track a
 * legacy-SSE merge lazily (AMD family 19h, docs/hardware-behaviour.md §A.4) XINUSE[1] is
 * re-evaluated by the XMM values.
 */
VX_API int vx_cpu_vzeroupper(struct vx_cpu *cpu, struct vx_event *event);

/* ----------------------------------------------------------------------------------------- */
/* Tracking state (arch.md §4)                                                                  */

struct vx_xrstor_info {
	bool valid; /* false until the first XRSTOR/XRSTORS */
	unsigned cpl;
	bool vmx_non_root;
	uint64_t linear_address;
	uint64_t compmask; /* XCOMP_BV read by the restore (0 for the standard form) */
};

VX_API uint64_t vx_cpu_xcr0(const struct vx_cpu *cpu);
VX_API uint64_t vx_cpu_xinuse(const struct vx_cpu *cpu);
VX_API uint64_t vx_cpu_xmodified(const struct vx_cpu *cpu);
VX_API void vx_cpu_xrstor_info(const struct vx_cpu *cpu, struct vx_xrstor_info *info);

/* ----------------------------------------------------------------------------------------- */
/* Images, dump and comparison                                                                  */

/**
 * vx_cpu_to_standard_image() - write the user components in @mask (& XCR0) to @buf in the
 * standard format with XSTATE_BV = XINUSE & @mask, as XSAVE64 would, without side effects and
 * without fault checks (for loading a model state into real registers).  -ENOBUFS if @len is
 * smaller than the standard size for XCR0.
 */
VX_API int vx_cpu_to_standard_image(const struct vx_cpu *cpu, uint64_t mask, void *buf, size_t len);
/**
 * vx_cpu_from_standard_image() - set the user components in @mask (& XCR0) from a standard
 * image as XRSTOR64 would (XSTATE_BV decides load or init, and XINUSE), without fault checks
 * and without touching XMODIFIED/XRSTOR_INFO (for reading real registers back into a model).
 */
VX_API int vx_cpu_from_standard_image(struct vx_cpu *cpu, uint64_t mask, const void *buf,
				      size_t len);

/**
 * vx_cpu_dump() - a readable dump of all state (control, MSRs, tracking, then every enabled
 * component's registers).  Returns 0, or -ENOBUFS with *@needed set when @len is too small.
 */
VX_API int vx_cpu_dump(const struct vx_cpu *cpu, char *buf, size_t len, size_t *needed);

/**
 * vx_cpu_compare() - compare all architectural state; returns 0 if equal, 1 if not, with the
 * first differing register named in @where ("xmm3 byte 5: 0x12 != 0x00").  @mask limits the
 * comparison to those components' registers plus control state and MSRs.  The tracking state
 * (XINUSE, XMODIFIED, XRSTOR_INFO) is not compared: it is not register content, and
 * implementations may legitimately differ in it (§4).
 */
VX_API int vx_cpu_compare(const struct vx_cpu *a, const struct vx_cpu *b, uint64_t mask,
			  char *where, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* VXSAVE_CPU_H */
