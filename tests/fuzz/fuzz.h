/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the fuzz targets. Each target is one LLVMFuzzerTestOneInput over one parser of
 * outside bytes; built with libFuzzer (make fuzz) or with tests/fuzz/replay.c, which feeds it
 * the saved corpus as an ordinary test (make test).
 */
#ifndef FLAMED_FUZZ_H
#define FLAMED_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Parsers log what they skip; thousands of lines a second would only slow the fuzzer. */
static inline void fuzz__quiet(void)
{
	log_max_level = LOG_EMERG - 1;
}

/*
 * Takes the last 8 bytes of the input (when there are enough) as a number for the lookups
 * after the parse, so the fuzzer steers them too; *size shrinks accordingly. Text formats
 * only: an ELF file ends with its section headers (fuzz__hash for those).
 */
static inline uint64_t fuzz__take_u64(const uint8_t *data, size_t *size)
{
	uint64_t v = 0;

	if (*size < 8)
		return 0;
	*size -= 8;
	memcpy(&v, data + *size, 8);
	return v;
}

/* A number derived from the whole input, for lookups in formats that need every byte. */
static inline uint64_t fuzz__hash(const uint8_t *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < size; i += 1 + size / 64)
		h = (h ^ data[i]) * 0x100000001b3ULL;
	return h ^ size;
}

/* Reads a whole string, so ASan sees a name that is not terminated or already freed. */
static inline void fuzz__touch(const char *s)
{
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	__asm__ volatile("" : : "r"(n));
}

#endif
