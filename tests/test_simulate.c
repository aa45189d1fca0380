// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowtier simulate on traces small enough to follow by hand: 4 flows of
 * 1000 packets a second in all, Zipf alpha 1, so ranks send 480, 240, 160
 * and 120 packets a second (times 10 with --pps 10000); a NIC of 2 rules.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft_test.h"
#include "simulate.h"

#define FT_BIN "\"${FT_BIN:-build/flowtier}\""
#define TINY                                                                                       \
	" simulate --zipf 1 --flows 4 --capacity 2 --pps 1000 --turnover 0 --stats-lag 0"          \
	" --insert-rate 0"

static char out[1 << 16];

/* Runs a shell command into out; its exit code, or -1 if it did not exit. */
#define run(...) ft_run(out, sizeof(out), __VA_ARGS__)

/*
 * flowtier learns the rates in the first second and holds the top two
 * from the second on: 5 x 720 packets. ovs and fcfs install the first
 * two slots on arrival (ranks 1 and 3: 640 a second); ovs's pass at 3 s
 * swaps rank 3 for rank 2 (720 from then on). Operations: flowtier 2 adds
 * and 2 refused; ovs 2 adds, 1 refused, at 3 s 1 refused and a swap, at
 * 6 s 1 refused; fcfs 2 adds and 1 refused; the oracle's set changes once.
 * Changes, the adds and deletes that went through: flowtier 2, ovs 4,
 * fcfs 2, the oracle 2.
 */
Test(simulate, tiny_trace_json_exact)
{
	cr_assert_eq(run(FT_BIN TINY " --duration 6 --json"), 0, "%s", out);
	cr_assert_str_eq(
		out,
		"{\"flows\":4,\"capacity\":2,\"zipf\":1,\"duration\":6,\"seed\":1,\"packets\":6000,"
		"\"policies\":["
		"{\"policy\":\"flowtier\",\"coverage\":0.6000,\"ratio_to_oracle\":0.8333,"
		"\"ops_per_second\":0.7,\"changes_per_second\":0.3,\"hw_packets\":3600,"
		"\"recovery_seconds\":[],\"after_shift\":[]},"
		"{\"policy\":\"ovs\",\"coverage\":0.6800,\"ratio_to_oracle\":0.9444,"
		"\"ops_per_second\":1.2,\"changes_per_second\":0.7,\"hw_packets\":4080,"
		"\"recovery_seconds\":[],\"after_shift\":[]},"
		"{\"policy\":\"fcfs\",\"coverage\":0.6400,\"ratio_to_oracle\":0.8889,"
		"\"ops_per_second\":0.5,\"changes_per_second\":0.3,\"hw_packets\":3840,"
		"\"recovery_seconds\":[],\"after_shift\":[]},"
		"{\"policy\":\"oracle\",\"coverage\":0.7200,\"ratio_to_oracle\":1.0000,"
		"\"ops_per_second\":0.3,\"changes_per_second\":0.3,\"hw_packets\":4320,"
		"\"recovery_seconds\":[],\"after_shift\":[]}"
		"]}\n");
}

/*
 * After the shift at 6 s, flowtier sees the new rates at 7 s and swaps
 * once (its rules are past the 5 s dwell): back to the top two from 8 s,
 * 2 s after the shift. With a counter lag of 2 s its rules' rates are
 * stale until 9 s: 4 s.
 */
Test(simulate, tiny_shift_recovery_follows_the_counter_lag)
{
	cr_assert_eq(run(FT_BIN TINY " --pps 10000 --duration 12 --shift 6"), 0, "%s", out);
	cr_assert_str_eq(out,
			 "policy       coverage  ratio_to_oracle  ops_per_second recovery_seconds\n"
			 "flowtier       0.6533           0.9074             0.5 2\n"
			 "ovs            0.6800           0.9444             0.9 4\n"
			 "fcfs           0.4600           0.6389             0.2 never\n"
			 "oracle         0.7200           1.0000             0.3 1\n");
	cr_assert_eq(run(FT_BIN TINY " --pps 10000 --duration 12 --shift 6 --stats-lag 2"), 0, "%s",
		     out);
	cr_assert_str_eq(out,
			 "policy       coverage  ratio_to_oracle  ops_per_second recovery_seconds\n"
			 "flowtier       0.6400           0.8889             0.5 4\n"
			 "ovs            0.6000           0.8333             1.1 never\n"
			 "fcfs           0.4600           0.6389             0.2 never\n"
			 "oracle         0.7200           1.0000             0.3 1\n");
	/* Interval by interval: the swap lands in the 4th interval after the shift. */
	cr_assert_eq(run(FT_BIN TINY " --pps 10000 --duration 12 --shift 6 --stats-lag 2 --json"),
		     0, "%s", out);
	cr_assert(strstr(out,
			 "\"policy\":\"flowtier\",\"coverage\":0.6400,\"ratio_to_oracle\":0.8889,"
			 "\"ops_per_second\":0.5,\"changes_per_second\":0.3,\"hw_packets\":76800,"
			 "\"recovery_seconds\":[4],"
			 "\"after_shift\":[[0.8889,0.8889,0.8889,1.0000,1.0000]]}"),
		  "%s", out);
}

/* The absolute margin: 240 is 50% above 160 but not 100 pps above it. */
Test(simulate, tiny_rates_stay_under_the_absolute_margin)
{
	cr_assert_eq(run(FT_BIN TINY " --duration 12 --shift 6"), 0, "%s", out);
	cr_assert(strstr(out, "flowtier       0.6200           0.8611             0.3 never\n"),
		  "%s", out);
}

/*
 * A mid-sized trace: more coverage than ovs, and a quarter of its
 * operations (not the fifth the issue asks: the one shift costs 400 swaps
 * in 30 s; on 100k flows the share is 0.08 to 0.13, see the report).
 */
Test(simulate, flowtier_beats_ovs_in_coverage_and_operations)
{
	struct ft_sim_result r[FT_SIM_NPOLICIES];
	struct ft_sim_opts o;

	ft_sim_opts_default(&o);
	o.flows = 20000;
	o.capacity = 400;
	o.duration = 30;
	o.shifts[o.nshifts++] = 15;
	cr_assert_eq(ft_simulate(&o, r), 0);
	cr_assert_str_eq(r[0].policy, "flowtier");
	cr_assert_str_eq(r[1].policy, "ovs");
	cr_assert_eq(r[0].packets, 299999672);
	cr_assert_eq(r[0].hw_packets, 175500518);
	cr_assert_eq(r[1].hw_packets, 146766435);
	cr_assert_eq(r[3].hw_packets, 188057482);
	cr_assert_eq(r[0].recovery[0], 2,
		     "the shift guess: one interval to see it, one to be covered");
	cr_assert_eq(r[1].recovery[0], 7);
	cr_assert_gt(r[0].coverage, r[1].coverage);
	cr_assert_eq((int)(r[0].ops_per_second * 10 + 0.5), 422);
	cr_assert_eq((int)(r[1].ops_per_second * 10 + 0.5), 1601);
	/* Without the shift guess the new hot set waits for the counters, 2 s late. */
	o.shift_guess = 0;
	cr_assert_eq(ft_simulate(&o, r), 0);
	cr_assert_eq(r[0].hw_packets, 174192643);
	cr_assert_eq(r[0].recovery[0], 4);
	cr_assert_eq((int)(r[0].ops_per_second * 10 + 0.5), 415);
}

#define USAGE                                                                                      \
	"usage: flowtier simulate --zipf ALPHA --flows N --capacity C --duration SECONDS\n"        \
	"         [--shift SECONDS]... [--seed K] [--insert-rate R] [--stats-lag SECONDS]\n"       \
	"         [--pps TOTAL] [--turnover FRACTION] [--churn OPS] [--shift-guess on|off]\n"      \
	"         [--json]\n"                                                                      \
	"       flowtier simulate --trace FILE --capacity C [--duration SECONDS]\n"                \
	"         [--shift SECONDS]... [--insert-rate R] [--stats-lag SECONDS] [--json]\n"

Test(simulate, bad_input_names_the_problem_and_exits_2)
{
	cr_assert_eq(run(FT_BIN " simulate --flows 4 --capacity 2 --duration 6"), 2);
	cr_assert_str_eq(out, "flowtier: error: simulate needs --zipf, --flows, --capacity and "
			      "--duration (or --trace FILE and --capacity)\n" USAGE);
	cr_assert_eq(run(FT_BIN TINY " --duration 6 --shift 6"), 2);
	cr_assert_str_eq(out, "flowtier: error: --shift 6: past the end of the trace (--duration "
			      "6)\n" USAGE);
	cr_assert_eq(run(FT_BIN " simulate --zipf x --flows 4 --capacity 2 --duration 6"), 2);
	cr_assert_str_eq(out, "flowtier: error: bad value 'x' for --zipf: expected a number from "
			      "0.01 to 5\n" USAGE);
	cr_assert_eq(run(FT_BIN TINY " --duration 6 --shift-guess maybe"), 2);
	cr_assert_str_eq(out,
			 "flowtier: error: bad value 'maybe' for --shift-guess: expected on or "
			 "off\n" USAGE);
	cr_assert_eq(run(FT_BIN TINY " --duration 6 --trace t.txt"), 2);
	cr_assert_str_eq(out,
			 "flowtier: error: --trace replays a recorded trace: --zipf and --flows "
			 "do not apply\n" USAGE);
}

static char dir[64];

static void trace_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fto-sim-%d", getpid());
	cr_assert_eq(mkdir(dir, 0700), 0);
}

static void trace_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
}

static const char *write_trace(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

TestSuite(trace, .init = trace_setup, .fini = trace_teardown);

/*
 * Flow 7 sends 500 a second throughout, 8 sends 300 for 3 s and leaves,
 * 9 sends 100 then 900 from the 4th second; one rule. The oracle holds 7,
 * then 9: 3 x 500 + 3 x 900. flowtier installs 7 after the first second
 * and may swap it for 9 only once its 5 s dwell is over, at 6 s: 5 x 500.
 * ovs installs 7 on arrival (6 x 500) and swaps at its 6 s pass. fcfs
 * keeps 7.
 */
Test(trace, a_recorded_trace_replays_exactly)
{
	const char *p = write_trace("t.txt", "# flowtier trace v1\n"
					     "1 7 500\n1 8 300\n1 9 100\n"
					     "2 7 500\n2 8 300\n2 9 100\n"
					     "3 7 500\n3 8 300\n 3 9 100\n"
					     "\n4 7 500\n4 9 900\n"
					     "5 7 500\n5 9 900\n"
					     "6 7 500\n6 9 900\n");

	cr_assert_eq(
		run(FT_BIN " simulate --trace %s --capacity 1 --stats-lag 0 --insert-rate 0", p), 0,
		"%s", out);
	cr_assert_str_eq(out,
			 "policy       coverage  ratio_to_oracle  ops_per_second recovery_seconds\n"
			 "flowtier       0.3623           0.5952             0.8 -\n"
			 "ovs            0.4348           0.7143             1.0 -\n"
			 "fcfs           0.4348           0.7143             0.3 -\n"
			 "oracle         0.6087           1.0000             0.5 -\n");
}

Test(trace, a_malformed_trace_names_its_line)
{
	const char *p = write_trace("bad.txt", "1 7 500\n2 7 x\n");

	cr_assert_eq(run(FT_BIN " simulate --trace %s --capacity 1", p), 2);
	cr_assert(strstr(out, "bad.txt:2: expected 'SECOND FLOW_ID PACKETS' (second 1 to 86400, "
			      "id not 0)\n"),
		  "%s", out);
	p = write_trace("down.txt", "2 7 500\n1 7 5\n");
	cr_assert_eq(run(FT_BIN " simulate --trace %s --capacity 1", p), 2);
	cr_assert(strstr(out,
			 "down.txt:2: second 1 comes after second 2: seconds must not go down\n"),
		  "%s", out);
	p = write_trace("empty.txt", "# nothing\n");
	cr_assert_eq(run(FT_BIN " simulate --trace %s --capacity 1", p), 2);
	cr_assert(strstr(out, "empty.txt: no flows in the trace\n"), "%s", out);
	cr_assert_eq(run(FT_BIN " simulate --trace %s/none.txt --capacity 1", dir), 2);
	cr_assert(strstr(out, "/none.txt': No such file or directory\n"), "%s", out);
}
