// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/auxv.h>
#include <time.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/log.h"
#include "sample/mapfiles.h"
#include "sample/procs.h"
#include "base/rootfs.h"
#include "base/util.h"

struct proc {
	uint32_t pid;
	bool exited;
	bool dirty;		/* mappings changed since procs__visit_dirty() */
	struct map_entry *maps;	/* sorted by start, non-overlapping */
	size_t nr_maps, cap_maps;
	struct proc *next;	/* hash chain */
	char names[PROC_NAMES][16];	/* its main thread's names in this image; [0][0] = unknown */
	struct image *older;	/* before an exec, or an earlier process with this pid */
	bool by_exec;		/* this image replaced the older one by exec */
	uint64_t since;		/* time of the exec or fork that began this image; 0 = unknown */
};

/* One mmap/comm/fork/exit record copied out of the ring, applied in time order. */
struct rec {
	uint64_t time;
	uint32_t len;
	uint32_t off;		/* into the batch buffer */
};

struct procs {
	struct proc **buckets;
	size_t nr_buckets, nr_procs;
	struct perf_buffer *pb;
	int pb_map_fd;
	char *batch;
	size_t batch_len, batch_cap;
	struct rec *recs;
	size_t nr_recs, cap_recs;
	struct procs_stats st;
	struct mapfiles *keep;	/* files of new mappings, opened while their process lives */
};

static int hex_field(const char **p, const char *end, uint64_t *v, char stop)
{
	const char *s = *p;
	uint64_t x = 0;
	int digits = 0;

	while (s < end && isxdigit((unsigned char)*s)) {
		int d = *s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10;

		if (digits++ >= 16)
			return -EINVAL;
		x = x << 4 | d;
		s++;
	}
	if (!digits || s >= end || *s != stop)
		return -EINVAL;
	*v = x;
	*p = s + 1;
	return 0;
}

int maps__parse_line(const char *line, size_t len, struct map_entry *e, size_t *path_len)
{
	const char *p = line, *end = line + len, *perms;
	uint64_t maj, min, ino = 0;
	int digits = 0;

	if (len && end[-1] == '\n')
		end--;
	memset(e, 0, sizeof(*e));
	if (hex_field(&p, end, &e->start, '-') || hex_field(&p, end, &e->end, ' '))
		return -EINVAL;
	if (e->end < e->start || end - p < 5)
		return -EINVAL;
	perms = p;
	p += 4;
	if (*p++ != ' ')
		return -EINVAL;
	if (hex_field(&p, end, &e->pgoff, ' ') || hex_field(&p, end, &maj, ':') ||
	    hex_field(&p, end, &min, ' '))
		return -EINVAL;
	if (maj > UINT32_MAX || min > UINT32_MAX)
		return -EINVAL;
	while (p < end && isdigit((unsigned char)*p)) {
		if (++digits > 20)
			return -EINVAL;
		ino = ino * 10 + (*p++ - '0');
	}
	if (!digits || (p < end && *p != ' '))
		return -EINVAL;
	while (p < end && *p == ' ')
		p++;
	e->maj = maj;
	e->min = min;
	e->ino = ino;
	e->path = (char *)p;
	*path_len = end - p;
	return perms[2] == 'x';
}

static struct proc *proc_get(struct procs *p, uint32_t pid, bool create)
{
	struct proc **b, *pr;

	if (!p->nr_buckets)
		goto create;
	for (pr = p->buckets[pid % p->nr_buckets]; pr; pr = pr->next)
		if (pr->pid == pid)
			return pr;
create:
	if (!create)
		return NULL;
	if (p->nr_procs >= p->nr_buckets) {
		size_t n = p->nr_buckets ? p->nr_buckets * 2 : 1024, i;
		struct proc **nb = calloc(n, sizeof(*nb));

		if (!nb)
			return NULL;
		for (i = 0; i < p->nr_buckets; i++) {
			while ((pr = p->buckets[i])) {
				p->buckets[i] = pr->next;
				pr->next = nb[pr->pid % n];
				nb[pr->pid % n] = pr;
			}
		}
		free(p->buckets);
		p->buckets = nb;
		p->nr_buckets = n;
	}
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return NULL;
	pr->pid = pid;
	b = &p->buckets[pid % p->nr_buckets];
	pr->next = *b;
	*b = pr;
	p->nr_procs++;
	return pr;
}

static void proc_clear_maps(struct procs *p, struct proc *pr)
{
	size_t i;

	for (i = 0; i < pr->nr_maps; i++)
		free(pr->maps[i].path);
	p->st.mappings -= pr->nr_maps;
	pr->nr_maps = 0;
	pr->dirty = true;
}

/*
 * A process image that was replaced (exec, or its pid reused by a new process), kept until the
 * next procs__gc so samples it took are named with its own mappings: they say which image by
 * the main thread's name (pcomm), the only thing tying a sample to an image.
 */
struct image {
	struct map_entry *maps;
	size_t nr_maps;
	char names[PROC_NAMES][16];
	struct image *older;
	bool by_exec;
};

static void images_free(struct image *im)
{
	struct image *older;
	size_t i;

	for (; im; im = older) {
		older = im->older;
		for (i = 0; i < im->nr_maps; i++)
			free(im->maps[i].path);
		free(im->maps);
		free(im);
	}
}

static void proc_free(struct procs *p, struct proc *pr)
{
	proc_clear_maps(p, pr);
	images_free(pr->older);
	free(pr->maps);
	free(pr);
}

static void names_add(char (*names)[16], const char *comm, size_t len)
{
	size_t i;

	len = MIN(len, (size_t)15);
	for (i = 0; i < PROC_NAMES && names[i][0]; i++)
		if (!strncmp(names[i], comm, 16) && strlen(names[i]) == len)
			return;
	/* Full: the latest name replaces the last one. */
	i = MIN(i, (size_t)PROC_NAMES - 1);
	memcpy(names[i], comm, len);
	names[i][len] = '\0';
}

static bool names_have(const char (*names)[16], const char *comm)
{
	size_t i;

	for (i = 0; i < PROC_NAMES && names[i][0]; i++)
		if (!strncmp(names[i], comm, 15))
			return true;
	return false;
}

/*
 * The process becomes another image at time t: its older mappings and its names move to its
 * history. Mappings reported at or after t belong to the new image and stay: their records can
 * be read before the exec's or fork's (another CPU's ring, read first or not yet read), and
 * dropping them lost the [vdso] of freshly exec'd processes (stacks cut at the vDSO).
 */
static void proc_retire(struct procs *p, struct proc *pr, uint64_t t)
{
	struct map_entry *keep = NULL;
	struct image *im, **pp;
	size_t n = 0, nk = 0, i, j = 0;

	for (i = 0; i < pr->nr_maps; i++)
		nk += t && pr->maps[i].time >= t;
	/* Without memory for them they go with the old image, as before. */
	if (nk && !(keep = malloc(nk * sizeof(*keep))))
		nk = 0;
	if (nk) {
		for (i = 0; i < pr->nr_maps; i++) {
			if (pr->maps[i].time >= t)
				keep[n++] = pr->maps[i];
			else
				pr->maps[j++] = pr->maps[i];
		}
		pr->nr_maps = j;
		n = 0;
	}
	if (pr->nr_maps && (im = calloc(1, sizeof(*im)))) {
		im->maps = pr->maps;
		im->nr_maps = pr->nr_maps;
		memcpy(im->names, pr->names, sizeof(im->names));
		im->by_exec = pr->by_exec;
		im->older = pr->older;
		pr->older = im;
		p->st.mappings -= pr->nr_maps;
		pr->maps = NULL;
		pr->nr_maps = pr->cap_maps = 0;
		for (pp = &pr->older; *pp && n < PROC_IMAGES; pp = &(*pp)->older)
			n++;
		images_free(*pp);
		*pp = NULL;
	}
	proc_clear_maps(p, pr);
	if (nk) {
		free(pr->maps);
		pr->maps = keep;
		pr->nr_maps = pr->cap_maps = nk;
	}
	memset(pr->names, 0, sizeof(pr->names));
	pr->by_exec = false;
	pr->since = t;
}

/*
 * Inserts a mapping, replacing whatever older overlapped it (the kernel sends no munmap
 * records). A newer overlapping mapping wins: e was reported earlier, just applied later.
 */
static int proc_add_map(struct procs *p, struct proc *pr, const struct map_entry *e,
			const char *path, size_t path_len)
{
	size_t i = 0, j, k;
	char *dup;

	while (i < pr->nr_maps && pr->maps[i].end <= e->start)
		i++;
	j = i;
	while (j < pr->nr_maps && pr->maps[j].start < e->end)
		j++;
	for (k = i; k < j; k++) {
		if (pr->maps[k].time > e->time) {
			p->st.records_stale++;
			return 0;
		}
	}
	dup = strndup(path, path_len);
	if (!dup)
		return -ENOMEM;
	for (k = i; k < j; k++)
		free(pr->maps[k].path);
	p->st.mappings -= j - i;
	if (j == i) {
		if (pr->nr_maps == pr->cap_maps) {
			size_t cap = pr->cap_maps ? pr->cap_maps * 2 : 16;
			struct map_entry *m = realloc(pr->maps, cap * sizeof(*m));

			if (!m) {
				free(dup);
				return -ENOMEM;
			}
			pr->maps = m;
			pr->cap_maps = cap;
		}
		memmove(&pr->maps[i + 1], &pr->maps[i], (pr->nr_maps - i) * sizeof(*pr->maps));
		pr->nr_maps++;
	} else if (j > i + 1) {
		memmove(&pr->maps[i + 1], &pr->maps[j], (pr->nr_maps - j) * sizeof(*pr->maps));
		pr->nr_maps -= j - i - 1;
	}
	pr->maps[i] = *e;
	pr->maps[i].path = dup;
	pr->dirty = true;
	p->st.mappings++;
	return 0;
}

int procs__add_map(struct procs *p, uint32_t pid, const struct map_entry *e)
{
	struct proc *pr = proc_get(p, pid, true);

	if (!pr)
		return -ENOMEM;
	return proc_add_map(p, pr, e, e->path ? e->path : "", e->path ? strlen(e->path) : 0);
}

int procs__scan(struct procs *p, uint32_t pid)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct proc *pr;
	FILE *f, *cf;
	uint64_t scanned;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	pr = proc_get(p, pid, true);
	if (!pr) {
		fclose(f);
		return -ENOMEM;
	}
	scanned = now_mono_ns();
	proc_clear_maps(p, pr);
	pr->exited = false;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	memset(pr->names, 0, sizeof(pr->names));
	if ((cf = fopen(path, "re"))) {
		if (fgets(pr->names[0], sizeof(pr->names[0]), cf))
			pr->names[0][strcspn(pr->names[0], "\n")] = '\0';
		fclose(cf);
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		struct map_entry e;
		size_t plen;

		if (maps__parse_line(line, n, &e, &plen) != 1)
			continue;
		e.time = scanned;
		err = proc_add_map(p, pr, &e, e.path, plen);
		if (err)
			break;
	}
	free(line);
	fclose(f);
	return err;
}

int procs__parse_status(const char *buf, uint32_t *tgid)
{
	const char *l, *nl;
	uint64_t v;
	char state = 0, *end;
	bool have_tgid = false;

	/* The kernel escapes a newline in Name:, so each field starts a line. */
	for (l = buf; l; l = nl ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		if (!strncmp(l, "State:", 6)) {
			l += 6;
			while (*l == ' ' || *l == '\t')
				l++;
			state = *l;
		} else if (!strncmp(l, "Tgid:", 5)) {
			errno = 0;
			v = strtoull(l + 5, &end, 10);
			if (errno || end == l + 5 || !v || v > UINT32_MAX)
				return -EINVAL;
			*tgid = v;
			have_tgid = true;
		}
	}
	if (!state || !have_tgid)
		return -EINVAL;
	/* A zombie leader stays listed while its other threads run; it runs no more. */
	return state == 'Z' || state == 'X' || state == 'x' ? -ESRCH : 0;
}

int procs__thread_tgid(uint32_t tid, uint32_t *tgid)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	/* /proc/TID is there for every thread, listed or not. */
	snprintf(path, sizeof(path), "/proc/%u/status", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : -EIO;
	buf[n] = '\0';
	return procs__parse_status(buf, tgid);
}

int procs__scan_all(struct procs *p)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint64_t pid;

		if (parse_u64(de->d_name, UINT32_MAX, &pid))
			continue;
		/* Processes may vanish while we read; that is fine. */
		procs__scan(p, pid);
	}
	closedir(d);
	return 0;
}

/*
 * Copies one record (rec need not be aligned) into the batch, to be applied in time order.
 * Its header's size must be within what rec holds.
 */
static void queue_record(struct procs *p, const void *rec)
{
	struct perf_event_header hdr, *h = &hdr;
	size_t size;
	uint64_t time = 0, lost;

	memcpy(&hdr, rec, sizeof(hdr));
	/* Records are applied in place: 8-byte aligned like in the ring. */
	size = (h->size + 7) & ~(size_t)7;
	if (h->type == PERF_RECORD_LOST) {
		/* header, id, lost */
		if (h->size >= sizeof(*h) + 16) {
			memcpy(&lost, (const char *)rec + sizeof(*h) + 8, 8);
			p->st.records_lost += lost;
		}
		return;
	}
	if (h->type != PERF_RECORD_MMAP2 && h->type != PERF_RECORD_COMM &&
	    h->type != PERF_RECORD_FORK && h->type != PERF_RECORD_EXIT)
		return;
	/* sample_id_all with PERF_SAMPLE_TIME puts the time in the record's last 8 bytes. */
	if (h->size >= sizeof(*h) + 8)
		memcpy(&time, (const char *)rec + h->size - 8, 8);
	if (p->batch_len + size > p->batch_cap) {
		size_t cap = p->batch_cap ? p->batch_cap * 2 : 65536;
		char *b;

		while (cap < p->batch_len + size)
			cap *= 2;
		b = realloc(p->batch, cap);
		if (!b)
			goto lost;
		p->batch = b;
		p->batch_cap = cap;
	}
	if (p->nr_recs == p->cap_recs) {
		size_t cap = p->cap_recs ? p->cap_recs * 2 : 1024;
		struct rec *r = realloc(p->recs, cap * sizeof(*r));

		if (!r)
			goto lost;
		p->recs = r;
		p->cap_recs = cap;
	}
	memcpy(p->batch + p->batch_len, rec, h->size);
	p->recs[p->nr_recs++] = (struct rec){ time, h->size, p->batch_len };
	p->batch_len += size;
	return;
lost:
	p->st.records_lost++;
}

static enum bpf_perf_event_ret on_record(void *ctx, int cpu, struct perf_event_header *h)
{
	queue_record(ctx, h);
	return LIBBPF_PERF_EVENT_CONT;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

struct mmap2_rec {
	struct perf_event_header h;
	uint32_t pid, tid;
	uint64_t addr, len, pgoff;
	uint32_t maj, min;
	uint64_t ino, ino_generation;
	uint32_t prot, flags;
	char filename[];
};

struct task_rec {
	struct perf_event_header h;
	uint32_t pid, ppid, tid, ptid;
	uint64_t time;
};

struct comm_rec {
	struct perf_event_header h;
	uint32_t pid, tid;
	char comm[];
};

/* A record about an image older than the process's current one (which it cannot change). */
static bool stale(struct procs *p, const struct proc *pr, uint64_t time)
{
	if (!time || time >= pr->since)
		return false;
	p->st.records_stale++;
	return true;
}

static void apply_fork(struct procs *p, const struct task_rec *r, uint64_t time)
{
	struct proc *parent, *child;
	size_t i;

	if (r->pid == r->ppid)
		return;	/* a new thread shares its process's mappings */
	child = proc_get(p, r->pid, true);
	if (!child || stale(p, child, time))
		return;
	/* A pid seen before is a new process now. */
	proc_retire(p, child, time);
	child->exited = false;
	parent = proc_get(p, r->ppid, false);
	if (!parent)
		return;
	memcpy(child->names, parent->names, sizeof(child->names));
	for (i = 0; i < parent->nr_maps; i++) {
		struct map_entry e = parent->maps[i];

		/* What the parent mapped after the fork is not the child's. */
		if (time && e.time > time)
			continue;
		e.time = time;
		if (proc_add_map(p, child, &e, e.path, strlen(e.path)))
			break;
	}
}

static void apply_record(struct procs *p, const struct perf_event_header *h, uint64_t time)
{
	struct proc *pr;

	switch (h->type) {
	case PERF_RECORD_MMAP2: {
		const struct mmap2_rec *r = (const void *)h;
		struct map_entry e;
		size_t len;

		if (h->size < sizeof(*r) || !(r->prot & PROT_EXEC))
			return;
		e = (struct map_entry){
			.start = r->addr,
			.end = r->addr + r->len,
			.pgoff = r->pgoff,
			.maj = r->maj,
			.min = r->min,
			.ino = r->ino,
			.time = time,
		};
		len = strnlen(r->filename, h->size - sizeof(*r));
		if (e.end < e.start)
			return;
		pr = proc_get(p, r->pid, true);
		if (pr && !stale(p, pr, time))
			proc_add_map(p, pr, &e, r->filename, len);
		mapfiles__note(p->keep, r->pid, &e, r->filename, len);
		break;
	}
	case PERF_RECORD_COMM: {
		const struct comm_rec *r = (const void *)h;

		if (h->size <= sizeof(*r) || r->pid != r->tid)
			return;
		pr = proc_get(p, r->pid, true);
		if (!pr || stale(p, pr, time))
			return;
		/* exec replaces every mapping made before it; the new image's mmaps follow. */
		if (h->misc & PERF_RECORD_MISC_COMM_EXEC) {
			proc_retire(p, pr, time);
			pr->by_exec = true;
			pr->exited = false;
		}
		names_add(pr->names, r->comm, strnlen(r->comm, h->size - sizeof(*r)));
		break;
	}
	case PERF_RECORD_FORK:
		if (h->size >= sizeof(struct task_rec))
			apply_fork(p, (const void *)h, time);
		break;
	case PERF_RECORD_EXIT: {
		const struct task_rec *r = (const void *)h;

		if (h->size < sizeof(*r) || r->pid != r->tid)
			return;
		pr = proc_get(p, r->pid, false);
		if (pr && !stale(p, pr, time)) {
			pr->exited = true;
			pr->dirty = true;
		}
		break;
	}
	}
}

/*
 * Rings are per CPU; a process that migrated may have its exec and mmaps in two, and a ring
 * read later in one batch, or in the next, may hold older records. Sorting puts one batch in
 * order; the times kept with each mapping and image order records across batches.
 */
static void apply_batch(struct procs *p)
{
	uint64_t now;
	size_t i;

	if (p->nr_recs)
		qsort(p->recs, p->nr_recs, sizeof(*p->recs), rec_cmp);
	for (i = 0; i < p->nr_recs; i++)
		apply_record(p, (const void *)(p->batch + p->recs[i].off), p->recs[i].time);
	now = now_mono_ns();
	if (p->nr_recs && now > p->recs[p->nr_recs - 1].time)
		p->st.last_delay_ns = now - p->recs[p->nr_recs - 1].time;
	p->st.records += p->nr_recs;
	p->nr_recs = 0;
	p->batch_len = 0;
}

int procs__consume(struct procs *p)
{
	int err;

	if (!p->pb)
		return 0;
	err = perf_buffer__consume(p->pb);
	if (err < 0)
		return err;
	apply_batch(p);
	return 0;
}

int procs__apply(struct procs *p, const void *buf, size_t len)
{
	const char *b = buf;
	struct perf_event_header h;
	size_t off;

	for (off = 0; off < len; off += h.size) {
		if (len - off < sizeof(h))
			return -EINVAL;
		memcpy(&h, b + off, sizeof(h));
		if (h.size < sizeof(h) || h.size > len - off)
			return -EINVAL;
	}
	for (off = 0; off < len; off += h.size) {
		memcpy(&h, b + off, sizeof(h));
		queue_record(p, b + off);
	}
	apply_batch(p);
	return 0;
}

int procs__epoll_fd(struct procs *p)
{
	return p->pb ? perf_buffer__epoll_fd(p->pb) : -1;
}

struct procs *procs__new(bool track, int *ret_err)
{
	struct procs *p = calloc(1, sizeof(*p));
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_DUMMY,
		.sample_type = PERF_SAMPLE_TIME,
		.sample_id_all = 1,
		.mmap = 1,
		.mmap2 = 1,
		.comm = 1,
		.comm_exec = 1,
		.task = 1,
		/*
		 * Wake up on any data (wakeup_events counts only samples, which a dummy event has
		 * none of): a new process's unwind tables should load at once.
		 */
		.watermark = 1,
		.wakeup_watermark = 1,
		/* Record times comparable with clock_gettime(CLOCK_MONOTONIC). */
		.use_clockid = 1,
		.clockid = CLOCK_MONOTONIC,
	};
	const size_t pages = 64;
	int err = 0, ncpus;

	if (!p) {
		err = -ENOMEM;
		goto cleanup;
	}
	p->pb_map_fd = -1;
	if (!track)
		return p;
	/* Without it (ENOMEM) files are opened at symbolization time only. */
	p->keep = mapfiles__new(PROCS_KEEP_FILES);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		err = ncpus ? ncpus : -EINVAL;
		goto cleanup;
	}
	p->pb_map_fd = bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "flamed_mmaps", sizeof(int),
				      sizeof(int), ncpus, NULL);
	if (p->pb_map_fd < 0) {
		err = -errno;
		pr_err("cannot create the mapping-events map: %s", strerror(-err));
		goto cleanup;
	}
	p->pb = perf_buffer__new_raw(p->pb_map_fd, pages, &attr, on_record, p, NULL);
	if (!p->pb) {
		err = -errno;
		pr_err("cannot open mapping-event perf buffers: %s", strerror(-err));
		goto cleanup;
	}
	return p;
cleanup:
	procs__free(p);
	*ret_err = err;
	return NULL;
}

void procs__free(struct procs *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nr_buckets; i++) {
		struct proc *pr, *next;

		for (pr = p->buckets[i]; pr; pr = next) {
			next = pr->next;
			proc_free(p, pr);
		}
	}
	free(p->buckets);
	perf_buffer__free(p->pb);
	if (p->pb_map_fd >= 0)
		close(p->pb_map_fd);
	free(p->batch);
	free(p->recs);
	mapfiles__free(p->keep);
	free(p);
}

static const struct map_entry *maps_find(const struct map_entry *maps, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < maps[mid].start)
			hi = mid;
		else if (addr >= maps[mid].end)
			lo = mid + 1;
		else
			return &maps[mid];
	}
	return NULL;
}

const struct map_entry *procs__find(struct procs *p, uint32_t pid, uint64_t addr)
{
	struct proc *pr = proc_get(p, pid, false);

	return pr ? maps_find(pr->maps, pr->nr_maps, addr) : NULL;
}

bool procs__is_current(struct procs *p, uint32_t pid, const char *comm)
{
	struct proc *pr = proc_get(p, pid, false);

	return pr && (!pr->names[0][0] || !comm || !*comm || names_have(pr->names, comm));
}

const struct map_entry *procs__find_as(struct procs *p, uint32_t pid, const char *comm,
				       uint64_t addr)
{
	struct proc *pr = proc_get(p, pid, false);
	const struct map_entry *m;
	const struct image *im;
	bool by_exec;

	if (!pr)
		return NULL;
	if (!pr->names[0][0] || !comm || !*comm || names_have(pr->names, comm)) {
		m = maps_find(pr->maps, pr->nr_maps, addr);
		by_exec = pr->by_exec;
		im = pr->older;
	} else {
		for (im = pr->older; im && !names_have(im->names, comm); im = im->older)
			;
		if (!im)
			return NULL;
		m = maps_find(im->maps, im->nr_maps, addr);
		by_exec = im->by_exec;
		im = im->older;
	}
	/*
	 * Samples inside execve already carry the new name while user registers still point
	 * into the program being replaced.
	 */
	if (!m && by_exec && im)
		m = maps_find(im->maps, im->nr_maps, addr);
	return m;
}

bool procs__alive(struct procs *p, uint32_t pid)
{
	struct proc *pr = proc_get(p, pid, false);

	return pr && !pr->exited;
}

void procs__visit_dirty(struct procs *p, procs_visit_fn fn, void *ctx)
{
	size_t i;
	struct proc *pr;

	for (i = 0; i < p->nr_buckets; i++) {
		for (pr = p->buckets[i]; pr; pr = pr->next) {
			if (!pr->dirty)
				continue;
			pr->dirty = false;
			fn(ctx, pr->pid, pr->maps, pr->nr_maps, pr->exited);
		}
	}
}

/* True when /proc says the process is gone (not when /proc cannot be read). */
static bool proc_gone(uint32_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%u", pid);
	return access(path, F_OK) && errno == ENOENT;
}

void procs__gc(struct procs *p)
{
	size_t i;

	for (i = 0; i < p->nr_buckets; i++) {
		struct proc **pp = &p->buckets[i], *pr;

		while ((pr = *pp)) {
			if (pr->exited) {
				*pp = pr->next;
				proc_free(p, pr);
				p->nr_procs--;
			} else {
				/*
				 * Its exit record was lost (a full ring), or a late record
				 * brought it back after it was forgotten: gone from /proc, it
				 * is forgotten at the next call, after its last samples.
				 */
				if (p->pb && proc_gone(pr->pid)) {
					pr->exited = true;
					pr->dirty = true;
					p->st.reaped++;
				}
				images_free(pr->older);
				pr->older = NULL;
				pp = &pr->next;
			}
		}
	}
}

void procs__stats(const struct procs *p, struct procs_stats *st)
{
	*st = p->st;
	st->processes = p->nr_procs;
}

int procs__open_mapping(uint32_t pid, bool alive, const struct map_entry *m)
{
	char path[PATH_MAX + 64];
	struct stat sb;
	int fd = -1;

	if (alive) {
		snprintf(path, sizeof(path), "/proc/%u/map_files/%lx-%lx", pid,
			 (unsigned long)m->start, (unsigned long)m->end);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		/* Confined to the process's root: its symlinks cannot lead to our files. */
		if (fd < 0)
			fd = rootfs__open(pid, m->path);
	}
	/* The recorded path may now name a device (side effects on open): regular files only. */
	if (fd < 0)
		fd = rootfs__open(0, m->path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_ino != m->ino ||
	    major(sb.st_dev) != m->maj || minor(sb.st_dev) != m->min) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int procs__self_vdso(const void **base, size_t *len)
{
	static size_t size;
	unsigned long b = getauxval(AT_SYSINFO_EHDR);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if (!b)
		return -ENOENT;
	if (!size) {
		f = fopen("/proc/self/maps", "re");
		if (!f)
			return -errno;
		while ((n = getline(&line, &cap, f)) > 0) {
			struct map_entry m;
			size_t plen;

			if (maps__parse_line(line, n, &m, &plen) >= 0 && m.start == b) {
				size = m.end - m.start;
				break;
			}
		}
		free(line);
		fclose(f);
		if (!size)
			return -ENOENT;
	}
	*base = (const void *)b;
	*len = size;
	return 0;
}

int procs__open_file(struct procs *p, uint32_t pid, bool alive, const struct map_entry *m)
{
	int fd = mapfiles__open(p->keep, m);

	return fd >= 0 ? fd : procs__open_mapping(pid, alive, m);
}
