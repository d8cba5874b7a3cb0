/*
 * weir_records.h: the records inside a magic-v2 batch, and batch compression.
 *
 * Record (all varints zig-zag):
 *   length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 *   keyLength varint (-1 null), key, valueLength varint (-1 null), value,
 *   headers count varint, each: keyLength varint, key, valueLength varint, value
 */
#ifndef WEIR_RECORDS_H
#define WEIR_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_batch.h"
#include "weir_buf.h"

typedef struct weir_header_s {
    weir_str_t key;
    weir_str_t value; /* len -1: null */
} weir_header_t;

typedef struct weir_record_s {
    int64_t offset;    /* batch base offset + offsetDelta */
    int64_t timestamp; /* batch base timestamp + timestampDelta (or max ts for LogAppendTime) */
    weir_str_t key;    /* len -1: null */
    weir_str_t value;  /* len -1: null */
    int32_t header_count;
    const uint8_t *headers; /* raw header section, parse with weir_record_header_next() */
    size_t headers_len;
} weir_record_t;

/* Iterates the records of one batch (decompressing if needed). */
typedef struct weir_record_iter_s {
    weir_batch_hdr_t hdr;
    uint8_t *owned;    /* decompressed records, freed by weir_record_iter_free() */
    weir_rbuf_t rd;
    int32_t remaining;
    int err;           /* WEIR_EPARSE etc. after a failed step */
} weir_record_iter_t;

/* p/len is one whole batch (header included).  Returns 0 or a negative error
 * (corrupt or undecodable data, limits exceeded). max_decompressed bounds the
 * decompressed size. */
int weir_record_iter_init(weir_record_iter_t *it, const uint8_t *p, size_t len,
                          size_t max_decompressed);
/* Returns true and fills rec while records remain; false at the end or on an
 * error (it->err set). */
bool weir_record_iter_next(weir_record_iter_t *it, weir_record_t *rec);
void weir_record_iter_free(weir_record_iter_t *it);

/* Key and value of one record, for scans that need nothing else. */
typedef struct weir_record_kv_s {
    int32_t offset_delta;
    weir_str_t key;   /* len -1: null */
    weir_str_t value; /* len -1: null */
} weir_record_kv_t;

/* The same step as weir_record_iter_next() - the same checks of the record's
 * length, fields, header section and offset/timestamp arithmetic, failing
 * on exactly the same input with it->err set - but it fills only the
 * offset delta, key and value, with varints decoded inline and no header
 * views: the walk broker-side schema validation makes over every produced
 * record (registry/weir_batch_validate.h). */
bool weir_record_iter_next_kv(weir_record_iter_t *it, weir_record_kv_t *kv);
/* Up to max records at once (as many weir_record_iter_next_kv() calls):
 * returns how many were filled; fewer than max at the end of the batch or
 * on an error (it->err set, the records before it filled). */
size_t weir_record_iter_next_kvs(weir_record_iter_t *it, weir_record_kv_t *kvs, size_t max);

/* Walks a record's raw header section (rec->headers, rec->headers_len).  *pos
 * is the cursor: 0 for the first header, advanced on each call.  Returns 1
 * with h filled (views into the section), 0 at the end, or WEIR_EPARSE if the
 * section is malformed (never for a record weir_record_iter_next() returned). */
int weir_record_header_next(const weir_record_t *rec, size_t *pos, weir_header_t *h);

/* Decompression bound used by weir_records_first_offset_at(). */
#define WEIR_RECORDS_SCAN_MAX_DECOMPRESSED ((size_t)256 << 20)

/* The first offset in the batch whose timestamp is >= ts, or -1 (also when
 * the batch cannot be decoded).  found_ts, if not NULL, receives that
 * record's timestamp.  Used by ListOffsets by timestamp. */
int64_t weir_records_first_offset_at(const uint8_t *batch, size_t len, int64_t ts,
                                     int64_t *found_ts);

/* Decompresses src with codec into a newly allocated buffer (*out, *out_len),
 * refusing to produce more than max_out bytes.  Kafka's framing: gzip
 * streams, snappy raw or xerial-framed, LZ4 frame format, zstd frames. */
int weir_decompress(weir_codec_t codec, const uint8_t *src, size_t len, size_t max_out,
                    uint8_t **out, size_t *out_len);
/* Compresses src with codec into a newly allocated buffer. */
int weir_compress(weir_codec_t codec, const uint8_t *src, size_t len, uint8_t **out,
                  size_t *out_len);

#endif
