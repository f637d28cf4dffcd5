/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HotSpot (OpenJDK) frames: finds the JVM's self-description (gHotSpotVMStructs,
 * gHotSpotVMTypes, exported by libjvm.so for the serviceability agent) in a running process,
 * tells the BPF unwinder where its code heaps are and how big compiled frames are
 * (bpf/hotspot.h), and names addresses in the code cache: a compiled method becomes
 * "package.Class.method", another blob its own name ("Interpreter", stub names).
 * A language runtime module, as runtime/v8.c.
 */
#ifndef FLAMED_HOTSPOT_H
#define FLAMED_HOTSPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/hotspot.h"

struct hotspot;
struct sampler;
struct unwinder;
struct symbolizer;

/* The exported variables read, by index into hotspot__sym_names. */
enum hotspot_sym {
	HS_SYM_STRUCTS,		/* gHotSpotVMStructs: VMStructEntry * */
	HS_SYM_S_TYPE,		/* gHotSpotVMStructEntryTypeNameOffset */
	HS_SYM_S_FIELD,
	HS_SYM_S_STATIC,
	HS_SYM_S_OFFSET,
	HS_SYM_S_ADDRESS,
	HS_SYM_S_STRIDE,
	HS_SYM_TYPES,		/* gHotSpotVMTypes: VMTypeEntry * */
	HS_SYM_T_TYPE,
	HS_SYM_T_SIZE,
	HS_SYM_T_STRIDE,
	HS_SYM_INTS,		/* gHotSpotVMIntConstants: VMIntConstantEntry * */
	HS_SYM_I_NAME,
	HS_SYM_I_VALUE,
	HS_SYM_I_STRIDE,
	HS_NR_SYMS,
};
extern const char *const hotspot__sym_names[HS_NR_SYMS];

/* What flamed uses of the JVM's layout: offsets in bytes, static fields' addresses. */
struct hotspot_layout {
	/* Static fields (addresses in the process). */
	uint64_t cc_heaps;		/* CodeCache::_heaps: GrowableArray<CodeHeap*>* */
	uint64_t cc_low, cc_high;	/* CodeCache::_low_bound, _high_bound: address */
	/* Field offsets. */
	int64_t heap_memory, heap_segmap, heap_log2;	/* CodeHeap */
	int64_t vs_low_boundary, vs_high_boundary, vs_low;	/* VirtualSpace */
	int64_t ga_len, ga_data;	/* GrowableArrayBase::_len, GrowableArray<int>::_data */
	int64_t blob_name, blob_size, blob_frame_size;	/* CodeBlob */
	int64_t cm_method;		/* CompiledMethod::_method (or nmethod::_method) */
	int64_t method_const;		/* Method::_constMethod */
	int64_t cmethod_constants, cmethod_name, cmethod_sig;	/* ConstMethod */
	int64_t cp_holder;		/* ConstantPool::_pool_holder */
	int64_t klass_name;		/* Klass::_name */
	int64_t sym_length, sym_body;	/* Symbol */
	/* Type sizes. */
	int64_t heapblock_size;		/* sizeof(HeapBlock) */
	int64_t cp_size;		/* sizeof(ConstantPool): its slots follow */
	/*
	 * Optional (-1: absent, interpreted frames are not named): the interpreter's code,
	 * AbstractInterpreter::_code (StubQueue*: _stub_buffer, _buffer_limit), and the int
	 * constant frame::interpreter_frame_last_sp_offset (words from rbp; the Method* is the
	 * word below, frame_x86.hpp).
	 */
	int64_t ai_code;
	int64_t sq_buffer, sq_limit;
	int64_t last_sp_offset;
	/*
	 * Optional, scope descriptors (scopes 0 when any is absent: a compiled frame is its
	 * nmethod's method alone): CodeBlob::_code_begin (address), CompiledMethod::
	 * _scopes_data_begin (address), nmethod::_metadata_offset, _scopes_pcs_offset,
	 * _dependencies_offset (int, from the nmethod), PcDesc::_pc_offset (from _code_begin),
	 * _scope_decode_offset (int), sizeof(PcDesc).
	 */
	int64_t blob_code_begin, cm_scopes_data;
	int64_t nm_metadata, nm_scopes_pcs, nm_deps;
	int64_t pcd_pc, pcd_scope, pcd_size;
	/*
	 * Optional, line numbers (lines 0 when any is absent): ConstMethod::_flags (u2),
	 * _code_size (u2), _constMethod_size (int, words), sizeof(ConstMethod) (the bytecodes
	 * follow it, then the compressed line number table), the int constant
	 * ConstMethod::_has_linenumber_table; ConstantPool::_source_file_name_index (u2).
	 */
	int64_t cmethod_flags, cmethod_code_size, cmethod_size, cmethod_hdr;
	int64_t has_lines_flag;
	int64_t cp_source;
	int64_t scopes, lines;		/* 1: the parts above are whole and in range */
};

/* Reads len bytes at addr of the process (or a test's buffer): 0 or -errno. */
typedef int (*hotspot_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/*
 * Parses the VMStructs and VMTypes tables through rd, from the addresses of the exported
 * variables (syms, in the reader's address space) into lo. 0; -EAGAIN when the tables are not
 * set up yet (a JVM starting: strides still 0); -ENOENT naming what is missing in *missing;
 * -EFAULT on a failed read; -EINVAL for values out of range.
 */
int hotspot__parse(hotspot_read_fn rd, void *ctx, const uint64_t syms[HS_NR_SYMS],
		   struct hotspot_layout *lo, const char **missing);

/* "pkg.Class.method" of the Method* m into out (through rd). 0, -EFAULT. */
int hotspot__name_method(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
			 uint64_t m, char *out, size_t len);

/*
 * Names the code cache address pc (through rd, with the layout lo and the heaps of hp) into
 * out: "pkg.Class.method" for a compiled method, the blob's name for another blob. 0, -ENOENT
 * when pc is in no blob, -EFAULT on a failed read.
 */
int hotspot__name_pc(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
		     const struct hotspot_proc *hp, uint64_t pc, char *out, size_t len);

/* Scopes of one compiled PC decoded at most (C2's MaxInlineLevel is 15 in JDK 17). */
#define HOTSPOT_MAX_SCOPES 16

/* One frame of a compiled PC: its method (or blob), source file and line. */
struct hotspot_frame {
	char name[256];		/* "pkg.Class.method", or a blob's name */
	char file[128];		/* "Hot.java"; "" unknown */
	uint32_t line;		/* 0: unknown */
};

/*
 * The frames of the code cache address pc, root first: a compiled method's, then the methods
 * inlined into it at pc from its scope descriptors, innermost last, each with its line; one
 * frame (hotspot__name_pc's name) when the nmethod has no scope there or anything in it reads
 * wrong. pc is a sampled PC or a return address: its PcDesc the first at or after it (a
 * return address's is the call's, at it exactly; a leaf's the next safepoint or call, as
 * async-profiler does; the last before it when none after has a scope). The number of
 * frames (>= 1), -ENOENT when pc is in no blob, -EFAULT on a failed read.
 */
int hotspot__frames_pc(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
		       const struct hotspot_proc *hp, uint64_t pc,
		       struct hotspot_frame *out, int max);

/*
 * An interpreted frame: the Method* m's name, and with the layout's line parts its file and
 * the line of the bytecode whose pointer's low 16 bits are bcp16 (bpf/hotspot.h). 0, or
 * hotspot__name_method's error.
 */
int hotspot__name_interpreted(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
			       uint64_t m, uint16_t bcp16, struct hotspot_frame *out);

/*
 * JDK 17's CompressedReadStream::read_int (UNSIGNED5 of Pack200: a byte below 192 ends a
 * number, at most five bytes) at *pos of buf: 0 and *pos past it, -EINVAL past len.
 */
int hotspot__read_u5(const uint8_t *buf, size_t len, size_t *pos, uint32_t *v);

/* A scope descriptor's header (ScopeDesc::decode_body). */
struct hotspot_scope {
	uint32_t sender;	/* the caller's scope's decode offset; 0: none (the outermost) */
	uint32_t method;	/* index into the nmethod's metadata, from 1 */
	int32_t bci;		/* -1: InvocationEntryBci */
};

/* The header of the scope at off of the scopes data buf (len bytes). 0, -EINVAL. */
int hotspot__scope_decode(const uint8_t *buf, size_t len, uint32_t off,
			  struct hotspot_scope *s);

/*
 * The line of bci (-1: the method's entry, as 0) in a compressed line number table (buf, len
 * bytes; CompressedLineNumberReadStream): the line of bci's own pair, else of the pair with
 * the largest bci below it. 0 when none, or when the table is cut or runs past len.
 */
uint32_t hotspot__line_of_bci(const uint8_t *buf, size_t len, int32_t bci);

/*
 * The scope decode offset of the PcDesc for pc_offset in an nmethod's PcDescs (n of them at
 * pcs, stride bytes apart, sorted by _pc_offset, read through rd): the first whose
 * _pc_offset is at or after pc_offset (the exact one of a return address); when that one has
 * no scope (the end's), the last before it with one. 0 and *scope, or -ENOENT, -EFAULT.
 */
int hotspot__find_pcdesc(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
			 uint64_t pcs, uint32_t n, int32_t pc_offset, uint32_t *scope);

/*
 * The heaps of the process (through rd) into hp. 0; -EAGAIN when the code cache is not set up
 * yet; -EFAULT, -EINVAL.
 */
int hotspot__read_heaps(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
			struct hotspot_proc *hp);

/* NULL when the sampler has no DWARF unwinding or on ENOMEM. */
struct hotspot *hotspot__new(struct sampler *smp, struct unwinder *uw);
/* Names code cache addresses for sym from now on (h may be NULL: nothing). */
void hotspot__use_symbolizer(struct hotspot *h, struct symbolizer *sym);
void hotspot__free(struct hotspot *h);
/* Names the code cache addresses of a stack now, while the process lives. */
void hotspot__prefetch(struct hotspot *h, uint32_t pid, const uint64_t *ustack, int n);
/* Forgets the names of processes that have exited (after a profile used them). */
void hotspot__trim(struct hotspot *h);

#endif
