// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* flowtier timeout | zone | rule: the datapath's settings, changed and shown at run time. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "cmd_settings.h"
#include "ct.h"
#include "log.h"
#include "pinned.h"
#include "settings.h"

#define FT_EXIT_USAGE 2

/* Options every settings command takes, and the words left after them. */
struct ft_set_opts {
	const char *pin_dir;
	int json;
	struct ft_rule rule; /* rule add only */
	const char *dev;
	int have_verdict;
	char **args;
	int nargs;
};

static int ft_usage_error(const char *fmt, const char *what, const char *fix)
{
	fprintf(stderr, "flowtier: error: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "%s%s\n", fix ? ": " : "", fix ? fix : "");
	return FT_EXIT_USAGE;
}

static int ft_rule_opt(struct ft_set_opts *o, int opt, const char *arg)
{
	__u8 family;

	switch (opt) {
	case 'f':
		if (strcmp(arg, "4") && strcmp(arg, "6"))
			return ft_usage_error("bad value '%s' for --family", arg,
					      "expected 4 or 6");
		family = arg[0] == '4' ? FT_FAMILY_IPV4 : FT_FAMILY_IPV6;
		/* A prefix given before it has set the family already: order must not matter. */
		if (o->rule.family && o->rule.family != family)
			return ft_usage_error(
				"--family %s contradicts the rule's prefixes", arg,
				"give prefixes of that family, or leave --family out");
		o->rule.family = family;
		return 0;
	case 'P':
		if (ft_proto_parse(arg, &o->rule.proto))
			return ft_usage_error("bad value '%s' for --proto", arg,
					      "expected tcp, udp, icmp, icmpv6, sctp or 1 to 255");
		return 0;
	case 's':
	case 'd':
		if (ft_prefix_parse(arg, &o->rule, opt == 'd'))
			return ft_usage_error("bad prefix '%s'", arg,
					      "expected ADDRESS[/LENGTH] of the rule's family");
		return 0;
	case 'o':
		if (ft_ports_parse(arg, &o->rule.dport_lo, &o->rule.dport_hi))
			return ft_usage_error("bad value '%s' for --dport", arg,
					      "expected PORT or FIRST-LAST, 0 to 65535");
		return 0;
	case 'v':
		if (ft_verdict_parse(arg, &o->rule.verdict))
			return ft_usage_error("bad value '%s' for --verdict", arg,
					      "expected pass, drop or redirect");
		o->have_verdict = 1;
		return 0;
	case 'D':
		o->dev = arg;
		return 0;
	}
	return FT_EXIT_USAGE;
}

static int ft_set_parse(int argc, char **argv, struct ft_set_opts *o)
{
	static const struct option longopts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "family", required_argument, NULL, 'f' },
		{ "proto", required_argument, NULL, 'P' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "dport", required_argument, NULL, 'o' },
		{ "verdict", required_argument, NULL, 'v' },
		{ "dev", required_argument, NULL, 'D' },
		{ 0 },
	};
	int opt, err;

	memset(o, 0, sizeof(*o));
	o->pin_dir = FT_PIN_DIR;
	o->rule.dport_hi = 65535;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'p')
			o->pin_dir = optarg;
		else if (opt == 'j')
			o->json = 1;
		else if (opt == '?')
			return FT_EXIT_USAGE;
		else if ((err = ft_rule_opt(o, opt, optarg)))
			return err;
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	return 0;
}

/* flowtier timeout list | set PROTO STATE SECONDS */

static void ft_timeouts_print(const struct ft_timeouts *to, int json)
{
	printf(json ? "[" : "%-6s %-12s %8s\n", "proto", "state", "seconds");
	for (int c = 0; c < FT_TO_MAX; c++) {
		if (json)
			printf("%s{\"proto\":\"%s\",\"state\":\"%s\",\"seconds\":%u}", c ? "," : "",
			       ft_timeout_proto(c), ft_timeout_state(c), to->secs[c]);
		else
			printf("%-6s %-12s %8u\n", ft_timeout_proto(c), ft_timeout_state(c),
			       to->secs[c]);
	}
	if (json)
		printf("]\n");
}

int do_timeout(int argc, char **argv)
{
	struct ft_timeouts to;
	struct ft_set_opts o;
	int class, lock, err = ft_set_parse(argc, argv, &o);
	__u64 secs;

	if (err)
		return err;
	if (o.nargs == 1 && !strcmp(o.args[0], "list")) {
		if (ft_pinned_read(o.pin_dir, FT_MAP_TIMEOUTS, 0, &to))
			return 1;
		ft_timeouts_print(&to, o.json);
		return 0;
	}
	if (o.nargs != 4 || strcmp(o.args[0], "set"))
		return ft_usage_error(
			"%s", "usage: flowtier timeout list | set PROTO STATE SECONDS", NULL);
	class = ft_timeout_class_of(o.args[1], o.args[2]);
	if (class < 0) {
		fprintf(stderr, "flowtier: error: no timeout '%s %s': expected one of %s\n",
			o.args[1], o.args[2], ft_timeout_pairs);
		return FT_EXIT_USAGE;
	}
	if (ft_parse_uint("SECONDS", o.args[3], FT_MIN_TIMEOUT_SECS, FT_MAX_TIMEOUT_SECS, &secs))
		return FT_EXIT_USAGE;
	lock = ft_pinned_lock(o.pin_dir, FT_MAP_TIMEOUTS);
	if (lock < 0)
		return 1;
	err = ft_pinned_read(o.pin_dir, FT_MAP_TIMEOUTS, 0, &to);
	if (!err) {
		to.secs[class] = secs;
		err = ft_pinned_write(o.pin_dir, FT_MAP_TIMEOUTS, 0, &to);
	}
	close(lock);
	return err ? 1 : 0;
}

/* flowtier zone list | set-limit ZONE N */

static void ft_zones_print(const struct ft_zone *zones, int json)
{
	int first = 1;

	printf(json ? "[" : "%6s %12s %12s %12s\n", "zone", "connections", "limit", "refused");
	for (__u32 z = 0; z < FT_MAX_ZONES; z++) {
		__u64 count = __atomic_load_n(&zones[z].count, __ATOMIC_RELAXED);
		__u64 refused = __atomic_load_n(&zones[z].refused, __ATOMIC_RELAXED);
		__u32 limit = __atomic_load_n(&zones[z].limit, __ATOMIC_RELAXED);

		if (!count && !refused && !limit)
			continue;
		if (json)
			printf("%s{\"zone\":%u,\"connections\":%llu,\"limit\":%u,\"refused\":%llu}",
			       first ? "" : ",", z, (unsigned long long)count, limit,
			       (unsigned long long)refused);
		else
			printf("%6u %12llu %12u %12llu\n", z, (unsigned long long)count, limit,
			       (unsigned long long)refused);
		first = 0;
	}
	if (json)
		printf("]\n");
}

int do_zone(int argc, char **argv)
{
	size_t len = (size_t)FT_MAX_ZONES * sizeof(struct ft_zone);
	struct ft_zone *zones;
	struct ft_set_opts o;
	int err = ft_set_parse(argc, argv, &o), list;
	__u64 zone = 0, limit = 0;

	if (err)
		return err;
	list = o.nargs == 1 && !strcmp(o.args[0], "list");
	if (!list && (o.nargs != 3 || strcmp(o.args[0], "set-limit")))
		return ft_usage_error("%s", "usage: flowtier zone list | set-limit ZONE LIMIT",
				      "a limit of 0 removes it");
	if (!list && (ft_parse_uint("ZONE", o.args[1], 0, FT_MAX_ZONES - 1, &zone) ||
		      ft_parse_uint("LIMIT", o.args[2], 0, 0xffffffffu, &limit)))
		return FT_EXIT_USAGE;
	zones = ft_pinned_mmap(o.pin_dir, FT_MAP_ZONES, len);
	if (!zones)
		return 1;
	/* Only the limit is written: the count belongs to the datapath's atomics. */
	if (list)
		ft_zones_print(zones, o.json);
	else
		__atomic_store_n(&zones[zone].limit, limit, __ATOMIC_RELAXED);
	munmap(zones, len);
	return 0;
}

/* flowtier rule list | add OPTIONS | del INDEX */

static void ft_rule_print(const struct ft_rule *r, __u32 i, int json)
{
	char src[64], dst[64], num[8], dev[IF_NAMESIZE] = "";
	const char *proto = r->proto ? ft_proto_name(r->proto, num, sizeof(num)) : "any";

	ft_prefix_format(r, 0, src, sizeof(src));
	ft_prefix_format(r, 1, dst, sizeof(dst));
	if (r->verdict == FT_VERDICT_REDIRECT && !if_indextoname(r->redirect_ifindex, dev))
		snprintf(dev, sizeof(dev), "ifindex%u", r->redirect_ifindex);
	if (json)
		printf("%s{\"index\":%u,\"family\":%u,\"proto\":\"%s\",\"src\":\"%s\",\"dst\":\"%"
		       "s\","
		       "\"dport\":\"%u-%u\",\"verdict\":\"%s\",\"dev\":\"%s\"}",
		       i ? "," : "", i, r->family, proto, src, dst, r->dport_lo, r->dport_hi,
		       ft_verdict_name(r->verdict), dev);
	else
		printf("%5u %6s %-8s %-24s %-24s %5u-%-5u %-8s %s\n", i,
		       r->family ? (r->family == FT_FAMILY_IPV4 ? "ipv4" : "ipv6") : "any", proto,
		       src, dst, r->dport_lo, r->dport_hi, ft_verdict_name(r->verdict), dev);
}

struct ft_rules_fds {
	int rules;
	int config;
	int tx_ports;
};

static int ft_rules_open(const char *dir, struct ft_rules_fds *fds)
{
	fds->rules = ft_pinned_fd(dir, FT_MAP_RULES);
	fds->config = fds->rules < 0 ? -1 : ft_pinned_fd(dir, FT_MAP_CONFIG);
	fds->tx_ports = fds->config < 0 ? -1 : ft_pinned_fd(dir, FT_MAP_TX_PORTS);
	return fds->tx_ports < 0 ? -1 : 0;
}

static void ft_rules_close(struct ft_rules_fds *fds)
{
	if (fds->rules >= 0)
		close(fds->rules);
	if (fds->config >= 0)
		close(fds->config);
	if (fds->tx_ports >= 0)
		close(fds->tx_ports);
}

/* Checks an added rule; a redirect's device also becomes an XDP redirect target. */
static int ft_rule_complete(struct ft_set_opts *o, const struct ft_rules_fds *fds)
{
	__u32 ifindex;

	if (!o->have_verdict)
		return ft_usage_error("%s", "rule add needs --verdict pass|drop|redirect", NULL);
	if ((o->rule.verdict == FT_VERDICT_REDIRECT) != !!o->dev)
		return ft_usage_error(
			"%s", "--dev IFACE goes with --verdict redirect, and only there", NULL);
	if (!o->dev)
		return 0;
	ifindex = if_nametoindex(o->dev);
	if (!ifindex)
		return ft_usage_error("no interface '%s'", o->dev, "see 'ip link'");
	o->rule.redirect_ifindex = ifindex;
	if (bpf_map_update_elem(fds->tx_ports, &ifindex, &ifindex, BPF_ANY)) {
		fprintf(stderr, "flowtier: error: cannot redirect to '%s': %s\n", o->dev,
			strerror(errno));
		return 1;
	}
	return 0;
}

static int ft_rule_change(struct ft_set_opts *o, struct ft_rules_fds *fds)
{
	static struct ft_rule rules[FT_MAX_RULES];
	__u64 del;
	__u32 n;
	int err;

	if (ft_rules_load(fds->rules, fds->config, rules, &n))
		return 1;
	if (!strcmp(o->args[0], "add")) {
		if (o->nargs != 1)
			return ft_usage_error("unexpected '%s' after 'rule add'", o->args[1], NULL);
		if (n == FT_MAX_RULES)
			return ft_usage_error("%s", "the rule list is full",
					      "remove one with 'flowtier rule del INDEX'");
		if ((err = ft_rule_complete(o, fds)))
			return err;
		rules[n++] = o->rule;
	} else {
		if (o->nargs != 2)
			return ft_usage_error("%s", "usage: flowtier rule del INDEX", NULL);
		if (!n)
			return ft_usage_error("%s", "there are no rules to delete", NULL);
		if (ft_parse_uint("INDEX", o->args[1], 0, n - 1, &del))
			return FT_EXIT_USAGE;
		memmove(&rules[del], &rules[del + 1], (n - del - 1) * sizeof(rules[0]));
		n--;
	}
	err = ft_rules_store(fds->rules, fds->config, rules, n);
	if (err)
		fprintf(stderr, "flowtier: error: cannot store the rules: %s\n", strerror(-err));
	return err ? 1 : 0;
}

/* Two commands changing the rules at once would each store its own copy: one at a time. */
static int ft_rule_change_locked(struct ft_set_opts *o, struct ft_rules_fds *fds)
{
	int lock = ft_pinned_lock(o->pin_dir, FT_MAP_RULES), err;

	if (lock < 0)
		return 1;
	err = ft_rule_change(o, fds);
	close(lock);
	return err;
}

int do_rule(int argc, char **argv)
{
	static struct ft_rule rules[FT_MAX_RULES];
	struct ft_rules_fds fds;
	struct ft_set_opts o;
	int err = ft_set_parse(argc, argv, &o);
	__u32 n;

	if (err)
		return err;
	if (!o.nargs ||
	    (strcmp(o.args[0], "list") && strcmp(o.args[0], "add") && strcmp(o.args[0], "del")))
		return ft_usage_error("%s",
				      "usage: flowtier rule list | del INDEX | add --verdict "
				      "pass|drop|redirect [--dev IFACE] [--family 4|6] [--proto P] "
				      "[--src PREFIX] [--dst PREFIX] [--dport PORT[-PORT]]",
				      NULL);
	if (ft_rules_open(o.pin_dir, &fds)) {
		ft_rules_close(&fds);
		return 1;
	}
	if (!strcmp(o.args[0], "list")) {
		err = ft_rules_load(fds.rules, fds.config, rules, &n) ? 1 : 0;
		if (!err && o.json)
			printf("[");
		else if (!err)
			printf("%5s %6s %-8s %-24s %-24s %11s %-8s %s\n", "index", "family",
			       "proto", "src", "dst", "dport", "verdict", "dev");
		for (__u32 i = 0; !err && i < n; i++)
			ft_rule_print(&rules[i], i, o.json);
		if (!err && o.json)
			printf("]\n");
	} else {
		err = ft_rule_change_locked(&o, &fds);
	}
	ft_rules_close(&fds);
	return err;
}
