// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_run.h"
#include "config.h"
#include "ctl.h"
#include "daemon.h"
#include "http.h"
#include "hw_opts.h"
#include "metrics.h"
#include "log.h"
#include "privs.h"
#include "settings.h"

#define FT_EXIT_USAGE	  2
#define FT_RUN_MAX_IFACES 64

struct ft_run_args {
	struct ft_daemon_opts d;
	char *ifaces[FT_RUN_MAX_IFACES];
	char pin_dir[PATH_MAX];
	char socket[PATH_MAX];
	char metrics[PATH_MAX];
	char emu_pin_dir[PATH_MAX];
};

/* Its own flags; ft_run_options() appends the hardware tier's. */
const struct option ft_run_own[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "conns", required_argument, NULL, 'c' },
	{ "pin-dir", required_argument, NULL, 'p' },
	{ "xdp-mode", required_argument, NULL, 'x' },
	{ "force", no_argument, NULL, 'f' },
	{ "interval", required_argument, NULL, 'I' },
	{ "half-life", required_argument, NULL, 'H' },
	{ "socket", required_argument, NULL, 'k' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "config", required_argument, NULL, 'C' },
	{ "metrics", required_argument, NULL, 'm' },
	{ "metrics-top", required_argument, NULL, 'T' },
	{ 0 },
};

#define FT_RUN_NOPTS 64
static struct option ft_run_longopts[FT_RUN_NOPTS];

static void ft_run_options(void)
{
	size_t n = 0;

	for (const struct option *o = ft_run_own; o->name; o++)
		ft_run_longopts[n++] = *o;
	for (const struct option *o = ft_hw_longopts; o->name && n < FT_RUN_NOPTS - 1; o++)
		ft_run_longopts[n++] = *o;
	ft_run_longopts[n] = (struct option){ 0 };
}

static int ft_parse_level(const char *s)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	for (int i = 0; i < 4; i++) {
		if (!strcmp(s, names[i])) {
			ft_log_set_level(i);
			return 0;
		}
	}
	pr_err("bad value '%s' for --log-level: expected error, warning, info or debug\n", s);
	return -EINVAL;
}

static int ft_copy(char *dst, const char *src, const char *flag)
{
	if (snprintf(dst, PATH_MAX, "%s", src) < PATH_MAX)
		return 0;
	pr_err("%s is too long\n", flag);
	return -EINVAL;
}

static int ft_run_metrics(const char *arg, struct ft_run_args *a)
{
	struct sockaddr_storage ss;
	socklen_t len;

	/* Checked now, so that a bad address stops the start before anything is attached. */
	if (ft_http_parse_listen(arg, &ss, &len))
		return -EINVAL;
	a->d.metrics_explicit = 1;
	return ft_copy(a->metrics, arg, "--metrics");
}

static int ft_run_opt(int opt, struct ft_run_args *a)
{
	struct ft_daemon_opts *d = &a->d;
	int err;
	__u64 v;

	if (ft_hw_opt(opt, optarg, &d->hw, &err)) {
		/* argv is freed after parsing */
		if (!err && d->hw.emu.pin_dir == optarg)
			err = ft_copy(a->emu_pin_dir, optarg, "--emu-pin-dir");
		d->hw.emu.pin_dir = a->emu_pin_dir[0] ? a->emu_pin_dir : NULL;
		return err;
	}
	switch (opt) {
	case 'm':
		return ft_run_metrics(optarg, a);
	case 'T':
		if (ft_parse_uint("--metrics-top", optarg, 0, FT_METRICS_MAX_TOP, &v))
			return -EINVAL;
		d->metrics_top = v;
		return 0;
	case 'i':
		if (d->nifaces == FT_RUN_MAX_IFACES) {
			pr_err("more than %d interfaces\n", FT_RUN_MAX_IFACES);
			return -EINVAL;
		}
		a->ifaces[d->nifaces] = strdup(optarg); /* argv is freed after parsing */
		return a->ifaces[d->nifaces++] ? 0 : -ENOMEM;
	case 'c':
		if (ft_parse_uint("--conns", optarg, 0, FT_DP_MAX_CONNS, &v))
			return -EINVAL;
		d->dp.conns = v;
		return 0;
	case 'p':
		return ft_copy(a->pin_dir, optarg, "--pin-dir");
	case 'x':
		return ft_xdp_mode_parse(optarg, &d->att.xdp_mode);
	case 'f':
		d->att.force = 1;
		return 0;
	case 'I':
		return ft_parse_ms("--interval", optarg, 0.1, 3600, &d->interval_ms);
	case 'H':
		if (ft_parse_ms("--half-life", optarg, 0, 3600, &v))
			return -EINVAL;
		d->half_life_ms = v;
		return 0;
	case 'k':
		return ft_copy(a->socket, optarg, "--socket");
	case 'l':
		return ft_parse_level(optarg);
	default:
		return -EINVAL;
	}
}

static int ft_run_getopt(int argc, char **argv, struct ft_run_args *a)
{
	int opt, err = 0;

	optind = 1;
	while (!err && (opt = getopt_long(argc, argv, "i:", ft_run_longopts, NULL)) != -1)
		err = ft_run_opt(opt, a);
	if (!err && optind < argc) {
		pr_err("unexpected argument '%s'\n", argv[optind]);
		err = -EINVAL;
	}
	if (!err && !a->d.nifaces) {
		pr_err("flowtier run needs an interface: -i IFACE (or 'interface = IFACE' in "
		       "--config)\n");
		err = -EINVAL;
	}
	return err;
}

static int ft_run_parse(int argc, char **argv, struct ft_run_args *a)
{
	int nargc, err;
	char **nargv;

	memset(a, 0, sizeof(*a));
	strcpy(a->pin_dir, FT_PIN_DIR);
	strcpy(a->socket, FT_CTL_SOCKET);
	a->d.interval_ms = 1000;
	a->d.half_life_ms = 1000;
	a->d.ifaces = a->ifaces;
	a->d.dp.pin_dir = a->pin_dir;
	a->d.socket_path = a->socket;
	ft_hw_cfg_default(&a->d.hw);
	strcpy(a->metrics, FT_HTTP_DEFAULT_LISTEN);
	a->d.metrics = a->metrics;
	ft_run_options();
	err = ft_config_expand(argc, argv, ft_run_longopts, &nargc, &nargv);
	if (err)
		return err;
	err = ft_run_getopt(nargc, nargv, a);
	ft_config_free(nargc, nargv);
	return err;
}

static void ft_run_free(struct ft_run_args *a)
{
	for (size_t i = 0; i < a->d.nifaces; i++)
		free(a->ifaces[i]);
}

int do_run(int argc, char **argv)
{
	struct ft_run_args a;
	struct ft_daemon d;
	int err = ft_run_parse(argc, argv, &a);

	if (err) {
		fprintf(stderr,
			"usage: flowtier run -i IFACE [-i IFACE ...] [--interval SECONDS] "
			"[--half-life SECONDS] [--xdp-mode native|generic|skb|off] [--force] "
			"[--conns N] [--pin-dir DIR] [--socket PATH] [--log-level LEVEL] "
			"[--config FILE] [--metrics ADDR:PORT|off] [--metrics-top N] "
			"[hardware tier flags]\n%s",
			ft_hw_usage);
		ft_run_free(&a);
		return FT_EXIT_USAGE;
	}
	err = ft_privileges_check("flowtier run");
	if (!err)
		err = ft_daemon_open(&d, &a.d);
	if (!err) {
		err = ft_daemon_run(&d);
		ft_daemon_close(&d);
	}
	ft_run_free(&a);
	return ft_attach_exit_status(err);
}
