/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one event loop of the program, in the spirit of redis' ae: file descriptors, timers and
 * signals with callbacks, all on one thread. The one-shot session and the daemon each make one
 * loop and hand it to what they drive (the mapping events, the fleet, push, the HTTP server);
 * nothing else calls epoll_create, timerfd_create or signalfd (tests/layers.sh checks it).
 *
 * Timers share one timerfd armed at the earliest deadline; those due fire in deadline order.
 * Signals added here are blocked for the whole process and read from one signalfd; the mask
 * in force before the first one is restored by evloop__free.
 *
 * Callbacks may add, re-arm and remove fds and timers, their own included, and stop the loop:
 * an entry removed during a round is freed only after the round.
 */
#ifndef FLAMED_EVLOOP_H
#define FLAMED_EVLOOP_H

#include <stdint.h>
#include <signal.h>

struct evloop;
struct evloop_timer;

/* events: the EPOLL* bits that were reported. */
typedef void (*evloop_fd_fn)(void *ctx, int fd, uint32_t events);
typedef void (*evloop_timer_fn)(void *ctx);
typedef void (*evloop_signal_fn)(void *ctx, int signo);

/* NULL with *err set (negative errno). */
struct evloop *evloop__new(int *err);
/*
 * Watches fd for events (EPOLLIN, EPOLLOUT, EPOLLRDHUP...). The fd stays the caller's: it is
 * never closed here, and must be removed with evloop__del_fd before it is closed.
 */
int evloop__add_fd(struct evloop *l, int fd, uint32_t events, evloop_fd_fn fn, void *ctx);
/* Changes the events watched for fd; -ENOENT if it is not watched. */
int evloop__mod_fd(struct evloop *l, int fd, uint32_t events);
/* Stops watching fd (nothing if it is not watched). */
void evloop__del_fd(struct evloop *l, int fd);
/*
 * A timer, disarmed until evloop__timer_set; freed with evloop__del_timer or the loop. NULL
 * when out of memory.
 */
struct evloop_timer *evloop__add_timer(struct evloop *l, evloop_timer_fn fn, void *ctx);
/*
 * Fires first_ns from now, then every interval_ns (0: once). first_ns 0 disarms. Ticks missed
 * while the loop was busy are fired once, not caught up.
 */
void evloop__timer_set(struct evloop_timer *t, uint64_t first_ns, uint64_t interval_ns);
void evloop__del_timer(struct evloop_timer *t);
/* Blocks signo for the process and calls fn from the loop when it arrives. */
int evloop__add_signal(struct evloop *l, int signo, evloop_signal_fn fn, void *ctx);
/* The signals the loop has blocked (a child restores them before exec). */
void evloop__sigmask(const struct evloop *l, sigset_t *mask);
/*
 * Runs until evloop__stop; with timeout_ms >= 0, returns after that long at the latest (the
 * callbacks of that round done). 0 or negative errno.
 */
int evloop__run(struct evloop *l, int timeout_ms);
void evloop__stop(struct evloop *l);
void evloop__free(struct evloop *l);
/*
 * The same for a process about to exit: the loop's signals stay blocked. A stop signal sent
 * during the exit (a SIGTERM while the daemon writes its last window, or while ASan checks
 * for leaks) is moot, and unblocked it would end the process by the signal, status 143.
 */
void evloop__free_at_exit(struct evloop *l);

#endif
