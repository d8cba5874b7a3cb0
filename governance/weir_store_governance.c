/*
 * weir_store_governance.c: the SQL behind weir_store_governance.h - one
 * connection (opened and migrated by weir_store_open) with its own
 * prepared statements for ACL bindings, tenants, quota overrides,
 * requests, decisions and the audit log.  Every change writes its audit
 * row in the same transaction.
 */
#include "weir_store_governance.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "weir_common.h"
#include "weir_log.h"
#include "weir_store_int.h"

struct weir_govstore_s {
    weir_store_t *store;  /* the connection (migrations, pragmas) */
    sqlite3 *db;
    int depth;            /* 1 inside a transaction */
    sqlite3_stmt *begin;
    sqlite3_stmt *begin_read;
    sqlite3_stmt *commit;
    sqlite3_stmt *rollback;
    sqlite3_stmt *acl_select;
    sqlite3_stmt *acl_find;
    sqlite3_stmt *acl_insert;
    sqlite3_stmt *acl_get;
    sqlite3_stmt *acl_delete;
    sqlite3_stmt *tenants_select;
    sqlite3_stmt *tenant_get;
    sqlite3_stmt *prefixes_of;
    sqlite3_stmt *prefix_owner;
    sqlite3_stmt *tenant_upsert;
    sqlite3_stmt *prefixes_delete;
    sqlite3_stmt *prefix_insert;
    sqlite3_stmt *tenant_delete;
    sqlite3_stmt *overrides_select;
    sqlite3_stmt *override_upsert;
    sqlite3_stmt *override_delete;
    sqlite3_stmt *request_insert;
    sqlite3_stmt *request_get;
    sqlite3_stmt *requests_all;
    sqlite3_stmt *requests_by_state;
    sqlite3_stmt *request_set_state;
    sqlite3_stmt *decision_insert;
    sqlite3_stmt *decisions_select;
    sqlite3_stmt *audit_head_get;
    sqlite3_stmt *audit_insert;
    sqlite3_stmt *audit_head_set;
    sqlite3_stmt *audit_select;
    sqlite3_stmt *request_last_error;
};

#define GOV_ACL_COLS \
    "id, resource_type, pattern_type, resource_name, principal, host, operation, permission"
#define GOV_TENANT_COLS                                                                    \
    "name, ldap_group, max_partitions_per_topic, max_total_partitions, max_retention_ms," \
    " produce_byte_rate, fetch_byte_rate, direct_create"
#define GOV_REQUEST_COLS \
    "id, kind, state, tenant, requester, target, detail, reason, created_ms, updated_ms"

static const struct {
    size_t offset;
    const char *sql;
} weir_gov_stmts[] = {
    {offsetof(weir_govstore_t, begin), "BEGIN IMMEDIATE"},
    {offsetof(weir_govstore_t, begin_read), "BEGIN DEFERRED"},
    {offsetof(weir_govstore_t, commit), "COMMIT"},
    {offsetof(weir_govstore_t, rollback), "ROLLBACK"},
    {offsetof(weir_govstore_t, acl_select),
     "SELECT " GOV_ACL_COLS " FROM acl_bindings ORDER BY id"},
    {offsetof(weir_govstore_t, acl_find),
     "SELECT id FROM acl_bindings WHERE resource_type = ?1 AND pattern_type = ?2"
     " AND resource_name = ?3 AND principal = ?4 AND host = ?5 AND operation = ?6"
     " AND permission = ?7"},
    {offsetof(weir_govstore_t, acl_insert),
     "INSERT INTO acl_bindings (resource_type, pattern_type, resource_name, principal, host,"
     " operation, permission, created_ms, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
    {offsetof(weir_govstore_t, acl_get),
     "SELECT " GOV_ACL_COLS " FROM acl_bindings WHERE id = ?1"},
    {offsetof(weir_govstore_t, acl_delete), "DELETE FROM acl_bindings WHERE id = ?1"},
    {offsetof(weir_govstore_t, tenants_select),
     "SELECT " GOV_TENANT_COLS " FROM tenants ORDER BY name"},
    {offsetof(weir_govstore_t, tenant_get),
     "SELECT " GOV_TENANT_COLS " FROM tenants WHERE name = ?1"},
    {offsetof(weir_govstore_t, prefixes_of),
     "SELECT prefix FROM tenant_prefixes WHERE tenant = ?1 ORDER BY prefix"},
    {offsetof(weir_govstore_t, prefix_owner),
     "SELECT tenant FROM tenant_prefixes WHERE prefix = ?1"},
    {offsetof(weir_govstore_t, tenant_upsert),
     "INSERT INTO tenants (" GOV_TENANT_COLS ", updated_ms)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
     " ON CONFLICT (name) DO UPDATE SET ldap_group = excluded.ldap_group,"
     " max_partitions_per_topic = excluded.max_partitions_per_topic,"
     " max_total_partitions = excluded.max_total_partitions,"
     " max_retention_ms = excluded.max_retention_ms,"
     " produce_byte_rate = excluded.produce_byte_rate,"
     " fetch_byte_rate = excluded.fetch_byte_rate, direct_create = excluded.direct_create,"
     " updated_ms = excluded.updated_ms"},
    {offsetof(weir_govstore_t, prefixes_delete), "DELETE FROM tenant_prefixes WHERE tenant = ?1"},
    {offsetof(weir_govstore_t, prefix_insert),
     "INSERT INTO tenant_prefixes (prefix, tenant) VALUES (?1, ?2)"},
    {offsetof(weir_govstore_t, tenant_delete), "DELETE FROM tenants WHERE name = ?1"},
    {offsetof(weir_govstore_t, overrides_select),
     "SELECT principal, produce_byte_rate, fetch_byte_rate FROM quota_overrides"
     " ORDER BY principal"},
    {offsetof(weir_govstore_t, override_upsert),
     "INSERT INTO quota_overrides (principal, produce_byte_rate, fetch_byte_rate)"
     " VALUES (?1, ?2, ?3) ON CONFLICT (principal) DO UPDATE SET"
     " produce_byte_rate = excluded.produce_byte_rate,"
     " fetch_byte_rate = excluded.fetch_byte_rate"},
    {offsetof(weir_govstore_t, override_delete),
     "DELETE FROM quota_overrides WHERE principal = ?1"},
    {offsetof(weir_govstore_t, request_insert),
     "INSERT INTO requests (kind, tenant, requester, target, detail, reason, state, created_ms,"
     " updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7)"},
    {offsetof(weir_govstore_t, request_get),
     "SELECT " GOV_REQUEST_COLS " FROM requests WHERE id = ?1"},
    {offsetof(weir_govstore_t, requests_all),
     "SELECT " GOV_REQUEST_COLS " FROM requests ORDER BY id"},
    {offsetof(weir_govstore_t, requests_by_state),
     "SELECT " GOV_REQUEST_COLS " FROM requests WHERE state = ?1 ORDER BY id"},
    {offsetof(weir_govstore_t, request_set_state),
     "UPDATE requests SET state = ?2, updated_ms = ?3 WHERE id = ?1 AND state = 'pending'"},
    {offsetof(weir_govstore_t, decision_insert),
     "INSERT INTO decisions (request_id, decider, decision, reason, decided_ms)"
     " VALUES (?1, ?2, ?3, ?4, ?5)"},
    {offsetof(weir_govstore_t, decisions_select),
     "SELECT id, request_id, decider, decision, reason, decided_ms FROM decisions"
     " WHERE request_id = ?1 ORDER BY id"},
    {offsetof(weir_govstore_t, audit_head_get),
     "SELECT last_id, hash FROM audit_head WHERE one = 1"},
    {offsetof(weir_govstore_t, audit_insert),
     "INSERT INTO audit_log (id, ts_ms, principal, action, target, outcome, detail, prev_hash,"
     " hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
    {offsetof(weir_govstore_t, audit_head_set),
     "UPDATE audit_head SET last_id = ?1, hash = ?2 WHERE one = 1"},
    {offsetof(weir_govstore_t, audit_select),
     "SELECT id, ts_ms, principal, action, target, outcome, detail, prev_hash, hash"
     " FROM audit_log WHERE id > ?1 ORDER BY id LIMIT ?2"},
    {offsetof(weir_govstore_t, request_last_error),
     "SELECT detail, ts_ms FROM audit_log WHERE target = ?1 AND action = 'request.approve'"
     " AND outcome = 'failed' ORDER BY id DESC LIMIT 1"},
};

static sqlite3_stmt **
weir_gov_slot(weir_govstore_t *gs, size_t i)
{
    return (sqlite3_stmt **)((char *)gs + weir_gov_stmts[i].offset);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

static void
weir_gov_text(sqlite3_stmt *s, int i, const char *v)
{
    if (!v)
        v = "";
    sqlite3_bind_text(s, i, v, (int)strlen(v), SQLITE_STATIC);
}

static char *
weir_gov_col(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    int n = sqlite3_column_bytes(s, i);

    return weir_strndup(t ? (const char *)t : "", t ? (size_t)n : 0);
}

static void
weir_gov_reset(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static int
weir_gov_fail(weir_govstore_t *gs, const char *op, int rc)
{
    WEIR_LOG(WEIR_LOG_ERROR, "store_error", "op=%s rc=%d msg=\"%s\"", op, rc,
             sqlite3_errmsg(gs->db));
    return WEIR_ERR;
}

/* Steps a statement expected to return no row; resets it. */
static int
weir_gov_exec(weir_govstore_t *gs, sqlite3_stmt *s, const char *op)
{
    int rc = sqlite3_step(s);
    int ret = rc == SQLITE_DONE ? 0 : rc;

    if (rc != SQLITE_DONE && (rc & 0xff) != SQLITE_CONSTRAINT)
        weir_gov_fail(gs, op, rc);
    weir_gov_reset(s);
    return ret;
}

/* Joins the open transaction or starts one (*own). */
static int
weir_gov_tx(weir_govstore_t *gs, bool *own, const char *op)
{
    *own = false;
    if (gs->depth > 0)
        return 0;
    if (weir_gov_exec(gs, gs->begin, op) != 0)
        return WEIR_ERR;
    gs->depth = 1;
    *own = true;
    return 0;
}

/* Ends a transaction started by weir_gov_tx (commit on ret == 0). */
static int
weir_gov_tx_end(weir_govstore_t *gs, bool own, int ret, const char *op)
{
    if (!own)
        return ret;
    gs->depth = 0;
    if (ret == 0 && weir_gov_exec(gs, gs->commit, op) == 0)
        return 0;
    if (!sqlite3_get_autocommit(gs->db))
        weir_gov_exec(gs, gs->rollback, op);
    return ret ? ret : WEIR_ERR;
}

/* Appends an audit row for a change (inside the caller's transaction). */
static int
weir_gov_audit(weir_govstore_t *gs, const char *actor, const char *action, const char *target,
               const char *outcome, const char *detail)
{
    weir_audit_row_t row = {
        .ts_ms = weir_wall_ms(),
        .principal = actor ? actor : "",
        .action = action,
        .target = target ? target : "",
        .outcome = outcome,
        .detail = detail ? detail : "",
    };

    return weir_govstore_audit_append(gs, &row);
}

/* ------------------------------------------------------------------ */
/* Open, close, transactions                                          */

int
weir_govstore_open(const char *path, bool durable, weir_govstore_t **out, char *errstr,
                   size_t errstr_size)
{
    weir_govstore_t *gs = weir_calloc(1, sizeof(*gs));

    *out = NULL;
    if (weir_store_open(path, &gs->store, errstr, errstr_size) != 0) {
        free(gs);
        return WEIR_ERR;
    }
    gs->db = weir__store_db(gs->store);
    if (durable && weir_store_set_durable(gs->store) != 0) {
        snprintf(errstr, errstr_size, "%s: cannot set synchronous=FULL", path);
        weir_govstore_close(gs);
        return WEIR_ERR;
    }
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(weir_gov_stmts); i++) {
        int rc = sqlite3_prepare_v3(gs->db, weir_gov_stmts[i].sql, -1,
                                    SQLITE_PREPARE_PERSISTENT, weir_gov_slot(gs, i), NULL);
        if (rc != SQLITE_OK) {
            snprintf(errstr, errstr_size, "%s: preparing \"%s\": %s", path, weir_gov_stmts[i].sql,
                     sqlite3_errmsg(gs->db));
            weir_govstore_close(gs);
            return WEIR_ERR;
        }
    }
    *out = gs;
    return 0;
}

void
weir_govstore_close(weir_govstore_t *gs)
{
    if (!gs)
        return;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(weir_gov_stmts); i++) {
        sqlite3_finalize(*weir_gov_slot(gs, i));
        *weir_gov_slot(gs, i) = NULL;
    }
    weir_store_close(gs->store);
    free(gs);
}

int
weir_govstore_begin(weir_govstore_t *gs)
{
    bool own;

    if (gs->depth > 0)
        return -EBUSY;
    return weir_gov_tx(gs, &own, "begin");
}

int
weir_govstore_commit(weir_govstore_t *gs)
{
    if (gs->depth == 0)
        return -EINVAL;
    return weir_gov_tx_end(gs, true, 0, "commit");
}

void
weir_govstore_rollback(weir_govstore_t *gs)
{
    gs->depth = 0;
    if (!sqlite3_get_autocommit(gs->db))
        weir_gov_exec(gs, gs->rollback, "rollback");
}

/* ------------------------------------------------------------------ */
/* ACL bindings                                                       */

static void
weir_gov_acl_row(sqlite3_stmt *s, weir_acl_binding_t *b)
{
    b->id = sqlite3_column_int64(s, 0);
    b->res_type = (int8_t)sqlite3_column_int(s, 1);
    b->pattern = (int8_t)sqlite3_column_int(s, 2);
    b->name = weir_gov_col(s, 3);
    b->principal = weir_gov_col(s, 4);
    b->host = weir_gov_col(s, 5);
    b->op = (int8_t)sqlite3_column_int(s, 6);
    b->perm = (int8_t)sqlite3_column_int(s, 7);
}

int
weir_govstore_acls_load(weir_govstore_t *gs, void (*cb)(void *arg, const weir_acl_binding_t *b),
                        void *arg)
{
    sqlite3_stmt *s = gs->acl_select;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        weir_acl_binding_t b;

        weir_gov_acl_row(s, &b);
        cb(arg, &b);
        weir_acl_binding_clear(&b);
    }
    if (rc != SQLITE_DONE)
        weir_gov_fail(gs, "acls_load", rc);
    weir_gov_reset(s);
    return rc == SQLITE_DONE ? 0 : WEIR_ERR;
}

static void
weir_gov_acl_bind(sqlite3_stmt *s, const weir_acl_binding_t *b)
{
    sqlite3_bind_int(s, 1, b->res_type);
    sqlite3_bind_int(s, 2, b->pattern);
    weir_gov_text(s, 3, b->name);
    weir_gov_text(s, 4, b->principal);
    weir_gov_text(s, 5, b->host);
    sqlite3_bind_int(s, 6, b->op);
    sqlite3_bind_int(s, 7, b->perm);
}

/* The id of a stored binding equal to b, 0 if none, or an error. */
static int64_t
weir_gov_acl_find(weir_govstore_t *gs, const weir_acl_binding_t *b)
{
    sqlite3_stmt *s = gs->acl_find;
    int64_t id = 0;
    int rc;

    weir_gov_acl_bind(s, b);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(s, 0);
    else if (rc != SQLITE_DONE)
        id = weir_gov_fail(gs, "acl_find", rc);
    weir_gov_reset(s);
    return id;
}

/* A malloc'ed description of b for the audit log. */
static char *
weir_gov_acl_text(const weir_acl_binding_t *b)
{
    size_t n = strlen(b->name) + strlen(b->principal) + strlen(b->host) + 96;
    char *out = weir_malloc(n);

    weir_acl_binding_format(b, out, n);
    return out;
}

int
weir_govstore_acl_create(weir_govstore_t *gs, weir_acl_binding_t *b, const char *actor,
                         bool *existed)
{
    sqlite3_stmt *s = gs->acl_insert;
    int64_t id;
    char *text;
    bool own;
    int ret;

    *existed = false;
    if ((ret = weir_gov_tx(gs, &own, "acl_create")) < 0)
        return ret;
    id = weir_gov_acl_find(gs, b);
    if (id < 0) {
        ret = (int)id;
    } else if (id > 0) {
        b->id = id;
        *existed = true;
    } else {
        weir_gov_acl_bind(s, b);
        sqlite3_bind_int64(s, 8, weir_wall_ms());
        weir_gov_text(s, 9, actor);
        ret = weir_gov_exec(gs, s, "acl_create");
        if (ret == 0) {
            b->id = sqlite3_last_insert_rowid(gs->db);
            text = weir_gov_acl_text(b);
            ret = weir_gov_audit(gs, actor, "acl.create", text, "ok", "");
            free(text);
        } else {
            ret = WEIR_ERR;
        }
    }
    return weir_gov_tx_end(gs, own, ret, "acl_create");
}

int
weir_govstore_acl_delete(weir_govstore_t *gs, int64_t id, const char *actor)
{
    sqlite3_stmt *s = gs->acl_get;
    weir_acl_binding_t b;
    bool own, found = false;
    int rc, ret;

    if ((ret = weir_gov_tx(gs, &own, "acl_delete")) < 0)
        return ret;
    memset(&b, 0, sizeof(b));
    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        weir_gov_acl_row(s, &b);
        found = true;
    } else if (rc != SQLITE_DONE) {
        ret = weir_gov_fail(gs, "acl_delete", rc);
    }
    weir_gov_reset(s);
    if (ret == 0 && !found)
        ret = -ENOENT;
    if (ret == 0) {
        sqlite3_bind_int64(gs->acl_delete, 1, id);
        ret = weir_gov_exec(gs, gs->acl_delete, "acl_delete") == 0 ? 0 : WEIR_ERR;
    }
    if (ret == 0) {
        char *text = weir_gov_acl_text(&b);
        ret = weir_gov_audit(gs, actor, "acl.delete", text, "ok", "");
        free(text);
    }
    if (found)
        weir_acl_binding_clear(&b);
    return weir_gov_tx_end(gs, own, ret, "acl_delete");
}

/* ------------------------------------------------------------------ */
/* Tenants                                                            */

/* Reads the tenant row at s (columns GOV_TENANT_COLS) and its prefixes. */
static int
weir_gov_tenant_row(weir_govstore_t *gs, sqlite3_stmt *s, weir_tenant_t *t)
{
    sqlite3_stmt *p = gs->prefixes_of;
    int rc;

    memset(t, 0, sizeof(*t));
    t->name = weir_gov_col(s, 0);
    t->ldap_group = weir_gov_col(s, 1);
    t->max_partitions_per_topic = (int32_t)sqlite3_column_int(s, 2);
    t->max_total_partitions = (int32_t)sqlite3_column_int(s, 3);
    t->max_retention_ms = sqlite3_column_int64(s, 4);
    t->produce_byte_rate = sqlite3_column_int64(s, 5);
    t->fetch_byte_rate = sqlite3_column_int64(s, 6);
    t->direct_create = sqlite3_column_int(s, 7) != 0;
    weir_gov_text(p, 1, t->name);
    while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
        char *px = weir_gov_col(p, 0);
        weir_tenant_add_prefix(t, px);
        free(px);
    }
    if (rc != SQLITE_DONE)
        weir_gov_fail(gs, "tenant_prefixes", rc);
    weir_gov_reset(p);
    return rc == SQLITE_DONE ? 0 : WEIR_ERR;
}

int
weir_govstore_tenants_load(weir_govstore_t *gs, void (*cb)(void *arg, const weir_tenant_t *t),
                           void *arg)
{
    sqlite3_stmt *s = gs->tenants_select;
    weir_tenant_t *v = NULL;
    size_t n = 0;
    int rc, ret = 0;

    /* Collected first: the prefixes are read with another statement. */
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        v = weir_realloc(v, (n + 1) * sizeof(*v));
        memset(&v[n], 0, sizeof(v[n]));
        v[n].name = weir_gov_col(s, 0);
        v[n].ldap_group = weir_gov_col(s, 1);
        v[n].max_partitions_per_topic = (int32_t)sqlite3_column_int(s, 2);
        v[n].max_total_partitions = (int32_t)sqlite3_column_int(s, 3);
        v[n].max_retention_ms = sqlite3_column_int64(s, 4);
        v[n].produce_byte_rate = sqlite3_column_int64(s, 5);
        v[n].fetch_byte_rate = sqlite3_column_int64(s, 6);
        v[n].direct_create = sqlite3_column_int(s, 7) != 0;
        n++;
    }
    if (rc != SQLITE_DONE)
        ret = weir_gov_fail(gs, "tenants_load", rc);
    weir_gov_reset(s);
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *p = gs->prefixes_of;

        weir_gov_text(p, 1, v[i].name);
        while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
            char *px = weir_gov_col(p, 0);
            weir_tenant_add_prefix(&v[i], px);
            free(px);
        }
        if (rc != SQLITE_DONE)
            ret = weir_gov_fail(gs, "tenant_prefixes", rc);
        weir_gov_reset(p);
        if (ret == 0)
            cb(arg, &v[i]);
    }
    for (size_t i = 0; i < n; i++)
        weir_tenant_clear(&v[i]);
    free(v);
    return ret;
}

int
weir_govstore_tenant_get(weir_govstore_t *gs, const char *name, weir_tenant_t *out)
{
    sqlite3_stmt *s = gs->tenant_get;
    int rc, ret = 0;

    memset(out, 0, sizeof(*out));
    weir_gov_text(s, 1, name);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        /* Copy the row before the prefix statement runs. */
        weir_tenant_t row;
        ret = weir_gov_tenant_row(gs, s, &row);
        *out = row;
    } else if (rc == SQLITE_DONE) {
        ret = -ENOENT;
    } else {
        ret = weir_gov_fail(gs, "tenant_get", rc);
    }
    weir_gov_reset(s);
    if (ret != 0)
        weir_tenant_clear(out);
    return ret;
}

/* Owner of a prefix: 1 with *owner (malloc'ed) set, 0 if none, or an error. */
static int
weir_gov_prefix_owner(weir_govstore_t *gs, const char *prefix, char **owner)
{
    sqlite3_stmt *s = gs->prefix_owner;
    int rc, ret = 0;

    *owner = NULL;
    weir_gov_text(s, 1, prefix);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *owner = weir_gov_col(s, 0);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = weir_gov_fail(gs, "prefix_owner", rc);
    }
    weir_gov_reset(s);
    return ret;
}

/* Adds the tenant's grants (existing equal bindings are kept). */
static int
weir_gov_tenant_grant(weir_govstore_t *gs, const weir_tenant_t *t, const char *actor)
{
    weir_acl_binding_t *g;
    size_t n;
    int ret = 0;

    weir_tenant_grants(t, &g, &n);
    for (size_t i = 0; i < n; i++) {
        bool existed;
        if (ret == 0)
            ret = weir_govstore_acl_create(gs, &g[i], actor, &existed);
        weir_acl_binding_clear(&g[i]);
    }
    free(g);
    return ret;
}

static char *
weir_gov_tenant_text(const weir_tenant_t *t)
{
    size_t n = 256 + strlen(t->ldap_group);
    char *out;
    size_t len;

    for (size_t i = 0; i < t->nprefixes; i++)
        n += strlen(t->prefixes[i]) + 1;
    out = weir_malloc(n);
    len = (size_t)snprintf(out, n, "group=%s max_partitions_per_topic=%d "
                           "max_total_partitions=%d max_retention_ms=%" PRId64
                           " produce_byte_rate=%" PRId64 " fetch_byte_rate=%" PRId64
                           " direct_create=%s prefixes=", t->ldap_group,
                           t->max_partitions_per_topic, t->max_total_partitions,
                           t->max_retention_ms, t->produce_byte_rate, t->fetch_byte_rate,
                           t->direct_create ? "true" : "false");
    for (size_t i = 0; i < t->nprefixes && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "," : "", t->prefixes[i]);
    return out;
}

int
weir_govstore_tenant_put(weir_govstore_t *gs, const weir_tenant_t *t, bool grant,
                         const char *actor, char *errstr, size_t errstr_size)
{
    sqlite3_stmt *s = gs->tenant_upsert;
    char target[300];
    bool own;
    int ret;

    if (weir_tenant_validate(t, errstr, errstr_size) != 0)
        return -EINVAL;
    if ((ret = weir_gov_tx(gs, &own, "tenant_put")) < 0)
        return ret;
    for (size_t i = 0; i < t->nprefixes && ret == 0; i++) {
        char *owner;
        int r = weir_gov_prefix_owner(gs, t->prefixes[i], &owner);
        if (r < 0) {
            ret = r;
        } else if (r == 1 && strcmp(owner, t->name) != 0) {
            snprintf(errstr, errstr_size, "prefix %s belongs to tenant %s", t->prefixes[i],
                     owner);
            ret = -EEXIST;
        }
        free(owner);
    }
    if (ret == 0) {
        weir_gov_text(s, 1, t->name);
        weir_gov_text(s, 2, t->ldap_group);
        sqlite3_bind_int(s, 3, t->max_partitions_per_topic);
        sqlite3_bind_int(s, 4, t->max_total_partitions);
        sqlite3_bind_int64(s, 5, t->max_retention_ms);
        sqlite3_bind_int64(s, 6, t->produce_byte_rate);
        sqlite3_bind_int64(s, 7, t->fetch_byte_rate);
        sqlite3_bind_int(s, 8, t->direct_create ? 1 : 0);
        sqlite3_bind_int64(s, 9, weir_wall_ms());
        ret = weir_gov_exec(gs, s, "tenant_put") == 0 ? 0 : WEIR_ERR;
    }
    if (ret == 0) {
        weir_gov_text(gs->prefixes_delete, 1, t->name);
        ret = weir_gov_exec(gs, gs->prefixes_delete, "tenant_put") == 0 ? 0 : WEIR_ERR;
    }
    for (size_t i = 0; i < t->nprefixes && ret == 0; i++) {
        weir_gov_text(gs->prefix_insert, 1, t->prefixes[i]);
        weir_gov_text(gs->prefix_insert, 2, t->name);
        ret = weir_gov_exec(gs, gs->prefix_insert, "tenant_put") == 0 ? 0 : WEIR_ERR;
    }
    if (ret == 0 && grant)
        ret = weir_gov_tenant_grant(gs, t, actor);
    if (ret == 0) {
        char *detail = weir_gov_tenant_text(t);
        snprintf(target, sizeof(target), "tenant:%s", t->name);
        ret = weir_gov_audit(gs, actor, "tenant.put", target, "ok", detail);
        free(detail);
    }
    if (ret == WEIR_ERR && errstr && errstr_size)
        snprintf(errstr, errstr_size, "store error");
    return weir_gov_tx_end(gs, own, ret, "tenant_put");
}

int
weir_govstore_tenant_delete(weir_govstore_t *gs, const char *name, const char *actor)
{
    weir_tenant_t t;
    char target[300];
    bool own;
    int ret;

    if ((ret = weir_gov_tx(gs, &own, "tenant_delete")) < 0)
        return ret;
    ret = weir_govstore_tenant_get(gs, name, &t);
    if (ret == 0) {
        weir_acl_binding_t *g;
        size_t n;

        weir_tenant_grants(&t, &g, &n);
        for (size_t i = 0; i < n; i++) {
            int64_t id = ret == 0 ? weir_gov_acl_find(gs, &g[i]) : 0;
            if (id < 0)
                ret = (int)id;
            else if (id > 0)
                ret = weir_govstore_acl_delete(gs, id, actor);
            weir_acl_binding_clear(&g[i]);
        }
        free(g);
        weir_tenant_clear(&t);
    }
    if (ret == 0) {
        /* Prefixes go with the tenant (ON DELETE CASCADE). */
        weir_gov_text(gs->tenant_delete, 1, name);
        ret = weir_gov_exec(gs, gs->tenant_delete, "tenant_delete") == 0 ? 0 : WEIR_ERR;
    }
    if (ret == 0) {
        snprintf(target, sizeof(target), "tenant:%.250s", name);
        ret = weir_gov_audit(gs, actor, "tenant.delete", target, "ok", "");
    }
    return weir_gov_tx_end(gs, own, ret, "tenant_delete");
}

/* ------------------------------------------------------------------ */
/* Quota overrides                                                    */

int
weir_govstore_quota_overrides_load(weir_govstore_t *gs,
                                   void (*cb)(void *arg, const weir_quota_override_t *o),
                                   void *arg)
{
    sqlite3_stmt *s = gs->overrides_select;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char *p = weir_gov_col(s, 0);
        weir_quota_override_t o = {p, sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2)};
        cb(arg, &o);
        free(p);
    }
    if (rc != SQLITE_DONE)
        weir_gov_fail(gs, "quota_overrides_load", rc);
    weir_gov_reset(s);
    return rc == SQLITE_DONE ? 0 : WEIR_ERR;
}

int
weir_govstore_quota_override_put(weir_govstore_t *gs, const weir_quota_override_t *o,
                                 const char *actor)
{
    sqlite3_stmt *s = gs->override_upsert;
    char detail[96];
    bool own;
    int ret;

    if (!o->principal || !o->principal[0] ||
        (o->produce_byte_rate < 1 && o->produce_byte_rate != -1) ||
        (o->fetch_byte_rate < 1 && o->fetch_byte_rate != -1))
        return -EINVAL;
    if ((ret = weir_gov_tx(gs, &own, "quota_put")) < 0)
        return ret;
    weir_gov_text(s, 1, o->principal);
    sqlite3_bind_int64(s, 2, o->produce_byte_rate);
    sqlite3_bind_int64(s, 3, o->fetch_byte_rate);
    ret = weir_gov_exec(gs, s, "quota_put") == 0 ? 0 : WEIR_ERR;
    if (ret == 0) {
        snprintf(detail, sizeof(detail), "produce_byte_rate=%" PRId64 " fetch_byte_rate=%" PRId64,
                 o->produce_byte_rate, o->fetch_byte_rate);
        ret = weir_gov_audit(gs, actor, "quota.put", o->principal, "ok", detail);
    }
    return weir_gov_tx_end(gs, own, ret, "quota_put");
}

int
weir_govstore_quota_override_delete(weir_govstore_t *gs, const char *principal,
                                    const char *actor)
{
    bool own;
    int ret;

    if ((ret = weir_gov_tx(gs, &own, "quota_delete")) < 0)
        return ret;
    weir_gov_text(gs->override_delete, 1, principal);
    ret = weir_gov_exec(gs, gs->override_delete, "quota_delete") == 0 ? 0 : WEIR_ERR;
    if (ret == 0 && sqlite3_changes(gs->db) == 0)
        ret = -ENOENT;
    if (ret == 0)
        ret = weir_gov_audit(gs, actor, "quota.delete", principal, "ok", "");
    return weir_gov_tx_end(gs, own, ret, "quota_delete");
}

/* ------------------------------------------------------------------ */
/* Requests and decisions                                             */

static const char *const weir_gov_kinds[] = {"topic", "access", "schema"};
static const char *const weir_gov_states[] = {"pending", "approved", "rejected", "cancelled"};

const char *
weir_gov_request_kind_name(int kind)
{
    return kind >= 0 && (size_t)kind < WEIR_ARRAY_SIZE(weir_gov_kinds) ? weir_gov_kinds[kind]
                                                                       : NULL;
}

const char *
weir_gov_request_state_name(int state)
{
    return state >= 0 && (size_t)state < WEIR_ARRAY_SIZE(weir_gov_states)
               ? weir_gov_states[state]
               : NULL;
}

static int
weir_gov_find_name(const char *const *tab, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tab[i], s) == 0)
            return (int)i;
    return -1;
}

void
weir_gov_request_clear(weir_gov_request_t *r)
{
    free(r->tenant);
    free(r->requester);
    free(r->target);
    free(r->detail);
    free(r->reason);
    memset(r, 0, sizeof(*r));
}

static void
weir_gov_request_row(sqlite3_stmt *s, weir_gov_request_t *r)
{
    const unsigned char *k = sqlite3_column_text(s, 1), *st = sqlite3_column_text(s, 2);

    r->id = sqlite3_column_int64(s, 0);
    r->kind = weir_gov_find_name(weir_gov_kinds, WEIR_ARRAY_SIZE(weir_gov_kinds),
                                 k ? (const char *)k : "");
    r->state = weir_gov_find_name(weir_gov_states, WEIR_ARRAY_SIZE(weir_gov_states),
                                  st ? (const char *)st : "");
    r->tenant = weir_gov_col(s, 3);
    r->requester = weir_gov_col(s, 4);
    r->target = weir_gov_col(s, 5);
    r->detail = weir_gov_col(s, 6);
    r->reason = weir_gov_col(s, 7);
    r->created_ms = sqlite3_column_int64(s, 8);
    r->updated_ms = sqlite3_column_int64(s, 9);
}

int64_t
weir_govstore_request_create(weir_govstore_t *gs, int kind, const char *tenant,
                             const char *requester, const char *target, const char *detail,
                             const char *reason)
{
    sqlite3_stmt *s = gs->request_insert;
    const char *kn = weir_gov_request_kind_name(kind);
    int64_t id = 0;
    char idtxt[64];
    bool own;
    int ret;

    if (!kn || !requester || !requester[0] || !target || !target[0])
        return -EINVAL;
    if ((ret = weir_gov_tx(gs, &own, "request_create")) < 0)
        return ret;
    weir_gov_text(s, 1, kn);
    weir_gov_text(s, 2, tenant);
    weir_gov_text(s, 3, requester);
    weir_gov_text(s, 4, target);
    weir_gov_text(s, 5, detail);
    weir_gov_text(s, 6, reason);
    sqlite3_bind_int64(s, 7, weir_wall_ms());
    ret = weir_gov_exec(gs, s, "request_create") == 0 ? 0 : WEIR_ERR;
    if (ret == 0) {
        id = sqlite3_last_insert_rowid(gs->db);
        snprintf(idtxt, sizeof(idtxt), "request:%" PRId64 " kind=%s", id, kn);
        ret = weir_gov_audit(gs, requester, "request.create", idtxt, "pending", target);
    }
    ret = weir_gov_tx_end(gs, own, ret, "request_create");
    return ret == 0 ? id : ret;
}

int
weir_govstore_request_get(weir_govstore_t *gs, int64_t id, weir_gov_request_t *out)
{
    sqlite3_stmt *s = gs->request_get;
    int rc, ret = 0;

    memset(out, 0, sizeof(*out));
    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        weir_gov_request_row(s, out);
    else if (rc == SQLITE_DONE)
        ret = -ENOENT;
    else
        ret = weir_gov_fail(gs, "request_get", rc);
    weir_gov_reset(s);
    return ret;
}

int
weir_govstore_requests_list(weir_govstore_t *gs, int state,
                            void (*cb)(void *arg, const weir_gov_request_t *r), void *arg)
{
    sqlite3_stmt *s = state < 0 ? gs->requests_all : gs->requests_by_state;
    int rc;

    if (state >= 0) {
        const char *sn = weir_gov_request_state_name(state);
        if (!sn)
            return -EINVAL;
        weir_gov_text(s, 1, sn);
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        weir_gov_request_t r;
        weir_gov_request_row(s, &r);
        cb(arg, &r);
        weir_gov_request_clear(&r);
    }
    if (rc != SQLITE_DONE)
        weir_gov_fail(gs, "requests_list", rc);
    weir_gov_reset(s);
    return rc == SQLITE_DONE ? 0 : WEIR_ERR;
}

int
weir_govstore_request_decide(weir_govstore_t *gs, int64_t id, int state, const char *decider,
                             const char *reason)
{
    const char *sn = weir_gov_request_state_name(state);
    weir_gov_request_t r;
    char action[64], target[64];
    int64_t now = weir_wall_ms();
    bool own;
    int ret;

    if (state == WEIR_GOV_REQUEST_PENDING || !sn || !decider || !decider[0])
        return -EINVAL;
    if ((ret = weir_gov_tx(gs, &own, "request_decide")) < 0)
        return ret;
    ret = weir_govstore_request_get(gs, id, &r);
    if (ret == 0 && r.state != WEIR_GOV_REQUEST_PENDING)
        ret = -EALREADY;
    if (ret == 0) {
        sqlite3_bind_int64(gs->request_set_state, 1, id);
        weir_gov_text(gs->request_set_state, 2, sn);
        sqlite3_bind_int64(gs->request_set_state, 3, now);
        ret = weir_gov_exec(gs, gs->request_set_state, "request_decide") == 0 ? 0 : WEIR_ERR;
        if (ret == 0 && sqlite3_changes(gs->db) != 1)
            ret = -EALREADY;
    }
    if (ret == 0) {
        sqlite3_stmt *s = gs->decision_insert;
        sqlite3_bind_int64(s, 1, id);
        weir_gov_text(s, 2, decider);
        weir_gov_text(s, 3, sn);
        weir_gov_text(s, 4, reason);
        sqlite3_bind_int64(s, 5, now);
        ret = weir_gov_exec(gs, s, "request_decide") == 0 ? 0 : WEIR_ERR;
    }
    if (ret == 0) {
        snprintf(action, sizeof(action), "request.%s", sn);
        snprintf(target, sizeof(target), "request:%" PRId64, id);
        ret = weir_gov_audit(gs, decider, action, target, sn, reason);
    }
    if (r.requester || r.target)
        weir_gov_request_clear(&r);
    return weir_gov_tx_end(gs, own, ret, "request_decide");
}

int
weir_govstore_request_last_error(weir_govstore_t *gs, int64_t id, char **error, int64_t *ts_ms)
{
    sqlite3_stmt *s = gs->request_last_error;
    char target[64];
    int rc, ret = 0;

    *error = NULL;
    if (ts_ms)
        *ts_ms = 0;
    snprintf(target, sizeof(target), "request:%" PRId64, id);
    sqlite3_bind_text(s, 1, target, (int)strlen(target), SQLITE_TRANSIENT);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *error = weir_gov_col(s, 0);
        if (ts_ms)
            *ts_ms = sqlite3_column_int64(s, 1);
    } else if (rc != SQLITE_DONE) {
        ret = weir_gov_fail(gs, "request_last_error", rc);
    }
    weir_gov_reset(s);
    return ret;
}

int
weir_govstore_decisions_list(weir_govstore_t *gs, int64_t request_id,
                             void (*cb)(void *arg, const weir_gov_decision_t *d), void *arg)
{
    sqlite3_stmt *s = gs->decisions_select;
    int rc;

    sqlite3_bind_int64(s, 1, request_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char *decider = weir_gov_col(s, 2), *dec = weir_gov_col(s, 3), *reason = weir_gov_col(s, 4);
        weir_gov_decision_t d = {
            .id = sqlite3_column_int64(s, 0),
            .request_id = sqlite3_column_int64(s, 1),
            .decider = decider,
            .state = weir_gov_find_name(weir_gov_states, WEIR_ARRAY_SIZE(weir_gov_states), dec),
            .reason = reason,
            .decided_ms = sqlite3_column_int64(s, 5),
        };
        cb(arg, &d);
        free(decider);
        free(dec);
        free(reason);
    }
    if (rc != SQLITE_DONE)
        weir_gov_fail(gs, "decisions_list", rc);
    weir_gov_reset(s);
    return rc == SQLITE_DONE ? 0 : WEIR_ERR;
}

/* ------------------------------------------------------------------ */
/* Audit log                                                          */

/* Reads the chain head. */
static int
weir_gov_audit_head(weir_govstore_t *gs, int64_t *last_id, char hash[WEIR_AUDIT_HASH_HEX])
{
    sqlite3_stmt *s = gs->audit_head_get;
    int rc, ret = 0;

    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const unsigned char *h = sqlite3_column_text(s, 1);
        *last_id = sqlite3_column_int64(s, 0);
        snprintf(hash, WEIR_AUDIT_HASH_HEX, "%s", h ? (const char *)h : "");
    } else {
        ret = weir_gov_fail(gs, "audit_head", rc == SQLITE_DONE ? SQLITE_CORRUPT : rc);
    }
    weir_gov_reset(s);
    return ret;
}

int
weir_govstore_audit_append(weir_govstore_t *gs, weir_audit_row_t *row)
{
    sqlite3_stmt *s = gs->audit_insert;
    char prev[WEIR_AUDIT_HASH_HEX], hash[WEIR_AUDIT_HASH_HEX];
    int64_t last;
    bool own;
    int ret;

    if ((ret = weir_gov_tx(gs, &own, "audit_append")) < 0)
        return ret;
    ret = weir_gov_audit_head(gs, &last, prev);
    if (ret == 0) {
        row->id = last + 1;
        if (weir_audit_hash(prev, row, hash) != 0) {
            WEIR_LOG(WEIR_LOG_ERROR, "audit_error", "reason=\"cannot hash row %" PRId64
                     " (chain head unreadable)\"", row->id);
            ret = WEIR_ERR;
        }
    }
    if (ret == 0) {
        sqlite3_bind_int64(s, 1, row->id);
        sqlite3_bind_int64(s, 2, row->ts_ms);
        weir_gov_text(s, 3, row->principal);
        weir_gov_text(s, 4, row->action);
        weir_gov_text(s, 5, row->target);
        weir_gov_text(s, 6, row->outcome);
        weir_gov_text(s, 7, row->detail);
        weir_gov_text(s, 8, prev);
        weir_gov_text(s, 9, hash);
        ret = weir_gov_exec(gs, s, "audit_append") == 0 ? 0 : WEIR_ERR;
    }
    if (ret == 0) {
        sqlite3_bind_int64(gs->audit_head_set, 1, row->id);
        weir_gov_text(gs->audit_head_set, 2, hash);
        ret = weir_gov_exec(gs, gs->audit_head_set, "audit_append") == 0 ? 0 : WEIR_ERR;
    }
    return weir_gov_tx_end(gs, own, ret, "audit_append");
}

/* Reads the row at s (columns id .. hash) into row and the hashes. */
static void
weir_gov_audit_row(sqlite3_stmt *s, weir_audit_row_t *row, char **strs)
{
    for (int i = 0; i < 7; i++)
        strs[i] = weir_gov_col(s, i + 2);
    row->id = sqlite3_column_int64(s, 0);
    row->ts_ms = sqlite3_column_int64(s, 1);
    row->principal = strs[0];
    row->action = strs[1];
    row->target = strs[2];
    row->outcome = strs[3];
    row->detail = strs[4];
}

int
weir_govstore_audit_verify(weir_govstore_t *gs, weir_audit_verify_t *out)
{
    sqlite3_stmt *s = gs->audit_select;
    weir_audit_verifier_t v;
    char head[WEIR_AUDIT_HASH_HEX];
    int64_t head_id = 0;
    bool own = false;
    int rc, ret;

    memset(out, 0, sizeof(*out));
    /* One read transaction: the head and the rows from the same snapshot. */
    if (gs->depth == 0) {
        if (weir_gov_exec(gs, gs->begin_read, "audit_verify") != 0)
            return WEIR_ERR;
        own = true;
        gs->depth = 1;
    }
    ret = weir_gov_audit_head(gs, &head_id, head);
    weir_audit_verifier_init(&v);
    sqlite3_bind_int64(s, 1, 0);
    sqlite3_bind_int64(s, 2, INT64_MAX);
    while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        weir_audit_row_t row;
        char *strs[7];

        weir_gov_audit_row(s, &row, strs);
        weir_audit_verifier_step(&v, &row, strs[5], strs[6]);
        for (int i = 0; i < 7; i++)
            free(strs[i]);
        if (!v.res.ok)
            break;
    }
    if (ret == 0 && v.res.ok && rc != SQLITE_DONE)
        ret = weir_gov_fail(gs, "audit_verify", rc);
    weir_gov_reset(s);
    if (own) {
        gs->depth = 0;
        weir_gov_exec(gs, gs->commit, "audit_verify");
    }
    if (ret != 0)
        return ret;
    weir_audit_verifier_finish(&v, head_id, head, out);
    return 0;
}

int
weir_govstore_audit_list(weir_govstore_t *gs, int64_t after_id, int64_t limit,
                         void (*cb)(void *arg, const weir_audit_row_t *row), void *arg)
{
    sqlite3_stmt *s = gs->audit_select;
    int rc;

    sqlite3_bind_int64(s, 1, after_id);
    sqlite3_bind_int64(s, 2, limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        weir_audit_row_t row;
        char *strs[7];

        weir_gov_audit_row(s, &row, strs);
        cb(arg, &row);
        for (int i = 0; i < 7; i++)
            free(strs[i]);
    }
    if (rc != SQLITE_DONE)
        weir_gov_fail(gs, "audit_list", rc);
    weir_gov_reset(s);
    return rc == SQLITE_DONE ? 0 : WEIR_ERR;
}
