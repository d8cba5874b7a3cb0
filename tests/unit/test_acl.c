/*
 * test_acl.c: unit tests of the ACL model (governance/weir_acl.c): names,
 * binding and filter validation, Kafka's filter semantics (ANY, MATCH,
 * LITERAL, PREFIXED), evaluation (DENY beats ALLOW, implied DESCRIBE and
 * DESCRIBE_CONFIGS for ALLOW only, ALL, User:*, Group:, hosts, literal "*",
 * prefixes, no-ACL vs no-match), authorizeByResourceType, index add/remove
 * by id, and a randomized cross-check of the indexed evaluation against a
 * brute-force evaluator over 10,000 bindings.
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

#include "weir_acl.h"
#include "weir_common.h"

static weir_acl_binding_t
B(int64_t id, int type, int pat, const char *name, const char *principal, const char *host,
  int op, int perm)
{
    weir_acl_binding_t b = {id, (int8_t)type, (int8_t)pat, (char *)name, (char *)principal,
                            (char *)host, (int8_t)op, (int8_t)perm};
    return b;
}

static void
add(weir_acl_index_t *idx, weir_acl_binding_t b)
{
    assert_int_equal(weir_acl_index_add(idx, &b), 0);
}

static weir_acl_result_t
eval(const weir_acl_index_t *idx, const char *user, const char *group, const char *host, int type,
     const char *name, int op)
{
    char *groups[1] = {(char *)group};
    weir_acl_subject_t s = {user, groups, group ? 1 : 0, host};

    return weir_acl_evaluate(idx, &s, type, name, strlen(name), op);
}

static void
test_names(void **state)
{
    (void)state;
    assert_string_equal(weir_acl_res_name(WEIR_ACL_RES_TOPIC), "TOPIC");
    assert_string_equal(weir_acl_res_name(WEIR_ACL_RES_TRANSACTIONAL_ID), "TRANSACTIONAL_ID");
    assert_string_equal(weir_acl_pat_name(WEIR_ACL_PAT_PREFIXED), "PREFIXED");
    assert_string_equal(weir_acl_op_name(WEIR_ACL_OP_DESCRIBE_CONFIGS), "DESCRIBE_CONFIGS");
    assert_string_equal(weir_acl_op_name(WEIR_ACL_OP_IDEMPOTENT_WRITE), "IDEMPOTENT_WRITE");
    assert_string_equal(weir_acl_perm_name(WEIR_ACL_PERM_DENY), "DENY");
    assert_string_equal(weir_acl_op_name(99), "UNKNOWN");
    assert_string_equal(weir_acl_op_name(-3), "UNKNOWN");
    assert_int_equal(weir_acl_res_parse("group"), WEIR_ACL_RES_GROUP);
    assert_int_equal(weir_acl_pat_parse("Literal"), WEIR_ACL_PAT_LITERAL);
    assert_int_equal(weir_acl_op_parse("alter_configs"), WEIR_ACL_OP_ALTER_CONFIGS);
    assert_int_equal(weir_acl_perm_parse("ALLOW"), WEIR_ACL_PERM_ALLOW);
    assert_int_equal(weir_acl_op_parse("UNKNOWN"), -1); /* never a valid input */
    assert_int_equal(weir_acl_op_parse("READS"), -1);
    assert_int_equal(weir_acl_op_parse(NULL), -1);
}

static void
test_validate(void **state)
{
    char err[256];
    weir_acl_binding_t ok = B(0, WEIR_ACL_RES_TOPIC, WEIR_ACL_PAT_LITERAL, "orders", "User:alice",
                              "*", WEIR_ACL_OP_READ, WEIR_ACL_PERM_ALLOW);
    weir_acl_binding_t b;
    char *longname;

    (void)state;
    assert_int_equal(weir_acl_binding_validate(&ok, err, sizeof(err)), 0);
    b = ok;
    b.principal = "Group:stream-team";
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), 0);
    b.principal = "User:*";
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), 0);

    b = ok;
    b.res_type = WEIR_ACL_RES_ANY;
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    b.res_type = WEIR_ACL_RES_UNKNOWN;
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    b = ok;
    b.pattern = WEIR_ACL_PAT_MATCH;
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "pattern"));
    b.pattern = WEIR_ACL_PAT_ANY;
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    b = ok;
    b.op = WEIR_ACL_OP_ANY;
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    b.op = 15;
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    b = ok;
    b.perm = WEIR_ACL_PERM_ANY;
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    b = ok;
    b.name = "";
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    b = ok;
    b.host = "";
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    b = ok;
    b.principal = "alice";
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "principal"));
    b.principal = "User:";
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    b.principal = "Role:x";
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    b = ok;
    b.res_type = WEIR_ACL_RES_CLUSTER;
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "kafka-cluster"));
    b.name = "kafka-cluster";
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), 0);
    /* Length limit. */
    longname = weir_malloc(WEIR_ACL_MAX_FIELD + 2);
    memset(longname, 'x', WEIR_ACL_MAX_FIELD + 1);
    longname[WEIR_ACL_MAX_FIELD + 1] = '\0';
    b = ok;
    b.name = longname;
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), -1);
    longname[WEIR_ACL_MAX_FIELD] = '\0';
    assert_int_equal(weir_acl_binding_validate(&b, err, sizeof(err)), 0);
    free(longname);

    {
        weir_acl_filter_t f = {WEIR_ACL_RES_ANY, WEIR_ACL_PAT_MATCH, NULL, NULL, NULL,
                               WEIR_ACL_OP_ANY, WEIR_ACL_PERM_ANY};
        assert_int_equal(weir_acl_filter_validate(&f, err, sizeof(err)), 0);
        f.res_type = WEIR_ACL_RES_UNKNOWN;
        assert_int_equal(weir_acl_filter_validate(&f, err, sizeof(err)), -1);
        f.res_type = WEIR_ACL_RES_TOPIC;
        f.op = WEIR_ACL_OP_UNKNOWN;
        assert_int_equal(weir_acl_filter_validate(&f, err, sizeof(err)), -1);
        f.op = WEIR_ACL_OP_READ;
        f.perm = 7;
        assert_int_equal(weir_acl_filter_validate(&f, err, sizeof(err)), -1);
        f.perm = WEIR_ACL_PERM_DENY;
        f.pattern = WEIR_ACL_PAT_UNKNOWN;
        assert_int_equal(weir_acl_filter_validate(&f, err, sizeof(err)), -1);
    }
}

static void
test_filters(void **state)
{
    weir_acl_binding_t lit = B(1, WEIR_ACL_RES_TOPIC, WEIR_ACL_PAT_LITERAL, "orders", "User:alice",
                               "*", WEIR_ACL_OP_READ, WEIR_ACL_PERM_ALLOW);
    weir_acl_binding_t star = B(2, WEIR_ACL_RES_TOPIC, WEIR_ACL_PAT_LITERAL, "*", "User:bob",
                                "10.0.0.1", WEIR_ACL_OP_WRITE, WEIR_ACL_PERM_DENY);
    weir_acl_binding_t pre = B(3, WEIR_ACL_RES_TOPIC, WEIR_ACL_PAT_PREFIXED, "ord", "Group:g", "*",
                               WEIR_ACL_OP_ALL, WEIR_ACL_PERM_ALLOW);
    weir_acl_binding_t grp = B(4, WEIR_ACL_RES_GROUP, WEIR_ACL_PAT_LITERAL, "orders", "User:alice",
                               "*", WEIR_ACL_OP_READ, WEIR_ACL_PERM_ALLOW);
    weir_acl_filter_t f = {WEIR_ACL_RES_ANY, WEIR_ACL_PAT_ANY, NULL, NULL, NULL, WEIR_ACL_OP_ANY,
                           WEIR_ACL_PERM_ANY};

    (void)state;
    /* Match everything. */
    assert_true(weir_acl_filter_matches(&f, &lit));
    assert_true(weir_acl_filter_matches(&f, &star));
    assert_true(weir_acl_filter_matches(&f, &pre));
    assert_true(weir_acl_filter_matches(&f, &grp));
    /* Resource type. */
    f.res_type = WEIR_ACL_RES_GROUP;
    assert_false(weir_acl_filter_matches(&f, &lit));
    assert_true(weir_acl_filter_matches(&f, &grp));
    /* ANY with a name: the exact name, any pattern type. */
    f.res_type = WEIR_ACL_RES_TOPIC;
    f.name = "orders";
    assert_true(weir_acl_filter_matches(&f, &lit));
    assert_false(weir_acl_filter_matches(&f, &star));
    assert_false(weir_acl_filter_matches(&f, &pre));
    f.name = "ord";
    assert_true(weir_acl_filter_matches(&f, &pre));
    assert_false(weir_acl_filter_matches(&f, &lit));
    /* MATCH: what applies to the resource named. */
    f.pattern = WEIR_ACL_PAT_MATCH;
    f.name = "orders";
    assert_true(weir_acl_filter_matches(&f, &lit));
    assert_true(weir_acl_filter_matches(&f, &star));
    assert_true(weir_acl_filter_matches(&f, &pre));
    f.name = "or";
    assert_false(weir_acl_filter_matches(&f, &pre)); /* prefix longer than the name */
    assert_true(weir_acl_filter_matches(&f, &star));
    assert_false(weir_acl_filter_matches(&f, &lit));
    f.name = NULL; /* MATCH without a name: everything */
    assert_true(weir_acl_filter_matches(&f, &lit));
    assert_true(weir_acl_filter_matches(&f, &pre));
    /* LITERAL / PREFIXED: that pattern type only. */
    f.pattern = WEIR_ACL_PAT_LITERAL;
    f.name = "orders";
    assert_true(weir_acl_filter_matches(&f, &lit));
    assert_false(weir_acl_filter_matches(&f, &star));
    assert_false(weir_acl_filter_matches(&f, &pre));
    f.pattern = WEIR_ACL_PAT_PREFIXED;
    f.name = "ord";
    assert_true(weir_acl_filter_matches(&f, &pre));
    f.name = "orders";
    assert_false(weir_acl_filter_matches(&f, &pre));
    /* Entry filter. */
    f.pattern = WEIR_ACL_PAT_ANY;
    f.name = NULL;
    f.principal = "User:alice";
    assert_true(weir_acl_filter_matches(&f, &lit));
    assert_false(weir_acl_filter_matches(&f, &star));
    f.principal = NULL;
    f.host = "10.0.0.1";
    assert_true(weir_acl_filter_matches(&f, &star));
    assert_false(weir_acl_filter_matches(&f, &lit)); /* host "*" is not "10.0.0.1" */
    f.host = NULL;
    f.op = WEIR_ACL_OP_ALL;
    assert_true(weir_acl_filter_matches(&f, &pre));
    assert_false(weir_acl_filter_matches(&f, &lit)); /* filters compare operations exactly */
    f.op = WEIR_ACL_OP_ANY;
    f.perm = WEIR_ACL_PERM_DENY;
    assert_true(weir_acl_filter_matches(&f, &star));
    assert_false(weir_acl_filter_matches(&f, &lit));
}

static void
test_evaluate_rules(void **state)
{
    weir_acl_index_t *idx = weir_acl_index_new();
    const int T = WEIR_ACL_RES_TOPIC;

    (void)state;
    /* No bindings at all: the default rule decides. */
    assert_int_equal(eval(idx, "alice", NULL, "1.2.3.4", T, "orders", WEIR_ACL_OP_READ),
                     WEIR_ACL_NONE);

    /* The group may READ the team's prefix; carol is denied READ. */
    add(idx, B(1, T, WEIR_ACL_PAT_PREFIXED, "teamA.", "Group:stream-team", "*", WEIR_ACL_OP_READ,
               WEIR_ACL_PERM_ALLOW));
    add(idx, B(2, T, WEIR_ACL_PAT_LITERAL, "teamA.orders", "User:carol", "*", WEIR_ACL_OP_READ,
               WEIR_ACL_PERM_DENY));
    assert_int_equal(eval(idx, "alice", "stream-team", "h", T, "teamA.orders", WEIR_ACL_OP_READ),
                     WEIR_ACL_ALLOWED);
    assert_int_equal(eval(idx, "carol", "stream-team", "h", T, "teamA.orders", WEIR_ACL_OP_READ),
                     WEIR_ACL_DENIED);
    /* DENY READ does not deny DESCRIBE; READ implies DESCRIBE. */
    assert_int_equal(eval(idx, "carol", "stream-team", "h", T, "teamA.orders",
                          WEIR_ACL_OP_DESCRIBE),
                     WEIR_ACL_ALLOWED);
    /* READ does not imply WRITE. */
    assert_int_equal(eval(idx, "alice", "stream-team", "h", T, "teamA.orders", WEIR_ACL_OP_WRITE),
                     WEIR_ACL_NO_MATCH);
    /* Another user, no group: bindings exist for the resource, none match. */
    assert_int_equal(eval(idx, "bob", "data-team", "h", T, "teamA.orders", WEIR_ACL_OP_READ),
                     WEIR_ACL_NO_MATCH);
    /* A topic outside every binding: NONE. */
    assert_int_equal(eval(idx, "bob", "data-team", "h", T, "teamB.x", WEIR_ACL_OP_READ),
                     WEIR_ACL_NONE);
    /* Resource types are separate. */
    assert_int_equal(eval(idx, "alice", "stream-team", "h", WEIR_ACL_RES_GROUP, "teamA.orders",
                          WEIR_ACL_OP_READ),
                     WEIR_ACL_NONE);
    /* The prefix is a prefix, not a substring; the name must be at least as long. */
    assert_int_equal(eval(idx, "alice", "stream-team", "h", T, "teamA", WEIR_ACL_OP_READ),
                     WEIR_ACL_NONE);
    assert_int_equal(eval(idx, "alice", "stream-team", "h", T, "xteamA.orders", WEIR_ACL_OP_READ),
                     WEIR_ACL_NONE);

    /* WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies
     * DESCRIBE_CONFIGS; nothing implies the others. */
    {
        static const int implying[] = {WEIR_ACL_OP_READ, WEIR_ACL_OP_WRITE, WEIR_ACL_OP_DELETE,
                                       WEIR_ACL_OP_ALTER};
        for (size_t i = 0; i < WEIR_ARRAY_SIZE(implying); i++) {
            weir_acl_index_t *x = weir_acl_index_new();
            add(x, B(1, T, WEIR_ACL_PAT_LITERAL, "t", "User:u", "*", implying[i],
                     WEIR_ACL_PERM_ALLOW));
            assert_int_equal(eval(x, "u", NULL, "h", T, "t", WEIR_ACL_OP_DESCRIBE),
                             WEIR_ACL_ALLOWED);
            assert_int_equal(eval(x, "u", NULL, "h", T, "t", WEIR_ACL_OP_DESCRIBE_CONFIGS),
                             WEIR_ACL_NO_MATCH);
            weir_acl_index_free(x);
        }
        weir_acl_index_t *x = weir_acl_index_new();
        add(x, B(1, T, WEIR_ACL_PAT_LITERAL, "t", "User:u", "*", WEIR_ACL_OP_ALTER_CONFIGS,
                 WEIR_ACL_PERM_ALLOW));
        assert_int_equal(eval(x, "u", NULL, "h", T, "t", WEIR_ACL_OP_DESCRIBE_CONFIGS),
                         WEIR_ACL_ALLOWED);
        assert_int_equal(eval(x, "u", NULL, "h", T, "t", WEIR_ACL_OP_DESCRIBE), WEIR_ACL_NO_MATCH);
        assert_int_equal(eval(x, "u", NULL, "h", T, "t", WEIR_ACL_OP_ALTER), WEIR_ACL_NO_MATCH);
        /* CREATE does not imply DESCRIBE. */
        add(x, B(2, T, WEIR_ACL_PAT_LITERAL, "c", "User:u", "*", WEIR_ACL_OP_CREATE,
                 WEIR_ACL_PERM_ALLOW));
        assert_int_equal(eval(x, "u", NULL, "h", T, "c", WEIR_ACL_OP_DESCRIBE), WEIR_ACL_NO_MATCH);
        weir_acl_index_free(x);
    }

    /* ALL allows everything; DENY ALL denies everything. */
    add(idx, B(3, T, WEIR_ACL_PAT_LITERAL, "shared", "User:*", "*", WEIR_ACL_OP_ALL,
               WEIR_ACL_PERM_ALLOW));
    assert_int_equal(eval(idx, "anyone", NULL, "h", T, "shared", WEIR_ACL_OP_ALTER_CONFIGS),
                     WEIR_ACL_ALLOWED);
    add(idx, B(4, T, WEIR_ACL_PAT_LITERAL, "shared", "User:mallory", "*", WEIR_ACL_OP_ALL,
               WEIR_ACL_PERM_DENY));
    assert_int_equal(eval(idx, "mallory", NULL, "h", T, "shared", WEIR_ACL_OP_DESCRIBE),
                     WEIR_ACL_DENIED);
    assert_int_equal(eval(idx, "anyone", NULL, "h", T, "shared", WEIR_ACL_OP_DESCRIBE),
                     WEIR_ACL_ALLOWED);

    /* Hosts: exact or "*". */
    add(idx, B(5, T, WEIR_ACL_PAT_LITERAL, "hosted", "User:h", "10.1.1.1", WEIR_ACL_OP_WRITE,
               WEIR_ACL_PERM_ALLOW));
    assert_int_equal(eval(idx, "h", NULL, "10.1.1.1", T, "hosted", WEIR_ACL_OP_WRITE),
                     WEIR_ACL_ALLOWED);
    assert_int_equal(eval(idx, "h", NULL, "10.1.1.2", T, "hosted", WEIR_ACL_OP_WRITE),
                     WEIR_ACL_NO_MATCH);
    /* A DENY from one host only. */
    add(idx, B(6, T, WEIR_ACL_PAT_LITERAL, "shared", "User:*", "10.9.9.9", WEIR_ACL_OP_READ,
               WEIR_ACL_PERM_DENY));
    assert_int_equal(eval(idx, "anyone", NULL, "10.9.9.9", T, "shared", WEIR_ACL_OP_READ),
                     WEIR_ACL_DENIED);
    assert_int_equal(eval(idx, "anyone", NULL, "10.9.9.8", T, "shared", WEIR_ACL_OP_READ),
                     WEIR_ACL_ALLOWED);

    /* Literal "*" applies to every name of its type. */
    add(idx, B(7, WEIR_ACL_RES_GROUP, WEIR_ACL_PAT_LITERAL, "*", "User:alice", "*",
               WEIR_ACL_OP_READ, WEIR_ACL_PERM_ALLOW));
    assert_int_equal(eval(idx, "alice", NULL, "h", WEIR_ACL_RES_GROUP, "any-group",
                          WEIR_ACL_OP_READ),
                     WEIR_ACL_ALLOWED);
    assert_int_equal(eval(idx, "bob", NULL, "h", WEIR_ACL_RES_GROUP, "any-group",
                          WEIR_ACL_OP_READ),
                     WEIR_ACL_NO_MATCH);
    /* A group name equal to a user name does not match the user. */
    add(idx, B(8, T, WEIR_ACL_PAT_LITERAL, "g-only", "Group:alice", "*", WEIR_ACL_OP_READ,
               WEIR_ACL_PERM_ALLOW));
    assert_int_equal(eval(idx, "alice", NULL, "h", T, "g-only", WEIR_ACL_OP_READ),
                     WEIR_ACL_NO_MATCH);
    assert_int_equal(eval(idx, "zed", "alice", "h", T, "g-only", WEIR_ACL_OP_READ),
                     WEIR_ACL_ALLOWED);

    /* Removal takes effect; ids are unique. */
    assert_int_equal(weir_acl_index_remove(idx, 2), 0);
    assert_int_equal(eval(idx, "carol", "stream-team", "h", T, "teamA.orders", WEIR_ACL_OP_READ),
                     WEIR_ACL_ALLOWED);
    assert_int_equal(weir_acl_index_remove(idx, 2), -ENOENT);
    {
        weir_acl_binding_t dup = B(1, T, WEIR_ACL_PAT_LITERAL, "other", "User:x", "*",
                                   WEIR_ACL_OP_READ, WEIR_ACL_PERM_ALLOW);
        assert_int_equal(weir_acl_index_add(idx, &dup), -EEXIST);
        dup.id = 0;
        assert_int_equal(weir_acl_index_add(idx, &dup), -EINVAL);
    }
    assert_int_equal(weir_acl_index_count(idx), 7);
    assert_int_equal(weir_acl_index_remove(idx, 1), 0);
    assert_int_equal(eval(idx, "alice", "stream-team", "h", T, "teamA.orders", WEIR_ACL_OP_READ),
                     WEIR_ACL_NONE);
    weir_acl_index_free(idx);
}

static void
collect_ids(void *arg, const weir_acl_binding_t *b)
{
    int64_t *ids = arg;
    ids[++ids[0]] = b->id;
}

static void
test_index_lookup(void **state)
{
    weir_acl_index_t *idx = weir_acl_index_new();
    weir_acl_binding_t b = B(30, WEIR_ACL_RES_TOPIC, WEIR_ACL_PAT_PREFIXED, "a.b", "User:u", "*",
                             WEIR_ACL_OP_READ, WEIR_ACL_PERM_ALLOW);
    weir_acl_filter_t f = {WEIR_ACL_RES_TOPIC, WEIR_ACL_PAT_MATCH, "a.b.c", NULL, NULL,
                           WEIR_ACL_OP_ANY, WEIR_ACL_PERM_ANY};
    int64_t ids[16] = {0};

    (void)state;
    add(idx, b);
    add(idx, B(10, WEIR_ACL_RES_TOPIC, WEIR_ACL_PAT_LITERAL, "a.b.c", "User:u", "*",
               WEIR_ACL_OP_READ, WEIR_ACL_PERM_ALLOW));
    add(idx, B(20, WEIR_ACL_RES_TOPIC, WEIR_ACL_PAT_LITERAL, "z", "User:u", "*", WEIR_ACL_OP_READ,
               WEIR_ACL_PERM_ALLOW));
    assert_int_equal(weir_acl_index_find(idx, &b), 30);
    b.op = WEIR_ACL_OP_WRITE;
    assert_int_equal(weir_acl_index_find(idx, &b), 0);
    assert_non_null(weir_acl_index_get(idx, 20));
    assert_string_equal(weir_acl_index_get(idx, 20)->name, "z");
    assert_null(weir_acl_index_get(idx, 21));
    /* foreach: id order, filtered. */
    weir_acl_index_foreach(idx, &f, collect_ids, ids);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 10);
    assert_int_equal(ids[2], 30);
    {
        char out[128];
        weir_acl_binding_format(weir_acl_index_get(idx, 30), out, sizeof(out));
        assert_string_equal(out, "TOPIC:PREFIXED:a.b User:u@* ALLOW READ");
    }
    weir_acl_index_free(idx);
}

static void
test_evaluate_any(void **state)
{
    weir_acl_index_t *idx = weir_acl_index_new();
    char *groups[1] = {"g"};
    weir_acl_subject_t s = {"u", groups, 1, "h"};
    const int T = WEIR_ACL_RES_TOPIC, W = WEIR_ACL_OP_WRITE;

    (void)state;
    assert_int_equal(weir_acl_evaluate_any(idx, &s, T, W), WEIR_ACL_NONE);
    add(idx, B(1, T, WEIR_ACL_PAT_LITERAL, "other", "User:x", "*", W, WEIR_ACL_PERM_ALLOW));
    assert_int_equal(weir_acl_evaluate_any(idx, &s, T, W), WEIR_ACL_NO_MATCH);
    add(idx, B(2, T, WEIR_ACL_PAT_LITERAL, "mine", "Group:g", "*", W, WEIR_ACL_PERM_ALLOW));
    assert_int_equal(weir_acl_evaluate_any(idx, &s, T, W), WEIR_ACL_ALLOWED);
    /* A DENY on that very topic takes it away ... */
    add(idx, B(3, T, WEIR_ACL_PAT_LITERAL, "mine", "User:u", "*", W, WEIR_ACL_PERM_DENY));
    assert_int_equal(weir_acl_evaluate_any(idx, &s, T, W), WEIR_ACL_NO_MATCH);
    /* ... a prefixed ALLOW not covered by a deny gives it back ... */
    add(idx, B(4, T, WEIR_ACL_PAT_PREFIXED, "team.", "User:u", "*", WEIR_ACL_OP_ALL,
               WEIR_ACL_PERM_ALLOW));
    assert_int_equal(weir_acl_evaluate_any(idx, &s, T, W), WEIR_ACL_ALLOWED);
    /* ... until a shorter deny prefix covers it ... */
    add(idx, B(5, T, WEIR_ACL_PAT_PREFIXED, "te", "Group:g", "*", W, WEIR_ACL_PERM_DENY));
    assert_int_equal(weir_acl_evaluate_any(idx, &s, T, W), WEIR_ACL_NO_MATCH);
    /* ... and a DENY on every topic denies outright. */
    add(idx, B(6, T, WEIR_ACL_PAT_PREFIXED, "zzz", "User:u", "*", W, WEIR_ACL_PERM_ALLOW));
    assert_int_equal(weir_acl_evaluate_any(idx, &s, T, W), WEIR_ACL_ALLOWED);
    add(idx, B(7, T, WEIR_ACL_PAT_LITERAL, "*", "User:*", "*", W, WEIR_ACL_PERM_DENY));
    assert_int_equal(weir_acl_evaluate_any(idx, &s, T, W), WEIR_ACL_DENIED);
    weir_acl_index_free(idx);
}

/* ------------------------------------------------------------------ */
/* Randomized cross-check against a brute-force evaluator             */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const users[] = {"alice", "bob", "carol", "dave", "*"};
static const char *const groups_[] = {"ga", "gb", "gc"};
static const char *const hosts[] = {"*", "10.0.0.1", "10.0.0.2"};
static const char *const names[] = {"a", "ab", "abc", "abcd", "b", "ba", "bab", "c", "*",
                                    "x.y", "x.y.z", "x"};

static bool
naive_applies(const weir_acl_binding_t *b, int type, const char *name)
{
    if (b->res_type != type)
        return false;
    if (b->pattern == WEIR_ACL_PAT_LITERAL)
        return strcmp(b->name, name) == 0 || strcmp(b->name, "*") == 0;
    return strncmp(name, b->name, strlen(b->name)) == 0;
}

static bool
naive_principal(const weir_acl_binding_t *b, const char *user, const char *group)
{
    char u[64], g[64];

    snprintf(u, sizeof(u), "User:%s", user);
    snprintf(g, sizeof(g), "Group:%s", group);
    return strcmp(b->principal, "User:*") == 0 || strcmp(b->principal, u) == 0 ||
           strcmp(b->principal, g) == 0;
}

static bool
naive_grants(int bop, int op)
{
    if (bop == WEIR_ACL_OP_ALL || bop == op)
        return true;
    if (op == WEIR_ACL_OP_DESCRIBE)
        return bop == WEIR_ACL_OP_READ || bop == WEIR_ACL_OP_WRITE || bop == WEIR_ACL_OP_DELETE ||
               bop == WEIR_ACL_OP_ALTER;
    return op == WEIR_ACL_OP_DESCRIBE_CONFIGS && bop == WEIR_ACL_OP_ALTER_CONFIGS;
}

static weir_acl_result_t
naive(const weir_acl_binding_t *v, size_t n, const char *user, const char *group,
      const char *host, int type, const char *name, int op)
{
    bool any = false, allow = false;

    for (size_t i = 0; i < n; i++) {
        const weir_acl_binding_t *b = &v[i];
        bool who;
        if (!naive_applies(b, type, name))
            continue;
        any = true;
        who = naive_principal(b, user, group) &&
              (strcmp(b->host, "*") == 0 || strcmp(b->host, host) == 0);
        if (!who)
            continue;
        if (b->perm == WEIR_ACL_PERM_DENY && (b->op == op || b->op == WEIR_ACL_OP_ALL))
            return WEIR_ACL_DENIED;
        if (b->perm == WEIR_ACL_PERM_ALLOW && naive_grants(b->op, op))
            allow = true;
    }
    if (!any)
        return WEIR_ACL_NONE;
    return allow ? WEIR_ACL_ALLOWED : WEIR_ACL_NO_MATCH;
}

static void
test_random_crosscheck(void **state)
{
    enum { NB = 10000, NQ = 20000 };
    weir_acl_binding_t *v = weir_calloc(NB, sizeof(*v));
    weir_acl_index_t *idx = weir_acl_index_new();
    static const int ops[] = {WEIR_ACL_OP_ALL,    WEIR_ACL_OP_READ,  WEIR_ACL_OP_WRITE,
                              WEIR_ACL_OP_DELETE, WEIR_ACL_OP_ALTER, WEIR_ACL_OP_DESCRIBE,
                              WEIR_ACL_OP_DESCRIBE_CONFIGS, WEIR_ACL_OP_ALTER_CONFIGS,
                              WEIR_ACL_OP_CREATE};
    char buf[64];
    size_t removed = 0;

    (void)state;
    for (int i = 0; i < NB; i++) {
        bool group = rnd(3) == 0;
        if (group)
            snprintf(buf, sizeof(buf), "Group:%s", groups_[rnd(3)]);
        else
            snprintf(buf, sizeof(buf), "User:%s", users[rnd(5)]);
        v[i].id = i + 1;
        v[i].res_type = (int8_t)(rnd(2) ? WEIR_ACL_RES_TOPIC : WEIR_ACL_RES_GROUP);
        v[i].pattern = (int8_t)(rnd(2) ? WEIR_ACL_PAT_LITERAL : WEIR_ACL_PAT_PREFIXED);
        v[i].name = weir_strdup(names[rnd(WEIR_ARRAY_SIZE(names))]);
        v[i].principal = weir_strdup(buf);
        v[i].host = weir_strdup(hosts[rnd(3)]);
        v[i].op = (int8_t)ops[rnd(WEIR_ARRAY_SIZE(ops))];
        /* Mostly ALLOW, so that queries do not all end in DENY. */
        v[i].perm = (int8_t)(rnd(40) == 0 ? WEIR_ACL_PERM_DENY : WEIR_ACL_PERM_ALLOW);
    }
    /* Check while the index grows: after 50, 500, 10,000 bindings. */
    for (int stage = 0, added = 0; stage < 3; stage++) {
        int upto = stage == 0 ? 50 : stage == 1 ? 500 : NB;
        int counts[4] = {0};

        for (; added < upto; added++)
            assert_int_equal(weir_acl_index_add(idx, &v[added]), 0);
        for (int q = 0; q < NQ / 4; q++) {
            const char *user = users[rnd(4)], *group = groups_[rnd(3)];
            const char *host = hosts[1 + rnd(2)], *name = names[rnd(WEIR_ARRAY_SIZE(names))];
            int type = rnd(2) ? WEIR_ACL_RES_TOPIC : WEIR_ACL_RES_GROUP;
            int op = ops[1 + rnd(WEIR_ARRAY_SIZE(ops) - 1)];
            weir_acl_result_t want = naive(v, (size_t)added, user, group, host, type, name, op);
            weir_acl_result_t got = eval(idx, user, group, host, type, name, op);

            if (want != got)
                fail_msg("bindings=%d user=%s group=%s host=%s type=%d name=%s op=%d: "
                         "want %d got %d", added, user, group, host, type, name, op, want, got);
            counts[got]++;
        }
        /* The check is only meaningful if the outcomes occur (with 10,000
         * bindings every query has a matching ALLOW or DENY). */
        if (stage > 0)
            for (int k = 1; k < (stage == 1 ? 4 : 3); k++)
                if (counts[k] == 0)
                    fail_msg("stage %d: no query gave outcome %d (%d %d %d %d)", stage, k,
                             counts[0], counts[1], counts[2], counts[3]);
    }
    /* Remove a third, check again against the rest. */
    for (int i = 0; i < NB; i += 3) {
        assert_int_equal(weir_acl_index_remove(idx, v[i].id), 0);
        weir_acl_binding_clear(&v[i]);
        v[i].res_type = WEIR_ACL_RES_UNKNOWN; /* ignored by the naive evaluator */
        v[i].name = weir_strdup("");
        v[i].principal = weir_strdup("");
        v[i].host = weir_strdup("");
        removed++;
    }
    assert_int_equal(weir_acl_index_count(idx), NB - removed);
    for (int q = 0; q < NQ; q++) {
        const char *user = users[rnd(4)], *group = groups_[rnd(3)];
        const char *host = hosts[1 + rnd(2)], *name = names[rnd(WEIR_ARRAY_SIZE(names))];
        int type = rnd(2) ? WEIR_ACL_RES_TOPIC : WEIR_ACL_RES_GROUP;
        int op = ops[1 + rnd(WEIR_ARRAY_SIZE(ops) - 1)];
        assert_int_equal(eval(idx, user, group, host, type, name, op),
                         naive(v, NB, user, group, host, type, name, op));
    }
    for (int i = 0; i < NB; i++)
        weir_acl_binding_clear(&v[i]);
    free(v);
    weir_acl_index_free(idx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_evaluate_rules),
        cmocka_unit_test(test_index_lookup),
        cmocka_unit_test(test_evaluate_any),
        cmocka_unit_test(test_random_crosscheck),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
