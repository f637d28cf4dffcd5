// SPDX-License-Identifier: GPL-2.0-only
/*
 * main -> top -> mid -> leaf, all time in leaf. Built twice by the Makefile with gcc -O2:
 * without frame pointers (nofp) and with -fno-omit-frame-pointer (fpgcc, where gcc still drops
 * the leaf's frame setup). Usage: nofp SECONDS, or nofp -n COUNT (fixed work, for benchmarks)
 */
#include <stdlib.h>
#include <time.h>

#include "workload.h"

static volatile unsigned long sink;

__attribute__((noinline)) void leaf(void)
{
	unsigned long x = sink;
	int i;

	for (i = 0; i < 1000000; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

__attribute__((noinline)) void mid(void)
{
	leaf();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void top(void)
{
	mid();
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	double end;

	if (argc > 2 && argv[1][0] == '-' && argv[1][1] == 'n') {
		long n = atol(argv[2]);

		while (n-- > 0)
			top();
		return 0;
	}
	end = now() + (argc > 1 ? atof(argv[1]) : 2.0);
	while (now() < end)
		top();
	return 0;
}
