// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a hostile local user controls (issue 12): config files that are not config files or
 * that others can write, and counts that add up past what a profile can hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "service/config.h"
#include "render/folded.h"
#include "harness.h"
#include "render/pprof.h"
#include "aggregate/profile.h"
#include "base/util.h"

/* A line that is no valid setting is named by file and line, never shown. */
TEST(hostile_config_never_echoes_a_line)
{
	static const char *const texts[] = {
		"root:*:20228:0:99999:7:::\n",
		"# shadow\nAAAAB3NzaC1yc2ETOPSECRET==\n",
		"password=TOPSECRET\n",
		"keep = TOPSECRET\n",
		"title = \"TOPSECRET\n",
		"TOPSECRET = \"x\n",
	};
	char msg[CONFIG_MSG_LEN];
	struct config c;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		config__init(&c);
		msg[0] = '\0';
		CHECK(config__parse(&c, texts[i], strlen(texts[i]), "f.conf", msg) < 0);
		CHECK(!strncmp(msg, "f.conf:", 7));
		if (strstr(msg, "TOPSECRET") || strstr(msg, "root:") || strstr(msg, "AAAA")) {
			fprintf(stderr, "  echoed: %s\n", msg);
			*failed = 1;
		}
	}
	/* A typo gets the setting's name (ours), not the typed word. */
	config__init(&c);
	CHECK_EQ_INT(config__parse(&c, "intervl = 5\n", 12, "f.conf", msg), -ENOENT);
	CHECK_EQ_STR(msg, "f.conf:1: unknown key (did you mean 'interval'?)");
}

/* Loads path, returns the error; msg filled. */
static int load(const char *path, char *msg)
{
	struct config c;

	config__init(&c);
	msg[0] = '\0';
	return config__load(&c, path, msg);
}

/* As sshd: a file or directory others could change is refused, and the message says who. */
TEST(hostile_config_writable_by_others_refused)
{
	char dir[] = "/tmp/flamed-trust-XXXXXX", path[64], msg[CONFIG_MSG_LEN];
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/f.conf", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, "keep = 2\n", 9) == 9);
	close(fd);
	CHECK_EQ_INT(load(path, msg), 0);

	CHECK_EQ_INT(chmod(path, 0620), 0);
	CHECK_EQ_INT(load(path, msg), -EPERM);
	CHECK(strstr(msg, "refusing config file") && strstr(msg, "its group"));
	CHECK_EQ_INT(chmod(path, 0602), 0);
	CHECK_EQ_INT(load(path, msg), -EPERM);
	CHECK(strstr(msg, "every user") != NULL);
	CHECK_EQ_INT(chmod(path, 0600), 0);

	/* The directory: writable by others refused, unless sticky (as /tmp). */
	CHECK_EQ_INT(chmod(dir, 0777), 0);
	CHECK_EQ_INT(load(path, msg), -EPERM);
	CHECK(strstr(msg, "its directory") && strstr(msg, "every user"));
	CHECK_EQ_INT(chmod(dir, 01777), 0);
	CHECK_EQ_INT(load(path, msg), 0);
	CHECK_EQ_INT(chmod(dir, 0700), 0);

	/* Owned by another user: only root can hand a file over. */
	if (!geteuid()) {
		CHECK_EQ_INT(chown(path, 65534, 65534), 0);
		CHECK_EQ_INT(load(path, msg), -EPERM);
		CHECK(strstr(msg, "its owner") != NULL);
	}
	unlink(path);
	rmdir(dir);
}

/* Counts adding up past PROFILE_MAX_TOTAL: an error naming the line, never a wrapped total. */
TEST(hostile_folded_count_overflow_names_the_line)
{
	static const char wrap[] = "a;b 18446744073709551615\na;c 2\n";
	static const char late[] = "a;b 9223372036854775806\na;c 1\na;d 1\n";
	static const char diff[] = "a 1 9223372036854775807\nb 1 1\n";
	struct folded_parse_stats st;
	struct profile *p = profile__new(), *q = profile__new();

	CHECK(p && q);
	if (!p || !q)
		goto out;
	CHECK_EQ_INT(folded__parse(p, wrap, sizeof(wrap) - 1, &st), -EOVERFLOW);
	CHECK_EQ_INT(st.overflow_line, 1);
	profile__free(p);
	p = profile__new();
	/* Exactly the limit is fine; one more is not, on the line that adds it. */
	CHECK_EQ_INT(folded__parse(p, late, 30, &st), 0);
	CHECK_EQ_INT(profile__total(p), PROFILE_MAX_TOTAL);
	profile__free(p);
	p = profile__new();
	CHECK_EQ_INT(folded__parse(p, late, sizeof(late) - 1, &st), -EOVERFLOW);
	CHECK_EQ_INT(st.overflow_line, 3);
	/* A second input into the same profile counts on top of the first. */
	profile__free(p);
	p = profile__new();
	CHECK_EQ_INT(folded__parse(p, late, 24, &st), 0);
	CHECK_EQ_INT(folded__parse(p, "x 1\ny 1\n", 8, &st), -EOVERFLOW);
	CHECK_EQ_INT(st.overflow_line, 2);
	/* Differential input: each column on its own (BEFORE here). */
	profile__free(p);
	p = profile__new();
	CHECK_EQ_INT(folded__parse_diff(q, p, diff, sizeof(diff) - 1, &st), -EOVERFLOW);
	CHECK_EQ_INT(st.overflow_line, 2);
out:
	profile__free(p);
	profile__free(q);
}

static int write_pprof(const struct profile *p, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int err;

	if (!f)
		return -errno;
	err = pprof__write(p, f);
	fclose(f);
	return err;
}

TEST(hostile_pprof_count_overflow_refused)
{
	struct profile *p = profile__new(), *q;
	struct profile_frame fr = { 0 };
	uint32_t a, b;
	char *buf = NULL;
	size_t len = 0;
	int err = 0;

	CHECK(p != NULL);
	if (!p)
		return;
	fr.name = profile__intern_str(p, "a");
	a = profile__add_frame(p, &fr);
	fr.name = profile__intern_str(p, "b");
	b = profile__add_frame(p, &fr);
	/* Two distinct stacks of INT64_MAX each: pprof holds them, their sum wraps a u64 later. */
	profile__add_sample(p, &a, 1, INT64_MAX, 0, 0, 0);
	profile__add_sample(p, &b, 1, INT64_MAX, 0, 0, 0);
	CHECK_EQ_INT(write_pprof(p, &buf, &len), 0);
	q = pprof__read(buf, len, &err);
	CHECK(q == NULL);
	CHECK_EQ_INT(err, -EOVERFLOW);
	profile__free(q);
	free(buf);
	profile__free(p);
}
