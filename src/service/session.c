// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "base/evloop.h"
#include "base/log.h"
#include "sample/cgpath.h"
#include "sample/cgroups.h"
#include "sample/procs.h"
#include "aggregate/describe.h"
#include "aggregate/profile.h"
#include "render/render.h"
#include "service/privs.h"
#include "sample/sampler.h"
#include "service/session.h"
#include "service/mapmaker.h"
#include "aggregate/stacks.h"
#include "symbolize/symbolize.h"
#include "unwind/unwinder.h"
#include "runtime/php.h"
#include "runtime/ruby.h"
#include "runtime/perl.h"
#include "runtime/python.h"
#include "runtime/v8.h"
#include "runtime/hotspot.h"
#include "base/util.h"
#include "../../bpf/unwind.h"

#define DRAIN_INTERVAL_NS 1000000000ULL
/* The symbolizer is warmed in steps of this much, this far apart, until it saw every stack. */
#define WARM_STEP_NS 10000000ULL
#define WARM_PAUSE_NS 2000000ULL

struct session {
	const struct session_opts *o;
	struct evloop *loop;
	struct evloop_timer *tdrain, *tend, *twarm;
	struct sampler *smp;
	struct procs *procs;
	struct stacks *stacks;
	struct unwinder *unwinder;
	struct mapmaker *maker;		/* unwind-table chunks after the drop */
	struct python *python;	/* NULL: Python frames off, or no DWARF unwinding */
	struct php *php;	/* NULL: PHP frames off, or no DWARF unwinding */
	struct ruby *ruby;	/* NULL: Ruby frames off, or no DWARF unwinding */
	struct perl *perl;	/* NULL: Perl frames off, or no DWARF unwinding */
	struct v8 *v8;		/* NULL: JavaScript frames off, or no DWARF unwinding */
	struct hotspot *hotspot; /* NULL: Java frames off, or no DWARF unwinding */
	struct cgroups *cg;
	uint32_t *tgids;	/* of o->tids, 0 for a thread gone before the start */
	uint64_t lost_drain;
	uint64_t lost_oom;
	uint64_t lost_full;	/* refused by the aggregate's memory bound */
	uint64_t lost_full_base;
	/* What fill_meta last reported, so each span gets only its own losses. */
	uint64_t stats_base[STAT_MAX];
	uint64_t lost_base;
	struct symbolizer *warm;	/* session__warm_symbolizer */
	size_t warmed;			/* samples of stacks it has seen */
};

static int on_sample(void *ctx, const struct sample_key *k, uint64_t count, const uint64_t *u,
		     int nu, const uint64_t *kk, int nk)
{
	struct session *s = ctx;
	int err;

	if (s->o->mode != PROFILE_CPU) {
		/*
		 * Microseconds: off-CPU counts are nanoseconds, an on-CPU sample (wall mode)
		 * weighs one sampling period. Rounded per drained key: under a microsecond a
		 * key a window.
		 */
		if (!k->state)
			count *= 1000000000ULL / s->o->freq_hz;
		count = (count + 500) / 1000;
		if (!count)
			return 0;
	}
	err = stacks__add_cgroup(s->stacks, k->cgroup_id, k->tgid, k->comm, k->pcomm, u, nu, kk, nk,
				 count);

	/* Python code objects are named now: the process may be gone when the profile is built. */
	python__prefetch(s->python, k->tgid, u, nu);
	php__prefetch(s->php, k->tgid, u, nu);
	ruby__prefetch(s->ruby, k->tgid, u, nu);
	perl__prefetch(s->perl, k->tgid, u, nu);
	v8__prefetch(s->v8, k->tgid, u, nu);
	hotspot__prefetch(s->hotspot, k->tgid, u, nu);
	if (err == -ENOSPC)
		s->lost_full += count;
	else if (err)
		s->lost_oom += count;
	return 0;
}

/* New mappings: known to the symbolizer at once, and to the BPF unwinder as soon as loaded. */
void session__consume(struct session *s)
{
	procs__consume(s->procs);
	if (s->unwinder)
		unwinder__sync(s->unwinder, s->procs);
}

/* Mappings first: a sample's process must be known before its stacks are symbolized. */
int session__drain(struct session *s)
{
	int err;

	session__consume(s);
	python__new_drain(s->python);
	err = sampler__drain(s->smp, on_sample, s, &s->lost_drain);
	if (err)
		pr_err("cannot read the in-kernel counts: %s", strerror(-err));
	return err;
}

void session__end(struct session *s)
{
	sampler__end(s->smp);
}

/* Targets of --cgroup in BPF: their ids, and the deepest level to look for them at. */
#define MAX_CGROUP_TARGETS 64

static int add_cgroups(struct session *s, struct sampler_opts *so,
		       struct cgroups_target **ret, int *nr)
{
	const struct session_opts *o = s->o;
	struct cgroups_target *t;
	int i, n = 0, r;

	*ret = NULL;
	*nr = 0;
	if (!o->nr_cgroups && !o->group_by)
		return 0;
	s->cg = cgroups__new(&r);
	if (!s->cg)
		return r;
	so->record_cgroup = true;
	if (!o->nr_cgroups)
		return 0;
	t = calloc(MAX_CGROUP_TARGETS, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (i = 0; i < o->nr_cgroups; i++) {
		r = cgroups__resolve(s->cg, o->cgroups[i], t + n, MAX_CGROUP_TARGETS - n);
		if (r < 0) {
			free(t);
			return r;
		}
		n += r;
	}
	for (i = 0; i < n; i++) {
		if (t[i].level > MAX_CGROUP_LEVEL) {
			pr_err("--cgroup %s: deeper than %d levels", t[i].path, MAX_CGROUP_LEVEL);
			free(t);
			return -EINVAL;
		}
		so->cgroup_max_level = MAX(so->cgroup_max_level, t[i].level);
		pr_info("profiling cgroup %s (id %llu)", t[i].path, (unsigned long long)t[i].id);
	}
	so->filter_cgroups = true;
	*ret = t;
	*nr = n;
	return 0;
}

static bool any_alive(const struct session *s)
{
	const struct session_opts *o = s->o;
	uint32_t tgid;
	int i;

	for (i = 0; i < o->nr_pids; i++)
		if (!kill(o->pids[i], 0) || errno == EPERM)
			return true;
	/* A thread lives while /proc has it in the same process and not as a zombie. */
	for (i = 0; i < o->nr_tids; i++)
		if (s->tgids[i] && !procs__thread_tgid(o->tids[i], &tgid) && tgid == s->tgids[i])
			return true;
	return false;
}

/* The processes of the -t threads, targets too: their mappings are learnt, their tables loaded. */
static int add_tids(struct session *s)
{
	const struct session_opts *o = s->o;
	int i, err;

	for (i = 0; i < o->nr_tids; i++) {
		err = procs__thread_tgid(o->tids[i], &s->tgids[i]);
		if (err == -ESRCH) {
			pr_warn("thread %u exited before profiling started", o->tids[i]);
			s->tgids[i] = 0;
			continue;
		}
		if (err) {
			pr_err("cannot read /proc/%u/status: %s", o->tids[i], strerror(-err));
			return err;
		}
		err = sampler__add_pid(s->smp, s->tgids[i]);
		if (!err)
			err = sampler__add_tid(s->smp, o->tids[i]);
		if (err) {
			pr_err("cannot add thread %u to the BPF target maps: %s", o->tids[i],
			       strerror(-err));
			return err;
		}
		pr_info("profiling thread %u of process %u", o->tids[i], s->tgids[i]);
	}
	return 0;
}

static void on_events(void *ctx, int fd, uint32_t events)
{
	session__consume(ctx);
}

static void on_new_stack(void *ctx, uint32_t tgid, const uint64_t *u, int nu)
{
	struct session *s = ctx;

	python__prefetch(s->python, tgid, u, nu);
	php__prefetch(s->php, tgid, u, nu);
	v8__prefetch(s->v8, tgid, u, nu);
	hotspot__prefetch(s->hotspot, tgid, u, nu);
	ruby__prefetch(s->ruby, tgid, u, nu);
	perl__prefetch(s->perl, tgid, u, nu);
}

/* Stacks with runtime frames, new in the generation: named now, the process may not last. */
static void on_new_stacks(void *ctx, int fd, uint32_t events)
{
	struct session *s = ctx;
	int err;

	/* Mappings first: the runtime module must know the process before it names a frame. */
	session__consume(s);
	err = sampler__new_stacks(s->smp, on_new_stack, s);
	if (err)
		pr_warn("cannot read the new stacks: %s, ignoring", strerror(-err));
}

/*
 * Every second: the kernel's counts into the aggregate, and the end once the targets are gone.
 * With a symbolizer to warm, the new stacks' symbol files are read now, while the targets run.
 */
static void on_drain(void *ctx)
{
	struct session *s = ctx;

	session__drain(s);
	if (s->warm)
		evloop__timer_set(s->twarm, 1, 0);
	if ((s->o->nr_pids || s->o->nr_tids) && !any_alive(s)) {
		pr_notice("every profiled %s has exited: stopping",
			  s->o->nr_tids ? "thread" : "process");
		evloop__stop(s->loop);
	}
}

/*
 * Warming in steps of a few milliseconds, each after the loop has looked at its descriptors:
 * a library mapped meanwhile has its tables loaded at once, not after the whole warm-up.
 */
static void on_warm(void *ctx)
{
	struct session *s = ctx;

	session__consume(s);
	s->warmed = symbolizer__warm(s->warm, s->stacks, s->warmed, WARM_STEP_NS);
	if (s->warmed < stacks__nr_samples(s->stacks))
		evloop__timer_set(s->twarm, WARM_PAUSE_NS, 0);
}

static void on_end(void *ctx)
{
	struct session *s = ctx;

	evloop__stop(s->loop);
}

/* The mapping events, the drain and the end of the duration, on the caller's loop. */
static int add_to_loop(struct session *s)
{
	int fd = procs__epoll_fd(s->procs);
	int err = fd >= 0 ? evloop__add_fd(s->loop, fd, EPOLLIN, on_events, s) : 0;

	if (err)
		return err;
	fd = sampler__new_stacks_fd(s->smp);
	err = fd >= 0 ? evloop__add_fd(s->loop, fd, EPOLLIN, on_new_stacks, s) : 0;
	if (err)
		return err;
	s->tdrain = evloop__add_timer(s->loop, on_drain, s);
	s->tend = evloop__add_timer(s->loop, on_end, s);
	s->twarm = evloop__add_timer(s->loop, on_warm, s);
	return s->tdrain && s->tend && s->twarm ? 0 : -ENOMEM;
}

struct session *session__new(const struct session_opts *o, struct evloop *loop, int *err)
{
	struct sampler_opts so = {
		.freq_hz = o->freq_hz,
		.filter_pids = (o->nr_pids || o->nr_tids || o->argv) && !o->all_cpus,
		.filter_tids = o->nr_tids && !o->all_cpus,
		.follow_forks = o->argv && !o->all_cpus,
		.cpus = o->cpus,
		.include_idle = o->include_idle,
		.max_stacks = o->max_stacks,
		.drain_ns = DRAIN_INTERVAL_NS,
		.event = o->event,
		.dwarf = o->unwind != UNWIND_FP,
		.unwind_rows = (uint64_t)(o->unwind_max_mb ? o->unwind_max_mb : 64) * 1048576 /
			       sizeof(struct unwind_row),
		.oncpu = o->mode != PROFILE_OFFCPU,
		.offcpu = o->mode != PROFILE_CPU,
		.offcpu_min_ns = (uint64_t)o->offcpu_min_us * 1000,
		.offcpu_sample = o->offcpu_sample,
		.announce_new_stacks = !o->no_python || !o->no_php || !o->no_v8 || !o->no_ruby || !o->no_hotspot ||
				       !o->no_perl,
	};
	struct session *s = calloc(1, sizeof(*s));
	struct cgroups_target *cgt = NULL;
	int i, nr_cgt = 0;

	*err = 0;
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	s->o = o;
	s->loop = loop;
	s->tgids = calloc(o->nr_tids ? o->nr_tids : 1, sizeof(*s->tgids));
	if (!s->tgids) {
		*err = -ENOMEM;
		goto cleanup;
	}
	*err = add_cgroups(s, &so, &cgt, &nr_cgt);
	if (*err)
		goto cleanup;
	s->stacks = stacks__new();
	if (!s->stacks) {
		*err = -ENOMEM;
		goto cleanup;
	}
	s->smp = sampler__new(&so, err);
	if (!s->smp && so.dwarf && o->unwind == UNWIND_AUTO) {
		pr_warn("DWARF unwinding is not available on this kernel: user stacks will use "
			"frame pointers only");
		so.dwarf = false;
		s->smp = sampler__new(&so, err);
	}
	if (!s->smp)
		goto cleanup;
	for (i = 0; i < nr_cgt; i++) {
		*err = sampler__add_cgroup(s->smp, cgt[i].id);
		if (*err) {
			pr_err("cannot add cgroup %s to the BPF target map: %s", cgt[i].path,
			       strerror(-*err));
			goto cleanup;
		}
	}
	if (so.dwarf) {
		s->unwinder = unwinder__new(s->smp);
		if (!s->unwinder) {
			*err = -ENOMEM;
			goto cleanup;
		}
		if (!o->no_v8) {
			s->v8 = v8__new(s->smp, s->unwinder);
			if (!s->v8) {
				*err = -ENOMEM;
				goto cleanup;
			}
		}
		if (!o->no_hotspot) {
			s->hotspot = hotspot__new(s->smp, s->unwinder);
			if (!s->hotspot) {
				*err = -ENOMEM;
				goto cleanup;
			}
		}
		if (!o->no_python) {
			s->python = python__new(s->smp, s->unwinder);
			if (!s->python) {
				*err = -ENOMEM;
				goto cleanup;
			}
		}
		if (!o->no_php) {
			s->php = php__new(s->smp, s->unwinder);
			if (!s->php) {
				*err = -ENOMEM;
				goto cleanup;
			}
		}
		if (!o->no_ruby) {
			s->ruby = ruby__new(s->smp, s->unwinder);
			if (!s->ruby) {
				*err = -ENOMEM;
				goto cleanup;
			}
		}
		if (!o->no_perl) {
			s->perl = perl__new(s->smp, s->unwinder);
			if (!s->perl) {
				*err = -ENOMEM;
				goto cleanup;
			}
		}
	}
	/* Mapping events start before sampling so no process's mappings are missed. */
	s->procs = procs__new(true, err);
	if (!s->procs)
		goto cleanup;
	*err = add_to_loop(s);
	if (*err) {
		pr_err("cannot set up the event loop: %s", strerror(-*err));
		goto cleanup;
	}
	for (i = 0; i < o->nr_pids; i++) {
		*err = sampler__add_pid(s->smp, o->pids[i]);
		if (*err) {
			pr_err("cannot add process %u to the BPF target map: %s", o->pids[i],
			       strerror(-*err));
			goto cleanup;
		}
	}
	*err = add_tids(s);
	if (*err)
		goto cleanup;
	free(cgt);
	return s;
cleanup:
	if (!*err)
		*err = -ENOMEM;
	free(cgt);
	session__free(s);
	return NULL;
}

int session__add_pid(struct session *s, uint32_t pid)
{
	int err = sampler__add_pid(s->smp, pid);

	if (err)
		pr_err("cannot add process %u to the BPF target map: %s", pid, strerror(-err));
	return err;
}

int session__attach(struct session *s)
{
	const struct session_opts *o = s->o;
	int err, i;

	err = sampler__attach(s->smp);
	if (err)
		return err;
	if (o->nr_pids) {
		for (i = 0; i < o->nr_pids; i++)
			if (procs__scan(s->procs, o->pids[i]) == -ESRCH)
				pr_warn("process %u exited before profiling started", o->pids[i]);
	} else if (o->nr_tids) {
		for (i = 0; i < o->nr_tids; i++)
			if (s->tgids[i])
				procs__scan(s->procs, s->tgids[i]);
	} else if (!o->argv || o->all_cpus) {
		procs__scan_all(s->procs);
	}
	if (s->unwinder)
		unwinder__sync(s->unwinder, s->procs);
	/*
	 * Tables loaded from now on may need more chunks, after the caller dropped CAP_BPF: a
	 * maker keeps it, for that alone (mapmaker.h). Without one they fall back to frame
	 * pointers, named, as past the cap.
	 */
	if (s->unwinder) {
		const uint32_t sizes[2] = { sizeof(struct unwind_row), sizeof(__u64) };

		s->maker = mapmaker__start(sizes, sampler__max_chunks(s->smp), &err);
		if (s->maker)
			sampler__set_chunk_source(s->smp, mapmaker__chunk, s->maker);
	}
	evloop__timer_set(s->tdrain, DRAIN_INTERVAL_NS, DRAIN_INTERVAL_NS);
	evloop__timer_set(s->tend, o->duration_ns, 0);
	return 0;
}

struct stacks *session__stacks(struct session *s)
{
	return s->stacks;
}

void session__use_symbolizer(struct session *s, struct symbolizer *sym)
{
	python__use_symbolizer(s->python, sym);
	php__use_symbolizer(s->php, sym);
	ruby__use_symbolizer(s->ruby, sym);
	perl__use_symbolizer(s->perl, sym);
	v8__use_symbolizer(s->v8, sym);
	hotspot__use_symbolizer(s->hotspot, sym);
}

void session__warm_symbolizer(struct session *s, struct symbolizer *sym)
{
	s->warm = sym;
	s->warmed = 0;
}

void session__profile_built(struct session *s)
{
	s->warmed = 0;	/* the daemon resets the aggregate next */
	python__trim(s->python);
	php__trim(s->php);
	ruby__trim(s->ruby);
	perl__trim(s->perl);
	v8__trim(s->v8);
	hotspot__trim(s->hotspot);
}

struct procs *session__procs(struct session *s)
{
	return s->procs;
}

int session__nr_cpus(const struct session *s)
{
	return sampler__nr_cpus(s->smp);
}

struct cgroups *session__cgroups(struct session *s)
{
	return s->cg;
}

void session__free(struct session *s)
{
	if (!s)
		return;
	if (s->procs && procs__epoll_fd(s->procs) >= 0)
		evloop__del_fd(s->loop, procs__epoll_fd(s->procs));
	if (s->smp && sampler__new_stacks_fd(s->smp) >= 0)
		evloop__del_fd(s->loop, sampler__new_stacks_fd(s->smp));
	evloop__del_timer(s->tdrain);
	evloop__del_timer(s->tend);
	evloop__del_timer(s->twarm);
	python__free(s->python);
	php__free(s->php);
	ruby__free(s->ruby);
	perl__free(s->perl);
	v8__free(s->v8);
	hotspot__free(s->hotspot);
	unwinder__free(s->unwinder);
	sampler__free(s->smp);
	mapmaker__free(s->maker);
	procs__free(s->procs);
	stacks__free(s->stacks);
	cgroups__free(s->cg);
	free(s->tgids);
	free(s);
}

void session__fill_target(const struct session *s, struct profile_meta *m)
{
	const struct session_opts *o = s->o;

	m->profile_mode = o->mode;
	/* An off-CPU profile has no sampling period (pprof's cpu period would mislead). */
	m->freq_hz = o->mode == PROFILE_OFFCPU ? 0 : o->freq_hz;
	gethostname(m->host, sizeof(m->host) - 1);
	if (o->argv && o->all_cpus)
		snprintf(m->mode, sizeof(m->mode), "system-wide while %s ran", o->argv[0]);
	else if (o->argv)
		snprintf(m->mode, sizeof(m->mode), "command %s", o->argv[0]);
	else if (o->nr_pids == 1)
		snprintf(m->mode, sizeof(m->mode), "pid %u", o->pids[0]);
	else if (o->nr_pids)
		snprintf(m->mode, sizeof(m->mode), "%d pids", o->nr_pids);
	else if (o->nr_tids == 1)
		snprintf(m->mode, sizeof(m->mode), "tid %u", o->tids[0]);
	else if (o->nr_tids)
		snprintf(m->mode, sizeof(m->mode), "%d tids", o->nr_tids);
	else if (o->nr_cgroups)
		snprintf(m->mode, sizeof(m->mode), "cgroup %s%s", o->cgroups[0],
			 o->nr_cgroups > 1 ? " and more" : "");
	else
		snprintf(m->mode, sizeof(m->mode), "system-wide");
	if (o->cpus)
		snprintf(m->mode + strlen(m->mode), sizeof(m->mode) - strlen(m->mode), ", CPUs %s",
			 o->cpus);
	m->nr_cpus = sampler__nr_cpus(s->smp);
}

void session__fill_meta(struct session *s, struct profile *p, uint64_t start_real, uint64_t dur)
{
	struct profile_meta *m = profile__meta(p);
	uint64_t st[STAT_MAX], *b = s->stats_base;

	session__fill_target(s, m);
	m->start_ns = start_real;
	m->duration_ns = dur;
	m->samples = profile__total(p);
	if (!sampler__read_stats(s->smp, st)) {
		m->lost[LOST_COUNTS_FULL] = st[STAT_COUNTS_FULL] - b[STAT_COUNTS_FULL];
		m->lost[LOST_USTACK] = st[STAT_USTACK_LOST] - b[STAT_USTACK_LOST] +
				       st[STAT_USTACKS_FULL] - b[STAT_USTACKS_FULL];
		m->lost[LOST_KSTACK] = st[STAT_KSTACK_LOST] - b[STAT_KSTACK_LOST];
		m->dwarf_stacks = st[STAT_DWARF] - b[STAT_DWARF];
		m->dwarf_fp_stacks = st[STAT_DWARF_FP] - b[STAT_DWARF_FP];
		m->dwarf_truncated = st[STAT_DWARF_TRUNC] - b[STAT_DWARF_TRUNC];
		memcpy(b, st, sizeof(st));
	}
	/* The unwinding summary goes with the span's stack counts above. */
	snprintf(m->unwind, sizeof(m->unwind), "%s", s->unwinder ? "dwarf" : "fp");
	if (s->unwinder) {
		struct unwinder_stats us;

		unwinder__stats(s->unwinder, &us);
		m->unwind_table_bytes = us.rows_used * sizeof(struct unwind_row);
		m->unwind_tables = us.tables;
		m->unwind_tables_over_cap = us.tables_over_cap;
	}
	m->lost[LOST_DRAIN] = s->lost_drain + s->lost_oom - s->lost_base;
	s->lost_base = s->lost_drain + s->lost_oom;
	m->lost[LOST_AGGREGATE_FULL] = s->lost_full - s->lost_full_base;
	s->lost_full_base = s->lost_full;
}

void session__log_offcpu(const struct session *s, int prio)
{
	uint64_t st[STAT_MAX];

	if (s->o->mode == PROFILE_CPU || sampler__read_stats(s->smp, st))
		return;
	log_msg(prio, "off-CPU: %llu switches recorded, %llu skipped by --offcpu-sample; %llu "
		"intervals (%.3f s) under --offcpu-min-us, not counted by stack",
		(unsigned long long)st[STAT_OFFCPU_SWITCHES],
		(unsigned long long)st[STAT_OFFCPU_SKIPPED],
		(unsigned long long)st[STAT_OFFCPU_SHORT], st[STAT_OFFCPU_SHORT_NS] / 1e9);
}

/*
 * The one-shot summary: the profile's description (as its SVG subtitle words it, without the
 * host), then how many samples were lost or cut short in all.
 */
void session__report(const struct session *s, const struct profile *p, const char *path)
{
	const struct profile_meta *m = profile__meta_const(p);
	struct profile_desc d;
	struct procs_stats ps;
	uint64_t total_lost = 0;
	char line[2048];
	int i;

	procs__stats(s->procs, &ps);
	for (i = 0; i < LOST_MAX; i++)
		total_lost += m->lost[i];
	profile_meta__describe(m, 0, NULL, &d);
	profile_desc__join(&d, FACTS_ALL & ~FACT_BIT(FACT_HOST), line, sizeof(line));
	pr_notice("wrote %s: %s; lost or incomplete: %llu", path, line,
		  (unsigned long long)total_lost);
	if (s->unwinder) {
		struct unwinder_stats us;
		uint64_t st[STAT_MAX];

		unwinder__stats(s->unwinder, &us);
		sampler__read_stats(s->smp, st);
		pr_info("unwind tables: %llu loaded (%.1f MiB of %.0f MiB), %llu without CFI (%llu "
			"refused for their size), %llu over the cap, built in %.0f ms; %llu processes indexed; %llu user stacks unwound "
			"with tables, %llu of them partly by frame pointers, %llu truncated",
			(unsigned long long)us.tables, us.rows_used * 8 / 1048576.0,
			us.rows_cap * 8 / 1048576.0, (unsigned long long)us.tables_failed,
			(unsigned long long)us.tables_refused,
			(unsigned long long)us.tables_over_cap, us.build_ns / 1e6,
			(unsigned long long)us.procs, (unsigned long long)st[STAT_DWARF],
			(unsigned long long)st[STAT_DWARF_FP], (unsigned long long)st[STAT_DWARF_TRUNC]);
		/* What the runtimes' walks could not do is counted in BPF: said, not hidden. */
		if (st[STAT_PY_STACKS] || st[STAT_PHP_STACKS] || st[STAT_V8_STACKS] ||
		    st[STAT_RUBY_STACKS] || st[STAT_PERL_STACKS] || st[STAT_NEW_STACKS_LOST])
			pr_info("runtime frames: stacks with Python %llu (%llu cut by a failed read, "
				"%llu without a thread state), PHP %llu (%llu cut), JavaScript %llu (%llu "
				"frames left native), Ruby %llu (%llu cut, %llu off the GVL, %llu method "
				"entries not kept: classes unnamed), Perl %llu "
				"(%llu cut, %llu in other threads); %llu new stacks not announced",
				(unsigned long long)st[STAT_PY_STACKS],
				(unsigned long long)st[STAT_PY_READ],
				(unsigned long long)st[STAT_PY_NO_THREAD],
				(unsigned long long)st[STAT_PHP_STACKS],
				(unsigned long long)st[STAT_PHP_READ],
				(unsigned long long)st[STAT_V8_STACKS],
				(unsigned long long)st[STAT_V8_READ],
				(unsigned long long)st[STAT_RUBY_STACKS],
				(unsigned long long)st[STAT_RUBY_READ],
				(unsigned long long)st[STAT_RUBY_NOT_RUNNING],
				(unsigned long long)st[STAT_RUBY_METHODS_LOST],
				(unsigned long long)st[STAT_PERL_STACKS],
				(unsigned long long)st[STAT_PERL_READ],
				(unsigned long long)st[STAT_PERL_OTHER_THREAD],
				(unsigned long long)st[STAT_NEW_STACKS_LOST]);
	}
	if (m->profile_mode != PROFILE_CPU)
		session__log_offcpu(s, LOG_NOTICE);
	if (ps.records_lost)
		pr_warn("%llu mapping events were lost: some frames may be unnamed",
			(unsigned long long)ps.records_lost);
}

/* The one-shot run's own state: its loop, and the command it runs, if any. */
struct oneshot {
	struct session *s;
	const struct session_opts *o;
	struct evloop *loop;
	pid_t child;
	int child_status;
	bool child_exited;
	bool child_started;	/* exec'd: from then on it runs on its own */
	int go[2], fail[2];	/* spawn()'s pipes */
	uint64_t start_mono, start_real;
	struct symbolizer *sym;	/* warmed while the command runs, then names the profile */
};

/*
 * Forks the command stopped before exec: it waits for a byte on go[0] so its exec happens
 * once it is in the BPF target set and sampling runs. An exec failure comes back as an errno
 * on a close-on-exec pipe.
 */
static pid_t spawn(char **argv, int go[2], int fail[2], const sigset_t *blocked)
{
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) || pipe2(fail, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char b, traced;
		int e;

		sigprocmask(SIG_UNBLOCK, blocked, NULL);
		priority__restore();
		close(go[1]);
		close(fail[0]);
		if (read(go[0], &b, 1) != 1)
			_exit(127);
		/* Stop right after exec, so the parent can index the new image before it runs. */
		traced = ptrace(PTRACE_TRACEME, 0, NULL, NULL) ? 'N' : 'T';
		if (write(fail[1], &traced, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		e = errno;
		if (write(fail[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(fail[1]);
	go[0] = fail[1] = -1;
	return pid;
}

/*
 * The command stops (SIGTRAP, ptrace) right after its exec: its executable, the dynamic loader
 * and the vDSO are mapped but not one of its instructions has run. Reading the mapping records
 * now gives the BPF unwinder their tables before the first sample; without this, a busy
 * machine may run the command for a while before the event loop sees its exec. A failed exec
 * shows up as an exit instead, and is reported by the caller.
 */
static void index_at_exec(struct session *s, pid_t child)
{
	int st;

	if (waitpid(child, &st, 0) != child || !WIFSTOPPED(st))
		return;
	session__consume(s);
	if (ptrace(PTRACE_DETACH, child, NULL, NULL))
		pr_warn("cannot release %u after exec: %s", child, strerror(errno));
}

/* SIGINT, SIGTERM, SIGHUP (the terminal gone): the profile so far is written. */
static void on_stop_signal(void *ctx, int signo)
{
	struct oneshot *r = ctx;

	pr_info("%s: stopping", strsignal(signo));
	evloop__stop(r->loop);
}

static void on_child(void *ctx, int signo)
{
	struct oneshot *r = ctx;

	if (r->child && !r->child_exited &&
	    waitpid(r->child, &r->child_status, WNOHANG) == r->child) {
		r->child_exited = true;
		evloop__stop(r->loop);
	}
}

static int add_signals(struct oneshot *r)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	int err = evloop__add_signal(r->loop, SIGCHLD, on_child, r);
	size_t i;

	for (i = 0; !err && i < ARRAY_SIZE(sigs); i++)
		err = evloop__add_signal(r->loop, sigs[i], on_stop_signal, r);
	if (err)
		pr_err("cannot set up the event loop: %s", strerror(-err));
	return err;
}

/* Forks the command, held before its exec, and makes it a target. */
static int spawn_command(struct oneshot *r)
{
	sigset_t mask;
	int err;

	evloop__sigmask(r->loop, &mask);
	r->child = spawn(r->o->argv, r->go, r->fail, &mask);
	if (r->child < 0) {
		err = r->child;
		r->child = 0;
		pr_err("cannot start %s: %s", r->o->argv[0], strerror(-err));
		return err;
	}
	return session__add_pid(r->s, r->child);
}

/* Sampling runs: lets the command exec, indexes its image before it runs, checks the exec. */
static int release_command(struct oneshot *r)
{
	const char *cmd = r->o->argv[0];
	char traced = 0;
	int e = 0;
	ssize_t n;

	if (write(r->go[1], "g", 1) != 1) {
		e = errno;
		pr_err("cannot start %s: %s", cmd, strerror(e));
		return -e;
	}
	close(r->go[1]);
	r->go[1] = -1;
	if (read(r->fail[0], &traced, 1) == 1 && traced == 'T')
		index_at_exec(r->s, r->child);
	/* EOF: exec succeeded (the pipe was close-on-exec); an errno: it failed. */
	n = read(r->fail[0], &e, sizeof(e));
	r->child_started = n != sizeof(e);
	if (n == sizeof(e)) {
		pr_err("cannot run %s: %s", cmd, strerror(e));
		return -e;
	}
	return 0;
}

/* The last drain, then symbolize -> render -> the output, committed only when whole. */
static int write_profile(struct oneshot *r, struct output *out)
{
	const struct session_opts *o = r->o;
	struct symbolizer *sym = r->sym;
	struct profile *prof = NULL;
	int err;

	session__end(r->s);
	err = session__drain(r->s);
	if (err)
		goto cleanup;
	prof = profile__new();
	if (!prof) {
		err = -ENOMEM;
		goto cleanup;
	}
	session__use_symbolizer(r->s, sym);
	err = symbolizer__build_profile(sym, session__stacks(r->s), prof);
	session__profile_built(r->s);
	if (err) {
		pr_err("cannot build the profile: %s", strerror(-err));
		goto cleanup;
	}
	session__fill_meta(r->s, prof, r->start_real, now_mono_ns() - r->start_mono);
	err = render__write(prof, o->format, &o->svg, output__file(out));
	if (!err)
		err = output__commit(out);
	else
		output__abort(out);
	if (err) {
		pr_err("cannot write %s: %s", o->output, strerror(-err));
		goto cleanup;
	}
	session__report(r->s, prof, o->output);
	symbolizer__log_stats(sym);
cleanup:
	profile__free(prof);
	return err;
}

static void report_child(const struct oneshot *r)
{
	if (r->child_exited && WIFEXITED(r->child_status) && WEXITSTATUS(r->child_status))
		pr_warn("%s exited with status %d", r->o->argv[0], WEXITSTATUS(r->child_status));
	else if (r->child_exited && WIFSIGNALED(r->child_status))
		pr_warn("%s was killed by signal %d", r->o->argv[0], WTERMSIG(r->child_status));
}

/* The command never ran (or we failed): it must not be left waiting for its go. */
static void reap_command(struct oneshot *r)
{
	int i;

	if (r->child && !r->child_exited) {
		if (r->go[1] >= 0) {
			close(r->go[1]);
			r->go[1] = -1;
		}
		if (!r->child_started)
			waitpid(r->child, NULL, 0);
	}
	for (i = 0; i < 2; i++) {
		if (r->go[i] >= 0)
			close(r->go[i]);
		if (r->fail[i] >= 0)
			close(r->fail[i]);
	}
}

/*
 * A one-shot profile is a session with one window: it ends at the command's exit, the
 * duration, the targets' exit or a signal, all seen by the one loop.
 */
int session__run(const struct session_opts *o)
{
	struct oneshot r = { .o = o, .go = { -1, -1 }, .fail = { -1, -1 } };
	struct symbolizer_opts syo;
	struct output *out = NULL;
	char outdir[PATH_MAX];
	int err = 0;

	out = output__open(o->output, 0640);
	if (!out) {
		err = -errno;
		pr_err("cannot write the output %s: %s", o->output, strerror(errno));
		return err;
	}
	r.loop = evloop__new(&err);
	if (!r.loop) {
		pr_err("cannot set up the event loop: %s", strerror(-err));
		goto cleanup;
	}
	err = add_signals(&r);
	if (err)
		goto cleanup;
	r.s = session__new(o, r.loop, &err);
	if (!r.s)
		goto cleanup;
	if (o->argv && (err = spawn_command(&r)))
		goto cleanup;
	err = session__attach(r.s);
	if (err)
		goto cleanup;
	/* Attached: keep only what reading files and writing the output need (docs/SECURITY.md). */
	privs__dirname(o->output, outdir, sizeof(outdir));
	privs__drop(outdir);
	/* Warmed at each drain while the targets run: the end only names. */
	syo = o->sym;
	syo.skip_lines = !syo.lines && (o->format == FMT_SVG || o->format == FMT_FOLDED);
	r.sym = symbolizer__new(session__procs(r.s), &syo);
	if (!r.sym) {
		err = -ENOMEM;
		goto cleanup;
	}
	symbolizer__set_cgroups(r.sym, session__cgroups(r.s), o->group_by);
	session__warm_symbolizer(r.s, r.sym);
	r.start_mono = now_mono_ns();
	r.start_real = now_real_ns();
	if (o->argv && (err = release_command(&r)))
		goto cleanup;
	pr_info("profiling %s at %u Hz%s", o->argv ? o->argv[0] : o->nr_pids ? "processes" :
		o->nr_tids ? "threads" : o->nr_cgroups ? "cgroups" : "the whole system", o->freq_hz,
		o->duration_ns ? "" : " (Ctrl-C to stop)");
	err = evloop__run(r.loop, -1);
	if (err) {
		pr_err("event loop: %s", strerror(-err));
		goto cleanup;
	}
	err = write_profile(&r, out);
	out = NULL;
	if (!err)
		report_child(&r);
cleanup:
	output__abort(out);
	reap_command(&r);
	symbolizer__free(r.sym);
	session__free(r.s);
	evloop__free_at_exit(r.loop);
	return err;
}
