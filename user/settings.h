/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The datapath's run-time settings: timeout names, verdict rules, their text forms. */
#ifndef FT_SETTINGS_H
#define FT_SETTINGS_H

#include <stddef.h>
#include <linux/types.h>
#include "flowtier/abi.h"

/* "tcp" "established" -> FT_TO_TCP_ESTABLISHED; -1 when there is no such pair. */
int ft_timeout_class_of(const char *proto, const char *state);
const char *ft_timeout_proto(int class);
const char *ft_timeout_state(int class);
/* Every valid pair, for error messages. */
extern const char ft_timeout_pairs[];

/* "198.18.0.0/15", "2001:db8::/32" or a single address; -EINVAL when malformed. */
int ft_prefix_parse(const char *s, struct ft_rule *r, int dst);
void ft_prefix_format(const struct ft_rule *r, int dst, char *buf, size_t len);
int ft_proto_parse(const char *s, __u8 *proto);
int ft_verdict_parse(const char *s, __u8 *verdict);
/*
 * A whole number from min to max, or -EINVAL after "bad value 'S' for
 * WHAT: expected a whole number from MIN to MAX". WHAT names the flag or
 * the argument.
 */
int ft_parse_uint(const char *what, const char *s, __u64 min, __u64 max, __u64 *out);
/* A decimal number, fractions allowed, from min to max; else says so and -EINVAL. */
int ft_parse_real(const char *what, const char *s, double min, double max, double *out);
/* The same for seconds (the message says so), and into milliseconds. */
int ft_parse_secs(const char *what, const char *s, double min, double max, double *out);
int ft_parse_ms(const char *what, const char *s, double min, double max, __u64 *ms);
/* on (1) or off (0); else says so and -EINVAL. */
int ft_parse_onoff(const char *what, const char *s, int *out);

/* "80" or "8000-8080" */
int ft_ports_parse(const char *s, __u16 *lo, __u16 *hi);

/*
 * Replaces the rule list: the rules first, then the count with a new
 * generation, so that connections match again on their next packet.
 */
int ft_rules_store(int rules_fd, int config_fd, const struct ft_rule *rules, __u32 n);
/* The current rules; *n is their count. */
int ft_rules_load(int rules_fd, int config_fd, struct ft_rule *rules, __u32 *n);

#endif
