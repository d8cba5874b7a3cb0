/*
 * weir_validate_bench.c: the broker's per-record cost of schema validation
 * on produce, in process, next to the CRC-32C check every produced batch
 * gets (tests/bench/run-registry prints it first).
 *
 *   weir_validate_bench [RECORDS]
 *
 * One uncompressed batch of RECORDS (default 10000) Confluent-framed Avro
 * values of a record {id: long, name: string, score: double} registered as
 * t-value in an in-memory registry, in two forms: every name 20 bytes long
 * (records of one shape, as a producer of fixed-size rows sends them) and
 * names of 0-39 bytes (every record a different size).  For each form:
 * nanoseconds per record of CRC-32C over the batch, of the exact record
 * walk alone, and of weir_batch_schema_validate() with id validation and
 * with payload validation; the least of several repetitions.  Figures only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weir_batch.h"
#include "weir_batch_validate.h"
#include "weir_buf.h"
#include "weir_common.h"
#include "weir_log.h"
#include "weir_records.h"
#include "weir_registry.h"

#define REPEAT 15

static const char ROW[] = "{\"type\":\"record\",\"name\":\"Row\",\"fields\":["
                          "{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"name\",\"type\":"
                          "\"string\"},{\"name\":\"score\",\"type\":\"double\"}]}";

static double
now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* The framed value of row i (schema id sid, a name of nlen bytes). */
static size_t
row_value(uint8_t *out, int32_t sid, int64_t i, size_t nlen)
{
    weir_wbuf_t w;
    size_t n;

    weir_wbuf_init(&w, 64);
    weir_wr_i8(&w, 0);
    weir_wr_i32(&w, sid);
    weir_wr_varlong(&w, i);             /* id */
    weir_wr_varlong(&w, (int64_t)nlen); /* name */
    for (size_t k = 0; k < nlen; k++)
        weir_wr_i8(&w, (int8_t)('a' + (k + (size_t)i) % 26));
    weir_wr_raw(&w, "\x00\x00\x00\x00\x00\x00\xf0\x3f", 8); /* score 1.0 */
    memcpy(out, w.data, w.len);
    n = w.len;
    weir_wbuf_free(&w);
    return n;
}

/* A whole batch of n records; fixed: every name 20 bytes, else 0-39. */
static uint8_t *
build_batch(int n, int32_t sid, int fixed, size_t *len)
{
    weir_wbuf_t w, body;
    uint8_t val[128], *b;
    size_t total;

    weir_wbuf_init(&w, (size_t)n * 64);
    for (int i = 0; i < n; i++) {
        size_t vlen = row_value(val, sid, i, fixed ? 20 : (size_t)(i * 7919) % 40);

        weir_wbuf_init(&body, 128);
        weir_wr_i8(&body, 0);
        weir_wr_varlong(&body, i / 100); /* timestamp delta */
        weir_wr_varint(&body, i);        /* offset delta */
        weir_wr_varint(&body, -1);       /* null key */
        weir_wr_varint(&body, (int32_t)vlen);
        weir_wr_raw(&body, val, vlen);
        weir_wr_varint(&body, 0); /* no headers */
        weir_wr_varint(&w, (int32_t)body.len);
        weir_wr_raw(&w, body.data, body.len);
        weir_wbuf_free(&body);
    }
    total = WEIR_BATCH_HDR_SIZE + w.len;
    b = calloc(1, total);
    weir_put_be32(b + WEIR_BATCH_OFF_LENGTH, (uint32_t)(total - WEIR_BATCH_LOG_OVERHEAD));
    b[WEIR_BATCH_OFF_MAGIC] = 2;
    weir_put_be32(b + WEIR_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(n - 1));
    weir_put_be64(b + WEIR_BATCH_OFF_BASE_TIMESTAMP, 1700000000000ull);
    weir_put_be64(b + WEIR_BATCH_OFF_MAX_TIMESTAMP, 1700000000000ull + (uint64_t)n / 100);
    weir_put_be64(b + WEIR_BATCH_OFF_PRODUCER_ID, (uint64_t)-1);
    weir_put_be16(b + WEIR_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)-1);
    weir_put_be32(b + WEIR_BATCH_OFF_BASE_SEQUENCE, (uint32_t)-1);
    weir_put_be32(b + WEIR_BATCH_OFF_RECORDS_COUNT, (uint32_t)n);
    memcpy(b + WEIR_BATCH_HDR_SIZE, w.data, w.len);
    weir_wbuf_free(&w);
    weir_put_be32(b + WEIR_BATCH_OFF_CRC,
                  weir_crc32c(0, b + WEIR_BATCH_OFF_ATTRIBUTES, total - WEIR_BATCH_OFF_ATTRIBUTES));
    *len = total;
    return b;
}

typedef enum { M_CRC, M_WALK, M_ID, M_PAYLOAD, M_N } mode_t_;

static const char *const MODE_NAMES[M_N] = {"CRC-32C of the batch", "exact record walk",
                                            "id validation", "payload validation"};

/* One pass of mode m over the batch; exits on a wrong answer. */
static void
pass(weir_schema_validator_t *v, mode_t_ m, const uint8_t *b, size_t len, int n)
{
    static volatile uint32_t sink;

    if (m == M_CRC) {
        sink += weir_crc32c(0, b + WEIR_BATCH_OFF_ATTRIBUTES, len - WEIR_BATCH_OFF_ATTRIBUTES);
    } else if (m == M_WALK) {
        weir_record_iter_t it;
        weir_record_kv_t kvs[64];
        size_t k;
        int seen = 0;

        weir_record_iter_init(&it, b, len, 1 << 24);
        while ((k = weir_record_iter_next_kvs(&it, kvs, 64)) > 0) {
            seen += (int)k;
            sink += (uint32_t)kvs[k - 1].value.len;
        }
        weir_record_iter_free(&it);
        if (seen != n) {
            fprintf(stderr, "weir_validate_bench: the walk saw %d of %d records\n", seen, n);
            exit(1);
        }
    } else {
        weir_batch_checks_t c = {.value = true, .payload = m == M_PAYLOAD};
        weir_batch_failure_t fail;
        weir_str_t topic = {1, "t"};

        if (weir_batch_schema_validate(v, topic, &c, b, len, &fail) != WEIR_KERR_NONE) {
            fprintf(stderr, "weir_validate_bench: validation refused record %lld: %s\n",
                    (long long)fail.index, fail.reason);
            exit(1);
        }
    }
}

int
main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    weir_registry_t *reg;
    weir_schema_validator_t *v;
    weir_reg_schema_req_t req = {.schema = ROW, .schema_len = strlen(ROW)};
    weir_reg_result_t res;
    weir_reg_err_t err = {0};
    char e[128];

    if (n < 1 || n > 1000000) {
        fprintf(stderr, "usage: weir_validate_bench [RECORDS (1..1000000)]\n");
        return 2;
    }
    weir_log_level = WEIR_LOG_ERROR;
    if (weir_registry_open(NULL, &reg, e, sizeof(e)) != 0 ||
        weir_registry_register(reg, "t-value", &req, &res, &err) != 0) {
        fprintf(stderr, "weir_validate_bench: registry: %s%s\n", e, err.message);
        return 1;
    }
    v = weir_schema_validator_new(reg);
    printf("  in process, one batch of %d framed Avro rows (~50 bytes), ns per record, least of "
           "%d passes:\n",
           n, REPEAT);
    printf("  %-22s %12s %12s\n", "", "one shape", "mixed sizes");
    for (int m = 0; m < M_N; m++) {
        double best[2];

        for (int fixed = 1; fixed >= 0; fixed--) {
            size_t len;
            uint8_t *b = build_batch(n, res.id, fixed, &len);

            best[!fixed] = 1e30;
            for (int r = 0; r < REPEAT; r++) {
                double t0 = now_ns();
                pass(v, (mode_t_)m, b, len, n);
                double dt = (now_ns() - t0) / n;
                if (dt < best[!fixed])
                    best[!fixed] = dt;
            }
            free(b);
        }
        printf("  %-22s %12.2f %12.2f\n", MODE_NAMES[m], best[0], best[1]);
    }
    weir_schema_validator_free(v);
    weir_registry_free(reg);
    return 0;
}
