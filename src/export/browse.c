// SPDX-License-Identifier: GPL-2.0-only
/*
 * The --listen page's history work, done by child processes of the program's own file (see
 * browse.h for why and for the bounds).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/evloop.h"
#include "base/log.h"
#include "base/util.h"
#include "render/history.h"
#include "export/browse.h"

#define ERR_MAX 2048	/* of a child's standard error, the start is kept */

struct job {
	struct browse *b;
	void *req;
	enum browse_kind kind;
	uint64_t key, digest;
	pid_t pid;
	int pidfd, out, err;
	char *buf;	/* standard output */
	size_t len, cap;
	char ebuf[ERR_MAX];
	size_t elen;
	bool too_big;
	uint64_t deadline;
	uint64_t from_ms, to_ms;	/* a list's range */
	struct job *next;
};

struct centry {
	uint64_t key, digest, used;
	unsigned int status;
	const char *type;
	char *body;
	size_t len;
};

/* A window's count, learnt from a child's list; kept while the window is in the directory. */
struct known {
	uint64_t start_ms;
	long long count;	/* -1: null (SVG only, or unreadable) */
};

struct browse {
	char dir[4096];
	struct known *known;	/* sorted by start */
	size_t nr_known, cap_known;
	char mode[16];		/* of the windows, from the list */
	struct evloop *loop;
	browse_done_fn done;
	void *ctx;
	struct job *jobs;
	unsigned int nr_jobs;
	struct evloop_timer *timer;	/* the jobs' deadlines */
	struct browse_stats st;
	struct centry cache[BROWSE_CACHE_ENTRIES];
	size_t cache_bytes;
	uint64_t tick;
};

static const char *const kind_type[] = {
	[BROWSE_LIST] = "application/json",
	[BROWSE_GRAPH] = "image/svg+xml",
	[BROWSE_DIFF] = "image/svg+xml",
};

int browse__check_time(const char *s)
{
	size_t n = strnlen(s, BROWSE_TIME_MAX + 1);

	if (!n || n > BROWSE_TIME_MAX || (s[0] == '-' && n == 1))
		return -EINVAL;
	/* A leading '-' is a relative time for the child, never an option: it has a unit. */
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789TZ:.-hmsdnow", s[i]))
			return -EINVAL;
	return 0;
}

static uint64_t query_key(const struct browse_query *q)
{
	const char *f[4] = { q->from, q->to, q->vs_from, q->vs_to };
	uint64_t h = hash_bytes(&q->kind, sizeof(q->kind), 0x62726f);

	for (int i = 0; i < 4; i++)
		h = f[i] ? hash_bytes(f[i], strlen(f[i]), h + i + 1) : h * 31 + i;
	return h;
}

/* The directory's windows (starts and formats): any window written or pruned changes it. */
static uint64_t dir_digest(const struct browse *b)
{
	struct history_window *w = NULL;
	size_t n = 0;
	uint64_t h;

	if (history__scan(b->dir, &w, &n))
		return 0;
	/* Field by field: the struct's padding is not initialised. */
	h = n;
	for (size_t i = 0; i < n; i++)
		h = hash_bytes(&w[i].start_ms, sizeof(w[i].start_ms), h + w[i].formats);
	free(w);
	return h;
}

static struct centry *cache_find(struct browse *b, uint64_t key, uint64_t digest)
{
	for (int i = 0; i < BROWSE_CACHE_ENTRIES; i++) {
		struct centry *e = &b->cache[i];

		if (e->body && e->key == key && e->digest == digest)
			return e;
	}
	return NULL;
}

static void cache_drop(struct browse *b, struct centry *e)
{
	b->cache_bytes -= e->len;
	free(e->body);
	memset(e, 0, sizeof(*e));
}

/* Keeps a copy of a 200 answer, evicting the least recently used to fit. */
static void cache_put(struct browse *b, uint64_t key, uint64_t digest, const char *type,
		      const char *body, size_t len)
{
	struct centry *slot = NULL;

	if (!digest || len > BROWSE_CACHE_BYTES / 2)
		return;
	for (;;) {
		struct centry *lru = NULL;

		slot = NULL;
		for (int i = 0; i < BROWSE_CACHE_ENTRIES; i++) {
			struct centry *e = &b->cache[i];

			if (!e->body && !slot)
				slot = e;
			if (e->body && (!lru || e->used < lru->used))
				lru = e;
		}
		if (slot && b->cache_bytes + len <= BROWSE_CACHE_BYTES)
			break;
		if (!lru)
			return;
		cache_drop(b, lru);
	}
	slot->body = malloc(len ? len : 1);
	if (!slot->body)
		return;
	memcpy(slot->body, body, len);
	slot->len = len;
	slot->key = key;
	slot->digest = digest;
	slot->type = type;
	slot->status = 200;
	slot->used = ++b->tick;
	b->cache_bytes += len;
}

static void answer_text(struct browse *b, void *req, unsigned int status, const char *msg)
{
	char *body = strdup(msg);

	b->done(b->ctx, req, status, "text/plain; charset=utf-8", body, body ? strlen(body) : 0);
}

static void unlink_job(struct browse *b, struct job *j)
{
	struct job **pp;

	for (pp = &b->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			b->nr_jobs--;
			return;
		}
}

static void close_fd(struct browse *b, int *fd)
{
	if (*fd < 0)
		return;
	evloop__del_fd(b->loop, *fd);
	close(*fd);
	*fd = -1;
}

/* Ends a job: the child killed if still there and reaped, fds closed, j freed. */
static void end_job(struct browse *b, struct job *j)
{
	unlink_job(b, j);
	close_fd(b, &j->out);
	close_fd(b, &j->err);
	if (j->pid > 0) {
		if (j->pidfd >= 0)
			syscall(SYS_pidfd_send_signal, j->pidfd, SIGKILL, NULL, 0);
		else
			kill(j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
	}
	close_fd(b, &j->pidfd);
	free(j->buf);
	free(j);
}

static void arm_timer(struct browse *b)
{
	uint64_t now = now_mono_ns(), first = 0;

	for (struct job *j = b->jobs; j; j = j->next)
		if (!first || j->deadline < first)
			first = j->deadline;
	evloop__timer_set(b->timer, first ? (first > now ? first - now : 1) : 0, 0);
}

/* The index of the first known window starting at or after ms. */
static size_t known_pos(const struct browse *b, uint64_t ms)
{
	size_t lo = 0, hi = b->nr_known;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->known[mid].start_ms < ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct known *find_known(const struct browse *b, uint64_t ms)
{
	size_t i = known_pos(b, ms);

	return i < b->nr_known && b->known[i].start_ms == ms ? &b->known[i] : NULL;
}

/*
 * Learns the counts of a child's list (render_cmd.c's own format: one window a line, with
 * "start_ms": N and "count": N or null; the mode on the last line), in start order; lines
 * without those are ignored.
 */
static void learn(struct browse *b, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p), *a, *c, *m;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[512];
		unsigned long long ms, count;
		size_t lo;
		long long k;

		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1), p);
		p += n + 1;
		a = strstr(line, "\"start_ms\": ");
		c = strstr(line, "\"count\": ");
		m = strstr(line, "\"mode\": \"");
		if (m && sscanf(m + 9, "%15[a-z]", b->mode) != 1)
			b->mode[0] = '\0';
		if (!a || !c || sscanf(a + 12, "%llu", &ms) != 1)
			continue;
		k = sscanf(c + 9, "%llu", &count) == 1 && count <= INT64_MAX ? (long long)count : -1;
		lo = known_pos(b, ms);
		if (lo < b->nr_known && b->known[lo].start_ms == ms) {
			b->known[lo].count = k;
			continue;
		}
		if (grow_array((void **)&b->known, &b->cap_known, b->nr_known + 1,
			       sizeof(*b->known)))
			return;
		memmove(&b->known[lo + 1], &b->known[lo], (b->nr_known - lo) * sizeof(*b->known));
		b->known[lo].start_ms = ms;
		b->known[lo].count = k;
		b->nr_known++;
	}
}

/* Forgets windows no longer in the directory (pruned); w[0..n) sorted. */
static void forget_gone(struct browse *b, const struct history_window *w, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < b->nr_known; i++)
		if (history__lower_bound(w, n, b->known[i].start_ms) < n &&
		    w[history__lower_bound(w, n, b->known[i].start_ms)].start_ms ==
			    b->known[i].start_ms)
			b->known[k++] = b->known[i];
	b->nr_known = k;
}

/*
 * The list of w[lo..hi) as render DIR --list writes it, from the known counts; NULL when one
 * is not known yet and !any (*first_unknown: its index; with any, it is null) or out of memory
 * (*first_unknown == hi).
 */
static char *list_json(const struct browse *b, const struct history_window *w, size_t lo,
		       size_t hi, bool any, size_t *first_unknown, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	for (size_t i = lo; i < hi && !any; i++)
		if (!find_known(b, w[i].start_ms)) {
			*first_unknown = i;
			return NULL;
		}
	*first_unknown = hi;
	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fputs("{\"windows\": [", f);
	for (size_t i = lo; i < hi; i++) {
		const struct known *k = find_known(b, w[i].start_ms);

		history__json_window(f, &w[i], i == lo, k ? k->count : -1);
	}
	fprintf(f, "\n], \"mode\": \"%s\"}\n", b->mode);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	*ret_len = len;
	return buf;
}

static int start_child(struct browse *b, const struct browse_query *q, void *req,
		       uint64_t key, uint64_t digest, uint64_t from_ms, uint64_t to_ms);

/*
 * A list: answered from the known counts when every window of the range has one; else a
 * child lists the windows from the first unknown one on (new windows are the newest, so a
 * day's list is read once and then a window at a time), and the answer is made when it is done.
 */
static int start_list(struct browse *b, const struct browse_query *q, void *req,
		      uint64_t from_ms, uint64_t to_ms, bool learnt)
{
	struct history_window *w = NULL;
	size_t n = 0, lo, hi, first, len = 0;
	char *body, from[HISTORY_TIME_LEN];
	struct browse_query cq = *q;
	int err = history__scan(b->dir, &w, &n);

	if (err)
		return err;
	forget_gone(b, w, n);
	lo = history__lower_bound(w, n, from_ms);
	hi = history__lower_bound(w, n, to_ms);
	body = list_json(b, w, lo, hi, learnt, &first, &len);
	if (body || first == hi) {
		free(w);
		if (!body)
			return -ENOMEM;
		b->st.served++;
		b->st.cached += !learnt;
		b->done(b->ctx, req, 200, kind_type[BROWSE_LIST], body, len);
		return 0;
	}
	history__format_time(w[first].start_ms, from);
	free(w);
	cq.from = from;
	return start_child(b, &cq, req, 0, 0, from_ms, to_ms);
}

/* The child has exited and its pipes are read to the end: answer. */
static void finish(struct browse *b, struct job *j, bool ok)
{
	void *req = j->req;

	j->pid = 0;
	if (j->too_big) {
		end_job(b, j);
		answer_text(b, req, 500, "the answer is over the server's size limit\n");
	} else if (ok && j->kind == BROWSE_LIST) {
		struct browse_query q = { .kind = BROWSE_LIST };
		uint64_t from_ms = j->from_ms, to_ms = j->to_ms;
		int err;

		learn(b, j->buf, j->len);
		end_job(b, j);
		/* learnt: windows the child could not count are null, not asked again. */
		err = start_list(b, &q, req, from_ms, to_ms, true);
		if (err)
			answer_text(b, req, 500, "cannot list the windows\n");
	} else if (ok) {
		char *body = j->buf ? j->buf : strdup("");
		size_t len = j->len;
		const char *type = kind_type[j->kind];

		j->buf = NULL;
		cache_put(b, j->key, j->digest, type, body, len);
		end_job(b, j);
		b->st.served++;
		b->done(b->ctx, req, 200, type, body, len);
	} else {
		/* The child's own message ("flamed: error: ..."), without the program's prefix. */
		char *msg = j->ebuf, *p;

		j->ebuf[j->elen < ERR_MAX ? j->elen : ERR_MAX - 1] = '\0';
		if (!strncmp(msg, "flamed: error: ", 15))
			msg += 15;
		if ((p = strchr(msg, '\n')))
			p[1] = '\0';
		if (!*msg)
			msg = "the history could not be read\n";
		msg = strdup(msg);
		end_job(b, j);
		b->done(b->ctx, req, 400, "text/plain; charset=utf-8", msg, msg ? strlen(msg) : 0);
	}
	arm_timer(b);
}

static void try_finish(struct browse *b, struct job *j)
{
	siginfo_t si = { 0 };

	if (j->out >= 0 || j->err >= 0)
		return;
	if (waitid(P_PID, j->pid, &si, WEXITED | WNOHANG) || !si.si_pid)
		return;
	finish(b, j, si.si_code == CLD_EXITED && si.si_status == 0);
}

static struct job *job_of_fd(struct browse *b, int fd)
{
	for (struct job *j = b->jobs; j; j = j->next)
		if (j->out == fd || j->err == fd || j->pidfd == fd)
			return j;
	return NULL;
}

static void on_fd(void *ctx, int fd, uint32_t events)
{
	struct browse *b = ctx;
	struct job *j = job_of_fd(b, fd);
	char tmp[65536];
	ssize_t n;

	(void)events;
	if (!j)
		return;
	if (fd == j->pidfd) {
		evloop__del_fd(b->loop, fd);
		try_finish(b, j);
		return;
	}
	n = read(fd, tmp, sizeof(tmp));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_fd(b, fd == j->out ? &j->out : &j->err);
		try_finish(b, j);
		return;
	}
	if (fd == j->err) {
		size_t k = (size_t)n < ERR_MAX - j->elen ? (size_t)n : ERR_MAX - j->elen;

		memcpy(j->ebuf + j->elen, tmp, k);
		j->elen += k;
		return;
	}
	if (j->too_big || j->len + n > BROWSE_MAX_OUTPUT) {
		j->too_big = true;
		return;
	}
	if (grow_array((void **)&j->buf, &j->cap, j->len + n, 1)) {
		j->too_big = true;
		return;
	}
	memcpy(j->buf + j->len, tmp, n);
	j->len += n;
}

static void on_timer(void *ctx)
{
	struct browse *b = ctx;
	uint64_t now = now_mono_ns();
	struct job *j, *next;

	for (j = b->jobs; j; j = next) {
		next = j->next;
		if (j->deadline > now)
			continue;
		void *req = j->req;

		end_job(b, j);
		b->st.timeouts++;
		pr_warn("httpd: a history request ran past %d s and was stopped", BROWSE_TIMEOUT_S);
		answer_text(b, req, 503, "the history request took too long\n");
	}
	arm_timer(b);
}

struct browse *browse__new(const char *dir, struct evloop *loop, browse_done_fn done, void *ctx,
			   int *err)
{
	struct browse *b = calloc(1, sizeof(*b));

	*err = -ENOMEM;
	if (!b)
		return NULL;
	if (strlen(dir) >= sizeof(b->dir)) {
		*err = -ENAMETOOLONG;
		free(b);
		return NULL;
	}
	strcpy(b->dir, dir);
	b->loop = loop;
	b->done = done;
	b->ctx = ctx;
	b->timer = evloop__add_timer(loop, on_timer, b);
	if (!b->timer) {
		free(b);
		return NULL;
	}
	*err = 0;
	return b;
}

void browse__free(struct browse *b)
{
	if (!b)
		return;
	while (b->jobs)
		end_job(b, b->jobs);
	for (int i = 0; i < BROWSE_CACHE_ENTRIES; i++)
		free(b->cache[i].body);
	free(b->known);
	evloop__del_timer(b->timer);
	free(b);
}

static void add_opt(const char **argv, int *n, const char *opt, const char *v)
{
	if (!v)
		return;
	argv[(*n)++] = opt;
	argv[(*n)++] = v;
}

/* argv of the child: flamed render|diff DIR [--list] [--from A] [--to B] [--vs-from..] */
static void make_argv(const struct browse *b, const struct browse_query *q, const char **argv)
{
	int n = 0;

	argv[n++] = "flamed";
	argv[n++] = q->kind == BROWSE_DIFF ? "diff" : "render";
	argv[n++] = b->dir;
	if (q->kind == BROWSE_LIST)
		argv[n++] = "--list";
	else
		argv[n++] = "--format=svg";
	add_opt(argv, &n, "--from", q->from);
	add_opt(argv, &n, "--to", q->to);
	if (q->kind == BROWSE_DIFF) {
		add_opt(argv, &n, "--vs-from", q->vs_from);
		add_opt(argv, &n, "--vs-to", q->vs_to);
	}
	argv[n] = NULL;
}

static pid_t spawn(const char **argv, int out[2], int err[2], const sigset_t *blocked)
{
	pid_t pid;

	/* Only the daemon's ends are non-blocking: the child writes as any program does. */
	if (pipe2(out, O_CLOEXEC))
		return -errno;
	if (pipe2(err, O_CLOEXEC)) {
		int e = -errno;

		close(out[0]);
		close(out[1]);
		return e;
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		return e;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		sigprocmask(SIG_UNBLOCK, blocked, NULL);
		/* Below the daemon's own work (a unit's filter may refuse it: no matter). */
		setpriority(PRIO_PROCESS, 0, 10);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(127);
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	return pid;
}

int browse__start(struct browse *b, const struct browse_query *q, void *req)
{
	const char *times[4] = { q->from, q->to, q->vs_from, q->vs_to };
	uint64_t key = query_key(q), digest;
	struct centry *e;

	for (int i = 0; i < 4; i++)
		if (times[i] && browse__check_time(times[i]))
			return -EINVAL;
	if (q->kind == BROWSE_LIST) {
		uint64_t now = now_real_ns() / 1000000, from = 0, to = UINT64_MAX;

		if ((q->from && history__parse_time(q->from, strlen(q->from), now, &from)) ||
		    (q->to && history__parse_time(q->to, strlen(q->to), now, &to)))
			return -EINVAL;
		return start_list(b, q, req, from, to, false);
	}
	digest = dir_digest(b);
	e = cache_find(b, key, digest);
	if (e) {
		char *body = malloc(e->len ? e->len : 1);

		if (!body)
			return -ENOMEM;
		memcpy(body, e->body, e->len);
		e->used = ++b->tick;
		b->st.served++;
		b->st.cached++;
		b->done(b->ctx, req, e->status, e->type, body, e->len);
		return 0;
	}
	return start_child(b, q, req, key, digest, 0, 0);
}

/* The child for q; key and digest for the cache (0: not cached), a list's range. */
static int start_child(struct browse *b, const struct browse_query *q, void *req,
		       uint64_t key, uint64_t digest, uint64_t from_ms, uint64_t to_ms)
{
	const char *argv[16];
	int out[2], errp[2], ret;
	struct job *j;
	sigset_t blocked;

	if (b->nr_jobs >= BROWSE_MAX_JOBS)
		return -EBUSY;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->b = b;
	j->req = req;
	j->kind = q->kind;
	j->key = key;
	j->digest = digest;
	j->from_ms = from_ms;
	j->to_ms = to_ms;
	j->out = j->err = j->pidfd = -1;
	make_argv(b, q, argv);
	evloop__sigmask(b->loop, &blocked);
	j->pid = spawn(argv, out, errp, &blocked);
	if (j->pid < 0) {
		ret = j->pid;
		free(j);
		return ret;
	}
	j->out = out[0];
	j->err = errp[0];
	j->pidfd = syscall(SYS_pidfd_open, j->pid, 0);
	j->deadline = now_mono_ns() + BROWSE_TIMEOUT_S * 1000000000ULL;
	j->next = b->jobs;
	b->jobs = j;
	b->nr_jobs++;
	ret = j->pidfd < 0 ? -errno : 0;
	if (!ret)
		ret = evloop__add_fd(b->loop, j->pidfd, EPOLLIN, on_fd, b);
	if (!ret)
		ret = evloop__add_fd(b->loop, j->out, EPOLLIN, on_fd, b);
	if (!ret)
		ret = evloop__add_fd(b->loop, j->err, EPOLLIN, on_fd, b);
	if (ret) {
		end_job(b, j);
		return ret;
	}
	arm_timer(b);
	return 0;
}

void browse__cancel(struct browse *b, void *req)
{
	if (!b)
		return;
	for (struct job *j = b->jobs; j; j = j->next)
		if (j->req == req) {
			end_job(b, j);
			b->st.hang_ups++;
			arm_timer(b);
			return;
		}
}

void browse__stats(const struct browse *b, struct browse_stats *st)
{
	*st = b->st;
	st->running = b->nr_jobs;
}
