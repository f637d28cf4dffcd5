// SPDX-License-Identifier: GPL-2.0-only
/*
 * Most time in a signal handler: main -> wait_loop is interrupted by SIGALRM every ms and the
 * handler burns CPU in hot(). Unwinding must cross the kernel's signal frame (__restore_rt)
 * back into wait_loop and main. gcc -O2 without frame pointers. Usage: signal SECONDS
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static volatile unsigned long sink;
static volatile int done;

__attribute__((noinline)) void hot(void)
{
	unsigned long x = sink;
	int i;

	for (i = 0; i < 300000; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

static void handler(int sig)
{
	(void)sig;
	hot();
}

static void on_end(int sig)
{
	(void)sig;
	done = 1;
}

__attribute__((noinline)) void wait_loop(void)
{
	while (!done)
		__asm__ volatile("pause" ::: "memory");
}

int main(int argc, char **argv)
{
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	struct sigaction sa = { .sa_handler = handler };
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	timer_t end;
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	struct itimerspec its = { .it_value = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) } };

	sigaction(SIGALRM, &sa, NULL);
	signal(SIGUSR1, on_end);
	timer_create(CLOCK_MONOTONIC, &sev, &end);
	timer_settime(end, 0, &its, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	wait_loop();
	return 0;
}
