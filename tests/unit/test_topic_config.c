/*
 * test_topic_config.c: unit tests of topic-level configuration
 * (server/meta/weir_topic_config.c): the key/value list, validation of every
 * key, resolution into weir_log_config_t over broker settings, and
 * DescribeConfigs values and sources.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_topic_config.h"

static void
test_kvlist(void **state)
{
    weir_kvlist_t l = {0}, c;

    (void)state;
    assert_null(weir_kvlist_get(&l, "a"));
    assert_null(weir_kvlist_get(NULL, "a"));
    weir_kvlist_set(&l, "a", "1");
    weir_kvlist_set(&l, "b", "2");
    weir_kvlist_set(&l, "c", "3");
    assert_int_equal(l.count, 3);
    weir_kvlist_set(&l, "b", "two");
    assert_int_equal(l.count, 3);
    assert_string_equal(weir_kvlist_get(&l, "b"), "two");
    assert_true(weir_kvlist_remove(&l, "a"));
    assert_false(weir_kvlist_remove(&l, "a"));
    assert_int_equal(l.count, 2);
    assert_null(weir_kvlist_get(&l, "a"));
    assert_string_equal(weir_kvlist_get(&l, "c"), "3");

    weir_kvlist_copy(&c, &l);
    assert_int_equal(c.count, 2);
    weir_kvlist_set(&l, "c", "changed");
    assert_string_equal(weir_kvlist_get(&c, "c"), "3"); /* a deep copy */
    assert_string_equal(weir_kvlist_get(&c, "b"), "two");
    weir_kvlist_free(&c);
    assert_int_equal(c.count, 0);
    assert_null(c.items);

    weir_kvlist_free(&l);
    weir_kvlist_copy(&c, &l); /* copy of an empty list */
    assert_int_equal(c.count, 0);
    weir_kvlist_free(&c);
    weir_kvlist_free(&l);
}

static void
expect_valid(const char *key, const char *value)
{
    char err[256] = "";

    if (weir_topic_config_validate(key, value, err, sizeof(err)) != WEIR_KERR_NONE)
        fail_msg("%s=%s refused: %s", key, value, err);
}

static void
expect_invalid(const char *key, const char *value, const char *want)
{
    char err[256] = "";
    weir_kerr_t rc = weir_topic_config_validate(key, value, err, sizeof(err));

    if (rc != WEIR_KERR_INVALID_CONFIG || strcmp(err, want) != 0)
        fail_msg("%s=%s: rc=%d err=[%s], want INVALID_CONFIG [%s]", key, value ? value : "NULL",
                 rc, err, want);
}

static void
test_validate(void **state)
{
    (void)state;
    expect_valid("cleanup.policy", "delete");
    expect_valid("cleanup.policy", "delete, delete");
    expect_valid("cleanup.policy", "compact");
    expect_valid("cleanup.policy", "delete,compact");
    expect_valid("cleanup.policy", "compact, delete");
    expect_invalid("cleanup.policy", "remove",
                   "cleanup.policy: must be a list of delete or compact (got \"remove\")");
    expect_invalid("cleanup.policy", "",
                   "cleanup.policy: must be delete or compact (got an empty list)");

    expect_valid("min.cleanable.dirty.ratio", "0");
    expect_valid("min.cleanable.dirty.ratio", "0.01");
    expect_valid("min.cleanable.dirty.ratio", "1");
    expect_valid("min.cleanable.dirty.ratio", "5e-1");
    expect_invalid("min.cleanable.dirty.ratio", "1.5",
                   "min.cleanable.dirty.ratio: must be a number between 0 and 1 (got \"1.5\")");
    expect_invalid("min.cleanable.dirty.ratio", "half",
                   "min.cleanable.dirty.ratio: must be a number between 0 and 1 (got \"half\")");
    expect_invalid("min.cleanable.dirty.ratio", "nan",
                   "min.cleanable.dirty.ratio: must be a number between 0 and 1 (got \"nan\")");
    expect_valid("min.compaction.lag.ms", "0");
    expect_valid("max.compaction.lag.ms", "1");
    expect_invalid("max.compaction.lag.ms", "0",
                   "max.compaction.lag.ms: must be an integer of at least 1 (got \"0\")");
    expect_valid("delete.retention.ms", "0");

    expect_valid("compression.type", "producer");
    expect_invalid("compression.type", "gzip",
                   "compression.type=gzip is not supported yet: only producer is implemented "
                   "(batches are stored as the producer sent them)");
    expect_invalid("compression.type", "zstd",
                   "compression.type=zstd is not supported yet: only producer is implemented "
                   "(batches are stored as the producer sent them)");
    expect_invalid("compression.type", "uncompressed",
                   "compression.type=uncompressed is not supported yet: only producer is "
                   "implemented (batches are stored as the producer sent them)");
    expect_invalid("compression.type", "brotli",
                   "compression.type: must be producer, uncompressed, gzip, snappy, lz4 or zstd "
                   "(got \"brotli\")");

    expect_valid("retention.ms", "-1");
    expect_valid("retention.ms", "0");
    expect_valid("retention.ms", "9223372036854775807");
    expect_invalid("retention.ms", "-2",
                   "retention.ms: must be -1 or a non-negative integer (got \"-2\")");
    expect_invalid("retention.ms", "1h",
                   "retention.ms: must be -1 or a non-negative integer (got \"1h\")");
    expect_invalid("retention.ms", "9223372036854775808",
                   "retention.ms: must be -1 or a non-negative integer "
                   "(got \"9223372036854775808\")");
    expect_invalid("retention.ms", "",
                   "retention.ms: must be -1 or a non-negative integer (got \"\")");
    expect_valid("retention.bytes", "-1");
    expect_valid("retention.bytes", "1073741824");
    expect_invalid("retention.bytes", "-5",
                   "retention.bytes: must be -1 or a non-negative integer (got \"-5\")");

    expect_valid("segment.bytes", "14");
    expect_valid("segment.bytes", "2147483647");
    expect_invalid("segment.bytes", "13",
                   "segment.bytes: must be an integer between 14 and 2147483647 (got \"13\")");
    expect_invalid("segment.bytes", "2147483648",
                   "segment.bytes: must be an integer between 14 and 2147483647 "
                   "(got \"2147483648\")");
    expect_valid("segment.ms", "1");
    expect_invalid("segment.ms", "0", "segment.ms: must be an integer of at least 1 (got \"0\")");
    expect_valid("segment.index.bytes", "4");
    expect_invalid("segment.index.bytes", "3",
                   "segment.index.bytes: must be an integer between 4 and 2147483647 "
                   "(got \"3\")");

    expect_valid("delete.retention.ms", "0");
    expect_invalid("delete.retention.ms", "-1",
                   "delete.retention.ms: must be a non-negative integer (got \"-1\")");
    expect_valid("file.delete.delay.ms", "0");
    expect_valid("flush.messages", "1");
    expect_invalid("flush.messages", "0",
                   "flush.messages: must be an integer of at least 1 (got \"0\")");
    expect_valid("flush.ms", "0");
    expect_valid("index.interval.bytes", "0");
    expect_valid("max.message.bytes", "1048588");
    expect_invalid("max.message.bytes", "-1",
                   "max.message.bytes: must be an integer between 0 and 2147483647 "
                   "(got \"-1\")");
    expect_valid("message.timestamp.type", "CreateTime");
    expect_valid("message.timestamp.type", "LogAppendTime");
    expect_invalid("message.timestamp.type", "logappendtime",
                   "message.timestamp.type: must be CreateTime or LogAppendTime "
                   "(got \"logappendtime\")");
    expect_valid("message.timestamp.difference.max.ms", "60000");

    expect_valid("min.insync.replicas", "1");
    expect_invalid("min.insync.replicas", "2",
                   "min.insync.replicas: must be 1: each partition has one replica until "
                   "replication lands (got \"2\")");
    expect_invalid("min.insync.replicas", "x", "min.insync.replicas: must be 1 (got \"x\")");

    expect_valid("unclean.leader.election.enable", "true");
    expect_valid("unclean.leader.election.enable", "false");
    expect_invalid("unclean.leader.election.enable", "1",
                   "unclean.leader.election.enable: must be true or false (got \"1\")");
    expect_valid("preallocate", "false");
    expect_invalid("preallocate", "true",
                   "preallocate=true is not supported: segment files are not preallocated");

    expect_invalid("retention.hours", "1", "Unknown topic config name: retention.hours");
    expect_invalid("retention.ms", NULL, "retention.ms: a value is required");
}

static void
test_resolve_defaults(void **state)
{
    weir_conf_t bc;
    weir_log_config_t lc;

    (void)state;
    weir_conf_defaults(&bc);
    weir_topic_config_resolve(&bc, NULL, &lc);
    assert_int_equal(lc.segment_bytes, bc.log_segment_bytes);
    assert_int_equal(lc.segment_ms, bc.log_roll_ms);
    assert_int_equal(lc.retention_ms, INT64_C(604800000));
    assert_int_equal(lc.retention_bytes, -1);
    assert_int_equal(lc.index_interval_bytes, 4096);
    assert_int_equal(lc.max_message_bytes, 1048588);
    assert_true(lc.flush_messages == INT64_MAX);
    assert_true(lc.flush_ms == INT64_MAX);
    assert_false(lc.log_append_time);
    assert_int_equal(lc.file_delete_delay_ms, 60000);
    assert_false(lc.compact);
    assert_false(lc.no_delete);
    assert_true(lc.min_cleanable_ratio == 0.5);
    assert_int_equal(lc.delete_retention_ms, 86400000);
    assert_int_equal(lc.min_compaction_lag_ms, 0);
    assert_true(lc.max_compaction_lag_ms == INT64_MAX);
    weir_conf_free(&bc);
}

static void
test_resolve_overrides(void **state)
{
    weir_conf_t bc;
    weir_kvlist_t ov = {0};
    weir_log_config_t lc;
    char err[256];

    (void)state;
    weir_conf_defaults(&bc);
    /* Broker-level changes flow into topics without overrides. */
    assert_int_equal(weir_conf_set(&bc, "log.retention.hours", "1", err, sizeof(err)), 0);
    assert_int_equal(weir_conf_set(&bc, "log.segment.bytes", "1000000", err, sizeof(err)), 0);
    assert_int_equal(
        weir_conf_set(&bc, "log.message.timestamp.type", "LogAppendTime", err, sizeof(err)), 0);
    assert_int_equal(weir_conf_set(&bc, "message.max.bytes", "5000", err, sizeof(err)), 0);
    weir_topic_config_resolve(&bc, &ov, &lc);
    assert_int_equal(lc.retention_ms, 3600000);
    assert_int_equal(lc.segment_bytes, 1000000);
    assert_true(lc.log_append_time);
    assert_int_equal(lc.max_message_bytes, 5000);

    /* Overrides win over the broker. */
    weir_kvlist_set(&ov, "retention.ms", "-1");
    weir_kvlist_set(&ov, "retention.bytes", "123456");
    weir_kvlist_set(&ov, "segment.bytes", "16384");
    weir_kvlist_set(&ov, "segment.ms", "60000");
    weir_kvlist_set(&ov, "index.interval.bytes", "100");
    weir_kvlist_set(&ov, "max.message.bytes", "2000000");
    weir_kvlist_set(&ov, "flush.messages", "1");
    weir_kvlist_set(&ov, "flush.ms", "1000");
    weir_kvlist_set(&ov, "message.timestamp.type", "CreateTime");
    weir_kvlist_set(&ov, "file.delete.delay.ms", "0");
    weir_kvlist_set(&ov, "cleanup.policy", "delete");
    weir_topic_config_resolve(&bc, &ov, &lc);
    assert_int_equal(lc.retention_ms, -1);
    assert_int_equal(lc.retention_bytes, 123456);
    assert_int_equal(lc.segment_bytes, 16384);
    assert_int_equal(lc.segment_ms, 60000);
    assert_int_equal(lc.index_interval_bytes, 100);
    assert_int_equal(lc.max_message_bytes, 2000000);
    assert_int_equal(lc.flush_messages, 1);
    assert_int_equal(lc.flush_ms, 1000);
    assert_false(lc.log_append_time);
    assert_int_equal(lc.file_delete_delay_ms, 0);
    assert_false(lc.compact);
    assert_false(lc.no_delete);

    /* Compaction: the policy and the cleaner keys, broker defaults first. */
    assert_int_equal(
        weir_conf_set(&bc, "log.cleaner.min.cleanable.ratio", "0.25", err, sizeof(err)), 0);
    assert_int_equal(
        weir_conf_set(&bc, "log.cleaner.delete.retention.ms", "5000", err, sizeof(err)), 0);
    weir_kvlist_set(&ov, "cleanup.policy", "compact");
    weir_topic_config_resolve(&bc, &ov, &lc);
    assert_true(lc.compact);
    assert_true(lc.no_delete);
    assert_true(lc.min_cleanable_ratio == 0.25);
    assert_int_equal(lc.delete_retention_ms, 5000);
    weir_kvlist_set(&ov, "cleanup.policy", "compact,delete");
    weir_kvlist_set(&ov, "min.cleanable.dirty.ratio", "0.01");
    weir_kvlist_set(&ov, "delete.retention.ms", "100");
    weir_kvlist_set(&ov, "min.compaction.lag.ms", "10");
    weir_kvlist_set(&ov, "max.compaction.lag.ms", "20000");
    weir_topic_config_resolve(&bc, &ov, &lc);
    assert_true(lc.compact);
    assert_false(lc.no_delete);
    assert_true(lc.min_cleanable_ratio == 0.01);
    assert_int_equal(lc.delete_retention_ms, 100);
    assert_int_equal(lc.min_compaction_lag_ms, 10);
    assert_int_equal(lc.max_compaction_lag_ms, 20000);
    weir_kvlist_remove(&ov, "min.cleanable.dirty.ratio");
    weir_kvlist_remove(&ov, "delete.retention.ms");
    weir_kvlist_remove(&ov, "min.compaction.lag.ms");
    weir_kvlist_remove(&ov, "max.compaction.lag.ms");
    weir_kvlist_set(&ov, "cleanup.policy", "delete");

    /* A stored override that does not validate falls back to the broker. */
    weir_kvlist_set(&ov, "segment.bytes", "5");
    weir_kvlist_set(&ov, "retention.ms", "soon");
    weir_topic_config_resolve(&bc, &ov, &lc);
    assert_int_equal(lc.segment_bytes, 1000000);
    assert_int_equal(lc.retention_ms, 3600000);

    weir_kvlist_free(&ov);
    weir_conf_free(&bc);
}

static bool
describe_get(const weir_conf_t *bc, const weir_kvlist_t *ov, const char *key, char *value,
             size_t size, int *source)
{
    const char *name;
    bool ro;

    for (size_t i = 0; weir_topic_config_describe(bc, ov, i, &name, value, size, source, &ro);
         i++) {
        assert_false(ro);
        if (strcmp(name, key) == 0)
            return true;
    }
    return false;
}

static void
test_describe(void **state)
{
    static const char *const keys[] = {
        "cleanup.policy", "compression.type", "delete.retention.ms", "file.delete.delay.ms",
        "flush.messages", "flush.ms", "index.interval.bytes", "max.message.bytes",
        "message.timestamp.type", "min.insync.replicas", "retention.bytes", "retention.ms",
        "max.compaction.lag.ms", "min.cleanable.dirty.ratio", "min.compaction.lag.ms",
        "segment.bytes", "segment.ms", "segment.index.bytes",
        "message.timestamp.difference.max.ms", "unclean.leader.election.enable", "preallocate",
        "confluent.key.schema.validation", "confluent.value.schema.validation",
        "weir.value.schema.validation.payload",
    };
    weir_conf_t bc;
    weir_kvlist_t ov = {0};
    const char *name;
    char value[256], err[256];
    int source;
    bool ro;
    size_t n;

    (void)state;
    weir_conf_defaults(&bc);
    for (n = 0; weir_topic_config_describe(&bc, &ov, n, &name, value, sizeof(value), &source,
                                           &ro);
         n++) {
        /* Every described key validates with its own described value. */
        if (weir_topic_config_validate(name, value, err, sizeof(err)) != WEIR_KERR_NONE)
            fail_msg("described %s=%s does not validate: %s", name, value, err);
        assert_int_equal(source, WEIR_CONFIG_SOURCE_DEFAULT);
    }
    assert_int_equal(n, sizeof(keys) / sizeof(keys[0]));
    for (size_t i = 0; i < n; i++)
        assert_true(describe_get(&bc, &ov, keys[i], value, sizeof(value), &source));

    assert_true(describe_get(&bc, &ov, "retention.ms", value, sizeof(value), &source));
    assert_string_equal(value, "604800000");
    assert_int_equal(source, WEIR_CONFIG_SOURCE_DEFAULT);
    assert_true(describe_get(&bc, &ov, "cleanup.policy", value, sizeof(value), &source));
    assert_string_equal(value, "delete");
    assert_true(describe_get(&bc, &ov, "compression.type", value, sizeof(value), &source));
    assert_string_equal(value, "producer");
    assert_true(describe_get(&bc, &ov, "segment.ms", value, sizeof(value), &source));
    assert_string_equal(value, "604800000");

    /* The broker file changed a broker key: STATIC_BROKER. */
    assert_int_equal(weir_conf_set(&bc, "log.retention.hours", "2", err, sizeof(err)), 0);
    assert_int_equal(weir_conf_set(&bc, "log.segment.bytes", "4096", err, sizeof(err)), 0);
    assert_true(describe_get(&bc, &ov, "retention.ms", value, sizeof(value), &source));
    assert_string_equal(value, "7200000");
    assert_int_equal(source, WEIR_CONFIG_SOURCE_STATIC_BROKER);
    assert_true(describe_get(&bc, &ov, "segment.bytes", value, sizeof(value), &source));
    assert_string_equal(value, "4096");
    assert_int_equal(source, WEIR_CONFIG_SOURCE_STATIC_BROKER);
    assert_true(describe_get(&bc, &ov, "max.message.bytes", value, sizeof(value), &source));
    assert_string_equal(value, "1048588");
    assert_int_equal(source, WEIR_CONFIG_SOURCE_DEFAULT);

    /* Topic overrides: TOPIC. */
    weir_kvlist_set(&ov, "retention.ms", "1000");
    weir_kvlist_set(&ov, "max.message.bytes", "100");
    assert_true(describe_get(&bc, &ov, "retention.ms", value, sizeof(value), &source));
    assert_string_equal(value, "1000");
    assert_int_equal(source, WEIR_CONFIG_SOURCE_TOPIC);
    assert_true(describe_get(&bc, &ov, "max.message.bytes", value, sizeof(value), &source));
    assert_string_equal(value, "100");
    assert_int_equal(source, WEIR_CONFIG_SOURCE_TOPIC);
    assert_true(describe_get(&bc, &ov, "segment.bytes", value, sizeof(value), &source));
    assert_int_equal(source, WEIR_CONFIG_SOURCE_STATIC_BROKER);

    assert_false(weir_topic_config_describe(&bc, &ov, n, &name, value, sizeof(value), &source,
                                            &ro));
    weir_kvlist_free(&ov);
    weir_conf_free(&bc);
}

static void
test_markdown(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    const char *name;
    char value[256], want[128];
    int source;
    bool ro;
    weir_conf_t bc;

    (void)state;
    assert_non_null(fp);
    weir_topic_config_print_markdown(fp);
    assert_int_equal(fclose(fp), 0);
    weir_conf_defaults(&bc);
    for (size_t i = 0;
         weir_topic_config_describe(&bc, NULL, i, &name, value, sizeof(value), &source, &ro);
         i++) {
        snprintf(want, sizeof(want), "| `%s` |", name);
        if (!strstr(buf, want))
            fail_msg("markdown lacks %s", name);
    }
    assert_non_null(strstr(buf, "| `retention.ms` | long | broker `log.retention.ms` | "
                                "-1 or a non-negative integer |"));
    assert_non_null(strstr(buf, "| `cleanup.policy` | list | `delete` | delete or compact |"));
    assert_non_null(strstr(buf, "| `min.cleanable.dirty.ratio` | double | broker "
                                "`log.cleaner.min.cleanable.ratio` | a number between 0 and 1 |"));
    weir_conf_free(&bc);
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kvlist),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_resolve_defaults),
        cmocka_unit_test(test_resolve_overrides),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_markdown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
