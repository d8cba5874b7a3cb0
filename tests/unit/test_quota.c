/*
 * test_quota.c: unit tests of the byte-rate quota (governance/weir_quota.c)
 * with a simulated clock: Kafka's rate over samples (the minimum span of
 * samples - 1 windows, expiry of old samples), the throttle time
 * (rate - bound) / bound * span, unrecord, and closed-loop simulations - a
 * client that sends as fast as allowed and obeys the throttle converges to
 * the quota, while an entity with its own sensor is unaffected by another's
 * traffic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "weir_common.h"
#include "weir_quota.h"

static void
test_rate(void **state)
{
    weir_quota_sensor_t s;

    (void)state;
    weir_quota_sensor_init(&s, 11, 1000);
    assert_true(weir_quota_sensor_rate(&s, 0) == 0.0);
    /* 10,000 bytes at t=0: the elapsed time plus the missing full windows
     * up to samples - 1 (Kafka's Rate.windowSize). */
    weir_quota_record(&s, 10000, 0, 0);
    assert_true(fabs(weir_quota_sensor_rate(&s, 0) - 1000.0) < 1e-9);
    assert_true(fabs(weir_quota_sensor_rate(&s, 500) - 10000.0 / 10.5) < 1e-9);
    assert_true(fabs(weir_quota_sensor_rate(&s, 3500) - 10000.0 / 10.5) < 1e-9);
    /* After more than 10 windows the span is the real elapsed time. */
    weir_quota_record(&s, 0, 10500, 0);
    assert_true(fabs(weir_quota_sensor_rate(&s, 10900) - 10000.0 / 10.9) < 1e-6);
    /* Samples older than samples * window (11 s) expire. */
    assert_true(weir_quota_sensor_rate(&s, 10999) > 0);
    assert_true(weir_quota_sensor_rate(&s, 30000) == 0.0);
    weir_quota_sensor_free(&s);
}

static void
test_throttle_time(void **state)
{
    weir_quota_sensor_t s;
    int32_t ms;

    (void)state;
    weir_quota_sensor_init(&s, 11, 1000);
    /* No bound: never throttled. */
    assert_int_equal(weir_quota_record(&s, 1e9, 0, 0), 0);
    weir_quota_sensor_free(&s);

    weir_quota_sensor_init(&s, 11, 1000);
    /* Within the bound. */
    assert_int_equal(weir_quota_record(&s, 5000, 0, 1000), 0); /* 500 B/s over 10 s */
    /* 20,000 bytes at t=100 over a span of 10.1 s: rate 1980.2 B/s against
     * 1000, throttle (rate - 1000) / 1000 * 10100 ms = 9900 ms. */
    ms = weir_quota_record(&s, 15000, 100, 1000);
    assert_int_equal(ms, (int32_t)llround((20000.0 / 10.1 - 1000.0) / 1000.0 * 10100.0));
    assert_int_equal(ms, 9900);
    /* Still over at the end of it (the span was padded): throttled again. */
    assert_true(weir_quota_record(&s, 0, 100 + ms, 1000) > 0);
    /* Once the bytes fall out of the span, the rate is back under. */
    assert_int_equal(weir_quota_record(&s, 0, 25000, 1000), 0);
    weir_quota_sensor_free(&s);

    /* unrecord takes bytes back. */
    weir_quota_sensor_init(&s, 11, 1000);
    weir_quota_record(&s, 5000, 0, 1000);
    assert_true(weir_quota_record(&s, 15000, 0, 1000) > 0);
    weir_quota_unrecord(&s, 15000, 0);
    assert_true(fabs(weir_quota_sensor_rate(&s, 0) - 500.0) < 1e-9);
    assert_int_equal(weir_quota_record(&s, 0, 0, 1000), 0);
    weir_quota_sensor_free(&s);

    /* Huge overshoot is capped. */
    weir_quota_sensor_init(&s, 11, 1000);
    assert_int_equal(weir_quota_record(&s, 1e15, 0, 1), WEIR_QUOTA_MAX_THROTTLE_MS);
    weir_quota_sensor_free(&s);
}

/* A client sending batches of `batch` bytes back to back, sleeping for each
 * throttle it gets (as a KIP-219 client does and as the muted channel
 * forces), for `secs` simulated seconds; returns its average rate over the
 * last half. */
static double
simulate(weir_quota_sensor_t *s, double bound, double batch, int64_t per_batch_ms, int secs)
{
    int64_t now = 0, end = (int64_t)secs * 1000, half = end / 2;
    double sent_late = 0;

    while (now < end) {
        int32_t ms = weir_quota_record(s, batch, now, bound);
        if (now >= half)
            sent_late += batch;
        now += per_batch_ms + ms;
    }
    return sent_late / ((double)(end - half) / 1000.0);
}

static void
test_converges(void **state)
{
    weir_quota_sensor_t s;
    double rate;

    (void)state;
    /* Capacity 1 MB/s (100 KB every 100 ms) against a 200 KB/s quota. */
    weir_quota_sensor_init(&s, 11, 1000);
    rate = simulate(&s, 200000, 100000, 100, 120);
    assert_true(rate > 0.9 * 200000 && rate < 1.1 * 200000);
    weir_quota_sensor_free(&s);

    /* Small batches, fast sender, other window settings. */
    weir_quota_sensor_init(&s, 5, 500);
    rate = simulate(&s, 50000, 1000, 1, 120);
    assert_true(rate > 0.9 * 50000 && rate < 1.1 * 50000);
    weir_quota_sensor_free(&s);

    /* Below its quota a client is never slowed. */
    weir_quota_sensor_init(&s, 11, 1000);
    rate = simulate(&s, 2e6, 100000, 100, 60);
    assert_true(fabs(rate - 1e6) < 1e4);
    weir_quota_sensor_free(&s);
}

static void
test_entities(void **state)
{
    weir_quotas_t *q = weir_quotas_new(11, 1000);
    weir_quota_sensor_t *a = weir_quotas_sensor(q, "tenant:teamA:produce");
    weir_quota_sensor_t *b = weir_quotas_sensor(q, "tenant:teamB:produce");
    int64_t now = 0;

    (void)state;
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(weir_quotas_sensor(q, "tenant:teamA:produce"), a);
    for (int i = 0; i < 20; i++)
        weir_quotas_sensor(q, i % 2 ? "user:x:fetch" : "user:y:fetch");
    assert_int_equal(weir_quotas_count(q), 4);
    /* Sensor pointers survive the table growing. */
    assert_ptr_equal(weir_quotas_sensor(q, "tenant:teamA:produce"), a);

    /* A floods far beyond its quota; B stays within its own. */
    for (int i = 0; i < 1000; i++, now += 10) {
        weir_quota_record(a, 1e6, now, 100000);
        assert_int_equal(weir_quota_record(b, 100, now, 100000), 0);
    }
    assert_true(weir_quota_sensor_rate(a, now) > 100000);
    assert_true(weir_quota_sensor_rate(b, now) <= 100000);
    weir_quotas_free(q);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_throttle_time),
        cmocka_unit_test(test_converges),
        cmocka_unit_test(test_entities),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
