/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The controller daemon (flowtier run): it owns the datapath on a host.
 * It loads or reuses the pinned datapath, attaches it, scans the table
 * every interval and answers on the control socket. On exit the datapath
 * stays attached and counting.
 *
 * Between ft_daemon_open() and ft_daemon_run(), other parts add their file
 * descriptors (an HTTP server) and per-interval work (the offload manager)
 * to d->loop with ft_loop_add_fd() and ft_loop_add_tick(); the scan is the
 * first tick, so later ticks see this interval's flows in d->scan.
 */
#ifndef FT_DAEMON_H
#define FT_DAEMON_H

#include <stddef.h>
#include <linux/types.h>
#include "attach.h"
#include "daemon_hw.h"
#include "datapath.h"
#include "http.h"
#include "hw_opts.h"
#include "loop.h"
#include "metrics.h"
#include "scan.h"

struct ft_daemon_opts {
	struct ft_dp_opts dp; /* dp.pin_dir: where the maps are pinned */
	struct ft_attach_opts att;
	char *const *ifaces;
	size_t nifaces;
	const char *socket_path;
	__u64 interval_ms;
	__u32 half_life_ms;
	struct ft_hw_cfg hw;
	const char *metrics;  /* --metrics ADDR:PORT, NULL: the default, "off": none */
	size_t metrics_top;   /* --metrics-top */
	int metrics_explicit; /* --metrics was given: failing to serve it is fatal */
};

struct ft_daemon {
	struct ft_daemon_opts o;
	struct ft_datapath dp;
	struct ft_scan *scan;
	struct ft_loop loop;
	int lock_fd;
	int ctl_fd;
	int sig_fd;
	__u64 start_ms;
	__u64 intervals;    /* scans done */
	__u64 last_scan_us; /* how long the last scan took */
	struct ft_daemon_hw hw;
	struct ft_http *http; /* NULL: --metrics off */
	struct ft_metrics_live live;
};

/*
 * Takes the pin dir's lock (-EALREADY: another controller holds it),
 * loads or reuses the datapath, attaches it, opens the control socket.
 * On error nothing is left half-done, and the exit status is
 * ft_attach_exit_status()'s.
 */
int ft_daemon_open(struct ft_daemon *d, const struct ft_daemon_opts *o);

/* Runs until SIGINT or SIGTERM (0) or a fatal error (-errno). */
int ft_daemon_run(struct ft_daemon *d);

/* Closes everything but the attached datapath, which keeps forwarding. */
void ft_daemon_close(struct ft_daemon *d);

#endif
