/*
 * weir_conn.c: accepting connections, framing requests, and writing
 * responses (writev for memory, sendfile for file ranges); on SSL and
 * SASL_SSL listeners the TLS layer in between (weir_tls.c), with file ranges
 * streamed through it in bounded chunks.
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

#include <openssl/crypto.h>

#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"
#include "weir_principal_map.h"
#include "weir_tls.h"

#define WEIR_CONN_RBUF_MIN (64 * 1024)
#define WEIR_CONN_RBUF_EAGER (2 * 1024 * 1024)
#define WEIR_CONN_OUT_HIGH (8 * 1024 * 1024) /* stop reading above this much unsent */
#define WEIR_CONN_IOV_MAX 64
#define WEIR_CONN_FRAME_MIN 8 /* ApiKey + ApiVersion + CorrelationId */
/* Frames of a SASL listener's connection before its sign-on, and raw SASL
 * tokens: Kafka's default sasl.server.max.receive.size, so an
 * unauthenticated client cannot make the broker buffer a large frame. */
#define WEIR_CONN_SASL_FRAME_MAX (512 * 1024)
#define WEIR_CONN_TLS_FILL (48 * 1024) /* encrypt ahead at most this much ciphertext */
#define WEIR_CONN_TLS_READS 256 /* TLS records read per wake-up (fairness) */

static void weir_conn_on_io(uv_poll_t *poll, int status, int events);
static void weir_conn_process(weir_conn_t *conn);
static void weir_conn_flush(weir_conn_t *conn);
static void weir_conn_tls_drain(weir_conn_t *conn);
static void weir_conn_close_level(weir_conn_t *conn, int level, const char *reason);
static void weir_conn_on_eof(weir_conn_t *conn);

const weir_conn_proto_t *
weir_conn_proto(const weir_conn_t *conn)
{
    return conn->lst->proto ? conn->lst->proto : &weir_conn_kafka_proto;
}

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
        lst->accepted++;
        conn = weir_calloc(1, sizeof(*conn));
        conn->fd = fd;
        conn->lst = lst;
        conn->brk = brk;
        conn->id = ++brk->conn_seq;
        conn->last_active_ms = weir_mono_ms();
        weir_principal_set_anonymous(&conn->principal);
        if (lst->security == WEIR_SECPROTO_SASL_PLAINTEXT ||
            lst->security == WEIR_SECPROTO_SASL_SSL)
            conn->sasl_state = WEIR_SASL_HANDSHAKE;
        if (lst->ssl_ctx) {
            conn->tls = weir_tls_new(lst->ssl_ctx);
            weir_tls_set_fd(conn->tls, fd);
        }
        if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
                        NI_NUMERICHOST | NI_NUMERICSERV) == 0)
            snprintf(conn->peer, sizeof(conn->peer), "%s:%s", host, port);
        else
            snprintf(conn->peer, sizeof(conn->peer), "unknown");
        if (uv_poll_init(brk->loop, &conn->poll, fd) != 0) {
            close(fd);
            weir_tls_free(conn->tls);
            weir_principal_clear(&conn->principal);
            free(conn);
            continue;
        }
        conn->poll.data = conn;
        conn->poll_events = UV_READABLE;
        if (weir_conn_proto(conn)->on_open)
            weir_conn_proto(conn)->on_open(conn);
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

/* Whether the connection should take more input now.  Reading stops while
 * a request is deferred and the protocol has buffered enough (Kafka: a
 * whole frame), while too much output is queued (the client is not
 * reading), after the peer's end of input, and once the connection is due
 * to close. */
static bool
weir_conn_want_read(const weir_conn_t *conn)
{
    if (conn->lingering)
        return !conn->closing;
    if (conn->closing || conn->close_pending || conn->peer_eof || conn->muted ||
        conn->out_bytes >= WEIR_CONN_OUT_HIGH)
        return false;
    return !weir_conn_proto(conn)->input_full(conn);
}

static void
weir_conn_update_events(weir_conn_t *conn)
{
    int ev = 0;

    if (weir_conn_want_read(conn))
        ev |= UV_READABLE;
    if (conn->out_head || (conn->tls && weir_tls_out_total(conn->tls) > 0))
        ev |= UV_WRITABLE;
    weir_conn_set_events(conn, ev);
}

static void
weir_conn_on_mute_timer_closed(uv_handle_t *h)
{
    free(h);
}

static void
weir_conn_on_closed(uv_handle_t *h)
{
    weir_conn_t *conn = h->data;
    weir_msg_t *m, *n;

    if (weir_conn_proto(conn)->on_free)
        weir_conn_proto(conn)->on_free(conn);
    close(conn->fd);
    for (m = conn->out_head; m; m = n) {
        n = m->next;
        weir_msg_free(m);
    }
    weir_tls_free(conn->tls);
    weir_principal_clear(&conn->principal);
    weir_authz_session_free(conn->authz);
    if (conn->mute_timer) {
        uv_timer_stop(conn->mute_timer);
        uv_close((uv_handle_t *)conn->mute_timer, weir_conn_on_mute_timer_closed);
    }
    free(conn->close_reason);
    if (conn->rbuf) {
        /* The buffer may have held a SASL token. */
        OPENSSL_cleanse(conn->rbuf, conn->rcap);
        free(conn->rbuf);
    }
    free(conn);
}

/* Best effort: a TLS close_notify, written if the socket takes it now. */
static void
weir_conn_tls_goodbye(weir_conn_t *conn)
{
    const uint8_t *p;
    size_t n;

    if (!conn->tls || !weir_tls_handshake_done(conn->tls))
        return;
    weir_tls_shutdown(conn->tls);
    while ((n = weir_tls_out_pending(conn->tls, &p)) > 0) {
        ssize_t w = write(conn->fd, p, n);
        if (w <= 0)
            break;
        weir_tls_out_consume(conn->tls, (size_t)w);
    }
}

static void
weir_conn_close_level(weir_conn_t *conn, int level, const char *reason)
{
    if (conn->closing)
        return;
    conn->closing = true;
    WEIR_LOG((weir_log_level_t)level, "connection_closed",
             "conn=%llu listener=%s peer=%s reason=\"%s\"", (unsigned long long)conn->id,
             conn->lst->name, conn->peer, reason ? reason : "client closed");
    weir_conn_proto(conn)->on_close(conn);
    weir_broker_conn_remove(conn->brk, conn);
    uv_close((uv_handle_t *)&conn->poll, weir_conn_on_closed);
}

void
weir_conn_close(weir_conn_t *conn, const char *reason)
{
    if (!conn->closing && reason && conn->tls)
        weir_conn_tls_goodbye(conn);
    weir_conn_close_level(conn, reason ? WEIR_LOG_INFO : WEIR_LOG_DEBUG, reason);
}

void
weir_conn_close_after_write(weir_conn_t *conn, const char *reason, bool quiet)
{
    if (conn->closing || conn->close_pending)
        return;
    conn->close_pending = true;
    conn->close_quiet = quiet;
    conn->close_reason = weir_strdup(reason);
    /* Nothing more is read or processed; the close itself happens in
     * weir_conn_flush() once the output queue is empty (the caller usually
     * queues a last response right after this). */
    weir_conn_update_events(conn);
}

void
weir_conn_close_after_write_linger(weir_conn_t *conn, const char *reason, bool quiet)
{
    if (conn->closing || conn->close_pending)
        return;
    conn->close_linger = true;
    weir_conn_close_after_write(conn, reason, quiet);
}

/* The answer is out: shut the write side and read what is still coming
 * (weir_conn_close_after_write_linger). */
static void
weir_conn_linger(weir_conn_t *conn)
{
    if (conn->tls)
        weir_conn_tls_goodbye(conn);
    if (shutdown(conn->fd, SHUT_WR) != 0) {
        weir_conn_close_level(conn, conn->close_quiet ? WEIR_LOG_DEBUG : WEIR_LOG_INFO,
                              conn->close_reason);
        return;
    }
    conn->lingering = true;
    conn->linger_until_ms = weir_mono_ms() + WEIR_CONN_LINGER_MS;
    weir_conn_update_events(conn);
}

/* Lingering: input is read and dropped (TLS records too, undecrypted);
 * the end of input, an error, the time or the byte limit close. */
static void
weir_conn_on_readable_linger(weir_conn_t *conn)
{
    uint8_t scratch[16384];

    for (int i = 0; i < 16; i++) { /* at most 16 reads per wake-up (fairness) */
        ssize_t n = read(conn->fd, scratch, sizeof(scratch));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0)
            goto close;
        conn->linger_bytes += (size_t)n;
        if (conn->linger_bytes >= WEIR_CONN_LINGER_BYTES)
            goto close;
    }
    return;
close:
    weir_conn_close_level(conn, conn->close_quiet ? WEIR_LOG_DEBUG : WEIR_LOG_INFO,
                          conn->close_reason);
}

void
weir_conn_drain(weir_conn_t *conn, const char *reason)
{
    if (conn->closing)
        return;
    if (conn->lingering) {
        weir_conn_close_level(conn, WEIR_LOG_DEBUG, conn->close_reason);
        return;
    }
    if (!conn->close_pending) {
        conn->close_pending = true;
        conn->close_quiet = true;
        conn->close_reason = weir_strdup(reason);
    }
    weir_conn_update_events(conn);
    /* An idle connection closes now; a busy one once its request is
     * answered and the answer written (weir_conn_close_if_done). */
    if (!conn->in_process)
        weir_conn_flush(conn);
}

/* Closes a connection whose last response has gone out: after
 * weir_conn_close_after_write() / weir_conn_drain(), or after the peer's
 * end of input on an eof_drains protocol, once no request is in service. */
static void
weir_conn_close_if_done(weir_conn_t *conn)
{
    if ((!conn->close_pending && !conn->peer_eof) || conn->closing || conn->lingering ||
        conn->out_head || (conn->tls && weir_tls_out_total(conn->tls) > 0) ||
        weir_conn_proto(conn)->busy(conn))
        return;
    if (conn->close_pending && conn->close_linger && !conn->peer_eof) {
        weir_conn_linger(conn);
        return;
    }
    if (conn->tls)
        weir_conn_tls_goodbye(conn);
    if (!conn->close_pending) {
        weir_conn_close_level(conn, WEIR_LOG_DEBUG, NULL);
        return;
    }
    weir_conn_close_level(conn, conn->close_quiet ? WEIR_LOG_DEBUG : WEIR_LOG_INFO,
                          conn->close_reason);
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

/* Processes buffered input and writes the answers, again while that
 * consumes input and the socket takes all the output: a protocol that
 * pauses parsing on queued output (HTTP) continues once it is written,
 * which no socket event would announce when the socket took it at once. */
static void
weir_conn_pump(weir_conn_t *conn)
{
    while (!conn->in_process && !conn->closing) {
        size_t before = conn->rlen;

        weir_conn_proto(conn)->process(conn);
        if (conn->tls && !conn->closing)
            weir_conn_tls_drain(conn);
        if (!conn->closing)
            weir_conn_flush(conn);
        if (conn->closing || conn->rlen == 0 || conn->rlen == before || conn->out_head ||
            weir_conn_proto(conn)->busy(conn))
            break;
    }
}

void
weir_conn_resume(weir_conn_t *conn)
{
    weir_conn_pump(conn);
}

void
weir_conn_request_done(weir_conn_t *conn)
{
    conn->cur = NULL;
    weir_conn_resume(conn);
}

static void
weir_conn_on_unmute(uv_timer_t *t)
{
    weir_conn_t *conn = t->data;

    conn->muted = false;
    if (conn->closing)
        return;
    weir_conn_resume(conn);
    if (!conn->closing)
        weir_conn_update_events(conn);
}

void
weir_conn_mute(weir_conn_t *conn, int32_t ms)
{
    if (conn->closing || ms <= 0)
        return;
    if (!conn->mute_timer) {
        conn->mute_timer = weir_malloc(sizeof(*conn->mute_timer));
        uv_timer_init(conn->brk->loop, conn->mute_timer);
        conn->mute_timer->data = conn;
    }
    /* A longer throttle replaces a shorter one still running. */
    if (conn->muted && uv_timer_get_due_in(conn->mute_timer) >= (uint64_t)ms)
        return;
    conn->muted = true;
    uv_timer_start(conn->mute_timer, weir_conn_on_unmute, (uint64_t)ms, 0);
    if (!conn->in_process)
        weir_conn_update_events(conn);
}

/* Advances the output queue over n bytes that went out (or into TLS),
 * freeing finished messages. */
static void
weir_conn_advance(weir_conn_t *conn, size_t n)
{
    conn->out_bytes -= n;
    while (n > 0 || (conn->out_head && conn->out_head->piece_idx == conn->out_head->npieces)) {
        weir_msg_t *h = conn->out_head;
        if (h->piece_idx < h->npieces) {
            weir_piece_t *p = &h->pieces[h->piece_idx];
            size_t left = p->len - h->piece_done;
            if (n < left) {
                h->piece_done += n;
                n = 0;
                break;
            }
            n -= left;
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

/* Writes as much queued output as the socket takes (plaintext). */
static void
weir_conn_flush_plain(weir_conn_t *conn)
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
        weir_conn_advance(conn, (size_t)n);
    }
}

/* Copies the next bytes of the output queue (memory pieces, and file
 * ranges read with pread) into the TLS staging buffer, without advancing
 * the queue: the queue advances as the staged bytes are encrypted.  Returns
 * 0, or -1 if the connection was closed.  Staging copies up to 64 KiB, so a
 * large fetch never sits in memory whole, and small responses and record
 * batches share TLS records. */
static int
weir_conn_tls_stage(weir_conn_t *conn)
{
    size_t cap, fill = 0;
    uint8_t *chunk = weir_tls_chunk(conn->tls, &cap);
    weir_msg_t *m = conn->out_head;
    size_t idx = m->piece_idx, done = m->piece_done;

    while (m && fill < cap) {
        weir_piece_t *p = &m->pieces[idx];
        size_t take = WEIR_MIN(p->len - done, cap - fill);

        if (!p->is_file) {
            memcpy(chunk + fill, m->buf.data + p->off + done, take);
        } else {
            ssize_t n;
            do {
                n = pread(p->slice.fd, chunk + fill, take, (off_t)p->slice.pos + (off_t)done);
            } while (n < 0 && errno == EINTR);
            if (n < 0) {
                weir_conn_close(conn, strerror(errno));
                return -1;
            }
            if (n == 0) {
                weir_conn_close(conn, "segment file shorter than the fetch range");
                return -1;
            }
            take = (size_t)n;
        }
        fill += take;
        done += take;
        if (done < p->len) {
            if (!p->is_file || fill == cap)
                break;
            continue; /* short read: keep reading this range */
        }
        done = 0;
        if (++idx == m->npieces) {
            m = m->next;
            idx = 0;
        }
    }
    conn->tls_stage_len = fill;
    conn->tls_stage_pos = 0;
    return 0;
}

/* Writes pending ciphertext to the socket.  Returns 1 if it all went, 0 if
 * the socket is full, -1 if the connection was closed. */
static int
weir_conn_tls_send(weir_conn_t *conn)
{
    const uint8_t *p;
    size_t n;

    while ((n = weir_tls_out_pending(conn->tls, &p)) > 0) {
        ssize_t w = write(conn->fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            weir_conn_close_level(conn, WEIR_LOG_INFO, strerror(errno));
            return -1;
        }
        weir_tls_out_consume(conn->tls, (size_t)w);
    }
    return 1;
}

/* TLS output: stage plaintext, encrypt it, write the ciphertext. */
static void
weir_conn_flush_tls(weir_conn_t *conn)
{
    weir_tls_t *tls = conn->tls;
    size_t cap;
    uint8_t *chunk = NULL;

    while (!conn->closing) {
        bool encrypted = false;
        size_t sent;
        int rc;

        /* Encrypt ahead while there is output and room for it: a lone
         * record goes straight to the socket, a run of records is gathered
         * in the TLS layer and written below in one go.  After
         * WEIR_TLS_WANT the same staged bytes are offered again. */
        while (conn->out_head && weir_tls_out_total(tls) < WEIR_CONN_TLS_FILL &&
               weir_tls_handshake_done(tls)) {
            size_t left;
            int n;

            if (conn->tls_stage_pos == conn->tls_stage_len && weir_conn_tls_stage(conn) != 0)
                return;
            if (!chunk)
                chunk = weir_tls_chunk(tls, &cap);
            left = conn->tls_stage_len - conn->tls_stage_pos;
            /* A run of records is written together (weir_tls_set_more). */
            weir_tls_set_more(tls, left > WEIR_TLS_RECORD_MAX || conn->out_bytes > left);
            n = weir_tls_write(tls, chunk + conn->tls_stage_pos, left);
            weir_tls_set_more(tls, false);
            if (n == WEIR_TLS_WANT)
                break;
            if (n < 0) {
                weir_conn_close_level(conn, WEIR_LOG_INFO, weir_tls_error(tls));
                return;
            }
            encrypted = true;
            conn->tls_stage_pos += (size_t)n;
            weir_conn_advance(conn, (size_t)n);
        }
        sent = weir_tls_out_total(tls);
        rc = weir_conn_tls_send(conn);
        if (rc <= 0)
            return;
        /* Everything written: go on while that makes room for more. */
        if (!conn->out_head || !weir_tls_handshake_done(tls) || (!encrypted && !sent))
            return;
    }
}

static void
weir_conn_flush(weir_conn_t *conn)
{
    if (conn->closing)
        return;
    if (conn->tls)
        weir_conn_flush_tls(conn);
    else
        weir_conn_flush_plain(conn);
    if (conn->closing)
        return;
    weir_conn_close_if_done(conn);
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

/* Grows the input buffer before a read.  Beyond WEIR_CONN_RBUF_EAGER it
 * grows with the bytes that actually arrive (doubling, up to the frame's
 * size), never straight to a size a client merely announced, so idle
 * connections claiming huge frames cost at most that much. */
static void
weir_conn_rbuf_prepare(weir_conn_t *conn)
{
    size_t want = WEIR_CONN_RBUF_MIN;

    if (conn->lst->proto && conn->lst->proto != &weir_conn_kafka_proto) {
        /* Other protocols consume input as they parse it and bound what
         * they buffer with input_full: grow by doubling when full. */
        if (conn->rlen == conn->rcap && conn->rcap > 0)
            want = conn->rcap * 2;
    } else if (conn->rlen >= 4) {
        uint32_t size = weir_be32(conn->rbuf);
        /* Frames up to WEIR_CONN_RBUF_EAGER (a produce request of the
         * default message.max.bytes) get their whole buffer at once: growing
         * them by doubling would copy each one again and read it in small
         * pieces. */
        if (size <= (uint32_t)conn->brk->conf->socket_request_max_bytes &&
            (size_t)size + 4 <= WEIR_CONN_RBUF_EAGER)
            want = (size_t)size + 4;
        else if (size <= (uint32_t)conn->brk->conf->socket_request_max_bytes &&
                 conn->rlen == conn->rcap)
            want = WEIR_MIN((size_t)size + 4, conn->rcap * 2);
    }
    weir_conn_rbuf_reserve(conn, WEIR_MAX(want, conn->rlen + 1));
}

/* Kafka: handles the complete frames in the input buffer while no request
 * is outstanding. */
static void
weir_conn_process(weir_conn_t *conn)
{
    size_t pos = 0;
    int32_t max = conn->brk->conf->socket_request_max_bytes;

    conn->in_process = true;
    while (!conn->closing && !conn->close_pending && !conn->cur && !conn->muted &&
           conn->rlen - pos >= 4) {
        uint32_t size = weir_be32(conn->rbuf + pos);
        bool raw = conn->sasl_state == WEIR_SASL_RAW;
        bool secret = raw || conn->sasl_state == WEIR_SASL_AUTHENTICATE;
        bool preauth = conn->sasl_state != WEIR_SASL_NONE && !conn->sasl_authenticated;
        uint32_t lo = raw ? 1 : WEIR_CONN_FRAME_MIN;
        uint32_t hi = preauth ? WEIR_MIN(WEIR_CONN_SASL_FRAME_MAX, (uint32_t)max) : (uint32_t)max;
        uint8_t *alloc, *frame;
        int rc;

        if (size > hi || size < lo) {
            char why[128];
            /* A TLS ClientHello starts 0x16 0x03: say so rather than quote
             * a nonsensical frame size. */
            if (!conn->tls && pos == 0 && conn->rbuf[0] == 0x16 && conn->rbuf[1] == 0x03)
                snprintf(why, sizeof(why), "TLS handshake on a %s listener",
                         weir_secproto_name(conn->lst->security));
            else
                snprintf(why, sizeof(why), "frame size %u outside [%u, %u]%s", size, lo, hi,
                         raw       ? " (raw SASL token)"
                         : preauth ? " (before SASL authentication)"
                                   : " (socket.request.max.bytes)");
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
            /* A sign-on frame holds a password: leave no copy behind. */
            if (secret)
                OPENSSL_cleanse(conn->rbuf + pos, (size_t)size + 4);
            pos += (size_t)size + 4;
        }
        if (raw)
            rc = weir_sasl_raw_frame(conn, alloc, frame, size);
        else
            rc = weir_api_dispatch(conn, alloc, frame, size);
        if (rc != 0 && !conn->closing)
            weir_conn_close(conn, "malformed request");
    }
    if (pos > 0 && conn->rbuf) {
        memmove(conn->rbuf, conn->rbuf + pos, conn->rlen - pos);
        conn->rlen -= pos;
    }
    conn->in_process = false;
}

static void
weir_conn_on_readable_plain(weir_conn_t *conn)
{
    /* Read until EAGAIN, at most 16 times per wake-up (fairness). */
    for (int i = 0; i < 16 && !conn->closing; i++) {
        ssize_t n;

        weir_conn_rbuf_prepare(conn);
        n = read(conn->fd, conn->rbuf + conn->rlen, conn->rcap - conn->rlen);
        if (n == 0) {
            weir_conn_on_eof(conn);
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
        weir_conn_proto(conn)->process(conn);
        if (weir_conn_proto(conn)->busy(conn) || !weir_conn_want_read(conn))
            break;
    }
}

/* The TLS handshake completed: log it and, with a client certificate, set
 * the principal from its subject. */
static void
weir_conn_tls_established(weir_conn_t *conn)
{
    char *subject = NULL, *name = NULL;

    if (weir_tls_peer_subject(conn->tls, &subject) == 0) {
        const weir_principal_map_t *map =
            conn->lst->principal_map ? conn->lst->principal_map : conn->brk->principal_map;
        if (weir_principal_map_apply(map, subject, &name) != 0) {
            WEIR_LOG(WEIR_LOG_INFO, "tls_principal_unmapped",
                     "conn=%llu listener=%s peer=%s subject=\"%s\" note=\"no "
                     "ssl.principal.mapping.rules rule applies\"",
                     (unsigned long long)conn->id, conn->lst->name, conn->peer, subject);
            free(subject);
            conn->lst->auth_failures++;
            weir_conn_close_level(conn, WEIR_LOG_DEBUG, "certificate subject not mapped");
            return;
        }
        /* On SASL_SSL the SASL sign-on decides the principal. */
        if (conn->sasl_state == WEIR_SASL_NONE)
            weir_principal_set(&conn->principal, WEIR_AUTH_SSL, name, NULL, 0);
    }
    /* A client certificate is a sign-on, worth a line; plain TLS is not. */
    WEIR_LOG(subject ? WEIR_LOG_INFO : WEIR_LOG_DEBUG,
             subject ? "ssl_authenticated" : "tls_established", "conn=%llu listener=%s peer=%s "
             "version=%s cipher=%s subject=\"%s\" principal=User:%s",
             (unsigned long long)conn->id, conn->lst->name, conn->peer,
             weir_tls_version(conn->tls), weir_tls_cipher(conn->tls), subject ? subject : "",
             subject && conn->sasl_state == WEIR_SASL_NONE ? name : conn->principal.user);
    free(subject);
    free(name);
}

/* Runs the handshake and decrypts buffered input into the input buffer,
 * processing frames as they complete, while the connection takes input. */
static void
weir_conn_tls_drain(weir_conn_t *conn)
{
    weir_tls_t *tls = conn->tls;

    if (conn->in_drain || conn->closing)
        return;
    conn->in_drain = true;
    if (!weir_tls_handshake_done(tls)) {
        int rc = weir_tls_handshake(tls);

        if (rc == WEIR_TLS_WANT)
            goto out;
        if (rc == WEIR_TLS_EOF) {
            /* Gone before or during the handshake (a port probe, a client
             * that gave up): as on a plaintext listener, no log line. */
            weir_conn_on_eof(conn);
            goto out;
        }
        if (rc != 1) {
            /* One line per failed handshake; the alert (if any) goes out
             * best effort, and no other connection notices. */
            const uint8_t *p;
            size_t n;
            WEIR_LOG(WEIR_LOG_INFO, "tls_handshake_failed", "conn=%llu listener=%s peer=%s "
                     "reason=\"%s\"", (unsigned long long)conn->id, conn->lst->name, conn->peer,
                     rc == WEIR_TLS_CLOSED ? "peer closed during the handshake"
                                           : weir_tls_error(tls));
            while ((n = weir_tls_out_pending(tls, &p)) > 0) {
                ssize_t w = write(conn->fd, p, n);
                if (w <= 0)
                    break;
                weir_tls_out_consume(tls, (size_t)w);
            }
            weir_conn_close_level(conn, WEIR_LOG_DEBUG, "TLS handshake failed");
            goto out;
        }
        weir_conn_tls_established(conn);
        if (conn->closing)
            goto out;
    }
    for (int reads = 0; !conn->closing && weir_conn_want_read(conn); reads++) {
        int n;

        /* Fairness: leave the rest for the next wake-up, when it is still in
         * the socket (which then announces it again). */
        if (reads >= WEIR_CONN_TLS_READS && !weir_tls_input_buffered(tls))
            break;
        weir_conn_rbuf_prepare(conn);
        n = weir_tls_read(tls, conn->rbuf + conn->rlen, conn->rcap - conn->rlen);
        if (n == WEIR_TLS_WANT)
            break;
        if (n == WEIR_TLS_EOF) {
            weir_conn_on_eof(conn);
            break;
        }
        if (n == WEIR_TLS_CLOSED) {
            weir_conn_close_level(conn, WEIR_LOG_DEBUG, "client closed (TLS close_notify)");
            break;
        }
        if (n < 0) {
            weir_conn_close_level(conn, WEIR_LOG_INFO, weir_tls_error(tls));
            break;
        }
        conn->rlen += (size_t)n;
        conn->last_active_ms = weir_mono_ms();
        weir_conn_proto(conn)->process(conn);
    }
out:
    conn->in_drain = false;
}

static void
weir_conn_on_readable_tls(weir_conn_t *conn)
{
    /* OpenSSL reads the socket itself (weir_tls_set_fd). */
    weir_conn_tls_drain(conn);
    /* Handshake messages go out as soon as they are made. */
    if (!conn->closing && !weir_tls_handshake_done(conn->tls))
        weir_conn_flush(conn);
}

static void
weir_conn_on_io(uv_poll_t *poll, int status, int events)
{
    weir_conn_t *conn = poll->data;

    if (status < 0) {
        /* libuv reports POLLERR as UV_EBADF; the socket knows what it was.
         * A reset from the client is just the client going away. */
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (status == UV_EBADF &&
            getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr) {
            weir_conn_close(conn, soerr == ECONNRESET || soerr == EPIPE ? NULL : strerror(soerr));
            return;
        }
        weir_conn_close(conn, uv_strerror(status));
        return;
    }
    if (conn->lingering) {
        if (events & UV_READABLE)
            weir_conn_on_readable_linger(conn);
        return;
    }
    if (events & UV_READABLE) {
        if (conn->tls)
            weir_conn_on_readable_tls(conn);
        else
            weir_conn_on_readable_plain(conn);
    }
    if (!conn->closing)
        weir_conn_flush(conn);
    /* A protocol that paused on queued output (HTTP) resumes on buffered
     * requests once output drains: no socket event would announce them. */
    if (!conn->closing && conn->rlen > 0 && !conn->out_head && conn->lst->proto &&
        conn->lst->proto != &weir_conn_kafka_proto && !weir_conn_proto(conn)->busy(conn))
        weir_conn_pump(conn);
    /* Output drained below the high mark may let buffered TLS input in,
     * which no socket event would announce. */
    if (conn->tls && !conn->closing && weir_conn_want_read(conn) &&
        weir_tls_handshake_done(conn->tls) && weir_tls_input_buffered(conn->tls)) {
        weir_conn_tls_drain(conn);
        if (!conn->closing)
            weir_conn_flush(conn);
    }
}

/* The peer sent its end of input (or the connection reset before it). */
static void
weir_conn_on_eof(weir_conn_t *conn)
{
    /* A client that goes away while its request is in service has given
     * up on it (as nginx reads it): cancel.  Kafka always closes. */
    if (!weir_conn_proto(conn)->eof_drains || weir_conn_proto(conn)->busy(conn)) {
        weir_conn_close(conn, NULL);
        return;
    }
    /* A half close after whole requests: answer them, then close once that
     * is written (the flush at the end of this I/O callback). */
    conn->peer_eof = true;
    weir_conn_update_events(conn);
}

void
weir_conn_tick(weir_conn_t *conn, int64_t now_ms)
{
    if (conn->lingering) {
        if (!conn->closing && now_ms >= conn->linger_until_ms)
            weir_conn_close_level(conn, conn->close_quiet ? WEIR_LOG_DEBUG : WEIR_LOG_INFO,
                                  conn->close_reason);
        return;
    }
    if (!conn->closing && weir_conn_proto(conn)->tick)
        weir_conn_proto(conn)->tick(conn, now_ms);
}

/* ------------------------------------------------------------------ */
/* Kafka's framing                                                    */

/* A deferred request with a whole next frame buffered: read no more. */
static bool
weir_kafka_input_full(const weir_conn_t *conn)
{
    if (conn->cur && conn->rlen >= 4) {
        size_t size = weir_be32(conn->rbuf);
        if (conn->rlen >= size + 4)
            return true;
    }
    return false;
}

static bool
weir_kafka_busy(const weir_conn_t *conn)
{
    return conn->cur != NULL;
}

static void
weir_kafka_on_close(weir_conn_t *conn)
{
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
}

/* connections.max.idle.ms (-1: never). */
static void
weir_kafka_tick(weir_conn_t *conn, int64_t now_ms)
{
    int64_t max = conn->brk->conf->connections_max_idle_ms;

    if (max >= 0 && !conn->cur && !conn->out_head && now_ms - conn->last_active_ms > max)
        weir_conn_close(conn, "idle longer than connections.max.idle.ms");
}

const weir_conn_proto_t weir_conn_kafka_proto = {
    .name = "kafka",
    .on_open = NULL,
    .process = weir_conn_process,
    .input_full = weir_kafka_input_full,
    .busy = weir_kafka_busy,
    .on_close = weir_kafka_on_close,
    .tick = weir_kafka_tick,
    .eof_drains = false,
};
