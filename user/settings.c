// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "ct.h"
#include "log.h"
#include "settings.h"

static const struct {
	const char *proto;
	const char *state;
} ft_timeout_names[FT_TO_MAX] = {
	[FT_TO_TCP_SYN_SENT] = { "tcp", "syn_sent" },
	[FT_TO_TCP_ESTABLISHED] = { "tcp", "established" },
	[FT_TO_TCP_CLOSING] = { "tcp", "closing" },
	[FT_TO_TCP_CLOSED] = { "tcp", "closed" },
	[FT_TO_UDP_NEW] = { "udp", "new" },
	[FT_TO_UDP_ESTABLISHED] = { "udp", "established" },
	[FT_TO_ICMP_NEW] = { "icmp", "new" },
	[FT_TO_ICMP_ESTABLISHED] = { "icmp", "established" },
	[FT_TO_OTHER_NEW] = { "other", "new" },
	[FT_TO_OTHER_ESTABLISHED] = { "other", "established" },
};

const char ft_timeout_pairs[] = "tcp syn_sent|established|closing|closed, "
				"udp new|established, icmp new|established, "
				"other new|established";

int ft_timeout_class_of(const char *proto, const char *state)
{
	for (int c = 0; c < FT_TO_MAX; c++) {
		if (!strcmp(proto, ft_timeout_names[c].proto) &&
		    !strcmp(state, ft_timeout_names[c].state))
			return c;
	}
	return -1;
}

const char *ft_timeout_proto(int class)
{
	return class >= 0 && class < FT_TO_MAX ? ft_timeout_names[class].proto : "?";
}

const char *ft_timeout_state(int class)
{
	return class >= 0 && class < FT_TO_MAX ? ft_timeout_names[class].state : "?";
}

int ft_parse_uint(const char *what, const char *s, __u64 min, __u64 max, __u64 *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		pr_err("bad value '%s' for %s: expected a whole number from %llu to %llu\n", s,
		       what, (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int ft_parse_onoff(const char *what, const char *s, int *out)
{
	if (strcmp(s, "on") && strcmp(s, "off")) {
		pr_err("bad value '%s' for %s: expected on or off\n", s, what);
		return -EINVAL;
	}
	*out = !strcmp(s, "on");
	return 0;
}

static int ft_parse_double(const char *what, const char *s, double min, double max,
			   const char *unit, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* Decimal only, as ft_parse_uint: strtod alone takes 0x10, inf and 1e3 as well. */
	if (errno || end == s || *end || strspn(s, "0123456789.") != strlen(s) ||
	    !(v >= min && v <= max)) {
		pr_err("bad value '%s' for %s: expected %s from %g to %g\n", s, what, unit, min,
		       max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int ft_parse_real(const char *what, const char *s, double min, double max, double *out)
{
	return ft_parse_double(what, s, min, max, "a number", out);
}

int ft_parse_secs(const char *what, const char *s, double min, double max, double *out)
{
	return ft_parse_double(what, s, min, max, "seconds", out);
}

int ft_parse_ms(const char *what, const char *s, double min, double max, __u64 *ms)
{
	double v;

	if (ft_parse_secs(what, s, min, max, &v))
		return -EINVAL;
	*ms = (__u64)(v * 1000 + 0.5);
	return 0;
}

int ft_prefix_parse(const char *s, struct ft_rule *r, int dst)
{
	char addr[INET6_ADDRSTRLEN + 8], *slash, *end;
	__u8 *out = dst ? r->dst : r->src;
	int family, max;
	long len;

	if (snprintf(addr, sizeof(addr), "%s", s) >= (int)sizeof(addr))
		return -EINVAL;
	slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	memset(out, 0, 16);
	if (inet_pton(AF_INET, addr, out) == 1)
		family = FT_FAMILY_IPV4, max = 32;
	else if (inet_pton(AF_INET6, addr, out) == 1)
		family = FT_FAMILY_IPV6, max = 128;
	else
		return -EINVAL;
	len = max;
	if (slash) {
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len < 0 || len > max)
			return -EINVAL;
	}
	if (r->family && r->family != family)
		return -EINVAL;
	r->family = family;
	if (dst)
		r->dst_len = len;
	else
		r->src_len = len;
	return 0;
}

void ft_prefix_format(const struct ft_rule *r, int dst, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int plen = dst ? r->dst_len : r->src_len;

	if (!plen) {
		snprintf(buf, len, "any");
		return;
	}
	if (!inet_ntop(r->family == FT_FAMILY_IPV6 ? AF_INET6 : AF_INET, dst ? r->dst : r->src, a,
		       sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%d", a, plen);
}

int ft_proto_parse(const char *s, __u8 *proto)
{
	char buf[8], *end;
	unsigned long v;

	for (int p = 1; p < 256; p++) {
		const char *name = ft_proto_name(p, buf, sizeof(buf));

		/* Only the names; numbers are parsed below. */
		if (name != buf && !strcmp(s, name)) {
			*proto = p;
			return 0;
		}
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 255)
		return -EINVAL;
	*proto = v;
	return 0;
}

int ft_verdict_parse(const char *s, __u8 *verdict)
{
	for (int v = 0; v < FT_VERDICT_MAX; v++) {
		if (!strcmp(s, ft_verdict_name(v))) {
			*verdict = v;
			return 0;
		}
	}
	return -EINVAL;
}

static int ft_port_parse(const char *s, char **end, __u16 *port)
{
	unsigned long v;

	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || *end == s || v > 65535 || s[0] == '-')
		return -EINVAL;
	*port = v;
	return 0;
}

int ft_ports_parse(const char *s, __u16 *lo, __u16 *hi)
{
	char *end;

	if (ft_port_parse(s, &end, lo))
		return -EINVAL;
	if (*end == '\0') {
		*hi = *lo;
		return 0;
	}
	if (*end != '-' || ft_port_parse(end + 1, &end, hi) || *end || *hi < *lo)
		return -EINVAL;
	return 0;
}

int ft_rules_store(int rules_fd, int config_fd, const struct ft_rule *rules, __u32 n)
{
	struct ft_config cfg;
	__u32 zero = 0;

	if (n > FT_MAX_RULES)
		return -E2BIG;
	for (__u32 i = 0; i < n; i++) {
		if (bpf_map_update_elem(rules_fd, &i, &rules[i], BPF_ANY))
			return -errno;
	}
	if (bpf_map_lookup_elem(config_fd, &zero, &cfg))
		return -errno;
	cfg.rule_count = n;
	cfg.rule_gen++;
	return bpf_map_update_elem(config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

int ft_rules_load(int rules_fd, int config_fd, struct ft_rule *rules, __u32 *n)
{
	struct ft_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(config_fd, &zero, &cfg))
		return -errno;
	*n = cfg.rule_count < FT_MAX_RULES ? cfg.rule_count : FT_MAX_RULES;
	for (__u32 i = 0; i < *n; i++) {
		if (bpf_map_lookup_elem(rules_fd, &i, &rules[i]))
			return -errno;
	}
	return 0;
}
