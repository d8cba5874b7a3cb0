/*
 * weir_authz.h: governance at run time, on the loop thread - authorization
 * decisions for every API, tenant policy on topic changes, byte-rate
 * quotas, the audit queue, and ACL changes through the governance worker.
 *
 * Decisions use an in-memory snapshot (ACL index, tenants, quota
 * overrides) and never touch SQL.  Each connection has a session: who it
 * is (super user or admin group member, tenant, quota sensors) and a cache
 * of decisions by (resource type, operation, name).  The snapshot has a
 * generation counter, bumped the moment any binding, tenant or override
 * changes; a session whose generation differs (or whose principal changed,
 * after SASL re-authentication) drops its cache before the next decision.
 *
 * Rules (Kafka's, see weir_acl.h): super.users and members of
 * weir.admin.group are allowed everything; otherwise the bindings decide,
 * and a resource without bindings is allowed only when
 * allow.everyone.if.no.acl.found holds.  With no binding at all and that
 * setting on, decisions cost one comparison.
 *
 * Changes are written by one worker job at a time on a single governance
 * SQLite connection (synchronous=FULL): CreateAcls/DeleteAcls are queued
 * and answered when their transaction - the change plus its audit rows -
 * has committed; only then does the snapshot change.  Operations run in
 * queue order, so a DeleteAcls sees every earlier CreateAcls.  Audit rows
 * for denials and for topic changes are queued in memory (denials
 * rate-limited, weir_audit.h) and written in batches by the same worker,
 * at most a second later; SIGHUP re-reads tenants, bindings and overrides
 * from the database (changes made with the typed store API by tools).
 */
#ifndef WEIR_AUTHZ_H
#define WEIR_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "weir_acl.h"
#include "weir_auth.h"
#include "weir_buf.h"
#include "weir_kerr.h"

typedef struct weir_authz_s weir_authz_t;
typedef struct weir_authz_session_s weir_authz_session_t;
typedef struct weir_conn_s weir_conn_t;
typedef struct weir_req_s weir_req_t;
typedef struct weir_topic_s weir_topic_t;
typedef struct weir_kvlist_s weir_kvlist_t;
typedef struct weir_tenants_s weir_tenants_t;

/** Settings (copied by weir_authz_open). */
typedef struct weir_authz_conf_s {
    uv_loop_t *loop;
    const char *db_path;                  /* weir.db */
    const weir_principal_ref_t *super_users;
    size_t nsuper_users;
    const char *admin_group;              /* weir.admin.group, or NULL */
    bool allow_everyone;                  /* allow.everyone.if.no.acl.found (effective) */
    int quota_samples;                    /* quota.window.num */
    int64_t quota_window_ms;              /* quota.window.size.seconds * 1000 */
    int64_t audit_deny_interval_ms;       /* one denial record per key per interval */
    int audit_deny_burst;                 /* denial records per second, at most */
} weir_authz_conf_t;

/**
 * @brief Opens the governance connection to db_path and loads the snapshot
 *        (tenants, bindings, quota overrides).
 * @returns 0, or an error with errstr set.
 */
int weir_authz_open(const weir_authz_conf_t *conf, weir_authz_t **out, char *errstr,
                    size_t errstr_size);
/**
 * @brief Stops: queued operations that have not started fail, queued audit
 *        rows are written (synchronously: the broker is shutting down), and
 *        the object frees itself once a running job has finished.
 */
void weir_authz_stop(weir_authz_t *az);
/** Queues a re-read of tenants, bindings and quota overrides (SIGHUP). */
void weir_authz_reload(weir_authz_t *az);
/** The snapshot generation (bumped by every change). */
uint64_t weir_authz_generation(const weir_authz_t *az);
/** Number of ACL bindings in the snapshot. */
size_t weir_authz_acl_count(const weir_authz_t *az);
/** The tenants of the snapshot (valid on the loop until the next change);
 *  NULL without az.  Used by the registry's governance hooks. */
const weir_tenants_t *weir_authz_tenants(const weir_authz_t *az);
/** Frees a connection's session (weir_conn.c, at close). */
void weir_authz_session_free(weir_authz_session_t *s);

/* ------------------------------------------------------------------ */
/* Decisions                                                          */

/**
 * @brief Whether conn may do op on (res_type, name[0..len)).  A denial is
 *        logged and queued for the audit log (rate-limited) with api as the
 *        action, unless quiet (filtering a listing).
 */
bool weir_authz_allowed(weir_authz_t *az, weir_conn_t *conn, const char *api, int res_type,
                        const char *name, size_t len, int op, bool quiet);
/** Super user or member of the admin group. */
bool weir_authz_is_admin(weir_authz_t *az, weir_conn_t *conn);

/* Handler helpers: req->brk->authz (allow all when the broker has none). */

/** weir_authz_allowed for the request's connection, audited as its API. */
bool weir_req_allowed(weir_req_t *req, int res_type, weir_str_t name, int op);
/** The same, not audited (filtering what a listing shows). */
bool weir_req_visible(weir_req_t *req, int res_type, weir_str_t name, int op);
/** op on the CLUSTER resource (kafka-cluster). */
bool weir_req_allowed_cluster(weir_req_t *req, int op);
/**
 * @brief IDEMPOTENT_WRITE for an idempotent producer (InitProducerId):
 *        on the cluster, or - as Kafka since KIP-679 - implied by WRITE on
 *        any topic.
 */
bool weir_req_allowed_idempotent(weir_req_t *req);
/** Super user or admin group member. */
bool weir_req_is_admin(weir_req_t *req);

/* ------------------------------------------------------------------ */
/* Tenant policy                                                      */

/**
 * @brief CREATE was not granted for topic name: POLICY_VIOLATION naming
 *        the tenant's prefixes when the principal is a tenant member,
 *        TOPIC_AUTHORIZATION_FAILED otherwise (message in errstr).
 */
weir_kerr_t weir_req_topic_create_denied(weir_req_t *req, const char *name, char *errstr,
                                         size_t errstr_size);
/**
 * @brief Policy for creating topic name (partitions, configs) in a
 *        tenant's prefixes, for anyone but administrators: the tenant's
 *        direct-creation switch, partitions per topic and in all, and
 *        retention.  When configs sets no retention.ms and the broker
 *        default exceeds the tenant's maximum, retention.ms is set to that
 *        maximum in configs.
 * @returns WEIR_KERR_NONE or POLICY_VIOLATION with the limit in errstr.
 */
weir_kerr_t weir_req_topic_create_policy(weir_req_t *req, const char *name, int32_t partitions,
                                         weir_kvlist_t *configs, char *errstr,
                                         size_t errstr_size);
/** Policy for growing t to new_count partitions. */
weir_kerr_t weir_req_topic_partitions_policy(weir_req_t *req, const weir_topic_t *t,
                                             int32_t new_count, char *errstr,
                                             size_t errstr_size);
/** Policy for replacing t's overrides with overrides (retention). */
weir_kerr_t weir_req_topic_configs_policy(weir_req_t *req, const weir_topic_t *t,
                                          const weir_kvlist_t *overrides, char *errstr,
                                          size_t errstr_size);

/* ------------------------------------------------------------------ */
/* Quotas                                                             */

/**
 * @brief Records a Produce of bytes against the connection's produce quota.
 * @returns the throttle time in ms (0: within quota or no quota).
 */
int32_t weir_req_quota_produce(weir_req_t *req, int64_t bytes);
/**
 * @brief Records a Fetch response of bytes against the fetch quota.  When
 *        it returns a throttle time, the bytes were taken back (Kafka
 *        answers a throttled fetch with no data).
 */
int32_t weir_req_quota_fetch(weir_req_t *req, int64_t bytes);
/** Stops reading from the request's connection for ms (after its response). */
void weir_req_throttle(weir_req_t *req, int32_t ms);

/* ------------------------------------------------------------------ */
/* Audit                                                              */

/**
 * @brief Queues an audit row (written by the governance worker within a
 *        second); principal NULL means the connection's.
 */
void weir_authz_audit(weir_authz_t *az, const char *principal, const char *action,
                      const char *target, const char *outcome, const char *detail);
/** Queues an audit row for a change made through req (its principal). */
void weir_req_audit(weir_req_t *req, const char *action, const char *target,
                    const char *outcome, const char *detail);

/* ------------------------------------------------------------------ */
/* ACL management (CreateAcls, DescribeAcls, DeleteAcls)              */

/** Calls cb for every binding matching f, in id order (synchronous). */
void weir_authz_acls_describe(weir_authz_t *az, const weir_acl_filter_t *f,
                              void (*cb)(void *arg, const weir_acl_binding_t *b), void *arg);

/** results[i]: 0 (created, or already present) or a negative error. */
typedef void (*weir_authz_created_cb)(void *arg, const int *results, size_t n);
/**
 * @brief Queues the creation of n bindings (validated by the caller;
 *        copied) by actor; cb runs on the loop once they are stored, or
 *        failed (also when the broker stops first).
 */
void weir_authz_acls_create(weir_authz_t *az, const weir_acl_binding_t *bindings, size_t n,
                            const char *actor, weir_authz_created_cb cb, void *arg);

/** What one DeleteAcls filter removed. */
typedef struct weir_authz_deleted_s {
    weir_acl_binding_t *v;
    size_t n;
} weir_authz_deleted_t;
/** status 0, or a negative error (nothing deleted); deleted[i] for filter i. */
typedef void (*weir_authz_deleted_cb)(void *arg, int status, const weir_authz_deleted_t *deleted,
                                      size_t nfilters);
/**
 * @brief Queues the deletion of every binding matching one of the filters
 *        (copied; a binding matching several counts for the first), matched
 *        when the operation starts, after every earlier queued change.
 */
void weir_authz_acls_delete(weir_authz_t *az, const weir_acl_filter_t *filters, size_t n,
                            const char *actor, weir_authz_deleted_cb cb, void *arg);

#endif
