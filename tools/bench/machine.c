// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What the benchmarks ran on, printed next to their figures. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "machine.h"

void bench_print_machine(const char *how)
{
	char line[256], model[256] = "unknown CPU";
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && v) {
			snprintf(model, sizeof(model), "%s", v + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	if (uname(&u))
		strcpy(u.release, "unknown");
	printf("Machine: %s, %ld CPUs online, kernel %s; %s.\n", model,
	       sysconf(_SC_NPROCESSORS_ONLN), u.release, how);
}
