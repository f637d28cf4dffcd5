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

#include "config.h"
#include "harness.h"
#include "util.h"

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
