// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sleeps, then loads a library with dlopen() and spins inside it: a mapping that appears while
 * the process is profiled.
 * Usage: dlopener SECONDS LIBRARY
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "workload.h"

__attribute__((noinline)) static void run_plugin(void (*fn)(double), double end)
{
	fn(end);
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	double end;
	void *lib;
	void (*fn)(double);

	if (argc < 3)
		return 2;
	end = now() + atof(argv[1]);
	usleep(300 * 1000);
	lib = dlopen(argv[2], RTLD_NOW);
	if (!lib) {
		fprintf(stderr, "dlopener: %s\n", dlerror());
		return 1;
	}
	fn = (void (*)(double))dlsym(lib, "plugin_outer");
	if (!fn)
		return 1;
	run_plugin(fn, end);
	return 0;
}
