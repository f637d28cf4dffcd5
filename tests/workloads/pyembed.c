// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program that embeds CPython the way plugin hosts do: it spins in native code first (so the
 * profiler has sampled and indexed it without any Python), then loads libpython with dlopen()
 * and runs a script in it. CPython appears in a process already profiled.
 * Usage: pyembed SPIN-SECONDS LIBPYTHON SCRIPT ARG   (SPIN-SECONDS of CPU time)
 * (a pyenv libpython needs PYTHONHOME set to its prefix).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Seconds of CPU time, not of wall time: on a loaded machine half a second of wall time got
 * 47 samples at 499 Hz (the test wants 50), half a second of CPU time gets about 250.
 */
__attribute__((noinline)) static void native_first(double secs)
{
	static volatile unsigned long sink;
	unsigned long x = sink;
	double end = cpu_now() + secs;

	while (cpu_now() < end) {
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005UL + 1;
		sink = x;
	}
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
