// SPDX-License-Identifier: GPL-2.0-only
/*
 * A syscall-heavy program: reads /dev/zero in large blocks, so most samples are in the kernel
 * (read_zero / clear_user under ksys_read). Usage: sys SECONDS
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

int main(int argc, char **argv)
{
	struct timespec ts;
	double end;
	int fd = open("/dev/zero", O_RDONLY);

	if (fd < 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + ts.tv_nsec / 1e9 + (argc > 1 ? atof(argv[1]) : 2.0);
	for (;;) {
		if (read(fd, buf, sizeof(buf)) < 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec + ts.tv_nsec / 1e9 >= end)
			break;
	}
	return 0;
}
