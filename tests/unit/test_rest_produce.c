/*
 * test_rest_produce.c: the REST proxy's building blocks - media types and
 * Accept negotiation, base64, Kafka's murmur2 partitioner (answers from
 * kafka-python's implementation), the record batch builder (validated and
 * read back with the storage layer's own reader) and the JSON-to-Avro
 * encoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "weir_avro_schema.h"
#include "weir_batch.h"
#include "weir_buf.h"
#include "weir_common.h"
#include "weir_records.h"
#include "weir_rest_format.h"
#include "weir_rest_proxy.h"

static int
ct(const char *v, bool wild, weir_rest_ctype_t *out)
{
    return weir_rest_ctype_parse(v, strlen(v), wild, out);
}

static void
test_ctype(void **state)
{
    weir_rest_ctype_t c;

    (void)state;
    assert_int_equal(ct("application/vnd.kafka.json.v2+json", false, &c), 0);
    assert_int_equal(c.fmt, WEIR_REST_FMT_JSON);
    assert_int_equal(c.version, 2);
    assert_true(c.kafka);
    assert_int_equal(ct("application/vnd.kafka.binary.v2+json; charset=utf-8", false, &c), 0);
    assert_int_equal(c.fmt, WEIR_REST_FMT_BINARY);
    assert_int_equal(ct("Application/VND.Kafka.AVRO.V2+JSON", false, &c), 0);
    assert_int_equal(c.fmt, WEIR_REST_FMT_AVRO);
    assert_int_equal(ct("application/vnd.kafka.jsonschema.v2+json", false, &c), 0);
    assert_int_equal(c.fmt, WEIR_REST_FMT_JSONSCHEMA);
    assert_int_equal(ct("application/vnd.kafka.v2+json", false, &c), 0);
    assert_int_equal(c.fmt, WEIR_REST_FMT_NONE);
    assert_true(c.kafka);
    assert_int_equal(ct("application/vnd.kafka+json", false, &c), 0);
    assert_int_equal(c.version, 0);
    assert_int_equal(ct("application/vnd.kafka.avro+json", false, &c), 0);
    assert_int_equal(c.fmt, WEIR_REST_FMT_AVRO);
    assert_int_equal(ct("application/json", false, &c), 0);
    assert_false(c.kafka);
    assert_int_equal(ct("application/octet-stream", false, &c), 0);
    /* refused */
    assert_int_equal(ct("application/vnd.kafka.protobuf.v2+json", false, &c), -1);
    assert_int_equal(ct("application/vnd.kafka.json.v1+json", false, &c), -1);
    assert_int_equal(ct("application/vnd.kafka.json.v2+xml", false, &c), -1);
    assert_int_equal(ct("application/vnd.kafka.v2.json+json", false, &c), -1);
    assert_int_equal(ct("application/vnd.kafka.json.avro.v2+json", false, &c), -1);
    assert_int_equal(ct("application/vnd.kafka..v2+json", false, &c), -1);
    assert_int_equal(ct("text/plain", false, &c), -1);
    assert_int_equal(ct("*/*", false, &c), -1);
    assert_int_equal(ct("*/*", true, &c), 0);
    assert_true(c.wildcard);
    assert_int_equal(ct("", false, &c), -1);
    /* Content-Type of a request: absent is generic */
    assert_int_equal(weir_rest_content_type(NULL, &c), 0);
    assert_int_equal(c.fmt, WEIR_REST_FMT_NONE);
    assert_int_equal(weir_rest_content_type("text/html", &c), -1);
    assert_string_equal(weir_rest_fmt_name(WEIR_REST_FMT_AVRO), "avro");
    assert_int_equal(weir_rest_fmt_parse("BINARY", 6), WEIR_REST_FMT_BINARY);
    assert_int_equal(weir_rest_fmt_parse("xml", 3), -1);
}

static void
test_accept(void **state)
{
    (void)state;
    assert_string_equal(weir_rest_accept(NULL, WEIR_REST_FMT_NONE),
                        "application/vnd.kafka.v2+json");
    assert_string_equal(weir_rest_accept("*/*", WEIR_REST_FMT_NONE),
                        "application/vnd.kafka.v2+json");
    assert_string_equal(weir_rest_accept("application/json", WEIR_REST_FMT_NONE),
                        "application/json");
    assert_string_equal(weir_rest_accept("text/html, application/vnd.kafka.v2+json;q=0.9",
                                         WEIR_REST_FMT_NONE),
                        "application/vnd.kafka.v2+json");
    assert_null(weir_rest_accept("text/html", WEIR_REST_FMT_NONE));
    assert_null(weir_rest_accept("application/json;q=0", WEIR_REST_FMT_NONE));
    assert_null(weir_rest_accept("application/vnd.kafka.binary.v2+json", WEIR_REST_FMT_NONE));
    assert_string_equal(weir_rest_accept("application/vnd.kafka.binary.v2+json",
                                         WEIR_REST_FMT_BINARY),
                        "application/vnd.kafka.binary.v2+json");
    assert_null(weir_rest_accept("application/vnd.kafka.json.v2+json", WEIR_REST_FMT_AVRO));
}

static void
test_base64(void **state)
{
    const char *cases[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                              {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                              {"foobar", "Zm9vYmFy"}};
    uint8_t bin[256], *out;
    size_t n;
    char enc[400];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        weir_base64_encode((const uint8_t *)cases[i][0], strlen(cases[i][0]), enc);
        assert_string_equal(enc, cases[i][1]);
        assert_int_equal(weir_base64_encoded_len(strlen(cases[i][0])), strlen(cases[i][1]));
        assert_int_equal(weir_base64_decode(cases[i][1], strlen(cases[i][1]), &out, &n), 0);
        assert_int_equal(n, strlen(cases[i][0]));
        assert_memory_equal(out, cases[i][0], n);
        free(out);
    }
    for (int i = 0; i < 256; i++)
        bin[i] = (uint8_t)(255 - i);
    weir_base64_encode(bin, sizeof(bin), enc);
    assert_int_equal(weir_base64_decode(enc, strlen(enc), &out, &n), 0);
    assert_int_equal(n, sizeof(bin));
    assert_memory_equal(out, bin, n);
    free(out);
    /* unpadded is accepted, garbage is not */
    assert_int_equal(weir_base64_decode("Zm8", 3, &out, &n), 0);
    assert_int_equal(n, 2);
    free(out);
    assert_int_equal(weir_base64_decode("Zm9v!", 5, &out, &n), -1);
    assert_int_equal(weir_base64_decode("Z", 1, &out, &n), -1);
    assert_int_equal(weir_base64_decode("Zm9 v", 5, &out, &n), -1);
    assert_int_equal(weir_base64_decode("Zg=", 3, &out, &n), -1);
}

static void
test_murmur2(void **state)
{
    /* kafka.partitioner.default.murmur2 (kafka-python), unsigned */
    static const struct {
        const char *key;
        size_t len;
        uint32_t hash;
        int32_t part3;
    } v[] = {
        {"", 0, 275646681u, 0},
        {"a", 1, 2731586172u, 1},
        {"abc", 3, 479470107u, 0},
        {"key-1", 5, 193331640u, 0},
        {"\x00\xff\x10\x20\x30", 5, 2590989163u, 2},
        {"0123456789abcdef!", 17, 3456880100u, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
        assert_int_equal((uint32_t)weir_rest_murmur2(v[i].key, v[i].len), v[i].hash);
        assert_int_equal(weir_rest_key_partition(v[i].key, v[i].len, 3), v[i].part3);
    }
}

static void
test_batch_build(void **state)
{
    const weir_rest_header_t h[] = {{"trace", 5, (const uint8_t *)"abc", 3},
                                    {"empty", 5, NULL, -1}};
    const weir_rest_record_t recs[] = {
        {(const uint8_t *)"k1", 2, (const uint8_t *)"v1", 2, h, 2, 1700000000500},
        {NULL, -1, (const uint8_t *)"", 0, NULL, 0, 1700000000000},
        {(const uint8_t *)"k3", 2, NULL, -1, NULL, 0, 1700000001000},
    };
    weir_wbuf_t w;
    weir_batch_hdr_t hdr;
    weir_record_iter_t it;
    weir_record_t r;
    weir_header_t hh;
    size_t pos = 0;

    (void)state;
    weir_wbuf_init(&w, 16);
    weir_wr_raw(&w, "xx", 2); /* appends after what is there */
    weir_rest_batch_build(&w, recs, 3);
    assert_int_equal(weir_batch_validate(w.data + 2, w.len - 2, &hdr), WEIR_KERR_NONE);
    assert_int_equal(weir_batch_total_size(&hdr), w.len - 2);
    assert_int_equal(hdr.magic, 2);
    assert_int_equal(hdr.records_count, 3);
    assert_int_equal(hdr.last_offset_delta, 2);
    assert_int_equal(hdr.base_timestamp, 1700000000500);
    assert_int_equal(hdr.max_timestamp, 1700000001000);
    assert_int_equal(hdr.producer_id, -1);
    assert_int_equal(hdr.attributes, 0);
    assert_int_equal(hdr.crc, weir_crc32c(0, w.data + 2 + WEIR_BATCH_OFF_ATTRIBUTES,
                                          w.len - 2 - WEIR_BATCH_OFF_ATTRIBUTES));
    assert_int_equal(weir_record_iter_init(&it, w.data + 2, w.len - 2, 1 << 20), 0);
    assert_true(weir_record_iter_next(&it, &r));
    assert_int_equal(r.offset, 0);
    assert_int_equal(r.timestamp, 1700000000500);
    assert_int_equal(r.key.len, 2);
    assert_memory_equal(r.key.ptr, "k1", 2);
    assert_memory_equal(r.value.ptr, "v1", 2);
    assert_int_equal(r.header_count, 2);
    assert_int_equal(weir_record_header_next(&r, &pos, &hh), 1);
    assert_int_equal(hh.key.len, 5);
    assert_memory_equal(hh.key.ptr, "trace", 5);
    assert_memory_equal(hh.value.ptr, "abc", 3);
    assert_int_equal(weir_record_header_next(&r, &pos, &hh), 1);
    assert_int_equal(hh.value.len, -1);
    assert_int_equal(weir_record_header_next(&r, &pos, &hh), 0);
    assert_true(weir_record_iter_next(&it, &r));
    assert_int_equal(r.offset, 1);
    assert_int_equal(r.timestamp, 1700000000000); /* a negative delta */
    assert_int_equal(r.key.len, -1);
    assert_int_equal(r.value.len, 0);
    assert_true(weir_record_iter_next(&it, &r));
    assert_int_equal(r.value.len, -1);
    assert_int_equal(r.timestamp, 1700000001000);
    assert_false(weir_record_iter_next(&it, &r));
    assert_int_equal(it.err, 0);
    weir_record_iter_free(&it);
    /* a flipped byte breaks the CRC */
    w.data[w.len - 1] ^= 1;
    assert_int_equal(weir_batch_validate(w.data + 2, w.len - 2, &hdr),
                     WEIR_KERR_CORRUPT_MESSAGE);
    weir_wbuf_free(&w);
}

/* Encodes json under schema text; returns the bytes' length or -1. */
static int
enc(const char *schema, const char *json, uint8_t *out, char *err)
{
    weir_avro_schema_t *s;
    char perr[256];
    json_error_t je;
    json_t *v = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    weir_wbuf_t w;
    int rc;

    assert_non_null(v);
    assert_int_equal(weir_avro_schema_parse(schema, strlen(schema), NULL, NULL, 0, 0, &s, perr,
                                            sizeof(perr)), 0);
    weir_wbuf_init(&w, 16);
    rc = weir_rest_avro_encode(s->root, v, &w, err, 256);
    if (rc == 0) {
        memcpy(out, w.data, w.len);
        rc = (int)w.len;
    }
    weir_wbuf_free(&w);
    json_decref(v);
    weir_avro_schema_free(s);
    return rc;
}

static void
test_avro_encode(void **state)
{
    const char *rec = "{\"type\":\"record\",\"name\":\"Order\",\"namespace\":\"shop\",\"fields\":["
                      "{\"name\":\"id\",\"type\":\"long\"},"
                      "{\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null},"
                      "{\"name\":\"qty\",\"type\":\"int\",\"default\":1},"
                      "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
                      "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\","
                      "\"symbols\":[\"A\",\"B\"]}},"
                      "{\"name\":\"ok\",\"type\":\"boolean\"},"
                      "{\"name\":\"raw\",\"type\":\"bytes\"},"
                      "{\"name\":\"d\",\"type\":\"double\"}]}";
    uint8_t out[256];
    char err[256];
    int n;
    static const uint8_t want[] = {
        0x0a,                   /* id 5 */
        0x02, 0x04, 'h', 'i',   /* note: branch 1, "hi" */
        0x02,                   /* qty default 1 */
        0x02, 0x02, 'x', 0x00,  /* tags ["x"] */
        0x02,                   /* kind B */
        0x01,                   /* ok */
        0x04, 0x00, 0xff,       /* raw "\u0000\u00ff" */
        0, 0, 0, 0, 0, 0, 0xf8, 0x3f, /* d 1.5 */
    };

    (void)state;
    n = enc(rec, "{\"id\":5,\"note\":{\"string\":\"hi\"},\"tags\":[\"x\"],\"kind\":\"B\","
                 "\"ok\":true,\"raw\":\"\\u0000\\u00ff\",\"d\":1.5}", out, err);
    assert_int_equal(n, (int)sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    /* note null (union branch 0), qty given, empty array */
    n = enc(rec, "{\"id\":-1,\"note\":null,\"qty\":300,\"tags\":[],\"kind\":\"A\",\"ok\":false,"
                 "\"raw\":\"\",\"d\":0}", out, err);
    assert_true(n > 0);
    assert_int_equal(out[0], 0x01); /* zig-zag -1 */
    assert_int_equal(out[1], 0x00); /* null branch */
    assert_int_equal(out[2], 0xd8); /* 300 -> 600 = 0xd8 0x04 */
    assert_int_equal(out[3], 0x04);
    assert_int_equal(out[4], 0x00); /* empty array */
    /* errors name the field */
    assert_int_equal(enc(rec, "{\"id\":\"x\"}", out, err), -1);
    assert_non_null(strstr(err, "id"));
    assert_int_equal(enc(rec, "{\"id\":1,\"tags\":[],\"kind\":\"C\",\"ok\":true,\"raw\":\"\","
                              "\"d\":1}", out, err), -1);
    assert_non_null(strstr(err, "kind"));
    assert_int_equal(enc(rec, "{\"id\":1,\"note\":\"bare\",\"tags\":[],\"kind\":\"A\","
                              "\"ok\":true,\"raw\":\"\",\"d\":1}", out, err), -1);
    assert_int_equal(enc(rec, "{\"id\":1,\"tags\":[],\"kind\":\"A\",\"ok\":true,\"raw\":"
                              "\"\\u0100\",\"d\":1}", out, err), -1);
    assert_int_equal(enc(rec, "{\"tags\":[],\"kind\":\"A\",\"ok\":true,\"raw\":\"\",\"d\":1}",
                         out, err), -1);
    assert_non_null(strstr(err, "missing"));
    assert_int_equal(enc("\"int\"", "2147483648", out, err), -1);
    assert_int_equal(enc("\"string\"", "\"\"", out, err), 1);
    assert_int_equal(enc("{\"type\":\"map\",\"values\":\"int\"}", "{\"a\":1}", out, err), 5);
    assert_memory_equal(out, "\x02\x02" "a\x02\x00", 5);
    assert_int_equal(enc("{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}", "\"ab\"", out, err),
                     2);
    assert_int_equal(enc("{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}", "\"a\"", out, err),
                     -1);
}

/* Request bodies: what JSON allows parses, anything else is refused with
 * its position; a stream of concatenated objects is read one at a time. */
static void
test_json_parse(void **state)
{
    static const char *good[] = {
        "{}", "[]", "0", "-0", "12345678901234", "-9223372036854775808", "1.5", "-2.5e-3",
        "1E10", "true", "false", "null", "\"\"", "\"plain\"",
        "\"esc \\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9 \\u20ac \\ud83d\\ude00\"",
        "\"nul \\u0000 inside\"", "\"caf\xc3\xa9 \xe2\x82\xac\"",
        " { \"records\" : [ {\"key\":\"a\",\"value\":{\"n\":[1,2,{\"x\":null}]}} , "
        "{\"value\":\"QUFB\",\"partition\":0} ] , \"dup\":1, \"dup\":2 } ",
        "[[[[[[[[[[1]]]]]]]]]]", "{\"\\u00e9\":\"k\"}",
    };
    static const char *bad[] = {
        "", " ", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a:1}", "[1 2]", "01", "1.", ".5",
        "-", "1e", "tru", "nul", "\"unterminated", "\"ctl \x01\"", "\"bad \\x\"",
        "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"\xff\xfe\"", "{\"\\u0000\":1}", "99999999999999999999", "[1] x", "{} {}",
        "'single'",
    };
    char err[200];
    size_t used;
    json_t *a;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
        a = weir_rest_json_parse(good[i], strlen(good[i]), NULL, err, sizeof(err));
        if (!a)
            fail_msg("%s: %s", good[i], err);
        json_decref(a);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        a = weir_rest_json_parse(bad[i], strlen(bad[i]), NULL, err, sizeof(err));
        if (a)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(strstr(err, "line 1 column"));
    }
    /* NUL inside a string value survives */
    a = weir_rest_json_parse("\"a\\u0000b\"", 10, NULL, err, sizeof(err));
    assert_non_null(a);
    assert_int_equal(json_string_length(a), 3);
    assert_memory_equal(json_string_value(a), "a\0b", 3);
    json_decref(a);
    /* a stream of values */
    a = weir_rest_json_parse("{\"a\":1}{\"b\":2} ", 16, &used, err, sizeof(err));
    assert_non_null(a);
    assert_int_equal(used, 7);
    json_decref(a);
    a = weir_rest_json_parse("\n\n  [1,\n  x]", 12, NULL, err, sizeof(err));
    assert_null(a);
    assert_non_null(strstr(err, "line 4 column 3"));
}

static void
test_json_write(void **state)
{
    static const char *in[][2] = {
        {"{ \"a\" : [1, 2.5, \"\\u00e9\\n\\\"\\\\/\\u0001\", null, true, false, {}, []],"
         " \"b\": 100.0, \"c\": 0.1, \"d\": 1e20, \"e\": -0.000001, \"z\": -7}",
         "{\"a\":[1,2.5,\"\xc3\xa9\\n\\\"\\\\/\\u0001\",null,true,false,{},[]],"
         "\"b\":100.0,\"c\":0.1,\"d\":1e+20,\"e\":-1e-06,\"z\":-7}"},
        {"\"nul\\u0000\"", "\"nul\\u0000\""},
        {"[0.30000000000000004, 123456789012345678]",
         "[0.30000000000000004,123456789012345678]"},
    };
    char err[200];

    (void)state;
    for (size_t i = 0; i < sizeof(in) / sizeof(*in); i++) {
        json_t *v = weir_rest_json_parse(in[i][0], strlen(in[i][0]), NULL, err, sizeof(err));
        weir_wbuf_t w;
        assert_non_null(v);
        weir_wbuf_init(&w, 4);
        weir_rest_json_write(&w, v);
        weir_wr_i8(&w, 0);
        assert_string_equal((const char *)w.data, in[i][1]);
        weir_wbuf_free(&w);
        json_decref(v);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctype),         cmocka_unit_test(test_accept),
        cmocka_unit_test(test_base64),        cmocka_unit_test(test_murmur2),
        cmocka_unit_test(test_batch_build),   cmocka_unit_test(test_avro_encode),
        cmocka_unit_test(test_json_parse),    cmocka_unit_test(test_json_write),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
