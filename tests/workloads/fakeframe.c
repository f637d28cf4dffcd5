// SPDX-License-Identifier: GPL-2.0-only
/*
 * A frame-pointer chain into garbage: while it spins, rbp points at fake frames whose return
 * addresses carry the top bits of every runtime frame's tag (bpf/runtime.h: 3 to 7, Perl, Ruby,
 * Python, PHP, V8), as any word of a stack may when code without frame pointers leaves rbp
 * holding data. Frames read through frame pointers must never be taken for an interpreter's
 * frames.
 * Built with -mno-red-zone: the asm pushes below rsp.
 * Usage: fakeframe SECS
 */
#include <stdlib.h>

#include "workload.h"

__attribute__((noinline)) static void spin_fake(double secs)
{
	volatile unsigned long frames[5][2];
	double end = now() + secs;
	int i;

	for (i = 0; i < 5; i++) {
		frames[i][0] = 0;
		frames[i][1] = (3UL + i) << 60 | 0x4b6319799170UL;
	}
	while (now() < end) {
		for (i = 0; i < 5; i++) {
			unsigned long count = 2000000;

			__asm__ volatile("push %%rbp\n\t"
					 "mov %1, %%rbp\n\t"
					 "1: dec %0\n\t"
					 "jnz 1b\n\t"
					 "pop %%rbp"
					 : "+r"(count)
					 : "r"(&frames[i][0])
					 : "memory", "cc");
		}
	}
}

int main(int argc, char **argv)
{
	spin_fake(argc > 1 ? atof(argv[1]) : 1.0);
	return 0;
}
