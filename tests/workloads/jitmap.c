// SPDX-License-Identifier: GPL-2.0-only
/*
 * A process that runs code from anonymous executable memory, as a JIT does, and names it in
 * /tmp/perf-PID.map, with as much filler as asked around the one true line: the hostile perf
 * map of docs/SECURITY.md (a user's map of tiny lines that grows without end).
 * Usage: jitmap SECS FILLER_MB first|last|grow|unique|fifo|none
 *   first: the true line, then FILLER_MB of "0 1 a" lines; last: the filler, then the true line;
 *   grow: the true line, then FILLER_MB of filler appended every 0.1 s while it runs;
 *   unique: the true line, then FILLER_MB of lines each naming another address (memory);
 *   fifo: the map is a FIFO nobody writes (must not block a reader); none: no map.
 * Prints "ready PID ADDR" once the map is written. The JIT function is named
 * "jit_spin_marker". x86-64 only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "workload.h"

/* mov rax, rdi; 1: dec rax; jnz 1b; ret */
static const unsigned char spin_code[] = { 0x48, 0x89, 0xf8, 0x48, 0xff, 0xc8, 0x75, 0xfb, 0xc3 };

/* Distinct addresses, far below any code: each line is a function to keep. */
static void unique_filler(FILE *f, double mb)
{
	unsigned long addr = 0x1000, written = 0;

	while (written < mb * 1048576) {
		int n = fprintf(f, "%lx 8 u\n", addr);

		if (n < 0)
			break;
		written += n;
		addr += 0x10;
	}
	fflush(f);
}

static void filler(FILE *f, double mb)
{
	static char chunk[1 << 16];
	size_t i, n = (size_t)(mb * 1048576) / sizeof(chunk);

	for (i = 0; i + 6 <= sizeof(chunk); i += 6)
		memcpy(chunk + i, "0 1 a\n", 6);
	/* 65536 is not a multiple of 6: pad the last line so every chunk ends a line. */
	memset(chunk + i, ' ', sizeof(chunk) - i - 1);
	chunk[sizeof(chunk) - 1] = '\n';
	for (i = 0; i < n; i++)
		fwrite(chunk, 1, sizeof(chunk), f);
	fflush(f);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0, mb = argc > 2 ? atof(argv[2]) : 0, end;
	const char *mode = argc > 3 ? argv[3] : "first";
	void (*spin)(unsigned long);
	char path[64];
	FILE *f = NULL;
	void *code;

	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (code == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memcpy(code, spin_code, sizeof(spin_code));
	spin = (void (*)(unsigned long))code;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	unlink(path);
	if (!strcmp(mode, "none")) {
		f = NULL;
	} else if (!strcmp(mode, "fifo")) {
		if (mkfifo(path, 0644)) {
			perror("mkfifo");
			return 1;
		}
	} else {
		f = fopen(path, "w");
		if (!f) {
			perror(path);
			return 1;
		}
		if (!strcmp(mode, "last"))
			filler(f, mb);
		fprintf(f, "%lx %zx jit_spin_marker\n", (unsigned long)code, sizeof(spin_code));
		fflush(f);
		if (!strcmp(mode, "unique"))
			unique_filler(f, mb);
		else if (strcmp(mode, "last") && strcmp(mode, "grow"))
			filler(f, mb);
	}
	/* Ready: the test starts profiling once the map is complete. */
	printf("ready %d %lx\n", getpid(), (unsigned long)code);
	fflush(stdout);
	end = now() + secs;
	while (now() < end) {
		double next = now() + 0.1;

		while (now() < next)
			spin(1000000);
		if (f && !strcmp(mode, "grow"))
			filler(f, mb);
	}
	if (f)
		fclose(f);
	return 0;
}
