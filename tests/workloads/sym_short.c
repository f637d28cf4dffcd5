// SPDX-License-Identifier: GPL-2.0-only
/* Runs 20 ms of CPU time, nearly all of it in short_work: a stream of these tests short-lived
 * processes. CPU time, not wall time: a busy machine stretches the process, not its share. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) unsigned short_work(double ms)
{
	double t0 = seconds();
	unsigned x = 1;

	while (seconds() - t0 < ms / 1000)
		for (int i = 0; i < 1000; i++)
			x = x * 1103515245u + 12345;
	return x;
}

int main(int argc, char **argv)
{
	printf("%u\n", short_work(argc > 1 ? atof(argv[1]) : 20));
	return 0;
}
