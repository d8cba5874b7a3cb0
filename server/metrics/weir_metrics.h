/*
 * weir_metrics.h: the broker's counters and their Prometheus text
 * exposition (format 0.0.4) at GET /metrics on the HTTP listeners.
 *
 * Counters are plain integers updated on the loop thread (no locks, no
 * atomics): per Kafka API the requests answered and a latency histogram
 * (weir_metrics_request_done(), called by the dispatch when a request is
 * answered), per topic the record bytes and records in and out (fields of
 * weir_topic_t, bumped by Produce and Fetch), per listener the connections
 * accepted and failed sign-ons (fields of weir_listener_t).  Everything
 * else - open connections, partition sizes and offsets, consumer group lag,
 * HTTP answers per route and status - is read from the broker's state when
 * /metrics is scraped.
 *
 * Names follow Prometheus conventions (weir_ prefix, _total counters,
 * _seconds and _bytes units); label values are escaped as the format
 * requires (backslash, double quote, newline).
 */
#ifndef WEIR_METRICS_H
#define WEIR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_buf.h"

typedef struct weir_broker_s weir_broker_t;
typedef struct weir_http_server_s weir_http_server_t;
typedef struct weir_slice_s weir_slice_t;

/* Latency buckets (seconds) of weir_request_duration_seconds. */
#define WEIR_METRICS_NBUCKETS 15
extern const double weir_metrics_buckets[WEIR_METRICS_NBUCKETS];

/** A cumulative histogram: counts[i] observations <= buckets[i] (not yet
 *  cumulative: the writer sums), plus the total and sum. */
typedef struct weir_histogram_s {
    uint64_t counts[WEIR_METRICS_NBUCKETS];
    uint64_t count;
    double sum;
} weir_histogram_t;

#define WEIR_METRICS_NAPIS 68 /* Kafka ApiKey space served (WEIR_API__COUNT) */

typedef struct weir_metrics_s {
    uint64_t requests[WEIR_METRICS_NAPIS];
    weir_histogram_t latency[WEIR_METRICS_NAPIS];
} weir_metrics_t;

/** The process's counters (loop thread only). */
extern weir_metrics_t weir_metrics;

/** Adds one observation (seconds) to h. */
void weir_histogram_observe(weir_histogram_t *h, double seconds);

/** A Kafka request of api_key was answered elapsed_us after it arrived. */
void weir_metrics_request_done(int16_t api_key, int64_t elapsed_us);

/** Records in the v2 record batches of a Produce's records (the Records
 *  count of each batch header; stops at the first incomplete batch). */
uint64_t weir_metrics_batch_records(const uint8_t *data, size_t len);

/**
 * @brief Records a consumer receives from a fetched file range: the offsets
 *        from fetch_offset (or the first batch, if later) up to the end of
 *        the range's last batch.  Reads at most two batch headers.  On
 *        compacted topics this counts the offsets spanned, removed records
 *        included.
 */
uint64_t weir_metrics_slice_records(const weir_slice_t *slice, int64_t fetch_offset);

/* ------------------------------------------------------------------ */
/* Text exposition writer                                              */

/** "# HELP name help\n# TYPE name type\n" (help escaped). */
void weir_prom_family(weir_wbuf_t *w, const char *name, const char *type, const char *help);

/**
 * @brief One sample line: name{l1="v1",...} value.  The variable arguments
 *        are label name / value string pairs, ended by NULL.
 */
void weir_prom_sample(weir_wbuf_t *w, const char *name, double value, ...)
    __attribute__((sentinel));
/** The same for an unsigned integer value (exact beyond 2^53). */
void weir_prom_sample_u64(weir_wbuf_t *w, const char *name, uint64_t value, ...)
    __attribute__((sentinel));
/** The same for a signed integer value. */
void weir_prom_sample_i64(weir_wbuf_t *w, const char *name, int64_t value, ...)
    __attribute__((sentinel));

/**
 * @brief A histogram's _bucket (cumulative, with le="+Inf"), _sum and
 *        _count lines, with one extra label pair (NULL name: none).
 */
void weir_prom_histogram(weir_wbuf_t *w, const char *name, const weir_histogram_t *h,
                         const char *label, const char *value);

/** Appends a label value escaped for the text format. */
void weir_prom_escape(weir_wbuf_t *w, const char *s);

/* ------------------------------------------------------------------ */
/* The endpoint                                                        */

/** Writes every metric of the broker in the text format. */
void weir_metrics_render(weir_broker_t *brk, weir_wbuf_t *w);

/** Adds GET /metrics to an HTTP server.  Returns 0 or -1 with errstr. */
int weir_metrics_http_register(weir_http_server_t *srv, char *errstr, size_t errstr_size);

#endif
