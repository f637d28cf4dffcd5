// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sample/cgpath.h"
#include "sample/procs.h"
#include "service/config.h"
#include "symbolize/symbolize.h"
#include "service/fleet.h"
#include "export/httpd.h"
#include "base/output.h"
#include "export/push.h"
#include "service/session.h"
#include "render/svg.h"
#include "sample/sampler.h"
#include "base/util.h"

/* A config file is a few hundred bytes; anything much larger is not one. */
#define CONFIG_MAX_FILE (1 << 20)
#define CONFIG_MAX_LINE 4096

struct config_key;
typedef int (*parse_fn)(const struct config_key *k, const char *v, void *dst);
typedef void (*format_fn)(const struct config_key *k, const void *src, char *buf, size_t len);

struct config_key {
	const char *name;
	parse_fn parse;
	format_fn format;
	size_t off, size;
	uint64_t min, max;	/* numbers: accepted range */
	bool runtime;		/* applied on SIGHUP */
	const char *expect;	/* what a valid value looks like, for error messages */
	int shortopt;		/* the short option's letter, 0 for none */
	const char *arg;	/* the option's argument in --help, NULL for a flag */
	unsigned int modes;	/* CONFIG_ONESHOT, CONFIG_CONTINUOUS, ... */
	int section;		/* of --help: 0 profiling, 1 continuous, 2 fleet */
	const char *help;
};

static int parse_interval(const struct config_key *k, const char *v, void *dst)
{
	double d, mul = 1;
	char *end;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || (*v < '0' || *v > '9'))
		return -EINVAL;
	if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	d *= mul;
	if (!(d >= 0.1 && d <= 7 * 86400.0))
		return -EINVAL;
	*(uint64_t *)dst = (uint64_t)(d * 1e9 + 0.5);
	return 0;
}

static void format_interval(const struct config_key *k, const void *src, char *buf, size_t len)
{
	snprintf(buf, len, "%g", *(const uint64_t *)src / 1e9);
}

static int parse_str(const struct config_key *k, const char *v, void *dst)
{
	size_t n = strlen(v);

	if (n >= k->size || (k->min && n < k->min))
		return -EINVAL;
	memcpy(dst, v, n + 1);
	return 0;
}

static void format_str(const struct config_key *k, const void *src, char *buf, size_t len)
{
	snprintf(buf, len, "%s", (const char *)src);
}

static int parse_uint(const struct config_key *k, const char *v, void *dst)
{
	uint64_t x;

	if (parse_u64(v, k->max, &x) || x < k->min)
		return -EINVAL;
	/* uint32_t and int fields alike: values are range-checked to fit either. */
	if (k->size == sizeof(uint32_t))
		*(uint32_t *)dst = x;
	else
		*(uint64_t *)dst = x;
	return 0;
}

/* A number, or "auto" (0: the sampler derives it). */
static int parse_uint_auto(const struct config_key *k, const char *v, void *dst)
{
	if (!strcmp(v, "auto")) {
		*(uint32_t *)dst = 0;
		return 0;
	}
	return parse_uint(k, v, dst);
}

static void format_uint_auto(const struct config_key *k, const void *src, char *buf, size_t len)
{
	uint32_t x = *(const uint32_t *)src;

	if (x)
		snprintf(buf, len, "%u", x);
	else
		snprintf(buf, len, "auto");
}

static void format_uint(const struct config_key *k, const void *src, char *buf, size_t len)
{
	unsigned long long x;

	if (k->size == sizeof(uint32_t))
		x = *(const uint32_t *)src;
	else
		x = *(const uint64_t *)src;
	snprintf(buf, len, "%llu", x);
}

/* Bytes with an optional binary suffix: 1048576, 512K, 100M, 2G, 1T (also "MiB", "MB"). */
static int parse_size(const struct config_key *k, const char *v, void *dst)
{
	static const char units[] = "KMGT";
	unsigned long long x;
	const char *u;
	char *end;
	int shift = 0;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		u = strchr(units, *end >= 'a' ? *end - 'a' + 'A' : *end);
		if (!u || !*u)
			return -EINVAL;
		shift = 10 * (int)(u - units + 1);
		end++;
		if (*end && strcmp(end, "B") && strcmp(end, "iB"))
			return -EINVAL;
		if (x > (UINT64_MAX >> shift))
			return -EINVAL;
	}
	*(uint64_t *)dst = (uint64_t)x << shift;
	return 0;
}

static void format_size(const struct config_key *k, const void *src, char *buf, size_t len)
{
	uint64_t x = *(const uint64_t *)src;

	if (x && !(x & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%lluG", (unsigned long long)(x >> 30));
	else if (x && !(x & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%lluM", (unsigned long long)(x >> 20));
	else if (x && !(x & ((1ULL << 10) - 1)))
		snprintf(buf, len, "%lluK", (unsigned long long)(x >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)x);
}

static int parse_bool(const struct config_key *k, const char *v, void *dst)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(v, yes[i])) {
			*(bool *)dst = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*(bool *)dst = false;
			return 0;
		}
	}
	return -EINVAL;
}

static void format_bool(const struct config_key *k, const void *src, char *buf, size_t len)
{
	snprintf(buf, len, "%s", *(const bool *)src ? "true" : "false");
}

/* "svg,folded,pprof" in any order, each at most once. */
static int parse_formats(const struct config_key *k, const char *v, void *dst)
{
	unsigned int set = 0;
	const char *p = v;

	while (*p) {
		size_t n = strcspn(p, ",");
		char word[16];
		enum output_format f;

		if (!n || n >= sizeof(word))
			return -EINVAL;
		memcpy(word, p, n);
		word[n] = '\0';
		f = output__format_from_name(word);
		if (f == FMT_NONE || (set & (1u << f)))
			return -EINVAL;
		set |= 1u << f;
		p += n;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	if (!set)
		return -EINVAL;
	*(unsigned int *)dst = set;
	return 0;
}

static void format_formats(const struct config_key *k, const void *src, char *buf, size_t len)
{
	static const enum output_format order[] = { FMT_SVG, FMT_FOLDED, FMT_PPROF };
	unsigned int set = *(const unsigned int *)src;
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(order) && n < len; i++)
		if (set & (1u << order[i]))
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "",
				      output__format_name(order[i]));
}

static int parse_event(const struct config_key *k, const char *v, void *dst)
{
	if (strcmp(v, "cpu-clock") && strcmp(v, "cycles"))
		return -EINVAL;
	return parse_str(k, v, dst);
}

static const char *const unwind_names[] = {
	[UNWIND_AUTO] = "auto",
	[UNWIND_FP] = "fp",
	[UNWIND_DWARF] = "dwarf",
};

/*
 * Repeatable: each setting adds directories (absolute, ':'-separated as the value is written
 * back) to the list; an empty value clears it.
 */
static int parse_debug_dir(const struct config_key *k, const char *v, void *dst)
{
	char *list = dst;
	size_t n = strlen(list), m = strlen(v);
	const char *p;

	if (!m) {
		list[0] = '\0';
		return 0;
	}
	for (p = v; *p; p = strchr(p, ':') ? strchr(p, ':') + 1 : p + strlen(p))
		if (*p != '/')
			return -EINVAL;
	if (n + m + 2 > k->size)
		return -EINVAL;
	if (n)
		list[n++] = ':';
	memcpy(list + n, v, m + 1);
	return 0;
}

static int parse_debuginfod(const struct config_key *k, const char *v, void *dst)
{
	return symbolize__parse_debuginfod(v, (enum symbolizer_debuginfod *)dst);
}

static void format_debuginfod(const struct config_key *k, const void *src, char *buf,
			      size_t len)
{
	snprintf(buf, len, "%s",
		 symbolize__debuginfod_name(*(const enum symbolizer_debuginfod *)src));
}

static int parse_unwind(const struct config_key *k, const char *v, void *dst)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unwind_names); i++) {
		if (!strcmp(v, unwind_names[i])) {
			*(int *)dst = i;
			return 0;
		}
	}
	return -EINVAL;
}

static void format_unwind(const struct config_key *k, const void *src, char *buf, size_t len)
{
	int u = *(const int *)src;

	snprintf(buf, len, "%s",
		 u >= 0 && u < (int)ARRAY_SIZE(unwind_names) ? unwind_names[u] : "?");
}

static int parse_profile_mode(const struct config_key *k, const char *v, void *dst)
{
	enum profile_mode m;

	if (profile_mode__parse(v, &m))
		return -EINVAL;
	*(int *)dst = m;
	return 0;
}

static void format_profile_mode(const struct config_key *k, const void *src, char *buf,
				size_t len)
{
	snprintf(buf, len, "%s", profile_mode__name(*(const int *)src));
}

static void format_int(const struct config_key *k, const void *src, char *buf, size_t len)
{
	snprintf(buf, len, "%d", *(const int *)src);
}

/* A running process, checked when given: a typo fails now, not after the BPF load. */
static int parse_pid(const struct config_key *k, const char *v, void *dst)
{
	struct config_pids *p = dst;
	char path[64];
	uint64_t pid;

	if (parse_u64(v, 4194304, &pid) || !pid || p->n == ARRAY_SIZE(p->pid))
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%llu", (unsigned long long)pid);
	if (access(path, F_OK))
		return -ESRCH;
	p->pid[p->n++] = pid;
	return 0;
}

/*
 * Running threads, ','-separated, added to those before; checked when given like a pid. A
 * zombie (a leader whose other threads still run) is no running thread.
 */
static int parse_tid(const struct config_key *k, const char *v, void *dst)
{
	struct config_pids *p = dst, t = *p;
	char one[32];
	uint64_t tid;
	uint32_t tgid, i;
	size_t n;
	int err;

	do {
		n = strcspn(v, ",");
		if (n >= sizeof(one))
			return -EINVAL;
		memcpy(one, v, n);
		one[n] = '\0';
		if (parse_u64(one, 4194304, &tid) || !tid)
			return -EINVAL;
		err = procs__thread_tgid(tid, &tgid);
		if (err)
			return err == -ESRCH ? -ESRCH : -EINVAL;
		for (i = 0; i < t.n && t.pid[i] != tid; i++)
			;
		if (i == t.n) {
			if (t.n == ARRAY_SIZE(t.pid))
				return -EINVAL;
			t.pid[t.n++] = tid;
		}
		v += n;
	} while (*v++ == ',');
	*p = t;
	return 0;
}

static void format_pids(const struct config_key *k, const void *src, char *buf, size_t len)
{
	const struct config_pids *p = src;
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < p->n && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%u", i ? "," : "", p->pid[i]);
}

/*
 * Cgroup paths or unit names, ','-separated, added to those before ("" clears them); whether
 * they exist is told when the session starts.
 */
static int parse_cgroup(const struct config_key *k, const char *v, void *dst)
{
	struct config_cgroups *c = dst, t = *c;
	const char *p = v;

	if (!*v) {
		c->n = 0;
		return 0;
	}
	for (;;) {
		size_t n = strcspn(p, ",");

		if (!n || n >= sizeof(t.arg[0]) || t.n == ARRAY_SIZE(t.arg))
			return -EINVAL;
		memcpy(t.arg[t.n], p, n);
		t.arg[t.n++][n] = '\0';
		if (!p[n])
			break;
		p += n + 1;
	}
	*c = t;
	return 0;
}

static void format_cgroups(const struct config_key *k, const void *src, char *buf, size_t len)
{
	const struct config_cgroups *c = src;
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < c->n && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? "," : "", c->arg[i]);
}

static int parse_group_by(const struct config_key *k, const char *v, void *dst)
{
	return cgpath__parse_group_by(v, dst);
}

static void format_group_by(const struct config_key *k, const void *src, char *buf, size_t len)
{
	int g = *(const int *)src;

	snprintf(buf, len, "%s", g >= 0 && g < CGPATH_GROUP_MAX ? cgpath_group_names[g] : "?");
}

static int parse_duration(const struct config_key *k, const char *v, void *dst)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d > 0) || d > 365.0 * 86400)
		return -EINVAL;
	*(uint64_t *)dst = (uint64_t)(d * 1e9);
	return 0;
}

static void format_duration(const struct config_key *k, const void *src, char *buf, size_t len)
{
	uint64_t ns = *(const uint64_t *)src;

	/* Unset is no value one could give. */
	if (ns)
		snprintf(buf, len, "%.9g", ns / 1e9);
	else
		buf[0] = '\0';
}

static int parse_format(const struct config_key *k, const char *v, void *dst)
{
	enum output_format f = output__format_from_name(v);

	if (f == FMT_NONE)
		return -EINVAL;
	*(int *)dst = f;
	return 0;
}

static void format_format(const struct config_key *k, const void *src, char *buf, size_t len)
{
	int f = *(const int *)src;

	snprintf(buf, len, "%s", f == FMT_NONE ? "" : output__format_name(f));
}

/* A CPU list as perf's -C: "0", "0-3,8"; checked against online CPUs when sampling starts. */
static int parse_cpus(const struct config_key *k, const char *v, void *dst)
{
	bool *cpus;
	int n;

	/* Empty: every online CPU again. */
	if (!*v)
		return parse_str(k, v, dst);
	cpus = calloc(CONFIG_MAX_CPUS, sizeof(bool));
	if (!cpus)
		return -ENOMEM;
	n = *v >= '0' && *v <= '9' ? parse_cpu_list(v, cpus, CONFIG_MAX_CPUS) : -EINVAL;
	free(cpus);
	return n <= 0 ? -EINVAL : parse_str(k, v, dst);
}

/* perf's --call-graph: fp, dwarf[,SIZE] (SIZE accepted and unused: no stack is copied), auto. */
static int parse_call_graph(const struct config_key *k, const char *v, void *dst)
{
	uint64_t size;

	if (!strncmp(v, "dwarf,", 6)) {
		if (parse_u64(v + 6, 65528, &size) || !size)
			return -EINVAL;
		v = "dwarf";
	}
	return parse_unwind(k, v, dst);
}

/* flamegraph.pl's --minwidth: pixels, or "N%" of the drawing width. */
static int parse_min_width(const struct config_key *k, const char *v, void *dst)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *v < '0' || *v > '9' || (*end && strcmp(end, "%")) ||
	    !(d >= 0) || d > (*end ? 100 : 1000000))
		return -EINVAL;
	return parse_str(k, v, dst);
}

static int parse_colors(const struct config_key *k, const char *v, void *dst)
{
	int p = svg_palette__from_name(v);

	if (p < 0)
		return -EINVAL;
	*(int *)dst = p;
	return 0;
}

static void format_colors(const struct config_key *k, const void *src, char *buf, size_t len)
{
	snprintf(buf, len, "%s", svg_palette__name(*(const int *)src));
}

/* 0 (off) or at least 100 rows: a limit of a few rows would leave only remainders. */
static int parse_max_samples(const struct config_key *k, const char *v, void *dst)
{
	uint64_t x;

	if (parse_u64(v, k->max, &x) || (x && x < 100))
		return -EINVAL;
	*(uint32_t *)dst = x;
	return 0;
}

/* Fleet keys: the checks live with the modules that use the values (push.h, httpd.h, fleet.h). */
static int parse_push_url(const struct config_key *k, const char *v, void *dst)
{
	return *v && push__check_url(v) ? -EINVAL : parse_str(k, v, dst);
}

static int parse_push_api(const struct config_key *k, const char *v, void *dst)
{
	int i;

	for (i = 0; i < PUSH_API_MAX; i++) {
		if (!strcmp(v, push_api_names[i])) {
			*(int *)dst = i;
			return 0;
		}
	}
	return -EINVAL;
}

static void format_push_api(const struct config_key *k, const void *src, char *buf, size_t len)
{
	int a = *(const int *)src;

	snprintf(buf, len, "%s", a >= 0 && a < PUSH_API_MAX ? push_api_names[a] : "?");
}

static int parse_service_name(const struct config_key *k, const char *v, void *dst)
{
	return *v && push__check_service_name(v) ? -EINVAL : parse_str(k, v, dst);
}

/* Every label setting adds to (or replaces a key of) the list. */
static int parse_label(const struct config_key *k, const char *v, void *dst)
{
	return push__merge_labels(dst, k->size, v);
}

static int parse_sample_labels(const struct config_key *k, const char *v, void *dst)
{
	return fleet__parse_sample_labels(v, dst);
}

static void format_sample_labels(const struct config_key *k, const void *src, char *buf,
				 size_t len)
{
	fleet__format_sample_labels(*(const unsigned int *)src, buf, len);
}

/* Goes into an HTTP header: printable ASCII without spaces. */
static int parse_header_value(const struct config_key *k, const char *v, void *dst)
{
	const char *p;

	for (p = v; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return -EINVAL;
	return parse_str(k, v, dst);
}

static int parse_listen(const struct config_key *k, const char *v, void *dst)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return *v && httpd__parse_listen(v, &ss, &len) ? -EINVAL : parse_str(k, v, dst);
}

#define FIELD(f) .off = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)

/* Who may set a key, and where --help lists it. */
#define BOTH (CONFIG_ONESHOT | CONFIG_CONTINUOUS)
#define CONT (CONFIG_CONTINUOUS | CONFIG_SELECTS)

/*
 * The settings, in --help's order. Each key is one long option of the same name (short: its
 * letter), one config file key unless CONFIG_CMDLINE, and one help entry; bounds and the
 * message of a bad value are the same whichever source the value came from.
 */
static const struct config_key keys[] = {
	/* Profiling, both modes. */
	{ .name = "pid", .shortopt = 'p', .arg = "PID", .parse = parse_pid, .format = format_pids,
	  FIELD(pids), .modes = BOTH | CONFIG_CMDLINE,
	  .expect = "a running process id such as 1234 (at most 64)",
	  .help = "profile only this process (all its threads); may repeat" },
	{ .name = "tid", .shortopt = 't', .arg = "TID", .parse = parse_tid, .format = format_pids,
	  FIELD(tids), .modes = CONFIG_ONESHOT | CONFIG_CMDLINE,
	  .expect = "running thread ids such as 1234 or 1234,1240 (at most 64)",
	  .help = "profile only these threads (TID[,TID...]), not the\n"
		  "threads they start; may repeat; ends when they are gone" },
	{ .name = "cgroup", .arg = "PATH|UNIT", .parse = parse_cgroup, .format = format_cgroups,
	  FIELD(cgroups), .modes = BOTH,
	  .expect = "cgroup v2 paths or unit names (NAME.service, .scope or .slice), "
		    "','-separated, each at most 255 bytes (at most 16)",
	  .help = "profile the processes of a cgroup v2 directory\n"
		  "(absolute, or relative to the cgroup2 mount) or of a\n"
		  "systemd unit (NAME.service|.scope|.slice, found in the\n"
		  "hierarchy), and below; may repeat; processes that join\n"
		  "later are profiled, ones that leave are not" },
	{ .name = "group-by", .arg = "KIND", .parse = parse_group_by, .format = format_group_by,
	  FIELD(group_by), .modes = BOTH, .expect = "none, cgroup, unit, container or pod",
	  .help = "none (default) | cgroup | unit | container | pod: adds the\n"
		  "group as the first frame, before the process name" },
	{ .name = "duration", .shortopt = 'd', .arg = "SECS", .parse = parse_duration,
	  .format = format_duration, FIELD(duration_ns), .modes = BOTH | CONFIG_CMDLINE,
	  .expect = "seconds > 0, such as 30 or 0.5",
	  .help = "stop after SECS seconds (default: until SIGINT/SIGTERM,\n"
		  "or until COMMAND exits)" },
	{ .name = "frequency", .shortopt = 'F', .arg = "HZ", .parse = parse_uint,
	  .format = format_uint, FIELD(freq_hz), .min = 1, .max = UINT32_MAX, .modes = BOTH,
	  .expect = "samples per second per CPU, from 1",
	  .help = "samples per second per CPU (default 99)" },
	{ .name = "output", .shortopt = 'o', .arg = "FILE", .parse = parse_str,
	  .format = format_str, FIELD(output), .min = 1, .modes = CONFIG_ONESHOT | CONFIG_CMDLINE,
	  .expect = "a file path",
	  .help = "output path; format from the extension: .svg, .folded\n"
		  "(or .txt), .pb.gz / .pprof (default: flamed.svg)" },
	{ .name = "format", .arg = "FMT", .parse = parse_format, .format = format_format,
	  FIELD(format), .modes = CONFIG_ONESHOT | CONFIG_CMDLINE,
	  .expect = "svg, folded or pprof",
	  .help = "svg | folded | pprof, overrides the extension" },
	{ .name = "event", .arg = "EV", .parse = parse_event, .format = format_str, FIELD(event),
	  .modes = BOTH, .expect = "cpu-clock or cycles",
	  .help = "cpu-clock (default) or cycles (hardware, where available)" },
	{ .name = "include-idle", .parse = parse_bool, .format = format_bool,
	  FIELD(include_idle), .modes = BOTH, .expect = "true or false",
	  .help = "count the idle task too (system-wide)" },
	/* Off-CPU and wall-clock profiles, both modes: windows and push say which they are. */
	{ .name = "mode", .arg = "MODE", .parse = parse_profile_mode,
	  .format = format_profile_mode, FIELD(profile_mode), .modes = BOTH,
	  .expect = "cpu, offcpu or wall",
	  .help = "cpu (default) | offcpu | wall\n"
		  "offcpu: time each thread spends switched out, by the stack it\n"
		  "blocked in, under [blocked], [uninterruptible], [preempted] or\n"
		  "[stopped]; wall: on-CPU samples (one period each) and off-CPU\n"
		  "time together, so each thread adds up to its wall-clock time;\n"
		  "both count microseconds (pprof: off_cpu or wall, nanoseconds)" },
	{ .name = "offcpu-min-us", .arg = "N", .parse = parse_uint, .format = format_uint,
	  FIELD(offcpu_min_us), .min = 0, .max = 60000000, .modes = BOTH,
	  .expect = "microseconds from 0 to 60000000",
	  .help = "off-CPU intervals shorter than N us are only summed\n"
		  "(default 0: all counted by stack)" },
	{ .name = "offcpu-sample", .arg = "N", .parse = parse_uint, .format = format_uint,
	  FIELD(offcpu_sample), .min = 1, .max = 1000000, .modes = BOTH,
	  .expect = "a number from 1 to 1000000",
	  .help = "record 1 scheduler switch in N at random, counted N times\n"
		  "(default 1: every switch; for switch storms)" },
	{ .name = "no-demangle", .parse = parse_bool, .format = format_bool, FIELD(no_demangle),
	  .modes = BOTH, .expect = "true or false",
	  .help = "keep C++/Rust symbol names mangled" },
	{ .name = "max-stacks", .arg = "N", .parse = parse_uint_auto, .format = format_uint_auto,
	  FIELD(max_stacks), .min = 64, .max = 1 << 24, .modes = BOTH,
	  .expect = "auto or a number from 64 to 16777216",
	  .help = "distinct stacks per drain the kernel can hold (default auto:\n"
		  "every sample of 4 drains at the rate on every CPU, 4096 to\n"
		  "1048576; 16384 at least with off-CPU time)" },
	{ .name = "unwind", .arg = "MODE", .parse = parse_unwind, .format = format_unwind,
	  FIELD(unwind), .modes = BOTH, .expect = "auto, fp or dwarf",
	  .help = "auto (default: DWARF unwind tables where a binary has them,\n"
		  "frame pointers elsewhere), fp, or dwarf (fail if unavailable)" },
	{ .name = "unwind-max-mb", .arg = "N", .parse = parse_uint, .format = format_uint,
	  FIELD(unwind_max_mb), .min = 1, .max = 16384, .modes = BOTH,
	  .expect = "megabytes from 1 to 16384",
	  .help = "memory cap for unwind tables in the kernel (default 64)" },
	{ .name = "python", .arg = "on|off", .parse = parse_bool, .format = format_bool,
	  FIELD(python), .modes = BOTH, .expect = "on or off",
	  .help = "name Python functions (CPython 3.7-3.13) among native\n"
		  "frames, suffix _[p] (default on; needs DWARF unwinding)" },
	{ .name = "php", .arg = "on|off", .parse = parse_bool, .format = format_bool,
	  FIELD(php), .modes = BOTH, .expect = "on or off",
	  .help = "name PHP functions (PHP 8.2, non-ZTS) among native\n"
		  "frames, suffix _[z] (default on; needs DWARF unwinding)" },
	{ .name = "ruby", .arg = "on|off", .parse = parse_bool, .format = format_bool,
	  FIELD(ruby), .modes = BOTH, .expect = "on or off",
	  .help = "name Ruby methods and blocks (CRuby 3.1) among native\n"
		  "frames, suffix _[r] (default on; needs DWARF unwinding)" },
	{ .name = "perl", .arg = "on|off", .parse = parse_bool, .format = format_bool,
	  FIELD(perl), .modes = BOTH, .expect = "on or off",
	  .help = "name Perl subs (perl 5.36, main interpreter) among\n"
		  "native frames, suffix _[l] (default on; needs DWARF unwinding)" },
	{ .name = "v8", .arg = "on|off", .parse = parse_bool, .format = format_bool,
	  FIELD(v8), .modes = BOTH, .expect = "on or off",
	  .help = "name JavaScript functions of Node.js (V8's own metadata,\n"
		  "no --perf-basic-prof) among native frames, suffix _[v]\n"
		  "(default on; needs DWARF unwinding)" },
	{ .name = "hotspot", .arg = "on|off", .parse = parse_bool, .format = format_bool,
	  FIELD(hotspot), .modes = BOTH, .expect = "on or off",
	  .help = "name and unwind compiled Java code of HotSpot JVMs (the\n"
		  "JVM's own VMStructs, no agent nor flag), suffix _[j]\n"
		  "(default on; needs DWARF unwinding)" },
	{ .name = "title", .arg = "TEXT", .parse = parse_str, .format = format_str, FIELD(title),
	  .runtime = true, .modes = BOTH, .expect = "text of at most 255 bytes",
	  .help = "SVG title" },
	{ .name = "debug-dir", .arg = "DIR", .parse = parse_debug_dir, .format = format_str,
	  FIELD(debug_dirs), .modes = BOTH,
	  .expect = "absolute directories, ':'-separated (may repeat)",
	  .help = "also look for separate debug files (build-id/, debuglink)\n"
		  "under DIR, before /usr/lib/debug; may repeat" },
	{ .name = "debuginfod", .arg = "MODE", .parse = parse_debuginfod,
	  .format = format_debuginfod, FIELD(debuginfod), .modes = BOTH,
	  .expect = "auto, on or off",
	  .help = "auto (default: on when DEBUGINFOD_URLS is set), on, off" },
	{ .name = "debuginfod-urls", .arg = "URLS", .parse = parse_str, .format = format_str,
	  FIELD(debuginfod_urls), .modes = BOTH, .expect = "space-separated server URLs",
	  .help = "debuginfod servers (overrides DEBUGINFOD_URLS)" },
	{ .name = "debuginfod-timeout", .arg = "SECS", .parse = parse_uint, .format = format_uint,
	  FIELD(debuginfod_timeout_s), .min = 0, .max = 600, .modes = BOTH,
	  .expect = "seconds from 0 (the default, 10) to 600",
	  .help = "per file (default 10)" },
	{ .name = "lines", .parse = parse_bool, .format = format_bool, FIELD(lines),
	  .modes = BOTH, .expect = "true or false",
	  .help = "source file:line on frames (from DWARF line tables)" },
	{ .name = "no-inline", .parse = parse_bool, .format = format_bool, FIELD(no_inline),
	  .modes = BOTH, .expect = "true or false", .help = "no DWARF inline frames (_[i])" },
	{ .name = "no-params", .parse = parse_bool, .format = format_bool, FIELD(no_params),
	  .modes = BOTH, .expect = "true or false",
	  .help = "C++ names without their parameter lists" },
	{ .name = "perfmap-max-entries", .arg = "N", .parse = parse_uint, .format = format_uint,
	  FIELD(perfmap_max_entries), .min = 1000, .max = 100000000, .modes = BOTH,
	  .expect = "a number of functions from 1000 to 100000000",
	  .help = "JIT functions kept per process from its\n"
		  "/tmp/perf-PID.map (default 1000000)" },
	{ .name = "perfmap-max-mb", .arg = "N", .parse = parse_uint, .format = format_uint,
	  FIELD(perfmap_max_mb), .min = 1, .max = 65536, .modes = BOTH,
	  .expect = "megabytes from 1 to 65536",
	  .help = "memory of one process's perf map (default 64)" },
	{ .name = "perfmap-total-mb", .arg = "N", .parse = parse_uint, .format = format_uint,
	  FIELD(perfmap_total_mb), .min = 1, .max = 65536, .modes = BOTH,
	  .expect = "megabytes from 1 to 65536",
	  .help = "memory of all perf maps (default 256)" },
	{ .name = "perfmap-read-ms", .arg = "N", .parse = parse_uint, .format = format_uint,
	  FIELD(perfmap_read_ms), .min = 1, .max = 60000, .modes = BOTH,
	  .expect = "milliseconds from 1 to 60000",
	  .help = "time reading perf maps per window (default 200);\n"
		  "the rest is read, and named, in the next window" },
	{ .name = "verbose", .shortopt = 'v', .parse = parse_uint, .format = format_int,
	  FIELD(verbose), .max = 2, .runtime = true, .modes = BOTH,
	  .expect = "0 (notices), 1 (information) or 2 (debug)",
	  .help = "more messages (twice: debug)" },
	/* perf's habits. */
	{ .name = "all-cpus", .shortopt = 'a', .parse = parse_bool, .format = format_bool,
	  FIELD(all_cpus), .modes = BOTH, .expect = "true or false",
	  .help = "the whole system (perf -a); with a command, until it exits" },
	{ .name = "cpu", .shortopt = 'C', .arg = "CPUS", .parse = parse_cpus, .format = format_str,
	  FIELD(cpus), .modes = BOTH, .expect = "a CPU list such as 0, 0-3 or 0,2-3",
	  .help = "sample only these CPUs (perf -C), such as 0-3,8" },
	{ .name = "g", .shortopt = 'g', .parse = parse_bool, .format = format_bool,
	  FIELD(callgraph), .modes = BOTH | CONFIG_CMDLINE, .expect = "true or false",
	  .help = "accepted as perf -g: stacks are always recorded" },
	{ .name = "call-graph", .arg = "MODE", .parse = parse_call_graph, .format = format_unwind,
	  FIELD(unwind), .modes = BOTH, .expect = "auto, fp, dwarf or dwarf,SIZE",
	  .help = "as perf: fp, dwarf[,SIZE] or auto, the same as --unwind\n"
		  "(SIZE is accepted: no stack is copied, tables unwind in BPF)" },
	/* The SVG, both modes (as flamed render's). */
	{ .name = "width", .arg = "PX", .parse = parse_uint, .format = format_uint,
	  FIELD(svg_width), .min = 100, .max = 1000000, .runtime = true, .modes = BOTH,
	  .section = 3, .expect = "pixels from 100 to 1000000", .help = "image width (1200)" },
	{ .name = "min-width", .arg = "PX|PCT%", .parse = parse_min_width, .format = format_str,
	  FIELD(svg_min_width), .runtime = true, .modes = BOTH, .section = 3,
	  .expect = "pixels such as 0.5, or a percentage such as 0.1%",
	  .help = "leave out frames narrower than this (0.1 pixels)" },
	{ .name = "colors", .arg = "PALETTE", .parse = parse_colors, .format = format_colors,
	  FIELD(svg_colors), .runtime = true, .modes = BOTH, .section = 3,
	  .expect = "hot, mem, io, red, green, blue, aqua, yellow, purple, orange or lang",
	  .help = "hot mem io red green blue aqua yellow purple orange lang" },
	{ .name = "inverted", .parse = parse_bool, .format = format_bool, FIELD(svg_inverted),
	  .runtime = true, .modes = BOTH, .section = 3, .expect = "true or false",
	  .help = "icicle graph: root at the top" },
	{ .name = "reverse", .parse = parse_bool, .format = format_bool, FIELD(svg_reverse),
	  .runtime = true, .modes = BOTH, .section = 3, .expect = "true or false",
	  .help = "reverse stacks: merge from the leaves" },
	{ .name = "hash", .parse = parse_bool, .format = format_bool, FIELD(svg_hash),
	  .runtime = true, .modes = BOTH, .section = 3, .expect = "true or false",
	  .help = "colour by name prefix: related names look alike" },
	{ .name = "font-size", .arg = "PX", .parse = parse_uint, .format = format_uint,
	  FIELD(svg_font_size), .min = 4, .max = 200, .runtime = true, .modes = BOTH,
	  .section = 3, .expect = "pixels from 4 to 200", .help = "font size (12)" },
	{ .name = "frame-height", .arg = "PX", .parse = parse_uint, .format = format_uint,
	  FIELD(svg_frame_height), .min = 4, .max = 1000, .runtime = true, .modes = BOTH,
	  .section = 3, .expect = "pixels from 4 to 1000", .help = "height of a frame (16)" },
	{ .name = "notes", .arg = "TEXT", .parse = parse_str, .format = format_str,
	  FIELD(svg_notes), .runtime = true, .modes = BOTH, .section = 3,
	  .expect = "text of at most 511 bytes", .help = "text kept in the SVG's description" },
	/* Continuous mode: any of these on the command line selects it. */
	{ .name = "output-dir", .arg = "DIR", .parse = parse_str, .format = format_str,
	  FIELD(output_dir), .min = 1, .runtime = true, .modes = CONT, .section = 1,
	  .expect = "a directory path",
	  .help = "every interval, write that window as\n"
		  "DIR/flamed-<UTC start>.<ext> (svg, folded, pb.gz) and\n"
		  "point DIR/latest.<ext> at it" },
	{ .name = "interval", .arg = "SECS", .parse = parse_interval, .format = format_interval,
	  FIELD(interval_ns), .runtime = true, .modes = CONT, .section = 1,
	  .expect = "seconds from 0.1 to 604800, such as 60, 0.5, 5m or 1h",
	  .help = "window length (default 60; also 0.5, 5m, 1h)" },
	{ .name = "keep", .arg = "N", .parse = parse_uint, .format = format_uint, FIELD(keep),
	  .max = 1000000, .runtime = true, .modes = CONT, .section = 1,
	  .expect = "a number of windows from 0 (no limit) to 1000000",
	  .help = "windows kept, the oldest removed first (default 60, 0: all)" },
	{ .name = "max-bytes", .arg = "SIZE", .parse = parse_size, .format = format_size,
	  FIELD(max_bytes), .runtime = true, .modes = CONT, .section = 1,
	  .expect = "a size such as 500M, 2G or 1048576 (bytes), or 0 for no limit",
	  .help = "total size of the windows kept, such as 500M (default 0:\n"
		  "no limit); the newest window is always kept" },
	{ .name = "formats", .arg = "LIST", .parse = parse_formats, .format = format_formats,
	  FIELD(formats), .runtime = true, .modes = CONT, .section = 1,
	  .expect = "a comma-separated list of svg, folded and pprof",
	  .help = "formats written per window: svg,folded,pprof (default svg)" },
	{ .name = "symbol-cache-mb", .arg = "N", .parse = parse_uint, .format = format_uint,
	  FIELD(symbol_cache_mb), .min = 8, .max = 65536, .modes = CONT, .section = 1,
	  .expect = "megabytes from 8 to 65536",
	  .help = "memory cap for cached symbol files (default 256)" },
	/* Fleet: push to Pyroscope, serve pprof and metrics. */
	{ .name = "push-url", .arg = "URL", .parse = parse_push_url, .format = format_str,
	  FIELD(push_url), .modes = CONT, .section = 2,
	  .expect = "an http:// or https:// URL such as http://pyroscope:4040, without ? or #",
	  .help = "after each window, POST its pprof to Pyroscope at URL\n"
		  "(http://host:4040); windows go out oldest first, once" },
	{ .name = "push-api", .arg = "API", .parse = parse_push_api, .format = format_push_api,
	  FIELD(push_api), .modes = CONT, .section = 2, .expect = "connect, ingest or otlp",
	  .help = "connect (default: /push.v1.PusherService/Push), ingest\n"
		  "(the older /ingest?name=...&from=&until=&format=pprof)\n"
		  "or otlp (OTLP/HTTP profiles: /v1development/profiles)" },
	{ .name = "service-name", .arg = "NAME", .parse = parse_service_name,
	  .format = format_str, FIELD(service_name), .modes = CONT, .section = 2,
	  .expect = "1 to 127 letters, digits, '.', '_', '-' or '/'",
	  .help = "service_name label (default: the host name)" },
	{ .name = "label", .arg = "KEY=VALUE", .parse = parse_label, .format = format_str,
	  FIELD(labels), .modes = CONT, .section = 2,
	  .expect = "key=value (key: letters, digits and '_', not starting with '__' nor "
		    "service_name; value: 1 to 127 bytes without , { } \" \\), at most 16 labels",
	  .help = "one more series label (hostname is always set); may\nrepeat" },
	{ .name = "sample-labels", .arg = "LIST", .parse = parse_sample_labels,
	  .format = format_sample_labels, FIELD(sample_labels), .modes = CONT, .section = 2,
	  .expect = "none, or a comma-separated list of process, pid and thread",
	  .help = "per-sample labels pushed: none (default: the process\n"
		  "name is the root frame), or any of process,pid,thread\n"
		  "(each distinct set is a series of its own in Pyroscope)" },
	{ .name = "push-token-file", .arg = "FILE", .parse = parse_str, .format = format_str,
	  FIELD(push_token_file), .modes = CONT, .section = 2, .expect = "a file path",
	  .help = "send the token in FILE as a bearer token (re-read when\n"
		  "the file changes)" },
	{ .name = "push-basic-auth-file", .arg = "FILE", .parse = parse_str,
	  .format = format_str, FIELD(push_basic_auth_file), .modes = CONT, .section = 2,
	  .expect = "a file path", .help = "send 'user:password' from FILE (basic auth)" },
	{ .name = "push-tenant", .arg = "ID", .parse = parse_header_value, .format = format_str,
	  FIELD(push_tenant), .modes = CONT, .section = 2,
	  .expect = "a tenant id of printable characters without spaces",
	  .help = "send X-Scope-OrgID: ID" },
	{ .name = "push-ca-file", .arg = "FILE", .parse = parse_str, .format = format_str,
	  FIELD(push_ca_file), .modes = CONT, .section = 2, .expect = "a file path",
	  .help = "trust these CAs for https (verification is always on)" },
	{ .name = "push-timeout", .arg = "SECS", .parse = parse_uint, .format = format_uint,
	  FIELD(push_timeout_s), .min = 1, .max = 600, .modes = CONT, .section = 2,
	  .expect = "seconds from 1 to 600", .help = "limit on one request (default 30)" },
	{ .name = "push-max-samples", .arg = "N", .parse = parse_max_samples,
	  .format = format_uint, FIELD(push_max_samples), .max = 100000000, .modes = CONT,
	  .section = 2, .expect = "0 (no limit) or a number of rows from 100 to 100000000",
	  .help = "distinct stacks (pprof samples) per pushed window (default\n"
		  "16000, Pyroscope's limit); the lightest past it are folded\n"
		  "into '[trimmed N stacks]' frames, counted and logged" },
	{ .name = "push-max-age", .arg = "SECS", .parse = parse_uint, .format = format_uint,
	  FIELD(push_max_age_s), .max = 2678400, .modes = CONT, .section = 2,
	  .expect = "seconds, 0 for no limit",
	  .help = "windows that started longer ago are not sent but\n"
		  "counted (default 3600, Pyroscope's reject_older_than)" },
	{ .name = "spool-dir", .arg = "DIR", .parse = parse_str, .format = format_str,
	  FIELD(spool_dir), .modes = CONT, .section = 2, .expect = "a directory path",
	  .help = "keep unsent windows here, across restarts too (default:\nin memory)" },
	{ .name = "spool-max-bytes", .arg = "SIZE", .parse = parse_size, .format = format_size,
	  FIELD(spool_max_bytes), .modes = CONT, .section = 2,
	  .expect = "a size such as 64M or 1G",
	  .help = "bound on unsent windows (default 64M); past it the\n"
		  "oldest are dropped, counted and logged" },
	{ .name = "listen", .arg = "[HOST:]PORT", .parse = parse_listen, .format = format_str,
	  FIELD(listen), .modes = CONT, .section = 2,
	  .expect = "PORT, HOST:PORT or [IPV6]:PORT with a numeric HOST (loopback when omitted)",
	  .help = "serve /debug/pprof/profile?seconds=N, /metrics and\n"
		  "/latest.svg over HTTP (HOST: numeric, default loopback)" },
};

static const struct config_key *find_key(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

void config__init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->interval_ns = 60 * 1000000000ULL;
	c->keep = 60;
	c->formats = 1u << FMT_SVG;
	c->freq_hz = 99;
	snprintf(c->event, sizeof(c->event), "cpu-clock");
	c->max_stacks = 0;	/* from the rate: sampler__stacks_for_rate() */
	c->offcpu_sample = 1;
	c->unwind = UNWIND_AUTO;
	c->unwind_max_mb = 64;
	c->python = true;
	c->php = true;
	c->ruby = true;
	c->perl = true;
	c->v8 = true;
	c->hotspot = true;
	/* Half the one-shot's: a daemon meets every binary the host ever runs. */
	c->symbol_cache_mb = 256;
	/* perf maps: a big node or JVM map is some 100,000 functions of 100 bytes. */
	c->perfmap_max_entries = 1000000;
	c->perfmap_max_mb = 64;
	c->perfmap_total_mb = 256;
	c->perfmap_read_ms = 200;
	c->push_api = PUSH_API_CONNECT;
	c->push_timeout_s = 30;
	c->push_max_samples = 16000;
	c->push_max_age_s = 3600;
	c->spool_max_bytes = 64ULL << 20;
	snprintf(c->output, sizeof(c->output), "flamed.svg");
	c->svg_width = 1200;
	snprintf(c->svg_min_width, sizeof(c->svg_min_width), "0.1");
	c->svg_font_size = 12;
	c->svg_frame_height = 16;
}

/* Edit distance of a and b, stopping at 3: enough to tell a typo from another word. */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int row[64], prev, cur, best;

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row) || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			cur = row[j];
			row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), prev + (a[i - 1] != b[j - 1]));
			prev = cur;
			best = MIN(best, row[j]);
		}
		if (best > 2)
			return 3;
	}
	return row[lb];
}

/*
 * The message for a key that is no setting. The key itself is not repeated: the file may be
 * no config file at all (a symlink to a secret), and its words are not ours to print. A key
 * within two edits of a setting's name is a typo, and that name (ours) is suggested.
 */
static void unknown_key_msg(const char *key, char *msg)
{
	const char *best = NULL;
	int d, bestd = 3;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		d = distance(key, keys[i].name);
		if (d < bestd) {
			bestd = d;
			best = keys[i].name;
		}
	}
	if (best)
		snprintf(msg, CONFIG_MSG_LEN, "unknown key (did you mean '%s'?)", best);
	else
		snprintf(msg, CONFIG_MSG_LEN, "unknown key (not a flamed setting; the line is not "
			 "shown)");
}

/* What a pid or tid that is not running is called. */
static const char *gone_msg(const struct config_key *k)
{
	return k->parse == parse_tid ? "no such thread" : "no such process";
}

int config__set(struct config *c, const char *key, const char *value, char *msg)
{
	const struct config_key *k = find_key(key);
	int err;

	if (!k) {
		unknown_key_msg(key, msg);
		return -ENOENT;
	}
	/* Without the value: from a file it is a line that is no valid setting (see above). */
	err = k->parse(k, value, (char *)c + k->off);
	if (err == -ESRCH) {
		snprintf(msg, CONFIG_MSG_LEN, "invalid value for %s: %s", key, gone_msg(k));
		return -EINVAL;
	}
	if (err) {
		snprintf(msg, CONFIG_MSG_LEN, "invalid value for %s: expected %s", key, k->expect);
		return -EINVAL;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * One line: blank, "# comment", or "key = value" where value may be double-quoted to keep
 * leading or trailing spaces or a '#'. An unquoted value ends at " #" (a trailing comment).
 */
static int parse_line(struct config *c, char *line, char *msg)
{
	const struct config_key *k;
	char *eq, *key, *val, *hash;
	size_t n;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	eq = strchr(line, '=');
	/* The line's text is never echoed: a file that is no config file may hold secrets. */
	if (!eq) {
		snprintf(msg, CONFIG_MSG_LEN, "not a 'key = value' setting (the line is not shown)");
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (!*key) {
		snprintf(msg, CONFIG_MSG_LEN, "missing key before '='");
		return -EINVAL;
	}
	/* Before the key is named in any message below. */
	k = find_key(key);
	if (!k) {
		unknown_key_msg(key, msg);
		return -ENOENT;
	}
	if (k->modes & CONFIG_CMDLINE) {
		snprintf(msg, CONFIG_MSG_LEN, "%s is a command-line option, not a config file key",
			 key);
		return -EINVAL;
	}
	if (*val == '"') {
		n = strlen(val);
		if (n < 2 || val[n - 1] != '"' || memchr(val + 1, '"', n - 2)) {
			snprintf(msg, CONFIG_MSG_LEN, "unterminated quoted value for %s", key);
			return -EINVAL;
		}
		val[n - 1] = '\0';
		val++;
	} else {
		for (hash = val; (hash = strchr(hash, '#')); hash++) {
			if (hash > val && (hash[-1] == ' ' || hash[-1] == '\t')) {
				*hash = '\0';
				val = trim(val);
				break;
			}
		}
	}
	return config__set(c, key, val, msg);
}

int config__parse(struct config *c, const char *buf, size_t len, const char *name, char *msg)
{
	char line[CONFIG_MAX_LINE], why[CONFIG_MSG_LEN];
	size_t pos = 0;
	int lineno = 0, err;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(msg, CONFIG_MSG_LEN, "%s:%d: line longer than %d bytes", name,
				 lineno, CONFIG_MAX_LINE - 1);
			return -EINVAL;
		}
		if (memchr(buf + pos, '\0', n)) {
			snprintf(msg, CONFIG_MSG_LEN, "%s:%d: NUL byte: not a text file", name,
				 lineno);
			return -EINVAL;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		err = parse_line(c, line, why);
		if (err) {
			snprintf(msg, CONFIG_MSG_LEN, "%.200s:%d: %.280s", name, lineno, why);
			return err;
		}
		pos += n + 1;
	}
	return 0;
}

/* Who besides root and the invoking user may write an inode of this mode and owner, or NULL. */
static const char *foreign_writer(const struct stat *st, bool dir)
{
	if (st->st_uid != 0 && st->st_uid != getuid())
		return "its owner (neither root nor you)";
	/* A sticky directory: others may add entries, never rename or remove ours. */
	if (dir && (st->st_mode & S_ISVTX))
		return NULL;
	if (st->st_mode & S_IWOTH)
		return "every user";
	if (st->st_mode & S_IWGRP)
		return "its group";
	return NULL;
}

/*
 * As sshd does with its own files: a config file that a user other than root or the invoking
 * one could write, or whose directory (any directory up to /) they could change, is refused:
 * it names the files flamed writes as root and the servers it sends profiles to. The checks
 * are on the file opened (fd) and on the directories of the path it was opened by, symlinks
 * resolved.
 */
static int check_trusted(int fd, const char *path, char *msg)
{
	char proc[64], real[PATH_MAX], *slash;
	const char *who;
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st))
		goto fail;
	who = foreign_writer(&st, false);
	if (who) {
		snprintf(msg, CONFIG_MSG_LEN, "refusing config file %.300s: %s (uid %u, gid %u, mode "
			 "%04o) could change it; it must be owned by root or you and writable by "
			 "no one else (chown root, chmod go-w)", path, who, (unsigned int)st.st_uid,
			 (unsigned int)st.st_gid, (unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, real, sizeof(real) - 1);
	if (n <= 0 || real[0] != '/') {
		if (!realpath(path, real))
			goto fail;
	} else {
		real[n] = '\0';
	}
	while ((slash = strrchr(real, '/'))) {
		slash[slash == real] = '\0';
		if (stat(real, &st))
			goto fail;
		who = foreign_writer(&st, true);
		if (who) {
			snprintf(msg, CONFIG_MSG_LEN, "refusing config file %.150s: its directory "
				 "%.150s can be changed by %s (uid %u, gid %u, mode %04o); directories "
				 "up to / must be owned by root or you and not writable by others "
				 "unless sticky", path, real, who, (unsigned int)st.st_uid,
				 (unsigned int)st.st_gid, (unsigned int)(st.st_mode & 07777));
			return -EPERM;
		}
		if (slash == real)
			break;
	}
	return 0;
fail:
	snprintf(msg, CONFIG_MSG_LEN, "cannot check who may write %.300s: %s", path,
		 strerror(errno));
	return -errno;
}

int config__load(struct config *c, const char *path, char *msg)
{
	char *buf = NULL;
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		snprintf(msg, CONFIG_MSG_LEN, "cannot read %s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX_FILE) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		snprintf(msg, CONFIG_MSG_LEN, "cannot read %s: %s", path,
			 err == -EISDIR ? "is a directory" : "not a regular file of at most 1 MiB");
		goto cleanup;
	}
	err = check_trusted(fd, path, msg);
	if (err)
		goto cleanup;
	buf = malloc(st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		snprintf(msg, CONFIG_MSG_LEN, "cannot read %s: %s", path, strerror(ENOMEM));
		goto cleanup;
	}
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, st.st_size - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			snprintf(msg, CONFIG_MSG_LEN, "cannot read %s: %s", path, strerror(errno));
			goto cleanup;
		}
		got += n;
	}
	err = config__parse(c, buf, got, path, msg);
cleanup:
	free(buf);
	close(fd);
	return err;
}

bool config__is_key(const char *key)
{
	return find_key(key) != NULL;
}

bool config__key_runtime(const char *key)
{
	const struct config_key *k = find_key(key);

	return k && k->runtime;
}

const char *config__key_name(size_t i)
{
	return i < ARRAY_SIZE(keys) ? keys[i].name : NULL;
}

void config__format(const struct config *c, const char *key, char *buf, size_t len)
{
	const struct config_key *k = find_key(key);

	if (!k) {
		snprintf(buf, len, "?");
		return;
	}
	k->format(k, (const char *)c + k->off, buf, len);
}

int config__diff(const struct config *a, const struct config *b, config_diff_fn fn, void *ctx)
{
	char va[PATH_MAX + 16], vb[PATH_MAX + 16];
	size_t i;
	int n = 0;

	/* Compared as text: strings may carry old bytes after their NUL. */
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		keys[i].format(&keys[i], (const char *)a + keys[i].off, va, sizeof(va));
		keys[i].format(&keys[i], (const char *)b + keys[i].off, vb, sizeof(vb));
		if (strcmp(va, vb)) {
			n++;
			if (fn)
				fn(ctx, keys[i].name, keys[i].runtime);
		}
	}
	return n;
}

void config__copy_key(struct config *dst, const struct config *src, const char *key)
{
	const struct config_key *k = find_key(key);

	if (k)
		memcpy((char *)dst + k->off, (const char *)src + k->off, k->size);
}

int config_args__add(struct config_args *a, const char *key, const char *value)
{
	if (a->n == CONFIG_MAX_ARGS)
		return -E2BIG;
	a->key[a->n] = key;
	a->value[a->n] = value;
	a->n++;
	return 0;
}

int config_args__apply(const struct config_args *a, struct config *c, char *msg)
{
	char why[CONFIG_MSG_LEN];
	int i, err;

	for (i = 0; i < a->n; i++) {
		const struct config_key *k = find_key(a->key[i]);

		err = config__set(c, a->key[i], a->value[i], why);
		if (err) {
			/* The file's words, said as an option. */
			bool gone = k && strstr(why, gone_msg(k));

			snprintf(msg, CONFIG_MSG_LEN, "invalid --%s '%.200s': %s", a->key[i],
				 a->value[i], !k ? "not a known option" :
				 gone ? gone_msg(k) : "expected");
			if (k && !gone)
				snprintf(msg + strlen(msg), CONFIG_MSG_LEN - strlen(msg), " %s",
					 k->expect);
			return err;
		}
	}
	return 0;
}

size_t config__getopt(struct option *lo, size_t max, char *shortopts, size_t len)
{
	size_t i, n = 0, ns = 0;

	for (i = 0; i < ARRAY_SIZE(keys) && n < max; i++) {
		if (keys[i].shortopt && ns + 3 < len) {
			shortopts[ns++] = keys[i].shortopt;
			if (keys[i].arg)
				shortopts[ns++] = ':';
		}
		/* A perf letter with no long name of its own (-g). */
		if (!keys[i].name[1])
			continue;
		lo[n++] = (struct option){ keys[i].name,
					 keys[i].arg ? required_argument : no_argument, NULL,
					 keys[i].shortopt ? keys[i].shortopt : CONFIG_OPT_BASE + (int)i };
	}
	if (len)
		shortopts[MIN(ns, len - 1)] = '\0';
	return n;
}

const char *config__opt_key(int val)
{
	size_t i;

	if (val >= CONFIG_OPT_BASE && val < CONFIG_OPT_BASE + (int)ARRAY_SIZE(keys))
		return keys[val - CONFIG_OPT_BASE].name;
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].shortopt && keys[i].shortopt == val)
			return keys[i].name;
	return NULL;
}

unsigned int config__key_modes(const char *key)
{
	const struct config_key *k = find_key(key);

	return k ? k->modes : 0;
}

/* "  -p, --pid PID        help", continuation lines under the help's first column. */
void config__help_line(FILE *f, int shortopt, const char *name, const char *arg,
		       const char *help)
{
	char left[64];
	int n;

	if (!name[1])
		n = snprintf(left, sizeof(left), "  -%c", shortopt);
	else
		n = snprintf(left, sizeof(left), "  %c%c%s--%s%s%s", shortopt ? '-' : ' ',
			     shortopt ? shortopt : ' ', shortopt ? ", " : "  ", name,
			     arg ? " " : "", arg ? arg : "");
	fprintf(f, "%s%*s", left, n < CONFIG_HELP_COL ? CONFIG_HELP_COL - n : 2, "");
	for (; *help; help++) {
		fputc(*help, f);
		if (*help == '\n')
			fprintf(f, "%*s", CONFIG_HELP_COL, "");
	}
	fputc('\n', f);
}

void config__help(FILE *f, int section)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].section == section)
			config__help_line(f, keys[i].shortopt, keys[i].name, keys[i].arg,
					  keys[i].help);
}

int config__check_rate(const struct config *c, uint64_t max_rate, char *msg)
{
	if (max_rate && c->freq_hz > max_rate) {
		snprintf(msg, CONFIG_MSG_LEN, "frequency %u Hz is above the kernel's limit of "
			 "%llu Hz (/proc/sys/kernel/perf_event_max_sample_rate)", c->freq_hz,
			 (unsigned long long)max_rate);
		return -EINVAL;
	}
	return 0;
}

uint64_t config__max_sample_rate(void)
{
	uint64_t v = 0;
	char buf[32];
	FILE *f = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "re");

	if (f && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (parse_u64(buf, UINT32_MAX, &v))
			v = 0;
	}
	if (f)
		fclose(f);
	return v;
}

int config__resolve(struct config *c, const char *path, const struct config_args *a,
		    unsigned int mode, char *msg)
{
	int i, err;

	config__init(c);
	if (path) {
		err = config__load(c, path, msg);
		if (err)
			return err;
	}
	for (i = 0; a && i < a->n; i++) {
		const struct config_key *k = find_key(a->key[i]);

		if (k && !(k->modes & mode)) {
			if (mode == CONFIG_ONESHOT)
				snprintf(msg, CONFIG_MSG_LEN, "--%s is a continuous-mode option",
					 k->name);
			else
				snprintf(msg, CONFIG_MSG_LEN, "continuous mode (--output-dir, "
					 "--interval, --config, ...) writes its windows to the output "
					 "directory: it takes neither -o, --format nor a command (--%s "
					 "given)", k->name);
			return -EINVAL;
		}
	}
	if (a) {
		err = config_args__apply(a, c, msg);
		if (err)
			return err;
	}
	if (c->cpus[0] && c->profile_mode != PROFILE_CPU) {
		/* The scheduler's switches are recorded on every CPU: -C would not hold. */
		snprintf(msg, CONFIG_MSG_LEN, "cpu (-C) limits on-CPU sampling only; mode %s records "
			 "the switches of every CPU", profile_mode__name(c->profile_mode));
		return -EINVAL;
	}
	return config__check_rate(c, config__max_sample_rate(), msg);
}

void config__fill_svg(const struct config *c, struct svg_opts *o)
{
	double v = strtod(c->svg_min_width, NULL);

	svg_opts__init(o);
	o->title = c->title[0] ? c->title : NULL;
	o->width = c->svg_width;
	o->min_width = strchr(c->svg_min_width, '%') ? v / 100 * (o->width - 2 * SVG_PAD) : v;
	o->palette = c->svg_colors;
	o->inverted = c->svg_inverted;
	o->reverse = c->svg_reverse;
	o->hash = c->svg_hash;
	o->font_size = c->svg_font_size;
	o->frame_height = c->svg_frame_height;
	o->notes = c->svg_notes[0] ? c->svg_notes : NULL;
}

void config__fill_fleet(const struct config *c, struct fleet_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->push = (struct push_opts){
		.url = c->push_url,
		.api = c->push_api,
		.service_name = c->service_name,
		.labels = c->labels,
		.token_file = c->push_token_file,
		.basic_auth_file = c->push_basic_auth_file,
		.tenant = c->push_tenant,
		.ca_file = c->push_ca_file,
		.timeout_s = c->push_timeout_s,
		.spool_dir = c->spool_dir,
		.spool_max_bytes = c->spool_max_bytes,
		.max_age_s = c->push_max_age_s,
		.series_per_group = c->group_by != CGPATH_GROUP_NONE,
	};
	o->listen = c->listen;
	o->output_dir = c->output_dir;
	o->mode = c->profile_mode;
	o->push_max_samples = c->push_max_samples;
	o->sample_labels = c->sample_labels;
}

void config__fill(const struct config *c, unsigned int mode, struct config_opts *out)
{
	struct session_opts *so = &out->session;
	struct symbolizer_opts *syo = &so->sym;

	memset(out, 0, sizeof(*out));
	so->pids = (uint32_t *)c->pids.pid;
	so->nr_pids = c->pids.n;
	so->tids = (uint32_t *)c->tids.pid;
	so->nr_tids = c->tids.n;
	for (size_t i = 0; i < c->cgroups.n && i < ARRAY_SIZE(out->cgroups); i++)
		out->cgroups[i] = c->cgroups.arg[i];
	so->cgroups = out->cgroups;
	so->nr_cgroups = MIN(c->cgroups.n, ARRAY_SIZE(out->cgroups));
	so->group_by = c->group_by;
	so->duration_ns = c->duration_ns;
	so->freq_hz = c->freq_hz;
	so->output = c->output;
	so->format = c->format;
	so->event = c->event;
	so->title = c->title[0] ? c->title : NULL;
	so->include_idle = c->include_idle;
	so->mode = c->profile_mode;
	so->offcpu_min_us = c->offcpu_min_us;
	so->offcpu_sample = c->offcpu_sample;
	so->no_demangle = c->no_demangle;
	so->max_stacks = c->max_stacks;
	so->unwind = c->unwind;
	so->unwind_max_mb = c->unwind_max_mb;
	so->all_cpus = c->all_cpus;
	so->cpus = c->cpus[0] ? c->cpus : NULL;
	config__fill_svg(c, &so->svg);
	so->no_python = !c->python;
	so->no_php = !c->php;
	so->no_ruby = !c->ruby;
	so->no_perl = !c->perl;
	so->no_v8 = !c->v8;
	so->no_hotspot = !c->hotspot;
	syo->no_demangle = c->no_demangle;
	/* A continuous-mode key: one-shot keeps the symbolizer's own default. */
	syo->cache_mb = mode & CONFIG_CONTINUOUS ? c->symbol_cache_mb : 0;
	syo->perfmap_max_entries = c->perfmap_max_entries;
	syo->perfmap_max_mb = c->perfmap_max_mb;
	syo->perfmap_total_mb = c->perfmap_total_mb;
	syo->perfmap_read_ms = c->perfmap_read_ms;
	snprintf(out->debug_dirs, sizeof(out->debug_dirs), "%s", c->debug_dirs);
	symbolize__split_dirs(out->debug_dirs, out->dirs, ARRAY_SIZE(out->dirs));
	syo->debug_dirs = out->dirs;
	syo->debuginfod = c->debuginfod;
	syo->debuginfod_urls = c->debuginfod_urls[0] ? c->debuginfod_urls : NULL;
	syo->debuginfod_timeout_s = c->debuginfod_timeout_s;
	syo->lines = c->lines;
	syo->no_inline = c->no_inline;
	syo->no_params = c->no_params;
}

void config__print(const struct config *c, unsigned int mode, FILE *f)
{
	char v[PATH_MAX + 16];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		/* -g changes nothing; call-graph is unwind under perf's name. */
		if (!(keys[i].modes & mode) || !keys[i].name[1] || keys[i].parse == parse_call_graph)
			continue;
		keys[i].format(&keys[i], (const char *)c + keys[i].off, v, sizeof(v));
		fprintf(f, "%s%s = \"%s\"\n", keys[i].modes & CONFIG_CMDLINE ? "# " : "",
			keys[i].name, v);
	}
}
