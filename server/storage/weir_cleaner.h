/*
 * weir_cleaner.h: log compaction (cleanup.policy=compact) with Kafka's
 * semantics - the cleaner that rewrites a partition's closed segments keeping,
 * for each key, only the record with the highest offset.
 *
 * Division of work:
 *  - The loop decides what to clean (weir_cleaner_examine: dirty ratio over
 *    the closed segments, min/max compaction lag, tombstones whose delete
 *    horizon has passed) and hands a job a snapshot: the closed segments
 *    (referenced, so their descriptors stay open) and the offset range.
 *  - The job runs on libuv's worker pool in bounded steps (at most
 *    log.cleaner.threads jobs at once; between steps the loop waits as long
 *    as log.cleaner.io.max.bytes.per.second asks, on a timer, so the pool is
 *    never held by a sleeping cleaner).  Pass 1 builds a bounded offset map
 *    key hash -> highest offset over the dirty range; pass 2 rewrites the
 *    segments from the log start, grouped up to segment.bytes, into
 *    "<base>.log.cleaned" files; the commit step fsyncs them and renames each
 *    group's file to "<base>.log.<end>.swap" (in offset order, the directory
 *    fsynced after each), which is the point of no return.
 *  - Back on the loop the log swaps the groups in (weir_plog_clean_install:
 *    renames and an in-memory list update) and writes its cleaner checkpoint.
 *    A crash at any point leaves either the old segments (a ".cleaned" file
 *    is removed at open) or, once a ".swap" exists, the new ones (the swap is
 *    completed at open), never a mix within a group; groups commit in offset
 *    order, which is safe because a record is only ever removed in favour of
 *    a later one.
 *
 * Batches are rewritten in their own format: magic 2, the same codec, the
 * original base offset, last offset delta, producer id/epoch and base
 * sequence (so idempotence state survives); records keep their offsets and
 * timestamps.  A batch whose records all survive is copied byte for byte.
 * Tombstones get Kafka's delete horizon (KIP-534: attribute bit 6, the horizon
 * in BaseTimestamp) the first time they are cleaned and are dropped by the
 * first cleaning after it.  Keyless records are dropped (Kafka counts them as
 * invalid).  The last batch of each known producer is kept, empty if need be.
 */
#ifndef WEIR_CLEANER_H
#define WEIR_CLEANER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "weir_plog.h"
#include "weir_segment.h"

/* Attributes bit 6: BaseTimestamp holds the delete horizon (KIP-534). */
#define WEIR_BATCH_ATTR_DELETE_HORIZON 0x40

/* The cleaner's checkpoint file in each compacted partition directory. */
#define WEIR_CLEANER_CHECKPOINT_FILE "cleaner-offset-checkpoint"

typedef struct weir_cleaner_s weir_cleaner_t;
typedef struct weir_clean_job_s weir_clean_job_t;

/* Broker-level settings (log.cleaner.*). */
typedef struct weir_cleaner_conf_s {
    bool enable;                 /* log.cleaner.enable */
    int32_t threads;             /* log.cleaner.threads: jobs at once */
    double io_max_bytes_per_sec; /* log.cleaner.io.max.bytes.per.second (<= 0: unlimited) */
    int64_t backoff_ms;          /* log.cleaner.backoff.ms: idle wait between checks */
    int64_t dedupe_buffer_size;  /* log.cleaner.dedupe.buffer.size, shared by the threads */
} weir_cleaner_conf_t;

/* A partition log's compaction state, kept in the log (weir_plog.c). */
typedef struct weir_clean_state_s {
    int64_t first_dirty;    /* below it the log is clean (the checkpoint) */
    int64_t horizon_ms;     /* earliest delete horizon of a kept tombstone, INT64_MAX: none */
    int64_t retry_after_ms; /* a failed cleaning is not retried before this */
    weir_clean_job_t *job;  /* in flight, or NULL */
} weir_clean_state_t;

/* What weir_cleaner_examine() found. */
typedef struct weir_cleanable_s {
    int64_t first_dirty;       /* effective checkpoint */
    int64_t first_uncleanable; /* active segment base, or the first segment within min lag */
    int64_t clean_bytes;       /* closed segments wholly below first_dirty */
    int64_t dirty_bytes;       /* segments from first_dirty up to first_uncleanable */
    double ratio;              /* dirty / (clean + dirty) */
    bool lag_exceeded;         /* a dirty segment is older than max.compaction.lag.ms */
    bool tombstones_due;       /* a kept tombstone's delete horizon has passed */
    bool eligible;             /* worth a cleaning now */
} weir_cleanable_t;

/* Totals since the cleaner started (for tests and benchmarks). */
typedef struct weir_clean_stats_s {
    uint64_t jobs_done, jobs_failed, jobs_aborted;
    uint64_t bytes_read, bytes_written; /* pass 2: old segments in, cleaned segments out */
    uint64_t records_read, records_kept;
    uint64_t busy_us; /* summed wall time of finished jobs */
} weir_clean_stats_t;

/* Called on the loop when a job ends: 0, UV_ECANCELED (aborted, the log
 * closed), or a negative error. */
typedef void (*weir_clean_done_cb)(void *arg, int status);

/* Creates the cleaner (one per broker). */
weir_cleaner_t *weir_cleaner_new(uv_loop_t *loop, const weir_cleaner_conf_t *conf);

/* Stops starting jobs; jobs in flight are aborted (their logs are closed by
 * then, or will be) and the memory goes with the last of them. */
void weir_cleaner_free(weir_cleaner_t *c);

/*
 * Scheduling from the housekeeping timer:
 *   if (weir_cleaner_round_begin(c, now)) {
 *       for each partition log: weir_cleaner_offer(c, log, now);
 *       weir_cleaner_round_end(c, now);
 *   }
 * A round is due when cleaning is enabled, a thread is free and
 * log.cleaner.backoff.ms has passed since a round that found nothing (a
 * finished job makes the next round due at once).  round_end starts jobs for
 * the eligible logs, most urgent first (max lag exceeded, then highest dirty
 * ratio).
 */
bool weir_cleaner_round_begin(weir_cleaner_t *c, int64_t now_ms);
void weir_cleaner_offer(weir_cleaner_t *c, weir_plog_t *log, int64_t now_ms);
void weir_cleaner_round_end(weir_cleaner_t *c, int64_t now_ms);

/* Computes log's cleanable range and whether it is eligible.  Returns false
 * (out untouched) when the log is not compacted. */
bool weir_cleaner_examine(weir_plog_t *log, int64_t now_ms, weir_cleanable_t *out);

/* Starts cleaning log now (whatever its dirty ratio), now_ms being the clock
 * for tombstone horizons; cb (optional) is called on the loop at the end.
 * Returns 0, -EBUSY (a job is already running for the log, or every thread
 * is busy), -ENOENT (nothing to clean) or -EINVAL (the log is not
 * compacted). */
int weir_cleaner_start(weir_cleaner_t *c, weir_plog_t *log, int64_t now_ms, weir_clean_done_cb cb,
                       void *arg);

void weir_cleaner_stats(const weir_cleaner_t *c, weir_clean_stats_t *out);

/* Called by the log when it closes or is deleted with a job in flight: the
 * job stops at its next batch and forgets the log's in-memory state (files
 * it committed stay for the next open to complete). */
void weir_cleaner_job_detach(weir_clean_job_t *job);

/* Test hook: called by the job at each named step ("map", "clean",
 * "cleaned_written", "swap_renamed", and by the log's install
 * "install_retired", "install_swapped").  NULL in production. */
extern void (*weir_cleaner_step_hook)(const char *step, int64_t base_offset);

/* ------------------------------------------------------------------------
 * The partition log's side (implemented in weir_plog.c, loop thread only).
 * ------------------------------------------------------------------------ */

weir_clean_state_t *weir_plog_clean_state(weir_plog_t *log);
const weir_log_config_t *weir_plog_config(const weir_plog_t *log);
const char *weir_plog_dir(const weir_plog_t *log);
/* The segments in offset order; the last one is active. */
weir_segment_t *const *weir_plog_segments(const weir_plog_t *log, size_t *n);
/* The last offset of the last batch of every known idempotent producer, sorted
 * ascending (allocated). */
size_t weir_plog_producer_last_offsets(const weir_plog_t *log, int64_t **out);
/* Keeps the struct alive after close for a job still running; the last
 * release after close frees it. */
void weir_plog_hold(weir_plog_t *log);
void weir_plog_release(weir_plog_t *log);

/*
 * Swaps cleaned segments in: old[0..nold) are the log's first nold segments;
 * repl[i] (a finished cleaned segment already renamed to its
 * "<base>.log.<ends[i]>.swap" name) replaces the old segments whose base
 * offsets lie in [repl[i]->base_offset, ends[i]).  For each group in order:
 * the old segments are retired (renamed *.deleted, removed after
 * file.delete.delay.ms; open fetch slices keep reading them), the index
 * files renamed into place, then the .swap renamed to "<base>.log".  Takes
 * over the references to repl.  Then the checkpoint is written with
 * first_dirty and horizon_ms.  Returns 0 or a negative error (the log then
 * holds whatever the renames achieved; the next open completes the rest).
 */
int weir_plog_clean_install(weir_plog_t *log, weir_segment_t *const *old, size_t nold,
                            weir_segment_t **repl, const int64_t *ends, size_t nrepl,
                            int64_t first_dirty, int64_t horizon_ms);

#endif
