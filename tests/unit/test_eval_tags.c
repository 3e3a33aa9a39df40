/* SPDX-License-Identifier: MIT */
/*
 * The evaluation's value tags (src/eval/check.c, docs/eval.md "Integrity"): every host task
 * writes host lanes, every guest writes guest tags, and the leak checks scan register images,
 * fpstates, signal frames and regsets for a guest tag at every 4-byte offset.  A host value -
 * or two host registers side by side in an image - must never scan as a guest tag, or a run
 * would stop on a violation that did not happen; a guest tag anywhere must be found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eval/eval_internal.h"

#define MAX_WIDTH 64u

/* Two registers of one entity back to back, as XSAVE's standard format lays out XMM0, XMM1. */
static size_t pair(uint8_t *buf, unsigned entity, unsigned slot, uint32_t seq_a, uint32_t seq_b,
		   size_t width)
{
	ev_host_value(entity, slot, seq_a, buf, width);
	ev_host_value(entity, slot + 1, seq_b, buf + width, width);
	return 2 * width;
}

/* Every sequence number whose middle bytes could spell the guest marker (0x7E), and others:
 * the scan straddles the end of one register and the start of the next. */
static void test_host_values_are_never_guest_tags(void **state)
{
	static const size_t widths[] = {8, 16, 32, 64};
	static const uint32_t bases[] = {0x7E00, 0x7E0000, 0x1, 0x7E7E7E, 0xFFFF00};
	uint8_t buf[2 * MAX_WIDTH];
	uint64_t tag = 0;
	unsigned checked = 0;

	(void)state;
	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
		for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
			for (uint32_t d = 0; d < 0x100; d++)
				for (unsigned slot = 0; slot < 4; slot++) {
					uint32_t seq = (bases[b] + d) & 0xFFFFFF;
					size_t len = pair(buf, 5, slot, seq ? seq : 1,
							  seq ? seq : 1, widths[w]);

					assert_int_equal(ev_find_guest_tag(buf, len, &tag), -1);
					checked++;
				}
	print_message("%u pairs of host registers scanned: no guest tag\n", checked);
}

/* A guest value among host ones is found where it is, with its owner. */
static void test_guest_tag_found(void **state)
{
	uint8_t buf[3 * 16];
	uint64_t tag = 0, want = ev_guest_tag(2, EV_CODE_PL0 + 1, 0x7E00);
	unsigned vcpu = 0, code = 0;
	uint32_t seq = 0;

	(void)state;
	ev_host_value(7, 0, 0x7E00, buf, 16);
	ev_guest_value(2, EV_CODE_PL0 + 1, 0x7E00, buf + 16, 16);
	ev_host_value(7, 1, 0x7E01, buf + 32, 16);
	assert_int_equal(ev_find_guest_tag(buf, sizeof(buf), &tag), 16);
	assert_int_equal(tag, want);
	assert_true(ev_tag_decode(tag, &vcpu, &code, &seq));
	assert_int_equal(vcpu, 2);
	assert_int_equal(code, EV_CODE_PL0 + 1);
	assert_int_equal(seq, 0x7E00);
	/* At a 4-byte offset inside a run of zeros (a frame's padding). */
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 20, &want, 8);
	assert_int_equal(ev_find_guest_tag(buf, sizeof(buf), &tag), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_values_are_never_guest_tags),
	    cmocka_unit_test(test_guest_tag_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
