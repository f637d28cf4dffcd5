// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "symbolize/perfmap.h"
#include "base/rootfs.h"
#include "base/util.h"

/* Read size: a line longer than this (no JIT writes one) is dropped whole. */
#define READ_CHUNK (256u << 10)
/* Bytes before the read offset remembered, to notice a file rewritten in place. */
#define TAIL_LEN 32

struct pmsym {
	uint64_t start, end;
	uint32_t name;	/* pool offset */
	uint32_t seq;	/* line number: later lines replace earlier ones */
};

struct perfmap {
	struct perfmap_limits lim;
	struct pmsym *syms;
	size_t nr, cap;
	size_t sorted;		/* syms[0, sorted) are sorted, deduplicated and findable */
	char *pool;
	size_t pool_len, pool_cap;
	uint32_t seq;
	bool full;		/* a limit was hit: nothing more fits until the limits change */
	bool skipping;		/* inside an over-long line: bytes up to its '\n' are dropped */
	/* The file as last read: its identity, how far, and the bytes just before there. */
	uint64_t dev, ino, off;
	uint64_t pstart;	/* start time of the process it belongs to: a reused pid is another */
	unsigned char tail[TAIL_LEN];
	size_t tail_len;
	struct perfmap_stats st;
};

static int parse_hex(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int digits = 0;

	if (end - s > 2 && s[0] == '0' && (s[1] | 0x20) == 'x')
		s += 2;
	while (s < end) {
		int c = (unsigned char)*s, d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			break;
		if (++digits > 16)
			return -EINVAL;
		x = x << 4 | d;
		s++;
	}
	if (!digits)
		return -EINVAL;
	*v = x;
	*p = s;
	return 0;
}

static int pmsym_cmp(const void *a, const void *b)
{
	const struct pmsym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct perfmap *perfmap__new(const struct perfmap_limits *lim)
{
	struct perfmap *m = calloc(1, sizeof(*m));

	if (m && lim)
		m->lim = *lim;
	return m;
}

void perfmap__set_limits(struct perfmap *m, const struct perfmap_limits *lim)
{
	m->lim = *lim;
	m->full = false;
}

void perfmap__commit(struct perfmap *m)
{
	size_t k = m->nr - m->sorted, i, j;
	struct pmsym *tmp;

	if (!k)
		return;
	/* The new lines are sorted alone and merged in: O(n) per read, not O(n log n). */
	qsort(m->syms + m->sorted, k, sizeof(*m->syms), pmsym_cmp);
	tmp = m->sorted ? malloc(k * sizeof(*tmp)) : NULL;
	if (tmp) {
		size_t a = m->sorted, b = k, o = m->nr;

		memcpy(tmp, m->syms + m->sorted, k * sizeof(*tmp));
		/* From the back: ties keep the older line first, as the sort by seq would. */
		while (b > 0) {
			if (a > 0 && pmsym_cmp(&m->syms[a - 1], &tmp[b - 1]) > 0)
				m->syms[--o] = m->syms[--a];
			else
				m->syms[--o] = tmp[--b];
		}
		free(tmp);
	} else if (m->sorted) {
		qsort(m->syms, m->nr, sizeof(*m->syms), pmsym_cmp);
	}
	/* Same start twice: the function was recompiled there; keep the latest. */
	for (i = 0, j = 0; i < m->nr; i++) {
		if (j && m->syms[j - 1].start == m->syms[i].start)
			j--;
		m->syms[j++] = m->syms[i];
	}
	m->nr = m->sorted = j;
}

static bool fits(const struct perfmap *m, size_t cap, size_t pool_cap)
{
	return !m->lim.max_bytes || cap * sizeof(*m->syms) + pool_cap <= m->lim.max_bytes;
}

/* Rewrites the pool with the names of live entries only: replaced functions leave garbage. */
static bool compact(struct perfmap *m, size_t need)
{
	size_t live = 0, i, len;
	char *pool;

	perfmap__commit(m);
	for (i = 0; i < m->nr; i++)
		live += strlen(m->pool + m->syms[i].name) + 1;
	/* Worth it only when it frees half: else a full map would rescan on every line. */
	if (live + need > m->pool_cap || live * 2 > m->pool_len)
		return false;
	pool = malloc(m->pool_cap);
	if (!pool)
		return false;
	for (i = 0, len = 0; i < m->nr; i++) {
		size_t n = strlen(m->pool + m->syms[i].name) + 1;

		memcpy(pool + len, m->pool + m->syms[i].name, n);
		m->syms[i].name = len;
		len += n;
	}
	free(m->pool);
	m->pool = pool;
	m->pool_len = len;
	return true;
}

static int grow_syms(struct perfmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	struct pmsym *s;

	if (m->lim.max_entries && m->nr >= m->lim.max_entries) {
		/* Lines that replace others free their slots once merged. */
		perfmap__commit(m);
		if (m->nr >= m->lim.max_entries)
			return -E2BIG;
		if (m->nr < m->cap)
			return 0;
	}
	if (m->lim.max_entries)
		cap = MIN(cap, m->lim.max_entries);
	while (cap > m->nr && !fits(m, cap, m->pool_cap))
		cap = m->nr + (cap - m->nr) / 2;
	if (cap <= m->nr) {
		perfmap__commit(m);
		return m->nr < m->cap ? 0 : -E2BIG;
	}
	s = realloc(m->syms, cap * sizeof(*s));
	if (!s)
		return -ENOMEM;
	m->syms = s;
	m->cap = cap;
	return 0;
}

static int grow_pool(struct perfmap *m, size_t nlen)
{
	size_t need = m->pool_len + nlen + 1, cap = m->pool_cap ? m->pool_cap * 2 : 65536;
	char *p;

	while (cap < need)
		cap *= 2;
	cap = MIN(cap, (size_t)UINT32_MAX);
	if (!fits(m, m->cap, cap) && m->lim.max_bytes > m->cap * sizeof(*m->syms))
		cap = m->lim.max_bytes - m->cap * sizeof(*m->syms);
	if (cap < need || !fits(m, m->cap, cap))
		return compact(m, nlen + 1) ? 0 : -E2BIG;
	p = realloc(m->pool, cap);
	if (!p)
		return -ENOMEM;
	m->pool = p;
	m->pool_cap = cap;
	return 0;
}

static int add(struct perfmap *m, uint64_t start, uint64_t size, const char *name, size_t nlen)
{
	int err;

	if (m->full || m->seq == UINT32_MAX)
		return -E2BIG;
	/*
	 * The same start as the line before: a replacement, done in place (its name too when it
	 * is the pool's last), so a map that names one address over and over costs no memory.
	 */
	if (m->nr > m->sorted && m->syms[m->nr - 1].start == start) {
		struct pmsym *last = &m->syms[m->nr - 1];
		size_t old = strlen(m->pool + last->name) + 1;

		if (last->name + old == m->pool_len && last->name + nlen + 1 <= m->pool_cap) {
			memcpy(m->pool + last->name, name, nlen);
			m->pool[last->name + nlen] = '\0';
			m->pool_len = last->name + nlen + 1;
			last->end = start + size;
			last->seq = m->seq++;
			return 0;
		}
	}
	if (m->nr == m->cap || (m->lim.max_entries && m->nr >= m->lim.max_entries)) {
		err = grow_syms(m);
		if (err)
			return err;
	}
	if (m->pool_len + nlen + 1 > m->pool_cap) {
		err = grow_pool(m, nlen);
		if (err)
			return err;
	}
	memcpy(m->pool + m->pool_len, name, nlen);
	m->pool[m->pool_len + nlen] = '\0';
	m->syms[m->nr++] = (struct pmsym){ start, start + size, m->pool_len, m->seq++ };
	m->pool_len += nlen + 1;
	return 0;
}

/* One line without its '\n': "START SIZE name". Malformed lines are skipped. */
static void parse_line(struct perfmap *m, const char *p, const char *eol)
{
	const char *q = p;
	uint64_t start, size;
	size_t nlen;

	if (parse_hex(&q, eol, &start) || q >= eol || *q != ' ')
		return;
	q++;
	if (parse_hex(&q, eol, &size) || q >= eol || *q != ' ' || !size || start + size < start)
		return;
	q++;
	nlen = eol - q;
	if (nlen && q[nlen - 1] == '\r')
		nlen--;
	if (!nlen || memchr(q, '\0', nlen))
		return;
	if (add(m, start, size, q, nlen)) {
		/* Counted rather than retried line by line: a full map stays full this read. */
		m->full = true;
		m->st.dropped++;
	}
}

size_t perfmap__feed(struct perfmap *m, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *eol;

	if (m->skipping) {
		eol = memchr(p, '\n', len);
		if (!eol)
			return len;
		m->skipping = false;
		p = eol + 1;
	}
	while (p < end && (eol = memchr(p, '\n', end - p))) {
		if (m->full)
			m->st.dropped++;
		else
			parse_line(m, p, eol);
		p = eol + 1;
	}
	return p - buf;
}

struct perfmap *perfmap__parse(const char *buf, size_t len)
{
	struct perfmap *m = perfmap__new(NULL);
	size_t used;

	if (!m)
		return NULL;
	used = perfmap__feed(m, buf, len);
	/* The whole text is here: its last line is complete without a '\n'. */
	if (used < len)
		parse_line(m, buf + used, buf + len);
	if (m->full) {
		perfmap__free(m);
		return NULL;
	}
	perfmap__commit(m);
	return m;
}

void perfmap__free(struct perfmap *m)
{
	if (!m)
		return;
	free(m->syms);
	free(m->pool);
	free(m);
}

const char *perfmap__find(const struct perfmap *m, uint64_t addr)
{
	size_t lo = 0, hi = m->sorted, i, n;
	const struct pmsym *best = NULL;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Entries may overlap (code moved and reused): the most recent one holding addr wins. */
	for (i = lo, n = 0; i-- > 0 && n < 16; n++) {
		const struct pmsym *s = &m->syms[i];

		if (addr < s->end && (!best || s->seq > best->seq))
			best = s;
	}
	return best ? m->pool + best->name : NULL;
}

size_t perfmap__count(const struct perfmap *m)
{
	return m->sorted;
}

size_t perfmap__mem(const struct perfmap *m)
{
	return sizeof(*m) + m->cap * sizeof(*m->syms) + m->pool_cap;
}

void perfmap__stats(const struct perfmap *m, struct perfmap_stats *st)
{
	*st = m->st;
}

/* Reads "Key:\tv1\tv2..." from /proc/PID/status: the last value of key, or 0. */
static uint64_t status_last(uint32_t pid, const char *key, int field)
{
	char path[64], *line = NULL;
	size_t cap = 0, klen = strlen(key);
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		char *tok, *save = NULL;
		int i = 0;

		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		for (tok = strtok_r(line + klen + 1, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save), i++) {
			if (field < 0 || i == field)
				v = strtoull(tok, NULL, 10);
		}
		break;
	}
	free(line);
	fclose(f);
	return v;
}

uint32_t perfmap__ns_pid(uint32_t pid)
{
	uint64_t v = status_last(pid, "NSpid", -1);

	return v && v <= UINT32_MAX ? v : pid;
}

/* Wall-clock second process pid started at, 0 when unknown. */
static uint64_t start_time(uint32_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks = 0, btime = 0;
	long hz = sysconf(_SC_CLK_TCK);
	ssize_t n;
	FILE *f;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || hz <= 0)
		return 0;
	buf[n] = '\0';
	/* The name may hold spaces and parentheses: fields count from the last ')'. */
	p = strrchr(buf, ')');
	for (i = 2; p && i < 22; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
		return 0;
	f = fopen("/proc/stat", "re");
	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "btime %llu", &btime) == 1)
			break;
	if (f)
		fclose(f);
	return btime ? btime + ticks / hz : 0;
}

/* Empties the map: its file is another one now, or no longer the process's. */
static void reset(struct perfmap *m)
{
	free(m->syms);
	free(m->pool);
	m->syms = NULL;
	m->pool = NULL;
	m->nr = m->cap = m->sorted = m->pool_len = m->pool_cap = 0;
	m->seq = 0;
	m->full = m->skipping = false;
	m->dev = m->ino = m->off = m->pstart = 0;
	m->tail_len = 0;
}

/* Whether fd is still the file read up to m->off: same inode, no shorter, same bytes there. */
static bool same_file(const struct perfmap *m, int fd, const struct stat *sb)
{
	unsigned char tail[TAIL_LEN];

	if (sb->st_dev != m->dev || sb->st_ino != m->ino || (uint64_t)sb->st_size < m->off)
		return false;
	return !m->tail_len ||
	       (pread(fd, tail, m->tail_len, m->off - m->tail_len) == (ssize_t)m->tail_len &&
		!memcmp(tail, m->tail, m->tail_len));
}

/* Opens and vets the map: a regular file, not a symlink, the process's own and fresh. */
static int open_map(uint32_t pid, bool alive, struct stat *sb, uint64_t *pstart)
{
	char path[64];
	uint64_t start = alive ? start_time(pid) : 0;
	int fd;

	*pstart = start;
	/*
	 * Anyone can plant a FIFO, a device or a symlink in /tmp: regular files only, and no
	 * symlink as the last component, so a user cannot have flamed read a file only root can
	 * (the owner check below would see the target's owner).
	 */
	snprintf(path, sizeof(path), "/tmp/perf-%u.map", alive ? perfmap__ns_pid(pid) : pid);
	fd = rootfs__open_nofollow(alive ? pid : 0, path);
	if (fd < 0)
		return fd == -ELOOP ? -EINVAL : fd;
	if (fstat(fd, sb) || !S_ISREG(sb->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	/*
	 * Anyone can write /tmp: only the process's own user names its code. A file of another
	 * user, root included, is not the process's (root's file for a root process is).
	 */
	if (alive && sb->st_uid != status_last(pid, "Uid", 1)) {
		close(fd);
		return -EPERM;
	}
	/* Last written before the process started: left by an earlier process with this pid. */
	if (start && (uint64_t)sb->st_mtime + 1 < start) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

static bool out_of_time(struct perfmap_budget *b, uint64_t since)
{
	if (!b)
		return false;
	if (!b->exhausted && now_mono_ns() - since < b->left_ns)
		return false;
	b->exhausted = true;
	return true;
}

int perfmap__update(struct perfmap *m, uint32_t pid, bool alive, struct perfmap_budget *budget)
{
	uint64_t t0 = now_mono_ns(), pstart, spent;
	struct stat sb;
	char *buf = NULL;
	ssize_t n;
	size_t used;
	int fd, err = 0;

	fd = open_map(pid, alive, &sb, &pstart);
	if (fd < 0) {
		reset(m);
		return fd;
	}
	if (!same_file(m, fd, &sb) || (pstart && m->pstart && pstart != m->pstart)) {
		/* Shrunk, replaced or rewritten: what we hold may name other code now. */
		if (m->off)
			m->st.resets++;
		reset(m);
		m->dev = sb.st_dev;
		m->ino = sb.st_ino;
	}
	if (pstart)
		m->pstart = pstart;
	/*
	 * To the end as it was when opened: what a writer appends meanwhile is read next time,
	 * so a map that grows as fast as it is read cannot keep us here.
	 */
	while ((uint64_t)sb.st_size > m->off) {
		if (out_of_time(budget, t0)) {
			err = 1;
			break;
		}
		if (!buf) {
			buf = malloc(READ_CHUNK);
			if (!buf) {
				err = -ENOMEM;
				break;
			}
		}
		n = pread(fd, buf, READ_CHUNK, m->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (!n)
			break;
		used = perfmap__feed(m, buf, n);
		if (!used) {
			/* A line still being written: wait for its end, unless it cannot fit. */
			if ((size_t)n < READ_CHUNK)
				break;
			m->skipping = true;
			m->st.dropped++;
			used = n;
		}
		m->off += used;
		m->st.bytes_read += used;
	}
	free(buf);
	m->tail_len = MIN(m->off, (uint64_t)TAIL_LEN);
	if (m->tail_len &&
	    pread(fd, m->tail, m->tail_len, m->off - m->tail_len) != (ssize_t)m->tail_len)
		m->tail_len = 0;
	close(fd);
	perfmap__commit(m);
	if (budget) {
		spent = now_mono_ns() - t0;
		budget->left_ns = spent < budget->left_ns ? budget->left_ns - spent : 0;
	}
	return err;
}

struct perfmap *perfmap__load(uint32_t pid, bool alive, int *err)
{
	struct perfmap *m = perfmap__new(NULL);

	if (!m) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = perfmap__update(m, pid, alive, NULL);
	if (*err) {
		perfmap__free(m);
		return NULL;
	}
	return m;
}
