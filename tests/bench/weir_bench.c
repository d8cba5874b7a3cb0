/*
 * weir_bench.c: throughput load generator for Weir (and for librdkafka's
 * in-process mock cluster, as a baseline on the same machine).
 *
 * One run: produce N records of S bytes to partition 0 of one topic (acks=1,
 * linger.ms=5, big batches, no compression) and wait for every delivery
 * report; then read the N records back with a plain consumer that uses
 * assign() from offset 0 (no group membership, no commits).  Each phase
 * prints records/s and MB/s (MB = 10^6 bytes of record values) and the run
 * ends with one machine-readable "RESULT key=value ..." line for
 * tests/bench/run.
 *
 * Records are checked on the way back (consecutive offsets, value size), so a
 * run fails on wrong data or on a stall, never on how fast it went.
 *
 * librdkafka's mock cluster keeps only the newest ~5 MiB of each partition's
 * log, so in --mock mode a large run cannot be read back from offset 0.  The
 * consumer then starts at the log start offset and seeks back to it each time
 * it reaches the end, until it has read N records.  The time from each such
 * rewind to the next record is left out of the consume time and reported
 * apart, with the number of rewinds and the retained range.
 *
 * With --schema-id N every record value is in Confluent's wire format for
 * the Avro schema "bytes": magic byte 0, the schema id N (4 bytes, big
 * endian), then an Avro bytes value (zig-zag varint length, then the bytes)
 * whose length makes the whole value S bytes, so that a broker validating
 * schema ids or payloads accepts every record (tests/bench/run-registry).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define BENCH_DEFAULT_TOPIC "weir-bench"
#define BENCH_DEFAULT_COUNT 1000000L
#define BENCH_DEFAULT_SIZE 100L
#define BENCH_DEFAULT_TIMEOUT 60L
#define BENCH_MAX_COUNT 2000000000L
#define BENCH_MAX_SIZE 900000L /* stays under the producer's message.max.bytes */
#define BENCH_MAX_TIMEOUT 3600L
/* max.partition.fetch.bytes: 4 x librdkafka's default.  Much larger ones
 * (64 MiB) made the consumer slower against Weir, not faster: one huge
 * response is received and parsed before the application sees its first
 * record and before the next fetch is sent, so nothing overlaps. */
#define BENCH_DEFAULT_FETCH_BYTES 4194304L
#define BENCH_MAX_FETCH_BYTES 1073741824L
#define BENCH_FETCH_MAX_BYTES 67108864L /* fetch.max.bytes (whole response) */
#define BENCH_TOPIC_MAX_LEN 249
#define BENCH_CONSUME_BATCH 10000
#define BENCH_RPC_TIMEOUT_MS 10000
#define BENCH_MAX_SCHEMA_ID 2147483647L
#define BENCH_FRAME_HEADER 5 /* magic byte 0 and the 4-byte schema id */
#define BENCH_OPT_SCHEMA_ID 256 /* getopt value of --schema-id (no short form) */

typedef struct bench_opts_s {
    const char *bootstrap; /* NULL in --mock mode */
    bool mock;
    const char *topic;
    long count;
    long size;
    long timeout_s; /* a phase fails after this long without progress */
    bool create_topic;
    const char *debug; /* librdkafka debug contexts for both clients, or NULL */
    long fetch_bytes;  /* max.partition.fetch.bytes */
    long schema_id;    /* --schema-id, or -1: values are plain bytes */
    long avro_len;     /* with schema_id: length of the Avro bytes value */
} bench_opts_t;

typedef struct bench_result_s {
    double produce_s;
    double consume_s;
    long consumed;
    long rewinds;          /* --mock only: seeks back to the log start */
    double rewind_pause_s; /* time from each rewind to the next record, not in consume_s */
    int64_t low;           /* log start offset seen before consuming */
    int64_t high;          /* log end offset seen before consuming */
} bench_result_t;

/* Delivery report counters; only touched from rd_kafka_poll()/flush() on the
 * main thread, so no locking is needed. */
typedef struct bench_dr_s {
    long delivered;
    long failed;
    rd_kafka_resp_err_t first_err;
} bench_dr_t;

static const char *progname = "weir_bench";

/* -X KEY=VALUE settings, applied to every client after Weir's own (e.g.
 * security.protocol=ssl for the SSL runs of tests/bench/run-security). */
#define BENCH_MAX_PROPS 32
static const char *extra_props[BENCH_MAX_PROPS];
static int n_extra_props;

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: %s (-b HOST:PORT | --mock) [options]\n"
            "\n"
            "Produces N records of S bytes to partition 0 of a topic, waits for every\n"
            "delivery report, then reads them back from offset 0 with assign() and\n"
            "prints records/s and MB/s (10^6 bytes of record values) for each phase.\n"
            "\n"
            "  -b, --bootstrap HOST:PORT  broker to benchmark; the topic is created there\n"
            "                             with the Admin API (1 partition, replication 1)\n"
            "  -m, --mock                 run against an in-process librdkafka mock cluster\n"
            "                             (1 broker) instead\n"
            "  -t, --topic NAME           topic (default %s); must be new or empty\n"
            "  -n, --count N              records to produce and consume (default %ld,\n"
            "                             1..%ld)\n"
            "  -s, --size BYTES           record value size (default %ld, 1..%ld)\n"
            "  -T, --timeout SECONDS      fail a phase after this long without progress\n"
            "                             (default %ld, 1..%ld); never a time limit on the run\n"
            "      --no-create            do not create the topic (rely on auto-creation)\n"
            "  -F, --fetch-bytes BYTES    consumer max.partition.fetch.bytes (default %ld,\n"
            "                             %ld..%ld); fetch.max.bytes is the larger of this\n"
            "                             and 64 MiB\n"
            "  -d, --debug CONTEXTS       librdkafka debug contexts for the clients, e.g.\n"
            "                             \"fetch,msg\" (logged to stderr)\n"
            "  -X, --property KEY=VALUE   extra librdkafka setting for both clients, e.g.\n"
            "                             security.protocol=ssl (repeatable, up to 32)\n"
            "      --schema-id N          make every value Confluent-framed Avro for the\n"
            "                             schema \"bytes\" registered as id N (0..%ld):\n"
            "                             byte 0, N as 4 bytes big endian, then a zig-zag\n"
            "                             varint length and that many bytes, filling the\n"
            "                             value to exactly S bytes (S >= 6; a few sizes\n"
            "                             have no exact encoding and are refused)\n"
            "  -V, --version              print the librdkafka version and exit\n"
            "  -h, --help                 print this help and exit\n"
            "\n"
            "The mock keeps only the newest ~5 MiB of a partition, so in --mock mode the\n"
            "consumer re-reads what is left from its start offset until it has N records;\n"
            "the pauses at those rewinds are reported apart, not in the consume time.\n"
            "\n"
            "The last line of a successful run is\n"
            "  RESULT target=mock|broker records=N size=S produce_s=... produce_msgs=...\n"
            "  produce_mbs=... consume_s=... consume_msgs=... consume_mbs=... rewinds=K\n"
            "  rewind_pause_s=... log_start=L\n"
            "Exit status: 0 success, 1 the run failed, 2 bad usage.\n",
            progname, BENCH_DEFAULT_TOPIC, BENCH_DEFAULT_COUNT, BENCH_MAX_COUNT, BENCH_DEFAULT_SIZE,
            BENCH_MAX_SIZE, BENCH_DEFAULT_TIMEOUT, BENCH_MAX_TIMEOUT, BENCH_DEFAULT_FETCH_BYTES,
            BENCH_MAX_SIZE + 1024, BENCH_MAX_FETCH_BYTES, BENCH_MAX_SCHEMA_ID);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses a whole decimal integer in [min, max]; returns -1 on anything else. */
static int
parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Bytes of the zig-zag varint of a non-negative v. */
static long
zigzag_len(long v)
{
    unsigned long z = (unsigned long)v << 1;
    long n = 1;

    while (z >= 0x80) {
        z >>= 7;
        n++;
    }
    return n;
}

/* The length L of the Avro bytes value that makes a framed record exactly
 * size bytes (header + varint(L) + L), or -1 if no L does. */
static long
avro_bytes_len(long size)
{
    for (long vlen = 1; vlen <= 5; vlen++) {
        long len = size - BENCH_FRAME_HEADER - vlen;

        if (len >= 0 && zigzag_len(len) == vlen)
            return len;
    }
    return -1;
}

/* Kafka's topic name rule: 1..249 of [A-Za-z0-9._-], not "." or "..". */
static bool
topic_name_ok(const char *t)
{
    size_t n = strlen(t);

    if (n == 0 || n > BENCH_TOPIC_MAX_LEN || strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* HOST:PORT with a non-empty host and a port in 1..65535 (a list "a:1,b:2"
 * is accepted too, each element checked). */
static bool
bootstrap_ok(const char *b)
{
    const char *p = b;

    if (*p == '\0')
        return false;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *colon = NULL;
        char port[8];
        long v;

        for (size_t i = 0; i < len; i++)
            if (p[i] == ':')
                colon = p + i;
        if (colon == NULL || colon == p)
            return false;
        size_t plen = len - (size_t)(colon + 1 - p);
        if (plen == 0 || plen >= sizeof(port))
            return false;
        memcpy(port, colon + 1, plen);
        port[plen] = '\0';
        if (parse_long(port, 1, 65535, &v) != 0)
            return false;
        p += len;
        if (*p == ',')
            p++;
        if (comma != NULL && *p == '\0')
            return false;
    }
    return true;
}

/* Returns 0, 1 (help/version printed: exit 0) or 2 (usage error). */
static int
parse_args(int argc, char **argv, bench_opts_t *o)
{
    static const struct option longopts[] = {
        {"bootstrap", required_argument, NULL, 'b'},
        {"mock", no_argument, NULL, 'm'},
        {"topic", required_argument, NULL, 't'},
        {"count", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 'T'},
        {"no-create", no_argument, NULL, 'C'},
        {"debug", required_argument, NULL, 'd'},
        {"fetch-bytes", required_argument, NULL, 'F'},
        {"property", required_argument, NULL, 'X'},
        {"schema-id", required_argument, NULL, BENCH_OPT_SCHEMA_ID},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    o->bootstrap = NULL;
    o->mock = false;
    o->topic = BENCH_DEFAULT_TOPIC;
    o->count = BENCH_DEFAULT_COUNT;
    o->size = BENCH_DEFAULT_SIZE;
    o->timeout_s = BENCH_DEFAULT_TIMEOUT;
    o->create_topic = true;
    o->debug = NULL;
    o->fetch_bytes = BENCH_DEFAULT_FETCH_BYTES;
    o->schema_id = -1;
    o->avro_len = -1;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:mt:n:s:T:d:F:X:Vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (!bootstrap_ok(optarg)) {
                fail("--bootstrap: expected HOST:PORT, got \"%s\"", optarg);
                return 2;
            }
            o->bootstrap = optarg;
            break;
        case 'm':
            o->mock = true;
            break;
        case 't':
            if (!topic_name_ok(optarg)) {
                fail("--topic: \"%s\" is not a valid topic name (1..%d of [A-Za-z0-9._-])", optarg,
                     BENCH_TOPIC_MAX_LEN);
                return 2;
            }
            o->topic = optarg;
            break;
        case 'n':
            if (parse_long(optarg, 1, BENCH_MAX_COUNT, &o->count) != 0) {
                fail("--count: expected an integer 1..%ld, got \"%s\"", BENCH_MAX_COUNT, optarg);
                return 2;
            }
            break;
        case 's':
            if (parse_long(optarg, 1, BENCH_MAX_SIZE, &o->size) != 0) {
                fail("--size: expected an integer 1..%ld, got \"%s\"", BENCH_MAX_SIZE, optarg);
                return 2;
            }
            break;
        case 'T':
            if (parse_long(optarg, 1, BENCH_MAX_TIMEOUT, &o->timeout_s) != 0) {
                fail("--timeout: expected an integer 1..%ld, got \"%s\"", BENCH_MAX_TIMEOUT,
                     optarg);
                return 2;
            }
            break;
        case 'C':
            o->create_topic = false;
            break;
        case 'F':
            if (parse_long(optarg, BENCH_MAX_SIZE + 1024, BENCH_MAX_FETCH_BYTES, &o->fetch_bytes) !=
                0) {
                fail("--fetch-bytes: expected an integer %ld..%ld, got \"%s\"",
                     BENCH_MAX_SIZE + 1024, BENCH_MAX_FETCH_BYTES, optarg);
                return 2;
            }
            break;
        case 'd':
            /* checked by rd_kafka_conf_set() when the clients are made */
            o->debug = optarg;
            break;
        case 'X':
            if (!strchr(optarg, '=') || optarg[0] == '=' || n_extra_props == BENCH_MAX_PROPS) {
                fail("--property: expected KEY=VALUE (at most %d), got \"%s\"",
                     BENCH_MAX_PROPS, optarg);
                return 2;
            }
            extra_props[n_extra_props++] = optarg;
            break;
        case BENCH_OPT_SCHEMA_ID:
            if (parse_long(optarg, 0, BENCH_MAX_SCHEMA_ID, &o->schema_id) != 0) {
                fail("--schema-id: expected an integer 0..%ld, got \"%s\"", BENCH_MAX_SCHEMA_ID,
                     optarg);
                return 2;
            }
            break;
        case 'V':
            printf("weir_bench (librdkafka %s)\n", rd_kafka_version_str());
            return 1;
        case 'h':
            usage(stdout);
            return 1;
        case ':':
            fail("option %s needs an argument (see --help)", argv[optind - 1]);
            return 2;
        default:
            fail("unknown option %s (see --help)", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fail("unexpected argument \"%s\" (see --help)", argv[optind]);
        return 2;
    }
    if (o->mock == (o->bootstrap != NULL)) {
        if (argc <= 1)
            usage(stderr);
        else
            fail("give exactly one of --bootstrap HOST:PORT and --mock (see --help)");
        return 2;
    }
    if (o->schema_id >= 0) {
        o->avro_len = avro_bytes_len(o->size);
        if (o->avro_len < 0) {
            fail("--schema-id: no Avro bytes value makes a framed record of exactly %ld bytes "
                 "(the minimum is %d; try --size %ld)",
                 o->size, BENCH_FRAME_HEADER + 1,
                 o->size < BENCH_FRAME_HEADER + 1 ? (long)BENCH_FRAME_HEADER + 1 : o->size + 1);
            return 2;
        }
    }
    if (o->mock)
        o->create_topic = false; /* the mock topic is made with rd_kafka_mock_topic_create */
    return 0;
}

static int
conf_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
    char errstr[512];

    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fail("config %s=%s: %s", key, value, errstr);
        return -1;
    }
    return 0;
}

typedef struct bench_kv_s {
    const char *key;
    const char *value;
} bench_kv_t;

/* Sets a list of settings ended by a NULL key, then the -X settings. */
static int
conf_set_all(rd_kafka_conf_t *conf, const bench_kv_t *kv)
{
    for (; kv->key != NULL; kv++)
        if (conf_set(conf, kv->key, kv->value) != 0)
            return -1;
    for (int i = 0; i < n_extra_props; i++) {
        char key[256];
        const char *eq = strchr(extra_props[i], '=');
        size_t klen = (size_t)(eq - extra_props[i]);

        if (klen >= sizeof(key)) {
            fail("--property: key too long in \"%s\"", extra_props[i]);
            return -1;
        }
        memcpy(key, extra_props[i], klen);
        key[klen] = '\0';
        if (conf_set(conf, key, eq + 1) != 0)
            return -1;
    }
    return 0;
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    fprintf(stderr, "%s: %s: %s: %s\n", progname, rd_kafka_name(rk),
            rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void
dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    bench_dr_t *dr = opaque;

    (void)rk;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        dr->delivered++;
    } else {
        if (dr->failed == 0)
            dr->first_err = m->err;
        dr->failed++;
    }
}

static rd_kafka_t *
client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char errstr[512];
    rd_kafka_t *rk;

    rd_kafka_conf_set_error_cb(conf, error_cb);
    rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fail("rd_kafka_new: %s", errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* Creates the topic with 1 partition through the Admin API. */
static int
create_topic(rd_kafka_t *rk, const char *topic)
{
    char errstr[512];
    rd_kafka_NewTopic_t *nt;
    rd_kafka_AdminOptions_t *opts;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    int rc = -1;

    nt = rd_kafka_NewTopic_new(topic, 1, 1, errstr, sizeof(errstr));
    if (nt == NULL) {
        fail("NewTopic %s: %s", topic, errstr);
        return -1;
    }
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (rd_kafka_AdminOptions_set_request_timeout(opts, BENCH_RPC_TIMEOUT_MS, errstr,
                                                  sizeof(errstr)) != 0 ||
        rd_kafka_AdminOptions_set_operation_timeout(opts, BENCH_RPC_TIMEOUT_MS, errstr,
                                                    sizeof(errstr)) != 0) {
        fail("AdminOptions: %s", errstr);
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_NewTopic_destroy(nt);
        return -1;
    }
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    ev = rd_kafka_queue_poll(q, BENCH_RPC_TIMEOUT_MS + 5000);
    if (ev == NULL) {
        fail("CreateTopics %s: no result", topic);
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail("CreateTopics %s: %s", topic, rd_kafka_event_error_string(ev));
    } else {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);

        if (cnt != 1) {
            fail("CreateTopics %s: %zu results, expected 1", topic, cnt);
        } else if (rd_kafka_topic_result_error(tr[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char *msg = rd_kafka_topic_result_error_string(tr[0]);
            fail("CreateTopics %s: %s%s%s", topic,
                 rd_kafka_err2name(rd_kafka_topic_result_error(tr[0])), msg ? ": " : "",
                 msg ? msg : "");
        } else {
            rc = 0;
        }
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

/* Waits until metadata shows partition 0 of the topic with a leader. */
static int
wait_for_leader(rd_kafka_t *rk, rd_kafka_topic_t *rkt, long timeout_s)
{
    double deadline = now_s() + (double)timeout_s;
    rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR_NO_ERROR;

    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, BENCH_RPC_TIMEOUT_MS);
        bool ready = false;

        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1) {
                const rd_kafka_metadata_topic_t *t = &md->topics[0];
                err = t->err;
                if (err == RD_KAFKA_RESP_ERR_NO_ERROR && t->partition_cnt >= 1) {
                    for (int i = 0; i < t->partition_cnt; i++)
                        if (t->partitions[i].id == 0 && t->partitions[i].leader >= 0 &&
                            t->partitions[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                            ready = true;
                }
            }
            rd_kafka_metadata_destroy(md);
        }
        if (ready)
            return 0;
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
            last = err;
        if (now_s() > deadline) {
            fail("topic %s partition 0 has no leader after %ld s (last error: %s)",
                 rd_kafka_topic_name(rkt), timeout_s, rd_kafka_err2name(last));
            return -1;
        }
        rd_kafka_poll(rk, 200);
    }
}

static rd_kafka_t *
producer_new(const char *bootstrap, const char *debug, bench_dr_t *dr)
{
    static const bench_kv_t kv[] = {
        {"client.id", "weir-bench-producer"},
        {"acks", "1"},
        {"linger.ms", "5"},
        {"batch.num.messages", "100000"},
        {"batch.size", "1000000"},
        {"compression.codec", "none"},
        {"enable.idempotence", "false"},
        {"queue.buffering.max.messages", "1000000"},
        {"queue.buffering.max.kbytes", "1048576"},
        {"message.timeout.ms", "300000"},
        {NULL, NULL},
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    if (conf_set(conf, "bootstrap.servers", bootstrap) != 0 || conf_set_all(conf, kv) != 0 ||
        (debug != NULL && conf_set(conf, "debug", debug) != 0)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_opaque(conf, dr);
    return client_new(RD_KAFKA_PRODUCER, conf);
}

/* The produce phase; on success stores its duration in res->produce_s. */
static int
run_produce(const bench_opts_t *o, const char *bootstrap, bench_result_t *res)
{
    bench_dr_t dr = {0, 0, RD_KAFKA_RESP_ERR_NO_ERROR};
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt = NULL;
    char *payload = NULL;
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t err;
    double t0, last_progress;
    long last_done = 0;
    int rc = -1;

    rk = producer_new(bootstrap, o->debug, &dr);
    if (rk == NULL)
        return -1;
    if (o->create_topic && create_topic(rk, o->topic) != 0)
        goto out;
    rkt = rd_kafka_topic_new(rk, o->topic, NULL);
    if (rkt == NULL) {
        fail("topic %s: %s", o->topic, rd_kafka_err2str(rd_kafka_last_error()));
        goto out;
    }
    if (wait_for_leader(rk, rkt, o->timeout_s) != 0)
        goto out;
    /* Also opens the connection to the partition leader before the clock starts. */
    err = rd_kafka_query_watermark_offsets(rk, o->topic, 0, &lo, &hi, BENCH_RPC_TIMEOUT_MS);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail("ListOffsets %s [0]: %s", o->topic, rd_kafka_err2str(err));
        goto out;
    }
    if (hi != 0) {
        fail("topic %s partition 0 is not empty (log end offset %" PRId64 "); use a new --topic",
             o->topic, hi);
        goto out;
    }

    payload = malloc((size_t)o->size);
    if (payload == NULL) {
        fail("out of memory");
        goto out;
    }
    for (long i = 0; i < o->size; i++)
        payload[i] = (char)('a' + i % 26);
    if (o->schema_id >= 0) {
        /* Confluent framing, then the Avro bytes value: its zig-zag varint
         * length (avro_len >= 0, so zig-zag is just 2 * avro_len) and the
         * letters already there fill the rest. */
        unsigned long id = (unsigned long)o->schema_id, z = (unsigned long)o->avro_len << 1;
        long pos = BENCH_FRAME_HEADER;

        payload[0] = 0;
        payload[1] = (char)((id >> 24) & 0xff);
        payload[2] = (char)((id >> 16) & 0xff);
        payload[3] = (char)((id >> 8) & 0xff);
        payload[4] = (char)(id & 0xff);
        while (z >= 0x80) {
            payload[pos++] = (char)((z & 0x7f) | 0x80);
            z >>= 7;
        }
        payload[pos++] = (char)z;
        if (pos + o->avro_len != o->size) {
            fail("internal error: framed value of %ld bytes, expected %ld", pos + o->avro_len,
                 o->size);
            goto out;
        }
    }

    t0 = now_s();
    last_progress = t0;
    for (long i = 0; i < o->count;) {
        /* No copy flag: every record points at the same payload, which
         * outlives the handle. */
        if (rd_kafka_produce(rkt, 0, 0, payload, (size_t)o->size, NULL, 0, NULL) == 0) {
            i++;
            if (i % 1024 == 0)
                rd_kafka_poll(rk, 0);
            continue;
        }
        err = rd_kafka_last_error();
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fail("produce record %ld: %s", i, rd_kafka_err2str(err));
            goto out;
        }
        rd_kafka_poll(rk, 5);
        if (dr.delivered + dr.failed != last_done) {
            last_done = dr.delivered + dr.failed;
            last_progress = now_s();
        } else if (now_s() - last_progress > (double)o->timeout_s) {
            fail("produce stalled: queue full and no delivery report for %ld s "
                 "(%ld delivered)",
                 o->timeout_s, dr.delivered);
            goto out;
        }
    }
    while (rd_kafka_outq_len(rk) > 0) {
        rd_kafka_flush(rk, 1000);
        if (dr.delivered + dr.failed != last_done) {
            last_done = dr.delivered + dr.failed;
            last_progress = now_s();
        } else if (now_s() - last_progress > (double)o->timeout_s) {
            fail("produce stalled: no delivery report for %ld s (%ld of %ld delivered, "
                 "%d still queued)",
                 o->timeout_s, dr.delivered, o->count, rd_kafka_outq_len(rk));
            goto out;
        }
    }
    res->produce_s = now_s() - t0;

    if (dr.failed > 0) {
        fail("%ld of %ld records failed delivery (first error: %s)", dr.failed, o->count,
             rd_kafka_err2str(dr.first_err));
        goto out;
    }
    if (dr.delivered != o->count) {
        fail("%ld delivery reports for %ld records", dr.delivered, o->count);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0 && rd_kafka_outq_len(rk) > 0)
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    if (rkt != NULL)
        rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(payload); /* after rd_kafka_destroy: queued records point at it */
    return rc;
}

static rd_kafka_t *
consumer_new(const char *bootstrap, const char *debug, long fetch_bytes)
{
    static const bench_kv_t kv[] = {
        {"client.id", "weir-bench-consumer"},
        /* assign() needs a group.id, but nothing here joins the group or
         * commits: no subscribe(), no auto commit, offsets given explicitly. */
        {"group.id", "weir-bench"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "error"},
        {"enable.partition.eof", "false"},
        {"queued.min.messages", "1000000"},
        {"queued.max.messages.kbytes", "262144"},
        /* Only matters at the end of the log, which a run reaches only when
         * it is done - or, in --mock mode, at each rewind, where a parked
         * fetch would otherwise delay the seek by the default 500 ms. */
        {"fetch.wait.max.ms", "10"},
        {NULL, NULL},
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    long total = fetch_bytes > BENCH_FETCH_MAX_BYTES ? fetch_bytes : BENCH_FETCH_MAX_BYTES;
    char part[24], fetch[24], receive[24];

    /* librdkafka wants receive.message.max.bytes > fetch.max.bytes + 512. */
    snprintf(part, sizeof(part), "%ld", fetch_bytes);
    snprintf(fetch, sizeof(fetch), "%ld", total);
    snprintf(receive, sizeof(receive), "%ld", total + 65536);
    if (conf_set(conf, "bootstrap.servers", bootstrap) != 0 || conf_set_all(conf, kv) != 0 ||
        conf_set(conf, "fetch.max.bytes", fetch) != 0 ||
        conf_set(conf, "max.partition.fetch.bytes", part) != 0 ||
        conf_set(conf, "receive.message.max.bytes", receive) != 0 ||
        (debug != NULL && conf_set(conf, "debug", debug) != 0)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return client_new(RD_KAFKA_CONSUMER, conf);
}

static rd_kafka_topic_partition_list_t *
partition0_at(const char *topic, int64_t offset)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);

    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = offset;
    return parts;
}

/* The consume phase; on success stores its duration and counters in res. */
static int
run_consume(const bench_opts_t *o, const char *bootstrap, bench_result_t *res)
{
    rd_kafka_t *rk;
    rd_kafka_queue_t *rkqu = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_message_t **msgs = NULL;
    rd_kafka_resp_err_t err;
    int64_t lo = -1, hi = -1, expect;
    double t0, last_progress, pause_start = 0.0;
    long consumed = 0, rewinds = 0, last_consumed = 0;
    bool assigned = false;
    int rc = -1;

    rk = consumer_new(bootstrap, o->debug, o->fetch_bytes);
    if (rk == NULL)
        return -1;
    /* Also opens the connection to the partition leader before the clock starts. */
    err = rd_kafka_query_watermark_offsets(rk, o->topic, 0, &lo, &hi, BENCH_RPC_TIMEOUT_MS);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail("ListOffsets %s [0]: %s", o->topic, rd_kafka_err2str(err));
        goto out;
    }
    res->low = lo;
    res->high = hi;
    if (hi != o->count) {
        fail("log end offset of %s [0] is %" PRId64 " after producing %ld records", o->topic, hi,
             o->count);
        goto out;
    }
    if (lo != 0 && !o->mock) {
        fail("log start offset of %s [0] is %" PRId64 ", not 0: records were deleted", o->topic,
             lo);
        goto out;
    }
    if (lo < 0 || lo >= hi) {
        fail("log start offset of %s [0] is %" PRId64 " (end %" PRId64 ")", o->topic, lo, hi);
        goto out;
    }

    msgs = calloc(BENCH_CONSUME_BATCH, sizeof(*msgs));
    if (msgs == NULL) {
        fail("out of memory");
        goto out;
    }
    rkqu = rd_kafka_queue_get_consumer(rk);
    expect = lo;
    parts = partition0_at(o->topic, lo);

    t0 = now_s();
    last_progress = t0;
    err = rd_kafka_assign(rk, parts);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail("assign %s [0]: %s", o->topic, rd_kafka_err2str(err));
        goto out;
    }
    assigned = true;
    while (consumed < o->count) {
        /* rd_kafka_consume_batch_queue() waits for a full batch (or the
         * timeout), so never ask for more records than are left to read;
         * right after a rewind ask for one, to see when reading resumes. */
        size_t want = BENCH_CONSUME_BATCH;
        ssize_t n;
        bool bad = false;

        if ((int64_t)want > o->count - consumed)
            want = (size_t)(o->count - consumed);
        if ((int64_t)want > hi - expect)
            want = (size_t)(hi - expect);
        if (pause_start > 0.0)
            want = 1;
        n = rd_kafka_consume_batch_queue(rkqu, 1000, msgs, want);

        if (n < 0) {
            fail("consume: %s", rd_kafka_err2str(rd_kafka_last_error()));
            goto out;
        }
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = msgs[i];

            if (bad || consumed >= o->count) {
                /* counted already, or after an error: only released */
            } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                fail("consume: %s", rd_kafka_message_errstr(m));
                /* Transport errors are retried by librdkafka; anything about
                 * the partition or the offset ends the run. */
                if (m->err != RD_KAFKA_RESP_ERR__TRANSPORT &&
                    m->err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN &&
                    m->err != RD_KAFKA_RESP_ERR__RESOLVE)
                    bad = true;
            } else if (m->partition != 0 || m->offset != expect || m->len != (size_t)o->size) {
                fail("consume: expected offset %" PRId64 " of %ld bytes in partition 0, got "
                     "offset %" PRId64 " of %zu bytes in partition %" PRId32,
                     expect, o->size, m->offset, m->len, m->partition);
                bad = true;
            } else {
                if (pause_start > 0.0) {
                    res->rewind_pause_s += now_s() - pause_start;
                    pause_start = 0.0;
                }
                consumed++;
                expect++;
                if (expect == hi && consumed < o->count) {
                    pause_start = now_s();
                    /* Only in --mock mode (lo > 0): read the retained range again. */
                    rd_kafka_topic_partition_list_t *again = partition0_at(o->topic, lo);
                    rd_kafka_error_t *error =
                        rd_kafka_seek_partitions(rk, again, BENCH_RPC_TIMEOUT_MS);
                    if (error == NULL && again->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
                        error = rd_kafka_error_new(again->elems[0].err, "%s",
                                                   rd_kafka_err2str(again->elems[0].err));
                    rd_kafka_topic_partition_list_destroy(again);
                    if (error != NULL) {
                        fail("seek to %" PRId64 ": %s", lo, rd_kafka_error_string(error));
                        rd_kafka_error_destroy(error);
                        bad = true;
                    }
                    expect = lo;
                    rewinds++;
                }
            }
            rd_kafka_message_destroy(m);
        }
        if (bad)
            goto out;
        if (consumed != last_consumed) {
            last_consumed = consumed;
            last_progress = now_s();
        } else if (now_s() - last_progress > (double)o->timeout_s) {
            fail("consume stalled: no record for %ld s (%ld of %ld read)", o->timeout_s, consumed,
                 o->count);
            goto out;
        }
    }
    res->consume_s = now_s() - t0 - res->rewind_pause_s;
    res->consumed = consumed;
    res->rewinds = rewinds;
    rc = 0;
out:
    if (assigned) {
        err = rd_kafka_assign(rk, NULL);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
            fail("unassign: %s", rd_kafka_err2str(err));
    }
    if (parts != NULL)
        rd_kafka_topic_partition_list_destroy(parts);
    if (rkqu != NULL)
        rd_kafka_queue_destroy(rkqu);
    free(msgs);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

static void
print_phase(const char *phase, long records, long size, double secs)
{
    double mb = (double)records * (double)size / 1e6;

    printf("%-8s %ld records in %.3f s: %.0f msg/s, %.2f MB/s\n", phase, records, secs,
           (double)records / secs, mb / secs);
}

int
main(int argc, char **argv)
{
    bench_opts_t o;
    bench_result_t res;
    rd_kafka_t *mock_rk = NULL;
    rd_kafka_mock_cluster_t *mcluster = NULL;
    const char *bootstrap;
    int rc;

    if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0') {
        const char *slash = strrchr(argv[0], '/');
        progname = slash != NULL ? slash + 1 : argv[0];
    }
    rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    memset(&res, 0, sizeof(res));

    if (o.mock) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();

        rd_kafka_conf_set_error_cb(conf, error_cb);
        /* log_level 4: no notice that this handle has no bootstrap.servers */
        if (conf_set(conf, "client.id", "weir-bench-mock") != 0 ||
            conf_set(conf, "log_level", "4") != 0) {
            rd_kafka_conf_destroy(conf);
            return 1;
        }
        mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (mock_rk == NULL) {
            fail("rd_kafka_new: %s", errstr);
            rd_kafka_conf_destroy(conf);
            return 1;
        }
        mcluster = rd_kafka_mock_cluster_new(mock_rk, 1);
        if (mcluster == NULL) {
            fail("rd_kafka_mock_cluster_new failed");
            rd_kafka_destroy(mock_rk);
            return 1;
        }
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mcluster, o.topic, 1, 1);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fail("mock topic %s: %s", o.topic, rd_kafka_err2str(err));
            rd_kafka_mock_cluster_destroy(mcluster);
            rd_kafka_destroy(mock_rk);
            return 1;
        }
        bootstrap = rd_kafka_mock_cluster_bootstraps(mcluster);
    } else {
        bootstrap = o.bootstrap;
    }

    printf("target=%s bootstrap=%s topic=%s records=%ld size=%ld (%.1f MB of values) "
           "librdkafka=%s\n",
           o.mock ? "mock" : "broker", bootstrap, o.topic, o.count, o.size,
           (double)o.count * (double)o.size / 1e6, rd_kafka_version_str());
    if (o.schema_id >= 0)
        printf("values: Confluent-framed Avro \"bytes\", schema id %ld, %ld payload bytes\n",
               o.schema_id, o.avro_len);
    fflush(stdout);

    rc = run_produce(&o, bootstrap, &res);
    if (rc == 0) {
        print_phase("produce", o.count, o.size, res.produce_s);
        fflush(stdout);
        rc = run_consume(&o, bootstrap, &res);
    }
    if (rc == 0) {
        print_phase("consume", res.consumed, o.size, res.consume_s);
        if (res.rewinds > 0)
            printf("note: the mock kept offsets %" PRId64 "..%" PRId64 " of %ld; the consumer "
                   "read that range %ld more time(s) to reach %ld records; the %.3f s spent "
                   "between each rewind and the next record is not counted\n",
                   res.low, res.high - 1, o.count, res.rewinds, o.count, res.rewind_pause_s);
        printf("RESULT target=%s records=%ld size=%ld produce_s=%.6f produce_msgs=%.1f "
               "produce_mbs=%.3f consume_s=%.6f consume_msgs=%.1f consume_mbs=%.3f "
               "rewinds=%ld rewind_pause_s=%.6f log_start=%" PRId64 "\n",
               o.mock ? "mock" : "broker", o.count, o.size, res.produce_s,
               (double)o.count / res.produce_s,
               (double)o.count * (double)o.size / 1e6 / res.produce_s, res.consume_s,
               (double)res.consumed / res.consume_s,
               (double)res.consumed * (double)o.size / 1e6 / res.consume_s, res.rewinds,
               res.rewind_pause_s, res.low);
    }
    fflush(stdout);

    if (mcluster != NULL)
        rd_kafka_mock_cluster_destroy(mcluster);
    if (mock_rk != NULL)
        rd_kafka_destroy(mock_rk);
    return rc == 0 ? 0 : 1;
}
