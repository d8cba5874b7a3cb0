/*
 * test_tenant.c: unit tests of tenants (governance/weir_tenant.c) and of
 * their storage (governance/weir_store_governance.c): validation, the
 * registry (replace, remove, longest-prefix owner, membership), the policy
 * checks with their POLICY_VIOLATION messages, the grants a tenant's group
 * gets, quota overrides, and the stored tenant, override and request
 * tables round-tripping hostile strings (quotes, SQL, NUL-free binary,
 * very long, unicode) byte for byte, each change with its audit row.
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

#include "weir_common.h"
#include "weir_store_governance.h"
#include "weir_tenant.h"

static char tmpdir[64];
static int db_seq;

static void
db_path(char *out, size_t size)
{
    snprintf(out, size, "%s/gov-%d.db", tmpdir, ++db_seq);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/weir-test-tenant-XXXXXX");
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

/* Hostile strings every SQL input path must store byte for byte. */
static char *hostile[8];
static size_t nhostile;

static void
make_hostile(void)
{
    static char binary[255];
    char *longs;

    if (nhostile)
        return;
    hostile[nhostile++] = weir_strdup("Robert'); DROP TABLE tenants;--");
    hostile[nhostile++] = weir_strdup("\"double\" 'single' `back` \\ %s %n ?1 :x @y $z");
    for (int i = 0; i < 254; i++)
        binary[i] = (char)(i + 1); /* every byte but NUL */
    binary[254] = '\0';
    hostile[nhostile++] = weir_strdup(binary);
    longs = weir_malloc(100001);
    for (int i = 0; i < 100000; i++)
        longs[i] = (char)('a' + i % 26);
    longs[100000] = '\0';
    hostile[nhostile++] = longs;
    hostile[nhostile++] =
        weir_strdup("\xc3\xa9quipe-donn\xc3\xa9" "es \xe6\x95\xb0\xe6\x8d\xae "
                    "\xF0\x9F\x9A\x80 \xE2\x80\xAE");
    hostile[nhostile++] = weir_strdup("\xff\xfe invalid utf-8 \xc3\x28");
}

static void
test_validate(void **state)
{
    weir_tenant_t t;
    char err[256];

    (void)state;
    weir_tenant_init(&t, "teamA", "stream-team");
    weir_tenant_add_prefix(&t, "teamA.");
    assert_int_equal(weir_tenant_validate(&t, err, sizeof(err)), 0);
    assert_int_equal(t.max_partitions_per_topic, -1);
    assert_true(t.direct_create);

    free(t.name);
    t.name = weir_strdup("team A");
    assert_int_equal(weir_tenant_validate(&t, err, sizeof(err)), -1);
    free(t.name);
    t.name = weir_strdup("");
    assert_int_equal(weir_tenant_validate(&t, err, sizeof(err)), -1);
    free(t.name);
    t.name = weir_strdup("teamA");
    free(t.ldap_group);
    t.ldap_group = weir_strdup("");
    assert_int_equal(weir_tenant_validate(&t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "LDAP group"));
    free(t.ldap_group);
    t.ldap_group = weir_strdup("cn=x,ou='y'");
    assert_int_equal(weir_tenant_validate(&t, err, sizeof(err)), 0);
    weir_tenant_add_prefix(&t, "bad prefix");
    assert_int_equal(weir_tenant_validate(&t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "prefix"));
    free(t.prefixes[1]);
    t.prefixes[1] = weir_strdup("teamA.");
    assert_int_equal(weir_tenant_validate(&t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "twice"));
    free(t.prefixes[1]);
    t.prefixes[1] = weir_strdup("a-b_c.D9");
    assert_int_equal(weir_tenant_validate(&t, err, sizeof(err)), 0);
    t.max_total_partitions = 0;
    assert_int_equal(weir_tenant_validate(&t, err, sizeof(err)), -1);
    t.max_total_partitions = -2;
    assert_int_equal(weir_tenant_validate(&t, err, sizeof(err)), -1);
    t.max_total_partitions = 10;
    t.fetch_byte_rate = 0;
    assert_int_equal(weir_tenant_validate(&t, err, sizeof(err)), -1);
    t.fetch_byte_rate = 1;
    assert_int_equal(weir_tenant_validate(&t, err, sizeof(err)), 0);
    weir_tenant_clear(&t);
}

static void
test_registry(void **state)
{
    weir_tenants_t *r = weir_tenants_new();
    weir_tenant_t a, b, c;
    weir_principal_t p = {0};
    char *groups[2] = {"zeta-team", "data-team"};

    (void)state;
    weir_tenant_init(&a, "teamA", "stream-team");
    weir_tenant_add_prefix(&a, "teamA.");
    weir_tenant_add_prefix(&a, "shared.a");
    weir_tenant_init(&b, "teamB", "data-team");
    weir_tenant_add_prefix(&b, "teamB.");
    weir_tenant_add_prefix(&b, "shared.");
    weir_tenant_init(&c, "teamC", "zeta-team");
    weir_tenants_put(r, &b);
    weir_tenants_put(r, &a);
    weir_tenants_put(r, &c);
    assert_int_equal(weir_tenants_count(r), 3);
    assert_string_equal(weir_tenants_at(r, 0)->name, "teamA"); /* by name */
    assert_null(weir_tenants_at(r, 3));
    assert_string_equal(weir_tenants_find(r, "teamB")->ldap_group, "data-team");
    assert_null(weir_tenants_find(r, "teamD"));

    /* Longest prefix wins. */
    assert_string_equal(weir_tenants_owner(r, "shared.abc", 10)->name, "teamA");
    assert_string_equal(weir_tenants_owner(r, "shared.xyz", 10)->name, "teamB");
    assert_string_equal(weir_tenants_owner(r, "teamA.orders", 12)->name, "teamA");
    assert_null(weir_tenants_owner(r, "teamA", 5));
    assert_null(weir_tenants_owner(r, "other", 5));
    /* The length is respected (names need not be NUL-terminated). */
    assert_null(weir_tenants_owner(r, "teamA.orders", 5));
    assert_true(weir_tenant_owns(&a, "teamA.x", 7));
    assert_false(weir_tenant_owns(&a, "teamB.x", 7));

    /* Membership: the first tenant by name among the principal's groups. */
    weir_principal_set(&p, WEIR_AUTH_SASL_PLAIN, "bob", groups, 2);
    assert_string_equal(weir_tenants_of(r, &p)->name, "teamB");
    weir_principal_set(&p, WEIR_AUTH_SASL_PLAIN, "eve", NULL, 0);
    assert_null(weir_tenants_of(r, &p));

    /* Replace by name, remove. */
    a.max_partitions_per_topic = 4;
    weir_tenants_put(r, &a);
    assert_int_equal(weir_tenants_count(r), 3);
    assert_int_equal(weir_tenants_find(r, "teamA")->max_partitions_per_topic, 4);
    assert_true(weir_tenants_remove(r, "teamB"));
    assert_false(weir_tenants_remove(r, "teamB"));
    assert_null(weir_tenants_owner(r, "shared.xyz", 10));
    weir_principal_set(&p, WEIR_AUTH_SASL_PLAIN, "bob", groups, 2);
    assert_string_equal(weir_tenants_of(r, &p)->name, "teamC");

    weir_principal_clear(&p);
    weir_tenant_clear(&a);
    weir_tenant_clear(&b);
    weir_tenant_clear(&c);
    weir_tenants_free(r);
}

static void
test_policy(void **state)
{
    weir_tenant_t t;
    char err[256];

    (void)state;
    weir_tenant_init(&t, "teamA", "stream-team");
    /* Unlimited: anything goes. */
    assert_int_equal(weir_tenant_check_create(&t, "teamA.x", 1000, 100000, -1, err, sizeof(err)),
                     WEIR_KERR_NONE);
    t.max_partitions_per_topic = 6;
    t.max_total_partitions = 10;
    t.max_retention_ms = 86400000;
    assert_int_equal(weir_tenant_check_create(&t, "teamA.x", 6, 4, 3600000, err, sizeof(err)),
                     WEIR_KERR_NONE);
    assert_int_equal(weir_tenant_check_create(&t, "teamA.x", 7, 0, 3600000, err, sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION);
    assert_non_null(strstr(err, "max partitions per topic"));
    assert_non_null(strstr(err, "teamA"));
    assert_int_equal(weir_tenant_check_create(&t, "teamA.x", 6, 5, 3600000, err, sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION);
    assert_non_null(strstr(err, "max total partitions"));
    assert_int_equal(weir_tenant_check_create(&t, "teamA.x", 1, 0, 86400001, err, sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION);
    assert_non_null(strstr(err, "max retention"));
    assert_int_equal(weir_tenant_check_create(&t, "teamA.x", 1, 0, -1, err, sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION);
    assert_non_null(strstr(err, "forever"));
    assert_int_equal(weir_tenant_check_retention(&t, "teamA.x", 86400000, err, sizeof(err)),
                     WEIR_KERR_NONE);
    /* Growing a topic. */
    assert_int_equal(weir_tenant_check_partitions(&t, "teamA.x", 2, 6, 4, err, sizeof(err)),
                     WEIR_KERR_NONE);
    assert_int_equal(weir_tenant_check_partitions(&t, "teamA.x", 2, 7, 2, err, sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION);
    assert_non_null(strstr(err, "per topic"));
    assert_int_equal(weir_tenant_check_partitions(&t, "teamA.x", 2, 5, 8, err, sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION);
    assert_non_null(strstr(err, "in all"));
    weir_tenant_clear(&t);
}

static void
test_grants(void **state)
{
    weir_tenant_t t;
    weir_acl_binding_t *g;
    size_t n;
    char err[256];

    (void)state;
    weir_tenant_init(&t, "teamA", "stream-team");
    weir_tenant_add_prefix(&t, "teamA.");
    weir_tenant_add_prefix(&t, "a2.");
    weir_tenant_grants(&t, &g, &n);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(weir_acl_binding_validate(&g[i], err, sizeof(err)), 0);
        assert_string_equal(g[i].principal, "Group:stream-team");
        assert_int_equal(g[i].pattern, WEIR_ACL_PAT_PREFIXED);
        assert_int_equal(g[i].perm, WEIR_ACL_PERM_ALLOW);
        assert_int_equal(g[i].op, WEIR_ACL_OP_ALL);
        assert_string_equal(g[i].host, "*");
        weir_acl_binding_clear(&g[i]);
    }
    assert_int_equal(g[0].res_type, WEIR_ACL_RES_TOPIC);
    assert_int_equal(g[1].res_type, WEIR_ACL_RES_GROUP);
    free(g);
    weir_tenant_clear(&t);
}

/* ------------------------------------------------------------------ */
/* Storage                                                            */

typedef struct seen_s {
    weir_tenant_t v[16];
    size_t n;
} seen_t;

static void
collect_tenant(void *arg, const weir_tenant_t *t)
{
    seen_t *s = arg;
    weir_tenant_copy(&s->v[s->n++], t);
}

static void
seen_clear(seen_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        weir_tenant_clear(&s->v[i]);
    s->n = 0;
}

static void
count_acl(void *arg, const weir_acl_binding_t *b)
{
    (void)b;
    (*(int *)arg)++;
}

typedef struct arows_s {
    char action[16][32];
    char target[16][300];
    char principal[16][300];
    int n;
} arows_t;

static void
collect_audit(void *arg, const weir_audit_row_t *row)
{
    arows_t *a = arg;

    if (a->n < 16) {
        snprintf(a->action[a->n], sizeof(a->action[0]), "%s", row->action);
        snprintf(a->target[a->n], sizeof(a->target[0]), "%s", row->target);
        snprintf(a->principal[a->n], sizeof(a->principal[0]), "%s", row->principal);
    }
    a->n++;
}

static void
test_store_tenants(void **state)
{
    char path[128], err[256];
    weir_govstore_t *gs;
    weir_tenant_t t, u, got;
    seen_t s = {0};
    int nacl = 0;
    arows_t a = {0};
    weir_audit_verify_t vr;

    (void)state;
    make_hostile();
    db_path(path, sizeof(path));
    assert_int_equal(weir_govstore_open(path, false, &gs, err, sizeof(err)), 0);

    /* A group longer than a principal may be is refused ... */
    weir_tenant_init(&t, "tlong", hostile[3]);
    assert_int_equal(weir_govstore_tenant_put(gs, &t, true, "User:a", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "LDAP group"));
    weir_tenant_clear(&t);
    /* ... so the long one is the longest allowed.  Every hostile string as
     * a group name (the only free-form tenant field), one tenant each. */
    hostile[3][WEIR_ACL_MAX_FIELD - 6] = '\0';
    for (size_t i = 0; i < nhostile; i++) {
        char name[32], prefix[32];
        snprintf(name, sizeof(name), "t%zu", i);
        snprintf(prefix, sizeof(prefix), "t%zu.", i);
        weir_tenant_init(&t, name, hostile[i]);
        weir_tenant_add_prefix(&t, prefix);
        t.max_partitions_per_topic = (int32_t)i + 1;
        t.max_retention_ms = INT64_MAX;
        t.produce_byte_rate = 1000 * ((int64_t)i + 1);
        t.direct_create = i % 2;
        assert_int_equal(weir_govstore_tenant_put(gs, &t, true, hostile[i], err, sizeof(err)),
                         0);
        weir_tenant_clear(&t);
    }
    assert_int_equal(weir_govstore_tenants_load(gs, collect_tenant, &s), 0);
    assert_int_equal(s.n, nhostile);
    for (size_t i = 0; i < nhostile; i++) {
        char name[32];
        snprintf(name, sizeof(name), "t%zu", i);
        assert_string_equal(s.v[i].name, name);
        assert_string_equal(s.v[i].ldap_group, hostile[i]);
        assert_int_equal(s.v[i].nprefixes, 1);
        assert_int_equal(s.v[i].max_partitions_per_topic, (int32_t)i + 1);
        assert_true(s.v[i].max_retention_ms == INT64_MAX);
        assert_int_equal(s.v[i].produce_byte_rate, 1000 * ((int64_t)i + 1));
        assert_int_equal(s.v[i].fetch_byte_rate, -1);
        assert_int_equal(s.v[i].direct_create, (bool)(i % 2));
    }
    seen_clear(&s);
    /* Grants: two bindings per tenant. */
    assert_int_equal(weir_govstore_acls_load(gs, count_acl, &nacl), 0);
    assert_int_equal(nacl, 2 * (int)nhostile);

    /* Replace: prefixes replaced, grants for the new prefix added. */
    weir_tenant_init(&t, "t0", "stream-team");
    weir_tenant_add_prefix(&t, "teamA.");
    weir_tenant_add_prefix(&t, "teamA2.");
    t.max_total_partitions = 12;
    assert_int_equal(weir_govstore_tenant_put(gs, &t, true, "User:admin", err, sizeof(err)), 0);
    assert_int_equal(weir_govstore_tenant_get(gs, "t0", &got), 0);
    assert_string_equal(got.ldap_group, "stream-team");
    assert_int_equal(got.nprefixes, 2);
    assert_string_equal(got.prefixes[0], "teamA.");
    assert_string_equal(got.prefixes[1], "teamA2.");
    assert_int_equal(got.max_total_partitions, 12);
    weir_tenant_clear(&got);
    assert_int_equal(weir_govstore_tenant_get(gs, "nope", &got), -ENOENT);

    /* A prefix owned by another tenant is refused (nothing changes). */
    weir_tenant_init(&u, "t1", "x");
    weir_tenant_add_prefix(&u, "teamA.");
    assert_int_equal(weir_govstore_tenant_put(gs, &u, false, "User:admin", err, sizeof(err)),
                     -EEXIST);
    assert_non_null(strstr(err, "t0"));
    assert_int_equal(weir_govstore_tenant_get(gs, "t1", &got), 0);
    assert_string_equal(got.ldap_group, hostile[1]);
    weir_tenant_clear(&got);
    /* An invalid one too. */
    free(u.prefixes[0]);
    u.prefixes[0] = weir_strdup("bad'prefix");
    assert_int_equal(weir_govstore_tenant_put(gs, &u, false, "User:admin", err, sizeof(err)),
                     -EINVAL);
    weir_tenant_clear(&u);

    /* Delete: tenant, prefixes and its grants go. */
    nacl = 0;
    assert_int_equal(weir_govstore_acls_load(gs, count_acl, &nacl), 0);
    assert_int_equal(weir_govstore_tenant_delete(gs, "t0", "User:admin"), 0);
    assert_int_equal(weir_govstore_tenant_get(gs, "t0", &got), -ENOENT);
    {
        int after = 0;
        assert_int_equal(weir_govstore_acls_load(gs, count_acl, &after), 0);
        /* The grants of its two current prefixes; those of the prefix it
         * had before stay (replacing a tenant never revokes). */
        assert_int_equal(after, nacl - 4);
    }
    weir_tenant_clear(&t);

    /* Every change was audited, by its actor, and the chain holds. */
    assert_int_equal(weir_govstore_audit_list(gs, 0, 1000, collect_audit, &a), 0);
    assert_true(a.n > (int)nhostile);
    assert_string_equal(a.action[0], "acl.create");
    assert_string_equal(a.action[2], "tenant.put");
    assert_string_equal(a.target[2], "tenant:t0");
    assert_string_equal(a.principal[2], hostile[0]);
    assert_int_equal(weir_govstore_audit_verify(gs, &vr), 0);
    assert_true(vr.ok);
    assert_int_equal(vr.rows, a.n);
    weir_govstore_close(gs);
    hostile[3][WEIR_ACL_MAX_FIELD - 6] = 'a' + (WEIR_ACL_MAX_FIELD - 6) % 26;
}

static void
collect_override(void *arg, const weir_quota_override_t *o)
{
    seen_t *s = arg;
    weir_tenant_t *t = &s->v[s->n++];

    /* Reuse the tenant struct: name = principal, rates in the limits. */
    weir_tenant_init(t, o->principal, "x");
    t->produce_byte_rate = o->produce_byte_rate;
    t->fetch_byte_rate = o->fetch_byte_rate;
}

static void
collect_request(void *arg, const weir_gov_request_t *r)
{
    int64_t *ids = arg;
    ids[++ids[0]] = r->id;
}

typedef struct decs_s {
    int n;
    int state;
    char decider[128];
} decs_t;

static void
collect_decision(void *arg, const weir_gov_decision_t *d)
{
    decs_t *x = arg;

    x->n++;
    x->state = d->state;
    snprintf(x->decider, sizeof(x->decider), "%s", d->decider);
}

static void
test_store_overrides_requests(void **state)
{
    char path[128], err[256];
    weir_govstore_t *gs;
    seen_t s = {0};
    weir_gov_request_t r;
    int64_t ids[32] = {0}, id;
    decs_t d = {0};

    (void)state;
    make_hostile();
    db_path(path, sizeof(path));
    assert_int_equal(weir_govstore_open(path, true, &gs, err, sizeof(err)), 0);

    /* Quota overrides keyed by hostile principals. */
    for (size_t i = 0; i < nhostile; i++) {
        weir_quota_override_t o = {hostile[i], 100 + (int64_t)i, -1};
        assert_int_equal(weir_govstore_quota_override_put(gs, &o, "User:admin"), 0);
    }
    {
        weir_quota_override_t o = {hostile[0], 5, 6};
        assert_int_equal(weir_govstore_quota_override_put(gs, &o, "User:admin"), 0);
        o.produce_byte_rate = 0;
        assert_int_equal(weir_govstore_quota_override_put(gs, &o, "User:admin"), -EINVAL);
    }
    assert_int_equal(weir_govstore_quota_overrides_load(gs, collect_override, &s), 0);
    assert_int_equal(s.n, nhostile);
    for (size_t i = 0; i < s.n; i++) {
        size_t k;
        for (k = 0; k < nhostile; k++)
            if (strcmp(s.v[i].name, hostile[k]) == 0)
                break;
        assert_true(k < nhostile);
        assert_int_equal(s.v[i].produce_byte_rate, k == 0 ? 5 : 100 + (int64_t)k);
        assert_int_equal(s.v[i].fetch_byte_rate, k == 0 ? 6 : -1);
    }
    seen_clear(&s);
    assert_int_equal(weir_govstore_quota_override_delete(gs, hostile[2], "User:admin"), 0);
    assert_int_equal(weir_govstore_quota_override_delete(gs, hostile[2], "User:admin"), -ENOENT);

    /* Requests: every text field hostile. */
    for (size_t i = 0; i < nhostile; i++) {
        id = weir_govstore_request_create(gs, (int)(i % 3), hostile[i], hostile[i], hostile[i],
                                          hostile[i], hostile[i]);
        assert_true(id > 0);
        assert_int_equal(weir_govstore_request_get(gs, id, &r), 0);
        assert_int_equal(r.kind, (int)(i % 3));
        assert_int_equal(r.state, WEIR_GOV_REQUEST_PENDING);
        assert_string_equal(r.tenant, hostile[i]);
        assert_string_equal(r.requester, hostile[i]);
        assert_string_equal(r.target, hostile[i]);
        assert_string_equal(r.detail, hostile[i]);
        assert_string_equal(r.reason, hostile[i]);
        assert_true(r.created_ms > 0 && r.updated_ms == r.created_ms);
        weir_gov_request_clear(&r);
    }
    assert_int_equal(weir_govstore_request_create(gs, 7, "", "User:a", "t", "", ""), -EINVAL);
    assert_int_equal(weir_govstore_request_create(gs, 0, "", "", "t", "", ""), -EINVAL);
    assert_int_equal(weir_govstore_request_get(gs, 9999, &r), -ENOENT);

    /* Decide: approve one, reject another; a decided request stays decided. */
    assert_int_equal(weir_govstore_request_decide(gs, 1, WEIR_GOV_REQUEST_APPROVED, hostile[4],
                                                  hostile[3]),
                     0);
    assert_int_equal(weir_govstore_request_decide(gs, 1, WEIR_GOV_REQUEST_REJECTED, "User:x",
                                                  "late"),
                     -EALREADY);
    assert_int_equal(weir_govstore_request_decide(gs, 2, WEIR_GOV_REQUEST_REJECTED, "User:x",
                                                  "no"),
                     0);
    assert_int_equal(weir_govstore_request_decide(gs, 3, WEIR_GOV_REQUEST_PENDING, "User:x", ""),
                     -EINVAL);
    assert_int_equal(weir_govstore_request_decide(gs, 999, WEIR_GOV_REQUEST_APPROVED, "User:x",
                                                  ""),
                     -ENOENT);
    assert_int_equal(weir_govstore_request_get(gs, 1, &r), 0);
    assert_int_equal(r.state, WEIR_GOV_REQUEST_APPROVED);
    weir_gov_request_clear(&r);
    assert_int_equal(weir_govstore_decisions_list(gs, 1, collect_decision, &d), 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.state, WEIR_GOV_REQUEST_APPROVED);
    assert_string_equal(d.decider, hostile[4]);
    assert_int_equal(weir_govstore_requests_list(gs, WEIR_GOV_REQUEST_PENDING, collect_request,
                                                 ids),
                     0);
    assert_int_equal(ids[0], (int64_t)nhostile - 2);
    ids[0] = 0;
    assert_int_equal(weir_govstore_requests_list(gs, -1, collect_request, ids), 0);
    assert_int_equal(ids[0], (int64_t)nhostile);
    assert_int_equal(weir_govstore_requests_list(gs, 17, collect_request, ids), -EINVAL);
    assert_string_equal(weir_gov_request_kind_name(WEIR_GOV_REQUEST_SCHEMA), "schema");
    assert_string_equal(weir_gov_request_state_name(WEIR_GOV_REQUEST_CANCELLED), "cancelled");
    assert_null(weir_gov_request_kind_name(3));

    /* Everything survives reopening, and the audit chain holds. */
    weir_govstore_close(gs);
    assert_int_equal(weir_govstore_open(path, false, &gs, err, sizeof(err)), 0);
    assert_int_equal(weir_govstore_request_get(gs, 2, &r), 0);
    assert_int_equal(r.state, WEIR_GOV_REQUEST_REJECTED);
    assert_string_equal(r.reason, hostile[1]);
    weir_gov_request_clear(&r);
    {
        weir_audit_verify_t vr;
        assert_int_equal(weir_govstore_audit_verify(gs, &vr), 0);
        assert_true(vr.ok);
        /* overrides: n + 1 puts + 1 delete; requests: n creates + 2 decisions */
        assert_int_equal(vr.rows, (int64_t)(nhostile + 2 + nhostile + 2));
    }
    weir_govstore_close(gs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_grants),
        cmocka_unit_test(test_store_tenants),
        cmocka_unit_test(test_store_overrides_requests),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);

    for (size_t i = 0; i < nhostile; i++)
        free(hostile[i]);
    return rc;
}
