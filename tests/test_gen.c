// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The testbed's traffic generator (build/ft-gen), sink (build/ft-sink) and
 * namespaces (tools/testbed.sh): the ground truth is a function of the seed,
 * its rates follow Zipf, shifts move the hot set, and through the testbed
 * every packet arrives at the sink, TCP flags included.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ROWS 1024

static char prefix[32], truth[64], truth2[64], sink_csv[64], err_txt[64];

static char gen_bin[256], sink_bin[256], ft_bin[256];

/* Next to $FT_BIN (make test sets it to $(OUT)/flowtier), else in build/. */
static void find_tools(void)
{
	const char *ft = getenv("FT_BIN"), *slash = ft ? strrchr(ft, '/') : NULL;
	int len = slash ? (int)(slash - ft) : 5;

	snprintf(gen_bin, sizeof(gen_bin), "%.*s/ft-gen", len, slash ? ft : "build");
	snprintf(sink_bin, sizeof(sink_bin), "%.*s/ft-sink", len, slash ? ft : "build");
	snprintf(ft_bin, sizeof(ft_bin), "%.*s/flowtier", len, slash ? ft : "build");
	/* testbed.sh attaches the sink with it */
	setenv("FT_SINK", sink_bin, 0);
}

#define GEN	gen_bin
#define SINK	sink_bin
#define TESTBED "tools/testbed.sh"

/* The command's exit status (-1 when it did not exit). */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void setup(void)
{
	int pid = getpid();

	find_tools();
	snprintf(prefix, sizeof(prefix), "ftg%d", pid);
	snprintf(truth, sizeof(truth), "/tmp/ftg-%d-truth.csv", pid);
	snprintf(truth2, sizeof(truth2), "/tmp/ftg-%d-truth2.csv", pid);
	snprintf(sink_csv, sizeof(sink_csv), "/tmp/ftg-%d-sink.csv", pid);
	snprintf(err_txt, sizeof(err_txt), "/tmp/ftg-%d-err.txt", pid);
}

static void teardown(void)
{
	if (run("%s down %s", TESTBED, prefix) != 0)
		fprintf(stderr, "cannot remove testbed %s\n", prefix);
	if (run("rm -rf /sys/fs/bpf/%s-ft", prefix) != 0)
		fprintf(stderr, "cannot remove /sys/fs/bpf/%s-ft\n", prefix);
	unlink(truth);
	unlink(truth2);
	unlink(sink_csv);
	unlink(err_txt);
}

TestSuite(gen, .init = setup, .fini = teardown);

/* One CSV line split in place; returns the number of fields. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	char *save;

	for (char *t = strtok_r(line, ",\n", &save); t && n < max; t = strtok_r(NULL, ",\n", &save))
		f[n++] = t;
	return n;
}

struct table {
	int n;
	char key[MAX_ROWS][128];
	char ranks[MAX_ROWS][32];
	unsigned long long v[MAX_ROWS][6];
};

/*
 * Reads a CSV file past its '#' lines and header: key is "proto src dst
 * sport dport" from the given columns, v the numeric columns from first.
 */
static void load(const char *path, struct table *t, const int *kc, int first, int nv)
{
	char line[512], *f[16];
	FILE *fp = fopen(path, "r");
	int header = 1;

	cr_assert_not_null(fp, "cannot read %s", path);
	t->n = 0;
	while (fgets(line, sizeof(line), fp)) {
		if (line[0] == '#')
			continue;
		if (header) {
			header = 0;
			continue;
		}
		cr_assert_lt(t->n, MAX_ROWS);
		cr_assert_geq(split(line, f, 16), first + nv, "short line in %s", path);
		snprintf(t->key[t->n], sizeof(t->key[0]), "%s %s %s %s %s", f[kc[0]], f[kc[1]],
			 f[kc[2]], f[kc[3]], f[kc[4]]);
		snprintf(t->ranks[t->n], sizeof(t->ranks[0]), "%s", first > 7 ? f[7] : "");
		for (int i = 0; i < nv; i++)
			t->v[t->n][i] = strtoull(f[first + i], NULL, 10);
		t->n++;
	}
	fclose(fp);
}

/* Truth: flow,family,proto,src,dst,sport,dport,ranks,data,fwd,fwd_bytes,rev,rev_bytes */
enum { T_DATA, T_FWD, T_FWD_BYTES, T_REV, T_REV_BYTES };
static void load_truth(const char *path, struct table *t)
{
	static const int kc[5] = { 2, 3, 4, 5, 6 };

	load(path, t, kc, 8, 5);
}

/* Sink: family,proto,src,dst,sport,dport,packets,bytes,syn,synack,fin,rst */
enum { S_PACKETS, S_BYTES, S_SYN, S_SYNACK, S_FIN, S_RST };
static void load_sink(const char *path, struct table *t)
{
	static const int kc[5] = { 1, 2, 3, 4, 5 };

	load(path, t, kc, 6, 6);
}

static int find(const struct table *t, const char *key)
{
	for (int i = 0; i < t->n; i++)
		if (!strcmp(t->key[i], key))
			return i;
	return -1;
}

/* The same flow seen from the server: "proto dst src dport sport". */
static void reverse_key(const char *key, char *out, size_t len)
{
	char p[8], s[48], d[48], sp[8], dp[8];

	cr_assert_eq(sscanf(key, "%7s %47s %47s %7s %7s", p, s, d, sp, dp), 5);
	snprintf(out, len, "%s %s %s %s %s", p, d, s, dp, sp);
}

static int same_file(const char *a, const char *b)
{
	return run("cmp -s %s %s", a, b) == 0;
}

Test(gen, the_same_seed_gives_the_same_truth_and_another_seed_does_not)
{
	const char *args = "--dry-run --flows 500 --alpha 1.1 --rate 50000 --duration 2 "
			   "--shift 1 --v6-share 0.3 --tcp-share 0.6";

	cr_assert_eq(run("%s %s --seed 7 --truth %s >/dev/null", GEN, args, truth), 0);
	cr_assert_eq(run("%s %s --seed 7 --truth %s >/dev/null", GEN, args, truth2), 0);
	cr_assert(same_file(truth, truth2), "seed 7 twice gave two truths");
	cr_assert_eq(run("%s %s --seed 8 --truth %s >/dev/null", GEN, args, truth2), 0);
	cr_assert_not(same_file(truth, truth2), "seeds 7 and 8 gave one truth");
}

/*
 * Rank k gets rate * k^-alpha / H(N, alpha) packets per second. The
 * fractional carry sends the whole part of what is due, so over a run a
 * flow sends floor(expected) (the carry is under one packet): 100 flows at
 * alpha 1 and 10,000 pps for 1 s give rank 1 10000 / H(100) = 1927.76.
 */
Test(gen, the_top_flow_gets_its_zipf_share)
{
	struct table *t = calloc(1, sizeof(*t));
	unsigned long long total = 0;
	double h = 0;

	cr_assert_eq(run("%s --dry-run --flows 100 --alpha 1 --rate 10000 --duration 1 "
			 "--truth %s >/dev/null",
			 GEN, truth),
		     0);
	load_truth(truth, t);
	cr_assert_eq(t->n, 100);
	for (int k = 100; k >= 1; k--)
		h += 1.0 / k;
	cr_assert_lt(fabs(t->v[0][T_DATA] - 10000 / h), 1.0);
	cr_assert_eq(t->v[0][T_DATA], 1927);
	cr_assert_eq(t->v[1][T_DATA], 963);
	cr_assert_eq(t->v[99][T_DATA], 19); /* 10000 / (100 * H) = 19.28 */
	for (int i = 0; i < t->n; i++)
		total += t->v[i][T_DATA];
	/* Each flow leaves less than one packet in its carry. */
	cr_assert(total > 10000 - 100 && total <= 10000, "total %llu", total);
	cr_assert_eq(total, 9952);
	free(t);
}

/* IPv6 and TCP flows among 10,000 flows with the given shares. */
static void count_kinds(const char *shares, int *v6, int *tcp)
{
	char line[256];
	FILE *fp;

	cr_assert_eq(run("%s --dry-run --flows 10000 --duration 0.1 %s --truth %s >/dev/null", GEN,
			 shares, truth),
		     0);
	fp = fopen(truth, "r");
	cr_assert_not_null(fp);
	*v6 = *tcp = 0;
	while (fgets(line, sizeof(line), fp)) {
		*v6 += strncmp(strchr(line, ',') ? strchr(line, ',') : line, ",6,", 3) == 0;
		*tcp += strstr(line, ",tcp,") != NULL;
	}
	fclose(fp);
}

/*
 * Each flow draws its family and protocol: binomial counts, 4 sigma is
 * sqrt(10000 * 0.3 * 0.7) * 4 = 183 for IPv6, 196 for TCP.
 */
Test(gen, each_flow_draws_family_and_protocol_by_the_shares)
{
	int v6, tcp;

	count_kinds("--v6-share 0.3 --tcp-share 0.6", &v6, &tcp);
	cr_assert(abs(v6 - 3000) < 183 && abs(tcp - 6000) < 196, "v6 %d tcp %d", v6, tcp);
	cr_assert_eq(v6, 3070);
	cr_assert_eq(tcp, 5931);
	count_kinds("--v6-share 0 --tcp-share 1", &v6, &tcp);
	cr_assert_eq(v6, 0);
	cr_assert_eq(tcp, 10000);
	count_kinds("--v6-share 1 --tcp-share 0", &v6, &tcp);
	cr_assert_eq(v6, 10000);
	cr_assert_eq(tcp, 0);
}

/* The flow with the most packets in each interval of the intervals file. */
static void top_per_interval(const char *path, int *top, int n)
{
	unsigned long long best[16] = { 0 };
	unsigned int ivl, flow, fwd, rev;
	char line[128];
	FILE *fp = fopen(path, "r");

	cr_assert_not_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%u,%u,%u,%u", &ivl, &flow, &fwd, &rev) != 4)
			continue;
		cr_assert_lt(ivl, (unsigned int)n);
		if (fwd > best[ivl]) {
			best[ivl] = fwd;
			top[ivl] = (int)flow;
		}
	}
	fclose(fp);
}

Test(gen, a_shift_moves_the_hot_set_at_its_time)
{
	struct table *t = calloc(1, sizeof(*t));
	int top[10], hot_after = -1;

	cr_assert_eq(run("%s --dry-run --flows 10 --alpha 1 --rate 10000 --duration 1 --shift 0.5 "
			 "--seed 7 --interval-ms 100 --truth %s --intervals %s >/dev/null",
			 GEN, truth, truth2),
		     0);
	load_truth(truth, t);
	/* ranks: "epoch 0 rank;epoch 1 rank" */
	cr_assert_str_eq(t->ranks[0], "1;4");
	for (int i = 0; i < t->n; i++)
		if (!strcmp(strchr(t->ranks[i], ';'), ";1"))
			hot_after = i;
	cr_assert_eq(hot_after, 1, "seed 7 makes flow 1 the hottest after the shift");
	top_per_interval(truth2, top, 10);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(top[i], 0, "interval %d (before 0.5 s): top flow %d", i, top[i]);
	for (int i = 5; i < 10; i++)
		cr_assert_eq(top[i], 1, "interval %d (after 0.5 s): top flow %d", i, top[i]);
	free(t);
}

/* Builds the testbed, sends, and reads the sink into sink_csv. */
static void send_through_testbed(const char *args, const char *truth_path)
{
	char env[512];
	FILE *fp;

	cr_assert_eq(run("%s up %s >/dev/null", TESTBED, prefix), 0, "testbed up failed");
	snprintf(env, sizeof(env), "%s env %s", TESTBED, prefix);
	fp = popen(env, "r");
	cr_assert_not_null(fp);
	cr_assert_not_null(fgets(env, sizeof(env), fp));
	pclose(fp);
	/* FT_GEN_NS=... FT_GEN_DEV=nic FT_GEN_DST_MAC=... */
	env[strcspn(env, "\n")] = 0;
	cr_assert_eq(run("env %s sh -c '%s --netns $FT_GEN_NS --dev $FT_GEN_DEV --dst-mac "
			 "$FT_GEN_DST_MAC %s --truth %s' >/dev/null",
			 env, GEN, args, truth_path),
		     0);
	cr_assert_eq(run("%s read --pin /sys/fs/bpf/%s-sink > %s", SINK, prefix, sink_csv), 0);
}

static void assert_dir(const struct table *s, const char *key, unsigned long long packets,
		       unsigned long long bytes)
{
	int j = find(s, key);

	cr_assert_geq(j, 0, "the sink saw nothing of %s", key);
	cr_assert_eq(s->v[j][S_PACKETS], packets, "%s: sink %llu, sent %llu", key,
		     s->v[j][S_PACKETS], packets);
	cr_assert_eq(s->v[j][S_BYTES], bytes, "%s: bytes", key);
}

/* Both directions of every flow arrive exactly; TCP opens and closes once each way. */
static void assert_conserved(const struct table *t, const struct table *s)
{
	char rev[128];
	int tcp = 0, replies = 0, j;

	for (int i = 0; i < t->n; i++) {
		assert_dir(s, t->key[i], t->v[i][T_FWD], t->v[i][T_FWD_BYTES]);
		reverse_key(t->key[i], rev, sizeof(rev));
		if (strncmp(t->key[i], "tcp", 3)) {
			if (t->v[i][T_REV] == 0) {
				cr_assert_eq(find(s, rev), -1, "UDP flow %s has a reply",
					     t->key[i]);
				continue;
			}
			cr_assert_eq(t->v[i][T_REV], 1, "--udp-reply sends one reply");
			cr_assert_eq(t->v[i][T_FWD], t->v[i][T_DATA] + 1, "and one request");
			assert_dir(s, rev, 1, t->v[i][T_REV_BYTES]);
			replies++;
			continue;
		}
		tcp++;
		assert_dir(s, rev, t->v[i][T_REV], t->v[i][T_REV_BYTES]);
		cr_assert_eq(t->v[i][T_REV], 2, "a SYN-ACK and a FIN back");
		j = find(s, t->key[i]);
		cr_assert_eq(s->v[j][S_SYN], 1, "%s: SYN", t->key[i]);
		cr_assert_eq(s->v[j][S_SYNACK], 0);
		cr_assert_eq(s->v[j][S_FIN], 1, "%s: FIN", t->key[i]);
		j = find(s, rev);
		cr_assert_eq(s->v[j][S_SYN], 0);
		cr_assert_eq(s->v[j][S_SYNACK], 1, "%s: SYN-ACK", rev);
		cr_assert_eq(s->v[j][S_FIN], 1, "%s: FIN", rev);
	}
	cr_assert_gt(tcp, 0);
	cr_assert_eq(s->n, t->n + tcp + replies, "the sink saw flows nobody sent");
}

Test(gen, every_packet_reaches_the_sink_with_its_tcp_flags, .timeout = 60)
{
	struct table *t = calloc(1, sizeof(*t)), *s = calloc(1, sizeof(*s));

	send_through_testbed("--flows 300 --alpha 1.1 --rate 30000 --duration 1 --seed 3 "
			     "--v6-share 0.5 --tcp-share 0.5",
			     truth);
	load_truth(truth, t);
	load_sink(sink_csv, s);
	cr_assert_eq(t->n, 300);
	assert_conserved(t, s);
	free(t);
	free(s);
}

Test(gen, a_real_run_is_reproducible, .timeout = 60)
{
	struct table *t = calloc(1, sizeof(*t)), *s = calloc(1, sizeof(*s));
	const char *args = "--flows 50 --alpha 0.9 --rate 5000 --duration 0.5 --seed 11 "
			   "--shift 0.2 --size 200 --udp-reply";

	send_through_testbed(args, truth);
	send_through_testbed(args, truth2);
	cr_assert(same_file(truth, truth2), "one seed, two truths");
	load_truth(truth2, t);
	load_sink(sink_csv, s);
	assert_conserved(t, s);
	free(t);
	free(s);
}

/* The first line the command printed on stderr. */
static void first_err_line(char *buf, size_t len)
{
	FILE *fp = fopen(err_txt, "r");

	cr_assert_not_null(fp);
	cr_assert_not_null(fgets(buf, (int)len, fp));
	fclose(fp);
	buf[strcspn(buf, "\n")] = 0;
}

Test(gen, bad_input_exits_2_and_names_the_problem)
{
	char line[256], want[256];

	cr_assert_eq(run("%s --dry-run --rate abc 2>%s", GEN, err_txt), 2);
	first_err_line(line, sizeof(line));
	cr_assert_str_eq(line, "ft-gen: bad value 'abc' for --rate");
	cr_assert_eq(run("%s --dry-run --shift 5 --duration 2 2>%s", GEN, err_txt), 2);
	first_err_line(line, sizeof(line));
	cr_assert_str_eq(line, "ft-gen: --shift 5: shifts must be inside the duration, after its "
			       "first slice, ascending and at least a slice apart");
	cr_assert_eq(run("%s --netns %s-none --dev nic --dst-mac 02:00:00:00:01:02 2>%s", GEN,
			 prefix, err_txt),
		     2);
	first_err_line(line, sizeof(line));
	snprintf(want, sizeof(want),
		 "ft-gen: cannot enter network namespace '%s-none' (/var/run/netns/%s-none): No "
		 "such file or directory (create it first, e.g. tools/testbed.sh up)",
		 prefix, prefix);
	cr_assert_str_eq(line, want);
	cr_assert_eq(run("%s up 'bad prefix' 2>/dev/null", TESTBED), 2);
}

static int netns_count(void)
{
	char cmd[128];
	int n = -1;
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "ip netns list | grep -c '^%s-'", prefix);
	fp = popen(cmd, "r");
	cr_assert_not_null(fp);
	cr_assert_eq(fscanf(fp, "%d", &n), 1);
	pclose(fp);
	return n;
}

Test(gen, testbed_up_replaces_a_half_built_one_and_down_removes_everything, .timeout = 60)
{
	char pin[96];
	struct stat st;

	snprintf(pin, sizeof(pin), "/sys/fs/bpf/%s-sink", prefix);
	cr_assert_eq(run("ip netns add %s-nic", prefix), 0);
	cr_assert_eq(run("%s up %s >/dev/null", TESTBED, prefix), 0);
	cr_assert_eq(netns_count(), 4);
	cr_assert_eq(stat(pin, &st), 0, "no pin folder %s", pin);
	cr_assert_eq(run("%s down %s", TESTBED, prefix), 0);
	cr_assert_eq(netns_count(), 0);
	cr_assert_neq(stat(pin, &st), 0, "%s is still there", pin);
	cr_assert_eq(run("%s down %s", TESTBED, prefix), 0, "a second down fails");
}

/* flowtier ct's line for the connection from -> to ("a:p" or "[a6]:p"), or NULL. */
static const char *ct_line(const char *ct, const char *from, const char *to)
{
	char pat[160];

	snprintf(pat, sizeof(pat), " %s ", from);
	for (const char *p = strstr(ct, pat); p; p = strstr(p + 1, pat)) {
		const char *eol = strchr(p, '\n'), *t = strstr(p + strlen(pat), to);

		if (t && (!eol || t < eol))
			return p;
	}
	return NULL;
}

/* Packets both ways from a ct line, when the connection is in state. */
static int ct_counts(const char *l, const char *state, unsigned long long *pk,
		     unsigned long long *rpk)
{
	char one[512], pat[32];
	const char *p;

	snprintf(one, sizeof(one), "%.*s", (int)strcspn(l + 1, "\n") + 1, l);
	snprintf(pat, sizeof(pat), " %s ", state);
	p = strstr(one, pat);
	if (!p || sscanf(p + strlen(pat), "%*s %llu %*s %llu", pk, rpk) != 2)
		return -1;
	return 0;
}

static char *read_all(const char *cmd)
{
	static char buf[1 << 16];
	FILE *fp = popen(cmd, "r");
	size_t n;

	cr_assert_not_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = 0;
	pclose(fp);
	return buf;
}

static void endpoint(char *out, size_t len, const char *addr, const char *port)
{
	snprintf(out, len, strchr(addr, ':') ? "[%s]:%s" : "%s:%s", addr, port);
}

/*
 * flowtier's XDP program on host:nic, as the demo will have it: every TCP
 * connection is established while data flows (the SYN-ACK came back the
 * same way), closed after both FINs; UDP flows are established by their one
 * reply (--udp-reply); every counter equals the truth.
 */
Test(gen, flowtier_sees_each_connection_established_then_closed_with_exact_counts, .timeout = 60)
{
	char cmd[768], pin[96], from[80], to[80], key[192], *ct, *f[16], line[512];
	int tcp = 0, est = 0, status;
	const char *l, *c;
	FILE *fp, *bg;

	snprintf(pin, sizeof(pin), "/sys/fs/bpf/%s-ft", prefix);
	cr_assert_eq(run("%s up %s >/dev/null", TESTBED, prefix), 0);
	cr_assert_eq(run("%s load --conns 65536 --pin-dir %s >/dev/null", ft_bin, pin), 0);
	cr_assert_eq(run("nsenter --net=/run/netns/%s-host ip -force link set dev nic xdpdrv "
			 "pinned %s/ft_xdp",
			 prefix, pin),
		     0);
	snprintf(cmd, sizeof(cmd),
		 "%s --netns %s-gen --dev nic --dst-mac 02:00:00:00:01:02 --flows 40 --rate 2000 "
		 "--duration 1.5 --seed 5 --udp-reply --truth %s >/dev/null",
		 GEN, prefix, truth);
	/* popen, not fork(): a fork()ed Criterion worker stayed behind without exec, holding
	 * stdout. */
	bg = popen(cmd, "r");
	cr_assert_not_null(bg);
	usleep(700 * 1000); /* the handshakes went first; data flows until 1.5 s */
	snprintf(cmd, sizeof(cmd), "%s ct --pin-dir %s", ft_bin, pin);
	ct = read_all(cmd);
	for (l = strstr(ct, "\ntcp "); l; l = strstr(l + 1, "\ntcp ")) {
		const char *eol = strchr(l + 1, '\n');

		c = strstr(l, " established ");
		est += c && (!eol || c < eol);
	}
	status = pclose(bg);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ft-gen failed");
	ct = read_all(cmd);
	fp = fopen(truth, "r");
	cr_assert_not_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		unsigned long long pk, rpk;

		if (line[0] == '#' || !strncmp(line, "flow,", 5))
			continue;
		cr_assert_eq(split(line, f, 16), 13);
		endpoint(from, sizeof(from), f[3], f[5]);
		endpoint(to, sizeof(to), f[4], f[6]);
		snprintf(key, sizeof(key), "%s -> %s", from, to);
		l = ct_line(ct, from, to);
		cr_assert_not_null(l, "flowtier has no connection %s", key);
		cr_assert_eq(
			ct_counts(l, strcmp(f[2], "tcp") ? "established" : "closed", &pk, &rpk), 0,
			"%s: not in the expected state", key);
		cr_assert_eq(pk, strtoull(f[9], NULL, 10), "%s: packets", key);
		cr_assert_eq(rpk, strtoull(f[11], NULL, 10), "%s: reply packets", key);
		tcp += !strcmp(f[2], "tcp");
	}
	fclose(fp);
	cr_assert_gt(tcp, 0);
	cr_assert_eq(est, tcp, "%d of %d TCP connections established mid-run", est, tcp);
}
