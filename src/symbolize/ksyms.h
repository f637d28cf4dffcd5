/* SPDX-License-Identifier: GPL-2.0-only */
/* Kernel symbols from /proc/kallsyms: one sorted array over one string pool, binary-searched. */
#ifndef FLAMED_KSYMS_H
#define FLAMED_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksyms;

/* Parses kallsyms text (pure: tests feed it buffers). NULL on ENOMEM or when nothing parsed. */
struct ksyms *ksyms__parse(const char *buf, size_t len);
/* Reads /proc/kallsyms; NULL with errno set. */
struct ksyms *ksyms__load(void);
void ksyms__free(struct ksyms *k);

/*
 * Name of the function holding addr, with " [module]" appended for module symbols; NULL when
 * addr is below the first symbol. *offset gets addr minus the symbol's address.
 */
const char *ksyms__find(const struct ksyms *k, uint64_t addr, uint64_t *offset);
size_t ksyms__count(const struct ksyms *k);

#endif
