/*
 * test_avro_schema.c: unit tests of registry/weir_avro_schema.c - the
 * specification's Parsing Canonical Form and Rabin fingerprint vectors
 * (Avro's share/test/data/schema-tests.txt), MD5/SHA-256 fingerprints,
 * validation (what is refused with 42201 and why), name resolution with
 * namespaces, references, recursive types, and the normalized form that
 * decides when two texts are the same schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_avro_schema.h"

static weir_avro_schema_t *
parse_flags(const char *text, unsigned flags)
{
    weir_avro_schema_t *s = NULL;
    char err[512];
    int rc = weir_avro_schema_parse(text, strlen(text), NULL, NULL, 0, flags, &s, err, sizeof(err));

    if (rc != 0)
        fail_msg("schema refused: %s\n  %s", err, text);
    return s;
}

static weir_avro_schema_t *
parse(const char *text)
{
    return parse_flags(text, WEIR_AVRO_VALIDATE_DEFAULTS);
}

/* Expects the schema to be refused with a message containing want. */
static void
expect_invalid_flags(const char *text, unsigned flags, const char *want)
{
    weir_avro_schema_t *s = NULL;
    char err[512] = "";
    int rc = weir_avro_schema_parse(text, strlen(text), NULL, NULL, 0, flags, &s, err, sizeof(err));

    if (rc == 0)
        fail_msg("schema accepted but should not be: %s", text);
    assert_null(s);
    if (!strstr(err, want))
        fail_msg("message \"%s\" lacks \"%s\" for %s", err, want, text);
}

static void
expect_invalid(const char *text, const char *want)
{
    expect_invalid_flags(text, WEIR_AVRO_VALIDATE_DEFAULTS, want);
}

/* ------------------------------------------------------------------------ */

static const struct {
    const char *input;
    const char *canonical;
    bool has_fp;
    int64_t fp;
} pcf_vectors[] = {
    {"\"null\"", "\"null\"", true, 7195948357588979594LL},
    {"{\"type\":\"null\"}", "\"null\"", false, 0},
    {"\"boolean\"", "\"boolean\"", true, -6970731678124411036LL},
    {"{\"type\":\"boolean\"}", "\"boolean\"", false, 0},
    {"\"int\"", "\"int\"", true, 8247732601305521295LL},
    {"{\"type\":\"int\"}", "\"int\"", false, 0},
    {"\"long\"", "\"long\"", true, -3434872931120570953LL},
    {"{\"type\":\"long\"}", "\"long\"", false, 0},
    {"\"float\"", "\"float\"", true, 5583340709985441680LL},
    {"{\"type\":\"float\"}", "\"float\"", false, 0},
    {"\"double\"", "\"double\"", true, -8181574048448539266LL},
    {"{\"type\":\"double\"}", "\"double\"", false, 0},
    {"\"bytes\"", "\"bytes\"", true, 5746618253357095269LL},
    {"{\"type\":\"bytes\"}", "\"bytes\"", false, 0},
    {"\"string\"", "\"string\"", true, -8142146995180207161LL},
    {"{\"type\":\"string\"}", "\"string\"", false, 0},
    {"[  ]", "[]", true, -1241056759729112623LL},
    {"[ \"int\"  ]", "[\"int\"]", true, -5232228896498058493LL},
    {"[ \"int\" , {\"type\":\"boolean\"} ]", "[\"int\",\"boolean\"]", true, 5392556393470105090LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", true, -4824392279771201922LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"namespace\":\"x.y\"}",
     "{\"name\":\"x.y.foo\",\"type\":\"record\",\"fields\":[]}", true, 5916914534497305771LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"a.b.foo\", \"namespace\":\"x.y\"}",
     "{\"name\":\"a.b.foo\",\"type\":\"record\",\"fields\":[]}", true, -4616218487480524110LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"doc\":\"Useful info\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", true, -4824392279771201922LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"aliases\":[\"foo\",\"bar\"]}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", true, -4824392279771201922LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"doc\":\"foo\", "
     "\"aliases\":[\"foo\",\"bar\"]}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", true, -4824392279771201922LL},
    {"{\"fields\":[{\"type\":{\"type\":\"boolean\"}, \"name\":\"f1\"}], \"type\":\"record\", "
     "\"name\":\"foo\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"}]}",
     true, 7843277075252814651LL},
    {"{ \"fields\":[{\"type\":\"boolean\", \"aliases\":[], \"name\":\"f1\", "
     "\"default\":\"true\"},\n"
     "            {\"order\":\"descending\",\"name\":\"f2\",\"doc\":\"Hello\",\"type\":\"int\"}],\n"
     "  \"type\":\"record\", \"name\":\"foo\"\n}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"},"
     "{\"name\":\"f2\",\"type\":\"int\"}]}",
     true, -4860222112080293046LL},
    {"{\"type\":\"enum\", \"name\":\"foo\", \"symbols\":[\"A1\"]}",
     "{\"name\":\"foo\",\"type\":\"enum\",\"symbols\":[\"A1\"]}", true, -6342190197741309591LL},
    {"{\"namespace\":\"x.y.z\", \"type\":\"enum\", \"name\":\"foo\", \"doc\":\"foo bar\", "
     "\"symbols\":[\"A1\", \"A2\"]}",
     "{\"name\":\"x.y.z.foo\",\"type\":\"enum\",\"symbols\":[\"A1\",\"A2\"]}", true,
     -4448647247586288245LL},
    {"{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}",
     "{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}", true, 1756455273707447556LL},
    {"{\"namespace\":\"x.y.z\", \"type\":\"fixed\", \"name\":\"foo\", \"doc\":\"foo bar\", "
     "\"size\":32}",
     "{\"name\":\"x.y.z.foo\",\"type\":\"fixed\",\"size\":32}", true, -3064184465700546786LL},
    {"{ \"items\":{\"type\":\"null\"}, \"type\":\"array\"}",
     "{\"type\":\"array\",\"items\":\"null\"}", true, -589620603366471059LL},
    {"{ \"values\":\"string\", \"type\":\"map\"}", "{\"type\":\"map\",\"values\":\"string\"}", true,
     -8732877298790414990LL},
    {"  {\"name\":\"PigValue\",\"type\":\"record\",\n"
     "   \"fields\":[{\"name\":\"value\", \"type\":[\"null\", \"int\", \"long\", \"PigValue\"]}]}",
     "{\"name\":\"PigValue\",\"type\":\"record\",\"fields\":[{\"name\":\"value\",\"type\":"
     "[\"null\",\"int\",\"long\",\"PigValue\"]}]}",
     true, -1759257747318642341LL},
};

/* The specification's vectors.  [] is skipped by avro-c (it refuses empty
 * unions) and vector 026 carries an invalid default, so both are parsed
 * without those checks here. */
static void
test_canonical_form_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(pcf_vectors) / sizeof(pcf_vectors[0]); i++) {
        weir_avro_schema_t *s = parse_flags(pcf_vectors[i].input, WEIR_AVRO_NO_AVROC);

        if (strcmp(s->canonical, pcf_vectors[i].canonical) != 0)
            fail_msg("vector %zu: canonical %s, want %s", i, s->canonical,
                     pcf_vectors[i].canonical);
        if (pcf_vectors[i].has_fp && (int64_t)s->rabin != pcf_vectors[i].fp)
            fail_msg("vector %zu: fingerprint %lld, want %lld", i, (long long)(int64_t)s->rabin,
                     (long long)pcf_vectors[i].fp);
        assert_int_equal(s->rabin, weir_avro_rabin(s->canonical, strlen(s->canonical)));
        weir_avro_schema_free(s);
    }
    /* And through avro-c too, except the empty union. */
    for (size_t i = 0; i < sizeof(pcf_vectors) / sizeof(pcf_vectors[0]); i++) {
        weir_avro_schema_t *s;

        if (strcmp(pcf_vectors[i].canonical, "[]") == 0) {
            expect_invalid_flags(pcf_vectors[i].input, 0, "avro-c rejects");
            continue;
        }
        s = parse_flags(pcf_vectors[i].input, 0);
        assert_non_null(s->avroc);
        weir_avro_schema_free(s);
    }
    /* Vector 026's "default":"true" for a boolean is refused when defaults
     * are validated (as Confluent does for new schemas). */
    expect_invalid(pcf_vectors[26].input, "invalid default for field f1 of foo");
}

static void
test_fingerprints(void **state)
{
    unsigned char md5[16], sha[32];
    char hex[65];
    weir_avro_schema_t *s = parse("{\"type\":\"int\"}");

    (void)state;
    assert_int_equal(weir_avro_fingerprint_md5(s, md5), 0);
    for (int i = 0; i < 16; i++)
        sprintf(hex + 2 * i, "%02x", md5[i]);
    assert_string_equal(hex, "ef524ea1b91e73173d938ade36c1db32");
    assert_int_equal(weir_avro_fingerprint_sha256(s, sha), 0);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", sha[i]);
    assert_string_equal(hex, "3f2b87a9fe7cc9b13835598c3981cd45e3e355309e5090aa0933d7becb6fba45");
    weir_avro_schema_free(s);

    s = parse("{\"type\":\"record\",\"name\":\"foo\",\"doc\":\"d\",\"fields\":[]}");
    assert_int_equal(weir_avro_fingerprint_md5(s, md5), 0);
    for (int i = 0; i < 16; i++)
        sprintf(hex + 2 * i, "%02x", md5[i]);
    assert_string_equal(hex, "aea8d9d0e93c3a26749ee0373dc49d35");
    weir_avro_schema_free(s);
    /* The empty input's Rabin fingerprint is the specification's EMPTY. */
    assert_int_equal(weir_avro_rabin("", 0), 0xc15d213aa4d7a795ULL);
}

static void
test_invalid_schemas(void **state)
{
    (void)state;
    expect_invalid("", "not valid JSON");
    expect_invalid("{\"type\":\"record\",", "not valid JSON");
    expect_invalid("42", "a schema is a type name");
    expect_invalid("null", "a schema is a type name");
    expect_invalid("\"Unknown\"", "undefined name: \"Unknown\"");
    expect_invalid("{\"type\":\"bogus\"}", "undefined name: \"bogus\"");
    expect_invalid("{\"type\":{\"type\":\"int\"}}", "needs a \"type\" (string)");
    expect_invalid("{\"name\":\"x\"}", "needs a \"type\"");
    expect_invalid("{\"type\":\"record\",\"fields\":[]}", "needs a \"name\"");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\"}", "needs \"fields\"");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":{}}", "needs \"fields\"");
    expect_invalid("{\"type\":\"record\",\"name\":\"1R\",\"fields\":[]}", "invalid name \"1R\"");
    expect_invalid("{\"type\":\"record\",\"name\":\"a.b-c\",\"fields\":[]}", "invalid name");
    expect_invalid("{\"type\":\"record\",\"name\":\"int\",\"fields\":[]}", "primitive");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"1x\","
                   "\"type\":\"int\"}]}",
                   "invalid field name \"1x\"");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"type\":\"int\"}]}",
                   "needs a \"name\"");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\"}]}",
                   "has no \"type\"");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                   "\"int\"},{\"name\":\"x\",\"type\":\"long\"}]}",
                   "duplicate field x");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
                   "\"int\",\"order\":\"bogus\"}]}",
                   "\"order\" must be");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
                   "{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}}]}",
                   "can't redefine: R");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"aliases\":\"x\",\"fields\":[]}",
                   "aliases of R");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"aliases\":[\"9x\"],\"fields\":[]}",
                   "invalid alias \"9x\"");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"doc\":5,\"fields\":[]}",
                   "\"doc\" of R must be a string");
    expect_invalid("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"A\"]}",
                   "duplicate enum symbol A");
    expect_invalid("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"1B\"]}",
                   "invalid symbol \"1B\"");
    expect_invalid("{\"type\":\"enum\",\"name\":\"E\"}", "needs \"symbols\"");
    expect_invalid("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"default\":\"B\"}",
                   "not one of its symbols");
    expect_invalid("{\"type\":\"fixed\",\"name\":\"F\",\"size\":-1}", "non-negative integer");
    expect_invalid("{\"type\":\"fixed\",\"name\":\"F\",\"size\":\"3\"}", "non-negative integer");
    expect_invalid("{\"type\":\"fixed\",\"name\":\"F\"}", "non-negative integer");
    expect_invalid("{\"type\":\"array\"}", "array needs \"items\"");
    expect_invalid("{\"type\":\"map\",\"values\":\"R\"}", "undefined name: \"R\"");
    expect_invalid("[\"null\",\"null\"]", "duplicate in union: null");
    expect_invalid("[\"int\",[\"null\"]]", "unions may not immediately contain other unions");
    expect_invalid("[{\"type\":\"array\",\"items\":\"int\"},{\"type\":\"array\",\"items\":"
                   "\"long\"}]",
                   "duplicate in union: array");
    expect_invalid("[{\"type\":\"fixed\",\"name\":\"F\",\"size\":1},\"F\"]",
                   "duplicate in union: F");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[],\"fields\":[]}",
                   "duplicate object key");
    /* Defaults are checked against their types. */
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                   "\"int\",\"default\":\"bad\"}]}",
                   "invalid default for field x of R");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                   "\"int\",\"default\":4294967296}]}",
                   "invalid default");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                   "\"int\",\"default\":1.5}]}",
                   "invalid default");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                   "[\"null\",\"string\"],\"default\":\"a\"}]}",
                   "invalid default");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                   "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]},\"default\":\"B\"}]}",
                   "invalid default");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                   "{\"type\":\"array\",\"items\":\"int\"},\"default\":[1,\"2\"]}]}",
                   "invalid default");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                   "{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":\"a\",\"type\":"
                   "\"int\"}]},\"default\":{}}]}",
                   "invalid default");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                   "\"long\",\"default\":null}]}",
                   "invalid default");
    /* Depth limit. */
    {
        char buf[4096] = "";
        size_t n = 0;

        for (int i = 0; i < WEIR_AVRO_MAX_DEPTH + 1; i++)
            n += (size_t)sprintf(buf + n, "{\"type\":\"array\",\"items\":");
        n += (size_t)sprintf(buf + n, "\"int\"");
        for (int i = 0; i < WEIR_AVRO_MAX_DEPTH + 1; i++)
            buf[n++] = '}';
        buf[n] = '\0';
        expect_invalid(buf, "nested deeper");
    }
}

static void
test_valid_defaults_and_types(void **state)
{
    weir_avro_schema_t *s;
    const weir_avro_node_t *r;

    (void)state;
    s = parse(
        "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"edu.campus\",\"doc\":\"a\","
        "\"aliases\":[\"Old\",\"x.Older\"],\"fields\":["
        "{\"name\":\"i\",\"type\":\"int\",\"default\":-2147483648},"
        "{\"name\":\"l\",\"type\":\"long\",\"default\":9007199254740993},"
        "{\"name\":\"f\",\"type\":\"float\",\"default\":1},"
        "{\"name\":\"d\",\"type\":\"double\",\"default\":1.5},"
        "{\"name\":\"b\",\"type\":\"bytes\",\"default\":\"\\u00ff\"},"
        "{\"name\":\"s\",\"type\":\"string\",\"default\":\"x\",\"aliases\":[\"str\"]},"
        "{\"name\":\"n\",\"type\":[\"null\",\"string\"],\"default\":null},"
        "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"],"
        "\"default\":\"A\"},\"default\":\"B\"},"
        "{\"name\":\"x\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":2},"
        "\"default\":\"ab\"},"
        "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"E\"},\"default\":[\"A\"]},"
        "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"long\"},\"default\":"
        "{\"k\":1}},"
        "{\"name\":\"r\",\"type\":{\"type\":\"record\",\"name\":\"S\",\"fields\":["
        "{\"name\":\"p\",\"type\":\"int\"},{\"name\":\"q\",\"type\":\"int\",\"default\":0}]},"
        "\"default\":{\"p\":1}},"
        "{\"name\":\"dt\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
        "{\"name\":\"dec\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\","
        "\"precision\":4,\"scale\":2}}]}");
    r = s->root;
    assert_int_equal(r->type, WEIR_AVRO_RECORD);
    assert_string_equal(r->fullname, "edu.campus.R");
    assert_string_equal(r->name, "R");
    assert_string_equal(r->space, "edu.campus");
    assert_int_equal(r->naliases, 2);
    assert_string_equal(r->aliases[0], "edu.campus.Old");
    assert_string_equal(r->aliases[1], "x.Older");
    assert_int_equal(r->nfields, 14);
    assert_string_equal(r->fields[5].aliases[0], "str");
    assert_int_equal(r->fields[7].type->type, WEIR_AVRO_ENUM);
    assert_string_equal(r->fields[7].type->fullname, "edu.campus.E");
    assert_string_equal(r->fields[7].type->enum_default, "A");
    assert_ptr_equal(r->fields[9].type->child, r->fields[7].type); /* "E" resolves to it */
    assert_int_equal(r->fields[8].type->size, 2);
    assert_string_equal(r->fields[12].type->logical_type, "date");
    assert_string_equal(r->fields[13].type->logical_type, "decimal");
    assert_non_null(weir_avro_schema_find(s, "edu.campus.S"));
    assert_null(weir_avro_schema_find(s, "S"));
    /* The canonical form drops docs, aliases, defaults and logical types. */
    assert_non_null(strstr(s->canonical, "{\"name\":\"dt\",\"type\":\"int\"}"));
    assert_null(strstr(s->canonical, "doc"));
    /* The normalized form keeps them. */
    assert_non_null(strstr(s->normalized, "\"logicalType\":\"date\""));
    assert_non_null(strstr(s->normalized, "\"precision\":4,\"scale\":2"));
    assert_non_null(strstr(s->normalized, "\"aliases\":[\"edu.campus.Old\",\"x.Older\"]"));
    assert_non_null(strstr(s->normalized, "\"default\":{\"p\":1}"));
    assert_non_null(s->avroc);
    weir_avro_schema_free(s);

    /* Recursive type and an empty enum / zero-size fixed: valid for Java;
     * avro-c refuses the empty enum. */
    s = parse("{\"type\":\"record\",\"name\":\"Node\",\"fields\":[{\"name\":\"v\",\"type\":"
              "\"int\"},{\"name\":\"next\",\"type\":[\"null\",\"Node\"],\"default\":null}]}");
    assert_ptr_equal(s->root->fields[1].type->branches[1], s->root);
    weir_avro_schema_free(s);
    s = parse("{\"type\":\"fixed\",\"name\":\"Z\",\"size\":0}");
    weir_avro_schema_free(s);
    expect_invalid("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[]}", "avro-c rejects");
    s = parse_flags("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[]}", WEIR_AVRO_NO_AVROC);
    weir_avro_schema_free(s);
    /* "error" is a record. */
    s = parse("{\"type\":\"error\",\"name\":\"Oops\",\"fields\":[]}");
    assert_true(s->root->is_error);
    assert_string_equal(s->canonical, "{\"name\":\"Oops\",\"type\":\"error\",\"fields\":[]}");
    weir_avro_schema_free(s);
    /* A reference written as {"type": "Name"}. */
    s = parse("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
              "{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}},{\"name\":\"b\",\"type\":"
              "{\"type\":\"F\"}}]}");
    assert_ptr_equal(s->root->fields[0].type, s->root->fields[1].type);
    weir_avro_schema_free(s);
}

static void
test_namespaces(void **state)
{
    weir_avro_schema_t *s;

    (void)state;
    /* Dotted names win over "namespace"; children inherit the namespace of
     * their nearest named parent; a dotless reference is looked up in the
     * enclosing namespace and then in the null namespace (Avro-Java). */
    s = parse(
        "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"x\",\"type\":"
        "{\"type\":\"record\",\"name\":\"B\",\"namespace\":\"n\",\"fields\":[{\"name\":\"y\","
        "\"type\":[\"null\",\"A\"]},{\"name\":\"z\",\"type\":{\"type\":\"enum\",\"name\":"
        "\"E\",\"symbols\":[\"X\"]}}]}},{\"name\":\"w\",\"type\":\"n.E\"},"
        "{\"name\":\"v\",\"type\":{\"type\":\"fixed\",\"name\":\"q.r.F\",\"namespace\":\"zz\","
        "\"size\":1}},{\"name\":\"u\",\"type\":{\"type\":\"fixed\",\"name\":\"G\","
        "\"namespace\":\"\",\"size\":1}}]}");
    assert_non_null(weir_avro_schema_find(s, "A"));
    assert_non_null(weir_avro_schema_find(s, "n.B"));
    assert_non_null(weir_avro_schema_find(s, "n.E"));
    assert_non_null(weir_avro_schema_find(s, "q.r.F"));
    assert_non_null(weir_avro_schema_find(s, "G"));
    assert_ptr_equal(s->root->fields[0].type->fields[0].type->branches[1], s->root);
    assert_string_equal(
        s->canonical,
        "{\"name\":\"A\",\"type\":\"record\",\"fields\":[{\"name\":\"x\",\"type\":"
        "{\"name\":\"n.B\",\"type\":\"record\",\"fields\":[{\"name\":\"y\",\"type\":"
        "[\"null\",\"A\"]},{\"name\":\"z\",\"type\":{\"name\":\"n.E\",\"type\":"
        "\"enum\",\"symbols\":[\"X\"]}}]}},{\"name\":\"w\",\"type\":\"n.E\"},"
        "{\"name\":\"v\",\"type\":{\"name\":\"q.r.F\",\"type\":\"fixed\",\"size\":1}},"
        "{\"name\":\"u\",\"type\":{\"name\":\"G\",\"type\":\"fixed\",\"size\":1}}]}");
    /* avro-c cannot resolve "A" inside namespace n by itself; its copy gives
     * the null namespace a name, and it parses. */
    assert_non_null(s->avroc);
    assert_non_null(strstr(s->avroc_json, "weir_null_namespace.A"));
    weir_avro_schema_free(s);

    /* Same simple name in two namespaces is two types. */
    s = parse("{\"type\":\"record\",\"name\":\"a.T\",\"fields\":[{\"name\":\"x\",\"type\":"
              "{\"type\":\"record\",\"name\":\"b.T\",\"fields\":[]}},{\"name\":\"y\",\"type\":"
              "\"a.T\"}]}");
    assert_int_equal(s->nnamed, 2);
    weir_avro_schema_free(s);
    /* The enclosing namespace applies to dotless names only. */
    expect_invalid("{\"type\":\"record\",\"name\":\"A\",\"namespace\":\"m\",\"fields\":[{\"name\":"
                   "\"x\",\"type\":\"m.Missing\"}]}",
                   "undefined name: \"m.Missing\"");
}

static void
test_references(void **state)
{
    const char *refs[] = {
        "{\"type\":\"enum\",\"name\":\"edu.Color\",\"symbols\":[\"RED\",\"BLUE\"]}",
        "{\"type\":\"record\",\"name\":\"edu.Pixel\",\"fields\":[{\"name\":\"c\",\"type\":"
        "\"Color\"}]}",
    };
    size_t lens[] = {strlen(refs[0]), strlen(refs[1])};
    const char *main_text = "{\"type\":\"record\",\"name\":\"edu.Image\",\"fields\":[{\"name\":"
                            "\"pixels\",\"type\":{\"type\":\"array\",\"items\":\"Pixel\"}}]}";
    weir_avro_schema_t *s = NULL;
    char err[256];

    (void)state;
    assert_int_equal(weir_avro_schema_parse(main_text, strlen(main_text), refs, lens, 2,
                                            WEIR_AVRO_VALIDATE_DEFAULTS, &s, err, sizeof(err)),
                     0);
    /* The normalized form names referenced types; the canonical form and
     * avro-c's copy are self-contained. */
    assert_string_equal(s->normalized,
                        "{\"type\":\"record\",\"name\":\"edu.Image\",\"fields\":[{\"name\":"
                        "\"pixels\",\"type\":{\"type\":\"array\",\"items\":\"edu.Pixel\"}}]}");
    assert_string_equal(s->canonical,
                        "{\"name\":\"edu.Image\",\"type\":\"record\",\"fields\":[{\"name\":"
                        "\"pixels\",\"type\":{\"type\":\"array\",\"items\":{\"name\":\"edu.Pixel\","
                        "\"type\":\"record\",\"fields\":[{\"name\":\"c\",\"type\":{\"name\":"
                        "\"edu.Color\",\"type\":\"enum\",\"symbols\":[\"RED\",\"BLUE\"]}}]}}}]}");
    assert_non_null(s->avroc);
    weir_avro_schema_free(s);
    /* Without the references the names are unknown. */
    assert_int_not_equal(weir_avro_schema_parse(main_text, strlen(main_text), NULL, NULL, 0, 0, &s,
                                                err, sizeof(err)),
                         0);
    assert_non_null(strstr(err, "undefined name: \"Pixel\""));
    /* Order matters: Pixel needs Color first. */
    {
        const char *rev[] = {refs[1], refs[0]};
        size_t rlens[] = {lens[1], lens[0]};

        assert_int_not_equal(weir_avro_schema_parse(main_text, strlen(main_text), rev, rlens, 2, 0,
                                                    &s, err, sizeof(err)),
                             0);
        assert_non_null(strstr(err, "Color"));
    }
}

/* Normalized forms of two texts: equal or not. */
static void
expect_same(const char *a, const char *b, bool same)
{
    weir_avro_schema_t *sa = parse(a), *sb = parse(b);

    if ((strcmp(sa->normalized, sb->normalized) == 0) != same)
        fail_msg("expected %s:\n  %s\n  %s", same ? "equivalent" : "different", sa->normalized,
                 sb->normalized);
    weir_avro_schema_free(sa);
    weir_avro_schema_free(sb);
}

static void
test_equivalence(void **state)
{
    (void)state;
    /* Whitespace, key order, {"type":"int"} vs "int", qualified vs
     * unqualified names, explicit "ascending" order, alias order. */
    expect_same("{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a.b\",\"fields\":"
                "[{\"name\":\"x\",\"type\":\"int\"}]}",
                "{ \"fields\" : [ { \"type\" : {\"type\":\"int\"}, \"name\" : \"x\", "
                "\"order\":\"ascending\" } ], \"name\" : \"a.b.R\", \"type\" : \"record\" }",
                true);
    expect_same("{\"type\":\"record\",\"name\":\"R\",\"aliases\":[\"B\",\"A\"],\"fields\":[]}",
                "{\"type\":\"record\",\"name\":\"R\",\"aliases\":[\"A\",\"B\"],\"fields\":[]}",
                true);
    expect_same(
        "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"n\",\"fields\":[{\"name\":"
        "\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}},{\"name\":"
        "\"f\",\"type\":\"E\"}]}",
        "{\"type\":\"record\",\"name\":\"n.R\",\"fields\":[{\"name\":\"e\",\"type\":"
        "{\"type\":\"enum\",\"name\":\"n.E\",\"symbols\":[\"A\"]}},{\"name\":\"f\",\"type\":"
        "\"n.E\"}]}",
        true);
    /* Docs, defaults, aliases, logical types, properties, enum defaults and
     * field order matter. */
    expect_same("{\"type\":\"record\",\"name\":\"R\",\"doc\":\"x\",\"fields\":[]}",
                "{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}", false);
    expect_same(
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":\"int\","
        "\"default\":1}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}",
        false);
    expect_same("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                "\"double\",\"default\":1}]}",
                "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                "\"double\",\"default\":1.0}]}",
                false);
    expect_same("{\"type\":\"int\",\"logicalType\":\"date\"}", "\"int\"", false);
    expect_same("{\"type\":\"string\",\"avro.java.string\":\"String\"}", "\"string\"", false);
    expect_same("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"],\"default\":\"A\"}",
                "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}", false);
    expect_same("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}",
                "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"B\",\"A\"]}", false);
    expect_same("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
                "{\"name\":\"b\",\"type\":\"int\"}]}",
                "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"b\",\"type\":\"int\"},"
                "{\"name\":\"a\",\"type\":\"int\"}]}",
                false);
    expect_same(
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
        "\"order\":\"descending\"}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}",
        false);
    expect_same("{\"type\":\"record\",\"name\":\"a.R\",\"fields\":[]}",
                "{\"type\":\"record\",\"name\":\"b.R\",\"fields\":[]}", false);
    /* Key order inside a default value does not matter. */
    expect_same(
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"m\",\"type\":{\"type\":"
        "\"map\",\"values\":\"int\"},\"default\":{\"b\":1,\"a\":2}}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"m\",\"type\":{\"type\":"
        "\"map\",\"values\":\"int\"},\"default\":{\"a\":2,\"b\":1}}]}",
        true);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_form_vectors),
        cmocka_unit_test(test_fingerprints),
        cmocka_unit_test(test_invalid_schemas),
        cmocka_unit_test(test_valid_defaults_and_types),
        cmocka_unit_test(test_namespaces),
        cmocka_unit_test(test_references),
        cmocka_unit_test(test_equivalence),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
