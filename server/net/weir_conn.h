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
 */
#ifndef WEIR_CONN_H
#define WEIR_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "weir_msg.h"

typedef struct weir_broker_s weir_broker_t;
typedef struct weir_req_s weir_req_t;

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

#endif
