// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program that embeds CPython the way plugin hosts do: it spins in native code first (so the
 * profiler has sampled and indexed it without any Python), then loads libpython with dlopen()
 * and runs a script in it. CPython appears in a process already profiled.
 * Usage: pyembed SPIN-SECONDS LIBPYTHON SCRIPT ARG
 * (a pyenv libpython needs PYTHONHOME set to its prefix).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "workload.h"

__attribute__((noinline)) static void native_first(double secs)
{
	double end = now() + secs;

	SPIN_UNTIL(end);
}

int main(int argc, char **argv)
{
	void (*init)(int);
	int (*run)(const char *);
	char code[4096];
	void *lib;
	int n;

	if (argc < 5)
		return 2;
	native_first(atof(argv[1]));
	lib = dlopen(argv[2], RTLD_NOW | RTLD_GLOBAL);
	if (!lib) {
		fprintf(stderr, "pyembed: %s\n", dlerror());
		return 1;
	}
	init = (void (*)(int))dlsym(lib, "Py_InitializeEx");
	run = (int (*)(const char *))dlsym(lib, "PyRun_SimpleString");
	if (!init || !run)
		return 1;
	/* The script's own file name on its code objects, its argument in sys.argv[1]. */
	n = snprintf(code, sizeof(code),
		     "import sys\nsys.argv = ['%1$s', '%2$s']\n"
		     "exec(compile(open('%1$s').read(), '%1$s', 'exec'))\n",
		     argv[3], argv[4]);
	if (n < 0 || (size_t)n >= sizeof(code))
		return 2;
	init(0);
	return run(code) ? 1 : 0;
}
