/*
 * weir_quota.c: Kafka's sampled rate and throttle-time computation, and the
 * table of sensors by quota entity.
 *
 * Sample handling follows Kafka's SampledStat: a record goes into the
 * current sample unless that sample is complete (older than one window),
 * in which case the next sample of the ring is reset to start now; before
 * measuring, samples older than samples * window are reset.  The rate is
 * the sum of the samples over the elapsed time since the oldest sample
 * started, counted as at least samples - 1 full windows (Rate.windowSize),
 * so a first burst is not measured over a tiny interval.
 */
#include "weir_quota.h"

#include <math.h>

#include "weir_common.h"

void
weir_quota_sensor_init(weir_quota_sensor_t *s, int samples, int64_t window_ms)
{
    memset(s, 0, sizeof(*s));
    s->nsamples = samples < 2 ? 2 : samples;
    s->window_ms = window_ms < 1 ? 1 : window_ms;
    s->cur = -1;
    s->start = weir_calloc((size_t)s->nsamples, sizeof(*s->start));
    s->value = weir_calloc((size_t)s->nsamples, sizeof(*s->value));
}

void
weir_quota_sensor_free(weir_quota_sensor_t *s)
{
    free(s->start);
    free(s->value);
    s->start = NULL;
    s->value = NULL;
}

/* Resets samples that have fallen out of the measured span. */
static void
weir_quota_purge(weir_quota_sensor_t *s, int64_t now)
{
    int64_t expire = (int64_t)s->nsamples * s->window_ms;

    for (int i = 0; i < s->used; i++) {
        if (now - s->start[i] >= expire) {
            s->start[i] = now;
            s->value[i] = 0;
        }
    }
}

static void
weir_quota_add(weir_quota_sensor_t *s, double value, int64_t now)
{
    if (s->cur < 0 || now >= s->start[s->cur] + s->window_ms) {
        /* Advance: a new sample, or the oldest one reused. */
        s->cur = (s->cur + 1) % s->nsamples;
        if (s->cur >= s->used)
            s->used = s->cur + 1;
        s->start[s->cur] = now;
        s->value[s->cur] = 0;
    }
    s->value[s->cur] += value;
}

/* Rate.windowSize: the span the samples cover, at least samples - 1
 * windows. */
static int64_t
weir_quota_window(weir_quota_sensor_t *s, int64_t now)
{
    int64_t oldest = now, elapsed, full, min_full = s->nsamples - 1;

    for (int i = 0; i < s->used; i++)
        oldest = WEIR_MIN(oldest, s->start[i]);
    elapsed = now - oldest;
    full = elapsed / s->window_ms;
    if (full < min_full)
        elapsed += (min_full - full) * s->window_ms;
    return elapsed > 0 ? elapsed : s->window_ms;
}

double
weir_quota_sensor_rate(weir_quota_sensor_t *s, int64_t now_ms)
{
    double total = 0;

    weir_quota_purge(s, now_ms);
    for (int i = 0; i < s->used; i++)
        total += s->value[i];
    return total / ((double)weir_quota_window(s, now_ms) / 1000.0);
}

int32_t
weir_quota_record(weir_quota_sensor_t *s, double value, int64_t now_ms, double bound)
{
    double rate, ms;

    weir_quota_purge(s, now_ms);
    weir_quota_add(s, value, now_ms);
    if (bound <= 0)
        return 0;
    rate = weir_quota_sensor_rate(s, now_ms);
    if (rate <= bound)
        return 0;
    ms = (rate - bound) / bound * (double)weir_quota_window(s, now_ms);
    if (!(ms < WEIR_QUOTA_MAX_THROTTLE_MS))
        return WEIR_QUOTA_MAX_THROTTLE_MS;
    return (int32_t)llround(ms);
}

void
weir_quota_unrecord(weir_quota_sensor_t *s, double value, int64_t now_ms)
{
    weir_quota_purge(s, now_ms);
    weir_quota_add(s, -value, now_ms);
}

/* ------------------------------------------------------------------ */
/* Sensors by entity                                                  */

typedef struct weir_quota_named_s {
    char *key;
    weir_quota_sensor_t sensor;
} weir_quota_named_t;

struct weir_quotas_s {
    int samples;
    int64_t window_ms;
    weir_quota_named_t **v;
    size_t n, cap;
};

weir_quotas_t *
weir_quotas_new(int samples, int64_t window_ms)
{
    weir_quotas_t *q = weir_calloc(1, sizeof(*q));

    q->samples = samples;
    q->window_ms = window_ms;
    return q;
}

void
weir_quotas_free(weir_quotas_t *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n; i++) {
        weir_quota_sensor_free(&q->v[i]->sensor);
        free(q->v[i]->key);
        free(q->v[i]);
    }
    free(q->v);
    free(q);
}

weir_quota_sensor_t *
weir_quotas_sensor(weir_quotas_t *q, const char *key)
{
    weir_quota_named_t *e;

    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->v[i]->key, key) == 0)
            return &q->v[i]->sensor;
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 8;
        q->v = weir_realloc(q->v, q->cap * sizeof(*q->v));
    }
    e = weir_calloc(1, sizeof(*e));
    e->key = weir_strdup(key);
    weir_quota_sensor_init(&e->sensor, q->samples, q->window_ms);
    q->v[q->n++] = e;
    return &e->sensor;
}

size_t
weir_quotas_count(const weir_quotas_t *q)
{
    return q ? q->n : 0;
}
