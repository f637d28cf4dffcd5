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
#include "sample/procs.h"
#include "symbolize/symbolize.h"
#include "base/util.h"

#define FLAMED_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: flamed [OPTIONS] [-- COMMAND [ARG...]]\n"
"       flamed --output-dir DIR [--interval SECS] [OPTIONS]   (continuous mode)\n"
"       flamed render [OPTIONS] [INPUT...] [-o OUT.svg]   (folded, perf script, pprof)\n"
"       flamed diff [OPTIONS] BEFORE AFTER [-o OUT.svg]\n"
"\n"
"Samples the stacks of running threads with BPF and writes a flamegraph.\n"
"\n"
"Options:\n");
	config__help(f, 0);
	config__help_line(f, 'h', "help", NULL, "this help");
	config__help_line(f, 'V', "version", NULL, "print the version");
	fprintf(f,
"  -- COMMAND ARGS      start COMMAND, profile it from exec until it exits\n"
"                       (child processes included), then write the output\n"
"\n"
"SVG (both modes; as in flamed render):\n");
	config__help(f, 3);
	fprintf(f,
"\n"
"Continuous mode (any of these options selects it; runs until SIGTERM):\n");
	config__help(f, 1);
	config__help_line(f, 0, "config", "FILE",
			  "settings as 'key = value' lines, keys named as the long\n"
			  "options (interval, output-dir, frequency, ...); the command\n"
			  "line wins. SIGHUP re-reads it; SIGUSR1 closes the window now;\n"
			  "SIGTERM/SIGINT write the partial window and exit");
	config__help_line(f, 0, "print-config", NULL,
			  "print the settings resolved from the defaults, --config\n"
			  "and the command line as config file lines, and exit");
	fprintf(f,
"\n"
"Fleet (continuous mode; each also selects it):\n");
	config__help(f, 2);
	fprintf(f,
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
"  perf script | flamed render -o perf.svg a perf.data to SVG\n"
"  flamed --output-dir /var/lib/flamed --interval 60 --keep 1440\n"
"                                          a flamegraph a minute, the last day kept\n"
"  flamed --output-dir /var/lib/flamed --listen 6060 --push-url \\\n"
"         http://pyroscope:4040 --spool-dir /var/lib/flamed/spool\n"
"                                          the same, pushed to Pyroscope, and served\n"
"                                          to Parca, go tool pprof and Prometheus\n");
}

enum { OPT_CONFIG = 1, OPT_PRINT_CONFIG, OPT_HELP = 'h', OPT_VERSION = 'V' };

/*
 * The command line is read into the key table's settings (config_args, kept as text so that
 * continuous mode applies them again over the file on every reload); config__resolve checks
 * them, whichever mode, exactly as it checks a config file.
 */
/*
 * /proc/N is there for a thread too, so --pid took it; but targets are processes and a thread
 * id as one would profile nothing. Said now, with both ways to mean it.
 */
static int check_pids(const struct session_opts *o)
{
	uint32_t tgid;
	int i;

	for (i = 0; i < o->nr_pids; i++) {
		if (procs__thread_tgid(o->pids[i], &tgid) || tgid == o->pids[i])
			continue;
		pr_err("--pid %u is a thread of process %u: -p %u profiles the process, -t %u the "
		       "thread", o->pids[i], tgid, tgid, o->pids[i]);
		return -EINVAL;
	}
	return 0;
}

static int profile_main(int argc, char **argv)
{
	struct option lo[96];
	char shortopts[64], msg[CONFIG_MSG_LEN];
	struct config_args args = { 0 }, dargs = { 0 };
	struct config_opts out;
	const char *config_path = NULL, *key;
	bool continuous = false, print_config = false;
	unsigned int mode;
	int c, i, n, err = 0, verbose = 0;
	struct config *cfg = NULL;

	n = config__getopt(lo, ARRAY_SIZE(lo) - 5, shortopts, sizeof(shortopts) - 2);
	lo[n++] = (struct option){ "config", required_argument, NULL, OPT_CONFIG };
	lo[n++] = (struct option){ "print-config", no_argument, NULL, OPT_PRINT_CONFIG };
	lo[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	lo[n++] = (struct option){ "version", no_argument, NULL, OPT_VERSION };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	memmove(shortopts + 1, shortopts, strlen(shortopts) + 1);
	shortopts[0] = '+';
	strcat(shortopts, "hV");
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		key = config__opt_key(c);
		if (c == 'v') {
			/* Counts rather than sets: its level reaches the daemon as a floor. */
			verbose++;
		} else if (key) {
			continuous |= !!(config__key_modes(key) & CONFIG_SELECTS);
			if (config_args__add(&args, key, optarg ? optarg : "true")) {
				pr_err("too many options");
				return 1;
			}
		} else if (c == OPT_CONFIG) {
			config_path = optarg;
			continuous = true;
		} else if (c == OPT_PRINT_CONFIG) {
			print_config = true;
		} else if (c == OPT_HELP) {
			usage(stdout);
			return 0;
		} else if (c == OPT_VERSION) {
			printf("flamed %s\n", FLAMED_VERSION);
			return 0;
		} else {
			fprintf(stderr, "Try 'flamed --help' for more information.\n");
			return 1;
		}
	}
	log_max_level = verbose >= 2 ? LOG_DEBUG : verbose ? LOG_INFO : LOG_NOTICE;
	if (optind < argc && strcmp(argv[optind - 1], "--")) {
		pr_err("unexpected argument '%s' (a command goes after '--')", argv[optind]);
		return 1;
	}
	mode = continuous ? CONFIG_CONTINUOUS : CONFIG_ONESHOT;
	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return 1;
	/* Continuous mode resolves again in daemon__run, file included; this checks the line. */
	err = config__resolve(cfg, print_config ? config_path : NULL, &args, mode, msg);
	if (err) {
		pr_err("%s", msg);
		goto cleanup;
	}
	if (print_config) {
		config__print(cfg, mode, stdout);
		goto cleanup;
	}
	config__fill(cfg, mode, &out);
	if (optind < argc)
		out.session.argv = &argv[optind];
	if (out.session.argv && out.session.nr_pids) {
		pr_err("--pid and a command cannot be combined");
		err = -EINVAL;
		goto cleanup;
	}
	if (out.session.all_cpus && out.session.nr_pids) {
		pr_err("-a (--all-cpus) profiles the whole system: it takes no --pid");
		err = -EINVAL;
		goto cleanup;
	}
	/* perf keeps -p and drops -t without a word; one of them would be ignored here too. */
	if (out.session.nr_tids && (out.session.nr_pids || out.session.argv ||
				    out.session.all_cpus)) {
		pr_err("--tid profiles the threads given: it takes no %s",
		       out.session.nr_pids ? "--pid (-p is every thread of a process)" :
		       out.session.argv ? "command" : "-a (--all-cpus)");
		err = -EINVAL;
		goto cleanup;
	}
	err = check_pids(&out.session);
	if (err)
		goto cleanup;
	if (continuous) {
		struct daemon_opts d = {
			.config_path = config_path,
			.args = &dargs,
			.pids = out.session.pids,
			.nr_pids = out.session.nr_pids,
			.duration_ns = out.session.duration_ns,
			.log_level = log_max_level,
		};

		/* pids and duration are the daemon's own: a reload must not check them again. */
		for (i = 0; i < args.n; i++)
			if (!(config__key_modes(args.key[i]) & CONFIG_CMDLINE))
				config_args__add(&dargs, args.key[i], args.value[i]);
		if (out.session.argv) {
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
	if (out.session.format == FMT_NONE)
		out.session.format = output__format_from_path(out.session.output);
	if (out.session.format == FMT_NONE) {
		pr_err("cannot tell the format of '%s' from its extension (.svg, .folded, .txt, "
		       ".pb.gz, .pprof); use --format", out.session.output);
		err = -EINVAL;
		goto cleanup;
	}
	priority__raise();
	err = session__run(&out.session);
cleanup:
	free(cfg);
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
