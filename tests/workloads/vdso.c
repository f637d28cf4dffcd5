// SPDX-License-Identifier: GPL-2.0-only
/*
 * Most time inside the vDSO (clock_gettime), called from main -> g -> f, gcc -O2 without frame
 * pointers: unwinding must go through the vDSO's own CFI. Usage: vdso SECONDS
 */
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) double f(void)
{
	double s = 0;
	int i;

	for (i = 0; i < 1000; i++)
		s += now();
	return s;
}

__attribute__((noinline)) double g(void)
{
	return f() + 1;
}

int main(int argc, char **argv)
{
	double end = now() + (argc > 1 ? atof(argv[1]) : 2.0), s = 0;

	while (now() < end)
		s += g();
	return s == 1;
}
