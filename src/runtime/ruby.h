/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ruby frames (CRuby 3.1, YARV). Finds Ruby in processes (libruby or a static ruby exporting
 * ruby_single_main_ractor and rb_vm_exec), tells the BPF unwinder where the main ractor pointer
 * is and which native frames are the VM's entry (bpf/ruby.h), and names the frames it emitted:
 * an rb_iseq_t read from the process becomes "Owner#label (file.rb)", with its line from the iseq's
 * instruction table. A language runtime module like src/runtime/php.c.
 */
#ifndef FLAMED_RUBY_H
#define FLAMED_RUBY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/ruby.h"

/* The layout of one Ruby minor version: what BPF needs, and what checks and naming need. */
struct ruby_layout {
	unsigned int major, minor;
	struct ruby_offsets off;
	uint16_t body_iseq_size;	/* rb_iseq_constant_body.iseq_size, an unsigned int */
	uint16_t loc_pathobj;		/* body.location.pathobj: a String or [path, realpath] */
	uint16_t loc_label;		/* body.location.label */
	uint16_t loc_first_lineno;	/* body.location.first_lineno, a Fixnum */
	uint16_t ii_body;		/* body.insns_info.body: iseq_insn_info_entry[size] */
	uint16_t ii_positions;		/* body.insns_info.positions (NULL: succinct table) */
	uint16_t ii_size;		/* body.insns_info.size, an unsigned int */
	uint16_t ii_succ;		/* body.insns_info.succ_index_table */
	uint16_t ii_entry_size;		/* sizeof(struct iseq_insn_info_entry); line_no first */
	/* Class names ("Outer#mid"): */
	uint16_t body_local_iseq;	/* body.local_iseq: a block's method (or top) iseq */
	uint16_t me_def, me_owner;	/* rb_method_entry_t.def, .owner (a class or module) */
	uint16_t def_iseq;		/* rb_method_definition_t.body.iseq.iseqptr */
	uint16_t class_ext;		/* RClass.ptr: its rb_classext_t */
	uint16_t ext_iv_tbl;		/* rb_classext_t.iv_tbl: ID -> VALUE, an st_table */
};

/* The layout of Ruby major.minor: 0, or -ENOTSUP for a version without a known layout. */
int ruby__layout(unsigned int major, unsigned int minor, struct ruby_layout *ret);

/* "3.1.2" (ruby_version) as numbers: 0, or -EINVAL. */
int ruby__parse_version(const char *s, size_t len, unsigned int *major, unsigned int *minor,
			unsigned int *patch);

/* True for the file names Ruby's binaries have: ruby, ruby3.1, libruby-3.1.so.3.1, libruby.so. */
bool ruby__is_ruby_name(const char *path);

/*
 * An RString's first 40 bytes (flags, klass, then the embedded bytes or {len, ptr}): whether it
 * is a String (T_STRING), and where its bytes are: *embedded set with *len bytes at hdr + 16,
 * or *len bytes at *ptr in the process. 0, or -EPROTO when it is no String.
 */
int ruby__rstring(const uint8_t hdr[40], bool *embedded, uint64_t *len, uint64_t *ptr);

/*
 * The line of instruction position pos of an iseq: entries (size of them, their lines) and its
 * succinct index table (vm's struct succ_index_table, succ_len bytes) or positions (NULL
 * unless the table was kept). 0 when not found.
 */
uint32_t ruby__line_of(const uint32_t *lines, uint32_t size, const uint32_t *positions,
		       const uint8_t *succ, size_t succ_len, uint32_t pos);

/*
 * The value of key in an st_table's entries (st.c: st_table_entry { hash, key, record }, 24
 * bytes each; a deleted one's hash is all ones): 0 and *val, or -ENOENT.
 */
int ruby__st_find(const uint8_t *ents, size_t n, uint64_t key, uint64_t *val);

/*
 * A block's label with its method's qualified name: "block (2 levels) in mid" and "Outer#mid"
 * give "block (2 levels) in Outer#mid". -EINVAL (out untouched) unless label ends in " in "
 * followed by method, the bare method name.
 */
int ruby__qualify_block(char *out, size_t outlen, const char *label, const char *method,
			const char *qualified);

/* "label (file.rb)", or "label (file.rb:line)" with line; file's base name only. */
int ruby__format_name(char *out, size_t outlen, const char *label, const char *file,
		      uint32_t line);

/*
 * The rb_iseq_t at iseq of process pid read with layout l, as "label (path)" into out: 0;
 * -EPROTO when its strings are not Strings (the layout does not fit); -EFAULT when unreadable.
 */
int ruby__read_iseq(uint32_t pid, const struct ruby_layout *l, uint64_t iseq, char *out,
		    size_t outlen);

/*
 * The layout l checked on the running execution context of process pid, whose main ractor
 * pointer (ruby_single_main_ractor) is at main_ractor: 0 when it fits, -EPROTO when it does
 * not, -EAGAIN when there is nothing to check yet (Ruby starting, several ractors), -EFAULT
 * when the pointer cannot be read.
 */
int ruby__check_live(uint32_t pid, const struct ruby_layout *l, uint64_t main_ractor);

struct ruby;
struct sampler;
struct unwinder;
struct symbolizer;

/* NULL without DWARF unwinding (Ruby frames are found by the BPF unwinder) or on ENOMEM. */
struct ruby *ruby__new(struct sampler *smp, struct unwinder *uw);
void ruby__use_symbolizer(struct ruby *rb, struct symbolizer *sym);
void ruby__free(struct ruby *rb);
/* Names the Ruby frames of a stack now, while the process lives. */
void ruby__prefetch(struct ruby *rb, uint32_t pid, const uint64_t *ustack, int n);
/* Forgets the names of processes that have exited (after a profile used them). */
void ruby__trim(struct ruby *rb);

#endif
