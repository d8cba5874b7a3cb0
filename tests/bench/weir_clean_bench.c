/*
 * weir_clean_bench.c: load for the log cleaner benchmark, against one
 * broker:
 *  1. fill R compacted topics (cleanup.policy=compact) with keyed updates
 *     while their min.cleanable.dirty.ratio is 1, so that none is cleaned;
 *  2. produce to another topic (cleanup.policy=delete) without a pause for
 *     2 x R periods: in every second one, first set one compacted topic's
 *     ratio to 0.01 (AlterConfigs), which starts a cleaning of it.
 * The produce rate while cleanings run is compared with the rate while the
 * cleaner is idle, the periods interleaved so that slow drifts of the
 * machine (page cache writeback, a neighbour on the host) fall on both.
 * Producing is acks=1, linger.ms=5, no compression, one partition; delivery
 * reports are counted in fixed windows of wall-clock time.
 *
 * Output: one "SAMPLE <window start, epoch ms> <records> <bytes>" line per
 * window of step 2, then "RESULT ...".  tests/bench/run lines the windows up
 * with the broker's log_clean_started/log_cleaned events (which carry
 * started_ms/finished_ms): a window that overlaps a cleaning counts as
 * "cleaning", any other as "idle"; the events also give the cleaner's MB/s.
 * Figures only: the program fails on a delivery error or a stall, never on
 * speed.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define CB_MAX_WINDOWS 100000

typedef struct cb_opts_s {
    const char *bootstrap;
    const char *topic; /* the compacted topic; the load topic is "<topic>-load" */
    long keys;         /* keys of the compacted topic */
    long fill_mb;      /* bytes of values written to it, in MB */
    long fill_size;    /* value bytes of its updates */
    long size;         /* value bytes of the measured load */
    long seconds;      /* of each measured step */
    long window_ms;
    long segment_bytes;
    long rounds; /* compacted topics, cleaned one per round */
} cb_opts_t;

typedef struct cb_state_s {
    int64_t t0_ms;
    long window_ms;
    long nwin;
    long *msgs;
    long long *bytes;
    long delivered;
    long failed;
    char first_error[256];
} cb_state_t;

static void __attribute__((format(printf, 1, 2), noreturn)) fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "weir_clean_bench: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static int64_t
wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: weir_clean_bench -b HOST:PORT [-t TOPIC] [-k KEYS] [-m FILL_MB] [-f BYTES]\n"
            "                        [-s BYTES] [-d SECONDS] [-r ROUNDS] [-w WINDOW_MS]\n"
            "                        [-g SEGMENT_BYTES]\n"
            "  Fills ROUNDS compacted topics TOPIC-<i> with FILL_MB MB of updates in all\n"
            "  (KEYS keys each, values of -f BYTES) without cleaning them, then produces\n"
            "  -s BYTES records to TOPIC-load for 2 x SECONDS: ROUNDS times SECONDS/ROUNDS\n"
            "  with the cleaner idle, then SECONDS/ROUNDS after letting it at one topic.\n"
            "  Prints delivered records per window (-d 0: only fills one topic and lets\n"
            "  the cleaner at it, to time the cleaner alone):\n"
            "  SAMPLE <window start epoch ms> <records> <bytes>\n"
            "  RESULT fill_mb=.. fill_s=.. ...\n"
            "  defaults: -t weir-clean-bench -k 200000 -m 1500 -f 200 -s 100 -d 15 -r 5\n"
            "            -w 100 -g 16777216\n");
}

static long
num_arg(const char *s, const char *what, long min, long max)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < min || v > max)
        fail("%s must be an integer in %ld..%ld (got \"%s\")", what, min, max, s);
    return v;
}

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    cb_state_t *st = opaque;
    long w;

    (void)rk;
    if (m->err) {
        if (st->failed++ == 0)
            snprintf(st->first_error, sizeof(st->first_error), "%s", rd_kafka_err2str(m->err));
        return;
    }
    st->delivered++;
    if (st->t0_ms == 0)
        return; /* filling: not measured */
    w = (long)((wall_ms() - st->t0_ms) / st->window_ms);
    if (w >= 0 && w < st->nwin) {
        st->msgs[w]++;
        st->bytes[w] += (long long)m->len;
    }
}

static void
conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];

    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        fail("%s=%s: %s", k, v, err);
}

/* Waits for an admin result event; fails on a request or resource error. */
static void
admin_wait(rd_kafka_queue_t *q, const char *what)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    const rd_kafka_topic_result_t **tr = NULL;
    const rd_kafka_ConfigResource_t **cr = NULL;
    size_t n = 0;

    if (!ev)
        fail("%s: no answer", what);
    if (rd_kafka_event_error(ev))
        fail("%s: %s", what, rd_kafka_event_error_string(ev));
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_CREATETOPICS_RESULT) {
        tr = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        for (size_t i = 0; i < n; i++)
            if (rd_kafka_topic_result_error(tr[i]))
                fail("%s %s: %s", what, rd_kafka_topic_result_name(tr[i]),
                     rd_kafka_topic_result_error_string(tr[i]));
    } else {
        cr = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
        for (size_t i = 0; i < n; i++)
            if (rd_kafka_ConfigResource_error(cr[i]))
                fail("%s: %s", what, rd_kafka_ConfigResource_error_string(cr[i]));
    }
    rd_kafka_event_destroy(ev);
}

/* The compacted topic's settings, with the given dirty ratio. */
static void
compact_configs(const cb_opts_t *o, const char *ratio, rd_kafka_NewTopic_t *nt,
                rd_kafka_ConfigResource_t *cr)
{
    char seg[32];
    const char *kv[] = {
        "cleanup.policy", "compact", "segment.bytes", seg, "min.cleanable.dirty.ratio", ratio};

    snprintf(seg, sizeof(seg), "%ld", o->segment_bytes);
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i += 2) {
        if ((nt && rd_kafka_NewTopic_set_config(nt, kv[i], kv[i + 1])) ||
            (cr && rd_kafka_ConfigResource_set_config(cr, kv[i], kv[i + 1])))
            fail("config %s=%s refused by librdkafka", kv[i], kv[i + 1]);
    }
}

static void
create_topic(rd_kafka_t *rk, const cb_opts_t *o, const char *name, bool compacted)
{
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, 1, 1, err, sizeof(err));
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);

    if (!nt)
        fail("NewTopic: %s", err);
    if (compacted)
        compact_configs(o, "1", nt, NULL);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    admin_wait(q, "CreateTopics");
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
}

/* Lets the cleaner at a compacted topic: AlterConfigs (librdkafka 2.0 has
 * no incremental variant) with every override, the ratio now 0.01. */
static void
start_cleaning(rd_kafka_t *rk, const cb_opts_t *o, const char *name)
{
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);

    compact_configs(o, "0.01", NULL, cr);
    rd_kafka_AlterConfigs(rk, &cr, 1, NULL, q);
    admin_wait(q, "AlterConfigs");
    rd_kafka_ConfigResource_destroy(cr);
    rd_kafka_queue_destroy(q);
}

/* Produces to topic (keys out of nkeys, or none) until `until_ms`, or until
 * `bytes` of values have been queued; then waits for every report. */
static long
produce(rd_kafka_t *rk, cb_state_t *st, const char *topic, long nkeys, const char *value, long size,
        int64_t until_ms, long long bytes)
{
    char key[32];
    long i = 0, last_delivered = st->delivered;
    long base = st->delivered;
    int64_t last_progress = wall_ms();

    while (wall_ms() < until_ms && (bytes <= 0 || (long long)i * size < bytes)) {
        rd_kafka_resp_err_t e;

        snprintf(key, sizeof(key), "key-%08ld", nkeys > 0 ? i % nkeys : i);
        e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                              RD_KAFKA_V_KEY(key, strlen(key)),
                              RD_KAFKA_V_VALUE((void *)(value + (i % 64)), (size_t)size),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 1);
        } else if (e) {
            fail("produce to %s: %s", topic, rd_kafka_err2str(e));
        } else {
            i++;
            if ((i & 1023) == 0)
                rd_kafka_poll(rk, 0);
        }
        if (st->failed)
            fail("delivery failed: %s", st->first_error);
        if (st->delivered != last_delivered) {
            last_delivered = st->delivered;
            last_progress = wall_ms();
        } else if (wall_ms() - last_progress > 30000) {
            fail("no delivery report for 30 s (%ld delivered)", st->delivered);
        }
    }
    if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail("flush: %d records still queued after 120 s", rd_kafka_outq_len(rk));
    if (st->failed)
        fail("delivery failed: %s", st->first_error);
    if (st->delivered - base != i)
        fail("%ld produced to %s, %ld delivered", i, topic, st->delivered - base);
    return i;
}

int
main(int argc, char **argv)
{
    cb_opts_t o = {NULL, "weir-clean-bench", 200000, 1500, 200, 100, 15, 100, 16777216, 5};
    cb_state_t st;
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    char err[512], load_topic[300], name[300], *value;
    int64_t t_fill, fill_ms, end_ms, period;
    long n_fill = 0, n_load = 0;
    uint64_t x = 88172645463325252ULL;
    long vmax;
    int c;

    while ((c = getopt(argc, argv, "b:t:k:m:f:s:d:r:w:g:hV")) != -1) {
        switch (c) {
        case 'b':
            o.bootstrap = optarg;
            break;
        case 't':
            o.topic = optarg;
            break;
        case 'k':
            o.keys = num_arg(optarg, "-k", 1, 100000000);
            break;
        case 'm':
            o.fill_mb = num_arg(optarg, "-m", 1, 1000000);
            break;
        case 'f':
            o.fill_size = num_arg(optarg, "-f", 1, 900000);
            break;
        case 's':
            o.size = num_arg(optarg, "-s", 1, 900000);
            break;
        case 'd':
            o.seconds = num_arg(optarg, "-d", 0, 3600);
            break;
        case 'w':
            o.window_ms = num_arg(optarg, "-w", 10, 10000);
            break;
        case 'r':
            o.rounds = num_arg(optarg, "-r", 1, 100);
            break;
        case 'g':
            o.segment_bytes = num_arg(optarg, "-g", 1 << 16, 1L << 30);
            break;
        case 'V':
            printf("weir_clean_bench (librdkafka %s)\n", rd_kafka_version_str());
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o.bootstrap || optind != argc || strlen(o.topic) > 200) {
        usage(stderr);
        return 2;
    }
    if (o.seconds == 0)
        o.rounds = 1;
    snprintf(load_topic, sizeof(load_topic), "%s-load", o.topic);

    memset(&st, 0, sizeof(st));
    st.window_ms = o.window_ms;
    st.nwin = (2 * o.seconds * 1000 + 240000) / o.window_ms + 1;
    if (st.nwin > CB_MAX_WINDOWS)
        fail("too many windows: raise -w");
    st.msgs = calloc((size_t)st.nwin, sizeof(*st.msgs));
    st.bytes = calloc((size_t)st.nwin, sizeof(*st.bytes));
    vmax = (o.size > o.fill_size ? o.size : o.fill_size) + 64;
    value = malloc((size_t)vmax);
    if (!st.msgs || !st.bytes || !value)
        fail("out of memory");
    /* Incompressible-looking values (xorshift). */
    for (long k = 0; k < vmax; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        value[k] = (char)x;
    }

    conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", o.bootstrap);
    conf_set(conf, "acks", "1");
    conf_set(conf, "linger.ms", "5");
    conf_set(conf, "batch.num.messages", "10000");
    conf_set(conf, "queue.buffering.max.messages", "1000000");
    conf_set(conf, "queue.buffering.max.kbytes", "1048576");
    conf_set(conf, "compression.codec", "none");
    conf_set(conf, "enable.idempotence", "false");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, &st);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk)
        fail("rd_kafka_new: %s", err);

    /* 1. Fill the compacted topics (not cleaned: ratio 1). */
    t_fill = wall_ms();
    for (long r = 0; r < o.rounds; r++) {
        snprintf(name, sizeof(name), "%s-%ld", o.topic, r);
        create_topic(rk, &o, name, true);
        n_fill += produce(rk, &st, name, o.keys, value, o.fill_size, INT64_MAX,
                          (long long)o.fill_mb * 1000000 / o.rounds);
    }
    fill_ms = wall_ms() - t_fill;
    if (o.seconds == 0) {
        start_cleaning(rk, &o, name);
        printf("RESULT fill_mb=%ld fill_records=%ld fill_s=%.1f keys=%ld\n", o.fill_mb, n_fill,
               (double)fill_ms / 1000.0, o.keys);
        rd_kafka_destroy(rk);
        free(st.msgs);
        free(st.bytes);
        free(value);
        return 0;
    }

    /* 2. The load: 2 s of warm-up (not counted) after the fill's page cache
     * is written back, then the rounds, each an idle period and a period
     * that starts a cleaning. */
    create_topic(rk, &o, load_topic, false);
    produce(rk, &st, load_topic, 0, value, o.size, wall_ms() + 2000, 0);
    sync();
    st.t0_ms = wall_ms();
    st.t0_ms -= st.t0_ms % o.window_ms;
    period = o.seconds * 1000 / o.rounds;
    end_ms = st.t0_ms + o.window_ms;
    for (long r = 0; r < o.rounds; r++) {
        n_load += produce(rk, &st, load_topic, 0, value, o.size, end_ms + period, 0);
        end_ms += period;
        snprintf(name, sizeof(name), "%s-%ld", o.topic, r);
        start_cleaning(rk, &o, name);
        n_load += produce(rk, &st, load_topic, 0, value, o.size, end_ms + period, 0);
        end_ms += period;
    }
    end_ms = wall_ms();

    for (long w = 1; w < st.nwin; w++) {
        int64_t ws = st.t0_ms + w * o.window_ms;
        if (ws + o.window_ms > end_ms)
            break; /* the last, partial window is left out */
        printf("SAMPLE %" PRId64 " %ld %lld\n", ws, st.msgs[w], st.bytes[w]);
    }
    printf("RESULT fill_mb=%ld fill_records=%ld fill_s=%.1f keys=%ld rounds=%ld "
           "load_records=%ld seconds=%ld window_ms=%ld size=%ld\n",
           o.fill_mb, n_fill, (double)fill_ms / 1000.0, o.keys, o.rounds, n_load, 2 * o.seconds,
           o.window_ms, o.size);
    rd_kafka_destroy(rk);
    free(st.msgs);
    free(st.bytes);
    free(value);
    return 0;
}
