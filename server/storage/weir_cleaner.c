/*
 * weir_cleaner.c: the log cleaner - deciding on the loop which compacted
 * partition logs to clean, and the cleaning job itself, run in bounded steps
 * on libuv's worker pool: the key -> highest offset map over the dirty range
 * (pass 1), the rewrite of the segments from the log start into cleaned
 * segments grouped up to segment.bytes (pass 2), the commit (fsync, rename to
 * .swap), then the swap on the loop through weir_plog_clean_install().  Also
 * the I/O throttle (log.cleaner.io.max.bytes.per.second) and SipHash-2-4, the
 * keyed hash the offset map stores instead of keys.
 *
 * Threads: a job's fields below "worker state" are touched only by the step
 * running on the worker pool, or by the loop between steps (never both: a
 * step is queued only after the previous one returned to the loop).  The
 * loop-side fields (log, cb, timer) are touched only on the loop; abort is
 * the one field both sides use at once (atomic).
 */
#include "weir_cleaner.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir_buf.h"
#include "weir_common.h"
#include "weir_log.h"
#include "weir_records.h"

/* Bytes of log read or written per worker step when unthrottled. */
#define CLEAN_STEP_BYTES ((int64_t)4 << 20)
/* Smallest step when throttled (a step never splits a batch anyway). */
#define CLEAN_STEP_MIN_BYTES ((int64_t)64 << 10)
/* Read window over a segment file. */
#define CLEAN_READ_WINDOW ((size_t)1 << 20)
/* Records looked at together (hashed, prefetched, then looked up). */
#define CLEAN_CHUNK 4096
/* Output buffer before a pwrite. */
#define CLEAN_WRITE_BUF ((size_t)256 << 10)
/* A batch read back larger than this fails the job (no segment holds one). */
#define CLEAN_MAX_BATCH ((int64_t)256 << 20)
/* A failed job is retried after this long. */
#define CLEAN_FAIL_BACKOFF_MS 60000
/* Offset map: bytes per slot and the fill that counts as full (Kafka's 0.9). */
#define MAP_SLOT_SIZE 24
#define MAP_LOAD_NUM 9
#define MAP_LOAD_DEN 10
#define MAP_INITIAL_SLOTS ((size_t)1 << 14)

void (*weir_cleaner_step_hook)(const char *step, int64_t base_offset);

static void
step_hook(const char *step, int64_t base)
{
    if (weir_cleaner_step_hook)
        weir_cleaner_step_hook(step, base);
}

/* ------------------------------------------------------------------------
 * SipHash-2-4 (Aumasson and Bernstein), a keyed PRF, in its 128-bit output
 * form: the map's key fingerprints, under a random key per job, so that a
 * producer cannot make two keys collide on purpose.
 * ------------------------------------------------------------------------ */

static inline uint64_t
rotl64(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t
le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl64(v1, 13);                                                                       \
        v1 ^= v0;                                                                                  \
        v0 = rotl64(v0, 32);                                                                       \
        v2 += v3;                                                                                  \
        v3 = rotl64(v3, 16);                                                                       \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl64(v3, 21);                                                                       \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl64(v1, 17);                                                                       \
        v1 ^= v2;                                                                                  \
        v2 = rotl64(v2, 32);                                                                       \
    } while (0)

/* SipHash-2-4 with its 128-bit output (the reference's outlen == 16). */
static void
siphash24_128(uint64_t k0, uint64_t k1, const void *data, size_t len, uint64_t *h0, uint64_t *h1)
{
    const uint8_t *p = data;
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL ^ 0xee;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    uint64_t b = (uint64_t)len << 56, m;
    size_t i, left = len & 7;

    for (i = 0; i + 8 <= len; i += 8) {
        m = le64(p + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t k = 0; k < left; k++)
        b |= (uint64_t)p[i + k] << (8 * k);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xee;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    *h0 = v0 ^ v1 ^ v2 ^ v3;
    v1 ^= 0xdd;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    *h1 = v0 ^ v1 ^ v2 ^ v3;
}

/* ------------------------------------------------------------------------
 * The offset map: 128-bit key fingerprint -> highest offset, open
 * addressing with linear probing, grown by doubling up to the memory budget.
 * ------------------------------------------------------------------------ */

typedef struct map_slot_s {
    uint64_t h0, h1;
    int64_t offset; /* -1: empty */
} map_slot_t;

typedef struct offset_map_s {
    map_slot_t *slots;
    size_t cap, count;
    size_t max_cap;   /* slots the budget allows */
    size_t max_count; /* full at this many keys */
    uint64_t key[2];  /* the SipHash key */
    int64_t latest;   /* highest offset put, -1 */
} offset_map_t;

static void
map_alloc(offset_map_t *m, size_t cap)
{
    m->slots = weir_malloc(cap * sizeof(*m->slots));
    for (size_t i = 0; i < cap; i++)
        m->slots[i].offset = -1;
    m->cap = cap;
}

static void
map_init(offset_map_t *m, int64_t budget)
{
    memset(m, 0, sizeof(*m));
    if (getrandom(m->key, sizeof(m->key), 0) != (ssize_t)sizeof(m->key)) {
        uint64_t t = (uint64_t)weir_mono_us();
        for (int i = 0; i < 2; i++)
            m->key[i] = (t += 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
    }
    m->max_cap = (size_t)WEIR_MAX(budget / MAP_SLOT_SIZE, 2);
    m->max_count = WEIR_MAX(m->max_cap * MAP_LOAD_NUM / MAP_LOAD_DEN, 1);
    m->latest = -1;
    map_alloc(m, WEIR_MIN(m->max_cap, MAP_INITIAL_SLOTS));
}

static void
map_free(offset_map_t *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

static inline size_t
map_index(const offset_map_t *m, uint64_t h0)
{
    /* Multiply-shift maps the hash onto any table size without a modulo. */
    return (size_t)(((unsigned __int128)h0 * m->cap) >> 64);
}

static void
map_hash(const offset_map_t *m, const void *key, size_t len, uint64_t *h0, uint64_t *h1)
{
    siphash24_128(m->key[0], m->key[1], key, len, h0, h1);
}

static map_slot_t *
map_find(const offset_map_t *m, uint64_t h0, uint64_t h1)
{
    size_t i = map_index(m, h0);

    for (;;) {
        map_slot_t *s = &m->slots[i];
        if (s->offset < 0 || (s->h0 == h0 && s->h1 == h1))
            return s;
        if (++i == m->cap)
            i = 0;
    }
}

static void
map_grow(offset_map_t *m)
{
    map_slot_t *old = m->slots;
    size_t old_cap = m->cap;

    map_alloc(m, WEIR_MIN(m->max_cap, old_cap * 2));
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].offset >= 0)
            *map_find(m, old[i].h0, old[i].h1) = old[i];
    }
    free(old);
}

/* Records offset for the key with fingerprint (h0, h1).  Returns false
 * (nothing stored) when the key is new and the map is full. */
static bool
map_put(offset_map_t *m, uint64_t h0, uint64_t h1, int64_t offset)
{
    map_slot_t *s = map_find(m, h0, h1);

    if (s->offset < 0) {
        if (m->count >= m->max_count)
            return false;
        if (m->cap < m->max_cap && (m->count + 1) * 4 > m->cap * 3) {
            map_grow(m);
            s = map_find(m, h0, h1);
        }
        s->h0 = h0;
        s->h1 = h1;
        m->count++;
    }
    s->offset = offset;
    m->latest = offset;
    return true;
}

/* The highest offset recorded for the key, or -1. */
static int64_t
map_get(const offset_map_t *m, uint64_t h0, uint64_t h1)
{
    return map_find(m, h0, h1)->offset;
}

/* Asks the CPU for the slot a lookup will start at: a batch's lookups are
 * prefetched together so that their cache misses overlap. */
static inline void
map_prefetch(const offset_map_t *m, uint64_t h0)
{
    __builtin_prefetch(&m->slots[map_index(m, h0)]);
}

/* ------------------------------------------------------------------------
 * Cleaner and job structures
 * ------------------------------------------------------------------------ */

struct weir_cleaner_s {
    uv_loop_t *loop;
    weir_cleaner_conf_t conf;
    int running; /* jobs in flight */
    bool closing;
    int64_t next_round_ms;
    int64_t throttle_next_us; /* virtual clock of the I/O throttle */
    weir_clean_stats_t stats;
    /* The round being collected: the best candidates so far. */
    struct {
        weir_plog_t *log;
        bool urgent;
        double ratio;
    } cand[64];
    size_t ncand;
};

typedef struct clean_seg_s {
    weir_segment_t *seg; /* referenced */
    int fd;
    int64_t base, next, size, created_ms;
} clean_seg_t;

typedef struct clean_group_s {
    size_t first, n;     /* job->segs[first .. first + n) */
    int64_t base, end;   /* replaces segments with base in [base, end) */
    weir_segment_t *out; /* the cleaned segment (owned until installed) */
    bool created;        /* its .cleaned files exist */
    bool committed;      /* renamed to .swap */
} clean_group_t;

typedef enum clean_phase_e {
    PHASE_MAP,
    PHASE_PLAN,
    PHASE_CLEAN,
    PHASE_COMMIT,
    PHASE_DONE,
} clean_phase_t;

/* Sequential reader of one segment file through a window buffer. */
typedef struct clean_reader_s {
    int fd;
    int64_t fsize;
    uint8_t *buf;
    size_t cap;
    int64_t off;
    size_t len;
} clean_reader_t;

struct weir_clean_job_s {
    uv_work_t work;
    uv_timer_t timer;
    weir_cleaner_t *cleaner;
    weir_plog_t *log; /* held (weir_plog_hold) */
    bool detached;    /* the log closed: do not touch its state */
    bool running;     /* a step is on the worker pool */
    atomic_bool abort;
    weir_clean_done_cb cb;
    void *cb_arg;

    /* Snapshot, set on the loop at start. */
    char *dir;
    clean_seg_t *segs; /* closed segments with base < first_uncleanable */
    size_t nsegs;
    int64_t first_dirty, first_uncleanable, now_ms;
    int64_t segment_bytes, delete_retention_ms;
    int32_t index_interval;
    int64_t *plast; /* producers' last offsets, sorted */
    size_t nplast;
    int64_t map_budget;
    size_t map_seg; /* first segment pass 1 reads, and where */
    int64_t map_pos;

    /* Worker state. */
    clean_phase_t phase;
    int status; /* first error, 0 */
    offset_map_t map;
    int64_t end;         /* records at or past it are kept untouched */
    int64_t tail_offset; /* last offset of the last batch rewritten, if it must stay */
    bool map_full;
    size_t cur_seg;
    int64_t cur_pos;
    clean_reader_t rd;
    clean_group_t *groups;
    size_t ngroups, cur_group, ncommitted;
    uint8_t *obuf;
    size_t olen;
    int64_t ofile_pos;         /* file position of obuf[0] */
    weir_wbuf_t recs;          /* scratch: a rebuilt batch's records */
    struct clean_rec_s *crecs; /* scratch: a chunk of a batch's records, hashed */
    size_t crecs_cap;
    uint8_t *keep; /* scratch: a batch's keep decisions, one bit each */
    size_t keep_cap;
    weir_wbuf_t batch;   /* scratch: a rebuilt batch */
    int64_t horizon_min; /* earliest horizon of a kept tombstone */
    int64_t step_io;     /* bytes read + written by the last step */
    uint64_t map_bytes, bytes_in, bytes_out, records_in, records_kept;
    int64_t started_ms, started_us;
};

/* One record of the batch being processed, with its key fingerprint. */
typedef struct clean_rec_s {
    weir_record_t rec;
    uint64_t h0, h1;
    bool mapped; /* has a key and lies in the range looked up */
} clean_rec_t;

static void job_finish(weir_clean_job_t *job, int status);
static void job_queue_step(weir_clean_job_t *job);

/* ------------------------------------------------------------------------
 * Reading and writing segment files (worker)
 * ------------------------------------------------------------------------ */

static ssize_t
pread_full(int fd, void *buf, size_t len, int64_t off)
{
    size_t done = 0;

    while (done < len) {
        ssize_t r = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + (int64_t)done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

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

static void
reader_open(clean_reader_t *r, const clean_seg_t *s)
{
    r->fd = s->fd;
    r->fsize = s->size;
    r->off = 0;
    r->len = 0;
}

/* Makes bytes [pos, pos + n) of the file available at *out. */
static int
reader_get(clean_reader_t *r, int64_t pos, size_t n, const uint8_t **out)
{
    ssize_t got;
    size_t want;

    if (pos >= r->off && pos + (int64_t)n <= r->off + (int64_t)r->len) {
        *out = r->buf + (pos - r->off);
        return 0;
    }
    if (n > r->cap) {
        free(r->buf);
        r->cap = n;
        r->buf = weir_malloc(r->cap);
    }
    want = (size_t)WEIR_MIN((int64_t)r->cap, r->fsize - pos);
    if (want < n)
        return WEIR_ECORRUPT;
    got = pread_full(r->fd, r->buf, want, pos);
    if (got < 0)
        return (int)got;
    r->off = pos;
    r->len = (size_t)got;
    if ((size_t)got < n)
        return WEIR_ECORRUPT;
    *out = r->buf;
    return 0;
}

/* Reads the batch at pos: 1 with *batch and h set, 0 at the end of the
 * segment, or a negative error for a batch that is not sound. */
static int
read_batch(clean_reader_t *r, int64_t pos, bool check_crc, const uint8_t **batch,
           weir_batch_hdr_t *h)
{
    const uint8_t *p;
    int64_t size;
    int rc;

    if (pos >= r->fsize)
        return 0;
    if (r->fsize - pos < WEIR_BATCH_HDR_SIZE)
        return WEIR_ECORRUPT;
    if ((rc = reader_get(r, pos, WEIR_BATCH_HDR_SIZE, &p)) != 0)
        return rc;
    weir_batch_hdr_decode(p, h);
    size = (int64_t)h->batch_length + WEIR_BATCH_LOG_OVERHEAD;
    if (h->magic != 2 || h->batch_length < WEIR_BATCH_HDR_SIZE - WEIR_BATCH_LOG_OVERHEAD ||
        size > r->fsize - pos || size > CLEAN_MAX_BATCH || h->last_offset_delta < 0)
        return WEIR_ECORRUPT;
    if ((rc = reader_get(r, pos, (size_t)size, &p)) != 0)
        return rc;
    if (check_crc && weir_crc32c(0, p + WEIR_BATCH_OFF_ATTRIBUTES,
                                 (size_t)size - WEIR_BATCH_OFF_ATTRIBUTES) != h->crc)
        return WEIR_ECORRUPT;
    *batch = p;
    return 1;
}

static int
out_flush(weir_clean_job_t *job)
{
    int rc;

    if (job->olen == 0)
        return 0;
    rc = pwrite_full(job->groups[job->cur_group].out->fd, job->obuf, job->olen, job->ofile_pos);
    job->ofile_pos += (int64_t)job->olen;
    job->olen = 0;
    return rc;
}

/* Appends one batch to the group's cleaned segment. */
static int
out_append(weir_clean_job_t *job, const uint8_t *b, size_t len)
{
    weir_segment_t *out = job->groups[job->cur_group].out;
    weir_batch_hdr_t h;
    int rc;

    weir_batch_hdr_decode(b, &h);
    weir_segment_note_append(out, out->size, (int64_t)len, h.base_offset,
                             h.base_offset + h.last_offset_delta, h.max_timestamp,
                             job->index_interval, NULL, NULL, NULL, NULL);
    job->bytes_out += len;
    job->step_io += (int64_t)len;
    if (job->olen + len > CLEAN_WRITE_BUF && (rc = out_flush(job)) != 0)
        return rc;
    if (len > CLEAN_WRITE_BUF) {
        if ((rc = pwrite_full(out->fd, b, len, job->ofile_pos)) != 0)
            return rc;
        job->ofile_pos += (int64_t)len;
        return 0;
    }
    memcpy(job->obuf + job->olen, b, len);
    job->olen += len;
    return 0;
}

static int
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------------
 * A batch's records, hashed
 * ------------------------------------------------------------------------ */

/*
 * Reads the next records of the batch (at most CLEAN_CHUNK) into
 * job->crecs - views into the batch or the iterator's decompressed copy -
 * fingerprinting the keys of those at offsets in [from, to) and prefetching
 * their map slots, so that the lookups that follow overlap their cache
 * misses.  Returns how many (0 at the end of the batch) or a negative error.
 */
static int
next_chunk(weir_clean_job_t *job, weir_record_iter_t *it, int64_t from, int64_t to)
{
    int n = 0;

    if (!job->crecs) {
        job->crecs_cap = CLEAN_CHUNK;
        job->crecs = weir_malloc(job->crecs_cap * sizeof(*job->crecs));
    }
    while (n < CLEAN_CHUNK && weir_record_iter_next(it, &job->crecs[n].rec)) {
        clean_rec_t *r = &job->crecs[n++];
        r->mapped = r->rec.key.len >= 0 && r->rec.offset >= from && r->rec.offset < to;
        if (r->mapped) {
            map_hash(&job->map, r->rec.key.ptr, (size_t)r->rec.key.len, &r->h0, &r->h1);
            map_prefetch(&job->map, r->h0);
        }
    }
    return it->err ? it->err : n;
}

/* ------------------------------------------------------------------------
 * Pass 1: the offset map over the dirty range
 * ------------------------------------------------------------------------ */

static int
step_map(weir_clean_job_t *job, int64_t budget)
{
    while (job->cur_seg < job->nsegs) {
        const clean_seg_t *s = &job->segs[job->cur_seg];

        if (job->rd.fd != s->fd)
            reader_open(&job->rd, s);
        for (;;) {
            weir_batch_hdr_t h;
            const uint8_t *b;
            weir_record_iter_t it;
            int rc, n;

            if (atomic_load(&job->abort))
                return UV_ECANCELED;
            if (job->step_io >= budget)
                return 0;
            rc = read_batch(&job->rd, job->cur_pos, false, &b, &h);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break;
            job->step_io += (int64_t)weir_batch_total_size(&h);
            job->map_bytes += weir_batch_total_size(&h);
            if (h.base_offset + h.last_offset_delta >= job->first_dirty &&
                !(h.attributes & WEIR_BATCH_ATTR_CONTROL) && h.records_count > 0) {
                rc = weir_record_iter_init(&it, b, weir_batch_total_size(&h),
                                           WEIR_RECORDS_SCAN_MAX_DECOMPRESSED);
                while (rc == 0 && !job->map_full &&
                       (n = next_chunk(job, &it, job->first_dirty, INT64_MAX)) != 0) {
                    if (n < 0) {
                        rc = n;
                        break;
                    }
                    for (int i = 0; i < n; i++) {
                        const clean_rec_t *r = &job->crecs[i];
                        if (r->mapped && !map_put(&job->map, r->h0, r->h1, r->rec.offset)) {
                            /* Full: clean up to the offset reached; the
                             * rest stays dirty for the next cleaning. */
                            job->map_full = true;
                            break;
                        }
                    }
                }
                weir_record_iter_free(&it);
                if (rc != 0)
                    return rc;
                if (job->map_full) {
                    if (job->map.latest < 0)
                        return WEIR_ELIMIT;
                    job->end = job->map.latest + 1;
                    job->phase = PHASE_PLAN;
                    return 0;
                }
            }
            job->cur_pos += (int64_t)weir_batch_total_size(&h);
        }
        job->cur_seg++;
        job->cur_pos = 0;
    }
    job->end = WEIR_MAX(job->first_dirty, job->first_uncleanable);
    job->phase = PHASE_PLAN;
    return 0;
}

/* ------------------------------------------------------------------------
 * Pass 2: rewriting
 * ------------------------------------------------------------------------ */

/* Groups the segments below job->end, Kafka's groupSegmentsBySize: as many
 * consecutive segments as fit segment.bytes (by their current sizes) with
 * offsets that fit the index's int32 deltas. */
static void
plan_groups(weir_clean_job_t *job)
{
    size_t n = 0;

    while (n < job->nsegs && job->segs[n].base < job->end)
        n++;
    /* When the cleaning reaches the uncleanable bound, its last batch stays
     * (empty if need be): the active segment may be empty (rolled by time),
     * and a fetch must find a batch to carry a consumer to the log end. */
    job->tail_offset = -1;
    if (job->end >= job->first_uncleanable) {
        for (size_t i = 0; i < n; i++)
            if (job->segs[i].size > 0)
                job->tail_offset = job->segs[i].next - 1;
    }
    job->groups = weir_calloc(n ? n : 1, sizeof(*job->groups));
    job->ngroups = 0;
    for (size_t i = 0; i < n;) {
        clean_group_t *g = &job->groups[job->ngroups++];
        int64_t size = job->segs[i].size;

        g->first = i;
        g->base = job->segs[i].base;
        i++;
        while (i < n && size + job->segs[i].size <= job->segment_bytes &&
               job->segs[i].next - 1 - g->base <= INT32_MAX) {
            size += job->segs[i].size;
            i++;
        }
        g->n = i - g->first;
        g->end = i < job->nsegs ? job->segs[i].base : job->first_uncleanable;
    }
    job->cur_group = 0;
    job->cur_seg = 0;
    job->cur_pos = 0;
    job->rd.fd = -1;
    job->phase = job->ngroups ? PHASE_CLEAN : PHASE_DONE;
}

static bool
is_producer_last(const weir_clean_job_t *job, int64_t last_offset)
{
    size_t lo = 0, hi = job->nplast;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (job->plast[mid] < last_offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < job->nplast && job->plast[lo] == last_offset;
}

static void
finish_header(uint8_t *p, size_t total)
{
    weir_put_be32(p + WEIR_BATCH_OFF_LENGTH, (uint32_t)(total - WEIR_BATCH_LOG_OVERHEAD));
    weir_put_be32(p + WEIR_BATCH_OFF_CRC,
                  weir_crc32c(0, p + WEIR_BATCH_OFF_ATTRIBUTES, total - WEIR_BATCH_OFF_ATTRIBUTES));
}

/* Kafka's empty batch: the header of a batch whose records are all gone,
 * kept so its producer's last sequence survives. */
static int
write_empty_batch(weir_clean_job_t *job, const weir_batch_hdr_t *h)
{
    uint8_t p[WEIR_BATCH_HDR_SIZE];
    uint16_t attr =
        (uint16_t)(h->attributes & (WEIR_BATCH_ATTR_LOG_APPEND_TIME |
                                    WEIR_BATCH_ATTR_TRANSACTIONAL | WEIR_BATCH_ATTR_CONTROL));

    memset(p, 0, sizeof(p));
    weir_put_be64(p + WEIR_BATCH_OFF_BASE_OFFSET, (uint64_t)h->base_offset);
    weir_put_be32(p + WEIR_BATCH_OFF_LEADER_EPOCH, (uint32_t)h->leader_epoch);
    p[WEIR_BATCH_OFF_MAGIC] = 2;
    weir_put_be16(p + WEIR_BATCH_OFF_ATTRIBUTES, attr);
    weir_put_be32(p + WEIR_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)h->last_offset_delta);
    weir_put_be64(p + WEIR_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)h->max_timestamp);
    weir_put_be64(p + WEIR_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)h->max_timestamp);
    weir_put_be64(p + WEIR_BATCH_OFF_PRODUCER_ID, (uint64_t)h->producer_id);
    weir_put_be16(p + WEIR_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)h->producer_epoch);
    weir_put_be32(p + WEIR_BATCH_OFF_BASE_SEQUENCE, (uint32_t)h->base_sequence);
    weir_put_be32(p + WEIR_BATCH_OFF_RECORDS_COUNT, 0);
    finish_header(p, sizeof(p));
    return out_append(job, p, sizeof(p));
}

/* Appends one record to w, with its offset delta against base_offset and
 * its timestamp delta against base_ts. */
static void
encode_record(weir_wbuf_t *w, const weir_record_t *rec, int64_t base_offset, int64_t base_ts)
{
    uint8_t body_hdr[32];
    weir_wbuf_t b = {body_hdr, 0, sizeof(body_hdr), false};
    size_t body_len;

    /* The fixed part goes into a small buffer first to learn the length. */
    weir_wr_i8(&b, 0);
    weir_wr_varlong(&b, rec->timestamp - base_ts);
    weir_wr_varint(&b, (int32_t)(rec->offset - base_offset));
    body_len = b.len;
    body_len += rec->key.len >= 0 ? (size_t)rec->key.len : 0;
    body_len += rec->value.len >= 0 ? (size_t)rec->value.len : 0;
    body_len += rec->headers_len;
    {
        uint8_t tmp[16];
        weir_wbuf_t t = {tmp, 0, sizeof(tmp), false};
        weir_wr_varint(&t, rec->key.len);
        body_len += t.len;
        t.len = 0;
        weir_wr_varint(&t, rec->value.len);
        body_len += t.len;
        t.len = 0;
        weir_wr_varint(&t, rec->header_count);
        body_len += t.len;
    }
    weir_wr_varint(w, (int32_t)body_len);
    weir_wr_raw(w, body_hdr, b.len);
    weir_wr_varint(w, rec->key.len);
    if (rec->key.len > 0)
        weir_wr_raw(w, rec->key.ptr, (size_t)rec->key.len);
    weir_wr_varint(w, rec->value.len);
    if (rec->value.len > 0)
        weir_wr_raw(w, rec->value.ptr, (size_t)rec->value.len);
    weir_wr_varint(w, rec->header_count);
    if (rec->headers_len)
        weir_wr_raw(w, rec->headers, rec->headers_len);
}

/* Filters one batch into the output. */
static int
clean_batch(weir_clean_job_t *job, const uint8_t *b, const weir_batch_hdr_t *h)
{
    size_t total = weir_batch_total_size(h);
    weir_codec_t codec = (weir_codec_t)(h->attributes & WEIR_BATCH_ATTR_COMPRESSION_MASK);
    bool lat = (h->attributes & WEIR_BATCH_ATTR_LOG_APPEND_TIME) != 0;
    bool has_horizon = (h->attributes & WEIR_BATCH_ATTR_DELETE_HORIZON) != 0;
    bool horizon_passed = has_horizon && job->now_ms >= h->base_timestamp;
    weir_record_iter_t it;
    weir_record_t rec;
    weir_rbuf_t rd0;
    int32_t kept = 0, seen, remaining0;
    bool tombstone_kept = false, need_horizon;
    int n;
    int64_t horizon, base_ts, max_ts = -1;
    int rc;

    job->records_in += (uint64_t)WEIR_MAX(h->records_count, 0);
    if (h->attributes & WEIR_BATCH_ATTR_CONTROL) {
        /* Control batches are never written by Weir (no transactions). */
        job->records_kept += (uint64_t)WEIR_MAX(h->records_count, 0);
        return out_append(job, b, total);
    }
    if (has_horizon)
        horizon = h->base_timestamp;
    else if (job->delete_retention_ms > INT64_MAX - job->now_ms)
        horizon = INT64_MAX;
    else
        horizon = job->now_ms + job->delete_retention_ms;
    rc = weir_record_iter_init(&it, b, total, WEIR_RECORDS_SCAN_MAX_DECOMPRESSED);
    if (rc != 0) {
        weir_record_iter_free(&it);
        return rc;
    }
    if ((size_t)h->records_count > job->keep_cap * 8) {
        job->keep_cap = ((size_t)h->records_count + 7) / 8;
        free(job->keep);
        job->keep = weir_malloc(job->keep_cap);
    }
    /* The iterator can walk the records again without decompressing. */
    rd0 = it.rd;
    remaining0 = it.remaining;

    /* Decide, record by record (Kafka's shouldRetainRecord). */
    seen = 0;
    while ((n = next_chunk(job, &it, INT64_MIN, job->end)) > 0) {
        for (int i = 0; i < n; i++) {
            const clean_rec_t *r = &job->crecs[i];
            bool keep;

            if (r->rec.offset >= job->end) {
                keep = true;
            } else if (r->rec.key.len < 0) {
                keep = false; /* Kafka drops keyless records of a compacted log */
            } else {
                int64_t found = map_get(&job->map, r->h0, r->h1);
                keep = found < 0 || r->rec.offset >= found;
                if (keep && r->rec.value.len < 0 && horizon_passed)
                    keep = false;
            }
            if (keep)
                job->keep[seen / 8] |= (uint8_t)(1u << (seen % 8));
            else
                job->keep[seen / 8] &= (uint8_t) ~(1u << (seen % 8));
            seen++;
            if (!keep)
                continue;
            kept++;
            if (r->rec.value.len < 0)
                tombstone_kept = true;
            if (r->rec.timestamp > max_ts)
                max_ts = r->rec.timestamp;
        }
    }
    if (n < 0 || seen != h->records_count) {
        weir_record_iter_free(&it);
        return n < 0 ? n : WEIR_ECORRUPT;
    }
    if (tombstone_kept && horizon < job->horizon_min)
        job->horizon_min = horizon;
    job->records_kept += (uint64_t)kept;

    need_horizon = tombstone_kept && !has_horizon;
    if (kept == seen && kept > 0 && !need_horizon) {
        weir_record_iter_free(&it);
        return out_append(job, b, total);
    }
    if (kept == 0) {
        int64_t last = h->base_offset + h->last_offset_delta;
        weir_record_iter_free(&it);
        if ((h->producer_id >= 0 && is_producer_last(job, last)) || last == job->tail_offset)
            return write_empty_batch(job, h);
        return 0;
    }

    /* Rebuild with the kept records: same base offset, last offset delta,
     * producer fields and codec; record offsets and timestamps unchanged. */
    base_ts = (has_horizon || need_horizon) ? horizon : h->base_timestamp;
    job->recs.len = 0;
    it.rd = rd0;
    it.remaining = remaining0;
    for (int32_t i = 0; i < seen && weir_record_iter_next(&it, &rec); i++)
        if (job->keep[i / 8] & (1u << (i % 8)))
            encode_record(&job->recs, &rec, h->base_offset, base_ts);
    weir_record_iter_free(&it);

    job->batch.len = 0;
    weir_wbuf_reserve(&job->batch, WEIR_BATCH_HDR_SIZE);
    {
        uint8_t *p = job->batch.data;
        uint16_t attr = (uint16_t)h->attributes;

        if (need_horizon)
            attr |= WEIR_BATCH_ATTR_DELETE_HORIZON;
        memset(p, 0, WEIR_BATCH_HDR_SIZE);
        weir_put_be64(p + WEIR_BATCH_OFF_BASE_OFFSET, (uint64_t)h->base_offset);
        weir_put_be32(p + WEIR_BATCH_OFF_LEADER_EPOCH, (uint32_t)h->leader_epoch);
        p[WEIR_BATCH_OFF_MAGIC] = 2;
        weir_put_be16(p + WEIR_BATCH_OFF_ATTRIBUTES, attr);
        weir_put_be32(p + WEIR_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)h->last_offset_delta);
        weir_put_be64(p + WEIR_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)base_ts);
        weir_put_be64(p + WEIR_BATCH_OFF_MAX_TIMESTAMP,
                      (uint64_t)(lat ? h->max_timestamp : max_ts));
        weir_put_be64(p + WEIR_BATCH_OFF_PRODUCER_ID, (uint64_t)h->producer_id);
        weir_put_be16(p + WEIR_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)h->producer_epoch);
        weir_put_be32(p + WEIR_BATCH_OFF_BASE_SEQUENCE, (uint32_t)h->base_sequence);
        weir_put_be32(p + WEIR_BATCH_OFF_RECORDS_COUNT, (uint32_t)kept);
        job->batch.len = WEIR_BATCH_HDR_SIZE;
    }
    if (codec == WEIR_CODEC_NONE) {
        weir_wr_raw(&job->batch, job->recs.data, job->recs.len);
    } else {
        uint8_t *z = NULL;
        size_t zlen = 0;

        rc = weir_compress(codec, job->recs.data, job->recs.len, &z, &zlen);
        if (rc != 0)
            return rc;
        weir_wr_raw(&job->batch, z, zlen);
        free(z);
    }
    finish_header(job->batch.data, job->batch.len);
    return out_append(job, job->batch.data, job->batch.len);
}

/* Completes the current group's cleaned segment. */
static int
finish_group(weir_clean_job_t *job)
{
    clean_group_t *g = &job->groups[job->cur_group];
    struct timespec ts[2];
    struct stat st;
    int rc;

    if ((rc = out_flush(job)) != 0)
        return rc;
    /* As Kafka does, the cleaned segment keeps the newest modification time
     * of the segments it replaces (retention by time looks at it). */
    ts[0].tv_sec = ts[1].tv_sec = 0;
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    for (size_t i = g->first; i < g->first + g->n; i++) {
        if (fstat(job->segs[i].fd, &st) == 0 &&
            (st.st_mtim.tv_sec > ts[1].tv_sec ||
             (st.st_mtim.tv_sec == ts[1].tv_sec && st.st_mtim.tv_nsec > ts[1].tv_nsec)))
            ts[1] = st.st_mtim;
    }
    if (ts[1].tv_sec > 0) {
        ts[0].tv_nsec = UTIME_OMIT;
        if (futimens(g->out->fd, ts) != 0)
            WEIR_LOG(WEIR_LOG_DEBUG, "log_cleaner_mtime_failed", "dir=%s err=%s", job->dir,
                     strerror(errno));
    }
    g->out->created_ms = job->segs[g->first].created_ms;
    for (size_t i = g->first; i < g->first + g->n; i++) {
        if (job->segs[i].created_ms >= 0 &&
            (g->out->created_ms < 0 || job->segs[i].created_ms < g->out->created_ms))
            g->out->created_ms = job->segs[i].created_ms;
    }
    if ((rc = weir_segment_finish_cleaned(g->out)) != 0)
        return rc;
    step_hook("cleaned_written", g->base);
    return 0;
}

static int
step_clean(weir_clean_job_t *job, int64_t budget)
{
    while (job->cur_group < job->ngroups) {
        clean_group_t *g = &job->groups[job->cur_group];
        int rc;

        if (!g->out) {
            if ((rc = weir_segment_create_cleaned(job->dir, g->base, &g->out)) != 0)
                return rc;
            g->created = true;
            job->olen = 0;
            job->ofile_pos = 0;
            job->cur_seg = g->first;
            job->cur_pos = 0;
            job->rd.fd = -1;
            step_hook("clean", g->base);
        }
        while (job->cur_seg < g->first + g->n) {
            const clean_seg_t *s = &job->segs[job->cur_seg];

            if (job->rd.fd != s->fd)
                reader_open(&job->rd, s);
            for (;;) {
                weir_batch_hdr_t h;
                const uint8_t *b;

                if (atomic_load(&job->abort))
                    return UV_ECANCELED;
                if (job->step_io >= budget)
                    return 0;
                rc = read_batch(&job->rd, job->cur_pos, true, &b, &h);
                if (rc < 0)
                    return rc;
                if (rc == 0)
                    break;
                job->step_io += (int64_t)weir_batch_total_size(&h);
                job->bytes_in += weir_batch_total_size(&h);
                if ((rc = clean_batch(job, b, &h)) != 0)
                    return rc;
                job->cur_pos += (int64_t)weir_batch_total_size(&h);
            }
            job->cur_seg++;
            job->cur_pos = 0;
        }
        if ((rc = finish_group(job)) != 0)
            return rc;
        job->cur_group++;
        /* One fsync per step: let other work use the pool in between. */
        return 0;
    }
    job->phase = PHASE_COMMIT;
    return 0;
}

/* The point of no return, group by group in offset order: the cleaned log
 * is renamed "<base>.log.<end>.swap" and the directory fsynced, so that a
 * crash from here on completes the swap at the next open. */
static int
step_commit(weir_clean_job_t *job)
{
    char from[PATH_MAX], to[PATH_MAX];
    int rc;

    for (size_t i = 0; i < job->ngroups; i++) {
        clean_group_t *g = &job->groups[i];

        /* Stopping between groups leaves a committed prefix: safe. */
        if (atomic_load(&job->abort))
            return UV_ECANCELED;
        snprintf(from, sizeof(from), "%s.log" WEIR_SEGMENT_CLEANED_SUFFIX, g->out->path);
        snprintf(to, sizeof(to), "%s.log.%020" PRId64 ".swap", g->out->path, g->end);
        if (rename(from, to) != 0)
            return -errno;
        g->committed = true;
        job->ncommitted++;
        if ((rc = fsync_dir(job->dir)) != 0)
            return rc;
        step_hook("swap_renamed", g->base);
    }
    job->phase = PHASE_DONE;
    return 0;
}

static void
job_work(uv_work_t *req)
{
    weir_clean_job_t *job = weir_container_of(req, weir_clean_job_t, work);
    weir_cleaner_t *c = job->cleaner;
    int64_t budget = CLEAN_STEP_BYTES;
    int rc = 0;

    if (c->conf.io_max_bytes_per_sec > 0)
        budget = (int64_t)WEIR_MAX(
            (double)CLEAN_STEP_MIN_BYTES,
            WEIR_MIN((double)CLEAN_STEP_BYTES, c->conf.io_max_bytes_per_sec / 10));
    job->step_io = 0;
    switch (job->phase) {
    case PHASE_MAP:
        step_hook("map", job->first_dirty);
        rc = step_map(job, budget);
        break;
    case PHASE_PLAN:
        plan_groups(job);
        break;
    case PHASE_CLEAN:
        rc = step_clean(job, budget);
        break;
    case PHASE_COMMIT:
        rc = step_commit(job);
        break;
    case PHASE_DONE:
        break;
    }
    if (rc != 0)
        job->status = rc;
}

/* ------------------------------------------------------------------------
 * Job life on the loop
 * ------------------------------------------------------------------------ */

static void
job_timer_closed(uv_handle_t *h)
{
    weir_clean_job_t *job = weir_container_of((uv_timer_t *)h, weir_clean_job_t, timer);

    free(job);
}

/* Removes output files that were not committed. */
static void
job_discard_outputs(weir_clean_job_t *job, size_t from_group)
{
    static const char *const exts[3] = {"log", "index", "timeindex"};
    char path[PATH_MAX];

    for (size_t i = from_group; i < job->ngroups; i++) {
        clean_group_t *g = &job->groups[i];

        if (!g->created || g->committed || !g->out)
            continue;
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof(path), "%s.%s" WEIR_SEGMENT_CLEANED_SUFFIX, g->out->path,
                     exts[k]);
            if (unlink(path) != 0 && errno != ENOENT)
                WEIR_LOG(WEIR_LOG_WARN, "log_cleaner_remove_failed", "file=%s err=%s", path,
                         strerror(errno));
        }
    }
}

static const char *
status_text(int status)
{
    if (status == WEIR_ECORRUPT)
        return "corrupt batch";
    if (status == WEIR_ELIMIT)
        return "log.cleaner.dedupe.buffer.size too small for one record";
    if (status == WEIR_EPARSE)
        return "undecodable records";
    if (status < 0 && status > -4096)
        return uv_strerror(status);
    return "error";
}

/* Swaps the committed groups in (all of them, or the prefix an error left). */
static int
job_install(weir_clean_job_t *job, size_t ngroups, bool complete)
{
    weir_clean_state_t *st = weir_plog_clean_state(job->log);
    weir_segment_t **old = weir_malloc((job->nsegs ? job->nsegs : 1) * sizeof(*old));
    weir_segment_t **repl = weir_malloc((ngroups ? ngroups : 1) * sizeof(*repl));
    int64_t *ends = weir_malloc((ngroups ? ngroups : 1) * sizeof(*ends));
    size_t nold = 0;
    int64_t first_dirty = st->first_dirty, horizon = st->horizon_ms;
    int rc;

    for (size_t i = 0; i < ngroups; i++) {
        const clean_group_t *g = &job->groups[i];
        for (size_t k = g->first; k < g->first + g->n; k++)
            old[nold++] = job->segs[k].seg;
        repl[i] = g->out;
        ends[i] = g->end;
    }
    if (complete) {
        first_dirty = WEIR_MAX(job->first_dirty, job->end);
        horizon = job->horizon_min;
    } else if (job->horizon_min < horizon) {
        horizon = job->horizon_min;
    }
    rc = weir_plog_clean_install(job->log, old, nold, repl, ends, ngroups, first_dirty, horizon);
    for (size_t i = 0; i < ngroups; i++)
        job->groups[i].out = NULL; /* the log holds them now */
    free(old);
    free(repl);
    free(ends);
    return rc;
}

static void
job_finish(weir_clean_job_t *job, int status)
{
    weir_cleaner_t *c = job->cleaner;
    int64_t now = weir_wall_ms();
    uint64_t dur_us = (uint64_t)(weir_mono_us() - job->started_us);
    size_t nold = 0;

    for (size_t i = 0; i < job->ngroups; i++)
        nold += job->groups[i].n;

    bool install_failed = false;

    if (status == 0 && job->phase == PHASE_DONE && !job->detached) {
        status = job_install(job, job->ngroups, true);
        install_failed = status != 0;
    } else if (status != 0 && !job->detached && job->ncommitted > 0) {
        /* Groups already renamed to .swap are the log's data now. */
        int rc = job_install(job, job->ncommitted, false);
        if (rc != 0) {
            status = rc;
            install_failed = true;
        }
    }
    if (!job->detached) {
        weir_clean_state_t *st = weir_plog_clean_state(job->log);
        st->job = NULL;
        /* After a failed swap the files are for the next open to sort out:
         * no more cleaning of this log until then. */
        if (install_failed)
            st->retry_after_ms = INT64_MAX;
        else if (status != 0 && status != UV_ECANCELED)
            st->retry_after_ms = now + CLEAN_FAIL_BACKOFF_MS;
    }
    job_discard_outputs(job, 0);

    if (status == 0) {
        double secs = (double)dur_us / 1e6;
        c->stats.jobs_done++;
        c->stats.bytes_read += job->bytes_in;
        c->stats.bytes_written += job->bytes_out;
        c->stats.records_read += job->records_in;
        c->stats.records_kept += job->records_kept;
        c->stats.busy_us += dur_us;
        WEIR_LOG(WEIR_LOG_INFO, "log_cleaned",
                 "dir=%s segments=%zu groups=%zu bytes_in=%" PRIu64 " bytes_out=%" PRIu64
                 " records_in=%" PRIu64 " records_kept=%" PRIu64 " map_bytes=%" PRIu64
                 " map_keys=%zu map_full=%s first_dirty=%" PRId64 " clean_end=%" PRId64
                 " started_ms=%" PRId64 " finished_ms=%" PRId64 " duration_ms=%.1f"
                 " mb_per_s=%.1f",
                 job->dir, nold, job->ngroups, job->bytes_in, job->bytes_out, job->records_in,
                 job->records_kept, job->map_bytes, job->map.count,
                 job->map_full ? "true" : "false", job->first_dirty,
                 WEIR_MAX(job->first_dirty, job->end), job->started_ms, now,
                 (double)dur_us / 1000.0, secs > 0 ? (double)job->bytes_in / 1e6 / secs : 0.0);
    } else if (status == UV_ECANCELED) {
        c->stats.jobs_aborted++;
        WEIR_LOG(WEIR_LOG_INFO, "log_clean_aborted", "dir=%s committed_groups=%zu", job->dir,
                 job->ncommitted);
    } else {
        c->stats.jobs_failed++;
        WEIR_LOG(WEIR_LOG_ERROR, "log_clean_failed", "dir=%s err=\"%s\" retry_in_ms=%d", job->dir,
                 status_text(status), CLEAN_FAIL_BACKOFF_MS);
    }

    for (size_t i = 0; i < job->nsegs; i++)
        weir_segment_unref(job->segs[i].seg);
    for (size_t i = 0; i < job->ngroups; i++)
        if (job->groups[i].out)
            weir_segment_unref(job->groups[i].out);
    if (job->cb)
        job->cb(job->cb_arg, status);
    weir_plog_release(job->log);
    map_free(&job->map);
    free(job->rd.buf);
    free(job->obuf);
    weir_wbuf_free(&job->recs);
    weir_wbuf_free(&job->batch);
    free(job->groups);
    free(job->crecs);
    free(job->keep);
    free(job->segs);
    free(job->plast);
    free(job->dir);
    c->running--;
    c->next_round_ms = INT64_MIN; /* look again at once */
    uv_close((uv_handle_t *)&job->timer, job_timer_closed);
    if (c->closing && c->running == 0)
        free(c);
}

static void
job_after(uv_work_t *req, int status)
{
    weir_clean_job_t *job = weir_container_of(req, weir_clean_job_t, work);

    job->running = false;
    if (status != 0 && job->status == 0)
        job->status = status;
    if (job->status != 0 || atomic_load(&job->abort)) {
        job_finish(job, job->status ? job->status : UV_ECANCELED);
        return;
    }
    if (job->phase == PHASE_DONE) {
        job_finish(job, 0);
        return;
    }
    job_queue_step(job);
}

static void
job_timer_fired(uv_timer_t *t)
{
    weir_clean_job_t *job = weir_container_of(t, weir_clean_job_t, timer);

    if (atomic_load(&job->abort)) {
        job_finish(job, UV_ECANCELED);
        return;
    }
    job->running = true;
    if (uv_queue_work(job->cleaner->loop, &job->work, job_work, job_after) != 0) {
        job->running = false;
        job_finish(job, UV_EAGAIN);
    }
}

/* Queues the next step, after the wait the throttle asks for. */
static void
job_queue_step(weir_clean_job_t *job)
{
    weir_cleaner_t *c = job->cleaner;
    int64_t now_us = weir_mono_us(), delay_us = 0;

    if (c->conf.io_max_bytes_per_sec > 0 && job->step_io > 0) {
        int64_t start = WEIR_MAX(now_us, c->throttle_next_us);
        c->throttle_next_us =
            start + (int64_t)((double)job->step_io * 1e6 / c->conf.io_max_bytes_per_sec);
        delay_us = c->throttle_next_us - now_us;
    }
    job->step_io = 0;
    uv_timer_start(&job->timer, job_timer_fired, (uint64_t)(delay_us / 1000), 0);
}

void
weir_cleaner_job_detach(weir_clean_job_t *job)
{
    job->detached = true;
    atomic_store(&job->abort, true);
    if (!job->running) {
        /* Waiting on the throttle: end on the next loop turn (not here, the
         * log is in the middle of closing). */
        uv_timer_stop(&job->timer);
        uv_timer_start(&job->timer, job_timer_fired, 0, 0);
    }
}

/* ------------------------------------------------------------------------
 * Deciding what to clean (loop)
 * ------------------------------------------------------------------------ */

static int64_t
seg_largest_ts(const weir_segment_t *seg)
{
    return seg->max_ts >= 0 ? seg->max_ts : seg->created_ms;
}

bool
weir_cleaner_examine(weir_plog_t *log, int64_t now_ms, weir_cleanable_t *out)
{
    const weir_log_config_t *cfg = weir_plog_config(log);
    const weir_clean_state_t *st = weir_plog_clean_state(log);
    size_t n;
    weir_segment_t *const *segs = weir_plog_segments(log, &n);
    int64_t start = weir_plog_start_offset(log), end = weir_plog_end_offset(log);
    int64_t max_lag = cfg->max_compaction_lag_ms > 0 ? cfg->max_compaction_lag_ms : INT64_MAX;
    bool have_closed = false;

    if (!cfg->compact)
        return false;
    memset(out, 0, sizeof(*out));
    out->first_dirty = WEIR_MIN(WEIR_MAX(st->first_dirty, start), end);
    out->first_uncleanable = segs[n - 1]->base_offset;
    if (cfg->min_compaction_lag_ms > 0) {
        for (size_t i = 0; i + 1 < n; i++) {
            if (segs[i]->next_offset > out->first_dirty &&
                seg_largest_ts(segs[i]) > now_ms - cfg->min_compaction_lag_ms) {
                out->first_uncleanable = segs[i]->base_offset;
                break;
            }
        }
    }
    for (size_t i = 0; i + 1 < n && segs[i]->base_offset < out->first_uncleanable; i++) {
        have_closed = true;
        if (segs[i]->next_offset <= out->first_dirty && segs[i]->base_offset < out->first_dirty) {
            out->clean_bytes += segs[i]->size;
        } else {
            if (out->dirty_bytes == 0 && segs[i]->size > 0 && max_lag != INT64_MAX &&
                segs[i]->created_ms >= 0 && now_ms - segs[i]->created_ms > max_lag)
                out->lag_exceeded = true;
            out->dirty_bytes += segs[i]->size;
        }
    }
    if (out->clean_bytes + out->dirty_bytes > 0)
        out->ratio = (double)out->dirty_bytes / (double)(out->clean_bytes + out->dirty_bytes);
    out->tombstones_due = have_closed && st->horizon_ms <= now_ms;
    out->eligible = !st->job && now_ms >= st->retry_after_ms &&
                    ((out->dirty_bytes > 0 && out->ratio > cfg->min_cleanable_ratio) ||
                     (out->dirty_bytes > 0 && out->lag_exceeded) || out->tombstones_due);
    return true;
}

/* ------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------ */

weir_cleaner_t *
weir_cleaner_new(uv_loop_t *loop, const weir_cleaner_conf_t *conf)
{
    weir_cleaner_t *c = weir_calloc(1, sizeof(*c));

    c->loop = loop;
    c->conf = *conf;
    if (c->conf.threads < 1)
        c->conf.threads = 1;
    if (c->conf.threads > (int32_t)WEIR_ARRAY_SIZE(c->cand))
        c->conf.threads = (int32_t)WEIR_ARRAY_SIZE(c->cand);
    if (c->conf.dedupe_buffer_size < MAP_SLOT_SIZE * 2)
        c->conf.dedupe_buffer_size = MAP_SLOT_SIZE * 2;
    if (c->conf.backoff_ms < 0)
        c->conf.backoff_ms = 0;
    return c;
}

void
weir_cleaner_free(weir_cleaner_t *c)
{
    if (!c)
        return;
    c->closing = true;
    if (c->running == 0)
        free(c);
}

void
weir_cleaner_stats(const weir_cleaner_t *c, weir_clean_stats_t *out)
{
    *out = c->stats;
}

int
weir_cleaner_start(weir_cleaner_t *c, weir_plog_t *log, int64_t now_ms, weir_clean_done_cb cb,
                   void *arg)
{
    weir_clean_state_t *st = weir_plog_clean_state(log);
    const weir_log_config_t *cfg = weir_plog_config(log);
    weir_cleanable_t cl;
    weir_clean_job_t *job;
    weir_segment_t *const *segs;
    size_t n, ncand = 0;

    if (c->closing)
        return -ECANCELED;
    if (!weir_cleaner_examine(log, now_ms, &cl))
        return -EINVAL;
    if (st->job || c->running >= c->conf.threads)
        return -EBUSY;
    segs = weir_plog_segments(log, &n);
    while (ncand + 1 < n && segs[ncand]->base_offset < cl.first_uncleanable)
        ncand++;
    if (ncand == 0)
        return -ENOENT;

    job = weir_calloc(1, sizeof(*job));
    job->cleaner = c;
    job->log = log;
    job->cb = cb;
    job->cb_arg = arg;
    atomic_init(&job->abort, false);
    job->dir = weir_strdup(weir_plog_dir(log));
    job->segs = weir_calloc(ncand, sizeof(*job->segs));
    for (size_t i = 0; i < ncand; i++) {
        clean_seg_t *s = &job->segs[i];
        s->seg = segs[i];
        weir_segment_ref(s->seg);
        s->fd = segs[i]->fd;
        s->base = segs[i]->base_offset;
        s->next = segs[i]->next_offset;
        s->size = segs[i]->size;
        s->created_ms = segs[i]->created_ms;
    }
    job->nsegs = ncand;
    job->first_dirty = cl.first_dirty;
    job->first_uncleanable = cl.first_uncleanable;
    job->now_ms = now_ms;
    job->segment_bytes = cfg->segment_bytes;
    job->delete_retention_ms = cfg->delete_retention_ms;
    job->index_interval = cfg->index_interval_bytes;
    job->nplast = weir_plog_producer_last_offsets(log, &job->plast);
    job->map_budget = c->conf.dedupe_buffer_size / c->conf.threads;
    /* Pass 1 starts at the segment holding the first dirty offset. */
    job->map_seg = 0;
    while (job->map_seg + 1 < ncand && job->segs[job->map_seg + 1].base <= job->first_dirty)
        job->map_seg++;
    job->map_pos = job->first_dirty > job->segs[job->map_seg].base
                       ? weir_segment_index_lookup(segs[job->map_seg], job->first_dirty)
                       : 0;
    /* Nothing dirty below the uncleanable bound: pass 1 has nothing to map
     * (the cleaning may still drop expired tombstones). */
    job->cur_seg = job->first_dirty < job->first_uncleanable ? job->map_seg : ncand;
    job->cur_pos = job->map_pos;
    job->rd.fd = -1;
    job->phase = PHASE_MAP;
    job->horizon_min = INT64_MAX;
    job->end = cl.first_uncleanable;
    map_init(&job->map, job->map_budget);
    job->obuf = weir_malloc(CLEAN_WRITE_BUF);
    job->rd.cap = CLEAN_READ_WINDOW;
    job->rd.buf = weir_malloc(job->rd.cap);
    weir_wbuf_init(&job->recs, 64 * 1024);
    weir_wbuf_init(&job->batch, 64 * 1024);
    job->started_ms = weir_wall_ms();
    job->started_us = weir_mono_us();
    uv_timer_init(c->loop, &job->timer);

    st->job = job;
    weir_plog_hold(log);
    c->running++;
    WEIR_LOG(WEIR_LOG_INFO, "log_clean_started",
             "dir=%s first_dirty=%" PRId64 " first_uncleanable=%" PRId64 " segments=%zu"
             " dirty_bytes=%" PRId64 " clean_bytes=%" PRId64 " ratio=%.3f lag_exceeded=%s"
             " tombstones_due=%s started_ms=%" PRId64,
             job->dir, cl.first_dirty, cl.first_uncleanable, ncand, cl.dirty_bytes, cl.clean_bytes,
             cl.ratio, cl.lag_exceeded ? "true" : "false", cl.tombstones_due ? "true" : "false",
             job->started_ms);
    job->step_io = 0;
    job_queue_step(job);
    return 0;
}

bool
weir_cleaner_round_begin(weir_cleaner_t *c, int64_t now_ms)
{
    c->ncand = 0;
    return c->conf.enable && !c->closing && c->running < c->conf.threads &&
           now_ms >= c->next_round_ms;
}

void
weir_cleaner_offer(weir_cleaner_t *c, weir_plog_t *log, int64_t now_ms)
{
    size_t slots = (size_t)(c->conf.threads - c->running), i;
    weir_cleanable_t cl;
    bool urgent;
    double ratio;

    if (!weir_cleaner_examine(log, now_ms, &cl) || !cl.eligible)
        return;
    urgent = cl.lag_exceeded || cl.tombstones_due;
    ratio = cl.ratio;
    /* Keep the best `slots` candidates: urgent ones first, then by ratio. */
    for (i = 0; i < c->ncand; i++) {
        if ((urgent && !c->cand[i].urgent) ||
            (urgent == c->cand[i].urgent && ratio > c->cand[i].ratio))
            break;
    }
    if (i >= slots)
        return;
    if (c->ncand == slots)
        c->ncand--;
    memmove(&c->cand[i + 1], &c->cand[i], (c->ncand - i) * sizeof(c->cand[0]));
    c->cand[i].log = log;
    c->cand[i].urgent = urgent;
    c->cand[i].ratio = ratio;
    c->ncand++;
}

void
weir_cleaner_round_end(weir_cleaner_t *c, int64_t now_ms)
{
    int started = 0;

    for (size_t i = 0; i < c->ncand; i++) {
        if (weir_cleaner_start(c, c->cand[i].log, now_ms, NULL, NULL) == 0)
            started++;
    }
    c->ncand = 0;
    if (started == 0)
        c->next_round_ms = now_ms + c->conf.backoff_ms;
}
