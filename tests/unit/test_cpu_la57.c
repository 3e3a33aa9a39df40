/* SPDX-License-Identifier: MIT */
/*
 * CR4.LA57 in the model processor: which memory operands are canonical follows the paging mode
 * (48-bit addresses with 4-level paging, 57-bit with 5-level paging, CR4.LA57 = 1), not the
 * CPU's widest linear-address width; values written to MSRs that hold linear addresses stay
 * CPU-canonical whatever the paging mode (arch.md §5.0, §7.2).  CR4.LA57 needs CPUID.(7,0):
 * ECX[16] and cannot change while the processor stays in 64-bit mode.
 *
 * Expected values by hand: bit 47 set (0x0000_8000_0000_0000) is canonical at 57 bits only;
 * bit 56 set alone (0x0100_0000_0000_0000) is canonical at neither width.
 */
/* cmocka.h needs these four first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdlib.h>
#include <string.h>

#include <vxsave/arch.h>
#include <vxsave/cpu.h>

#define AREA      4096u
#define BIT47     UINT64_C(0x0000800000000000) /* canonical at 57 bits, not at 48 */
#define BIT56     UINT64_C(0x0100000000000000) /* canonical at neither */
#define LOW       UINT64_C(0x00007f0000000000) /* canonical at both */
#define HIGH57    UINT64_C(0xff00000000000000) /* canonical at 57 bits, not at 48 */

static _Alignas(64) uint8_t area[AREA];

static struct vx_cpu *make(const char *name)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;
	struct vx_cpu *cpu = NULL;
	struct vx_event ev;

	assert_int_equal(vx_profile_builtin(&p, name, &err), 0);
	assert_int_equal(vx_cpu_create(&p, NULL, &cpu, &err), 0);
	assert_int_equal(vx_cpu_xsetbv(cpu, 0, 0x7, &ev), 0);
	return cpu;
}

/* XSAVE64 of x87|SSE|AVX (832 bytes) into a window at linear address @base. */
static int save_at(struct vx_cpu *cpu, uint64_t base, struct vx_event *ev)
{
	struct vx_memory mem = {area, sizeof(area), base};

	memset(ev, 0, sizeof(*ev));
	return vx_cpu_exec(cpu, VX_INSN_XSAVE64, 0, &mem, base, 0x7, ev);
}

static int set_cr4(struct vx_cpu *cpu, uint64_t cr4, enum vx_cpu_mode mode, struct vx_event *ev)
{
	struct vx_cpu_control c;

	vx_cpu_get_control(cpu, &c);
	c.cr4 = cr4;
	c.mode = mode;
	return vx_cpu_set_control(cpu, &c, ev);
}

static uint64_t cr4_of(const struct vx_cpu *cpu)
{
	struct vx_cpu_control c;

	vx_cpu_get_control(cpu, &c);
	return c.cr4;
}

/* Power-on state: 4-level paging, so only 48-bit addresses are canonical, even on a 57-bit CPU. */
static void test_four_level_paging(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids");
	struct vx_event ev;

	(void)state;
	assert_int_equal(cr4_of(cpu) & VX_CR4_LA57, 0);
	assert_int_equal(save_at(cpu, LOW, &ev), 0);
	assert_int_equal(save_at(cpu, BIT47, &ev), VX_FAULTED);
	assert_int_equal(ev.vector, VX_VEC_GP);
	assert_int_equal(ev.error_code, 0);
	assert_int_equal(save_at(cpu, HIGH57, &ev), VX_FAULTED);
	assert_int_equal(ev.vector, VX_VEC_GP);
	/* The last byte decides too: an area that ends past 2^47 - 1. */
	assert_int_equal(save_at(cpu, BIT47 - 512, &ev), VX_FAULTED);
	assert_int_equal(ev.vector, VX_VEC_GP);
	vx_cpu_destroy(cpu);
}

/* 5-level paging: 57-bit addresses, reached by leaving 64-bit mode as an OS does. */
static void test_five_level_paging(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids");
	uint64_t cr4 = cr4_of(cpu);
	struct vx_event ev;

	(void)state;
	/* MOV to CR4 that changes LA57 in 64-bit mode: #GP(0), nothing changes. */
	assert_int_equal(set_cr4(cpu, cr4 | VX_CR4_LA57, VX_MODE_64BIT, &ev), VX_FAULTED);
	assert_int_equal(ev.vector, VX_VEC_GP);
	assert_non_null(strstr(ev.reason, "LA57"));
	assert_int_equal(cr4_of(cpu), cr4);
	/* Outside IA-32e mode it may change; back in 64-bit mode with it set. */
	assert_int_equal(set_cr4(cpu, cr4, VX_MODE_COMPAT, &ev), 0);
	assert_int_equal(set_cr4(cpu, cr4 | VX_CR4_LA57, VX_MODE_COMPAT, &ev), 0);
	assert_int_equal(set_cr4(cpu, cr4 | VX_CR4_LA57, VX_MODE_64BIT, &ev), 0);
	assert_int_equal(save_at(cpu, BIT47, &ev), 0);
	assert_int_equal(save_at(cpu, HIGH57, &ev), 0);
	assert_int_equal(save_at(cpu, LOW, &ev), 0);
	assert_int_equal(save_at(cpu, BIT56, &ev), VX_FAULTED);
	assert_int_equal(ev.vector, VX_VEC_GP);
	/* Clearing it in 64-bit mode faults the same way. */
	assert_int_equal(set_cr4(cpu, cr4, VX_MODE_64BIT, &ev), VX_FAULTED);
	assert_int_equal(ev.vector, VX_VEC_GP);
	/* Reset is 4-level paging again. */
	vx_cpu_reset(cpu);
	assert_int_equal(cr4_of(cpu) & VX_CR4_LA57, 0);
	vx_cpu_destroy(cpu);
}

/* Without CPUID.(7,0):ECX[16] the bit is reserved in every mode. */
static void test_la57_needs_cpuid(void **state)
{
	struct vx_cpu *cpu = make("skylake-server");
	uint64_t cr4 = cr4_of(cpu);
	struct vx_event ev;

	(void)state;
	assert_int_equal(set_cr4(cpu, cr4 | VX_CR4_LA57, VX_MODE_COMPAT, &ev), VX_FAULTED);
	assert_int_equal(ev.vector, VX_VEC_GP);
	assert_non_null(strstr(ev.reason, "CPUID.(7,0):ECX[16]"));
	assert_int_equal(set_cr4(cpu, cr4 | VX_CR4_LA57, VX_MODE_64BIT, &ev), VX_FAULTED);
	assert_int_equal(save_at(cpu, LOW, &ev), 0);
	assert_int_equal(save_at(cpu, BIT47, &ev), VX_FAULTED);
	vx_cpu_destroy(cpu);
}

/* MSR values are CPU-canonical: a 57-bit SSP is accepted with 4-level paging (arch.md §7.2). */
static void test_msr_values_ignore_paging_mode(void **state)
{
	struct vx_cpu *cpu = make("sapphire-rapids");
	struct vx_event ev;

	(void)state;
	assert_int_equal(cr4_of(cpu) & VX_CR4_LA57, 0);
	assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_PL0_SSP, BIT47, &ev), 0);
	assert_int_equal(vx_cpu_wrmsr(cpu, VX_MSR_IA32_PL0_SSP, BIT56, &ev), VX_FAULTED);
	assert_int_equal(ev.vector, VX_VEC_GP);
	vx_cpu_destroy(cpu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_four_level_paging),
		cmocka_unit_test(test_five_level_paging),
		cmocka_unit_test(test_la57_needs_cpuid),
		cmocka_unit_test(test_msr_values_ignore_paging_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
