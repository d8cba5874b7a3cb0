/*
 * test_schema_diff.c: registry/weir_schema_diff.c - the field-by-field
 * changes between Avro schemas (added/removed fields with type and default,
 * renames through aliases, type and default changes, enum symbols, fixed
 * sizes, nested records through arrays, maps and unions, recursive types)
 * and between JSON Schema documents (properties, required, enum, items,
 * local $refs), and the text lines for people.
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
#include "weir_common.h"
#include "weir_schema_diff.h"

/* Single quotes to double quotes, for readable schemas. */
static char *
q(const char *s)
{
    char *r = weir_strdup(s);

    for (char *p = r; *p; p++)
        if (*p == '\'')
            *p = '"';
    return r;
}

static weir_avro_schema_t *
avro(const char *text)
{
    char *t = q(text), err[256] = "";
    weir_avro_schema_t *s = NULL;

    if (weir_avro_schema_parse(t, strlen(t), NULL, NULL, 0, WEIR_AVRO_NO_AVROC, &s, err,
                               sizeof(err)) != 0)
        fail_msg("schema does not parse: %s: %s", t, err);
    free(t);
    return s;
}

static json_t *
diff_avro(const char *a, const char *b)
{
    weir_avro_schema_t *sa = a ? avro(a) : NULL, *sb = avro(b);
    json_t *d = weir_schema_diff_avro(sa, sb);

    weir_avro_schema_free(sa);
    weir_avro_schema_free(sb);
    return d;
}

static json_t *
diff_json(const char *a, const char *b)
{
    char *ta = a ? q(a) : NULL, *tb = q(b);
    json_error_t je;
    json_t *da = ta ? json_loads(ta, 0, &je) : NULL, *db = json_loads(tb, 0, &je);
    json_t *d;

    assert_non_null(db);
    if (ta)
        assert_non_null(da);
    d = weir_schema_diff_json(da, db);
    json_decref(da);
    json_decref(db);
    free(ta);
    free(tb);
    return d;
}

/* The change at path of kind change (fails when there is none). */
static json_t *
find(json_t *d, const char *path, const char *change)
{
    size_t i;
    json_t *c;

    json_array_foreach(d, i, c) {
        if (strcmp(json_string_value(json_object_get(c, "path")), path) == 0 &&
            strcmp(json_string_value(json_object_get(c, "change")), change) == 0)
            return c;
    }
    char *all = json_dumps(d, JSON_COMPACT);
    fail_msg("no %s at %s in %s", change, path, all);
    free(all);
    return NULL;
}

static const char *
str(json_t *c, const char *key)
{
    const char *s = json_string_value(json_object_get(c, key));
    assert_non_null(s);
    return s;
}

static void
assert_line(json_t *c, const char *want)
{
    char *l = weir_schema_diff_line(c);
    assert_string_equal(l, want);
    free(l);
}

#define ORDER_V1                                                                            \
    "{'type':'record','name':'Order','namespace':'shop','fields':["                         \
    "{'name':'id','type':'long'},"                                                          \
    "{'name':'qty','type':'int','default':1},"                                              \
    "{'name':'legacy','type':'string'},"                                                    \
    "{'name':'status','type':{'type':'enum','name':'Status','symbols':['NEW','OLD']}},"     \
    "{'name':'addr','type':['null',{'type':'record','name':'Address','fields':["            \
    "  {'name':'street','type':'string'},{'name':'zip','type':'int'}]}],'default':null},"   \
    "{'name':'lines','type':{'type':'array','items':{'type':'record','name':'Line',"        \
    "  'fields':[{'name':'sku','type':'string'}]}}},"                                       \
    "{'name':'cust','type':'string'},"                                                      \
    "{'name':'h','type':{'type':'fixed','name':'Hash','size':16}},"                        \
    "{'name':'at','type':'long'}]}"

#define ORDER_V2                                                                            \
    "{'type':'record','name':'Order','namespace':'shop','fields':["                         \
    "{'name':'id','type':'long'},"                                                          \
    "{'name':'qty','type':'long','default':2},"                                             \
    "{'name':'status','type':{'type':'enum','name':'Status','symbols':['NEW','PAID'],"      \
    "  'default':'NEW'}},"                                                                  \
    "{'name':'addr','type':['null',{'type':'record','name':'Address','fields':["            \
    "  {'name':'street','type':'string'},{'name':'zip','type':'string','default':''}]}],"   \
    "  'default':null},"                                                                    \
    "{'name':'lines','type':{'type':'array','items':{'type':'record','name':'Line',"        \
    "  'fields':[{'name':'sku','type':'string'},{'name':'n','type':'int','default':1}]}}},"  \
    "{'name':'customer','aliases':['cust'],'type':'string'},"                               \
    "{'name':'h','type':{'type':'fixed','name':'Hash','size':32}},"                        \
    "{'name':'at','type':{'type':'long','logicalType':'timestamp-millis'}},"               \
    "{'name':'note','type':['null','string'],'default':null}]}"

static void
test_avro_fields(void **state)
{
    (void)state;
    json_t *d = diff_avro(ORDER_V1, ORDER_V2), *c;

    c = find(d, "note", "added");
    assert_string_equal(str(c, "type"), "null|string");
    assert_true(json_is_null(json_object_get(c, "default")));
    assert_line(c, "+ note: null|string, default null");

    c = find(d, "legacy", "removed");
    assert_string_equal(str(c, "type"), "string");
    assert_line(c, "- legacy: string");

    c = find(d, "qty", "type_changed");
    assert_string_equal(str(c, "old_type"), "int");
    assert_string_equal(str(c, "new_type"), "long");
    assert_line(c, "~ qty: type int -> long");
    c = find(d, "qty", "default_changed");
    assert_int_equal(json_integer_value(json_object_get(c, "old_default")), 1);
    assert_int_equal(json_integer_value(json_object_get(c, "new_default")), 2);
    assert_line(c, "~ qty: default 1 -> 2");

    c = find(d, "status", "symbols_changed");
    assert_int_equal(json_array_size(json_object_get(c, "added_symbols")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "added_symbols"),
                                                         0)), "PAID");
    assert_line(c, "~ status: symbols added PAID; removed OLD");
    c = find(d, "status", "enum_default_changed");
    assert_line(c, "~ status: enum default null -> \"NEW\"");

    /* nested record inside a union: walked by path */
    c = find(d, "addr.zip", "type_changed");
    assert_string_equal(str(c, "new_type"), "string");
    find(d, "addr.zip", "default_added");
    /* records inside arrays */
    c = find(d, "lines[].n", "added");
    assert_line(c, "+ lines[].n: int, default 1");
    /* alias: renamed, not removed + added */
    c = find(d, "customer", "renamed");
    assert_string_equal(str(c, "old_name"), "cust");
    assert_line(c, "~ customer: renamed from cust");
    c = find(d, "h", "size_changed");
    assert_line(c, "~ h: fixed size 16 -> 32");
    c = find(d, "at", "type_changed");
    assert_string_equal(str(c, "new_type"), "long(timestamp-millis)");

    /* nothing else: no change on id, street, sku; no removed cust */
    size_t i;
    json_array_foreach(d, i, c) {
        const char *p = str(c, "path");
        assert_true(strcmp(p, "id") != 0 && strcmp(p, "addr.street") != 0 &&
                    strcmp(p, "lines[].sku") != 0 && strcmp(p, "cust") != 0);
        assert_true(strcmp(p, "addr") != 0 && strcmp(p, "lines") != 0);
    }
    assert_int_equal(json_array_size(d), 12);
    json_decref(d);
}

static void
test_avro_same_and_new(void **state)
{
    (void)state;
    json_t *d = diff_avro(ORDER_V1, ORDER_V1);
    assert_int_equal(json_array_size(d), 0);
    json_decref(d);

    /* no current schema: every field is added */
    d = diff_avro(NULL, "{'type':'record','name':'R','fields':[{'name':'a','type':'int'},"
                        "{'name':'b','type':'string','default':'x'}]}");
    assert_int_equal(json_array_size(d), 2);
    assert_line(find(d, "a", "added"), "+ a: int, no default");
    assert_line(find(d, "b", "added"), "+ b: string, default \"x\"");
    json_decref(d);

    /* a non-record root */
    d = diff_avro("'int'", "'long'");
    assert_line(find(d, "", "type_changed"), "~ (root): type int -> long");
    json_decref(d);
}

static void
test_avro_nested_and_recursive(void **state)
{
    (void)state;
    /* recursive linked list: terminates, reports the change once */
    json_t *d = diff_avro(
        "{'type':'record','name':'Node','fields':[{'name':'v','type':'int'},"
        "{'name':'next','type':['null','Node'],'default':null}]}",
        "{'type':'record','name':'Node','fields':[{'name':'v','type':'int'},"
        "{'name':'w','type':'int','default':0},"
        "{'name':'next','type':['null','Node'],'default':null}]}");
    find(d, "w", "added");
    assert_int_equal(json_array_size(d), 1);
    json_decref(d);

    /* map values and a record gaining a union with null */
    d = diff_avro(
        "{'type':'record','name':'R','fields':[{'name':'m','type':{'type':'map','values':"
        "{'type':'record','name':'V','fields':[{'name':'a','type':'int'}]}}},"
        "{'name':'r','type':{'type':'record','name':'S','fields':[{'name':'x','type':'int'}]}}]}",
        "{'type':'record','name':'R','fields':[{'name':'m','type':{'type':'map','values':"
        "{'type':'record','name':'V','fields':[]}}},"
        "{'name':'r','type':['null',{'type':'record','name':'S','fields':["
        "{'name':'x','type':'int'},{'name':'y','type':'int','default':0}]}],'default':null}]}");
    find(d, "m{}.a", "removed");
    json_t *c = find(d, "r", "type_changed");
    assert_string_equal(str(c, "old_type"), "S");
    assert_string_equal(str(c, "new_type"), "null|S");
    find(d, "r", "default_added");
    find(d, "r.y", "added");
    json_decref(d);
}

static void
test_json_schema(void **state)
{
    (void)state;
    json_t *d = diff_json(
        "{'type':'object','properties':{'id':{'type':'integer'},"
        "'name':{'type':'string','default':'x'},'old':{'type':'boolean'},"
        "'kind':{'type':'string','enum':['a','b']},"
        "'addr':{'$ref':'#/definitions/Addr'},"
        "'tags':{'type':'array','items':{'type':'string'}}},'required':['id'],"
        "'definitions':{'Addr':{'type':'object','properties':{'zip':{'type':'integer'}}}}}",
        "{'type':'object','properties':{'id':{'type':'string'},"
        "'name':{'type':'string','default':'y'},'kind':{'type':'string','enum':['a','c']},"
        "'addr':{'$ref':'#/definitions/Addr'},"
        "'tags':{'type':'array','items':{'type':'integer'}},"
        "'email':{'type':'string','format':'email'}},'required':['id','name'],"
        "'definitions':{'Addr':{'type':'object','properties':{'zip':{'type':'integer'},"
        "'city':{'type':'string'}}}}}");
    json_t *c = find(d, "id", "type_changed");
    assert_line(c, "~ id: type integer -> string");
    assert_line(find(d, "name", "default_changed"), "~ name: default \"x\" -> \"y\"");
    assert_line(find(d, "name", "required_added"), "~ name: now required");
    assert_line(find(d, "old", "removed"), "- old: boolean");
    assert_line(find(d, "email", "added"), "+ email: string(email)");
    assert_line(find(d, "kind", "enum_changed"), "~ kind: enum values added c; removed b");
    json_decref(d);
}

static void
test_json_schema_more(void **state)
{
    (void)state;
    json_t *d = diff_json(
        "{'type':'object','properties':{'kind':{'type':'string','enum':['a','b']},"
        "'addr':{'$ref':'#/definitions/Addr'},"
        "'tags':{'type':'array','items':{'type':'string'}}},"
        "'definitions':{'Addr':{'type':'object','properties':{'zip':{'type':'integer'}}}}}",
        "{'type':'object','properties':{'kind':{'type':'string','enum':['a','c']},"
        "'addr':{'$ref':'#/definitions/Addr'},"
        "'tags':{'type':'array','items':{'type':'integer'}}},"
        "'required':['kind'],"
        "'definitions':{'Addr':{'type':'object','properties':{'zip':{'type':'integer'},"
        "'city':{'type':'string'}}}}}");
    json_t *c = find(d, "kind", "enum_changed");
    assert_line(c, "~ kind: enum values added c; removed b");
    find(d, "kind", "required_added");
    /* through the local $ref */
    assert_line(find(d, "addr.city", "added"), "+ addr.city: string");
    c = find(d, "tags", "type_changed");
    assert_string_equal(str(c, "old_type"), "array<string>");
    find(d, "tags[]", "type_changed");
    json_decref(d);

    /* new subject: every property added, required shown */
    d = diff_json(NULL, "{'type':'object','properties':{'a':{'type':'integer'}},"
                        "'required':['a']}");
    assert_int_equal(json_array_size(d), 1);
    assert_line(find(d, "a", "added"), "+ a: integer, required");
    json_decref(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avro_fields),
        cmocka_unit_test(test_avro_same_and_new),
        cmocka_unit_test(test_avro_nested_and_recursive),
        cmocka_unit_test(test_json_schema),
        cmocka_unit_test(test_json_schema_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
