/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Loading the emulated NIC: its object loaded and pinned, its ports set,
 * its program attached to a port in a network namespace; and all of it
 * undone. Used by the emu-nic tool and by the tests.
 */
#ifndef FT_EMU_NIC_LOADER_H
#define FT_EMU_NIC_LOADER_H

#include <linux/types.h>

struct emu_nic;

struct ft_emu_nic_opts {
	const char *pin_dir;  /* NULL: FT_EMU_PIN_DIR */
	const char *netns;    /* the NIC's namespace (/var/run/netns/NAME), NULL: this one */
	const char *dev;      /* the port traffic arrives on: the NIC program goes there */
	const char *host_dev; /* the port toward the host: unmatched packets leave by it */
	const char *sink_dev; /* the port toward the sink: redirect rules send out of it */
	__u8 host_mac[6];     /* destination MAC for frames sent to the host, zero: unchanged */
	__u8 sink_mac[6];     /* destination MAC for frames sent to the sink, zero: unchanged */
	__u32 capacity;	      /* rules the table holds, 0: FT_EMU_DEFAULT_CAPACITY */
};

/* Loads the object with a table of capacity rules and pins its maps and programs. */
int ft_emu_nic_load(struct emu_nic **skel, const char *pin_dir, __u32 capacity);

/* Removes the NIC's pins and pin_dir; -ENOENT when nothing was pinned. */
int ft_emu_nic_unpin(const char *pin_dir);

/* Loads, pins, sets the ports and attaches; on failure leaves nothing behind. */
int ft_emu_nic_attach(const struct ft_emu_nic_opts *o);

/*
 * Attaches the pinned XDP_PASS program to dev in netns: a veth receives
 * frames redirected into its peer only while it runs an XDP program.
 */
int ft_emu_nic_pass(const char *pin_dir, const char *netns, const char *dev);

/*
 * Detaches the NIC's program (emu_nic or emu_pass, never another's) from
 * dev in netns; after emu_nic, removes the pins too.
 */
int ft_emu_nic_detach(const char *pin_dir, const char *netns, const char *dev);

/* Enters netns (NULL: stays); *self receives what ft_emu_nic_leave needs. */
int ft_emu_nic_enter(const char *netns, int *self);
void ft_emu_nic_leave(int self);

#endif
