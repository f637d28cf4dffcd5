// SPDX-License-Identifier: GPL-2.0-only
/*
 * HotSpot JVMs in profiled processes: their self-description, the code heaps for the BPF
 * unwinder, and names of the code cache's blobs.
 *
 * Detection: a mapped file named libjvm.so exporting gHotSpotVMStructs and gHotSpotVMTypes
 * with the layout of their entries (gHotSpotVMStructEntryTypeNameOffset, ...ArrayStride): the
 * tables HotSpot publishes for its serviceability agent (vmStructs.cpp), read from the live
 * process (process_vm_readv, which fails rather than blocks or faults) since the variables are
 * set as libjvm initializes. Every offset used below comes from them (struct hotspot_layout
 * names the VMStructs entries); a JVM missing one is reported once and profiled natively.
 *
 * The code cache: CodeCache::_heaps (a GrowableArray of CodeHeap*), each CodeHeap a reserved
 * range (_memory) with a segment map (_segmap, one byte a segment of 2^_log2_segment_size
 * bytes) that leads from any address back to its block (CodeHeap::find_block_for): the block's
 * HeapBlock header, then its CodeBlob. A blob named "nmethod" is a compiled method:
 * _method -> Method::_constMethod -> ConstMethod::_constants (ConstantPool, whose Symbol*
 * slots follow it) -> _pool_holder (Klass::_name) and ConstMethod::_name_index. Its scopes
 * (optional VMStructs entries): the PcDesc of the PC (binary search of _scopes_pcs_offset..
 * _dependencies_offset), its scope's chain in the scopes data (CompressedReadStream: sender
 * offset, metadata index of the Method*, bci) gives the methods inlined there, root first, and
 * each bci a line from the ConstMethod's compressed line number table. Names are cached
 * per (process, address looked up), bounded, and dropped once the process exited and a
 * profile used them.
 */
#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "base/log.h"
#include "base/util.h"
#include "sample/procs.h"
#include "sample/sampler.h"
#include "unwind/unwinder.h"
#include "aggregate/profile.h"
#include "symbolize/symbolize.h"
#include "runtime/rtbase.h"
#include "runtime/hotspot.h"

const char *const hotspot__sym_names[HS_NR_SYMS] = {
	[HS_SYM_STRUCTS] = "gHotSpotVMStructs",
	[HS_SYM_S_TYPE] = "gHotSpotVMStructEntryTypeNameOffset",
	[HS_SYM_S_FIELD] = "gHotSpotVMStructEntryFieldNameOffset",
	[HS_SYM_S_STATIC] = "gHotSpotVMStructEntryIsStaticOffset",
	[HS_SYM_S_OFFSET] = "gHotSpotVMStructEntryOffsetOffset",
	[HS_SYM_S_ADDRESS] = "gHotSpotVMStructEntryAddressOffset",
	[HS_SYM_S_STRIDE] = "gHotSpotVMStructEntryArrayStride",
	[HS_SYM_TYPES] = "gHotSpotVMTypes",
	[HS_SYM_T_TYPE] = "gHotSpotVMTypeEntryTypeNameOffset",
	[HS_SYM_T_SIZE] = "gHotSpotVMTypeEntrySizeOffset",
	[HS_SYM_T_STRIDE] = "gHotSpotVMTypeEntryArrayStride",
	[HS_SYM_INTS] = "gHotSpotVMIntConstants",
	[HS_SYM_I_NAME] = "gHotSpotVMIntConstantEntryNameOffset",
	[HS_SYM_I_VALUE] = "gHotSpotVMIntConstantEntryValueOffset",
	[HS_SYM_I_STRIDE] = "gHotSpotVMIntConstantEntryArrayStride",
};

#define L(f) offsetof(struct hotspot_layout, f)

/* The optional parts of the layout: what is lost without them. */
enum { HS_REQUIRED, HS_OPT_INTERP, HS_OPT_SCOPES, HS_OPT_LINES };

/*
 * VMStructs entries used; several with one destination are alternatives (JDK versions).
 * Optional ones (for interpreted frames) are -1 when absent.
 */
static const struct {
	const char *type, *field;
	bool is_static;
	size_t dest;
	int optional;
} fields[] = {
	{ "CodeCache", "_heaps", true, L(cc_heaps) },
	{ "CodeCache", "_low_bound", true, L(cc_low) },
	{ "CodeCache", "_high_bound", true, L(cc_high) },
	{ "CodeHeap", "_memory", false, L(heap_memory) },
	{ "CodeHeap", "_segmap", false, L(heap_segmap) },
	{ "CodeHeap", "_log2_segment_size", false, L(heap_log2) },
	{ "VirtualSpace", "_low_boundary", false, L(vs_low_boundary) },
	{ "VirtualSpace", "_high_boundary", false, L(vs_high_boundary) },
	{ "VirtualSpace", "_low", false, L(vs_low) },
	{ "GrowableArrayBase", "_len", false, L(ga_len) },
	{ "GrowableArray<int>", "_len", false, L(ga_len) },
	{ "GrowableArray<int>", "_data", false, L(ga_data) },
	{ "CodeBlob", "_name", false, L(blob_name) },
	{ "CodeBlob", "_size", false, L(blob_size) },
	{ "CodeBlob", "_frame_size", false, L(blob_frame_size) },
	{ "CompiledMethod", "_method", false, L(cm_method) },
	{ "nmethod", "_method", false, L(cm_method) },
	{ "Method", "_constMethod", false, L(method_const) },
	{ "ConstMethod", "_constants", false, L(cmethod_constants) },
	{ "ConstMethod", "_name_index", false, L(cmethod_name) },
	{ "ConstMethod", "_signature_index", false, L(cmethod_sig) },
	{ "ConstantPool", "_pool_holder", false, L(cp_holder) },
	{ "Klass", "_name", false, L(klass_name) },
	{ "Symbol", "_length", false, L(sym_length) },
	{ "Symbol", "_body", false, L(sym_body) },
	{ "AbstractInterpreter", "_code", true, L(ai_code), HS_OPT_INTERP },
	{ "StubQueue", "_stub_buffer", false, L(sq_buffer), HS_OPT_INTERP },
	{ "StubQueue", "_buffer_limit", false, L(sq_limit), HS_OPT_INTERP },
	{ "CodeBlob", "_code_begin", false, L(blob_code_begin), HS_OPT_SCOPES },
	{ "CompiledMethod", "_scopes_data_begin", false, L(cm_scopes_data), HS_OPT_SCOPES },
	{ "nmethod", "_metadata_offset", false, L(nm_metadata), HS_OPT_SCOPES },
	{ "nmethod", "_scopes_pcs_offset", false, L(nm_scopes_pcs), HS_OPT_SCOPES },
	{ "nmethod", "_dependencies_offset", false, L(nm_deps), HS_OPT_SCOPES },
	{ "PcDesc", "_pc_offset", false, L(pcd_pc), HS_OPT_SCOPES },
	{ "PcDesc", "_scope_decode_offset", false, L(pcd_scope), HS_OPT_SCOPES },
	{ "ConstMethod", "_flags", false, L(cmethod_flags), HS_OPT_LINES },
	{ "ConstMethod", "_code_size", false, L(cmethod_code_size), HS_OPT_LINES },
	{ "ConstMethod", "_constMethod_size", false, L(cmethod_size), HS_OPT_LINES },
	{ "ConstantPool", "_source_file_name_index", false, L(cp_source), HS_OPT_LINES },
};

/* The int constants used (optional): the interpreter's frame layout, line tables. */
static const struct {
	const char *name;
	size_t dest;
	int optional;
} ints[] = {
	{ "frame::interpreter_frame_last_sp_offset", L(last_sp_offset), HS_OPT_INTERP },
	{ "ConstMethod::_has_linenumber_table", L(has_lines_flag), HS_OPT_LINES },
};

static const struct {
	const char *type;
	size_t dest;
	int optional;
} types[] = {
	{ "HeapBlock", L(heapblock_size) },
	{ "ConstantPool", L(cp_size) },
	{ "PcDesc", L(pcd_size), HS_OPT_SCOPES },
	{ "ConstMethod", L(cmethod_hdr), HS_OPT_LINES },
};

/* Layout fields, in order: a bit each for "found". */
#define HS_NR_LAYOUT (sizeof(struct hotspot_layout) / sizeof(int64_t))

/* Entries read at most from either table (JDK 17 has ~1900 fields, ~800 types). */
#define HS_MAX_ENTRIES 20000
#define HS_NAME_MAX 128

static int rd_u64(hotspot_read_fn rd, void *ctx, uint64_t addr, uint64_t *v)
{
	return rd(ctx, addr, v, 8);
}

/*
 * A C string at addr into buf (NUL-terminated, cut at len): read in aligned 32-byte chunks,
 * so that no read crosses into a page the string does not reach. 0 or -EFAULT.
 */
static int rd_cstr(hotspot_read_fn rd, void *ctx, uint64_t addr, char *buf, size_t len)
{
	size_t pos = 0;

	while (pos + 1 < len) {
		char chunk[32];
		size_t n = 32 - (addr & 31), i;

		if (rd(ctx, addr, chunk, n))
			return -EFAULT;
		for (i = 0; i < n && pos + 1 < len; i++) {
			buf[pos++] = chunk[i];
			if (!chunk[i])
				return 0;
		}
		addr += n;
	}
	buf[pos] = 0;
	return 0;
}

/* An optional part of the layout lacks an entry: not used. */
static void part_off(struct hotspot_layout *lo, int part)
{
	if (part == HS_OPT_SCOPES)
		lo->scopes = lo->lines = 0;
	else if (part == HS_OPT_LINES)
		lo->lines = 0;
}

/* Whether a field of len bytes at off is inside a structure of size bytes. */
static bool in_struct(int64_t off, int64_t len, int64_t size)
{
	return off >= 0 && off + len <= size;
}

int hotspot__parse(hotspot_read_fn rd, void *ctx, const uint64_t syms[HS_NR_SYMS],
		   struct hotspot_layout *lo, const char **missing)
{
	uint64_t v[HS_NR_SYMS], e, last_type = 0;
	bool found[HS_NR_LAYOUT] = { false };
	char tname[HS_NAME_MAX] = "", fname[HS_NAME_MAX];
	uint8_t ent[256];
	size_t i, k;

	memset(lo, 0, sizeof(*lo));
	lo->ai_code = lo->sq_buffer = lo->sq_limit = lo->last_sp_offset = -1;
	for (i = 0; i < HS_NR_SYMS; i++)
		if (rd_u64(rd, ctx, syms[i], &v[i]))
			return -EFAULT;
	if (!v[HS_SYM_STRUCTS] || !v[HS_SYM_TYPES] || !v[HS_SYM_S_STRIDE] ||
	    !v[HS_SYM_T_STRIDE] || !v[HS_SYM_INTS] || !v[HS_SYM_I_STRIDE])
		return -EAGAIN;
	if (v[HS_SYM_I_STRIDE] > sizeof(ent) || v[HS_SYM_I_NAME] + 8 > v[HS_SYM_I_STRIDE] ||
	    v[HS_SYM_I_VALUE] + 4 > v[HS_SYM_I_STRIDE])
		return -EINVAL;
	if (v[HS_SYM_S_STRIDE] > sizeof(ent) || v[HS_SYM_T_STRIDE] > sizeof(ent) ||
	    v[HS_SYM_S_TYPE] + 8 > v[HS_SYM_S_STRIDE] || v[HS_SYM_S_FIELD] + 8 > v[HS_SYM_S_STRIDE] ||
	    v[HS_SYM_S_STATIC] + 4 > v[HS_SYM_S_STRIDE] ||
	    v[HS_SYM_S_OFFSET] + 8 > v[HS_SYM_S_STRIDE] ||
	    v[HS_SYM_S_ADDRESS] + 8 > v[HS_SYM_S_STRIDE] ||
	    v[HS_SYM_T_TYPE] + 8 > v[HS_SYM_T_STRIDE] || v[HS_SYM_T_SIZE] + 8 > v[HS_SYM_T_STRIDE])
		return -EINVAL;
	for (k = 0, e = v[HS_SYM_STRUCTS]; k < HS_MAX_ENTRIES; k++, e += v[HS_SYM_S_STRIDE]) {
		uint64_t tp, fp, off, addr;
		int32_t is_static;

		if (rd(ctx, e, ent, v[HS_SYM_S_STRIDE]))
			return -EFAULT;
		memcpy(&tp, ent + v[HS_SYM_S_TYPE], 8);
		if (!tp)
			break;	/* the end: an entry with no type name */
		memcpy(&fp, ent + v[HS_SYM_S_FIELD], 8);
		memcpy(&is_static, ent + v[HS_SYM_S_STATIC], 4);
		memcpy(&off, ent + v[HS_SYM_S_OFFSET], 8);
		memcpy(&addr, ent + v[HS_SYM_S_ADDRESS], 8);
		/* Entries come grouped by type: its name is read once a group. */
		if (tp != last_type) {
			if (rd_cstr(rd, ctx, tp, tname, sizeof(tname)))
				return -EFAULT;
			last_type = tp;
		}
		for (i = 0; i < ARRAY_SIZE(fields); i++)
			if (!strcmp(tname, fields[i].type))
				break;
		if (i == ARRAY_SIZE(fields) || !fp)
			continue;
		if (rd_cstr(rd, ctx, fp, fname, sizeof(fname)))
			return -EFAULT;
		for (i = 0; i < ARRAY_SIZE(fields); i++) {
			size_t d = fields[i].dest / sizeof(int64_t);

			if (found[d] || strcmp(tname, fields[i].type) || strcmp(fname, fields[i].field))
				continue;
			if (fields[i].is_static != !!is_static)
				continue;
			if (is_static)
				memcpy((char *)lo + fields[i].dest, &addr, 8);
			else
				memcpy((char *)lo + fields[i].dest, &off, 8);
			found[d] = true;
		}
	}
	for (k = 0, e = v[HS_SYM_TYPES]; k < HS_MAX_ENTRIES; k++, e += v[HS_SYM_T_STRIDE]) {
		uint64_t tp, size;

		if (rd(ctx, e, ent, v[HS_SYM_T_STRIDE]))
			return -EFAULT;
		memcpy(&tp, ent + v[HS_SYM_T_TYPE], 8);
		if (!tp)
			break;
		memcpy(&size, ent + v[HS_SYM_T_SIZE], 8);
		if (rd_cstr(rd, ctx, tp, tname, sizeof(tname)))
			return -EFAULT;
		for (i = 0; i < ARRAY_SIZE(types); i++) {
			size_t d = types[i].dest / sizeof(int64_t);

			if (!found[d] && !strcmp(tname, types[i].type)) {
				memcpy((char *)lo + types[i].dest, &size, 8);
				found[d] = true;
			}
		}
	}
	for (k = 0, e = v[HS_SYM_INTS]; k < HS_MAX_ENTRIES; k++, e += v[HS_SYM_I_STRIDE]) {
		uint64_t np;
		int32_t val;
		size_t left = 0;

		if (rd(ctx, e, ent, v[HS_SYM_I_STRIDE]))
			return -EFAULT;
		memcpy(&np, ent + v[HS_SYM_I_NAME], 8);
		if (!np)
			break;
		if (rd_cstr(rd, ctx, np, tname, sizeof(tname)))
			return -EFAULT;
		for (i = 0; i < ARRAY_SIZE(ints); i++) {
			size_t d = ints[i].dest / sizeof(int64_t);

			if (!found[d] && !strcmp(tname, ints[i].name)) {
				memcpy(&val, ent + v[HS_SYM_I_VALUE], 4);
				((int64_t *)lo)[d] = val;
				found[d] = true;
			}
			left += !found[d];
		}
		if (!left)
			break;
	}
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		if (!found[fields[i].dest / sizeof(int64_t)] && !fields[i].optional) {
			*missing = fields[i].field;
			return -ENOENT;
		}
	}
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		if (!found[types[i].dest / sizeof(int64_t)] && !types[i].optional) {
			*missing = types[i].type;
			return -ENOENT;
		}
	}
	/* The optional parts: whole, or not used. */
	lo->scopes = lo->lines = 1;
	for (i = 0; i < ARRAY_SIZE(fields); i++)
		if (!found[fields[i].dest / sizeof(int64_t)])
			part_off(lo, fields[i].optional);
	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (!found[types[i].dest / sizeof(int64_t)])
			part_off(lo, types[i].optional);
	for (i = 0; i < ARRAY_SIZE(ints); i++)
		if (!found[ints[i].dest / sizeof(int64_t)])
			part_off(lo, ints[i].optional);
	/* Offsets within what BPF and the readers below take (u16), sizes sane. */
	for (i = L(heap_memory) / 8; i <= L(sym_body) / 8; i++)
		if (((int64_t *)lo)[i] < 0 || ((int64_t *)lo)[i] > 4096)
			return -EINVAL;
	if (lo->heapblock_size <= 0 || lo->heapblock_size > 256 || lo->cp_size <= 0 ||
	    lo->cp_size > 4096)
		return -EINVAL;
	/* Interpreted frames named only with the whole of their part, in range. */
	if (lo->ai_code < 0 || lo->sq_buffer < 0 || lo->sq_buffer > 4096 || lo->sq_limit < 0 ||
	    lo->sq_limit > 4096 || lo->last_sp_offset < -8 || lo->last_sp_offset > -1)
		lo->ai_code = lo->sq_buffer = lo->sq_limit = lo->last_sp_offset = -1;
	/*
	 * Scopes and lines only with offsets inside their structures as sized (VMTypes): a
	 * PcDesc's two ints, an nmethod's (a blob, its header within the blob's size), the
	 * ConstMethod's u2s and int before its bytecodes.
	 */
	if (lo->scopes &&
	    (!in_struct(lo->blob_code_begin, 8, 4096) || !in_struct(lo->cm_scopes_data, 8, 4096) ||
	     !in_struct(lo->nm_metadata, 4, 4096) || !in_struct(lo->nm_scopes_pcs, 4, 4096) ||
	     !in_struct(lo->nm_deps, 4, 4096) || lo->pcd_size <= 0 || lo->pcd_size > 64 ||
	     !in_struct(lo->pcd_pc, 4, lo->pcd_size) || !in_struct(lo->pcd_scope, 4, lo->pcd_size)))
		lo->scopes = 0;
	if (lo->lines &&
	    (lo->cmethod_hdr <= 0 || lo->cmethod_hdr > 4096 ||
	     !in_struct(lo->cmethod_flags, 2, lo->cmethod_hdr) ||
	     !in_struct(lo->cmethod_code_size, 2, lo->cmethod_hdr) ||
	     !in_struct(lo->cmethod_size, 4, lo->cmethod_hdr) ||
	     !in_struct(lo->cp_source, 2, lo->cp_size) || lo->has_lines_flag <= 0 ||
	     lo->has_lines_flag > 0xffff))
		lo->lines = 0;
	if (!lo->scopes)
		lo->lines = 0;	/* a bci comes from a scope */
	return 0;
}

int hotspot__read_heaps(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
			struct hotspot_proc *hp)
{
	uint64_t ga, data, heap;
	int32_t len, log2 = 0, l;
	int i;

	memset(hp, 0, sizeof(*hp));
	if (rd_u64(rd, ctx, lo->cc_heaps, &ga))
		return -EFAULT;
	if (!ga)
		return -EAGAIN;
	if (rd(ctx, ga + lo->ga_len, &len, 4) || rd_u64(rd, ctx, ga + lo->ga_data, &data) ||
	    rd_u64(rd, ctx, lo->cc_low, (uint64_t *)&hp->code_start) ||
	    rd_u64(rd, ctx, lo->cc_high, (uint64_t *)&hp->code_end))
		return -EFAULT;
	if (len <= 0 || !data || !hp->code_start || hp->code_end <= hp->code_start)
		return -EAGAIN;
	if (len > HOTSPOT_MAX_HEAPS)
		len = HOTSPOT_MAX_HEAPS;	/* the others' frames: frame pointers */
	for (i = 0; i < len; i++) {
		struct hotspot_heap *h = &hp->heaps[i];

		if (rd_u64(rd, ctx, data + 8 * (uint64_t)i, &heap) || !heap ||
		    rd_u64(rd, ctx, heap + lo->heap_memory + lo->vs_low_boundary, (uint64_t *)&h->low) ||
		    rd_u64(rd, ctx, heap + lo->heap_memory + lo->vs_high_boundary, (uint64_t *)&h->high) ||
		    rd_u64(rd, ctx, heap + lo->heap_segmap + lo->vs_low, (uint64_t *)&h->segmap) ||
		    rd(ctx, heap + lo->heap_log2, &l, 4))
			return -EFAULT;
		/* A heap added to the list before its space is reserved: a JVM starting. */
		if (h->high <= h->low || !h->segmap)
			return -EAGAIN;
		if (l < 4 || l > 16 || (log2 && l != log2))
			return -EINVAL;
		log2 = l;
	}
	if (lo->ai_code >= 0) {
		uint64_t sq, buf;
		int32_t limit;

		/* The interpreter is generated as the JVM starts, after the code cache. */
		if (rd_u64(rd, ctx, lo->ai_code, &sq))
			return -EFAULT;
		if (!sq)
			return -EAGAIN;
		if (rd_u64(rd, ctx, sq + lo->sq_buffer, &buf) ||
		    rd(ctx, sq + lo->sq_limit, &limit, 4))
			return -EFAULT;
		if (!buf || limit <= 0)
			return -EAGAIN;
		hp->interp_start = buf;
		hp->interp_end = buf + limit;
		/*
		 * The Method* is the word below last_sp's, the bytecode pointer six words below
		 * that (frame_x86.hpp, JDK 8 to 21: method, mirror, mdp, cache, locals, bcp).
		 */
		hp->interp_method = (lo->last_sp_offset - 1) * 8;
		hp->interp_bcp = (lo->last_sp_offset - 6) * 8;
	}
	hp->nr_heaps = len;
	hp->log2_seg = log2;
	hp->block_hdr = lo->heapblock_size;
	hp->off_size = lo->blob_size;
	hp->off_frame_size = lo->blob_frame_size;
	return 0;
}

/* A Symbol's text into out at *pos ('/' as '.' when dots), NUL-terminated. 0 or -EFAULT. */
static int rd_symbol(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
		     uint64_t sym, bool dots, char *out, size_t len, size_t *pos)
{
	char buf[256];
	uint16_t n;
	size_t i;

	if (!sym || rd(ctx, sym + lo->sym_length, &n, 2))
		return -EFAULT;
	if (n > sizeof(buf))
		n = sizeof(buf);
	if (n && rd(ctx, sym + lo->sym_body, buf, n))
		return -EFAULT;
	for (i = 0; i < n && *pos + 1 < len; i++) {
		char c = buf[i];

		if (dots && c == '/')
			c = '.';
		out[(*pos)++] = c ? c : '?';
	}
	out[*pos] = 0;
	return 0;
}

int hotspot__name_method(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
			 uint64_t m, char *out, size_t len)
{
	uint64_t cm, cp, holder, ksym, msym;
	uint16_t idx;
	size_t pos = 0;

	if (!m || rd_u64(rd, ctx, m + lo->method_const, &cm) || !cm ||
	    rd_u64(rd, ctx, cm + lo->cmethod_constants, &cp) || !cp ||
	    rd(ctx, cm + lo->cmethod_name, &idx, 2) ||
	    rd_u64(rd, ctx, cp + lo->cp_size + 8 * (uint64_t)idx, &msym))
		return -EFAULT;
	out[0] = 0;
	if (!rd_u64(rd, ctx, cp + lo->cp_holder, &holder) && holder &&
	    !rd_u64(rd, ctx, holder + lo->klass_name, &ksym) &&
	    !rd_symbol(rd, ctx, lo, ksym, true, out, len, &pos) && pos + 1 < len)
		out[pos++] = '.';
	return rd_symbol(rd, ctx, lo, msym & ~1ULL, false, out, len, &pos);
}

/* Segment map hops followed in user space (the interpreter's blob takes a few dozen). */
#define HS_MAX_HOPS 4096

/*
 * The blob holding pc: its address, and in name its name ("" none). 0, -ENOENT when pc is in
 * no blob, -EFAULT.
 */
static int find_blob(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
		     const struct hotspot_proc *hp, uint64_t pc, uint64_t *blob, int32_t *size,
		     char *name, size_t len)
{
	const struct hotspot_heap *h = NULL;
	uint64_t idx, np;
	uint8_t b;
	uint32_t i;

	for (i = 0; i < hp->nr_heaps && i < HOTSPOT_MAX_HEAPS; i++)
		if (pc >= hp->heaps[i].low && pc < hp->heaps[i].high)
			h = &hp->heaps[i];
	if (!h)
		return -ENOENT;
	idx = (pc - h->low) >> hp->log2_seg;
	for (i = 0; i < HS_MAX_HOPS; i++) {
		if (rd(ctx, h->segmap + idx, &b, 1))
			return -EFAULT;
		if (b == 0xff)
			return -ENOENT;
		if (!b)
			break;
		if (b > idx)
			return -ENOENT;
		idx -= b;
	}
	if (i == HS_MAX_HOPS)
		return -ENOENT;
	*blob = h->low + (idx << hp->log2_seg) + lo->heapblock_size;
	if (rd(ctx, *blob + lo->blob_size, size, 4) || rd_u64(rd, ctx, *blob + lo->blob_name, &np))
		return -EFAULT;
	if (*size <= 0 || pc >= *blob + (uint64_t)*size)
		return -ENOENT;
	name[0] = 0;
	if (np && rd_cstr(rd, ctx, np, name, len))
		return -EFAULT;
	return 0;
}

/* "nmethod", or "native nmethod" for a native method's wrapper. */
static bool is_nmethod(const char *name)
{
	return !strcmp(name, "nmethod") || !strcmp(name, "native nmethod");
}

/* The one frame of a blob: its method's name, or its own. */
static void name_blob(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
		      uint64_t blob, const char *name, char *out, size_t len)
{
	uint64_t m;

	if (is_nmethod(name)) {
		if (!rd_u64(rd, ctx, blob + lo->cm_method, &m) &&
		    !hotspot__name_method(rd, ctx, lo, m, out, len) && out[0])
			return;
		snprintf(out, len, "[java nmethod 0x%llx]", (unsigned long long)blob);
		return;
	}
	snprintf(out, len, "%s", name[0] ? name : "[java code]");
}

int hotspot__name_pc(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
		     const struct hotspot_proc *hp, uint64_t pc, char *out, size_t len)
{
	char name[HS_NAME_MAX];
	uint64_t blob;
	int32_t size;
	int err = find_blob(rd, ctx, lo, hp, pc, &blob, &size, name, sizeof(name));

	if (err)
		return err;
	name_blob(rd, ctx, lo, blob, name, out, len);
	return 0;
}

/* Scope descriptors and line tables. */

/* CompressedStream's UNSIGNED5: 192 low codes end a number, 64 high ones go on (jdk17u). */
#define U5_L 192
#define U5_LG_H 6
#define U5_MAX_BYTES 5

int hotspot__read_u5(const uint8_t *buf, size_t len, size_t *pos, uint32_t *v)
{
	uint32_t sum = 0;
	int i, shift = 0;

	for (i = 0; i < U5_MAX_BYTES; i++) {
		uint32_t b;

		if (*pos >= len)
			return -EINVAL;
		b = buf[(*pos)++];
		sum += b << shift;
		if (b < U5_L || i == U5_MAX_BYTES - 1)
			break;
		shift += U5_LG_H;
	}
	*v = sum;
	return 0;
}

int hotspot__scope_decode(const uint8_t *buf, size_t len, uint32_t off, struct hotspot_scope *s)
{
	size_t pos = off;
	uint32_t bci;

	/* sender_decode_offset, method (metadata index), bci + 1 (InvocationEntryBci is -1). */
	if (hotspot__read_u5(buf, len, &pos, &s->sender) ||
	    hotspot__read_u5(buf, len, &pos, &s->method) || hotspot__read_u5(buf, len, &pos, &bci))
		return -EINVAL;
	s->bci = (int32_t)(bci - 1);
	return 0;
}

/* CompressedReadStream::read_signed_int: zigzag over UNSIGNED5. */
static int read_s5(const uint8_t *buf, size_t len, size_t *pos, int32_t *v)
{
	uint32_t u;

	if (hotspot__read_u5(buf, len, pos, &u))
		return -EINVAL;
	*v = (int32_t)((u >> 1) ^ -(u & 1));
	return 0;
}

uint32_t hotspot__line_of_bci(const uint8_t *buf, size_t len, int32_t bci)
{
	int64_t cur_bci = 0, cur_line = 0, best_bci = 0;
	uint32_t best = 0;
	size_t pos = 0;

	if (bci == -1)
		bci = 0;	/* the method's entry (SynchronizationEntryBCI) */
	if (bci < 0)
		return 0;
	/* Each pair takes a byte at least: at most len of them. */
	while (pos < len) {
		uint8_t b = buf[pos++];

		if (!b)
			return best;	/* the terminator */
		if (b == 0xff) {
			int32_t db, dl;

			/* An escape: both deltas as signed ints. */
			if (read_s5(buf, len, &pos, &db) || read_s5(buf, len, &pos, &dl))
				return 0;
			cur_bci += db;
			cur_line += dl;
		} else {
			/* Packed: bci delta in the high 5 bits, line delta in the low 3. */
			cur_bci += b >> 3;
			cur_line += b & 7;
		}
		if (cur_line <= 0 || cur_line > UINT32_MAX)
			continue;
		if (cur_bci == bci)
			return cur_line;
		if (cur_bci < bci && cur_bci >= best_bci) {
			best_bci = cur_bci;
			best = cur_line;
		}
	}
	return 0;	/* no terminator within len */
}

/* PcDesc probes of a binary search: 2^32 PcDescs at most. */
#define HS_MAX_PROBES 33
/* PcDescs stepped back over, at most, for a PC after the last with a scope. */
#define HS_MAX_BACK 64
/* PcDesc::upper_offset_limit: the last PcDesc's pc_offset, a sentinel. */
#define HS_PC_SENTINEL INT32_MAX

int hotspot__find_pcdesc(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
			 uint64_t pcs, uint32_t n, int32_t pc_offset, uint32_t *scope)
{
	uint64_t low = 0, high = n;
	int32_t at;
	int i;

	/* The first PcDesc whose _pc_offset is >= pc_offset. */
	for (i = 0; low < high && i < HS_MAX_PROBES; i++) {
		uint64_t mid = low + (high - low) / 2;

		if (rd(ctx, pcs + mid * lo->pcd_size + lo->pcd_pc, &at, 4))
			return -EFAULT;
		if (at < pc_offset)
			low = mid + 1;
		else
			high = mid;
	}
	if (low < high)
		return -ENOENT;
	if (low < n) {
		if (rd(ctx, pcs + low * lo->pcd_size + lo->pcd_pc, &at, 4) ||
		    rd(ctx, pcs + low * lo->pcd_size + lo->pcd_scope, scope, 4))
			return -EFAULT;
		if (at != HS_PC_SENTINEL && at >= pc_offset && *scope)
			return 0;
	}
	/*
	 * None after with a scope: C2 puts a loop's safepoint polls at its head, the body
	 * after them, the method's last PcDesc (no scope) at its end. The last PcDesc before
	 * with a scope then, the loop's own (a guess, as any for a PC between safepoints).
	 */
	for (i = 0; low > 0 && i < HS_MAX_BACK; i++) {
		low--;
		if (rd(ctx, pcs + low * lo->pcd_size + lo->pcd_pc, &at, 4) ||
		    rd(ctx, pcs + low * lo->pcd_size + lo->pcd_scope, scope, 4))
			return -EFAULT;
		if (at < 0 || at > pc_offset)
			return -ENOENT;		/* the first's sentinel, or out of order */
		if (*scope)
			return 0;
	}
	return -ENOENT;
}

/* The bytes of one scope header read at most: three UNSIGNED5 ints. */
#define HS_SCOPE_HDR (3 * U5_MAX_BYTES)
/* A line number table read at most (bytes). */
#define HS_MAX_LINE_TABLE 8192
/* An nmethod's PcDescs, at most. */
#define HS_MAX_PCDESCS (1U << 20)

/* The source file ("Hot.java") of the class of the Method* m into out; "" unknown. */
static void method_file(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
			uint64_t m, char *out, size_t len)
{
	uint64_t cm, cp, sym;
	uint16_t idx;
	size_t pos = 0;

	out[0] = 0;
	if (rd_u64(rd, ctx, m + lo->method_const, &cm) || !cm ||
	    rd_u64(rd, ctx, cm + lo->cmethod_constants, &cp) || !cp ||
	    rd(ctx, cp + lo->cp_source, &idx, 2) || !idx ||
	    rd_u64(rd, ctx, cp + lo->cp_size + 8 * (uint64_t)idx, &sym) ||
	    rd_symbol(rd, ctx, lo, sym & ~1ULL, false, out, len, &pos))
		out[0] = 0;
}

/* The line of bci in the Method* m: 0 unknown (no table, a bci out of its code). */
static uint32_t method_line(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
			    uint64_t m, int32_t bci)
{
	uint8_t tab[HS_MAX_LINE_TABLE];
	uint64_t cm, start, end;
	uint16_t flags, code_size;
	int32_t words;

	if (rd_u64(rd, ctx, m + lo->method_const, &cm) || !cm ||
	    rd(ctx, cm + lo->cmethod_flags, &flags, 2) ||
	    rd(ctx, cm + lo->cmethod_code_size, &code_size, 2) ||
	    rd(ctx, cm + lo->cmethod_size, &words, 4))
		return 0;
	if (!(flags & lo->has_lines_flag) || bci >= code_size || words <= 0)
		return 0;
	/* After the bytecodes (a native method has none: never in a scope with a bci). */
	start = cm + lo->cmethod_hdr + code_size;
	end = cm + 8 * (uint64_t)words;
	if (end <= start)
		return 0;
	if (end - start > sizeof(tab))
		end = start + sizeof(tab);
	if (rd(ctx, start, tab, end - start))
		return 0;
	return hotspot__line_of_bci(tab, end - start, bci);
}

int hotspot__name_interpreted(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
			       uint64_t m, uint16_t bcp16, struct hotspot_frame *out)
{
	uint64_t cm;
	int err;

	out->file[0] = 0;
	out->line = 0;
	err = hotspot__name_method(rd, ctx, lo, m, out->name, sizeof(out->name));
	if (err || !lo->lines || rd_u64(rd, ctx, m + lo->method_const, &cm) || !cm)
		return err;
	method_file(rd, ctx, lo, m, out->file, sizeof(out->file));
	/* The bytecodes follow the ConstMethod: 16 bits of the pointer are the whole bci. */
	out->line = method_line(rd, ctx, lo, m, (uint16_t)(bcp16 - (uint16_t)(cm + lo->cmethod_hdr)));
	return 0;
}

int hotspot__frames_pc(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
		       const struct hotspot_proc *hp, uint64_t pc,
		       struct hotspot_frame *out, int max)
{
	uint64_t blob, code, sdata, root, methods[HOTSPOT_MAX_SCOPES];
	int32_t bcis[HOTSPOT_MAX_SCOPES], size, md, pcs, deps;
	uint8_t hdr[HS_SCOPE_HDR];
	char name[HS_NAME_MAX];
	uint32_t off, nmd, nscope = 0;
	uint64_t slen;
	int err, i;

	if (max < 1)
		return -EINVAL;
	err = find_blob(rd, ctx, lo, hp, pc, &blob, &size, name, sizeof(name));
	if (err)
		return err;
	out[0].file[0] = 0;
	out[0].line = 0;
	name_blob(rd, ctx, lo, blob, name, out[0].name, sizeof(out[0].name));
	/* A compiled Java method's scopes (a native method's wrapper has none). */
	if (!lo->scopes || strcmp(name, "nmethod") ||
	    rd_u64(rd, ctx, blob + lo->cm_method, &root) ||
	    rd_u64(rd, ctx, blob + lo->blob_code_begin, &code) ||
	    rd_u64(rd, ctx, blob + lo->cm_scopes_data, &sdata) ||
	    rd(ctx, blob + lo->nm_metadata, &md, 4) || rd(ctx, blob + lo->nm_scopes_pcs, &pcs, 4) ||
	    rd(ctx, blob + lo->nm_deps, &deps, 4))
		return 1;
	/*
	 * The nmethod's parts in order within its blob: metadata (Method*s, from index 1), scopes
	 * data up to the PcDescs, the PcDescs up to the dependencies.
	 */
	if (md <= 0 || md > pcs || pcs >= deps || deps > size || code < blob ||
	    pc < code || pc - code > INT32_MAX || sdata < blob + md || sdata > blob + pcs ||
	    (uint64_t)(deps - pcs) / lo->pcd_size > HS_MAX_PCDESCS)
		return 1;
	nmd = (sdata - (blob + md)) / 8;
	slen = blob + pcs - sdata;
	if (hotspot__find_pcdesc(rd, ctx, lo, blob + pcs, (deps - pcs) / lo->pcd_size,
				 (int32_t)(pc - code), &off))
		return 1;
	/* The chain from the innermost scope out, to the one with no sender. */
	for (;;) {
		struct hotspot_scope sc;
		size_t n;

		if (off >= slen || nscope == HOTSPOT_MAX_SCOPES || (int)nscope == max)
			return 1;
		n = MIN(sizeof(hdr), slen - off);
		if (rd(ctx, sdata + off, hdr, n) || hotspot__scope_decode(hdr, n, 0, &sc) ||
		    !sc.method || sc.method > nmd ||
		    rd_u64(rd, ctx, blob + md + 8 * (uint64_t)(sc.method - 1), &methods[nscope]) ||
		    !methods[nscope])
			return 1;
		bcis[nscope++] = sc.bci;
		if (!sc.sender)
			break;
		off = sc.sender;
	}
	/* The outermost scope is the nmethod's own method, or the scopes are not its. */
	if (methods[nscope - 1] != root)
		return 1;
	for (i = 0; i < (int)nscope; i++) {
		struct hotspot_frame *f = &out[i];
		uint64_t m = methods[nscope - 1 - i];

		f->file[0] = 0;
		f->line = 0;
		if (hotspot__name_method(rd, ctx, lo, m, f->name, sizeof(f->name)) || !f->name[0]) {
			if (i)
				return 1;	/* out[0] keeps the blob's name */
			name_blob(rd, ctx, lo, blob, name, f->name, sizeof(f->name));
		}
		if (lo->lines) {
			method_file(rd, ctx, lo, m, f->file, sizeof(f->file));
			f->line = method_line(rd, ctx, lo, m, bcis[nscope - 1 - i]);
		}
	}
	return nscope;
}

/* The module. */

/* One libjvm.so (by identity): its variables' vaddrs, read once. */
struct hsfile {
	struct rt_file h;
	uint64_t vaddr[HS_NR_SYMS];	/* 0: not exported */
};

enum hsstate { HS_PENDING, HS_OK, HS_FAILED };

struct hsproc {
	struct rt_proc h;
	enum hsstate state;
	bool parsed;			/* lo read (the code cache may still be pending) */
	const struct hsfile *f;
	uint64_t syms[HS_NR_SYMS];	/* the variables' addresses in the process */
	uint64_t last_try;		/* CLOCK_MONOTONIC ns of the last attempt, pending */
	unsigned int tries;
	struct hotspot_layout lo;
	struct hotspot_proc hp;
};

/* A frame of a name: its method and the line running there. */
struct hsframe {
	const char *func;	/* "pkg.Class.method", or a blob's name */
	const char *file;	/* "Hot.java"; NULL: unknown */
	uint32_t line;		/* 0: unknown */
};

/*
 * h.addr: the code cache address (a sampled PC, or a return address), or an interpreted
 * frame's value (Method* and bytecode pointer, bpf/hotspot.h) with HS_KEY_METHOD. Its frames root first, the inlined ones after,
 * in one allocation with their strings (bytes long).
 */
struct hsname {
	struct rt_name h;
	struct hsframe *fr;
	uint32_t n;
	size_t bytes;
};

/* Bytes of names kept before inlined frames are no longer (a name keeps its root frame). */
#define HS_MAX_NAME_BYTES (64UL << 20)

/* Set in a name's key for an interpreted frame (no user address nor frame value has it). */
#define HS_KEY_METHOD (1ULL << 62)

/* Attempts on a JVM still starting (its tables or code cache not set up), 50 ms apart. */
#define HS_MAX_TRIES 200
#define HS_RETRY_NS 50000000ULL

struct hotspot {
	struct rt_procs procs;	/* struct hsproc */
	struct rt_names names;	/* struct hsname */
	struct rt_files files;	/* struct hsfile */
	uint64_t read_failed;
	size_t name_bytes;	/* held by names */
	char disp[HOTSPOT_MAX_SCOPES][512];
};

/* The reader of the parsers above: ctx is the process's pid. */
static int read_proc(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return rtbase__read_all(*(uint32_t *)ctx, addr, buf, len);
}

static bool jvm_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return !strcmp(b ? b + 1 : path, "libjvm.so");
}

static void file_sym(void *ctx, const char *name, const GElf_Sym *sym)
{
	struct hsfile *f = ctx;
	size_t i;

	if (strncmp(name, "gHotSpotVM", 10))
		return;
	/* The first of a name wins (no symbol is reported with value 0). */
	for (i = 0; i < HS_NR_SYMS; i++)
		if (!f->vaddr[i] && !strcmp(name, hotspot__sym_names[i]))
			f->vaddr[i] = sym->st_value;
}

/* The exported variables: .dynsym alone (a libjvm.so with a .symtab has them there too). */
static void file_scan(struct rt_file *rf, Elf *elf, int fd, const struct map_entry *m,
		      uint32_t pid)
{
	struct hsfile *f = (struct hsfile *)rf;
	size_t i;

	rtbase__file_dynsyms(elf, file_sym, f);
	f->h.ok = true;
	for (i = 0; i < HS_NR_SYMS; i++)
		if (!f->vaddr[i])
			f->h.ok = false;
	if (!f->h.ok)
		pr_warn("hotspot: %s (process %u) does not export gHotSpotVMStructs and its entry "
			"layout: its Java methods are not named", m->path, pid);
}

/* Reads the JVM's layout and code heaps, and tells BPF, once they are set up. */
static void attach(struct hotspot *h, struct hsproc *hp)
{
	const char *missing = NULL;
	int err;

	if (hp->state != HS_PENDING || hp->h.exited)
		return;
	hp->last_try = now_mono_ns();
	hp->tries++;
	err = hp->parsed ? 0 : hotspot__parse(read_proc, &hp->h.pid, hp->syms, &hp->lo, &missing);
	hp->parsed = !err;
	if (!err)
		err = hotspot__read_heaps(read_proc, &hp->h.pid, &hp->lo, &hp->hp);
	if (err)
		pr_debug("hotspot: process %u, try %u: %s%s%s", hp->h.pid, hp->tries,
			 strerror(-err), missing ? ": no " : "", missing ? missing : "");
	/*
	 * A JVM starting: its tables or code heaps not set up yet (libjvm mapped, not yet
	 * initialized, reads as anything): tried again, then judged on its last answer.
	 */
	if (err && hp->tries < HS_MAX_TRIES && (err != -ENOENT || hp->tries < 20)) {
		return;
	}
	if (err) {
		if (err == -ENOENT)
			pr_warn("hotspot: process %u: the JVM's VMStructs have no %s: its Java "
				"methods are not named, native frames only", hp->h.pid, missing);
		else
			pr_warn("hotspot: process %u: cannot read the JVM's VMStructs (%s): its "
				"Java methods are not named", hp->h.pid, strerror(-err));
		hp->state = HS_FAILED;
		return;
	}
	if (bpf_map_update_elem(h->procs.map_fd, &hp->h.pid, &hp->hp, BPF_ANY)) {
		pr_warn("hotspot: cannot add process %u: %s, ignoring", hp->h.pid, strerror(errno));
		hp->state = HS_FAILED;
		return;
	}
	hp->state = HS_OK;
	pr_debug("hotspot: process %u runs a JVM: %u code heaps in [0x%llx, 0x%llx)", hp->h.pid,
		 hp->hp.nr_heaps, (unsigned long long)hp->hp.code_start,
		 (unsigned long long)hp->hp.code_end);
}

static void retry(struct hotspot *h, struct hsproc *hp)
{
	if (hp->state == HS_PENDING && now_mono_ns() - hp->last_try >= HS_RETRY_NS)
		attach(h, hp);
}

static void on_proc(void *ctx, uint32_t pid, const struct map_entry *maps, size_t n, bool exited)
{
	struct hotspot *h = ctx;
	struct hsproc *hp = rtbase__proc_find(&h->procs, pid);
	size_t i, k;

	if (exited) {
		rtbase__proc_exited(&h->procs, pid);
		return;
	}
	if (hp && !hp->h.exited) {
		/* New mappings of a JVM starting: it may have set up its code cache since. */
		attach(h, hp);
		return;
	}
	for (i = 0; i < n; i++) {
		const struct map_entry *m = &maps[i];
		struct hsfile *f;
		uint64_t bias;

		if (!m->ino || !jvm_name(m->path))
			continue;
		f = rtbase__file_of(&h->files, pid, m);
		if (!f || !f->h.ok || !rtbase__file_bias(&f->h, m, &bias))
			continue;
		hp = rtbase__proc_add(&h->procs, pid);
		if (!hp)
			return;
		hp->f = f;
		for (k = 0; k < HS_NR_SYMS; k++)
			hp->syms[k] = f->vaddr[k] + bias;
		attach(h, hp);
		return;
	}
}

static void name_clear(void *ctx, void *entry)
{
	struct hotspot *h = ctx;
	struct hsname *n = entry;

	h->name_bytes -= MIN(h->name_bytes, n->bytes);
	free(n->fr);
	memset(n, 0, sizeof(*n));
}

/* The n frames of f (their strings copied) into one allocation in nm. 0, -ENOMEM. */
static int name_fill(struct hsname *nm, const struct hotspot_frame *f, int n)
{
	size_t bytes = n * sizeof(struct hsframe);
	char *p;
	int i;

	for (i = 0; i < n; i++)
		bytes += strlen(f[i].name) + 1 + (f[i].file[0] ? strlen(f[i].file) + 1 : 0);
	nm->fr = malloc(bytes);
	if (!nm->fr)
		return -ENOMEM;
	p = (char *)(nm->fr + n);
	for (i = 0; i < n; i++) {
		size_t l = strlen(f[i].name) + 1;

		memcpy(p, f[i].name, l);
		nm->fr[i].func = p;
		p += l;
		nm->fr[i].file = NULL;
		if (f[i].file[0]) {
			l = strlen(f[i].file) + 1;
			memcpy(p, f[i].file, l);
			nm->fr[i].file = p;
			p += l;
		}
		nm->fr[i].line = f[i].line;
	}
	nm->n = n;
	nm->bytes = bytes;
	return 0;
}

/*
 * The frames of the code cache address pc of pid (a sampled PC or a return address), or of
 * the interpreted frame pc & ~HS_KEY_METHOD, read while the process lives; NULL if none.
 */
static const struct hsname *name_of(struct hotspot *h, uint32_t pid, uint64_t pc)
{
	struct hotspot_frame fr[HOTSPOT_MAX_SCOPES];
	struct hsproc *hp;
	struct hsname *s = rtbase__name_find(&h->names, pid, pc), n = { 0 };
	int nr;

	if (s)
		return s;
	hp = rtbase__proc_find(&h->procs, pid);
	if (!hp || hp->h.exited || hp->state != HS_OK || h->names.nr >= RTBASE_MAX_NAMES)
		return NULL;
	fr[0].file[0] = 0;
	fr[0].line = 0;
	if (pc & HS_KEY_METHOD) {
		nr = hotspot__name_interpreted(read_proc, &hp->h.pid, &hp->lo, RUNTIME_FRAME_CODE(pc),
					       HOTSPOT_FRAME_BCP16(pc), fr);
		nr = nr ? nr : 1;
	} else if (pc >= hp->hp.code_start && pc < hp->hp.code_end) {
		nr = hotspot__frames_pc(read_proc, &hp->h.pid, &hp->lo, &hp->hp, pc, fr,
					ARRAY_SIZE(fr));
	} else {
		return NULL;
	}
	if (nr > 0 && !fr[0].name[0])
		nr = -EINVAL;
	if (nr <= 0) {
		h->read_failed++;
		return NULL;
	}
	/* Past the bytes budget: the compiled method alone, as without scopes. */
	if (h->name_bytes >= HS_MAX_NAME_BYTES)
		nr = 1;
	if (name_fill(&n, fr, nr))
		return NULL;
	h->name_bytes += n.bytes;
	return rtbase__name_add(&h->names, pid, pc, &n);
}

/* Frame i of n into ret, its display (with its line when lines) in h->disp[i]. */
static void frame_sym(struct hotspot *h, const struct hsframe *f, int i, bool lines,
		      struct runtime_sym *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->name = h->disp[i];
	ret->func = f->func;
	ret->file = f->file;
	ret->line = f->file ? f->line : 0;
	ret->inlined = i > 0;
	if (lines && f->file && f->line)
		snprintf(h->disp[i], sizeof(h->disp[i]), "%s (%s:%u)", f->func, f->file, f->line);
	else
		snprintf(h->disp[i], sizeof(h->disp[i]), "%s", f->func);
}

/*
 * The frames of a code cache address (addr: a sampled PC, or a return address's call),
 * root first: the compiled method, the methods inlined into it there (_[i]).
 */
static int jit_frames(void *ctx, uint32_t pid, uint64_t addr, bool leaf, bool lines,
		      struct runtime_sym *ret, int max)
{
	struct hotspot *h = ctx;
	const struct hsname *n = name_of(h, pid, leaf ? addr : addr + 1);
	int i;

	if (!n)
		return 0;
	for (i = 0; i < (int)n->n && i < max && i < HOTSPOT_MAX_SCOPES; i++)
		frame_sym(h, &n->fr[i], i, lines, &ret[i]);
	return i;
}

/* An interpreted Java frame (bpf/hotspot.h): its Method* named as a compiled one is. */
static int runtime_frame(void *ctx, uint32_t pid, uint64_t frame, bool lines,
			 struct runtime_sym *ret)
{
	struct hotspot *h = ctx;
	const struct hsname *n;

	if (!HOTSPOT_FRAME_IS(frame))
		return -ENOENT;	/* another runtime's */
	/* A name per bytecode pointer: its line in pprof, and shown with --lines. */
	n = name_of(h, pid, frame | HS_KEY_METHOD);
	if (n) {
		frame_sym(h, &n->fr[0], 0, lines, ret);
		return FRAME_JIT;
	}
	memset(ret, 0, sizeof(*ret));
	ret->name = h->disp[0];
	snprintf(h->disp[0], sizeof(h->disp[0]), "[java method 0x%llx]",
		 (unsigned long long)RUNTIME_FRAME_CODE(frame));
	return FRAME_JIT;
}

void hotspot__prefetch(struct hotspot *h, uint32_t pid, const uint64_t *ustack, int n)
{
	struct hsproc *hp;
	int i;

	if (!h || !(hp = rtbase__proc_find(&h->procs, pid)) || hp->h.exited)
		return;
	retry(h, hp);
	if (hp->state != HS_OK)
		return;
	for (i = 0; i < n; i++) {
		/* As the symbolizer looks them up: the leaf's PC, the others' return addresses. */
		if (HOTSPOT_FRAME_IS(ustack[i]))
			name_of(h, pid, ustack[i] | HS_KEY_METHOD);
		else if (ustack[i] >= hp->hp.code_start && ustack[i] < hp->hp.code_end)
			name_of(h, pid, ustack[i]);
	}
}

void hotspot__trim(struct hotspot *h)
{
	if (h && rtbase__procs_trim(&h->procs))
		rtbase__names_trim(&h->names, &h->procs);
}

void hotspot__use_symbolizer(struct hotspot *h, struct symbolizer *sym)
{
	if (h && sym) {
		symbolizer__add_jit_hook(sym, jit_frames, h);
		symbolizer__add_runtime_hook(sym, runtime_frame, h);
	}
}

struct hotspot *hotspot__new(struct sampler *smp, struct unwinder *uw)
{
	struct hotspot *h;
	int fd = sampler__hotspot_procs_fd(smp);

	if (fd < 0)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	rtbase__procs_init(&h->procs, fd, sizeof(struct hsproc));
	rtbase__names_init(&h->names, sizeof(struct hsname), name_clear, h);
	h->files = (struct rt_files){ "hotspot", sizeof(struct hsfile), file_scan, NULL, NULL };
	if (uw && unwinder__add_proc_hook(uw, on_proc, h)) {
		free(h);
		return NULL;
	}
	return h;
}

void hotspot__free(struct hotspot *h)
{
	if (!h)
		return;
	if (h->read_failed)
		pr_info("hotspot: %llu code cache addresses could not be named (freed, moved or "
			"exited), shown as [unknown]", (unsigned long long)h->read_failed);
	rtbase__names_release(&h->names);
	rtbase__procs_release(&h->procs);
	rtbase__files_release(&h->files);
	free(h);
}
