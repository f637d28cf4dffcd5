// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/output.h"
#include "export/spool.h"
#include "base/util.h"

struct item {
	uint64_t start_ns, end_ns;
	enum profile_mode mode;
	uint64_t len;
	uint8_t *data;		/* memory copy; NULL when the bytes are only in the file */
	bool on_disk;
};

struct spool {
	char *dir;		/* NULL: memory only */
	uint64_t max_bytes;
	struct item *items;	/* oldest first */
	size_t n, cap;
	bool pinned;		/* items[0] is being sent */
	uint8_t *loaded;	/* bytes of a pinned on-disk item */
	struct spool_stats st;
	bool warned_write;
};

void spool__name(uint64_t start_ns, uint64_t end_ns, enum profile_mode mode,
		 char name[SPOOL_NAME_LEN])
{
	snprintf(name, SPOOL_NAME_LEN, "%020llu-%020llu.%s%spb.gz", (unsigned long long)start_ns,
		 (unsigned long long)end_ns, mode == PROFILE_CPU ? "" : profile_mode__name(mode),
		 mode == PROFILE_CPU ? "" : ".");
}

bool spool__parse_name(const char *name, uint64_t *start_ns, uint64_t *end_ns,
		       enum profile_mode *mode)
{
	uint64_t v[2] = { 0, 0 };
	enum profile_mode m = PROFILE_CPU;
	const char *ext;
	int i, j;

	for (i = 0; i < 2; i++) {
		for (j = 0; j < 20; j++) {
			char c = name[i * 21 + j];

			if (c < '0' || c > '9' || v[i] > (UINT64_MAX - 9) / 10)
				return false;
			v[i] = v[i] * 10 + (c - '0');
		}
		if (name[i * 21 + 20] != (i ? '.' : '-'))
			return false;
	}
	ext = name + 42;
	if (strcmp(ext, "pb.gz")) {
		/* "<mode>.pb.gz": a mode other than cpu, by its --mode name. */
		const char *dot = strchr(ext, '.');
		char word[16];

		if (!dot || dot == ext || (size_t)(dot - ext) >= sizeof(word) ||
		    strcmp(dot + 1, "pb.gz"))
			return false;
		memcpy(word, ext, dot - ext);
		word[dot - ext] = '\0';
		if (profile_mode__parse(word, &m) || m == PROFILE_CPU)
			return false;
	}
	*start_ns = v[0];
	*end_ns = v[1];
	*mode = m;
	return true;
}

static void path_of(const struct spool *s, const struct item *it, char *path, size_t len)
{
	char name[SPOOL_NAME_LEN];

	spool__name(it->start_ns, it->end_ns, it->mode, name);
	snprintf(path, len, "%s/%s", s->dir, name);
}

static void forget(struct spool *s, size_t i)
{
	struct item *it = &s->items[i];

	if (it->on_disk) {
		char path[PATH_MAX];

		path_of(s, it, path, sizeof(path));
		if (unlink(path) && errno != ENOENT)
			pr_warn("cannot remove spooled window %s: %s", path, strerror(errno));
	}
	s->st.bytes -= it->len;
	s->st.windows--;
	free(it->data);
	memmove(&s->items[i], &s->items[i + 1], (s->n - i - 1) * sizeof(*it));
	s->n--;
}

static void drop(struct spool *s, size_t i, const char *why)
{
	struct item *it = &s->items[i];

	s->st.dropped++;
	s->st.dropped_bytes += it->len;
	pr_warn("push spool: dropped the window of %.3f s starting at %llu.%03llu (%llu bytes): %s; "
		"%llu window%s dropped so far", (it->end_ns - it->start_ns) / 1e9,
		(unsigned long long)(it->start_ns / 1000000000ULL),
		(unsigned long long)(it->start_ns / 1000000 % 1000), (unsigned long long)it->len, why,
		(unsigned long long)s->st.dropped, s->st.dropped == 1 ? "" : "s");
	forget(s, i);
}

/* Oldest first, never the pinned head nor the newest. */
static int enforce_bound(struct spool *s)
{
	int dropped = 0;
	char why[96];

	snprintf(why, sizeof(why), "the spool is over its bound of %llu bytes",
		 (unsigned long long)s->max_bytes);
	while (s->st.bytes > s->max_bytes) {
		size_t victim = s->pinned ? 1 : 0;

		if (victim + 1 >= s->n)
			break;
		drop(s, victim, why);
		dropped++;
	}
	return dropped;
}

static int push_item(struct spool *s, const struct item *it)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct item *n = realloc(s->items, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->items = n;
		s->cap = cap;
	}
	s->items[s->n++] = *it;
	s->st.windows++;
	s->st.bytes += it->len;
	return 0;
}

static int write_file(const struct spool *s, const struct item *it, const void *data, size_t len)
{
	char path[PATH_MAX];
	struct output *out;

	path_of(s, it, path, sizeof(path));
	out = output__open(path, 0600);
	if (!out)
		return errno ? -errno : -EIO;
	if (fwrite(data, 1, len, output__file(out)) != len) {
		int err = errno ? -errno : -EIO;

		output__abort(out);
		return err;
	}
	return output__commit(out);
}

int spool__add(struct spool *s, const void *data, size_t len, uint64_t start_ns, uint64_t end_ns,
	       enum profile_mode mode)
{
	struct item it = { .start_ns = start_ns, .end_ns = end_ns, .mode = mode, .len = len };
	int err;

	if (s->dir) {
		err = write_file(s, &it, data, len);
		if (!err) {
			it.on_disk = true;
		} else {
			s->st.write_errors++;
			if (!s->warned_write)
				pr_warn("push spool: cannot write a window to %s: %s; keeping it in memory",
					s->dir, strerror(-err));
			s->warned_write = true;
		}
	}
	if (!it.on_disk) {
		it.data = malloc(len ? len : 1);
		if (!it.data)
			return -ENOMEM;
		memcpy(it.data, data, len);
	}
	err = push_item(s, &it);
	if (err) {
		if (it.on_disk) {
			char path[PATH_MAX];

			path_of(s, &it, path, sizeof(path));
			unlink(path);
		}
		free(it.data);
		return err;
	}
	s->st.added++;
	return enforce_bound(s);
}

static int read_file(const char *path, uint8_t **buf, uint64_t *len)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd, err = 0;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > SPOOL_MAX_FILE) {
		err = -EINVAL;
		goto cleanup;
	}
	*buf = malloc(st.st_size ? st.st_size : 1);
	if (!*buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (got < (size_t)st.st_size && (n = read(fd, *buf + got, st.st_size - got))) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		got += n;
	}
	*len = got;
cleanup:
	if (err) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return err;
}

int spool__peek(struct spool *s, struct spool_window *w)
{
	while (s->n) {
		struct item *it = &s->items[0];
		char path[PATH_MAX];
		uint64_t len = 0;
		int err;

		if (s->pinned)
			return -EBUSY;
		if (!it->on_disk || it->data) {
			w->data = it->data;
		} else {
			path_of(s, it, path, sizeof(path));
			err = read_file(path, &s->loaded, &len);
			if (err || len != it->len) {
				char why[PATH_MAX + 64];

				snprintf(why, sizeof(why), "cannot read %s: %s", path,
					 err ? strerror(-err) : "its size changed");
				drop(s, 0, why);
				free(s->loaded);
				s->loaded = NULL;
				continue;
			}
			w->data = s->loaded;
		}
		w->start_ns = it->start_ns;
		w->end_ns = it->end_ns;
		w->mode = it->mode;
		w->len = it->len;
		s->pinned = true;
		return 0;
	}
	return -ENOENT;
}

void spool__release(struct spool *s, bool done)
{
	if (!s->pinned)
		return;
	s->pinned = false;
	free(s->loaded);
	s->loaded = NULL;
	if (done && s->n)
		forget(s, 0);
	/* Windows added while this one was in flight may have waited over the bound. */
	enforce_bound(s);
}

size_t spool__count(const struct spool *s)
{
	return s->n;
}

void spool__stats(const struct spool *s, struct spool_stats *st)
{
	*st = s->st;
}

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	if (x->end_ns != y->end_ns)
		return x->end_ns < y->end_ns ? -1 : 1;
	return 0;
}

/* The windows a previous run left, oldest first; the temp files of its interrupted writes go. */
static int load_dir(struct spool *s)
{
	DIR *dp = opendir(s->dir);
	struct dirent *de;
	struct stat st;
	int err = 0;

	if (!dp)
		return -errno;
	while ((de = readdir(dp))) {
		struct item it = { 0 };
		const char *n = de->d_name;
		char target[SPOOL_NAME_LEN];

		if (output__temp_target(n, target, sizeof(target))) {
			if (spool__parse_name(target, &it.start_ns, &it.end_ns, &it.mode))
				unlinkat(dirfd(dp), n, 0);
			continue;
		}
		if (!spool__parse_name(n, &it.start_ns, &it.end_ns, &it.mode))
			continue;
		if (fstatat(dirfd(dp), n, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		it.len = st.st_size;
		it.on_disk = true;
		err = push_item(s, &it);
		if (err)
			break;
	}
	closedir(dp);
	if (err)
		return err;
	if (s->n)
		qsort(s->items, s->n, sizeof(*s->items), cmp_item);
	if (s->n)
		pr_notice("push spool: %zu window%s (%llu bytes) left in %s by a previous run will be "
			  "sent first", s->n, s->n == 1 ? "" : "s", (unsigned long long)s->st.bytes,
			  s->dir);
	enforce_bound(s);
	return 0;
}

struct spool *spool__new(const char *dir, uint64_t max_bytes, int *err)
{
	struct spool *s = calloc(1, sizeof(*s));
	struct stat st;

	*err = 0;
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	s->max_bytes = max_bytes;
	if (!dir || !*dir)
		return s;
	s->dir = strdup(dir);
	if (!s->dir) {
		*err = -ENOMEM;
		goto cleanup;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		*err = -errno;
		pr_err("cannot create the spool directory %s: %s", dir, strerror(errno));
		goto cleanup;
	}
	if (stat(dir, &st)) {
		*err = -errno;
		pr_err("cannot use the spool directory %s: %s", dir, strerror(errno));
		goto cleanup;
	}
	if (!S_ISDIR(st.st_mode)) {
		*err = -ENOTDIR;
		pr_err("spool-dir %s is not a directory", dir);
		goto cleanup;
	}
	if (faccessat(AT_FDCWD, dir, R_OK | W_OK | X_OK, AT_EACCESS)) {
		*err = -errno;
		pr_err("cannot use the spool directory %s: %s", dir, strerror(errno));
		goto cleanup;
	}
	*err = load_dir(s);
	if (*err) {
		pr_err("cannot read the spool directory %s: %s", dir, strerror(-*err));
		goto cleanup;
	}
	return s;
cleanup:
	spool__free(s);
	return NULL;
}

void spool__free(struct spool *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->items[i].data);
	free(s->items);
	free(s->loaded);
	free(s->dir);
	free(s);
}
