// SPDX-License-Identifier: GPL-2.0-only
/*
 * A shared library loaded with dlopen() while the process is being profiled (dlopener.c):
 * its unwind table must be picked up then. Built without frame pointers.
 */
#include "workload.h"

__attribute__((noinline)) void plugin_leaf(double end)
{
	SPIN_UNTIL(end);
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
