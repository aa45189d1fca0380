// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* emu-nic: attaches and detaches the testbed's emulated NIC. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw_emu.h"
#include "log.h"
#include "nic.h"
#include "flowtier/emu_nic.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: emu-nic attach --dev IF --to-host IF --to-sink IF [--netns NS]\n"
		"                      [--host-mac MAC] [--sink-mac MAC] [--capacity N] [--pin-dir "
		"DIR]\n"
		"       emu-nic pass   --dev IF [--netns NS] [--pin-dir DIR]\n"
		"       emu-nic detach --dev IF [--netns NS] [--pin-dir DIR]\n"
		"       emu-nic stats  [--pin-dir DIR]\n"
		"\n"
		"attach  loads the NIC, pins its maps under DIR (default %s), and attaches it\n"
		"        to IF, the port traffic arrives on, in namespace NS (/var/run/netns/NS).\n"
		"        Unmatched packets leave by --to-host, redirect rules send out of "
		"--to-sink;\n"
		"        --host-mac/--sink-mac are the MACs of those ports' peers. --capacity: "
		"rules\n"
		"        the table holds (default %u, at most %u).\n"
		"pass    attaches an XDP_PASS program to IF: the peer of a NIC port must run an "
		"XDP\n"
		"        program (or have GRO on) to receive frames the NIC sends into that port.\n"
		"detach  removes the NIC's program (or the pass program) from IF; after the "
		"NIC's,\n"
		"        removes the pins too. Programs of others are left alone.\n"
		"stats   prints what became of every packet the NIC received, one 'name value'\n"
		"        a line (rx = dropped + redirected + to_host + no_port).\n",
		FT_EMU_PIN_DIR, FT_EMU_DEFAULT_CAPACITY, FT_EMU_MAX_CAPACITY);
}

static int parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = b[i];
	}
	return 0;
}

static int parse_capacity(const char *s, __u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v < 1 || v > FT_EMU_MAX_CAPACITY)
		return -EINVAL;
	*out = v;
	return 0;
}

static int bad(const char *what, const char *value, const char *fix)
{
	fprintf(stderr, "emu-nic: bad %s '%s': %s\n", what, value, fix);
	return 2;
}

static int parse(int argc, char **argv, struct ft_emu_nic_opts *o)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "to-host", required_argument, NULL, 'h' },
		{ "to-sink", required_argument, NULL, 's' },
		{ "netns", required_argument, NULL, 'n' },
		{ "host-mac", required_argument, NULL, 'H' },
		{ "sink-mac", required_argument, NULL, 'S' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, '?' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dev = optarg;
			break;
		case 'h':
			o->host_dev = optarg;
			break;
		case 's':
			o->sink_dev = optarg;
			break;
		case 'n':
			o->netns = optarg;
			break;
		case 'p':
			o->pin_dir = optarg;
			break;
		case 'H':
			if (parse_mac(optarg, o->host_mac))
				return bad("--host-mac", optarg,
					   "give six hex bytes, 02:00:00:00:00:01");
			break;
		case 'S':
			if (parse_mac(optarg, o->sink_mac))
				return bad("--sink-mac", optarg,
					   "give six hex bytes, 02:00:00:00:00:01");
			break;
		case 'c':
			if (parse_capacity(optarg, &o->capacity))
				return bad("--capacity", optarg,
					   "give a number of rules, 1 to 65536");
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "emu-nic: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!o->dev && strcmp(argv[0], "stats")) {
		fprintf(stderr, "emu-nic: --dev is missing: name the interface\n");
		return 2;
	}
	return 0;
}

static int print_stats(const char *pin_dir)
{
	struct ft_emu_stats st;
	int err = ft_hw_emu_read_stats(pin_dir, &st);

	if (err)
		return err;
	printf("rx %llu\ndropped %llu\nredirected %llu\nto_host %llu\nno_port %llu\n"
	       "tcp_control %llu\nunparsed %llu\n",
	       (unsigned long long)st.rx, (unsigned long long)st.dropped,
	       (unsigned long long)st.redirected, (unsigned long long)st.to_host,
	       (unsigned long long)st.no_port, (unsigned long long)st.tcp_control,
	       (unsigned long long)st.unparsed);
	return 0;
}

int main(int argc, char **argv)
{
	struct ft_emu_nic_opts o = {};
	const char *cmd = argc > 1 ? argv[1] : "";
	int rc;

	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "attach") && strcmp(cmd, "pass") && strcmp(cmd, "detach") &&
	    strcmp(cmd, "stats")) {
		if (*cmd)
			fprintf(stderr, "emu-nic: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	rc = parse(argc - 1, argv + 1, &o);
	if (rc)
		return rc;
	ft_log_route_libbpf();
	if (!strcmp(cmd, "attach")) {
		if (!o.host_dev || !o.sink_dev) {
			fprintf(stderr, "emu-nic: attach needs --to-host and --to-sink: name the "
					"NIC's ports toward the host and the sink\n");
			return 2;
		}
		rc = ft_emu_nic_attach(&o);
	} else if (!strcmp(cmd, "stats")) {
		rc = print_stats(o.pin_dir);
	} else if (!strcmp(cmd, "pass")) {
		rc = ft_emu_nic_pass(o.pin_dir, o.netns, o.dev);
	} else {
		rc = ft_emu_nic_detach(o.pin_dir, o.netns, o.dev);
	}
	return rc ? 1 : 0;
}
