/*
 * weir_store.c: the SQLite database behind weir_store.h - connection set-up
 * (WAL, synchronous=NORMAL, foreign keys, busy timeout), the numbered schema
 * migrations, and the topic catalogue and producer-id statements.  Every
 * statement is prepared once at open and reset after each use; every write
 * runs in its own transaction.
 */
#include "weir_store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "weir_common.h"
#include "weir_log.h"
#include "weir_store_int.h"
#include "weir_store_registry.h"

/*
 * Schema migrations.  Entry i takes the database from user_version i to
 * i + 1; each runs in one transaction together with the user_version bump,
 * so a crash leaves the database at a whole version.  Never edit an entry
 * that has shipped: append a new one.
 */
static const char *const weir_store_migrations[] = {
    /* 1: topic catalogue, per-topic config overrides, counters. */
    "CREATE TABLE topics ("
    "  name       TEXT PRIMARY KEY NOT NULL,"
    "  topic_id   TEXT NOT NULL UNIQUE,"
    "  partitions INTEGER NOT NULL CHECK (partitions > 0),"
    "  created_ms INTEGER NOT NULL"
    ");"
    "CREATE TABLE topic_configs ("
    "  topic TEXT NOT NULL REFERENCES topics(name) ON DELETE CASCADE,"
    "  key   TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (topic, key)"
    ");"
    "CREATE TABLE meta ("
    "  key   TEXT PRIMARY KEY NOT NULL,"
    "  value INTEGER NOT NULL"
    ");"
    "INSERT INTO meta (key, value) VALUES ('next_producer_id', 0);",
    /* 2: consumer-group committed offsets, and what the coordinator must
     * remember about a group across restarts for offset retention. */
    "CREATE TABLE offsets ("
    "  group_id         TEXT NOT NULL,"
    "  topic            TEXT NOT NULL,"
    "  partition        INTEGER NOT NULL,"
    "  committed_offset INTEGER NOT NULL,"
    "  leader_epoch     INTEGER NOT NULL,"
    "  metadata         TEXT NOT NULL,"
    "  commit_ms        INTEGER NOT NULL,"
    "  PRIMARY KEY (group_id, topic, partition)"
    ");"
    "CREATE TABLE consumer_groups ("
    "  group_id       TEXT PRIMARY KEY NOT NULL,"
    "  protocol_type  TEXT NOT NULL,"
    "  empty_since_ms INTEGER"
    ");",
    /* 3: governance (weir_store_governance.c): ACL bindings, tenants and
     * their prefixes, per-principal quota overrides, requests and their
     * decisions, and the hash-chained, append-only audit log with its
     * head. */
    WEIR_STORE_GOVERNANCE_MIGRATION_3,
    /* 4: Schema Registry (weir_store_registry.c): schemas by global id,
     * subject versions, per-subject configuration and policy. */
    WEIR_STORE_REGISTRY_MIGRATION,
};

#define WEIR_STORE_VERSION ((int)WEIR_ARRAY_SIZE(weir_store_migrations))
#define WEIR_STORE_BUSY_TIMEOUT_MS 5000

struct weir_store_s {
    sqlite3 *db;
    sqlite3_stmt *begin;
    sqlite3_stmt *commit;
    sqlite3_stmt *rollback;
    sqlite3_stmt *topics_select;
    sqlite3_stmt *configs_select;
    sqlite3_stmt *topic_exists;
    sqlite3_stmt *topic_insert;
    sqlite3_stmt *topic_delete;
    sqlite3_stmt *topic_set_partitions;
    sqlite3_stmt *config_insert;
    sqlite3_stmt *configs_delete;
    sqlite3_stmt *pid_reserve;
    sqlite3_stmt *offsets_select;
    sqlite3_stmt *offset_upsert;
    sqlite3_stmt *offset_delete;
    sqlite3_stmt *offset_delete_if;
    sqlite3_stmt *offsets_delete_group;
    sqlite3_stmt *groups_select;
    sqlite3_stmt *group_upsert;
    sqlite3_stmt *group_delete;
    char errmsg[256]; /* SQLite's message for the last failed step */
};

/* Every prepared statement, for open and close. */
static const struct {
    size_t offset;
    const char *sql;
} weir_store_stmts[] = {
    {offsetof(weir_store_t, begin), "BEGIN IMMEDIATE"},
    {offsetof(weir_store_t, commit), "COMMIT"},
    {offsetof(weir_store_t, rollback), "ROLLBACK"},
    {offsetof(weir_store_t, topics_select),
     "SELECT name, topic_id, partitions FROM topics ORDER BY name"},
    {offsetof(weir_store_t, configs_select),
     "SELECT key, value FROM topic_configs WHERE topic = ?1 ORDER BY key"},
    {offsetof(weir_store_t, topic_exists), "SELECT 1 FROM topics WHERE name = ?1"},
    {offsetof(weir_store_t, topic_insert),
     "INSERT INTO topics (name, topic_id, partitions, created_ms) VALUES (?1, ?2, ?3, ?4)"},
    {offsetof(weir_store_t, topic_delete), "DELETE FROM topics WHERE name = ?1"},
    {offsetof(weir_store_t, topic_set_partitions),
     "UPDATE topics SET partitions = ?2 WHERE name = ?1"},
    {offsetof(weir_store_t, config_insert),
     "INSERT INTO topic_configs (topic, key, value) VALUES (?1, ?2, ?3)"},
    {offsetof(weir_store_t, configs_delete), "DELETE FROM topic_configs WHERE topic = ?1"},
    {offsetof(weir_store_t, pid_reserve),
     "UPDATE meta SET value = value + ?1"
     " WHERE key = 'next_producer_id' AND value <= 9223372036854775807 - ?1"
     " RETURNING value - ?1"},
    {offsetof(weir_store_t, offsets_select),
     "SELECT group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_ms"
     " FROM offsets"},
    {offsetof(weir_store_t, offset_upsert),
     "INSERT INTO offsets (group_id, topic, partition, committed_offset, leader_epoch, metadata,"
     " commit_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
     " ON CONFLICT (group_id, topic, partition) DO UPDATE SET"
     " committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch,"
     " metadata = excluded.metadata, commit_ms = excluded.commit_ms"},
    {offsetof(weir_store_t, offset_delete),
     "DELETE FROM offsets WHERE group_id = ?1 AND topic = ?2 AND partition = ?3"},
    {offsetof(weir_store_t, offset_delete_if),
     "DELETE FROM offsets WHERE group_id = ?1 AND topic = ?2 AND partition = ?3"
     " AND commit_ms <= ?4"},
    {offsetof(weir_store_t, offsets_delete_group), "DELETE FROM offsets WHERE group_id = ?1"},
    {offsetof(weir_store_t, groups_select),
     "SELECT group_id, protocol_type, empty_since_ms FROM consumer_groups"},
    {offsetof(weir_store_t, group_upsert),
     "INSERT INTO consumer_groups (group_id, protocol_type, empty_since_ms) VALUES (?1, ?2, ?3)"
     " ON CONFLICT (group_id) DO UPDATE SET protocol_type = excluded.protocol_type,"
     " empty_since_ms = excluded.empty_since_ms"},
    {offsetof(weir_store_t, group_delete), "DELETE FROM consumer_groups WHERE group_id = ?1"},
};

static sqlite3_stmt **
weir_store_stmt_slot(weir_store_t *st, size_t i)
{
    return (sqlite3_stmt **)((char *)st + weir_store_stmts[i].offset);
}

static void __attribute__((format(printf, 3, 4)))
weir_store_err(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;

    if (!err || errsz == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

/* Keeps SQLite's message for a failed step; called before the statement is
 * reset. */
static void
weir_store_note(weir_store_t *st)
{
    snprintf(st->errmsg, sizeof(st->errmsg), "%s", sqlite3_errmsg(st->db));
}

/* Logs a failed step noted with weir_store_note (never the bound values) and
 * returns WEIR_ERR. */
static int
weir_store_fail(weir_store_t *st, const char *op, int rc)
{
    WEIR_LOG(WEIR_LOG_ERROR, "store_error", "op=%s rc=%d msg=\"%s\"", op, rc, st->errmsg);
    return WEIR_ERR;
}

/* Steps stmt to completion (no rows expected), then resets it.  Returns
 * SQLITE_OK or the (extended) error code of the step. */
static int
weir_store_exec(weir_store_t *st, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);

    if (rc != SQLITE_DONE)
        weir_store_note(st);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
weir_store_begin(weir_store_t *st, const char *op)
{
    int rc = weir_store_exec(st, st->begin);

    return rc == SQLITE_OK ? 0 : weir_store_fail(st, op, rc);
}

static int
weir_store_commit(weir_store_t *st, const char *op)
{
    int rc = weir_store_exec(st, st->commit);

    if (rc == SQLITE_OK)
        return 0;
    weir_store_fail(st, op, rc);
    if (!sqlite3_get_autocommit(st->db))
        weir_store_exec(st, st->rollback);
    return WEIR_ERR;
}

static void
weir_store_rollback(weir_store_t *st)
{
    if (!sqlite3_get_autocommit(st->db))
        weir_store_exec(st, st->rollback);
}

/* Runs a PRAGMA (or other statement) once, with an optional single-value
 * result copied into out. */
static int
weir_store_pragma(sqlite3 *db, const char *sql, char *out, size_t out_size)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(stmt, 0);

        if (out)
            snprintf(out, out_size, "%s", t ? (const char *)t : "");
        rc = sqlite3_step(stmt);
    } else if (out && out_size) {
        out[0] = '\0';
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
weir_store_migrate(sqlite3 *db, const char *path, char *errstr, size_t errstr_size)
{
    char buf[32], sql[64];
    int version, rc;

    rc = weir_store_pragma(db, "PRAGMA user_version", buf, sizeof(buf));
    if (rc != SQLITE_OK) {
        weir_store_err(errstr, errstr_size, "%s: reading the schema version: %s", path,
                       sqlite3_errmsg(db));
        return WEIR_ERR;
    }
    version = atoi(buf);
    if (version > WEIR_STORE_VERSION) {
        weir_store_err(errstr, errstr_size,
                       "%s: schema version %d is newer than this weir understands (%d)", path,
                       version, WEIR_STORE_VERSION);
        return WEIR_ERR;
    }
    for (; version < WEIR_STORE_VERSION; version++) {
        char *msg = NULL;

        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, weir_store_migrations[version], NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            weir_store_err(errstr, errstr_size, "%s: migration %d: %s", path, version + 1,
                           msg ? msg : sqlite3_errstr(rc));
            sqlite3_free(msg);
            if (!sqlite3_get_autocommit(db))
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return WEIR_ERR;
        }
        WEIR_LOG(WEIR_LOG_INFO, "store_migrated", "path=%s version=%d", path, version + 1);
    }
    return 0;
}

int
weir_store_open(const char *path, weir_store_t **out, char *errstr, size_t errstr_size)
{
    weir_store_t *st = weir_calloc(1, sizeof(*st));
    char mode[32];
    int rc;

    *out = NULL;
    rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        weir_store_err(errstr, errstr_size, "%s: %s", path,
                       st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, WEIR_STORE_BUSY_TIMEOUT_MS);

    rc = weir_store_pragma(st->db, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
    if (rc != SQLITE_OK || strcmp(mode, "wal") != 0) {
        weir_store_err(errstr, errstr_size, "%s: cannot enable WAL mode: %s", path,
                       rc != SQLITE_OK ? sqlite3_errmsg(st->db) : mode);
        goto fail;
    }
    rc = weir_store_pragma(st->db, "PRAGMA synchronous = NORMAL", NULL, 0);
    if (rc == SQLITE_OK)
        rc = weir_store_pragma(st->db, "PRAGMA foreign_keys = ON", NULL, 0);
    if (rc == SQLITE_OK)
        rc = weir_store_pragma(st->db, "PRAGMA foreign_keys", mode, sizeof(mode));
    if (rc != SQLITE_OK || strcmp(mode, "1") != 0) {
        weir_store_err(errstr, errstr_size, "%s: cannot set connection pragmas: %s", path,
                       rc != SQLITE_OK ? sqlite3_errmsg(st->db) : "foreign keys unsupported");
        goto fail;
    }
    if (weir_store_migrate(st->db, path, errstr, errstr_size) < 0)
        goto fail;

    for (size_t i = 0; i < WEIR_ARRAY_SIZE(weir_store_stmts); i++) {
        rc = sqlite3_prepare_v3(st->db, weir_store_stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                                weir_store_stmt_slot(st, i), NULL);
        if (rc != SQLITE_OK) {
            weir_store_err(errstr, errstr_size, "%s: preparing \"%s\": %s", path,
                           weir_store_stmts[i].sql, sqlite3_errmsg(st->db));
            goto fail;
        }
    }
    *out = st;
    return 0;

fail:
    WEIR_LOG(WEIR_LOG_ERROR, "store_open_failed", "reason=\"%s\"", errstr ? errstr : "");
    weir_store_close(st);
    return WEIR_ERR;
}

void
weir_store_close(weir_store_t *st)
{
    int rc;

    if (!st)
        return;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(weir_store_stmts); i++) {
        sqlite3_finalize(*weir_store_stmt_slot(st, i));
        *weir_store_stmt_slot(st, i) = NULL;
    }
    if (st->db) {
        rc = sqlite3_close(st->db);
        if (rc != SQLITE_OK)
            WEIR_LOG(WEIR_LOG_ERROR, "store_error", "op=close rc=%d msg=\"%s\"", rc,
                     sqlite3_errmsg(st->db));
    }
    free(st);
}

/* ------------------------------------------------------------------------ */
/* Topics                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct weir_store_topic_row_s {
    char *name;
    char *topic_id;
    int32_t partitions;
} weir_store_topic_row_t;

/* Reads the overrides of one topic into l (appended). */
static int
weir_store_configs_read(weir_store_t *st, const char *name, weir_kvlist_t *l)
{
    sqlite3_stmt *s = st->configs_select;
    int rc;

    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(s, 0);
        const char *v = (const char *)sqlite3_column_text(s, 1);

        weir_kvlist_set(l, k ? k : "", v ? v : "");
    }
    if (rc != SQLITE_DONE)
        weir_store_note(st);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : weir_store_fail(st, "topic_configs_load", rc);
}

int
weir_store_topics_load(weir_store_t *st, weir_store_topic_cb cb, void *arg)
{
    sqlite3_stmt *s = st->topics_select;
    weir_store_topic_row_t *rows = NULL;
    size_t n = 0, cap = 0;
    int rc, ret = 0;

    /* Collect first so the callback may call back into the store with no
     * statement left running. */
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        const char *id = (const char *)sqlite3_column_text(s, 1);

        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            rows = weir_realloc(rows, cap * sizeof(*rows));
        }
        rows[n].name = weir_strdup(name ? name : "");
        rows[n].topic_id = weir_strdup(id ? id : "");
        rows[n].partitions = (int32_t)sqlite3_column_int(s, 2);
        n++;
    }
    if (rc != SQLITE_DONE)
        weir_store_note(st);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        ret = weir_store_fail(st, "topics_load", rc);

    for (size_t i = 0; i < n && ret == 0; i++) {
        weir_kvlist_t configs = {0};

        ret = weir_store_configs_read(st, rows[i].name, &configs);
        if (ret == 0)
            cb(arg, rows[i].name, rows[i].topic_id, rows[i].partitions, &configs);
        weir_kvlist_free(&configs);
    }
    for (size_t i = 0; i < n; i++) {
        free(rows[i].name);
        free(rows[i].topic_id);
    }
    free(rows);
    return ret;
}

/* Inserts every override of configs for topic name (inside a transaction). */
static int
weir_store_configs_insert(weir_store_t *st, const char *name, const weir_kvlist_t *configs,
                          const char *op)
{
    sqlite3_stmt *s = st->config_insert;

    for (size_t i = 0; configs && i < configs->count; i++) {
        int rc;

        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, configs->items[i].key, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, configs->items[i].value, -1, SQLITE_STATIC);
        rc = weir_store_exec(st, s);
        if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return -EINVAL; /* the same key twice in one list */
        if (rc != SQLITE_OK)
            return weir_store_fail(st, op, rc);
    }
    return 0;
}

int
weir_store_topic_create(weir_store_t *st, const char *name, const char *topic_id,
                        int32_t partitions, const weir_kvlist_t *configs)
{
    sqlite3_stmt *s = st->topic_insert;
    int rc, ret;

    if (!name[0] || strlen(topic_id) != 22 || partitions < 1)
        return -EINVAL;
    if ((ret = weir_store_begin(st, "topic_create")) < 0)
        return ret;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, topic_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, partitions);
    sqlite3_bind_int64(s, 4, weir_wall_ms());
    rc = weir_store_exec(st, s);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        ret = -EEXIST;
    else if (rc != SQLITE_OK)
        ret = weir_store_fail(st, "topic_create", rc);
    else
        ret = weir_store_configs_insert(st, name, configs, "topic_create");
    if (ret < 0) {
        weir_store_rollback(st);
        return ret;
    }
    return weir_store_commit(st, "topic_create");
}

int
weir_store_topic_delete(weir_store_t *st, const char *name)
{
    int rc, ret;

    if ((ret = weir_store_begin(st, "topic_delete")) < 0)
        return ret;
    sqlite3_bind_text(st->topic_delete, 1, name, -1, SQLITE_STATIC);
    rc = weir_store_exec(st, st->topic_delete);
    if (rc != SQLITE_OK)
        ret = weir_store_fail(st, "topic_delete", rc);
    else if (sqlite3_changes(st->db) == 0)
        ret = -ENOENT;
    if (ret < 0) {
        weir_store_rollback(st);
        return ret;
    }
    return weir_store_commit(st, "topic_delete");
}

int
weir_store_topic_set_partitions(weir_store_t *st, const char *name, int32_t partitions)
{
    int rc, ret;

    if (partitions < 1)
        return -EINVAL;
    if ((ret = weir_store_begin(st, "topic_set_partitions")) < 0)
        return ret;
    sqlite3_bind_text(st->topic_set_partitions, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st->topic_set_partitions, 2, partitions);
    rc = weir_store_exec(st, st->topic_set_partitions);
    if (rc != SQLITE_OK)
        ret = weir_store_fail(st, "topic_set_partitions", rc);
    else if (sqlite3_changes(st->db) == 0)
        ret = -ENOENT;
    if (ret < 0) {
        weir_store_rollback(st);
        return ret;
    }
    return weir_store_commit(st, "topic_set_partitions");
}

int
weir_store_topic_set_configs(weir_store_t *st, const char *name, const weir_kvlist_t *configs)
{
    sqlite3_stmt *s = st->topic_exists;
    int rc, ret;

    if ((ret = weir_store_begin(st, "topic_set_configs")) < 0)
        return ret;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        weir_store_note(st);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc == SQLITE_DONE) {
        ret = -ENOENT;
    } else if (rc != SQLITE_ROW) {
        ret = weir_store_fail(st, "topic_set_configs", rc);
    } else {
        sqlite3_bind_text(st->configs_delete, 1, name, -1, SQLITE_STATIC);
        rc = weir_store_exec(st, st->configs_delete);
        if (rc != SQLITE_OK)
            ret = weir_store_fail(st, "topic_set_configs", rc);
        else
            ret = weir_store_configs_insert(st, name, configs, "topic_set_configs");
    }
    if (ret < 0) {
        weir_store_rollback(st);
        return ret;
    }
    return weir_store_commit(st, "topic_set_configs");
}

/* ------------------------------------------------------------------------ */
/* Producer ids                                                             */
/* ------------------------------------------------------------------------ */

int64_t
weir_store_reserve_producer_ids(weir_store_t *st, int32_t count)
{
    sqlite3_stmt *s = st->pid_reserve;
    int64_t first = -1;
    int rc, ret;

    if (count < 1)
        return -EINVAL;
    if ((ret = weir_store_begin(st, "reserve_producer_ids")) < 0)
        return ret;
    sqlite3_bind_int64(s, 1, count);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        first = sqlite3_column_int64(s, 0);
        rc = sqlite3_step(s);
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_FULL; /* no row updated: the counter would overflow */
    }
    if (rc != SQLITE_DONE && rc != SQLITE_FULL)
        weir_store_note(st);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc == SQLITE_FULL) {
        weir_store_rollback(st);
        WEIR_LOG(WEIR_LOG_ERROR, "store_error", "op=reserve_producer_ids msg=\"%s\"",
                 "producer id space exhausted");
        return -EOVERFLOW;
    }
    if (rc != SQLITE_DONE) {
        ret = weir_store_fail(st, "reserve_producer_ids", rc);
        weir_store_rollback(st);
        return ret;
    }
    if ((ret = weir_store_commit(st, "reserve_producer_ids")) < 0)
        return ret;
    return first;
}

/* ------------------------------------------------------------------------ */
/* Consumer-group offsets                                                   */
/* ------------------------------------------------------------------------ */

int
weir_store_set_durable(weir_store_t *st)
{
    int rc = weir_store_pragma(st->db, "PRAGMA synchronous = FULL", NULL, 0);

    if (rc != SQLITE_OK) {
        weir_store_note(st);
        return weir_store_fail(st, "set_durable", rc);
    }
    return 0;
}

int
weir_store_offsets_load(weir_store_t *st, weir_store_offset_cb cb, void *arg)
{
    sqlite3_stmt *s = st->offsets_select;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        weir_store_offset_t o;
        const char *g = (const char *)sqlite3_column_text(s, 0);
        const char *t = (const char *)sqlite3_column_text(s, 1);
        const char *m = (const char *)sqlite3_column_text(s, 5);

        o.group_id = g ? g : "";
        o.topic = t ? t : "";
        o.partition = (int32_t)sqlite3_column_int(s, 2);
        o.offset = sqlite3_column_int64(s, 3);
        o.leader_epoch = (int32_t)sqlite3_column_int(s, 4);
        o.metadata = m ? m : "";
        o.metadata_len = m ? sqlite3_column_bytes(s, 5) : 0;
        o.commit_ms = sqlite3_column_int64(s, 6);
        cb(arg, &o);
    }
    if (rc != SQLITE_DONE)
        weir_store_note(st);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : weir_store_fail(st, "offsets_load", rc);
}

int
weir_store_groups_load(weir_store_t *st, weir_store_group_cb cb, void *arg)
{
    sqlite3_stmt *s = st->groups_select;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *g = (const char *)sqlite3_column_text(s, 0);
        const char *pt = (const char *)sqlite3_column_text(s, 1);
        int64_t since = sqlite3_column_type(s, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 2);

        cb(arg, g ? g : "", pt ? pt : "", since);
    }
    if (rc != SQLITE_DONE)
        weir_store_note(st);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : weir_store_fail(st, "groups_load", rc);
}

int
weir_store_batch_begin(weir_store_t *st)
{
    return weir_store_begin(st, "batch_begin");
}

int
weir_store_batch_commit(weir_store_t *st)
{
    return weir_store_commit(st, "batch_commit");
}

void
weir_store_batch_rollback(weir_store_t *st)
{
    weir_store_rollback(st);
}

int
weir_store_offset_put(weir_store_t *st, const weir_store_offset_t *o)
{
    sqlite3_stmt *s = st->offset_upsert;
    int rc;

    if (o->metadata_len < 0)
        return -EINVAL;
    sqlite3_bind_text(s, 1, o->group_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, o->topic, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, o->partition);
    sqlite3_bind_int64(s, 4, o->offset);
    sqlite3_bind_int(s, 5, o->leader_epoch);
    sqlite3_bind_text(s, 6, o->metadata ? o->metadata : "", o->metadata ? o->metadata_len : 0,
                      SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, o->commit_ms);
    rc = weir_store_exec(st, s);
    return rc == SQLITE_OK ? 0 : weir_store_fail(st, "offset_put", rc);
}

int
weir_store_offset_delete(weir_store_t *st, const char *group_id, const char *topic,
                         int32_t partition, int64_t if_commit_ms)
{
    sqlite3_stmt *s = if_commit_ms >= 0 ? st->offset_delete_if : st->offset_delete;
    int rc;

    sqlite3_bind_text(s, 1, group_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, topic, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, partition);
    if (if_commit_ms >= 0)
        sqlite3_bind_int64(s, 4, if_commit_ms);
    rc = weir_store_exec(st, s);
    return rc == SQLITE_OK ? 0 : weir_store_fail(st, "offset_delete", rc);
}

int
weir_store_group_delete(weir_store_t *st, const char *group_id)
{
    int rc;

    sqlite3_bind_text(st->offsets_delete_group, 1, group_id, -1, SQLITE_STATIC);
    rc = weir_store_exec(st, st->offsets_delete_group);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st->group_delete, 1, group_id, -1, SQLITE_STATIC);
        rc = weir_store_exec(st, st->group_delete);
    }
    return rc == SQLITE_OK ? 0 : weir_store_fail(st, "group_delete", rc);
}

int
weir_store_group_put(weir_store_t *st, const char *group_id, const char *protocol_type,
                     int64_t empty_since_ms)
{
    sqlite3_stmt *s = st->group_upsert;
    int rc;

    sqlite3_bind_text(s, 1, group_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, protocol_type, -1, SQLITE_STATIC);
    if (empty_since_ms >= 0)
        sqlite3_bind_int64(s, 3, empty_since_ms);
    else
        sqlite3_bind_null(s, 3);
    rc = weir_store_exec(st, s);
    return rc == SQLITE_OK ? 0 : weir_store_fail(st, "group_put", rc);
}

/* ------------------------------------------------------------------------ */
/* For the other governance/ files (weir_store_int.h)                       */
/* ------------------------------------------------------------------------ */

sqlite3 *
weir__store_db(weir_store_t *st)
{
    return st->db;
}
