/*
 * test_ldap.c: unit tests of auth/weir_ldap.c without a directory server:
 * RFC 4515/4514 escaping and the DN template, the sign-on cache (salted
 * key, hits, expiry, TTL 0, clear), and real checks on the worker pool
 * against a port that refuses connections and against one that accepts
 * and never answers (plain and ldaps://, where only the watchdog ends the
 * TLS handshake): all fail as "unavailable" within ldap.timeout.ms,
 * checks beyond the concurrency limit wait for a slot and fail within the
 * same time, a cancelled check never calls back, and the checker frees
 * itself only after its last check.  (tests/integration/test_security_sasl
 * covers a real slapd.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "weir_common.h"
#include "weir_ldap.h"

static void
test_escaping(void **state)
{
    char *s;

    (void)state;
    s = weir_ldap_escape_filter("a*b(c)d\\e");
    assert_string_equal(s, "a\\2ab\\28c\\29d\\5ce");
    free(s);
    s = weir_ldap_escape_filter("alice");
    assert_string_equal(s, "alice");
    free(s);
    s = weir_ldap_escape_dn(" #a,b+c\"d\\e<f>g;h=i ");
    assert_string_equal(s, "\\ #a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\=i\\ ");
    free(s);
    s = weir_ldap_escape_dn("x#y\n");
    assert_string_equal(s, "x#y\\0a");
    free(s);
    s = weir_ldap_dn_from_template("uid={user},ou=people,dc=campus,dc=edu", "o,reilly");
    assert_string_equal(s, "uid=o\\,reilly,ou=people,dc=campus,dc=edu");
    free(s);
    s = weir_ldap_dn_from_template("cn={user}+uid={user},dc=x", "a=b");
    assert_string_equal(s, "cn=a\\=b+uid=a\\=b,dc=x");
    free(s);
}

static weir_ldap_t *
make_ldap(uv_loop_t *loop, const char *url, int64_t timeout_ms, int64_t ttl_ms, int inflight)
{
    weir_ldap_conf_t c;
    char err[256];
    weir_ldap_t *ld;

    memset(&c, 0, sizeof(c));
    c.url = url;
    c.user_dn_template = "uid={user},ou=people,dc=campus,dc=edu";
    c.timeout_ms = timeout_ms;
    c.cache_ttl_ms = ttl_ms;
    c.max_inflight = inflight;
    ld = weir_ldap_new(loop, &c, err, sizeof(err));
    if (!ld)
        fail_msg("weir_ldap_new: %s", err);
    return ld;
}

static void
test_new_errors(void **state)
{
    weir_ldap_conf_t c;
    char err[256];

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_null(weir_ldap_new(uv_default_loop(), &c, err, sizeof(err)));
    assert_string_equal(err, "ldap.url is not set");
    c.url = "http://x";
    c.user_dn_template = "uid={user}";
    assert_null(weir_ldap_new(uv_default_loop(), &c, err, sizeof(err)));
    assert_string_equal(err, "ldap.url: \"http://x\" is not an LDAP URL");
    c.url = "ldap://127.0.0.1:1";
    c.user_dn_template = NULL;
    assert_null(weir_ldap_new(uv_default_loop(), &c, err, sizeof(err)));
    assert_string_equal(err, "set ldap.user.dn.template or ldap.user.search.base");
}

static void
test_cache(void **state)
{
    uv_loop_t loop;
    weir_ldap_t *ld, *ld2;
    uint8_t k1[WEIR_LDAP_KEY_LEN], k2[WEIR_LDAP_KEY_LEN], k3[WEIR_LDAP_KEY_LEN];
    uint8_t k4[WEIR_LDAP_KEY_LEN];
    weir_ldap_result_t res, got;
    char *groups[] = {"stream-team", "weir-admins"};

    (void)state;
    uv_loop_init(&loop);
    ld = make_ldap(&loop, "ldap://127.0.0.1:1", 1000, 5000, 2);
    ld2 = make_ldap(&loop, "ldap://127.0.0.1:1", 1000, 5000, 2);

    /* The key depends on user and password, and on a per-checker salt. */
    weir_ldap_cache_key(ld, "alice", "pw", 2, k1);
    weir_ldap_cache_key(ld, "alice", "pw", 2, k2);
    assert_memory_equal(k1, k2, WEIR_LDAP_KEY_LEN);
    weir_ldap_cache_key(ld, "alice", "pX", 2, k3);
    assert_memory_not_equal(k1, k3, WEIR_LDAP_KEY_LEN);
    /* "ali"+"cepw" must not collide with "alice"+"pw". */
    weir_ldap_cache_key(ld, "ali", "cepw", 4, k3);
    assert_memory_not_equal(k1, k3, WEIR_LDAP_KEY_LEN);
    weir_ldap_cache_key(ld2, "alice", "pw", 2, k4);
    assert_memory_not_equal(k1, k4, WEIR_LDAP_KEY_LEN);

    memset(&res, 0, sizeof(res));
    res.status = WEIR_LDAP_OK;
    res.user = "alice";
    res.groups = groups;
    res.ngroups = 2;
    assert_false(weir_ldap_cache_get(ld, k1, 1000, &got));
    weir_ldap_cache_put(ld, k1, &res, 1000);
    assert_int_equal(weir_ldap_cache_size(ld), 1);
    assert_true(weir_ldap_cache_get(ld, k1, 5999, &got));
    assert_int_equal(got.status, WEIR_LDAP_OK);
    assert_true(got.cached);
    assert_string_equal(got.user, "alice");
    assert_int_equal(got.ngroups, 2);
    assert_string_equal(got.groups[1], "weir-admins");
    weir_ldap_result_clear(&got);
    /* Another password misses. */
    weir_ldap_cache_key(ld, "alice", "pX", 2, k3);
    assert_false(weir_ldap_cache_get(ld, k3, 2000, &got));
    /* Failures are never cached. */
    res.status = WEIR_LDAP_INVALID;
    weir_ldap_cache_put(ld, k3, &res, 1000);
    assert_int_equal(weir_ldap_cache_size(ld), 1);
    res.status = WEIR_LDAP_OK;
    /* Expiry: at put time + TTL the entry is gone (and dropped). */
    assert_false(weir_ldap_cache_get(ld, k1, 6000, &got));
    assert_int_equal(weir_ldap_cache_size(ld), 0);
    /* Re-put replaces; clear empties. */
    weir_ldap_cache_put(ld, k1, &res, 1000);
    weir_ldap_cache_put(ld, k1, &res, 2000);
    assert_int_equal(weir_ldap_cache_size(ld), 1);
    assert_true(weir_ldap_cache_get(ld, k1, 6500, &got));
    weir_ldap_result_clear(&got);
    weir_ldap_cache_clear(ld);
    assert_int_equal(weir_ldap_cache_size(ld), 0);
    weir_ldap_free(ld);
    weir_ldap_free(ld2);

    /* TTL 0: nothing is cached. */
    ld = make_ldap(&loop, "ldap://127.0.0.1:1", 1000, 0, 2);
    weir_ldap_cache_key(ld, "alice", "pw", 2, k1);
    weir_ldap_cache_put(ld, k1, &res, 1000);
    assert_int_equal(weir_ldap_cache_size(ld), 0);
    weir_ldap_free(ld);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

typedef struct outcome_s {
    int calls;
    weir_ldap_status_t status;
    char reason[256];
    int64_t at_ms;
} outcome_t;

static void
on_result(void *arg, const weir_ldap_result_t *res)
{
    outcome_t *o = arg;

    o->calls++;
    o->status = res->status;
    snprintf(o->reason, sizeof(o->reason), "%s", res->reason);
    o->at_ms = weir_mono_ms();
}

static char *
pw(const char *s)
{
    return weir_strdup(s);
}

/* A loopback port with nothing listening. */
static int
closed_port(void)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static void
test_refused(void **state)
{
    uv_loop_t loop;
    weir_ldap_t *ld;
    outcome_t o;
    weir_ldap_result_t cached;
    char url[64];
    int64_t t0;

    (void)state;
    memset(&o, 0, sizeof(o));
    uv_loop_init(&loop);
    snprintf(url, sizeof(url), "ldap://127.0.0.1:%d", closed_port());
    ld = make_ldap(&loop, url, 3000, 60000, 2);
    assert_false(weir_ldap_is_down(ld));
    t0 = weir_mono_ms();
    assert_non_null(weir_ldap_authenticate(ld, "alice", pw("secret"), 6, on_result, &o, &cached));
    assert_int_equal(o.calls, 0); /* never synchronously */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, WEIR_LDAP_UNAVAILABLE);
    assert_non_null(strstr(o.reason, "Can't contact LDAP server"));
    assert_true(o.at_ms - t0 < 3000);
    assert_true(weir_ldap_is_down(ld));
    assert_int_equal(weir_ldap_cache_size(ld), 0);
    weir_ldap_free(ld);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Accepts connections (the kernel does) and never answers: the checks time
 * out; with one slot the second waits and fails within the same limit. */
static void
test_hung_server(void **state)
{
    uv_loop_t loop;
    weir_ldap_t *ld;
    outcome_t o1, o2, o3;
    weir_ldap_result_t cached;
    weir_ldap_job_t *j3;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char url[64];
    int64_t t0;

    (void)state;
    memset(&o1, 0, sizeof(o1));
    memset(&o2, 0, sizeof(o2));
    memset(&o3, 0, sizeof(o3));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    snprintf(url, sizeof(url), "ldap://127.0.0.1:%d", ntohs(sa.sin_port));

    uv_loop_init(&loop);
    ld = make_ldap(&loop, url, 800, 60000, 1);
    t0 = weir_mono_ms();
    assert_non_null(weir_ldap_authenticate(ld, "alice", pw("secret"), 6, on_result, &o1,
                                           &cached));
    assert_non_null(weir_ldap_authenticate(ld, "bob", pw("secret2"), 7, on_result, &o2,
                                           &cached));
    j3 = weir_ldap_authenticate(ld, "carol", pw("secret3"), 7, on_result, &o3, &cached);
    assert_non_null(j3);
    weir_ldap_cancel(j3); /* the client went away */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(o1.calls, 1);
    assert_int_equal(o1.status, WEIR_LDAP_UNAVAILABLE);
    assert_true(o1.at_ms - t0 >= 700);
    assert_true(o1.at_ms - t0 < 2500);
    assert_int_equal(o2.calls, 1);
    assert_int_equal(o2.status, WEIR_LDAP_UNAVAILABLE);
    assert_non_null(strstr(o2.reason, "slot busy"));
    assert_true(o2.at_ms - t0 < 2500);
    assert_int_equal(o3.calls, 0);
    weir_ldap_free(ld);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    close(fd);
}

/* ldaps:// to a server that accepts and never answers: libldap's TLS
 * handshake would wait for ever; the watchdog cuts it off. */
static void
test_hung_tls_server(void **state)
{
    uv_loop_t loop;
    weir_ldap_t *ld;
    outcome_t o;
    weir_ldap_result_t cached;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char url[64];
    int64_t t0;

    (void)state;
    memset(&o, 0, sizeof(o));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    snprintf(url, sizeof(url), "ldaps://127.0.0.1:%d", ntohs(sa.sin_port));

    uv_loop_init(&loop);
    ld = make_ldap(&loop, url, 600, 60000, 2);
    t0 = weir_mono_ms();
    assert_non_null(weir_ldap_authenticate(ld, "alice", pw("secret"), 6, on_result, &o,
                                           &cached));
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, WEIR_LDAP_UNAVAILABLE);
    assert_non_null(strstr(o.reason, "no answer within ldap.timeout.ms"));
    assert_true(o.at_ms - t0 >= 550);
    assert_true(o.at_ms - t0 < 2000);
    weir_ldap_free(ld);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    close(fd);
}

/* Freed while a check runs: the check finishes, nobody is called, the
 * checker goes with it. */
static void
test_free_while_running(void **state)
{
    uv_loop_t loop;
    weir_ldap_t *ld;
    outcome_t o;
    weir_ldap_result_t cached;
    weir_ldap_job_t *j;
    char url[64];

    (void)state;
    memset(&o, 0, sizeof(o));
    uv_loop_init(&loop);
    snprintf(url, sizeof(url), "ldap://127.0.0.1:%d", closed_port());
    ld = make_ldap(&loop, url, 1000, 60000, 1);
    j = weir_ldap_authenticate(ld, "alice", pw("secret"), 6, on_result, &o, &cached);
    assert_non_null(j);
    weir_ldap_authenticate(ld, "bob", pw("queued"), 6, on_result, &o, &cached);
    weir_ldap_cancel(j);
    weir_ldap_free(ld); /* the queued one is dropped, the running one finishes */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(o.calls, 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_new_errors),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_hung_server),
        cmocka_unit_test(test_hung_tls_server),
        cmocka_unit_test(test_free_while_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
