/*
 * test_tls_conf.c: unit tests of the per-listener TLS settings and of the
 * PEM key and trust stores given in the configuration itself:
 * weir_tls_pem_normalize() (Kafka's one-line PEM values), server contexts
 * built from PEM text (a real handshake against an in-memory client that
 * verifies the certificate), and the listener.name.<listener>.<key> keys of
 * server/core/weir_conf.c - their values per listener, the key store taken
 * whole, and the FILE:LINE: KEY errors for unknown listeners and keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
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

#include "weir_conf.h"
#include "weir_test_tls.h"
#include "weir_tls.h"

static char tmpdir[64];
static char *ca_text, *chain_text, *key_text, *enc_key_text, *other_chain_text;
static char ca_path[128], other_ca_path[128];

/* ------------------------------------------------------------------ */
/* Certificates (OpenSSL API, in memory)                              */

static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca, long serial)
{
    const char *rdn[][2] = {{"O", "Campus"}, {"CN", cn}};

    return weir_test_cert(key, rdn, 2, issuer, issuer_key, ca, serial);
}

static char *
bio_text(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *s = malloc((size_t)n + 1);

    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(b);
    return s;
}

static char *
cert_text(X509 *a, X509 *b)
{
    BIO *m = BIO_new(BIO_s_mem());

    PEM_write_bio_X509(m, a);
    if (b)
        PEM_write_bio_X509(m, b);
    return bio_text(m);
}

/* PKCS#8, encrypted with pw when given (Kafka's PEM key format). */
static char *
key_pem(EVP_PKEY *k, const char *pw)
{
    BIO *m = BIO_new(BIO_s_mem());

    assert_int_equal(PEM_write_bio_PKCS8PrivateKey(m, k, pw ? EVP_aes_256_cbc() : NULL, NULL, 0,
                                                   NULL, (void *)pw), 1);
    return bio_text(m);
}

/* The text on one line: newlines become spaces (as Kafka allows). */
static char *
one_line(const char *s)
{
    char *o = strdup(s);

    size_t n;

    for (char *p = o; *p; p++)
        if (*p == '\n')
            *p = ' ';
    n = strlen(o);
    while (n > 0 && o[n - 1] == ' ')
        o[--n] = '\0'; /* as a properties file trims it */
    return o;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
setup(void **state)
{
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *srv_key = EVP_EC_gen("P-256");
    EVP_PKEY *o_key = EVP_EC_gen("P-256"), *os_key = EVP_EC_gen("P-256");
    X509 *ca, *srv, *other, *osrv;

    (void)state;
    weir_test_mkdtemp(tmpdir, sizeof(tmpdir), "tlsconf");
    ca = make_cert(ca_key, "Test CA", NULL, NULL, true, 1);
    srv = make_cert(srv_key, "localhost", ca, ca_key, false, 2);
    other = make_cert(o_key, "Other CA", NULL, NULL, true, 3);
    osrv = make_cert(os_key, "localhost", other, o_key, false, 4);
    ca_text = cert_text(ca, NULL);
    chain_text = cert_text(srv, ca);
    other_chain_text = cert_text(osrv, NULL);
    key_text = key_pem(srv_key, NULL);
    enc_key_text = key_pem(srv_key, "pem-Pass");
    snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", tmpdir);
    write_file(ca_path, ca_text);
    {
        char *t = cert_text(other, NULL);
        snprintf(other_ca_path, sizeof(other_ca_path), "%s/other-ca.pem", tmpdir);
        write_file(other_ca_path, t);
        free(t);
    }
    X509_free(ca);
    X509_free(srv);
    X509_free(other);
    X509_free(osrv);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(o_key);
    EVP_PKEY_free(os_key);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    free(ca_text);
    free(chain_text);
    free(other_chain_text);
    free(key_text);
    free(enc_key_text);
    return weir_test_rmtree(tmpdir);
}

/* ------------------------------------------------------------------ */
/* An in-memory client                                                */

static char negotiated[64];

/* Handshakes a client trusting ca_file against ctx; returns the server
 * certificate's chain length seen by the client (0: the handshake failed).
 * The cipher suite the server chose is left in negotiated. */
static int
client_handshake(weir_ssl_ctx_t *ctx, const char *ca_file)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL *c;
    BIO *inner, *net;
    weir_tls_t *s = weir_tls_new(ctx);
    int srv = WEIR_TLS_WANT, cli = 0, chain = 0;

    assert_int_equal(SSL_CTX_load_verify_locations(cctx, ca_file, NULL), 1);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
    c = SSL_new(cctx);
    SSL_set1_host(c, "localhost");
    assert_int_equal(BIO_new_bio_pair(&inner, 64 * 1024, &net, 64 * 1024), 1);
    SSL_set_bio(c, inner, inner);
    SSL_set_connect_state(c);
    for (int i = 0; i < 100 && !(srv == 1 && cli == 1) && srv >= 0 && cli >= 0; i++) {
        char *p;
        const uint8_t *q;
        uint8_t *w;
        ossl_ssize_t k;
        size_t n;

        if (cli == 0) {
            int r = SSL_do_handshake(c);
            if (r == 1)
                cli = 1;
            else if (SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
                cli = -1;
        }
        if (srv == WEIR_TLS_WANT)
            srv = weir_tls_handshake(s);
        while ((k = BIO_nread0(net, &p)) > 0 && (n = weir_tls_in_space(s, &w)) > 0) {
            n = (size_t)k < n ? (size_t)k : n;
            memcpy(w, p, n);
            weir_tls_in_commit(s, n);
            BIO_nread(net, &p, (int)n);
        }
        while ((n = weir_tls_out_pending(s, &q)) > 0 && (k = BIO_nwrite0(net, &p)) > 0) {
            n = (size_t)k < n ? (size_t)k : n;
            memcpy(p, q, n);
            BIO_nwrite(net, &p, (int)n);
            weir_tls_out_consume(s, n);
        }
    }
    if (cli == 1 && SSL_get_verify_result(c) == X509_V_OK) {
        STACK_OF(X509) *sk = SSL_get_peer_cert_chain(c);
        chain = sk ? sk_X509_num(sk) : 0;
    }
    snprintf(negotiated, sizeof(negotiated), "%s", weir_tls_cipher(s));
    SSL_free(c);
    BIO_free(net);
    SSL_CTX_free(cctx);
    weir_tls_free(s);
    ERR_clear_error();
    return chain;
}

/* ------------------------------------------------------------------ */
/* PEM text                                                           */

static void
test_pem_normalize(void **state)
{
    char err[256], *out, *line = one_line(chain_text), *mashed;
    int n;

    (void)state;
    /* One line, as Kafka allows: the same certificates as the file. */
    out = weir_tls_pem_normalize(line, "CERTIFICATE", &n, err, sizeof(err));
    assert_non_null(out);
    assert_int_equal(n, 2);
    assert_string_equal(out, chain_text);
    free(out);
    /* No whitespace at all between the headers and the base64. */
    mashed = malloc(strlen(chain_text) + 1);
    {
        char *o = mashed;
        for (const char *p = chain_text; *p; p++)
            if (*p != '\n')
                *o++ = *p;
        *o = '\0';
    }
    out = weir_tls_pem_normalize(mashed, "CERTIFICATE", &n, err, sizeof(err));
    assert_non_null(out);
    assert_int_equal(n, 2);
    assert_string_equal(out, chain_text);
    free(out);
    free(mashed);

    /* Keys: only the key block is taken, whatever surrounds it. */
    {
        char both[8192];
        snprintf(both, sizeof(both), "%s%s", chain_text, enc_key_text);
        out = weir_tls_pem_normalize(both, "PRIVATE KEY", &n, err, sizeof(err));
        assert_non_null(out);
        assert_int_equal(n, 1);
        assert_string_equal(out, enc_key_text);
        free(out);
    }

    assert_null(weir_tls_pem_normalize("MIIB not pem", "CERTIFICATE", &n, err, sizeof(err)));
    assert_string_equal(err, "no -----BEGIN CERTIFICATE----- block");
    assert_null(weir_tls_pem_normalize("-----BEGIN CERTIFICATE----- AAAA", "CERTIFICATE", &n,
                                       err, sizeof(err)));
    assert_string_equal(err, "no -----END CERTIFICATE----- after -----BEGIN CERTIFICATE-----");
    assert_null(weir_tls_pem_normalize("-----BEGIN CERTIFICATE----- AA*A -----END CERTIFICATE"
                                       "-----", "CERTIFICATE", &n, err, sizeof(err)));
    assert_non_null(strstr(err, "outside base64"));
    assert_null(weir_tls_pem_normalize("-----BEGIN RSA PRIVATE KEY----- Proc-Type: 4,ENCRYPTED "
                                       "AAAA -----END RSA PRIVATE KEY-----", "PRIVATE KEY", &n,
                                       err, sizeof(err)));
    assert_non_null(strstr(err, "PKCS#8"));
    /* The text itself is never quoted (it may be a key). */
    assert_null(strstr(err, "AAAA"));
    free(line);
}

static void
test_ctx_from_pem(void **state)
{
    weir_tls_conf_t tc;
    weir_ssl_ctx_t *ctx;
    char err[512], *chain1 = one_line(chain_text), *key1 = one_line(enc_key_text);
    char *ca1 = one_line(ca_text);

    (void)state;
    memset(&tc, 0, sizeof(tc));
    tc.keystore_certificate_chain = chain1;
    tc.keystore_key = key1;
    tc.key_password = "pem-Pass";
    tc.truststore_certificates = ca1;
    tc.client_auth = WEIR_TLS_CLIENT_AUTH_REQUESTED;
    ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
    if (!ctx)
        fail_msg("PEM key store refused: %s", err);
    /* The client verifies the certificate and gets the whole chain.  The
     * client offers OpenSSL's order (AES-256 first); without
     * ssl.cipher.suites the broker prefers AES-128-GCM. */
    assert_int_equal(client_handshake(ctx, ca_path), 2);
    assert_string_equal(negotiated, "TLS_AES_128_GCM_SHA256");
    /* The trust store names its CA to clients. */
    assert_int_equal(sk_X509_NAME_num(SSL_CTX_get_client_CA_list(ctx)), 1);
    weir_tls_ctx_free(ctx);

    /* Wrong or missing password: refused, never quoting the key. */
    tc.key_password = "wrong";
    assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));
    assert_non_null(strstr(err, "ssl.keystore.key: no usable private key"));
    assert_null(strstr(err, "MII"));
    tc.key_password = NULL;
    assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));

    /* Unencrypted PKCS#8 key, no password. */
    tc.keystore_key = key_text;
    ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
    if (!ctx)
        fail_msg("unencrypted PEM key refused: %s", err);
    weir_tls_ctx_free(ctx);

    /* A key that does not match the chain. */
    tc.keystore_certificate_chain = other_chain_text;
    assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));
    if (!strstr(err, "does not match") && !strstr(err, "no usable private key"))
        fail_msg("mismatched key: %s", err);

    /* Chain without key. */
    tc.keystore_certificate_chain = chain_text;
    tc.keystore_key = NULL;
    assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));
    assert_string_equal(err, "ssl.keystore.certificate.chain and ssl.keystore.key must be set "
                             "together");
    /* A trust store with no certificate. */
    tc.keystore_key = key_text;
    tc.truststore_certificates = "nothing here";
    assert_null(weir_tls_ctx_new(&tc, err, sizeof(err)));
    assert_string_equal(err, "ssl.truststore.certificates: no -----BEGIN CERTIFICATE----- block");
    assert_int_equal(ERR_peek_error(), 0);
    free(chain1);
    free(key1);
    free(ca1);
}

/* ------------------------------------------------------------------ */
/* listener.name.<listener>.<key>                                     */

/* Writes lines to a properties file and loads it; returns weir_conf_load's
 * result with the message in err. */
static int
load_lines(weir_conf_t *c, const char *text, char *err, size_t errsz, char *path, size_t psz)
{
    snprintf(path, psz, "%s/weir.properties", tmpdir);
    write_file(path, text);
    weir_conf_defaults(c);
    return weir_conf_load(c, path, err, errsz);
}

static void
expect_load_error(const char *text, const char *want_suffix)
{
    weir_conf_t c;
    char err[1024], path[160], want[1200];

    if (load_lines(&c, text, err, sizeof(err), path, sizeof(path)) == 0)
        fail_msg("accepted:\n%s", text);
    snprintf(want, sizeof(want), "%s:%s", path, want_suffix);
    if (strcmp(err, want) != 0)
        fail_msg("err=[%s]\nwant [%s]", err, want);
    weir_conf_free(&c);
}

#define LISTENERS                                                                              \
    "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,CLIENTS://127.0.0.1:0,"                \
    "SASL_SSL://127.0.0.1:0\n"                                                                 \
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,CLIENTS:SSL,"                 \
    "SASL_SSL:SASL_SSL\n"                                                                      \
    "ldap.url=ldap://127.0.0.1:1\n"                                                            \
    "ldap.user.dn.template=uid={user},dc=x\n"

static void
test_overrides(void **state)
{
    weir_conf_t c, copy;
    char err[1024], path[160], text[16384];
    char *key1 = one_line(key_text), *chain1 = one_line(chain_text);

    (void)state;
    snprintf(text, sizeof(text), LISTENERS
             "ssl.keystore.location=/global/server.pem\n"
             "ssl.truststore.location=/global/ca.pem\n"
             "listener.name.clients.ssl.keystore.certificate.chain=%s\n"
             "listener.name.clients.ssl.keystore.key=%s\n"
             "listener.name.clients.ssl.client.auth=required\n"
             "listener.name.clients.ssl.principal.mapping.rules=RULE:^CN=([^,]+),.*$/$1/L\n"
             "listener.name.sasl_ssl.ssl.keystore.location=/sasl/server.pem\n"
             "listener.name.sasl_ssl.ssl.cipher.suites=\n"
             "listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN\n"
             "listener.name.sasl_ssl.ssl.keystore.location=/sasl/server2.pem\n",
             chain1, key1);
    if (load_lines(&c, text, err, sizeof(err), path, sizeof(path)) != 0)
        fail_msg("refused: %s", err);
    /* SSL has no overrides: the global keys. */
    assert_string_equal(weir_conf_listener_value(&c, "SSL", "ssl.keystore.location"),
                        "/global/server.pem");
    assert_string_equal(weir_conf_listener_value(&c, "SSL", "ssl.client.auth"), "none");
    assert_false(weir_conf_listener_has_overrides(&c, "SSL"));
    /* CLIENTS: its PEM key store, none of the global key store keys. */
    assert_null(weir_conf_listener_value(&c, "CLIENTS", "ssl.keystore.location"));
    assert_string_equal(weir_conf_listener_value(&c, "CLIENTS", "ssl.keystore.key"), key1);
    assert_string_equal(weir_conf_listener_value(&c, "CLIENTS", "ssl.client.auth"), "required");
    assert_string_equal(weir_conf_listener_value(&c, "CLIENTS", "ssl.truststore.location"),
                        "/global/ca.pem");
    assert_string_equal(weir_conf_listener_value(&c, "clients", "ssl.principal.mapping.rules"),
                        "RULE:^CN=([^,]+),.*$/$1/L");
    /* SASL_SSL: the later line wins; an empty value unsets for it alone. */
    assert_string_equal(weir_conf_listener_value(&c, "SASL_SSL", "ssl.keystore.location"),
                        "/sasl/server2.pem");
    assert_null(weir_conf_listener_value(&c, "SASL_SSL", "ssl.cipher.suites"));
    assert_int_equal(c.nlistener_overrides, 7);
    /* A client-auth listener closes the open-by-default rule. */
    assert_false(weir_conf_allow_everyone(&c));
    /* The overrides survive a reload into the same struct (deep copy). */
    weir_conf_defaults(&copy);
    if (weir_conf_load(&copy, path, err, sizeof(err)) != 0)
        fail_msg("reload refused: %s", err);
    if (weir_conf_load(&copy, path, err, sizeof(err)) != 0)
        fail_msg("second reload refused: %s", err);
    assert_string_equal(weir_conf_listener_value(&copy, "CLIENTS", "ssl.client.auth"),
                        "required");
    weir_conf_free(&copy);
    weir_conf_free(&c);

    /* Without overrides, an SSL listener without client auth keeps the
     * open default. */
    if (load_lines(&c, LISTENERS "ssl.keystore.location=/k.pem\n", err, sizeof(err), path,
                   sizeof(path)) != 0)
        fail_msg("refused: %s", err);
    assert_true(weir_conf_allow_everyone(&c) == false); /* SASL_SSL listener */
    weir_conf_free(&c);
    free(key1);
    free(chain1);
}

static void
test_override_errors(void **state)
{
    char text[16384];

    (void)state;
    expect_load_error(LISTENERS "ssl.keystore.location=/k.pem\n"
                      "listener.name.internal.ssl.keystore.location=/x.pem\n",
                      "6: listener.name.internal.ssl.keystore.location: no listener named "
                      "internal in listeners");
    expect_load_error(LISTENERS "ssl.keystore.location=/k.pem\n"
                      "listener.name.clients.ssl.keystore.password=secret\n",
                      "6: listener.name.clients.ssl.keystore.password: unknown key (a listener "
                      "may set ssl.keystore.location, ssl.keystore.certificate.chain, "
                      "ssl.keystore.key, ssl.key.password, ssl.truststore.location, "
                      "ssl.truststore.certificates, ssl.enabled.protocols, ssl.cipher.suites, "
                      "ssl.client.auth, ssl.principal.mapping.rules, ssl.keystore.type, "
                      "ssl.truststore.type and sasl.enabled.mechanisms)");
    expect_load_error(LISTENERS "listener.name.sasl_ssl.plain.sasl.jaas.config=x\n",
                      "5: listener.name.sasl_ssl.plain.sasl.jaas.config: unknown key (a "
                      "listener may set ssl.keystore.location, ssl.keystore.certificate.chain, "
                      "ssl.keystore.key, ssl.key.password, ssl.truststore.location, "
                      "ssl.truststore.certificates, ssl.enabled.protocols, ssl.cipher.suites, "
                      "ssl.client.auth, ssl.principal.mapping.rules, ssl.keystore.type, "
                      "ssl.truststore.type and sasl.enabled.mechanisms)");
    expect_load_error(LISTENERS "listener.name.CLIENTS.ssl.client.auth=required\n",
                      "5: listener.name.CLIENTS.ssl.client.auth: listener names are "
                      "lower-cased in listener.name.* keys, as in Kafka: "
                      "listener.name.clients.ssl.client.auth");
    expect_load_error(LISTENERS "listener.name.clients.ssl.client.auth=maybe\n",
                      "5: listener.name.clients.ssl.client.auth: must be one of none, "
                      "requested, required (got \"maybe\")");
    expect_load_error(LISTENERS "listener.name.clients\n",
                      "5: listener.name.clients: unknown key (per-listener keys are "
                      "listener.name.<listener name, lower-cased>.<key>)");
    expect_load_error(LISTENERS "ssl.keystore.location=/k.pem\n"
                      "listener.name.plaintext.ssl.client.auth=required\n",
                      "6: listener.name.plaintext.ssl.client.auth: listener PLAINTEXT is "
                      "PLAINTEXT: ssl.* settings apply only to SSL and SASL_SSL listeners");
    expect_load_error(LISTENERS "ssl.keystore.location=/k.pem\n"
                      "listener.name.ssl.sasl.enabled.mechanisms=PLAIN\n",
                      "6: listener.name.ssl.sasl.enabled.mechanisms: listener SSL is SSL: SASL "
                      "settings apply only to SASL_PLAINTEXT and SASL_SSL listeners");
    /* The listener named before `listeners` appears: still checked. */
    expect_load_error("listener.name.bogus.ssl.client.auth=none\n" LISTENERS
                      "ssl.keystore.location=/k.pem\n",
                      "1: listener.name.bogus.ssl.client.auth: no listener named bogus in "
                      "listeners");
    /* Both forms of key store for one listener. */
    snprintf(text, sizeof(text), LISTENERS "ssl.keystore.location=/k.pem\n"
             "listener.name.clients.ssl.keystore.location=/c.pem\n"
             "listener.name.clients.ssl.keystore.certificate.chain=%s", chain_text);
    {
        /* The multi-line value continued with backslashes. */
        char *p, cont[16384];
        size_t o = 0;
        for (p = text; *p; p++) {
            if (*p == '\n' && strstr(text, "chain=") < p && p[1] != '\0') {
                cont[o++] = '\\';
                cont[o++] = 'n';
                cont[o++] = '\\';
            }
            cont[o++] = *p;
        }
        cont[o] = '\0';
        expect_load_error(cont, "6: listener.name.clients.ssl.keystore.location: set either "
                          "ssl.keystore.location or ssl.keystore.certificate.chain with "
                          "ssl.keystore.key for listener CLIENTS, not both");
    }
    /* A malformed PEM value names the key, never the text. */
    expect_load_error(LISTENERS "ssl.keystore.key=-----BEGIN PRIVATE KEY----- SECRETSTUFF\n",
                      "5: ssl.keystore.key: no -----END PRIVATE KEY----- after -----BEGIN "
                      "PRIVATE KEY-----");
}

static void
test_cross_checks(void **state)
{
    weir_conf_t c;
    char err[1024], path[160], text[16384];
    char *chain1 = one_line(chain_text), *key1 = one_line(key_text), *ca1 = one_line(ca_text);

    (void)state;
    snprintf(text, sizeof(text), LISTENERS "ssl.keystore.location=/k.pem\n"
             "ssl.keystore.certificate.chain=%s\nssl.keystore.key=%s\n", chain1, key1);
    assert_int_equal(load_lines(&c, text, err, sizeof(err), path, sizeof(path)), -1);
    if (!strstr(err, "set only one form of key store"))
        fail_msg("both forms: %s", err);
    assert_null(strstr(err, "MII"));
    weir_conf_free(&c);

    snprintf(text, sizeof(text), LISTENERS "ssl.keystore.certificate.chain=%s\n", chain1);
    assert_int_equal(load_lines(&c, text, err, sizeof(err), path, sizeof(path)), -1);
    assert_non_null(strstr(err, "ssl.keystore.certificate.chain and ssl.keystore.key: must be "
                                "set together"));
    weir_conf_free(&c);

    /* Every TLS listener has its own stores: no global key store needed. */
    snprintf(text, sizeof(text), LISTENERS
             "listener.name.ssl.ssl.keystore.location=/a.pem\n"
             "listener.name.clients.ssl.keystore.location=/b.pem\n"
             "listener.name.sasl_ssl.ssl.keystore.certificate.chain=%s\n"
             "listener.name.sasl_ssl.ssl.keystore.key=%s\n", chain1, key1);
    if (load_lines(&c, text, err, sizeof(err), path, sizeof(path)) != 0)
        fail_msg("refused: %s", err);
    weir_conf_free(&c);
    /* ... but one without: named. */
    snprintf(text, sizeof(text), LISTENERS
             "listener.name.ssl.ssl.keystore.location=/a.pem\n"
             "listener.name.clients.ssl.client.auth=none\n");
    assert_int_equal(load_lines(&c, text, err, sizeof(err), path, sizeof(path)), -1);
    assert_non_null(strstr(err, "ssl.keystore.location: must be set for SSL and SASL_SSL "
                                "listeners (listener CLIENTS)"));
    weir_conf_free(&c);
    /* Client auth on one listener needs a trust store for that one. */
    snprintf(text, sizeof(text), LISTENERS "ssl.keystore.location=/k.pem\n"
             "listener.name.clients.ssl.client.auth=requested\n");
    assert_int_equal(load_lines(&c, text, err, sizeof(err), path, sizeof(path)), -1);
    assert_non_null(strstr(err, "ssl.truststore.location: must be set when ssl.client.auth is "
                                "requested (listener CLIENTS)"));
    weir_conf_free(&c);
    snprintf(text, sizeof(text), LISTENERS "ssl.keystore.location=/k.pem\n"
             "listener.name.clients.ssl.client.auth=requested\n"
             "listener.name.clients.ssl.truststore.certificates=%s\n", ca1);
    if (load_lines(&c, text, err, sizeof(err), path, sizeof(path)) != 0)
        fail_msg("refused: %s", err);
    weir_conf_free(&c);
    free(chain1);
    free(key1);
    free(ca1);
}

/* weir_conf_set takes the per-listener keys too; weir_conf_check then
 * names the key without a file. */
static void
test_set_and_check(void **state)
{
    weir_conf_t c;
    char err[512];

    (void)state;
    weir_conf_defaults(&c);
    assert_int_equal(weir_conf_set(&c, "listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
                                   err, sizeof(err)), 0);
    assert_int_equal(weir_conf_set(&c, "listener.name.ssl.ssl.keystore.location", "/k.pem", err,
                                   sizeof(err)), 0);
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), 0);
    assert_string_equal(weir_conf_listener_value(&c, "SSL", "ssl.keystore.location"), "/k.pem");
    assert_int_equal(weir_conf_set(&c, "listener.name.ssl.ssl.enabled.protocols", "TLSv1.1", err,
                                   sizeof(err)), -1);
    assert_string_equal(err, "\"TLSv1.1\" is not a supported protocol (TLSv1.2, TLSv1.3)");
    assert_int_equal(weir_conf_set(&c, "listener.name.other.ssl.client.auth", "none", err,
                                   sizeof(err)), 0);
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), -1);
    assert_string_equal(err, "listener.name.other.ssl.client.auth: no listener named other in "
                             "listeners");
    weir_conf_free(&c);
}

static void
test_help_documents_convention(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    (void)state;
    weir_conf_print_help(f);
    fclose(f);
    assert_non_null(strstr(buf, "\nlistener.name.<listener>.<key>\n    Per-listener settings"));
    assert_non_null(strstr(buf, "ssl.keystore.certificate.chain\n"));
    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &len);
    weir_conf_print_markdown(f);
    fclose(f);
    assert_non_null(strstr(buf, "### Per-listener settings"));
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pem_normalize),
        cmocka_unit_test(test_ctx_from_pem),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_override_errors),
        cmocka_unit_test(test_cross_checks),
        cmocka_unit_test(test_set_and_check),
        cmocka_unit_test(test_help_documents_convention),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
