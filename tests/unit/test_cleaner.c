/*
 * test_cleaner.c: log compaction over real partition logs on a real libuv
 * loop - duplicates across segments, tombstones before and after
 * delete.retention.ms, compressed batches (every codec), idempotent and
 * transactional (marker-free) batches, empty results and offset gaps, a
 * bounded offset map, keyless records refused, the scheduling decisions,
 * fetch slices across a swap, closing and deleting during a cleaning, and a
 * crash (_exit in a child process) at every step of a cleaning followed by
 * recovery.
 *
 * `test_cleaner --crash-child DIR STEP NTH` is the child of the crash tests:
 * it opens the log in DIR, cleans it and _exits with 77 at the NTH time the
 * cleaner reaches STEP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "weir_batch.h"
#include "weir_buf.h"
#include "weir_cleaner.h"
#include "weir_common.h"
#include "weir_conf.h"
#include "weir_plog.h"
#include "weir_topic_config.h"
#include "weir_records.h"

/* ------------------------------------------------------------------------
 * Batch builder
 * ------------------------------------------------------------------------ */

typedef struct trec_s {
    const char *key;   /* NULL: no key */
    const char *value; /* NULL: tombstone */
} trec_t;

typedef struct tbatch_opts_s {
    weir_codec_t codec;
    int64_t pid;
    int16_t epoch;
    int32_t seq;
    int16_t attr; /* extra attribute bits (transactional) */
    int64_t ts0;
} tbatch_opts_t;

static tbatch_opts_t
plain(int64_t ts0)
{
    tbatch_opts_t o = {WEIR_CODEC_NONE, -1, -1, -1, 0, ts0};
    return o;
}

/* Appends a valid magic-v2 batch of n records (timestamps ts0, ts0+1, ...). */
static void
tbatch(weir_wbuf_t *w, const trec_t *recs, int n, const tbatch_opts_t *o)
{
    uint8_t hdr[WEIR_BATCH_HDR_SIZE] = {0};
    size_t start = w->len;
    weir_wbuf_t r;
    uint8_t *p;

    weir_wbuf_init(&r, 256);
    for (int i = 0; i < n; i++) {
        weir_wbuf_t b;
        weir_wbuf_init(&b, 64);
        weir_wr_i8(&b, 0);
        weir_wr_varlong(&b, i);
        weir_wr_varint(&b, i);
        if (recs[i].key) {
            weir_wr_varint(&b, (int32_t)strlen(recs[i].key));
            weir_wr_raw(&b, recs[i].key, strlen(recs[i].key));
        } else {
            weir_wr_varint(&b, -1);
        }
        if (recs[i].value) {
            weir_wr_varint(&b, (int32_t)strlen(recs[i].value));
            weir_wr_raw(&b, recs[i].value, strlen(recs[i].value));
        } else {
            weir_wr_varint(&b, -1);
        }
        /* One header on every record, to see headers survive a rewrite. */
        weir_wr_varint(&b, 1);
        weir_wr_varint(&b, 1);
        weir_wr_raw(&b, "h", 1);
        weir_wr_varint(&b, 2);
        weir_wr_raw(&b, "hv", 2);
        weir_wr_varint(&r, (int32_t)b.len);
        weir_wr_raw(&r, b.data, b.len);
        weir_wbuf_free(&b);
    }
    weir_wr_raw(w, hdr, sizeof(hdr));
    if (o->codec == WEIR_CODEC_NONE) {
        weir_wr_raw(w, r.data, r.len);
    } else {
        uint8_t *z;
        size_t zlen;
        assert_int_equal(weir_compress(o->codec, r.data, r.len, &z, &zlen), 0);
        weir_wr_raw(w, z, zlen);
        free(z);
    }
    weir_wbuf_free(&r);
    p = w->data + start;
    weir_put_be32(p + WEIR_BATCH_OFF_LENGTH, (uint32_t)(w->len - start - 12));
    weir_put_be32(p + WEIR_BATCH_OFF_LEADER_EPOCH, (uint32_t)-1);
    p[WEIR_BATCH_OFF_MAGIC] = 2;
    weir_put_be16(p + WEIR_BATCH_OFF_ATTRIBUTES, (uint16_t)(o->codec | o->attr));
    weir_put_be32(p + WEIR_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(n - 1));
    weir_put_be64(p + WEIR_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)o->ts0);
    weir_put_be64(p + WEIR_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)(o->ts0 + n - 1));
    weir_put_be64(p + WEIR_BATCH_OFF_PRODUCER_ID, (uint64_t)o->pid);
    weir_put_be16(p + WEIR_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)o->epoch);
    weir_put_be32(p + WEIR_BATCH_OFF_BASE_SEQUENCE, (uint32_t)o->seq);
    weir_put_be32(p + WEIR_BATCH_OFF_RECORDS_COUNT, (uint32_t)n);
    weir_put_be32(p + WEIR_BATCH_OFF_CRC, weir_crc32c(0, p + WEIR_BATCH_OFF_ATTRIBUTES,
                                                      w->len - start - WEIR_BATCH_OFF_ATTRIBUTES));
}

/* ------------------------------------------------------------------------
 * The model: every record appended, by offset
 * ------------------------------------------------------------------------ */

typedef struct mrec_s {
    int64_t offset;
    char key[32]; /* "" with has_key false: keyless */
    bool has_key;
    char value[64];
    bool tomb;
    int64_t ts;
} mrec_t;

/* A record read back. */
typedef struct rrec_s {
    int64_t offset;
    char key[32];
    bool has_key;
    char value[64];
    bool tomb;
    int64_t ts;
    int32_t nheaders;
} rrec_t;

typedef struct rbatch_s {
    int64_t base;
    int32_t lod;
    int32_t count;
    int16_t attr;
    int64_t pid;
    int16_t epoch;
    int32_t seq;
    int64_t base_ts, max_ts;
} rbatch_t;

#define MAXREC 20000

/* ------------------------------------------------------------------------
 * Fixture
 * ------------------------------------------------------------------------ */

typedef struct fx_s {
    char dir[64];
    char pdir[PATH_MAX];
    uv_loop_t loop;
    weir_log_config_t cfg;
    weir_plog_t *log;
    weir_cleaner_t *cleaner;
    weir_cleaner_conf_t ccfg;
    mrec_t *model;
    size_t nmodel;
    rrec_t *got;
    size_t ngot;
    rbatch_t *batches;
    size_t nbatches;
} fx_t;

static weir_log_config_t
compact_cfg(void)
{
    weir_log_config_t c = {
        .segment_bytes = 2048,
        .segment_ms = INT64_MAX,
        .retention_ms = -1,
        .retention_bytes = -1,
        .index_interval_bytes = 256,
        .max_message_bytes = 1024 * 1024,
        .flush_messages = INT64_MAX,
        .flush_ms = INT64_MAX,
        .file_delete_delay_ms = 0,
        .compact = true,
        .no_delete = true,
        .min_cleanable_ratio = 0.5,
        .delete_retention_ms = 1000,
    };
    return c;
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int
setup(void **state)
{
    fx_t *fx = calloc(1, sizeof(*fx));

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/weir-test-cleaner-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->pdir, sizeof(fx->pdir), "%s/t-0", fx->dir);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    fx->cfg = compact_cfg();
    fx->ccfg.enable = true;
    fx->ccfg.threads = 1;
    fx->ccfg.io_max_bytes_per_sec = 0;
    fx->ccfg.backoff_ms = 0;
    fx->ccfg.dedupe_buffer_size = 1 << 20;
    fx->model = calloc(MAXREC, sizeof(*fx->model));
    fx->got = calloc(MAXREC, sizeof(*fx->got));
    fx->batches = calloc(MAXREC, sizeof(*fx->batches));
    *state = fx;
    return 0;
}

static void
fx_close(fx_t *fx)
{
    if (fx->log) {
        weir_plog_close(fx->log);
        fx->log = NULL;
        uv_run(&fx->loop, UV_RUN_DEFAULT);
    }
}

static int
teardown(void **state)
{
    fx_t *fx = *state;

    fx_close(fx);
    if (fx->cleaner) {
        weir_cleaner_free(fx->cleaner);
        fx->cleaner = NULL;
    }
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx->model);
    free(fx->got);
    free(fx->batches);
    free(fx);
    weir_cleaner_step_hook = NULL;
    return 0;
}

static void
fx_open(fx_t *fx, bool recover)
{
    char err[256] = "";
    int rc = weir_plog_open(&fx->loop, fx->pdir, &fx->cfg, recover, &fx->log, err, sizeof(err));
    if (rc != 0)
        fail_msg("open: %d %s", rc, err);
    if (!fx->cleaner)
        fx->cleaner = weir_cleaner_new(&fx->loop, &fx->ccfg);
}

static void
fx_reopen(fx_t *fx, bool recover)
{
    fx_close(fx);
    fx_open(fx, recover);
}

/* Appends a batch and records it in the model. */
static int64_t
fx_append(fx_t *fx, const trec_t *recs, int n, const tbatch_opts_t *o)
{
    weir_wbuf_t w;
    weir_append_result_t res;
    weir_kerr_t err;

    weir_wbuf_init(&w, 256);
    tbatch(&w, recs, n, o);
    err = weir_plog_append(fx->log, w.data, w.len, o->ts0, &res);
    weir_wbuf_free(&w);
    if (err != WEIR_KERR_NONE)
        fail_msg("append: %s", weir_kerr_name(err));
    assert_false(res.duplicate);
    for (int i = 0; i < n; i++) {
        mrec_t *m = &fx->model[fx->nmodel++];
        assert_true(fx->nmodel < MAXREC);
        m->offset = res.base_offset + i;
        m->has_key = recs[i].key != NULL;
        snprintf(m->key, sizeof(m->key), "%s", recs[i].key ? recs[i].key : "");
        m->tomb = recs[i].value == NULL;
        snprintf(m->value, sizeof(m->value), "%s", recs[i].value ? recs[i].value : "");
        m->ts = o->ts0 + i;
    }
    return res.base_offset;
}

/* Appends `rounds` updates of keys k0..k(nkeys-1), batch_n records per
 * batch, values "v<round>-k<i>". */
static void
fx_updates_p(fx_t *fx, const char *prefix, int nkeys, int rounds, int batch_n,
             const tbatch_opts_t *o0)
{
    char keys[64][16], vals[64][32];
    trec_t recs[64];
    int k = 0;

    assert_true(batch_n <= 64);
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < nkeys; i++) {
            snprintf(keys[k], sizeof(keys[k]), "%sk%d", prefix, i);
            snprintf(vals[k], sizeof(vals[k]), "v%d-%sk%d", r, prefix, i);
            recs[k].key = keys[k];
            recs[k].value = vals[k];
            if (++k == batch_n) {
                tbatch_opts_t o = *o0;
                o.ts0 = 1000 + (int64_t)fx->nmodel;
                fx_append(fx, recs, k, &o);
                k = 0;
            }
        }
    }
    if (k > 0) {
        tbatch_opts_t o = *o0;
        o.ts0 = 1000 + (int64_t)fx->nmodel;
        fx_append(fx, recs, k, &o);
    }
}

static void
fx_updates(fx_t *fx, int nkeys, int rounds, int batch_n, const tbatch_opts_t *o0)
{
    fx_updates_p(fx, "", nkeys, rounds, batch_n, o0);
}

static size_t
nsegs(fx_t *fx)
{
    size_t n;
    weir_plog_segments(fx->log, &n);
    return n;
}

static int64_t
active_base(fx_t *fx)
{
    size_t n;
    weir_segment_t *const *s = weir_plog_segments(fx->log, &n);
    return s[n - 1]->base_offset;
}

/* Closes the current active segment: appends filler records (one key no
 * test looks at) until the log rolls, so the last filler starts a new
 * active segment and everything before it is in closed segments. */
static void
fx_roll(fx_t *fx)
{
    char big[1500];
    trec_t r = {"zz-filler", big};
    tbatch_opts_t o = plain(5000);
    int64_t base = active_base(fx);

    memset(big, 'f', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    while (active_base(fx) == base)
        fx_append(fx, &r, 1, &o);
}

typedef struct done_s {
    bool done;
    int status;
} done_t;

static void
on_done(void *arg, int status)
{
    done_t *d = arg;
    d->done = true;
    d->status = status;
}

static int
fx_clean(fx_t *fx, int64_t now)
{
    done_t d = {false, 0};
    int rc = weir_cleaner_start(fx->cleaner, fx->log, now, on_done, &d);

    if (rc != 0)
        return rc;
    while (!d.done)
        uv_run(&fx->loop, UV_RUN_ONCE);
    return d.status;
}

/* Reads the whole log back through weir_plog_read, checking every batch. */
static void
fx_read_all(fx_t *fx)
{
    int64_t off = weir_plog_start_offset(fx->log), end = weir_plog_end_offset(fx->log);

    fx->ngot = fx->nbatches = 0;
    while (off < end) {
        weir_slice_t s;
        uint8_t *buf;
        size_t pos = 0;

        assert_int_equal(weir_plog_read(fx->log, off, 1 << 20, true, &s), WEIR_KERR_NONE);
        if (s.len == 0)
            break;
        buf = malloc((size_t)s.len);
        assert_int_equal(pread(s.fd, buf, (size_t)s.len, s.pos), s.len);
        while (pos < (size_t)s.len) {
            weir_batch_hdr_t h;
            weir_record_iter_t it;
            weir_record_t rec;
            rbatch_t *b = &fx->batches[fx->nbatches++];
            size_t total;

            weir_batch_hdr_decode(buf + pos, &h);
            total = weir_batch_total_size(&h);
            assert_true(pos + total <= (size_t)s.len);
            assert_int_equal(h.magic, 2);
            assert_int_equal(weir_crc32c(0, buf + pos + WEIR_BATCH_OFF_ATTRIBUTES,
                                         total - WEIR_BATCH_OFF_ATTRIBUTES),
                             h.crc);
            b->base = h.base_offset;
            b->lod = h.last_offset_delta;
            b->count = h.records_count;
            b->attr = h.attributes;
            b->pid = h.producer_id;
            b->epoch = h.producer_epoch;
            b->seq = h.base_sequence;
            b->base_ts = h.base_timestamp;
            b->max_ts = h.max_timestamp;
            assert_int_equal(weir_record_iter_init(&it, buf + pos, total, 1 << 24), 0);
            while (weir_record_iter_next(&it, &rec)) {
                rrec_t *g = &fx->got[fx->ngot++];
                assert_true(rec.offset >= h.base_offset &&
                            rec.offset <= h.base_offset + h.last_offset_delta);
                assert_true(fx->ngot == 1 || rec.offset > fx->got[fx->ngot - 2].offset);
                g->offset = rec.offset;
                g->has_key = rec.key.len >= 0;
                snprintf(g->key, sizeof(g->key), "%.*s", rec.key.len > 0 ? rec.key.len : 0,
                         rec.key.ptr ? rec.key.ptr : "");
                g->tomb = rec.value.len < 0;
                snprintf(g->value, sizeof(g->value), "%.*s", rec.value.len > 0 ? rec.value.len : 0,
                         rec.value.ptr ? rec.value.ptr : "");
                g->ts = rec.timestamp;
                g->nheaders = rec.header_count;
            }
            assert_int_equal(it.err, 0);
            weir_record_iter_free(&it);
            off = h.base_offset + h.last_offset_delta + 1;
            pos += total;
        }
        free(buf);
        weir_slice_release(&s);
    }
    assert_int_equal(off, end);
}

static const mrec_t *
model_at(const fx_t *fx, int64_t offset)
{
    for (size_t i = 0; i < fx->nmodel; i++)
        if (fx->model[i].offset == offset)
            return &fx->model[i];
    return NULL;
}

/* Whether model record m is the last one of its key below `below`. */
static bool
model_latest_below(const fx_t *fx, const mrec_t *m, int64_t below)
{
    for (size_t i = 0; i < fx->nmodel; i++) {
        const mrec_t *o = &fx->model[i];
        if (o->offset > m->offset && o->offset < below && o->has_key && strcmp(o->key, m->key) == 0)
            return false;
    }
    return true;
}

/* Every record read back is one that was appended, unchanged. */
static void
check_subset(fx_t *fx)
{
    for (size_t i = 0; i < fx->ngot; i++) {
        const rrec_t *g = &fx->got[i];
        const mrec_t *m = model_at(fx, g->offset);
        if (!m)
            fail_msg("offset %" PRId64 " read back but never appended", g->offset);
        assert_int_equal(g->has_key, m->has_key);
        assert_string_equal(g->key, m->key);
        assert_int_equal(g->tomb, m->tomb);
        assert_string_equal(g->value, m->value);
        assert_int_equal(g->ts, m->ts);
        assert_int_equal(g->nheaders, 1);
    }
}

static bool
got_has(const fx_t *fx, int64_t offset)
{
    for (size_t i = 0; i < fx->ngot; i++)
        if (fx->got[i].offset == offset)
            return true;
    return false;
}

/*
 * The exact result of cleaning everything below `cleaned` with tombstones
 * dropped when drop_tombs: below it, each key's last record (keyless ones
 * gone); from it on, everything.
 */
static void
check_cleaned(fx_t *fx, int64_t cleaned, bool drop_tombs)
{
    size_t want = 0;

    fx_read_all(fx);
    check_subset(fx);
    for (size_t i = 0; i < fx->nmodel; i++) {
        const mrec_t *m = &fx->model[i];
        bool keep;

        if (m->offset >= cleaned)
            keep = true;
        else
            keep = m->has_key && model_latest_below(fx, m, cleaned) && !(m->tomb && drop_tombs);
        if (keep != got_has(fx, m->offset))
            fail_msg("offset %" PRId64 " (key %s value %s%s) should%s be there", m->offset, m->key,
                     m->value, m->tomb ? " tombstone" : "", keep ? "" : " not");
        want += keep;
    }
    assert_int_equal(fx->ngot, want);
}

/* For every key, the latest record read back is the latest appended: what
 * a consumer reading from offset 0 ends up with, cleaning or not. */
static void
check_latest_view(fx_t *fx)
{
    fx_read_all(fx);
    check_subset(fx);
    for (size_t i = 0; i < fx->nmodel; i++) {
        const mrec_t *m = &fx->model[i];
        if (!m->has_key || !model_latest_below(fx, m, INT64_MAX))
            continue;
        if (!got_has(fx, m->offset) && !m->tomb)
            fail_msg("latest value of %s (offset %" PRId64 ") lost", m->key, m->offset);
    }
}

static int
count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    size_t m = strlen(suffix);

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l >= m && strcmp(e->d_name + l - m, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

static void
test_duplicates_across_segments(void **state)
{
    fx_t *fx = *state;
    tbatch_opts_t o = plain(0);
    weir_cleanable_t cl;
    size_t before;
    int64_t act, end, size_before;

    fx_open(fx, false);
    fx_updates(fx, 20, 12, 5, &o);
    fx_roll(fx);
    before = nsegs(fx);
    size_before = weir_plog_size_bytes(fx->log);
    act = active_base(fx);
    end = weir_plog_end_offset(fx->log);
    assert_true(before >= 4);

    assert_true(weir_cleaner_examine(fx->log, 10000, &cl));
    assert_int_equal(cl.first_dirty, 0);
    assert_int_equal(cl.first_uncleanable, act);
    assert_int_equal(cl.clean_bytes, 0);
    assert_true(cl.ratio == 1.0);
    assert_true(cl.eligible);

    assert_int_equal(fx_clean(fx, 10000), 0);
    check_cleaned(fx, act, false);
    /* Each key once below the active segment: 20 keys + 1 filler. */
    for (size_t i = 0; i < fx->ngot; i++)
        if (fx->got[i].offset < act)
            assert_true(strcmp(fx->got[i].key, "zz-filler") == 0 ||
                        fx->got[i].value[1] == '1'); /* "v11-k.." */
    /* Groups are formed by the sizes before cleaning (Kafka's rule): full
     * segments are rewritten one by one, and merged by the next cleaning. */
    assert_true(weir_plog_size_bytes(fx->log) < size_before / 4);
    assert_int_equal(nsegs(fx), before);
    assert_int_equal(fx_clean(fx, 10000), 0);
    assert_true(nsegs(fx) <= 2);
    check_cleaned(fx, act, false);
    assert_int_equal(weir_plog_end_offset(fx->log), end);
    assert_int_equal(weir_plog_start_offset(fx->log), 0);
    assert_int_equal(weir_plog_clean_state(fx->log)->first_dirty, act);
    assert_int_equal(count_files(fx->pdir, ".cleaned"), 0);
    assert_int_equal(count_files(fx->pdir, ".swap"), 0);

    /* Nothing is dirty any more. */
    assert_true(weir_cleaner_examine(fx->log, 10000, &cl));
    assert_int_equal(cl.dirty_bytes, 0);
    assert_false(cl.eligible);

    /* Every offset reads: a removed one continues at the next batch. */
    for (int64_t off = 0; off < end; off++) {
        weir_slice_t s;
        uint8_t hdr[WEIR_BATCH_HDR_SIZE];
        weir_batch_hdr_t h;

        assert_int_equal(weir_plog_read(fx->log, off, 1 << 20, true, &s), WEIR_KERR_NONE);
        assert_true(s.len > 0);
        assert_int_equal(pread(s.fd, hdr, sizeof(hdr), s.pos), sizeof(hdr));
        weir_batch_hdr_decode(hdr, &h);
        assert_true(h.base_offset + h.last_offset_delta >= off);
        weir_slice_release(&s);
    }

    /* The cleaned segments and their indexes load back (clean and crash). */
    fx_reopen(fx, false);
    check_cleaned(fx, act, false);
    assert_int_equal(weir_plog_clean_state(fx->log)->first_dirty, act);
    fx_reopen(fx, true);
    check_cleaned(fx, act, false);

    /* New updates: a second cleaning folds them in. */
    fx_updates(fx, 20, 3, 7, &o);
    fx_roll(fx);
    act = active_base(fx);
    assert_int_equal(fx_clean(fx, 20000), 0);
    check_cleaned(fx, act, false);
}

static void
test_tombstones_and_delete_retention(void **state)
{
    fx_t *fx = *state;
    tbatch_opts_t o = plain(100);
    trec_t r1[] = {{"a", "a1"}, {"b", "b1"}, {"c", "c1"}};
    trec_t r2[] = {{"b", NULL}, {"c", "c2"}};
    weir_cleanable_t cl;
    int64_t act, tomb_off = -1;

    fx->cfg.delete_retention_ms = 1000;
    fx_open(fx, false);
    fx_append(fx, r1, 3, &o);
    o.ts0 = 200;
    fx_append(fx, r2, 2, &o);
    fx_roll(fx);
    act = active_base(fx);

    /* First cleaning: b1 goes, the tombstone stays with a horizon. */
    assert_int_equal(fx_clean(fx, 50000), 0);
    check_cleaned(fx, act, false);
    for (size_t i = 0; i < fx->nbatches; i++) {
        if (fx->batches[i].base == 3) {
            assert_true(fx->batches[i].attr & WEIR_BATCH_ATTR_DELETE_HORIZON);
            assert_int_equal(fx->batches[i].base_ts, 51000);
            assert_int_equal(fx->batches[i].lod, 1);
            assert_int_equal(fx->batches[i].count, 2);
        }
    }
    for (size_t i = 0; i < fx->ngot; i++)
        if (fx->got[i].tomb)
            tomb_off = fx->got[i].offset;
    assert_int_equal(tomb_off, 3);
    assert_int_equal(weir_plog_clean_state(fx->log)->horizon_ms, 51000);

    /* Not due before the horizon, due at it. */
    assert_true(weir_cleaner_examine(fx->log, 50999, &cl));
    assert_false(cl.tombstones_due);
    assert_false(cl.eligible);
    assert_true(weir_cleaner_examine(fx->log, 51000, &cl));
    assert_true(cl.tombstones_due);
    assert_true(cl.eligible);

    /* A cleaning before the horizon keeps it (the horizon survives a
     * reopen: it is in the checkpoint and in the batch). */
    fx_reopen(fx, true);
    assert_int_equal(weir_plog_clean_state(fx->log)->horizon_ms, 51000);
    assert_int_equal(fx_clean(fx, 50500), 0);
    check_cleaned(fx, act, false);
    assert_true(got_has(fx, 3));

    /* After it, the tombstone is gone; a second tombstone appended later
     * starts its own horizon. */
    {
        trec_t r3[] = {{"a", NULL}};
        o.ts0 = 300;
        fx_append(fx, r3, 1, &o);
        fx_roll(fx);
        act = active_base(fx);
    }
    assert_int_equal(fx_clean(fx, 51000), 0);
    fx_read_all(fx);
    check_subset(fx);
    assert_false(got_has(fx, 3)); /* b's tombstone: expired */
    assert_false(got_has(fx, 1)); /* b1 */
    assert_false(got_has(fx, 0)); /* a1, superseded by a's tombstone */
    assert_true(got_has(fx, 4));  /* c2 */
    for (size_t i = 0; i < fx->ngot; i++)
        if (fx->got[i].offset < act && fx->got[i].tomb)
            assert_string_equal(fx->got[i].key, "a");
    assert_int_equal(weir_plog_clean_state(fx->log)->horizon_ms, 52000);
    assert_int_equal(fx_clean(fx, 52000), 0);
    fx_read_all(fx);
    for (size_t i = 0; i < fx->ngot; i++)
        assert_false(fx->got[i].tomb);
    assert_int_equal(weir_plog_clean_state(fx->log)->horizon_ms, INT64_MAX);
}

static void
test_tail_stays_reachable(void **state)
{
    fx_t *fx = *state;
    trec_t r1[] = {{"a", "a1"}, {"b", "b1"}};
    trec_t r2[] = {{"a", NULL}, {"b", NULL}};
    tbatch_opts_t o = plain(100);
    int64_t end;

    fx->cfg.delete_retention_ms = 10;
    fx_open(fx, false);
    fx_append(fx, r1, 2, &o);
    fx_append(fx, r2, 2, &o);
    end = weir_plog_end_offset(fx->log);
    /* Rolled by time while idle: the active segment is empty. */
    fx->cfg.segment_ms = 1;
    weir_plog_set_config(fx->log, &fx->cfg);
    weir_plog_enforce_retention(fx->log, 10000);
    assert_int_equal(active_base(fx), end);
    assert_int_equal(fx_clean(fx, 10000), 0);
    check_cleaned(fx, end, false);
    /* The tombstones expire: no record is left at all, but the last batch
     * stays, empty, so that fetching from 0 reaches the end offset (what
     * fx_read_all checks). */
    assert_int_equal(fx_clean(fx, 20000), 0);
    check_cleaned(fx, end, true);
    assert_int_equal(fx->ngot, 0);
    assert_int_equal(fx->nbatches, 1);
    assert_int_equal(fx->batches[0].base, 2);
    assert_int_equal(fx->batches[0].lod, 1);
    assert_int_equal(fx->batches[0].count, 0);
    /* Appends go on; the next cleaning drops the old empty batch. */
    fx->cfg.segment_ms = INT64_MAX;
    weir_plog_set_config(fx->log, &fx->cfg);
    fx_append(fx, r1, 2, &o);
    fx_roll(fx);
    assert_int_equal(fx_clean(fx, 30000), 0);
    check_cleaned(fx, active_base(fx), true);
    for (size_t i = 0; i < fx->nbatches; i++)
        assert_true(fx->batches[i].count > 0);
    fx_reopen(fx, true);
    check_cleaned(fx, active_base(fx), true);
}

static void
test_compressed_batches(void **state)
{
    fx_t *fx = *state;
    const weir_codec_t codecs[] = {WEIR_CODEC_GZIP, WEIR_CODEC_SNAPPY, WEIR_CODEC_LZ4,
                                   WEIR_CODEC_ZSTD};
    int64_t act;

    fx->cfg.segment_bytes = 4096;
    fx_open(fx, false);
    for (size_t c = 0; c < WEIR_ARRAY_SIZE(codecs); c++) {
        tbatch_opts_t o = plain(0);
        char prefix[8];
        o.codec = codecs[c];
        snprintf(prefix, sizeof(prefix), "c%d-", (int)codecs[c]);
        /* 7 keys in batches of 10: the last round straddles a batch. */
        fx_updates_p(fx, prefix, 7, 6, 10, &o);
    }
    fx_roll(fx);
    act = active_base(fx);
    assert_int_equal(fx_clean(fx, 1000), 0);
    check_cleaned(fx, act, false);
    /* Every codec has a batch rewritten (fewer records than offsets) in that
     * codec, and its records decode to what was written. */
    {
        int rewritten[5] = {0};
        for (size_t i = 0; i < fx->nbatches; i++) {
            if (fx->batches[i].count > 0 && fx->batches[i].count != fx->batches[i].lod + 1)
                rewritten[fx->batches[i].attr & WEIR_BATCH_ATTR_COMPRESSION_MASK]++;
        }
        for (size_t c = 0; c < WEIR_ARRAY_SIZE(codecs); c++)
            if (rewritten[codecs[c]] == 0)
                fail_msg("no batch rewritten with codec %d", (int)codecs[c]);
    }
    fx_reopen(fx, true);
    check_cleaned(fx, act, false);
}

static void
test_producer_last_batch_kept_empty(void **state)
{
    fx_t *fx = *state;
    trec_t p1[] = {{"x", "x1"}, {"y", "y1"}};
    trec_t p2[] = {{"x", "x2"}, {"y", "y2"}};
    trec_t t1[] = {{"t", "t1"}, {"u", "u1"}};
    trec_t later[] = {{"x", "x3"}, {"y", "y3"}, {"t", "t2"}};
    tbatch_opts_t idem = {WEIR_CODEC_NONE, 7, 0, 0, 0, 100};
    tbatch_opts_t txn = {WEIR_CODEC_LZ4, 9, 0, 0, WEIR_BATCH_ATTR_TRANSACTIONAL, 100};
    tbatch_opts_t o = plain(300);
    int64_t act, last_p;
    bool found_empty = false;

    char snap[PATH_MAX + 64];
    uint8_t snapdata[4096];
    ssize_t snaplen;
    int fd;

    fx->cfg.segment_bytes = 8192;
    fx_open(fx, false);
    /* The producer's batches go into segment 1, after a snapshot taken when
     * segment 1 started (it knows no producer); keep that snapshot. */
    fx_roll(fx);
    snprintf(snap, sizeof(snap), "%s/%020" PRId64 ".snapshot", fx->pdir, active_base(fx));
    fd = open(snap, O_RDONLY);
    assert_true(fd >= 0);
    snaplen = read(fd, snapdata, sizeof(snapdata));
    assert_true(snaplen > 0);
    close(fd);
    fx_append(fx, p1, 2, &idem);
    idem.seq = 2;
    last_p = fx_append(fx, p2, 2, &idem) + 1;
    fx_append(fx, t1, 2, &txn);
    fx_append(fx, later, 3, &o);
    fx_roll(fx);
    act = active_base(fx);

    assert_int_equal(fx_clean(fx, 1000), 0);
    check_cleaned(fx, act, false);
    for (size_t i = 0; i < fx->nbatches; i++) {
        const rbatch_t *b = &fx->batches[i];
        if (b->pid == 7) {
            /* Only producer 7's last batch remains, without records but
             * with its offsets and sequence. */
            assert_int_equal(b->base + b->lod, last_p);
            assert_int_equal(b->count, 0);
            assert_int_equal(b->seq, 2);
            assert_int_equal(b->lod, 1);
            assert_int_equal(b->epoch, 0);
            found_empty = true;
        }
        if (b->pid == 9) {
            /* The transactional batch (no markers) is data like any other:
             * t1 is superseded, u1 stays; it keeps its flags and codec. */
            assert_int_equal(b->count, 1);
            assert_true(b->attr & WEIR_BATCH_ATTR_TRANSACTIONAL);
            assert_int_equal(b->attr & WEIR_BATCH_ATTR_COMPRESSION_MASK, WEIR_CODEC_LZ4);
        }
    }
    assert_true(found_empty);

    /* The producer goes on where it was, after a restart that must replay
     * the cleaned segment 1: only the old snapshot is left. */
    fx_close(fx);
    {
        DIR *d = opendir(fx->pdir);
        struct dirent *e;
        char path[PATH_MAX + 300];
        while ((e = readdir(d)) != NULL) {
            if (strstr(e->d_name, ".snapshot")) {
                snprintf(path, sizeof(path), "%s/%s", fx->pdir, e->d_name);
                unlink(path);
            }
        }
        closedir(d);
    }
    fd = open(snap, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, snapdata, (size_t)snaplen), snaplen);
    close(fd);
    fx_open(fx, true);
    {
        trec_t n1[] = {{"x", "x4"}};
        idem.seq = 4;
        idem.ts0 = 400;
        fx_append(fx, n1, 1, &idem);
    }
    check_latest_view(fx);
}

static void
test_empty_results_and_gaps(void **state)
{
    fx_t *fx = *state;
    char val[600];
    tbatch_opts_t o = plain(0);
    int64_t act, end;
    weir_segment_t *const *segs;
    size_t n;
    bool saw_empty = false;

    memset(val, 'q', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    fx_open(fx, false);
    /* Three segments of the same three keys, then one with new values. */
    for (int s = 0; s < 4; s++) {
        for (int i = 0; i < 3; i++) {
            char key[8];
            trec_t r = {key, val};
            snprintf(key, sizeof(key), "e%d", i);
            val[0] = (char)('0' + s);
            fx_append(fx, &r, 1, &o);
        }
    }
    fx_roll(fx);
    act = active_base(fx);
    end = weir_plog_end_offset(fx->log);
    assert_int_equal(fx_clean(fx, 1000), 0);
    check_cleaned(fx, act, false);

    /* Segments that lost everything stay, empty, with their base offsets. */
    segs = weir_plog_segments(fx->log, &n);
    for (size_t i = 0; i + 1 < n; i++) {
        if (segs[i]->size == 0) {
            weir_slice_t s;
            uint8_t hdr[WEIR_BATCH_HDR_SIZE];
            weir_batch_hdr_t h;
            saw_empty = true;
            /* A fetch in the gap continues at the next batch. */
            assert_int_equal(weir_plog_read(fx->log, segs[i]->base_offset, 1 << 20, true, &s),
                             WEIR_KERR_NONE);
            assert_true(s.len > 0);
            assert_int_equal(pread(s.fd, hdr, sizeof(hdr), s.pos), sizeof(hdr));
            weir_batch_hdr_decode(hdr, &h);
            assert_true(h.base_offset > segs[i]->base_offset);
            weir_slice_release(&s);
        }
    }
    assert_true(saw_empty);
    assert_int_equal(weir_plog_start_offset(fx->log), 0);
    fx_reopen(fx, true);
    assert_int_equal(weir_plog_start_offset(fx->log), 0);
    assert_int_equal(weir_plog_end_offset(fx->log), end);
    check_cleaned(fx, act, false);
    /* Cleaning again merges the empty segments with their neighbours. */
    assert_int_equal(fx_clean(fx, 2000), 0);
    check_cleaned(fx, act, false);
}

static void
test_offset_map_full(void **state)
{
    fx_t *fx = *state;
    tbatch_opts_t o = plain(0);
    int64_t act, prev = -1;
    int rounds = 0;

    /* Room for 36 keys; 100 distinct keys updated twice. */
    fx->ccfg.dedupe_buffer_size = 24 * 40;
    fx->cfg.segment_bytes = 4096;
    fx_open(fx, false);
    fx_updates(fx, 50, 2, 10, &o);
    {
        char keys[50][16];
        trec_t recs[50];
        for (int i = 0; i < 50; i++) {
            snprintf(keys[i], sizeof(keys[i]), "m%d", i);
            recs[i].key = keys[i];
            recs[i].value = "mv";
        }
        for (int r = 0; r < 2; r++)
            for (int i = 0; i < 50; i += 10)
                fx_append(fx, recs + i, 10, &o);
    }
    fx_roll(fx);
    act = active_base(fx);
    while (weir_plog_clean_state(fx->log)->first_dirty < act) {
        int64_t fd = weir_plog_clean_state(fx->log)->first_dirty;
        assert_true(fd > prev);
        prev = fd;
        assert_int_equal(fx_clean(fx, 1000), 0);
        check_latest_view(fx);
        assert_true(++rounds < 20);
    }
    assert_true(rounds >= 3); /* the map never held all the keys */
    /* One more pass over the now clean log: exact result. */
    assert_int_equal(fx_clean(fx, 1000), 0);
    check_cleaned(fx, act, false);
}

static void
test_keyless_refused(void **state)
{
    fx_t *fx = *state;
    trec_t keyless[] = {{"k", "v"}, {NULL, "v"}};
    trec_t keyed[] = {{"k", "v"}};
    weir_append_result_t res;
    weir_wbuf_t w;

    fx_open(fx, false);
    for (int c = 0; c <= WEIR_CODEC_ZSTD; c++) {
        tbatch_opts_t o = plain(0);
        o.codec = (weir_codec_t)c;
        weir_wbuf_init(&w, 256);
        tbatch(&w, keyless, 2, &o);
        assert_int_equal(weir_plog_append(fx->log, w.data, w.len, 0, &res),
                         WEIR_KERR_INVALID_RECORD);
        weir_wbuf_free(&w);
    }
    /* A request with a good batch and a keyless one: nothing appended. */
    weir_wbuf_init(&w, 256);
    tbatch(&w, keyed, 1, &(tbatch_opts_t){WEIR_CODEC_NONE, -1, -1, -1, 0, 0});
    tbatch(&w, keyless, 2, &(tbatch_opts_t){WEIR_CODEC_NONE, -1, -1, -1, 0, 0});
    assert_int_equal(weir_plog_append(fx->log, w.data, w.len, 0, &res), WEIR_KERR_INVALID_RECORD);
    weir_wbuf_free(&w);
    assert_int_equal(weir_plog_end_offset(fx->log), 0);
    /* Records whose compressed section does not decode are corrupt. */
    weir_wbuf_init(&w, 256);
    tbatch(&w, keyed, 1, &(tbatch_opts_t){WEIR_CODEC_NONE, -1, -1, -1, 0, 0});
    weir_put_be16(w.data + WEIR_BATCH_OFF_ATTRIBUTES, WEIR_CODEC_GZIP);
    weir_put_be32(w.data + WEIR_BATCH_OFF_CRC, weir_crc32c(0, w.data + WEIR_BATCH_OFF_ATTRIBUTES,
                                                           w.len - WEIR_BATCH_OFF_ATTRIBUTES));
    assert_int_equal(weir_plog_append(fx->log, w.data, w.len, 0, &res), WEIR_KERR_CORRUPT_MESSAGE);
    weir_wbuf_free(&w);
    fx_append(fx, keyed, 1, &(tbatch_opts_t){WEIR_CODEC_NONE, -1, -1, -1, 0, 0});

    /* The delete policy takes keyless records. */
    fx->cfg.compact = false;
    weir_plog_set_config(fx->log, &fx->cfg);
    weir_wbuf_init(&w, 256);
    tbatch(&w, keyless, 2, &(tbatch_opts_t){WEIR_CODEC_NONE, -1, -1, -1, 0, 0});
    assert_int_equal(weir_plog_append(fx->log, w.data, w.len, 0, &res), WEIR_KERR_NONE);
    weir_wbuf_free(&w);
    /* ... and the cleaner leaves a log that is not compacted alone. */
    assert_int_equal(weir_cleaner_start(fx->cleaner, fx->log, 0, NULL, NULL), -EINVAL);
}

static void
test_keyless_dropped_by_cleaner(void **state)
{
    fx_t *fx = *state;
    trec_t keyless[] = {{"k", "v1"}, {NULL, "loose"}};
    tbatch_opts_t o = plain(0);
    int64_t act;

    /* Written while the topic was not compacted, then cleaned: Kafka drops
     * keyless records. */
    fx->cfg.compact = false;
    fx_open(fx, false);
    fx_append(fx, keyless, 2, &o);
    fx_roll(fx);
    fx->cfg.compact = true;
    weir_plog_set_config(fx->log, &fx->cfg);
    act = active_base(fx);
    assert_int_equal(fx_clean(fx, 1000), 0);
    check_cleaned(fx, act, false);
    assert_false(got_has(fx, 1));
}

static void
test_scheduling(void **state)
{
    fx_t *fx = *state;
    tbatch_opts_t o = plain(0);
    weir_cleanable_t cl;
    weir_segment_t *const *segs;
    size_t n;
    int64_t now = 1000000;

    fx->cfg.min_cleanable_ratio = 0.9;
    fx_open(fx, false);
    fx_updates(fx, 10, 6, 5, &o);
    fx_roll(fx);
    assert_int_equal(fx_clean(fx, now), 0);
    /* A little new data (timestamps 5000): below the ratio, not eligible. */
    {
        trec_t r[] = {{"k1", "new1"}, {"k2", "new2"}};
        o.ts0 = 5000;
        fx_append(fx, r, 2, &o);
    }
    fx_roll(fx);
    assert_true(weir_cleaner_examine(fx->log, now, &cl));
    assert_true(cl.dirty_bytes > 0 && cl.clean_bytes > 0);
    assert_true(cl.ratio < 0.9);
    assert_false(cl.eligible);
    assert_false(cl.lag_exceeded);

    /* max.compaction.lag.ms: the oldest dirty segment is too old. */
    fx->cfg.max_compaction_lag_ms = 10;
    weir_plog_set_config(fx->log, &fx->cfg);
    assert_true(weir_cleaner_examine(fx->log, now, &cl));
    assert_true(cl.lag_exceeded);
    assert_true(cl.eligible);
    fx->cfg.max_compaction_lag_ms = 0;

    /* min.compaction.lag.ms: segments with records newer than the lag are
     * uncleanable. */
    fx->cfg.min_cleanable_ratio = 0.0;
    fx->cfg.min_compaction_lag_ms = 1000;
    weir_plog_set_config(fx->log, &fx->cfg);
    segs = weir_plog_segments(fx->log, &n);
    assert_true(weir_cleaner_examine(fx->log, 5500, &cl));
    assert_true(cl.first_uncleanable < segs[n - 1]->base_offset);
    assert_int_equal(cl.dirty_bytes, 0);
    assert_false(cl.eligible);
    assert_true(weir_cleaner_examine(fx->log, now, &cl));
    assert_int_equal(cl.first_uncleanable, segs[n - 1]->base_offset);
    assert_true(cl.eligible);

    /* A round starts a job for the eligible log, and none while it runs. */
    assert_true(weir_cleaner_round_begin(fx->cleaner, now));
    weir_cleaner_offer(fx->cleaner, fx->log, now);
    weir_cleaner_round_end(fx->cleaner, now);
    assert_non_null(weir_plog_clean_state(fx->log)->job);
    assert_false(weir_cleaner_round_begin(fx->cleaner, now)); /* the one thread is busy */
    assert_int_equal(weir_cleaner_start(fx->cleaner, fx->log, now, NULL, NULL), -EBUSY);
    while (weir_plog_clean_state(fx->log)->job)
        uv_run(&fx->loop, UV_RUN_ONCE);
    {
        weir_clean_stats_t st;
        weir_cleaner_stats(fx->cleaner, &st);
        assert_int_equal(st.jobs_done, 2);
        assert_true(st.bytes_read > 0 && st.bytes_written > 0);
        assert_true(st.records_kept < st.records_read);
    }
    /* Nothing left: the round finds nothing and backs off. */
    fx->ccfg.backoff_ms = 100;
    weir_cleaner_free(fx->cleaner);
    fx->cleaner = weir_cleaner_new(&fx->loop, &fx->ccfg);
    assert_true(weir_cleaner_round_begin(fx->cleaner, now));
    weir_cleaner_offer(fx->cleaner, fx->log, now);
    weir_cleaner_round_end(fx->cleaner, now);
    assert_null(weir_plog_clean_state(fx->log)->job);
    assert_false(weir_cleaner_round_begin(fx->cleaner, now + 50));
    assert_true(weir_cleaner_round_begin(fx->cleaner, now + 100));
}

static void
test_slice_survives_swap(void **state)
{
    fx_t *fx = *state;
    tbatch_opts_t o = plain(0);
    weir_slice_t s;
    uint8_t *before, *after;

    fx->cfg.file_delete_delay_ms = 0;
    fx_open(fx, false);
    fx_updates(fx, 5, 10, 5, &o);
    fx_roll(fx);
    assert_int_equal(weir_plog_read(fx->log, 0, 1 << 20, true, &s), WEIR_KERR_NONE);
    before = malloc((size_t)s.len);
    after = malloc((size_t)s.len);
    assert_int_equal(pread(s.fd, before, (size_t)s.len, s.pos), s.len);
    assert_int_equal(fx_clean(fx, 1000), 0);
    /* Let the deletion of the old files run. */
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    usleep(20000);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    /* The fetch in flight still reads the old bytes. */
    assert_int_equal(pread(s.fd, after, (size_t)s.len, s.pos), s.len);
    assert_memory_equal(before, after, (size_t)s.len);
    weir_slice_release(&s);
    free(before);
    free(after);
    check_cleaned(fx, active_base(fx), false);
}

static void
test_close_and_delete_during_cleaning(void **state)
{
    fx_t *fx = *state;
    tbatch_opts_t o = plain(0);
    done_t d = {false, 0};
    struct stat st;

    /* Throttled hard: the job waits between steps when the log closes. */
    fx->ccfg.io_max_bytes_per_sec = 1000;
    fx_open(fx, false);
    fx_updates(fx, 30, 20, 10, &o);
    fx_roll(fx);
    assert_int_equal(weir_cleaner_start(fx->cleaner, fx->log, 1000, on_done, &d), 0);
    for (int i = 0; i < 5; i++)
        uv_run(&fx->loop, UV_RUN_NOWAIT);
    weir_plog_close(fx->log);
    fx->log = NULL;
    while (!d.done)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(d.status, UV_ECANCELED);
    assert_int_equal(count_files(fx->pdir, ".cleaned"), 0);

    /* Reopened: everything is there, unchanged. */
    fx_open(fx, true);
    fx_read_all(fx);
    check_subset(fx);
    assert_int_equal(fx->ngot, fx->nmodel);

    /* Deleted while cleaning: the directory goes once the job has let go. */
    d.done = false;
    assert_int_equal(weir_cleaner_start(fx->cleaner, fx->log, 1000, on_done, &d), 0);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    weir_plog_delete(fx->log);
    fx->log = NULL;
    while (!d.done)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(stat(fx->pdir, &st), -1);
    {
        DIR *dd = opendir(fx->dir);
        struct dirent *e;
        int left = 0;
        while ((e = readdir(dd)) != NULL)
            left += e->d_name[0] != '.';
        closedir(dd);
        assert_int_equal(left, 0);
    }
}

static void
test_throttle(void **state)
{
    fx_t *fx = *state;
    tbatch_opts_t o = plain(0);
    weir_clean_stats_t st;
    int64_t t0;
    double secs;

    /* About 60 KB read and written at 200 KB/s: most of a second. */
    fx->ccfg.io_max_bytes_per_sec = 200000;
    fx->cfg.segment_bytes = 16384;
    fx_open(fx, false);
    fx_updates(fx, 40, 15, 20, &o);
    fx_roll(fx);
    t0 = weir_mono_ms();
    assert_int_equal(fx_clean(fx, 1000), 0);
    secs = (double)(weir_mono_ms() - t0) / 1000.0;
    weir_cleaner_stats(fx->cleaner, &st);
    /* Map pass + rewrite: at least the bytes read twice, minus one step's
     * worth that goes before the first wait. */
    assert_true(secs >= ((double)st.bytes_read * 2 - 64 * 1024) / 200000.0 * 0.9);
    check_cleaned(fx, active_base(fx), false);
}

static void
test_config_keys(void **state)
{
    weir_conf_t c;
    weir_kvlist_t ov = {0};
    weir_log_config_t lc;
    const char *name;
    char err[256], value[128];
    bool is_default, sensitive;
    bool seen_io = false;

    (void)state;
    weir_conf_defaults(&c);
    assert_true(c.log_cleaner_enable);
    assert_int_equal(c.log_cleaner_threads, 1);
    assert_true(c.log_cleaner_io_max_bytes_per_second > 1e307);
    assert_true(c.log_cleaner_min_cleanable_ratio == 0.5);
    assert_int_equal(c.log_cleaner_delete_retention_ms, 86400000);
    assert_int_equal(c.log_cleaner_backoff_ms, 15000);
    assert_int_equal(c.log_cleaner_dedupe_buffer_size, 134217728);
    assert_true(c.log_cleaner_max_compaction_lag_ms == INT64_MAX);

    /* Doubles: a number in range, no hex, infinity or NaN. */
    assert_int_equal(weir_conf_set(&c, "log.cleaner.min.cleanable.ratio", "0.25", err, sizeof(err)),
                     0);
    assert_true(c.log_cleaner_min_cleanable_ratio == 0.25);
    assert_int_equal(weir_conf_set(&c, "log.cleaner.min.cleanable.ratio", "1.5", err, sizeof(err)),
                     -1);
    assert_string_equal(err, "must be a number between 0 and 1 (got \"1.5\")");
    assert_int_equal(
        weir_conf_set(&c, "log.cleaner.min.cleanable.ratio", "0x1p-2", err, sizeof(err)), -1);
    assert_int_equal(
        weir_conf_set(&c, "log.cleaner.io.max.bytes.per.second", "inf", err, sizeof(err)), -1);
    assert_int_equal(
        weir_conf_set(&c, "log.cleaner.io.max.bytes.per.second", "0", err, sizeof(err)), -1);
    assert_int_equal(
        weir_conf_set(&c, "log.cleaner.io.max.bytes.per.second", "5e7", err, sizeof(err)), 0);
    assert_true(c.log_cleaner_io_max_bytes_per_second == 5e7);
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), 0);
    for (size_t i = 0;
         weir_conf_describe(&c, i, &name, value, sizeof(value), &is_default, &sensitive); i++) {
        if (strcmp(name, "log.cleaner.io.max.bytes.per.second") == 0) {
            assert_string_equal(value, "50000000");
            assert_false(is_default);
            seen_io = true;
        }
        if (strcmp(name, "log.cleaner.min.cleanable.ratio") == 0)
            assert_string_equal(value, "0.25");
    }
    assert_true(seen_io);

    /* Topics take the broker's cleaner defaults unless they override them. */
    weir_kvlist_set(&ov, "cleanup.policy", "compact");
    weir_topic_config_resolve(&c, &ov, &lc);
    assert_true(lc.compact && lc.no_delete);
    assert_true(lc.min_cleanable_ratio == 0.25);
    weir_kvlist_free(&ov);
    weir_conf_free(&c);
}

/* ------------------------------------------------------------------------
 * Crash at each step, in a child process
 * ------------------------------------------------------------------------ */

static const char *crash_step;
static int crash_nth, crash_seen;

static void
crash_hook(const char *step, int64_t base)
{
    (void)base;
    if (strcmp(step, crash_step) == 0 && ++crash_seen == crash_nth)
        _exit(77);
}

static weir_log_config_t
crash_cfg(void)
{
    weir_log_config_t c = compact_cfg();
    c.segment_bytes = 2048;
    return c;
}

static int
crash_child(const char *pdir, const char *step, int nth)
{
    uv_loop_t loop;
    weir_log_config_t cfg = crash_cfg();
    weir_cleaner_conf_t cc = {true, 1, 0, 0, 1 << 20};
    weir_plog_t *log;
    weir_cleaner_t *c;
    char err[256];
    done_t d = {false, 0};

    uv_loop_init(&loop);
    if (weir_plog_open(&loop, pdir, &cfg, false, &log, err, sizeof(err)) != 0)
        return 2;
    c = weir_cleaner_new(&loop, &cc);
    crash_step = step;
    crash_nth = nth;
    weir_cleaner_step_hook = crash_hook;
    if (weir_cleaner_start(c, log, 10000, on_done, &d) != 0)
        return 3;
    while (!d.done)
        uv_run(&loop, UV_RUN_ONCE);
    return 4; /* the step was never reached */
}

static void
run_crash_case(fx_t *fx, const char *step, int nth)
{
    char self[PATH_MAX], nthbuf[16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    tbatch_opts_t o = plain(0);
    pid_t pid;
    int status;
    int64_t act;

    assert_true(n > 0);
    self[n] = '\0';
    fx->cfg = crash_cfg();
    fx_open(fx, false);
    fx_updates(fx, 12, 15, 6, &o);
    {
        trec_t t[] = {{"k3", NULL}, {"k4", NULL}};
        o.ts0 = 9000;
        fx_append(fx, t, 2, &o);
    }
    fx_roll(fx);
    act = active_base(fx);
    fx_close(fx);

    snprintf(nthbuf, sizeof(nthbuf), "%d", nth);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(self, self, "--crash-child", fx->pdir, step, nthbuf, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 77)
        fail_msg("child for step %s #%d exited %d", step, nth, WEXITSTATUS(status));

    /* Recovery: never a loss, never a mix; then a cleaning completes. */
    fx_open(fx, true);
    assert_int_equal(count_files(fx->pdir, ".cleaned"), 0);
    assert_int_equal(count_files(fx->pdir, ".swap"), 0);
    assert_int_equal(weir_plog_end_offset(fx->log), fx->model[fx->nmodel - 1].offset + 1);
    check_latest_view(fx);
    fx_reopen(fx, false);
    check_latest_view(fx);
    assert_int_equal(fx_clean(fx, 10000), 0);
    check_cleaned(fx, act, false);
    fx_close(fx);
    /* Next case starts from scratch. */
    nftw(fx->pdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    fx->nmodel = 0;
}

static void
test_crash_at_every_step(void **state)
{
    fx_t *fx = *state;
    static const struct {
        const char *step;
        int nth;
    } cases[] = {
        {"map", 1},
        {"clean", 1},
        {"clean", 2},
        {"cleaned_written", 1},
        {"cleaned_written", 3},
        {"swap_renamed", 1}, /* first group committed, the others not */
        {"swap_renamed", 2},
        {"install_retired", 1},
        {"install_swapped", 1},
        {"install_retired", 3},
        {"install_swapped", 3},
    };

    for (size_t i = 0; i < WEIR_ARRAY_SIZE(cases); i++)
        run_crash_case(fx, cases[i].step, cases[i].nth);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_duplicates_across_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstones_and_delete_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tail_stays_reachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compressed_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_producer_last_batch_kept_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_results_and_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offset_map_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyless_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyless_dropped_by_cleaner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scheduling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slice_survives_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_and_delete_during_cleaning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throttle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_at_every_step, setup, teardown),
        cmocka_unit_test(test_config_keys),
    };

    if (argc == 5 && strcmp(argv[1], "--crash-child") == 0)
        return crash_child(argv[2], argv[3], atoi(argv[4]));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
