// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "base/log.h"
#include "service/notify.h"

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
	sent(sd_notify(0, "READY=1"), "READY");
}

void notify__reloading(void)
{
	struct timespec ts;

	/* systemd 253 and later want the time of the reload with it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sent(sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
			(unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000),
	     "RELOADING");
}

void notify__stopping(void)
{
	sent(sd_notify(0, "STOPPING=1"), "STOPPING");
}

void notify__status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sent(sd_notifyf(0, "STATUS=%s", buf), "STATUS");
}

uint64_t notify__watchdog_ns(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec * 1000;
}

void notify__watchdog(void)
{
	sent(sd_notify(0, "WATCHDOG=1"), "WATCHDOG");
}
