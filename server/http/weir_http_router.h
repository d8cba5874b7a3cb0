/*
 * weir_http_router.h: the HTTP route table - method plus path pattern to a
 * handler, the HTTP counterpart of the Kafka dispatch table.
 *
 * A pattern is a path whose segments are literals or whole-segment
 * parameters: "/subjects/{subject}/versions/{version}".  Matching splits
 * the request path on '/' first and percent-decodes each segment after, so
 * an encoded slash ("%2F") stays inside a parameter.  Where several
 * patterns match, the one with a literal at the first position where they
 * differ wins ("/subjects/{s}/versions/latest" over ".../{version}").  A
 * path that some pattern matches with another method gives 405 and the
 * methods that would work (the Allow header); HEAD is served by GET routes.
 * An empty last segment (a trailing slash) is ignored.
 */
#ifndef WEIR_HTTP_ROUTER_H
#define WEIR_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct weir_http_req_s weir_http_req_t;

/**
 * A route handler.  Same contract as the Kafka handlers: answer now with
 * one of the weir_http_respond*() calls, or defer (keep req, answer later;
 * set req->cancel to hear about the connection closing first).  Returns 0;
 * a non-zero return without an answer is a bug and gets a 500.
 */
typedef int (*weir_http_handler_t)(weir_http_req_t *req);

#define WEIR_HTTP_ROUTE_NO_AUTH 0x01 /* served without credentials even with http.auth=basic */

/** One route.  Strings must outlive the router (static tables). */
typedef struct weir_http_route_s {
    const char *method;       /* "GET", "POST", "PUT", "DELETE", ... */
    const char *pattern;      /* "/subjects/{subject}/versions" */
    weir_http_handler_t handler;
    const char *content_type; /* default Content-Type of answers; NULL: application/json */
    const char *name;         /* label in metrics and logs; NULL: the pattern */
    unsigned flags;           /* WEIR_HTTP_ROUTE_* */
    void *arg;                /* the handler's context (req->route->arg) */
} weir_http_route_t;

#define WEIR_HTTP_MAX_PARAMS 8
#define WEIR_HTTP_MAX_SEGMENTS 32

typedef struct weir_http_router_s weir_http_router_t;

/** The outcome of weir_http_router_match(). */
typedef struct weir_http_match_s {
    int status;                       /* 200 matched, 400 bad encoding, 404, 405 */
    const weir_http_route_t *route;   /* when 200 */
    size_t nparams;
    const char *names[WEIR_HTTP_MAX_PARAMS]; /* parameter names (point into the route) */
    char *values[WEIR_HTTP_MAX_PARAMS];      /* decoded values (owned) */
    char allow[96];                   /* 405: "GET, HEAD, POST" */
} weir_http_match_t;

weir_http_router_t *weir_http_router_new(void);
void weir_http_router_free(weir_http_router_t *r);

/**
 * @brief Adds a route (the struct is copied; its strings are not).
 * @returns 0, or -1 with the reason in errstr (bad pattern, duplicate).
 */
int weir_http_router_add(weir_http_router_t *r, const weir_http_route_t *route, char *errstr,
                         size_t errstr_size);

/** Number of routes, and the i-th (for listings and metrics). */
size_t weir_http_router_count(const weir_http_router_t *r);
const weir_http_route_t *weir_http_router_get(const weir_http_router_t *r, size_t i);

/**
 * @brief Finds the route for method and path (the path part of the request
 *        target, still percent-encoded, starting with '/').  Fills m
 *        (release it with weir_http_match_clear()).
 * @returns m->status.
 */
int weir_http_router_match(const weir_http_router_t *r, const char *method, const char *path,
                           weir_http_match_t *m);
void weir_http_match_clear(weir_http_match_t *m);

/**
 * @brief Percent-decodes len bytes of s ('+' stays '+' unless plus_space).
 * @returns a malloc'ed NUL-terminated string, or NULL when an escape is
 *          malformed or decodes to a NUL byte.
 */
char *weir_http_pct_decode(const char *s, size_t len, bool plus_space);

#endif
