// SPDX-License-Identifier: GPL-2.0-only
/*
 * `perf script` text to a profile. Lines are parsed as they come (the unfinished last line of a
 * chunk is carried over); a sample's frames are collected leaf first, turned into one folded
 * key "comm;root;...;leaf" when the sample ends, and counted in a table of distinct keys. At
 * finish the table is handed to the folded parser as "key COUNT" lines, so both inputs end in
 * the same interning and the same profile, and the frame kinds travel as folded suffixes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/perfscript.h"
#include "aggregate/profile.h"
#include "base/util.h"
#include "render/folded.h"

/* A distinct stack: its key in the arena and how many samples had it. */
struct sent {
	uint64_t hash;
	uint64_t count;
	size_t off, len;
};

struct perfscript_parser {
	struct profile *p;
	struct sent *ents; /* in first-seen order */
	size_t nr_ents, cap_ents;
	uint32_t *slots; /* open addressing, index+1 into ents, 0 = empty */
	size_t cap;	 /* power of two */
	char *arena;
	size_t arena_len, arena_cap;

	/* The sample being read: comm then frames, leaf first, each a name in fbuf. */
	bool in_sample, skipping, other_event;
	char *fbuf;
	size_t fbuf_len, fbuf_cap;
	size_t *fstart; /* [0] is the comm, then one per frame */
	size_t nr_f, cap_f;
	char *key;
	size_t key_cap;

	char *carry; /* the unfinished last line of the previous chunk */
	size_t carry_len, carry_cap;
	struct perfscript_stats st;
	int err;
};

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static inline bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int fail(struct perfscript_parser *ps, const char *why)
{
	ps->st.error = why;
	ps->st.error_line = ps->st.lines;
	return ps->err = -EINVAL;
}

static void junk(struct perfscript_parser *ps)
{
	ps->st.junk++;
	if (!ps->st.first_junk)
		ps->st.first_junk = ps->st.lines;
}

/*
 * Appends a frame name to fbuf: prefix, then s made safe for folded stacks, then a suffix (the
 * kind's); -ENOMEM.
 */
static int add_name(struct perfscript_parser *ps, const char *prefix, const char *s, size_t n,
		    const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);

	if (grow_array((void **)&ps->fbuf, &ps->fbuf_cap, ps->fbuf_len + pl + n + sl, 1) ||
	    grow_array((void **)&ps->fstart, &ps->cap_f, ps->nr_f + 1, sizeof(*ps->fstart)))
		return -ENOMEM;
	ps->fstart[ps->nr_f++] = ps->fbuf_len;
	memcpy(ps->fbuf + ps->fbuf_len, prefix, pl);
	ps->fbuf_len += pl;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		ps->fbuf[ps->fbuf_len++] = c == ';' ? ':' : (c < 0x20 || c == 0x7f) ? '?' : c;
	}
	memcpy(ps->fbuf + ps->fbuf_len, suffix, sl);
	ps->fbuf_len += sl;
	return 0;
}

static int table_grow(struct perfscript_parser *ps)
{
	size_t ncap = ps->cap * 2;
	uint32_t *ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < ps->nr_ents; i++) {
		size_t j = ps->ents[i].hash & (ncap - 1);

		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = i + 1;
	}
	free(ps->slots);
	ps->slots = ns;
	ps->cap = ncap;
	return 0;
}

/* Counts one sample of the stack key, n bytes. */
static int count_stack(struct perfscript_parser *ps, const char *key, size_t n)
{
	uint64_t h = hash_bytes(key, n, 0x5eed);
	size_t j = h & (ps->cap - 1);
	struct sent *e;
	uint32_t slot;

	while ((slot = ps->slots[j])) {
		e = &ps->ents[slot - 1];
		if (e->hash == h && e->len == n && !memcmp(ps->arena + e->off, key, n)) {
			e->count++;
			return 0;
		}
		j = (j + 1) & (ps->cap - 1);
	}
	if (ps->arena_len + n > PERFSCRIPT_MAX_STACK_BYTES)
		return fail(ps, "the distinct stacks so far hold more than 1 GiB, the most this "
				"reader keeps");
	if ((ps->nr_ents + 1) * 2 > ps->cap) {
		if (table_grow(ps))
			return -ENOMEM;
		j = h & (ps->cap - 1);
		while (ps->slots[j])
			j = (j + 1) & (ps->cap - 1);
	}
	if (grow_array((void **)&ps->arena, &ps->arena_cap, ps->arena_len + n, 1) ||
	    grow_array((void **)&ps->ents, &ps->cap_ents, ps->nr_ents + 1, sizeof(*ps->ents)))
		return -ENOMEM;
	e = &ps->ents[ps->nr_ents];
	e->hash = h;
	e->count = 1;
	e->off = ps->arena_len;
	e->len = n;
	memcpy(ps->arena + ps->arena_len, key, n);
	ps->arena_len += n;
	ps->slots[j] = ++ps->nr_ents;
	return 0;
}

/* Ends the sample being read: its key is the comm, then the frames from the root. */
static int end_sample(struct perfscript_parser *ps)
{
	size_t n = 0, need = ps->fbuf_len + ps->nr_f;
	bool counted = ps->in_sample && !ps->skipping;

	ps->in_sample = ps->skipping = ps->other_event = false;
	if (!counted)
		return 0;
	if (grow_array((void **)&ps->key, &ps->key_cap, need, 1))
		return -ENOMEM;
	for (size_t i = 0; i < ps->nr_f; i++) {
		/* fstart[0] is the comm; the frames after it are leaf first. */
		size_t k = i ? ps->nr_f - i : 0;
		size_t end = k + 1 < ps->nr_f ? ps->fstart[k + 1] : ps->fbuf_len;

		if (end == ps->fstart[k])
			continue;
		if (n)
			ps->key[n++] = ';';
		memcpy(ps->key + n, ps->fbuf + ps->fstart[k], end - ps->fstart[k]);
		n += end - ps->fstart[k];
	}
	ps->st.samples++;
	return n ? count_stack(ps, ps->key, n) : 0;
}

/*
 * The PID token of a header line: the first token after the first one that is digits or
 * digits/digits (what stackcollapse-perf.pl takes, so a comm with spaces stays whole). Returns
 * the end of the comm before it, or NULL when there is none.
 */
static const char *header_comm_end(const char *s, const char *e)
{
	const char *q = s, *prev_end;

	while (q < e && !is_blank(*q))
		q++;
	prev_end = q;
	while (q < e) {
		const char *t, *d;

		while (q < e && is_blank(*q))
			q++;
		t = q;
		while (q < e && !is_blank(*q))
			q++;
		d = t;
		while (d < q && *d >= '0' && *d <= '9')
			d++;
		if (d > t && d < q && *d == '/') {
			const char *d2 = ++d;

			while (d < q && *d >= '0' && *d <= '9')
				d++;
			if (d == d2)
				d = t;
		}
		if (d > t && d == q)
			return prev_end;
		prev_end = q;
	}
	return NULL;
}

/*
 * The event of a header ("cycles:ppp:" in "COMM PID TIME: PERIOD cycles:ppp: ..."): the first
 * token after the comm that ends in ':' and is not the time. NULL when there is none (perf
 * script -F without the event); *ret_end is after its ':'.
 */
static const char *header_event(const char *q, const char *e, const char **ret_end)
{
	while (q < e) {
		const char *t, *h;

		while (q < e && is_blank(*q))
			q++;
		t = q;
		while (q < e && !is_blank(*q))
			q++;
		if (q == t || q[-1] != ':')
			continue;
		for (h = t; h < q - 1 && ((*h >= '0' && *h <= '9') || *h == '.'); h++)
			;
		if (h == q - 1)
			continue; /* the time */
		*ret_end = q;
		return t;
	}
	return NULL;
}

/*
 * Without a call chain (perf record without -g) perf prints the sample's one frame on its
 * header line after the event: "... EVENT: ADDR SYM+OFF (DSO)". Where that ADDR starts, or NULL.
 */
static const char *header_frame(const char *q, const char *e)
{
	const char *a, *h;

	for (a = q; a < e && is_blank(*a); a++)
		;
	for (h = a; h < e && is_hex(*h); h++)
		;
	return h > a && h - a <= 16 && h < e && is_blank(*h) ? a : NULL;
}

/*
 * Whether a sample of the event ev, n bytes (its ':' dropped), is counted: samples of the first
 * event seen are, others are skipped (as stackcollapse-perf.pl does), so a perf.data holding
 * cycles and instructions does not add up the two.
 */
static bool event_counted(struct perfscript_parser *ps, const char *ev, size_t n)
{
	n = MIN(n, sizeof(ps->st.event) - 1);
	if (!ps->st.event[0]) {
		memcpy(ps->st.event, ev, n);
		return true;
	}
	if (strlen(ps->st.event) == n && !memcmp(ps->st.event, ev, n))
		return true;
	if (!ps->st.other_events++)
		memcpy(ps->st.other_event, ev, n);
	return false;
}

static int parse_frame(struct perfscript_parser *ps, const char *s, const char *e);

/* false when the line has no PID: not a header (the caller decides what it is). */
static bool parse_header(struct perfscript_parser *ps, const char *s, const char *e, int *err)
{
	const char *ce = header_comm_end(s, e), *f = NULL, *ev, *ev_end = NULL;

	*err = 0;
	if (!ce)
		return false;
	ev = header_event(ce, e, &ev_end);
	if (ev)
		f = header_frame(ev_end, e);
	ps->fbuf_len = ps->nr_f = 0;
	ps->in_sample = true;
	if (ev && !event_counted(ps, ev, ev_end - 1 - ev)) {
		/* Its frames are skipped too, without counting them as junk. */
		ps->skipping = ps->other_event = true;
		if (f)
			*err = end_sample(ps);
		return true;
	}
	while (ce > s && is_blank(ce[-1]))
		ce--;
	*err = add_name(ps, "", s, ce - s, "");
	/* A one-line sample ends here: the next indented line may be the next header. */
	if (!*err && f) {
		*err = parse_frame(ps, f, e);
		if (!*err)
			*err = end_sample(ps);
	}
	return true;
}

static bool dso_is_kernel(const char *d, size_t n, uint64_t addr)
{
	static const char *const ko[] = {".ko", ".ko.xz", ".ko.zst", ".ko.gz"};

	if (n >= 8 && !memcmp(d, "[kernel.", 8))
		return true;
	for (size_t i = 0; i < sizeof(ko) / sizeof(ko[0]); i++) {
		size_t l = strlen(ko[i]);

		if (n > l && !memcmp(d + n - l, ko[i], l))
			return true;
	}
	/* Unnamed memory in the upper half of the x86-64/arm64 address space is the kernel's. */
	return (!n || (n == 9 && !memcmp(d, "[unknown]", 9))) && addr >= 0xffff800000000000ULL;
}

static bool dso_is_jit(const char *d, size_t n)
{
	return n > 14 && !memcmp(d, "/tmp/perf-", 10) && !memcmp(d + n - 4, ".map", 4);
}

/* An indented line "ADDR SYM[+0xOFF] [(DSO)]"; anything else is junk (srcline lines). */
static int parse_frame(struct perfscript_parser *ps, const char *s, const char *e)
{
	const char *a, *sym, *sym_end, *dso = NULL, *dso_end = NULL, *q;
	uint64_t addr = 0;

	while (s < e && is_blank(*s))
		s++;
	for (a = s; s < e && is_hex(*s); s++) {
		unsigned char c = *s;

		addr = addr << 4 | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	if (s == a || s - a > 16 || (s < e && !is_blank(*s))) {
		junk(ps);
		return 0;
	}
	while (s < e && is_blank(*s))
		s++;
	sym = s;
	sym_end = e;
	if (e > s && e[-1] == ')') {
		/* The DSO is the last parenthesised group; C++ names have their own parentheses. */
		int depth = 0;

		for (q = e - 1; q >= s; q--) {
			depth += *q == ')' ? 1 : *q == '(' ? -1 : 0;
			if (!depth)
				break;
		}
		if (q >= s && (q == s || is_blank(q[-1]))) {
			dso = q + 1;
			dso_end = e - 1;
			sym_end = q;
		}
	}
	while (sym_end > sym && is_blank(sym_end[-1]))
		sym_end--;
	/* sym+0x1f: the offset goes, so one function is one frame. */
	for (q = sym_end; q > sym && is_hex(q[-1]); q--)
		;
	if (q < sym_end && q - sym >= 3 && q[-1] == 'x' && q[-2] == '0' && q[-3] == '+')
		sym_end = q - 3;
	if (ps->nr_f > PERFSCRIPT_MAX_DEPTH)
		return fail(ps, "a call chain of more than 8192 frames");
	ps->st.frames++;
	if (sym_end == sym) {
		sym = "[unknown]";
		sym_end = sym + 9;
	}
	if (dso_is_kernel(dso, dso ? dso_end - dso : 0, addr))
		return add_name(ps, "", sym, sym_end - sym, "_[k]");
	if (dso && dso_is_jit(dso, dso_end - dso))
		return add_name(ps, "", sym, sym_end - sym, "_[j]");
	/* No symbol in a known file: "[libc.so.6]", as stackcollapse-perf.pl names it. */
	if (dso && dso_end > dso && *dso == '/' && sym_end - sym == 9 &&
	    !memcmp(sym, "[unknown]", 9)) {
		const char *b = dso_end;

		while (b > dso && b[-1] != '/')
			b--;
		if (b < dso_end)
			return add_name(ps, "[", b, dso_end - b, "]");
	}
	return add_name(ps, "", sym, sym_end - sym, "");
}

/* The line s..e, without its '\n'. */
static int parse_line(struct perfscript_parser *ps, const char *s, const char *e)
{
	const char *t = s;
	int err;

	ps->st.lines++;
	if (memchr(s, '\0', e - s))
		return fail(ps, "a NUL byte: binary data, not perf script text");
	while (t < e && is_blank(*t))
		t++;
	while (e > t && is_blank(e[-1]))
		e--;
	if (t == e)
		return end_sample(ps);
	/* Indented: a frame of the sample being read, else a header perf padded (%16s comm). */
	if (t > s && ps->in_sample) {
		if (ps->skipping) {
			if (!ps->other_event)
				junk(ps);
			return 0;
		}
		return parse_frame(ps, t, e);
	}
	err = end_sample(ps);
	if (err || (t == s && *s == '#'))
		return err;
	if (parse_header(ps, t, e, &err))
		return err;
	/* Not a header: junk, and so are the frames under it. */
	junk(ps);
	ps->in_sample = ps->skipping = t == s;
	return 0;
}

struct perfscript_parser *perfscript_parser__new(struct profile *p)
{
	struct perfscript_parser *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return NULL;
	ps->p = p;
	ps->cap = 1024;
	ps->slots = calloc(ps->cap, sizeof(*ps->slots));
	if (!ps->slots) {
		free(ps);
		return NULL;
	}
	return ps;
}

void perfscript_parser__free(struct perfscript_parser *ps)
{
	if (!ps)
		return;
	free(ps->ents);
	free(ps->slots);
	free(ps->arena);
	free(ps->fbuf);
	free(ps->fstart);
	free(ps->key);
	free(ps->carry);
	free(ps);
}

static int line_done(struct perfscript_parser *ps, const char *s, const char *e)
{
	int err = parse_line(ps, s, e);

	/* fail() set ps->err; an allocation failure is kept too. */
	if (err && !ps->err)
		ps->err = err;
	return ps->err;
}

int perfscript_parser__feed(struct perfscript_parser *ps, const char *buf, size_t len)
{
	const char *s = buf, *end = buf + len, *nl;
	size_t take;

	if (ps->err)
		return ps->err;
	if (ps->carry_len) {
		nl = memchr(s, '\n', len);
		take = nl ? (size_t)(nl - s) : len;
		if (ps->carry_len + take > PERFSCRIPT_MAX_LINE) {
			ps->st.lines++;
			return fail(ps, "a line longer than 64 KiB");
		}
		if (grow_array((void **)&ps->carry, &ps->carry_cap, ps->carry_len + take, 1))
			return ps->err = -ENOMEM;
		memcpy(ps->carry + ps->carry_len, s, take);
		ps->carry_len += take;
		if (!nl)
			return 0;
		take = ps->carry_len;
		ps->carry_len = 0;
		if (line_done(ps, ps->carry, ps->carry + take))
			return ps->err;
		s = nl + 1;
	}
	while (s < end) {
		nl = memchr(s, '\n', end - s);
		take = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (take > PERFSCRIPT_MAX_LINE) {
			ps->st.lines++;
			return fail(ps, "a line longer than 64 KiB");
		}
		if (!nl)
			break;
		if (line_done(ps, s, nl))
			return ps->err;
		s = nl + 1;
	}
	if (s < end) {
		if (grow_array((void **)&ps->carry, &ps->carry_cap, end - s, 1))
			return ps->err = -ENOMEM;
		memcpy(ps->carry, s, end - s);
		ps->carry_len = end - s;
	}
	return 0;
}

/* The counted stacks into the profile, as folded lines "key COUNT". */
static int emit(struct perfscript_parser *ps)
{
	struct folded_parser *fp = folded_parser__new(ps->p, NULL);
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	if (!fp)
		return -ENOMEM;
	for (size_t i = 0; i < ps->nr_ents && !err; i++) {
		const struct sent *e = &ps->ents[i];
		int n;

		if (grow_array((void **)&line, &cap, e->len + 24, 1)) {
			err = -ENOMEM;
			break;
		}
		memcpy(line, ps->arena + e->off, e->len);
		n = snprintf(line + e->len, 24, " %llu\n", (unsigned long long)e->count);
		err = folded_parser__feed(fp, line, e->len + n);
	}
	if (!err)
		err = folded_parser__finish(fp, NULL);
	folded_parser__free(fp);
	free(line);
	return err;
}

int perfscript_parser__finish(struct perfscript_parser *ps, struct perfscript_stats *st)
{
	if (!ps->err && ps->carry_len) {
		size_t n = ps->carry_len;

		ps->carry_len = 0;
		line_done(ps, ps->carry, ps->carry + n);
	}
	if (!ps->err && end_sample(ps) && !ps->err)
		ps->err = -ENOMEM;
	if (!ps->err) {
		ps->err = emit(ps);
		if (ps->err == -EOVERFLOW)
			ps->st.error = "the sample counts add up to more than a profile can hold";
	}
	ps->st.stacks = ps->nr_ents;
	if (st)
		*st = ps->st;
	return ps->err;
}

int perfscript__parse(struct profile *p, const char *buf, size_t len, struct perfscript_stats *st)
{
	struct perfscript_parser *ps = perfscript_parser__new(p);
	int err;

	if (!ps)
		return -ENOMEM;
	/* An error is kept in ps: finish returns it with the line. */
	perfscript_parser__feed(ps, buf, len);
	err = perfscript_parser__finish(ps, st);
	perfscript_parser__free(ps);
	return err;
}

bool perfscript__sniff(const char *buf, size_t len)
{
	const char *s = buf, *end = buf + len, *nl, *e, *t, *ev_end;

	for (;;) {
		if (s >= end)
			return false;
		nl = memchr(s, '\n', end - s);
		e = nl ? nl : end;
		for (t = s; t < e && is_blank(*t); t++)
			;
		if (t < e && *s != '#')
			break;
		if (!nl)
			return false;
		s = nl + 1;
	}
	/* The first line that matters: a header with a PID (indented when perf padded it). */
	s = t;
	if (memchr(s, '\0', e - s) || !(t = header_comm_end(s, e)))
		return false;
	if ((t = header_event(t, e, &ev_end)) && header_frame(ev_end, e))
		return true;
	while (e > s && is_blank(e[-1]))
		e--;
	if (e[-1] == ':')
		return true;
	/* Or followed by an indented "ADDR ..." frame line. */
	if (!nl)
		return false;
	s = nl + 1;
	for (t = s; t < end && is_blank(*t); t++)
		;
	if (t == s || t == end || !is_hex(*t))
		return false;
	while (t < end && is_hex(*t))
		t++;
	return t < end && *t == ' ';
}
