/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Least privilege. Loading and attaching BPF and opening perf events need CAP_BPF, CAP_PERFMON,
 * CAP_SYS_ADMIN, CAP_SYS_RESOURCE; once attached, flamed only reads other processes' files and
 * writes its outputs. privs__drop() then keeps just what that needs (docs/SECURITY.md says why
 * each one), in the effective and permitted sets and the bounding set, clears the inheritable
 * and ambient sets, locks root's execve out of ever getting capabilities back
 * (SECBIT_NOROOT, no_new_privs). Direct capset/prctl calls, no libcap: the few operations needed
 * are a syscall each, and flamed drops while it has one thread (capsets are per thread).
 */
#ifndef FLAMED_PRIVS_H
#define FLAMED_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Refuses a set-uid or set-gid installation, or file capabilities (the kernel's AT_SECURE):
 * flamed trusts its environment, options and config paths, which a set-uid caller chooses.
 * -EPERM (logged) or 0. Call first thing in main().
 */
int privs__check_setuid(void);

/*
 * The capabilities kept after attaching (bit n = capability n), for a process whose outputs go
 * into write_dir (NULL: none beyond those open already): CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
 * CAP_CHECKPOINT_RESTORE, CAP_SYSLOG; CAP_BPF on kernels before 6.5; CAP_DAC_OVERRIDE when
 * write_dir is not writable by our own uid and groups.
 */
uint64_t privs__keep_mask(const char *write_dir);

/*
 * Drops every capability but privs__keep_mask(write_dir), for good. 0; -EBUSY when other threads
 * exist (they would keep theirs: nothing is dropped); -errno when the kernel refuses. Without
 * CAP_SETPCAP (flamed not run as root) only what can be dropped is, and 0 is returned.
 */
int privs__drop(const char *write_dir);
/* The same with the kept set given (bit n = capability n), and nothing logged. */
int privs__drop_to(uint64_t keep);

/* The directory a file path's entry lives in ("." for a bare name), in buf. */
void privs__dirname(const char *path, char *buf, size_t len);

#endif
