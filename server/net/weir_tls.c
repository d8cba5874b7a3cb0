/*
 * weir_tls.c: OpenSSL server contexts from Kafka's ssl.* settings and the
 * per-connection TLS state over a BIO pair (see weir_tls.h).
 */
#include "weir_tls.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "weir_common.h"

/* BIO pair buffers (allocated with the pair): room for two full TLS records
 * coming in and four going out; the staging chunk is allocated on a
 * connection's first response. */
#define WEIR_TLS_NET_IN (40 * 1024)
#define WEIR_TLS_NET_OUT (64 * 1024)
#define WEIR_TLS_CHUNK (64 * 1024)

struct weir_tls_s {
    SSL *ssl;
    BIO *net;          /* our end of the pair; the SSL owns the other end */
    bool handshake_done;
    char err[256];
    uint8_t *chunk;
};

/* ------------------------------------------------------------------ */
/* Errors                                                             */

/* Formats OpenSSL's error queue (the last, most specific entry) after
 * prefix, then empties the queue so it cannot leak into another
 * connection's diagnostics. */
static void
weir_tls_errq(char *buf, size_t size, const char *prefix)
{
    unsigned long e, last = 0;
    const char *data = NULL, *d;
    int flags;
    char msg[200];

    while ((e = ERR_get_error_all(NULL, NULL, NULL, &d, &flags)) != 0) {
        last = e;
        data = (flags & ERR_TXT_STRING) && d && *d ? d : NULL;
    }
    if (!last) {
        snprintf(buf, size, "%s", prefix);
        return;
    }
    ERR_error_string_n(last, msg, sizeof(msg));
    {
        const char *r = ERR_reason_error_string(last);
        if (r)
            snprintf(msg, sizeof(msg), "%s", r);
    }
    if (data)
        snprintf(buf, size, "%s: %s (%s)", prefix, msg, data);
    else
        snprintf(buf, size, "%s: %s", prefix, msg);
}

/* ------------------------------------------------------------------ */
/* Contexts                                                           */

int
weir_tls_protocols_parse(const char *list, int *min_version, int *max_version, char *errstr,
                         size_t errstr_size)
{
    const char *p = list;
    int lo = 0, hi = 0;

    while (*p) {
        const char *end = strchr(p, ',');
        size_t len;
        int v;

        if (!end)
            end = p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        len = (size_t)(end - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 7 && memcmp(p, "TLSv1.2", 7) == 0) {
            v = TLS1_2_VERSION;
        } else if (len == 7 && memcmp(p, "TLSv1.3", 7) == 0) {
            v = TLS1_3_VERSION;
        } else {
            snprintf(errstr, errstr_size, "\"%.*s\" is not a supported protocol (TLSv1.2, "
                     "TLSv1.3)", (int)len, p);
            return -1;
        }
        if (!lo || v < lo)
            lo = v;
        if (v > hi)
            hi = v;
        if (!*end)
            break;
        p = end + 1;
    }
    if (!lo) {
        snprintf(errstr, errstr_size, "no protocol enabled");
        return -1;
    }
    if (min_version)
        *min_version = lo;
    if (max_version)
        *max_version = hi;
    return 0;
}

static int
weir_tls_passwd_cb(char *buf, int size, int rwflag, void *userdata)
{
    const char *pw = userdata;
    size_t n;

    WEIR_UNUSED(rwflag);
    if (!pw)
        return 0;
    n = strlen(pw);
    if (n > (size_t)size)
        return 0;
    memcpy(buf, pw, n);
    return (int)n;
}

static bool
weir_tls_is13_suite(const char *name, size_t len)
{
    static const char *const suites[] = {
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256",
    };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(suites); i++)
        if (strlen(suites[i]) == len && memcmp(suites[i], name, len) == 0)
            return true;
    return false;
}

/* Splits ssl.cipher.suites into OpenSSL's TLS 1.3 ciphersuites and TLS 1.2
 * cipher list.  Kafka (Java) uses IANA names ("TLS_ECDHE_RSA_WITH_AES_128_
 * GCM_SHA256"); OpenSSL names ("ECDHE-RSA-AES128-GCM-SHA256") are accepted
 * too. */
static int
weir_tls_set_ciphers(SSL_CTX *ctx, const char *list, char *errstr, size_t errstr_size)
{
    SSL_CTX *all_ctx = SSL_CTX_new(TLS_method());
    SSL *all = all_ctx ? SSL_new(all_ctx) : NULL;
    STACK_OF(SSL_CIPHER) *known;
    size_t cap = strlen(list) * 2 + 16;
    char *v13 = weir_calloc(1, cap), *v12 = weir_calloc(1, cap);
    const char *p = list;
    int rc = -1;

    if (!all || !SSL_set_cipher_list(all, "ALL:COMPLEMENTOFALL")) {
        weir_tls_errq(errstr, errstr_size, "ssl.cipher.suites: cannot list ciphers");
        goto out;
    }
    known = SSL_get_ciphers(all);
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len;

        if (!end)
            end = p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        len = (size_t)(end - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > 0) {
            if (weir_tls_is13_suite(p, len)) {
                snprintf(v13 + strlen(v13), cap - strlen(v13), "%s%.*s", v13[0] ? ":" : "",
                         (int)len, p);
            } else {
                const char *name = NULL;
                for (int i = 0; i < sk_SSL_CIPHER_num(known); i++) {
                    const SSL_CIPHER *c = sk_SSL_CIPHER_value(known, i);
                    const char *std = SSL_CIPHER_standard_name(c), *osl = SSL_CIPHER_get_name(c);
                    if ((std && strlen(std) == len && memcmp(std, p, len) == 0) ||
                        (osl && strlen(osl) == len && memcmp(osl, p, len) == 0)) {
                        name = osl;
                        break;
                    }
                }
                if (!name) {
                    snprintf(errstr, errstr_size, "ssl.cipher.suites: unknown cipher suite "
                             "\"%.*s\"", (int)len, p);
                    goto out;
                }
                snprintf(v12 + strlen(v12), cap - strlen(v12), "%s%s", v12[0] ? ":" : "", name);
            }
        }
        if (!*end)
            break;
        p = end + 1;
    }
    /* A list naming only TLS 1.2 suites leaves TLS 1.3 without any, and
     * vice versa, as an explicit list does in Kafka: that protocol version
     * is then switched off. */
    if (!v12[0] && !v13[0]) {
        snprintf(errstr, errstr_size, "ssl.cipher.suites: empty list");
        goto out;
    }
    if (!v13[0]) {
        if (SSL_CTX_get_min_proto_version(ctx) >= TLS1_3_VERSION) {
            snprintf(errstr, errstr_size, "ssl.cipher.suites names no TLS 1.3 suite but "
                     "ssl.enabled.protocols allows only TLSv1.3");
            goto out;
        }
        SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    } else if (!SSL_CTX_set_ciphersuites(ctx, v13)) {
        weir_tls_errq(errstr, errstr_size, "ssl.cipher.suites: TLS 1.3 suites refused");
        goto out;
    }
    if (!v12[0]) {
        if (SSL_CTX_get_max_proto_version(ctx) != 0 &&
            SSL_CTX_get_max_proto_version(ctx) < TLS1_3_VERSION) {
            snprintf(errstr, errstr_size, "ssl.cipher.suites names no TLS 1.2 suite but "
                     "ssl.enabled.protocols allows only TLSv1.2");
            goto out;
        }
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    } else if (!SSL_CTX_set_cipher_list(ctx, v12)) {
        weir_tls_errq(errstr, errstr_size, "ssl.cipher.suites: TLS 1.2 suites refused");
        goto out;
    }
    rc = 0;
out:
    free(v13);
    free(v12);
    SSL_free(all);
    SSL_CTX_free(all_ctx);
    return rc;
}

weir_ssl_ctx_t *
weir_tls_ctx_new(const weir_tls_conf_t *conf, char *errstr, size_t errstr_size)
{
    SSL_CTX *ctx;
    int lo, hi, mode;
    static const unsigned char sid_ctx[] = "weir";

    ERR_clear_error();
    if (!conf->keystore_location) {
        snprintf(errstr, errstr_size, "ssl.keystore.location is not set");
        return NULL;
    }
    if (weir_tls_protocols_parse(conf->enabled_protocols ? conf->enabled_protocols
                                                         : "TLSv1.2,TLSv1.3",
                                 &lo, &hi, errstr, errstr_size) != 0)
        return NULL;
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        weir_tls_errq(errstr, errstr_size, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, lo);
    SSL_CTX_set_max_proto_version(ctx, hi);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    /* Partial writes: SSL_write returns after each record (the caller
     * streams).  SSL_MODE_RELEASE_BUFFERS is not used: it frees and
     * reallocates the record buffers around every record written. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);

    /* The key password is needed only while the key is read. */
    SSL_CTX_set_default_passwd_cb(ctx, weir_tls_passwd_cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)conf->key_password);
    if (SSL_CTX_use_certificate_chain_file(ctx, conf->keystore_location) != 1) {
        weir_tls_errq(errstr, errstr_size, "ssl.keystore.location: no usable certificate chain");
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, conf->keystore_location, SSL_FILETYPE_PEM) != 1) {
        weir_tls_errq(errstr, errstr_size, "ssl.keystore.location: no usable private key "
                      "(wrong or missing ssl.key.password?)");
        goto fail;
    }
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    if (SSL_CTX_check_private_key(ctx) != 1) {
        weir_tls_errq(errstr, errstr_size, "ssl.keystore.location: the private key does not "
                      "match the certificate");
        goto fail;
    }
    if (conf->truststore_location) {
        STACK_OF(X509_NAME) *names;
        if (SSL_CTX_load_verify_locations(ctx, conf->truststore_location, NULL) != 1) {
            weir_tls_errq(errstr, errstr_size, "ssl.truststore.location: cannot load");
            goto fail;
        }
        names = SSL_load_client_CA_file(conf->truststore_location);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
        ERR_clear_error();
    } else if (conf->client_auth != WEIR_TLS_CLIENT_AUTH_NONE) {
        snprintf(errstr, errstr_size, "ssl.client.auth needs ssl.truststore.location");
        goto fail;
    }
    mode = SSL_VERIFY_NONE;
    if (conf->client_auth == WEIR_TLS_CLIENT_AUTH_REQUESTED)
        mode = SSL_VERIFY_PEER;
    else if (conf->client_auth == WEIR_TLS_CLIENT_AUTH_REQUIRED)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, NULL);
    if (conf->cipher_suites && conf->cipher_suites[0] &&
        weir_tls_set_ciphers(ctx, conf->cipher_suites, errstr, errstr_size) != 0)
        goto fail;
    ERR_clear_error();
    return ctx;
fail:
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return NULL;
}

void
weir_tls_ctx_free(weir_ssl_ctx_t *ctx)
{
    SSL_CTX_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Connections                                                        */

weir_tls_t *
weir_tls_new(weir_ssl_ctx_t *ctx)
{
    weir_tls_t *tls = weir_calloc(1, sizeof(*tls));
    BIO *inner = NULL;

    tls->ssl = SSL_new(ctx);
    if (!tls->ssl || !BIO_new_bio_pair(&inner, WEIR_TLS_NET_OUT, &tls->net, WEIR_TLS_NET_IN)) {
        /* Only memory exhaustion gets here. */
        fprintf(stderr, "level=fatal event=out_of_memory what=tls\n");
        abort();
    }
    SSL_set_bio(tls->ssl, inner, inner);
    SSL_set_accept_state(tls->ssl);
    return tls;
}

void
weir_tls_free(weir_tls_t *tls)
{
    if (!tls)
        return;
    SSL_free(tls->ssl); /* frees the inner BIO */
    BIO_free(tls->net);
    free(tls->chunk);
    free(tls);
}

size_t
weir_tls_in_space(weir_tls_t *tls, uint8_t **p)
{
    char *buf = NULL;
    ossl_ssize_t n = BIO_nwrite0(tls->net, &buf);

    if (n <= 0)
        return 0;
    *p = (uint8_t *)buf;
    return (size_t)n;
}

void
weir_tls_in_commit(weir_tls_t *tls, size_t n)
{
    char *buf;

    if (n > 0)
        BIO_nwrite(tls->net, &buf, (int)n);
}

size_t
weir_tls_out_pending(weir_tls_t *tls, const uint8_t **p)
{
    char *buf = NULL;
    ossl_ssize_t n = BIO_nread0(tls->net, &buf);

    if (n <= 0)
        return 0;
    *p = (const uint8_t *)buf;
    return (size_t)n;
}

void
weir_tls_out_consume(weir_tls_t *tls, size_t n)
{
    char *buf;

    if (n > 0)
        BIO_nread(tls->net, &buf, (int)n);
}

size_t
weir_tls_out_total(weir_tls_t *tls)
{
    return BIO_ctrl_pending(tls->net);
}

/* Maps an SSL_get_error() result. */
static int
weir_tls_status(weir_tls_t *tls, int ret, const char *what)
{
    int e = SSL_get_error(tls->ssl, ret);

    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return WEIR_TLS_WANT;
    case SSL_ERROR_ZERO_RETURN:
        return WEIR_TLS_CLOSED;
    case SSL_ERROR_SYSCALL:
        /* No system calls under a BIO pair: an empty queue means the peer's
         * data ended without close_notify. */
        weir_tls_errq(tls->err, sizeof(tls->err), what);
        if (strcmp(tls->err, what) == 0)
            snprintf(tls->err, sizeof(tls->err), "%s: unexpected end of stream", what);
        return WEIR_TLS_FAILED;
    default:
        weir_tls_errq(tls->err, sizeof(tls->err), what);
        return WEIR_TLS_FAILED;
    }
}

int
weir_tls_handshake(weir_tls_t *tls)
{
    int ret;

    if (tls->handshake_done)
        return 1;
    ERR_clear_error();
    ret = SSL_do_handshake(tls->ssl);
    if (ret == 1) {
        tls->handshake_done = true;
        return 1;
    }
    return weir_tls_status(tls, ret, "handshake failed");
}

bool
weir_tls_handshake_done(const weir_tls_t *tls)
{
    return tls->handshake_done;
}

int
weir_tls_read(weir_tls_t *tls, void *buf, size_t len)
{
    size_t got = 0;
    int ret;

    ERR_clear_error();
    ret = SSL_read_ex(tls->ssl, buf, len, &got);
    if (ret == 1)
        return (int)got;
    return weir_tls_status(tls, ret, "read failed");
}

bool
weir_tls_input_buffered(weir_tls_t *tls)
{
    return SSL_pending(tls->ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(tls->ssl)) > 0;
}

int
weir_tls_write(weir_tls_t *tls, const void *buf, size_t len)
{
    size_t done = 0;
    int ret;

    if (len > INT32_MAX)
        len = INT32_MAX;
    ERR_clear_error();
    ret = SSL_write_ex(tls->ssl, buf, len, &done);
    if (ret == 1)
        return (int)done;
    return weir_tls_status(tls, ret, "write failed");
}

void
weir_tls_shutdown(weir_tls_t *tls)
{
    if (tls->handshake_done) {
        ERR_clear_error();
        (void)SSL_shutdown(tls->ssl);
        ERR_clear_error();
    }
}

const char *
weir_tls_error(const weir_tls_t *tls)
{
    return tls->err[0] ? tls->err : "unknown TLS error";
}

const char *
weir_tls_version(const weir_tls_t *tls)
{
    return SSL_get_version(tls->ssl);
}

const char *
weir_tls_cipher(const weir_tls_t *tls)
{
    const char *c = SSL_get_cipher_name(tls->ssl);
    return c ? c : "none";
}

int
weir_tls_peer_subject(weir_tls_t *tls, char **subject)
{
    X509 *cert = SSL_get0_peer_certificate(tls->ssl);
    BIO *mem;
    char *data = NULL;
    long n;

    *subject = NULL;
    if (!cert || SSL_get_verify_result(tls->ssl) != X509_V_OK)
        return -1;
    mem = BIO_new(BIO_s_mem());
    if (!mem)
        abort();
    /* RFC 2253 order and escaping, like Java's X500Principal.getName(), but
     * non-ASCII characters kept as UTF-8 rather than escaped. */
    X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0,
                       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    n = BIO_get_mem_data(mem, &data);
    *subject = weir_strndup(data ? data : "", n > 0 ? (size_t)n : 0);
    BIO_free(mem);
    return 0;
}

uint8_t *
weir_tls_chunk(weir_tls_t *tls, size_t *cap)
{
    if (!tls->chunk)
        tls->chunk = weir_malloc(WEIR_TLS_CHUNK);
    *cap = WEIR_TLS_CHUNK;
    return tls->chunk;
}
