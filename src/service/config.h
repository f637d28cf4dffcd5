/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Settings of continuous mode. One declarative table of keys {name, parser, field, help}
 * serves the command line (the long option of the same name) and the config file
 * (`key = value` lines), so both accept exactly the same words and report the same errors.
 * Settings marked as run-time ones are applied on SIGHUP; the others need a restart.
 */
#ifndef FLAMED_CONFIG_H
#define FLAMED_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "service/session.h"

#define CONFIG_MSG_LEN 512

/* Where a key is accepted (config_key.modes). */
#define CONFIG_ONESHOT 1u	/* a one-shot profile */
#define CONFIG_CONTINUOUS 2u	/* continuous mode (command line and config file) */
#define CONFIG_SELECTS 4u	/* on the command line, selects continuous mode */
#define CONFIG_CMDLINE 8u	/* command line only, never in a config file */

struct config_pids {
	uint32_t n;
	uint32_t pid[64];
};

/* --cgroup arguments, as given: paths or unit names, resolved when the session starts. */
struct config_cgroups {
	uint32_t n;
	char arg[16][256];
};

struct config {
	/* Changeable at run time (SIGHUP). */
	uint64_t interval_ns;	/* window length */
	char output_dir[PATH_MAX - 64];	/* room for a window's file name */
	uint32_t keep;		/* windows kept, 0 = no limit */
	uint64_t max_bytes;	/* bytes of window files kept, 0 = no limit */
	unsigned int formats;	/* bit (1 << enum output_format) per format written */
	char title[256];	/* SVG title, "" = default */
	int verbose;		/* 0 notice, 1 info, 2 debug */
	/* SVG (run time too). */
	uint32_t svg_width;
	char svg_min_width[32];		/* pixels, or "N%" of the drawing width */
	int svg_colors;			/* enum svg_palette */
	bool svg_inverted;
	bool svg_reverse;
	bool svg_hash;
	uint32_t svg_font_size;		/* as flamed render's --font-size */
	uint32_t svg_frame_height;
	char svg_notes[512];		/* kept in the SVG's <desc>, "" = none */
	/* Fixed for the daemon's life. */
	struct config_pids pids;	/* none: system-wide */
	struct config_pids tids;	/* -t: threads (one-shot) */
	struct config_cgroups cgroups;	/* none: every cgroup */
	int group_by;			/* enum cgpath_group */
	uint64_t duration_ns;		/* 0 = until a signal (or the command's exit) */
	char output[PATH_MAX];		/* one-shot output file */
	int format;			/* enum output_format, FMT_NONE: from output's name */
	bool all_cpus;			/* -a */
	char cpus[256];			/* -C list, "" = every online CPU */
	bool callgraph;			/* -g, for perf's habit: stacks are always taken */
	uint32_t freq_hz;
	char event[16];
	bool include_idle;
	int profile_mode;		/* enum profile_mode */
	uint32_t offcpu_min_us;		/* shorter off-CPU intervals only summed */
	uint32_t offcpu_sample;		/* record 1 scheduler switch in N */
	bool no_demangle;
	uint32_t max_stacks;
	int unwind;		/* enum session_unwind */
	uint32_t unwind_max_mb;
	bool python;		/* Python frames (true by default) */
	bool php;		/* PHP frames (true by default) */
	bool ruby;		/* Ruby frames (true by default) */
	bool perl;		/* Perl frames (true by default) */
	bool v8;		/* JavaScript (V8) frames (true by default) */
	bool hotspot;		/* Java (HotSpot) code cache frames (true by default) */
	uint32_t symbol_cache_mb;	/* cap on cached symbol files */
	uint32_t perfmap_max_entries;	/* JIT functions kept per process's perf map */
	uint32_t perfmap_max_mb;	/* memory of one process's perf map */
	uint32_t perfmap_total_mb;	/* memory of all perf maps */
	uint32_t perfmap_read_ms;	/* time reading perf maps per window */
	char debug_dirs[1024];		/* ':'-separated, one per debug-dir setting */
	int debuginfod;			/* enum symbolizer_debuginfod */
	char debuginfod_urls[512];	/* "" = DEBUGINFOD_URLS */
	uint32_t debuginfod_timeout_s;
	bool lines;
	bool no_inline;
	bool no_params;
	/* Fleet (fleet.h, push.h, httpd.h), fixed for the daemon's life; "" = off. */
	char push_url[1024];
	int push_api;			/* enum push_api */
	char service_name[128];		/* "" = the host name */
	char labels[3200];		/* "key=value,..." merged from every label setting */
	unsigned int sample_labels;	/* FLEET_LABEL_* kept in pushed profiles */
	char push_token_file[512];
	char push_basic_auth_file[512];
	char push_tenant[128];
	char push_ca_file[512];
	uint32_t push_timeout_s;
	uint32_t push_max_samples;	/* distinct rows per pushed window, 0 = no limit */
	uint32_t push_max_age_s;	/* windows older are not sent, 0 = no limit */
	char spool_dir[512];		/* "" = windows wait in memory */
	uint64_t spool_max_bytes;
	char listen[64];
};

/* The defaults. */
void config__init(struct config *c);

/*
 * Sets one key from its text. 0; -ENOENT for an unknown key; -EINVAL for a bad value. msg
 * (CONFIG_MSG_LEN bytes) receives what went wrong and what is expected, without a location.
 */
int config__set(struct config *c, const char *key, const char *value, char *msg);

/*
 * Parses a config file's text; name is used in messages ("name:line: ..."). Stops at the
 * first error: -EINVAL (or -ENOENT for an unknown key) with msg filled.
 */
int config__parse(struct config *c, const char *buf, size_t len, const char *name, char *msg);
/* Reads and parses a file; -errno when it cannot be read (msg filled too). */
int config__load(struct config *c, const char *path, char *msg);

/* True when key names a setting (config files and the command line use the same names). */
bool config__is_key(const char *key);
/* True when key can change at run time (SIGHUP). */
bool config__key_runtime(const char *key);

/*
 * Compares two configs key by key: calls fn for each key whose value differs. Returns how
 * many differ.
 */
typedef void (*config_diff_fn)(void *ctx, const char *key, bool runtime);
int config__diff(const struct config *a, const struct config *b, config_diff_fn fn, void *ctx);
/* Copies key's value from src to dst. */
void config__copy_key(struct config *dst, const struct config *src, const char *key);
/* Writes key's value as config-file text into buf. */
void config__format(const struct config *c, const char *key, char *buf, size_t len);

/* The i-th key's name, NULL past the last. */
const char *config__key_name(size_t i);

/*
 * Command-line settings, kept as text so they can be applied again over the file on every
 * reload: the command line wins over the config file.
 */
#define CONFIG_MAX_ARGS 128
struct config_args {
	int n;
	const char *key[CONFIG_MAX_ARGS];
	const char *value[CONFIG_MAX_ARGS];
};

/* Records "--key value" (value "true" for a flag), checked when applied; 0 or -E2BIG. */
int config_args__add(struct config_args *a, const char *key, const char *value);
/* Applies the recorded settings in order; 0 or the first error (msg filled). */
int config_args__apply(const struct config_args *a, struct config *c, char *msg);

/*
 * The command line from the same table: getopt_long entries of every key (val: the short
 * letter, or CONFIG_OPT_BASE + index) into lo (at most max, no terminator) and their short
 * options into shortopts; returns how many entries.
 */
#define CONFIG_OPT_BASE 1000
struct option;
size_t config__getopt(struct option *lo, size_t max, char *shortopts, size_t len);
/* The key of a getopt_long result, NULL if it is none. */
const char *config__opt_key(int val);
/* The key's CONFIG_* modes, 0 for no key. */
unsigned int config__key_modes(const char *key);

/* --help: the keys of one section (0 profiling, 1 continuous, 2 fleet, 3 SVG), and one line. */
#define CONFIG_HELP_COL 23
void config__help(FILE *f, int section);
void config__help_line(FILE *f, int shortopt, const char *name, const char *arg,
		       const char *help);

/*
 * Resolves the settings of one run: defaults, then the config file (path, may be NULL), then
 * the command line (a), each key checked by the same table whatever its source; keys the mode
 * (CONFIG_ONESHOT or CONFIG_CONTINUOUS) does not take are refused, and so is a frequency
 * above the kernel's limit. 0 or negative errno with msg filled.
 */
int config__resolve(struct config *c, const char *path, const struct config_args *a,
		    unsigned int mode, char *msg);
/* The frequency against the kernel's perf_event_max_sample_rate (0: unknown, no limit). */
int config__check_rate(const struct config *c, uint64_t max_rate, char *msg);
uint64_t config__max_sample_rate(void);

/*
 * The settings of mode as config file lines (keys of the command line only as comments):
 * what --print-config shows.
 */
void config__print(const struct config *c, unsigned int mode, FILE *f);

/* What a resolved config gives each module; pointers into out and into the config. */
struct config_opts {
	struct session_opts session;	/* its sym: the symbolizer's */
	char debug_dirs[1024];
	const char *dirs[33];
	const char *cgroups[16];
};
void config__fill(const struct config *c, unsigned int mode, struct config_opts *out);
/* The fleet's (push, HTTP server, metrics): continuous mode. */
struct fleet_opts;
void config__fill_fleet(const struct config *c, struct fleet_opts *o);
/* The SVG's options alone (continuous mode: at each window, they change on SIGHUP). */
struct svg_opts;
void config__fill_svg(const struct config *c, struct svg_opts *o);
#define CONFIG_MAX_CPUS 4096

#endif
