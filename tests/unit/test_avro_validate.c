/*
 * test_avro_validate.c: unit tests of registry/weir_avro_validate.c -
 * broker-side validation of produced values: the wire-format framing, the
 * id registered under the subject (soft-deleted versions do not count),
 * Avro payloads encoded by avro-c accepted, corrupt and hostile payloads
 * (truncated, trailing bytes, bad union/enum indexes, length and count
 * bombs, nesting bombs) refused with a reason, JSON payloads, and a
 * property check that whatever the bounded walk accepts avro-c decodes
 * completely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "weir_avro_validate.h"

#define EVENT                                                                                      \
    "{\"type\":\"record\",\"name\":\"Event\",\"fields\":["                                         \
    "{\"name\":\"id\",\"type\":\"long\"},"                                                         \
    "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\",\"symbols\":[\"A\",\"B\"]}}" \
    ","                                                                                            \
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"                      \
    "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":\"int\"}},"                         \
    "{\"name\":\"note\",\"type\":[\"null\",\"string\"]},"                                          \
    "{\"name\":\"ok\",\"type\":\"boolean\"},"                                                      \
    "{\"name\":\"h\",\"type\":{\"type\":\"fixed\",\"name\":\"H\",\"size\":4}},"                    \
    "{\"name\":\"score\",\"type\":\"double\"}]}"
#define EVENT2                                                                                     \
    "{\"type\":\"record\",\"name\":\"Event\",\"fields\":["                                         \
    "{\"name\":\"id\",\"type\":\"long\"},"                                                         \
    "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\",\"symbols\":[\"A\",\"B\"]}}" \
    ","                                                                                            \
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"                      \
    "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":\"int\"}},"                         \
    "{\"name\":\"note\",\"type\":[\"null\",\"string\"]},"                                          \
    "{\"name\":\"ok\",\"type\":\"boolean\"},"                                                      \
    "{\"name\":\"h\",\"type\":{\"type\":\"fixed\",\"name\":\"H\",\"size\":4}},"                    \
    "{\"name\":\"score\",\"type\":\"double\"},"                                                    \
    "{\"name\":\"extra\",\"type\":\"int\",\"default\":0}]}"
#define LIST                                                                                       \
    "{\"type\":\"record\",\"name\":\"L\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"           \
    "{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}"

typedef struct fixture_s {
    weir_registry_t *reg;
    weir_schema_validator_t *v;
    int32_t event_id, event2_id, string_id, json_id, list_id, nulls_id;
} fixture_t;

static int32_t
register_schema(weir_registry_t *reg, const char *subject, const char *text, const char *type)
{
    weir_reg_schema_req_t r = {.schema = text, .schema_len = strlen(text), .schema_type = type};
    weir_reg_result_t res;
    weir_reg_err_t err = {0};

    if (weir_registry_register(reg, subject, &r, &res, &err) != 0)
        fail_msg("register: %s", err.message);
    return res.id;
}

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    weir_reg_err_t err = {0};
    char e[128];
    int32_t dv;

    assert_int_equal(weir_registry_open(NULL, &f->reg, e, sizeof(e)), 0);
    f->event_id = register_schema(f->reg, "events-value", EVENT, NULL);
    f->event2_id = register_schema(f->reg, "events-value", EVENT2, NULL);
    f->string_id = register_schema(f->reg, "other-value", "\"string\"", NULL);
    f->json_id = register_schema(f->reg, "json-value", "{\"type\":\"object\"}", "JSON");
    f->list_id = register_schema(f->reg, "list-value", LIST, NULL);
    f->nulls_id =
        register_schema(f->reg, "nulls-value", "{\"type\":\"array\",\"items\":\"null\"}", NULL);
    /* Version 2 of events-value is soft-deleted: its id no longer validates. */
    assert_int_equal(weir_registry_delete_version(f->reg, "events-value", 2, false, &dv, &err), 0);
    f->v = weir_schema_validator_new(f->reg);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;

    weir_schema_validator_free(f->v);
    weir_registry_free(f->reg);
    free(f);
    return 0;
}

/* Frames a payload: magic 0, big-endian id, bytes. */
static size_t
frame(uint8_t *out, int32_t id, const void *payload, size_t len)
{
    out[0] = 0;
    out[1] = (uint8_t)((uint32_t)id >> 24);
    out[2] = (uint8_t)((uint32_t)id >> 16);
    out[3] = (uint8_t)((uint32_t)id >> 8);
    out[4] = (uint8_t)id;
    memcpy(out + 5, payload, len);
    return len + 5;
}

/* An Event encoded by avro-c. */
static size_t
encode_event(const weir_reg_schema_t *s, uint8_t *buf, size_t size, int ntags)
{
    avro_value_iface_t *iface = avro_generic_class_from_schema(s->avro->avroc);
    avro_value_t rec, fld, elem, branch;
    avro_writer_t w;
    size_t len;

    assert_non_null(iface);
    assert_int_equal(avro_generic_value_new(iface, &rec), 0);
    assert_int_equal(avro_value_get_by_name(&rec, "id", &fld, NULL), 0);
    assert_int_equal(avro_value_set_long(&fld, -1234567890123LL), 0);
    assert_int_equal(avro_value_get_by_name(&rec, "kind", &fld, NULL), 0);
    assert_int_equal(avro_value_set_enum(&fld, 1), 0);
    assert_int_equal(avro_value_get_by_name(&rec, "tags", &fld, NULL), 0);
    for (int i = 0; i < ntags; i++) {
        assert_int_equal(avro_value_append(&fld, &elem, NULL), 0);
        assert_int_equal(avro_value_set_string(&elem, "tag"), 0);
    }
    assert_int_equal(avro_value_get_by_name(&rec, "attrs", &fld, NULL), 0);
    assert_int_equal(avro_value_add(&fld, "k1", &elem, NULL, NULL), 0);
    assert_int_equal(avro_value_set_int(&elem, -7), 0);
    assert_int_equal(avro_value_add(&fld, "k2", &elem, NULL, NULL), 0);
    assert_int_equal(avro_value_set_int(&elem, 70000), 0);
    assert_int_equal(avro_value_get_by_name(&rec, "note", &fld, NULL), 0);
    assert_int_equal(avro_value_set_branch(&fld, 1, &branch), 0);
    assert_int_equal(avro_value_set_string(&branch, "hello"), 0);
    assert_int_equal(avro_value_get_by_name(&rec, "ok", &fld, NULL), 0);
    assert_int_equal(avro_value_set_boolean(&fld, 1), 0);
    assert_int_equal(avro_value_get_by_name(&rec, "h", &fld, NULL), 0);
    assert_int_equal(avro_value_set_fixed(&fld, (void *)"\x01\x02\x03\x04", 4), 0);
    assert_int_equal(avro_value_get_by_name(&rec, "score", &fld, NULL), 0);
    assert_int_equal(avro_value_set_double(&fld, 2.5), 0);
    w = avro_writer_memory((const char *)buf, (int64_t)size);
    assert_int_equal(avro_value_write(w, &rec), 0);
    len = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    avro_value_decref(&rec);
    avro_value_iface_decref(iface);
    return len;
}

static void
expect(fixture_t *f, const char *subject, const void *value, int64_t len, bool payload,
       weir_sv_result_t want, const char *reason_part)
{
    char reason[512] = "";
    weir_sv_result_t got =
        weir_schema_validate(f->v, subject, value, len, payload, NULL, reason, sizeof(reason));

    if (got != want)
        fail_msg("validate %s: %d (%s), want %d", subject, got, reason, want);
    if (reason_part && !strstr(reason, reason_part))
        fail_msg("reason \"%s\" lacks \"%s\"", reason, reason_part);
}

static void
test_framing(void **state)
{
    fixture_t *f = *state;
    const weir_reg_schema_t *s;
    weir_reg_err_t err = {0};
    uint8_t payload[256], value[300];
    size_t plen, vlen;
    int32_t id = 0;
    char reason[256];

    assert_int_equal(weir_registry_schema_by_id(f->reg, f->event_id, &s, &err), 0);
    plen = encode_event(s, payload, sizeof(payload), 3);
    vlen = frame(value, f->event_id, payload, plen);
    expect(f, "events-value", value, (int64_t)vlen, false, WEIR_SV_OK, NULL);
    expect(f, "events-value", value, (int64_t)vlen, true, WEIR_SV_OK, NULL);
    assert_int_equal(weir_schema_validate(f->v, "events-value", value, (int64_t)vlen, true, &id,
                                          reason, sizeof(reason)),
                     WEIR_SV_OK);
    assert_int_equal(id, f->event_id);
    /* Twice: the cached value class is reused. */
    expect(f, "events-value", value, (int64_t)vlen, true, WEIR_SV_OK, NULL);
    /* Null values (tombstones) pass. */
    expect(f, "events-value", NULL, -1, true, WEIR_SV_OK, NULL);
    /* Framing. */
    expect(f, "events-value", value, 4, false, WEIR_SV_NO_ID, "4 bytes cannot hold");
    expect(f, "events-value", "", 0, false, WEIR_SV_NO_ID, "0 bytes");
    expect(f, "events-value", "{\"id\":1}", 8, false, WEIR_SV_NO_ID, "magic byte is 0x7b");
    value[0] = 1;
    expect(f, "events-value", value, (int64_t)vlen, false, WEIR_SV_NO_ID, "magic byte is 0x01");
    value[0] = 0;
    /* Ids: unknown, of another subject, soft-deleted. */
    vlen = frame(value, 999, payload, plen);
    expect(f, "events-value", value, (int64_t)vlen, false, WEIR_SV_UNKNOWN_ID,
           "schema id 999 is not registered under subject events-value");
    vlen = frame(value, f->string_id, payload, plen);
    expect(f, "events-value", value, (int64_t)vlen, false, WEIR_SV_UNKNOWN_ID, NULL);
    expect(f, "no-such-subject", value, (int64_t)vlen, false, WEIR_SV_UNKNOWN_ID, NULL);
    vlen = frame(value, f->event2_id, payload, plen);
    expect(f, "events-value", value, (int64_t)vlen, false, WEIR_SV_UNKNOWN_ID, NULL);
    /* A negative id (0xffffffff) is just unknown. */
    vlen = frame(value, -1, payload, plen);
    expect(f, "events-value", value, (int64_t)vlen, false, WEIR_SV_UNKNOWN_ID, "schema id -1");
}

static void
test_corrupt_payloads(void **state)
{
    fixture_t *f = *state;
    const weir_reg_schema_t *s;
    weir_reg_err_t err = {0};
    uint8_t payload[256], value[300], bad[300];
    size_t plen, vlen;

    assert_int_equal(weir_registry_schema_by_id(f->reg, f->event_id, &s, &err), 0);
    plen = encode_event(s, payload, sizeof(payload), 2);
    vlen = frame(value, f->event_id, payload, plen);

    /* Truncated at every length: refused with payload checks, framing
     * alone passes. */
    for (size_t cut = 5; cut < vlen; cut++) {
        expect(f, "events-value", value, (int64_t)cut, true, WEIR_SV_BAD_PAYLOAD, NULL);
        expect(f, "events-value", value, (int64_t)cut, false, WEIR_SV_OK, NULL);
    }
    /* A trailing byte. */
    memcpy(bad, value, vlen);
    bad[vlen] = 0;
    expect(f, "events-value", bad, (int64_t)vlen + 1, true, WEIR_SV_BAD_PAYLOAD,
           "1 bytes left over");
    /* Enum index out of range: "kind" follows the id (a 6-byte long). */
    memcpy(bad, value, vlen);
    assert_int_equal(bad[5 + 6], 2); /* zig-zag 1 */
    bad[5 + 6] = 4;                  /* index 2 of 2 symbols */
    expect(f, "events-value", bad, (int64_t)vlen, true, WEIR_SV_BAD_PAYLOAD,
           "enum Kind index 2 out of range");
    bad[5 + 6] = 1; /* -1 */
    expect(f, "events-value", bad, (int64_t)vlen, true, WEIR_SV_BAD_PAYLOAD, "index -1");
    /* Plain JSON after a valid frame. */
    vlen = frame(value, f->event_id, "{\"id\":1}", 8);
    expect(f, "events-value", value, (int64_t)vlen, true, WEIR_SV_BAD_PAYLOAD,
           "does not decode with schema id");

    /* A string length bomb. */
    {
        const uint8_t bomb[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};

        vlen = frame(value, f->string_id, bomb, sizeof(bomb));
        expect(f, "other-value", value, (int64_t)vlen, true, WEIR_SV_BAD_PAYLOAD, "truncated");
    }
    /* A varint that never ends. */
    {
        uint8_t longv[16];

        memset(longv, 0xff, sizeof(longv));
        vlen = frame(value, f->string_id, longv, sizeof(longv));
        expect(f, "other-value", value, (int64_t)vlen, true, WEIR_SV_BAD_PAYLOAD,
               "longer than 10 bytes");
    }
    /* An array of 2^40 nulls in a handful of bytes. */
    {
        const uint8_t many[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x00};

        vlen = frame(value, f->nulls_id, many, sizeof(many));
        expect(f, "nulls-value", value, (int64_t)vlen, true, WEIR_SV_BAD_PAYLOAD,
               "block of 1099511627776 items of empty values");
        /* A few nulls are fine. */
        vlen = frame(value, f->nulls_id, "\x06\x00", 2);
        expect(f, "nulls-value", value, (int64_t)vlen, true, WEIR_SV_OK, NULL);
        /* A negative count carries a byte size, which must match. */
        vlen = frame(value, f->nulls_id, "\x05\x00\x00", 3);
        expect(f, "nulls-value", value, (int64_t)vlen, true, WEIR_SV_OK, NULL);
        vlen = frame(value, f->nulls_id, "\x05\x02\x00", 3);
        expect(f, "nulls-value", value, (int64_t)vlen, true, WEIR_SV_BAD_PAYLOAD,
               "block byte size");
    }
}

static void
test_nesting(void **state)
{
    fixture_t *f = *state;
    size_t n = 2 * 10000 + 2;
    uint8_t *payload = malloc(n), *value = malloc(n + 5);
    size_t vlen;

    /* L { v: 0, next: branch 1 -> L { ... } } then a null: depth bomb. */
    for (size_t i = 0; i + 2 < n; i += 2) {
        payload[i] = 0x00;
        payload[i + 1] = 0x02;
    }
    payload[n - 2] = 0x00;
    payload[n - 1] = 0x00;
    vlen = frame(value, f->list_id, payload, n);
    expect(f, "list-value", value, (int64_t)vlen, true, WEIR_SV_BAD_PAYLOAD, "nested deeper than");
    /* 100 levels decode (walk and avro-c). */
    vlen = frame(value, f->list_id, payload + n - 202, 202);
    expect(f, "list-value", value, (int64_t)vlen, true, WEIR_SV_OK, NULL);
    /* A bad union index deep inside. */
    value[5 + 101] = 0x04;
    expect(f, "list-value", value, (int64_t)vlen, true, WEIR_SV_BAD_PAYLOAD,
           "union branch index 2 out of range");
    free(payload);
    free(value);
}

static void
test_json_payloads(void **state)
{
    fixture_t *f = *state;
    uint8_t value[64];
    size_t vlen;

    vlen = frame(value, f->json_id, "{\"a\":1}", 7);
    expect(f, "json-value", value, (int64_t)vlen, true, WEIR_SV_OK, NULL);
    vlen = frame(value, f->json_id, "{\"a\":", 5);
    expect(f, "json-value", value, (int64_t)vlen, true, WEIR_SV_BAD_PAYLOAD, "not valid JSON");
    expect(f, "json-value", value, (int64_t)vlen, false, WEIR_SV_OK, NULL);
}

/* Whatever the bounded walk accepts, avro-c decodes to the last byte (the
 * validator checks both; a disagreement would surface as BAD_PAYLOAD with
 * "avro-c" in the reason). */
static void
test_walk_agrees_with_avroc(void **state)
{
    fixture_t *f = *state;
    const weir_reg_schema_t *s;
    weir_reg_err_t err = {0};
    uint8_t payload[256], value[300], buf[300];
    size_t plen;
    unsigned seed = 12345;
    int accepted = 0;

    assert_int_equal(weir_registry_schema_by_id(f->reg, f->event_id, &s, &err), 0);
    plen = encode_event(s, payload, sizeof(payload), 1);
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = plen;
        char reason[512] = "";
        weir_sv_result_t r;

        memcpy(buf, payload, plen);
        /* Mutate a few bytes, sometimes the length. */
        for (int k = 0; k < 1 + (int)(rand_r(&seed) % 3); k++)
            buf[rand_r(&seed) % plen] = (uint8_t)rand_r(&seed);
        if (rand_r(&seed) % 4 == 0)
            len = rand_r(&seed) % (plen + 1);
        frame(value, f->event_id, buf, len);
        r = weir_schema_validate(f->v, "events-value", value, (int64_t)len + 5, true, NULL, reason,
                                 sizeof(reason));
        if (r == WEIR_SV_OK)
            accepted++;
        else if (strstr(reason, "avro-c"))
            fail_msg("the walk accepted what avro-c refused: %s", reason);
    }
    /* Some mutations keep a valid value (say, another long or string byte). */
    assert_true(accepted > 100);
    /* Same for random bytes against the recursive schema. */
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = rand_r(&seed) % 40;
        char reason[512] = "";

        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)(rand_r(&seed) % 5);
        frame(value, f->list_id, buf, len);
        if (weir_schema_validate(f->v, "list-value", value, (int64_t)len + 5, true, NULL, reason,
                                 sizeof(reason)) != WEIR_SV_OK &&
            strstr(reason, "avro-c"))
            fail_msg("the walk accepted what avro-c refused: %s", reason);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_payloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_payloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_agrees_with_avroc, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
