/* SPDX-License-Identifier: MIT */
/*
 * vx_cpu_exec(): the checks every XSAVE-family memory instruction shares (arch.md §5.0, in
 * architectural priority order: #UD, #NM, privilege #GP, VM exits, alignment), then the
 * instruction itself (xsave.c, xrstor.c).
 */
#include <errno.h>

#include "arch/text.h"
#include "cpu/cpu_internal.h"
#include "cpu/insn.h"
#include "cpu/kernel_entry.h"

static const struct insn_desc insn_table[VX_INSN_COUNT] = {
    [VX_INSN_XSAVE] = {"XSAVE", INSN_XSAVE, false},
    [VX_INSN_XSAVE64] = {"XSAVE64", INSN_XSAVE, true},
    [VX_INSN_XSAVEOPT] = {"XSAVEOPT", INSN_XSAVEOPT, false},
    [VX_INSN_XSAVEOPT64] = {"XSAVEOPT64", INSN_XSAVEOPT, true},
    [VX_INSN_XSAVEC] = {"XSAVEC", INSN_XSAVEC, false},
    [VX_INSN_XSAVEC64] = {"XSAVEC64", INSN_XSAVEC, true},
    [VX_INSN_XSAVES] = {"XSAVES", INSN_XSAVES, false},
    [VX_INSN_XSAVES64] = {"XSAVES64", INSN_XSAVES, true},
    [VX_INSN_XRSTOR] = {"XRSTOR", INSN_XRSTOR, false},
    [VX_INSN_XRSTOR64] = {"XRSTOR64", INSN_XRSTOR, true},
    [VX_INSN_XRSTORS] = {"XRSTORS", INSN_XRSTORS, false},
    [VX_INSN_XRSTORS64] = {"XRSTORS64", INSN_XRSTORS, true},
};

const char *vx_insn_name(enum vx_insn insn)
{
	return (unsigned)insn < VX_INSN_COUNT ? insn_table[insn].name : NULL;
}

int vx_insn_by_name(const char *name)
{
	if (!name)
		return -1;
	for (unsigned i = 0; i < VX_INSN_COUNT; i++)
		if (vx_name_matches(insn_table[i].name, name, vx_strlen(name)))
			return (int)i;
	return -1;
}

static bool is_supervisor_insn(enum insn_kind kind)
{
	return kind == INSN_XSAVES || kind == INSN_XRSTORS;
}

/* §5.0: the CPUID sub-feature each instruction needs beyond XSAVE. */
static bool sub_feature_present(const struct vx_cpu *cpu, enum insn_kind kind)
{
	switch (kind) {
	case INSN_XSAVEOPT:
		return cpu->facts.xsaveopt;
	case INSN_XSAVEC:
		return cpu->facts.xsavec;
	case INSN_XSAVES:
	case INSN_XRSTORS:
		return cpu->facts.xsaves;
	case INSN_XSAVE:
	case INSN_XRSTOR:
		break;
	}
	return true;
}

static int check_undefined(const struct vx_cpu *cpu, const struct insn_desc *d, unsigned prefixes,
			   struct vx_event *event)
{
	/* §5.0: no XSAVE, or CR4.OSXSAVE=0 → #UD. */
	if (!cpu->facts.xsave || !(cpu->control.cr4 & VX_CR4_OSXSAVE))
		return raise_exception(event, VX_VEC_UD, VX_CAUSE_NO_XSAVE, "arch.md §5.0",
				       "%s needs CPUID XSAVE and CR4.OSXSAVE=1", d->name);
	/* §5.0: a LOCK prefix → #UD. */
	if (prefixes & VX_PREFIX_LOCK)
		return raise_exception(event, VX_VEC_UD, VX_CAUSE_LOCK_PREFIX, "arch.md §5.0",
				       "LOCK prefix on %s", d->name);
	/* §5.0: the instruction's own CPUID.(0xD,1):EAX bit is absent → #UD. */
	if (!sub_feature_present(cpu, d->kind))
		return raise_exception(event, VX_VEC_UD, VX_CAUSE_NOT_ENUMERATED, "arch.md §5.0",
				       "%s is not enumerated in CPUID.(0xD,1):EAX", d->name);
	/* §5.4/§5.6: in VMX non-root, "enable XSAVES/XRSTORS" = 0 → #UD. */
	if (is_supervisor_insn(d->kind) && cpu->control.vmx_non_root &&
	    !cpu->control.vmx_xsaves_enabled)
		return raise_exception(
		    event, VX_VEC_UD, VX_CAUSE_VMX_XSAVES_DISABLED, "arch.md §5.4",
		    "%s in VMX non-root with \"enable XSAVES/XRSTORS\" = 0", d->name);
	return 0;
}

static int check_privilege(const struct vx_cpu *cpu, const struct insn_desc *d,
			   struct vx_event *event)
{
	/* §5.0: CR0.TS=1 → #NM for all six memory instructions. */
	if (cpu->control.cr0 & VX_CR0_TS)
		return raise_exception(event, VX_VEC_NM, VX_CAUSE_CR0_TS, "arch.md §5.0",
				       "CR0.TS=1 on %s", d->name);
	/* §5.4/§5.6: XSAVES/XRSTORS need CPL 0 (V86 mode counts as CPL 3). */
	if (is_supervisor_insn(d->kind) && cpu_effective_cpl(cpu) > 0)
		return raise_exception(event, VX_VEC_GP, VX_CAUSE_CPL, "arch.md §5.4",
				       "%s at CPL %u", d->name, cpu_effective_cpl(cpu));
	return 0;
}

/* §5.4/§5.6: XSS-exiting bitmap; privilege faults come first (SDM "priority of VM exits"). */
static int check_vm_exit(const struct vx_cpu *cpu, const struct insn_desc *d, uint64_t edx_eax,
			 struct vx_event *event)
{
	uint64_t hit = edx_eax & cpu->state.xss & cpu->control.vmx_xss_exit_bitmap;

	if (!is_supervisor_insn(d->kind) || !cpu->control.vmx_non_root || !hit)
		return 0;
	raise_vm_exit(event, d->kind == INSN_XSAVES ? VX_EXIT_XSAVES : VX_EXIT_XRSTORS,
		      VX_CAUSE_XSS_EXITING, "arch.md §5.4",
		      "%s: EDX:EAX & IA32_XSS & XSS-exiting bitmap = 0x%llx", d->name,
		      (unsigned long long)hit);
	return event_detail(event, VX_MSR_IA32_XSS, hit, -1);
}

static int check_alignment(const struct vx_cpu *cpu, const struct insn_desc *d, uint64_t addr,
			   struct vx_event *event)
{
	bool ac_enabled =
	    cpu_effective_cpl(cpu) == 3 && (cpu->control.cr0 & VX_CR0_AM) && cpu->control.eflags_ac;

	if (addr % VX_AREA_ALIGN == 0)
		return 0;
	/* §5.0: at CPL3 with alignment checking on, the implementation may raise #AC. */
	if (ac_enabled && cpu->behaviour.misaligned_ac) {
		raise_exception(event, VX_VEC_AC, VX_CAUSE_MISALIGNED, "arch.md §5.0",
				"%s area 0x%llx is not 64-byte aligned (alignment checking on)",
				d->name, (unsigned long long)addr);
		if (event) /* events are optional (cpu.h) */
			event->address = addr;
		return VX_FAULTED;
	}
	/* §5.0: an area not aligned on 64 bytes → #GP(0). */
	return raise_exception(event, VX_VEC_GP, VX_CAUSE_MISALIGNED, "arch.md §5.0",
			       "%s area 0x%llx is not 64-byte aligned", d->name,
			       (unsigned long long)addr);
}

/*
 * The usual case in one test: XSAVE enabled, no prefix, CR0.TS = 0, the instruction
 * enumerated, an aligned area, and for XSAVES/XRSTORS CPL 0 outside VMX non-root.  Then none
 * of the §5.0 checks below can fault; otherwise they run in their priority order.
 */
static bool common_checks_pass(const struct vx_cpu *cpu, const struct insn_desc *d,
			       unsigned prefixes, uint64_t addr)
{
	bool supervisor_ok = !is_supervisor_insn(d->kind) ||
			     (cpu_effective_cpl(cpu) == 0 && !cpu->control.vmx_non_root);

	return cpu->facts.xsave && (cpu->control.cr4 & VX_CR4_OSXSAVE) && prefixes == 0 &&
	       !(cpu->control.cr0 & VX_CR0_TS) && addr % VX_AREA_ALIGN == 0 && supervisor_ok &&
	       sub_feature_present(cpu, d->kind);
}

/*
 * Everything vx_cpu_exec() does once its arguments are known to be good; inline in both entries
 * (a call frame more is a tenth of the fpu layer's switch, docs/fpu.md "Speed").
 */
static inline __attribute__((always_inline)) int
exec_insn(struct vx_cpu *cpu, const struct insn_desc *d, unsigned prefixes, struct vx_memory *mem,
	  uint64_t addr, uint64_t edx_eax, struct vx_event *event)
{
	struct insn_args args;

	if (!common_checks_pass(cpu, d, prefixes, addr) &&
	    (check_undefined(cpu, d, prefixes, event) || check_privilege(cpu, d, event) ||
	     check_vm_exit(cpu, d, edx_eax, event) || check_alignment(cpu, d, addr, event)))
		return VX_FAULTED;
	args.desc = d;
	args.mem = mem;
	args.addr = addr;
	args.edx_eax = edx_eax;
	/* §2.2: REX.W only selects the 64-bit FIP/FDP format, and only exists in 64-bit mode. */
	args.rex_w = d->rex_w && cpu_in_64bit_mode(cpu);
	switch (d->kind) {
	case INSN_XSAVE:
	case INSN_XSAVEOPT:
		return exec_xsave_standard(cpu, &args, event);
	case INSN_XSAVEC:
	case INSN_XSAVES:
		return exec_xsave_compacted(cpu, &args, event);
	case INSN_XRSTOR:
	case INSN_XRSTORS:
		return exec_xrstor(cpu, &args, event);
	}
	return -EINVAL;
}

int vx_cpu_exec(struct vx_cpu *cpu, enum vx_insn insn, unsigned prefixes, struct vx_memory *mem,
		uint64_t addr, uint64_t edx_eax, struct vx_event *event)
{
	if (!cpu || !mem || (unsigned)insn >= VX_INSN_COUNT || (!mem->bytes && mem->size))
		return -EINVAL;
	/* Events are optional (cpu.h): without one a fault formats no reason text. */
	event_clear(event);
	return exec_insn(cpu, &insn_table[insn], prefixes, mem, addr, edx_eax, event);
}

/*
 * The kernel's own save or restore (kernel_entry.h): at CPL 0 exactly what vx_cpu_exec() does
 * with no prefix on the bytes' own linear address - the same argument checks, then the same
 * body with every §5.0 check.  Added: the CPL test; left out: clearing @event up front (every
 * fault fills it from scratch in raise_event(), and the caller reads it only after one).
 */
int vx_cpu_exec_cpl0(struct vx_cpu *cpu, enum vx_insn insn, uint8_t *bytes, size_t size,
		     uint64_t rfbm, struct vx_event *event)
{
	struct vx_memory mem = {bytes, size, (uint64_t)(uintptr_t)bytes};

	if (!cpu || (unsigned)insn >= VX_INSN_COUNT || (!bytes && size))
		return -EINVAL;
	if (cpu->control.cpl != 0)
		return VX_CPU_NOT_CPL0;
	return exec_insn(cpu, &insn_table[insn], 0, &mem, mem.base, rfbm, event);
}
