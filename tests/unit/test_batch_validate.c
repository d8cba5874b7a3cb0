/*
 * test_batch_validate.c: unit tests of registry/weir_batch_validate.c (the
 * Produce path's schema validation loop), the compiled payload checker of
 * registry/weir_avro_validate.c and weir_record_iter_next_kv(s) in
 * server/storage/weir_records.c:
 *
 *   - the key/value walk returns what weir_record_iter_next() returns and
 *     fails on exactly the same records, on random batches and thousands of
 *     mutations of them (bytes, counts, base offsets and timestamps);
 *   - the compiled checker gives the verdict of weir_avro_payload_check()
 *     on random values of ten schemas (recursive, unions, blocks with byte
 *     sizes, empty items, fixed, enums, maps) and on mutations of them, and
 *     whatever it accepts avro-c decodes too; nesting limits agree;
 *   - weir_batch_schema_validate(): the record index, offset delta, key or
 *     value and reason of the first failure (unregistered and soft-deleted
 *     ids, another subject's id, plain JSON, short values, corrupt Avro,
 *     JSON-schema payloads, keys), counted across batches; compressed and
 *     control batches; corrupt data; and on random mixes of good and bad
 *     records the same answer as the per-record loop it replaces
 *     (weir_record_iter_next + weir_schema_validate).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <avro.h>

#include "weir_avro_payload.h"
#include "weir_avro_validate.h"
#include "weir_batch.h"
#include "weir_batch_validate.h"
#include "weir_buf.h"
#include "weir_common.h"
#include "weir_log.h"
#include "weir_records.h"
#include "weir_registry.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint32_t
rndn(uint32_t n)
{
    return n ? (uint32_t)(rnd() % n) : 0;
}

/* One record of a test batch. */
typedef struct trec_s {
    const uint8_t *key; /* NULL: null */
    size_t key_len;
    const uint8_t *value; /* NULL: null */
    size_t value_len;
    int nheaders;
    int64_t ts_delta;
} trec_t;

static void
wr_bytes(weir_wbuf_t *w, const uint8_t *p, size_t n)
{
    if (!p) {
        weir_wr_varint(w, -1);
        return;
    }
    weir_wr_varint(w, (int32_t)n);
    weir_wr_raw(w, p, n);
}

/* A whole batch (header, CRC) of n records with codec; malloc'd. */
static uint8_t *
build_batch(const trec_t *recs, int n, weir_codec_t codec, int16_t extra_attrs, int64_t base_ts,
            size_t *len)
{
    weir_wbuf_t w, body;
    uint8_t *sec, *b;
    size_t sec_len, total;

    weir_wbuf_init(&w, 256);
    for (int i = 0; i < n; i++) {
        weir_wbuf_init(&body, 64);
        weir_wr_i8(&body, 0);
        weir_wr_varlong(&body, recs[i].ts_delta);
        weir_wr_varint(&body, i);
        wr_bytes(&body, recs[i].key, recs[i].key_len);
        wr_bytes(&body, recs[i].value, recs[i].value_len);
        weir_wr_varint(&body, recs[i].nheaders);
        for (int h = 0; h < recs[i].nheaders; h++) {
            wr_bytes(&body, (const uint8_t *)"hk", 2);
            wr_bytes(&body, h % 2 ? NULL : (const uint8_t *)"hval", 4);
        }
        weir_wr_varint(&w, (int32_t)body.len);
        weir_wr_raw(&w, body.data, body.len);
        weir_wbuf_free(&body);
    }
    if (codec != WEIR_CODEC_NONE) {
        assert_int_equal(weir_compress(codec, w.data, w.len, &sec, &sec_len), 0);
    } else {
        sec = malloc(w.len ? w.len : 1);
        memcpy(sec, w.data, w.len);
        sec_len = w.len;
    }
    weir_wbuf_free(&w);
    total = WEIR_BATCH_HDR_SIZE + sec_len;
    b = calloc(1, total);
    weir_put_be64(b + WEIR_BATCH_OFF_BASE_OFFSET, 0);
    weir_put_be32(b + WEIR_BATCH_OFF_LENGTH, (uint32_t)(total - WEIR_BATCH_LOG_OVERHEAD));
    b[WEIR_BATCH_OFF_MAGIC] = 2;
    weir_put_be16(b + WEIR_BATCH_OFF_ATTRIBUTES, (uint16_t)(codec | extra_attrs));
    weir_put_be32(b + WEIR_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(n ? n - 1 : 0));
    weir_put_be64(b + WEIR_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)base_ts);
    weir_put_be64(b + WEIR_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)base_ts);
    weir_put_be64(b + WEIR_BATCH_OFF_PRODUCER_ID, (uint64_t)-1);
    weir_put_be16(b + WEIR_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)-1);
    weir_put_be32(b + WEIR_BATCH_OFF_BASE_SEQUENCE, (uint32_t)-1);
    weir_put_be32(b + WEIR_BATCH_OFF_RECORDS_COUNT, (uint32_t)n);
    memcpy(b + WEIR_BATCH_HDR_SIZE, sec, sec_len);
    free(sec);
    weir_put_be32(b + WEIR_BATCH_OFF_CRC,
                  weir_crc32c(0, b + WEIR_BATCH_OFF_ATTRIBUTES, total - WEIR_BATCH_OFF_ATTRIBUTES));
    *len = total;
    return b;
}

/* Appends src to a growing buffer. */
static void
append(uint8_t **buf, size_t *len, const uint8_t *src, size_t n)
{
    *buf = realloc(*buf, *len + n);
    memcpy(*buf + *len, src, n);
    *len += n;
}

static size_t
zigzag(uint8_t *out, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;

    while (u >= 0x80) {
        out[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    out[n++] = (uint8_t)u;
    return n;
}

/* ------------------------------------------------------------------------ */
/* weir_record_iter_next_kv(s) against weir_record_iter_next()              */
/* ------------------------------------------------------------------------ */

/* The same view (uncompressed: the same bytes of the batch) or, from two
 * decompressed copies, the same contents. */
static bool
same_str(weir_str_t a, weir_str_t b, bool copies)
{
    if (a.len != b.len)
        return false;
    if (a.len < 0)
        return true;
    return copies ? memcmp(a.ptr, b.ptr, (size_t)a.len) == 0 : a.ptr == b.ptr;
}

/* Walks b both ways (kvs in chunks of chunk) and asserts the same records
 * and the same end (error or not).  Returns the number of records. */
static int
compare_walks(const uint8_t *b, size_t len, size_t chunk)
{
    weir_record_iter_t a, k;
    weir_record_t rec;
    weir_record_kv_t kvs[16];
    int ra = weir_record_iter_init(&a, b, len, 1 << 24);
    int rk = weir_record_iter_init(&k, b, len, 1 << 24);
    int n = 0;
    size_t got = 0, i = 0;

    assert_int_equal(ra, rk);
    if (ra != 0) {
        weir_record_iter_free(&a);
        weir_record_iter_free(&k);
        return -1;
    }
    for (;;) {
        bool oka = weir_record_iter_next(&a, &rec);
        bool okk;

        if (i == got) {
            got = chunk == 1 ? (weir_record_iter_next_kv(&k, &kvs[0]) ? 1 : 0)
                             : weir_record_iter_next_kvs(&k, kvs, chunk);
            i = 0;
        }
        okk = i < got;
        assert_int_equal(oka, okk);
        if (!oka)
            break;
        assert_true(same_str(rec.key, kvs[i].key, a.owned != NULL));
        assert_true(same_str(rec.value, kvs[i].value, a.owned != NULL));
        assert_int_equal(rec.offset - a.hdr.base_offset, kvs[i].offset_delta);
        i++;
        n++;
    }
    assert_int_equal(a.err != 0, k.err != 0);
    weir_record_iter_free(&a);
    weir_record_iter_free(&k);
    return n;
}

/* A random batch of up to 40 records (uncompressed). */
static uint8_t *
random_batch(uint8_t *pool, size_t *len, int *nrec)
{
    trec_t recs[40];
    int n = 1 + (int)rndn(40);

    for (int i = 0; i < n; i++) {
        recs[i].key = rndn(3) ? pool : NULL;
        recs[i].key_len = rndn(3) ? rndn(20) : rndn(300);
        recs[i].value = rndn(5) ? pool + 7 : NULL;
        recs[i].value_len = rndn(4) ? rndn(150) : rndn(3000);
        recs[i].nheaders = rndn(4) ? 0 : (int)rndn(4);
        recs[i].ts_delta = rndn(5) ? (int64_t)rndn(100) : (int64_t)(rnd() >> rndn(64)) - 5;
    }
    *nrec = n;
    return build_batch(recs, n, WEIR_CODEC_NONE, 0, 1700000000000LL, len);
}

static void
test_kv_walk_matches_iter(void **state)
{
    uint8_t pool[4096];
    int failures = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(pool); i++)
        pool[i] = (uint8_t)rnd();
    for (int round = 0; round < 300; round++) {
        size_t len;
        int n;
        uint8_t *b = random_batch(pool, &len, &n);

        assert_int_equal(compare_walks(b, len, 1), n);
        assert_int_equal(compare_walks(b, len, 7), n);
        assert_int_equal(compare_walks(b, len, 16), n);
        /* mutations of the records section and of the header fields the
         * walk uses */
        for (int m = 0; m < 40; m++) {
            uint8_t *c = malloc(len);
            size_t clen = len;
            int r;

            memcpy(c, b, len);
            switch (rndn(8)) {
            case 0:
            case 1:
            case 2:
                c[WEIR_BATCH_HDR_SIZE + rndn((uint32_t)(len - WEIR_BATCH_HDR_SIZE))] ^=
                    (uint8_t)(1 + rndn(255));
                break;
            case 3:
                c[WEIR_BATCH_HDR_SIZE + rndn((uint32_t)(len - WEIR_BATCH_HDR_SIZE))] =
                    rndn(2) ? 0xff : 0x80;
                break;
            case 4: /* shorter: the batch length says so */
                clen = WEIR_BATCH_HDR_SIZE + rndn((uint32_t)(len - WEIR_BATCH_HDR_SIZE));
                weir_put_be32(c + WEIR_BATCH_OFF_LENGTH,
                              (uint32_t)(clen - WEIR_BATCH_LOG_OVERHEAD));
                break;
            case 5:
                weir_put_be32(c + WEIR_BATCH_OFF_RECORDS_COUNT, (uint32_t)(n + (int)rndn(5) - 2));
                break;
            case 6:
                weir_put_be64(c + WEIR_BATCH_OFF_BASE_OFFSET,
                              (uint64_t)(INT64_MAX - (int64_t)rndn(50)));
                break;
            default:
                weir_put_be64(c + WEIR_BATCH_OFF_BASE_TIMESTAMP,
                              (uint64_t)(rndn(2) ? INT64_MAX - (int64_t)rndn(200)
                                                 : INT64_MIN + (int64_t)rndn(200)));
                break;
            }
            r = compare_walks(c, clen, rndn(2) ? 1 : 1 + rndn(16));
            compare_walks(c, clen, 16);
            if (r != n)
                failures++;
            free(c);
        }
        free(b);
    }
    /* the mutations did reach the error paths */
    assert_true(failures > 1000);
}

static void
test_kv_walk_compressed(void **state)
{
    const weir_codec_t codecs[] = {WEIR_CODEC_GZIP, WEIR_CODEC_SNAPPY, WEIR_CODEC_LZ4,
                                   WEIR_CODEC_ZSTD};
    trec_t recs[100];
    uint8_t v[64];

    (void)state;
    memset(v, 'v', sizeof(v));
    for (int i = 0; i < 100; i++)
        recs[i] = (trec_t){.key = i % 3 ? v : NULL,
                           .key_len = 3,
                           .value = v,
                           .value_len = (size_t)(i % 60),
                           .nheaders = i % 2,
                           .ts_delta = i};
    for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
        size_t len;
        uint8_t *b = build_batch(recs, 100, codecs[c], 0, 0, &len);

        assert_int_equal(compare_walks(b, len, 16), 100);
        free(b);
    }
}

/* ------------------------------------------------------------------------ */
/* The compiled checker against the walk and avro-c                         */
/* ------------------------------------------------------------------------ */

#define EVENT                                                                                      \
    "{\"type\":\"record\",\"name\":\"Event\",\"fields\":["                                         \
    "{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"n\",\"type\":\"int\"},"                       \
    "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\",\"symbols\":[\"A\",\"B\","   \
    "\"C\"]}},"                                                                                    \
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"                      \
    "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":\"int\"}},"                         \
    "{\"name\":\"note\",\"type\":[\"null\",\"string\"]},"                                          \
    "{\"name\":\"ok\",\"type\":\"boolean\"},"                                                      \
    "{\"name\":\"h\",\"type\":{\"type\":\"fixed\",\"name\":\"H\",\"size\":4}},"                    \
    "{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"raw\",\"type\":\"bytes\"},"                   \
    "{\"name\":\"score\",\"type\":\"double\"}]}"
#define LIST                                                                                       \
    "{\"type\":\"record\",\"name\":\"L\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"           \
    "{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}"
#define TREE                                                                                       \
    "{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"k\",\"type\":\"string\"},"        \
    "{\"name\":\"kids\",\"type\":{\"type\":\"array\",\"items\":\"T\"}},"                           \
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"long\",\"T\"]}}]}"
#define EMPTYREC "{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"E\",\"fields\":[]}}"
#define NESTED                                                                                     \
    "{\"type\":\"record\",\"name\":\"O\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"          \
    "\"record\",\"name\":\"I\",\"fields\":[{\"name\":\"x\",\"type\":\"double\"},{\"name\":\"y\","  \
    "\"type\":{\"type\":\"fixed\",\"name\":\"Z\",\"size\":0}}]}},{\"name\":\"b\",\"type\":\"I\"}," \
    "{\"name\":\"c\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":"         \
    "\"boolean\"}}}]}"
#define ROW                                                                                        \
    "{\"type\":\"record\",\"name\":\"Row\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"       \
    "{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"score\",\"type\":\"double\"}]}"

static const char *const schemas[] = {
    EVENT,
    LIST,
    TREE,
    EMPTYREC,
    NESTED,
    ROW,
    "\"string\"",
    "{\"type\":\"array\",\"items\":\"null\"}",
    "[\"null\",\"int\",\"string\",{\"type\":\"array\",\"items\":\"long\"}]",
    "{\"type\":\"map\",\"values\":{\"type\":\"enum\",\"name\":\"E1\",\"symbols\":[\"X\"]}}",
};
#define NSCHEMAS (sizeof(schemas) / sizeof(schemas[0]))

typedef struct fixture_s {
    weir_registry_t *reg;
    weir_schema_validator_t *v;
    const weir_reg_schema_t *s[NSCHEMAS];
    int32_t ids[NSCHEMAS];
    avro_value_iface_t *iface[NSCHEMAS];
    avro_value_t value[NSCHEMAS];
    avro_reader_t reader;
    int32_t row_id, row2_id, str_id, json_id, deleted_id;
} fixture_t;

static int32_t
reg_schema(weir_registry_t *reg, const char *subject, const char *text, const char *type)
{
    weir_reg_schema_req_t r = {.schema = text, .schema_len = strlen(text), .schema_type = type};
    weir_reg_result_t res;
    weir_reg_err_t err = {0};

    if (weir_registry_register(reg, subject, &r, &res, &err) != 0)
        fail_msg("register %s: %s", subject, err.message);
    return res.id;
}

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    weir_reg_err_t err = {0};
    char e[128], subj[32];
    int32_t dv;

    assert_int_equal(weir_registry_open(NULL, &f->reg, e, sizeof(e)), 0);
    for (size_t i = 0; i < NSCHEMAS; i++) {
        snprintf(subj, sizeof(subj), "s%zu-value", i);
        f->ids[i] = reg_schema(f->reg, subj, schemas[i], NULL);
        f->s[i] = weir_registry_id_in_subject(f->reg, subj, f->ids[i]);
        assert_non_null(f->s[i]);
        f->iface[i] = avro_generic_class_from_schema(f->s[i]->avro->avroc);
        assert_non_null(f->iface[i]);
        assert_int_equal(avro_generic_value_new(f->iface[i], &f->value[i]), 0);
    }
    f->reader = avro_reader_memory("", 0);
    /* the topic "t": t-value has Row and a compatible Row v2, t-key strings */
    f->row_id = reg_schema(f->reg, "t-value", ROW, NULL);
    f->row2_id = reg_schema(f->reg, "t-value",
                            "{\"type\":\"record\",\"name\":\"Row\",\"fields\":[{\"name\":\"id\","
                            "\"type\":\"long\"},{\"name\":\"name\",\"type\":\"string\"},{\"name\":"
                            "\"score\",\"type\":\"double\"},{\"name\":\"x\",\"type\":\"int\","
                            "\"default\":0}]}",
                            NULL);
    f->str_id = reg_schema(f->reg, "t-key", "\"string\"", NULL);
    f->json_id = reg_schema(f->reg, "j-value", "{\"type\":\"object\"}", "JSON");
    /* d-value version 2 soft-deleted: its id no longer validates */
    reg_schema(f->reg, "d-value", "\"int\"", NULL);
    f->deleted_id = reg_schema(f->reg, "d-value", "\"long\"", NULL);
    assert_int_equal(weir_registry_delete_version(f->reg, "d-value", 2, false, &dv, &err), 0);
    f->v = weir_schema_validator_new(f->reg);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;

    for (size_t i = 0; i < NSCHEMAS; i++) {
        avro_value_decref(&f->value[i]);
        avro_value_iface_decref(f->iface[i]);
    }
    avro_reader_free(f->reader);
    weir_schema_validator_free(f->v);
    weir_registry_free(f->reg);
    free(f);
    return 0;
}

/* A random value of n, Avro binary, into w (depth bounds recursion). */
static void
gen_value(weir_wbuf_t *w, const weir_avro_node_t *n, int depth)
{
    uint8_t tmp[16];

    switch (n->type) {
    case WEIR_AVRO_NULL:
        return;
    case WEIR_AVRO_BOOLEAN:
        weir_wr_i8(w, (int8_t)rndn(2));
        return;
    case WEIR_AVRO_INT:
        weir_wr_raw(w, tmp, zigzag(tmp, (int32_t)(rnd() >> rndn(33))));
        return;
    case WEIR_AVRO_LONG:
        weir_wr_raw(w, tmp, zigzag(tmp, (int64_t)(rnd() >> rndn(64))));
        return;
    case WEIR_AVRO_FLOAT:
        weir_wr_raw(w, "\x00\x00\x80\x3f", 4);
        return;
    case WEIR_AVRO_DOUBLE:
        weir_wr_raw(w, "\x00\x00\x00\x00\x00\x00\xf0\x3f", 8);
        return;
    case WEIR_AVRO_BYTES:
    case WEIR_AVRO_STRING: {
        size_t len = rndn(4) ? rndn(12) : rndn(200);

        weir_wr_raw(w, tmp, zigzag(tmp, (int64_t)len));
        for (size_t i = 0; i < len; i++)
            weir_wr_i8(w, (int8_t)('a' + rndn(26)));
        return;
    }
    case WEIR_AVRO_FIXED:
        for (int32_t i = 0; i < n->size; i++)
            weir_wr_i8(w, (int8_t)rnd());
        return;
    case WEIR_AVRO_ENUM:
        weir_wr_raw(w, tmp, zigzag(tmp, rndn((uint32_t)n->nsymbols)));
        return;
    case WEIR_AVRO_UNION: {
        uint32_t b = rndn((uint32_t)n->nbranches);

        /* deep enough: take a branch that does not recurse (null first) */
        if (depth > 6)
            for (uint32_t i = 0; i < n->nbranches; i++)
                if (n->branches[i]->type == WEIR_AVRO_NULL)
                    b = i;
        weir_wr_raw(w, tmp, zigzag(tmp, b));
        gen_value(w, n->branches[b], depth + 1);
        return;
    }
    case WEIR_AVRO_RECORD:
        for (size_t i = 0; i < n->nfields; i++)
            gen_value(w, n->fields[i].type, depth + 1);
        return;
    case WEIR_AVRO_ARRAY:
    case WEIR_AVRO_MAP: {
        int blocks = depth > 6 ? 0 : (int)rndn(3);

        for (int bl = 0; bl < blocks; bl++) {
            int64_t count = 1 + rndn(4);
            weir_wbuf_t items;

            weir_wbuf_init(&items, 64);
            for (int64_t i = 0; i < count; i++) {
                if (n->type == WEIR_AVRO_MAP) {
                    weir_wr_raw(&items, tmp, zigzag(tmp, 2));
                    weir_wr_raw(&items, "k", 1);
                    weir_wr_i8(&items, (int8_t)('0' + i));
                }
                gen_value(&items, n->child, depth + 1);
            }
            if (rndn(2)) { /* negative count with the block's byte size */
                weir_wr_raw(w, tmp, zigzag(tmp, -count));
                weir_wr_raw(w, tmp, zigzag(tmp, (int64_t)items.len));
            } else {
                weir_wr_raw(w, tmp, zigzag(tmp, count));
            }
            weir_wr_raw(w, items.data, items.len);
            weir_wbuf_free(&items);
        }
        weir_wr_i8(w, 0);
        return;
    }
    }
}

/* avro-c decodes buf as one whole value of schema i. */
static bool
avroc_decodes(fixture_t *f, size_t i, const uint8_t *buf, size_t len)
{
    avro_value_reset(&f->value[i]);
    avro_reader_memory_set_source(f->reader, (const char *)buf, (int64_t)len);
    if (avro_value_read(f->reader, &f->value[i]) != 0)
        return false;
    return avro_skip(f->reader, 1) != 0; /* nothing left over */
}

/* The compiled checker's verdict equals the walk's; avro-c takes what they
 * take.  Returns the verdict. */
static bool
agree(fixture_t *f, size_t i, const uint8_t *buf, size_t len)
{
    const weir_sv_checker_t *c = weir_schema_validator_checker(f->v, f->s[i]);
    char why[256];
    bool compiled, walk;
    weir_sv_result_t r;

    assert_non_null(c);
    compiled = weir_sv_checker_run(c, buf, len);
    walk = weir_avro_payload_check(f->s[i]->avro->root, buf, len, why, sizeof(why)) == 0;
    if (compiled != walk)
        fail_msg("schema %zu: compiled %d, walk %d (%s) on %zu bytes", i, compiled, walk,
                 walk ? "" : why, len);
    r = weir_schema_validate_payload(f->v, f->s[i], buf, len, why, sizeof(why));
    assert_int_equal(r, compiled ? WEIR_SV_OK : WEIR_SV_BAD_PAYLOAD);
    /* avro-c cannot hold zero-size values: an array of empty records
     * (EMPTYREC: "Couldn't expand array") or a fixed of size 0 (NESTED:
     * "Cannot allocate new fixed value") - one more reason it is not in
     * the produce path */
    if (compiled && strcmp(schemas[i], EMPTYREC) != 0 && strcmp(schemas[i], NESTED) != 0 &&
        !avroc_decodes(f, i, buf, len))
        fail_msg("schema %zu: accepted %zu bytes avro-c cannot decode: %s", i, len,
                 avro_strerror());
    return compiled;
}

static void
test_checker_matches_walk(void **state)
{
    fixture_t *f = *state;
    int accepted = 0, refused = 0;

    for (size_t i = 0; i < NSCHEMAS; i++) {
        for (int round = 0; round < 300; round++) {
            weir_wbuf_t w;

            weir_wbuf_init(&w, 64);
            gen_value(&w, f->s[i]->avro->root, 0);
            assert_true(agree(f, i, w.data, w.len));
            for (int m = 0; m < 25; m++) {
                uint8_t *c = malloc(w.len + 2);
                size_t clen = w.len, at = w.len ? rndn((uint32_t)w.len) : 0;

                memcpy(c, w.data, w.len);
                switch (rndn(6)) {
                case 0:
                case 1:
                    if (clen)
                        c[at] ^= (uint8_t)(1 << rndn(8));
                    break;
                case 2:
                    if (clen)
                        c[at] = (uint8_t)rnd();
                    break;
                case 3:
                    clen = at; /* truncated */
                    break;
                case 4:
                    c[clen++] = (uint8_t)rnd(); /* one byte more */
                    break;
                default:
                    if (clen) { /* one byte less in the middle */
                        memmove(c + at, c + at + 1, clen - at - 1);
                        clen--;
                    }
                    break;
                }
                if (agree(f, i, c, clen))
                    accepted++;
                else
                    refused++;
                free(c);
            }
            weir_wbuf_free(&w);
        }
    }
    /* both sides of every comparison were exercised */
    assert_true(accepted > 1000);
    assert_true(refused > 10000);
}

/* LIST nested n deep: n times (v 0, branch 1), then (v 0, branch 0). */
static size_t
list_payload(uint8_t *buf, int n)
{
    size_t len = 0;

    for (int i = 0; i < n; i++) {
        buf[len++] = 0;
        buf[len++] = 2;
    }
    buf[len++] = 0;
    buf[len++] = 0;
    return len;
}

static void
test_checker_nesting_limit(void **state)
{
    fixture_t *f = *state;
    static uint8_t buf[4096];
    const weir_sv_checker_t *c = weir_schema_validator_checker(f->v, f->s[1]);
    int first_refused = -1;

    for (int n = 100; n < 140; n++) {
        size_t len = list_payload(buf, n);
        bool walk = weir_avro_payload_check(f->s[1]->avro->root, buf, len, NULL, 0) == 0;

        assert_int_equal(weir_sv_checker_run(c, buf, len), walk);
        if (!walk && first_refused < 0)
            first_refused = n;
    }
    /* each level is a record (depth d) whose union field is d+1 and whose
     * branch is d+2: 128 levels fit WEIR_AVRO_MAX_VALUE_DEPTH 256 */
    assert_int_equal(first_refused, WEIR_AVRO_MAX_VALUE_DEPTH / 2);
    /* an empty-record array claiming more items than the limit */
    {
        uint8_t big[16];
        size_t len = zigzag(big, WEIR_AVRO_MAX_EMPTY_ITEMS + 1);

        big[len++] = 0;
        assert_false(agree(f, 3, big, len));
        len = zigzag(big, WEIR_AVRO_MAX_EMPTY_ITEMS);
        big[len++] = 0;
        assert_true(agree(f, 3, big, len));
    }
    /* a JSON schema has no compiled checker */
    assert_null(weir_schema_validator_checker(
        f->v, weir_registry_id_in_subject(f->reg, "j-value", f->json_id)));
}

/* ------------------------------------------------------------------------ */
/* weir_batch_schema_validate                                               */
/* ------------------------------------------------------------------------ */

/* A framed Row: id, name of nlen bytes, score. */
static size_t
row(uint8_t *out, int32_t sid, int64_t id, size_t nlen)
{
    size_t n = 0;

    out[n++] = 0;
    weir_put_be32(out + 1, (uint32_t)sid);
    n = 5;
    n += zigzag(out + n, id);
    n += zigzag(out + n, (int64_t)nlen);
    memset(out + n, 'n', nlen);
    n += nlen;
    memcpy(out + n, "\x00\x00\x00\x00\x00\x00\xf0\x3f", 8);
    return n + 8;
}

typedef struct vals_s {
    uint8_t buf[64][64];
    trec_t recs[64];
    int n;
} vals_t;

static void
add_value(vals_t *v, const void *p, size_t len)
{
    assert_true(v->n < 64 && len <= 64);
    if (p)
        memcpy(v->buf[v->n], p, len);
    v->recs[v->n] = (trec_t){.value = p ? v->buf[v->n] : NULL, .value_len = len};
    v->n++;
}

static void
add_row(vals_t *v, int32_t sid, int64_t id)
{
    uint8_t b[64];

    add_value(v, b, row(b, sid, id, 5));
}

static weir_kerr_t
validate(fixture_t *f, const char *topic, bool key, bool value, bool payload, const uint8_t *b,
         size_t len, weir_batch_failure_t *fail)
{
    weir_batch_checks_t c = {.key = key, .value = value, .payload = payload};
    weir_str_t t = {(int32_t)strlen(topic), topic};

    return weir_batch_schema_validate(f->v, t, &c, b, len, fail);
}

static void
test_batch_good(void **state)
{
    fixture_t *f = *state;
    vals_t v = {.n = 0};
    weir_batch_failure_t fail;
    uint8_t *b;
    size_t len;

    for (int i = 0; i < 40; i++) {
        if (i % 9 == 4)
            add_value(&v, NULL, 0); /* a tombstone */
        else
            add_row(&v, i % 3 ? f->row_id : f->row2_id, i);
    }
    /* Row v1 payloads also decode as v2?  No: v2 has one more field, so
     * the v2-framed records must carry it */
    for (int i = 0; i < v.n; i++)
        if (v.recs[i].value && (int32_t)weir_be32(v.recs[i].value + 1) == f->row2_id)
            v.buf[i][v.recs[i].value_len++] = 0x02; /* x = 1 */
    b = build_batch(v.recs, v.n, WEIR_CODEC_NONE, 0, 0, &len);
    assert_int_equal(validate(f, "t", false, true, true, b, len, &fail), WEIR_KERR_NONE);
    assert_int_equal(fail.index, -1);
    assert_int_equal(validate(f, "t", false, true, false, b, len, &fail), WEIR_KERR_NONE);
    /* nothing to check: NONE without looking, even without a validator */
    {
        weir_batch_checks_t none = {false, false, true};

        assert_int_equal(weir_batch_schema_validate(NULL, (weir_str_t){1, "t"}, &none,
                                                    (const uint8_t *)"junk", 4, &fail),
                         WEIR_KERR_NONE);
        assert_int_equal(validate(f, "t", false, false, false, (const uint8_t *)"junk", 4, NULL),
                         WEIR_KERR_NONE);
    }
    /* validation asked for without a validator: refused */
    {
        weir_batch_checks_t c = {false, true, false};

        assert_int_equal(weir_batch_schema_validate(NULL, (weir_str_t){1, "t"}, &c, b, len, &fail),
                         WEIR_KERR_INVALID_RECORD);
        assert_int_equal(fail.index, -1);
        assert_non_null(strstr(fail.reason, "no schema registry"));
    }
    free(b);
}

/* Validates a one-batch data of v and checks the failure. */
static void
expect_failure(fixture_t *f, const char *topic, const vals_t *v, bool key, bool payload,
               int64_t index, const char *what, weir_sv_result_t result, const char *reason_part)
{
    weir_batch_failure_t fail;
    size_t len;
    uint8_t *b = build_batch(v->recs, v->n, WEIR_CODEC_NONE, 0, 0, &len);

    assert_int_equal(validate(f, topic, key, !key, payload, b, len, &fail),
                     WEIR_KERR_INVALID_RECORD);
    assert_int_equal(fail.index, index);
    assert_int_equal(fail.offset_delta, index);
    assert_string_equal(fail.what, what);
    assert_int_equal(fail.result, result);
    if (!strstr(fail.reason, reason_part))
        fail_msg("reason \"%s\" lacks \"%s\"", fail.reason, reason_part);
    /* the same with the failure not asked for */
    assert_int_equal(validate(f, topic, key, !key, payload, b, len, NULL),
                     WEIR_KERR_INVALID_RECORD);
    free(b);
}

static void
test_batch_refusals(void **state)
{
    fixture_t *f = *state;
    uint8_t tmp[64];
    char why[64];

    {
        vals_t v = {.n = 0};

        add_row(&v, f->row_id, 1);
        add_row(&v, f->row_id, 2);
        add_row(&v, f->row_id, 3);
        add_row(&v, f->row_id + 1000, 4);
        snprintf(why, sizeof(why), "schema id %d is not registered under subject t-value",
                 f->row_id + 1000);
        expect_failure(f, "t", &v, false, false, 3, "value", WEIR_SV_UNKNOWN_ID, why);
    }
    {
        vals_t v = {.n = 0};

        add_row(&v, f->row_id, 1);
        add_row(&v, f->str_id, 2); /* t-key's id */
        expect_failure(f, "t", &v, false, false, 1, "value", WEIR_SV_UNKNOWN_ID,
                       "is not registered under subject t-value");
    }
    {
        vals_t v = {.n = 0};

        add_row(&v, f->row_id, 1);
        add_row(&v, f->row_id, 2);
        add_value(&v, "{\"id\": 5}", 9);
        expect_failure(f, "t", &v, false, true, 2, "value", WEIR_SV_NO_ID, "magic byte is 0x7b");
    }
    {
        vals_t v = {.n = 0};

        add_value(&v, "\x00\x00\x01", 3);
        expect_failure(f, "t", &v, false, false, 0, "value", WEIR_SV_NO_ID, "3 bytes cannot hold");
    }
    {
        vals_t v = {.n = 0};
        size_t n = row(tmp, f->row_id, 7, 5);

        add_row(&v, f->row_id, 1);
        add_value(&v, tmp, n - 3); /* the double cut short */
        expect_failure(f, "t", &v, false, true, 1, "value", WEIR_SV_BAD_PAYLOAD,
                       "payload does not decode with schema id");
        /* the id-only check takes it */
        {
            weir_batch_failure_t fail;
            size_t len;
            uint8_t *b = build_batch(v.recs, v.n, WEIR_CODEC_NONE, 0, 0, &len);

            assert_int_equal(validate(f, "t", false, true, false, b, len, &fail), WEIR_KERR_NONE);
            free(b);
        }
    }
    {
        vals_t v = {.n = 0};
        size_t n = row(tmp, f->row_id, 7, 5);

        tmp[n++] = 0; /* a byte left over */
        add_value(&v, tmp, n);
        expect_failure(f, "t", &v, false, true, 0, "value", WEIR_SV_BAD_PAYLOAD, "left over");
    }
    {
        vals_t v = {.n = 0};

        add_value(&v, "\x00\x00\x00\x00\x00\x02", 6);
        memcpy(v.buf[0] + 1, (uint8_t[4]){0, 0, 0, 0}, 4);
        weir_put_be32(v.buf[0] + 1, (uint32_t)f->deleted_id);
        expect_failure(f, "d", &v, false, false, 0, "value", WEIR_SV_UNKNOWN_ID,
                       "is not registered under subject d-value");
    }
    { /* JSON schema subject: JSON passes, anything else does not */
        vals_t v = {.n = 0};
        uint8_t j[32] = {0};

        weir_put_be32(j + 1, (uint32_t)f->json_id);
        memcpy(j + 5, "{\"a\": 1}", 8);
        add_value(&v, j, 13);
        memcpy(j + 5, "{\"a\": }", 7);
        add_value(&v, j, 12);
        expect_failure(f, "j", &v, false, true, 1, "value", WEIR_SV_BAD_PAYLOAD,
                       "is not valid JSON");
    }
    { /* keys */
        vals_t v = {.n = 0};
        uint8_t k[16] = {0};

        weir_put_be32(k + 1, (uint32_t)f->str_id);
        k[5] = 2;
        k[6] = 'a';
        for (int i = 0; i < 3; i++) {
            add_row(&v, f->row_id, i);
            v.recs[i].key = k;
            v.recs[i].key_len = 7;
        }
        v.recs[1].key = NULL; /* null keys pass */
        v.recs[2].key = (const uint8_t *)"plain";
        v.recs[2].key_len = 5;
        expect_failure(f, "t", &v, true, false, 2, "key", WEIR_SV_NO_ID, "magic byte is 0x70");
    }
}

static void
test_batch_many_batches(void **state)
{
    fixture_t *f = *state;
    vals_t good = {.n = 0}, bad = {.n = 0};
    weir_batch_failure_t fail;
    uint8_t *data = NULL, *b, *ctl;
    size_t len = 0, blen, clen;
    trec_t marker = {.key = (const uint8_t *)"\x00\x00\x00\x00",
                     .key_len = 4,
                     .value = (const uint8_t *)"\x00\x00\x00\x00\x00\x00",
                     .value_len = 6};

    for (int i = 0; i < 10; i++)
        add_row(&good, f->row_id, i);
    /* a gzip batch, a zstd batch, a control batch (skipped: its records
     * are not framed), then a batch whose 6th record is unregistered */
    b = build_batch(good.recs, good.n, WEIR_CODEC_GZIP, 0, 0, &blen);
    append(&data, &len, b, blen);
    free(b);
    b = build_batch(good.recs, good.n, WEIR_CODEC_ZSTD, 0, 0, &blen);
    append(&data, &len, b, blen);
    free(b);
    ctl = build_batch(&marker, 1, WEIR_CODEC_NONE, WEIR_BATCH_ATTR_CONTROL, 0, &clen);
    append(&data, &len, ctl, clen);
    free(ctl);
    assert_int_equal(validate(f, "t", false, true, true, data, len, &fail), WEIR_KERR_NONE);
    for (int i = 0; i < 8; i++)
        add_row(&bad, i == 5 ? f->row_id + 77 : f->row_id, i);
    b = build_batch(bad.recs, bad.n, WEIR_CODEC_LZ4, 0, 0, &blen);
    append(&data, &len, b, blen);
    free(b);
    assert_int_equal(validate(f, "t", false, true, true, data, len, &fail),
                     WEIR_KERR_INVALID_RECORD);
    assert_int_equal(fail.index, 25); /* 10 + 10 (+ the control record, not counted) + 5 */
    assert_int_equal(fail.offset_delta, 5);

    /* corrupt data: a batch length past the end, a broken record */
    weir_put_be32(data + WEIR_BATCH_OFF_LENGTH, (uint32_t)len);
    assert_int_equal(validate(f, "t", false, true, false, data, len, &fail),
                     WEIR_KERR_CORRUPT_MESSAGE);
    assert_string_equal(fail.what, "batch");
    free(data);
    {
        size_t n;
        uint8_t *c = build_batch(good.recs, good.n, WEIR_CODEC_NONE, 0, 0, &n);

        /* every record is 27 bytes (a 1-byte length and a 26-byte body):
         * the 4th record's length becomes 1, less than any record */
        assert_int_equal(c[WEIR_BATCH_HDR_SIZE + 3 * 27], 26 << 1);
        c[WEIR_BATCH_HDR_SIZE + 3 * 27] = 1 << 1;
        assert_int_equal(validate(f, "t", false, true, false, c, n, &fail),
                         WEIR_KERR_CORRUPT_MESSAGE);
        assert_int_equal(fail.index, 3);
        free(c);
    }
}

/* The per-record loop weir_batch_schema_validate replaces. */
static weir_kerr_t
reference(fixture_t *f, const char *topic, bool payload, const uint8_t *b, size_t len,
          int64_t *index)
{
    char subj[64], reason[512];
    size_t off = 0;

    snprintf(subj, sizeof(subj), "%s-value", topic);
    *index = 0;
    while (off + WEIR_BATCH_LOG_OVERHEAD <= len) {
        int32_t bl = (int32_t)weir_be32(b + off + WEIR_BATCH_OFF_LENGTH);
        weir_record_iter_t it;
        weir_record_t rec;
        size_t total = WEIR_BATCH_LOG_OVERHEAD + (size_t)bl;

        if (weir_record_iter_init(&it, b + off, total, 1 << 24) != 0)
            return WEIR_KERR_CORRUPT_MESSAGE;
        while (weir_record_iter_next(&it, &rec)) {
            if (weir_schema_validate(f->v, subj, rec.value.ptr, rec.value.len, payload, NULL,
                                     reason, sizeof(reason)) != WEIR_SV_OK) {
                weir_record_iter_free(&it);
                return WEIR_KERR_INVALID_RECORD;
            }
            (*index)++;
        }
        if (it.err) {
            weir_record_iter_free(&it);
            return WEIR_KERR_CORRUPT_MESSAGE;
        }
        weir_record_iter_free(&it);
        off += total;
    }
    return WEIR_KERR_NONE;
}

/* weir_batch_schema_validate() gives the reference's answer and failing
 * index on data, with and without payload validation; outcomes counts
 * none, invalid and corrupt answers. */
static void
agree_with_reference(fixture_t *f, const uint8_t *data, size_t len, int outcomes[3])
{
    for (int payload = 0; payload < 2; payload++) {
        weir_batch_failure_t fail;
        int64_t index;
        weir_kerr_t want = reference(f, "t", payload, data, len, &index);
        weir_kerr_t got = validate(f, "t", false, true, payload, data, len, &fail);

        assert_int_equal(got, want);
        assert_int_equal(fail.index, want != WEIR_KERR_NONE ? index : -1);
        outcomes[want == WEIR_KERR_NONE ? 0 : want == WEIR_KERR_INVALID_RECORD ? 1 : 2]++;
    }
}

/* The random batches of a test met every outcome often enough. */
static void
outcomes_seen(const int outcomes[3])
{
    if (!(outcomes[0] > 50 && outcomes[1] > 50 && outcomes[2] > 5))
        fail_msg("outcomes: %d none, %d invalid, %d corrupt", outcomes[0], outcomes[1],
                 outcomes[2]);
}

static void
test_batch_matches_reference(void **state)
{
    fixture_t *f = *state;
    int outcomes[3] = {0, 0, 0};

    for (int round = 0; round < 400; round++) {
        uint8_t *data = NULL;
        size_t len = 0;
        int nb = 1 + (int)rndn(3);

        for (int bi = 0; bi < nb; bi++) {
            vals_t v = {.n = 0};
            int n = 1 + (int)rndn(30);
            uint8_t *b;
            size_t blen;

            for (int i = 0; i < n; i++) {
                uint8_t tmp[64];
                size_t k = row(tmp, f->row_id, (int64_t)rnd(), rndn(20));

                switch (rndn(60)) {
                case 0:
                    weir_put_be32(tmp + 1, (uint32_t)(f->row_id + 1 + rndn(3)));
                    break;
                case 1:
                    tmp[0] = '{';
                    break;
                case 2:
                    k = rndn(5);
                    break;
                case 3:
                    k -= 1 + rndn(8);
                    break;
                case 4:
                    tmp[5 + rndn((uint32_t)(k - 5))] = (uint8_t)rnd();
                    break;
                case 5:
                    add_value(&v, NULL, 0);
                    continue;
                default:
                    break;
                }
                add_value(&v, tmp, k);
            }
            b = build_batch(v.recs, v.n, rndn(4) ? WEIR_CODEC_NONE : WEIR_CODEC_SNAPPY, 0, 0,
                            &blen);
            if (rndn(40) == 0) /* a corrupt record now and then */
                b[WEIR_BATCH_HDR_SIZE + rndn((uint32_t)(blen - WEIR_BATCH_HDR_SIZE))] = 0xff;
            append(&data, &len, b, blen);
            free(b);
        }
        agree_with_reference(f, data, len, outcomes);
        free(data);
    }
    outcomes_seen(outcomes);
}

/* Batches of records of one shape (the fast path of weir_bv_records: same
 * sizes, same delta lengths, headers alike), mutated now and then in the
 * record's structure or content, against the per-record loop. */
static void
test_batch_shapes_match_reference(void **state)
{
    fixture_t *f = *state;
    enum { MAXREC = 400 };
    static uint8_t vbuf[MAXREC][64];
    static trec_t recs[MAXREC];
    int outcomes[3] = {0, 0, 0};

    for (int round = 0; round < 300; round++) {
        uint8_t *data = NULL;
        size_t len = 0;
        int nb = 1 + (int)rndn(2);

        for (int bi = 0; bi < nb; bi++) {
            int n = 20 + (int)rndn(MAXREC - 20);
            size_t nlen = rndn(20);
            int nheaders = rndn(3) ? 0 : 1 + (int)rndn(3);
            bool ts_same = rndn(2);
            uint8_t *b;
            size_t blen;

            for (int i = 0; i < n; i++) {
                size_t k = row(vbuf[i], f->row_id, (int64_t)rndn(60), nlen);

                recs[i] = (trec_t){.value = vbuf[i], .value_len = k, .nheaders = nheaders,
                                   .ts_delta = ts_same ? 0 : (int64_t)rndn(60)};
                switch (rndn(400)) {
                case 0: /* another id */
                    weir_put_be32(vbuf[i] + 1, (uint32_t)(f->row_id + 1 + rndn(3)));
                    break;
                case 1: /* not framed */
                    vbuf[i][0] = '{';
                    break;
                case 2: /* a payload byte */
                    vbuf[i][5 + rndn((uint32_t)(k - 5))] = (uint8_t)rnd();
                    break;
                case 3: /* shorter: another size */
                    recs[i].value_len = k - 1 - rndn(4);
                    break;
                case 4: /* a tombstone */
                    recs[i].value = NULL;
                    break;
                case 5: /* a timestamp delta of another length */
                    recs[i].ts_delta = 100000 + (int64_t)rndn(100000);
                    break;
                case 6: /* a header more */
                    recs[i].nheaders++;
                    break;
                default:
                    break;
                }
            }
            b = build_batch(recs, n, rndn(5) ? WEIR_CODEC_NONE : WEIR_CODEC_LZ4, 0, 1000,
                            &blen);
            if (rndn(10) == 0) /* any byte of the records, structure or content */
                b[WEIR_BATCH_HDR_SIZE + rndn((uint32_t)(blen - WEIR_BATCH_HDR_SIZE))] ^=
                    (uint8_t)(1u << rndn(8));
            append(&data, &len, b, blen);
            free(b);
        }
        agree_with_reference(f, data, len, outcomes);
        free(data);
    }
    outcomes_seen(outcomes);
}

/* Keys framed alike through the shape: the record whose key carries
 * another id is the one refused, as "key". */
static void
test_batch_shape_keys(void **state)
{
    fixture_t *f = *state;
    enum { N = 200 };
    static uint8_t kbuf[N][64], vbuf[N][64];
    static trec_t recs[N];

    for (int bad = 0; bad < N; bad += 37) {
        weir_batch_failure_t fail;
        uint8_t *b;
        size_t blen;

        for (int i = 0; i < N; i++) {
            size_t kl = row(kbuf[i], f->str_id, i % 50, 3);
            size_t vl = row(vbuf[i], f->row_id, i % 50, 7);

            if (i == bad)
                weir_put_be32(kbuf[i] + 1, (uint32_t)f->row_id); /* another subject's */
            recs[i] = (trec_t){.key = kbuf[i], .key_len = kl, .value = vbuf[i], .value_len = vl};
        }
        b = build_batch(recs, N, WEIR_CODEC_NONE, 0, 0, &blen);
        assert_int_equal(validate(f, "t", true, true, true, b, blen, &fail),
                         WEIR_KERR_INVALID_RECORD);
        assert_int_equal(fail.index, bad);
        assert_int_equal(fail.offset_delta, bad);
        assert_string_equal(fail.what, "key");
        free(b);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_walk_matches_iter),
        cmocka_unit_test(test_kv_walk_compressed),
        cmocka_unit_test_setup_teardown(test_checker_matches_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checker_nesting_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_many_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_matches_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_shapes_match_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_shape_keys, setup, teardown),
    };

    weir_log_level = WEIR_LOG_ERROR;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
