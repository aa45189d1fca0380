/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef BENCH_MACHINE_H
#define BENCH_MACHINE_H

/* "Machine: <CPU model>, <n> CPUs online, kernel <release>; <how>." */
void bench_print_machine(const char *how);

#endif
