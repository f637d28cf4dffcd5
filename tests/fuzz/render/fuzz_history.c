// SPDX-License-Identifier: GPL-2.0-only
/*
 * The names in an --output-dir (anyone who may write there chooses them) and the TIME of
 * --from/--to: history__parse_window_name and history__parse_time. A name accepted must be the
 * one the daemon would write for the time it parses to; a time accepted must lie in the years
 * the parser allows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fuzz.h"
#include "render/history.h"

/* 10000-01-01T00:00:00Z in ms. */
#define MAX_MS 253402300800000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char stem[32], ymd[20];
	unsigned int fmt = 0;
	uint64_t ms = 0;
	struct tm tm;
	time_t t;
	char *s;
	int r;

	fuzz__quiet();
	/* A buffer of its own size, no NUL: reading past it is caught. */
	s = malloc(size ? size : 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	r = history__parse_window_name(s, size, &ms, &fmt);
	if (r && r != -EINVAL)
		abort();
	if (!r) {
		if (fmt != HISTORY_SVG && fmt != HISTORY_FOLDED && fmt != HISTORY_PPROF)
			abort();
		t = ms / 1000;
		gmtime_r(&t, &tm);
		strftime(ymd, sizeof(ymd), "%Y%m%dT%H%M%S", &tm);
		snprintf(stem, sizeof(stem), "flamed-%.15s.%03uZ.", ymd, (unsigned int)(ms % 1000));
		if (size < 28 || memcmp(s, stem, 28))
			abort();
	}
	r = history__parse_time(s, size, MAX_MS - 1, &ms);
	if (r && r != -EINVAL && r != -ERANGE)
		abort();
	if (!r) {
		char buf[HISTORY_TIME_LEN];
		uint64_t back = 0;

		if (ms >= MAX_MS)
			abort();
		/* What it formats to parses back to the same time. */
		history__format_time(ms, buf);
		if (history__parse_time(buf, strlen(buf), 0, &back) || back != ms)
			abort();
	}
	free(s);
	return 0;
}
