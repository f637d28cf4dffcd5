// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event loop (src/base/evloop.c): timers fire in deadline order and periodic ones repeat,
 * fd callbacks see their events, a signal reaches its callback through the loop (never the
 * default action), callbacks may remove what is still pending in their round, stop ends run,
 * and free restores the signal mask.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "harness.h"
#include "base/evloop.h"

#define MS 1000000ULL

struct order {
	struct evloop *l;
	char seen[16];
	int n;
	int stop_after;
};

static void mark(struct order *o, char c)
{
	if (o->n < (int)sizeof(o->seen) - 1)
		o->seen[o->n++] = c;
	if (o->n == o->stop_after)
		evloop__stop(o->l);
}

static void fire_a(void *ctx) { mark(ctx, 'a'); }
static void fire_b(void *ctx) { mark(ctx, 'b'); }
static void fire_c(void *ctx) { mark(ctx, 'c'); }

TEST(evloop_timers_fire_in_deadline_order)
{
	struct order o = { .stop_after = 3 };
	struct evloop_timer *a, *b, *c;
	int err;

	o.l = evloop__new(&err);
	CHECK(o.l);
	if (!o.l)
		return;
	/* Added in another order than they are due. */
	c = evloop__add_timer(o.l, fire_c, &o);
	a = evloop__add_timer(o.l, fire_a, &o);
	b = evloop__add_timer(o.l, fire_b, &o);
	evloop__timer_set(c, 60 * MS, 0);
	evloop__timer_set(a, 20 * MS, 0);
	evloop__timer_set(b, 40 * MS, 0);
	CHECK_EQ_INT(evloop__run(o.l, 10000), 0);
	CHECK_EQ_STR(o.seen, "abc");
	evloop__free(o.l);
}

TEST(evloop_periodic_timer_repeats_and_disarms)
{
	struct order o = { .stop_after = 4 };
	struct evloop_timer *a, *b;
	struct timespec t0, t1;
	int err;

	o.l = evloop__new(&err);
	if (!o.l) {
		CHECK(o.l);
		return;
	}
	a = evloop__add_timer(o.l, fire_a, &o);
	b = evloop__add_timer(o.l, fire_b, &o);
	evloop__timer_set(a, 10 * MS, 10 * MS);
	/* Armed then disarmed: never fires. */
	evloop__timer_set(b, 5 * MS, 0);
	evloop__timer_set(b, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ_INT(evloop__run(o.l, 10000), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_EQ_STR(o.seen, "aaaa");
	/* Four ticks of 10 ms cannot take less than 40 ms. */
	CHECK((t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec - t0.tv_nsec >= 40 * (long long)MS);
	evloop__free(o.l);
}

struct fdctx {
	struct evloop *l;
	int reads;
	int other;		/* removed by the first callback, though ready in the same round */
	int other_calls;
	char buf[8];
};

static void on_read(void *ctx, int fd, uint32_t events)
{
	struct fdctx *f = ctx;
	ssize_t n = read(fd, f->buf, sizeof(f->buf) - 1);

	if (n > 0)
		f->buf[n] = '\0';
	f->reads++;
	if (events & EPOLLIN)
		evloop__del_fd(f->l, f->other);
	evloop__stop(f->l);
}

static void on_other(void *ctx, int fd, uint32_t events)
{
	struct fdctx *f = ctx;

	f->other_calls++;
	evloop__del_fd(f->l, f->other);
	evloop__stop(f->l);
}

TEST(evloop_fd_callbacks_and_removal_in_a_round)
{
	struct fdctx f = { 0 };
	int p[2], q[2], err;

	f.l = evloop__new(&err);
	if (!f.l || pipe(p) || pipe(q)) {
		CHECK(0);
		return;
	}
	f.other = q[0];
	CHECK_EQ_INT(evloop__add_fd(f.l, p[0], EPOLLIN, on_read, &f), 0);
	CHECK_EQ_INT(evloop__add_fd(f.l, p[0], EPOLLIN, on_read, &f), -EEXIST);
	CHECK_EQ_INT(evloop__add_fd(f.l, q[0], EPOLLIN, on_other, &f), 0);
	CHECK_EQ_INT(evloop__mod_fd(f.l, 12345, EPOLLIN), -ENOENT);
	/* Nothing readable: the run times out with no callback. */
	CHECK_EQ_INT(evloop__run(f.l, 30), 0);
	CHECK_EQ_INT(f.reads + f.other_calls, 0);
	/* Both ready in one round: whichever runs first removes q, which then never runs twice. */
	CHECK(write(p[1], "hi", 2) == 2);
	CHECK(write(q[1], "x", 1) == 1);
	CHECK_EQ_INT(evloop__run(f.l, 10000), 0);
	CHECK_EQ_INT(f.reads + f.other_calls, 1);
	if (f.reads)
		CHECK_EQ_STR(f.buf, "hi");
	/* q is no longer watched (though still readable), p still is. */
	f.reads = f.other_calls = 0;
	CHECK(write(p[1], "yo", 2) == 2);
	CHECK_EQ_INT(evloop__run(f.l, 10000), 0);
	CHECK_EQ_INT(f.other_calls, 0);
	CHECK_EQ_INT(f.reads, 1);
	CHECK(strstr(f.buf, "yo") != NULL);
	evloop__del_fd(f.l, p[0]);
	evloop__del_fd(f.l, p[0]);	/* twice: nothing */
	evloop__free(f.l);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

struct sigctx {
	struct evloop *l;
	int signo;
	int calls;
};

static void on_sig(void *ctx, int signo)
{
	struct sigctx *s = ctx;

	s->signo = signo;
	s->calls++;
	evloop__stop(s->l);
}

static void raise_usr2(void *ctx)
{
	kill(getpid(), SIGUSR2);
}

TEST(evloop_signal_delivered_through_the_loop)
{
	struct sigctx s = { 0 };
	struct evloop_timer *t;
	sigset_t before, during, after, m;
	int err;

	sigprocmask(SIG_BLOCK, NULL, &before);
	CHECK(!sigismember(&before, SIGUSR2));
	s.l = evloop__new(&err);
	if (!s.l) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(evloop__add_signal(s.l, SIGUSR2, on_sig, &s), 0);
	CHECK_EQ_INT(evloop__add_signal(s.l, 0, on_sig, &s), -EINVAL);
	sigprocmask(SIG_BLOCK, NULL, &during);
	CHECK(sigismember(&during, SIGUSR2));
	evloop__sigmask(s.l, &m);
	CHECK(sigismember(&m, SIGUSR2));
	CHECK(!sigismember(&m, SIGUSR1));
	/* Raised from inside the loop (a timer), so the loop must be what catches it. */
	t = evloop__add_timer(s.l, raise_usr2, NULL);
	evloop__timer_set(t, 10 * MS, 0);
	CHECK_EQ_INT(evloop__run(s.l, 10000), 0);
	CHECK_EQ_INT(s.calls, 1);
	CHECK_EQ_INT(s.signo, SIGUSR2);
	evloop__del_timer(t);
	evloop__free(s.l);
	sigprocmask(SIG_BLOCK, NULL, &after);
	CHECK(!sigismember(&after, SIGUSR2));
}

static volatile sig_atomic_t usr2_delivered;

static void count_usr2(int signo)
{
	(void)signo;
	usr2_delivered++;
}

/*
 * A signal sent once the loop has stopped (SIGTERM while a daemon writes its last window) is
 * taken by evloop__free: left pending, restoring the mask would deliver it (for SIGTERM, the
 * end of the process by the signal). A handler counts a delivery here.
 */
TEST(evloop_free_takes_a_signal_sent_after_the_stop)
{
	struct sigaction sa = { .sa_handler = count_usr2 }, old;
	struct sigctx s = { 0 };
	sigset_t after, pending;
	int err;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, &old);
	usr2_delivered = 0;
	s.l = evloop__new(&err);
	if (!s.l) {
		CHECK(0);
		sigaction(SIGUSR2, &old, NULL);
		return;
	}
	CHECK_EQ_INT(evloop__add_signal(s.l, SIGUSR2, on_sig, &s), 0);
	raise(SIGUSR2);
	sigpending(&pending);
	CHECK(sigismember(&pending, SIGUSR2));
	evloop__free(s.l);
	CHECK_EQ_INT(s.calls, 0);
	CHECK_EQ_INT(usr2_delivered, 0);
	sigprocmask(SIG_BLOCK, NULL, &after);
	CHECK(!sigismember(&after, SIGUSR2));
	sigpending(&pending);
	CHECK(!sigismember(&pending, SIGUSR2));
	sigaction(SIGUSR2, &old, NULL);
}

/* At exit the loop's signals stay blocked: one sent then is never delivered. */
TEST(evloop_free_at_exit_keeps_the_signals_blocked)
{
	struct sigaction sa = { .sa_handler = count_usr2 }, old;
	struct timespec now = { 0, 0 };
	struct sigctx s = { 0 };
	sigset_t after, one;
	int err;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, &old);
	usr2_delivered = 0;
	s.l = evloop__new(&err);
	if (!s.l) {
		CHECK(0);
		sigaction(SIGUSR2, &old, NULL);
		return;
	}
	CHECK_EQ_INT(evloop__add_signal(s.l, SIGUSR2, on_sig, &s), 0);
	evloop__free_at_exit(s.l);
	raise(SIGUSR2);
	CHECK_EQ_INT(usr2_delivered, 0);
	sigprocmask(SIG_BLOCK, NULL, &after);
	CHECK(sigismember(&after, SIGUSR2));
	/* This test program goes on: the signal taken, the mask as it was. */
	sigemptyset(&one);
	sigaddset(&one, SIGUSR2);
	CHECK_EQ_INT(sigtimedwait(&one, NULL, &now), SIGUSR2);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	CHECK_EQ_INT(usr2_delivered, 0);
	sigaction(SIGUSR2, &old, NULL);
}

static void stop_and_count(void *ctx)
{
	struct order *o = ctx;

	mark(o, 's');
	evloop__stop(o->l);
}

TEST(evloop_stop_ends_run_and_run_resumes)
{
	struct order o = { .stop_after = -1 };
	struct evloop_timer *t, *never;
	int err;

	o.l = evloop__new(&err);
	if (!o.l) {
		CHECK(0);
		return;
	}
	t = evloop__add_timer(o.l, stop_and_count, &o);
	never = evloop__add_timer(o.l, fire_a, &o);
	evloop__timer_set(t, 5 * MS, 5 * MS);
	evloop__timer_set(never, 3600 * 1000 * MS, 0);
	CHECK_EQ_INT(evloop__run(o.l, -1), 0);
	CHECK_EQ_STR(o.seen, "s");
	/* A stopped loop runs again; a timer removed from its own callback's loop stays gone. */
	CHECK_EQ_INT(evloop__run(o.l, -1), 0);
	CHECK_EQ_STR(o.seen, "ss");
	evloop__del_timer(t);
	CHECK_EQ_INT(evloop__run(o.l, 40), 0);
	CHECK_EQ_STR(o.seen, "ss");
	evloop__free(o.l);
}
