/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `perf script` text, as stackcollapse-perf.pl and inferno read it: each sample a header line
 * ("COMM PID[/TID] [CPU] TIME: PERIOD EVENT:"), then its call chain leaf first, one indented
 * frame a line ("ADDR SYM+OFF (DSO)"), then a blank line. Without a call chain (perf record
 * without -g) a sample is one line, its comm padded and its one frame after the event. So
 * `perf script | flamed render` turns an existing perf.data into a flame graph, and a recorded
 * workload reads the same as flamed's own profile of it.
 *
 * Each sample counts 1 (perf's periods are ignored, as stackcollapse-perf.pl does by default).
 * Only samples of the first event in the input are counted (stackcollapse-perf.pl's default
 * too): a recording of two events would otherwise add cycles to instructions; the others are
 * counted in the statistics.
 * A stack becomes "COMM;root;...;leaf", the process name first as in flamed's folded output;
 * offsets (+0x..) are dropped; a frame whose DSO is the kernel ([kernel.kallsyms], a module, or
 * an [unknown] DSO at a kernel address) gets the kind FRAME_KERNEL (folded suffix _[k]), one in
 * a perf map (/tmp/perf-PID.map) FRAME_JIT; a frame without a symbol is named by its file,
 * "[libc.so.6]" (as stackcollapse-perf.pl names it), or "[unknown]" when that is unknown too.
 *
 * Memory is bounded by the distinct stacks, not the samples: equal stacks are counted in the
 * parser's table and reach the profile once each, through the folded parser, at finish. Lines
 * perf prints that are not samples ("#" header comments, srcline lines under a frame, a header
 * without a PID) are counted as junk and skipped; what cannot be perf script text at all (a NUL
 * byte, a line over PERFSCRIPT_MAX_LINE bytes, a chain over PERFSCRIPT_MAX_DEPTH frames) stops
 * the parse with an error that names the line. The parser never logs.
 */
#ifndef FLAMED_PERFSCRIPT_H
#define FLAMED_PERFSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct profile;

#define PERFSCRIPT_MAX_LINE (64U << 10)
#define PERFSCRIPT_MAX_DEPTH 8192
#define PERFSCRIPT_MAX_STACK_BYTES (1UL << 30) /* distinct stacks' bytes held at once */

struct perfscript_stats {
	uint64_t lines;	       /* lines seen */
	uint64_t samples;      /* sample headers that became samples */
	uint64_t stacks;       /* distinct stacks among them */
	uint64_t frames;       /* frame lines read */
	uint64_t junk;	       /* lines skipped as not part of a sample */
	uint64_t first_junk;   /* line number (from 1) of the first of them, 0 = none */
	uint64_t error_line;   /* the line that stopped the parse, 0 = none */
	const char *error;     /* why, for a message ("a NUL byte: binary data"), or NULL */
	uint64_t other_events; /* samples of other events than the first, skipped */
	char event[64];	       /* the first event seen ("cycles:ppp"), "" = none */
	char other_event[64];  /* the first other event skipped */
};

struct perfscript_parser;

/* A parser adding to p (whose meta's sample count grows with it); NULL on ENOMEM. */
struct perfscript_parser *perfscript_parser__new(struct profile *p);
/*
 * Feeds a chunk of any size (lines may straddle chunks). 0, -ENOMEM, or -EINVAL with the
 * error line and reason kept for finish's statistics. After an error, further calls return it.
 */
int perfscript_parser__feed(struct perfscript_parser *ps, const char *buf, size_t len);
/*
 * Ends the last sample and adds every counted stack to the profile. Fills st (may be NULL),
 * also after an error. 0, -ENOMEM, -EINVAL (see feed) or -EOVERFLOW (the profile's total).
 */
int perfscript_parser__finish(struct perfscript_parser *ps, struct perfscript_stats *st);
void perfscript_parser__free(struct perfscript_parser *ps);

/* The one-shot form over a whole buffer; st may be NULL. */
int perfscript__parse(struct profile *p, const char *buf, size_t len, struct perfscript_stats *st);

/*
 * Whether the first bytes of an input (a prefix: the last line may be cut) look like perf
 * script output: the first line that is not blank or a "#" comment is a sample header whose
 * next line is an indented frame, or a header that ends in "EVENT:" with a PID before it.
 */
bool perfscript__sniff(const char *buf, size_t len);

#endif
