// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPython in profiled processes: detection, per-version layouts for the BPF unwinder, and
 * names of the code objects it reports.
 *
 * Detection: a mapping whose file is named python3.N or libpython3.N (the version comes from
 * the name) with the symbols _PyRuntime and _PyEval_EvalFrameDefault (.dynsym is enough:
 * Debian's stripped /usr/bin/python3.11 exports both). 3.6 has no _PyRuntime: its exported
 * _PyThreadState_Current (the thread state holding the GIL) leads to the interpreter instead,
 * so a 3.6 thread is found once any thread holds the GIL, and then remembered. The BPF
 * unwinder is then told where _PyRuntime is, which native frames are the eval loop, and the
 * version's offsets.
 *
 * Layouts are facts from CPython's headers at each version (Include/internal/pycore_runtime.h,
 * pycore_interp.h, pycore_frame.h, Include/cpython/pystate.h, code.h, unicodeobject.h,
 * frameobject.h), measured with offsetof() against the headers of 3.6.15, 3.7.16, 3.8.18, 3.9.18,
 * 3.10.13, 3.11.2 (Debian) and 3.11.7, 3.12.1 and 3.13.0 (x86_64).
 *
 * Naming reads the code object from the process (process_vm_readv): its type must be the
 * "code" type (checked once per process by its tp_name), then co_qualname (co_name before
 * 3.11) and co_filename. Names are cached per (process, code object) and read as soon as
 * samples are drained, while the process lives; a process's names are dropped after it exits
 * and a profile has used them (code objects are freed and reused only within a process).
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
#include "runtime/python.h"

#define N PY_NO_OFF

/* 3.6 ... 3.13; see the opening comment for where each figure comes from. */
static const struct python_layout layouts[] = {
	{ 6, { 0, 8, 8, 152, 24, N, 32, 24, 120, 0, 0, PY_MODEL_FRAMEOBJ, 16 }, 96, 104, N, 36, 48,
	  72, 112, PY_LINES_LNOTAB },
	{ 7, { 24, 8, 8, 176, 24, N, 32, 24, 104, 0, 0, PY_MODEL_FRAMEOBJ }, 96, 104, N, 36, 48, 72,
	  112, PY_LINES_LNOTAB },
	{ 8, { 32, 8, 8, 176, 24, N, 32, 24, 104, 0, 0, PY_MODEL_FRAMEOBJ }, 104, 112, N, 40, 48, 72,
	  120, PY_LINES_LNOTAB },
	{ 9, { 32, 8, 8, 176, 24, N, 32, 24, 104, 0, 0, PY_MODEL_FRAMEOBJ }, 104, 112, N, 40, 48, 72,
	  120, PY_LINES_LNOTAB },
	{ 10, { 32, 8, 8, 176, 24, N, 32, 24, 96, 0, 0, PY_MODEL_FRAMEOBJ }, 104, 112, N, 40, 48, 72,
	  120, PY_LINES_310 },
	{ 11, { 40, 16, 8, 152, 56, 8, 32, 48, 56, 68, 184, PY_MODEL_ENTRY }, 112, 120, 128, 72, 48,
	  72, 136, PY_LINES_LOCATIONS },
	{ 12, { 40, 72, 8, 136, 56, 0, 0, 8, 56, 70, 192, PY_MODEL_SHIM }, 112, 120, 128, 68, 40, 56,
	  136, PY_LINES_LOCATIONS },
	{ 13, { 632, 7344, 8, 152, 72, N, 0, 8, 56, 70, 200, PY_MODEL_SHIM }, 112, 120, 128, 68, 40,
	  56, 136, PY_LINES_LOCATIONS },
};

#undef N

int python__layout(unsigned int major, unsigned int minor, struct python_layout *ret)
{
	size_t i;

	for (i = 0; major == 3 && i < ARRAY_SIZE(layouts); i++) {
		if (layouts[i].minor == minor) {
			*ret = layouts[i];
			return 0;
		}
	}
	return -ENOTSUP;
}

int python__version_from_name(const char *path, unsigned int *major, unsigned int *minor)
{
	const char *b = strrchr(path, '/'), *p;
	unsigned int mi = 0;
	int digits = 0;

	b = b ? b + 1 : path;
	if (!strncmp(b, "lib", 3))
		b += 3;
	if (strncmp(b, "python3.", 8))
		return -EINVAL;
	for (p = b + 8; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
		mi = mi * 10 + (*p - '0');
	if (!digits)
		return -EINVAL;
	/* ABI flags (3.7's "m", debug "d"), then the end or a ".so" suffix. */
	while (*p == 'm' || *p == 'd' || *p == 'u')
		p++;
	if (*p && strncmp(p, ".so", 3))
		return -EINVAL;
	*major = 3;
	*minor = mi;
	return 0;
}

static size_t put_utf8(char *out, size_t pos, size_t outlen, uint32_t c)
{
	uint8_t b[4];
	size_t n, i;

	if (c >= 0xd800 && c < 0xe000)
		c = 0xfffd;	/* a lone surrogate: not valid UTF-8 */
	if (c < 0x80) {
		b[0] = c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = 0xc0 | c >> 6;
		b[1] = 0x80 | (c & 0x3f);
		n = 2;
	} else if (c < 0x10000) {
		b[0] = 0xe0 | c >> 12;
		b[1] = 0x80 | (c >> 6 & 0x3f);
		b[2] = 0x80 | (c & 0x3f);
		n = 3;
	} else if (c < 0x110000) {
		b[0] = 0xf0 | c >> 18;
		b[1] = 0x80 | (c >> 12 & 0x3f);
		b[2] = 0x80 | (c >> 6 & 0x3f);
		b[3] = 0x80 | (c & 0x3f);
		n = 4;
	} else {
		return put_utf8(out, pos, outlen, 0xfffd);
	}
	if (pos + n >= outlen)
		return 0;
	for (i = 0; i < n; i++)
		out[pos + i] = b[i];
	return n;
}

int python__decode_str(const struct python_layout *l, const uint8_t *buf, size_t len, char *out,
		       size_t outlen)
{
	uint32_t state, kind, width, c;
	int64_t length;
	size_t data, i, pos = 0, w;

	if (!outlen)
		return -EINVAL;
	out[0] = 0;
	if (len < 40 || len < l->str_ascii_size)
		return -EINVAL;
	memcpy(&length, buf + 16, sizeof(length));
	memcpy(&state, buf + 32, sizeof(state));
	kind = state >> 2 & 7;
	if (!(state >> 5 & 1) || length < 0)
		return -EINVAL;	/* not compact: never a code object's name or file */
	if (state >> 6 & 1) {
		if (kind != 1)
			return -EINVAL;
		data = l->str_ascii_size;
	} else {
		data = l->str_compact_size;
	}
	if (kind != 1 && kind != 2 && kind != 4)
		return -EINVAL;
	width = kind;
	for (i = 0; i < (uint64_t)length && data + (i + 1) * width <= len; i++) {
		const uint8_t *p = buf + data + i * width;

		if (width == 1) {
			c = p[0];
		} else if (width == 2) {
			uint16_t v;

			memcpy(&v, p, 2);
			c = v;
		} else {
			memcpy(&c, p, 4);
		}
		if (!c)
			c = 0xfffd;	/* NUL would end the name early */
		w = put_utf8(out, pos, outlen, c);
		if (!w)
			break;
		pos += w;
	}
	out[pos] = 0;
	return (int)pos;
}

/* 3.11's location table: a varint is 6-bit chunks, low first, 0x40 saying another follows. */
static bool loc_varint(const uint8_t *t, size_t len, size_t *pos, uint32_t *ret)
{
	uint32_t v = 0, shift = 0;

	while (*pos < len && shift < 32) {
		uint8_t b = t[(*pos)++];

		v |= (uint32_t)(b & 63) << shift;
		shift += 6;
		if (!(b & 64)) {
			*ret = v;
			return true;
		}
	}
	return false;
}

/*
 * Objects/locations.md (3.11+): entries of one byte 1CCCCLLL (code C, L + 1 code units), then
 * by code: 15 no location; 14 line delta (signed varint) and three varints; 13 line delta only;
 * 10-12 line delta C - 10 and two column bytes; 0-9 same line, one column byte.
 */
static uint32_t lines_locations(const uint8_t *t, size_t len, int64_t line, uint64_t addr)
{
	uint64_t start = 0, end;
	size_t pos = 0;
	uint32_t v, skip;

	while (pos < len) {
		uint8_t first = t[pos++];
		unsigned int code = first >> 3 & 15;
		bool none = false;

		if (!(first & 128))
			return 0;	/* not the start of an entry: a table misread */
		if (code == 15) {
			none = true;
		} else if (code == 14 || code == 13) {
			if (!loc_varint(t, len, &pos, &v))
				return 0;
			line += v & 1 ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
			for (skip = code == 14 ? 3 : 0; skip; skip--)
				if (!loc_varint(t, len, &pos, &v))
					return 0;
		} else if (code >= 10) {
			line += code - 10;
			pos += 2;
		} else {
			pos += 1;
		}
		end = start + (uint64_t)((first & 7) + 1) * 2;
		if (addr < end)
			return none || line <= 0 || line > UINT32_MAX ? 0 : (uint32_t)line;
		start = end;
	}
	return 0;
}

uint32_t python__line(const struct python_layout *l, const uint8_t *t, size_t len,
		      uint32_t firstlineno, uint32_t instr)
{
	int64_t line = firstlineno;
	uint64_t addr, start = 0, end = 0;
	size_t i;

	if (!instr)
		return 0;
	/* A byte offset, as PyCode_Addr2Line takes it. */
	addr = l->line_format == PY_LINES_LNOTAB ? instr - 1 : (uint64_t)(instr - 1) * 2;
	switch (l->line_format) {
	case PY_LINES_LNOTAB:
		/* Pairs (bytes advanced: unsigned, lines advanced: signed) up to the address. */
		for (i = 0; i + 1 < len; i += 2) {
			start += t[i];
			if (start > addr)
				break;
			line += (int8_t)t[i + 1];
		}
		break;
	case PY_LINES_310:
		/* Ranges: (length in bytes: unsigned, line delta: signed, -128 is no line). */
		for (i = 0; i + 1 < len; i += 2) {
			bool none = (int8_t)t[i + 1] == -128;

			start = end;
			end += t[i];
			if (!none)
				line += (int8_t)t[i + 1];
			if (addr >= start && addr < end)
				return none || line <= 0 || line > UINT32_MAX ? 0 : (uint32_t)line;
		}
		return 0;
	case PY_LINES_LOCATIONS:
		return lines_locations(t, len, line, addr);
	default:
		return 0;
	}
	return line <= 0 || line > UINT32_MAX ? 0 : (uint32_t)line;
}

/* Where a field of struct python_layout is, and the most it can be (BPF's reading window). */
struct layout_field {
	uint16_t at;		/* offset in what describes it (_Py_DebugOffsets) */
	uint16_t field;		/* offsetof(struct python_layout, ...) */
	uint16_t max;
	const char *name;	/* its name there (PyMemberDef.name) */
};

#define LF(at, f, max, name) { at, offsetof(struct python_layout, f), max, name }
#define LF_ANY (PY_NO_OFF - 1)

static int layout_set(struct python_layout *l, const struct layout_field *lf, uint64_t v)
{
	uint16_t *p = (uint16_t *)((char *)l + lf->field);

	if (v > lf->max)
		return -ENOTSUP;
	if (*p == v)
		return 0;
	*p = v;
	return 1;
}

/* 3.13's _Py_DebugOffsets (Include/internal/pycore_runtime.h of 3.13.0): field offsets. */
#define DBG_COOKIE "xdebugpy"
#define DBG_VERSION 8
#define DBG_FREE_THREADED 16
static const struct layout_field dbg313[] = {
	LF(40, off.rt_interp_head, LF_ANY, "runtime_state.interpreters_head"),
	LF(72, off.interp_threads, LF_ANY, "interpreter_state.threads_head"),
	LF(168, off.ts_next, LF_ANY, "thread_state.next"),
	LF(184, off.ts_frame, LF_ANY, "thread_state.current_frame"),
	LF(192, off.ts_thread_id, LF_ANY, "thread_state.thread_id"),
	LF(232, off.fr_previous, 120, "interpreter_frame.previous"),
	LF(240, off.fr_code, 120, "interpreter_frame.executable"),
	LF(248, off.fr_instr, 120, "interpreter_frame.instr_ptr"),
	LF(264, off.fr_entry, 127, "interpreter_frame.owner"),
	LF(280, co_filename, LF_ANY, "code_object.filename"),
	LF(288, co_name, LF_ANY, "code_object.name"),
	LF(296, co_qualname, LF_ANY, "code_object.qualname"),
	LF(304, co_linetable, LF_ANY, "code_object.linetable"),
	LF(312, co_firstlineno, LF_ANY, "code_object.firstlineno"),
	LF(344, off.co_code, LF_ANY, "code_object.co_code_adaptive"),
	LF(560, str_ascii_size, 72, "unicode_object.asciiobject_size"),
};
#define DBG313_LEN 568

int python__debug_offsets(struct python_layout *l, const uint8_t *buf, size_t len)
{
	struct python_layout n = *l;
	uint64_t version, ft, v;
	int moved = 0, r;
	size_t i;

	if (len < DBG313_LEN || memcmp(buf, DBG_COOKIE, 8))
		return -EINVAL;
	memcpy(&version, buf + DBG_VERSION, 8);
	memcpy(&ft, buf + DBG_FREE_THREADED, 8);
	/* PY_VERSION_HEX: 0xMMmmppTS */
	if (version >> 24 != 3 || (version >> 16 & 0xff) != l->minor || l->minor != 13 || ft)
		return -ENOTSUP;
	for (i = 0; i < ARRAY_SIZE(dbg313); i++) {
		memcpy(&v, buf + dbg313[i].at, 8);
		r = layout_set(&n, &dbg313[i], v);
		if (r < 0)
			return r;
		moved += r;
	}
	*l = n;
	return moved;
}

/* The members flamed reads, by their name in the code and frame types' member tables. */
static const struct layout_field code_members[] = {
	LF(0, co_filename, LF_ANY, "co_filename"),
	LF(0, co_name, LF_ANY, "co_name"),
	LF(0, co_qualname, LF_ANY, "co_qualname"),
	LF(0, co_firstlineno, LF_ANY, "co_firstlineno"),
	LF(PY_LINES_LNOTAB, co_linetable, LF_ANY, "co_lnotab"),
	LF(PY_LINES_310, co_linetable, LF_ANY, "co_linetable"),
	LF(PY_LINES_LOCATIONS, co_linetable, LF_ANY, "co_linetable"),
};
static const struct layout_field frame_members[] = {
	LF(0, off.fr_previous, 120, "f_back"),
	LF(0, off.fr_code, 120, "f_code"),
	LF(0, off.fr_instr, 120, "f_lasti"),
};

int python__member(struct python_layout *l, bool frame, const char *name, uint64_t offset)
{
	const struct layout_field *t = frame ? frame_members : code_members;
	size_t i, n = frame ? ARRAY_SIZE(frame_members) : ARRAY_SIZE(code_members);

	if (frame && l->off.model != PY_MODEL_FRAMEOBJ)
		return -ENOENT;
	for (i = 0; i < n; i++) {
		if (strcmp(t[i].name, name) || (t[i].at && t[i].at != l->line_format))
			continue;
		/* a field this version does not have (co_qualname before 3.11) */
		if (*(uint16_t *)((char *)l + t[i].field) == PY_NO_OFF)
			return -ENOENT;
		return layout_set(l, &t[i], offset);
	}
	return -ENOENT;
}

#undef LF

/* A process with CPython, as told to BPF. */
struct pyproc {
	struct rt_proc h;	/* h.checked: has the file's checked layout */
	struct pyfile *file;
	uint64_t bias;		/* load address - ELF vaddr of the file */
	struct py_proc bp;	/* as told to BPF */
	struct python_layout l;
	uint64_t code_type;	/* the "code" type object, once checked */
};

/* A named code object of a process (h.addr). */
struct pyname {
	struct rt_name h;
	char *name;		/* "qualname (file.py)" */
	char *func;		/* "qualname" */
	char *file;		/* co_filename as the code object has it */
	uint8_t *lines;		/* the line table (co_lnotab / co_linetable), NULL: none */
	uint32_t nr_lines;
	uint32_t firstlineno;
	/*
	 * What identifies the code object read (its name, file and line table objects and first
	 * line): a code object freed and its address reused by another differs in them.
	 */
	struct code_id {
		uint64_t type, name, file, lines;
		int32_t first;
	} id;
	uint64_t gen;		/* the drain it was last found valid in */
};

/* The symbols found in one file (by identity), so a process's every sync does not reread it. */
struct pyfile {
	struct rt_file h;
	uint64_t runtime, tstate_cur, eval, eval_size;	/* ELF vaddrs */
	uint64_t code_type, frame_type;		/* PyCode_Type, PyFrame_Type (vaddrs) */
	uint64_t py_version;			/* Py_Version (3.11+), the version's hex */
	/* The layout, once checked against an interpreter running this file (file_check). */
	struct python_layout l;
	bool checked, bad;
	int tries;
	char *path;
};

/*
 * Bounds: length of one name, bytes of one line table and of all (a code object past them
 * keeps its name without lines).
 */
#define PY_NAME_MAX 512
#define PY_LINES_MAX (64 << 10)
#define PY_LINES_TOTAL (64ULL << 20)

struct python {
	struct sampler *smp;
	struct rt_procs procs;	/* struct pyproc */
	struct rt_names names;	/* struct pyname */
	struct rt_files files;	/* struct pyfile */
	uint64_t names_refused;
	uint64_t lines_bytes;	/* held in line tables */
	uint64_t str_bytes;	/* held in names and file names */
	/*
	 * Drains: a cached name is checked against its code object once a drain, when a stack
	 * of that drain (or the profile built after it) first uses it.
	 */
	uint64_t gen;
	/* For -v at the end: code objects read, the time that took, checks, names replaced. */
	uint64_t nr_read, read_ns, nr_checked, nr_reused;
	size_t peak_names;
	uint64_t peak_bytes, peak_str, peak_lines;
	bool version_warned[64];	/* by minor; the last for all above */
	char disp[PY_NAME_MAX + 16];	/* the name shown, with its line */
};

static const struct rt_sym file_syms[] = {
	{ "PyCode_Type", offsetof(struct pyfile, code_type), RT_SYM_NO_SIZE },
	{ "PyFrame_Type", offsetof(struct pyfile, frame_type), RT_SYM_NO_SIZE },
	{ "Py_Version", offsetof(struct pyfile, py_version), RT_SYM_NO_SIZE },
	{ "_PyRuntime", offsetof(struct pyfile, runtime), RT_SYM_NO_SIZE },
	{ "_PyThreadState_Current", offsetof(struct pyfile, tstate_cur), RT_SYM_NO_SIZE },
	{ "_PyEval_EvalFrameDefault", offsetof(struct pyfile, eval),
	  offsetof(struct pyfile, eval_size) },
};

/* _PyRuntime and _PyEval_EvalFrameDefault (and the rest) in the file's .symtab or .dynsym. */
static void file_scan(struct rt_file *rf, Elf *elf, int fd, const struct map_entry *m,
		      uint32_t pid)
{
	struct pyfile *f = (struct pyfile *)rf;

	f->path = strdup(m->path);
	rtbase__file_find_symbols(elf, file_syms, ARRAY_SIZE(file_syms), f);
	f->h.ok = (f->runtime || f->tstate_cur) && f->eval && f->eval_size;
	if (!f->h.ok)
		pr_debug("python: %s has no _PyRuntime (or 3.6's _PyThreadState_Current) or "
			 "_PyEval_EvalFrameDefault", m->path);
}

static void file_clear(struct rt_file *f)
{
	free(((struct pyfile *)f)->path);
}

#define TP_MEMBERS 240	/* PyTypeObject.tp_members (3.6-3.13, release builds) */
#define MEMBERDEF_SIZE 40	/* PyMemberDef: name, type, offset (at 16), flags, doc */
#define CHECK_TRIES 8

/*
 * Adopts into l the member table of the type at type (an address in pid): the members
 * checked, -EAGAIN when it cannot be read yet (pointers not relocated by ld.so yet), or
 * -ENOTSUP.
 */
static int check_members(uint32_t pid, uint64_t type, bool frame, struct python_layout *l,
			 int *moved)
{
	uint64_t mem, md[MEMBERDEF_SIZE / 8];
	char name[32];
	int i, n = 0, r;
	size_t got;

	if (rtbase__read_u64(pid, type + TP_MEMBERS, &mem) || !mem)
		return -EAGAIN;
	for (i = 0; i < 64; i++) {
		if (rtbase__read_all(pid, mem + (uint64_t)i * MEMBERDEF_SIZE, md, sizeof(md)))
			return -EAGAIN;
		if (!md[0])
			break;
		got = rtbase__read(pid, md[0], name, sizeof(name));
		if (!memchr(name, 0, got))
			continue;
		r = python__member(l, frame, name, md[2]);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		*moved += r;
		n++;
	}
	return n ? n : -EAGAIN;
}

/*
 * Checks the file's layout (its version's table) against the interpreter running in pid,
 * once per file: 3.13's _Py_DebugOffsets, or the code and frame types' member tables (a patch
 * release that moved a field is then read right, not misread). Offsets that moved are adopted;
 * f->bad when the interpreter is one flamed cannot read. -EAGAIN: try again later.
 */
static int file_check(struct pyfile *f, uint32_t pid, uint64_t bias)
{
	struct python_layout l = f->l;
	int moved = 0, n, r;

	if (l.minor >= 13) {
		uint8_t buf[DBG313_LEN];

		r = rtbase__read(pid, f->runtime + bias, buf, sizeof(buf)) == sizeof(buf)
			    ? python__debug_offsets(&l, buf, sizeof(buf)) : -EAGAIN;
		moved = r;
		n = ARRAY_SIZE(dbg313);
	} else {
		r = f->code_type ? check_members(pid, f->code_type + bias, false, &l, &moved)
				 : -ENOENT;
		n = r;
		if (r > 0 && f->frame_type && l.off.model == PY_MODEL_FRAMEOBJ) {
			r = check_members(pid, f->frame_type + bias, true, &l, &moved);
			n += r;
		}
	}
	/*
	 * No cookie may also be a library that ld.so is still mapping: tried again too. A try
	 * counts only while the process lives (one that exits fails every read).
	 */
	if ((r == -EAGAIN || r == -EINVAL) &&
	    ((kill(pid, 0) && errno == ESRCH) || ++f->tries < CHECK_TRIES))
		return -EAGAIN;
	f->checked = true;
	if (r == -EAGAIN || r == -ENOENT) {
		pr_info("python: %s: the layout could not be checked against the interpreter "
			"(%s): flamed's table for 3.%u is used", f->path,
			r == -ENOENT ? "no PyCode_Type symbol" : "not readable", l.minor);
		return 0;
	}
	if (r < 0) {
		f->bad = true;
		pr_warn("python: %s: %s: its Python functions are not named, native frames only",
			f->path, r == -EINVAL ? "_PyRuntime starts without debug offsets"
					      : "the interpreter's layout is one flamed cannot read "
						"(a free-threaded build, another version, or offsets "
						"past its reading window)");
		return r;
	}
	f->l = l;
	if (moved)
		pr_warn("python: CPython 3.%u (%s): %d of %d offsets differ from flamed's table (a "
			"patch release moved them): the interpreter's own are used",
			l.minor, f->path, moved, n);
	else
		pr_info("python: CPython 3.%u (%s): layout checked against the interpreter's %s, "
			"%d offsets agree",
			l.minor, f->path, l.minor >= 13 ? "_Py_DebugOffsets" : "member tables", n);
	return 0;
}

/*
 * An interpreter whose file name does not carry the version: a virtualenv made with --copies,
 * a build installed as plain "python3". Its name starts with "python" and 3.11+ exports
 * Py_Version (PY_VERSION_HEX), read from the process once this mapping (the executable
 * segment) says where. 0, or -ENOENT.
 */
static int version_from_process(struct python *py, uint32_t pid, const struct map_entry *m,
				unsigned int *major, unsigned int *minor)
{
	const char *b = strrchr(m->path, '/');
	struct pyfile *f;
	uint64_t v, bias;

	b = b ? b + 1 : m->path;
	if (strncmp(b, "python", 6))
		return -ENOENT;
	f = rtbase__file_of(&py->files, pid, m);
	if (!f || !f->h.ok || !f->py_version || !rtbase__file_bias(&f->h, m, &bias))
		return -ENOENT;
	if (rtbase__read_u64(pid, bias + f->py_version, &v) ||
	    (v >> 24 & 0xff) != 3)
		return -ENOENT;
	*major = 3;
	*minor = v >> 16 & 0xff;
	return 0;
}

static void on_proc(void *ctx, uint32_t pid, const struct map_entry *maps, size_t n, bool exited)
{
	struct python *py = ctx;
	struct pyproc *pp = rtbase__proc_find(&py->procs, pid);
	unsigned int major, minor;
	struct python_layout tmp;
	struct py_proc bp = { 0 };
	size_t i;

	if (exited) {
		rtbase__proc_exited(&py->procs, pid);
		return;
	}
	for (i = 0; i < n; i++) {
		const struct map_entry *m = &maps[i];
		struct pyfile *f;
		uint64_t bias;

		if (!m->ino)
			continue;
		if (python__version_from_name(m->path, &major, &minor) &&
		    version_from_process(py, pid, m, &major, &minor))
			continue;
		if (python__layout(major, minor, &tmp)) {
			unsigned int w = MIN(minor, ARRAY_SIZE(py->version_warned) - 1);

			if (!py->version_warned[w]) {
				py->version_warned[w] = true;
				pr_warn("python: CPython %u.%u (%s, process %u) has no known layout "
					"(3.6 to 3.13 are supported): its Python functions are not "
					"named, native frames only",
					major, minor, m->path, pid);
			}
			continue;
		}
		f = rtbase__file_of(&py->files, pid, m);
		if (!f || !f->h.ok || !(tmp.off.ts_interp ? f->tstate_cur : f->runtime))
			continue;
		/* The executable segment is this mapping: file offset -> vaddr -> address. */
		if (!rtbase__file_bias(&f->h, m, &bias))
			continue;
		if (pp && pp->l.minor == minor && !pp->h.exited)
			return;	/* told already */
		if (!f->l.minor)
			f->l = tmp;
		/* Until it can be read, the table (an interpreter that has not run yet). */
		if (!f->checked)
			file_check(f, pid, bias);
		if (f->bad)
			continue;
		pp = rtbase__proc_add(&py->procs, pid);
		if (!pp)
			return;
		pp->l = f->l;
		pp->h.checked = f->checked;
		pp->file = f;
		pp->bias = bias;
		bp.runtime = (pp->l.off.ts_interp ? f->tstate_cur : f->runtime) + bias;
		bp.eval_start = f->eval + bias;
		bp.eval_end = f->eval + f->eval_size + bias;
		bp.off = pp->l.off;
		pp->bp = bp;
		if (bpf_map_update_elem(py->procs.map_fd, &pid, &bp, BPF_ANY))
			pr_warn("python: cannot add process %u: %s, ignoring", pid,
				strerror(errno));
		else
			pr_debug("python: process %u runs CPython 3.%u (%s)", pid, minor, m->path);
		return;
	}
}

static int read_str(uint32_t pid, const struct python_layout *l, uint64_t addr, char *out,
		    size_t outlen)
{
	uint8_t buf[72 + 4 * 200];
	size_t n = rtbase__read(pid, addr, buf, sizeof(buf));

	return python__decode_str(l, buf, n, out, outlen);
}

/* A bytes object's data at addr, up to PY_LINES_MAX: malloc'd, its length in *len; or NULL. */
static uint8_t *read_bytes(uint32_t pid, uint64_t addr, uint32_t *len)
{
	uint8_t *data, head[32 + 480];
	size_t n;
	int64_t size;

	/*
	 * PyBytesObject: ob_size at 16, the data at 32 (3.6-3.13). Most tables are short: read
	 * with the header, in one call.
	 */
	n = rtbase__read(pid, addr, head, sizeof(head));
	if (n < 24)
		return NULL;
	memcpy(&size, head + 16, sizeof(size));
	if (size <= 0 || size > PY_LINES_MAX)
		return NULL;
	data = malloc(size);
	if (!data)
		return NULL;
	if (n >= 32 + (size_t)size) {
		memcpy(data, head + 32, size);
	} else if (rtbase__read(pid, addr + 32, data, size) != (size_t)size) {
		free(data);
		return NULL;
	}
	*len = size;
	return data;
}

static size_t pyname_str_bytes(const struct pyname *n)
{
	if (!n->name)
		return 0;
	return strlen(n->name) + strlen(n->func) + (n->file ? strlen(n->file) : 0) + 3;
}

static void pyname_clear(struct pyname *n)
{
	free(n->name);
	free(n->func);
	free(n->file);
	free(n->lines);
	memset(n, 0, sizeof(*n));
}

/*
 * A process found before its file's layout was checked (its interpreter could not be read
 * then), when its first frames are named (the interpreter runs then): the check is made if
 * still due, a layout that moved is told to BPF, one that cannot be read takes the process
 * out. 0, or -ENOTSUP for the latter.
 */
static int proc_check(struct python *py, struct pyproc *pp)
{
	struct pyfile *f = pp->file;

	if (!f->checked && file_check(f, pp->h.pid, pp->bias) == -EAGAIN)
		return 0;
	pp->h.checked = true;
	if (f->bad) {
		bpf_map_delete_elem(py->procs.map_fd, &pp->h.pid);
		return -ENOTSUP;
	}
	if (memcmp(&pp->l.off, &f->l.off, sizeof(pp->l.off))) {
		pp->bp.off = f->l.off;
		if (bpf_map_update_elem(py->procs.map_fd, &pp->h.pid, &pp->bp, BPF_ANY))
			pr_warn("python: cannot update process %u: %s", pp->h.pid, strerror(errno));
	}
	pp->l = f->l;
	return 0;
}

/*
 * The identity of the code object at code, in one read (its fields lie within the first 144
 * bytes in every known layout). 0, -EFAULT when the process's memory cannot be read, -ESTALE
 * when the object is free: its reference count is then the allocator's free-list link (a heap
 * pointer, or NULL), while a live object's, immortal ones' too, is below 2^32.
 */
static int code_id(const struct pyproc *pp, uint64_t code, struct code_id *ret)
{
	const struct python_layout *l = &pp->l;
	uint16_t noff = l->co_qualname != PY_NO_OFF ? l->co_qualname : l->co_name;
	uint8_t buf[256];
	size_t need = MAX(noff + 8, 16);
	uint64_t refcnt;

	memset(ret, 0, sizeof(*ret));	/* compared whole, padding too */
	need = MAX(need, (size_t)l->co_filename + 8);
	need = MAX(need, (size_t)l->co_linetable + 8);
	need = MAX(need, (size_t)l->co_firstlineno + 4);
	if (need > sizeof(buf) || rtbase__read(pp->h.pid, code, buf, need) != need)
		return -EFAULT;
	memcpy(&refcnt, buf, 8);
	if (!refcnt || refcnt >> 32)
		return -ESTALE;
	memcpy(&ret->type, buf + 8, 8);
	memcpy(&ret->name, buf + noff, 8);
	memcpy(&ret->file, buf + l->co_filename, 8);
	memcpy(&ret->lines, buf + l->co_linetable, 8);
	memcpy(&ret->first, buf + l->co_firstlineno, 4);
	return 0;
}

/*
 * Reads the code object at code into ret: "qualname (file.py)", the parts, the first line and
 * the line table (left out past the memory bound). 0 or -errno.
 */
static int name_code(struct python *py, struct pyproc *pp, uint64_t code, struct pyname *ret)
{
	const struct python_layout *l = &pp->l;
	uint64_t type, tpname;
	char tn[8], name[256], file[512], buf[PY_NAME_MAX];
	const char *base;

	/* One read for the header's fields; each str and the line table one more. */
	memset(ret, 0, sizeof(*ret));
	if (code_id(pp, code, &ret->id))
		return -EFAULT;
	type = ret->id.type;
	if (type != pp->code_type) {
		if (pp->code_type || rtbase__read_u64(pp->h.pid, type + 24, &tpname) ||
		    rtbase__read(pp->h.pid, tpname, tn, 5) != 5 || memcmp(tn, "code", 5))
			return -EINVAL;	/* not a code object (freed, reused): unnamed */
		pp->code_type = type;
	}
	if (read_str(pp->h.pid, l, ret->id.name, name, sizeof(name)) < 0)
		return -EINVAL;
	if (read_str(pp->h.pid, l, ret->id.file, file, sizeof(file)) < 0)
		file[0] = 0;
	base = strrchr(file, '/');
	base = base ? base + 1 : file;
	snprintf(buf, sizeof(buf), "%s (%s)", name, *base ? base : "?");
	ret->name = strdup(buf);
	ret->func = strdup(name);
	ret->file = *file ? strdup(file) : NULL;
	if (!ret->name || !ret->func || (*file && !ret->file)) {
		pyname_clear(ret);
		return -ENOMEM;
	}
	if (ret->id.first > 0)
		ret->firstlineno = ret->id.first;
	if (ret->firstlineno && py->lines_bytes < PY_LINES_TOTAL && ret->id.lines) {
		ret->lines = read_bytes(pp->h.pid, ret->id.lines, &ret->nr_lines);
		py->lines_bytes += ret->nr_lines;
	}
	py->str_bytes += pyname_str_bytes(ret);
	return 0;
}

/*
 * The thread's CPU time: what naming costs flamed, not the time a busy machine kept it off the
 * CPU meanwhile.
 */
static uint64_t cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Bytes the name cache holds: names, line tables and the slots. */
static uint64_t names_bytes(const struct python *py)
{
	return py->str_bytes + py->lines_bytes + py->names.cap * sizeof(struct pyname);
}

/* The name cache's clear: what the entry held is no longer counted. */
static void name_forget(void *ctx, void *entry)
{
	struct python *py = ctx;
	struct pyname *s = entry;

	py->lines_bytes -= s->nr_lines;
	py->str_bytes -= pyname_str_bytes(s);
	pyname_clear(s);
}

/*
 * name_code read twice, the same both times: -EAGAIN when not. The process runs on while its
 * code object is read, one read for each part: code made by exec() in a loop is freed within
 * microseconds, and its strings reused by the next one's, so a read across a free mixed two
 * objects' parts ("gen19 (gen26.py)", a file name as the function). The second read, from the
 * header on, finds the object free (code_id) or differs. Namings are rare: twice is cheap.
 */
static int name_code_settled(struct python *py, struct pyproc *pp, uint64_t code,
			     struct pyname *ret)
{
	struct pyname again;
	int err = name_code(py, pp, code, ret);

	if (err)
		return err;
	err = name_code(py, pp, code, &again);
	if (!err && (memcmp(&ret->id, &again.id, sizeof(ret->id)) || strcmp(ret->name, again.name)))
		err = -EAGAIN;
	/* Only one read is kept, and counted. */
	name_forget(py, &again);
	if (err)
		name_forget(py, ret);
	return err;
}

/*
 * A cached name still the code object's, checked once a drain while the process lives: code
 * objects are freed and their memory reused (functions made by exec(), lambdas, a reloaded
 * module), and a stack drained after that must not take the old name. A process that cannot
 * be read (it exited) keeps what was read while it lived. The name is replaced in place (the
 * slot keeps its key).
 */
static void name_check(struct python *py, struct pyproc *pp, struct pyname *s)
{
	struct code_id id;
	struct pyname n;
	uint64_t t;
	int err;

	s->gen = py->gen;
	if (!pp || pp->h.exited || code_id(pp, s->h.addr, &id))
		return;
	py->nr_checked++;
	if (!memcmp(&id, &s->id, sizeof(id)))
		return;
	py->nr_read++;
	t = cpu_now_ns();
	err = name_code_settled(py, pp, s->h.addr, &n);
	py->read_ns += cpu_now_ns() - t;
	/*
	 * Freed but not (yet) another code object: the name stays, since every stack drained so
	 * far was the old one's. An interpreter shutting down frees its modules' code while the
	 * process still lives, and a drain then would have unnamed the whole run's <module>.
	 */
	if (err)
		return;
	py->nr_reused++;
	n.h = s->h;
	n.gen = py->gen;
	name_forget(py, s);
	*s = n;
}

/* The cached code object (pid, code), read from the process when it lives; NULL if none. */
static const struct pyname *name_of(struct python *py, uint32_t pid, uint64_t code)
{
	struct pyproc *pp;
	struct pyname *s, n;
	uint64_t t;
	int err;

	s = rtbase__name_find(&py->names, pid, code);
	if (s) {
		if (s->gen != py->gen)
			name_check(py, rtbase__proc_find(&py->procs, pid), s);
		return s->name ? s : NULL;
	}
	pp = rtbase__proc_find(&py->procs, pid);
	if (!pp || pp->h.exited || py->names.nr >= RTBASE_MAX_NAMES)
		return NULL;
	if (!pp->h.checked && proc_check(py, pp))
		return NULL;
	t = cpu_now_ns();
	err = name_code_settled(py, pp, code, &n);
	py->read_ns += cpu_now_ns() - t;
	py->nr_read++;
	if (err)
		return NULL;
	n.gen = py->gen;
	s = rtbase__name_add(&py->names, pid, code, &n);
	if (!s)
		return NULL;
	if (names_bytes(py) > py->peak_bytes) {
		py->peak_str = py->str_bytes;
		py->peak_lines = py->lines_bytes;
		py->peak_bytes = names_bytes(py);
	}
	py->peak_names = MAX(py->peak_names, py->names.nr);
	return s;
}

static int runtime_frame(void *ctx, uint32_t pid, uint64_t frame, bool lines,
			 struct runtime_sym *ret)
{
	struct python *py = ctx;
	const struct pyname *n;
	struct pyproc *pp;
	const char *base;

	if (!PY_FRAME_IS(frame))
		return -ENOENT;	/* another runtime's */
	n = name_of(py, pid, RUNTIME_FRAME_CODE(frame));
	memset(ret, 0, sizeof(*ret));
	ret->name = py->disp;
	if (!n) {
		snprintf(py->disp, sizeof(py->disp), "[python code 0x%llx]",
			 (unsigned long long)RUNTIME_FRAME_CODE(frame));
		return FRAME_PYTHON;
	}
	ret->func = n->func;
	ret->file = n->file;
	ret->start_line = n->firstlineno;
	pp = rtbase__proc_find(&py->procs, pid);
	if (n->lines && pp)
		ret->line = python__line(&pp->l, n->lines, n->nr_lines, n->firstlineno,
					 RUNTIME_FRAME_INSTR(frame));
	if (lines && ret->line && n->file) {
		base = strrchr(n->file, '/');
		snprintf(py->disp, sizeof(py->disp), "%s (%s:%u)", n->func,
			 base ? base + 1 : n->file, ret->line);
	} else {
		snprintf(py->disp, sizeof(py->disp), "%s", n->name);
	}
	return FRAME_PYTHON;
}

void python__prefetch(struct python *py, uint32_t pid, const uint64_t *ustack, int n)
{
	int i;

	if (!py)
		return;
	for (i = 0; i < n; i++)
		if (PY_FRAME_IS(ustack[i]))
			name_of(py, pid, RUNTIME_FRAME_CODE(ustack[i]));
}

void python__new_drain(struct python *py)
{
	if (py)
		py->gen++;
}

void python__trim(struct python *py)
{
	if (py && rtbase__procs_trim(&py->procs))
		rtbase__names_trim(&py->names, &py->procs);
}

void python__use_symbolizer(struct python *py, struct symbolizer *sym)
{
	if (py && sym)
		symbolizer__add_runtime_hook(sym, runtime_frame, py);
}

struct python *python__new(struct sampler *smp, struct unwinder *uw)
{
	struct python *py;
	int fd = sampler__python_procs_fd(smp);

	if (fd < 0)
		return NULL;
	py = calloc(1, sizeof(*py));
	if (!py)
		return NULL;
	py->smp = smp;
	rtbase__procs_init(&py->procs, fd, sizeof(struct pyproc));
	rtbase__names_init(&py->names, sizeof(struct pyname), name_forget, py);
	py->files = (struct rt_files){ "python", sizeof(struct pyfile), file_scan, file_clear,
				       NULL };
	if (uw)
		unwinder__add_proc_hook(uw, on_proc, py);
	return py;
}

void python__free(struct python *py)
{
	if (!py)
		return;
	if (py->nr_read)
		pr_info("python: %llu code objects read from processes, %.1f us each; at most %zu "
			"names held in %llu KiB (%llu KiB of names, %llu KiB of line tables, the "
			"rest slots); %llu checked again in later drains, %llu found replaced",
			(unsigned long long)py->nr_read, py->read_ns / 1e3 / py->nr_read,
			py->peak_names, (unsigned long long)py->peak_bytes >> 10,
			(unsigned long long)py->peak_str >> 10,
			(unsigned long long)py->peak_lines >> 10,
			(unsigned long long)py->nr_checked, (unsigned long long)py->nr_reused);
	rtbase__names_release(&py->names);
	rtbase__procs_release(&py->procs);
	rtbase__files_release(&py->files);
	free(py);
}
