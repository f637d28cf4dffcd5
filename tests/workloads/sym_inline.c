// SPDX-License-Identifier: GPL-2.0-only
/*
 * main -> outer_loop, with inner_mix inlined into outer_loop: the hot code is inner_mix's,
 * a frame only DWARF knows. Copies of this binary are stripped in different ways by the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/*
 * The process's CPU time: a run of N seconds gets N seconds of samples on a busy machine too
 * (half a second of wall time got 4 samples at 199 Hz beside a CI run and two spinners).
 */
static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline __attribute__((always_inline)) unsigned inner_mix(unsigned x, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		x = (x ^ (x >> 7)) * 2654435761u + i;
	return x;
}

__attribute__((noinline)) unsigned outer_loop(unsigned x)
{
	return inner_mix(x, 100000) + 1;
}

int main(int argc, char **argv)
{
	double dur = argc > 1 ? atof(argv[1]) : 1, t0 = seconds();
	unsigned x = 1;

	while (seconds() - t0 < dur)
		x = outer_loop(x);
	printf("%u\n", x);
	return 0;
}
