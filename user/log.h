/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef FT_LOG_H
#define FT_LOG_H

#include <stdarg.h>

enum ft_log_level {
	FT_LOG_ERROR = 0,
	FT_LOG_WARN,
	FT_LOG_INFO,
	FT_LOG_DEBUG,
};

void ft_log_set_level(enum ft_log_level level);
void ft_log(enum ft_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ft_log_v(enum ft_log_level level, const char *fmt, va_list ap);

/* Routes libbpf's messages into ours, one level quieter. */
void ft_log_route_libbpf(void);

#define pr_err(...)   ft_log(FT_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  ft_log(FT_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  ft_log(FT_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) ft_log(FT_LOG_DEBUG, __VA_ARGS__)

#endif
