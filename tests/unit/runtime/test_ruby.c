// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ruby frames, the pure parts: layout selection by version, ruby_version parsing, which file
 * names are Ruby's, the frame encoding shared with BPF, RString decoding, the line table
 * (binary search and CRuby's succinct index table) and the names shown; and the layout check
 * on fake structures in this process's own memory.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/php.h"
#include "runtime/python.h"
#include "runtime/ruby.h"

TEST(ruby_layouts)
{
	struct ruby_layout l;

	CHECK_EQ_INT(ruby__layout(3, 1, &l), 0);
	/* The control frame fields BPF reads are inside its read (RB_CFP_READ, 64). */
	CHECK(l.off.cfp_size == 64 && l.off.cfp_pc + 8 <= 64 && l.off.cfp_iseq + 8 <= 64 &&
	      l.off.cfp_ep + 8 <= 64);
	/* ec up to thread_ptr in RB_EC_READ (56); rb_thread_t .ec to .tid in RB_TH_READ (56). */
	CHECK(l.off.ec_thread + 8 <= 56);
	CHECK(l.off.th_tid > l.off.th_ec && l.off.th_tid + 4 - l.off.th_ec <= 56);
	CHECK_EQ_INT(l.off.ractor_running_ec, 520);
	CHECK_EQ_INT(l.loc_label, 80);
	CHECK_EQ_INT(ruby__layout(3, 2, &l), -ENOTSUP);
	CHECK_EQ_INT(ruby__layout(3, 0, &l), -ENOTSUP);
	CHECK_EQ_INT(ruby__layout(2, 7, &l), -ENOTSUP);
}

TEST(ruby_version_and_names)
{
	unsigned int a = 0, b = 0, c = 0;
	char buf[128];

	CHECK_EQ_INT(ruby__parse_version("3.1.2", 6, &a, &b, &c), 0);
	CHECK(a == 3 && b == 1 && c == 2);
	CHECK_EQ_INT(ruby__parse_version("3.1", 4, &a, &b, &c), -EINVAL);
	CHECK_EQ_INT(ruby__parse_version("3.1.x", 5, &a, &b, &c), -EINVAL);
	CHECK_EQ_INT(ruby__parse_version("3.1.", 4, &a, &b, &c), -EINVAL);

	CHECK(ruby__is_ruby_name("/usr/bin/ruby3.1"));
	CHECK(ruby__is_ruby_name("/usr/local/bin/ruby"));
	CHECK(ruby__is_ruby_name("/usr/lib/x86_64-linux-gnu/libruby-3.1.so.3.1"));
	CHECK(ruby__is_ruby_name("/usr/lib/libruby.so"));
	CHECK(!ruby__is_ruby_name("/usr/bin/rubyfmt"));
	CHECK(!ruby__is_ruby_name("/usr/lib/ruby/3.1.0/x86_64-linux-gnu/digest.so"));
	CHECK(!ruby__is_ruby_name("/usr/bin/php8.2"));

	ruby__format_name(buf, sizeof(buf), "block in mid", "/srv/app/chain.rb", 0);
	CHECK_EQ_STR(buf, "block in mid (chain.rb)");
	ruby__format_name(buf, sizeof(buf), "leaf", "chain.rb", 14);
	CHECK_EQ_STR(buf, "leaf (chain.rb:14)");
	ruby__format_name(buf, sizeof(buf), NULL, NULL, 0);
	CHECK_EQ_STR(buf, "? (?)");
}

TEST(ruby_st_find_and_block_names)
{
	/* st_table entries { hash, key, record }: a deleted one (hash all ones) is skipped. */
	uint64_t ents[9] = { ~0ULL, 0xf01, 111, 7, 0xd563, 0xb, 9, 0xf01, 222 };
	uint64_t v = 0;
	char buf[64];

	CHECK_EQ_INT(ruby__st_find((const uint8_t *)ents, 3, 0xf01, &v), 0);
	CHECK_EQ_INT(v, 222);
	CHECK_EQ_INT(ruby__st_find((const uint8_t *)ents, 3, 0xd563, &v), 0);
	CHECK_EQ_INT(v, 0xb);
	CHECK_EQ_INT(ruby__st_find((const uint8_t *)ents, 2, 0xf01, &v), -ENOENT);
	CHECK_EQ_INT(ruby__st_find((const uint8_t *)ents, 0, 0xf01, &v), -ENOENT);

	CHECK_EQ_INT(ruby__qualify_block(buf, sizeof(buf), "block in mid", "mid", "Outer#mid"), 0);
	CHECK_EQ_STR(buf, "block in Outer#mid");
	CHECK_EQ_INT(ruby__qualify_block(buf, sizeof(buf), "block (2 levels) in mid", "mid",
					 "M::Outer.mid"), 0);
	CHECK_EQ_STR(buf, "block (2 levels) in M::Outer.mid");
	strcpy(buf, "kept");
	/* Not its method's block (a label made by define_method, a mismatch): left alone. */
	CHECK_EQ_INT(ruby__qualify_block(buf, sizeof(buf), "block in mid", "amid", "X#amid"),
		     -EINVAL);
	CHECK_EQ_INT(ruby__qualify_block(buf, sizeof(buf), "block inmid", "mid", "X#mid"),
		     -EINVAL);
	CHECK_EQ_INT(ruby__qualify_block(buf, sizeof(buf), "mid", "mid", "X#mid"), -EINVAL);
	CHECK_EQ_STR(buf, "kept");
	CHECK_EQ_INT(ruby__qualify_block(buf, 12, "block in mid", "mid", "Outer#mid"),
		     -ENAMETOOLONG);
}

TEST(ruby_frame_encoding)
{
	uint64_t iseq = 0x7fe78c8d2b30ULL, v = RUBY_FRAME(iseq, 12);

	CHECK(RUNTIME_FRAME_IS(v) && RUBY_FRAME_IS(v));
	CHECK(!PHP_FRAME_IS(v) && !PY_FRAME_IS(v));
	CHECK(!RUBY_FRAME_IS(PHP_FRAME(iseq, 12)) && !RUBY_FRAME_IS(RUNTIME_FRAME(iseq, 12)));
	CHECK_EQ_INT(RUNTIME_FRAME_CODE(v), iseq);
	CHECK_EQ_INT(RUNTIME_FRAME_INSTR(v), 12);
	/* Tag 4: still never a canonical user or kernel address. */
	CHECK(!RUNTIME_FRAME_IS(0x7fffffffe000ULL) && !RUNTIME_FRAME_IS(0xffffffff81000000ULL));
}

/* An RString as 3.1 lays it out: flags, klass, then embedded bytes or { len, ptr }. */
struct fake_rstr {
	uint64_t flags, klass;
	union {
		char ary[24];
		struct {
			uint64_t len;
			const char *ptr;
			uint64_t capa;
		} heap;
	};
};

static void fake_rstr(struct fake_rstr *s, const char *text, bool heap)
{
	size_t n = strlen(text);

	memset(s, 0, sizeof(*s));
	s->flags = 0x05;	/* T_STRING */
	if (heap) {
		s->flags |= 1 << 13;	/* RSTRING_NOEMBED */
		s->heap.len = n;
		s->heap.ptr = text;
	} else {
		s->flags |= (uint64_t)n << 14;
		memcpy(s->ary, text, n);
	}
}

TEST(ruby_rstring)
{
	struct fake_rstr s;
	uint8_t hdr[40];
	uint64_t len, ptr;
	bool emb;

	fake_rstr(&s, "block in mid", false);
	memcpy(hdr, &s, 40);
	CHECK_EQ_INT(ruby__rstring(hdr, &emb, &len, &ptr), 0);
	CHECK(emb && len == 12 && !memcmp(hdr + 16, "block in mid", 12));
	fake_rstr(&s, "/work/tests/workloads/rbchain.rb", true);
	memcpy(hdr, &s, 40);
	CHECK_EQ_INT(ruby__rstring(hdr, &emb, &len, &ptr), 0);
	CHECK(!emb && len == 32 && ptr == (uintptr_t)s.heap.ptr);
	/* An Array, a Symbol (immediate flags), an embedded length past the room: no String. */
	s.flags = 0x07;
	memcpy(hdr, &s, 40);
	CHECK_EQ_INT(ruby__rstring(hdr, &emb, &len, &ptr), -EPROTO);
	s.flags = 0x05 | 30ULL << 14;
	memcpy(hdr, &s, 40);
	CHECK_EQ_INT(ruby__rstring(hdr, &emb, &len, &ptr), -EPROTO);
}

/*
 * CRuby's succinct index table (iseq.c succ_index_table_create), built here from its
 * description: 6 words of 9 7-bit ranks for positions 0..53, then blocks of 512 positions
 * { unsigned rank; uint64_t small_block_ranks (7 x 9 bits); uint64_t bits[8]; }.
 */
static size_t build_succ(uint8_t *out, size_t cap, const uint32_t *pos, uint32_t size,
			 uint32_t max_pos)
{
	uint32_t r = 0, i, j, k, nblocks;
	size_t len = 48;

	memset(out, 0, cap);
	for (j = 0; j < 6; j++) {
		uint64_t w = 0;

		for (i = 0; i < 9; i++) {
			if (r < size && pos[r] == j * 9 + i)
				r++;
			w |= (uint64_t)r << (7 * i);
		}
		memcpy(out + j * 8, &w, 8);
	}
	nblocks = max_pos < 54 ? 0 : (max_pos - 54 + 511) / 512;
	for (k = 0; k < nblocks; k++) {
		uint8_t *b = out + 48 + k * 80;
		uint64_t small = 0;
		uint32_t small_rank = 0;

		memcpy(b, &r, 4);
		for (j = 0; j < 8; j++) {
			uint64_t bits = 0;

			if (j)
				small |= (uint64_t)small_rank << (9 * (j - 1));
			for (i = 0; i < 64; i++) {
				if (r < size && pos[r] == k * 512 + j * 64 + i + 54) {
					bits |= 1ULL << i;
					r++;
				}
			}
			memcpy(b + 16 + j * 8, &bits, 8);
			small_rank += __builtin_popcountll(bits);
		}
		memcpy(b + 8, &small, 8);
		len += 80;
	}
	return len;
}

TEST(ruby_line_table)
{
	/* Entries starting at these instruction positions, and their lines. */
	static const uint32_t pos[] = { 0, 3, 9, 53, 54, 60, 117, 118, 600, 1100 };
	static const uint32_t lines[] = { 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 };
	static uint8_t succ[48 + 3 * 80];
	uint32_t n = 10, x, want, k;
	size_t len = build_succ(succ, sizeof(succ), pos, n, 1200);

	CHECK_EQ_INT(len, 48 + 3 * 80);
	for (x = 0; x < 1200; x++) {
		for (k = 0; k + 1 < n && pos[k + 1] <= x; k++)
			;
		want = lines[k];
		if (ruby__line_of(lines, n, NULL, succ, len, x) != want ||
		    ruby__line_of(lines, n, pos, NULL, 0, x) != want) {
			CHECK_EQ_INT(ruby__line_of(lines, n, NULL, succ, len, x), want);
			CHECK_EQ_INT(ruby__line_of(lines, n, pos, NULL, 0, x), want);
			break;
		}
	}
	CHECK_EQ_INT(x, 1200);
	/* One entry: its line whatever the position; none, or a table cut short: 0. */
	CHECK_EQ_INT(ruby__line_of(lines, 1, NULL, NULL, 0, 77), 10);
	CHECK_EQ_INT(ruby__line_of(lines, 0, NULL, succ, len, 0), 0);
	CHECK_EQ_INT(ruby__line_of(lines, n, NULL, succ, 48, 700), 0);
}

/*
 * The layout is checked on what it leads to: an iseq read from this process's own memory
 * (fake structures at the 3.1 offsets) is named when its label and path are Strings, refused
 * with -EPROTO when they are not.
 */
TEST(ruby_read_iseq_checks_the_layout)
{
	static struct fake_rstr label, path, realpath, notstr;
	static uint64_t iseq[4], pathary[5];
	static unsigned char body[256] __attribute__((aligned(8)));
	struct ruby_layout l, bad;
	char out[128];
	uint64_t p;
	uint32_t pid = getpid();

	CHECK_EQ_INT(ruby__layout(3, 1, &l), 0);
	fake_rstr(&label, "block in mid", false);
	fake_rstr(&path, "/srv/app.rb", true);
	fake_rstr(&realpath, "/srv/real/app.rb", true);
	memset(body, 0, sizeof(body));
	p = (uintptr_t)body;
	iseq[l.off.iseq_body / 8] = p;
	p = (uintptr_t)&label;
	memcpy(body + l.loc_label, &p, 8);
	p = (uintptr_t)&path;
	memcpy(body + l.loc_pathobj, &p, 8);
	p = 11 << 1 | 1;	/* INT2FIX(11) */
	memcpy(body + l.loc_first_lineno, &p, 8);
	CHECK_EQ_INT(ruby__read_iseq(pid, &l, (uintptr_t)iseq, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "block in mid (/srv/app.rb)");

	/* pathobj an embedded Array [path, realpath]: its path. */
	pathary[0] = 0x07 | 1 << 13 | 2 << 15;
	pathary[2] = (uintptr_t)&path;
	pathary[3] = (uintptr_t)&realpath;
	p = (uintptr_t)pathary;
	memcpy(body + l.loc_pathobj, &p, 8);
	CHECK_EQ_INT(ruby__read_iseq(pid, &l, (uintptr_t)iseq, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "block in mid (/srv/app.rb)");

	/* A label that is not a String: the offsets do not fit. */
	memset(&notstr, 0, sizeof(notstr));
	notstr.flags = 0x07;
	p = (uintptr_t)&notstr;
	memcpy(body + l.loc_label, &p, 8);
	CHECK_EQ_INT(ruby__read_iseq(pid, &l, (uintptr_t)iseq, out, sizeof(out)), -EPROTO);
	/* A corrupted table (the label's offset a word off, first_lineno read as it): refused. */
	p = (uintptr_t)&label;
	memcpy(body + l.loc_label, &p, 8);
	bad = l;
	bad.loc_label += 8;
	CHECK_EQ_INT(ruby__read_iseq(pid, &bad, (uintptr_t)iseq, out, sizeof(out)), -EPROTO);
	bad.loc_label = l.loc_pathobj;
	bad.loc_pathobj = l.loc_label;
	p = (uintptr_t)pathary;
	memcpy(body + l.loc_pathobj, &p, 8);
	CHECK_EQ_INT(ruby__read_iseq(pid, &bad, (uintptr_t)iseq, out, sizeof(out)), -EPROTO);
}

/*
 * The live check on a fake interpreter in this process's memory, at the 3.1 offsets: a ractor
 * running an ec of a thread, one control frame. Ruby's start-up runs with the ractor's thread
 * list still zeroed, then empty: nothing to check yet (-EAGAIN), never a layout that does not
 * fit (stop 29's CI: a process refused at start-up, its run without Ruby frames). A list
 * without the running thread, a frame without a frame magic: -EPROTO. A named frame: 0.
 */
TEST(ruby_check_live_waits_for_start_up)
{
	static uint64_t ractor[512], ec[64], th[128], other[2], stack[256], env[4], iseq[4];
	static unsigned char body[256] __attribute__((aligned(8)));
	static struct fake_rstr label, path;
	struct ruby_layout l;
	uint64_t mr = (uintptr_t)ractor, head, p, *cfp;
	uint32_t pid = getpid();

	CHECK_EQ_INT(ruby__layout(3, 1, &l), 0);
	ractor[l.off.ractor_running_ec / 8] = (uintptr_t)ec;
	ec[0] = (uintptr_t)stack;
	ec[1] = 256;
	cfp = (uint64_t *)((char *)stack + sizeof(stack) - l.off.cfp_size);
	ec[2] = (uintptr_t)cfp;
	ec[l.off.ec_thread / 8] = (uintptr_t)th;
	th[l.off.th_ec / 8] = (uintptr_t)ec;
	cfp[l.off.cfp_ep / 8] = (uintptr_t)env;
	env[0] = 0x11110001;	/* VM_FRAME_MAGIC_METHOD */
	head = (uintptr_t)ractor + l.off.ractor_threads;

	/* Start-up: the list not initialised, then empty. */
	CHECK_EQ_INT(ruby__check_live(pid, &l, (uintptr_t)&mr), -EAGAIN);
	ractor[l.off.ractor_threads / 8] = head;
	CHECK_EQ_INT(ruby__check_live(pid, &l, (uintptr_t)&mr), -EAGAIN);
	/* A thread list without the running thread: the offsets do not fit. */
	ractor[l.off.ractor_threads / 8] = (uintptr_t)other;
	other[0] = head;
	CHECK_EQ_INT(ruby__check_live(pid, &l, (uintptr_t)&mr), -EPROTO);
	/* The running thread listed; its frame has no iseq: nothing named yet. */
	ractor[l.off.ractor_threads / 8] = (uintptr_t)th;
	th[0] = head;
	CHECK_EQ_INT(ruby__check_live(pid, &l, (uintptr_t)&mr), -EAGAIN);
	/* A frame whose env does not start with a frame magic. */
	env[0] = 0x1234;
	CHECK_EQ_INT(ruby__check_live(pid, &l, (uintptr_t)&mr), -EPROTO);
	/* A method frame with a readable iseq: the layout fits. */
	env[0] = 0x11110001;
	fake_rstr(&label, "leaf", false);
	fake_rstr(&path, "/srv/app.rb", true);
	iseq[l.off.iseq_body / 8] = (uintptr_t)body;
	p = (uintptr_t)&label;
	memcpy(body + l.loc_label, &p, 8);
	p = (uintptr_t)&path;
	memcpy(body + l.loc_pathobj, &p, 8);
	p = 3 << 1 | 1;
	memcpy(body + l.loc_first_lineno, &p, 8);
	cfp[l.off.cfp_iseq / 8] = (uintptr_t)iseq;
	CHECK_EQ_INT(ruby__check_live(pid, &l, (uintptr_t)&mr), 0);
	/* No ractor yet, no running ec yet. */
	ractor[l.off.ractor_running_ec / 8] = 0;
	CHECK_EQ_INT(ruby__check_live(pid, &l, (uintptr_t)&mr), -EAGAIN);
	mr = 0;
	CHECK_EQ_INT(ruby__check_live(pid, &l, (uintptr_t)&mr), -EAGAIN);
}
