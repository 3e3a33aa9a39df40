/* SPDX-License-Identifier: MIT */
/*
 * The x87 part of the legacy region (arch.md §2.2): bytes 0-23 and 32-159, in the 64-bit
 * (REX.W) or 32-bit pointer format.  The processor keeps FIP/FDP in 64-bit form plus the FCS
 * and FDS selectors; the format only matters at the memory boundary.
 */
#include "cpu/cpu_internal.h"

#define FOP_MASK 0x07FFu

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
		/* Choice (docs/cpu-model.md): the 64-bit format has no selectors; FCS = FDS = 0. */
		memcpy(leg + LEG_FIP, area + LEG_FIP, 16);
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
	uint16_t fsw = load_le16(area + LEG_FSW);

	memcpy(leg, area, 5); /* FCW, FSW, abridged FTW; byte 5 is reserved */
	if (pointers_move(cpu, fsw))
		load_pointers(cpu, area, rex_w);
	else
		clear_pointers(cpu);
	/* ST0-7: the 80-bit values; bytes 10-15 of each slot are reserved and stay 0. */
	for (unsigned i = 0; i < 8; i++) {
		memcpy(leg + LEG_ST0 + i * LEG_ST_STRIDE, area + LEG_ST0 + i * LEG_ST_STRIDE,
		       LEG_ST_BYTES);
		memset(leg + LEG_ST0 + i * LEG_ST_STRIDE + LEG_ST_BYTES, 0,
		       LEG_ST_STRIDE - LEG_ST_BYTES);
	}
}
