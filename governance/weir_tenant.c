/*
 * weir_tenant.c: tenant definitions, the in-memory registry (sorted by
 * name, linear owner lookup over the prefixes: tenants are few) and the
 * policy checks for topic creation, partitions and retention.
 */
#include "weir_tenant.h"

#include <stdio.h>

#include "weir_common.h"

void
weir_tenant_init(weir_tenant_t *t, const char *name, const char *ldap_group)
{
    memset(t, 0, sizeof(*t));
    t->name = weir_strdup(name);
    t->ldap_group = weir_strdup(ldap_group);
    t->max_partitions_per_topic = WEIR_TENANT_UNLIMITED;
    t->max_total_partitions = WEIR_TENANT_UNLIMITED;
    t->max_retention_ms = WEIR_TENANT_UNLIMITED;
    t->produce_byte_rate = WEIR_TENANT_UNLIMITED;
    t->fetch_byte_rate = WEIR_TENANT_UNLIMITED;
    t->direct_create = true;
}

void
weir_tenant_add_prefix(weir_tenant_t *t, const char *prefix)
{
    t->prefixes = weir_realloc(t->prefixes, (t->nprefixes + 1) * sizeof(*t->prefixes));
    t->prefixes[t->nprefixes++] = weir_strdup(prefix);
}

void
weir_tenant_copy(weir_tenant_t *dst, const weir_tenant_t *src)
{
    *dst = *src;
    dst->name = weir_strdup(src->name ? src->name : "");
    dst->ldap_group = weir_strdup(src->ldap_group ? src->ldap_group : "");
    dst->prefixes = NULL;
    dst->nprefixes = 0;
    for (size_t i = 0; i < src->nprefixes; i++)
        weir_tenant_add_prefix(dst, src->prefixes[i]);
}

void
weir_tenant_clear(weir_tenant_t *t)
{
    for (size_t i = 0; i < t->nprefixes; i++)
        free(t->prefixes[i]);
    free(t->prefixes);
    free(t->name);
    free(t->ldap_group);
    memset(t, 0, sizeof(*t));
}

bool
weir_kafka_name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int
weir_tenant_validate(const weir_tenant_t *t, char *err, size_t errsz)
{
    if (!weir_kafka_name_ok(t->name, 249)) {
        snprintf(err, errsz, "tenant name must be 1 to 249 characters of ASCII alphanumerics, "
                 "'.', '_' and '-'");
        return -1;
    }
    /* The group becomes the principal Group:<name> of the tenant's grants. */
    if (!t->ldap_group || !t->ldap_group[0] || strlen(t->ldap_group) > WEIR_ACL_MAX_FIELD - 6) {
        snprintf(err, errsz, "tenant %s: the LDAP group must be 1 to %d bytes", t->name,
                 WEIR_ACL_MAX_FIELD - 6);
        return -1;
    }
    for (size_t i = 0; i < t->nprefixes; i++) {
        if (!weir_kafka_name_ok(t->prefixes[i], 249)) {
            snprintf(err, errsz, "tenant %s: prefix must be 1 to 249 characters of ASCII "
                     "alphanumerics, '.', '_' and '-'", t->name);
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(t->prefixes[i], t->prefixes[j]) == 0) {
                snprintf(err, errsz, "tenant %s: prefix %s given twice", t->name,
                         t->prefixes[i]);
                return -1;
            }
        }
    }
    if ((t->max_partitions_per_topic < 1 && t->max_partitions_per_topic != -1) ||
        (t->max_total_partitions < 1 && t->max_total_partitions != -1) ||
        (t->max_retention_ms < 1 && t->max_retention_ms != -1) ||
        (t->produce_byte_rate < 1 && t->produce_byte_rate != -1) ||
        (t->fetch_byte_rate < 1 && t->fetch_byte_rate != -1)) {
        snprintf(err, errsz, "tenant %s: every limit must be -1 (unlimited) or positive",
                 t->name);
        return -1;
    }
    return 0;
}

void
weir_tenant_grants(const weir_tenant_t *t, weir_acl_binding_t **out, size_t *n)
{
    static const int8_t types[] = {WEIR_ACL_RES_TOPIC, WEIR_ACL_RES_GROUP};
    size_t len = strlen(t->ldap_group) + 7;
    char *principal = weir_malloc(len);
    weir_acl_binding_t *v = NULL;
    size_t k = 0;

    snprintf(principal, len, "Group:%s", t->ldap_group);
    if (t->nprefixes > 0)
        v = weir_calloc(t->nprefixes * WEIR_ARRAY_SIZE(types), sizeof(*v));
    for (size_t i = 0; i < t->nprefixes; i++) {
        for (size_t j = 0; j < WEIR_ARRAY_SIZE(types); j++, k++) {
            v[k].res_type = types[j];
            v[k].pattern = WEIR_ACL_PAT_PREFIXED;
            v[k].name = weir_strdup(t->prefixes[i]);
            v[k].principal = weir_strdup(principal);
            v[k].host = weir_strdup("*");
            v[k].op = WEIR_ACL_OP_ALL;
            v[k].perm = WEIR_ACL_PERM_ALLOW;
        }
    }
    free(principal);
    *out = v;
    *n = k;
}

/* ------------------------------------------------------------------ */
/* Registry                                                           */

struct weir_tenants_s {
    weir_tenant_t *v; /* sorted by name */
    size_t n, cap;
};

weir_tenants_t *
weir_tenants_new(void)
{
    return weir_calloc(1, sizeof(weir_tenants_t));
}

void
weir_tenants_free(weir_tenants_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        weir_tenant_clear(&r->v[i]);
    free(r->v);
    free(r);
}

static size_t
weir_tenants_pos(const weir_tenants_t *r, const char *name, bool *found)
{
    size_t lo = 0, hi = r->n;

    *found = false;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, r->v[mid].name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void
weir_tenants_put(weir_tenants_t *r, const weir_tenant_t *t)
{
    bool found;
    size_t i = weir_tenants_pos(r, t->name, &found);

    if (found) {
        weir_tenant_clear(&r->v[i]);
        weir_tenant_copy(&r->v[i], t);
        return;
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->v = weir_realloc(r->v, r->cap * sizeof(*r->v));
    }
    memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof(*r->v));
    weir_tenant_copy(&r->v[i], t);
    r->n++;
}

bool
weir_tenants_remove(weir_tenants_t *r, const char *name)
{
    bool found;
    size_t i = weir_tenants_pos(r, name, &found);

    if (!found)
        return false;
    weir_tenant_clear(&r->v[i]);
    memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof(*r->v));
    r->n--;
    return true;
}

size_t
weir_tenants_count(const weir_tenants_t *r)
{
    return r ? r->n : 0;
}

const weir_tenant_t *
weir_tenants_at(const weir_tenants_t *r, size_t i)
{
    return r && i < r->n ? &r->v[i] : NULL;
}

const weir_tenant_t *
weir_tenants_find(const weir_tenants_t *r, const char *name)
{
    bool found;
    size_t i;

    if (!r)
        return NULL;
    i = weir_tenants_pos(r, name, &found);
    return found ? &r->v[i] : NULL;
}

const weir_tenant_t *
weir_tenants_owner(const weir_tenants_t *r, const char *name, size_t len)
{
    const weir_tenant_t *best = NULL;
    size_t best_len = 0;

    for (size_t i = 0; r && i < r->n; i++) {
        for (size_t j = 0; j < r->v[i].nprefixes; j++) {
            const char *p = r->v[i].prefixes[j];
            size_t pl = strlen(p);
            if (pl <= len && pl > best_len && memcmp(name, p, pl) == 0) {
                best = &r->v[i];
                best_len = pl;
            }
        }
    }
    return best;
}

const weir_tenant_t *
weir_tenants_of(const weir_tenants_t *r, const weir_principal_t *p)
{
    for (size_t i = 0; r && i < r->n; i++)
        if (weir_principal_in_group(p, r->v[i].ldap_group))
            return &r->v[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Policy                                                             */

bool
weir_tenant_owns(const weir_tenant_t *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->nprefixes; i++) {
        size_t pl = strlen(t->prefixes[i]);
        if (pl <= len && memcmp(name, t->prefixes[i], pl) == 0)
            return true;
    }
    return false;
}

weir_kerr_t
weir_tenant_check_create(const weir_tenant_t *t, const char *topic, int32_t partitions,
                         int64_t total_partitions, int64_t retention_ms, char *err, size_t errsz)
{
    weir_kerr_t e;

    if (t->max_partitions_per_topic != WEIR_TENANT_UNLIMITED &&
        partitions > t->max_partitions_per_topic) {
        snprintf(err, errsz, "tenant %s: %d partitions exceed the limit of %d partitions per "
                 "topic (max partitions per topic)", t->name, partitions,
                 t->max_partitions_per_topic);
        return WEIR_KERR_POLICY_VIOLATION;
    }
    if (t->max_total_partitions != WEIR_TENANT_UNLIMITED &&
        total_partitions + partitions > t->max_total_partitions) {
        snprintf(err, errsz, "tenant %s: %lld partitions in use plus %d would exceed the limit "
                 "of %d partitions in all (max total partitions)", t->name,
                 (long long)total_partitions, partitions, t->max_total_partitions);
        return WEIR_KERR_POLICY_VIOLATION;
    }
    e = weir_tenant_check_retention(t, topic, retention_ms, err, errsz);
    return e;
}

weir_kerr_t
weir_tenant_check_partitions(const weir_tenant_t *t, const char *topic, int32_t old_count,
                             int32_t new_count, int64_t total_partitions, char *err,
                             size_t errsz)
{
    if (t->max_partitions_per_topic != WEIR_TENANT_UNLIMITED &&
        new_count > t->max_partitions_per_topic) {
        snprintf(err, errsz, "tenant %s: topic %s with %d partitions would exceed the limit of "
                 "%d partitions per topic (max partitions per topic)", t->name, topic,
                 new_count, t->max_partitions_per_topic);
        return WEIR_KERR_POLICY_VIOLATION;
    }
    if (t->max_total_partitions != WEIR_TENANT_UNLIMITED && new_count > old_count &&
        total_partitions + (new_count - old_count) > t->max_total_partitions) {
        snprintf(err, errsz, "tenant %s: %lld partitions in use plus %d would exceed the limit "
                 "of %d partitions in all (max total partitions)", t->name,
                 (long long)total_partitions, new_count - old_count, t->max_total_partitions);
        return WEIR_KERR_POLICY_VIOLATION;
    }
    return WEIR_KERR_NONE;
}

weir_kerr_t
weir_tenant_check_retention(const weir_tenant_t *t, const char *topic, int64_t retention_ms,
                            char *err, size_t errsz)
{
    if (t->max_retention_ms == WEIR_TENANT_UNLIMITED)
        return WEIR_KERR_NONE;
    if (retention_ms < 0 || retention_ms > t->max_retention_ms) {
        if (retention_ms < 0)
            snprintf(err, errsz, "tenant %s: topic %s: retention.ms=-1 (forever) exceeds the "
                     "limit of %lld ms (max retention)", t->name, topic,
                     (long long)t->max_retention_ms);
        else
            snprintf(err, errsz, "tenant %s: topic %s: retention.ms=%lld exceeds the limit of "
                     "%lld ms (max retention)", t->name, topic, (long long)retention_ms,
                     (long long)t->max_retention_ms);
        return WEIR_KERR_POLICY_VIOLATION;
    }
    return WEIR_KERR_NONE;
}
