/*
 * weir_producer_state.h: per-partition state of idempotent producers - for
 * each producer id its epoch and its last five batches (first/last sequence,
 * base offset), checked at append the way Kafka 2.x does.  Internal to
 * server/storage.
 *
 * Rules (ProducerId >= 0; batches with ProducerId -1 are not checked):
 *  - epoch older than the producer's -> INVALID_PRODUCER_EPOCH;
 *  - same epoch, a batch whose first and last sequence match one of the five
 *    cached batches -> duplicate (acknowledged with its original offset);
 *  - same epoch: first sequence must be last sequence + 1 (INT32_MAX wraps
 *    to 0), else OUT_OF_ORDER_SEQUENCE_NUMBER;
 *  - newer epoch: first sequence must be 0, else OUT_OF_ORDER_SEQUENCE_NUMBER;
 *  - unknown producer id with a first sequence other than 0 ->
 *    UNKNOWN_PRODUCER_ID (Kafka 2.x: the broker has no record of it, e.g. its
 *    state was lost with the segments retention removed; the client resets).
 */
#ifndef WEIR_PRODUCER_STATE_H
#define WEIR_PRODUCER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_batch.h"
#include "weir_kerr.h"

#define WEIR_PRODUCER_CACHED_BATCHES 5

typedef struct weir_pbatch_s {
    int32_t first_seq;
    int32_t last_seq;
    int64_t first_offset;
    int64_t timestamp; /* batch MaxTimestamp as stored */
} weir_pbatch_t;

typedef struct weir_producer_s {
    int64_t pid;        /* -1: free slot */
    int16_t epoch;      /* -1: no epoch known yet */
    uint8_t nbatches;   /* cached batches, oldest first */
    weir_pbatch_t batches[WEIR_PRODUCER_CACHED_BATCHES];
    int64_t last_ms;    /* last append (or batch timestamp when loaded) */
} weir_producer_t;

typedef struct weir_pstate_s {
    weir_producer_t *slots; /* open addressing, linear probing */
    size_t cap;             /* power of two (0 before first insert) */
    size_t count;
} weir_pstate_t;

void weir_pstate_init(weir_pstate_t *ps);
void weir_pstate_free(weir_pstate_t *ps);

/* The entry for pid, or NULL. */
const weir_producer_t *weir_pstate_find(const weir_pstate_t *ps, int64_t pid);

/*
 * Checks batch h (to be stored at base_offset) against the producer's state
 * in *p (a working copy; pid set, epoch -1 and no batches for an unknown
 * producer) and, when accepted, records it there.  A duplicate returns
 * WEIR_KERR_NONE with *dup pointing at the cached batch.
 */
weir_kerr_t weir_pstate_check(weir_producer_t *p, const weir_batch_hdr_t *h, int64_t base_offset,
                              int64_t max_ts, int64_t now_ms, const weir_pbatch_t **dup);

/* Records a batch read back from the log, without checks (state rebuild). */
void weir_pstate_apply(weir_pstate_t *ps, const weir_batch_hdr_t *h, int64_t now_ms);

/* Stores a working copy back into the table (insert or replace). */
void weir_pstate_put(weir_pstate_t *ps, const weir_producer_t *p);

/* Removes producers whose last append is older than expire_before_ms;
 * returns how many. */
size_t weir_pstate_expire(weir_pstate_t *ps, int64_t expire_before_ms);

/*
 * Snapshot of the table, written to "<offset>.snapshot" files (Weir's own
 * format, not Kafka's):  "WPS1", CRC-32C (uint32 BE) of what follows, count
 * (int32), then per producer: pid int64, epoch int16, last_ms int64, batch
 * count int8, and per batch first_seq int32, last_seq int32, first_offset
 * int64, timestamp int64.  weir_pstate_encode allocates *out.
 */
void weir_pstate_encode(const weir_pstate_t *ps, uint8_t **out, size_t *len);
/* Loads a snapshot into an empty table.  Returns 0, or WEIR_ECORRUPT with
 * the table left empty. */
int weir_pstate_decode(weir_pstate_t *ps, const uint8_t *p, size_t len);

/* The last sequence of a batch: first + lastOffsetDelta, wrapping past
 * INT32_MAX to 0 as Kafka does. */
int32_t weir_pstate_seq_add(int32_t seq, int32_t delta);

#endif
