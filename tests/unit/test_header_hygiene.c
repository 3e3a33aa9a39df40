/* SPDX-License-Identifier: MIT */
/*
 * Header hygiene: every public header compiles on its own, twice, in strict C11, and the
 * umbrella gives the version macros the library agrees with at run time.
 */
/* The order (and, in the hygiene test, the repetition) is the point. */
/* clang-format off */
/* NOLINTBEGIN(readability-duplicate-include): including each header twice is the test */
#include <vxsave/common.h>
#include <vxsave/common.h>
#include <vxsave/arch.h>
#include <vxsave/arch.h>
#include <vxsave/area.h>
#include <vxsave/area.h>
#include <vxsave/cpu_hw.h>
#include <vxsave/cpu.h>
#include <vxsave/cpu_cet.h>
#include <vxsave/fpu.h>
#include <vxsave/fpu.h>
#include <vxsave/fpu_task.h>
#include <vxsave/fpu_task.h>
#include <vxsave/fpu_signal.h>
#include <vxsave/fpu_signal.h>
#include <vxsave/kvm.h>
#include <vxsave/kvm.h>
#include <vxsave/kvm_regs.h>
#include <vxsave/kvm_regs.h>
#include <vxsave/kvm_run.h>
#include <vxsave/kvm_run.h>
#include <vxsave/kvm_emulate.h>
#include <vxsave/kvm_emulate.h>
#include <vxsave/kvm_ioctl.h>
#include <vxsave/kvm_ioctl.h>
#include <vxsave/vmm.h>
#include <vxsave/vmm.h>
#include <vxsave/vmm_compat.h>
#include <vxsave/vmm_compat.h>
#include <vxsave/eval.h>
#include <vxsave/eval.h>
#include <vxsave/eval_cost.h>
#include <vxsave/eval_cost.h>
#include <vxsave/vxsave.h>
#include <vxsave/vxsave.h>
/* NOLINTEND(readability-duplicate-include) */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
/* clang-format on */

static void test_version_matches_library(void **state)
{
	(void)state;
	assert_string_equal(vx_version(), VX_VERSION_STRING);
	assert_true(VX_VERSION_CHECK(0, 0, 1));
	assert_false(VX_VERSION_CHECK(VX_VERSION_MAJOR + 1, 0, 0));
}

static void test_error_record_defaults(void **state)
{
	struct vx_error err = VX_ERROR_INIT;

	(void)state;
	assert_int_equal(err.component, -1);
	assert_int_equal(err.offset, -1);
	assert_int_equal(vx_error_set(&err, -22, "arch.md §3.1", "bad %s", "mask"), -22);
	assert_string_equal(err.reason, "bad mask");
	assert_string_equal(vx_errno_name(-22), "EINVAL");
	vx_error_clear(&err);
	assert_int_equal(err.code, 0);
	assert_int_equal(err.component, -1);
	/* NULL error records are allowed everywhere. */
	assert_int_equal(vx_error_set(NULL, -7, NULL, "x"), -7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version_matches_library),
	    cmocka_unit_test(test_error_record_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
