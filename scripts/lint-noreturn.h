/* SPDX-License-Identifier: MIT */
/*
 * Included first in every file clang-tidy reads (scripts/lint.sh, issue 11): cmocka's failure
 * and skip functions longjmp out of the test and never return, which <cmocka.h> does not
 * declare; without this the static analyzer follows fail_msg()/skip() into the code after
 * them.  Redeclaring them with the attribute is compatible with cmocka's declarations.
 */
#ifndef VXSAVE_LINT_NORETURN_H
#define VXSAVE_LINT_NORETURN_H

void _fail(const char *const file, const int line) __attribute__((noreturn));
void _skip(const char *const file, const int line) __attribute__((noreturn));

#endif
