// SPDX-License-Identifier: GPL-2.0-only
/*
 * perf maps as the hostile input they are: the parser on buffers (lines cut anywhere, bounds,
 * replacements across reads), then perfmap__update on real files: only what was appended is
 * read, a file that shrank, was replaced or rewritten is read again, the time budget stops a
 * read and the next one resumes it, and FIFOs, symlinks and other users' files are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "harness.h"
#include "symbolize/perfmap.h"

static const char *name_at(const struct perfmap *m, uint64_t addr)
{
	const char *n = perfmap__find(m, addr);

	return n ? n : "(none)";
}

static void feed_str(struct perfmap *m, const char *s)
{
	perfmap__feed(m, s, strlen(s));
}

TEST(perfmap_feed_holds_back_a_partial_line)
{
	const char *txt = "1000 10 one\n2000 10 two\n3000 10 thr";
	struct perfmap *m = perfmap__new(NULL);
	size_t used;

	CHECK(m != NULL);
	if (!m)
		return;
	/* Cut inside the second line: only the first is complete. */
	CHECK_EQ_INT(perfmap__feed(m, txt, 16), 12);
	perfmap__commit(m);
	CHECK_EQ_INT(perfmap__count(m), 1);
	CHECK_EQ_STR(name_at(m, 0x1005), "one");
	CHECK(perfmap__find(m, 0x2005) == NULL);
	/* The rest: the last line has no '\n' yet, so it is still being written. */
	used = perfmap__feed(m, txt + 12, strlen(txt) - 12);
	CHECK_EQ_INT(used, 12);
	perfmap__commit(m);
	CHECK_EQ_INT(perfmap__count(m), 2);
	CHECK(perfmap__find(m, 0x3005) == NULL);
	CHECK_EQ_INT(perfmap__feed(m, "3000 10 three\n", 14), 14);
	perfmap__commit(m);
	CHECK_EQ_STR(name_at(m, 0x3005), "three");
	perfmap__free(m);
}

/* Later lines win over earlier ones, also when they arrive in a later read (merged in). */
TEST(perfmap_replacement_across_reads)
{
	struct perfmap *m = perfmap__new(NULL);

	CHECK(m != NULL);
	if (!m)
		return;
	feed_str(m, "5000 100 old\n1000 10 a\n9000 10 z\n");
	perfmap__commit(m);
	feed_str(m, "5000 100 new\n5040 8 inner\n0 10 zero\n");
	perfmap__commit(m);
	CHECK_EQ_INT(perfmap__count(m), 5);
	CHECK_EQ_STR(name_at(m, 0x5000), "new");
	CHECK_EQ_STR(name_at(m, 0x5041), "inner");
	CHECK_EQ_STR(name_at(m, 0x5050), "new");
	CHECK_EQ_STR(name_at(m, 0x5), "zero");
	CHECK_EQ_STR(name_at(m, 0x1001), "a");
	CHECK_EQ_STR(name_at(m, 0x9009), "z");
	/* Not yet committed: not findable, and the committed part stays right. */
	feed_str(m, "6000 10 pending\n");
	CHECK(perfmap__find(m, 0x6001) == NULL);
	CHECK_EQ_STR(name_at(m, 0x5000), "new");
	perfmap__free(m);
}

/* Unique functions past the entry bound are dropped and counted; the first ones stay. */
TEST(perfmap_entry_bound)
{
	struct perfmap_limits lim = { .max_entries = 1000 };
	struct perfmap *m = perfmap__new(&lim);
	struct perfmap_stats st;
	char line[64];
	int i, n;

	CHECK(m != NULL);
	if (!m)
		return;
	for (i = 0; i < 5000; i++) {
		n = snprintf(line, sizeof(line), "%x 10 f%d\n", 0x10000 + i * 0x10, i);
		perfmap__feed(m, line, n);
	}
	perfmap__commit(m);
	perfmap__stats(m, &st);
	CHECK_EQ_INT(perfmap__count(m), 1000);
	CHECK_EQ_INT(st.dropped, 4000);
	CHECK_EQ_STR(name_at(m, 0x10000), "f0");
	CHECK_EQ_STR(name_at(m, 0x10000 + 999 * 0x10), "f999");
	CHECK(perfmap__find(m, 0x10000 + 1000 * 0x10) == NULL);
	perfmap__free(m);
}

/* Long names against the byte bound: memory never passes it. */
TEST(perfmap_byte_bound)
{
	struct perfmap_limits lim = { .max_bytes = 256 << 10 };
	struct perfmap *m = perfmap__new(&lim);
	struct perfmap_stats st;
	char line[600];
	int i, n;

	CHECK(m != NULL);
	if (!m)
		return;
	for (i = 0; i < 20000; i++) {
		n = snprintf(line, sizeof(line), "%x 10 %0500d\n", 0x10000 + i * 0x10, i);
		perfmap__feed(m, line, n);
		if (perfmap__mem(m) > lim.max_bytes + 1024)
			break;
	}
	perfmap__commit(m);
	perfmap__stats(m, &st);
	CHECK(perfmap__mem(m) <= lim.max_bytes + 1024);
	CHECK(perfmap__count(m) > 100);
	CHECK(st.dropped > 0);
	CHECK_EQ_INT(perfmap__count(m) + st.dropped, 20000);
	perfmap__free(m);
}

/*
 * The amplification attack: millions of lines naming the same few addresses. Replacements
 * cost no memory (done in place, or merged and the pool compacted), and nothing is dropped.
 */
TEST(perfmap_replacements_cost_no_memory)
{
	struct perfmap_limits lim = { .max_entries = 1000, .max_bytes = 64 << 10 };
	struct perfmap *m = perfmap__new(&lim);
	static char buf[1 << 20];
	struct perfmap_stats st;
	size_t i;
	int round;

	CHECK(m != NULL);
	if (!m)
		return;
	for (i = 0; i + 12 <= sizeof(buf); i += 12)
		memcpy(buf + i, "0 1 a\n1 1 b\n", 12);
	for (round = 0; round < 8; round++) {
		perfmap__feed(m, buf, i);
		perfmap__commit(m);
	}
	perfmap__stats(m, &st);
	CHECK_EQ_INT(perfmap__count(m), 2);
	CHECK_EQ_INT(st.dropped, 0);
	CHECK(perfmap__mem(m) <= lim.max_bytes + 1024);
	CHECK_EQ_STR(name_at(m, 0), "a");
	CHECK_EQ_STR(name_at(m, 1), "b");
	perfmap__free(m);
}

TEST(perfmap_parse_odd_input)
{
	static const char *const bad[] = {
		"", "\n\n\n", "1000", "1000 ", "1000 10", "1000 10 ", "x 10 n\n", "1000 0 zero\n",
		"ffffffffffffffff 2 wraps\n", "10000000000000000 1 toolong\n", "1000 10 nul\0x\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i]) + (i == 10 ? 4 : 0);
		struct perfmap *m = perfmap__parse(bad[i], len);

		CHECK(m != NULL);
		if (m)
			CHECK_EQ_INT(perfmap__count(m), 0);
		perfmap__free(m);
	}
}

/* A pid nobody has, unique per run: /tmp is shared with other test runs. */
static uint32_t fake_pid(void)
{
	return 3000000000u + (uint32_t)getpid();
}

static void write_file(const char *path, const char *txt, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (!f)
		return;
	fputs(txt, f);
	fclose(f);
}

TEST(perfmap_update_reads_what_was_appended)
{
	struct perfmap *m = perfmap__new(NULL);
	struct perfmap_stats st;
	char path[64], tmp[72];
	uint32_t pid = fake_pid();

	snprintf(path, sizeof(path), "/tmp/perf-%u.map", pid);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	CHECK(m != NULL);
	if (!m)
		return;
	unlink(path);
	CHECK_EQ_INT(perfmap__update(m, pid, false, NULL), -ENOENT);
	write_file(path, "1000 10 one\n2000 10 two\n", "w");
	CHECK_EQ_INT(perfmap__update(m, pid, false, NULL), 0);
	CHECK_EQ_INT(perfmap__count(m), 2);
	/* Appended: one whole line and one being written. */
	write_file(path, "3000 10 three\n4000 10 fo", "a");
	CHECK_EQ_INT(perfmap__update(m, pid, false, NULL), 0);
	CHECK_EQ_INT(perfmap__count(m), 3);
	CHECK(perfmap__find(m, 0x4001) == NULL);
	write_file(path, "ur\n", "a");
	CHECK_EQ_INT(perfmap__update(m, pid, false, NULL), 0);
	CHECK_EQ_STR(name_at(m, 0x4001), "four");
	perfmap__stats(m, &st);
	CHECK_EQ_INT(st.bytes_read, 51);	/* each byte once */
	CHECK_EQ_INT(st.resets, 0);

	/* Truncated and rewritten shorter: read again, the old names gone. */
	write_file(path, "1000 10 uno\n", "w");
	CHECK_EQ_INT(perfmap__update(m, pid, false, NULL), 0);
	CHECK_EQ_INT(perfmap__count(m), 1);
	CHECK_EQ_STR(name_at(m, 0x1001), "uno");
	CHECK(perfmap__find(m, 0x2001) == NULL);
	/* Rewritten in place, longer: the bytes before the offset differ. */
	write_file(path, "1000 10 UNO\n2000 10 dos\n", "w");
	CHECK_EQ_INT(perfmap__update(m, pid, false, NULL), 0);
	CHECK_EQ_STR(name_at(m, 0x1001), "UNO");
	CHECK_EQ_STR(name_at(m, 0x2001), "dos");
	/* Replaced by another file (a rename): same size, another inode. */
	write_file(tmp, "1000 10 ein\n2000 10 zwo\n", "w");
	CHECK_EQ_INT(rename(tmp, path), 0);
	CHECK_EQ_INT(perfmap__update(m, pid, false, NULL), 0);
	CHECK_EQ_STR(name_at(m, 0x2001), "zwo");
	perfmap__stats(m, &st);
	CHECK_EQ_INT(st.resets, 3);
	unlink(path);
	perfmap__free(m);
}

/* A spent budget stops a read before it starts; the next window's budget resumes it. */
TEST(perfmap_update_within_the_budget)
{
	struct perfmap_budget spent = { .left_ns = 0 }, plenty = { .left_ns = 10000000000ULL };
	struct perfmap *m = perfmap__new(NULL);
	uint32_t pid = fake_pid();
	char path[64];

	snprintf(path, sizeof(path), "/tmp/perf-%u.map", pid);
	CHECK(m != NULL);
	if (!m)
		return;
	write_file(path, "1000 10 one\n", "w");
	CHECK_EQ_INT(perfmap__update(m, pid, false, &spent), 1);
	CHECK(spent.exhausted);
	CHECK_EQ_INT(perfmap__count(m), 0);
	CHECK_EQ_INT(perfmap__update(m, pid, false, &plenty), 0);
	CHECK(!plenty.exhausted && plenty.left_ns < 10000000000ULL);
	CHECK_EQ_STR(name_at(m, 0x1001), "one");
	unlink(path);
	perfmap__free(m);
}

/* What anyone can plant in /tmp: a FIFO (never opened: no block), a symlink (not followed). */
TEST(perfmap_update_refuses_fifos_and_symlinks)
{
	struct perfmap *m = perfmap__new(NULL);
	uint32_t pid = fake_pid();
	char path[64], target[80];

	snprintf(path, sizeof(path), "/tmp/perf-%u.map", pid);
	snprintf(target, sizeof(target), "%s.target", path);
	CHECK(m != NULL);
	if (!m)
		return;
	unlink(path);
	CHECK_EQ_INT(mkfifo(path, 0644), 0);
	CHECK_EQ_INT(perfmap__update(m, pid, false, NULL), -EINVAL);
	unlink(path);
	write_file(target, "1000 10 secret\n", "w");
	CHECK_EQ_INT(symlink(target, path), 0);
	CHECK_EQ_INT(perfmap__update(m, pid, false, NULL), -EINVAL);
	CHECK(perfmap__find(m, 0x1001) == NULL);
	unlink(path);
	unlink(target);
	perfmap__free(m);
}

/* A live process's map must be its own user's: another user's file, root's included. */
TEST(perfmap_update_owner_is_the_process_user)
{
	struct perfmap *m = perfmap__new(NULL);
	char path[64];

	if (geteuid()) {
		fprintf(stderr, "  skip perfmap_update_owner_is_the_process_user: needs root\n");
		perfmap__free(m);
		return;
	}
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	CHECK(m != NULL);
	if (!m)
		return;
	write_file(path, "1000 10 mine\n", "w");
	CHECK_EQ_INT(perfmap__update(m, getpid(), true, NULL), 0);
	CHECK_EQ_STR(name_at(m, 0x1001), "mine");
	CHECK_EQ_INT(chown(path, 65534, 65534), 0);
	CHECK_EQ_INT(perfmap__update(m, getpid(), true, NULL), -EPERM);
	/* Refused: and what it held is gone, it may not be the process's. */
	CHECK(perfmap__find(m, 0x1001) == NULL);
	unlink(path);
	perfmap__free(m);
}
