/*
 * weir_store_governance.h: the governance tables of weir.db behind a typed
 * API - ACL bindings, tenants, per-principal quota overrides, requests and
 * their decisions (for the admin API), and the hash-chained audit log.
 *
 * A weir_govstore_t is its own SQLite connection (opened and migrated
 * through weir_store_open), used by one thread at a time: the broker uses
 * it on the loop at start-up to load the snapshot, then only from its
 * governance worker job (weir_authz.c); tools and tests use it directly.
 * Every change is written together with its audit row in one transaction,
 * so the log never misses a change that happened.  Calls made between
 * weir_govstore_begin and weir_govstore_commit share that transaction;
 * otherwise each call is its own.  Prepared statements only; strings are
 * bound with their length and stored byte for byte.
 */
#ifndef WEIR_STORE_GOVERNANCE_H
#define WEIR_STORE_GOVERNANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_acl.h"
#include "weir_audit.h"
#include "weir_tenant.h"

typedef struct weir_govstore_s weir_govstore_t;

/**
 * @brief Opens (creating and migrating if needed) the database at path.
 * @param durable commits wait for fsync (synchronous=FULL), as the
 *        broker's governance connection does.
 * @returns 0, or an error with errstr set.
 */
int weir_govstore_open(const char *path, bool durable, weir_govstore_t **out, char *errstr,
                       size_t errstr_size);
void weir_govstore_close(weir_govstore_t *gs);

/** Starts a transaction that the calls until commit/rollback share. */
int weir_govstore_begin(weir_govstore_t *gs);
/** Commits it (rolled back on failure). */
int weir_govstore_commit(weir_govstore_t *gs);
/** Abandons it. */
void weir_govstore_rollback(weir_govstore_t *gs);

/* ------------------------------------------------------------------ */
/* ACL bindings                                                       */

/** Calls cb for every binding, in id order (strings valid during the call). */
int weir_govstore_acls_load(weir_govstore_t *gs,
                            void (*cb)(void *arg, const weir_acl_binding_t *b), void *arg);
/**
 * @brief Stores b (already validated) and audits "acl.create" by actor;
 *        sets b->id.  When an equal binding exists nothing is written and
 *        *existed is set (b->id is the existing one), as Kafka treats
 *        creating an existing ACL as success.
 */
int weir_govstore_acl_create(weir_govstore_t *gs, weir_acl_binding_t *b, const char *actor,
                             bool *existed);
/** Deletes binding id and audits "acl.delete"; -ENOENT if there is none. */
int weir_govstore_acl_delete(weir_govstore_t *gs, int64_t id, const char *actor);

/* ------------------------------------------------------------------ */
/* Tenants and quota overrides                                        */

int weir_govstore_tenants_load(weir_govstore_t *gs,
                               void (*cb)(void *arg, const weir_tenant_t *t), void *arg);
/**
 * @brief Creates or replaces tenant t (validated here: -EINVAL with errstr)
 *        with its prefixes, audited "tenant.put" by actor.  A prefix owned
 *        by another tenant gives -EEXIST.  With grant, the tenant's group
 *        also gets weir_tenant_grants() on each prefix (existing bindings
 *        are kept).
 */
int weir_govstore_tenant_put(weir_govstore_t *gs, const weir_tenant_t *t, bool grant,
                             const char *actor, char *errstr, size_t errstr_size);
/** Reads one tenant into *out (caller clears it); -ENOENT if none. */
int weir_govstore_tenant_get(weir_govstore_t *gs, const char *name, weir_tenant_t *out);
/**
 * @brief Deletes a tenant and its prefixes, and the bindings
 *        weir_tenant_grants() gave it; audited "tenant.delete".
 */
int weir_govstore_tenant_delete(weir_govstore_t *gs, const char *name, const char *actor);

/** A principal's own byte rates (-1: none, the tenant's apply). */
typedef struct weir_quota_override_s {
    const char *principal; /* "User:alice" */
    int64_t produce_byte_rate;
    int64_t fetch_byte_rate;
} weir_quota_override_t;

int weir_govstore_quota_overrides_load(weir_govstore_t *gs,
                                       void (*cb)(void *arg, const weir_quota_override_t *o),
                                       void *arg);
/** Sets (creates or replaces) an override; audited "quota.put". */
int weir_govstore_quota_override_put(weir_govstore_t *gs, const weir_quota_override_t *o,
                                     const char *actor);
/** Removes an override; -ENOENT if none; audited "quota.delete". */
int weir_govstore_quota_override_delete(weir_govstore_t *gs, const char *principal,
                                        const char *actor);

/* ------------------------------------------------------------------ */
/* Requests and decisions                                             */

/** What a request asks for. */
typedef enum weir_gov_request_kind_e {
    WEIR_GOV_REQUEST_TOPIC = 0,  /* a new topic */
    WEIR_GOV_REQUEST_ACCESS,     /* an ACL on another tenant's resource */
    WEIR_GOV_REQUEST_SCHEMA,     /* a schema change needing approval */
} weir_gov_request_kind_t;

/** Where a request is. */
typedef enum weir_gov_request_state_e {
    WEIR_GOV_REQUEST_PENDING = 0,
    WEIR_GOV_REQUEST_APPROVED,
    WEIR_GOV_REQUEST_REJECTED,
    WEIR_GOV_REQUEST_CANCELLED,
} weir_gov_request_state_t;

/** "topic", "access", "schema"; "pending", "approved", ... */
const char *weir_gov_request_kind_name(int kind);
const char *weir_gov_request_state_name(int state);

/** A request as stored (owned strings). */
typedef struct weir_gov_request_s {
    int64_t id;
    int kind;            /* weir_gov_request_kind_t */
    int state;           /* weir_gov_request_state_t */
    char *tenant;        /* the tenant it is for ("" if none) */
    char *requester;     /* principal */
    char *target;        /* topic name, ACL binding, subject ... */
    char *detail;        /* what exactly (e.g. partitions and configs as JSON) */
    char *reason;        /* the requester's justification */
    int64_t created_ms;
    int64_t updated_ms;
} weir_gov_request_t;

void weir_gov_request_clear(weir_gov_request_t *r);

/** A decision on a request. */
typedef struct weir_gov_decision_s {
    int64_t id;
    int64_t request_id;
    const char *decider;
    int state;           /* APPROVED, REJECTED or CANCELLED */
    const char *reason;
    int64_t decided_ms;
} weir_gov_decision_t;

/**
 * @brief Records a new pending request (audited "request.create" by the
 *        requester).
 * @returns its id (> 0) or a negative error.
 */
int64_t weir_govstore_request_create(weir_govstore_t *gs, int kind, const char *tenant,
                                     const char *requester, const char *target,
                                     const char *detail, const char *reason);
/** Reads one request; -ENOENT if none. */
int weir_govstore_request_get(weir_govstore_t *gs, int64_t id, weir_gov_request_t *out);
/** Calls cb for every request in the state (-1: all), in id order. */
int weir_govstore_requests_list(weir_govstore_t *gs, int state,
                                void (*cb)(void *arg, const weir_gov_request_t *r), void *arg);
/**
 * @brief Decides a pending request: state APPROVED, REJECTED or CANCELLED,
 *        by decider with a reason; a decision row and an audit row
 *        ("request.approved", ...) are written with the new state.
 * @returns 0, -ENOENT (no such request), -EALREADY (not pending) or
 *          -EINVAL (bad state).
 */
int weir_govstore_request_decide(weir_govstore_t *gs, int64_t id, int state,
                                 const char *decider, const char *reason);
/**
 * @brief The reason the last approval of request id failed, as audited by
 *        the admin API (action "request.approve", outcome "failed", target
 *        "request:ID"): *error is malloc'ed, or NULL when none failed;
 *        *ts_ms (may be NULL) is when.
 * @returns 0 or WEIR_ERR.
 */
int weir_govstore_request_last_error(weir_govstore_t *gs, int64_t id, char **error,
                                     int64_t *ts_ms);
/** Calls cb for every decision on a request, in order. */
int weir_govstore_decisions_list(weir_govstore_t *gs, int64_t request_id,
                                 void (*cb)(void *arg, const weir_gov_decision_t *d), void *arg);

/* ------------------------------------------------------------------ */
/* Audit log                                                          */

/**
 * @brief Appends row (id and hashes assigned here: row->id is set) after
 *        the chain head, and moves the head.
 */
int weir_govstore_audit_append(weir_govstore_t *gs, weir_audit_row_t *row);
/** Walks the whole log and the head (weir_audit.h); 0 with *out filled. */
int weir_govstore_audit_verify(weir_govstore_t *gs, weir_audit_verify_t *out);
/** Calls cb for up to limit rows with id > after_id, in id order. */
int weir_govstore_audit_list(weir_govstore_t *gs, int64_t after_id, int64_t limit,
                             void (*cb)(void *arg, const weir_audit_row_t *row), void *arg);

#endif
