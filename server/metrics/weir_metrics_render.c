/*
 * weir_metrics_render.c: GET /metrics - every metric of the broker in
 * Prometheus' text format, from the counters (weir_metrics.c) and the
 * broker's state read at scrape time (connections, partition logs,
 * committed offsets, HTTP answers).
 */
#include "weir_metrics.h"

#include <stdio.h>
#include <string.h>

#include "group/weir_group.h"
#include "weir_api.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_http.h"

#define WEIR_METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

/* Every listener, Kafka's then HTTP's. */
static size_t
weir_metrics_nlisteners(weir_broker_t *brk)
{
    return brk->nlisteners + weir_http_server_nlisteners(brk->http);
}

static weir_listener_t *
weir_metrics_listener(weir_broker_t *brk, size_t i)
{
    return i < brk->nlisteners ? &brk->listeners[i]
                               : weir_http_server_listener(brk->http, i - brk->nlisteners);
}

static void
weir_metrics_listeners(weir_broker_t *brk, weir_wbuf_t *w)
{
    size_t n = weir_metrics_nlisteners(brk);

    weir_prom_family(w, "weir_connections", "gauge", "Open client connections per listener.");
    for (size_t i = 0; i < n; i++) {
        weir_listener_t *l = weir_metrics_listener(brk, i);
        uint64_t open = 0;

        for (weir_conn_t *c = brk->conns; c; c = c->next)
            open += c->lst == l;
        weir_prom_sample_u64(w, "weir_connections", open, "listener", l->name, NULL);
    }
    weir_prom_family(w, "weir_connections_accepted_total", "counter",
                     "Client connections accepted per listener.");
    for (size_t i = 0; i < n; i++) {
        weir_listener_t *l = weir_metrics_listener(brk, i);
        weir_prom_sample_u64(w, "weir_connections_accepted_total", l->accepted, "listener",
                             l->name, NULL);
    }
    weir_prom_family(w, "weir_authentication_failures_total", "counter",
                     "Failed sign-ons per listener: SASL/PLAIN and HTTP Basic credentials LDAP "
                     "refused, client certificates no ssl.principal.mapping.rules rule maps.");
    for (size_t i = 0; i < n; i++) {
        weir_listener_t *l = weir_metrics_listener(brk, i);
        weir_prom_sample_u64(w, "weir_authentication_failures_total", l->auth_failures,
                             "listener", l->name, NULL);
    }
}

static void
weir_metrics_requests(weir_wbuf_t *w)
{
    weir_prom_family(w, "weir_requests_total", "counter",
                     "Kafka requests answered, per API (requests of a closed connection that were "
                     "never answered are not counted).");
    for (int16_t k = 0; k < WEIR_METRICS_NAPIS; k++) {
        const weir_api_desc_t *d = weir_api_desc(k);
        if (d)
            weir_prom_sample_u64(w, "weir_requests_total", weir_metrics.requests[k], "api",
                                 d->name, NULL);
    }
    weir_prom_family(w, "weir_request_duration_seconds", "histogram",
                     "Time from a Kafka request's arrival to its answer, per API (long-polling "
                     "fetches and acks=all produces include their wait).");
    for (int16_t k = 0; k < WEIR_METRICS_NAPIS; k++) {
        const weir_api_desc_t *d = weir_api_desc(k);
        if (d)
            weir_prom_histogram(w, "weir_request_duration_seconds", &weir_metrics.latency[k],
                                "api", d->name);
    }
}

/* One per-topic counter family. */
static void
weir_metrics_topic_counter(weir_broker_t *brk, weir_wbuf_t *w, const char *name,
                           const char *help, size_t field)
{
    weir_prom_family(w, name, "counter", help);
    for (size_t i = 0; i < brk->ntopics; i++) {
        weir_topic_t *t = brk->topics[i];
        uint64_t v = *(const uint64_t *)((const char *)t + field);
        weir_prom_sample_u64(w, name, v, "topic", t->name, NULL);
    }
}

static void
weir_metrics_topics(weir_broker_t *brk, weir_wbuf_t *w)
{
    static const struct {
        const char *name, *help;
        size_t field;
    } fams[] = {
        {"weir_bytes_in_total", "Record batch bytes appended by Produce, per topic.",
         offsetof(weir_topic_t, bytes_in)},
        {"weir_bytes_out_total", "Record batch bytes sent by Fetch, per topic.",
         offsetof(weir_topic_t, bytes_out)},
        {"weir_records_in_total", "Records appended by Produce, per topic.",
         offsetof(weir_topic_t, records_in)},
        {"weir_records_out_total", "Records sent by Fetch (offsets from the fetch position to "
         "the end of the batches sent), per topic.", offsetof(weir_topic_t, records_out)},
    };
    static const struct {
        const char *name, *type, *help;
        int which;
    } parts[] = {
        {"weir_partition_log_size_bytes", "gauge", "Bytes of a partition's log segments.", 0},
        {"weir_partition_log_start_offset", "gauge", "First offset of a partition's log.", 1},
        {"weir_partition_high_watermark", "gauge",
         "High watermark (log end offset) of a partition.", 2},
    };

    for (size_t f = 0; f < WEIR_ARRAY_SIZE(fams); f++)
        weir_metrics_topic_counter(brk, w, fams[f].name, fams[f].help, fams[f].field);
    for (size_t f = 0; f < WEIR_ARRAY_SIZE(parts); f++) {
        weir_prom_family(w, parts[f].name, parts[f].type, parts[f].help);
        for (size_t i = 0; i < brk->ntopics; i++) {
            weir_topic_t *t = brk->topics[i];
            for (int32_t p = 0; p < t->npartitions; p++) {
                weir_plog_t *log = t->partitions[p] ? t->partitions[p]->log : NULL;
                char pid[16];
                int64_t v;

                if (!log)
                    continue;
                v = parts[f].which == 0   ? weir_plog_size_bytes(log)
                    : parts[f].which == 1 ? weir_plog_start_offset(log)
                                          : weir_plog_end_offset(log);
                snprintf(pid, sizeof(pid), "%d", p);
                weir_prom_sample_i64(w, parts[f].name, v, "topic", t->name, "partition", pid,
                                     NULL);
            }
        }
    }
}

typedef struct weir_lag_ctx_s {
    weir_broker_t *brk;
    weir_wbuf_t *w;
    const char *group;
} weir_lag_ctx_t;

static void
weir_metrics_lag_offset(void *arg, const weir_offset_t *o)
{
    weir_lag_ctx_t *ctx = arg;
    weir_str_t topic = {(int32_t)strlen(o->topic), o->topic};
    weir_partition_t *p = weir_broker_partition(ctx->brk, topic, o->partition);
    char pid[16];
    int64_t lag;

    if (!p || !p->log)
        return; /* offsets of a topic or partition that is gone */
    lag = weir_plog_end_offset(p->log) - o->offset;
    snprintf(pid, sizeof(pid), "%d", o->partition);
    weir_prom_sample_i64(ctx->w, "weir_consumer_group_lag", lag < 0 ? 0 : lag, "group",
                         ctx->group, "topic", o->topic, "partition", pid, NULL);
}

static void
weir_metrics_lag_group(void *arg, weir_group_t *g)
{
    weir_lag_ctx_t *ctx = arg;

    ctx->group = g->id;
    weir_group_offsets_foreach(g, weir_metrics_lag_offset, ctx);
}

static void
weir_metrics_http_count(void *arg, const char *route, int status, uint64_t n)
{
    weir_wbuf_t *w = arg;
    char code[8];

    snprintf(code, sizeof(code), "%d", status);
    weir_prom_sample_u64(w, "weir_http_requests_total", n, "route", route, "code", code, NULL);
}

void
weir_metrics_render(weir_broker_t *brk, weir_wbuf_t *w)
{
    weir_lag_ctx_t lag = {brk, w, NULL};

    weir_prom_family(w, "weir_build_info", "gauge", "Weir's version; the value is always 1.");
    weir_prom_sample(w, "weir_build_info", 1, "version", WEIR_VERSION, NULL);
    weir_prom_family(w, "weir_start_time_seconds", "gauge",
                     "When the broker started, in seconds since the Unix epoch.");
    weir_prom_sample(w, "weir_start_time_seconds", (double)brk->start_wall_ms / 1000.0, NULL);
    weir_metrics_requests(w);
    weir_metrics_listeners(brk, w);
    weir_metrics_topics(brk, w);
    weir_prom_family(w, "weir_consumer_group_lag", "gauge",
                     "Messages a consumer group is behind: the partition's high watermark minus "
                     "the group's committed offset.");
    if (brk->coord)
        weir_coord_groups_foreach(brk->coord, weir_metrics_lag_group, &lag);
    weir_prom_family(w, "weir_http_requests_total", "counter",
                     "HTTP requests answered, per route and status code (route \"none\": no "
                     "route matched or the request was malformed).");
    if (brk->http)
        weir_http_server_counts(brk->http, weir_metrics_http_count, w);
}

static int
weir_metrics_handle(weir_http_req_t *req)
{
    weir_wbuf_t w;

    weir_wbuf_init(&w, 32768);
    weir_metrics_render(req->brk, &w);
    weir_http_respond(req, 200, WEIR_METRICS_CTYPE, w.data, w.len);
    weir_wbuf_free(&w);
    return 0;
}

static const weir_http_route_t weir_metrics_routes[] = {
    {.method = "GET", .pattern = "/metrics", .handler = weir_metrics_handle,
     .content_type = WEIR_METRICS_CTYPE, .name = "/metrics"},
};

int
weir_metrics_http_register(weir_http_server_t *srv, char *errstr, size_t errstr_size)
{
    return weir_http_route_add(srv, weir_metrics_routes, WEIR_ARRAY_SIZE(weir_metrics_routes),
                               errstr, errstr_size);
}
