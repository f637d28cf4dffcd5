// SPDX-License-Identifier: GPL-2.0-only
/*
 * Threads that wait in known places, for off-CPU and wall-clock profiles.
 * Usage: offcpu sleep SECONDS   main -> a -> b -> sleeper, nanosleep 50 ms at a time
 *        offcpu pipe SECONDS    reader blocked in read() on a pipe nothing is written to
 *        offcpu fsync SECONDS   write 64 KiB and fdatasync a file in the current directory
 *        offcpu mixed SECONDS [THREADS]
 *                               burn_cpu 20 ms, then sleep_wait 60 ms (nanosleep), again;
 *                               prints the real time of both phases at the end (the main
 *                               thread's); THREADS - 1 more threads do the same
 *        offcpu mutex SECONDS   holder() keeps a mutex 50 ms at a time (spinning), waiter()
 *                               takes it in between: its wait is the holder's hold
 *        offcpu pingpong N      two processes pass a byte through pipes N times (switch storm)
 * Built without frame pointers: the stacks come from the DWARF unwinder.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "workload.h"

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")

static double end_time;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

NOINLINE void sleeper(void)
{
	while (now() < end_time)
		sleep_ms(50);
	KEEP();
}

NOINLINE void b(void)
{
	sleeper();
	KEEP();
}

NOINLINE void a(void)
{
	b();
	KEEP();
}

NOINLINE void pipe_reader(int fd)
{
	char c;

	if (read(fd, &c, 1) < 0)
		perror("read");
	KEEP();
}

NOINLINE void syncer(void)
{
	static char buf[65536];
	int fd = open("offcpu.fsync.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0) {
		perror("offcpu.fsync.tmp");
		exit(1);
	}
	memset(buf, 'x', sizeof(buf));
	while (now() < end_time) {
		if (pwrite(fd, buf, sizeof(buf), 0) < 0 || fdatasync(fd) < 0) {
			perror("fsync");
			exit(1);
		}
	}
	close(fd);
	unlink("offcpu.fsync.tmp");
	KEEP();
}

NOINLINE void burn_cpu(double secs)
{
	double end = now() + secs;

	SPIN_UNTIL(end);
	KEEP();
}

NOINLINE void sleep_wait(long ms)
{
	sleep_ms(ms);
	KEEP();
}

/* The mixed loop; its phases' real times in *burn and *slept. */
NOINLINE void mixed(double *burn, double *slept)
{
	double t0, t1, t2;

	/* The real time of each phase: a busy machine stretches the spin. */
	while ((t0 = now()) < end_time) {
		burn_cpu(0.02);
		t1 = now();
		sleep_wait(60);
		t2 = now();
		*burn += t1 - t0;
		*slept += t2 - t1;
	}
}

static void *mixed_thread(void *arg)
{
	double burn = 0, slept = 0;

	(void)arg;
	mixed(&burn, &slept);
	return NULL;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

NOINLINE void hold(void)
{
	burn_cpu(0.05);
	KEEP();
}

static void *holder(void *arg)
{
	(void)arg;
	while (now() < end_time) {
		pthread_mutex_lock(&lock);
		hold();
		pthread_mutex_unlock(&lock);
		sleep_ms(1);
	}
	return NULL;
}

NOINLINE void waiter(void)
{
	while (now() < end_time) {
		pthread_mutex_lock(&lock);
		pthread_mutex_unlock(&lock);
		sleep_ms(1);
	}
	KEEP();
}

static int pingpong(long n)
{
	int ab[2], ba[2];
	char c = 0;
	pid_t pid;
	long i;

	if (pipe(ab) || pipe(ba))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		/* Only the parent may hold the write end: its close is the child's EOF. */
		close(ab[1]);
		close(ba[0]);
		while (read(ab[0], &c, 1) == 1)
			if (write(ba[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(ab[0]);
	close(ba[1]);
	for (i = 0; i < n; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			return 1;
	close(ab[1]);
	waitpid(pid, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 2 ? atof(argv[2]) : 2.0;
	const char *what = argc > 1 ? argv[1] : "sleep";

	end_time = now() + secs;
	if (!strcmp(what, "sleep")) {
		a();
	} else if (!strcmp(what, "pipe")) {
		int p[2];

		if (pipe(p))
			return 1;
		/*
		 * Nothing is written: the read blocks until the alarm ends the process. Its
		 * stack is taken once, when it blocks: 100 ms first, so libc's unwind table
		 * (loaded as flamed sees the mapping) is there, as in any process but a
		 * freshly started one.
		 */
		sleep_ms(100);
		alarm((unsigned int)secs + 1);
		signal(SIGALRM, SIG_DFL);
		pipe_reader(p[0]);
	} else if (!strcmp(what, "fsync")) {
		syncer();
	} else if (!strcmp(what, "mixed")) {
		int i, nt = argc > 3 ? atoi(argv[3]) : 1;
		double burn = 0, slept = 0;
		pthread_t t[64];

		if (nt < 1 || nt > 64)
			return 2;
		for (i = 1; i < nt; i++)
			if (pthread_create(&t[i], NULL, mixed_thread, NULL))
				return 1;
		mixed(&burn, &slept);
		for (i = 1; i < nt; i++)
			pthread_join(t[i], NULL);
		printf("burn %.6f sleep %.6f\n", burn, slept);
	} else if (!strcmp(what, "mutex")) {
		pthread_t t;

		pthread_create(&t, NULL, holder, NULL);
		waiter();
		pthread_join(t, NULL);
	} else if (!strcmp(what, "pingpong")) {
		return pingpong(atol(argv[2]));
	} else {
		fprintf(stderr, "usage: offcpu sleep|pipe|fsync|mutex SECONDS | mixed SECONDS [THREADS] | pingpong N\n");
		return 2;
	}
	return 0;
}
