// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "log.h"

#define FT_CONFIG_MAX_ARGS 256

static char *ft_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static const struct option *ft_config_find(const struct option *opts, const char *key)
{
	for (; opts->name; opts++) {
		if (!strcmp(opts->name, key) && strcmp(key, "config"))
			return opts;
	}
	return NULL;
}

/* The config holds settings for root's daemon: nobody else may have changed it. */
static int ft_config_check_owner(FILE *f, const char *path)
{
	struct stat st;

	if (fstat(fileno(f), &st))
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		/* A folder opens, and would read as a config that sets nothing. */
		pr_err("%s: not a regular file; give --config a config file\n", path);
		return -EINVAL;
	}
	if (st.st_uid != 0 || (st.st_mode & 022)) {
		pr_err("%s: may be changed by someone other than root; run 'chown root %s; chmod "
		       "600 "
		       "%s'\n",
		       path, path, path);
		return -EPERM;
	}
	return 0;
}

/* Cuts a comment off: '#' at the start of the line or after a blank, as in shell. */
static void ft_config_uncomment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == '#' && (p == s || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

/* One "key = value" line into "--key=value" (or "--key" for a flag set to yes). */
static int ft_config_line(char *line, const char *path, int lineno, const struct option *opts,
			  char **arg)
{
	char *eq = strchr(line, '='), *key, *val;
	const struct option *o;

	if (!eq) {
		pr_err("%s:%d: expected 'key = value', got '%s'\n", path, lineno, line);
		return -EINVAL;
	}
	*eq = '\0';
	key = ft_trim(line);
	val = ft_trim(eq + 1);
	o = ft_config_find(opts, key);
	if (!o) {
		pr_err("%s:%d: unknown setting '%s' (the settings are the long flags, without "
		       "'--')\n",
		       path, lineno, key);
		return -EINVAL;
	}
	if (o->has_arg == no_argument) {
		if (strcmp(val, "yes") && strcmp(val, "no")) {
			pr_err("%s:%d: '%s' takes yes or no, not '%s'\n", path, lineno, key, val);
			return -EINVAL;
		}
		*arg = NULL;
		if (!strcmp(val, "yes") && asprintf(arg, "--%s", key) < 0)
			return -ENOMEM;
		return 0;
	}
	if (!*val) {
		pr_err("%s:%d: '%s' needs a value\n", path, lineno, key);
		return -EINVAL;
	}
	return asprintf(arg, "--%s=%s", key, val) < 0 ? -ENOMEM : 0;
}

static int ft_config_read(const char *path, const struct option *opts, char **args, int *n)
{
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, err = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		pr_err("cannot read config %s: %s\n", path, strerror(errno));
		return -errno;
	}
	err = ft_config_check_owner(f, path);
	while (!err && getline(&line, &cap, f) > 0) {
		char *s, *arg = NULL;

		lineno++;
		ft_config_uncomment(line);
		s = ft_trim(line);
		if (!*s || *s == '#')
			continue;
		err = ft_config_line(s, path, lineno, opts, &arg);
		if (!err && arg && *n >= FT_CONFIG_MAX_ARGS) {
			pr_err("%s:%d: more than %d settings\n", path, lineno, FT_CONFIG_MAX_ARGS);
			err = -E2BIG;
		}
		if (!err && arg)
			args[(*n)++] = arg;
		else
			free(arg);
	}
	free(line);
	fclose(f);
	return err;
}

int ft_config_expand(int argc, char **argv, const struct option *opts, int *nargc, char ***nargv)
{
	char **out = calloc(argc + FT_CONFIG_MAX_ARGS + 1, sizeof(*out));
	int n = 0, err = 0;

	if (!out)
		return -ENOMEM;
	out[n++] = strdup(argv[0]);
	for (int i = 1; !err && i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			err = ft_config_read(argv[++i], opts, out, &n);
		else if (!strncmp(argv[i], "--config=", 9))
			err = ft_config_read(argv[i] + 9, opts, out, &n);
	}
	/* A trailing --config with no file is left for getopt to report. */
	for (int i = 1; !err && i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			i++;
		else if (strncmp(argv[i], "--config=", 9))
			out[n++] = strdup(argv[i]);
	}
	*nargc = n;
	*nargv = out;
	if (err)
		ft_config_free(n, out);
	return err;
}

void ft_config_free(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}
