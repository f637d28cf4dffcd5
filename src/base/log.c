// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"

int log_max_level = LOG_NOTICE;
static int log_journal;

void log_init(void)
{
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_msg(int prio, const char *fmt, ...)
{
	static const char *const level[] = {
		[LOG_EMERG] = "emergency: ", [LOG_ALERT] = "alert: ", [LOG_CRIT] = "critical: ",
		[LOG_ERR] = "error: ", [LOG_WARNING] = "warning: ", [LOG_NOTICE] = "",
		[LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
	};
	va_list ap;

	if (prio > log_max_level)
		return;
	/* One fprintf per part; stderr is unbuffered, so build the line first to keep it whole. */
	char buf[4096];
	int n;

	if (log_journal)
		n = snprintf(buf, sizeof(buf), "<%d>", prio);
	else
		n = snprintf(buf, sizeof(buf), "flamed: %s", level[prio & 7]);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", buf);
}
