/*
 * test_http.c: the HTTP layer (server/http) and the metrics text format.
 *
 * Pure parts directly: route patterns and matching (literal over parameter,
 * 404/405 with Allow, HEAD on GET routes, percent-decoding inside a
 * segment), percent-decoding, http.listeners parsing, the Prometheus writer
 * (escaping, cumulative histograms) and record counting of batches.
 *
 * The protocol end to end against a real in-process broker (libuv loop in
 * its own thread, an HTTP listener on an ephemeral loopback port, test
 * routes registered on it) and a blocking raw-socket client: keep-alive,
 * pipelined requests answered in order (also behind a deferred one),
 * HTTP/1.0 with and without keep-alive, Connection: close, a request
 * delivered byte by byte, chunked bodies, Expect: 100-continue, HEAD, 400 on
 * malformed input (JSON body, connection closed), 404, 405 + Allow, 413 by
 * Content-Length and by chunked size, 431, a half-closed client still
 * answered, the cancel hook when the client goes away, the keep-alive idle
 * and request timeouts, /metrics counting the answers, and the graceful
 * stop finishing a deferred request before closing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <uv.h>

#include "weir_broker.h"
#include "weir_common.h"
#include "weir_conf.h"
#include "weir_http.h"
#include "weir_log.h"
#include "weir_metrics.h"

/* ---------------------------------------------------------------------------
 * Router (pure)
 * ------------------------------------------------------------------------- */

static int
h_dummy(weir_http_req_t *req)
{
    (void)req;
    return 0;
}

static void
test_router_match(void **state)
{
    weir_http_router_t *r = weir_http_router_new();
    weir_http_match_t m;
    char err[256];
    static const weir_http_route_t routes[] = {
        {.method = "GET", .pattern = "/subjects", .handler = h_dummy},
        {.method = "GET", .pattern = "/subjects/{subject}/versions", .handler = h_dummy},
        {.method = "POST", .pattern = "/subjects/{subject}/versions", .handler = h_dummy},
        {.method = "GET", .pattern = "/subjects/{subject}/versions/{version}", .handler = h_dummy},
        {.method = "GET", .pattern = "/subjects/{subject}/versions/latest", .handler = h_dummy,
         .name = "latest"},
        {.method = "DELETE", .pattern = "/subjects/{subject}", .handler = h_dummy},
        {.method = "GET", .pattern = "/", .handler = h_dummy, .name = "root"},
    };

    (void)state;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(routes); i++)
        assert_int_equal(weir_http_router_add(r, &routes[i], err, sizeof(err)), 0);
    assert_int_equal(weir_http_router_count(r), WEIR_ARRAY_SIZE(routes));

    assert_int_equal(weir_http_router_match(r, "GET", "/subjects", &m), 200);
    assert_ptr_equal(m.route, weir_http_router_get(r, 0));
    assert_int_equal(m.nparams, 0);
    weir_http_match_clear(&m);
    /* A trailing slash is the same path. */
    assert_int_equal(weir_http_router_match(r, "GET", "/subjects/", &m), 200);
    weir_http_match_clear(&m);
    assert_int_equal(weir_http_router_match(r, "GET", "/", &m), 200);
    assert_string_equal(m.route->name, "root");
    weir_http_match_clear(&m);

    /* Parameters are decoded per segment: %2F stays inside. */
    assert_int_equal(weir_http_router_match(r, "POST", "/subjects/a%2Fb%20c/versions", &m), 200);
    assert_string_equal(m.route->method, "POST");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.names[0], "subject");
    assert_string_equal(m.values[0], "a/b c");
    weir_http_match_clear(&m);

    /* A literal beats a parameter at the same position. */
    assert_int_equal(weir_http_router_match(r, "GET", "/subjects/t-value/versions/latest", &m),
                     200);
    assert_string_equal(m.route->name, "latest");
    assert_int_equal(m.nparams, 1);
    weir_http_match_clear(&m);
    assert_int_equal(weir_http_router_match(r, "GET", "/subjects/t-value/versions/3", &m), 200);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.names[1], "version");
    assert_string_equal(m.values[1], "3");
    weir_http_match_clear(&m);

    /* HEAD is served by GET routes. */
    assert_int_equal(weir_http_router_match(r, "HEAD", "/subjects", &m), 200);
    weir_http_match_clear(&m);

    /* 405 lists what works. */
    assert_int_equal(weir_http_router_match(r, "PUT", "/subjects/x/versions", &m), 405);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    weir_http_match_clear(&m);
    assert_int_equal(weir_http_router_match(r, "GET", "/subjects/x", &m), 405);
    assert_string_equal(m.allow, "DELETE");
    weir_http_match_clear(&m);

    /* 404: no shape fits; empty segments are not parameters. */
    assert_int_equal(weir_http_router_match(r, "GET", "/nope", &m), 404);
    assert_int_equal(weir_http_router_match(r, "GET", "/subjects//versions", &m), 404);
    assert_int_equal(weir_http_router_match(r, "GET", "/subjects/x/versions/1/extra", &m), 404);
    assert_int_equal(weir_http_router_match(r, "GET", "subjects", &m), 404);

    /* Bad escapes in a parameter: 400. */
    assert_int_equal(weir_http_router_match(r, "GET", "/subjects/%zz/versions", &m), 400);
    assert_int_equal(m.nparams, 0);
    assert_int_equal(weir_http_router_match(r, "GET", "/subjects/a%0/versions", &m), 400);
    assert_int_equal(weir_http_router_match(r, "GET", "/subjects/a%00b/versions", &m), 400);
    weir_http_router_free(r);
}

static void
test_router_bad_routes(void **state)
{
    weir_http_router_t *r = weir_http_router_new();
    char err[256];
    weir_http_route_t rt = {.method = "GET", .pattern = "/a/{x}", .handler = h_dummy};

    (void)state;
    assert_int_equal(weir_http_router_add(r, &rt, err, sizeof(err)), 0);
    /* Same shape and method: the second could never be reached. */
    rt.pattern = "/a/{y}";
    assert_int_equal(weir_http_router_add(r, &rt, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "already served"));
    /* Another method is fine. */
    rt.method = "PUT";
    assert_int_equal(weir_http_router_add(r, &rt, err, sizeof(err)), 0);
    rt.method = "GET";
    rt.pattern = "a/b";
    assert_int_equal(weir_http_router_add(r, &rt, err, sizeof(err)), -1);
    rt.pattern = "/a/x{y}";
    assert_int_equal(weir_http_router_add(r, &rt, err, sizeof(err)), -1);
    rt.pattern = "/a/{}";
    assert_int_equal(weir_http_router_add(r, &rt, err, sizeof(err)), -1);
    rt.pattern = "/a//b";
    assert_int_equal(weir_http_router_add(r, &rt, err, sizeof(err)), -1);
    rt.pattern = "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}";
    assert_int_equal(weir_http_router_add(r, &rt, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "parameters"));
    rt.pattern = "/x";
    rt.handler = NULL;
    assert_int_equal(weir_http_router_add(r, &rt, err, sizeof(err)), -1);
    assert_int_equal(weir_http_router_count(r), 2);
    weir_http_router_free(r);
}

static void
test_pct_decode(void **state)
{
    char *s;

    (void)state;
    s = weir_http_pct_decode("a%41b%7e+c", 10, false);
    assert_string_equal(s, "aAb~+c");
    free(s);
    s = weir_http_pct_decode("a+b%2B", 6, true);
    assert_string_equal(s, "a b+");
    free(s);
    s = weir_http_pct_decode("%C3%A9", 6, false);
    assert_string_equal(s, "\xc3\xa9");
    free(s);
    assert_null(weir_http_pct_decode("%", 1, false));
    assert_null(weir_http_pct_decode("%4", 2, false));
    assert_null(weir_http_pct_decode("%4g", 3, false));
    assert_null(weir_http_pct_decode("x%00", 4, false));
    /* Only len bytes are read. */
    s = weir_http_pct_decode("abc%41", 3, false);
    assert_string_equal(s, "abc");
    free(s);
}

static void
test_listeners_parse(void **state)
{
    weir_http_listener_spec_t l[8];
    char err[256];

    (void)state;
    assert_int_equal(weir_http_listeners_parse("http://127.0.0.1:8081, HTTPS://:8443,"
                                               "http://[::1]:0",
                                               l, 8, err, sizeof(err)),
                     3);
    assert_false(l[0].tls);
    assert_string_equal(l[0].host, "127.0.0.1");
    assert_int_equal(l[0].port, 8081);
    assert_true(l[1].tls);
    assert_string_equal(l[1].host, "");
    assert_int_equal(l[1].port, 8443);
    assert_string_equal(l[2].host, "::1");
    assert_int_equal(l[2].port, 0);
    assert_int_equal(weir_http_listeners_parse("PLAINTEXT://x:1", l, 8, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "http://"));
    assert_int_equal(weir_http_listeners_parse("http://x", l, 8, err, sizeof(err)), -1);
    assert_int_equal(weir_http_listeners_parse("http://x:65536", l, 8, err, sizeof(err)), -1);
    assert_int_equal(weir_http_listeners_parse("http://x:-1", l, 8, err, sizeof(err)), -1);
    assert_int_equal(weir_http_listeners_parse("http://x:80a", l, 8, err, sizeof(err)), -1);
    assert_int_equal(weir_http_listeners_parse("http://x y:80", l, 8, err, sizeof(err)), -1);
    assert_int_equal(weir_http_listeners_parse("http://[::1:80", l, 8, err, sizeof(err)), -1);
    assert_int_equal(weir_http_listeners_parse("http://a:1,", l, 8, err, sizeof(err)), -1);
    assert_int_equal(weir_http_listeners_parse("http://a:1,http://b:2", l, 1, err, sizeof(err)),
                     -1);
}

static void
test_conf_http(void **state)
{
    weir_conf_t c;
    char err[512];

    (void)state;
    weir_conf_defaults(&c);
    assert_null(c.http_listeners);
    assert_string_equal(c.http_auth, "none");
    assert_int_equal(c.http_max_request_bytes, 1048576);
    assert_int_equal(c.http_max_header_bytes, 16384);
    assert_int_equal(c.shutdown_timeout_ms, 5000);
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), 0);
    assert_int_equal(weir_conf_set(&c, "http.listeners", "ftp://x:1", err, sizeof(err)), -1);
    assert_int_equal(weir_conf_set(&c, "http.auth", "digest", err, sizeof(err)), -1);
    /* https needs the key store. */
    assert_int_equal(weir_conf_set(&c, "http.listeners", "https://127.0.0.1:0", err, sizeof(err)),
                     0);
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "ssl.keystore.location"));
    /* The same address as a Kafka listener. */
    assert_int_equal(weir_conf_set(&c, "http.listeners", "http://127.0.0.1:9092", err,
                                   sizeof(err)),
                     0);
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "used twice"));
    assert_int_equal(weir_conf_set(&c, "http.listeners", "http://127.0.0.1:8081", err,
                                   sizeof(err)),
                     0);
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), 0);
    /* Basic auth needs LDAP. */
    assert_int_equal(weir_conf_set(&c, "http.auth", "basic", err, sizeof(err)), 0);
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "ldap.url"));
    assert_int_equal(weir_conf_set(&c, "ldap.url", "ldap://127.0.0.1:389", err, sizeof(err)), 0);
    assert_int_equal(weir_conf_set(&c, "ldap.user.dn.template", "uid={user},dc=x", err,
                                   sizeof(err)),
                     0);
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), 0);
    weir_conf_free(&c);
}

/* ---------------------------------------------------------------------------
 * Metrics text format (pure)
 * ------------------------------------------------------------------------- */

static char *
wbuf_str(weir_wbuf_t *w)
{
    weir_wr_raw(w, "", 1);
    return (char *)w->data;
}

static void
test_prom_writer(void **state)
{
    weir_wbuf_t w;
    weir_histogram_t h;

    (void)state;
    weir_wbuf_init(&w, 64);
    weir_prom_family(&w, "weir_x_total", "counter", "A \\ help\nline with \"quotes\".");
    weir_prom_sample_u64(&w, "weir_x_total", 18446744073709551615ULL, "topic", "a\"b\\c\nd",
                         "partition", "0", NULL);
    weir_prom_sample(&w, "weir_y", 1.5, NULL);
    weir_prom_sample(&w, "weir_y", 1e20, NULL);
    weir_prom_sample(&w, "weir_y", 0.1, NULL);
    weir_prom_sample_i64(&w, "weir_z", -3, "k", "", NULL);
    assert_string_equal(wbuf_str(&w),
                        "# HELP weir_x_total A \\\\ help\\nline with \"quotes\".\n"
                        "# TYPE weir_x_total counter\n"
                        "weir_x_total{topic=\"a\\\"b\\\\c\\nd\",partition=\"0\"} "
                        "18446744073709551615\n"
                        "weir_y 1.5\n"
                        "weir_y 1e+20\n"
                        "weir_y 0.1\n"
                        "weir_z{k=\"\"} -3\n");
    weir_wbuf_free(&w);

    memset(&h, 0, sizeof(h));
    weir_histogram_observe(&h, 0.0001); /* first bucket */
    weir_histogram_observe(&h, 0.0005); /* le is inclusive */
    weir_histogram_observe(&h, 0.3);    /* 0.5 */
    weir_histogram_observe(&h, 100);    /* +Inf only */
    weir_wbuf_init(&w, 64);
    weir_prom_histogram(&w, "weir_d_seconds", &h, "api", "Fetch");
    {
        const char *s = wbuf_str(&w);
        assert_non_null(strstr(s, "weir_d_seconds_bucket{api=\"Fetch\",le=\"0.0005\"} 2\n"));
        assert_non_null(strstr(s, "weir_d_seconds_bucket{api=\"Fetch\",le=\"0.25\"} 2\n"));
        assert_non_null(strstr(s, "weir_d_seconds_bucket{api=\"Fetch\",le=\"0.5\"} 3\n"));
        assert_non_null(strstr(s, "weir_d_seconds_bucket{api=\"Fetch\",le=\"30\"} 3\n"));
        assert_non_null(strstr(s, "weir_d_seconds_bucket{api=\"Fetch\",le=\"+Inf\"} 4\n"));
        assert_non_null(strstr(s, "weir_d_seconds_sum{api=\"Fetch\"} 100.3006\n"));
        assert_non_null(strstr(s, "weir_d_seconds_count{api=\"Fetch\"} 4\n"));
    }
    weir_wbuf_free(&w);
}

/* A v2 record batch header (61 bytes) with BatchLength and RecordsCount set,
 * followed by pad bytes of records. */
static size_t
put_batch(uint8_t *p, int32_t records, size_t pad)
{
    memset(p, 0, 61 + pad);
    weir_put_be32(p + 8, (uint32_t)(49 + pad));
    p[16] = 2;
    weir_put_be32(p + 57, (uint32_t)records);
    return 61 + pad;
}

static void
test_batch_records(void **state)
{
    uint8_t buf[1024];
    size_t n = 0;

    (void)state;
    n += put_batch(buf + n, 3, 20);
    n += put_batch(buf + n, 1, 0);
    n += put_batch(buf + n, 250, 100);
    assert_int_equal(weir_metrics_batch_records(buf, n), 254);
    /* An incomplete last batch is not counted. */
    assert_int_equal(weir_metrics_batch_records(buf, n - 1), 4);
    assert_int_equal(weir_metrics_batch_records(buf, 10), 0);
    weir_metrics_request_done(0, 1500);
    assert_int_equal(weir_metrics.requests[0], 1);
    assert_int_equal(weir_metrics.latency[0].count, 1);
    weir_metrics_request_done(-1, 5);
    weir_metrics_request_done(1000, 5);
}

/* ---------------------------------------------------------------------------
 * An in-process broker with an HTTP listener on a loop thread
 * ------------------------------------------------------------------------- */

typedef struct hb_s {
    char dir[64];
    weir_conf_t conf;
    uv_loop_t loop;
    weir_broker_t brk;
    uv_async_t stop, shutdown;
    pthread_t thread;
    int port;
    atomic_bool stopped;
} hb_t;

static atomic_int cancels;
static atomic_int deferred_done;

static void *
hb_loop_main(void *arg)
{
    hb_t *b = arg;
    uv_run(&b->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void
hb_on_stop(uv_async_t *a)
{
    hb_t *b = a->data;
    weir_broker_stop(&b->brk);
    uv_close((uv_handle_t *)&b->stop, NULL);
    uv_close((uv_handle_t *)&b->shutdown, NULL);
}

static void
hb_on_stopped(void *arg)
{
    hb_t *b = arg;
    atomic_store(&b->stopped, true);
    uv_close((uv_handle_t *)&b->stop, NULL);
    uv_close((uv_handle_t *)&b->shutdown, NULL);
}

static void
hb_on_shutdown(uv_async_t *a)
{
    hb_t *b = a->data;
    weir_broker_shutdown(&b->brk, hb_on_stopped, b);
}

/* Test routes. */

/* Echoes method, path parameters, query, principal and body as JSON. */
static int
h_echo(weir_http_req_t *req)
{
    json_t *j = json_object();
    const char *q = weir_http_query(req, "q");
    const char *id = weir_http_param(req, "id");

    json_object_set_new(j, "method", json_string(req->method));
    json_object_set_new(j, "path", json_string(req->path));
    json_object_set_new(j, "id", id ? json_string(id) : json_null());
    json_object_set_new(j, "q", q ? json_string(q) : json_null());
    json_object_set_new(j, "principal", json_string(req->principal.user));
    json_object_set_new(j, "body", json_stringn((const char *)req->body, req->body_len));
    json_object_set_new(j, "body_len", json_integer((json_int_t)req->body_len));
    weir_http_set_header(req, "X-Echo", "yes");
    weir_http_set_header(req, "X-Bad", "a\r\nInjected: 1"); /* refused */
    weir_http_respond_json(req, 200, j);
    return 0;
}

/* Parses the body as JSON: 422 with the parse error, else echoes it. */
static int
h_json(weir_http_req_t *req)
{
    char err[256];
    json_t *j = weir_http_body_json(req, err, sizeof(err));

    if (!j) {
        weir_http_respond_error(req, 422, 42201, "%s", err);
        return 0;
    }
    weir_http_respond_json(req, 201, j);
    return 0;
}

typedef struct defer_s {
    uv_timer_t timer;
    weir_http_req_t *req;
} defer_t;

static void
defer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void
defer_fire(uv_timer_t *t)
{
    defer_t *d = t->data;
    char body[64];
    int n = snprintf(body, sizeof(body), "deferred %s", weir_http_param(d->req, "ms"));

    weir_http_respond(d->req, 200, "text/plain", body, (size_t)n);
    atomic_fetch_add(&deferred_done, 1);
    uv_close((uv_handle_t *)&d->timer, defer_closed);
}

static void
defer_cancel(weir_http_req_t *req)
{
    defer_t *d = req->ctx;

    atomic_fetch_add(&cancels, 1);
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *)&d->timer, defer_closed);
}

/* Answers after {ms} milliseconds. */
static int
h_defer(weir_http_req_t *req)
{
    defer_t *d = calloc(1, sizeof(*d));

    d->req = req;
    uv_timer_init(req->brk->loop, &d->timer);
    d->timer.data = d;
    req->ctx = d;
    req->cancel = defer_cancel;
    uv_timer_start(&d->timer, defer_fire, (uint64_t)atoi(weir_http_param(req, "ms")), 0);
    return 0;
}

static int
h_empty(weir_http_req_t *req)
{
    weir_http_respond(req, 204, NULL, NULL, 0);
    return 0;
}

/* 16 KiB of text. */
static int
h_big(weir_http_req_t *req)
{
    static char body[16384];

    memset(body, 'b', sizeof(body));
    weir_http_respond(req, 200, "text/plain", body, sizeof(body));
    return 0;
}

static int
h_fail(weir_http_req_t *req)
{
    (void)req;
    return -1; /* a bug: the server answers 500 */
}

static const weir_http_route_t test_routes[] = {
    {.method = "GET", .pattern = "/echo", .handler = h_echo},
    {.method = "POST", .pattern = "/echo", .handler = h_echo},
    {.method = "GET", .pattern = "/items/{id}", .handler = h_echo, .name = "items"},
    {.method = "POST", .pattern = "/json", .handler = h_json,
     .content_type = "application/vnd.schemaregistry.v1+json"},
    {.method = "GET", .pattern = "/defer/{ms}", .handler = h_defer},
    {.method = "DELETE", .pattern = "/empty", .handler = h_empty},
    {.method = "GET", .pattern = "/fail", .handler = h_fail},
    {.method = "GET", .pattern = "/big", .handler = h_big},
};

static void
hb_set(hb_t *b, const char *key, const char *value)
{
    char err[256];
    if (weir_conf_set(&b->conf, key, value, err, sizeof(err)) != 0)
        fail_msg("weir_conf_set %s=%s: %s", key, value, err);
}

static hb_t *
hb_start(const char *const *extra)
{
    hb_t *b = calloc(1, sizeof(*b));
    char err[512];

    assert_non_null(b);
    snprintf(b->dir, sizeof(b->dir), "/tmp/weir-http-XXXXXX");
    assert_non_null(mkdtemp(b->dir));
    weir_conf_defaults(&b->conf);
    hb_set(b, "listeners", "PLAINTEXT://127.0.0.1:0");
    hb_set(b, "http.listeners", "http://127.0.0.1:0");
    hb_set(b, "log.dirs", b->dir);
    hb_set(b, "http.max.request.bytes", "4096");
    hb_set(b, "http.max.header.bytes", "2048");
    for (size_t i = 0; extra && extra[i]; i += 2)
        hb_set(b, extra[i], extra[i + 1]);
    assert_int_equal(uv_loop_init(&b->loop), 0);
    if (weir_broker_init(&b->brk, &b->loop, &b->conf, err, sizeof(err)) != 0)
        fail_msg("weir_broker_init: %s", err);
    if (weir_broker_start(&b->brk, err, sizeof(err)) != 0)
        fail_msg("weir_broker_start: %s", err);
    if (weir_http_route_add(b->brk.http, test_routes, WEIR_ARRAY_SIZE(test_routes), err,
                            sizeof(err)) != 0)
        fail_msg("routes: %s", err);
    assert_int_equal(weir_http_server_nlisteners(b->brk.http), 1);
    b->port = weir_http_server_listener(b->brk.http, 0)->port;
    assert_true(b->port > 0);
    assert_string_equal(weir_http_server_listener(b->brk.http, 0)->name, "HTTP");
    assert_int_equal(uv_async_init(&b->loop, &b->stop, hb_on_stop), 0);
    assert_int_equal(uv_async_init(&b->loop, &b->shutdown, hb_on_shutdown), 0);
    b->stop.data = b->shutdown.data = b;
    assert_int_equal(pthread_create(&b->thread, NULL, hb_loop_main, b), 0);
    return b;
}

static int
hb_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void
hb_finish(hb_t *b)
{
    assert_int_equal(pthread_join(b->thread, NULL), 0);
    weir_broker_free(&b->brk);
    assert_int_equal(uv_loop_close(&b->loop), 0);
    weir_conf_free(&b->conf);
    nftw(b->dir, hb_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(b);
}

static void
hb_stop(hb_t *b)
{
    assert_int_equal(uv_async_send(&b->stop), 0);
    hb_finish(b);
}

/* ---------------------------------------------------------------------------
 * A blocking raw-socket client
 * ------------------------------------------------------------------------- */

static int
hc_connect(int port)
{
    struct sockaddr_in sa;
    struct timeval tv = {10, 0};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void
hc_send(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            fail_msg("send: %s", strerror(errno));
        s += k;
        n -= (size_t)k;
    }
}

static void
hc_sends(int fd, const char *s)
{
    hc_send(fd, s, strlen(s));
}

/* One response, read from the connection's buffer. */
typedef struct hc_resp_s {
    int status;
    char headers[4096];
    char body[65536];
    size_t body_len;
} hc_resp_t;

/* Bytes read but not yet consumed, per connection (one at a time). */
static char hc_buf[131072];
static size_t hc_len;

static bool
hc_fill(int fd)
{
    ssize_t k;

    if (hc_len == sizeof(hc_buf))
        fail_msg("client buffer full");
    do {
        k = recv(fd, hc_buf + hc_len, sizeof(hc_buf) - hc_len, 0);
    } while (k < 0 && errno == EINTR);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        fail_msg("timed out waiting for the broker");
    if (k <= 0)
        return false;
    hc_len += (size_t)k;
    return true;
}

static const char *
hc_header(const hc_resp_t *r, const char *name)
{
    static char val[512];
    const char *p = r->headers;
    size_t nl = strlen(name);

    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *e;
            while (*v == ' ')
                v++;
            e = strstr(v, "\r\n");
            snprintf(val, sizeof(val), "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
            return val;
        }
    }
    return NULL;
}

/* Reads one response (status line, headers, Content-Length body; no body
 * when head).  Returns false on end of stream before a response. */
static bool
hc_read(int fd, hc_resp_t *r, bool head)
{
    char *end;
    size_t hl, cl = 0;
    const char *v;

    memset(r, 0, sizeof(*r));
    while (!(end = memmem(hc_buf, hc_len, "\r\n\r\n", 4)))
        if (!hc_fill(fd))
            return false;
    hl = (size_t)(end - hc_buf) + 4;
    assert_true(hl < sizeof(r->headers));
    memcpy(r->headers, hc_buf, hl);
    assert_int_equal(sscanf(r->headers, "HTTP/1.1 %d ", &r->status), 1);
    v = hc_header(r, "Content-Length");
    if (v && !head)
        cl = (size_t)strtoul(v, NULL, 10);
    assert_true(cl < sizeof(r->body));
    while (hc_len < hl + cl)
        if (!hc_fill(fd))
            fail_msg("connection closed inside a response body");
    memcpy(r->body, hc_buf + hl, cl);
    r->body_len = cl;
    memmove(hc_buf, hc_buf + hl + cl, hc_len - hl - cl);
    hc_len -= hl + cl;
    return true;
}

/* The server closes the connection (after any response already read). */
static void
hc_expect_eof(int fd)
{
    assert_int_equal(hc_len, 0);
    if (hc_fill(fd))
        fail_msg("expected the connection to close, got: %.*s", (int)hc_len, hc_buf);
}

static void
hc_close(int fd)
{
    close(fd);
    hc_len = 0;
}

/* ---------------------------------------------------------------------------
 * End to end
 * ------------------------------------------------------------------------- */

static void
test_keepalive_and_basics(void **state)
{
    hb_t *b = hb_start(NULL);
    hc_resp_t r;
    int fd;

    (void)state;
    fd = hc_connect(b->port);
    hc_sends(fd, "GET /echo?q=a%20b+c&x HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(hc_header(&r, "Content-Type"), "application/json");
    assert_string_equal(hc_header(&r, "X-Echo"), "yes");
    assert_null(hc_header(&r, "X-Bad"));
    assert_null(hc_header(&r, "Injected"));
    assert_null(hc_header(&r, "Connection"));
    assert_non_null(hc_header(&r, "Date"));
    assert_non_null(strstr(r.body, "\"q\":\"a b c\""));
    assert_non_null(strstr(r.body, "\"principal\":\"ANONYMOUS\""));
    /* Same connection: path parameter, POST body. */
    hc_sends(fd, "GET /items/caf%C3%A9%2F1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"id\":\"caf\xc3\xa9/1\""));
    hc_sends(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    assert_true(hc_read(fd, &r, false));
    assert_non_null(strstr(r.body, "\"body\":\"hello\""));
    /* Chunked body. */
    hc_sends(fd, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_non_null(strstr(r.body, "\"body\":\"abcdefg\""));
    /* JSON body helper, per-route content type. */
    hc_sends(fd, "POST /json HTTP/1.1\r\nContent-Length: 9\r\n\r\n{\"a\": 1}\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 201);
    assert_string_equal(hc_header(&r, "Content-Type"), "application/vnd.schemaregistry.v1+json");
    assert_string_equal(r.body, "{\"a\":1}");
    hc_sends(fd, "POST /json HTTP/1.1\r\nContent-Length: 3\r\n\r\n{x}");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"error_code\":42201"));
    /* 204: no body, no Content-Length. */
    hc_sends(fd, "DELETE /empty HTTP/1.1\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 204);
    assert_null(hc_header(&r, "Content-Length"));
    /* HEAD: the GET route's headers, no body. */
    hc_sends(fd, "HEAD /echo HTTP/1.1\r\n\r\n");
    assert_true(hc_read(fd, &r, true));
    assert_int_equal(r.status, 200);
    assert_true(atoi(hc_header(&r, "Content-Length")) > 0);
    /* 404, 405 + Allow, and a handler bug: 500; the connection stays. */
    hc_sends(fd, "GET /nothing HTTP/1.1\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}");
    hc_sends(fd, "PUT /echo HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 405);
    assert_string_equal(hc_header(&r, "Allow"), "GET, HEAD, POST");
    assert_non_null(strstr(r.body, "\"error_code\":405"));
    hc_sends(fd, "GET /fail HTTP/1.1\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 500);
    /* Absolute-form target. */
    hc_sends(fd, "GET http://broker:8081/echo?q=abs HTTP/1.1\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"q\":\"abs\""));
    /* Connection: close is honoured. */
    hc_sends(fd, "GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(hc_header(&r, "Connection"), "close");
    hc_expect_eof(fd);
    hc_close(fd);

    /* HTTP/1.0: closes unless keep-alive is asked for. */
    fd = hc_connect(b->port);
    hc_sends(fd, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_string_equal(hc_header(&r, "Connection"), "keep-alive");
    hc_sends(fd, "GET /echo HTTP/1.0\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(hc_header(&r, "Connection"), "close");
    hc_expect_eof(fd);
    hc_close(fd);
    hb_stop(b);
}

static void
test_pipelining(void **state)
{
    hb_t *b = hb_start(NULL);
    hc_resp_t r;
    int fd;

    (void)state;
    fd = hc_connect(b->port);
    /* A slow request first: the quick ones behind it wait their turn. */
    hc_sends(fd, "GET /defer/300 HTTP/1.1\r\n\r\n"
                 "GET /items/1 HTTP/1.1\r\n\r\n"
                 "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
                 "GET /defer/10 HTTP/1.1\r\n\r\n"
                 "GET /items/2 HTTP/1.1\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_string_equal(r.body, "deferred 300");
    assert_true(hc_read(fd, &r, false));
    assert_non_null(strstr(r.body, "\"id\":\"1\""));
    assert_true(hc_read(fd, &r, false));
    assert_non_null(strstr(r.body, "\"body\":\"xyz\""));
    assert_true(hc_read(fd, &r, false));
    assert_string_equal(r.body, "deferred 10");
    assert_true(hc_read(fd, &r, false));
    assert_non_null(strstr(r.body, "\"id\":\"2\""));

    /* Byte by byte, with the next request's first bytes in the same
     * write as the end of the previous one. */
    {
        const char *req = "POST /echo?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcdGET";
        for (const char *p = req; *p; p++) {
            hc_send(fd, p, 1);
            usleep(1000);
        }
        assert_true(hc_read(fd, &r, false));
        assert_non_null(strstr(r.body, "\"body\":\"abcd\""));
        hc_sends(fd, " /items/3 HTTP/1.1\r\n\r\n");
        assert_true(hc_read(fd, &r, false));
        assert_non_null(strstr(r.body, "\"id\":\"3\""));
    }

    /* Many small pipelined requests in one write. */
    {
        char big[40000];
        size_t n = 0;
        for (int i = 0; i < 500; i++)
            n += (size_t)snprintf(big + n, sizeof(big) - n, "GET /items/%d HTTP/1.1\r\n\r\n", i);
        hc_send(fd, big, n);
        for (int i = 0; i < 500; i++) {
            char want[32];
            assert_true(hc_read(fd, &r, false));
            snprintf(want, sizeof(want), "\"id\":\"%d\"", i);
            if (!strstr(r.body, want))
                fail_msg("response %d out of order: %s", i, r.body);
        }
    }
    /* A client that pipelines 2000 requests for 16 KiB answers (32 MB)
     * before reading any: parsing pauses on queued output and resumes as
     * the client reads, without another request to wake it. */
    {
        static char many[2000 * 24];
        size_t n = 0;
        for (int i = 0; i < 2000; i++)
            n += (size_t)snprintf(many + n, sizeof(many) - n, "GET /big HTTP/1.1\r\n\r\n");
        hc_send(fd, many, n);
        usleep(300000);
        for (int i = 0; i < 2000; i++) {
            assert_true(hc_read(fd, &r, false));
            assert_int_equal(r.status, 200);
            assert_int_equal(r.body_len, 16384);
        }
    }
    hc_close(fd);
    hb_stop(b);
}

static void
test_expect_continue(void **state)
{
    hb_t *b = hb_start(NULL);
    hc_resp_t r;
    int fd;

    (void)state;
    fd = hc_connect(b->port);
    hc_sends(fd, "POST /echo HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 100);
    hc_sends(fd, "ok");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"body\":\"ok\""));
    /* Too large: 413 at once, no 100. */
    hc_sends(fd, "POST /echo HTTP/1.1\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 413);
    hc_expect_eof(fd);
    hc_close(fd);
    hb_stop(b);
}

/* Sends req on a new connection; expects status with a JSON error, then
 * the connection closed. */
static void
expect_error_close(hb_t *b, const char *req, int status)
{
    hc_resp_t r;
    int fd = hc_connect(b->port);

    hc_sends(fd, req);
    if (!hc_read(fd, &r, false))
        fail_msg("no response to %.40s...", req);
    if (r.status != status)
        fail_msg("status %d for %.40s..., expected %d", r.status, req, status);
    assert_string_equal(hc_header(&r, "Content-Type"), "application/json");
    assert_string_equal(hc_header(&r, "Connection"), "close");
    assert_non_null(strstr(r.body, "\"error_code\":"));
    assert_non_null(strstr(r.body, "\"message\":"));
    hc_expect_eof(fd);
    hc_close(fd);
}

static void
test_bad_input_and_limits(void **state)
{
    hb_t *b = hb_start(NULL);
    char big[8192];
    hc_resp_t r;
    int fd, n;

    (void)state;
    expect_error_close(b, "GARBAGE\r\n\r\n", 400);
    expect_error_close(b, "GET /echo HTTP/9.9\r\n\r\n", 505);
    expect_error_close(b, "GET /echo HTTP/1.1\r\nBad Header\r\n\r\n", 400);
    expect_error_close(b, "GET /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                       400);
    expect_error_close(b, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400);
    /* Request-level errors: 400 and the connection stays. */
    fd = hc_connect(b->port);
    hc_sends(fd, "GET /a%zz HTTP/1.1\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"error_code\":400"));
    hc_sends(fd, "OPTIONS * HTTP/1.1\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 400);
    hc_sends(fd, "GET /items/1 HTTP/1.1\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 200);
    hc_close(fd);
    expect_error_close(b, "GET /echo\x01 HTTP/1.1\r\n\r\n", 400);
    /* Headers over http.max.header.bytes (2048 here): 431. */
    n = snprintf(big, sizeof(big), "GET /echo HTTP/1.1\r\nX-Long: %02100d\r\n\r\n", 0);
    expect_error_close(b, big, 431);
    n = snprintf(big, sizeof(big), "GET /echo?%03000d HTTP/1.1\r\n\r\n", 0);
    expect_error_close(b, big, 431);
    /* Bodies over http.max.request.bytes (4096 here): 413, by length or
     * by the chunks that arrive. */
    expect_error_close(b, "POST /echo HTTP/1.1\r\nContent-Length: 4097\r\n\r\n", 413);
    n = snprintf(big, sizeof(big), "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "800\r\n%02048d\r\n800\r\n%02048d\r\n1\r\nx\r\n0\r\n\r\n", 0, 0);
    expect_error_close(b, big, 413);
    /* Exactly the limit is fine. */
    fd = hc_connect(b->port);
    n = snprintf(big, sizeof(big), "POST /echo HTTP/1.1\r\nContent-Length: 4096\r\n\r\n%04096d",
                 7);
    hc_send(fd, big, (size_t)n);
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"body_len\":4096"));
    /* A response already given stays given when garbage follows. */
    hc_sends(fd, "GET /items/9 HTTP/1.1\r\n\r\n\x01\x02garbage\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 200);
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 400);
    hc_expect_eof(fd);
    hc_close(fd);
    hb_stop(b);
}

static void
test_half_close_and_cancel(void **state)
{
    hb_t *b = hb_start(NULL);
    hc_resp_t r;
    int fd;

    (void)state;
    /* The client half-closes after its requests: still answered. */
    fd = hc_connect(b->port);
    hc_sends(fd, "GET /items/5 HTTP/1.1\r\n\r\nGET /items/6 HTTP/1.1\r\n\r\n");
    shutdown(fd, SHUT_WR);
    assert_true(hc_read(fd, &r, false));
    assert_non_null(strstr(r.body, "\"id\":\"5\""));
    assert_true(hc_read(fd, &r, false));
    assert_non_null(strstr(r.body, "\"id\":\"6\""));
    hc_expect_eof(fd);
    hc_close(fd);

    /* The client goes away (or half-closes: it gave up, as nginx reads it)
     * during a deferred request: its cancel hook runs. */
    atomic_store(&cancels, 0);
    fd = hc_connect(b->port);
    hc_sends(fd, "GET /defer/60000 HTTP/1.1\r\n\r\n");
    usleep(100000);
    hc_close(fd);
    for (int i = 0; i < 200 && atomic_load(&cancels) == 0; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&cancels), 1);
    fd = hc_connect(b->port);
    hc_sends(fd, "GET /defer/60000 HTTP/1.1\r\n\r\n");
    usleep(100000);
    shutdown(fd, SHUT_WR);
    hc_expect_eof(fd);
    hc_close(fd);
    for (int i = 0; i < 200 && atomic_load(&cancels) == 1; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&cancels), 2);
    hb_stop(b);
}

static void
test_timeouts(void **state)
{
    static const char *const extra[] = {"http.keepalive.timeout.ms", "500",
                                        "http.request.timeout.ms", "600", NULL};
    hb_t *b = hb_start(extra);
    hc_resp_t r;
    int fd;
    int64_t t0;

    (void)state;
    /* Idle after a request: closed after the keep-alive timeout (the
     * housekeeping tick runs once a second). */
    fd = hc_connect(b->port);
    hc_sends(fd, "GET /items/1 HTTP/1.1\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    t0 = weir_mono_ms();
    hc_expect_eof(fd);
    assert_true(weir_mono_ms() - t0 >= 400);
    assert_true(weir_mono_ms() - t0 < 4000);
    hc_close(fd);
    /* A request that never completes: 408. */
    fd = hc_connect(b->port);
    hc_sends(fd, "GET /items/1 HTTP/1.1\r\nHost: slow");
    t0 = weir_mono_ms();
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 408);
    assert_true(weir_mono_ms() - t0 < 4000);
    hc_expect_eof(fd);
    hc_close(fd);
    hb_stop(b);
}

static void
test_metrics_endpoint(void **state)
{
    hb_t *b = hb_start(NULL);
    hc_resp_t r;
    int fd;

    (void)state;
    fd = hc_connect(b->port);
    for (int i = 0; i < 3; i++) {
        hc_sends(fd, "GET /items/7 HTTP/1.1\r\n\r\n");
        assert_true(hc_read(fd, &r, false));
    }
    hc_sends(fd, "GET /nope HTTP/1.1\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    hc_sends(fd, "GET /metrics HTTP/1.1\r\n\r\n");
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(hc_header(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(strstr(r.body, "weir_http_requests_total{route=\"items\",code=\"200\"} 3\n"));
    assert_non_null(strstr(r.body, "weir_http_requests_total{route=\"none\",code=\"404\"} 1\n"));
    assert_non_null(strstr(r.body, "weir_connections{listener=\"HTTP\"} 1\n"));
    assert_non_null(strstr(r.body, "weir_connections{listener=\"PLAINTEXT\"} 0\n"));
    assert_non_null(strstr(r.body, "weir_connections_accepted_total{listener=\"HTTP\"} 1\n"));
    assert_non_null(strstr(r.body, "# TYPE weir_request_duration_seconds histogram\n"));
    assert_non_null(strstr(r.body, "weir_build_info{version=\"" WEIR_VERSION "\"} 1\n"));
    hc_close(fd);
    hb_stop(b);
}

/* SIGTERM-style stop: the request in service finishes, then the
 * connection closes; idle connections close at once; no new ones. */
static void
test_graceful_stop(void **state)
{
    hb_t *b = hb_start(NULL);
    hc_resp_t r;
    int fd, idle;

    (void)state;
    atomic_store(&deferred_done, 0);
    idle = hc_connect(b->port);
    fd = hc_connect(b->port);
    hc_sends(fd, "GET /defer/400 HTTP/1.1\r\n\r\nGET /items/1 HTTP/1.1\r\n\r\n");
    usleep(100000);
    assert_int_equal(uv_async_send(&b->shutdown), 0);
    assert_true(hc_read(fd, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "deferred 400");
    assert_string_equal(hc_header(&r, "Connection"), "close");
    /* The pipelined request behind it is not started. */
    hc_expect_eof(fd);
    hc_close(fd);
    hc_expect_eof(idle);
    hc_close(idle);
    hb_finish(b);
    assert_int_equal(atomic_load(&deferred_done), 1);
}

/* A request still running at weir.shutdown.timeout.ms is abandoned. */
static void
test_graceful_stop_bounded(void **state)
{
    static const char *const extra[] = {"weir.shutdown.timeout.ms", "300", NULL};
    hb_t *b = hb_start(extra);
    int fd;
    int64_t t0;

    (void)state;
    atomic_store(&cancels, 0);
    fd = hc_connect(b->port);
    hc_sends(fd, "GET /defer/60000 HTTP/1.1\r\n\r\n");
    usleep(100000);
    t0 = weir_mono_ms();
    assert_int_equal(uv_async_send(&b->shutdown), 0);
    hc_expect_eof(fd);
    hc_close(fd);
    hb_finish(b);
    assert_true(weir_mono_ms() - t0 < 3000);
    assert_int_equal(atomic_load(&cancels), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router_match),
        cmocka_unit_test(test_router_bad_routes),
        cmocka_unit_test(test_pct_decode),
        cmocka_unit_test(test_listeners_parse),
        cmocka_unit_test(test_conf_http),
        cmocka_unit_test(test_prom_writer),
        cmocka_unit_test(test_batch_records),
        cmocka_unit_test(test_keepalive_and_basics),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_bad_input_and_limits),
        cmocka_unit_test(test_half_close_and_cancel),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_metrics_endpoint),
        cmocka_unit_test(test_graceful_stop),
        cmocka_unit_test(test_graceful_stop_bounded),
    };

    weir_log_level = WEIR_LOG_WARN;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
