// SPDX-License-Identifier: GPL-2.0-only
/*
 * V8 in profiled processes (Node.js): its post-mortem metadata, frames for the BPF unwinder, and
 * names of the functions it reports.
 *
 * Detection: a mapped file named node or libnode.so* whose symbols include V8's post-mortem
 * metadata, the v8dbg_* variables that V8's tools/gen-postmortem-metadata.py generates (frame
 * offsets, object field offsets, instance types, tags; Node.js 20's binary exports ~530), and
 * v8_Default_embedded_blob_code_ with its size (the builtins: interpreter, stubs). Every offset
 * used is read from those variables in the file; a binary missing one, or whose tags are not
 * V8's usual ones (heap object tag 1, mask 3, 8-byte tagged values: no pointer compression), is
 * reported once and profiled natively.
 *
 * Naming reads the SharedFunctionInfo BPF reported from the process (process_vm_readv, which
 * fails rather than blocks or faults): its map's instance type must be
 * SHARED_FUNCTION_INFO_TYPE; its name_or_scope_info is the name (a String) or a ScopeInfo,
 * whose function name follows the context locals (v8dbg_scopeinfo_idx_first_vars + 2 x
 * locals); its script_or_debug_info a Script whose name is the file. Strings: sequential
 * one-byte and two-byte, thin, sliced and cons (one level). Names are cached per (process,
 * SharedFunctionInfo), bounded, and dropped after the process exits and a profile used them.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "base/log.h"
#include "base/util.h"
#include "sample/procs.h"
#include "sample/sampler.h"
#include "unwind/unwinder.h"
#include "aggregate/profile.h"
#include "symbolize/symbolize.h"
#include "runtime/rtbase.h"
#include "runtime/v8.h"

/* The metadata naming needs and BPF needs, as read from the binary. */
struct v8_meta {
	int64_t fp_marker, fp_function, fn_shared;
	int64_t sfi_name, sfi_script, script_name, script_source, obj_map, map_type;
	int64_t str_length, seq1_chars, seq2_chars, cons_first, cons_second, sliced_parent,
		sliced_offset, thin_actual;
	int64_t type_sfi, type_scope_info, type_script, first_nonstring;
	int64_t rep_mask, enc_mask, one_byte_tag, seq_tag, cons_tag, sliced_tag, thin_tag;
	int64_t si_first_vars, si_nlocals;
	int64_t heap_tag, heap_tag_mask, tagged_size, smi_shift;
	int64_t blob_code_size;
	uint64_t blob_code;	/* an address (the symbol's value), not a variable */
};

static const struct {
	const char *name;
	size_t off;
} meta_syms[] = {
#define M(sym, field) { "v8dbg_" sym, offsetof(struct v8_meta, field) }
	M("off_fp_context_or_frame_type", fp_marker),
	M("off_fp_function", fp_function),
	M("class_JSFunction__shared__SharedFunctionInfo", fn_shared),
	M("class_SharedFunctionInfo__name_or_scope_info__Object", sfi_name),
	M("class_SharedFunctionInfo__script_or_debug_info__HeapObject", sfi_script),
	M("class_Script__name__Object", script_name),
	M("class_Script__source__Object", script_source),
	M("class_HeapObject__map__Map", obj_map),
	M("class_Map__instance_type__uint16_t", map_type),
	M("class_String__length__int32_t", str_length),
	M("class_SeqOneByteString__chars__char", seq1_chars),
	M("class_SeqTwoByteString__chars__char", seq2_chars),
	M("class_ConsString__first__String", cons_first),
	M("class_ConsString__second__String", cons_second),
	M("class_SlicedString__parent__String", sliced_parent),
	M("class_SlicedString__offset__SMI", sliced_offset),
	M("class_ThinString__actual__String", thin_actual),
	M("type_SharedFunctionInfo__SHARED_FUNCTION_INFO_TYPE", type_sfi),
	M("type_ScopeInfo__SCOPE_INFO_TYPE", type_scope_info),
	M("type_Script__SCRIPT_TYPE", type_script),
	M("FirstNonstringType", first_nonstring),
	M("StringRepresentationMask", rep_mask),
	M("StringEncodingMask", enc_mask),
	M("OneByteStringTag", one_byte_tag),
	M("SeqStringTag", seq_tag),
	M("ConsStringTag", cons_tag),
	M("SlicedStringTag", sliced_tag),
	M("ThinStringTag", thin_tag),
	M("scopeinfo_idx_first_vars", si_first_vars),
	M("scopeinfo_idx_ncontextlocals", si_nlocals),
	M("HeapObjectTag", heap_tag),
	M("HeapObjectTagMask", heap_tag_mask),
	M("TaggedSize", tagged_size),
	M("SmiShiftSize", smi_shift),
#undef M
	{ "v8_Default_embedded_blob_code_size_", offsetof(struct v8_meta, blob_code_size) },
};

/* One file's metadata (by identity), read once. */
struct v8file {
	struct rt_file h;
	struct v8_meta m;
};

struct v8proc {
	struct rt_proc h;
	const struct v8file *f;
	uint64_t remap_start;	/* as told to BPF */
};

/* h.addr: the SharedFunctionInfo, untagged. */
struct v8name {
	struct rt_name h;
	char *name;		/* "func (file.js)" */
	char *func;
	char *file;		/* the script's name as V8 has it; NULL: none */
	uint32_t line;		/* the function's first line, 0: unknown */
	uint8_t line_tries;	/* no line yet: namings left that read the function again */
};

/*
 * A function sampled while V8 compiles it (CompileLazy) has its name and no ScopeInfo yet, so
 * no position: read again at its next namings, rather than left without a line for good.
 */
#define V8_LINE_TRIES 16

/* Bytes of a string read. */
#define V8_STR_MAX 512

struct v8 {
	struct rt_procs procs;	/* struct v8proc */
	struct rt_names names;	/* struct v8name */
	struct rt_files files;	/* struct v8file */
	uint64_t read_failed;	/* functions that could not be read or were not one */
	char disp[2 * V8_STR_MAX + 16];
};

/* A variable's value at vaddr (size bytes, little endian) from the file; bss reads as 0. */
static int read_var(int fd, Elf *elf, uint64_t vaddr, size_t size, int64_t *ret)
{
	size_t nph, i;
	uint8_t b[8] = { 0 };
	int64_t v;

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	if (elf_getphdrnum(elf, &nph))
		return -EINVAL;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || vaddr < ph.p_vaddr ||
		    vaddr + size > ph.p_vaddr + ph.p_memsz)
			continue;
		if (vaddr + size <= ph.p_vaddr + ph.p_filesz &&
		    pread(fd, b, size, ph.p_offset + (vaddr - ph.p_vaddr)) != (ssize_t)size)
			return -EIO;
		/* Sign-extended: frame offsets are negative. */
		if (size == 1)
			v = b[0] >= 0x80 ? (int64_t)b[0] - 0x100 : (int64_t)b[0];
		else if (size == 2)
			v = (int16_t)(b[0] | b[1] << 8);
		else if (size == 4)
			v = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
				      (uint32_t)b[3] << 24);
		else
			memcpy(&v, b, 8);
		*ret = v;
		return 0;
	}
	return -ENOENT;
}

/* What reading one file's metadata keeps between its symbols. */
struct meta_scan {
	struct v8file *f;
	int fd;
	Elf *elf;
	bool found[ARRAY_SIZE(meta_syms)];
};

static void meta_sym(void *ctx, const char *name, const GElf_Sym *sym)
{
	struct meta_scan *ms = ctx;
	size_t i;

	if (name[0] != 'v' || name[1] != '8')
		return;
	if (!strcmp(name, "v8_Default_embedded_blob_code_")) {
		ms->f->m.blob_code = sym->st_value;
		return;
	}
	for (i = 0; i < ARRAY_SIZE(meta_syms); i++) {
		if (ms->found[i] || strcmp(name, meta_syms[i].name))
			continue;
		/* No size (the blob's, from assembly): a uint32_t, as V8 declares it. */
		if (!read_var(ms->fd, ms->elf, sym->st_value, sym->st_size ? sym->st_size : 4,
			      (int64_t *)((char *)&ms->f->m + meta_syms[i].off)))
			ms->found[i] = true;
		break;
	}
}

/* The metadata in f's file (fd): 0, or -ENOENT naming the first missing symbol in *missing. */
static int file_meta(struct v8file *f, int fd, Elf *elf, const char **missing)
{
	struct meta_scan ms = { .f = f, .fd = fd, .elf = elf };
	size_t i;

	rtbase__file_symbols(elf, meta_sym, &ms);
	for (i = 0; i < ARRAY_SIZE(meta_syms); i++) {
		/* The builtins' range is in .symtab only: a stripped binary has JIT frames named. */
		if (!ms.found[i] && meta_syms[i].off == offsetof(struct v8_meta, blob_code_size))
			continue;
		if (!ms.found[i]) {
			*missing = meta_syms[i].name;
			return -ENOENT;
		}
	}
	return 0;
}

/* Whether the metadata agrees with what bpf/v8_unwind.h and the readers below assume. */
static bool meta_consistent(const struct v8_meta *m)
{
	return m->heap_tag == 1 && m->heap_tag_mask == 3 && m->tagged_size == 8 &&
	       m->smi_shift == 31 && m->fp_marker < 0 && m->fp_marker >= -64 &&
	       m->fp_function < 0 && m->fp_function >= -64 && m->fn_shared > 0 &&
	       m->fn_shared < 256 && m->blob_code_size >= 0 && m->si_first_vars > 0 &&
	       m->si_first_vars < 16 && m->si_nlocals > 0 && m->si_nlocals < 16;
}

static bool v8_name(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return !strcmp(b, "node") || !strncmp(b, "libnode.so", 10);
}

static void file_scan(struct rt_file *rf, Elf *elf, int fd, const struct map_entry *m,
		      uint32_t pid)
{
	struct v8file *f = (struct v8file *)rf;
	const char *missing = NULL;

	if (file_meta(f, fd, elf, &missing))
		pr_warn("v8: %s (process %u) has no %s among V8's post-mortem metadata: its "
			"JavaScript functions are not named, native frames only", m->path, pid,
			missing);
	else if (!meta_consistent(&f->m))
		pr_warn("v8: %s (process %u) has V8 metadata flamed does not support (tags, "
			"tagged size or frame offsets out of range): its JavaScript functions are "
			"not named, native frames only", m->path, pid);
	else
		f->h.ok = true;
	if (f->h.ok && (!f->m.blob_code || !f->m.blob_code_size)) {
		f->m.blob_code = 0;
		pr_warn("v8: %s (process %u) has no v8_Default_embedded_blob_code_ (no .symtab): "
			"interpreted JavaScript functions keep their native frames, compiled ones are "
			"named", m->path, pid);
	}
}

/*
 * Where the builtins of f (mapped as m0) run again in a second mapping of the same file (V8's
 * RemapEmbeddedBuiltins, for short builtin calls from the JIT code range): its start, 0 if
 * none. The blob's file offset comes from the executable segment's offset-to-address delta.
 */
static uint64_t builtins_remap(const struct v8file *f, const struct map_entry *m0,
			       const struct map_entry *maps, size_t n, uint64_t main_start)
{
	uint64_t foff, size = f->m.blob_code_size;
	size_t i;

	if (!f->m.blob_code || f->m.blob_code < f->h.x_vaddr)
		return 0;
	foff = f->m.blob_code - f->h.x_vaddr + f->h.x_off;
	for (i = 0; i < n; i++) {
		const struct map_entry *m = &maps[i];

		if (m->ino != m0->ino || m->maj != m0->maj || m->min != m0->min ||
		    foff < m->pgoff || foff - m->pgoff + size > m->end - m->start)
			continue;
		if (m->start + (foff - m->pgoff) != main_start)
			return m->start + (foff - m->pgoff);
	}
	return 0;
}

static void on_proc(void *ctx, uint32_t pid, const struct map_entry *maps, size_t n, bool exited)
{
	struct v8 *v = ctx;
	struct v8proc *vp = rtbase__proc_find(&v->procs, pid);
	struct v8_proc bp = { 0 };
	size_t i;

	if (exited) {
		rtbase__proc_exited(&v->procs, pid);
		return;
	}
	for (i = 0; i < n; i++) {
		const struct map_entry *m = &maps[i];
		struct v8file *f;
		uint64_t bias;

		if (!m->ino || !v8_name(m->path))
			continue;
		f = rtbase__file_of(&v->files, pid, m);
		if (!f || !f->h.ok || !rtbase__file_bias(&f->h, m, &bias))
			continue;
		/* Without the builtins' range an empty one, not 0: 0 means no V8 to BPF. */
		bp.code_start = f->m.blob_code ? f->m.blob_code + bias : 1;
		bp.code_end = f->m.blob_code ? bp.code_start + f->m.blob_code_size : 1;
		bp.remap_start = builtins_remap(f, m, maps, n, bp.code_start);
		bp.remap_end = bp.remap_start ? bp.remap_start + f->m.blob_code_size : 0;
		if (vp && vp->f == f && vp->remap_start == bp.remap_start && !vp->h.exited)
			return;	/* told already */
		vp = rtbase__proc_add(&v->procs, pid);
		if (!vp)
			return;
		vp->f = f;
		vp->remap_start = bp.remap_start;
		bp.fp_marker = f->m.fp_marker;
		bp.fp_function = f->m.fp_function;
		bp.fn_shared = f->m.fn_shared;
		if (bpf_map_update_elem(v->procs.map_fd, &pid, &bp, BPF_ANY))
			pr_warn("v8: cannot add process %u: %s, ignoring", pid, strerror(errno));
		else
			pr_debug("v8: process %u runs V8 (%s)", pid, m->path);
		return;
	}
}

/* The instance type of the tagged heap object obj, or -1. */
static int obj_type(uint32_t pid, const struct v8_meta *m, uint64_t obj)
{
	uint64_t map;
	uint16_t t;

	if ((obj & 3) != 1 || rtbase__read_u64(pid, obj - 1 + m->obj_map, &map) || (map & 3) != 1 ||
	    rtbase__read_all(pid, map - 1 + m->map_type, &t, 2))
		return -1;
	return t;
}

static size_t put_utf8(char *out, size_t pos, size_t outlen, uint32_t c)
{
	char b[4];
	size_t n;

	if (c >= 0xd800 && c < 0xe000)
		c = 0xfffd;
	if (!c)
		c = 0xfffd;
	if (c < 0x80) {
		b[0] = c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = 0xc0 | c >> 6;
		b[1] = 0x80 | (c & 0x3f);
		n = 2;
	} else {
		b[0] = 0xe0 | c >> 12;
		b[1] = 0x80 | (c >> 6 & 0x3f);
		b[2] = 0x80 | (c & 0x3f);
		n = 3;
	}
	if (pos + n >= outlen)
		return 0;
	memcpy(out + pos, b, n);
	return n;
}

/*
 * Appends the V8 String str (tagged) to out at *pos (UTF-8, NUL-terminated, cut at outlen):
 * sequential, thin, sliced (of a sequential) and cons strings (depth levels). 0 or -errno.
 */
static int read_string(uint32_t pid, const struct v8_meta *m, uint64_t str, char *out,
		       size_t outlen, size_t *pos, int depth)
{
	uint8_t buf[2 * V8_STR_MAX];
	int32_t len;
	uint64_t a, b, off = 0;
	int t = obj_type(pid, m, str), rep, w;
	size_t i;

	if (t < 0 || t >= m->first_nonstring || depth < 0)
		return -EINVAL;
	if (rtbase__read_all(pid, str - 1 + m->str_length, &len, 4) || len < 0)
		return -EFAULT;
	rep = t & m->rep_mask;
	if (rep == m->thin_tag) {
		if (rtbase__read_u64(pid, str - 1 + m->thin_actual, &a))
			return -EFAULT;
		return read_string(pid, m, a, out, outlen, pos, depth - 1);
	}
	if (rep == m->cons_tag) {
		if (rtbase__read_u64(pid, str - 1 + m->cons_first, &a) ||
		    rtbase__read_u64(pid, str - 1 + m->cons_second, &b))
			return -EFAULT;
		if (read_string(pid, m, a, out, outlen, pos, depth - 1))
			return -EINVAL;
		return read_string(pid, m, b, out, outlen, pos, depth - 1);
	}
	if (rep == m->sliced_tag) {
		if (rtbase__read_u64(pid, str - 1 + m->sliced_parent, &a) ||
		    rtbase__read_u64(pid, str - 1 + m->sliced_offset, &off))
			return -EFAULT;
		off >>= 32;	/* a Smi (SmiShiftSize 31 + the tag bit) */
		str = a;
		t = obj_type(pid, m, str);
		if (t < 0 || t >= m->first_nonstring || (t & m->rep_mask) != m->seq_tag)
			return -EINVAL;
	} else if (rep != m->seq_tag) {
		return -EINVAL;	/* external strings: not read yet */
	}
	w = (t & m->enc_mask) == m->one_byte_tag ? 1 : 2;
	if (len > V8_STR_MAX)
		len = V8_STR_MAX;
	if (len && rtbase__read_all(pid,
				    str - 1 + (w == 1 ? m->seq1_chars : m->seq2_chars) + off * w,
				    buf, (size_t)len * w))
		return -EFAULT;
	for (i = 0; i < (size_t)len; i++) {
		uint32_t c = w == 1 ? buf[i] : (uint32_t)(buf[2 * i] | buf[2 * i + 1] << 8);
		size_t k = put_utf8(out, *pos, outlen, c);

		if (!k)
			break;
		*pos += k;
	}
	out[*pos] = 0;
	return 0;
}

static int read_str(uint32_t pid, const struct v8_meta *m, uint64_t str, char *out, size_t len)
{
	size_t pos = 0;

	out[0] = 0;
	return read_string(pid, m, str, out, len, &pos, 2);
}

/*
 * The function name of a ScopeInfo: after the context locals' names and infos; then its slot
 * index, the inferred name and the function's start and end positions (as Node.js 20 lays
 * them out: *start is left alone unless those slots are Smis in order).
 */
static int scope_name(uint32_t pid, const struct v8_meta *m, uint64_t si, char *out, size_t len,
		      int64_t *start)
{
	uint64_t n, s, pos[4];
	int err;

	/* Slots follow the map, one tagged word each. */
	if (rtbase__read_u64(pid, si - 1 + m->tagged_size * (1 + m->si_nlocals), &n) || (n & 1))
		return -EINVAL;
	n >>= 32;
	if (n > 75)	/* more locals are in a hash table (kScopeInfoMaxInlinedLocalNamesSize) */
		return -EINVAL;
	if (rtbase__read_u64(pid, si - 1 + m->tagged_size * (1 + m->si_first_vars + 2 * n), &s))
		return -EFAULT;
	err = read_str(pid, m, s, out, len);
	if (!err &&
	    !rtbase__read_all(pid, si - 1 + m->tagged_size * (2 + m->si_first_vars + 2 * n), pos,
			      sizeof(pos)) &&
	    !(pos[0] & 1) && !(pos[2] & 1) && !(pos[3] & 1) &&
	    (int64_t)pos[2] >> 32 >= 0 && (int64_t)pos[2] >> 32 <= (int64_t)pos[3] >> 32)
		*start = (int64_t)pos[2] >> 32;
	return err;
}

/* Bytes of a script's source read to find a line (a function further down has no line). */
#define V8_SOURCE_MAX (1 << 20)

/* The line (from 1) of position pos in the script's source (a sequential string), or 0. */
static uint32_t source_line(uint32_t pid, const struct v8_meta *m, uint64_t src, int64_t pos)
{
	uint8_t buf[16384];
	uint64_t a;
	uint32_t line = 1;
	int64_t done = 0;
	int t = obj_type(pid, m, src), w;

	if (t >= 0 && t < m->first_nonstring && (t & m->rep_mask) == m->thin_tag) {
		if (rtbase__read_u64(pid, src - 1 + m->thin_actual, &a))
			return 0;
		src = a;
		t = obj_type(pid, m, src);
	}
	if (t < 0 || t >= m->first_nonstring || (t & m->rep_mask) != m->seq_tag || pos < 0 ||
	    pos > V8_SOURCE_MAX)
		return 0;
	w = (t & m->enc_mask) == m->one_byte_tag ? 1 : 2;
	a = src - 1 + (w == 1 ? m->seq1_chars : m->seq2_chars);
	while (done < pos) {
		int64_t k = pos - done, i;

		if (k > (int64_t)sizeof(buf) / w)
			k = sizeof(buf) / w;
		if (rtbase__read_all(pid, a + done * w, buf, k * w))
			return 0;
		for (i = 0; i < k; i++)
			if (buf[i * w] == '\n' && (w == 1 || !buf[i * w + 1]))
				line++;
		done += k;
	}
	return line;
}

static void v8name_clear(struct v8name *n)
{
	free(n->name);
	free(n->func);
	free(n->file);
	memset(n, 0, sizeof(*n));
}

static void name_clear(void *ctx, void *n)
{
	v8name_clear(n);
}

/* Reads the SharedFunctionInfo sfi (untagged) of vp into ret. 0 or -errno. */
static int name_sfi(const struct v8proc *vp, uint64_t sfi, struct v8name *ret)
{
	const struct v8_meta *m = &vp->f->m;
	char func[V8_STR_MAX], file[V8_STR_MAX], buf[2 * V8_STR_MAX + 8];
	uint64_t obj = sfi + 1, nos, script, sn, src, again;
	const char *base;
	int64_t start = -1;
	uint32_t line = 0;
	int t;

	if (obj_type(vp->h.pid, m, obj) != m->type_sfi)
		return -EINVAL;	/* moved or freed since the sample: not named */
	if (rtbase__read_u64(vp->h.pid, obj - 1 + m->sfi_name, &nos))
		return -EFAULT;
	t = obj_type(vp->h.pid, m, nos);
	func[0] = 0;
	if (t >= 0 && t < m->first_nonstring)
		read_str(vp->h.pid, m, nos, func, sizeof(func));
	else if (t == m->type_scope_info)
		scope_name(vp->h.pid, m, nos, func, sizeof(func), &start);
	file[0] = 0;
	if (!rtbase__read_u64(vp->h.pid, obj - 1 + m->sfi_script, &script) &&
	    obj_type(vp->h.pid, m, script) == m->type_script &&
	    !rtbase__read_u64(vp->h.pid, script - 1 + m->script_name, &sn)) {
		read_str(vp->h.pid, m, sn, file, sizeof(file));
		if (start >= 0 && !rtbase__read_u64(vp->h.pid, script - 1 + m->script_source, &src))
			line = source_line(vp->h.pid, m, src, start);
		/*
		 * A GC that moved the source while it was read left other bytes there: counted
		 * again at a next naming (line_tries) rather than kept wrong.
		 */
		if (line && (rtbase__read_u64(vp->h.pid, script - 1 + m->script_source, &again) ||
			     again != src || obj_type(vp->h.pid, m, obj) != m->type_sfi))
			line = 0;
	}
	if (!func[0])
		snprintf(func, sizeof(func), "(anonymous)");
	base = strrchr(file, '/');
	base = base ? base + 1 : file;
	snprintf(buf, sizeof(buf), "%s (%s)", func, *base ? base : "?");
	memset(ret, 0, sizeof(*ret));
	ret->name = strdup(buf);
	ret->func = strdup(func);
	ret->file = *file ? strdup(file) : NULL;
	ret->line = line;
	if (!ret->name || !ret->func || (*file && !ret->file)) {
		v8name_clear(ret);
		return -ENOMEM;
	}
	return 0;
}

/* The cached function (pid, sfi), read from the process while it lives; NULL if none. */
static const struct v8name *name_of(struct v8 *v, uint32_t pid, uint64_t sfi)
{
	struct v8proc *vp;
	struct v8name *s, n;

	s = rtbase__name_find(&v->names, pid, sfi);
	if (s && s->line_tries) {
		vp = rtbase__proc_find(&v->procs, pid);
		s->line_tries = vp && !vp->h.exited ? s->line_tries - 1 : 0;
		if (s->line_tries && !name_sfi(vp, sfi, &n)) {
			if (n.line) {
				/* The entry's key (s->h) stays: only what it names is replaced. */
				free(s->name);
				free(s->func);
				free(s->file);
				s->name = n.name;
				s->func = n.func;
				s->file = n.file;
				s->line = n.line;
				s->line_tries = 0;
			} else {
				v8name_clear(&n);
			}
		}
	}
	if (s)
		return s;
	vp = rtbase__proc_find(&v->procs, pid);
	if (!vp || vp->h.exited || v->names.nr >= RTBASE_MAX_NAMES)
		return NULL;
	if (name_sfi(vp, sfi, &n)) {
		v->read_failed++;
		return NULL;
	}
	if (!n.line)
		n.line_tries = V8_LINE_TRIES;
	return rtbase__name_add(&v->names, pid, sfi, &n);
}

static int runtime_frame(void *ctx, uint32_t pid, uint64_t frame, bool lines,
			 struct runtime_sym *ret)
{
	struct v8 *v = ctx;
	const struct v8name *n;

	if (!V8_FRAME_IS(frame))
		return -ENOENT;	/* another runtime's */
	n = name_of(v, pid, RUNTIME_FRAME_CODE(frame));
	memset(ret, 0, sizeof(*ret));
	ret->name = v->disp;
	if (!n) {
		snprintf(v->disp, sizeof(v->disp), "[v8 function 0x%llx]",
			 (unsigned long long)RUNTIME_FRAME_CODE(frame));
		return FRAME_V8;
	}
	ret->func = n->func;
	ret->file = n->file;
	ret->start_line = n->line;
	if (lines && n->line && n->file) {
		const char *base = strrchr(n->file, '/');

		/* The function's first line (the line running is not known yet). */
		snprintf(v->disp, sizeof(v->disp), "%s (%s:%u)", n->func, base ? base + 1 : n->file,
			 n->line);
	} else {
		snprintf(v->disp, sizeof(v->disp), "%s", n->name);
	}
	return FRAME_V8;
}

void v8__prefetch(struct v8 *v, uint32_t pid, const uint64_t *ustack, int n)
{
	int i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		if (V8_FRAME_IS(ustack[i]))
			name_of(v, pid, RUNTIME_FRAME_CODE(ustack[i]));
}

void v8__trim(struct v8 *v)
{
	if (v && rtbase__procs_trim(&v->procs))
		rtbase__names_trim(&v->names, &v->procs);
}

void v8__use_symbolizer(struct v8 *v, struct symbolizer *sym)
{
	if (v && sym)
		symbolizer__add_runtime_hook(sym, runtime_frame, v);
}

struct v8 *v8__new(struct sampler *smp, struct unwinder *uw)
{
	struct v8 *v;
	int fd = sampler__v8_procs_fd(smp);

	if (fd < 0)
		return NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	rtbase__procs_init(&v->procs, fd, sizeof(struct v8proc));
	rtbase__names_init(&v->names, sizeof(struct v8name), name_clear, v);
	v->files = (struct rt_files){ "v8", sizeof(struct v8file), file_scan, NULL, NULL };
	if (uw && unwinder__add_proc_hook(uw, on_proc, v)) {
		free(v);
		return NULL;
	}
	return v;
}

void v8__free(struct v8 *v)
{
	if (!v)
		return;
	if (v->read_failed)
		pr_info("v8: %llu JavaScript functions could not be read from their process "
			"(moved, freed or exited), shown as [v8 function ...]",
			(unsigned long long)v->read_failed);
	rtbase__names_release(&v->names);
	rtbase__procs_release(&v->procs);
	rtbase__files_release(&v->files);
	free(v);
}
