/*
 * weir_admin_api.c: the admin HTTP API routes (/admin/v1/...) - tenants,
 * requests and their decisions (approve, reject, cancel) and the diff of
 * schema requests, subject policies, topics, groups, ACLs, the audit log -
 * and the serial queue of their weir.db jobs on the worker pool
 * (weir_admin_api.h).
 *
 * Handlers run on the loop: they check who may do what (administrator
 * rights from the principal), parse the body, then queue a job and defer
 * the answer.  Jobs run one at a time on the API's own weir_govstore_t
 * connection (opened by the first job); the answer (status + JSON) is
 * built on the worker and sent from the loop.  A change reloads the
 * authorizer's snapshot (ACLs, tenants) once committed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "weir_admin_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_conf.h"
#include "weir_http.h"
#include "weir_log.h"
#include "weir_registry.h"
#include "weir_schema_diff.h"
#include "weir_store_governance.h"
#include "weir_tenant.h"
#include "weir_topic_config.h"
#include "group/weir_group.h"
#include "weir_plog.h"

/** What a job does. */
typedef enum weir_admin_op_e {
    WEIR_ADMIN_TENANTS_LIST,
    WEIR_ADMIN_TENANT_GET,
    WEIR_ADMIN_TENANT_CREATE,
    WEIR_ADMIN_TENANT_UPDATE,
    WEIR_ADMIN_REQUESTS_LIST,
    WEIR_ADMIN_REQUEST_GET,
    WEIR_ADMIN_REQUEST_CREATE,
    WEIR_ADMIN_REQUEST_APPROVE,
    WEIR_ADMIN_REQUEST_REJECT,
    WEIR_ADMIN_REQUEST_CANCEL,
    WEIR_ADMIN_REQUEST_DIFF,   /* the request read on the worker, the diff on the loop */
    WEIR_ADMIN_AUDIT_LIST,
    WEIR_ADMIN_AUDIT_VERIFY,
    WEIR_ADMIN_TOPICS_LIST,    /* answered on the loop, with the tenants read first */
    WEIR_ADMIN_TOPIC_GET,
    WEIR_ADMIN_GROUPS_LIST,
    WEIR_ADMIN_GROUP_GET,
} weir_admin_op_t;

/* Steps of approving a topic request: the worker checks the request and
 * that its tenant exists; the loop checks everything else before creating
 * anything (the broker's validate-only pass: the name is free, partitions
 * and configs are valid; the tenant's limits as they are now) and only then
 * creates the topic; the worker commits the grants and the decision in one
 * transaction (or records why the approval failed, leaving the request
 * pending); the loop removes the topic again if that commit failed.  The
 * topic lives in the broker's store connection and the grants in the
 * governance one, so one SQLite transaction cannot hold both: the checks
 * first, then the undo, keep an approval all or nothing. */
typedef enum weir_admin_stage_e {
    WEIR_ADMIN_STAGE_NONE = 0,
    WEIR_ADMIN_STAGE_CREATE_TOPIC, /* next: on the loop */
    WEIR_ADMIN_STAGE_GRANT,        /* next: on the worker */
    WEIR_ADMIN_STAGE_RECORD_FAIL,  /* next: on the worker */
    WEIR_ADMIN_STAGE_REGISTER_SCHEMA, /* next: on the loop (the registry lives there) */
    WEIR_ADMIN_STAGE_SCHEMA_DECIDE,   /* next: on the worker */
} weir_admin_stage_t;

typedef struct weir_admin_job_s weir_admin_job_t;

struct weir_admin_api_s {
    weir_broker_t *brk;
    char *db_path;
    weir_govstore_t *gs;       /* used only by the running job */
    weir_admin_job_t *head, *tail; /* queued, not started */
    weir_admin_job_t *running;
    bool closing;
};

struct weir_admin_job_s {
    uv_work_t work;
    weir_admin_api_t *api;
    weir_admin_job_t *next;
    weir_http_req_t *req;      /* NULL once the client went away */
    weir_admin_op_t op;
    /* inputs (copied on the loop) */
    weir_principal_t who;
    char actor[512];           /* "User:alice" */
    bool admin;
    char *name;                /* tenant name, state filter, ... */
    char *kind;                /* requests list: kind filter */
    int64_t id;
    json_t *body;
    weir_tenant_t tenant;      /* tenant create */
    int64_t since_ms, after_id, limit;
    char *principal_filter, *action_filter;
    /* outputs (set on the worker) */
    int status;
    json_t *answer;
    bool changed;              /* reload the authorizer's snapshot */
    weir_tenants_t *tenants;   /* as read by the worker, for loop steps */
    /* topic approval */
    weir_admin_stage_t stage;
    weir_gov_request_t row;
    int32_t partitions;
    weir_kvlist_t configs;
    bool topic_created;
    /* schema approval */
    int32_t schema_id, schema_version;
    bool schema_existed;
    char err[512];
    /* after a change: the answer waits for the authorizer's new snapshot */
    uv_timer_t reload_timer;
    bool timer_open;
    uint64_t reload_gen;
    uint64_t reload_deadline;
};

/* Longest wait for the authorizer to load a committed change before the
 * answer goes out anyway. */
#define WEIR_ADMIN_RELOAD_WAIT_MS 3000

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static bool
weir_admin_is_admin(const weir_http_req_t *req)
{
    const weir_broker_t *brk = req->brk;

    if (weir_principal_matches(&req->principal, brk->super_users, brk->nsuper_users))
        return true;
    return brk->conf->admin_group && *brk->conf->admin_group &&
           weir_principal_in_group(&req->principal, brk->conf->admin_group);
}

/* Answers 403 and records the denial in the audit log. */
static int
weir_admin_deny(weir_http_req_t *req, const char *action, const char *target, const char *msg)
{
    char who[512];

    weir_principal_str(&req->principal, who, sizeof(who));
    if (req->brk->authz)
        weir_authz_audit(req->brk->authz, who, action, target, "denied", msg);
    WEIR_LOG(WEIR_LOG_INFO, "admin_denied", "principal=%s action=%s target=%s", who, action,
             target);
    weir_http_respond_error(req, 403, 40301, "%s", msg);
    return 0;
}

static json_t *
weir_admin_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *
weir_admin_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return json_pack("{s:i, s:s}", "error_code", 0, "message", msg);
}

static void
weir_admin_fail(weir_admin_job_t *j, int status, json_t *err)
{
    json_object_set_new(err, "error_code", json_integer(status * 100));
    j->status = status;
    j->answer = err;
}

static json_t *
weir_admin_tenant_json(const weir_tenant_t *t)
{
    json_t *p = json_array();

    for (size_t i = 0; i < t->nprefixes; i++)
        json_array_append_new(p, json_string(t->prefixes[i]));
    return json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:b}", "name", t->name,
                     "ldap_group", t->ldap_group, "prefixes", p,
                     "max_partitions_per_topic", (json_int_t)t->max_partitions_per_topic,
                     "max_total_partitions", (json_int_t)t->max_total_partitions,
                     "max_retention_ms", (json_int_t)t->max_retention_ms,
                     "produce_byte_rate", (json_int_t)t->produce_byte_rate,
                     "fetch_byte_rate", (json_int_t)t->fetch_byte_rate,
                     "direct_create", t->direct_create);
}

static json_t *
weir_admin_request_json(const weir_gov_request_t *r)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "id",
                     (json_int_t)r->id, "kind", weir_gov_request_kind_name(r->kind), "state",
                     weir_gov_request_state_name(r->state), "tenant", r->tenant ? r->tenant : "",
                     "requester", r->requester ? r->requester : "", "target",
                     r->target ? r->target : "", "detail", r->detail ? r->detail : "",
                     "reason", r->reason ? r->reason : "", "created_ms",
                     (json_int_t)r->created_ms, "updated_ms", (json_int_t)r->updated_ms);
}

/* ------------------------------------------------------------------ */
/* Worker                                                              */

static void weir_admin_record_fail(weir_admin_job_t *j, weir_govstore_t *gs);

static void
weir_admin_tenant_cb(void *arg, const weir_tenant_t *t)
{
    weir_tenants_put(arg, t);
}

/* The tenants as stored (NULL on a database error). */
static weir_tenants_t *
weir_admin_tenants(weir_govstore_t *gs)
{
    weir_tenants_t *r = weir_tenants_new();

    if (weir_govstore_tenants_load(gs, weir_admin_tenant_cb, r) != 0) {
        weir_tenants_free(r);
        return NULL;
    }
    return r;
}

/* Whether j's principal may see request r: administrators, its requester
 * and the members of its tenant. */
static bool
weir_admin_may_see(const weir_admin_job_t *j, const weir_tenants_t *tenants,
                   const weir_gov_request_t *r)
{
    if (j->admin || (r->requester && strcmp(r->requester, j->actor) == 0))
        return true;
    const weir_tenant_t *t = r->tenant ? weir_tenants_find(tenants, r->tenant) : NULL;
    return t && weir_principal_in_group(&j->who, t->ldap_group);
}

/* Reads request j->id into *r (zeroed first); on failure answers 404 when
 * there is no such request, 500 otherwise, and returns false. */
static bool
weir_admin_load_request(weir_admin_job_t *j, weir_govstore_t *gs, weir_gov_request_t *r)
{
    memset(r, 0, sizeof(*r));
    int rc = weir_govstore_request_get(gs, j->id, r);
    if (rc == -ENOENT) {
        weir_admin_fail(j, 404, weir_admin_error("no request %" PRId64, j->id));
        return false;
    }
    if (rc != 0) {
        weir_admin_fail(j, 500, weir_admin_error("reading request %" PRId64 " failed", j->id));
        return false;
    }
    return true;
}

/* Whether j's principal may see request r (weir_admin_may_see); if not,
 * answers 403 and returns false. */
static bool
weir_admin_check_see(weir_admin_job_t *j, const weir_tenants_t *tenants,
                     const weir_gov_request_t *r)
{
    if (weir_admin_may_see(j, tenants, r))
        return true;
    weir_admin_fail(j, 403,
                    weir_admin_error("request %" PRId64 " belongs to tenant %s: only "
                                     "its members and administrators may see it",
                                     j->id, r->tenant));
    return false;
}

typedef struct weir_admin_list_s {
    weir_admin_job_t *j;
    const weir_tenants_t *tenants;
    json_t *out;
    int state;
} weir_admin_list_t;

static void
weir_admin_request_cb(void *arg, const weir_gov_request_t *r)
{
    weir_admin_list_t *l = arg;

    if (l->j->kind && strcmp(l->j->kind, weir_gov_request_kind_name(r->kind)) != 0)
        return;
    if (!weir_admin_may_see(l->j, l->tenants, r))
        return;
    json_array_append_new(l->out, weir_admin_request_json(r));
}

static void
weir_admin_decision_cb(void *arg, const weir_gov_decision_t *d)
{
    json_array_append_new(arg, json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)d->id,
                                         "decider", d->decider ? d->decider : "", "state",
                                         weir_gov_request_state_name(d->state), "reason",
                                         d->reason ? d->reason : "", "decided_ms",
                                         (json_int_t)d->decided_ms));
}

static void
weir_admin_audit_cb(void *arg, const weir_audit_row_t *row)
{
    weir_admin_list_t *l = arg;
    const weir_admin_job_t *j = l->j;

    if (row->ts_ms < j->since_ms)
        return;
    if (j->principal_filter && strcmp(row->principal, j->principal_filter) != 0)
        return;
    if (j->action_filter && strcmp(row->action, j->action_filter) != 0)
        return;
    json_array_append_new(l->out, json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s}", "id",
                                            (json_int_t)row->id, "ts_ms", (json_int_t)row->ts_ms,
                                            "principal", row->principal, "action", row->action,
                                            "target", row->target, "outcome", row->outcome,
                                            "detail", row->detail));
    /* keep the newest limit rows only */
    if (j->limit > 0 && json_array_size(l->out) > (size_t)j->limit)
        json_array_remove(l->out, 0);
}

static void
weir_admin_do_request_create(weir_admin_job_t *j, weir_govstore_t *gs,
                             const weir_tenants_t *tenants)
{
    json_t *b = j->body;
    const char *kind = json_string_value(json_object_get(b, "kind"));
    const char *topic = json_string_value(json_object_get(b, "topic"));
    const char *reason = json_string_value(json_object_get(b, "reason"));
    const weir_tenant_t *t = weir_tenants_of(tenants, &j->who);
    const char *tname = json_string_value(json_object_get(b, "tenant"));
    char *detail = NULL;
    int k;

    if (j->admin && tname) {
        t = weir_tenants_find(tenants, tname);
        if (!t) {
            weir_admin_fail(j, 404, weir_admin_error("no tenant named '%s'", tname));
            return;
        }
    }
    if (!t) {
        weir_admin_fail(j, 403, weir_admin_error("%s is not a member of any tenant: ask an "
                                                 "administrator to add your LDAP group to one",
                                                 j->actor));
        return;
    }
    if (!reason || !*reason) {
        weir_admin_fail(j, 400, weir_admin_error("a request needs a non-empty \"reason\""));
        return;
    }
    if (!topic || !*topic || strlen(topic) > 249 ||
        strspn(topic, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            strlen(topic) || strcmp(topic, ".") == 0 || strcmp(topic, "..") == 0) {
        weir_admin_fail(j, 400, weir_admin_error("\"topic\" must be a topic name: 1 to 249 "
                                                 "characters of [a-zA-Z0-9._-]"));
        return;
    }
    if (kind && strcmp(kind, "topic") == 0) {
        json_t *parts = json_object_get(b, "partitions");
        json_t *configs = json_object_get(b, "configs");
        json_int_t n = parts ? (json_is_integer(parts) ? json_integer_value(parts) : 0) : 1;
        if (n < 1 || n > 100000) {
            weir_admin_fail(j, 400, weir_admin_error("\"partitions\" must be a number from 1 "
                                                     "to 100000"));
            return;
        }
        if (configs && !json_is_object(configs)) {
            weir_admin_fail(j, 400, weir_admin_error("\"configs\" must be an object of "
                                                     "strings"));
            return;
        }
        const char *ck;
        json_t *cv;
        json_object_foreach(configs, ck, cv) {
            if (!json_is_string(cv)) {
                weir_admin_fail(j, 400, weir_admin_error("config \"%s\" must be a string", ck));
                return;
            }
            char cerr[256] = "";
            if (weir_topic_config_validate(ck, json_string_value(cv), cerr, sizeof(cerr)) !=
                WEIR_KERR_NONE) {
                weir_admin_fail(j, 400, weir_admin_error("config %s: %s", ck, cerr));
                return;
            }
        }
        if (!weir_tenant_owns(t, topic, strlen(topic))) {
            weir_admin_fail(j, 403, weir_admin_error("topic '%s' is outside tenant %s's "
                                                     "prefixes", topic, t->name));
            return;
        }
        if (t->max_partitions_per_topic >= 0 && n > t->max_partitions_per_topic) {
            weir_admin_fail(j, 400, weir_admin_error("tenant %s allows at most %" PRId32
                                                     " partitions per topic", t->name,
                                                     t->max_partitions_per_topic));
            return;
        }
        const char *rv = json_string_value(json_object_get(configs, "retention.ms"));
        if (rv && t->max_retention_ms != WEIR_TENANT_UNLIMITED &&
            (strtoll(rv, NULL, 10) < 0 || strtoll(rv, NULL, 10) > t->max_retention_ms)) {
            weir_admin_fail(j, 400, weir_admin_error("tenant %s allows a retention of at most "
                                                     "%" PRId64 " ms; retention.ms=%s asks for "
                                                     "more", t->name, t->max_retention_ms, rv));
            return;
        }
        json_t *d = json_pack("{s:I, s:o}", "partitions", n, "configs",
                              configs ? json_incref(configs) : json_object());
        detail = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(d);
        k = WEIR_GOV_REQUEST_TOPIC;
    } else if (kind && strcmp(kind, "access") == 0) {
        const char *op = json_string_value(json_object_get(b, "operation"));
        if (!op || (strcmp(op, "READ") != 0 && strcmp(op, "WRITE") != 0)) {
            weir_admin_fail(j, 400, weir_admin_error("\"operation\" must be \"READ\" or "
                                                     "\"WRITE\""));
            return;
        }
        char principal[512];
        snprintf(principal, sizeof(principal), "Group:%s", t->ldap_group);
        json_t *d = json_pack("{s:s, s:s}", "operation", op, "principal", principal);
        detail = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(d);
        k = WEIR_GOV_REQUEST_ACCESS;
    } else {
        weir_admin_fail(j, 400, weir_admin_error("\"kind\" must be \"topic\" or \"access\""));
        return;
    }
    int64_t id = weir_govstore_request_create(gs, k, t->name, j->actor, topic, detail, reason);
    free(detail);
    if (id <= 0) {
        weir_admin_fail(j, 500, weir_admin_error("storing the request failed (%" PRId64 ")",
                                                 id));
        return;
    }
    weir_gov_request_t r;
    memset(&r, 0, sizeof(r));
    if (weir_govstore_request_get(gs, id, &r) != 0) {
        weir_admin_fail(j, 500, weir_admin_error("reading back request %" PRId64 " failed", id));
        return;
    }
    j->status = 201;
    j->answer = weir_admin_request_json(&r);
    weir_gov_request_clear(&r);
}

/* Approves an access request: the ACL and the decision in one transaction. */
static int
weir_admin_grant_access(weir_govstore_t *gs, const weir_gov_request_t *r, const char *actor,
                        const char *comment, char *err, size_t errsz)
{
    json_error_t je;
    json_t *d = json_loads(r->detail ? r->detail : "", 0, &je);
    const char *op = json_string_value(json_object_get(d, "operation"));
    const char *principal = json_string_value(json_object_get(d, "principal"));
    weir_acl_binding_t b;
    bool existed = false;
    int rc;

    if (!op || !principal) {
        snprintf(err, errsz, "the request's detail names no operation and principal");
        json_decref(d);
        return -EINVAL;
    }
    memset(&b, 0, sizeof(b));
    b.res_type = WEIR_ACL_RES_TOPIC;
    b.pattern = WEIR_ACL_PAT_LITERAL;
    b.name = r->target;
    b.principal = (char *)principal;
    b.host = "*";
    b.op = (int8_t)weir_acl_op_parse(op);
    b.perm = WEIR_ACL_PERM_ALLOW;
    rc = weir_govstore_begin(gs);
    if (rc == 0)
        rc = weir_govstore_acl_create(gs, &b, actor, &existed);
    if (rc == 0 && strcmp(op, "READ") == 0) {
        /* readers also describe the topic (metadata, offsets) */
        weir_acl_binding_t desc = b;
        desc.id = 0;
        desc.op = WEIR_ACL_OP_DESCRIBE;
        rc = weir_govstore_acl_create(gs, &desc, actor, &existed);
    }
    if (rc == 0)
        rc = weir_govstore_request_decide(gs, r->id, WEIR_GOV_REQUEST_APPROVED, actor, comment);
    if (rc == 0)
        rc = weir_govstore_commit(gs);
    else
        weir_govstore_rollback(gs);
    if (rc != 0)
        snprintf(err, errsz, "granting %s on topic %s to %s failed (%d)", op, r->target,
                 principal, rc);
    json_decref(d);
    return rc;
}

static void
weir_admin_do_decide(weir_admin_job_t *j, weir_govstore_t *gs, bool approve)
{
    const char *why = json_string_value(json_object_get(j->body, approve ? "comment"
                                                                          : "reason"));
    weir_gov_request_t r;
    char err[512] = "";
    int rc;

    if (!weir_admin_load_request(j, gs, &r))
        return;
    if (r.state != WEIR_GOV_REQUEST_PENDING) {
        weir_admin_fail(j, 409, weir_admin_error("request %" PRId64 " is already %s", j->id,
                                                 weir_gov_request_state_name(r.state)));
        weir_gov_request_clear(&r);
        return;
    }
    if (!approve) {
        rc = weir_govstore_request_decide(gs, j->id, WEIR_GOV_REQUEST_REJECTED, j->actor, why);
    } else if (r.kind == WEIR_GOV_REQUEST_ACCESS) {
        rc = weir_admin_grant_access(gs, &r, j->actor, why ? why : "", err, sizeof(err));
        if (rc == 0)
            j->changed = true;
    } else if (r.kind == WEIR_GOV_REQUEST_TOPIC) {
        /* the loop checks and creates the topic next (weir_admin_loop_step);
         * everything that can be checked here is, so that a refusal
         * leaves nothing to undo */
        weir_tenant_t t;
        memset(&t, 0, sizeof(t));
        j->row = r;
        if (weir_govstore_tenant_get(gs, r.tenant, &t) != 0) {
            snprintf(j->err, sizeof(j->err), "tenant %s of the request no longer exists",
                     r.tenant);
            weir_admin_record_fail(j, gs);
            return;
        }
        weir_tenant_clear(&t);
        json_error_t je;
        json_t *d = json_loads(r.detail ? r.detail : "", 0, &je);
        json_t *cfg = json_object_get(d, "configs");
        const char *ck;
        json_t *cv;
        j->partitions = (int32_t)json_integer_value(json_object_get(d, "partitions"));
        json_object_foreach(cfg, ck, cv) {
            if (json_is_string(cv))
                weir_kvlist_set(&j->configs, ck, json_string_value(cv));
        }
        json_decref(d);
        j->stage = WEIR_ADMIN_STAGE_CREATE_TOPIC;
        return;
    } else if (r.kind == WEIR_GOV_REQUEST_SCHEMA) {
        /* the loop registers the schema next (weir_admin_loop_step) */
        j->row = r;
        j->stage = WEIR_ADMIN_STAGE_REGISTER_SCHEMA;
        return;
    } else {
        weir_admin_fail(j, 501, weir_admin_error("approving %s requests through the admin API "
                                                 "is not available in this build; request %"
                                                 PRId64 " stays pending",
                                                 weir_gov_request_kind_name(r.kind), j->id));
        weir_gov_request_clear(&r);
        return;
    }
    if (rc == -EALREADY) {
        weir_admin_fail(j, 409, weir_admin_error("request %" PRId64 " was decided meanwhile",
                                                 j->id));
    } else if (rc != 0) {
        /* the request stays pending: record why the approval failed */
        weir_audit_row_t row = {.ts_ms = weir_wall_ms(), .principal = j->actor,
                                .action = approve ? "request.approve" : "request.reject",
                                .outcome = "failed", .detail = err[0] ? err : "store error"};
        char target[64];
        snprintf(target, sizeof(target), "request:%" PRId64, j->id);
        row.target = target;
        weir_govstore_audit_append(gs, &row);
        weir_admin_fail(j, 500, weir_admin_error("request %" PRId64 " stays pending: %s", j->id,
                                                 err[0] ? err : "the store failed"));
    } else {
        weir_gov_request_clear(&r);
        memset(&r, 0, sizeof(r));
        if (weir_govstore_request_get(gs, j->id, &r) == 0) {
            j->status = 200;
            j->answer = weir_admin_request_json(&r);
        } else {
            weir_admin_fail(j, 500, weir_admin_error("reading back request %" PRId64 " failed",
                                                     j->id));
        }
    }
    weir_gov_request_clear(&r);
}

/* Changes a tenant's policy: the limits and direct-creation switch the
 * body names, and prefixes to add ("add_prefixes"). */
static void
weir_admin_do_tenant_update(weir_admin_job_t *j, weir_govstore_t *gs,
                            const weir_tenants_t *tenants)
{
    static const char *const limits[] = {"max_partitions_per_topic", "max_total_partitions",
                                         "max_retention_ms", "produce_byte_rate",
                                         "fetch_byte_rate"};
    const weir_tenant_t *cur = weir_tenants_find(tenants, j->name);
    weir_tenant_t t;
    char err[512] = "";
    int rc;

    if (!cur) {
        weir_admin_fail(j, 404, weir_admin_error("no tenant named '%s'", j->name));
        return;
    }
    weir_tenant_copy(&t, cur);
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(limits); i++) {
        json_t *v = json_object_get(j->body, limits[i]);
        if (!v)
            continue;
        if (!json_is_integer(v) || (i < 2 && json_integer_value(v) > INT32_MAX)) {
            weir_admin_fail(j, 400, weir_admin_error("\"%s\" must be an integer (-1: "
                                                     "unlimited)", limits[i]));
            weir_tenant_clear(&t);
            return;
        }
        int64_t n = json_integer_value(v);
        switch (i) {
        case 0: t.max_partitions_per_topic = (int32_t)n; break;
        case 1: t.max_total_partitions = (int32_t)n; break;
        case 2: t.max_retention_ms = n; break;
        case 3: t.produce_byte_rate = n; break;
        default: t.fetch_byte_rate = n; break;
        }
    }
    json_t *dc = json_object_get(j->body, "direct_create");
    if (dc && !json_is_boolean(dc)) {
        weir_admin_fail(j, 400, weir_admin_error("\"direct_create\" must be true or false"));
        weir_tenant_clear(&t);
        return;
    }
    if (dc)
        t.direct_create = json_is_true(dc);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(j->body, "add_prefixes"), i, p) {
        if (!json_is_string(p)) {
            weir_admin_fail(j, 400, weir_admin_error("\"add_prefixes\" must be strings"));
            weir_tenant_clear(&t);
            return;
        }
        if (!weir_tenant_owns(&t, json_string_value(p), strlen(json_string_value(p))))
            weir_tenant_add_prefix(&t, json_string_value(p));
    }
    rc = weir_govstore_tenant_put(gs, &t, true, j->actor, err, sizeof(err));
    if (rc == -EINVAL)
        weir_admin_fail(j, 400, weir_admin_error("%s", err));
    else if (rc == -EEXIST)
        weir_admin_fail(j, 409, weir_admin_error("%s", err[0] ? err
                                                 : "a prefix belongs to another tenant"));
    else if (rc != 0)
        weir_admin_fail(j, 500, weir_admin_error("storing the tenant failed (%d)", rc));
    else {
        j->status = 200;
        j->answer = weir_admin_tenant_json(&t);
        j->changed = true;
    }
    weir_tenant_clear(&t);
}

/* The grants of an approved topic request (WRITE, READ, DESCRIBE for the
 * tenant's group) and the decision, in one transaction. */
static void
weir_admin_do_topic_grant(weir_admin_job_t *j, weir_govstore_t *gs)
{
    static const int8_t ops[] = {WEIR_ACL_OP_WRITE, WEIR_ACL_OP_READ, WEIR_ACL_OP_DESCRIBE};
    weir_tenant_t t;
    char principal[512];
    bool existed;
    int rc;

    memset(&t, 0, sizeof(t));
    rc = weir_govstore_tenant_get(gs, j->row.tenant, &t);
    if (rc != 0) {
        snprintf(j->err, sizeof(j->err), "tenant %s of the request no longer exists",
                 j->row.tenant);
        return;
    }
    snprintf(principal, sizeof(principal), "Group:%s", t.ldap_group);
    weir_tenant_clear(&t);
    rc = weir_govstore_begin(gs);
    for (size_t i = 0; rc == 0 && i < WEIR_ARRAY_SIZE(ops); i++) {
        weir_acl_binding_t b = {.res_type = WEIR_ACL_RES_TOPIC, .pattern = WEIR_ACL_PAT_LITERAL,
                                .name = j->row.target, .principal = principal, .host = "*",
                                .op = ops[i], .perm = WEIR_ACL_PERM_ALLOW};
        rc = weir_govstore_acl_create(gs, &b, j->actor, &existed);
    }
    if (rc == 0) {
        const char *why = json_string_value(json_object_get(j->body, "comment"));
        rc = weir_govstore_request_decide(gs, j->id, WEIR_GOV_REQUEST_APPROVED, j->actor,
                                          why ? why : "");
    }
    if (rc == 0)
        rc = weir_govstore_commit(gs);
    else
        weir_govstore_rollback(gs);
    if (rc != 0) {
        snprintf(j->err, sizeof(j->err), "storing the grants and the decision failed (%d)", rc);
        return;
    }
    j->changed = true;
    weir_gov_request_t r;
    memset(&r, 0, sizeof(r));
    if (weir_govstore_request_get(gs, j->id, &r) == 0) {
        j->status = 200;
        j->answer = weir_admin_request_json(&r);
        json_object_set_new(j->answer, "topic_created", json_true());
        weir_gov_request_clear(&r);
    } else {
        snprintf(j->err, sizeof(j->err), "reading back request %" PRId64 " failed", j->id);
    }
}

/* Stores the decision on a schema request whose schema the loop has just
 * registered; on failure j->answer stays NULL and the loop undoes the
 * registration. */
static void
weir_admin_do_schema_decide(weir_admin_job_t *j, weir_govstore_t *gs)
{
    const char *why = json_string_value(json_object_get(j->body, "comment"));
    weir_gov_request_t r;
    int rc = weir_govstore_request_decide(gs, j->id, WEIR_GOV_REQUEST_APPROVED, j->actor,
                                          why ? why : "");

    if (rc != 0) {
        snprintf(j->err, sizeof(j->err), "storing the decision failed (%d)", rc);
        return;
    }
    memset(&r, 0, sizeof(r));
    if (weir_govstore_request_get(gs, j->id, &r) == 0) {
        j->status = 200;
        j->answer = weir_admin_request_json(&r);
        json_object_set_new(j->answer, "schema_id", json_integer(j->schema_id));
        json_object_set_new(j->answer, "schema_version", json_integer(j->schema_version));
        weir_gov_request_clear(&r);
    } else {
        snprintf(j->err, sizeof(j->err), "reading back request %" PRId64 " failed", j->id);
    }
}

/* Records why an approval failed (the request stays pending). */
static void
weir_admin_record_fail(weir_admin_job_t *j, weir_govstore_t *gs)
{
    char target[64];
    weir_audit_row_t row = {.ts_ms = weir_wall_ms(), .principal = j->actor,
                            .action = "request.approve", .outcome = "failed", .detail = j->err};

    snprintf(target, sizeof(target), "request:%" PRId64, j->id);
    row.target = target;
    weir_govstore_audit_append(gs, &row);
    weir_admin_fail(j, 409, weir_admin_error("request %" PRId64 " stays pending: %s", j->id,
                                             j->err));
}

/* Adds "error" (and "error_ms") to a pending request's JSON: why its last
 * approval failed, from the audit log. */
static void
weir_admin_set_error(json_t *v, weir_govstore_t *gs, const weir_gov_request_t *r)
{
    char *err = NULL;
    int64_t ts = 0;

    if (r->state != WEIR_GOV_REQUEST_PENDING ||
        weir_govstore_request_last_error(gs, r->id, &err, &ts) != 0 || !err)
        return;
    json_object_set_new(v, "error", json_string(err));
    json_object_set_new(v, "error_ms", json_integer(ts));
    free(err);
}

/* Records a refusal decided on the worker (who may do it depends on the
 * stored request) in the audit log, as weir_admin_deny does on the loop. */
static void
weir_admin_deny_row(weir_admin_job_t *j, weir_govstore_t *gs, const char *action,
                    const char *msg)
{
    char target[64];
    weir_audit_row_t row = {.ts_ms = weir_wall_ms(), .principal = j->actor, .action = action,
                            .outcome = "denied", .detail = msg};

    snprintf(target, sizeof(target), "request:%" PRId64, j->id);
    row.target = target;
    weir_govstore_audit_append(gs, &row);
    WEIR_LOG(WEIR_LOG_INFO, "admin_denied", "principal=%s action=%s target=%s", j->actor, action,
             target);
    weir_admin_fail(j, 403, weir_admin_error("%s", msg));
}

/* Cancels a pending request: its requester or an administrator; anyone
 * else is refused (audited).  The decision row and its audit row
 * ("request.cancelled") commit together. */
static void
weir_admin_do_cancel(weir_admin_job_t *j, weir_govstore_t *gs, const weir_tenants_t *tenants)
{
    const char *why = json_string_value(json_object_get(j->body, "reason"));
    weir_gov_request_t r;
    int rc;

    if (!weir_admin_load_request(j, gs, &r))
        return;
    if (!j->admin && strcmp(r.requester ? r.requester : "", j->actor) != 0) {
        char msg[512];
        /* members of the tenant may know it exists; others learn no more */
        if (weir_admin_may_see(j, tenants, &r))
            snprintf(msg, sizeof(msg), "only %s (who made request %" PRId64 ") or an "
                     "administrator may cancel it", r.requester, j->id);
        else
            snprintf(msg, sizeof(msg), "only the requester or an administrator may cancel "
                     "request %" PRId64, j->id);
        weir_admin_deny_row(j, gs, "request.cancel", msg);
        weir_gov_request_clear(&r);
        return;
    }
    if (r.state != WEIR_GOV_REQUEST_PENDING) {
        weir_admin_fail(j, 409, weir_admin_error("request %" PRId64 " is already %s: only "
                                                 "pending requests can be cancelled", j->id,
                                                 weir_gov_request_state_name(r.state)));
        weir_gov_request_clear(&r);
        return;
    }
    weir_gov_request_clear(&r);
    rc = weir_govstore_request_decide(gs, j->id, WEIR_GOV_REQUEST_CANCELLED, j->actor,
                                      why && *why ? why : "cancelled");
    if (rc == -EALREADY) {
        weir_admin_fail(j, 409, weir_admin_error("request %" PRId64 " was decided meanwhile",
                                                 j->id));
        return;
    }
    if (rc != 0 || weir_govstore_request_get(gs, j->id, &r) != 0) {
        weir_admin_fail(j, 500, weir_admin_error("cancelling request %" PRId64 " failed (%d)",
                                                 j->id, rc));
        return;
    }
    j->status = 200;
    j->answer = weir_admin_request_json(&r);
    weir_gov_request_clear(&r);
}

/* The worker half of a diff: reads the request (who may see it) into
 * j->row for the loop, where the registry is. */
static void
weir_admin_do_diff_read(weir_admin_job_t *j, weir_govstore_t *gs, const weir_tenants_t *tenants)
{
    weir_gov_request_t r;

    if (!weir_admin_load_request(j, gs, &r))
        return;
    if (!weir_admin_check_see(j, tenants, &r)) {
        weir_gov_request_clear(&r);
        return;
    }
    if (r.kind != WEIR_GOV_REQUEST_SCHEMA) {
        weir_admin_fail(j, 400, weir_admin_error("request %" PRId64 " is a %s request: only "
                                                 "schema requests have a diff", j->id,
                                                 weir_gov_request_kind_name(r.kind)));
        weir_gov_request_clear(&r);
        return;
    }
    j->row = r;
}

static void
weir_admin_work(uv_work_t *w)
{
    weir_admin_job_t *j = w->data;
    weir_admin_api_t *api = j->api;
    char err[512];
    int rc;

    if (!api->gs) {
        err[0] = '\0';
        if (weir_govstore_open(api->db_path, true, &api->gs, err, sizeof(err)) != 0) {
            api->gs = NULL;
            weir_admin_fail(j, 503, weir_admin_error("the governance database is not "
                                                     "available: %s", err));
            return;
        }
    }
    weir_govstore_t *gs = api->gs;
    if (j->stage == WEIR_ADMIN_STAGE_GRANT) {
        weir_admin_do_topic_grant(j, gs);
        return;
    }
    if (j->stage == WEIR_ADMIN_STAGE_RECORD_FAIL) {
        weir_admin_record_fail(j, gs);
        return;
    }
    if (j->stage == WEIR_ADMIN_STAGE_SCHEMA_DECIDE) {
        weir_admin_do_schema_decide(j, gs);
        return;
    }
    weir_tenants_t *tenants = weir_admin_tenants(gs);
    if (!tenants) {
        weir_admin_fail(j, 500, weir_admin_error("reading the tenants failed"));
        return;
    }
    switch (j->op) {
    case WEIR_ADMIN_TENANTS_LIST: {
        json_t *a = json_array();
        for (size_t i = 0; i < weir_tenants_count(tenants); i++)
            json_array_append_new(a, weir_admin_tenant_json(weir_tenants_at(tenants, i)));
        j->status = 200;
        j->answer = json_pack("{s:o}", "tenants", a);
        break;
    }
    case WEIR_ADMIN_TENANT_GET: {
        const weir_tenant_t *t = weir_tenants_find(tenants, j->name);
        if (!t) {
            weir_admin_fail(j, 404, weir_admin_error("no tenant named '%s'", j->name));
            break;
        }
        j->status = 200;
        j->answer = weir_admin_tenant_json(t);
        break;
    }
    case WEIR_ADMIN_TENANT_CREATE:
        if (weir_tenants_find(tenants, j->tenant.name)) {
            weir_admin_fail(j, 409, weir_admin_error("tenant '%s' exists already",
                                                     j->tenant.name));
            break;
        }
        err[0] = '\0';
        rc = weir_govstore_tenant_put(gs, &j->tenant, true, j->actor, err, sizeof(err));
        if (rc == -EINVAL)
            weir_admin_fail(j, 400, weir_admin_error("%s", err));
        else if (rc == -EEXIST)
            weir_admin_fail(j, 409, weir_admin_error("%s", err[0] ? err
                                                     : "a prefix belongs to another tenant"));
        else if (rc != 0)
            weir_admin_fail(j, 500, weir_admin_error("storing the tenant failed (%d)", rc));
        else {
            j->status = 201;
            j->answer = weir_admin_tenant_json(&j->tenant);
            j->changed = true;
        }
        break;
    case WEIR_ADMIN_TENANT_UPDATE:
        weir_admin_do_tenant_update(j, gs, tenants);
        break;
    case WEIR_ADMIN_REQUESTS_LIST: {
        weir_admin_list_t l = {.j = j, .tenants = tenants, .out = json_array()};
        int state = -1;
        if (j->name) {
            for (int s = WEIR_GOV_REQUEST_PENDING; s <= WEIR_GOV_REQUEST_CANCELLED; s++)
                if (strcmp(j->name, weir_gov_request_state_name(s)) == 0)
                    state = s;
        }
        if (weir_govstore_requests_list(gs, state, weir_admin_request_cb, &l) != 0) {
            json_decref(l.out);
            weir_admin_fail(j, 500, weir_admin_error("listing the requests failed"));
            break;
        }
        j->status = 200;
        j->answer = json_pack("{s:o}", "requests", l.out);
        break;
    }
    case WEIR_ADMIN_REQUEST_GET: {
        weir_gov_request_t r;
        if (!weir_admin_load_request(j, gs, &r))
            break;
        if (weir_admin_check_see(j, tenants, &r)) {
            json_t *v = weir_admin_request_json(&r);
            json_t *d = json_array();
            weir_govstore_decisions_list(gs, j->id, weir_admin_decision_cb, d);
            json_object_set_new(v, "decisions", d);
            weir_admin_set_error(v, gs, &r);
            j->status = 200;
            j->answer = v;
        }
        weir_gov_request_clear(&r);
        break;
    }
    case WEIR_ADMIN_REQUEST_CREATE:
        weir_admin_do_request_create(j, gs, tenants);
        break;
    case WEIR_ADMIN_REQUEST_APPROVE:
    case WEIR_ADMIN_REQUEST_REJECT:
        weir_admin_do_decide(j, gs, j->op == WEIR_ADMIN_REQUEST_APPROVE);
        break;
    case WEIR_ADMIN_REQUEST_CANCEL:
        weir_admin_do_cancel(j, gs, tenants);
        break;
    case WEIR_ADMIN_REQUEST_DIFF:
        weir_admin_do_diff_read(j, gs, tenants);
        break;
    case WEIR_ADMIN_AUDIT_LIST: {
        weir_admin_list_t l = {.j = j, .out = json_array()};
        if (weir_govstore_audit_list(gs, j->after_id, INT64_MAX, weir_admin_audit_cb, &l) != 0) {
            json_decref(l.out);
            weir_admin_fail(j, 500, weir_admin_error("reading the audit log failed"));
            break;
        }
        j->status = 200;
        j->answer = json_pack("{s:o}", "rows", l.out);
        break;
    }
    case WEIR_ADMIN_AUDIT_VERIFY: {
        weir_audit_verify_t v;
        memset(&v, 0, sizeof(v));
        if (weir_govstore_audit_verify(gs, &v) != 0) {
            weir_admin_fail(j, 500, weir_admin_error("reading the audit log failed"));
            break;
        }
        j->status = 200;
        j->answer = json_pack("{s:b, s:I, s:I, s:s}", "ok", v.ok, "rows", (json_int_t)v.rows,
                              "bad_id", (json_int_t)v.bad_id, "reason", v.reason);
        break;
    }
    case WEIR_ADMIN_TOPICS_LIST:
    case WEIR_ADMIN_TOPIC_GET:
    case WEIR_ADMIN_GROUPS_LIST:
    case WEIR_ADMIN_GROUP_GET:
        break; /* answered on the loop with j->tenants */
    }
    j->tenants = tenants;
}

static void weir_admin_next(weir_admin_api_t *api);
static void weir_admin_finish(weir_admin_job_t *j);
static void weir_admin_timer_closed(uv_handle_t *h);
static void weir_admin_reload_tick(uv_timer_t *t);

static void
weir_admin_job_free(weir_admin_job_t *j)
{
    weir_principal_clear(&j->who);
    free(j->name);
    free(j->kind);
    free(j->principal_filter);
    free(j->action_filter);
    json_decref(j->body);
    json_decref(j->answer);
    weir_tenant_clear(&j->tenant);
    if (j->tenants)
        weir_tenants_free(j->tenants);
    weir_gov_request_clear(&j->row);
    weir_kvlist_free(&j->configs);
    free(j);
}

static void
weir_admin_api_destroy(weir_admin_api_t *api)
{
    if (api->gs)
        weir_govstore_close(api->gs);
    free(api->db_path);
    free(api);
}

/* ------------------------------------------------------------------ */
/* Loop steps: broker state (topics, groups) and topic creation        */

static const char *
weir_admin_owner(const weir_admin_job_t *j, const char *name)
{
    const weir_tenant_t *t = j->tenants ? weir_tenants_owner(j->tenants, name, strlen(name))
                                        : NULL;
    return t ? t->name : "";
}

typedef struct weir_admin_topic_lag_s {
    weir_broker_t *brk;
    const char *topic;
    const weir_admin_job_t *j;
    json_t *out;
    const char *group;
    int64_t lag;
    bool any;
} weir_admin_topic_lag_t;

static void
weir_admin_topic_offset_cb(void *arg, const weir_offset_t *o)
{
    weir_admin_topic_lag_t *l = arg;

    if (strcmp(o->topic, l->topic) != 0)
        return;
    weir_str_t tn = {.ptr = o->topic, .len = (int32_t)strlen(o->topic)};
    weir_partition_t *p = weir_broker_partition(l->brk, tn, o->partition);
    int64_t hw = p ? weir_plog_end_offset(p->log) : -1;
    l->any = true;
    if (hw > o->offset && o->offset >= 0)
        l->lag += hw - o->offset;
}

static void weir_admin_topic_group_cb(void *arg, weir_group_t *g);

static json_t *
weir_admin_topic_json(const weir_admin_job_t *j, const weir_topic_t *t, bool detail)
{
    int64_t size = 0;
    json_t *parts = json_array();

    for (int32_t i = 0; i < t->npartitions; i++) {
        const weir_plog_t *log = t->partitions[i]->log;
        int64_t sz = weir_plog_size_bytes(log);
        size += sz;
        json_array_append_new(parts, json_pack("{s:i, s:I, s:I, s:I}", "partition", (int)i,
                                               "log_start_offset",
                                               (json_int_t)weir_plog_start_offset(log),
                                               "high_watermark",
                                               (json_int_t)weir_plog_end_offset(log),
                                               "size_bytes", (json_int_t)sz));
    }
    json_t *v = json_pack("{s:s, s:s, s:i, s:I, s:I}", "name", t->name, "owner",
                          weir_admin_owner(j, t->name), "partitions", (int)t->npartitions,
                          "size_bytes", (json_int_t)size, "retention_ms",
                          (json_int_t)t->lcfg.retention_ms);
    if (detail) {
        weir_admin_topic_lag_t l = {.brk = j->api->brk, .topic = t->name, .j = j,
                                    .out = json_array()};
        if (j->api->brk->coord)
            weir_coord_groups_foreach(j->api->brk->coord, weir_admin_topic_group_cb, &l);
        json_object_set_new(v, "consumer_groups", l.out);
        json_t *cfg = json_object();
        for (size_t i = 0; i < t->configs.count; i++)
            json_object_set_new(cfg, t->configs.items[i].key,
                                json_string(t->configs.items[i].value));
        json_object_set_new(v, "configs", cfg);
        json_object_set_new(v, "partitions", parts);
        json_object_set_new(v, "partition_count", json_integer(t->npartitions));
    } else {
        json_decref(parts);
    }
    return v;
}

/* Whether j's principal may see consumer group id: administrators, and
 * members of the tenant owning its name. */
static bool
weir_admin_group_visible(const weir_admin_job_t *j, const char *id)
{
    const weir_tenant_t *t;

    if (j->admin)
        return true;
    t = j->tenants ? weir_tenants_owner(j->tenants, id, strlen(id)) : NULL;
    return t && weir_principal_in_group(&j->who, t->ldap_group);
}

typedef struct weir_admin_lag_s {
    weir_broker_t *brk;
    json_t *parts;  /* per partition, or NULL */
    json_t *topics; /* names */
    int64_t lag;
} weir_admin_lag_t;

static void
weir_admin_offset_cb(void *arg, const weir_offset_t *o)
{
    weir_admin_lag_t *l = arg;
    size_t tlen = strlen(o->topic);
    weir_str_t tn = {.ptr = o->topic, .len = (int32_t)tlen};
    weir_partition_t *p = weir_broker_partition(l->brk, tn, o->partition);
    int64_t hw = p ? weir_plog_end_offset(p->log) : -1;
    int64_t lag = hw >= 0 && o->offset >= 0 ? (hw > o->offset ? hw - o->offset : 0) : -1;
    size_t i;
    json_t *e;
    bool seen = false;

    if (lag > 0)
        l->lag += lag;
    json_array_foreach(l->topics, i, e) {
        if (strcmp(json_string_value(e), o->topic) == 0)
            seen = true;
    }
    if (!seen)
        json_array_append_new(l->topics, json_string(o->topic));
    if (l->parts)
        json_array_append_new(l->parts, json_pack("{s:s, s:i, s:I, s:I, s:I}", "topic",
                                                  o->topic, "partition", (int)o->partition,
                                                  "committed", (json_int_t)o->offset,
                                                  "high_watermark", (json_int_t)hw, "lag",
                                                  (json_int_t)lag));
}

static json_t *
weir_admin_group_json(weir_broker_t *brk, weir_group_t *g, bool detail)
{
    weir_admin_lag_t l = {.brk = brk, .parts = detail ? json_array() : NULL,
                          .topics = json_array()};

    weir_group_offsets_foreach(g, weir_admin_offset_cb, &l);
    json_t *v = json_pack("{s:s, s:s, s:i, s:o, s:I}", "group", g->id, "state",
                          weir_group_state_name(g->state), "members", (int)g->nmembers,
                          "topics", l.topics, "lag", (json_int_t)l.lag);
    if (detail)
        json_object_set_new(v, "partitions", l.parts);
    return v;
}

typedef struct weir_admin_groups_s {
    weir_admin_job_t *j;
    json_t *out;
} weir_admin_groups_t;

static void
weir_admin_group_cb(void *arg, weir_group_t *g)
{
    weir_admin_groups_t *gl = arg;

    if (weir_admin_group_visible(gl->j, g->id))
        json_array_append_new(gl->out, weir_admin_group_json(gl->j->api->brk, g, false));
}

/* Adds a group's lag on l->topic to l->out (groups the principal may see). */
static void
weir_admin_topic_group_cb(void *arg, weir_group_t *g)
{
    weir_admin_topic_lag_t *l = arg;

    if (!weir_admin_group_visible(l->j, g->id))
        return;
    l->lag = 0;
    l->any = false;
    weir_group_offsets_foreach(g, weir_admin_topic_offset_cb, l);
    if (l->any)
        json_array_append_new(l->out, json_pack("{s:s, s:I}", "group", g->id, "lag",
                                                (json_int_t)l->lag));
}

/* Runs the loop part of a job after its worker part.  Returns true when
 * the job goes back to the worker (topic approval). */
/* Approving a schema request, on the loop: registers the schema its detail
 * holds ({"schema", "schemaType", "references"}, weir_broker.c) under its
 * subject, straight through the registry (no approval hook).  Next: the
 * decision on the worker, or recording the failure. */
static void
weir_admin_register_schema(weir_admin_job_t *j)
{
    weir_broker_t *brk = j->api->brk;
    json_error_t je;
    json_t *d = json_loads(j->row.detail ? j->row.detail : "", 0, &je);
    json_t *refs = json_object_get(d, "references"), *v;
    weir_reg_schema_req_t rq;
    weir_reg_result_t res;
    weir_reg_err_t err;
    weir_reg_ref_t *rv = NULL;
    size_t i, n = json_array_size(refs);
    char detail[160];

    memset(&rq, 0, sizeof(rq));
    memset(&err, 0, sizeof(err));
    rq.schema = json_string_value(json_object_get(d, "schema"));
    rq.schema_type = json_string_value(json_object_get(d, "schemaType"));
    if (!rq.schema || !brk->registry) {
        snprintf(j->err, sizeof(j->err), "the request holds no schema to register");
        j->stage = WEIR_ADMIN_STAGE_RECORD_FAIL;
        json_decref(d);
        return;
    }
    rq.schema_len = strlen(rq.schema);
    if (n > 0) {
        rv = weir_calloc(n, sizeof(*rv));
        json_array_foreach(refs, i, v) {
            rv[i].name = (char *)json_string_value(json_object_get(v, "name"));
            rv[i].subject = (char *)json_string_value(json_object_get(v, "subject"));
            rv[i].version = (int32_t)json_integer_value(json_object_get(v, "version"));
        }
        rq.refs = rv;
        rq.nrefs = n;
    }
    if (weir_registry_register(brk->registry, j->row.target, &rq, &res, &err) < 0) {
        snprintf(j->err, sizeof(j->err), "registering the schema under %.100s failed: %d %.300s",
                 j->row.target, err.code, err.message);
        weir_reg_err_clear(&err);
        j->stage = WEIR_ADMIN_STAGE_RECORD_FAIL;
    } else {
        j->schema_id = res.id;
        j->schema_version = res.version;
        j->schema_existed = res.existed;
        snprintf(detail, sizeof(detail), "id=%d version=%d existed=%s request=%" PRId64,
                 (int)res.id, (int)res.version, res.existed ? "true" : "false", j->id);
        if (brk->authz)
            weir_authz_audit(brk->authz, j->actor, "schema.register", j->row.target, "ok",
                             detail);
        WEIR_LOG(WEIR_LOG_INFO, "admin_schema_registered", "subject=%s id=%d version=%d "
                 "request=%" PRId64 " approver=%s", j->row.target, (int)res.id,
                 (int)res.version, j->id, j->actor);
        j->stage = WEIR_ADMIN_STAGE_SCHEMA_DECIDE;
    }
    free(rv);
    json_decref(d);
}

/* The decision did not commit: takes back the version the approval made
 * (soft, then permanent delete), so the request stays pending with nothing
 * changed. */
static void
weir_admin_unregister_schema(weir_admin_job_t *j)
{
    weir_broker_t *brk = j->api->brk;
    weir_reg_err_t err;
    int32_t dv;

    if (j->schema_existed || !brk->registry)
        return;
    memset(&err, 0, sizeof(err));
    if (weir_registry_delete_version(brk->registry, j->row.target, j->schema_version, false, &dv,
                                     &err) < 0 ||
        weir_registry_delete_version(brk->registry, j->row.target, j->schema_version, true, &dv,
                                     &err) < 0) {
        WEIR_LOG(WEIR_LOG_ERROR, "admin_schema_undo_failed", "subject=%s version=%d error=\"%d "
                 "%s\"", j->row.target, (int)j->schema_version, err.code, err.message);
        weir_reg_err_clear(&err);
    } else if (brk->authz) {
        weir_authz_audit(brk->authz, j->actor, "schema.delete", j->row.target, "ok",
                         "undoing a failed approval");
    }
}

/* The texts of a proposed schema's references (Confluent references
 * {"name", "subject", "version"}), as registered, in order; false with
 * j's answer set when one is missing. */
static bool
weir_admin_ref_texts(weir_admin_job_t *j, json_t *refs, const char ***texts, size_t **lens,
                     const char ***names)
{
    weir_registry_t *reg = j->api->brk->registry;
    size_t i, n = json_array_size(refs);
    json_t *v;

    *texts = weir_calloc(n ? n : 1, sizeof(**texts));
    *lens = weir_calloc(n ? n : 1, sizeof(**lens));
    *names = weir_calloc(n ? n : 1, sizeof(**names));
    json_array_foreach(refs, i, v) {
        const char *subject = json_string_value(json_object_get(v, "subject"));
        json_int_t ver = json_integer_value(json_object_get(v, "version"));
        const weir_reg_version_t *rv = NULL;
        weir_reg_err_t err;
        memset(&err, 0, sizeof(err));
        if (!subject || weir_registry_get_version(reg, subject, ver > 0 ? (int32_t)ver
                                                                        : WEIR_REG_LATEST,
                                                  true, &rv, &err) != 0 || !rv) {
            weir_admin_fail(j, 422, weir_admin_error("the proposed schema references %s "
                                                     "version %lld, which is not registered",
                                                     subject ? subject : "(no subject)",
                                                     (long long)ver));
            weir_reg_err_clear(&err);
            return false;
        }
        (*texts)[i] = rv->schema->text;
        (*lens)[i] = strlen(rv->schema->text);
        (*names)[i] = json_string_value(json_object_get(v, "name"));
        if (!(*names)[i])
            (*names)[i] = "";
    }
    return true;
}

/* GET /admin/v1/requests/{id}/diff, on the loop: the subject's latest
 * version against the schema the request proposes (weir_schema_diff.h). */
static void
weir_admin_schema_diff(weir_admin_job_t *j)
{
    weir_registry_t *reg = j->api->brk->registry;
    json_error_t je;
    json_t *d = json_loads(j->row.detail ? j->row.detail : "", 0, &je);
    const char *text = json_string_value(json_object_get(d, "schema"));
    const char *type = json_string_value(json_object_get(d, "schemaType"));
    json_t *refs = json_object_get(d, "references");
    const weir_reg_version_t *cur = NULL;
    const char **rtexts = NULL, **rnames = NULL;
    size_t *rlens = NULL, nrefs = json_array_size(refs);
    weir_reg_err_t rerr;
    json_t *changes = NULL, *current = json_null();
    char err[512] = "";
    bool is_json = type && strcmp(type, "JSON") == 0;

    if (!reg) {
        weir_admin_fail(j, 503, weir_admin_error("the schema registry is not available"));
        goto out;
    }
    if (!text) {
        weir_admin_fail(j, 422, weir_admin_error("request %" PRId64 " holds no schema",
                                                 j->id));
        goto out;
    }
    if (type && !is_json && strcmp(type, "AVRO") != 0) {
        weir_admin_fail(j, 422, weir_admin_error("schema type %s has no diff (AVRO and JSON "
                                                 "have)", type));
        goto out;
    }
    memset(&rerr, 0, sizeof(rerr));
    if (weir_registry_get_version(reg, j->row.target, WEIR_REG_LATEST, false, &cur, &rerr) != 0)
        cur = NULL; /* a new subject: everything is added */
    weir_reg_err_clear(&rerr);
    if (cur)
        current = json_pack("{s:i, s:i, s:s}", "version", (int)cur->version, "id",
                            (int)cur->schema->id, "schema_type",
                            weir_schema_type_name(cur->schema->type));
    if (cur && (cur->schema->type == WEIR_SCHEMA_JSON) != is_json) {
        changes = json_array();
        json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:s}", "path", "", "change",
                                                 "type_changed", "old_type",
                                                 weir_schema_type_name(cur->schema->type),
                                                 "new_type", is_json ? "JSON" : "AVRO"));
    } else if (!weir_admin_ref_texts(j, refs, &rtexts, &rlens, &rnames)) {
        goto out;
    } else if (is_json) {
        json_t *nd = json_loads(text, JSON_DECODE_ANY, &je);
        json_t *od = cur ? json_loads(cur->schema->text, JSON_DECODE_ANY, &je) : NULL;
        if (!nd || (cur && !od)) {
            weir_admin_fail(j, 422, weir_admin_error("a schema of the diff is not JSON"));
            json_decref(nd);
            json_decref(od);
            goto out;
        }
        changes = weir_schema_diff_json(od, nd);
        json_decref(nd);
        json_decref(od);
    } else {
        weir_avro_schema_t *ns = NULL, *os = NULL;
        if (weir_avro_schema_parse(text, strlen(text), rtexts, rlens, nrefs, WEIR_AVRO_NO_AVROC,
                                   &ns, err, sizeof(err)) != 0) {
            weir_admin_fail(j, 422, weir_admin_error("the proposed schema does not parse: %s",
                                                     err));
            goto out;
        }
        const weir_avro_schema_t *old = cur ? cur->schema->avro : NULL;
        if (cur && !old) {
            /* a stored schema the registry keeps unparsed: parse it here */
            err[0] = '\0';
            if (weir_avro_schema_parse(cur->schema->text, strlen(cur->schema->text), NULL, NULL,
                                       0, WEIR_AVRO_NO_AVROC, &os, err, sizeof(err)) == 0)
                old = os;
        }
        changes = weir_schema_diff_avro(old, ns);
        weir_avro_schema_free(ns);
        weir_avro_schema_free(os);
    }
    j->status = 200;
    j->answer = json_pack("{s:I, s:s, s:s, s:s, s:O, s:o}", "request", (json_int_t)j->id,
                          "subject", j->row.target, "state",
                          weir_gov_request_state_name(j->row.state), "schema_type",
                          is_json ? "JSON" : "AVRO", "current", current, "changes", changes);
    changes = NULL;
out:
    json_decref(changes);
    json_decref(current);
    json_decref(d);
    free(rtexts);
    free(rlens);
    free(rnames);
}

/* Approving a topic request, on the loop: every check first - the name is
 * free and valid, partitions and configs are valid (the broker's own
 * validate-only pass), and the tenant's limits as they are now (its
 * partitions per topic and in total, its maximum retention) - and only
 * then the topic.  A refusal goes to RECORD_FAIL with nothing created;
 * success to GRANT, where the tenant's ACLs and the decision commit in one
 * transaction. */
static void
weir_admin_create_topic(weir_admin_job_t *j)
{
    weir_broker_t *brk = j->api->brk;
    const char *name = j->row.target;
    const weir_tenant_t *t = j->tenants ? weir_tenants_find(j->tenants, j->row.tenant) : NULL;
    weir_kerr_t err;

    err = weir_broker_topic_create(brk, name, j->partitions, &j->configs, true, j->err,
                                   sizeof(j->err), NULL);
    if (err == WEIR_KERR_NONE && !t) {
        snprintf(j->err, sizeof(j->err), "tenant %s of the request no longer exists",
                 j->row.tenant);
        err = WEIR_KERR_POLICY_VIOLATION;
    }
    if (err == WEIR_KERR_NONE) {
        weir_log_config_t lc;
        int64_t total = 0;
        for (size_t i = 0; i < brk->ntopics; i++) {
            const weir_topic_t *tp = brk->topics[i];
            if (weir_tenants_owner(j->tenants, tp->name, strlen(tp->name)) == t)
                total += tp->npartitions;
        }
        if (t->max_retention_ms != WEIR_TENANT_UNLIMITED &&
            !weir_kvlist_get(&j->configs, "retention.ms")) {
            /* as for direct creation: a broker default above the tenant's
             * limit gives the topic the limit */
            weir_topic_config_resolve(brk->conf, &j->configs, &lc);
            if (lc.retention_ms < 0 || lc.retention_ms > t->max_retention_ms) {
                char v[32];
                snprintf(v, sizeof(v), "%" PRId64, t->max_retention_ms);
                weir_kvlist_set(&j->configs, "retention.ms", v);
            }
        }
        weir_topic_config_resolve(brk->conf, &j->configs, &lc);
        err = weir_tenant_check_create(t, name, j->partitions, total, lc.retention_ms, j->err,
                                       sizeof(j->err));
        if (err != WEIR_KERR_NONE) {
            size_t n = strlen(j->err);
            snprintf(j->err + n, sizeof(j->err) - n, " (raise the limit with 'weirctl tenant "
                     "set %s' or reject the request)", t->name);
        }
    }
    if (err == WEIR_KERR_NONE)
        err = weir_broker_topic_create(brk, name, j->partitions, &j->configs, false, j->err,
                                       sizeof(j->err), NULL);
    if (err != WEIR_KERR_NONE) {
        if (!j->err[0])
            snprintf(j->err, sizeof(j->err), "creating topic %s failed (error %d)", name,
                     (int)err);
        j->stage = WEIR_ADMIN_STAGE_RECORD_FAIL;
        return;
    }
    char detail[128];
    snprintf(detail, sizeof(detail), "partitions=%d request=%" PRId64, (int)j->partitions,
             j->id);
    if (brk->authz)
        weir_authz_audit(brk->authz, j->actor, "topic.create", name, "ok", detail);
    j->topic_created = true;
    j->stage = WEIR_ADMIN_STAGE_GRANT;
    WEIR_LOG(WEIR_LOG_INFO, "admin_topic_created", "topic=%s partitions=%d request=%" PRId64
             " approver=%s", name, (int)j->partitions, j->id, j->actor);
}

/* The grants and the decision did not commit (the store failed): takes the
 * just-created, still empty topic back so that the request stays pending
 * with nothing changed.  This undo is part of the approval, not a user's
 * deletion, so it is not subject to delete.topic.enable. */
static void
weir_admin_undo_topic(weir_admin_job_t *j)
{
    weir_broker_t *brk = j->api->brk;
    weir_topic_t *t = weir_broker_topic_find(brk, j->row.target, strlen(j->row.target));
    char derr[256] = "";
    bool enable = brk->conf->delete_topic_enable;

    if (!t || !j->topic_created)
        return;
    brk->conf->delete_topic_enable = true;
    weir_kerr_t err = weir_broker_topic_delete(brk, t, derr, sizeof(derr));
    brk->conf->delete_topic_enable = enable;
    j->topic_created = false;
    if (err != WEIR_KERR_NONE) {
        size_t n = strlen(j->err);
        snprintf(j->err + n, sizeof(j->err) - n, "; removing topic %s again failed too: %s",
                 j->row.target, derr);
        WEIR_LOG(WEIR_LOG_ERROR, "admin_topic_undo_failed", "topic=%s error=\"%s\"",
                 j->row.target, derr);
    } else if (brk->authz) {
        weir_authz_audit(brk->authz, j->actor, "topic.delete", j->row.target, "ok",
                         "undoing a failed approval");
    }
}

static bool
weir_admin_loop_step(weir_admin_job_t *j)
{
    weir_broker_t *brk = j->api->brk;

    if (j->status && j->stage == WEIR_ADMIN_STAGE_NONE)
        return false; /* the worker answered (an error) */
    switch (j->op) {
    case WEIR_ADMIN_TOPICS_LIST: {
        json_t *a = json_array();
        for (size_t i = 0; i < brk->ntopics; i++)
            json_array_append_new(a, weir_admin_topic_json(j, brk->topics[i], false));
        j->status = 200;
        j->answer = json_pack("{s:o}", "topics", a);
        return false;
    }
    case WEIR_ADMIN_TOPIC_GET: {
        weir_topic_t *t = weir_broker_topic_find(brk, j->name, strlen(j->name));
        if (!t) {
            weir_admin_fail(j, 404, weir_admin_error("no topic named '%s'", j->name));
            return false;
        }
        j->status = 200;
        j->answer = weir_admin_topic_json(j, t, true);
        return false;
    }
    case WEIR_ADMIN_GROUPS_LIST: {
        weir_admin_groups_t gl = {.j = j, .out = json_array()};
        if (brk->coord)
            weir_coord_groups_foreach(brk->coord, weir_admin_group_cb, &gl);
        j->status = 200;
        j->answer = json_pack("{s:o}", "groups", gl.out);
        return false;
    }
    case WEIR_ADMIN_GROUP_GET: {
        weir_str_t id = {.ptr = j->name, .len = (int32_t)strlen(j->name)};
        weir_group_t *g = brk->coord ? weir_coord_group(brk->coord, id) : NULL;
        if (!g || !weir_admin_group_visible(j, j->name)) {
            /* the same answer for a group one may not see: names are not leaked */
            weir_admin_fail(j, 404, weir_admin_error("no consumer group named '%s' that you "
                                                     "may see", j->name));
            return false;
        }
        j->status = 200;
        j->answer = weir_admin_group_json(brk, g, true);
        return false;
    }
    case WEIR_ADMIN_REQUEST_DIFF:
        weir_admin_schema_diff(j);
        return false;
    case WEIR_ADMIN_REQUEST_APPROVE:
        break;
    default:
        return false;
    }
    if (j->stage == WEIR_ADMIN_STAGE_CREATE_TOPIC) {
        weir_admin_create_topic(j);
        return true;
    }
    if (j->stage == WEIR_ADMIN_STAGE_REGISTER_SCHEMA) {
        weir_admin_register_schema(j);
        return true;
    }
    if (j->stage == WEIR_ADMIN_STAGE_SCHEMA_DECIDE) {
        /* back from the worker */
        if (!j->answer) {
            weir_admin_unregister_schema(j);
            j->stage = WEIR_ADMIN_STAGE_RECORD_FAIL;
            return true;
        }
        j->stage = WEIR_ADMIN_STAGE_NONE;
        return false;
    }
    if (j->stage == WEIR_ADMIN_STAGE_GRANT) {
        /* back from the worker */
        if (!j->answer) {
            /* the grants did not commit: undo the topic, the request stays pending */
            weir_admin_undo_topic(j);
            j->stage = WEIR_ADMIN_STAGE_RECORD_FAIL;
            return true;
        }
        j->stage = WEIR_ADMIN_STAGE_NONE;
    }
    return false;
}

static void
weir_admin_after(uv_work_t *w, int status)
{
    weir_admin_job_t *j = w->data;
    weir_admin_api_t *api = j->api;

    (void)status;
    api->running = NULL;
    if (!api->closing && weir_admin_loop_step(j)) {
        /* back to the worker first, ahead of the queue */
        j->next = api->head;
        api->head = j;
        if (!api->tail)
            api->tail = j;
        if (j->changed && api->brk->authz)
            weir_authz_reload(api->brk->authz);
        j->changed = false;
        weir_admin_next(api);
        return;
    }
    if (j->changed && api->brk->authz && !api->closing) {
        /* read your writes: answer once the authorizer enforces the change
         * (the grants of an approval, a tenant's policy), so that a client
         * acting on the answer is not refused by the old snapshot */
        j->reload_gen = weir_authz_generation(api->brk->authz);
        weir_authz_reload(api->brk->authz);
        if (uv_timer_init(api->brk->loop, &j->reload_timer) == 0) {
            j->timer_open = true;
            j->reload_timer.data = j;
            j->reload_deadline = uv_now(api->brk->loop) + WEIR_ADMIN_RELOAD_WAIT_MS;
            api->running = j; /* the queue waits with it */
            uv_timer_start(&j->reload_timer, weir_admin_reload_tick, 2, 2);
            return;
        }
    }
    weir_admin_finish(j);
}

/* Sends j's answer and ends it (after its timer closed, if it has one). */
static void
weir_admin_finish(weir_admin_job_t *j)
{
    weir_admin_api_t *api = j->api;

    if (j->req) {
        j->req->cancel = NULL;
        j->req->ctx = NULL;
        json_t *a = j->answer;
        j->answer = NULL;
        weir_http_respond_json(j->req, j->status ? j->status : 500, a);
        j->req = NULL;
    }
    if (j->timer_open) {
        uv_close((uv_handle_t *)&j->reload_timer, weir_admin_timer_closed);
        return;
    }
    api->running = NULL;
    weir_admin_job_free(j);
    if (api->closing)
        weir_admin_api_destroy(api);
    else
        weir_admin_next(api);
}

static void
weir_admin_timer_closed(uv_handle_t *h)
{
    weir_admin_job_t *j = h->data;

    j->timer_open = false;
    weir_admin_finish(j);
}

static void
weir_admin_reload_tick(uv_timer_t *t)
{
    weir_admin_job_t *j = t->data;
    weir_admin_api_t *api = j->api;

    if (weir_authz_generation(api->brk->authz) == j->reload_gen && !api->closing &&
        uv_now(api->brk->loop) < j->reload_deadline)
        return;
    uv_timer_stop(t);
    weir_admin_finish(j);
}

static void
weir_admin_next(weir_admin_api_t *api)
{
    weir_admin_job_t *j = api->head;

    if (api->running || !j)
        return;
    api->head = j->next;
    if (!api->head)
        api->tail = NULL;
    api->running = j;
    j->work.data = j;
    if (uv_queue_work(api->brk->loop, &j->work, weir_admin_work, weir_admin_after) != 0) {
        api->running = NULL;
        if (j->req)
            weir_http_respond_error(j->req, 503, 50301, "the admin API cannot queue work");
        weir_admin_job_free(j);
    }
}

static void
weir_admin_cancel(weir_http_req_t *req)
{
    weir_admin_job_t *j = req->ctx;

    if (j)
        j->req = NULL;
    req->ctx = NULL;
}

/* A job for req (its principal and admin rights copied). */
static weir_admin_job_t *
weir_admin_job(weir_http_req_t *req, weir_admin_op_t op)
{
    weir_admin_job_t *j = weir_calloc(1, sizeof(*j));

    j->api = req->route->arg;
    j->req = req;
    j->op = op;
    weir_principal_set(&j->who, req->principal.method, req->principal.user ? req->principal.user
                                                                           : "ANONYMOUS",
                       req->principal.groups, req->principal.ngroups);
    weir_principal_str(&req->principal, j->actor, sizeof(j->actor));
    j->admin = weir_admin_is_admin(req);
    return j;
}

/* Queues j and defers req's answer. */
static int
weir_admin_submit(weir_admin_job_t *j)
{
    weir_admin_api_t *api = j->api;

    j->req->ctx = j;
    j->req->cancel = weir_admin_cancel;
    if (api->tail)
        api->tail->next = j;
    else
        api->head = j;
    api->tail = j;
    weir_admin_next(api);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Handlers                                                            */

static int
weir_admin_h_tenants(weir_http_req_t *req)
{
    return weir_admin_submit(weir_admin_job(req, WEIR_ADMIN_TENANTS_LIST));
}

static int
weir_admin_h_tenant(weir_http_req_t *req)
{
    weir_admin_job_t *j = weir_admin_job(req, WEIR_ADMIN_TENANT_GET);

    j->name = weir_strdup(weir_http_param(req, "name"));
    return weir_admin_submit(j);
}

/* An optional integer limit member of a tenant body. */
static bool
weir_admin_limit(json_t *body, const char *key, int64_t *out)
{
    json_t *v = json_object_get(body, key);

    if (!v)
        return true;
    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return true;
}

/* A subject's governance policy as JSON. */
static json_t *
weir_admin_policy_json(const char *subject, const weir_reg_policy_t *pol)
{
    return json_pack("{s:s, s:b, s:o}", "subject", subject, "approval", pol->approval,
                     "compatibility_floor",
                     pol->has_floor ? json_string(weir_compat_level_name(pol->floor))
                                    : json_null());
}

/* GET /admin/v1/subjects/{subject}/policy: anyone authenticated (the
 * registry's subjects are readable by all). */
static int
weir_admin_h_policy(weir_http_req_t *req)
{
    const char *subject = weir_http_param(req, "subject");
    weir_reg_policy_t pol;

    if (!req->brk->registry) {
        weir_http_respond_error(req, 503, 50301, "the schema registry is not available");
        return 0;
    }
    weir_registry_get_policy(req->brk->registry, subject, &pol);
    weir_http_respond_json(req, 200, weir_admin_policy_json(subject, &pol));
    return 0;
}

/* PUT /admin/v1/subjects/{subject}/policy {"approval": bool,
 * "compatibility_floor": LEVEL or null}: administrators only; fields left
 * out keep their value.  Runs on the loop (the registry lives there). */
static int
weir_admin_h_policy_set(weir_http_req_t *req)
{
    const char *subject = weir_http_param(req, "subject");
    weir_registry_t *reg = req->brk->registry;
    weir_reg_policy_t pol;
    weir_reg_err_t rerr;
    char err[256], detail[160], who[512];
    json_t *b, *ap, *fl;
    int level = -1;

    if (!weir_admin_is_admin(req))
        return weir_admin_deny(req, "schema.policy", subject,
                               "only administrators may change a subject's policy");
    if (!reg) {
        weir_http_respond_error(req, 503, 50301, "the schema registry is not available");
        return 0;
    }
    b = weir_http_body_json(req, err, sizeof(err));
    if (!b) {
        weir_http_respond_error(req, 400, 40001, "%s", err);
        return 0;
    }
    ap = json_object_get(b, "approval");
    fl = json_object_get(b, "compatibility_floor");
    if (fl && json_is_string(fl))
        level = weir_compat_level_parse(json_string_value(fl));
    if (!json_is_object(b) || (ap && !json_is_boolean(ap)) ||
        (fl && !json_is_null(fl) && level < 0)) {
        json_decref(b);
        weir_http_respond_error(req, 400, 40001, "a policy is {\"approval\": boolean, "
                                "\"compatibility_floor\": NONE|BACKWARD|...|FULL_TRANSITIVE "
                                "or null}");
        return 0;
    }
    memset(&rerr, 0, sizeof(rerr));
    if (weir_registry_check_subject(subject, &rerr) != 0) {
        json_decref(b);
        weir_http_respond_error(req, 422, rerr.code, "%s", rerr.message);
        return 0;
    }
    weir_registry_get_policy(reg, subject, &pol);
    if (ap)
        pol.approval = json_is_true(ap);
    if (fl) {
        pol.has_floor = level >= 0;
        pol.floor = level >= 0 ? (weir_compat_level_t)level : WEIR_COMPAT_NONE;
    }
    json_decref(b);
    if (weir_registry_set_policy(reg, subject, &pol, &rerr) != 0) {
        weir_http_respond_error(req, rerr.status ? rerr.status : 500,
                                rerr.code ? rerr.code : 50001, "%s", rerr.message);
        weir_reg_err_clear(&rerr);
        return 0;
    }
    snprintf(detail, sizeof(detail), "approval=%s floor=%s", pol.approval ? "true" : "false",
             pol.has_floor ? weir_compat_level_name(pol.floor) : "none");
    weir_principal_str(&req->principal, who, sizeof(who));
    if (req->brk->authz)
        weir_authz_audit(req->brk->authz, who, "schema.policy", subject, "ok", detail);
    weir_http_respond_json(req, 200, weir_admin_policy_json(subject, &pol));
    return 0;
}

static int
weir_admin_h_tenant_create(weir_http_req_t *req)
{
    char err[256];
    json_t *b;

    if (!weir_admin_is_admin(req))
        return weir_admin_deny(req, "tenant.create", "tenants",
                               "only administrators may create tenants");
    b = weir_http_body_json(req, err, sizeof(err));
    if (!b) {
        weir_http_respond_error(req, 400, 40001, "%s", err);
        return 0;
    }
    const char *name = json_string_value(json_object_get(b, "name"));
    const char *group = json_string_value(json_object_get(b, "ldap_group"));
    json_t *prefixes = json_object_get(b, "prefixes");
    json_t *dc = json_object_get(b, "direct_create");
    int64_t mp = -1, mt = -1, mr = -1, pr = -1, fr = -1;
    if (!json_is_object(b) || !name || !group || !json_is_array(prefixes) ||
        (dc && !json_is_boolean(dc)) || !weir_admin_limit(b, "max_partitions_per_topic", &mp) ||
        !weir_admin_limit(b, "max_total_partitions", &mt) ||
        !weir_admin_limit(b, "max_retention_ms", &mr) ||
        !weir_admin_limit(b, "produce_byte_rate", &pr) ||
        !weir_admin_limit(b, "fetch_byte_rate", &fr) || mp > INT32_MAX || mt > INT32_MAX) {
        json_decref(b);
        weir_http_respond_error(req, 400, 40001, "a tenant is {\"name\": string, \"ldap_group\": "
                                "string, \"prefixes\": [string], optional integer limits and "
                                "\"direct_create\": boolean}");
        return 0;
    }
    weir_admin_job_t *j = weir_admin_job(req, WEIR_ADMIN_TENANT_CREATE);
    weir_tenant_init(&j->tenant, name, group);
    size_t i;
    json_t *p;
    json_array_foreach(prefixes, i, p) {
        if (json_is_string(p))
            weir_tenant_add_prefix(&j->tenant, json_string_value(p));
    }
    j->tenant.max_partitions_per_topic = (int32_t)mp;
    j->tenant.max_total_partitions = (int32_t)mt;
    j->tenant.max_retention_ms = mr;
    j->tenant.produce_byte_rate = pr;
    j->tenant.fetch_byte_rate = fr;
    j->tenant.direct_create = dc ? json_is_true(dc) : true;
    if (weir_tenant_validate(&j->tenant, err, sizeof(err)) != 0 ||
        j->tenant.nprefixes != json_array_size(prefixes)) {
        j->req = NULL;
        weir_admin_job_free(j);
        json_decref(b);
        weir_http_respond_error(req, 400, 40001, "%s", err[0] ? err : "prefixes must be strings");
        return 0;
    }
    json_decref(b);
    return weir_admin_submit(j);
}

static int
weir_admin_h_tenant_update(weir_http_req_t *req)
{
    char err[256];
    const char *name = weir_http_param(req, "name");
    char target[300];
    json_t *b;

    snprintf(target, sizeof(target), "tenant:%s", name ? name : "");
    if (!weir_admin_is_admin(req))
        return weir_admin_deny(req, "tenant.update", target,
                               "only administrators may change tenant policies");
    b = weir_http_body_json(req, err, sizeof(err));
    if (!b || !json_is_object(b)) {
        json_decref(b);
        weir_http_respond_error(req, 400, 40001, "%s", b ? "the body is a JSON object" : err);
        return 0;
    }
    weir_admin_job_t *j = weir_admin_job(req, WEIR_ADMIN_TENANT_UPDATE);
    j->name = weir_strdup(name ? name : "");
    j->body = b;
    return weir_admin_submit(j);
}

static int
weir_admin_h_requests(weir_http_req_t *req)
{
    weir_admin_job_t *j = weir_admin_job(req, WEIR_ADMIN_REQUESTS_LIST);
    const char *state = weir_http_query(req, "state");
    const char *kind = weir_http_query(req, "kind");

    if (state && *state)
        j->name = weir_strdup(state);
    if (kind && *kind)
        j->kind = weir_strdup(kind);
    return weir_admin_submit(j);
}

/* The {id} parameter, or 0 after answering 400. */
static int64_t
weir_admin_id(weir_http_req_t *req)
{
    const char *s = weir_http_param(req, "id");
    char *end;
    long long v;

    errno = 0;
    v = s ? strtoll(s, &end, 10) : 0;
    if (!s || errno || *end || v <= 0) {
        weir_http_respond_error(req, 400, 40002, "a request id is a positive number, not '%s'",
                                s ? s : "");
        return 0;
    }
    return v;
}

/* Submits op on the request {id} of the path (answers a bad id). */
static int
weir_admin_submit_id(weir_http_req_t *req, weir_admin_op_t op)
{
    int64_t id = weir_admin_id(req);

    if (id == 0)
        return 0;
    weir_admin_job_t *j = weir_admin_job(req, op);
    j->id = id;
    return weir_admin_submit(j);
}

static int
weir_admin_h_request(weir_http_req_t *req)
{
    return weir_admin_submit_id(req, WEIR_ADMIN_REQUEST_GET);
}

static int
weir_admin_h_request_create(weir_http_req_t *req)
{
    char err[256];
    json_t *b = weir_http_body_json(req, err, sizeof(err));

    if (!b) {
        weir_http_respond_error(req, 400, 40001, "%s", err);
        return 0;
    }
    if (!json_is_object(b)) {
        json_decref(b);
        weir_http_respond_error(req, 400, 40001, "a request is a JSON object");
        return 0;
    }
    const char *kind = json_string_value(json_object_get(b, "kind"));
    const char *topic = json_string_value(json_object_get(b, "topic"));
    if (kind && topic && strcmp(kind, "topic") == 0 &&
        weir_broker_topic_find(req->brk, topic, strlen(topic))) {
        weir_http_respond_error(req, 409, 40901, "topic '%s' exists already", topic);
        json_decref(b);
        return 0;
    }
    weir_admin_job_t *j = weir_admin_job(req, WEIR_ADMIN_REQUEST_CREATE);
    j->body = b;
    return weir_admin_submit(j);
}

static int
weir_admin_decide(weir_http_req_t *req, bool approve)
{
    char err[256], target[64];
    int64_t id = weir_admin_id(req);
    json_t *b;

    if (id == 0)
        return 0;
    snprintf(target, sizeof(target), "request:%" PRId64, id);
    if (!weir_admin_is_admin(req))
        return weir_admin_deny(req, approve ? "request.approve" : "request.reject", target,
                               approve ? "only administrators may approve requests"
                                       : "only administrators may reject requests");
    if (req->body_len == 0) {
        b = json_object();
    } else {
        b = weir_http_body_json(req, err, sizeof(err));
        if (!b || !json_is_object(b)) {
            json_decref(b);
            weir_http_respond_error(req, 400, 40001, "%s", b ? "the body is a JSON object" : err);
            return 0;
        }
    }
    if (!approve) {
        const char *why = json_string_value(json_object_get(b, "reason"));
        if (!why || !*why) {
            json_decref(b);
            weir_http_respond_error(req, 400, 40001, "rejecting needs a non-empty \"reason\"");
            return 0;
        }
    }
    weir_admin_job_t *j = weir_admin_job(req, approve ? WEIR_ADMIN_REQUEST_APPROVE
                                                      : WEIR_ADMIN_REQUEST_REJECT);
    j->id = id;
    j->body = b;
    return weir_admin_submit(j);
}

/* POST /admin/v1/requests/{id}/cancel [{"reason": text}]: the requester
 * or an administrator (checked on the worker, against the stored request). */
static int
weir_admin_h_cancel(weir_http_req_t *req)
{
    char err[256];
    int64_t id = weir_admin_id(req);
    json_t *b;

    if (id == 0)
        return 0;
    if (req->body_len == 0) {
        b = json_object();
    } else {
        b = weir_http_body_json(req, err, sizeof(err));
        if (!b || !json_is_object(b) || (json_object_get(b, "reason") &&
                                         !json_is_string(json_object_get(b, "reason")))) {
            weir_http_respond_error(req, 400, 40001, "%s", b ? "the body is {\"reason\": "
                                    "string}" : err);
            json_decref(b);
            return 0;
        }
    }
    weir_admin_job_t *j = weir_admin_job(req, WEIR_ADMIN_REQUEST_CANCEL);
    j->id = id;
    j->body = b;
    return weir_admin_submit(j);
}

/* GET /admin/v1/requests/{id}/diff: a schema request against the
 * subject's latest version, field by field. */
static int
weir_admin_h_diff(weir_http_req_t *req)
{
    return weir_admin_submit_id(req, WEIR_ADMIN_REQUEST_DIFF);
}

static int
weir_admin_h_approve(weir_http_req_t *req)
{
    return weir_admin_decide(req, true);
}

static int
weir_admin_h_reject(weir_http_req_t *req)
{
    return weir_admin_decide(req, false);
}

static bool
weir_admin_qint(weir_http_req_t *req, const char *name, int64_t *out)
{
    const char *s = weir_http_query(req, name);
    char *end;

    if (!s)
        return true;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < 0) {
        weir_http_respond_error(req, 400, 40002, "query parameter %s must be a number >= 0",
                                name);
        return false;
    }
    *out = v;
    return true;
}

static int
weir_admin_h_audit(weir_http_req_t *req)
{
    int64_t since = 0, after = 0, limit = 1000;

    if (!weir_admin_is_admin(req))
        return weir_admin_deny(req, "audit.read", "audit",
                               "only administrators may read the audit log");
    if (!weir_admin_qint(req, "since_ms", &since) || !weir_admin_qint(req, "after", &after) ||
        !weir_admin_qint(req, "limit", &limit))
        return 0;
    weir_admin_job_t *j = weir_admin_job(req, WEIR_ADMIN_AUDIT_LIST);
    const char *p = weir_http_query(req, "principal");
    const char *a = weir_http_query(req, "action");
    j->since_ms = since;
    j->after_id = after;
    j->limit = limit;
    if (p && *p)
        j->principal_filter = weir_strdup(p);
    if (a && *a)
        j->action_filter = weir_strdup(a);
    return weir_admin_submit(j);
}

static int
weir_admin_h_audit_verify(weir_http_req_t *req)
{
    if (!weir_admin_is_admin(req))
        return weir_admin_deny(req, "audit.verify", "audit",
                               "only administrators may verify the audit log");
    return weir_admin_submit(weir_admin_job(req, WEIR_ADMIN_AUDIT_VERIFY));
}

static int
weir_admin_h_topics(weir_http_req_t *req)
{
    return weir_admin_submit(weir_admin_job(req, WEIR_ADMIN_TOPICS_LIST));
}

static int
weir_admin_h_topic(weir_http_req_t *req)
{
    weir_admin_job_t *j = weir_admin_job(req, WEIR_ADMIN_TOPIC_GET);

    j->name = weir_strdup(weir_http_param(req, "name"));
    return weir_admin_submit(j);
}

static int
weir_admin_h_groups(weir_http_req_t *req)
{
    return weir_admin_submit(weir_admin_job(req, WEIR_ADMIN_GROUPS_LIST));
}

static int
weir_admin_h_group(weir_http_req_t *req)
{
    weir_admin_job_t *j = weir_admin_job(req, WEIR_ADMIN_GROUP_GET);

    j->name = weir_strdup(weir_http_param(req, "group"));
    return weir_admin_submit(j);
}

/* ---- ACLs: the authorizer's snapshot and its governance worker */

static json_t *
weir_admin_acl_json(const weir_acl_binding_t *b)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)b->id,
                     "resource_type", weir_acl_res_name(b->res_type), "pattern_type",
                     weir_acl_pat_name(b->pattern), "name", b->name, "principal", b->principal,
                     "host", b->host, "operation", weir_acl_op_name(b->op), "permission",
                     weir_acl_perm_name(b->perm));
}

typedef struct weir_admin_acls_s {
    const weir_http_req_t *req;
    bool admin;
    json_t *out;
} weir_admin_acls_t;

/* Whether a binding's principal is the request's user or one of its groups. */
static bool
weir_admin_acl_mine(const weir_http_req_t *req, const char *principal)
{
    if (strncmp(principal, "User:", 5) == 0)
        return strcmp(principal + 5, "*") == 0 ||
               (req->principal.user && strcmp(principal + 5, req->principal.user) == 0);
    if (strncmp(principal, "Group:", 6) == 0)
        return weir_principal_in_group(&req->principal, principal + 6);
    return false;
}

static void
weir_admin_acl_cb(void *arg, const weir_acl_binding_t *b)
{
    weir_admin_acls_t *l = arg;

    if (l->admin || weir_admin_acl_mine(l->req, b->principal))
        json_array_append_new(l->out, weir_admin_acl_json(b));
}

/* Fills a filter from the query (resource_type, pattern_type, name,
 * principal, host, operation, permission); false after answering 400. */
static bool
weir_admin_acl_filter(weir_http_req_t *req, weir_acl_filter_t *f)
{
    const char *v;

    memset(f, 0, sizeof(*f));
    f->res_type = WEIR_ACL_RES_ANY;
    f->pattern = WEIR_ACL_PAT_ANY;
    f->op = WEIR_ACL_OP_ANY;
    f->perm = WEIR_ACL_PERM_ANY;
    if ((v = weir_http_query(req, "resource_type")))
        f->res_type = (int8_t)weir_acl_res_parse(v);
    if ((v = weir_http_query(req, "pattern_type")))
        f->pattern = (int8_t)weir_acl_pat_parse(v);
    if ((v = weir_http_query(req, "operation")))
        f->op = (int8_t)weir_acl_op_parse(v);
    if ((v = weir_http_query(req, "permission")))
        f->perm = (int8_t)weir_acl_perm_parse(v);
    f->name = weir_http_query(req, "name");
    f->principal = weir_http_query(req, "principal");
    f->host = weir_http_query(req, "host");
    char err[256] = "";
    if (weir_acl_filter_validate(f, err, sizeof(err)) != 0) {
        weir_http_respond_error(req, 400, 40003, "bad ACL filter: %s", err);
        return false;
    }
    return true;
}

static int
weir_admin_h_acls(weir_http_req_t *req)
{
    weir_acl_filter_t f;
    weir_admin_acls_t l = {.req = req, .admin = weir_admin_is_admin(req), .out = json_array()};

    if (!weir_admin_acl_filter(req, &f)) {
        json_decref(l.out);
        return 0;
    }
    if (req->brk->authz)
        weir_authz_acls_describe(req->brk->authz, &f, weir_admin_acl_cb, &l);
    weir_http_respond_json(req, 200, json_pack("{s:o}", "acls", l.out));
    return 0;
}

/* A deferred ACL change: req until the governance worker answers. */
typedef struct weir_admin_aclop_s {
    weir_http_req_t *req;
    char desc[1024];
} weir_admin_aclop_t;

static void
weir_admin_aclop_cancel(weir_http_req_t *req)
{
    weir_admin_aclop_t *op = req->ctx;

    if (op)
        op->req = NULL;
    req->ctx = NULL;
}

static weir_admin_aclop_t *
weir_admin_aclop_take(void *arg)
{
    weir_admin_aclop_t *op = arg;

    if (op->req) {
        op->req->cancel = NULL;
        op->req->ctx = NULL;
    }
    return op;
}

static void
weir_admin_acl_created(void *arg, const int *results, size_t n)
{
    weir_admin_aclop_t *op = weir_admin_aclop_take(arg);

    if (op->req) {
        if (n == 1 && results[0] == 0)
            weir_http_respond_json(op->req, 201, json_pack("{s:s}", "granted", op->desc));
        else
            weir_http_respond_error(op->req, 500, 50001, "storing the ACL %s failed (%d)",
                                    op->desc, n ? results[0] : -1);
    }
    free(op);
}

static void
weir_admin_acl_deleted(void *arg, int status, const weir_authz_deleted_t *deleted,
                       size_t nfilters)
{
    weir_admin_aclop_t *op = weir_admin_aclop_take(arg);

    if (op->req) {
        if (status == 0) {
            json_t *a = json_array();
            for (size_t i = 0; i < nfilters; i++)
                for (size_t k = 0; k < deleted[i].n; k++)
                    json_array_append_new(a, weir_admin_acl_json(&deleted[i].v[k]));
            weir_http_respond_json(op->req, 200, json_pack("{s:I, s:o}", "deleted",
                                                           (json_int_t)json_array_size(a),
                                                           "acls", a));
        } else {
            weir_http_respond_error(op->req, 500, 50001, "deleting the ACLs failed (%d)",
                                    status);
        }
    }
    free(op);
}

/* An ACL binding from a JSON body; false after answering 400. */
static bool
weir_admin_acl_body(weir_http_req_t *req, json_t *b, weir_acl_binding_t *out)
{
    const char *rt = json_string_value(json_object_get(b, "resource_type"));
    const char *pt = json_string_value(json_object_get(b, "pattern_type"));
    const char *op = json_string_value(json_object_get(b, "operation"));
    const char *pe = json_string_value(json_object_get(b, "permission"));
    char err[256] = "";

    memset(out, 0, sizeof(*out));
    out->res_type = (int8_t)(rt ? weir_acl_res_parse(rt) : WEIR_ACL_RES_UNKNOWN);
    out->pattern = (int8_t)(pt ? weir_acl_pat_parse(pt) : WEIR_ACL_PAT_LITERAL);
    out->op = (int8_t)(op ? weir_acl_op_parse(op) : WEIR_ACL_OP_UNKNOWN);
    out->perm = (int8_t)(pe ? weir_acl_perm_parse(pe) : WEIR_ACL_PERM_ALLOW);
    out->name = (char *)json_string_value(json_object_get(b, "name"));
    out->principal = (char *)json_string_value(json_object_get(b, "principal"));
    out->host = (char *)json_string_value(json_object_get(b, "host"));
    if (!out->host)
        out->host = "*";
    if (!out->name || !out->principal || weir_acl_binding_validate(out, err, sizeof(err)) != 0) {
        weir_http_respond_error(req, 400, 40003, "bad ACL binding: %s",
                                err[0] ? err : "name and principal are required");
        return false;
    }
    return true;
}

static int
weir_admin_acl_change(weir_http_req_t *req, bool grant)
{
    char err[256], who[512];
    json_t *b;
    weir_acl_binding_t bd;

    if (!weir_admin_is_admin(req))
        return weir_admin_deny(req, grant ? "acl.grant" : "acl.revoke", "acls",
                               grant ? "only administrators may grant ACLs"
                                     : "only administrators may revoke ACLs");
    if (!req->brk->authz) {
        weir_http_respond_error(req, 503, 50301, "governance is not running");
        return 0;
    }
    b = weir_http_body_json(req, err, sizeof(err));
    if (!b || !json_is_object(b)) {
        json_decref(b);
        weir_http_respond_error(req, 400, 40001, "%s", b ? "an ACL is a JSON object" : err);
        return 0;
    }
    if (!weir_admin_acl_body(req, b, &bd)) {
        json_decref(b);
        return 0;
    }
    weir_admin_aclop_t *op = weir_calloc(1, sizeof(*op));
    op->req = req;
    snprintf(op->desc, sizeof(op->desc), "%s:%s:%s %s %s %s from %s",
             weir_acl_res_name(bd.res_type), weir_acl_pat_name(bd.pattern), bd.name,
             bd.principal, weir_acl_perm_name(bd.perm), weir_acl_op_name(bd.op), bd.host);
    req->ctx = op;
    req->cancel = weir_admin_aclop_cancel;
    weir_principal_str(&req->principal, who, sizeof(who));
    if (grant) {
        weir_authz_acls_create(req->brk->authz, &bd, 1, who, weir_admin_acl_created, op);
    } else {
        weir_acl_filter_t f = {.res_type = bd.res_type, .pattern = bd.pattern, .name = bd.name,
                               .principal = bd.principal, .host = bd.host, .op = bd.op,
                               .perm = bd.perm};
        weir_authz_acls_delete(req->brk->authz, &f, 1, who, weir_admin_acl_deleted, op);
    }
    json_decref(b);
    return 0;
}

static int
weir_admin_h_acl_grant(weir_http_req_t *req)
{
    return weir_admin_acl_change(req, true);
}

static int
weir_admin_h_acl_revoke(weir_http_req_t *req)
{
    return weir_admin_acl_change(req, false);
}

/* ------------------------------------------------------------------ */
/* Registration                                                        */

weir_admin_api_t *
weir_admin_api_register(weir_http_server_t *srv, weir_broker_t *brk, char *errstr,
                        size_t errstr_size)
{
    weir_admin_api_t *api = weir_calloc(1, sizeof(*api));
    size_t n = strlen(brk->log_dir) + sizeof("/weir.db");

    api->brk = brk;
    api->db_path = weir_malloc(n);
    snprintf(api->db_path, n, "%s/weir.db", brk->log_dir);
    const weir_http_route_t routes[] = {
        {"GET", "/admin/v1/tenants", weir_admin_h_tenants, NULL, NULL, 0, api},
        {"POST", "/admin/v1/tenants", weir_admin_h_tenant_create, NULL, NULL, 0, api},
        {"GET", "/admin/v1/tenants/{name}", weir_admin_h_tenant, NULL, NULL, 0, api},
        {"PATCH", "/admin/v1/tenants/{name}", weir_admin_h_tenant_update, NULL, NULL, 0, api},
        {"GET", "/admin/v1/requests", weir_admin_h_requests, NULL, NULL, 0, api},
        {"POST", "/admin/v1/requests", weir_admin_h_request_create, NULL, NULL, 0, api},
        {"GET", "/admin/v1/requests/{id}", weir_admin_h_request, NULL, NULL, 0, api},
        {"POST", "/admin/v1/requests/{id}/approve", weir_admin_h_approve, NULL, NULL, 0, api},
        {"POST", "/admin/v1/requests/{id}/reject", weir_admin_h_reject, NULL, NULL, 0, api},
        {"POST", "/admin/v1/requests/{id}/cancel", weir_admin_h_cancel, NULL, NULL, 0, api},
        {"GET", "/admin/v1/requests/{id}/diff", weir_admin_h_diff, NULL, NULL, 0, api},
        {"GET", "/admin/v1/audit", weir_admin_h_audit, NULL, NULL, 0, api},
        {"GET", "/admin/v1/audit/verify", weir_admin_h_audit_verify, NULL, NULL, 0, api},
        {"GET", "/admin/v1/topics", weir_admin_h_topics, NULL, NULL, 0, api},
        {"GET", "/admin/v1/topics/{name}", weir_admin_h_topic, NULL, NULL, 0, api},
        {"GET", "/admin/v1/groups", weir_admin_h_groups, NULL, NULL, 0, api},
        {"GET", "/admin/v1/groups/{group}", weir_admin_h_group, NULL, NULL, 0, api},
        {"GET", "/admin/v1/acls", weir_admin_h_acls, NULL, NULL, 0, api},
        {"POST", "/admin/v1/acls/grant", weir_admin_h_acl_grant, NULL, NULL, 0, api},
        {"POST", "/admin/v1/acls/revoke", weir_admin_h_acl_revoke, NULL, NULL, 0, api},
        {"GET", "/admin/v1/subjects/{subject}/policy", weir_admin_h_policy, NULL, NULL, 0, api},
        {"PUT", "/admin/v1/subjects/{subject}/policy", weir_admin_h_policy_set, NULL, NULL, 0,
         api},
    };
    if (weir_http_route_add(srv, routes, WEIR_ARRAY_SIZE(routes), errstr, errstr_size) != 0) {
        weir_admin_api_destroy(api);
        return NULL;
    }
    return api;
}

void
weir_admin_api_free(weir_admin_api_t *api)
{
    weir_admin_job_t *j, *next;

    if (!api)
        return;
    for (j = api->head; j; j = next) {
        next = j->next;
        if (j->req) {
            j->req->cancel = NULL;
            j->req->ctx = NULL;
            weir_http_respond_error(j->req, 503, 50301, "the broker is stopping");
        }
        weir_admin_job_free(j);
    }
    api->head = api->tail = NULL;
    if (api->running) {
        api->closing = true; /* weir_admin_after frees it */
        return;
    }
    weir_admin_api_destroy(api);
}
