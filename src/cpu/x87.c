/* SPDX-License-Identifier: MIT */
/*
 * The x87 part of the legacy region (arch.md §2.2): bytes 0-23 and 32-159, in the 64-bit
 * (REX.W) or 32-bit pointer format.  The processor keeps FIP/FDP in 64-bit form plus the FCS
 * and FDS selectors; the format only matters at the memory boundary.
 */
#include "cpu/cpu_internal.h"

#define FOP_MASK	 0x07FFu
#define FCW_WRITABLE	 0x1F3Fu /* bits 6 and 15:13 are reserved */
#define FCW_RESERVED_ONE 0x0040u /* bit 6 reads as 1 */
#define FSW_EXCEPTIONS	 0x003Fu
#define FSW_SUMMARY	 0x8080u /* B (15) mirrors ES (7) */

/* hardware-behaviour: a loaded FCW keeps only its defined bits; bit 6 reads 1. */
uint16_t x87_normalize_fcw(uint16_t fcw)
{
	return (uint16_t)((fcw & FCW_WRITABLE) | FCW_RESERVED_ONE);
}

/* FSW.ES and FSW.B are derived: set iff an exception flag is set whose FCW mask is clear. */
uint16_t x87_normalize_fsw(uint16_t fsw, uint16_t fcw)
{
	bool pending = (fsw & ~fcw & FSW_EXCEPTIONS) != 0;

	return (uint16_t)((fsw & ~FSW_SUMMARY) | (pending ? FSW_SUMMARY : 0));
}

/* A loaded FIP/FDP is a linear address of the implementation's width (sign-extended). */
static uint64_t pointer_of_width(const struct vx_cpu *cpu, uint64_t pointer)
{
	unsigned bits = cpu->behaviour.fpu_pointer_bits;
	uint64_t sign = UINT64_C(1) << (bits - 1);

	if (bits >= 64)
		return pointer;
	pointer &= (sign << 1) - 1;
	return (pointer ^ sign) - sign;
}

/* §2.2 (AMD; hardware-behaviour.md C): FOP/FIP/FDP/FCS/FDS move only while FSW.ES=1. */
static bool pointers_move(const struct vx_cpu *cpu, uint16_t fsw)
{
	return !cpu->behaviour.fpu_pointers_only_on_es || (fsw & FSW_ES);
}

/* §2.2: without REX.W, FIP[31:0]/FCS in bytes 8-15 and FDP[31:0]/FDS in 16-23. */
static void save_pointers_32bit(const struct vx_cpu *cpu, uint8_t *area)
{
	const uint8_t *leg = cpu->state.legacy;
	/* §1.1/§2.2: CPUID.(7,0):EBX[13] (FCS/FDS deprecated) stores the selectors as 0. */
	uint16_t fcs = cpu->behaviour.fcs_fds_zero ? 0 : cpu->state.fcs;
	uint16_t fds = cpu->behaviour.fcs_fds_zero ? 0 : cpu->state.fds;

	memcpy(area + LEG_FIP, leg + LEG_FIP, 4);
	store_le16(area + LEG_FCS, fcs);
	store_le16(area + LEG_FCS + 2, 0);
	memcpy(area + LEG_FDP, leg + LEG_FDP, 4);
	store_le16(area + LEG_FDS, fds);
	store_le16(area + LEG_FDS + 2, 0);
}

void x87_save(const struct vx_cpu *cpu, uint8_t *area, bool rex_w)
{
	const uint8_t *leg = cpu->state.legacy;

	memcpy(area, leg, VX_MXCSR_OFFSET);
	memcpy(area + LEG_ST0, leg + LEG_ST0, 8 * LEG_ST_STRIDE);
	if (!rex_w)
		save_pointers_32bit(cpu, area);
	if (!pointers_move(cpu, load_le16(leg + LEG_FSW))) {
		store_le16(area + LEG_FOP, 0);
		memset(area + LEG_FIP, 0, 16);
	}
}

/*
 * XSAVE64/XSAVEC64 of x87 and SSE together in 64-bit mode (§2.2): bytes 0-415 of the area are
 * the processor's legacy image as it keeps it - the REX.W x87 format, MXCSR and MXCSR_MASK,
 * XMM0-15 - so they go in one copy; only the AMD pointer rule (pointers_move) patches it.
 */
void x87_save_with_sse64(const struct vx_cpu *cpu, uint8_t *area)
{
	copy_block(area, cpu->state.legacy, LEG_XMM_END);
	if (!pointers_move(cpu, load_le16(cpu->state.legacy + LEG_FSW))) {
		store_le16(area + LEG_FOP, 0);
		memset(area + LEG_FIP, 0, 16);
	}
}

/* hardware-behaviour.md C: with FSW.ES = 0 loaded pointers are not kept (they read as 0). */
static void clear_pointers(struct vx_cpu *cpu)
{
	memset(cpu->state.legacy + LEG_FOP, 0, 2 + 16);
	cpu->state.fcs = 0;
	cpu->state.fds = 0;
}

static void load_pointers(struct vx_cpu *cpu, const uint8_t *area, bool rex_w)
{
	uint8_t *leg = cpu->state.legacy;

	store_le16(leg + LEG_FOP, (uint16_t)(load_le16(area + LEG_FOP) & FOP_MASK));
	if (rex_w) {
		/* hardware-behaviour.md C: the 64-bit format has no selectors; FCS = FDS = 0. */
		store_le64(leg + LEG_FIP, pointer_of_width(cpu, load_le64(area + LEG_FIP)));
		store_le64(leg + LEG_FDP, pointer_of_width(cpu, load_le64(area + LEG_FDP)));
		cpu->state.fcs = 0;
		cpu->state.fds = 0;
		return;
	}
	store_le64(leg + LEG_FIP, load_le32(area + LEG_FIP));
	store_le64(leg + LEG_FDP, load_le32(area + LEG_FDP));
	cpu->state.fcs = load_le16(area + LEG_FCS);
	cpu->state.fds = load_le16(area + LEG_FDS);
}

void x87_load(struct vx_cpu *cpu, const uint8_t *area, bool rex_w)
{
	uint8_t *leg = cpu->state.legacy;
	uint16_t fcw = x87_normalize_fcw(load_le16(area + LEG_FCW));
	uint16_t fsw = x87_normalize_fsw(load_le16(area + LEG_FSW), fcw);

	store_le16(leg + LEG_FCW, fcw);
	store_le16(leg + LEG_FSW, fsw);
	leg[LEG_FTW] = area[LEG_FTW]; /* abridged FTW; byte 5 is reserved */
	if (pointers_move(cpu, fsw))
		load_pointers(cpu, area, rex_w);
	else
		clear_pointers(cpu);
	/* ST0-7: the 80-bit values; bytes 10-15 of each slot are reserved and stay 0 - each slot
	 * is two 8-byte stores (bytes 0-7, then 8-9 zero-extended), no copy call. */
	for (unsigned i = 0; i < 8; i++) {
		const uint8_t *from = area + LEG_ST0 + i * LEG_ST_STRIDE;
		uint8_t *slot = leg + LEG_ST0 + i * LEG_ST_STRIDE;

		store_le64(slot, load_le64(from));
		store_le64(slot + 8, load_le16(from + 8));
	}
}
