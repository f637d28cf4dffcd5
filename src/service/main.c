// SPDX-License-Identifier: GPL-2.0-only
/*
 * The command line: parses options, checks everything that can be checked before profiling
 * (output writable, pids exist, frequency allowed), then hands over to the profiling session.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "service/config.h"
#include "service/daemon.h"
#include "base/log.h"
#include "base/output.h"
#include "service/privs.h"
#include "render/render_cmd.h"
#include "service/session.h"
#include "symbolize/symbolize.h"
#include "base/util.h"

#define FLAMED_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: flamed [OPTIONS] [-- COMMAND [ARG...]]\n"
"       flamed --output-dir DIR [--interval SECS] [OPTIONS]   (continuous mode)\n"
"       flamed render [OPTIONS] [FOLDED...] [-o OUT.svg]\n"
"       flamed diff [OPTIONS] BEFORE AFTER [-o OUT.svg]\n"
"\n"
"Samples the stacks of running threads with BPF and writes a flamegraph.\n"
"\n"
"Options:\n"
"  -p, --pid PID        profile only this process (all its threads); may repeat\n"
"  -d, --duration SECS  stop after SECS seconds (default: until SIGINT/SIGTERM,\n"
"                       or until COMMAND exits)\n"
"  -F, --frequency HZ   samples per second per CPU (default 99)\n"
"  -o, --output FILE    output path; format from the extension: .svg, .folded\n"
"                       (or .txt), .pb.gz / .pprof (default: flamed.svg)\n"
"      --format FMT     svg | folded | pprof, overrides the extension\n"
"      --event EV       cpu-clock (default) or cycles (hardware, where available)\n"
"      --include-idle   count the idle task too (system-wide)\n"
"      --no-demangle    keep C++/Rust symbol names mangled\n"
"      --max-stacks N   distinct stacks per drain the kernel can hold (default 16384)\n"
"      --unwind MODE    auto (default: DWARF unwind tables where a binary has them,\n"
"                       frame pointers elsewhere), fp, or dwarf (fail if unavailable)\n"
"      --unwind-max-mb N  memory cap for unwind tables in the kernel (default 64)\n"
"      --title TEXT     SVG title\n"
"      --debug-dir DIR  also look for separate debug files (build-id/, debuglink)\n"
"                       under DIR, before /usr/lib/debug; may repeat\n"
"      --debuginfod MODE  auto (default: on when DEBUGINFOD_URLS is set), on, off\n"
"      --debuginfod-urls URLS  debuginfod servers (overrides DEBUGINFOD_URLS)\n"
"      --debuginfod-timeout SECS  per file (default 10)\n"
"      --lines          source file:line on frames (from DWARF line tables)\n"
"      --no-inline      no DWARF inline frames (_[i])\n"
"      --no-params      C++ names without their parameter lists\n"
"      --perfmap-max-entries N  JIT functions kept per process from its\n"
"                       /tmp/perf-PID.map (default 1000000)\n"
"      --perfmap-max-mb N  memory of one process's perf map (default 64)\n"
"      --perfmap-total-mb N  memory of all perf maps (default 256)\n"
"      --perfmap-read-ms N  time reading perf maps per window (default 200);\n"
"                       the rest is read, and named, in the next window\n"
"  -v, --verbose        more messages (twice: debug)\n"
"  -h, --help           this help\n"
"  -V, --version        print the version\n"
"  -- COMMAND ARGS      start COMMAND, profile it from exec until it exits\n"
"                       (child processes included), then write the output\n"
"\n"
"Continuous mode (any of these options selects it; runs until SIGTERM):\n"
"      --output-dir DIR every interval, write that window as\n"
"                       DIR/flamed-<UTC start>.<ext> (svg, folded, pb.gz) and\n"
"                       point DIR/latest.<ext> at it\n"
"      --interval SECS  window length (default 60; also 0.5, 5m, 1h)\n"
"      --keep N         windows kept, the oldest removed first (default 60, 0: all)\n"
"      --max-bytes SIZE total size of the windows kept, such as 500M (default 0:\n"
"                       no limit); the newest window is always kept\n"
"      --formats LIST   formats written per window: svg,folded,pprof (default svg)\n"
"      --symbol-cache-mb N  memory cap for cached symbol files (default 256)\n"
"      --config FILE    settings as 'key = value' lines, keys named as the long\n"
"                       options (interval, output-dir, frequency, ...); the command\n"
"                       line wins. SIGHUP re-reads it; SIGUSR1 closes the window now;\n"
"                       SIGTERM/SIGINT write the partial window and exit\n"
"\n"
"Fleet (continuous mode; each also selects it):\n"
"      --push-url URL   after each window, POST its pprof to Pyroscope at URL\n"
"                       (http://host:4040); windows go out oldest first, once\n"
"      --push-api API   connect (default: /push.v1.PusherService/Push) or ingest\n"
"                       (the older /ingest?name=...&from=&until=&format=pprof)\n"
"      --service-name NAME  service_name label (default: the host name)\n"
"      --label KEY=VALUE  one more series label (hostname is always set); may\n"
"                       repeat\n"
"      --sample-labels LIST  per-sample labels pushed: none (default: the process\n"
"                       name is the root frame), or any of process,pid,thread\n"
"                       (each distinct set is a series of its own in Pyroscope)\n"
"      --push-token-file FILE  send the token in FILE as a bearer token (re-read when\n"
"                       the file changes)\n"
"      --push-basic-auth-file FILE  send 'user:password' from FILE (basic auth)\n"
"      --push-tenant ID send X-Scope-OrgID: ID\n"
"      --push-ca-file FILE  trust these CAs for https (verification is always on)\n"
"      --push-timeout SECS  limit on one request (default 30)\n"
"      --spool-dir DIR  keep unsent windows here, across restarts too (default:\n"
"                       in memory)\n"
"      --spool-max-bytes SIZE  bound on unsent windows (default 64M); past it the\n"
"                       oldest are dropped, counted and logged\n"
"      --listen [HOST:]PORT  serve /debug/pprof/profile?seconds=N, /metrics and\n"
"                       /latest.svg over HTTP (HOST: numeric, default loopback)\n"
"\n"
"With neither --pid nor a command, flamed profiles the whole system.\n"
"SIGINT/SIGTERM end the profile early; the output is still written, complete.\n"
"\n"
"Examples:\n"
"  flamed -d 10 -o system.svg              whole system for 10 seconds\n"
"  flamed -p 1234 -d 30 -o cpu.svg         one process for 30 seconds\n"
"  flamed -F 999 -o cpu.folded -- ./prog   a command from exec to exit, folded\n"
"  flamed -o cpu.pb.gz -- target/release/app --bench   pprof for go tool pprof\n"
"  flamed render cpu.folded -o cpu.svg     folded stacks to SVG\n"
"  flamed --output-dir /var/lib/flamed --interval 60 --keep 1440\n"
"                                          a flamegraph a minute, the last day kept\n"
"  flamed --output-dir /var/lib/flamed --listen 6060 --push-url \\\n"
"         http://pyroscope:4040 --spool-dir /var/lib/flamed/spool\n"
"                                          the same, pushed to Pyroscope, and served\n"
"                                          to Parca, go tool pprof and Prometheus\n");
}

enum {
	OPT_FORMAT = 256,
	OPT_EVENT,
	OPT_INCLUDE_IDLE,
	OPT_NO_DEMANGLE,
	OPT_MAX_STACKS,
	OPT_TITLE,
	OPT_UNWIND,
	OPT_UNWIND_MAX_MB,
	OPT_PERFMAP_MAX_ENTRIES,
	OPT_PERFMAP_MAX_MB,
	OPT_PERFMAP_TOTAL_MB,
	OPT_PERFMAP_READ_MS,
	OPT_DEBUG_DIR,
	OPT_DEBUGINFOD,
	OPT_DEBUGINFOD_URLS,
	OPT_DEBUGINFOD_TIMEOUT,
	OPT_LINES,
	OPT_NO_INLINE,
	OPT_NO_PARAMS,
	/* continuous mode */
	OPT_OUTPUT_DIR,
	OPT_INTERVAL,
	OPT_KEEP,
	OPT_MAX_BYTES,
	OPT_FORMATS,
	OPT_SYMBOL_CACHE_MB,
	OPT_CONFIG,
	/* fleet */
	OPT_PUSH_URL,
	OPT_PUSH_API,
	OPT_SERVICE_NAME,
	OPT_LABEL,
	OPT_SAMPLE_LABELS,
	OPT_PUSH_TOKEN_FILE,
	OPT_PUSH_BASIC_AUTH_FILE,
	OPT_PUSH_TENANT,
	OPT_PUSH_CA_FILE,
	OPT_PUSH_TIMEOUT,
	OPT_SPOOL_DIR,
	OPT_SPOOL_MAX_BYTES,
	OPT_LISTEN,
};

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ "frequency", required_argument, NULL, 'F' },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "event", required_argument, NULL, OPT_EVENT },
	{ "include-idle", no_argument, NULL, OPT_INCLUDE_IDLE },
	{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
	{ "max-stacks", required_argument, NULL, OPT_MAX_STACKS },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "unwind", required_argument, NULL, OPT_UNWIND },
	{ "unwind-max-mb", required_argument, NULL, OPT_UNWIND_MAX_MB },
	{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
	{ "debuginfod", required_argument, NULL, OPT_DEBUGINFOD },
	{ "debuginfod-urls", required_argument, NULL, OPT_DEBUGINFOD_URLS },
	{ "debuginfod-timeout", required_argument, NULL, OPT_DEBUGINFOD_TIMEOUT },
	{ "lines", no_argument, NULL, OPT_LINES },
	{ "no-inline", no_argument, NULL, OPT_NO_INLINE },
	{ "no-params", no_argument, NULL, OPT_NO_PARAMS },
	{ "perfmap-max-entries", required_argument, NULL, OPT_PERFMAP_MAX_ENTRIES },
	{ "perfmap-max-mb", required_argument, NULL, OPT_PERFMAP_MAX_MB },
	{ "perfmap-total-mb", required_argument, NULL, OPT_PERFMAP_TOTAL_MB },
	{ "perfmap-read-ms", required_argument, NULL, OPT_PERFMAP_READ_MS },
	/* continuous mode */
	{ "output-dir", required_argument, NULL, OPT_OUTPUT_DIR },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ "max-bytes", required_argument, NULL, OPT_MAX_BYTES },
	{ "formats", required_argument, NULL, OPT_FORMATS },
	{ "symbol-cache-mb", required_argument, NULL, OPT_SYMBOL_CACHE_MB },
	{ "config", required_argument, NULL, OPT_CONFIG },
	/* fleet */
	{ "push-url", required_argument, NULL, OPT_PUSH_URL },
	{ "push-api", required_argument, NULL, OPT_PUSH_API },
	{ "service-name", required_argument, NULL, OPT_SERVICE_NAME },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "sample-labels", required_argument, NULL, OPT_SAMPLE_LABELS },
	{ "push-token-file", required_argument, NULL, OPT_PUSH_TOKEN_FILE },
	{ "push-basic-auth-file", required_argument, NULL, OPT_PUSH_BASIC_AUTH_FILE },
	{ "push-tenant", required_argument, NULL, OPT_PUSH_TENANT },
	{ "push-ca-file", required_argument, NULL, OPT_PUSH_CA_FILE },
	{ "push-timeout", required_argument, NULL, OPT_PUSH_TIMEOUT },
	{ "spool-dir", required_argument, NULL, OPT_SPOOL_DIR },
	{ "spool-max-bytes", required_argument, NULL, OPT_SPOOL_MAX_BYTES },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !(d > 0) || d > 365.0 * 86400)
		return -EINVAL;
	*ns = (uint64_t)(d * 1e9);
	return 0;
}

static uint64_t max_sample_rate(void)
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

static int add_pid(struct session_opts *o, const char *arg)
{
	uint64_t pid;
	char path[64];
	uint32_t *p;

	if (parse_u64(arg, 4194304, &pid) || !pid) {
		pr_err("invalid pid '%s': expected a process id such as 1234", arg);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/proc/%llu", (unsigned long long)pid);
	if (access(path, F_OK)) {
		pr_err("no such process: %llu", (unsigned long long)pid);
		return -ESRCH;
	}
	p = realloc(o->pids, (o->nr_pids + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	o->pids = p;
	o->pids[o->nr_pids++] = pid;
	return 0;
}

/*
 * Continuous mode: options that are also config keys are kept as text and applied over the
 * config file (so the command line wins, on every reload too); -o and --format, which only
 * the one-shot mode knows, are noted.
 */
static int record_setting(struct config_args *ca, int c, const char *arg, bool *oneshot_opt)
{
	const struct option *lo;

	if (c == 'o' || c == OPT_FORMAT)
		*oneshot_opt = true;
	/* -v counts rather than sets: its level reaches the daemon as a floor. */
	for (lo = long_opts; lo->name && c != 'v'; lo++)
		if (lo->val == c && config__is_key(lo->name))
			return config_args__add(ca, lo->name, arg ? arg : "true");
	return 0;
}

/* One-shot: a perf map bound, checked by the config key table as continuous mode's are. */
static int perfmap_option(struct symbolizer_opts *so, int c, const char *arg)
{
	const struct option *lo;
	char msg[CONFIG_MSG_LEN];
	struct config cfg;
	int err;

	for (lo = long_opts; lo->name && lo->val != c; lo++)
		;
	config__init(&cfg);
	err = config__set(&cfg, lo->name, arg, msg);
	if (err) {
		pr_err("%s", msg);
		return err;
	}
	if (c == OPT_PERFMAP_MAX_ENTRIES)
		so->perfmap_max_entries = cfg.perfmap_max_entries;
	else if (c == OPT_PERFMAP_MAX_MB)
		so->perfmap_max_mb = cfg.perfmap_max_mb;
	else if (c == OPT_PERFMAP_TOTAL_MB)
		so->perfmap_total_mb = cfg.perfmap_total_mb;
	else
		so->perfmap_read_ms = cfg.perfmap_read_ms;
	return 0;
}

static int profile_main(int argc, char **argv)
{
	struct session_opts o = {
		.freq_hz = 99,
		.output = "flamed.svg",
		.max_stacks = 16384,
	};
	const char *format = NULL;
	uint64_t v, maxrate;
	int c, err = 0, verbose = 0;
	/* continuous mode */
	struct config_args cargs = { 0 };
	const char *config_path = NULL;
	bool continuous = false, oneshot_opt = false;
	/* --debug-dir, NULL-terminated for the symbolizer */
	const char *debug_dirs[33] = { NULL };
	size_t nr_debug_dirs = 0;

	while ((c = getopt_long(argc, argv, "+p:d:F:o:vhV", long_opts, NULL)) != -1) {
		if (record_setting(&cargs, c, optarg, &oneshot_opt)) {
			pr_err("too many options");
			err = -E2BIG;
			goto cleanup;
		}
		switch (c) {
		/* continuous mode: values are checked with the config file's */
		case OPT_OUTPUT_DIR:
		case OPT_INTERVAL:
		case OPT_KEEP:
		case OPT_MAX_BYTES:
		case OPT_FORMATS:
		case OPT_SYMBOL_CACHE_MB:
		/* fleet */
		case OPT_PUSH_URL:
		case OPT_PUSH_API:
		case OPT_SERVICE_NAME:
		case OPT_LABEL:
		case OPT_SAMPLE_LABELS:
		case OPT_PUSH_TOKEN_FILE:
		case OPT_PUSH_BASIC_AUTH_FILE:
		case OPT_PUSH_TENANT:
		case OPT_PUSH_CA_FILE:
		case OPT_PUSH_TIMEOUT:
		case OPT_SPOOL_DIR:
		case OPT_SPOOL_MAX_BYTES:
		case OPT_LISTEN:
			continuous = true;
			break;
		case OPT_CONFIG:
			config_path = optarg;
			continuous = true;
			break;
		case 'p':
			err = add_pid(&o, optarg);
			if (err)
				goto cleanup;
			break;
		case 'd':
			if (parse_duration(optarg, &o.duration_ns)) {
				pr_err("invalid duration '%s': expected seconds > 0, such as 30 or 0.5",
				       optarg);
				err = -EINVAL;
				goto cleanup;
			}
			break;
		case 'F':
			if (parse_u64(optarg, UINT32_MAX, &v) || !v) {
				pr_err("invalid frequency '%s': expected a positive number of Hz", optarg);
				err = -EINVAL;
				goto cleanup;
			}
			o.freq_hz = v;
			break;
		case 'o':
			o.output = optarg;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_EVENT:
			if (strcmp(optarg, "cpu-clock") && strcmp(optarg, "cycles")) {
				pr_err("invalid event '%s': expected cpu-clock or cycles", optarg);
				err = -EINVAL;
				goto cleanup;
			}
			o.event = optarg;
			break;
		case OPT_INCLUDE_IDLE:
			o.include_idle = true;
			break;
		case OPT_NO_DEMANGLE:
			o.no_demangle = true;
			o.sym.no_demangle = true;
			break;
		case OPT_DEBUG_DIR:
			if (optarg[0] != '/' || nr_debug_dirs + 1 >= ARRAY_SIZE(debug_dirs)) {
				pr_err("invalid --debug-dir '%s': expected an absolute directory (at "
				       "most %zu)", optarg, ARRAY_SIZE(debug_dirs) - 1);
				err = -EINVAL;
				goto cleanup;
			}
			debug_dirs[nr_debug_dirs++] = optarg;
			o.sym.debug_dirs = debug_dirs;
			break;
		case OPT_DEBUGINFOD:
			if (symbolize__parse_debuginfod(optarg, &o.sym.debuginfod)) {
				pr_err("invalid --debuginfod '%s': expected auto, on or off", optarg);
				err = -EINVAL;
				goto cleanup;
			}
			break;
		case OPT_DEBUGINFOD_URLS:
			o.sym.debuginfod_urls = optarg;
			break;
		case OPT_DEBUGINFOD_TIMEOUT:
			if (parse_u64(optarg, 600, &v) || !v) {
				pr_err("invalid --debuginfod-timeout '%s': expected 1 to 600 seconds",
				       optarg);
				err = -EINVAL;
				goto cleanup;
			}
			o.sym.debuginfod_timeout_s = v;
			break;
		case OPT_LINES:
			o.sym.lines = true;
			break;
		case OPT_NO_INLINE:
			o.sym.no_inline = true;
			break;
		case OPT_NO_PARAMS:
			o.sym.no_params = true;
			break;
		case OPT_MAX_STACKS:
			if (parse_u64(optarg, 1 << 24, &v) || v < 64) {
				pr_err("invalid --max-stacks '%s': expected 64 to 16777216", optarg);
				err = -EINVAL;
				goto cleanup;
			}
			o.max_stacks = v;
			break;
		case OPT_UNWIND:
			if (!strcmp(optarg, "auto")) {
				o.unwind = UNWIND_AUTO;
			} else if (!strcmp(optarg, "fp")) {
				o.unwind = UNWIND_FP;
			} else if (!strcmp(optarg, "dwarf")) {
				o.unwind = UNWIND_DWARF;
			} else {
				pr_err("invalid --unwind '%s': expected auto, fp or dwarf", optarg);
				err = -EINVAL;
				goto cleanup;
			}
			break;
		case OPT_UNWIND_MAX_MB:
			if (parse_u64(optarg, 16384, &v) || !v) {
				pr_err("invalid --unwind-max-mb '%s': expected 1 to 16384", optarg);
				err = -EINVAL;
				goto cleanup;
			}
			o.unwind_max_mb = v;
			break;
		case OPT_PERFMAP_MAX_ENTRIES:
		case OPT_PERFMAP_MAX_MB:
		case OPT_PERFMAP_TOTAL_MB:
		case OPT_PERFMAP_READ_MS:
			err = perfmap_option(&o.sym, c, optarg);
			if (err)
				goto cleanup;
			break;
		case OPT_TITLE:
			o.title = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			goto cleanup;
		case 'V':
			printf("flamed %s\n", FLAMED_VERSION);
			goto cleanup;
		default:
			fprintf(stderr, "Try 'flamed --help' for more information.\n");
			err = -EINVAL;
			goto cleanup;
		}
	}
	log_max_level = verbose >= 2 ? LOG_DEBUG : verbose ? LOG_INFO : LOG_NOTICE;
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--")) {
			pr_err("unexpected argument '%s' (a command goes after '--')", argv[optind]);
			err = -EINVAL;
			goto cleanup;
		}
		o.argv = &argv[optind];
	}
	if (o.argv && o.nr_pids) {
		pr_err("--pid and a command cannot be combined");
		err = -EINVAL;
		goto cleanup;
	}
	maxrate = max_sample_rate();
	if (maxrate && o.freq_hz > maxrate) {
		pr_err("frequency %u Hz is above the kernel's limit of %llu Hz "
		       "(/proc/sys/kernel/perf_event_max_sample_rate)",
		       o.freq_hz, (unsigned long long)maxrate);
		err = -EINVAL;
		goto cleanup;
	}
	if (continuous) {
		struct daemon_opts d = {
			.config_path = config_path,
			.args = &cargs,
			.pids = o.pids,
			.nr_pids = o.nr_pids,
			.duration_ns = o.duration_ns,
			.log_level = log_max_level,
		};

		if (o.argv || oneshot_opt) {
			pr_err("continuous mode (--output-dir, --interval, --config, ...) writes its "
			       "windows to the output directory: it takes neither -o, --format nor a "
			       "command");
			err = -EINVAL;
			goto cleanup;
		}
		priority__raise();
		err = daemon__run(&d);
		goto cleanup;
	}
	o.format = format ? output__format_from_name(format) : output__format_from_path(o.output);
	if (o.format == FMT_NONE) {
		if (format)
			pr_err("unknown format '%s': expected svg, folded or pprof", format);
		else
			pr_err("cannot tell the format of '%s' from its extension (.svg, .folded, "
			       ".txt, .pb.gz, .pprof); use --format", o.output);
		err = -EINVAL;
		goto cleanup;
	}
	priority__raise();
	err = session__run(&o);
cleanup:
	free(o.pids);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	log_init();
	if (privs__check_setuid())
		return 1;
	if (argc > 1 && !strcmp(argv[1], "render"))
		return render_cmd__main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "diff"))
		return diff_cmd__main(argc - 1, argv + 1);
	return profile_main(argc, argv);
}
