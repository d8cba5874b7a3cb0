/*
 * test_avro_compat.c: the compatibility table for registry/weir_avro_compat.c,
 * built from the Avro specification's schema resolution rules (and the
 * fact sheet's B5 table of cases avro-c's own check gets wrong).
 *
 * Each row is an old schema (the registered version), a new schema, and
 * whether the new schema reads data written with the old one (backward)
 * and whether the old one reads data written with the new one (forward).
 * Every row is then checked at every Confluent level in the directions
 * that level requires: NONE always passes, BACKWARD needs backward,
 * FORWARD needs forward, FULL needs both; the _TRANSITIVE forms against
 * several versions are tested separately.
 *
 * Schemas are written with single quotes for readability; q() turns them
 * into JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_avro_compat.h"
#include "weir_common.h"

static char *
q(const char *s)
{
    char *r = strdup(s);

    for (char *p = r; *p; p++)
        if (*p == '\'')
            *p = '"';
    return r;
}

static weir_avro_schema_t *
parse(const char *quoted)
{
    char *text = q(quoted), err[512];
    weir_avro_schema_t *s = NULL;

    if (weir_avro_schema_parse(text, strlen(text), NULL, NULL, 0, WEIR_AVRO_VALIDATE_DEFAULTS, &s,
                               err, sizeof(err)) != 0)
        fail_msg("schema refused: %s\n  %s", err, text);
    free(text);
    return s;
}

#define REC1(name, f1) "{'type':'record','name':'" name "','fields':[" f1 "]}"
#define REC2(name, f1, f2) "{'type':'record','name':'" name "','fields':[" f1 "," f2 "]}"
#define F(name, type) "{'name':'" name "','type':" type "}"
#define FD(name, type, def) "{'name':'" name "','type':" type ",'default':" def "}"
#define FA(name, type, alias) "{'name':'" name "','type':" type ",'aliases':['" alias "']}"

#define LIST(vtype, extra)                                                                         \
    "{'type':'record','name':'Node','fields':[{'name':'v','type':" vtype "},"                      \
    "{'name':'next','type':['null','Node'],'default':null}" extra "]}"

static const struct {
    const char *name;
    const char *old_schema;
    const char *new_schema;
    bool backward; /* new reads old */
    bool forward;  /* old reads new */
} table[] = {
    /* Primitives and the specification's promotions. */
    {"int = int", "'int'", "'int'", true, true},
    {"null = null", "'null'", "{'type':'null'}", true, true},
    {"int -> long", "'int'", "'long'", true, false},
    {"int -> float", "'int'", "'float'", true, false},
    {"int -> double", "'int'", "'double'", true, false},
    {"long -> float", "'long'", "'float'", true, false},
    {"long -> double", "'long'", "'double'", true, false},
    {"float -> double", "'float'", "'double'", true, false},
    {"long -> int", "'long'", "'int'", false, true},
    {"double -> float", "'double'", "'float'", false, true},
    {"float -> long", "'float'", "'long'", false, true},
    {"double -> int", "'double'", "'int'", false, true},
    {"string -> bytes", "'string'", "'bytes'", true, true},
    {"bytes -> string", "'bytes'", "'string'", true, true},
    {"int -> string", "'int'", "'string'", false, false},
    {"boolean -> int", "'boolean'", "'int'", false, false},
    {"null -> int", "'null'", "'int'", false, false},
    {"string -> float", "'string'", "'float'", false, false},
    {"string -> record", "'string'", REC1("R", F("a", "'int'")), false, false},
    {"logical type added", "'int'", "{'type':'int','logicalType':'date'}", true, true},
    {"logical type changed", "{'type':'long','logicalType':'timestamp-millis'}",
     "{'type':'long','logicalType':'timestamp-micros'}", true, true},

    /* Records: fields added and removed. */
    {"same record", REC1("R", F("a", "'int'")), REC1("R", F("a", "'int'")), true, true},
    {"add field with default", REC1("R", F("a", "'int'")),
     REC2("R", F("a", "'int'"), FD("email", "'string'", "''")), true, true},
    {"add field without default", REC1("R", F("a", "'int'")),
     REC2("R", F("a", "'int'"), F("email", "'string'")), false, true},
    {"add optional field", REC1("R", F("a", "'int'")),
     REC2("R", F("a", "'int'"), FD("o", "['null','string']", "null")), true, true},
    {"remove field without default", REC2("R", F("a", "'int'"), F("b", "'int'")),
     REC1("R", F("a", "'int'")), true, false},
    {"remove field with default", REC2("R", F("a", "'int'"), FD("b", "'int'", "7")),
     REC1("R", F("a", "'int'")), true, true},
    {"remove the last field", REC1("R", F("a", "'int'")),
     "{'type':'record','name':'R',"
     "'fields':[]}",
     true, false},
    {"reorder fields", REC2("R", F("a", "'int'"), F("b", "'string'")),
     REC2("R", F("b", "'string'"), F("a", "'int'")), true, true},
    {"rename field", REC1("R", F("a", "'int'")), REC1("R", F("b", "'int'")), false, false},
    {"rename field with reader alias", REC1("R", F("a", "'int'")), REC1("R", FA("b", "'int'", "a")),
     true, false},
    {"rename field with default", REC1("R", FD("a", "'int'", "0")),
     REC1("R", FD("b", "'int'", "0")), true, true},
    {"field promoted int -> long", REC1("R", F("a", "'int'")), REC1("R", F("a", "'long'")), true,
     false},
    {"field string <-> bytes", REC1("R", F("a", "'string'")), REC1("R", F("a", "'bytes'")), true,
     true},
    {"field int -> string", REC1("R", F("a", "'int'")), REC1("R", F("a", "'string'")), false,
     false},
    {"default value changed", REC1("R", FD("a", "'int'", "1")), REC1("R", FD("a", "'int'", "2")),
     true, true},
    {"doc added", REC1("R", F("a", "'int'")),
     "{'type':'record','name':'R','doc':'hello','fields':[{'name':'a','type':'int','doc':'x'}]}",
     true, true},

    /* Records: names. */
    {"record renamed", REC1("R", F("a", "'int'")), REC1("S", F("a", "'int'")), false, false},
    {"record renamed, reader alias = old name", REC1("R", F("a", "'int'")),
     "{'type':'record','name':'S','aliases':['R'],'fields':[{'name':'a','type':'int'}]}", true,
     false},
    {"record renamed, alias qualified", REC1("x.R", F("a", "'int'")),
     "{'type':'record','name':'y.S','aliases':['x.R'],'fields':[{'name':'a','type':'int'}]}", true,
     false},
    {"record renamed, alias in wrong namespace", REC1("x.R", F("a", "'int'")),
     "{'type':'record','name':'y.S','aliases':['R'],'fields':[{'name':'a','type':'int'}]}", false,
     false},
    {"same name, other namespace", REC1("a.R", F("x", "'int'")), REC1("b.R", F("x", "'int'")), true,
     true},

    /* Nested records. */
    {"nested: add field with default", REC1("R", F("n", REC1("N", F("a", "'int'")))),
     REC1("R", F("n", REC2("N", F("a", "'int'"), FD("b", "'long'", "0")))), true, true},
    {"nested: add field without default", REC1("R", F("n", REC1("N", F("a", "'int'")))),
     REC1("R", F("n", REC2("N", F("a", "'int'"), F("b", "'long'")))), false, true},
    {"nested: type change", REC1("R", F("n", REC1("N", F("a", "'int'")))),
     REC1("R", F("n", REC1("N", F("a", "'boolean'")))), false, false},
    {"nested: renamed", REC1("R", F("n", REC1("N", F("a", "'int'")))),
     REC1("R", F("n", REC1("M", F("a", "'int'")))), false, false},

    /* Enums. */
    {"enum same", "{'type':'enum','name':'E','symbols':['A','B']}",
     "{'type':'enum','name':'E','symbols':['A','B']}", true, true},
    {"enum symbol added", "{'type':'enum','name':'E','symbols':['A','B']}",
     "{'type':'enum','name':'E','symbols':['A','B','C']}", true, false},
    {"enum symbols ABC -> A", "{'type':'enum','name':'E','symbols':['A','B','C']}",
     "{'type':'enum','name':'E','symbols':['A']}", false, true},
    {"enum symbol removed, new has default", "{'type':'enum','name':'E','symbols':['A','B','C']}",
     "{'type':'enum','name':'E','symbols':['A','B'],'default':'A'}", true, true},
    {"enum symbol added, old has default",
     "{'type':'enum','name':'E','symbols':['A','B'],'default':'A'}",
     "{'type':'enum','name':'E','symbols':['A','B','C']}", true, true},
    {"enum symbols reordered", "{'type':'enum','name':'E','symbols':['A','B']}",
     "{'type':'enum','name':'E','symbols':['B','A']}", true, true},
    {"enum renamed", "{'type':'enum','name':'E','symbols':['A']}",
     "{'type':'enum','name':'F','symbols':['A']}", false, false},
    {"enum renamed with alias", "{'type':'enum','name':'E','symbols':['A']}",
     "{'type':'enum','name':'F','aliases':['E'],'symbols':['A']}", true, false},
    {"enum -> string", "{'type':'enum','name':'E','symbols':['A']}", "'string'", false, false},

    /* Fixed. */
    {"fixed same", "{'type':'fixed','name':'F','size':4}", "{'type':'fixed','name':'F','size':4}",
     true, true},
    {"fixed size changed", "{'type':'fixed','name':'F','size':4}",
     "{'type':'fixed','name':'F','size':8}", false, false},
    {"fixed renamed", "{'type':'fixed','name':'F','size':4}",
     "{'type':'fixed','name':'G','size':4}", false, false},
    {"fixed renamed with alias", "{'type':'fixed','name':'F','size':4}",
     "{'type':'fixed','name':'G','aliases':['F'],'size':4}", true, false},
    {"fixed -> bytes", "{'type':'fixed','name':'F','size':4}", "'bytes'", false, false},

    /* Arrays and maps. */
    {"array int -> long", "{'type':'array','items':'int'}", "{'type':'array','items':'long'}", true,
     false},
    {"array string -> bytes", "{'type':'array','items':'string'}",
     "{'type':'array','items':'bytes'}", true, true},
    {"map int -> double", "{'type':'map','values':'int'}", "{'type':'map','values':'double'}", true,
     false},
    {"map string -> int", "{'type':'map','values':'string'}", "{'type':'map','values':'int'}",
     false, false},
    {"array -> map", "{'type':'array','items':'int'}", "{'type':'map','values':'int'}", false,
     false},
    {"array of records, field added with default",
     "{'type':'array','items':" REC1("I", F("a", "'int'")) "}",
     "{'type':'array','items':" REC2("I", F("a", "'int'"), FD("b", "'int'", "0")) "}", true, true},

    /* Unions. */
    {"int -> [null,int]", "'int'", "['null','int']", true, false},
    {"[null,int] -> int", "['null','int']", "'int'", false, true},
    {"[null,int] -> [null,int,string]", "['null','int']", "['null','int','string']", true, false},
    {"union reordered", "['null','int']", "['int','null']", true, true},
    {"union branch promoted", "['null','int']", "['null','long']", true, false},
    {"union string -> bytes", "['null','string']", "['null','bytes']", true, true},
    {"[int,string] -> [long,string]", "['int','string']", "['long','string']", true, false},
    {"int -> [string,long]", "'int'", "['string','long']", true, false},
    {"[int] -> int", "['int']", "'int'", true, true},
    {"union branch replaced", "['null','int']", "['null','string']", false, false},
    {"union of records, field added with default", "['null'," REC1("A", F("a", "'int'")) "]",
     "['null'," REC2("A", F("a", "'int'"), FD("b", "'string'", "''")) "]", true, true},
    {"union of records, record renamed", "['null'," REC1("A", F("a", "'int'")) "]",
     "['null'," REC1("B", F("a", "'int'")) "]", false, false},
    {"union of two records, one removed",
     "[" REC1("A", F("a", "'int'")) "," REC1("B", F("b", "'int'")) "]",
     "[" REC1("A", F("a", "'int'")) "]", false, true},
    {"field made optional", REC1("R", F("a", "'string'")),
     REC1("R", FD("a", "['null','string']", "null")), true, false},
    {"optional field made required", REC1("R", FD("a", "['null','string']", "null")),
     REC1("R", F("a", "'string'")), false, true},

    /* Recursive types. */
    {"recursive same", LIST("'int'", ""), LIST("'int'", ""), true, true},
    {"recursive: field added with default", LIST("'int'", ""),
     LIST("'int'", ",{'name':'w','type':'long','default':0}"), true, true},
    {"recursive: field added without default", LIST("'int'", ""),
     LIST("'int'", ",{'name':'w','type':'long'}"), false, true},
    {"recursive: value promoted", LIST("'int'", ""), LIST("'long'", ""), true, false},
    {"recursive: value changed", LIST("'int'", ""), LIST("'string'", ""), false, false},
    {"mutually recursive same",
     "{'type':'record','name':'A','fields':[{'name':'b','type':['null',"
     "{'type':'record','name':'B','fields':[{'name':'a','type':['null','A']}]}]}]}",
     "{'type':'record','name':'A','fields':[{'name':'b','type':['null',"
     "{'type':'record','name':'B','fields':[{'name':'a','type':['null','A']}]}]}]}",
     true, true},
    {"mutually recursive: inner field added without default",
     "{'type':'record','name':'A','fields':[{'name':'b','type':['null',"
     "{'type':'record','name':'B','fields':[{'name':'a','type':['null','A']}]}]}]}",
     "{'type':'record','name':'A','fields':[{'name':'b','type':['null',"
     "{'type':'record','name':'B','fields':[{'name':'a','type':['null','A']},"
     "{'name':'z','type':'int'}]}]}]}",
     false, true},
};

static void
test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        weir_avro_schema_t *olds = parse(table[i].old_schema);
        weir_avro_schema_t *news = parse(table[i].new_schema);
        const weir_avro_schema_t *prev[] = {olds};
        weir_msgs_t msgs = {0};
        bool bw = weir_avro_can_read(news, olds, &msgs);
        bool fw;

        if (bw != table[i].backward)
            fail_msg("%s: new reads old = %d, want %d", table[i].name, bw, table[i].backward);
        /* An incompatible answer always says why. */
        assert_true(bw ? msgs.n == 0 : msgs.n > 0);
        weir_msgs_free(&msgs);
        fw = weir_avro_can_read(olds, news, &msgs);
        if (fw != table[i].forward)
            fail_msg("%s: old reads new = %d, want %d", table[i].name, fw, table[i].forward);
        assert_true(fw ? msgs.n == 0 : msgs.n > 0);
        weir_msgs_free(&msgs);

        /* Every level, in the directions it requires. */
        for (int lvl = WEIR_COMPAT_NONE; lvl <= WEIR_COMPAT_FULL_TRANSITIVE; lvl++) {
            bool want = true, got;

            if (weir_compat_level_backward((weir_compat_level_t)lvl))
                want = want && table[i].backward;
            if (weir_compat_level_forward((weir_compat_level_t)lvl))
                want = want && table[i].forward;
            got = weir_avro_compat_check((weir_compat_level_t)lvl, news, prev, 1, &msgs);
            if (got != want)
                fail_msg("%s at %s: %d, want %d", table[i].name,
                         weir_compat_level_name((weir_compat_level_t)lvl), got, want);
            assert_true(got ? msgs.n == 0 : msgs.n > 0);
            weir_msgs_free(&msgs);
        }
        weir_avro_schema_free(olds);
        weir_avro_schema_free(news);
    }
}

/* The messages name the incompatibility type and the path. */
static void
test_messages(void **state)
{
    weir_avro_schema_t *a = parse(REC1("R", F("a", "'int'")));
    weir_avro_schema_t *b = parse(REC2("R", F("a", "'int'"), F("email", "'string'")));
    weir_avro_schema_t *e1 = parse("{'type':'enum','name':'E','symbols':['A','B','C']}");
    weir_avro_schema_t *e2 = parse("{'type':'enum','name':'E','symbols':['A']}");
    weir_avro_schema_t *u = parse("['null','int']");
    weir_avro_schema_t *i = parse("'int'");
    weir_msgs_t m = {0};

    (void)state;
    assert_false(weir_avro_can_read(b, a, &m));
    assert_int_equal(m.n, 1);
    assert_non_null(strstr(m.v[0], "errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'"));
    assert_non_null(strstr(m.v[0], "'/fields/1/name'"));
    assert_non_null(strstr(m.v[0], "additionalInfo:'email'"));
    weir_msgs_free(&m);

    assert_false(weir_avro_can_read(e2, e1, &m));
    assert_non_null(strstr(m.v[0], "MISSING_ENUM_SYMBOLS"));
    assert_non_null(strstr(m.v[0], "B, C"));
    weir_msgs_free(&m);

    assert_false(weir_avro_can_read(i, u, &m));
    assert_non_null(strstr(m.v[0], "TYPE_MISMATCH"));
    weir_msgs_free(&m);

    assert_false(weir_avro_can_read(a, e1, &m));
    assert_non_null(strstr(m.v[0], "TYPE_MISMATCH"));
    weir_msgs_free(&m);

    /* Through the level driver, the direction is named. */
    {
        const weir_avro_schema_t *prev[] = {a};

        assert_false(weir_avro_compat_check(WEIR_COMPAT_BACKWARD, b, prev, 1, &m));
        assert_non_null(strstr(m.v[m.n - 1], "the new schema cannot read"));
        weir_msgs_free(&m);
        assert_true(weir_avro_compat_check(WEIR_COMPAT_FORWARD, b, prev, 1, &m));
        assert_int_equal(m.n, 0);
    }
    weir_avro_schema_free(a);
    weir_avro_schema_free(b);
    weir_avro_schema_free(e1);
    weir_avro_schema_free(e2);
    weir_avro_schema_free(u);
    weir_avro_schema_free(i);
}

/* The _TRANSITIVE levels check every earlier version, the others the
 * latest only (prev is newest first). */
static void
test_transitive(void **state)
{
    /* Backward: v3 reads v2 but not v1. */
    weir_avro_schema_t *v1 = parse(REC1("R", F("a", "'string'")));
    weir_avro_schema_t *v2 = parse(REC1("R", FD("b", "'int'", "0")));
    weir_avro_schema_t *v3 = parse(REC2("R", FD("a", "'int'", "0"), FD("b", "'int'", "0")));
    /* Forward: w1 cannot read w3, w2 can. */
    weir_avro_schema_t *w1 = parse(REC1("R", F("x", "'int'")));
    weir_avro_schema_t *w2 = parse("{'type':'record','name':'R','fields':[]}");
    weir_avro_schema_t *w3 = parse("{'type':'record','name':'R','fields':[]}");
    const weir_avro_schema_t *prev_v[] = {v2, v1};
    const weir_avro_schema_t *prev_w[] = {w2, w1};
    weir_msgs_t m = {0};

    (void)state;
    assert_true(weir_avro_compat_check(WEIR_COMPAT_BACKWARD, v3, prev_v, 2, &m));
    assert_false(weir_avro_compat_check(WEIR_COMPAT_BACKWARD_TRANSITIVE, v3, prev_v, 2, &m));
    weir_msgs_free(&m);
    assert_true(weir_avro_compat_check(WEIR_COMPAT_FORWARD, w3, prev_w, 2, &m));
    assert_false(weir_avro_compat_check(WEIR_COMPAT_FORWARD_TRANSITIVE, w3, prev_w, 2, &m));
    weir_msgs_free(&m);
    assert_true(weir_avro_compat_check(WEIR_COMPAT_FULL, w3, prev_w, 2, &m));
    assert_false(weir_avro_compat_check(WEIR_COMPAT_FULL_TRANSITIVE, w3, prev_w, 2, &m));
    weir_msgs_free(&m);
    assert_true(weir_avro_compat_check(WEIR_COMPAT_NONE, v1, prev_w, 2, &m));
    /* No earlier version: everything passes. */
    assert_true(weir_avro_compat_check(WEIR_COMPAT_FULL_TRANSITIVE, v1, NULL, 0, &m));
    assert_int_equal(m.n, 0);
    weir_avro_schema_free(v1);
    weir_avro_schema_free(v2);
    weir_avro_schema_free(v3);
    weir_avro_schema_free(w1);
    weir_avro_schema_free(w2);
    weir_avro_schema_free(w3);
}

static void
test_levels(void **state)
{
    (void)state;
    assert_int_equal(weir_compat_level_parse("BACKWARD"), WEIR_COMPAT_BACKWARD);
    assert_int_equal(weir_compat_level_parse("FULL_TRANSITIVE"), WEIR_COMPAT_FULL_TRANSITIVE);
    assert_int_equal(weir_compat_level_parse("NONE"), WEIR_COMPAT_NONE);
    assert_int_equal(weir_compat_level_parse("backward"), -1);
    assert_int_equal(weir_compat_level_parse("FULLY"), -1);
    assert_int_equal(weir_compat_level_parse(NULL), -1);
    for (int l = WEIR_COMPAT_NONE; l <= WEIR_COMPAT_FULL_TRANSITIVE; l++)
        assert_int_equal(weir_compat_level_parse(weir_compat_level_name((weir_compat_level_t)l)),
                         l);
    assert_true(weir_compat_level_satisfies(WEIR_COMPAT_FULL, WEIR_COMPAT_BACKWARD));
    assert_true(weir_compat_level_satisfies(WEIR_COMPAT_BACKWARD_TRANSITIVE, WEIR_COMPAT_BACKWARD));
    assert_true(weir_compat_level_satisfies(WEIR_COMPAT_NONE, WEIR_COMPAT_NONE));
    assert_false(weir_compat_level_satisfies(WEIR_COMPAT_FORWARD, WEIR_COMPAT_BACKWARD));
    assert_false(weir_compat_level_satisfies(WEIR_COMPAT_NONE, WEIR_COMPAT_FORWARD));
    assert_false(weir_compat_level_satisfies(WEIR_COMPAT_FULL, WEIR_COMPAT_FULL_TRANSITIVE));
    assert_true(weir_compat_level_satisfies(WEIR_COMPAT_FULL_TRANSITIVE, WEIR_COMPAT_FULL));
}

/* A deep recursive pair and many named types do not blow up. */
static void
test_large_recursive(void **state)
{
    char *a = malloc(1 << 20), *b = malloc(1 << 20);
    size_t na = 0, nb = 0;
    weir_avro_schema_t *sa, *sb;
    int n = 60;

    (void)state;
    /* T0 { next: [null, T1] } ... T59 { back: [null, T0] }: a ring of types,
     * each also holding every earlier one. */
    for (int i = 0; i < n; i++) {
        na += (size_t)sprintf(a + na, "{'type':'record','name':'T%d','fields':[", i);
        for (int k = 0; k < i; k++)
            na += (size_t)sprintf(a + na, "{'name':'r%d','type':['null','T%d']},", k, k);
        na += (size_t)sprintf(a + na, "{'name':'next','type':['null',");
    }
    na += (size_t)sprintf(a + na, "'T0'");
    for (int i = 0; i < n; i++)
        na += (size_t)sprintf(a + na, "]}]}");
    memcpy(b, a, na + 1);
    sa = parse(a);
    sb = parse(b);
    assert_true(weir_avro_can_read(sa, sb, NULL));
    weir_avro_schema_free(sb);
    /* The innermost reference to T0 becomes a long: now the writer's T59
     * holds a long where the reader expects T0. */
    for (char *p = strstr(b, "'T0']"); p; p = strstr(p + 1, "'T0']"))
        nb = (size_t)(p - b);
    memmove(b + nb + 6, b + nb + 4, na - nb - 4 + 1);
    memcpy(b + nb, "'long'", 6);
    sb = parse(b);
    assert_false(weir_avro_can_read(sa, sb, NULL));
    assert_false(weir_avro_can_read(sb, sa, NULL));
    weir_avro_schema_free(sa);
    weir_avro_schema_free(sb);
    free(a);
    free(b);
}

/* Chains of named types, each holding the previous one: compared up to a
 * depth limit, refused (not crashed) beyond it. */
static char *
chain_schema(int n, const char *leaf)
{
    size_t cap = (size_t)n * 200 + 256, len = 0;
    char *b = malloc(cap);

    len += (size_t)sprintf(b + len,
                           "{'type':'record','name':'Root','fields':["
                           "{'name':'f0','type':{'type':'record','name':'T0','fields':"
                           "[{'name':'a','type':%s}]}}",
                           leaf);
    for (int k = 1; k < n; k++)
        len += (size_t)sprintf(b + len,
                               ",{'name':'f%d','type':{'type':'record','name':'T%d','fields':"
                               "[{'name':'a','type':'T%d'}]}}",
                               k, k, k - 1);
    sprintf(b + len, "]}");
    return b;
}

static void
test_deep_chains(void **state)
{
    char *a = chain_schema(300, "'int'"), *b = chain_schema(300, "'long'");
    weir_avro_schema_t *sa = parse(a), *sb = parse(b);
    weir_msgs_t m = {0};

    (void)state;
    assert_true(weir_avro_can_read(sa, sa, NULL));
    assert_true(weir_avro_can_read(sb, sa, NULL)); /* int -> long 300 levels down */
    assert_false(weir_avro_can_read(sa, sb, NULL));
    weir_avro_schema_free(sa);
    weir_avro_schema_free(sb);
    free(a);
    free(b);
    /* From the root the pairs are met in definition order, so the memo keeps
     * the recursion shallow; from the deepest type it is as deep as the
     * chain and the limit answers. */
    a = chain_schema(3000, "'int'");
    sa = parse(a);
    assert_true(weir_avro_can_read(sa, sa, NULL));
    assert_false(weir_avro_node_can_read(weir_avro_schema_find(sa, "T2999"),
                                         weir_avro_schema_find(sa, "T2999"), &m));
    assert_non_null(strstr(m.v[0], "too deeply"));
    weir_msgs_free(&m);
    assert_true(weir_avro_node_can_read(weir_avro_schema_find(sa, "T300"),
                                        weir_avro_schema_find(sa, "T300"), NULL));
    weir_avro_schema_free(sa);
    free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),           cmocka_unit_test(test_messages),
        cmocka_unit_test(test_transitive),      cmocka_unit_test(test_levels),
        cmocka_unit_test(test_large_recursive), cmocka_unit_test(test_deep_chains),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
