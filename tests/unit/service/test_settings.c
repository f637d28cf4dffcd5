// SPDX-License-Identifier: GPL-2.0-only
/*
 * Settings parsed once: the key table builds the command line's options and --help, and a
 * value is accepted or refused the same whether it came from the command line or a file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "service/config.h"
#include "harness.h"
#include "base/output.h"
#include "base/util.h"
#include "render/svg.h"

/* One setting from the command line (resolved as one-shot or continuous) and from a file. */
static int from_cmdline(const char *key, const char *val, unsigned int mode, struct config *c,
			char *msg)
{
	struct config_args a = { 0 };

	config_args__add(&a, key, val);
	return config__resolve(c, NULL, &a, mode, msg);
}

static int from_file(const char *key, const char *val, struct config *c, char *msg)
{
	char text[512];

	snprintf(text, sizeof(text), "%s = %s\n", key, val);
	config__init(c);
	return config__parse(c, text, strlen(text), "t.conf", msg);
}

TEST(settings_getopt_from_table)
{
	struct option lo[96];
	char so[64];
	const char *k;
	size_t n, i, j;

	n = config__getopt(lo, ARRAY_SIZE(lo), so, sizeof(so));
	CHECK_EQ_STR(so, "p:t:d:F:o:vaC:g");
	for (i = 0; (k = config__key_name(i)); i++) {
		/* -g is a letter only, as in perf. */
		if (!k[1]) {
			CHECK_EQ_STR(config__opt_key(k[0]), k);
			continue;
		}
		for (j = 0; j < n && strcmp(lo[j].name, k); j++)
			;
		CHECK(j < n);
		if (j < n)
			CHECK_EQ_STR(config__opt_key(lo[j].val), k);
	}
	CHECK_EQ_INT(n, i - 1);
	CHECK_EQ_STR(config__opt_key('F'), "frequency");
	CHECK(config__opt_key('Z') == NULL);
	CHECK(config__opt_key(CONFIG_OPT_BASE + 100000) == NULL);
}

TEST(settings_help_lists_every_key)
{
	char *buf = NULL, want[64];
	size_t len = 0, i;
	const char *k;
	FILE *f = open_memstream(&buf, &len);
	int s;

	for (s = 0; s < 4; s++)
		config__help(f, s);
	fclose(f);
	for (i = 0; (k = config__key_name(i)); i++) {
		if (!k[1]) {
			snprintf(want, sizeof(want), "\n  -%s   ", k);
			CHECK(strstr(buf, want) != NULL);
			continue;
		}
		snprintf(want, sizeof(want), "--%s ", k);
		if (!strstr(buf, want)) {
			snprintf(want, sizeof(want), "--%s\n", k);
			CHECK(strstr(buf, want) != NULL);
		}
	}
	CHECK(strstr(buf, "  -p, --pid PID        profile only this process") != NULL);
	/* A long option pushes the text two spaces on, continuation lines stay aligned. */
	CHECK(strstr(buf, "      --debuginfod-timeout SECS  per file (default 10)\n") != NULL);
	CHECK(strstr(buf, "\n                       (or .txt)") != NULL);
	free(buf);
}

/* The inconsistency of issue 13: 0 was refused on the command line, accepted in a file. */
TEST(settings_same_bounds_from_both_sources)
{
	static const struct {
		const char *key, *val;
		bool good;
	} cases[] = {
		{ "debuginfod-timeout", "0", true },
		{ "debuginfod-timeout", "600", true },
		{ "debuginfod-timeout", "601", false },
		{ "frequency", "0", false },
		{ "frequency", "49", true },
		{ "max-stacks", "63", false },
		{ "max-stacks", "64", true },
		{ "unwind-max-mb", "0", false },
		{ "unwind", "dwarf", true },
		{ "unwind", "lbr", false },
		{ "event", "cycles", true },
		{ "event", "cache-misses", false },
		{ "debug-dir", "relative/dir", false },
		{ "perfmap-read-ms", "60001", false },
	};
	char m1[CONFIG_MSG_LEN], m2[CONFIG_MSG_LEN], want[128];
	struct config c1, c2;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int e1 = from_cmdline(cases[i].key, cases[i].val, CONFIG_ONESHOT, &c1, m1);
		int e2 = from_file(cases[i].key, cases[i].val, &c2, m2);

		if (cases[i].good != !e1 || cases[i].good != !e2)
			fprintf(stderr, "  %s = %s: command line %d (%s), file %d (%s)\n",
				cases[i].key, cases[i].val, e1, e1 ? m1 : "", e2, e2 ? m2 : "");
		CHECK_EQ_INT(!e1, cases[i].good);
		CHECK_EQ_INT(!e2, cases[i].good);
		if (cases[i].good) {
			CHECK_EQ_INT(config__diff(&c1, &c2, NULL, NULL), 0);
			continue;
		}
		/* Both name the key and say the same thing is expected. */
		snprintf(want, sizeof(want), "invalid --%s '%s': expected ", cases[i].key,
			 cases[i].val);
		CHECK(strstr(m1, want) == m1);
		snprintf(want, sizeof(want), "t.conf:1: invalid value for %s: expected ",
			 cases[i].key);
		CHECK(strstr(m2, want) == m2);
		CHECK_EQ_STR(strstr(m1, "expected"), strstr(m2, "expected"));
	}
}

TEST(settings_kernel_rate_from_either_source)
{
	char msg[CONFIG_MSG_LEN];
	struct config c;

	CHECK_EQ_INT(from_file("frequency", "2000", &c, msg), 0);
	CHECK_EQ_INT(config__check_rate(&c, 1000, msg), -EINVAL);
	CHECK(strstr(msg, "frequency 2000 Hz is above the kernel's limit of 1000 Hz") != NULL);
	CHECK_EQ_INT(config__check_rate(&c, 2000, msg), 0);
	CHECK_EQ_INT(config__check_rate(&c, 0, msg), 0);
}

TEST(settings_modes)
{
	char msg[CONFIG_MSG_LEN], text[64];
	struct config c;

	/* One-shot: continuous-mode keys are refused (main selects continuous mode for them). */
	CHECK_EQ_INT(from_cmdline("keep", "3", CONFIG_ONESHOT, &c, msg), -EINVAL);
	CHECK(strstr(msg, "--keep is a continuous-mode option") != NULL);
	CHECK_EQ_INT(from_cmdline("output", "x.svg", CONFIG_CONTINUOUS, &c, msg), -EINVAL);
	CHECK(strstr(msg, "takes neither -o") != NULL);
	CHECK_EQ_INT(from_cmdline("output", "x.folded", CONFIG_ONESHOT, &c, msg), 0);
	CHECK_EQ_STR(c.output, "x.folded");
	/* Command-line keys are no config file keys. */
	CHECK_EQ_INT(from_file("duration", "3", &c, msg), -EINVAL);
	CHECK(strstr(msg, "duration is a command-line option") != NULL);
	snprintf(text, sizeof(text), "%d", (int)getpid());
	CHECK_EQ_INT(from_file("pid", text, &c, msg), -EINVAL);
	CHECK(strstr(msg, "pid is a command-line option") != NULL);
}

TEST(settings_fill)
{
	struct config_args a = { 0 };
	char msg[CONFIG_MSG_LEN], pid[16];
	struct config *c = malloc(sizeof(*c));
	struct config_opts *o = malloc(sizeof(*o));

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	config_args__add(&a, "pid", pid);
	config_args__add(&a, "pid", "1");
	config_args__add(&a, "duration", "2.5");
	config_args__add(&a, "frequency", "49");
	config_args__add(&a, "format", "folded");
	config_args__add(&a, "debug-dir", "/a:/b");
	config_args__add(&a, "debug-dir", "/c");
	config_args__add(&a, "debuginfod-timeout", "0");
	config_args__add(&a, "lines", "true");
	config_args__add(&a, "title", "T");
	CHECK_EQ_INT(config__resolve(c, NULL, &a, CONFIG_ONESHOT, msg), 0);
	config__fill(c, CONFIG_ONESHOT, o);
	CHECK_EQ_INT(o->session.nr_pids, 2);
	CHECK_EQ_INT(o->session.pids[0], getpid());
	CHECK_EQ_INT(o->session.pids[1], 1);
	CHECK_EQ_INT(o->session.duration_ns, 2500000000ULL);
	CHECK_EQ_INT(o->session.freq_hz, 49);
	CHECK_EQ_INT(o->session.format, FMT_FOLDED);
	CHECK_EQ_STR(o->session.output, "flamed.svg");
	CHECK_EQ_STR(o->session.title, "T");
	CHECK_EQ_STR(o->session.sym.debug_dirs[0], "/a");
	CHECK_EQ_STR(o->session.sym.debug_dirs[2], "/c");
	CHECK(o->session.sym.debug_dirs[3] == NULL);
	CHECK_EQ_INT(o->session.sym.debuginfod_timeout_s, 0);
	CHECK(o->session.sym.lines);
	/* The symbol cache bound is continuous mode's; one-shot keeps the symbolizer's. */
	CHECK_EQ_INT(o->session.sym.cache_mb, 0);
	config__fill(c, CONFIG_CONTINUOUS, o);
	CHECK_EQ_INT(o->session.sym.cache_mb, 256);
	/* A pid that is no process is named as such. */
	a.n = 0;
	config_args__add(&a, "pid", "4194304");
	if (access("/proc/4194304", F_OK)) {
		CHECK_EQ_INT(config__resolve(c, NULL, &a, CONFIG_ONESHOT, msg), -EINVAL);
		CHECK_EQ_STR(msg, "invalid --pid '4194304': no such process");
	}
	free(c);
	free(o);
}

/* perf's and flamegraph.pl's spellings land on the same settings, from either source. */
TEST(settings_perf_and_svg_habits)
{
	static const struct {
		const char *key, *val;
		bool good;
	} cases[] = {
		{ "call-graph", "dwarf,8192", true },
		{ "call-graph", "fp", true },
		{ "call-graph", "lbr", false },
		{ "call-graph", "dwarf,0", false },
		{ "call-graph", "dwarf,x", false },
		{ "cpu", "0", true },
		{ "cpu", "0-1,3", true },
		{ "cpu", "1-0", false },
		{ "cpu", "zero", false },
		{ "cpu", "-1", false },
		{ "all-cpus", "true", true },
		{ "width", "99", false },
		{ "width", "1920", true },
		{ "min-width", "0.5", true },
		{ "min-width", "1%", true },
		{ "min-width", "101%", false },
		{ "min-width", "-1", false },
		{ "colors", "java", false },
		{ "colors", "aqua", true },
		{ "inverted", "yes", true },
	};
	char m1[CONFIG_MSG_LEN], m2[CONFIG_MSG_LEN];
	struct config c1, c2;
	struct svg_opts so;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int e1 = from_cmdline(cases[i].key, cases[i].val, CONFIG_ONESHOT, &c1, m1);
		int e2 = from_file(cases[i].key, cases[i].val, &c2, m2);

		if (cases[i].good != !e1 || cases[i].good != !e2)
			fprintf(stderr, "  %s = %s: command line %d (%s), file %d (%s)\n",
				cases[i].key, cases[i].val, e1, e1 ? m1 : "", e2, e2 ? m2 : "");
		CHECK_EQ_INT(!e1, cases[i].good);
		CHECK_EQ_INT(!e2, cases[i].good);
		if (cases[i].good)
			CHECK_EQ_INT(config__diff(&c1, &c2, NULL, NULL), 0);
		else
			CHECK_EQ_STR(strstr(m1, "expected"), strstr(m2, "expected"));
	}
	CHECK_EQ_INT(from_cmdline("call-graph", "dwarf,65528", CONFIG_ONESHOT, &c1, m1), 0);
	CHECK_EQ_INT(c1.unwind, UNWIND_DWARF);
	CHECK_EQ_INT(from_file("call-graph", "fp", &c2, m2), 0);
	CHECK_EQ_INT(c2.unwind, UNWIND_FP);

	CHECK_EQ_INT(from_file("min-width", "1%", &c2, m2), 0);
	CHECK_EQ_INT(config__set(&c2, "width", "1020", m2), 0);
	CHECK_EQ_INT(config__set(&c2, "colors", "blue", m2), 0);
	CHECK_EQ_INT(config__set(&c2, "reverse", "true", m2), 0);
	CHECK_EQ_INT(config__set(&c2, "title", "T", m2), 0);
	config__fill_svg(&c2, &so);
	CHECK_EQ_INT(so.width, 1020);
	/* A percentage of the drawing width (the width less the padding). */
	CHECK_EQ_INT((int)(so.min_width * 1000 + 0.5), 10000);
	CHECK_EQ_INT(so.palette, SVG_PAL_BLUE);
	CHECK(so.reverse && !so.inverted && !so.hash);
	CHECK_EQ_STR(so.title, "T");
}

/* -t: running threads only, lists and repeats merged, one-shot command line only. */
TEST(settings_tid)
{
	char msg[CONFIG_MSG_LEN], me[64], list[64];
	struct config_args a = { 0 };
	struct config c;

	snprintf(me, sizeof(me), "%d", (int)gettid());
	snprintf(list, sizeof(list), "1,%d", (int)gettid());
	config_args__add(&a, "tid", list);
	config_args__add(&a, "tid", me);
	CHECK_EQ_INT(config__resolve(&c, NULL, &a, CONFIG_ONESHOT, msg), 0);
	CHECK_EQ_INT(c.tids.n, 2);
	CHECK_EQ_INT(c.tids.pid[0], 1);
	CHECK_EQ_INT(c.tids.pid[1], gettid());
	CHECK_EQ_INT(from_cmdline("tid", "4194304", CONFIG_ONESHOT, &c, msg), -EINVAL);
	CHECK(strstr(msg, "invalid --tid '4194304': no such thread") != NULL);
	CHECK_EQ_INT(from_cmdline("tid", "1,", CONFIG_ONESHOT, &c, msg), -EINVAL);
	CHECK(strstr(msg, "expected running thread ids") != NULL);
	CHECK_EQ_INT(from_cmdline("tid", "0", CONFIG_ONESHOT, &c, msg), -EINVAL);
	CHECK_EQ_INT(from_cmdline("tid", me, CONFIG_CONTINUOUS, &c, msg), -EINVAL);
	CHECK(strstr(msg, "(--tid given)") != NULL);
	CHECK_EQ_INT(from_file("tid", me, &c, msg), -EINVAL);
	CHECK(strstr(msg, "tid is a command-line option") != NULL);
}
