/*
 * test_principal_map.c: unit tests of auth/weir_principal_map.c (Kafka's
 * ssl.principal.mapping.rules) and auth/weir_auth.c (principals, the
 * super.users list form).  Expected names follow Kafka's
 * SslPrincipalMapperTest where the semantics are the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "weir_auth.h"
#include "weir_principal_map.h"

static weir_principal_map_t *
parse_ok(const char *spec)
{
    weir_principal_map_t *m = NULL;
    char err[256];

    if (weir_principal_map_parse(spec, &m, err, sizeof(err)) != 0)
        fail_msg("rules [%s] refused: %s", spec, err);
    return m;
}

static void
expect_name(const weir_principal_map_t *m, const char *subject, const char *want)
{
    char *got = NULL;
    int rc = weir_principal_map_apply(m, subject, &got);

    if (!want) {
        if (rc != -1)
            fail_msg("[%s] mapped to [%s], expected no match", subject, got);
        return;
    }
    if (rc != 0)
        fail_msg("[%s]: no rule applied, expected [%s]", subject, want);
    if (strcmp(got, want) != 0)
        fail_msg("[%s] mapped to [%s], expected [%s]", subject, got, want);
    free(got);
}

static void
expect_invalid(const char *spec, const char *err_part)
{
    weir_principal_map_t *m = NULL;
    char err[256];

    if (weir_principal_map_parse(spec, &m, err, sizeof(err)) == 0)
        fail_msg("rules [%s] accepted", spec);
    if (!strstr(err, err_part))
        fail_msg("rules [%s]: error [%s] lacks [%s]", spec, err, err_part);
}

static void
test_default(void **state)
{
    weir_principal_map_t *m;

    (void)state;
    m = parse_ok("DEFAULT");
    expect_name(m, "CN=alice,OU=eng,O=Campus", "CN=alice,OU=eng,O=Campus");
    expect_name(m, "", NULL);
    weir_principal_map_free(m);
    /* An empty list is DEFAULT. */
    m = parse_ok("  ");
    expect_name(m, "CN=x", "CN=x");
    weir_principal_map_free(m);
    m = parse_ok(NULL);
    expect_name(m, "CN=y", "CN=y");
    weir_principal_map_free(m);
}

static void
test_rules(void **state)
{
    weir_principal_map_t *m;

    (void)state;
    m = parse_ok("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,"
                 "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,"
                 "RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U,"
                 "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U,"
                 "DEFAULT");
    expect_name(m, "CN=Duke,OU=ServiceUsers,O=Org,C=US", "Duke");
    expect_name(m, "CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US", "duke@sme");
    expect_name(m, "cn=duke,ou=JavaSoft,dc=sun,dc=com", "DUKE@JAVASOFT");
    expect_name(m, "OU=x,CN=duke.1,O=y", "DUKE.1");
    expect_name(m, "OU=JavaSoft,O=Sun Microsystems,C=US", "OU=JavaSoft,O=Sun Microsystems,C=US");
    weir_principal_map_free(m);

    /* The lazy quantifier stops at the first ",": PCRE2 like Java. */
    m = parse_ok("RULE:^CN=(.*?),(.*)$/$1/");
    expect_name(m, "CN=alice,OU=a,OU=b", "alice");
    /* No rule matches the whole subject: refused (no DEFAULT). */
    expect_name(m, "OU=only", NULL);
    weir_principal_map_free(m);

    /* Escaped slashes and a comma inside the pattern. */
    m = parse_ok(" RULE:^CN=([^,]+),O=a\\/b$/svc-$1/ , RULE:^O=(x,y)$/[$1]/ ");
    expect_name(m, "CN=web,O=a/b", "svc-web");
    expect_name(m, "O=x,y", "[x,y]");
    weir_principal_map_free(m);

    /* The whole subject must match, not a part of it. */
    m = parse_ok("RULE:CN=admin/root/");
    expect_name(m, "CN=admin", "root");
    expect_name(m, "CN=admin,O=x", NULL);
    weir_principal_map_free(m);

    /* $0 is the whole match, a missing group is empty, "\$" a dollar. */
    m = parse_ok("RULE:^CN=(\\w+)(-x)?$/$0:$2:\\$1/");
    expect_name(m, "CN=bob", "CN=bob::$1");
    weir_principal_map_free(m);

    /* An empty result counts as no match. */
    m = parse_ok("RULE:^CN=(.*)$/$1/,DEFAULT");
    expect_name(m, "CN=", "CN=");
    weir_principal_map_free(m);
}

static void
test_invalid(void **state)
{
    (void)state;
    expect_invalid("RULE:^CN=(.*)$/$1", "expected RULE:pattern/replacement/[LU]");
    expect_invalid("RULE:^CN=(.*$/$1/", "invalid pattern");
    expect_invalid("DEFAULT,BOGUS", "expected DEFAULT or RULE:pattern/replacement/[LU]");
    expect_invalid("RULE:a/b/X", "unexpected \"X\"");
    expect_invalid("DEFAULTX", "unexpected \"X\"");
}

static void
test_principals(void **state)
{
    weir_principal_t p;
    char *groups[] = {"stream-team", "weir-admins"};
    char buf[64];

    (void)state;
    memset(&p, 0, sizeof(p));
    weir_principal_set_anonymous(&p);
    assert_string_equal(weir_principal_str(&p, buf, sizeof(buf)), "User:ANONYMOUS");
    assert_int_equal(p.method, WEIR_AUTH_NONE);
    weir_principal_set(&p, WEIR_AUTH_SASL_PLAIN, "alice", groups, 2);
    assert_string_equal(weir_principal_str(&p, buf, sizeof(buf)), "User:alice");
    assert_true(weir_principal_in_group(&p, "weir-admins"));
    assert_false(weir_principal_in_group(&p, "data-team"));
    weir_principal_clear(&p);
    assert_null(p.user);
    assert_int_equal(p.ngroups, 0);
}

static void
test_super_users(void **state)
{
    weir_principal_ref_t *refs;
    weir_principal_t p;
    size_t n;
    char err[256];
    char *g[] = {"weir-admins"};

    (void)state;
    assert_int_equal(weir_principal_refs_parse(" User:weiradmin ; Group:weir-admins;;", &refs, &n,
                                               err, sizeof(err)),
                     0);
    assert_int_equal(n, 2);
    assert_false(refs[0].is_group);
    assert_string_equal(refs[0].name, "weiradmin");
    assert_true(refs[1].is_group);
    assert_string_equal(refs[1].name, "weir-admins");

    memset(&p, 0, sizeof(p));
    weir_principal_set(&p, WEIR_AUTH_SASL_PLAIN, "weiradmin", NULL, 0);
    assert_true(weir_principal_matches(&p, refs, n));
    weir_principal_set(&p, WEIR_AUTH_SASL_PLAIN, "carol", g, 1);
    assert_true(weir_principal_matches(&p, refs, n));
    weir_principal_set(&p, WEIR_AUTH_SASL_PLAIN, "bob", NULL, 0);
    assert_false(weir_principal_matches(&p, refs, n));
    weir_principal_clear(&p);
    weir_principal_refs_free(refs, n);

    assert_int_equal(weir_principal_refs_parse("", &refs, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    assert_int_equal(weir_principal_refs_parse("weiradmin", &refs, &n, err, sizeof(err)), -1);
    assert_string_equal(err, "\"weiradmin\" is not TYPE:NAME (User:name or Group:name)");
    assert_int_equal(weir_principal_refs_parse("Role:x", &refs, &n, err, sizeof(err)), -1);
    assert_string_equal(err, "\"Role:x\": principal type must be User or Group");
    assert_int_equal(weir_principal_refs_parse("User:a;Group:", &refs, &n, err, sizeof(err)), -1);
    assert_string_equal(err, "\"Group:\": empty name");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_principals),
        cmocka_unit_test(test_super_users),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
