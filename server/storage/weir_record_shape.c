/*
 * weir_record_shape.c: building a record's shape (weir_record_shape.h).
 */
#include "weir_record_shape.h"

#include "weir_varint.h"

/* Headers a shape may describe (each adds two structural ranges). */
#define WEIR_SHAPE_MAX_HEADERS 8
/* Structural ranges: length, two deltas, key length and prefix, value
 * length and prefix, header count, and two per header. */
#define WEIR_SHAPE_MAX_RANGES (8 + 2 * WEIR_SHAPE_MAX_HEADERS)
/* Deltas of at most this many varint bytes: |value| < 2^27. */
#define WEIR_SHAPE_DELTA_BYTES 4
#define WEIR_SHAPE_DELTA_BOUND ((int64_t)1 << 27)

/* Bytes [pos, pos + len) of the record compared under mask. */
typedef struct shape_range_s {
    size_t pos, len;
    uint8_t mask;
} shape_range_t;

typedef struct shape_build_s {
    const uint8_t *rec, *end;
    const uint8_t *p;
    shape_range_t r[WEIR_SHAPE_MAX_RANGES];
    int n;
} shape_build_t;

static void
add_range(shape_build_t *b, const uint8_t *from, size_t len, uint8_t mask)
{
    if (len > 0)
        b->r[b->n++] = (shape_range_t){(size_t)(from - b->rec), len, mask};
}

/* The varint at b->p: its bytes structure under mask, its value in *v.
 * False past max bytes (the exact walk accepted the record, so it is
 * otherwise well formed). */
static bool
take_varint(shape_build_t *b, int max, uint8_t mask, uint64_t *v)
{
    const uint8_t *q = weir_uvarint_at(b->p, b->end, 10, v);

    if (!q || q - b->p > max)
        return false;
    add_range(b, b->p, (size_t)(q - b->p), mask);
    b->p = q;
    return true;
}

/* A zig-zag length (or -1) and the bytes after it, the first prefix of
 * them structure; the position and length in *pos and *len. */
static bool
take_bytes(shape_build_t *b, size_t prefix, size_t *pos, int32_t *len)
{
    uint64_t v;
    int64_t n;

    if (!take_varint(b, 5, 0xff, &v))
        return false;
    n = weir_zigzag64(v);
    if (n < -1 || n > b->end - b->p)
        return false;
    *pos = (size_t)(b->p - b->rec);
    *len = (int32_t)n;
    if (n > 0) {
        add_range(b, b->p, prefix < (size_t)n ? prefix : (size_t)n, 0xff);
        b->p += n;
    }
    return true;
}

static bool
within(int64_t base, int64_t bound)
{
    return base <= INT64_MAX - bound && base >= INT64_MIN + bound;
}

bool
weir_record_shape_build(weir_record_shape_t *s, const weir_batch_hdr_t *hdr, const uint8_t *rec,
                        size_t size, size_t key_prefix, size_t value_prefix)
{
    shape_build_t b = {.rec = rec, .end = rec + size, .p = rec, .n = 0};
    uint64_t v;
    size_t hpos;
    int32_t hlen, hcount;

    if (size < 8)
        return false;
    /* The deltas' value range must not reach past the int64 limits from
     * the batch's base offset (and timestamp, unless LogAppendTime). */
    if (!within(hdr->base_offset, WEIR_SHAPE_DELTA_BOUND) ||
        (!(hdr->attributes & WEIR_BATCH_ATTR_LOG_APPEND_TIME) &&
         !within(hdr->base_timestamp, WEIR_SHAPE_DELTA_BOUND)))
        return false;
    if (!take_varint(&b, 5, 0xff, &v)) /* the record's length */
        return false;
    b.p++; /* attributes: content */
    if (!take_varint(&b, WEIR_SHAPE_DELTA_BYTES, 0x80, &v) ||
        !take_varint(&b, WEIR_SHAPE_DELTA_BYTES, 0x80, &v) ||
        !take_bytes(&b, key_prefix, &s->key_pos, &s->key_len) ||
        !take_bytes(&b, value_prefix, &s->value_pos, &s->value_len) ||
        !take_varint(&b, 5, 0xff, &v))
        return false;
    hcount = (int32_t)weir_zigzag64(v);
    if (hcount < 0 || hcount > WEIR_SHAPE_MAX_HEADERS)
        return false;
    for (int32_t i = 0; i < hcount; i++)
        if (!take_bytes(&b, 0, &hpos, &hlen) || !take_bytes(&b, 0, &hpos, &hlen))
            return false;
    if (b.p != b.end)
        return false;

    /* Words: each starts at the first structural byte not yet covered (or
     * 8 bytes before the end, to stay inside the record) and takes every
     * structural byte of its 8.  The ranges are in record order. */
    s->size = size;
    s->nwords = 0;
    for (int i = 0; i < b.n;) {
        uint8_t mbytes[8] = {0}, wbytes[8];
        size_t at;

        if (s->nwords == WEIR_RECORD_SHAPE_WORDS)
            return false;
        at = b.r[i].pos + 8 <= size ? b.r[i].pos : size - 8;
        for (int j = i; j < b.n && b.r[j].pos < at + 8; j++)
            for (size_t q = b.r[j].pos; q < b.r[j].pos + b.r[j].len && q < at + 8; q++)
                if (q >= at)
                    mbytes[q - at] = b.r[j].mask;
        for (int k = 0; k < 8; k++)
            wbytes[k] = rec[at + (size_t)k] & mbytes[k];
        s->word_pos[s->nwords] = (uint32_t)at;
        memcpy(&s->word_mask[s->nwords], mbytes, 8);
        memcpy(&s->word_want[s->nwords], wbytes, 8);
        s->nwords++;
        /* the rest of a range this word cut is the next word's start */
        while (i < b.n && b.r[i].pos + b.r[i].len <= at + 8)
            i++;
        if (i < b.n && b.r[i].pos < at + 8) {
            b.r[i].len -= at + 8 - b.r[i].pos;
            b.r[i].pos = at + 8;
        }
    }
    return true;
}
