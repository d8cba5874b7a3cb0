/*
 * weir_metrics.c: the process-wide counters (Kafka requests and their
 * latency), cheap record counting for Produce and Fetch, and the
 * Prometheus text-format writer (escaping, histograms).
 */
#include "weir_metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_batch.h"
#include "weir_common.h"
#include "weir_plog.h"
#include "weir_segment.h"

weir_metrics_t weir_metrics;

const double weir_metrics_buckets[WEIR_METRICS_NBUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

void
weir_histogram_observe(weir_histogram_t *h, double seconds)
{
    for (int i = 0; i < WEIR_METRICS_NBUCKETS; i++) {
        if (seconds <= weir_metrics_buckets[i]) {
            h->counts[i]++;
            break;
        }
    }
    h->count++;
    h->sum += seconds;
}

void
weir_metrics_request_done(int16_t api_key, int64_t elapsed_us)
{
    if (api_key < 0 || api_key >= WEIR_METRICS_NAPIS)
        return;
    weir_metrics.requests[api_key]++;
    weir_histogram_observe(&weir_metrics.latency[api_key],
                           (double)(elapsed_us < 0 ? 0 : elapsed_us) / 1e6);
}

uint64_t
weir_metrics_batch_records(const uint8_t *data, size_t len)
{
    uint64_t n = 0;
    size_t pos = 0;

    /* BaseOffset(8) BatchLength(4) ... RecordsCount at byte 57 of 61. */
    while (len - pos >= WEIR_BATCH_HDR_SIZE) {
        int32_t blen = (int32_t)weir_be32(data + pos + 8);
        int32_t count = (int32_t)weir_be32(data + pos + 57);

        if (blen < WEIR_BATCH_HDR_SIZE - 12 || (size_t)blen + 12 > len - pos)
            break;
        if (count > 0)
            n += (uint64_t)count;
        pos += (size_t)blen + 12;
    }
    return n;
}

uint64_t
weir_metrics_slice_records(const weir_slice_t *slice, int64_t fetch_offset)
{
    weir_seg_batch_t b;
    int64_t first, next, end;

    if (!slice->seg || slice->len <= 0)
        return 0;
    if (weir_segment_peek(slice->seg, slice->pos, false, &b) != 1)
        return 0;
    first = WEIR_MAX(b.hdr.base_offset, fetch_offset);
    end = slice->pos + slice->len;
    if (end >= slice->seg->size) {
        next = slice->seg->next_offset;
    } else {
        if (weir_segment_peek(slice->seg, end, false, &b) != 1)
            return 0;
        next = b.hdr.base_offset;
    }
    return next > first ? (uint64_t)(next - first) : 0;
}

/* ------------------------------------------------------------------ */
/* Text format                                                         */

static void __attribute__((format(printf, 2, 3)))
weir_prom_printf(weir_wbuf_t *w, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        weir_wr_raw(w, buf, (size_t)WEIR_MIN((size_t)n, sizeof(buf) - 1));
}

static void
weir_prom_str(weir_wbuf_t *w, const char *s)
{
    weir_wr_raw(w, s, strlen(s));
}

void
weir_prom_escape(weir_wbuf_t *w, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            weir_wr_raw(w, "\\\\", 2);
        else if (*s == '"')
            weir_wr_raw(w, "\\\"", 2);
        else if (*s == '\n')
            weir_wr_raw(w, "\\n", 2);
        else
            weir_wr_raw(w, s, 1);
    }
}

void
weir_prom_family(weir_wbuf_t *w, const char *name, const char *type, const char *help)
{
    weir_prom_str(w, "# HELP ");
    weir_prom_str(w, name);
    weir_wr_raw(w, " ", 1);
    /* HELP text escapes backslash and newline only. */
    for (const char *s = help; *s; s++) {
        if (*s == '\\')
            weir_wr_raw(w, "\\\\", 2);
        else if (*s == '\n')
            weir_wr_raw(w, "\\n", 2);
        else
            weir_wr_raw(w, s, 1);
    }
    weir_prom_str(w, "\n# TYPE ");
    weir_prom_str(w, name);
    weir_wr_raw(w, " ", 1);
    weir_prom_str(w, type);
    weir_wr_raw(w, "\n", 1);
}

static void
weir_prom_labels(weir_wbuf_t *w, va_list ap)
{
    const char *k;
    bool first = true;

    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);

        weir_prom_str(w, first ? "{" : ",");
        first = false;
        weir_prom_str(w, k);
        weir_prom_str(w, "=\"");
        weir_prom_escape(w, v ? v : "");
        weir_wr_raw(w, "\"", 1);
    }
    if (!first)
        weir_wr_raw(w, "}", 1);
}

static void
weir_prom_double(weir_wbuf_t *w, double v)
{
    if (isnan(v))
        weir_prom_str(w, "NaN");
    else if (isinf(v))
        weir_prom_str(w, v > 0 ? "+Inf" : "-Inf");
    else if (fabs(v) < 1e15 && v == (double)(int64_t)v)
        weir_prom_printf(w, "%" PRId64, (int64_t)v);
    else {
        /* The shortest text that reads back as the same double. */
        char buf[40];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, sizeof(buf), "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
        weir_prom_str(w, buf);
    }
}

void
weir_prom_sample(weir_wbuf_t *w, const char *name, double value, ...)
{
    va_list ap;

    weir_prom_str(w, name);
    va_start(ap, value);
    weir_prom_labels(w, ap);
    va_end(ap);
    weir_wr_raw(w, " ", 1);
    weir_prom_double(w, value);
    weir_wr_raw(w, "\n", 1);
}

void
weir_prom_sample_u64(weir_wbuf_t *w, const char *name, uint64_t value, ...)
{
    va_list ap;

    weir_prom_str(w, name);
    va_start(ap, value);
    weir_prom_labels(w, ap);
    va_end(ap);
    weir_prom_printf(w, " %" PRIu64 "\n", value);
}

void
weir_prom_sample_i64(weir_wbuf_t *w, const char *name, int64_t value, ...)
{
    va_list ap;

    weir_prom_str(w, name);
    va_start(ap, value);
    weir_prom_labels(w, ap);
    va_end(ap);
    weir_prom_printf(w, " %" PRId64 "\n", value);
}

void
weir_prom_histogram(weir_wbuf_t *w, const char *name, const weir_histogram_t *h,
                    const char *label, const char *value)
{
    char metric[128], le[32];
    uint64_t cum = 0;

    snprintf(metric, sizeof(metric), "%s_bucket", name);
    for (int i = 0; i < WEIR_METRICS_NBUCKETS; i++) {
        cum += h->counts[i];
        snprintf(le, sizeof(le), "%g", weir_metrics_buckets[i]);
        if (label)
            weir_prom_sample_u64(w, metric, cum, label, value, "le", le, NULL);
        else
            weir_prom_sample_u64(w, metric, cum, "le", le, NULL);
    }
    if (label)
        weir_prom_sample_u64(w, metric, h->count, label, value, "le", "+Inf", NULL);
    else
        weir_prom_sample_u64(w, metric, h->count, "le", "+Inf", NULL);
    snprintf(metric, sizeof(metric), "%s_sum", name);
    if (label)
        weir_prom_sample(w, metric, h->sum, label, value, NULL);
    else
        weir_prom_sample(w, metric, h->sum, NULL);
    snprintf(metric, sizeof(metric), "%s_count", name);
    if (label)
        weir_prom_sample_u64(w, metric, h->count, label, value, NULL);
    else
        weir_prom_sample_u64(w, metric, h->count, NULL);
}
