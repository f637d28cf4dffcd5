/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One profiling session: the sampler, the process tracker and the aggregate they feed, set up
 * and torn down together, registered with the caller's event loop (base/evloop.h): the
 * mapping events, the drain every second (which stops the loop once every target process has
 * exited) and the end of the duration (which stops it too).
 *
 * session__run is the one-shot profile: a session with one window, on a loop that also
 * handles SIGINT/SIGTERM/SIGHUP and the command's exit, ending in symbolize -> render -> the
 * output file. Continuous mode (daemon.c) is the same session on the daemon's loop, cut into
 * windows.
 */
#ifndef FLAMED_SESSION_H
#define FLAMED_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "base/output.h"
#include "aggregate/profile.h"
#include "symbolize/symbolize.h"
#include "render/svg.h"

enum session_unwind {
	UNWIND_AUTO = 0,	/* tables where they load, frame pointers elsewhere */
	UNWIND_FP,		/* frame pointers only */
	UNWIND_DWARF,		/* like auto, but failing to load the unwinder is an error */
};

struct session_opts {
	uint32_t *pids;
	int nr_pids;
	uint32_t *tids;		/* -t: only these threads (none with pids or argv) */
	int nr_tids;
	char **argv;		/* command to run, NULL-terminated, or NULL */
	uint64_t duration_ns;	/* 0 = until signal / command exit */
	uint32_t freq_hz;
	const char *output;
	enum output_format format;
	const char *event;
	const char *title;
	bool include_idle;
	bool no_demangle;
	struct symbolizer_opts sym;	/* symbol sources and naming (no_demangle set apart) */
	uint32_t max_stacks;
	enum session_unwind unwind;
	uint32_t unwind_max_mb;	/* cap on unwind table memory */
	bool no_python;		/* no Python frames (--python off) */
	bool no_php;		/* no PHP frames (--php off) */
	bool no_ruby;		/* no Ruby frames (--ruby off) */
	bool no_perl;		/* no Perl frames (--perl off) */
	bool no_v8;		/* no JavaScript frames (--v8 off) */
	bool no_hotspot;	/* no Java frames (--hotspot off) */
	const char *const *cgroups;	/* --cgroup arguments (paths or unit names) */
	int nr_cgroups;
	int group_by;		/* enum cgpath_group */
	bool all_cpus;		/* -a: the whole system even with a command */
	const char *cpus;	/* -C: CPU list sampled, NULL = every online CPU */
	struct svg_opts svg;	/* the SVG's options, its title included */
	enum profile_mode mode;	/* cpu (samples), offcpu or wall (microseconds) */
	uint32_t offcpu_min_us;	/* shorter off-CPU intervals are only summed */
	uint32_t offcpu_sample;	/* record 1 scheduler switch in N (0 or 1: all) */
};

/* Runs the session; 0 when the output was written, negative errno otherwise (logged). */
int session__run(const struct session_opts *o);

struct session;
struct evloop;
struct stacks;
struct procs;
struct profile;

/*
 * Loads the BPF program (falling back to frame pointers under UNWIND_AUTO when the unwinder
 * cannot load), starts the mapping events on loop and adds o->pids (or o->tids and their
 * processes) to the targets. Nothing is
 * sampled until session__attach. NULL with *err set and a message logged. o and loop must
 * outlive the session.
 */
struct session *session__new(const struct session_opts *o, struct evloop *loop, int *err);
/* Profiles one more process (the one-shot command). */
int session__add_pid(struct session *s, uint32_t pid);
/*
 * Starts sampling, learns the mappings of the processes already running, and arms the drain
 * and the duration's end.
 */
int session__attach(struct session *s);
/* Reads the pending mapping events (the loop does it as they come). */
void session__consume(struct session *s);
/* The next drain is the last (a one-shot profile's): see sampler__end(). */
void session__end(struct session *s);
/*
 * Moves everything counted so far in the kernel into the aggregate: mapping events first,
 * then the counts of the generation being closed. A sample lands in exactly one drain.
 */
int session__drain(struct session *s);
struct stacks *session__stacks(struct session *s);
struct procs *session__procs(struct session *s);
struct symbolizer;
/* Language runtimes (Python) name their frames through sym from now on. */
void session__use_symbolizer(struct session *s, struct symbolizer *sym);
/*
 * sym (NULL: none) is warmed at each drain with the stacks added since the last one
 * (symbolizer__warm), until the next profile is built from them. It must outlive the session's
 * loop turns.
 */
void session__warm_symbolizer(struct session *s, struct symbolizer *sym);
/* A profile was built: names of processes that have exited can go. */
void session__profile_built(struct session *s);
int session__nr_cpus(const struct session *s);
/* The cgroup hierarchy when --cgroup or --group-by asked for it, else NULL. */
struct cgroups *session__cgroups(struct session *s);
/*
 * Fills p's meta for a span [start_real, start_real + dur): the losses counted since the
 * previous call (or since the start), the host, the mode and the unwinder's state.
 */
void session__fill_meta(struct session *s, struct profile *p, uint64_t start_real, uint64_t dur);
/*
 * What does not depend on a span: mode, rate, host, target and CPUs (for a profile that is not
 * the session's window, as an HTTP capture; its losses and unwinding counts are the windows').
 */
struct profile_meta;
void session__fill_target(const struct session *s, struct profile_meta *m);
/* Logs what was written and what was lost, with the unwinder's figures at info level. */
void session__report(const struct session *s, const struct profile *p, const char *path);
/*
 * Off-CPU modes: the switches recorded and skipped and the intervals --offcpu-min-us only
 * summed, since the start, logged at prio (syslog level); nothing in CPU mode.
 */
void session__log_offcpu(const struct session *s, int prio);
void session__free(struct session *s);

#endif
