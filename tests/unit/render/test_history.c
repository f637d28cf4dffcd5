// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aggregate/profile.h"
#include "harness.h"
#include "render/folded.h"
#include "render/history.h"
#include "render/pprof.h"

/* 2026-12-04T03:00:00Z */
#define T0 1796353200000ULL

static int ptime(const char *s, uint64_t now, uint64_t *ms)
{
	return history__parse_time(s, strlen(s), now, ms);
}

TEST(history_parse_time_iso)
{
	uint64_t ms = 0;

	CHECK_EQ_INT(ptime("2026-12-04T03:00:00Z", 0, &ms), 0);
	CHECK(ms == T0);
	CHECK_EQ_INT(ptime("2026-12-04T03:00Z", 0, &ms), 0);
	CHECK(ms == T0);
	CHECK_EQ_INT(ptime("2026-12-04T03:00:00", 0, &ms), 0);
	CHECK(ms == T0);
	CHECK_EQ_INT(ptime("2026-12-04", 0, &ms), 0);
	CHECK(ms == T0 - 3 * 3600000);
	CHECK_EQ_INT(ptime("2026-12-04T03:00:01.25Z", 0, &ms), 0);
	CHECK(ms == T0 + 1250);
	CHECK_EQ_INT(ptime("2026-12-04T03:00:01.007Z", 0, &ms), 0);
	CHECK(ms == T0 + 1007);
	CHECK_EQ_INT(ptime("1970-01-01T00:00:00Z", 0, &ms), 0);
	CHECK(ms == 0);
	CHECK_EQ_INT(ptime("2024-02-29T00:00Z", 0, &ms), 0);
	/* Impossible dates and times, other offsets, junk. */
	CHECK_EQ_INT(ptime("2026-02-30T00:00Z", 0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("2026-12-04T24:00Z", 0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("2026-12-04T03:60Z", 0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("2026-13-04", 0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("2026-12-04T03:00:00+01:00", 0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("2026-12-04T03:00:00.Z", 0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("2026-12-04T03:00:00.1234Z", 0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("2026-12-04T3:00Z", 0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("2026-12-04T03", 0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("2026-12-04ZZ", 0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("", 0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("yesterday", 0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("1969-12-31", 0, &ms), -ERANGE);
	/* The length given, not a NUL, ends the input. */
	CHECK_EQ_INT(history__parse_time("2026-12-04T03:00Zjunk", 17, 0, &ms), 0);
	CHECK(ms == T0);
	/* Failures leave the result alone. */
	ms = 42;
	CHECK(ptime("2026-12-04T03:00:00+01:00", 0, &ms) < 0);
	CHECK(ms == 42);
}

TEST(history_parse_time_relative)
{
	uint64_t ms = 0;

	CHECK_EQ_INT(ptime("-2h", T0, &ms), 0);
	CHECK(ms == T0 - 2 * 3600000);
	CHECK_EQ_INT(ptime("-30m", T0, &ms), 0);
	CHECK(ms == T0 - 30 * 60000);
	CHECK_EQ_INT(ptime("-90s", T0, &ms), 0);
	CHECK(ms == T0 - 90000);
	CHECK_EQ_INT(ptime("-1d", T0, &ms), 0);
	CHECK(ms == T0 - 86400000);
	CHECK_EQ_INT(ptime("-0m", T0, &ms), 0);
	CHECK(ms == T0);
	CHECK_EQ_INT(ptime("now", T0, &ms), 0);
	CHECK(ms == T0);
	CHECK_EQ_INT(ptime("-2", T0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("-h", T0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("-2x", T0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("-2hh", T0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("+2h", T0, &ms), -EINVAL);
	CHECK_EQ_INT(ptime("-1.5h", T0, &ms), -EINVAL);
	/* Before the epoch, and numbers too big to multiply. */
	CHECK_EQ_INT(ptime("-100000d", T0, &ms), -ERANGE);
	CHECK_EQ_INT(ptime("-99999999999999999999d", T0, &ms), -EINVAL);
}

TEST(history_window_names)
{
	static const char *const bad[] = {
		"flamed-20261204T030000.000Z.txt",  "flamed-20261204T030000.000Z.svg.tmp",
		"flamed-20261204T030000.000Z.",	    "flamed-20261204T030000.000Z",
		"flamed-20261204T030000.000.svg",   "flamed-2026120AT030000.000Z.svg",
		"flamed-20261204 030000.000Z.svg",  "flamed-20261231T246000.000Z.svg",
		"flamed-20260230T000000.000Z.svg",  "latest.svg",
		".flamed-20261204T030000.000Z.svg", "flamed-19691231T235959.000Z.svg",
		"flamed-20261204T030000.000Z.pb",   "xflamed-20261204T030000.000Z.svg",
	};
	unsigned int fmt = 0;
	uint64_t ms = 0;

	CHECK_EQ_INT(history__parse_window_name("flamed-20261204T030000.000Z.svg", 31, &ms, &fmt),
		     0);
	CHECK(ms == T0 && fmt == HISTORY_SVG);
	CHECK_EQ_INT(
		history__parse_window_name("flamed-20261204T030001.059Z.folded", 34, &ms, &fmt), 0);
	CHECK(ms == T0 + 1059 && fmt == HISTORY_FOLDED);
	CHECK_EQ_INT(history__parse_window_name("flamed-20261204T030000.000Z.pb.gz", 33, &ms, &fmt),
		     0);
	CHECK(ms == T0 && fmt == HISTORY_PPROF);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 7;
		CHECK_EQ_INT(history__parse_window_name(bad[i], strlen(bad[i]), &ms, &fmt),
			     -EINVAL);
		CHECK(ms == 7);
	}
	/* A prefix of a name, by its length. */
	CHECK_EQ_INT(history__parse_window_name("flamed-20261204T030000.000Z.svgz", 31, &ms, &fmt),
		     0);
}

TEST(history_format_time)
{
	char buf[HISTORY_TIME_LEN];

	history__format_time(T0, buf);
	CHECK_EQ_STR(buf, "2026-12-04T03:00:00Z");
	history__format_time(T0 + 1059, buf);
	CHECK_EQ_STR(buf, "2026-12-04T03:00:01.059Z");
}

static void put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

/* A pprof window of one stack, mode m at hz, written as the daemon writes it. */
static void put_pprof(const char *dir, const char *name, const char *stack, uint64_t count,
		      enum profile_mode m, uint32_t hz)
{
	struct profile *p = profile__new();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	folded__parse(p, stack, strlen(stack), NULL);
	profile__meta(p)->profile_mode = m;
	profile__meta(p)->freq_hz = hz;
	profile__meta(p)->duration_ns = 60000000000ULL;
	profile__meta(p)->lost[LOST_USTACK] = count;
	pprof__write(p, f);
	fclose(f);
	put(dir, name, buf, len);
	free(buf);
	profile__free(p);
}

static char *folded_str(const struct profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	folded__write(p, f);
	fclose(f);
	return buf;
}

TEST(history_scan_and_merge)
{
	char dir[] = "/tmp/flamed-history.XXXXXX";
	struct history_window *w = NULL;
	struct history_info info;
	struct profile *p;
	size_t n = 0;
	char *out;

	if (!mkdtemp(dir))
		SKIP("mkdtemp");
	put(dir, "flamed-20261204T030000.000Z.folded", "a;b 3\na;c 2\n", 12);
	put(dir, "flamed-20261204T030000.000Z.svg", "<svg/>", 6);
	put_pprof(dir, "flamed-20261204T030100.000Z.pb.gz", "a;b 5\n", 5, PROFILE_CPU, 99);
	/* Both: the pprof file is read, the folded one (different on purpose) is not. */
	put_pprof(dir, "flamed-20261204T030200.000Z.pb.gz", "x 1\n", 1, PROFILE_CPU, 99);
	put(dir, "flamed-20261204T030200.000Z.folded", "never 100\n", 10);
	put(dir, "flamed-20261204T030300.000Z.svg", "<svg/>", 6);
	put_pprof(dir, "flamed-20261204T030400.000Z.pb.gz", "a;b 1\n", 1, PROFILE_OFFCPU, 0);
	put_pprof(dir, "flamed-20261204T030500.000Z.pb.gz", "a;b 1\n", 1, PROFILE_CPU, 49);
	put_pprof(dir, "flamed-20261204T030530.000Z.pb.gz", "a;b 1\n", 1, PROFILE_CPU, 99);
	put(dir, "latest.folded", "never 100\n", 10);
	put(dir, "notes.txt", "x", 1);

	CHECK_EQ_INT(history__scan(dir, &w, &n), 0);
	CHECK_EQ_INT(n, 7);
	CHECK(w[0].start_ms == T0 && w[0].formats == (HISTORY_FOLDED | HISTORY_SVG));
	CHECK(w[2].formats == (HISTORY_FOLDED | HISTORY_PPROF));
	CHECK(w[3].formats == HISTORY_SVG);
	CHECK_EQ_INT(history__lower_bound(w, n, 0), 0);
	CHECK_EQ_INT(history__lower_bound(w, n, T0 + 1), 1);
	CHECK_EQ_INT(history__lower_bound(w, n, T0 + 60000), 1);
	CHECK_EQ_INT(history__lower_bound(w, n, UINT64_MAX), 7);

	/* The first four: sums exact, losses added, the SVG-only window counted apart. */
	p = profile__new();
	CHECK_EQ_INT(history__merge(dir, w, 4, p, &info), 0);
	CHECK_EQ_INT(info.windows, 3);
	CHECK_EQ_INT(info.unreadable, 1);
	CHECK_EQ_INT(info.pprof, 2);
	CHECK_EQ_INT(info.folded, 1);
	CHECK(info.known && info.freq_hz == 99 && info.profile_mode == PROFILE_CPU);
	CHECK(profile__meta(p)->samples == 11 && profile__total(p) == 11);
	CHECK(profile__meta(p)->lost[LOST_USTACK] == 6);
	CHECK(profile__meta(p)->start_ns == T0 * 1000000);
	/* The last pprof window says its length: 03:02 + 60 s. */
	CHECK(profile__meta(p)->duration_ns == 180000000000ULL);
	out = folded_str(p);
	CHECK_EQ_STR(out, "a;b 8\na;c 2\nx 1\n");
	free(out);
	profile__free(p);

	/* A mode or a rate that differs is refused. */
	p = profile__new();
	CHECK_EQ_INT(history__merge(dir, w + 1, 4, p, &info), -EINVAL);
	profile__free(p);
	p = profile__new();
	CHECK_EQ_INT(history__merge(dir, w + 1, 2, p, &info), 0);
	profile__free(p);
	p = profile__new();
	CHECK_EQ_INT(history__merge(dir, w + 4, 2, p, &info), -EINVAL);
	profile__free(p);
	p = profile__new();
	CHECK_EQ_INT(history__merge(dir, w + 5, 2, p, &info), -EINVAL);
	profile__free(p);
	/* SVG only: nothing to read. */
	p = profile__new();
	CHECK_EQ_INT(history__merge(dir, w + 3, 1, p, &info), -EINVAL);
	profile__free(p);

	/* A window that is not a file (a FIFO would block) is refused, not waited on. */
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/flamed-20261204T030600.000Z.folded", dir);
		CHECK_EQ_INT(mkfifo(path, 0600), 0);
		free(w);
		CHECK_EQ_INT(history__scan(dir, &w, &n), 0);
		CHECK_EQ_INT(n, 8);
		p = profile__new();
		CHECK_EQ_INT(history__merge(dir, w + 7, 1, p, &info), -EINVAL);
		profile__free(p);
		unlink(path);
	}
	free(w);
	CHECK(history__scan("/nonexistent-flamed-dir", &w, &n) < 0);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK_EQ_INT(system(cmd), 0);
	}
}
