/*
 * test_authz.c: unit tests of the governance runtime (governance/
 * weir_authz.c) on a real libuv loop and a real weir.db: the default rule
 * (allow.everyone.if.no.acl.found), super users and the admin group,
 * CreateAcls/DeleteAcls through the governance worker taking effect for an
 * existing session at once (decision cache invalidated by the generation),
 * DENY for a user beating its group's ALLOW, decisions served from memory
 * until a reload (no SQL on the hot path), a principal changing on a
 * connection, rate-limited denial records reaching the hash-chained audit
 * log, tenant policy for topic creation (direct-creation switch, limits,
 * retention clamp, administrators exempt), tenant produce quotas shared by
 * a team and not by its neighbours, and hostile strings through every path.
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

#include <uv.h>

#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_store_governance.h"

static char tmpdir[64];
static int db_seq;
static uv_loop_t loop;

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/weir-test-authz-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return uv_loop_init(&loop);
}

static int
teardown(void **state)
{
    char cmd[128];

    (void)state;
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
new_db(char *path, size_t size)
{
    snprintf(path, size, "%s/weir-%d.db", tmpdir, ++db_seq);
}

static weir_principal_ref_t supers[] = {{false, "weiradmin"}, {true, "root-group"}};

static weir_authz_t *
open_authz(const char *path, bool allow_everyone)
{
    weir_authz_conf_t c = {
        .loop = &loop,
        .db_path = path,
        .super_users = supers,
        .nsuper_users = 2,
        .admin_group = "weir-admins",
        .allow_everyone = allow_everyone,
        .quota_samples = 11,
        .quota_window_ms = 1000,
        .audit_deny_interval_ms = 60000,
        .audit_deny_burst = 100,
    };
    weir_authz_t *az = NULL;
    char err[256];

    if (weir_authz_open(&c, &az, err, sizeof(err)) != 0)
        fail_msg("weir_authz_open: %s", err);
    return az;
}

static void
close_authz(weir_authz_t *az)
{
    weir_authz_stop(az);
    uv_run(&loop, UV_RUN_DEFAULT); /* the worker's last job, the timer's close */
}

/* A connection as the authorizer sees it. */
static weir_conn_t *
conn_new(const char *user, const char *group, const char *peer)
{
    weir_conn_t *c = weir_calloc(1, sizeof(*c));
    char *groups[1] = {(char *)group};

    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    weir_principal_set(&c->principal, WEIR_AUTH_SASL_PLAIN, user, groups, group ? 1 : 0);
    return c;
}

static void
conn_free(weir_conn_t *c)
{
    weir_authz_session_free(c->authz);
    weir_principal_clear(&c->principal);
    free(c);
}

static bool
can(weir_authz_t *az, weir_conn_t *c, int type, const char *name, int op)
{
    return weir_authz_allowed(az, c, "Test", type, name, strlen(name), op, false);
}

/* ------------------------------------------------------------------ */
/* Waiting for the worker                                             */

typedef struct waiter_s {
    bool done;
    int results[16];
    size_t n;
    int status;
    size_t ndeleted[4];
    char deleted_name[4][64];
} waiter_t;

static void
on_created(void *arg, const int *results, size_t n)
{
    waiter_t *w = arg;

    for (size_t i = 0; i < n && i < 16; i++)
        w->results[i] = results[i];
    w->n = n;
    w->done = true;
}

static void
on_deleted(void *arg, int status, const weir_authz_deleted_t *d, size_t nfilters)
{
    waiter_t *w = arg;

    w->status = status;
    for (size_t i = 0; d && i < nfilters && i < 4; i++) {
        w->ndeleted[i] = d[i].n;
        if (d[i].n > 0)
            snprintf(w->deleted_name[i], sizeof(w->deleted_name[i]), "%s", d[i].v[0].name);
    }
    w->n = nfilters;
    w->done = true;
}

static void
run_until(waiter_t *w)
{
    for (int i = 0; i < 100000 && !w->done; i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_true(w->done);
}

static weir_acl_binding_t
B(int type, int pat, const char *name, const char *principal, int op, int perm)
{
    weir_acl_binding_t b = {0, (int8_t)type, (int8_t)pat, (char *)name, (char *)principal,
                            (char *)"*", (int8_t)op, (int8_t)perm};
    return b;
}

static void
create(weir_authz_t *az, const weir_acl_binding_t *b, size_t n)
{
    waiter_t w = {0};

    weir_authz_acls_create(az, b, n, "User:weiradmin", on_created, &w);
    assert_false(w.done); /* answered by the worker, not at once */
    run_until(&w);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(w.results[i], 0);
}

/* ------------------------------------------------------------------ */

static void
test_default_rule(void **state)
{
    char path[128];
    weir_authz_t *az;
    weir_conn_t *anon = conn_new("ANONYMOUS", NULL, "10.0.0.1:5000");
    weir_conn_t *root = conn_new("weiradmin", NULL, "10.0.0.2:5000");
    weir_conn_t *grp = conn_new("someone", "root-group", "10.0.0.3:5000");
    weir_conn_t *adm = conn_new("ops", "weir-admins", "10.0.0.4:5000");
    const int T = WEIR_ACL_RES_TOPIC;

    (void)state;
    new_db(path, sizeof(path));
    /* Nobody authenticates: everyone may do anything while no ACL exists. */
    az = open_authz(path, true);
    assert_true(can(az, anon, T, "orders", WEIR_ACL_OP_WRITE));
    assert_true(can(az, anon, WEIR_ACL_RES_CLUSTER, "kafka-cluster", WEIR_ACL_OP_ALTER));
    assert_int_equal(weir_authz_acl_count(az), 0);
    close_authz(az);
    conn_free(anon);
    anon = conn_new("ANONYMOUS", NULL, "10.0.0.1:5000");

    /* Listeners authenticate: closed unless granted. */
    az = open_authz(path, false);
    assert_false(can(az, anon, T, "orders", WEIR_ACL_OP_WRITE));
    assert_false(can(az, anon, T, "orders", WEIR_ACL_OP_DESCRIBE));
    assert_false(weir_authz_is_admin(az, anon));
    /* super.users (user and group) and the admin group bypass. */
    assert_true(can(az, root, T, "orders", WEIR_ACL_OP_WRITE));
    assert_true(can(az, grp, WEIR_ACL_RES_CLUSTER, "kafka-cluster", WEIR_ACL_OP_ALTER));
    assert_true(can(az, adm, WEIR_ACL_RES_GROUP, "g", WEIR_ACL_OP_DELETE));
    assert_true(weir_authz_is_admin(az, adm));
    /* Without a broker the helpers allow everything (tools, tests). */
    assert_true(weir_authz_allowed(NULL, anon, "x", T, "t", 1, WEIR_ACL_OP_READ, false));
    close_authz(az);
    conn_free(anon);
    conn_free(root);
    conn_free(grp);
    conn_free(adm);
}

static void
test_acl_changes(void **state)
{
    char path[128];
    weir_authz_t *az;
    weir_conn_t *alice = conn_new("alice", "stream-team", "127.0.0.1:40000");
    weir_conn_t *carol = conn_new("carol", "stream-team", "127.0.0.1:40001");
    weir_conn_t *bob = conn_new("bob", "data-team", "127.0.0.1:40002");
    const int T = WEIR_ACL_RES_TOPIC;
    weir_acl_binding_t team = B(T, WEIR_ACL_PAT_PREFIXED, "teamA.", "Group:stream-team",
                                WEIR_ACL_OP_ALL, WEIR_ACL_PERM_ALLOW);
    weir_acl_binding_t bob_read = B(T, WEIR_ACL_PAT_LITERAL, "teamA.orders", "User:bob",
                                    WEIR_ACL_OP_READ, WEIR_ACL_PERM_ALLOW);
    weir_acl_binding_t deny_carol = B(T, WEIR_ACL_PAT_LITERAL, "teamA.orders", "User:carol",
                                      WEIR_ACL_OP_WRITE, WEIR_ACL_PERM_DENY);
    uint64_t gen;

    (void)state;
    new_db(path, sizeof(path));
    az = open_authz(path, false);
    gen = weir_authz_generation(az);
    assert_false(can(az, alice, T, "teamA.orders", WEIR_ACL_OP_WRITE)); /* cached: denied */

    create(az, &team, 1);
    assert_true(weir_authz_generation(az) > gen);
    /* The same session sees the grant at once. */
    assert_true(can(az, alice, T, "teamA.orders", WEIR_ACL_OP_WRITE));
    assert_true(can(az, carol, T, "teamA.orders", WEIR_ACL_OP_WRITE));
    assert_false(can(az, bob, T, "teamA.orders", WEIR_ACL_OP_READ));
    assert_false(can(az, alice, T, "teamB.orders", WEIR_ACL_OP_WRITE));

    /* bob gets READ; carol a DENY WRITE that beats her group's ALLOW. */
    {
        weir_acl_binding_t two[2] = {bob_read, deny_carol};
        create(az, two, 2);
    }
    assert_true(can(az, bob, T, "teamA.orders", WEIR_ACL_OP_READ));
    assert_true(can(az, bob, T, "teamA.orders", WEIR_ACL_OP_DESCRIBE)); /* implied */
    assert_false(can(az, bob, T, "teamA.orders", WEIR_ACL_OP_WRITE));
    assert_false(can(az, carol, T, "teamA.orders", WEIR_ACL_OP_WRITE));
    assert_true(can(az, carol, T, "teamA.orders", WEIR_ACL_OP_READ));
    assert_true(can(az, alice, T, "teamA.orders", WEIR_ACL_OP_WRITE));
    assert_int_equal(weir_authz_acl_count(az), 3);

    /* Creating an existing binding succeeds and adds nothing. */
    create(az, &team, 1);
    assert_int_equal(weir_authz_acl_count(az), 3);

    /* Deleting bob's grant revokes it at once. */
    {
        weir_acl_filter_t f[2] = {
            {T, WEIR_ACL_PAT_ANY, "teamA.orders", "User:bob", NULL, WEIR_ACL_OP_ANY,
             WEIR_ACL_PERM_ANY},
            {WEIR_ACL_RES_GROUP, WEIR_ACL_PAT_ANY, NULL, NULL, NULL, WEIR_ACL_OP_ANY,
             WEIR_ACL_PERM_ANY},
        };
        waiter_t w = {0};
        weir_authz_acls_delete(az, f, 2, "User:weiradmin", on_deleted, &w);
        run_until(&w);
        assert_int_equal(w.status, 0);
        assert_int_equal(w.n, 2);
        assert_int_equal(w.ndeleted[0], 1);
        assert_string_equal(w.deleted_name[0], "teamA.orders");
        assert_int_equal(w.ndeleted[1], 0);
    }
    assert_false(can(az, bob, T, "teamA.orders", WEIR_ACL_OP_READ));
    assert_int_equal(weir_authz_acl_count(az), 2);

    /* A create and a delete queued together run in order. */
    {
        weir_acl_filter_t f = {T, WEIR_ACL_PAT_LITERAL, "queued", NULL, NULL, WEIR_ACL_OP_ANY,
                               WEIR_ACL_PERM_ANY};
        weir_acl_binding_t q = B(T, WEIR_ACL_PAT_LITERAL, "queued", "User:bob", WEIR_ACL_OP_READ,
                                 WEIR_ACL_PERM_ALLOW);
        waiter_t w1 = {0}, w2 = {0};
        weir_authz_acls_create(az, &q, 1, "User:weiradmin", on_created, &w1);
        weir_authz_acls_delete(az, &f, 1, "User:weiradmin", on_deleted, &w2);
        run_until(&w2);
        assert_true(w1.done);
        assert_int_equal(w2.ndeleted[0], 1);
        assert_false(can(az, bob, T, "queued", WEIR_ACL_OP_READ));
    }

    /* The snapshot survives a restart. */
    close_authz(az);
    az = open_authz(path, false);
    assert_int_equal(weir_authz_acl_count(az), 2);
    assert_true(can(az, alice, T, "teamA.orders", WEIR_ACL_OP_WRITE));
    assert_false(can(az, carol, T, "teamA.orders", WEIR_ACL_OP_WRITE));
    close_authz(az);
    conn_free(alice);
    conn_free(carol);
    conn_free(bob);
}

static void
test_memory_and_reload(void **state)
{
    char path[128], err[256];
    weir_authz_t *az;
    weir_govstore_t *gs;
    weir_conn_t *c = conn_new("dave", NULL, "192.168.1.9:1234");
    weir_acl_binding_t b = B(WEIR_ACL_RES_TOPIC, WEIR_ACL_PAT_LITERAL, "t", "User:dave",
                             WEIR_ACL_OP_READ, WEIR_ACL_PERM_ALLOW);
    bool existed;

    (void)state;
    new_db(path, sizeof(path));
    az = open_authz(path, false);
    assert_false(can(az, c, WEIR_ACL_RES_TOPIC, "t", WEIR_ACL_OP_READ));
    /* A tool writes a binding straight into the database ... */
    assert_int_equal(weir_govstore_open(path, false, &gs, err, sizeof(err)), 0);
    assert_int_equal(weir_govstore_acl_create(gs, &b, "User:tool", &existed), 0);
    weir_govstore_close(gs);
    /* ... decisions come from memory: unchanged until a reload. */
    assert_false(can(az, c, WEIR_ACL_RES_TOPIC, "t", WEIR_ACL_OP_READ));
    {
        uint64_t gen = weir_authz_generation(az);
        weir_authz_reload(az);
        for (int i = 0; i < 100000 && weir_authz_generation(az) == gen; i++)
            uv_run(&loop, UV_RUN_ONCE);
    }
    assert_true(can(az, c, WEIR_ACL_RES_TOPIC, "t", WEIR_ACL_OP_READ));

    /* The host of the connection counts. */
    {
        weir_acl_binding_t h = B(WEIR_ACL_RES_TOPIC, WEIR_ACL_PAT_LITERAL, "hosted", "User:dave",
                                 WEIR_ACL_OP_READ, WEIR_ACL_PERM_ALLOW);
        weir_conn_t *other = conn_new("dave", NULL, "192.168.1.10:1234");
        h.host = "192.168.1.9";
        create(az, &h, 1);
        assert_true(can(az, c, WEIR_ACL_RES_TOPIC, "hosted", WEIR_ACL_OP_READ));
        assert_false(can(az, other, WEIR_ACL_RES_TOPIC, "hosted", WEIR_ACL_OP_READ));
        conn_free(other);
    }

    /* The principal changes on the connection (SASL re-authentication). */
    weir_principal_set(&c->principal, WEIR_AUTH_SASL_PLAIN, "erin", NULL, 0);
    assert_false(can(az, c, WEIR_ACL_RES_TOPIC, "t", WEIR_ACL_OP_READ));
    weir_principal_set(&c->principal, WEIR_AUTH_SASL_PLAIN, "weiradmin", NULL, 0);
    assert_true(can(az, c, WEIR_ACL_RES_TOPIC, "anything", WEIR_ACL_OP_DELETE));
    close_authz(az);
    conn_free(c);
}

typedef struct audit_seen_s {
    int deny_rows;
    int acl_rows;
    char last_target[256];
    char last_principal[256];
} audit_seen_t;

static void
collect_audit(void *arg, const weir_audit_row_t *row)
{
    audit_seen_t *a = arg;

    if (strcmp(row->outcome, "denied") == 0) {
        a->deny_rows++;
        snprintf(a->last_target, sizeof(a->last_target), "%s", row->target);
        snprintf(a->last_principal, sizeof(a->last_principal), "%s", row->principal);
    }
    if (strncmp(row->action, "acl.", 4) == 0)
        a->acl_rows++;
}

static void
test_denial_audit(void **state)
{
    char path[128], err[256];
    weir_authz_t *az;
    weir_govstore_t *gs;
    weir_conn_t *c = conn_new("mallory", NULL, "10.6.6.6:666");
    weir_audit_verify_t v;
    audit_seen_t a = {0};

    (void)state;
    new_db(path, sizeof(path));
    az = open_authz(path, false);
    /* 10,000 denials of one request: one record (rate-limited). */
    for (int i = 0; i < 10000; i++)
        assert_false(can(az, c, WEIR_ACL_RES_TOPIC, "secret", WEIR_ACL_OP_READ));
    /* Another resource and a hostile name: records of their own. */
    assert_false(can(az, c, WEIR_ACL_RES_TOPIC, "other", WEIR_ACL_OP_READ));
    assert_false(weir_authz_allowed(az, c, "Test", WEIR_ACL_RES_TOPIC, "x\"y\n'z", 6,
                                    WEIR_ACL_OP_WRITE, false));
    /* Filtering a listing is not a denial worth recording. */
    assert_false(weir_authz_allowed(az, c, "Test", WEIR_ACL_RES_TOPIC, "quiet", 5,
                                    WEIR_ACL_OP_DESCRIBE, true));
    /* Written by the worker (flushed at stop at the latest). */
    close_authz(az);
    assert_int_equal(weir_govstore_open(path, false, &gs, err, sizeof(err)), 0);
    assert_int_equal(weir_govstore_audit_list(gs, 0, 1000, collect_audit, &a), 0);
    assert_int_equal(a.deny_rows, 3);
    assert_string_equal(a.last_target, "TOPIC:x?y?'z"); /* made log-safe */
    assert_string_equal(a.last_principal, "User:mallory");
    assert_int_equal(weir_govstore_audit_verify(gs, &v), 0);
    assert_true(v.ok);
    weir_govstore_close(gs);
    conn_free(c);
}

/* ------------------------------------------------------------------ */
/* Tenants: policy and quotas, through the request helpers            */

typedef struct fake_s {
    weir_broker_t brk;
    weir_conf_t conf;
    weir_req_t req;
} fake_t;

static void
fake_init(fake_t *f, weir_authz_t *az, weir_conn_t *conn)
{
    memset(f, 0, sizeof(*f));
    weir_conf_defaults(&f->conf);
    f->brk.conf = &f->conf;
    f->brk.authz = az;
    f->brk.loop = &loop;
    f->req.brk = &f->brk;
    f->req.conn = conn;
    f->req.ApiKey = WEIR_API_CreateTopics;
    conn->brk = &f->brk;
}

static void
fake_free(fake_t *f)
{
    for (size_t i = 0; i < f->brk.ntopics; i++) {
        free(f->brk.topics[i]->name);
        free(f->brk.topics[i]);
    }
    free(f->brk.topics);
    weir_conf_free(&f->conf);
}

static void
fake_topic(fake_t *f, const char *name, int32_t partitions)
{
    weir_topic_t *t = weir_calloc(1, sizeof(*t));

    t->name = weir_strdup(name);
    t->npartitions = partitions;
    f->brk.topics = weir_realloc(f->brk.topics, (f->brk.ntopics + 1) * sizeof(*f->brk.topics));
    f->brk.topics[f->brk.ntopics++] = t;
}

static void
put_tenants(const char *path)
{
    weir_govstore_t *gs;
    weir_tenant_t a, b;
    char err[256];

    assert_int_equal(weir_govstore_open(path, false, &gs, err, sizeof(err)), 0);
    weir_tenant_init(&a, "teamA", "stream-team");
    weir_tenant_add_prefix(&a, "teamA.");
    a.max_partitions_per_topic = 4;
    a.max_total_partitions = 10;
    a.max_retention_ms = 86400000;
    a.produce_byte_rate = 100000;
    weir_tenant_init(&b, "teamB", "data-team");
    weir_tenant_add_prefix(&b, "teamB.");
    b.direct_create = false;
    b.produce_byte_rate = 100000;
    assert_int_equal(weir_govstore_tenant_put(gs, &a, true, "User:admin", err, sizeof(err)), 0);
    assert_int_equal(weir_govstore_tenant_put(gs, &b, true, "User:admin", err, sizeof(err)), 0);
    weir_tenant_clear(&a);
    weir_tenant_clear(&b);
    weir_govstore_close(gs);
}

static void
test_tenant_policy(void **state)
{
    char path[128], err[512];
    weir_authz_t *az;
    weir_conn_t *alice = conn_new("alice", "stream-team", "127.0.0.1:1");
    weir_conn_t *bob = conn_new("bob", "data-team", "127.0.0.1:2");
    weir_conn_t *ops = conn_new("ops", "weir-admins", "127.0.0.1:3");
    weir_kvlist_t kv = {NULL, 0};
    fake_t f;

    (void)state;
    new_db(path, sizeof(path));
    put_tenants(path);
    az = open_authz(path, false);
    fake_init(&f, az, alice);
    f.conf.log_retention_ms = 7 * 86400000LL; /* the broker keeps a week */
    fake_topic(&f, "teamA.one", 4);
    fake_topic(&f, "teamA.two", 4);
    fake_topic(&f, "teamB.x", 50); /* another tenant's: not counted for teamA */
    fake_topic(&f, "other", 7);

    /* The tenant's group got its prefixes. */
    assert_true(weir_req_allowed(&f.req, WEIR_ACL_RES_TOPIC, (weir_str_t){9, "teamA.new"},
                                 WEIR_ACL_OP_CREATE));
    assert_false(weir_req_allowed(&f.req, WEIR_ACL_RES_TOPIC, (weir_str_t){9, "teamB.new"},
                                  WEIR_ACL_OP_CREATE));
    /* Outside its prefixes: POLICY_VIOLATION naming them. */
    assert_int_equal(weir_req_topic_create_denied(&f.req, "teamB.new", err, sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION);
    assert_non_null(strstr(err, "teamA."));
    /* Within limits; the retention gets clamped to the tenant's maximum. */
    assert_int_equal(weir_req_topic_create_policy(&f.req, "teamA.new", 2, &kv, err, sizeof(err)),
                     WEIR_KERR_NONE);
    assert_string_equal(weir_kvlist_get(&kv, "retention.ms"), "86400000");
    weir_kvlist_free(&kv);
    /* Per topic, in all, retention asked for. */
    assert_int_equal(weir_req_topic_create_policy(&f.req, "teamA.new", 5, &kv, err, sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION);
    assert_non_null(strstr(err, "per topic"));
    weir_kvlist_free(&kv);
    assert_int_equal(weir_req_topic_create_policy(&f.req, "teamA.new", 3, &kv, err, sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION);
    assert_non_null(strstr(err, "in all"));
    weir_kvlist_free(&kv);
    weir_kvlist_set(&kv, "retention.ms", "-1");
    assert_int_equal(weir_req_topic_create_policy(&f.req, "teamA.new", 1, &kv, err, sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION);
    assert_non_null(strstr(err, "max retention"));
    weir_kvlist_free(&kv);
    /* Growing and reconfiguring existing topics. */
    assert_int_equal(weir_req_topic_partitions_policy(&f.req, f.brk.topics[0], 5, err,
                                                      sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION);
    weir_kvlist_set(&kv, "retention.ms", "3600000");
    assert_int_equal(weir_req_topic_configs_policy(&f.req, f.brk.topics[0], &kv, err,
                                                   sizeof(err)),
                     WEIR_KERR_NONE);
    weir_kvlist_free(&kv);
    assert_int_equal(weir_req_topic_configs_policy(&f.req, f.brk.topics[0], &kv, err,
                                                   sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION); /* back to the broker's week */
    /* Topics outside every tenant: no policy. */
    assert_int_equal(weir_req_topic_create_policy(&f.req, "free.x", 1000, &kv, err, sizeof(err)),
                     WEIR_KERR_NONE);

    /* teamB creates only through requests. */
    f.req.conn = bob;
    assert_int_equal(weir_req_topic_create_policy(&f.req, "teamB.y", 1, &kv, err, sizeof(err)),
                     WEIR_KERR_POLICY_VIOLATION);
    assert_non_null(strstr(err, "requests"));
    /* Administrators are exempt. */
    f.req.conn = ops;
    assert_int_equal(weir_req_topic_create_policy(&f.req, "teamB.y", 100, &kv, err, sizeof(err)),
                     WEIR_KERR_NONE);
    assert_int_equal(weir_req_topic_create_policy(&f.req, "teamA.big", 100, &kv, err,
                                                  sizeof(err)),
                     WEIR_KERR_NONE);
    assert_null(weir_kvlist_get(&kv, "retention.ms"));
    /* A non-member gets TOPIC_AUTHORIZATION_FAILED, not a tenant's message. */
    {
        weir_conn_t *eve = conn_new("eve", NULL, "127.0.0.1:4");
        f.req.conn = eve;
        assert_int_equal(weir_req_topic_create_denied(&f.req, "teamA.x", err, sizeof(err)),
                         WEIR_KERR_TOPIC_AUTHORIZATION_FAILED);
        conn_free(eve);
    }
    close_authz(az);
    fake_free(&f);
    conn_free(alice);
    conn_free(bob);
    conn_free(ops);
}

static void
test_tenant_quota(void **state)
{
    char path[128];
    weir_authz_t *az;
    weir_conn_t *alice = conn_new("alice", "stream-team", "127.0.0.1:1");
    weir_conn_t *carol = conn_new("carol", "stream-team", "127.0.0.1:2");
    weir_conn_t *bob = conn_new("bob", "data-team", "127.0.0.1:3");
    weir_conn_t *eve = conn_new("eve", NULL, "127.0.0.1:4");
    fake_t f;
    int32_t ms = 0;

    (void)state;
    new_db(path, sizeof(path));
    put_tenants(path);
    az = open_authz(path, false);
    fake_init(&f, az, alice);
    /* alice floods: 100 KB/s over a 10 s span is 1 MB; 2 MB gets throttled. */
    for (int i = 0; i < 20 && ms == 0; i++)
        ms = weir_req_quota_produce(&f.req, 100000);
    assert_true(ms > 0);
    /* carol shares teamA's quota: throttled too. */
    f.req.conn = carol;
    assert_true(weir_req_quota_produce(&f.req, 1000) > 0);
    /* bob (teamB) and eve (no tenant) are not. */
    f.req.conn = bob;
    assert_int_equal(weir_req_quota_produce(&f.req, 100000), 0);
    f.req.conn = eve;
    assert_int_equal(weir_req_quota_produce(&f.req, 100000000), 0);
    /* No fetch quota for teamA. */
    f.req.conn = alice;
    assert_int_equal(weir_req_quota_fetch(&f.req, 100000000), 0);
    close_authz(az);
    fake_free(&f);
    conn_free(alice);
    conn_free(carol);
    conn_free(bob);
    conn_free(eve);
}

typedef struct names_s {
    char *v[16];
    int n;
} names_t;

static void
collect_name(void *arg, const weir_acl_binding_t *b)
{
    names_t *x = arg;
    x->v[x->n++] = weir_strdup(b->name);
}

static void
test_hostile_bindings(void **state)
{
    char path[128], binary[255], *longname;
    const char *values[4];
    weir_acl_binding_t b[4];
    weir_authz_t *az;
    names_t got = {0};
    weir_conn_t *c = conn_new("u'; DROP TABLE acl_bindings;--", NULL, "::1:9");

    (void)state;
    for (int i = 0; i < 254; i++)
        binary[i] = (char)(i + 1);
    binary[254] = '\0';
    longname = weir_malloc(WEIR_ACL_MAX_FIELD + 1);
    memset(longname, 'L', WEIR_ACL_MAX_FIELD);
    longname[WEIR_ACL_MAX_FIELD] = '\0';
    values[0] = "t'); DELETE FROM acl_bindings; --";
    values[1] = binary;
    values[2] = longname;
    values[3] = "\xe3\x83\x88\xe3\x83\x94\xe3\x83\x83\xe3\x82\xaf \"q\"";
    for (int i = 0; i < 4; i++)
        b[i] = B(WEIR_ACL_RES_TOPIC, WEIR_ACL_PAT_LITERAL, values[i],
                 "User:u'; DROP TABLE acl_bindings;--", WEIR_ACL_OP_READ, WEIR_ACL_PERM_ALLOW);
    new_db(path, sizeof(path));
    az = open_authz(path, false);
    create(az, b, 4);
    close_authz(az);
    az = open_authz(path, false);
    assert_int_equal(weir_authz_acl_count(az), 4);
    weir_authz_acls_describe(az, NULL, collect_name, &got);
    assert_int_equal(got.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(got.v[i], values[i]);
        assert_true(can(az, c, WEIR_ACL_RES_TOPIC, values[i], WEIR_ACL_OP_READ));
        free(got.v[i]);
    }
    assert_false(can(az, c, WEIR_ACL_RES_TOPIC, "t", WEIR_ACL_OP_READ));
    close_authz(az);
    free(longname);
    conn_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_rule),
        cmocka_unit_test(test_acl_changes),
        cmocka_unit_test(test_memory_and_reload),
        cmocka_unit_test(test_denial_audit),
        cmocka_unit_test(test_tenant_policy),
        cmocka_unit_test(test_tenant_quota),
        cmocka_unit_test(test_hostile_bindings),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
