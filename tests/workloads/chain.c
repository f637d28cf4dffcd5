// SPDX-License-Identifier: GPL-2.0-only
/*
 * A CPU-bound program with a known call chain main -> a -> b -> c, all time spent in c.
 * Usage: chain SECONDS     run for that long
 *        chain -n COUNT    call a() COUNT times (fixed work, for overhead benchmarks)
 */
#include <stdlib.h>
#include <time.h>

#include "workload.h"

static volatile unsigned long sink;

__attribute__((noinline)) void c(void)
{
	unsigned long x = sink;
	int i;

	for (i = 0; i < 1000000; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

__attribute__((noinline)) void b(void)
{
	c();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void a(void)
{
	b();
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	double end;

	if (argc > 2 && argv[1][0] == '-' && argv[1][1] == 'n') {
		long n = atol(argv[2]);

		while (n-- > 0)
			a();
		return 0;
	}
	end = now() + (argc > 1 ? atof(argv[1]) : 2.0);
	while (now() < end)
		a();
	return 0;
}
