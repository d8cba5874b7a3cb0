/*
 * weir_records.c: iteration over the records of one magic-v2 batch
 * (decompressing the records section when the batch is compressed), record
 * header walking, and the timestamp lookup ListOffsets uses.
 *
 * Everything here reads untrusted bytes: every field goes through the
 * bounds-checked weir_rbuf_t reader, each record is parsed inside the exact
 * extent its length varint declares, and the fields must consume that extent
 * exactly.  The batch CRC is not checked here: batches are CRC-validated when
 * they are produced (weir_batch_validate) and when segments are recovered.
 */
#include "weir_records.h"

#include "weir_common.h"
#include "weir_varint.h"

/* Smallest encoded record body: attributes, timestampDelta, offsetDelta, key
 * length, value length and header count, one byte each. */
#define WEIR_RECORD_MIN_BODY 6
/* Smallest encoded header: key length 0 and value length -1. */
#define WEIR_HEADER_MIN_SIZE 2

static void
weir_record_iter_fail(weir_record_iter_t *it, int err)
{
    it->err = err;
    it->remaining = 0;
}

int
weir_record_iter_init(weir_record_iter_t *it, const uint8_t *p, size_t len, size_t max_decompressed)
{
    const uint8_t *sec;
    size_t total, sec_len;
    weir_codec_t codec;

    memset(it, 0, sizeof(*it));
    weir_rbuf_init(&it->rd, NULL, 0);

    if (len < WEIR_BATCH_HDR_SIZE) {
        weir_record_iter_fail(it, WEIR_EPARSE);
        return it->err;
    }
    weir_batch_hdr_decode(p, &it->hdr);
    if (it->hdr.magic != 2 ||
        it->hdr.batch_length < WEIR_BATCH_HDR_SIZE - WEIR_BATCH_LOG_OVERHEAD ||
        it->hdr.records_count < 0) {
        weir_record_iter_fail(it, WEIR_EPARSE);
        return it->err;
    }
    total = weir_batch_total_size(&it->hdr);
    if (total > len) {
        weir_record_iter_fail(it, WEIR_EPARSE);
        return it->err;
    }
    sec = p + WEIR_BATCH_HDR_SIZE;
    sec_len = total - WEIR_BATCH_HDR_SIZE;

    codec = (weir_codec_t)(it->hdr.attributes & WEIR_BATCH_ATTR_COMPRESSION_MASK);
    if (codec == WEIR_CODEC_NONE) {
        weir_rbuf_init(&it->rd, sec, sec_len);
    } else if (codec <= WEIR_CODEC_ZSTD) {
        size_t out_len;
        int rc;

        if (it->hdr.records_count == 0 && sec_len == 0) {
            /* Nothing compressed and nothing to read. */
            weir_rbuf_init(&it->rd, sec, 0);
        } else {
            rc = weir_decompress(codec, sec, sec_len, max_decompressed, &it->owned, &out_len);
            if (rc) {
                weir_record_iter_fail(it, rc);
                return rc;
            }
            weir_rbuf_init(&it->rd, it->owned, out_len);
        }
    } else {
        weir_record_iter_fail(it, WEIR_EPARSE);
        return it->err;
    }

    /* Every record takes at least 7 bytes (length varint + minimal body), so
     * a count the section cannot hold is refused up front. */
    if ((size_t)it->hdr.records_count > it->rd.len / (WEIR_RECORD_MIN_BODY + 1)) {
        free(it->owned);
        it->owned = NULL;
        weir_record_iter_fail(it, WEIR_EPARSE);
        return it->err;
    }
    it->remaining = it->hdr.records_count;
    return 0;
}

/* Reads a varint length that must be -1 (null, when nullable) or a length
 * whose bytes follow; returns the view. */
static weir_str_t
weir_rd_record_bytes(weir_rbuf_t *r, bool nullable)
{
    weir_str_t s = WEIR_STR_NULL;
    int32_t n = weir_rd_varint(r);
    const uint8_t *p;

    if (r->err)
        return s;
    if (n < 0) {
        if (n != -1 || !nullable)
            r->err = WEIR_EPARSE;
        return s;
    }
    p = weir_rd_raw(r, (size_t)n);
    if (!p)
        return s;
    s.len = n;
    s.ptr = (const char *)p;
    return s;
}

/* Parses one header from r into h; sets r->err on malformed input. */
static void
weir_rd_record_header(weir_rbuf_t *r, weir_header_t *h)
{
    h->key = weir_rd_record_bytes(r, false);
    h->value = weir_rd_record_bytes(r, true);
}

bool
weir_record_iter_next(weir_record_iter_t *it, weir_record_t *rec)
{
    weir_rbuf_t body;
    const uint8_t *p;
    int32_t rlen, offset_delta;
    int64_t ts_delta;
    size_t hstart;

    if (it->err)
        return false;
    if (it->remaining <= 0) {
        /* The declared count must account for the whole records section. */
        if (weir_rbuf_remaining(&it->rd) != 0)
            weir_record_iter_fail(it, WEIR_EPARSE);
        return false;
    }

    rlen = weir_rd_varint(&it->rd);
    if (it->rd.err || rlen < WEIR_RECORD_MIN_BODY) {
        weir_record_iter_fail(it, WEIR_EPARSE);
        return false;
    }
    p = weir_rd_raw(&it->rd, (size_t)rlen);
    if (!p) {
        weir_record_iter_fail(it, WEIR_EPARSE);
        return false;
    }
    weir_rbuf_init(&body, p, (size_t)rlen);

    (void)weir_rd_i8(&body); /* record attributes: unused in v2 */
    ts_delta = weir_rd_varlong(&body);
    offset_delta = weir_rd_varint(&body);
    rec->key = weir_rd_record_bytes(&body, true);
    rec->value = weir_rd_record_bytes(&body, true);
    rec->header_count = weir_rd_varint(&body);
    if (body.err || rec->header_count < 0 ||
        (size_t)rec->header_count > weir_rbuf_remaining(&body) / WEIR_HEADER_MIN_SIZE) {
        weir_record_iter_fail(it, WEIR_EPARSE);
        return false;
    }
    hstart = body.pos;
    for (int32_t i = 0; i < rec->header_count && !body.err; i++) {
        weir_header_t h;
        weir_rd_record_header(&body, &h);
    }
    /* The fields must consume exactly the length the record declared. */
    if (body.err || body.pos != body.len) {
        weir_record_iter_fail(it, WEIR_EPARSE);
        return false;
    }
    rec->headers = p + hstart;
    rec->headers_len = body.pos - hstart;

    if (__builtin_add_overflow(it->hdr.base_offset, (int64_t)offset_delta, &rec->offset)) {
        weir_record_iter_fail(it, WEIR_EPARSE);
        return false;
    }
    if (it->hdr.attributes & WEIR_BATCH_ATTR_LOG_APPEND_TIME) {
        rec->timestamp = it->hdr.max_timestamp;
    } else if (__builtin_add_overflow(it->hdr.base_timestamp, ts_delta, &rec->timestamp)) {
        weir_record_iter_fail(it, WEIR_EPARSE);
        return false;
    }
    it->remaining--;
    return true;
}

/* weir_rd_varint(): zig-zag, at most 5 bytes, unsigned form <= UINT32_MAX. */
static inline const uint8_t *
weir_kv_varint(const uint8_t *p, const uint8_t *end, int32_t *out)
{
    uint64_t v;

    p = weir_uvarint_at(p, end, 5, &v);
    if (!p || v > UINT32_MAX)
        return NULL;
    /* zig-zag in 32 bits: weir_zigzag64() costs a few instructions a record here */
    *out = (int32_t)(((uint32_t)v >> 1) ^ (~((uint32_t)v & 1) + 1));
    return p;
}

/* weir_rd_record_bytes(): a varint length, -1 (when nullable) or the bytes. */
static inline const uint8_t *
weir_kv_bytes(const uint8_t *p, const uint8_t *end, bool nullable, weir_str_t *s)
{
    int32_t n;

    p = weir_kv_varint(p, end, &n);
    if (!p)
        return NULL;
    if (n < 0) {
        if (n != -1 || !nullable)
            return NULL;
        *s = WEIR_STR_NULL;
        return p;
    }
    if ((size_t)n > (size_t)(end - p))
        return NULL;
    s->len = n;
    s->ptr = (const char *)p;
    return p + n;
}

/* One record at *pp (before end) into kv; false if malformed. */
static inline bool
weir_kv_record(const weir_record_iter_t *it, const uint8_t **pp, const uint8_t *end,
               weir_record_kv_t *kv)
{
    const uint8_t *p = *pp, *q;
    uint64_t u;
    int32_t rlen, hcount;
    int64_t ts_delta, sum;
    weir_str_t h;

    p = weir_kv_varint(p, end, &rlen);
    if (!p || rlen < WEIR_RECORD_MIN_BODY || (size_t)rlen > (size_t)(end - p))
        return false;
    end = p + rlen;
    q = p + 1; /* record attributes: unused in v2 */
    q = weir_uvarint_at(q, end, 10, &u);
    if (!q)
        return false;
    ts_delta = weir_zigzag64(u);
    if (!(q = weir_kv_varint(q, end, &kv->offset_delta)) ||
        !(q = weir_kv_bytes(q, end, true, &kv->key)) ||
        !(q = weir_kv_bytes(q, end, true, &kv->value)) || !(q = weir_kv_varint(q, end, &hcount)))
        return false;
    if (hcount < 0 || (size_t)hcount > (size_t)(end - q) / WEIR_HEADER_MIN_SIZE)
        return false;
    for (int32_t i = 0; i < hcount; i++)
        if (!(q = weir_kv_bytes(q, end, false, &h)) || !(q = weir_kv_bytes(q, end, true, &h)))
            return false;
    if (q != end)
        return false;
    if (__builtin_add_overflow(it->hdr.base_offset, (int64_t)kv->offset_delta, &sum))
        return false;
    if (!(it->hdr.attributes & WEIR_BATCH_ATTR_LOG_APPEND_TIME) &&
        __builtin_add_overflow(it->hdr.base_timestamp, ts_delta, &sum))
        return false;
    *pp = end;
    return true;
}

size_t
weir_record_iter_next_kvs(weir_record_iter_t *it, weir_record_kv_t *kvs, size_t max)
{
    const uint8_t *p, *end;
    size_t n = 0;

    if (it->err)
        return 0;
    p = it->rd.data + it->rd.pos;
    end = it->rd.data + it->rd.len;
    while (n < max && it->remaining > 0) {
        /* the records ahead: the next record's start depends on this
         * one's length, so the walk is bound by memory latency */
        if (end - p > 512)
            __builtin_prefetch(p + 512);
        if (!weir_kv_record(it, &p, end, &kvs[n])) {
            weir_record_iter_fail(it, WEIR_EPARSE);
            return n;
        }
        it->remaining--;
        n++;
    }
    it->rd.pos = (size_t)(p - it->rd.data);
    /* The declared count must account for the whole records section. */
    if (n < max && it->remaining <= 0 && p != end)
        weir_record_iter_fail(it, WEIR_EPARSE);
    return n;
}

bool
weir_record_iter_next_kv(weir_record_iter_t *it, weir_record_kv_t *kv)
{
    return weir_record_iter_next_kvs(it, kv, 1) == 1;
}

void
weir_record_iter_free(weir_record_iter_t *it)
{
    free(it->owned);
    it->owned = NULL;
    it->remaining = 0;
    weir_rbuf_init(&it->rd, NULL, 0);
}

int
weir_record_header_next(const weir_record_t *rec, size_t *pos, weir_header_t *h)
{
    weir_rbuf_t r;

    if (*pos >= rec->headers_len)
        return *pos == rec->headers_len ? 0 : WEIR_EPARSE;
    weir_rbuf_init(&r, rec->headers + *pos, rec->headers_len - *pos);
    weir_rd_record_header(&r, h);
    if (r.err)
        return WEIR_EPARSE;
    *pos += r.pos;
    return 1;
}

int64_t
weir_records_first_offset_at(const uint8_t *batch, size_t len, int64_t ts, int64_t *found_ts)
{
    weir_record_iter_t it;
    weir_record_t rec;
    weir_batch_hdr_t hdr;
    int64_t found = -1;

    if (len < WEIR_BATCH_HDR_SIZE)
        return -1;
    /* MaxTimestamp bounds every record's timestamp: skip the batch without
     * decompressing it when the target lies beyond it (as Kafka does). */
    weir_batch_hdr_decode(batch, &hdr);
    if (hdr.max_timestamp < ts)
        return -1;

    if (weir_record_iter_init(&it, batch, len, WEIR_RECORDS_SCAN_MAX_DECOMPRESSED) != 0) {
        weir_record_iter_free(&it);
        return -1;
    }
    while (weir_record_iter_next(&it, &rec)) {
        if (rec.timestamp >= ts) {
            found = rec.offset;
            if (found_ts)
                *found_ts = rec.timestamp;
            break;
        }
    }
    weir_record_iter_free(&it);
    return found;
}
