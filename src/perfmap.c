// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "perfmap.h"
#include "rootfs.h"
#include "util.h"

/* A JIT's map grows with every compiled function; past this it is not a map we want. */
#define PERFMAP_MAX_BYTES (512u << 20)

struct pmsym {
	uint64_t start, end;
	uint32_t name;	/* pool offset */
	uint32_t seq;	/* line number: later lines replace earlier ones */
};

struct perfmap {
	struct pmsym *syms;
	size_t nr, cap;
	char *pool;
	size_t pool_len, pool_cap;
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

static int add(struct perfmap *m, uint64_t start, uint64_t size, const char *name, size_t nlen)
{
	if (m->nr == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		struct pmsym *s = realloc(m->syms, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		m->syms = s;
		m->cap = cap;
	}
	if (m->pool_len + nlen + 1 > m->pool_cap) {
		size_t cap = m->pool_cap ? m->pool_cap * 2 : 65536;
		char *p;

		while (cap < m->pool_len + nlen + 1)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -E2BIG;
		p = realloc(m->pool, cap);
		if (!p)
			return -ENOMEM;
		m->pool = p;
		m->pool_cap = cap;
	}
	memcpy(m->pool + m->pool_len, name, nlen);
	m->pool[m->pool_len + nlen] = '\0';
	m->syms[m->nr] = (struct pmsym){ start, start + size, m->pool_len, m->nr };
	m->nr++;
	m->pool_len += nlen + 1;
	return 0;
}

static int pmsym_cmp(const void *a, const void *b)
{
	const struct pmsym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct perfmap *perfmap__parse(const char *buf, size_t len)
{
	struct perfmap *m = calloc(1, sizeof(*m));
	const char *p = buf, *end = buf + len;
	size_t i, j;

	if (!m)
		return NULL;
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p), *q = p;
		uint64_t start, size;
		size_t nlen;

		if (!eol)
			eol = end;
		if (parse_hex(&q, eol, &start) || q >= eol || *q != ' ')
			goto next;
		q++;
		if (parse_hex(&q, eol, &size) || q >= eol || *q != ' ' || !size ||
		    start + size < start)
			goto next;
		q++;
		nlen = eol - q;
		if (nlen && q[nlen - 1] == '\r')
			nlen--;
		if (!nlen || memchr(q, '\0', nlen))
			goto next;
		if (add(m, start, size, q, nlen)) {
			perfmap__free(m);
			return NULL;
		}
next:
		p = eol + 1;
	}
	/* qsort's pointer must not be NULL, even for no elements. */
	if (m->nr)
		qsort(m->syms, m->nr, sizeof(*m->syms), pmsym_cmp);
	/* Same start twice: the function was recompiled there; keep the latest. */
	for (i = 0, j = 0; i < m->nr; i++) {
		if (j && m->syms[j - 1].start == m->syms[i].start)
			j--;
		m->syms[j++] = m->syms[i];
	}
	m->nr = j;
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
	size_t lo = 0, hi = m->nr, i, n;
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
	return m->nr;
}

size_t perfmap__mem(const struct perfmap *m)
{
	return sizeof(*m) + m->cap * sizeof(*m->syms) + m->pool_cap;
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

struct perfmap *perfmap__load(uint32_t pid, bool alive, int *err)
{
	struct perfmap *m = NULL;
	char path[64], *buf = NULL;
	size_t len = 0, cap = 1 << 16;
	uint64_t start;
	struct stat sb;
	ssize_t n;
	int fd;

	if (alive) {
		snprintf(path, sizeof(path), "/tmp/perf-%u.map", perfmap__ns_pid(pid));
		fd = rootfs__open(pid, path);
	} else {
		snprintf(path, sizeof(path), "/tmp/perf-%u.map", pid);
		/* Anyone can plant a FIFO or a device link in /tmp: regular files only. */
		fd = rootfs__open(0, path);
	}
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	*err = -EINVAL;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > PERFMAP_MAX_BYTES)
		goto cleanup;
	/* Anyone can write /tmp: only the process's own user (or root) names its code. */
	if (alive && sb.st_uid && sb.st_uid != status_last(pid, "Uid", 1)) {
		*err = -EPERM;
		goto cleanup;
	}
	/* Last written before the process started: left by an earlier process with this pid. */
	if (alive && (start = start_time(pid)) && (uint64_t)sb.st_mtime + 1 < start) {
		*err = -ESTALE;
		goto cleanup;
	}
	*err = -ENOMEM;
	buf = malloc(cap);
	if (!buf)
		goto cleanup;
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += n;
		if (len == cap) {
			char *b;

			if (cap >= PERFMAP_MAX_BYTES)
				break;
			b = realloc(buf, cap * 2);
			if (!b)
				goto cleanup;
			buf = b;
			cap *= 2;
		}
	}
	m = perfmap__parse(buf, len);
	if (m)
		*err = 0;
cleanup:
	free(buf);
	close(fd);
	return m;
}
