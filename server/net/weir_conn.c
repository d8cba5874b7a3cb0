/*
 * weir_conn.c: accepting connections, framing requests, and writing
 * responses (writev for memory, sendfile for file ranges).
 */
#include "weir_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "weir_api.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"

#define WEIR_CONN_RBUF_MIN (64 * 1024)
#define WEIR_CONN_OUT_HIGH (8 * 1024 * 1024) /* stop reading above this much unsent */
#define WEIR_CONN_IOV_MAX 64
#define WEIR_CONN_FRAME_MIN 8 /* ApiKey + ApiVersion + CorrelationId */

static void weir_conn_on_io(uv_poll_t *poll, int status, int events);
static void weir_conn_process(weir_conn_t *conn);
static void weir_conn_flush(weir_conn_t *conn);

/* ------------------------------------------------------------------ */
/* Listener                                                           */

static void
weir_listener_on_accept(uv_poll_t *poll, int status, int events)
{
    weir_listener_t *lst = weir_container_of(poll, weir_listener_t, poll);
    weir_broker_t *brk = lst->brk;

    WEIR_UNUSED(events);
    if (status < 0)
        return;
    /* Accept a bounded number per wake-up so one busy listener cannot
     * starve the loop. */
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        char host[INET6_ADDRSTRLEN], port[8];
        weir_conn_t *conn;
        int fd, one = 1;

        fd = accept4(lst->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                WEIR_LOG(WEIR_LOG_WARN, "accept_failed", "listener=%s error=\"%s\"", lst->name,
                         strerror(errno));
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        conn = weir_calloc(1, sizeof(*conn));
        conn->fd = fd;
        conn->lst = lst;
        conn->brk = brk;
        conn->id = ++brk->conn_seq;
        conn->last_active_ms = weir_mono_ms();
        if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
                        NI_NUMERICHOST | NI_NUMERICSERV) == 0)
            snprintf(conn->peer, sizeof(conn->peer), "%s:%s", host, port);
        else
            snprintf(conn->peer, sizeof(conn->peer), "unknown");
        if (uv_poll_init(brk->loop, &conn->poll, fd) != 0) {
            close(fd);
            free(conn);
            continue;
        }
        conn->poll.data = conn;
        conn->poll_events = UV_READABLE;
        uv_poll_start(&conn->poll, conn->poll_events, weir_conn_on_io);
        weir_broker_conn_add(brk, conn);
        WEIR_LOG(WEIR_LOG_DEBUG, "connection_accepted", "conn=%llu listener=%s peer=%s",
                 (unsigned long long)conn->id, lst->name, conn->peer);
    }
}

int
weir_listener_open(weir_broker_t *brk, weir_listener_t *lst, char *errstr, size_t errstr_size)
{
    struct addrinfo hints, *res = NULL, *ai;
    char port[8];
    int fd = -1, rc, one = 1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", lst->port);
    rc = getaddrinfo(lst->host[0] ? lst->host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "listener %s: cannot resolve %s: %s", lst->name, lst->host,
                 gai_strerror(rc));
        return WEIR_ERR;
    }
    rc = -EADDRNOTAVAIL;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            rc = -errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        rc = -errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "listener %s: cannot listen on %s:%d: %s", lst->name,
                 lst->host, lst->port, strerror(-rc));
        return rc;
    }
    if (lst->port == 0) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        getsockname(fd, (struct sockaddr *)&ss, &sl);
        lst->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                    : ((struct sockaddr_in *)&ss)->sin_port);
        if (lst->adv_port == 0)
            lst->adv_port = lst->port;
    }
    lst->fd = fd;
    lst->brk = brk;
    uv_poll_init(brk->loop, &lst->poll, fd);
    lst->poll.data = lst;
    uv_poll_start(&lst->poll, UV_READABLE, weir_listener_on_accept);
    return 0;
}

static void
weir_listener_on_closed(uv_handle_t *h)
{
    weir_listener_t *lst = h->data;
    close(lst->fd);
    lst->fd = -1;
}

void
weir_listener_close(weir_listener_t *lst)
{
    if (lst->closed || lst->fd < 0)
        return;
    lst->closed = true;
    uv_close((uv_handle_t *)&lst->poll, weir_listener_on_closed);
}

/* ------------------------------------------------------------------ */
/* Connection                                                         */

static void
weir_conn_set_events(weir_conn_t *conn, int events)
{
    if (conn->closing || events == conn->poll_events)
        return;
    conn->poll_events = events;
    if (events)
        uv_poll_start(&conn->poll, events, weir_conn_on_io);
    else
        uv_poll_stop(&conn->poll);
}

/* Reading stops while a request is deferred and a whole frame is waiting,
 * or while too much output is queued (the client is not reading). */
static void
weir_conn_update_events(weir_conn_t *conn)
{
    int ev = 0;
    bool want_read = conn->out_bytes < WEIR_CONN_OUT_HIGH;

    if (want_read && conn->cur && conn->rlen >= 4) {
        size_t size = weir_be32(conn->rbuf);
        if (conn->rlen >= size + 4)
            want_read = false;
    }
    if (want_read)
        ev |= UV_READABLE;
    if (conn->out_head)
        ev |= UV_WRITABLE;
    weir_conn_set_events(conn, ev);
}

static void
weir_conn_on_closed(uv_handle_t *h)
{
    weir_conn_t *conn = h->data;
    weir_msg_t *m, *n;

    close(conn->fd);
    for (m = conn->out_head; m; m = n) {
        n = m->next;
        weir_msg_free(m);
    }
    free(conn->rbuf);
    free(conn);
}

void
weir_conn_close(weir_conn_t *conn, const char *reason)
{
    if (conn->closing)
        return;
    conn->closing = true;
    WEIR_LOG(reason ? WEIR_LOG_INFO : WEIR_LOG_DEBUG, "connection_closed",
             "conn=%llu listener=%s peer=%s reason=\"%s\"", (unsigned long long)conn->id,
             conn->lst->name, conn->peer, reason ? reason : "client closed");
    if (conn->cur) {
        weir_req_t *req = conn->cur;
        conn->cur = NULL;
        req->conn = NULL;
        if (req->cancel) {
            req->cancel(req);
            weir_req_free(req);
        }
        /* Without a cancel hook the request stays orphaned: whoever holds
         * it frees it when its operation completes. */
    }
    weir_broker_conn_remove(conn->brk, conn);
    uv_close((uv_handle_t *)&conn->poll, weir_conn_on_closed);
}

void
weir_conn_send(weir_conn_t *conn, weir_msg_t *msg)
{
    if (conn->closing) {
        weir_msg_free(msg);
        return;
    }
    msg->next = NULL;
    if (conn->out_tail)
        conn->out_tail->next = msg;
    else
        conn->out_head = msg;
    conn->out_tail = msg;
    conn->out_bytes += msg->total;
    if (!conn->in_process)
        weir_conn_flush(conn);
}

void
weir_conn_request_done(weir_conn_t *conn)
{
    conn->cur = NULL;
    if (!conn->in_process) {
        weir_conn_process(conn);
        if (!conn->closing)
            weir_conn_flush(conn);
    }
}

/* Writes as much queued output as the socket takes. */
static void
weir_conn_flush(weir_conn_t *conn)
{
    while (conn->out_head && !conn->closing) {
        weir_msg_t *m = conn->out_head;
        weir_piece_t *pc = &m->pieces[m->piece_idx];
        ssize_t n;

        if (pc->is_file) {
            off_t pos = pc->slice.pos + (off_t)m->piece_done;
            n = sendfile(conn->fd, pc->slice.fd, &pos, pc->len - m->piece_done);
            if (n == 0) {
                /* The file is shorter than promised: it was truncated under
                 * us.  The response cannot be completed. */
                weir_conn_close(conn, "segment file shorter than the fetch range");
                return;
            }
        } else {
            struct iovec iov[WEIR_CONN_IOV_MAX];
            int cnt = 0;
            weir_msg_t *mm = m;
            size_t idx = m->piece_idx, done = m->piece_done;

            /* Gather consecutive memory pieces, across messages. */
            while (mm && cnt < WEIR_CONN_IOV_MAX) {
                weir_piece_t *p = &mm->pieces[idx];
                if (p->is_file)
                    break;
                iov[cnt].iov_base = mm->buf.data + p->off + done;
                iov[cnt].iov_len = p->len - done;
                cnt++;
                done = 0;
                if (++idx == mm->npieces) {
                    mm = mm->next;
                    idx = 0;
                }
            }
            n = writev(conn->fd, iov, cnt);
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            weir_conn_close(conn, strerror(errno));
            return;
        }
        /* Advance over n written bytes. */
        conn->out_bytes -= (size_t)n;
        while (n > 0 || (conn->out_head && conn->out_head->piece_idx == conn->out_head->npieces)) {
            weir_msg_t *h = conn->out_head;
            if (h->piece_idx < h->npieces) {
                weir_piece_t *p = &h->pieces[h->piece_idx];
                size_t left = p->len - h->piece_done;
                if ((size_t)n < left) {
                    h->piece_done += (size_t)n;
                    n = 0;
                    break;
                }
                n -= (ssize_t)left;
                h->piece_idx++;
                h->piece_done = 0;
            }
            if (h->piece_idx == h->npieces) {
                conn->out_head = h->next;
                if (!conn->out_head)
                    conn->out_tail = NULL;
                weir_msg_free(h);
            }
        }
    }
    if (!conn->closing)
        weir_conn_update_events(conn);
}

/* Makes room for at least want bytes in the input buffer. */
static void
weir_conn_rbuf_reserve(weir_conn_t *conn, size_t want)
{
    if (conn->rcap >= want)
        return;
    conn->rcap = WEIR_MAX(want, WEIR_CONN_RBUF_MIN);
    conn->rbuf = weir_realloc(conn->rbuf, conn->rcap);
}

/* Handles the complete frames in the input buffer while no request is
 * outstanding. */
static void
weir_conn_process(weir_conn_t *conn)
{
    size_t pos = 0;
    int32_t max = conn->brk->conf->socket_request_max_bytes;

    conn->in_process = true;
    while (!conn->closing && !conn->cur && conn->rlen - pos >= 4) {
        uint32_t size = weir_be32(conn->rbuf + pos);
        uint8_t *alloc, *frame;

        if (size > (uint32_t)max || size < WEIR_CONN_FRAME_MIN) {
            char why[96];
            snprintf(why, sizeof(why), "frame size %u outside [%d, %d] (socket.request.max.bytes)",
                     size, WEIR_CONN_FRAME_MIN, max);
            weir_conn_close(conn, why);
            break;
        }
        if (conn->rlen - pos < (size_t)size + 4)
            break;
        /* The request owns its frame: steal the buffer when the frame is all
         * it holds, otherwise copy the frame out. */
        if (pos == 0 && conn->rlen == (size_t)size + 4) {
            alloc = conn->rbuf;
            frame = alloc + 4;
            conn->rbuf = NULL;
            conn->rcap = 0;
            conn->rlen = 0;
        } else {
            alloc = frame = weir_malloc(size);
            memcpy(frame, conn->rbuf + pos + 4, size);
            pos += (size_t)size + 4;
        }
        if (weir_api_dispatch(conn, alloc, frame, size) != 0 && !conn->closing)
            weir_conn_close(conn, "malformed request");
    }
    if (pos > 0 && conn->rbuf) {
        memmove(conn->rbuf, conn->rbuf + pos, conn->rlen - pos);
        conn->rlen -= pos;
    }
    conn->in_process = false;
}

static void
weir_conn_on_readable(weir_conn_t *conn)
{
    /* Read until EAGAIN, at most 16 times per wake-up (fairness). */
    for (int i = 0; i < 16 && !conn->closing; i++) {
        size_t want = WEIR_CONN_RBUF_MIN;
        ssize_t n;

        /* The buffer grows with the bytes that actually arrive (doubling,
         * up to the frame's size), never straight to a size a client merely
         * announced, so idle connections claiming huge frames cost little. */
        if (conn->rlen >= 4) {
            uint32_t size = weir_be32(conn->rbuf);
            if (size <= (uint32_t)conn->brk->conf->socket_request_max_bytes &&
                conn->rlen == conn->rcap)
                want = WEIR_MIN((size_t)size + 4, conn->rcap * 2);
        }
        weir_conn_rbuf_reserve(conn, WEIR_MAX(want, conn->rlen + 1));
        n = read(conn->fd, conn->rbuf + conn->rlen, conn->rcap - conn->rlen);
        if (n == 0) {
            weir_conn_close(conn, NULL);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                weir_conn_close(conn, strerror(errno));
            break;
        }
        conn->rlen += (size_t)n;
        conn->last_active_ms = weir_mono_ms();
        weir_conn_process(conn);
        if (conn->cur || conn->out_bytes >= WEIR_CONN_OUT_HIGH)
            break;
    }
}

static void
weir_conn_on_io(uv_poll_t *poll, int status, int events)
{
    weir_conn_t *conn = poll->data;

    if (status < 0) {
        weir_conn_close(conn, uv_strerror(status));
        return;
    }
    if (events & UV_READABLE)
        weir_conn_on_readable(conn);
    if (!conn->closing)
        weir_conn_flush(conn);
}
