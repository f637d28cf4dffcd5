// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libiberty/demangle.h>
#include <linux/types.h>

#include "symbolize/debuginfo.h"
#include "symbolize/ksyms.h"
#include "base/log.h"
#include "symbolize/perfmap.h"
#include "sample/cgpath.h"
#include "sample/cgroups.h"
#include "sample/procs.h"
#include "aggregate/profile.h"
#include "aggregate/stacks.h"
#include "symbolize/symbolize.h"
#include "symbolize/symfile.h"
#include "base/util.h"
#include "../../bpf/profile.h"
#include "../../bpf/python.h"

#define DEFAULT_CACHE_MB 512
#define MAX_USER_FRAMES 128
#define MAX_KERNEL_FRAMES 128
/* Inline depth kept per address; deeper chains lose their outer inlined calls. */
#define MAX_INLINE 16
/* symbolizer__warm's memory of the addresses it looked up. */
#define WARM_SLOTS 4096
#define FILE_BUCKETS 1024
/* perf map defaults: a big node or JVM map is some 100,000 functions of 100 bytes. */
#define DEFAULT_PERFMAP_ENTRIES 1000000
#define DEFAULT_PERFMAP_MB 64
#define DEFAULT_PERFMAP_TOTAL_MB 256
#define DEFAULT_PERFMAP_READ_MS 200
/* A map not used for this many profiles (windows) is dropped, to be read again when needed. */
#define PERFMAP_IDLE_WINDOWS 10
/*
 * A symbol file no stack used for this many windows is dropped (the memory cap alone would keep
 * every one-off compiler and test binary of a busy host until the cap is reached).
 */
#define FILE_IDLE_WINDOWS 3

/* A file's symbols, cached by identity; sf == NULL records a file that could not be read. */
struct filesym {
	uint32_t maj, min;
	uint64_t ino;
	char *special;		/* "[vdso]" for mappings without an inode */
	struct symfile *sf;
	size_t mem;
	uint64_t window;	/* the last window whose stacks used it */
	struct filesym *next;	/* hash chain */
	struct filesym *newer, *older;	/* LRU list */
};

/* Raw symbol name (a pointer into a cached file) -> profile string id of its display form. */
struct namecache {
	const char **keys;
	uint32_t *vals;
	size_t cap, used;
};

/* (pid, name, address, leaf) -> the frame ids it expanded to, for one call of build_profile. */
struct addrslot {
	uint64_t key;		/* address | leaf << 63; 0 = empty */
	uint32_t pid;
	uint32_t comm;		/* hash of the process name: which image of pid */
	uint32_t first;		/* into addrcache.ids */
	uint32_t n;
};

struct addrcache {
	struct addrslot *slots;
	size_t cap, used;
	uint32_t *ids;
	size_t nr_ids, cap_ids;
};

/* A process's perf map, kept across windows and read incrementally. */
struct pmslot {
	uint32_t pid;
	bool ok;		/* the last update succeeded */
	uint64_t window;	/* the last profile that used it */
	struct perfmap *map;
	struct perfmap_stats st;	/* the map's counters as last added to the symbolizer's */
};

/* cgroup id -> what it became in the profile being built. */
struct cgslot {
	uint64_t id;		/* 0 = empty */
	uint32_t attrib;	/* its profile_attrib */
	uint32_t group;		/* the group frame, 0 without group-by */
};

struct symbolizer {
	struct procs *procs;
	struct {
		symbolize_runtime_fn fn;
		void *ctx;
	} runtimes[SYMBOLIZER_MAX_RUNTIMES];
	int nr_runtimes;
	struct {
		symbolize_jit_fn fn;
		void *ctx;
	} jits[SYMBOLIZER_MAX_RUNTIMES];
	int nr_jits;
	struct symbolizer_opts opts;
	struct debuginfo *di;
	struct ksyms *ksyms;
	bool ksyms_failed;
	struct filesym *files[FILE_BUCKETS];
	struct filesym *newest, *oldest;
	size_t cache_cap, cache_bytes;
	struct namecache names;
	struct addrcache addrs;
	struct pmslot *pms;
	size_t nr_pms, cap_pms;
	uint64_t window;	/* profiles built so far */
	struct perfmap_budget pm_budget;
	uint64_t pm_window_ns;		/* this window's time in perf maps */
	uint32_t *frames;	/* one stack being assembled */
	size_t cap_frames;
	struct symbolizer_stats st;
	/* Attribution by cgroup (symbolizer__set_cgroups), cached per profile built. */
	struct cgroups *cg;
	int group_by;		/* enum cgpath_group */
	struct cgslot *cgs;
	size_t cg_cap, cg_used;
	/* Addresses (^ pid) symbolizer__warm looked up lately: not again for each new stack. */
	uint64_t warmed[WARM_SLOTS];
};

static bool debuginfod_wanted(const struct symbolizer_opts *o)
{
	const char *env = getenv("DEBUGINFOD_URLS");

	switch (o->debuginfod) {
	case SYMBOLIZER_DEBUGINFOD_OFF:
		return false;
	case SYMBOLIZER_DEBUGINFOD_ON:
		return true;
	default:
		return (o->debuginfod_urls && *o->debuginfod_urls) || (env && *env);
	}
}

struct symbolizer *symbolizer__new(struct procs *procs, const struct symbolizer_opts *o)
{
	struct symbolizer *s = calloc(1, sizeof(*s));
	struct debuginfo_opts dio = { 0 };

	if (!s)
		return NULL;
	s->procs = procs;
	if (o)
		s->opts = *o;
	s->cache_cap = (size_t)(s->opts.cache_mb ? s->opts.cache_mb : DEFAULT_CACHE_MB) << 20;
	if (!s->opts.perfmap_max_entries)
		s->opts.perfmap_max_entries = DEFAULT_PERFMAP_ENTRIES;
	if (!s->opts.perfmap_max_mb)
		s->opts.perfmap_max_mb = DEFAULT_PERFMAP_MB;
	if (!s->opts.perfmap_total_mb)
		s->opts.perfmap_total_mb = DEFAULT_PERFMAP_TOTAL_MB;
	if (!s->opts.perfmap_read_ms)
		s->opts.perfmap_read_ms = DEFAULT_PERFMAP_READ_MS;
	dio.dirs = s->opts.debug_dirs;
	dio.debuginfod = debuginfod_wanted(&s->opts);
	dio.timeout_s = s->opts.debuginfod_timeout_s;
	dio.budget_s = s->opts.debuginfod_timeout_s ? 6 * s->opts.debuginfod_timeout_s : 0;
	/* libdebuginfod reads its servers from the environment at each query. */
	if (dio.debuginfod && s->opts.debuginfod_urls && *s->opts.debuginfod_urls)
		setenv("DEBUGINFOD_URLS", s->opts.debuginfod_urls, 1);
	if (dio.debuginfod && !getenv("DEBUGINFOD_URLS")) {
		pr_warn("debuginfod requested but no server is set (DEBUGINFOD_URLS), ignoring");
		dio.debuginfod = false;
	}
	s->di = debuginfo__new(&dio);
	if (!s->di) {
		free(s);
		return NULL;
	}
	return s;
}

static void filesym_free(struct filesym *f)
{
	symfile__free(f->sf);
	free(f->special);
	free(f);
}

void symbolizer__free(struct symbolizer *s)
{
	struct filesym *f, *next;
	size_t i;

	if (!s)
		return;
	for (f = s->newest; f; f = next) {
		next = f->older;
		filesym_free(f);
	}
	for (i = 0; i < s->nr_pms; i++)
		perfmap__free(s->pms[i].map);
	free(s->pms);
	debuginfo__free(s->di);
	ksyms__free(s->ksyms);
	free(s->cgs);
	free(s->names.keys);
	free(s->names.vals);
	free(s->addrs.slots);
	free(s->addrs.ids);
	free(s->frames);
	free(s);
}

char *symbolize__demangle_opts(const char *name, bool params)
{
	/* Itanium C++ (_Z...) and Rust v0 (_R...); legacy Rust is Itanium-shaped. */
	if (name[0] != '_' || (name[1] != 'Z' && name[1] != 'R'))
		return NULL;
	return cplus_demangle(name, (params ? DMGL_PARAMS : 0) | DMGL_ANSI | DMGL_AUTO);
}

char *symbolize__demangle(const char *name)
{
	return symbolize__demangle_opts(name, true);
}

/* Every process maps the same vDSO image as ours. */
static struct symfile *vdso_syms(int *err)
{
	const void *base;
	size_t len;

	*err = procs__self_vdso(&base, &len);
	return *err ? NULL : symfile__from_mem(base, len, err);
}

static void names_reset(struct symbolizer *s)
{
	if (s->names.cap)
		memset(s->names.keys, 0, s->names.cap * sizeof(*s->names.keys));
	s->names.used = 0;
}

static void lru_unlink(struct symbolizer *s, struct filesym *f)
{
	if (f->newer)
		f->newer->older = f->older;
	else
		s->newest = f->older;
	if (f->older)
		f->older->newer = f->newer;
	else
		s->oldest = f->newer;
	f->newer = f->older = NULL;
}

static void lru_push(struct symbolizer *s, struct filesym *f)
{
	f->older = s->newest;
	f->newer = NULL;
	if (s->newest)
		s->newest->newer = f;
	s->newest = f;
	if (!s->oldest)
		s->oldest = f;
}

static size_t bucket_of(const struct filesym *f)
{
	return f->special ? 0 : hash_mix(f->ino ^ ((uint64_t)f->maj << 40 | f->min)) % FILE_BUCKETS;
}

static void cache_drop(struct symbolizer *s, struct filesym *f)
{
	struct filesym **pp = &s->files[bucket_of(f)];

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	lru_unlink(s, f);
	s->cache_bytes -= f->mem;
	filesym_free(f);
}

/* Least recently used files go first; keep is the one being used now. */
static void cache_trim(struct symbolizer *s, struct filesym *keep)
{
	struct filesym *f = s->oldest, *newer;

	while (f && s->cache_bytes > s->cache_cap) {
		newer = f->newer;
		if (f != keep) {
			cache_drop(s, f);
			s->st.cache_evictions++;
			/* Cached names may point into the dropped file. */
			names_reset(s);
		}
		f = newer;
	}
}

static struct filesym *file_lookup(struct symbolizer *s, uint32_t pid, const struct map_entry *m)
{
	bool special = !m->ino;
	size_t b = special ? 0 : hash_mix(m->ino ^ ((uint64_t)m->maj << 40 | m->min)) % FILE_BUCKETS;
	bool alive = procs__alive(s->procs, pid);
	struct symfile_ctx ctx = {
		.di = s->di,
		.path = m->path,
		.pid = alive ? pid : 0,
		.dwarf = !s->opts.no_inline || s->opts.lines,
	};
	struct filesym *f;
	int err = 0, fd;

	for (f = s->files[b]; f; f = f->next) {
		if (special ? (f->special && !strcmp(f->special, m->path))
			    : (!f->special && f->ino == m->ino && f->maj == m->maj &&
			       f->min == m->min)) {
			s->st.cache_hits++;
			f->window = s->window;
			lru_unlink(s, f);
			lru_push(s, f);
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
	f->window = s->window;
	if (special) {
		f->special = strdup(m->path);
		if (!f->special) {
			free(f);
			return NULL;
		}
		if (!strcmp(m->path, "[vdso]"))
			f->sf = vdso_syms(&err);
	} else {
		fd = procs__open_file(s->procs, pid, alive, m);
		if (fd >= 0) {
			f->sf = symfile__open(fd, &ctx, &err);
			close(fd);
		} else {
			err = fd;
		}
		if (!f->sf)
			pr_debug("no symbols for %s (pid %u): %s", m->path, pid, strerror(-err));
	}
	s->st.files++;
	if (!f->sf) {
		s->st.files_failed++;
	} else {
		enum debuginfo_source src = symfile__debug_source(f->sf);

		s->st.debug_build_id += src == DEBUGINFO_BUILD_ID;
		s->st.debug_debuglink += src == DEBUGINFO_DEBUGLINK;
		s->st.debug_debuginfod += src == DEBUGINFO_DEBUGINFOD;
		s->st.debug_minidebuginfo += symfile__has_minidebuginfo(f->sf);
		s->st.dwarf_files += symfile__has_dwarf(f->sf);
		s->st.go_files += symfile__has_gopclntab(f->sf);
		s->st.files_refused += symfile__refused(f->sf);
	}
	f->mem = sizeof(*f) + (f->sf ? symfile__mem(f->sf) : 0);
	f->next = s->files[b];
	s->files[b] = f;
	lru_push(s, f);
	s->cache_bytes += f->mem;
	cache_trim(s, f);
	return f;
}

/* A file's DWARF index grows as its units are first used: account for it, trim if need be. */
static void grown(struct symbolizer *s, struct filesym *f)
{
	size_t mem = sizeof(*f) + symfile__mem(f->sf);

	if (mem == f->mem)
		return;
	s->cache_bytes += mem - f->mem;
	f->mem = mem;
	cache_trim(s, f);
}

/*
 * Files idle for FILE_IDLE_WINDOWS go, oldest first: the LRU list is in order of use, so the
 * walk stops at the first file used since. Called between windows, with no name cached.
 */
static void drop_idle(struct symbolizer *s)
{
	struct filesym *f = s->oldest, *newer;

	for (; f && s->window - f->window > FILE_IDLE_WINDOWS; f = newer) {
		newer = f->newer;
		cache_drop(s, f);
		s->st.files_idle++;
	}
}

/* Files that could not be read are tried again in the next window (their process may live). */
static void drop_failed(struct symbolizer *s)
{
	struct filesym *f = s->oldest, *newer;

	for (; f; f = newer) {
		newer = f->newer;
		if (!f->sf && !f->special)
			cache_drop(s, f);
	}
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
	dm = s->opts.no_demangle ? NULL : symbolize__demangle_opts(raw, !s->opts.no_params);
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

/* The display name of a frame: demangled, with " (file:line)" when lines are on and known. */
static uint32_t frame_name(struct symbolizer *s, struct profile *p, const struct sym_frame *fr)
{
	uint32_t id = name_id(s, p, fr->name);
	char *buf;
	int len;

	if (!s->opts.lines || !fr->file || !fr->line)
		return id;
	len = asprintf(&buf, "%s (%s:%u)", profile__str(p, id), base_name(fr->file), fr->line);
	if (len < 0)
		return id;
	id = profile__intern(p, buf, len);
	free(buf);
	return id;
}

static size_t perfmaps_held(const struct symbolizer *s)
{
	size_t i, held = 0;

	for (i = 0; i < s->nr_pms; i++)
		held += perfmap__mem(s->pms[i].map);
	return held;
}

static void perfmap_drop(struct symbolizer *s, size_t i)
{
	perfmap__free(s->pms[i].map);
	s->pms[i] = s->pms[--s->nr_pms];
}

/*
 * The limits of slot ps's map now: its own bounds, within what the other maps leave of the
 * total; maps no profile used this window make room first, the least recently used first.
 */
static void perfmap_limits(struct symbolizer *s, struct pmslot *ps, struct perfmap_limits *lim)
{
	size_t total = (size_t)s->opts.perfmap_total_mb << 20, others;
	uint32_t pid = ps->pid;
	size_t i, oldest;

	lim->max_entries = s->opts.perfmap_max_entries;
	lim->max_bytes = (size_t)s->opts.perfmap_max_mb << 20;
	for (;;) {
		others = perfmaps_held(s) - perfmap__mem(ps->map);
		if (others + lim->max_bytes <= total)
			break;
		for (i = 0, oldest = s->nr_pms; i < s->nr_pms; i++)
			if (s->pms[i].window != s->window &&
			    (oldest == s->nr_pms || s->pms[i].window < s->pms[oldest].window))
				oldest = i;
		if (oldest == s->nr_pms) {
			lim->max_bytes = others < total ? total - others : 1;
			break;
		}
		perfmap_drop(s, oldest);
		/* ps may have moved into the freed slot. */
		for (i = 0; i < s->nr_pms && s->pms[i].pid != pid; i++)
			;
		ps = &s->pms[i];
	}
}

static struct pmslot *perfmap_slot(struct symbolizer *s, uint32_t pid)
{
	struct pmslot *ps;
	size_t i;

	for (i = 0; i < s->nr_pms; i++)
		if (s->pms[i].pid == pid)
			return &s->pms[i];
	if (s->nr_pms == s->cap_pms) {
		size_t cap = s->cap_pms ? s->cap_pms * 2 : 16;
		struct pmslot *n = realloc(s->pms, cap * sizeof(*n));

		if (!n)
			return NULL;
		s->pms = n;
		s->cap_pms = cap;
	}
	ps = &s->pms[s->nr_pms];
	*ps = (struct pmslot){ .pid = pid, .window = s->window - 1 };
	ps->map = perfmap__new(NULL);
	if (!ps->map)
		return NULL;
	s->nr_pms++;
	return ps;
}

/* The perf map of pid, brought up to date once per window (within the window's budget). */
static struct perfmap *perfmap_of(struct symbolizer *s, uint32_t pid)
{
	struct perfmap_limits lim;
	struct perfmap_stats st;
	struct pmslot *ps = perfmap_slot(s, pid);
	uint64_t t0;
	int err;

	if (!ps)
		return NULL;
	if (ps->window == s->window)
		return ps->ok ? ps->map : NULL;
	ps->window = s->window;
	perfmap_limits(s, ps, &lim);
	ps = perfmap_slot(s, pid);
	perfmap__set_limits(ps->map, &lim);
	t0 = now_mono_ns();
	err = perfmap__update(ps->map, pid, procs__alive(s->procs, pid), &s->pm_budget);
	/* The budget bounds the reads; this also counts the index built after them. */
	s->pm_window_ns += now_mono_ns() - t0;
	s->st.perfmap_window_max_ns = MAX(s->st.perfmap_window_max_ns, s->pm_window_ns);
	perfmap__stats(ps->map, &st);
	s->st.perfmap_bytes += st.bytes_read - ps->st.bytes_read;
	s->st.perfmap_dropped += st.dropped - ps->st.dropped;
	/* Once per map: a JIT that keeps compiling would otherwise log every window. */
	if (st.dropped && !ps->st.dropped)
		pr_notice("perf map of pid %u over its bounds (perfmap-max-entries %u, perfmap-max-mb "
			  "%u, perfmap-total-mb %u): later JIT functions stay unnamed, ignoring", pid,
			  s->opts.perfmap_max_entries, s->opts.perfmap_max_mb,
			  s->opts.perfmap_total_mb);
	s->st.perfmap_resets += st.resets - ps->st.resets;
	ps->st = st;
	ps->ok = err >= 0;
	if (err > 0)
		s->st.perfmap_deferred++;
	if (err >= 0) {
		s->st.perfmaps++;
		pr_debug("read /tmp/perf-%u.map: %zu JIT symbols%s", pid, perfmap__count(ps->map),
			 err ? ", the rest next window (time budget)" : "");
	} else if (err != -ENOENT) {
		pr_debug("cannot read the perf map of pid %u: %s", pid, strerror(-err));
	}
	return ps->ok ? ps->map : NULL;
}

/* Maps of processes gone, or idle for long, are dropped after the window that used them last. */
static void perfmaps_trim(struct symbolizer *s)
{
	size_t i = 0;

	while (i < s->nr_pms) {
		const struct pmslot *ps = &s->pms[i];

		if (ps->window != s->window &&
		    (!procs__alive(s->procs, ps->pid) ||
		     s->window - ps->window > PERFMAP_IDLE_WINDOWS || !ps->ok))
			perfmap_drop(s, i);
		else
			i++;
	}
}

/*
 * s interned, 0 for none: NULL or empty. A runtime may read an empty string off its target,
 * and its id 0 must not read as an allocation failure. 0 or -ENOMEM.
 */
static int intern_opt(struct profile *p, const char *s, uint32_t *id)
{
	*id = s && *s ? profile__intern_str(p, s) : 0;
	return s && *s && !*id ? -ENOMEM : 0;
}

/* A runtime's name, function, file and line. 0 or -ENOMEM. */
static int intern_sym(struct profile *p, const struct runtime_sym *rs, struct profile_frame *fr)
{
	if (intern_opt(p, rs->name, &fr->name) || intern_opt(p, rs->func, &fr->func) ||
	    intern_opt(p, rs->file, &fr->file))
		return -ENOMEM;
	fr->line = fr->file ? rs->line : 0;
	return 0;
}

static int push_frame(struct symbolizer *s, struct profile *p, const struct profile_frame *fr,
		      uint32_t *out, int n, int max)
{
	uint32_t id = profile__add_frame(p, fr);

	if (!id)
		return -ENOMEM;
	if (n < max)
		out[n++] = id;
	return n;
}

/*
 * Names one user address: frames root first (the function, then the calls inlined into it,
 * innermost last). Returns how many went to out, or -ENOMEM.
 */
static int user_frames(struct symbolizer *s, struct profile *p, uint32_t pid, const char *comm,
		       uint64_t addr, bool leaf, uint32_t *out, int max)
{
	/* Return addresses point after the call; look up the call itself. */
	uint64_t look = leaf ? addr : addr - 1, vaddr;
	/* The image of pid that ran under this name: not one exec'd later, nor a pid reuse. */
	const struct map_entry *m = procs__find_as(s->procs, pid, comm, look);
	struct profile_frame fr = { .kind = FRAME_USER, .addr = addr };
	struct profile_mapping pm = { 0 };
	struct sym_frame sfr[MAX_INLINE + 1];
	unsigned int flags = 0;
	struct filesym *f;
	char buf[PATH_MAX + 32];
	int n = 0, i, k;

	s->st.frames++;
	if (RUNTIME_FRAME_IS(addr)) {
		struct runtime_sym rs = { 0 };
		int kind = -ENOENT, r;

		/* The runtime whose tag the frame has answers; the others say -ENOENT. */
		for (r = 0; r < s->nr_runtimes && kind == -ENOENT; r++)
			kind = s->runtimes[r].fn(s->runtimes[r].ctx, pid, addr, s->opts.lines, &rs);

		fr.addr = 0;
		if (kind < 0 || !rs.name || !*rs.name) {
			s->st.frames_unknown++;
			fr.kind = FRAME_USER;
			fr.name = profile__intern_str(p, "[unknown runtime frame]");
			if (!fr.name)
				return -ENOMEM;
		} else {
			s->st.frames_runtime++;
			fr.kind = kind;
			/* Always: pprof gets the function, its file and line whatever the name says. */
			if (intern_sym(p, &rs, &fr))
				return -ENOMEM;
			fr.start_line = fr.file ? rs.start_line : 0;
		}
		return push_frame(s, p, &fr, out, 0, max);
	}
	if (!m || (!m->ino && strcmp(m->path, "[vdso]"))) {
		/*
		 * Anonymous executable memory: JIT code, named by the perf map of the process that
		 * holds the pid now, if that is the one that took the sample.
		 */
		bool cur = procs__is_current(s->procs, pid, comm);
		struct runtime_sym js[MAX_INLINE + 1];
		struct perfmap *jm = NULL;
		const char *name = NULL;
		int nj = 0;

		/* Runtimes that know their own JIT code first (HotSpot's code cache). */
		for (i = 0; cur && i < s->nr_jits && nj <= 0; i++)
			nj = s->jits[i].fn(s->jits[i].ctx, pid, look, leaf, s->opts.lines, js,
					   ARRAY_SIZE(js));
		if (nj > 0) {
			s->st.frames_jit++;
			for (i = 0; i < nj; i++) {
				fr.kind = js[i].inlined ? FRAME_INLINE : FRAME_JIT;
				/* pprof gets the function, its file and line whatever the name says. */
				if (intern_sym(p, &js[i], &fr))
					return -ENOMEM;
				if (!fr.name)
					fr.name = profile__intern_str(p, "[unknown JIT frame]");
				if (!fr.name)
					return -ENOMEM;
				s->st.frames_inline += js[i].inlined;
				n = push_frame(s, p, &fr, out, n, max);
				if (n < 0)
					return n;
			}
			return n;
		}
		jm = cur ? perfmap_of(s, pid) : NULL;
		if (jm)
			name = perfmap__find(jm, look);

		if (name) {
			s->st.frames_jit++;
			fr.kind = FRAME_JIT;
			fr.name = profile__intern_str(p, name);
		} else {
			s->st.frames_unknown++;
			fr.name = profile__intern_str(p, "[unknown]");
		}
		return push_frame(s, p, &fr, out, 0, max);
	}
	f = file_lookup(s, pid, m);
	pm.file = profile__intern_str(p, m->path);
	pm.start = m->start;
	pm.limit = m->end;
	pm.offset = m->pgoff;
	if (f && f->sf) {
		const char *bid = symfile__mapping_build_id(f->sf);

		pm.build_id = *bid ? profile__intern_str(p, bid) : 0;
	}
	fr.mapping = profile__add_mapping(p, &pm);
	vaddr = look - m->start + m->pgoff;
	if (f && f->sf && !symfile__off_to_vaddr(f->sf, vaddr, &vaddr)) {
		if (!s->opts.no_inline)
			flags |= SYMFILE_INLINE;
		/* pprof gets files and lines whatever the names say. */
		if (!s->opts.skip_lines)
			flags |= SYMFILE_LINES;
		n = symfile__lookup(f->sf, vaddr, flags, sfr, ARRAY_SIZE(sfr));
		grown(s, f);
	}
	if (!n) {
		s->st.frames_unnamed++;
		snprintf(buf, sizeof(buf), "[%s+0x%llx]", base_name(m->path),
			 (unsigned long long)vaddr);
		fr.name = profile__intern_str(p, buf);
		return push_frame(s, p, &fr, out, 0, max);
	}
	k = 0;
	for (i = n - 1; i >= 0; i--) {
		fr.kind = sfr[i].inlined ? FRAME_INLINE : FRAME_USER;
		fr.name = sfr[i].name ? frame_name(s, p, &sfr[i]) : profile__intern_str(p, "[inlined]");
		fr.func = sfr[i].name && s->opts.lines ? name_id(s, p, sfr[i].name) : 0;
		fr.file = sfr[i].file && sfr[i].line ? profile__intern_str(p, sfr[i].file) : 0;
		fr.line = fr.file ? sfr[i].line : 0;
		fr.start_line = fr.file ? sfr[i].start_line : 0;
		s->st.frames_inline += sfr[i].inlined;
		k = push_frame(s, p, &fr, out, k, max);
		if (k < 0)
			return k;
	}
	return k;
}

static int addrs_reserve(struct addrcache *ac)
{
	size_t cap, i;
	struct addrslot *ns;

	if ((ac->used + 1) * 4 < ac->cap * 3)
		return 0;
	cap = ac->cap ? ac->cap * 2 : 8192;
	ns = calloc(cap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (i = 0; i < ac->cap; i++) {
		const struct addrslot *o = &ac->slots[i];
		size_t j;

		if (!o->key)
			continue;
		j = hash_mix(o->key ^ ((uint64_t)o->pid << 32 | o->comm)) & (cap - 1);
		while (ns[j].key)
			j = (j + 1) & (cap - 1);
		ns[j] = *o;
	}
	free(ac->slots);
	ac->slots = ns;
	ac->cap = cap;
	return 0;
}

/* Frames of a user address, memoized per (pid, address): stacks share most of their frames. */
static int user_frames_cached(struct symbolizer *s, struct profile *p, uint32_t pid,
			      const char *comm, uint64_t addr, bool leaf, uint32_t *out, int max)
{
	struct addrcache *ac = &s->addrs;
	uint64_t key = (addr & ~(1ULL << 63)) | (uint64_t)leaf << 63;
	uint32_t ch = hash_bytes(comm, strnlen(comm, 16), 0);
	uint32_t tmp[MAX_INLINE + 2];
	struct addrslot *slot;
	size_t j;
	int n;

	if (!key)
		key = 1ULL << 62;	/* address 0, not leaf: never a real frame, but not "empty" */
	if (addrs_reserve(ac))
		return user_frames(s, p, pid, comm, addr, leaf, out, max);
	j = hash_mix(key ^ ((uint64_t)pid << 32 | ch)) & (ac->cap - 1);
	while (ac->slots[j].key) {
		slot = &ac->slots[j];
		if (slot->key == key && slot->pid == pid && slot->comm == ch) {
			n = MIN((int)slot->n, max);
			memcpy(out, ac->ids + slot->first, n * sizeof(*out));
			s->st.addr_hits++;
			return n;
		}
		j = (j + 1) & (ac->cap - 1);
	}
	n = user_frames(s, p, pid, comm, addr, leaf, tmp, ARRAY_SIZE(tmp));
	if (n < 0)
		return n;
	if (ac->nr_ids + n > ac->cap_ids) {
		size_t cap = ac->cap_ids ? ac->cap_ids * 2 : 16384;
		uint32_t *ni;

		while (cap < ac->nr_ids + n)
			cap *= 2;
		ni = realloc(ac->ids, cap * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		ac->ids = ni;
		ac->cap_ids = cap;
	}
	memcpy(ac->ids + ac->nr_ids, tmp, n * sizeof(*tmp));
	ac->slots[j] = (struct addrslot){ key, pid, ch, ac->nr_ids, n };
	ac->nr_ids += n;
	ac->used++;
	n = MIN(n, max);
	memcpy(out, tmp, n * sizeof(*out));
	return n;
}

static void load_ksyms(struct symbolizer *s)
{
	if (s->ksyms || s->ksyms_failed)
		return;
	s->ksyms = ksyms__load();
	if (!s->ksyms) {
		s->ksyms_failed = true;
		pr_warn("cannot read /proc/kallsyms (%s): kernel frames stay unnamed",
			strerror(errno));
	}
}

static uint32_t kernel_frame(struct symbolizer *s, struct profile *p, uint64_t addr, bool leaf)
{
	struct profile_frame fr = { .kind = FRAME_KERNEL, .addr = addr };
	const char *name = NULL;
	uint64_t off;

	s->st.frames++;
	if (OFFCPU_IS_STATE_ADDR(addr)) {
		/* How an off-CPU stack's task left the CPU: a frame of its own, no suffix. */
		fr.kind = FRAME_USER;
		fr.addr = 0;
		fr.name = profile__intern_str(p, profile__offcpu_state_name(addr & 0xff));
		return profile__add_frame(p, &fr);
	}
	load_ksyms(s);
	if (s->ksyms)
		name = ksyms__find(s->ksyms, leaf ? addr : addr - 1, &off);
	if (!name)
		s->st.frames_unknown++;
	fr.name = profile__intern_str(p, name ? name : "[unknown]");
	return profile__add_frame(p, &fr);
}

/*
 * An off-CPU stack was taken inside the scheduler's tracepoint: between __schedule and the
 * state frame (the leaf, frames[n - 1]) are the tracepoint's and flamed's own BPF frames,
 * which depend on the kernel build and say nothing about the wait. Returns the new length.
 */
static size_t drop_switch_frames(const struct profile *p, uint32_t *frames, size_t n, size_t nk)
{
	size_t i, first = n - nk;

	for (i = n - 1; i-- > first;) {
		if (!strcmp(profile__str(p, profile__frame(p, frames[i])->name), "__schedule")) {
			frames[i + 1] = frames[n - 1];
			return i + 2;
		}
	}
	return n;
}

static int frames_reserve(struct symbolizer *s, size_t n)
{
	uint32_t *f;

	if (n <= s->cap_frames)
		return 0;
	f = realloc(s->frames, n * sizeof(*f));
	if (!f)
		return -ENOMEM;
	s->frames = f;
	s->cap_frames = n;
	return 0;
}

void symbolizer__set_cgroups(struct symbolizer *s, struct cgroups *cg, int group_by)
{
	s->cg = cg;
	s->group_by = cg ? group_by : CGPATH_GROUP_NONE;
}

static uint32_t intern(struct profile *p, const char *str)
{
	return *str ? profile__intern_str(p, str) : 0;
}

/* The attribution and group frame of a cgroup id, made once per profile. */
static int cgroup_slot(struct symbolizer *s, struct profile *p, uint64_t id, struct cgslot **ret)
{
	struct cgpath_info ci;
	struct profile_attrib a = { 0 };
	struct profile_frame f = { .kind = FRAME_USER };
	const char *path;
	char name[512];
	size_t j;

	if ((s->cg_used + 1) * 2 > s->cg_cap) {
		size_t n = s->cg_cap ? s->cg_cap * 2 : 64, i;
		struct cgslot *ns = calloc(n, sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		for (i = 0; i < s->cg_cap; i++) {
			if (!s->cgs[i].id)
				continue;
			j = hash_mix(s->cgs[i].id) & (n - 1);
			while (ns[j].id)
				j = (j + 1) & (n - 1);
			ns[j] = s->cgs[i];
		}
		free(s->cgs);
		s->cgs = ns;
		s->cg_cap = n;
	}
	j = hash_mix(id) & (s->cg_cap - 1);
	while (s->cgs[j].id && s->cgs[j].id != id)
		j = (j + 1) & (s->cg_cap - 1);
	*ret = &s->cgs[j];
	if (s->cgs[j].id)
		return 0;
	path = cgroups__path(s->cg, id);
	if (path) {
		cgpath__parse(path, strlen(path), &ci);
		a.cgroup = intern(p, path);
		a.unit = intern(p, ci.unit);
		a.container = intern(p, ci.container_id);
		a.pod = intern(p, ci.pod_uid);
		cgpath__group_name(s->group_by, path, &ci, name, sizeof(name));
	} else {
		/* Removed before its samples were read: say so rather than guess. */
		snprintf(name, sizeof(name), "[cgroup %llu]", (unsigned long long)id);
	}
	s->cgs[j].attrib = profile__add_attrib(p, &a);
	if (!s->cgs[j].attrib)
		return -ENOMEM;
	if (s->group_by) {
		f.name = profile__intern_str(p, name);
		s->cgs[j].group = profile__add_frame(p, &f);
		if (!s->cgs[j].group)
			return -ENOMEM;
	}
	s->cgs[j].id = id;
	s->cg_used++;
	return 0;
}

/*
 * What the samples from `from` on will need, read while the profiled program still runs: their
 * symbol files (opened, DWARF inflated), the DWARF units of their addresses, the kernel's
 * symbols. The profile is built later from warm caches, so a one-shot run's end does not pay
 * for them after the command exits. Nothing is named or counted here. Runtime frames are named
 * by their modules (prefetch); JIT frames' perf maps are read at the build, under its budget.
 */
size_t symbolizer__warm(struct symbolizer *s, const struct stacks *st, size_t from,
			uint64_t budget_ns)
{
	uint64_t deadline = now_mono_ns() + budget_ns;
	size_t i, nr = stacks__nr_samples(st);

	/*
	 * A debuginfod query may take seconds (its timeout): not in the loop's turn while the
	 * targets run and samples pile up in the kernel's maps. The build asks, under its budget.
	 */
	if (debuginfod_wanted(&s->opts))
		return nr;
	/*
	 * Kernel stacks are always taken, and nearly every profile has some (a fault, a syscall,
	 * the exit): kallsyms is read with the first samples, not when their kernel stack comes.
	 */
	if (from < nr)
		load_ksyms(s);
	for (i = from; i < nr; i++) {
		const struct stacks_sample *ss = stacks__sample(st, i);
		const uint64_t *u;
		uint32_t nu, j;

		u = stacks__raw(st, ss->ustack, &nu);
		nu = MIN(nu, MAX_USER_FRAMES);
		for (j = 0; j < nu; j++) {
			uint64_t look = j ? u[j] - 1 : u[j], vaddr;
			const struct map_entry *m;
			struct sym_frame sfr[MAX_INLINE + 1];
			struct filesym *f;
			uint64_t before;
			uint32_t w = hash_mix(look ^ (uint64_t)ss->tgid << 40) % WARM_SLOTS;

			if (RUNTIME_FRAME_IS(u[j]) || s->warmed[w] == (look ^ ss->tgid))
				continue;
			s->warmed[w] = look ^ ss->tgid;
			m = procs__find_as(s->procs, ss->tgid, ss->pcomm, look);
			if (!m || !m->ino)
				continue;
			before = s->st.files;
			f = file_lookup(s, ss->tgid, m);
			s->st.files_warm += s->st.files - before;
			vaddr = look - m->start + m->pgoff;
			if (!f || !f->sf || symfile__off_to_vaddr(f->sf, vaddr, &vaddr))
				continue;
			symfile__lookup(f->sf, vaddr,
					(s->opts.skip_lines ? 0 : SYMFILE_LINES) |
						(s->opts.no_inline ? 0 : SYMFILE_INLINE),
					sfr, ARRAY_SIZE(sfr));
			grown(s, f);
		}
		if (now_mono_ns() >= deadline)
			return i + 1;
	}
	return nr;
}

int symbolizer__build_profile(struct symbolizer *s, const struct stacks *st, struct profile *p)
{
	const size_t max_frames = MAX_USER_FRAMES * (MAX_INLINE + 2) + MAX_KERNEL_FRAMES;
	struct symbolizer_stats before = s->st;
	struct profile_meta *m;
	size_t i;
	int err;

	/*
	 * Cached string and frame ids belong to one profile (a new one may sit where a freed one
	 * was: no pointer comparison), and mappings may have changed since the last call.
	 */
	names_reset(s);
	s->addrs.used = 0;
	s->addrs.nr_ids = 0;
	if (s->addrs.cap)
		memset(s->addrs.slots, 0, s->addrs.cap * sizeof(*s->addrs.slots));
	perfmaps_trim(s);
	drop_idle(s);
	s->window++;
	s->pm_budget = (struct perfmap_budget){ .left_ns = s->opts.perfmap_read_ms * 1000000ULL };
	s->pm_window_ns = 0;
	drop_failed(s);
	debuginfo__new_window(s->di);
	/* Two more: the group and process frames of group-by. */
	err = frames_reserve(s, max_frames + 2);
	if (err)
		return err;
	s->cg_used = 0;
	if (s->cg_cap)
		memset(s->cgs, 0, s->cg_cap * sizeof(*s->cgs));

	for (i = 0; i < stacks__nr_samples(st); i++) {
		const struct stacks_sample *ss = stacks__sample(st, i);
		const uint64_t *u, *k;
		uint32_t nu, nk, j, comm, attrib = 0;
		struct cgslot *cs = NULL;
		size_t n = 0;
		int r;

		u = stacks__raw(st, ss->ustack, &nu);
		k = stacks__raw(st, ss->kstack, &nk);
		nu = MIN(nu, MAX_USER_FRAMES);
		nk = MIN(nk, MAX_KERNEL_FRAMES);
		comm = profile__intern(p, ss->pcomm, strnlen(ss->pcomm, 16));
		if (s->cg && ss->cgroup) {
			err = cgroup_slot(s, p, ss->cgroup, &cs);
			if (err)
				return err;
			attrib = cs->attrib;
		}
		/*
		 * group-by: the group, then the process name, as the stack's first frames (the
		 * process is then a frame in every format, pprof included, not a label).
		 */
		if (cs && cs->group) {
			struct profile_frame f = { .name = comm, .kind = FRAME_USER };

			s->frames[n++] = cs->group;
			s->frames[n++] = profile__add_frame(p, &f);
			if (!s->frames[n - 1])
				return -ENOMEM;
			comm = 0;
		}
		/*
		 * BPF gives leaf first; profiles are root first, user frames above kernel ones. The
		 * user leaf is where user code stopped (interrupted, faulting, or just past a
		 * syscall: still inside its function), never a return address, even under kernel
		 * frames.
		 */
		for (j = nu; j-- > 0;) {
			r = user_frames_cached(s, p, ss->tgid, ss->pcomm, u[j], j == 0,
					       s->frames + n, max_frames - MAX_KERNEL_FRAMES - n);
			if (r < 0)
				return r;
			n += r;
		}
		for (j = nk; j-- > 0;)
			s->frames[n++] = kernel_frame(s, p, k[j], j == 0);
		if (nk && OFFCPU_IS_STATE_ADDR(k[0]))
			n = drop_switch_frames(p, s->frames, n, nk);
		err = profile__add_sample(p, s->frames, n, ss->count, ss->tgid, comm,
					  profile__intern(p, ss->comm, strnlen(ss->comm, 16)));
		if (err)
			return err;
		profile__set_sample_attrib(p, profile__nr_samples(p) - 1, attrib);
	}
	/* The profile's own share of the statistics, for its description. */
	m = profile__meta(p);
	m->sym_frames += s->st.frames - before.frames;
	m->sym_unnamed += s->st.frames_unnamed - before.frames_unnamed;
	m->sym_unknown += s->st.frames_unknown - before.frames_unknown;
	m->sym_jit += s->st.frames_jit - before.frames_jit;
	return 0;
}

int symbolizer__add_runtime_hook(struct symbolizer *s, symbolize_runtime_fn fn, void *ctx)
{
	int i;

	for (i = 0; i < s->nr_runtimes; i++)
		if (s->runtimes[i].fn == fn && s->runtimes[i].ctx == ctx)
			return 0;	/* a symbolizer reused by the next profile */
	if (s->nr_runtimes >= SYMBOLIZER_MAX_RUNTIMES)
		return -ENOSPC;
	s->runtimes[s->nr_runtimes].fn = fn;
	s->runtimes[s->nr_runtimes].ctx = ctx;
	s->nr_runtimes++;
	return 0;
}

int symbolizer__add_jit_hook(struct symbolizer *s, symbolize_jit_fn fn, void *ctx)
{
	int i;

	for (i = 0; i < s->nr_jits; i++)
		if (s->jits[i].fn == fn && s->jits[i].ctx == ctx)
			return 0;
	if (s->nr_jits >= SYMBOLIZER_MAX_RUNTIMES)
		return -ENOSPC;
	s->jits[s->nr_jits].fn = fn;
	s->jits[s->nr_jits].ctx = ctx;
	s->nr_jits++;
	return 0;
}

void symbolizer__stats(const struct symbolizer *s, struct symbolizer_stats *st)
{
	struct debuginfo_stats ds;

	*st = s->st;
	st->cache_bytes = s->cache_bytes;
	st->perfmap_held = perfmaps_held(s);
	debuginfo__stats(s->di, &ds);
	st->debuginfod_failed = ds.debuginfod_failed;
	st->files_refused += ds.refused;
}

void symbolizer__set_skip_lines(struct symbolizer *s, bool skip)
{
	s->opts.skip_lines = skip && !s->opts.lines;
}

void symbolizer__log_stats(const struct symbolizer *s)
{
	struct symbolizer_stats st;

	symbolizer__stats(s, &st);
	pr_info("symbols: %llu files (%llu read while the targets ran, %llu unreadable, %llu parts refused, %llu with DWARF, %llu Go tables; debug files: %llu by build "
		"id, %llu by debuglink, %llu from debuginfod, %llu MiniDebugInfo), cache %llu hits / "
		"%llu misses / %llu evicted, %.1f MiB; %llu frames, %llu unknown, %llu unnamed, "
		"%llu inline, %llu JIT, %llu runtime; perf maps: %llu read, %.1f MiB parsed, %.1f MiB held, "
		"%llu functions dropped by the bounds, %llu reads deferred by the time budget, "
		"%llu re-read",
		(unsigned long long)st.files, (unsigned long long)st.files_warm,
		(unsigned long long)st.files_failed, (unsigned long long)st.files_refused, (unsigned long long)st.dwarf_files, (unsigned long long)st.go_files,
		(unsigned long long)st.debug_build_id,
		(unsigned long long)st.debug_debuglink, (unsigned long long)st.debug_debuginfod,
		(unsigned long long)st.debug_minidebuginfo, (unsigned long long)st.cache_hits,
		(unsigned long long)st.cache_misses, (unsigned long long)st.cache_evictions,
		st.cache_bytes / 1048576.0, (unsigned long long)st.frames,
		(unsigned long long)st.frames_unknown, (unsigned long long)st.frames_unnamed,
		(unsigned long long)st.frames_inline, (unsigned long long)st.frames_jit,
		(unsigned long long)st.frames_runtime,
		(unsigned long long)st.perfmaps, st.perfmap_bytes / 1048576.0,
		st.perfmap_held / 1048576.0, (unsigned long long)st.perfmap_dropped,
		(unsigned long long)st.perfmap_deferred, (unsigned long long)st.perfmap_resets);
}

int symbolize__parse_debuginfod(const char *s, enum symbolizer_debuginfod *ret)
{
	if (!strcmp(s, "auto"))
		*ret = SYMBOLIZER_DEBUGINFOD_AUTO;
	else if (!strcmp(s, "on"))
		*ret = SYMBOLIZER_DEBUGINFOD_ON;
	else if (!strcmp(s, "off"))
		*ret = SYMBOLIZER_DEBUGINFOD_OFF;
	else
		return -EINVAL;
	return 0;
}

const char *symbolize__debuginfod_name(enum symbolizer_debuginfod d)
{
	return d == SYMBOLIZER_DEBUGINFOD_ON ? "on" : d == SYMBOLIZER_DEBUGINFOD_OFF ? "off" : "auto";
}

void symbolize__split_dirs(char *list, const char **dirs, size_t max)
{
	size_t n = 0;
	char *p = list, *save = NULL, *tok;

	while (n + 1 < max && (tok = strtok_r(p, ":", &save))) {
		dirs[n++] = tok;
		p = NULL;
	}
	dirs[n] = NULL;
}
