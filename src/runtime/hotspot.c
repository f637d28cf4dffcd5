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
 * slots follow it) -> _pool_holder (Klass::_name) and ConstMethod::_name_index. Names are cached
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

/*
 * VMStructs entries used; several with one destination are alternatives (JDK versions).
 * Optional ones (for interpreted frames) are -1 when absent.
 */
static const struct {
	const char *type, *field;
	bool is_static;
	size_t dest;
	bool optional;
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
	{ "AbstractInterpreter", "_code", true, L(ai_code), true },
	{ "StubQueue", "_stub_buffer", false, L(sq_buffer), true },
	{ "StubQueue", "_buffer_limit", false, L(sq_limit), true },
};

/* The int constant giving the interpreter's frame layout (optional). */
#define HS_LAST_SP "frame::interpreter_frame_last_sp_offset"

static const struct {
	const char *type;
	size_t dest;
} types[] = {
	{ "HeapBlock", L(heapblock_size) },
	{ "ConstantPool", L(cp_size) },
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

		if (rd(ctx, e, ent, v[HS_SYM_I_STRIDE]))
			return -EFAULT;
		memcpy(&np, ent + v[HS_SYM_I_NAME], 8);
		if (!np)
			break;
		if (rd_cstr(rd, ctx, np, tname, sizeof(tname)))
			return -EFAULT;
		if (!strcmp(tname, HS_LAST_SP)) {
			memcpy(&val, ent + v[HS_SYM_I_VALUE], 4);
			lo->last_sp_offset = val;
			break;
		}
	}
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		if (!found[fields[i].dest / sizeof(int64_t)] && !fields[i].optional) {
			*missing = fields[i].field;
			return -ENOENT;
		}
	}
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		if (!found[types[i].dest / sizeof(int64_t)]) {
			*missing = types[i].type;
			return -ENOENT;
		}
	}
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
		/* The Method* is the word below last_sp's (frame_x86.hpp, JDK 8 to 21). */
		hp->interp_method = (lo->last_sp_offset - 1) * 8;
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

int hotspot__name_pc(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
		     const struct hotspot_proc *hp, uint64_t pc, char *out, size_t len)
{
	const struct hotspot_heap *h = NULL;
	uint64_t idx, blob, np, m;
	int32_t size;
	uint8_t b;
	char name[HS_NAME_MAX];
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
	blob = h->low + (idx << hp->log2_seg) + lo->heapblock_size;
	if (rd(ctx, blob + lo->blob_size, &size, 4) || rd_u64(rd, ctx, blob + lo->blob_name, &np))
		return -EFAULT;
	if (size <= 0 || pc >= blob + (uint64_t)size)
		return -ENOENT;
	name[0] = 0;
	if (np && rd_cstr(rd, ctx, np, name, sizeof(name)))
		return -EFAULT;
	/* "nmethod", or "native nmethod" for a native method's wrapper. */
	if (!strcmp(name, "nmethod") || !strcmp(name, "native nmethod")) {
		if (!rd_u64(rd, ctx, blob + lo->cm_method, &m) &&
		    !hotspot__name_method(rd, ctx, lo, m, out, len) && out[0])
			return 0;
		snprintf(out, len, "[java nmethod 0x%llx]", (unsigned long long)blob);
		return 0;
	}
	snprintf(out, len, "%s", name[0] ? name : "[java code]");
	return 0;
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

/* h.addr: the code cache address, or a Method* (interpreted frame) with HS_KEY_METHOD. */
struct hsname {
	struct rt_name h;
	char *name;
};

/* Set in a name's key for a Method* (no user address has it). */
#define HS_KEY_METHOD (1ULL << 62)

/* Attempts on a JVM still starting (its tables or code cache not set up), 50 ms apart. */
#define HS_MAX_TRIES 200
#define HS_RETRY_NS 50000000ULL

struct hotspot {
	struct rt_procs procs;	/* struct hsproc */
	struct rt_names names;	/* struct hsname */
	struct rt_files files;	/* struct hsfile */
	uint64_t read_failed;
	char disp[512];
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
	struct hsname *n = entry;

	free(n->name);
	memset(n, 0, sizeof(*n));
}

/*
 * The name of the code cache address pc of pid (or of the Method* pc & ~HS_KEY_METHOD), read
 * while the process lives; NULL if none.
 */
static const char *name_of(struct hotspot *h, uint32_t pid, uint64_t pc)
{
	struct hsproc *hp;
	struct hsname *s = rtbase__name_find(&h->names, pid, pc), n = { 0 };
	char buf[512];
	int err;

	if (s)
		return s->name;
	hp = rtbase__proc_find(&h->procs, pid);
	if (!hp || hp->h.exited || hp->state != HS_OK || h->names.nr >= RTBASE_MAX_NAMES)
		return NULL;
	if (pc & HS_KEY_METHOD)
		err = hotspot__name_method(read_proc, &hp->h.pid, &hp->lo, pc & ~HS_KEY_METHOD, buf,
					   sizeof(buf));
	else if (pc >= hp->hp.code_start && pc < hp->hp.code_end)
		err = hotspot__name_pc(read_proc, &hp->h.pid, &hp->lo, &hp->hp, pc, buf,
				       sizeof(buf));
	else
		return NULL;
	if (!err && !buf[0])
		err = -EINVAL;
	if (err) {
		h->read_failed++;
		return NULL;
	}
	n.name = strdup(buf);
	if (!n.name)
		return NULL;
	s = rtbase__name_add(&h->names, pid, pc, &n);
	return s ? s->name : NULL;
}

static const char *jit_name(void *ctx, uint32_t pid, uint64_t addr)
{
	struct hotspot *h = ctx;
	const char *n = name_of(h, pid, addr);

	if (!n)
		return NULL;
	snprintf(h->disp, sizeof(h->disp), "%s", n);
	return h->disp;
}

/* An interpreted Java frame (bpf/hotspot.h): its Method* named as a compiled one is. */
static int runtime_frame(void *ctx, uint32_t pid, uint64_t frame, bool lines,
			 struct runtime_sym *ret)
{
	struct hotspot *h = ctx;
	const char *n;

	if (!HOTSPOT_FRAME_IS(frame))
		return -ENOENT;	/* another runtime's */
	n = name_of(h, pid, RUNTIME_FRAME_CODE(frame) | HS_KEY_METHOD);
	memset(ret, 0, sizeof(*ret));
	ret->name = h->disp;
	if (n)
		snprintf(h->disp, sizeof(h->disp), "%s", n);
	else
		snprintf(h->disp, sizeof(h->disp), "[java method 0x%llx]",
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
		/* As the symbolizer looks them up: a return address's call instruction. */
		uint64_t look = i ? ustack[i] - 1 : ustack[i];

		if (HOTSPOT_FRAME_IS(ustack[i]))
			name_of(h, pid, RUNTIME_FRAME_CODE(ustack[i]) | HS_KEY_METHOD);
		else if (look >= hp->hp.code_start && look < hp->hp.code_end)
			name_of(h, pid, look);
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
		symbolizer__add_jit_hook(sym, jit_name, h);
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
