// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "base/lazylib.h"
#include "base/log.h"
#include "service/notify.h"

#define SD_SYMS(X)                                                                                 \
	X(sd_notify)                                                                               \
	X(sd_notifyf)                                                                              \
	X(sd_watchdog_enabled)
LAZYLIB(sd, "libsystemd.so.0", SD_SYMS);

/*
 * libsystemd, opened when there is a service manager to tell: without NOTIFY_SOCKET (or a
 * watchdog) sd_notify() would do nothing, and a one-shot run never maps the library.
 */
static bool sd_usable(void)
{
	static bool warned;

	if (!getenv("NOTIFY_SOCKET") && !getenv("WATCHDOG_USEC"))
		return false;
	if (!lazylib__load(&sd))
		return true;
	if (!warned) {
		warned = true;
		pr_warn("cannot tell the service manager: %s", lazylib__why(&sd));
	}
	return false;
}

/* A failing notification must not stop profiling; say so once, at debug level. */
static void sent(int r, const char *what)
{
	static int warned;

	if (r < 0 && !warned++)
		pr_debug("cannot notify the service manager (%s): %s, ignoring", what,
			 strerror(-r));
}

void notify__ready(void)
{
	if (sd_usable())
		sent(sd_fn.sd_notify(0, "READY=1"), "READY");
}

void notify__reloading(void)
{
	struct timespec ts;

	if (!sd_usable())
		return;
	/* systemd 253 and later want the time of the reload with it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sent(sd_fn.sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
			      (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000),
	     "RELOADING");
}

void notify__stopping(void)
{
	if (sd_usable())
		sent(sd_fn.sd_notify(0, "STOPPING=1"), "STOPPING");
}

void notify__status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!sd_usable())
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sent(sd_fn.sd_notifyf(0, "STATUS=%s", buf), "STATUS");
}

uint64_t notify__watchdog_ns(void)
{
	uint64_t usec = 0;

	if (!sd_usable() || sd_fn.sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec * 1000;
}

void notify__watchdog(void)
{
	if (sd_usable())
		sent(sd_fn.sd_notify(0, "WATCHDOG=1"), "WATCHDOG");
}
