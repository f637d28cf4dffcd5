/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Python frames (CPython 3.6 to 3.13). Finds CPython in processes (the executable or a
 * libpython the unwinder indexes), tells the BPF unwinder where each one's runtime is and how
 * its frames are laid out (bpf/python.h), and names the frames it emitted: a code object read
 * from the process becomes "qualname (file.py)". A language runtime module: it registers hooks
 * with the unwinder and the symbolizer, which know no runtime.
 */
#ifndef FLAMED_PYTHON_H
#define FLAMED_PYTHON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/python.h"

/* The layout of one CPython minor version: what BPF needs, and what naming needs. */
struct python_layout {
	unsigned int minor;	/* 3.minor */
	struct py_offsets off;
	uint16_t co_filename, co_name, co_qualname; /* co_qualname: PY_NO_OFF before 3.11 */
	uint16_t co_firstlineno;
	uint16_t str_ascii_size;	/* sizeof(PyASCIIObject): where compact ASCII data starts */
	uint16_t str_compact_size;	/* sizeof(PyCompactUnicodeObject): other compact data */
	uint16_t co_linetable;		/* co_lnotab (3.7-3.9) / co_linetable (3.10+), a bytes */
	uint16_t line_format;		/* enum python_line_format */
};

/* How a code object maps an instruction to its line (the index BPF reports, RUNTIME_FRAME). */
enum python_line_format {
	PY_LINES_LNOTAB = 1,	/* 3.6-3.9: co_lnotab, f_lasti in bytes */
	PY_LINES_310 = 2,	/* 3.10: co_linetable (PEP 626), f_lasti in code units */
	PY_LINES_LOCATIONS = 3,	/* 3.11+: the location table, an index in code units */
};

/*
 * The layout of CPython 3.minor: 0, or -ENOTSUP for a version without a known layout (3.5 and
 * older, 3.14 and newer).
 */
int python__layout(unsigned int major, unsigned int minor, struct python_layout *ret);

/*
 * The version in a file name: "python3.11", "libpython3.12.so.1.0", "python3.9d" give 3 and
 * the minor; 0, or -EINVAL for any other name.
 */
int python__version_from_name(const char *path, unsigned int *major, unsigned int *minor);

/*
 * Decodes a str object whose first len bytes (the header and what follows) are in buf: ASCII,
 * Latin-1, UCS-2 and UCS-4 compact strings become UTF-8 in out (NUL-terminated, cut at outlen;
 * characters past the bytes read are left out). Returns the bytes written, or -EINVAL when the
 * header is not a compact string of this layout.
 */
int python__decode_str(const struct python_layout *l, const uint8_t *buf, size_t len, char *out,
		       size_t outlen);

/*
 * The line of instruction instr (RUNTIME_FRAME_INSTR: 0 is unknown, else what BPF read + 1) of
 * a code object whose first line is firstlineno and whose line table (co_lnotab or
 * co_linetable, the bytes object's data) is table[0..len), as CPython's PyCode_Addr2Line
 * computes it. 0 when unknown: no instruction, an instruction without a line, past the table.
 */
uint32_t python__line(const struct python_layout *l, const uint8_t *table, size_t len,
		      uint32_t firstlineno, uint32_t instr);

/*
 * 3.13: adopts into l (3.13's table) the offsets of _Py_DebugOffsets, CPython's description of
 * its own layout for out-of-process tools that starts _PyRuntime (buf: its first len bytes,
 * as read from the process). The number of offsets that differed from the table (0: it
 * agrees), -EINVAL when buf is not one (no "xdebugpy" cookie, too short), -ENOTSUP when it
 * describes another version, a free-threaded build, or an offset past what BPF reads.
 */
int python__debug_offsets(struct python_layout *l, const uint8_t *buf, size_t len);

/*
 * 3.6-3.12: adopts into l one member of the interpreter's own member table (PyMemberDef) of
 * the code type, or of the frame type (frame: 3.6-3.10, whose frames are objects). 1 when the
 * member is one flamed reads and it moved from the table, 0 when it agrees or is not read,
 * -ENOTSUP when its offset is past what BPF reads.
 */
int python__member(struct python_layout *l, bool frame, const char *name, uint64_t offset);

struct python;
struct sampler;
struct unwinder;
struct symbolizer;

/*
 * NULL when the sampler has no DWARF unwinding (Python frames are found by the BPF unwinder)
 * or on ENOMEM. Registers with the unwinder: processes it indexes are checked for CPython.
 */
struct python *python__new(struct sampler *smp, struct unwinder *uw);
/* Names Python frames for sym from now on (py may be NULL: nothing). */
void python__use_symbolizer(struct python *py, struct symbolizer *sym);
void python__free(struct python *py);
/*
 * Names the Python frames of a stack now, while the process lives (a script may exit before
 * the profile is built: its memory is gone then).
 */
void python__prefetch(struct python *py, uint32_t pid, const uint64_t *ustack, int n);
/*
 * A drain of samples begins: names cached before are checked against their code objects again
 * (once each, when first used), as a freed code object's memory may hold another one now.
 * Stacks hold the code object's address, so all samples of one address in a profile take the
 * name it had when last checked.
 */
void python__new_drain(struct python *py);
/* Forgets the names of processes that have exited (after a profile used them). */
void python__trim(struct python *py);

#endif
