/*
 * test_conf.c: unit tests of the broker configuration (server/core/weir_conf.c):
 * defaults, single keys, the .properties reader, cross-key checks, help and
 * Markdown output, DescribeConfigs iteration, and that docs/CONFIGURATION.md
 * matches the tables.
 *
 * `test_conf --write-docs PATH` regenerates docs/CONFIGURATION.md instead of
 * running the tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weir_conf.h"
#include "weir_topic_config.h"

/* Every broker key the brief names; each must be documented. */
static const char *const all_keys[] = {
    "listeners", "advertised.listeners", "log.dirs", "log.dir", "node.id", "broker.id",
    "num.partitions", "default.replication.factor", "log.retention.ms",
    "log.retention.minutes", "log.retention.hours", "log.retention.bytes", "log.segment.bytes",
    "log.roll.ms", "log.roll.hours", "log.index.interval.bytes",
    "log.retention.check.interval.ms", "log.segment.delete.delay.ms",
    "log.flush.interval.messages", "log.flush.interval.ms", "log.message.timestamp.type",
    "auto.create.topics.enable", "delete.topic.enable", "message.max.bytes",
    "socket.request.max.bytes", "connections.max.idle.ms", "num.io.threads",
    "weir.produce.acks.all.fsync", "weir.log.level",
    /* security (issue 4) */
    "listener.security.protocol.map", "ssl.keystore.type", "ssl.keystore.location",
    "ssl.key.password", "ssl.truststore.type", "ssl.truststore.location",
    "ssl.enabled.protocols", "ssl.cipher.suites", "ssl.client.auth",
    "ssl.principal.mapping.rules", "sasl.enabled.mechanisms", "connections.max.reauth.ms",
    "super.users", "allow.everyone.if.no.acl.found", "weir.admin.group", "quota.window.num",
    "quota.window.size.seconds", "ldap.url", "ldap.starttls", "ldap.ca.location",
    "ldap.user.dn.template",
    "ldap.bind.dn", "ldap.bind.password", "ldap.user.search.base", "ldap.user.name.attribute",
    "ldap.user.object.class", "ldap.group.search.base", "ldap.group.object.class",
    "ldap.group.member.attribute", "ldap.group.name.attribute", "ldap.timeout.ms",
    "ldap.cache.ttl.ms",
    /* PEM key and trust stores in the configuration (issue 4) */
    "ssl.keystore.certificate.chain", "ssl.keystore.key", "ssl.truststore.certificates",
    /* log compaction (issue 9) */
    "log.cleaner.enable", "log.cleaner.threads", "log.cleaner.io.max.bytes.per.second",
    "log.cleaner.dedupe.buffer.size", "log.cleaner.min.cleanable.ratio",
    "log.cleaner.delete.retention.ms", "log.cleaner.min.compaction.lag.ms",
    "log.cleaner.max.compaction.lag.ms", "log.cleaner.backoff.ms",
    /* consumer groups and offsets */
    "group.min.session.timeout.ms", "group.max.session.timeout.ms",
    "group.initial.rebalance.delay.ms", "group.max.size", "offsets.retention.minutes",
    "offsets.retention.check.interval.ms", "offset.metadata.max.bytes",
    /* HTTP listeners and the graceful stop (issues 6, 8) */
    "http.listeners", "http.auth", "http.max.request.bytes", "http.max.header.bytes",
    "http.keepalive.timeout.ms", "http.request.timeout.ms", "weir.shutdown.timeout.ms",
    /* REST Proxy consumer instances (issue 10) */
    "consumer.instance.timeout.ms", "consumer.request.timeout.ms", "consumer.request.max.bytes",
};

static char tmpdir[64];
static int file_seq;

/* Writes text to a new file in the test's temp dir and returns its path
 * (static buffer per call site is not enough: caller copies if needed). */
static const char *
write_file(const char *text)
{
    static char path[128];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/weir-%d.properties", tmpdir, ++file_seq);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    return path;
}

/* Loads text over the defaults; returns weir_conf_load's result. */
static int
load_text(weir_conf_t *conf, const char *text, char *err, size_t errsz)
{
    weir_conf_defaults(conf);
    err[0] = '\0';
    return weir_conf_load(conf, write_file(text), err, errsz);
}

/* Loads text that must fail and checks the message ends with want after the
 * file name ("PATH" + want). */
static void
expect_load_error(const char *text, const char *want)
{
    weir_conf_t conf;
    char err[512], full[640];
    int rc;

    weir_conf_defaults(&conf);
    rc = weir_conf_load(&conf, write_file(text), err, sizeof(err));
    snprintf(full, sizeof(full), "%s/weir-%d.properties%s", tmpdir, file_seq, want);
    if (rc != -1 || strcmp(err, full) != 0)
        fail_msg("load of [%s]: rc=%d err=[%s], want [%s]", text, rc, err, full);
    weir_conf_free(&conf);
}

static void
test_defaults(void **state)
{
    weir_conf_t c;
    char err[256];

    (void)state;
    weir_conf_defaults(&c);
    assert_string_equal(c.listeners, "PLAINTEXT://127.0.0.1:9092");
    assert_null(c.advertised_listeners);
    assert_string_equal(c.log_dirs, "./var/data");
    assert_int_equal(c.node_id, 1);
    assert_int_equal(c.num_partitions, 1);
    assert_int_equal(c.default_replication_factor, 1);
    assert_int_equal(c.log_retention_ms, INT64_C(168) * 3600000);
    assert_int_equal(c.log_retention_bytes, -1);
    assert_int_equal(c.log_segment_bytes, 1073741824);
    assert_int_equal(c.log_roll_ms, INT64_C(168) * 3600000);
    assert_int_equal(c.log_index_interval_bytes, 4096);
    assert_int_equal(c.log_retention_check_interval_ms, 300000);
    assert_int_equal(c.log_segment_delete_delay_ms, 60000);
    assert_true(c.log_flush_interval_messages == INT64_MAX);
    assert_true(c.log_flush_interval_ms == INT64_MAX);
    assert_false(c.log_message_timestamp_log_append);
    assert_true(c.auto_create_topics_enable);
    assert_true(c.delete_topic_enable);
    assert_int_equal(c.message_max_bytes, 1048588);
    assert_int_equal(c.socket_request_max_bytes, 104857600);
    assert_int_equal(c.connections_max_idle_ms, 600000);
    assert_int_equal(c.num_io_threads, 8);
    assert_false(c.acks_all_fsync);
    assert_string_equal(c.log_level, "info");
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), 0);
    weir_conf_free(&c);
    assert_null(c.listeners);
    weir_conf_free(&c); /* twice is harmless */
}

static void
expect_set_error(const char *key, const char *value, const char *want)
{
    weir_conf_t c;
    char err[256] = "";

    weir_conf_defaults(&c);
    if (weir_conf_set(&c, key, value, err, sizeof(err)) != -1 || strcmp(err, want) != 0)
        fail_msg("set %s=%s: err=[%s], want [%s]", key, value, err, want);
    weir_conf_free(&c);
}

static void
test_set_values(void **state)
{
    weir_conf_t c;
    char err[256];

    (void)state;
    weir_conf_defaults(&c);
    assert_int_equal(weir_conf_set(&c, "node.id", "0", err, sizeof(err)), 0);
    assert_int_equal(c.node_id, 0);
    assert_int_equal(weir_conf_set(&c, "node.id", "2147483647", err, sizeof(err)), 0);
    assert_int_equal(c.node_id, INT32_MAX);
    assert_int_equal(weir_conf_set(&c, "log.segment.bytes", "14", err, sizeof(err)), 0);
    assert_int_equal(c.log_segment_bytes, 14);
    assert_int_equal(weir_conf_set(&c, "log.retention.bytes", "-1", err, sizeof(err)), 0);
    assert_int_equal(weir_conf_set(&c, "log.retention.bytes", "+5", err, sizeof(err)), 0);
    assert_int_equal(c.log_retention_bytes, 5);
    assert_int_equal(weir_conf_set(&c, "log.flush.interval.ms", "1000", err, sizeof(err)), 0);
    assert_int_equal(c.log_flush_interval_ms, 1000);
    assert_int_equal(
        weir_conf_set(&c, "log.flush.interval.messages", "9223372036854775807", err, sizeof(err)),
        0);
    assert_true(c.log_flush_interval_messages == INT64_MAX);
    assert_int_equal(weir_conf_set(&c, "auto.create.topics.enable", "false", err, sizeof(err)),
                     0);
    assert_false(c.auto_create_topics_enable);
    assert_int_equal(weir_conf_set(&c, "weir.produce.acks.all.fsync", "true", err, sizeof(err)),
                     0);
    assert_true(c.acks_all_fsync);
    assert_int_equal(
        weir_conf_set(&c, "log.message.timestamp.type", "LogAppendTime", err, sizeof(err)), 0);
    assert_true(c.log_message_timestamp_log_append);
    assert_int_equal(weir_conf_set(&c, "weir.log.level", "debug", err, sizeof(err)), 0);
    assert_string_equal(c.log_level, "debug");
    assert_int_equal(weir_conf_set(&c, "log.retention.hours", "-1", err, sizeof(err)), 0);
    assert_int_equal(c.log_retention_ms, -1);
    assert_int_equal(weir_conf_set(&c, "log.retention.minutes", "2", err, sizeof(err)), 0);
    assert_int_equal(c.log_retention_ms, 120000);
    assert_int_equal(weir_conf_set(&c, "log.roll.hours", "1", err, sizeof(err)), 0);
    assert_int_equal(c.log_roll_ms, 3600000);
    assert_int_equal(weir_conf_set(&c, "advertised.listeners", "PLAINTEXT://broker.example:9092",
                                   err, sizeof(err)),
                     0);
    assert_string_equal(c.advertised_listeners, "PLAINTEXT://broker.example:9092");
    assert_int_equal(weir_conf_set(&c, "advertised.listeners", "", err, sizeof(err)), 0);
    assert_null(c.advertised_listeners);
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), 0);
    weir_conf_free(&c);
}

static void
test_set_errors(void **state)
{
    (void)state;
    expect_set_error("no.such.key", "1", "unknown key");
    expect_set_error("num.partitions", "12x", "must be an integer between 1 and 2147483647 "
                                              "(got \"12x\")");
    expect_set_error("num.partitions", "", "must be an integer between 1 and 2147483647 "
                                           "(got \"\")");
    expect_set_error("num.partitions", " 3", "must be an integer between 1 and 2147483647 "
                                             "(got \" 3\")");
    expect_set_error("num.partitions", "0", "must be an integer between 1 and 2147483647 "
                                            "(got \"0\")");
    expect_set_error("num.partitions", "2147483648",
                     "must be an integer between 1 and 2147483647 (got \"2147483648\")");
    expect_set_error("node.id", "-1", "must be an integer between 0 and 2147483647 (got \"-1\")");
    expect_set_error("log.segment.bytes", "13",
                     "must be an integer between 14 and 2147483647 (got \"13\")");
    expect_set_error("log.retention.ms", "-2",
                     "must be -1 or an integer between 0 and 9223372036854775807 (got \"-2\")");
    expect_set_error("log.retention.ms", "9223372036854775808",
                     "must be -1 or an integer between 0 and 9223372036854775807 "
                     "(got \"9223372036854775808\")");
    expect_set_error("log.retention.check.interval.ms", "0",
                     "must be an integer between 1 and 9223372036854775807 (got \"0\")");
    expect_set_error("num.io.threads", "1025",
                     "must be an integer between 1 and 1024 (got \"1025\")");
    expect_set_error("default.replication.factor", "3",
                     "only 1 is supported until replication lands");
    expect_set_error("default.replication.factor", "x", "must be 1 (got \"x\")");
    expect_set_error("delete.topic.enable", "yes", "must be true or false (got \"yes\")");
    expect_set_error("delete.topic.enable", "True", "must be true or false (got \"True\")");
    expect_set_error("log.message.timestamp.type", "createtime",
                     "must be one of CreateTime, LogAppendTime (got \"createtime\")");
    expect_set_error("weir.log.level", "trace",
                     "must be one of error, warn, info, debug (got \"trace\")");
    expect_set_error("log.dirs", "/a,/b", "only one log directory is supported");
    expect_set_error("log.dir", "/a,/b", "only one log directory is supported");
    expect_set_error("log.dirs", "", "must not be empty");
    expect_set_error("listeners", "PLAINTEXT://127.0.0.1:65536",
                     "\"PLAINTEXT://127.0.0.1:65536\": port must be an integer in 0 .. 65535");
    expect_set_error("listeners", "PLAINTEXT://127.0.0.1:-1",
                     "\"PLAINTEXT://127.0.0.1:-1\": port must be an integer in 0 .. 65535");
    expect_set_error("listeners", "PLAINTEXT://127.0.0.1",
                     "\"PLAINTEXT://127.0.0.1\" has no port (NAME://host:port)");
    expect_set_error("listeners", "127.0.0.1:9092", "\"127.0.0.1:9092\" is not NAME://host:port");
    expect_set_error("listeners", "PLAINTEXT://a:1,", "empty listener in \"PLAINTEXT://a:1,\"");
    expect_set_error("listeners", "PLAINTEXT://a:1,PLAINTEXT://b:2",
                     "listener name PLAINTEXT appears twice");
    expect_set_error("listeners", "IN TERNAL://:9092", "\"IN TERNAL://:9092\": bad listener name");
    expect_set_error("listeners", "PLAINTEXT://[::1:9092",
                     "\"PLAINTEXT://[::1:9092\": bad IPv6 address (use [addr]:port)");
    expect_set_error("advertised.listeners", "PLAINTEXT://0.0.0.0:9092",
                     "PLAINTEXT: cannot advertise the non-routable address 0.0.0.0");
    expect_set_error("advertised.listeners", "PLAINTEXT://h:0",
                     "PLAINTEXT: cannot advertise port 0");
}

static void
test_listener_forms(void **state)
{
    static const char *const good[] = {
        "PLAINTEXT://:9092", "PLAINTEXT://0.0.0.0:0", "PLAINTEXT://[::1]:9092",
        "PLAINTEXT://broker-1.example.org:65535", " PLAINTEXT://localhost:9092 ",
    };
    weir_conf_t c;
    char err[256];

    (void)state;
    weir_conf_defaults(&c);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (weir_conf_set(&c, "listeners", good[i], err, sizeof(err)) != 0)
            fail_msg("listeners=%s refused: %s", good[i], err);
        assert_int_equal(weir_conf_check(&c, err, sizeof(err)), 0);
    }
    weir_conf_free(&c);
}

static void
test_check(void **state)
{
    weir_conf_t c;
    char err[256];

    (void)state;
    weir_conf_defaults(&c);
    c.num_partitions = 0;
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), -1);
    assert_string_equal(err,
                        "num.partitions: must be an integer between 1 and 2147483647 (got \"0\")");
    c.num_partitions = 1;
    c.default_replication_factor = 2;
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), -1);
    assert_string_equal(err,
                        "default.replication.factor: only 1 is supported until replication lands");
    c.default_replication_factor = 1;
    c.log_retention_ms = -5;
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "log.retention.ms: "));
    c.log_retention_ms = -1;
    c.log_roll_ms = 0;
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "log.roll.ms: "));
    c.log_roll_ms = 1;
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), 0);
    free(c.listeners);
    c.listeners = strdup("SSL://:9093");
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), -1);
    assert_string_equal(err, "ssl.keystore.location: must be set for SSL and SASL_SSL listeners");
    free(c.listeners);
    c.listeners = NULL;
    assert_int_equal(weir_conf_check(&c, err, sizeof(err)), -1);
    assert_string_equal(err, "listeners: must be set");
    weir_conf_free(&c);
}

static void
test_load_syntax(void **state)
{
    weir_conf_t c;
    char err[512];

    (void)state;
    assert_int_equal(load_text(&c,
                               "# a comment\n"
                               "! another comment\n"
                               "   # indented comment = not.a.key\n"
                               "\n"
                               "node.id=7\n"
                               "num.partitions : 3\n"
                               "  log.segment.bytes   2048   \n"
                               "message.max.bytes=\t1000\t\n"
                               "listeners = PLAINTEXT://127.0.0.1:0,\\\n"
                               "            \n"
                               "log.dirs=/tmp/weir\\\n"
                               "   -data\n"
                               "weir.log.level:warn\r\n"
                               "delete.topic.enable=false\r\n"
                               "auto.create.topics.enable   =   false",
                               err, sizeof(err)),
                     -1);
    /* The continuation above ends listeners with a comma and a blank line: an
     * empty listener.  Check the reported line is the first line of it. */
    assert_non_null(strstr(err, ":9: listeners: empty listener in "));
    weir_conf_free(&c);

    assert_int_equal(load_text(&c,
                               "# a comment\n"
                               "! another comment\n"
                               "   # indented comment = not.a.key\n"
                               "\n"
                               "node.id=7\n"
                               "num.partitions : 3\n"
                               "  log.segment.bytes   2048   \n"
                               "message.max.bytes=\t1000\t\n"
                               "listeners = PLAINTEXT://127.0.0.1:0,\\\n"
                               "            PLAINTEXT2://x:1\n",
                               err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, ": listeners: listener name PLAINTEXT2 is not in "
                                "listener.security.protocol.map"));
    weir_conf_free(&c);

    if (load_text(&c,
                  "# a comment\n"
                  "! another comment\n"
                  "   # indented comment = not.a.key\n"
                  "\n"
                  "node.id=7\n"
                  "num.partitions : 3\n"
                  "  log.segment.bytes   2048   \n"
                  "message.max.bytes=\t1000\t\n"
                  "listeners = PLAINTEXT://127.0.0.1:0\\\n"
                  "\n"
                  "log.dirs=/tmp/weir\\\n"
                  "   -data\n"
                  "weir.log.level:warn\r\n"
                  "delete.topic.enable=false\r\n"
                  "# comment ending in a backslash does not continue \\\n"
                  "advertised.listeners=PLAINTEXT://h\\:9092\n"
                  "auto.create.topics.enable   =   false",
                  err, sizeof(err)) != 0)
        fail_msg("load failed: %s", err);
    assert_int_equal(c.node_id, 7);
    assert_int_equal(c.num_partitions, 3);
    assert_int_equal(c.log_segment_bytes, 2048);
    assert_int_equal(c.message_max_bytes, 1000);
    assert_string_equal(c.listeners, "PLAINTEXT://127.0.0.1:0");
    assert_string_equal(c.log_dirs, "/tmp/weir-data");
    assert_string_equal(c.log_level, "warn");
    assert_false(c.delete_topic_enable);
    assert_false(c.auto_create_topics_enable);
    assert_string_equal(c.advertised_listeners, "PLAINTEXT://h:9092");
    weir_conf_free(&c);
}

static void
test_load_escapes(void **state)
{
    weir_conf_t c;
    char err[512];

    (void)state;
    if (load_text(&c,
                  "log.dirs = /srv/my\\ data\\\\x\\u0041\\u00e9\\ \n"
                  "log\\.level=1\n",
                  err, sizeof(err)) != -1)
        fail_msg("unknown escaped key accepted");
    assert_non_null(strstr(err, ":2: log.level: unknown key"));
    weir_conf_free(&c);

    if (load_text(&c, "log.dirs = /srv/my\\ data\\\\x\\u0041\\u00e9\\ \n", err, sizeof(err)) !=
        0)
        fail_msg("load failed: %s", err);
    /* "\ " keeps a space, "\\" is one backslash, \u escapes are UTF-8. */
    assert_string_equal(c.log_dirs, "/srv/my data\\xA\xc3\xa9 ");
    weir_conf_free(&c);

    expect_load_error("log.dirs=/a\\u00zz\n", ":1: malformed \\u escape");
    /* A key given by itself has an empty value. */
    expect_load_error("\n\nnum.partitions\n", ":3: num.partitions: must be an integer between 1 "
                                              "and 2147483647 (got \"\")");
    if (load_text(&c, "advertised.listeners\n", err, sizeof(err)) != 0)
        fail_msg("load failed: %s", err);
    assert_null(c.advertised_listeners);
    weir_conf_free(&c);
}

static void
test_load_errors(void **state)
{
    weir_conf_t c;
    char err[512];

    (void)state;
    expect_load_error("node.id=1\n# comment\n\nfoo.bar=2\n", ":4: foo.bar: unknown key");
    expect_load_error("log.dirs=/data/\\\n  weir\nbogus=1\n",
                      ":3: bogus: unknown key");
    expect_load_error("num.partitions=abc\n",
                      ":1: num.partitions: must be an integer between 1 and 2147483647 "
                      "(got \"abc\")");
    expect_load_error("num.partitions=3 # three\n",
                      ":1: num.partitions: must be an integer between 1 and 2147483647 "
                      "(got \"3 # three\")");
    expect_load_error("\n\nlog.segment.bytes=13\n",
                      ":3: log.segment.bytes: must be an integer between 14 and 2147483647 "
                      "(got \"13\")");
    expect_load_error("log.retention.hours=9999999999\n",
                      ":1: log.retention.hours: must be -1 or an integer between 0 and "
                      "2147483647 (got \"9999999999\")");
    expect_load_error("default.replication.factor=3\n",
                      ":1: default.replication.factor: only 1 is supported until replication "
                      "lands");
    expect_load_error("log.dirs=/a,/b\n", ":1: log.dirs: only one log directory is supported");
    expect_load_error("listeners=SSL://127.0.0.1:9093\n",
                      ": ssl.keystore.location: must be set for SSL and SASL_SSL listeners");
    expect_load_error("listeners=PLAINTEXT://127.0.0.1:99999\n",
                      ":1: listeners: \"PLAINTEXT://127.0.0.1:99999\": port must be an integer "
                      "in 0 .. 65535");
    expect_load_error("node.id=3\nbroker.id=4\n", ":2: broker.id: conflicts with node.id=3 at "
                                                  "line 1");
    expect_load_error("weir.log.level=verbose\n",
                      ":1: weir.log.level: must be one of error, warn, info, debug "
                      "(got \"verbose\")");

    /* A failed load leaves the configuration as it was. */
    weir_conf_defaults(&c);
    assert_int_equal(weir_conf_set(&c, "node.id", "5", err, sizeof(err)), 0);
    assert_int_equal(weir_conf_load(&c, write_file("node.id=9\nlog.dirs=/x\nbad=1\n"), err,
                                    sizeof(err)),
                     -1);
    assert_int_equal(c.node_id, 5);
    assert_string_equal(c.log_dirs, "./var/data");
    weir_conf_free(&c);

    /* A missing file. */
    weir_conf_defaults(&c);
    assert_int_equal(weir_conf_load(&c, "/nonexistent/weir.properties", err, sizeof(err)), -1);
    assert_string_equal(err, "/nonexistent/weir.properties: No such file or directory");
    weir_conf_free(&c);
}

static void
test_load_nul_byte(void **state)
{
    weir_conf_t c;
    char path[128], err[512], want[256];
    FILE *fp;

    (void)state;
    snprintf(path, sizeof(path), "%s/nul.properties", tmpdir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite("node.id=1\nx\0y=2\n", 1, 16, fp), 16);
    assert_int_equal(fclose(fp), 0);
    weir_conf_defaults(&c);
    assert_int_equal(weir_conf_load(&c, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:2: NUL byte in file", path);
    assert_string_equal(err, want);
    weir_conf_free(&c);
}

static void
test_retention_precedence(void **state)
{
    static const struct {
        const char *text;
        int64_t retention_ms;
        int64_t roll_ms;
    } cases[] = {
        {"", INT64_C(168) * 3600000, INT64_C(168) * 3600000},
        {"log.retention.hours=1\n", 3600000, INT64_C(168) * 3600000},
        {"log.retention.hours=-1\n", -1, INT64_C(168) * 3600000},
        {"log.retention.minutes=2\n", 120000, INT64_C(168) * 3600000},
        {"log.retention.ms=5\n", 5, INT64_C(168) * 3600000},
        /* ms over minutes over hours, whatever the order. */
        {"log.retention.ms=5\nlog.retention.minutes=2\nlog.retention.hours=1\n", 5, 0},
        {"log.retention.hours=1\nlog.retention.minutes=2\nlog.retention.ms=5\n", 5, 0},
        {"log.retention.minutes=2\nlog.retention.hours=1\n", 120000, 0},
        {"log.retention.hours=1\nlog.retention.minutes=2\n", 120000, 0},
        {"log.retention.ms=-1\nlog.retention.hours=1\n", -1, 0},
        {"log.retention.hours=-1\nlog.retention.ms=1000\n", 1000, 0},
        /* The same key twice: the last wins. */
        {"log.retention.ms=5\nlog.retention.ms=6\n", 6, 0},
        /* log.roll.ms over log.roll.hours. */
        {"log.roll.hours=2\n", 0, 7200000},
        {"log.roll.ms=10\nlog.roll.hours=2\n", 0, 10},
        {"log.roll.hours=2\nlog.roll.ms=10\n", 0, 10},
    };
    weir_conf_t c;
    char err[512];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (load_text(&c, cases[i].text, err, sizeof(err)) != 0)
            fail_msg("[%s]: %s", cases[i].text, err);
        if (cases[i].retention_ms && c.log_retention_ms != cases[i].retention_ms)
            fail_msg("[%s]: retention %lld", cases[i].text, (long long)c.log_retention_ms);
        if (cases[i].roll_ms && c.log_roll_ms != cases[i].roll_ms)
            fail_msg("[%s]: roll %lld", cases[i].text, (long long)c.log_roll_ms);
        weir_conf_free(&c);
    }
    /* A losing synonym is still checked. */
    expect_load_error("log.retention.ms=5\nlog.retention.hours=x\n",
                      ":2: log.retention.hours: must be -1 or an integer between 0 and "
                      "2147483647 (got \"x\")");
    expect_load_error("log.roll.hours=0\n", ":1: log.roll.hours: must be an integer between 1 "
                                            "and 2147483647 (got \"0\")");
}

static void
test_aliases(void **state)
{
    weir_conf_t c;
    char err[512];

    (void)state;
    assert_int_equal(load_text(&c, "log.dir=/data/one\n", err, sizeof(err)), 0);
    assert_string_equal(c.log_dirs, "/data/one");
    weir_conf_free(&c);
    assert_int_equal(load_text(&c, "log.dirs=/data/two\nlog.dir=/data/one\n", err, sizeof(err)),
                     0);
    assert_string_equal(c.log_dirs, "/data/two");
    weir_conf_free(&c);
    assert_int_equal(load_text(&c, "log.dir=/data/one\nlog.dirs=/data/two\n", err, sizeof(err)),
                     0);
    assert_string_equal(c.log_dirs, "/data/two");
    weir_conf_free(&c);
    assert_int_equal(load_text(&c, "broker.id=4\n", err, sizeof(err)), 0);
    assert_int_equal(c.node_id, 4);
    weir_conf_free(&c);
    assert_int_equal(load_text(&c, "broker.id=4\nnode.id=04\n", err, sizeof(err)), 0);
    assert_int_equal(c.node_id, 4);
    weir_conf_free(&c);
}

static void
test_advertised(void **state)
{
    weir_conf_t c;
    char err[512];

    (void)state;
    assert_int_equal(load_text(&c,
                               "listeners=PLAINTEXT://0.0.0.0:9092\n"
                               "advertised.listeners=PLAINTEXT://kafka.example.org:19092\n",
                               err, sizeof(err)),
                     0);
    assert_string_equal(c.advertised_listeners, "PLAINTEXT://kafka.example.org:19092");
    weir_conf_free(&c);
    expect_load_error("advertised.listeners=PLAINTEXT://0.0.0.0:9092\n",
                      ":1: advertised.listeners: PLAINTEXT: cannot advertise the non-routable "
                      "address 0.0.0.0");
}

/* Reads everything a printer writes into a malloc'd string. */
static char *
capture(void (*print)(FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    assert_non_null(fp);
    print(fp);
    assert_int_equal(fclose(fp), 0);
    return buf;
}

static void
test_help_lists_every_key(void **state)
{
    char *help = capture(weir_conf_print_help);
    char *md = capture(weir_conf_print_markdown);
    char want[128];
    weir_conf_t c;
    const char *name;
    char value[512];
    bool is_default, sensitive;

    (void)state;
    for (size_t i = 0; i < sizeof(all_keys) / sizeof(all_keys[0]); i++) {
        snprintf(want, sizeof(want), "\n%s\n    ", all_keys[i]);
        if (!strstr(help, want))
            fail_msg("help lacks %s", all_keys[i]);
        snprintf(want, sizeof(want), "| `%s` |", all_keys[i]);
        if (!strstr(md, want))
            fail_msg("markdown lacks %s", all_keys[i]);
    }
    /* Defaults and meanings are shown. */
    assert_non_null(strstr(help, "log.segment.bytes\n    Size at which the active segment"));
    assert_non_null(strstr(help, "type: long; default: 1073741824\n    valid: 14 .. 2147483647"));
    assert_non_null(strstr(help, "log.retention.hours\n"));
    assert_non_null(strstr(help, "type: int; default: 168\n"));
    assert_non_null(strstr(md, "| `num.io.threads` | int | `8` | 1 .. 1024 | Size of the worker"));
    assert_non_null(strstr(md, "| `log.message.timestamp.type` | string | `CreateTime` | "
                               "CreateTime, LogAppendTime |"));

    /* Every described key is documented too. */
    weir_conf_defaults(&c);
    for (size_t i = 0; weir_conf_describe(&c, i, &name, value, sizeof(value), &is_default,
                                          &sensitive);
         i++) {
        snprintf(want, sizeof(want), "\n%s\n    ", name);
        if (!strstr(help, want))
            fail_msg("help lacks described key %s", name);
    }
    weir_conf_free(&c);
    free(help);
    free(md);
}

static bool
describe_get(const weir_conf_t *c, const char *key, char *value, size_t size, bool *is_default)
{
    const char *name;
    bool sensitive;

    for (size_t i = 0; weir_conf_describe(c, i, &name, value, size, is_default, &sensitive); i++)
        if (strcmp(name, key) == 0)
            return true;
    return false;
}

static void
test_describe(void **state)
{
    weir_conf_t c;
    const char *name;
    char value[512], err[256];
    bool is_default, sensitive;
    size_t n;

    (void)state;
    weir_conf_defaults(&c);
    for (n = 0; weir_conf_describe(&c, n, &name, value, sizeof(value), &is_default, &sensitive);
         n++) {
        if (!is_default)
            fail_msg("%s=%s not reported as default", name, value);
        assert_true(sensitive == (strcmp(name, "ssl.key.password") == 0 ||
                                  strcmp(name, "ssl.keystore.key") == 0 ||
                                  strcmp(name, "ldap.bind.password") == 0));
    }
    /* Canonical keys only: the synonyms are described under their key. */
    assert_int_equal(n, sizeof(all_keys) / sizeof(all_keys[0]) - 5);
    assert_false(describe_get(&c, "log.retention.hours", value, sizeof(value), &is_default));
    assert_false(describe_get(&c, "broker.id", value, sizeof(value), &is_default));

    assert_true(describe_get(&c, "log.retention.ms", value, sizeof(value), &is_default));
    assert_string_equal(value, "604800000");
    assert_true(is_default);
    assert_true(describe_get(&c, "advertised.listeners", value, sizeof(value), &is_default));
    assert_string_equal(value, "PLAINTEXT://127.0.0.1:9092");
    assert_true(is_default);
    assert_true(describe_get(&c, "log.flush.interval.ms", value, sizeof(value), &is_default));
    assert_string_equal(value, "9223372036854775807");
    assert_true(describe_get(&c, "log.message.timestamp.type", value, sizeof(value),
                             &is_default));
    assert_string_equal(value, "CreateTime");

    assert_int_equal(weir_conf_set(&c, "log.retention.hours", "24", err, sizeof(err)), 0);
    assert_int_equal(weir_conf_set(&c, "node.id", "3", err, sizeof(err)), 0);
    assert_int_equal(weir_conf_set(&c, "auto.create.topics.enable", "false", err, sizeof(err)),
                     0);
    assert_int_equal(weir_conf_set(&c, "advertised.listeners", "PLAINTEXT://h:1", err,
                                   sizeof(err)),
                     0);
    assert_true(describe_get(&c, "log.retention.ms", value, sizeof(value), &is_default));
    assert_string_equal(value, "86400000");
    assert_false(is_default);
    assert_true(describe_get(&c, "node.id", value, sizeof(value), &is_default));
    assert_string_equal(value, "3");
    assert_false(is_default);
    assert_true(describe_get(&c, "auto.create.topics.enable", value, sizeof(value),
                             &is_default));
    assert_string_equal(value, "false");
    assert_false(is_default);
    assert_true(describe_get(&c, "advertised.listeners", value, sizeof(value), &is_default));
    assert_string_equal(value, "PLAINTEXT://h:1");
    assert_false(is_default);
    /* Setting a key to its default value reads as default. */
    assert_int_equal(weir_conf_set(&c, "node.id", "1", err, sizeof(err)), 0);
    assert_true(describe_get(&c, "node.id", value, sizeof(value), &is_default));
    assert_true(is_default);
    /* A small buffer truncates, never overflows. */
    assert_true(describe_get(&c, "listeners", value, 5, &is_default));
    assert_string_equal(value, "PLAI");
    weir_conf_free(&c);
}

/* docs/CONFIGURATION.md, as generated from the tables. */
static char *
generate_docs(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    if (!fp)
        return NULL;
    weir_conf_print_markdown(fp);
    fputc('\n', fp);
    weir_topic_config_print_markdown(fp);
    fclose(fp);
    return buf;
}

static void
docs_path(char *buf, size_t size)
{
    const char *file = __FILE__; /* .../tests/unit/test_conf.c */
    const char *cut = strstr(file, "tests/unit/test_conf.c");

    snprintf(buf, size, "%.*sdocs/CONFIGURATION.md", cut ? (int)(cut - file) : 0, file);
}

static void
test_docs_up_to_date(void **state)
{
    char path[1024], *want = generate_docs(), *have;
    long size;
    FILE *fp;

    (void)state;
    docs_path(path, sizeof(path));
    fp = fopen(path, "r");
    if (!fp)
        fail_msg("%s: %s", path, strerror(errno));
    fseek(fp, 0, SEEK_END);
    size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    have = calloc(1, (size_t)size + 1);
    assert_int_equal(fread(have, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    if (strcmp(have, want) != 0)
        fail_msg("%s is stale: regenerate with test_conf --write-docs %s", path, path);
    free(have);
    free(want);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/weir-test-conf-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_set_values),
        cmocka_unit_test(test_set_errors),
        cmocka_unit_test(test_listener_forms),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_load_syntax),
        cmocka_unit_test(test_load_escapes),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_nul_byte),
        cmocka_unit_test(test_retention_precedence),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_advertised),
        cmocka_unit_test(test_help_lists_every_key),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_docs_up_to_date),
    };

    if (argc == 3 && strcmp(argv[1], "--write-docs") == 0) {
        char *docs = generate_docs();
        FILE *fp = fopen(argv[2], "w");

        if (!docs || !fp || fputs(docs, fp) < 0 || fclose(fp) != 0) {
            fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        free(docs);
        return 0;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
