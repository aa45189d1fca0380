// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: a --config file (ft_config_expand). What it returns
 * must be long options the command knows, each "--name" or "--name=value",
 * followed by the command line's own arguments.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static const struct option ft_fuzz_opts[] = {
	{ "conns", required_argument, NULL, 'c' },     { "pin-dir", required_argument, NULL, 'p' },
	{ "interface", required_argument, NULL, 'i' }, { "force", no_argument, NULL, 'f' },
	{ "config", required_argument, NULL, 'C' },    { 0 },
};

static char ft_fuzz_path[64];

static int ft_fuzz_known(const char *arg)
{
	size_t n = strcspn(arg + 2, "=");

	if (strncmp(arg, "--", 2))
		return 0;
	for (const struct option *o = ft_fuzz_opts; o->name; o++) {
		if (strlen(o->name) == n && !strncmp(o->name, arg + 2, n))
			return o->has_arg == no_argument ? !arg[2 + n] : arg[2 + n] == '=';
	}
	return 0;
}

/* The file is root's and 0600, as ft_config_expand demands; each input rewrites it. */
static int ft_fuzz_write(const uint8_t *data, size_t size)
{
	int fd;

	if (!ft_fuzz_path[0])
		snprintf(ft_fuzz_path, sizeof(ft_fuzz_path), "/tmp/ft-fuzz-config-%d", getpid());
	fd = open(ft_fuzz_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	return close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[] = { "flowtier", "--config", ft_fuzz_path, "--conns", "1024", NULL };
	char **nargv;
	int nargc;

	if (ft_fuzz_write(data, size) || ft_config_expand(5, argv, ft_fuzz_opts, &nargc, &nargv))
		return 0;
	if (nargc < 3 || strcmp(nargv[0], "flowtier") || strcmp(nargv[nargc - 2], "--conns") ||
	    strcmp(nargv[nargc - 1], "1024"))
		abort();
	for (int i = 1; i < nargc - 2; i++) {
		if (!ft_fuzz_known(nargv[i]) || strchr(nargv[i], '\n'))
			abort();
	}
	ft_config_free(nargc, nargv);
	return 0;
}
