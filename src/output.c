// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

struct output {
	char *path;
	char *tmp;
	FILE *f;
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

struct output *output__open(const char *path, unsigned int mode)
{
	struct output *o = calloc(1, sizeof(*o));
	const char *slash, *base;
	int fd = -1, err = 0;
	size_t dirlen;

	if (!o)
		return NULL;
	o->path = strdup(path);
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	dirlen = slash ? (size_t)(slash - path + 1) : 0;
	if (!*base) {
		err = EISDIR;
		goto cleanup;
	}
	/* Hidden name in the same directory so rename() is atomic and never crosses filesystems. */
	if (!o->path || asprintf(&o->tmp, "%.*s.%s.XXXXXX", (int)dirlen, path, base) < 0) {
		o->tmp = NULL;
		err = ENOMEM;
		goto cleanup;
	}
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		free(o->tmp);
		o->tmp = NULL;
		goto cleanup;
	}
	if (fchmod(fd, mode) < 0) {
		err = errno;
		goto cleanup;
	}
	o->f = fdopen(fd, "w");
	if (!o->f) {
		err = errno;
		goto cleanup;
	}
	return o;
cleanup:
	if (fd >= 0)
		close(fd);
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	free(o);
	errno = err;
	return NULL;
}

FILE *output__file(struct output *o)
{
	return o->f;
}

int output__commit(struct output *o)
{
	int err = 0;

	if (fflush(o->f) || ferror(o->f) || fsync(fileno(o->f)))
		err = errno ? -errno : -EIO;
	if (fclose(o->f) && !err)
		err = -errno;
	o->f = NULL;
	if (!err && rename(o->tmp, o->path))
		err = -errno;
	if (err)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	free(o);
	return err;
}

void output__abort(struct output *o)
{
	if (!o)
		return;
	if (o->f)
		fclose(o->f);
	unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	free(o);
}
