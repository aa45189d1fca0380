// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control socket against what is found at --socket, against clients
 * that connect and say nothing or trickle, and the CLI against servers it
 * must not wait for or believe: a controller of the test's own on a veth
 * in a namespace of the test's own, and listeners the test makes itself.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ft_test.h"

#define FT_BIN "\"${FT_BIN:-build/flowtier}\""

/* Everything carries the test's pid: tests run side by side. */
static char ns[32], if_a[16], if_b[16], pin[64], dir[64], wdir[64], sock[96], pidfile[64];
static char in_ns[96];
static char out[1 << 16];
static pid_t child = -1; /* a listener of the test's own */

#define sh(...) cr_assert_eq(ft_run(out, sizeof(out), __VA_ARGS__), 0, "%s", out)

static void setup(void)
{
	int p = getpid();

	snprintf(ns, sizeof(ns), "ftc-%d", p);
	snprintf(if_a, sizeof(if_a), "ftc%da", p);
	snprintf(if_b, sizeof(if_b), "ftc%db", p);
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/ft-test-ctl-%d", p);
	snprintf(dir, sizeof(dir), "/tmp/ft-test-ctl-%d", p);
	snprintf(wdir, sizeof(wdir), "/tmp/ft-test-ctl-%d-w", p);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	snprintf(pidfile, sizeof(pidfile), "/tmp/ft-test-ctl-%d.pid", p);
	snprintf(in_ns, sizeof(in_ns), "nsenter --net=/run/netns/%s", ns);
	sh("ip netns add %s", ns);
	sh("ip -n %s link add %s type veth peer name %s && ip -n %s link set %s up && "
	   "ip -n %s link set %s up",
	   ns, if_a, if_b, ns, if_a, ns, if_b);
	cr_assert_eq(mkdir(dir, 0700), 0, "%s: %s", dir, strerror(errno));
}

static void teardown(void)
{
	char buf[4096];

	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	/* Only the controller this test started, by its pid. */
	ft_run(buf, sizeof(buf), "test -s %s && kill -9 $(cat %s); sleep 0.1", pidfile, pidfile);
	ft_run(buf, sizeof(buf), "%s " FT_BIN " unload --pin-dir %s", in_ns, pin);
	ft_run(buf, sizeof(buf), "ip netns del %s", ns);
	ft_run(buf, sizeof(buf), "rm -rf %s %s %s; rm -f %s %s.log", pin, dir, wdir, pidfile,
	       pidfile);
}

TestSuite(ctl_clients, .init = setup, .fini = teardown, .timeout = 60);

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Asks status json=1 in this process; returns how long the answer took, in ms. */
static long long timed_status(unsigned long long *intervals)
{
	char *buf = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	long long t0 = now_ms(), ms;
	int err;

	cr_assert_not_null(f);
	err = ft_ctl_query(sock, "status json=1", f);
	ms = now_ms() - t0;
	fclose(f);
	cr_assert_eq(err, 0, "status: %d: %s", err, buf);
	p = strstr(buf, "\"intervals\":");
	cr_assert_not_null(p, "%s", buf);
	*intervals = strtoull(p + strlen("\"intervals\":"), NULL, 10);
	free(buf);
	return ms;
}

/* flowtier run in the namespace, in the background, every 100 ms; waits until it answers. */
static void start_controller(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	sh("%s " FT_BIN " run --conns 1024 --pin-dir %s -i %s --socket %s --interval 0.1 "
	   "--offload none --metrics off >>%s.log 2>&1 & echo $! > %s",
	   in_ns, pin, if_a, sock, pidfile, pidfile);
	for (int i = 0; i < 100; i++) {
		int err;

		f = open_memstream(&buf, &len);
		cr_assert_not_null(f);
		err = ft_ctl_query(sock, "status", f);
		fclose(f);
		free(buf);
		if (!err)
			return;
		usleep(100 * 1000);
	}
	ft_run(out, sizeof(out), "cat %s.log", pidfile);
	cr_assert_fail("the controller did not answer: %s", out);
}

static void kill_controller(int sig)
{
	sh("kill -%d $(cat %s)", sig, pidfile);
	for (int i = 0; i < 50 && ft_run(out, sizeof(out), "kill -0 $(cat %s)", pidfile) == 0; i++)
		usleep(100 * 1000);
	cr_assert_neq(ft_run(out, sizeof(out), "kill -0 $(cat %s)", pidfile), 0, "still running");
	unlink(pidfile);
}

static int unix_socket(const char *path, struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	cr_assert_lt(strlen(path), sizeof(sa->sun_path));
	strcpy(sa->sun_path, path);
	return fd;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa;
	int fd = unix_socket(path, &sa);

	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s: %s", path,
		     strerror(errno));
	return fd;
}

/* A socket file nobody listens on: what a controller killed with -9 leaves. */
static void stale_socket(const char *path)
{
	struct sockaddr_un sa;
	int fd = unix_socket(path, &sa);

	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s: %s", path,
		     strerror(errno));
	close(fd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static void expect_file(const char *path, const char *text)
{
	char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s is gone", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	cr_assert_str_eq(buf, text, "%s was changed", path);
}

/* flowtier run --socket path is refused, saying why, with status 2 and nothing attached. */
static void expect_refused(const char *path, const char *why)
{
	char want[512];
	int rc = ft_run(out, sizeof(out),
			"%s " FT_BIN " run --conns 1024 --pin-dir %s -i %s --socket %s "
			"--offload none --metrics off",
			in_ns, pin, if_a, path);

	snprintf(want, sizeof(want), "flowtier: error: refusing to remove %s: %s\n", path, why);
	cr_assert_eq(rc, 2, "%s", out);
	cr_assert_str_eq(out, want);
	cr_assert_neq(access(pin, F_OK), 0, "no pin dir left behind");
	sh("%s ip link show dev %s", in_ns, if_a);
	cr_assert_null(strstr(out, "xdp"), "%s", out);
	sh("%s tc filter show dev %s ingress", in_ns, if_a);
	cr_assert_str_eq(out, "", "nothing attached");
}

Test(ctl_clients, run_removes_nothing_at_socket_but_a_stale_socket_of_root)
{
	static const char conf[] = "interface = eth0\ninterval = 0.5\n";
	char file[128], link[128], wsock[128], usock[128], target[256];
	struct stat st;
	ssize_t n;

	snprintf(file, sizeof(file), "%s/flowtier.conf", dir);
	snprintf(link, sizeof(link), "%s/link.sock", dir);
	snprintf(usock, sizeof(usock), "%s/nobody.sock", dir);
	snprintf(wsock, sizeof(wsock), "%s/ctl.sock", wdir);

	/* --socket and --config swapped: the config stays, byte for byte. */
	write_file(file, conf);
	expect_refused(file, "a regular file, not a socket (give --socket the path of the "
			     "controller's socket)");
	expect_file(file, conf);

	/* A symbolic link is not followed, not even to a stale socket. */
	stale_socket(sock);
	cr_assert_eq(symlink(sock, link), 0);
	expect_refused(link, "a symbolic link, not a socket (give --socket the path of the "
			     "controller's socket)");
	n = readlink(link, target, sizeof(target) - 1);
	cr_assert_gt(n, 0, "the link is gone");
	target[n] = '\0';
	cr_assert_str_eq(target, sock);
	cr_assert_eq(lstat(sock, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode), "what the link points at is kept");

	/* A socket of another user's. */
	stale_socket(usock);
	cr_assert_eq(chown(usock, 65534, 65534), 0);
	expect_refused(usock, "the socket belongs to uid 65534, not root (remove it yourself if "
			      "it is stale, or give --socket another path)");
	cr_assert_eq(lstat(usock, &st), 0, "kept");

	/* Root's socket, but in a folder anyone may write, such as /tmp. */
	cr_assert_eq(mkdir(wdir, 0700), 0);
	cr_assert_eq(chmod(wdir, 01777), 0);
	stale_socket(wsock);
	snprintf(target, sizeof(target),
		 "%s can be written by users other than root (give --socket a path in a "
		 "directory only root can write, such as /run/flowtier)",
		 wdir);
	expect_refused(wsock, target);
	cr_assert_eq(lstat(wsock, &st), 0, "kept");
	cr_assert(S_ISSOCK(st.st_mode));

	/* Root's stale socket in a folder only root writes is replaced. */
	start_controller();
	kill_controller(SIGTERM);
}

Test(ctl_clients, a_controller_killed_with_9_leaves_a_socket_the_next_one_replaces)
{
	struct stat st;

	start_controller();
	kill_controller(SIGKILL);
	cr_assert_eq(lstat(sock, &st), 0, "kill -9 leaves the socket file");
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(ft_ctl_query(sock, "status", stdout), 1, "nobody answers");
	start_controller();
	kill_controller(SIGTERM);
	cr_assert_neq(lstat(sock, &st), 0, "a clean exit removes it");
}

/* The server closed fd: the deadline of the client went by. */
static void expect_closed(int fd, const char *who)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b[64];

	cr_assert_eq(poll(&p, 1, 0), 1, "%s is still open", who);
	cr_assert_eq(recv(fd, b, sizeof(b), MSG_DONTWAIT), 0, "%s got an answer", who);
	close(fd);
}

Test(ctl_clients, idle_and_slow_clients_hold_up_neither_status_nor_a_scan)
{
	unsigned long long i0, i1, n;
	long long t0, start, ms, worst = 0;
	int idle[30], slow;

	start_controller();
	timed_status(&i0);
	t0 = now_ms();
	for (int i = 0; i < 30; i++)
		idle[i] = connect_to(sock);
	slow = connect_to(sock);
	start = now_ms();
	/* A byte a second, never a whole line; status answers meanwhile, three times a second. */
	for (int s = 0; s < 2; s++) {
		cr_assert_eq(send(slow, "s", 1, MSG_NOSIGNAL), 1);
		for (int q = 0; q < 3; q++) {
			usleep(300 * 1000);
			ms = timed_status(&n);
			worst = ms > worst ? ms : worst;
		}
		while (now_ms() < start + 1000 * (s + 1))
			usleep(10 * 1000);
	}
	cr_assert_lt(worst, 100, "status took %lld ms with 31 clients connected", worst);
	/* Past their deadline, FT_CTL_REQUEST_MS after they connected, all were closed. */
	while (now_ms() < start + FT_CTL_REQUEST_MS + 500)
		usleep(10 * 1000);
	for (int i = 0; i < 30; i++)
		expect_closed(idle[i], "an idle client");
	expect_closed(slow, "the slow client");
	timed_status(&i1);
	ms = now_ms() - t0;
	cr_log_info("status within %lld ms at worst; %llu scans in %lld ms", worst, i1 - i0, ms);
	/* One scan every 100 ms, none skipped: a late scan skips the ones it missed. */
	cr_assert_geq(i1 - i0, (unsigned long long)(ms / 100 - 1), "%llu scans in %lld ms", i1 - i0,
		      ms);
}

Test(ctl_clients, past_the_cap_a_client_waits_for_a_free_slot)
{
	int idle[FT_CTL_MAX_CLIENTS];
	unsigned long long n;
	long long ms;

	start_controller();
	for (int i = 0; i < FT_CTL_MAX_CLIENTS; i++)
		idle[i] = connect_to(sock);
	usleep(200 * 1000);
	/* It waits in the backlog until the idle ones' deadline frees their slots. */
	ms = timed_status(&n);
	cr_assert(ms >= FT_CTL_REQUEST_MS - 500 && ms < FT_CTL_QUERY_MS, "answered in %lld ms", ms);
	for (int i = 0; i < FT_CTL_MAX_CLIENTS; i++)
		expect_closed(idle[i], "an idle client");
	cr_assert_lt(timed_status(&n), 100, "the table is free again");
}

/*
 * A listener of the test's own, in a child that never asserts (Criterion
 * reports from the parent) and is gone within 20 s whatever happens. It
 * takes every connection and holds it, or answers as a controller would
 * and closes it. With uid set, it listens as that user: SO_PEERCRED
 * gives the credentials of listen().
 */
static void listener(const char *path, uid_t uid, int answer)
{
	struct sockaddr_un sa;
	int fd = unix_socket(path, &sa), ready[2];
	char b;

	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	child = fork();
	cr_assert_geq(child, 0);
	if (!child) {
		alarm(20);
		if (uid && (setgid(uid) || setuid(uid)))
			_exit(1);
		if (listen(fd, 8) || write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;) {
			int c = accept(fd, NULL, NULL);
			static const char fake[] = "controller: pid 1, up 1 s\nerrno=0\n";
			char req[FT_CTL_LINE_MAX];
			size_t have = 0;
			ssize_t n = 1;

			if (c < 0)
				_exit(1);
			/* The whole request line first, as the controller reads it. */
			while (answer && n > 0 && !memchr(req, '\n', have) && have < sizeof(req)) {
				n = recv(c, req + have, sizeof(req) - have, 0);
				have += n > 0 ? n : 0;
			}
			if (answer && send(c, fake, sizeof(fake) - 1, MSG_NOSIGNAL) < 0)
				_exit(1);
			if (answer)
				close(c);
		}
	}
	close(fd);
	close(ready[1]);
	cr_assert_eq(read(ready[0], &b, 1), 1, "the listener did not start");
	close(ready[0]);
}

Test(ctl_clients, the_cli_gives_up_on_a_server_that_never_answers)
{
	char path[128], want[256];
	long long t0, ms;
	int rc;

	snprintf(path, sizeof(path), "%s/mute.sock", dir);
	listener(path, 0, 0);
	t0 = now_ms();
	rc = ft_run(out, sizeof(out), FT_BIN " status --socket %s", path);
	ms = now_ms() - t0;
	cr_assert_eq(rc, 1, "%s", out);
	snprintf(want, sizeof(want),
		 "flowtier: error: the controller on %s did not answer within 5 s\n", path);
	cr_assert_str_eq(out, want);
	cr_assert(ms >= FT_CTL_QUERY_MS && ms < FT_CTL_QUERY_MS + 1500, "gave up after %lld ms",
		  ms);
}

Test(ctl_clients, the_cli_believes_no_server_but_root)
{
	char path[128], want[256];
	int rc;

	snprintf(path, sizeof(path), "%s/nobody.sock", dir);
	listener(path, 65534, 1);
	rc = ft_run(out, sizeof(out), FT_BIN " status --socket %s", path);
	cr_assert_eq(rc, 1, "%s", out);
	snprintf(want, sizeof(want),
		 "flowtier: error: refusing to trust %s: the process listening there runs as "
		 "uid 65534, not root\n",
		 path);
	cr_assert_str_eq(out, want);
	/* As root, the same listener is believed: it was only its uid. */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	unlink(path);
	listener(path, 0, 1);
	sh(FT_BIN " status --socket %s", path);
	cr_assert_str_eq(out, "controller: pid 1, up 1 s\n");
}
