/* SPDX-License-Identifier: MIT */
/* `vxsave cpu` entry points (cmd_cpu.c), for main.c's command table. */
#ifndef VXSAVE_CLI_CMD_CPU_H
#define VXSAVE_CLI_CMD_CPU_H

#include <stddef.h>
#include <stdio.h>

#include <vxsave/cpu.h>

int cli_cmd_cpu(int argc, char **argv);
void cli_usage_cpu(FILE *out);
/** The whole script file ('-' = stdin); NULL after printing why (also for `vxsave fpu`). */
char *cli_read_script(const char *path, size_t *length);
/** "NAME:LINE: reason" on stderr. */
void cli_report_script_error(const char *name, const struct vx_error *err);

#endif /* VXSAVE_CLI_CMD_CPU_H */
