// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpffs.h"
#include "log.h"
#include "nic.h"
#include "flowtier/emu_nic.h"
#include "emu_nic.skel.h"

static const char *const ft_emu_pins[] = {
	FT_EMU_MAP_FLOWS, FT_EMU_MAP_COUNTERS, FT_EMU_MAP_CONFIG, FT_EMU_MAP_PORTS,
	FT_EMU_MAP_STATS, FT_EMU_PROG_NIC,     FT_EMU_PROG_PASS,
};

#define FT_EMU_NPINS (sizeof(ft_emu_pins) / sizeof(ft_emu_pins[0]))

/* setns() rather than `ip netns exec`, which hides /sys/fs/bpf behind a new /sys. */
int ft_emu_nic_enter(const char *netns, int *self)
{
	char path[PATH_MAX];
	int fd;

	*self = -1;
	if (!netns)
		return 0;
	if (snprintf(path, sizeof(path), "/var/run/netns/%s", netns) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("cannot open network namespace '%s' (%s): %s (create it with 'ip netns add "
		       "%s')\n",
		       netns, path, strerror(errno), netns);
		return -errno;
	}
	*self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*self < 0 || setns(fd, CLONE_NEWNET)) {
		int err = -errno;

		pr_err("cannot enter network namespace '%s': %s (run as root)\n", netns,
		       strerror(errno));
		close(fd);
		if (*self >= 0)
			close(*self);
		*self = -1;
		return err;
	}
	close(fd);
	return 0;
}

void ft_emu_nic_leave(int self)
{
	if (self < 0)
		return;
	if (setns(self, CLONE_NEWNET))
		pr_err("cannot return to the first network namespace: %s\n", strerror(errno));
	close(self);
}

static int ft_emu_ifindex(const char *netns, const char *dev)
{
	int ifindex = if_nametoindex(dev);

	if (!ifindex) {
		pr_err("no interface '%s' in %s%s: %s\n", dev,
		       netns ? "namespace " : "this namespace", netns ? netns : "",
		       strerror(errno));
		return -ENODEV;
	}
	return ifindex;
}

static int ft_emu_mac(const char *dev, __u8 mac[6])
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		err = -errno;
		pr_err("cannot read the MAC address of '%s': %s\n", dev, strerror(errno));
	} else {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	close(fd);
	return err;
}

static int ft_emu_pin_path(char *path, size_t len, const char *dir, const char *name)
{
	return snprintf(path, len, "%s/%s", dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

int ft_emu_nic_unpin(const char *pin_dir)
{
	char path[PATH_MAX];
	int removed = 0, err;

	for (size_t i = 0; i < FT_EMU_NPINS; i++) {
		err = ft_emu_pin_path(path, sizeof(path), pin_dir, ft_emu_pins[i]);
		if (err)
			return err;
		if (!unlink(path))
			removed++;
		else if (errno != ENOENT)
			pr_err("cannot remove %s: %s\n", path, strerror(errno));
	}
	if (rmdir(pin_dir) && errno != ENOENT) {
		pr_err("cannot remove %s: %s (it holds files the NIC did not pin)\n", pin_dir,
		       strerror(errno));
		return -errno;
	}
	return removed ? 0 : -ENOENT;
}

static int ft_emu_pin_all(struct emu_nic *skel, const char *dir)
{
	struct bpf_map *maps[] = { skel->maps.emu_flows, skel->maps.emu_counters,
				   skel->maps.emu_config, skel->maps.emu_ports,
				   skel->maps.emu_stats };
	struct bpf_program *progs[] = { skel->progs.emu_nic, skel->progs.emu_pass };
	char path[PATH_MAX];
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(maps) / sizeof(maps[0]); i++) {
		err = ft_emu_pin_path(path, sizeof(path), dir, bpf_map__name(maps[i]));
		if (!err)
			err = bpf_map__pin(maps[i], path);
	}
	for (size_t i = 0; !err && i < sizeof(progs) / sizeof(progs[0]); i++) {
		err = ft_emu_pin_path(path, sizeof(path), dir, bpf_program__name(progs[i]));
		if (!err)
			err = bpf_program__pin(progs[i], path);
	}
	if (err)
		pr_err("cannot pin %s: %s\n", path, strerror(-err));
	return err;
}

static int ft_emu_not_loaded(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	int err = ft_emu_pin_path(path, sizeof(path), dir, FT_EMU_MAP_FLOWS);

	if (err)
		return err;
	if (!stat(path, &st)) {
		pr_err("an emulated NIC is already loaded under %s (run 'emu-nic detach' first, or "
		       "give another --pin-dir)\n",
		       dir);
		return -EEXIST;
	}
	return 0;
}

int ft_emu_nic_load(struct emu_nic **out, const char *pin_dir, __u32 capacity)
{
	struct emu_nic *skel;
	int err;

	*out = NULL;
	if (!capacity)
		capacity = FT_EMU_DEFAULT_CAPACITY;
	err = ft_bpffs_prepare(pin_dir);
	if (!err)
		err = ft_emu_not_loaded(pin_dir);
	if (err)
		return err;
	skel = emu_nic__open();
	if (!skel) {
		pr_err("cannot open the emulated NIC's BPF object: %s\n", strerror(errno));
		return -errno;
	}
	err = bpf_map__set_max_entries(skel->maps.emu_flows, capacity);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.emu_counters, capacity);
	if (!err) {
		err = emu_nic__load(skel);
		if (err)
			pr_err("cannot load the emulated NIC: %s\n", strerror(-err));
	}
	if (!err)
		err = ft_emu_pin_all(skel, pin_dir);
	if (err) {
		ft_emu_nic_unpin(pin_dir);
		emu_nic__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/* Resolves the ports in the NIC's namespace, with their own MACs as frames' sources. */
static int ft_emu_ports(const struct ft_emu_nic_opts *o, struct ft_emu_config *cfg, int *dev)
{
	int h, s, err;

	*dev = ft_emu_ifindex(o->netns, o->dev);
	h = ft_emu_ifindex(o->netns, o->host_dev);
	s = ft_emu_ifindex(o->netns, o->sink_dev);
	if (*dev < 0 || h < 0 || s < 0)
		return -ENODEV;
	cfg->port[FT_EMU_PORT_HOST].ifindex = h;
	cfg->port[FT_EMU_PORT_SINK].ifindex = s;
	memcpy(cfg->port[FT_EMU_PORT_HOST].dst_mac, o->host_mac, 6);
	memcpy(cfg->port[FT_EMU_PORT_SINK].dst_mac, o->sink_mac, 6);
	err = ft_emu_mac(o->host_dev, cfg->port[FT_EMU_PORT_HOST].src_mac);
	if (!err)
		err = ft_emu_mac(o->sink_dev, cfg->port[FT_EMU_PORT_SINK].src_mac);
	return err;
}

static int ft_emu_configure(struct emu_nic *skel, const struct ft_emu_config *cfg)
{
	__u32 zero = 0;

	for (int i = 0; i < FT_EMU_PORT_MAX; i++) {
		__u32 ifindex = cfg->port[i].ifindex;

		if (bpf_map__update_elem(skel->maps.emu_ports, &ifindex, sizeof(ifindex), &ifindex,
					 sizeof(ifindex), BPF_ANY)) {
			pr_err("cannot add port %u to the NIC: %s\n", ifindex, strerror(errno));
			return -errno;
		}
	}
	if (bpf_map__update_elem(skel->maps.emu_config, &zero, sizeof(zero), cfg, sizeof(*cfg),
				 BPF_ANY)) {
		pr_err("cannot configure the NIC: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

static int ft_emu_xdp_attach(int prog_fd, int ifindex, const char *dev)
{
	int err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
				 NULL);

	if (err)
		pr_err("cannot attach XDP to '%s': %s%s\n", dev, strerror(-err),
		       err == -EBUSY || err == -EEXIST
			       ? " (another XDP program is attached; detach it first)"
			       : "");
	return err;
}

int ft_emu_nic_attach(const struct ft_emu_nic_opts *o)
{
	const char *dir = o->pin_dir ? o->pin_dir : FT_EMU_PIN_DIR;
	struct ft_emu_config cfg = { .capacity =
					     o->capacity ? o->capacity : FT_EMU_DEFAULT_CAPACITY };
	struct emu_nic *skel = NULL;
	int self, dev, err;

	err = ft_emu_nic_enter(o->netns, &self);
	if (err)
		return err;
	err = ft_emu_ports(o, &cfg, &dev);
	if (!err)
		err = ft_emu_nic_load(&skel, dir, cfg.capacity);
	if (!err)
		err = ft_emu_configure(skel, &cfg);
	if (!err)
		err = ft_emu_xdp_attach(bpf_program__fd(skel->progs.emu_nic), dev, o->dev);
	if (err && skel)
		ft_emu_nic_unpin(dir);
	emu_nic__destroy(skel);
	ft_emu_nic_leave(self);
	return err;
}

int ft_emu_nic_pass(const char *pin_dir, const char *netns, const char *dev)
{
	char path[PATH_MAX];
	int self, ifindex, fd, err;

	err = ft_emu_pin_path(path, sizeof(path), pin_dir ? pin_dir : FT_EMU_PIN_DIR,
			      FT_EMU_PROG_PASS);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		pr_err("cannot open %s: %s (run 'emu-nic attach' first)\n", path, strerror(errno));
		return -errno;
	}
	err = ft_emu_nic_enter(netns, &self);
	if (!err) {
		ifindex = ft_emu_ifindex(netns, dev);
		err = ifindex < 0 ? ifindex : ft_emu_xdp_attach(fd, ifindex, dev);
		ft_emu_nic_leave(self);
	}
	close(fd);
	return err;
}

/* The name of the XDP program on ifindex; -ENOENT when there is none. */
static int ft_emu_attached(int ifindex, const char *dev, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 id = 0, ilen = sizeof(info);
	int fd, err;

	err = bpf_xdp_query_id(ifindex, XDP_FLAGS_DRV_MODE, &id);
	if (!err && !id) {
		pr_err("no XDP program on '%s': nothing to detach\n", dev);
		return -ENOENT;
	}
	fd = err ? err : bpf_prog_get_fd_by_id(id);
	if (fd < 0) {
		pr_err("cannot read the XDP program on '%s': %s\n", dev, strerror(errno));
		return -errno;
	}
	err = bpf_obj_get_info_by_fd(fd, &info, &ilen) ? -errno : 0;
	close(fd);
	if (!err)
		snprintf(name, len, "%s", info.name);
	return err;
}

int ft_emu_nic_detach(const char *pin_dir, const char *netns, const char *dev)
{
	char name[BPF_OBJ_NAME_LEN] = "";
	int self, ifindex, err;

	err = ft_emu_nic_enter(netns, &self);
	if (err)
		return err;
	ifindex = ft_emu_ifindex(netns, dev);
	err = ifindex < 0 ? ifindex : ft_emu_attached(ifindex, dev, name, sizeof(name));
	if (!err && strcmp(name, FT_EMU_PROG_NIC) && strcmp(name, FT_EMU_PROG_PASS)) {
		pr_err("the XDP program on '%s' is '%s', not the emulated NIC's: left alone\n", dev,
		       name);
		err = -EPERM;
	}
	if (!err) {
		err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			pr_err("cannot detach XDP from '%s': %s\n", dev, strerror(-err));
	}
	ft_emu_nic_leave(self);
	if (!err && !strcmp(name, FT_EMU_PROG_NIC)) {
		err = ft_emu_nic_unpin(pin_dir ? pin_dir : FT_EMU_PIN_DIR);
		if (err == -ENOENT)
			err = 0; /* unpinned already: the program was all that was left */
	}
	return err;
}
