// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include "log.h"

static enum ft_log_level ft_level = FT_LOG_INFO;

static const char *const ft_level_names[] = {
	[FT_LOG_ERROR] = "error",
	[FT_LOG_WARN] = "warning",
	[FT_LOG_INFO] = "info",
	[FT_LOG_DEBUG] = "debug",
};

void ft_log_set_level(enum ft_log_level level)
{
	ft_level = level;
}

static void ft_vlog(enum ft_log_level level, const char *fmt, va_list ap)
{
	if (level > ft_level)
		return;
	fprintf(stderr, "flowtier: %s: ", ft_level_names[level]);
	vfprintf(stderr, fmt, ap);
}

void ft_log_v(enum ft_log_level level, const char *fmt, va_list ap)
{
	ft_vlog(level, fmt, ap);
}

void ft_log(enum ft_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ft_vlog(level, fmt, ap);
	va_end(ap);
}

static int ft_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static const enum ft_log_level map[] = {
		[LIBBPF_WARN] = FT_LOG_INFO,
		[LIBBPF_INFO] = FT_LOG_DEBUG,
		[LIBBPF_DEBUG] = FT_LOG_DEBUG + 1,
	};
	enum ft_log_level l = level <= LIBBPF_DEBUG ? map[level] : FT_LOG_DEBUG + 1;

	if (l > ft_level)
		return 0;
	fprintf(stderr, "flowtier: ");
	return vfprintf(stderr, fmt, ap);
}

void ft_log_route_libbpf(void)
{
	libbpf_set_print(ft_libbpf_print);
}
