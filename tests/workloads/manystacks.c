// SPDX-License-Identifier: GPL-2.0-only
/*
 * Thousands of distinct stacks: a recursion DEPTH deep whose every level goes through one of
 * two functions, chosen by the bits of a counter (2^DEPTH stacks), so small in-kernel maps
 * overflow (tests/e2e/test_security.sh: --max-stacks 64 must count the samples it drops).
 * Usage: manystacks SECS [DEPTH]   (DEPTH at most 20, default 12)
 */
#include <stdlib.h>
#include <time.h>

#include "workload.h"

static volatile unsigned long sink;

__attribute__((noinline)) static void work(void)
{
	unsigned long x = sink;
	int i;

	for (i = 0; i < 20000; i++)
		x = x * 6364136223846793005UL + 1;
	sink = x;
}

__attribute__((noinline)) static void left(unsigned int bits, int n);
__attribute__((noinline)) static void right(unsigned int bits, int n);

__attribute__((noinline)) static void step(unsigned int bits, int n)
{
	if (n <= 0)
		work();
	else if (bits & 1)
		right(bits >> 1, n - 1);
	else
		left(bits >> 1, n - 1);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void left(unsigned int bits, int n)
{
	step(bits, n);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void right(unsigned int bits, int n)
{
	step(bits, n);
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	double end = now() + (argc > 1 ? atof(argv[1]) : 1.0);
	int depth = argc > 2 ? atoi(argv[2]) : 12;
	unsigned int i = 0;

	if (depth < 1 || depth > 20)
		depth = 12;
	while (now() < end)
		step(i++ * 2654435761u, depth);
	return 0;
}
