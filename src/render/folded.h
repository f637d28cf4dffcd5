/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Folded stacks, the line format of flamegraph.pl: "proc;outer;...;leaf COUNT", one line per
 * distinct stack. Kernel, inline and JIT frames carry the suffixes _[k], _[i] and _[j].
 *
 * Writing is deterministic: equal stacks are merged and lines sorted bytewise by stack. Names
 * are made safe for the format: ';' becomes ':' and control characters '?', so a line is always
 * one stack; other bytes (invalid UTF-8 included) are written as they are.
 *
 * Reading is flamegraph.pl-compatible and tolerant: CRLF, blank lines and unparsable ("junk")
 * lines are counted, never fatal. Only the last space-separated token is the count (two tokens,
 * BEFORE AFTER, for differential input), so a name ending in " 123" stays a name. Suffixes
 * _[k] _[i] _[j] become the frame kind (_[w], waker, is removed and read as a user frame).
 * Samples are added with comm = 0: a process name stays an ordinary first frame.
 */
#ifndef FLAMED_FOLDED_H
#define FLAMED_FOLDED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct profile;

struct folded_parse_stats {
	uint64_t lines;		 /* lines seen, blank ones included */
	uint64_t stacks;	 /* lines that became samples */
	uint64_t junk;		 /* lines skipped as unparsable */
	uint64_t first_junk;	 /* line number (from 1) of the first junk line, 0 = none */
	uint64_t samples;	 /* sum of the counts (the AFTER column for differential input) */
	uint64_t samples_before; /* sum of the BEFORE column (differential input only) */
	uint64_t overflow_line;	 /* the line (from 1) whose count took its profile's total past
				  * PROFILE_MAX_TOTAL: parsing stopped there with -EOVERFLOW */
};

/*
 * A streaming parser: feed it chunks of any size (lines may straddle chunks), so a big file is
 * read in pieces and never held whole. With before != NULL the input is differential
 * ("stack BEFORE AFTER"): BEFORE counts go to before, AFTER counts to p.
 */
struct folded_parser;

struct folded_parser *folded_parser__new(struct profile *p, struct profile *before);
/*
 * 0, -ENOMEM, or -EOVERFLOW when a count would take the total of its profile (the samples of
 * its meta, which may start above 0: several inputs into one profile) past PROFILE_MAX_TOTAL.
 * Junk lines are counted, not errors. After an error, further calls return it again.
 */
int folded_parser__feed(struct folded_parser *fp, const char *buf, size_t len);
/*
 * Parses a last line without newline and fills st (may be NULL), also after an error, so that
 * st names the line that overflowed. 0, -ENOMEM or -EOVERFLOW.
 */
int folded_parser__finish(struct folded_parser *fp, struct folded_parse_stats *st);
void folded_parser__free(struct folded_parser *fp);

/* One-shot helpers over a whole buffer; st may be NULL. 0, -ENOMEM or -EOVERFLOW. */
int folded__parse(struct profile *p, const char *buf, size_t len, struct folded_parse_stats *st);
int folded__parse_diff(struct profile *before, struct profile *after, const char *buf, size_t len,
		       struct folded_parse_stats *st);

/* Writes p as folded stacks. 0, -ENOMEM or the negative errno of a failed write. */
int folded__write(const struct profile *p, FILE *f);

/*
 * Writes the differential format "stack BEFORE AFTER": every stack of either profile, counts as
 * they are (normalising is the renderer's business).
 */
int folded__write_diff(const struct profile *before, const struct profile *after, FILE *f);

#endif
