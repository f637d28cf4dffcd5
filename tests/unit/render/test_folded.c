// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/folded.h"
#include "harness.h"
#include "aggregate/profile.h"

static uint32_t frame(struct profile *p, const char *name, uint32_t kind, uint64_t addr)
{
	struct profile_frame f = {0};

	f.name = profile__intern_str(p, name);
	f.kind = kind;
	f.addr = addr;
	return profile__add_frame(p, &f);
}

/* The folded text of p (or of the diff before -> p), malloc'd. */
static char *write_str(const struct profile *before, const struct profile *p, int *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*err = before ? folded__write_diff(before, p, f) : folded__write(p, f);
	fclose(f);
	return buf;
}

/* A frame of p by name, 0 if absent. */
static const struct profile_frame *find_frame(const struct profile *p, const char *name)
{
	for (size_t i = 1; i <= profile__nr_frames(p); i++)
		if (!strcmp(profile__str(p, profile__frame(p, i)->name), name))
			return profile__frame(p, i);
	return NULL;
}

TEST(folded_write_merges_sorts_and_suffixes)
{
	struct profile *p = profile__new();
	uint32_t bash = profile__intern_str(p, "bash");
	uint32_t s1[] = {frame(p, "main", FRAME_USER, 0x10), frame(p, "read", FRAME_KERNEL, 0)};
	/* Same name, other address: a different frame id that must merge all the same. */
	uint32_t s2[] = {frame(p, "main", FRAME_USER, 0x20), frame(p, "read", FRAME_KERNEL, 0)};
	uint32_t s3[] = {frame(p, "start", FRAME_USER, 0), frame(p, "inl", FRAME_INLINE, 0),
			 frame(p, "jit", FRAME_JIT, 0)};
	uint32_t s4[] = {frame(p, "main", FRAME_USER, 0x10)};
	uint32_t s5[] = {frame(p, "a;b\nc\r\x01", FRAME_USER, 0)};
	uint32_t s6[] = {frame(p, "main1", FRAME_USER, 0)};
	char *out;
	int err;

	CHECK(s1[0] != s2[0]);
	CHECK_EQ_INT(profile__add_sample(p, s1, 2, 3, 10, bash, 0), 0);
	CHECK_EQ_INT(profile__add_sample(p, s2, 2, 2, 11, bash, 0), 0);
	CHECK_EQ_INT(profile__add_sample(p, s3, 3, 1, 0, 0, 0), 0);
	CHECK_EQ_INT(profile__add_sample(p, s4, 1, 4, 10, bash, 0), 0);
	CHECK_EQ_INT(profile__add_sample(p, s5, 1, 7, 0, 0, 0), 0);
	CHECK_EQ_INT(profile__add_sample(p, s6, 1, 1, 0, bash, 0), 0);
	CHECK_EQ_INT(profile__add_sample(p, s4, 1, 0, 0, 0, 0), 0); /* zero counts vanish */
	out = write_str(NULL, p, &err);
	CHECK_EQ_INT(err, 0);
	/* Bytewise order of the stacks: "main" < "main1" < "main;..." as ';' > '1'. */
	CHECK_EQ_STR(out, "a:b?c?? 7\n"
			  "bash;main 4\n"
			  "bash;main1 1\n"
			  "bash;main;read_[k] 5\n"
			  "start;inl_[i];jit_[j] 1\n");
	free(out);
	profile__free(p);
}

TEST(folded_write_is_c_locale_sorted)
{
	static const char *const names[] = {"b", "a b", "a", "a;x", "A", "a-1", "a1", "~", "a("};
	struct profile *p = profile__new();
	char *out, *prev = NULL, *line;
	int err;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint32_t ids[2] = {frame(p, "a", FRAME_USER, 0), 0};
		const char *semi = strchr(names[i], ';');

		if (semi) {
			/* "a;x" as two frames */
			ids[1] = frame(p, semi + 1, FRAME_USER, 0);
			profile__add_sample(p, ids, 2, 1, 0, 0, 0);
		} else {
			ids[0] = frame(p, names[i], FRAME_USER, 0);
			profile__add_sample(p, ids, 1, 1, 0, 0, 0);
		}
	}
	out = write_str(NULL, p, &err);
	CHECK_EQ_INT(err, 0);
	/* Each line is bytewise after the one before it (the count is " 1" on all). */
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (prev)
			CHECK(strcmp(prev, line) < 0);
		prev = line;
	}
	free(out);
	profile__free(p);
}

TEST(folded_parse_edge_cases)
{
	static const char in[] = "proc;a;b 10\n"
				 "proc;a;b 5\r\n" /* CRLF, same stack again */
				 "\n"
				 "   \n"
				 "junk without count\n"
				 "name ending in number 123 45\n"
				 "x;k_[k];i_[i];j_[j];w_[w];z_[q] 1\n"
				 ";;; 4\n"			 /* no frames: junk */
				 "1234\n"			 /* no stack: junk */
				 "a;b 99999999999999999999999\n" /* overflow: junk */
				 "a;b 1.5\n"			 /* not an integer: junk */
				 "a;;b\t2  \n" /* empty frame skipped, tab, spaces */
				 "last 3";     /* no newline */
	struct profile *p = profile__new();
	struct folded_parse_stats st;
	const struct profile_frame *f;

	CHECK_EQ_INT(folded__parse(p, in, sizeof(in) - 1, &st), 0);
	CHECK_EQ_INT(st.lines, 13);
	CHECK_EQ_INT(st.stacks, 6);
	CHECK_EQ_INT(st.junk, 5);
	CHECK_EQ_INT(st.first_junk, 5);
	CHECK_EQ_INT(st.samples, 10 + 5 + 45 + 1 + 2 + 3);
	CHECK_EQ_INT(profile__total(p), st.samples);
	CHECK_EQ_INT(profile__meta(p)->samples, st.samples);
	CHECK_EQ_INT(profile__nr_samples(p), 6);
	f = find_frame(p, "name ending in number 123");
	CHECK(f != NULL);
	CHECK(find_frame(p, "k") && find_frame(p, "k")->kind == FRAME_KERNEL);
	CHECK(find_frame(p, "i") && find_frame(p, "i")->kind == FRAME_INLINE);
	CHECK(find_frame(p, "j") && find_frame(p, "j")->kind == FRAME_JIT);
	CHECK(find_frame(p, "w") && find_frame(p, "w")->kind == FRAME_USER);
	CHECK(find_frame(p, "z_[q]") != NULL); /* unknown annotation stays in the name */
	CHECK(find_frame(p, "b") != NULL);
	/* The process name is an ordinary first frame: comm stays 0. */
	CHECK_EQ_INT(profile__sample(p, 0)->comm, 0);
	CHECK_EQ_INT(profile__sample(p, 0)->nframes, 3);
	CHECK_EQ_INT(profile__sample(p, 4)->nframes, 2); /* a;;b */
	profile__free(p);
}

TEST(folded_parse_streaming_equals_one_shot)
{
	static const char in[] =
		"p;aaaaaaaaaaaaaaaaaaaaaaaa;b 1\np;b_[k];c 22\r\n\nbad\nq;r 3\nt 4";
	struct profile *a = profile__new(), *b = profile__new();
	struct folded_parser *fp = folded_parser__new(b, NULL);
	struct folded_parse_stats sa, sb;
	char *oa, *ob;
	int err;

	CHECK_EQ_INT(folded__parse(a, in, sizeof(in) - 1, &sa), 0);
	/* One byte at a time: every line straddles feeds. */
	for (size_t i = 0; i < sizeof(in) - 1; i++)
		CHECK_EQ_INT(folded_parser__feed(fp, in + i, 1), 0);
	CHECK_EQ_INT(folded_parser__finish(fp, &sb), 0);
	folded_parser__free(fp);
	CHECK_EQ_INT(sa.stacks, 4);
	CHECK_EQ_INT(sb.stacks, sa.stacks);
	CHECK_EQ_INT(sb.junk, sa.junk);
	CHECK_EQ_INT(sb.lines, sa.lines);
	oa = write_str(NULL, a, &err);
	ob = write_str(NULL, b, &err);
	CHECK_EQ_STR(ob, oa);
	CHECK_EQ_STR(oa, "p;aaaaaaaaaaaaaaaaaaaaaaaa;b 1\np;b_[k];c 22\nq;r 3\nt 4\n");
	free(oa);
	free(ob);
	profile__free(a);
	profile__free(b);
}

TEST(folded_round_trip)
{
	static const char in[] = "b;x_[k] 1\na;b;c 2\na;b 3\nz;y_[j];w_[i] 4\na;b;c 5\n";
	struct profile *p = profile__new(), *q = profile__new();
	char *o1, *o2;
	int err;

	CHECK_EQ_INT(folded__parse(p, in, sizeof(in) - 1, NULL), 0);
	o1 = write_str(NULL, p, &err);
	CHECK_EQ_STR(o1, "a;b 3\na;b;c 7\nb;x_[k] 1\nz;y_[j];w_[i] 4\n");
	CHECK_EQ_INT(folded__parse(q, o1, strlen(o1), NULL), 0);
	o2 = write_str(NULL, q, &err);
	CHECK_EQ_STR(o2, o1);
	free(o1);
	free(o2);
	profile__free(p);
	profile__free(q);
}

TEST(folded_diff_parse_and_write)
{
	static const char in[] = "a;b 3 5\nc 0 2\nd 4 0\nonly one 7\nname 12 1 2\n";
	struct profile *before = profile__new(), *after = profile__new();
	struct folded_parse_stats st;
	char *out;
	int err;

	CHECK_EQ_INT(folded__parse_diff(before, after, in, sizeof(in) - 1, &st), 0);
	CHECK_EQ_INT(st.stacks, 4);
	CHECK_EQ_INT(st.junk, 1);
	CHECK_EQ_INT(st.samples, 5 + 2 + 0 + 2);
	CHECK_EQ_INT(st.samples_before, 3 + 0 + 4 + 1);
	CHECK_EQ_INT(profile__total(before), 8);
	CHECK_EQ_INT(profile__total(after), 9);
	CHECK(find_frame(after, "name 12") != NULL);
	out = write_str(before, after, &err);
	CHECK_EQ_INT(err, 0);
	CHECK_EQ_STR(out, "a;b 3 5\nc 0 2\nd 4 0\nname 12 1 2\n");
	free(out);
	profile__free(before);
	profile__free(after);
}

TEST(folded_write_error)
{
	struct profile *p = profile__new();
	uint32_t id = frame(p, "main", FRAME_USER, 0);
	FILE *f = fopen("/dev/full", "w");

	profile__add_sample(p, &id, 1, 1, 0, 0, 0);
	if (f) {
		CHECK_EQ_INT(folded__write(p, f), -ENOSPC);
		fclose(f);
	}
	profile__free(p);
}

TEST(folded_parse_many_names)
{
	/* Enough distinct names to grow the parser's table several times. */
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	struct profile *p = profile__new();
	struct folded_parse_stats st;

	for (int i = 0; i < 20000; i++)
		len += snprintf(buf + len, cap - len, "root;fn_%d;leaf_%d_[k] %d\n", i, i % 7, 1);
	CHECK_EQ_INT(folded__parse(p, buf, len, &st), 0);
	CHECK_EQ_INT(st.stacks, 20000);
	CHECK_EQ_INT(profile__nr_frames(p), 1 + 20000 + 7);
	CHECK(find_frame(p, "fn_19999") != NULL);
	CHECK(find_frame(p, "leaf_3") && find_frame(p, "leaf_3")->kind == FRAME_KERNEL);
	free(buf);
	profile__free(p);
}

TEST(folded_parse_reuses_shared_prefixes_exactly)
{
	/* Neighbours sharing bytes but not frames, frames cut at other places, empty frames. */
	static const char in[] = "ab;c 1\n"
				 "ab;cd 2\n"
				 "ab;c;d 3\n"
				 "a;bc 4\n"
				 "ab 5\n"
				 "ab;;c 6\n"
				 "ab;c_[k] 7\n"
				 "ab;c_[k];x 8\n"
				 "ab;c 9\n";
	struct profile *p = profile__new(), *q = profile__new();
	struct folded_parser *fp = folded_parser__new(q, NULL);
	char *out, *out2;
	int err;

	CHECK_EQ_INT(folded__parse(p, in, sizeof(in) - 1, NULL), 0);
	out = write_str(NULL, p, &err);
	CHECK_EQ_STR(out, "a;bc 4\n"
			  "ab 5\n"
			  "ab;c 16\n"
			  "ab;c;d 3\n"
			  "ab;c_[k] 7\n"
			  "ab;c_[k];x 8\n"
			  "ab;cd 2\n");
	/* Line by line, so no line sees the one before it: the same profile. */
	for (const char *l = in; *l; l = strchr(l, '\n') + 1)
		folded_parser__feed(fp, l, strchr(l, '\n') + 1 - l);
	CHECK_EQ_INT(folded_parser__finish(fp, NULL), 0);
	folded_parser__free(fp);
	out2 = write_str(NULL, q, &err);
	CHECK_EQ_STR(out2, out);
	CHECK_EQ_INT(profile__sample(p, 5)->nframes, 2); /* ab;;c */
	free(out);
	free(out2);
	profile__free(p);
	profile__free(q);
}
