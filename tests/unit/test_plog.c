/*
 * test_plog.c: the partition log on a real directory and a real libuv loop -
 * append/read, offsets, rolling, the sparse indexes, retention, recovery of
 * torn/corrupt tails and bad indexes, LogAppendTime, idempotent producers,
 * group-committed sync, ListOffsets by time and partition deletion.
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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "weir_batch.h"
#include "weir_buf.h"
#include "weir_common.h"
#include "weir_plog.h"

/* ------------------------------------------------------------------------
 * Batch builder
 * ------------------------------------------------------------------------ */

typedef struct tb_opts_s {
    int64_t pid;
    int16_t epoch;
    int32_t seq;
    int nrec;
    int64_t ts0;     /* first record's timestamp */
    int64_t ts_step; /* timestamp delta between records */
    size_t vlen;     /* value bytes per record */
} tb_opts_t;

static tb_opts_t
tb(int nrec, int64_t ts0)
{
    tb_opts_t o = {-1, -1, -1, nrec, ts0, 1, 20};
    return o;
}

static tb_opts_t
tb_idem(int64_t pid, int16_t epoch, int32_t seq, int nrec)
{
    tb_opts_t o = {pid, epoch, seq, nrec, 1000, 1, 20};
    return o;
}

/* Appends a valid magic-v2 batch to w; returns its size. */
static size_t
tb_build(weir_wbuf_t *w, const tb_opts_t *o)
{
    size_t start = w->len;
    uint8_t hdr[WEIR_BATCH_HDR_SIZE] = {0};
    int64_t max_ts = -1;
    uint8_t *p;

    weir_wr_raw(w, hdr, sizeof(hdr));
    for (int i = 0; i < o->nrec; i++) {
        weir_wbuf_t r;
        int64_t ts = o->ts0 + (int64_t)i * o->ts_step;
        weir_wbuf_init(&r, 64);
        weir_wr_i8(&r, 0);
        weir_wr_varlong(&r, ts - o->ts0);
        weir_wr_varint(&r, i);
        weir_wr_varint(&r, -1);
        weir_wr_varint(&r, (int32_t)o->vlen);
        for (size_t k = 0; k < o->vlen; k++)
            weir_wr_i8(&r, (int8_t)('a' + (i + k) % 26));
        weir_wr_varint(&r, 0);
        weir_wr_varint(w, (int32_t)r.len);
        weir_wr_raw(w, r.data, r.len);
        weir_wbuf_free(&r);
        if (ts > max_ts)
            max_ts = ts;
    }
    p = w->data + start;
    weir_put_be32(p + WEIR_BATCH_OFF_LENGTH, (uint32_t)(w->len - start - 12));
    weir_put_be32(p + WEIR_BATCH_OFF_LEADER_EPOCH, (uint32_t)-1);
    p[WEIR_BATCH_OFF_MAGIC] = 2;
    weir_put_be32(p + WEIR_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(o->nrec - 1));
    weir_put_be64(p + WEIR_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)o->ts0);
    weir_put_be64(p + WEIR_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)max_ts);
    weir_put_be64(p + WEIR_BATCH_OFF_PRODUCER_ID, (uint64_t)o->pid);
    weir_put_be16(p + WEIR_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)o->epoch);
    weir_put_be32(p + WEIR_BATCH_OFF_BASE_SEQUENCE, (uint32_t)o->seq);
    weir_put_be32(p + WEIR_BATCH_OFF_RECORDS_COUNT, (uint32_t)o->nrec);
    weir_put_be32(p + WEIR_BATCH_OFF_CRC,
                  weir_crc32c(0, p + WEIR_BATCH_OFF_ATTRIBUTES,
                              w->len - start - WEIR_BATCH_OFF_ATTRIBUTES));
    return w->len - start;
}

/* ------------------------------------------------------------------------
 * Fixture
 * ------------------------------------------------------------------------ */

typedef struct fx_s {
    char dir[64];        /* the temp dir */
    char pdir[PATH_MAX]; /* the partition dir inside it */
    uv_loop_t loop;
    weir_log_config_t cfg;
    weir_plog_t *log;
} fx_t;

static weir_log_config_t
default_cfg(void)
{
    weir_log_config_t c = {
        .segment_bytes = 1024 * 1024,
        .segment_ms = INT64_MAX,
        .retention_ms = -1,
        .retention_bytes = -1,
        .index_interval_bytes = 4096,
        .max_message_bytes = 1024 * 1024,
        .flush_messages = INT64_MAX,
        .flush_ms = INT64_MAX,
        .log_append_time = false,
        .file_delete_delay_ms = 0,
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
    fx_t *fx = weir_calloc(1, sizeof(*fx));

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/weir-plog-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->pdir, sizeof(fx->pdir), "%s/topic-0", fx->dir);
    if (uv_loop_init(&fx->loop) != 0)
        return -1;
    fx->cfg = default_cfg();
    *state = fx;
    return 0;
}

static void
fx_close(fx_t *fx)
{
    if (fx->log) {
        weir_plog_close(fx->log);
        fx->log = NULL;
    }
    uv_run(&fx->loop, UV_RUN_DEFAULT);
}

static int
teardown(void **state)
{
    fx_t *fx = *state;

    fx_close(fx);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static void
fx_open(fx_t *fx, bool recover)
{
    char err[256] = "";
    int rc = weir_plog_open(&fx->loop, fx->pdir, &fx->cfg, recover, &fx->log, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "open failed: %d %s\n", rc, err);
    assert_int_equal(rc, 0);
    assert_non_null(fx->log);
}

static void
fx_reopen(fx_t *fx, bool recover)
{
    fx_close(fx);
    fx_open(fx, recover);
}

/* Appends one batch; returns the append's error, *base the base offset. */
static weir_kerr_t
fx_append_opts(fx_t *fx, const tb_opts_t *o, int64_t now, weir_append_result_t *res)
{
    weir_wbuf_t w;
    weir_kerr_t err;

    weir_wbuf_init(&w, 256);
    tb_build(&w, o);
    err = weir_plog_append(fx->log, w.data, w.len, now, res);
    weir_wbuf_free(&w);
    return err;
}

static int64_t
fx_append(fx_t *fx, int nrec, int64_t ts0)
{
    weir_append_result_t res;
    tb_opts_t o = tb(nrec, ts0);

    assert_int_equal(fx_append_opts(fx, &o, 1000000, &res), WEIR_KERR_NONE);
    assert_false(res.duplicate);
    return res.base_offset;
}

static char *
fx_path(fx_t *fx, int64_t base, const char *ext)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%020lld.%s", fx->pdir, (long long)base, ext);
    return path;
}

static int64_t
file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static int
count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    size_t m = strlen(suffix);

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l >= m && strcmp(e->d_name + l - m, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
    int64_t n = file_size(path);
    int fd = open(path, O_RDONLY);
    uint8_t *buf;

    assert_true(n >= 0 && fd >= 0);
    buf = weir_malloc((size_t)n);
    assert_int_equal(pread(fd, buf, (size_t)n, 0), n);
    close(fd);
    *len = (size_t)n;
    return buf;
}

static void
write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* Reads the slice's bytes and checks every batch in it (CRC included);
 * returns the number of batches, first base offset and next offset. */
typedef struct slice_info_s {
    int nbatches;
    int64_t first;
    int64_t next;
    int64_t len;
} slice_info_t;

static slice_info_t
check_slice(const weir_slice_t *s)
{
    slice_info_t si = {0, -1, -1, s->len};
    uint8_t *buf;
    size_t off = 0;

    if (s->len == 0)
        return si;
    buf = weir_malloc((size_t)s->len);
    assert_int_equal(pread(s->fd, buf, (size_t)s->len, s->pos), s->len);
    while (off < (size_t)s->len) {
        weir_batch_hdr_t h;
        assert_int_equal(weir_batch_validate(buf + off, (size_t)s->len - off, &h),
                         WEIR_KERR_NONE);
        if (si.nbatches == 0)
            si.first = h.base_offset;
        else
            assert_int_equal(h.base_offset, si.next);
        assert_int_equal(h.leader_epoch, 0);
        si.next = h.base_offset + h.last_offset_delta + 1;
        si.nbatches++;
        off += weir_batch_total_size(&h);
    }
    assert_int_equal(off, (size_t)s->len);
    free(buf);
    return si;
}

/* Reads offset with a large max_bytes and checks the batch that holds it. */
static slice_info_t
read_check(fx_t *fx, int64_t offset, int64_t max_bytes, bool min_one)
{
    weir_slice_t s;
    slice_info_t si;

    assert_int_equal(weir_plog_read(fx->log, offset, max_bytes, min_one, &s), WEIR_KERR_NONE);
    si = check_slice(&s);
    weir_slice_release(&s);
    return si;
}

/* Reads the whole log from the start and checks continuity. */
static void
read_all_check(fx_t *fx)
{
    int64_t off = weir_plog_start_offset(fx->log);
    int64_t end = weir_plog_end_offset(fx->log);

    while (off < end) {
        slice_info_t si = read_check(fx, off, 1 << 20, true);
        assert_true(si.nbatches > 0);
        assert_true(si.first <= off);
        off = si.next;
    }
    assert_int_equal(off, end);
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

static void
test_empty_dir_gets_segment(void **state)
{
    fx_t *fx = *state;

    fx_open(fx, false);
    assert_int_equal(file_size(fx_path(fx, 0, "log")), 0);
    assert_int_equal(file_size(fx_path(fx, 0, "index")), 0);
    assert_int_equal(file_size(fx_path(fx, 0, "timeindex")), 0);
    assert_int_equal(weir_plog_start_offset(fx->log), 0);
    assert_int_equal(weir_plog_end_offset(fx->log), 0);
    assert_int_equal(weir_plog_size_bytes(fx->log), 0);
}

static void
test_append_read_roundtrip(void **state)
{
    fx_t *fx = *state;
    weir_wbuf_t w;
    weir_append_result_t res;
    weir_slice_t s;
    uint8_t *buf;
    tb_opts_t o = tb(3, 5000);

    fx_open(fx, false);
    weir_wbuf_init(&w, 256);
    tb_build(&w, &o);
    uint8_t *orig = weir_malloc(w.len);
    memcpy(orig, w.data, w.len);
    assert_int_equal(weir_plog_append(fx->log, w.data, w.len, 1000, &res), WEIR_KERR_NONE);
    assert_int_equal(res.base_offset, 0);
    assert_int_equal(res.log_append_time, -1);
    assert_false(res.duplicate);
    assert_int_equal(weir_plog_end_offset(fx->log), 3);
    assert_int_equal(weir_plog_size_bytes(fx->log), (int64_t)w.len);
    assert_int_equal(file_size(fx_path(fx, 0, "log")), (int64_t)w.len);

    for (int64_t off = 0; off < 3; off++) {
        assert_int_equal(weir_plog_read(fx->log, off, 1 << 20, false, &s), WEIR_KERR_NONE);
        assert_non_null(s.seg);
        assert_int_equal(s.pos, 0);
        assert_int_equal(s.len, (int64_t)w.len);
        buf = weir_malloc(w.len);
        assert_int_equal(pread(s.fd, buf, w.len, s.pos), (ssize_t)w.len);
        /* Identical to what was produced but for the stamped fields, which
         * lie outside the CRC. */
        assert_memory_equal(buf + 16, orig + 16, w.len - 16);
        assert_int_equal(weir_be64(buf), 0);
        assert_int_equal((int32_t)weir_be32(buf + WEIR_BATCH_OFF_LEADER_EPOCH), 0);
        free(buf);
        weir_slice_release(&s);
        assert_null(s.seg);
    }
    free(orig);
    weir_wbuf_free(&w);
}

static void
test_offsets_assignment(void **state)
{
    fx_t *fx = *state;
    int counts[] = {1, 5, 2, 10, 1, 7};
    int64_t expect = 0;

    fx_open(fx, false);
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(counts); i++) {
        assert_int_equal(fx_append(fx, counts[i], 1000 + (int64_t)i), expect);
        expect += counts[i];
        assert_int_equal(weir_plog_end_offset(fx->log), expect);
    }
    /* Every offset reads the batch that holds it. */
    expect = 0;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(counts); i++) {
        for (int k = 0; k < counts[i]; k++) {
            slice_info_t si = read_check(fx, expect + k, 1, true);
            assert_int_equal(si.nbatches, 1);
            assert_int_equal(si.first, expect);
            assert_int_equal(si.next, expect + counts[i]);
        }
        expect += counts[i];
    }
    read_all_check(fx);
}

static void
test_multi_batch_append_all_or_nothing(void **state)
{
    fx_t *fx = *state;
    weir_wbuf_t w;
    weir_append_result_t res;
    tb_opts_t a = tb(2, 100), b = tb(3, 200), c = tb(4, 300);
    size_t sa, sb;
    int64_t size_before;

    fx_open(fx, false);
    fx_append(fx, 1, 50);

    /* Three batches in one Records field. */
    weir_wbuf_init(&w, 512);
    tb_build(&w, &a);
    tb_build(&w, &b);
    tb_build(&w, &c);
    assert_int_equal(weir_plog_append(fx->log, w.data, w.len, 1000, &res), WEIR_KERR_NONE);
    assert_int_equal(res.base_offset, 1);
    assert_int_equal(weir_plog_end_offset(fx->log), 10);
    assert_int_equal(read_check(fx, 3, 1, true).first, 3);
    assert_int_equal(read_check(fx, 6, 1, true).first, 6);
    assert_int_equal(read_check(fx, 1, 1 << 20, true).nbatches, 3);
    weir_wbuf_free(&w);

    /* A bad CRC in the second batch: nothing of the request is written. */
    weir_wbuf_init(&w, 512);
    sa = tb_build(&w, &a);
    sb = tb_build(&w, &b);
    tb_build(&w, &c);
    w.data[sa + sb - 2] ^= 0x55;
    size_before = file_size(fx_path(fx, 0, "log"));
    assert_int_equal(weir_plog_append(fx->log, w.data, w.len, 1000, &res),
                     WEIR_KERR_CORRUPT_MESSAGE);
    assert_int_equal(weir_plog_end_offset(fx->log), 10);
    assert_int_equal(file_size(fx_path(fx, 0, "log")), size_before);
    assert_int_equal(weir_plog_size_bytes(fx->log), size_before);
    weir_wbuf_free(&w);

    /* Trailing bytes that are not a whole batch. */
    weir_wbuf_init(&w, 512);
    tb_build(&w, &a);
    weir_wr_raw(&w, "\0\0\0\0\0\0\0\0\0\0", 10);
    assert_int_equal(weir_plog_append(fx->log, w.data, w.len, 1000, &res),
                     WEIR_KERR_CORRUPT_MESSAGE);
    assert_int_equal(weir_plog_end_offset(fx->log), 10);
    weir_wbuf_free(&w);

    /* The log still takes appends at the same offset. */
    assert_int_equal(fx_append(fx, 2, 400), 10);
    read_all_check(fx);

    /* Empty Records: nothing appended. */
    assert_int_equal(weir_plog_append(fx->log, NULL, 0, 1000, &res), WEIR_KERR_NONE);
    assert_int_equal(res.base_offset, -1);
    assert_int_equal(weir_plog_end_offset(fx->log), 12);
}

static void
test_message_too_large(void **state)
{
    fx_t *fx = *state;
    weir_append_result_t res;
    tb_opts_t o = tb(10, 0);

    fx->cfg.max_message_bytes = 200;
    fx_open(fx, false);
    assert_int_equal(fx_append_opts(fx, &o, 1000, &res), WEIR_KERR_MESSAGE_TOO_LARGE);
    assert_int_equal(weir_plog_end_offset(fx->log), 0);
    o.nrec = 2;
    assert_int_equal(fx_append_opts(fx, &o, 1000, &res), WEIR_KERR_NONE);
    assert_int_equal(weir_plog_end_offset(fx->log), 2);
}

static void
test_roll_by_size(void **state)
{
    fx_t *fx = *state;
    weir_wbuf_t w;
    tb_opts_t o = tb(4, 0);
    size_t bs;

    weir_wbuf_init(&w, 256);
    bs = tb_build(&w, &o);
    weir_wbuf_free(&w);
    fx->cfg.segment_bytes = (int64_t)(bs * 3 + bs / 2); /* three batches fit */
    fx_open(fx, false);
    for (int i = 0; i < 10; i++)
        assert_int_equal(fx_append(fx, 4, i), i * 4);
    /* 10 batches, 3 per segment: 4 segments at 0, 12, 24, 36. */
    assert_int_equal(count_files(fx->pdir, ".log"), 4);
    assert_int_equal(file_size(fx_path(fx, 0, "log")), (int64_t)(3 * bs));
    assert_int_equal(file_size(fx_path(fx, 12, "log")), (int64_t)(3 * bs));
    assert_int_equal(file_size(fx_path(fx, 24, "log")), (int64_t)(3 * bs));
    assert_int_equal(file_size(fx_path(fx, 36, "log")), (int64_t)bs);
    assert_int_equal(weir_plog_size_bytes(fx->log), (int64_t)(10 * bs));
    read_all_check(fx);

    /* A request larger than a segment can never be stored. */
    weir_append_result_t res;
    weir_wbuf_init(&w, 1024);
    for (int i = 0; i < 4; i++)
        tb_build(&w, &o);
    assert_int_equal(weir_plog_append(fx->log, w.data, w.len, 1000, &res),
                     WEIR_KERR_RECORD_LIST_TOO_LARGE);
    weir_wbuf_free(&w);
}

static void
test_roll_by_time(void **state)
{
    fx_t *fx = *state;
    weir_append_result_t res;
    tb_opts_t o = tb(1, 0);

    fx->cfg.segment_ms = 1000;
    fx_open(fx, false);
    assert_int_equal(fx_append_opts(fx, &o, 10000, &res), WEIR_KERR_NONE);
    assert_int_equal(fx_append_opts(fx, &o, 10500, &res), WEIR_KERR_NONE);
    assert_int_equal(fx_append_opts(fx, &o, 11000, &res), WEIR_KERR_NONE); /* exactly 1000 */
    assert_int_equal(count_files(fx->pdir, ".log"), 1);
    /* Older than segment.ms measured from the first append. */
    assert_int_equal(fx_append_opts(fx, &o, 11001, &res), WEIR_KERR_NONE);
    assert_int_equal(res.base_offset, 3);
    assert_int_equal(count_files(fx->pdir, ".log"), 2);
    assert_true(file_size(fx_path(fx, 3, "log")) > 0);
    /* The new segment's age starts with its own first batch. */
    assert_int_equal(fx_append_opts(fx, &o, 11900, &res), WEIR_KERR_NONE);
    assert_int_equal(count_files(fx->pdir, ".log"), 2);

    /* The retention pass rolls an idle, old active segment too. */
    assert_int_equal(weir_plog_enforce_retention(fx->log, 13000), 0);
    assert_int_equal(count_files(fx->pdir, ".log"), 3);
    assert_int_equal(file_size(fx_path(fx, 5, "log")), 0);
    read_all_check(fx);
}

static void
test_index_sparse_lookup(void **state)
{
    fx_t *fx = *state;
    const int n = 1500;
    int64_t starts[1500 + 1];
    size_t len;
    uint8_t *idx;

    fx->cfg.index_interval_bytes = 1000;
    fx_open(fx, false);
    for (int i = 0; i < n; i++) {
        int nrec = 1 + i % 4;
        starts[i] = fx_append(fx, nrec, 1000 + i);
    }
    starts[n] = weir_plog_end_offset(fx->log);

    /* The index is sparse, ordered, and every entry points at a batch whose
     * last offset it names. */
    idx = read_file(fx_path(fx, 0, "index"), &len);
    assert_int_equal(len % 8, 0);
    assert_true(len / 8 > 20);
    assert_true(len / 8 < (size_t)n / 4);
    int fd = open(fx_path(fx, 0, "log"), O_RDONLY);
    for (size_t i = 0; i < len; i += 8) {
        int32_t rel = (int32_t)weir_be32(idx + i), pos = (int32_t)weir_be32(idx + i + 4);
        uint8_t h[27];
        assert_int_equal(pread(fd, h, sizeof(h), pos), 27);
        assert_int_equal((int64_t)weir_be64(h) + (int32_t)weir_be32(h + 23), rel);
        if (i > 0) {
            assert_true(rel > (int32_t)weir_be32(idx + i - 8));
            assert_true(pos > (int32_t)weir_be32(idx + i - 4));
        }
    }
    close(fd);
    free(idx);

    /* Every offset finds exactly its batch. */
    for (int i = 0; i < n; i++) {
        for (int64_t off = starts[i]; off < starts[i + 1]; off++) {
            slice_info_t si = read_check(fx, off, 1, true);
            assert_int_equal(si.nbatches, 1);
            assert_int_equal(si.first, starts[i]);
        }
    }
    /* Large reads cross index entries and stop at whole batches. */
    for (int i = 0; i < n; i += 97) {
        for (int64_t mb = 100; mb < 20000; mb = mb * 3 + 7) {
            slice_info_t si = read_check(fx, starts[i], mb, true);
            assert_true(si.len <= mb || si.nbatches == 1);
            assert_int_equal(si.first, starts[i]);
            /* Maximal: the next batch would not have fit. */
            if (si.next < starts[n]) {
                slice_info_t one = read_check(fx, si.next, 1, true);
                assert_true(si.len + one.len > mb);
            }
        }
    }

    /* The time index is monotonic. */
    idx = read_file(fx_path(fx, 0, "timeindex"), &len);
    assert_int_equal(len % 12, 0);
    assert_true(len > 0);
    for (size_t i = 12; i < len; i += 12) {
        assert_true((int64_t)weir_be64(idx + i) > (int64_t)weir_be64(idx + i - 12));
        assert_true((int32_t)weir_be32(idx + i + 8) >= (int32_t)weir_be32(idx + i - 4));
    }
    free(idx);
}

static void
test_max_bytes_min_one(void **state)
{
    fx_t *fx = *state;
    weir_wbuf_t w;
    weir_slice_t s;
    tb_opts_t o = tb(2, 0);
    int64_t bs;

    weir_wbuf_init(&w, 256);
    bs = (int64_t)tb_build(&w, &o);
    weir_wbuf_free(&w);
    fx_open(fx, false);
    for (int i = 0; i < 10; i++)
        fx_append(fx, 2, i);

    slice_info_t si = read_check(fx, 0, bs * 5 / 2, false);
    assert_int_equal(si.nbatches, 2);
    assert_int_equal(si.len, 2 * bs);
    si = read_check(fx, 5, bs * 3, false);
    assert_int_equal(si.first, 4);
    assert_int_equal(si.nbatches, 3);
    si = read_check(fx, 0, bs - 1, true);
    assert_int_equal(si.nbatches, 1);
    assert_int_equal(si.len, bs);

    /* Without min_one, nothing fits: an empty slice. */
    assert_int_equal(weir_plog_read(fx->log, 0, bs - 1, false, &s), WEIR_KERR_NONE);
    assert_null(s.seg);
    assert_int_equal(s.len, 0);
    weir_slice_release(&s);
    assert_int_equal(weir_plog_read(fx->log, 0, 0, false, &s), WEIR_KERR_NONE);
    assert_int_equal(s.len, 0);

    si = read_check(fx, 0, INT64_MAX, false);
    assert_int_equal(si.nbatches, 10);
    si = read_check(fx, 19, INT64_MAX, false);
    assert_int_equal(si.nbatches, 1);
    assert_int_equal(si.first, 18);
}

static void
test_offset_out_of_range(void **state)
{
    fx_t *fx = *state;
    weir_slice_t s;

    fx_open(fx, false);
    assert_int_equal(weir_plog_read(fx->log, 0, 100, true, &s), WEIR_KERR_NONE);
    assert_null(s.seg);
    assert_int_equal(weir_plog_read(fx->log, 1, 100, true, &s), WEIR_KERR_OFFSET_OUT_OF_RANGE);
    fx_append(fx, 3, 0);
    assert_int_equal(weir_plog_read(fx->log, -1, 100, true, &s), WEIR_KERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(weir_plog_read(fx->log, 4, 100, true, &s), WEIR_KERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(weir_plog_read(fx->log, 3, 100, true, &s), WEIR_KERR_NONE);
    assert_null(s.seg);
    assert_int_equal(s.len, 0);
    assert_int_equal(weir_plog_read(fx->log, 2, 100, true, &s), WEIR_KERR_NONE);
    assert_non_null(s.seg);
    weir_slice_release(&s);
}

static void
test_read_across_segment_boundary(void **state)
{
    fx_t *fx = *state;
    weir_wbuf_t w;
    tb_opts_t o = tb(5, 0);
    int64_t bs;

    weir_wbuf_init(&w, 256);
    bs = (int64_t)tb_build(&w, &o);
    weir_wbuf_free(&w);
    fx->cfg.segment_bytes = 2 * bs;
    fx_open(fx, false);
    for (int i = 0; i < 5; i++)
        fx_append(fx, 5, i);
    assert_int_equal(count_files(fx->pdir, ".log"), 3);

    /* A read stays inside the segment that holds the offset. */
    slice_info_t si = read_check(fx, 7, INT64_MAX, false);
    assert_int_equal(si.first, 5);
    assert_int_equal(si.next, 10);
    si = read_check(fx, 10, INT64_MAX, false);
    assert_int_equal(si.first, 10);
    assert_int_equal(si.next, 20);
    read_all_check(fx);
    fx_close(fx);

    /* An offset in a gap past a segment's last batch is served from the
     * next segment (here the third segment starts at 30, not 20). */
    uint8_t *data;
    size_t len;
    data = read_file(fx_path(fx, 20, "log"), &len);
    weir_put_be64(data, 30);
    write_file(fx_path(fx, 30, "log"), data, len);
    free(data);
    unlink(fx_path(fx, 20, "log"));
    unlink(fx_path(fx, 20, "index"));
    unlink(fx_path(fx, 20, "timeindex"));
    fx_open(fx, false);
    assert_int_equal(weir_plog_end_offset(fx->log), 35);
    si = read_check(fx, 22, INT64_MAX, false);
    assert_int_equal(si.first, 30);
    assert_int_equal(si.next, 35);
    assert_int_equal(fx_append(fx, 1, 0), 35);
}

static void
test_retention_by_time(void **state)
{
    fx_t *fx = *state;
    weir_slice_t held;
    weir_wbuf_t w;
    tb_opts_t o = tb(2, 0);
    int64_t bs;
    struct stat st;

    weir_wbuf_init(&w, 256);
    bs = (int64_t)tb_build(&w, &o);
    weir_wbuf_free(&w);
    fx->cfg.segment_bytes = 2 * bs;
    fx->cfg.retention_ms = 10000;
    fx_open(fx, false);
    /* Segments at 0 (ts 1000..1003), 4 (ts 5000..), 8 (ts 9000..), 12. */
    int64_t ts[] = {1000, 1002, 5000, 5002, 9000, 9002, 20000};
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(ts); i++)
        fx_append(fx, 2, ts[i]);
    assert_int_equal(count_files(fx->pdir, ".log"), 4);

    assert_int_equal(weir_plog_read(fx->log, 1, 1 << 20, true, &held), WEIR_KERR_NONE);
    assert_int_equal(check_slice(&held).first, 0);

    /* Nothing older than 10 s at t=11003 (segment 0's newest is 1003). */
    assert_int_equal(weir_plog_enforce_retention(fx->log, 11003), 0);
    assert_int_equal(weir_plog_enforce_retention(fx->log, 15100), 2);
    assert_int_equal(weir_plog_start_offset(fx->log), 8);
    assert_int_equal(weir_plog_size_bytes(fx->log), 3 * bs);
    assert_int_equal(stat(fx_path(fx, 0, "log"), &st), -1);
    assert_int_equal(stat(fx_path(fx, 4, "index"), &st), -1);
    /* Renamed now, removed by the worker pool. */
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(count_files(fx->pdir, ".deleted"), 0);
    assert_int_equal(count_files(fx->pdir, ".log"), 2);

    /* The held slice still reads the removed file. */
    slice_info_t si = check_slice(&held);
    assert_int_equal(si.first, 0);
    weir_slice_release(&held);

    weir_slice_t s;
    assert_int_equal(weir_plog_read(fx->log, 3, 100, true, &s), WEIR_KERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(read_check(fx, 8, 100, true).first, 8);

    /* The active segment is never deleted. */
    assert_int_equal(weir_plog_enforce_retention(fx->log, 1000000), 1);
    assert_int_equal(weir_plog_start_offset(fx->log), 12);
    assert_int_equal(weir_plog_enforce_retention(fx->log, 1000000), 0);
    assert_int_equal(weir_plog_end_offset(fx->log), 14);
    read_all_check(fx);

    /* Start offset survives a reopen. */
    fx_reopen(fx, false);
    assert_int_equal(weir_plog_start_offset(fx->log), 12);
    assert_int_equal(weir_plog_end_offset(fx->log), 14);
}

static void
test_retention_by_size_with_delay(void **state)
{
    fx_t *fx = *state;
    weir_wbuf_t w;
    tb_opts_t o = tb(1, 0);
    int64_t bs;

    weir_wbuf_init(&w, 256);
    bs = (int64_t)tb_build(&w, &o);
    weir_wbuf_free(&w);
    fx->cfg.segment_bytes = 2 * bs; /* two batches per segment */
    fx->cfg.retention_bytes = 5 * bs;
    fx->cfg.file_delete_delay_ms = 30;
    fx_open(fx, false);
    for (int i = 0; i < 11; i++)
        fx_append(fx, 1, i);
    /* 6 segments: 5 full (10 batches) + 1 with one batch; 11 * bs in all. */
    assert_int_equal(count_files(fx->pdir, ".log"), 6);
    /* Delete while size - segment >= 5 bs: 11 -> 9 -> 7 -> 5. */
    assert_int_equal(weir_plog_enforce_retention(fx->log, 0), 3);
    assert_int_equal(weir_plog_size_bytes(fx->log), 5 * bs);
    assert_int_equal(weir_plog_start_offset(fx->log), 6);
    assert_int_equal(count_files(fx->pdir, ".log.deleted"), 3);
    assert_int_equal(count_files(fx->pdir, ".log"), 3);
    /* Files go after file.delete.delay.ms. */
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(count_files(fx->pdir, ".deleted"), 0);
    assert_int_equal(weir_plog_enforce_retention(fx->log, 0), 0);

    /* Retired while the log closes: the pending deletion is done then. */
    fx->cfg.retention_bytes = 0;
    weir_plog_set_config(fx->log, &fx->cfg);
    fx->cfg.file_delete_delay_ms = 60000;
    weir_plog_set_config(fx->log, &fx->cfg);
    assert_int_equal(weir_plog_enforce_retention(fx->log, 0), 2);
    assert_int_equal(count_files(fx->pdir, ".deleted"), 6);
    fx_close(fx);
    assert_int_equal(count_files(fx->pdir, ".deleted"), 0);
    fx_open(fx, false);
    assert_int_equal(weir_plog_start_offset(fx->log), 10);
    assert_int_equal(weir_plog_end_offset(fx->log), 11);
}

static void
test_reopen_keeps_everything(void **state)
{
    fx_t *fx = *state;

    fx->cfg.segment_bytes = 2000;
    fx->cfg.index_interval_bytes = 300;
    fx_open(fx, false);
    for (int i = 0; i < 200; i++)
        fx_append(fx, 1 + i % 3, 1000 + i);
    int64_t end = weir_plog_end_offset(fx->log), size = weir_plog_size_bytes(fx->log);
    int nlogs = count_files(fx->pdir, ".log");
    size_t ilen, tlen;
    uint8_t *idx = read_file(fx_path(fx, 0, "index"), &ilen);
    uint8_t *tidx = read_file(fx_path(fx, 0, "timeindex"), &tlen);
    assert_true(nlogs > 5);

    for (int pass = 0; pass < 2; pass++) {
        fx_reopen(fx, pass == 1);
        assert_int_equal(weir_plog_end_offset(fx->log), end);
        assert_int_equal(weir_plog_size_bytes(fx->log), size);
        assert_int_equal(weir_plog_start_offset(fx->log), 0);
        assert_int_equal(count_files(fx->pdir, ".log"), nlogs);
        read_all_check(fx);
    }
    /* Indexes untouched by a clean reopen. */
    size_t l2;
    uint8_t *idx2 = read_file(fx_path(fx, 0, "index"), &l2);
    assert_int_equal(l2, ilen);
    assert_memory_equal(idx, idx2, ilen);
    free(idx2);
    idx2 = read_file(fx_path(fx, 0, "timeindex"), &l2);
    assert_int_equal(l2, tlen);
    assert_memory_equal(tidx, idx2, tlen);
    free(idx2);
    free(idx);
    free(tidx);
    assert_int_equal(fx_append(fx, 1, 5000), end);
}

/* Builds a log of n batches with a small index interval; returns the size of
 * the .log and (in sizes) the end position of every batch. */
static int64_t
build_log(fx_t *fx, int n, int64_t *ends)
{
    fx->cfg.index_interval_bytes = 200;
    fx_open(fx, false);
    for (int i = 0; i < n; i++) {
        fx_append(fx, 1 + i % 2, 1000 + i);
        if (ends)
            ends[i] = weir_plog_size_bytes(fx->log);
    }
    fx_close(fx);
    return file_size(fx_path(fx, 0, "log"));
}

static void
test_recovery_torn_tail(void **state)
{
    fx_t *fx = *state;
    int64_t ends[30];

    build_log(fx, 30, ends);
    /* Cut in the middle of the last batch. */
    assert_int_equal(truncate(fx_path(fx, 0, "log"), (off_t)(ends[28] + 30)), 0);
    fx_open(fx, true);
    assert_int_equal(file_size(fx_path(fx, 0, "log")), ends[28]);
    assert_int_equal(weir_plog_size_bytes(fx->log), ends[28]);
    /* 29 batches of 1,2,1,2,... records = 15*1 + 14*2 = 43. */
    assert_int_equal(weir_plog_end_offset(fx->log), 43);
    read_all_check(fx);
    assert_int_equal(fx_append(fx, 1, 0), 43);
    read_all_check(fx);

    /* Cut inside a batch header, far back (index entries beyond go). */
    fx_close(fx);
    assert_int_equal(truncate(fx_path(fx, 0, "log"), (off_t)(ends[9] + 5)), 0);
    fx_open(fx, true);
    assert_int_equal(weir_plog_size_bytes(fx->log), ends[9]);
    assert_int_equal(weir_plog_end_offset(fx->log), 15);
    size_t len;
    uint8_t *idx = read_file(fx_path(fx, 0, "index"), &len);
    for (size_t i = 0; i < len; i += 8)
        assert_true((int32_t)weir_be32(idx + i + 4) < ends[9]);
    free(idx);
    idx = read_file(fx_path(fx, 0, "timeindex"), &len);
    for (size_t i = 0; i < len; i += 12)
        assert_true((int32_t)weir_be32(idx + i + 8) < 15);
    free(idx);
    read_all_check(fx);
    assert_int_equal(fx_append(fx, 2, 0), 15);
    read_all_check(fx);
}

static void
test_recovery_corrupt_crc_tail(void **state)
{
    fx_t *fx = *state;
    int64_t ends[20];

    build_log(fx, 20, ends);
    /* Flip a byte inside the last batch's records. */
    int fd = open(fx_path(fx, 0, "log"), O_RDWR);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, ends[19] - 4), 1);
    b ^= 0x10;
    assert_int_equal(pwrite(fd, &b, 1, ends[19] - 4), 1);
    close(fd);
    fx_open(fx, true);
    assert_int_equal(weir_plog_size_bytes(fx->log), ends[18]);
    assert_int_equal(file_size(fx_path(fx, 0, "log")), ends[18]);
    /* 19 batches: 10*1 + 9*2 = 28 records. */
    assert_int_equal(weir_plog_end_offset(fx->log), 28);
    read_all_check(fx);
    assert_int_equal(fx_append(fx, 1, 0), 28);
    fx_close(fx);

    /* Only the tail after the last index entry is validated at open; a
     * broken header further back is reported as a storage error when read,
     * never misread. */
    fd = open(fx_path(fx, 0, "log"), O_RDWR);
    b = 7;
    assert_int_equal(pwrite(fd, &b, 1, ends[4] + WEIR_BATCH_OFF_MAGIC), 1);
    close(fd);
    fx_open(fx, false);
    weir_slice_t s;
    assert_int_equal(weir_plog_read(fx->log, 7, 100, true, &s), WEIR_KERR_KAFKA_STORAGE_ERROR);
    assert_null(s.seg);
    assert_int_equal(read_check(fx, 0, 1, true).first, 0);
}

static void
test_recovery_garbage_appended(void **state)
{
    fx_t *fx = *state;
    int64_t size = build_log(fx, 10, NULL);
    uint8_t junk[5000];

    /* Garbage, including a huge bogus length right at the end of the log. */
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 7 + 3);
    weir_put_be64(junk, 15);
    weir_put_be32(junk + 8, 0x7ffffff0);
    junk[16] = 2;
    int fd = open(fx_path(fx, 0, "log"), O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);

    /* Without recovery the tail is still found unsound and cut. */
    fx_open(fx, false);
    assert_int_equal(file_size(fx_path(fx, 0, "log")), size);
    assert_int_equal(weir_plog_end_offset(fx->log), 15);
    read_all_check(fx);
    fx_close(fx);

    /* A plausible but CRC-broken batch after the end is cut when recovering. */
    uint8_t *data;
    size_t len;
    data = read_file(fx_path(fx, 0, "log"), &len);
    uint8_t *copy = weir_malloc(len + 200);
    memcpy(copy, data, len);
    memcpy(copy + len, data, 200 < len ? 200 : len); /* first batch again */
    weir_put_be64(copy + len, 15);
    copy[len + 30] ^= 1;
    write_file(fx_path(fx, 0, "log"), copy, len + 200);
    free(data);
    free(copy);
    fx_open(fx, true);
    assert_int_equal(file_size(fx_path(fx, 0, "log")), size);
    assert_int_equal(weir_plog_end_offset(fx->log), 15);
    assert_int_equal(fx_append(fx, 1, 0), 15);
}

static void
test_recovery_missing_and_bad_index(void **state)
{
    fx_t *fx = *state;
    size_t ilen, tlen, len;
    uint8_t *idx, *tidx, *now;

    build_log(fx, 60, NULL);
    idx = read_file(fx_path(fx, 0, "index"), &ilen);
    tidx = read_file(fx_path(fx, 0, "timeindex"), &tlen);
    assert_true(ilen >= 5 * 8);
    assert_true(tlen >= 5 * 12);

    /* Missing: rebuilt identically, even without recovery. */
    unlink(fx_path(fx, 0, "index"));
    unlink(fx_path(fx, 0, "timeindex"));
    fx_open(fx, false);
    read_all_check(fx);
    fx_close(fx);
    now = read_file(fx_path(fx, 0, "index"), &len);
    assert_int_equal(len, ilen);
    assert_memory_equal(now, idx, ilen);
    free(now);
    now = read_file(fx_path(fx, 0, "timeindex"), &len);
    assert_int_equal(len, tlen);
    assert_memory_equal(now, tidx, tlen);
    free(now);

    /* Not a multiple of the entry size. */
    write_file(fx_path(fx, 0, "index"), idx, ilen - 3);
    fx_open(fx, false);
    read_all_check(fx);
    fx_close(fx);
    now = read_file(fx_path(fx, 0, "index"), &len);
    assert_int_equal(len, ilen);
    assert_memory_equal(now, idx, ilen);
    free(now);

    /* Entries out of order. */
    uint8_t *bad = weir_malloc(ilen);
    memcpy(bad, idx, ilen);
    memcpy(bad + 8, idx + 16, 8);
    memcpy(bad + 16, idx + 8, 8);
    write_file(fx_path(fx, 0, "index"), bad, ilen);
    fx_open(fx, false);
    read_all_check(fx);
    fx_close(fx);
    now = read_file(fx_path(fx, 0, "index"), &len);
    assert_memory_equal(now, idx, ilen);
    free(now);

    /* Position past the end of the log. */
    memcpy(bad, idx, ilen);
    weir_put_be32(bad + ilen - 4, 0x7fff0000);
    write_file(fx_path(fx, 0, "index"), bad, ilen);
    fx_open(fx, true);
    read_all_check(fx);
    fx_close(fx);
    now = read_file(fx_path(fx, 0, "index"), &len);
    assert_memory_equal(now, idx, ilen);
    free(now);

    /* A last entry that does not name the batch at its position. */
    memcpy(bad, idx, ilen);
    weir_put_be32(bad + ilen - 8, weir_be32(idx + ilen - 8) + 1);
    write_file(fx_path(fx, 0, "index"), bad, ilen);
    fx_open(fx, false);
    read_all_check(fx);
    fx_close(fx);
    now = read_file(fx_path(fx, 0, "index"), &len);
    assert_memory_equal(now, idx, ilen);
    free(now);

    /* A time index that is garbage. */
    write_file(fx_path(fx, 0, "timeindex"), "garbage-garbage-garbage!", 24);
    fx_open(fx, false);
    int64_t found;
    /* Batch 29 (offsets 43, 44) has timestamps 1029, 1030. */
    assert_int_equal(weir_plog_offset_for_time(fx->log, 1030, &found), 44);
    assert_int_equal(found, 1030);
    fx_close(fx);
    now = read_file(fx_path(fx, 0, "timeindex"), &len);
    assert_int_equal(len, tlen);
    assert_memory_equal(now, tidx, tlen);
    free(now);

    free(bad);
    free(idx);
    free(tidx);
}

static void
test_recovery_closed_segment_index(void **state)
{
    fx_t *fx = *state;

    fx->cfg.segment_bytes = 1500;
    fx->cfg.index_interval_bytes = 100;
    fx_open(fx, false);
    for (int i = 0; i < 60; i++)
        fx_append(fx, 2, 1000 + i);
    assert_true(count_files(fx->pdir, ".log") >= 3);
    fx_close(fx);
    size_t ilen, len;
    uint8_t *idx = read_file(fx_path(fx, 0, "index"), &ilen);
    assert_true(ilen > 0);
    unlink(fx_path(fx, 0, "index"));
    write_file(fx_path(fx, 0, "timeindex"), "x", 1);
    fx_open(fx, false);
    read_all_check(fx);
    int64_t found;
    /* Batch 1 (offsets 2, 3) has timestamps 1001, 1002. */
    assert_int_equal(weir_plog_offset_for_time(fx->log, 1002, &found), 3);
    assert_int_equal(found, 1002);
    uint8_t *now = read_file(fx_path(fx, 0, "index"), &len);
    assert_int_equal(len, ilen);
    assert_memory_equal(now, idx, ilen);
    free(now);
    free(idx);
}

static void
test_leftovers_removed(void **state)
{
    fx_t *fx = *state;

    build_log(fx, 3, NULL);
    write_file(fx_path(fx, 7, "log.deleted"), "x", 1);
    write_file(fx_path(fx, 8, "index.deleted"), "x", 1);
    write_file(fx_path(fx, 9, "log.cleaned"), "x", 1);
    write_file(fx_path(fx, 10, "log.swap"), "x", 1);
    write_file(fx_path(fx, 99, "index"), "12345678", 8);
    write_file(fx_path(fx, 99, "timeindex"), "", 0);
    fx_open(fx, true);
    assert_int_equal(count_files(fx->pdir, ".deleted"), 0);
    assert_int_equal(count_files(fx->pdir, ".cleaned"), 0);
    assert_int_equal(count_files(fx->pdir, ".swap"), 0);
    assert_int_equal(count_files(fx->pdir, ".index"), 1);
    assert_int_equal(count_files(fx->pdir, ".timeindex"), 1);
    assert_int_equal(weir_plog_end_offset(fx->log), 4);
}

static void
test_log_append_time(void **state)
{
    fx_t *fx = *state;
    weir_append_result_t res;
    weir_slice_t s;
    tb_opts_t o = tb(3, 1000);

    fx->cfg.log_append_time = true;
    fx_open(fx, false);
    assert_int_equal(fx_append_opts(fx, &o, 1700000000123LL, &res), WEIR_KERR_NONE);
    assert_int_equal(res.log_append_time, 1700000000123LL);
    assert_int_equal(weir_plog_read(fx->log, 0, 1 << 20, true, &s), WEIR_KERR_NONE);
    uint8_t *buf = weir_malloc((size_t)s.len);
    assert_int_equal(pread(s.fd, buf, (size_t)s.len, s.pos), s.len);
    weir_batch_hdr_t h;
    assert_int_equal(weir_batch_validate(buf, (size_t)s.len, &h), WEIR_KERR_NONE);
    assert_true(h.attributes & WEIR_BATCH_ATTR_LOG_APPEND_TIME);
    assert_int_equal(h.max_timestamp, 1700000000123LL);
    free(buf);
    weir_slice_release(&s);

    /* The time index uses the append time. */
    int64_t found = 0;
    assert_int_equal(weir_plog_offset_for_time(fx->log, 1500, &found), 0);
    assert_int_equal(found, 1700000000123LL);
    assert_int_equal(weir_plog_offset_for_time(fx->log, 1700000000124LL, &found), -1);
}

static void
test_idempotence(void **state)
{
    fx_t *fx = *state;
    weir_append_result_t res;
    tb_opts_t o;

    fx_open(fx, false);
    o = tb_idem(1000, 0, 0, 3);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_int_equal(res.base_offset, 0);
    o = tb_idem(1000, 0, 3, 2);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_int_equal(res.base_offset, 3);

    /* A retry of either cached batch: acknowledged, not appended. */
    o = tb_idem(1000, 0, 0, 3);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_true(res.duplicate);
    assert_int_equal(res.base_offset, 0);
    o = tb_idem(1000, 0, 3, 2);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_true(res.duplicate);
    assert_int_equal(res.base_offset, 3);
    assert_int_equal(weir_plog_end_offset(fx->log), 5);

    /* A gap, and a sequence from the past that is not cached. */
    o = tb_idem(1000, 0, 7, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    o = tb_idem(1000, 0, 1, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);

    /* Unknown producer not starting at 0. */
    o = tb_idem(2000, 0, 5, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_UNKNOWN_PRODUCER_ID);

    /* New epoch must start at 0. */
    o = tb_idem(1000, 1, 5, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    o = tb_idem(1000, 1, 0, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_int_equal(res.base_offset, 5);

    /* The old epoch is fenced. */
    o = tb_idem(1000, 0, 5, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_INVALID_PRODUCER_EPOCH);

    /* Non-idempotent batches are not checked. */
    o = tb(2, 0);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_int_equal(weir_plog_end_offset(fx->log), 10);

    /* Only the last five batches are remembered. */
    for (int i = 1; i <= 6; i++) {
        o = tb_idem(1000, 1, i, 1);
        assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    }
    o = tb_idem(1000, 1, 2, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_true(res.duplicate);
    assert_int_equal(res.base_offset, 11);
    o = tb_idem(1000, 1, 1, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);

    /* A whole request is checked before anything is written: two batches of
     * one producer in sequence, then a gap in the second. */
    weir_wbuf_t w;
    tb_opts_t a = tb_idem(3000, 0, 0, 2), b = tb_idem(3000, 0, 2, 2);
    weir_wbuf_init(&w, 256);
    tb_build(&w, &a);
    tb_build(&w, &b);
    assert_int_equal(weir_plog_append(fx->log, w.data, w.len, 1, &res), WEIR_KERR_NONE);
    assert_int_equal(res.base_offset, 16);
    weir_wbuf_free(&w);
    a = tb_idem(3000, 0, 4, 1);
    b = tb_idem(3000, 0, 6, 1);
    weir_wbuf_init(&w, 256);
    tb_build(&w, &a);
    tb_build(&w, &b);
    assert_int_equal(weir_plog_append(fx->log, w.data, w.len, 1, &res),
                     WEIR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    weir_wbuf_free(&w);
    a = tb_idem(3000, 0, 4, 1);
    assert_int_equal(fx_append_opts(fx, &a, 1, &res), WEIR_KERR_NONE);
    assert_int_equal(res.base_offset, 20);

    /* State is rebuilt from the log on open. */
    int64_t end = weir_plog_end_offset(fx->log);
    fx_reopen(fx, true);
    o = tb_idem(1000, 1, 6, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_true(res.duplicate);
    assert_int_equal(res.base_offset, 15);
    o = tb_idem(1000, 0, 7, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_INVALID_PRODUCER_EPOCH);
    o = tb_idem(3000, 0, 5, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_false(res.duplicate);
    assert_int_equal(res.base_offset, end);
}

static void
test_sequence_wrap(void **state)
{
    fx_t *fx = *state;
    weir_append_result_t res;
    weir_wbuf_t w;
    tb_opts_t a = tb_idem(6, 0, INT32_MAX - 1, 3), b = tb_idem(7, 0, INT32_MAX - 1, 2), o;

    /* Producers this far along can only come from the log: write it by
     * hand.  Producer 6's batch spans the wrap (last sequence 0), producer
     * 7's ends exactly at INT32_MAX. */
    mkdir(fx->pdir, 0755);
    weir_wbuf_init(&w, 256);
    tb_build(&w, &a);
    size_t first = w.len;
    tb_build(&w, &b);
    weir_put_be64(w.data + first, 3);
    write_file(fx_path(fx, 0, "log"), w.data, w.len);
    weir_wbuf_free(&w);
    fx_open(fx, true);
    assert_int_equal(weir_plog_end_offset(fx->log), 5);

    o = tb_idem(6, 0, 2, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    o = tb_idem(6, 0, 1, 2);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_int_equal(res.base_offset, 5);
    o = tb_idem(7, 0, 0, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_int_equal(res.base_offset, 7);
    /* The batch across the wrap is still recognised as a duplicate. */
    o = tb_idem(6, 0, INT32_MAX - 1, 3);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_true(res.duplicate);
    assert_int_equal(res.base_offset, 0);
}

static void
test_producer_state_snapshots(void **state)
{
    fx_t *fx = *state;
    weir_append_result_t res;
    weir_wbuf_t w;
    tb_opts_t o = tb(1, 0);
    int64_t bs;

    weir_wbuf_init(&w, 256);
    bs = (int64_t)tb_build(&w, &o);
    weir_wbuf_free(&w);
    fx->cfg.segment_bytes = 3 * bs;
    fx_open(fx, false);
    /* Producer 42 writes into the first segment only; others roll it. */
    o = tb_idem(42, 0, 0, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    for (int i = 0; i < 5; i++)
        fx_append(fx, 1, i);
    assert_true(count_files(fx->pdir, ".log") >= 2);
    assert_true(count_files(fx->pdir, ".snapshot") >= 1);

    /* Clean close: the close-time snapshot carries the producer. */
    fx_reopen(fx, false);
    o = tb_idem(42, 0, 0, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_true(res.duplicate);
    assert_int_equal(res.base_offset, 0);

    /* Crash: no close-time snapshot, the roll-time one (at 6) plus replay
     * of the segment after it. */
    for (int i = 0; i < 3; i++)
        fx_append(fx, 1, i);
    assert_int_equal(weir_plog_end_offset(fx->log), 9);
    fx_close(fx);
    assert_int_equal(count_files(fx->pdir, ".snapshot"), 2);
    unlink(fx_path(fx, 9, "snapshot"));
    write_file(fx_path(fx, 999, "snapshot"), "stale", 5); /* beyond the log end */
    fx_open(fx, true);
    assert_int_equal(file_size(fx_path(fx, 999, "snapshot")), -1);
    o = tb_idem(42, 0, 0, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_true(res.duplicate);
    o = tb_idem(42, 0, 1, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_false(res.duplicate);
    assert_int_equal(res.base_offset, 9);

    /* Producer 43 only in the active segment; then every snapshot is lost
     * or corrupt: the active segment alone is replayed, so producer 42
     * (whose last batch sits in an older segment now) is forgotten. */
    for (int i = 0; i < 3; i++)
        fx_append(fx, 1, i);
    o = tb_idem(43, 0, 0, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    int64_t p43 = res.base_offset;
    fx_close(fx);
    DIR *d = opendir(fx->pdir);
    struct dirent *e;
    char path[PATH_MAX + 300];
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 9 && strcmp(e->d_name + l - 9, ".snapshot") == 0) {
            snprintf(path, sizeof(path), "%s/%s", fx->pdir, e->d_name);
            write_file(path, "WPS1garbage!", 12);
        }
    }
    closedir(d);
    fx_open(fx, true);
    o = tb_idem(43, 0, 0, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    assert_true(res.duplicate);
    assert_int_equal(res.base_offset, p43);
    o = tb_idem(42, 0, 2, 1);
    assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_UNKNOWN_PRODUCER_ID);
    /* At most two snapshots are kept. */
    for (int i = 0; i < 20; i++)
        fx_append(fx, 1, i);
    assert_true(count_files(fx->pdir, ".snapshot") <= 2);
}

static int sync_calls;
static int sync_last_status;
static int sync_order[8];

static void
on_sync(void *arg, int status)
{
    sync_order[sync_calls % 8] = (int)(intptr_t)arg;
    sync_calls++;
    sync_last_status = status;
}

static void
test_sync_group_commit(void **state)
{
    fx_t *fx = *state;

    fx_open(fx, false);
    sync_calls = 0;
    fx_append(fx, 1, 0);
    weir_plog_sync(fx->log, on_sync, (void *)1);
    fx_append(fx, 1, 0);
    weir_plog_sync(fx->log, on_sync, (void *)2);
    weir_plog_sync(fx->log, on_sync, (void *)3);
    assert_int_equal(sync_calls, 0); /* never synchronous */
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(sync_calls, 3);
    assert_int_equal(sync_last_status, 0);
    assert_int_equal(sync_order[0], 1);

    /* Nothing to sync: still answered, on the loop. */
    weir_plog_sync(fx->log, on_sync, (void *)4);
    assert_int_equal(sync_calls, 3);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(sync_calls, 4);

    /* Close answers pending syncs (once). */
    fx_append(fx, 1, 0);
    weir_plog_sync(fx->log, on_sync, (void *)5);
    weir_plog_sync(fx->log, on_sync, (void *)6);
    weir_plog_close(fx->log);
    fx->log = NULL;
    assert_int_equal(sync_calls, 6);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(sync_calls, 6);
}

static void
test_flush_triggers(void **state)
{
    fx_t *fx = *state;

    /* flush.messages: a sync job starts by itself; a sync asked right after
     * waits for the next job, and the loop has work to run. */
    fx->cfg.flush_messages = 3;
    fx_open(fx, false);
    sync_calls = 0;
    fx_append(fx, 2, 0);
    assert_int_equal(uv_run(&fx->loop, UV_RUN_NOWAIT), 0); /* no job yet */
    fx_append(fx, 1, 0);
    assert_int_not_equal(uv_loop_alive(&fx->loop), 0); /* job queued */
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    fx_close(fx);

    /* flush.ms via tick. */
    fx->cfg.flush_messages = INT64_MAX;
    fx->cfg.flush_ms = 100;
    fx_open(fx, false);
    weir_append_result_t res;
    tb_opts_t o = tb(1, 0);
    assert_int_equal(fx_append_opts(fx, &o, 5000, &res), WEIR_KERR_NONE);
    weir_plog_tick(fx->log, 5050);
    assert_int_equal(uv_loop_alive(&fx->loop), 0);
    weir_plog_tick(fx->log, 5100);
    assert_int_not_equal(uv_loop_alive(&fx->loop), 0);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    weir_plog_tick(fx->log, 9000); /* flushed: nothing to do */
    assert_int_equal(uv_loop_alive(&fx->loop), 0);
}

static void
test_offset_for_time(void **state)
{
    fx_t *fx = *state;
    weir_append_result_t res;
    int64_t found;
    tb_opts_t o;

    fx->cfg.segment_bytes = 300; /* two batches per segment */
    fx->cfg.index_interval_bytes = 0;
    fx_open(fx, false);
    assert_int_equal(weir_plog_offset_for_time(fx->log, 0, &found), -1);
    /* Batches: [0..2] ts 1000,1010,1020; [3..5] ts 2000..; then a batch
     * with older timestamps [6..8] 1500..; then [9..11] 3000.. and more. */
    int64_t ts0[] = {1000, 2000, 1500, 3000, 4000, 5000, 6000};
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(ts0); i++) {
        o = tb(3, ts0[i]);
        o.ts_step = 10;
        assert_int_equal(fx_append_opts(fx, &o, 1, &res), WEIR_KERR_NONE);
    }
    assert_true(count_files(fx->pdir, ".log") >= 3);

    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(weir_plog_offset_for_time(fx->log, 0, &found), 0);
        assert_int_equal(found, 1000);
        assert_int_equal(weir_plog_offset_for_time(fx->log, 1010, &found), 1);
        assert_int_equal(found, 1010);
        assert_int_equal(weir_plog_offset_for_time(fx->log, 1011, &found), 2);
        assert_int_equal(found, 1020);
        assert_int_equal(weir_plog_offset_for_time(fx->log, 1021, &found), 3);
        assert_int_equal(found, 2000);
        assert_int_equal(weir_plog_offset_for_time(fx->log, 1600, &found), 3);
        assert_int_equal(weir_plog_offset_for_time(fx->log, 2015, &found), 5);
        assert_int_equal(weir_plog_offset_for_time(fx->log, 2021, &found), 9);
        assert_int_equal(found, 3000);
        assert_int_equal(weir_plog_offset_for_time(fx->log, 5005, &found), 16);
        assert_int_equal(found, 5010);
        assert_int_equal(weir_plog_offset_for_time(fx->log, 6020, &found), 20);
        assert_int_equal(weir_plog_offset_for_time(fx->log, 6021, &found), -1);
        fx_reopen(fx, pass == 0);
    }
}

static void
test_delete(void **state)
{
    fx_t *fx = *state;
    struct stat st;

    fx->cfg.segment_bytes = 500;
    fx_open(fx, false);
    for (int i = 0; i < 20; i++)
        fx_append(fx, 1, i);
    weir_plog_sync(fx->log, on_sync, NULL);
    sync_calls = 0;
    weir_plog_delete(fx->log);
    fx->log = NULL;
    assert_int_equal(sync_calls, 1);
    assert_int_equal(sync_last_status, UV_ECANCELED);
    assert_int_equal(stat(fx->pdir, &st), -1);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    /* Renamed aside, then removed. */
    assert_int_equal(count_files(fx->dir, "-delete"), 0);
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    assert_int_equal(n, 0);
}

/* Appends reserve the active segment's blocks ahead (fallocate with
 * KEEP_SIZE: the file size stays the bytes written, never past the
 * segment size) and a sealed or closed segment gives back what it did not
 * use. */
static int64_t
allocated(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return (int64_t)st.st_blocks * 512;
}

static void
test_block_reservation(void **state)
{
    fx_t *fx = *state;
    weir_wbuf_t w;
    tb_opts_t o = tb(4, 0);
    size_t bs;
    int64_t seg_bytes;

    weir_wbuf_init(&w, 256);
    bs = tb_build(&w, &o);
    weir_wbuf_free(&w);
    seg_bytes = (int64_t)(bs * 3 + bs / 2); /* three batches fit */
    fx->cfg.segment_bytes = 8 << 20 > seg_bytes ? 8 << 20 : seg_bytes;
    fx_open(fx, false);
    fx_append(fx, 4, 0);
    assert_int_equal(file_size(fx_path(fx, 0, "log")), (int64_t)bs);
    {
        /* Does this filesystem reserve blocks at all?  If not, there is
         * nothing to check (and nothing to give back). */
        char probe[PATH_MAX + 16];
        int pfd, ok;
        snprintf(probe, sizeof(probe), "%s/probe", fx->dir);
        pfd = open(probe, O_RDWR | O_CREAT, 0644);
        assert_true(pfd >= 0);
        ok = fallocate(pfd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20) == 0;
        close(pfd);
        unlink(probe);
        if (!ok) {
            fprintf(stderr, "note: no fallocate on this filesystem\n");
            return;
        }
    }
    /* reserved up to the segment size at most */
    assert_true(allocated(fx_path(fx, 0, "log")) >= fx->cfg.segment_bytes - 4096);
    assert_true(allocated(fx_path(fx, 0, "log")) <= fx->cfg.segment_bytes + 4096);
    read_all_check(fx);
    /* closing gives the rest back; the data is intact after a reopen */
    fx_reopen(fx, true);
    assert_true(allocated(fx_path(fx, 0, "log")) <= ((int64_t)bs + 4095) / 4096 * 4096);
    assert_int_equal(file_size(fx_path(fx, 0, "log")), (int64_t)bs);
    read_all_check(fx);
    fx_close(fx);

    /* rolling seals the full segment, which keeps only what it holds */
    fx->cfg.segment_bytes = seg_bytes;
    fx_open(fx, false);
    for (int i = 0; i < 3; i++)
        fx_append(fx, 4, i);
    assert_int_equal(count_files(fx->pdir, ".log"), 2);
    assert_true(allocated(fx_path(fx, 0, "log")) <= ((int64_t)(3 * bs) + 4095) / 4096 * 4096);
    read_all_check(fx);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_empty_dir_gets_segment),
        T(test_append_read_roundtrip),
        T(test_offsets_assignment),
        T(test_multi_batch_append_all_or_nothing),
        T(test_message_too_large),
        T(test_roll_by_size),
        T(test_block_reservation),
        T(test_roll_by_time),
        T(test_index_sparse_lookup),
        T(test_max_bytes_min_one),
        T(test_offset_out_of_range),
        T(test_read_across_segment_boundary),
        T(test_retention_by_time),
        T(test_retention_by_size_with_delay),
        T(test_reopen_keeps_everything),
        T(test_recovery_torn_tail),
        T(test_recovery_corrupt_crc_tail),
        T(test_recovery_garbage_appended),
        T(test_recovery_missing_and_bad_index),
        T(test_recovery_closed_segment_index),
        T(test_leftovers_removed),
        T(test_log_append_time),
        T(test_idempotence),
        T(test_sequence_wrap),
        T(test_producer_state_snapshots),
        T(test_sync_group_commit),
        T(test_flush_triggers),
        T(test_offset_for_time),
        T(test_delete),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
