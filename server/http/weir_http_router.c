/*
 * weir_http_router.c: route patterns, matching a request path against
 * them, and percent-decoding.  Pure code (no sockets) so that the unit tests
 * exercise it directly.
 */
#include "weir_http_router.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "weir_common.h"

/* A pattern split into segments; params[i] is true where segment i is a
 * "{name}" parameter (segs[i] then holds the name). */
typedef struct weir_http_pat_s {
    weir_http_route_t route;
    char *segs[WEIR_HTTP_MAX_SEGMENTS];
    bool params[WEIR_HTTP_MAX_SEGMENTS];
    size_t nsegs;
} weir_http_pat_t;

struct weir_http_router_s {
    weir_http_pat_t **pats;
    size_t n, cap;
};

weir_http_router_t *
weir_http_router_new(void)
{
    return weir_calloc(1, sizeof(weir_http_router_t));
}

static void
weir_http_pat_free(weir_http_pat_t *p)
{
    for (size_t i = 0; i < p->nsegs; i++)
        free(p->segs[i]);
    free(p);
}

void
weir_http_router_free(weir_http_router_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        weir_http_pat_free(r->pats[i]);
    free(r->pats);
    free(r);
}

/* Splits a path (starting with '/') into segment views; a trailing empty
 * segment is dropped.  Returns the count or -1 when there are too many. */
static int
weir_http_split(const char *path, const char **seg, size_t *len, size_t max)
{
    const char *p = path + 1;
    size_t n = 0;

    if (path[0] != '/')
        return -1;
    if (*p == '\0')
        return 0;
    for (;;) {
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);

        if (!e && l == 0)
            break; /* trailing slash */
        if (n == max)
            return -1;
        seg[n] = p;
        len[n] = l;
        n++;
        if (!e)
            break;
        p = e + 1;
    }
    return (int)n;
}

int
weir_http_router_add(weir_http_router_t *r, const weir_http_route_t *route, char *errstr,
                     size_t errstr_size)
{
    const char *seg[WEIR_HTTP_MAX_SEGMENTS];
    size_t len[WEIR_HTTP_MAX_SEGMENTS], nparams = 0;
    weir_http_pat_t *p;
    int n;

    if (!route->method || !route->pattern || !route->handler) {
        snprintf(errstr, errstr_size, "route needs a method, a pattern and a handler");
        return -1;
    }
    n = weir_http_split(route->pattern, seg, len, WEIR_HTTP_MAX_SEGMENTS);
    if (n < 0) {
        snprintf(errstr, errstr_size, "route %s: pattern must start with '/' and have at most "
                 "%d segments", route->pattern, WEIR_HTTP_MAX_SEGMENTS);
        return -1;
    }
    p = weir_calloc(1, sizeof(*p));
    p->route = *route;
    for (int i = 0; i < n; i++) {
        bool param = len[i] >= 3 && seg[i][0] == '{' && seg[i][len[i] - 1] == '}';
        const char *in = param ? seg[i] + 1 : seg[i];
        size_t inlen = param ? len[i] - 2 : len[i];

        if (len[i] == 0 || memchr(in, '{', inlen) || memchr(in, '}', inlen)) {
            snprintf(errstr, errstr_size, "route %s: bad segment %d (empty, or braces that are "
                     "not a whole {name})", route->pattern, i + 1);
            p->nsegs = (size_t)i;
            weir_http_pat_free(p);
            return -1;
        }
        if (param && ++nparams > WEIR_HTTP_MAX_PARAMS) {
            snprintf(errstr, errstr_size, "route %s: more than %d parameters", route->pattern,
                     WEIR_HTTP_MAX_PARAMS);
            p->nsegs = (size_t)i;
            weir_http_pat_free(p);
            return -1;
        }
        p->params[i] = param;
        p->segs[i] = param ? weir_strndup(seg[i] + 1, len[i] - 2) : weir_strndup(seg[i], len[i]);
    }
    p->nsegs = (size_t)n;
    /* The same method and shape (literals equal, parameters anywhere the
     * other has one) twice would make one route unreachable. */
    for (size_t k = 0; k < r->n; k++) {
        weir_http_pat_t *o = r->pats[k];
        bool same = o->nsegs == p->nsegs && strcasecmp(o->route.method, route->method) == 0;

        for (size_t i = 0; same && i < p->nsegs; i++)
            same = o->params[i] == p->params[i] &&
                   (p->params[i] || !strcmp(o->segs[i], p->segs[i]));
        if (same) {
            snprintf(errstr, errstr_size, "route %s %s: already served by %s", route->method,
                     route->pattern, o->route.pattern);
            weir_http_pat_free(p);
            return -1;
        }
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->pats = weir_realloc(r->pats, r->cap * sizeof(*r->pats));
    }
    r->pats[r->n++] = p;
    return 0;
}

size_t
weir_http_router_count(const weir_http_router_t *r)
{
    return r->n;
}

const weir_http_route_t *
weir_http_router_get(const weir_http_router_t *r, size_t i)
{
    return i < r->n ? &r->pats[i]->route : NULL;
}

static int
weir_http_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *
weir_http_pct_decode(const char *s, size_t len, bool plus_space)
{
    char *out = weir_malloc(len + 1);
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len) {
                free(out);
                return NULL;
            }
            hi = weir_http_hex(s[i + 1]);
            lo = weir_http_hex(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            out[o++] = ' ';
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

/* Whether pattern p matches the segments; fills names/values on success
 * (values decoded).  Returns 1 on a match, 0 on none, -1 on a bad escape. */
static int
weir_http_pat_match(const weir_http_pat_t *p, const char **seg, const size_t *len, size_t n,
                    weir_http_match_t *m)
{
    size_t np = 0;

    if (p->nsegs != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p->params[i]) {
            if (len[i] == 0)
                return 0;
            continue;
        }
        if (strlen(p->segs[i]) != len[i] || memcmp(p->segs[i], seg[i], len[i]) != 0)
            return 0;
    }
    if (!m)
        return 1;
    for (size_t i = 0; i < n; i++) {
        char *v;

        if (!p->params[i])
            continue;
        v = weir_http_pct_decode(seg[i], len[i], false);
        if (!v) {
            for (size_t k = 0; k < np; k++) {
                free(m->values[k]);
                m->values[k] = NULL;
            }
            m->nparams = 0;
            return -1;
        }
        m->names[np] = p->segs[i];
        m->values[np] = v;
        np++;
    }
    m->nparams = np;
    return 1;
}

/* True if a is preferred over b: a literal where they first differ. */
static bool
weir_http_pat_better(const weir_http_pat_t *a, const weir_http_pat_t *b)
{
    for (size_t i = 0; i < a->nsegs && i < b->nsegs; i++)
        if (a->params[i] != b->params[i])
            return !a->params[i];
    return false;
}

static void
weir_http_allow_add(char *allow, size_t size, const char *method)
{
    size_t l = strlen(allow), ml = strlen(method);
    const char *p = allow;

    /* Already listed? */
    while ((p = strstr(p, method)) != NULL) {
        if ((p == allow || p[-1] == ' ') && (p[ml] == ',' || p[ml] == '\0'))
            return;
        p += ml;
    }
    snprintf(allow + l, size - l, "%s%s", l ? ", " : "", method);
}

int
weir_http_router_match(const weir_http_router_t *r, const char *method, const char *path,
                       weir_http_match_t *m)
{
    const char *seg[WEIR_HTTP_MAX_SEGMENTS];
    size_t len[WEIR_HTTP_MAX_SEGMENTS];
    const weir_http_pat_t *best = NULL;
    bool head = strcmp(method, "HEAD") == 0, other = false;
    int n;

    memset(m, 0, sizeof(*m));
    n = weir_http_split(path, seg, len, WEIR_HTTP_MAX_SEGMENTS);
    if (n < 0) {
        m->status = 404;
        return m->status;
    }
    for (size_t k = 0; k < r->n; k++) {
        const weir_http_pat_t *p = r->pats[k];
        bool same_method = strcmp(p->route.method, method) == 0 ||
                           (head && strcmp(p->route.method, "GET") == 0);

        if (weir_http_pat_match(p, seg, len, (size_t)n, NULL) != 1)
            continue;
        if (!same_method) {
            other = true;
            weir_http_allow_add(m->allow, sizeof(m->allow), p->route.method);
            if (strcmp(p->route.method, "GET") == 0)
                weir_http_allow_add(m->allow, sizeof(m->allow), "HEAD");
            continue;
        }
        if (!best || weir_http_pat_better(p, best))
            best = p;
    }
    if (!best) {
        m->status = other ? 405 : 404;
        return m->status;
    }
    if (weir_http_pat_match(best, seg, len, (size_t)n, m) < 0) {
        m->status = 400;
        return m->status;
    }
    m->allow[0] = '\0';
    m->route = &best->route;
    m->status = 200;
    return m->status;
}

void
weir_http_match_clear(weir_http_match_t *m)
{
    for (size_t i = 0; i < m->nparams; i++)
        free(m->values[i]);
    m->nparams = 0;
    m->route = NULL;
}
