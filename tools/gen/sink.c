// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ft-sink: attaches the testbed's XDP programs and reads the sink's counters.
 *   ft-sink attach --netns NS --pin DIR [--max-flows N] DEV...
 *   ft-sink pass --netns NS DEV...
 *   ft-sink read --pin DIR
 * XDP attached through netlink stays after ft-sink exits; the counters stay
 * pinned under DIR until it is removed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gen.h"
#include "sink.skel.h"
#include "netns.h"

static const char usage_text[] =
	"usage: ft-sink attach --netns NS --pin DIR [--max-flows N] DEV...\n"
	"           count every frame DEV receives per flow, then drop it; pin the\n"
	"           counters (sink_flows, sink_ports) under DIR\n"
	"       ft-sink pass --netns NS DEV...\n"
	"           attach an XDP program that passes everything (a veth needs one to\n"
	"           receive XDP-redirected frames)\n"
	"       ft-sink read --pin DIR\n"
	"           print the counters: '# port' lines, then CSV per flow\n";

struct sink_opts {
	const char *cmd, *netns, *pin;
	__u32 max_flows;
	char **devs;
	int ndevs;
};

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "ft-sink: %s\n", why);
	fputs(usage_text, why ? stderr : stdout);
	return why ? 2 : 0;
}

static int parse_opts(int argc, char **argv, struct sink_opts *o)
{
	char *end;
	int i;

	*o = (struct sink_opts){ .max_flows = 262144 };
	if (argc < 2)
		return usage("a command is required");
	o->cmd = argv[1];
	for (i = 2; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--netns")) {
			o->netns = argv[i + 1];
		} else if (!strcmp(argv[i], "--pin")) {
			o->pin = argv[i + 1];
		} else if (!strcmp(argv[i], "--max-flows")) {
			o->max_flows = (__u32)strtoul(argv[i + 1], &end, 0);
			if (*end || !o->max_flows)
				return usage("--max-flows takes a positive number");
		} else {
			return usage("unknown option");
		}
	}
	o->devs = argv + i;
	o->ndevs = argc - i;
	return 0;
}

/* Resolves every device first, so that a bad name attaches nothing. */
static int resolve(const struct sink_opts *o, int *ifindex)
{
	for (int i = 0; i < o->ndevs; i++) {
		ifindex[i] = (int)if_nametoindex(o->devs[i]);
		if (!ifindex[i]) {
			fprintf(stderr,
				"ft-sink: no interface '%s' in namespace '%s' (see ip -n %s "
				"link)\n",
				o->devs[i], o->netns, o->netns);
			return -ENODEV;
		}
	}
	return 0;
}

static int attach_all(struct bpf_program *prog, const struct sink_opts *o, const int *ifindex)
{
	int err;

	for (int i = 0; i < o->ndevs; i++) {
		err = bpf_xdp_attach(ifindex[i], bpf_program__fd(prog), XDP_FLAGS_DRV_MODE, NULL);
		if (err) {
			fprintf(stderr, "ft-sink: cannot attach XDP to '%s': %s\n", o->devs[i],
				strerror(-err));
			while (i--)
				bpf_xdp_detach(ifindex[i], XDP_FLAGS_DRV_MODE, NULL);
			return err;
		}
	}
	return 0;
}

static int pin_maps(struct sink_bpf *skel, const char *dir)
{
	char path[512];
	int err;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		fprintf(stderr, "ft-sink: cannot create '%s': %s (is bpffs mounted?)\n", dir,
			strerror(errno));
		return err;
	}
	snprintf(path, sizeof(path), "%s/sink_flows", dir);
	err = bpf_map__pin(skel->maps.sink_flows, path);
	if (!err) {
		snprintf(path, sizeof(path), "%s/sink_ports", dir);
		err = bpf_map__pin(skel->maps.sink_ports, path);
	}
	if (err)
		fprintf(stderr, "ft-sink: cannot pin the counters under '%s': %s\n", dir,
			strerror(-err));
	return err;
}

static int do_attach(const struct sink_opts *o, int counting)
{
	struct sink_bpf *skel = NULL;
	int ifindex[64], err;

	if (!o->netns || !o->ndevs || o->ndevs > 64 || (counting && !o->pin))
		return usage(counting ? "attach needs --netns, --pin and devices"
				      : "pass needs --netns and devices");
	err = ft_enter_netns("ft-sink", o->netns);
	if (!err)
		err = resolve(o, ifindex);
	if (err)
		return 2;
	skel = sink_bpf__open();
	if (!skel)
		return 1;
	bpf_map__set_max_entries(skel->maps.sink_flows, o->max_flows);
	err = sink_bpf__load(skel);
	if (err) {
		fprintf(stderr, "ft-sink: cannot load the sink's BPF object: %s\n", strerror(-err));
		goto out;
	}
	/* Pinned before attaching, so that nothing ever counts into a lost map. */
	if (counting)
		err = pin_maps(skel, o->pin);
	if (!err)
		err = attach_all(counting ? skel->progs.sink_xdp : skel->progs.pass_xdp, o,
				 ifindex);
	if (err && counting)
		bpf_object__unpin_maps(skel->obj, NULL);
out:
	sink_bpf__destroy(skel);
	return err ? 1 : 0;
}

static int open_pinned(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		fprintf(stderr, "ft-sink: cannot open '%s': %s (run ft-sink attach first)\n", path,
			strerror(errno));
	return fd;
}

static void print_ports(int fd)
{
	__u32 key, *prev = NULL;
	struct sink_port p;

	while (!bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &p))
			continue;
		printf("# port ifindex=%u packets=%llu bytes=%llu other=%llu overflow=%llu\n", key,
		       (unsigned long long)p.packets, (unsigned long long)p.bytes,
		       (unsigned long long)p.other, (unsigned long long)p.overflow);
	}
}

static void print_flows(int fd)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	struct sink_key key, *prev = NULL;
	struct sink_val v;
	int af;

	printf("family,proto,src,dst,sport,dport,packets,bytes,syn,synack,fin,rst\n");
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		af = key.family == 4 ? AF_INET : AF_INET6;
		inet_ntop(af, key.saddr, src, sizeof(src));
		inet_ntop(af, key.daddr, dst, sizeof(dst));
		printf("%u,%s,%s,%s,%u,%u,%llu,%llu,%llu,%llu,%llu,%llu\n", key.family,
		       key.proto == 6 ? "tcp" : "udp", src, dst, key.sport, key.dport,
		       (unsigned long long)v.packets, (unsigned long long)v.bytes,
		       (unsigned long long)v.syn, (unsigned long long)v.synack,
		       (unsigned long long)v.fin, (unsigned long long)v.rst);
	}
}

static int do_read(const struct sink_opts *o)
{
	int flows, ports;

	if (!o->pin || o->ndevs)
		return usage("read needs --pin and nothing else");
	ports = open_pinned(o->pin, "sink_ports");
	flows = ports < 0 ? -1 : open_pinned(o->pin, "sink_flows");
	if (ports >= 0 && flows >= 0) {
		print_ports(ports);
		print_flows(flows);
	}
	if (ports >= 0)
		close(ports);
	if (flows >= 0)
		close(flows);
	return ports < 0 || flows < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sink_opts o;
	int err = parse_opts(argc, argv, &o);

	if (err)
		return err;
	if (!strcmp(o.cmd, "attach"))
		return do_attach(&o, 1);
	if (!strcmp(o.cmd, "pass"))
		return do_attach(&o, 0);
	if (!strcmp(o.cmd, "read"))
		return do_read(&o);
	if (!strcmp(o.cmd, "-h") || !strcmp(o.cmd, "--help"))
		return usage(NULL);
	return usage("unknown command; use attach, pass or read");
}
