// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "bpffs.h"
#include "cmd_flows.h"
#include "cmd_status.h"
#include "ctl.h"
#include "daemon.h"
#include "hw_base.h"
#include "log.h"
#include "rank.h"

#define FT_DAEMON_MAX_TOP 100000

static __u64 ft_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One controller per pin dir: the lock goes with the process, kill -9 included. */
static int ft_daemon_lock(struct ft_daemon *d)
{
	const char *dir = d->o.dp.pin_dir;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		pr_err("cannot open %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = errno == EWOULDBLOCK ? -EALREADY : -errno;

		if (err == -EALREADY)
			pr_err("another flowtier controller is running on %s: stop it first (one "
			       "controller owns a datapath)\n",
			       dir);
		else
			pr_err("cannot lock %s: %s\n", dir, strerror(-err));
		close(fd);
		return err;
	}
	d->lock_fd = fd;
	return 0;
}

static int ft_daemon_signals(struct ft_daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP); /* by default it would end the controller without a word */
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return d->sig_fd < 0 ? -errno : 0;
}

static int ft_daemon_on_signal(void *arg, int fd, short revents)
{
	struct ft_daemon *d = arg;
	struct signalfd_siginfo si;

	(void)revents;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGHUP) {
		pr_info("SIGHUP: ignored: the controller has no reload; restart it to apply "
			"new settings\n");
		return 0;
	}
	pr_info("%s: leaving the datapath attached and exiting\n", strsignal(si.ssi_signo));
	d->loop.stop = 1;
	return 0;
}

static int ft_daemon_scan(void *arg, __u64 now_ms)
{
	struct ft_daemon *d = arg;
	__u64 t0 = ft_now_us();
	int err = ft_scan_run(d->scan, d->dp.buckets, d->dp.nr_buckets, now_ms);
	const struct ft_scan_stats *st = ft_scan_stats(d->scan);

	d->last_scan_us = ft_now_us() - t0;
	d->intervals++;
	d->live.scan = d->scan;
	d->live.last_scan_ns = d->last_scan_us * 1000;
	/* A scan that could not store every flow is complete at the next one. */
	if (err)
		pr_warn("scan %llu: %s\n", (unsigned long long)d->intervals, strerror(-err));
	pr_debug("scan %llu: %u slots, %u flows (+%u -%u) in %llu us\n",
		 (unsigned long long)d->intervals, st->slots, st->flows, st->new_flows,
		 st->gone_flows, (unsigned long long)d->last_scan_us);
	return 0;
}

static int ft_daemon_status(struct ft_daemon *d, int json, FILE *out)
{
	const struct ft_scan_stats *st = ft_scan_stats(d->scan);
	struct ft_attached *l = calloc(FT_MAX_IFINDEX, sizeof(*l));
	__u64 up_s = (ft_loop_now_ms() - d->start_ms) / 1000;
	__u32 slots = d->dp.nr_buckets * FT_SLOTS;
	int n = l ? ft_attach_list(d->o.dp.pin_dir, l, FT_MAX_IFINDEX) : -ENOMEM;

	if (n < 0) {
		free(l);
		return n;
	}
	if (json) {
		fprintf(out,
			"{\"pid\":%d,\"uptime_s\":%llu,\"interval_ms\":%llu,\"intervals\":%llu,"
			"\"last_scan_us\":%llu,\"pin_dir\":",
			getpid(), (unsigned long long)up_s, (unsigned long long)d->o.interval_ms,
			(unsigned long long)d->intervals, (unsigned long long)d->last_scan_us);
		ft_json_str(out, d->o.dp.pin_dir);
		fprintf(out, ",\"slots\":%u,\"slots_used\":%u,\"flows\":%u,\"interfaces\":[", slots,
			st->slots, st->flows);
		ft_status_ifaces(out, l, n, 1);
		fprintf(out, "]");
		ft_daemon_hw_status(&d->hw, 1, out);
		fprintf(out, "}\n");
	} else {
		fprintf(out,
			"controller: pid %d, up %llu s, interval %llu ms, %llu intervals, last "
			"scan %llu us\n",
			getpid(), (unsigned long long)up_s, (unsigned long long)d->o.interval_ms,
			(unsigned long long)d->intervals, (unsigned long long)d->last_scan_us);
		fprintf(out, "pin dir: %s\n", d->o.dp.pin_dir);
		fprintf(out, "table: %u of %u slots in use (%.1f%%), %u flows\n", st->slots, slots,
			slots ? 100.0 * st->slots / slots : 0.0, st->flows);
		fprintf(out, "interfaces:\n");
		ft_status_ifaces(out, l, n, 0);
		ft_daemon_hw_status(&d->hw, 0, out);
	}
	free(l);
	return 0;
}

/* A whole number from min to max; anything else from the socket is refused. */
static int ft_req_uint(const struct ft_ctl_req *req, const char *key, __u64 min, __u64 max,
		       __u64 def, __u64 *v)
{
	const char *s = ft_ctl_arg(req, key);
	char *end;

	*v = def;
	if (!s)
		return 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end || *v < min || *v > max ? -EINVAL : 0;
}

static int ft_daemon_flows(struct ft_daemon *d, const struct ft_ctl_req *req, FILE *out)
{
	const char *sort_s = ft_ctl_arg(req, "sort"), *pin = ft_ctl_arg(req, "pin-dir");
	enum ft_sort sort = FT_SORT_PPS;
	struct ft_ranked *top;
	__u64 k, json;
	size_t n;
	int err = ft_req_uint(req, "top", 1, FT_DAEMON_MAX_TOP, 20, &k);

	if (!err)
		err = ft_req_uint(req, "json", 0, 1, 0, &json);
	if (!err && sort_s)
		err = ft_sort_parse(sort_s, &sort);
	if (err) {
		fprintf(out, "error: bad flows arguments\n");
		return -EINVAL;
	}
	if (pin && strcmp(pin, d->o.dp.pin_dir))
		return -EXDEV; /* not this controller's datapath */
	top = calloc(k, sizeof(*top));
	if (!top)
		return -ENOMEM;
	n = ft_tiering_rank(d->hw.tier, d->scan, sort, k, top);
	ft_flows_write(out, top, n, (int)json, d->hw.tier);
	free(top);
	return 0;
}

static int ft_daemon_answer(void *arg, const struct ft_ctl_req *req, FILE *out)
{
	struct ft_daemon *d = arg;
	__u64 json;

	if (!strcmp(req->cmd, "status")) {
		if (ft_req_uint(req, "json", 0, 1, 0, &json)) {
			fprintf(out, "error: bad status arguments\n");
			return -EINVAL;
		}
		return ft_daemon_status(d, (int)json, out);
	}
	if (!strcmp(req->cmd, "flows"))
		return ft_daemon_flows(d, req, out);
	if (!strcmp(req->cmd, "offload")) {
		if (ft_req_uint(req, "json", 0, 1, 0, &json)) {
			fprintf(out, "error: bad offload arguments\n");
			return -EINVAL;
		}
		return ft_daemon_hw_list(&d->hw, d, (int)json, out);
	}
	fprintf(out, "error: unknown command '%s'\n", req->cmd);
	return -EOPNOTSUPP;
}

static int ft_daemon_on_ctl(void *arg, int fd, short revents)
{
	int err;

	(void)revents;
	err = ft_ctl_serve(fd, ft_daemon_answer, arg);
	if (err)
		pr_warn("control socket: %s\n", strerror(-err));
	return 0;
}

/* The datapath: loaded (or reused from the pins), its programs pinned, attached. */
static int ft_daemon_datapath(struct ft_daemon *d)
{
	int err = ft_dp_open(&d->dp, &d->o.dp);

	if (err)
		return err;
	pr_info("%s %s: %u connections\n", d->dp.reused ? "reused the table in" : "pinned",
		d->o.dp.pin_dir, d->dp.nr_buckets * FT_SLOTS);
	err = ft_bpffs_pin_programs(d->dp.skel, d->o.dp.pin_dir);
	if (!err)
		err = ft_attach_all(&d->o.att, d->o.ifaces, d->o.nifaces);
	/* A refused start leaves no pins it made behind (reused ones stay). */
	if (err && !d->dp.reused) {
		ft_dp_close(&d->dp);
		ft_bpffs_remove(d->o.dp.pin_dir);
	}
	if (!err)
		err = ft_scan_new(&d->scan, d->dp.nr_buckets * FT_SLOTS, d->o.half_life_ms);
	return err;
}

static int ft_daemon_on_http(void *arg, int fd, short revents)
{
	struct ft_daemon *d = arg;

	(void)fd;
	(void)revents;
	ft_http_run(d->http);
	return 0;
}

static int ft_daemon_http_due(void *arg)
{
	struct ft_daemon *d = arg;

	return ft_http_timeout_ms(d->http);
}

/* /metrics, served from this loop: a scrape sees the last interval's scan. */
static int ft_daemon_metrics(struct ft_daemon *d)
{
	int err;

	d->live.dp = &d->dp;
	d->live.top = d->o.metrics_top;
	d->live.offload = d->hw.mgr ? &d->hw.stats : NULL;
	d->live.tiering = d->hw.tier;
	err = ft_http_start(&d->http, d->o.metrics, ft_metrics_http_render, &d->live);
	/* Asked for, /metrics must work; the default is not worth refusing to run. */
	if (err && !d->o.metrics_explicit) {
		pr_warn("running without /metrics: pass --metrics ADDR:PORT (or off)\n");
		return 0;
	}
	if (err || !d->http)
		return err;
	pr_info("serving /metrics on port %u\n", ft_http_port(d->http));
	return ft_loop_add_fd_due(&d->loop, ft_http_fd(d->http), POLLIN, ft_daemon_on_http,
				  ft_daemon_http_due, d);
}

static int ft_daemon_loop_setup(struct ft_daemon *d)
{
	int err;

	ft_loop_init(&d->loop, d->o.interval_ms);
	err = ft_loop_add_tick(&d->loop, ft_daemon_scan, d);
	if (!err)
		err = ft_loop_add_fd(&d->loop, d->sig_fd, POLLIN, ft_daemon_on_signal, d);
	if (!err)
		err = ft_loop_add_fd(&d->loop, d->ctl_fd, POLLIN, ft_daemon_on_ctl, d);
	if (!err) {
		d->hw.cfg = d->o.hw;
		err = ft_daemon_hw_open(&d->hw, d);
	}
	if (!err)
		err = ft_daemon_metrics(d);
	return err;
}

/* 1 when the pin dir holds the offload manager's ft_hw_base (hw_base.h). */
static int ft_daemon_has_base(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, FT_MAP_HW_BASE);
	return access(path, F_OK) == 0;
}

/* A refused start takes away the ft_hw_base it pinned, and keeps one it found. */
static void ft_daemon_unpin_new_base(const char *dir, int had_base)
{
	char path[PATH_MAX];

	if (had_base || !ft_daemon_has_base(dir))
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, FT_MAP_HW_BASE);
	unlink(path);
}

/* The control socket opens before anything is attached: a refusal leaves nothing behind. */
int ft_daemon_open(struct ft_daemon *d, const struct ft_daemon_opts *o)
{
	int err, had_base = ft_daemon_has_base(o->dp.pin_dir);

	memset(d, 0, sizeof(*d));
	d->o = *o;
	d->o.att.pin_dir = o->dp.pin_dir;
	d->lock_fd = d->ctl_fd = d->sig_fd = -1;
	d->start_ms = ft_loop_now_ms();
	err = ft_bpffs_prepare(o->dp.pin_dir);
	if (!err)
		err = ft_daemon_lock(d);
	if (!err) {
		d->ctl_fd = ft_ctl_listen(o->socket_path);
		err = d->ctl_fd < 0 ? d->ctl_fd : 0;
	}
	if (!err)
		err = ft_daemon_signals(d);
	/* The NIC backend and /metrics first: a refusal there attaches nothing. */
	if (!err)
		err = ft_daemon_loop_setup(d);
	if (!err)
		err = ft_daemon_datapath(d);
	if (err) {
		ft_daemon_close(d);
		ft_daemon_unpin_new_base(o->dp.pin_dir, had_base);
		rmdir(o->dp.pin_dir); /* only when empty: the start made it for nothing */
	}
	return err;
}

int ft_daemon_run(struct ft_daemon *d)
{
	pr_info("running: interval %llu ms, control socket %s\n",
		(unsigned long long)d->o.interval_ms, d->o.socket_path);
	return ft_loop_run(&d->loop);
}

void ft_daemon_close(struct ft_daemon *d)
{
	if (d->ctl_fd >= 0) {
		close(d->ctl_fd);
		unlink(d->o.socket_path);
	}
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	ft_http_stop(d->http);
	d->http = NULL;
	ft_daemon_hw_close(&d->hw);
	ft_scan_free(d->scan);
	if (d->dp.skel)
		ft_dp_close(&d->dp);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	d->ctl_fd = d->sig_fd = d->lock_fd = -1;
	d->scan = NULL;
}
