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
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
#include <bpf/bpf.h>

#include "base/elfimage.h"
#include "base/log.h"
#include "base/util.h"
#include "sample/procs.h"
#include "sample/sampler.h"
#include "unwind/unwinder.h"
#include "aggregate/profile.h"
#include "symbolize/symbolize.h"
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

struct hsfile {
	uint32_t maj, min;
	uint64_t ino;
	bool ok;
	uint64_t vaddr[HS_NR_SYMS];
	uint64_t x_off, x_vaddr;
	struct hsfile *next;
};

enum hsstate { HS_PENDING, HS_OK, HS_FAILED };

struct hsproc {
	uint32_t pid;
	bool exited;
	enum hsstate state;
	bool parsed;			/* lo read (the code cache may still be pending) */
	const struct hsfile *f;
	uint64_t syms[HS_NR_SYMS];	/* the variables' addresses in the process */
	uint64_t last_try;		/* CLOCK_MONOTONIC ns of the last attempt, pending */
	unsigned int tries;
	struct hotspot_layout lo;
	struct hotspot_proc hp;
};

struct hsname {
	uint32_t pid;
	uint64_t pc;		/* 0: empty slot; a Method* (interpreted frame) with HS_KEY_METHOD */
	char *name;
};

/* Set in a name's key for a Method* (no user address has it). */
#define HS_KEY_METHOD (1ULL << 62)

#define HS_MAX_NAMES 200000
/* Attempts on a JVM still starting (its tables or code cache not set up), 50 ms apart. */
#define HS_MAX_TRIES 200
#define HS_RETRY_NS 50000000ULL

struct hotspot {
	int procs_fd;
	struct hsproc *procs;
	size_t nr_procs, cap_procs;
	struct hsname *names;
	size_t nr_names, cap_names;
	struct hsfile *files;
	uint64_t read_failed;
	char disp[512];
};

static int read_proc(void *ctx, uint64_t addr, void *buf, size_t len)
{
	uint32_t pid = *(uint32_t *)ctx;
	struct iovec local = { buf, len }, remote = { (void *)addr, len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

static struct hsproc *proc_find(struct hotspot *h, uint32_t pid)
{
	size_t i;

	for (i = 0; i < h->nr_procs; i++)
		if (h->procs[i].pid == pid)
			return &h->procs[i];
	return NULL;
}

static bool jvm_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return !strcmp(b ? b + 1 : path, "libjvm.so");
}

static void file_syms(struct hsfile *f, Elf *elf)
{
	bool found[HS_NR_SYMS] = { false };
	Elf_Scn *scn = NULL;
	size_t nph, i;

	if (!elf_getphdrnum(elf, &nph)) {
		for (i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD &&
			    (ph.p_flags & PF_X)) {
				f->x_off = ph.p_offset;
				f->x_vaddr = ph.p_vaddr;
				break;
			}
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t k, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (k = 0; k < n; k++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, k, &sym) || !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || strncmp(name, "gHotSpotVM", 10))
				continue;
			for (i = 0; i < HS_NR_SYMS; i++) {
				if (!found[i] && !strcmp(name, hotspot__sym_names[i])) {
					f->vaddr[i] = sym.st_value;
					found[i] = true;
				}
			}
		}
	}
	f->ok = true;
	for (i = 0; i < HS_NR_SYMS; i++)
		if (!found[i])
			f->ok = false;
}

static struct hsfile *file_of(struct hotspot *h, uint32_t pid, const struct map_entry *m)
{
	struct hsfile *f;
	struct elfimage *im;
	int fd, err = 0;

	for (f = h->files; f; f = f->next)
		if (f->ino == m->ino && f->maj == m->maj && f->min == m->min)
			return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->maj = m->maj;
	f->min = m->min;
	f->ino = m->ino;
	f->next = h->files;
	h->files = f;
	fd = procs__open_mapping(pid, true, m);
	if (fd < 0) {
		pr_debug("hotspot: cannot open %s: %s", m->path, strerror(-fd));
		return f;
	}
	im = elfimage__open(fd, ELFIMAGE_SYMS, &err);
	if (!im) {
		pr_debug("hotspot: cannot read %s: %s", m->path, strerror(-err));
		close(fd);
		return f;
	}
	file_syms(f, elfimage__elf(im));
	if (!f->ok)
		pr_warn("hotspot: %s (process %u) does not export gHotSpotVMStructs and its entry "
			"layout: its Java methods are not named", m->path, pid);
	elfimage__free(im);
	close(fd);
	return f;
}

/* Reads the JVM's layout and code heaps, and tells BPF, once they are set up. */
static void attach(struct hotspot *h, struct hsproc *hp)
{
	const char *missing = NULL;
	int err;

	if (hp->state != HS_PENDING || hp->exited)
		return;
	hp->last_try = now_mono_ns();
	hp->tries++;
	err = hp->parsed ? 0 : hotspot__parse(read_proc, &hp->pid, hp->syms, &hp->lo, &missing);
	hp->parsed = !err;
	if (!err)
		err = hotspot__read_heaps(read_proc, &hp->pid, &hp->lo, &hp->hp);
	if (err)
		pr_debug("hotspot: process %u, try %u: %s%s%s", hp->pid, hp->tries, strerror(-err),
			 missing ? ": no " : "", missing ? missing : "");
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
				"methods are not named, native frames only", hp->pid, missing);
		else
			pr_warn("hotspot: process %u: cannot read the JVM's VMStructs (%s): its "
				"Java methods are not named", hp->pid, strerror(-err));
		hp->state = HS_FAILED;
		return;
	}
	if (bpf_map_update_elem(h->procs_fd, &hp->pid, &hp->hp, BPF_ANY)) {
		pr_warn("hotspot: cannot add process %u: %s, ignoring", hp->pid, strerror(errno));
		hp->state = HS_FAILED;
		return;
	}
	hp->state = HS_OK;
	pr_debug("hotspot: process %u runs a JVM: %u code heaps in [0x%llx, 0x%llx)", hp->pid,
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
	struct hsproc *hp = proc_find(h, pid);
	size_t i, k;

	if (exited) {
		if (hp) {
			hp->exited = true;
			bpf_map_delete_elem(h->procs_fd, &pid);
		}
		return;
	}
	if (hp && !hp->exited) {
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
		f = file_of(h, pid, m);
		if (!f || !f->ok)
			continue;
		if (m->pgoff < (f->x_off & ~4095ULL) || m->pgoff > f->x_off + 4096)
			continue;
		if (!hp) {
			if (grow_array((void **)&h->procs, &h->cap_procs, h->nr_procs + 1,
				       sizeof(*hp)))
				return;
			hp = &h->procs[h->nr_procs++];
		}
		memset(hp, 0, sizeof(*hp));
		hp->pid = pid;
		hp->f = f;
		bias = m->start - (m->pgoff - f->x_off + f->x_vaddr);
		for (k = 0; k < HS_NR_SYMS; k++)
			hp->syms[k] = f->vaddr[k] + bias;
		attach(h, hp);
		return;
	}
}

static struct hsname *name_slot(struct hotspot *h, uint32_t pid, uint64_t pc)
{
	size_t j;

	if (!h->cap_names)
		return NULL;
	j = hash_mix(pc ^ (uint64_t)pid << 48 ^ pid) & (h->cap_names - 1);
	while (h->names[j].pc) {
		if (h->names[j].pc == pc && h->names[j].pid == pid)
			return &h->names[j];
		j = (j + 1) & (h->cap_names - 1);
	}
	return &h->names[j];
}

static int names_reserve(struct hotspot *h)
{
	struct hsname *old = h->names, *s;
	size_t cap = h->cap_names, i;

	if ((h->nr_names + 1) * 4 < h->cap_names * 3)
		return 0;
	h->cap_names = cap ? cap * 2 : 1024;
	h->names = calloc(h->cap_names, sizeof(*h->names));
	if (!h->names) {
		h->names = old;
		h->cap_names = cap;
		return -ENOMEM;
	}
	for (i = 0; i < cap; i++) {
		if (!old[i].pc)
			continue;
		s = name_slot(h, old[i].pid, old[i].pc);
		*s = old[i];
	}
	free(old);
	return 0;
}

/*
 * The name of the code cache address pc of pid (or of the Method* pc & ~HS_KEY_METHOD), read
 * while the process lives; NULL if none.
 */
static const char *name_of(struct hotspot *h, uint32_t pid, uint64_t pc)
{
	struct hsproc *hp;
	struct hsname *s = name_slot(h, pid, pc);
	char buf[512];
	int err;

	if (s && s->pc)
		return s->name;
	hp = proc_find(h, pid);
	if (!hp || hp->exited || hp->state != HS_OK || h->nr_names >= HS_MAX_NAMES)
		return NULL;
	if (pc & HS_KEY_METHOD)
		err = hotspot__name_method(read_proc, &hp->pid, &hp->lo, pc & ~HS_KEY_METHOD, buf,
					   sizeof(buf));
	else if (pc >= hp->hp.code_start && pc < hp->hp.code_end)
		err = hotspot__name_pc(read_proc, &hp->pid, &hp->lo, &hp->hp, pc, buf,
				       sizeof(buf));
	else
		return NULL;
	if (!err && !buf[0])
		err = -EINVAL;
	if (err) {
		h->read_failed++;
		return NULL;
	}
	if (names_reserve(h))
		return NULL;
	s = name_slot(h, pid, pc);
	s->name = strdup(buf);
	if (!s->name)
		return NULL;
	s->pid = pid;
	s->pc = pc;
	h->nr_names++;
	return s->name;
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

	if (!h || !(hp = proc_find(h, pid)) || hp->exited)
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
	struct hsname *old;
	size_t i, k = 0, cap;

	if (!h)
		return;
	for (i = 0; i < h->nr_procs; i++)
		if (!h->procs[i].exited)
			h->procs[k++] = h->procs[i];
	if (k == h->nr_procs)
		return;
	h->nr_procs = k;
	old = h->names;
	cap = h->cap_names;
	h->names = calloc(cap ? cap : 1, sizeof(*h->names));
	if (!h->names) {
		h->names = old;
		return;
	}
	h->nr_names = 0;
	for (i = 0; i < cap; i++) {
		struct hsname *s;

		if (!old[i].pc)
			continue;
		if (!proc_find(h, old[i].pid)) {
			free(old[i].name);
			continue;
		}
		s = name_slot(h, old[i].pid, old[i].pc);
		*s = old[i];
		h->nr_names++;
	}
	free(old);
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
	h->procs_fd = fd;
	if (uw && unwinder__add_proc_hook(uw, on_proc, h)) {
		free(h);
		return NULL;
	}
	return h;
}

void hotspot__free(struct hotspot *h)
{
	struct hsfile *f, *next;
	size_t i;

	if (!h)
		return;
	if (h->read_failed)
		pr_info("hotspot: %llu code cache addresses could not be named (freed, moved or "
			"exited), shown as [unknown]", (unsigned long long)h->read_failed);
	for (i = 0; i < h->cap_names; i++)
		free(h->names[i].name);
	free(h->names);
	free(h->procs);
	for (f = h->files; f; f = next) {
		next = f->next;
		free(f);
	}
	free(h);
}
