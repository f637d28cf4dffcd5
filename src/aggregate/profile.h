/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The aggregated, symbolized profile: what every renderer (folded, SVG, pprof) reads and what
 * the folded/pprof parsers produce. Strings, mappings and frames are interned, so a stack is a
 * short array of frame ids and equal frames compare by id.
 */
#ifndef FLAMED_PROFILE_H
#define FLAMED_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum frame_kind {
	FRAME_USER = 0,	/* native user-space code */
	FRAME_KERNEL,	/* kernel, folded suffix _[k] */
	FRAME_INLINE,	/* inlined function, _[i] */
	FRAME_JIT,	/* JIT-compiled code, _[j] */
	FRAME_PYTHON,	/* a Python function (CPython interpreter frame), _[p] */
	FRAME_PHP,	/* a PHP function (Zend VM frame), _[z] */
	FRAME_V8,	/* a JavaScript function (V8 frame, named by V8's own metadata), _[v] */
	FRAME_RUBY,	/* a Ruby method or block (YARV control frame), _[r] */
	FRAME_PERL,	/* a Perl sub (a context of the interpreter's context stack), _[l] */
	FRAME_KIND_MAX,
};

/* A frame an interpreter's runtime names (Python to Perl): "name (file)", as its users read it. */
static inline bool frame_kind_is_runtime(unsigned int kind)
{
	return kind >= FRAME_PYTHON && kind <= FRAME_PERL;
}

/* Why samples were lost; counted in BPF or by the loader, reported in every output. */
enum profile_lost {
	LOST_COUNTS_FULL = 0,	/* the in-kernel counts map was full */
	LOST_USTACK,		/* user stack could not be fetched (collision, fault) */
	LOST_KSTACK,		/* kernel stack could not be fetched */
	LOST_DRAIN,		/* stack id vanished before the loader read it */
	LOST_AGGREGATE_FULL,	/* the window's stacks reached their memory bound (stacks.h) */
	LOST_MAX,
};

extern const char *const profile_lost_names[LOST_MAX];

struct profile_mapping {
	uint32_t file;		/* string id of the file name */
	uint32_t build_id;	/* string id of the hex build id, 0 if none */
	uint64_t start, limit;	/* address range in the process (0 when unknown) */
	uint64_t offset;	/* file offset of start */
};

struct profile_frame {
	uint32_t name;		/* string id */
	uint32_t mapping;	/* mapping id, 0 = none */
	uint64_t addr;		/* address in the process, or 0 when unknown */
	uint32_t kind;		/* enum frame_kind */
	/* Source, where DWARF has it (string ids and line, 0 = unknown): pprof's Function/Line. */
	uint32_t func;		/* the plain function name when name carries " (file:line)" */
	uint32_t file;		/* source file path */
	uint32_t line;
	uint32_t start_line;	/* the function's first line (its declaration for native code), 0 = unknown */
};

struct profile_sample {
	uint32_t first;		/* index of the first frame id in the frame-id pool */
	uint32_t nframes;	/* frames, outermost (root) first */
	uint64_t count;
	uint32_t pid;		/* 0 when unknown (folded input) */
	uint32_t comm;		/* string id of the process name; 0 = no process frame */
	uint32_t thread;	/* string id of the thread name; 0 = unknown */
	uint32_t attrib;	/* attribution id (profile__add_attrib), 0 = none */
};

/* Whose a sample is, from its cgroup (string ids, 0 = not known): labels in pprof. */
struct profile_attrib {
	uint32_t cgroup;	/* cgroup v2 path */
	uint32_t unit;		/* systemd unit */
	uint32_t container;	/* container id (hex) */
	uint32_t pod;		/* Kubernetes pod UID */
};

/*
 * What a profile's counts measure. CPU profiles count samples; off-CPU and wall-clock ones
 * count microseconds (flamegraph.pl --countname=us), written to pprof as nanoseconds.
 */
enum profile_mode {
	PROFILE_CPU = 0,	/* on-CPU samples */
	PROFILE_OFFCPU,		/* time switched out, by the stack that blocked */
	PROFILE_WALL,		/* on-CPU samples weighted by the period, plus off-CPU time */
	PROFILE_MODE_MAX,
};

/* "cpu", "offcpu", "wall" -> 0 and *ret; -EINVAL otherwise. */
int profile_mode__parse(const char *s, enum profile_mode *ret);
const char *profile_mode__name(enum profile_mode m);
/* pprof sample type: "samples"/"count" for CPU, "off_cpu"/"nanoseconds", "wall"/"nanoseconds". */
const char *profile_mode__pprof_type(enum profile_mode m);
/* What the counts mean in words: "samples", "off-CPU time", "wall-clock time". */
const char *profile_mode__what(enum profile_mode m);
/* The frame above an off-CPU stack, by enum offcpu_state (bpf/profile.h): "[blocked]", ... */
const char *profile__offcpu_state_name(uint32_t state);
/* Whether the n bytes at s are one of those names ("[off-cpu]" for an unknown state too). */
bool profile__is_offcpu_state(const char *s, size_t n);

struct profile_meta {
	enum profile_mode profile_mode;	/* what the counts measure */
	uint64_t start_ns;	/* wall clock (CLOCK_REALTIME) at the start, 0 = unknown */
	uint64_t duration_ns;	/* 0 = unknown */
	uint32_t freq_hz;	/* sampling frequency, 0 = unknown (folded input) */
	uint64_t samples;	/* samples counted (sum of the counts) */
	uint64_t lost[LOST_MAX];
	/* User-stack unwinding, when samples came from the live profiler. */
	uint64_t dwarf_stacks;		/* user stacks unwound with DWARF tables in BPF */
	uint64_t dwarf_fp_stacks;	/* ... that used frame pointers for some frames */
	uint64_t dwarf_truncated;	/* ... that stopped early (bad read, loop) */
	uint64_t unwind_table_bytes;	/* kernel memory of loaded unwind tables */
	uint32_t unwind_tables;		/* tables loaded */
	uint32_t unwind_tables_over_cap; /* binaries left to frame pointers by the memory cap */
	char unwind[8];			/* "fp", "dwarf" or "" */
	char host[256];		/* empty = unknown */
	char mode[64];		/* e.g. "system-wide", "pid 1234", "command ./prog" */
	uint32_t nr_cpus;	/* CPUs sampled, 0 = unknown */
	/* Frames the symbolizer looked up for this profile (symbolizer__build_profile). */
	uint64_t sym_frames;	/* user (once per address) and kernel frames, 0 = not symbolized */
	uint64_t sym_unnamed;	/* ... in a known file that no symbol covers */
	uint64_t sym_unknown;	/* ... outside any known mapping */
	uint64_t sym_jit;	/* ... named by a perf-PID.map */
};

struct profile;

struct profile *profile__new(void);
void profile__free(struct profile *p);

/* Interns a string (may contain any bytes but NUL); returns its id. Id 0 is always "". */
uint32_t profile__intern(struct profile *p, const char *s, size_t len);
uint32_t profile__intern_str(struct profile *p, const char *s);
const char *profile__str(const struct profile *p, uint32_t id);
size_t profile__str_len(const struct profile *p, uint32_t id);
size_t profile__nr_strs(const struct profile *p);

/* Interned mappings and frames. Ids start at 1; 0 means "none". Return 0 on ENOMEM. */
uint32_t profile__add_mapping(struct profile *p, const struct profile_mapping *m);
const struct profile_mapping *profile__mapping(const struct profile *p, uint32_t id);
size_t profile__nr_mappings(const struct profile *p);

uint32_t profile__add_frame(struct profile *p, const struct profile_frame *f);
const struct profile_frame *profile__frame(const struct profile *p, uint32_t id);
size_t profile__nr_frames(const struct profile *p);

/*
 * Adds a sample. frames are frame ids, outermost first. Samples are not merged here unless
 * profile__combine_samples() asked for it; renderers merge equal stacks (folded writer, SVG
 * tree). Returns 0 or -ENOMEM.
 */
int profile__add_sample(struct profile *p, const uint32_t *frames, size_t nframes, uint64_t count,
			uint32_t pid, uint32_t comm, uint32_t thread);
/*
 * From now on a sample equal to one already added (frames, pid, process, thread, no
 * attribution) adds its count to it, so memory follows the distinct stacks rather than the
 * samples read (a day of windows merged). Samples added before are indexed too. Only for
 * profiles whose samples are not changed after adding (profile__set_sample_attrib). 0 or
 * -ENOMEM.
 */
int profile__combine_samples(struct profile *p);
/* Attribution records: ids from 1, 0 on ENOMEM. Not interned: the caller reuses its ids. */
uint32_t profile__add_attrib(struct profile *p, const struct profile_attrib *a);
/* NULL for id 0 or an unknown id. */
const struct profile_attrib *profile__attrib(const struct profile *p, uint32_t id);
size_t profile__nr_attribs(const struct profile *p);
/* Sets the attribution of sample i (an id from profile__add_attrib). */
void profile__set_sample_attrib(struct profile *p, size_t i, uint32_t attrib);
size_t profile__nr_samples(const struct profile *p);
const struct profile_sample *profile__sample(const struct profile *p, size_t i);
const uint32_t *profile__sample_frames(const struct profile *p, const struct profile_sample *s);

struct profile_meta *profile__meta(struct profile *p);
const struct profile_meta *profile__meta_const(const struct profile *p);

/* Sum of sample counts. */
uint64_t profile__total(const struct profile *p);

/*
 * The largest sum of counts a profile may hold. Readers of counts from files (folded, pprof)
 * refuse input whose counts add up to more, so no total, frame width or merged count derived
 * from a profile can wrap around, and every count fits pprof's int64 values.
 */
#define PROFILE_MAX_TOTAL ((uint64_t)INT64_MAX)

/* Whether src's counts added to dst would take dst past PROFILE_MAX_TOTAL. */
bool profile__merge_overflows(struct profile *dst, const struct profile *src);
/*
 * Copies every sample of src into dst (frames and names re-interned; mappings, source lines
 * and attributions are not carried over: renderers do not draw them) and adds src's total to
 * dst's meta samples. 0, -ENOMEM, or -EOVERFLOW with dst untouched when the counts together
 * would pass PROFILE_MAX_TOTAL (dst's total is the samples of its meta, as readers keep it).
 */
int profile__merge(struct profile *dst, const struct profile *src);

#endif
