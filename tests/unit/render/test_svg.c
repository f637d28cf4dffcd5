// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render/folded.h"
#include "harness.h"
#include "aggregate/profile.h"
#include "render/svg.h"
#include "render/svg_script.h"

static uint32_t frame(struct profile *p, const char *name, uint32_t kind, uint64_t addr)
{
	struct profile_frame f = {0};

	f.name = profile__intern_str(p, name);
	f.kind = kind;
	f.addr = addr;
	return profile__add_frame(p, &f);
}

/* When set, frames get one of 4 addresses: several frame ids per name, to be merged. */
static unsigned int addr_seed;

/* Adds a stack given as "a;b;c" (suffixes _[k] _[i] _[j] give the kind). */
static void add(struct profile *p, const char *comm, const char *stack, uint64_t count)
{
	char *dup = strdup(stack), *save = NULL, *tok;
	uint32_t ids[64];
	size_t n = 0;

	for (tok = strtok_r(dup, ";", &save); tok && n < 64; tok = strtok_r(NULL, ";", &save)) {
		size_t l = strlen(tok);
		uint32_t kind = FRAME_USER;

		if (l > 4 && tok[l - 4] == '_' && tok[l - 3] == '[') {
			kind = tok[l - 2] == 'k'   ? FRAME_KERNEL
			       : tok[l - 2] == 'i' ? FRAME_INLINE
						   : FRAME_JIT;
			tok[l - 4] = '\0';
		}
		ids[n++] = frame(p, tok, kind, addr_seed ? 0x1000 + rand_r(&addr_seed) % 4 : 0);
	}
	profile__add_sample(p, ids, n, count, 0, comm ? profile__intern_str(p, comm) : 0, 0);
	free(dup);
}

static char *render(const struct profile *before, const struct profile *p, const struct svg_opts *o,
		    int *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*err = before ? svg__write_diff(before, p, o, f) : svg__write(p, o, f);
	fclose(f);
	return buf;
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *s = hay; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/*
 * A small XML well-formedness checker, so the tests do not depend on xmllint: UTF-8 of XML
 * characters only, balanced and properly nested tags, quoted attributes without '<', known
 * entities only, comments without "--", closed CDATA, one root element.
 */
static bool xml_entity(const char **p)
{
	static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
	const char *s = *p;

	for (size_t i = 0; i < 5; i++)
		if (!strncmp(s, ents[i], strlen(ents[i]))) {
			*p += strlen(ents[i]);
			return true;
		}
	if (s[1] == '#') {
		const char *q = s + 2;
		bool hex = *q == 'x';

		q += hex;
		if (!(hex ? strchr("0123456789abcdefABCDEF", *q) : strchr("0123456789", *q)) || !*q)
			return false;
		while (*q &&
		       (hex ? strchr("0123456789abcdefABCDEF", *q) : strchr("0123456789", *q)))
			q++;
		if (*q != ';')
			return false;
		*p = q + 1;
		return true;
	}
	return false;
}

static const char *xml_check(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	const char *stack[256];
	int depth = 0, roots = 0;

	/* Characters first. */
	for (size_t i = 0; u[i];) {
		unsigned char c = u[i];
		size_t l = c < 0x80		? 1
			   : (c & 0xe0) == 0xc0 ? 2
			   : (c & 0xf0) == 0xe0 ? 3
			   : (c & 0xf8) == 0xf0 ? 4
						: 0;
		uint32_t cp = l == 1 ? c : l == 2 ? c & 0x1f : l == 3 ? c & 0x0f : c & 0x07;

		if (!l || c == 0xc0 || c == 0xc1 || c > 0xf4)
			return "invalid UTF-8 lead byte";
		for (size_t k = 1; k < l; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return "invalid UTF-8 continuation";
			cp = cp << 6 | (u[i + k] & 0x3f);
		}
		if ((l == 3 && cp < 0x800) || (l == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
			return "invalid UTF-8 sequence";
		if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r')
			return "control character";
		i += l;
	}
	while (*s) {
		if (!strncmp(s, "<?", 2)) {
			s = strstr(s, "?>");
			if (!s)
				return "unclosed processing instruction";
			s += 2;
		} else if (!strncmp(s, "<!--", 4)) {
			const char *e = strstr(s + 4, "-->");
			const char *dd = strstr(s + 4, "--");

			if (!e)
				return "unclosed comment";
			if (dd != e)
				return "\"--\" inside a comment";
			s = e + 3;
		} else if (!strncmp(s, "<![CDATA[", 9)) {
			if (!depth)
				return "CDATA outside the root";
			s = strstr(s, "]]>");
			if (!s)
				return "unclosed CDATA";
			s += 3;
		} else if (!strncmp(s, "</", 2)) {
			size_t l = strcspn(s + 2, " \t\n>");

			if (!depth || strncmp(stack[depth - 1], s + 2, l) ||
			    strcspn(stack[depth - 1], " \t\n/>") != l)
				return "mismatched end tag";
			depth--;
			s = strchr(s, '>');
			if (!s)
				return "unclosed end tag";
			s++;
		} else if (*s == '<') {
			const char *name = ++s;

			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:", *s))
				return "bad tag name";
			while (*s && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789_:.-",
					    *s))
				s++;
			for (;;) {
				char q;

				while (*s == ' ' || *s == '\n' || *s == '\t')
					s++;
				if (*s == '>' || !strncmp(s, "/>", 2))
					break;
				if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
					    ":",
					    *s))
					return "bad attribute name";
				while (*s &&
				       strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
					      "WXYZ0123456789_:.-",
					      *s))
					s++;
				if (*s++ != '=')
					return "attribute without value";
				q = *s++;
				if (q != '"' && q != '\'')
					return "unquoted attribute";
				while (*s && *s != q) {
					if (*s == '<')
						return "'<' in an attribute";
					if (*s != '&')
						s++;
					else if (!xml_entity(&s))
						return "bad entity in an attribute";
				}
				if (*s++ != q)
					return "unclosed attribute";
			}
			if (!depth && roots++)
				return "more than one root element";
			if (*s == '/') {
				s += 2;
			} else {
				if (depth == 256)
					return "too deep";
				stack[depth++] = name;
				s++;
			}
		} else {
			if (*s == '&') {
				if (!xml_entity(&s))
					return "bad entity in text";
				continue;
			}
			if (!strncmp(s, "]]>", 3))
				return "\"]]>\" in text";
			if (!depth && *s != '\n' && *s != ' ')
				return "text outside the root";
			s++;
		}
	}
	if (depth)
		return "unclosed element";
	return roots == 1 ? NULL : "no root element";
}

static void check_xml(int *failed, const char *svg, const char *what)
{
	const char *why = xml_check(svg);
	char path[] = "/tmp/flamed-test-svg-XXXXXX";
	int fd;

	if (why) {
		fprintf(stderr, "  %s: not well-formed XML: %s\n", what, why);
		*failed = 1;
	}
	/* xmllint too, when this machine has it. */
	if (system("command -v xmllint >/dev/null 2>&1"))
		return;
	fd = mkstemp(path);
	if (fd < 0)
		return;
	if (write(fd, svg, strlen(svg)) == (ssize_t)strlen(svg)) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "xmllint --noout %s", path);
		if (system(cmd)) {
			fprintf(stderr, "  %s: xmllint rejects the SVG\n", what);
			*failed = 1;
		}
	}
	close(fd);
	unlink(path);
}

TEST(svg_xml_checker_catches_faults)
{
	CHECK(xml_check("<a><b x=\"1\"/>t&amp;</a>") == NULL);
	CHECK(xml_check("<a><b></a>") != NULL);
	CHECK(xml_check("<a x=\"<\"/>") != NULL);
	CHECK(xml_check("<a>&bogus;</a>") != NULL);
	CHECK(xml_check("<a><!-- a -- b --></a>") != NULL);
	CHECK(xml_check("<a>\x01</a>") != NULL);
	CHECK(xml_check("<a>\xff</a>") != NULL);
	CHECK(xml_check("<a>]]></a>") != NULL);
	CHECK(xml_check("<a><![CDATA[ x ]]></a>") == NULL);
}

TEST(svg_script_is_safe_in_cdata)
{
	CHECK(strstr(svg_script, "]]>") == NULL);
	CHECK(strstr(svg_style, "]]>") == NULL);
	CHECK(strchr(svg_style, '<') == NULL && strchr(svg_style, '&') == NULL);
}

TEST(svg_escapes_hostile_names)
{
	static const char *const hostile[] = {
		"</text><script>alert(1)</script>",
		"foo&bar",
		"say \"hi\" it's",
		"cdata]]>end",
		"double--dash",
		"<!-- comment -->",
		"ctrl\x01\x1b"
		"char",
		"tab\there\nnewline\r",
		"bad_utf8_\xff\xfe",
		"surrogate_\xed\xa0\x80_overlong_\xc0\xaf_cut_\xe4\xb8",
		"c1\xc2\x85"
		"control",
		"unicode_\xc3\xa9\xe4\xb8\xad\xf0\x9f\x94\xa5",
		"noncharacter_\xef\xbf\xbf",
	};
	struct profile *p = profile__new();
	struct svg_opts o;
	char *svg;
	int err;

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char stack[256];

		snprintf(stack, sizeof(stack), "app;main;%s", hostile[i]);
		add(p, NULL, stack, 10 + i);
	}
	add(p, "<evil>&\"comm\"", "x_[k]", 5);
	{
		uint32_t id = frame(p, "already&amp;escaped", FRAME_USER, 0);

		profile__add_sample(p, &id, 1, 9, 0, 0, 0);
	}
	svg_opts__init(&o);
	o.title = "</title><script>alert('t')</script> ]]> --";
	o.subtitle = "sub & <sub> \x01 \xff";
	o.notes = "notes -- with --> and ]]> and <script>\nsecond line";
	o.count_name = "sam\"ples<&>";
	svg = render(NULL, p, &o, &err);
	CHECK_EQ_INT(err, 0);
	check_xml(failed, svg, "hostile names");
	CHECK(strstr(svg, "<script>alert") == NULL);
	CHECK(strstr(svg, "&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
	CHECK(strstr(svg, "foo&amp;bar") != NULL);
	CHECK(strstr(svg, "already&amp;amp;escaped") != NULL);
	CHECK(strstr(svg, "say &quot;hi&quot; it&#39;s") != NULL);
	CHECK(strstr(svg, "bad_utf8_\xef\xbf\xbd\xef\xbf\xbd") != NULL);
	CHECK(strstr(svg, "ctrl??char") != NULL);
	CHECK(strstr(svg, "unicode_\xc3\xa9\xe4\xb8\xad\xf0\x9f\x94\xa5") != NULL);
	CHECK(strstr(svg, "&lt;evil&gt;&amp;&quot;comm&quot;") != NULL);
	CHECK(strstr(svg, "sam&quot;ples&lt;&amp;&gt;") != NULL);
	/* Our own CDATA section is the only one, and nothing commented out. */
	CHECK_EQ_INT(count_str(svg, "]]>"), 1);
	CHECK_EQ_INT(count_str(svg, "<![CDATA["), 1);
	CHECK_EQ_INT(count_str(svg, "<!--"), 0);
	CHECK_EQ_INT(count_str(svg, "<script"), 1);
	free(svg);
	profile__free(p);
}

TEST(svg_adversarial_folded_input)
{
	/* The shape of gen_folded.py --adversarial, through the parser. */
	static const char in[] = "app;main;<script>alert(1)</script> 50\n"
				 "app;main;std::map<int, std::string>::operator[](int const&) 30\n"
				 "app;main;<!-- comment --> 20\n"
				 "app;main;ctrl\x01"
				 "char 10\n"
				 "app;main;tab\there 10\n"
				 "app;main;name ending in number 123 10\n"
				 "app;main;kfunc_[k] 10\n"
				 "app;main;-- 10\n"
				 "app;main;bad_utf8_\xff\xfe 10\n";
	struct profile *p = profile__new();
	struct svg_opts o;
	char *svg;
	int err;

	CHECK_EQ_INT(folded__parse(p, in, sizeof(in) - 1, NULL), 0);
	svg_opts__init(&o);
	svg = render(NULL, p, &o, &err);
	CHECK_EQ_INT(err, 0);
	check_xml(failed, svg, "adversarial");
	CHECK(strstr(svg, "name ending in number 123 (10 samples") != NULL);
	free(svg);
	profile__free(p);
}

/* A frame parsed back out of the SVG. */
struct pframe {
	char name[64];
	uint64_t x, n;
	long y;
	char fill[8];
};

static size_t parse_frames(const char *svg, struct pframe *out, size_t max)
{
	const char *s = strstr(svg, "<g id=\"frames\">");
	size_t n = 0;

	while (s && (s = strstr(s, "<g data-x=\"")) && n < max) {
		struct pframe *f = &out[n++];
		const char *t = strstr(s, "<title>") + 7, *e = strstr(t, "</title>");
		const char *paren = NULL;

		f->x = strtoull(s + 11, NULL, 10);
		for (const char *q = t; q < e; q++)
			if (!strncmp(q, " (", 2))
				paren = q;
		snprintf(f->name, sizeof(f->name), "%.*s", (int)(paren - t), t);
		f->n = 0;
		for (const char *q = paren + 2; *q != ' '; q++)
			if (*q != ',')
				f->n = f->n * 10 + (*q - '0');
		f->y = strtol(strstr(e, " y=\"") + 4, NULL, 10);
		snprintf(f->fill, sizeof(f->fill), "%s", strstr(e, "fill=\"") + 6);
		s = e;
	}
	return n;
}

static const struct pframe *find_pframe(const struct pframe *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

/* Naive prefix counts: "a;b" -> samples of stacks starting with a;b. */
struct prefix {
	char path[512];
	uint64_t n;
};

static void naive_add(struct prefix *px, size_t *npx, const char *path, uint64_t n)
{
	for (size_t i = 0; i < *npx; i++)
		if (!strcmp(px[i].path, path)) {
			px[i].n += n;
			return;
		}
	snprintf(px[*npx].path, sizeof(px[*npx].path), "%s", path);
	px[(*npx)++].n = n;
}

/*
 * Random stacks (with process names or not, with several frame ids per name or not) drawn
 * without pruning: every frame's count must be the naive sum over stacks with its path.
 */
static void check_tree(int *failed, bool with_comm, bool many_ids)
{
	static const char *const names[] = {"a", "b", "c", "dd", "e"};
	static struct prefix px[20000];
	static struct pframe pf[20000];
	struct profile *p = profile__new();
	unsigned int seed = 42;
	size_t npx = 0, npf;
	uint64_t total = 0;
	struct svg_opts o;
	char *svg;
	int err;

	npx = 0;
	addr_seed = many_ids ? 7 : 0;
	/* Random stacks with lots of shared prefixes and repeats. */
	for (int i = 0; i < 3000; i++) {
		char stack[256] = "", path[64] = "";
		int depth = 1 + rand_r(&seed) % 7, comm = with_comm ? rand_r(&seed) % 3 : 0;
		uint64_t cnt = 1 + rand_r(&seed) % 50;

		if (comm)
			snprintf(path, sizeof(path), "%s", comm == 1 ? "procA" : "procB");
		naive_add(px, &npx, path[0] ? path : "", 0);
		for (int d = 0; d < depth; d++) {
			const char *nm = names[rand_r(&seed) % (d < 2 ? 2 : 5)];

			snprintf(stack + strlen(stack), sizeof(stack) - strlen(stack), "%s%s",
				 d ? ";" : "", nm);
		}
		add(p, comm ? (comm == 1 ? "procA" : "procB") : NULL, stack, cnt);
		total += cnt;
		/* every prefix of comm;stack */
		{
			char full[400], *q;

			snprintf(full, sizeof(full), "%s%s%s", path, path[0] ? ";" : "", stack);
			for (q = full;; q++) {
				if (*q == ';' || !*q) {
					char c = *q;

					*q = '\0';
					naive_add(px, &npx, full, cnt);
					*q = c;
				}
				if (!*q)
					break;
			}
		}
	}
	svg_opts__init(&o);
	o.min_width = 0;
	svg = render(NULL, p, &o, &err);
	CHECK_EQ_INT(err, 0);
	npf = parse_frames(svg, pf, 20000);
	/* Every frame's path, rebuilt from geometry (parent: one row down, covering x). */
	{
		size_t matched = 0, distinct = 0;
		const struct pframe *root = find_pframe(pf, npf, "all");

		CHECK(root != NULL);
		if (root)
			CHECK_EQ_INT(root->n, total);
		for (size_t i = 0; i < npx; i++)
			distinct += px[i].path[0] != '\0';
		CHECK_EQ_INT(npf, distinct + 1);
		for (size_t i = 0; i < npf; i++) {
			char path[512] = "";
			const struct pframe *f = &pf[i];

			if (!strcmp(f->name, "all"))
				continue;
			for (const struct pframe *c = f; c && strcmp(c->name, "all");) {
				const struct pframe *par = NULL;

				size_t nl = strlen(c->name), pl = strlen(path);

				if (nl + 1 + pl >= sizeof(path))
					break;
				/* path = name;path */
				memmove(path + nl + (pl ? 1 : 0), path, pl + 1);
				memcpy(path, c->name, nl);
				if (pl)
					path[nl] = ';';
				for (size_t k = 0; k < npf; k++)
					if (pf[k].y == c->y + 16 && pf[k].x <= c->x &&
					    pf[k].x + pf[k].n >= c->x + c->n)
						par = &pf[k];
				c = par;
			}
			for (size_t k = 0; k < npx; k++)
				if (!strcmp(px[k].path, path)) {
					CHECK_EQ_INT(f->n, px[k].n);
					matched++;
				}
		}
		CHECK_EQ_INT(matched, distinct);
	}
	free(svg);
	profile__free(p);
	addr_seed = 0;
}

TEST(svg_tree_matches_naive_merge)
{
	check_tree(failed, true, false);
}

/* No process names: the renderer reads the profile's frame ids in place. */
TEST(svg_tree_matches_naive_merge_in_place)
{
	check_tree(failed, false, false);
	check_tree(failed, false, true);
}

TEST(svg_merges_by_name_and_kind_and_sorts_children)
{
	struct profile *p = profile__new();
	uint32_t a1 = frame(p, "main", FRAME_USER, 0x10), a2 = frame(p, "main", FRAME_USER, 0x20);
	uint32_t k = frame(p, "main", FRAME_KERNEL, 0);
	struct pframe pf[16];
	struct svg_opts o;
	size_t n;
	char *svg;
	int err;

	profile__add_sample(p, &a1, 1, 3, 1, 0, 0);
	profile__add_sample(p, &a2, 1, 4, 2, 0, 0);
	profile__add_sample(p, &k, 1, 5, 3, 0, 0);
	add(p, NULL, "zeta", 1);
	add(p, NULL, "alpha", 1);
	svg_opts__init(&o);
	svg = render(NULL, p, &o, &err);
	n = parse_frames(svg, pf, 16);
	CHECK_EQ_INT(n, 5); /* all, alpha, main (user), main (kernel), zeta */
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(pf[i].name, "main") && pf[i].n == 7)
			CHECK_EQ_INT(pf[i].x, 1); /* after alpha */
		else if (!strcmp(pf[i].name, "main"))
			CHECK(pf[i].n == 5 && pf[i].x == 8);
		else if (!strcmp(pf[i].name, "zeta"))
			CHECK_EQ_INT(pf[i].x, 13);
	}
	free(svg);
	profile__free(p);
}

TEST(svg_is_deterministic)
{
	struct profile *a = profile__new(), *b = profile__new();
	struct svg_opts o;
	char *sa, *sb, *sc;
	int err;

	add(a, "p", "x;y;z", 3);
	add(a, "p", "x;w", 2);
	add(a, "q", "k_[k];l", 7);
	/* Same samples, other order, other interning order. */
	add(b, "q", "k_[k];l", 7);
	add(b, "p", "x;w", 2);
	add(b, "p", "x;y;z", 3);
	svg_opts__init(&o);
	sa = render(NULL, a, &o, &err);
	sb = render(NULL, b, &o, &err);
	sc = render(NULL, a, &o, &err);
	CHECK_EQ_STR(sa, sb);
	CHECK_EQ_STR(sa, sc);
	free(sa);
	free(sb);
	free(sc);
	profile__free(a);
	profile__free(b);
}

TEST(svg_colors_stable_and_by_kind)
{
	struct profile *a = profile__new(), *b = profile__new();
	struct pframe pa[16], pb[16];
	const struct pframe *fa, *fb;
	struct svg_opts o;
	char *sa, *sb;
	int err;

	add(a, NULL, "shared_name;only_a", 5);
	add(a, NULL, "kern_[k]", 5);
	add(b, NULL, "other;shared_name", 9);
	svg_opts__init(&o);
	sa = render(NULL, a, &o, &err);
	sb = render(NULL, b, &o, &err);
	parse_frames(sa, pa, 16);
	parse_frames(sb, pb, 16);
	fa = find_pframe(pa, 16, "shared_name");
	fb = find_pframe(pb, 16, "shared_name");
	CHECK(fa && fb && !strcmp(fa->fill, fb->fill));
	/* hot palette: red channel high; kernel frames blue-ish */
	fa = find_pframe(pa, 16, "kern");
	CHECK(fa && strtol((char[]){fa->fill[5], fa->fill[6], 0}, NULL, 16) >= 220);
	CHECK(strstr(sa, ">kernel</text>") != NULL); /* legend */
	free(sa);
	free(sb);
	for (int pal = 0; pal < SVG_PAL_MAX; pal++) {
		o.palette = pal;
		o.hash = pal & 1;
		sa = render(NULL, a, &o, &err);
		CHECK_EQ_INT(err, 0);
		check_xml(failed, sa, "palette");
		free(sa);
	}
	CHECK_EQ_INT(svg_palette__from_name("lang"), SVG_PAL_LANG);
	CHECK_EQ_INT(svg_palette__from_name("hot"), SVG_PAL_HOT);
	CHECK_EQ_INT(svg_palette__from_name("nope"), -EINVAL);
	profile__free(a);
	profile__free(b);
}

/* A fill "#rrggbb" in the off-CPU slate greys: one shade, green = red + 10, blue = red + 30. */
static bool slate(const char *fill)
{
	unsigned int r, g, b;

	if (sscanf(fill, "#%2x%2x%2x", &r, &g, &b) != 3)
		return false;
	return r >= 105 && r <= 180 && g == r + 10 && b == r + 30;
}

TEST(svg_wall_offcpu_frames_colour)
{
	struct profile *p = profile__new();
	struct pframe pf[16];
	const struct pframe *f;
	struct svg_opts o;
	char *svg;
	size_t n;
	int err;

	/* work is on-CPU, wait is off-CPU only, main is both. */
	add(p, NULL, "main;work", 30);
	add(p, NULL, "main;wait;futex_[k];[blocked]", 50);
	add(p, NULL, "main;work;[preempted]", 20);
	profile__meta(p)->profile_mode = PROFILE_WALL;
	svg_opts__init(&o);
	o.count_name = "us";
	svg = render(NULL, p, &o, &err);
	CHECK_EQ_INT(err, 0);
	check_xml(failed, svg, "wall");
	n = parse_frames(svg, pf, 16);
	f = find_pframe(pf, n, "wait");
	CHECK(f && slate(f->fill));
	f = find_pframe(pf, n, "futex");
	CHECK(f && slate(f->fill));
	f = find_pframe(pf, n, "[blocked]");
	CHECK(f && slate(f->fill));
	f = find_pframe(pf, n, "[preempted]");
	CHECK(f && slate(f->fill));
	/* Partly on-CPU: the palette's colour. */
	f = find_pframe(pf, n, "work");
	CHECK(f && !slate(f->fill));
	f = find_pframe(pf, n, "main");
	CHECK(f && !slate(f->fill));
	CHECK(strstr(svg, ">off-CPU (waiting)</text>") != NULL);
	/* Tooltips tell the time after the microseconds and the share. */
	CHECK(strstr(svg, "<title>wait (50 us, 50.00%, 50 us)</title>") != NULL);
	free(svg);
	/* The same stacks in an off-CPU or CPU profile: palette colours, no legend entry. */
	for (int m = PROFILE_CPU; m <= PROFILE_OFFCPU; m++) {
		profile__meta(p)->profile_mode = m;
		svg = render(NULL, p, &o, &err);
		n = parse_frames(svg, pf, 16);
		f = find_pframe(pf, n, "wait");
		CHECK(f && !slate(f->fill));
		CHECK(!strstr(svg, "off-CPU (waiting)"));
		free(svg);
	}
	profile__free(p);
}

TEST(svg_options_layout)
{
	struct profile *p = profile__new();
	struct pframe pf[16];
	const struct pframe *root, *leaf, *first;
	struct svg_opts o;
	size_t n;
	char *svg;
	int err;

	add(p, NULL, "r;m;leaf", 4);
	add(p, NULL, "r;m", 1);
	svg_opts__init(&o);
	o.inverted = true;
	svg = render(NULL, p, &o, &err);
	n = parse_frames(svg, pf, 16);
	root = find_pframe(pf, n, "all");
	leaf = find_pframe(pf, n, "leaf");
	CHECK(root && leaf && root->y < leaf->y);
	CHECK(strstr(svg, ">Icicle Graph</text>") != NULL);
	free(svg);

	svg_opts__init(&o);
	o.reverse = true;
	svg = render(NULL, p, &o, &err);
	n = parse_frames(svg, pf, 16);
	root = find_pframe(pf, n, "all");
	/* Reversed: the leaves are the first row above "all". */
	for (size_t i = 0; root && i < n; i++)
		if (pf[i].y == root->y - 16)
			CHECK(!strcmp(pf[i].name, "leaf") || !strcmp(pf[i].name, "m"));
	free(svg);

	/* Flame chart: input order kept, neighbours merged. */
	add(p, NULL, "a_first", 1);
	svg_opts__init(&o);
	o.flamechart = true;
	svg = render(NULL, p, &o, &err);
	n = parse_frames(svg, pf, 16);
	first = find_pframe(pf, n, "r");
	CHECK(first && first->x == 0 && first->n == 5);
	first = find_pframe(pf, n, "a_first");
	CHECK(first && first->x == 5);
	free(svg);

	svg_opts__init(&o);
	o.width = 50;
	svg = render(NULL, p, &o, &err);
	CHECK_EQ_INT(err, -EINVAL);
	free(svg);
	profile__free(p);
}

TEST(svg_pruning)
{
	struct profile *p = profile__new();
	struct svg_opts o;
	char *svg;
	int err;

	add(p, NULL, "big", 1000000);
	add(p, NULL, "tiny;tinier", 1);
	svg_opts__init(&o);
	svg = render(NULL, p, &o, &err);
	CHECK(strstr(svg, "big (") != NULL);
	CHECK(strstr(svg, "tiny") == NULL);
	free(svg);
	o.min_width = 0;
	svg = render(NULL, p, &o, &err);
	CHECK(strstr(svg, "tiny (") != NULL && strstr(svg, "tinier (") != NULL);
	free(svg);
	profile__free(p);
}

TEST(svg_subtitle_from_meta)
{
	struct profile *p = profile__new();
	struct profile_meta *m = profile__meta(p);
	struct svg_opts o;
	char *svg;
	int err;

	add(p, "proc", "main", 10);
	m->duration_ns = 2500000000ULL;
	m->freq_hz = 99;
	m->samples = 10;
	m->lost[LOST_USTACK] = 3;
	snprintf(m->host, sizeof(m->host), "web<1>");
	snprintf(m->mode, sizeof(m->mode), "system-wide");
	svg_opts__init(&o);
	svg = render(NULL, p, &o, &err);
	CHECK(strstr(svg, ">2.5 s, 99 Hz, 10 samples, lost: user_stack 3, host web&lt;1&gt;, "
			  "system-wide</text>") != NULL);
	check_xml(failed, svg, "subtitle");
	free(svg);
	o.subtitle = "";
	svg = render(NULL, p, &o, &err);
	CHECK(strstr(svg, "id=\"subtitle\"") == NULL);
	free(svg);
	profile__free(p);
}

TEST(svg_empty_profile)
{
	struct profile *p = profile__new();
	struct svg_opts o;
	char *svg;
	int err;

	svg_opts__init(&o);
	svg = render(NULL, p, &o, &err);
	CHECK_EQ_INT(err, 0);
	CHECK(strstr(svg, "No samples") != NULL);
	check_xml(failed, svg, "empty");
	free(svg);
	profile__free(p);
}

TEST(svg_diff)
{
	struct profile *before = profile__new(), *after = profile__new();
	struct pframe pf[16];
	const struct pframe *grew, *shrank, *gone;
	struct svg_opts o;
	size_t n;
	char *svg;
	int err;

	/* before: 100 samples, after 200: normalised, "same" is unchanged at 50%. */
	add(before, NULL, "main;same", 50);
	add(before, NULL, "main;shrank", 40);
	add(before, NULL, "main;gone", 10);
	add(after, NULL, "main;same", 100);
	add(after, NULL, "main;shrank", 20);
	add(after, NULL, "main;grew", 80);
	svg_opts__init(&o);
	svg = render(before, after, &o, &err);
	CHECK_EQ_INT(err, 0);
	check_xml(failed, svg, "diff");
	n = parse_frames(svg, pf, 16);
	grew = find_pframe(pf, n, "grew");
	shrank = find_pframe(pf, n, "shrank");
	gone = find_pframe(pf, n, "gone");
	CHECK(grew && !strncmp(grew->fill, "#ff", 3));
	CHECK(shrank && !strcmp(shrank->fill + 5, "ff"));
	CHECK(gone == NULL); /* the shape is AFTER's */
	CHECK(strstr(svg, "same (100 samples, 50.00%; before 50, +0.00%)") != NULL);
	CHECK(strstr(svg, "shrank (20 samples, 10.00%; before 40, -30.00%)") != NULL);
	CHECK(strstr(svg, ">Differential Flame Graph</text>") != NULL);
	free(svg);
	o.normalize = false;
	svg = render(before, after, &o, &err);
	CHECK(strstr(svg, "same (100 samples, 50.00%; before 50, +25.00%)") != NULL);
	free(svg);
	profile__free(before);
	profile__free(after);
}

TEST(svg_write_error)
{
	struct profile *p = profile__new();
	FILE *f = fopen("/dev/full", "w");
	struct svg_opts o;

	add(p, NULL, "main", 1);
	svg_opts__init(&o);
	if (f) {
		CHECK_EQ_INT(svg__write(p, &o, f), -ENOSPC);
		fclose(f);
	}
	profile__free(p);
}
