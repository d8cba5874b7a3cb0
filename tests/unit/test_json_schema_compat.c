/*
 * test_json_schema_compat.c: unit tests of registry/weir_json_schema_compat.c
 * - validation of schema documents, $ref resolution (pointers, anchors,
 * referenced documents, cycles), the normalized form, and a compatibility
 * table built from Confluent's JSON Schema difference rules, each row
 * checked in both directions and at every level.
 *
 * Schemas are written with single quotes; q() turns them into JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_json_schema_compat.h"

static char *
q(const char *s)
{
    char *r = strdup(s);

    for (char *p = r; *p; p++)
        if (*p == '\'')
            *p = '"';
    return r;
}

static weir_json_schema_t *
parse(const char *quoted)
{
    char *text = q(quoted), err[512];
    weir_json_schema_t *s = NULL;

    if (weir_json_schema_parse(text, strlen(text), NULL, NULL, NULL, 0, &s, err, sizeof(err)))
        fail_msg("schema refused: %s\n  %s", err, text);
    free(text);
    return s;
}

static void
expect_invalid(const char *quoted, const char *want)
{
    char *text = q(quoted), err[512] = "";
    weir_json_schema_t *s = NULL;

    if (weir_json_schema_parse(text, strlen(text), NULL, NULL, NULL, 0, &s, err, sizeof(err)) == 0)
        fail_msg("schema accepted but should not be: %s", text);
    assert_null(s);
    if (!strstr(err, want))
        fail_msg("message \"%s\" lacks \"%s\" for %s", err, want, text);
    free(text);
}

#define OBJ(props) "{'type':'object','properties':{" props "}}"
#define CLOSED(props) "{'type':'object','properties':{" props "},'additionalProperties':false}"
#define RECURSIVE(v) "{'type':'object','properties':{'child':{'$ref':'#'},'v':" v "}}"
#define DEFS(s)                                                                                    \
    "{'definitions':{'s':" s "},'type':'object','properties':{'a':{'$ref':'#/definitions/s'}}}"
#define PARTIAL(extra)                                                                             \
    "{'type':'object','properties':{'a':{'type':'string'}" extra "},"                              \
    "'patternProperties':{'^x_':{'type':'string'}},'additionalProperties':false}"

static const struct {
    const char *name;
    const char *old_schema;
    const char *new_schema;
    bool backward; /* new reads what old allowed */
    bool forward;  /* old reads what new allows */
} table[] = {
    {"same", "{'type':'string'}", "{'type':'string'}", true, true},
    {"maxLength added", "{'type':'string'}", "{'type':'string','maxLength':10}", false, true},
    {"maxLength increased", "{'type':'string','maxLength':10}", "{'type':'string','maxLength':20}",
     true, false},
    {"minLength decreased", "{'type':'string','minLength':5}", "{'type':'string','minLength':2}",
     true, false},
    {"pattern added", "{'type':'string'}", "{'type':'string','pattern':'^a'}", false, true},
    {"pattern changed", "{'type':'string','pattern':'^a'}", "{'type':'string','pattern':'^b'}",
     false, false},
    {"string -> number", "{'type':'string'}", "{'type':'number'}", false, false},
    {"integer -> number", "{'type':'integer'}", "{'type':'number'}", true, false},
    {"maximum increased", "{'type':'number','maximum':10}", "{'type':'number','maximum':20}", true,
     false},
    {"minimum decreased", "{'type':'number','minimum':0}", "{'type':'number','minimum':-5}", true,
     false},
    {"exclusiveMaximum added", "{'type':'number'}", "{'type':'number','exclusiveMaximum':5}", false,
     true},
    {"multipleOf 2 -> 4", "{'type':'integer','multipleOf':2}", "{'type':'integer','multipleOf':4}",
     false, true},
    {"multipleOf 0.5 -> 0.25", "{'type':'number','multipleOf':0.5}",
     "{'type':'number','multipleOf':0.25}", true, false},
    {"enum extended", "{'enum':['a','b']}", "{'enum':['a','b','c']}", true, false},
    {"enum changed", "{'enum':['a','b']}", "{'enum':['a','c']}", false, false},
    {"const same", "{'const':1}", "{'const':1}", true, true},
    {"const changed", "{'const':1}", "{'const':2}", false, false},
    {"title, description and default changed",
     "{'type':'string','title':'a','description':'x','default':'d'}",
     "{'type':'string','title':'b','description':'y','default':'e'}", true, true},

    /* Objects and content models. */
    {"open: optional property added", OBJ("'a':{'type':'string'}"),
     OBJ("'a':{'type':'string'},'b':{'type':'string'}"), false, true},
    {"closed: optional property added", CLOSED("'a':{'type':'string'}"),
     CLOSED("'a':{'type':'string'},'b':{'type':'string'}"), true, false},
    {"closed: required property added", CLOSED("'a':{'type':'string'}"),
     "{'type':'object','properties':{'a':{'type':'string'},'b':{'type':'string'}},"
     "'required':['b'],'additionalProperties':false}",
     false, false},
    {"closed: required property with default added", CLOSED("'a':{'type':'string'}"),
     "{'type':'object','properties':{'a':{'type':'string'},'b':{'type':'string','default':'x'}},"
     "'required':['b'],'additionalProperties':false}",
     true, false},
    {"open: property removed", OBJ("'a':{'type':'string'}"), OBJ(""), true, false},
    {"open: property with empty schema added", OBJ("'a':{'type':'string'}"),
     OBJ("'a':{'type':'string'},'b':{}"), true, true},
    {"closed: property with false removed", CLOSED("'a':{'type':'string'},'b':false"),
     CLOSED("'a':{'type':'string'}"), true, true},
    {"property type changed", OBJ("'a':{'type':'string'}"), OBJ("'a':{'type':'boolean'}"), false,
     false},
    {"required added", OBJ("'a':{'type':'string'}"),
     "{'type':'object','properties':{'a':{'type':'string'}},'required':['a']}", false, true},
    {"required with default added", OBJ("'a':{'type':'string','default':'z'}"),
     "{'type':'object','properties':{'a':{'type':'string','default':'z'}},'required':['a']}", true,
     true},
    {"additionalProperties false -> absent", CLOSED("'a':{'type':'string'}"),
     OBJ("'a':{'type':'string'}"), true, false},
    {"additionalProperties schema added", OBJ("'a':{'type':'string'}"),
     "{'type':'object','properties':{'a':{'type':'string'}},'additionalProperties':"
     "{'type':'string'}}",
     false, true},
    {"minProperties added", "{'type':'object'}", "{'type':'object','minProperties':1}", false,
     true},
    {"partially open: added property covered", PARTIAL(""), PARTIAL(",'x_1':{'type':'string'}"),
     true, true},
    {"partially open: added property not covered", PARTIAL(""), PARTIAL(",'x_2':{'type':'number'}"),
     false, false},
    {"dependencies extended", "{'dependencies':{'a':['b']}}", "{'dependencies':{'a':['b','c']}}",
     false, true},
    {"dependency schema removed", "{'dependencies':{'a':{'required':['b']}}}",
     "{'dependencies':{}}", true, false},

    /* Types, unions and combined schemas. */
    {"string -> [string, null]", "{'type':'string'}", "{'type':['string','null']}", true, false},
    {"string -> anyOf [string, number]", "{'type':'string'}",
     "{'anyOf':[{'type':'string'},{'type':'number'}]}", true, false},
    {"string -> oneOf [number, string]", "{'type':'string'}",
     "{'oneOf':[{'type':'number'},{'type':'string'}]}", true, false},
    {"anyOf extended", "{'anyOf':[{'type':'string'},{'type':'number'}]}",
     "{'anyOf':[{'type':'string'},{'type':'number'},{'type':'boolean'}]}", true, false},
    {"anyOf reordered", "{'anyOf':[{'type':'string'},{'type':'number'}]}",
     "{'anyOf':[{'type':'number'},{'type':'string'}]}", true, true},
    {"anyOf member changed", "{'anyOf':[{'type':'string'},{'type':'number'}]}",
     "{'anyOf':[{'type':'string'},{'type':'boolean'}]}", false, false},
    {"oneOf -> anyOf", "{'oneOf':[{'type':'string'},{'type':'number'}]}",
     "{'anyOf':[{'type':'string'},{'type':'number'}]}", true, false},
    {"allOf narrowed", "{'allOf':[{'type':'string'},{'maxLength':5}]}",
     "{'allOf':[{'type':'string'}]}", true, false},
    {"singleton anyOf -> plain", "{'anyOf':[{'type':'string'}]}", "{'type':'string'}", true, true},
    {"not widened", "{'not':{'type':'string'}}", "{'not':{'type':['string','number']}}", false,
     true},
    {"empty -> string", "{}", "{'type':'string'}", false, true},
    {"false -> true", "false", "true", true, false},
    {"true = {}", "true", "{}", true, true},
    {"string -> string with enum (synthetic allOf)", "{'type':'string'}",
     "{'type':'string','enum':['a']}", false, false},
    {"if/then/else changed", "{'if':{'required':['a']},'then':{'required':['b']}}",
     "{'if':{'required':['a']},'then':{'required':['c']}}", false, false},

    /* Arrays. */
    {"items type changed", "{'type':'array','items':{'type':'string'}}",
     "{'type':'array','items':{'type':'number'}}", false, false},
    {"items maxLength increased", "{'type':'array','items':{'type':'string','maxLength':5}}",
     "{'type':'array','items':{'type':'string','maxLength':10}}", true, false},
    {"items added", "{'type':'array'}", "{'type':'array','items':{'type':'string'}}", false, true},
    {"maxItems added", "{'type':'array'}", "{'type':'array','maxItems':3}", false, true},
    {"uniqueItems added", "{'type':'array'}", "{'type':'array','uniqueItems':true}", false, true},
    {"open tuple: item added", "{'type':'array','items':[{'type':'string'}]}",
     "{'type':'array','items':[{'type':'string'},{'type':'number'}]}", false, true},
    {"closed tuple: item added",
     "{'type':'array','items':[{'type':'string'}],'additionalItems':false}",
     "{'type':'array','items':[{'type':'string'},{'type':'number'}],'additionalItems':false}", true,
     false},
    {"prefixItems tuple: item added",
     "{'type':'array','prefixItems':[{'type':'string'}],'items':false}",
     "{'type':'array','prefixItems':[{'type':'string'},{'type':'number'}],'items':false}", true,
     false},

    /* References and recursion. */
    {"recursive same", RECURSIVE("{'type':'string'}"), RECURSIVE("{'type':'string'}"), true, true},
    {"recursive: maxLength added", RECURSIVE("{'type':'string'}"),
     RECURSIVE("{'type':'string','maxLength':3}"), false, true},
    {"definitions: type changed", DEFS("{'type':'string'}"), DEFS("{'type':'number'}"), false,
     false},
    {"definitions: inline equivalent", DEFS("{'type':'string'}"),
     "{'type':'object','properties':{'a':{'type':'string'}}}", true, true},
};

static void
test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        weir_json_schema_t *olds = parse(table[i].old_schema);
        weir_json_schema_t *news = parse(table[i].new_schema);
        const weir_json_schema_t *prev[] = {olds};
        weir_msgs_t m = {0};
        bool bw = weir_json_schema_can_read(news, olds, &m);
        bool fw;

        if (bw != table[i].backward)
            fail_msg("%s: new reads old = %d, want %d (%s)", table[i].name, bw, table[i].backward,
                     m.n ? m.v[0] : "");
        assert_true(bw ? m.n == 0 : m.n > 0);
        weir_msgs_free(&m);
        fw = weir_json_schema_can_read(olds, news, &m);
        if (fw != table[i].forward)
            fail_msg("%s: old reads new = %d, want %d (%s)", table[i].name, fw, table[i].forward,
                     m.n ? m.v[0] : "");
        assert_true(fw ? m.n == 0 : m.n > 0);
        weir_msgs_free(&m);
        for (int lvl = WEIR_COMPAT_NONE; lvl <= WEIR_COMPAT_FULL_TRANSITIVE; lvl++) {
            bool want = true, got;

            if (weir_compat_level_backward((weir_compat_level_t)lvl))
                want = want && table[i].backward;
            if (weir_compat_level_forward((weir_compat_level_t)lvl))
                want = want && table[i].forward;
            got = weir_json_schema_compat_check((weir_compat_level_t)lvl, news, prev, 1, &m);
            if (got != want)
                fail_msg("%s at %s: %d, want %d", table[i].name,
                         weir_compat_level_name((weir_compat_level_t)lvl), got, want);
            weir_msgs_free(&m);
        }
        weir_json_schema_free(olds);
        weir_json_schema_free(news);
    }
}

static void
test_messages(void **state)
{
    weir_json_schema_t *a = parse(OBJ("'a':{'type':'string'}"));
    weir_json_schema_t *b = parse(OBJ("'a':{'type':'string','maxLength':3}"));
    weir_msgs_t m = {0};

    (void)state;
    assert_false(weir_json_schema_can_read(b, a, &m));
    assert_int_equal(m.n, 1);
    assert_string_equal(m.v[0], "{errorType:\"MAX_LENGTH_ADDED\", description:\"The keyword at "
                                "path '#/properties/a/maxLength' in the reader schema is not "
                                "present in the writer schema\"}");
    weir_msgs_free(&m);
    weir_json_schema_free(a);
    weir_json_schema_free(b);
}

static void
test_invalid(void **state)
{
    (void)state;
    expect_invalid("{'type':", "not valid JSON");
    expect_invalid("42", "must be a schema");
    expect_invalid("{'type':'foo'}", "unknown type \"foo\"");
    expect_invalid("{'type':[]}", "type must be");
    expect_invalid("{'type':['string','string']}", "appears twice");
    expect_invalid("{'properties':[]}", "properties must be an object");
    expect_invalid("{'properties':{'a':5}}", "#/properties/a must be a schema");
    expect_invalid("{'required':'a'}", "required must be an array");
    expect_invalid("{'minLength':-1}", "minLength must be a non-negative integer");
    expect_invalid("{'maxItems':1.5}", "maxItems must be a non-negative integer");
    expect_invalid("{'multipleOf':0}", "multipleOf must be a number greater than 0");
    expect_invalid("{'pattern':'('}", "invalid regular expression");
    expect_invalid("{'patternProperties':{'[':{}}}", "invalid pattern");
    expect_invalid("{'allOf':[]}", "allOf must be a non-empty array");
    expect_invalid("{'items':5}", "items must be a schema");
    expect_invalid("{'enum':'a'}", "enum must be an array");
    expect_invalid("{'$ref':'#/definitions/missing'}", "cannot resolve");
    expect_invalid("{'$ref':'other.json'}", "cannot resolve");
    expect_invalid("{'$ref':'#'}", "circular $ref");
    expect_invalid("{'definitions':{'a':{'$ref':'#/definitions/b'},'b':{'$ref':'#/definitions/a'}},"
                   "'$ref':'#/definitions/a'}",
                   "circular $ref");
    expect_invalid("{'title':5}", "title must be a string");
    expect_invalid("{'properties':{'a':{'properties':{'b':{'type':'bogus'}}}}}",
                   "#/properties/a/properties/b/type: unknown type");
}

static void
test_refs_and_normalized(void **state)
{
    const char *names[] = {"https://example.com/schemas/address.json"};
    const char *addr = "{\"type\":\"object\",\"properties\":{\"street\":{\"type\":\"string\"}},"
                       "\"$defs\":{\"zip\":{\"type\":\"string\",\"$anchor\":\"zip\"}}}";
    const char *refs[] = {addr};
    size_t lens[] = {strlen(addr)};
    char *main1 = q(
        "{'type':'object','properties':{'home':{'$ref':'address.json'},"
        "'zip':{'$ref':'address.json#zip'},'street':{'$ref':'address.json#/properties/street'}}}");
    char err[256];
    weir_json_schema_t *s = NULL, *a, *b;

    (void)state;
    assert_int_equal(
        weir_json_schema_parse(main1, strlen(main1), names, refs, lens, 1, &s, err, sizeof(err)),
        0);
    weir_json_schema_free(s);
    /* Without the reference it does not resolve. */
    assert_int_not_equal(
        weir_json_schema_parse(main1, strlen(main1), NULL, NULL, NULL, 0, &s, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "cannot resolve \"address.json\""));
    free(main1);

    /* Key order and whitespace do not make another schema. */
    a = parse("{'type':'object','properties':{'a':{'type':'string'},'b':{'type':'number'}}}");
    b = parse("{ 'properties' : { 'b' : {'type':'number'}, 'a':{'type':'string'} }, "
              "'type' : 'object' }");
    assert_string_equal(weir_json_schema_normalized(a), weir_json_schema_normalized(b));
    weir_json_schema_free(b);
    b = parse("{'type':'object','properties':{'a':{'type':'string'},'b':{'type':'integer'}}}");
    assert_string_not_equal(weir_json_schema_normalized(a), weir_json_schema_normalized(b));
    weir_json_schema_free(a);
    weir_json_schema_free(b);
}

/* Mutually recursive definitions with combined types do not loop. */
static void
test_recursive_combined(void **state)
{
    const char *t =
        "{'definitions':{"
        "'node':{'type':'object','properties':{'kids':{'type':'array','items':{'$ref':'#/"
        "definitions/any'}}}},"
        "'leaf':{'type':'string'},"
        "'any':{'anyOf':[{'$ref':'#/definitions/node'},{'$ref':'#/definitions/leaf'}]}},"
        "'$ref':'#/definitions/any'}";
    weir_json_schema_t *a = parse(t), *b = parse(t);

    (void)state;
    assert_true(weir_json_schema_can_read(a, b, NULL));
    weir_json_schema_free(a);
    weir_json_schema_free(b);
}

/* A long chain of definitions: compared when it fits the depth limit,
 * refused as invalid (not crashed, not truncated) beyond it. */
static char *
chain(int n, const char *leaf)
{
    size_t cap = (size_t)n * 120 + 256, len = 0;
    char *b = malloc(cap);

    len += (size_t)sprintf(b + len, "{\"definitions\":{\"d0\":{\"type\":\"%s\"}", leaf);
    for (int k = 1; k < n; k++)
        len += (size_t)sprintf(b + len,
                               ",\"d%d\":{\"type\":\"object\",\"properties\":{\"x\":"
                               "{\"$ref\":\"#/definitions/d%d\"}}}",
                               k, k - 1);
    sprintf(b + len, "},\"$ref\":\"#/definitions/d%d\"}", n - 1);
    return b;
}

static void
test_deep_chains(void **state)
{
    char *a = chain(150, "integer"), *b = chain(150, "number"), err[256];
    weir_json_schema_t *sa, *sb;

    (void)state;
    assert_int_equal(
        weir_json_schema_parse(a, strlen(a), NULL, NULL, NULL, 0, &sa, err, sizeof(err)), 0);
    assert_int_equal(
        weir_json_schema_parse(b, strlen(b), NULL, NULL, NULL, 0, &sb, err, sizeof(err)), 0);
    assert_true(weir_json_schema_can_read(sb, sa, NULL)); /* integer -> number, deep */
    assert_false(weir_json_schema_can_read(sa, sb, NULL));
    weir_json_schema_free(sa);
    weir_json_schema_free(sb);
    free(a);
    free(b);
    a = chain(5000, "string");
    assert_int_not_equal(
        weir_json_schema_parse(a, strlen(a), NULL, NULL, NULL, 0, &sa, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "nest deeper than"));
    free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_refs_and_normalized),
        cmocka_unit_test(test_recursive_combined),
        cmocka_unit_test(test_deep_chains),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
