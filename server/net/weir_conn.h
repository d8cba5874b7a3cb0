/*
 * weir_conn.h: listeners and client connections on the loop thread.
 *
 * Sockets are driven with uv_poll_t and plain non-blocking syscalls (accept4,
 * read, writev, sendfile) so that fetched file ranges can be sent with
 * sendfile(2) straight from the page cache.
 *
 * Ordering: frames are processed one at a time in arrival order.  A handler
 * either answers at once or defers (long-poll Fetch, acks=all waiting for
 * fsync); while a request is deferred the connection processes nothing more
 * and stops reading once its input buffer holds a full frame, so responses
 * leave in request order without any reordering.  Other connections are
 * never delayed by a deferred request.
 *
 * SSL and SASL_SSL connections run TLS (weir_tls.h) between the socket and
 * the framing: ciphertext is read into and written from the TLS layer's
 * buffers, and file ranges are read in bounded chunks (pread) and encrypted
 * instead of being sent with sendfile.  On SASL listeners only ApiVersions,
 * SaslHandshake and SaslAuthenticate are served until the sign-on succeeds
 * (weir_api_sasl.c); after SaslHandshake v0 the next frame is a raw SASL
 * token rather than a Kafka request.
 */
#ifndef WEIR_CONN_H
#define WEIR_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "weir_auth.h"
#include "weir_msg.h"

typedef struct weir_broker_s weir_broker_t;
typedef struct weir_req_s weir_req_t;
typedef struct weir_tls_s weir_tls_t;
typedef struct ssl_ctx_st weir_ssl_ctx_t;

/* Where a SASL listener's connection is in the sign-on exchange. */
typedef enum weir_sasl_state_e {
    WEIR_SASL_NONE = 0,     /* not a SASL listener */
    WEIR_SASL_HANDSHAKE,    /* expecting SaslHandshake (ApiVersions allowed) */
    WEIR_SASL_AUTHENTICATE, /* after SaslHandshake v1: expecting SaslAuthenticate */
    WEIR_SASL_RAW,          /* after SaslHandshake v0: the next frame is a raw SASL token */
    WEIR_SASL_DONE,         /* authenticated */
    WEIR_SASL_FAILED,       /* failed: the connection is closing */
} weir_sasl_state_t;

typedef struct weir_listener_s {
    uv_poll_t poll;
    int fd;
    char *name;         /* listener name, e.g. PLAINTEXT */
    char *host;         /* bind host */
    int port;           /* bound port (resolved when 0 was configured) */
    char *adv_host;     /* advertised host */
    int adv_port;       /* advertised port */
    weir_broker_t *brk;
    bool closed;
    int security;             /* weir_secproto_t */
    weir_ssl_ctx_t *ssl_ctx;  /* SSL, SASL_SSL: context for new connections */
} weir_listener_t;

typedef struct weir_conn_s {
    uv_poll_t poll;
    int fd;
    uint64_t id;
    char peer[64];
    weir_listener_t *lst;
    weir_broker_t *brk;

    uint8_t *rbuf;      /* input bytes not yet processed */
    size_t rlen, rcap;

    weir_msg_t *out_head, *out_tail;
    size_t out_bytes;   /* queued, not yet written */

    weir_req_t *cur;    /* request being served (deferred) or NULL */
    int poll_events;    /* events currently requested from uv_poll */
    bool in_process;    /* inside weir_conn_process(): flush once at the end */
    bool closing;
    int64_t last_active_ms;

    /* Security (SSL, SASL_*) */
    weir_tls_t *tls;          /* TLS state on SSL and SASL_SSL listeners, else NULL */
    size_t tls_stage_len;     /* plaintext staged for encryption (output queue bytes) */
    size_t tls_stage_pos;     /* ... of which already encrypted */
    bool in_drain;            /* inside the TLS input drain */
    weir_principal_t principal; /* User:ANONYMOUS until authenticated */
    weir_sasl_state_t sasl_state;
    bool sasl_authenticated;  /* a SASL sign-on succeeded (stays set during re-auth) */
    int16_t sasl_auth_version; /* SaslAuthenticate version used (-1: raw frames) */
    int64_t session_expiry_ms; /* monotonic; 0: no expiry (connections.max.reauth.ms) */
    bool close_pending;       /* close once the queued output is written */
    bool close_quiet;         /* ... and log that close at debug level */
    char *close_reason;

    struct weir_conn_s *prev, *next; /* broker's connection list */
} weir_conn_t;

/* Binds and listens; returns 0 or -errno with errstr set. */
int weir_listener_open(weir_broker_t *brk, weir_listener_t *lst, char *errstr, size_t errstr_size);
/* Stops accepting (closes the listening socket). */
void weir_listener_close(weir_listener_t *lst);

/* Queues a finished message for sending (takes ownership). */
void weir_conn_send(weir_conn_t *conn, weir_msg_t *msg);
/* The current request is finished (answered or needs no answer): process
 * the next buffered frame, if any. */
void weir_conn_request_done(weir_conn_t *conn);
/* Closes the connection (idempotent); deferred requests are cancelled. */
void weir_conn_close(weir_conn_t *conn, const char *reason);
/* Stops reading and processing, closes the connection once the queued
 * output has been written (e.g. after a SaslAuthenticate failure).  quiet
 * logs the close at debug level (failures already reported once). */
void weir_conn_close_after_write(weir_conn_t *conn, const char *reason, bool quiet);

#endif
