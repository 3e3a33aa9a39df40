/* SPDX-License-Identifier: MIT */
/* `vxsave cpu` entry points (cmd_cpu.c), for main.c's command table. */
#ifndef VXSAVE_CLI_CMD_CPU_H
#define VXSAVE_CLI_CMD_CPU_H

#include <stdio.h>

int cli_cmd_cpu(int argc, char **argv);
void cli_usage_cpu(FILE *out);

#endif /* VXSAVE_CLI_CMD_CPU_H */
