/*
 * weir_batch.h: the record batch (magic v2) header as it sits on the wire and
 * on disk, and its validation (CRC-32C: weir_crc32c.h).
 *
 * Layout (big-endian), 61 bytes before the records:
 *   0 BaseOffset int64        8 BatchLength int32     12 PartitionLeaderEpoch int32
 *  16 Magic int8             17 CRC uint32            21 Attributes int16
 *  23 LastOffsetDelta int32  27 BaseTimestamp int64   35 MaxTimestamp int64
 *  43 ProducerId int64       51 ProducerEpoch int16   53 BaseSequence int32
 *  57 RecordsCount int32     61 Records...
 * BatchLength counts the bytes after the BatchLength field (total - 12).
 * The CRC-32C covers Attributes through the end of the batch.
 */
#ifndef WEIR_BATCH_H
#define WEIR_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_crc32c.h"
#include "weir_kerr.h"

#define WEIR_BATCH_HDR_SIZE 61
#define WEIR_BATCH_LOG_OVERHEAD 12 /* BaseOffset + BatchLength */

#define WEIR_BATCH_OFF_BASE_OFFSET 0
#define WEIR_BATCH_OFF_LENGTH 8
#define WEIR_BATCH_OFF_LEADER_EPOCH 12
#define WEIR_BATCH_OFF_MAGIC 16
#define WEIR_BATCH_OFF_CRC 17
#define WEIR_BATCH_OFF_ATTRIBUTES 21
#define WEIR_BATCH_OFF_LAST_OFFSET_DELTA 23
#define WEIR_BATCH_OFF_BASE_TIMESTAMP 27
#define WEIR_BATCH_OFF_MAX_TIMESTAMP 35
#define WEIR_BATCH_OFF_PRODUCER_ID 43
#define WEIR_BATCH_OFF_PRODUCER_EPOCH 51
#define WEIR_BATCH_OFF_BASE_SEQUENCE 53
#define WEIR_BATCH_OFF_RECORDS_COUNT 57

#define WEIR_BATCH_ATTR_COMPRESSION_MASK 0x07
#define WEIR_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define WEIR_BATCH_ATTR_TRANSACTIONAL 0x10
#define WEIR_BATCH_ATTR_CONTROL 0x20

typedef enum weir_codec_e {
    WEIR_CODEC_NONE = 0,
    WEIR_CODEC_GZIP = 1,
    WEIR_CODEC_SNAPPY = 2,
    WEIR_CODEC_LZ4 = 3,
    WEIR_CODEC_ZSTD = 4,
} weir_codec_t;

typedef struct weir_batch_hdr_s {
    int64_t base_offset;
    int32_t batch_length;
    int32_t leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
} weir_batch_hdr_t;

/* Decodes the fixed header; p must hold at least WEIR_BATCH_HDR_SIZE bytes. */
void weir_batch_hdr_decode(const uint8_t *p, weir_batch_hdr_t *h);

/* Total bytes of the batch at p (BatchLength + 12). */
static inline size_t
weir_batch_total_size(const weir_batch_hdr_t *h)
{
    return (size_t)h->batch_length + WEIR_BATCH_LOG_OVERHEAD;
}

/*
 * Validates one produced batch at p (len bytes available, the batch may be
 * followed by others):  size fields consistent with len, magic 2, CRC-32C,
 * LastOffsetDelta == RecordsCount - 1 >= 0, no control batch from a client,
 * a known compression codec.  On success stores the decoded header and
 * returns WEIR_KERR_NONE.  Errors: CORRUPT_MESSAGE (bad size/CRC),
 * UNSUPPORTED_FOR_MESSAGE_FORMAT (magic 0/1), INVALID_RECORD (counts,
 * control), UNSUPPORTED_COMPRESSION_TYPE.
 */
weir_kerr_t weir_batch_validate(const uint8_t *p, size_t len, weir_batch_hdr_t *h);

/* Rewrites the header fields the broker owns, in place: BaseOffset,
 * PartitionLeaderEpoch, and - when log_append_time >= 0 - MaxTimestamp and
 * the timestamp-type attribute, recomputing the CRC. */
void weir_batch_stamp(uint8_t *p, int64_t base_offset, int32_t leader_epoch,
                      int64_t log_append_time);

#endif
