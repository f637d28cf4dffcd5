/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PHP frames (Zend VM, non-ZTS PHP 8.2). Finds PHP in processes (an executable or libphp that
 * exports executor_globals and execute_ex), tells the BPF unwinder where executor_globals is and
 * which native frames are the VM's loop (bpf/php.h), and names the frames it emitted: a
 * zend_function read from the process becomes "Class::method (file.php)". A language runtime
 * module like src/runtime/python.c: hooks with the unwinder and the symbolizer.
 */
#ifndef FLAMED_PHP_H
#define FLAMED_PHP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/php.h"

/* The layout of one PHP minor version: what BPF needs, and what naming needs. */
struct php_layout {
	unsigned int major, minor;
	struct php_offsets off;
	uint16_t fn_name;	/* zend_function.common.function_name */
	uint16_t fn_scope;	/* .common.scope */
	uint16_t op_filename;	/* zend_op_array.filename */
	uint16_t op_line_start;	/* zend_op_array.line_start */
	uint16_t ce_name;	/* zend_class_entry.name */
	uint16_t str_len, str_val;	/* zend_string.len, .val */
};

/* The layout of PHP major.minor: 0, or -ENOTSUP for a version without a known layout. */
int php__layout(unsigned int major, unsigned int minor, struct php_layout *ret);

/*
 * The version a PHP binary says it is: its "X-Powered-By: PHP/8.2.36" string (SAPI.c) in
 * buf[0..len). 0 with *major, *minor, *patch; -ENOENT when there is none.
 */
int php__version_from_data(const char *buf, size_t len, unsigned int *major, unsigned int *minor,
			   unsigned int *patch);

/* True for the file names PHP's binaries have: php, php8.2, php-fpm8.2, php-cgi, libphp8.2.so. */
bool php__is_php_name(const char *path);

/*
 * "Class::method (file.php)" from its parts (class may be NULL or "", name NULL: file-level
 * code, "{main}"; eval: "{eval}"), into out; returns its length as snprintf.
 */
int php__format_name(char *out, size_t outlen, const char *class, const char *name, bool eval,
		     const char *file, uint32_t line);

/*
 * The zend_function at func of process pid read with layout l, as "Class::method (file)" into
 * out: 0; -EINVAL when it is no user function; -EPROTO when its strings are not zend_strings
 * (the layout does not fit); -EFAULT when unreadable.
 */
int php__read_function(uint32_t pid, const struct php_layout *l, uint64_t func, char *out,
		       size_t outlen);

struct php;
struct sampler;
struct unwinder;
struct symbolizer;

/* NULL without DWARF unwinding (PHP frames are found by the BPF unwinder) or on ENOMEM. */
struct php *php__new(struct sampler *smp, struct unwinder *uw);
void php__use_symbolizer(struct php *php, struct symbolizer *sym);
void php__free(struct php *php);
/* Names the PHP frames of a stack now, while the process lives. */
void php__prefetch(struct php *php, uint32_t pid, const uint64_t *ustack, int n);
/* Forgets the names of processes that have exited (after a profile used them). */
void php__trim(struct php *php);

#endif
