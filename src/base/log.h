/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logging to stderr. Under systemd (JOURNAL_STREAM set) each line starts with a syslog priority
 * prefix such as "<3>" so journald keeps levels; on a terminal it starts with "flamed: ".
 */
#ifndef FLAMED_LOG_H
#define FLAMED_LOG_H

#include <syslog.h>

extern int log_max_level;

void log_init(void);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define pr_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
