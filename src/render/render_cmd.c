// SPDX-License-Identifier: GPL-2.0-only
/*
 * `flamed render` and `flamed diff`: folded stacks, perf script output or pprof in (told apart by
 * their first bytes, or named by --input), an SVG flame graph, folded stacks or pprof out. Big
 * folded files are mapped and parsed in parallel parts, in windows released as soon as they are
 * parsed, so memory stays near the size of the profile, not of the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render/folded.h"
#include "render/history.h"
#include "base/log.h"
#include "base/output.h"
#include "render/perfscript.h"
#include "render/pprof.h"
#include "aggregate/profile.h"
#include "render/render_cmd.h"
#include "render/svg.h"
#include "aggregate/describe.h"
#include "base/util.h"

#define WINDOW (4UL << 20)    /* bytes parsed between releases of the mapping */
#define MAX_PPROF (1UL << 30) /* pprof input read whole; refuse more than this */
#define HEAD 4096	      /* bytes read before the input's kind is decided */

enum input_kind {
	IN_AUTO = 0,
	IN_FOLDED,
	IN_PERF_SCRIPT,
	IN_PPROF,
};

static const char *const input_kinds[] = {"auto", "folded", "perf-script", "pprof"};

struct render_args {
	struct svg_opts svg;
	const char *output;
	enum output_format format;
	bool diff_input; /* render: three-column input */
	enum input_kind input;
	char **inputs;
	int nr_inputs;
	/* An --output-dir's windows: the range (and, for diff, the range compared against). */
	const char *from, *to, *vs_from, *vs_to;
	bool list;	/* render DIR --list: the windows as JSON, nothing merged */
};

/* The state of one input file: its name for messages and what parsing found. */
struct input {
	const char *name;
	int fd;
	struct folded_parse_stats st;
};

static const char usage_render[] =
	"Usage: flamed render [INPUT...] [-o OUT] [--format svg|folded|pprof] [OPTIONS]\n"
	"       flamed render DIR [--from TIME] [--to TIME] [-o OUT] [OPTIONS]\n"
	"Renders folded stacks (\"a;b;c COUNT\" lines, as flamegraph.pl reads them),\n"
	"perf script output (as stackcollapse-perf.pl reads it) or pprof files;\n"
	"reads stdin when no INPUT or \"-\".  perf script | flamed render -o out.svg\n"
	"  -o, --output FILE     write FILE (atomically) instead of stdout\n"
	"  --format FORMAT       svg, folded or pprof (default: from -o's extension, else svg)\n"
	"  --input KIND          auto (default: told by the first bytes), folded,\n"
	"                        perf-script or pprof\n"
	"  --diff                input has three columns: \"stack BEFORE AFTER\"\n"
	"  --no-normalize        with --diff: compare raw counts\n"
	"  -h, --help            this help\n"
	"DIR, a continuous mode --output-dir: its windows starting from --from (included)\n"
	"to --to (excluded) merged; their folded or pprof files are read (pprof when both).\n"
	"  --from TIME           ISO 8601 UTC (2026-12-04T03:00:00Z, 2026-12-04T03:00Z,\n"
	"                        2026-12-04) or before now (-2h, -30m, -90s, -1d, now)\n"
	"  --to TIME             the end of the range (default: no end)\n"
	"  --list                the range's windows as JSON (start, formats, count), one\n"
	"                        read at a time, nothing merged (the --listen page's list)\n";

static const char usage_diff[] =
	"Usage: flamed diff BEFORE AFTER [-o OUT] [--format svg|folded] [OPTIONS]\n"
	"       flamed diff DIR --from A --to B --vs-from C --vs-to D [-o OUT] [OPTIONS]\n"
	"A differential flame graph: the shape of AFTER, red where a frame grew,\n"
	"blue where it shrank. --format folded writes \"stack BEFORE AFTER\" lines.\n"
	"Each input is folded stacks, perf script output or pprof.\n"
	"  -o, --output FILE     write FILE (atomically) instead of stdout\n"
	"  --format FORMAT       svg or folded (default: from -o's extension, else svg)\n"
	"  --input KIND          auto (default), folded, perf-script or pprof\n"
	"  --no-normalize        compare raw counts (default: BEFORE scaled to\n"
	"                        AFTER's sample total)\n"
	"  -h, --help            this help\n"
	"DIR, a continuous mode --output-dir: the windows starting in A..B (AFTER) against\n"
	"those starting in C..D (BEFORE). TIME as for flamed render DIR.\n"
	"  --from TIME           start of the range shown (default: the first window)\n"
	"  --to TIME             its end, excluded (default: no end)\n"
	"  --vs-from TIME        start of the range compared against\n"
	"  --vs-to TIME          its end, excluded\n";

static const char usage_svg[] =
	"\nSVG options:\n"
	"  --title TEXT          title (default: Flame Graph)\n"
	"  --subtitle TEXT       subtitle (default: duration, samples... of the profile)\n"
	"  --width PX            image width (1200)\n"
	"  --frame-height PX     height of a frame (16)\n"
	"  --font-size PX        font size (12)\n"
	"  --min-width PX|PCT%   leave out frames narrower than this (0.1 pixels)\n"
	"  --inverted            icicle graph: root at the top\n"
	"  --reverse             reverse stacks: merge from the leaves\n"
	"  --colors PALETTE      hot mem io red green blue aqua yellow purple orange lang\n"
	"  --hash                colour by name prefix: related names look alike\n"
	"  --flamechart          keep samples in input order (time), no merging\n"
	"  --count-name NAME     what a count is (samples)\n"
	"  --notes TEXT          text kept in the SVG's description\n"
	"flamegraph.pl spellings work too: --height --minwidth --countname --fontsize\n";

static void usage(FILE *f, bool diff)
{
	fputs(diff ? usage_diff : usage_render, f);
	fputs(usage_svg, f);
}

enum {
	OPT_TITLE = 256,
	OPT_SUBTITLE,
	OPT_WIDTH,
	OPT_FRAME_HEIGHT,
	OPT_FONT_SIZE,
	OPT_MIN_WIDTH,
	OPT_INVERTED,
	OPT_REVERSE,
	OPT_COLORS,
	OPT_HASH,
	OPT_FLAMECHART,
	OPT_COUNT_NAME,
	OPT_NOTES,
	OPT_FORMAT,
	OPT_DIFF,
	OPT_NO_NORMALIZE,
	OPT_INPUT,
	OPT_FROM,
	OPT_TO,
	OPT_VS_FROM,
	OPT_VS_TO,
	OPT_LIST,
};

static const struct option long_opts[] = {
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{"title", required_argument, NULL, OPT_TITLE},
	{"subtitle", required_argument, NULL, OPT_SUBTITLE},
	{"width", required_argument, NULL, OPT_WIDTH},
	{"frame-height", required_argument, NULL, OPT_FRAME_HEIGHT},
	{"height", required_argument, NULL, OPT_FRAME_HEIGHT},
	{"font-size", required_argument, NULL, OPT_FONT_SIZE},
	{"fontsize", required_argument, NULL, OPT_FONT_SIZE},
	{"min-width", required_argument, NULL, OPT_MIN_WIDTH},
	{"minwidth", required_argument, NULL, OPT_MIN_WIDTH},
	{"inverted", no_argument, NULL, OPT_INVERTED},
	{"reverse", no_argument, NULL, OPT_REVERSE},
	{"colors", required_argument, NULL, OPT_COLORS},
	{"hash", no_argument, NULL, OPT_HASH},
	{"flamechart", no_argument, NULL, OPT_FLAMECHART},
	{"count-name", required_argument, NULL, OPT_COUNT_NAME},
	{"countname", required_argument, NULL, OPT_COUNT_NAME},
	{"notes", required_argument, NULL, OPT_NOTES},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"diff", no_argument, NULL, OPT_DIFF},
	{"no-normalize", no_argument, NULL, OPT_NO_NORMALIZE},
	{"input", required_argument, NULL, OPT_INPUT},
	{"from", required_argument, NULL, OPT_FROM},
	{"to", required_argument, NULL, OPT_TO},
	{"vs-from", required_argument, NULL, OPT_VS_FROM},
	{"vs-to", required_argument, NULL, OPT_VS_TO},
	{"list", no_argument, NULL, OPT_LIST},
	{NULL, 0, NULL, 0},
};

static int parse_uint_opt(const char *name, const char *arg, unsigned int min, unsigned int max,
			  unsigned int *ret)
{
	uint64_t v;

	if (parse_u64(arg, max, &v) || v < min) {
		pr_err("--%s: expected a whole number from %u to %u, got \"%s\"", name, min, max,
		       arg);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* Pixels, or "N%" of the drawing width. */
static int parse_min_width(const char *arg, struct svg_opts *o)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || !(v >= 0) || (*end && strcmp(end, "%")) ||
	    (*end == '%' && v > 100) || v > 1e6) {
		pr_err("--min-width: expected pixels (e.g. 0.5) or a percentage (e.g. 0.1%%), got "
		       "\"%s\"",
		       arg);
		return -EINVAL;
	}
	o->min_width = *end == '%' ? v / 100 * (o->width - 2 * SVG_PAD) : v;
	return 0;
}

/* 0, 1 after --help, or -EINVAL. */
static int parse_args(int argc, char **argv, bool diff, struct render_args *a)
{
	const char *min_width = NULL;
	int c, pal;

	memset(a, 0, sizeof(*a));
	svg_opts__init(&a->svg);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			a->output = optarg;
			break;
		case 'h':
			usage(stdout, diff);
			return 1;
		case OPT_TITLE:
			a->svg.title = optarg;
			break;
		case OPT_SUBTITLE:
			a->svg.subtitle = optarg;
			break;
		case OPT_WIDTH:
			if (parse_uint_opt("width", optarg, 100, 1000000, &a->svg.width))
				return -EINVAL;
			break;
		case OPT_FRAME_HEIGHT:
			if (parse_uint_opt("frame-height", optarg, 4, 1000, &a->svg.frame_height))
				return -EINVAL;
			break;
		case OPT_FONT_SIZE:
			if (parse_uint_opt("font-size", optarg, 4, 200, &a->svg.font_size))
				return -EINVAL;
			break;
		case OPT_MIN_WIDTH:
			min_width = optarg;
			break;
		case OPT_INVERTED:
			a->svg.inverted = true;
			break;
		case OPT_REVERSE:
			a->svg.reverse = true;
			break;
		case OPT_COLORS:
			pal = svg_palette__from_name(optarg);
			if (pal < 0) {
				pr_err("--colors: unknown palette \"%s\" (%s)", optarg,
				       "hot mem io red green blue aqua yellow purple orange lang");
				return -EINVAL;
			}
			a->svg.palette = pal;
			break;
		case OPT_HASH:
			a->svg.hash = true;
			break;
		case OPT_FLAMECHART:
			a->svg.flamechart = true;
			break;
		case OPT_COUNT_NAME:
			a->svg.count_name = optarg;
			break;
		case OPT_NOTES:
			a->svg.notes = optarg;
			break;
		case OPT_FORMAT:
			a->format = output__format_from_name(optarg);
			if (a->format == FMT_NONE || (diff && a->format == FMT_PPROF)) {
				pr_err("--format: expected svg or folded%s, got \"%s\"",
				       diff ? "" : " or pprof", optarg);
				return -EINVAL;
			}
			break;
		case OPT_DIFF:
			if (diff) {
				pr_err("diff: --diff is render's; diff reads two two-column "
				       "inputs");
				return -EINVAL;
			}
			a->diff_input = true;
			break;
		case OPT_NO_NORMALIZE:
			a->svg.normalize = false;
			break;
		case OPT_INPUT:
			a->input = IN_PPROF + 1;
			for (int k = IN_AUTO; k <= IN_PPROF; k++)
				if (!strcmp(optarg, input_kinds[k]))
					a->input = k;
			if (a->input > IN_PPROF) {
				pr_err("--input: expected auto, folded, perf-script or pprof, got "
				       "\"%s\"", optarg);
				return -EINVAL;
			}
			break;
		case OPT_FROM:
			a->from = optarg;
			break;
		case OPT_TO:
			a->to = optarg;
			break;
		case OPT_LIST:
			a->list = true;
			break;
		case OPT_VS_FROM:
		case OPT_VS_TO:
			if (!diff) {
				pr_err("render: %s is diff's (flamed diff DIR --from A --to B "
				       "--vs-from C --vs-to D)",
				       c == OPT_VS_FROM ? "--vs-from" : "--vs-to");
				return -EINVAL;
			}
			if (c == OPT_VS_FROM)
				a->vs_from = optarg;
			else
				a->vs_to = optarg;
			break;
		case ':':
			pr_err("%s: option %s needs a value", argv[0], argv[optind - 1]);
			return -EINVAL;
		default:
			pr_err("%s: unknown option %s (see flamed %s --help)", argv[0],
			       argv[optind - 1], argv[0]);
			return -EINVAL;
		}
	}
	/* After --width, so a percentage means a share of the final width. */
	if (min_width && parse_min_width(min_width, &a->svg))
		return -EINVAL;
	a->inputs = argv + optind;
	a->nr_inputs = argc - optind;
	if (!a->format)
		a->format = a->output ? output__format_from_path(a->output) : FMT_SVG;
	if (!a->format)
		a->format = FMT_SVG;
	if (a->diff_input && a->format == FMT_PPROF) {
		pr_err("render --diff: differential input renders as svg or folded, not pprof");
		return -EINVAL;
	}
	if (a->diff_input && a->input > IN_FOLDED) {
		pr_err("render --diff: differential input is folded (\"stack BEFORE AFTER\"), not "
		       "%s", input_kinds[a->input]);
		return -EINVAL;
	}
	return 0;
}

/* Reads the rest of fd (after the first have bytes already in *buf) whole. */
static int read_all(int fd, char **buf, size_t *len, size_t max)
{
	size_t cap = *len > 65536 ? *len : 65536;
	char *b = realloc(*buf, cap);
	ssize_t n;

	if (!b)
		return -ENOMEM;
	*buf = b;
	for (;;) {
		if (*len == cap) {
			if (cap >= max)
				return -EFBIG;
			cap = MIN(cap * 2, max);
			b = realloc(*buf, cap);
			if (!b)
				return -ENOMEM;
			*buf = b;
		}
		n = read(fd, *buf + *len, cap - *len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			return 0;
		*len += n;
	}
}

static bool looks_pprof(const char *name, const unsigned char *head, size_t n)
{
	size_t l = strlen(name);

	if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
		return true;
	/* Uncompressed: field 1 (sample_type) first, and string_table[0] "" is a NUL byte. */
	if (n && head[0] == 0x0a && memchr(head, 0, n))
		return true;
	return (l > 3 && !strcmp(name + l - 3, ".pb")) ||
	       (l > 6 && !strcmp(name + l - 6, ".pprof")) ||
	       (l > 6 && !strcmp(name + l - 6, ".pb.gz"));
}

static int read_pprof(struct input *in, char *buf, size_t len, struct profile *p)
{
	struct profile *pp;
	int err = read_all(in->fd, &buf, &len, MAX_PPROF);

	if (err) {
		free(buf);
		if (err == -EFBIG)
			pr_err("%s: pprof input larger than %lu MiB, refusing", in->name,
			       MAX_PPROF >> 20);
		else
			pr_err("cannot read %s: %s", in->name, strerror(-err));
		return err;
	}
	pp = pprof__read(buf, len, &err);
	free(buf);
	if (!pp) {
		if (err == -EOVERFLOW)
			pr_err("%s: the sample counts add up to more than %llu, the most a profile "
			       "can hold; refusing (a corrupt or hostile file?)", in->name,
			       (unsigned long long)PROFILE_MAX_TOTAL);
		else
			pr_err("%s: not a valid pprof profile (%s)", in->name,
			       err == -EFBIG	? "over the size limits"
			       : err == -ENOMEM ? "out of memory"
						: "malformed");
		return err ? err : -EINVAL;
	}
	/* A single pprof input keeps its meta (duration, frequency, host). */
	if (!profile__nr_samples(p) && !profile__meta(p)->samples) {
		*profile__meta(p) = *profile__meta_const(pp);
		profile__meta(p)->samples = 0;
	}
	err = profile__merge(p, pp);
	profile__free(pp);
	if (err == -EOVERFLOW)
		pr_err("%s: its sample counts and those of the inputs before it add up to more "
		       "than %llu, the most a profile can hold; refusing", in->name,
		       (unsigned long long)PROFILE_MAX_TOTAL);
	else if (err)
		pr_err("%s: %s", in->name, strerror(-err));
	return err;
}

/*
 * Big regular files are mapped and cut into parts at line boundaries, one per CPU (up to
 * MAX_PARTS); each part is parsed by its own thread into its own profile, and the parts are
 * merged in file order, so the result is the one a single pass gives. Within a part, windows of
 * the mapping are released from the resident set as soon as they are parsed.
 */
#define MAX_PARTS 4
#define PART_MIN (32UL << 20) /* smallest part worth a thread */

struct part {
	const char *map;
	size_t start, end;
	struct profile *p, *before;
	struct folded_parse_stats st;
	int err;
	pthread_t thread;
	bool threaded;
};

static void *parse_part(void *arg)
{
	struct part *pt = arg;
	size_t page = sysconf(_SC_PAGESIZE), off = pt->start, released = pt->start & ~(page - 1);
	struct folded_parser *fp = folded_parser__new(pt->p, pt->before);

	if (!fp) {
		pt->err = -ENOMEM;
		return NULL;
	}
	while (off < pt->end && !pt->err) {
		size_t end = MIN(pt->end, off + WINDOW);
		const char *nl;

		/* Windows end at a newline, so no line is ever copied. */
		if (end < pt->end) {
			nl = memrchr(pt->map + off, '\n', end - off);
			if (nl)
				end = nl + 1 - pt->map;
		}
		pt->err = folded_parser__feed(fp, pt->map + off, end - off);
		off = end;
		/* Parsed pages leave the resident set; the page cache keeps them anyway. */
		if ((off & ~(page - 1)) > released) {
			size_t upto = off & ~(page - 1);

			madvise((char *)pt->map + released, upto - released, MADV_DONTNEED);
			released = upto;
		}
	}
	/* Also after an error: the statistics name the line that overflowed. */
	pt->err = folded_parser__finish(fp, &pt->st);
	folded_parser__free(fp);
	return NULL;
}

/*
 * The line of part pt (from its start) whose count takes the totals so far (p's and before's,
 * parts 0..k-1 merged) past the limit: the part is parsed again on top of those totals. Only
 * on that error, so the parts stay parallel otherwise. 0 when not found.
 */
static uint64_t part_overflow_line(const struct part *pt, const struct profile *p,
				   const struct profile *before)
{
	struct part probe = *pt;
	uint64_t line = 0;

	memset(&probe.st, 0, sizeof(probe.st));
	probe.err = 0;
	probe.p = profile__new();
	probe.before = before ? profile__new() : NULL;
	if (probe.p && (!before || probe.before)) {
		profile__meta(probe.p)->samples = profile__meta_const(p)->samples;
		if (before)
			profile__meta(probe.before)->samples = profile__meta_const(before)->samples;
		parse_part(&probe);
		if (probe.err == -EOVERFLOW)
			line = probe.st.overflow_line;
	}
	profile__free(probe.p);
	profile__free(probe.before);
	return line;
}

/* -ENODEV when the file cannot be mapped: the caller reads it instead. */
static int parse_mapped(struct input *in, struct profile *p, struct profile *before, size_t size)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nparts = MAX(1, MIN((size_t)MIN(MAX(cpus, 1), MAX_PARTS), size / PART_MIN));
	struct part parts[MAX_PARTS];
	uint64_t lines = 0;
	char *map;
	int err = 0;

	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, in->fd, 0);
	if (map == MAP_FAILED)
		return -ENODEV;
	madvise(map, size, MADV_SEQUENTIAL);
	memset(parts, 0, sizeof(parts));
	for (size_t k = 0; k < nparts; k++) {
		struct part *pt = &parts[k];
		size_t cut = size * (k + 1) / nparts;
		const char *nl = k + 1 < nparts ? memchr(map + cut, '\n', size - cut) : NULL;

		pt->map = map;
		pt->start = k ? parts[k - 1].end : 0;
		pt->end = k + 1 == nparts || !nl ? size : MAX((size_t)(nl + 1 - map), pt->start);
		pt->p = k ? profile__new() : p;
		pt->before = k && before ? profile__new() : before;
		if (!pt->p || (before && !pt->before)) {
			err = -ENOMEM;
			break;
		}
		/* Part 0 is this thread's; a part whose thread cannot start is parsed here too. */
		if (k)
			pt->threaded = !pthread_create(&pt->thread, NULL, parse_part, pt);
	}
	if (!err)
		parse_part(&parts[0]);
	for (size_t k = 0; k < nparts; k++) {
		struct part *pt = &parts[k];

		if (pt->threaded)
			pthread_join(pt->thread, NULL);
		else if (k && !err && pt->p)
			parse_part(pt);
		if (!err) {
			err = pt->err;
			if (err == -EOVERFLOW)
				in->st.overflow_line = lines + pt->st.overflow_line;
		}
		if (!err && k) {
			/* Both columns checked before either is merged: the search needs both. */
			if (profile__merge_overflows(p, pt->p) ||
			    (before && profile__merge_overflows(before, pt->before))) {
				err = -EOVERFLOW;
				in->st.overflow_line = lines + part_overflow_line(pt, p, before);
			} else {
				err = profile__merge(p, pt->p);
				if (!err && before)
					err = profile__merge(before, pt->before);
			}
		}
		if (!err) {
			/* Statistics as one pass would count them. */
			if (pt->st.first_junk && !in->st.first_junk)
				in->st.first_junk = lines + pt->st.first_junk;
			lines += pt->st.lines;
			in->st.lines += pt->st.lines;
			in->st.stacks += pt->st.stacks;
			in->st.junk += pt->st.junk;
			in->st.samples += pt->st.samples;
			in->st.samples_before += pt->st.samples_before;
		}
		if (k) {
			profile__free(pt->p);
			profile__free(pt->before);
		}
	}
	munmap(map, size);
	return err;
}

static int parse_stream(struct input *in, struct folded_parser *fp, char *buf, size_t len,
			size_t cap)
{
	int err = folded_parser__feed(fp, buf, len);
	ssize_t n;

	while (!err) {
		n = read(in->fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		err = folded_parser__feed(fp, buf, n);
	}
	return err;
}

/* What an input is, from --input or else its name and first n bytes. */
static enum input_kind input_kind(enum input_kind kind, const struct input *in, bool diff_input,
				  const char *head, ssize_t n)
{
	if (kind != IN_AUTO)
		return kind;
	if (diff_input || n < 0)
		return IN_FOLDED;
	if (looks_pprof(in->name, (const unsigned char *)head, n))
		return IN_PPROF;
	return perfscript__sniff(head, n) ? IN_PERF_SCRIPT : IN_FOLDED;
}

/* perf record's binary file (its header's magic). */
static bool is_perf_data(const char *head, ssize_t n)
{
	return n >= 8 && !memcmp(head, "PERFILE2", 8);
}

/* Up to n bytes from the start of fd: whole lines to sniff, also from a slow pipe. */
static ssize_t read_head(int fd, char *buf, size_t n)
{
	size_t have = 0;
	ssize_t r;

	while (have < n) {
		r = read(fd, buf + have, n - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (!r)
			break;
		have += r;
	}
	return have;
}

/* perf script text, streamed through its parser; buf holds the first len bytes. */
static int read_perf_script(struct input *in, struct profile *p, char *buf, size_t len,
			    size_t cap)
{
	struct perfscript_parser *ps = perfscript_parser__new(p);
	struct perfscript_stats st;
	int err;
	ssize_t n;

	if (!ps)
		return -ENOMEM;
	err = perfscript_parser__feed(ps, buf, len);
	while (!err) {
		n = read(in->fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			pr_err("cannot read %s: %s", in->name, strerror(-err));
			perfscript_parser__free(ps);
			return err;
		}
		if (!n)
			break;
		err = perfscript_parser__feed(ps, buf, n);
	}
	err = perfscript_parser__finish(ps, &st);
	perfscript_parser__free(ps);
	if (err == -EINVAL)
		pr_err("%s:%llu: %s (is this the output of perf script?)", in->name,
		       (unsigned long long)st.error_line, st.error);
	else if (err == -EOVERFLOW)
		pr_err("%s: the sample counts add up to more than %llu, the most a profile can "
		       "hold; refusing", in->name, (unsigned long long)PROFILE_MAX_TOTAL);
	else if (err)
		pr_err("cannot read %s: %s", in->name, strerror(-err));
	if (!err && st.junk)
		pr_warn("%s: %llu line%s not part of a perf script sample (first: line %llu), "
			"ignoring", in->name, (unsigned long long)st.junk,
			st.junk == 1 ? "" : "s", (unsigned long long)st.first_junk);
	if (!err && st.other_events)
		pr_warn("%s: rendering the samples of %s, the first event; %llu sample%s of other "
			"events (%s...) left out (perf record -e EVENT records only the one wanted)",
			in->name, st.event, (unsigned long long)st.other_events,
			st.other_events == 1 ? "" : "s", st.other_event);
	return err;
}

/*
 * Reads one input (folded, perf script or pprof: kind, or what its first bytes look like) into
 * p (and before, for --diff).
 */
static int read_input(struct input *in, struct profile *p, struct profile *before,
		      enum input_kind kind)
{
	struct folded_parser *fp = NULL;
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	struct stat sb;
	ssize_t n = 0;
	int err;

	if (!buf)
		return -ENOMEM;
	if (fstat(in->fd, &sb)) {
		err = -errno;
		goto fail;
	}
	/* The first bytes decide between pprof, perf script and folded text. */
	do
		n = pread(in->fd, buf, HEAD, 0);
	while (n < 0 && errno == EINTR);
	if (S_ISREG(sb.st_mode) && n >= 0 && sb.st_size > 2 * (off_t)WINDOW &&
	    input_kind(kind, in, before, buf, n) == IN_FOLDED && !is_perf_data(buf, n)) {
		err = parse_mapped(in, p, before, sb.st_size);
		if (err != -ENODEV)
			goto done;
	}
	n = read_head(in->fd, buf, HEAD);
	if (n < 0) {
		err = -errno;
		goto fail;
	}
	/* perf record's own file: its text is what perf script prints. */
	if (is_perf_data(buf, n)) {
		pr_err("%s is a perf.data file (perf's binary format); render its text: "
		       "perf script -i %s | flamed render -o OUT.svg", in->name, in->name);
		free(buf);
		return -EINVAL;
	}
	switch (input_kind(kind, in, before, buf, n)) {
	case IN_PPROF:
		return read_pprof(in, buf, n, p);
	case IN_PERF_SCRIPT:
		err = read_perf_script(in, p, buf, n, cap);
		free(buf);
		return err;
	default:
		break;
	}
	fp = folded_parser__new(p, before);
	err = -ENOMEM;
	if (!fp)
		goto fail;
	err = parse_stream(in, fp, buf, n, cap);
	if (!err || err == -EOVERFLOW)
		err = folded_parser__finish(fp, &in->st);
	folded_parser__free(fp);
done:
	free(buf);
	if (err == -EOVERFLOW && in->st.overflow_line)
		pr_err("%s:%llu: the counts up to this line add up to more than %llu, the most a "
		       "profile can hold; refusing (a corrupt or hostile file?)", in->name,
		       (unsigned long long)in->st.overflow_line,
		       (unsigned long long)PROFILE_MAX_TOTAL);
	else if (err == -EOVERFLOW)
		pr_err("%s: the counts add up to more than %llu, the most a profile can hold; "
		       "refusing", in->name, (unsigned long long)PROFILE_MAX_TOTAL);
	else if (err)
		pr_err("cannot read %s: %s", in->name, strerror(-err));
	else if (in->st.junk)
		pr_warn("%s: %llu line%s not in folded format (first: line %llu), ignoring",
			in->name, (unsigned long long)in->st.junk, in->st.junk == 1 ? "" : "s",
			(unsigned long long)in->st.first_junk);
	return err;
fail:
	free(buf);
	pr_err("cannot read %s: %s", in->name, strerror(-err));
	return err;
}

static int open_input(struct input *in, const char *path)
{
	in->name = path;
	if (!strcmp(path, "-")) {
		in->name = "standard input";
		in->fd = STDIN_FILENO;
		return 0;
	}
	in->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (in->fd < 0) {
		pr_err("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static void close_input(struct input *in)
{
	if (in->fd > STDIN_FILENO)
		close(in->fd);
	in->fd = -1;
}

/* Reads paths (stdin when none) into p; an error when nothing at all was read. */
static int read_inputs(char **paths, int nr, enum input_kind kind, struct profile *p,
		       struct profile *before)
{
	static char *stdin_path[] = {"-"};
	uint64_t junk = 0;
	int err = 0;

	if (!nr) {
		paths = stdin_path;
		nr = 1;
	}
	for (int i = 0; i < nr && !err; i++) {
		struct input in = {0};

		err = open_input(&in, paths[i]);
		if (!err)
			err = read_input(&in, p, before, kind);
		close_input(&in);
		junk += in.st.junk;
	}
	if (err)
		return err;
	if (!profile__nr_samples(p) && (!before || !profile__nr_samples(before))) {
		const char *name = nr > 1		  ? "any of the inputs"
				   : strcmp(paths[0], "-") ? paths[0]
							   : "standard input";

		if (kind == IN_PERF_SCRIPT)
			pr_err("no samples found in %s: expected perf script output (a header "
			       "\"COMM PID ... EVENT:\", then indented frames \"ADDR SYM (DSO)\")",
			       name);
		else
			pr_err("no stacks found in %s: expected folded lines like \"main;foo;bar "
			       "42\"%s", name,
			       before ? " with two counts (BEFORE AFTER)"
				      : ", perf script output or a pprof profile");
		return -EINVAL;
	}
	return 0;
}

static int write_output(const struct render_args *a, const struct profile *before,
			const struct profile *p)
{
	struct output *out = NULL;
	FILE *f = stdout;
	int err;

	if (a->output) {
		out = output__open(a->output, 0644);
		if (!out) {
			pr_err("cannot write %s: %s", a->output, strerror(errno));
			return -errno;
		}
		f = output__file(out);
	}
	switch (a->format) {
	case FMT_FOLDED:
		err = before ? folded__write_diff(before, p, f) : folded__write(p, f);
		break;
	case FMT_PPROF:
		err = pprof__write(p, f);
		break;
	default:
		err = before ? svg__write_diff(before, p, &a->svg, f) : svg__write(p, &a->svg, f);
		break;
	}
	if (!err && out)
		err = output__commit(out);
	else if (out)
		output__abort(out);
	else if (!err && fflush(stdout))
		err = -errno;
	if (err)
		pr_err("cannot write %s: %s", a->output ? a->output : "standard output",
		       strerror(-err));
	return err;
}

/* A range of windows: those starting in [from, to). */
struct range {
	uint64_t from, to;
	bool open_from, open_to;
};

static int parse_time_opt(const char *opt, const char *arg, uint64_t now_ms, uint64_t *ret)
{
	int err = history__parse_time(arg, strlen(arg), now_ms, ret);

	if (err)
		pr_err("%s: %s \"%s\": expected ISO 8601 UTC (2026-12-04T03:00:00Z, seconds "
		       "optional) or a time before now (-2h, -30m, -90s, -1d, now)", opt,
		       err == -ERANGE ? "out of range (1970 to 9999)" : "not a time", arg);
	return err;
}

static int parse_range(const char *from, const char *to, const char *opt_from,
		       const char *opt_to, uint64_t now_ms, struct range *r)
{
	memset(r, 0, sizeof(*r));
	r->open_from = !from;
	r->open_to = !to;
	r->to = UINT64_MAX;
	if (from && parse_time_opt(opt_from, from, now_ms, &r->from))
		return -EINVAL;
	if (to && parse_time_opt(opt_to, to, now_ms, &r->to))
		return -EINVAL;
	if (r->to <= r->from) {
		char a[HISTORY_TIME_LEN], b[HISTORY_TIME_LEN];

		history__format_time(r->from, a);
		history__format_time(r->to, b);
		pr_err("%s %s is not before %s %s: the range is empty", opt_from, a, opt_to, b);
		return -EINVAL;
	}
	return 0;
}

/* "N windows, FROM to TO" (whole seconds) into the meta's target: every output shows it. */
static void describe_range(struct profile *p, const struct range *r, size_t windows)
{
	struct profile_meta *m = profile__meta(p);
	uint64_t from = r->open_from ? m->start_ns / 1000000 : r->from;
	uint64_t to = r->open_to ? (m->start_ns + m->duration_ns) / 1000000 : r->to;
	char a[HISTORY_TIME_LEN], b[HISTORY_TIME_LEN];

	history__format_time(from - from % 1000, a);
	history__format_time(to % 1000 ? to - to % 1000 + 1000 : to, b);
	snprintf(m->mode, sizeof(m->mode), "%zu window%s, %s to %s", windows,
		 windows == 1 ? "" : "s", a, b);
}

/*
 * The windows of dir that start in r, merged into p (new, *ret). Empty ranges and directories
 * are errors that say what the directory has.
 */
static int load_range(const char *dir, const struct history_window *w, size_t n,
		      const struct range *r, struct profile **ret, struct history_info *info)
{
	size_t lo = history__lower_bound(w, n, r->from), hi = history__lower_bound(w, n, r->to);
	char a[HISTORY_TIME_LEN], b[HISTORY_TIME_LEN], c[HISTORY_TIME_LEN], d[HISTORY_TIME_LEN];
	struct profile *p;
	int err;

	if (!n) {
		pr_err("%s has no windows (files flamed-YYYYMMDDTHHMMSS.mmmZ.folded or .pb.gz, "
		       "which flamed --output-dir writes with formats = folded or pprof)", dir);
		return -ENOENT;
	}
	if (lo >= hi) {
		history__format_time(r->from, a);
		history__format_time(r->to, b);
		history__format_time(w[0].start_ms, c);
		history__format_time(w[n - 1].start_ms, d);
		pr_err("%s: no window starts %s%s%s%s%s; its %zu window%s start%s from %s to %s", dir,
		       r->open_from ? "" : "at or after ", r->open_from ? "" : a,
		       r->open_from || r->open_to ? "" : " and ", r->open_to ? "" : "before ",
		       r->open_to ? "" : b, n, n == 1 ? "" : "s", n == 1 ? "s" : "", c, d);
		return -ENOENT;
	}
	p = profile__new();
	if (!p)
		return -ENOMEM;
	err = history__merge(dir, w + lo, hi - lo, p, info);
	if (err) {
		profile__free(p);
		return err;
	}
	describe_range(p, r, info->windows);
	if (info->unreadable)
		pr_warn("%s: %zu window%s in the range SVG only (no folded or pprof file), left out",
			dir, info->unreadable, info->unreadable == 1 ? " is" : "s are");
	*ret = p;
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/*
 * render DIR --list: {"mode": ..., "windows": [{"start": ..., "start_ms": ..., "formats": ...,
 * "count": N}, ...]} to stdout or -o, each window read and counted alone (count null for an
 * SVG-only window or one that cannot be read, which is logged). Times and counts only: no
 * name from the directory reaches the JSON but through history__format_time().
 */
static int list_dir(struct render_args *a, const struct history_window *w, size_t n,
		    const struct range *r)
{
	size_t lo = history__lower_bound(w, n, r->from), hi = history__lower_bound(w, n, r->to);
	const char *mode = NULL;
	struct output *out;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err = 0;

	if (!f)
		return -ENOMEM;
	fputs("{\"windows\": [", f);
	for (size_t i = lo; i < hi; i++) {
		struct history_info info;
		struct profile *p = profile__new();
		long long count = -1;

		if (!p) {
			err = -ENOMEM;
			break;
		}
		info.known = false;
		if ((w[i].formats & (HISTORY_FOLDED | HISTORY_PPROF)) &&
		    !history__merge(a->inputs[0], &w[i], 1, p, &info) && info.windows)
			count = (long long)profile__meta_const(p)->samples;
		history__json_window(f, &w[i], i == lo, count);
		if (info.known && !mode)
			mode = profile_mode__name(info.profile_mode);
		profile__free(p);
	}
	fprintf(f, "\n], \"mode\": \"%s\"}\n", mode ? mode : "");
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (!err && a->output) {
		out = output__open(a->output, 0644);
		if (!out) {
			err = -errno;
		} else if (fwrite(buf, 1, len, output__file(out)) != len) {
			err = -EIO;
			output__abort(out);
		} else {
			err = output__commit(out);
		}
	} else if (!err && (fwrite(buf, 1, len, stdout) != len || fflush(stdout))) {
		err = -EIO;
	}
	if (err)
		pr_err("cannot write %s: %s", a->output ? a->output : "standard output",
		       strerror(-err));
	free(buf);
	return err;
}

/* flamed render DIR [--from] [--to] */
static int render_dir(struct render_args *a)
{
	uint64_t now_ms = now_real_ns() / 1000000;
	struct history_window *w = NULL;
	struct profile *p = NULL;
	struct history_info info;
	struct range r;
	size_t n = 0;
	int err;

	if (a->diff_input || a->input != IN_AUTO) {
		pr_err("render DIR: the windows of a directory are read as they are; --diff and "
		       "--input are for files");
		return -EINVAL;
	}
	err = parse_range(a->from, a->to, "--from", "--to", now_ms, &r);
	if (!err)
		err = history__scan(a->inputs[0], &w, &n);
	if (!err && a->list) {
		err = list_dir(a, w, n, &r);
		free(w);
		return err;
	}
	if (!err)
		err = load_range(a->inputs[0], w, n, &r, &p, &info);
	if (!err) {
		/* The subtitle names the span the windows cover, start and end. */
		a->svg.window = true;
		err = write_output(a, NULL, p);
	}
	profile__free(p);
	free(w);
	return err;
}

/* "N windows, FROM to TO (1,234 samples)" */
static void describe_side(const struct profile *p, char *buf, size_t size)
{
	struct profile_desc d;

	profile_meta__describe(profile__meta_const(p), 0, NULL, &d);
	snprintf(buf, size, "%s (%s)", profile__meta_const(p)->mode, d.fact[FACT_COUNT]);
}

/* flamed diff DIR --from A --to B --vs-from C --vs-to D */
static int diff_dir(struct render_args *a)
{
	uint64_t now_ms = now_real_ns() / 1000000;
	struct history_window *w = NULL;
	struct profile *p[2] = {NULL, NULL};
	struct history_info info[2];
	char sub[1024], s0[400], s1[400];
	struct range r[2];
	size_t n = 0;
	int err;

	if (a->input != IN_AUTO) {
		pr_err("diff DIR: the windows of a directory are read as they are; --input is for "
		       "files");
		return -EINVAL;
	}
	if (a->list) {
		pr_err("diff DIR: --list is render's (flamed render DIR --list)");
		return -EINVAL;
	}
	if (!a->vs_from && !a->vs_to) {
		pr_err("diff DIR: which range to compare against? --vs-from C --vs-to D (e.g. "
		       "--from -1h --vs-from -25h --vs-to -24h)");
		return -EINVAL;
	}
	/* [0] BEFORE: the range compared against; [1] AFTER: the range shown. */
	err = parse_range(a->vs_from, a->vs_to, "--vs-from", "--vs-to", now_ms, &r[0]);
	if (!err)
		err = parse_range(a->from, a->to, "--from", "--to", now_ms, &r[1]);
	if (!err)
		err = history__scan(a->inputs[0], &w, &n);
	for (int i = 0; i < 2 && !err; i++)
		err = load_range(a->inputs[0], w, n, &r[i], &p[i], &info[i]);
	if (err)
		goto cleanup;
	if (info[0].known && info[1].known && info[0].profile_mode != info[1].profile_mode) {
		pr_err("diff %s: the range compared against is of %s windows, the other of %s "
		       "windows: different measures are not compared", a->inputs[0],
		       profile_mode__name(info[0].profile_mode),
		       profile_mode__name(info[1].profile_mode));
		err = -EINVAL;
		goto cleanup;
	}
	if (info[0].freq_hz && info[1].freq_hz && info[0].freq_hz != info[1].freq_hz) {
		pr_err("diff %s: the range compared against was sampled at %u Hz, the other at %u "
		       "Hz: counts at different rates are not compared", a->inputs[0],
		       info[0].freq_hz, info[1].freq_hz);
		err = -EINVAL;
		goto cleanup;
	}
	if (!a->svg.subtitle) {
		describe_side(p[0], s0, sizeof(s0));
		describe_side(p[1], s1, sizeof(s1));
		snprintf(sub, sizeof(sub), "%s against %s%s", s1, s0,
			 a->svg.normalize ? ", normalised to the same total" : "");
		a->svg.subtitle = sub;
	}
	err = write_output(a, p[0], p[1]);
cleanup:
	profile__free(p[0]);
	profile__free(p[1]);
	free(w);
	return err;
}

int render_cmd__main(int argc, char **argv)
{
	struct profile *p = NULL, *before = NULL;
	struct render_args a;
	int err = parse_args(argc, argv, false, &a);

	if (err)
		return err > 0 ? 0 : 2;
	if (a.nr_inputs == 1 && is_dir(a.inputs[0])) {
		err = render_dir(&a);
		return err ? 1 : 0;
	}
	if (a.from || a.to) {
		pr_err("render: --from and --to select the windows of a directory: flamed render "
		       "DIR --from TIME --to TIME");
		return 2;
	}
	p = profile__new();
	if (a.diff_input)
		before = profile__new();
	err = -ENOMEM;
	if (!p || (a.diff_input && !before))
		goto cleanup;
	err = read_inputs(a.inputs, a.nr_inputs, a.input, p, before);
	if (!err)
		err = write_output(&a, before, p);
cleanup:
	if (err == -ENOMEM)
		pr_err("render: out of memory");
	profile__free(p);
	profile__free(before);
	return err ? 1 : 0;
}

int diff_cmd__main(int argc, char **argv)
{
	struct profile *p[2] = {NULL, NULL};
	struct render_args a;
	int err = parse_args(argc, argv, true, &a);

	if (err)
		return err > 0 ? 0 : 2;
	if (a.nr_inputs == 1 && is_dir(a.inputs[0]))
		return diff_dir(&a) ? 1 : 0;
	if (a.from || a.to || a.vs_from || a.vs_to) {
		pr_err("diff: --from, --to, --vs-from and --vs-to compare two ranges of windows of "
		       "a directory: flamed diff DIR --from A --to B --vs-from C --vs-to D");
		return 2;
	}
	if (a.nr_inputs != 2) {
		pr_err("diff: expected two inputs, BEFORE and AFTER (see flamed diff --help)");
		return 2;
	}
	for (int i = 0; i < 2; i++) {
		p[i] = profile__new();
		err = p[i] ? read_inputs(a.inputs + i, 1, a.input, p[i], NULL) : -ENOMEM;
		if (err)
			goto cleanup;
	}
	err = write_output(&a, p[0], p[1]);
cleanup:
	if (err == -ENOMEM)
		pr_err("diff: out of memory");
	profile__free(p[0]);
	profile__free(p[1]);
	return err ? 1 : 0;
}
