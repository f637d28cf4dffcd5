/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 3, symbolize: turns the aggregated raw stacks into a profile of named frames. Kernel
 * addresses through /proc/kallsyms; user addresses through the process's mappings (procs) and
 * the mapped file's symbols (symfile: symbol tables, debug files, MiniDebugInfo, debuginfod,
 * DWARF inline frames and lines); JIT code through perf-PID.map files. Files are cached by
 * identity (device + inode), never by pid, under a memory cap with LRU eviction.
 */
#ifndef FLAMED_SYMBOLIZE_H
#define FLAMED_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct procs;
struct stacks;
struct profile;

enum symbolizer_debuginfod {
	SYMBOLIZER_DEBUGINFOD_AUTO = 0,	/* on when DEBUGINFOD_URLS is set and not empty */
	SYMBOLIZER_DEBUGINFOD_OFF,
	SYMBOLIZER_DEBUGINFOD_ON,	/* needs servers: debuginfod_urls or DEBUGINFOD_URLS */
};

/* Zero is the default for every field. */
struct symbolizer_opts {
	bool no_demangle;	/* keep C++/Rust names mangled */
	bool no_params;		/* C++ names without their parameter lists */
	bool no_inline;		/* no DWARF inline frames */
	bool lines;		/* "name (file.c:42)" from DWARF line tables */
	/*
	 * No output wants source lines (an SVG or folded stacks without lines): DWARF line tables
	 * are not read. They are most of a DWARF file's memory (a pyenv libpython: 20 of 36 MiB).
	 */
	bool skip_lines;
	const char *const *debug_dirs;	/* NULL-terminated, searched before /usr/lib/debug */
	enum symbolizer_debuginfod debuginfod;
	const char *debuginfod_urls;	/* space-separated; overrides DEBUGINFOD_URLS */
	uint32_t debuginfod_timeout_s;	/* per file; 0 = 10 s (60 s for all files) */
	uint32_t cache_mb;	/* memory cap of cached symbol files; 0 = 512 MiB */
	/* perf-PID.map bounds (hostile input: the profiled user writes them); 0 = the default */
	uint32_t perfmap_max_entries;	/* functions kept per process; 0 = 1000000 */
	uint32_t perfmap_max_mb;	/* memory per process; 0 = 64 MiB */
	uint32_t perfmap_total_mb;	/* memory of all processes' maps; 0 = 256 MiB */
	uint32_t perfmap_read_ms;	/* reading maps per profile built (window); 0 = 200 ms */
};

struct symbolizer_stats {
	uint64_t files;		/* object files read */
	uint64_t files_warm;	/* of those, read by symbolizer__warm (while the targets ran) */
	uint64_t files_failed;	/* files that could not be opened or parsed */
	uint64_t files_refused;	/* sections, images, debug files left out for their size */
	uint64_t cache_hits;	/* mapping lookups served by the file cache */
	uint64_t cache_misses;
	uint64_t cache_evictions; /* files dropped to stay under the memory cap */
	uint64_t files_idle;	/* files dropped after FILE_IDLE_WINDOWS windows unused */
	uint64_t cache_bytes;	/* memory held by cached files now */
	uint64_t frames;	/* user + kernel frames symbolized (before inline expansion) */
	uint64_t frames_unknown; /* frames outside any known mapping */
	uint64_t frames_unnamed; /* frames in a known file but no symbol covers them */
	uint64_t frames_inline;	/* inline frames added (DWARF, Go tables, JIT scopes) */
	uint64_t frames_jit;	/* JIT frames named (a runtime's hook or a perf-PID.map) */
	uint64_t frames_runtime; /* frames of language runtimes (Python) named by their hook */
	uint64_t addr_hits;	/* addresses served by the per-profile address cache */
	uint64_t dwarf_files;	/* files with DWARF indexed */
	uint64_t go_files;	/* Go binaries named from their .gopclntab */
	uint64_t debug_build_id; /* debug files found by build id */
	uint64_t debug_debuglink; /* ... by .gnu_debuglink (CRC checked) */
	uint64_t debug_debuginfod; /* ... fetched from debuginfod */
	uint64_t debug_minidebuginfo; /* MiniDebugInfo images unpacked */
	uint64_t debuginfod_failed; /* debuginfod queries that failed or timed out */
	uint64_t perfmaps;	/* perf-PID.map files read */
	uint64_t perfmap_bytes;	/* bytes of them parsed (each byte once: reads are incremental) */
	uint64_t perfmap_dropped; /* JIT functions dropped by the per-process or total bounds */
	uint64_t perfmap_deferred; /* map reads cut by the time budget, resumed in the next window */
	uint64_t perfmap_resets; /* maps that shrank or were replaced, read again from the start */
	uint64_t perfmap_held;	/* memory held by perf maps now */
	/* The most one window spent reading and indexing perf maps (wall time, budget included). */
	uint64_t perfmap_window_max_ns;
};

/* "auto", "on", "off" <-> the enum; -EINVAL for anything else. */
int symbolize__parse_debuginfod(const char *s, enum symbolizer_debuginfod *ret);
const char *symbolize__debuginfod_name(enum symbolizer_debuginfod d);

/*
 * Splits a ':'-separated list of directories into dirs (max - 1 entries at most, then NULL);
 * the strings point into list, which is modified.
 */
void symbolize__split_dirs(char *list, const char **dirs, size_t max);

struct symbolizer;

struct symbolizer *symbolizer__new(struct procs *procs, const struct symbolizer_opts *o);
void symbolizer__free(struct symbolizer *s);

/*
 * Appends every aggregated sample of st to p, with named frames. Can be called again with new
 * samples (a new window); symbol files stay cached. 0 or -ENOMEM.
 */
int symbolizer__build_profile(struct symbolizer *s, const struct stacks *st, struct profile *p);
/*
 * Reads what the samples of st from index from on will need (symbol files, DWARF units,
 * kernel symbols) into the caches, until budget_ns has passed: the profile built later finds
 * them warm. Returns the index to continue from (stacks__nr_samples(st) when all were seen).
 */
size_t symbolizer__warm(struct symbolizer *s, const struct stacks *st, size_t from,
			uint64_t budget_ns);
/*
 * Attribution: samples with a cgroup id get its path, unit, container and pod (profile_attrib),
 * and with group_by (enum cgpath_group) the group and the process name as their first frames.
 * cg (NULL: none) must outlive the symbolizer.
 */
struct cgroups;
void symbolizer__set_cgroups(struct symbolizer *s, struct cgroups *cg, int group_by);
/* The outputs changed (a reload): whether they want source lines (symbolizer_opts.skip_lines). */
void symbolizer__set_skip_lines(struct symbolizer *s, bool skip);
void symbolizer__stats(const struct symbolizer *s, struct symbolizer_stats *st);
/* One pr_info line with the statistics above. */
void symbolizer__log_stats(const struct symbolizer *s);

/* A language runtime's frame as its module names it; strings live until the hook's next call. */
struct runtime_sym {
	const char *name;	/* shown: "hot (app.py)", with lines "hot (app.py:42)" */
	const char *func;	/* the function alone ("hot"), pprof's Function.name; NULL: name */
	const char *file;	/* its source file as the runtime has it; NULL: unknown */
	uint32_t line;		/* the line running, 0: unknown */
	uint32_t start_line;	/* the function's first line, 0: unknown */
	bool inlined;		/* a JIT's frame inlined into the one before it (_[i]) */
};

/*
 * Names a language runtime's frame (bpf/runtime.h) of process pid into ret
 * (its name with its line when lines is set); returns its enum frame_kind, or < 0 when it
 * cannot be named. Registered by the runtime modules (src/runtime/), so the symbolizer knows
 * no runtime.
 */
typedef int (*symbolize_runtime_fn)(void *ctx, uint32_t pid, uint64_t frame, bool lines,
				    struct runtime_sym *ret);
/*
 * Adds a runtime's namer (once: adding the same again is a no-op). Each is asked in turn and
 * returns -ENOENT for a frame whose tag (bpf/runtime.h) is not its own. 0, or -ENOSPC past
 * SYMBOLIZER_MAX_RUNTIMES.
 */
#define SYMBOLIZER_MAX_RUNTIMES 8
int symbolizer__add_runtime_hook(struct symbolizer *s, symbolize_runtime_fn fn, void *ctx);

/*
 * Names an address of anonymous executable memory (JIT code) of process pid, before its perf
 * map is asked: addr is the leaf's PC, or (leaf false) the call before a return address. Its
 * frames into ret (at most max), root first: the compiled function, then the calls inlined
 * into it there (inlined set), each named with its line when lines is set; strings live until
 * the hook's next call. The number of frames, 0 when addr is not the hook's code. Registered
 * by runtime modules that find their JIT code themselves (src/runtime/hotspot.c).
 */
typedef int (*symbolize_jit_fn)(void *ctx, uint32_t pid, uint64_t addr, bool leaf, bool lines,
				struct runtime_sym *ret, int max);
/* Adds a JIT namer (once, as runtime hooks); 0, or -ENOSPC past SYMBOLIZER_MAX_RUNTIMES. */
int symbolizer__add_jit_hook(struct symbolizer *s, symbolize_jit_fn fn, void *ctx);

/* Demangles C++ and Rust names; returns a malloc'd string or NULL when name is not mangled. */
char *symbolize__demangle(const char *name);
/* The same; without C++ parameter lists when params is false. */
char *symbolize__demangle_opts(const char *name, bool params);

#endif
