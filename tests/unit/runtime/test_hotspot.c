// SPDX-License-Identifier: GPL-2.0-only
/*
 * HotSpot frames, the pure parts: the VMStructs/VMTypes parser and the code cache walk, on a
 * fake JVM built in a buffer with JDK 17's entry layout (VMStructEntry 48 bytes, VMTypeEntry
 * 40, VMIntConstantEntry 16) and offsets that are not JDK 17's, so that nothing read can come
 * from a guess.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "base/util.h"
#include "harness.h"
#include "runtime/hotspot.h"

#define BASE 0x100000ULL
#define MEMSZ (1 << 20)

struct fake {
	uint8_t mem[MEMSZ];
	size_t top;		/* bump allocator */
	uint64_t syms[HS_NR_SYMS];
	uint64_t structs, types, ints;
	size_t nr_structs, nr_types, nr_ints;
	int reads;
};

static struct fake F;

static int rd(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct fake *f = ctx;

	f->reads++;
	if (addr < BASE || addr + len > BASE + MEMSZ || addr + len < addr)
		return -EFAULT;
	memcpy(buf, f->mem + (addr - BASE), len);
	return 0;
}

static uint64_t alloc(struct fake *f, size_t len, size_t align)
{
	uint64_t a;

	f->top = (f->top + align - 1) & ~(align - 1);
	a = BASE + f->top;
	f->top += len;
	return a;
}

static void put(struct fake *f, uint64_t addr, const void *v, size_t len)
{
	memcpy(f->mem + (addr - BASE), v, len);
}

static void put64(struct fake *f, uint64_t addr, uint64_t v)
{
	put(f, addr, &v, 8);
}

static void put32(struct fake *f, uint64_t addr, uint32_t v)
{
	put(f, addr, &v, 4);
}

static uint64_t str(struct fake *f, const char *s)
{
	uint64_t a = alloc(f, strlen(s) + 1, 1);

	put(f, a, s, strlen(s) + 1);
	return a;
}

/* A Symbol with _length at 2 and _body at 10 (not JDK 17's 4 and 6). */
static uint64_t symbol(struct fake *f, const char *s)
{
	uint64_t a = alloc(f, 10 + strlen(s), 8);
	uint16_t n = strlen(s);

	put(f, a + 2, &n, 2);
	put(f, a + 10, s, n);
	return a;
}

static void field(struct fake *f, const char *type, const char *name, int is_static,
		  uint64_t off_or_addr)
{
	uint64_t e = f->structs + 48 * f->nr_structs++;

	put64(f, e, str(f, type));
	put64(f, e + 8, str(f, name));
	put32(f, e + 24, is_static);
	if (is_static)
		put64(f, e + 40, off_or_addr);
	else
		put64(f, e + 32, off_or_addr);
}

static void type(struct fake *f, const char *name, uint64_t size)
{
	uint64_t e = f->types + 40 * f->nr_types++;

	put64(f, e, str(f, name));
	put64(f, e + 32, size);
}

static void int_const(struct fake *f, const char *name, int32_t v)
{
	uint64_t e = f->ints + 16 * f->nr_ints++;

	put64(f, e, str(f, name));
	put32(f, e + 8, v);
}

/* Offsets of the fake JVM (all unlike JDK 17's). */
enum {
	O_HEAP_MEMORY = 16, O_HEAP_SEGMAP = 200, O_HEAP_LOG2 = 400,
	O_VS_LOWB = 8, O_VS_HIGHB = 24, O_VS_LOW = 40,
	O_GA_LEN = 4, O_GA_DATA = 16,
	O_BLOB_NAME = 64, O_BLOB_SIZE = 20, O_BLOB_FRAME = 36, O_CM_METHOD = 120,
	O_M_CONST = 24, O_CM_CONSTANTS = 16, O_CM_NAME = 40, O_CM_SIG = 42,
	O_CP_HOLDER = 32, O_K_NAME = 48,
	O_SQ_BUFFER = 40, O_SQ_LIMIT = 52,
	HB_SIZE = 32, CP_SIZE = 96, LOG2 = 6,
};

struct jvm {
	uint64_t heap_low, heap_high, segmap;
	uint64_t nm_pc, interp_pc, free_pc;
	uint64_t method, interp_code;
};

/* Marks the segment map for a block of n segments at segment first (hops of at most 3). */
static void mark(struct fake *f, uint64_t segmap, size_t first, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t v = i ? (uint8_t)((i - 1) % 3 + 1) : 0;

		put(f, segmap + first + i, &v, 1);
	}
}

static void build(struct fake *f, struct jvm *j, bool with_frame_size, bool ready,
		  bool with_interp)
{
	uint64_t vars, cc_heaps, cc_low, cc_high, ga, data, heap, blk, blob, m, cm, cp, k;
	uint64_t ai_code, sq;
	size_t i;

	memset(f, 0, sizeof(*f));
	f->structs = alloc(f, 48 * 64, 8);
	f->types = alloc(f, 40 * 16, 8);
	f->ints = alloc(f, 16 * 8, 8);
	vars = alloc(f, 8 * HS_NR_SYMS, 8);
	for (i = 0; i < HS_NR_SYMS; i++)
		f->syms[i] = vars + 8 * i;
	cc_heaps = alloc(f, 8, 8);
	cc_low = alloc(f, 8, 8);
	cc_high = alloc(f, 8, 8);
	ai_code = alloc(f, 8, 8);
	sq = alloc(f, 64, 8);

	field(f, "Noise", "_x", 0, 1);
	field(f, "CodeCache", "_heaps", 1, cc_heaps);
	field(f, "CodeCache", "_low_bound", 1, cc_low);
	field(f, "CodeCache", "_high_bound", 1, cc_high);
	field(f, "CodeHeap", "_memory", 0, O_HEAP_MEMORY);
	field(f, "CodeHeap", "_segmap", 0, O_HEAP_SEGMAP);
	field(f, "CodeHeap", "_log2_segment_size", 0, O_HEAP_LOG2);
	field(f, "VirtualSpace", "_low_boundary", 0, O_VS_LOWB);
	field(f, "VirtualSpace", "_high_boundary", 0, O_VS_HIGHB);
	field(f, "VirtualSpace", "_low", 0, O_VS_LOW);
	field(f, "GrowableArrayBase", "_len", 0, O_GA_LEN);
	field(f, "GrowableArray<int>", "_data", 0, O_GA_DATA);
	field(f, "CodeBlob", "_name", 0, O_BLOB_NAME);
	field(f, "CodeBlob", "_size", 0, O_BLOB_SIZE);
	if (with_frame_size)
		field(f, "CodeBlob", "_frame_size", 0, O_BLOB_FRAME);
	/* JDK 21 has nmethod::_method: the alternative is taken. */
	field(f, "nmethod", "_method", 0, O_CM_METHOD);
	field(f, "Method", "_constMethod", 0, O_M_CONST);
	field(f, "ConstMethod", "_constants", 0, O_CM_CONSTANTS);
	field(f, "ConstMethod", "_name_index", 0, O_CM_NAME);
	field(f, "ConstMethod", "_signature_index", 0, O_CM_SIG);
	field(f, "ConstantPool", "_pool_holder", 0, O_CP_HOLDER);
	field(f, "Klass", "_name", 0, O_K_NAME);
	field(f, "Symbol", "_length", 0, 2);
	field(f, "Symbol", "_body", 0, 10);
	if (with_interp) {
		field(f, "AbstractInterpreter", "_code", 1, ai_code);
		field(f, "StubQueue", "_stub_buffer", 0, O_SQ_BUFFER);
		field(f, "StubQueue", "_buffer_limit", 0, O_SQ_LIMIT);
		int_const(f, "frame::interpreter_frame_sender_sp_offset", -1);
		int_const(f, "frame::interpreter_frame_last_sp_offset", -2);
	}
	int_const(f, "Noise", 7);
	field(f, "Noise", "_y", 0, 2);
	type(f, "Noise", 8);
	type(f, "HeapBlock", HB_SIZE);
	type(f, "ConstantPool", CP_SIZE);

	put64(f, f->syms[HS_SYM_STRUCTS], f->structs);
	put64(f, f->syms[HS_SYM_TYPES], f->types);
	put64(f, f->syms[HS_SYM_INTS], f->ints);
	if (ready) {
		put64(f, f->syms[HS_SYM_I_NAME], 0);
		put64(f, f->syms[HS_SYM_I_VALUE], 8);
		put64(f, f->syms[HS_SYM_I_STRIDE], 16);
		put64(f, f->syms[HS_SYM_S_TYPE], 0);
		put64(f, f->syms[HS_SYM_S_FIELD], 8);
		put64(f, f->syms[HS_SYM_S_STATIC], 24);
		put64(f, f->syms[HS_SYM_S_OFFSET], 32);
		put64(f, f->syms[HS_SYM_S_ADDRESS], 40);
		put64(f, f->syms[HS_SYM_S_STRIDE], 48);
		put64(f, f->syms[HS_SYM_T_TYPE], 0);
		put64(f, f->syms[HS_SYM_T_SIZE], 32);
		put64(f, f->syms[HS_SYM_T_STRIDE], 40);
	}

	/* One code heap of 256 segments of 64 bytes. */
	j->heap_low = alloc(f, 256 << LOG2, 1 << LOG2);
	j->heap_high = j->heap_low + (256 << LOG2);
	j->segmap = alloc(f, 256, 8);
	memset(f->mem + (j->segmap - BASE), 0xff, 256);
	heap = alloc(f, 512, 8);
	put64(f, heap + O_HEAP_MEMORY + O_VS_LOWB, j->heap_low);
	put64(f, heap + O_HEAP_MEMORY + O_VS_HIGHB, j->heap_high);
	put64(f, heap + O_HEAP_SEGMAP + O_VS_LOW, j->segmap);
	put32(f, heap + O_HEAP_LOG2, LOG2);
	data = alloc(f, 8, 8);
	put64(f, data, heap);
	ga = alloc(f, 32, 8);
	put32(f, ga + O_GA_LEN, 1);
	put64(f, ga + O_GA_DATA, data);
	put64(f, cc_heaps, ga);
	put64(f, cc_low, j->heap_low);
	put64(f, cc_high, j->heap_high);

	/* The interpreter: segments 0-9, no frame size. */
	mark(f, j->segmap, 0, 10);
	blob = j->heap_low + HB_SIZE;
	put32(f, blob + O_BLOB_SIZE, 10 * 64 - HB_SIZE);
	put64(f, blob + O_BLOB_NAME, str(f, "Interpreter"));
	j->interp_pc = j->heap_low + 5 * 64 + 3;
	j->interp_code = blob + 128;
	put64(f, ai_code, sq);
	put64(f, sq + O_SQ_BUFFER, j->interp_code);
	put32(f, sq + O_SQ_LIMIT, 200);

	/* A compiled method: segments 20-39, frame size 6 words. */
	mark(f, j->segmap, 20, 20);
	blk = j->heap_low + 20 * 64;
	blob = blk + HB_SIZE;
	put32(f, blob + O_BLOB_SIZE, 20 * 64 - HB_SIZE);
	put32(f, blob + O_BLOB_FRAME, 6);
	put64(f, blob + O_BLOB_NAME, str(f, "nmethod"));
	m = alloc(f, 64, 8);
	cm = alloc(f, 64, 8);
	cp = alloc(f, CP_SIZE + 8 * 8, 8);
	k = alloc(f, 64, 8);
	put64(f, blob + O_CM_METHOD, m);
	j->method = m;
	put64(f, m + O_M_CONST, cm);
	put64(f, cm + O_CM_CONSTANTS, cp);
	put(f, cm + O_CM_NAME, &(uint16_t){ 5 }, 2);
	put64(f, cp + CP_SIZE + 5 * 8, symbol(f, "mid"));
	put64(f, cp + O_CP_HOLDER, k);
	put64(f, k + O_K_NAME, symbol(f, "com/example/Hot"));
	j->nm_pc = j->heap_low + 37 * 64 + 9;	/* 17 segments in: 7 hops */
	j->free_pc = j->heap_low + 100 * 64;
}

TEST(hotspot_parse_reads_the_layout)
{
	struct hotspot_layout lo;
	struct jvm j;
	const char *missing = NULL;

	build(&F, &j, true, true, true);
	CHECK_EQ_INT(hotspot__parse(rd, &F, F.syms, &lo, &missing), 0);
	CHECK_EQ_INT(lo.heap_memory, O_HEAP_MEMORY);
	CHECK_EQ_INT(lo.heap_segmap, O_HEAP_SEGMAP);
	CHECK_EQ_INT(lo.heap_log2, O_HEAP_LOG2);
	CHECK_EQ_INT(lo.vs_low, O_VS_LOW);
	CHECK_EQ_INT(lo.ga_len, O_GA_LEN);
	CHECK_EQ_INT(lo.ga_data, O_GA_DATA);
	CHECK_EQ_INT(lo.blob_frame_size, O_BLOB_FRAME);
	CHECK_EQ_INT(lo.cm_method, O_CM_METHOD);
	CHECK_EQ_INT(lo.cmethod_name, O_CM_NAME);
	CHECK_EQ_INT(lo.sym_body, 10);
	CHECK_EQ_INT(lo.heapblock_size, HB_SIZE);
	CHECK_EQ_INT(lo.cp_size, CP_SIZE);
}

TEST(hotspot_code_cache_names_blobs)
{
	struct hotspot_layout lo;
	struct hotspot_proc hp;
	struct jvm j;
	const char *missing = NULL;
	char out[128];

	build(&F, &j, true, true, true);
	CHECK_EQ_INT(hotspot__parse(rd, &F, F.syms, &lo, &missing), 0);
	CHECK_EQ_INT(hotspot__read_heaps(rd, &F, &lo, &hp), 0);
	CHECK_EQ_INT(hp.nr_heaps, 1);
	CHECK(hp.heaps[0].low == j.heap_low && hp.heaps[0].high == j.heap_high &&
	      hp.heaps[0].segmap == j.segmap);
	CHECK_EQ_INT(hp.log2_seg, LOG2);
	CHECK_EQ_INT(hp.block_hdr, HB_SIZE);
	CHECK_EQ_INT(hp.off_frame_size, O_BLOB_FRAME);
	CHECK_EQ_INT(hp.off_size, O_BLOB_SIZE);
	CHECK(hp.code_start == j.heap_low && hp.code_end == j.heap_high);

	CHECK_EQ_INT(hotspot__name_pc(rd, &F, &lo, &hp, j.nm_pc, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "com.example.Hot.mid");
	CHECK_EQ_INT(hotspot__name_pc(rd, &F, &lo, &hp, j.interp_pc, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "Interpreter");
	CHECK_EQ_INT(hotspot__name_pc(rd, &F, &lo, &hp, j.free_pc, out, sizeof(out)), -ENOENT);
	CHECK_EQ_INT(hotspot__name_pc(rd, &F, &lo, &hp, j.heap_high, out, sizeof(out)), -ENOENT);
	/* The interpreter: its code, the Method* one word below last_sp (-3 words from rbp). */
	CHECK(hp.interp_start == j.interp_code && hp.interp_end == j.interp_code + 200);
	CHECK_EQ_INT(hp.interp_method, -24);
	CHECK_EQ_INT(hotspot__name_method(rd, &F, &lo, j.method, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "com.example.Hot.mid");
	CHECK_EQ_INT(hotspot__name_method(rd, &F, &lo, 0x10, out, sizeof(out)), -EFAULT);
	/* A name cut at the buffer, NUL-terminated. */
	CHECK_EQ_INT(hotspot__name_pc(rd, &F, &lo, &hp, j.nm_pc, out, 8), 0);
	CHECK_EQ_STR(out, "com.exa");
}

TEST(hotspot_without_the_interpreter_layout_names_compiled_code)
{
	struct hotspot_layout lo;
	struct hotspot_proc hp;
	struct jvm j;
	const char *missing = NULL;
	char out[128];

	build(&F, &j, true, true, false);
	CHECK_EQ_INT(hotspot__parse(rd, &F, F.syms, &lo, &missing), 0);
	CHECK_EQ_INT(lo.ai_code, -1);
	CHECK_EQ_INT(hotspot__read_heaps(rd, &F, &lo, &hp), 0);
	CHECK(!hp.interp_method && !hp.interp_start && !hp.interp_end);
	CHECK_EQ_INT(hotspot__name_pc(rd, &F, &lo, &hp, j.nm_pc, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "com.example.Hot.mid");
}

TEST(hotspot_parse_waits_for_a_starting_jvm)
{
	struct hotspot_layout lo;
	struct hotspot_proc hp;
	struct jvm j;
	const char *missing = NULL;

	/* libjvm mapped, its initializers not run: strides 0. */
	build(&F, &j, true, false, true);
	CHECK_EQ_INT(hotspot__parse(rd, &F, F.syms, &lo, &missing), -EAGAIN);
	/* Tables set, the code cache not yet: no heap list. */
	build(&F, &j, true, true, true);
	CHECK_EQ_INT(hotspot__parse(rd, &F, F.syms, &lo, &missing), 0);
	put64(&F, lo.cc_heaps, 0);
	CHECK_EQ_INT(hotspot__read_heaps(rd, &F, &lo, &hp), -EAGAIN);
	/* The code cache set up, the interpreter not generated yet. */
	build(&F, &j, true, true, true);
	CHECK_EQ_INT(hotspot__parse(rd, &F, F.syms, &lo, &missing), 0);
	put64(&F, lo.ai_code, 0);
	CHECK_EQ_INT(hotspot__read_heaps(rd, &F, &lo, &hp), -EAGAIN);
}

TEST(hotspot_parse_names_what_is_missing)
{
	struct hotspot_layout lo;
	struct jvm j;
	const char *missing = NULL;

	build(&F, &j, false, true, true);
	CHECK_EQ_INT(hotspot__parse(rd, &F, F.syms, &lo, &missing), -ENOENT);
	CHECK(missing && !strcmp(missing, "_frame_size"));
	/* An unreadable table: -EFAULT, not a crash. */
	build(&F, &j, true, true, true);
	put64(&F, F.syms[HS_SYM_STRUCTS], 0x10);
	CHECK_EQ_INT(hotspot__parse(rd, &F, F.syms, &lo, &missing), -EFAULT);
}

/* UNSIGNED5 as JDK 17 writes it (CompressedWriteStream::write_int): the reference encoder. */
static size_t u5_put(uint8_t *b, uint32_t v)
{
	size_t n = 0;

	while (n < 4 && v >= 192) {
		b[n++] = 192 + (v - 192) % 64;
		v = (v - 192) / 64;
	}
	b[n++] = v;
	return n;
}

TEST(hotspot_u5_reads_jdk17_compressed_ints)
{
	static const uint32_t vals[] = { 0, 1, 191, 192, 255, 256, 12345, 1u << 20, 0x7fffffff,
					 0xffffffff };
	uint8_t b[64];
	size_t i, n = 0, pos = 0;
	uint32_t v;

	for (i = 0; i < ARRAY_SIZE(vals); i++)
		n += u5_put(b + n, vals[i]);
	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		CHECK_EQ_INT(hotspot__read_u5(b, n, &pos, &v), 0);
		CHECK(v == vals[i]);
	}
	CHECK(pos == n);
	/* 192 takes two bytes (192, 0); cut after the first, it is refused. */
	pos = 0;
	CHECK_EQ_INT(u5_put(b, 192), 2);
	CHECK_EQ_INT(hotspot__read_u5(b, 1, &pos, &v), -EINVAL);
	/* Five high bytes: the fifth ends the number whatever it is. */
	memset(b, 0xff, 8);
	pos = 0;
	CHECK_EQ_INT(hotspot__read_u5(b, 8, &pos, &v), 0);
	CHECK(pos == 5);
}

TEST(hotspot_scope_header_decodes)
{
	struct hotspot_scope s;
	uint8_t b[32];
	size_t n = 3;

	/* Three bytes of noise, then sender 300, method index 2, bci 489 (+1 written). */
	n += u5_put(b + n, 300);
	n += u5_put(b + n, 2);
	n += u5_put(b + n, 490);
	CHECK_EQ_INT(hotspot__scope_decode(b, n, 3, &s), 0);
	CHECK(s.sender == 300 && s.method == 2 && s.bci == 489);
	/* InvocationEntryBci: 0 written. */
	n = 0;
	n += u5_put(b + n, 0);
	n += u5_put(b + n, 1);
	n += u5_put(b + n, 0);
	CHECK_EQ_INT(hotspot__scope_decode(b, n, 0, &s), 0);
	CHECK(!s.sender && s.method == 1 && s.bci == -1);
	/* Cut short. */
	CHECK_EQ_INT(hotspot__scope_decode(b, n - 1, 0, &s), -EINVAL);
	CHECK_EQ_INT(hotspot__scope_decode(b, n, n, &s), -EINVAL);
}

/* A pair as CompressedLineNumberWriteStream::write_pair writes it (deltas from the last). */
static size_t line_put(uint8_t *b, int32_t db, int32_t dl)
{
	size_t n = 0;

	if (db >= 0 && db < 32 && dl >= 0 && dl < 8 && (db || dl)) {
		b[n++] = (db << 3) | dl;
		return n;
	}
	b[n++] = 0xff;
	n += u5_put(b + n, ((uint32_t)db << 1) ^ (uint32_t)(db >> 31));
	n += u5_put(b + n, ((uint32_t)dl << 1) ^ (uint32_t)(dl >> 31));
	return n;
}

TEST(hotspot_line_table_decodes)
{
	uint8_t b[64];
	size_t n = 0;

	/* bci 0 line 14, bci 5 line 15 (packed), bci 489 line 39 (escaped), bci 496 line 14. */
	n += line_put(b + n, 0, 14);
	n += line_put(b + n, 5, 1);
	n += line_put(b + n, 484, 24);
	n += line_put(b + n, 7, -25);
	b[n++] = 0;
	CHECK_EQ_INT(b[3], (5 << 3) | 1);	/* line 14 escaped (3 bytes), then packed */
	CHECK_EQ_INT(hotspot__line_of_bci(b, n, 0), 14);
	CHECK_EQ_INT(hotspot__line_of_bci(b, n, -1), 14);	/* the entry: bci 0's */
	CHECK_EQ_INT(hotspot__line_of_bci(b, n, 5), 15);
	CHECK_EQ_INT(hotspot__line_of_bci(b, n, 100), 15);	/* the pair before it */
	CHECK_EQ_INT(hotspot__line_of_bci(b, n, 489), 39);
	CHECK_EQ_INT(hotspot__line_of_bci(b, n, 500), 14);
	CHECK_EQ_INT(hotspot__line_of_bci(b, n, -5), 0);
	/*
	 * A bci's own pair answers as soon as read (as Method::line_number_from_bci); one
	 * with none needs the whole table: no terminator within the bytes given, or an
	 * escape cut, is nothing.
	 */
	CHECK_EQ_INT(hotspot__line_of_bci(b, 4, 5), 15);
	CHECK_EQ_INT(hotspot__line_of_bci(b, n - 1, 100), 0);
	CHECK_EQ_INT(hotspot__line_of_bci(b, 5, 100), 0);
	/* Garbage that never ends: bounded by its length. */
	memset(b, 0xfe, sizeof(b));
	CHECK_EQ_INT(hotspot__line_of_bci(b, sizeof(b), 3), 0);
}

TEST(hotspot_pcdesc_search)
{
	struct hotspot_layout lo = { .pcd_pc = 4, .pcd_scope = 12, .pcd_size = 20 };
	/* Sentinel, three with scopes, one without, the end's without. */
	static const int32_t pcs[][2] = { { -1, 0 }, { 88, 24 }, { 146, 29 }, { 163, 47 },
					  { 200, 0 }, { 1305, 0 } };
	uint64_t at;
	uint32_t sc, i;

	memset(F.mem, 0, 4096);
	F.top = 0;
	at = alloc(&F, 20 * ARRAY_SIZE(pcs), 8);
	for (i = 0; i < ARRAY_SIZE(pcs); i++) {
		put32(&F, at + 20 * i + 4, pcs[i][0]);
		put32(&F, at + 20 * i + 12, pcs[i][1]);
	}
	/* A return address: its own. */
	CHECK_EQ_INT(hotspot__find_pcdesc(rd, &F, &lo, at, ARRAY_SIZE(pcs), 146, &sc), 0);
	CHECK_EQ_INT(sc, 29);
	/* A leaf's PC: the next one. */
	CHECK_EQ_INT(hotspot__find_pcdesc(rd, &F, &lo, at, ARRAY_SIZE(pcs), 0, &sc), 0);
	CHECK_EQ_INT(sc, 24);
	CHECK_EQ_INT(hotspot__find_pcdesc(rd, &F, &lo, at, ARRAY_SIZE(pcs), 147, &sc), 0);
	CHECK_EQ_INT(sc, 47);
	/* Next one without a scope, or past the end: the last before with one. */
	CHECK_EQ_INT(hotspot__find_pcdesc(rd, &F, &lo, at, ARRAY_SIZE(pcs), 170, &sc), 0);
	CHECK_EQ_INT(sc, 47);
	CHECK_EQ_INT(hotspot__find_pcdesc(rd, &F, &lo, at, ARRAY_SIZE(pcs), 5000, &sc), 0);
	CHECK_EQ_INT(sc, 47);
	/* None with a scope before: none. */
	CHECK_EQ_INT(hotspot__find_pcdesc(rd, &F, &lo, at, 1, 0, &sc), -ENOENT);
	CHECK_EQ_INT(hotspot__find_pcdesc(rd, &F, &lo, at, 0, 0, &sc), -ENOENT);
	/* Unreadable: -EFAULT. */
	CHECK_EQ_INT(hotspot__find_pcdesc(rd, &F, &lo, 16, 4, 100, &sc), -EFAULT);
}

/*
 * An interpreted frame (bpf/hotspot.h): the low 16 bits of its bytecode pointer, less the
 * bytecodes' start (after the ConstMethod), are its bci, across a 64 KiB boundary too.
 */
TEST(hotspot_interpreted_frame_line_from_bcp16)
{
	struct hotspot_layout lo = {
		.method_const = 8, .cmethod_constants = 16, .cmethod_name = 40,
		.cmethod_flags = 44, .cmethod_code_size = 46, .cmethod_size = 48,
		.cmethod_hdr = 56, .has_lines_flag = 0x4, .cp_size = 24, .cp_holder = 8,
		.cp_source = 20, .klass_name = 16, .sym_length = 2, .sym_body = 10,
		.scopes = 1, .lines = 1,
	};
	const uint16_t code_size = 0x40;
	struct hotspot_frame fr;
	uint64_t m, cm, cp, k, start;
	uint8_t tab[16];
	size_t n = 0;
	uint16_t v16;
	uint32_t words;

	memset(&F, 0, sizeof(F));
	m = alloc(&F, 32, 8);
	cp = alloc(&F, 24 + 8 * 8, 8);
	k = alloc(&F, 32, 8);
	put64(&F, m + lo.method_const, 0);
	/* The bytecodes start 16 bytes before a 64 KiB boundary. */
	F.top = ((BASE + F.top + 0xffff) & ~0xffffULL) - BASE + 0x10000 - 16 - lo.cmethod_hdr;
	cm = alloc(&F, lo.cmethod_hdr + code_size + sizeof(tab), 8);
	start = cm + lo.cmethod_hdr;
	CHECK_EQ_INT(start & 0xffff, 0xfff0);
	put64(&F, m + lo.method_const, cm);
	put64(&F, cm + lo.cmethod_constants, cp);
	v16 = 5;
	put(&F, cm + lo.cmethod_name, &v16, 2);
	v16 = 0x4;
	put(&F, cm + lo.cmethod_flags, &v16, 2);
	put(&F, cm + lo.cmethod_code_size, &code_size, 2);
	words = (lo.cmethod_hdr + code_size + sizeof(tab)) / 8;
	put32(&F, cm + lo.cmethod_size, words);
	/* bci 0 at line 10, bci 0x20 at line 12. */
	n += line_put(tab + n, 0, 10);
	n += line_put(tab + n, 0x20, 2);
	tab[n++] = 0;
	put(&F, start + code_size, tab, n);
	put64(&F, cp + lo.cp_holder, k);
	put64(&F, k + lo.klass_name, symbol(&F, "com/example/Hot"));
	put64(&F, cp + lo.cp_size + 5 * 8, symbol(&F, "hot"));
	v16 = 6;
	put(&F, cp + lo.cp_source, &v16, 2);
	put64(&F, cp + lo.cp_size + 6 * 8, symbol(&F, "Hot.java"));

	/* bci 0x20: past the boundary, the pointer's low bits are 0x0010. */
	CHECK_EQ_INT(hotspot__name_interpreted(rd, &F, &lo, m, (start + 0x20) & 0xffff, &fr), 0);
	CHECK(!strcmp(fr.name, "com.example.Hot.hot"));
	CHECK(!strcmp(fr.file, "Hot.java"));
	CHECK_EQ_INT(fr.line, 12);
	CHECK_EQ_INT(hotspot__name_interpreted(rd, &F, &lo, m, (start + 5) & 0xffff, &fr), 0);
	CHECK_EQ_INT(fr.line, 10);
	/* Outside the method's bytecodes: named, no line. */
	CHECK_EQ_INT(hotspot__name_interpreted(rd, &F, &lo, m, (start + 0x100) & 0xffff, &fr), 0);
	CHECK(!strcmp(fr.name, "com.example.Hot.hot"));
	CHECK_EQ_INT(fr.line, 0);
	/* Without the layout's line parts: the name alone. */
	lo.lines = 0;
	CHECK_EQ_INT(hotspot__name_interpreted(rd, &F, &lo, m, (start + 0x20) & 0xffff, &fr), 0);
	CHECK(!strcmp(fr.name, "com.example.Hot.hot") && !fr.file[0] && !fr.line);
}
