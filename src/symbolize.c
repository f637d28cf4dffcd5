// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <libiberty/demangle.h>

#include "elfsyms.h"
#include "ksyms.h"
#include "log.h"
#include "procs.h"
#include "profile.h"
#include "stacks.h"
#include "symbolize.h"
#include "util.h"

/* A file's symbols, cached by identity; syms == NULL records a file that could not be read. */
struct filesym {
	uint32_t maj, min;
	uint64_t ino;
	char *special;		/* "[vdso]" for mappings without an inode */
	struct elfsyms *syms;
	struct filesym *next;
};

/* Name cache: raw symbol name (pointer into an elfsyms pool) -> profile string id. */
struct namecache {
	const char **keys;
	uint32_t *vals;
	size_t cap, used;
};

struct symbolizer {
	struct procs *procs;
	struct symbolizer_opts opts;
	struct ksyms *ksyms;
	bool ksyms_failed;
	struct filesym *files[1024];
	struct namecache names;
	struct symbolizer_stats st;
};

struct symbolizer *symbolizer__new(struct procs *procs, const struct symbolizer_opts *o)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->procs = procs;
	if (o)
		s->opts = *o;
	return s;
}

void symbolizer__free(struct symbolizer *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < ARRAY_SIZE(s->files); i++) {
		struct filesym *f, *next;

		for (f = s->files[i]; f; f = next) {
			next = f->next;
			elfsyms__free(f->syms);
			free(f->special);
			free(f);
		}
	}
	ksyms__free(s->ksyms);
	free(s->names.keys);
	free(s->names.vals);
	free(s);
}

char *symbolize__demangle(const char *name)
{
	/* Itanium C++ (_Z...) and Rust v0 (_R...); legacy Rust is Itanium-shaped. */
	if (name[0] != '_' || (name[1] != 'Z' && name[1] != 'R'))
		return NULL;
	return cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
}

/* Every process maps the same vDSO image as ours: read our own, sized by our [vdso] mapping. */
static struct elfsyms *vdso_syms(int *err)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	struct elfsyms *e = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	*err = -ENOENT;
	f = fopen("/proc/self/maps", "re");
	if (!base || !f)
		goto cleanup;
	while ((n = getline(&line, &cap, f)) > 0) {
		struct map_entry m;
		size_t plen;

		if (maps__parse_line(line, n, &m, &plen) < 0 || m.start != base)
			continue;
		e = elfsyms__from_mem((const void *)base, m.end - m.start, err);
		break;
	}
cleanup:
	free(line);
	if (f)
		fclose(f);
	return e;
}

static struct filesym *file_lookup(struct symbolizer *s, uint32_t pid, const struct map_entry *m)
{
	bool special = !m->ino && m->path[0] == '[';
	size_t b = special ? 0 : hash_mix(m->ino ^ ((uint64_t)m->maj << 40 | m->min)) %
					 ARRAY_SIZE(s->files);
	struct filesym *f;
	int err = 0, fd;

	for (f = s->files[b]; f; f = f->next) {
		if (special ? (f->special && !strcmp(f->special, m->path))
			    : (!f->special && f->ino == m->ino && f->maj == m->maj &&
			       f->min == m->min)) {
			s->st.cache_hits++;
			return f;
		}
	}
	s->st.cache_misses++;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->maj = m->maj;
	f->min = m->min;
	f->ino = m->ino;
	if (special) {
		f->special = strdup(m->path);
		if (!strcmp(m->path, "[vdso]"))
			f->syms = vdso_syms(&err);
	} else {
		fd = procs__open_mapping(pid, procs__alive(s->procs, pid), m);
		if (fd >= 0) {
			f->syms = elfsyms__from_fd(fd, &err);
			close(fd);
		} else {
			err = fd;
		}
		if (!f->syms)
			pr_debug("no symbols for %s (pid %u): %s", m->path, pid, strerror(-err));
	}
	s->st.files++;
	if (!f->syms)
		s->st.files_failed++;
	f->next = s->files[b];
	s->files[b] = f;
	return f;
}

static uint32_t name_id(struct symbolizer *s, struct profile *p, const char *raw)
{
	struct namecache *nc = &s->names;
	uint64_t h = hash_mix((uintptr_t)raw);
	uint32_t id;
	size_t j;
	char *dm;

	if ((nc->used + 1) * 4 >= nc->cap * 3) {
		size_t cap = nc->cap ? nc->cap * 2 : 4096, i;
		const char **nk = calloc(cap, sizeof(*nk));
		uint32_t *nv = calloc(cap, sizeof(*nv));

		if (!nk || !nv) {
			free(nk);
			free(nv);
			return 0;
		}
		for (i = 0; i < nc->cap; i++) {
			if (!nc->keys[i])
				continue;
			j = hash_mix((uintptr_t)nc->keys[i]) & (cap - 1);
			while (nk[j])
				j = (j + 1) & (cap - 1);
			nk[j] = nc->keys[i];
			nv[j] = nc->vals[i];
		}
		free(nc->keys);
		free(nc->vals);
		nc->keys = nk;
		nc->vals = nv;
		nc->cap = cap;
	}
	j = h & (nc->cap - 1);
	while (nc->keys[j]) {
		if (nc->keys[j] == raw)
			return nc->vals[j];
		j = (j + 1) & (nc->cap - 1);
	}
	dm = s->opts.no_demangle ? NULL : symbolize__demangle(raw);
	id = profile__intern_str(p, dm ? dm : raw);
	free(dm);
	nc->keys[j] = raw;
	nc->vals[j] = id;
	nc->used++;
	return id;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static uint32_t user_frame(struct symbolizer *s, struct profile *p, uint32_t pid, uint64_t addr,
			   bool leaf)
{
	/* Return addresses point after the call; look up the call itself. */
	uint64_t look = leaf ? addr : addr - 1, vaddr, off;
	const struct map_entry *m = procs__find(s->procs, pid, look);
	struct profile_frame fr = { .kind = FRAME_USER, .addr = addr };
	struct profile_mapping pm = { 0 };
	const struct filesym *f;
	const char *name = NULL;
	char buf[PATH_MAX + 32];

	s->st.frames++;
	if (!m || (!m->ino && m->path[0] != '[')) {
		s->st.frames_unknown++;
		fr.name = profile__intern_str(p, "[unknown]");
		return profile__add_frame(p, &fr);
	}
	f = file_lookup(s, pid, m);
	pm.file = profile__intern_str(p, m->path);
	pm.start = m->start;
	pm.limit = m->end;
	pm.offset = m->pgoff;
	if (f && f->syms) {
		const char *bid = elfsyms__build_id(f->syms);

		pm.build_id = *bid ? profile__intern_str(p, bid) : 0;
	}
	fr.mapping = profile__add_mapping(p, &pm);
	vaddr = look - m->start + m->pgoff;
	if (f && f->syms && !elfsyms__off_to_vaddr(f->syms, vaddr, &vaddr))
		name = elfsyms__find(f->syms, vaddr, &off);
	if (name) {
		fr.name = name_id(s, p, name);
	} else {
		s->st.frames_unnamed++;
		snprintf(buf, sizeof(buf), "[%s+0x%llx]", base_name(m->path),
			 (unsigned long long)vaddr);
		fr.name = profile__intern_str(p, buf);
	}
	return profile__add_frame(p, &fr);
}

static uint32_t kernel_frame(struct symbolizer *s, struct profile *p, uint64_t addr, bool leaf)
{
	struct profile_frame fr = { .kind = FRAME_KERNEL, .addr = addr };
	const char *name = NULL;
	uint64_t off;

	s->st.frames++;
	if (!s->ksyms && !s->ksyms_failed) {
		s->ksyms = ksyms__load();
		if (!s->ksyms) {
			s->ksyms_failed = true;
			pr_warn("cannot read /proc/kallsyms (%s): kernel frames stay unnamed",
				strerror(errno));
		}
	}
	if (s->ksyms)
		name = ksyms__find(s->ksyms, leaf ? addr : addr - 1, &off);
	if (!name)
		s->st.frames_unknown++;
	fr.name = profile__intern_str(p, name ? name : "[unknown]");
	return profile__add_frame(p, &fr);
}

int symbolizer__build_profile(struct symbolizer *s, const struct stacks *st, struct profile *p)
{
	uint32_t frames[2 * 128 + 2];
	size_t i;

	/* Cached string ids belong to one profile. */
	if (s->names.cap) {
		memset(s->names.keys, 0, s->names.cap * sizeof(*s->names.keys));
		s->names.used = 0;
	}

	for (i = 0; i < stacks__nr_samples(st); i++) {
		const struct stacks_sample *ss = stacks__sample(st, i);
		const uint64_t *u, *k;
		uint32_t nu, nk, j, n = 0;
		int err;

		u = stacks__raw(st, ss->ustack, &nu);
		k = stacks__raw(st, ss->kstack, &nk);
		nu = MIN(nu, 128);
		nk = MIN(nk, 128);
		/* BPF gives leaf first; profiles are root first, user frames above kernel ones. */
		for (j = nu; j-- > 0;)
			frames[n++] = user_frame(s, p, ss->tgid, u[j], j == 0 && !nk);
		for (j = nk; j-- > 0;)
			frames[n++] = kernel_frame(s, p, k[j], j == 0);
		err = profile__add_sample(p, frames, n, ss->count, ss->tgid,
					  profile__intern(p, ss->pcomm, strnlen(ss->pcomm, 16)),
					  profile__intern(p, ss->comm, strnlen(ss->comm, 16)));
		if (err)
			return err;
	}
	return 0;
}

void symbolizer__stats(const struct symbolizer *s, struct symbolizer_stats *st)
{
	*st = s->st;
}
