/*
 * weir_quota.h: byte-rate quotas with Kafka's algorithm.
 *
 * A sensor measures a rate over samples: quota.window.num samples of
 * quota.window.size.seconds each (Kafka's SampledStat/Rate).  A request's
 * bytes are recorded first; if the measured rate then exceeds the quota
 * bound, the request is throttled for
 *
 *     (rate - bound) / bound * window
 *
 * milliseconds, window being the time the measurement spans (at least
 * samples - 1 full windows), which is how long the client must stay silent
 * for the rate to fall back to the bound (Kafka's QuotaUtils.throttleTime).
 * The response carries that ThrottleTimeMs and the broker stops reading
 * from the connection for that long (weir_conn_mute), so a noisy client
 * slows only itself and whoever shares its quota.
 *
 * Sensors are shared per quota entity: every connection of a tenant's
 * members shares the tenant's sensor, a principal with its own override
 * has its own.  Loop thread only.
 */
#ifndef WEIR_QUOTA_H
#define WEIR_QUOTA_H

#include <stddef.h>
#include <stdint.h>

/** Longest throttle time handed out (one hour): guards the int32 field. */
#define WEIR_QUOTA_MAX_THROTTLE_MS 3600000

/** One rate measurement (Kafka's Rate over a SampledStat). */
typedef struct weir_quota_sensor_s {
    int nsamples;
    int64_t window_ms;
    int cur;            /* current sample, -1 before the first record */
    int used;           /* samples started so far (<= nsamples) */
    int64_t *start;     /* start time of each sample */
    double *value;      /* bytes recorded in each sample */
} weir_quota_sensor_t;

/** samples >= 2, window_ms >= 1. */
void weir_quota_sensor_init(weir_quota_sensor_t *s, int samples, int64_t window_ms);
void weir_quota_sensor_free(weir_quota_sensor_t *s);

/** The measured rate in bytes per second at now_ms. */
double weir_quota_sensor_rate(weir_quota_sensor_t *s, int64_t now_ms);

/**
 * @brief Records value bytes at now_ms and checks the quota bound (bytes/s).
 * @returns the throttle time in ms (0 when the rate is within the bound or
 *          bound <= 0, which means no quota).
 */
int32_t weir_quota_record(weir_quota_sensor_t *s, double value, int64_t now_ms, double bound);

/** Takes back value bytes recorded at now_ms (a Fetch answered empty). */
void weir_quota_unrecord(weir_quota_sensor_t *s, double value, int64_t now_ms);

/* ------------------------------------------------------------------ */
/* Sensors by entity                                                  */

typedef struct weir_quotas_s weir_quotas_t;

weir_quotas_t *weir_quotas_new(int samples, int64_t window_ms);
void weir_quotas_free(weir_quotas_t *q);
/**
 * @brief The sensor of an entity key ("tenant:<name>:produce",
 *        "user:<name>:fetch", ...), created on first use.  The pointer
 *        stays valid until weir_quotas_free.
 */
weir_quota_sensor_t *weir_quotas_sensor(weir_quotas_t *q, const char *key);
/** Number of sensors. */
size_t weir_quotas_count(const weir_quotas_t *q);

#endif
