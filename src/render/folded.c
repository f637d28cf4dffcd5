// SPDX-License-Identifier: GPL-2.0-only
/*
 * Folded stacks: a streaming parser built for big files (hundreds of MB) and a deterministic
 * writer.
 *
 * The parser works in place on the caller's buffer and keeps its own small table from a
 * frame's bytes (as written, suffix included) to the profile's frame id, so the usual frame
 * costs one pass over its bytes (finding its end and hashing) and one compare: no allocation
 * per line or per frame.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "render/folded.h"
#include "aggregate/profile.h"
#include "base/util.h"

/* A known frame: its bytes live in the parser's arena, ids per target profile (0 = not yet). */
struct fent {
	uint64_t hash;
	uint32_t off;
	uint32_t len;
	uint32_t id[2]; /* frame id in p, in before */
	uint32_t kind;
};

struct folded_parser {
	struct profile *p[2]; /* [0] AFTER (or only), [1] BEFORE */
	struct fent *ents;
	size_t nr_ents, cap_ents;
	uint32_t *slots; /* open addressing, index+1 into ents, 0 = empty */
	size_t cap;	 /* power of two */
	char *arena;
	size_t arena_len, arena_cap;
	uint32_t *ids[2]; /* the current (or last) line's frame ids */
	size_t *ends;	  /* where each of its frames ends */
	size_t ends_cap;
	const char *prev; /* the last line's stack, while it is in the caller's buffer */
	size_t prev_len, prev_n;
	size_t ids_cap[2];
	char *carry; /* the unfinished last line of the previous chunk */
	size_t carry_len, carry_cap;
	struct folded_parse_stats st;
	int err;
};

/*
 * Frames are scanned a word at a time: one pass finds the ';' that ends the frame (SWAR zero-byte
 * test) and hashes its bytes, one multiply per 8 bytes. Loads may read past the frame but never
 * past limit, the end of readable memory; bytes beyond the frame are masked off.
 */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
#define HMUL 0xff51afd7ed558ccdULL

static inline uint64_t load_word(const char *s, const char *limit)
{
	uint64_t w = 0;

	if (limit - s >= 8)
		memcpy(&w, s, 8);
	else
		memcpy(&w, s, limit - s);
	return w;
}

static inline uint64_t low_bytes(uint64_t w, size_t n)
{
	return n >= 8 ? w : w & ((1ULL << (8 * n)) - 1);
}

/* Length of the frame at s (up to ';' or e); its hash in *ret_h. */
static inline size_t scan_frame(const char *s, const char *e, const char *limit, uint64_t *ret_h)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	const char *q = s;

	while (q < e) {
		uint64_t w = load_word(q, limit), x = w ^ (ONES * ';');
		uint64_t t = (x - ONES) & ~x & HIGHS;
		size_t k = t ? (size_t)__builtin_ctzll(t) >> 3 : 8;

		if (k > (size_t)(e - q))
			k = e - q;
		if (k < 8) {
			if (k)
				h = ((h << 23 | h >> 41) ^ low_bytes(w, k)) * HMUL;
			q += k;
			break;
		}
		h = ((h << 23 | h >> 41) ^ w) * HMUL;
		q += 8;
	}
	*ret_h = hash_mix(h ^ (uint64_t)(q - s));
	return q - s;
}

/* Compares n bytes at a (readable up to alimit) with b (the arena: 8 bytes readable past). */
static inline bool key_eq(const char *a, const char *alimit, const char *b, size_t n)
{
	uint64_t x, y;

	while (n >= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return false;
		a += 8;
		b += 8;
		n -= 8;
	}
	if (!n)
		return true;
	x = load_word(a, alimit);
	memcpy(&y, b, 8);
	return low_bytes(x, n) == low_bytes(y, n);
}

static uint32_t strip_kind(const char *s, size_t *n)
{
	if (*n < 4 || s[*n - 4] != '_' || s[*n - 3] != '[' || s[*n - 1] != ']')
		return FRAME_USER;
	switch (s[*n - 2]) {
	case 'k':
		*n -= 4;
		return FRAME_KERNEL;
	case 'i':
		*n -= 4;
		return FRAME_INLINE;
	case 'j':
		*n -= 4;
		return FRAME_JIT;
	case 'p':
		*n -= 4;
		return FRAME_PYTHON;
	case 'z':
		*n -= 4;
		return FRAME_PHP;
	case 'v':
		*n -= 4;
		return FRAME_V8;
	case 'r':
		*n -= 4;
		return FRAME_RUBY;
	case 'l':
		*n -= 4;
		return FRAME_PERL;
	case 'w':
		*n -= 4;
		return FRAME_USER;
	default:
		return FRAME_USER;
	}
}

static int table_grow(struct folded_parser *fp)
{
	size_t ncap = fp->cap * 2, i;
	uint32_t *ns;

	ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (i = 0; i < fp->nr_ents; i++) {
		size_t j = fp->ents[i].hash & (ncap - 1);

		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = i + 1;
	}
	free(fp->slots);
	fp->slots = ns;
	fp->cap = ncap;
	return 0;
}

/* Adds the frame spelled s, n (suffix included); NULL on ENOMEM. */
static struct fent *table_add(struct folded_parser *fp, const char *s, size_t n, uint64_t h)
{
	struct fent *e;
	size_t j;

	if ((fp->nr_ents + 1) * 2 > fp->cap && table_grow(fp))
		return NULL;
	if (n > UINT32_MAX - 8 - fp->arena_len ||
	    grow_array((void **)&fp->arena, &fp->arena_cap, fp->arena_len + n + 8, 1) ||
	    grow_array((void **)&fp->ents, &fp->cap_ents, fp->nr_ents + 1, sizeof(*fp->ents)))
		return NULL;
	e = &fp->ents[fp->nr_ents];
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->off = fp->arena_len;
	e->len = n;
	memcpy(fp->arena + fp->arena_len, s, n);
	memset(fp->arena + fp->arena_len + n, 0, 8);
	fp->arena_len += n;
	e->kind = strip_kind(s, &n);
	j = h & (fp->cap - 1);
	while (fp->slots[j])
		j = (j + 1) & (fp->cap - 1);
	fp->slots[j] = ++fp->nr_ents;
	return e;
}

/* The entry of the frame s, n (readable up to limit), added if new; NULL on ENOMEM. */
static inline struct fent *table_find(struct folded_parser *fp, const char *s, size_t n, uint64_t h,
				      const char *limit)
{
	size_t j = h & (fp->cap - 1);
	uint32_t slot;

	while ((slot = fp->slots[j])) {
		struct fent *e = &fp->ents[slot - 1];

		if (e->hash == h && e->len == n && key_eq(s, limit, fp->arena + e->off, n))
			return e;
		j = (j + 1) & (fp->cap - 1);
	}
	return table_add(fp, s, n, h);
}

/* The entry's frame id in profile number which, interned on first use; 0 on ENOMEM. */
static uint32_t entry_frame(struct folded_parser *fp, struct fent *e, int which)
{
	struct profile_frame fr = {0};
	size_t n = e->len;

	if (e->id[which])
		return e->id[which];
	strip_kind(fp->arena + e->off, &n);
	fr.name = profile__intern(fp->p[which], fp->arena + e->off, n);
	if (!fr.name && n)
		return 0;
	fr.kind = e->kind;
	e->id[which] = profile__add_frame(fp->p[which], &fr);
	return e->id[which];
}

static inline bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Reads the count ending at *end: digits preceded by whitespace. Moves *end before the
 * whitespace. false when there is no such token or it overflows.
 */
static bool take_count(const char *s, const char **end, uint64_t *ret)
{
	const char *e = *end, *d = e;
	uint64_t v = 0;

	while (d > s && d[-1] >= '0' && d[-1] <= '9')
		d--;
	if (d == e || d == s || !is_space(d[-1]) || e - d > 20)
		return false;
	for (const char *q = d; q < e; q++) {
		uint64_t nv = v * 10 + (uint64_t)(*q - '0');

		if (v > UINT64_MAX / 10 || nv < v * 10)
			return false;
		v = nv;
	}
	while (d > s && is_space(d[-1]))
		d--;
	*end = d;
	*ret = v;
	return true;
}

static void junk(struct folded_parser *fp)
{
	fp->st.junk++;
	if (!fp->st.first_junk)
		fp->st.first_junk = fp->st.lines;
}

/* Parses the line s..e (without '\n'; memory readable up to limit). 0 or -ENOMEM. */
/* Length of the common prefix of a and b (n bytes each at most). */
static size_t common_prefix(const char *a, const char *b, size_t n)
{
	size_t i = 0;
	uint64_t x, y;

	for (; i + 8 <= n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return i + (__builtin_ctzll(x ^ y) >> 3);
	}
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

static int parse_line(struct folded_parser *fp, const char *s, const char *e, const char *limit)
{
	int w, nw = fp->p[1] ? 2 : 1;
	uint64_t cnt[2] = {0, 0};
	const char *stack;
	size_t n = 0;

	fp->st.lines++;
	while (e > s && is_space(e[-1]))
		e--;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	if (s == e)
		return 0;
	/* Differential lines are "stack BEFORE AFTER": the last token is AFTER. */
	if (!take_count(s, &e, &cnt[0]) || (nw == 2 && !take_count(s, &e, &cnt[1])) || e == s) {
		junk(fp);
		return 0;
	}
	/*
	 * Frames this line shares, byte for byte, with the line before are that line's frames:
	 * their ids are still in fp->ids. Sorted input shares most of each line.
	 */
	stack = s;
	if (fp->prev) {
		size_t l = common_prefix(s, fp->prev, MIN((size_t)(e - s), fp->prev_len));

		while (n < fp->prev_n && fp->ends[n] < l)
			n++;
		if (n)
			s += fp->ends[n - 1] + 1;
	}
	while (s < e) {
		uint64_t h;
		size_t len = scan_frame(s, e, limit, &h);
		struct fent *ent;

		s += len + 1;
		if (!len)
			continue;
		ent = table_find(fp, s - len - 1, len, h, limit);
		if (!ent)
			return -ENOMEM;
		if (n >= fp->ends_cap &&
		    grow_array((void **)&fp->ends, &fp->ends_cap, n + 1, sizeof(*fp->ends)))
			return -ENOMEM;
		/* Where the frame's ';' (or the end) is, from the start of the stack. */
		fp->ends[n] = s - 1 - stack;
		for (w = 0; w < nw; w++) {
			if (n >= fp->ids_cap[w] &&
			    grow_array((void **)&fp->ids[w], &fp->ids_cap[w], n + 1, sizeof(uint32_t)))
				return -ENOMEM;
			fp->ids[w][n] = ent->id[w] ? ent->id[w] : entry_frame(fp, ent, w);
			if (!fp->ids[w][n])
				return -ENOMEM;
		}
		n++;
	}
	fp->prev = stack;
	fp->prev_len = e - stack;
	fp->prev_n = n;
	if (!n) {
		junk(fp);
		return 0;
	}
	/*
	 * Every sum a renderer makes (a frame's width, the total, merged stacks) is at most the
	 * profile's total: bounded here, none of them can wrap around.
	 */
	for (w = 0; w < nw; w++) {
		uint64_t have = profile__meta(fp->p[w])->samples;

		if (have > PROFILE_MAX_TOTAL || cnt[w] > PROFILE_MAX_TOTAL - have) {
			fp->st.overflow_line = fp->st.lines;
			return -EOVERFLOW;
		}
	}
	fp->st.stacks++;
	fp->st.samples += cnt[0];
	fp->st.samples_before += cnt[1];
	for (w = 0; w < nw; w++) {
		if (!cnt[w])
			continue;
		if (profile__add_sample(fp->p[w], fp->ids[w], n, cnt[w], 0, 0, 0))
			return -ENOMEM;
		profile__meta(fp->p[w])->samples += cnt[w];
	}
	return 0;
}

struct folded_parser *folded_parser__new(struct profile *p, struct profile *before)
{
	struct folded_parser *fp = calloc(1, sizeof(*fp));

	if (!fp)
		return NULL;
	fp->p[0] = p;
	fp->p[1] = before;
	fp->cap = 1024;
	fp->slots = calloc(fp->cap, sizeof(*fp->slots));
	if (!fp->slots) {
		free(fp);
		return NULL;
	}
	return fp;
}

void folded_parser__free(struct folded_parser *fp)
{
	if (!fp)
		return;
	free(fp->ents);
	free(fp->slots);
	free(fp->arena);
	free(fp->ids[0]);
	free(fp->ids[1]);
	free(fp->ends);
	free(fp->carry);
	free(fp);
}

int folded_parser__feed(struct folded_parser *fp, const char *buf, size_t len)
{
	const char *s = buf, *end = buf + len, *nl;

	if (fp->err)
		return fp->err;
	/* The last buffer may be gone. */
	fp->prev = NULL;
	if (fp->carry_len) {
		/* Complete the line begun in the previous chunk. */
		nl = memchr(s, '\n', len);
		if (grow_array((void **)&fp->carry, &fp->carry_cap,
			 fp->carry_len + (nl ? (size_t)(nl - s) : len), 1))
			return fp->err = -ENOMEM;
		memcpy(fp->carry + fp->carry_len, s, nl ? (size_t)(nl - s) : len);
		fp->carry_len += nl ? (size_t)(nl - s) : len;
		if (!nl)
			return 0;
		fp->err = parse_line(fp, fp->carry, fp->carry + fp->carry_len,
				     fp->carry + fp->carry_len);
		fp->carry_len = 0;
		fp->prev = NULL;
		if (fp->err)
			return fp->err;
		s = nl + 1;
	}
	while (s < end && (nl = memchr(s, '\n', end - s))) {
		fp->err = parse_line(fp, s, nl, end);
		if (fp->err)
			return fp->err;
		s = nl + 1;
	}
	if (s < end) {
		if (grow_array((void **)&fp->carry, &fp->carry_cap, end - s, 1))
			return fp->err = -ENOMEM;
		memcpy(fp->carry, s, end - s);
		fp->carry_len = end - s;
	}
	return 0;
}

int folded_parser__finish(struct folded_parser *fp, struct folded_parse_stats *st)
{
	if (!fp->err && fp->carry_len) {
		fp->err = parse_line(fp, fp->carry, fp->carry + fp->carry_len,
				     fp->carry + fp->carry_len);
		fp->carry_len = 0;
	}
	if (st)
		*st = fp->st;
	return fp->err;
}

static int parse_all(struct profile *p, struct profile *before, const char *buf, size_t len,
		     struct folded_parse_stats *st)
{
	struct folded_parser *fp = folded_parser__new(p, before);
	int err;

	if (!fp)
		return -ENOMEM;
	/* An error is kept in fp: finish returns it, with st naming an overflowing line. */
	folded_parser__feed(fp, buf, len);
	err = folded_parser__finish(fp, st);
	folded_parser__free(fp);
	return err;
}

int folded__parse(struct profile *p, const char *buf, size_t len, struct folded_parse_stats *st)
{
	return parse_all(p, NULL, buf, len, st);
}

int folded__parse_diff(struct profile *before, struct profile *after, const char *buf, size_t len,
		       struct folded_parse_stats *st)
{
	return parse_all(after, before, buf, len, st);
}

/*
 * Writer. Every frame (and process name) is rendered once into its folded form, and the rendered
 * strings are interned into a scratch profile, so equal renderings share one id across frames
 * and across the two profiles of a diff. A stack is then a sequence of those ids; sequences are
 * sorted by the bytes they spell and equal neighbours merged.
 */
struct wstack {
	uint32_t off, len; /* sequence in the pool */
	uint64_t cnt[2];   /* [0] p (AFTER), [1] BEFORE */
};

struct writer {
	struct profile *names; /* scratch: rendered strings */
	uint32_t *seq;
	size_t nr_seq, cap_seq;
	struct wstack *stacks;
	size_t nr_stacks, cap_stacks;
	char *tmp;
	size_t tmp_cap;
};

static const char *const kind_suffix[FRAME_KIND_MAX] = {
	[FRAME_USER] = "",
	[FRAME_KERNEL] = "_[k]",
	[FRAME_INLINE] = "_[i]",
	[FRAME_JIT] = "_[j]",
	[FRAME_PYTHON] = "_[p]",
	[FRAME_PHP] = "_[z]",
	[FRAME_V8] = "_[v]",
	[FRAME_RUBY] = "_[r]",
	[FRAME_PERL] = "_[l]",
};

static uint32_t render_name(struct writer *w, const char *s, size_t n, uint32_t kind, int *err)
{
	const char *suf = kind < FRAME_KIND_MAX ? kind_suffix[kind] : "";
	size_t sl = strlen(suf), i;
	uint32_t id;

	if (grow_array((void **)&w->tmp, &w->tmp_cap, n + sl + 1, 1)) {
		*err = -ENOMEM;
		return 0;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		w->tmp[i] = c == ';' ? ':' : (c < 0x20 || c == 0x7f) ? '?' : c;
	}
	memcpy(w->tmp + n, suf, sl);
	if (!n && !sl)
		return 0;
	id = profile__intern(w->names, w->tmp, n + sl);
	if (!id)
		*err = -ENOMEM;
	return id;
}

/* Adds every sample of p as a stack with its count in column col. */
static int add_stacks(struct writer *w, const struct profile *p, int col)
{
	size_t nf = profile__nr_frames(p), i, k;
	uint32_t *fmap = calloc(nf + 1, sizeof(*fmap));
	uint32_t *cmap = calloc(profile__nr_strs(p), sizeof(*cmap));
	int err = 0;

	if (!fmap || !cmap) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 1; i <= nf && !err; i++) {
		const struct profile_frame *f = profile__frame(p, i);

		fmap[i] = render_name(w, profile__str(p, f->name), profile__str_len(p, f->name),
				      f->kind, &err);
	}
	for (i = 0; i < profile__nr_samples(p) && !err; i++) {
		const struct profile_sample *s = profile__sample(p, i);
		const uint32_t *fr = profile__sample_frames(p, s);
		struct wstack *ws;

		if (!s->count)
			continue;
		if (grow_array((void **)&w->seq, &w->cap_seq, w->nr_seq + s->nframes + 1,
			 sizeof(*w->seq)) ||
		    grow_array((void **)&w->stacks, &w->cap_stacks, w->nr_stacks + 1,
			 sizeof(*w->stacks))) {
			err = -ENOMEM;
			break;
		}
		ws = &w->stacks[w->nr_stacks];
		ws->off = w->nr_seq;
		ws->cnt[col] = s->count;
		ws->cnt[!col] = 0;
		if (s->comm) {
			if (!cmap[s->comm])
				cmap[s->comm] =
					render_name(w, profile__str(p, s->comm),
						    profile__str_len(p, s->comm), FRAME_USER, &err);
			if (cmap[s->comm])
				w->seq[w->nr_seq++] = cmap[s->comm];
		}
		for (k = 0; k < s->nframes; k++) {
			uint32_t id = fr[k] <= nf ? fmap[fr[k]] : 0;

			/* A nameless frame would make an empty field; leave it out. */
			if (id)
				w->seq[w->nr_seq++] = id;
		}
		ws->len = w->nr_seq - ws->off;
		if (ws->len)
			w->nr_stacks++;
		else
			w->nr_seq = ws->off;
	}
cleanup:
	free(fmap);
	free(cmap);
	return err;
}

/*
 * Compares the stacks as the strings they spell ("a;b;c"), without building them: equal ids
 * are skipped whole, then bytes are compared across frame boundaries. The end of a stack sorts
 * before any byte, so a stack precedes its extensions.
 */
static int stack_cmp(const void *pa, const void *pb, void *arg)
{
	const struct wstack *a = pa, *b = pb;
	const struct writer *w = arg;
	const uint32_t *sa = w->seq + a->off, *sb = w->seq + b->off;
	uint32_t i = 0, j, la = a->len, lb = b->len;
	const char *pa_s, *pb_s;
	size_t na, nb;

	while (i < la && i < lb && sa[i] == sb[i])
		i++;
	if (i == la || i == lb)
		return la == lb ? 0 : i == la ? -1 : 1;
	j = i;
	pa_s = profile__str(w->names, sa[i]);
	na = profile__str_len(w->names, sa[i]);
	pb_s = profile__str(w->names, sb[j]);
	nb = profile__str_len(w->names, sb[j]);
	for (;;) {
		int ca, cb;

		/* Next byte of each side: the name, then ';' before the next frame, then end. */
		if (na) {
			ca = (unsigned char)*pa_s++;
			na--;
		} else if (++i < la) {
			ca = ';';
			pa_s = profile__str(w->names, sa[i]);
			na = profile__str_len(w->names, sa[i]);
		} else {
			ca = -1;
		}
		if (nb) {
			cb = (unsigned char)*pb_s++;
			nb--;
		} else if (++j < lb) {
			cb = ';';
			pb_s = profile__str(w->names, sb[j]);
			nb = profile__str_len(w->names, sb[j]);
		} else {
			cb = -1;
		}
		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (ca < 0)
			return 0;
	}
}

static int write_stacks(struct writer *w, bool diff, FILE *f)
{
	size_t i, k;

	if (w->nr_stacks > 1)
		qsort_r(w->stacks, w->nr_stacks, sizeof(*w->stacks), stack_cmp, w);
	for (i = 0; i < w->nr_stacks; i = k) {
		uint64_t c0 = 0, c1 = 0;
		const uint32_t *sq = w->seq + w->stacks[i].off;

		for (k = i; k < w->nr_stacks && !stack_cmp(&w->stacks[i], &w->stacks[k], w); k++) {
			c0 += w->stacks[k].cnt[0];
			c1 += w->stacks[k].cnt[1];
		}
		for (uint32_t d = 0; d < w->stacks[i].len; d++) {
			if (d)
				putc_unlocked(';', f);
			fwrite_unlocked(profile__str(w->names, sq[d]), 1,
					profile__str_len(w->names, sq[d]), f);
		}
		if (diff)
			fprintf(f, " %llu %llu\n", (unsigned long long)c1, (unsigned long long)c0);
		else
			fprintf(f, " %llu\n", (unsigned long long)c0);
	}
	if (fflush(f))
		return -errno;
	return ferror(f) ? -EIO : 0;
}

static int write_folded(const struct profile *after, const struct profile *before, FILE *f)
{
	struct writer w = {0};
	int err;

	w.names = profile__new();
	if (!w.names)
		return -ENOMEM;
	err = add_stacks(&w, after, 0);
	if (!err && before)
		err = add_stacks(&w, before, 1);
	if (!err)
		err = write_stacks(&w, before != NULL, f);
	profile__free(w.names);
	free(w.seq);
	free(w.stacks);
	free(w.tmp);
	return err;
}

int folded__write(const struct profile *p, FILE *f)
{
	return write_folded(p, NULL, f);
}

int folded__write_diff(const struct profile *before, const struct profile *after, FILE *f)
{
	return write_folded(after, before, f);
}
