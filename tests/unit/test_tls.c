/*
 * test_tls.c: unit tests of server/net/weir_tls.c - server contexts from
 * PEM files (key password, trust store, protocols, cipher suites), and the
 * connection state pumped through its BIO pair against a real OpenSSL
 * client in memory: handshake, data both ways including partial writes,
 * client certificates and their RFC 2253 subject, close_notify, garbage
 * input, and a context freed (reload) while a connection still uses it.
 *
 * Certificates are made here with OpenSSL's API (a CA, a server and a
 * client certificate, P-256 keys) in a temp dir.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "weir_test_tls.h"
#include "weir_tls.h"

static char tmpdir[64];
static char ca_pem[128], srv_bundle[128], srv_enc_bundle[128], cli_key[128], cli_pem[128];
static char other_ca_pem[128], other_cli_key[128], other_cli_pem[128];

/* ------------------------------------------------------------------ */
/* Certificates                                                       */

static EVP_PKEY *
make_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    return k;
}

static void
write_pem(const char *path, EVP_PKEY *key, const char *key_pw, X509 *cert)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    if (key)
        assert_true(PEM_write_PrivateKey(f, key, key_pw ? EVP_aes_256_cbc() : NULL, NULL, 0,
                                         NULL, (void *)key_pw) == 1);
    if (cert)
        assert_true(PEM_write_X509(f, cert) == 1);
    fclose(f);
}

static int
setup_certs(void **state)
{
    static const char *ca_rdn[][2] = {{"O", "Campus"}, {"CN", "Test CA"}};
    static const char *other_rdn[][2] = {{"O", "Elsewhere"}, {"CN", "Other CA"}};
    static const char *srv_rdn[][2] = {{"O", "Campus"}, {"CN", "localhost"}};
    /* Subject order as issued: C, O, OU, CN; RFC 2253 prints it reversed. */
    static const char *cli_rdn[][2] = {
        {"C", "US"}, {"O", "Campus, Inc."}, {"OU", "Stream Team"}, {"CN", "Alice Ämmä"}};
    EVP_PKEY *ca_key, *srv_key, *c_key, *o_key, *oc_key;
    X509 *ca, *srv, *cli, *other, *ocli;

    (void)state;
    weir_test_mkdtemp(tmpdir, sizeof(tmpdir), "tls");
    snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", tmpdir);
    snprintf(srv_bundle, sizeof(srv_bundle), "%s/server.pem", tmpdir);
    snprintf(srv_enc_bundle, sizeof(srv_enc_bundle), "%s/server-enc.pem", tmpdir);
    snprintf(cli_key, sizeof(cli_key), "%s/client.key", tmpdir);
    snprintf(cli_pem, sizeof(cli_pem), "%s/client.pem", tmpdir);
    snprintf(other_ca_pem, sizeof(other_ca_pem), "%s/other-ca.pem", tmpdir);
    snprintf(other_cli_key, sizeof(other_cli_key), "%s/other-client.key", tmpdir);
    snprintf(other_cli_pem, sizeof(other_cli_pem), "%s/other-client.pem", tmpdir);

    ca_key = make_key();
    ca = weir_test_cert(ca_key, ca_rdn, 2, NULL, NULL, true, 1);
    srv_key = make_key();
    srv = weir_test_cert(srv_key, srv_rdn, 2, ca, ca_key, false, 2);
    c_key = make_key();
    cli = weir_test_cert(c_key, cli_rdn, 4, ca, ca_key, false, 3);
    o_key = make_key();
    other = weir_test_cert(o_key, other_rdn, 2, NULL, NULL, true, 4);
    oc_key = make_key();
    ocli = weir_test_cert(oc_key, cli_rdn, 4, other, o_key, false, 5);

    write_pem(ca_pem, NULL, NULL, ca);
    {
        /* Key store: key, then the chain. */
        FILE *f;
        write_pem(srv_bundle, srv_key, NULL, srv);
        f = fopen(srv_bundle, "a");
        PEM_write_X509(f, ca);
        fclose(f);
    }
    write_pem(srv_enc_bundle, srv_key, "k3y-pass", srv);
    write_pem(cli_key, c_key, NULL, NULL);
    write_pem(cli_pem, NULL, NULL, cli);
    write_pem(other_ca_pem, NULL, NULL, other);
    write_pem(other_cli_key, oc_key, NULL, NULL);
    write_pem(other_cli_pem, NULL, NULL, ocli);

    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    X509_free(other);
    X509_free(ocli);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(c_key);
    EVP_PKEY_free(o_key);
    EVP_PKEY_free(oc_key);
    return 0;
}

static int
teardown_certs(void **state)
{
    (void)state;
    return weir_test_rmtree(tmpdir);
}

/* ------------------------------------------------------------------ */
/* An in-memory client                                                */

typedef struct client_s {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *net; /* client's network end */
} client_t;

static void
client_init(client_t *c, const char *key, const char *cert, const char *ca, int max_version,
            const char *ciphers12)
{
    BIO *inner;

    c->ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(c->ctx);
    assert_int_equal(SSL_CTX_load_verify_locations(c->ctx, ca ? ca : ca_pem, NULL), 1);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    if (max_version)
        SSL_CTX_set_max_proto_version(c->ctx, max_version);
    if (ciphers12)
        assert_int_equal(SSL_CTX_set_cipher_list(c->ctx, ciphers12), 1);
    if (key) {
        assert_int_equal(SSL_CTX_use_certificate_file(c->ctx, cert, SSL_FILETYPE_PEM), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM), 1);
    }
    c->ssl = SSL_new(c->ctx);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    SSL_set1_host(c->ssl, "localhost");
    assert_int_equal(BIO_new_bio_pair(&inner, 64 * 1024, &c->net, 64 * 1024), 1);
    SSL_set_bio(c->ssl, inner, inner);
    SSL_set_connect_state(c->ssl);
}

static void
client_free(client_t *c)
{
    SSL_free(c->ssl);
    BIO_free(c->net);
    SSL_CTX_free(c->ctx);
}

/* Moves ciphertext both ways; returns bytes moved. */
static size_t
pump(client_t *c, weir_tls_t *s)
{
    size_t moved = 0;
    char *p;
    const uint8_t *q;
    uint8_t *w;
    size_t n, room;
    ossl_ssize_t k;

    /* client -> server */
    while ((k = BIO_nread0(c->net, &p)) > 0) {
        room = weir_tls_in_space(s, &w);
        if (room == 0)
            break;
        n = (size_t)k < room ? (size_t)k : room;
        memcpy(w, p, n);
        weir_tls_in_commit(s, n);
        BIO_nread(c->net, &p, (int)n);
        moved += n;
    }
    /* server -> client */
    while ((n = weir_tls_out_pending(s, &q)) > 0) {
        k = BIO_nwrite0(c->net, &p);
        if (k <= 0)
            break;
        if ((size_t)k < n)
            n = (size_t)k;
        memcpy(p, q, n);
        BIO_nwrite(c->net, &p, (int)n);
        weir_tls_out_consume(s, n);
        moved += n;
    }
    return moved;
}

/* Runs both handshakes to completion; returns the server's last status. */
static int
handshake(client_t *c, weir_tls_t *s)
{
    int srv = WEIR_TLS_WANT, cli = 0;

    for (int i = 0; i < 100; i++) {
        if (cli == 0) {
            int r = SSL_do_handshake(c->ssl);
            if (r == 1) {
                cli = 1;
            } else {
                int e = SSL_get_error(c->ssl, r);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                    cli = -1;
            }
        }
        if (srv == WEIR_TLS_WANT)
            srv = weir_tls_handshake(s);
        pump(c, s);
        if ((srv == 1 && cli == 1) || srv < 0 || cli < 0) {
            /* TLS 1.3: the server's tickets and a client-cert verdict
             * arrive after the client considers itself done. */
            pump(c, s);
            break;
        }
    }
    return srv;
}

static weir_tls_conf_t
base_conf(void)
{
    weir_tls_conf_t tc;

    memset(&tc, 0, sizeof(tc));
    tc.keystore_location = srv_bundle;
    tc.enabled_protocols = "TLSv1.2,TLSv1.3";
    return tc;
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */

static void
test_protocols_parse(void **state)
{
    int lo, hi;
    char err[128];

    (void)state;
    assert_int_equal(weir_tls_protocols_parse("TLSv1.2,TLSv1.3", &lo, &hi, err, sizeof(err)), 0);
    assert_int_equal(lo, TLS1_2_VERSION);
    assert_int_equal(hi, TLS1_3_VERSION);
    assert_int_equal(weir_tls_protocols_parse(" TLSv1.3 ", &lo, &hi, err, sizeof(err)), 0);
    assert_int_equal(lo, TLS1_3_VERSION);
    assert_int_equal(hi, TLS1_3_VERSION);
    assert_int_equal(weir_tls_protocols_parse("TLSv1.1,TLSv1.2", &lo, &hi, err, sizeof(err)), -1);
    assert_string_equal(err, "\"TLSv1.1\" is not a supported protocol (TLSv1.2, TLSv1.3)");
    assert_int_equal(weir_tls_protocols_parse("", &lo, &hi, err, sizeof(err)), -1);
    assert_string_equal(err, "no protocol enabled");
}

static void
test_ctx_errors(void **state)
{
    weir_tls_conf_t tc = base_conf();
    char err[512];
    weir_ssl_ctx_t *ctx;

    (void)state;
    tc.keystore_location = NULL;
    assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));
    assert_string_equal(err, "ssl.keystore.location is not set");

    tc = base_conf();
    tc.keystore_location = "/nonexistent/weir.pem";
    assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));
    assert_non_null(strstr(err, "ssl.keystore.location: no usable certificate chain"));

    /* The encrypted key needs its password, and only the right one. */
    tc = base_conf();
    tc.keystore_location = srv_enc_bundle;
    assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));
    assert_non_null(strstr(err, "no usable private key"));
    tc.key_password = "wrong";
    assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));
    tc.key_password = "k3y-pass";
    ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
    if (!ctx)
        fail_msg("encrypted key with the right password refused: %s", err);
    weir_tls_ctx_free(ctx);

    /* A key that does not match the certificate. */
    tc = base_conf();
    {
        char mixed[160];
        FILE *out, *in;
        char line[256];
        snprintf(mixed, sizeof(mixed), "%s/mixed.pem", tmpdir);
        out = fopen(mixed, "w");
        in = fopen(cli_key, "r");
        while (fgets(line, sizeof(line), in))
            fputs(line, out);
        fclose(in);
        in = fopen(srv_bundle, "r");
        {
            bool in_cert = false;
            while (fgets(line, sizeof(line), in)) {
                if (strstr(line, "BEGIN CERTIFICATE"))
                    in_cert = true;
                if (in_cert)
                    fputs(line, out);
            }
        }
        fclose(in);
        fclose(out);
        tc.keystore_location = mixed;
        assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));
        if (!strstr(err, "does not match") && !strstr(err, "no usable private key"))
            fail_msg("mismatched key: %s", err);
    }

    tc = base_conf();
    tc.client_auth = WEIR_TLS_CLIENT_AUTH_REQUIRED;
    assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));
    assert_string_equal(err, "ssl.client.auth needs ssl.truststore.location");

    tc = base_conf();
    tc.cipher_suites = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,NO_SUCH_SUITE";
    assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));
    assert_string_equal(err, "ssl.cipher.suites: unknown cipher suite \"NO_SUCH_SUITE\"");

    tc = base_conf();
    tc.enabled_protocols = "TLSv1.3";
    tc.cipher_suites = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));
    assert_non_null(strstr(err, "allows only TLSv1.3"));
    assert_int_equal(ERR_peek_error(), 0);
}

/* Handshake, a request and a large response, close_notify. */
static void
test_roundtrip(void **state)
{
    weir_tls_conf_t tc = base_conf();
    char err[256];
    weir_ssl_ctx_t *ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
    weir_tls_t *s;
    client_t c;
    uint8_t *big, *got;
    size_t big_len = 1 << 20, off = 0, recv = 0;
    char buf[64];
    int n, rounds = 0;
    char *subject;

    (void)state;
    if (!ctx)
        fail_msg("context: %s", err);
    s = weir_tls_new(ctx);
    client_init(&c, NULL, NULL, NULL, 0, NULL);
    assert_int_equal(handshake(&c, s), 1);
    assert_true(weir_tls_handshake_done(s));
    assert_string_equal(weir_tls_version(s), "TLSv1.3");
    assert_int_equal(weir_tls_peer_subject(s, &subject), -1); /* no client certificate */

    /* Client -> server. */
    assert_int_equal(SSL_write(c.ssl, "hello weir", 10), 10);
    pump(&c, s);
    assert_true(weir_tls_input_buffered(s));
    n = weir_tls_read(s, buf, sizeof(buf));
    assert_int_equal(n, 10);
    assert_memory_equal(buf, "hello weir", 10);
    assert_int_equal(weir_tls_read(s, buf, sizeof(buf)), WEIR_TLS_WANT);
    assert_false(weir_tls_input_buffered(s));

    /* Server -> client: 1 MiB through a 64 KiB network buffer, offered in
     * 64 KiB slices; WEIR_TLS_WANT means "write ciphertext out, retry". */
    big = malloc(big_len);
    got = malloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (uint8_t)(i * 7 + (i >> 9));
    while (recv < big_len) {
        assert_true(++rounds < 100000);
        if (off < big_len) {
            size_t len = big_len - off < 65536 ? big_len - off : 65536;
            n = weir_tls_write(s, big + off, len);
            assert_true(n > 0 || n == WEIR_TLS_WANT);
            if (n > 0) {
                assert_true((size_t)n <= len);
                off += (size_t)n;
            }
        }
        pump(&c, s);
        for (;;) {
            int r = SSL_read(c.ssl, got + recv, (int)(big_len - recv));
            if (r <= 0)
                break;
            recv += (size_t)r;
        }
    }
    assert_memory_equal(got, big, big_len);
    free(big);
    free(got);

    /* The client says goodbye. */
    SSL_shutdown(c.ssl);
    pump(&c, s);
    assert_int_equal(weir_tls_read(s, buf, sizeof(buf)), WEIR_TLS_CLOSED);
    weir_tls_free(s);
    client_free(&c);
    weir_tls_ctx_free(ctx);
}

/* A Kafka request on a TLS port: a clean failure with a reason. */
static void
test_plaintext_garbage(void **state)
{
    weir_tls_conf_t tc = base_conf();
    char err[256];
    weir_ssl_ctx_t *ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
    weir_tls_t *s = weir_tls_new(ctx);
    static const uint8_t apiversions[] = {0, 0, 0, 14, 0, 18, 0, 0, 0, 0, 0, 1, 0, 4,
                                          't', 'e', 's', 't'};
    uint8_t *w;
    size_t room = weir_tls_in_space(s, &w);

    (void)state;
    assert_true(room >= sizeof(apiversions));
    memcpy(w, apiversions, sizeof(apiversions));
    weir_tls_in_commit(s, sizeof(apiversions));
    assert_int_equal(weir_tls_handshake(s), WEIR_TLS_FAILED);
    assert_non_null(strstr(weir_tls_error(s), "handshake failed"));
    assert_false(weir_tls_handshake_done(s));
    /* The error queue is left empty for the next connection. */
    assert_int_equal(ERR_peek_error(), 0);
    weir_tls_free(s);
    weir_tls_ctx_free(ctx);
}

/* mTLS: required client certificates, verified against the trust store,
 * and the subject in Java's RFC 2253 form. */
static void
test_client_certificates(void **state)
{
    weir_tls_conf_t tc = base_conf();
    char err[256], *subject = NULL;
    weir_ssl_ctx_t *ctx;
    weir_tls_t *s;
    client_t c;

    (void)state;
    tc.truststore_location = ca_pem;
    tc.client_auth = WEIR_TLS_CLIENT_AUTH_REQUIRED;
    ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
    if (!ctx)
        fail_msg("context: %s", err);

    /* A trusted client certificate. */
    s = weir_tls_new(ctx);
    client_init(&c, cli_key, cli_pem, NULL, 0, NULL);
    assert_int_equal(handshake(&c, s), 1);
    assert_int_equal(weir_tls_peer_subject(s, &subject), 0);
    assert_string_equal(subject, "CN=Alice Ämmä,OU=Stream Team,O=Campus\\, Inc.,C=US");
    free(subject);
    weir_tls_free(s);
    client_free(&c);

    /* No certificate: refused. */
    s = weir_tls_new(ctx);
    client_init(&c, NULL, NULL, NULL, 0, NULL);
    assert_int_equal(handshake(&c, s), WEIR_TLS_FAILED);
    assert_non_null(strstr(weir_tls_error(s), "certificate"));
    weir_tls_free(s);
    client_free(&c);

    /* A certificate from another CA: refused. */
    s = weir_tls_new(ctx);
    client_init(&c, other_cli_key, other_cli_pem, NULL, 0, NULL);
    handshake(&c, s);
    assert_false(weir_tls_handshake_done(s));
    assert_non_null(strstr(weir_tls_error(s), "certificate"));
    weir_tls_free(s);
    client_free(&c);
    weir_tls_ctx_free(ctx);

    /* requested: no certificate is fine, anonymous. */
    tc.client_auth = WEIR_TLS_CLIENT_AUTH_REQUESTED;
    ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
    s = weir_tls_new(ctx);
    client_init(&c, NULL, NULL, NULL, 0, NULL);
    assert_int_equal(handshake(&c, s), 1);
    assert_int_equal(weir_tls_peer_subject(s, &subject), -1);
    weir_tls_free(s);
    client_free(&c);
    weir_tls_ctx_free(ctx);
}

/* Protocol and cipher restrictions are enforced. */
static void
test_protocols_and_ciphers(void **state)
{
    weir_tls_conf_t tc = base_conf();
    char err[256];
    weir_ssl_ctx_t *ctx;
    weir_tls_t *s;
    client_t c;

    (void)state;
    /* TLS 1.3 only: a TLS 1.2 client fails. */
    tc.enabled_protocols = "TLSv1.3";
    ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
    assert_non_null(ctx);
    s = weir_tls_new(ctx);
    client_init(&c, NULL, NULL, NULL, TLS1_2_VERSION, NULL);
    assert_int_equal(handshake(&c, s), WEIR_TLS_FAILED);
    assert_non_null(strstr(weir_tls_error(s), "protocol"));
    weir_tls_free(s);
    client_free(&c);
    weir_tls_ctx_free(ctx);

    /* An IANA-named TLS 1.2 suite only: TLS 1.3 is off, that suite is used. */
    tc = base_conf();
    tc.cipher_suites = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
    if (!ctx)
        fail_msg("context: %s", err);
    s = weir_tls_new(ctx);
    client_init(&c, NULL, NULL, NULL, 0, NULL);
    assert_int_equal(handshake(&c, s), 1);
    assert_string_equal(weir_tls_version(s), "TLSv1.2");
    assert_string_equal(weir_tls_cipher(s), "ECDHE-ECDSA-AES128-GCM-SHA256");
    weir_tls_free(s);
    client_free(&c);
    /* A client offering only another suite fails. */
    s = weir_tls_new(ctx);
    client_init(&c, NULL, NULL, NULL, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384");
    assert_int_equal(handshake(&c, s), WEIR_TLS_FAILED);
    weir_tls_free(s);
    client_free(&c);
    weir_tls_ctx_free(ctx);

    /* TLS 1.3 suite only. */
    tc = base_conf();
    tc.cipher_suites = "TLS_CHACHA20_POLY1305_SHA256";
    ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
    s = weir_tls_new(ctx);
    client_init(&c, NULL, NULL, NULL, 0, NULL);
    assert_int_equal(handshake(&c, s), 1);
    assert_string_equal(weir_tls_cipher(s), "TLS_CHACHA20_POLY1305_SHA256");
    weir_tls_free(s);
    client_free(&c);
    weir_tls_ctx_free(ctx);
}

/* A context replaced (SIGHUP) while a connection uses it: the connection
 * keeps working on its reference. */
static void
test_ctx_outlives_reload(void **state)
{
    weir_tls_conf_t tc = base_conf();
    char err[256], buf[8];
    weir_ssl_ctx_t *ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
    weir_tls_t *s = weir_tls_new(ctx);
    client_t c;

    (void)state;
    client_init(&c, NULL, NULL, NULL, 0, NULL);
    assert_int_equal(handshake(&c, s), 1);
    weir_tls_ctx_free(ctx); /* the listener moved on to a new context */
    assert_int_equal(SSL_write(c.ssl, "ping", 4), 4);
    pump(&c, s);
    assert_int_equal(weir_tls_read(s, buf, sizeof(buf)), 4);
    assert_int_equal(weir_tls_write(s, "pong", 4), 4);
    pump(&c, s);
    assert_int_equal(SSL_read(c.ssl, buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "pong", 4);
    weir_tls_free(s);
    client_free(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocols_parse),
        cmocka_unit_test(test_ctx_errors),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_plaintext_garbage),
        cmocka_unit_test(test_client_certificates),
        cmocka_unit_test(test_protocols_and_ciphers),
        cmocka_unit_test(test_ctx_outlives_reload),
    };
    return cmocka_run_group_tests(tests, setup_certs, teardown_certs);
}
