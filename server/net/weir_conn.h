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
 * the framing: OpenSSL reads ciphertext from the socket into its record
 * buffer and decrypts into the input buffer; output is staged in a reusable
 * 64 KiB chunk (memory pieces copied, file ranges read with pread, so a
 * large fetch never sits in memory whole) and encrypted, a run of records
 * written with one write(2).  On SASL listeners only ApiVersions,
 * SaslHandshake and SaslAuthenticate are served until the sign-on succeeds
 * (weir_api_sasl.c); after SaslHandshake v0 the next frame is a raw SASL
 * token rather than a Kafka request.
 *
 * The framing above the socket is per listener (weir_conn_proto_t): Kafka's
 * size-prefixed frames by default, HTTP/1.1 on the HTTP listeners
 * (server/http).  Accepting, TLS, the output queue, backpressure and
 * closing are shared.
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

typedef struct weir_conn_s weir_conn_t;

/**
 * The protocol spoken on a listener's connections: how buffered input
 * becomes requests.  Every hook runs on the loop thread.
 */
typedef struct weir_conn_proto_s {
    const char *name;                 /* "kafka", "http" (logs) */
    /** A connection was accepted (set up conn->proto_state). */
    void (*on_open)(weir_conn_t *conn);
    /** Input was added to conn->rbuf/rlen: handle the complete requests
     *  while none is in service, consuming what was handled. */
    void (*process)(weir_conn_t *conn);
    /** True while enough input is buffered that reading should pause. */
    bool (*input_full)(const weir_conn_t *conn);
    /** True while a request is in service (answered later). */
    bool (*busy)(const weir_conn_t *conn);
    /** The connection is closing: cancel the request in service. */
    void (*on_close)(weir_conn_t *conn);
    /** The connection's memory is about to be freed (libuv's close
     *  callback, outside any other hook): free conn->proto_state. */
    void (*on_free)(weir_conn_t *conn);
    /** Housekeeping (about once a second; now: monotonic ms): idle and
     *  request timeouts. */
    void (*tick)(weir_conn_t *conn, int64_t now_ms);
    /** End of input from the peer while no request is in service (a half
     *  close after whole requests) lets the requests already received be
     *  answered before the connection closes (HTTP); otherwise, and always
     *  while a request is in service (the client gave up), it closes at
     *  once. */
    bool eof_drains;
} weir_conn_proto_t;

/** Kafka's framing (the default of a listener whose proto is NULL). */
extern const weir_conn_proto_t weir_conn_kafka_proto;

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
    struct weir_principal_map_s *principal_map; /* its ssl.principal.mapping.rules (Kafka
                                                 * TLS listeners; NULL: the broker's) */
    const weir_conn_proto_t *proto; /* NULL: Kafka */
    void *proto_arg;          /* the protocol's server object (HTTP: weir_http_server_t) */
    /* Counters for /metrics (loop thread). */
    uint64_t accepted;        /* connections accepted */
    uint64_t auth_failures;   /* failed sign-ons (SASL, HTTP Basic, unmapped certificates) */
} weir_listener_t;

struct weir_conn_s {
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
    bool peer_eof;            /* the peer half-closed (eof_drains protocols) */
    bool close_linger;        /* ... and linger after that write (see below) */
    bool lingering;           /* answer written, write side shut, discarding input */
    int64_t linger_until_ms;  /* monotonic end of the lingering */
    size_t linger_bytes;      /* input discarded while lingering */

    void *proto_state;        /* the protocol's per-connection state (HTTP) */

    /* Governance (governance/weir_authz.h): the authorization session, and
     * quota throttling - while muted nothing more is read or processed. */
    struct weir_authz_session_s *authz;
    bool muted;
    uv_timer_t *mute_timer;

    struct weir_conn_s *prev, *next; /* broker's connection list */
};

#define WEIR_CONN_LINGER_MS 2000
#define WEIR_CONN_LINGER_BYTES (64u << 20)

/* Binds and listens; returns 0 or -errno with errstr set. */
int weir_listener_open(weir_broker_t *brk, weir_listener_t *lst, char *errstr, size_t errstr_size);
/* Stops accepting (closes the listening socket). */
void weir_listener_close(weir_listener_t *lst);

/* Queues a finished message for sending (takes ownership). */
void weir_conn_send(weir_conn_t *conn, weir_msg_t *msg);
/* The current request is finished (answered or needs no answer): process
 * the next buffered frame, if any. */
void weir_conn_request_done(weir_conn_t *conn);
/* The protocol layer finished the request in service: handle further
 * buffered input and write what is queued (unless called from inside the
 * protocol's process hook, which the caller then finishes). */
void weir_conn_resume(weir_conn_t *conn);
/* Closes the connection (idempotent); deferred requests are cancelled. */
void weir_conn_close(weir_conn_t *conn, const char *reason);
/* Stops reading and processing, closes the connection once the queued
 * output has been written (e.g. after a SaslAuthenticate failure).  quiet
 * logs the close at debug level (failures already reported once). */
void weir_conn_close_after_write(weir_conn_t *conn, const char *reason, bool quiet);
/* As weir_conn_close_after_write(), for an answer that refuses a request
 * whose client may still be sending (HTTP 413, a malformed request): once
 * the answer is written the write side is shut (TLS: after close_notify)
 * and what the client still sends is read and thrown away for up to
 * WEIR_CONN_LINGER_MS or WEIR_CONN_LINGER_BYTES, until its end of input.
 * Closing at once with unread input makes the kernel reset the
 * connection, which can destroy the answer before the client reads it
 * (nginx's lingering close). */
void weir_conn_close_after_write_linger(weir_conn_t *conn, const char *reason, bool quiet);
/* Graceful shutdown: nothing more is read or started; the request in
 * service (if any) is finished, its response written, then the connection
 * closes.  An idle connection closes now. */
void weir_conn_drain(weir_conn_t *conn, const char *reason);
/* Quota throttling: reads and processes nothing more for ms milliseconds
 * (queued responses still go out), as Kafka mutes a throttled channel. */
void weir_conn_mute(weir_conn_t *conn, int32_t ms);
/* Housekeeping (about once a second): idle timeouts of the protocol. */
void weir_conn_tick(weir_conn_t *conn, int64_t now_ms);
/* The protocol of a connection's listener. */
const weir_conn_proto_t *weir_conn_proto(const weir_conn_t *conn);

#endif
