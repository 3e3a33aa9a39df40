/* SPDX-License-Identifier: MIT */
/* `vxsave fpu` entry points (cmd_fpu.c), for main.c's command table. */
#ifndef VXSAVE_CLI_CMD_FPU_H
#define VXSAVE_CLI_CMD_FPU_H

#include <stdio.h>

int cli_cmd_fpu(int argc, char **argv);
void cli_usage_fpu(FILE *out);

#endif /* VXSAVE_CLI_CMD_FPU_H */
