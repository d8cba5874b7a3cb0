/*
 * weir_varint.h: the one inline varint reader of the hot byte walks (the
 * record batch walk, weir_records.c; the compiled Avro checker,
 * weir_avro_validate.c) and of the Avro readers that keep a cursor
 * (weir_avro_payload.c, weir_rest_consumer_codec.c).  Unsigned LEB128 as
 * Kafka and Avro write it, plus the zig-zag decoding both use for signed
 * numbers.  The sticky-error reader of Kafka messages is weir_buf.h's
 * weir_rd_uvarint() and friends.
 */
#ifndef WEIR_VARINT_H
#define WEIR_VARINT_H

#include <stdint.h>

/**
 * @brief Reads an unsigned varint of at most max bytes (max >= 2) from
 *        [p, end) into *out.  The one- and two-byte cases go first.
 * @returns the byte after it, or NULL when the bytes end inside it or it
 *          is longer than max bytes (*out unchanged).
 */
static inline const uint8_t *
weir_uvarint_at(const uint8_t *p, const uint8_t *end, int max, uint64_t *out)
{
    uint64_t v = 0;
    int shift = 0;

    if (__builtin_expect(p < end && !(p[0] & 0x80), 1)) {
        *out = p[0];
        return p + 1;
    }
    if (__builtin_expect(end - p >= 2 && !(p[1] & 0x80), 1)) {
        *out = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
        return p + 2;
    }
    for (int i = 0; i < max; i++, p++) {
        if (p >= end)
            return NULL;
        v |= (uint64_t)(p[0] & 0x7f) << shift;
        if (!(p[0] & 0x80)) {
            *out = v;
            return p + 1;
        }
        shift += 7;
    }
    return NULL;
}

/** The signed value of zig-zag encoded v (0, -1, 1, -2, ...). */
static inline int64_t
weir_zigzag64(uint64_t v)
{
    return (int64_t)((v >> 1) ^ (~(v & 1) + 1));
}

/**
 * @brief weir_uvarint_at() then weir_zigzag64(): a signed (Avro int or
 *        long, Kafka varlong) varint of at most max bytes.
 */
static inline const uint8_t *
weir_varint_at(const uint8_t *p, const uint8_t *end, int max, int64_t *out)
{
    uint64_t v;

    p = weir_uvarint_at(p, end, max, &v);
    if (p)
        *out = weir_zigzag64(v);
    return p;
}

#endif
