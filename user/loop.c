// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "loop.h"

__u64 ft_loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ft_loop_init(struct ft_loop *l, __u64 interval_ms)
{
	memset(l, 0, sizeof(*l));
	l->interval_ms = interval_ms ? interval_ms : 1000;
}

int ft_loop_add_fd_due(struct ft_loop *l, int fd, short events, ft_loop_fd_fn fn,
		       ft_loop_due_fn due, void *arg)
{
	if (l->nfds == FT_LOOP_MAX_FDS)
		return -ENOSPC;
	l->pfd[l->nfds] = (struct pollfd){ .fd = fd, .events = events };
	l->fd_fn[l->nfds] = fn;
	l->due_fn[l->nfds] = due;
	l->fd_arg[l->nfds] = arg;
	l->nfds++;
	return 0;
}

int ft_loop_add_fd(struct ft_loop *l, int fd, short events, ft_loop_fd_fn fn, void *arg)
{
	return ft_loop_add_fd_due(l, fd, events, fn, NULL, arg);
}

int ft_loop_add_tick(struct ft_loop *l, ft_loop_tick_fn fn, void *arg)
{
	if (l->nticks == FT_LOOP_MAX_TICKS)
		return -ENOSPC;
	l->tick_fn[l->nticks] = fn;
	l->tick_arg[l->nticks] = arg;
	l->nticks++;
	return 0;
}

/*
 * The next tick is due one interval after the last was due, not after it
 * ended, so that intervals do not drift; a tick that overran skips the
 * ticks it missed instead of running them back to back.
 */
static int ft_loop_ticks(struct ft_loop *l, __u64 now)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < l->nticks; i++)
		ret = l->tick_fn[i](l->tick_arg[i], now);
	l->next_ms += l->interval_ms;
	if (l->next_ms <= now)
		l->next_ms = now + l->interval_ms;
	return ret;
}

/*
 * The poll timeout: to the next tick, or sooner to the first deadline of
 * a descriptor. Each deadline is noted, since the handler that asked for
 * it must run once it has passed even if its descriptor never gets ready.
 */
static int ft_loop_wait_ms(struct ft_loop *l, __u64 now)
{
	__u64 wait = l->next_ms - now;

	for (size_t i = 0; i < l->nfds; i++) {
		int due = l->due_fn[i] ? l->due_fn[i](l->fd_arg[i]) : -1;

		l->due_ms[i] = due < 0 ? UINT64_MAX : now + due;
		if (due >= 0 && (__u64)due < wait)
			wait = due;
	}
	return wait > INT_MAX ? INT_MAX : (int)wait;
}

static int ft_loop_fds(struct ft_loop *l, __u64 now)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < l->nfds; i++) {
		if (l->pfd[i].revents || now >= l->due_ms[i])
			ret = l->fd_fn[i](l->fd_arg[i], l->pfd[i].fd, l->pfd[i].revents);
	}
	return ret;
}

int ft_loop_run(struct ft_loop *l)
{
	int ret = 0, n;
	__u64 now = ft_loop_now_ms();

	l->next_ms = now;
	while (!ret && !l->stop) {
		now = ft_loop_now_ms();
		if (now >= l->next_ms) {
			ret = ft_loop_ticks(l, now);
			continue;
		}
		n = poll(l->pfd, l->nfds, ft_loop_wait_ms(l, now));
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			pr_err("poll: %s\n", strerror(errno));
			break;
		}
		/* An interrupted poll reports nothing, but deadlines may have passed. */
		for (size_t i = 0; n < 0 && i < l->nfds; i++)
			l->pfd[i].revents = 0;
		ret = ft_loop_fds(l, ft_loop_now_ms());
	}
	return ret;
}
