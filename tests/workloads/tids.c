// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two threads spinning in functions of their own, for -t: thread A in spin_a() for SECS_A
 * seconds, thread B in spin_b() for SECS_B seconds; the main thread only waits for them.
 * Prints "A TID" and "B TID" (kernel thread ids) once both run.
 * Usage: tids SECS_A SECS_B
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "workload.h"

static double secs[2];
static pid_t tids[2];
static pthread_barrier_t started;

__attribute__((noinline)) void spin_a(double end)
{
	SPIN_UNTIL(end);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void spin_b(double end)
{
	SPIN_UNTIL(end);
	__asm__ volatile("" ::: "memory");
}

static void *run(void *arg)
{
	long i = (long)arg;
	double end;

	tids[i] = gettid();
	pthread_setname_np(pthread_self(), i ? "tids-b" : "tids-a");
	pthread_barrier_wait(&started);
	end = now() + secs[i];
	if (i)
		spin_b(end);
	else
		spin_a(end);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[2];
	long i;

	if (argc != 3) {
		fprintf(stderr, "usage: tids SECS_A SECS_B\n");
		return 2;
	}
	secs[0] = atof(argv[1]);
	secs[1] = atof(argv[2]);
	pthread_barrier_init(&started, NULL, 3);
	for (i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, run, (void *)i))
			return 1;
	pthread_barrier_wait(&started);
	printf("A %d\nB %d\n", tids[0], tids[1]);
	fflush(stdout);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return 0;
}
