/*
 * test_conf_security.c: unit tests of the security keys of the broker
 * configuration (server/core/weir_conf.c): listener.security.protocol.map
 * and custom listener names, the cross-key rules for SSL and SASL
 * listeners, per-value checks (ssl.enabled.protocols, ssl.client.auth,
 * ssl.principal.mapping.rules, sasl.enabled.mechanisms, super.users,
 * ldap.url), their defaults, and that passwords never show in
 * DescribeConfigs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_conf.h"

static void
set_ok(weir_conf_t *c, const char *key, const char *value)
{
    char err[512];

    if (weir_conf_set(c, key, value, err, sizeof(err)) != 0)
        fail_msg("%s=%s refused: %s", key, value, err);
}

static void
expect_set_error(const char *key, const char *value, const char *want)
{
    weir_conf_t c;
    char err[512];

    weir_conf_defaults(&c);
    err[0] = '\0';
    if (weir_conf_set(&c, key, value, err, sizeof(err)) == 0 || strcmp(err, want) != 0)
        fail_msg("set %s=%s: err=[%s], want [%s]", key, value, err, want);
    weir_conf_free(&c);
}

static void
expect_conf_check(weir_conf_t *c, const char *want)
{
    char err[512];
    int rc = weir_conf_check(c, err, sizeof(err));

    if (!want) {
        if (rc != 0)
            fail_msg("check failed: %s", err);
        return;
    }
    if (rc == 0 || strcmp(err, want) != 0)
        fail_msg("check: rc=%d err=[%s], want [%s]", rc, rc ? err : "", want);
}

static void
test_defaults(void **state)
{
    weir_conf_t c;

    (void)state;
    weir_conf_defaults(&c);
    assert_string_equal(c.listener_security_protocol_map,
                        "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,"
                        "SASL_SSL:SASL_SSL");
    assert_string_equal(c.ssl_keystore_type, "PEM");
    assert_string_equal(c.ssl_truststore_type, "PEM");
    assert_null(c.ssl_keystore_location);
    assert_null(c.ssl_key_password);
    assert_string_equal(c.ssl_enabled_protocols, "TLSv1.2,TLSv1.3");
    assert_null(c.ssl_cipher_suites);
    assert_string_equal(c.ssl_client_auth, "none");
    assert_string_equal(c.ssl_principal_mapping_rules, "DEFAULT");
    assert_string_equal(c.sasl_enabled_mechanisms, "PLAIN");
    assert_int_equal(c.connections_max_reauth_ms, 0);
    assert_null(c.super_users);
    assert_null(c.ldap_url);
    assert_false(c.ldap_starttls);
    assert_string_equal(c.ldap_user_name_attribute, "uid");
    assert_string_equal(c.ldap_user_object_class, "person");
    assert_string_equal(c.ldap_group_object_class, "groupOfNames");
    assert_string_equal(c.ldap_group_member_attribute, "member");
    assert_string_equal(c.ldap_group_name_attribute, "cn");
    assert_int_equal(c.ldap_timeout_ms, 5000);
    assert_int_equal(c.ldap_cache_ttl_ms, 60000);
    assert_int_equal(weir_conf_listener_protocol(&c, "PLAINTEXT"), WEIR_SECPROTO_PLAINTEXT);
    assert_int_equal(weir_conf_listener_protocol(&c, "SASL_SSL"), WEIR_SECPROTO_SASL_SSL);
    assert_int_equal(weir_conf_listener_protocol(&c, "INTERNAL"), -1);
    assert_string_equal(weir_secproto_name(WEIR_SECPROTO_SASL_PLAINTEXT), "SASL_PLAINTEXT");
    expect_conf_check(&c, NULL);
    weir_conf_free(&c);
}

static void
test_protocol_map(void **state)
{
    weir_conf_t c;

    (void)state;
    weir_conf_defaults(&c);
    set_ok(&c, "listeners", "INTERNAL://127.0.0.1:0,EXTERNAL://:0");
    expect_conf_check(&c, "listeners: listener name INTERNAL is not in "
                          "listener.security.protocol.map");
    set_ok(&c, "listener.security.protocol.map", "INTERNAL:PLAINTEXT, EXTERNAL:SASL_PLAINTEXT");
    assert_int_equal(weir_conf_listener_protocol(&c, "EXTERNAL"), WEIR_SECPROTO_SASL_PLAINTEXT);
    assert_int_equal(weir_conf_listener_protocol(&c, "PLAINTEXT"), -1);
    expect_conf_check(&c, "ldap.url: must be set for SASL_PLAINTEXT and SASL_SSL listeners (PLAIN "
                          "passwords are checked against LDAP)");
    set_ok(&c, "ldap.url", "ldap://ldap.campus.edu:389 ldaps://ldap2.campus.edu");
    expect_conf_check(&c, "ldap.user.dn.template or ldap.user.search.base: one must be set "
                          "for SASL listeners");
    set_ok(&c, "ldap.user.dn.template", "uid={user},ou=people,dc=campus,dc=edu");
    expect_conf_check(&c, NULL);
    set_ok(&c, "ldap.user.search.base", "ou=people,dc=campus,dc=edu");
    expect_conf_check(&c, "ldap.user.dn.template and ldap.user.search.base: set only one "
                          "(the user's DN comes from the template or from a search)");
    weir_conf_free(&c);

    expect_set_error("listener.security.protocol.map", "A:TLS",
                     "\"A:TLS\": security protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or "
                     "SASL_SSL");
    expect_set_error("listener.security.protocol.map", "A", "\"A\" is not NAME:PROTOCOL");
    expect_set_error("listener.security.protocol.map", "A:SSL,A:PLAINTEXT",
                     "listener name A appears twice");
}

static void
test_ssl_rules(void **state)
{
    weir_conf_t c;

    (void)state;
    weir_conf_defaults(&c);
    set_ok(&c, "listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0");
    expect_conf_check(&c, "ssl.keystore.location: must be set for SSL and SASL_SSL listeners");
    set_ok(&c, "ssl.keystore.location", "/etc/weir/broker.pem");
    expect_conf_check(&c, NULL);
    set_ok(&c, "ssl.client.auth", "required");
    expect_conf_check(&c, "ssl.truststore.location: must be set when ssl.client.auth is required");
    set_ok(&c, "ssl.truststore.location", "/etc/weir/ca.pem");
    expect_conf_check(&c, NULL);
    set_ok(&c, "ssl.key.password", "s3cret");
    set_ok(&c, "ssl.principal.mapping.rules",
           "RULE:^CN=([^,]+),OU=ServiceUsers,.*$/svc-$1/L, DEFAULT");
    set_ok(&c, "ssl.cipher.suites", "TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    expect_conf_check(&c, NULL);
    weir_conf_free(&c);

    expect_set_error("ssl.client.auth", "optional",
                     "must be one of none, requested, required (got \"optional\")");
    expect_set_error("ssl.keystore.type", "JKS", "must be one of PEM (got \"JKS\")");
    expect_set_error("ssl.enabled.protocols", "TLSv1.2,SSLv3",
                     "\"SSLv3\" is not a supported protocol (TLSv1.2, TLSv1.3)");
    expect_set_error("ssl.principal.mapping.rules", "RULE:^CN=(.*$/$1/",
                     "invalid pattern \"^CN=(.*$\" at offset 8: missing closing parenthesis");
    expect_set_error("ssl.principal.mapping.rules", "NONE",
                     "invalid rule \"NONE\": expected DEFAULT or RULE:pattern/replacement/[LU]");
}

static void
test_sasl_and_ldap_values(void **state)
{
    weir_conf_t c;

    (void)state;
    expect_set_error("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256",
                     "mechanism \"SCRAM-SHA-256\" is not supported (only PLAIN)");
    expect_set_error("sasl.enabled.mechanisms", "GSSAPI",
                     "mechanism \"GSSAPI\" is not supported (only PLAIN)");
    expect_set_error("super.users", "User:weiradmin;weir-admins",
                     "\"weir-admins\" is not TYPE:NAME (User:name or Group:name)");
    expect_set_error("ldap.url", "ldap.campus.edu", "\"ldap.campus.edu\" is not an ldap:// or "
                                                    "ldaps:// URL");
    expect_set_error("ldap.timeout.ms", "10", "must be an integer between 100 and 600000 "
                                              "(got \"10\")");
    expect_set_error("connections.max.reauth.ms", "-1",
                     "must be an integer between 0 and 9223372036854775807 (got \"-1\")");

    weir_conf_defaults(&c);
    set_ok(&c, "super.users", "User:weiradmin;Group:weir-admins");
    set_ok(&c, "ldap.bind.password", "svc");
    expect_conf_check(&c, "ldap.bind.password: set without ldap.bind.dn");
    set_ok(&c, "ldap.bind.dn", "cn=weir-svc,ou=services,dc=campus,dc=edu");
    expect_conf_check(&c, NULL);
    set_ok(&c, "ldap.user.dn.template", "ou=people,dc=campus,dc=edu");
    expect_conf_check(&c, "ldap.user.dn.template: must contain {user}");
    weir_conf_free(&c);
}

/* Passwords are never shown; whether they are set is. */
static void
test_describe_hides_passwords(void **state)
{
    weir_conf_t c;
    const char *name;
    char value[512];
    bool is_default, sensitive;
    int seen = 0;

    (void)state;
    weir_conf_defaults(&c);
    set_ok(&c, "ldap.bind.password", "svc-Secret-42");
    for (size_t i = 0; weir_conf_describe(&c, i, &name, value, sizeof(value), &is_default,
                                          &sensitive);
         i++) {
        assert_null(strstr(value, "svc-Secret-42"));
        if (strcmp(name, "ldap.bind.password") == 0) {
            assert_true(sensitive);
            assert_string_equal(value, "");
            assert_false(is_default);
            seen++;
        } else if (strcmp(name, "ssl.key.password") == 0) {
            assert_true(sensitive);
            assert_true(is_default);
            seen++;
        } else if (strcmp(name, "ldap.url") == 0) {
            assert_false(sensitive);
            assert_true(is_default);
            seen++;
        }
    }
    assert_int_equal(seen, 3);
    weir_conf_free(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_protocol_map),
        cmocka_unit_test(test_ssl_rules),
        cmocka_unit_test(test_sasl_and_ldap_values),
        cmocka_unit_test(test_describe_hides_passwords),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
