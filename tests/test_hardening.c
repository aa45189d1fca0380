// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What a typo or a second command must not do: mount over a user's
 * folder, take a timeout that ends every connection, store a rule whose
 * meaning depends on flag order, or lose a rule to a concurrent writer.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft_test.h"

#define FT_BIN "\"${FT_BIN:-build/flowtier}\""

/* Everything this test creates carries its pid: tests run side by side. */
static char pin[64], home[64];
static char out[1 << 20];

static void setup(void)
{
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/ft-hard-%d", getpid());
	snprintf(home, sizeof(home), "/tmp/ft-hard-%d", getpid());
}

static void teardown(void)
{
	char buf[4096];

	ft_run(buf, sizeof(buf), FT_BIN " unload --pin-dir %s", pin);
	ft_run(buf, sizeof(buf), "rm -rf %s", home);
}

TestSuite(hardening, .init = setup, .fini = teardown, .timeout = 60);

static void load(void)
{
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 1024 --pin-dir %s", pin), 0,
		     "%s", out);
}

/*
 * In a mount namespace of its own, so that a regression mounts nothing
 * over the host's folders: a pin dir whose folder is not on bpffs is
 * refused, and the folder still shows what it held.
 */
Test(hardening, a_pin_dir_off_bpffs_is_refused_and_nothing_is_mounted_over_its_folder)
{
	char want[512];

	cr_assert_eq(ft_run(out, sizeof(out), "mkdir -p %s && echo mine > %s/keep", home, home), 0);
	cr_assert_eq(ft_run(out, sizeof(out),
			    "unshare -m sh -c '" FT_BIN " load --conns 1024 --pin-dir %s/pins; "
			    "echo exit=$?; cat %s/keep; stat -f -c %%T %s'",
			    home, home, home),
		     0, "%s", out);
	snprintf(want, sizeof(want),
		 "flowtier: error: cannot pin under %s/pins: %s is not on bpffs (give --pin-dir a "
		 "folder inside a bpffs mount, such as /sys/fs/bpf/flowtier, or mount one with "
		 "'mount -t bpf bpf %s')\nexit=2\nmine\n",
		 home, home, home);
	cr_assert(!strncmp(out, want, strlen(want)), "want\n%s\ngot\n%s", want, out);
	cr_assert(!strstr(out, "bpf_fs"), "nothing mounted on %s: %s", home, out);
	cr_assert_neq(access("/tmp/ft-hard-pins", F_OK), 0);
}

Test(hardening, the_bpffs_root_itself_is_refused_and_sys_fs_stays_sysfs)
{
	cr_assert_eq(ft_run(out, sizeof(out),
			    "unshare -m sh -c '" FT_BIN " load --conns 1024 --pin-dir /sys/fs/bpf; "
			    "echo exit=$?; stat -f -c %%T /sys/fs; ls /sys/fs | grep -c cgroup'"),
		     0, "%s", out);
	cr_assert_str_eq(out,
			 "flowtier: error: cannot pin under /sys/fs/bpf: /sys/fs is not on "
			 "bpffs (give --pin-dir a folder inside a bpffs mount, such as "
			 "/sys/fs/bpf/flowtier, or mount one with 'mount -t bpf bpf /sys/fs')\n"
			 "exit=2\nsysfs\n1\n");
}

Test(hardening, a_timeout_of_zero_is_refused_and_the_table_keeps_its_value)
{
	load();
	cr_assert_eq(
		ft_run(out, sizeof(out), FT_BIN " timeout set tcp established 0 --pin-dir %s", pin),
		2);
	cr_assert_str_eq(out, "flowtier: error: bad value '0' for SECONDS: expected a whole number "
			      "from 1 to 2592000\n");
	cr_assert_eq(
		ft_run(out, sizeof(out), FT_BIN " timeout set tcp established 1 --pin-dir %s", pin),
		0, "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " timeout list --pin-dir %s", pin), 0);
	cr_assert(strstr(out, "tcp    established         1\n"), "the floor is allowed: %s", out);
}

/* --src then --family, or the other way round: the same rule or the same refusal. */
Test(hardening, a_prefix_that_contradicts_family_is_refused_in_either_order)
{
	load();
	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN " rule add --verdict drop --src 198.18.0.0/16 --family 6 "
				   "--pin-dir %s",
			    pin),
		     2);
	cr_assert_str_eq(out, "flowtier: error: --family 6 contradicts the rule's prefixes: give "
			      "prefixes of that family, or leave --family out\n");
	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN " rule add --verdict drop --family 6 --src 198.18.0.0/16 "
				   "--pin-dir %s",
			    pin),
		     2);
	cr_assert_str_eq(out, "flowtier: error: bad prefix '198.18.0.0/16': expected "
			      "ADDRESS[/LENGTH] of the rule's family\n");
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " rule list --json --pin-dir %s", pin), 0);
	cr_assert_str_eq(out, "[]\n", "nothing was stored");
	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN " rule add --verdict drop --src 198.18.0.0/16 --family 4 "
				   "--pin-dir %s",
			    pin),
		     0, "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " rule list --json --pin-dir %s", pin), 0);
	cr_assert_str_eq(out, "[{\"index\":0,\"family\":4,\"proto\":\"any\",\"src\":"
			      "\"198.18.0.0/16\",\"dst\":\"any\",\"dport\":\"0-65535\","
			      "\"verdict\":\"drop\",\"dev\":\"\"}]\n");
}

/* Forty writers at once: every one of their rules is stored, each once. */
Test(hardening, concurrent_rule_adds_lose_nothing)
{
	load();
	cr_assert_eq(ft_run(out, sizeof(out),
			    "pids=; for i in $(seq 1 40); do " FT_BIN
			    " rule add --verdict pass --dport "
			    "$((1000 + i)) --pin-dir %s & pids=\"$pids $!\"; done; fail=0; "
			    "for p in $pids; do wait $p || fail=1; done; exit $fail",
			    pin),
		     0, "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN " rule list --pin-dir %s | awk 'NR > 1 { print $6 }' | sort -n "
				   "| uniq | wc -l",
			    pin),
		     0);
	cr_assert_str_eq(out, "40\n");
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " rule list --pin-dir %s | wc -l", pin), 0);
	cr_assert_str_eq(out, "41\n", "a header and 40 rules");
}

/* A folder given as --config is refused; a trailing comment is not part of the value. */
Test(hardening, a_config_folder_is_refused_and_trailing_comments_are_cut)
{
	char conf[96], want[256];
	FILE *f;

	cr_assert_eq(ft_run(out, sizeof(out), "mkdir -p %s && chmod 700 %s", home, home), 0);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " check --config %s", home), 2);
	snprintf(want, sizeof(want),
		 "flowtier: error: %s: not a regular file; give --config a config file\n", home);
	cr_assert_str_eq(out, want);

	snprintf(conf, sizeof(conf), "%s/flowtier.conf", home);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fputs("conns = 2048   # two thousand\n# a whole line\nxdp-mode = off#not a comment\n", f);
	fclose(f);
	cr_assert_eq(chmod(conf, 0600), 0);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " check --config %s", conf), 2);
	cr_assert(
		!strncmp(out,
			 "flowtier: error: bad value 'off#not a comment' for --xdp-mode: expected "
			 "native, generic, skb or off\n",
			 100),
		"'#' inside a word stays: %s", out);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fputs("conns = 2048   # two thousand\n", f);
	fclose(f);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " check --config %s", conf), 0, "%s", out);
	cr_assert(strstr(out, "2048 connections"), "%s", out);
}

/* One number grammar: decimal digits, within what the program can take; else exit 2. */
Test(hardening, numbers_are_decimal_and_a_table_too_large_is_a_bad_flag)
{
	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN " check --conns 4294967295 2>&1 | head -1; "
				   "exit $(" FT_BIN " check --conns 4294967295 >/dev/null 2>&1; "
				   "echo $?)"),
		     2);
	cr_assert_str_eq(out, "flowtier: error: bad value '4294967295' for --conns: expected a "
			      "whole number from 0 to 21474832\n");
	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN
			    " run -i lo --pin-dir %s --interval 0x10 2>&1 | head -1; exit $(" FT_BIN
			    " run -i lo --pin-dir %s --interval 0x10 >/dev/null 2>&1; echo $?)",
			    pin, pin),
		     2);
	cr_assert_str_eq(out, "flowtier: error: bad value '0x10' for --interval: expected seconds "
			      "from 0.1 to 3600\n");
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " flows --sample inf 2>&1 | head -1"), 0);
	cr_assert_str_eq(out,
			 "flowtier: error: bad value 'inf' for --sample: expected seconds from "
			 "0.1 to 60\n");
	cr_assert_neq(access(pin, F_OK), 0, "nothing was pinned");
}

/* Every command takes --help: the usage on stdout, exit 0, nothing loaded. */
Test(hardening, every_command_answers_help_with_the_usage_and_exit_0)
{
	static const char *const cmds[] = { "check", "load",	"unload",   "run",     "status",
					    "ct",    "flows",	"metrics",  "timeout", "zone",
					    "rule",  "offload", "simulate", "record" };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		cr_assert_eq(
			ft_run(out, sizeof(out), FT_BIN " %s --help --pin-dir %s", cmds[i], pin), 0,
			"%s: %s", cmds[i], out);
		cr_assert(!strncmp(out, "usage: flowtier COMMAND [OPTIONS]\n", 34), "%s: %s",
			  cmds[i], out);
	}
	cr_assert_neq(access(pin, F_OK), 0, "nothing was pinned");
}
