/*
 * weir_tls.h: TLS for the SSL and SASL_SSL listeners with OpenSSL 3.
 *
 * Server contexts (SSL_CTX) are built from Kafka's ssl.* settings with PEM
 * files.  A context is reference-counted by OpenSSL: every connection's SSL
 * holds one, so a reload (SIGHUP) builds a new context for new connections
 * while open connections keep the one they started with.
 *
 * A connection's TLS state is an SSL object over a BIO pair: the connection
 * reads ciphertext from its non-blocking socket straight into the pair's
 * network end and writes what the pair holds for the network straight to
 * the socket (no copies), while the broker reads and writes plaintext with
 * weir_tls_read()/weir_tls_write().  Nothing here touches a socket.
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

/** A server-side connection state using ctx (takes its own reference). */
weir_tls_t *weir_tls_new(weir_ssl_ctx_t *ctx);
void weir_tls_free(weir_tls_t *tls);

/**
 * @brief Where the next ciphertext read from the socket goes.
 * @returns the contiguous free space at *p (0: the buffer is full; let the
 *          TLS layer consume first).
 */
size_t weir_tls_in_space(weir_tls_t *tls, uint8_t **p);
/** n bytes were read into the space given by weir_tls_in_space(). */
void weir_tls_in_commit(weir_tls_t *tls, size_t n);

/** Ciphertext waiting for the socket: contiguous bytes at *p. */
size_t weir_tls_out_pending(weir_tls_t *tls, const uint8_t **p);
/** n of those bytes were written to the socket. */
void weir_tls_out_consume(weir_tls_t *tls, size_t n);
/** Total ciphertext waiting for the socket. */
size_t weir_tls_out_total(weir_tls_t *tls);

/**
 * @brief Advances the handshake.
 * @returns 1 when complete, WEIR_TLS_WANT, or WEIR_TLS_FAILED / WEIR_TLS_CLOSED.
 */
int weir_tls_handshake(weir_tls_t *tls);
bool weir_tls_handshake_done(const weir_tls_t *tls);

/**
 * @brief Decrypts into buf.
 * @returns bytes (> 0), WEIR_TLS_WANT (needs more ciphertext), WEIR_TLS_CLOSED
 *          or WEIR_TLS_FAILED.
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
