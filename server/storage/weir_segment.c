/*
 * weir_segment.c: one log segment - creating and loading its files, the
 * in-memory offset and time indexes, recovery of a torn or corrupt tail,
 * rebuilding indexes from the .log, and retirement (rename to *.deleted).
 *
 * Everything read from disk is bounded by the .log file's size: an index
 * may hold at most one entry per smallest possible batch, and batch bodies
 * are checked (CRC) in fixed-size chunks, never read whole.
 */
#include "weir_segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir_buf.h"
#include "weir_common.h"
#include "weir_log.h"

#define SEG_SCAN_BUF (256 * 1024)
#define SEG_MIN_BATCH WEIR_BATCH_HDR_SIZE
#define SEG_NEED_REBUILD 1 /* internal: the index does not match the log */

/* ------------------------------------------------------------------------
 * Small file helpers
 * ------------------------------------------------------------------------ */

static int
seg_file(const weir_segment_t *seg, const char *ext, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s.%s", seg->path, ext);
    return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

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
write_full(int fd, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = write(fd, (const uint8_t *)buf + done, len - done);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        done += (size_t)r;
    }
    return 0;
}

/* Reads a whole file of at most max bytes.  Returns 0, -ENOENT, WEIR_ELIMIT
 * (too large) or -errno. */
static int
read_bounded(const char *path, int64_t max, uint8_t **out, size_t *out_len)
{
    struct stat st;
    uint8_t *data;
    ssize_t r;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    if (st.st_size > max) {
        close(fd);
        return WEIR_ELIMIT;
    }
    data = weir_malloc((size_t)st.st_size);
    r = pread_full(fd, data, (size_t)st.st_size, 0);
    close(fd);
    if (r < 0) {
        free(data);
        return (int)r;
    }
    *out = data;
    *out_len = (size_t)r;
    return 0;
}

/* ------------------------------------------------------------------------
 * Lifetime
 * ------------------------------------------------------------------------ */

static weir_segment_t *
seg_alloc(const char *dir, int64_t base_offset)
{
    weir_segment_t *seg = weir_calloc(1, sizeof(*seg));
    char name[32];

    snprintf(name, sizeof(name), "%020" PRId64, base_offset);
    seg->path = weir_malloc(strlen(dir) + 1 + strlen(name) + 1);
    sprintf(seg->path, "%s/%s", dir, name);
    seg->refcnt = 1;
    seg->base_offset = base_offset;
    seg->fd = seg->index_fd = seg->tindex_fd = -1;
    seg->next_offset = base_offset;
    seg->max_ts = -1;
    seg->max_ts_offset = -1;
    seg->created_ms = -1;
    return seg;
}

static void
seg_close_index_fds(weir_segment_t *seg)
{
    if (seg->index_fd >= 0)
        close(seg->index_fd);
    if (seg->tindex_fd >= 0)
        close(seg->tindex_fd);
    seg->index_fd = seg->tindex_fd = -1;
}

void
weir_segment_ref(weir_segment_t *seg)
{
    seg->refcnt++;
}

void
weir_segment_reserve(weir_segment_t *seg, int64_t len, int64_t limit)
{
    int64_t end;

    if (seg->reserved_end < 0 || seg->size + len <= seg->reserved_end)
        return;
    end = WEIR_MIN(seg->size + len + WEIR_SEGMENT_RESERVE_STEP, WEIR_MAX(limit, seg->size + len));
    if (fallocate(seg->fd, FALLOC_FL_KEEP_SIZE, (off_t)seg->size, (off_t)(end - seg->size)) == 0)
        seg->reserved_end = end;
    else if (errno == EOPNOTSUPP || errno == ENOSYS)
        seg->reserved_end = -1; /* never again on this segment */
    /* ENOSPC and the like: the write itself may still fit; try next time */
}

/* Gives back the blocks reserved past the data (a sealed or closed segment
 * grows no more): truncating to the size it has frees blocks past the end
 * (punching a hole beyond the end does not, on ext4). */
static void
seg_release_reserve(weir_segment_t *seg)
{
    if (seg->fd >= 0 && !seg->retired && seg->reserved_end > seg->size)
        (void)ftruncate(seg->fd, (off_t)seg->size);
    if (seg->reserved_end > 0)
        seg->reserved_end = 0;
}

void
weir_segment_unref(weir_segment_t *seg)
{
    if (--seg->refcnt > 0)
        return;
    seg_release_reserve(seg);
    seg_close_index_fds(seg);
    if (seg->fd >= 0)
        close(seg->fd);
    free(seg->idx);
    free(seg->tidx);
    free(seg->path);
    free(seg);
}

static int
seg_open_index_fds(weir_segment_t *seg)
{
    char path[PATH_MAX];
    int rc;

    if ((rc = seg_file(seg, "index", path, sizeof(path))) != 0)
        return rc;
    seg->index_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (seg->index_fd < 0)
        return -errno;
    if ((rc = seg_file(seg, "timeindex", path, sizeof(path))) != 0)
        return rc;
    seg->tindex_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (seg->tindex_fd < 0)
        return -errno;
    return 0;
}

int
weir_segment_create(const char *dir, int64_t base_offset, weir_segment_t **out)
{
    weir_segment_t *seg = seg_alloc(dir, base_offset);
    char path[PATH_MAX];
    int rc;

    if ((rc = seg_file(seg, "log", path, sizeof(path))) != 0)
        goto fail;
    seg->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (seg->fd < 0) {
        rc = -errno;
        goto fail;
    }
    if ((rc = seg_open_index_fds(seg)) != 0)
        goto fail;
    if (ftruncate(seg->index_fd, 0) != 0 || ftruncate(seg->tindex_fd, 0) != 0) {
        rc = -errno;
        goto fail;
    }
    *out = seg;
    return 0;

fail:
    weir_segment_unref(seg);
    return rc;
}

/* ------------------------------------------------------------------------
 * In-memory indexes
 * ------------------------------------------------------------------------ */

static void
idx_push(weir_segment_t *seg, int32_t rel, int32_t pos)
{
    if (seg->idx_n == seg->idx_cap) {
        seg->idx_cap = seg->idx_cap ? seg->idx_cap * 2 : 64;
        seg->idx = weir_realloc(seg->idx, seg->idx_cap * sizeof(*seg->idx));
    }
    seg->idx[seg->idx_n].rel = rel;
    seg->idx[seg->idx_n].pos = pos;
    seg->idx_n++;
}

static void
tidx_push(weir_segment_t *seg, int64_t ts, int32_t rel)
{
    if (seg->tidx_n == seg->tidx_cap) {
        seg->tidx_cap = seg->tidx_cap ? seg->tidx_cap * 2 : 64;
        seg->tidx = weir_realloc(seg->tidx, seg->tidx_cap * sizeof(*seg->tidx));
    }
    seg->tidx[seg->tidx_n].ts = ts;
    seg->tidx[seg->tidx_n].rel = rel;
    seg->tidx_n++;
}

static void
encode_idx(uint8_t *p, int32_t rel, int32_t pos)
{
    weir_put_be32(p, (uint32_t)rel);
    weir_put_be32(p + 4, (uint32_t)pos);
}

static void
encode_tidx(uint8_t *p, int64_t ts, int32_t rel)
{
    weir_put_be64(p, (uint64_t)ts);
    weir_put_be32(p + 8, (uint32_t)rel);
}

void
weir_segment_note_append(weir_segment_t *seg, int64_t pos, int64_t size, int64_t base_offset,
                         int64_t last_offset, int64_t ts, int32_t index_interval, uint8_t *ibuf,
                         size_t *ilen, uint8_t *tbuf, size_t *tlen)
{
    (void)base_offset;
    if (ts > seg->max_ts) {
        seg->max_ts = ts;
        seg->max_ts_offset = last_offset;
    }
    /* Kafka's rule: an entry for this batch once enough bytes were written
     * since the previous one; the time index follows the offset index and
     * records the segment's largest timestamp so far when it grew. */
    if (seg->bytes_since_index >= index_interval && pos <= INT32_MAX) {
        int32_t rel = (int32_t)(last_offset - seg->base_offset);
        if (seg->idx_n == 0 || (rel > seg->idx[seg->idx_n - 1].rel &&
                                pos > seg->idx[seg->idx_n - 1].pos)) {
            idx_push(seg, rel, (int32_t)pos);
            if (ibuf) {
                encode_idx(ibuf + *ilen, rel, (int32_t)pos);
                *ilen += WEIR_INDEX_ENTRY_SIZE;
            }
        }
        if (seg->max_ts >= 0 && (seg->tidx_n == 0 || seg->max_ts > seg->tidx[seg->tidx_n - 1].ts)) {
            int32_t trel = (int32_t)(seg->max_ts_offset - seg->base_offset);
            tidx_push(seg, seg->max_ts, trel);
            if (tbuf) {
                encode_tidx(tbuf + *tlen, seg->max_ts, trel);
                *tlen += WEIR_TIMEINDEX_ENTRY_SIZE;
            }
        }
        seg->bytes_since_index = 0;
    }
    seg->bytes_since_index += size;
    seg->size = pos + size;
    seg->next_offset = last_offset + 1;
}

/* A failed index write leaves a file we can no longer trust: remove it so
 * that the next open rebuilds it from the log; in-memory entries stay. */
static void
seg_index_write_failed(weir_segment_t *seg, const char *ext, int *fdp, int err)
{
    char path[PATH_MAX];

    WEIR_LOG(WEIR_LOG_WARN, "segment_index_write_failed", "segment=%s ext=%s err=%s", seg->path,
             ext, strerror(-err));
    if (*fdp >= 0)
        close(*fdp);
    *fdp = -1;
    if (seg_file(seg, ext, path, sizeof(path)) == 0)
        unlink(path);
}

void
weir_segment_write_index(weir_segment_t *seg, const uint8_t *ibuf, size_t ilen,
                         const uint8_t *tbuf, size_t tlen)
{
    int rc;

    if (ilen > 0 && seg->index_fd >= 0 && (rc = write_full(seg->index_fd, ibuf, ilen)) != 0)
        seg_index_write_failed(seg, "index", &seg->index_fd, rc);
    if (tlen > 0 && seg->tindex_fd >= 0 && (rc = write_full(seg->tindex_fd, tbuf, tlen)) != 0)
        seg_index_write_failed(seg, "timeindex", &seg->tindex_fd, rc);
}

int64_t
weir_segment_index_lookup(const weir_segment_t *seg, int64_t offset)
{
    int64_t rel = offset - seg->base_offset;
    size_t lo = 0, hi = seg->idx_n;

    /* Largest entry with entry.rel <= rel. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (seg->idx[mid].rel <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : seg->idx[lo - 1].pos;
}

int64_t
weir_segment_index_pos_below(const weir_segment_t *seg, int64_t floor, int64_t limit)
{
    size_t lo = 0, hi = seg->idx_n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (seg->idx[mid].pos <= limit)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || seg->idx[lo - 1].pos <= floor)
        return -1;
    return seg->idx[lo - 1].pos;
}

int64_t
weir_segment_tindex_lookup(const weir_segment_t *seg, int64_t ts)
{
    size_t lo = 0, hi = seg->tidx_n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (seg->tidx[mid].ts <= ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? -1 : seg->base_offset + seg->tidx[lo - 1].rel;
}

/* ------------------------------------------------------------------------
 * Reading batch headers back
 * ------------------------------------------------------------------------ */

int
weir_segment_peek(const weir_segment_t *seg, int64_t pos, bool full, weir_seg_batch_t *b)
{
    uint8_t hdr[WEIR_BATCH_HDR_SIZE];
    size_t want = full ? WEIR_BATCH_HDR_SIZE : WEIR_SEG_PEEK_SIZE;
    int64_t len;
    ssize_t r;

    if (pos >= seg->size)
        return 0;
    if (seg->size - pos < SEG_MIN_BATCH)
        return WEIR_ECORRUPT;
    r = pread_full(seg->fd, hdr, want, pos);
    if (r < 0)
        return (int)r;
    if ((size_t)r < want)
        return WEIR_ECORRUPT;
    len = (int32_t)weir_be32(hdr + WEIR_BATCH_OFF_LENGTH);
    if (len < SEG_MIN_BATCH - WEIR_BATCH_LOG_OVERHEAD || hdr[WEIR_BATCH_OFF_MAGIC] != 2 ||
        pos + WEIR_BATCH_LOG_OVERHEAD + len > seg->size)
        return WEIR_ECORRUPT;
    memset(&b->hdr, 0, sizeof(b->hdr));
    if (full) {
        weir_batch_hdr_decode(hdr, &b->hdr);
    } else {
        b->hdr.base_offset = (int64_t)weir_be64(hdr + WEIR_BATCH_OFF_BASE_OFFSET);
        b->hdr.batch_length = (int32_t)len;
        b->hdr.magic = 2;
        b->hdr.last_offset_delta = (int32_t)weir_be32(hdr + WEIR_BATCH_OFF_LAST_OFFSET_DELTA);
    }
    b->pos = pos;
    b->size = len + WEIR_BATCH_LOG_OVERHEAD;
    return 1;
}

/* Sequential reader over a segment file with a fixed-size buffer. */
typedef struct seg_scan_s {
    int fd;
    int64_t fsize;
    uint8_t *buf;
    int64_t buf_off;
    size_t buf_len;
} seg_scan_t;

static void
scan_init(seg_scan_t *s, int fd, int64_t fsize)
{
    s->fd = fd;
    s->fsize = fsize;
    s->buf = weir_malloc(SEG_SCAN_BUF);
    s->buf_off = 0;
    s->buf_len = 0;
}

static void
scan_free(seg_scan_t *s)
{
    free(s->buf);
    s->buf = NULL;
}

/* Makes file bytes [off, off + n) (n <= SEG_SCAN_BUF, inside the file)
 * available; returns 0 with *out pointing at them. */
static int
scan_fill(seg_scan_t *s, int64_t off, size_t n, const uint8_t **out)
{
    size_t want;
    ssize_t r;

    if (off >= s->buf_off && off + (int64_t)n <= s->buf_off + (int64_t)s->buf_len) {
        *out = s->buf + (off - s->buf_off);
        return 0;
    }
    want = (size_t)WEIR_MIN((int64_t)SEG_SCAN_BUF, s->fsize - off);
    r = pread_full(s->fd, s->buf, want, off);
    if (r < 0)
        return (int)r;
    s->buf_off = off;
    s->buf_len = (size_t)r;
    if ((size_t)r < n)
        return WEIR_ECORRUPT; /* the file shrank under us */
    *out = s->buf;
    return 0;
}

/* Reads the batch at pos.  Returns 1 with b filled, 0 at the end of the
 * file, WEIR_ECORRUPT (with *why) for a torn or corrupt batch, -errno. */
static int
scan_batch(seg_scan_t *s, int64_t pos, bool check_crc, weir_seg_batch_t *b, const char **why)
{
    int64_t rem = s->fsize - pos;
    const uint8_t *p;
    int rc;

    if (rem <= 0)
        return 0;
    if (rem < SEG_MIN_BATCH) {
        *why = "torn_header";
        return WEIR_ECORRUPT;
    }
    if ((rc = scan_fill(s, pos, WEIR_BATCH_HDR_SIZE, &p)) != 0) {
        *why = "short_read";
        return rc;
    }
    weir_batch_hdr_decode(p, &b->hdr);
    if (b->hdr.magic != 2) {
        *why = "bad_magic";
        return WEIR_ECORRUPT;
    }
    if (b->hdr.batch_length < SEG_MIN_BATCH - WEIR_BATCH_LOG_OVERHEAD) {
        *why = "bad_length";
        return WEIR_ECORRUPT;
    }
    b->pos = pos;
    b->size = (int64_t)b->hdr.batch_length + WEIR_BATCH_LOG_OVERHEAD;
    if (b->size > rem) {
        *why = "torn_batch";
        return WEIR_ECORRUPT;
    }
    if (check_crc) {
        uint32_t crc = 0;
        int64_t off = pos + WEIR_BATCH_OFF_ATTRIBUTES, end = pos + b->size;
        while (off < end) {
            size_t n = (size_t)WEIR_MIN((int64_t)SEG_SCAN_BUF, end - off);
            if ((rc = scan_fill(s, off, n, &p)) != 0) {
                *why = "short_read";
                return rc;
            }
            crc = weir_crc32c(crc, p, n);
            off += (int64_t)n;
        }
        if (crc != b->hdr.crc) {
            *why = "crc_mismatch";
            return WEIR_ECORRUPT;
        }
    }
    return 1;
}

int
weir_segment_scan_headers(const weir_segment_t *seg,
                          void (*fn)(void *arg, const weir_seg_batch_t *b), void *arg)
{
    seg_scan_t s;
    weir_seg_batch_t b;
    const char *why = NULL;
    int64_t pos = 0;
    int rc;

    scan_init(&s, seg->fd, seg->size);
    while ((rc = scan_batch(&s, pos, false, &b, &why)) == 1) {
        fn(arg, &b);
        pos += b.size;
    }
    scan_free(&s);
    return rc < 0 && rc != WEIR_ECORRUPT ? rc : 0;
}

/* ------------------------------------------------------------------------
 * Loading, recovery and index rebuilds
 * ------------------------------------------------------------------------ */

/* Reads and structurally checks both index files.  Returns true when both
 * exist and are sound (entry-sized, ordered, positions inside the log). */
static bool
seg_load_indexes(weir_segment_t *seg)
{
    char path[PATH_MAX];
    uint8_t *data = NULL;
    size_t len = 0;
    /* At most one entry per smallest possible batch. */
    int64_t max_entries = seg->size / SEG_MIN_BATCH + 1;
    bool ok = false;
    int rc;

    if (seg_file(seg, "index", path, sizeof(path)) != 0)
        return false;
    rc = read_bounded(path, max_entries * WEIR_INDEX_ENTRY_SIZE, &data, &len);
    if (rc != 0) {
        if (rc != -ENOENT || seg->size > 0)
            WEIR_LOG(WEIR_LOG_WARN, "segment_index_invalid", "segment=%s reason=%s", seg->path,
                     rc == -ENOENT ? "missing" : rc == WEIR_ELIMIT ? "too_large" : "read_error");
        return false;
    }
    if (len % WEIR_INDEX_ENTRY_SIZE != 0)
        goto bad;
    for (size_t i = 0; i < len; i += WEIR_INDEX_ENTRY_SIZE) {
        int32_t rel = (int32_t)weir_be32(data + i);
        int32_t pos = (int32_t)weir_be32(data + i + 4);
        if (rel < 0 || pos < 0 || pos >= seg->size)
            goto bad;
        if (seg->idx_n > 0 && (rel <= seg->idx[seg->idx_n - 1].rel ||
                               pos <= seg->idx[seg->idx_n - 1].pos))
            goto bad;
        idx_push(seg, rel, pos);
    }
    free(data);
    data = NULL;

    if (seg_file(seg, "timeindex", path, sizeof(path)) != 0)
        goto bad;
    rc = read_bounded(path, max_entries * WEIR_TIMEINDEX_ENTRY_SIZE, &data, &len);
    if (rc != 0)
        goto bad;
    if (len % WEIR_TIMEINDEX_ENTRY_SIZE != 0)
        goto bad;
    for (size_t i = 0; i < len; i += WEIR_TIMEINDEX_ENTRY_SIZE) {
        int64_t ts = (int64_t)weir_be64(data + i);
        int32_t rel = (int32_t)weir_be32(data + i + 8);
        if (rel < 0 || ts < 0)
            goto bad;
        if (seg->tidx_n > 0 && (ts <= seg->tidx[seg->tidx_n - 1].ts ||
                                rel < seg->tidx[seg->tidx_n - 1].rel))
            goto bad;
        tidx_push(seg, ts, rel);
    }
    ok = true;

bad:
    if (!ok) {
        WEIR_LOG(WEIR_LOG_WARN, "segment_index_invalid", "segment=%s reason=inconsistent",
                 seg->path);
        seg->idx_n = seg->tidx_n = 0;
    }
    free(data);
    return ok;
}

static int
seg_truncate_log(weir_segment_t *seg, int64_t pos, const char *why, int64_t *truncated)
{
    WEIR_LOG(WEIR_LOG_WARN, "segment_truncated", "segment=%s position=%" PRId64
             " bytes=%" PRId64 " reason=%s", seg->path, pos, seg->size - pos, why);
    if (ftruncate(seg->fd, (off_t)pos) != 0)
        return -errno;
    *truncated += seg->size - pos;
    seg->size = pos;
    return 0;
}

/* Rewrites one index file from memory (used after a rebuild and for the
 * cleaner's output, whose files carry a ".cleaned" suffix). */
static int
seg_write_index_file(weir_segment_t *seg, const char *ext, const char *suffix,
                     const uint8_t *data, size_t len)
{
    char path[PATH_MAX];
    int fd, rc;

    if ((rc = seg_file(seg, ext, path, sizeof(path))) != 0)
        return rc;
    if (strlen(path) + strlen(suffix) >= sizeof(path))
        return -ENAMETOOLONG;
    strcat(path, suffix);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    rc = write_full(fd, data, len);
    close(fd);
    return rc;
}

static int
seg_write_indexes(weir_segment_t *seg, const char *suffix)
{
    size_t ilen = seg->idx_n * WEIR_INDEX_ENTRY_SIZE;
    size_t tlen = seg->tidx_n * WEIR_TIMEINDEX_ENTRY_SIZE;
    uint8_t *ibuf = weir_malloc(ilen);
    uint8_t *tbuf = weir_malloc(tlen);
    int rc;

    for (size_t i = 0; i < seg->idx_n; i++)
        encode_idx(ibuf + i * WEIR_INDEX_ENTRY_SIZE, seg->idx[i].rel, seg->idx[i].pos);
    for (size_t i = 0; i < seg->tidx_n; i++)
        encode_tidx(tbuf + i * WEIR_TIMEINDEX_ENTRY_SIZE, seg->tidx[i].ts, seg->tidx[i].rel);
    rc = seg_write_index_file(seg, "index", suffix, ibuf, ilen);
    if (rc == 0)
        rc = seg_write_index_file(seg, "timeindex", suffix, tbuf, tlen);
    free(ibuf);
    free(tbuf);
    return rc;
}

/* Cuts both index files down to the in-memory entry counts. */
static int
seg_truncate_index_files(weir_segment_t *seg)
{
    char path[PATH_MAX];
    int rc;

    if ((rc = seg_file(seg, "index", path, sizeof(path))) != 0 ||
        truncate(path, (off_t)(seg->idx_n * WEIR_INDEX_ENTRY_SIZE)) != 0)
        return rc ? rc : -errno;
    if ((rc = seg_file(seg, "timeindex", path, sizeof(path))) != 0 ||
        truncate(path, (off_t)(seg->tidx_n * WEIR_TIMEINDEX_ENTRY_SIZE)) != 0)
        return rc ? rc : -errno;
    return 0;
}

/* Offsets of a batch read back must be sane and increasing. */
static bool
seg_offsets_ok(const weir_segment_t *seg, const weir_batch_hdr_t *h, int64_t next)
{
    if (h->last_offset_delta < 0 || h->base_offset < seg->base_offset || h->base_offset < next)
        return false;
    if (h->base_offset > INT64_MAX - h->last_offset_delta)
        return false;
    return h->base_offset + h->last_offset_delta - seg->base_offset <= INT32_MAX;
}

/* Rebuilds both indexes from the .log, validating every batch and cutting
 * the log at the first bad one. */
static int
seg_rebuild(weir_segment_t *seg, int32_t index_interval, int64_t *truncated)
{
    seg_scan_t s;
    weir_seg_batch_t b;
    const char *why = NULL;
    int64_t pos = 0, fsize = seg->size;
    int rc;

    WEIR_LOG(WEIR_LOG_INFO, "segment_index_rebuild", "segment=%s bytes=%" PRId64, seg->path,
             seg->size);
    seg->idx_n = seg->tidx_n = 0;
    seg->max_ts = seg->max_ts_offset = -1;
    seg->bytes_since_index = 0;
    seg->next_offset = seg->base_offset;
    scan_init(&s, seg->fd, seg->size);
    for (;;) {
        rc = scan_batch(&s, pos, true, &b, &why);
        if (rc == 1 && !seg_offsets_ok(seg, &b.hdr, seg->next_offset)) {
            why = "bad_offsets";
            rc = WEIR_ECORRUPT;
        }
        if (rc != 1)
            break;
        weir_segment_note_append(seg, pos, b.size, b.hdr.base_offset,
                                 b.hdr.base_offset + b.hdr.last_offset_delta,
                                 b.hdr.max_timestamp, index_interval, NULL, NULL, NULL, NULL);
        pos += b.size;
    }
    scan_free(&s);
    seg->size = fsize; /* note_append tracked the valid prefix only */
    if (rc < 0 && rc != WEIR_ECORRUPT)
        return rc;
    if (rc == WEIR_ECORRUPT && (rc = seg_truncate_log(seg, pos, why, truncated)) != 0)
        return rc;
    seg->size = pos;
    return seg_write_indexes(seg, "");
}

/*
 * Walks the batches after the last offset index entry to find the next
 * offset and the newest timestamps; with validate set checks CRCs and cuts a
 * torn or corrupt tail.  Returns 0, SEG_NEED_REBUILD when the index does not
 * match the log, or a negative error.
 */
static int
seg_scan_tail(weir_segment_t *seg, bool validate, int64_t *truncated)
{
    seg_scan_t s;
    weir_seg_batch_t b;
    const char *why = NULL;
    int64_t start, pos, next, expect_last, scan_max_ts = -1, scan_max_off = -1;
    size_t idx_n0 = seg->idx_n, tidx_n0 = seg->tidx_n;
    int rc;

restart:
    start = seg->idx_n ? seg->idx[seg->idx_n - 1].pos : 0;
    expect_last = seg->idx_n ? seg->base_offset + seg->idx[seg->idx_n - 1].rel : -1;
    next = start == 0 ? seg->base_offset : INT64_MIN;
    pos = start;
    scan_max_ts = scan_max_off = -1;
    scan_init(&s, seg->fd, seg->size);
    for (;;) {
        rc = scan_batch(&s, pos, validate, &b, &why);
        if (rc == 1 && !seg_offsets_ok(seg, &b.hdr, next)) {
            why = "bad_offsets";
            rc = WEIR_ECORRUPT;
        }
        if (rc != 1)
            break;
        if (pos == start && expect_last >= 0 &&
            b.hdr.base_offset + b.hdr.last_offset_delta != expect_last) {
            scan_free(&s);
            return SEG_NEED_REBUILD;
        }
        next = b.hdr.base_offset + b.hdr.last_offset_delta + 1;
        if (b.hdr.max_timestamp > scan_max_ts) {
            scan_max_ts = b.hdr.max_timestamp;
            scan_max_off = next - 1;
        }
        pos += b.size;
    }
    scan_free(&s);
    if (rc < 0 && rc != WEIR_ECORRUPT)
        return rc;
    if (rc == WEIR_ECORRUPT) {
        if (!validate) {
            /* Files were to be trusted, but the tail does not parse: the
             * shutdown was not clean after all.  Recover it. */
            WEIR_LOG(WEIR_LOG_WARN, "segment_tail_unsound", "segment=%s position=%" PRId64
                     " reason=%s", seg->path, pos, why);
            validate = true;
            goto restart;
        }
        if (pos == start && seg->idx_n > 0) {
            /* The indexed batch itself is bad: step back one entry. */
            seg->idx_n--;
            goto restart;
        }
        if ((rc = seg_truncate_log(seg, pos, why, truncated)) != 0)
            return rc;
    }
    seg->next_offset = next == INT64_MIN ? seg->base_offset : next;

    /* Time index entries can only name offsets that exist. */
    size_t keep = seg->tidx_n;
    while (keep > 0 && seg->base_offset + seg->tidx[keep - 1].rel >= seg->next_offset)
        keep--;
    seg->tidx_n = keep;
    if (seg->tidx_n > 0) {
        seg->max_ts = seg->tidx[seg->tidx_n - 1].ts;
        seg->max_ts_offset = seg->base_offset + seg->tidx[seg->tidx_n - 1].rel;
    }
    if (scan_max_ts > seg->max_ts) {
        seg->max_ts = scan_max_ts;
        seg->max_ts_offset = scan_max_off;
    }
    seg->bytes_since_index = seg->size - (seg->idx_n ? seg->idx[seg->idx_n - 1].pos : 0);
    if (seg->idx_n != idx_n0 || seg->tidx_n != tidx_n0)
        return seg_truncate_index_files(seg);
    return 0;
}

int
weir_segment_load(const char *dir, int64_t base_offset, bool recover, bool active,
                  int32_t index_interval, weir_segment_t **out, int64_t *truncated)
{
    weir_segment_t *seg = seg_alloc(dir, base_offset);
    char path[PATH_MAX];
    struct stat st;
    int rc;

    *truncated = 0;
    if ((rc = seg_file(seg, "log", path, sizeof(path))) != 0)
        goto fail;
    seg->fd = open(path, O_RDWR | O_CLOEXEC);
    if (seg->fd < 0 || fstat(seg->fd, &st) != 0) {
        rc = -errno;
        goto fail;
    }
    seg->size = st.st_size;

    if (!seg_load_indexes(seg)) {
        rc = seg_rebuild(seg, index_interval, truncated);
    } else {
        /* Only the active segment can have a torn tail after a crash. */
        rc = seg_scan_tail(seg, recover && active, truncated);
        if (rc == SEG_NEED_REBUILD) {
            WEIR_LOG(WEIR_LOG_WARN, "segment_index_invalid", "segment=%s reason=mismatch",
                     seg->path);
            rc = seg_rebuild(seg, index_interval, truncated);
        }
    }
    if (rc != 0)
        goto fail;

    if (seg->size > 0) {
        weir_seg_batch_t first;
        if (weir_segment_peek(seg, 0, true, &first) == 1 && first.hdr.max_timestamp >= 0)
            seg->created_ms = first.hdr.max_timestamp;
        else if (fstat(seg->fd, &st) == 0)
            seg->created_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    }
    if (active) {
        if ((rc = seg_open_index_fds(seg)) != 0)
            goto fail;
    } else {
        weir_segment_seal(seg);
    }
    *out = seg;
    return 0;

fail:
    weir_segment_unref(seg);
    return rc;
}

/* The closing time index entry of an inactive segment: its largest
 * timestamp, when the last entry does not hold it yet.  Returns true when
 * an entry was added. */
static bool
seg_push_final_tindex(weir_segment_t *seg)
{
    if (seg->max_ts < 0 || (seg->tidx_n > 0 && seg->max_ts <= seg->tidx[seg->tidx_n - 1].ts))
        return false;
    tidx_push(seg, seg->max_ts, (int32_t)(seg->max_ts_offset - seg->base_offset));
    return true;
}

void
weir_segment_seal(weir_segment_t *seg)
{
    seg_release_reserve(seg);
    if (seg_push_final_tindex(seg)) {
        uint8_t e[WEIR_TIMEINDEX_ENTRY_SIZE];
        int32_t rel = (int32_t)(seg->max_ts_offset - seg->base_offset);
        char path[PATH_MAX];

        encode_tidx(e, seg->max_ts, rel);
        if (seg->tindex_fd < 0 && seg_file(seg, "timeindex", path, sizeof(path)) == 0)
            seg->tindex_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        weir_segment_write_index(seg, NULL, 0, e, sizeof(e));
    }
    seg_close_index_fds(seg);
}

void
weir_segment_retire(weir_segment_t *seg, char *paths[3])
{
    static const char *const exts[3] = {"log", "index", "timeindex"};
    char from[PATH_MAX], to[PATH_MAX + 16];

    seg_close_index_fds(seg);
    seg->retired = true;
    for (int i = 0; i < 3; i++) {
        paths[i] = NULL;
        if (seg_file(seg, exts[i], from, sizeof(from)) != 0)
            continue;
        snprintf(to, sizeof(to), "%s.deleted", from);
        if (rename(from, to) == 0) {
            paths[i] = weir_strdup(to);
        } else if (errno != ENOENT) {
            WEIR_LOG(WEIR_LOG_WARN, "segment_rename_failed", "file=%s err=%s", from,
                     strerror(errno));
            paths[i] = weir_strdup(from); /* remove it under its own name */
        }
    }
}

/* ------------------------------------------------------------------------
 * The cleaner's output segments
 * ------------------------------------------------------------------------ */

int
weir_segment_create_cleaned(const char *dir, int64_t base_offset, weir_segment_t **out)
{
    weir_segment_t *seg = seg_alloc(dir, base_offset);
    char path[PATH_MAX];
    int rc;

    if ((rc = seg_file(seg, "log" WEIR_SEGMENT_CLEANED_SUFFIX, path, sizeof(path))) != 0)
        goto fail;
    seg->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (seg->fd < 0) {
        rc = -errno;
        goto fail;
    }
    *out = seg;
    return 0;

fail:
    weir_segment_unref(seg);
    return rc;
}

int
weir_segment_finish_cleaned(weir_segment_t *seg)
{
    int rc;

    seg_push_final_tindex(seg);
    if ((rc = seg_write_indexes(seg, WEIR_SEGMENT_CLEANED_SUFFIX)) != 0)
        return rc;
    if (fdatasync(seg->fd) != 0)
        return -errno;
    return 0;
}
