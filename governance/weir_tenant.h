/*
 * weir_tenant.h: tenants (campus teams) and their policy.
 *
 * A tenant has a name, the LDAP group of its members, the topic prefixes
 * it owns and limits: partitions per topic, partitions over all its topics,
 * retention, and produce/fetch byte rates (quotas, weir_quota.h).  A topic
 * belongs to the tenant owning the longest prefix that starts its name.
 * direct_create says whether the tenant's members may create topics with
 * the Kafka API directly, or only through a request an administrator
 * approves (the admin API).
 *
 * The registry is an in-memory snapshot owned by the loop thread (loaded
 * from the store, weir_store_governance.h); the policy checks are pure
 * functions of a tenant and the numbers the caller gives.
 */
#ifndef WEIR_TENANT_H
#define WEIR_TENANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_acl.h"
#include "weir_auth.h"
#include "weir_kerr.h"

/** Unlimited, for every limit below. */
#define WEIR_TENANT_UNLIMITED (-1)

/** A tenant. */
typedef struct weir_tenant_s {
    char *name;
    char *ldap_group;              /* members: principals with Group:<ldap_group> */
    char **prefixes;               /* owned topic (and consumer group) name prefixes */
    size_t nprefixes;
    int32_t max_partitions_per_topic;
    int32_t max_total_partitions;  /* over every topic the tenant owns */
    int64_t max_retention_ms;      /* retention.ms of its topics, at most */
    int64_t produce_byte_rate;     /* bytes/s over all members' connections */
    int64_t fetch_byte_rate;
    bool direct_create;            /* CreateTopics allowed directly (else via requests) */
} weir_tenant_t;

/** A tenant with no prefixes, every limit unlimited, direct creation on. */
void weir_tenant_init(weir_tenant_t *t, const char *name, const char *ldap_group);
/** Adds an owned prefix (copied). */
void weir_tenant_add_prefix(weir_tenant_t *t, const char *prefix);
void weir_tenant_copy(weir_tenant_t *dst, const weir_tenant_t *src);
/** Frees what t holds (t itself is not freed). */
void weir_tenant_clear(weir_tenant_t *t);

/**
 * @brief Whether s is a name of 1 to max characters of [a-zA-Z0-9._-] (the
 *        characters of Kafka topic names); false for NULL.
 */
bool weir_kafka_name_ok(const char *s, size_t max);

/**
 * @brief Checks a tenant definition: a name of 1-249 characters
 *        [a-zA-Z0-9._-], a non-empty group without NUL, prefixes that are
 *        valid starts of topic names (1-249 characters of [a-zA-Z0-9._-]),
 *        each limit -1 or positive.
 * @returns 0, or -1 with the reason in err.
 */
int weir_tenant_validate(const weir_tenant_t *t, char *err, size_t errsz);

/**
 * @brief The bindings a tenant's group gets on its prefixes: ALLOW ALL on
 *        TOPIC PREFIXED <prefix> and on GROUP PREFIXED <prefix>, for
 *        Group:<ldap_group> from any host.  Returned in *out (the caller
 *        frees each with weir_acl_binding_clear, then the array).
 */
void weir_tenant_grants(const weir_tenant_t *t, weir_acl_binding_t **out, size_t *n);

/* ------------------------------------------------------------------ */
/* Registry                                                           */

typedef struct weir_tenants_s weir_tenants_t;

weir_tenants_t *weir_tenants_new(void);
void weir_tenants_free(weir_tenants_t *r);
/** Adds or replaces (by name) a copy of t. */
void weir_tenants_put(weir_tenants_t *r, const weir_tenant_t *t);
/** Removes a tenant; false if there is none by that name. */
bool weir_tenants_remove(weir_tenants_t *r, const char *name);
size_t weir_tenants_count(const weir_tenants_t *r);
/** The i-th tenant by name order, or NULL past the end. */
const weir_tenant_t *weir_tenants_at(const weir_tenants_t *r, size_t i);
const weir_tenant_t *weir_tenants_find(const weir_tenants_t *r, const char *name);
/** The tenant owning the longest prefix of name[0..len), or NULL. */
const weir_tenant_t *weir_tenants_owner(const weir_tenants_t *r, const char *name, size_t len);
/** The first tenant (by name) whose group p is in, or NULL. */
const weir_tenant_t *weir_tenants_of(const weir_tenants_t *r, const weir_principal_t *p);

/* ------------------------------------------------------------------ */
/* Policy                                                             */

/** Whether name[0..len) starts with one of t's prefixes. */
bool weir_tenant_owns(const weir_tenant_t *t, const char *name, size_t len);

/**
 * @brief A topic of tenant t is being created with partitions partitions
 *        while the tenant's topics have total_partitions already;
 *        retention_ms is the topic's effective retention.ms (-1: forever).
 * @returns WEIR_KERR_NONE, or POLICY_VIOLATION with a message naming the
 *          tenant and the limit.
 */
weir_kerr_t weir_tenant_check_create(const weir_tenant_t *t, const char *topic,
                                     int32_t partitions, int64_t total_partitions,
                                     int64_t retention_ms, char *err, size_t errsz);
/** Growing a topic of t from old_count to new_count partitions. */
weir_kerr_t weir_tenant_check_partitions(const weir_tenant_t *t, const char *topic,
                                         int32_t old_count, int32_t new_count,
                                         int64_t total_partitions, char *err, size_t errsz);
/** A topic of t getting the effective retention.ms retention_ms. */
weir_kerr_t weir_tenant_check_retention(const weir_tenant_t *t, const char *topic,
                                        int64_t retention_ms, char *err, size_t errsz);

#endif
