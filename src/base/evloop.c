// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "base/evloop.h"
#include "base/util.h"

#define NSEC 1000000000ULL

/* One watched fd; the loop's own timerfd and signalfd are entries too. */
struct evloop_fd {
	int fd;
	evloop_fd_fn fn;
	void *ctx;
	bool dead;		/* removed during a round: freed after it */
	struct evloop_fd *next;
};

struct evloop_timer {
	struct evloop *l;
	evloop_timer_fn fn;
	void *ctx;
	uint64_t due;		/* CLOCK_MONOTONIC ns; 0 = disarmed */
	uint64_t interval;
	bool dead;
	struct evloop_timer *next;
};

struct evloop {
	int epfd, tfd, sfd;
	struct evloop_fd *fds;
	struct evloop_timer *timers;
	uint64_t tfd_due;	/* what tfd is armed for (0: disarmed) */
	struct {
		evloop_signal_fn fn;
		void *ctx;
	} sig[_NSIG];
	sigset_t mask, oldmask;
	bool have_oldmask;
	bool stop;
	int depth;		/* inside a round: frees are deferred */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static struct evloop_fd *find_fd(struct evloop *l, int fd)
{
	struct evloop_fd *e;

	for (e = l->fds; e; e = e->next)
		if (e->fd == fd && !e->dead)
			return e;
	return NULL;
}

/* Arms the timerfd for the earliest deadline, or disarms it. */
static void rearm(struct evloop *l)
{
	struct itimerspec its = { 0 };
	struct evloop_timer *t;
	uint64_t due = 0;

	for (t = l->timers; t; t = t->next)
		if (!t->dead && t->due && (!due || t->due < due))
			due = t->due;
	if (due == l->tfd_due)
		return;
	its.it_value.tv_sec = due / NSEC;
	its.it_value.tv_nsec = due % NSEC;
	if (!timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		l->tfd_due = due;
}

/* Frees what callbacks removed during the round. */
static void reap(struct evloop *l)
{
	struct evloop_fd **pe = &l->fds, *e;
	struct evloop_timer **pt = &l->timers, *t;

	while ((e = *pe)) {
		if (e->dead) {
			*pe = e->next;
			free(e);
		} else {
			pe = &e->next;
		}
	}
	while ((t = *pt)) {
		if (t->dead) {
			*pt = t->next;
			free(t);
		} else {
			pt = &t->next;
		}
	}
}

/*
 * Fires every timer due, earliest first. A periodic timer's next deadline is its next tick
 * after now; a callback that re-arms or removes a timer is seen at once.
 */
static void on_timers(void *ctx, int fd, uint32_t events)
{
	struct evloop *l = ctx;
	uint64_t ticks, now = mono_ns();

	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	l->tfd_due = 0;
	for (;;) {
		struct evloop_timer *t, *first = NULL;

		for (t = l->timers; t; t = t->next)
			if (!t->dead && t->due && t->due <= now && (!first || t->due < first->due))
				first = t;
		if (!first || l->stop)
			break;
		if (first->interval) {
			first->due += first->interval;
			if (first->due <= now)
				first->due = now + first->interval - (now - first->due) %
					     first->interval;
		} else {
			first->due = 0;
		}
		first->fn(first->ctx);
	}
	rearm(l);
}

static void on_signals(void *ctx, int fd, uint32_t events)
{
	struct evloop *l = ctx;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo < _NSIG && l->sig[si.ssi_signo].fn)
			l->sig[si.ssi_signo].fn(l->sig[si.ssi_signo].ctx, si.ssi_signo);
	}
}

struct evloop *evloop__new(int *err)
{
	struct evloop *l = calloc(1, sizeof(*l));

	*err = 0;
	if (!l) {
		*err = -ENOMEM;
		return NULL;
	}
	l->sfd = -1;
	sigemptyset(&l->mask);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->epfd < 0 || l->tfd < 0) {
		*err = -errno;
		goto cleanup;
	}
	*err = evloop__add_fd(l, l->tfd, EPOLLIN, on_timers, l);
	if (*err)
		goto cleanup;
	return l;
cleanup:
	evloop__free(l);
	return NULL;
}

int evloop__add_fd(struct evloop *l, int fd, uint32_t events, evloop_fd_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = events };
	struct evloop_fd *e;

	if (fd < 0)
		return -EBADF;
	if (find_fd(l, fd))
		return -EEXIST;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fd = fd;
	e->fn = fn;
	e->ctx = ctx;
	ev.data.ptr = e;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;

		free(e);
		return err;
	}
	e->next = l->fds;
	l->fds = e;
	return 0;
}

int evloop__mod_fd(struct evloop *l, int fd, uint32_t events)
{
	struct evloop_fd *e = find_fd(l, fd);
	struct epoll_event ev = { .events = events };

	if (!e)
		return -ENOENT;
	ev.data.ptr = e;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

void evloop__del_fd(struct evloop *l, int fd)
{
	struct evloop_fd *e = find_fd(l, fd);

	if (!e)
		return;
	/* The fd may be closed already (then the kernel dropped it from the set itself). */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	e->dead = true;
	if (!l->depth)
		reap(l);
}

struct evloop_timer *evloop__add_timer(struct evloop *l, evloop_timer_fn fn, void *ctx)
{
	struct evloop_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->l = l;
	t->fn = fn;
	t->ctx = ctx;
	t->next = l->timers;
	l->timers = t;
	return t;
}

void evloop__timer_set(struct evloop_timer *t, uint64_t first_ns, uint64_t interval_ns)
{
	t->due = first_ns ? mono_ns() + first_ns : 0;
	t->interval = interval_ns;
	rearm(t->l);
}

void evloop__del_timer(struct evloop_timer *t)
{
	struct evloop *l;

	if (!t)
		return;
	l = t->l;
	t->dead = true;
	rearm(l);
	if (!l->depth)
		reap(l);
}

int evloop__add_signal(struct evloop *l, int signo, evloop_signal_fn fn, void *ctx)
{
	sigset_t one;
	int fd;

	if (signo <= 0 || signo >= _NSIG)
		return -EINVAL;
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (!l->have_oldmask) {
		sigprocmask(SIG_BLOCK, NULL, &l->oldmask);
		l->have_oldmask = true;
	}
	sigaddset(&l->mask, signo);
	/* Blocked before the signalfd learns it: none is lost in between, none kills us. */
	sigprocmask(SIG_BLOCK, &one, NULL);
	fd = signalfd(l->sfd, &l->mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	l->sig[signo].fn = fn;
	l->sig[signo].ctx = ctx;
	if (l->sfd < 0) {
		int err;

		l->sfd = fd;
		err = evloop__add_fd(l, fd, EPOLLIN, on_signals, l);
		if (err)
			return err;
	}
	return 0;
}

void evloop__sigmask(const struct evloop *l, sigset_t *mask)
{
	*mask = l->mask;
}

int evloop__run(struct evloop *l, int timeout_ms)
{
	uint64_t end = timeout_ms >= 0 ? mono_ns() + timeout_ms * 1000000ULL : 0;
	int err = 0;

	l->stop = false;
	while (!l->stop) {
		struct epoll_event evs[16];
		int n, i, wait = -1;

		if (end) {
			uint64_t now = mono_ns();

			if (now >= end)
				break;
			wait = (end - now + 999999) / 1000000;
		}
		n = epoll_wait(l->epfd, evs, ARRAY_SIZE(evs), wait);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		l->depth++;
		for (i = 0; i < n && !l->stop; i++) {
			struct evloop_fd *e = evs[i].data.ptr;

			if (!e->dead)
				e->fn(e->ctx, e->fd, evs[i].events);
		}
		l->depth--;
		reap(l);
	}
	return err;
}

void evloop__stop(struct evloop *l)
{
	l->stop = true;
}

static void loop_free(struct evloop *l, bool restore_mask)
{
	struct evloop_fd *e;
	struct evloop_timer *t;

	if (!l)
		return;
	while ((e = l->fds)) {
		l->fds = e->next;
		free(e);
	}
	while ((t = l->timers)) {
		l->timers = t->next;
		free(t);
	}
	if (l->sfd >= 0)
		close(l->sfd);
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->have_oldmask) {
		struct timespec now = { 0, 0 };
		sigset_t taken;
		int signo;

		/*
		 * A signal sent to the loop after it stopped (a SIGTERM while a daemon writes its last
		 * window) is taken here: left pending, the restored mask would deliver it and end
		 * the process by the signal (status 143) instead of its own exit.
		 */
		sigemptyset(&taken);
		for (signo = 1; signo < _NSIG; signo++)
			if (sigismember(&l->mask, signo) == 1 &&
			    sigismember(&l->oldmask, signo) != 1)
				sigaddset(&taken, signo);
		while (sigtimedwait(&taken, NULL, &now) > 0)
			;
		if (restore_mask)
			sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
	}
	free(l);
}

void evloop__free(struct evloop *l)
{
	loop_free(l, true);
}

void evloop__free_at_exit(struct evloop *l)
{
	loop_free(l, false);
}
