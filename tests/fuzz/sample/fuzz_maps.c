// SPDX-License-Identifier: GPL-2.0-only
/* /proc/PID/maps lines: every line of the input through maps__parse_line. */
#include <errno.h>
#include <stdlib.h>

#include "fuzz.h"
#include "sample/procs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;

	fuzz__quiet();
	while (p <= end) {
		const uint8_t *nl = memchr(p, '\n', end - p);
		size_t len = (nl ? nl : end) - p;
		struct map_entry e;
		size_t plen = 0;
		char *line;
		int r;

		/* Each line in a buffer of its own size: reading past it is caught. */
		line = malloc(len ? len : 1);
		if (!line)
			return 0;
		memcpy(line, p, len);
		r = maps__parse_line(line, len, &e, &plen);
		if (r != 0 && r != 1 && r != -EINVAL)
			abort();
		if (r >= 0) {
			/* The path must lie inside the line. */
			if (plen > len || (plen && (e.path < line || e.path + plen > line + len)))
				abort();
			if (e.start > e.end)
				abort();
		}
		free(line);
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}
