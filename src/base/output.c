// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/output.h"
#include "base/util.h"

struct output {
	int dirfd;		/* the target's directory */
	char *base;		/* the target's name in it */
	char tmp[NAME_MAX + 1];	/* hidden temp name; "" while the file is unnamed (O_TMPFILE) */
	FILE *f;
	bool direct;		/* a device or FIFO at the target, written to as it is */
};

enum output_format output__format_from_name(const char *name)
{
	if (!strcasecmp(name, "svg"))
		return FMT_SVG;
	if (!strcasecmp(name, "folded") || !strcasecmp(name, "txt"))
		return FMT_FOLDED;
	if (!strcasecmp(name, "pprof"))
		return FMT_PPROF;
	return FMT_NONE;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcasecmp(s + a - b, suffix);
}

enum output_format output__format_from_path(const char *path)
{
	if (ends_with(path, ".svg"))
		return FMT_SVG;
	if (ends_with(path, ".folded") || ends_with(path, ".txt"))
		return FMT_FOLDED;
	if (ends_with(path, ".pb.gz") || ends_with(path, ".pprof") || ends_with(path, ".pb"))
		return FMT_PPROF;
	return FMT_NONE;
}

const char *output__format_name(enum output_format f)
{
	switch (f) {
	case FMT_SVG:
		return "svg";
	case FMT_FOLDED:
		return "folded";
	case FMT_PPROF:
		return "pprof";
	default:
		return "none";
	}
}

#define TEMP_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define TEMP_SUFFIX_LEN 6

bool output__temp_target(const char *name, char *target, size_t size)
{
	size_t n = strlen(name);

	/* ".TARGET.XXXXXX": the suffix of temp_name() below, and a target of one byte at least. */
	if (n < 1 + 1 + 1 + TEMP_SUFFIX_LEN || name[0] != '.' ||
	    name[n - TEMP_SUFFIX_LEN - 1] != '.' ||
	    strspn(name + n - TEMP_SUFFIX_LEN, TEMP_CHARS) != TEMP_SUFFIX_LEN)
		return false;
	n -= 1 + 1 + TEMP_SUFFIX_LEN;
	if (n >= size)
		return false;
	memcpy(target, name + 1, n);
	target[n] = '\0';
	return true;
}

/* A name for the file in its directory until the rename: ".TARGET.XXXXXX", random. */
static int temp_name(char *buf, size_t size, const char *base)
{
	static const char chars[] = TEMP_CHARS;
	unsigned char rnd[TEMP_SUFFIX_LEN];
	size_t i;
	int n;

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd)) {
		uint64_t t = now_mono_ns() ^ (uint64_t)getpid() << 32;

		memcpy(rnd, &t, sizeof(rnd));
	}
	n = snprintf(buf, size, ".%s.XXXXXX", base);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	for (i = 0; i < TEMP_SUFFIX_LEN; i++)
		buf[n - TEMP_SUFFIX_LEN + i] = chars[rnd[i] % (sizeof(chars) - 1)];
	return 0;
}

struct output *output__open(const char *path, unsigned int mode)
{
	struct output *o = calloc(1, sizeof(*o));
	const char *slash, *base;
	char dir[PATH_MAX];
	int fd = -1, err = 0, tries;
	struct stat st;

	if (!o)
		return NULL;
	o->dirfd = -1;
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!*base) {
		err = EISDIR;
		goto cleanup;
	}
	if (snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path + (slash == path)) : 1,
		     slash ? path : ".") >= (int)sizeof(dir)) {
		err = ENAMETOOLONG;
		goto cleanup;
	}
	o->base = strdup(base);
	if (!o->base) {
		err = ENOMEM;
		goto cleanup;
	}
	/*
	 * The directory is opened once: the temp file, the link and the rename all happen in
	 * this one directory, even if its path is renamed or replaced by a symlink meanwhile.
	 */
	o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dirfd < 0) {
		err = errno;
		goto cleanup;
	}
	/*
	 * A character device or a FIFO at the target (-o /dev/null, a pipe): written to as it is,
	 * as any tool would; the rename would replace it with a regular file. Only one of root's
	 * or of this process's user: a FIFO another user planted at a predictable name (a shared
	 * directory) could stall its writer, so it is replaced like any planted file. Not through
	 * a symlink: one planted at the target is replaced by the rename, never followed. A FIFO
	 * nobody reads is an error at once (ENXIO), not a wait.
	 */
	if (!fstatat(o->dirfd, base, &st, AT_SYMLINK_NOFOLLOW) &&
	    (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) &&
	    (st.st_uid == 0 || st.st_uid == geteuid())) {
		fd = openat(o->dirfd, base, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
		if (fd < 0 || fcntl(fd, F_SETFL, 0) < 0) {
			err = errno;
			goto cleanup;
		}
		o->direct = true;
		goto opened;
	}
	/*
	 * An unnamed file (O_TMPFILE): nothing appears in the directory until the commit, so a
	 * run killed at any moment leaves nothing behind. Filesystems without O_TMPFILE get a
	 * hidden temp file created exclusively (never through a planted symlink).
	 */
	fd = openat(o->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
		err = errno;
		goto cleanup;
	}
	for (tries = 0; fd < 0 && tries < 100; tries++) {
		err = -temp_name(o->tmp, sizeof(o->tmp), base);
		if (err)
			goto cleanup;
		fd = openat(o->dirfd, o->tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
			    0600);
		if (fd < 0 && errno != EEXIST) {
			err = errno;
			o->tmp[0] = '\0';
			goto cleanup;
		}
	}
	if (fd < 0) {
		err = EEXIST;
		o->tmp[0] = '\0';
		goto cleanup;
	}
	/* Exactly the mode asked for, whatever the umask. */
	if (fchmod(fd, mode) < 0) {
		err = errno;
		goto cleanup;
	}
opened:
	o->f = fdopen(fd, "w");
	if (!o->f) {
		err = errno;
		goto cleanup;
	}
	return o;
cleanup:
	if (fd >= 0)
		close(fd);
	if (o->tmp[0])
		unlinkat(o->dirfd, o->tmp, 0);
	if (o->dirfd >= 0)
		close(o->dirfd);
	free(o->base);
	free(o);
	errno = err;
	return NULL;
}

FILE *output__file(struct output *o)
{
	return o->f;
}

/* Gives the unnamed file a hidden name (o->tmp) in its directory, for the rename. */
static int link_tmpfile(struct output *o)
{
	char proc[64];
	int fd = fileno(o->f), tries, err;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (tries = 0; tries < 100; tries++) {
		err = temp_name(o->tmp, sizeof(o->tmp), o->base);
		if (err)
			break;
		/* Through /proc: AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH. */
		if (!linkat(AT_FDCWD, proc, o->dirfd, o->tmp, AT_SYMLINK_FOLLOW))
			return 0;
		err = -errno;
		if (err == -ENOENT &&
		    !linkat(fd, "", o->dirfd, o->tmp, AT_EMPTY_PATH))
			return 0;
		if (errno != EEXIST)
			break;
	}
	o->tmp[0] = '\0';
	return err ? err : -EEXIST;
}

int output__commit(struct output *o)
{
	bool named = o->tmp[0];
	int err = 0;

	errno = 0;
	if (o->direct) {
		if (fflush(o->f) || ferror(o->f))
			err = errno ? -errno : -EIO;
		if (fclose(o->f) && !err)
			err = -errno;
		close(o->dirfd);
		free(o->base);
		free(o);
		return err;
	}
	if (fflush(o->f) || ferror(o->f) || fsync(fileno(o->f)))
		err = errno ? -errno : -EIO;
	/*
	 * Linked while still open: from here to the rename, the only name is a hidden temp
	 * name holding the complete file.
	 */
	if (!err && !named) {
		err = link_tmpfile(o);
		named = !err;
	}
	if (fclose(o->f) && !err)
		err = -errno;
	o->f = NULL;
	if (!err && renameat(o->dirfd, o->tmp, o->dirfd, o->base))
		err = -errno;
	if (err && named)
		unlinkat(o->dirfd, o->tmp, 0);
	/* The rename itself made durable; a failure here loses nothing already written. */
	if (!err)
		fsync(o->dirfd);
	close(o->dirfd);
	free(o->base);
	free(o);
	return err;
}

void output__abort(struct output *o)
{
	if (!o)
		return;
	if (o->f)
		fclose(o->f);
	if (o->tmp[0])
		unlinkat(o->dirfd, o->tmp, 0);
	close(o->dirfd);
	free(o->base);
	free(o);
}
