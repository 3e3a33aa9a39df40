/* SPDX-License-Identifier: MIT */
/* The error record (common.h): where a call failed and why. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vxsave/common.h>

#undef vx_error_set /* the analyzer's model of it (common.h); the function is defined here */

void vx_error_clear(struct vx_error *err)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	err->component = -1;
	err->offset = -1;
}

int vx_error_vset(struct vx_error *err, int code, const char *rule, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	err->rule = rule;
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	return code;
}

int vx_error_set(struct vx_error *err, int code, const char *rule, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vx_error_vset(err, code, rule, fmt, ap);
	va_end(ap);
	return code;
}

const char *vx_errno_name(int code)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{0, "OK"},		{-EINVAL, "EINVAL"}, {-ENOBUFS, "ENOBUFS"},
		{-ENOTSUP, "ENOTSUP"},	{-ERANGE, "ERANGE"}, {-ENOMEM, "ENOMEM"},
		{-ENOENT, "ENOENT"},	{-EPERM, "EPERM"},   {-EBUSY, "EBUSY"},
		{-EFAULT, "EFAULT"},	{-E2BIG, "E2BIG"},   {-EIO, "EIO"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return "E?";
}
