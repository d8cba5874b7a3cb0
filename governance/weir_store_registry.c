/*
 * weir_store_registry.c: the Schema Registry's statements on weir.db (see
 * weir_store_registry.h): loading everything at start-up, and the writes of
 * registrations, deletes and configuration.  Prepared once, reset after
 * each use; strings are bound with their length.
 */
#include "weir_store_registry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "weir_common.h"
#include "weir_log.h"
#include "weir_store_int.h"

struct weir_regstore_s {
    sqlite3 *db;
    int depth; /* > 0 inside weir_regstore_begin */
    sqlite3_stmt *begin;
    sqlite3_stmt *commit;
    sqlite3_stmt *rollback;
    sqlite3_stmt *schemas_select;
    sqlite3_stmt *versions_select;
    sqlite3_stmt *configs_select;
    sqlite3_stmt *schema_insert;
    sqlite3_stmt *version_insert;
    sqlite3_stmt *version_set_deleted;
    sqlite3_stmt *version_delete;
    sqlite3_stmt *config_upsert;
    sqlite3_stmt *config_delete;
};

static const struct {
    size_t offset;
    const char *sql;
} weir_regstore_stmts[] = {
    {offsetof(weir_regstore_t, begin), "BEGIN IMMEDIATE"},
    {offsetof(weir_regstore_t, commit), "COMMIT"},
    {offsetof(weir_regstore_t, rollback), "ROLLBACK"},
    {offsetof(weir_regstore_t, schemas_select),
     "SELECT id, schema_type, schema_text, refs, identity FROM registry_schemas ORDER BY id"},
    {offsetof(weir_regstore_t, versions_select),
     "SELECT subject, version, schema_id, deleted FROM registry_versions"
     " ORDER BY subject, version"},
    {offsetof(weir_regstore_t, configs_select),
     "SELECT subject, compatibility, mode, compat_floor, approval FROM registry_config"
     " ORDER BY subject"},
    {offsetof(weir_regstore_t, schema_insert),
     "INSERT INTO registry_schemas (id, schema_type, schema_text, refs, identity, created_ms)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
    {offsetof(weir_regstore_t, version_insert),
     "INSERT INTO registry_versions (subject, version, schema_id, deleted, created_ms)"
     " VALUES (?1, ?2, ?3, ?4, ?5)"},
    {offsetof(weir_regstore_t, version_set_deleted),
     "UPDATE registry_versions SET deleted = ?3 WHERE subject = ?1 AND version = ?2"},
    {offsetof(weir_regstore_t, version_delete),
     "DELETE FROM registry_versions WHERE subject = ?1 AND version = ?2"},
    {offsetof(weir_regstore_t, config_upsert),
     "INSERT INTO registry_config (subject, compatibility, mode, compat_floor, approval)"
     " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (subject) DO UPDATE SET"
     " compatibility = excluded.compatibility, mode = excluded.mode,"
     " compat_floor = excluded.compat_floor, approval = excluded.approval"},
    {offsetof(weir_regstore_t, config_delete), "DELETE FROM registry_config WHERE subject = ?1"},
};

static sqlite3_stmt **
weir_regstore_slot(weir_regstore_t *rs, size_t i)
{
    return (sqlite3_stmt **)((char *)rs + weir_regstore_stmts[i].offset);
}

int
weir_regstore_open(weir_store_t *st, weir_regstore_t **out, char *errstr, size_t errstr_size)
{
    weir_regstore_t *rs = weir_calloc(1, sizeof(*rs));

    *out = NULL;
    rs->db = weir__store_db(st);
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(weir_regstore_stmts); i++) {
        int rc = sqlite3_prepare_v3(rs->db, weir_regstore_stmts[i].sql, -1,
                                    SQLITE_PREPARE_PERSISTENT, weir_regstore_slot(rs, i), NULL);

        if (rc != SQLITE_OK) {
            if (errstr && errstr_size)
                snprintf(errstr, errstr_size, "registry store: preparing \"%s\": %s",
                         weir_regstore_stmts[i].sql, sqlite3_errmsg(rs->db));
            weir_regstore_close(rs);
            return WEIR_ERR;
        }
    }
    *out = rs;
    return 0;
}

void
weir_regstore_close(weir_regstore_t *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(weir_regstore_stmts); i++)
        sqlite3_finalize(*weir_regstore_slot(rs, i));
    free(rs);
}

/* Logs a failed step (never bound values) and returns WEIR_ERR. */
static int
weir_regstore_fail(weir_regstore_t *rs, const char *op, int rc)
{
    WEIR_LOG(WEIR_LOG_ERROR, "store_error", "op=%s rc=%d msg=\"%s\"", op, rc,
             sqlite3_errmsg(rs->db));
    return WEIR_ERR;
}

/* Steps a statement expecting no rows; resets it.  Returns the SQLite code
 * (SQLITE_DONE mapped to SQLITE_OK). */
static int
weir_regstore_exec(weir_regstore_t *rs, sqlite3_stmt *s, const char *op)
{
    int rc = sqlite3_step(s);

    if (rc != SQLITE_DONE && (rc & 0xff) != SQLITE_CONSTRAINT)
        weir_regstore_fail(rs, op, rc);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int
weir_regstore_begin(weir_regstore_t *rs)
{
    if (rs->depth++ > 0)
        return 0;
    if (weir_regstore_exec(rs, rs->begin, "registry_begin") != SQLITE_OK) {
        rs->depth = 0;
        return WEIR_ERR;
    }
    return 0;
}

int
weir_regstore_commit(weir_regstore_t *rs)
{
    if (rs->depth == 0 || --rs->depth > 0)
        return 0;
    if (weir_regstore_exec(rs, rs->commit, "registry_commit") != SQLITE_OK) {
        if (!sqlite3_get_autocommit(rs->db))
            weir_regstore_exec(rs, rs->rollback, "registry_rollback");
        return WEIR_ERR;
    }
    return 0;
}

void
weir_regstore_rollback(weir_regstore_t *rs)
{
    rs->depth = 0;
    if (!sqlite3_get_autocommit(rs->db))
        weir_regstore_exec(rs, rs->rollback, "registry_rollback");
}

static const char *
weir_col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

int
weir_regstore_load(weir_regstore_t *rs,
                   void (*on_schema)(void *arg, const weir_regstore_schema_t *s),
                   void (*on_version)(void *arg, const weir_regstore_version_t *v),
                   void (*on_config)(void *arg, const weir_regstore_config_t *c), void *arg)
{
    sqlite3_stmt *s = rs->schemas_select;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        weir_regstore_schema_t row = {
            .id = (int32_t)sqlite3_column_int(s, 0),
            .schema_type = weir_col_text(s, 1),
            .schema_text = weir_col_text(s, 2),
            .refs = weir_col_text(s, 3),
            .identity = weir_col_text(s, 4),
        };

        on_schema(arg, &row);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return weir_regstore_fail(rs, "registry_load_schemas", rc);

    s = rs->versions_select;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        weir_regstore_version_t row = {
            .subject = weir_col_text(s, 0),
            .version = (int32_t)sqlite3_column_int(s, 1),
            .schema_id = (int32_t)sqlite3_column_int(s, 2),
            .deleted = sqlite3_column_int(s, 3) != 0,
        };

        on_version(arg, &row);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return weir_regstore_fail(rs, "registry_load_versions", rc);

    s = rs->configs_select;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        weir_regstore_config_t row = {
            .subject = weir_col_text(s, 0),
            .compatibility = weir_col_text(s, 1),
            .mode = weir_col_text(s, 2),
            .compat_floor = weir_col_text(s, 3),
            .approval = sqlite3_column_int(s, 4) != 0,
        };

        on_config(arg, &row);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return weir_regstore_fail(rs, "registry_load_config", rc);
    return 0;
}

static void
weir_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, (int)strlen(v), SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

/* Runs one write, in its own transaction unless one is open. */
static int
weir_regstore_write(weir_regstore_t *rs, sqlite3_stmt *s, const char *op, bool need_change)
{
    bool own = rs->depth == 0;
    int rc, ret = 0;

    if (own && weir_regstore_begin(rs) < 0) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return WEIR_ERR;
    }
    rc = weir_regstore_exec(rs, s, op);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        ret = -EEXIST;
    else if (rc != SQLITE_OK)
        ret = (rc & 0xff) == SQLITE_CONSTRAINT ? -EINVAL : WEIR_ERR;
    else if (need_change && sqlite3_changes(rs->db) == 0)
        ret = -ENOENT;
    if (!own)
        return ret;
    if (ret < 0) {
        weir_regstore_rollback(rs);
        return ret;
    }
    return weir_regstore_commit(rs);
}

int
weir_regstore_schema_insert(weir_regstore_t *rs, const weir_regstore_schema_t *row)
{
    sqlite3_stmt *s = rs->schema_insert;

    sqlite3_bind_int(s, 1, row->id);
    weir_bind_text(s, 2, row->schema_type);
    weir_bind_text(s, 3, row->schema_text);
    weir_bind_text(s, 4, row->refs ? row->refs : "[]");
    weir_bind_text(s, 5, row->identity);
    sqlite3_bind_int64(s, 6, weir_wall_ms());
    return weir_regstore_write(rs, s, "registry_schema_insert", false);
}

int
weir_regstore_version_insert(weir_regstore_t *rs, const weir_regstore_version_t *row)
{
    sqlite3_stmt *s = rs->version_insert;

    weir_bind_text(s, 1, row->subject);
    sqlite3_bind_int(s, 2, row->version);
    sqlite3_bind_int(s, 3, row->schema_id);
    sqlite3_bind_int(s, 4, row->deleted ? 1 : 0);
    sqlite3_bind_int64(s, 5, weir_wall_ms());
    return weir_regstore_write(rs, s, "registry_version_insert", false);
}

int
weir_regstore_version_set_deleted(weir_regstore_t *rs, const char *subject, int32_t version,
                                  bool deleted)
{
    sqlite3_stmt *s = rs->version_set_deleted;

    weir_bind_text(s, 1, subject);
    sqlite3_bind_int(s, 2, version);
    sqlite3_bind_int(s, 3, deleted ? 1 : 0);
    return weir_regstore_write(rs, s, "registry_version_set_deleted", true);
}

int
weir_regstore_version_delete(weir_regstore_t *rs, const char *subject, int32_t version)
{
    sqlite3_stmt *s = rs->version_delete;

    weir_bind_text(s, 1, subject);
    sqlite3_bind_int(s, 2, version);
    return weir_regstore_write(rs, s, "registry_version_delete", true);
}

int
weir_regstore_config_put(weir_regstore_t *rs, const weir_regstore_config_t *c)
{
    sqlite3_stmt *s;

    if (!c->compatibility && !c->mode && !c->compat_floor && !c->approval) {
        s = rs->config_delete;
        weir_bind_text(s, 1, c->subject);
        return weir_regstore_write(rs, s, "registry_config_delete", false);
    }
    s = rs->config_upsert;
    weir_bind_text(s, 1, c->subject);
    weir_bind_text(s, 2, c->compatibility);
    weir_bind_text(s, 3, c->mode);
    weir_bind_text(s, 4, c->compat_floor);
    sqlite3_bind_int(s, 5, c->approval ? 1 : 0);
    return weir_regstore_write(rs, s, "registry_config_put", false);
}
