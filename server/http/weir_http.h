/*
 * weir_http.h: HTTP/1.1 on the broker's loop - the shared base of the
 * Schema Registry, the admin API, the REST proxy and /metrics.
 *
 * HTTP listeners (http.listeners) are ordinary broker listeners whose
 * connection protocol is HTTP (weir_conn_proto_t): accepting, TLS (https
 * uses the ssl.* key store of the Kafka SSL listeners), the output queue,
 * backpressure and closing are weir_conn.c's.  Requests are parsed by
 * nodejs' http_parser (Debian's libhttp-parser) with limits on header bytes
 * (http.max.header.bytes: 431) and body bytes (http.max.request.bytes:
 * 413), answered strictly in order (pipelining: one request in service at
 * a time per connection, the next parsed only after it is answered), kept
 * alive until http.keepalive.timeout.ms of idleness, closed after an
 * answer to `Connection: close` or an HTTP/1.0 request without keep-alive.
 * Malformed input is answered 400 with a JSON body, then the connection
 * closes.
 *
 * Handlers (weir_http_router.h) follow the Kafka handlers' contract: answer
 * now or defer, with a cancel hook for a connection that closes first.
 * With http.auth=basic every request except WEIR_HTTP_ROUTE_NO_AUTH routes
 * carries Basic credentials checked against LDAP (auth/weir_ldap.h, on the
 * worker pool, with its sign-on cache) before the handler runs; the
 * request's principal is then User:<name> with Group:<g> for each LDAP
 * group.  Failures answer 401 with WWW-Authenticate.  Authorization is the
 * handlers' business (governance), using req->principal.
 *
 * Errors use Confluent's JSON form: {"error_code": N, "message": "..."}.
 */
#ifndef WEIR_HTTP_H
#define WEIR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "weir_auth.h"
#include "weir_conn.h"
#include "weir_http_router.h"

typedef struct weir_broker_s weir_broker_t;
typedef struct weir_http_server_s weir_http_server_t;

typedef enum weir_http_auth_e {
    WEIR_HTTP_AUTH_NONE = 0,
    WEIR_HTTP_AUTH_BASIC,
} weir_http_auth_t;

/** A request header (name as sent; compare case-insensitively). */
typedef struct weir_http_header_s {
    char *name;
    char *value;
} weir_http_header_t;

/** A decoded query parameter (name=value; value "" when there is no '='). */
typedef struct weir_http_qparam_s {
    char *name;
    char *value;
} weir_http_qparam_t;

/** One HTTP request, from its parse until its answer. */
struct weir_http_req_s {
    weir_conn_t *conn;          /* NULL once the connection closed (orphaned request) */
    weir_broker_t *brk;
    weir_http_server_t *srv;
    const weir_http_route_t *route; /* NULL until routed */
    const char *method;         /* "GET", ... */
    int method_id;              /* http_parser's enum http_method */
    char *target;               /* the request target as sent */
    char *path;                 /* its path part, percent-decoded (for logs) */
    char *raw_path;             /* its path part as sent */
    weir_http_qparam_t *query;  /* decoded query parameters, in order */
    size_t nquery;
    weir_http_header_t *headers;
    size_t nheaders;
    uint8_t *body;              /* NUL-terminated (not counted in body_len) */
    size_t body_len;
    weir_http_match_t match;    /* path parameters */
    weir_principal_t principal; /* the connection's (TLS) or from Basic auth */
    unsigned short http_major, http_minor;
    bool keep_alive;            /* the client keeps the connection open */
    bool head;                  /* HEAD: the answer has no body */
    int64_t recv_us;            /* monotonic, when the request was complete */
    /* Set by a handler that defers: called if the connection closes first.
     * It must drop every reference to the request, which is freed after it
     * returns.  Without it the request stays orphaned (conn NULL) and the
     * handler's answer just frees it. */
    void (*cancel)(weir_http_req_t *req);
    void *ctx;
    /* Response headers added with weir_http_set_header() ("Name: value\r\n"...). */
    char *resp_headers;
    size_t resp_headers_len;
    /* Private. */
    size_t header_bytes;
    size_t body_cap;
    bool in_value;
};

/* ------------------------------------------------------------------ */
/* Server                                                              */

/** Creates the HTTP server of a broker (no listener yet; routes may be added). */
weir_http_server_t *weir_http_server_new(weir_broker_t *brk);

/**
 * @brief Binds the listeners of http.listeners.  https listeners use
 *        ssl_ctx_new() contexts made from the broker's ssl.* settings.
 * @returns 0, or an error with errstr set.
 */
int weir_http_server_listen(weir_http_server_t *srv, char *errstr, size_t errstr_size);

/** Stops accepting (connections are the broker's to close). */
void weir_http_server_close(weir_http_server_t *srv);

/** Frees the server once the loop has finished with its listeners. */
void weir_http_server_free(weir_http_server_t *srv);

/** The listeners (name "HTTP"/"HTTPS", then "HTTP-2"... for more of a kind). */
size_t weir_http_server_nlisteners(const weir_http_server_t *srv);
weir_listener_t *weir_http_server_listener(weir_http_server_t *srv, size_t i);

/**
 * @brief Adds routes (the structs are copied, their strings are not).
 * @returns 0, or -1 with the reason in errstr.
 */
int weir_http_route_add(weir_http_server_t *srv, const weir_http_route_t *routes, size_t n,
                        char *errstr, size_t errstr_size);

/** The route table (for tests and listings). */
const weir_http_router_t *weir_http_server_router(const weir_http_server_t *srv);

/** Calls cb for every (route label, status) answer count (metrics). */
void weir_http_server_counts(const weir_http_server_t *srv,
                             void (*cb)(void *arg, const char *route, int status, uint64_t n),
                             void *arg);

/** The HTTP connection protocol (listeners of http.listeners). */
extern const weir_conn_proto_t weir_http_proto;

/**
 * One listener of http.listeners: "http://host:port" or "https://host:port"
 * (host empty = all interfaces, [v6] for IPv6, port 0 = ephemeral).
 */
typedef struct weir_http_listener_spec_s {
    bool tls;
    char host[256];
    int port;
} weir_http_listener_spec_t;

/**
 * @brief Parses an http.listeners value into at most max entries.
 * @returns the count, or -1 with the reason in errstr.
 */
int weir_http_listeners_parse(const char *spec, weir_http_listener_spec_t *out, int max,
                              char *errstr, size_t errstr_size);

/* ------------------------------------------------------------------ */
/* Requests                                                            */

/** The value of a request header (case-insensitive name), or NULL. */
const char *weir_http_header(const weir_http_req_t *req, const char *name);
/** A path parameter of the route ("{subject}" -> "subject"), decoded, or NULL. */
const char *weir_http_param(const weir_http_req_t *req, const char *name);
/** The first query parameter named name, decoded, or NULL. */
const char *weir_http_query(const weir_http_req_t *req, const char *name);

/**
 * @brief Parses the body as JSON.
 * @returns the value (caller json_decref()s it), or NULL with a message for
 *          the client in errstr (empty or malformed body).
 */
json_t *weir_http_body_json(const weir_http_req_t *req, char *errstr, size_t errstr_size);

/* ------------------------------------------------------------------ */
/* Answers.  Each finishes the request: req is freed, the handler must not */
/* touch it afterwards.  On an orphaned request they only free it.        */

/** Adds a response header (e.g. Location); CR/LF in name or value are refused. */
void weir_http_set_header(weir_http_req_t *req, const char *name, const char *value);

/** Answers with len bytes of body (copied).  content_type NULL: the route's default. */
void weir_http_respond(weir_http_req_t *req, int status, const char *content_type,
                       const void *body, size_t len);

/** Answers with a JSON value (takes the reference; NULL answers "null"), as
 *  the route's content type when that is a JSON type, else application/json. */
void weir_http_respond_json(weir_http_req_t *req, int status, json_t *value);

/** Answers {"error_code": error_code, "message": "..."} (Confluent's error form). */
void weir_http_respond_error(weir_http_req_t *req, int status, int error_code, const char *fmt,
                             ...) __attribute__((format(printf, 4, 5)));

/** The reason phrase of a status ("Not Found"). */
const char *weir_http_status_text(int status);

#endif
