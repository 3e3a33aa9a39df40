/* SPDX-License-Identifier: MIT */
#include "eval_report.h"
#include <errno.h>
int eval_report_write(const struct eval_session *s, const char *dir, char *what, size_t len)
{
	(void)s;
	(void)dir;
	(void)what;
	(void)len;
	return -ENOSYS;
}
