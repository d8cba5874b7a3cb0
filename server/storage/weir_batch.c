/*
 * weir_batch.c: CRC-32C (Castagnoli) and the magic-v2 record batch header:
 * decoding, validation of produced batches and stamping of the fields the
 * broker owns (base offset, leader epoch, LogAppendTime).
 *
 * CRC-32C uses the SSE4.2 crc32 instruction when the CPU has it (checked once
 * at run time; three interleaved streams on long buffers) and a slicing-by-8
 * table otherwise.
 */
#include "weir_batch.h"

#include <pthread.h>
#include <string.h>

#include "weir_buf.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define WEIR_CRC32C_HAVE_SSE42 1
#include <nmmintrin.h>
#endif

/* Reflected Castagnoli polynomial. */
#define WEIR_CRC32C_POLY 0x82F63B78u

uint32_t weir_crc32c_sw(uint32_t crc, const void *buf, size_t len);

static uint32_t crc32c_table[8][256];
static uint32_t (*crc32c_impl)(uint32_t, const void *, size_t) = weir_crc32c_sw;
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static inline uint32_t
le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static void
crc32c_build_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ WEIR_CRC32C_POLY : c >> 1;
        crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            uint32_t prev = crc32c_table[t - 1][i];
            crc32c_table[t][i] = (prev >> 8) ^ crc32c_table[0][prev & 0xff];
        }
    }
}

#ifdef WEIR_CRC32C_HAVE_SSE42
/*
 * The crc32 instruction has a latency of three cycles but a throughput of
 * one per cycle, so long buffers are cut into three stripes of
 * WEIR_CRC32C_STRIPE bytes whose CRCs are computed side by side and then
 * joined.  Joining uses linearity: running the register over n zero bytes
 * is a linear map ("shift"), and crc(A||B) = shift(crc(A), |B|) ^ crc0(B),
 * where crc0 starts from a zero register.  The shift by one stripe is a
 * table lookup built once from the 32 basis vectors.
 */
#define WEIR_CRC32C_STRIPE 2048

static uint32_t crc32c_shift_table[4][256];

__attribute__((target("sse4.2"))) static uint32_t
crc32c_shift_slow(uint32_t c, size_t n)
{
    uint64_t r = c;

    for (size_t i = 0; i < n / 8; i++)
        r = _mm_crc32_u64(r, 0);
    return (uint32_t)r;
}

__attribute__((target("sse4.2"))) static void
crc32c_build_shift_table(void)
{
    uint32_t basis[32];

    for (int i = 0; i < 32; i++)
        basis[i] = crc32c_shift_slow(1u << i, WEIR_CRC32C_STRIPE);
    for (int k = 0; k < 4; k++) {
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int j = 0; j < 8; j++)
                if (b & (1u << j))
                    v ^= basis[8 * k + j];
            crc32c_shift_table[k][b] = v;
        }
    }
}

static inline uint32_t
crc32c_shift(uint32_t c)
{
    return crc32c_shift_table[0][c & 0xff] ^ crc32c_shift_table[1][(c >> 8) & 0xff] ^
           crc32c_shift_table[2][(c >> 16) & 0xff] ^ crc32c_shift_table[3][c >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t c = ~crc;

    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    while (len >= 3 * WEIR_CRC32C_STRIPE) {
        uint64_t c1 = 0, c2 = 0;
        const uint8_t *p1 = p + WEIR_CRC32C_STRIPE, *p2 = p + 2 * WEIR_CRC32C_STRIPE;

        for (size_t i = 0; i < WEIR_CRC32C_STRIPE; i += 8) {
            uint64_t v0, v1, v2;
            memcpy(&v0, p + i, 8);
            memcpy(&v1, p1 + i, 8);
            memcpy(&v2, p2 + i, 8);
            c = _mm_crc32_u64(c, v0);
            c1 = _mm_crc32_u64(c1, v1);
            c2 = _mm_crc32_u64(c2, v2);
        }
        c = crc32c_shift(crc32c_shift((uint32_t)c) ^ (uint32_t)c1) ^ (uint32_t)c2;
        p += 3 * WEIR_CRC32C_STRIPE;
        len -= 3 * WEIR_CRC32C_STRIPE;
    }
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        len -= 8;
    }
    while (len > 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    return ~(uint32_t)c;
}
#endif

static void
crc32c_init(void)
{
    crc32c_build_tables();
#ifdef WEIR_CRC32C_HAVE_SSE42
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) {
        crc32c_build_shift_table();
        crc32c_impl = crc32c_sse42;
    }
#endif
}

/* The table implementation; always available, used when the CPU lacks
 * SSE4.2 and by the unit test to cross-check the hardware path. */
uint32_t
weir_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t c = ~crc;

    pthread_once(&crc32c_once, crc32c_init);
    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        c = (c >> 8) ^ crc32c_table[0][(c ^ *p++) & 0xff];
        len--;
    }
    while (len >= 8) {
        uint32_t lo = c ^ le32(p);
        uint32_t hi = le32(p + 4);
        c = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
            crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
            crc32c_table[3][hi & 0xff] ^ crc32c_table[2][(hi >> 8) & 0xff] ^
            crc32c_table[1][(hi >> 16) & 0xff] ^ crc32c_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len > 0) {
        c = (c >> 8) ^ crc32c_table[0][(c ^ *p++) & 0xff];
        len--;
    }
    return ~c;
}

uint32_t
weir_crc32c(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc32c_once, crc32c_init);
    return crc32c_impl(crc, buf, len);
}

void
weir_batch_hdr_decode(const uint8_t *p, weir_batch_hdr_t *h)
{
    h->base_offset = (int64_t)weir_be64(p + WEIR_BATCH_OFF_BASE_OFFSET);
    h->batch_length = (int32_t)weir_be32(p + WEIR_BATCH_OFF_LENGTH);
    h->leader_epoch = (int32_t)weir_be32(p + WEIR_BATCH_OFF_LEADER_EPOCH);
    h->magic = (int8_t)p[WEIR_BATCH_OFF_MAGIC];
    h->crc = weir_be32(p + WEIR_BATCH_OFF_CRC);
    h->attributes = (int16_t)weir_be16(p + WEIR_BATCH_OFF_ATTRIBUTES);
    h->last_offset_delta = (int32_t)weir_be32(p + WEIR_BATCH_OFF_LAST_OFFSET_DELTA);
    h->base_timestamp = (int64_t)weir_be64(p + WEIR_BATCH_OFF_BASE_TIMESTAMP);
    h->max_timestamp = (int64_t)weir_be64(p + WEIR_BATCH_OFF_MAX_TIMESTAMP);
    h->producer_id = (int64_t)weir_be64(p + WEIR_BATCH_OFF_PRODUCER_ID);
    h->producer_epoch = (int16_t)weir_be16(p + WEIR_BATCH_OFF_PRODUCER_EPOCH);
    h->base_sequence = (int32_t)weir_be32(p + WEIR_BATCH_OFF_BASE_SEQUENCE);
    h->records_count = (int32_t)weir_be32(p + WEIR_BATCH_OFF_RECORDS_COUNT);
}

weir_kerr_t
weir_batch_validate(const uint8_t *p, size_t len, weir_batch_hdr_t *h)
{
    size_t total;
    uint32_t crc;

    /* The magic byte decides how to read the rest, so look at it first: an
     * old (v0/v1) message set gets the more useful error. */
    if (len <= WEIR_BATCH_OFF_MAGIC)
        return WEIR_KERR_CORRUPT_MESSAGE;
    if (p[WEIR_BATCH_OFF_MAGIC] == 0 || p[WEIR_BATCH_OFF_MAGIC] == 1)
        return WEIR_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
    if (p[WEIR_BATCH_OFF_MAGIC] != 2 || len < WEIR_BATCH_HDR_SIZE)
        return WEIR_KERR_CORRUPT_MESSAGE;

    weir_batch_hdr_decode(p, h);
    if (h->batch_length < WEIR_BATCH_HDR_SIZE - WEIR_BATCH_LOG_OVERHEAD)
        return WEIR_KERR_CORRUPT_MESSAGE;
    total = weir_batch_total_size(h);
    if (total > len)
        return WEIR_KERR_CORRUPT_MESSAGE;

    crc = weir_crc32c(0, p + WEIR_BATCH_OFF_ATTRIBUTES, total - WEIR_BATCH_OFF_ATTRIBUTES);
    if (crc != h->crc)
        return WEIR_KERR_CORRUPT_MESSAGE;

    if (h->records_count <= 0 || h->last_offset_delta != h->records_count - 1)
        return WEIR_KERR_INVALID_RECORD;
    if (h->attributes & WEIR_BATCH_ATTR_CONTROL)
        return WEIR_KERR_INVALID_RECORD;
    if ((h->attributes & WEIR_BATCH_ATTR_COMPRESSION_MASK) > WEIR_CODEC_ZSTD)
        return WEIR_KERR_UNSUPPORTED_COMPRESSION_TYPE;
    return WEIR_KERR_NONE;
}

void
weir_batch_stamp(uint8_t *p, int64_t base_offset, int32_t leader_epoch, int64_t log_append_time)
{
    weir_put_be64(p + WEIR_BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
    weir_put_be32(p + WEIR_BATCH_OFF_LEADER_EPOCH, (uint32_t)leader_epoch);
    if (log_append_time >= 0) {
        uint16_t attr = weir_be16(p + WEIR_BATCH_OFF_ATTRIBUTES);
        size_t total = (size_t)(int32_t)weir_be32(p + WEIR_BATCH_OFF_LENGTH) +
                       WEIR_BATCH_LOG_OVERHEAD;
        uint32_t crc;

        weir_put_be16(p + WEIR_BATCH_OFF_ATTRIBUTES,
                      (uint16_t)(attr | WEIR_BATCH_ATTR_LOG_APPEND_TIME));
        weir_put_be64(p + WEIR_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)log_append_time);
        crc = weir_crc32c(0, p + WEIR_BATCH_OFF_ATTRIBUTES, total - WEIR_BATCH_OFF_ATTRIBUTES);
        weir_put_be32(p + WEIR_BATCH_OFF_CRC, crc);
    }
}
