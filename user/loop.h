/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The controller's main loop: poll() over registered file descriptors
 * (the control socket, signals, an HTTP server's epoll fd), with a timeout
 * to the next interval, when every registered tick runs in order (the scan,
 * then e.g. the offload manager). A descriptor may also have a deadline of
 * its own (an HTTP server's connection timeouts): its handler then runs
 * when the deadline passes, whether or not the descriptor is ready.
 */
#ifndef FT_LOOP_H
#define FT_LOOP_H

#include <poll.h>
#include <stddef.h>
#include <linux/types.h>

#define FT_LOOP_MAX_FDS	  16
#define FT_LOOP_MAX_TICKS 8

/* A handler's or a tick's non-zero return stops the loop with that value. */
typedef int (*ft_loop_fd_fn)(void *arg, int fd, short revents);
typedef int (*ft_loop_tick_fn)(void *arg, __u64 now_ms);
/* Milliseconds from now until the fd's handler is due without an event (0: at once); -1: never. */
typedef int (*ft_loop_due_fn)(void *arg);

struct ft_loop {
	struct pollfd pfd[FT_LOOP_MAX_FDS];
	ft_loop_fd_fn fd_fn[FT_LOOP_MAX_FDS];
	void *fd_arg[FT_LOOP_MAX_FDS];
	ft_loop_due_fn due_fn[FT_LOOP_MAX_FDS]; /* NULL: events only */
	__u64 due_ms[FT_LOOP_MAX_FDS];		/* this round's deadline; UINT64_MAX: none */
	size_t nfds;
	ft_loop_tick_fn tick_fn[FT_LOOP_MAX_TICKS];
	void *tick_arg[FT_LOOP_MAX_TICKS];
	size_t nticks;
	__u64 interval_ms;
	__u64 next_ms; /* when the next tick is due */
	int stop;      /* set by a handler: leave after this round, returning 0 */
};

void ft_loop_init(struct ft_loop *l, __u64 interval_ms);
/* -ENOSPC when full. */
int ft_loop_add_fd(struct ft_loop *l, int fd, short events, ft_loop_fd_fn fn, void *arg);
/*
 * Like ft_loop_add_fd, and fn also runs, with revents 0, once the time due
 * returned before a poll has passed. due is asked again before every poll.
 */
int ft_loop_add_fd_due(struct ft_loop *l, int fd, short events, ft_loop_fd_fn fn,
		       ft_loop_due_fn due, void *arg);
int ft_loop_add_tick(struct ft_loop *l, ft_loop_tick_fn fn, void *arg);

/* Runs until a handler sets stop (0) or returns non-zero (that value). Ticks run at once first. */
int ft_loop_run(struct ft_loop *l);

/* CLOCK_MONOTONIC in milliseconds. */
__u64 ft_loop_now_ms(void);

#endif
