// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The control socket's request parser, a server and client in one process, and the main loop. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "loop.h"

Test(ctl, a_request_is_a_command_and_key_value_pairs)
{
	struct ft_ctl_req r;

	cr_assert_eq(ft_ctl_parse("flows top=10  sort=pps json=1 pin-dir=/sys/fs/bpf/x", &r), 0);
	cr_assert_str_eq(r.cmd, "flows");
	cr_assert_eq(r.nargs, 4);
	cr_assert_str_eq(ft_ctl_arg(&r, "top"), "10");
	cr_assert_str_eq(ft_ctl_arg(&r, "sort"), "pps");
	cr_assert_str_eq(ft_ctl_arg(&r, "pin-dir"), "/sys/fs/bpf/x");
	cr_assert_null(ft_ctl_arg(&r, "zone"));
	cr_assert_eq(ft_ctl_parse("status", &r), 0);
	cr_assert_str_eq(r.cmd, "status");
	cr_assert_eq(r.nargs, 0);
	cr_assert_eq(ft_ctl_parse("status json=", &r), 0);
	cr_assert_str_eq(ft_ctl_arg(&r, "json"), "");
}

Test(ctl, anything_out_of_shape_is_refused)
{
	static const char *const bad[] = {
		"",
		"   ",
		"status;reboot",
		"status json",
		"status =1",
		"st/tus",
		"flows top=1\x01",
		"flows a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9",
		"averyveryverylongcommand",
		"flows averyveryverylongkey=1",
		"flows top=$(reboot)",
	};
	char longval[300], longline[FT_CTL_LINE_MAX + 10];
	struct ft_ctl_req r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(ft_ctl_parse(bad[i], &r), -EINVAL, "'%s' was accepted", bad[i]);
	memset(longval, 'a', sizeof(longval));
	memcpy(longval, "flows v=", 8);
	longval[sizeof(longval) - 1] = '\0';
	cr_assert_eq(ft_ctl_parse(longval, &r), -EINVAL, "a value past FT_CTL_VAL_MAX");
	memset(longline, 'a', sizeof(longline));
	longline[sizeof(longline) - 1] = '\0';
	cr_assert_eq(ft_ctl_parse(longline, &r), -EINVAL, "a line past FT_CTL_LINE_MAX");
}

static int echo_cmd(void *arg, const struct ft_ctl_req *req, FILE *out)
{
	(void)arg;
	if (!strcmp(req->cmd, "fail"))
		return -ENOSPC;
	fprintf(out, "cmd %s, %d args\n", req->cmd, req->nargs);
	return 0;
}

/*
 * A child answers n requests on path; the parent asks. The child never
 * asserts (Criterion's reporting channel is the parent's) and gives up
 * after 10 s of silence, so a failing parent cannot leave it behind.
 */
static pid_t serve(const char *path, int n)
{
	int lfd = ft_ctl_listen(path);
	pid_t pid;

	cr_assert_geq(lfd, 0);
	pid = fork();
	if (!pid) {
		alarm(10);
		for (int i = 0; i < n;) {
			struct pollfd p = { .fd = lfd, .events = POLLIN };

			if (poll(&p, 1, 10000) != 1)
				_exit(1);
			if (!ft_ctl_serve(lfd, echo_cmd, NULL))
				i++;
		}
		_exit(0);
	}
	close(lfd);
	cr_assert_geq(pid, 0);
	return pid;
}

Test(ctl, a_client_gets_the_answer_and_the_errno_of_the_server)
{
	char path[64], *buf = NULL;
	size_t len = 0;
	struct stat st;
	pid_t pid;
	FILE *f;
	int status;

	snprintf(path, sizeof(path), "/tmp/fta-ctl-%d/ctl.sock", getpid());
	pid = serve(path, 3);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "only root may open it");
	f = open_memstream(&buf, &len);
	cr_assert_eq(ft_ctl_query(path, "hello a=1 b=2", f), 0);
	cr_assert_eq(ft_ctl_query(path, "fail", f), -ENOSPC);
	cr_assert_eq(ft_ctl_query(path, "bad;", f), -EINVAL);
	fclose(f);
	cr_assert_str_eq(buf, "cmd hello, 2 args\nerror: malformed request\n");
	free(buf);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	/* The server is gone: its socket file is stale, and a new one replaces it. */
	cr_assert_eq(ft_ctl_query(path, "hello", stdout), 1, "no controller: fall back");
	pid = serve(path, 1);
	f = open_memstream(&buf, &len);
	cr_assert_eq(ft_ctl_query(path, "hello", f), 0);
	fclose(f);
	cr_assert_str_eq(buf, "cmd hello, 0 args\n");
	free(buf);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

struct counts {
	int ticks;
	int reads;
	__u64 first, last;
	struct ft_loop *loop;
};

static int on_tick(void *arg, __u64 now)
{
	struct counts *c = arg;

	if (!c->ticks++)
		c->first = now;
	c->last = now;
	if (c->ticks == 5)
		c->loop->stop = 1;
	return 0;
}

static int on_read(void *arg, int fd, short revents)
{
	struct counts *c = arg;
	char b[16];

	cr_assert(revents & POLLIN);
	cr_assert_eq(read(fd, b, sizeof(b)), 1);
	c->reads++;
	return 0;
}

Test(loop, ticks_every_interval_and_dispatches_ready_fds_between)
{
	struct ft_loop l;
	struct counts c = { .loop = &l };
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], "x", 1), 1);
	ft_loop_init(&l, 50);
	cr_assert_eq(ft_loop_add_tick(&l, on_tick, &c), 0);
	cr_assert_eq(ft_loop_add_fd(&l, p[0], POLLIN, on_read, &c), 0);
	cr_assert_eq(ft_loop_run(&l), 0);
	cr_assert_eq(c.ticks, 5);
	cr_assert_eq(c.reads, 1);
	/* Four intervals of 50 ms between the first tick and the fifth. */
	cr_assert(c.last - c.first >= 200 && c.last - c.first < 300, "%llu ms",
		  (unsigned long long)(c.last - c.first));
	close(p[0]);
	close(p[1]);
}

struct due {
	int runs;
	short revents;
	__u64 at;
	struct ft_loop *loop;
};

static int due_in_30_ms(void *arg)
{
	struct due *d = arg;

	return d->runs ? -1 : 30;
}

static int on_due(void *arg, int fd, short revents)
{
	struct due *d = arg;

	(void)fd;
	d->runs++;
	d->revents = revents;
	d->at = ft_loop_now_ms();
	d->loop->stop = 1;
	return 0;
}

Test(loop, a_handler_runs_when_its_deadline_passes_without_an_event)
{
	struct ft_loop l;
	struct due d = { .loop = &l };
	__u64 t0;
	int p[2];

	cr_assert_eq(pipe(p), 0);
	ft_loop_init(&l, 10000); /* no tick to wake it */
	cr_assert_eq(ft_loop_add_fd_due(&l, p[0], POLLIN, on_due, due_in_30_ms, &d), 0);
	t0 = ft_loop_now_ms();
	cr_assert_eq(ft_loop_run(&l), 0);
	cr_assert_eq(d.runs, 1);
	cr_assert_eq(d.revents, 0, "nothing was ready");
	cr_assert(d.at - t0 >= 30 && d.at - t0 < 200, "%llu ms", (unsigned long long)(d.at - t0));
	close(p[0]);
	close(p[1]);
}

static int fail_tick(void *arg, __u64 now)
{
	(void)arg, (void)now;
	return -EIO;
}

Test(loop, a_tick_error_stops_the_loop_with_it)
{
	struct ft_loop l;

	ft_loop_init(&l, 10);
	cr_assert_eq(ft_loop_add_tick(&l, fail_tick, NULL), 0);
	cr_assert_eq(ft_loop_run(&l), -EIO);
	for (int i = 1; i < FT_LOOP_MAX_TICKS; i++)
		cr_assert_eq(ft_loop_add_tick(&l, fail_tick, NULL), 0);
	cr_assert_eq(ft_loop_add_tick(&l, fail_tick, NULL), -ENOSPC);
}
