// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "base/evloop.h"
#include "service/config.h"
#include "service/daemon.h"
#include "service/fleet.h"
#include "base/log.h"
#include "service/notify.h"
#include "service/privs.h"
#include "sample/procs.h"
#include "aggregate/profile.h"
#include "render/render.h"
#include "service/session.h"
#include "aggregate/stacks.h"
#include "render/svg.h"
#include "symbolize/symbolize.h"
#include "base/util.h"

#define NSEC 1000000000ULL

/* Formats in the order they are written. */
static const enum output_format all_formats[] = { FMT_SVG, FMT_FOLDED, FMT_PPROF };

struct daemon {
	const struct daemon_opts *o;
	struct config cfg;
	struct config_opts opts;	/* the session's and the symbolizer's, from cfg */
	struct session *s;
	struct symbolizer *sym;
	struct evloop *loop;
	struct evloop_timer *twin, *twd;
	bool stopping;			/* the last window is written: push may still flush */
	uint64_t win_start_mono, win_start_real;
	uint64_t windows;		/* windows closed */
	uint64_t windows_unwritten;	/* in the current run of failures */
	uint64_t last_stem_ms;		/* the time the last window's name says, in ms */
	double rate;			/* samples per second in the last window */
	struct fleet *fleet;		/* push and HTTP server (fleet.h) */
	/*
	 * The last window's profile, freed only once the next one exists: the symbolizer keeps
	 * string ids for the profile it last filled, recognised by its address, which a new
	 * profile must therefore not share.
	 */
	struct profile *prev;
};

const char *daemon__ext(enum output_format f)
{
	switch (f) {
	case FMT_SVG:
		return "svg";
	case FMT_FOLDED:
		return "folded";
	case FMT_PPROF:
		return "pb.gz";
	default:
		return "";
	}
}

void daemon__window_stem(uint64_t real_ns, char stem[WINDOW_STEM_LEN])
{
	time_t t = real_ns / NSEC;
	struct tm tm;
	char buf[20];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y%m%dT%H%M%S", &tm);
	snprintf(stem, WINDOW_STEM_LEN, "flamed-%.15s.%03uZ", buf,
		 (unsigned int)(real_ns % NSEC / 1000000));
}

bool daemon__parse_window_file(const char *name, char stem[WINDOW_STEM_LEN],
			       enum output_format *fmt)
{
	/* flamed-YYYYMMDDTHHMMSS.mmmZ.ext */
	static const char pattern[] = "flamed-########T######.###Z.";
	size_t i;

	for (i = 0; i < sizeof(pattern) - 1; i++) {
		char p = pattern[i], c = name[i];

		if (p == '#' ? (c < '0' || c > '9') : c != p)
			return false;
	}
	for (i = 0; i < ARRAY_SIZE(all_formats); i++) {
		if (!strcmp(name + sizeof(pattern) - 1, daemon__ext(all_formats[i]))) {
			memcpy(stem, name, WINDOW_STEM_LEN - 1);
			stem[WINDOW_STEM_LEN - 1] = '\0';
			*fmt = all_formats[i];
			return true;
		}
	}
	return false;
}

size_t daemon__prune_count(const uint64_t *bytes, size_t n, uint32_t keep, uint64_t max_bytes)
{
	uint64_t total = 0;
	size_t i, del = 0;

	if (n <= 1)
		return 0;
	if (keep && n > keep)
		del = n - keep;
	if (max_bytes) {
		for (i = del; i < n; i++)
			total += bytes[i];
		while (del < n - 1 && total > max_bytes)
			total -= bytes[del++];
	}
	return MIN(del, n - 1);
}

/* "2025-01-02T03:04:05.678Z" */
static void format_time(uint64_t real_ns, char *buf, size_t len)
{
	time_t t = real_ns / NSEC;
	struct tm tm;
	char s[20];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%.19s.%03uZ", s, (unsigned int)(real_ns % NSEC / 1000000));
}

static void apply_log_level(const struct daemon *d)
{
	static const int levels[] = { LOG_NOTICE, LOG_INFO, LOG_DEBUG };
	int v = d->cfg.verbose;

	log_max_level = MAX(d->o->log_level, levels[v < 0 ? 0 : v > 2 ? 2 : v]);
}

/*
 * The output directory must exist (its last component is created) and be a directory. A
 * directory we may not write to is a configuration error; a read-only or full filesystem is
 * not: it may come back, and profiling goes on meanwhile.
 */
static int check_dir(const char *dir, char *msg)
{
	struct stat st;

	if (mkdir(dir, 0750) && errno != EEXIST) {
		snprintf(msg, CONFIG_MSG_LEN, "cannot create the output directory %.300s: %s", dir,
			 strerror(errno));
		return -errno;
	}
	if (stat(dir, &st)) {
		snprintf(msg, CONFIG_MSG_LEN, "cannot use the output directory %.300s: %s", dir,
			 strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(msg, CONFIG_MSG_LEN, "output-dir %.300s is not a directory", dir);
		return -ENOTDIR;
	}
	/*
	 * Others who may write here could remove, rename or replace the windows and latest
	 * links, unless the directory is sticky (as /tmp): then they may only add names, which
	 * retention ignores (it only touches files flamed owns).
	 */
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		snprintf(msg, CONFIG_MSG_LEN, "output-dir %.300s is writable by %s (mode %04o, gid "
			 "%u) and not sticky: other users could remove or replace its windows; use a "
			 "directory only flamed writes (chmod go-w), or make it sticky (chmod +t)",
			 dir, st.st_mode & S_IWOTH ? "every user" : "its group",
			 (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_gid);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		pr_notice("output-dir %s is shared (writable by others, sticky): their files there "
			  "are left alone; window names they take cannot be written", dir);
	/* With our effective ids and capabilities, as the writes will be made. */
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) && errno != EROFS) {
		snprintf(msg, CONFIG_MSG_LEN, "cannot write to the output directory %.300s: %s",
			 dir, strerror(errno));
		return -errno;
	}
	return 0;
}

int daemon__load_config(const struct daemon_opts *o, struct config *c, char *msg)
{
	int err;

	err = config__resolve(c, o->config_path, o->args, CONFIG_CONTINUOUS, msg);
	if (err)
		return err;
	if (!c->output_dir[0]) {
		snprintf(msg, CONFIG_MSG_LEN, "no output directory: give --output-dir DIR%s",
			 o->config_path ? " or set output-dir in the config file" : "");
		return -EINVAL;
	}
	return check_dir(c->output_dir, msg);
}

/*
 * Whether the entry name in the directory dfd is something flamed wrote: a regular file (or,
 * with link, a symlink) owned by our effective uid, which in a shared (sticky) directory no
 * other user can create, rename or replace. Anything else is left alone: in a shared output
 * directory, files named like windows may be anyone's.
 */
static bool ours(int dfd, const char *name, bool link, struct stat *st)
{
	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW))
		return false;
	if (!(S_ISREG(st->st_mode) || (link && S_ISLNK(st->st_mode))))
		return false;
	return st->st_uid == geteuid();
}

/* Leftovers of a run killed while writing: our hidden temp files, nothing else. */
static void remove_temp_files(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char stem[WINDOW_STEM_LEN];
	enum output_format f;
	struct stat st;

	if (!dp)
		return;
	while ((de = readdir(dp))) {
		const char *n = de->d_name;
		char target[64];

		if (n[0] != '.' || !ours(dirfd(dp), n, true, &st))
			continue;
		if (!strncmp(n, ".latest.", 8) && strlen(n) > 12 &&
		    !strcmp(n + strlen(n) - 4, ".tmp")) {
			unlinkat(dirfd(dp), n, 0);
			continue;
		}
		if (output__temp_target(n, target, sizeof(target)) &&
		    daemon__parse_window_file(target, stem, &f)) {
			pr_info("removing %s/%s, left by an interrupted run", dir, n);
			unlinkat(dirfd(dp), n, 0);
		}
	}
	closedir(dp);
}

struct window_entry {
	char stem[WINDOW_STEM_LEN];
	uint64_t bytes;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct window_entry *)a)->stem,
		      ((const struct window_entry *)b)->stem);
}

/*
 * Deletes the oldest windows beyond the limits, then "latest" links left dangling. Only
 * windows flamed wrote count (ours(): this run's or an earlier one's), and none named after
 * the newest this run wrote (or now, before the first): a window "from the future" is not one
 * flamed recorded, and counted as the newest it would push every real window out.
 */
static void prune(struct daemon *d)
{
	const struct config *c = &d->cfg;
	struct window_entry *e = NULL, *ne;
	uint64_t *bytes = NULL;
	size_t n = 0, cap = 0, i, j, del;
	DIR *dp = opendir(c->output_dir);
	struct dirent *de;
	char stem[WINDOW_STEM_LEN], newest[WINDOW_STEM_LEN];
	enum output_format f;
	struct stat st;

	if (!dp)
		return;
	daemon__window_stem(MAX(d->last_stem_ms, now_real_ns() / 1000000) * 1000000, newest);
	while ((de = readdir(dp))) {
		if (!daemon__parse_window_file(de->d_name, stem, &f))
			continue;
		if (!ours(dirfd(dp), de->d_name, false, &st) || strcmp(stem, newest) > 0)
			continue;
		for (i = 0; i < n && strcmp(e[i].stem, stem); i++)
			;
		if (i == n) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				ne = realloc(e, cap * sizeof(*e));
				if (!ne)
					goto cleanup;
				e = ne;
			}
			memcpy(e[n].stem, stem, sizeof(stem));
			e[n].bytes = 0;
			n++;
		}
		e[i].bytes += st.st_size;
	}
	if (n)
		qsort(e, n, sizeof(*e), cmp_entry);
	bytes = malloc((n ? n : 1) * sizeof(*bytes));
	if (!bytes)
		goto cleanup;
	for (i = 0; i < n; i++)
		bytes[i] = e[i].bytes;
	del = daemon__prune_count(bytes, n, c->keep, c->max_bytes);
	for (i = 0; i < del; i++) {
		for (j = 0; j < ARRAY_SIZE(all_formats); j++) {
			char name[WINDOW_STEM_LEN + 16];

			snprintf(name, sizeof(name), "%s.%s", e[i].stem,
				 daemon__ext(all_formats[j]));
			if (unlinkat(dirfd(dp), name, 0) && errno != ENOENT)
				pr_debug("cannot remove %s/%s: %s", c->output_dir, name,
					 strerror(errno));
		}
	}
	if (del)
		pr_info("removed %zu old window%s from %s", del, del == 1 ? "" : "s",
			c->output_dir);
	for (j = 0; j < ARRAY_SIZE(all_formats); j++) {
		char name[32];

		snprintf(name, sizeof(name), "latest.%s", daemon__ext(all_formats[j]));
		if (fstatat(dirfd(dp), name, &st, 0) && errno == ENOENT &&
		    ours(dirfd(dp), name, true, &st) && S_ISLNK(st.st_mode))
			unlinkat(dirfd(dp), name, 0);
	}
cleanup:
	free(bytes);
	free(e);
	closedir(dp);
}

/*
 * Points DIR/latest.EXT at name: a new symlink renamed over the old one, never missing. The
 * new link gets a fresh name (".latest.EXT.XXXXXXXX.tmp"), created exclusively: a name planted
 * by someone else in a shared directory is passed over, never removed.
 */
static int point_latest(const char *dir, enum output_format f, const char *name)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	struct stat st;
	uint32_t rnd;
	int tries, err;

	snprintf(dst, sizeof(dst), "%s/latest.%s", dir, daemon__ext(f));
	for (tries = 0;; tries++) {
		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
			rnd = (uint32_t)now_mono_ns() + tries;
		snprintf(tmp, sizeof(tmp), "%s/.latest.%s.%08x.tmp", dir, daemon__ext(f), rnd);
		if (!symlink(name, tmp))
			break;
		if (errno != EEXIST || tries == 100)
			return -errno;
	}
	if (rename(tmp, dst)) {
		err = -errno;
		unlink(tmp);
		/* A sticky directory: a latest.EXT of another user's cannot be replaced. */
		if (!lstat(dst, &st) && st.st_uid != geteuid())
			pr_warn("%s is not flamed's (owner uid %u), so it cannot point at the newest "
				"window; remove it", dst, (unsigned int)st.st_uid);
		return err;
	}
	return 0;
}

static int write_file(const struct daemon *d, const struct profile *p, enum output_format f,
		      const char *path)
{
	struct output *out = output__open(path, 0640);
	struct svg_opts so;
	int err;

	/* The directory was removed under us: make it again, as at the start. */
	if (!out && errno == ENOENT && !mkdir(d->cfg.output_dir, 0750))
		out = output__open(path, 0640);
	if (!out)
		return errno ? -errno : -EIO;
	if (f == FMT_SVG) {
		/* Title, width, palette...: run-time settings, read at each window. */
		config__fill_svg(&d->cfg, &so);
		/* The profile's description, its span named by start and end. */
		so.window = true;
		err = svg__write(p, &so, output__file(out));
	} else {
		err = render__write(p, f, NULL, output__file(out));
	}
	if (err) {
		output__abort(out);
		return err;
	}
	return output__commit(out);
}

/*
 * Writes one window in every format. Failures (a full or read-only disk) are logged once for
 * the window, not per file, and do not stop profiling: the next window tries again.
 */
static void write_window(struct daemon *d, const struct profile *p, const char *stem,
			 const char *span)
{
	const struct config *c = &d->cfg;
	char path[PATH_MAX], names[256] = "", failed[128] = "";
	size_t nl = 0, nf = 0, i;
	int first_err = 0, written = 0;

	for (i = 0; i < ARRAY_SIZE(all_formats); i++) {
		enum output_format f = all_formats[i];
		int err;

		if (!(c->formats & (1u << f)))
			continue;
		snprintf(path, sizeof(path), "%s/%s.%s", c->output_dir, stem, daemon__ext(f));
		err = write_file(d, p, f, path);
		if (!err)
			err = point_latest(c->output_dir, f, strrchr(path, '/') + 1);
		if (err) {
			if (!first_err)
				first_err = err;
			if (nf < sizeof(failed))
				nf += snprintf(failed + nf, sizeof(failed) - nf, "%s%s",
					       nf ? ", " : "", daemon__ext(f));
			continue;
		}
		written++;
		if (nl < sizeof(names))
			nl += snprintf(names + nl, sizeof(names) - nl, "%s%s", nl ? ", " : "",
				       strrchr(path, '/') + 1);
	}
	if (first_err) {
		d->windows_unwritten++;
		pr_warn("window %s: cannot write %s to %s: %s; profiling goes on, and writing "
			"resumes when it can", span, failed, c->output_dir, strerror(-first_err));
	} else if (d->windows_unwritten) {
		pr_notice("writing to %s resumed after %llu window%s could not be written",
			  c->output_dir, (unsigned long long)d->windows_unwritten,
			  d->windows_unwritten == 1 ? "" : "s");
		d->windows_unwritten = 0;
	}
	if (written && profile__meta_const(p)->profile_mode != PROFILE_CPU)
		/* Off-CPU and wall-clock counts are microseconds. */
		pr_notice("window %s: %.3f s of %s, wrote %s", span,
			  profile__meta_const(p)->samples / 1e6,
			  profile_mode__what(profile__meta_const(p)->profile_mode), names);
	else if (written)
		pr_notice("window %s: %llu sample%s, wrote %s", span,
			  (unsigned long long)profile__meta_const(p)->samples,
			  profile__meta_const(p)->samples == 1 ? "" : "s", names);
}

/* What the long-lived caches hold: flat over a long run, or something leaks. */
static void log_caches(struct daemon *d)
{
	struct symbolizer_stats ss;
	struct procs_stats ps;

	symbolizer__stats(d->sym, &ss);
	procs__stats(session__procs(d->s), &ps);
	pr_info("caches: %llu symbol files read, %.1f MiB held, %llu evicted, %llu idle dropped; "
		"%llu processes, "
		"%llu mappings known, %llu reaped (exit unseen), %llu stale records; %llu samples "
		"refused by the stack bound; perf maps %.1f MiB held, %.1f MiB parsed, %llu "
		"functions dropped by the bounds, %llu reads deferred by the time budget, %.0f ms at "
		"most in one window",
		(unsigned long long)ss.files, ss.cache_bytes / 1048576.0,
		(unsigned long long)ss.cache_evictions, (unsigned long long)ss.files_idle,
		(unsigned long long)ps.processes,
		(unsigned long long)ps.mappings, (unsigned long long)ps.reaped,
		(unsigned long long)ps.records_stale,
		(unsigned long long)stacks__refused(session__stacks(d->s)),
		ss.perfmap_held / 1048576.0, ss.perfmap_bytes / 1048576.0,
		(unsigned long long)ss.perfmap_dropped, (unsigned long long)ss.perfmap_deferred,
		ss.perfmap_window_max_ns / 1e6);
	/* Since the start: the switches seen, and the time --offcpu-min-us only summed. */
	session__log_offcpu(d->s, LOG_INFO);
}

static void update_status(struct daemon *d)
{
	struct procs_stats ps;

	procs__stats(session__procs(d->s), &ps);
	if (d->cfg.profile_mode != PROFILE_CPU)
		/* Off-CPU and wall-clock counts are microseconds: the rate is seconds per second. */
		notify__status("%.2f s of %s per s on %d CPUs, %llu processes, %llu windows%s",
			       d->rate / 1e6, profile_mode__what(d->cfg.profile_mode),
			       session__nr_cpus(d->s), (unsigned long long)ps.processes,
			       (unsigned long long)d->windows,
			       d->windows_unwritten ? ", writing failing" : "");
	else
		notify__status("%.1f samples/s on %d CPUs, %llu processes, %llu windows%s",
			       d->rate, session__nr_cpus(d->s), (unsigned long long)ps.processes,
			       (unsigned long long)d->windows,
			       d->windows_unwritten ? ", writing failing" : "");
}

/*
 * Ends the current window now: drains the kernel's counts (every sample counted up to the
 * generation flip is in this window, every later one in the next), symbolizes, writes, and
 * forgets what the window no longer needs.
 */
static void close_window(struct daemon *d)
{
	uint64_t end_mono = now_mono_ns(), end_real = now_real_ns();
	uint64_t dur = end_mono - d->win_start_mono;
	struct stacks *st = session__stacks(d->s);
	char stem[WINDOW_STEM_LEN], a[40], b[40], span[128];
	struct profile *p = NULL;
	uint64_t name_ms;
	int err;

	session__drain(d->s);
	format_time(d->win_start_real, a, sizeof(a));
	format_time(end_real, b, sizeof(b));
	snprintf(span, sizeof(span), "%s to %s (%.3f s)", a, b, dur / 1e9);
	/*
	 * Names must stay unique and in time order, retention relies on it: two windows in one
	 * millisecond (SIGUSR1 twice) or a wall clock stepped back get the next free millisecond.
	 */
	name_ms = MAX(d->win_start_real / 1000000, d->last_stem_ms + 1);
	daemon__window_stem(name_ms * 1000000, stem);
	p = profile__new();
	/*
	 * Source lines only for an output that shows them: pprof windows, push, the HTTP
	 * server's profiles (fleet), or --lines. An SVG alone does not read line tables.
	 */
	symbolizer__set_skip_lines(d->sym, !(d->cfg.formats & (1u << FMT_PPROF)) &&
						   !d->cfg.push_url[0] && !d->cfg.listen[0]);
	err = p ? symbolizer__build_profile(d->sym, st, p) : -ENOMEM;
	session__profile_built(d->s);
	if (err) {
		pr_err("window %s: cannot build the profile: %s; its samples are dropped", span,
		       strerror(-err));
	} else {
		session__fill_meta(d->s, p, d->win_start_real, dur);
		d->rate = dur ? profile__meta_const(p)->samples * 1e9 / dur : 0;
		write_window(d, p, stem, span);
		d->last_stem_ms = name_ms;
	}
	/* Fleet: before the aggregate is reset, which its captures read. */
	fleet__window(d->fleet, err ? NULL : p, !err && !d->windows_unwritten);
	profile__free(d->prev);
	d->prev = p;
	/* The next window starts where this one ended, to the nanosecond. */
	d->win_start_mono = end_mono;
	d->win_start_real = end_real;
	d->windows++;
	stacks__reset(st);
	/* Exited processes had their last samples in this window. */
	procs__gc(session__procs(d->s));
	/*
	 * Give back what the window's burst took (symbolization, a big aggregate): malloc keeps
	 * freed pages otherwise, and RSS never came down after a storm.
	 */
	malloc_trim(0);
	prune(d);
	update_status(d);
	log_caches(d);
}

/* Re-arms the window timer so the current window lasts interval from its start. */
static void arm_window(struct daemon *d)
{
	uint64_t now = now_mono_ns(), end = d->win_start_mono + d->cfg.interval_ns;

	evloop__timer_set(d->twin, end > now ? end - now : 1, d->cfg.interval_ns);
}

struct reload_ctx {
	struct config *next;
	const struct config *cur;
	int restart_only;
};

static void on_changed(void *ctx, const char *key, bool runtime)
{
	struct reload_ctx *r = ctx;
	char was[64], now[64];

	config__format(r->cur, key, was, sizeof(was));
	config__format(r->next, key, now, sizeof(now));
	if (runtime) {
		pr_notice("%s: %s -> %s", key, was, now);
		return;
	}
	pr_warn("%s changed (%s -> %s) but takes effect only after a restart, ignoring", key, was,
		now);
	config__copy_key(r->next, r->cur, key);
	r->restart_only++;
}

/* SIGHUP: a config that does not load is refused whole and the running settings kept. */
static void reload(struct daemon *d)
{
	struct config next;
	struct reload_ctx r = { .next = &next, .cur = &d->cfg };
	char msg[CONFIG_MSG_LEN];
	int err, n;

	notify__reloading();
	err = daemon__load_config(d->o, &next, msg);
	if (err) {
		pr_err("reload refused: %s; keeping the previous settings", msg);
		goto out;
	}
	n = config__diff(&d->cfg, &next, on_changed, &r);
	if (!(n - r.restart_only)) {
		pr_notice("reloaded %s: no setting changed", d->o->config_path ? d->o->config_path :
			  "the command line");
		goto out;
	}
	if (strcmp(next.output_dir, d->cfg.output_dir))
		remove_temp_files(next.output_dir);
	if (next.interval_ns != d->cfg.interval_ns) {
		d->cfg.interval_ns = next.interval_ns;
		arm_window(d);
	}
	d->cfg = next;
	fleet__set_output_dir(d->fleet, d->cfg.output_dir);
	apply_log_level(d);
	prune(d);
	pr_notice("reloaded %s: %d setting%s changed", d->o->config_path ? d->o->config_path :
		  "the command line", n - r.restart_only, n - r.restart_only == 1 ? "" : "s");
out:
	notify__ready();
	update_status(d);
}

static void on_window(void *ctx)
{
	close_window(ctx);
}

static void on_watchdog(void *ctx)
{
	notify__watchdog();
}

static void on_signal(void *ctx, int signo)
{
	struct daemon *d = ctx;

	/* While push flushes on the loop at exit: no reload, no window; signals are ignored. */
	if (d->stopping)
		return;
	switch (signo) {
	case SIGHUP:
		reload(d);
		break;
	case SIGUSR1:
		pr_info("SIGUSR1: closing the window now");
		close_window(d);
		arm_window(d);
		break;
	default:
		pr_notice("%s: writing the last window and stopping", strsignal(signo));
		evloop__stop(d->loop);
		break;
	}
}

/*
 * The daemon's loop: the signals, the window and watchdog timers (the session adds its
 * own events, drain and end).
 */
static int setup_loop(struct daemon *d)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	size_t i;
	int err;

	d->loop = evloop__new(&err);
	for (i = 0; d->loop && !err && i < ARRAY_SIZE(sigs); i++)
		err = evloop__add_signal(d->loop, sigs[i], on_signal, d);
	if (!err) {
		d->twin = evloop__add_timer(d->loop, on_window, d);
		d->twd = evloop__add_timer(d->loop, on_watchdog, d);
		if (!d->twin || !d->twd)
			err = -ENOMEM;
	}
	if (err)
		pr_err("cannot set up the event loop: %s", strerror(-err));
	return err;
}

int daemon__run(const struct daemon_opts *o)
{
	struct daemon d = { .o = o };
	struct fleet_opts fo;
	char msg[CONFIG_MSG_LEN], iv[32];
	uint64_t wd_ns;
	int err;

	err = daemon__load_config(o, &d.cfg, msg);
	if (err) {
		pr_err("%s", msg);
		return err;
	}
	apply_log_level(&d);
	remove_temp_files(d.cfg.output_dir);
	config__fill(&d.cfg, CONFIG_CONTINUOUS, &d.opts);
	/* The pids and duration of the command line, which a reload does not change. */
	d.opts.session.pids = o->pids;
	d.opts.session.nr_pids = o->nr_pids;
	d.opts.session.duration_ns = o->duration_ns;
	err = setup_loop(&d);
	if (err)
		goto cleanup;
	d.s = session__new(&d.opts.session, d.loop, &err);
	if (!d.s)
		goto cleanup;
	d.sym = symbolizer__new(session__procs(d.s), &d.opts.session.sym);
	if (!d.sym) {
		err = -ENOMEM;
		goto cleanup;
	}
	symbolizer__set_cgroups(d.sym, session__cgroups(d.s), d.opts.session.group_by);
	session__use_symbolizer(d.s, d.sym);
	err = session__attach(d.s);
	if (err)
		goto cleanup;
	config__fill_fleet(&d.cfg, &fo);
	d.fleet = fleet__new(&fo, d.loop, d.s, d.sym, &err);
	if (!d.fleet)
		goto cleanup;
	/* Attached and listening: keep only what reading files and writing windows need. */
	privs__drop(d.cfg.output_dir);
	d.win_start_mono = now_mono_ns();
	d.win_start_real = now_real_ns();
	arm_window(&d);
	/* Pinged at half the period: a loop stuck for longer gets the service restarted. */
	wd_ns = notify__watchdog_ns();
	if (wd_ns)
		evloop__timer_set(d.twd, wd_ns / 2, wd_ns / 2);

	config__format(&d.cfg, "interval", iv, sizeof(iv));
	if (d.cfg.profile_mode == PROFILE_OFFCPU)
		pr_notice("profiling %s off-CPU time at every scheduler switch on %d CPUs: a window "
			  "every %s s into %s", o->nr_pids ? "the given processes'" : "the whole system's",
			  session__nr_cpus(d.s), iv, d.cfg.output_dir);
	else
		pr_notice("profiling %s%s at %u Hz on %d CPUs: a window every %s s into %s",
			  o->nr_pids ? "the given processes" : "the whole system",
			  d.cfg.profile_mode == PROFILE_WALL ? " (wall-clock: on-CPU samples and "
			  "off-CPU time)" : "", d.cfg.freq_hz, session__nr_cpus(d.s), iv,
			  d.cfg.output_dir);
	notify__ready();
	update_status(&d);
	err = evloop__run(d.loop, -1);
	if (err) {
		pr_err("event loop: %s", strerror(-err));
		goto cleanup;
	}
	notify__stopping();
	/* The partial window is a window too. */
	close_window(&d);
cleanup:
	d.stopping = true;
	if (d.twin)
		evloop__timer_set(d.twin, 0, 0);
	fleet__free(d.fleet);
	profile__free(d.prev);
	symbolizer__free(d.sym);
	session__free(d.s);
	evloop__free_at_exit(d.loop);
	return err;
}
