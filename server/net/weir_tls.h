/*
 * weir_tls.h: TLS for the SSL and SASL_SSL listeners with OpenSSL 3.
 *
 * Server contexts (SSL_CTX) are built from Kafka's ssl.* settings with PEM
 * files or PEM text.  A context is reference-counted by OpenSSL: every connection's SSL
 * holds one, so a reload (SIGHUP) builds a new context for new connections
 * while open connections keep the one they started with.
 *
 * A connection's TLS state is an SSL object over a BIO of ours.  On a
 * socket (weir_tls_set_fd) OpenSSL reads ciphertext from it straight into
 * its record buffer and sends a lone record straight from its own buffer;
 * a run of records, and output the socket does not take at once, is kept
 * here until the connection writes it (weir_tls_out_pending).  Without a
 * socket, ciphertext goes in and out through memory (the unit tests).  The
 * broker reads and writes plaintext with weir_tls_read()/weir_tls_write().
 */
#ifndef WEIR_TLS_H
#define WEIR_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ssl_ctx_st weir_ssl_ctx_t; /* OpenSSL's SSL_CTX */

typedef enum weir_tls_client_auth_e {
    WEIR_TLS_CLIENT_AUTH_NONE = 0,
    WEIR_TLS_CLIENT_AUTH_REQUESTED,
    WEIR_TLS_CLIENT_AUTH_REQUIRED,
} weir_tls_client_auth_t;

/** The settings of one server context (Kafka's ssl.* keys). */
typedef struct weir_tls_conf_s {
    const char *keystore_location;   /* PEM: private key and certificate chain */
    const char *key_password;        /* for an encrypted private key, or NULL */
    const char *truststore_location; /* PEM CA certificates for client certs, or NULL */
    /* Kafka's PEM-in-config alternatives to the files (PEM text, see
     * weir_tls_pem_normalize): used when the matching location is NULL. */
    const char *keystore_certificate_chain; /* ssl.keystore.certificate.chain */
    const char *keystore_key;               /* ssl.keystore.key (a secret) */
    const char *truststore_certificates;    /* ssl.truststore.certificates */
    const char *enabled_protocols;   /* "TLSv1.2,TLSv1.3" */
    const char *cipher_suites;       /* comma-separated, IANA or OpenSSL names; NULL: default */
    weir_tls_client_auth_t client_auth;
} weir_tls_conf_t;

/**
 * @brief Builds a server context.  Files are read now.
 * @returns the context, or NULL with the reason in errstr.
 */
weir_ssl_ctx_t *weir_tls_ctx_new(const weir_tls_conf_t *conf, char *errstr, size_t errstr_size);
/** Drops the caller's reference (connections keep theirs). */
void weir_tls_ctx_free(weir_ssl_ctx_t *ctx);

/**
 * @brief Rewrites PEM text as Kafka accepts it in a configuration value -
 *        whole blocks "-----BEGIN <label>-----" base64 "-----END <label>-----"
 *        with any whitespace (or none) between and inside them, so that a
 *        value may sit on one line - into standard PEM for OpenSSL.
 * @param text the value.
 * @param label_suffix which blocks are taken: "CERTIFICATE" or "PRIVATE KEY"
 *        (labels ending in it: PRIVATE KEY, ENCRYPTED PRIVATE KEY, RSA
 *        PRIVATE KEY, EC PRIVATE KEY); other blocks are ignored.
 * @param count set to the number of blocks taken (may be NULL).
 * @returns a malloc'ed string, or NULL with the reason in errstr when no
 *          block is found or one is malformed.  The reason never quotes the
 *          text (it may be a private key).
 */
char *weir_tls_pem_normalize(const char *text, const char *label_suffix, int *count,
                             char *errstr, size_t errstr_size);

/**
 * @brief Checks an ssl.enabled.protocols value: a comma-separated list of
 *        TLSv1.2 and TLSv1.3.  Gives the lowest and highest versions.
 * @returns 0 or -1 with the reason in errstr.
 */
int weir_tls_protocols_parse(const char *list, int *min_version, int *max_version, char *errstr,
                             size_t errstr_size);

/** One connection's TLS state. */
typedef struct weir_tls_s weir_tls_t;

#define WEIR_TLS_WANT 0          /* no progress now: wait for socket I/O */
#define WEIR_TLS_CLOSED (-1)     /* the peer sent close_notify */
#define WEIR_TLS_FAILED (-2)     /* protocol error; weir_tls_error() says why */
#define WEIR_TLS_EOF (-3)        /* the socket ended (or reset) without close_notify */

/** A server-side connection state using ctx (takes its own reference). */
weir_tls_t *weir_tls_new(weir_ssl_ctx_t *ctx);
void weir_tls_free(weir_tls_t *tls);

/**
 * @brief Puts the TLS state on a non-blocking socket: OpenSSL then reads
 *        ciphertext with read(2) straight into its record buffer (reading
 *        ahead: about one system call per record) and writes a lone record
 *        with send(2) straight from it; runs of records (weir_tls_set_more)
 *        and what the socket does not take at once wait in
 *        weir_tls_out_pending().  Reads then need no
 *        weir_tls_in_space(): weir_tls_read() and weir_tls_handshake() pull
 *        from the socket, and report its end as WEIR_TLS_EOF.
 */
void weir_tls_set_fd(weir_tls_t *tls, int fd);

/**
 * @brief Socket mode: whether more records follow the next weir_tls_write()
 *        at once.  While set, records are kept (up to 64 KiB) for the
 *        caller to write together (weir_tls_out_pending), one write(2) for
 *        several records; while clear, a record goes straight to the socket
 *        when nothing is waiting.
 */
void weir_tls_set_more(weir_tls_t *tls, bool more);

/** Largest plaintext of one TLS record (one weir_tls_write() encrypts at most this). */
#define WEIR_TLS_RECORD_MAX 16384

/**
 * @brief Where the next ciphertext read from the socket goes (in-memory
 *        mode, without weir_tls_set_fd).
 * @returns the contiguous free space at *p (0: the buffer is full; let the
 *          TLS layer consume first).
 */
size_t weir_tls_in_space(weir_tls_t *tls, uint8_t **p);
/** n bytes were read into the space given by weir_tls_in_space(). */
void weir_tls_in_commit(weir_tls_t *tls, size_t n);

/** Ciphertext waiting for the socket (the socket was full): contiguous bytes at *p. */
size_t weir_tls_out_pending(weir_tls_t *tls, const uint8_t **p);
/** n of those bytes were written to the socket. */
void weir_tls_out_consume(weir_tls_t *tls, size_t n);
/** Total ciphertext waiting for the socket. */
size_t weir_tls_out_total(weir_tls_t *tls);

/**
 * @brief Advances the handshake.
 * @returns 1 when complete, WEIR_TLS_WANT, or WEIR_TLS_FAILED / WEIR_TLS_CLOSED /
 *          WEIR_TLS_EOF.
 */
int weir_tls_handshake(weir_tls_t *tls);
bool weir_tls_handshake_done(const weir_tls_t *tls);

/**
 * @brief Decrypts into buf.
 * @returns bytes (> 0), WEIR_TLS_WANT (needs more ciphertext), WEIR_TLS_CLOSED,
 *          WEIR_TLS_EOF (socket mode) or WEIR_TLS_FAILED.
 */
int weir_tls_read(weir_tls_t *tls, void *buf, size_t len);

/** True if decrypted or undecrypted input is buffered (worth a weir_tls_read). */
bool weir_tls_input_buffered(weir_tls_t *tls);

/**
 * @brief Encrypts up to len bytes (at least one record's worth when it
 *        returns > 0).  After WEIR_TLS_WANT the same bytes must be offered
 *        again once ciphertext has been written out.
 * @returns bytes consumed (> 0), WEIR_TLS_WANT (the network buffer is full),
 *          or WEIR_TLS_FAILED.
 */
int weir_tls_write(weir_tls_t *tls, const void *buf, size_t len);

/** Queues a close_notify alert (best effort). */
void weir_tls_shutdown(weir_tls_t *tls);

/** The reason of the last WEIR_TLS_FAILED. */
const char *weir_tls_error(const weir_tls_t *tls);

/** Negotiated protocol and cipher, for the log ("TLSv1.3", "TLS_AES_256_GCM_SHA384"). */
const char *weir_tls_version(const weir_tls_t *tls);
const char *weir_tls_cipher(const weir_tls_t *tls);

/**
 * @brief The verified client certificate's subject in RFC 2253 form
 *        ("CN=alice,OU=eng,O=Campus"), as Java's X500Principal.getName().
 * @returns 0 with a malloc'ed string, or -1 when the client sent none.
 */
int weir_tls_peer_subject(weir_tls_t *tls, char **subject);

/** Scratch buffer used to stream file ranges through TLS (64 KiB, lazily made). */
uint8_t *weir_tls_chunk(weir_tls_t *tls, size_t *cap);

#endif
