// SPDX-License-Identifier: GPL-2.0-only
/*
 * A shared library loaded with dlopen() while the process is being profiled (dlopener.c):
 * its unwind table must be picked up then. Built without frame pointers.
 */
#include "now.h"

static volatile unsigned long sink;

__attribute__((noinline)) void plugin_leaf(double end)
{
	unsigned long x = sink;

	while (now() < end) {
		int i;

		for (i = 0; i < 100000; i++)
			x = x * 6364136223846793005UL + 1;
		sink = x;
	}
}

__attribute__((noinline)) void plugin_mid(double end)
{
	plugin_leaf(end);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void plugin_outer(double end)
{
	plugin_mid(end);
	__asm__ volatile("" ::: "memory");
}
