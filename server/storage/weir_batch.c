/*
 * weir_batch.c: the magic-v2 record batch header: decoding, validation of
 * produced batches and stamping of the fields the broker owns (base offset,
 * leader epoch, LogAppendTime).  CRC-32C is weir_crc32c.c.
 */
#include "weir_batch.h"

#include <string.h>

#include "weir_buf.h"

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
