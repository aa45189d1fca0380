// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The daemon's hardware tier: backend, manager, and the per-interval tick. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ct.h"
#include "daemon.h"
#include "daemon_hw.h"
#include "hw_base.h"
#include "log.h"

static int ft_daemon_hw_backend(struct ft_daemon_hw *h)
{
	switch (h->cfg.kind) {
	case FT_OFFLOAD_TC:
		return ft_hw_tc_open(&h->hw, &h->cfg.tc);
	case FT_OFFLOAD_EMU:
		return ft_hw_emu_open(&h->hw, &h->cfg.emu);
	default:
		return 0;
	}
}

/* The datapath's clock, in its ticks: what last_tick is compared with. */
static __u32 ft_now_tick(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u32)(((__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec) >> FT_TICK_SHIFT);
}

static int ft_daemon_hw_tick(void *arg, __u64 now_ms)
{
	struct ft_daemon *d = arg;
	struct ft_daemon_hw *h = &d->hw;
	int err = ft_tiering_tick(h->tier, d->scan, d->dp.buckets, now_ms, ft_now_tick());

	/* The manager has logged what failed; the next interval tries again. */
	if (err)
		pr_debug("offload: %s\n", strerror(-err));
	ft_offload_stats(h->mgr, &h->stats);
	return 0;
}

int ft_daemon_hw_open(struct ft_daemon_hw *h, struct ft_daemon *d)
{
	int err;

	h->base_fd = -1;
	if (h->cfg.kind == FT_OFFLOAD_NONE)
		return 0;
	err = ft_daemon_hw_backend(h);
	if (err) {
		pr_err("cannot open the %s offload backend: %s\n",
		       ft_offload_kind_name(h->cfg.kind), strerror(-err));
		return err;
	}
	err = ft_offload_new(&h->mgr, &h->cfg.mgr, h->hw);
	if (!err && d->o.dp.pin_dir) {
		h->base_fd = ft_hw_base_open(d->o.dp.pin_dir);
		err = h->base_fd < 0 ? h->base_fd : 0;
		if (!err)
			ft_offload_set_base(h->mgr, h->base_fd);
	}
	if (!err)
		err = ft_tiering_new(&h->tier, h->mgr);
	for (size_t i = 0; !err && i < d->o.nifaces; i++)
		err = ft_tiering_add_device(h->tier, if_nametoindex(d->o.ifaces[i]));
	if (!err)
		err = ft_loop_add_tick(&d->loop, ft_daemon_hw_tick, d);
	if (err) {
		pr_err("cannot start the offload manager: %s\n", strerror(-err));
		ft_daemon_hw_close(h);
	}
	return err;
}

void ft_daemon_hw_close(struct ft_daemon_hw *h)
{
	ft_tiering_free(h->tier);
	if (h->mgr && h->base_fd >= 0)
		close(h->base_fd);
	ft_offload_free(h->mgr);
	if (h->hw)
		h->hw->ops->close(h->hw);
	h->tier = NULL;
	h->mgr = NULL;
	h->hw = NULL;
	h->base_fd = -1;
}

struct ft_list_ctx {
	FILE *out;
	int json;
	int n;
};

static int ft_list_rule(const struct ft_hw_stat *st, void *arg)
{
	struct ft_list_ctx *c = arg;
	const struct ft_hw_rule *r = &st->rule;
	char dev[IF_NAMESIZE] = "?", src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const char *verdict = r->verdict == FT_VERDICT_DROP ? "drop" : "redirect";

	if_indextoname(r->ifindex, dev);
	ft_addr_format(&r->key, r->dir, src, sizeof(src));
	ft_addr_format(&r->key, !r->dir, dst, sizeof(dst));
	if (c->json)
		fprintf(c->out,
			"%s{\"dev\":\"%s\",\"handle\":%u,\"cookie\":\"%016llx\",\"src\":\"%s\","
			"\"dst\":\"%s\",\"sport\":%u,\"dport\":%u,\"proto\":%u,\"verdict\":\"%s\","
			"\"packets\":%llu,\"bytes\":%llu,\"lastuse_ms\":%llu}",
			c->n ? "," : "", dev, r->handle, (unsigned long long)r->cookie, src, dst,
			ntohs(r->key.port[r->dir]), ntohs(r->key.port[!r->dir]), r->key.proto,
			verdict, (unsigned long long)st->packets, (unsigned long long)st->bytes,
			(unsigned long long)st->lastuse_ms);
	else
		fprintf(c->out,
			"%-10s %6u %016llx %s:%u > %s:%u proto %u %-8s %12llu %14llu %8llu\n", dev,
			r->handle, (unsigned long long)r->cookie, src, ntohs(r->key.port[r->dir]),
			dst, ntohs(r->key.port[!r->dir]), r->key.proto, verdict,
			(unsigned long long)st->packets, (unsigned long long)st->bytes,
			(unsigned long long)st->lastuse_ms);
	c->n++;
	return 0;
}

int ft_daemon_hw_list(struct ft_daemon_hw *h, struct ft_daemon *d, int json, FILE *out)
{
	struct ft_list_ctx c = { .out = out, .json = json };
	int err = 0;

	if (json)
		fprintf(out, "[");
	else
		fprintf(out, "%-10s %6s %-16s %s\n", "dev", "handle", "cookie",
			"rule, verdict, packets, bytes, lastuse ms");
	for (size_t i = 0; h->hw && !err && i < d->o.nifaces; i++)
		err = h->hw->ops->dump(h->hw, if_nametoindex(d->o.ifaces[i]), ft_list_rule, &c);
	if (json)
		fprintf(out, "]\n");
	return err;
}

static void ft_dev_status(const struct ft_offload_dev_stats *v, int json, int first, FILE *out)
{
	char dev[IF_NAMESIZE] = "?";

	if_indextoname(v->ifindex, dev);
	if (json) {
		fprintf(out,
			"%s{\"dev\":\"%s\",\"rules\":%u,\"capacity\":%u,\"oor\":%s,"
			"\"installs\":%llu,\"removals\":%llu,\"swaps\":%llu,\"rollbacks\":%llu}",
			first ? "" : ",", dev, v->rules, v->capacity, v->oor ? "true" : "false",
			(unsigned long long)v->installs, (unsigned long long)v->removals,
			(unsigned long long)v->swaps, (unsigned long long)v->rollbacks);
		return;
	}
	fprintf(out,
		"  %s: %u rules, learned capacity %u, %s, %llu installs, %llu removals, "
		"%llu swaps, %llu rollbacks\n",
		dev, v->rules, v->capacity, v->oor ? "OUT OF RESOURCES" : "room left",
		(unsigned long long)v->installs, (unsigned long long)v->removals,
		(unsigned long long)v->swaps, (unsigned long long)v->rollbacks);
}

void ft_daemon_hw_status(const struct ft_daemon_hw *h, int json, FILE *out)
{
	const struct ft_offload_stats *st = &h->stats;

	if (json) {
		fprintf(out, ",\"offload\":{\"backend\":\"%s\",\"coverage\":%.4f,\"devices\":[",
			ft_offload_kind_name(h->cfg.kind), h->mgr ? st->coverage : 0.0);
		for (__u32 i = 0; h->mgr && i < st->ndevs; i++)
			ft_dev_status(&st->devs[i], 1, i == 0, out);
		fprintf(out, "]}");
		return;
	}
	fprintf(out, "offload: %s", ft_offload_kind_name(h->cfg.kind));
	if (!h->mgr) {
		fprintf(out, " (software only)\n");
		return;
	}
	fprintf(out,
		", hardware coverage %.1f%% of recent candidate packets (over the counter lag and "
		"a second)\n",
		100 * st->coverage);
	for (__u32 i = 0; i < st->ndevs; i++)
		ft_dev_status(&st->devs[i], 0, i == 0, out);
}
