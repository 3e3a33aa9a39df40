/* SPDX-License-Identifier: MIT */
/*
 * The architectural MSR table (arch.h, msr_table.c): numbers and names against arch.md §3.2,
 * §3.3 and §7.2 (IA32_PASID: the SDM Vol.4 MSR list), written here by hand; the cpu layer's
 * vx_msr_name() is a view of the same table; the rules report the MSR they are about.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <string.h>

#include <vxsave/arch.h>
#include <vxsave/cpu.h>

static const struct {
	uint32_t msr;
	const char *name;
} spec_msrs[] = {
    {0x1C4, "IA32_XFD"},     /* §3.3 */
    {0x1C5, "IA32_XFD_ERR"}, /* §3.3 */
    {0x6A0, "IA32_U_CET"},   /* §7.2 */
    {0x6A2, "IA32_S_CET"},   /* §7.2 */
    {0x6A4, "IA32_PL0_SSP"}, /* §7.2 */
    {0x6A5, "IA32_PL1_SSP"}, {0x6A6, "IA32_PL2_SSP"},
    {0x6A7, "IA32_PL3_SSP"}, {0x6A8, "IA32_INTERRUPT_SSP_TABLE_ADDR"}, /* §7.2 (ISST) */
    {0xD93, "IA32_PASID"},					       /* SDM Vol.4 */
    {0xDA0, "IA32_XSS"},					       /* §3.2 */
};

#define SPEC_COUNT (sizeof(spec_msrs) / sizeof(spec_msrs[0]))

/* The header's numbers are the spec's. */
static void test_numbers(void **state)
{
	(void)state;
	assert_int_equal(VX_MSR_IA32_XFD, 0x1C4);
	assert_int_equal(VX_MSR_IA32_XFD_ERR, 0x1C5);
	assert_int_equal(VX_MSR_IA32_U_CET, 0x6A0);
	assert_int_equal(VX_MSR_IA32_S_CET, 0x6A2);
	assert_int_equal(VX_MSR_IA32_PL0_SSP, 0x6A4);
	assert_int_equal(VX_MSR_IA32_PL1_SSP, 0x6A5);
	assert_int_equal(VX_MSR_IA32_PL2_SSP, 0x6A6);
	assert_int_equal(VX_MSR_IA32_PL3_SSP, 0x6A7);
	assert_int_equal(VX_MSR_IA32_INT_SSP_TAB, 0x6A8);
	assert_int_equal(VX_MSR_IA32_PASID, 0xD93);
	assert_int_equal(VX_MSR_IA32_XSS, 0xDA0);
}

/* Every MSR of the spec is in the table under its name, with a described, cited purpose. */
static void test_table_against_spec(void **state)
{
	(void)state;
	assert_int_equal(vx_msr_count(), SPEC_COUNT);
	for (size_t i = 0; i < SPEC_COUNT; i++) {
		const struct vx_msr_info *info = vx_msr_info(spec_msrs[i].msr);

		if (!info)
			fail_msg("MSR 0x%x (%s) missing", spec_msrs[i].msr, spec_msrs[i].name);
		assert_int_equal(info->msr, spec_msrs[i].msr);
		assert_string_equal(info->name, spec_msrs[i].name);
		assert_non_null(strstr(info->description, "§"));
		/* The cpu layer names MSRs from the same table. */
		assert_ptr_equal(vx_msr_name(spec_msrs[i].msr), info->name);
	}
	/* Each entry once; vx_msr_at() walks them all and stops. */
	for (unsigned i = 0; i < vx_msr_count(); i++)
		assert_ptr_equal(vx_msr_info(vx_msr_at(i)->msr), vx_msr_at(i));
	assert_null(vx_msr_at(vx_msr_count()));
	/* Neighbours of known MSRs are unknown. */
	assert_null(vx_msr_info(0x6A1));
	assert_null(vx_msr_info(0x6A3));
	assert_null(vx_msr_info(0));
	assert_null(vx_msr_name(0xDA1));
}

/* The XSS and XFD rules name their MSR in the error (arch.md §3.2, §3.3). */
static void test_rules_name_the_msr(void **state)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile p;

	(void)state;
	assert_int_equal(vx_profile_builtin(&p, "sapphire-rapids", NULL), 0);
	/* Bit 2 (AVX) is a user component: reserved in IA32_XSS. */
	assert_int_equal(vx_xss_check(&p, 0x4, &err), -EINVAL);
	assert_int_equal(err.msr, 0xDA0);
	vx_error_clear(&err);
	/* Bit 17 (TILECFG) is not XFD-capable on SPR (only 18 is, §1.4). */
	assert_int_equal(vx_xfd_check(&p, VX_BIT(17), &err), -EINVAL);
	assert_int_equal(err.msr, 0x1C4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_table_against_spec),
	    cmocka_unit_test(test_rules_name_the_msr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
