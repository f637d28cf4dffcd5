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
	struct rt_proc h;
	struct php_layout l;
};

/* A named function of a process: h.addr the zend_function. */
struct phpname {
	struct rt_name h;
	char *class;		/* scope's name, NULL: none */
	char *fname;		/* function_name, NULL: file-level code */
	char *file;		/* op_array.filename */
	char *func_name;	/* "Class::method", pprof's Function.name */
	uint32_t line_start;
	bool eval;
};

/* What one file (by identity) holds, so each process's sync does not reread it. */
struct phpfile {
	struct rt_file h;	/* h.ok: symbols and a known version */
	unsigned int major, minor, patch;
	uint64_t eg, exec, exec_size;	/* ELF vaddrs */
};

/* zend_types.h: the type of a zend_string in its gc.u.type_info. */
#define PHP_IS_STRING 6
#define PHP_NAME_MAX 512
#define PHP_RODATA_MAX (16ULL << 20)

struct php {
	struct sampler *smp;
	struct rt_procs procs;	/* struct phpproc */
	struct rt_names names;	/* struct phpname */
	struct rt_files files;	/* struct phpfile */
	char disp[PHP_NAME_MAX + 16];
};

static const struct rt_sym file_syms[] = {
	{ "executor_globals", offsetof(struct phpfile, eg), RT_SYM_NO_SIZE },
	{ "execute_ex", offsetof(struct phpfile, exec), offsetof(struct phpfile, exec_size) },
};

/* executor_globals, execute_ex and the version (in .rodata) of a PHP file. */
static void file_scan(struct rt_file *rf, Elf *elf, int fd, const struct map_entry *m,
		      uint32_t pid)
{
	struct phpfile *f = (struct phpfile *)rf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	uint64_t ro_off = 0, ro_size = 0;
	char *ro = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		goto cleanup;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *sname;

		if (!gelf_getshdr(scn, &sh))
			continue;
		sname = elf_strptr(elf, shstrndx, sh.sh_name);
		if (sname && !strcmp(sname, ".rodata") && sh.sh_type == SHT_PROGBITS) {
			ro_off = sh.sh_offset;
			ro_size = sh.sh_size;
		}
	}
	rtbase__file_find_symbols(elf, file_syms, ARRAY_SIZE(file_syms), f);
	if (!f->eg || !f->exec || !f->exec_size || !ro_size || ro_size > PHP_RODATA_MAX)
		goto cleanup;
	ro = malloc(ro_size);
	if (ro && pread(fd, ro, ro_size, ro_off) == (ssize_t)ro_size &&
	    !php__version_from_data(ro, ro_size, &f->major, &f->minor, &f->patch))
		f->h.ok = true;
cleanup:
	free(ro);
	if (!f->h.ok)
		pr_debug("php: %s has no executor_globals, execute_ex or PHP version", m->path);
}

static void on_proc(void *ctx, uint32_t pid, const struct map_entry *maps, size_t n, bool exited)
{
	struct php *php = ctx;
	struct phpproc *pp = rtbase__proc_find(&php->procs, pid);
	struct php_layout l;
	struct php_proc bp = { 0 };
	size_t i;

	if (exited) {
		rtbase__proc_exited(&php->procs, pid);
		return;
	}
	for (i = 0; i < n; i++) {
		const struct map_entry *m = &maps[i];
		struct phpfile *f;
		uint64_t bias;

		if (!m->ino || !php__is_php_name(m->path))
			continue;
		f = rtbase__file_of(&php->files, pid, m);
		/* The executable segment is this mapping: file offset -> vaddr -> address. */
		if (!f || !f->h.ok || !rtbase__file_bias(&f->h, m, &bias))
			continue;
		if (php__layout(f->major, f->minor, &l)) {
			{
				/* Once per file: not ok, it is not looked at again. */
				pr_warn("php: PHP %u.%u.%u (%s, process %u) has no known layout (8.2 "
					"is supported): its PHP functions are not named, native "
					"frames only",
					f->major, f->minor, f->patch, m->path, pid);
				f->h.ok = false;
			}
			continue;
		}
		if (pp && !pp->h.exited && pp->l.major == l.major && pp->l.minor == l.minor)
			return;	/* told already, or refused */
		pp = rtbase__proc_add(&php->procs, pid);
		if (!pp)
			return;
		pp->l = l;
		bp.eg = f->eg + bias;
		bp.exec_start = f->exec + bias;
		bp.exec_end = f->exec + f->exec_size + bias;
		bp.off = l.off;
		if (bpf_map_update_elem(php->procs.map_fd, &pid, &bp, BPF_ANY))
			pr_warn("php: cannot add process %u: %s, ignoring", pid, strerror(errno));
		else
			pr_debug("php: process %u runs PHP %u.%u.%u (%s)", pid, f->major, f->minor,
				 f->patch, m->path);
		return;
	}
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

	if (rtbase__read(pid, addr + 4, &type_info, 4) != 4)
		return -EFAULT;
	return (type_info & 0xf) == PHP_IS_STRING ? 0 : -EPROTO;
}

/* A zend_string at addr as a malloc'd C string (cut at 400 bytes); NULL if unreadable. */
static char *read_zstr(uint32_t pid, const struct php_layout *l, uint64_t addr)
{
	uint64_t len;
	char buf[401], *s;
	size_t n, i;

	if (!addr || rtbase__read_u64(pid, addr + l->str_len, &len))
		return NULL;
	n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
	if (rtbase__read(pid, addr + l->str_val, buf, n) != n)
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
	if (rtbase__read(pp->h.pid, func + l->off.fn_type, &type, 1) != 1)
		return -EFAULT;
	if (type != PHP_ZEND_USER_FUNCTION && type != PHP_ZEND_EVAL_CODE)
		return -EINVAL;	/* freed and reused: unnamed */
	if (rtbase__read_u64(pp->h.pid, func + l->fn_name, &fname) ||
	    rtbase__read_u64(pp->h.pid, func + l->fn_scope, &scope) ||
	    rtbase__read_u64(pp->h.pid, func + l->op_filename, &file))
		return -EFAULT;
	if ((fname && zstr_header(pp->h.pid, fname) == -EPROTO) || !file ||
	    zstr_header(pp->h.pid, file) == -EPROTO)
		return -EPROTO;
	rtbase__read(pp->h.pid, func + l->op_line_start, &start, sizeof(start));
	ret->eval = type == PHP_ZEND_EVAL_CODE;
	ret->line_start = start;
	ret->fname = fname ? read_zstr(pp->h.pid, l, fname) : NULL;
	if (fname && !ret->fname)
		return -EFAULT;
	if (scope && !rtbase__read_u64(pp->h.pid, scope + l->ce_name, &cname))
		ret->class = read_zstr(pp->h.pid, l, cname);
	ret->file = read_zstr(pp->h.pid, l, file);
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

static void name_clear(void *ctx, void *n)
{
	phpname_clear(n);
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
		pp->h.pid, pp->l.major, pp->l.minor, pp->l.major, pp->l.minor);
	rtbase__proc_refuse(&php->procs, &pp->h);
}

int php__read_function(uint32_t pid, const struct php_layout *l, uint64_t func, char *out,
		       size_t outlen)
{
	struct phpproc pp = { .h.pid = pid, .l = *l };
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

	s = rtbase__name_find(&php->names, pid, func);
	if (s)
		return s;
	pp = rtbase__proc_find(&php->procs, pid);
	if (!pp || pp->h.exited || pp->h.refused || php->names.nr >= RTBASE_MAX_NAMES)
		return NULL;
	err = name_func(pp, func, &n);
	if (rtbase__proc_judge(&pp->h, err))
		refuse(php, pp);
	if (err)
		return NULL;
	return rtbase__name_add(&php->names, pid, func, &n);
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
	if (php && rtbase__procs_trim(&php->procs))
		rtbase__names_trim(&php->names, &php->procs);
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
	rtbase__procs_init(&php->procs, fd, sizeof(struct phpproc));
	rtbase__names_init(&php->names, sizeof(struct phpname), name_clear, php);
	php->files = (struct rt_files){ "php", sizeof(struct phpfile), file_scan, NULL, NULL };
	if (unwinder__add_proc_hook(uw, on_proc, php)) {
		free(php);
		return NULL;
	}
	return php;
}

void php__free(struct php *php)
{
	if (!php)
		return;
	rtbase__names_release(&php->names);
	rtbase__procs_release(&php->procs);
	rtbase__files_release(&php->files);
	free(php);
}
