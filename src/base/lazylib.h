/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Libraries only some runs need, opened at their first use instead of at every start: libcurl
 * (push), libdebuginfod (which brings libcurl too), libmicrohttpd (--listen) and libsystemd
 * (readiness under systemd) were 30 of the 48 libraries the dynamic loader mapped before main,
 * 17 ms and 7 MiB of RSS of every run.
 *
 * A module declares the functions it calls with LAZYLIB(name, soname, SYMS), SYMS an X-macro
 * list of them, and calls each through the generated table: name.fn.curl_easy_init(). The
 * pointers take the type of the library header's own declarations (__typeof__), so a call is
 * checked as a direct one would be.
 */
#ifndef FLAMED_LAZYLIB_H
#define FLAMED_LAZYLIB_H

#include <stdbool.h>
#include <stddef.h>

struct lazylib {
	const char *soname;
	const char *const *names;
	void **slots;
	size_t nr;
	void *handle;
	int err;       /* 0 not tried yet; 1 loaded; -errno */
	char why[256]; /* dlerror() of a failed load */
};

/*
 * Opens l's library and resolves every name, once: 0, or -ENOENT (no library, or one without
 * a function; why says which) every time after a failure.
 */
int lazylib__load(struct lazylib *l);
/* What the failed load said (for the caller's message). */
const char *lazylib__why(const struct lazylib *l);

#define LAZYLIB_SLOT_(fn) __typeof__(fn) *fn;
#define LAZYLIB_NAME_(fn) #fn,
#define LAZYLIB(var, so, SYMS)                                                                     \
	static struct {                                                                            \
		SYMS(LAZYLIB_SLOT_)                                                                \
	} var##_fn;                                                                                \
	static const char *const var##_names_[] = {SYMS(LAZYLIB_NAME_)};                           \
	static struct lazylib var = {                                                              \
		.soname = so,                                                                      \
		.names = var##_names_,                                                             \
		.slots = (void **)&var##_fn,                                                       \
		.nr = sizeof(var##_names_) / sizeof(var##_names_[0]),                              \
	}

#endif
