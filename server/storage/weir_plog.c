/*
 * weir_plog.c: one partition's log - the ordered list of segments, append
 * (validation, idempotence checks, offset assignment, rolling), reads as
 * file slices, ListOffsets by time, retention, group-committed fsync,
 * opening with recovery, and deleting the partition.
 *
 * Runs on the loop thread.  Blocking work goes to libuv's worker pool: the
 * fsync jobs (one in flight per partition, holding references to the
 * segments they sync) and the removal of retired segment files and deleted
 * partition directories (jobs that own only path strings).
 *
 * Compaction: the log keeps the cleaner's state (checkpoint, tombstone
 * horizon, the job in flight), refuses keyless records on a compacted topic,
 * swaps cleaned segments in (weir_plog_clean_install) and, at open, completes
 * a swap a crash interrupted after its commit point; weir_cleaner.c does the
 * rest.
 */
#include "weir_plog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir_buf.h"
#include "weir_cleaner.h"
#include "weir_common.h"
#include "weir_log.h"
#include "weir_producer_state.h"
#include "weir_records.h"
#include "weir_segment.h"

/* Kafka's transactional.id.expiration.ms default: forget idle producers. */
#define WEIR_PRODUCER_EXPIRATION_MS (7LL * 24 * 3600 * 1000)
/* Largest batch offset_for_time reads back to look inside it. */
#define WEIR_TIME_LOOKUP_MAX_BATCH (64LL * 1024 * 1024)
/* Largest producer snapshot file read at open. */
#define WEIR_SNAPSHOT_MAX_BYTES (256LL * 1024 * 1024)

typedef struct plog_waiter_s {
    weir_sync_cb cb;
    void *arg;
} plog_waiter_t;

typedef struct plog_waiters_s {
    plog_waiter_t *v;
    size_t n, cap;
} plog_waiters_t;

/* One fsync job on the worker pool. */
typedef struct plog_sync_job_s {
    uv_work_t req;
    weir_plog_t *log;
    weir_segment_t **segs; /* referenced */
    size_t nsegs;
    plog_waiters_t waiters;
    int status;
} plog_sync_job_t;

/* Removal of a deleted partition's directory on the worker pool. */
typedef struct plog_rmdir_s {
    uv_work_t work;
    char *path;
} plog_rmdir_t;

/* Files of retired segments waiting for file_delete_delay_ms, then removed
 * on the worker pool. */
typedef struct plog_deletion_s {
    uv_timer_t timer;
    uv_work_t work;
    char **paths;
    size_t npaths;
    struct plog_deletion_s *prev, *next; /* log's pending list while timed */
    weir_plog_t *log;
} plog_deletion_t;

struct weir_plog_s {
    uv_loop_t *loop;
    char *dir;
    weir_log_config_t cfg;
    weir_segment_t **segs; /* by base offset; the last is active */
    size_t nsegs, segs_cap;
    int64_t start_offset;
    int64_t size_bytes;
    weir_pstate_t producers;

    int64_t snaps[2];           /* producer snapshots on disk, oldest first */
    size_t nsnaps;

    int64_t unflushed_msgs;
    int64_t first_unflushed_ms; /* -1: nothing unflushed */

    plog_sync_job_t *sync_job;  /* in flight, or NULL */
    plog_waiters_t next_waiters;
    bool sync_wanted;           /* a flush was asked for without waiters */
    int jobs;                   /* sync and cleaner jobs still pointing at this struct */
    bool closed;
    plog_deletion_t *deletions; /* timed deletions not yet fired */
    weir_clean_state_t clean;   /* compaction (weir_cleaner.c) */
    plog_rmdir_t *pending_rmdir; /* deleted while a cleaner job ran: removed after it */
};

static void plog_request_sync(weir_plog_t *log);

static void
seterr(char *errstr, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (!errstr || size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errstr, size, fmt, ap);
    va_end(ap);
}

static weir_segment_t *
active_seg(const weir_plog_t *log)
{
    return log->segs[log->nsegs - 1];
}

static void
segs_push(weir_plog_t *log, weir_segment_t *seg)
{
    if (log->nsegs == log->segs_cap) {
        log->segs_cap = log->segs_cap ? log->segs_cap * 2 : 8;
        log->segs = weir_realloc(log->segs, log->segs_cap * sizeof(*log->segs));
    }
    log->segs[log->nsegs++] = seg;
}

static void
waiters_push(plog_waiters_t *w, weir_sync_cb cb, void *arg)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4;
        w->v = weir_realloc(w->v, w->cap * sizeof(*w->v));
    }
    w->v[w->n].cb = cb;
    w->v[w->n].arg = arg;
    w->n++;
}

static void
waiters_run(plog_waiters_t *w, int status)
{
    for (size_t i = 0; i < w->n; i++)
        w->v[i].cb(w->v[i].arg, status);
    free(w->v);
    memset(w, 0, sizeof(*w));
}

static void
normalize_config(weir_log_config_t *cfg)
{
    /* Index positions are int32: a segment never grows past 2 GiB. */
    if (cfg->segment_bytes <= 0 || cfg->segment_bytes > INT32_MAX)
        cfg->segment_bytes = INT32_MAX;
    if (cfg->segment_ms <= 0)
        cfg->segment_ms = INT64_MAX;
    if (cfg->index_interval_bytes < 0)
        cfg->index_interval_bytes = 0;
    if (cfg->max_message_bytes <= 0)
        cfg->max_message_bytes = INT32_MAX;
    if (cfg->flush_messages <= 0)
        cfg->flush_messages = 1;
    if (cfg->flush_ms < 0)
        cfg->flush_ms = 0;
    if (cfg->file_delete_delay_ms < 0)
        cfg->file_delete_delay_ms = 0;
    if (cfg->max_compaction_lag_ms <= 0)
        cfg->max_compaction_lag_ms = INT64_MAX;
    if (cfg->min_compaction_lag_ms < 0)
        cfg->min_compaction_lag_ms = 0;
    if (cfg->delete_retention_ms < 0)
        cfg->delete_retention_ms = 0;
    /* KIP-354: a compacted log's active segment also rolls once it is
     * max.compaction.lag.ms old, so that the cleaner can get at it in time. */
    if (cfg->compact && cfg->max_compaction_lag_ms < cfg->segment_ms)
        cfg->segment_ms = cfg->max_compaction_lag_ms;
}

/* ------------------------------------------------------------------------
 * File removal on the worker pool
 * ------------------------------------------------------------------------ */

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if ((type == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT)
        WEIR_LOG(WEIR_LOG_WARN, "storage_remove_failed", "path=%s err=%s", path,
                 strerror(errno));
    return 0;
}

static void
rm_rf(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
deletion_unlink(plog_deletion_t *d)
{
    for (size_t i = 0; i < d->npaths; i++) {
        if (unlink(d->paths[i]) != 0 && errno != ENOENT)
            WEIR_LOG(WEIR_LOG_WARN, "segment_delete_failed", "file=%s err=%s", d->paths[i],
                     strerror(errno));
    }
}

static void
deletion_free(plog_deletion_t *d)
{
    for (size_t i = 0; i < d->npaths; i++)
        free(d->paths[i]);
    free(d->paths);
    free(d);
}

static void
deletion_work(uv_work_t *req)
{
    deletion_unlink(weir_container_of(req, plog_deletion_t, work));
}

static void
deletion_after(uv_work_t *req, int status)
{
    (void)status;
    deletion_free(weir_container_of(req, plog_deletion_t, work));
}

static void
deletion_queue(uv_loop_t *loop, plog_deletion_t *d)
{
    if (uv_queue_work(loop, &d->work, deletion_work, deletion_after) != 0) {
        deletion_unlink(d);
        deletion_free(d);
    }
}

static void
deletion_timer_closed(uv_handle_t *h)
{
    plog_deletion_t *d = weir_container_of((uv_timer_t *)h, plog_deletion_t, timer);

    if (d->npaths > 0)
        deletion_queue(h->loop, d);
    else
        deletion_free(d);
}

static void
deletion_unlist(plog_deletion_t *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        d->log->deletions = d->next;
    if (d->next)
        d->next->prev = d->prev;
    d->prev = d->next = NULL;
}

static void
deletion_timer_fired(uv_timer_t *t)
{
    plog_deletion_t *d = weir_container_of(t, plog_deletion_t, timer);

    deletion_unlist(d);
    uv_close((uv_handle_t *)t, deletion_timer_closed);
}

static void
plog_schedule_deletion(weir_plog_t *log, char **paths, size_t npaths)
{
    plog_deletion_t *d = weir_calloc(1, sizeof(*d));

    d->paths = paths;
    d->npaths = npaths;
    d->log = log;
    if (log->cfg.file_delete_delay_ms == 0) {
        deletion_queue(log->loop, d);
        return;
    }
    uv_timer_init(log->loop, &d->timer);
    uv_timer_start(&d->timer, deletion_timer_fired, (uint64_t)log->cfg.file_delete_delay_ms, 0);
    d->next = log->deletions;
    if (d->next)
        d->next->prev = d;
    log->deletions = d;
}

/* At close: timed deletions are done now (or dropped when the directory is
 * going away anyway) and their timers closed. */
static void
plog_flush_deletions(weir_plog_t *log, bool do_unlink)
{
    while (log->deletions) {
        plog_deletion_t *d = log->deletions;
        deletion_unlist(d);
        uv_timer_stop(&d->timer);
        if (do_unlink)
            deletion_unlink(d);
        for (size_t i = 0; i < d->npaths; i++)
            free(d->paths[i]);
        d->npaths = 0;
        uv_close((uv_handle_t *)&d->timer, deletion_timer_closed);
    }
}

/* ------------------------------------------------------------------------
 * Group-committed fsync
 * ------------------------------------------------------------------------ */

static void
sync_work(uv_work_t *req)
{
    plog_sync_job_t *job = weir_container_of(req, plog_sync_job_t, req);

    for (size_t i = 0; i < job->nsegs; i++) {
        if (fdatasync(job->segs[i]->fd) != 0 && job->status == 0)
            job->status = -errno;
    }
}

static void plog_free_struct(weir_plog_t *log);

static void
sync_after(uv_work_t *req, int status)
{
    plog_sync_job_t *job = weir_container_of(req, plog_sync_job_t, req);
    weir_plog_t *log = job->log;
    plog_waiters_t waiters = job->waiters;

    if (status != 0 && job->status == 0)
        job->status = status;
    log->jobs--;
    if (log->closed) {
        /* weir_plog_close already synced and answered the waiters. */
        for (size_t i = 0; i < job->nsegs; i++)
            weir_segment_unref(job->segs[i]);
        free(job->segs);
        free(job);
        if (log->jobs == 0)
            plog_free_struct(log);
        return;
    }
    log->sync_job = NULL;
    if (job->status != 0) {
        WEIR_LOG(WEIR_LOG_ERROR, "log_fsync_failed", "dir=%s err=%s", log->dir,
                 uv_strerror(job->status));
        for (size_t i = 0; i < job->nsegs; i++)
            job->segs[i]->dirty = true;
    }
    for (size_t i = 0; i < job->nsegs; i++)
        weir_segment_unref(job->segs[i]);
    free(job->segs);
    status = job->status;
    free(job);

    /* Whoever arrived while this job ran is served by the next one.  Start
     * it before running callbacks: a callback may close the log. */
    if (log->next_waiters.n > 0 || log->sync_wanted)
        plog_request_sync(log);
    waiters_run(&waiters, status);
}

static void
plog_start_sync(weir_plog_t *log)
{
    plog_sync_job_t *job = weir_calloc(1, sizeof(*job));

    job->log = log;
    job->segs = weir_malloc(log->nsegs * sizeof(*job->segs));
    for (size_t i = 0; i < log->nsegs; i++) {
        weir_segment_t *seg = log->segs[i];
        if (seg->dirty) {
            seg->dirty = false;
            weir_segment_ref(seg);
            job->segs[job->nsegs++] = seg;
        }
    }
    job->waiters = log->next_waiters;
    memset(&log->next_waiters, 0, sizeof(log->next_waiters));
    log->sync_wanted = false;
    log->unflushed_msgs = 0;
    log->first_unflushed_ms = -1;
    log->sync_job = job;
    log->jobs++;
    if (uv_queue_work(log->loop, &job->req, sync_work, sync_after) != 0) {
        sync_work(&job->req);
        sync_after(&job->req, 0);
    }
}

/* Starts a sync now, or after the one in flight. */
static void
plog_request_sync(weir_plog_t *log)
{
    if (log->sync_job)
        log->sync_wanted = true;
    else
        plog_start_sync(log);
}

void
weir_plog_sync(weir_plog_t *log, weir_sync_cb cb, void *arg)
{
    if (cb)
        waiters_push(&log->next_waiters, cb, arg);
    else
        log->sync_wanted = true;
    if (!log->sync_job)
        plog_start_sync(log);
}

void
weir_plog_tick(weir_plog_t *log, int64_t now_ms)
{
    if (log->first_unflushed_ms >= 0 && log->cfg.flush_ms != INT64_MAX &&
        now_ms - log->first_unflushed_ms >= log->cfg.flush_ms)
        plog_request_sync(log);
}

/* ------------------------------------------------------------------------
 * Open and close
 * ------------------------------------------------------------------------ */

static int
mkdir_p(const char *dir)
{
    char *p = weir_strdup(dir);
    int rc = 0;

    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = -errno;
            break;
        }
        *s = '/';
    }
    if (rc == 0 && mkdir(p, 0755) != 0 && errno != EEXIST)
        rc = -errno;
    free(p);
    return rc;
}

static bool
has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    return n >= m && strcmp(name + n - m, suffix) == 0;
}

/* "<20 digits>.<ext>" -> base offset, or -1. */
static int64_t
parse_segment_name(const char *name, const char *ext)
{
    int64_t v = 0;

    if (strlen(name) != 21 + strlen(ext) || name[20] != '.' || strcmp(name + 21, ext) != 0)
        return -1;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        if (v > (INT64_MAX - (name[i] - '0')) / 10)
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool
i64_in(const int64_t *v, size_t n, int64_t x)
{
    return n > 0 && bsearch(&x, v, n, sizeof(*v), cmp_i64) != NULL;
}

typedef struct pscan_arg_s {
    weir_pstate_t *ps;
    int64_t now_ms;
    int64_t from; /* batches below this offset are in the snapshot */
} pscan_arg_t;

static void
pscan_batch(void *arg, const weir_seg_batch_t *b)
{
    pscan_arg_t *a = arg;
    if (b->hdr.base_offset >= a->from)
        weir_pstate_apply(a->ps, &b->hdr, a->now_ms);
}

/* ------------------------------------------------------------------------
 * Producer state snapshots
 *
 * "<offset>.snapshot" holds the producer table as of that offset: written
 * when a segment rolls (offset = the new segment's base) and at close
 * (offset = log end).  At open the newest usable one is loaded and the
 * batches from its offset on are replayed, so producers are remembered
 * across restarts however far back their last batch is.  Without a usable
 * snapshot only the active segment is replayed.
 * ------------------------------------------------------------------------ */

static void
snapshot_path(const weir_plog_t *log, int64_t offset, const char *ext, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%020" PRId64 ".%s", log->dir, offset, ext);
}

static void
snapshot_unlink(const weir_plog_t *log, int64_t offset)
{
    char path[PATH_MAX];

    snapshot_path(log, offset, "snapshot", path, sizeof(path));
    if (unlink(path) != 0 && errno != ENOENT)
        WEIR_LOG(WEIR_LOG_WARN, "snapshot_remove_failed", "file=%s err=%s", path,
                 strerror(errno));
}

static int pwrite_full(int fd, const uint8_t *buf, size_t len, int64_t off);

/* Writes the producer table as of offset (the log end).  durable: fsync the
 * file (at close; at roll the loop must not wait for the disk - a lost
 * snapshot only means a longer replay). */
static void
plog_write_snapshot(weir_plog_t *log, int64_t offset, bool durable)
{
    char tmp[PATH_MAX], path[PATH_MAX];
    uint8_t *data;
    size_t len;
    int fd, rc = 0;

    snapshot_path(log, offset, "snapshot.tmp", tmp, sizeof(tmp));
    snapshot_path(log, offset, "snapshot", path, sizeof(path));
    weir_pstate_encode(&log->producers, &data, &len);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        rc = -errno;
    if (rc == 0)
        rc = pwrite_full(fd, data, len, 0);
    if (rc == 0 && durable && fdatasync(fd) != 0)
        rc = -errno;
    if (fd >= 0)
        close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    free(data);
    if (rc != 0) {
        WEIR_LOG(WEIR_LOG_WARN, "snapshot_write_failed", "file=%s err=%s", path, strerror(-rc));
        unlink(tmp);
        return;
    }
    if (log->nsnaps > 0 && log->snaps[log->nsnaps - 1] == offset)
        return;
    if (log->nsnaps == WEIR_ARRAY_SIZE(log->snaps)) {
        snapshot_unlink(log, log->snaps[0]);
        log->snaps[0] = log->snaps[1];
        log->nsnaps--;
    }
    log->snaps[log->nsnaps++] = offset;
}

/* Reads and decodes one snapshot file into the (empty) producer table. */
static int
plog_read_snapshot(weir_plog_t *log, int64_t offset)
{
    char path[PATH_MAX];
    struct stat st;
    uint8_t *data;
    int fd, rc;

    snapshot_path(log, offset, "snapshot", path, sizeof(path));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0 || st.st_size > WEIR_SNAPSHOT_MAX_BYTES) {
        close(fd);
        return WEIR_ECORRUPT;
    }
    data = weir_malloc((size_t)st.st_size);
    rc = pread(fd, data, (size_t)st.st_size, 0) == st.st_size
             ? weir_pstate_decode(&log->producers, data, (size_t)st.st_size)
             : WEIR_ECORRUPT;
    free(data);
    close(fd);
    return rc;
}

/* Rebuilds producer state: newest usable snapshot, then replay.  snaps are
 * the snapshot offsets found in the directory, ascending. */
static int
plog_load_producers(weir_plog_t *log, const int64_t *snaps, size_t nsnaps)
{
    int64_t end = active_seg(log)->next_offset, from = -1;
    pscan_arg_t a = {&log->producers, weir_wall_ms(), 0};
    size_t first = 0;
    int rc;

    for (size_t i = nsnaps; i-- > 0;) {
        if (snaps[i] > end || from >= 0) {
            /* Newer than the (possibly truncated) log, or superseded. */
            snapshot_unlink(log, snaps[i]);
            continue;
        }
        if ((rc = plog_read_snapshot(log, snaps[i])) == 0) {
            from = snaps[i];
            continue;
        }
        WEIR_LOG(WEIR_LOG_WARN, "snapshot_invalid", "dir=%s offset=%" PRId64, log->dir,
                 snaps[i]);
        snapshot_unlink(log, snaps[i]);
    }
    if (from >= 0) {
        log->snaps[0] = from;
        log->nsnaps = 1;
        a.from = from;
        while (first + 1 < log->nsegs && log->segs[first]->next_offset <= from)
            first++;
    } else {
        first = log->nsegs - 1;
    }
    for (size_t i = first; i < log->nsegs; i++) {
        if ((rc = weir_segment_scan_headers(log->segs[i], pscan_batch, &a)) != 0)
            return rc;
    }
    return 0;
}

static void rmdir_work(uv_work_t *req);
static void rmdir_after(uv_work_t *req, int status);

static void
plog_queue_rmdir(uv_loop_t *loop, plog_rmdir_t *r)
{
    if (uv_queue_work(loop, &r->work, rmdir_work, rmdir_after) != 0) {
        rmdir_work(&r->work);
        rmdir_after(&r->work, 0);
    }
}

/* ------------------------------------------------------------------------
 * The cleaner's checkpoint: "<dir>/cleaner-offset-checkpoint" holds the
 * first dirty offset and the earliest delete horizon of a kept tombstone.
 * Written after each swap (no fsync: a lost checkpoint only means cleaning
 * again from the log start).
 * ------------------------------------------------------------------------ */

#define WEIR_CHECKPOINT_MAGIC "weir-cleaner-checkpoint 1"

static void
plog_read_checkpoint(weir_plog_t *log)
{
    char path[PATH_MAX], buf[128], magic[64];
    long long first_dirty, horizon;
    ssize_t r;
    int fd;

    log->clean.first_dirty = log->start_offset;
    log->clean.horizon_ms = INT64_MAX;
    log->clean.retry_after_ms = 0;
    log->clean.job = NULL;
    snprintf(path, sizeof(path), "%s/%s", log->dir, WEIR_CLEANER_CHECKPOINT_FILE);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    r = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (r <= 0)
        return;
    buf[r] = '\0';
    if (sscanf(buf, "%63[^\n]\n%lld %lld", magic, &first_dirty, &horizon) != 3 ||
        strcmp(magic, WEIR_CHECKPOINT_MAGIC) != 0) {
        WEIR_LOG(WEIR_LOG_WARN, "log_cleaner_checkpoint_invalid", "file=%s", path);
        return;
    }
    log->clean.first_dirty = WEIR_MIN(WEIR_MAX((int64_t)first_dirty, log->start_offset),
                                      weir_plog_end_offset(log));
    log->clean.horizon_ms = horizon;
}

static void
plog_write_checkpoint(weir_plog_t *log)
{
    char tmp[PATH_MAX + 8], path[PATH_MAX], buf[128];
    int fd, n, rc = 0;

    snprintf(path, sizeof(path), "%s/%s", log->dir, WEIR_CLEANER_CHECKPOINT_FILE);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    n = snprintf(buf, sizeof(buf), "%s\n%" PRId64 " %" PRId64 "\n", WEIR_CHECKPOINT_MAGIC,
                 log->clean.first_dirty, log->clean.horizon_ms);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        rc = -errno;
    if (rc == 0)
        rc = pwrite_full(fd, (const uint8_t *)buf, (size_t)n, 0);
    if (fd >= 0)
        close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0) {
        WEIR_LOG(WEIR_LOG_WARN, "log_cleaner_checkpoint_write_failed", "file=%s err=%s", path,
                 strerror(-rc));
        unlink(tmp);
    }
}

static void
plog_free_struct(weir_plog_t *log)
{
    if (log->pending_rmdir)
        plog_queue_rmdir(log->loop, log->pending_rmdir);
    free(log);
}

/* Frees everything but the struct itself (which sync jobs may still use). */
static void
plog_teardown(weir_plog_t *log)
{
    for (size_t i = 0; i < log->nsegs; i++)
        weir_segment_unref(log->segs[i]);
    free(log->segs);
    log->segs = NULL;
    log->nsegs = 0;
    weir_pstate_free(&log->producers);
    free(log->dir);
    log->dir = NULL;
    log->closed = true;
}

/* Lists the partition directory: removes leftovers of interrupted deletions
 * and compactions and orphan index files, and returns the sorted base
 * offsets of the .log files. */
static void
i64_push(int64_t **v, size_t *n, size_t *cap, int64_t x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *v = weir_realloc(*v, *cap * sizeof(**v));
    }
    (*v)[(*n)++] = x;
}

/* "<20 digits>.log.<20 digits>.swap": a cleaned segment committed by the
 * cleaner that replaces the segments with base offsets in [*base, *end). */
static bool
parse_swap_name(const char *name, int64_t *base, int64_t *end)
{
    char head[32], tail[32];

    if (strlen(name) != 50 || strcmp(name + 45, ".swap") != 0 || strncmp(name + 20, ".log.", 5))
        return false;
    snprintf(head, sizeof(head), "%.20s.log", name);
    snprintf(tail, sizeof(tail), "%.20s.log", name + 25);
    *base = parse_segment_name(head, "log");
    *end = parse_segment_name(tail, "log");
    return *base >= 0 && *end > *base;
}

static void
unlink_segment_file(const char *dir, int64_t base, const char *ext)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%020" PRId64 ".%s", dir, base, ext);
    if (unlink(path) != 0 && errno != ENOENT)
        WEIR_LOG(WEIR_LOG_WARN, "log_leftover_remove_failed", "file=%s err=%s", path,
                 strerror(errno));
}

/* Completes the swaps a crash interrupted after the cleaner's commit point:
 * the segments a .swap replaces are removed and the .swap becomes the
 * segment (its index files are rebuilt at load).  Groups commit in offset
 * order and never overlap, so each swap completes on its own. */
static int
plog_complete_swaps(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int64_t *bases = NULL, *swaps = NULL;
    size_t n = 0, cap = 0, ns = 0, scap = 0;
    char from[PATH_MAX], to[PATH_MAX];
    int rc = 0;

    if (!d)
        return -errno;
    while ((e = readdir(d)) != NULL) {
        int64_t base = parse_segment_name(e->d_name, "log"), end;
        if (base >= 0) {
            i64_push(&bases, &n, &cap, base);
        } else if (parse_swap_name(e->d_name, &base, &end)) {
            i64_push(&swaps, &ns, &scap, base);
            i64_push(&swaps, &ns, &scap, end);
        }
    }
    closedir(d);
    for (size_t i = 0; i < ns && rc == 0; i += 2) {
        int64_t base = swaps[i], end = swaps[i + 1];

        for (size_t k = 0; k < n; k++) {
            if (bases[k] < base || bases[k] >= end)
                continue;
            unlink_segment_file(dir, bases[k], "log");
            unlink_segment_file(dir, bases[k], "index");
            unlink_segment_file(dir, bases[k], "timeindex");
        }
        unlink_segment_file(dir, base, "index");
        unlink_segment_file(dir, base, "timeindex");
        snprintf(from, sizeof(from), "%s/%020" PRId64 ".log.%020" PRId64 ".swap", dir, base, end);
        snprintf(to, sizeof(to), "%s/%020" PRId64 ".log", dir, base);
        if (rename(from, to) != 0) {
            rc = -errno;
            break;
        }
        WEIR_LOG(WEIR_LOG_INFO, "log_swap_completed", "dir=%s segment=%020" PRId64
                 " replaced_below=%" PRId64, dir, base, end);
    }
    free(bases);
    free(swaps);
    return rc;
}

static int
plog_scan_dir(const char *dir, int64_t **out, size_t *out_n, int64_t **snaps, size_t *nsnaps)
{
    DIR *d;
    struct dirent *e;
    int64_t *bases = NULL;
    size_t n = 0, cap = 0, scap = 0;
    char path[PATH_MAX];
    int rc;

    if ((rc = plog_complete_swaps(dir)) != 0)
        return rc;
    d = opendir(dir);
    if (!d)
        return -errno;
    *snaps = NULL;
    *nsnaps = 0;
    while ((e = readdir(d)) != NULL) {
        int64_t base = parse_segment_name(e->d_name, "log");
        if (base >= 0)
            i64_push(&bases, &n, &cap, base);
        else if ((base = parse_segment_name(e->d_name, "snapshot")) >= 0)
            i64_push(snaps, nsnaps, &scap, base);
    }
    if (n > 1)
        qsort(bases, n, sizeof(*bases), cmp_i64);
    if (*nsnaps > 1)
        qsort(*snaps, *nsnaps, sizeof(**snaps), cmp_i64);

    rewinddir(d);
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        bool remove = has_suffix(name, ".deleted") || has_suffix(name, ".swap") ||
                      has_suffix(name, ".cleaned") || has_suffix(name, ".snapshot.tmp");
        if (!remove) {
            int64_t base = parse_segment_name(name, "index");
            if (base < 0)
                base = parse_segment_name(name, "timeindex");
            remove = base >= 0 && !i64_in(bases, n, base);
        }
        if (!remove)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        WEIR_LOG(WEIR_LOG_INFO, "log_leftover_removed", "file=%s", path);
        if (unlink(path) != 0 && errno != ENOENT)
            WEIR_LOG(WEIR_LOG_WARN, "log_leftover_remove_failed", "file=%s err=%s", path,
                     strerror(errno));
    }
    closedir(d);
    *out = bases;
    *out_n = n;
    return 0;
}

int
weir_plog_open(uv_loop_t *loop, const char *dir, const weir_log_config_t *cfg, bool recover,
               weir_plog_t **out, char *errstr, size_t errstr_size)
{
    weir_plog_t *log;
    int64_t *bases = NULL, *snaps = NULL, truncated_total = 0;
    size_t nbases = 0, nsnaps = 0;
    int rc;

    *out = NULL;
    if (strlen(dir) + 40 >= PATH_MAX) {
        seterr(errstr, errstr_size, "log directory path too long: %s", dir);
        return -ENAMETOOLONG;
    }
    if ((rc = mkdir_p(dir)) != 0) {
        seterr(errstr, errstr_size, "cannot create %s: %s", dir, strerror(-rc));
        return rc;
    }
    if ((rc = plog_scan_dir(dir, &bases, &nbases, &snaps, &nsnaps)) != 0) {
        seterr(errstr, errstr_size, "cannot list %s: %s", dir, strerror(-rc));
        return rc;
    }

    log = weir_calloc(1, sizeof(*log));
    log->loop = loop;
    log->dir = weir_strdup(dir);
    log->cfg = *cfg;
    normalize_config(&log->cfg);
    log->first_unflushed_ms = -1;
    weir_pstate_init(&log->producers);

    for (size_t i = 0; i < nbases; i++) {
        weir_segment_t *seg;
        int64_t truncated = 0;
        rc = weir_segment_load(dir, bases[i], recover, i + 1 == nbases,
                               log->cfg.index_interval_bytes, &seg, &truncated);
        if (rc != 0) {
            seterr(errstr, errstr_size, "cannot load segment %020" PRId64 " in %s: %s", bases[i],
                   dir, rc < 0 && rc > -1000 ? strerror(-rc) : "corrupt");
            goto fail;
        }
        truncated_total += truncated;
        if (log->nsegs > 0 && active_seg(log)->next_offset > seg->base_offset)
            WEIR_LOG(WEIR_LOG_WARN, "log_segments_overlap", "dir=%s segment=%020" PRId64
                     " previous_end=%" PRId64, dir, seg->base_offset,
                     active_seg(log)->next_offset);
        segs_push(log, seg);
        log->size_bytes += seg->size;
    }
    if (log->nsegs == 0) {
        weir_segment_t *seg;
        if ((rc = weir_segment_create(dir, 0, &seg)) != 0) {
            seterr(errstr, errstr_size, "cannot create segment in %s: %s", dir, strerror(-rc));
            goto fail;
        }
        segs_push(log, seg);
    }
    log->start_offset = log->segs[0]->base_offset;
    plog_read_checkpoint(log);

    if ((rc = plog_load_producers(log, snaps, nsnaps)) != 0) {
        seterr(errstr, errstr_size, "cannot read %s: %s", dir, strerror(-rc));
        goto fail;
    }
    free(bases);
    free(snaps);
    WEIR_LOG(WEIR_LOG_DEBUG, "log_opened", "dir=%s segments=%zu start=%" PRId64 " end=%" PRId64
             " truncated=%" PRId64, dir, log->nsegs, log->start_offset,
             active_seg(log)->next_offset, truncated_total);
    *out = log;
    return 0;

fail:
    free(bases);
    free(snaps);
    plog_teardown(log);
    plog_free_struct(log);
    return rc;
}

void
weir_plog_set_config(weir_plog_t *log, const weir_log_config_t *cfg)
{
    log->cfg = *cfg;
    normalize_config(&log->cfg);
}

/* Answers every waiting sync caller (in flight or queued) with status. */
static void
plog_finish_waiters(weir_plog_t *log, int status)
{
    plog_waiters_t a = {0}, b = log->next_waiters;

    if (log->sync_job) {
        a = log->sync_job->waiters;
        memset(&log->sync_job->waiters, 0, sizeof(log->sync_job->waiters));
    }
    memset(&log->next_waiters, 0, sizeof(log->next_waiters));
    waiters_run(&a, status);
    waiters_run(&b, status);
}

void
weir_plog_close(weir_plog_t *log)
{
    int status = 0;

    for (size_t i = 0; i < log->nsegs; i++) {
        if (fdatasync(log->segs[i]->fd) != 0 && status == 0)
            status = -errno;
    }
    if (status != 0)
        WEIR_LOG(WEIR_LOG_ERROR, "log_fsync_failed", "dir=%s err=%s", log->dir,
                 strerror(-status));
    plog_write_snapshot(log, weir_plog_end_offset(log), true);
    plog_flush_deletions(log, true);
    if (log->clean.job) {
        weir_cleaner_job_detach(log->clean.job);
        log->clean.job = NULL;
    }
    plog_teardown(log);
    plog_finish_waiters(log, status);
    if (log->jobs == 0)
        plog_free_struct(log);
}

static void
rmdir_work(uv_work_t *req)
{
    rm_rf(weir_container_of(req, plog_rmdir_t, work)->path);
}

static void
rmdir_after(uv_work_t *req, int status)
{
    plog_rmdir_t *r = weir_container_of(req, plog_rmdir_t, work);

    (void)status;
    free(r->path);
    free(r);
}

void
weir_plog_delete(weir_plog_t *log)
{
    plog_rmdir_t *r = weir_calloc(1, sizeof(*r));
    uv_loop_t *loop = log->loop;
    uint8_t id[16];
    char hex[33];
    size_t n = strlen(log->dir);

    /* Kafka's name for a partition directory being deleted. */
    if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
        uint64_t t = (uint64_t)weir_mono_us() ^ ((uint64_t)getpid() << 32);
        for (size_t i = 0; i < sizeof(id); i++)
            id[i] = (uint8_t)(t >> ((i % 8) * 8)) ^ (uint8_t)i;
    }
    for (size_t i = 0; i < sizeof(id); i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    while (n > 1 && log->dir[n - 1] == '/')
        n--;
    r->path = weir_malloc(n + 1 + 32 + 8);
    snprintf(r->path, n + 1 + 32 + 8, "%.*s.%s-delete", (int)n, log->dir, hex);
    if (rename(log->dir, r->path) != 0) {
        WEIR_LOG(WEIR_LOG_WARN, "log_delete_rename_failed", "dir=%s err=%s", log->dir,
                 strerror(errno));
        free(r->path);
        r->path = weir_strdup(log->dir);
    }
    WEIR_LOG(WEIR_LOG_INFO, "log_deleted", "dir=%s", log->dir);
    plog_flush_deletions(log, false);
    if (log->clean.job) {
        /* The cleaner may still be writing there: remove the directory
         * once its job has let go of the log. */
        weir_cleaner_job_detach(log->clean.job);
        log->clean.job = NULL;
        log->pending_rmdir = r;
        r = NULL;
    }
    plog_teardown(log);
    plog_finish_waiters(log, UV_ECANCELED);
    if (log->jobs == 0)
        plog_free_struct(log);
    if (r)
        plog_queue_rmdir(loop, r);
}

/* ------------------------------------------------------------------------
 * Accessors
 * ------------------------------------------------------------------------ */

int64_t
weir_plog_start_offset(const weir_plog_t *log)
{
    return log->start_offset;
}

int64_t
weir_plog_end_offset(const weir_plog_t *log)
{
    return active_seg(log)->next_offset;
}

int64_t
weir_plog_size_bytes(const weir_plog_t *log)
{
    return log->size_bytes;
}

/* ------------------------------------------------------------------------
 * Append
 * ------------------------------------------------------------------------ */

static int
pwrite_full(int fd, const uint8_t *buf, size_t len, int64_t off)
{
    size_t done = 0;

    while (done < len) {
        ssize_t r = pwrite(fd, buf + done, len - done, (off_t)(off + (int64_t)done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        done += (size_t)r;
    }
    return 0;
}

static int
plog_roll(weir_plog_t *log)
{
    weir_segment_t *old = active_seg(log), *seg;
    int rc = weir_segment_create(log->dir, old->next_offset, &seg);

    if (rc != 0) {
        WEIR_LOG(WEIR_LOG_ERROR, "log_roll_failed", "dir=%s offset=%" PRId64 " err=%s", log->dir,
                 old->next_offset, strerror(-rc));
        return rc;
    }
    weir_segment_seal(old);
    segs_push(log, seg);
    plog_write_snapshot(log, seg->base_offset, false);
    WEIR_LOG(WEIR_LOG_DEBUG, "log_rolled", "dir=%s segment=%020" PRId64, log->dir,
             seg->base_offset);
    /* As Kafka does, the finished segment goes to disk now, off the loop. */
    if (old->dirty)
        plog_request_sync(log);
    return 0;
}

/* A compacted log refuses records without a key (Kafka: "Compacted topic
 * cannot accept message without key"). */
static weir_kerr_t
plog_check_keys(const uint8_t *batch, size_t len)
{
    weir_record_iter_t it;
    weir_record_kv_t kvs[64];
    weir_kerr_t err = WEIR_KERR_NONE;
    size_t n;

    if (weir_record_iter_init(&it, batch, len, WEIR_RECORDS_SCAN_MAX_DECOMPRESSED) != 0) {
        weir_record_iter_free(&it);
        return WEIR_KERR_CORRUPT_MESSAGE;
    }
    /* the allocation-free walk: keys are all this needs */
    while (err == WEIR_KERR_NONE && (n = weir_record_iter_next_kvs(&it, kvs, 64)) > 0) {
        for (size_t i = 0; i < n && err == WEIR_KERR_NONE; i++)
            if (kvs[i].key.len < 0)
                err = WEIR_KERR_INVALID_RECORD;
        if (n < 64)
            break;
    }
    if (err == WEIR_KERR_NONE && it.err != 0)
        err = WEIR_KERR_CORRUPT_MESSAGE;
    weir_record_iter_free(&it);
    return err;
}

/* Working copies of the producers one append touches. */
typedef struct plog_pending_s {
    weir_producer_t *v;
    size_t n;
} plog_pending_t;

static weir_producer_t *
pending_get(weir_plog_t *log, plog_pending_t *pp, int64_t pid)
{
    const weir_producer_t *cur;
    weir_producer_t *p;

    for (size_t i = 0; i < pp->n; i++)
        if (pp->v[i].pid == pid)
            return &pp->v[i];
    p = &pp->v[pp->n++];
    cur = weir_pstate_find(&log->producers, pid);
    if (cur) {
        *p = *cur;
    } else {
        memset(p, 0, sizeof(*p));
        p->pid = pid;
        p->epoch = -1;
    }
    return p;
}

weir_kerr_t
weir_plog_append(weir_plog_t *log, uint8_t *data, size_t len, int64_t now_ms,
                 weir_append_result_t *res)
{
    weir_segment_t *seg = active_seg(log);
    const bool lat = log->cfg.log_append_time;
    const int64_t base = seg->next_offset;
    weir_producer_t pending_local[4];
    plog_pending_t pp = {pending_local, 0};
    weir_producer_t *pending_heap = NULL;
    size_t nbatches = 0, off;
    int64_t next = base, records = 0, pos;
    weir_kerr_t err = WEIR_KERR_NONE;
    uint8_t *ibuf = NULL, *tbuf = NULL;
    size_t ilen = 0, tlen = 0;
    int rc;

    res->base_offset = -1;
    res->log_append_time = -1;
    res->duplicate = false;
    if (len == 0)
        return WEIR_KERR_NONE;

    /* Pass 1: validate everything, check producers and work out offsets
     * before a single byte is written. */
    for (off = 0; off < len;) {
        weir_batch_hdr_t h;
        size_t total;

        if ((err = weir_batch_validate(data + off, len - off, &h)) != WEIR_KERR_NONE)
            goto out;
        total = weir_batch_total_size(&h);
        if (log->cfg.compact && (err = plog_check_keys(data + off, total)) != WEIR_KERR_NONE)
            goto out;
        if (total > (size_t)log->cfg.max_message_bytes) {
            err = WEIR_KERR_MESSAGE_TOO_LARGE;
            goto out;
        }
        if (h.producer_id >= 0) {
            const weir_pbatch_t *dup = NULL;
            weir_producer_t *p;
            if (pp.n == WEIR_ARRAY_SIZE(pending_local) && pp.v == pending_local) {
                /* Unusual: many producers in one request.  At most one
                 * working copy per batch. */
                pending_heap = weir_malloc((len / WEIR_BATCH_HDR_SIZE + 1) * sizeof(*pp.v));
                memcpy(pending_heap, pending_local, sizeof(pending_local));
                pp.v = pending_heap;
            }
            p = pending_get(log, &pp, h.producer_id);
            err = weir_pstate_check(p, &h, next, lat ? now_ms : h.max_timestamp, now_ms, &dup);
            if (err != WEIR_KERR_NONE)
                goto out;
            if (dup) {
                res->duplicate = true;
                res->base_offset = dup->first_offset;
                res->log_append_time = lat ? dup->timestamp : -1;
                goto out;
            }
        }
        next += (int64_t)h.last_offset_delta + 1;
        records += h.records_count;
        nbatches++;
        off += total;
    }
    if (len > (size_t)log->cfg.segment_bytes) {
        err = WEIR_KERR_RECORD_LIST_TOO_LARGE;
        goto out;
    }

    /* Roll when this append would overflow the segment, the segment is old
     * enough, or the offsets would not fit the index's int32 deltas. */
    if (seg->size > 0 && (seg->size + (int64_t)len > log->cfg.segment_bytes ||
                          now_ms - seg->created_ms > log->cfg.segment_ms ||
                          next - 1 - seg->base_offset > INT32_MAX)) {
        if (plog_roll(log) != 0) {
            err = WEIR_KERR_KAFKA_STORAGE_ERROR;
            goto out;
        }
        seg = active_seg(log);
    }
    if (next - 1 - seg->base_offset > INT32_MAX) {
        err = WEIR_KERR_RECORD_LIST_TOO_LARGE;
        goto out;
    }

    /* Pass 2: stamp offsets (and LogAppendTime), write, index. */
    next = base;
    for (off = 0; off < len;) {
        size_t total = (size_t)(int32_t)weir_be32(data + off + WEIR_BATCH_OFF_LENGTH) +
                       WEIR_BATCH_LOG_OVERHEAD;
        int32_t delta = (int32_t)weir_be32(data + off + WEIR_BATCH_OFF_LAST_OFFSET_DELTA);
        weir_batch_stamp(data + off, next, 0, lat ? now_ms : -1);
        next += (int64_t)delta + 1;
        off += total;
    }
    pos = seg->size;
    weir_segment_reserve(seg, (int64_t)len, log->cfg.segment_bytes);
    if ((rc = pwrite_full(seg->fd, data, len, pos)) != 0) {
        WEIR_LOG(WEIR_LOG_ERROR, "log_append_failed", "dir=%s segment=%020" PRId64 " err=%s",
                 log->dir, seg->base_offset, strerror(-rc));
        if (ftruncate(seg->fd, (off_t)pos) != 0)
            WEIR_LOG(WEIR_LOG_ERROR, "log_truncate_failed", "dir=%s err=%s", log->dir,
                     strerror(errno));
        err = WEIR_KERR_KAFKA_STORAGE_ERROR;
        goto out;
    }

    ibuf = weir_malloc(nbatches * WEIR_INDEX_ENTRY_SIZE);
    tbuf = weir_malloc(nbatches * WEIR_TIMEINDEX_ENTRY_SIZE);
    for (off = 0; off < len;) {
        weir_batch_hdr_t h;
        weir_batch_hdr_decode(data + off, &h);
        weir_segment_note_append(seg, pos + (int64_t)off, (int64_t)weir_batch_total_size(&h),
                                 h.base_offset, h.base_offset + h.last_offset_delta,
                                 h.max_timestamp, log->cfg.index_interval_bytes, ibuf, &ilen,
                                 tbuf, &tlen);
        off += weir_batch_total_size(&h);
    }
    weir_segment_write_index(seg, ibuf, ilen, tbuf, tlen);

    if (seg->created_ms < 0)
        seg->created_ms = now_ms;
    seg->dirty = true;
    for (size_t i = 0; i < pp.n; i++)
        weir_pstate_put(&log->producers, &pp.v[i]);
    log->size_bytes += (int64_t)len;
    log->unflushed_msgs += records;
    if (log->first_unflushed_ms < 0)
        log->first_unflushed_ms = now_ms;
    res->base_offset = base;
    res->log_append_time = lat ? now_ms : -1;
    if (log->unflushed_msgs >= log->cfg.flush_messages)
        plog_request_sync(log);

out:
    free(ibuf);
    free(tbuf);
    free(pending_heap);
    return err;
}

/* ------------------------------------------------------------------------
 * Read
 * ------------------------------------------------------------------------ */

/* The index of the segment that holds offset: the last with base <= it. */
static size_t
plog_find_seg(const weir_plog_t *log, int64_t offset)
{
    size_t lo = 0, hi = log->nsegs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (log->segs[mid]->base_offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : lo - 1;
}

/* Finds the batch holding offset, from segment i on.  Returns 1 with *segi
 * and b set, 0 when no batch holds it, or a negative error. */
static int
plog_locate(const weir_plog_t *log, int64_t offset, size_t *segi, weir_seg_batch_t *b)
{
    for (size_t i = plog_find_seg(log, offset); i < log->nsegs; i++) {
        const weir_segment_t *seg = log->segs[i];
        int64_t pos = offset > seg->base_offset ? weir_segment_index_lookup(seg, offset) : 0;
        int rc;

        while ((rc = weir_segment_peek(seg, pos, false, b)) == 1) {
            if (b->hdr.base_offset + b->hdr.last_offset_delta >= offset) {
                *segi = i;
                return 1;
            }
            pos += b->size;
        }
        if (rc < 0) {
            WEIR_LOG(WEIR_LOG_ERROR, "log_read_failed", "dir=%s segment=%020" PRId64
                     " position=%" PRId64 " err=%s", log->dir, seg->base_offset, pos,
                     rc == WEIR_ECORRUPT ? "corrupt batch header" : strerror(-rc));
            return rc;
        }
        /* Past the last batch of this segment: the offset is in the next. */
    }
    return 0;
}

weir_kerr_t
weir_plog_read(weir_plog_t *log, int64_t offset, int64_t max_bytes, bool min_one,
               weir_slice_t *out)
{
    weir_seg_batch_t b;
    weir_segment_t *seg;
    size_t segi = 0;
    int64_t start, end;
    int rc;

    out->seg = NULL;
    out->fd = -1;
    out->pos = 0;
    out->len = 0;
    if (offset < log->start_offset || offset > weir_plog_end_offset(log))
        return WEIR_KERR_OFFSET_OUT_OF_RANGE;
    if (offset == weir_plog_end_offset(log))
        return WEIR_KERR_NONE;
    rc = plog_locate(log, offset, &segi, &b);
    if (rc < 0)
        return WEIR_KERR_KAFKA_STORAGE_ERROR;
    if (rc == 0)
        return WEIR_KERR_NONE;
    seg = log->segs[segi];
    start = b.pos;

    if (b.size > max_bytes) {
        if (!min_one)
            return WEIR_KERR_NONE;
        end = start + b.size;
    } else if (max_bytes >= seg->size - start) {
        end = seg->size;
    } else {
        int64_t limit = start + max_bytes;
        int64_t skip = weir_segment_index_pos_below(seg, start, limit);
        /* Everything before an indexed position is whole batches: jump
         * there, then walk headers the rest of the way. */
        end = skip > start + b.size ? skip : start + b.size;
        while (weir_segment_peek(seg, end, false, &b) == 1 && end + b.size <= limit)
            end += b.size;
    }
    weir_segment_ref(seg);
    out->seg = seg;
    out->fd = seg->fd;
    out->pos = start;
    out->len = end - start;
    return WEIR_KERR_NONE;
}

void
weir_slice_release(weir_slice_t *slice)
{
    if (slice->seg)
        weir_segment_unref(slice->seg);
    slice->seg = NULL;
    slice->fd = -1;
    slice->pos = 0;
    slice->len = 0;
}

/* ------------------------------------------------------------------------
 * Offsets by time
 * ------------------------------------------------------------------------ */

/* Looks inside the batch for the first record at or after ts. */
static int64_t
plog_offset_in_batch(const weir_segment_t *seg, const weir_seg_batch_t *b, int64_t ts,
                     int64_t *found_ts)
{
    int64_t off = -1, fts = -1;

    if (b->size <= WEIR_TIME_LOOKUP_MAX_BATCH) {
        uint8_t *buf = weir_malloc((size_t)b->size);
        ssize_t r = pread(seg->fd, buf, (size_t)b->size, (off_t)b->pos);
        if (r == (ssize_t)b->size)
            off = weir_records_first_offset_at(buf, (size_t)b->size, ts, &fts);
        free(buf);
    }
    if (off < 0) {
        /* Unreadable records (say, a codec failure): the batch is the
         * answer Kafka's index would give, to batch precision. */
        off = b->hdr.base_offset;
        fts = b->hdr.max_timestamp;
    }
    if (found_ts)
        *found_ts = fts;
    return off;
}

int64_t
weir_plog_offset_for_time(weir_plog_t *log, int64_t ts, int64_t *found_ts)
{
    if (found_ts)
        *found_ts = -1;
    for (size_t i = 0; i < log->nsegs; i++) {
        const weir_segment_t *seg = log->segs[i];
        weir_seg_batch_t b;
        int64_t from, pos;
        int rc;

        if (seg->max_ts < ts)
            continue;
        /* The time index names the batch where the segment's largest
         * timestamp first reached a value <= ts; no earlier batch can hold a
         * timestamp >= ts. */
        from = weir_segment_tindex_lookup(seg, ts);
        pos = from >= 0 ? weir_segment_index_lookup(seg, from) : 0;
        while ((rc = weir_segment_peek(seg, pos, true, &b)) == 1) {
            if (b.hdr.max_timestamp >= ts &&
                b.hdr.base_offset + b.hdr.last_offset_delta >= log->start_offset)
                return plog_offset_in_batch(seg, &b, ts, found_ts);
            pos += b.size;
        }
        if (rc < 0)
            WEIR_LOG(WEIR_LOG_ERROR, "log_read_failed", "dir=%s segment=%020" PRId64
                     " position=%" PRId64, log->dir, seg->base_offset, pos);
    }
    return -1;
}

/* ------------------------------------------------------------------------
 * Retention
 * ------------------------------------------------------------------------ */

/* Kafka's largestTimestamp: the newest batch timestamp, or the file's
 * modification time when no batch carries one. */
static int64_t
seg_largest_ts(const weir_segment_t *seg)
{
    struct stat st;

    if (seg->max_ts >= 0)
        return seg->max_ts;
    if (fstat(seg->fd, &st) != 0)
        return INT64_MAX;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

int
weir_plog_enforce_retention(weir_plog_t *log, int64_t now_ms)
{
    weir_segment_t *act = active_seg(log);
    size_t ndel = 0, npaths = 0;
    char **paths;

    if (act->size > 0 && now_ms - act->created_ms > log->cfg.segment_ms)
        plog_roll(log);
    weir_pstate_expire(&log->producers, now_ms - WEIR_PRODUCER_EXPIRATION_MS);
    /* cleanup.policy=compact alone keeps everything; and the segments a
     * cleaner job is rewriting stay until it is done (the next check). */
    if (log->cfg.no_delete || log->clean.job)
        return 0;

    if (log->cfg.retention_ms >= 0) {
        while (ndel + 1 < log->nsegs &&
               now_ms - seg_largest_ts(log->segs[ndel]) > log->cfg.retention_ms)
            ndel++;
    }
    if (log->cfg.retention_bytes >= 0) {
        int64_t diff = log->size_bytes - log->cfg.retention_bytes;
        for (size_t i = 0; i < ndel; i++)
            diff -= log->segs[i]->size;
        while (ndel + 1 < log->nsegs && diff - log->segs[ndel]->size >= 0) {
            diff -= log->segs[ndel]->size;
            ndel++;
        }
    }
    if (ndel == 0)
        return 0;

    paths = weir_malloc(ndel * 3 * sizeof(*paths));
    for (size_t i = 0; i < ndel; i++) {
        weir_segment_t *seg = log->segs[i];
        char *p[3];
        WEIR_LOG(WEIR_LOG_INFO, "segment_retired", "dir=%s segment=%020" PRId64
                 " bytes=%" PRId64, log->dir, seg->base_offset, seg->size);
        weir_segment_retire(seg, p);
        for (int k = 0; k < 3; k++)
            if (p[k])
                paths[npaths++] = p[k];
        log->size_bytes -= seg->size;
        weir_segment_unref(seg);
    }
    memmove(log->segs, log->segs + ndel, (log->nsegs - ndel) * sizeof(*log->segs));
    log->nsegs -= ndel;
    if (log->segs[0]->base_offset > log->start_offset)
        log->start_offset = log->segs[0]->base_offset;
    if (npaths > 0)
        plog_schedule_deletion(log, paths, npaths);
    else
        free(paths);
    return (int)ndel;
}

/* ------------------------------------------------------------------------
 * Compaction: the log's side (see weir_cleaner.h)
 * ------------------------------------------------------------------------ */

weir_clean_state_t *
weir_plog_clean_state(weir_plog_t *log)
{
    return &log->clean;
}

const weir_log_config_t *
weir_plog_config(const weir_plog_t *log)
{
    return &log->cfg;
}

const char *
weir_plog_dir(const weir_plog_t *log)
{
    return log->dir;
}

weir_segment_t *const *
weir_plog_segments(const weir_plog_t *log, size_t *n)
{
    *n = log->nsegs;
    return log->segs;
}

size_t
weir_plog_producer_last_offsets(const weir_plog_t *log, int64_t **out)
{
    const weir_pstate_t *ps = &log->producers;
    size_t n = 0;

    *out = weir_malloc((ps->count ? ps->count : 1) * sizeof(**out));
    for (size_t i = 0; i < ps->cap; i++) {
        const weir_producer_t *p = &ps->slots[i];
        const weir_pbatch_t *b;
        int64_t delta;

        if (p->pid < 0 || p->nbatches == 0 || n == ps->count)
            continue;
        b = &p->batches[p->nbatches - 1];
        /* Sequences wrap from INT32_MAX to 0; offsets do not. */
        delta = (int64_t)b->last_seq - b->first_seq;
        if (delta < 0)
            delta += (int64_t)INT32_MAX + 1;
        (*out)[n++] = b->first_offset + delta;
    }
    if (n > 1)
        qsort(*out, n, sizeof(**out), cmp_i64);
    return n;
}

void
weir_plog_hold(weir_plog_t *log)
{
    log->jobs++;
}

void
weir_plog_release(weir_plog_t *log)
{
    if (--log->jobs == 0 && log->closed)
        plog_free_struct(log);
}

/* Renames "<seg>.<ext>.cleaned" to "<seg>.<ext>". */
static void
install_index_file(const weir_segment_t *seg, const char *ext)
{
    char from[PATH_MAX], to[PATH_MAX];

    snprintf(from, sizeof(from), "%s.%s" WEIR_SEGMENT_CLEANED_SUFFIX, seg->path, ext);
    snprintf(to, sizeof(to), "%s.%s", seg->path, ext);
    /* A missing index is rebuilt at the next open; memory has the entries. */
    if (rename(from, to) != 0)
        WEIR_LOG(WEIR_LOG_WARN, "log_cleaner_index_rename_failed", "file=%s err=%s", from,
                 strerror(errno));
}

int
weir_plog_clean_install(weir_plog_t *log, weir_segment_t *const *old, size_t nold,
                        weir_segment_t **repl, const int64_t *ends, size_t nrepl,
                        int64_t first_dirty, int64_t horizon_ms)
{
    char **paths = NULL, from[PATH_MAX], to[PATH_MAX];
    size_t npaths = 0, oi = 0;
    int rc = 0;

    if (nold >= log->nsegs || nrepl > nold) {
        rc = -EINVAL;
    } else {
        for (size_t i = 0; i < nold; i++)
            if (log->segs[i] != old[i])
                rc = -EINVAL;
    }
    if (rc != 0) {
        /* Cannot happen while retention waits for the job; the committed
         * files are completed by the next open. */
        WEIR_LOG(WEIR_LOG_ERROR, "log_cleaner_install_mismatch", "dir=%s", log->dir);
        for (size_t i = 0; i < nrepl; i++)
            weir_segment_unref(repl[i]);
        return rc;
    }
    if (nold > 0)
        paths = weir_malloc(nold * 3 * sizeof(*paths));
    for (size_t g = 0; g < nrepl; g++) {
        weir_segment_t *seg = repl[g];

        /* The old segments first (their names are about to be reused), then
         * the indexes, then the log: the .swap is the last to go. */
        while (oi < nold && old[oi]->base_offset < ends[g]) {
            char *p[3];
            weir_segment_retire(old[oi], p);
            for (int k = 0; k < 3; k++)
                if (p[k])
                    paths[npaths++] = p[k];
            log->size_bytes -= old[oi]->size;
            weir_segment_unref(old[oi]);
            oi++;
        }
        if (weir_cleaner_step_hook)
            weir_cleaner_step_hook("install_retired", seg->base_offset);
        install_index_file(seg, "index");
        install_index_file(seg, "timeindex");
        snprintf(from, sizeof(from), "%s.log.%020" PRId64 ".swap", seg->path, ends[g]);
        snprintf(to, sizeof(to), "%s.log", seg->path);
        if (rename(from, to) != 0 && rc == 0) {
            rc = -errno;
            WEIR_LOG(WEIR_LOG_ERROR, "log_cleaner_swap_failed", "file=%s err=%s", from,
                     strerror(errno));
        }
        if (weir_cleaner_step_hook)
            weir_cleaner_step_hook("install_swapped", seg->base_offset);
        log->segs[g] = seg;
        log->size_bytes += seg->size;
    }
    /* The groups cover the old segments exactly (oi == nold). */
    if (nrepl < nold) {
        memmove(log->segs + nrepl, log->segs + nold, (log->nsegs - nold) * sizeof(*log->segs));
        log->nsegs -= nold - nrepl;
    }
    if (npaths > 0)
        plog_schedule_deletion(log, paths, npaths);
    else
        free(paths);
    log->clean.first_dirty = first_dirty;
    log->clean.horizon_ms = horizon_ms;
    plog_write_checkpoint(log);
    return rc;
}
