/*
 * weir_tls.c: OpenSSL server contexts from Kafka's ssl.* settings and the
 * per-connection TLS state over a BIO pair (see weir_tls.h).
 */
#include "weir_tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "weir_common.h"

/* Ciphertext buffers: room for two full TLS records coming in (in-memory
 * mode only) and four going out; allocated when first needed.  The staging
 * chunk is allocated on a connection's first response. */
#define WEIR_TLS_NET_IN (40 * 1024)
#define WEIR_TLS_NET_OUT (64 * 1024)
#define WEIR_TLS_CHUNK (64 * 1024)
/* TLS 1.3 suites without ssl.cipher.suites: OpenSSL's three, AES-128-GCM
 * first (the broker's preference applies): as strong a choice for TLS 1.3,
 * and about 15% less CPU per byte than AES-256-GCM on both ends. */
#define WEIR_TLS13_DEFAULT_SUITES                                                              \
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

struct weir_tls_s {
    SSL *ssl;
    BIO *bio;          /* weir_tls_bio_meth: both directions; the SSL owns it */
    int fd;            /* the socket, or -1 (in-memory: weir_tls_in_space/out_pending) */
    uint8_t *in;       /* in-memory mode: ciphertext not yet given to OpenSSL */
    size_t in_off, in_len;
    uint8_t *out;      /* ciphertext not yet written to the socket */
    size_t out_off, out_len;
    bool more;         /* more records follow at once: queue them (weir_tls_set_more) */
    bool eof;          /* read(2) gave end of file */
    int sock_errno;    /* a socket error, or 0 */
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
/* PEM text in configuration values                                   */

typedef struct weir_tls_sbuf_s {
    char *p;
    size_t len, cap;
} weir_tls_sbuf_t;

static void
weir_tls_sbuf_add(weir_tls_sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = WEIR_MAX(b->cap * 2, b->len + n + 1);
        char *np = weir_malloc(cap);
        /* The text may be a private key: no realloc leaving copies behind. */
        if (b->p) {
            memcpy(np, b->p, b->len);
            OPENSSL_cleanse(b->p, b->cap);
            free(b->p);
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void
weir_tls_sbuf_wipe(weir_tls_sbuf_t *b)
{
    if (b->p) {
        OPENSSL_cleanse(b->p, b->cap);
        free(b->p);
    }
    b->p = NULL;
    b->len = b->cap = 0;
}

static bool
weir_tls_pem_label_ok(const char *label, size_t len, const char *suffix)
{
    size_t sl = strlen(suffix);

    if (len == sl && memcmp(label, suffix, sl) == 0)
        return true;
    /* ENCRYPTED PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY; certificates
     * only as CERTIFICATE. */
    return strcmp(suffix, "PRIVATE KEY") == 0 && len > sl + 1 && label[len - sl - 1] == ' ' &&
           memcmp(label + len - sl, suffix, sl) == 0;
}

char *
weir_tls_pem_normalize(const char *text, const char *label_suffix, int *count, char *errstr,
                       size_t errstr_size)
{
    weir_tls_sbuf_t out = {0};
    const char *p = text;
    int n = 0;

    if (count)
        *count = 0;
    for (;;) {
        const char *b = strstr(p, "-----BEGIN "), *ls, *le, *body, *e;
        char endmark[96];
        size_t llen, col = 0;
        bool take;

        if (!b)
            break;
        ls = b + 11;
        le = strstr(ls, "-----");
        if (!le || le - ls > 64 || memchr(ls, '\n', (size_t)(le - ls))) {
            snprintf(errstr, errstr_size, "malformed -----BEGIN line");
            goto fail;
        }
        llen = (size_t)(le - ls);
        body = le + 5;
        snprintf(endmark, sizeof(endmark), "-----END %.*s-----", (int)llen, ls);
        e = strstr(body, endmark);
        if (!e) {
            snprintf(errstr, errstr_size, "no %s after -----BEGIN %.*s-----", endmark, (int)llen,
                     ls);
            goto fail;
        }
        take = weir_tls_pem_label_ok(ls, llen, label_suffix);
        if (take && memchr(body, ':', (size_t)(e - body))) {
            snprintf(errstr, errstr_size, "-----BEGIN %.*s----- block: PEM headers (Proc-Type, "
                     "DEK-Info) are not supported; use PKCS#8 (ENCRYPTED PRIVATE KEY) for an "
                     "encrypted key", (int)llen, ls);
            goto fail;
        }
        if (take) {
            size_t chars = 0;

            weir_tls_sbuf_add(&out, "-----BEGIN ", 11);
            weir_tls_sbuf_add(&out, ls, llen);
            weir_tls_sbuf_add(&out, "-----\n", 6);
            for (const char *c = body; c < e; c++) {
                if (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n' || *c == '\f')
                    continue;
                if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                      (*c >= '0' && *c <= '9') || *c == '+' || *c == '/' || *c == '=')) {
                    snprintf(errstr, errstr_size, "-----BEGIN %.*s----- block: a character "
                             "outside base64", (int)llen, ls);
                    goto fail;
                }
                weir_tls_sbuf_add(&out, c, 1);
                chars++;
                if (++col == 64) {
                    weir_tls_sbuf_add(&out, "\n", 1);
                    col = 0;
                }
            }
            if (chars == 0) {
                snprintf(errstr, errstr_size, "-----BEGIN %.*s----- block is empty", (int)llen,
                         ls);
                goto fail;
            }
            if (col)
                weir_tls_sbuf_add(&out, "\n", 1);
            weir_tls_sbuf_add(&out, endmark, strlen(endmark));
            weir_tls_sbuf_add(&out, "\n", 1);
            n++;
        }
        p = e + strlen(endmark);
    }
    if (n == 0) {
        snprintf(errstr, errstr_size, "no -----BEGIN %s----- block", label_suffix);
        goto fail;
    }
    if (count)
        *count = n;
    return out.p;
fail:
    weir_tls_sbuf_wipe(&out);
    return NULL;
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

/* The key store from ssl.keystore.certificate.chain and ssl.keystore.key
 * (PEM text): the leaf certificate first, then its chain; one private key,
 * decrypted with ssl.key.password when it is encrypted.  The key's text is
 * wiped once read. */
static int
weir_tls_use_pem_keystore(SSL_CTX *ctx, const weir_tls_conf_t *conf, char *errstr,
                          size_t errstr_size)
{
    char err[200], *chain = NULL, *key = NULL;
    BIO *bio = NULL;
    X509 *x;
    EVP_PKEY *pk;
    int nkeys = 0, rc = -1;

    chain = weir_tls_pem_normalize(conf->keystore_certificate_chain, "CERTIFICATE", NULL, err,
                                   sizeof(err));
    if (!chain) {
        snprintf(errstr, errstr_size, "ssl.keystore.certificate.chain: %s", err);
        goto out;
    }
    bio = BIO_new_mem_buf(chain, -1);
    if (!bio)
        abort();
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (!x || SSL_CTX_use_certificate(ctx, x) != 1) {
        X509_free(x);
        weir_tls_errq(errstr, errstr_size, "ssl.keystore.certificate.chain: no usable "
                      "certificate");
        goto out;
    }
    X509_free(x);
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
            X509_free(x);
            weir_tls_errq(errstr, errstr_size, "ssl.keystore.certificate.chain: a chain "
                          "certificate is refused");
            goto out;
        }
    }
    ERR_clear_error(); /* the end of the chain */
    BIO_free(bio);
    bio = NULL;

    key = weir_tls_pem_normalize(conf->keystore_key, "PRIVATE KEY", &nkeys, err, sizeof(err));
    if (!key) {
        snprintf(errstr, errstr_size, "ssl.keystore.key: %s", err);
        goto out;
    }
    if (nkeys != 1) {
        snprintf(errstr, errstr_size, "ssl.keystore.key: expected one private key, found %d",
                 nkeys);
        goto out;
    }
    bio = BIO_new_mem_buf(key, -1);
    if (!bio)
        abort();
    pk = PEM_read_bio_PrivateKey(bio, NULL, weir_tls_passwd_cb, (void *)conf->key_password);
    if (!pk || SSL_CTX_use_PrivateKey(ctx, pk) != 1) {
        EVP_PKEY_free(pk);
        weir_tls_errq(errstr, errstr_size, "ssl.keystore.key: no usable private key (wrong or "
                      "missing ssl.key.password?)");
        goto out;
    }
    EVP_PKEY_free(pk);
    rc = 0;
out:
    BIO_free(bio);
    free(chain);
    if (key) {
        OPENSSL_cleanse(key, strlen(key));
        free(key);
    }
    return rc;
}

/* The trust store from ssl.truststore.certificates (PEM text); the same
 * certificates name the acceptable CAs to clients. */
static int
weir_tls_use_pem_truststore(SSL_CTX *ctx, const char *text, char *errstr, size_t errstr_size)
{
    char err[200], *pem = weir_tls_pem_normalize(text, "CERTIFICATE", NULL, err, sizeof(err));
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509_NAME) *names;
    BIO *bio;
    X509 *x;
    int n = 0;

    if (!pem) {
        snprintf(errstr, errstr_size, "ssl.truststore.certificates: %s", err);
        return -1;
    }
    bio = BIO_new_mem_buf(pem, -1);
    names = sk_X509_NAME_new_null();
    if (!bio || !names)
        abort();
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        X509_NAME *nm = X509_NAME_dup(X509_get_subject_name(x));
        if (X509_STORE_add_cert(store, x) != 1 || !nm || !sk_X509_NAME_push(names, nm)) {
            X509_NAME_free(nm);
            X509_free(x);
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            BIO_free(bio);
            free(pem);
            weir_tls_errq(errstr, errstr_size, "ssl.truststore.certificates: a certificate is "
                          "refused");
            return -1;
        }
        X509_free(x);
        n++;
    }
    ERR_clear_error();
    BIO_free(bio);
    free(pem);
    if (n == 0) {
        sk_X509_NAME_free(names);
        snprintf(errstr, errstr_size, "ssl.truststore.certificates: no usable certificate");
        return -1;
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    return 0;
}

weir_ssl_ctx_t *
weir_tls_ctx_new(const weir_tls_conf_t *conf, char *errstr, size_t errstr_size)
{
    SSL_CTX *ctx;
    int lo, hi, mode;
    static const unsigned char sid_ctx[] = "weir";

    ERR_clear_error();
    if (!conf->keystore_location &&
        (!conf->keystore_certificate_chain || !conf->keystore_key)) {
        snprintf(errstr, errstr_size, conf->keystore_certificate_chain || conf->keystore_key
                 ? "ssl.keystore.certificate.chain and ssl.keystore.key must be set together"
                 : "ssl.keystore.location is not set");
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
    if (conf->keystore_location) {
        if (SSL_CTX_use_certificate_chain_file(ctx, conf->keystore_location) != 1) {
            weir_tls_errq(errstr, errstr_size,
                          "ssl.keystore.location: no usable certificate chain");
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, conf->keystore_location, SSL_FILETYPE_PEM) != 1) {
            weir_tls_errq(errstr, errstr_size, "ssl.keystore.location: no usable private key "
                          "(wrong or missing ssl.key.password?)");
            goto fail;
        }
    } else if (weir_tls_use_pem_keystore(ctx, conf, errstr, errstr_size) != 0) {
        goto fail;
    }
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    if (SSL_CTX_check_private_key(ctx) != 1) {
        weir_tls_errq(errstr, errstr_size, conf->keystore_location
                      ? "ssl.keystore.location: the private key does not match the certificate"
                      : "ssl.keystore.key: the private key does not match "
                        "ssl.keystore.certificate.chain");
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
    } else if (conf->truststore_certificates) {
        if (weir_tls_use_pem_truststore(ctx, conf->truststore_certificates, errstr,
                                        errstr_size) != 0)
            goto fail;
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
    if (conf->cipher_suites && conf->cipher_suites[0]) {
        if (weir_tls_set_ciphers(ctx, conf->cipher_suites, errstr, errstr_size) != 0)
            goto fail;
    } else if (!SSL_CTX_set_ciphersuites(ctx, WEIR_TLS13_DEFAULT_SUITES)) {
        weir_tls_errq(errstr, errstr_size, "cannot set the default TLS 1.3 suites");
        goto fail;
    }
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

/* ------------------------------------------------------------------ */
/* The connection's BIO                                               */

/*
 * One BIO for both directions, instead of a BIO pair, so that ciphertext
 * is copied as little as possible: on a socket, OpenSSL's reads go
 * straight to read(2) into its record buffer (reading ahead), and a lone
 * record (a small response) goes straight to send(2) from OpenSSL's
 * buffer.  Runs of records (weir_tls_set_more: a large response) are
 * gathered in tls->out and written by the connection with one write(2) per
 * ~48 KiB (weir_tls_out_pending): on loopback, where the receiver's TCP
 * work runs inside the sender's system call, one send per 16 KiB record
 * costs more CPU than copying the records once.  What the socket does not
 * take at once waits in tls->out as well (up to WEIR_TLS_NET_OUT bytes,
 * then OpenSSL is told to retry).  Without a socket (the unit tests),
 * ciphertext comes in through weir_tls_in_space()/weir_tls_in_commit() and
 * everything written waits in tls->out.
 */

static int
weir_tls_bio_write(BIO *b, const char *data, size_t len, size_t *written)
{
    weir_tls_t *t = BIO_get_data(b);
    size_t done = 0;

    BIO_clear_retry_flags(b);
    *written = 0;
    if (t->sock_errno)
        return 0;
    if (t->fd >= 0 && t->out_len == t->out_off && !t->more) {
        /* Nothing queued: straight to the socket. */
        while (done < len) {
            ssize_t w = send(t->fd, data + done, len - done, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                t->sock_errno = errno;
                if (done == 0)
                    return 0;
                break;
            }
            done += (size_t)w;
        }
        if (done == len || t->sock_errno) {
            *written = done;
            return 1;
        }
    }
    /* Queue the rest while there is room; past that OpenSSL keeps the
     * record and tries again (the caller offers the same bytes again). */
    if (t->out_len - t->out_off + (len - done) > WEIR_TLS_NET_OUT && t->out_len > t->out_off) {
        if (done > 0) {
            *written = done;
            return 1;
        }
        BIO_set_retry_write(b);
        return 0;
    }
    if (!t->out)
        t->out = weir_malloc(WEIR_TLS_NET_OUT + 32 * 1024);
    if (t->out_off > 0 && t->out_len + (len - done) > WEIR_TLS_NET_OUT + 32 * 1024) {
        memmove(t->out, t->out + t->out_off, t->out_len - t->out_off);
        t->out_len -= t->out_off;
        t->out_off = 0;
    }
    if (t->out_len + (len - done) > WEIR_TLS_NET_OUT + 32 * 1024) {
        /* One record larger than the whole buffer cannot happen (records
         * are at most 16 KiB plus overhead); be safe anyway. */
        if (done > 0) {
            *written = done;
            return 1;
        }
        BIO_set_retry_write(b);
        return 0;
    }
    memcpy(t->out + t->out_len, data + done, len - done);
    t->out_len += len - done;
    *written = len;
    return 1;
}

static int
weir_tls_bio_read(BIO *b, char *data, size_t len, size_t *readbytes)
{
    weir_tls_t *t = BIO_get_data(b);

    BIO_clear_retry_flags(b);
    *readbytes = 0;
    if (t->in_len > t->in_off) {
        size_t n = WEIR_MIN(len, t->in_len - t->in_off);
        memcpy(data, t->in + t->in_off, n);
        t->in_off += n;
        if (t->in_off == t->in_len)
            t->in_off = t->in_len = 0;
        *readbytes = n;
        return 1;
    }
    if (t->fd < 0) {
        BIO_set_retry_read(b);
        return 0;
    }
    if (t->eof || t->sock_errno)
        return 0;
    for (;;) {
        ssize_t n = read(t->fd, data, len);
        if (n > 0) {
            *readbytes = (size_t)n;
            return 1;
        }
        if (n == 0) {
            t->eof = true;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            BIO_set_retry_read(b);
            return 0;
        }
        t->sock_errno = errno;
        return 0;
    }
}

static long
weir_tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    weir_tls_t *t = BIO_get_data(b);

    WEIR_UNUSED(num);
    WEIR_UNUSED(ptr);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return t ? (long)(t->in_len - t->in_off) : 0;
    case BIO_CTRL_WPENDING:
        return t ? (long)(t->out_len - t->out_off) : 0;
    case BIO_CTRL_EOF:
        return t && t->eof;
    default:
        return 0;
    }
}

static int
weir_tls_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *weir_tls_bio_meth;

static void
weir_tls_bio_meth_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "weir_tls");

    if (!m || !BIO_meth_set_write_ex(m, weir_tls_bio_write) ||
        !BIO_meth_set_read_ex(m, weir_tls_bio_read) ||
        !BIO_meth_set_ctrl(m, weir_tls_bio_ctrl) || !BIO_meth_set_create(m, weir_tls_bio_create))
        abort();
    weir_tls_bio_meth = m;
}

weir_tls_t *
weir_tls_new(weir_ssl_ctx_t *ctx)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    weir_tls_t *tls = weir_calloc(1, sizeof(*tls));

    pthread_once(&once, weir_tls_bio_meth_init);
    tls->fd = -1;
    tls->ssl = SSL_new(ctx);
    tls->bio = tls->ssl ? BIO_new(weir_tls_bio_meth) : NULL;
    if (!tls->ssl || !tls->bio) {
        /* Only memory exhaustion gets here. */
        fprintf(stderr, "level=fatal event=out_of_memory what=tls\n");
        abort();
    }
    BIO_set_data(tls->bio, tls);
    SSL_set_bio(tls->ssl, tls->bio, tls->bio); /* one reference, owned by the SSL */
    SSL_set_accept_state(tls->ssl);
    return tls;
}

void
weir_tls_set_fd(weir_tls_t *tls, int fd)
{
    tls->fd = fd;
    /* Read ahead into OpenSSL's record buffer, left at its default size
     * (one full record and its overhead): each read(2) then takes the rest
     * of a record and the start of the next, about one system call per
     * record instead of two (header, then body).  A larger buffer reads
     * more per call, but OpenSSL (3.0) moves the unread rest of it to the
     * front before every record, which costs more than it saves. */
    SSL_set_read_ahead(tls->ssl, 1);
}

void
weir_tls_set_more(weir_tls_t *tls, bool more)
{
    tls->more = more;
}

void
weir_tls_free(weir_tls_t *tls)
{
    if (!tls)
        return;
    SSL_free(tls->ssl); /* frees the BIO */
    free(tls->in);
    free(tls->out);
    free(tls->chunk);
    free(tls);
}

size_t
weir_tls_in_space(weir_tls_t *tls, uint8_t **p)
{
    if (!tls->in)
        tls->in = weir_malloc(WEIR_TLS_NET_IN);
    if (tls->in_off > 0) {
        memmove(tls->in, tls->in + tls->in_off, tls->in_len - tls->in_off);
        tls->in_len -= tls->in_off;
        tls->in_off = 0;
    }
    *p = tls->in + tls->in_len;
    return WEIR_TLS_NET_IN - tls->in_len;
}

void
weir_tls_in_commit(weir_tls_t *tls, size_t n)
{
    tls->in_len += n;
}

size_t
weir_tls_out_pending(weir_tls_t *tls, const uint8_t **p)
{
    if (tls->out_len == tls->out_off)
        return 0;
    *p = tls->out + tls->out_off;
    return tls->out_len - tls->out_off;
}

void
weir_tls_out_consume(weir_tls_t *tls, size_t n)
{
    tls->out_off += n;
    if (tls->out_off == tls->out_len)
        tls->out_off = tls->out_len = 0;
}

size_t
weir_tls_out_total(weir_tls_t *tls)
{
    return tls->out_len - tls->out_off;
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
        if (tls->sock_errno) {
            ERR_clear_error();
            snprintf(tls->err, sizeof(tls->err), "%s: %s", what, strerror(tls->sock_errno));
            return tls->sock_errno == ECONNRESET || tls->sock_errno == EPIPE ? WEIR_TLS_EOF
                                                                              : WEIR_TLS_FAILED;
        }
        if (tls->eof) {
            ERR_clear_error();
            return WEIR_TLS_EOF;
        }
        /* An empty queue means the peer's data ended without close_notify. */
        weir_tls_errq(tls->err, sizeof(tls->err), what);
        if (strcmp(tls->err, what) == 0)
            snprintf(tls->err, sizeof(tls->err), "%s: unexpected end of stream", what);
        return WEIR_TLS_FAILED;
    default:
        if (tls->eof && tls->in_len == tls->in_off) {
            /* The socket ended mid-record or without close_notify. */
            ERR_clear_error();
            return WEIR_TLS_EOF;
        }
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

    /* The queue is emptied after every failure (weir_tls_errq): clear it
     * only if something else left an entry (ERR_clear_error costs more
     * than a look). */
    if (ERR_peek_error())
        ERR_clear_error();
    ret = SSL_read_ex(tls->ssl, buf, len, &got);
    if (ret == 1)
        return (int)got;
    return weir_tls_status(tls, ret, "read failed");
}

bool
weir_tls_input_buffered(weir_tls_t *tls)
{
    /* Decrypted bytes, records read ahead, or in-memory ciphertext. */
    return SSL_has_pending(tls->ssl) || tls->in_len > tls->in_off;
}

int
weir_tls_write(weir_tls_t *tls, const void *buf, size_t len)
{
    size_t done = 0;
    int ret;

    if (len > INT32_MAX)
        len = INT32_MAX;
    if (ERR_peek_error())
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
