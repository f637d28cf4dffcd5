// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ruby in profiled processes: detection, the per-version layout for the BPF unwinder, its check
 * against the live interpreter, and names of the iseqs it reports.
 *
 * Detection: a mapping whose file is named like Ruby's (libruby-3.1.so.3.1, ruby) exporting
 * ruby_single_main_ractor, rb_vm_exec and ruby_version (Debian 12's stripped libruby-3.1 has
 * them in .dynsym). The version is the ruby_version string the file holds ("3.1.2"), not its
 * name; a version without a layout is reported once and its processes profiled natively.
 *
 * The layout: facts from CRuby 3.1's vm_core.h, iseq.h and internal/string.h, every offset
 * measured on Debian 12's ruby 3.1.2 (x86_64) by reading a running rbchain.rb with
 * process_vm_readv (docs/ARCHITECTURE.md, Ruby part):
 *  - rb_ractor_t.threads.running_ec at 520: the only word of the main ractor pointing to an ec
 *    whose cfp is inside its VM stack, and it follows the GVL from thread to thread;
 *    threads.set at 304 (a list head, then cnt at 320: 2 with two threads), its nodes the
 *    rb_thread_t themselves (lt_node first); threads.main at 528;
 *  - rb_execution_context_t { vm_stack 0; vm_stack_size 8 (VALUEs); cfp 16; ...;
 *    thread_ptr 48 }; rb_thread_t.ec 40 (points back), .tid 88 (Thread#native_thread_id);
 *  - rb_control_frame_t { pc 0, sp 8, iseq 16, self 24, ep 32, block_code 40, __bp__ 48,
 *    jit_return 56 }: 64 bytes (consecutive frames' sp and ep are 64 bytes of frame apart, the
 *    newest frame lowest);
 *  - ep[0] the frame flags: VM_FRAME_MAGIC_* in 0x7fff0001, FINISH 0x20, CFRAME 0x80 (seen:
 *    leaf 0x11110003, "block in mid" 0x22220021, Integer#times 0x55550083);
 *  - rb_iseq_t.body 16; rb_iseq_constant_body { type 0; iseq_size 4; iseq_encoded 8; ...;
 *    location { pathobj 64, base_label 72, label 80, first_lineno 88 (a Fixnum), node_id 96,
 *    code_location 100..115 }; insns_info { body 120, positions 128 (NULL: freed once the
 *    succinct table is built, VM_INSN_INFO_TABLE_IMPL 2), size 136, succ_index_table 144 } };
 *    iseq_insn_info_entry { int line_no; int node_id; rb_event_flag_t events } = 12 bytes;
 *  - RString: flags, klass, then { len, ptr } or the bytes embedded at 16 (RSTRING_NOEMBED,
 *    1 << 13, clear; the length in flags bits 14..18: "leaf" 4, "block in mid" 12).
 * Class names ("Outer#mid", "Outer.build", "block in Outer#mid"): a method's iseq does not know
 * its class (compile.c makes method and class bodies with no parent_iseq), its method entry
 * does. BPF keeps, per method iseq, what a frame running it held at ep[-2]
 * (VM_ENV_DATA_INDEX_ME_CREF): the rb_callable_method_entry_t, or an imemo_svar whose
 * cref_or_me (at 8) is it once the method set $~ or $_ (vm_insnhelper.c lep_svar_write). Both
 * are T_IMEMO (0x1a) with the imemo type in flags bits 12..15 (internal/imemo.h: svar 2, ment
 * 6). rb_method_entry_t { flags; defined_class 8; def 16; called_id 24; owner 32 };
 * rb_method_definition_t: type in the low 4 bits (VM_METHOD_TYPE_ISEQ 0), body.iseq.iseqptr at
 * 8 (checked to be the iseq). The owner's name: RClass.ptr at 24 (rb_classext_t, iv_tbl at 8),
 * an st_table (st.c: entries_start 32, entries_bound 40, entries 48) whose __classpath__ entry
 * is the path String ("M::Outer"); a singleton class (FL_SINGLETON, 1 << 12) names the object
 * it is attached to (__attached__). Both IDs are learned from the process at its first class
 * name: rb_cObject's table maps __classpath__ to "Object", its singleton class's maps
 * __attached__ to rb_cObject. A block's method is body.local_iseq (176), named the same way.
 * A patch release or a build whose structures moved is caught twice: at attach, when the main
 * ractor exists, the running ec must satisfy the invariants above (its thread pointing back,
 * its frames' flags magic values, their iseqs' labels Strings); when naming, an iseq's label
 * and path must be Strings. A process failing either is refused with one warning: native
 * frames only (FLAMED_RUBY_LAYOUT_SKEW=n moves the running_ec and label offsets by n bytes, so
 * tests/e2e/test_ruby.sh can see that happen on a real interpreter).
 *
 * Names are cached per (process, iseq), with the iseq's line table, and read as soon as
 * samples are drained, while the process lives; dropped after it exits and a profile has used
 * them.
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
#include "runtime/ruby.h"

/* 3.1: measured on Debian 12's ruby 3.1.2 (the file's comment). */
static const struct ruby_layout layouts[] = {
	{ 3, 1, { 520, 48, 88, 64, 0, 16, 32, 16, 8, 40, 304, 0 },
	  4, 64, 80, 88, 120, 128, 136, 144, 12,
	  176, 16, 32, 8, 24, 8 },
};

/* vm_core.h enum iseq_type: ISEQ_TYPE_METHOD, ISEQ_TYPE_BLOCK. */
#define RB_ISEQ_METHOD 1
#define RB_ISEQ_BLOCK 2
/* ruby/internal/value_type.h: RUBY_T_STRING, RUBY_T_ARRAY; RUBY_T_MASK. */
#define RB_T_MASK 0x1f
#define RB_T_STRING 0x05
#define RB_T_ARRAY 0x07
/* RSTRING_NOEMBED (FL_USER1), RSTRING_EMBED_LEN_MASK >> RSTRING_EMBED_LEN_SHIFT (3.1). */
#define RB_STR_NOEMBED (1ULL << 13)
#define RB_STR_EMBED_SHIFT 14
#define RB_STR_EMBED_MASK 0x1f
#define RB_STR_EMBED_MAX 24	/* RSTRING_EMBED_LEN_MAX: 3 VALUEs */
/* RARRAY_EMBED_FLAG (FL_USER1): the elements at 16, else the heap pointer at 32. */
#define RB_ARY_EMBED (1ULL << 13)
/* iseq.c: struct succ_index_table { uint64_t imm_part[54 / 9]; struct succ_dict_block[]; } */
#define RB_SUCC_IMM 54
#define RB_SUCC_IMM_BYTES ((size_t)RB_SUCC_IMM / 9 * 8)
#define RB_SUCC_BLOCK 80	/* { unsigned rank; uint64_t small_block_ranks; uint64_t bits[8] } */

int ruby__layout(unsigned int major, unsigned int minor, struct ruby_layout *ret)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(layouts); i++) {
		if (layouts[i].major == major && layouts[i].minor == minor) {
			*ret = layouts[i];
			return 0;
		}
	}
	return -ENOTSUP;
}

int ruby__parse_version(const char *s, size_t len, unsigned int *major, unsigned int *minor,
			unsigned int *patch)
{
	unsigned int v[3] = { 0 };
	size_t i = 0;
	int k = 0, digits = 0;

	for (; i < len && s[i]; i++) {
		if (s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v[k] = v[k] * 10 + (s[i] - '0');
			digits++;
		} else if (s[i] == '.' && digits && k < 2) {
			k++;
			digits = 0;
		} else {
			return -EINVAL;
		}
	}
	if (k != 2 || !digits)
		return -EINVAL;
	*major = v[0];
	*minor = v[1];
	*patch = v[2];
	return 0;
}

bool ruby__is_ruby_name(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	if (!strncmp(b, "lib", 3))
		b += 3;
	if (strncmp(b, "ruby", 4))
		return false;
	b += 4;
	/* ruby, ruby3.1, libruby-3.1.so.3.1, libruby.so: not "rubyfoo" tools. */
	return !*b || *b == '-' || *b == '.' || (*b >= '0' && *b <= '9');
}

int ruby__rstring(const uint8_t hdr[40], bool *embedded, uint64_t *len, uint64_t *ptr)
{
	uint64_t flags;

	memcpy(&flags, hdr, 8);
	if ((flags & RB_T_MASK) != RB_T_STRING)
		return -EPROTO;
	if (flags & RB_STR_NOEMBED) {
		*embedded = false;
		memcpy(len, hdr + 16, 8);
		memcpy(ptr, hdr + 24, 8);
		return 0;
	}
	*embedded = true;
	*len = flags >> RB_STR_EMBED_SHIFT & RB_STR_EMBED_MASK;
	*ptr = 0;
	if (*len > RB_STR_EMBED_MAX)
		return -EPROTO;
	return 0;
}

static int popcount64(uint64_t v)
{
	return __builtin_popcountll(v);
}

uint32_t ruby__line_of(const uint32_t *lines, uint32_t size, const uint32_t *positions,
		       const uint8_t *succ, size_t succ_len, uint32_t pos)
{
	uint64_t w, small, bits;
	uint32_t rank, lo, hi;
	size_t at;

	if (!size)
		return 0;
	if (size == 1)
		return lines[0];
	if (positions) {
		/* iseq.c get_insn_info_binary_search: the last entry at or before pos. */
		lo = 0;
		hi = size;
		while (hi - lo > 1) {
			uint32_t mid = lo + (hi - lo) / 2;

			if (positions[mid] <= pos)
				lo = mid;
			else
				hi = mid;
		}
		return lines[lo];
	}
	if (!succ)
		return 0;
	/* iseq.c succ_index_lookup: the rank of pos (entries starting at or before it). */
	if (pos < RB_SUCC_IMM) {
		at = (size_t)(pos / 9) * 8;
		if (at + 8 > succ_len)
			return 0;
		memcpy(&w, succ + at, 8);
		rank = w >> (pos % 9 * 7) & 0x7f;
	} else {
		uint32_t x = pos - RB_SUCC_IMM, bi = x % 512, sb = bi / 64;
		uint32_t brank;

		at = RB_SUCC_IMM_BYTES + (size_t)(x / 512) * RB_SUCC_BLOCK;
		if (at + RB_SUCC_BLOCK > succ_len)
			return 0;
		memcpy(&brank, succ + at, 4);
		memcpy(&small, succ + at + 8, 8);
		memcpy(&bits, succ + at + 16 + (size_t)sb * 8, 8);
		rank = brank + (sb ? (small >> ((sb - 1) * 9) & 0x1ff) : 0) +
		       popcount64(bits << (63 - bi % 64));
	}
	return rank >= 1 && rank <= size ? lines[rank - 1] : 0;
}

int ruby__format_name(char *out, size_t outlen, const char *label, const char *file,
		      uint32_t line)
{
	const char *base = file ? strrchr(file, '/') : NULL;

	base = base ? base + 1 : file;
	if (!base || !*base)
		base = "?";
	if (!label || !*label)
		label = "?";
	if (line)
		return snprintf(out, outlen, "%s (%s:%u)", label, base, line);
	return snprintf(out, outlen, "%s (%s)", label, base);
}

/* A process with Ruby, as told to BPF. */
struct rbproc {
	struct rt_proc h;	/* h.checked: the layout was checked on its running ec */
	uint64_t main_ractor;	/* address of ruby_single_main_ractor */
	uint64_t cobject;	/* address of rb_cObject (0: classes not named) */
	uint64_t id_classpath, id_attached;	/* learned from Object; 0: not yet */
	bool ids_failed;	/* learning them failed: classes not named */
	struct ruby_layout l;
};

/* A named iseq of a process (h.addr), with its line table. */
struct rbname {
	struct rt_name h;
	char *label;		/* location.label: "leaf", "block in mid", "<main>" */
	char *file;		/* location.pathobj's path */
	uint32_t first_line;
	uint32_t nr_lines;	/* insns_info.size */
	uint32_t *lines;	/* their line_no */
	uint32_t *positions;	/* NULL: succ */
	uint8_t *succ;		/* the succinct index table, succ_len bytes */
	uint8_t qualify_tries;	/* label not qualified yet: tries left (qualify()) */
	size_t succ_len;
};

/* What one file (by identity) holds, so each process's sync does not reread it. */
struct rbfile {
	struct rt_file h;	/* h.ok: symbols and a version */
	unsigned int major, minor, patch;
	uint64_t ractor, exec, exec_size, version;	/* ELF vaddrs */
	uint64_t cobject;	/* rb_cObject's vaddr, 0 when not exported */
};

#define RUBY_NAME_MAX 512
#define RUBY_QUALIFY_TRIES 16	/* namings of an iseq that look for its method entry again */
#define RUBY_MAX_LINES (1U << 20)
/* Control frames, threads the attach-time check walks. */
#define RUBY_CHECK_FRAMES 64
#define RUBY_CHECK_THREADS 4096
#define RUBY_CHECK_TRIES 2

struct ruby {
	struct sampler *smp;
	int skew;		/* FLAMED_RUBY_LAYOUT_SKEW: a layout made wrong, for tests */
	struct rt_procs procs;	/* struct rbproc */
	struct rt_names names;	/* struct rbname */
	struct rt_files files;	/* struct rbfile */
	int methods_fd;		/* ruby_methods: a method iseq's method entry */
	char disp[RUBY_NAME_MAX + 16];
};

static const struct rt_sym file_syms[] = {
	{ "ruby_single_main_ractor", offsetof(struct rbfile, ractor), RT_SYM_NO_SIZE },
	{ "rb_vm_exec", offsetof(struct rbfile, exec), offsetof(struct rbfile, exec_size) },
	{ "ruby_version", offsetof(struct rbfile, version), RT_SYM_NO_SIZE },
	{ "rb_cObject", offsetof(struct rbfile, cobject), RT_SYM_NO_SIZE },
};

/* The version of a Ruby file: ruby_version's bytes, in the loadable segment holding them. */
static void file_version(struct rbfile *f, Elf *elf, int fd)
{
	size_t nph, i;
	char vbuf[16];

	if (elf_getphdrnum(elf, &nph))
		return;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;
		uint64_t ver = f->version;
		ssize_t r;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || ver < ph.p_vaddr ||
		    ver >= ph.p_vaddr + ph.p_filesz)
			continue;
		r = pread(fd, vbuf, sizeof(vbuf) - 1, ph.p_offset + (ver - ph.p_vaddr));
		if (r <= 0)
			return;
		vbuf[r] = 0;
		if (!ruby__parse_version(vbuf, strlen(vbuf), &f->major, &f->minor, &f->patch))
			f->h.ok = true;
		return;
	}
}

/* The symbols and version of a Ruby file. */
static void file_scan(struct rt_file *rf, Elf *elf, int fd, const struct map_entry *m,
		      uint32_t pid)
{
	struct rbfile *f = (struct rbfile *)rf;

	rtbase__file_find_symbols(elf, file_syms, ARRAY_SIZE(file_syms), f);
	if (f->ractor && f->exec && f->exec_size && f->version)
		file_version(f, elf, fd);
	if (!f->h.ok)
		pr_debug("ruby: %s has no ruby_single_main_ractor, rb_vm_exec or ruby_version",
			 m->path);
}

/* The String at v as a malloc'd C string (cut at 400 bytes): 0, -EPROTO, -EFAULT, -ENOMEM. */
static int read_rstring(uint32_t pid, uint64_t v, char **ret)
{
	uint8_t hdr[40];
	char buf[401];
	uint64_t len, ptr;
	bool emb;
	size_t n, i;
	int err;

	*ret = NULL;
	/* An immediate (a Fixnum, nil, a Symbol) where a String is: the offsets do not fit. */
	if (v < 4096 || (v & 7))
		return -EPROTO;
	if (rtbase__read(pid, v, hdr, sizeof(hdr)) != sizeof(hdr))
		return -EFAULT;
	err = ruby__rstring(hdr, &emb, &len, &ptr);
	if (err)
		return err;
	n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
	if (emb)
		memcpy(buf, hdr + 16, n);
	else if (rtbase__read(pid, ptr, buf, n) != n)
		return -EFAULT;
	buf[n] = 0;
	for (i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = '?';	/* NUL would end the name early */
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* pathobj: a String, or an Array [path, realpath] (iseq.h pathobj_path): its path. */
static int read_pathobj(uint32_t pid, uint64_t v, char **ret)
{
	uint64_t flags, first;

	*ret = NULL;
	if (v < 4096 || (v & 7))
		return -EPROTO;
	if (rtbase__read_u64(pid, v, &flags))
		return -EFAULT;
	if ((flags & RB_T_MASK) == RB_T_STRING)
		return read_rstring(pid, v, ret);
	if ((flags & RB_T_MASK) != RB_T_ARRAY)
		return -EPROTO;
	if (flags & RB_ARY_EMBED) {
		if (rtbase__read_u64(pid, v + 16, &first))
			return -EFAULT;
	} else {
		uint64_t p;

		if (rtbase__read_u64(pid, v + 32, &p) || rtbase__read_u64(pid, p, &first))
			return -EFAULT;
	}
	return read_rstring(pid, first, ret);
}

static void rbname_clear(struct rbname *n)
{
	free(n->label);
	free(n->file);
	free(n->lines);
	free(n->positions);
	free(n->succ);
	memset(n, 0, sizeof(*n));
}

static void name_clear(void *ctx, void *n)
{
	rbname_clear(n);
}

/* The line table of an iseq's body (best effort: without it, lines are first_line). */
static void read_lines(uint32_t pid, const struct ruby_layout *l, uint64_t body,
		       struct rbname *n)
{
	uint64_t ents, pos, succ;
	uint32_t size = 0, isize = 0, i;
	uint8_t *raw;
	size_t esz = l->ii_entry_size, want;

	if (rtbase__read_u64(pid, body + l->ii_body, &ents) ||
	    rtbase__read_u64(pid, body + l->ii_positions, &pos) ||
	    rtbase__read_u64(pid, body + l->ii_succ, &succ) ||
	    rtbase__read(pid, body + l->ii_size, &size, 4) != 4 ||
	    rtbase__read(pid, body + l->body_iseq_size, &isize, 4) != 4)
		return;
	if (!ents || !size || size > RUBY_MAX_LINES || isize > RUBY_MAX_LINES || esz < 4)
		return;
	raw = malloc(size * esz);
	n->lines = calloc(size, sizeof(*n->lines));
	if (!raw || !n->lines || rtbase__read(pid, ents, raw, size * esz) != size * esz)
		goto fail;
	for (i = 0; i < size; i++)
		memcpy(&n->lines[i], raw + i * esz, 4);
	free(raw);
	raw = NULL;
	if (pos) {
		n->positions = calloc(size, sizeof(*n->positions));
		if (!n->positions ||
		    rtbase__read(pid, pos, n->positions, (size_t)size * 4) != (size_t)size * 4)
			goto fail;
	} else if (succ && size > 1) {
		/* iseq.c succ_index_table_create(iseq_size, ...): blocks of 512 past the first 54. */
		want = RB_SUCC_IMM_BYTES;
		if (isize > RB_SUCC_IMM)
			want += (size_t)(isize - RB_SUCC_IMM + 511) / 512 * RB_SUCC_BLOCK;
		n->succ = calloc(1, want);
		if (!n->succ)
			goto fail;
		/* The immediate part is allocated for small iseqs' positions only: short reads do. */
		n->succ_len = rtbase__read(pid, succ, n->succ, want);
		if (!n->succ_len)
			goto fail;
	} else if (size > 1) {
		goto fail;
	}
	n->nr_lines = size;
	return;
fail:
	free(raw);
	free(n->lines);
	free(n->positions);
	free(n->succ);
	n->lines = NULL;
	n->positions = NULL;
	n->succ = NULL;
	n->succ_len = 0;
}

/*
 * Reads the rb_iseq_t at iseq of pid into ret. 0 or -errno: -EPROTO when its label or path is
 * no String (the layout does not fit), -EFAULT when unreadable.
 */
static int name_iseq(uint32_t pid, const struct ruby_layout *l, uint64_t iseq,
		     struct rbname *ret)
{
	uint64_t body, path, label, fl;
	int err;

	memset(ret, 0, sizeof(*ret));
	if (rtbase__read_u64(pid, iseq + l->off.iseq_body, &body) || !body ||
	    rtbase__read_u64(pid, body + l->loc_pathobj, &path) ||
	    rtbase__read_u64(pid, body + l->loc_label, &label) ||
	    rtbase__read_u64(pid, body + l->loc_first_lineno, &fl))
		return -EFAULT;
	err = read_rstring(pid, label, &ret->label);
	if (!err)
		err = read_pathobj(pid, path, &ret->file);
	if (err) {
		rbname_clear(ret);
		return err;
	}
	/* A Fixnum (INT2FIX: n << 1 | 1). */
	if ((fl & 1) && (fl >> 1) < (1U << 30))
		ret->first_line = fl >> 1;
	read_lines(pid, l, body, ret);
	return 0;
}

/* internal/imemo.h, ruby/internal/fl_type.h (3.1). */
#define RB_T_CLASS 0x02
#define RB_T_MODULE 0x03
#define RB_T_IMEMO 0x1a
#define RB_IMEMO_TYPE(flags) ((flags) >> 12 & 0x0f)
#define RB_IMEMO_SVAR 2
#define RB_IMEMO_MENT 6
#define RB_FL_SINGLETON (1ULL << 12)
/* st.c's st_table: entries_start, entries_bound, entries; an entry { hash, key, record }. */
#define RB_ST_HDR 56
#define RB_ST_START 32
#define RB_ST_ENT 24
#define RB_ST_MAX 256		/* entries of a class's table looked at */
#define RB_CLASS_NEST 4		/* singleton classes of singleton classes followed */

int ruby__st_find(const uint8_t *ents, size_t n, uint64_t key, uint64_t *val)
{
	uint64_t e[3];
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(e, ents + i * RB_ST_ENT, sizeof(e));
		if (e[0] != ~0ULL && e[1] == key) {
			*val = e[2];
			return 0;
		}
	}
	return -ENOENT;
}

int ruby__qualify_block(char *out, size_t outlen, const char *label, const char *method,
			const char *qualified)
{
	size_t ll = strlen(label), ml = strlen(method);
	int r;

	if (ll < ml + 4 || strcmp(label + ll - ml, method) ||
	    memcmp(label + ll - ml - 4, " in ", 4))
		return -EINVAL;
	r = snprintf(out, outlen, "%.*s%s", (int)(ll - ml), label, qualified);
	return r < 0 || (size_t)r >= outlen ? -ENAMETOOLONG : 0;
}

/*
 * The entries of class klass's instance variable table, read into a malloc'd *ret (*n of them):
 * 0 or -errno.
 */
static int class_ivars(uint32_t pid, const struct ruby_layout *l, uint64_t klass,
		       uint8_t **ret, size_t *n)
{
	uint64_t ext, tbl, hdr[RB_ST_HDR / 8], cnt;
	uint8_t *ents;

	*ret = NULL;
	if (rtbase__read_u64(pid, klass + l->class_ext, &ext) || !ext ||
	    rtbase__read_u64(pid, ext + l->ext_iv_tbl, &tbl) || !tbl ||
	    rtbase__read(pid, tbl, hdr, sizeof(hdr)) != sizeof(hdr))
		return -EFAULT;
	/* entries_bound - entries_start live and deleted entries, from entries_start on. */
	cnt = hdr[RB_ST_START / 8 + 1] - hdr[RB_ST_START / 8];
	if (hdr[RB_ST_START / 8 + 1] < hdr[RB_ST_START / 8] || !cnt || cnt > RB_ST_MAX ||
	    !hdr[RB_ST_START / 8 + 2])
		return -EPROTO;
	ents = malloc(cnt * RB_ST_ENT);
	if (!ents)
		return -ENOMEM;
	if (rtbase__read(pid, hdr[RB_ST_START / 8 + 2] + hdr[RB_ST_START / 8] * RB_ST_ENT, ents,
			 cnt * RB_ST_ENT) != cnt * RB_ST_ENT) {
		free(ents);
		return -EFAULT;
	}
	*ret = ents;
	*n = cnt;
	return 0;
}

/* The instance variable id of class klass: 0 and *val, or -errno. */
static int class_ivar(uint32_t pid, const struct ruby_layout *l, uint64_t klass, uint64_t id,
		      uint64_t *val)
{
	uint8_t *ents;
	size_t n;
	int err = class_ivars(pid, l, klass, &ents, &n);

	if (!err)
		err = ruby__st_find(ents, n, id, val);
	free(ents);
	return err;
}

/*
 * Learns the IDs of __classpath__ and __attached__ (they differ between builds): Object's table
 * maps one to the String "Object", its singleton class's maps the other to Object. 0 or -errno.
 */
static int learn_ids(struct rbproc *pp)
{
	const struct ruby_layout *l = &pp->l;
	uint64_t obj, meta, e[3];
	uint8_t *ents = NULL;
	size_t n, i;
	int err;

	if (!pp->cobject || rtbase__read_u64(pp->h.pid, pp->cobject, &obj) ||
	    rtbase__read_u64(pp->h.pid, obj + 8, &meta))
		return -EFAULT;
	err = class_ivars(pp->h.pid, l, obj, &ents, &n);
	for (i = 0; !err && i < n && !pp->id_classpath; i++) {
		char *str = NULL;

		memcpy(e, ents + i * RB_ST_ENT, sizeof(e));
		if (e[0] != ~0ULL && !read_rstring(pp->h.pid, e[2], &str) && !strcmp(str, "Object"))
			pp->id_classpath = e[1];
		free(str);
	}
	free(ents);
	ents = NULL;
	err = err ?: class_ivars(pp->h.pid, l, meta, &ents, &n);
	for (i = 0; !err && i < n && !pp->id_attached; i++) {
		memcpy(e, ents + i * RB_ST_ENT, sizeof(e));
		if (e[0] != ~0ULL && e[2] == obj)
			pp->id_attached = e[1];
	}
	free(ents);
	if (err)
		return err;
	return pp->id_classpath && pp->id_attached ? 0 : -ENOENT;
}

/*
 * The name of class or module klass: "M::Outer", or for a singleton class the name of the class
 * it belongs to with *singleton set. 0 and a malloc'd *ret, or -errno (an anonymous class).
 */
static int class_name(struct rbproc *pp, uint64_t klass, char **ret, bool *singleton)
{
	uint64_t flags, path;
	int i;

	*ret = NULL;
	*singleton = false;
	for (i = 0; i < RB_CLASS_NEST; i++) {
		if (klass < 4096 || (klass & 7) || rtbase__read_u64(pp->h.pid, klass, &flags))
			return -EFAULT;
		if ((flags & RB_T_MASK) != RB_T_CLASS && (flags & RB_T_MASK) != RB_T_MODULE)
			return -EPROTO;
		if (!(flags & RB_FL_SINGLETON))
			break;
		/* The singleton class of an object that is no class: no name worth showing. */
		if (*singleton ||
		    class_ivar(pp->h.pid, &pp->l, klass, pp->id_attached, &klass))
			return -ENOENT;
		*singleton = true;
	}
	if (class_ivar(pp->h.pid, &pp->l, klass, pp->id_classpath, &path))
		return -ENOENT;
	return read_rstring(pp->h.pid, path, ret);
}

/*
 * "Outer#mid" or "Outer.build" for method iseq of pp, whose label is label, from the method
 * entry BPF saw with it (methods_fd): 0 and a malloc'd *ret, or -errno.
 */
static int qualify_method(struct rbproc *pp, int methods_fd, uint64_t iseq, const char *label,
			  char **ret)
{
	const struct ruby_layout *l = &pp->l;
	struct ruby_method_key key = { .tgid = pp->h.pid, .iseq = iseq };
	uint64_t me, flags, def, owner, ptr;
	uint32_t type;
	char *cls;
	bool single;
	int err, r;

	*ret = NULL;
	if (methods_fd < 0 || bpf_map_lookup_elem(methods_fd, &key, &me))
		return -ENOENT;
	if (rtbase__read_u64(pp->h.pid, me, &flags) || (flags & RB_T_MASK) != RB_T_IMEMO)
		goto stale;
	if (RB_IMEMO_TYPE(flags) == RB_IMEMO_SVAR &&
	    (rtbase__read_u64(pp->h.pid, me + 8, &me) || rtbase__read_u64(pp->h.pid, me, &flags) ||
	     (flags & RB_T_MASK) != RB_T_IMEMO))
		goto stale;
	if (RB_IMEMO_TYPE(flags) != RB_IMEMO_MENT ||
	    rtbase__read_u64(pp->h.pid, me + l->me_def, &def) ||
	    rtbase__read_u64(pp->h.pid, me + l->me_owner, &owner) ||
	    rtbase__read(pp->h.pid, def, &type, 4) != 4 ||
	    rtbase__read_u64(pp->h.pid, def + l->def_iseq, &ptr) || (type & 0xf) || ptr != iseq)
		goto stale;
	if (!pp->id_classpath && !pp->ids_failed) {
		err = learn_ids(pp);
		if (err) {
			pp->ids_failed = true;
			pr_debug("ruby: process %u: the IDs of class names not found (%s): methods "
				 "named without their class", pp->h.pid, strerror(-err));
		}
	}
	if (pp->ids_failed)
		return -ENOTSUP;
	err = class_name(pp, owner, &cls, &single);
	if (err)
		return err;
	r = asprintf(ret, "%s%s%s", cls, single ? "." : "#", label);
	free(cls);
	if (r < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
stale:
	/* Freed (an svar outlives no frame): BPF saves the next frame's for the next iseq read. */
	bpf_map_delete_elem(methods_fd, &key);
	return -ESTALE;
}

/* Whether qualify_method() may succeed later: BPF had not (or no longer) saved the entry. */
static bool qualify_later(int err)
{
	return err == -ENOENT || err == -ESTALE;
}

/*
 * Puts n's method's class into its label: "mid" -> "Outer#mid", "block in mid" -> "block in
 * Outer#mid". Best effort: the label stays as it is when the class is not known. True when
 * worth trying again: the method entry was not saved yet (a store BPF could not allocate
 * for, under load, is made again at the method's next frame).
 */
static bool qualify(struct rbproc *pp, int methods_fd, uint64_t iseq, struct rbname *n)
{
	const struct ruby_layout *l = &pp->l;
	uint64_t body, local;
	uint32_t type;
	char *q = NULL, *mlabel = NULL, buf[RUBY_NAME_MAX];
	int err;

	if (rtbase__read_u64(pp->h.pid, iseq + l->off.iseq_body, &body) ||
	    rtbase__read(pp->h.pid, body, &type, 4) != 4)
		return false;
	if (type == RB_ISEQ_METHOD) {
		err = qualify_method(pp, methods_fd, iseq, n->label, &q);
		if (!err) {
			free(n->label);
			n->label = q;
		}
		return qualify_later(err);
	}
	if (type != RB_ISEQ_BLOCK ||
	    rtbase__read_u64(pp->h.pid, body + l->body_local_iseq, &local) || local == iseq ||
	    rtbase__read_u64(pp->h.pid, local + l->off.iseq_body, &body) ||
	    rtbase__read(pp->h.pid, body, &type, 4) != 4 || type != RB_ISEQ_METHOD ||
	    rtbase__read_u64(pp->h.pid, body + l->loc_label, &body) ||
	    read_rstring(pp->h.pid, body, &mlabel))
		return false;
	err = qualify_method(pp, methods_fd, local, mlabel, &q);
	if (!err && !ruby__qualify_block(buf, sizeof(buf), n->label, mlabel, q)) {
		char *full = strdup(buf);

		if (full) {
			free(n->label);
			n->label = full;
		}
	}
	free(q);
	free(mlabel);
	return qualify_later(err);
}

int ruby__read_iseq(uint32_t pid, const struct ruby_layout *l, uint64_t iseq, char *out,
		    size_t outlen)
{
	struct rbname n;
	int err = name_iseq(pid, l, iseq, &n);

	if (!err)
		snprintf(out, outlen, "%s (%s)", n.label, n.file);
	rbname_clear(&n);
	return err;
}

/* The layout as it is to be used: FLAMED_RUBY_LAYOUT_SKEW moves two offsets (tests). */
static void skewed(struct ruby *rb, struct ruby_layout *l)
{
	l->off.ractor_running_ec += rb->skew;
	l->loc_label += rb->skew;
}

int ruby__check_live(uint32_t pid, const struct ruby_layout *l, uint64_t main_ractor)
{
	uint64_t ractor, ec, w[3], th, back, end, cfp, f[8], flags, magic, head, node;
	unsigned int i, named = 0;

	if (rtbase__read_u64(pid, main_ractor, &ractor))
		return -EFAULT;
	if (!ractor)
		return -EAGAIN;
	if (rtbase__read_u64(pid, ractor + l->off.ractor_running_ec, &ec))
		return -EPROTO;
	if (!ec)
		return -EAGAIN;	/* no thread holds the GVL yet */
	if (rtbase__read(pid, ec, w, sizeof(w)) != sizeof(w))
		return -EPROTO;
	/* vm_stack, vm_stack_size (VALUEs), cfp inside it at a whole number of frames. */
	end = w[0] + w[1] * 8;
	if (!w[0] || !w[1] || w[1] > (1ULL << 28) || w[2] < w[0] || w[2] >= end ||
	    (end - w[2]) % l->off.cfp_size)
		return -EPROTO;
	if (rtbase__read_u64(pid, ec + l->off.ec_thread, &th) ||
	    rtbase__read_u64(pid, th + l->off.th_ec, &back) ||
	    back != ec)
		return -EPROTO;
	/* The running thread is in the ractor's thread list (what BPF walks for the others). */
	head = ractor + l->off.ractor_threads;
	if (rtbase__read_u64(pid, head, &node))
		return -EPROTO;
	/*
	 * Start-up: the ractor is allocated zeroed and runs (running_ec set) before its thread
	 * list is initialised (NULL), then holds no thread (empty) until the main thread is added.
	 * Either one, with no thread to check, fails nothing: the next sync checks again.
	 */
	if (!node || node == head)
		return -EAGAIN;
	for (i = 0; node != head && node != th && i < RUBY_CHECK_THREADS; i++)
		if (rtbase__read_u64(pid, node, &node))
			return -EPROTO;
	if (node != th)
		return -EPROTO;
	for (cfp = w[2], i = 0; cfp < end && i < RUBY_CHECK_FRAMES; cfp += l->off.cfp_size, i++) {
		struct rbname n;
		int err;

		if (rtbase__read(pid, cfp, f, sizeof(f)) != sizeof(f))
			return -EPROTO;
		if (rtbase__read_u64(pid, f[l->off.cfp_ep / 8], &flags))
			return -EPROTO;
		magic = flags & RUBY_FRAME_MAGIC_MASK;
		/* VM_FRAME_MAGIC_METHOD 0x11110001 .. DUMMY 0x79990001: xNNN0001. */
		if ((magic & 0xffff) != 1 || (magic >> 16 & 0xf) != (magic >> 20 & 0xf) ||
		    magic < 0x11110001 || magic > RUBY_FRAME_MAGIC_DUMMY)
			return -EPROTO;
		if (!f[l->off.cfp_iseq / 8] || (flags & RUBY_FRAME_FLAG_CFRAME) ||
		    magic == RUBY_FRAME_MAGIC_DUMMY)
			continue;
		err = name_iseq(pid, l, f[l->off.cfp_iseq / 8], &n);
		rbname_clear(&n);
		if (err)
			return -EPROTO;
		named++;
	}
	return named ? 0 : -EAGAIN;
}

/*
 * Says once that the layout does not fit the process (at attach, or on its first iseqs), and
 * profiles it natively from then on, as a version without a layout.
 */
static void refuse(struct ruby *rb, struct rbproc *pp, const char *what)
{
	pr_warn("ruby: process %u (Ruby %u.%u): %s do not read as the %u.%u layout says (a build "
		"whose structures moved?): its Ruby frames are not named, native frames only",
		pp->h.pid, pp->l.major, pp->l.minor, what, pp->l.major, pp->l.minor);
	rtbase__proc_refuse(&rb->procs, &pp->h);
}

/* Checks pp's layout on its live interpreter when it can be: refuses it when it does not fit. */
static void check_proc(struct ruby *rb, struct rbproc *pp)
{
	int err, tries;

	if (pp->h.checked || pp->h.refused || pp->h.exited)
		return;
	/*
	 * A wrong layout fails every time; a process caught between two steps (its start-up, a
	 * frame half pushed) fails once: tried again twice before it is refused.
	 */
	for (tries = 0; tries <= RUBY_CHECK_TRIES; tries++) {
		err = ruby__check_live(pp->h.pid, &pp->l, pp->main_ractor);
		if (err != -EPROTO || tries == RUBY_CHECK_TRIES)
			break;
		usleep(20000);
	}
	if (err == -EAGAIN || err == -EFAULT)
		return;	/* later: at the next sync, or on the first names */
	pp->h.checked = true;
	if (err)
		refuse(rb, pp, "its execution context and control frames");
}

/* Deletes the method entries BPF saved for process pid. */
static void forget_methods(struct ruby *rb, uint32_t pid)
{
	struct ruby_method_key key, next, *prev = NULL;

	if (rb->methods_fd < 0)
		return;
	while (!bpf_map_get_next_key(rb->methods_fd, prev, &next)) {
		/* Deleting the current key restarts the walk: step past it first. */
		if (prev && key.tgid == pid)
			bpf_map_delete_elem(rb->methods_fd, &key);
		key = next;
		prev = &key;
	}
	if (prev && key.tgid == pid)
		bpf_map_delete_elem(rb->methods_fd, &key);
}

static void on_proc(void *ctx, uint32_t pid, const struct map_entry *maps, size_t n, bool exited)
{
	struct ruby *rb = ctx;
	struct rbproc *pp = rtbase__proc_find(&rb->procs, pid);
	struct ruby_layout l;
	struct ruby_proc bp = { 0 };
	size_t i;

	if (exited) {
		if (pp)
			forget_methods(rb, pid);
		rtbase__proc_exited(&rb->procs, pid);
		return;
	}
	for (i = 0; i < n; i++) {
		const struct map_entry *m = &maps[i];
		struct rbfile *f;
		uint64_t bias;

		if (!m->ino || !ruby__is_ruby_name(m->path))
			continue;
		f = rtbase__file_of(&rb->files, pid, m);
		/* The executable segment is this mapping: file offset -> vaddr -> address. */
		if (!f || !f->h.ok || !rtbase__file_bias(&f->h, m, &bias))
			continue;
		if (ruby__layout(f->major, f->minor, &l)) {
			/* Once per file: not ok, it is not looked at again. */
			pr_warn("ruby: Ruby %u.%u.%u (%s, process %u) has no known layout (3.1 is "
				"supported): its Ruby frames are not named, native frames only",
				f->major, f->minor, f->patch, m->path, pid);
			f->h.ok = false;
			continue;
		}
		skewed(rb, &l);
		if (pp && !pp->h.exited && pp->l.major == l.major && pp->l.minor == l.minor) {
			check_proc(rb, pp);	/* told already: checked once Ruby runs */
			return;
		}
		pp = rtbase__proc_add(&rb->procs, pid);
		if (!pp)
			return;
		pp->l = l;
		pp->main_ractor = f->ractor + bias;
		pp->cobject = f->cobject ? f->cobject + bias : 0;
		check_proc(rb, pp);
		if (pp->h.refused)
			return;
		bp.main_ractor = pp->main_ractor;
		bp.exec_start = f->exec + bias;
		bp.exec_end = f->exec + f->exec_size + bias;
		bp.off = l.off;
		if (bpf_map_update_elem(rb->procs.map_fd, &pid, &bp, BPF_ANY))
			pr_warn("ruby: cannot add process %u: %s, ignoring", pid, strerror(errno));
		else
			pr_debug("ruby: process %u runs Ruby %u.%u.%u (%s)%s", pid, f->major,
				 f->minor, f->patch, m->path,
				 pp->h.checked ? ", layout checked on its running frames" : "");
		return;
	}
}

static const struct rbname *name_of(struct ruby *rb, uint32_t pid, uint64_t iseq)
{
	struct rbproc *pp;
	struct rbname *s, n;
	int err;

	s = rtbase__name_find(&rb->names, pid, iseq);
	if (s && s->qualify_tries) {
		pp = rtbase__proc_find(&rb->procs, pid);
		if (pp && !pp->h.exited && !pp->h.refused &&
		    qualify(pp, rb->methods_fd, iseq, s))
			s->qualify_tries--;
		else
			s->qualify_tries = 0;
	}
	if (s)
		return s;
	pp = rtbase__proc_find(&rb->procs, pid);
	if (!pp || pp->h.exited || pp->h.refused || rb->names.nr >= RTBASE_MAX_NAMES)
		return NULL;
	err = name_iseq(pid, &pp->l, iseq, &n);
	if (rtbase__proc_judge(&pp->h, err))
		refuse(rb, pp, "its iseqs");
	if (err)
		return NULL;
	if (qualify(pp, rb->methods_fd, iseq, &n))
		n.qualify_tries = RUBY_QUALIFY_TRIES;
	return rtbase__name_add(&rb->names, pid, iseq, &n);
}

static int runtime_frame(void *ctx, uint32_t pid, uint64_t frame, bool lines,
			 struct runtime_sym *ret)
{
	struct ruby *rb = ctx;
	const struct rbname *n;
	uint32_t idx = RUNTIME_FRAME_INSTR(frame), line;

	if (!RUBY_FRAME_IS(frame))
		return -ENOENT;	/* another runtime's */
	n = name_of(rb, pid, RUNTIME_FRAME_CODE(frame));
	memset(ret, 0, sizeof(*ret));
	ret->name = rb->disp;
	if (!n) {
		snprintf(rb->disp, sizeof(rb->disp), "[ruby iseq 0x%llx]",
			 (unsigned long long)RUNTIME_FRAME_CODE(frame));
		return FRAME_RUBY;
	}
	/*
	 * vm_backtrace.c calc_pos: a frame's pc is past the instruction it runs (a caller's past
	 * its send; the running frame's too, as the VM moves pc before an instruction's body): the
	 * instruction is at pos - 1. No table, or a pc outside it: the iseq's first line.
	 */
	line = ruby__line_of(n->lines, n->nr_lines, n->positions, n->succ, n->succ_len,
			     idx ? idx - 1 : 0);
	if (!line)
		line = n->first_line;
	ret->func = n->label;
	ret->file = n->file;
	ret->line = line;
	ret->start_line = n->first_line;
	ruby__format_name(rb->disp, sizeof(rb->disp), n->label, n->file, lines ? line : 0);
	return FRAME_RUBY;
}

void ruby__prefetch(struct ruby *rb, uint32_t pid, const uint64_t *ustack, int n)
{
	int i;

	if (!rb)
		return;
	for (i = 0; i < n; i++)
		if (RUBY_FRAME_IS(ustack[i]))
			name_of(rb, pid, RUNTIME_FRAME_CODE(ustack[i]));
}

void ruby__trim(struct ruby *rb)
{
	if (rb && rtbase__procs_trim(&rb->procs))
		rtbase__names_trim(&rb->names, &rb->procs);
}

void ruby__use_symbolizer(struct ruby *rb, struct symbolizer *sym)
{
	if (rb && sym && symbolizer__add_runtime_hook(sym, runtime_frame, rb))
		pr_warn("ruby: too many language runtimes for the symbolizer: Ruby frames unnamed");
}

struct ruby *ruby__new(struct sampler *smp, struct unwinder *uw)
{
	struct ruby *rb;
	const char *skew = getenv("FLAMED_RUBY_LAYOUT_SKEW");
	int fd = sampler__ruby_procs_fd(smp);

	if (fd < 0 || !uw)
		return NULL;
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return NULL;
	rb->smp = smp;
	rb->methods_fd = sampler__ruby_methods_fd(smp);
	rtbase__procs_init(&rb->procs, fd, sizeof(struct rbproc));
	rtbase__names_init(&rb->names, sizeof(struct rbname), name_clear, rb);
	rb->files = (struct rt_files){ "ruby", sizeof(struct rbfile), file_scan, NULL, NULL };
	if (skew) {
		rb->skew = atoi(skew) & 0xff8;	/* whole words, inside the structures */
		pr_warn("ruby: FLAMED_RUBY_LAYOUT_SKEW=%d: the Ruby layout is made wrong (tests)",
			rb->skew);
	}
	if (unwinder__add_proc_hook(uw, on_proc, rb)) {
		free(rb);
		return NULL;
	}
	return rb;
}

void ruby__free(struct ruby *rb)
{
	if (!rb)
		return;
	rtbase__names_release(&rb->names);
	rtbase__procs_release(&rb->procs);
	rtbase__files_release(&rb->files);
	free(rb);
}
