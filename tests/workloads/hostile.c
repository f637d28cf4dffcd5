// SPDX-License-Identifier: GPL-2.0-only
/*
 * Names chosen to break renderers: functions whose symbol names (asm labels) are markup,
 * separators, control characters and invalid UTF-8, run by processes named likewise
 * (prctl PR_SET_NAME). Built with clang, whose assembler quotes such names (gcc's cannot).
 * Usage: hostile SECS   (the parent and four children burn CPU for SECS seconds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define HOSTILE(fn, label)                                                                         \
	__attribute__((noinline)) void fn(unsigned int *x) __asm__(label);                         \
	__attribute__((noinline)) void fn(unsigned int *x)                                        \
	{                                                                                          \
		for (int i = 0; i < 200000; i++)                                                   \
			*x = *x * 1103515245u + 12345u;                                            \
	}

HOSTILE(markup, "</text><script>alert(1)</script>")
HOSTILE(separator, "semi;colon frame 42")
HOSTILE(newline, "new\nline\rreturn")
HOSTILE(invalid_utf8, "bad\xff\xfeutf8\xc3(")
HOSTILE(entities, "amp&lt;\"quote'\x01\x1b[31m]]>")
/* Would mark the document if a browser ran it: the test looks for the mark. */
HOSTILE(marker, "</text><script>document.documentElement.setAttribute('data-pwned','1')</script>")
HOSTILE(attribute, "x\" onload=\"document.documentElement.setAttribute('data-pwned','2')\" y=\"")

__attribute__((noinline)) static unsigned int burn(double secs)
{
	double end = now() + secs;
	unsigned int x = 1;

	while (now() < end) {
		markup(&x);
		separator(&x);
		newline(&x);
		invalid_utf8(&x);
		entities(&x);
		marker(&x);
		attribute(&x);
	}
	return x;
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"<b>&amp;x;y", "new\nline\ttab", "\xff\xfe\xc3(bad", "</title><svg",
	};
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (fork() == 0) {
			prctl(PR_SET_NAME, names[i], 0, 0, 0);
			return burn(secs) == 0;
		}
	}
	burn(secs);
	while (wait(NULL) > 0)
		;
	return 0;
}
