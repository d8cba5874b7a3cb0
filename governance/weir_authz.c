/*
 * weir_authz.c: the governance runtime on the loop thread (weir_authz.h) -
 * the snapshot, per-connection sessions with their decision caches,
 * tenant policy, quotas, the audit queue and the governance worker.
 *
 * The worker runs one operation at a time (uv_queue_work) on the
 * governance SQLite connection, which nothing else touches while a job
 * runs; the loop applies its result to the snapshot afterwards and starts
 * the next.  An operation that matches bindings (DeleteAcls) does so when
 * it starts, so queued operations behave as if run one after the other.
 */
#include "weir_authz.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "weir_api.h"
#include "weir_audit.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_conn.h"
#include "weir_log.h"
#include "weir_quota.h"
#include "weir_store_governance.h"
#include "weir_tenant.h"
#include "weir_topic_config.h"

#define WEIR_AUTHZ_FLUSH_MS 500        /* queued audit rows are written this often */
#define WEIR_AUTHZ_AUDIT_BATCH 2000    /* ... or at once when this many are queued */
#define WEIR_AUTHZ_AUDIT_MAX 100000    /* rows kept in memory at most */
#define WEIR_AUTHZ_CACHE_MIN 64        /* decision cache slots per session, at first */
#define WEIR_AUTHZ_CACHE_MAX 4096      /* ... at most (then it starts over) */
#define WEIR_AUTHZ_LOG_NAME 200        /* bytes of a client-given name in logs */

/* ------------------------------------------------------------------ */
/* Types                                                              */

typedef struct weir_authz_arow_s {
    int64_t ts_ms;
    char *principal, *action, *target, *outcome, *detail;
} weir_authz_arow_t;

typedef struct weir_authz_override_s {
    char *principal;
    int64_t produce;
    int64_t fetch;
} weir_authz_override_t;

typedef enum weir_gop_kind_e {
    WEIR_GOP_ACL_CREATE,
    WEIR_GOP_ACL_DELETE,
    WEIR_GOP_AUDIT,
    WEIR_GOP_RELOAD,
} weir_gop_kind_t;

typedef struct weir_gop_s weir_gop_t;

struct weir_gop_s {
    weir_gop_kind_t kind;
    weir_gop_t *next;
    weir_authz_t *az;
    uv_work_t work;
    bool started;
    char *actor;
    int rc;                          /* worker result */
    void *arg;
    /* ACL_CREATE */
    weir_acl_binding_t *bindings;
    size_t nbindings;
    int *results;
    weir_authz_created_cb created_cb;
    /* ACL_DELETE */
    weir_acl_filter_t *filters;
    size_t nfilters;
    int64_t *ids;                    /* bindings to delete ... */
    size_t *id_filter;               /* ... and the filter that matched each */
    size_t nids;
    weir_authz_deleted_cb deleted_cb;
    /* AUDIT */
    weir_authz_arow_t *rows;
    size_t nrows;
    /* RELOAD */
    weir_acl_index_t *new_acls;
    weir_tenants_t *new_tenants;
    weir_authz_override_t *new_overrides;
    size_t new_noverrides;
};

typedef struct weir_authz_slot_s {
    char *name;          /* NULL: empty */
    uint32_t len;
    uint32_t hash;
    int8_t res_type;
    int8_t op;
    bool allowed;
} weir_authz_slot_t;

struct weir_authz_session_s {
    bool valid;
    uint64_t gen;
    char *user;
    char **groups;
    size_t ngroups;
    char host[64];
    char principal[128];          /* "User:<name>" for logs and the audit log */
    bool admin;
    const weir_tenant_t *tenant;  /* valid for gen */
    weir_quota_sensor_t *produce, *fetch;
    double produce_bound, fetch_bound;
    weir_authz_slot_t *slots;
    size_t cap, count;
};

struct weir_authz_s {
    uv_loop_t *loop;
    weir_govstore_t *gs;
    weir_principal_ref_t *super_users;
    size_t nsuper;
    char *admin_group;
    bool allow_everyone;
    uint64_t gen;
    weir_acl_index_t *acls;
    weir_tenants_t *tenants;
    weir_authz_override_t *overrides;
    size_t noverrides;
    weir_quotas_t *quotas;
    weir_audit_limiter_t *limiter;
    weir_authz_arow_t *audit;     /* queued rows */
    size_t naudit, capaudit;
    int64_t audit_dropped;        /* rows dropped because the queue was full */
    weir_gop_t *head, *tail;      /* operations not started */
    weir_gop_t *job;              /* the running one */
    uv_timer_t timer;
    bool timer_open;
    bool stopping;
};

static void weir_authz_kick(weir_authz_t *az);
static void weir_authz_maybe_free(weir_authz_t *az);

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */

static void
weir_authz_arow_clear(weir_authz_arow_t *r)
{
    free(r->principal);
    free(r->action);
    free(r->target);
    free(r->outcome);
    free(r->detail);
}

static void
weir_authz_overrides_free(weir_authz_override_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].principal);
    free(v);
}

/* A copy of s[0..len) fit for a key=value log line and the audit log:
 * control characters, quotes and backslashes become '?'; long names are cut
 * (with "..."). */
static void
weir_authz_safe(const char *s, size_t len, char *out, size_t size)
{
    size_t n = WEIR_MIN(len, size - 4);

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\' ? '?' : (char)ch;
    }
    if (n < len)
        memcpy(out + n, "...", 3), n += 3;
    out[n] = '\0';
}

/* "ip" from "ip:port" ("[v6]:port" is not produced by getnameinfo: the last
 * colon separates the port). */
static void
weir_authz_host(const char *peer, char *out, size_t size)
{
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);

    snprintf(out, size, "%.*s", (int)n, peer);
}

/* ------------------------------------------------------------------ */
/* Snapshot loading                                                   */

typedef struct weir_authz_load_s {
    weir_acl_index_t *acls;
    weir_tenants_t *tenants;
    weir_authz_override_t *ov;
    size_t nov;
} weir_authz_load_t;

static void
weir_authz_load_acl(void *arg, const weir_acl_binding_t *b)
{
    weir_authz_load_t *l = arg;

    weir_acl_index_add(l->acls, b);
}

static void
weir_authz_load_tenant(void *arg, const weir_tenant_t *t)
{
    weir_authz_load_t *l = arg;

    weir_tenants_put(l->tenants, t);
}

static void
weir_authz_load_override(void *arg, const weir_quota_override_t *o)
{
    weir_authz_load_t *l = arg;

    l->ov = weir_realloc(l->ov, (l->nov + 1) * sizeof(*l->ov));
    l->ov[l->nov].principal = weir_strdup(o->principal);
    l->ov[l->nov].produce = o->produce_byte_rate;
    l->ov[l->nov].fetch = o->fetch_byte_rate;
    l->nov++;
}

/* Reads the whole snapshot (on whichever thread owns gs now). */
static int
weir_authz_load(weir_govstore_t *gs, weir_authz_load_t *l)
{
    memset(l, 0, sizeof(*l));
    l->acls = weir_acl_index_new();
    l->tenants = weir_tenants_new();
    if (weir_govstore_acls_load(gs, weir_authz_load_acl, l) != 0 ||
        weir_govstore_tenants_load(gs, weir_authz_load_tenant, l) != 0 ||
        weir_govstore_quota_overrides_load(gs, weir_authz_load_override, l) != 0) {
        weir_acl_index_free(l->acls);
        weir_tenants_free(l->tenants);
        weir_authz_overrides_free(l->ov, l->nov);
        memset(l, 0, sizeof(*l));
        return WEIR_ERR;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Open, stop                                                         */

static void
weir_authz_on_timer(uv_timer_t *t);

int
weir_authz_open(const weir_authz_conf_t *conf, weir_authz_t **out, char *errstr,
                size_t errstr_size)
{
    weir_authz_t *az = weir_calloc(1, sizeof(*az));
    weir_authz_load_t l;

    *out = NULL;
    az->loop = conf->loop;
    if (weir_govstore_open(conf->db_path, true, &az->gs, errstr, errstr_size) != 0) {
        free(az);
        return WEIR_ERR;
    }
    if (weir_authz_load(az->gs, &l) != 0) {
        snprintf(errstr, errstr_size, "%s: cannot read the governance tables", conf->db_path);
        weir_govstore_close(az->gs);
        free(az);
        return WEIR_ERR;
    }
    az->acls = l.acls;
    az->tenants = l.tenants;
    az->overrides = l.ov;
    az->noverrides = l.nov;
    if (conf->nsuper_users > 0) {
        az->super_users = weir_calloc(conf->nsuper_users, sizeof(*az->super_users));
        for (size_t i = 0; i < conf->nsuper_users; i++) {
            az->super_users[i].is_group = conf->super_users[i].is_group;
            az->super_users[i].name = weir_strdup(conf->super_users[i].name);
        }
        az->nsuper = conf->nsuper_users;
    }
    az->admin_group = conf->admin_group && conf->admin_group[0] ? weir_strdup(conf->admin_group)
                                                                : NULL;
    az->allow_everyone = conf->allow_everyone;
    az->gen = 1;
    az->quotas = weir_quotas_new(conf->quota_samples > 1 ? conf->quota_samples : 11,
                                 conf->quota_window_ms > 0 ? conf->quota_window_ms : 1000);
    az->limiter = weir_audit_limiter_new(
        conf->audit_deny_interval_ms > 0 ? conf->audit_deny_interval_ms : 60000,
        conf->audit_deny_burst > 0 ? conf->audit_deny_burst : 100);
    uv_timer_init(az->loop, &az->timer);
    az->timer.data = az;
    az->timer_open = true;
    uv_timer_start(&az->timer, weir_authz_on_timer, WEIR_AUTHZ_FLUSH_MS, WEIR_AUTHZ_FLUSH_MS);
    /* The flush timer alone must not keep a stopping loop alive. */
    uv_unref((uv_handle_t *)&az->timer);
    WEIR_LOG(WEIR_LOG_INFO, "governance_loaded", "acl_bindings=%zu tenants=%zu "
             "quota_overrides=%zu allow_everyone_if_no_acl_found=%s admin_group=%s",
             weir_acl_index_count(az->acls), weir_tenants_count(az->tenants), az->noverrides,
             az->allow_everyone ? "true" : "false", az->admin_group ? az->admin_group : "");
    *out = az;
    return 0;
}

static void
weir_gop_free(weir_gop_t *op)
{
    free(op->actor);
    for (size_t i = 0; i < op->nbindings; i++)
        weir_acl_binding_clear(&op->bindings[i]);
    free(op->bindings);
    free(op->results);
    for (size_t i = 0; i < op->nfilters; i++) {
        free((char *)op->filters[i].name);
        free((char *)op->filters[i].principal);
        free((char *)op->filters[i].host);
    }
    free(op->filters);
    free(op->ids);
    free(op->id_filter);
    for (size_t i = 0; i < op->nrows; i++)
        weir_authz_arow_clear(&op->rows[i]);
    free(op->rows);
    weir_acl_index_free(op->new_acls);
    weir_tenants_free(op->new_tenants);
    weir_authz_overrides_free(op->new_overrides, op->new_noverrides);
    free(op);
}

/* Answers an operation that will not run. */
static void
weir_gop_fail(weir_gop_t *op, int err)
{
    if (op->kind == WEIR_GOP_ACL_CREATE) {
        for (size_t i = 0; i < op->nbindings; i++)
            op->results[i] = err;
        op->created_cb(op->arg, op->results, op->nbindings);
    } else if (op->kind == WEIR_GOP_ACL_DELETE) {
        op->deleted_cb(op->arg, err, NULL, op->nfilters);
    }
}

/* Moves rows into the audit queue (ahead of what is there: they are older). */
static void
weir_authz_requeue_rows(weir_authz_t *az, weir_authz_arow_t *rows, size_t n)
{
    size_t keep = WEIR_MIN(n, WEIR_AUTHZ_AUDIT_MAX);

    if (az->naudit + keep > az->capaudit) {
        az->capaudit = az->naudit + keep;
        az->audit = weir_realloc(az->audit, az->capaudit * sizeof(*az->audit));
    }
    memmove(az->audit + keep, az->audit, az->naudit * sizeof(*az->audit));
    memcpy(az->audit, rows, keep * sizeof(*rows));
    for (size_t i = keep; i < n; i++)
        weir_authz_arow_clear(&rows[i]);
    az->naudit += keep;
    az->audit_dropped += (int64_t)(n - keep);
}

/* Writes the queued rows now, on this thread (start-up failures, stop). */
static void
weir_authz_flush_sync(weir_authz_t *az)
{
    size_t written = 0;

    if (az->naudit == 0)
        return;
    if (weir_govstore_begin(az->gs) == 0) {
        for (; written < az->naudit; written++) {
            weir_authz_arow_t *r = &az->audit[written];
            weir_audit_row_t row = {0, r->ts_ms, r->principal, r->action, r->target, r->outcome,
                                    r->detail};
            if (weir_govstore_audit_append(az->gs, &row) != 0)
                break;
        }
        if (written < az->naudit || weir_govstore_commit(az->gs) != 0) {
            weir_govstore_rollback(az->gs);
            written = 0;
        }
    }
    if (written == 0)
        WEIR_LOG(WEIR_LOG_ERROR, "audit_write_failed", "rows=%zu", az->naudit);
    for (size_t i = 0; i < az->naudit; i++)
        weir_authz_arow_clear(&az->audit[i]);
    az->naudit = 0;
}

static void
weir_authz_on_timer_closed(uv_handle_t *h)
{
    weir_authz_t *az = h->data;

    az->timer_open = false;
    weir_authz_maybe_free(az);
}

void
weir_authz_stop(weir_authz_t *az)
{
    weir_gop_t *op;

    if (!az || az->stopping)
        return;
    az->stopping = true;
    uv_timer_stop(&az->timer);
    uv_close((uv_handle_t *)&az->timer, weir_authz_on_timer_closed);
    while ((op = az->head) != NULL) {
        az->head = op->next;
        if (op->kind == WEIR_GOP_AUDIT) {
            weir_authz_requeue_rows(az, op->rows, op->nrows);
            free(op->rows);
            op->rows = NULL;
            op->nrows = 0;
        } else {
            weir_gop_fail(op, -ECANCELED);
        }
        weir_gop_free(op);
    }
    az->tail = NULL;
}

static void
weir_authz_maybe_free(weir_authz_t *az)
{
    if (!az->stopping || az->job || az->timer_open)
        return;
    weir_authz_flush_sync(az);
    weir_govstore_close(az->gs);
    weir_acl_index_free(az->acls);
    weir_tenants_free(az->tenants);
    weir_authz_overrides_free(az->overrides, az->noverrides);
    weir_quotas_free(az->quotas);
    weir_audit_limiter_free(az->limiter);
    weir_principal_refs_free(az->super_users, az->nsuper);
    free(az->admin_group);
    free(az->audit);
    free(az);
}

uint64_t
weir_authz_generation(const weir_authz_t *az)
{
    return az ? az->gen : 0;
}

size_t
weir_authz_acl_count(const weir_authz_t *az)
{
    return az ? weir_acl_index_count(az->acls) : 0;
}

const weir_tenants_t *
weir_authz_tenants(const weir_authz_t *az)
{
    return az ? az->tenants : NULL;
}

/* ------------------------------------------------------------------ */
/* The worker                                                         */

static void
weir_gop_work(uv_work_t *w)
{
    weir_gop_t *op = weir_container_of(w, weir_gop_t, work);
    weir_govstore_t *gs = op->az->gs;
    int rc = 0;

    if (op->kind == WEIR_GOP_RELOAD) {
        weir_authz_load_t l;
        rc = weir_authz_load(gs, &l);
        op->new_acls = l.acls;
        op->new_tenants = l.tenants;
        op->new_overrides = l.ov;
        op->new_noverrides = l.nov;
        op->rc = rc;
        return;
    }
    rc = weir_govstore_begin(gs);
    switch (op->kind) {
    case WEIR_GOP_ACL_CREATE:
        for (size_t i = 0; i < op->nbindings && rc == 0; i++) {
            bool existed;
            if (op->results[i] == 0)
                rc = weir_govstore_acl_create(gs, &op->bindings[i], op->actor, &existed);
        }
        break;
    case WEIR_GOP_ACL_DELETE:
        for (size_t i = 0; i < op->nids && rc == 0; i++) {
            rc = weir_govstore_acl_delete(gs, op->ids[i], op->actor);
            if (rc == -ENOENT)
                rc = 0;
        }
        break;
    case WEIR_GOP_AUDIT:
        for (size_t i = 0; i < op->nrows && rc == 0; i++) {
            weir_authz_arow_t *r = &op->rows[i];
            weir_audit_row_t row = {0, r->ts_ms, r->principal, r->action, r->target, r->outcome,
                                    r->detail};
            rc = weir_govstore_audit_append(gs, &row);
        }
        break;
    case WEIR_GOP_RELOAD:
        break;
    }
    if (rc == 0)
        rc = weir_govstore_commit(gs);
    else
        weir_govstore_rollback(gs);
    op->rc = rc;
}

static void
weir_gop_done_create(weir_authz_t *az, weir_gop_t *op, bool ok)
{
    size_t added = 0;

    for (size_t i = 0; i < op->nbindings; i++) {
        if (op->results[i] != 0)
            continue;
        if (!ok) {
            op->results[i] = WEIR_ERR;
            continue;
        }
        if (weir_acl_index_add(az->acls, &op->bindings[i]) == 0)
            added++;
    }
    if (ok) {
        az->gen++;
        WEIR_LOG(WEIR_LOG_INFO, "acls_created", "principal=%s requested=%zu added=%zu "
                 "bindings=%zu", op->actor, op->nbindings, added,
                 weir_acl_index_count(az->acls));
    }
    op->created_cb(op->arg, op->results, op->nbindings);
}

static void
weir_gop_done_delete(weir_authz_t *az, weir_gop_t *op, bool ok)
{
    weir_authz_deleted_t *res;

    if (!ok) {
        op->deleted_cb(op->arg, WEIR_ERR, NULL, op->nfilters);
        return;
    }
    res = weir_calloc(op->nfilters + 1, sizeof(*res));
    for (size_t i = 0; i < op->nids; i++) {
        const weir_acl_binding_t *b = weir_acl_index_get(az->acls, op->ids[i]);
        weir_authz_deleted_t *d = &res[op->id_filter[i]];

        if (!b)
            continue;
        d->v = weir_realloc(d->v, (d->n + 1) * sizeof(*d->v));
        weir_acl_binding_copy(&d->v[d->n++], b);
        weir_acl_index_remove(az->acls, op->ids[i]);
    }
    az->gen++;
    WEIR_LOG(WEIR_LOG_INFO, "acls_deleted", "principal=%s filters=%zu deleted=%zu bindings=%zu",
             op->actor, op->nfilters, op->nids, weir_acl_index_count(az->acls));
    op->deleted_cb(op->arg, 0, res, op->nfilters);
    for (size_t i = 0; i < op->nfilters; i++) {
        for (size_t j = 0; j < res[i].n; j++)
            weir_acl_binding_clear(&res[i].v[j]);
        free(res[i].v);
    }
    free(res);
}

static void
weir_gop_done(uv_work_t *w, int status)
{
    weir_gop_t *op = weir_container_of(w, weir_gop_t, work);
    weir_authz_t *az = op->az;
    bool ok = status == 0 && op->rc == 0;

    az->job = NULL;
    switch (op->kind) {
    case WEIR_GOP_ACL_CREATE:
        weir_gop_done_create(az, op, ok);
        break;
    case WEIR_GOP_ACL_DELETE:
        weir_gop_done_delete(az, op, ok);
        break;
    case WEIR_GOP_AUDIT:
        if (!ok) {
            WEIR_LOG(WEIR_LOG_ERROR, "audit_write_failed", "rows=%zu note=\"kept for the next "
                     "attempt\"", op->nrows);
            weir_authz_requeue_rows(az, op->rows, op->nrows);
            free(op->rows);
            op->rows = NULL;
            op->nrows = 0;
        }
        break;
    case WEIR_GOP_RELOAD:
        if (ok && !az->stopping) {
            weir_acl_index_free(az->acls);
            weir_tenants_free(az->tenants);
            weir_authz_overrides_free(az->overrides, az->noverrides);
            az->acls = op->new_acls;
            az->tenants = op->new_tenants;
            az->overrides = op->new_overrides;
            az->noverrides = op->new_noverrides;
            op->new_acls = NULL;
            op->new_tenants = NULL;
            op->new_overrides = NULL;
            op->new_noverrides = 0;
            az->gen++;
            WEIR_LOG(WEIR_LOG_INFO, "governance_reloaded", "acl_bindings=%zu tenants=%zu "
                     "quota_overrides=%zu", weir_acl_index_count(az->acls),
                     weir_tenants_count(az->tenants), az->noverrides);
        } else if (!ok) {
            WEIR_LOG(WEIR_LOG_ERROR, "governance_reload_failed", "note=\"the previous "
                     "snapshot stays in use\"");
        }
        break;
    }
    weir_gop_free(op);
    if (az->stopping) {
        /* Rows queued meanwhile go out with the final synchronous flush. */
        weir_authz_maybe_free(az);
        return;
    }
    weir_authz_kick(az);
}

/* Matches the filters of a delete against the snapshot as it is now. */
typedef struct weir_gop_walk_s {
    weir_gop_t *op;
    size_t cap;
} weir_gop_walk_t;

static void
weir_gop_walk(void *arg, const weir_acl_binding_t *b)
{
    weir_gop_walk_t *wk = arg;
    weir_gop_t *op = wk->op;

    for (size_t f = 0; f < op->nfilters; f++) {
        if (!weir_acl_filter_matches(&op->filters[f], b))
            continue;
        if (op->nids == wk->cap) {
            wk->cap = wk->cap ? wk->cap * 2 : 16;
            op->ids = weir_realloc(op->ids, wk->cap * sizeof(*op->ids));
            op->id_filter = weir_realloc(op->id_filter, wk->cap * sizeof(*op->id_filter));
        }
        op->ids[op->nids] = b->id;
        op->id_filter[op->nids] = f;
        op->nids++;
        return;
    }
}

static void
weir_gop_prepare_delete(weir_authz_t *az, weir_gop_t *op)
{
    weir_gop_walk_t wk = {op, 0};

    weir_acl_index_foreach(az->acls, NULL, weir_gop_walk, &wk);
}

static void
weir_authz_kick(weir_authz_t *az)
{
    weir_gop_t *op;
    int rc;

    if (az->job || !az->head || az->stopping)
        return;
    op = az->head;
    az->head = op->next;
    if (!az->head)
        az->tail = NULL;
    op->next = NULL;
    op->started = true;
    if (op->kind == WEIR_GOP_ACL_DELETE)
        weir_gop_prepare_delete(az, op);
    az->job = op;
    rc = uv_queue_work(az->loop, &op->work, weir_gop_work, weir_gop_done);
    if (rc != 0) {
        WEIR_LOG(WEIR_LOG_ERROR, "governance_job_failed", "error=\"%s\"", uv_strerror(rc));
        op->rc = WEIR_ERR;
        weir_gop_done(&op->work, rc);
    }
}

static void
weir_authz_push(weir_authz_t *az, weir_gop_t *op)
{
    op->az = az;
    if (az->tail)
        az->tail->next = op;
    else
        az->head = op;
    az->tail = op;
    weir_authz_kick(az);
}

void
weir_authz_reload(weir_authz_t *az)
{
    weir_gop_t *op;

    if (!az || az->stopping)
        return;
    op = weir_calloc(1, sizeof(*op));
    op->kind = WEIR_GOP_RELOAD;
    weir_authz_push(az, op);
}

/* ------------------------------------------------------------------ */
/* Audit queue                                                        */

/* Moves the queued rows into an audit operation (the queued one that has
 * not started, if any). */
static void
weir_authz_flush(weir_authz_t *az)
{
    weir_gop_t *op = az->tail;
    int64_t dropped = weir_audit_limiter_take_dropped(az->limiter);

    if (dropped > 0 || az->audit_dropped > 0) {
        char detail[128];
        snprintf(detail, sizeof(detail), "denials_over_burst=%" PRId64 " queue_full=%" PRId64,
                 dropped, az->audit_dropped);
        az->audit_dropped = 0;
        weir_authz_audit(az, "broker", "audit.suppressed", "audit_log", "dropped", detail);
    }
    if (az->naudit == 0 || az->stopping)
        return;
    if (!op || op->kind != WEIR_GOP_AUDIT || op->started) {
        op = weir_calloc(1, sizeof(*op));
        op->kind = WEIR_GOP_AUDIT;
        op->rows = az->audit;
        op->nrows = az->naudit;
        az->audit = NULL;
        az->naudit = az->capaudit = 0;
        weir_authz_push(az, op);
        return;
    }
    op->rows = weir_realloc(op->rows, (op->nrows + az->naudit) * sizeof(*op->rows));
    memcpy(op->rows + op->nrows, az->audit, az->naudit * sizeof(*az->audit));
    op->nrows += az->naudit;
    az->naudit = 0;
}

static void
weir_authz_on_timer(uv_timer_t *t)
{
    weir_authz_flush(t->data);
}

void
weir_authz_audit(weir_authz_t *az, const char *principal, const char *action,
                 const char *target, const char *outcome, const char *detail)
{
    weir_authz_arow_t *r;

    if (!az)
        return;
    if (az->naudit >= WEIR_AUTHZ_AUDIT_MAX) {
        az->audit_dropped++;
        return;
    }
    if (az->naudit == az->capaudit) {
        az->capaudit = az->capaudit ? az->capaudit * 2 : 64;
        az->audit = weir_realloc(az->audit, az->capaudit * sizeof(*az->audit));
    }
    r = &az->audit[az->naudit++];
    r->ts_ms = weir_wall_ms();
    r->principal = weir_strdup(principal ? principal : "");
    r->action = weir_strdup(action ? action : "");
    r->target = weir_strdup(target ? target : "");
    r->outcome = weir_strdup(outcome ? outcome : "");
    r->detail = weir_strdup(detail ? detail : "");
    if (az->naudit >= WEIR_AUTHZ_AUDIT_BATCH)
        weir_authz_flush(az);
}

/* ------------------------------------------------------------------ */
/* Sessions                                                           */

void
weir_authz_session_free(weir_authz_session_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i].name);
    free(s->slots);
    for (size_t i = 0; i < s->ngroups; i++)
        free(s->groups[i]);
    free(s->groups);
    free(s->user);
    free(s);
}

static void
weir_authz_cache_clear(weir_authz_session_t *s)
{
    for (size_t i = 0; i < s->cap; i++) {
        free(s->slots[i].name);
        s->slots[i].name = NULL;
    }
    s->count = 0;
}

static bool
weir_authz_same_principal(const weir_authz_session_t *s, const weir_principal_t *p)
{
    const char *u = p->user ? p->user : "ANONYMOUS";

    if (!s->user || strcmp(s->user, u) != 0 || s->ngroups != p->ngroups)
        return false;
    for (size_t i = 0; i < s->ngroups; i++)
        if (strcmp(s->groups[i], p->groups[i]) != 0)
            return false;
    return true;
}

/* The override of a principal ("User:<name>"), or NULL. */
static const weir_authz_override_t *
weir_authz_override(const weir_authz_t *az, const char *principal)
{
    for (size_t i = 0; i < az->noverrides; i++)
        if (strcmp(az->overrides[i].principal, principal) == 0)
            return &az->overrides[i];
    return NULL;
}

/* The quota entity of one direction: the principal's override, else its
 * tenant's rate. */
static void
weir_authz_quota_entity(weir_authz_t *az, weir_authz_session_t *s, bool produce,
                        weir_quota_sensor_t **sensor, double *bound)
{
    const weir_authz_override_t *o = weir_authz_override(az, s->principal);
    const char *dir = produce ? "produce" : "fetch";
    int64_t rate;
    size_t n;
    char *key;

    *sensor = NULL;
    *bound = 0;
    rate = o ? (produce ? o->produce : o->fetch) : -1;
    if (rate > 0) {
        n = strlen(s->principal) + 16;
        key = weir_malloc(n);
        snprintf(key, n, "%s:%s", s->principal, dir);
    } else if (s->tenant && (rate = produce ? s->tenant->produce_byte_rate
                                            : s->tenant->fetch_byte_rate) > 0) {
        n = strlen(s->tenant->name) + 24;
        key = weir_malloc(n);
        snprintf(key, n, "tenant:%s:%s", s->tenant->name, dir);
    } else {
        return;
    }
    *sensor = weir_quotas_sensor(az->quotas, key);
    *bound = (double)rate;
    free(key);
}

static void
weir_authz_session_refresh(weir_authz_t *az, weir_authz_session_t *s, const weir_principal_t *p)
{
    const char *u = p->user ? p->user : "ANONYMOUS";

    if (!weir_authz_same_principal(s, p)) {
        for (size_t i = 0; i < s->ngroups; i++)
            free(s->groups[i]);
        free(s->groups);
        free(s->user);
        s->user = weir_strdup(u);
        s->ngroups = p->ngroups;
        s->groups = p->ngroups ? weir_calloc(p->ngroups, sizeof(*s->groups)) : NULL;
        for (size_t i = 0; i < p->ngroups; i++)
            s->groups[i] = weir_strdup(p->groups[i]);
        snprintf(s->principal, sizeof(s->principal), "User:%s", u);
    }
    s->admin = weir_principal_matches(p, az->super_users, az->nsuper) ||
               (az->admin_group && weir_principal_in_group(p, az->admin_group));
    s->tenant = weir_tenants_of(az->tenants, p);
    weir_authz_quota_entity(az, s, true, &s->produce, &s->produce_bound);
    weir_authz_quota_entity(az, s, false, &s->fetch, &s->fetch_bound);
    weir_authz_cache_clear(s);
    s->gen = az->gen;
    s->valid = true;
}

static weir_authz_session_t *
weir_authz_session(weir_authz_t *az, weir_conn_t *conn)
{
    weir_authz_session_t *s = conn->authz;

    if (!s) {
        s = weir_calloc(1, sizeof(*s));
        weir_authz_host(conn->peer, s->host, sizeof(s->host));
        conn->authz = s;
    }
    if (!s->valid || s->gen != az->gen || !weir_authz_same_principal(s, &conn->principal))
        weir_authz_session_refresh(az, s, &conn->principal);
    return s;
}

/* ------------------------------------------------------------------ */
/* Decision cache                                                     */

static uint32_t
weir_authz_key_hash(int res_type, int op, const char *name, size_t len)
{
    uint32_t h = 2166136261u ^ (uint32_t)(res_type << 8 | op);

    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)name[i];
        h *= 16777619u;
    }
    return h;
}

static weir_authz_slot_t *
weir_authz_cache_find(weir_authz_session_t *s, uint32_t h, int res_type, int op,
                      const char *name, size_t len)
{
    if (s->cap == 0)
        return NULL;
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        weir_authz_slot_t *e = &s->slots[i];
        if (!e->name)
            return NULL;
        if (e->hash == h && e->res_type == res_type && e->op == op && e->len == len &&
            memcmp(e->name, name, len) == 0)
            return e;
    }
}

static void
weir_authz_cache_put(weir_authz_session_t *s, uint32_t h, int res_type, int op,
                     const char *name, size_t len, bool allowed)
{
    size_t i;

    if (len > WEIR_ACL_MAX_FIELD)
        return;
    if ((s->count + 1) * 4 > s->cap * 3) {
        if (s->cap >= WEIR_AUTHZ_CACHE_MAX) {
            weir_authz_cache_clear(s);
        } else {
            size_t ncap = s->cap ? s->cap * 2 : WEIR_AUTHZ_CACHE_MIN;
            weir_authz_slot_t *old = s->slots;
            size_t ocap = s->cap;

            s->slots = weir_calloc(ncap, sizeof(*s->slots));
            s->cap = ncap;
            for (size_t k = 0; k < ocap; k++) {
                if (!old[k].name)
                    continue;
                for (i = old[k].hash & (ncap - 1); s->slots[i].name; i = (i + 1) & (ncap - 1))
                    ;
                s->slots[i] = old[k];
            }
            free(old);
        }
    }
    for (i = h & (s->cap - 1); s->slots[i].name; i = (i + 1) & (s->cap - 1))
        ;
    s->slots[i].name = weir_strndup(name, len);
    s->slots[i].len = (uint32_t)len;
    s->slots[i].hash = h;
    s->slots[i].res_type = (int8_t)res_type;
    s->slots[i].op = (int8_t)op;
    s->slots[i].allowed = allowed;
    s->count++;
}

/* ------------------------------------------------------------------ */
/* Decisions                                                          */

static void
weir_authz_deny_record(weir_authz_t *az, weir_authz_session_t *s, const char *api, int res_type,
                       const char *name, size_t len, int op)
{
    char safe[WEIR_AUTHZ_LOG_NAME + 4], action[96], target[WEIR_AUTHZ_LOG_NAME + 40];
    char key[512], detail[160];
    int64_t suppressed;
    int klen;

    weir_authz_safe(name, len, safe, sizeof(safe));
    snprintf(action, sizeof(action), "%s:%s", api ? api : "?", weir_acl_op_name(op));
    snprintf(target, sizeof(target), "%s:%s", weir_acl_res_name(res_type), safe);
    klen = snprintf(key, sizeof(key), "%s%c%s%c%s", s->principal, 0, action, 0, target);
    if (klen < 0)
        return;
    if (!weir_audit_limiter_admit(az->limiter, key, WEIR_MIN((size_t)klen, sizeof(key) - 1),
                                  weir_wall_ms(), &suppressed))
        return;
    WEIR_LOG(WEIR_LOG_INFO, "authorization_denied", "principal=%s host=%s api=%s operation=%s "
             "resource=\"%s\" repeats_suppressed=%" PRId64, s->principal, s->host,
             api ? api : "?", weir_acl_op_name(op), target, suppressed);
    snprintf(detail, sizeof(detail), "host=%s repeats_suppressed=%" PRId64, s->host, suppressed);
    weir_authz_audit(az, s->principal, action, target, "denied", detail);
}

bool
weir_authz_allowed(weir_authz_t *az, weir_conn_t *conn, const char *api, int res_type,
                   const char *name, size_t len, int op, bool quiet)
{
    weir_authz_session_t *s;
    weir_authz_slot_t *e;
    weir_acl_subject_t subj;
    weir_acl_result_t r;
    uint32_t h;
    bool allowed;

    if (!az || !conn)
        return true;
    if (az->allow_everyone && weir_acl_index_count(az->acls) == 0)
        return true;
    s = weir_authz_session(az, conn);
    if (s->admin)
        return true;
    h = weir_authz_key_hash(res_type, op, name, len);
    e = weir_authz_cache_find(s, h, res_type, op, name, len);
    if (e) {
        allowed = e->allowed;
    } else {
        subj.user = s->user;
        subj.groups = s->groups;
        subj.ngroups = s->ngroups;
        subj.host = s->host;
        r = weir_acl_evaluate(az->acls, &subj, res_type, name, len, op);
        allowed = r == WEIR_ACL_ALLOWED || (r == WEIR_ACL_NONE && az->allow_everyone);
        weir_authz_cache_put(s, h, res_type, op, name, len, allowed);
    }
    if (!allowed && !quiet)
        weir_authz_deny_record(az, s, api, res_type, name, len, op);
    return allowed;
}

bool
weir_authz_is_admin(weir_authz_t *az, weir_conn_t *conn)
{
    if (!az || !conn)
        return true;
    return weir_authz_session(az, conn)->admin;
}

static const char *
weir_req_api_name(const weir_req_t *req)
{
    const weir_api_desc_t *d = weir_api_desc(req->ApiKey);

    return d ? d->name : "?";
}

static weir_authz_t *
weir_req_authz(const weir_req_t *req)
{
    return req->brk ? req->brk->authz : NULL;
}

bool
weir_req_allowed(weir_req_t *req, int res_type, weir_str_t name, int op)
{
    return weir_authz_allowed(weir_req_authz(req), req->conn, weir_req_api_name(req), res_type,
                              name.ptr ? name.ptr : "", name.len > 0 ? (size_t)name.len : 0, op,
                              false);
}

bool
weir_req_visible(weir_req_t *req, int res_type, weir_str_t name, int op)
{
    return weir_authz_allowed(weir_req_authz(req), req->conn, weir_req_api_name(req), res_type,
                              name.ptr ? name.ptr : "", name.len > 0 ? (size_t)name.len : 0, op,
                              true);
}

bool
weir_req_allowed_cluster(weir_req_t *req, int op)
{
    return weir_authz_allowed(weir_req_authz(req), req->conn, weir_req_api_name(req),
                              WEIR_ACL_RES_CLUSTER, WEIR_ACL_CLUSTER_NAME,
                              strlen(WEIR_ACL_CLUSTER_NAME), op, false);
}

bool
weir_req_allowed_idempotent(weir_req_t *req)
{
    weir_authz_t *az = weir_req_authz(req);
    weir_authz_session_t *s;
    weir_acl_subject_t subj;
    weir_acl_result_t r;

    if (!az || !req->conn)
        return true;
    if (weir_authz_allowed(az, req->conn, weir_req_api_name(req), WEIR_ACL_RES_CLUSTER,
                           WEIR_ACL_CLUSTER_NAME, strlen(WEIR_ACL_CLUSTER_NAME),
                           WEIR_ACL_OP_IDEMPOTENT_WRITE, true))
        return true;
    s = weir_authz_session(az, req->conn);
    subj.user = s->user;
    subj.groups = s->groups;
    subj.ngroups = s->ngroups;
    subj.host = s->host;
    r = weir_acl_evaluate_any(az->acls, &subj, WEIR_ACL_RES_TOPIC, WEIR_ACL_OP_WRITE);
    if (r == WEIR_ACL_ALLOWED || (r == WEIR_ACL_NONE && az->allow_everyone))
        return true;
    weir_authz_deny_record(az, s, weir_req_api_name(req), WEIR_ACL_RES_CLUSTER,
                           WEIR_ACL_CLUSTER_NAME, strlen(WEIR_ACL_CLUSTER_NAME),
                           WEIR_ACL_OP_IDEMPOTENT_WRITE);
    return false;
}

bool
weir_req_is_admin(weir_req_t *req)
{
    return weir_authz_is_admin(weir_req_authz(req), req->conn);
}

/* ------------------------------------------------------------------ */
/* Tenant policy                                                      */

/* Partitions of every topic t owns, now. */
static int64_t
weir_authz_tenant_partitions(weir_authz_t *az, weir_broker_t *brk, const weir_tenant_t *t)
{
    int64_t total = 0;

    for (size_t i = 0; i < brk->ntopics; i++) {
        const weir_topic_t *tp = brk->topics[i];
        if (weir_tenants_owner(az->tenants, tp->name, strlen(tp->name)) == t)
            total += tp->npartitions;
    }
    return total;
}

static void
weir_authz_prefix_list(const weir_tenant_t *t, char *out, size_t size)
{
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < t->nprefixes && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "", t->prefixes[i]);
    if (t->nprefixes == 0)
        snprintf(out, size, "(none)");
}

weir_kerr_t
weir_req_topic_create_denied(weir_req_t *req, const char *name, char *errstr,
                             size_t errstr_size)
{
    weir_authz_t *az = weir_req_authz(req);
    weir_authz_session_t *s;
    char prefixes[512], safe[WEIR_AUTHZ_LOG_NAME + 4];

    weir_authz_safe(name, strlen(name), safe, sizeof(safe));
    if (az && req->conn) {
        s = weir_authz_session(az, req->conn);
        if (s->tenant) {
            weir_authz_prefix_list(s->tenant, prefixes, sizeof(prefixes));
            snprintf(errstr, errstr_size, "tenant %s may create topics only under its prefixes "
                     "(%s); '%s' is outside them", s->tenant->name, prefixes, safe);
            return WEIR_KERR_POLICY_VIOLATION;
        }
    }
    snprintf(errstr, errstr_size, "not authorized to create topic '%s'", safe);
    return WEIR_KERR_TOPIC_AUTHORIZATION_FAILED;
}

/* The owner tenant whose policy applies to a change of topic name by req's
 * principal: NULL for administrators and topics outside every tenant. */
static const weir_tenant_t *
weir_authz_policy_tenant(weir_req_t *req, const char *name)
{
    weir_authz_t *az = weir_req_authz(req);

    if (!az || !req->conn || weir_authz_session(az, req->conn)->admin)
        return NULL;
    return weir_tenants_owner(az->tenants, name, strlen(name));
}

static int64_t
weir_authz_retention(const weir_broker_t *brk, const weir_kvlist_t *overrides)
{
    weir_log_config_t lc;

    weir_topic_config_resolve(brk->conf, overrides, &lc);
    return lc.retention_ms;
}

weir_kerr_t
weir_req_topic_create_policy(weir_req_t *req, const char *name, int32_t partitions,
                             weir_kvlist_t *configs, char *errstr, size_t errstr_size)
{
    const weir_tenant_t *t = weir_authz_policy_tenant(req, name);
    weir_authz_t *az = weir_req_authz(req);
    int64_t retention;

    if (!t)
        return WEIR_KERR_NONE;
    if (!t->direct_create) {
        snprintf(errstr, errstr_size, "tenant %s creates topics through requests that an "
                 "administrator approves; topic creation with the Kafka API is off for it",
                 t->name);
        return WEIR_KERR_POLICY_VIOLATION;
    }
    retention = weir_authz_retention(req->brk, configs);
    if (t->max_retention_ms != WEIR_TENANT_UNLIMITED && !weir_kvlist_get(configs, "retention.ms") &&
        (retention < 0 || retention > t->max_retention_ms)) {
        /* The broker default exceeds the tenant's limit: the topic gets the
         * limit as its retention.ms. */
        char v[32];
        snprintf(v, sizeof(v), "%" PRId64, t->max_retention_ms);
        weir_kvlist_set(configs, "retention.ms", v);
        retention = t->max_retention_ms;
    }
    return weir_tenant_check_create(t, name, partitions,
                                    weir_authz_tenant_partitions(az, req->brk, t), retention,
                                    errstr, errstr_size);
}

weir_kerr_t
weir_req_topic_partitions_policy(weir_req_t *req, const weir_topic_t *tp, int32_t new_count,
                                 char *errstr, size_t errstr_size)
{
    const weir_tenant_t *t = weir_authz_policy_tenant(req, tp->name);

    if (!t)
        return WEIR_KERR_NONE;
    return weir_tenant_check_partitions(t, tp->name, tp->npartitions, new_count,
                                        weir_authz_tenant_partitions(weir_req_authz(req),
                                                                     req->brk, t),
                                        errstr, errstr_size);
}

weir_kerr_t
weir_req_topic_configs_policy(weir_req_t *req, const weir_topic_t *tp,
                              const weir_kvlist_t *overrides, char *errstr, size_t errstr_size)
{
    const weir_tenant_t *t = weir_authz_policy_tenant(req, tp->name);

    if (!t)
        return WEIR_KERR_NONE;
    return weir_tenant_check_retention(t, tp->name, weir_authz_retention(req->brk, overrides),
                                       errstr, errstr_size);
}

/* ------------------------------------------------------------------ */
/* Quotas                                                             */

int32_t
weir_req_quota_produce(weir_req_t *req, int64_t bytes)
{
    weir_authz_t *az = weir_req_authz(req);
    weir_authz_session_t *s;

    if (!az || !req->conn || (weir_tenants_count(az->tenants) == 0 && az->noverrides == 0))
        return 0;
    s = weir_authz_session(az, req->conn);
    if (!s->produce)
        return 0;
    return weir_quota_record(s->produce, (double)bytes, weir_mono_ms(), s->produce_bound);
}

int32_t
weir_req_quota_fetch(weir_req_t *req, int64_t bytes)
{
    weir_authz_t *az = weir_req_authz(req);
    weir_authz_session_t *s;
    int64_t now;
    int32_t ms;

    if (!az || !req->conn || (weir_tenants_count(az->tenants) == 0 && az->noverrides == 0))
        return 0;
    s = weir_authz_session(az, req->conn);
    if (!s->fetch)
        return 0;
    now = weir_mono_ms();
    ms = weir_quota_record(s->fetch, (double)bytes, now, s->fetch_bound);
    if (ms > 0)
        weir_quota_unrecord(s->fetch, (double)bytes, now);
    return ms;
}

void
weir_req_throttle(weir_req_t *req, int32_t ms)
{
    if (ms > 0 && req->conn)
        weir_conn_mute(req->conn, ms);
}

void
weir_req_audit(weir_req_t *req, const char *action, const char *target, const char *outcome,
               const char *detail)
{
    weir_authz_t *az = weir_req_authz(req);
    char principal[160];

    if (!az)
        return;
    if (req->conn)
        weir_principal_str(&req->conn->principal, principal, sizeof(principal));
    else
        snprintf(principal, sizeof(principal), "unknown");
    weir_authz_audit(az, principal, action, target, outcome, detail);
}

/* ------------------------------------------------------------------ */
/* ACL management                                                     */

void
weir_authz_acls_describe(weir_authz_t *az, const weir_acl_filter_t *f,
                         void (*cb)(void *arg, const weir_acl_binding_t *b), void *arg)
{
    if (az)
        weir_acl_index_foreach(az->acls, f, cb, arg);
}

void
weir_authz_acls_create(weir_authz_t *az, const weir_acl_binding_t *bindings, size_t n,
                       const char *actor, weir_authz_created_cb cb, void *arg)
{
    weir_gop_t *op = weir_calloc(1, sizeof(*op));

    op->kind = WEIR_GOP_ACL_CREATE;
    op->actor = weir_strdup(actor ? actor : "");
    op->created_cb = cb;
    op->arg = arg;
    op->nbindings = n;
    op->bindings = weir_calloc(n + 1, sizeof(*op->bindings));
    op->results = weir_calloc(n + 1, sizeof(*op->results));
    for (size_t i = 0; i < n; i++)
        weir_acl_binding_copy(&op->bindings[i], &bindings[i]);
    if (!az || az->stopping) {
        weir_gop_fail(op, -ECANCELED);
        weir_gop_free(op);
        return;
    }
    weir_authz_push(az, op);
}

static const char *
weir_authz_dup_opt(const char *s)
{
    return s ? weir_strdup(s) : NULL;
}

void
weir_authz_acls_delete(weir_authz_t *az, const weir_acl_filter_t *filters, size_t n,
                       const char *actor, weir_authz_deleted_cb cb, void *arg)
{
    weir_gop_t *op = weir_calloc(1, sizeof(*op));

    op->kind = WEIR_GOP_ACL_DELETE;
    op->actor = weir_strdup(actor ? actor : "");
    op->deleted_cb = cb;
    op->arg = arg;
    op->nfilters = n;
    op->filters = weir_calloc(n + 1, sizeof(*op->filters));
    for (size_t i = 0; i < n; i++) {
        op->filters[i] = filters[i];
        op->filters[i].name = weir_authz_dup_opt(filters[i].name);
        op->filters[i].principal = weir_authz_dup_opt(filters[i].principal);
        op->filters[i].host = weir_authz_dup_opt(filters[i].host);
    }
    if (!az || az->stopping) {
        weir_gop_fail(op, -ECANCELED);
        weir_gop_free(op);
        return;
    }
    weir_authz_push(az, op);
}
