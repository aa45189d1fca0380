// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowtier record: packets run through the datapath between the
 * recorder's intervals, the exact trace it writes, and that trace
 * replayed by simulate; then the command from outside.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ft_test.h"
#include "record.h"
#include "simulate.h"
#include "table.h"
#include "tiering.h"

#define FT_BIN "\"${FT_BIN:-build/flowtier}\""

static struct ft_datapath dp;
static struct ft_record *rec;
static char pin[64], path[64];

static void setup(void)
{
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/ftb-record-%d", getpid());
	snprintf(path, sizeof(path), "/tmp/ftb-record-%d.trace", getpid());
}

static void teardown(void)
{
	char cmd[160];

	ft_record_free(rec);
	rec = NULL;
	ft_dp_close(&dp);
	unlink(path);
	snprintf(cmd, sizeof(cmd), FT_BIN " unload --pin-dir %s >/dev/null 2>&1", pin);
	if (system(cmd) == -1)
		fprintf(stderr, "cannot run: %s\n", cmd);
}

TestSuite(record, .init = setup, .fini = teardown);

static const struct ft_spec ab = { .family = 4,
				   .src = "198.18.0.1",
				   .dst = "198.18.0.2",
				   .proto = 17,
				   .sport = 1000,
				   .dport = 53 };
static const struct ft_spec ba = { .family = 4,
				   .src = "198.18.0.2",
				   .dst = "198.18.0.1",
				   .proto = 17,
				   .sport = 53,
				   .dport = 1000 };
static const struct ft_spec cd = { .family = 4,
				   .src = "198.18.0.3",
				   .dst = "198.18.0.4",
				   .proto = 17,
				   .sport = 2000,
				   .dport = 53 };

static void send_n(const struct ft_spec *s, int n)
{
	for (int i = 0; i < n; i++)
		cr_assert_eq(ft_send(&dp, FT_T_XDP, s), FT_XDP_PASS);
}

/* The id of the direction whose packets s describes: ft_flow_id of the table's key. */
static __u64 id_of(const struct ft_spec *s)
{
	int side;
	struct ft_ct *c = ft_find(&dp, s, 0, &side, NULL, NULL);

	cr_assert_not_null(c, "no connection for %s -> %s", s->src, s->dst);
	return ft_flow_id(&c->key, side);
}

static int step(__u64 now_ms, __u32 sec, FILE *out)
{
	int n = ft_record_step(rec, dp.buckets, dp.nr_buckets, now_ms, sec, out);

	cr_assert_geq(n, 0, "ft_record_step: %s", strerror(-n));
	return n;
}

/* Two lines of one second, by ascending id. */
static void two_lines(char *buf, size_t cap, __u32 sec, __u64 id1, __u64 p1, __u64 id2, __u64 p2)
{
	if (id1 > id2) {
		__u64 t = id1, tp = p1;

		id1 = id2, p1 = p2, id2 = t, p2 = tp;
	}
	snprintf(buf, cap, "%u %llu %llu\n%u %llu %llu\n", sec, (unsigned long long)id1,
		 (unsigned long long)p1, sec, (unsigned long long)id2, (unsigned long long)p2);
}

/*
 * Writes the trace of the test below: before the recording AB sends 3
 * and BA 1; interval 1: AB 2, a new flow CD 4; interval 2: nothing;
 * interval 3: AB 1, BA 5.
 */
static void record_three_intervals(FILE *out, char *expect, size_t cap)
{
	char l1[128], l3[128];
	__u64 id_ab, id_ba, id_cd;

	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(ft_record_new(&rec, dp.nr_buckets * FT_SLOTS), 0);
	send_n(&ab, 3);
	send_n(&ba, 1);
	ft_record_header(out, 1);
	cr_assert_eq(step(1000, 0, out), 0, "what came before the recording is not in it");
	send_n(&ab, 2);
	send_n(&cd, 4);
	cr_assert_eq(step(2000, 1, out), 2);
	cr_assert_eq(step(3000, 2, out), 0);
	send_n(&ab, 1);
	send_n(&ba, 5);
	cr_assert_eq(step(4000, 3, out), 2);
	id_ab = id_of(&ab);
	id_ba = id_of(&ba);
	id_cd = id_of(&cd);
	cr_assert_neq(id_ab, id_ba, "each direction has its own id");
	two_lines(l1, sizeof(l1), 1, id_ab, 2, id_cd, 4);
	two_lines(l3, sizeof(l3), 3, id_ab, 1, id_ba, 5);
	snprintf(expect, cap, "# flowtier trace v1\n# interval 1 s\n# SECOND FLOW_ID PACKETS\n%s%s",
		 l1, l3);
}

Test(record, each_interval_holds_the_packets_each_direction_sent_in_it)
{
	char *buf = NULL, expect[512];
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	cr_assert_not_null(out);
	record_three_intervals(out, expect, sizeof(expect));
	cr_assert_eq(fclose(out), 0);
	cr_assert_str_eq(buf, expect);
	free(buf);
}

/*
 * simulate replays it: 12 packets; with room for one rule the oracle
 * takes CD's 4 in second 1 and BA's 5 in second 3; flowtier's minimum
 * rate (100 pps) keeps every flow of this trace in software.
 */
Test(record, simulate_replays_the_recorded_trace)
{
	struct ft_sim_result res[FT_SIM_NPOLICIES];
	struct ft_sim_opts o;
	char expect[512];
	FILE *out = fopen(path, "w");

	cr_assert_not_null(out);
	record_three_intervals(out, expect, sizeof(expect));
	cr_assert_eq(fclose(out), 0);
	ft_sim_opts_default(&o);
	o.trace = path;
	o.capacity = 1;
	o.duration = 0;
	cr_assert_eq(ft_simulate(&o, res), 0);
	cr_assert_eq(o.flows, 3);
	cr_assert_eq(o.duration, 3);
	cr_assert_str_eq(res[3].policy, "oracle");
	cr_assert_eq(res[3].packets, 12);
	cr_assert_eq(res[3].hw_packets, 9);
	cr_assert_str_eq(res[0].policy, "flowtier");
	cr_assert_eq(res[0].hw_packets, 0);
}

static char out[1 << 16];

static void read_file(const char *p, char *buf, size_t cap)
{
	FILE *f = fopen(p, "r");
	size_t n;

	cr_assert_not_null(f, "%s", p);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* The frame test_cli.c uses: UDP 198.18.0.1:1000 -> 198.18.0.2:53, for bpftool's data_in. */
static void write_frame(const char *p)
{
	static const unsigned char frame[64] = {
		0x02, 0, 0,   0,  0, 2, 0x02, 0,    0,	0,  0, 1,  0x08, 0x00,
		0x45, 0, 0,   50, 0, 0, 0,    0,    64, 17, 0, 0,  198,	 18,
		0,    1, 198, 18, 0, 2, 0x03, 0xe8, 0,	53, 0, 30,
	};
	FILE *f = fopen(p, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(frame, 1, sizeof(frame), f), sizeof(frame));
	fclose(f);
}

static int find_ab(const struct ft_ct *c, __u32 bucket, void *arg)
{
	static const __u8 a[4] = { 198, 18, 0, 1 };

	(void)bucket;
	for (int side = 0; side < 2; side++)
		if (!memcmp(c->key.addr[side], a, 4))
			*(__u64 *)arg = ft_flow_id(&c->key, side);
	return 0;
}

/*
 * The command on a pinned table: bpftool runs 7 packets through the
 * program while it records 4 intervals of 0.5 s. Which interval they
 * land in depends on the scheduler; the line, its id and count do not.
 */
Test(record, the_command_records_what_bpftool_sends_while_it_runs)
{
	char frame[64], trace[4096], expect[128];
	unsigned int sec = 0;
	__u64 id = 0;
	struct ft_table t;

	snprintf(frame, sizeof(frame), "/tmp/ftb-record-frame-%d", getpid());
	write_frame(frame);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 1024 --pin-dir %s", pin), 0,
		     "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out),
			    "(" FT_BIN " record --pin-dir %s --interval 0.5 --duration 2 --out %s &"
			    " sleep 0.6; bpftool prog run pinned %s/ft_xdp data_in %s repeat 7"
			    " >/dev/null; wait $!)",
			    pin, path, pin, frame),
		     0, "%s", out);
	unlink(frame);
	cr_assert(strstr(out, "recorded 4 intervals of 0.5 s, 1 lines, into"), "%s", out);
	cr_assert_eq(ft_table_open(&t, pin), 0);
	ft_table_for_each(&t, find_ab, &id);
	ft_table_close(&t);
	cr_assert_neq(id, 0);
	read_file(path, trace, sizeof(trace));
	cr_assert_eq(sscanf(trace,
			    "# flowtier trace v1\n# interval 0.5 s\n# SECOND FLOW_ID "
			    "PACKETS\n%u",
			    &sec),
		     1, "%s", trace);
	cr_assert(sec >= 1 && sec <= 4, "%s", trace);
	snprintf(expect, sizeof(expect),
		 "# flowtier trace v1\n# interval 0.5 s\n# SECOND FLOW_ID PACKETS\n%u %llu 7\n",
		 sec, (unsigned long long)id);
	cr_assert_str_eq(trace, expect);
}

Test(record, bad_flags_exit_2_with_a_clear_message)
{
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " record --interval 0 --out %s", path), 2);
	cr_assert(strstr(out, "bad value '0' for --interval: expected seconds from 0.1 to 3600"),
		  "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " record --interval 1"), 2);
	cr_assert(strstr(out, "record needs --out FILE, where the trace goes"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN " record --interval 1 --duration 100000 --out %s", path),
		     2);
	cr_assert(strstr(out, "--duration 100000 / --interval 1: from 1 to 86400 intervals, not "
			      "100000"),
		  "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " record --out %s --pin-dir %s", path, pin),
		     1);
	cr_assert(strstr(out, "is the datapath loaded? run 'flowtier load'"), "%s", out);
	cr_assert_eq(access(path, F_OK), -1, "nothing written when the table is not there");
}
