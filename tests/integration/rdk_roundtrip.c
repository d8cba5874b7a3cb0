/*
 * rdk_roundtrip: librdkafka client used by tests/integration/test_librdkafka.
 *
 * Owns nothing in the broker; it is a real Kafka client program.  Commands:
 *   rdk_roundtrip create BOOTSTRAP TOPIC PARTITIONS
 *       CreateTopics through the Admin API (rd_kafka_CreateTopics).
 *   rdk_roundtrip produce BOOTSTRAP TOPIC CODEC COUNT IDEMPOTENT OUTFILE
 *       Produces COUNT deterministic keyed records with headers and explicit
 *       timestamps, compression.codec=CODEC, enable.idempotence=IDEMPOTENT
 *       (0|1), acks=all; checks every delivery report and writes
 *       "index partition offset" lines to OUTFILE.
 *   rdk_roundtrip verify BOOTSTRAP TOPIC PARTITIONS COUNT INFILE
 *       Consumes every partition from the beginning with assign() and checks
 *       each record against the one generated for the index the delivery
 *       report put at that partition/offset: key, value, headers, timestamp.
 *       Also checks the high watermarks and that nothing extra is there.
 * Exit status 0 on success; on failure prints "FAIL: ..." and exits 1.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TS_BASE 1700000000000LL
#define MAX_VALUE 4096

static void
fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stdout, "FAIL: ");
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fprintf(stdout, "\n");
    fflush(stdout);
    exit(1);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
set_conf(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char errstr[512];

    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        fail("config %s=%s: %s", name, value, errstr);
}

/* ------------------------------------------------------------ test data */

/* One deterministic record, derived from the topic name and index. */
typedef struct rec {
    char key[64];
    size_t key_len;
    unsigned char value[MAX_VALUE];
    size_t value_len;
    int value_null;
    int64_t timestamp;
    int n_headers;
    char hname[3][16];
    unsigned char hval[3][64];
    ssize_t hval_len[3]; /* -1 = NULL header value */
} rec_t;

static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t
seed_of(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void
fill_bytes(unsigned char *out, size_t n, uint64_t seed)
{
    size_t i;

    for (i = 0; i < n; i++)
        out[i] = (unsigned char)(mix64(seed + i / 8) >> (8 * (i % 8)));
}

static void
make_record(rec_t *r, const char *topic, int i)
{
    uint64_t seed = seed_of(topic) ^ ((uint64_t)i * 0x9e3779b97f4a7c15ULL);
    int sel = i % 6;

    memset(r, 0, sizeof(*r));
    r->key_len = (size_t)snprintf(r->key, sizeof(r->key), "rdk-key-%06d", i);
    r->value_null = (i % 17 == 0);
    if (r->value_null || sel == 0) {
        r->value_len = 0;
    } else if (sel == 1) {
        r->value_len = 1 + (size_t)(mix64(seed) % (MAX_VALUE - 1));
        fill_bytes(r->value, r->value_len, seed);
    } else {
        /* Repetitive text so that every codec has something to compress. */
        size_t n = 0;
        int reps = 1 + i % 40;
        while (reps-- > 0 && n + 40 < MAX_VALUE)
            n += (size_t)snprintf((char *)r->value + n, MAX_VALUE - n, "record %d of %s; ", i,
                                  topic);
        r->value_len = n;
    }
    r->timestamp = TS_BASE + i;
    r->n_headers = i % 4;
    if (r->n_headers >= 1) {
        snprintf(r->hname[0], sizeof(r->hname[0]), "idx");
        r->hval_len[0] = snprintf((char *)r->hval[0], sizeof(r->hval[0]), "%d", i);
    }
    if (r->n_headers >= 2) {
        snprintf(r->hname[1], sizeof(r->hname[1]), "bin");
        r->hval_len[1] = 1 + (ssize_t)(mix64(seed + 7) % 60);
        fill_bytes(r->hval[1], (size_t)r->hval_len[1], seed + 99);
    }
    if (r->n_headers >= 3) {
        snprintf(r->hname[2], sizeof(r->hname[2]), "null");
        r->hval_len[2] = -1;
    }
}

/* -------------------------------------------------------------- create */

static int
cmd_create(const char *bootstrap, const char *topic, int partitions)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    rd_kafka_t *rk;
    rd_kafka_NewTopic_t *nt;
    rd_kafka_AdminOptions_t *opts;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    const rd_kafka_CreateTopics_result_t *res;
    const rd_kafka_topic_result_t **tres;
    size_t n;

    set_conf(conf, "bootstrap.servers", bootstrap);
    set_conf(conf, "client.id", "it-rdk-admin");
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk)
        fail("rd_kafka_new: %s", errstr);
    nt = rd_kafka_NewTopic_new(topic, partitions, 1, errstr, sizeof(errstr));
    if (!nt)
        fail("NewTopic: %s", errstr);
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (rd_kafka_AdminOptions_set_request_timeout(opts, 30000, errstr, sizeof(errstr)) ||
        rd_kafka_AdminOptions_set_operation_timeout(opts, 20000, errstr, sizeof(errstr)))
        fail("AdminOptions: %s", errstr);
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    ev = rd_kafka_queue_poll(q, 60000);
    if (!ev)
        fail("CreateTopics %s: no result within 60 s", topic);
    if (rd_kafka_event_error(ev))
        fail("CreateTopics %s: %s", topic, rd_kafka_event_error_string(ev));
    res = rd_kafka_event_CreateTopics_result(ev);
    if (!res)
        fail("CreateTopics %s: unexpected event %s", topic, rd_kafka_event_name(ev));
    tres = rd_kafka_CreateTopics_result_topics(res, &n);
    if (n != 1)
        fail("CreateTopics %s: %zu topic results", topic, n);
    if (rd_kafka_topic_result_error(tres[0])) {
        const char *msg = rd_kafka_topic_result_error_string(tres[0]);

        fail("CreateTopics %s: %s (%s)", topic,
             rd_kafka_err2name(rd_kafka_topic_result_error(tres[0])), msg ? msg : "");
    }
    printf("created topic %s with %d partitions (Admin API)\n", topic, partitions);
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
    return 0;
}

/* ------------------------------------------------------------- produce */

typedef struct dr_state {
    int count;
    int delivered;
    int failed;
    int32_t *partition;
    int64_t *offset;
    char first_err[256];
} dr_state_t;

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    dr_state_t *st = opaque;
    intptr_t i = (intptr_t)m->_private;

    (void)rk;
    if (i < 0 || i >= st->count) {
        st->failed++;
        return;
    }
    if (m->err) {
        if (!st->failed)
            snprintf(st->first_err, sizeof(st->first_err), "record %d: %s", (int)i,
                     rd_kafka_err2str(m->err));
        st->failed++;
        return;
    }
    if (st->partition[i] != -1) {
        st->failed++;
        snprintf(st->first_err, sizeof(st->first_err), "record %d: two delivery reports",
                 (int)i);
        return;
    }
    st->partition[i] = m->partition;
    st->offset[i] = m->offset;
    st->delivered++;
}

static int
cmd_produce(const char *bootstrap, const char *topic, const char *codec, int count, int idem,
            const char *outfile)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    rd_kafka_t *rk;
    dr_state_t st;
    rec_t r;
    int i;
    double t0 = now_s();
    FILE *out;

    memset(&st, 0, sizeof(st));
    st.count = count;
    st.partition = calloc((size_t)count, sizeof(*st.partition));
    st.offset = calloc((size_t)count, sizeof(*st.offset));
    if (!st.partition || !st.offset)
        fail("out of memory");
    for (i = 0; i < count; i++)
        st.partition[i] = -1;

    set_conf(conf, "bootstrap.servers", bootstrap);
    set_conf(conf, "client.id", "it-rdk-producer");
    set_conf(conf, "compression.codec", codec);
    set_conf(conf, "acks", "all");
    set_conf(conf, "linger.ms", "5");
    set_conf(conf, "message.timeout.ms", "60000");
    set_conf(conf, "enable.idempotence", idem ? "true" : "false");
    if (!idem)
        set_conf(conf, "message.send.max.retries", "0");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, &st);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk)
        fail("rd_kafka_new: %s", errstr);

    for (i = 0; i < count; i++) {
        rd_kafka_headers_t *hdrs;
        rd_kafka_resp_err_t err;
        int h;

        make_record(&r, topic, i);
        hdrs = rd_kafka_headers_new((size_t)r.n_headers);
        for (h = 0; h < r.n_headers; h++)
            rd_kafka_header_add(hdrs, r.hname[h], -1, r.hval_len[h] < 0 ? NULL : r.hval[h],
                                r.hval_len[h] < 0 ? 0 : r.hval_len[h]);
        for (;;) {
            err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(r.key, r.key_len),
                RD_KAFKA_V_VALUE(r.value_null ? NULL : r.value, r.value_len),
                RD_KAFKA_V_TIMESTAMP(r.timestamp), RD_KAFKA_V_HEADERS(hdrs),
                RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                break;
            rd_kafka_poll(rk, 50);
        }
        if (err)
            fail("producev record %d: %s", i, rd_kafka_err2str(err));
        rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail("flush: %d messages still in queue after 120 s", rd_kafka_outq_len(rk));
    if (st.failed)
        fail("%d delivery failures; first: %s", st.failed, st.first_err);
    if (st.delivered != count)
        fail("%d of %d records delivered", st.delivered, count);
    {
        /* Per partition, offsets follow the order of produce calls. */
        int64_t last[1024];

        for (i = 0; i < 1024; i++)
            last[i] = -1;
        for (i = 0; i < count; i++) {
            int32_t p = st.partition[i];

            if (p < 0 || p >= 1024)
                fail("record %d: partition %" PRId32 " out of range", i, p);
            if (st.offset[i] <= last[p])
                fail("record %d: offset %" PRId64 " in partition %" PRId32
                     " not after previous %" PRId64 " (order lost)",
                     i, st.offset[i], p, last[p]);
            last[p] = st.offset[i];
        }
    }

    out = fopen(outfile, "w");
    if (!out)
        fail("cannot write %s", outfile);
    for (i = 0; i < count; i++)
        fprintf(out, "%d %" PRId32 " %" PRId64 "\n", i, st.partition[i], st.offset[i]);
    if (fclose(out) != 0)
        fail("writing %s failed", outfile);
    printf("produced %d records to %s codec=%s idempotence=%d acks=all in %.2fs, "
           "all delivery reports OK\n",
           count, topic, codec, idem, now_s() - t0);
    rd_kafka_destroy(rk);
    free(st.partition);
    free(st.offset);
    return 0;
}

/* -------------------------------------------------------------- verify */

typedef struct slot {
    int index; /* record index at this partition/offset, or -1 */
    int seen;
} slot_t;

static void
compare(const rd_kafka_message_t *m, const rec_t *r, int i)
{
    rd_kafka_headers_t *hdrs = NULL;
    rd_kafka_timestamp_type_t tstype;
    int64_t ts;
    size_t nh = 0;
    int h;
    const char *where_fmt = "%s[%d]@%" PRId64 " (record %d): ";
    char where[200];

    snprintf(where, sizeof(where), where_fmt, rd_kafka_topic_name(m->rkt), (int)m->partition,
             m->offset, i);
    if (m->key_len != r->key_len || memcmp(m->key, r->key, r->key_len) != 0)
        fail("%skey differs (%.*s vs %s)", where, (int)m->key_len, (const char *)m->key, r->key);
    if (r->value_null) {
        if (m->payload != NULL)
            fail("%sexpected a null value, got %zu bytes", where, m->len);
    } else {
        if (m->payload == NULL && r->value_len > 0)
            fail("%sgot a null value, expected %zu bytes", where, r->value_len);
        if (m->len != r->value_len ||
            (r->value_len && memcmp(m->payload, r->value, r->value_len) != 0))
            fail("%svalue differs (%zu vs %zu bytes)", where, m->len, r->value_len);
    }
    ts = rd_kafka_message_timestamp(m, &tstype);
    if (ts != r->timestamp || tstype != RD_KAFKA_TIMESTAMP_CREATE_TIME)
        fail("%stimestamp %" PRId64 " type %d, expected CreateTime %" PRId64, where, ts,
             (int)tstype, r->timestamp);
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
        nh = rd_kafka_header_cnt(hdrs);
    if ((int)nh != r->n_headers)
        fail("%s%zu headers, expected %d", where, nh, r->n_headers);
    for (h = 0; h < r->n_headers; h++) {
        const char *name;
        const void *val;
        size_t size;

        if (rd_kafka_header_get_all(hdrs, (size_t)h, &name, &val, &size))
            fail("%sheader %d missing", where, h);
        if (strcmp(name, r->hname[h]) != 0)
            fail("%sheader %d name %s, expected %s", where, h, name, r->hname[h]);
        if (r->hval_len[h] < 0) {
            if (val != NULL)
                fail("%sheader %s: expected a null value, got %zu bytes", where, name, size);
        } else if (val == NULL || size != (size_t)r->hval_len[h] ||
                   memcmp(val, r->hval[h], size) != 0) {
            fail("%sheader %s value differs", where, name);
        }
    }
}

static int
cmd_verify(const char *bootstrap, const char *topic, int partitions, int count,
           const char *infile)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *tpl;
    slot_t **slots;
    int *want, *got;
    int i, p, total = 0, done = 0;
    FILE *in;
    rec_t r;
    double deadline;

    slots = calloc((size_t)partitions, sizeof(*slots));
    want = calloc((size_t)partitions, sizeof(*want));
    got = calloc((size_t)partitions, sizeof(*got));
    if (!slots || !want || !got)
        fail("out of memory");
    for (p = 0; p < partitions; p++) {
        slots[p] = calloc((size_t)count, sizeof(**slots));
        if (!slots[p])
            fail("out of memory");
        for (i = 0; i < count; i++)
            slots[p][i].index = -1;
    }
    in = fopen(infile, "r");
    if (!in)
        fail("cannot read %s", infile);
    for (;;) {
        int idx, part;
        int64_t off;
        int n = fscanf(in, "%d %d %" SCNd64, &idx, &part, &off);

        if (n == EOF)
            break;
        if (n != 3 || part < 0 || part >= partitions || off < 0 || off >= count)
            fail("bad line in %s", infile);
        if (slots[part][off].index != -1)
            fail("%s: two records acknowledged at %d@%" PRId64, infile, part, off);
        slots[part][off].index = idx;
        want[part]++;
        total++;
    }
    fclose(in);
    if (total != count)
        fail("%s has %d records, expected %d", infile, total, count);
    for (p = 0; p < partitions; p++)
        for (i = 0; i < want[p]; i++)
            if (slots[p][i].index < 0)
                fail("acknowledged offsets of partition %d are not contiguous: hole at %d", p,
                     i);

    set_conf(conf, "bootstrap.servers", bootstrap);
    set_conf(conf, "client.id", "it-rdk-consumer");
    /* assign() needs a group handle in librdkafka; we never subscribe or commit. */
    set_conf(conf, "group.id", "it-rdk-unused-group");
    set_conf(conf, "enable.auto.commit", "false");
    set_conf(conf, "enable.auto.offset.store", "false");
    set_conf(conf, "auto.offset.reset", "error");
    set_conf(conf, "check.crcs", "true");
    set_conf(conf, "fetch.wait.max.ms", "200");
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk)
        fail("rd_kafka_new: %s", errstr);
    rd_kafka_poll_set_consumer(rk);

    for (p = 0; p < partitions; p++) {
        int64_t lo = -1, hi = -1;
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi,
                                                                   30000);
        if (err)
            fail("watermarks %s[%d]: %s", topic, p, rd_kafka_err2str(err));
        if (lo != 0 || hi != want[p])
            fail("watermarks %s[%d]: low %" PRId64 " high %" PRId64 ", expected 0 and %d",
                 topic, p, lo, hi, want[p]);
    }

    tpl = rd_kafka_topic_partition_list_new(partitions);
    for (p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(tpl, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    if (rd_kafka_assign(rk, tpl))
        fail("assign failed");
    rd_kafka_topic_partition_list_destroy(tpl);

    deadline = now_s() + 120;
    while (done < count) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        slot_t *s;

        if (now_s() > deadline)
            fail("timed out: read %d of %d records", done, count);
        if (!m)
            continue;
        if (m->err) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                rd_kafka_message_destroy(m);
                continue;
            }
            fail("consume error: %s", rd_kafka_message_errstr(m));
        }
        p = m->partition;
        if (p < 0 || p >= partitions || m->offset < 0 || m->offset >= want[p])
            fail("record at unexpected position %d@%" PRId64, p, m->offset);
        if (m->offset != got[p])
            fail("partition %d: got offset %" PRId64 ", expected %d (order)", p, m->offset,
                 got[p]);
        s = &slots[p][m->offset];
        if (s->seen)
            fail("partition %d offset %" PRId64 " delivered twice", p, m->offset);
        make_record(&r, topic, s->index);
        compare(m, &r, s->index);
        s->seen = 1;
        got[p]++;
        done++;
        rd_kafka_message_destroy(m);
    }
    /* Nothing more may arrive. */
    deadline = now_s() + 1.0;
    while (now_s() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

        if (!m)
            continue;
        if (!m->err)
            fail("extra record at %d@%" PRId64, (int)m->partition, m->offset);
        rd_kafka_message_destroy(m);
    }
    printf("verified %d records of %s: key, value, headers, timestamp, offsets, order\n", count,
           topic);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    for (p = 0; p < partitions; p++)
        free(slots[p]);
    free(slots);
    free(want);
    free(got);
    return 0;
}

int
main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && strcmp(argv[1], "create") == 0)
        return cmd_create(argv[2], argv[3], atoi(argv[4]));
    if (argc == 8 && strcmp(argv[1], "produce") == 0)
        return cmd_produce(argv[2], argv[3], argv[4], atoi(argv[5]), atoi(argv[6]), argv[7]);
    if (argc == 7 && strcmp(argv[1], "verify") == 0)
        return cmd_verify(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), argv[6]);
    fprintf(stderr,
            "usage: rdk_roundtrip create BOOTSTRAP TOPIC PARTITIONS\n"
            "       rdk_roundtrip produce BOOTSTRAP TOPIC CODEC COUNT IDEMPOTENT OUTFILE\n"
            "       rdk_roundtrip verify BOOTSTRAP TOPIC PARTITIONS COUNT INFILE\n");
    return 2;
}
