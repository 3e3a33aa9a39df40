/* SPDX-License-Identifier: MIT */
/* `vxsave xsave` entry points (cmd_xsave.c), for main.c's command table. */
#ifndef VXSAVE_CLI_CMD_XSAVE_H
#define VXSAVE_CLI_CMD_XSAVE_H

#include <stdio.h>

int cli_cmd_xsave(int argc, char **argv);
void cli_usage_xsave(FILE *out);

#endif /* VXSAVE_CLI_CMD_XSAVE_H */
