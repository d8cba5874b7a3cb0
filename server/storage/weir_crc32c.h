/*
 * weir_crc32c.h: CRC-32C (Castagnoli), as Kafka uses for record batches.
 *
 * Three implementations, chosen once at run time by what the CPU has: a
 * slicing-by-8 table, the SSE4.2 crc32 instruction (three interleaved
 * streams on long buffers) and, on CPUs with AVX-512 and VPCLMULQDQ,
 * carry-less multiplication folding 256 bytes per step on long buffers.
 */
#ifndef WEIR_CRC32C_H
#define WEIR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of len bytes at buf, continuing from crc (0 to start). */
uint32_t weir_crc32c(uint32_t crc, const void *buf, size_t len);

/* One implementation, with the same contract as weir_crc32c(). */
typedef struct weir_crc32c_impl_s {
    const char *name; /* "table", "sse4.2", "avx512-vpclmulqdq" */
    uint32_t (*fn)(uint32_t crc, const void *buf, size_t len);
} weir_crc32c_impl_t;

/* The implementations this CPU runs, slowest first; weir_crc32c() is the
 * last of them.  Sets *impls and returns their number (at least 1). */
size_t weir_crc32c_impls(const weir_crc32c_impl_t **impls);

#endif /* WEIR_CRC32C_H */
