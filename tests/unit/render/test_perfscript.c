// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/perfscript.h"
#include "harness.h"
#include "aggregate/profile.h"
#include "render/folded.h"

/* The folded text of p, malloc'd. */
static char *folded_str(const struct profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	folded__write(p, f);
	fclose(f);
	return buf;
}

/* Two samples of a chain, one with kernel frames on top, one user-only; as perf 6.1 prints. */
static const char two[] = "# a comment line from perf script --header\n"
			  "chain 16298 58578.957590:    2004008 cpu-clock:ppp: \n"
			  "\tffffffff81595605 perf_event_mmap+0x5 ([kernel.kallsyms])\n"
			  "\t            1194 c+0x34 (/work/chain)\n"
			  "\t            11b9 b+0x9 (/work/chain)\n"
			  "\t            12d5 main+0x105 (/work/chain)\n"
			  "\t    7fa2a729aad7 [unknown] ([unknown])\n"
			  "\n"
			  "chain 16298/16299 [001] 58578.959602:    2004008 cpu-clock:ppp: \n"
			  "\t            1194 c+0x34 (/work/chain)\n"
			  "\t            11b9 b+0x9 (/work/chain)\n"
			  "\t            12d5 main+0x105 (/work/chain)\n"
			  "\t    7fa2a729aad7 [unknown] ([unknown])\n"
			  "\n"
			  "chain 16298 58578.961844:    2004008 cpu-clock:ppp: \n"
			  "\t            1194 c+0x34 (/work/chain)\n"
			  "\t            11b9 b+0x9 (/work/chain)\n"
			  "\t            12d5 main+0x105 (/work/chain)\n"
			  "\t    7fa2a729aad7 [unknown] ([unknown])\n";

static const char two_folded[] = "chain;[unknown];main;b;c 2\n"
				 "chain;[unknown];main;b;c;perf_event_mmap_[k] 1\n";

TEST(perfscript_chain_to_folded)
{
	struct profile *p = profile__new();
	struct perfscript_stats st;
	char *out;

	CHECK_EQ_INT(perfscript__parse(p, two, sizeof(two) - 1, &st), 0);
	CHECK_EQ_INT(st.samples, 3);
	CHECK_EQ_INT(st.stacks, 2);
	CHECK_EQ_INT(st.frames, 13);
	CHECK_EQ_INT(st.junk, 0);
	CHECK_EQ_INT(profile__total(p), 3);
	CHECK_EQ_INT(profile__meta(p)->samples, 3);
	out = folded_str(p);
	CHECK_EQ_STR(out, two_folded);
	free(out);
	profile__free(p);
}

/* Every split point of the same text gives the same profile: lines straddle chunks. */
TEST(perfscript_streaming_any_split)
{
	size_t n = sizeof(two) - 1;

	for (size_t cut = 0; cut <= n; cut += 7) {
		struct profile *p = profile__new();
		struct perfscript_parser *ps = perfscript_parser__new(p);
		char *out;

		CHECK_EQ_INT(perfscript_parser__feed(ps, two, cut), 0);
		CHECK_EQ_INT(perfscript_parser__feed(ps, two + cut, n - cut), 0);
		CHECK_EQ_INT(perfscript_parser__finish(ps, NULL), 0);
		out = folded_str(p);
		CHECK_EQ_STR(out, two_folded);
		free(out);
		perfscript_parser__free(ps);
		profile__free(p);
	}
}

/*
 * Names: a comm with spaces, C++ names with parentheses and spaces, a ';' in a name, kernel
 * modules and kernel addresses in [unknown], JIT perf maps, missing symbols, srcline junk.
 */
TEST(perfscript_names_and_kinds)
{
	static const char in[] =
		"Web Content 4242/4243 [000] 1.000: 1 cycles:u:\n"
		"\tffffffffc0a01234 nf_hook+0x12 (/lib/modules/6.1/kernel/net/nf.ko)\n"
		"\tffffffff81000130 [unknown] ([unknown])\n"
		"\t7f0000001000 LazyCompile:*fib /app.js:3 (/tmp/perf-4242.map)\n"
		"\t  /src/app.cc:12\n"
		"\t401000 std::vector<int, std::allocator<int> >::push_back(int const&)+0x1f "
		"(/usr/bin/app (deleted))\n"
		"\t401100 a;b (/usr/bin/app)\n"
		"\t401200  (/usr/bin/app)\n"
		"\t401300 main\n";
	static const char want[] =
		"Web Content;main;[app];a:b;std::vector<int, std::allocator<int> >::push_back("
		"int const&);LazyCompile:*fib /app.js:3_[j];[unknown]_[k];nf_hook_[k] 1\n";
	struct profile *p = profile__new();
	struct perfscript_stats st;
	char *out;

	CHECK_EQ_INT(perfscript__parse(p, in, sizeof(in) - 1, &st), 0);
	CHECK_EQ_INT(st.samples, 1);
	CHECK_EQ_INT(st.junk, 1);
	CHECK_EQ_INT(st.first_junk, 5);
	out = folded_str(p);
	CHECK_EQ_STR(out, want);
	free(out);
	profile__free(p);
}

/* Lines that are not samples are skipped and counted; a sample without frames is its comm. */
TEST(perfscript_junk_and_frameless)
{
	static const char in[] = "\t1234 orphan (/x)\n"
				 "no pid here: at all\n"
				 "\t1234 skipped (/x)\n"
				 "\n"
				 "sleep 77 1.0: 1 cpu-clock:\n"
				 "\n";
	struct profile *p = profile__new();
	struct perfscript_stats st;
	char *out;

	CHECK_EQ_INT(perfscript__parse(p, in, sizeof(in) - 1, &st), 0);
	CHECK_EQ_INT(st.junk, 3);
	CHECK_EQ_INT(st.first_junk, 1);
	CHECK_EQ_INT(st.samples, 1);
	out = folded_str(p);
	CHECK_EQ_STR(out, "sleep 1\n");
	free(out);
	profile__free(p);
}

/* What cannot be perf script text stops the parse, naming the line. */
TEST(perfscript_errors_name_the_line)
{
	static const char nul[] = "a 1 1.0: 1 e:\n\t12 f (/x)\n\t1\0 g\n";
	struct profile *p = profile__new();
	struct perfscript_stats st;
	size_t n = PERFSCRIPT_MAX_LINE + 100, deep;
	char *big = malloc(n), *d, *q;

	CHECK_EQ_INT(perfscript__parse(p, nul, sizeof(nul) - 1, &st), -EINVAL);
	CHECK_EQ_INT(st.error_line, 3);
	CHECK(st.error && strstr(st.error, "NUL"));

	memcpy(big, "a 1 1.0: 1 e:\n\t", 15);
	memset(big + 15, 'x', n - 15);
	CHECK_EQ_INT(perfscript__parse(p, big, n, &st), -EINVAL);
	CHECK_EQ_INT(st.error_line, 2);
	CHECK(st.error && strstr(st.error, "longer"));
	/* The same line fed in pieces: the carried part counts too. */
	{
		struct perfscript_parser *ps = perfscript_parser__new(p);

		CHECK_EQ_INT(perfscript_parser__feed(ps, big, 20), 0);
		CHECK_EQ_INT(perfscript_parser__feed(ps, big + 20, n - 20), -EINVAL);
		CHECK_EQ_INT(perfscript_parser__finish(ps, &st), -EINVAL);
		CHECK_EQ_INT(st.error_line, 2);
		perfscript_parser__free(ps);
	}

	/* A chain one frame deeper than the limit. */
	deep = 32 + (PERFSCRIPT_MAX_DEPTH + 1) * 8;
	d = malloc(deep);
	q = d + sprintf(d, "a 1 1.0: 1 e:\n");
	for (int i = 0; i <= PERFSCRIPT_MAX_DEPTH; i++)
		q += sprintf(q, "\t1 f\n");
	CHECK_EQ_INT(perfscript__parse(p, d, q - d, &st), -EINVAL);
	CHECK_EQ_INT(st.error_line, PERFSCRIPT_MAX_DEPTH + 2);
	/* At the limit it is fine. */
	CHECK_EQ_INT(perfscript__parse(p, d, q - d - 5, &st), 0);
	free(d);
	free(big);
	profile__free(p);
}

/*
 * perf record without -g: one line a sample, the comm padded to 16 columns, the frame after
 * the event; consecutive samples without blank lines between them.
 */
TEST(perfscript_one_line_samples)
{
	static const char in[] =
		"           chain 20837 59822.215002:    2004008 cpu-clock:      5595093dc194 "
		"c+0x34 "
		"(/w/chain)\n"
		"           chain 20837 59822.217003:    2004008 cpu-clock:      5595093dc194 "
		"c+0x34 "
		"(/w/chain)\n"
		" kworker/0:1 H-e 31/31 [001] 5.0:    1 cpu-clock:  ffffffff81000000 worker+0x1 "
		"([kernel.kallsyms])\n"
		"            dd 7 5.0:    1 cpu-clock:  ffffffff81000000 __schedule+0x1 "
		"([kernel.kallsyms])\n";
	struct profile *p = profile__new();
	struct perfscript_stats st;
	char *out;

	CHECK(perfscript__sniff(in, sizeof(in) - 1));
	CHECK_EQ_INT(perfscript__parse(p, in, sizeof(in) - 1, &st), 0);
	CHECK_EQ_INT(st.samples, 4);
	CHECK_EQ_INT(st.junk, 0);
	out = folded_str(p);
	CHECK_EQ_STR(out, "chain;c 2\ndd;__schedule_[k] 1\nkworker/0:1 H-e;worker_[k] 1\n");
	free(out);
	profile__free(p);
}

/* Only the first event's samples count; the others are left out, their frames too. */
TEST(perfscript_first_event_only)
{
	static const char in[] = "app 1 1.0: 1 cycles:ppp: \n"
				 "\t10 f (/x)\n"
				 "\n"
				 "app 1 1.1: 7 instructions: \n"
				 "\t10 g (/x)\n"
				 "\n"
				 "           app 1 1.2: 1 sched:sched_switch:  10 h (/x)\n"
				 "app 1 1.3: 1 cycles:ppp: \n"
				 "\t10 f (/x)\n";
	struct profile *p = profile__new();
	struct perfscript_stats st;
	char *out;

	CHECK_EQ_INT(perfscript__parse(p, in, sizeof(in) - 1, &st), 0);
	CHECK_EQ_INT(st.samples, 2);
	CHECK_EQ_INT(st.other_events, 2);
	CHECK_EQ_INT(st.junk, 0);
	CHECK_EQ_STR(st.event, "cycles:ppp");
	CHECK_EQ_STR(st.other_event, "instructions");
	out = folded_str(p);
	CHECK_EQ_STR(out, "app;f 2\n");
	free(out);
	profile__free(p);
}

TEST(perfscript_sniff)
{
	CHECK(perfscript__sniff(two, sizeof(two) - 1));
	/* Cut inside the first frame line. */
	CHECK(perfscript__sniff(two, 100));
	CHECK(perfscript__sniff("\n\nperf 1/1 [0] 1.0: 1 cycles: 12 f (/x)\n\tffff f (/x)\n", 51));
	CHECK(!perfscript__sniff("main;a;b 12\nmain;a 3\n", 21));
	CHECK(!perfscript__sniff("chain;main;a;b;c 196\n", 21));
	CHECK(!perfscript__sniff("", 0));
	CHECK(!perfscript__sniff("# only comments\n", 16));
	CHECK(!perfscript__sniff("\t1234 f (/x)\n", 13));
	CHECK(!perfscript__sniff("hello world\nfoo\n", 16));
}
