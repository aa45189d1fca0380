// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The flowtier binary, checked from outside with bpftool. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>

#include "ft_test.h"

/* The binary under test; make test passes its path (it follows OUT). */
#define FT_BIN "\"${FT_BIN:-build/flowtier}\""

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/flowtier-test-%d", getpid());
}

static void teardown(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), FT_BIN " unload --pin-dir %s >/dev/null 2>&1", dir);
	if (system(cmd) == -1)
		fprintf(stderr, "cannot run: %s\n", cmd);
}

TestSuite(cli, .init = setup, .fini = teardown);

static char out[1 << 20];

Test(cli, load_pins_maps_whose_fields_bpftool_shows_by_name)
{
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 1024 --pin-dir %s", dir), 0,
		     "%s", out);
	cr_assert(strstr(out, "pinned ") &&
			  strstr(out, "1024 connections, 200 bytes per connection"),
		  "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), "bpftool map dump pinned %s/ft_stats", dir), 0);
	cr_assert(strstr(out, "\"malformed\"") && strstr(out, "\"evicted\"") &&
			  strstr(out, "\"insert_failed\""),
		  "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), "bpftool map dump pinned %s/ft_timeouts", dir), 0);
	cr_assert(strstr(out, "\"secs\": [120,432000,120,10,30,120,30,30,60,600"), "%s", out);
	cr_assert_eq(
		ft_run(out, sizeof(out), "bpftool map lookup pinned %s/ft_conns key 0 0 0 0", dir),
		0);
	cr_assert(strstr(out, "\"last_tick\"") && strstr(out, "\"slot\"") &&
			  strstr(out, "\"packets\"") && strstr(out, "\"zone\"") &&
			  strstr(out, "\"owner\"") && strstr(out, "\"shared_packets\""),
		  "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), "stat -c %%a %s", dir), 0);
	cr_assert_str_eq(out, "700\n", "pinned maps are root-only");
}

/* A 64-byte UDP/IPv4 frame 198.18.0.1:1000 -> 198.18.0.2:53 as bpftool's data_in. */
static void write_frame(const char *path)
{
	static const unsigned char frame[64] = {
		0x02, 0, 0,   0,  0, 2, 0x02, 0,    0,	0,  0, 1,  0x08, 0x00,
		0x45, 0, 0,   50, 0, 0, 0,    0,    64, 17, 0, 0,  198,	 18,
		0,    1, 198, 18, 0, 2, 0x03, 0xe8, 0,	53, 0, 30,
	};
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(frame, 1, sizeof(frame), f), sizeof(frame));
	fclose(f);
}

Test(cli, a_reload_reuses_the_pinned_table_and_keeps_its_connections)
{
	char frame[64];

	snprintf(frame, sizeof(frame), "/tmp/flowtier-frame-%d", getpid());
	write_frame(frame);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 1024 --pin-dir %s", dir), 0,
		     "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out),
			    "bpftool prog run pinned %s/ft_xdp data_in %s repeat 3", dir, frame),
		     0, "%s", out);
	cr_assert(strstr(out, "Return value: 2"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 4096 --pin-dir %s", dir), 0,
		     "%s", out);
	cr_assert(strstr(out, "keeping the pinned table's 1024 connections") &&
			  strstr(out, "reused "),
		  "%s", out);
	cr_assert_eq(
		ft_run(out, sizeof(out),
		       "bpftool -j map dump pinned %s/ft_stats | grep -o '\"created\": *[0-9]*'",
		       dir),
		0, "%s", out);
	/* One connection, created once, on whichever CPU ran it; the others say 0. */
	cr_assert(strstr(out, "\"created\":1"), "%s", out);
	unlink(frame);
}

Test(cli, load_mounts_bpffs_when_it_is_absent)
{
	/* A private mount namespace: the host's bpffs stays as it is. */
	cr_assert_eq(ft_run(out, sizeof(out),
			    "unshare -m sh -c 'umount -l /sys/fs/bpf && stat -f -c %%T /sys/fs/bpf "
			    "&& " FT_BIN " load --conns 1024 --pin-dir /sys/fs/bpf/ft-mount && "
			    "stat -f -c %%T /sys/fs/bpf && stat -c %%a /sys/fs/bpf'"),
		     0, "%s", out);
	cr_assert(strstr(out, "sysfs\n"), "bpffs was unmounted first: %s", out);
	cr_assert(strstr(out, "flowtier: info: mounted bpffs on /sys/fs/bpf\n"), "%s", out);
	/* bpffs adds the sticky bit to whatever mode it is given */
	cr_assert(strstr(out, "bpf_fs\n1700\n"), "mounted, root-only: %s", out);
}

Test(cli, unload_removes_every_pin_and_says_so_when_there_is_nothing)
{
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 1024 --pin-dir %s", dir), 0,
		     "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " unload --pin-dir %s", dir), 0, "%s", out);
	cr_assert_neq(access(dir, F_OK), 0, "%s is gone", dir);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " unload --pin-dir %s", dir), 1);
	cr_assert(strstr(out, "error: nothing of flowtier's is pinned in "), "%s", out);
}

/* UDP/IPv4 198.18.0.1:sport -> 198.18.0.2:53, tagged with VLAN vlan unless 0. */
static void write_udp(const char *path, __u16 vlan, __u16 sport)
{
	unsigned char f[68] = { 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1 };
	unsigned char *p = f + 12;
	FILE *out;

	if (vlan) {
		*p++ = 0x81, *p++ = 0x00, *p++ = vlan >> 8, *p++ = vlan & 0xff;
	}
	*p++ = 0x08, *p++ = 0x00;
	memcpy(p, (unsigned char[]){ 0x45, 0, 0,	  50,		0,  0,	0, 0,	64,
				     17,   0, 0,	  198,		18, 0,	1, 198, 18,
				     0,	   2, sport >> 8, sport & 0xff, 0,  53, 0, 30 },
	       26);
	out = fopen(path, "w");
	cr_assert_not_null(out);
	cr_assert_eq(fwrite(f, 1, sizeof(f), out), sizeof(f));
	fclose(out);
}

/* Sends a frame n times through the pinned XDP program on CPU 0. */
static void xdp_repeat(const char *frame, int n)
{
	cr_assert_eq(ft_run(out, sizeof(out),
			    "taskset -c 0 bpftool prog run pinned %s/ft_xdp data_in %s repeat %d",
			    dir, frame, n),
		     0, "%s", out);
}

static int count_lines(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(cli, ct_lists_connections_by_zone_and_shows_bucket_fill)
{
	char tagged[64], plain[64];
	__u64 buckets = 0, conns = 0;
	char *line;

	snprintf(tagged, sizeof(tagged), "/tmp/flowtier-tagged-%d", getpid());
	snprintf(plain, sizeof(plain), "/tmp/flowtier-plain-%d", getpid());
	write_udp(tagged, 100, 1000);
	write_udp(plain, 0, 1001);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 1024 --pin-dir %s", dir), 0,
		     "%s", out);
	xdp_repeat(tagged, 1);
	xdp_repeat(plain, 1);

	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " ct --pin-dir %s", dir), 0, "%s", out);
	cr_assert(strstr(out, "2 connections in a table of 1024"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " ct --zone 100 --pin-dir %s", dir), 0, "%s",
		     out);
	cr_assert(strstr(out, "1 connections in a table of 1024"), "%s", out);
	cr_assert_eq(count_lines(out, "198.18.0.1:1000"), 1, "%s", out);
	cr_assert_eq(count_lines(out, "198.18.0.1:1001"), 0, "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " ct --zone 100 --json --pin-dir %s", dir), 0,
		     "%s", out);
	/* The frame is 68 bytes whatever its tag: the tagged one's padding is 4 bytes shorter. */
	cr_assert_str_eq(out, "[{\"src\":\"198.18.0.1\",\"dst\":\"198.18.0.2\",\"sport\":1000,"
			      "\"dport\":53,\"proto\":\"udp\",\"zone\":100,\"state\":\"new\","
			      "\"verdict\":\"pass\",\"hw\":false,\"fragments\":false,"
			      "\"packets\":1,\"bytes\":68,\"reply_packets\":0,\"reply_bytes\":0,"
			      "\"cpus\":[0,-1]}]\n");

	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " ct buckets --pin-dir %s", dir), 0, "%s",
		     out);
	cr_assert(strstr(out, "128 buckets of 8 slots, 2 connections (0.2% full)"), "%s", out);
	/* Each row is "slots in use, buckets": they add up to the table. */
	line = strstr(out, "buckets\n");
	cr_assert_not_null(line, "%s", out);
	for (line = strchr(line, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		unsigned int k;
		unsigned long long n;

		cr_assert_eq(sscanf(line, "%u %llu", &k, &n), 2, "%s", out);
		buckets += n;
		conns += k * n;
	}
	cr_assert_eq(buckets, 128);
	cr_assert_eq(conns, 2);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " ct buckets --json --pin-dir %s", dir), 0,
		     "%s", out);
	cr_assert(strstr(out, "{\"buckets\":128,\"slots\":8,\"connections\":2,\"in_use\":["), "%s",
		  out);

	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " ct --zone 65536 --pin-dir %s", dir), 2);
	cr_assert(strstr(out,
			 "bad value '65536' for --zone: expected a whole number from 0 to 65535"),
		  "%s", out);
	unlink(tagged);
	unlink(plain);
}

/* The pinned XDP program's return code for a frame (2 pass, 1 drop, 4 redirect). */
static int xdp_ret(const char *frame)
{
	const char *r;

	xdp_repeat(frame, 1);
	r = strstr(out, "Return value: ");
	cr_assert_not_null(r, "%s", out);
	return atoi(r + strlen("Return value: "));
}

Test(cli, timeouts_are_listed_and_set_at_run_time)
{
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 1024 --pin-dir %s", dir), 0,
		     "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " timeout set udp established 45 --pin-dir %s",
			    dir),
		     0, "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " timeout list --pin-dir %s", dir), 0);
	cr_assert(strstr(out, "udp    established        45\n"), "%s", out);
	cr_assert(strstr(out, "tcp    established    432000\n"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " timeout list --json --pin-dir %s", dir), 0);
	cr_assert(strstr(out, "{\"proto\":\"udp\",\"state\":\"established\",\"seconds\":45}"), "%s",
		  out);
	cr_assert_eq(ft_run(out, sizeof(out), "bpftool map dump pinned %s/ft_timeouts", dir), 0);
	cr_assert(strstr(out, "\"secs\": [120,432000,120,10,30,45,"), "the map itself: %s", out);

	cr_assert_eq(
		ft_run(out, sizeof(out), FT_BIN " timeout set udp closing 5 --pin-dir %s", dir), 2);
	cr_assert(strstr(out, "error: no timeout 'udp closing': expected one of tcp "
			      "syn_sent|established|closing|closed, udp new|established"),
		  "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " timeout set tcp closed 2592001 --pin-dir %s",
			    dir),
		     2);
	cr_assert(strstr(out, "error: bad value '2592001' for SECONDS: expected a whole number "
			      "from 1 to 2592000"),
		  "%s", out);
}

Test(cli, a_zone_limit_set_at_run_time_refuses_the_next_connection)
{
	char frame[64];

	snprintf(frame, sizeof(frame), "/tmp/flowtier-zone-%d", getpid());
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 1024 --pin-dir %s", dir), 0,
		     "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " zone set-limit 100 2 --pin-dir %s", dir), 0,
		     "%s", out);
	for (int i = 0; i < 3; i++) {
		write_udp(frame, 100, 2000 + i);
		cr_assert_eq(xdp_ret(frame), i < 2 ? 2 : 1, "connection %d", i);
	}
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " zone list --pin-dir %s", dir), 0);
	cr_assert(strstr(out, "   100            2            2            1\n"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " zone list --json --pin-dir %s", dir), 0);
	cr_assert_str_eq(out, "[{\"zone\":100,\"connections\":2,\"limit\":2,\"refused\":1}]\n");
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " zone set-limit 65536 1 --pin-dir %s", dir),
		     2);
	cr_assert(strstr(out, "error: bad value '65536' for ZONE: expected a whole number from 0 "
			      "to 65535"),
		  "%s", out);
	unlink(frame);
}

Test(cli, rules_added_and_deleted_at_run_time_reach_live_connections)
{
	char frame[64];

	snprintf(frame, sizeof(frame), "/tmp/flowtier-rule-%d", getpid());
	write_udp(frame, 0, 3000);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 1024 --pin-dir %s", dir), 0,
		     "%s", out);
	cr_assert_eq(xdp_ret(frame), 2, "no rules: pass");
	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN
			    " rule add --verdict drop --proto udp --dst 198.18.0.0/24 --dport "
			    "50-60 --pin-dir %s",
			    dir),
		     0, "%s", out);
	cr_assert_eq(xdp_ret(frame), 1, "the live connection follows the new rule");
	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN " rule add --verdict redirect --dev lo --pin-dir %s", dir),
		     0, "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " rule list --pin-dir %s", dir), 0);
	cr_assert(
		strstr(out,
		       "    0   ipv4 udp      any                      198.18.0.0/24              "
		       " 50-60    drop"),
		"%s", out);
	cr_assert(strstr(out,
			 "    1    any any      any                      any                      "
			 "    0-65535 redirect lo\n"),
		  "%s", out);

	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " rule del 0 --pin-dir %s", dir), 0, "%s",
		     out);
	cr_assert_eq(xdp_ret(frame), 4, "now the redirect rule is first");
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " rule list --json --pin-dir %s", dir), 0);
	cr_assert_str_eq(out, "[{\"index\":0,\"family\":0,\"proto\":\"any\",\"src\":\"any\","
			      "\"dst\":\"any\",\"dport\":\"0-65535\",\"verdict\":\"redirect\","
			      "\"dev\":\"lo\"}]\n");

	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN " rule add --verdict redirect --dev nope0 --pin-dir %s", dir),
		     2);
	cr_assert(strstr(out, "error: no interface 'nope0': see 'ip link'"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " rule add --proto udp --pin-dir %s", dir), 2);
	cr_assert(strstr(out, "error: rule add needs --verdict pass|drop|redirect"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN " rule add --verdict drop --src 2001:db8::/129 "
				   "--pin-dir %s",
			    dir),
		     2);
	cr_assert(strstr(out, "error: bad prefix '2001:db8::/129'"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " rule del 3 --pin-dir %s", dir), 2);
	cr_assert(
		strstr(out, "error: bad value '3' for INDEX: expected a whole number from 0 to 0"),
		"%s", out);
	unlink(frame);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fputs(text, f) >= 0, 1);
	fclose(f);
	cr_assert_eq(chmod(path, mode), 0);
}

Test(cli, a_config_file_sets_flags_and_the_command_line_overrides_it)
{
	char conf[64], text[256];

	snprintf(conf, sizeof(conf), "/tmp/flowtier-conf-%d", getpid());
	snprintf(text, sizeof(text), "# flowtier\n\n  conns = 4096\npin-dir = %s\n", dir);
	write_text(conf, text, 0600);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --config %s", conf), 0, "%s", out);
	cr_assert(strstr(out, "4096 connections"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " unload --config %s", conf), 0, "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " check --config %s --conns 2048", conf), 0,
		     "%s", out);
	cr_assert(strstr(out, "2048 connections"), "the flag wins: %s", out);

	write_text(conf, "conns = 4096\nbogus = 1\n", 0600);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " check --config %s", conf), 2);
	cr_assert(strstr(out, "error: /tmp/flowtier-conf-") &&
			  strstr(out,
				 ":2: unknown setting 'bogus' (the settings are the long flags, "
				 "without '--')"),
		  "%s", out);
	write_text(conf, "conns 4096\n", 0600);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " check --config %s", conf), 2);
	cr_assert(strstr(out, ":1: expected 'key = value', got 'conns 4096'"), "%s", out);
	write_text(conf, "conns = lots\n", 0600);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " check --config %s", conf), 2);
	cr_assert(strstr(out, "bad value 'lots' for --conns"), "%s", out);
	write_text(conf, "conns = 4096\n", 0666);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " check --config %s", conf), 2);
	cr_assert(strstr(out, "may be changed by someone other than root; run 'chown root"), "%s",
		  out);
	unlink(conf);
}

Test(cli, flows_ranks_flow_directions_with_exact_counters_and_the_json_keys)
{
	char a[64], b[64];

	snprintf(a, sizeof(a), "/tmp/flowtier-fa-%d", getpid());
	snprintf(b, sizeof(b), "/tmp/flowtier-fb-%d", getpid());
	write_udp(a, 0, 4000);
	write_udp(b, 7, 4001);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 1024 --pin-dir %s", dir), 0,
		     "%s", out);
	xdp_repeat(a, 2);
	xdp_repeat(b, 5);

	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN " flows --sort packets --sample 0.1 --json --pin-dir %s", dir),
		     0, "%s", out);
	/* 68-byte frames; b is tagged, VLAN 7, so in zone 7. Nothing was sent while sampling. */
	cr_assert_str_eq(out, "[{\"src\":\"198.18.0.1\",\"dst\":\"198.18.0.2\",\"sport\":4001,"
			      "\"dport\":53,\"proto\":\"udp\",\"zone\":7,\"state\":\"new\","
			      "\"verdict\":\"pass\",\"packets\":5,\"bytes\":340,\"pps\":0.0,"
			      "\"bps\":0.0,\"tier\":\"software\"},"
			      "{\"src\":\"198.18.0.1\",\"dst\":\"198.18.0.2\",\"sport\":4000,"
			      "\"dport\":53,\"proto\":\"udp\",\"zone\":0,\"state\":\"new\","
			      "\"verdict\":\"pass\",\"packets\":2,\"bytes\":136,\"pps\":0.0,"
			      "\"bps\":0.0,\"tier\":\"software\"}]\n");
	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN " flows --sort packets --top 1 --sample 0.1 "
				   "--pin-dir %s",
			    dir),
		     0, "%s", out);
	cr_assert_eq(count_lines(out, "\n"), 2, "a header and one flow: %s", out);
	cr_assert(strstr(out, " 4001 ") && !strstr(out, " 4000 "), "%s", out);

	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " flows --sort rate --pin-dir %s", dir), 2);
	cr_assert(strstr(out, "bad value 'rate' for --sort: expected pps, bps, packets or bytes"),
		  "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " flows --top 0 --pin-dir %s", dir), 2);
	cr_assert(strstr(out, "bad value '0' for --top: expected a whole number from 1 to 100000"),
		  "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " flows --sample 0 --pin-dir %s", dir), 2);
	cr_assert(strstr(out, "bad value '0' for --sample: expected seconds from 0.1 to 60"), "%s",
		  out);
	unlink(a);
	unlink(b);
}

Test(cli, flows_takes_rates_from_what_arrived_while_it_sampled)
{
	char a[64], res[64];
	const char *p;
	double pps;

	snprintf(a, sizeof(a), "/tmp/flowtier-fr-%d", getpid());
	snprintf(res, sizeof(res), "/tmp/flowtier-flows-%d", getpid());
	write_udp(a, 0, 4100);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 1024 --pin-dir %s", dir), 0,
		     "%s", out);
	xdp_repeat(a, 3); /* before the first read: counted, but not in the rate */
	cr_assert_eq(ft_run(out, sizeof(out),
			    "(" FT_BIN " flows --json --sample 2 --pin-dir %s > %s &) ; sleep 0.5",
			    dir, res),
		     0, "%s", out);
	xdp_repeat(a, 10);
	cr_assert_eq(ft_run(out, sizeof(out), "sleep 2; cat %s", res), 0, "%s", out);
	cr_assert(strstr(out, "\"packets\":13,\"bytes\":884"), "%s", out);
	p = strstr(out, "\"pps\":");
	cr_assert_not_null(p, "%s", out);
	pps = atof(p + 6);
	/* 10 packets over an interval of 2 s plus the scans' few milliseconds */
	cr_assert(pps > 4.8 && pps <= 5.0, "pps %.3f: %s", pps, out);
	unlink(a);
	unlink(res);
}

Test(cli, bad_flags_and_commands_exit_2_with_a_clear_message)
{
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns lots"), 2);
	cr_assert(strstr(out, "flowtier: error: bad value 'lots' for --conns: expected a whole "
			      "number from 0 to 21474832"),
		  "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns -5"), 2);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " frobnicate"), 2);
	cr_assert(strstr(out, "flowtier: error: unknown command 'frobnicate'"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --bogus"), 2);
	cr_assert(strstr(out, "usage: flowtier COMMAND"), "%s", out);
}
