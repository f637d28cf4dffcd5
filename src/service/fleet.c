// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "service/fleet.h"
#include "export/browse.h"
#include "export/httpd.h"
#include "base/evloop.h"
#include "base/log.h"
#include "render/pprof.h"
#include "sample/procs.h"
#include "aggregate/profile.h"
#include "aggregate/trim.h"
#include "export/push.h"
#include "service/session.h"
#include "aggregate/stacks.h"
#include "sample/cgpath.h"
#include "symbolize/symbolize.h"
#include "base/util.h"

/* At exit, how long pending windows may still try to leave. */
#define FLUSH_MS 5000

/* A /debug/pprof/profile in progress. */
struct capture {
	struct httpd_request *r;
	uint64_t start_mono, start_real, end_mono;
	struct stacks *acc;	/* what the capture has seen in closed windows */
	uint64_t *base;		/* counts of the live aggregate already accounted for */
	size_t base_n;
	struct capture *next;
};

struct fleet {
	char output_dir[PATH_MAX - 32];	/* room for "/latest.svg" */
	int mode;			/* enum profile_mode */
	uint32_t push_max_samples;
	unsigned int sample_labels;
	struct session *s;
	struct symbolizer *sym;
	struct push *push;
	struct httpd *httpd;
	struct browse *browse;	/* the --output-dir's history, for the page */
	struct evloop *loop;
	struct evloop_timer *tcap;	/* the next capture's end */
	struct capture *captures;
	int nr_captures;
	/* Counters of closed windows. */
	uint64_t windows, windows_written, samples;
	uint64_t lost[LOST_MAX];
	uint64_t push_failed_encode;
	uint64_t trimmed_windows, trimmed_stacks;	/* push-max-samples at work */
	uint64_t profiles_served, profiles_cancelled;
	uint64_t start_real;
};

static const char *const sample_label_names[] = { "process", "pid", "thread" };

int fleet__parse_sample_labels(const char *s, unsigned int *mask)
{
	unsigned int m = 0;
	const char *p = s;
	size_t i;

	if (!strcmp(s, "none")) {
		*mask = 0;
		return 0;
	}
	while (*p) {
		size_t n = strcspn(p, ",");

		for (i = 0; i < ARRAY_SIZE(sample_label_names); i++)
			if (strlen(sample_label_names[i]) == n && !memcmp(p, sample_label_names[i], n))
				break;
		if (i == ARRAY_SIZE(sample_label_names) || (m & (1u << i)))
			return -EINVAL;
		m |= 1u << i;
		p += n;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	if (!m)
		return -EINVAL;
	*mask = m;
	return 0;
}

void fleet__format_sample_labels(unsigned int mask, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(sample_label_names) && n < len; i++)
		if (mask & (1u << i))
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "", sample_label_names[i]);
	if (!n)
		snprintf(buf, len, "none");
}

static uint32_t copy_str(struct profile *q, const struct profile *p, uint32_t id)
{
	return id ? profile__intern(q, profile__str(p, id), profile__str_len(p, id)) : 0;
}

struct profile *fleet__push_profile(const struct profile *p, unsigned int mask)
{
	size_t nm = profile__nr_mappings(p), nf = profile__nr_frames(p), i, j;
	size_t na = profile__nr_attribs(p);
	uint32_t *mid = calloc(nm + 1, sizeof(*mid)), *fid = calloc(nf + 1, sizeof(*fid));
	uint32_t *aid = calloc(na + 1, sizeof(*aid));
	uint32_t *buf = NULL;
	size_t cap = 0;
	struct profile *q = profile__new();
	int err = -ENOMEM;

	if (!q || !mid || !fid || !aid)
		goto cleanup;
	*profile__meta(q) = *profile__meta_const(p);
	for (i = 1; i <= nm; i++) {
		struct profile_mapping m = *profile__mapping(p, i);

		m.file = copy_str(q, p, m.file);
		m.build_id = copy_str(q, p, m.build_id);
		mid[i] = profile__add_mapping(q, &m);
		if (!mid[i])
			goto cleanup;
	}
	for (i = 1; i <= nf; i++) {
		struct profile_frame f = *profile__frame(p, i);

		f.name = copy_str(q, p, f.name);
		f.func = copy_str(q, p, f.func);
		f.file = copy_str(q, p, f.file);
		f.mapping = f.mapping && f.mapping <= nm ? mid[f.mapping] : 0;
		fid[i] = profile__add_frame(q, &f);
		if (!fid[i])
			goto cleanup;
	}
	/* Whose the samples are (cgroup, unit, container, pod) stays: labels, OTLP resources. */
	for (i = 1; i <= na; i++) {
		struct profile_attrib a = *profile__attrib(p, i);

		a.cgroup = copy_str(q, p, a.cgroup);
		a.unit = copy_str(q, p, a.unit);
		a.container = copy_str(q, p, a.container);
		a.pod = copy_str(q, p, a.pod);
		aid[i] = profile__add_attrib(q, &a);
		if (!aid[i])
			goto cleanup;
	}
	for (i = 0; i < profile__nr_samples(p); i++) {
		const struct profile_sample *s = profile__sample(p, i);
		const uint32_t *fr = profile__sample_frames(p, s);
		bool root = !(mask & FLEET_LABEL_PROCESS) && s->comm;
		size_t n = 0;

		if (s->nframes + 1 > cap) {
			uint32_t *nb = realloc(buf, (s->nframes + 1) * sizeof(*nb));

			if (!nb)
				goto cleanup;
			buf = nb;
			cap = s->nframes + 1;
		}
		if (root) {
			struct profile_frame f = { .name = copy_str(q, p, s->comm), .kind = FRAME_USER };

			buf[n] = profile__add_frame(q, &f);
			if (!buf[n++])
				goto cleanup;
		}
		for (j = 0; j < s->nframes; j++)
			buf[n++] = fr[j] && fr[j] <= nf ? fid[fr[j]] : 0;
		if (profile__add_sample(q, buf, n, s->count, mask & FLEET_LABEL_PID ? s->pid : 0,
					mask & FLEET_LABEL_PROCESS ? copy_str(q, p, s->comm) : 0,
					mask & FLEET_LABEL_THREAD ? copy_str(q, p, s->thread) : 0))
			goto cleanup;
		profile__set_sample_attrib(q, profile__nr_samples(q) - 1,
					   s->attrib <= na ? aid[s->attrib] : 0);
	}
	err = 0;
cleanup:
	free(buf);
	free(mid);
	free(fid);
	free(aid);
	if (err) {
		profile__free(q);
		return NULL;
	}
	return q;
}

/* gzipped pprof of p in a malloc'd buffer. */
static int encode(const struct profile *p, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int err;

	if (!f)
		return -ENOMEM;
	err = pprof__write(p, f);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(*buf);
		*buf = NULL;
	}
	return err;
}

/* --- captures -------------------------------------------------------------------------------- */

static int snapshot(struct capture *c, const struct stacks *st)
{
	size_t n = stacks__nr_samples(st), i;
	uint64_t *b = realloc(c->base, (n ? n : 1) * sizeof(*b));

	if (!b)
		return -ENOMEM;
	c->base = b;
	for (i = 0; i < n; i++)
		b[i] = stacks__sample(st, i)->count;
	c->base_n = n;
	return 0;
}

/* Moves what the live aggregate gained since the snapshot into the capture's own. */
static void fold(struct capture *c, const struct stacks *st)
{
	size_t n = stacks__nr_samples(st), i;

	for (i = 0; i < n; i++) {
		const struct stacks_sample *s = stacks__sample(st, i);
		uint64_t before = i < c->base_n ? c->base[i] : 0;
		const uint64_t *u, *k;
		uint32_t nu, nk;

		if (s->count <= before)
			continue;
		u = stacks__raw(st, s->ustack, &nu);
		k = stacks__raw(st, s->kstack, &nk);
		/* Out of memory loses this capture's samples only; the window keeps them. */
		stacks__add_cgroup(c->acc, s->cgroup, s->tgid, s->comm, s->pcomm, u, nu, k, nk,
				   s->count - before);
	}
}

static void arm_captures(struct fleet *f)
{
	uint64_t first = UINT64_MAX, now = now_mono_ns();
	struct capture *c;

	for (c = f->captures; c; c = c->next)
		first = MIN(first, c->end_mono);
	evloop__timer_set(f->tcap, first == UINT64_MAX ? 0 : first > now ? first - now : 1, 0);
}

static void free_capture(struct capture *c)
{
	stacks__free(c->acc);
	free(c->base);
	free(c);
}

static int on_profile(void *ctx, struct httpd_request *r, uint32_t seconds)
{
	struct fleet *f = ctx;
	struct capture *c;
	int err;

	if (f->nr_captures >= FLEET_MAX_CAPTURES)
		return -EBUSY;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->acc = stacks__new();
	if (!c->acc) {
		free(c);
		return -ENOMEM;
	}
	/* Whatever was counted before this instant belongs to the baseline. */
	session__drain(f->s);
	err = snapshot(c, session__stacks(f->s));
	if (err) {
		free_capture(c);
		return err;
	}
	c->r = r;
	c->start_mono = now_mono_ns();
	c->start_real = now_real_ns();
	c->end_mono = c->start_mono + seconds * 1000000000ULL;
	c->next = f->captures;
	f->captures = c;
	f->nr_captures++;
	arm_captures(f);
	pr_info("httpd: %s profile of %u s started", profile_mode__name(f->mode),
		seconds);
	return 0;
}

static void finish_capture(struct fleet *f, struct capture *c)
{
	struct profile *p = profile__new();
	struct profile_meta *m;
	char *buf = NULL;
	size_t len = 0;
	int err = -ENOMEM;

	session__drain(f->s);
	fold(c, session__stacks(f->s));
	if (!p)
		goto cleanup;
	err = symbolizer__build_profile(f->sym, c->acc, p);
	session__profile_built(f->s);
	if (err)
		goto cleanup;
	m = profile__meta(p);
	/* The session's description (target, host, CPUs, unwinding), then the capture's span. */
	session__fill_target(f->s, m);
	m->start_ns = c->start_real;
	m->duration_ns = now_mono_ns() - c->start_mono;
	m->samples = profile__total(p);
	gethostname(m->host, sizeof(m->host) - 1);
	snprintf(m->mode, sizeof(m->mode), "system-wide");
	err = encode(p, &buf, &len);
cleanup:
	profile__free(p);
	if (err) {
		char *msg = NULL;
		int n = asprintf(&msg, "could not build the profile: %s\n", strerror(-err));

		httpd__answer(f->httpd, c->r, 500, "text/plain; charset=utf-8", n < 0 ? NULL : msg,
			      n < 0 ? 0 : n);
		pr_warn("httpd: CPU profile failed: %s", strerror(-err));
	} else {
		httpd__answer(f->httpd, c->r, 200, "application/octet-stream", buf, len);
		f->profiles_served++;
		pr_info("httpd: CPU profile served (%zu bytes)", len);
	}
}

static void on_history_done(void *ctx, void *req, unsigned int status, const char *type,
			    char *body, size_t len)
{
	struct fleet *f = ctx;

	httpd__answer(f->httpd, req, status, type, body, len);
}

static int on_history(void *ctx, struct httpd_request *r, const struct browse_query *q)
{
	struct fleet *f = ctx;

	return browse__start(f->browse, q, r);
}

/* Its client hung up: the capture ends unanswered, and its slot is free for the next one. */
static void on_cancel(void *ctx, struct httpd_request *r)
{
	struct fleet *f = ctx;
	struct capture **pp, *c;

	browse__cancel(f->browse, r);

	for (pp = &f->captures; (c = *pp); pp = &c->next) {
		if (c->r != r)
			continue;
		*pp = c->next;
		f->nr_captures--;
		f->profiles_cancelled++;
		free_capture(c);
		arm_captures(f);
		pr_info("httpd: CPU profile cancelled: its client hung up");
		return;
	}
}

static void on_capture_timer(void *ctx)
{
	struct fleet *f = ctx;
	struct capture **pp = &f->captures, *c;
	uint64_t now = now_mono_ns();

	while ((c = *pp)) {
		if (c->end_mono > now) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		f->nr_captures--;
		finish_capture(f, c);
		free_capture(c);
	}
	arm_captures(f);
}

/* --- the daemon's hooks ---------------------------------------------------------------------- */

/*
 * A window with more distinct rows than push-max-samples would be refused whole (Pyroscope:
 * HTTP 400, max_profile_stacktrace_samples): its lightest rows are folded into remainders
 * (aggregate/trim.h) in *out, or *out stays NULL when it fits. The window on disk is untouched.
 */
static int trim(struct fleet *f, const struct profile *p, struct profile **out)
{
	const struct profile_meta *m = profile__meta_const(p);
	struct profile_trim_stats ts;
	uint64_t total;
	int err;

	*out = NULL;
	if (!f->push_max_samples)
		return 0;
	err = profile__trim(p, f->push_max_samples, out, &ts);
	if (err || !*out)
		return err;
	total = profile__total(p);
	f->trimmed_windows++;
	f->trimmed_stacks += ts.folded;
	pr_notice("push: the window has %zu distinct stacks, over push-max-samples %u: the %zu "
		  "lightest (%llu %s, %.1f%%) are folded into %zu '[trimmed N stacks]' frame%s",
		  ts.rows, f->push_max_samples, ts.folded,
		  (unsigned long long)ts.folded_count,
		  m->profile_mode == PROFILE_CPU ? "samples" : "us",
		  total ? 100.0 * ts.folded_count / total : 0.0, ts.remainders,
		  ts.remainders == 1 ? "" : "s");
	return 0;
}

void fleet__window(struct fleet *f, const struct profile *p, bool written)
{
	struct stacks *st;
	struct capture *c;
	struct profile *q = NULL, *t = NULL;
	char *buf = NULL;
	size_t len = 0;
	int i, err = 0;

	if (!f)
		return;
	st = session__stacks(f->s);
	f->windows++;
	f->windows_written += written;
	f->samples += stacks__total(st);
	if (p)
		for (i = 0; i < LOST_MAX; i++)
			f->lost[i] += profile__meta_const(p)->lost[i];
	/* The aggregate is reset next: captures take what they have not seen yet. */
	for (c = f->captures; c; c = c->next) {
		fold(c, st);
		c->base_n = 0;
	}
	if (!f->push || !p)
		return;
	if (f->sample_labels != (FLEET_LABEL_PROCESS | FLEET_LABEL_PID | FLEET_LABEL_THREAD)) {
		q = fleet__push_profile(p, f->sample_labels);
		err = q ? 0 : -ENOMEM;
	}
	if (!err)
		err = trim(f, q ? q : p, &t);
	if (!err)
		err = encode(t ? t : q ? q : p, &buf, &len);
	if (!err) {
		const struct profile_meta *m = profile__meta_const(p);

		err = push__submit(f->push, buf, len, m->start_ns, m->start_ns + m->duration_ns,
				   m->profile_mode);
	}
	if (err) {
		f->push_failed_encode++;
		pr_err("push: cannot prepare the window's profile: %s; it is not pushed",
		       strerror(-err));
	}
	free(buf);
	profile__free(q);
	profile__free(t);
}

/* --- metrics --------------------------------------------------------------------------------- */

static void metric(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t rss_bytes(void)
{
	unsigned long long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%llu %llu", &size, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

int fleet__metrics(struct fleet *f, FILE *out)
{
	struct stacks *st = session__stacks(f->s);
	struct procs_stats ps;
	struct rusage ru;
	int i;

	metric(out, "flamed_samples_total", "counter",
	       "Samples drained from the kernel, the current window included.");
	fprintf(out, "flamed_samples_total %llu\n",
		(unsigned long long)(f->samples + stacks__total(st)));
	metric(out, "flamed_lost_samples_total", "counter",
	       "Samples lost or left incomplete in closed windows, by reason.");
	for (i = 0; i < LOST_MAX; i++)
		fprintf(out, "flamed_lost_samples_total{reason=\"%s\"} %llu\n", profile_lost_names[i],
			(unsigned long long)f->lost[i]);
	procs__stats(session__procs(f->s), &ps);
	metric(out, "flamed_processes_tracked", "gauge",
	       "Processes whose mappings flamed tracks now.");
	fprintf(out, "flamed_processes_tracked %llu\n", (unsigned long long)ps.processes);
	metric(out, "flamed_mapping_events_lost_total", "counter",
	       "Mapping events the kernel dropped (frames may be unnamed).");
	fprintf(out, "flamed_mapping_events_lost_total %llu\n",
		(unsigned long long)ps.records_lost);
	metric(out, "flamed_windows_total", "counter", "Windows closed.");
	fprintf(out, "flamed_windows_total %llu\n", (unsigned long long)f->windows);
	metric(out, "flamed_windows_written_total", "counter",
	       "Windows whose files were all written to the output directory.");
	fprintf(out, "flamed_windows_written_total %llu\n", (unsigned long long)f->windows_written);
	metric(out, "flamed_profiles_served_total", "counter",
	       "CPU profiles served on /debug/pprof/profile.");
	fprintf(out, "flamed_profiles_served_total %llu\n", (unsigned long long)f->profiles_served);
	metric(out, "flamed_profiles_in_progress", "gauge",
	       "CPU profiles of /debug/pprof/profile running now.");
	fprintf(out, "flamed_profiles_in_progress %d\n", f->nr_captures);
	metric(out, "flamed_profiles_cancelled_total", "counter",
	       "CPU profiles cancelled because their client hung up.");
	fprintf(out, "flamed_profiles_cancelled_total %llu\n",
		(unsigned long long)f->profiles_cancelled);
	if (f->httpd) {
		struct httpd_stats hs;

		httpd__stats(f->httpd, &hs);
		metric(out, "flamed_http_connections_closed_total", "counter",
		       "Connections the HTTP server closed before their request was answered, "
		       "by reason.");
		fprintf(out, "flamed_http_connections_closed_total{reason=\"request_timeout\"} %llu\n",
			(unsigned long long)hs.request_timeouts);
		fprintf(out, "flamed_http_connections_closed_total{reason=\"client_limit\"} %llu\n",
			(unsigned long long)hs.client_limit);
		fprintf(out, "flamed_http_connections_closed_total{reason=\"connection_limit\"} "
			"%llu\n", (unsigned long long)hs.connection_limit);
	}
	if (f->browse) {
		struct browse_stats bs;

		browse__stats(f->browse, &bs);
		metric(out, "flamed_history_requests_total", "counter",
		       "History page answers given (200), and of them from memory.");
		fprintf(out, "flamed_history_requests_total{from=\"child\"} %llu\n",
			(unsigned long long)(bs.served - bs.cached));
		fprintf(out, "flamed_history_requests_total{from=\"cache\"} %llu\n",
			(unsigned long long)bs.cached);
		metric(out, "flamed_history_children_killed_total", "counter",
		       "History merges stopped before their end, by reason.");
		fprintf(out, "flamed_history_children_killed_total{reason=\"hang_up\"} %llu\n",
			(unsigned long long)bs.hang_ups);
		fprintf(out, "flamed_history_children_killed_total{reason=\"timeout\"} %llu\n",
			(unsigned long long)bs.timeouts);
		metric(out, "flamed_history_children", "gauge", "History merges running now.");
		fprintf(out, "flamed_history_children %u\n", bs.running);
	}
	if (f->push) {
		struct push_stats ps;

		push__stats(f->push, &ps);
		metric(out, "flamed_push_windows_total", "counter", "Windows handed to push.");
		fprintf(out, "flamed_push_windows_total %llu\n", (unsigned long long)ps.windows);
		metric(out, "flamed_push_success_total", "counter", "Windows delivered.");
		fprintf(out, "flamed_push_success_total %llu\n", (unsigned long long)ps.success);
		metric(out, "flamed_push_failures_total", "counter",
		       "Push attempts that failed (each failed retry counts).");
		fprintf(out, "flamed_push_failures_total %llu\n", (unsigned long long)ps.failures);
		metric(out, "flamed_push_retries_total", "counter",
		       "Push attempts that were retries of a window.");
		fprintf(out, "flamed_push_retries_total %llu\n", (unsigned long long)ps.retries);
		metric(out, "flamed_push_rejected_total", "counter",
		       "Windows the backend refused for good (HTTP 4xx), dropped.");
		fprintf(out, "flamed_push_rejected_total %llu\n", (unsigned long long)ps.rejected);
		metric(out, "flamed_push_dropped_total", "counter",
		       "Windows dropped because the spool was over its bound.");
		fprintf(out, "flamed_push_dropped_total %llu\n", (unsigned long long)ps.dropped);
		metric(out, "flamed_push_sent_bytes_total", "counter",
		       "Request bodies of delivered windows, in bytes.");
		fprintf(out, "flamed_push_sent_bytes_total %llu\n",
			(unsigned long long)ps.sent_bytes);
		metric(out, "flamed_push_trimmed_windows_total", "counter",
		       "Windows over push-max-samples whose lightest stacks were folded into "
		       "'[trimmed N stacks]' frames.");
		fprintf(out, "flamed_push_trimmed_windows_total %llu\n",
			(unsigned long long)f->trimmed_windows);
		metric(out, "flamed_push_trimmed_stacks_total", "counter",
		       "Distinct stacks folded into '[trimmed N stacks]' frames.");
		fprintf(out, "flamed_push_trimmed_stacks_total %llu\n",
			(unsigned long long)f->trimmed_stacks);
		metric(out, "flamed_push_expired_total", "counter",
		       "Windows not sent because they started longer than push-max-age ago.");
		fprintf(out, "flamed_push_expired_total %llu\n", (unsigned long long)ps.expired);
		metric(out, "flamed_spool_bytes", "gauge", "Bytes of windows waiting to be pushed.");
		fprintf(out, "flamed_spool_bytes %llu\n", (unsigned long long)ps.spool_bytes);
		metric(out, "flamed_spool_windows", "gauge", "Windows waiting to be pushed.");
		fprintf(out, "flamed_spool_windows %llu\n", (unsigned long long)ps.spool_windows);
	}
	getrusage(RUSAGE_SELF, &ru);
	metric(out, "process_cpu_seconds_total", "counter",
	       "User and system CPU time spent by flamed, in seconds.");
	fprintf(out, "process_cpu_seconds_total %.6f\n",
		ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
			(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	metric(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	fprintf(out, "process_resident_memory_bytes %llu\n", (unsigned long long)rss_bytes());
	metric(out, "process_start_time_seconds", "gauge",
	       "Start time of the fleet modules since the Unix epoch, in seconds.");
	fprintf(out, "process_start_time_seconds %.3f\n", f->start_real / 1e9);
	return ferror(out) ? -EIO : 0;
}

static int on_metrics(void *ctx, FILE *out)
{
	return fleet__metrics(ctx, out);
}

static int on_latest_svg(void *ctx)
{
	struct fleet *f = ctx;
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/latest.svg", f->output_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

/* --- setup ----------------------------------------------------------------------------------- */

int fleet__set_output_dir(struct fleet *f, const char *dir)
{
	if (strlen(dir) >= sizeof(f->output_dir))
		return -ENAMETOOLONG;
	strcpy(f->output_dir, dir);
	return 0;
}

struct fleet *fleet__new(const struct fleet_opts *o, struct evloop *loop, struct session *s,
			 struct symbolizer *sym, int *err)
{
	struct fleet *f = calloc(1, sizeof(*f));

	*err = 0;
	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = fleet__set_output_dir(f, o->output_dir);
	if (*err)
		goto cleanup;
	f->mode = o->mode;
	f->push_max_samples = o->push_max_samples;
	f->sample_labels = o->sample_labels;
	f->s = s;
	f->sym = sym;
	f->start_real = now_real_ns();
	f->loop = loop;
	f->tcap = evloop__add_timer(loop, on_capture_timer, f);
	if (!f->tcap)
		goto cleanup;
	if (o->push.url[0]) {
		f->push = push__new(&o->push, loop, err);
		if (!f->push)
			goto cleanup;
	}
	if (o->listen[0]) {
		struct httpd_handlers h = {
			.ctx = f,
			.metrics = on_metrics,
			.latest_svg = on_latest_svg,
			.profile = on_profile,
			.cancel = on_cancel,
		};

		if (f->output_dir[0]) {
			f->browse = browse__new(f->output_dir, loop, on_history_done, f, err);
			if (!f->browse)
				goto cleanup;
			h.history = on_history;
		}
		f->httpd = httpd__new(o->listen, loop, &h, err);
		if (!f->httpd)
			goto cleanup;
	}
	return f;
cleanup:
	if (!*err)
		*err = -ENOMEM;
	fleet__free(f);
	return NULL;
}

void fleet__free(struct fleet *f)
{
	struct capture *c;

	if (!f)
		return;
	while ((c = f->captures)) {
		char *msg = strdup("flamed is stopping\n");

		f->captures = c->next;
		httpd__answer(f->httpd, c->r, 503, "text/plain; charset=utf-8", msg,
			      msg ? strlen(msg) : 0);
		free_capture(c);
	}
	/* Nothing but push runs while it flushes on the loop: not the server, not a capture. */
	browse__free(f->browse);
	httpd__free(f->httpd);
	evloop__del_timer(f->tcap);
	if (f->push)
		push__flush(f->push, FLUSH_MS);
	push__free(f->push);
	free(f);
}
