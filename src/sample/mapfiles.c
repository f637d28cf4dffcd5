// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "sample/mapfiles.h"
#include "sample/procs.h"
#include "base/rootfs.h"
#include "base/util.h"

struct kept {
	uint32_t maj, min;
	uint64_t ino;
	uint64_t used;		/* LRU clock; 0 = free slot */
	int fd;
};

struct mapfiles {
	struct kept *slots;	/* open addressing by identity; a few hundred at most */
	size_t cap, nr, max;
	uint64_t clock;
	struct mapfiles_stats st;
};

struct mapfiles *mapfiles__new(size_t max_files)
{
	struct mapfiles *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->max = max_files ? max_files : 1;
	k->cap = 4;
	while (k->cap < 2 * k->max)
		k->cap *= 2;
	k->slots = calloc(k->cap, sizeof(*k->slots));
	if (!k->slots) {
		free(k);
		return NULL;
	}
	return k;
}

void mapfiles__free(struct mapfiles *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->cap; i++)
		if (k->slots[i].used)
			close(k->slots[i].fd);
	free(k->slots);
	free(k);
}

static size_t home(const struct mapfiles *k, uint32_t maj, uint32_t min, uint64_t ino)
{
	return hash_mix(ino ^ ((uint64_t)maj << 40 | min)) & (k->cap - 1);
}

static struct kept *find(struct mapfiles *k, const struct map_entry *m)
{
	size_t j = home(k, m->maj, m->min, m->ino);

	while (k->slots[j].used) {
		struct kept *s = &k->slots[j];

		if (s->ino == m->ino && s->maj == m->maj && s->min == m->min)
			return s;
		j = (j + 1) & (k->cap - 1);
	}
	return NULL;
}

/* Removes slot i, re-placing the run after it so lookups still find every entry. */
static void remove_slot(struct mapfiles *k, size_t i)
{
	size_t j = i;

	close(k->slots[i].fd);
	k->slots[i].used = 0;
	k->nr--;
	for (;;) {
		struct kept s;
		size_t h;

		j = (j + 1) & (k->cap - 1);
		if (!k->slots[j].used)
			return;
		s = k->slots[j];
		k->slots[j].used = 0;
		h = home(k, s.maj, s.min, s.ino);
		while (k->slots[h].used)
			h = (h + 1) & (k->cap - 1);
		k->slots[h] = s;
	}
}

static void evict_oldest(struct mapfiles *k)
{
	size_t i, old = SIZE_MAX;

	for (i = 0; i < k->cap; i++)
		if (k->slots[i].used && (old == SIZE_MAX || k->slots[i].used < k->slots[old].used))
			old = i;
	if (old != SIZE_MAX) {
		remove_slot(k, old);
		k->st.evicted++;
	}
}

static bool same_file(int fd, const struct map_entry *m)
{
	struct stat sb;

	return !fstat(fd, &sb) && S_ISREG(sb.st_mode) && sb.st_ino == m->ino &&
	       major(sb.st_dev) == m->maj && minor(sb.st_dev) == m->min;
}

void mapfiles__note(struct mapfiles *k, uint32_t pid, const struct map_entry *m, const char *path,
		    size_t path_len)
{
	char buf[PATH_MAX + 64];
	struct kept *s;
	size_t j;
	int fd;

	if (!k || !m->ino)
		return;
	s = find(k, m);
	if (s) {
		s->used = ++k->clock;
		k->st.hits++;
		return;
	}
	/* map_files names the mapped file itself: deleted, overlaid or in another namespace. */
	snprintf(buf, sizeof(buf), "/proc/%u/map_files/%llx-%llx", pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(buf, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd >= 0 && !same_file(fd, m)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0 && path_len && path_len < PATH_MAX && path[0] == '/') {
		memcpy(buf, path, path_len);
		buf[path_len] = '\0';
		fd = rootfs__open(pid, buf);
		if (fd >= 0 && !same_file(fd, m)) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		k->st.failed++;
		return;
	}
	if (k->nr >= k->max)
		evict_oldest(k);
	j = home(k, m->maj, m->min, m->ino);
	while (k->slots[j].used)
		j = (j + 1) & (k->cap - 1);
	k->slots[j] = (struct kept){ m->maj, m->min, m->ino, ++k->clock, fd };
	k->nr++;
	k->st.opened++;
}

int mapfiles__open(struct mapfiles *k, const struct map_entry *m)
{
	struct kept *s;
	char buf[64];
	int fd;

	if (!k || !m->ino)
		return -ENOENT;
	s = find(k, m);
	if (!s)
		return -ENOENT;
	s->used = ++k->clock;
	/* A new open file description: its users must not share a file offset. */
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", s->fd);
	fd = open(buf, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 3);
	return fd < 0 ? -errno : fd;
}

void mapfiles__stats(const struct mapfiles *k, struct mapfiles_stats *st)
{
	*st = k->st;
	st->kept = k->nr;
}
