/*
 * fuzz_registry.c: libFuzzer target for the Schema Registry's parsers -
 * Avro schemas, JSON schemas (both arrive over HTTP) and Avro payloads
 * (they arrive in produced records when validation is on).  Not part of
 * ctest.
 *
 * The first input byte picks a mode:
 *   0: the rest is an Avro schema text.  When it parses: it reads itself
 *      (compatibility is reflexive), its canonical form parses to the same
 *      canonical form and fingerprint, its normalized form parses to the
 *      same normalized form, and the default-free form avro-c got parses
 *      in avro-c again;
 *   1: the rest is a JSON schema; when it parses it reads itself and its
 *      normalized text parses to the same normalized text;
 *   2: the rest is an Avro payload checked against a few fixed schemas
 *      (records, unions, recursion, arrays, maps, enums, fixed); whatever
 *      the bounded walk accepts avro-c must decode to the last byte.
 *
 * Build and run (from the repository root):
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -Iserver/core -Iregistry tests/fuzz/fuzz_registry.c registry/weir_avro_schema.c \
 *     registry/weir_avro_compat.c registry/weir_compat.c registry/weir_json_schema_compat.c \
 *     registry/weir_avro_payload.c server/core/weir_common.c \
 *     -ljansson -lavro -lcrypto -lpcre2-8 -lm -o fuzz_registry
 *   ./fuzz_registry -max_len=8192 -rss_limit_mb=1024 corpus_dir/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "weir_avro_compat.h"
#include "weir_avro_schema.h"
#include "weir_avro_payload.h"
#include "weir_common.h"
#include "weir_json_schema_compat.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static const char *const fuzz_payload_schemas[] = {
    "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"
    "{\"name\":\"k\",\"type\":{\"type\":\"enum\",\"name\":\"K\",\"symbols\":[\"A\",\"B\",\"C\"]}},"
    "{\"name\":\"t\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"int\",\"double\"]}},"
    "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}},"
    "{\"name\":\"b\",\"type\":\"boolean\"},{\"name\":\"x\",\"type\":\"float\"}]}",
    "{\"type\":\"record\",\"name\":\"L\",\"fields\":[{\"name\":\"v\",\"type\":\"bytes\"},"
    "{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}",
    "{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":\"null\"}}",
    "{\"type\":\"map\",\"values\":{\"type\":\"record\",\"name\":\"Z\",\"fields\":[]}}",
};

static weir_avro_schema_t *fuzz_schemas[sizeof(fuzz_payload_schemas) / sizeof(char *)];
static avro_value_iface_t *fuzz_ifaces[sizeof(fuzz_payload_schemas) / sizeof(char *)];

static void
fuzz_init(void)
{
    char err[256];

    if (fuzz_schemas[0])
        return;
    for (size_t i = 0; i < sizeof(fuzz_payload_schemas) / sizeof(char *); i++) {
        FUZZ_CHECK(weir_avro_schema_parse(fuzz_payload_schemas[i], strlen(fuzz_payload_schemas[i]),
                                          NULL, NULL, 0, 0, &fuzz_schemas[i], err,
                                          sizeof(err)) == 0);
        fuzz_ifaces[i] = avro_generic_class_from_schema(fuzz_schemas[i]->avroc);
        FUZZ_CHECK(fuzz_ifaces[i]);
    }
}

static void
fuzz_avro_schema(const uint8_t *data, size_t size)
{
    weir_avro_schema_t *s, *c, *n;
    char err[512];

    if (weir_avro_schema_parse((const char *)data, size, NULL, NULL, 0, WEIR_AVRO_VALIDATE_DEFAULTS,
                               &s, err, sizeof(err)) != 0)
        return;
    FUZZ_CHECK(weir_avro_can_read(s, s, NULL));
    FUZZ_CHECK(weir_avro_schema_parse(s->canonical, strlen(s->canonical), NULL, NULL, 0,
                                      WEIR_AVRO_NO_AVROC, &c, err, sizeof(err)) == 0);
    FUZZ_CHECK(strcmp(c->canonical, s->canonical) == 0 && c->rabin == s->rabin);
    FUZZ_CHECK(weir_avro_schema_parse(s->normalized, strlen(s->normalized), NULL, NULL, 0,
                                      WEIR_AVRO_VALIDATE_DEFAULTS, &n, err, sizeof(err)) == 0);
    FUZZ_CHECK(strcmp(n->normalized, s->normalized) == 0);
    FUZZ_CHECK(weir_avro_can_read(s, n, NULL) && weir_avro_can_read(n, s, NULL));
    weir_avro_schema_free(n);
    weir_avro_schema_free(c);
    weir_avro_schema_free(s);
}

static void
fuzz_json_schema(const uint8_t *data, size_t size)
{
    weir_json_schema_t *s, *n;
    const char *norm;
    char err[512];

    if (weir_json_schema_parse((const char *)data, size, NULL, NULL, NULL, 0, &s, err,
                               sizeof(err)) != 0)
        return;
    FUZZ_CHECK(weir_json_schema_can_read(s, s, NULL));
    norm = weir_json_schema_normalized(s);
    FUZZ_CHECK(
        weir_json_schema_parse(norm, strlen(norm), NULL, NULL, NULL, 0, &n, err, sizeof(err)) == 0);
    FUZZ_CHECK(strcmp(weir_json_schema_normalized(n), norm) == 0);
    weir_json_schema_free(n);
    weir_json_schema_free(s);
}

static void
fuzz_payload(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof(fuzz_payload_schemas) / sizeof(char *); i++) {
        avro_reader_t r;
        avro_value_t v;
        char why[256];

        if (weir_avro_payload_check(fuzz_schemas[i]->root, data, size, why, sizeof(why)) != 0)
            continue;
        FUZZ_CHECK(avro_generic_value_new(fuzz_ifaces[i], &v) == 0);
        r = avro_reader_memory((const char *)data, (int64_t)size);
        FUZZ_CHECK(avro_value_read(r, &v) == 0);
        FUZZ_CHECK(avro_skip(r, 1) != 0); /* nothing left over */
        avro_reader_free(r);
        avro_value_decref(&v);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_init();
    switch (data[0] % 3) {
    case 0:
        fuzz_avro_schema(data + 1, size - 1);
        break;
    case 1:
        fuzz_json_schema(data + 1, size - 1);
        break;
    default:
        fuzz_payload(data + 1, size - 1);
        break;
    }
    return 0;
}
