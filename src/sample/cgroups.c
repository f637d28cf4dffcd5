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
#include "base/util.h"
#include "sample/cgroups.h"

#define RESCAN_INTERVAL_NS 1000000000ULL

struct cgnode {
	uint64_t id;		/* 0 = empty slot */
	char *path;
};

struct cgroups {
	char mount[PATH_MAX];
	struct cgnode *slots;
	size_t nslots, used;	/* nslots: a power of two */
	uint64_t last_scan_ns;	/* CLOCK_MONOTONIC of the last walk, 0 = never */
};

/* Callback of a walk: a cgroup, its id, its path relative to the mount, its level. */
typedef int (*visit_fn)(void *ctx, uint64_t id, const char *rel, uint32_t level);

/* mountinfo escapes spaces and such as \040. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/* The first cgroup2 mount of the whole hierarchy (root "/") in /proc/self/mountinfo. */
static int find_mount(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char root[PATH_MAX], point[PATH_MAX], fstype[64];
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(dash, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2)
			continue;
		unescape(root);
		unescape(point);
		if (strcmp(root, "/") || strlen(point) >= size)
			continue;
		snprintf(buf, size, "%s", point);
		err = 0;
		break;
	}
	free(line);
	fclose(f);
	return err;
}

struct cgroups *cgroups__new(int *err)
{
	struct cgroups *cg = calloc(1, sizeof(*cg));

	*err = 0;
	if (!cg) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = find_mount(cg->mount, sizeof(cg->mount));
	if (*err) {
		if (*err == -ENOENT)
			pr_err("this host has no cgroup v2 hierarchy mounted (cgroup v1 only): "
			       "--cgroup and --group-by need it (systemd mounts it at /sys/fs/cgroup, "
			       "or /sys/fs/cgroup/unified in hybrid mode)");
		else
			pr_err("cannot read /proc/self/mountinfo: %s", strerror(-*err));
		free(cg);
		return NULL;
	}
	return cg;
}

static void clear(struct cgroups *cg)
{
	size_t i;

	for (i = 0; i < cg->nslots; i++)
		free(cg->slots[i].path);
	if (cg->slots)
		memset(cg->slots, 0, cg->nslots * sizeof(*cg->slots));
	cg->used = 0;
}

void cgroups__free(struct cgroups *cg)
{
	if (!cg)
		return;
	clear(cg);
	free(cg->slots);
	free(cg);
}

const char *cgroups__mount(const struct cgroups *cg)
{
	return cg->mount;
}

/* The kernfs id of a cgroup directory: what bpf_get_current_cgroup_id() returns for it. */
static int cgroup_id(int dirfd, const char *name, uint64_t *id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + 16];
	} h;
	struct stat st;
	int mnt;

	h.fh.handle_bytes = 16;
	if (!name_to_handle_at(dirfd, name, &h.fh, &mnt, *name ? 0 : AT_EMPTY_PATH) &&
	    h.fh.handle_bytes >= sizeof(*id)) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		return 0;
	}
	/* Without handles (old kernels), the inode number is the id on 64-bit hosts. */
	if (fstatat(dirfd, name, &st, *name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH))
		return -errno;
	*id = st.st_ino;
	return 0;
}

struct walk {
	visit_fn fn;
	void *ctx;
	size_t nodes;
	char rel[4096];
};

static int walk_dir(struct walk *w, int fd, size_t rel_len, uint32_t level)
{
	DIR *d;
	struct dirent *de;
	int err = 0;

	if (level >= CGROUPS_MAX_DEPTH)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while (!err && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		uint64_t id;
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (++w->nodes > CGROUPS_MAX_NODES)
			break;
		if (rel_len + 1 + n >= sizeof(w->rel))
			continue;
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;	/* removed meanwhile */
		if (cgroup_id(sub, "", &id)) {
			close(sub);
			continue;
		}
		w->rel[rel_len] = '/';
		memcpy(w->rel + rel_len + 1, de->d_name, n + 1);
		err = w->fn(w->ctx, id, w->rel, level + 1);
		if (!err)
			err = walk_dir(w, sub, rel_len + 1 + n, level + 1);
		else
			close(sub);
		w->rel[rel_len] = '\0';
	}
	closedir(d);
	return err;
}

/* Visits the root ("/", level 0), then every cgroup below it, depth first. */
static int walk(struct cgroups *cg, visit_fn fn, void *ctx)
{
	struct walk w = { .fn = fn, .ctx = ctx };
	uint64_t id;
	int fd = open(cg->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
	err = cgroup_id(fd, "", &id);
	if (!err)
		err = fn(ctx, id, "/", 0);
	if (err) {
		close(fd);
		return err;
	}
	return walk_dir(&w, fd, 0, 0);
}

static int insert(struct cgroups *cg, uint64_t id, const char *rel)
{
	size_t j;

	if ((cg->used + 1) * 4 > cg->nslots * 3) {
		size_t n = cg->nslots ? cg->nslots * 2 : 256, i;
		struct cgnode *s = calloc(n, sizeof(*s));

		if (!s)
			return -ENOMEM;
		for (i = 0; i < cg->nslots; i++) {
			if (!cg->slots[i].id)
				continue;
			j = hash_mix(cg->slots[i].id) & (n - 1);
			while (s[j].id)
				j = (j + 1) & (n - 1);
			s[j] = cg->slots[i];
		}
		free(cg->slots);
		cg->slots = s;
		cg->nslots = n;
	}
	j = hash_mix(id) & (cg->nslots - 1);
	while (cg->slots[j].id && cg->slots[j].id != id)
		j = (j + 1) & (cg->nslots - 1);
	if (cg->slots[j].id)
		return 0;
	cg->slots[j].path = strdup(rel);
	if (!cg->slots[j].path)
		return -ENOMEM;
	cg->slots[j].id = id;
	cg->used++;
	return 0;
}

static int visit_insert(void *ctx, uint64_t id, const char *rel, uint32_t level)
{
	return insert(ctx, id, rel);
}

static const char *lookup(const struct cgroups *cg, uint64_t id)
{
	size_t j;

	if (!cg->nslots || !id)
		return NULL;
	j = hash_mix(id) & (cg->nslots - 1);
	while (cg->slots[j].id) {
		if (cg->slots[j].id == id)
			return cg->slots[j].path;
		j = (j + 1) & (cg->nslots - 1);
	}
	return NULL;
}

const char *cgroups__path(struct cgroups *cg, uint64_t id)
{
	const char *p = lookup(cg, id);
	uint64_t now;

	if (p || !id)
		return p;
	now = now_mono_ns();
	if (cg->last_scan_ns && now - cg->last_scan_ns < RESCAN_INTERVAL_NS)
		return NULL;
	cg->last_scan_ns = now;
	/* Removed cgroups' ids are never reused: drop them with the rest, then refill. */
	clear(cg);
	if (walk(cg, visit_insert, cg))
		pr_debug("cgroups: walking %s failed part way", cg->mount);
	return lookup(cg, id);
}

struct by_name {
	const char *name;
	struct cgroups_target *t;
	int max, n;
};

static int visit_name(void *ctx, uint64_t id, const char *rel, uint32_t level)
{
	struct by_name *b = ctx;
	const char *base = strrchr(rel, '/');

	if (!base || strcmp(base + 1, b->name))
		return 0;
	if (b->n >= b->max)
		return -E2BIG;
	b->t[b->n].id = id;
	b->t[b->n].level = level;
	snprintf(b->t[b->n].path, sizeof(b->t[b->n].path), "%s", rel);
	b->n++;
	return 0;
}

static bool is_unit_name(const char *s)
{
	size_t n = strlen(s);
	static const char *const sfx[] = { ".service", ".scope", ".slice" };
	size_t i;

	if (strchr(s, '/'))
		return false;
	for (i = 0; i < ARRAY_SIZE(sfx); i++)
		if (n > strlen(sfx[i]) && !strcmp(s + n - strlen(sfx[i]), sfx[i]))
			return true;
	return false;
}

static uint32_t level_of(const char *rel)
{
	uint32_t level = 0;
	const char *p;

	for (p = rel; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			level++;
	return level;
}

int cgroups__resolve(struct cgroups *cg, const char *arg, struct cgroups_target *t, int max)
{
	size_t ml = strlen(cg->mount);
	const char *rel;
	char full[PATH_MAX + 4096];
	struct stat st;
	int fd, err;

	if (max < 1)
		return -E2BIG;
	if (!*arg) {
		pr_err("invalid --cgroup '': expected a cgroup path or a unit name "
		       "(NAME.service, .scope or .slice)");
		return -EINVAL;
	}
	if (is_unit_name(arg)) {
		struct by_name b = { .name = arg, .t = t, .max = max };

		err = walk(cg, visit_name, &b);
		if (err == -E2BIG) {
			pr_err("--cgroup %s: more than %d cgroups have that name", arg, max);
			return err;
		}
		if (!b.n) {
			pr_err("--cgroup %s: no cgroup of that name in the cgroup v2 hierarchy at %s "
			       "(is the unit running?)", arg, cg->mount);
			return -ENOENT;
		}
		return b.n;
	}
	/* An absolute path under the mount, else a path relative to it. */
	if (!strncmp(arg, cg->mount, ml) && (arg[ml] == '/' || !arg[ml]))
		rel = arg + ml;
	else
		rel = arg;
	while (*rel == '/')
		rel++;
	if (strstr(rel, "..")) {
		pr_err("invalid --cgroup '%s': '..' is not allowed", arg);
		return -EINVAL;
	}
	snprintf(full, sizeof(full), "%s/%s", cg->mount, rel);
	fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || access(strcat(full, "/cgroup.procs"), F_OK)) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		pr_err("--cgroup %s: not a cgroup of the cgroup v2 hierarchy at %s (%s); expected "
		       "a path such as /system.slice/cron.service or a unit name such as "
		       "cron.service", arg, cg->mount, strerror(-err));
		return err ? err : -ENOENT;
	}
	err = cgroup_id(fd, "", &t[0].id);
	close(fd);
	if (err) {
		pr_err("--cgroup %s: cannot read its id: %s", arg, strerror(-err));
		return err;
	}
	snprintf(t[0].path, sizeof(t[0].path), "/%s", rel);
	t[0].level = level_of(t[0].path);
	return 1;
}
