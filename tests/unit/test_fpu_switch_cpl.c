/* SPDX-License-Identifier: MIT */
/*
 * The context switch's saves and restores run at CPL 0 (linux-fpu.md §8.1-§8.3) whatever CPL
 * the model CPU was left at: the fast entry (vx_cpu_exec_cpl0, issue 7/9) declines when the
 * CPU is not at CPL 0 and the fpu layer then changes the CPL for the instruction and puts it
 * back.  On sapphire-rapids (XSAVES64/XRSTORS64, which #GP above CPL 0, arch.md §5.4/§5.6),
 * with the machine's CPU left at CPL 3:
 *  - switching from task A to task B saves A: one save in A's counters, XMM0's pattern in
 *    A's image at legacy offset 160 (arch.md §2.2), and the CPU still at CPL 3;
 *  - B's return to user restores B (one restore in B's counters), CPL still 3;
 *  - back on A (CPL 0 again), A's XMM0 holds the pattern.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <string.h>

#include <vxsave/fpu_task.h>

#define XMM0_OFFSET 160u /* legacy region: XMM0 at bytes 160-175 (arch.md §2.2) */

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			print_error("%s:%d: ", __FILE__, __LINE__);                                \
			print_error(__VA_ARGS__);                                                  \
			print_error("\n");                                                         \
			fail();                                                                    \
		}                                                                                  \
	} while (0)

static unsigned cpl_of(struct vx_cpu *cpu)
{
	struct vx_cpu_control c;

	vx_cpu_get_control(cpu, &c);
	return c.cpl;
}

static void set_cpl(struct vx_cpu *cpu, unsigned cpl)
{
	struct vx_cpu_control c;
	struct vx_event ev;

	vx_cpu_get_control(cpu, &c);
	c.cpl = cpl;
	CHECK(vx_cpu_set_control(cpu, &c, &ev) == 0, "CPL %u refused: %s", cpl, ev.reason);
}

static void test_switch_at_cpl3(void **state)
{
	static const uint8_t pattern[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
					    0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x0F};
	const struct vx_reg_info *xmm0 = vx_reg_lookup("xmm0");
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_system *sys = NULL;
	struct vx_fpu_machine *m = NULL;
	struct vx_fpu_task *a = NULL, *b = NULL;
	struct vx_fpu_task_info ia, ib;
	struct vx_fpu_user_result res;
	struct vx_profile profile;
	uint8_t back[16] = {0};
	struct vx_cpu *cpu;

	(void)state;
	CHECK(vx_profile_builtin(&profile, "sapphire-rapids", &err) == 0, "%s", err.reason);
	CHECK(vx_fpu_system_create(&profile, NULL, &sys, &err) == 0, "%s", err.reason);
	CHECK(vx_fpu_machine_create(sys, 1, &m, &err) == 0, "%s", err.reason);
	CHECK(vx_fpu_process_create(m, &a, &err) == 0 && vx_fpu_process_create(m, &b, &err) == 0,
	      "%s", err.reason);
	cpu = vx_fpu_machine_cpu(m, 0);
	CHECK(vx_fpu_task_schedule(a, 0, &err) == 0, "%s", err.reason);
	CHECK(vx_fpu_task_set_reg(a, xmm0, pattern, sizeof(pattern), &res, &err) == 0 &&
		  res.retired,
	      "A's XMM0 write: %s", err.reason);
	vx_fpu_task_info(a, &ia);
	vx_fpu_task_info(b, &ib);

	set_cpl(cpu, 3);
	CHECK(vx_fpu_task_schedule(b, 0, &err) == 0, "switch to B at CPL 3: %s", err.reason);
	vx_fpu_task_info(a, &ia);
	CHECK(ia.counters.saves == 1, "A saved %llu times", (unsigned long long)ia.counters.saves);
	CHECK(memcmp(ia.fpstate->regs + XMM0_OFFSET, pattern, 16) == 0, "A's image lacks its XMM0");
	CHECK(cpl_of(cpu) == 3, "the save left CPL %u, not 3", cpl_of(cpu));
	CHECK(vx_fpu_task_return_to_user(b, &err) == 0, "B's restore at CPL 3: %s", err.reason);
	vx_fpu_task_info(b, &ib);
	CHECK(ib.counters.restores == 1, "B restored %llu times",
	      (unsigned long long)ib.counters.restores);
	CHECK(cpl_of(cpu) == 3, "the restore left CPL %u, not 3", cpl_of(cpu));

	set_cpl(cpu, 0);
	CHECK(vx_fpu_task_schedule(a, 0, &err) == 0 && vx_fpu_task_return_to_user(a, &err) == 0,
	      "back to A: %s", err.reason);
	CHECK(vx_cpu_get_reg(cpu, xmm0, back, sizeof(back)) == 0 &&
		  memcmp(back, pattern, sizeof(back)) == 0,
	      "A's XMM0 did not come back");
	vx_fpu_machine_destroy(m);
	vx_fpu_system_destroy(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_switch_at_cpl3),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
