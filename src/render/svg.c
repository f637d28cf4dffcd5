// SPDX-License-Identifier: GPL-2.0-only
/*
 * SVG flame graphs.
 *
 * Every distinct (name, kind) of the input gets a rank in byte order of its name, so a stack
 * becomes a string of ranks. Sorting those strings lays the merged tree out in depth-first
 * order with children sorted by name, and one pass over the sorted stacks opens and closes tree
 * nodes by longest common prefix: a node's x is the running sample count when it opens, its
 * width the count when it closes. No tree is ever built; only the frames wide enough to draw
 * are kept, and the sort skips whatever is too narrow to draw.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/describe.h"
#include "aggregate/profile.h"
#include "render/svg.h"
#include "render/svg_script.h"
#include "base/util.h"

#define DMAX ((1U << 30) - 1) /* deeper stacks are cut here */
#define END UINT32_MAX /* sorts after every rank: a node's own samples come after its children */

struct svg_name {
	uint32_t off, len;   /* sanitized UTF-8 in the pool */
	uint32_t eoff, elen; /* the same, XML-escaped */
	uint32_t nchars;     /* characters in the sanitized name */
	uint32_t kind;
	char color[8]; /* "#rrggbb" */
};

/*
 * A stack: ranks in the sequence pool, its count in AFTER (or the only profile) and BEFORE. A
 * wall-clock graph has no BEFORE: there `before` is the part of the count spent off-CPU (the
 * whole count of a stack under a state frame), summed into its nodes like BEFORE's counts.
 */
struct sstack {
	uint32_t off, len;
	uint64_t cnt, before;
};

/* A frame to draw. */
struct snode {
	uint32_t depth, rank;
	uint64_t x, w, before;	/* before: off-CPU part of w in a wall-clock graph */
};

struct svg {
	const struct svg_opts *o;
	bool diff;
	bool wall;		/* a wall-clock profile: frames spent all off-CPU have their colour */
	struct profile *keys;	/* scratch: (name, kind) pairs as frames of this profile */
	uint32_t *key_rank;	/* key frame id -> rank */
	struct svg_name *names; /* by rank; the last one is "all" */
	uint32_t nr_names;
	char *pool;
	size_t pool_len, pool_cap;
	/*
	 * Stacks are strings of symbols in sym, and rank[symbol] is the rank. The symbols are the
	 * profile's own frame ids when that is enough (no process names, not reversed, one
	 * profile): no copy of the biggest array there is. Otherwise they are ranks in own, and
	 * rank is the identity.
	 */
	const uint32_t *sym;
	const uint32_t *rank;
	uint32_t *own, *ident;
	size_t nr_own, cap_own;
	struct sstack *stacks;
	size_t nr_stacks, cap_stacks;
	struct snode *nodes;
	size_t nr_nodes, cap_nodes;
	uint64_t total, total_before;
	uint32_t max_depth;
	uint32_t cn_off, cn_len; /* count_name, escaped */
	bool time_us;		 /* counts are microseconds (off-CPU, wall): tooltips tell the time */
	double max_delta;	 /* largest |after - normalised before| of a drawn frame */
	double norm;		 /* BEFORE counts are multiplied by this */
	double min_samples;	 /* frames narrower than this are not drawn */
};

void svg_opts__init(struct svg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->count_name = "samples";
	o->width = 1200;
	o->frame_height = 16;
	o->font_size = 12;
	o->min_width = 0.1;
	o->palette = SVG_PAL_HOT;
	o->normalize = true;
}

static const char *const palette_names[SVG_PAL_MAX] = {
	[SVG_PAL_HOT] = "hot",	     [SVG_PAL_MEM] = "mem",	  [SVG_PAL_IO] = "io",
	[SVG_PAL_RED] = "red",	     [SVG_PAL_GREEN] = "green",	  [SVG_PAL_BLUE] = "blue",
	[SVG_PAL_AQUA] = "aqua",     [SVG_PAL_YELLOW] = "yellow", [SVG_PAL_PURPLE] = "purple",
	[SVG_PAL_ORANGE] = "orange", [SVG_PAL_LANG] = "lang",
};

const char *svg_palette__name(int p)
{
	return p >= 0 && p < SVG_PAL_MAX ? palette_names[p] : "?";
}

int svg_palette__from_name(const char *name)
{
	for (int i = 0; i < SVG_PAL_MAX; i++)
		if (!strcmp(name, palette_names[i]))
			return i;
	return -EINVAL;
}

/*
 * Text. Names may hold any bytes; what reaches the SVG is valid UTF-8 of XML characters only:
 * an invalid byte becomes U+FFFD, a control character (C0, DEL, C1) '?'. Newline and tab
 * survive only where keep_ws asks for them (notes). Appends the sanitized s to the pool; the
 * number of characters in *nchars.
 */
static int pool_sanitize(struct svg *g, const char *s, size_t n, bool keep_ws, uint32_t *nchars)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp, chars = 0;

	/* At most 3 output bytes (U+FFFD) per input byte. */
	if (grow_array((void **)&g->pool, &g->pool_cap, g->pool_len + 3 * n + 1, 1))
		return -ENOMEM;
	while (i < n) {
		size_t l = utf8_decode(u + i, n - i, &cp);
		char *d = g->pool + g->pool_len;

		chars++;
		if (!l) {
			memcpy(d, "\xef\xbf\xbd", 3);
			g->pool_len += 3;
			i++;
		} else if ((cp < 0x20 && !(keep_ws && (cp == '\n' || cp == '\t'))) ||
			   (cp >= 0x7f && cp <= 0x9f)) {
			*d = '?';
			g->pool_len++;
			i += l;
		} else {
			memcpy(d, u + i, l);
			g->pool_len += l;
			i += l;
		}
	}
	if (nchars)
		*nchars = chars;
	return 0;
}

/* The entity for a character XML text or attribute values cannot hold as is, or NULL. */
static const char *xml_entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

/* Appends pool[off, off + n) XML-escaped, for text and attribute values alike. */
static int pool_escape(struct svg *g, size_t off, size_t n)
{
	const char *s;

	/* Grown first, so s stays valid while the pool is appended to. */
	if (grow_array((void **)&g->pool, &g->pool_cap, g->pool_len + 6 * n + 1, 1))
		return -ENOMEM;
	s = g->pool + off;
	for (size_t i = 0; i < n; i++) {
		const char *r = xml_entity(s[i]);

		if (!r) {
			g->pool[g->pool_len++] = s[i];
			continue;
		}
		memcpy(g->pool + g->pool_len, r, strlen(r));
		g->pool_len += strlen(r);
	}
	return 0;
}

/* Sanitizes and escapes s onto the pool; offset and length of the escaped text. */
static int pool_text(struct svg *g, const char *s, size_t n, bool keep_ws, uint32_t *off,
		     uint32_t *len)
{
	size_t start = g->pool_len, mid;
	int err = pool_sanitize(g, s, n, keep_ws, NULL);

	if (err)
		return err;
	mid = g->pool_len;
	err = pool_escape(g, start, mid - start);
	*off = mid;
	*len = g->pool_len - mid;
	return err;
}

/*
 * Colours. A name's colour comes from its bytes only, so it is the same in every file. Kernel,
 * inline and JIT frames have hues of their own.
 */
struct rgb_range {
	unsigned char lo[3], span[3];
};

static const struct rgb_range palette_ranges[SVG_PAL_MAX] = {
	[SVG_PAL_HOT] = {{205, 0, 0}, {50, 230, 55}},
	[SVG_PAL_MEM] = {{0, 190, 90}, {0, 50, 120}},
	[SVG_PAL_IO] = {{80, 80, 190}, {60, 60, 55}},
	[SVG_PAL_RED] = {{200, 50, 50}, {55, 80, 80}},
	[SVG_PAL_GREEN] = {{50, 200, 50}, {60, 55, 60}},
	[SVG_PAL_BLUE] = {{80, 80, 205}, {60, 60, 50}},
	[SVG_PAL_AQUA] = {{50, 165, 165}, {60, 55, 55}},
	[SVG_PAL_YELLOW] = {{175, 175, 50}, {55, 55, 20}},
	[SVG_PAL_PURPLE] = {{190, 80, 190}, {65, 60, 65}},
	[SVG_PAL_ORANGE] = {{190, 90, 0}, {65, 65, 0}},
	[SVG_PAL_LANG] = {{205, 0, 0}, {50, 230, 55}},
};

/*
 * Frames of a wall-clock graph whose time is all off-CPU: slate greys, one shade, apart from
 * every palette and kind hue (the kernel's blue included: on-CPU kernel time stays blue).
 */
static const struct rgb_range offcpu_range = {{105, 115, 135}, {75, 75, 75}};

/* Hues for frame kinds, and for the languages of the lang palette. */
enum hue {
	HUE_KERNEL,
	HUE_INLINE,
	HUE_JIT,
	HUE_ALT_KERNEL, /* when the palette is blue-ish already */
	HUE_ALT_INLINE,
	HUE_ALT_JIT, /* when the palette is green-ish already */
	HUE_PYFRAME, /* Python functions (interpreter frames) */
	HUE_PHPFRAME, /* PHP functions (Zend VM frames) */
	HUE_RBFRAME, /* Ruby methods and blocks (YARV frames) */
	HUE_PLFRAME, /* Perl subs (context stack frames) */
	HUE_C,
	HUE_CXX,
	HUE_RUST,
	HUE_JAVA,
	HUE_GO,
	HUE_PYTHON,
	HUE_JS,
	HUE_OTHER,
	HUE_MAX,
};

static const struct rgb_range hue_ranges[HUE_MAX] = {
	[HUE_KERNEL] = {{100, 140, 220}, {50, 50, 35}},
	[HUE_INLINE] = {{50, 170, 170}, {60, 55, 55}},
	[HUE_JIT] = {{50, 190, 50}, {60, 60, 60}},
	[HUE_ALT_KERNEL] = {{190, 90, 0}, {65, 65, 0}},
	[HUE_ALT_INLINE] = {{190, 80, 190}, {65, 60, 65}},
	[HUE_ALT_JIT] = {{175, 175, 50}, {55, 55, 20}},
	[HUE_PYFRAME] = {{215, 185, 40}, {40, 55, 40}},
	[HUE_PHPFRAME] = {{205, 90, 150}, {45, 50, 50}},
	[HUE_RBFRAME] = {{200, 30, 40}, {50, 40, 40}},
	[HUE_PLFRAME] = {{30, 120, 140}, {40, 45, 50}},
	[HUE_C] = {{205, 0, 0}, {50, 120, 55}},
	[HUE_CXX] = {{190, 170, 40}, {60, 60, 30}},
	[HUE_RUST] = {{200, 110, 30}, {55, 50, 30}},
	[HUE_JAVA] = {{60, 180, 60}, {60, 60, 50}},
	[HUE_GO] = {{40, 170, 190}, {50, 50, 60}},
	[HUE_PYTHON] = {{90, 110, 210}, {50, 50, 45}},
	[HUE_JS] = {{180, 90, 200}, {60, 50, 55}},
	[HUE_OTHER] = {{160, 160, 160}, {40, 40, 40}},
};

static const char *const hue_labels[HUE_MAX] = {
	[HUE_KERNEL] = "kernel",
	[HUE_INLINE] = "inlined",
	[HUE_JIT] = "JIT",
	[HUE_ALT_KERNEL] = "kernel",
	[HUE_ALT_INLINE] = "inlined",
	[HUE_ALT_JIT] = "JIT",
	[HUE_PYFRAME] = "Python",
	[HUE_PHPFRAME] = "PHP",
	[HUE_RBFRAME] = "Ruby",
	[HUE_PLFRAME] = "Perl",
	[HUE_C] = "C",
	[HUE_CXX] = "C++",
	[HUE_RUST] = "Rust",
	[HUE_JAVA] = "Java",
	[HUE_GO] = "Go",
	[HUE_PYTHON] = "Python",
	[HUE_JS] = "JavaScript",
	[HUE_OTHER] = "unknown/library",
};

static bool contains(const char *s, size_t n, const char *needle)
{
	return memmem(s, n, needle, strlen(needle)) != NULL;
}

static bool ends_with(const char *s, size_t n, const char *suf)
{
	size_t l = strlen(suf);

	return n >= l && !memcmp(s + n - l, suf, l);
}

/* A guess at a user frame's language from how its name looks. */
static enum hue guess_lang(const char *s, size_t n)
{
	if (!n || s[0] == '[' || (n > 2 && s[0] == '0' && s[1] == 'x'))
		return HUE_OTHER;
	if (contains(s, n, ".py") || contains(s, n, "<module>") || contains(s, n, "PyEval_") ||
	    contains(s, n, "_PyEval"))
		return HUE_PYTHON;
	if (contains(s, n, ".js:") || ends_with(s, n, ".js") || contains(s, n, ".mjs") ||
	    contains(s, n, "(anonymous"))
		return HUE_JS;
	if (contains(s, n, "core::") || contains(s, n, "alloc::") || contains(s, n, " as ") ||
	    contains(s, n, "{{closure}}") || contains(s, n, "tokio::") || contains(s, n, "_$LT$"))
		return HUE_RUST;
	if (contains(s, n, "::"))
		return HUE_CXX;
	if (!memchr(s, ' ', n) && memchr(s, '/', n) && memchr(s, '.', n))
		return HUE_JAVA;
	if (!strncmp(s, "runtime.", MIN(n, 8)) || contains(s, n, ".(*") ||
	    !strncmp(s, "main.", MIN(n, 5)))
		return HUE_GO;
	return HUE_C;
}

/* Three fractions in [0, 1) from a name. */
static void name_fractions(const char *s, size_t n, bool prefix, double v[3])
{
	if (prefix) {
		/* First characters weigh most, so names sharing a prefix get related colours. */
		for (int k = 0; k < 3; k++) {
			double acc = 0, w = 1, max = 0;

			for (size_t i = 0; i < n && i < 10; i++) {
				unsigned char c = s[k == 2 ? n - 1 - i : i];

				acc += (double)((c * (k + 7)) % 23) / 23.0 * w;
				max += w;
				w *= 0.6;
			}
			v[k] = max > 0 ? acc / max : 0;
		}
	} else {
		uint64_t h = hash_bytes(s, n, 0x636f6c6f72);

		v[0] = (double)(h & 0xffff) / 65536.0;
		v[1] = (double)(h >> 16 & 0xffff) / 65536.0;
		v[2] = (double)(h >> 32 & 0xffff) / 65536.0;
	}
}

/* "#rrggbb" of channels 0..255. */
static void rgb_hex(char out[8], const int c[3])
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '#';
	for (int k = 0; k < 3; k++) {
		out[1 + 2 * k] = hex[c[k] >> 4 & 15];
		out[2 + 2 * k] = hex[c[k] & 15];
	}
	out[7] = '\0';
}

static void format_color(char out[8], const struct rgb_range *r, const double v[3], bool one_shade)
{
	int c[3];

	for (int k = 0; k < 3; k++) {
		/* Single-hue palettes move all channels together, so they stay one hue. */
		double f = one_shade ? v[0] : v[k];

		c[k] = MIN(255, r->lo[k] + (int)(r->span[k] * f));
	}
	rgb_hex(out, c);
}

static enum hue kind_hue(enum svg_palette pal, uint32_t kind)
{
	bool blueish = pal == SVG_PAL_BLUE || pal == SVG_PAL_IO || pal == SVG_PAL_AQUA;
	bool greenish = pal == SVG_PAL_GREEN || pal == SVG_PAL_MEM;

	switch (kind) {
	case FRAME_KERNEL:
		return blueish ? HUE_ALT_KERNEL : HUE_KERNEL;
	case FRAME_INLINE:
		return blueish ? HUE_ALT_INLINE : HUE_INLINE;
	case FRAME_JIT:
		return greenish ? HUE_ALT_JIT : HUE_JIT;
	case FRAME_PYTHON:
		return HUE_PYFRAME;
	case FRAME_PHP:
		return HUE_PHPFRAME;
	case FRAME_RUBY:
		return HUE_RBFRAME;
	case FRAME_PERL:
		return HUE_PLFRAME;
	case FRAME_V8:
		return HUE_JS;	/* the colour of JavaScript names in a perf map */
	default:
		return HUE_MAX;
	}
}

/* The hue of a name (HUE_MAX: the palette's own). */
static enum hue name_hue(const struct svg_opts *o, const char *s, size_t n, uint32_t kind)
{
	enum hue h = kind_hue(o->palette, kind);

	if (h == HUE_MAX && o->palette == SVG_PAL_LANG)
		h = guess_lang(s, n);
	return h;
}

static void name_color(const struct svg_opts *o, const char *s, size_t n, uint32_t kind,
		       char out[8])
{
	enum hue h = name_hue(o, s, n, kind);
	double v[3];

	name_fractions(s, n, o->hash, v);
	if (h != HUE_MAX)
		format_color(out, &hue_ranges[h], v, false);
	else
		format_color(out, &palette_ranges[o->palette], v,
			     o->palette != SVG_PAL_HOT && o->palette != SVG_PAL_MEM &&
				     o->palette != SVG_PAL_LANG);
}

/*
 * Ranks. Each (name, kind) of every input profile becomes a frame of the scratch profile
 * "keys", which interns them; ranks order those keys by name bytes, then kind.
 */
static int key_cmp(const void *a, const void *b, void *arg)
{
	const struct profile *k = arg;
	const struct profile_frame *fa = profile__frame(k, *(const uint32_t *)a);
	const struct profile_frame *fb = profile__frame(k, *(const uint32_t *)b);
	size_t la = profile__str_len(k, fa->name), lb = profile__str_len(k, fb->name);
	int c = memcmp(profile__str(k, fa->name), profile__str(k, fb->name), MIN(la, lb));

	if (c)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return fa->kind < fb->kind ? -1 : fa->kind > fb->kind;
}

static uint32_t key_of(struct svg *g, const struct profile *p, uint32_t name, uint32_t kind)
{
	struct profile_frame f = {0};

	f.name = profile__intern(g->keys, profile__str(p, name), profile__str_len(p, name));
	if (!f.name && profile__str_len(p, name))
		return 0;
	f.kind = kind < FRAME_KIND_MAX ? kind : FRAME_USER;
	return profile__add_frame(g->keys, &f);
}

/* Key ids of p's frames and process names: fmap by frame id, cmap by string id. */
static int map_keys(struct svg *g, const struct profile *p, uint32_t **ret_fmap,
		    uint32_t **ret_cmap)
{
	size_t nf = profile__nr_frames(p), i;
	uint32_t *fmap = calloc(nf + 1, sizeof(*fmap));
	uint32_t *cmap = calloc(profile__nr_strs(p), sizeof(*cmap));

	if (!fmap || !cmap)
		goto fail;
	for (i = 1; i <= nf; i++) {
		const struct profile_frame *f = profile__frame(p, i);

		fmap[i] = key_of(g, p, f->name, f->kind);
		if (!fmap[i])
			goto fail;
	}
	for (i = 0; i < profile__nr_samples(p); i++) {
		uint32_t c = profile__sample(p, i)->comm;

		if (c && c < profile__nr_strs(p) && !cmap[c]) {
			cmap[c] = key_of(g, p, c, FRAME_USER);
			if (!cmap[c])
				goto fail;
		}
	}
	*ret_fmap = fmap;
	*ret_cmap = cmap;
	return 0;
fail:
	free(fmap);
	free(cmap);
	return -ENOMEM;
}

/* Ranks for all keys, and the sanitized, escaped, coloured name of each. */
static int rank_keys(struct svg *g)
{
	size_t nk = profile__nr_frames(g->keys), i;
	uint32_t *order = malloc((nk + 1) * sizeof(*order));
	int err = -ENOMEM;

	g->key_rank = calloc(nk + 1, sizeof(*g->key_rank));
	g->names = calloc(nk + 1, sizeof(*g->names));
	if (!order || !g->key_rank || !g->names)
		goto cleanup;
	for (i = 0; i < nk; i++)
		order[i] = i + 1;
	qsort_r(order, nk, sizeof(*order), key_cmp, g->keys);
	for (i = 0; i <= nk; i++) {
		const struct profile_frame *f = i < nk ? profile__frame(g->keys, order[i]) : NULL;
		const char *s = f ? profile__str(g->keys, f->name) : "all";
		size_t n = f ? profile__str_len(g->keys, f->name) : 3;
		struct svg_name *nm = &g->names[i];
		size_t start;

		if (f)
			g->key_rank[order[i]] = i;
		nm->kind = f ? f->kind : FRAME_USER;
		start = g->pool_len;
		err = pool_sanitize(g, s, n, false, &nm->nchars);
		if (err)
			goto cleanup;
		nm->off = start;
		nm->len = g->pool_len - start;
		nm->eoff = g->pool_len;
		err = pool_escape(g, nm->off, nm->len);
		if (err)
			goto cleanup;
		nm->elen = g->pool_len - nm->eoff;
		name_color(g->o, s, n, nm->kind, nm->color);
	}
	g->nr_names = nk + 1;
	err = 0;
cleanup:
	free(order);
	return err;
}

/* cnt: AFTER's count (or the only profile's); aux: BEFORE's count, or the off-CPU part. */
static int add_stack(struct svg *g, uint32_t off, uint32_t len, uint64_t cnt, uint64_t aux)
{
	struct sstack *st;

	if (grow_array((void **)&g->stacks, &g->cap_stacks, g->nr_stacks + 1, sizeof(*g->stacks)))
		return -ENOMEM;
	st = &g->stacks[g->nr_stacks++];
	st->off = off;
	st->len = len;
	st->cnt = cnt;
	st->before = aux;
	return 0;
}

/* The counts of sample s for add_stack: BEFORE's, or AFTER's and, in wall mode, its off-CPU part. */
static void sample_counts(const struct svg *g, const struct profile *p,
			  const struct profile_sample *s, bool before, uint64_t *cnt, uint64_t *aux)
{
	const uint32_t *fr = profile__sample_frames(p, s);
	const struct profile_frame *leaf;

	*cnt = before ? 0 : s->count;
	*aux = before ? s->count : 0;
	if (!g->wall || !s->nframes || !fr[s->nframes - 1] ||
	    fr[s->nframes - 1] > profile__nr_frames(p))
		return;
	/* Off-CPU time is the stacks under a state frame, their leaf. */
	leaf = profile__frame(p, fr[s->nframes - 1]);
	if (leaf->kind == FRAME_USER && leaf->name &&
	    profile__is_offcpu_state(profile__str(p, leaf->name), profile__str_len(p, leaf->name)))
		*aux = s->count;
}

/* Whether p's frame-id pool can serve as the symbols: see struct svg. */
static bool direct_ok(const struct svg *g, const struct profile *p)
{
	size_t nf = profile__nr_frames(p);

	if (g->diff || g->o->reverse)
		return false;
	for (size_t i = 0; i < profile__nr_samples(p); i++) {
		const struct profile_sample *s = profile__sample(p, i);
		const uint32_t *fr = profile__sample_frames(p, s);

		if (s->comm || s->nframes > DMAX)
			return false;
		for (uint32_t j = 0; j < s->nframes; j++)
			if (!fr[j] || fr[j] > nf)
				return false;
	}
	return true;
}

/*
 * Takes p's samples as stacks; counts go to column before (diff) or cnt. The key maps become
 * rank maps on the way, one lookup per frame instead of two.
 */
static int add_stacks(struct svg *g, const struct profile *p, uint32_t *fmap, uint32_t *cmap,
		      bool before)
{
	size_t nf = profile__nr_frames(p), ns = profile__nr_strs(p), n = profile__nr_samples(p);
	bool rev = g->o->reverse;

	for (size_t i = 0; i <= nf; i++)
		fmap[i] = g->key_rank[fmap[i]];
	for (size_t i = 0; i < ns; i++)
		if (cmap[i])
			cmap[i] = g->key_rank[cmap[i]];
	if (!g->sym && direct_ok(g, p)) {
		/* The pool starts where the first sample's frames are, less its index. */
		if (n)
			g->sym = profile__sample_frames(p, profile__sample(p, 0)) -
				 profile__sample(p, 0)->first;
		g->rank = fmap;
		for (size_t i = 0; i < n; i++) {
			const struct profile_sample *s = profile__sample(p, i);
			uint64_t cnt, aux;

			sample_counts(g, p, s, before, &cnt, &aux);
			if (s->count && s->nframes && add_stack(g, s->first, s->nframes, cnt, aux))
				return -ENOMEM;
		}
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct profile_sample *s = profile__sample(p, i);
		const uint32_t *fr = profile__sample_frames(p, s);
		uint32_t len = s->nframes + (s->comm && s->comm < ns), k, *q;
		uint64_t cnt, aux;

		if (!s->count || !len)
			continue;
		sample_counts(g, p, s, before, &cnt, &aux);
		if (len > DMAX) {
			/* Deeper than anything real: keep the root side. */
			len = DMAX;
		}
		if (g->nr_own + len > UINT32_MAX)
			return -E2BIG;
		if (grow_array((void **)&g->own, &g->cap_own, g->nr_own + len, sizeof(*g->own)))
			return -ENOMEM;
		q = g->own + g->nr_own;
		k = 0;
		if (s->comm && s->comm < ns)
			q[rev ? len - 1 - k++ : k++] = cmap[s->comm];
		for (uint32_t j = 0; k < len; j++, k++)
			q[rev ? len - 1 - k : k] = fmap[fr[j] <= nf ? fr[j] : 0];
		if (add_stack(g, g->nr_own, len, cnt, aux))
			return -ENOMEM;
		g->nr_own += len;
	}
	return 0;
}

/* Symbols for stacks made by add_stacks(): ranks, unless the profile's own ids serve. */
static int finish_stacks(struct svg *g)
{
	if (g->sym)
		return 0;
	g->ident = malloc(g->nr_names * sizeof(*g->ident));
	if (!g->ident)
		return -ENOMEM;
	for (uint32_t i = 0; i < g->nr_names; i++)
		g->ident[i] = i;
	g->sym = g->own;
	g->rank = g->ident;
	return 0;
}

/*
 * Sorting the stacks by their rank strings, with the common prefix of neighbours (lcp[i], for
 * stacks i - 1 and i) as a by-product: it is exactly where the walk below closes and opens
 * nodes.
 *
 * A group of stacks equal up to depth d is sorted against a pivot stack (its heaviest): each
 * stack is compared with the pivot once, a sequential scan, giving the depth where it branches
 * off and its rank there. Ordering by (below or above the pivot, branch depth, rank) puts every
 * stack in place relative to the pivot's path at once, and stacks that branch off together
 * form the next groups. Real profiles are long shared prefixes, so this touches each stack's
 * memory a few times instead of once per depth. Groups too narrow to draw are not sorted at
 * all: their stacks are cut at the group's depth, which changes nothing visible.
 */

static inline uint32_t skey(const struct svg *g, const struct sstack *s, uint32_t d)
{
	return d < s->len ? g->rank[g->sym[s->off + d]] : END;
}

/* Common prefix of a and b from d on, and their order. */
static int stack_cmp_from(const struct svg *g, const struct sstack *a, const struct sstack *b,
			  uint32_t d, uint32_t *lcp)
{
	for (;; d++) {
		uint32_t ka = skey(g, a, d), kb = skey(g, b, d);

		if (ka != kb || ka == END) {
			*lcp = d;
			return ka == kb ? 0 : ka < kb ? -1 : 1;
		}
	}
}

static void insertion_sort(const struct svg *g, struct sstack *a, uint32_t *lcp, size_t n,
			   uint32_t d)
{
	uint32_t l;

	for (size_t x = 1; x < n; x++)
		for (size_t y = x; y && stack_cmp_from(g, &a[y - 1], &a[y], d, &l) > 0; y--) {
			struct sstack t = a[y - 1];

			a[y - 1] = a[y];
			a[y] = t;
		}
	for (size_t x = 1; x < n; x++) {
		stack_cmp_from(g, &a[x - 1], &a[x], d, &l);
		lcp[x] = l;
	}
}

/* Sorts (k, ix) pairs by k: LSD radix a byte at a time, skipping bytes all keys share. */
static void sort_pairs(uint64_t *k, uint32_t *ix, uint64_t *kt, uint32_t *it, size_t n,
		       uint64_t differ)
{
	size_t cnt[256];

	if (n < 48) {
		for (size_t x = 1; x < n; x++) {
			uint64_t v = k[x];
			uint32_t w = ix[x];
			size_t y = x;

			for (; y && k[y - 1] > v; y--) {
				k[y] = k[y - 1];
				ix[y] = ix[y - 1];
			}
			k[y] = v;
			ix[y] = w;
		}
		return;
	}
	for (int shift = 0; shift < 64; shift += 8) {
		size_t sum = 0;

		if (!(differ >> shift & 0xff))
			continue;
		memset(cnt, 0, sizeof(cnt));
		for (size_t i = 0; i < n; i++)
			cnt[k[i] >> shift & 0xff]++;
		for (int b = 0; b < 256; b++) {
			size_t c = cnt[b];

			cnt[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			size_t to = cnt[k[i] >> shift & 0xff]++;

			kt[to] = k[i];
			it[to] = ix[i];
		}
		memcpy(k, kt, n * sizeof(*k));
		memcpy(ix, it, n * sizeof(*ix));
	}
}

struct sort_range {
	size_t start, n;
	uint32_t d;
};

/* Branch class of a stack against the pivot: sorts before it, equal, after it. */
#define CLS_BELOW 0ULL
#define CLS_EQUAL 1ULL
#define CLS_ABOVE 2ULL

/*
 * The sort key of a stack in a group: class, then the branch depth coded so that it sorts the
 * right way and stays small (few radix passes): below the pivot, shallower branches first
 * (l - d); above it, deeper first (plen - l); then the rank at the branch.
 */
static inline uint64_t branch_key(uint64_t cls, uint32_t code, uint32_t rank)
{
	return cls << 62 | (uint64_t)code << 32 | rank;
}

static inline uint32_t branch_depth(uint64_t k, uint32_t d, uint32_t plen)
{
	switch (k >> 62) {
	case CLS_BELOW:
		return d + (k >> 32 & DMAX);
	case CLS_ABOVE:
		return plen - (k >> 32 & DMAX);
	default:
		return plen;
	}
}

static int sort_stacks(struct svg *g, uint32_t *lcp)
{
	size_t n = g->nr_stacks, nr_work = 0, cap_work = 0;
	uint64_t *keys = malloc((n + 1) * sizeof(*keys)), *ktmp = malloc((n + 1) * sizeof(*ktmp));
	uint32_t *ix = malloc((n + 1) * sizeof(*ix)), *itmp = malloc((n + 1) * sizeof(*itmp));
	struct sstack *stmp = malloc((n + 1) * sizeof(*stmp));
	struct sort_range *work = NULL;
	const uint32_t *sym = g->sym, *rank = g->rank;
	int err = -ENOMEM;

	if (!keys || !ktmp || !ix || !itmp || !stmp)
		goto cleanup;
	lcp[0] = 0;
	if (n > 1) {
		if (grow_array((void **)&work, &cap_work, 1, sizeof(*work)))
			goto cleanup;
		work[nr_work++] = (struct sort_range){0, n, 0};
	}
	while (nr_work) {
		struct sort_range r = work[--nr_work];
		struct sstack *a = g->stacks + r.start;
		uint64_t *k = keys + r.start, differ = 0;
		const uint32_t *ps;
		uint32_t plen;
		size_t i, j, p = 0;

		if (r.n < 24) {
			insertion_sort(g, a, lcp + r.start, r.n, r.d);
			continue;
		}
		for (i = 1; i < r.n; i++)
			if (a[i].cnt > a[p].cnt)
				p = i;
		ps = sym + a[p].off;
		plen = a[p].len;
		for (i = 0; i < r.n; i++) {
			const uint32_t *q = sym + a[i].off;
			uint32_t l = r.d, ql = a[i].len, kq, kp;

			/* Random reads into sym: start them early so they overlap. */
			if (i + 8 < r.n)
				__builtin_prefetch(&sym[a[i + 8].off + r.d]);
			while (l < plen && l < ql && (q[l] == ps[l] || rank[q[l]] == rank[ps[l]]))
				l++;
			kq = l < ql ? rank[q[l]] : END;
			kp = l < plen ? rank[ps[l]] : END;
			if (kq == kp)
				k[i] = branch_key(CLS_EQUAL, 0, 0);
			else if (kq < kp)
				k[i] = branch_key(CLS_BELOW, l - r.d, kq);
			else
				k[i] = branch_key(CLS_ABOVE, plen - l, kq);
			ix[r.start + i] = i;
			differ |= k[i] ^ k[0];
		}
		sort_pairs(k, ix + r.start, ktmp + r.start, itmp + r.start, r.n, differ);
		for (i = 0; i < r.n; i++)
			stmp[r.start + i] = a[ix[r.start + i]];
		memcpy(a, stmp + r.start, r.n * sizeof(*a));
		for (i = 0; i < r.n; i = j) {
			uint32_t l = branch_depth(k[i], r.d, plen), kk = (uint32_t)k[i];
			bool equal = k[i] >> 62 == CLS_EQUAL || kk == END;
			uint64_t sum = a[i].cnt;

			/* Stacks that branch off together share l + 1 ranks; equal ones all. */
			for (j = i + 1; j < r.n && k[j] == k[i]; j++) {
				lcp[r.start + j] = equal ? l : l + 1;
				sum += a[j].cnt;
			}
			if (i)
				lcp[r.start + i] = MIN(l, branch_depth(k[i - 1], r.d, plen));
			if (equal)
				continue;
			if ((double)sum < g->min_samples) {
				for (size_t x = i; x < j; x++)
					a[x].len = l + 1;
				continue;
			}
			if (j - i > 1) {
				if (grow_array((void **)&work, &cap_work, nr_work + 1, sizeof(*work)))
					goto cleanup;
				work[nr_work++] = (struct sort_range){r.start + i, j - i, l + 1};
			}
		}
	}
	err = 0;
cleanup:
	free(keys);
	free(ktmp);
	free(ix);
	free(itmp);
	free(stmp);
	free(work);
	return err;
}

/* In a flame chart stacks keep their order; only neighbours merge. */
static int flamechart_lcp(struct svg *g, uint32_t *lcp)
{
	for (size_t i = 0; i < g->nr_stacks; i++) {
		const struct sstack *a = i ? &g->stacks[i - 1] : NULL, *b = &g->stacks[i];
		uint32_t l = 0;

		if (a)
			while (l < a->len && l < b->len && skey(g, a, l) == skey(g, b, l))
				l++;
		lcp[i] = l;
	}
	return 0;
}

/* An open node of the walk. */
struct onode {
	uint32_t rank;
	uint64_t x, before;
};

static int keep_node(struct svg *g, uint32_t depth, uint32_t rank, uint64_t x, uint64_t w,
		     uint64_t before, double min_samples)
{
	struct snode *nd;

	if (!w || (double)w < min_samples)
		return 0;
	if (grow_array((void **)&g->nodes, &g->cap_nodes, g->nr_nodes + 1, sizeof(*g->nodes)))
		return -ENOMEM;
	nd = &g->nodes[g->nr_nodes++];
	nd->depth = depth;
	nd->rank = rank;
	nd->x = x;
	nd->w = w;
	nd->before = before;
	if (depth > g->max_depth)
		g->max_depth = depth;
	if (g->diff) {
		double delta = fabs((double)w - (double)before * g->norm);

		if (delta > g->max_delta)
			g->max_delta = delta;
	}
	return 0;
}

/*
 * Walks the sorted stacks, opening a node where a stack leaves the previous one's prefix and
 * closing (keeping, if wide enough) the nodes it leaves behind.
 */
static int build_nodes(struct svg *g, const uint32_t *lcp)
{
	double min_samples = g->min_samples;
	struct onode *open = NULL;
	size_t cap_open = 0, nr_open = 0;
	uint64_t x = 0, xb = 0;
	int err = 0;

	for (size_t i = 0; i < g->nr_stacks && !err; i++) {
		const struct sstack *s = &g->stacks[i];
		const uint32_t *q = g->sym + s->off;
		size_t common = MIN(i ? lcp[i] : 0, MIN(nr_open, s->len));

		while (nr_open > common && !err) {
			struct onode *o = &open[--nr_open];

			err = keep_node(g, nr_open + 1, o->rank, o->x, x - o->x, xb - o->before,
					min_samples);
		}
		if (grow_array((void **)&open, &cap_open, s->len, sizeof(*open))) {
			err = -ENOMEM;
			break;
		}
		for (; nr_open < s->len; nr_open++)
			open[nr_open] = (struct onode){g->rank[q[nr_open]], x, xb};
		x += s->cnt;
		xb += s->before;
	}
	while (nr_open && !err) {
		struct onode *o = &open[--nr_open];

		err = keep_node(g, nr_open + 1, o->rank, o->x, x - o->x, xb - o->before,
				min_samples);
	}
	if (!err)
		err = keep_node(g, 0, g->nr_names - 1, 0, x, xb, 0);
	free(open);
	return err;
}

/* Output through a buffer of our own: printf per frame would dominate the run time. */
struct obuf {
	FILE *f;
	char *b;
	size_t len, cap;
	int err;
};

static void ob_write(struct obuf *o, const char *s, size_t n)
{
	errno = 0;
	if (n && !o->err && fwrite(s, 1, n, o->f) != n)
		o->err = errno ? -errno : -EIO;
}

static void ob_flush(struct obuf *o)
{
	ob_write(o, o->b, o->len);
	o->len = 0;
}

static inline void ob_mem(struct obuf *o, const char *s, size_t n)
{
	if (o->len + n > o->cap) {
		ob_flush(o);
		if (n > o->cap) {
			ob_write(o, s, n);
			return;
		}
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
}

static inline void ob_str(struct obuf *o, const char *s)
{
	ob_mem(o, s, strlen(s));
}

static void ob_u64(struct obuf *o, uint64_t v)
{
	char t[24];
	int i = sizeof(t);

	do {
		t[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	ob_mem(o, t + i, sizeof(t) - i);
}

/* v with thousands separators: 1,234,567. */
static void ob_count(struct obuf *o, uint64_t v)
{
	char t[32];

	describe__count(t, sizeof(t), v);
	ob_str(o, t);
}

/* v rounded to one (or two) decimals, without printf. */
static void ob_fixed(struct obuf *o, double v, int decimals)
{
	uint64_t scale = decimals == 2 ? 100 : 10, u;
	char t[4];

	if (v < 0) {
		ob_mem(o, "-", 1);
		v = -v;
	}
	u = (uint64_t)llround(v * (double)scale);
	ob_u64(o, u / scale);
	t[0] = '.';
	if (decimals == 2) {
		t[1] = '0' + u / 10 % 10;
		t[2] = '0' + u % 10;
	} else {
		t[1] = '0' + u % 10;
	}
	ob_mem(o, t, decimals + 1);
}

/* us microseconds as a time people read: "2.35 s", "12.5 ms", "830 us". */
static void ob_time_us(struct obuf *o, uint64_t us)
{
	if (us >= 1000000) {
		ob_fixed(o, (double)us / 1e6, 2);
		ob_str(o, " s");
	} else if (us >= 1000) {
		ob_fixed(o, (double)us / 1e3, 1);
		ob_str(o, " ms");
	} else {
		ob_u64(o, us);
		ob_str(o, " us");
	}
}

/* Sanitized and escaped text from the caller (titles, options). */
static void ob_text(struct svg *g, struct obuf *o, const char *s, bool keep_ws)
{
	size_t start = g->pool_len;
	uint32_t off, len;
	int err = pool_text(g, s, strlen(s), keep_ws, &off, &len);

	if (err)
		o->err = err;
	else
		ob_mem(o, g->pool + off, len);
	g->pool_len = start;
}

/* An already sanitized string escaped, for labels. */
static void ob_escape(struct obuf *o, const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		const char *r = xml_entity(s[i]);

		if (!r)
			continue;
		ob_mem(o, s + start, i - start);
		ob_str(o, r);
		start = i + 1;
	}
	ob_mem(o, s + start, n - start);
}

struct layout {
	double inner, scale, charw;
	unsigned int fh, fs, pad, top, bottom, height, base;
	unsigned int title_y, subtitle_y, legend_y, status_y;
};

/*
 * The profile's description (aggregate/describe.h): "10.0 s, 99 Hz, 1,234 samples, lost:
 * user_stack 3, host web1, system-wide, unwind: ..."; a continuous-mode window names its start
 * and end. A differential graph gives the two totals instead.
 */
static void default_subtitle(const struct svg *g, const struct profile *p,
			     const struct profile *before, char *buf, size_t size)
{
	struct profile_meta m = *profile__meta_const(p);
	struct profile_desc d;
	char num[32], num2[32];

	if (before) {
		describe__count(num, sizeof(num), g->total_before);
		describe__count(num2, sizeof(num2), g->total);
		snprintf(buf, size, "%s %s before, %s after%s", num, g->o->count_name, num2,
			 g->o->normalize ? " (before normalised to after)" : "");
		return;
	}
	/* Folded input has no meta: the counts are what the graph shows. */
	if (!m.samples)
		m.samples = g->total;
	profile_meta__describe(&m, g->o->window ? DESCRIBE_WINDOW : 0, g->o->count_name, &d);
	profile_desc__join(&d, FACTS_ALL, buf, size);
}

static void ob_attr_u(struct obuf *o, const char *name, uint64_t v)
{
	ob_str(o, name);
	ob_u64(o, v);
	ob_mem(o, "\"", 1);
}

/* A legend entry: a swatch and its label; x moves past it. */
static void legend_item(struct obuf *o, const struct layout *l, unsigned int *x, const char *col,
			const char *lbl)
{
	ob_attr_u(o, "<rect x=\"", *x);
	ob_attr_u(o, " y=\"", l->legend_y - l->fs + 2);
	ob_attr_u(o, " width=\"", l->fs - 2);
	ob_attr_u(o, " height=\"", l->fs - 2);
	ob_str(o, " fill=\"");
	ob_str(o, col);
	ob_attr_u(o, "\"/><text x=\"", *x + l->fs + 2);
	ob_attr_u(o, " y=\"", l->legend_y);
	ob_str(o, ">");
	ob_str(o, lbl);
	ob_str(o, "</text>");
	*x += l->fs + 2 + (unsigned int)(strlen(lbl) * l->charw) + 14;
}

static void write_legend(struct svg *g, struct obuf *o, const struct layout *l)
{
	bool used[HUE_MAX + 1] = {false};
	unsigned int x = l->pad;

	ob_str(o, "<g id=\"legend\">");
	if (g->diff) {
		legend_item(o, l, &x, "#ff5050", "grew");
		legend_item(o, l, &x, "#5080ff", "shrank");
		ob_str(o, "</g>\n");
		return;
	}
	for (uint32_t i = 0; i + 1 < g->nr_names; i++) {
		const struct svg_name *nm = &g->names[i];

		used[name_hue(g->o, g->pool + nm->off, nm->len, nm->kind)] = true;
	}
	for (int k = -1; k < HUE_MAX; k++) {
		/* The palette's own colour first ("user"), then kinds and languages. */
		int h = k < 0 ? HUE_MAX : k;
		double v[3] = {0.5, 0.5, 0.5};
		char col[8];

		if (!used[h])
			continue;
		format_color(col, h == HUE_MAX ? &palette_ranges[g->o->palette] : &hue_ranges[h], v,
			     false);
		legend_item(o, l, &x, col, h == HUE_MAX ? "user" : hue_labels[h]);
	}
	for (size_t i = 0; g->wall && i < g->nr_nodes; i++) {
		const struct snode *nd = &g->nodes[i];
		double v[3] = {0.5, 0.5, 0.5};
		char col[8];

		if (!nd->w || nd->before != nd->w)
			continue;
		format_color(col, &offcpu_range, v, true);
		legend_item(o, l, &x, col, "off-CPU (waiting)");
		break;
	}
	ob_str(o, "</g>\n");
}

/* White to red as a frame grew, to blue as it shrank, relative to the largest change. */
static void diff_color(const struct svg *g, const struct snode *nd, char out[8])
{
	double delta = (double)nd->w - (double)nd->before * g->norm;
	double v = g->max_delta > 0 ? fabs(delta) / g->max_delta : 0;
	int fade = 230 - (int)(200 * v), c[3];

	if (delta > 0) {
		c[0] = 255;
		c[1] = c[2] = fade;
	} else if (delta < 0) {
		c[2] = 255;
		c[0] = c[1] = fade;
	} else {
		c[0] = c[1] = c[2] = 235;
	}
	rgb_hex(out, c);
}

static void write_frame(struct svg *g, struct obuf *o, const struct layout *l,
			const struct snode *nd)
{
	const struct svg_name *nm = &g->names[nd->rank];
	double x0 = l->pad + (double)nd->x * l->scale, x1 = x0 + (double)nd->w * l->scale;
	double w = round(x1 * 10) / 10 - round(x0 * 10) / 10;
	unsigned int y = l->base - nd->depth * l->fh;
	long maxc = lround(floor((w - 3) / l->charw));
	char col[8];

	if (g->o->inverted)
		y = l->top + nd->depth * l->fh;
	ob_attr_u(o, "<g data-x=\"", nd->x);
	ob_str(o, "><title>");
	ob_mem(o, g->pool + nm->eoff, nm->elen);
	ob_str(o, " (");
	ob_count(o, nd->w);
	ob_mem(o, " ", 1);
	ob_mem(o, g->pool + g->cn_off, g->cn_len);
	ob_str(o, ", ");
	ob_fixed(o, g->total ? 100.0 * (double)nd->w / (double)g->total : 0, 2);
	ob_str(o, "%");
	if (g->time_us) {
		ob_str(o, ", ");
		ob_time_us(o, nd->w);
	}
	if (g->diff) {
		double delta = (double)nd->w - (double)nd->before * g->norm;
		double pct = g->total ? 100.0 * delta / (double)g->total : 0;

		/* No "-0.00%": what rounds to zero is written as "+0.00%". */
		if (fabs(pct) < 0.005)
			pct = 0;
		ob_str(o, "; before ");
		ob_count(o, nd->before);
		ob_str(o, ", ");
		ob_str(o, pct >= 0 ? "+" : "");
		ob_fixed(o, pct, 2);
		ob_str(o, "%");
	}
	ob_str(o, ")</title><rect x=\"");
	ob_fixed(o, x0, 1);
	ob_attr_u(o, "\" y=\"", y);
	ob_str(o, " width=\"");
	ob_fixed(o, w, 1);
	ob_attr_u(o, "\" height=\"", l->fh - 1);
	ob_str(o, " fill=\"");
	if (g->diff) {
		diff_color(g, nd, col);
		ob_str(o, col);
	} else if (g->wall && nd->w && nd->before == nd->w) {
		/* All of this frame's time is off-CPU: waiting, not running. */
		double v[3];

		name_fractions(g->pool + nm->off, nm->len, g->o->hash, v);
		format_color(col, &offcpu_range, v, true);
		ob_str(o, col);
	} else {
		ob_str(o, nm->color);
	}
	ob_str(o, "\"/>");
	if (maxc >= 3) {
		const char *s = g->pool + nm->off;
		size_t n = nm->len;

		ob_str(o, "<text x=\"");
		ob_fixed(o, round(x0 * 10) / 10 + 3, 1);
		ob_attr_u(o, "\" y=\"", y + l->fh / 2 + l->fs / 3);
		ob_mem(o, ">", 1);
		if (nm->nchars <= (uint32_t)maxc) {
			ob_mem(o, g->pool + nm->eoff, nm->elen);
		} else {
			/* The first maxc - 2 characters, then "..". */
			size_t b = 0;

			for (long c = 0; c < maxc - 2 && b < n; c++) {
				b++;
				while (b < n && ((unsigned char)s[b] & 0xc0) == 0x80)
					b++;
			}
			ob_escape(o, s, b);
			ob_mem(o, "..", 2);
		}
		ob_str(o, "</text>");
	}
	ob_str(o, "</g>\n");
}

static void write_svg(struct svg *g, const struct profile *p, const struct profile *before,
		      struct obuf *o)
{
	const struct svg_opts *opt = g->o;
	char subtitle[1024];
	const char *title = opt->title, *sub = opt->subtitle;
	struct layout l;

	l.fh = opt->frame_height;
	l.fs = opt->font_size;
	l.pad = SVG_PAD;
	l.charw = 0.59 * l.fs;
	l.inner = (double)opt->width - 2 * l.pad;
	l.scale = g->total ? l.inner / (double)g->total : 0;
	if (!sub) {
		default_subtitle(g, p, before, subtitle, sizeof(subtitle));
		sub = subtitle;
	}
	if (!title)
		title = g->diff		  ? "Differential Flame Graph"
			: opt->flamechart ? "Flame Chart"
			: opt->inverted	  ? "Icicle Graph"
					  : "Flame Graph";
	l.title_y = l.fs * 2;
	l.subtitle_y = l.title_y + (*sub ? l.fs * 3 / 2 : 0);
	l.legend_y = l.subtitle_y + l.fs * 3 / 2;
	l.top = l.legend_y + l.fs;
	l.bottom = l.fs * 2 + 6;
	l.height = l.top + (g->max_depth + 1) * l.fh + l.bottom;
	l.base = l.height - l.bottom - l.fh;
	l.status_y = l.height - l.fs / 2 - 4;

	ob_str(o, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
	ob_attr_u(o, "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"",
		  opt->width);
	ob_attr_u(o, " height=\"", l.height);
	ob_str(o, " viewBox=\"0 0 ");
	ob_u64(o, opt->width);
	ob_mem(o, " ", 1);
	ob_attr_u(o, "", l.height);
	ob_attr_u(o, " data-total=\"", g->total);
	ob_attr_u(o, " data-pad=\"", l.pad);
	ob_attr_u(o, " data-fh=\"", l.fh);
	ob_attr_u(o, " data-base=\"", opt->inverted ? l.top : l.base);
	ob_attr_u(o, " data-ty=\"", l.fh / 2 + l.fs / 3);
	ob_str(o, " data-charw=\"");
	ob_fixed(o, l.charw, 2);
	ob_str(o, "\" data-count-name=\"");
	ob_mem(o, g->pool + g->cn_off, g->cn_len);
	ob_attr_u(o, "\" font-size=\"", l.fs);
	ob_str(o, ">\n<title>");
	ob_text(g, o, title, false);
	ob_str(o, "</title>\n");
	if (opt->notes) {
		ob_str(o, "<desc id=\"notes\">");
		ob_text(g, o, opt->notes, true);
		ob_str(o, "</desc>\n");
	}
	ob_str(o, "<style>\n");
	ob_str(o, svg_style);
	ob_str(o, "</style>\n<rect width=\"100%\" height=\"100%\" fill=\"#f8f8f4\"/>\n");
	ob_attr_u(o, "<text id=\"title\" x=\"", opt->width / 2);
	ob_attr_u(o, " y=\"", l.title_y);
	ob_attr_u(o, " font-size=\"", l.fs + 5);
	ob_mem(o, ">", 1);
	ob_text(g, o, title, false);
	ob_str(o, "</text>\n");
	if (*sub) {
		ob_attr_u(o, "<text id=\"subtitle\" x=\"", opt->width / 2);
		ob_attr_u(o, " y=\"", l.subtitle_y);
		ob_mem(o, ">", 1);
		ob_text(g, o, sub, false);
		ob_str(o, "</text>\n");
	}
	/* Controls: Reset Zoom (hidden until zoomed), Search, ignore case. */
	ob_str(o, "<g id=\"unzoom\" class=\"btn off\"><rect x=\"");
	ob_u64(o, l.pad);
	ob_attr_u(o, "\" y=\"", l.title_y - l.fs - 1);
	ob_attr_u(o, " width=\"", (uint64_t)(l.charw * 10 + 10));
	ob_attr_u(o, " height=\"", l.fs + 6);
	ob_attr_u(o, "/><text x=\"", l.pad + 5);
	ob_attr_u(o, " y=\"", l.title_y);
	ob_str(o, ">Reset Zoom</text></g>\n");
	ob_attr_u(o, "<g id=\"search\" class=\"btn\"><rect x=\"",
		  opt->width - l.pad - 30 - (uint64_t)(l.charw * 6 + 10));
	ob_attr_u(o, " y=\"", l.title_y - l.fs - 1);
	ob_attr_u(o, " width=\"", (uint64_t)(l.charw * 6 + 10));
	ob_attr_u(o, " height=\"", l.fs + 6);
	ob_attr_u(o, "/><text x=\"", opt->width - l.pad - 25 - (uint64_t)(l.charw * 6 + 10));
	ob_attr_u(o, " y=\"", l.title_y);
	ob_str(o, ">Search</text></g>\n");
	ob_attr_u(o, "<g id=\"ic\" class=\"btn\"><title>ignore case</title><rect x=\"",
		  opt->width - l.pad - 24);
	ob_attr_u(o, " y=\"", l.title_y - l.fs - 1);
	ob_attr_u(o, " width=\"", 24);
	ob_attr_u(o, " height=\"", l.fs + 6);
	ob_attr_u(o, "/><text x=\"", opt->width - l.pad - 19);
	ob_attr_u(o, " y=\"", l.title_y);
	ob_str(o, ">ic</text></g>\n");
	write_legend(g, o, &l);
	ob_attr_u(o, "<text id=\"details\" x=\"", l.pad);
	ob_attr_u(o, " y=\"", l.status_y);
	ob_str(o, "> </text>\n");
	ob_attr_u(o, "<text id=\"matched\" x=\"", opt->width - l.pad);
	ob_attr_u(o, " y=\"", l.status_y);
	ob_str(o, "></text>\n");
	if (!g->total) {
		ob_attr_u(o, "<text x=\"", opt->width / 2);
		ob_attr_u(o, " y=\"", l.top + l.fh);
		ob_str(o, " text-anchor=\"middle\">No samples</text>\n");
	}
	ob_str(o, "<g id=\"frames\">\n");
	for (size_t i = 0; i < g->nr_nodes && !o->err; i++)
		write_frame(g, o, &l, &g->nodes[i]);
	ob_str(o, "</g>\n<script><![CDATA[\n");
	ob_str(o, svg_script);
	ob_str(o, "]]></script>\n</svg>\n");
}

static int check_opts(const struct svg_opts *o)
{
	if (o->width < 100 || o->width > 1000000 || o->frame_height < 4 || o->frame_height > 1000 ||
	    o->font_size < 4 || o->font_size > 200 || !(o->min_width >= 0) || o->min_width > 1e6 ||
	    (unsigned int)o->palette >= SVG_PAL_MAX || !o->count_name)
		return -EINVAL;
	return 0;
}

static int render(const struct profile *before, const struct profile *after,
		  const struct svg_opts *o, FILE *f)
{
	struct svg g = {0};
	struct obuf ob = {0};
	uint32_t *fmap[2] = {NULL, NULL}, *cmap[2] = {NULL, NULL}, *lcp = NULL;
	int err;

	err = check_opts(o);
	if (err)
		return err;
	g.o = o;
	g.diff = before != NULL;
	g.wall = !before && profile__meta_const(after)->profile_mode == PROFILE_WALL;
	g.keys = profile__new();
	err = -ENOMEM;
	if (!g.keys)
		goto cleanup;
	err = map_keys(&g, after, &fmap[0], &cmap[0]);
	if (!err && before)
		err = map_keys(&g, before, &fmap[1], &cmap[1]);
	if (!err)
		err = rank_keys(&g);
	if (!err)
		err = pool_text(&g, o->count_name, strlen(o->count_name), false, &g.cn_off,
				&g.cn_len);
	g.time_us = !strcmp(o->count_name, "us");
	if (!err)
		err = add_stacks(&g, after, fmap[0], cmap[0], false);
	if (!err && before)
		err = add_stacks(&g, before, fmap[1], cmap[1], true);
	if (!err)
		err = finish_stacks(&g);
	if (err)
		goto cleanup;
	for (size_t i = 0; i < g.nr_stacks; i++) {
		g.total += g.stacks[i].cnt;
		g.total_before += g.diff ? g.stacks[i].before : 0;
	}
	g.norm = before && o->normalize && g.total_before ? (double)g.total / (double)g.total_before
							  : 1.0;
	g.min_samples = o->min_width * (double)g.total / ((double)o->width - 2 * SVG_PAD);
	lcp = malloc((g.nr_stacks + 1) * sizeof(*lcp));
	err = -ENOMEM;
	if (!lcp)
		goto cleanup;
	if (!o->flamechart || before)
		err = sort_stacks(&g, lcp);
	else
		err = flamechart_lcp(&g, lcp);
	if (!err)
		err = build_nodes(&g, lcp);
	if (err)
		goto cleanup;
	/* The stacks are no longer needed; give their memory back before writing. */
	free(g.own);
	free(g.stacks);
	g.own = NULL;
	g.stacks = NULL;
	ob.f = f;
	ob.cap = 1 << 16;
	ob.b = malloc(ob.cap);
	if (!ob.b) {
		err = -ENOMEM;
		goto cleanup;
	}
	write_svg(&g, after, before, &ob);
	ob_flush(&ob);
	err = ob.err;
	if (!err && fflush(f))
		err = -errno;
	if (!err && ferror(f))
		err = -EIO;
cleanup:
	free(lcp);
	free(ob.b);
	for (int i = 0; i < 2; i++) {
		free(fmap[i]);
		free(cmap[i]);
	}
	profile__free(g.keys);
	free(g.key_rank);
	free(g.names);
	free(g.pool);
	free(g.own);
	free(g.ident);
	free(g.stacks);
	free(g.nodes);
	return err;
}

int svg__write(const struct profile *p, const struct svg_opts *o, FILE *f)
{
	return render(NULL, p, o, f);
}

int svg__write_diff(const struct profile *before, const struct profile *after,
		    const struct svg_opts *o, FILE *f)
{
	return render(before, after, o, f);
}
