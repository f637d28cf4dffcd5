// SPDX-License-Identifier: GPL-2.0-only
/* Continuous mode's pure parts: the config table and file parser, window names, retention. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "service/config.h"
#include "service/daemon.h"
#include "harness.h"
#include "base/output.h"
#include "service/session.h"
#include "base/util.h"

static int parse(struct config *c, const char *text, char *msg)
{
	config__init(c);
	return config__parse(c, text, strlen(text), "test.conf", msg);
}

TEST(config_defaults)
{
	struct config c;

	config__init(&c);
	CHECK_EQ_INT(c.interval_ns, 60 * 1000000000ULL);
	CHECK_EQ_INT(c.keep, 60);
	CHECK_EQ_INT(c.max_bytes, 0);
	CHECK_EQ_INT(c.formats, 1u << FMT_SVG);
	CHECK_EQ_INT(c.freq_hz, 99);
	CHECK_EQ_STR(c.event, "cpu-clock");
	CHECK_EQ_INT(c.unwind, UNWIND_AUTO);
	CHECK_EQ_STR(c.output_dir, "");
}

TEST(config_file_every_key)
{
	const char *text = "# flamed.conf\n"
			   "\n"
			   "interval = 2.5\n"
			   "output-dir=/var/lib/flamed\n"
			   "  keep   =   3   \n"
			   "max-bytes = 100M  # a trailing comment\n"
			   "formats = folded,svg,pprof\n"
			   "title = \"  CPU # of web1  \"\n"
			   "verbose = 1\n"
			   "frequency = 49\n"
			   "event = cycles\n"
			   "include-idle = yes\n"
			   "no-demangle = off\n"
			   "max-stacks = 4096\n"
			   "unwind = fp\n"
			   "unwind-max-mb = 64\r\n";
	char msg[CONFIG_MSG_LEN] = "";
	struct config c;

	CHECK_EQ_INT(parse(&c, text, msg), 0);
	CHECK_EQ_STR(msg, "");
	CHECK_EQ_INT(c.interval_ns, 2500000000ULL);
	CHECK_EQ_STR(c.output_dir, "/var/lib/flamed");
	CHECK_EQ_INT(c.keep, 3);
	CHECK_EQ_INT(c.max_bytes, 100ULL << 20);
	CHECK_EQ_INT(c.formats, (1u << FMT_SVG) | (1u << FMT_FOLDED) | (1u << FMT_PPROF));
	CHECK_EQ_STR(c.title, "  CPU # of web1  ");
	CHECK_EQ_INT(c.verbose, 1);
	CHECK_EQ_INT(c.freq_hz, 49);
	CHECK_EQ_STR(c.event, "cycles");
	CHECK(c.include_idle);
	CHECK(!c.no_demangle);
	CHECK_EQ_INT(c.max_stacks, 4096);
	CHECK_EQ_INT(c.unwind, UNWIND_FP);
	CHECK_EQ_INT(c.unwind_max_mb, 64);
}

TEST(config_errors_name_file_and_line)
{
	char msg[CONFIG_MSG_LEN];
	struct config c;

	CHECK_EQ_INT(parse(&c, "interval = 5\n\nbogus = 1\n", msg), -ENOENT);
	CHECK_EQ_STR(msg, "test.conf:3: unknown key (not a flamed setting; the line is not shown)");
	CHECK_EQ_INT(parse(&c, "# x\ninterval = -3\n", msg), -EINVAL);
	CHECK(!strncmp(msg, "test.conf:2: invalid value for interval: expected seconds", 57));
	CHECK_EQ_INT(parse(&c, "keep\n", msg), -EINVAL);
	CHECK_EQ_STR(msg, "test.conf:1: not a 'key = value' setting (the line is not shown)");
	CHECK_EQ_INT(parse(&c, "= 3\n", msg), -EINVAL);
	CHECK_EQ_STR(msg, "test.conf:1: missing key before '='");
	CHECK_EQ_INT(parse(&c, "title = \"open\n", msg), -EINVAL);
	CHECK_EQ_STR(msg, "test.conf:1: unterminated quoted value for title");
	/* The error stops the parse: later lines are not applied. */
	CHECK_EQ_INT(parse(&c, "keep = 7\nkeep = x\nkeep = 9\n", msg), -EINVAL);
	CHECK_EQ_INT(c.keep, 7);
}

TEST(config_bad_values)
{
	static const char *const bad[][2] = {
		{ "interval", "0" },	      { "interval", "0.01" },    { "interval", "abc" },
		{ "interval", "5x" },	      { "interval", "nan" },	 { "interval", "" },
		{ "interval", "8d" },	      { "keep", "-1" },	 { "keep", "1000001" },
		{ "keep", "3.5" },	      { "max-bytes", "10Q" },	 { "max-bytes", "M" },
		{ "max-bytes", "5MX" },	      { "max-bytes", "99999999999999T" },
		{ "formats", "" },	      { "formats", "svg,,pprof" }, { "formats", "svg," },
		{ "formats", "png" },	      { "formats", "svg,svg" },	 { "frequency", "0" },
		{ "event", "instructions" }, { "include-idle", "maybe" }, { "max-stacks", "63" },
		{ "unwind", "lbr" },	      { "unwind-max-mb", "0" },	 { "verbose", "3" },
		{ "output-dir", "" },
	};
	char msg[CONFIG_MSG_LEN], big[300];
	struct config c;
	size_t i;

	config__init(&c);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (config__set(&c, bad[i][0], bad[i][1], msg) != -EINVAL) {
			fprintf(stderr, "  accepted %s = '%s'\n", bad[i][0], bad[i][1]);
			*failed = 1;
		}
	}
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ_INT(config__set(&c, "title", big, msg), -EINVAL);
}

TEST(config_good_values)
{
	char msg[CONFIG_MSG_LEN];
	struct config c;

	config__init(&c);
	CHECK_EQ_INT(config__set(&c, "interval", "5m", msg), 0);
	CHECK_EQ_INT(c.interval_ns, 300 * 1000000000ULL);
	CHECK_EQ_INT(config__set(&c, "interval", "1h", msg), 0);
	CHECK_EQ_INT(c.interval_ns, 3600 * 1000000000ULL);
	CHECK_EQ_INT(config__set(&c, "interval", "0.5s", msg), 0);
	CHECK_EQ_INT(c.interval_ns, 500000000ULL);
	CHECK_EQ_INT(config__set(&c, "max-bytes", "2G", msg), 0);
	CHECK_EQ_INT(c.max_bytes, 2ULL << 30);
	CHECK_EQ_INT(config__set(&c, "max-bytes", "512KiB", msg), 0);
	CHECK_EQ_INT(c.max_bytes, 512ULL << 10);
	CHECK_EQ_INT(config__set(&c, "max-bytes", "1048577", msg), 0);
	CHECK_EQ_INT(c.max_bytes, 1048577);
	CHECK_EQ_INT(config__set(&c, "max-bytes", "0", msg), 0);
	CHECK_EQ_INT(c.max_bytes, 0);
	CHECK_EQ_INT(config__set(&c, "formats", "pprof", msg), 0);
	CHECK_EQ_INT(c.formats, 1u << FMT_PPROF);
	CHECK_EQ_INT(config__set(&c, "keep", "0", msg), 0);
	CHECK_EQ_INT(config__set(&c, "include-idle", "TRUE", msg), 0);
	CHECK(c.include_idle);
}

/* Every key's formatted value parses back to the same value. */
TEST(config_format_round_trips)
{
	char msg[CONFIG_MSG_LEN], v[PATH_MAX + 16];
	struct config a, b;
	const char *k;
	size_t i;

	CHECK_EQ_INT(parse(&a, "interval=90\noutput-dir=/x\nkeep=5\nmax-bytes=3M\n"
			       "formats=svg,pprof\ntitle=t\nverbose=2\nfrequency=199\n"
			       "include-idle=true\nmax-stacks=100\nunwind=dwarf\n",
			   msg),
		     0);
	config__init(&b);
	for (i = 0; (k = config__key_name(i)); i++) {
		config__format(&a, k, v, sizeof(v));
		/* Unset (pid, duration, format): no value one could give. */
		if (!v[0] && (config__key_modes(k) & CONFIG_CMDLINE))
			continue;
		if (config__set(&b, k, v, msg)) {
			fprintf(stderr, "  %s: '%s' does not parse back: %s\n", k, v, msg);
			*failed = 1;
		}
	}
	CHECK(i > 10);
	CHECK_EQ_INT(config__diff(&a, &b, NULL, NULL), 0);
}

struct diff_seen {
	char keys[256];
	int runtime, restart;
};

static void on_diff(void *ctx, const char *key, bool runtime)
{
	struct diff_seen *d = ctx;

	strcat(d->keys, key);
	strcat(d->keys, " ");
	if (runtime)
		d->runtime++;
	else
		d->restart++;
}

TEST(config_diff_and_copy)
{
	struct diff_seen seen = { "" };
	char msg[CONFIG_MSG_LEN];
	struct config a, b;

	CHECK_EQ_INT(parse(&a, "output-dir=/a\ntitle=a long title\n", msg), 0);
	CHECK_EQ_INT(parse(&b, "output-dir=/a\ntitle=short\ninterval=5\nfrequency=49\n", msg), 0);
	CHECK_EQ_INT(config__diff(&a, &b, on_diff, &seen), 3);
	CHECK_EQ_STR(seen.keys, "frequency title interval ");
	CHECK_EQ_INT(seen.runtime, 2);
	CHECK_EQ_INT(seen.restart, 1);
	CHECK(config__key_runtime("interval"));
	CHECK(!config__key_runtime("frequency"));
	CHECK(config__is_key("max-bytes"));
	CHECK(!config__is_key("outputs"));
	/* One-shot's output is a key of the command line only. */
	CHECK(config__key_modes("output") & CONFIG_CMDLINE);
	config__copy_key(&b, &a, "frequency");
	config__copy_key(&b, &a, "title");
	CHECK_EQ_INT(b.freq_hz, 99);
	/* Copied back: only the interval still differs. */
	CHECK_EQ_INT(config__diff(&a, &b, NULL, NULL), 1);
}

TEST(config_args_win_over_file)
{
	struct config_args args = { 0 };
	char msg[CONFIG_MSG_LEN];
	struct config c;

	CHECK_EQ_INT(config_args__add(&args, "interval", "2"), 0);
	CHECK_EQ_INT(config_args__add(&args, "include-idle", "true"), 0);
	CHECK_EQ_INT(parse(&c, "interval = 30\nkeep = 4\n", msg), 0);
	CHECK_EQ_INT(config_args__apply(&args, &c, msg), 0);
	CHECK_EQ_INT(c.interval_ns, 2000000000ULL);
	CHECK_EQ_INT(c.keep, 4);
	CHECK(c.include_idle);
	CHECK_EQ_INT(config_args__add(&args, "keep", "many"), 0);
	CHECK_EQ_INT(config_args__apply(&args, &c, msg), -EINVAL);
	CHECK(!strncmp(msg, "invalid --keep 'many': expected a number", 40));
}

TEST(config_load_file_errors)
{
	char msg[CONFIG_MSG_LEN], path[] = "/tmp/flamed-conf-XXXXXX";
	struct config c;
	int fd = mkstemp(path);

	config__init(&c);
	CHECK(fd >= 0);
	CHECK(write(fd, "keep = 2\nnope = 1\n", 18) == 18);
	close(fd);
	CHECK_EQ_INT(config__load(&c, path, msg), -ENOENT);
	CHECK(strstr(msg, ":2: unknown key") != NULL);
	CHECK(!strncmp(msg, path, strlen(path)));
	unlink(path);
	CHECK_EQ_INT(config__load(&c, path, msg), -ENOENT);
	CHECK(strstr(msg, "cannot read") != NULL);
	CHECK_EQ_INT(config__load(&c, "/tmp", msg), -EISDIR);
}

TEST(daemon_window_names)
{
	char stem[WINDOW_STEM_LEN];
	enum output_format f;

	/* 2025-01-02 03:04:05.678 UTC */
	daemon__window_stem(1735787045678000000ULL, stem);
	CHECK_EQ_STR(stem, "flamed-20250102T030405.678Z");
	CHECK(daemon__parse_window_file("flamed-20250102T030405.678Z.svg", stem, &f));
	CHECK_EQ_STR(stem, "flamed-20250102T030405.678Z");
	CHECK_EQ_INT(f, FMT_SVG);
	CHECK(daemon__parse_window_file("flamed-20250102T030405.678Z.pb.gz", stem, &f));
	CHECK_EQ_INT(f, FMT_PPROF);
	CHECK(daemon__parse_window_file("flamed-20250102T030405.678Z.folded", stem, &f));
	CHECK_EQ_INT(f, FMT_FOLDED);
	CHECK(!daemon__parse_window_file("latest.svg", stem, &f));
	CHECK(!daemon__parse_window_file("flamed-20250102T030405.678Z.svg.tmp", stem, &f));
	CHECK(!daemon__parse_window_file(".flamed-20250102T030405.678Z.svg.Ab12Cd", stem, &f));
	CHECK(!daemon__parse_window_file("flamed-2025010xT030405.678Z.svg", stem, &f));
	CHECK(!daemon__parse_window_file("flamed-20250102T030405.678Z.png", stem, &f));
	CHECK(!daemon__parse_window_file("flamed-", stem, &f));
	CHECK_EQ_STR(daemon__ext(FMT_PPROF), "pb.gz");
}

TEST(daemon_prune_count)
{
	const uint64_t b[] = { 100, 100, 100, 100, 100 };
	const uint64_t big_last[] = { 10, 10, 1000 };

	CHECK_EQ_INT(daemon__prune_count(b, 5, 3, 0), 2);
	CHECK_EQ_INT(daemon__prune_count(b, 5, 0, 0), 0);
	CHECK_EQ_INT(daemon__prune_count(b, 5, 10, 0), 0);
	CHECK_EQ_INT(daemon__prune_count(b, 5, 0, 250), 3);
	CHECK_EQ_INT(daemon__prune_count(b, 5, 0, 300), 2);
	CHECK_EQ_INT(daemon__prune_count(b, 5, 4, 250), 3);
	CHECK_EQ_INT(daemon__prune_count(b, 5, 1, 1000), 4);
	/* The newest window stays even when it alone is over the byte limit. */
	CHECK_EQ_INT(daemon__prune_count(big_last, 3, 0, 500), 2);
	CHECK_EQ_INT(daemon__prune_count(b, 1, 0, 1), 0);
	CHECK_EQ_INT(daemon__prune_count(b, 0, 1, 1), 0);
}
