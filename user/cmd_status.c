// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_status.h"
#include "ctl.h"
#include "log.h"

#define FT_EXIT_USAGE 2

void ft_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void ft_status_ifaces(FILE *out, const struct ft_attached *l, int n, int json)
{
	for (int i = 0; i < n; i++) {
		const struct ft_iface *r = &l[i].rec;
		const char *name = l[i].other_netns ? "(another netns)"
				   : l[i].name[0]   ? l[i].name
						    : "(gone)";

		if (json) {
			fprintf(out, "%s{\"name\":", i ? "," : "");
			ft_json_str(out, name);
			fprintf(out,
				",\"ifindex\":%u,\"xdp\":\"%s\",\"tc_ingress\":%s,"
				"\"tc_egress\":%s}",
				l[i].ifindex, ft_attached_xdp_mode(r),
				r->flags & FT_IF_TC_INGRESS ? "true" : "false",
				r->flags & FT_IF_TC_EGRESS ? "true" : "false");
		} else {
			fprintf(out, "  %s (ifindex %u): xdp %s, tc ingress %s, tc egress %s\n",
				name, l[i].ifindex, ft_attached_xdp_mode(r),
				r->flags & FT_IF_TC_INGRESS ? "yes" : "no",
				r->flags & FT_IF_TC_EGRESS ? "yes" : "no");
		}
	}
}

struct ft_status_opts {
	const char *socket;
	const char *pin_dir;
	int json;
};

static int ft_status_parse(int argc, char **argv, struct ft_status_opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 'k' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ 0 },
	};
	int opt;

	*o = (struct ft_status_opts){ .socket = FT_CTL_SOCKET, .pin_dir = FT_PIN_DIR };
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			o->json = 1;
			break;
		case 'k':
			o->socket = optarg;
			break;
		case 'p':
			o->pin_dir = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* No controller: what is attached, from the pinned records. */
static int ft_status_pinned(const struct ft_status_opts *o)
{
	struct ft_attached *l = calloc(FT_MAX_IFINDEX, sizeof(*l));
	int n = l ? ft_attach_list(o->pin_dir, l, FT_MAX_IFINDEX) : -ENOMEM;

	if (n >= 0 && o->json) {
		printf("{\"controller\":false,\"pin_dir\":");
		ft_json_str(stdout, o->pin_dir);
		printf(",\"interfaces\":[");
		ft_status_ifaces(stdout, l, n, 1);
		printf("]}\n");
	} else if (n >= 0) {
		printf("controller: not running (nothing answers on %s)\n", o->socket);
		printf("pin dir: %s\ninterfaces:\n", o->pin_dir);
		ft_status_ifaces(stdout, l, n, 0);
	}
	free(l);
	return n < 0 ? 1 : 0;
}

int do_status(int argc, char **argv)
{
	struct ft_status_opts o;
	int err;

	if (ft_status_parse(argc, argv, &o))
		return FT_EXIT_USAGE;
	err = ft_ctl_query(o.socket, o.json ? "status json=1" : "status", stdout);
	if (err == 1)
		return ft_status_pinned(&o);
	if (err < 0)
		pr_err("the controller on %s could not answer: %s\n", o.socket, strerror(-err));
	return err ? 1 : 0;
}
