// SPDX-License-Identifier: GPL-2.0-only
/* Libraries opened at their first use (lazylib.h). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "base/lazylib.h"

int lazylib__load(struct lazylib *l)
{
	size_t i;

	if (l->err)
		return l->err > 0 ? 0 : l->err;
	/* RTLD_LOCAL: its symbols serve the table, not other libraries' lookups. */
	l->handle = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (!l->handle) {
		snprintf(l->why, sizeof(l->why), "%s", dlerror());
		return l->err = -ENOENT;
	}
	for (i = 0; i < l->nr; i++) {
		l->slots[i] = dlsym(l->handle, l->names[i]);
		if (!l->slots[i]) {
			snprintf(l->why, sizeof(l->why), "%s has no %s", l->soname, l->names[i]);
			dlclose(l->handle);
			l->handle = NULL;
			return l->err = -ENOENT;
		}
	}
	l->err = 1;
	return 0;
}

const char *lazylib__why(const struct lazylib *l)
{
	return l->why[0] ? l->why : "not loaded";
}
