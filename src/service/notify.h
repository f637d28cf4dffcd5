/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The service manager's notification protocol (sd_notify): readiness, status text, reloads,
 * stopping and watchdog pings. Every call is a no-op when NOTIFY_SOCKET is not set, so the
 * daemon runs the same under systemd, under another supervisor and in a terminal.
 */
#ifndef FLAMED_NOTIFY_H
#define FLAMED_NOTIFY_H

#include <stdint.h>

/* Started and serving: for flamed, the BPF program is attached and sampling. */
void notify__ready(void);
/* Re-reading the configuration; notify__ready() again when done. */
void notify__reloading(void);
void notify__stopping(void);
/* One line of status shown by `systemctl status`. */
void notify__status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The manager's watchdog period in ns (WATCHDOG_USEC for this process), 0 when none. */
uint64_t notify__watchdog_ns(void);
void notify__watchdog(void);

#endif
