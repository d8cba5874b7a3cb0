/*
 * test_batch.c: the record batch header: decode, validation errors,
 * stamping (CRC-32C itself: test_crc32c.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "weir_batch.h"
#include "weir_buf.h"
#include "weir_common.h"

typedef struct tb_opts_s {
    int64_t pid;
    int16_t epoch;
    int32_t seq;
    int nrec;
    int64_t ts0;
    int64_t ts_step;
    size_t vlen;
    int16_t attr;
} tb_opts_t;

/* Builds a valid magic-v2 batch (uncompressed records) into w. */
static void
tb_build(weir_wbuf_t *w, const tb_opts_t *o)
{
    size_t start = w->len;
    uint8_t hdr[WEIR_BATCH_HDR_SIZE] = {0};
    int64_t max_ts = -1;
    uint8_t *p;

    weir_wr_raw(w, hdr, sizeof(hdr));
    for (int i = 0; i < o->nrec; i++) {
        weir_wbuf_t r;
        weir_wbuf_init(&r, 64);
        weir_wr_i8(&r, 0);
        weir_wr_varlong(&r, (int64_t)i * o->ts_step);
        weir_wr_varint(&r, i);
        weir_wr_varint(&r, -1);
        weir_wr_varint(&r, (int32_t)o->vlen);
        for (size_t k = 0; k < o->vlen; k++)
            weir_wr_i8(&r, (int8_t)('a' + (i + k) % 26));
        weir_wr_varint(&r, 0);
        weir_wr_varint(w, (int32_t)r.len);
        weir_wr_raw(w, r.data, r.len);
        weir_wbuf_free(&r);
        if (o->ts0 + (int64_t)i * o->ts_step > max_ts)
            max_ts = o->ts0 + (int64_t)i * o->ts_step;
    }
    p = w->data + start;
    weir_put_be64(p + WEIR_BATCH_OFF_BASE_OFFSET, 0);
    weir_put_be32(p + WEIR_BATCH_OFF_LENGTH, (uint32_t)(w->len - start - 12));
    weir_put_be32(p + WEIR_BATCH_OFF_LEADER_EPOCH, (uint32_t)-1);
    p[WEIR_BATCH_OFF_MAGIC] = 2;
    weir_put_be16(p + WEIR_BATCH_OFF_ATTRIBUTES, (uint16_t)o->attr);
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
}

static tb_opts_t
tb_default(void)
{
    tb_opts_t o = {-1, -1, -1, 3, 1000, 1, 10, 0};
    return o;
}

/* Recomputes the CRC after a test edited header fields. */
static void
tb_fix_crc(uint8_t *p)
{
    size_t total = (size_t)weir_be32(p + WEIR_BATCH_OFF_LENGTH) + 12;
    weir_put_be32(p + WEIR_BATCH_OFF_CRC,
                  weir_crc32c(0, p + WEIR_BATCH_OFF_ATTRIBUTES, total - WEIR_BATCH_OFF_ATTRIBUTES));
}

static void
test_decode_and_validate_ok(void **state)
{
    weir_wbuf_t w;
    weir_batch_hdr_t h;
    tb_opts_t o = tb_default();

    (void)state;
    o.pid = 77;
    o.epoch = 3;
    o.seq = 42;
    o.nrec = 5;
    o.attr = 0;
    weir_wbuf_init(&w, 256);
    tb_build(&w, &o);
    assert_int_equal(weir_batch_validate(w.data, w.len, &h), WEIR_KERR_NONE);
    assert_int_equal(h.magic, 2);
    assert_int_equal(weir_batch_total_size(&h), w.len);
    assert_int_equal(h.last_offset_delta, 4);
    assert_int_equal(h.records_count, 5);
    assert_int_equal(h.producer_id, 77);
    assert_int_equal(h.producer_epoch, 3);
    assert_int_equal(h.base_sequence, 42);
    assert_int_equal(h.base_timestamp, 1000);
    assert_int_equal(h.max_timestamp, 1004);
    assert_int_equal(h.leader_epoch, -1);

    /* Followed by another batch: only the first is validated. */
    tb_build(&w, &o);
    assert_int_equal(weir_batch_validate(w.data, w.len, &h), WEIR_KERR_NONE);
    assert_int_equal(weir_batch_total_size(&h), w.len / 2);
    weir_wbuf_free(&w);
}

static void
test_validate_errors(void **state)
{
    weir_wbuf_t w;
    weir_batch_hdr_t h;
    tb_opts_t o = tb_default();
    uint8_t *p;

    (void)state;
    weir_wbuf_init(&w, 256);
    tb_build(&w, &o);
    p = w.data;

    /* Truncated anywhere. */
    assert_int_equal(weir_batch_validate(p, 10, &h), WEIR_KERR_CORRUPT_MESSAGE);
    assert_int_equal(weir_batch_validate(p, 40, &h), WEIR_KERR_CORRUPT_MESSAGE);
    assert_int_equal(weir_batch_validate(p, w.len - 1, &h), WEIR_KERR_CORRUPT_MESSAGE);

    /* A flipped byte in the records fails the CRC. */
    p[w.len - 3] ^= 0x40;
    assert_int_equal(weir_batch_validate(p, w.len, &h), WEIR_KERR_CORRUPT_MESSAGE);
    p[w.len - 3] ^= 0x40;
    assert_int_equal(weir_batch_validate(p, w.len, &h), WEIR_KERR_NONE);

    /* A wrong CRC field. */
    p[WEIR_BATCH_OFF_CRC] ^= 1;
    assert_int_equal(weir_batch_validate(p, w.len, &h), WEIR_KERR_CORRUPT_MESSAGE);
    p[WEIR_BATCH_OFF_CRC] ^= 1;

    /* Old message formats and unknown magic. */
    p[WEIR_BATCH_OFF_MAGIC] = 1;
    assert_int_equal(weir_batch_validate(p, w.len, &h),
                     WEIR_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    p[WEIR_BATCH_OFF_MAGIC] = 0;
    assert_int_equal(weir_batch_validate(p, w.len, &h),
                     WEIR_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    p[WEIR_BATCH_OFF_MAGIC] = 3;
    assert_int_equal(weir_batch_validate(p, w.len, &h), WEIR_KERR_CORRUPT_MESSAGE);
    p[WEIR_BATCH_OFF_MAGIC] = 2;

    /* BatchLength too small for a header, or past the buffer. */
    weir_put_be32(p + WEIR_BATCH_OFF_LENGTH, 20);
    assert_int_equal(weir_batch_validate(p, w.len, &h), WEIR_KERR_CORRUPT_MESSAGE);
    weir_put_be32(p + WEIR_BATCH_OFF_LENGTH, 0x7fffffff);
    assert_int_equal(weir_batch_validate(p, w.len, &h), WEIR_KERR_CORRUPT_MESSAGE);
    weir_put_be32(p + WEIR_BATCH_OFF_LENGTH, (uint32_t)(w.len - 12));

    /* LastOffsetDelta must be RecordsCount - 1 (CRC fixed so it is not the
     * CRC that fails). */
    weir_put_be32(p + WEIR_BATCH_OFF_LAST_OFFSET_DELTA, 7);
    tb_fix_crc(p);
    assert_int_equal(weir_batch_validate(p, w.len, &h), WEIR_KERR_INVALID_RECORD);
    weir_put_be32(p + WEIR_BATCH_OFF_LAST_OFFSET_DELTA, 2);
    weir_put_be32(p + WEIR_BATCH_OFF_RECORDS_COUNT, 0);
    weir_put_be32(p + WEIR_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)-1);
    tb_fix_crc(p);
    assert_int_equal(weir_batch_validate(p, w.len, &h), WEIR_KERR_INVALID_RECORD);
    weir_put_be32(p + WEIR_BATCH_OFF_RECORDS_COUNT, 3);
    weir_put_be32(p + WEIR_BATCH_OFF_LAST_OFFSET_DELTA, 2);
    tb_fix_crc(p);
    assert_int_equal(weir_batch_validate(p, w.len, &h), WEIR_KERR_NONE);

    /* Control batches may not come from clients. */
    weir_put_be16(p + WEIR_BATCH_OFF_ATTRIBUTES, WEIR_BATCH_ATTR_CONTROL);
    tb_fix_crc(p);
    assert_int_equal(weir_batch_validate(p, w.len, &h), WEIR_KERR_INVALID_RECORD);

    /* Unknown codecs. */
    for (int c = 5; c <= 7; c++) {
        weir_put_be16(p + WEIR_BATCH_OFF_ATTRIBUTES, (uint16_t)c);
        tb_fix_crc(p);
        assert_int_equal(weir_batch_validate(p, w.len, &h),
                         WEIR_KERR_UNSUPPORTED_COMPRESSION_TYPE);
    }
    weir_put_be16(p + WEIR_BATCH_OFF_ATTRIBUTES, WEIR_CODEC_ZSTD);
    tb_fix_crc(p);
    assert_int_equal(weir_batch_validate(p, w.len, &h), WEIR_KERR_NONE);
    weir_wbuf_free(&w);
}

static void
test_stamp(void **state)
{
    weir_wbuf_t w;
    weir_batch_hdr_t h;
    tb_opts_t o = tb_default();
    uint32_t crc_before;

    (void)state;
    o.attr = WEIR_CODEC_LZ4 | WEIR_BATCH_ATTR_TRANSACTIONAL;
    weir_wbuf_init(&w, 256);
    tb_build(&w, &o);
    crc_before = weir_be32(w.data + WEIR_BATCH_OFF_CRC);

    /* CreateTime: offset and epoch only, outside the CRC. */
    weir_batch_stamp(w.data, 123456789012LL, 0, -1);
    assert_int_equal(weir_batch_validate(w.data, w.len, &h), WEIR_KERR_NONE);
    assert_int_equal(h.base_offset, 123456789012LL);
    assert_int_equal(h.leader_epoch, 0);
    assert_int_equal(h.crc, crc_before);
    assert_int_equal(h.max_timestamp, 1002);
    assert_int_equal(h.attributes, WEIR_CODEC_LZ4 | WEIR_BATCH_ATTR_TRANSACTIONAL);

    /* LogAppendTime: attribute bit and MaxTimestamp, CRC recomputed. */
    weir_batch_stamp(w.data, 5, 0, 1700000000000LL);
    assert_int_equal(weir_batch_validate(w.data, w.len, &h), WEIR_KERR_NONE);
    assert_int_equal(h.base_offset, 5);
    assert_int_equal(h.max_timestamp, 1700000000000LL);
    assert_int_equal(h.base_timestamp, 1000);
    assert_int_equal(h.attributes, WEIR_CODEC_LZ4 | WEIR_BATCH_ATTR_TRANSACTIONAL |
                                       WEIR_BATCH_ATTR_LOG_APPEND_TIME);
    assert_int_not_equal(h.crc, crc_before);
    weir_wbuf_free(&w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_and_validate_ok),
        cmocka_unit_test(test_validate_errors),
        cmocka_unit_test(test_stamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
