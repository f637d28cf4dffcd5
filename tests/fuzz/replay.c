// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replays saved fuzz inputs through a target without libFuzzer, so the corpus runs as an
 * ordinary test (under ASan/UBSan with SANITIZE=1). Arguments are files or directories; each
 * input is copied into a buffer of exactly its size, as libFuzzer does, so an over-read shows.
 * A crash ends the process; with -v each input is named before it runs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int verbose;

static int replay_file(const char *path)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		err = -errno;
		goto cleanup;
	}
	buf = malloc(sb.st_size ? sb.st_size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, sb.st_size - got);

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			goto cleanup;
		}
		got += n;
	}
	if (verbose)
		fprintf(stderr, "replay %s (%zu bytes)\n", path, got);
	LLVMFuzzerTestOneInput(buf, got);
cleanup:
	if (err)
		fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(-err));
	free(buf);
	if (fd >= 0)
		close(fd);
	return err;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a directory in name order (a stable replay order), hidden ones left out. */
static int replay_dir(const char *dir, unsigned int *count)
{
	char **names = NULL, path[4096];
	struct dirent *de;
	size_t n = 0, i;
	int err = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char **nn;

		if (de->d_name[0] == '.')
			continue;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			err = -ENOMEM;
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		err = replay_file(path);
		(*count)++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	unsigned int count = 0;
	struct stat sb;
	int i, err = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	i = 1;
	if (argc > 1 && !strcmp(argv[1], "-v")) {
		verbose = 1;
		i++;
	}
	for (; i < argc && !err; i++) {
		if (stat(argv[i], &sb)) {
			err = -errno;
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
		} else if (S_ISDIR(sb.st_mode)) {
			err = replay_dir(argv[i], &count);
		} else {
			err = replay_file(argv[i]);
			count++;
		}
	}
	printf("replayed %u inputs%s\n", count, err ? ", with errors" : "");
	return err ? 1 : 0;
}
