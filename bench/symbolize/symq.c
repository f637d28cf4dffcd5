// SPDX-License-Identifier: GPL-2.0-only
/*
 * symq: names addresses of one ELF file the way the profiler does (symfile + demangling), for
 * benchmarks and end-to-end tests. Links build/libflamed.a.
 *
 *   symq [OPTIONS] FILE [VADDR...]    one line per address: frames innermost first, " <- "
 *                                     between them, inlined ones suffixed _[i]
 *   symq --bench [OPTIONS] FILE ADDRS cold: open + first lookup of every address in ADDRS
 *                                     (hex, one a line); warm: lookups per second for 1 s
 *                                     (not with --cold-only); peak RSS
 *   symq --kallsyms ADDR...           kernel names from /proc/kallsyms
 *   symq --perfmap PID ADDR...        names from the process's perf map
 *
 * Options: --lines, --no-inline, --no-params, --no-demangle, --debug-dir DIR,
 *          --debuginfod, --pid PID (search that process's root too)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "symbolize/debuginfo.h"
#include "symbolize/ksyms.h"
#include "symbolize/perfmap.h"
#include "symbolize/symbolize.h"
#include "symbolize/symfile.h"

static bool lines, no_inline, no_params, no_demangle;

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* CPU time: on a loaded machine, what the work costs regardless of who else runs. */
static double cpu(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static void print_frames(uint64_t addr, const struct sym_frame *fr, int n)
{
	int i;

	printf("0x%llx\t", (unsigned long long)addr);
	if (!n)
		printf("??");
	for (i = 0; i < n; i++) {
		char *dm = no_demangle || !fr[i].name ? NULL
						      : symbolize__demangle_opts(fr[i].name, !no_params);

		printf("%s%s%s", i ? " <- " : "", dm ? dm : fr[i].name ? fr[i].name : "??",
		       fr[i].inlined ? "_[i]" : "");
		if (lines && fr[i].file)
			printf(" (%s:%u)", fr[i].file, fr[i].line);
		free(dm);
	}
	printf("\n");
}

static uint64_t *read_addrs(const char *path, size_t *n)
{
	FILE *f = fopen(path, "re");
	uint64_t *a = NULL, v;
	size_t cap = 0;
	char line[64];

	*n = 0;
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		char *end;

		v = strtoull(line, &end, 16);
		if (end == line)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			a = realloc(a, cap * sizeof(*a));
			if (!a)
				exit(1);
		}
		a[(*n)++] = v;
	}
	fclose(f);
	return a;
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bench", no_argument, NULL, 'b' },
		{ "cold-only", no_argument, NULL, 'c' },
		{ "kallsyms", no_argument, NULL, 'k' },
		{ "perfmap", required_argument, NULL, 'm' },
		{ "lines", no_argument, NULL, 'l' },
		{ "no-inline", no_argument, NULL, 'I' },
		{ "no-params", no_argument, NULL, 'P' },
		{ "no-demangle", no_argument, NULL, 'D' },
		{ "debug-dir", required_argument, NULL, 'd' },
		{ "debuginfod", no_argument, NULL, 'f' },
		{ "pid", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dirs[16] = { NULL };
	struct debuginfo_opts dio = { .dirs = dirs };
	struct symfile_ctx ctx = { .dwarf = true };
	bool bench = false, kallsyms = false, cold_only = false;
	uint32_t perfmap_pid = 0;
	struct sym_frame fr[32];
	struct symfile *sf;
	unsigned int flags;
	int c, nd = 0, fd, err = 0, i;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bench = true; break;
		case 'c': cold_only = true; break;
		case 'k': kallsyms = true; break;
		case 'm': perfmap_pid = strtoul(optarg, NULL, 10); break;
		case 'l': lines = true; break;
		case 'I': no_inline = true; break;
		case 'P': no_params = true; break;
		case 'D': no_demangle = true; break;
		case 'd': if (nd < 15) dirs[nd++] = optarg; break;
		case 'f': dio.debuginfod = true; break;
		case 'p': ctx.pid = strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (kallsyms) {
		struct ksyms *k = ksyms__load();
		uint64_t off;

		if (!k) {
			perror("kallsyms");
			return 1;
		}
		for (i = optind; i < argc; i++) {
			const char *n = ksyms__find(k, strtoull(argv[i], NULL, 16), &off);

			printf("%s\t%s+0x%llx\n", argv[i], n ? n : "??", (unsigned long long)off);
		}
		ksyms__free(k);
		return 0;
	}
	if (perfmap_pid) {
		struct perfmap *m = perfmap__load(perfmap_pid, kill(perfmap_pid, 0) == 0, &err);

		if (!m) {
			fprintf(stderr, "perf map of %u: %s\n", perfmap_pid, strerror(-err));
			return 1;
		}
		for (i = optind; i < argc; i++) {
			const char *n = perfmap__find(m, strtoull(argv[i], NULL, 16));

			printf("%s\t%s\n", argv[i], n ? n : "??");
		}
		perfmap__free(m);
		return 0;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: symq [OPTIONS] FILE [VADDR...]\n");
		return 2;
	}
	flags = (no_inline ? 0 : SYMFILE_INLINE) | (lines ? SYMFILE_LINES : 0);
	ctx.dwarf = flags != 0;
	ctx.path = argv[optind];
	ctx.di = debuginfo__new(&dio);
	if (bench) {
		size_t n = 0, k, named = 0, frames = 0;
		uint64_t *addrs = optind + 1 < argc ? read_addrs(argv[optind + 1], &n) : NULL;
		double t0, t1, t2, t3, c0, c2;
		int rounds = 0;

		if (!n) {
			fprintf(stderr, "symq: no addresses\n");
			return 2;
		}
		t0 = now();
		c0 = cpu();
		fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
		sf = fd >= 0 ? symfile__open(fd, &ctx, &err) : NULL;
		if (fd >= 0)
			close(fd);
		if (!sf) {
			fprintf(stderr, "symq: %s: %s\n", argv[optind], strerror(-err));
			return 1;
		}
		t1 = now();
		for (k = 0; k < n; k++) {
			int r = symfile__lookup(sf, addrs[k], flags, fr, 32);

			named += r > 0;
			frames += r;
		}
		t2 = t3 = now();
		c2 = cpu();
		while (!cold_only && t3 - t2 < 1.0) {
			for (k = 0; k < n; k++)
				symfile__lookup(sf, addrs[k], flags, fr, 32);
			rounds++;
			t3 = now();
		}
		printf("addresses %zu\nnamed %zu\nframes %zu\nopen_s %.3f\ncold_s %.3f\ncold_cpu_s %.3f\n"
		       "warm_lookups_per_s %.0f\npeak_rss_mb %.1f\nsymbols %zu\ncache_mb %.1f\n",
		       n, named, frames, t1 - t0, t2 - t0, c2 - c0,
		       rounds ? n * rounds / (t3 - t2) : 0,
		       peak_rss_kb() / 1024.0, symfile__nr_symbols(sf),
		       symfile__mem(sf) / 1048576.0);
		symfile__free(sf);
		free(addrs);
		debuginfo__free(ctx.di);
		return 0;
	}
	fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
	sf = fd >= 0 ? symfile__open(fd, &ctx, &err) : NULL;
	if (fd >= 0)
		close(fd);
	if (!sf) {
		fprintf(stderr, "symq: %s: %s\n", argv[optind], strerror(fd < 0 ? errno : -err));
		return 1;
	}
	fprintf(stderr, "symq: %zu symbols, build id %s, debug file: %s%s%s\n",
		symfile__nr_symbols(sf), *symfile__build_id(sf) ? symfile__build_id(sf) : "none",
		debuginfo_source_names[symfile__debug_source(sf)],
		symfile__has_minidebuginfo(sf) ? ", MiniDebugInfo" : "",
		symfile__has_dwarf(sf) ? ", DWARF" : "");
	for (i = optind + 1; i < argc; i++) {
		uint64_t a = strtoull(argv[i], NULL, 16);

		print_frames(a, fr, symfile__lookup(sf, a, flags, fr, 32));
	}
	symfile__free(sf);
	debuginfo__free(ctx.di);
	return 0;
}
