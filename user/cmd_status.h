/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef FT_CMD_STATUS_H
#define FT_CMD_STATUS_H

#include <stdio.h>
#include "attach.h"

/* A JSON string: quotes, backslashes and control characters escaped. */
void ft_json_str(FILE *out, const char *s);

/* The attached interfaces, one line each or JSON objects (without the brackets). */
void ft_status_ifaces(FILE *out, const struct ft_attached *l, int n, int json);

/* flowtier status: the controller's answer, or what the pins say when none runs. */
int do_status(int argc, char **argv);

#endif
