// SPDX-License-Identifier: GPL-2.0-only
/*
 * PHP in profiled processes: detection, per-version layouts for the BPF unwinder, and names of
 * the functions it reports.
 *
 * Detection: a mapping whose file is named like PHP's binaries (php8.2, php-fpm8.2, php-cgi8.2,
 * libphp8.2.so, php) exporting executor_globals and execute_ex (Debian's stripped
 * /usr/bin/php8.2 has both in .dynsym; the OpenTelemetry eBPF profiler finds executor_globals
 * by the same symbol). The version is the one the binary says ("X-Powered-By: PHP/8.2.36" in
 * .rodata, SAPI.c), not its file name, so /usr/local/bin/php is known too; a version without a
 * layout is reported once and its process profiled natively. Only non-ZTS builds: in a ZTS one
 * executor_globals is per thread (its symbol is then executor_globals_offset, not matched).
 *
 * Layouts are facts from PHP's headers (Zend/zend_globals.h: current_execute_data;
 * Zend/zend_compile.h: zend_execute_data, zend_op, zend_op_array and the common part of
 * zend_function; Zend/zend_types.h: zend_string), measured with offsetof() against Debian 12's
 * php8.2-dev 8.2.36 headers (NTS, x86_64; the program is in docs/ARCHITECTURE.md's PHP part).
 *
 * Naming reads the zend_function from the process (process_vm_readv): its type must be a user
 * function or eval code, then function_name, scope->name and op_array.filename, line_start.
 * Names are cached per (process, function) and read as soon as samples are drained, while the
 * process lives; dropped after it exits and a profile has used them.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "runtime/php.h"

/*
 * 8.2: offsetof() against php8.2-dev 8.2.36 (Debian 12): EG current_execute_data 488;
 * zend_execute_data opline 0, func 24, This.u1.type_info 40, prev_execute_data 48; zend_function
 * type 0, function_name 8, scope 16; zend_op_array filename 152, line_start 160; zend_op lineno
 * 24; zend_class_entry name 8; zend_string len 16, val 24.
 */
static const struct php_layout layouts[] = {
	{ 8, 2, { 488, 0, 24, 40, 48, 0, 24, 0 }, 8, 16, 152, 160, 8, 16, 24 },
};

int php__layout(unsigned int major, unsigned int minor, struct php_layout *ret)
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

static const char *parse_uint(const char *p, const char *end, unsigned int *v)
{
	unsigned int x = 0;
	int digits = 0;

	while (p < end && *p >= '0' && *p <= '9' && digits < 4) {
		x = x * 10 + (*p++ - '0');
		digits++;
	}
	*v = x;
	return digits ? p : NULL;
}

int php__version_from_data(const char *buf, size_t len, unsigned int *major, unsigned int *minor,
			   unsigned int *patch)
{
	static const char tag[] = "X-Powered-By: PHP/";
	const char *p = buf, *end = buf + len;

	while ((p = memmem(p, end - p, tag, sizeof(tag) - 1))) {
		const char *q = p + sizeof(tag) - 1;
		unsigned int a, b, c;

		p = q;
		if (!(q = parse_uint(q, end, &a)) || q >= end || *q++ != '.' ||
		    !(q = parse_uint(q, end, &b)) || q >= end || *q++ != '.' ||
		    !parse_uint(q, end, &c))
			continue;
		*major = a;
		*minor = b;
		*patch = c;
		return 0;
	}
	return -ENOENT;
}

bool php__is_php_name(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	if (!strncmp(b, "lib", 3))
		b += 3;
	if (strncmp(b, "php", 3))
		return false;
	b += 3;
	/* php, php8.2, php-fpm8.2, php-cgi, php.so...: not phpize or a "phpfoo" tool. */
	return !*b || *b == '-' || *b == '.' || (*b >= '0' && *b <= '9');
}

int php__format_name(char *out, size_t outlen, const char *class, const char *name, bool eval,
		     const char *file, uint32_t line)
{
	const char *base = file ? strrchr(file, '/') : NULL;
	char loc[300];

	base = base ? base + 1 : file;
	if (!base || !*base)
		base = "?";
	if (line)
		snprintf(loc, sizeof(loc), "%s:%u", base, line);
	else
		snprintf(loc, sizeof(loc), "%s", base);
	if (!name)
		name = eval ? "{eval}" : "{main}";
	if (class && *class)
		return snprintf(out, outlen, "%s::%s (%s)", class, name, loc);
	return snprintf(out, outlen, "%s (%s)", name, loc);
}

/* A process with PHP, as told to BPF. */
struct phpproc {
	uint32_t pid;
	bool exited;
	bool refused;		/* its memory did not read as the layout says: native only */
	unsigned int good, bad;	/* functions named / that contradicted the layout */
	struct php_layout l;
};

/* A named function of a process. */
struct phpname {
	uint32_t pid;
	uint64_t func;		/* 0: empty slot */
	char *class;		/* scope's name, NULL: none */
	char *fname;		/* function_name, NULL: file-level code */
	char *file;		/* op_array.filename */
	char *func_name;	/* "Class::method", pprof's Function.name */
	uint32_t line_start;
	bool eval;
};

/* What one file (by identity) holds, so each process's sync does not reread it. */
struct phpfile {
	uint32_t maj, min;
	uint64_t ino;
	bool ok;		/* symbols and a known version */
	unsigned int major, minor, patch;
	uint64_t eg, exec, exec_size;	/* ELF vaddrs */
	uint64_t x_off, x_vaddr;	/* the executable segment: offset -> vaddr */
	struct phpfile *next;
};

#define PHP_MAX_NAMES 200000
/* Functions in a row, none named before, that contradict the layout before it is refused. */
#define PHP_BAD_NAMES 8
/* zend_types.h: the type of a zend_string in its gc.u.type_info. */
#define PHP_IS_STRING 6
#define PHP_NAME_MAX 512
#define PHP_RODATA_MAX (16ULL << 20)

struct php {
	struct sampler *smp;
	int procs_fd;
	struct phpproc *procs;
	size_t nr_procs, cap_procs;
	struct phpname *names;
	size_t nr_names, cap_names;
	struct phpfile *files;
	char disp[PHP_NAME_MAX + 16];
};

static struct phpproc *proc_find(struct php *php, uint32_t pid)
{
	size_t i;

	for (i = 0; i < php->nr_procs; i++)
		if (php->procs[i].pid == pid)
			return &php->procs[i];
	return NULL;
}

/* executor_globals, execute_ex, the executable segment and the version of a PHP file. */
static void file_scan(struct phpfile *f, Elf *elf, int fd)
{
	Elf_Scn *scn = NULL;
	size_t nph, i, shstrndx;
	uint64_t ro_off = 0, ro_size = 0;

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
	if (elf_getshdrstrndx(elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		const char *sname;
		size_t k, n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		sname = elf_strptr(elf, shstrndx, sh.sh_name);
		if (sname && !strcmp(sname, ".rodata") && sh.sh_type == SHT_PROGBITS) {
			ro_off = sh.sh_offset;
			ro_size = sh.sh_size;
		}
		if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
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
			if (!name || name[0] != 'e')
				continue;
			if (!strcmp(name, "executor_globals")) {
				f->eg = sym.st_value;
			} else if (!strcmp(name, "execute_ex")) {
				f->exec = sym.st_value;
				f->exec_size = sym.st_size;
			}
		}
	}
	if (!f->eg || !f->exec || !f->exec_size || !ro_size || ro_size > PHP_RODATA_MAX)
		return;
	{
		char *ro = malloc(ro_size);

		if (!ro)
			return;
		if (pread(fd, ro, ro_size, ro_off) == (ssize_t)ro_size &&
		    !php__version_from_data(ro, ro_size, &f->major, &f->minor, &f->patch))
			f->ok = true;
		free(ro);
	}
}

static struct phpfile *file_of(struct php *php, uint32_t pid, const struct map_entry *m)
{
	struct phpfile *f;
	struct elfimage *im;
	int fd, err = 0;

	for (f = php->files; f; f = f->next)
		if (f->ino == m->ino && f->maj == m->maj && f->min == m->min)
			return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->maj = m->maj;
	f->min = m->min;
	f->ino = m->ino;
	f->next = php->files;
	php->files = f;
	fd = procs__open_mapping(pid, true, m);
	if (fd < 0) {
		pr_debug("php: cannot open %s: %s", m->path, strerror(-fd));
		return f;
	}
	im = elfimage__open(fd, ELFIMAGE_SYMS, &err);
	if (!im) {
		pr_debug("php: cannot read %s: %s", m->path, strerror(-err));
		close(fd);
		return f;
	}
	file_scan(f, elfimage__elf(im), fd);
	elfimage__free(im);
	close(fd);
	if (!f->ok)
		pr_debug("php: %s has no executor_globals, execute_ex or PHP version", m->path);
	return f;
}

static void on_proc(void *ctx, uint32_t pid, const struct map_entry *maps, size_t n, bool exited)
{
	struct php *php = ctx;
	struct phpproc *pp = proc_find(php, pid);
	struct php_layout l;
	struct php_proc bp = { 0 };
	size_t i;

	if (exited) {
		if (pp) {
			pp->exited = true;
			bpf_map_delete_elem(php->procs_fd, &pid);
		}
		return;
	}
	for (i = 0; i < n; i++) {
		const struct map_entry *m = &maps[i];
		struct phpfile *f;
		uint64_t bias;

		if (!m->ino || !php__is_php_name(m->path))
			continue;
		f = file_of(php, pid, m);
		if (!f || !f->ok)
			continue;
		/* The executable segment is this mapping: file offset -> vaddr -> address. */
		if (m->pgoff < (f->x_off & ~4095ULL) || m->pgoff > f->x_off + 4096)
			continue;
		if (php__layout(f->major, f->minor, &l)) {
			{
				/* Once per file: not ok, it is not looked at again. */
				pr_warn("php: PHP %u.%u.%u (%s, process %u) has no known layout (8.2 "
					"is supported): its PHP functions are not named, native "
					"frames only",
					f->major, f->minor, f->patch, m->path, pid);
				f->ok = false;
			}
			continue;
		}
		if (pp && !pp->exited && pp->l.major == l.major && pp->l.minor == l.minor)
			return;	/* told already, or refused */
		bias = m->start - (m->pgoff - f->x_off + f->x_vaddr);
		if (!pp) {
			if (grow_array((void **)&php->procs, &php->cap_procs, php->nr_procs + 1,
				       sizeof(*pp)))
				return;
			pp = &php->procs[php->nr_procs++];
		}
		memset(pp, 0, sizeof(*pp));
		pp->pid = pid;
		pp->l = l;
		bp.eg = f->eg + bias;
		bp.exec_start = f->exec + bias;
		bp.exec_end = f->exec + f->exec_size + bias;
		bp.off = l.off;
		if (bpf_map_update_elem(php->procs_fd, &pid, &bp, BPF_ANY))
			pr_warn("php: cannot add process %u: %s, ignoring", pid, strerror(errno));
		else
			pr_debug("php: process %u runs PHP %u.%u.%u (%s)", pid, f->major, f->minor,
				 f->patch, m->path);
		return;
	}
}

/* Reads up to len bytes at addr of pid; stops at the first unreadable page. Bytes read. */
static size_t read_mem(uint32_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote[2];
	uint64_t first = ((addr | 4095) + 1) - addr;
	ssize_t r;
	int nr = 1;

	remote[0].iov_base = (void *)addr;
	remote[0].iov_len = len;
	if (first < len) {
		remote[0].iov_len = first;
		remote[1].iov_base = (void *)(addr + first);
		remote[1].iov_len = len - first;
		nr = 2;
	}
	r = process_vm_readv(pid, &local, 1, remote, nr, 0);
	return r > 0 ? (size_t)r : 0;
}

static int read_u64(uint32_t pid, uint64_t addr, uint64_t *v)
{
	return read_mem(pid, addr, v, 8) == 8 ? 0 : -EFAULT;
}

/*
 * Whether a zend_string's header at addr says it is one: gc.u.type_info (zend_refcounted_h,
 * the 4 bytes after the refcount; Zend/zend_types.h) has IS_STRING (6) in its low nibble,
 * interned or not. Every name and file the layout leads to is one, so a mismatch means the
 * offsets do not fit this binary (a patch release that moved a field), not a freed function.
 */
static int zstr_header(uint32_t pid, uint64_t addr)
{
	uint32_t type_info;

	if (read_mem(pid, addr + 4, &type_info, 4) != 4)
		return -EFAULT;
	return (type_info & 0xf) == PHP_IS_STRING ? 0 : -EPROTO;
}

/* A zend_string at addr as a malloc'd C string (cut at 400 bytes); NULL if unreadable. */
static char *read_zstr(uint32_t pid, const struct php_layout *l, uint64_t addr)
{
	uint64_t len;
	char buf[401], *s;
	size_t n, i;

	if (!addr || read_u64(pid, addr + l->str_len, &len))
		return NULL;
	n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
	if (read_mem(pid, addr + l->str_val, buf, n) != n)
		return NULL;
	buf[n] = 0;
	for (i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = '?';	/* NUL would end the name early */
	s = strdup(buf);
	return s;
}

static void phpname_clear(struct phpname *n)
{
	free(n->class);
	free(n->fname);
	free(n->file);
	free(n->func_name);
	memset(n, 0, sizeof(*n));
}

/*
 * Reads the zend_function at func of pp into ret. 0 or -errno: -EINVAL for what is no longer a
 * user function (freed, reused), -EPROTO when its strings are not strings (zstr_header).
 */
static int name_func(struct phpproc *pp, uint64_t func, struct phpname *ret)
{
	const struct php_layout *l = &pp->l;
	uint64_t fname, scope, cname, file;
	uint8_t type;
	uint32_t start = 0;
	char buf[PHP_NAME_MAX];

	memset(ret, 0, sizeof(*ret));
	if (read_mem(pp->pid, func + l->off.fn_type, &type, 1) != 1)
		return -EFAULT;
	if (type != PHP_ZEND_USER_FUNCTION && type != PHP_ZEND_EVAL_CODE)
		return -EINVAL;	/* freed and reused: unnamed */
	if (read_u64(pp->pid, func + l->fn_name, &fname) ||
	    read_u64(pp->pid, func + l->fn_scope, &scope) ||
	    read_u64(pp->pid, func + l->op_filename, &file))
		return -EFAULT;
	if ((fname && zstr_header(pp->pid, fname) == -EPROTO) || !file ||
	    zstr_header(pp->pid, file) == -EPROTO)
		return -EPROTO;
	read_mem(pp->pid, func + l->op_line_start, &start, sizeof(start));
	ret->eval = type == PHP_ZEND_EVAL_CODE;
	ret->line_start = start;
	ret->fname = fname ? read_zstr(pp->pid, l, fname) : NULL;
	if (fname && !ret->fname)
		return -EFAULT;
	if (scope && !read_u64(pp->pid, scope + l->ce_name, &cname))
		ret->class = read_zstr(pp->pid, l, cname);
	ret->file = read_zstr(pp->pid, l, file);
	if (ret->class)
		snprintf(buf, sizeof(buf), "%s::%s", ret->class,
			 ret->fname ? ret->fname : "{main}");
	else
		snprintf(buf, sizeof(buf), "%s",
			 ret->fname ? ret->fname : ret->eval ? "{eval}" : "{main}");
	ret->func_name = strdup(buf);
	if (!ret->func_name) {
		phpname_clear(ret);
		return -ENOMEM;
	}
	return 0;
}

static struct phpname *name_slot(struct php *php, uint32_t pid, uint64_t func)
{
	size_t j;

	if (!php->cap_names)
		return NULL;
	j = hash_mix(func ^ (uint64_t)pid << 48 ^ pid) & (php->cap_names - 1);
	while (php->names[j].func) {
		if (php->names[j].func == func && php->names[j].pid == pid)
			return &php->names[j];
		j = (j + 1) & (php->cap_names - 1);
	}
	return &php->names[j];
}

/* Rebuilds the table at cap (a power of two), leaving out exited processes' names when trim. */
static int names_rehash(struct php *php, size_t cap, bool trim)
{
	struct phpname *old = php->names, *s;
	size_t oldcap = php->cap_names, i;

	php->names = calloc(cap, sizeof(*php->names));
	if (!php->names) {
		php->names = old;
		return -ENOMEM;
	}
	php->cap_names = cap;
	php->nr_names = 0;
	for (i = 0; i < oldcap; i++) {
		if (!old[i].func)
			continue;
		if (trim && !proc_find(php, old[i].pid)) {
			phpname_clear(&old[i]);
			continue;
		}
		s = name_slot(php, old[i].pid, old[i].func);
		*s = old[i];
		php->nr_names++;
	}
	free(old);
	return 0;
}

/*
 * The checks at attach are of the binary (symbols, version); the layout itself is checked on
 * the process's first functions: when PHP_BAD_NAMES of them and none before read as no layout
 * of this version would (zstr_header), its offsets are wrong for this build. Say so once, and
 * profile it natively from then on, as a version without a layout.
 */
static void refuse(struct php *php, struct phpproc *pp)
{
	pr_warn("php: process %u (PHP %u.%u): its functions do not read as the %u.%u layout says "
		"(a build whose structures moved?): its PHP functions are not named, native "
		"frames only",
		pp->pid, pp->l.major, pp->l.minor, pp->l.major, pp->l.minor);
	pp->refused = true;
	bpf_map_delete_elem(php->procs_fd, &pp->pid);
}

int php__read_function(uint32_t pid, const struct php_layout *l, uint64_t func, char *out,
		       size_t outlen)
{
	struct phpproc pp = { .pid = pid, .l = *l };
	struct phpname n;
	int err = name_func(&pp, func, &n);

	if (!err)
		snprintf(out, outlen, "%s (%s)", n.func_name, n.file ? n.file : "?");
	phpname_clear(&n);
	return err;
}

static const struct phpname *name_of(struct php *php, uint32_t pid, uint64_t func)
{
	struct phpproc *pp;
	struct phpname *s, n;
	int err;

	s = name_slot(php, pid, func);
	if (s && s->func)
		return s;
	pp = proc_find(php, pid);
	if (!pp || pp->exited || pp->refused || php->nr_names >= PHP_MAX_NAMES)
		return NULL;
	err = name_func(pp, func, &n);
	if (err == -EPROTO && !pp->good && ++pp->bad == PHP_BAD_NAMES)
		refuse(php, pp);
	if (err)
		return NULL;
	pp->good++;
	if ((php->nr_names + 1) * 4 >= php->cap_names * 3 &&
	    names_rehash(php, php->cap_names ? php->cap_names * 2 : 1024, false)) {
		phpname_clear(&n);
		return NULL;
	}
	s = name_slot(php, pid, func);
	*s = n;
	s->pid = pid;
	s->func = func;
	php->nr_names++;
	return s;
}

static int runtime_frame(void *ctx, uint32_t pid, uint64_t frame, bool lines,
			 struct runtime_sym *ret)
{
	struct php *php = ctx;
	const struct phpname *n;
	uint32_t line = RUNTIME_FRAME_INSTR(frame);

	if (!PHP_FRAME_IS(frame))
		return -ENOENT;	/* another runtime's */
	n = name_of(php, pid, RUNTIME_FRAME_CODE(frame));
	memset(ret, 0, sizeof(*ret));
	ret->name = php->disp;
	if (!n) {
		snprintf(php->disp, sizeof(php->disp), "[php function 0x%llx]",
			 (unsigned long long)RUNTIME_FRAME_CODE(frame));
		return FRAME_PHP;
	}
	ret->func = n->func_name;
	ret->file = n->file;
	ret->line = line;
	ret->start_line = n->line_start;
	php__format_name(php->disp, sizeof(php->disp), n->class, n->fname, n->eval, n->file,
			 lines ? line : 0);
	return FRAME_PHP;
}

void php__prefetch(struct php *php, uint32_t pid, const uint64_t *ustack, int n)
{
	int i;

	if (!php)
		return;
	for (i = 0; i < n; i++)
		if (PHP_FRAME_IS(ustack[i]))
			name_of(php, pid, RUNTIME_FRAME_CODE(ustack[i]));
}

void php__trim(struct php *php)
{
	size_t i, k = 0;

	if (!php)
		return;
	for (i = 0; i < php->nr_procs; i++)
		if (!php->procs[i].exited)
			php->procs[k++] = php->procs[i];
	if (k == php->nr_procs)
		return;
	php->nr_procs = k;
	if (php->cap_names)
		names_rehash(php, php->cap_names, true);
}

void php__use_symbolizer(struct php *php, struct symbolizer *sym)
{
	if (php && sym && symbolizer__add_runtime_hook(sym, runtime_frame, php))
		pr_warn("php: too many language runtimes for the symbolizer: PHP frames unnamed");
}

struct php *php__new(struct sampler *smp, struct unwinder *uw)
{
	struct php *php;
	int fd = sampler__php_procs_fd(smp);

	if (fd < 0 || !uw)
		return NULL;
	php = calloc(1, sizeof(*php));
	if (!php)
		return NULL;
	php->smp = smp;
	php->procs_fd = fd;
	if (unwinder__add_proc_hook(uw, on_proc, php)) {
		free(php);
		return NULL;
	}
	return php;
}

void php__free(struct php *php)
{
	struct phpfile *f, *next;
	size_t i;

	if (!php)
		return;
	for (i = 0; i < php->cap_names; i++)
		phpname_clear(&php->names[i]);
	free(php->names);
	free(php->procs);
	for (f = php->files; f; f = next) {
		next = f->next;
		free(f);
	}
	free(php);
}
