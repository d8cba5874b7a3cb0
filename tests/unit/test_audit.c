/*
 * test_audit.c: unit tests of the audit log (governance/weir_audit.c and
 * its table in weir_store_governance.c): the row hash (deterministic, over
 * every field, unambiguous field boundaries, chained), appends with
 * hostile strings, the append-only triggers, verification detecting a
 * changed row, a deleted row in the middle and deleted rows at the end,
 * and the rate limiter for denial records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "weir_audit.h"
#include "weir_common.h"
#include "weir_store_governance.h"

static char tmpdir[64];
static int db_seq;

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/weir-test-audit-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
test_hash(void **state)
{
    weir_audit_row_t r = {1, 1700000000000, "User:alice", "acl.create", "TOPIC:LITERAL:x",
                          "ok", ""};
    weir_audit_row_t q;
    char g[WEIR_AUDIT_HASH_HEX], h1[WEIR_AUDIT_HASH_HEX], h2[WEIR_AUDIT_HASH_HEX];

    (void)state;
    weir_audit_genesis(g);
    assert_int_equal(strlen(g), 64);
    assert_int_equal(strspn(g, "0"), 64);
    assert_int_equal(weir_audit_hash(g, &r, h1), 0);
    assert_int_equal(strlen(h1), 64);
    assert_int_equal(strspn(h1, "0123456789abcdef"), 64);
    assert_int_equal(weir_audit_hash(g, &r, h2), 0);
    assert_string_equal(h1, h2);

    /* Every field counts. */
    q = r;
    q.id = 2;
    assert_int_equal(weir_audit_hash(g, &q, h2), 0);
    assert_string_not_equal(h1, h2);
    q = r;
    q.ts_ms++;
    weir_audit_hash(g, &q, h2);
    assert_string_not_equal(h1, h2);
    q = r;
    q.principal = "User:alicf";
    weir_audit_hash(g, &q, h2);
    assert_string_not_equal(h1, h2);
    q = r;
    q.outcome = "denied";
    weir_audit_hash(g, &q, h2);
    assert_string_not_equal(h1, h2);
    q = r;
    q.detail = " ";
    weir_audit_hash(g, &q, h2);
    assert_string_not_equal(h1, h2);
    /* Moving bytes between fields changes the hash. */
    q = r;
    q.action = "acl.createTOPIC";
    q.target = ":LITERAL:x";
    weir_audit_hash(g, &q, h2);
    assert_string_not_equal(h1, h2);
    /* The previous hash counts. */
    weir_audit_hash(h1, &r, h2);
    assert_string_not_equal(h1, h2);
    /* A bad previous hash is refused. */
    assert_int_equal(weir_audit_hash("xyz", &r, h2), -1);
    g[3] = 'G';
    assert_int_equal(weir_audit_hash(g, &r, h2), -1);
}

/* Runs SQL on the database with a connection of its own (the sqlite3
 * shell's view); returns SQLite's result code. */
static int
exec_sql(const char *path, const char *sql)
{
    sqlite3 *db;
    int rc;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static weir_govstore_t *
fresh(char *path, size_t size, int nrows)
{
    weir_govstore_t *gs;
    char err[256];

    snprintf(path, size, "%s/audit-%d.db", tmpdir, ++db_seq);
    assert_int_equal(weir_govstore_open(path, false, &gs, err, sizeof(err)), 0);
    for (int i = 0; i < nrows; i++) {
        char target[32];
        weir_audit_row_t r = {0, 1700000000000 + i, "User:alice", "deny", target, "denied",
                              "host=127.0.0.1"};
        snprintf(target, sizeof(target), "TOPIC:t%d", i);
        assert_int_equal(weir_govstore_audit_append(gs, &r), 0);
        assert_int_equal(r.id, i + 1);
    }
    return gs;
}

static void
verify_fails(weir_govstore_t *gs, int64_t bad_id, const char *why)
{
    weir_audit_verify_t v;

    assert_int_equal(weir_govstore_audit_verify(gs, &v), 0);
    assert_false(v.ok);
    assert_int_equal(v.bad_id, bad_id);
    if (!strstr(v.reason, why))
        fail_msg("reason \"%s\" lacks \"%s\"", v.reason, why);
}

static void
test_verify_and_tamper(void **state)
{
    char path[128];
    weir_govstore_t *gs;
    weir_audit_verify_t v;

    (void)state;
    /* Empty and intact logs verify. */
    gs = fresh(path, sizeof(path), 0);
    assert_int_equal(weir_govstore_audit_verify(gs, &v), 0);
    assert_true(v.ok);
    assert_int_equal(v.rows, 0);
    weir_govstore_close(gs);
    gs = fresh(path, sizeof(path), 50);
    assert_int_equal(weir_govstore_audit_verify(gs, &v), 0);
    assert_true(v.ok);
    assert_int_equal(v.rows, 50);

    /* The table refuses UPDATE and DELETE. */
    assert_int_equal(exec_sql(path, "UPDATE audit_log SET outcome = 'ok' WHERE id = 7"),
                     SQLITE_CONSTRAINT);
    assert_int_equal(exec_sql(path, "DELETE FROM audit_log WHERE id = 7"), SQLITE_CONSTRAINT);
    assert_int_equal(weir_govstore_audit_verify(gs, &v), 0);
    assert_true(v.ok);

    /* Someone with the database drops the triggers and edits row 7. */
    assert_int_equal(exec_sql(path, "DROP TRIGGER audit_log_no_update;"
                                    "UPDATE audit_log SET outcome = 'ok' WHERE id = 7"),
                     SQLITE_OK);
    verify_fails(gs, 7, "content does not match");
    weir_govstore_close(gs);

    /* ... or recomputes row 7's own hash too: row 8's link breaks. */
    gs = fresh(path, sizeof(path), 10);
    {
        weir_audit_row_t r = {7, 1700000000000 + 6, "User:alice", "deny", "TOPIC:t6", "ok",
                              "host=127.0.0.1"};
        char prev[WEIR_AUDIT_HASH_HEX], h[WEIR_AUDIT_HASH_HEX], sql[512];
        sqlite3 *db;
        sqlite3_stmt *s;

        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT prev_hash FROM audit_log WHERE id = 7",
                                            -1, &s, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        snprintf(prev, sizeof(prev), "%s", sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
        sqlite3_close(db);
        assert_int_equal(weir_audit_hash(prev, &r, h), 0);
        snprintf(sql, sizeof(sql), "DROP TRIGGER audit_log_no_update;"
                 "UPDATE audit_log SET outcome = 'ok', hash = '%s' WHERE id = 7", h);
        assert_int_equal(exec_sql(path, sql), SQLITE_OK);
    }
    verify_fails(gs, 8, "previous hash");
    weir_govstore_close(gs);

    /* A row deleted in the middle. */
    gs = fresh(path, sizeof(path), 10);
    assert_int_equal(exec_sql(path, "DROP TRIGGER audit_log_no_delete;"
                                    "DELETE FROM audit_log WHERE id = 4"),
                     SQLITE_OK);
    verify_fails(gs, 5, "missing");
    weir_govstore_close(gs);

    /* The newest rows deleted: the head no longer matches. */
    gs = fresh(path, sizeof(path), 10);
    assert_int_equal(exec_sql(path, "DROP TRIGGER audit_log_no_delete;"
                                    "DELETE FROM audit_log WHERE id >= 9"),
                     SQLITE_OK);
    verify_fails(gs, 9, "head");
    /* Appending after tampering continues from the head; still detected. */
    {
        weir_audit_row_t r = {0, 1, "User:x", "a", "t", "ok", ""};
        assert_int_equal(weir_govstore_audit_append(gs, &r), 0);
        assert_int_equal(r.id, 11);
    }
    verify_fails(gs, 11, "missing");
    weir_govstore_close(gs);
}

typedef struct rows_s {
    weir_audit_row_t v[16];
    char *strs[16][5];
    int n;
} rows_t;

static void
collect(void *arg, const weir_audit_row_t *row)
{
    rows_t *r = arg;
    int i = r->n++;

    r->v[i] = *row;
    r->strs[i][0] = weir_strdup(row->principal);
    r->strs[i][1] = weir_strdup(row->action);
    r->strs[i][2] = weir_strdup(row->target);
    r->strs[i][3] = weir_strdup(row->outcome);
    r->strs[i][4] = weir_strdup(row->detail);
}

static void
test_hostile_rows(void **state)
{
    char path[128], binary[255], *longs;
    const char *values[5];
    weir_govstore_t *gs = fresh(path, sizeof(path), 0);
    weir_audit_verify_t v;
    rows_t got = {0};

    (void)state;
    for (int i = 0; i < 254; i++)
        binary[i] = (char)(i + 1);
    binary[254] = '\0';
    longs = weir_malloc(200001);
    memset(longs, 'Q', 200000);
    longs[200000] = '\0';
    values[0] = "x'); DELETE FROM audit_log; --";
    values[1] = binary;
    values[2] = longs;
    values[3] = "\xe6\x97\xa5\xe6\x9c\xac \xF0\x9F\x94\x92 \"quoted\" \\back";
    values[4] = "";
    for (int i = 0; i < 5; i++) {
        weir_audit_row_t r = {0, -5, values[i], values[(i + 1) % 5], values[(i + 2) % 5],
                              values[(i + 3) % 5], values[(i + 4) % 5]};
        assert_int_equal(weir_govstore_audit_append(gs, &r), 0);
    }
    assert_int_equal(weir_govstore_audit_list(gs, 0, 100, collect, &got), 0);
    assert_int_equal(got.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(got.v[i].id, i + 1);
        assert_int_equal(got.v[i].ts_ms, -5);
        for (int k = 0; k < 5; k++)
            assert_string_equal(got.strs[i][k], values[(i + k) % 5]);
    }
    /* list pages by id. */
    for (int i = 0; i < got.n; i++)
        for (int k = 0; k < 5; k++)
            free(got.strs[i][k]);
    got.n = 0;
    assert_int_equal(weir_govstore_audit_list(gs, 3, 1, collect, &got), 0);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.v[0].id, 4);
    for (int k = 0; k < 5; k++)
        free(got.strs[0][k]);
    assert_int_equal(weir_govstore_audit_verify(gs, &v), 0);
    assert_true(v.ok);
    assert_int_equal(v.rows, 5);
    free(longs);
    weir_govstore_close(gs);
}

static void
test_limiter(void **state)
{
    weir_audit_limiter_t *l = weir_audit_limiter_new(60000, 5);
    int64_t sup;
    char key[32];

    (void)state;
    assert_true(weir_audit_limiter_admit(l, "k1", 2, 1000, &sup));
    assert_int_equal(sup, 0);
    for (int i = 0; i < 10; i++)
        assert_false(weir_audit_limiter_admit(l, "k1", 2, 1000 + i, &sup));
    /* Another key is its own. */
    assert_true(weir_audit_limiter_admit(l, "k2", 2, 1010, &sup));
    /* After the interval: admitted, with the repeats counted. */
    assert_false(weir_audit_limiter_admit(l, "k1", 2, 60999, &sup));
    assert_true(weir_audit_limiter_admit(l, "k1", 2, 61000, &sup));
    assert_int_equal(sup, 11);
    assert_int_equal(weir_audit_limiter_take_dropped(l), 0);

    /* Global burst: 5 records per second, the rest dropped and counted. */
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "burst-%d", i);
        if (i < 5)
            assert_true(weir_audit_limiter_admit(l, key, strlen(key), 200000, &sup));
        else
            assert_false(weir_audit_limiter_admit(l, key, strlen(key), 200000, &sup));
    }
    assert_int_equal(weir_audit_limiter_take_dropped(l), 15);
    assert_int_equal(weir_audit_limiter_take_dropped(l), 0);
    /* The next second has room again; a dropped key was never recorded. */
    assert_true(weir_audit_limiter_admit(l, "burst-7", 7, 201000, &sup));
    weir_audit_limiter_free(l);

    /* Many keys: the table starts over when full and keeps working. */
    l = weir_audit_limiter_new(60000, 1000000);
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_true(weir_audit_limiter_admit(l, key, strlen(key), 5000, &sup));
    }
    assert_false(weir_audit_limiter_admit(l, "key-19999", 9, 5001, &sup));
    weir_audit_limiter_free(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_verify_and_tamper),
        cmocka_unit_test(test_hostile_rows),
        cmocka_unit_test(test_limiter),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
