// SPDX-License-Identifier: GPL-2.0-only
/*
 * Recurses DEPTH frames deep, then spins: for the cost of unwinding deep stacks.
 * With "distinct", each frame is a different function (up to 128 of them), so an unwinder
 * cannot get away with looking up one return address again and again.
 * Usage: deep SECONDS DEPTH [distinct]
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workload.h"

static double end;

__attribute__((noinline)) void spin(void)
{
	SPIN_UNTIL(end);
}

__attribute__((noinline)) void recurse(int n)
{
	if (n <= 0)
		spin();
	else
		recurse(n - 1);
	__asm__ volatile("" ::: "memory");
}

typedef void (*step_fn)(int);
static step_fn steps[128];

/* step_NNN(n) calls steps[(n - 1) % 128]: frame k from the bottom is function k % 128. */
#define STEP(i)                                                           \
	__attribute__((noinline)) static void step_##i(int n)             \
	{                                                                 \
		if (n <= 0)                                               \
			spin();                                           \
		else                                                      \
			steps[(n - 1) % 128](n - 1);                      \
		__asm__ volatile("" ::: "memory");                        \
	}
#define STEP8(p) STEP(p##0) STEP(p##1) STEP(p##2) STEP(p##3) \
	STEP(p##4) STEP(p##5) STEP(p##6) STEP(p##7)
#define STEP64(p) STEP8(p##0) STEP8(p##1) STEP8(p##2) STEP8(p##3) \
	STEP8(p##4) STEP8(p##5) STEP8(p##6) STEP8(p##7)
STEP64(1)
STEP64(2)
#define ENT(i) step_##i,
#define ENT8(p) ENT(p##0) ENT(p##1) ENT(p##2) ENT(p##3) ENT(p##4) ENT(p##5) ENT(p##6) ENT(p##7)
#define ENT64(p) ENT8(p##0) ENT8(p##1) ENT8(p##2) ENT8(p##3) \
	ENT8(p##4) ENT8(p##5) ENT8(p##6) ENT8(p##7)
static step_fn steps[128] = { ENT64(1) ENT64(2) };

int main(int argc, char **argv)
{
	int depth = argc > 2 ? atoi(argv[2]) : 20;

	end = now() + (argc > 1 ? atof(argv[1]) : 2.0);
	if (argc > 3 && !strcmp(argv[3], "distinct"))
		steps[depth % 128](depth);
	else
		recurse(depth);
	return 0;
}
