// SPDX-License-Identifier: GPL-2.0-only
/*
 * Recurses DEPTH frames deep, then spins: for the cost of unwinding deep stacks.
 * Usage: deep SECONDS DEPTH
 */
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;
static double end;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void spin(void)
{
	unsigned long x = sink;

	while (now() < end) {
		int i;

		for (i = 0; i < 100000; i++)
			x = x * 6364136223846793005UL + 1;
		sink = x;
	}
}

__attribute__((noinline)) void recurse(int n)
{
	if (n <= 0)
		spin();
	else
		recurse(n - 1);
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	end = now() + (argc > 1 ? atof(argv[1]) : 2.0);
	recurse(argc > 2 ? atoi(argv[2]) : 20);
	return 0;
}
