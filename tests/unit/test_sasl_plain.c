/*
 * test_sasl_plain.c: unit tests of auth/weir_sasl_plain.c, decoding the
 * SASL PLAIN message as Kafka's PlainSaslServer does (RFC 4616), in both
 * client forms: empty authzid (librdkafka, kafkajs) and authzid = user
 * (kafka-python).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_sasl_plain.h"

static void
expect_ok(const char *msg, size_t len, const char *user, const char *password)
{
    weir_sasl_plain_t m;
    char err[160];

    if (weir_sasl_plain_parse(msg, len, &m, err, sizeof(err)) != 0)
        fail_msg("refused: %s", err);
    assert_string_equal(m.user, user);
    assert_int_equal(m.password_len, strlen(password));
    assert_memory_equal(m.password, password, strlen(password));
    weir_sasl_plain_clear(&m);
    assert_null(m.user);
    assert_null(m.password);
}

static void
expect_err(const char *msg, size_t len, const char *want)
{
    weir_sasl_plain_t m;
    char err[160];

    if (weir_sasl_plain_parse(msg, len, &m, err, sizeof(err)) == 0)
        fail_msg("accepted a bad message, user [%s]", m.user);
    assert_string_equal(err, want);
    assert_null(m.user);
    assert_null(m.password);
}

#define MSG(s) (s), sizeof(s) - 1

static void
test_valid(void **state)
{
    (void)state;
    expect_ok(MSG("\0alice\0alice-Pw-1"), "alice", "alice-Pw-1");          /* librdkafka */
    expect_ok(MSG("alice\0alice\0alice-Pw-1"), "alice", "alice-Pw-1");     /* kafka-python */
    expect_ok(MSG("\0j\xc3\xbcrgen\0p\xc3\xa4ss w\xc3\xb6rd"), "j\xc3\xbcrgen",
              "p\xc3\xa4ss w\xc3\xb6rd");
    expect_ok(MSG("\0u\0:"), "u", ":");
}

static void
test_invalid(void **state)
{
    char user[300], pw[1100], big[1500];

    (void)state;
    expect_err(MSG(""), "Invalid SASL/PLAIN response: expected 3 tokens");
    expect_err(MSG("alice"), "Invalid SASL/PLAIN response: expected 3 tokens");
    expect_err(MSG("\0alice"), "Invalid SASL/PLAIN response: expected 3 tokens");
    expect_err(MSG("\0alice\0pw\0extra"), "Invalid SASL/PLAIN response: expected 3 tokens");
    expect_err(MSG("\0\0pw"), "Authentication failed: username not specified");
    expect_err(MSG("\0alice\0"), "Authentication failed: password not specified");
    expect_err(MSG("bob\0alice\0pw"),
               "Authentication failed: Client requested an authorization id that is different "
               "from username");
    expect_err(MSG("\0ali\x01" "ce\0pw"), "Authentication failed: invalid username");
    expect_err(MSG("\0ali\xc3\0pw"), "Authentication failed: invalid username");    /* truncated */
    expect_err(MSG("\0\xc0\xafx\0pw"), "Authentication failed: invalid username");  /* overlong */
    /* A UTF-16 surrogate half encoded in UTF-8. */
    expect_err(MSG("\0\xed\xa0\x80\0pw"), "Authentication failed: invalid username");

    memset(user, 'u', 256);
    user[256] = '\0';
    snprintf(big, sizeof(big), "%c%s%cpw", 0, user, 0);
    expect_err(big, 1 + 256 + 1 + 2, "Authentication failed: invalid username");
    user[255] = '\0';
    snprintf(big, sizeof(big), "%c%s%cpw", 0, user, 0);
    expect_ok(big, 1 + 255 + 1 + 2, user, "pw");

    memset(pw, 'p', 1025);
    pw[1025] = '\0';
    snprintf(big, sizeof(big), "%cu%c%s", 0, 0, pw);
    expect_err(big, 3 + 1025, "Authentication failed: password too long");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
