/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Privilege separation for one thing flamed still needs after dropping CAP_BPF: new chunks of
 * the unwind-table arrays (sample/sampler.c), made as tables load. Before the drop flamed forks
 * a small process that keeps CAP_BPF alone, reads fixed-size requests on a socket and answers
 * each with the fd of a new BPF array of the one shape a chunk has, up to a fixed number of
 * chunks in all. flamed itself, which parses what other users control, keeps no BPF privilege;
 * a flamed taken over can make at most the chunks its cap allows, nothing else.
 */
#ifndef FLAMED_MAPMAKER_H
#define FLAMED_MAPMAKER_H

#include <stdint.h>

struct mapmaker;

/*
 * Forks the maker, which makes at most max_maps chunks of value_size[0] or value_size[1]
 * bytes (UNWIND_CHUNK entries, mmapable). Call while single-threaded, before privs__drop().
 * NULL with *err set.
 */
struct mapmaker *mapmaker__start(const uint32_t value_size[2], uint32_t max_maps, int *err);
/* A new chunk's fd, or -errno (-ENOSPC past max_maps, -EPIPE when the maker is gone). */
int mapmaker__chunk(void *m, uint32_t value_size);
/* Closes the socket (the maker exits on it) and reaps the maker. */
void mapmaker__free(struct mapmaker *m);

#endif
