/*
 * weir_http.c: the HTTP/1.1 connection protocol (parsing with http_parser,
 * limits, keep-alive, pipelining in order), request dispatch through the
 * router, Basic authentication against LDAP, answers, and the HTTP server
 * object with its listeners.
 *
 * One request is in service per connection at a time: the parser pauses at
 * the end of each message, the request is dispatched, and parsing resumes
 * after its answer has been queued, so answers leave in request order and a
 * pipelining client cannot make the broker hold more than one request plus
 * WEIR_HTTP_PIPELINE_MAX bytes of unparsed input.
 */
#include "weir_http.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <http_parser.h>
#include <openssl/crypto.h>

#include "weir_base64.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_ldap.h"
#include "weir_log.h"
#include "weir_tls.h"

#define WEIR_HTTP_PIPELINE_MAX (64 * 1024) /* unparsed input kept while a request is served */
#define WEIR_HTTP_OUT_MAX (1024 * 1024)    /* queued answers above which parsing pauses */
#define WEIR_HTTP_MAX_HEADERS 256
#define WEIR_HTTP_MAX_LISTENERS 8
#define WEIR_HTTP_JSON "application/json"

/* An answer count for /metrics: route label and status. */
typedef struct weir_http_count_s {
    const char *route;
    int status;
    uint64_t n;
} weir_http_count_t;

struct weir_http_server_s {
    weir_broker_t *brk;
    weir_http_router_t *router;
    weir_listener_t *listeners;
    size_t nlisteners;
    weir_http_auth_t auth;
    weir_http_count_t *counts;
    size_t ncounts, counts_cap;
};

/* A connection's HTTP state (conn->proto_state). */
typedef struct weir_http_conn_s {
    http_parser parser;
    weir_conn_t *conn;
    weir_http_server_t *srv;
    weir_http_req_t *building; /* being received */
    weir_http_req_t *ready;    /* complete; dispatched once the parser has paused */
    weir_http_req_t *cur;      /* in service */
    int error_status;          /* set by a callback that stopped the parser */
    const char *error_msg;
    int64_t msg_start_ms;      /* monotonic: first byte of the message being received */
} weir_http_conn_t;

static const char *const weir_http_route_none = "none";

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static void __attribute__((format(printf, 2, 3)))
weir_http_wprintf(weir_wbuf_t *w, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    weir_wbuf_reserve(w, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)w->data + w->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    w->len += (size_t)n;
}

/* Appends n bytes to the NUL-terminated heap string *s. */
static void
weir_http_append(char **s, const char *at, size_t n)
{
    size_t l = *s ? strlen(*s) : 0;

    *s = weir_realloc(*s, l + n + 1);
    memcpy(*s + l, at, n);
    (*s)[l + n] = '\0';
}

/* A client-supplied string made safe for a quoted log field. */
static const char *
weir_http_log_str(const char *s, char *buf, size_t size)
{
    size_t o = 0;

    if (!s)
        return "";
    for (; *s && o + 4 < size; s++) {
        unsigned char c = (unsigned char)*s;
        buf[o++] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
    }
    if (*s && o + 4 >= size) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

const char *
weir_http_status_text(int status)
{
    switch (status) {
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Entity";
    case 431:
        return "Request Header Fields Too Large";
    default:
        break;
    }
    /* http_parser knows the rest; unknown codes give "<unknown>". */
    {
        const char *t = http_status_str((enum http_status)status);
        return t && t[0] != '<' ? t : "Unknown";
    }
}

/* The Date header value, recomputed at most once a second. */
static const char *
weir_http_date(void)
{
    static char buf[40];
    static time_t last;
    time_t now = time(NULL);

    if (now != last || !buf[0]) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        last = now;
    }
    return buf;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

static void
weir_http_req_free(weir_http_req_t *req)
{
    if (!req)
        return;
    free(req->target);
    free(req->path);
    free(req->raw_path);
    for (size_t i = 0; i < req->nquery; i++) {
        free(req->query[i].name);
        free(req->query[i].value);
    }
    free(req->query);
    for (size_t i = 0; i < req->nheaders; i++) {
        /* Authorization values hold credentials. */
        if (req->headers[i].value && strcasecmp(req->headers[i].name, "Authorization") == 0)
            OPENSSL_cleanse(req->headers[i].value, strlen(req->headers[i].value));
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    free(req->headers);
    free(req->body);
    weir_http_match_clear(&req->match);
    weir_principal_clear(&req->principal);
    free(req->resp_headers);
    free(req);
}

const char *
weir_http_header(const weir_http_req_t *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *
weir_http_param(const weir_http_req_t *req, const char *name)
{
    for (size_t i = 0; i < req->match.nparams; i++)
        if (strcmp(req->match.names[i], name) == 0)
            return req->match.values[i];
    return NULL;
}

const char *
weir_http_query(const weir_http_req_t *req, const char *name)
{
    for (size_t i = 0; i < req->nquery; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    return NULL;
}

json_t *
weir_http_body_json(const weir_http_req_t *req, char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    json_t *j;

    if (req->body_len == 0) {
        snprintf(errstr, errstr_size, "the request has no body (JSON expected)");
        return NULL;
    }
    j = json_loadb((const char *)req->body, req->body_len, JSON_DECODE_ANY, &jerr);
    if (!j)
        snprintf(errstr, errstr_size, "malformed JSON at line %d column %d: %s", jerr.line,
                 jerr.column, jerr.text);
    return j;
}

void
weir_http_set_header(weir_http_req_t *req, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);

    if (nl == 0 || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
        return;
    req->resp_headers = weir_realloc(req->resp_headers, req->resp_headers_len + nl + vl + 5);
    memcpy(req->resp_headers + req->resp_headers_len, name, nl);
    req->resp_headers_len += nl;
    memcpy(req->resp_headers + req->resp_headers_len, ": ", 2);
    req->resp_headers_len += 2;
    memcpy(req->resp_headers + req->resp_headers_len, value, vl);
    req->resp_headers_len += vl;
    memcpy(req->resp_headers + req->resp_headers_len, "\r\n", 3);
    req->resp_headers_len += 2;
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */

static void
weir_http_count(weir_http_server_t *srv, const char *route, int status)
{
    for (size_t i = 0; i < srv->ncounts; i++) {
        if (srv->counts[i].route == route && srv->counts[i].status == status) {
            srv->counts[i].n++;
            return;
        }
    }
    if (srv->ncounts == srv->counts_cap) {
        srv->counts_cap = srv->counts_cap ? srv->counts_cap * 2 : 16;
        srv->counts = weir_realloc(srv->counts, srv->counts_cap * sizeof(*srv->counts));
    }
    srv->counts[srv->ncounts].route = route;
    srv->counts[srv->ncounts].status = status;
    srv->counts[srv->ncounts].n = 1;
    srv->ncounts++;
}

void
weir_http_server_counts(const weir_http_server_t *srv,
                        void (*cb)(void *arg, const char *route, int status, uint64_t n),
                        void *arg)
{
    for (size_t i = 0; i < srv->ncounts; i++)
        cb(arg, srv->counts[i].route, srv->counts[i].status, srv->counts[i].n);
}

/* Builds one answer: status line, headers, body (omitted for HEAD; no body
 * and no Content-Length for 1xx and 204). */
static weir_msg_t *
weir_http_build(int status, const char *ctype, const char *extra, size_t extra_len,
                const void *body, size_t len, bool head, bool close, bool ka_header)
{
    weir_msg_t *msg = weir_msg_new_raw(len + 256 + extra_len);
    weir_wbuf_t *w = &msg->buf;
    bool bodiless = status < 200 || status == 204 || status == 304;

    weir_http_wprintf(w, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, weir_http_status_text(status),
                      weir_http_date());
    if (!bodiless) {
        if (ctype)
            weir_http_wprintf(w, "Content-Type: %s\r\n", ctype);
        weir_http_wprintf(w, "Content-Length: %zu\r\n", len);
    }
    if (close)
        weir_wr_raw(w, "Connection: close\r\n", 19);
    else if (ka_header)
        weir_wr_raw(w, "Connection: keep-alive\r\n", 24);
    if (extra_len)
        weir_wr_raw(w, extra, extra_len);
    weir_wr_raw(w, "\r\n", 2);
    if (!head && !bodiless && len)
        weir_wr_raw(w, body, len);
    weir_msg_finish(msg);
    return msg;
}

void
weir_http_respond(weir_http_req_t *req, int status, const char *content_type, const void *body,
                  size_t len)
{
    weir_conn_t *conn = req->conn;
    weir_http_conn_t *hc;
    const char *route = weir_http_route_none;
    weir_msg_t *msg;
    bool close;

    if (req->route)
        route = req->route->name ? req->route->name : req->route->pattern;
    if (!content_type)
        content_type = req->route && req->route->content_type ? req->route->content_type
                                                              : WEIR_HTTP_JSON;
    if (req->srv)
        weir_http_count(req->srv, route, status);
    if (weir_log_level >= WEIR_LOG_DEBUG || status >= 500) {
        char pbuf[256], ubuf[128], groups[256];
        size_t glen = 0;

        groups[0] = '\0';
        for (size_t i = 0; i < req->principal.ngroups && glen < sizeof(groups); i++)
            glen += (size_t)snprintf(groups + glen, sizeof(groups) - glen, "%sGroup:%s",
                                     i ? "," : "", req->principal.groups[i]);
        WEIR_LOG(status >= 500 ? WEIR_LOG_WARN : WEIR_LOG_DEBUG, "http_request",
                 "conn=%llu method=%s path=\"%s\" route=\"%s\" status=%d bytes=%zu "
                 "duration_us=%lld principal=User:%s groups=\"%s\"",
                 conn ? (unsigned long long)conn->id : 0ULL, req->method ? req->method : "-",
                 weir_http_log_str(req->path ? req->path : req->target, pbuf, sizeof(pbuf)),
                 route, status, len, (long long)(weir_mono_us() - req->recv_us),
                 weir_http_log_str(req->principal.user, ubuf, sizeof(ubuf)),
                 weir_http_log_str(groups, groups, sizeof(groups)));
    }
    if (!conn) {
        /* The connection closed while the request was served. */
        weir_http_req_free(req);
        return;
    }
    hc = conn->proto_state;
    close = !req->keep_alive || conn->close_pending || conn->peer_eof;
    msg = weir_http_build(status, content_type, req->resp_headers, req->resp_headers_len, body,
                          len, req->head, close,
                          req->keep_alive && req->http_major == 1 && req->http_minor == 0);
    /* Detach first: the send may write everything and close the
     * connection at once (Connection: close), which must not see the
     * request as still in service. */
    if (hc->cur == req)
        hc->cur = NULL;
    req->conn = NULL;
    conn->last_active_ms = weir_mono_ms();
    if (close)
        weir_conn_close_after_write(conn, "Connection: close", true);
    weir_conn_send(conn, msg);
    weir_http_req_free(req);
    weir_conn_resume(conn);
}

/* JSON answers use the route's content type when it is a JSON one
 * (application/vnd.schemaregistry.v1+json), else application/json. */
static const char *
weir_http_json_ctype(const weir_http_req_t *req)
{
    const char *ct = req->route ? req->route->content_type : NULL;

    return ct && strstr(ct, "json") ? ct : WEIR_HTTP_JSON;
}

void
weir_http_respond_json(weir_http_req_t *req, int status, json_t *value)
{
    char *text = value ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    if (value)
        json_decref(value);
    if (!text) {
        weir_http_respond(req, status, weir_http_json_ctype(req), "null", 4);
        return;
    }
    weir_http_respond(req, status, weir_http_json_ctype(req), text, strlen(text));
    free(text);
}

void
weir_http_respond_error(weir_http_req_t *req, int status, int error_code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_t *j;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    j = json_pack("{s:i, s:s}", "error_code", error_code, "message", msg);
    weir_http_respond_json(req, status, j);
}

/* An error for the connection itself (malformed input, limits, request
 * timeout): a JSON error, then the connection closes. */
static void
weir_http_conn_error(weir_http_conn_t *hc, int status, const char *message)
{
    weir_conn_t *conn = hc->conn;
    json_t *j = json_pack("{s:i, s:s}", "error_code", status, "message", message);
    char *text = json_dumps(j, JSON_COMPACT);
    weir_msg_t *msg;

    json_decref(j);
    weir_http_count(hc->srv, weir_http_route_none, status);
    msg = weir_http_build(status, WEIR_HTTP_JSON, NULL, 0, text, strlen(text), false, true,
                          false);
    free(text);
    weir_conn_close_after_write_linger(conn, "HTTP error", true);
    weir_conn_send(conn, msg);
}

/* ------------------------------------------------------------------ */
/* Parser callbacks                                                    */

static int
weir_http_fail_cb(weir_http_conn_t *hc, int status, const char *msg)
{
    hc->error_status = status;
    hc->error_msg = msg;
    return -1;
}

/* Counts request-line and header bytes against http.max.header.bytes. */
static int
weir_http_account(weir_http_conn_t *hc, size_t n)
{
    weir_http_req_t *req = hc->building;

    req->header_bytes += n;
    if (req->header_bytes > (size_t)hc->conn->brk->conf->http_max_header_bytes)
        return weir_http_fail_cb(hc, 431, "request line and headers exceed http.max.header.bytes");
    return 0;
}

static int
weir_http_on_message_begin(http_parser *p)
{
    weir_http_conn_t *hc = p->data;

    weir_http_req_free(hc->building);
    hc->building = weir_calloc(1, sizeof(weir_http_req_t));
    weir_principal_set_anonymous(&hc->building->principal);
    hc->msg_start_ms = weir_mono_ms();
    return 0;
}

static int
weir_http_on_url(http_parser *p, const char *at, size_t n)
{
    weir_http_conn_t *hc = p->data;

    if (weir_http_account(hc, n) != 0)
        return -1;
    weir_http_append(&hc->building->target, at, n);
    return 0;
}

static int
weir_http_on_header_field(http_parser *p, const char *at, size_t n)
{
    weir_http_conn_t *hc = p->data;
    weir_http_req_t *req = hc->building;

    if (weir_http_account(hc, n + 4) != 0) /* ": " and CRLF count too */
        return -1;
    if (req->nheaders == 0 || req->in_value) {
        if (req->nheaders == WEIR_HTTP_MAX_HEADERS)
            return weir_http_fail_cb(hc, 431, "too many header fields");
        req->headers = weir_realloc(req->headers, (req->nheaders + 1) * sizeof(*req->headers));
        req->headers[req->nheaders].name = NULL;
        req->headers[req->nheaders].value = weir_strdup("");
        req->nheaders++;
        req->in_value = false;
    }
    weir_http_append(&req->headers[req->nheaders - 1].name, at, n);
    return 0;
}

static int
weir_http_on_header_value(http_parser *p, const char *at, size_t n)
{
    weir_http_conn_t *hc = p->data;
    weir_http_req_t *req = hc->building;

    if (weir_http_account(hc, n) != 0)
        return -1;
    if (req->nheaders == 0)
        return weir_http_fail_cb(hc, 400, "header value without a name");
    req->in_value = true;
    weir_http_append(&req->headers[req->nheaders - 1].value, at, n);
    return 0;
}

static int
weir_http_on_headers_complete(http_parser *p)
{
    weir_http_conn_t *hc = p->data;
    weir_http_req_t *req = hc->building;
    const weir_conf_t *conf = hc->conn->brk->conf;
    const char *expect;

    for (size_t i = 0; i < req->nheaders; i++) {
        char *v = req->headers[i].value;
        size_t l = strlen(v);
        if (!req->headers[i].name)
            req->headers[i].name = weir_strdup("");
        while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t'))
            v[--l] = '\0';
    }
    if (p->http_major != 1)
        return weir_http_fail_cb(hc, 505, "only HTTP/1.0 and HTTP/1.1 are served");
    req->method_id = (int)p->method;
    req->method = http_method_str((enum http_method)p->method);
    req->http_major = p->http_major;
    req->http_minor = p->http_minor;
    req->keep_alive = http_should_keep_alive(p) != 0;
    req->head = p->method == HTTP_HEAD;
    if (p->content_length != ULLONG_MAX &&
        p->content_length > (uint64_t)conf->http_max_request_bytes)
        return weir_http_fail_cb(hc, 413, "request body exceeds http.max.request.bytes");
    expect = weir_http_header(req, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0 && p->http_major == 1 &&
        p->http_minor >= 1) {
        /* The client waits for this before it sends the body. */
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        weir_msg_t *msg = weir_msg_new_raw(sizeof(cont));
        weir_wr_raw(&msg->buf, cont, sizeof(cont) - 1);
        weir_msg_finish(msg);
        weir_conn_send(hc->conn, msg);
    }
    return 0;
}

static int
weir_http_on_body(http_parser *p, const char *at, size_t n)
{
    weir_http_conn_t *hc = p->data;
    weir_http_req_t *req = hc->building;
    size_t max = (size_t)hc->conn->brk->conf->http_max_request_bytes;

    if (req->body_len + n > max)
        return weir_http_fail_cb(hc, 413, "request body exceeds http.max.request.bytes");
    /* Grow with what arrives (doubling), never to a size merely announced. */
    if (!req->body || req->body_len + n + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 4096;
        while (cap < req->body_len + n + 1)
            cap *= 2;
        req->body = weir_realloc(req->body, cap);
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, at, n);
    req->body_len += n;
    return 0;
}

static int
weir_http_on_message_complete(http_parser *p)
{
    weir_http_conn_t *hc = p->data;
    weir_http_req_t *req = hc->building;

    if (!req->body) {
        req->body = weir_malloc(1);
        req->body_cap = 1;
    }
    req->body[req->body_len] = '\0';
    hc->ready = req;
    hc->building = NULL;
    /* Stop here: the request is served before the next one is parsed. */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings weir_http_settings = {
    .on_message_begin = weir_http_on_message_begin,
    .on_url = weir_http_on_url,
    .on_header_field = weir_http_on_header_field,
    .on_header_value = weir_http_on_header_value,
    .on_headers_complete = weir_http_on_headers_complete,
    .on_body = weir_http_on_body,
    .on_message_complete = weir_http_on_message_complete,
};

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

static void
weir_http_run(weir_http_conn_t *hc, weir_http_req_t *req)
{
    int rc;

    rc = req->route->handler(req);
    /* hc stays valid until the connection's memory is freed (on_free). */
    if (rc != 0 && hc->cur == req) {
        WEIR_LOG(WEIR_LOG_ERROR, "http_handler_failed", "route=\"%s\" rc=%d",
                 req->route->pattern, rc);
        weir_http_respond_error(req, 500, 500, "internal error in %s", req->route->pattern);
    }
}

/* After authentication (or without it): the route's handler, 404 or 405. */
static void
weir_http_route(weir_http_conn_t *hc, weir_http_req_t *req)
{
    switch (req->match.status) {
    case 200:
        weir_http_run(hc, req);
        break;
    case 405:
        weir_http_set_header(req, "Allow", req->match.allow);
        weir_http_respond_error(req, 405, 405, "HTTP %s is not allowed on %s (allowed: %s)",
                                req->method, req->raw_path, req->match.allow);
        break;
    case 400:
        weir_http_respond_error(req, 400, 400, "malformed percent-encoding in the path");
        break;
    default:
        weir_http_respond_error(req, 404, 404, "HTTP 404 Not Found");
        break;
    }
}

static void
weir_http_unauthorized(weir_http_req_t *req, const char *message)
{
    weir_http_set_header(req, "WWW-Authenticate", "Basic realm=\"weir\", charset=\"UTF-8\"");
    weir_http_respond_error(req, 401, 401, "%s", message);
}

/* The outcome of the LDAP check of Basic credentials. */
static void
weir_http_auth_result(weir_http_conn_t *hc, weir_http_req_t *req, const char *user,
                      const weir_ldap_result_t *res)
{
    weir_conn_t *conn = req->conn;
    char ubuf[128];

    switch (res->status) {
    case WEIR_LDAP_OK:
        weir_principal_set(&req->principal, WEIR_AUTH_HTTP_BASIC, res->user ? res->user : user,
                           res->groups, res->ngroups);
        weir_http_route(hc, req);
        return;
    case WEIR_LDAP_INVALID:
        conn->lst->auth_failures++;
        WEIR_LOG(WEIR_LOG_INFO, "http_authentication_failed", "conn=%llu listener=%s peer=%s "
                 "user=\"%s\" reason=\"%s\"", (unsigned long long)conn->id, conn->lst->name,
                 conn->peer, weir_http_log_str(user, ubuf, sizeof(ubuf)), res->reason);
        weir_http_unauthorized(req, "Authentication failed: invalid username or password");
        return;
    case WEIR_LDAP_UNAVAILABLE:
        weir_http_respond_error(req, 503, 503, "Authentication failed: the LDAP directory is "
                                "unavailable or too slow; try again later");
        return;
    default:
        WEIR_LOG(WEIR_LOG_WARN, "http_authentication_error", "conn=%llu peer=%s reason=\"%s\"",
                 (unsigned long long)conn->id, conn->peer, res->reason);
        weir_http_respond_error(req, 500, 500, "Authentication failed: the sign-on could not "
                                "be checked");
        return;
    }
}

typedef struct weir_http_auth_job_s {
    weir_http_req_t *req;
    weir_ldap_job_t *job;
    char *user;
} weir_http_auth_job_t;

static void
weir_http_on_ldap(void *arg, const weir_ldap_result_t *res)
{
    weir_http_auth_job_t *aj = arg;
    weir_http_req_t *req = aj->req;

    /* A closed connection cancels the job (weir_http_auth_cancel), so the
     * request is still served here. */
    req->cancel = NULL;
    req->ctx = NULL;
    weir_http_auth_result(req->conn->proto_state, req, aj->user, res);
    free(aj->user);
    free(aj);
}

static void
weir_http_auth_cancel(weir_http_req_t *req)
{
    weir_http_auth_job_t *aj = req->ctx;

    weir_ldap_cancel(aj->job);
    free(aj->user);
    free(aj);
}

/* Checks the request's Basic credentials (asynchronously unless the
 * sign-on cache answers). */
static void
weir_http_authenticate(weir_http_conn_t *hc, weir_http_req_t *req)
{
    weir_ldap_t *ld = req->brk->ldap;
    const char *h = weir_http_header(req, "Authorization");
    unsigned char *dec;
    size_t hl, dl;
    char *colon, *password;
    weir_ldap_result_t cached;
    weir_http_auth_job_t *aj;

    if (!h || strncasecmp(h, "Basic ", 6) != 0) {
        weir_http_unauthorized(req, "Authentication required (HTTP Basic)");
        return;
    }
    if (!ld) {
        weir_http_respond_error(req, 500, 500, "no LDAP directory configured");
        return;
    }
    h += 6;
    while (*h == ' ')
        h++;
    hl = strlen(h);
    if (hl == 0 || hl % 4 != 0 || hl > 4096) {
        weir_http_unauthorized(req, "malformed Basic credentials");
        return;
    }
    if (weir_base64_decode(h, hl, &dec, &dl) != 0) {
        weir_http_unauthorized(req, "malformed Basic credentials");
        return;
    }
    colon = memchr(dec, ':', dl);
    if (!colon || colon == (char *)dec || memchr(dec, '\0', dl)) {
        OPENSSL_cleanse(dec, dl);
        free(dec);
        weir_http_unauthorized(req, "malformed Basic credentials");
        return;
    }
    *colon = '\0';
    password = weir_strndup(colon + 1, dl - (size_t)(colon + 1 - (char *)dec));
    aj = weir_calloc(1, sizeof(*aj));
    aj->req = req;
    aj->user = weir_strdup((char *)dec);
    OPENSSL_cleanse(dec, dl);
    free(dec);
    memset(&cached, 0, sizeof(cached));
    aj->job = weir_ldap_authenticate(ld, aj->user, password, strlen(password), weir_http_on_ldap,
                                     aj, &cached);
    if (!aj->job) {
        weir_http_auth_result(hc, req, aj->user, &cached);
        weir_ldap_result_clear(&cached);
        free(aj->user);
        free(aj);
        return;
    }
    req->ctx = aj;
    req->cancel = weir_http_auth_cancel;
}

/* Splits the query string into decoded parameters; -1 on a bad escape. */
static int
weir_http_parse_query(weir_http_req_t *req, const char *q, size_t len)
{
    const char *p = q, *end = q + len;

    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        char *name, *value;

        if (e > p) {
            name = weir_http_pct_decode(p, (size_t)((eq ? eq : e) - p), true);
            value = eq ? weir_http_pct_decode(eq + 1, (size_t)(e - eq - 1), true) : weir_strdup("");
            if (!name || !value) {
                free(name);
                free(value);
                return -1;
            }
            req->query = weir_realloc(req->query, (req->nquery + 1) * sizeof(*req->query));
            req->query[req->nquery].name = name;
            req->query[req->nquery].value = value;
            req->nquery++;
        }
        p = e + 1;
    }
    return 0;
}

/* A complete request: target, route, credentials, handler. */
static void
weir_http_dispatch(weir_http_conn_t *hc, weir_http_req_t *req)
{
    weir_conn_t *conn = hc->conn;
    struct http_parser_url u;
    const char *t;
    size_t tl;
    bool no_auth;

    req->conn = conn;
    req->brk = conn->brk;
    req->srv = hc->srv;
    req->recv_us = weir_mono_us();
    weir_principal_set(&req->principal, conn->principal.method, conn->principal.user,
                       conn->principal.groups, conn->principal.ngroups);
    hc->cur = req;

    t = req->target ? req->target : "";
    tl = strlen(t);
    http_parser_url_init(&u);
    if (tl == 0 || http_parser_parse_url(t, tl, req->method_id == HTTP_CONNECT, &u) != 0 ||
        (t[0] != '/' && !(u.field_set & (1 << UF_SCHEMA)))) {
        weir_http_respond_error(req, 400, 400, "malformed request target");
        return;
    }
    if (u.field_set & (1 << UF_PATH))
        req->raw_path = weir_strndup(t + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
    else
        req->raw_path = weir_strdup("/");
    req->path = weir_http_pct_decode(req->raw_path, strlen(req->raw_path), false);
    if (!req->path || ((u.field_set & (1 << UF_QUERY)) &&
                       weir_http_parse_query(req, t + u.field_data[UF_QUERY].off,
                                             u.field_data[UF_QUERY].len) != 0)) {
        weir_http_respond_error(req, 400, 400, "malformed percent-encoding in the request target");
        return;
    }
    weir_http_router_match(hc->srv->router, req->method, req->raw_path, &req->match);
    req->route = req->match.route; /* labels answers (401 too) in metrics and logs */
    no_auth = req->match.status == 200 && (req->match.route->flags & WEIR_HTTP_ROUTE_NO_AUTH);
    if (hc->srv->auth == WEIR_HTTP_AUTH_BASIC && !no_auth) {
        weir_http_authenticate(hc, req);
        return;
    }
    weir_http_route(hc, req);
}

/* ------------------------------------------------------------------ */
/* The connection protocol                                             */

static void
weir_http_on_open(weir_conn_t *conn)
{
    weir_http_conn_t *hc = weir_calloc(1, sizeof(*hc));

    http_parser_init(&hc->parser, HTTP_REQUEST);
    hc->parser.data = hc;
    hc->conn = conn;
    hc->srv = conn->lst->proto_arg;
    conn->proto_state = hc;
}

/* The parser stopped on an error: answer it and close. */
static void
weir_http_parse_failed(weir_http_conn_t *hc, enum http_errno e)
{
    weir_conn_t *conn = hc->conn;
    int status = hc->error_status ? hc->error_status : e == HPE_HEADER_OVERFLOW ? 431 : 400;
    char msg[256];

    if (hc->error_msg)
        snprintf(msg, sizeof(msg), "%s", hc->error_msg);
    else
        snprintf(msg, sizeof(msg), "malformed HTTP request: %s", http_errno_description(e));
    WEIR_LOG(WEIR_LOG_INFO, "http_bad_request", "conn=%llu listener=%s peer=%s status=%d "
             "reason=\"%s\"", (unsigned long long)conn->id, conn->lst->name, conn->peer, status,
             msg);
    weir_http_req_free(hc->building);
    hc->building = NULL;
    weir_http_conn_error(hc, status, msg);
}

static void
weir_http_process(weir_conn_t *conn)
{
    weir_http_conn_t *hc = conn->proto_state;
    size_t pos = 0;

    conn->in_process = true;
    /* Pipelined requests are parsed while answers are written: a client
     * that sends many and reads none makes the broker queue at most about
     * WEIR_HTTP_OUT_MAX of answers (weir_conn.c resumes when it drains). */
    while (!conn->closing && !conn->close_pending && !hc->cur && pos < conn->rlen &&
           conn->out_bytes < WEIR_HTTP_OUT_MAX) {
        size_t left = conn->rlen - pos;
        size_t n = http_parser_execute(&hc->parser, &weir_http_settings,
                                       (const char *)conn->rbuf + pos, left);
        enum http_errno e = HTTP_PARSER_ERRNO(&hc->parser);

        pos += n;
        if (e == HPE_PAUSED) {
            weir_http_req_t *req = hc->ready;

            http_parser_pause(&hc->parser, 0);
            hc->ready = NULL;
            if (req)
                weir_http_dispatch(hc, req);
            continue;
        }
        if (e != HPE_OK) {
            weir_http_parse_failed(hc, e);
            break;
        }
        if (n < left) {
            /* The parser handed over the rest of the stream (CONNECT,
             * Upgrade): no other protocol is spoken here. */
            hc->error_status = 400;
            hc->error_msg = "protocol upgrades are not supported";
            weir_http_parse_failed(hc, HPE_OK);
            break;
        }
    }
    if (pos > 0 && conn->rbuf) {
        memmove(conn->rbuf, conn->rbuf + pos, conn->rlen - pos);
        conn->rlen -= pos;
    }
    conn->in_process = false;
}

static bool
weir_http_input_full(const weir_conn_t *conn)
{
    const weir_http_conn_t *hc = conn->proto_state;

    return hc->cur && conn->rlen >= WEIR_HTTP_PIPELINE_MAX;
}

static bool
weir_http_busy(const weir_conn_t *conn)
{
    const weir_http_conn_t *hc = conn->proto_state;

    return hc->cur != NULL;
}

static void
weir_http_on_close(weir_conn_t *conn)
{
    weir_http_conn_t *hc = conn->proto_state;

    if (hc->cur) {
        weir_http_req_t *req = hc->cur;
        hc->cur = NULL;
        req->conn = NULL;
        if (req->cancel) {
            req->cancel(req);
            weir_http_req_free(req);
        }
        /* Otherwise orphaned: the handler's answer frees it. */
    }
    weir_http_req_free(hc->building);
    hc->building = NULL;
    weir_http_req_free(hc->ready);
    hc->ready = NULL;
}

static void
weir_http_on_free(weir_conn_t *conn)
{
    free(conn->proto_state);
    conn->proto_state = NULL;
}

/* Idle keep-alive connections close; a request that takes too long to
 * arrive is answered 408. */
static void
weir_http_tick(weir_conn_t *conn, int64_t now_ms)
{
    weir_http_conn_t *hc = conn->proto_state;
    const weir_conf_t *conf = conn->brk->conf;

    if (hc->cur || conn->out_head || conn->close_pending)
        return;
    if (hc->building) {
        if (now_ms - hc->msg_start_ms > conf->http_request_timeout_ms) {
            WEIR_LOG(WEIR_LOG_INFO, "http_request_timeout", "conn=%llu listener=%s peer=%s",
                     (unsigned long long)conn->id, conn->lst->name, conn->peer);
            weir_http_req_free(hc->building);
            hc->building = NULL;
            weir_http_conn_error(hc, 408, "request not received within http.request.timeout.ms");
        }
        return;
    }
    if (now_ms - conn->last_active_ms > conf->http_keepalive_timeout_ms)
        weir_conn_drain(conn, "idle longer than http.keepalive.timeout.ms");
}

const weir_conn_proto_t weir_http_proto = {
    .name = "http",
    .on_open = weir_http_on_open,
    .process = weir_http_process,
    .input_full = weir_http_input_full,
    .busy = weir_http_busy,
    .on_close = weir_http_on_close,
    .on_free = weir_http_on_free,
    .tick = weir_http_tick,
    .eof_drains = true,
};

/* ------------------------------------------------------------------ */
/* Server and listeners                                                */

int
weir_http_listeners_parse(const char *spec, weir_http_listener_spec_t *out, int max, char *errstr,
                          size_t errstr_size)
{
    const char *p = spec;
    int n = 0;

    for (;;) {
        const char *end = strchr(p, ','), *hs, *he, *ps;
        weir_http_listener_spec_t l;
        char item[512], *e;
        size_t len;
        long port;

        if (!end)
            end = p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        len = (size_t)(end - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0 || len >= sizeof(item)) {
            snprintf(errstr, errstr_size, "%s listener in \"%s\"", len ? "overlong" : "empty",
                     spec);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        memset(&l, 0, sizeof(l));
        if (strncasecmp(item, "http://", 7) == 0) {
            hs = item + 7;
        } else if (strncasecmp(item, "https://", 8) == 0) {
            hs = item + 8;
            l.tls = true;
        } else {
            snprintf(errstr, errstr_size, "\"%s\" is not http://host:port or https://host:port",
                     item);
            return -1;
        }
        if (*hs == '[') {
            he = strchr(hs, ']');
            if (!he || he[1] != ':') {
                snprintf(errstr, errstr_size, "\"%s\": bad IPv6 address (use [addr]:port)", item);
                return -1;
            }
            ps = he + 2;
            hs++;
        } else {
            he = strrchr(hs, ':');
            if (!he) {
                snprintf(errstr, errstr_size, "\"%s\" has no port", item);
                return -1;
            }
            ps = he + 1;
            for (const char *c = hs; c < he; c++) {
                if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '_') {
                    snprintf(errstr, errstr_size, "\"%s\": bad host name", item);
                    return -1;
                }
            }
        }
        if ((size_t)(he - hs) >= sizeof(l.host)) {
            snprintf(errstr, errstr_size, "\"%s\": host name too long", item);
            return -1;
        }
        memcpy(l.host, hs, (size_t)(he - hs));
        l.host[he - hs] = '\0';
        port = (*ps >= '0' && *ps <= '9') ? strtol(ps, &e, 10) : -1;
        if (port < 0 || port > 65535 || *e != '\0' || strlen(ps) > 5) {
            snprintf(errstr, errstr_size, "\"%s\": port must be an integer in 0 .. 65535", item);
            return -1;
        }
        l.port = (int)port;
        if (n == max) {
            snprintf(errstr, errstr_size, "more than %d HTTP listeners", max);
            return -1;
        }
        out[n++] = l;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    return n;
}

weir_http_server_t *
weir_http_server_new(weir_broker_t *brk)
{
    weir_http_server_t *srv = weir_calloc(1, sizeof(*srv));

    srv->brk = brk;
    srv->router = weir_http_router_new();
    srv->auth = brk->conf->http_auth && strcmp(brk->conf->http_auth, "basic") == 0
                    ? WEIR_HTTP_AUTH_BASIC
                    : WEIR_HTTP_AUTH_NONE;
    return srv;
}

int
weir_http_server_listen(weir_http_server_t *srv, char *errstr, size_t errstr_size)
{
    weir_broker_t *brk = srv->brk;
    weir_http_listener_spec_t spec[WEIR_HTTP_MAX_LISTENERS];
    int n, nplain = 0, ntls = 0;
    weir_tls_conf_t tc;

    if (!brk->conf->http_listeners)
        return 0;
    n = weir_http_listeners_parse(brk->conf->http_listeners, spec, WEIR_HTTP_MAX_LISTENERS, errstr,
                                  errstr_size);
    if (n < 0)
        return WEIR_ERR;
    /* Our own header limit decides (431); the parser's must not be lower. */
    http_parser_set_max_header_size((uint32_t)brk->conf->http_max_header_bytes + 4096);
    weir_broker_tls_conf(brk->conf, &tc);
    srv->listeners = weir_calloc((size_t)n, sizeof(*srv->listeners));
    for (int i = 0; i < n; i++) {
        weir_listener_t *l = &srv->listeners[i];
        int k = spec[i].tls ? ++ntls : ++nplain;
        char name[32];

        if (k == 1)
            snprintf(name, sizeof(name), "%s", spec[i].tls ? "HTTPS" : "HTTP");
        else
            snprintf(name, sizeof(name), "%s-%d", spec[i].tls ? "HTTPS" : "HTTP", k);
        l->name = weir_strdup(name);
        l->host = weir_strdup(spec[i].host);
        l->port = spec[i].port;
        l->fd = -1;
        l->proto = &weir_http_proto;
        l->proto_arg = srv;
        l->security = spec[i].tls ? WEIR_SECPROTO_SSL : WEIR_SECPROTO_PLAINTEXT;
        srv->nlisteners++;
        if (spec[i].tls) {
            char err[512];
            l->ssl_ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
            if (!l->ssl_ctx) {
                snprintf(errstr, errstr_size, "listener %s: %s", l->name, err);
                return WEIR_ERR;
            }
        }
        if (weir_listener_open(brk, l, errstr, errstr_size) != 0)
            return WEIR_ERR;
        l->adv_host = weir_strdup(l->host);
        l->adv_port = l->port;
        WEIR_LOG(WEIR_LOG_INFO, "listening", "listener=%s host=%s port=%d protocol=%s auth=%s",
                 l->name, l->host, l->port, spec[i].tls ? "HTTPS" : "HTTP",
                 srv->auth == WEIR_HTTP_AUTH_BASIC ? "basic" : "none");
    }
    return 0;
}

void
weir_http_server_close(weir_http_server_t *srv)
{
    if (!srv)
        return;
    for (size_t i = 0; i < srv->nlisteners; i++)
        weir_listener_close(&srv->listeners[i]);
}

void
weir_http_server_free(weir_http_server_t *srv)
{
    if (!srv)
        return;
    for (size_t i = 0; i < srv->nlisteners; i++) {
        free(srv->listeners[i].name);
        free(srv->listeners[i].host);
        free(srv->listeners[i].adv_host);
        weir_tls_ctx_free(srv->listeners[i].ssl_ctx);
    }
    free(srv->listeners);
    weir_http_router_free(srv->router);
    free(srv->counts);
    free(srv);
}

size_t
weir_http_server_nlisteners(const weir_http_server_t *srv)
{
    return srv ? srv->nlisteners : 0;
}

weir_listener_t *
weir_http_server_listener(weir_http_server_t *srv, size_t i)
{
    return srv && i < srv->nlisteners ? &srv->listeners[i] : NULL;
}

int
weir_http_route_add(weir_http_server_t *srv, const weir_http_route_t *routes, size_t n,
                    char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < n; i++)
        if (weir_http_router_add(srv->router, &routes[i], errstr, errstr_size) != 0)
            return -1;
    return 0;
}

const weir_http_router_t *
weir_http_server_router(const weir_http_server_t *srv)
{
    return srv->router;
}
