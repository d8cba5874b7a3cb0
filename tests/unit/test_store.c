/*
 * test_store.c: unit tests of the SQLite store (governance/weir_store.c) on
 * real database files in a temp directory: schema migration and its version,
 * connection settings, the topic catalogue (create, list, configs,
 * partitions, delete with its configs), producer-id reservation, and that
 * everything survives closing and reopening the database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "weir_common.h"
#include "weir_store.h"

#define ID_A "AAAAAAAAAAAAAAAAAAAAAA"
#define ID_B "BBBBBBBBBBBBBBBBBBBBBB"
#define ID_C "CCCCCCCCCCCCCCCCCCCCCC"

static char tmpdir[64];
static char dbpath[128];
static int db_seq;

/* A fresh database path for each test. */
static const char *
new_db_path(void)
{
    snprintf(dbpath, sizeof(dbpath), "%s/weir-%d.db", tmpdir, ++db_seq);
    return dbpath;
}

static weir_store_t *
open_ok(const char *path)
{
    weir_store_t *st = NULL;
    char err[512] = "";

    if (weir_store_open(path, &st, err, sizeof(err)) != 0)
        fail_msg("open %s: %s", path, err);
    assert_non_null(st);
    return st;
}

/* Runs one query returning one integer, on a separate connection. */
static int64_t
query_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int64_t v = -12345;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void
exec_sql(const char *path, const char *sql)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* What weir_store_topics_load reported. */
typedef struct loaded_s {
    int n;
    char names[8][64];
    char ids[8][32];
    int32_t partitions[8];
    weir_kvlist_t configs[8];
    weir_store_t *reenter; /* if set, the callback writes to the store */
} loaded_t;

static void
load_cb(void *arg, const char *name, const char *topic_id, int32_t partitions,
        const weir_kvlist_t *configs)
{
    loaded_t *l = arg;

    assert_true(l->n < 8);
    snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
    snprintf(l->ids[l->n], sizeof(l->ids[0]), "%s", topic_id);
    l->partitions[l->n] = partitions;
    weir_kvlist_copy(&l->configs[l->n], configs);
    l->n++;
    if (l->reenter)
        assert_int_equal(weir_store_topic_set_partitions(l->reenter, name, partitions + 1), 0);
}

static void
loaded_free(loaded_t *l)
{
    for (int i = 0; i < l->n; i++)
        weir_kvlist_free(&l->configs[i]);
    memset(l, 0, sizeof(*l));
}

static void
test_open_migrates(void **state)
{
    const char *path = new_db_path();
    char copy[128];
    weir_store_t *st;

    (void)state;
    snprintf(copy, sizeof(copy), "%s", path);
    st = open_ok(copy);
    assert_int_equal(query_int(copy, "PRAGMA user_version"), 4);
    assert_int_equal(query_int(copy, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                     "AND name IN ('topics', 'topic_configs', 'meta')"),
                     3);
    assert_int_equal(query_int(copy, "SELECT value FROM meta WHERE key = 'next_producer_id'"), 0);
    /* WAL is a property of the file: a second connection sees it. */
    {
        sqlite3 *db;
        sqlite3_stmt *s;

        assert_int_equal(sqlite3_open_v2(copy, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
        sqlite3_finalize(s);
        sqlite3_close(db);
    }
    weir_store_close(st);

    /* Reopening an existing database does not migrate again (the counter
     * row would be reset or the CREATE TABLE would fail). */
    exec_sql(copy, "UPDATE meta SET value = 77 WHERE key = 'next_producer_id'");
    st = open_ok(copy);
    assert_int_equal(query_int(copy, "PRAGMA user_version"), 4);
    assert_int_equal(weir_store_reserve_producer_ids(st, 1), 77);
    weir_store_close(st);
    weir_store_close(NULL);
}

static void
test_open_errors(void **state)
{
    weir_store_t *st = (weir_store_t *)&st;
    char err[512] = "", path[128], want[256];
    FILE *fp;

    (void)state;
    /* A database from a newer Weir. */
    snprintf(path, sizeof(path), "%s", new_db_path());
    weir_store_close(open_ok(path));
    exec_sql(path, "PRAGMA user_version = 99");
    assert_int_equal(weir_store_open(path, &st, err, sizeof(err)), WEIR_ERR);
    assert_null(st);
    snprintf(want, sizeof(want), "%s: schema version 99 is newer than this weir understands (4)",
             path);
    assert_string_equal(err, want);

    /* Not a database. */
    snprintf(path, sizeof(path), "%s/garbage.db", tmpdir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database file. ", fp);
    fclose(fp);
    assert_int_equal(weir_store_open(path, &st, err, sizeof(err)), WEIR_ERR);
    assert_null(st);
    assert_non_null(strstr(err, "file is not a database"));

    /* A directory that does not exist. */
    assert_int_equal(weir_store_open("/nonexistent/dir/weir.db", &st, err, sizeof(err)),
                     WEIR_ERR);
    assert_null(st);
    assert_non_null(strstr(err, "/nonexistent/dir/weir.db: "));
}

static void
test_topics(void **state)
{
    char path[128];
    weir_store_t *st;
    weir_kvlist_t cfg = {0};
    loaded_t l = {0};

    (void)state;
    snprintf(path, sizeof(path), "%s", new_db_path());
    st = open_ok(path);

    assert_int_equal(weir_store_topics_load(st, load_cb, &l), 0);
    assert_int_equal(l.n, 0);

    weir_kvlist_set(&cfg, "retention.ms", "1000");
    weir_kvlist_set(&cfg, "cleanup.policy", "delete");
    assert_int_equal(weir_store_topic_create(st, "orders", ID_A, 3, &cfg), 0);
    assert_int_equal(weir_store_topic_create(st, "audit", ID_B, 1, NULL), 0);
    /* Duplicates: same name, or same topic id. */
    assert_int_equal(weir_store_topic_create(st, "orders", ID_C, 1, NULL), -EEXIST);
    assert_int_equal(weir_store_topic_create(st, "other", ID_A, 1, NULL), -EEXIST);
    /* Bad arguments. */
    assert_int_equal(weir_store_topic_create(st, "", ID_C, 1, NULL), -EINVAL);
    assert_int_equal(weir_store_topic_create(st, "x", "short", 1, NULL), -EINVAL);
    assert_int_equal(weir_store_topic_create(st, "x", ID_C, 0, NULL), -EINVAL);
    /* The failed creations left nothing behind. */
    assert_int_equal(query_int(path, "SELECT count(*) FROM topics"), 2);
    assert_int_equal(query_int(path, "SELECT count(*) FROM topic_configs"), 2);

    assert_int_equal(weir_store_topics_load(st, load_cb, &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.names[0], "audit"); /* ordered by name */
    assert_string_equal(l.ids[0], ID_B);
    assert_int_equal(l.partitions[0], 1);
    assert_int_equal(l.configs[0].count, 0);
    assert_string_equal(l.names[1], "orders");
    assert_string_equal(l.ids[1], ID_A);
    assert_int_equal(l.partitions[1], 3);
    assert_int_equal(l.configs[1].count, 2);
    assert_string_equal(weir_kvlist_get(&l.configs[1], "retention.ms"), "1000");
    assert_string_equal(weir_kvlist_get(&l.configs[1], "cleanup.policy"), "delete");
    loaded_free(&l);

    /* Partitions. */
    assert_int_equal(weir_store_topic_set_partitions(st, "orders", 6), 0);
    assert_int_equal(weir_store_topic_set_partitions(st, "nope", 6), -ENOENT);
    assert_int_equal(weir_store_topic_set_partitions(st, "orders", 0), -EINVAL);

    /* Configs are replaced as a whole. */
    weir_kvlist_free(&cfg);
    weir_kvlist_set(&cfg, "segment.bytes", "1048576");
    assert_int_equal(weir_store_topic_set_configs(st, "orders", &cfg), 0);
    assert_int_equal(weir_store_topic_set_configs(st, "nope", &cfg), -ENOENT);
    assert_int_equal(weir_store_topic_set_configs(st, "audit", NULL), 0);
    assert_int_equal(weir_store_topics_load(st, load_cb, &l), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.partitions[1], 6);
    assert_int_equal(l.configs[1].count, 1);
    assert_string_equal(weir_kvlist_get(&l.configs[1], "segment.bytes"), "1048576");
    assert_null(weir_kvlist_get(&l.configs[1], "retention.ms"));
    loaded_free(&l);

    /* Delete removes the topic and, by cascade, its configs. */
    assert_int_equal(weir_store_topic_delete(st, "orders"), 0);
    assert_int_equal(weir_store_topic_delete(st, "orders"), -ENOENT);
    assert_int_equal(query_int(path, "SELECT count(*) FROM topic_configs"), 0);
    assert_int_equal(weir_store_topics_load(st, load_cb, &l), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.names[0], "audit");
    loaded_free(&l);

    /* A name can be reused after deletion, with a new id. */
    assert_int_equal(weir_store_topic_create(st, "orders", ID_C, 2, &cfg), 0);
    weir_store_close(st);

    /* Everything survives a reopen. */
    st = open_ok(path);
    assert_int_equal(weir_store_topics_load(st, load_cb, &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.names[1], "orders");
    assert_string_equal(l.ids[1], ID_C);
    assert_int_equal(l.partitions[1], 2);
    assert_string_equal(weir_kvlist_get(&l.configs[1], "segment.bytes"), "1048576");
    loaded_free(&l);

    /* The callback may write to the store while topics are being loaded. */
    l.reenter = st;
    assert_int_equal(weir_store_topics_load(st, load_cb, &l), 0);
    assert_int_equal(l.n, 2);
    loaded_free(&l);
    assert_int_equal(weir_store_topics_load(st, load_cb, &l), 0);
    assert_int_equal(l.partitions[0], 2);
    assert_int_equal(l.partitions[1], 3);
    loaded_free(&l);

    weir_kvlist_free(&cfg);
    weir_store_close(st);
}

static void
test_producer_ids(void **state)
{
    char path[128];
    weir_store_t *st;

    (void)state;
    snprintf(path, sizeof(path), "%s", new_db_path());
    st = open_ok(path);
    assert_int_equal(weir_store_reserve_producer_ids(st, 1), 0);
    assert_int_equal(weir_store_reserve_producer_ids(st, 1000), 1);
    assert_int_equal(weir_store_reserve_producer_ids(st, 1), 1001);
    assert_int_equal(weir_store_reserve_producer_ids(st, 0), -EINVAL);
    assert_int_equal(weir_store_reserve_producer_ids(st, -3), -EINVAL);
    weir_store_close(st);

    /* Unique for the life of the database: continues after a reopen. */
    st = open_ok(path);
    assert_int_equal(weir_store_reserve_producer_ids(st, 10), 1002);
    assert_int_equal(weir_store_reserve_producer_ids(st, 1), 1012);
    weir_store_close(st);
    assert_int_equal(query_int(path, "SELECT value FROM meta WHERE key = 'next_producer_id'"),
                     1013);

    /* The counter never wraps. */
    exec_sql(path, "UPDATE meta SET value = 9223372036854775800 WHERE key = 'next_producer_id'");
    st = open_ok(path);
    assert_true(weir_store_reserve_producer_ids(st, 7) == INT64_C(9223372036854775800));
    assert_int_equal(weir_store_reserve_producer_ids(st, 1), -EOVERFLOW);
    weir_store_close(st);
}

static void
test_two_stores(void **state)
{
    char path[128];
    weir_store_t *a, *b;
    loaded_t l = {0};

    (void)state;
    /* Two connections to one file (what weirctl tooling or a crash-restart
     * overlap would do): writes by one are visible to the other. */
    snprintf(path, sizeof(path), "%s", new_db_path());
    a = open_ok(path);
    b = open_ok(path);
    assert_int_equal(weir_store_topic_create(a, "t", ID_A, 1, NULL), 0);
    assert_int_equal(weir_store_topics_load(b, load_cb, &l), 0);
    assert_int_equal(l.n, 1);
    loaded_free(&l);
    assert_int_equal(weir_store_reserve_producer_ids(a, 5), 0);
    assert_int_equal(weir_store_reserve_producer_ids(b, 5), 5);
    weir_store_close(a);
    weir_store_close(b);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/weir-test-store-XXXXXX");
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_migrates),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_producer_ids),
        cmocka_unit_test(test_two_stores),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
