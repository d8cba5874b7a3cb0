/*
 * weir_plog.h: one partition's log - Kafka's own on-disk layout.
 *
 *   <dir>/00000000000000000000.log        record batches as produced
 *   <dir>/00000000000000000000.index      8-byte entries: relative offset
 *                                         (int32 BE) -> file position (int32 BE)
 *   <dir>/00000000000000000000.timeindex  12-byte entries: timestamp (int64 BE)
 *                                         -> relative offset (int32 BE)
 *
 * Segment files are named by their 20-digit base offset.  Every call here is
 * made on the loop thread except where noted; blocking work (fsync, segment
 * deletion) is handed to libuv's worker pool and its completion applied on
 * the loop.  A partition log is single-replica: its high watermark is its
 * log end offset.
 */
#ifndef WEIR_PLOG_H
#define WEIR_PLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "weir_batch.h"
#include "weir_kerr.h"

typedef struct weir_plog_s weir_plog_t;
typedef struct weir_segment_s weir_segment_t;

/* Effective per-partition settings (topic config over broker defaults). */
typedef struct weir_log_config_s {
    int64_t segment_bytes;        /* roll when the active segment would exceed this */
    int64_t segment_ms;           /* roll when the active segment is older than this */
    int64_t retention_ms;         /* -1 = forever */
    int64_t retention_bytes;      /* -1 = unlimited */
    int32_t index_interval_bytes; /* bytes between index entries (Kafka: 4096) */
    int32_t max_message_bytes;    /* largest batch accepted */
    int64_t flush_messages;       /* fsync after this many messages (INT64_MAX = never) */
    int64_t flush_ms;             /* fsync data older than this (INT64_MAX = never) */
    bool log_append_time;         /* message.timestamp.type=LogAppendTime */
    int64_t file_delete_delay_ms; /* delay before a retired segment's files are removed */
    /* Compaction (cleanup.policy=compact, see weir_cleaner.h).  Zero values
     * keep the delete policy's behaviour. */
    bool compact;                  /* cleanup.policy has compact: keyless records refused */
    bool no_delete;                /* cleanup.policy lacks delete: no retention by time/size */
    double min_cleanable_ratio;    /* min.cleanable.dirty.ratio */
    int64_t min_compaction_lag_ms; /* min.compaction.lag.ms */
    int64_t max_compaction_lag_ms; /* max.compaction.lag.ms (<= 0: none) */
    int64_t delete_retention_ms;   /* delete.retention.ms: tombstones kept after cleaning */
} weir_log_config_t;

/* Opens (creating if needed) the partition directory dir.  With recover set
 * (the broker did not shut down cleanly) the active segment is validated from
 * its last index entry and a torn or corrupt tail is truncated; any segment's
 * missing or inconsistent .index/.timeindex is rebuilt from its .log in
 * either case.  Producer state for idempotence is rebuilt from the log tail.
 * Returns 0, or a negative error with a message in errstr. */
int weir_plog_open(uv_loop_t *loop, const char *dir, const weir_log_config_t *cfg,
                   bool recover, weir_plog_t **out, char *errstr, size_t errstr_size);

/* Flushes (fsync, synchronous: only at shutdown) and frees.  Pending syncs
 * are completed with their callbacks first. */
void weir_plog_close(weir_plog_t *log);

/* Replaces the settings (topic config changed). */
void weir_plog_set_config(weir_plog_t *log, const weir_log_config_t *cfg);

int64_t weir_plog_start_offset(const weir_plog_t *log);
int64_t weir_plog_end_offset(const weir_plog_t *log);
int64_t weir_plog_size_bytes(const weir_plog_t *log);

typedef struct weir_append_result_s {
    int64_t base_offset;     /* offset given to the first record */
    int64_t log_append_time; /* -1 unless the topic uses LogAppendTime */
    bool duplicate;          /* idempotent retry: nothing appended, base_offset is the original */
} weir_append_result_t;

/*
 * Validates and appends the record batches in data (the Produce request's
 * Records field, len bytes; modified in place to stamp offsets).  Either all
 * batches are appended or none.  Idempotent producers (ProducerId >= 0) are
 * checked per producer id: a stale epoch answers INVALID_PRODUCER_EPOCH, a
 * sequence gap OUT_OF_ORDER_SEQUENCE_NUMBER, a retry of one of the last five
 * batches is acknowledged with its original offset and not appended again.
 * Other errors: those of weir_batch_validate(), MESSAGE_TOO_LARGE,
 * KAFKA_STORAGE_ERROR on an I/O failure; on a compacted log (cfg.compact)
 * INVALID_RECORD for a record without a key (the records are read,
 * decompressing if needed, and CORRUPT_MESSAGE answers undecodable ones).
 */
weir_kerr_t weir_plog_append(weir_plog_t *log, uint8_t *data, size_t len, int64_t now_ms,
                             weir_append_result_t *res);

/* A range of a segment file, kept open while the slice is held. */
typedef struct weir_slice_s {
    weir_segment_t *seg; /* NULL: empty slice */
    int fd;
    int64_t pos;
    int64_t len;
} weir_slice_t;

/*
 * Finds the batches starting with the one that contains offset, up to
 * max_bytes of whole batches, within one segment.  With min_one, a first
 * batch larger than max_bytes is still returned whole (KIP-74).  Returns
 * WEIR_KERR_NONE (possibly with an empty slice when offset == end offset) or
 * OFFSET_OUT_OF_RANGE.  The slice must be released with weir_slice_release().
 */
weir_kerr_t weir_plog_read(weir_plog_t *log, int64_t offset, int64_t max_bytes, bool min_one,
                           weir_slice_t *out);
void weir_slice_release(weir_slice_t *slice);

/* The earliest offset whose record timestamp is >= ts, or -1 if none
 * (ListOffsets by time); uses the time index.  *found_ts gets that record's
 * timestamp. */
int64_t weir_plog_offset_for_time(weir_plog_t *log, int64_t ts, int64_t *found_ts);

/* Time-based roll check and retention: deletes whole closed segments older
 * than retention_ms or beyond retention_bytes (the active segment is never
 * deleted); files are removed on the worker pool.  Returns segments retired. */
int weir_plog_enforce_retention(weir_plog_t *log, int64_t now_ms);

/* Called periodically: starts an fsync when flush_ms has passed since the
 * oldest unflushed append. */
void weir_plog_tick(weir_plog_t *log, int64_t now_ms);

typedef void (*weir_sync_cb)(void *arg, int status);
/* Calls cb on the loop once every byte appended before this call is on stable
 * storage.  Syncs are group commits: concurrent callers share one fsync on
 * the worker pool. */
void weir_plog_sync(weir_plog_t *log, weir_sync_cb cb, void *arg);

/* Renames the directory aside (<dir>.<id>-delete) and removes it on the worker
 * pool, then frees the log. */
void weir_plog_delete(weir_plog_t *log);

#endif
