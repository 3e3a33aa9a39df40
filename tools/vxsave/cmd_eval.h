/* SPDX-License-Identifier: MIT */
/*
 * `vxsave eval`: the CET_S designs side by side on workloads - tables, the verdict on the
 * seeds' two claims, JSON and an HTML/SVG report (issue 9; cmd_eval.c, eval_json.c,
 * eval_report.c).
 */
#ifndef VXSAVE_CLI_CMD_EVAL_H
#define VXSAVE_CLI_CMD_EVAL_H

#include <stdio.h>

int cli_cmd_eval(int argc, char **argv);
void cli_usage_eval(FILE *out);

#endif /* VXSAVE_CLI_CMD_EVAL_H */
